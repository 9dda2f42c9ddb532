#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the PostgreSQL slice of the
# tests and the benchmarks: its own data folder, a free port, trust
# authentication on loopback only, fsync on (the same durability as SQLite's
# synchronous=FULL). PostgreSQL refuses to run as root: as root it runs as the
# "postgres" user the Debian package creates.
#
#   tests/scripts/pg.sh start DIR [PORT]
#                                   prints the connection string of the
#                                   "postgres" database (may create databases);
#                                   PORT: that port (a restart keeping its
#                                   address), else a free one
#   tests/scripts/pg.sh stop DIR    stops the server by the PID it recorded
set -euo pipefail

cmd=${1:-}
dir=${2:-}
want_port=${3:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
start)
  B=$(bindir)
  [ -n "$B" ] || { echo "pg.sh: PostgreSQL is not installed (contrib/install-deps.sh test)" >&2; exit 1; }
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$B/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  port=${want_port:-$(free_port)}
  # max_connections: three nodes' pools and the tests' own connections.
  as_pg "$B/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=300" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" > "$dir/port"
  echo "postgresql://postgres@127.0.0.1:$port/postgres"
  ;;
stop)
  pidfile="$dir/data/postmaster.pid"
  [ -f "$pidfile" ] || { echo "pg.sh: no server in $dir" >&2; exit 0; }
  pid=$(head -n 1 "$pidfile")
  # SIGINT is PostgreSQL's fast shutdown; wait for the PID to go.
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || exit 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
