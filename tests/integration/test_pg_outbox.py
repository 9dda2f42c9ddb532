"""Several nodes sharing one PostgreSQL database deliver the outbox (label:
messaging; PostgreSQL slice only).

Three `onthedot serve` processes on the same database send booking
confirmations through a real SMTP peer (Postfix when run as root, else the
Node SMTP sink). Nodes A and C talk to it directly, node B through a small
TCP relay the test can switch to hold connections silently (a gateway that
never answers).

1. Bookings through each node, then a burst of copies of their
   confirmations (each its own Message-ID) queued in one transaction, so
   the three workers claim from the same pending rows at once: every
   message reaches the Maildir exactly once (counted by Message-ID), more
   than one node sent some of the burst (which ones is a race), and no row
   stays 'sending'.
2. Node B's relay holds; bookings through B leave its claims in flight;
   B is killed with SIGKILL. Nodes A and C leave B's young claims alone,
   and once they are older than delivery.claim_lease_s (both virtual clocks
   moved on) both look for them at once, and between them take each over
   once while they run: each is sent once, by A or C, counted uncertain;
   nothing stays 'sending', nothing is lost.
"""

import json
import os
import shutil
import signal
import socket
import threading
import time
import unittest
from collections import Counter

import gateways
import otd
import otd_booking as ob
from test_messaging import wait_for

VT = "planning-inspection"
LEASE_S = 8  # takeover looks every LEASE_S / 4 = 2 s (real time)
DATES = ["2026-03-%02d" % d for d in (3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20)]


class Relay:
    """A TCP relay on 127.0.0.1 to target_port. While hold is set, nothing is
    passed on either way, on new connections or on those the client keeps
    open between messages (a gateway that stops answering)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.hold = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.hold.is_set():
                self.held.append(c)
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                c.close()
                continue
            up.settimeout(None)
            for a, b in ((c, up), (up, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                while self.hold.is_set() and not self.closed:
                    time.sleep(0.1)
                if self.closed:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.sock.close()
        for c in self.held:
            c.close()


def node_id(srv):
    """The instance id a server logged at start (delivery_started)."""
    for line in srv.stderr_text().split("\n"):
        if '"delivery_started"' in line:
            return json.loads(line)["node"]
    raise AssertionError("no delivery_started line in %s's log" % srv.name)


@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestThreeNodesOneOutbox(ob.BookingTestCase):
    users = ("admin", "dispatcher")

    @classmethod
    def setUpClass(cls):
        root = gateways.gateway_root(otd.TEST_TMP, cls.__name__ + "-gw-")
        impl = "postfix" if os.geteuid() == 0 and shutil.which("postfix") else "node"
        cls.smtp = gateways.Smtp(os.path.join(root, "smtp"), impl=impl)
        cls.smtp.start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.relay = Relay(cls.smtp.port)
        cls.addClassCleanup(cls.relay.close)
        cls.common_env = {
            "ONTHEDOT_DELIVERY_EMAIL_PROVIDERS": "smtp",
            "ONTHEDOT_DELIVERY_SMTP_CAFILE": cls.smtp.cafile,
            "ONTHEDOT_DELIVERY_CLAIM_LEASE_S": str(LEASE_S),
            "ONTHEDOT_DELIVERY_BACKOFF_BASE_S": "1",
            "ONTHEDOT_DELIVERY_BACKOFF_CAP_S": "2",
            "ONTHEDOT_MESSAGES_QUIET_START": "",
            "ONTHEDOT_MESSAGES_QUIET_END": "",
        }
        cls.server_env = dict(cls.common_env, ONTHEDOT_DELIVERY_SMTP_URL=cls.smtp.url)
        super().setUpClass()  # node A: cls.srv, which made (and drops) the database
        env = dict(ob.BOOKING_ENV)
        env.update(cls.common_env)
        env["ONTHEDOT_DELIVERY_SMTP_URL"] = "smtp://127.0.0.1:%d" % cls.relay.port
        # A held send must outlast the test, not time out on its own.
        env["ONTHEDOT_DELIVERY_TIMEOUT_MS"] = "600000"
        cls.srv_b = cls.srv.another_node(cls.__name__ + "_b", env)
        cls.addClassCleanup(cls.srv_b.kill)
        cls.srv_c = cls.srv.another_node(cls.__name__ + "_c")  # A's settings
        cls.addClassCleanup(cls.srv_c.kill)

    def emails(self):
        """Rows of the email outbox: (id, state, provider_id, claimed_by, uncertain)."""
        return self.srv.sql("SELECT id, state, provider_id, claimed_by, "
                            "uncertain_at IS NOT NULL FROM outbox WHERE channel = 'email' "
                            "ORDER BY id")

    booking_500s = 0  # see book_via

    def book_via(self, srv, n, tag, dates):
        """Books n visits through srv on dates (confirmations by email only).
        Safe to run in a thread: it uses srv, not self.srv."""
        vt = self.types[VT]["id"]
        made = 0
        for date in dates:
            for line1 in sorted(self.addr):
                if made == n:
                    return
                address = self.addr[line1]["id"]
                r = srv.request("GET", "/api/v1/slots?visit_type=%s&address=%s&from=%s&to=%s"
                                % (vt, address, date, date))
                self.assertEqual(r.status, 200, r.raw)
                ws = [w for d in r.body["days"] for w in d["windows"]]
                if not ws:
                    continue
                h = srv.request("POST", "/api/v1/holds", {"address": address, "visit_type": vt,
                                                          "window_start": ws[0]["start"]})
                if h.status != 201:
                    continue
                for s in self.nodes():
                    s.note_secret(h.body["hold"])
                body = {"hold": h.body["hold"], "name": "Customer %s %d" % (tag, made),
                        "email": "c-%s-%d@example.org" % (tag, made),
                        "consent": {"sms": False, "email": True}}
                for attempt in range(3):
                    # A 500 here is a known fault of the PostgreSQL store, not
                    # of the outbox: a serialization failure on a read the
                    # booking tolerates leaves its transaction aborted, and
                    # the next statement fails instead of the job being
                    # retried. Nothing was written: the same hold is booked
                    # again.
                    r = srv.request("POST", "/api/v1/appointments", body, check=False)
                    if r.status != 500:
                        break
                    self.booking_500s += 1
                self.assertEqual(r.status, 201, r.raw)
                link = r.body.get("link")
                if link:
                    for s in self.nodes():
                        s.note_secret(link["path"].rsplit("/", 1)[-1])
                made += 1
        self.assertEqual(made, n, "not enough windows to book")

    def nodes(self):
        return (self.srv, self.srv_b, self.srv_c)

    def maildir_ids(self):
        return Counter(m["Message-ID"] for m in self.smtp.messages())

    def assert_each_sent_once(self, rows):
        got = self.maildir_ids()
        for r in rows:
            self.assertEqual(r[1], "sent", r)
            self.assertEqual(got[r[2]], 1, "message %r reached the Maildir %d times"
                             % (r, got[r[2]]))
        self.assertEqual(sum(got.values()), len(rows), got)

    def all_sent(self, n):
        """The email rows once there are at least n (bookings' confirmations;
        the ticker may add reminders) and all are sent."""
        rows = self.emails()
        return rows if len(rows) >= n and all(r[1] == "sent" for r in rows) else None

    def test_three_nodes_deliver_once_and_take_over_a_dead_nodes_claims(self):
        a, b, c = self.nodes()
        id_a, id_b, id_c = node_id(a), node_id(b), node_id(c)
        self.assertEqual(len({id_a, id_b, id_c}), 3)

        # 1. Bookings through each node, then a burst of copies of their
        # confirmations queued at once: both workers claim from the same
        # pending rows concurrently (each looks every LEASE_S / 4 s).
        per_node = 3
        self.book_via(a, per_node, "a", DATES[0:3])
        self.book_via(b, per_node, "b", DATES[3:6])
        self.book_via(c, per_node, "c", DATES[6:9])
        booked = 3 * per_node
        wait_for(lambda: self.all_sent(booked), 60,
                 "%d confirmations sent: %r" % (booked, self.emails()))
        copies = 8  # 72 queued at once: Postfix under a loaded CI keeps up
        self.srv.sql(
            "INSERT INTO outbox(idem_key, appointment_id, customer_id, channel, template, "
            "payload, due_at, created_at, recipient) SELECT 'copy:' || g || ':' || o.id, "
            "o.appointment_id, o.customer_id, o.channel, o.template, o.payload, o.created_at, "
            "o.created_at, o.recipient FROM outbox o CROSS JOIN generate_series(1, ?) g "
            "WHERE o.channel = 'email' AND o.template = 'booking_confirmation'", (copies,))
        n_copies = self.srv.sql("SELECT count(*) FROM outbox WHERE idem_key LIKE 'copy:%'")[0][0]
        self.assertGreaterEqual(n_copies, booked * copies)
        rows = wait_for(lambda: self.all_sent(booked + n_copies), 180,
                        "every message sent: %r" % (self.emails(),))
        wait_for(lambda: sum(self.maildir_ids().values()) >= len(rows), 30,
                 "%d emails in the Maildir" % len(rows))
        self.assert_each_sent_once(rows)
        self.assertEqual({r[3] for r in rows}, {id_a, id_b, id_c})
        by_copy = Counter(r[0] for r in self.srv.sql(
            "SELECT claimed_by FROM outbox WHERE idem_key LIKE 'copy:%'"))
        # Every node looks each second; whichever looks first claims up to
        # delivery.parallel (32) at once, so a third may find none left.
        self.assertGreaterEqual(len(by_copy), 2, by_copy)
        self.assertLessEqual(set(by_copy), {id_a, id_b, id_c}, by_copy)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM outbox WHERE state = 'sending'"),
                         [(0,)])

        # 2. B's gateway stops answering; B claims what is booked through it.
        self.relay.hold.set()
        self.book_via(b, 6, "held", DATES[9:])
        held = wait_for(lambda: (lambda r: r if len(r) >= 3 else None)(
            self.srv.sql("SELECT id FROM outbox WHERE state = 'sending' AND claimed_by = ?",
                         (id_b,))), 30, "node B's claims in flight")
        # Everything else settles (A may have sent some of the six).
        wait_for(lambda: not self.srv.sql(
            "SELECT id FROM outbox WHERE state <> 'sent' AND (claimed_by IS NULL "
            "OR claimed_by <> ?)", (id_b,)), 30, "all but B's claims sent")
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait(10)
        b.stderr_file.close()
        b.assert_no_sanitizer_report("node B")
        in_flight = [r[0] for r in self.srv.sql(
            "SELECT id FROM outbox WHERE state = 'sending' ORDER BY id")]
        self.assertGreaterEqual(len(in_flight), len(held))

        # Younger than the lease: A and C leave them alone (they look every 2 s).
        time.sleep(LEASE_S / 4 * 2 + 1)
        self.assertEqual([r[0] for r in self.srv.sql(
            "SELECT id FROM outbox WHERE state = 'sending' ORDER BY id")], in_flight)
        for n in (a, c):
            self.assertNotIn("uncertain_sends", n.stderr_text())

        # Older than the lease on both clocks: A and C look at once, and
        # between them take each over once while they run.
        for n in (c, a):
            r = n.request("POST", "/api/v1/admin/clock", {"seconds": LEASE_S + 1},
                          token="admin", timeout=180)
            self.assertEqual(r.status, 200, r.raw)
        total = booked + n_copies + 6
        rows = wait_for(lambda: self.all_sent(total), 120,
                        "every confirmation sent after the takeover: %r" % (self.emails(),))
        wait_for(lambda: sum(self.maildir_ids().values()) >= len(rows), 30,
                 "%d emails in the Maildir" % len(rows))
        self.assert_each_sent_once(rows)
        taken = [r for r in rows if r[0] in in_flight]
        self.assertEqual(len(taken), len(in_flight))
        for r in taken:
            self.assertIn(r[3], (id_a, id_c), r)  # sent by A or C
            self.assertTrue(r[4], r)  # counted uncertain
        took = [l for n in (a, c) for l in (json.loads(t) for t in n.stderr_text().split("\n")
                                            if t.strip()) if l["msg"] == "uncertain_sends"]
        self.assertEqual(sum(l["count"] for l in took), len(in_flight), took)
        names = {id_a: "A", id_b: "B", id_c: "C"}
        print("\n%d messages; the burst of %d claimed by %s; %d of B's claims taken over "
              "by %s" % (len(rows), n_copies,
                         {names[k]: v for k, v in sorted(by_copy.items())}, len(taken),
                         dict(Counter(names[r[3]] for r in taken))))
        self.assertEqual(self.srv.sql("SELECT count(*) FROM outbox WHERE state = 'sending'"),
                         [(0,)])


if __name__ == "__main__":
    unittest.main()
