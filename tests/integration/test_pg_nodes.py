"""Several onthedot nodes on one PostgreSQL database (the PostgreSQL slice only).

Three `onthedot serve` processes on loopback share one database, as behind a
load balancer:

- the booking storm of test_booking_concurrency (64 clients, one window with
  room for exactly 10 visits) with every hold and every booking sent to the
  next node in turn: exactly 10 bookings, no visitor double booked, replays
  answered alike by whichever node gets them;
- the late day of test_messaging (real Kannel and Postfix): the tickers of all
  three nodes run, and each promise at risk still gets exactly one apology;
- the ticker's shards: each of the 16 is passed by one node at a time; after a
  node is killed (SIGKILL), the shards it held keep being passed, by the others,
  within a couple of periods;
- a visitor's phone sending the same batch of taps through all three nodes at
  once (a retry the proxy routed elsewhere): each tap is applied once;
- rebalance proposals: computed on one node, applied through another (the
  day's moves written as on one node), refused as used through the third; a
  day that changed since is 409 through any of them; one proposal applied
  through the three nodes at once is applied by exactly one."""

import signal
import threading
import time
import unittest

import otd
import otd_booking as ob
import test_booking_concurrency as tbc
import test_messaging as tm
import test_rebalance as trb
import test_tracking as tt

NODES = 3


def start_nodes(cls, count=NODES):
    """Starts count - 1 more nodes on cls.srv's database (cls.nodes[0] is
    cls.srv), with the same settings, token and secrets."""
    cls.nodes = [cls.srv]
    for k in range(1, count):
        node = cls.srv.another_node("%s-node%d" % (cls.__name__, k + 1))
        cls.addClassCleanup(node.kill)
        cls.nodes.append(node)


def stop_nodes(cls):
    """Stops the extra nodes with every check of a clean run."""
    for node in cls.nodes[1:]:
        if node.proc and node.proc.poll() is None:
            node.stop()


class _On:
    """The test case seen through one node: self.srv is that node."""

    def __init__(self, case, srv):
        self._case = case
        self.srv = srv

    def __getattr__(self, name):
        return getattr(self._case, name)


class _AcrossNodes:
    """Mixin, before the test case it runs across nodes: the class's server
    and NODES - 1 more on its database (cls.nodes), every node's virtual
    clock moved alike."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start_nodes(cls)

    @classmethod
    def tearDownClass(cls):
        stop_nodes(cls)
        super().tearDownClass()

    def clock(self, seconds=None, to=None):
        """Moves every node's virtual clock alike."""
        now = None
        for node in self.nodes:
            now = ob.BookingTestCase.clock(_On(self, node), seconds, to)
        return now


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestStormAcrossNodes(_AcrossNodes, tbc.TestConcurrencyOracle):
    """The concurrency oracle with its requests spread over three nodes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.turn = 0
        cls.turn_lock = threading.Lock()
        cls.used = [0] * NODES

    def next_node(self):
        with self.turn_lock:
            k = type(self).turn % NODES
            type(self).turn += 1
            self.used[k] += 1
        return self.nodes[k]

    def hold(self, *args, **kw):
        return ob.BookingTestCase.hold(_On(self, self.next_node()), *args, **kw)

    def book(self, *args, **kw):
        return ob.BookingTestCase.book(_On(self, self.next_node()), *args, **kw)

    def test_z_every_node_served(self):
        # The storms above went through all three nodes.
        self.assertTrue(all(n > 0 for n in self.used), self.used)


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestLateDayAcrossNodes(_AcrossNodes, tm.TestLateDay):
    """The late day with three tickers: still one apology per promise. Each
    move of the clock goes to all three nodes, and each runs the ticker's passes
    the move makes due at once, on the same routes."""


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestTickerShards(unittest.TestCase):
    """Each shard is passed by one node at a time; a killed node's shards are
    taken over."""

    @classmethod
    def setUpClass(cls):
        cls.srv = otd.Server(cls.__name__, env={"ONTHEDOT_TRACKING_TICKER_SECONDS": "1"},
                             users=("admin",))
        cls.addClassCleanup(cls.srv.kill)
        cls.srv.start()
        start_nodes(cls)

    @classmethod
    def tearDownClass(cls):
        stop_nodes(cls)
        cls.srv.stop()
        otd.pg_drop_database(cls.srv.db)

    def shards(self):
        return {s: (at, node) for s, at, node in
                self.srv.sql("SELECT shard, pass_at, node FROM ticker_shards")}

    def wait(self, check, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            time.sleep(0.2)
        self.fail("no %s within %.0f s" % (what, timeout))

    def test_shards_shared_then_taken_over(self):
        # Every shard is passed, and every node takes part (over a few
        # samples: a slow pass lets another node take a shard that was due).
        seen = set()

        def all_three():
            s = self.shards()
            seen.update(node for _, node in s.values())
            return s if len(s) == 16 and len(seen) == NODES else None
        self.wait(all_three, 60, "pass of all 16 shards, by each of the three nodes")
        live = self.srv.sql("SELECT node FROM ticker_nodes ORDER BY node")
        self.assertEqual(len(live), NODES, live)
        # Kill the third node. Once the two others have been seen since, the
        # dead one is the node not seen.
        victim = self.nodes[2]
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        victim.stderr_file.close()
        killed_at = int(time.time() * 1000)

        def two_seen_since():
            rows = self.srv.sql("SELECT node, seen_at FROM ticker_nodes")
            return rows if sum(1 for _, at in rows if at > killed_at) == NODES - 1 else None
        seen_rows = self.wait(two_seen_since, 30, "the two live nodes seen after the kill")
        dead = {node for node, in live} - {node for node, at in seen_rows if at > killed_at}
        self.assertEqual(len(dead), 1, (live, seen_rows))
        # Within a few periods, every shard has been passed after the kill,
        # by a live node.
        def taken_over():
            s = self.shards()
            fresh = [at > killed_at and node not in dead for at, node in s.values()]
            return s if len(s) == 16 and all(fresh) else None
        after = self.wait(taken_over, 30, "takeover of the killed node's shards")
        self.assertTrue({node for _, node in after.values()} <= {n for n, in live} - dead)
        # The dead node leaves the list of live nodes after three periods.
        self.wait(lambda: len(self.srv.sql("SELECT node FROM ticker_nodes")) == NODES - 1,
                  30, "the dead node dropped from ticker_nodes")
        self.nodes = self.nodes[:2]
        type(self).nodes = self.nodes


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestVisitorEventsAcrossNodes(_AcrossNodes, tt.TrackingCase):
    """Visitor events' client ids are unique in the shared database."""

    def test_the_same_taps_sent_to_three_nodes_at_once_apply_once(self):
        v = self.org_visitors[0]
        ref = self.appointment(v, "Meadow Cottage", "11:00", "12:00", 1)
        self.to(tt.DAY, "10:00")
        now = ob.secs(ob.local(tt.DAY, "10:00"))
        session = self.srv.login("visitor0")  # the clock moved past the first one's idle time
        taps = [self.ev("start_travel", now - 20, ref), self.ev("late", now - 10, minutes=5)]
        barrier = threading.Barrier(NODES)
        answers = [None] * NODES

        def send(k):
            barrier.wait(30)
            answers[k] = self.nodes[k].request("POST", "/api/v1/visitor/events",
                                               {"events": taps}, session=session)

        threads = [threading.Thread(target=send, args=(k,)) for k in range(NODES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for r in answers:
            self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(sum(r.body["applied"] for r in answers), len(taps),
                         [r.body for r in answers])
        self.assertEqual(sum(r.body["duplicates"] for r in answers), len(taps) * (NODES - 1),
                         [r.body for r in answers])
        for tap in taps:
            self.assertEqual(self.srv.sql("SELECT count(*) FROM visitor_events WHERE "
                                          "client_event_id = ?", (tap["client_event_id"],)),
                             [(1,)])
        day = self.day(v)
        self.assertEqual((day["state"], day["late_minutes"]), ("travelling", 5))


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestRebalanceAcrossNodes(_AcrossNodes, trb.TestRebalance):
    """test_rebalance's proposals, each applied through the next node in
    turn (node 1 proposes): the proposal is stored in the shared database
    and taken, once, by whichever node applies it."""

    # The cases about proposals; the rest of test_rebalance runs in the slice
    # on one node.
    test_c_a_dispatcher_reassigns_by_hand = None
    test_d_bad_input_is_named = None
    test_e_plan_cuts_travel_inside_the_windows = None
    test_an_unavailable_visitors_visits_are_given_away_on_the_next_pass = None

    turn = 0  # applies so far (apply sends each to the next node)

    def apply(self, pid):
        type(self).turn += 1
        node = self.nodes[1 + (type(self).turn - 1) % (NODES - 1)]  # never node 1
        return node.request("POST", "/api/v1/dispatch/rebalance/%s/apply" % pid, {},
                            session=self.disp)

    def test_f_one_proposal_applied_through_three_nodes_at_once(self):
        date = "2026-03-10"
        booked = [self.book_window(date, line1, i) for line1, i in
                  (("1 Mill Road", 2), ("7 Church Lane", 4), ("12 High Street", 6),
                   ("2 Orchard Way", 3))]
        self.to(date, "07:00")
        self.unavailable(self.visitor_of(booked[0]["reference"]))
        p = self.propose(date).body
        self.assertIsNotNone(p["id"], p)
        runs = len(ob.audit(self.srv, "dispatch.rebalance"))
        barrier = threading.Barrier(NODES)
        answers = [None] * NODES

        def apply_on(k):
            barrier.wait(30)
            answers[k] = self.nodes[k].request(
                "POST", "/api/v1/dispatch/rebalance/%s/apply" % p["id"], {}, session=self.disp)

        threads = [threading.Thread(target=apply_on, args=(k,)) for k in range(NODES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(r.status for r in answers), [200] + [404] * (NODES - 1),
                         [r.raw for r in answers])
        for r in answers:
            if r.status == 404:
                self.assertError(r, 404, "proposal_not_found")
        self.assertEqual(len(ob.audit(self.srv, "dispatch.rebalance")), runs + 1)


if __name__ == "__main__":
    unittest.main()
