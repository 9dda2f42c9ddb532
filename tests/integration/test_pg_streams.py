"""Live streams across nodes (PostgreSQL only): two `onthedot serve`
processes share one database; a booking made and cancelled on node 2
reaches the dispatch stream opened on node 1 within a second (LISTEN/NOTIFY,
src/app/publish.c), with the same data a local event carries; node 2's own
stream gets each of its events once (its listener does not echo them back);
a customer's stream on node 1 gets the cancel made on node 2; and when the
listening connections are killed, they come back, the dispatch stream is
told to reload, and changes flow again."""

import time
import unittest
from unittest import mock

import otd
import test_streams as ts

WITHIN_S = 1.0


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestStreamsAcrossNodes(ts.StreamCase):
    users = ("admin", "dispatcher")

    @classmethod
    def setUpOrganisation(cls):
        env = dict(ts.ob.BOOKING_ENV)
        env.update(cls.server_env)
        srv2 = otd.Server(cls.__name__ + "-node2", env=env, virtual_clock=cls.virtual_clock,
                          users=cls.users)
        otd.pg_drop_database(srv2.db)  # its own database is not used: node 1's is shared
        srv2.db = cls.srv.db
        srv2.token = cls.srv.token
        srv2.secrets |= cls.srv.secrets
        cls.srv2 = srv2
        cls.addClassCleanup(srv2.kill)
        srv2.start(prepare=False)
        cls.disp = cls.srv.login("disp")
        cls.disp2 = srv2.login("disp")  # the session lives in the shared database

    @classmethod
    def tearDownClass(cls):
        # Node 2 first, without dropping the database node 1 still uses.
        with mock.patch.object(otd, "pg_drop_database"):
            cls.srv2.stop()
        super().tearDownClass()

    def on_node2(self, fn, *args, **kw):
        """Runs a helper of the booking test case against node 2."""
        self.srv = self.srv2  # the helpers use self.srv; the class keeps node 1
        try:
            return fn(*args, **kw)
        finally:
            del self.srv

    def timed_event(self, s, started):
        f = s.event(timeout=WITHIN_S + 2)
        took = time.monotonic() - started
        self.assertLess(took, WITHIN_S, "the other node's event took %.2f s" % took)
        return f

    def test_dispatch_stream_on_node1_sees_changes_made_on_node2(self):
        s1 = self.open("/api/v1/dispatch/stream", session=self.disp)
        start = self.preamble(s1)
        s2 = ts.Stream(self.srv2, "/api/v1/dispatch/stream", session=self.disp2)
        self.assertEqual(s2.status, 200)
        self.streams.append(s2)
        self.preamble(s2)

        t0 = time.monotonic()
        v = self.on_node2(self.book_one, "1 Mill Road", name="Ada Lovelace",
                          phone="07700 900301")
        aid = self.appointment_id(v["reference"])
        f = self.timed_event(s1, t0)
        self.assertEqual(f["event"], "appointment")
        self.assertGreater(int(f["id"]), start)
        d = f["data"]
        self.assertEqual((d["change"], d["appointment_id"], d["reference"], d["status"]),
                         ("booked", aid, v["reference"], "booked"))
        self.assertEqual(d["window"]["start"], v["window"]["start"])
        self.assertNotIn("Ada", str(d))
        # Node 2's own stream: the same event, once.
        f2 = s2.event(timeout=5)
        self.assertEqual(f2["data"], d)

        t0 = time.monotonic()
        r = self.srv2.request("POST", "/api/v1/appointments/%s/cancel" % v["reference"],
                              {"reason": "The officer is ill"}, session=self.disp2)
        self.assertEqual(r.status, 200, r.raw)
        f = self.timed_event(s1, t0)
        self.assertEqual((f["event"], f["data"]["change"], f["data"]["status"],
                          f["data"]["reference"]), ("appointment", "cancelled", "cancelled",
                                                    v["reference"]))
        f2 = s2.event(timeout=5)
        self.assertEqual(f2["data"]["change"], "cancelled")
        s2.no_event(1.5)  # not echoed back by node 2's own listener
        s1.no_event(0.5)

    def test_customer_stream_on_node1_gets_a_cancel_made_on_node2(self):
        v = self.book_one("3 Mill Road", index=1, name="Grace Hopper", phone="07700 900302")
        tok = self.token_of(v)
        c = self.open("/api/v1/a/%s/stream" % tok)
        self.assertEqual(c.status, 200)
        self.preamble(c)
        t0 = time.monotonic()
        r = self.srv2.request("POST", "/api/v1/appointments/%s/cancel" % v["reference"],
                              {"reason": "The officer is ill"}, session=self.disp2)
        self.assertEqual(r.status, 200, r.raw)
        f = self.timed_event(c, t0)
        self.assertEqual((f["event"], f["data"]["status"]), ("appointment", "cancelled"))
        self.assertNotIn("visitor_id", f["data"])  # the customer's data only


    def test_a_lost_listener_reconnects_and_tells_the_streams_to_reload(self):
        v = self.book_one("7 Church Lane", index=1, name="Alan Turing", phone="07700 900303")
        s1 = self.open("/api/v1/dispatch/stream", session=self.disp)
        self.preamble(s1)
        rows = self.srv.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = 'onthedot-listen' "
                            "AND datname = current_database()")
        self.assertEqual(len(rows), 2, rows)  # one listener per node
        f = s1.event(timeout=5)  # what was sent meanwhile is lost: reload
        self.assertEqual(f["event"], "reset", f)
        t0 = time.monotonic()
        r = self.srv2.request("POST", "/api/v1/appointments/%s/cancel" % v["reference"],
                              {"reason": "The officer is ill"}, session=self.disp2)
        self.assertEqual(r.status, 200, r.raw)
        f = self.timed_event(s1, t0)
        self.assertEqual((f["event"], f["data"]["reference"], f["data"]["status"]),
                         ("appointment", v["reference"], "cancelled"))
        self.assertIn("store_listen_restored", self.srv.stderr_text())

if __name__ == "__main__":
    unittest.main()
