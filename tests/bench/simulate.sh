#!/bin/bash
# The simulator's figures for the README: the utility region over 20 seeds,
# every policy and window width, then the summary table and the targets.
#
#   bash tests/bench/simulate.sh [BIN] [OUT] [SEEDS] [SCENARIO]
#
# BIN defaults to build/release/onthedot, OUT to /tmp/onthedot-sim, SEEDS to
# 20, SCENARIO to contrib/scenarios/utility-region.json. Two seeds run at
# once (a 2-core machine); each seed's report goes to OUT/seed-N.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/release/onthedot}
out=${2:-/tmp/onthedot-sim}
seeds=${3:-20}
scenario=${4:-$here/contrib/scenarios/utility-region.json}
[ -x "$bin" ] || { echo "simulate.sh: no binary at $bin (build the release tree first)" >&2; exit 1; }
mkdir -p "$out"
run() {
	local seed=$1
	"$bin" simulate --scenario "$scenario" --seed "$seed" --report "$out/seed-$seed" \
		2>"$out/seed-$seed.log" || { echo "seed $seed failed: $(tail -n 3 "$out/seed-$seed.log")" >&2; return 1; }
}
export -f run
export bin out scenario
seq 1 "$seeds" | xargs -P 2 -I{} bash -c 'run {}'
python3 "$here/tests/bench/sim_summary.py" "$out"/seed-*/
