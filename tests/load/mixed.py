#!/usr/bin/env python3
"""The mixed load test and the soak (issue 10), against the real binary.

    python3 tests/load/mixed.py --bin build/release/onthedot --seconds 60
    python3 tests/load/mixed.py --bin build/release/onthedot --seconds 180 --soak 60
    python3 tests/load/mixed.py --bin build/release/onthedot --seconds 600 --soak 120 --per 300

Sets up a synthetic organisation in a throw-away folder the way an
administrator does (`onthedot migrate`, `import gazetteer`, `import
visit-types`, `import visitors`, `user add` for every visitor, `token
create`): 3,000 addresses in a 16 x 16 km area, VISITORS visitors (60) with
weekday shifts 08:00-17:00, one visit type (30 minutes, 60-minute windows).
The server runs on a virtual clock held on a Monday (1 June 2026): at 06:00
the booking client books four visits a visitor for the day and more over
the next days (their links are the pages read under load), then the clock
moves to 08:05 and every visitor signs in and starts travelling.

Then, all at once and each at a stated rate below saturation, for SECONDS:
  slots     wrk, GET /api/v1/slots (one address, one day)
  bookings  wrk, the windows of a day, a hold, the booking (Idempotency-Key)
  events    wrk, POST /api/v1/visitor/events from signed-in visitors:
            9 positions for one "late N" tap
  pages     wrk, GET /a/{token} and /api/v1/a/{token} in turn
  streams   STREAMS dispatcher stream clients of this script (threads):
            GET /api/v1/dispatch/stream, read every event, reconnect
Each wrk paces its connections (tests/load/*.lua, common.lua) and counts
answers by status. The server's memory (VmRSS), open files and WAL size are
sampled every 5 seconds.

Fails (exit 1) on: a 5xx other than 503, a socket error or a time-out in any
kind; a stream that could not connect; bookings confirmed that are not in
the database; the integrity check; with --soak W: RSS growing 1 MiB or more
(1,048,576 bytes) after the first W seconds, in any --per window (the whole
rest of the run by default), open files growing by more than 8, or the WAL
growing past 80 MiB. 409, 429 and 503 are counted and reported.
Prints a table and one JSON line (@@summary).
"""

import argparse
import concurrent.futures
import http.client
import json
import math
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CENTRE = (52.2050, -1.5480)
DAY = "2026-06-01"  # a Monday
T_BOOK = "2026-06-01T05:00:00Z"  # 06:00 London
T_RUN = "2026-06-01T07:05:00Z"  # 08:05 London
KINDS = ("slots", "bookings", "events", "pages")
# The WAL is cut back to 64 MiB (PRAGMA journal_size_limit) when a
# checkpoint restarts it; between two it may grow by what is written
# meanwhile.
WAL_BOUND = 80 * 2**20


def log(msg):
    print(msg, flush=True)


def point(rng, km=8.0):
    n = rng.uniform(-km, km)
    e = rng.uniform(-km, km)
    lat = CENTRE[0] + n / 111.2
    lon = CENTRE[1] + e / (111.2 * math.cos(math.radians(CENTRE[0])))
    return round(lat, 6), round(lon, 6)


class Client:
    """A keep-alive HTTP/1.1 client on 127.0.0.1."""

    def __init__(self, port, timeout=30):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, path, data, hdrs)
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = None
                return r.status, parsed, r
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


class Server:
    def __init__(self, binary, work, env):
        self.binary = binary
        self.work = work
        self.env = env
        self.db = os.path.join(work, "load.db")
        self.proc = None
        self.port = None

    def cli(self, *args, stdin=None):
        r = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            raise SystemExit("onthedot %s failed: %s" % (" ".join(args[:2]), r.stderr.strip()))
        return r.stdout

    def start(self):
        port_file = os.path.join(self.work, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        env = dict(os.environ)
        env.update(self.env)
        self.log = open(os.path.join(self.work, "serve.log"), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--db", self.db, "--listen", "127.0.0.1:0", "--port-file",
             port_file, "--virtual-clock", "--virtual-start", T_BOOK],
            stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        deadline = time.monotonic() + 60
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise SystemExit("the server stopped at start: see %s/serve.log" % self.work)
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start in 60 s")
            time.sleep(0.05)
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
                raise SystemExit("the server did not stop within 60 s of SIGTERM")
        self.log.close()
        return self.proc.returncode

    def sample(self):
        """(VmRSS bytes, open files, WAL bytes) of the running server."""
        rss = 0
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
        fds = len(os.listdir("/proc/%d/fd" % self.proc.pid))
        try:
            wal = os.path.getsize(self.db + "-wal")
        except OSError:
            wal = 0
        return rss, fds, wal


def build_organisation(srv, rng, n_visitors, n_addresses, n_users):
    """CSV imports, visitor users and an admin token; returns (token,
    addresses [(id, lat, lon)], visit type id, visitors [(id, login, password, lat, lon)])."""
    w = srv.work
    with open(os.path.join(w, "gazetteer.csv"), "w") as f:
        f.write("uprn,line1,postcode,latitude,longitude,town\n")
        for i in range(n_addresses):
            lat, lon = point(rng)
            f.write("%d,%d Load Street,ZZ%d %dAA,%.6f,%.6f,Loadton\n" %
                    (200000000 + i, i + 1, 1 + i % 9, i % 10, lat, lon))
    with open(os.path.join(w, "types.csv"), "w") as f:
        f.write("code,name,skill,duration_median_minutes,window_minutes,duration_spread\n")
        f.write("survey,Meter survey,meters,30,60,0.2\n")
    with open(os.path.join(w, "visitors.csv"), "w") as f:
        f.write("email,name,role_title,base_lat,base_lon,phone,skills,shift_start,"
                "shift_minutes,shift_rrule\n")
        for i in range(n_visitors):
            lat, lon = point(rng, 6.0)
            f.write("v%d@load.example,Visitor %d,Meter technician,%.6f,%.6f,01632 9%05d,meters,"
                    "2026-05-04T08:00,540,\"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\"\n" %
                    (i, i, lat, lon, i))
    srv.cli("migrate", "--db", srv.db)
    srv.cli("import", "gazetteer", os.path.join(w, "gazetteer.csv"), "--db", srv.db)
    srv.cli("import", "visit-types", os.path.join(w, "types.csv"), "--db", srv.db)
    srv.cli("import", "visitors", os.path.join(w, "visitors.csv"), "--db", srv.db)
    out = srv.cli("token", "create", "--db", srv.db, "--name", "load")
    token = re.search(r"otd_[A-Za-z0-9_-]+", out).group(0)
    db = sqlite3.connect(srv.db)
    addresses = db.execute("SELECT id, lat, lon FROM addresses ORDER BY id").fetchall()
    vt = db.execute("SELECT id FROM visit_types WHERE code = 'survey'").fetchone()[0]
    rows = db.execute("SELECT id, base_lat, base_lon FROM visitors ORDER BY id").fetchall()
    db.close()
    visitors = []
    for vid, lat, lon in rows[:n_users]:
        visitors.append((vid, "v%d" % vid, "load-password-%d-%s" % (vid, rng.randrange(10**9)),
                         lat, lon))

    def add(v):  # argon2id takes most of a second a user: two at a time
        srv.cli("user", "add", "--db", srv.db, "--role", "visitor", "--login", v[1], "--name",
                "Visitor %d" % v[0], "--visitor", str(v[0]), "--password-stdin",
                stdin=v[2] + "\n")
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        list(ex.map(add, visitors))
    return token, addresses, vt, visitors


def weekdays(start, n):
    import datetime as dt
    d = dt.date.fromisoformat(start)
    out = []
    while len(out) < n:
        d += dt.timedelta(days=1)
        if d.weekday() < 5:
            out.append(d.isoformat())
    return out


def prebook(srv, token, addresses, vt, rng, today_each, n_visitors, later):
    """Books through the API; returns the link tokens. today_each visits a
    visitor today (on the addresses nearest each visitor is not needed: the
    offer chooses), and `later` more over the next days."""
    c = Client(srv.port)
    auth = {"Authorization": "Bearer " + token}
    tokens = []
    dates = [DAY] * (today_each * n_visitors) + [rng.choice(weekdays(DAY, 10))
                                                 for _ in range(later)]
    k = 0
    for date in dates:
        for _ in range(20):
            a = rng.choice(addresses)[0]
            st, body, _ = c.request("GET", "/api/v1/slots?visit_type=%d&address=%d&from=%s&to=%s"
                                    % (vt, a, date, date), headers=auth)
            if st != 200 or not body["days"]:
                continue
            ws = body["days"][0]["windows"]
            w = rng.choice(ws)
            st, h, _ = c.request("POST", "/api/v1/holds", {"address": a, "visit_type": vt,
                                                           "window_start": w["start"]},
                                 headers=auth)
            if st != 201:
                continue
            k += 1
            st, b, _ = c.request("POST", "/api/v1/appointments",
                                 {"hold": h["hold"], "name": "Prebooked %d" % k,
                                  "email": "pre%d@example.org" % k,
                                  "consent": {"email": True, "sms": False}},
                                 headers=dict(auth, **{"Idempotency-Key": "pre-%d" % k}))
            if st == 201:
                tokens.append(b["link"]["path"].rsplit("/", 1)[-1])
                break
    return tokens


def sign_in_visitors(srv, visitors):
    """Signs every visitor in and starts their travel to the first visit of
    the day; returns [(cookie, csrf, lat, lon)]."""
    out = []
    for vid, login, password, lat, lon in visitors:
        c = Client(srv.port)
        st, body, r = c.request("POST", "/api/v1/auth/login", {"login": login,
                                                              "password": password})
        if st != 200:
            raise SystemExit("sign-in of %s: %s %r" % (login, st, body))
        cookie = None
        for h in r.headers.get_all("Set-Cookie") or []:
            m = re.match(r"otd_session=([^;]+)", h)
            if m:
                cookie = m.group(1)
        hdrs = {"Cookie": "otd_session=" + cookie, "X-CSRF-Token": body["csrf_token"]}
        st, day, _ = c.request("GET", "/api/v1/visitor/day", headers=hdrs)
        if st != 200:
            raise SystemExit("visitor day of %s: %s %r" % (login, st, day))
        visits = [a for a in day.get("appointments", []) if a.get("status") == "booked"]
        if visits:
            st, b, _ = c.request("POST", "/api/v1/visitor/events",
                                 {"client_event_id": "start-%d" % vid, "type": "start_travel",
                                  "at": T_RUN, "appointment": visits[0]["reference"]},
                                 headers=hdrs)
            if st not in (200, 201, 202):
                raise SystemExit("start_travel of %s: %s %r" % (login, st, b))
        out.append((cookie, body["csrf_token"], lat, lon))
    return out


class StreamClients:
    """n dispatcher stream clients, each a thread holding GET
    /api/v1/dispatch/stream open, reading events and reconnecting when the
    server ends the stream."""

    def __init__(self, port, token, n):
        self.port = port
        self.token = token
        self.n = n
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.connects = []  # seconds from connect to the answer's headers
        self.status = {}
        self.events = 0
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(n)]

    def start(self):
        for t in self.threads:
            t.start()

    def run(self, i):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            except OSError as e:
                with self.lock:
                    self.errors.append("connect: %s" % e)
                time.sleep(0.5)
                continue
            try:
                s.settimeout(2.0)
                s.sendall(("GET /api/v1/dispatch/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n"
                           % self.token).encode())
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed before the headers")
                    buf += chunk
                head, _, rest = buf.partition(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                with self.lock:
                    self.connects.append(time.monotonic() - t0)
                    self.status[status] = self.status.get(status, 0) + 1
                if status != 200:
                    time.sleep(1.0)
                    continue
                n = rest.count(b"\nevent:") + rest.count(b"\ndata:")
                with self.lock:
                    self.events += rest.count(b"data:")
                while not self.stop.is_set():
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        continue
                    if not chunk:
                        break
                    with self.lock:
                        self.events += chunk.count(b"data:")
                del n
            except (OSError, ValueError, IndexError) as e:
                if not self.stop.is_set():
                    with self.lock:
                        self.errors.append("%s: %s" % (type(e).__name__, e))
            finally:
                s.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(10)

    def result(self, seconds):
        c = sorted(self.connects)
        p = (lambda q: c[min(len(c) - 1, int(q * len(c)))] * 1000 if c else 0.0)
        return {"kind": "streams", "clients": self.n, "connects": len(c),
                "events": self.events, "events_per_s": self.events / seconds,
                "p50_ms": p(0.5), "p99_ms": p(0.99), "max_ms": c[-1] * 1000 if c else 0.0,
                "status": {str(k): v for k, v in self.status.items()},
                "errors": len(self.errors), "error_samples": self.errors[:5]}


def run_wrk(kind, port, conns, rate, seconds, env, data_dir):
    """Starts one wrk for a kind; returns the process."""
    delay = max(0, int(round(conns * 1000.0 / rate)))
    e = dict(os.environ)
    e.update(env)
    e.update({"OTD_KIND": kind, "OTD_DELAY_MS": str(delay), "OTD_LOAD_LUA": HERE,
              "OTD_LOAD_DATA": data_dir})
    out = open(os.path.join(data_dir, "wrk-%s.txt" % kind), "w")
    p = subprocess.Popen(["wrk", "-t%d" % min(conns, 2) if kind != "bookings" else
                          "-t%d" % conns, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "10s",
                          "--latency", "-s", os.path.join(HERE, kind + ".lua"),
                          "http://127.0.0.1:%d" % port], stdout=out, stderr=subprocess.STDOUT,
                         env=e)
    p.out = out
    p.path = out.name
    return p


def parse_rates(text):
    rates = {"slots": 100, "bookings": 30, "events": 200, "pages": 150, "streams": 16}
    for item in filter(None, (text or "").split(",")):
        k, _, v = item.partition("=")
        if k not in rates:
            raise SystemExit("--rates: unknown kind %r (slots, bookings, events, pages, streams)"
                             % k)
        rates[k] = float(v)
    return rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the onthedot binary (the release build)")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rates", default="",
                    help="per kind, requests a second (streams: clients), e.g. "
                    "slots=100,bookings=30,events=200,pages=150,streams=16")
    ap.add_argument("--visitors", type=int, default=60)
    ap.add_argument("--signed-in", type=int, default=24,
                    help="visitors who sign in and send events (at most --visitors)")
    ap.add_argument("--soak", type=int, default=0,
                    help="check memory after this warm-up (seconds); 0: no soak check")
    ap.add_argument("--per", type=int, default=0,
                    help="with --soak: RSS growth is checked per window of this many seconds "
                    "(default: the whole rest of the run)")
    ap.add_argument("--work", default=None, help="folder for the run (default: a new temp one)")
    ap.add_argument("--keep", action="store_true", help="keep the folder")
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--churn", action="store_true",
                    help="each booking client cancels what it booked (through the customer's "
                    "link), so the calendar stays as full as it was: a steady state (--soak "
                    "implies it)")
    args = ap.parse_args()
    rates = parse_rates(args.rates)
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        raise SystemExit("not an executable: %s" % binary)
    if subprocess.run(["sh", "-c", "command -v wrk"], capture_output=True).returncode != 0:
        raise SystemExit("wrk is missing: bash contrib/install-deps.sh bench")
    work = args.work or tempfile.mkdtemp(prefix="otd-load-")
    os.makedirs(work, exist_ok=True)
    rng = random.Random(args.seed)
    env = {
        "ONTHEDOT_MESSAGES_RECORD_ONLY": "true",
        "ONTHEDOT_MESSAGES_QUIET_START": "",
        "ONTHEDOT_MESSAGES_QUIET_END": "",
        "ONTHEDOT_BOOKING_LEAD_MINUTES": "60",
        "ONTHEDOT_BOOKING_SLOTS_PER_MINUTE": "1000000",
        "ONTHEDOT_BOOKING_SLOTS_BURST": "1000000",
        "ONTHEDOT_BOOKING_HOLDS_PER_CLIENT": "100000",
        "ONTHEDOT_STREAMS_MAX_PER_PRINCIPAL": "1000",
        "ONTHEDOT_HTTP_PER_IP_CONNECTIONS": "0",
        "ONTHEDOT_LIMITS_LOGIN_IP_BURST": "100000",
        "ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE": "100000",
    }
    srv = Server(binary, work, env)
    t0 = time.monotonic()
    token, addresses, vt, visitors = build_organisation(srv, rng, args.visitors, 3000,
                                                      args.signed_in)
    log("organisation built in %.1f s" % (time.monotonic() - t0))
    srv.start()
    try:
        tokens = prebook(srv, token, addresses, vt, rng, 3, args.visitors, 120)
        log("%d visits booked ahead in %.1f s" % (len(tokens), time.monotonic() - t0))
        c = Client(srv.port)
        st, body, _ = c.request("POST", "/api/v1/admin/clock", {"to": T_RUN},
                                headers={"Authorization": "Bearer " + token})
        if st != 200:
            raise SystemExit("clock: %s %r" % (st, body))
        signed = sign_in_visitors(srv, visitors)
        data = os.path.join(work, "data")
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "addresses.tsv"), "w") as f:
            for a in rng.sample(addresses, 1000):
                f.write("%d\t%d\n" % (a[0], vt))
        with open(os.path.join(data, "dates.tsv"), "w") as f:
            for d in weekdays(DAY, 10):
                f.write(d + "\n")
        with open(os.path.join(data, "tokens.tsv"), "w") as f:
            for t in tokens:
                f.write(t + "\n")
        with open(os.path.join(data, "visitors.tsv"), "w") as f:
            for cookie, csrf, lat, lon in signed:
                f.write("%s\t%s\t%.6f\t%.6f\n" % (cookie, csrf, lat, lon))
        db = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True)
        before = db.execute("SELECT count(*) FROM appointments").fetchone()[0]
        db.close()
        log("set up in %.1f s: %d addresses, %d visitors signed in and travelling, %d "
            "appointments (%d page links)" % (time.monotonic() - t0, len(addresses),
                                              len(signed), before, len(tokens)))
        churn = args.churn or args.soak > 0
        wenv = {"OTD_TOKEN": token, "OTD_AT": T_RUN, "OTD_RUN": "run%d" % os.getpid(),
                "OTD_CHURN": "1" if churn else "0"}
        conns = {"slots": 4, "bookings": 4, "events": 8, "pages": 6}
        samples = []
        procs = {}
        streams = StreamClients(srv.port, token, int(rates["streams"]))
        streams.start()
        start = time.monotonic()
        for kind in KINDS:
            if rates[kind] <= 0:
                continue  # --rates KIND=0 leaves a kind out (diagnosis)
            procs[kind] = run_wrk(kind, srv.port, conns[kind], rates[kind], args.seconds, wenv,
                                  data)
        next_sample = 0.0
        while any(p.poll() is None for p in procs.values()):
            if srv.proc.poll() is not None:
                raise SystemExit("the server died under load (exit %s): see %s/serve.log"
                                 % (srv.proc.returncode, work))
            if time.monotonic() - start >= next_sample:
                samples.append((time.monotonic() - start, *srv.sample()))
                next_sample += 5.0
            time.sleep(0.2)
        elapsed = time.monotonic() - start
        samples.append((elapsed, *srv.sample()))
        streams.finish()
        results = {}
        for kind, p in procs.items():
            p.out.close()
            with open(p.path) as f:
                text = f.read()
            m = re.search(r"^@@result (\{.*\})$", text, re.M)
            if not m:
                raise SystemExit("wrk for %s printed no result:\n%s" % (kind, text))
            results[kind] = json.loads(m.group(1))
        results["streams"] = streams.result(elapsed)
        st, metrics_text, r = c.request("GET", "/metrics",
                                        headers={"Authorization": "Bearer " + token})
    finally:
        code = srv.stop()
    failures = []
    if code != 0:
        failures.append("the server exited with %s after SIGTERM" % code)
    db = sqlite3.connect("file:%s?mode=ro" % srv.db, uri=True)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    after = db.execute("SELECT count(*) FROM appointments").fetchone()[0]
    db.close()
    if integrity != "ok":
        failures.append("integrity check: %s" % integrity)
    confirmed = results.get("bookings", {"extra": {}})["extra"].get("confirmed", 0)
    cancelled = results.get("bookings", {"extra": {}})["extra"].get("cancelled", 0)
    if after - before != confirmed:
        failures.append("%d bookings confirmed to the client, %d new appointments stored"
                        % (confirmed, after - before))

    log("\n%d s of mixed load on %d cores (%s)" % (round(elapsed), os.cpu_count(), binary))
    log("%-9s %6s %9s %8s %8s %8s %6s %6s %6s %8s %8s" % (
        "kind", "asked", "answered", "per s", "p50 ms", "p99 ms", "409", "429", "503",
        "other5xx", "sock/to"))
    for kind in KINDS:
        if kind not in results:
            continue
        r = results[kind]
        s = r["status"]
        bad5 = sum(v for k, v in s.items() if k.startswith("5") and k != "503")
        sock = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
        log("%-9s %6g %9d %8.1f %8.2f %8.2f %6d %6d %6d %8d %8d" % (
            kind, rates[kind], r["requests"], r["requests"] / r["seconds"], r["p50_ms"],
            r["p99_ms"], s.get("409", 0), s.get("429", 0), s.get("503", 0), bad5, sock))
        if bad5 or sock:
            failures.append("%s: %d 5xx other than 503, %d socket errors or time-outs"
                            % (kind, bad5, sock))
        ok = sum(v for k, v in s.items() if k.startswith("2"))
        if ok == 0:
            failures.append("%s: no successful answer (%s)" % (kind, s))
    s = results["streams"]
    log("%-9s %6g %9d %8.1f %8.2f %8.2f   (connects; %d events, %.1f/s; status %s; errors %d)"
        % ("streams", rates["streams"], s["connects"], s["connects"] / elapsed, s["p50_ms"],
           s["p99_ms"], s["events"], s["events_per_s"], s["status"], s["errors"]))
    if s["errors"] or set(s["status"]) - {"200"} or s["connects"] < int(rates["streams"]):
        failures.append("streams: %s" % json.dumps(s))
    b = results.get("bookings", {"extra": {}})["extra"]
    log("bookings: %d held, %d confirmed (%.1f/s), all %d stored; %d cancelled by the customer"
        % (b.get("held", 0), confirmed, confirmed / elapsed, after - before, cancelled))

    rss0 = samples[0][1]
    log("server: RSS %.1f -> %.1f MiB, open files %d -> %d, WAL %.1f -> %.1f MiB (max %.1f)"
        % (rss0 / 2**20, samples[-1][1] / 2**20, samples[0][2], samples[-1][2],
           samples[0][3] / 2**20, samples[-1][3] / 2**20, max(x[3] for x in samples) / 2**20))
    soak = None
    if args.soak:
        warm = [x for x in samples if x[0] >= args.soak - 2.5]
        if len(warm) < 2:
            failures.append("--soak %d: the run is too short to check" % args.soak)
        else:
            per = args.per or (warm[-1][0] - warm[0][0] + 1)
            worst = 0
            for i, x in enumerate(warm):
                for y in warm[i + 1:]:
                    if y[0] - x[0] <= per + 2.5:
                        worst = max(worst, y[1] - x[1])
            fd_growth = max(x[2] for x in warm) - warm[0][2]
            wal_max = max(x[3] for x in samples)
            soak = {"warmup_s": args.soak, "window_s": per, "rss_at_warmup": warm[0][1],
                    "rss_end": warm[-1][1], "worst_growth_bytes": worst,
                    "fd_growth": fd_growth, "wal_max_bytes": wal_max}
            log("soak: after %d s, RSS %d -> %d bytes; the worst growth within %d s: %d bytes "
                "(%.2f MiB; limit 1 MiB); open files +%d; WAL at most %.1f MiB"
                % (args.soak, warm[0][1], warm[-1][1], per, worst, worst / 2**20, fd_growth,
                   wal_max / 2**20))
            if worst >= 2**20:
                failures.append("RSS grew %d bytes within %d s after the warm-up" % (worst, per))
            if fd_growth > 8:
                failures.append("open files grew by %d after the warm-up" % fd_growth)
            if wal_max > WAL_BOUND:
                failures.append("the WAL reached %d bytes" % wal_max)
    with open(os.path.join(work, "samples.tsv"), "w") as f:
        f.write("seconds\trss_bytes\topen_files\twal_bytes\n")
        for x in samples:
            f.write("%.1f\t%d\t%d\t%d\n" % x)
    log("integrity check: %s" % integrity)
    summary = {"bench": "mixed_load", "seconds": round(elapsed, 1), "rates": rates,
               "results": results, "soak": soak, "integrity": integrity,
               "failures": failures}
    log("@@summary " + json.dumps(summary, sort_keys=True))
    if failures:
        log("FAILED:\n  " + "\n  ".join(failures) + "\n(folder kept: %s)" % work)
        return 1
    if not args.keep and not args.work:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
