#!/usr/bin/python3
"""Benchmark (issue 11): bookings and visitor events a second on one, two and
three onthedot nodes sharing one PostgreSQL database, beside one node on
SQLite.

    /usr/bin/python3 tests/bench/bench_nodes.py --bin build/release/onthedot
    /usr/bin/python3 tests/bench/bench_nodes.py --bin build/release/onthedot --seconds 20 \\
        --nodes 1,2,3 --pg postgresql://postgres@127.0.0.1:5432/postgres

Each configuration gets a fresh database filled by `onthedot demo` (the
town of Wrenfield: 12 visitors, 4 visit types, about half a day's capacity
booked for the next 7 days), then N `onthedot serve` processes on the real
clock. Without --pg a throw-away PostgreSQL is started with
tests/scripts/pg.sh in a temp folder and stopped at the end.

Two phases of SECONDS each, driven by wrk with the project's load scripts
(tests/load/bookings.lua, tests/load/events.lua, unpaced: as fast as the
answers come). The same total number of connections (--book-conns,
--event-conns) is spread over the N nodes, one wrk a node:
  bookings  the windows of a day at an address, a hold, the booking
            (Idempotency-Key); dates spread over the booking horizon
  events    POST /api/v1/visitor/events from the 12 demo visitors, signed
            in on the first node (their sessions are used on every node)

Confirmed bookings are counted in the database (appointments added during
the phase), not from the clients alone; the clients' count is checked
against it. Events are counted as wrk's 2xx answers. Latency: p50 is the
request-weighted mean of the wrks' p50s, p99 is the largest of their p99s
(an upper bound of the overall p99).

Correctness after the booking phase: no two live (not cancelled)
appointments share (visitor, day, route position); along each visitor's
day the planned arrivals do not go backwards; every 5xx answer is counted.
A 5xx other than 503, a socket error or a time-out is a violation too (503
"the database is busy; try again" is counted, and the nodes' logs say on
which route). Violations are printed and make the exit status 1.

Prints a table and one JSON line (@@bench_nodes) a configuration. On a
2-core machine that also runs wrk and PostgreSQL the figures show
correctness and the shape of the curve, not what more cores would give.
"""

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
LOAD = os.path.join(ROOT, "tests", "load")
PG_SH = os.path.join(ROOT, "tests", "scripts", "pg.sh")

# Limits the benchmark does not measure are raised (every client is 127.0.0.1).
ENV = {
    "ONTHEDOT_MESSAGES_RECORD_ONLY": "true",
    "ONTHEDOT_MESSAGES_QUIET_START": "",
    "ONTHEDOT_MESSAGES_QUIET_END": "",
    "ONTHEDOT_BOOKING_LEAD_MINUTES": "60",
    "ONTHEDOT_BOOKING_HORIZON_DAYS": "90",
    "ONTHEDOT_BOOKING_SLOTS_PER_MINUTE": "1000000",
    "ONTHEDOT_BOOKING_SLOTS_BURST": "1000000",
    "ONTHEDOT_BOOKING_HOLDS_PER_CLIENT": "100000",
    "ONTHEDOT_HTTP_PER_IP_CONNECTIONS": "0",
    "ONTHEDOT_LIMITS_LOGIN_IP_BURST": "100000",
    "ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE": "100000",
    "ONTHEDOT_LIMITS_LOGIN_ACCOUNT_BURST": "100000",
    "ONTHEDOT_LIMITS_LOGIN_ACCOUNT_PER_MINUTE": "100000",
}

# Every process this program started, stopped by PID at the end.
PROCS = []


def log(msg):
    print(msg, flush=True)


def spread(total, n):
    """total connections over n nodes, as even as can be, at least 1 each."""
    return [max(1, total // n + (1 if i < total % n else 0)) for i in range(n)]


class Db:
    """The configuration's database, read by the benchmark itself."""

    def __init__(self, url):
        self.url = url
        self.pg = url.startswith("postgresql://")

    def rows(self, sql):
        if self.pg:
            import psycopg2
            c = psycopg2.connect(self.url)
            try:
                cur = c.cursor()
                cur.execute(sql)
                return cur.fetchall()
            finally:
                c.close()
        c = sqlite3.connect("file:%s?mode=ro" % self.url, uri=True, timeout=30)
        try:
            return c.execute(sql).fetchall()
        finally:
            c.close()


def pg_admin(admin_url, sql):
    import psycopg2
    c = psycopg2.connect(admin_url)
    c.autocommit = True
    try:
        c.cursor().execute(sql)
    finally:
        c.close()


def pg_db_url(admin_url, name):
    return admin_url.rsplit("/", 1)[0] + "/" + name


def cli(binary, args, env, timeout=600):
    e = dict(os.environ)
    e.update(env)
    r = subprocess.run([binary, *args], capture_output=True, text=True, env=e, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit("onthedot %s failed (%d): %s" % (" ".join(args[:1]), r.returncode,
                                                         r.stderr.strip()[-2000:]))
    return r.stdout


class Node:
    def __init__(self, binary, db, work, i, env):
        self.binary, self.db, self.work, self.i, self.env = binary, db, work, i, env
        self.proc = None
        self.port = None
        self.log_path = os.path.join(work, "serve-%d.log" % i)

    def start(self):
        port_file = os.path.join(self.work, "port-%d" % self.i)
        if os.path.exists(port_file):
            os.unlink(port_file)
        e = dict(os.environ)
        e.update(self.env)
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--db", self.db, "--listen", "127.0.0.1:0", "--port-file",
             port_file], stdout=subprocess.DEVNULL, stderr=self.logf, env=e)
        PROCS.append(self.proc)

        def ready():
            if self.proc.poll() is not None:
                raise SystemExit("node %d stopped at start: see %s" % (self.i, self.log_path))
            return os.path.exists(port_file) and os.path.getsize(port_file) > 0
        wait_for(ready, 60, "node %d did not start in 60 s" % self.i)
        with open(port_file) as f:
            self.port = int(f.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()
            return self.proc.returncode
        return None


def wait_for(cond, seconds, why):
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(why)
        time.sleep(0.05)


def request(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        c.request(method, path, data, hdrs)
        r = c.getresponse()
        raw = r.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return r.status, parsed, r
    finally:
        c.close()


def parse_demo(out):
    """(admin token, [(login, password)] of the visitor users)."""
    token = re.search(r"otd_[A-Za-z0-9_-]+", out)
    if not token:
        raise SystemExit("onthedot demo printed no token:\n" + out)
    users = re.findall(r"^\s+visitor\s+(\S+)\s+(\S+)\s*$", out, re.M)
    if not users:
        raise SystemExit("onthedot demo printed no visitor users:\n" + out)
    return token.group(0), users


def sign_in(port, users, bases):
    """Signs the visitors in on one node; [(cookie, csrf, lat, lon)]."""
    out = []
    for k, (login, password) in enumerate(users):
        st, body, r = request(port, "POST", "/api/v1/auth/login",
                              {"login": login, "password": password})
        if st != 200:
            raise SystemExit("sign-in of %s: %s %r" % (login, st, body))
        cookie = None
        for h in r.headers.get_all("Set-Cookie") or []:
            m = re.match(r"otd_session=([^;]+)", h)
            if m:
                cookie = m.group(1)
        lat, lon = bases[k % len(bases)]
        out.append((cookie, body["csrf_token"], lat, lon))
    return out


def run_wrk(kind, port, conns, seconds, env, data):
    e = dict(os.environ)
    e.update(env)
    e.update({"OTD_KIND": kind, "OTD_DELAY_MS": "0", "OTD_LOAD_LUA": LOAD,
              "OTD_LOAD_DATA": data})
    path = os.path.join(data, "wrk-%s-%d.txt" % (kind, port))
    out = open(path, "w")
    threads = conns if kind == "bookings" else min(conns, 2)  # bookings: a thread a conversation
    p = subprocess.Popen(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
                          "--timeout", "10s", "--latency", "-s", os.path.join(LOAD, kind + ".lua"),
                          "http://127.0.0.1:%d" % port], stdout=out, stderr=subprocess.STDOUT,
                         env=e)
    PROCS.append(p)
    p.out, p.path = out, path
    return p


def phase(kind, nodes, total_conns, seconds, env, data):
    """One wrk a node at once; the merged result."""
    # Each wrk numbers its threads from 1: a run name a node keeps the
    # Idempotency-Keys and client event ids of two nodes apart.
    procs = [run_wrk(kind, n.port, c, seconds, dict(env, OTD_RUN="%s-n%d" % (env["OTD_RUN"], n.i)),
                     data) for n, c in zip(nodes, spread(total_conns, len(nodes)))]
    t0 = time.monotonic()
    while any(p.poll() is None for p in procs):
        for n in nodes:
            if n.proc.poll() is not None:
                raise SystemExit("node %d died under load (exit %s): see %s"
                                 % (n.i, n.proc.returncode, n.log_path))
        time.sleep(0.2)
    elapsed = time.monotonic() - t0
    parts = []
    for p in procs:
        p.out.close()
        with open(p.path) as f:
            text = f.read()
        m = re.search(r"^@@result (\{.*\})$", text, re.M)
        if not m:
            raise SystemExit("wrk (%s) printed no result:\n%s" % (kind, text))
        parts.append(json.loads(m.group(1)))
    status, extra = {}, {}
    for r in parts:
        for k, v in r["status"].items():
            status[k] = status.get(k, 0) + v
        for k, v in r["extra"].items():
            extra[k] = extra.get(k, 0) + v
    reqs = sum(r["requests"] for r in parts)
    return {
        "seconds": max(r["seconds"] for r in parts), "wall_seconds": round(elapsed, 2),
        "requests": reqs, "status": status, "extra": extra,
        "p50_ms": sum(r["p50_ms"] * r["requests"] for r in parts) / reqs if reqs else 0.0,
        "p99_ms": max(r["p99_ms"] for r in parts),
        "sock_errors": sum(r["connect_errors"] + r["read_errors"] + r["write_errors"] +
                           r["timeouts"] for r in parts),
        "per_node_requests": [r["requests"] for r in parts],
    }


def check_routes(db):
    """Violations: two live appointments at one (visitor, day, position);
    planned arrivals going backwards along a visitor's day."""
    bad = []
    for v, d, pos, n in db.rows(
            "SELECT visitor_id, local_date, route_position, count(*) FROM appointments "
            "WHERE status <> 'cancelled' AND route_position IS NOT NULL "
            "GROUP BY visitor_id, local_date, route_position HAVING count(*) > 1"):
        bad.append("visitor %s on %s: %d appointments at route position %s" % (v, d, n, pos))
    rows = db.rows("SELECT visitor_id, local_date, route_position, planned_arrival, reference "
                   "FROM appointments WHERE status <> 'cancelled' AND route_position IS NOT "
                   "NULL AND planned_arrival IS NOT NULL "
                   "ORDER BY visitor_id, local_date, route_position")
    for a, b in zip(rows, rows[1:]):
        if a[0] == b[0] and a[1] == b[1] and b[3] < a[3]:
            bad.append("visitor %s on %s: %s (position %s) planned at %s, before %s (position "
                       "%s) at %s" % (a[0], a[1], b[4], b[2], b[3], a[4], a[2], a[3]))
    unplaced = db.rows("SELECT count(*) FROM appointments WHERE status <> 'cancelled' AND "
                       "route_position IS NULL")[0][0]
    return bad, unplaced


def server_5xx(nodes):
    """5xx answers the nodes logged, by route and status: {"503 POST /x": n}."""
    out = {}
    for n in nodes:
        with open(n.log_path, "rb") as f:
            for line in f:
                if b'"status":5' not in line:
                    continue
                try:
                    j = json.loads(line)
                except ValueError:
                    continue
                if j.get("msg") == "request" and int(j.get("status", 0)) >= 500:
                    k = "%s %s %s" % (j["status"], j.get("method"), j.get("route"))
                    out[k] = out.get(k, 0) + 1
    return out


def pg_xacts(db):
    """(commits, rollbacks) of the database so far (PostgreSQL's statistics,
    flushed about once a second: approximate)."""
    if not db.pg:
        return (0, 0)
    return tuple(db.rows("SELECT xact_commit, xact_rollback FROM pg_stat_database "
                         "WHERE datname = current_database()")[0])


def booking_dates(horizon):
    """The days after tomorrow within the horizon, but Sundays (no shifts)."""
    today = dt.date.today()
    out = []
    for k in range(2, horizon - 1):
        d = today + dt.timedelta(days=k)
        if d.weekday() != 6:
            out.append(d.isoformat())
    return out


def run_config(args, binary, name, db_url, n_nodes, work, rng):
    log("== %s, %d node%s" % (name, n_nodes, "" if n_nodes == 1 else "s"))
    os.makedirs(work, exist_ok=True)
    env = dict(ENV)
    t0 = time.monotonic()
    out = cli(binary, ["demo", "--db", db_url], env)
    token, users = parse_demo(out)
    db = Db(db_url)
    bases = [(r[0], r[1]) for r in db.rows("SELECT base_lat, base_lon FROM visitors ORDER BY id")]
    addresses = [r[0] for r in db.rows("SELECT id FROM addresses ORDER BY id")]
    types = [r[0] for r in db.rows("SELECT id FROM visit_types ORDER BY id")]
    log("   demo town made in %.1f s: %d addresses, %d visitor users, %d appointments"
        % (time.monotonic() - t0, len(addresses), len(users),
           db.rows("SELECT count(*) FROM appointments")[0][0]))
    nodes = [Node(binary, db_url, work, i, env) for i in range(n_nodes)]
    result = {"bench": "nodes", "config": name, "nodes": n_nodes, "seconds": args.seconds,
              "book_conns": spread(args.book_conns, n_nodes),
              "event_conns": spread(args.event_conns, n_nodes)}
    violations = []
    try:
        for n in nodes:
            n.start()
        signed = sign_in(nodes[0].port, users, bases)
        data = os.path.join(work, "data")
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "addresses.tsv"), "w") as f:
            for a in rng.sample(addresses, min(1000, len(addresses))):
                f.write("%d\t%d\n" % (a, rng.choice(types)))
        with open(os.path.join(data, "dates.tsv"), "w") as f:
            for d in booking_dates(int(ENV["ONTHEDOT_BOOKING_HORIZON_DAYS"])):
                f.write(d + "\n")
        with open(os.path.join(data, "visitors.tsv"), "w") as f:
            for cookie, csrf, lat, lon in signed:
                f.write("%s\t%s\t%.6f\t%.6f\n" % (cookie, csrf, lat, lon))
        run = "b%d%s%d" % (os.getpid(), name[:2], n_nodes)
        before = db.rows("SELECT coalesce(max(id), 0) FROM appointments")[0][0]
        x0 = pg_xacts(db)
        b = phase("bookings", nodes, args.book_conns, args.seconds,
                  {"OTD_TOKEN": token, "OTD_RUN": run, "OTD_CHURN": "0"}, data)
        time.sleep(1.0 if db.pg else 0)  # PostgreSQL's statistics catch up
        x1 = pg_xacts(db)
        stored = db.rows("SELECT count(*) FROM appointments WHERE id > %d AND status <> "
                         "'cancelled'" % int(before))[0][0]
        bad, unplaced = check_routes(db)
        violations += bad
        client = b["extra"].get("confirmed", 0)
        # wrk stops with one request in flight a connection: a booking
        # committed then is stored but its answer is never read.
        if not client <= stored <= client + args.book_conns:
            violations.append("%d bookings confirmed to the clients, %d new appointments stored "
                              "(at most %d answers may be lost when wrk stops)"
                              % (client, stored, args.book_conns))
        at = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        ev_before = db.rows("SELECT count(*) FROM visitor_events")[0][0]
        e = phase("events", nodes, args.event_conns, args.seconds,
                  {"OTD_AT": at, "OTD_RUN": "e" + run}, data)
        ev_stored = db.rows("SELECT count(*) FROM visitor_events")[0][0] - ev_before
    finally:
        codes = [n.stop() for n in nodes]
    logged_5xx = server_5xx(nodes)
    for n, c in zip(nodes, codes):
        if c not in (0, None):
            violations.append("node %d exited with %s after SIGTERM (see %s)"
                              % (n.i, c, n.log_path))
    if not db.pg:
        ic = db.rows("PRAGMA integrity_check")[0][0]
        if ic != "ok":
            violations.append("integrity check: %s" % ic)

    def fivexx(s):
        return sum(v for k, v in s.items() if k.startswith("5"))

    def ok(s):
        return sum(v for k, v in s.items() if k.startswith("2"))
    b_answers = b["requests"]
    result.update({
        "bookings": {"confirmed_db": stored, "confirmed_client": client,
                     "per_s": stored / b["seconds"], "held": b["extra"].get("held", 0),
                     "requests": b_answers, "p50_ms": round(b["p50_ms"], 2),
                     "p99_ms": round(b["p99_ms"], 2), "status": b["status"],
                     "share_409": b["status"].get("409", 0) / b_answers if b_answers else 0.0,
                     "non_2xx": b_answers - ok(b["status"]), "5xx": fivexx(b["status"]),
                     "sock_errors": b["sock_errors"], "per_node_requests": b["per_node_requests"],
                     "unplaced": unplaced, "pg_commits": x1[0] - x0[0],
                     "pg_rollbacks": x1[1] - x0[1]},
        "server_5xx": logged_5xx,
        "events": {"accepted": ok(e["status"]), "stored_rows": ev_stored,
                   "per_s": ok(e["status"]) / e["seconds"], "requests": e["requests"],
                   "p50_ms": round(e["p50_ms"], 2), "p99_ms": round(e["p99_ms"], 2),
                   "status": e["status"], "non_2xx": e["requests"] - ok(e["status"]),
                   "5xx": fivexx(e["status"]), "sock_errors": e["sock_errors"],
                   "per_node_requests": e["per_node_requests"]},
        "violations": violations,
    })
    for kind, ph in (("bookings", b), ("events", e)):
        other = sum(v for k, v in ph["status"].items() if k.startswith("5") and k != "503")
        if other or ph["sock_errors"]:
            violations.append("%s: %d 5xx other than 503, %d socket errors or time-outs"
                              % (kind, other, ph["sock_errors"]))
    if ok(e["status"]) == 0:
        violations.append("events: no 2xx answer (%s)" % e["status"])
    if stored == 0:
        violations.append("bookings: none confirmed (%s)" % b["status"])
    for v in violations:
        log("   VIOLATION: " + v)
    if logged_5xx:
        log("   5xx the nodes logged: %s" % json.dumps(logged_5xx, sort_keys=True))
    if db.pg:
        log("   booking phase on PostgreSQL: about %d commits, %d rollbacks (serialization "
            "failures retried or given up, and read-only ends)" % (x1[0] - x0[0], x1[1] - x0[1]))
    log("   bookings: %d confirmed (%d stored), %d answers %s; events: %d accepted (%d rows "
        "stored), %d answers %s" % (client, stored, b_answers, json.dumps(b["status"]),
                                   ok(e["status"]), ev_stored, e["requests"],
                                   json.dumps(e["status"])))
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the onthedot binary (a release build)")
    ap.add_argument("--seconds", type=int, default=20, help="each phase (bookings, events)")
    ap.add_argument("--nodes", default="1,2,3", help="node counts on PostgreSQL")
    ap.add_argument("--pg", default=None,
                    help="admin URL of a PostgreSQL that may create databases (default: start "
                    "one with tests/scripts/pg.sh)")
    ap.add_argument("--no-sqlite", action="store_true", help="leave out the SQLite baseline")
    ap.add_argument("--book-conns", type=int, default=8, help="booking connections in all")
    ap.add_argument("--event-conns", type=int, default=8, help="event connections in all")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--seed", type=int, default=20261205)
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        raise SystemExit("not an executable: %s" % binary)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: bash contrib/install-deps.sh bench")
    counts = [int(x) for x in args.nodes.split(",") if x.strip()]
    work = tempfile.mkdtemp(prefix="otd-bench-nodes-")
    os.chmod(work, 0o755)  # pg.sh runs PostgreSQL as "postgres" when we are root
    pg_dir = None
    admin = args.pg
    rng = random.Random(args.seed)
    results = []
    # SIGTERM as Ctrl-C: the finally below stops everything.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if not admin and counts:
            pg_dir = os.path.join(work, "pg")
            r = subprocess.run(["bash", PG_SH, "start", pg_dir], capture_output=True, text=True)
            if r.returncode != 0:
                raise SystemExit("pg.sh start failed: %s" % r.stderr.strip())
            admin = r.stdout.strip().splitlines()[-1]
            log("PostgreSQL started: %s" % admin)
        configs = []
        if not args.no_sqlite:
            configs.append(("sqlite", 1))
        configs += [("postgresql", n) for n in counts]
        for name, n in configs:
            if name == "sqlite":
                db_url = os.path.join(work, "sqlite-1", "bench.db")
                os.makedirs(os.path.dirname(db_url), exist_ok=True)
            else:
                dbname = "otd_bench_%d_%d" % (os.getpid(), n)
                pg_admin(admin, "CREATE DATABASE %s TEMPLATE template0 LC_COLLATE 'C' "
                         "LC_CTYPE 'C'" % dbname)
                db_url = pg_db_url(admin, dbname)
            results.append(run_config(args, binary, name, db_url, n,
                                      os.path.join(work, "%s-%d" % (name, n)), rng))
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if pg_dir:
            subprocess.run(["bash", PG_SH, "stop", pg_dir], capture_output=True)
    cpus = os.cpu_count()
    load = os.getloadavg()
    log("\n%d s a phase on %d cores (load average %.2f %.2f %.2f at the end; wrk, PostgreSQL "
        "and the nodes share them) -- %s" % (args.seconds, cpus, *load, binary))
    log("%-11s %5s %10s %9s %6s %9s %9s %5s %6s" % (
        "config", "nodes", "booked/s", "b p99 ms", "409", "events/s", "e p99 ms", "5xx",
        "viol."))
    for r in results:
        b, e = r["bookings"], r["events"]
        log("%-11s %5d %10.1f %9.1f %5.1f%% %9.1f %9.1f %5d %6d" % (
            r["config"], r["nodes"], b["per_s"], b["p99_ms"], 100 * b["share_409"], e["per_s"],
            e["p99_ms"], b["5xx"] + e["5xx"], len(r["violations"])))
    log("(booked/s: appointments stored during the phase / its length; p99: the largest of the "
        "nodes' wrk p99s; 409: share of all booking-phase answers (slots, holds, bookings); "
        "events/s: 2xx answers / the phase's length)")
    for r in results:
        log("@@bench_nodes " + json.dumps(r, sort_keys=True))
    if args.keep or any(r["violations"] for r in results):
        log("work folder kept: %s" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any(r["violations"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
