#!/usr/bin/env bash
# The run command (README): installs what onthedot needs, builds it, makes a
# demo database (the fictional town of Wrenfield) on first run, and serves
# it on http://127.0.0.1:8080 (LISTEN=HOST:PORT to change). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
listen=${LISTEN:-127.0.0.1:8080}
bash contrib/install-deps.sh build
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DOTD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc 2>/dev/null || echo 2)"
mkdir -p build/demo
db=build/demo/wrenfield.db
creds=build/demo/credentials.txt
if [ ! -f "$db" ]; then
  umask 077
  build/release/onthedot demo --db "$db" > "$creds"
fi
echo
cat "$creds"
echo
echo "onthedot is starting on http://$listen"
echo "  book a visit: http://$listen/book"
echo "  our record:  http://$listen/trust"
echo "  staff:       http://$listen/login (a visitor's route: /visitor; the board: /dispatch)"
echo "  health:      http://$listen/healthz"
echo "  API:         http://$listen/api/v1/openapi.json"
echo "  metrics:     http://$listen/metrics"
echo "  try:         curl -H 'Authorization: Bearer TOKEN' http://$listen/api/v1/visitors"
echo "(the sign-in details above are kept in $creds; delete $db for a fresh town)"
echo "The visitors are played live (--demo-drive) on the days the demo booked: the 7 days"
echo "after the town was made. The board shows them leave, arrive, run late and fall ill."
echo
# The demo records messages instead of sending them to a gateway.
export ONTHEDOT_MESSAGES_RECORD_ONLY=${ONTHEDOT_MESSAGES_RECORD_ONLY:-true}
export ONTHEDOT_ORGANISATION=${ONTHEDOT_ORGANISATION:-Wrenfield Council}
export ONTHEDOT_MESSAGES_SIGNATURE=${ONTHEDOT_MESSAGES_SIGNATURE:-Morgan Ellis, dispatcher}
export ONTHEDOT_MESSAGES_PHONE=${ONTHEDOT_MESSAGES_PHONE:-01632 960000}
# --demo-drive plays the day's visitors with the simulator's reality model.
exec build/release/onthedot serve --db "$db" --listen "$listen" --demo-drive
