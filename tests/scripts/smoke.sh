#!/usr/bin/env bash
# Smoke test of a built binary: version, serve on a free port, /healthz,
# a JSON 404, SIGTERM and a clean exit.
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin" version | grep -q '^onthedot '
"$bin" serve --listen 127.0.0.1:0 --port-file "$work/port" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")
body=$(curl -fsS "http://127.0.0.1:$port/healthz")
echo "$body" | grep -q '"status":"ok"' || { echo "healthz said: $body" >&2; exit 1; }
code=$(curl -s -o "$work/404" -w '%{http_code}' "http://127.0.0.1:$port/no/such/thing")
[ "$code" = 404 ] && grep -q '"code":"not_found"' "$work/404" || { echo "404 wrong" >&2; exit 1; }
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" = 0 ] || { echo "serve exited $rc" >&2; cat "$work/log" >&2; exit 1; }
grep -q '"msg":"stopped"' "$work/log" || { echo "no clean stop in log" >&2; exit 1; }
echo "smoke test passed"
