"""The server killed with SIGKILL at random moments under load, twenty
times, and started again each time (issue 10; label: messaging).

Load all along, from outside the process being killed:
- wrk with tests/load/slots.lua (slot queries) and tests/load/pages.lua
  (customer page reads, HTML and JSON, of appointments booked first);
- two booking clients of this test (threads): the windows of a day, a hold,
  the booking with an Idempotency-Key, each customer with their own email
  address. A request cut off by the kill is sent again, the same hold with
  the same key, until it has a final answer, as a careful client does.
The confirmation emails go to a real Postfix on loopback.

Each round lets the load run for a random 0.2-1.5 s, kills the server with
SIGKILL and starts it again on the same database and port. At the end the
outbox drains and the test checks:
- every booking a client saw confirmed (201) is stored, booked, with the
  reference the client was given, and no customer has two appointments
  (a retried booking was never made twice);
- no visitor is double booked: every visitor's day, re-timed from the
  database with exact durations and travel (the visit type's spread and
  the travel spread are 0), reaches every visit inside its window;
- no message is lost: every outbox row is sent and its email reached
  Postfix (by Message-ID); an email arrived twice only if its send was cut
  off by a kill (the row is marked uncertain), and /metrics counts those;
- PRAGMA integrity_check and foreign_key_check pass (the harness, at the
  end).
"""

import http.client
import os
import random
import shutil
import socket
import subprocess
import threading
import time
import unittest

import gateways
import otd
import otd_booking as ob

ROUNDS = 20
CLIENTS = 2
VT = "planning-inspection"
LOAD_DIR = os.path.join(os.environ.get("OTD_SOURCE_DIR",
                                       os.path.join(os.path.dirname(__file__), "..", "..")),
                        "tests", "load")
TRANSIENT = (OSError, http.client.HTTPException)


class TestKilledUnderLoad(ob.BookingTestCase):
    visit_types = [
        {"code": VT, "name": "Planning inspection", "skill": "planning",
         "duration_median_minutes": 45, "duration_spread": 0, "window_minutes": 60},
    ]

    @classmethod
    def setUpClass(cls):
        if shutil.which("wrk") is None:
            raise AssertionError("wrk is missing: bash contrib/install-deps.sh test")
        root = gateways.gateway_root(otd.TEST_TMP, cls.__name__ + "-gw-")
        cls.smtp = gateways.Smtp(os.path.join(root, "smtp"))
        cls.smtp.start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.server_env = {
            "ONTHEDOT_DELIVERY_EMAIL_PROVIDERS": "smtp",
            "ONTHEDOT_DELIVERY_SMTP_URL": cls.smtp.url,
            "ONTHEDOT_DELIVERY_SMTP_CAFILE": cls.smtp.cafile,
            "ONTHEDOT_DELIVERY_MAX_ATTEMPTS": "20",
            "ONTHEDOT_DELIVERY_BACKOFF_BASE_S": "1",
            "ONTHEDOT_DELIVERY_BACKOFF_CAP_S": "2",
            "ONTHEDOT_MESSAGES_QUIET_START": "",
            "ONTHEDOT_MESSAGES_QUIET_END": "",
            "ONTHEDOT_PLANNING_TRAVEL_SPREAD": "0",
            "ONTHEDOT_HTTP_PER_IP_CONNECTIONS": "0",
        }
        super().setUpClass()
        cls.srv.listen_port = cls.srv.port  # restarts keep the port

    def setUp(self):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.confirmed = {}  # email -> reference the client was given
        self.refused = 0
        self.retries = 0
        self.wrk = []

    def tearDown(self):
        self.stop.set()
        for p in self.wrk:
            if p.poll() is None:
                p.kill()
            p.wait(10)

    # -- the load --

    def start_wrk(self, kind, data, rate, conns=2):
        env = dict(os.environ, OTD_KIND=kind, OTD_DELAY_MS=str(int(conns * 1000 / rate)),
                   OTD_LOAD_LUA=LOAD_DIR, OTD_LOAD_DATA=data, OTD_TOKEN=self.srv.token)
        out = open(os.path.join(data, "wrk-%s.txt" % kind), "w")
        p = subprocess.Popen(["wrk", "-t1", "-c%d" % conns, "-d300s", "--timeout", "5s",
                              "-s", os.path.join(LOAD_DIR, kind + ".lua"),
                              "http://127.0.0.1:%d" % self.srv.port],
                             stdout=out, stderr=subprocess.STDOUT, env=env)
        out.close()
        self.wrk.append(p)

    def call(self, method, path, body=None, headers=None):
        """One request; a transient failure (the server being killed or
        starting) is retried until an answer other than 503 comes."""
        while not self.stop.is_set():
            try:
                r = self.srv.request(method, path, body, token="admin", headers=headers,
                                     timeout=10)
            except TRANSIENT:
                with self.lock:
                    self.retries += 1
                time.sleep(0.05)
                continue
            if r.status == 503:
                time.sleep(0.05)
                continue
            return r
        return None

    def booking_client(self, k, dates, addresses, seed):
        rng = random.Random(seed)
        vt = self.types[VT]["id"]
        n = 0
        while not self.stop.is_set():
            n += 1
            date = rng.choice(dates)
            a = rng.choice(addresses)
            r = self.call("GET", "/api/v1/slots?visit_type=%d&address=%d&from=%s&to=%s"
                          % (vt, a, date, date))
            if r is None:
                return
            if r.status != 200 or not r.body["days"]:
                continue
            w = rng.choice(r.body["days"][0]["windows"])
            h = self.call("POST", "/api/v1/holds", {"address": a, "visit_type": vt,
                                                    "window_start": w["start"]})
            if h is None:
                return
            if h.status != 201:
                continue
            self.srv.note_secret(h.body["hold"])
            email = "load%d-%d@example.org" % (k, n)
            body = {"hold": h.body["hold"], "name": "Crash Load %d %d" % (k, n), "email": email,
                    "consent": {"email": True, "sms": False}}
            b = self.call("POST", "/api/v1/appointments", body,
                          headers={"Idempotency-Key": "crash-load-%d-%d" % (k, n)})
            if b is None:
                return
            with self.lock:
                if b.status == 201:
                    self.note_link(b.body)
                    self.confirmed[email] = b.body["reference"]
                else:
                    self.refused += 1

    def restart_killed(self):
        self.srv.proc.kill()
        self.srv.proc.wait(10)
        self.srv.stderr_file.close()
        self.srv.start(prepare=False)

    # -- the test --

    def test_sigkill_under_load(self):
        rng = random.Random(int(os.environ.get("OTD_SEED", "20261205")))
        vt = self.types[VT]["id"]
        addresses = [a["id"] for a in self.addr.values()]
        dates = ["2026-03-%02d" % d for d in (3, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20)]
        # Appointments whose pages are read under load.
        tokens = []
        for i in range(6):
            date = dates[i]
            ws = self.windows(addresses[i], vt, date).get(date)
            view = self.hold_and_book(addresses[i], vt, ws[0]["start"], name="Page %d" % i,
                                      phone=None, email="page%d@example.org" % i)
            tokens.append(self.token_of(view))
        data = os.path.join(self.srv.dir, "load")
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "addresses.tsv"), "w") as f:
            f.writelines("%d\t%d\n" % (a, vt) for a in addresses)
        with open(os.path.join(data, "dates.tsv"), "w") as f:
            f.writelines(d + "\n" for d in dates)
        with open(os.path.join(data, "tokens.tsv"), "w") as f:
            f.writelines(t + "\n" for t in tokens)
        self.start_wrk("slots", data, 40)
        self.start_wrk("pages", data, 40)
        clients = [threading.Thread(target=self.booking_client,
                                    args=(k, dates, addresses, rng.randrange(10**9)))
                   for k in range(CLIENTS)]
        for t in clients:
            t.start()
        try:
            for _ in range(ROUNDS):
                time.sleep(rng.uniform(0.2, 1.5))
                self.restart_killed()
                # Up again before the next round's load counts.
                gateways.wait_until(lambda: gateways.port_open(self.srv.port), 30,
                                    "the restarted server")
            time.sleep(1.0)
        finally:
            self.stop.set()
            for t in clients:
                t.join(60)
            for p in self.wrk:
                p.kill()
                p.wait(10)
        self.assertFalse(any(t.is_alive() for t in clients), "a booking client hung")
        self.assertGreater(len(self.confirmed), ROUNDS, "too few bookings under load to judge")

        # Every confirmed booking is stored as the client was told.
        rows = self.srv.sql("SELECT c.email, a.reference, a.status FROM appointments a JOIN "
                            "customers c ON c.id = a.customer_id WHERE c.email LIKE 'load%'")
        stored = {}
        for email, ref, status in rows:
            self.assertNotIn(email, stored, "customer %s has two appointments" % email)
            stored[email] = (ref, status)
        for email, ref in self.confirmed.items():
            self.assertIn(email, stored, "booking %s (%s) confirmed but not stored" % (ref, email))
            self.assertEqual(stored[email], (ref, "booked"), email)
        unconfirmed = set(stored) - set(self.confirmed)
        # A booking committed just as the test stopped its clients may have
        # no answer: at most one a client.
        self.assertLessEqual(len(unconfirmed), CLIENTS, unconfirmed)

        # No visitor double booked: exact re-timing of every day.
        days = self.srv.sql("SELECT DISTINCT visitor_id, local_date FROM appointments WHERE "
                            "status = 'booked'")
        shift_start = {v["id"]: p[2] for v, p in zip(self.org_visitors, ob.PLANNING_VISITORS)}
        for visitor_id, date in days:
            stops = ob.visitor_day_stops(self.srv, visitor_id, date)
            arrivals, _ = ob.simulate_route(
                ob.CENTRE, ob.secs(ob.local(date, shift_start[visitor_id])), None, stops)
            for s, t in zip(stops, arrivals):
                self.assertLessEqual(t, s["end"], "visitor %d on %s reaches %s at %s, after its "
                                     "window" % (visitor_id, date, s["reference"], ob.iso(t)))

        # No message lost; duplicates only among uncertain sends.
        deadline = time.monotonic() + 90
        while True:
            left = self.srv.sql("SELECT count(*) FROM outbox WHERE state IN ('pending', "
                                "'sending', 'uncertain')")[0][0]
            if left == 0:
                break
            self.assertLess(time.monotonic(), deadline, "%d messages still waiting" % left)
            self.clock(seconds=2)
            time.sleep(0.5)
        out = self.srv.sql("SELECT id, channel, state, provider_id, uncertain_at IS NOT NULL, "
                           "recipient FROM outbox ORDER BY id")
        self.assertEqual([r for r in out if r[2] != "sent"], [])
        self.assertEqual({r[1] for r in out}, {"email"})
        self.smtp.wait_messages(len(out), timeout=30)
        mails = self.smtp.messages()
        uncertain = dup = 0
        for rid, _, _, provider_id, was_uncertain, recipient in out:
            got = [m for m in mails if m["Message-ID"] == provider_id]
            self.assertGreaterEqual(len(got), 1, "message %d was lost" % rid)
            self.assertIn(recipient, got[0]["To"])
            if was_uncertain:
                uncertain += 1
                dup += len(got) > 1
            else:
                self.assertEqual(len(got), 1, "message %d arrived %d times but was not marked "
                                 "uncertain" % (rid, len(got)))
        metrics = self.srv.request("GET", "/metrics", token="admin").raw.decode()
        self.assertIn("otd_outbox_uncertain_total %d" % uncertain, metrics)
        print("\n%d kills under load: %d bookings confirmed and stored, %d refused (409), "
              "%d requests retried after a kill; %d messages, %d sends cut off by a kill "
              "(uncertain), %d of them arrived twice, none lost"
              % (ROUNDS, len(self.confirmed), self.refused, self.retries, len(out), uncertain,
                 dup))


if __name__ == "__main__":
    unittest.main()
