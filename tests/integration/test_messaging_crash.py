"""The server killed with SIGKILL while it sends, twenty times (label:
messaging).

A real Kannel and a real Postfix take the messages. Each round books a few
appointments (an email and an SMS each, every SMS to its own number), kills
the server with SIGKILL a random moment later, and starts it again on the
same database and port. At the end the outbox drains and the test checks
what the gateways received against what the database says:

- no message is lost: every outbox row is sent, and its message reached
  its gateway (the email by its Message-ID in the Maildir, the SMS by its
  number in the fake SMSC's log);
- a message arrived twice only if its send was cut off by a kill (the row
  is marked uncertain); every other message arrived exactly once;
- how many kills landed inside a send is printed (rows marked uncertain),
  with how many of those were duplicated at the gateway.
"""

import os
import random
import tempfile
import time
import unittest

import gateways
import otd
import otd_booking as ob

VT = "planning-inspection"
ROUNDS = 20
PER_ROUND = 3


class TestKilledWhileSending(ob.BookingTestCase):

    @classmethod
    def setUpClass(cls):
        root = gateways.gateway_root(otd.TEST_TMP, cls.__name__ + "-gw-")
        cls.kannel = gateways.Kannel(os.path.join(root, "kannel"))
        cls.smtp = gateways.Smtp(os.path.join(root, "smtp"))
        cls.smtp.start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.kannel.start()
        cls.addClassCleanup(cls.kannel.stop)
        cls.server_env = {
            "ONTHEDOT_DELIVERY_EMAIL_PROVIDERS": "smtp",
            "ONTHEDOT_DELIVERY_SMS_PROVIDERS": "kannel",
            "ONTHEDOT_DELIVERY_SMTP_URL": cls.smtp.url,
            "ONTHEDOT_DELIVERY_SMTP_CAFILE": cls.smtp.cafile,
            "ONTHEDOT_DELIVERY_KANNEL_URL": cls.kannel.sendsms_url,
            "ONTHEDOT_DELIVERY_KANNEL_USER": cls.kannel.username,
            "ONTHEDOT_DELIVERY_KANNEL_PASSWORD": cls.kannel.password,
            "ONTHEDOT_DELIVERY_KANNEL_FROM": "Wrenfield",
            "ONTHEDOT_DELIVERY_SMS_UNCERTAIN_GRACE_S": "3",
            "ONTHEDOT_DELIVERY_MAX_ATTEMPTS": "20",
            "ONTHEDOT_DELIVERY_BACKOFF_BASE_S": "1",
            "ONTHEDOT_DELIVERY_BACKOFF_CAP_S": "2",
            "ONTHEDOT_MESSAGES_QUIET_START": "",
            "ONTHEDOT_MESSAGES_QUIET_END": "",
        }
        super().setUpClass()
        cls.srv.secrets.add(cls.kannel.password)
        cls.srv.listen_port = cls.srv.port  # restarts keep the port (delivery reports)
        cls.kannel_restarts = 0
        cls.sms_before = []  # what the fake SMSC logged before a restart

    def supervise_kannel(self):
        """Kannel 1.4.5's smsbox panics (conn_unregister assertion) when a
        delivery report's connection is reset, as it is when the server is
        killed mid-request: restart it as a supervisor would. Sends made
        while it was down are retried by the server."""
        if all(p.poll() is None for p in self.kannel.procs.values()):
            return
        self.kannel_restarts += 1
        self.sms_before += self.kannel.messages()  # start() begins new logs
        self.kannel.stop()
        self.kannel.start()

    def all_sms(self):
        return self.sms_before + self.kannel.messages()

    def restart_killed(self):
        self.srv.proc.kill()
        self.srv.proc.wait(10)
        self.srv.stderr_file.close()
        self.srv.start(prepare=False)

    def test_sigkill_mid_send(self):
        rng = random.Random(int(os.environ.get("OTD_SEED", "20261204")))
        vt = self.types[VT]["id"]
        addresses = [a["id"] for a in self.addr.values()]
        booked = []  # (appointment id, phone)
        n = 0
        dates = ["2026-03-%02d" % d for d in (5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20)]
        for rnd in range(ROUNDS):
            for _ in range(PER_ROUND):
                n += 1
                phone = "+4477009%05d" % (10000 + n)
                date = dates[n % len(dates)]
                a = addresses[n % len(addresses)]
                ws = self.windows(a, vt, date).get(date) or []
                self.assertTrue(ws, "no window on %s" % date)
                w = ws[rng.randrange(len(ws))]
                h = self.hold(a, vt, w["start"])
                if h.status != 201:
                    continue
                r = self.book(h.body["hold"], name="Crash Test %d" % n, phone=phone,
                              email="crash%d@example.org" % n)
                self.assertEqual(r.status, 201, r.raw)
                booked.append((self.appointment_id(r.body["reference"]), phone, n))
            time.sleep(rng.uniform(0.0, 0.25))
            self.restart_killed()
            self.supervise_kannel()
        # Drain: the interrupted SMS wait for their grace period.
        deadline = time.monotonic() + 90
        while True:
            left = self.srv.sql("SELECT count(*) FROM outbox WHERE state IN ('pending', "
                                "'sending', 'uncertain')")[0][0]
            if left == 0:
                break
            self.assertLess(time.monotonic(), deadline, "%d messages still waiting" % left)
            self.supervise_kannel()
            self.clock(seconds=2)
            time.sleep(0.5)

        rows = self.srv.sql("SELECT id, appointment_id, channel, state, provider_id, "
                            "uncertain_at IS NOT NULL FROM outbox ORDER BY id")
        self.assertEqual(len(rows), 2 * len(booked))
        self.assertEqual([r for r in rows if r[3] != "sent"], [])
        phone_of = {aid: phone for aid, phone, _ in booked}
        email_of = {aid: "crash%d@example.org" % k for aid, _, k in booked}
        # Everything has reached the gateways (Postfix and Kannel are quick,
        # but give them a moment).
        self.smtp.wait_messages(len(booked), timeout=30)
        deadline = time.monotonic() + 30
        while len(self.all_sms()) < len(booked):
            self.assertLess(time.monotonic(), deadline, "SMS missing at the fake SMSC")
            time.sleep(0.1)
        mails = self.smtp.messages()
        sms = self.all_sms()
        uncertain = dup = 0
        for rid, aid, channel, state, provider_id, was_uncertain in rows:
            if channel == "email":
                got = [m for m in mails if m["Message-ID"] == provider_id]
                self.assertIn(email_of[aid], got[0]["To"] if got else "", (rid, provider_id))
            else:
                got = [m for m in sms if m["receiver"] == phone_of[aid]]
            self.assertGreaterEqual(len(got), 1, "message %d (%s) was lost" % (rid, channel))
            if was_uncertain:
                uncertain += 1
                dup += len(got) > 1
            else:
                self.assertEqual(len(got), 1, "message %d (%s) arrived %d times but was not "
                                 "marked uncertain" % (rid, channel, len(got)))
        metrics = self.srv.request("GET", "/metrics", token="admin").raw.decode()
        self.assertIn("otd_outbox_uncertain_total %d" % uncertain, metrics)
        print("\n%d kills, %d messages: %d sends cut off by a kill (marked uncertain), %d of "
              "them arrived twice; every other message exactly once, none lost (Kannel's smsbox "
              "restarted %d times)" % (ROUNDS, len(rows), uncertain, dup, self.kannel_restarts))


if __name__ == "__main__":
    unittest.main()
