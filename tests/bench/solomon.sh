#!/usr/bin/env bash
# The route optimiser on Solomon-format instances against their best known
# distances (issue 7).
#
#   bash tests/bench/solomon.sh DATA_DIR [--seconds N] [--seeds K] [--jobs J]
#                                        [--bin PATH] [--objective distance|vehicles]
#
# DATA_DIR holds the instances (*.txt) and bks.csv (instance,vehicles,distance,
# source); the data stays where it is. Each instance is solved once per seed
# 1..K (default 5) with `onthedot solve --seconds N` (default 1), each run on
# one core (--jobs runs that many at once; default 1: keep it at most the
# number of cores, or runs steal each other's time). Every result is checked
# with `onthedot check-routes`, separate code from the solver. Prints per
# instance and on average: vehicles, distance, gap to the best known
# distance, (found - best) / best in percent, and seconds.
set -euo pipefail

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

[ $# -ge 1 ] || { usage >&2; exit 2; }
case "$1" in -h|--help) usage; exit 0 ;; esac
data=$1; shift
seconds=1 seeds=5 jobs=1 objective=distance
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$here/build/release/onthedot
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--seeds) seeds=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	--objective) objective=$2; shift 2 ;;
	*) echo "solomon.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done
[ -d "$data" ] || { echo "solomon.sh: $data is not a folder" >&2; exit 2; }
[ -x "$bin" ] || { echo "solomon.sh: no binary at $bin (build the release tree, or give --bin)" >&2; exit 2; }
shopt -s nullglob
files=("$data"/*.txt)
[ ${#files[@]} -gt 0 ] || { echo "solomon.sh: no *.txt instances in $data" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One line per run: instance seed vehicles distance seconds feasible.
run_one() {
	local file=$1 seed=$2 name out
	name=$(basename "$file" .txt)
	out=$work/$name.$seed
	if ! "$bin" solve "$file" --seconds "$seconds" --seed "$seed" --objective "$objective" \
		--routes "$out.routes" >"$out.log" 2>"$out.err"; then
		echo "$name $seed - - - failed:$(tr '\n' ' ' <"$out.err")" >"$out.res"
		return 0
	fi
	local last check
	last=$(tail -n 1 "$out.log")
	if check=$("$bin" check-routes "$file" "$out.routes"); then
		echo "$name $seed $(echo "$last" | awk '{print $2, $4, $6}') feasible" >"$out.res"
	else
		echo "$name $seed $(echo "$last" | awk '{print $2, $4, $6}') ${check// /_}" >"$out.res"
	fi
}
export -f run_one
export bin seconds objective work

for f in "${files[@]}"; do
	for s in $(seq 1 "$seeds"); do printf '%s\0%s\0' "$f" "$s"; done
done | xargs -0 -n 2 -P "$jobs" bash -c 'run_one "$0" "$1"'

echo "onthedot solve, $objective objective, --seconds $seconds, seeds 1..$seeds, $jobs run(s) at a time"
echo "$(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
cat "$work"/*.res | sort -k1,1 -k2,2n | awk -v bks="$data/bks.csv" '
BEGIN {
	FS = " "
	while ((getline line < bks) > 0) {
		n = split(line, f, ",")
		if (f[1] == "instance") continue
		best[f[1]] = f[3]; bestv[f[1]] = f[2]
	}
}
{
	name = $1
	if (!(name in seen)) { seen[name] = 1; order[++ni] = name }
	if ($6 != "feasible") { bad[name]++; why[name] = $6; next }
	runs[name]++; veh[name] += $3; dist[name] += $4; secs[name] += $5
	if (!(name in mind) || $4 < mind[name]) mind[name] = $4
	if (name in best) {
		g = ($4 - best[name]) / best[name] * 100
		gap[name] += g
		if (!(name in maxg) || g > maxg[name]) maxg[name] = g
	}
}
END {
	printf "%-10s %5s %9s %9s %9s %8s %8s %7s %s\n", "instance", "runs", "vehicles", "distance", "best", "bks", "gap%", "max%", "seconds"
	for (i = 1; i <= ni; i++) {
		n = order[i]
		if (runs[n] == 0) { printf "%-10s no feasible run: %s\n", n, why[n]; failed = 1; continue }
		r = runs[n]
		b = (n in best) ? sprintf("%.2f", best[n]) : "-"
		g = (n in best) ? sprintf("%.2f", gap[n] / r) : "-"
		m = (n in best) ? sprintf("%.2f", maxg[n]) : "-"
		printf "%-10s %5d %9.1f %9.2f %9.2f %8s %8s %7s %.2f%s\n", n, r, veh[n] / r, dist[n] / r, mind[n], b, g, m, secs[n] / r, (bad[n] ? sprintf("  (%d infeasible: %s)", bad[n], why[n]) : "")
		if (bad[n]) failed = 1
		if (n in best) { sg += gap[n] / r; ng++; if (maxg[n] > worst) worst = maxg[n] }
		sv += veh[n] / r; ss += secs[n] / r; nn++
	}
	if (nn > 0)
		printf "%-10s %5s %9.1f %9s %9s %8s %8s %7s %.2f\n", "average", "", sv / nn, "", "", "", (ng ? sprintf("%.2f", sg / ng) : "-"), (ng ? sprintf("%.2f", worst) : "-"), ss / nn
	exit failed
}'
