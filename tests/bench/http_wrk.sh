#!/usr/bin/env bash
# HTTP throughput of the release build under wrk (the foundation issue's
# goals: /healthz >= 10,000 requests/s; an authenticated JSON read >=
# 5,000), each as the median of RUNS runs of `wrk -t2 -c64 -d10s`.
#   tests/bench/http_wrk.sh [BUILD_DIR] [RUNS] [SECONDS]
# Needs wrk (contrib/install-deps.sh bench). Prints a table and JSON lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
runs=${2:-3}
secs=${3:-10}
bin=$(realpath "$build/onthedot")
command -v wrk >/dev/null || { echo "wrk is missing: bash contrib/install-deps.sh bench" >&2; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" demo --db "$work/bench.db" > "$work/demo.txt"
token=$(grep -o 'otd_[A-Za-z0-9_-]*' "$work/demo.txt" | head -1)
"$bin" serve --db "$work/bench.db" --listen 127.0.0.1:0 --port-file "$work/port" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
curl -fsS -H "Authorization: Bearer $token" "$base/api/v1/visitors/1" >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # name url [header]
  local name=$1 url=$2 hdr=${3:-} rates=() out
  for _ in $(seq "$runs"); do
    if [ -n "$hdr" ]; then
      out=$(wrk -t2 -c64 -d"${secs}s" --latency -H "$hdr" "$url")
    else
      out=$(wrk -t2 -c64 -d"${secs}s" --latency "$url")
    fi
    if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "non-2xx answers" >&2; exit 1; fi
    rates+=("$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  done
  local med
  med=$(printf '%s\n' "${rates[@]}" | median)
  printf '%-34s %12s %s   (runs: %s; last p99 %s)\n' "$name" "$med" "req/s" "${rates[*]}" "$p99"
  printf '{"bench":"http_wrk","case":"%s","median_rps":%s,"runs":[%s],"threads":2,"connections":64,"seconds":%s}\n' \
    "$name" "$med" "$(IFS=,; echo "${rates[*]}")" "$secs" >> "$work/json"
}
echo "wrk -t2 -c64 -d${secs}s, median of $runs runs, $(nproc) cores"
measure "GET /healthz" "$base/healthz"
measure "GET /api/v1/visitors/1 (bearer)" "$base/api/v1/visitors/1" "Authorization: Bearer $token"
cat "$work/json"
if grep -q '"level":"error"' "$work/serve.log"; then echo "server logged errors" >&2; exit 1; fi
