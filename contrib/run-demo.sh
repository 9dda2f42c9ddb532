#!/usr/bin/env bash
# The run command (README): installs what onthedot needs, builds it, and
# serves it on http://127.0.0.1:8080 (LISTEN=HOST:PORT to change).
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${LISTEN:-127.0.0.1:8080}
bash contrib/install-deps.sh build
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DOTD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)"
echo "onthedot: serving on http://$listen (health: http://$listen/healthz); Ctrl-C stops it"
exec build/release/onthedot serve --listen "$listen"
