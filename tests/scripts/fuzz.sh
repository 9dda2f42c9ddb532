#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build tree for a bounded time, on a
# copy of its committed seeds, and fails on any finding.
#   tests/scripts/fuzz.sh BUILD_DIR [SECONDS_PER_TARGET]
set -euo pipefail
build=$(realpath "$1")
secs=${2:-20}
src=$(cd "$(dirname "$0")/../fuzz" && pwd)
failed=0
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  short=${name#fuzz_}
  work="$build/fuzz-work/$short"
  art="$build/fuzz-artifacts/$short"
  rm -rf "$work" "$art"
  mkdir -p "$work" "$art"
  [ -d "$src/corpus/$short" ] && cp -r "$src/corpus/$short/." "$work/"
  log="$build/fuzz-artifacts/$short.log"
  if "$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$art/" "$work" >"$log" 2>&1 && [ -z "$(ls -A "$art")" ]; then
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
    printf '%-24s ok   %8s runs in %ss\n' "$name" "${execs:-?}" "$secs"
  else
    printf '%-24s FAILED (log: %s)\n' "$name" "$log"
    tail -40 "$log"
    failed=1
  fi
done
exit $failed
