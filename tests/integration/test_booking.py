"""Booking, the customer's journey: the slot offer (windows by day, local and
UTC, capacity 1/2/"3+", never a visitor's name), a hold, the booking with an
Idempotency-Key (a replay answers the same reference with a different link,
and both links work), what the booking writes in its transaction (outbox rows
with the calendar invite, the appointment event, the audit entry), the
booking rules (shifts, bank holidays, lead time, horizon, same-day cut-off,
the grid, visits per visitor and day), an expired hold freeing capacity, the
same contact booking twice, and hostile or malformed customer input."""

import json
import unittest

import icalendar

import otd
import otd_booking as ob

A = "1 Mill Road"
DATE = "2026-03-03"  # the Tuesday after the virtual start (Monday 09:00 GMT)
VISITOR_NAMES = ("Priya", "Shah", "Tom", "Brennan", "Zoë", "Nguyễn", "Samuel", "Adeyemi",
                 "Łukasz", "Nowak")


class TestHappyPath(ob.BookingTestCase):

    def test_slots_by_day_local_and_utc(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr[A]["id"]
        r = self.slots(a, vt, DATE, "2026-03-30")
        body = r.body
        self.assertEqual(body["timezone"], "Europe/London")
        self.assertEqual((body["from"], body["to"], body["window_minutes"]),
                         (DATE, "2026-03-30", 60))
        for name in VISITOR_NAMES:
            self.assertNotIn(name.encode(), r.raw)  # never who
        days = {d["date"]: d for d in body["days"]}
        self.assertEqual(days[DATE]["weekday"], "Tuesday")
        self.assertEqual(days["2026-03-30"]["weekday"], "Monday")
        for d in body["days"]:
            starts = [w["start"] for w in d["windows"]]
            self.assertEqual(starts, sorted(starts))
            for w in d["windows"]:
                s, e = ob.utc(w["start"]), ob.utc(w["end"])
                self.assertEqual(e - s, ob.dt.timedelta(minutes=60))
                self.assertEqual(w["local_start"], ob.local_iso(s))
                self.assertEqual(w["local_end"], ob.local_iso(e))
                self.assertEqual(w["label"], "%s-%s" % (s.astimezone(ob.LONDON).strftime("%H:%M"),
                                                        e.astimezone(ob.LONDON).strftime("%H:%M")))
                self.assertEqual(s.astimezone(ob.LONDON).date().isoformat(), d["date"])
                self.assertEqual(w["capacity_label"], "3+" if w["capacity"] >= 3
                                 else str(w["capacity"]))
        # GMT on 3 March: local equals UTC. Priya alone from 08:00, Tom from 09:00,
        # four from 10:00 (shown as 3+).
        w = {x["label"]: x for x in days[DATE]["windows"]}
        self.assertEqual(w["08:00-09:00"]["start"], "2026-03-03T08:00:00Z")
        self.assertEqual(w["08:00-09:00"]["local_start"], "2026-03-03T08:00:00+00:00")
        self.assertEqual((w["08:00-09:00"]["capacity"], w["08:00-09:00"]["capacity_label"]),
                         (1, "1"))
        self.assertEqual((w["09:00-10:00"]["capacity"], w["09:00-10:00"]["capacity_label"]),
                         (2, "2"))
        self.assertEqual((w["10:00-11:00"]["capacity"], w["10:00-11:00"]["capacity_label"]),
                         (3, "3+"))
        self.assertNotIn("07:30-08:30", w)
        self.assertTrue(all(x["end"] <= "2026-03-03T17:00:00Z" for x in w.values()))
        # BST on 30 March: 08:00 local is 07:00 UTC; the horizon (28 days from
        # Monday 2 March 09:00 UTC) ends the offer at 09:00 UTC.
        w30 = days["2026-03-30"]["windows"]
        self.assertEqual(w30[0]["start"], "2026-03-30T07:00:00Z")
        self.assertEqual(w30[0]["local_start"], "2026-03-30T08:00:00+01:00")
        self.assertEqual(w30[0]["label"], "08:00-09:00")
        self.assertEqual(w30[-1]["start"], "2026-03-30T09:00:00Z")
        # The same by position instead of a gazetteer address.
        p = self.addr[A]
        r2 = self.srv.request("GET", "/api/v1/slots?visit_type=%d&lat=%s&lon=%s&from=%s&to=%s"
                              % (vt, p["lat"], p["lon"], DATE, DATE))
        self.assertEqual(r2.status, 200, r2.raw)
        self.assertEqual(r2.body["days"][0]["windows"], days[DATE]["windows"])
        # Defaults: from today for 14 days.
        r3 = self.srv.request("GET", "/api/v1/slots?visit_type=%d&address=%d" % (vt, a))
        self.assertEqual((r3.body["from"], r3.body["to"]), ("2026-03-02", "2026-03-15"))
        # The public list of visit types.
        r4 = self.srv.request("GET", "/api/v1/booking/visit-types")
        self.assertEqual(r4.status, 200, r4.raw)
        self.assertEqual({t["code"]: t["window_minutes"] for t in r4.body["items"]},
                         {"planning-inspection": 60, "boiler-repair": 120})

    def test_hold_book_replay_and_what_is_written(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr["3 Mill Road"]["id"]
        priya = self.org_visitors[0]
        w = {x["label"]: x for x in self.windows(a, vt, "2026-03-05")["2026-03-05"]}
        h = self.hold(a, vt, w["08:00-09:00"]["start"])
        self.assertEqual(h.status, 201, h.raw)
        self.assertEqual(h.body["purpose"], "booking")
        self.assertEqual(h.body["date"], "2026-03-05")
        self.assertEqual(h.body["window"], {k: w["08:00-09:00"][k] for k in
                                            ("start", "end", "local_start", "local_end",
                                             "label")})
        self.assertEqual(h.body["expires_at"], "2026-03-02T09:10:00Z")  # hold_minutes 10
        # Priya is the only one working at 08:00.
        self.assertEqual(self.srv.sql("SELECT visitor_id FROM holds"), [(priya["id"],)])

        r = self.book(h.body["hold"], name="Amelia Hughes", phone="07700 900123",
                      email="Amelia@Example.ORG", access_notes="Side gate;\nthe bell is broken",
                      consent={"sms": True, "email": True}, key="book-amelia-1")
        self.assertEqual(r.status, 201, r.raw)
        v = r.body
        ref = v["reference"]
        self.assertRegex(ref, r"^OTD-[2-9A-HJ-NP-Z]{6}$")
        self.assertEqual(r.headers["Location"], "/api/v1/appointments/" + ref)
        self.assertIsNone(r.headers.get("Idempotent-Replayed"))
        self.assertEqual((v["status"], v["promise_version"], v["date"]),
                         ("booked", 1, "2026-03-05"))
        self.assertEqual(v["window"]["start"], "2026-03-05T08:00:00Z")
        self.assertEqual(v["visitor"], {"first_name": "Priya", "role": "planning officer"})
        self.assertEqual(v["customer"], {"name": "Amelia Hughes",
                                         "consent": {"sms": True, "email": True},
                                         "access_notes": "Side gate;\nthe bell is broken"})
        self.assertNotIn("id", v)  # the customer view
        self.assertEqual(v["address"]["line1"], "3 Mill Road")
        token1 = self.token_of(v)
        self.assertTrue(v["link"]["url"].endswith("/a/" + token1))
        self.assertEqual(v["link"]["ics"], "/api/v1/a/%s/ics" % token1)

        # The retry with the same key: the same booking, a new link.
        r2 = self.book(h.body["hold"], name="Amelia Hughes", phone="07700 900123",
                       email="Amelia@Example.ORG", access_notes="Side gate;\nthe bell is broken",
                       consent={"sms": True, "email": True}, key="book-amelia-1")
        self.assertEqual(r2.status, 201, r2.raw)
        self.assertEqual(r2.headers["Idempotent-Replayed"], "true")
        self.assertEqual(r2.headers["Location"], "/api/v1/appointments/" + ref)
        self.assertEqual(r2.body["reference"], ref)
        token2 = self.token_of(r2.body)
        self.assertNotEqual(token1, token2)
        self.assertEqual({k: x for k, x in r2.body.items() if k != "link"},
                         {k: x for k, x in v.items() if k != "link"})
        for t in (token1, token2):
            g = self.link(t)
            self.assertEqual(g.status, 200, g.raw)
            self.assertEqual(g.body["reference"], ref)
        # The same key for another request is refused; nothing is created.
        r3 = self.book(h.body["hold"], name="Someone Else", key="book-amelia-1")
        self.assertError(r3, 422, "idempotency_key_reused", "Idempotency-Key")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments WHERE reference = ?",
                                      (ref,)), [(1,)])

        # The database: the appointment, the contact (normalised), the hold gone.
        appt = self.srv.sql("SELECT id, visitor_id, local_date, window_start, window_end, "
                            "consent_sms, consent_email, booked_by, created_at, customer_id "
                            "FROM appointments WHERE reference = ?", (ref,))[0]
        aid, created = appt[0], appt[8]
        self.assertEqual(appt[1:8], (priya["id"], "2026-03-05",
                                     ob.secs(ob.utc("2026-03-05T08:00:00Z")),
                                     ob.secs(ob.utc("2026-03-05T09:00:00Z")), 1, 1, "customer"))
        self.assertEqual(self.srv.sql("SELECT name, phone, email, access_notes FROM customers "
                                      "WHERE id = ?", (appt[9],)),
                         [("Amelia Hughes", "+447700900123", "Amelia@example.org",
                           "Side gate;\nthe bell is broken")])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM holds"), [(0,)])
        # Written with it: the messages, the event, the audit entry.
        rows = ob.outbox(self.srv, aid)
        self.assertEqual(sorted((x["template"], x["channel"]) for x in rows),
                         [("booking_confirmation", "email"), ("booking_confirmation", "sms")])
        for x in rows:
            self.assertEqual((x["state"], x["created_at"], x["due_at"]),
                             ("pending", created, created))
            self.assertNotIn(x["token"], (token1, token2, None))  # each message its own link
            self.assertEqual(self.link(x["token"]).status, 200)
        email = [x for x in rows if x["channel"] == "email"][0]["payload"]
        sms = [x for x in rows if x["channel"] == "sms"][0]["payload"]
        self.assertEqual((email["to"], email["to_name"], email["from"]),
                         ("Amelia@example.org", "Amelia Hughes", "visits@wrenfield.example"))
        self.assertIn("Thursday 5 March, 08:00 to 09:00", email["subject"])
        self.assertIn("Dear Amelia Hughes,", email["text"])
        self.assertIn("Priya", email["text"])
        self.assertEqual(email["ics_method"], "REQUEST")
        cal = icalendar.Calendar.from_ical(email["ics"])
        self.assertEqual(str(cal["METHOD"]), "REQUEST")
        ev = cal.walk("VEVENT")[0]
        self.assertEqual(str(ev["UID"]), ref + "@onthedot")
        self.assertEqual(int(ev["SEQUENCE"]), 1)
        self.assertEqual(ev.decoded("DTSTART").astimezone(ob.UTC), ob.utc("2026-03-05T08:00:00Z"))
        self.assertEqual(ev.decoded("DTEND").astimezone(ob.UTC), ob.utc("2026-03-05T09:00:00Z"))
        self.assertEqual(str(ev["ATTENDEE"]), "mailto:Amelia@example.org")
        self.assertEqual(sms["to"], "+447700900123")
        self.assertIn("Thu 5 Mar, 08:00-09:00", sms["text"])
        self.assertIn(sms["link"], sms["text"])
        self.assertEqual([(e["kind"], e["actor_kind"]) for e in ob.events(self.srv, aid)],
                         [("booked", "customer")])
        detail = json.loads(ob.events(self.srv, aid)[0]["detail"])
        self.assertEqual(detail["promise_version"], 1)
        self.assertEqual(detail["visitor_id"], priya["id"])
        book_audit = ob.audit(self.srv, "appointment.book", aid)
        self.assertEqual(len(book_audit), 1)
        # A customer's booking: no staff actor (app_audit files it as "system").
        self.assertIn(book_audit[0][3], ("customer", "system"))
        self.assertIsNone(book_audit[0][4])
        self.assertEqual(json.loads(book_audit[0][5])["reference"], ref)
        self.assertEqual(len(ob.audit(self.srv, "hold.create")), 1)

    def test_messages_only_to_consented_channels(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr["7 Church Lane"]["id"]
        ws = self.windows(a, vt, "2026-03-06")["2026-03-06"]
        cases = [({"sms": True, "email": False}, "07700 900201", "sms1@example.org", ["sms"]),
                 ({"sms": False, "email": True}, "07700 900202", "mail2@example.org",
                  ["email"]),
                 ({"sms": False, "email": False}, "07700 900203", "none3@example.org", []),
                 ({"sms": False, "email": True}, None, "only4@example.org", ["email"]),
                 ({"sms": True, "email": False}, "+44 7700 900205", None, ["sms"])]
        for i, (consent, phone, email, want) in enumerate(cases):
            v = self.hold_and_book(a, vt, ws[i + 3]["start"], name="Customer %d" % i,
                                   phone=phone, email=email, consent=consent)
            aid = self.appointment_id(v["reference"])
            rows = ob.outbox(self.srv, aid)
            self.assertEqual(sorted(x["channel"] for x in rows), sorted(want), consent)
            for x in rows:
                if x["channel"] == "sms":
                    self.assertNotIn("ics", x["payload"])
                else:
                    self.assertEqual(x["payload"]["to"], email)
            self.assertEqual(v["customer"]["consent"], consent)

    def test_staff_view_from_the_list(self):
        v = self.hold_and_book(self.addr["9 Church Lane"]["id"],
                               self.types["planning-inspection"]["id"],
                               self.windows(self.addr["9 Church Lane"]["id"],
                                            self.types["planning-inspection"]["id"],
                                            "2026-03-09")["2026-03-09"][0]["start"],
                               name="Staff View", phone="07700 900301", email=None,
                               consent={"sms": True, "email": False})
        r = self.srv.request("GET", "/api/v1/appointments/" + v["reference"], token="admin")
        self.assertEqual(r.status, 200, r.raw)
        s = r.body
        self.assertEqual(s["customer"], {"name": "Staff View", "phone": "+447700900301",
                                         "email": None, "access_notes": "",
                                         "consent": {"sms": True, "email": False}})
        self.assertEqual((s["booked_by"], s["risk"]), ("customer", "ok"))
        self.assertGreaterEqual(s["route_position"], 0)
        self.assertNotIn("link", s)


class TestRules(ob.BookingTestCase):
    """Lead time 120 minutes, horizon 28 days, same-day cut-off 12:00 (the
    defaults), bank holidays imported, shifts on weekdays only."""

    def test_rules(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr["The Old Forge"]["id"]
        r = self.slots(a, vt, "2026-03-02", "2026-04-01")
        days = {d["date"]: d["windows"] for d in r.body["days"]}
        self.assertEqual(r.body["to"], "2026-04-01")
        # Weekdays only, never the bank holiday, nothing past the horizon.
        for date in days:
            self.assertLess(ob.dt.date.fromisoformat(date).weekday(), 5, date)
        self.assertNotIn("2026-03-04", days)
        self.assertIn("2026-03-05", days)
        self.assertNotIn("2026-03-31", days)
        self.assertNotIn("2026-04-01", days)
        horizon = ob.utc("2026-03-30T09:00:00Z")
        self.assertTrue(all(ob.utc(w["start"]) <= horizon for w in days["2026-03-30"]))
        # Within the shifts (08:00 to 17:00 local).
        for date, ws in days.items():
            for w in ws:
                self.assertGreaterEqual(ob.utc(w["start"]), ob.local(date, "08:00"), w)
                self.assertLessEqual(ob.utc(w["end"]), ob.local(date, "17:00"), w)
        # Today: nothing inside the lead time (now 09:00, so from 11:00).
        self.assertEqual(days["2026-03-02"][0]["start"], "2026-03-02T11:00:00Z")

        def refused(start, code):
            before = self.srv.sql("SELECT count(*) FROM holds")
            h = self.hold(a, vt, start)
            self.assertError(h, 400, code, "window_start")
            self.assertEqual(self.srv.sql("SELECT count(*) FROM holds"), before)

        refused("2026-03-02T10:30:00Z", "window_not_bookable")  # inside the lead time
        refused("2026-03-04T10:00:00Z", "window_not_bookable")  # the bank holiday
        refused("2026-03-31T09:00:00Z", "window_not_bookable")  # past the horizon
        refused("2026-03-30T09:30:00Z", "window_not_bookable")  # just past it
        refused("2026-03-01T10:00:00Z", "window_not_bookable")  # yesterday
        refused("2026-03-03T10:15:00Z", "window_not_on_grid")
        refused("2026-03-03T10:00:01Z", "window_not_on_grid")
        refused("2026-03-03T06:00:00Z", "window_not_offered")  # before every shift
        refused("2026-03-03T16:30:00Z", "window_not_offered")  # ends after every shift
        refused("2026-03-07T10:00:00Z", "window_not_offered")  # a Saturday
        h = self.hold(a, vt, "tomorrow at ten")
        self.assertEqual((h.status, h.error["field"]), (400, "window_start"), h.raw)
        ok = self.hold(a, vt, "2026-03-30T09:00:00Z")  # the last window of the horizon
        self.assertEqual(ok.status, 201, ok.raw)

        # The same-day cut-off (12:00): at 11:59 today is still offered (from
        # 14:00, the lead time); at 12:00 it is not.
        self.clock(to="2026-03-02T11:59:00Z")
        days = self.windows(a, vt, "2026-03-02")
        self.assertEqual(days["2026-03-02"][0]["start"], "2026-03-02T14:00:00Z")
        self.clock(to="2026-03-02T12:00:00Z")
        self.assertEqual(self.windows(a, vt, "2026-03-02"), {})
        refused("2026-03-02T15:00:00Z", "window_not_bookable")
        self.assertIn("2026-03-03", self.windows(a, vt, "2026-03-03"))

    def test_slot_query_errors(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr["The Old Forge"]["id"]
        base = "/api/v1/slots?"
        cases = [
            ("address=%d" % a, "missing_parameter", "visit_type"),
            ("visit_type=%d" % vt, "missing_parameter", "address"),
            ("visit_type=x&address=%d" % a, "invalid_parameter", "visit_type"),
            ("visit_type=%d&address=0" % vt, "invalid_parameter", "address"),
            ("visit_type=999&address=%d" % a, "unknown_visit_type", "visit_type"),
            ("visit_type=%d&address=99999" % vt, "unknown_address", "address"),
            ("visit_type=%d&lat=91&lon=0" % vt, "invalid_parameter", "lat"),
            ("visit_type=%d&lat=52&lon=abc" % vt, "invalid_parameter", "lon"),
            ("visit_type=%d&lat=52" % vt, "invalid_parameter", "lon"),
            ("visit_type=%d&address=%d&from=2026-03-10&to=2026-03-09" % (vt, a), "bad_range",
             "to"),
            ("visit_type=%d&address=%d&from=2026-03-01&to=2026-04-01" % (vt, a), "bad_range",
             "to"),
            ("visit_type=%d&address=%d&from=3+March" % (vt, a), None, "from"),
            ("visit_type=%d&address=%d&from=2026-02-30" % (vt, a), None, "from"),
        ]
        for q, code, field in cases:
            r = self.srv.request("GET", base + q)
            self.assertEqual((r.status, r.error["field"]), (400, field), (q, r.raw))
            if code:
                self.assertEqual(r.error["code"], code, (q, r.raw))


class TestVisitsPerDay(ob.BookingTestCase):
    """booking.max_visits_per_day: a visitor with that many visits (or holds)
    on a day is offered no more that day."""
    server_env = {"ONTHEDOT_BOOKING_MAX_VISITS_PER_DAY": "1"}

    def test_one_visit_a_day(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr["2 Orchard Way"]["id"]
        date = "2026-03-05"
        before = {w["label"]: w["capacity"] for w in self.windows(a, vt, date)[date]}
        self.assertEqual((before["08:00-09:00"], before["08:30-09:30"], before["09:00-10:00"]),
                         (1, 1, 2))
        h = self.hold(a, vt, ob.iso(ob.local(date, "08:00")))
        self.assertEqual(h.status, 201, h.raw)
        after = {w["label"]: w["capacity"] for w in self.windows(a, vt, date)[date]}
        self.assertNotIn("08:00-09:00", after)  # Priya is the only one then, and full
        self.assertNotIn("08:30-09:30", after)
        self.assertEqual(after["09:00-10:00"], 1)  # Tom still can
        self.assertError(self.hold(a, vt, ob.iso(ob.local(date, "08:30"))), 409,
                         "window_taken", "window_start")
        # Another day is another day.
        other = {w["label"]: w["capacity"] for w in
                 self.windows(a, vt, "2026-03-06")["2026-03-06"]}
        self.assertEqual(other["08:00-09:00"], 1)


class TestHoldExpiry(ob.BookingTestCase):
    """An expired hold frees its capacity: the window is offered again and
    the booking made with the old hold is refused (hold_expired)."""

    def test_expired_hold_frees_capacity(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr["12 High Street"]["id"]
        date = "2026-03-05"

        def labels():
            return {w["label"]: w for w in self.windows(a, vt, date).get(date, [])}

        w = labels()["08:00-09:00"]
        self.assertEqual(w["capacity"], 1)  # only Priya works at 08:00
        # Fill it with holds (one visitor may fit more than one visit in a
        # window): the window goes when her route can take no more.
        holds = []
        for _ in range(10):
            h = self.hold(a, vt, w["start"])
            if h.status != 201:
                break
            holds.append(h.body["hold"])
        self.assertError(h, 409, "window_taken", "window_start")
        self.assertTrue(holds)
        self.assertNotIn("08:00-09:00", labels())
        alts = h.error["alternatives"]
        self.assertTrue(1 <= len(alts) <= 3, h.raw)
        self.assertEqual(alts[0]["date"], date)
        self.assertNotIn(w["start"], [x["start"] for x in alts])
        for x in alts:
            self.assertEqual(x["label"], "%s-%s" % (ob.utc(x["start"]).strftime("%H:%M"),
                                                    ob.utc(x["end"]).strftime("%H:%M")))
        # Another customer nearby cannot hold it either.
        other = self.hold(self.addr["14 High Street"]["id"], vt, w["start"])
        self.assertError(other, 409, "window_taken", "window_start")
        # Nine minutes later it is still held; past hold_minutes it is free.
        self.clock(9 * 60)
        self.assertNotIn("08:00-09:00", labels())
        self.clock(61)
        again = labels()
        self.assertIn("08:00-09:00", again)
        self.assertEqual(again["08:00-09:00"]["capacity"], 1)
        r = self.book(holds[0], name="Late Larry", phone="07700 900400", email=None,
                      consent={"sms": True, "email": False}, key="late-larry")
        self.assertError(r, 409, "hold_expired")
        self.assertIn(w["start"], [x["start"] for x in r.error["alternatives"]])
        for x in r.error["alternatives"]:
            self.assertIn("date", x)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments"), [(0,)])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM outbox"), [(0,)])
        # Someone else now holds and books it.
        v = self.hold_and_book(self.addr["14 High Street"]["id"], vt, w["start"],
                               name="Prompt Pat", phone="07700 900401", email=None,
                               consent={"sms": True, "email": False})
        self.assertEqual(v["window"]["label"], "08:00-09:00")
        # An unknown hold token is the same answer.
        r = self.book("x" * 43, name="Nobody")
        self.assertError(r, 409, "hold_expired")


class TestAlreadyBooked(ob.BookingTestCase):

    def test_same_contact_same_visit_type(self):
        vt = self.types["planning-inspection"]["id"]
        gas = self.types["boiler-repair"]["id"]
        a = self.addr["2 Orchard Way"]["id"]
        ws = self.windows(a, vt, "2026-03-10")["2026-03-10"]
        first = self.hold_and_book(a, vt, ws[0]["start"], name="Grace Campbell",
                                   phone="07700 900500", email="grace@example.org")
        before = {t: self.srv.sql("SELECT count(*) FROM %s" % t)[0][0]
                  for t in ("appointments", "customers", "outbox", "appointment_events",
                            "appointment_links")}
        h = self.hold(a, vt, ws[4]["start"])
        self.assertEqual(h.status, 201, h.raw)
        # The same contact, typed differently.
        r = self.book(h.body["hold"], name="Grace C.", phone="+44 7700 900500", email="grace@EXAMPLE.org")
        self.assertError(r, 409, "already_booked")
        self.assertIn(first["reference"], r.error["message"])
        self.assertNotIn("alternatives", r.error)
        after = {t: self.srv.sql("SELECT count(*) FROM %s" % t)[0][0] for t in before}
        self.assertEqual(after, before)  # nothing written, not even the new name
        self.assertEqual(self.srv.sql("SELECT name FROM customers WHERE phone = ?",
                                      ("+447700900500",)), [("Grace Campbell",)])
        # The hold is still there: after cancelling the first, it books.
        c = self.link(self.token_of(first), "/cancel", body={})
        self.assertEqual(c.status, 200, c.raw)
        r = self.book(h.body["hold"], name="Grace Campbell", phone="07700 900500",
                      email="grace@example.org")
        self.assertEqual(r.status, 201, r.raw)
        # Another visit type is another booking.
        gw = self.windows(a, gas, "2026-03-11")["2026-03-11"]
        self.hold_and_book(a, gas, gw[0]["start"], name="Grace Campbell",
                           phone="07700 900500", email="grace@example.org")


class TestCustomerInput(ob.BookingTestCase):
    HOSTILE = "<img src=x onerror=alert(1)>"
    ZOE = "Zoë O'Brien-Nguyễn"

    def test_names_stored_and_returned_verbatim(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr["21 Station Road"]["id"]
        ws = self.windows(a, vt, "2026-03-12")["2026-03-12"]
        for i, (name, email) in enumerate(((self.HOSTILE, "hostile@example.org"),
                                           (self.ZOE, "zoe@example.org"))):
            notes = "Gate code 1234 & \"knock\" <twice>\n\tthen wait"
            v = self.hold_and_book(a, vt, ws[i]["start"], name=name,
                                   phone="07700 90060%d" % i, email=email,
                                   access_notes=notes)
            self.assertEqual(v["customer"]["name"], name)
            self.assertEqual(v["customer"]["access_notes"], notes)
            g = self.link(self.token_of(v))
            self.assertEqual(g.body["customer"]["name"], name)
            self.assertNotIn(b"&lt;", g.raw)
            self.assertIn(name.encode("utf-8"), g.raw)  # UTF-8, not escaped
            aid = self.appointment_id(v["reference"])
            self.assertEqual(self.srv.sql("SELECT c.name, c.access_notes FROM customers c JOIN "
                                          "appointments a ON a.customer_id = c.id WHERE "
                                          "a.id = ?", (aid,)), [(name, notes)])
            staff = self.srv.request("GET", "/api/v1/appointments?q=" +
                                     v["reference"], token="admin")
            self.assertEqual(staff.body["items"][0]["customer"]["name"], name)
            email_row = [x for x in ob.outbox(self.srv, aid) if x["channel"] == "email"][0]
            p = email_row["payload"]
            self.assertEqual(p["to_name"], name)
            self.assertIn("Dear %s," % name, p["text"])
            self.assertNotIn(self.HOSTILE, p["html"])  # escaped for HTML
            if name == self.HOSTILE:
                self.assertIn("&lt;img src=x onerror=alert(1)&gt;", p["html"])
            ev = icalendar.Calendar.from_ical(p["ics"]).walk("VEVENT")[0]
            self.assertEqual(ev["ATTENDEE"].params["CN"], name)

    def test_bad_input_names_the_field(self):
        vt = self.types["planning-inspection"]["id"]
        a = self.addr["23 Station Road"]["id"]
        ws = self.windows(a, vt, "2026-03-13")["2026-03-13"]
        h = self.hold(a, vt, ws[0]["start"])
        self.assertEqual(h.status, 201, h.raw)
        hold = h.body["hold"]
        good = {"hold": hold, "name": "Ravi Sharma", "phone": "07700 900700",
                "email": "ravi@example.org", "consent": {"sms": True, "email": True}}

        def without(**kw):
            b = dict(good)
            for k, v in kw.items():
                if v is None:
                    b.pop(k, None)
                else:
                    b[k] = v
            return b

        cases = [
            (without(consent={"sms": True, "email": False}, phone=None), "missing_contact",
             "phone"),
            (without(consent={"sms": True, "email": False}, phone=""), "missing_contact",
             "phone"),
            (without(consent={"sms": False, "email": True}, email=None), "missing_contact",
             "email"),
            (without(phone=None, email=None, consent={"sms": False, "email": False}),
             "missing_contact", "phone"),
            (without(phone="call me"), "invalid_phone", "phone"),
            (without(phone="+33 1 23 45 67 89"), "unsupported_country", "phone"),
            (without(email="not-an-address"), "invalid_email", "email"),
            (without(email="a@b@example.org"), "invalid_email", "email"),
            (without(name=""), "empty", "name"),
            (without(name="n" * 201), "too_long", "name"),
            (without(name="bell\x07"), "invalid_text", "name"),
            (without(name=None), "missing_field", "name"),
            (without(name=5), "wrong_type", "name"),
            (without(hold=None), "missing_field", "hold"),
            (without(consent=None), "missing_field", "consent"),
            (without(consent={"sms": True}), "missing_field", "consent.email"),
            (without(consent={"sms": "yes", "email": True}), "wrong_type", "consent.sms"),
            (without(consent={"sms": True, "email": True, "post": True}), "unknown_field",
             "consent.post"),
            (without(consent=[True, True]), "wrong_type", "consent"),
            (without(access_notes="n" * 2001), "too_long", "access_notes"),
            (without(nickname="R"), "unknown_field", "nickname"),
        ]
        before = self.srv.sql("SELECT count(*) FROM customers")[0][0]
        for body, code, field in cases:
            r = self.srv.request("POST", "/api/v1/appointments", body)
            self.assertEqual((r.status, r.error["code"], r.error.get("field")),
                             (400, code, field), (body, r.raw))
        self.assertError(self.srv.request("POST", "/api/v1/appointments",
                                          raw=b'{"hold": "x", "hold": "y"}'),
                         400, "duplicate_field", "hold")
        self.assertError(self.srv.request("POST", "/api/v1/appointments", raw=b"[]"), 400,
                         "malformed_json")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM customers")[0][0], before)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments"), [(0,)])
        # The hold is untouched: the good body books.
        r = self.srv.request("POST", "/api/v1/appointments", good)
        self.assertEqual(r.status, 201, r.raw)
        self.note_link(r.body)
        # Holds are strict too.
        for body, code, field in (
                ({"visit_type": vt, "window_start": ws[1]["start"]}, "missing_field",
                 "address"),
                ({"address": a, "visit_type": vt}, "missing_field", "window_start"),
                ({"address": a, "visit_type": "1", "window_start": ws[1]["start"]},
                 "wrong_type", "visit_type"),
                ({"address": 999999, "visit_type": vt, "window_start": ws[1]["start"]},
                 "unknown_address", "address"),
                ({"address": a, "visit_type": 99, "window_start": ws[1]["start"]},
                 "unknown_visit_type", "visit_type"),
                ({"address": a, "visit_type": vt, "window_start": ws[1]["start"],
                  "visitor": 1}, "unknown_field", "visitor"),
                ({"address": a, "visit_type": vt, "window_start": ws[1]["start"],
                  "link": "nope"}, "link_not_found", "link"),
                ({"address": a, "visit_type": vt, "window_start": ws[1]["start"],
                  "appointment": r.body["reference"]}, "staff_only", "appointment")):
            res = self.srv.request("POST", "/api/v1/holds", body)
            self.assertEqual((res.status, res.error["code"], res.error.get("field")),
                             (400, code, field), (body, res.raw))


if __name__ == "__main__":
    unittest.main()
