"""`onthedot simulate`, the real binary on a tiny scenario written here (four
visitors, thirty requests, a rough day: visits longer than planned, overruns,
late and forgotten taps, one visitor off sick), one policy and width a run
except where all eight runs are the point:

  - determinism: the same seed gives a byte-identical report.json (also from
    another temporary folder), another seed another report; report.json holds
    no wall-clock figure and no path, timings.json holds the timings; the
    throw-away database folder is gone after the run;
  - the accounting, checked in the database kept with --keep-db, apart from
    the engine's own "accounting" block: every appointment of the day ends
    cancelled, arrived (by its taps) within its window, or with a
    window_missed guarantee case, and a missed window has one case; for the
    onthedot policy every promise version that went at_risk has exactly one
    apology (one event key, one row per channel, one apology event), none
    without, at most two updates, each telling an arrival 15 minutes or more
    away from what the customer was last told; for the baseline no apology,
    update or back-on-time message at all; the report's own figures add up
    and its accounting counters are 0; with a day of history played first,
    both days are held to the same accounting and the figures are the
    simulated day's only;
  - the report files of all eight runs: report.json with both policies and
    widths 30/60/120/240, the baseline without apologies; report.html one
    page of SVG charts without script; report.md a row per run;
  - bad input refused with exit status 2 (usage) or 1 (a file or value) and
    a message naming the problem.

The engine judges kept and broken by the simulated truth (when the visitor
really reached the door); the database holds only the taps, which come late
or are forgotten. So the database check is "no arrival tapped by the window
end => a guarantee case", not equality with the report's broken count.
"""

import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

import otd

# A tiny scenario: fast under ASan, and rough enough that promises go at risk
# and break (the tests assert they do, so the checks below cannot pass empty).
TINY = {
    "name": "Tiny test town",
    "description": "Four visitors, thirty requests, a rough day (tests/integration).",
    "timezone": "Europe/London",
    "first_day": "2026-03-03",
    "booking_days": 2,
    "history_days": 0,
    "area": {"centre_lat": 52.62, "centre_lon": -1.08, "radius_km": 5, "addresses": 200,
             "town": "Testford", "postcode_area": "ZZ"},
    "visitors": [{"count": 4, "role_title": "Inspector", "skills": ["inspect"],
                  "shift_start": "08:30", "shift_minutes": 480, "days": "MO,TU,WE,TH,FR"}],
    "visit_types": [{"code": "inspection", "name": "Inspection", "skill": "inspect",
                     "duration_median_minutes": 50, "duration_spread": 0.3, "share": 1}],
    "planning": {"speed_kmh": 30, "road_factor": 1.3, "break_start": "12:00",
                 "break_end": "14:00", "break_minutes": 30, "rule_set": "custom"},
    "demand": {"requests_per_day": 30, "cancel_share": 0.1, "reschedule_share": 0.1,
               "sms_consent_share": 0.5, "email_consent_share": 0.8,
               "accept_offer_share": 0.5},
    "reality": {"duration_factor": 1.3, "duration_spread": 0.4, "overrun_share": 0.15,
                "overrun_minutes": [30, 90], "travel_factor": 1.2, "travel_spread": 0.3,
                "late_tap_share": 0.2, "late_tap_max_minutes": 15,
                "forgotten_tap_share": 0.1, "sick_visitors": 1, "sick_from": "11:00"},
    "tick_minutes": 5,
}
SIMULATED_DAY = TINY["first_day"]  # one day: --days is left at 1
HISTORY_DAY = "2026-03-02"  # the working day before it, played first with history_days 1
SEED = 1
UPDATE_MOVE_S = 15 * 60
UPDATES_MAX = 2
TIMING_KEYS = re.compile(r"(_s|_ms|seconds|elapsed|wall.?clock)$")
SANITIZER = re.compile(r"Sanitizer|runtime error:")

_dir = None
_runs = {}  # (args) -> Run: each simulation runs once however many tests read it


def setUpModule():
    global _dir
    os.makedirs(otd.TEST_TMP, exist_ok=True)
    _dir = tempfile.mkdtemp(prefix="simulate-", dir=otd.TEST_TMP)
    with open(os.path.join(_dir, "tiny.json"), "w") as f:
        json.dump(TINY, f, indent=1)
    # The same with a day of history played first (as the real scenarios
    # do): left out of the figures, held to the same accounting.
    with open(os.path.join(_dir, "tiny-history.json"), "w") as f:
        json.dump(dict(TINY, history_days=1), f, indent=1)


def tearDownModule():
    if not os.environ.get("OTD_KEEP"):
        shutil.rmtree(_dir, True)


def scenario_path(name="tiny.json"):
    return os.path.join(_dir, name)


def simulate(*args, tmpdir=None):
    """Runs `onthedot simulate args`; TMPDIR (where the run's throw-away
    database folder goes) is tmpdir, by default a fresh folder of its own."""
    env = dict(os.environ)
    if tmpdir is None:
        tmpdir = tempfile.mkdtemp(prefix="tmp-", dir=_dir)
    env["TMPDIR"] = tmpdir
    r = subprocess.run([otd.BIN, "simulate"] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=300, env=env)
    r.tmpdir = tmpdir
    return r


class Run:
    """One finished simulation with --report (and --keep-db for a single run)."""

    def __init__(self, tc, seed, policy=None, width=None, keep_db=True, tmpdir=None,
                 scenario="tiny.json"):
        n = len(os.listdir(_dir))
        self.report_dir = os.path.join(_dir, "report-%d" % n)
        args = ["--scenario", scenario_path(scenario), "--seed", seed, "--report",
                self.report_dir]
        if policy:
            args += ["--policy", policy, "--width", width]
        self.db = None
        if keep_db and policy:
            self.db = os.path.join(_dir, "kept-%d.sqlite" % n)
            args += ["--keep-db", self.db]
        r = simulate(*args, tmpdir=tmpdir)
        tc.assertEqual(r.returncode, 0, r.stderr)
        tc.assertIsNone(SANITIZER.search(r.stderr), r.stderr)
        self.stderr = r.stderr
        self.tmpdir = r.tmpdir
        with open(os.path.join(self.report_dir, "report.json"), "rb") as f:
            self.json_bytes = f.read()
        self.report = json.loads(self.json_bytes)

    def file(self, name):
        with open(os.path.join(self.report_dir, name), encoding="utf-8") as f:
            return f.read()


def run_once(tc, seed, policy=None, width=None, scenario="tiny.json"):
    key = (seed, policy, width, scenario)
    if key not in _runs:
        _runs[key] = Run(tc, seed, policy, width, scenario=scenario)
    return _runs[key]


# ---- the report's own arithmetic ---------------------------------------------------

class ReportChecks:

    def assert_ratio(self, got, num, den, label):
        """report.json's reals have 6 significant digits."""
        self.assertIsNotNone(got, label)
        self.assertLessEqual(abs(got - num / den), 1e-5 * max(1.0, abs(num / den)),
                             "%s: %s != %d / %d" % (label, got, num, den))

    def assert_run_adds_up(self, run):
        label = "%s %s" % (run["policy"], run["width_minutes"])
        o = run["outcomes"]
        self.assertEqual(o["kept"] + o["broken"] + o["cancelled"] + o["moved"],
                         run["appointments"], label)
        self.assertEqual(run["booked"] + run["turned_away"], run["requests"], label)
        self.assertEqual(run["appointments"], run["booked"], label)
        if o["kept"] + o["broken"]:
            self.assert_ratio(run["kept_rate"], o["kept"], o["kept"] + o["broken"], label)
        else:
            self.assertIsNone(run["kept_rate"], label)
        if run["apologies"]:
            self.assert_ratio(run["false_alarm_share"], run["false_alarms"], run["apologies"],
                              label)
        else:
            self.assertIsNone(run["false_alarm_share"], label)
        self.assertLessEqual(run["broken_warned"], o["broken"], label)
        if o["broken"]:
            self.assert_ratio(run["warned_share"], run["broken_warned"], o["broken"], label)
        else:
            self.assertIsNone(run["warned_share"], label)
        hist = run["lead_minutes"]["histogram"]
        self.assertEqual([(b["from"], b["to"]) for b in hist],
                         [(0, 15), (15, 30), (30, 60), (60, 120), (120, 240), (240, None)])
        self.assertEqual(sum(b["count"] for b in hist), run["broken_warned"], label)
        self.assertLessEqual(run["held_windows"]["taken"], run["held_windows"]["offered"],
                             label)
        self.assertEqual(run["held_windows"]["taken"], o["moved"],
                         "%s: held windows taken != appointments moved" % label)
        self.assertEqual(run["accounting"], {"unaccounted": 0, "broken_without_case": 0,
                                             "at_risk_without_one_apology": 0,
                                             "too_many_updates": 0,
                                             "update_after_small_move": 0}, label)
        # The timeline: minutes of the simulated day, stops with an outcome.
        tl = run["timeline"]
        self.assertEqual(tl["date"], SIMULATED_DAY)
        self.assertLessEqual(len(tl["visitors"]), 12)
        for v in tl["visitors"]:
            for s in v["stops"]:
                self.assertIn(s["outcome"], ("kept", "broken", "moved"), s)
                self.assertLess(s["window"][0], s["window"][1], s)


def json_differences(a, b, path="report", out=None):
    """Where two JSON values differ (the first 10 paths, with both values)."""
    out = [] if out is None else out
    if len(out) >= 10:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            json_differences(a.get(k), b.get(k), "%s.%s" % (path, k), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            json_differences(x, y, "%s[%d]" % (path, i), out)
    elif a != b:
        out.append("%s: %r != %r" % (path, a, b))
    return out


# ---- the database kept with --keep-db ------------------------------------------------

def event_key_parts(key):
    m = re.fullmatch(r"appt:(\d+):v(\d+):([a-z_]+?)(\d*)", key)
    return (int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)) if m else None


class Database:
    """What a run left in its database, read with the sqlite3 module."""

    def __init__(self, path):
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        db.row_factory = sqlite3.Row
        self.appointments = {r["id"]: r for r in db.execute("SELECT * FROM appointments")}
        self.cases = db.execute(
            "SELECT appointment_id, promise_version, reason, breached_at FROM guarantee_cases "
            "ORDER BY id").fetchall()
        # Every appointment event in order, with the promise version in force
        # when it was written (the events that change it carry it).
        self.events = {}
        version = {}
        for r in db.execute("SELECT appointment_id, id, kind, received_at, detail "
                            "FROM appointment_events ORDER BY id"):
            d = json.loads(r["detail"])
            a = r["appointment_id"]
            if isinstance(d, dict) and "promise_version" in d:
                version[a] = d["promise_version"]
            self.events.setdefault(a, []).append(
                (r["kind"], r["received_at"], d, version.get(a, 1)))
        # Outbox rows grouped by event key: one message however many
        # channels. Every channel records in a simulation; the idempotency
        # key ends with the channel meant ("appt:7:v1:apology:sms").
        self.messages = {}
        for r in db.execute("SELECT event_key, idem_key, appointment_id, created_at "
                            "FROM outbox WHERE event_key IS NOT NULL ORDER BY id"):
            m = self.messages.setdefault(r["event_key"], {"appointment_id": r["appointment_id"],
                                                          "channels": [], "created": set()})
            prefix = r["event_key"] + ":"
            m["channels"].append(r["idem_key"][len(prefix):]
                                 if r["idem_key"].startswith(prefix) else r["idem_key"])
            m["created"].add(r["created_at"])
        db.close()

    def keys(self, event):
        """(appointment, version, n) of every message key of that event."""
        out = []
        for k in self.messages:
            p = event_key_parts(k)
            if p and p[2] == event:
                out.append((p[0], p[1], p[3]))
        return out


class DatabaseChecks:

    def assert_every_appointment_accounted(self, db, days=(SIMULATED_DAY,)):
        """Every appointment of the days played ends cancelled, arrived
        (tapped) within its window, or with its window_missed case; one
        case a missed window. Returns the number with a case."""
        cases = {}
        for c in db.cases:
            if c["reason"] == "window_missed":
                cases.setdefault(c["appointment_id"], []).append(c)
        with_case = 0
        day = [a for a in db.appointments.values() if a["local_date"] in days]
        self.assertGreater(len(day), 10 * len(days))
        for a in day:
            what = "appointment %d (%s, %s, arrived %s, window %d-%d)" % (
                a["id"], a["reference"], a["status"], a["arrived_at"], a["window_start"],
                a["window_end"])
            if a["status"] == "cancelled":
                continue
            if a["arrived_at"] is not None and a["arrived_at"] <= a["window_end"]:
                self.assertIn(a["status"], ("arrived", "done"), what)
                continue
            self.assertIn(a["id"], cases, "no window_missed case for " + what)
            with_case += 1
        for a, cs in cases.items():
            # One window missed, one case: a case per promise version, but
            # a new version of the same window (a reassignment after the
            # window ended) is not a second missed window.
            windows = [c["breached_at"] for c in cs]
            self.assertEqual(len(windows), len(set(windows)),
                             "appointment %d: %d window_missed cases for one window: %s"
                             % (a, len(windows), [tuple(c) for c in cs]))
        return with_case

    def assert_one_message_per_key(self, db):
        """A message goes once to each channel the customer consented to,
        all its rows written together."""
        for k, m in db.messages.items():
            self.assertIn(m["appointment_id"], db.appointments, k)
            a = db.appointments[m["appointment_id"]]
            allowed = {"sms"} if a["consent_sms"] else set()
            allowed |= {"email"} if a["consent_email"] else set()
            self.assertEqual(len(m["channels"]), len(set(m["channels"])), k)
            self.assertLessEqual(set(m["channels"]), allowed, k)
            self.assertEqual(len(m["created"]), 1, "%s: rows written apart" % k)

    def at_risk_versions(self, db):
        return {(a, d["promise_version"]) for a, evs in db.events.items()
                for kind, _, d, _ in evs if kind == "at_risk"}

    def assert_apologies_and_updates(self, db):
        """onthedot: one apology per promise version at risk, none without;
        at most two updates, each after a move of UPDATE_MOVE_S or more."""
        at_risk = self.at_risk_versions(db)
        apology_keys = {(a, v) for a, v, n in db.keys("apology")}
        self.assertEqual(sorted(apology_keys), sorted(at_risk),
                         "apology message keys != promise versions at risk")
        apology_events = {}
        for a, evs in db.events.items():
            for kind, _, d, v in evs:
                if kind == "apology":
                    apology_events[(a, v)] = apology_events.get((a, v), 0) + 1
        self.assertEqual(apology_events, {k: 1 for k in at_risk}, "apology events")
        updates = {}
        for a, v, n in db.keys("update"):
            self.assertIn(n, [str(k) for k in range(1, UPDATES_MAX + 1)],
                          "appt %d v%d: update%s" % (a, v, n))
            self.assertIn((a, v), at_risk, "an update for a promise never at risk")
            updates.setdefault((a, v), set()).add(int(n))
        for (a, v), ns in updates.items():
            self.assertEqual(ns, set(range(1, len(ns) + 1)), "appt %d v%d updates" % (a, v))
        # Each update moved the arrival by 15 minutes or more from what the
        # customer was last told, in that promise version: the apology, an
        # earlier update, or another message that told a time (on the way,
        # back on time: the service compares with the last one told).
        moves = 0
        for a, evs in db.events.items():
            told = {}
            for kind, at, d, v in evs:
                if kind not in ("apology", "notice"):
                    continue
                early = d.get("expected_early") or 0
                event = d.get("event", "apology")
                if event.startswith("update"):
                    self.assertIn(v, told, "appt %d v%d: %s before any time was told"
                                  % (a, v, event))
                    self.assertGreaterEqual(
                        abs(early - told[v][0]), UPDATE_MOVE_S,
                        "appt %d v%d: %s at %d tells %d, %d s from %d told by %s"
                        % (a, v, event, at, early, early - told[v][0], told[v][0], told[v][1]))
                    moves += 1
                if early:
                    told[v] = (early, event)
        self.assertEqual(moves, sum(len(ns) for ns in updates.values()),
                         "update messages without their notice event, or the reverse")
        return len(at_risk), moves


class SimulateTestCase(unittest.TestCase, ReportChecks, DatabaseChecks):
    pass


# ---- determinism ------------------------------------------------------------------------

class TestDeterminism(SimulateTestCase):

    def test_a_seed_gives_the_same_report_and_another_seed_another(self):
        a = run_once(self, SEED, "onthedot", 60)
        # Another temporary folder: nothing of the path reaches the report.
        b = Run(self, SEED, "onthedot", 60, keep_db=False)
        self.assertNotEqual(a.tmpdir, b.tmpdir)
        self.assertEqual(json_differences(a.report, b.report), [])
        self.assertEqual(a.json_bytes, b.json_bytes)
        c = Run(self, SEED + 1, "onthedot", 60, keep_db=False)
        self.assertNotEqual(a.json_bytes, c.json_bytes)
        self.assertEqual(c.report["scenario"]["seed"], SEED + 1)
        self.assertNotEqual(a.report["runs"][0]["timeline"], c.report["runs"][0]["timeline"])

    def test_no_wall_clock_and_no_path_in_report_json(self):
        a = run_once(self, SEED, "onthedot", 60)
        text = a.json_bytes.decode()
        for needle in ("/tmp", _dir, os.path.basename(_dir), a.tmpdir, a.report_dir,
                       otd.TEST_TMP, "onthedot-sim-", "tiny.json", ".sqlite"):
            self.assertNotIn(needle, text)

        def walk(x, path):
            if isinstance(x, dict):
                for k, v in x.items():
                    self.assertIsNone(TIMING_KEYS.search(k), "%s.%s" % (path, k))
                    walk(v, path + "." + k)
            elif isinstance(x, list):
                for i, v in enumerate(x):
                    walk(v, "%s[%d]" % (path, i))
        walk(a.report, "report")
        self.assertEqual(sorted(a.report), ["definitions", "runs", "scenario"])
        # The timings are beside it.
        with open(os.path.join(a.report_dir, "timings.json")) as f:
            timings = json.load(f)
        self.assertEqual(len(timings["runs"]), 1)
        t = timings["runs"][0]
        self.assertEqual((t["policy"], t["width_minutes"]), ("onthedot", 60))
        self.assertGreater(t["total_s"], 0)

    def test_the_throw_away_database_folder_is_removed(self):
        a = run_once(self, SEED, "onthedot", 60)
        self.assertEqual(os.listdir(a.tmpdir), [])
        # Also when the run fails (here: the kept copy cannot be written).
        r = simulate("--scenario", scenario_path(), "--seed", SEED, "--policy", "baseline",
                     "--width", 240, "--keep-db", os.path.join(_dir, "no", "such", "x.db"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no/such/x.db", r.stderr)
        self.assertEqual(os.listdir(r.tmpdir), [])


# ---- the accounting --------------------------------------------------------------------

class TestAccounting(SimulateTestCase):

    def test_onthedot_every_promise_is_accounted_for_in_the_database(self):
        a = run_once(self, SEED, "onthedot", 60)
        run = a.report["runs"][0]
        db = Database(a.db)
        # Each check on its own, so one failing does not hide the others.
        with self.subTest("every appointment ends cancelled, arrived or with its case"):
            with_case = self.assert_every_appointment_accounted(db)
            self.assertGreater(with_case, 0, "the scenario should break a promise")
        with self.subTest("one row per channel per message"):
            self.assert_one_message_per_key(db)
        with self.subTest("one apology per promise at risk, updates after moves"):
            at_risk, updates = self.assert_apologies_and_updates(db)
            self.assertGreater(at_risk, 0, "the scenario should put a promise at risk")
            self.assertGreater(updates, 0, "the scenario should send an update")
        with self.subTest("the report's figures add up"):
            self.assert_run_adds_up(run)
        with self.subTest("the report agrees with the database"):
            self.assertEqual(run["apologies"], len(db.keys("apology")))
            self.assertEqual(run["at_risk_promises"], len(self.at_risk_versions(db)))
            self.assertEqual(run["updates"], len(db.keys("update")))
            self.assertEqual(run["guarantee_cases"], len(db.cases))
            # Held windows taken: the moves that followed an apology (the
            # customers' own moves come before the day, before any apology).
            self.assertEqual(run["held_windows"]["taken"], self.moves_after_apology(db))
            self.assertEqual(run["appointments"], len(db.appointments))
            self.assertEqual(run["outcomes"]["cancelled"],
                             sum(1 for x in db.appointments.values()
                                 if x["status"] == "cancelled"))

    def moves_after_apology(self, db):
        n = 0
        for evs in db.events.values():
            apologised = False
            for kind, _, _, _ in evs:
                apologised = apologised or kind == "apology"
                n += apologised and kind == "rescheduled"
        return n

    def test_a_history_day_is_held_to_the_accounting_and_left_out_of_the_figures(self):
        a = run_once(self, SEED, "onthedot", 60, scenario="tiny-history.json")
        run = a.report["runs"][0]
        db = Database(a.db)
        played = sorted({x["local_date"] for x in db.appointments.values()
                         if x["local_date"] <= SIMULATED_DAY})
        self.assertEqual(played, [HISTORY_DAY, SIMULATED_DAY])
        with self.subTest("both days: every appointment accounted for"):
            self.assert_every_appointment_accounted(db, played)
        with self.subTest("both days: one row per channel per message"):
            self.assert_one_message_per_key(db)
        with self.subTest("both days: apologies and updates"):
            self.assert_apologies_and_updates(db)
        with self.subTest("the figures are the simulated day's only"):
            self.assertEqual(a.report["scenario"]["history_days"], 1)
            self.assertEqual(run["requests"], TINY["demand"]["requests_per_day"])
            self.assertEqual(run["timeline"]["date"], SIMULATED_DAY)
            self.assert_run_adds_up(run)

    def test_baseline_sends_no_apology_and_still_opens_every_case(self):
        a = run_once(self, SEED, "baseline", 60)
        run = a.report["runs"][0]
        db = Database(a.db)
        with self.subTest("every appointment ends cancelled, arrived or with its case"):
            with_case = self.assert_every_appointment_accounted(db)
            self.assertGreater(with_case, 0, "the scenario should break a promise")
        with self.subTest("one row per channel per message"):
            self.assert_one_message_per_key(db)
        with self.subTest("no apology, update or back on time"):
            for event in ("apology", "update", "back_on_time"):
                self.assertEqual(db.keys(event), [], event)
            self.assertFalse(any(kind == "apology" for evs in db.events.values()
                                 for kind, _, _, _ in evs))
            for k in ("apologies", "updates", "back_on_time", "broken_warned"):
                self.assertEqual(run[k], 0, k)
            self.assertEqual(run["held_windows"], {"offered": 0, "taken": 0})
            self.assertEqual(run["outcomes"]["moved"], 0)
            # Promises still go at risk (the risk pass runs); nobody is told.
            self.assertGreater(len(self.at_risk_versions(db)), 0)
        with self.subTest("the report's figures add up"):
            self.assert_run_adds_up(run)


# ---- the report files, all eight runs --------------------------------------------------

class TestReport(SimulateTestCase):

    def test_all_eight_runs_and_the_pages(self):
        a = run_once(self, SEED + 2)
        runs = a.report["runs"]
        self.assertEqual(len(runs), 8)
        self.assertEqual(sorted((r["policy"], r["width_minutes"]) for r in runs),
                         sorted(itertools.product(("baseline", "onthedot"), (30, 60, 120, 240))))
        for r in runs:
            with self.subTest(policy=r["policy"], width=r["width_minutes"]):
                self.assertEqual(r["requests"], TINY["demand"]["requests_per_day"])
                if r["policy"] == "baseline":
                    self.assertNotIn("apology", r["messages_by_kind"])
                    self.assertNotIn("update", r["messages_by_kind"])
                    self.assertEqual(r["apologies"], 0)
                self.assert_run_adds_up(r)
        self.assertGreater(sum(r["apologies"] for r in runs if r["policy"] == "onthedot"), 0)
        s = a.report["scenario"]
        self.assertEqual((s["name"], s["visitors"], s["first_day"], s["days"], s["seed"]),
                         (TINY["name"], 4, TINY["first_day"], 1, SEED + 2))
        with open(os.path.join(a.report_dir, "timings.json")) as f:
            self.assertEqual(len(json.load(f)["runs"]), 8)

        html = a.file("report.html")
        low = html.lower()
        self.assertTrue(low.lstrip().startswith("<!doctype html>"), html[:80])
        self.assertEqual(low.count("<html"), 1)
        self.assertEqual(low.count("</html>"), 1)
        self.assertTrue(low.rstrip().endswith("</html>"))
        self.assertGreaterEqual(low.count("<svg"), 3)
        self.assertEqual(low.count("<svg"), low.count("</svg>"))
        self.assertNotIn("<script", low)
        self.assertNotIn("javascript:", low)
        self.assertIsNone(re.search(r"<[^>]+\son[a-z]+\s*=", low), "an event handler")
        self.assertIn(TINY["name"], html)

        md = a.file("report.md")
        for r in runs:
            row = re.compile(r"^\| %s \| %d min \|" % (r["policy"], r["width_minutes"]), re.M)
            self.assertEqual(len(row.findall(md.split("## Accounting")[0])), 1,
                             "%s %d: not one summary row" % (r["policy"], r["width_minutes"]))


# ---- bad input ---------------------------------------------------------------------------

class TestBadInput(SimulateTestCase):

    def refused(self, status, want, *args):
        r = simulate(*args)
        self.assertEqual(r.returncode, status, "%s: %s" % (args, r.stderr))
        self.assertIn(want, r.stderr, args)
        self.assertIsNone(SANITIZER.search(r.stderr), r.stderr)
        self.assertEqual(r.stdout, "", args)
        return r

    def test_bad_options_are_refused_with_status_2(self):
        sc = scenario_path()
        self.refused(2, "--scenario", "--seed", 1)
        self.refused(2, "--seed", "--scenario", sc)
        self.refused(2, "--seed", "--scenario", sc, "--seed", "abc")
        self.refused(2, "--seed", "--scenario", sc, "--seed", "-1")
        self.refused(2, "--days", "--scenario", sc, "--seed", 1, "--days", 0)
        self.refused(2, "--days", "--scenario", sc, "--seed", 1, "--days", 15)
        self.refused(2, "--policy", "--scenario", sc, "--seed", 1, "--policy", "fast")
        self.refused(2, "--width", "--scenario", sc, "--seed", 1, "--width", 5)
        self.refused(2, "--width", "--scenario", sc, "--seed", 1, "--width", "60m")
        self.refused(2, "--keep-db", "--scenario", sc, "--seed", 1,
                     "--keep-db", os.path.join(_dir, "k.db"))
        self.refused(2, "--keep-db", "--scenario", sc, "--seed", 1, "--policy", "onthedot",
                     "--keep-db", os.path.join(_dir, "k.db"))
        self.assertFalse(os.path.exists(os.path.join(_dir, "k.db")))

    def test_a_scenario_that_cannot_be_read_or_is_wrong_is_refused_with_status_1(self):
        missing = os.path.join(_dir, "no-such-scenario.json")
        self.refused(1, missing, "--scenario", missing, "--seed", 1)
        bad = dict(TINY, visitors=[dict(TINY["visitors"][0], shift_start="8am")])
        path = os.path.join(_dir, "bad-shift.json")
        with open(path, "w") as f:
            json.dump(bad, f)
        r = self.refused(1, "visitors[0].shift_start", "--scenario", path, "--seed", 1)
        self.assertIn("bad-shift.json", r.stderr)
        self.assertIn("8am", r.stderr)
        typo = dict(TINY, tick_minute=5)
        with open(path, "w") as f:
            json.dump(typo, f)
        self.refused(1, "tick_minute", "--scenario", path, "--seed", 1)
        with open(path, "w") as f:
            f.write('{"name": "Cut short",\n')
        self.refused(1, "line 2", "--scenario", path, "--seed", 1)

    def test_a_report_folder_that_cannot_be_made_is_refused_with_status_1(self):
        blocker = os.path.join(_dir, "a-file")
        with open(blocker, "w") as f:
            f.write("not a folder\n")
        target = os.path.join(blocker, "report")
        r = simulate("--scenario", scenario_path(), "--seed", SEED, "--policy", "baseline",
                     "--width", 240, "--report", target)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(target, r.stderr)
        self.assertFalse(os.path.isdir(target))


if __name__ == "__main__":
    unittest.main()
