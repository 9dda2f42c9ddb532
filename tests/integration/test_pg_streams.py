"""Live streams across nodes (PostgreSQL only): three `onthedot serve`
processes share one database; a booking made on node 2 reaches the dispatch
streams opened on nodes 1 and 3 within a second (LISTEN/NOTIFY,
src/app/publish.c), with the same data a local event carries, and its cancel
made on node 3 reaches nodes 1 and 2 alike; each node's own stream gets each
of its events once (its listener does not echo them back); a customer's
stream on node 1 gets the cancel made on node 2; and when the listening
connections are killed, they come back, the dispatch stream is told to
reload, and changes flow again."""

import time
import unittest

import otd
import test_streams as ts

WITHIN_S = 1.0


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestStreamsAcrossNodes(ts.StreamCase):
    users = ("admin", "dispatcher")

    @classmethod
    def setUpOrganisation(cls):
        cls.srv2, cls.srv3 = (cls.srv.another_node("%s-node%d" % (cls.__name__, k))
                              for k in (2, 3))
        for n in (cls.srv2, cls.srv3):
            cls.addClassCleanup(n.kill)
        cls.disp = cls.srv.login("disp")
        # The sessions live in the shared database: each node knows them all.
        cls.disp2 = cls.srv2.login("disp")
        cls.disp3 = cls.srv3.login("disp")

    @classmethod
    def tearDownClass(cls):
        # Nodes 2 and 3 first, with every check of a clean run.
        for n in (cls.srv2, cls.srv3):
            n.stop()
        super().tearDownClass()

    def stream(self, srv, session):
        s = ts.Stream(srv, "/api/v1/dispatch/stream", session=session)
        self.assertEqual(s.status, 200)
        self.streams.append(s)
        self.preamble(s)
        return s

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

    def test_dispatch_streams_see_changes_made_on_the_other_nodes(self):
        s1 = self.open("/api/v1/dispatch/stream", session=self.disp)
        start = self.preamble(s1)
        s2 = self.stream(self.srv2, self.disp2)
        s3 = self.stream(self.srv3, self.disp3)

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
        self.assertEqual(self.timed_event(s3, t0)["data"], d)  # node 3 alike
        # Node 2's own stream: the same event, once.
        f2 = s2.event(timeout=5)
        self.assertEqual(f2["data"], d)

        # The cancel, on node 3: nodes 1 and 2 see it within the second.
        t0 = time.monotonic()
        r = self.srv3.request("POST", "/api/v1/appointments/%s/cancel" % v["reference"],
                              {"reason": "The officer is ill"}, session=self.disp3)
        self.assertEqual(r.status, 200, r.raw)
        for s in (s1, s2):
            f = self.timed_event(s, t0)
            self.assertEqual((f["event"], f["data"]["change"], f["data"]["status"],
                              f["data"]["reference"]), ("appointment", "cancelled", "cancelled",
                                                        v["reference"]))
        f3 = s3.event(timeout=5)
        self.assertEqual(f3["data"]["change"], "cancelled")
        s3.no_event(1.5)  # not echoed back by node 3's own listener
        s1.no_event(0.2)
        s2.no_event(0.2)  # nor its booking by node 2's

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
        self.assertEqual(len(rows), 3, rows)  # one listener per node
        f = s1.event(timeout=5)  # what was sent meanwhile is lost: reload
        self.assertEqual(f["event"], "reset", f)
        t0 = time.monotonic()
        r = self.srv2.request("POST", "/api/v1/appointments/%s/cancel" % v["reference"],
                              {"reason": "The officer is ill"}, session=self.disp2)
        self.assertEqual(r.status, 200, r.raw)
        f = self.timed_event(s1, t0)
        self.assertEqual((f["event"], f["data"]["reference"], f["data"]["status"]),
                         ("appointment", v["reference"], "cancelled"))
        for n in (self.srv, self.srv2, self.srv3):  # each reconnects on its own
            deadline = time.monotonic() + 10
            while ("store_listen_restored" not in n.stderr_text()
                   and time.monotonic() < deadline):
                time.sleep(0.1)
            self.assertIn("store_listen_restored", n.stderr_text(), n.name)

if __name__ == "__main__":
    unittest.main()
