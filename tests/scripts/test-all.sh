#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests use, builds
# three trees and runs every test.
#   asan     Debug, AddressSanitizer + UndefinedBehaviorSanitizer: every test,
#            and the integration suite again on PostgreSQL (label pg; a
#            throwaway server from tests/scripts/pg.sh)
#   release  -O2 -Werror, warning-free: a smoke test of the real binary and
#            a 3-minute soak under mixed load (tests/load/mixed.py)
#   fuzz     clang-14 + libFuzzer: each target for a bounded time
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "dependencies"
bash contrib/install-deps.sh build test

step "banned functions"
bash tests/scripts/check-banned.sh

step "asan build"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DOTD_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$jobs"

step "asan tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd build/asan && ctest --output-on-failure -j"$jobs" --timeout 900 -LE pg)

step "asan tests, PostgreSQL slice: the integration suite on a PostgreSQL server of its own"
pgdir=$(mktemp -d /tmp/onthedot-pg.XXXXXX)
stop_pg() { bash "$top/tests/scripts/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap stop_pg EXIT
OTD_TEST_PG=$(bash tests/scripts/pg.sh start "$pgdir")
export OTD_TEST_PG
(cd build/asan && ctest --output-on-failure -j"$jobs" --timeout 900 -L pg)
stop_pg
trap - EXIT
unset OTD_TEST_PG

step "release build (-O2 -Werror)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DOTD_WERROR=ON -DOTD_TESTS=OFF >/dev/null
cmake --build build/release -j"$jobs"

step "release smoke test"
bash tests/scripts/smoke.sh build/release/onthedot

step "soak: 3 minutes of mixed load on the release build"
python3 tests/load/mixed.py --bin build/release/onthedot --seconds 180 --soak 60

if ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
  step "fuzz build (clang-14, libFuzzer)"
  CC=clang-14 cmake -S . -B build/fuzz -DOTD_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
  cmake --build build/fuzz -j"$jobs"
  step "fuzz runs"
  bash tests/scripts/fuzz.sh build/fuzz "${OTD_FUZZ_SECONDS:-20}"
fi

step "all tests passed"
