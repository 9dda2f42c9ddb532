"""Messaging over real gateways on loopback (label: messaging).

The server sends through a real Kannel (bearerbox, smsbox, the fake SMSC
logging every SMS; delivery reports come back to the server's dlr-url) and a
real Postfix that stores each email in a Maildir with STARTTLS verified
against its own certificate. Emails are parsed from disk with Python's MIME
parser and their invites checked by python3-icalendar and python3-vobject
(ics_checks.py); SMS are read from the fake SMSC's log (UCS-2 decoded).
Inbound SMS are injected through Kannel's MO link and reach the server by
Kannel's get-url.

Faults a real gateway will not produce on demand (answering 500, garbage,
or too slowly) come from a small local HTTP server standing in for sendsms.
"""

import email.header
import http.server
import json
import os
import secrets
import socket
import tempfile
import threading
import time
import unittest

import gateways
import ics_checks
import otd
import otd_booking as ob

VT = "planning-inspection"
MO_SECRET = "mo-" + secrets.token_hex(12)


def decoded(header_value):
    """A header's text with RFC 2047 words decoded."""
    return str(email.header.make_header(email.header.decode_header(header_value)))


def parts_of(msg):
    """[(content type, part)] of every leaf part, depth first."""
    return [(p.get_content_type(), p) for p in msg.walk() if not p.is_multipart()]


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class GatewayCase(ob.BookingTestCase):
    """A booking server sending through a real Kannel and a real Postfix."""

    extra_env = {}

    @classmethod
    def start_kannel(cls, root):
        """Kannel on free ports, its inbound messages sent to the server's
        port (chosen now, before the server starts): a port taken meanwhile
        by another process is retried with new ones."""
        cls.listen_port = gateways.free_port()
        mo = ("http://127.0.0.1:%d/api/v1/webhooks/kannel/mo?secret=%s&from=%%p&text=%%a&id=%%I"
              % (cls.listen_port, MO_SECRET))
        for attempt in range(3):
            cls.kannel = gateways.Kannel(os.path.join(root, "kannel%d" % attempt))
            try:
                cls.kannel.start(mo_url=mo, mo_recode=True)
                break
            except gateways.GatewayError:
                cls.kannel.stop()
                if attempt == 2:
                    raise
        cls.addClassCleanup(cls.kannel.stop)

    @classmethod
    def setUpClass(cls):
        root = gateways.gateway_root(otd.TEST_TMP, cls.__name__ + "-gw-")
        cls.start_kannel(root)
        cls.smtp = gateways.Smtp(os.path.join(root, "smtp"))
        cls.smtp.start()
        cls.addClassCleanup(cls.smtp.stop)
        env = {
            "ONTHEDOT_DELIVERY_EMAIL_PROVIDERS": "smtp",
            "ONTHEDOT_DELIVERY_SMS_PROVIDERS": "kannel",
            "ONTHEDOT_DELIVERY_SMTP_URL": cls.smtp.url,
            "ONTHEDOT_DELIVERY_SMTP_CAFILE": cls.smtp.cafile,
            "ONTHEDOT_DELIVERY_KANNEL_URL": cls.kannel.sendsms_url,
            "ONTHEDOT_DELIVERY_KANNEL_USER": cls.kannel.username,
            "ONTHEDOT_DELIVERY_KANNEL_PASSWORD": cls.kannel.password,
            "ONTHEDOT_DELIVERY_KANNEL_FROM": "Wrenfield",
            "ONTHEDOT_DELIVERY_KANNEL_MO_SECRET": MO_SECRET,
            "ONTHEDOT_DELIVERY_BACKOFF_BASE_S": "1",
            "ONTHEDOT_DELIVERY_BACKOFF_CAP_S": "2",
            "ONTHEDOT_MESSAGES_QUIET_START": "",
            "ONTHEDOT_MESSAGES_QUIET_END": "",
        }
        env.update(cls.extra_env)
        cls.server_env = env
        super().setUpClass()
        cls.srv.secrets.update({MO_SECRET, cls.kannel.password})

    def book_one(self, line1, date, index=0, **kw):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        return self.hold_and_book(a, vt, ws[index]["start"], **kw)

    def rows(self, appointment_id):
        return self.srv.sql("SELECT id, channel, template, state, provider, provider_id, "
                            "attempts, last_error FROM outbox WHERE appointment_id = ? "
                            "ORDER BY id", (appointment_id,))

    def wait_sent(self, appointment_id, n, timeout=20):
        return wait_for(lambda: (lambda r: r if len(r) >= n and all(x[3] == "sent" for x in r)
                                 else None)(self.rows(appointment_id)),
                        timeout, "%d messages of appointment %d sent: %r"
                        % (n, appointment_id, self.rows(appointment_id)))

    def email_to(self, address, n=1, timeout=20):
        def find():
            got = [m for m in self.smtp.messages() if address in m["To"]]
            return got if len(got) >= n else None
        return wait_for(find, timeout, "%d email(s) to %s" % (n, address))

    def email_with(self, address, needle, timeout=20):
        """The email to address whose subject holds needle (waiting for it)."""
        return wait_for(lambda: [m for m in self.smtp.messages()
                                 if address in m["To"] and needle in decoded(m["Subject"])],
                        timeout, "an email to %s about %r" % (address, needle))[-1]

    def sms_with(self, number, needle, timeout=20):
        """The SMS to number whose text holds needle (waiting for it)."""
        return wait_for(lambda: [m for m in self.kannel.messages()
                                 if m["receiver"] == number and needle in m["text"]],
                        timeout, "an SMS to %s with %r" % (number, needle))[-1]

    def sms_to(self, number, n=1, timeout=20):
        def find():
            got = [m for m in self.kannel.messages() if m["receiver"] == number]
            return got if len(got) >= n else None
        return wait_for(find, timeout, "%d SMS to %s" % (n, number))


class TestBookingMessages(GatewayCase):

    def test_confirmation_reaches_both_gateways_intact(self):
        name = "Zoë O'Brien-Nguyễn"
        v = self.book_one("5 Willow Drive", "2026-03-05", 1, name=name, phone="07700 900501",
                          email="zoe@example.org")
        aid = self.appointment_id(v["reference"])
        rows = self.wait_sent(aid, 2)
        by_channel = {r[1]: r for r in rows}
        self.assertEqual(by_channel["email"][4], "smtp")
        self.assertEqual(by_channel["sms"][4], "kannel")

        # The email, parsed from the Maildir.
        msg = self.email_to("zoe@example.org")[0]
        self.assertEqual(decoded(msg["To"]).split(" <")[0].strip('"'), name)
        self.assertIn("zoe@example.org", msg["To"])
        self.assertIn("visits@wrenfield.example", msg["From"])
        self.assertTrue(msg["Date"], msg)
        self.assertRegex(msg["Message-ID"], r"^<[0-9a-f]{32}@wrenfield\.example>$")
        self.assertEqual(by_channel["email"][5], msg["Message-ID"])
        self.assertTrue(decoded(msg["Subject"]))
        self.assertEqual(msg.get_content_type(), "multipart/mixed")
        top = list(msg.iter_parts())
        self.assertEqual(top[0].get_content_type(), "multipart/alternative")
        alt = [p.get_content_type() for p in top[0].iter_parts()]
        self.assertEqual(alt, ["text/plain", "text/html", "text/calendar"])
        cal = list(top[0].iter_parts())[2]
        self.assertEqual(cal.get_param("method"), "REQUEST")
        self.assertEqual(top[1].get_filename(), "invite.ics")
        text = list(top[0].iter_parts())[0].get_content()
        html = list(top[0].iter_parts())[1].get_content()
        self.assertIn(name, text)
        self.assertIn("O&#39;Brien-Nguyễn", html)
        ics = top[1].get_content()
        if isinstance(ics, bytes):
            ics = ics.decode("utf-8")
        ics_checks.check(self, ics, "REQUEST", v["reference"] + "@onthedot", 1,
                         v["window"]["start"], v["window"]["end"], attendee="zoe@example.org",
                         attendee_cn=name, organizer="visits@wrenfield.example")
        # Every line within 998 octets, CRLF ends (what Postfix stored).
        raw = open(msg.path, "rb").read() if hasattr(msg, "path") else msg.as_bytes()
        self.assertTrue(all(len(line) <= 998 for line in raw.split(b"\n")))

        # The SMS: UCS-2 (ễ is not GSM-7), the name intact, one per message.
        sms = self.sms_to("+447700900501")
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms[0]["coding"], "ucs-2", sms)
        self.assertIn(name, sms[0]["text"])
        self.assertIn("/a/", sms[0]["text"])

        # Kannel's delivery reports reach the server (through the dlr-url).
        sms_id = by_channel["sms"][0]
        wait_for(lambda: self.srv.sql("SELECT status FROM delivery_receipts WHERE outbox_id = ? "
                                      "AND status = 'delivered'", (sms_id,)),
                 20, "a delivery report for the SMS")
        # What is kept as evidence opens nothing: the link's secret is gone.
        for (payload,) in self.srv.sql("SELECT payload FROM outbox WHERE appointment_id = ?",
                                       (aid,)):
            self.assertNotRegex(payload, r"/a/[A-Za-z0-9_-]{22}")
            self.assertIn("/a/REDACTED", payload)

    def test_polish_name_in_gsm_or_ucs2(self):
        v = self.book_one("7 Church Lane", "2026-03-06", 0, name="Łukasz Kowalski",
                          phone="07700 900502", email=None)
        aid = self.appointment_id(v["reference"])
        self.wait_sent(aid, 1)
        sms = self.sms_to("+447700900502")[0]
        self.assertEqual(sms["coding"], "ucs-2")
        self.assertIn("Łukasz Kowalski", sms["text"])

    def test_markup_in_a_name_is_escaped_everywhere(self):
        name = "<img src=x onerror=alert(1)>"
        v = self.book_one("12 High Street", "2026-03-06", 1, name=name, phone="07700 900503",
                          email="markup@example.org")
        aid = self.appointment_id(v["reference"])
        self.wait_sent(aid, 2)
        msg = self.email_to("markup@example.org")[0]
        alt = list(list(msg.iter_parts())[0].iter_parts())
        html = alt[1].get_content()
        self.assertNotIn("<img", html)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", html)
        # The plain text part and the SMS carry it as text, as typed.
        self.assertIn(name, alt[0].get_content())
        self.assertIn(name, self.sms_to("+447700900503")[0]["text"])
        # The To header quotes it (no header or address can be injected).
        self.assertIn('"<img src=x onerror=alert(1)>" <markup@example.org>',
                      msg["To"].replace("\r\n", "").replace("\n", ""))

    def test_inbound_sms_goes_to_the_inbox(self):
        v = self.book_one("21 Station Road", "2026-03-09", 0, name="Priya Shah",
                          phone="07700 900504", email=None)
        aid = self.appointment_id(v["reference"])
        self.wait_sent(aid, 1)
        self.kannel.inject_mo("+447700900504", "Wrenfield", "Can the officer ring first?")
        rows = wait_for(lambda: self.srv.sql("SELECT outcome, appointment_id, body, state FROM "
                                             "inbound_messages WHERE sender = '+447700900504'"),
                        20, "the inbound SMS")
        self.assertEqual(rows[0][0], "inbox")
        self.assertEqual(rows[0][1], aid)
        self.assertEqual(rows[0][2], "Can the officer ring first?")
        self.assertEqual(rows[0][3], "open")
        # "1" keeps the window: recorded on the appointment, waiving nothing.
        self.kannel.inject_mo("+447700900504", "Wrenfield", "1")
        wait_for(lambda: self.srv.sql("SELECT 1 FROM inbound_messages WHERE outcome = 'kept' "
                                      "AND appointment_id = ?", (aid,)), 20, "the reply 1")
        kinds = [e["kind"] for e in ob.events(self.srv, aid)]
        self.assertIn("customer_keeps_window", kinds)
        # A number we do not know.
        self.kannel.inject_mo("+447700900999", "Wrenfield", "who is this")
        wait_for(lambda: self.srv.sql("SELECT 1 FROM inbound_messages WHERE outcome = "
                                      "'unknown_sender' AND sender = '+447700900999'"),
                 20, "the unknown sender")

    def test_webhooks_refuse_bad_tokens(self):
        r = self.srv.request("GET", "/api/v1/webhooks/kannel/dlr?id=1&t=AAAAAAAAAAAAAAAAAAAAAA"
                             "&type=1&status=x")
        self.assertError(r, 403, "bad_signature")
        r = self.srv.request("GET", "/api/v1/webhooks/kannel/mo?secret=wrong&from=%2B44770090"
                             "0504&text=2")
        self.assertError(r, 403, "bad_signature")
        r = self.srv.request("POST", "/api/v1/webhooks/twilio/status?id=1&t=x",
                             raw=b"MessageStatus=delivered",
                             content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 404, r.raw)  # Twilio is not configured here

    def test_metrics_show_the_worker(self):
        text = self.srv.request("GET", "/metrics", token="admin").raw.decode()
        self.assertIn("otd_delivery_running 1", text)
        self.assertIn("otd_outbox_uncertain_total 0", text)


class TestApology(GatewayCase):
    """A scripted late day: the only planning officer is taken ill; every
    customer of the day hears from us once, with two windows held for them
    on other days, and moves with a text reply or the link."""

    holidays = None
    visitors = [dict(name="Priya Shah", role_title="planning officer", phone="01632 960100",
                     base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}, skills=["planning"],
                     shifts=[{"start": "2026-03-02T08:00", "duration_minutes": 540,
                              "rrule": ob.WEEKDAYS}])]

    def apologies(self, aid):
        return self.srv.sql("SELECT channel, state, payload FROM outbox WHERE appointment_id = ? "
                            "AND template IN ('apology', 'cannot_attend') ORDER BY id", (aid,))

    def offers(self, aid):
        return self.srv.sql("SELECT id, window_start, window_end, expires_at, local_date FROM "
                            "holds WHERE for_appointment = ? AND purpose = 'apology_offer' "
                            "ORDER BY window_start", (aid,))

    def test_late_day_apologises_once_and_rebooks(self):
        date = "2026-03-03"
        vt = self.types[VT]["id"]
        people = [("Zoë O'Brien-Nguyễn", "07700 900701", "zoe.obn@example.org", "5 Willow Drive"),
                  ("Łukasz Nowak", "07700 900702", None, "7 Church Lane"),
                  ("Amelia Hughes", None, "amelia.h@example.org", "12 High Street")]
        booked = []
        for i, (name, phone, mail, line1) in enumerate(people):
            a = self.addr[line1]["id"]
            ws = self.windows(a, vt, date)[date]
            v = self.hold_and_book(a, vt, ws[2 + 3 * i]["start"], name=name, phone=phone,
                                   email=mail)
            aid = self.appointment_id(v["reference"])
            booked.append((aid, v, name, phone, mail))
            self.wait_sent(aid, (phone is not None) + (mail is not None))
        # Tuesday 08:10: Priya calls in sick.
        self.clock(to=ob.iso(ob.secs(ob.local(date, "08:10"))))
        vid = self.org_visitors[0]["id"]
        r = self.srv.request("POST", "/api/v1/visitors/%d/unavailable" % vid,
                             {"reason": "sick"}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        for aid, v, name, phone, mail in booked:
            rows = wait_for(lambda: (lambda x: x if x and all(y[1] == "sent" for y in x)
                                     else None)(self.apologies(aid)),
                            20, "the apology to %s" % name)
            self.assertEqual(sorted(x[0] for x in rows),
                             sorted((["sms"] if phone else []) + (["email"] if mail else [])))
            offers = self.offers(aid)
            self.assertEqual(len(offers), 2, "two windows held for %s" % name)
            original = ob.secs(ob.utc(v["window"]["start"]))
            for hid, start, end, expires, ldate in offers:
                self.assertNotEqual(ldate, date)  # not with the officer who is ill
                self.assertLessEqual(start, original + 2 * 86400 + 3600)
                self.assertLessEqual(expires, start - 3600)
                self.assertLessEqual(expires, ob.secs(ob.local(date, "08:10")) + 7200)
            if phone:
                last = self.sms_with("+44" + phone.replace(" ", "")[1:], "sorry")
                sms = [last]
                text = last["text"]
                self.assertIn(name.split()[0], text)
                for k, (hid, start, end, _, _) in enumerate(offers):
                    brief = ob.local_brief(start, end)
                    self.assertIn(brief, text, "offer %d in the SMS" % (k + 2))
                self.assertIn("/a/", text)
                self.assertLessEqual(sms[-1]["parts"], 4 if sms[-1]["coding"] == "ucs-2" else 3)
            if mail:
                msg = self.email_with(mail, "sorry")
                body = list(list(msg.iter_parts())[0].iter_parts())[0].get_content()
                self.assertIn(name, body)
                self.assertIn("sorry", body.lower())
        # The ticker passes again: no second apology for the same promise.
        self.clock(seconds=120)
        time.sleep(1.5)
        for aid, v, name, phone, mail in booked:
            self.assertEqual(len(self.apologies(aid)),
                             (phone is not None) + (mail is not None), name)
        # Zoë replies "2": the first held window.
        zoe = booked[0]
        first = self.offers(zoe[0])[0]
        self.kannel.inject_mo("+447700900701", "Wrenfield", "2")
        wait_for(lambda: self.srv.sql("SELECT 1 FROM inbound_messages WHERE outcome = 'moved' "
                                      "AND appointment_id = ?", (zoe[0],)), 20, "Zoë's reply")
        a = self.srv.sql("SELECT window_start, window_end, promise_version FROM appointments "
                         "WHERE id = ?", (zoe[0],))[0]
        self.assertEqual((a[0], a[1]), (first[1], first[2]))
        self.assertEqual(a[2], 2)
        # Amelia takes the second window with one tap on her link.
        amelia = booked[2]
        second = self.offers(amelia[0])[1]
        token = self.token_of(amelia[1])
        r = self.link(token, "/reschedule", body={"offer": second[0]})
        self.assertEqual(r.status, 200, r.raw)
        a = self.srv.sql("SELECT window_start FROM appointments WHERE id = ?", (amelia[0],))[0]
        self.assertEqual(a[0], second[1])
        # Both hear of their new time.
        self.email_with(amelia[4], "moved")
        self.sms_with("+447700900701", "has moved")


class TestLateDay(GatewayCase):
    """A visitor's taps: on the way (with the arrival band), then running
    three hours late: one apology with the new expected time; later, 30
    minutes more: an update, not a second apology."""

    holidays = None
    visitors = TestApology.visitors

    def test_on_the_way_apology_update(self):
        date = "2026-03-03"
        vt = self.types[VT]["id"]
        vid = self.org_visitors[0]["id"]
        self.srv.add_user("visitor", "priya", "Priya Shah", visitor_id=vid)
        a1, a2 = self.addr["5 Willow Drive"]["id"], self.addr["Meadow Cottage"]["id"]
        w1 = self.windows(a1, vt, date)[date][2]  # 09:00
        v1 = self.hold_and_book(a1, vt, w1["start"], name="Ada First", phone="07700 902001",
                                email=None)
        ws2 = [w for w in self.windows(a2, vt, date)[date]
               if ob.utc(w["start"]) >= ob.utc(w1["end"]) + ob.dt.timedelta(minutes=60)]
        v2 = self.hold_and_book(a2, vt, ws2[0]["start"], name="Ben Second",
                                phone="07700 902002", email=None)
        aid2 = self.appointment_id(v2["reference"])
        n = [0]
        sessions = []

        def tap(kind, at, ref=None, **kw):
            self.clock(to=ob.iso(at))
            n[0] += 1
            e = {"client_event_id": "t%d" % n[0], "type": kind, "at": ob.iso(at)}
            if ref:
                e["appointment"] = ref
            e.update(kw)
            r = self.srv.request("POST", "/api/v1/visitor/events", e, session=sessions[0])
            self.assertEqual(r.status, 200, r.raw)

        start1 = ob.utc(v1["window"]["start"])
        self.clock(to=ob.iso(start1 - ob.dt.timedelta(minutes=20)))
        sessions = [self.srv.login("priya")]  # after the clock's jump: a fresh session
        tap("start_travel", start1 - ob.dt.timedelta(minutes=20), v1["reference"])
        # On the way, with the band.
        way = wait_for(lambda: [m["text"] for m in self.kannel.messages()
                                if m["receiver"] == "+447700902001" and "on the way" in m["text"]],
                       20, "on the way by SMS")[0]
        self.assertIn("Priya", way)
        tap("arrived", start1, v1["reference"])
        # Ben's visit: Priya says she will be three hours late.
        tap("late", start1 + ob.dt.timedelta(minutes=5), minutes=180)
        rows = wait_for(lambda: self.srv.sql("SELECT template FROM outbox WHERE appointment_id = "
                                             "? AND template = 'apology'", (aid2,)),
                        20, "Ben's apology")
        self.assertEqual(len(rows), 1)
        text = wait_for(lambda: [m["text"] for m in self.kannel.messages()
                                 if m["receiver"] == "+447700902002" and "sorry" in m["text"]],
                        20, "Ben's apology by SMS")[0]
        self.assertIn("Ben Second", text)
        self.assertRegex(text, r"due \d\d:\d\d-\d\d:\d\d")
        # Later: "late 225" (the lateness now, not more of it) moves the
        # expected arrival 45 minutes: an update, still one apology.
        tap("late", start1 + ob.dt.timedelta(minutes=10), minutes=225)
        wait_for(lambda: self.srv.sql("SELECT 1 FROM outbox WHERE appointment_id = ? AND "
                                      "template = 'update'", (aid2,)), 20, "Ben's update")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM outbox WHERE appointment_id = ? AND "
                                      "template = 'apology'", (aid2,))[0][0], 1)
        # Then the job goes quicker than feared: back on time, once.
        tap("late", start1 + ob.dt.timedelta(minutes=15), minutes=5)
        wait_for(lambda: self.srv.sql("SELECT 1 FROM outbox WHERE appointment_id = ? AND "
                                      "template = 'back_on_time'", (aid2,)), 20, "back on time")
        wait_for(lambda: [m for m in self.kannel.messages()
                          if m["receiver"] == "+447700902002" and "back on time" in m["text"]],
                 20, "back on time by SMS")
        tap("late", start1 + ob.dt.timedelta(minutes=16), minutes=200)
        tap("late", start1 + ob.dt.timedelta(minutes=17), minutes=5)
        time.sleep(1)
        counts = dict(self.srv.sql("SELECT template, count(*) FROM outbox WHERE appointment_id = "
                                   "? GROUP BY template", (aid2,)))
        self.assertEqual((counts.get("apology"), counts.get("back_on_time")), (1, 1), counts)


class TestDisruptionAndReminders(GatewayCase):
    """An area-wide disruption: one message to every affected customer, the
    visits recorded with it. Reminders the day before, held by quiet
    hours; the feedback request once the visit is done."""

    extra_env = {"ONTHEDOT_MESSAGES_QUIET_START": "21:00",
                 "ONTHEDOT_MESSAGES_QUIET_END": "09:00"}

    def test_disruption_tells_each_affected_customer_once(self):
        date = "2026-03-10"
        vt = self.types[VT]["id"]
        booked = []
        for i, (line1, phone) in enumerate((("1 Mill Road", "07700 901001"),
                                            ("3 Mill Road", "07700 901002"),
                                            ("Meadow Cottage", "07700 901003"))):
            a = self.addr[line1]["id"]
            ws = self.windows(a, vt, date)[date]
            v = self.hold_and_book(a, vt, ws[i * 3]["start"], name="Resident %d" % i,
                                   phone=phone, email=None)
            booked.append(self.appointment_id(v["reference"]))
        for aid in booked:
            self.wait_sent(aid, 1)
        body = {"date": date, "note": "Flooding has closed the roads into Mill Road.",
                "postcodes": ["zz1 1"]}
        r = self.srv.request("POST", "/api/v1/dispatch/disruptions", body, token="admin")
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual((r.body["affected"], r.body["told"]), (2, 2))
        for phone in ("+447700901001", "+447700901002"):
            self.sms_with(phone, "Flooding has closed the roads into Mill Road.")
        # Meadow Cottage (ZZ4) is not in the area: only its confirmation.
        time.sleep(0.5)
        self.assertEqual(len([m for m in self.kannel.messages()
                              if m["receiver"] == "+447700901003"]), 1)
        linked = self.srv.sql("SELECT appointment_id FROM disruption_appointments WHERE "
                              "disruption_id = ? ORDER BY appointment_id", (r.body["id"],))
        self.assertEqual([x[0] for x in linked], sorted(booked[:2]))
        self.assertError(self.srv.request("POST", "/api/v1/dispatch/disruptions",
                                          {"date": "2026-13-01", "note": "x"}, token="admin"),
                         400, "bad_date", "date")
        self.assertError(self.srv.request("POST", "/api/v1/dispatch/disruptions",
                                          {"date": date, "note": "x", "postcodes": ["ZZ1;"]},
                                          token="admin"), 400, "bad_postcode", "postcodes")

    def test_reminder_waits_for_the_morning(self):
        vt = self.types[VT]["id"]
        a = self.addr["9 Church Lane"]["id"]
        date = "2026-03-17"
        ws = self.windows(a, vt, date)[date]
        self.assertEqual(ws[0]["start"], ob.iso(ob.local(date, "08:00")))
        v = self.hold_and_book(a, vt, ws[0]["start"], name="Early Bird", phone="07700 901010",
                               email=None)
        aid = self.appointment_id(v["reference"])
        self.wait_sent(aid, 1)
        # The day before at 08:30: the reminder (due a day ahead of the
        # visit, at 08:00, inside quiet hours that end at 09:00) waits.
        self.clock(to=ob.iso(ob.local("2026-03-16", "08:30")))
        row = wait_for(lambda: self.srv.sql("SELECT due_at, state FROM outbox WHERE "
                                            "appointment_id = ? AND template = 'reminder'",
                                            (aid,)), 20, "the reminder")
        self.assertEqual(row[0][0], ob.secs(ob.local("2026-03-16", "09:00")))
        time.sleep(1.5)
        self.assertEqual(self.srv.sql("SELECT state FROM outbox WHERE appointment_id = ? AND "
                                      "template = 'reminder'", (aid,))[0][0], "pending")
        self.clock(to=ob.iso(ob.local("2026-03-16", "09:01")))
        self.wait_sent(aid, 2)
        self.assertIn("reminder", self.sms_to("+447700901010", n=2)[-1]["text"])


class FakeSendsms(http.server.ThreadingHTTPServer):
    """Stands in for Kannel's sendsms where a real one will not fail on
    demand: mode "500", "garbage" (200 with text that is not Kannel's) or
    "slow" (answers after delay seconds)."""

    daemon_threads = True

    def __init__(self, mode, delay=0.0):
        self.mode, self.delay, self.hits = mode, delay, 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                if outer.mode == "slow":
                    time.sleep(outer.delay)
                status, body = {"500": (500, b"internal error"),
                                "garbage": (200, b"<html>captive portal</html>"),
                                "slow": (202, b"0: Accepted for delivery")}[outer.mode]
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), H)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/cgi-bin/sendsms" % self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FaultCase(ob.BookingTestCase):
    """SMS through a broken gateway (set by the subclass), email through a
    real Postfix; two tries per provider, retries one second apart."""

    sms_url = None

    @classmethod
    def setUpClass(cls):
        root = gateways.gateway_root(otd.TEST_TMP, cls.__name__ + "-gw-")
        cls.smtp = gateways.Smtp(os.path.join(root, "smtp"))
        cls.smtp.start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.server_env = {
            "ONTHEDOT_DELIVERY_EMAIL_PROVIDERS": "smtp",
            "ONTHEDOT_DELIVERY_SMS_PROVIDERS": "kannel",
            "ONTHEDOT_DELIVERY_SMTP_URL": cls.smtp.url,
            "ONTHEDOT_DELIVERY_SMTP_CAFILE": cls.smtp.cafile,
            "ONTHEDOT_DELIVERY_KANNEL_URL": cls.gateway_url(),
            "ONTHEDOT_DELIVERY_KANNEL_USER": "u",
            "ONTHEDOT_DELIVERY_KANNEL_PASSWORD": "p",
            "ONTHEDOT_DELIVERY_MAX_ATTEMPTS": "2",
            "ONTHEDOT_DELIVERY_BACKOFF_BASE_S": "1",
            "ONTHEDOT_DELIVERY_BACKOFF_CAP_S": "1",
            "ONTHEDOT_DELIVERY_TIMEOUT_MS": "1500",
            "ONTHEDOT_DELIVERY_CONNECT_TIMEOUT_MS": "1000",
            "ONTHEDOT_DELIVERY_SMS_UNCERTAIN_GRACE_S": "1",
            "ONTHEDOT_MESSAGES_QUIET_START": "",
            "ONTHEDOT_MESSAGES_QUIET_END": "",
        }
        super().setUpClass()

    def book_one(self, line1, date, index=0, **kw):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        return self.hold_and_book(a, vt, ws[index]["start"], **kw)

    def sms_row(self, aid):
        rows = self.srv.sql("SELECT state, attempts, last_error FROM outbox WHERE "
                            "appointment_id = ? AND channel = 'sms'", (aid,))
        return rows[0] if rows else None

    def run_to_failure(self, aid, timeout=30):
        """Moves the virtual clock past each retry until the SMS failed."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.sms_row(aid)
            if row and row[0] == "failed":
                return row
            if time.monotonic() > deadline:
                raise AssertionError("the SMS did not fail: %r" % (row,))
            self.clock(seconds=2)
            time.sleep(0.3)

    def check_fallback(self):
        # SMS only: with it failed and no other channel agreed, the call list.
        v = self.book_one("5 Willow Drive", "2026-03-05", 0, name="Ada Byrne",
                          phone="07700 900601", email=None)
        aid = self.appointment_id(v["reference"])
        state, attempts, error = self.run_to_failure(aid)
        self.assertEqual(attempts, 2)
        self.assertTrue(error)
        calls = wait_for(lambda: self.srv.sql("SELECT note FROM tasks WHERE kind = 'call' AND "
                                              "appointment_id = ? AND state = 'open'", (aid,)),
                         10, "the call list")
        self.assertEqual(len(calls), 1)
        # SMS and email agreed: the email reached them, so no call.
        v = self.book_one("7 Church Lane", "2026-03-05", 1, name="Ben Ortiz",
                          phone="07700 900602", email="ben@example.org")
        aid2 = self.appointment_id(v["reference"])
        self.run_to_failure(aid2)
        self.assertEqual(self.srv.sql("SELECT state FROM outbox WHERE appointment_id = ? AND "
                                      "channel = 'email'", (aid2,))[0][0], "sent")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM tasks WHERE kind = 'call' AND "
                                      "appointment_id = ?", (aid2,))[0][0], 0)
        text = self.srv.request("GET", "/metrics", token="admin").raw.decode()
        self.assertRegex(text, r"otd_outbox_failed [1-9]")
        return error


class TestGatewayDown(FaultCase):

    @classmethod
    def gateway_url(cls):
        return "http://127.0.0.1:%d/cgi-bin/sendsms" % closed_port()

    def test_retries_then_falls_back(self):
        error = self.check_fallback()
        self.assertIn("connect", error.lower())


class TestGateway500(FaultCase):

    @classmethod
    def gateway_url(cls):
        cls.fake = FakeSendsms("500")
        cls.addClassCleanup(cls.fake.stop)
        return cls.fake.url

    def test_retries_then_falls_back(self):
        error = self.check_fallback()
        self.assertIn("HTTP 500", error)
        self.assertGreaterEqual(self.fake.hits, 4)


class TestGatewayGarbage(FaultCase):

    @classmethod
    def gateway_url(cls):
        cls.fake = FakeSendsms("garbage")
        cls.addClassCleanup(cls.fake.stop)
        return cls.fake.url

    def test_retries_then_falls_back(self):
        error = self.check_fallback()
        self.assertIn("captive portal", error)


class TestGatewaySlow(FaultCase):

    @classmethod
    def gateway_url(cls):
        cls.fake = FakeSendsms("slow", delay=4.0)
        cls.addClassCleanup(cls.fake.stop)
        return cls.fake.url

    def test_times_out_then_falls_back(self):
        started = time.monotonic()
        error = self.check_fallback()
        self.assertIn("timeout", error.lower())
        # The gateway may have taken them (it answers after our timeout):
        # every such send is counted as uncertain, never silently repeated.
        self.assertEqual(self.srv.sql("SELECT count(*) FROM outbox WHERE channel = 'sms' AND "
                                      "uncertain_at IS NULL")[0][0], 0)
        text = self.srv.request("GET", "/metrics", token="admin").raw.decode()
        self.assertRegex(text, r"otd_outbox_uncertain_total [1-9]")
        # The server went on answering while the gateway hung.
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)
        self.assertLess(time.monotonic() - started, 60)


if __name__ == "__main__":
    unittest.main()
