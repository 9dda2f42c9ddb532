"""PostgreSQL's own faults (PostgreSQL slice only).

The test runs a PostgreSQL server of its own (tests/scripts/pg.sh, a second
cluster in the test's folder), so that stopping it disturbs no other test of
the slice; the onthedot server's database is created there.

1. Every session of the node ended (pg_terminate_backend, as an
   administrator or a failover does): the next requests, 24 at once, twice,
   are all served; each pooled connection is connected again before its next
   job runs, so none of them answers 503.
2. PostgreSQL stopped (fast shutdown) while the node runs: reads and writes
   answer 503 `database_unreachable` at once (no hang), with Retry-After and
   a message saying the database cannot be reached and nothing saved is
   lost; /healthz says unavailable; the log says so once
   (store_unreachable), not once per request. PostgreSQL started again on
   the same port: the same process serves again without a restart
   (store_reachable logged), the booking made before the outage is intact
   with its confirmation in the outbox, and a new booking goes through.
3. A second node started under the first one's node_name: it waits for the
   name (a stopping process would let it go), then exits naming the clash;
   the first serves on. The first held its name again after tests 1 and 2
   cut the connection holding it (its ticker renews it).
"""

import json
import os
import shutil
import subprocess
import threading
import time
import unittest

import otd
import otd_booking as ob

VT = "planning-inspection"
PG_SH = os.path.join(os.environ.get("OTD_SOURCE_DIR",
                                    os.path.join(os.path.dirname(__file__), "..", "..")),
                     "tests", "scripts", "pg.sh")


def pg_sh(*args):
    p = subprocess.run(["bash", PG_SH] + list(args), capture_output=True, text=True,
                       timeout=180)
    if p.returncode != 0:
        raise AssertionError("pg.sh %s exited %d:\n%s%s" % (" ".join(args), p.returncode,
                                                            p.stdout, p.stderr))
    return p.stdout.strip()


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestPostgreSQLGoesAway(ob.BookingTestCase):
    # The ticker (each second) holds the node's name again once the tests
    # before have cut its connection.
    server_env = {"ONTHEDOT_NODE_NAME": "faults-a", "ONTHEDOT_TRACKING_TICKER_SECONDS": "1"}

    @classmethod
    def setUpClass(cls):
        os.makedirs(otd.TEST_TMP, exist_ok=True)
        cls.pg_dir = os.path.join(otd.TEST_TMP, "pg-faults-%d" % os.getpid())
        shutil.rmtree(cls.pg_dir, ignore_errors=True)
        os.makedirs(cls.pg_dir)
        # The Server makes (and drops) its database on this cluster.
        cls.slice_admin = otd.PG_ADMIN_URL
        otd.PG_ADMIN_URL = pg_sh("start", cls.pg_dir)
        cls.addClassCleanup(cls.stop_cluster)
        with open(os.path.join(cls.pg_dir, "port")) as f:
            cls.pg_port = f.read().strip()
        super().setUpClass()

    @classmethod
    def stop_cluster(cls):
        pg_sh("stop", cls.pg_dir)
        otd.PG_ADMIN_URL = cls.slice_admin
        if not os.environ.get("OTD_KEEP"):
            shutil.rmtree(cls.pg_dir, ignore_errors=True)

    booked = 0

    def book_on(self, date, index=0):
        """Books a window of date for a customer of its own."""
        vt = self.types[VT]["id"]
        a = self.addr["1 Mill Road"]["id"]
        ws = self.windows(a, vt, date)[date]
        k = type(self).booked = type(self).booked + 1
        return self.hold_and_book(a, vt, ws[index]["start"], name="Customer %d" % k,
                                  phone="07700 900%03d" % k, email="c%d@example.org" % k)

    def log(self):
        return [json.loads(l) for l in self.srv.stderr_text().split("\n") if l.strip()]

    def test_1_sessions_ended_are_connected_again_before_the_next_job(self):
        before = self.book_on("2026-03-05")
        killed = self.srv.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                              "AND application_name = 'onthedot'")[0][0]
        self.assertGreaterEqual(killed, 1)
        # More requests at once than the pool has connections, so that many
        # of its broken connections are taken: each is connected again before
        # its job runs.
        answers = []
        lock = threading.Lock()

        def read():
            r = self.srv.request("GET", "/api/v1/appointments?reference=%s"
                                 % before["reference"], token="admin")
            with lock:
                answers.append(r)

        for _ in range(2):
            threads = [threading.Thread(target=read) for _ in range(24)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        self.assertEqual(len(answers), 48)
        for r in answers:
            self.assertEqual(r.status, 200, r.raw)
        after = self.book_on("2026-03-05", index=2)
        self.assertNotEqual(after["reference"], before["reference"])
        self.assertNotIn("store_unreachable", self.srv.stderr_text())

    def test_2_postgresql_stopped_then_started_again(self):
        kept = self.book_on("2026-03-06")
        ref = kept["reference"]
        rows_before = self.srv.sql("SELECT id, window_start, window_end, status FROM "
                                   "appointments ORDER BY id")
        queued = self.srv.sql("SELECT count(*) FROM outbox o JOIN appointments a ON "
                              "a.id = o.appointment_id WHERE a.reference = ?", (ref,))[0][0]
        self.assertGreaterEqual(queued, 1)

        pg_sh("stop", self.pg_dir)
        vt = self.types[VT]["id"]
        a = self.addr["1 Mill Road"]["id"]
        for _ in range(5):
            t0 = time.monotonic()
            reads = [self.srv.request("GET", "/api/v1/slots?visit_type=%s&address=%s&from="
                                      "2026-03-10&to=2026-03-10" % (vt, a)),
                     self.srv.request("GET", "/api/v1/appointments?reference=%s" % ref,
                                      token="admin")]
            write = self.srv.request("POST", "/api/v1/holds",
                                     {"address": a, "visit_type": vt,
                                      "window_start": "2026-03-10T09:00:00Z"})
            self.assertLess(time.monotonic() - t0, 10, "requests waited on the database")
            for r in reads + [write]:
                self.assertError(r, 503, "database_unreachable")
                self.assertIn("database cannot be reached", r.error["message"])
                self.assertIn("nothing saved before is lost", r.error["message"])
                self.assertEqual(r.headers["Retry-After"], "5")
        h = self.srv.request("GET", "/healthz")
        self.assertEqual(h.status, 503, h.raw)
        self.assertEqual(h.body["status"], "unavailable")
        lost = [l for l in self.log() if l["msg"] == "store_unreachable"]
        self.assertEqual(len(lost), 1, lost)  # once, not per request
        self.assertEqual(lost[0]["level"], "error")

        pg_sh("start", self.pg_dir, self.pg_port)
        deadline = time.monotonic() + 30
        while self.srv.request("GET", "/healthz", check=False).status != 200:
            self.assertLess(time.monotonic(), deadline, "the node did not come back")
            time.sleep(0.2)
        self.assertIn("store_reachable", [l["msg"] for l in self.log()])
        self.assertEqual(self.srv.sql("SELECT id, window_start, window_end, status FROM "
                                      "appointments ORDER BY id"), rows_before)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM outbox o JOIN appointments a ON "
                                      "a.id = o.appointment_id WHERE a.reference = ?",
                                      (ref,))[0][0], queued)
        r = self.srv.request("GET", "/api/v1/appointments?reference=%s" % ref, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.book_on("2026-03-09")
        self.assertEqual(self.srv.proc.poll(), None)  # the same process throughout

    def test_3_a_second_node_of_the_same_name_is_refused(self):
        time.sleep(3)  # ticker passes (each second) since PostgreSQL came back (test 2)
        twin = otd.Server(type(self).__name__ + "-twin",
                          env=dict(ob.BOOKING_ENV, ONTHEDOT_NODE_NAME="faults-a"),
                          virtual_clock=self.virtual_clock, users=(), db=self.srv.db)
        self.addCleanup(twin.kill)
        t0 = time.monotonic()
        with self.assertRaises(AssertionError) as cm:
            twin.start(prepare=False)
        waited = time.monotonic() - t0
        self.assertIn("exited 1 before listening", str(cm.exception))
        self.assertIn('onthedot serve: Another onthedot node named "faults-a" is connected to '
                      "this database", str(cm.exception))
        self.assertGreaterEqual(waited, 14)  # it waited for the other to stop
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)  # the first serves on


if __name__ == "__main__":
    unittest.main()
