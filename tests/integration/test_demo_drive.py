"""serve --demo-drive: the demo's visitors played live with the simulator's reality.

A demo town is made once (`onthedot demo`, its clock standing on a Monday, so
it books the seven days after). A server with --demo-drive starts on the
busiest day the demo booked at 07:00 local; the test moves the virtual clock
through the day an hour at a time, letting the driver (one step per wall
second) catch up after each move, and checks what a dispatcher would see: the
visits were reached and finished at plausible times, the visitors' taps are
recorded, one visitor fell ill at 10:00 and their visits went at risk, a
restart at 11:00 finishes the visits left open and plays on, and at the end of
the day nobody else left a visit undone. A server without
--demo-drive on the same database, moved through the same day, moves nothing.
"""

import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest
import zoneinfo

import otd

DEMO_MADE = "2026-03-02T09:00:00Z"  # a Monday: the demo books Tuesday to the next Monday
ZONE = zoneinfo.ZoneInfo(otd.TIMEZONE)
DAY_FROM, DAY_TO = 7, 22  # local hours the test plays
RESTART = 11  # when the server is stopped and started again
SICK_HOUR = 10


def local_utc(date, hour):
    """RFC 3339 UTC of hour:00 local on date ("YYYY-MM-DD")."""
    y, m, d = map(int, date.split("-"))
    t = datetime.datetime(y, m, d, hour, tzinfo=ZONE).astimezone(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(date, hour):
    return otd.iso_seconds(local_utc(date, hour))


class DemoServer(otd.Server):
    """A Server on a copy of the demo database, its clock virtual from
    virtual_start, with --demo-drive or without."""

    def __init__(self, name, demo_db, virtual_start, drive):
        super().__init__(name, env={"ONTHEDOT_MESSAGES_RECORD_ONLY": "true",
                                    "ONTHEDOT_TRACKING_TICKER_SECONDS": "300"}, users=())
        self.demo_db = demo_db
        self.virtual_start = virtual_start
        self.drive = drive

    def prepare(self):
        shutil.copyfile(self.demo_db, self.db)
        p = self.cli("token", "create", "--db", self.db, "--name", "integration tests")
        self.token = p.stdout.strip()
        self.secrets.add(self.token)

    def start(self, prepare=True):
        # otd.Server.start with this server's flags.
        if prepare:
            self.prepare()
        args = [otd.BIN, "serve", "--db", self.db, "--listen", "127.0.0.1:0", "--port-file",
                self.port_file, "--virtual-clock", "--virtual-start", self.virtual_start]
        if self.drive:
            args.append("--demo-drive")
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr_file, env=self.env(), cwd=self.dir)
        deadline = time.monotonic() + otd.START_TIMEOUT
        while not self.read_port():
            if self.proc.poll() is not None:
                raise AssertionError("onthedot serve exited %d before listening:\n%s"
                                     % (self.proc.returncode, self.stderr_text()))
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError("onthedot serve wrote no port file")
            time.sleep(0.02)
        self.port = self.read_port()
        return self

    def read_port(self):
        try:
            with open(self.port_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        return int(text) if text else None

    def restart(self, virtual_start):
        """SIGTERM, the checks of a clean stop, and a start on the same
        database with the clock at virtual_start (its log kept aside)."""
        self.terminate()
        code = self.wait_exit()
        text = self.stderr_text()
        self.assert_no_sanitizer_report("onthedot serve", text)
        if code != 0:
            raise AssertionError("onthedot serve exited %d:\n%s" % (code, text[-6000:]))
        self.check_log(text)
        os.replace(self.stderr_path, self.stderr_path + ".1")
        os.unlink(self.port_file)
        self.virtual_start = virtual_start
        return self.start(prepare=False)

    def log_records(self, msg):
        out = []
        for line in self.stderr_text().split("\n"):
            if line.strip():
                rec = json.loads(line)
                if rec.get("msg") == msg:
                    out.append(rec)
        return out

    def clock_to(self, when):
        r = self.request("POST", "/api/v1/admin/clock", {"to": when}, token="admin")
        if r.status != 200:
            raise AssertionError(r.raw)

    def progress(self, date):
        """What the driver has done so far: the newest visitor event and the
        day's statuses."""
        ev = self.sql("SELECT COALESCE(MAX(id), 0) FROM visitor_events")[0][0]
        st = self.sql("SELECT id, status FROM appointments WHERE local_date = ? ORDER BY id",
                      (date,))
        return ev, tuple(st)

    def settle(self, date, deadline_s=15.0):
        """Waits until the driver has caught up with the clock: its steps
        come every wall second, so once it has had time for one and nothing
        has changed for a second more, it is done."""
        start = time.monotonic()
        last, since = self.progress(date), time.monotonic()
        while time.monotonic() - start < deadline_s:
            time.sleep(0.25)
            now = self.progress(date)
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - start >= 1.5 and time.monotonic() - since >= 1.0:
                return
        raise AssertionError("the driver did not settle within %.0f s" % deadline_s)


@otd.requires_sqlite("each server runs on a copy of the demo town's SQLite file")
class DemoDriveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(otd.TEST_TMP, exist_ok=True)
        cls.dir = tempfile.mkdtemp(prefix="DemoDrive-", dir=otd.TEST_TMP)
        cls.demo_db = os.path.join(cls.dir, "demo.db")
        maker = otd.Server("DemoDriveMaker", env={"ONTHEDOT_VIRTUAL_CLOCK": "true",
                                                   "ONTHEDOT_VIRTUAL_START": DEMO_MADE})
        try:
            maker.cli("demo", "--db", cls.demo_db, "--seed", "1")
        finally:
            shutil.rmtree(maker.dir, ignore_errors=True)
        db = sqlite3.connect(cls.demo_db)
        try:
            # The busiest day the demo booked (all of them are after DEMO_MADE).
            cls.date, cls.n_visits = db.execute(
                "SELECT local_date, COUNT(*) FROM appointments WHERE status = 'booked' "
                "GROUP BY local_date ORDER BY COUNT(*) DESC, local_date LIMIT 1").fetchone()
            cls.today_visits = db.execute(
                "SELECT COUNT(*) FROM appointments WHERE local_date = '2026-03-02'").fetchone()[0]
        finally:
            db.close()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def play(self, srv, hours):
        for h in hours:
            srv.clock_to(local_utc(self.date, h))
            if srv.drive:
                srv.settle(self.date)

    def wait_day(self, srv):
        """The driver's first player, as it logged it."""
        deadline = time.monotonic() + 15
        while True:
            days = [r for r in srv.log_records("demo_drive") if r.get("event") == "day"]
            if days:
                return days[0]
            self.assertLess(time.monotonic(), deadline, "the driver made no player")
            time.sleep(0.1)

    def test_the_demo_books_the_days_after_it_is_made(self):
        self.assertEqual(self.today_visits, 0)  # why the demo needs a later day to be seen
        self.assertGreater(self.n_visits, 20)
        self.assertGreater(self.date, DEMO_MADE[:10])

    def test_driven_day(self):
        srv = DemoServer("DemoDrive", self.demo_db, local_utc(self.date, DAY_FROM), drive=True)
        self.addCleanup(srv.kill)
        srv.start()
        day = self.wait_day(srv)
        self.assertEqual(day["date"], self.date)
        working = day["working"]
        self.assertEqual(day["played"], working)
        self.assertEqual(day["sick"], max(1, working // 12))
        sick = day["first_sick"]
        self.assertGreater(sick, 0)
        # At 07:00 nobody has moved yet.
        srv.settle(self.date)
        self.assertEqual(srv.sql("SELECT COUNT(*) FROM visitor_events")[0][0], 0)

        self.play(srv, range(DAY_FROM + 1, RESTART + 1))

        # The demo stopped and started again mid-day: a visit left open is
        # finished at once, and the visitors play on from there.
        open_visits = srv.sql("SELECT a.id FROM visitor_days d JOIN appointments a ON "
                              "a.id = d.appointment_id WHERE d.local_date = ? AND "
                              "d.state = 'on_site' AND d.visitor_id <> ?", (self.date, sick))
        self.assertTrue(open_visits, "nobody on site at %d:00: the restart tests nothing"
                        % RESTART)
        srv.restart(local_utc(self.date, RESTART))
        again = self.wait_day(srv)
        self.assertEqual((again["date"], again["first_sick"]), (self.date, sick))
        srv.settle(self.date)
        for (aid,) in open_visits:
            self.assertEqual(srv.sql("SELECT status, done_at FROM appointments WHERE id = ?",
                                     (aid,)), [("done", epoch(self.date, RESTART))])
        self.play(srv, range(RESTART + 1, DAY_TO + 1))

        day_start, day_end = epoch(self.date, DAY_FROM), epoch(self.date, DAY_TO)
        rows = srv.sql("SELECT id, visitor_id, status, window_start, window_end, arrived_at, "
                       "done_at FROM appointments WHERE local_date = ?", (self.date,))
        self.assertEqual(len(rows), self.n_visits)
        done = [r for r in rows if r[2] == "done"]
        self.assertGreaterEqual(len(done), self.n_visits // 2, rows)
        for (aid, vid, status, ws, we, arrived, finished) in rows:
            if status in ("arrived", "done"):
                # Nobody begins before the window opens (they wait at the
                # door); a late one arrives within the day.
                self.assertGreaterEqual(arrived, ws, (aid, status))
                self.assertLess(arrived, day_end, (aid, status))
            if status == "done":
                self.assertGreater(finished, arrived, aid)
                self.assertLessEqual(finished - arrived, 6 * 3600, aid)
                self.assertLessEqual(finished, day_end, aid)
            if vid != sick:
                # Everyone else finished every visit of the day.
                self.assertEqual(status, "done", (aid, vid, rows))

        # The taps, as the phones would have sent them.
        kinds = dict(srv.sql("SELECT kind, COUNT(*) FROM visitor_events WHERE local_date = ? "
                             "GROUP BY kind", (self.date,)))
        for k in ("start_travel", "arrived", "done", "break_start", "break_end"):
            self.assertGreater(kinds.get(k, 0), 0, (k, kinds))
        self.assertEqual(kinds["done"], len(done))
        self.assertLessEqual(kinds["arrived"], kinds["start_travel"])
        claimed = srv.sql("SELECT MIN(claimed_at), MAX(claimed_at) FROM visitor_events "
                          "WHERE local_date = ?", (self.date,))[0]
        self.assertGreaterEqual(claimed[0], day_start)
        self.assertLessEqual(claimed[1], day_end)

        # One visitor fell ill from 10:00, through the dispatcher's path.
        ill = srv.sql("SELECT visitor_id, claimed_at, detail FROM visitor_events "
                      "WHERE kind = 'unavailable' AND local_date = ?", (self.date,))
        self.assertEqual(len(ill), 1, ill)
        self.assertEqual(ill[0][0], sick)
        self.assertGreaterEqual(ill[0][1], epoch(self.date, SICK_HOUR))
        self.assertEqual(json.loads(ill[0][2])["reason"], "sick")
        self.assertEqual(srv.sql("SELECT state FROM visitor_days WHERE visitor_id = ? AND "
                                 "local_date = ?", (sick, self.date)), [("unavailable",)])
        # Their visits left undone went at risk, and the customers were told
        # (those whose window was still open when they fell ill).
        left = [r[0] for r in rows if r[1] == sick and r[2] == "booked" and r[4] > ill[0][1]]
        for aid in left:
            events = [k for (k,) in srv.sql("SELECT kind FROM appointment_events WHERE "
                                            "appointment_id = ?", (aid,))]
            self.assertIn("at_risk", events, aid)
            self.assertIn("apology", events, aid)
        srv.stop()

    def test_without_demo_drive_nothing_moves(self):
        srv = DemoServer("DemoStill", self.demo_db, local_utc(self.date, DAY_FROM), drive=False)
        self.addCleanup(srv.kill)
        srv.start()
        before = srv.progress(self.date)
        self.play(srv, (9, 12, 16, DAY_TO))
        time.sleep(2.5)  # as long as the driver would have needed to catch up
        self.assertEqual(srv.progress(self.date), before)
        self.assertEqual(srv.sql("SELECT COUNT(*) FROM visitor_events")[0][0], 0)
        self.assertEqual(srv.sql("SELECT COUNT(*) FROM appointments WHERE local_date = ? AND "
                                 "status <> 'booked'", (self.date,)), [(0,)])
        self.assertFalse(srv.log_records("demo_drive"))
        srv.stop()


if __name__ == "__main__":
    unittest.main()
