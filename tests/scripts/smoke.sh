#!/usr/bin/env bash
# Smoke test of a built binary (the release tree): version, serve refusing a
# missing database, demo, serve on a free port, /healthz, an authenticated
# read, a JSON 404, SIGTERM and a clean exit.
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "smoke test: $*" >&2; [ -f "$work/log" ] && tail -20 "$work/log" >&2; exit 1; }

"$bin" version | grep -q '^onthedot ' || fail "version"
if "$bin" serve --db "$work/missing.db" 2>"$work/err"; then fail "served a missing database"; fi
grep -q "onthedot migrate --db" "$work/err" || fail "no hint to migrate: $(cat "$work/err")"
"$bin" demo --db "$work/demo.db" > "$work/demo.txt" || fail "demo"
token=$(grep -o 'otd_[A-Za-z0-9_-]*' "$work/demo.txt" | head -1)
[ -n "$token" ] || fail "demo printed no token"
"$bin" serve --db "$work/demo.db" --listen 127.0.0.1:0 --port-file "$work/port" 2>"$work/log" &
pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || fail "no port file"
port=$(cat "$work/port")
body=$(curl -fsS "http://127.0.0.1:$port/healthz")
echo "$body" | grep -q '"status":"ok"' || fail "healthz said: $body"
body=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/visitors?limit=2")
echo "$body" | grep -q '"next":"' || fail "visitors list: $body"
code=$(curl -s -o "$work/404" -w '%{http_code}' "http://127.0.0.1:$port/no/such/thing")
[ "$code" = 404 ] && grep -q '"code":"not_found"' "$work/404" || fail "404 wrong"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "serve exited $rc"
grep -q '"msg":"stopped"' "$work/log" || fail "no clean stop in log"
echo "smoke test passed"
