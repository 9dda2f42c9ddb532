#!/usr/bin/env python3
"""Benchmark: the dispatcher's board (/dispatch) with 200 visitors and 1,600
appointments on one day, in headless Chromium (issue 8).

    python3 tests/bench/board.py [--bin build/release/onthedot] [--runs 5]
                                 [--seconds 10] [--rate 20]

It makes its own data: a fresh database in a temporary folder, the gazetteer
(one address per visit, clustered round each visitor's base), the visitors with
their shifts and the visit type imported with `onthedot import`, and the
customers and appointments written straight into the tables the app reads
(schema/001_init.sql; as tests/integration/otd.py insert_appointment does), all
before the server starts. Then `onthedot serve` runs with a virtual clock at
07:30 on that day, a dispatcher signs in over the API, and
tests/bench/board-bench.js (playwright-core from the npm scratch install that
tests/integration/journeys.py makes) measures in Chromium:

  (a) load: from navigation start to the performance mark 'board-data-ready'
      (the page's first snapshot drawn and laid out), --runs fresh page loads
      (new browser context each, so nothing is cached): median and max.
      Goal: under 1 s.
  (b) live: while the server publishes about --rate stream events per second
      for --seconds (real changes: visitors' "late" taps through the API from
      a thread here, paced by counting what the dispatch stream sends), the
      longest task (PerformanceObserver 'longtask') and the longest frame
      (requestAnimationFrame deltas) on the page. Goal: under 50 ms.

Prints a table and one JSON line. Exits 1 when a goal is missed (--no-goals:
0 anyway), 2 when the run itself failed.
"""

import argparse
import http.client
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))

DATE = "2026-03-10"  # a Tuesday in GMT (UTC+0), so local = UTC below
START = DATE + "T07:30:00Z"
CENTRE = (52.2050, -1.5480)
PASSWORD = "correct-horse-battery"
REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
VISITS_PER_VISITOR_MAX = 16


def moved(place, north_m, east_m):
    lat = place[0] + north_m / 111_320.0
    lon = place[1] + east_m / (111_320.0 * math.cos(math.radians(place[0])))
    return (round(lat, 6), round(lon, 6))


def day_secs(hhmm):
    h, m = map(int, hhmm.split(":"))
    import calendar
    y, mo, d = map(int, DATE.split("-"))
    return calendar.timegm((y, mo, d, h, m, 0))


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.abspath(args.bin)
        self.dir = tempfile.mkdtemp(prefix="otd-board-bench-")
        self.db = os.path.join(self.dir, "onthedot.db")
        self.proc = None
        self.port = None
        self.rng = random.Random(args.seed)

    # -- processes --

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONTHEDOT_")}
        env.update({"TZ": "UTC", "ONTHEDOT_LIMITS_LOGIN_IP_BURST": "100000",
                    "ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE": "100000",
                    "ONTHEDOT_LIMITS_LOGIN_ACCOUNT_BURST": "100000",
                    "ONTHEDOT_LIMITS_LOGIN_ACCOUNT_PER_MINUTE": "100000",
                    "ONTHEDOT_HTTP_PER_IP_CONNECTIONS": "1000",
                    # every page load opens a stream as the same dispatcher
                    "ONTHEDOT_STREAMS_MAX_PER_PRINCIPAL": "100"})
        return env

    def cli(self, *args, stdin=None):
        p = subprocess.run([self.bin] + list(args), input=stdin, capture_output=True, text=True,
                           env=self.env(), cwd=self.dir, timeout=600)
        if p.returncode != 0:
            raise RuntimeError("onthedot %s exited %d:\n%s%s" % (" ".join(args), p.returncode,
                                                                p.stdout, p.stderr))
        return p.stdout

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    # -- the data --

    def prepare(self):
        a = self.args
        t0 = time.monotonic()
        self.cli("migrate", "--db", self.db)
        self.token = self.cli("token", "create", "--db", self.db, "--name", "bench").strip()
        self.cli("user", "add", "--db", self.db, "--role", "dispatcher", "--login", "disp",
                 "--name", "Bench Dispatcher", "--password-stdin", stdin=PASSWORD + "\n")
        per = [a.appointments // a.visitors + (1 if i < a.appointments % a.visitors else 0)
               for i in range(a.visitors)]
        if max(per) > VISITS_PER_VISITOR_MAX:
            raise RuntimeError("at most %d visits per visitor" % VISITS_PER_VISITOR_MAX)
        bases, places = [], []
        gaz = ["uprn,line1,line2,town,postcode,latitude,longitude"]
        vis = ["email,name,role_title,base_lat,base_lon,phone,skills,shift_start,shift_minutes,"
               "shift_rrule"]
        n = 0
        for i in range(a.visitors):
            r = 9000 * math.sqrt(self.rng.random())
            th = self.rng.random() * 2 * math.pi
            base = moved(CENTRE, r * math.cos(th), r * math.sin(th))
            bases.append(base)
            vis.append("v%d@bench.example,Visitor %03d %s,engineer,%.6f,%.6f,01632 96%04d,gas,"
                       "2026-03-02T08:00,540,\"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\""
                       % (i, i, ["Shah", "Brennan", "Nowak", "Adeyemi", "O'Brien"][i % 5],
                          base[0], base[1], i % 10000))
            mine = []
            for k in range(per[i]):
                n += 1
                p = moved(base, self.rng.uniform(-1500, 1500), self.rng.uniform(-1500, 1500))
                mine.append(p)
                gaz.append("2009%08d,%d Bench Road %d,,Wrenfield,ZZ%d %dAB,%.6f,%.6f"
                           % (n, k + 1, i, 1 + i % 9, k % 10, p[0], p[1]))
            places.append(mine)
        self.cli("import", "gazetteer", self.write("gazetteer.csv", "\n".join(gaz) + "\n"),
                 "--db", self.db)
        self.cli("import", "visitors", self.write("visitors.csv", "\n".join(vis) + "\n"),
                 "--db", self.db)
        self.cli("import", "visit-types", self.write(
            "types.csv", "code,name,skill,duration_median_minutes,window_minutes,duration_spread\n"
            "boiler-service,Boiler service,gas,30,60,0.3\n"), "--db", self.db)
        self.insert_appointments(per)
        # Visitors who tap "late" during (b): a login each.
        self.visitor_ids = self.sql_rows("SELECT id FROM visitors ORDER BY id")[:a.tappers]
        for vid in self.visitor_ids:
            self.cli("user", "add", "--db", self.db, "--role", "visitor", "--login", "v%d" % vid,
                     "--name", "Visitor %d" % vid, "--visitor", str(vid), "--password-stdin",
                     stdin=PASSWORD + "\n")
        self.prepare_s = time.monotonic() - t0

    def sql_rows(self, q, args=()):
        import sqlite3
        db = sqlite3.connect(self.db)
        try:
            return [r[0] if len(r) == 1 else r for r in db.execute(q, args).fetchall()]
        finally:
            db.close()

    def insert_appointments(self, per):
        import sqlite3
        db = sqlite3.connect(self.db)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            vt = db.execute("SELECT id FROM visit_types WHERE code = 'boiler-service'").fetchone()[0]
            visitors = [r[0] for r in db.execute("SELECT id FROM visitors ORDER BY id")]
            addresses = [r[0] for r in db.execute("SELECT id FROM addresses ORDER BY id")]
            now = day_secs("07:00") - 7 * 86400
            refs = set()
            ai = 0
            for i, vid in enumerate(visitors):
                for k in range(per[i]):
                    while True:
                        ref = "OTD-" + "".join(self.rng.choice(REF_ALPHABET) for _ in range(6))
                        if ref not in refs:
                            refs.add(ref)
                            break
                    cur = db.execute(
                        "INSERT INTO customers(name, phone, email, created_at) VALUES (?, ?, ?, ?)",
                        ("Customer %d-%d" % (i, k), "+4477009%05d" % (ai % 100000),
                         "c%d@bench.example" % ai, now))
                    start = day_secs("09:00") + k * 3600 if per[i] <= 8 else \
                        day_secs("08:30") + k * 1800
                    db.execute(
                        "INSERT INTO appointments(reference, customer_id, address_id, "
                        "visit_type_id, visitor_id, local_date, window_start, window_end, status, "
                        "route_position, consent_sms, consent_email, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?, 1, 1, ?, ?)",
                        (ref, cur.lastrowid, addresses[ai], vt, vid, DATE, start, start + 3600,
                         (k + 1) * 1024, now, now))
                    ai += 1
            db.commit()
        finally:
            db.close()

    # -- the server --

    def start(self):
        port_file = os.path.join(self.dir, "port")
        self.stderr = open(os.path.join(self.dir, "serve.stderr"), "wb")
        self.proc = subprocess.Popen([self.bin, "serve", "--db", self.db, "--listen",
                                      "127.0.0.1:0", "--port-file", port_file,
                                      "--virtual-clock", "--virtual-start", START],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr, env=self.env(), cwd=self.dir)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                text = open(port_file).read().strip()
                if text:
                    self.port = int(text)
                    return
            if self.proc.poll() is not None:
                raise RuntimeError("onthedot serve exited %d" % self.proc.returncode)
            time.sleep(0.02)
        raise RuntimeError("onthedot serve wrote no port file")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "stderr", None):
            self.stderr.close()

    def request(self, method, path, body=None, headers=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            h = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                h["Content-Type"] = "application/json"
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            raw = r.read()
            return r.status, r.getheader("Set-Cookie"), raw
        finally:
            c.close()

    def login(self, login):
        st, cookie, raw = self.request("POST", "/api/v1/auth/login",
                                       {"login": login, "password": PASSWORD})
        if st != 200:
            raise RuntimeError("login %s: %s %s" % (login, st, raw[:200]))
        return cookie.split(";", 1)[0].split("=", 1)[1], json.loads(raw)["csrf_token"]

    def warm_up(self):
        """Projects every route once (a ticker pass) and checks the board."""
        st, _, raw = self.request("POST", "/api/v1/admin/clock", {"seconds": 60},
                                  headers={"Authorization": "Bearer " + self.token})
        if st != 200:
            raise RuntimeError("clock: %s %s" % (st, raw[:200]))
        self.now = json.loads(raw)["now"]
        t0 = time.monotonic()
        st, _, raw = self.request("GET", "/api/v1/dispatch/board?date=" + DATE,
                                  headers={"Authorization": "Bearer " + self.token})
        self.board_api_ms = (time.monotonic() - t0) * 1000
        if st != 200:
            raise RuntimeError("board: %s %s" % (st, raw[:300]))
        b = json.loads(raw)
        self.board_bytes = len(raw)
        self.board_visitors = len(b["visitors"])
        self.board_stops = sum(len(v["stops"]) for v in b["visitors"])


class Driver(threading.Thread):
    """Keeps the dispatch stream near rate events per second with visitors'
    "late" taps: it counts the stream's events itself (an SSE connection with
    the admin token) and taps again whenever the last second fell short."""

    def __init__(self, bench, rate):
        super().__init__(daemon=True)
        self.b = bench
        self.rate = rate
        self.stop_flag = threading.Event()
        self.go = threading.Event()
        self.events = 0
        self.events_during = 0
        self.taps = 0
        self.errors = []
        self.sessions = {vid: bench.login("v%d" % vid) for vid in bench.visitor_ids}
        self.seq = 0
        self.lock = threading.Lock()
        self.sse = threading.Thread(target=self.listen, daemon=True)
        self.sse.start()

    def listen(self):
        c = http.client.HTTPConnection("127.0.0.1", self.b.port, timeout=3600)
        c.request("GET", "/api/v1/dispatch/stream",
                  headers={"Authorization": "Bearer " + self.b.token,
                           "Accept": "text/event-stream"})
        r = c.getresponse()
        while not self.stop_flag.is_set():
            line = r.fp.readline()
            if not line:
                break
            if line.startswith(b"event:"):
                with self.lock:
                    self.events += 1
                    if self.go.is_set():
                        self.events_during += 1

    def tap(self, vid):
        cookie, csrf = self.sessions[vid]
        self.seq += 1
        body = {"client_event_id": "bench%d" % self.seq, "type": "late", "minutes": 1 + self.seq % 3,
                "at": self.b.now}
        st, _, raw = self.b.request("POST", "/api/v1/visitor/events", body,
                                    headers={"Cookie": "otd_session=" + cookie,
                                             "X-CSRF-Token": csrf})
        if st != 200 and len(self.errors) < 5:
            self.errors.append("%s %s" % (st, raw[:200]))
        self.taps += 1

    def run(self):
        ids = list(self.sessions)
        i = 0
        self.go.wait()
        t0 = time.monotonic()
        while not self.stop_flag.is_set():
            elapsed = time.monotonic() - t0
            with self.lock:
                have = self.events_during
            if have < self.rate * elapsed:
                self.tap(ids[i % len(ids)])
                i += 1
                # its events reach the stream a moment later: wait for them
                # (or 250 ms) before deciding on the next tap
                until = time.monotonic() + 0.25
                while time.monotonic() < until and not self.stop_flag.is_set():
                    with self.lock:
                        if self.events_during > have:
                            break
                    time.sleep(0.005)
            else:
                time.sleep(0.01)


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = min(len(xs) - 1, max(0, int(math.ceil(p / 100.0 * len(xs))) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(SOURCE, "build", "release", "onthedot"))
    ap.add_argument("--visitors", type=int, default=200)
    ap.add_argument("--appointments", type=int, default=1600)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=20.0, help="stream events per second in (b)")
    ap.add_argument("--tappers", type=int, default=40, help="visitors who tap late in (b)")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM") or "/usr/bin/chromium")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--no-goals", action="store_true", help="exit 0 even when a goal is missed")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        print("no binary at %s (build it: cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release "
              "&& cmake --build build/release)" % args.bin, file=sys.stderr)
        return 2
    os.environ.setdefault("OTD_TEST_TMP", os.path.join(tempfile.gettempdir(), "otd-bench-tmp"))
    import journeys  # tests/integration: the pinned playwright-core and axe-core
    modules = journeys.npm_install()
    node = journeys.require("node", "nodejs")

    b = Bench(args)
    driver = None
    try:
        b.prepare()
        b.start()
        b.warm_up()
        cookie, _ = b.login("disp")
        driver = Driver(b, args.rate)
        driver.start()
        env = dict(os.environ, NODE_PATH=modules, CHROMIUM=args.chromium)
        p = subprocess.Popen([node, os.path.join(HERE, "board-bench.js"),
                              "http://127.0.0.1:%d" % b.port, cookie, str(args.runs),
                              str(args.seconds)], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1,
                             start_new_session=True)
        result = None
        for line in p.stdout:
            line = line.rstrip("\n")
            if line == "@@events":
                driver.go.set()
                p.stdin.write("go\n")
                p.stdin.flush()
            elif line.startswith("@@result "):
                result = json.loads(line[len("@@result "):])
                driver.stop_flag.set()
            else:
                print(line, file=sys.stderr)
        p.wait(60)
        driver.stop_flag.set()
        if p.returncode != 0 or not result:
            print("board-bench.js failed (exit %s)" % p.returncode, file=sys.stderr)
            return 2
    finally:
        if driver:
            driver.stop_flag.set()
        b.stop()
        if args.keep:
            print("kept %s" % b.dir, file=sys.stderr)
        else:
            shutil.rmtree(b.dir, ignore_errors=True)

    load = result["load_ms"]
    live = result["live"]
    out = {
        "bench": "board", "visitors": b.board_visitors, "appointments": b.board_stops,
        "board_json_bytes": b.board_bytes, "board_api_ms": round(b.board_api_ms, 1),
        "prepare_s": round(b.prepare_s, 1),
        "load_ms_median": round(statistics.median(load), 1), "load_ms_max": round(max(load), 1),
        "load_ms": [round(x, 1) for x in load],
        "live_seconds": live["seconds"], "events_received": live["events"],
        "events_per_second": round(live["events"] / live["seconds"], 1),
        "taps": driver.taps, "tap_errors": driver.errors,
        "board_refetches": live["refetches"],
        "longtask_max_ms": round(live["longtask_max"], 1), "longtasks": live["longtasks"],
        "frame_max_ms": round(live["frame_max"], 1),
        "frame_p99_ms": round(percentile(live["frames"], 99), 1),
        "frames_over_50ms": sum(1 for f in live["frames"] if f > 50),
        "frames": len(live["frames"]),
        "idle_frame_max_ms": round(result["idle"]["frame_max"], 1),
        "idle_frames_over_50ms": result["idle"]["over50"], "idle_frames": result["idle"]["frames"],
        "idle_longtask_max_ms": round(result["idle"]["longtask_max"], 1),
    }
    out["loadavg_1min"] = round(os.getloadavg()[0], 2)  # the machine: others' work skews it
    goals = out["load_ms_median"] < 1000 and out["load_ms_max"] < 1000 and \
        out["longtask_max_ms"] < 50 and out["frame_max_ms"] < 50
    out["goals_met"] = goals
    rows = [
        ("board", "%d visitors, %d appointments, %d bytes of JSON (API alone %.0f ms)"
         % (out["visitors"], out["appointments"], out["board_json_bytes"], out["board_api_ms"])),
        ("machine", "%d CPUs, load average %.2f (1 min) at the end" % (os.cpu_count(),
                                                                     out["loadavg_1min"])),
        ("(a) load to 'board-data-ready'", "median %.0f ms, max %.0f ms over %d runs (goal < 1000)"
         % (out["load_ms_median"], out["load_ms_max"], len(load))),
        ("    each run", ", ".join("%.0f" % x for x in load)),
        ("(b) stream", "%d events in %.0f s = %.1f/s from %d late taps; %d board refetches"
         % (out["events_received"], out["live_seconds"], out["events_per_second"], out["taps"],
            out["board_refetches"])),
        ("    longest task", "%.0f ms (%d long tasks) (goal < 50)" % (out["longtask_max_ms"],
                                                                  out["longtasks"])),
        ("    longest frame", "%.0f ms, p99 %.0f ms, %d of %d frames over 50 ms (goal < 50)"
         % (out["frame_max_ms"], out["frame_p99_ms"], out["frames_over_50ms"], out["frames"])),
        ("    same page idle first", "longest frame %.0f ms, %d of %d frames over 50 ms, longest "
         "task %.0f ms" % (out["idle_frame_max_ms"], out["idle_frames_over_50ms"],
                           out["idle_frames"], out["idle_longtask_max_ms"])),
    ]
    w = max(len(r[0]) for r in rows)
    for k, v in rows:
        print("%-*s  %s" % (w, k, v))
    print(json.dumps(out))
    if driver.errors:
        print("tap errors: %s" % driver.errors, file=sys.stderr)
    return 0 if goals or args.no_goals else 1


if __name__ == "__main__":
    sys.exit(main())
