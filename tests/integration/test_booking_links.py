"""The customer's link (/api/v1/a/{token}): reading, rescheduling (promise
version and calendar SEQUENCE move, the link keeps working), cancelling (the
notice recorded, a calendar CANCEL with the same UID), the calendar download,
the waitlist (an earlier window freed by a cancel is held and offered, and
taken with the offer), "send me a new link" (revokes the old links, sends to
the contact on file only, the same answer whatever matched), every invalid
link answering the same 404, the headers of those pages, rate limits, and
link tokens never reaching the log. Calendar files are read by
python3-icalendar and python3-vobject (ics_checks.py)."""

import json
import re
import secrets
import unittest

import ics_checks
import otd
import otd_booking as ob

VT = "planning-inspection"


def same_404(tc, r):
    tc.assertEqual(r.status, 404, r.raw)
    tc.assertEqual(r.error["code"], "link_not_found", r.raw)
    tc.assertNotIn("field", r.error)
    return r.raw


class LinkCase(ob.BookingTestCase):

    def assert_link_headers(self, r):
        self.assertEqual(r.headers.get_all("Referrer-Policy"), ["no-referrer"], r)
        self.assertEqual(r.headers.get_all("Cache-Control"), ["no-store"], r)

    def book_one(self, line1, date, index=0, **kw):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        return self.hold_and_book(a, vt, ws[index]["start"], **kw)


class TestRescheduleAndCancel(LinkCase):

    def test_reschedule_then_cancel(self):
        vt = self.types[VT]["id"]
        a = self.addr["5 Willow Drive"]["id"]
        v = self.book_one("5 Willow Drive", "2026-03-05", 2, name="Siobhan Walsh",
                          phone="07700 900900", email="siobhan@example.org")
        ref, token = v["reference"], self.token_of(v)
        aid = self.appointment_id(ref)
        uid = ref + "@onthedot"
        booked = [x for x in ob.outbox(self.srv, aid) if x["channel"] == "email"][0]
        ics_checks.check(self, booked["payload"]["ics"], "REQUEST", uid, 1, v["window"]["start"],
                         v["window"]["end"], attendee="siobhan@example.org",
                         attendee_cn="Siobhan Walsh", organizer="visits@wrenfield.example",
                         url=booked["payload"]["link"])
        # The calendar download.
        ics = self.link(token, "/ics")
        self.assertEqual(ics.status, 200)
        self.assertEqual(ics.headers["Content-Type"].split(";")[0], "text/calendar")
        self.assertIn("attachment", ics.headers["Content-Disposition"])
        self.assert_link_headers(ics)
        ics_checks.check(self, ics.raw, "PUBLISH", uid, 1, v["window"]["start"],
                         v["window"]["end"])

        # Hold the new window for this booking, through its link.
        new = {w["label"]: w for w in self.windows(a, vt, "2026-03-06")["2026-03-06"]}
        target = new["14:00-15:00"]
        h = self.hold(a, vt, target["start"], link=token)
        self.assertEqual(h.status, 201, h.raw)
        self.assertEqual(h.body["purpose"], "reschedule")
        # A reschedule hold cannot book a new appointment.
        self.assertError(self.book(h.body["hold"], name="Thief", phone="07700 900901",
                                   email=None), 422, "hold_for_reschedule", "hold")
        r = self.link(token, "/reschedule", body={"hold": h.body["hold"]})
        self.assertEqual(r.status, 200, r.raw)
        self.assert_link_headers(r)
        m = r.body
        self.assertEqual((m["reference"], m["promise_version"], m["date"], m["status"]),
                         (ref, 2, "2026-03-06", "booked"))
        self.assertEqual(m["window"]["start"], target["start"])
        self.assertEqual(m["window"]["label"], "14:00-15:00")
        # Every link still works, and shows the move.
        for t in [token] + [x["token"] for x in ob.outbox(self.srv, aid)]:
            g = self.link(t)
            self.assertEqual((g.status, g.body["promise_version"]), (200, 2), t)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM holds"), [(0,)])
        rows = ob.outbox(self.srv, aid, "rescheduled")
        self.assertEqual(sorted(x["channel"] for x in rows), ["email", "sms"])
        email = [x for x in rows if x["channel"] == "email"][0]["payload"]
        self.assertEqual(email["ics_method"], "REQUEST")
        ics_checks.check(self, email["ics"], "REQUEST", uid, 2, target["start"], target["end"],
                         attendee="siobhan@example.org", url=email["link"])
        self.assertIn("Friday 6 March, 14:00 to 15:00", email["subject"])
        self.assertIn("Thursday 5 March", email["text"])  # where it was
        sms = [x for x in rows if x["channel"] == "sms"][0]["payload"]
        self.assertIn("Fri 6 Mar, 14:00-15:00", sms["text"])
        ev = ob.events(self.srv, aid)
        self.assertEqual([e["kind"] for e in ev], ["booked", "rescheduled"])
        d = json.loads(ev[1]["detail"])
        self.assertEqual((d["promise_version"], d["to_start"], d["from_start"], d["by"]),
                         (2, ob.secs(ob.utc(target["start"])),
                          ob.secs(ob.utc(v["window"]["start"])), "customer"))
        ics = self.link(token, "/ics")
        ics_checks.check(self, ics.raw, "PUBLISH", uid, 2, target["start"], target["end"])
        # A hold made for another booking, or none at all, does not move it.
        self.assertError(self.link(token, "/reschedule", body={}), 400, "missing_field",
                         "hold")
        self.assertError(self.link(token, "/reschedule", body={"hold": "x", "offer": 1}), 400,
                         "missing_field", "hold")
        other = self.book_one("5 Willow Drive", "2026-03-09", 0, name="Other Person",
                              phone="07700 900902", email=None)
        oh = self.hold(a, vt, new["15:00-16:00"]["start"], link=self.token_of(other))
        self.assertEqual(oh.status, 201, oh.raw)
        self.assertError(self.link(token, "/reschedule", body={"hold": oh.body["hold"]}), 422,
                         "hold_mismatch", "hold")
        self.assertError(self.link(token, "/reschedule", body={"hold": "y" * 43}), 409,
                         "hold_expired")

        # Cancel through the link, two days and some hours before the visit.
        self.clock(to="2026-03-04T10:00:00Z")
        c = self.link(token, "/cancel", body={"reason": "We sorted it ourselves"})
        self.assertEqual(c.status, 200, c.raw)
        self.assert_link_headers(c)
        self.assertEqual(c.body["status"], "cancelled")
        notice = ob.secs(ob.utc(target["start"])) - ob.secs(ob.utc("2026-03-04T10:00:00Z"))
        self.assertEqual(c.body["cancelled"], {"at": "2026-03-04T10:00:00Z", "by": "customer",
                                               "notice_hours": notice // 3600})
        self.assertEqual(self.srv.sql("SELECT status, cancelled_by, cancel_notice_s, "
                                      "cancel_reason FROM appointments WHERE id = ?", (aid,)),
                         [("cancelled", "customer", notice, "We sorted it ourselves")])
        rows = ob.outbox(self.srv, aid, "cancelled")
        self.assertEqual(sorted(x["channel"] for x in rows), ["email", "sms"])
        email = [x for x in rows if x["channel"] == "email"][0]["payload"]
        self.assertEqual(email["ics_method"], "CANCEL")
        cev = ics_checks.check(self, email["ics"], "CANCEL", uid, 3, target["start"],
                               target["end"], attendee="siobhan@example.org")
        self.assertNotIn("URL", cev)
        self.assertNotIn("link", email)  # nothing left to manage
        self.assertEqual([e["kind"] for e in ob.events(self.srv, aid)],
                         ["booked", "rescheduled", "cancelled"])
        # The link still shows the booking, cancelled; nothing more can change.
        g = self.link(token)
        self.assertEqual((g.status, g.body["status"]), (200, "cancelled"))
        self.assertError(self.link(token, "/cancel", body={}), 422, "cannot_cancel")
        h = self.hold(a, vt, new["12:00-13:00"]["start"], link=token)
        self.assertEqual(h.status, 201, h.raw)
        self.assertError(self.link(token, "/reschedule", body={"hold": h.body["hold"]}), 422,
                         "cannot_reschedule")
        self.assertError(self.link(token, "/waitlist", body={"on": True}), 422,
                         "cannot_waitlist")
        # A cancel with no body at all works too.
        o = self.link(self.token_of(other), "/cancel", raw=b"", content_type=None)
        self.assertEqual((o.status, o.body["cancelled"]["by"]), (200, "customer"), o.raw)


class TestInvalidLinks(LinkCase):

    def test_every_invalid_link_is_the_same_404(self):
        v = self.book_one("1 Kingsway", "2026-03-10", name="Kwame Mensah", phone="07700 900910",
                          email="kwame@example.org")
        good = self.token_of(v)
        unknown = secrets.token_urlsafe(16)
        self.srv.note_secret(unknown)
        bad = [unknown, unknown[:21], unknown + "A", "x", "!" * 22, "%21" * 8,
               good[:-1] + ("A" if good[-1] != "A" else "B"), good.upper() if good.upper() !=
               good else good.lower(), "a" * 200]
        bodies = set()
        for t in bad:
            for sub, method, body in (("", "GET", None), ("/ics", "GET", None),
                                      ("/cancel", "POST", {}),
                                      ("/reschedule", "POST", {"hold": "x"}),
                                      ("/waitlist", "POST", {"on": True})):
                r = self.link(t, sub, method=method, body=body)
                bodies.add(same_404(self, r))
                self.assert_link_headers(r)
            h = self.srv.request("HEAD", "/api/v1/a/%s" % t)
            self.assertEqual(h.status, 404)
        # Revoked: "send me a new link" revokes every earlier one.
        r = self.srv.request("POST", "/api/v1/links/resend",
                             {"reference": v["reference"], "contact": "kwame@example.org"})
        self.assertEqual(r.status, 202, r.raw)
        aid = self.appointment_id(v["reference"])
        booked_links = [x["token"] for x in ob.outbox(self.srv, aid, "booking_confirmation")]
        for t in [good] + booked_links:
            for sub, method, body in (("", "GET", None), ("/ics", "GET", None),
                                      ("/cancel", "POST", {})):
                bodies.add(same_404(self, self.link(t, sub, method=method, body=body)))
        self.assertEqual(len(bodies), 1, bodies)
        # And nothing was cancelled by those attempts.
        self.assertEqual(self.srv.sql("SELECT status FROM appointments WHERE id = ?", (aid,)),
                         [("booked",)])
        # A valid page carries the same headers.
        new = ob.outbox(self.srv, aid, "new_link")[0]["token"]
        ok = self.link(new)
        self.assertEqual(ok.status, 200)
        self.assert_link_headers(ok)

    def test_tokens_never_reach_the_log(self):
        v = self.book_one("3 Kingsway", "2026-03-10", name="Maja Kowalski",
                          phone="07700 900911", email=None)
        t = self.token_of(v)
        for sub in ("", "/ics"):
            self.assertEqual(self.link(t, sub).status, 200)
        self.link(t, "/waitlist", body={"on": True})
        self.link("Z" * 22)
        text = self.srv.stderr_text()
        tokens = {t} | {x["token"] for x in ob.outbox(self.srv)}
        routes = set()
        for line in text.splitlines():
            for tok in tokens:
                self.assertNotIn(tok, line)
            rec = json.loads(line)
            if rec.get("msg") == "request":
                routes.add(rec["route"])
        self.assertIn("/api/v1/a/{token}", routes)
        self.assertIn("/api/v1/a/{token}/ics", routes)
        self.assertIn("/api/v1/a/{token}/waitlist", routes)
        self.assertNotIn("Z" * 22, text)
        # Hold tokens neither (they are secrets too; stop() checks them all again).
        for (h,) in [(bytes(b).hex().upper(),) for (b,) in
                     self.srv.sql("SELECT token_hash FROM holds")]:
            self.assertNotIn(h, text)


class TestWaitlist(LinkCase):

    def test_earlier_window_offered_and_taken(self):
        vt = self.types[VT]["id"]
        # A books Thursday 08:00 (Priya is alone then); B books the Tuesday after
        # and asks for an earlier window.
        a_addr = self.addr["2 Orchard Way"]["id"]
        b_addr = self.addr["4 Orchard Way"]["id"]
        wa = {w["label"]: w for w in self.windows(a_addr, vt, "2026-03-05")["2026-03-05"]}
        A = self.hold_and_book(a_addr, vt, wa["08:00-09:00"]["start"], name="Amelia A",
                               phone="07700 900920", email="a@example.org")
        wb = {w["label"]: w for w in self.windows(b_addr, vt, "2026-03-10")["2026-03-10"]}
        B = self.hold_and_book(b_addr, vt, wb["15:00-16:00"]["start"], name="Bilal B",
                               phone="07700 900921", email="b@example.org")
        tb = self.token_of(B)
        bid, aid = self.appointment_id(B["reference"]), self.appointment_id(A["reference"])
        r = self.link(tb, "/waitlist", body={"on": True})
        self.assertEqual((r.status, r.body["waitlist"]), (200, "waiting"), r.raw)
        self.assertError(self.link(tb, "/waitlist", body={}), 400, "missing_field", "on")
        self.assertError(self.link(tb, "/waitlist", body={"on": "yes"}), 400, "wrong_type",
                         "on")
        # A cancels: B is offered A's window, held for B.
        c = self.link(self.token_of(A), "/cancel", body={})
        self.assertEqual(c.status, 200, c.raw)
        holds = self.srv.sql("SELECT id, purpose, for_appointment, window_start, client_key, "
                             "expires_at FROM holds")
        self.assertEqual(len(holds), 1, holds)
        hid, purpose, for_appt, start, client, expires = holds[0]
        self.assertEqual((purpose, for_appt, start, client),
                         ("waitlist_offer", bid, ob.secs(ob.utc(wa["08:00-09:00"]["start"])),
                          "waitlist"))
        self.assertEqual(expires - ob.secs(ob.utc("2026-03-02T09:00:00Z")), 120 * 60)
        rows = ob.outbox(self.srv, bid, "waitlist_offer")
        self.assertEqual(sorted(x["channel"] for x in rows), ["email", "sms"])
        for x in rows:
            self.assertNotIn("ics", x["payload"])  # an offer is not a promise yet
            self.assertEqual(self.link(x["token"]).body["reference"], B["reference"])
        self.assertIn("Thursday 5 March, 08:00 to 09:00", rows[0]["payload"]["subject"])
        self.assertEqual([e["kind"] for e in ob.events(self.srv, bid)],
                         ["booked", "waitlist_on", "waitlist_offer"])
        g = self.link(tb)
        self.assertEqual(g.body["waitlist"], "offered")
        self.assertEqual(g.body["offers"], [{
            "id": hid, "date": "2026-03-05", "held_until": "2026-03-02T11:00:00Z",
            "window": {k: wa["08:00-09:00"][k] for k in ("start", "end", "local_start",
                                                        "local_end", "label")}}])
        # Nobody else can take the offered place.
        taken = self.hold(a_addr, vt, wa["08:00-09:00"]["start"])
        self.assertError(taken, 409, "window_taken")
        # An offer made to B is not someone else's to take.
        C = self.book_one("1 Kingsway", "2026-03-11", name="Cara C", phone="07700 900922",
                          email=None)
        self.assertError(self.link(self.token_of(C), "/reschedule", body={"offer": hid}), 422,
                         "hold_mismatch", "hold")
        # B takes it.
        r = self.link(tb, "/reschedule", body={"offer": hid})
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.body["date"], r.body["window"]["start"], r.body["promise_version"],
                          r.body["offers"]), ("2026-03-05", wa["08:00-09:00"]["start"], 2, []))
        self.assertEqual(r.body["waitlist"], "done")
        priya = self.org_visitors[0]["id"]
        self.assertEqual(self.srv.sql("SELECT visitor_id, local_date FROM appointments WHERE "
                                      "id = ?", (bid,)), [(priya, "2026-03-05")])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM holds"), [(0,)])
        res = ob.outbox(self.srv, bid, "rescheduled")
        mail = [x for x in res if x["channel"] == "email"][0]["payload"]
        ics_checks.check(self, mail["ics"], "REQUEST", B["reference"] + "@onthedot", 2,
                         wa["08:00-09:00"]["start"], wa["08:00-09:00"]["end"],
                         attendee="b@example.org")
        # The offer is used up.
        self.assertError(self.link(tb, "/reschedule", body={"offer": hid}), 409,
                         "hold_expired")
        # B's route is kept: re-timed independently, every window holds.
        self.assert_route_keeps(priya, "2026-03-05")

    def test_lapsed_offer_goes_back_to_the_queue(self):
        vt = self.types[VT]["id"]
        a = self.addr["1 Kingsway"]["id"]

        def book(date, label, name, phone):
            ws = {w["label"]: w for w in self.windows(a, vt, date)[date]}
            return self.hold_and_book(a, vt, ws[label]["start"], name=name, phone=phone,
                                      email=None, consent={"sms": True, "email": False})

        d = book("2026-03-12", "08:00-09:00", "Dara D", "07700 900925")
        e = book("2026-03-17", "15:00-16:00", "Emeka E", "07700 900926")
        f = book("2026-03-13", "08:00-09:00", "Fern F", "07700 900927")
        te = self.token_of(e)
        eid = self.appointment_id(e["reference"])
        self.assertEqual(self.link(te, "/waitlist", body={"on": True}).body["waitlist"],
                         "waiting")
        self.assertEqual(self.link(self.token_of(d), "/cancel", body={}).status, 200)
        offers = self.link(te).body["offers"]
        self.assertEqual([o["date"] for o in offers], ["2026-03-12"])
        # Nobody takes it: two hours later it has lapsed.
        self.clock(121 * 60)
        g = self.link(te).body
        self.assertEqual((g["offers"], g["waitlist"]), ([], "waiting"))
        self.assertError(self.link(te, "/reschedule", body={"offer": offers[0]["id"]}), 409,
                         "hold_expired")
        # The next place freed is offered to E again.
        self.assertEqual(self.link(self.token_of(f), "/cancel", body={}).status, 200)
        g = self.link(te).body
        self.assertEqual(g["waitlist"], "offered")
        self.assertEqual([o["date"] for o in g["offers"]], ["2026-03-13"])
        self.assertEqual(len(ob.outbox(self.srv, eid, "waitlist_offer")), 2)
        # One live offer (the lapsed hold is kept an hour, then tidied away).
        now = ob.secs(ob.utc(self.clock(0)))
        self.assertEqual(self.srv.sql("SELECT count(*) FROM holds WHERE for_appointment = ? "
                                      "AND expires_at > ?", (eid, now)), [(1,)])
        # Withdrawn: no more offers.
        self.assertEqual(self.link(te, "/waitlist", body={"on": False}).body["waitlist"],
                         "withdrawn")

    def assert_route_keeps(self, visitor_id, date):
        stops = ob.visitor_day_stops(self.srv, visitor_id, date)
        self.assertTrue(stops)
        for s in stops:
            s["minutes"] = 45  # the median; the planner keeps a p80 margin beyond it
        shift = ob.local(date, "08:00")
        arrivals, back = ob.simulate_route(ob.CENTRE, ob.secs(shift), ob.secs(shift) + 9 * 3600,
                                           stops)
        for s, t in zip(stops, arrivals):
            self.assertLess(t, s["end"], s)


class TestResend(LinkCase):

    def test_new_link_by_phone_then_email(self):
        v = self.book_one("Meadow Cottage", "2026-03-11", name="Chidi Okafor",
                          phone="07700 900930", email="chidi@example.org")
        ref = v["reference"]
        aid = self.appointment_id(ref)
        old = [self.token_of(v)] + [x["token"] for x in ob.outbox(self.srv, aid)]
        unknown_404 = same_404(self, self.link(secrets.token_urlsafe(16)))
        events_before = len(ob.events(self.srv, aid))
        r = self.srv.request("POST", "/api/v1/links/resend",
                             {"reference": ref.lower().replace("-", " "),
                              "contact": "+44 (7700) 900-930"})
        self.assertEqual(r.status, 202, r.raw)
        message = r.body
        for t in old:
            self.assertEqual(same_404(self, self.link(t)), unknown_404)
        rows = ob.outbox(self.srv, aid, "new_link")
        self.assertEqual([(x["channel"], x["payload"]["to"]) for x in rows],
                         [("sms", "+447700900930")])
        self.assertIn(rows[0]["payload"]["link"], rows[0]["payload"]["text"])
        fresh = rows[0]["token"]
        self.assertEqual(self.link(fresh).body["reference"], ref)
        ev = ob.events(self.srv, aid)
        self.assertEqual(ev[-1]["kind"], "links_revoked")
        self.assertEqual(json.loads(ev[-1]["detail"]), {"sent_to": "sms"})
        self.assertEqual(len(ev), events_before + 1)
        # By email (the domain's case does not matter): the email only.
        r = self.srv.request("POST", "/api/v1/links/resend",
                             {"reference": ref, "contact": "chidi@EXAMPLE.ORG"})
        self.assertEqual((r.status, r.body), (202, message))
        rows = ob.outbox(self.srv, aid, "new_link")
        self.assertEqual([x["channel"] for x in rows], ["sms", "email"])
        self.assertEqual(rows[1]["payload"]["to"], "chidi@example.org")
        self.assertNotIn("ics", rows[1]["payload"])
        same_404(self, self.link(fresh))
        self.assertEqual(self.link(rows[1]["token"]).status, 200)
        # Twice in the same second: two requests, two messages.
        for _ in range(2):
            r = self.srv.request("POST", "/api/v1/links/resend",
                                 {"reference": ref, "contact": "07700900930"})
            self.assertEqual(r.status, 202, r.raw)
        self.assertEqual(len(ob.outbox(self.srv, aid, "new_link")), 4)

    def test_no_match_changes_nothing(self):
        v = self.book_one("Meadow Cottage", "2026-03-12", name="Niamh Davies",
                          phone="07700 900940", email="niamh@example.org")
        ref = v["reference"]
        aid = self.appointment_id(ref)
        token = self.token_of(v)

        def snapshot():
            return (self.srv.sql("SELECT count(*), count(revoked_at) FROM appointment_links"),
                    self.srv.sql("SELECT count(*) FROM outbox"),
                    self.srv.sql("SELECT count(*) FROM appointment_events"))

        before = snapshot()
        answer = None
        for body in ({"reference": ref, "contact": "07700 900941"},
                     {"reference": ref, "contact": "someone@example.org"},
                     {"reference": ref, "contact": "niamh@example.org.uk"},
                     {"reference": "OTD-222222", "contact": "07700 900940"},
                     {"reference": "hello", "contact": "07700 900940"},
                     {"reference": ref, "contact": "not a phone"},
                     {"reference": ref, "contact": "+33 1 23 45 67 89"}):
            r = self.srv.request("POST", "/api/v1/links/resend", body)
            self.assertEqual(r.status, 202, (body, r.raw))
            answer = answer or r.raw
            self.assertEqual(r.raw, answer)
        self.assertEqual(snapshot(), before)
        self.assertEqual(self.link(token).status, 200)
        for body, code, field in (({"reference": ref}, "missing_field", "contact"),
                                  ({"contact": "07700 900940"}, "missing_field", "reference"),
                                  ({"reference": ref, "contact": ""}, "empty", "contact"),
                                  ({"reference": ref, "contact": "x", "channel": "sms"},
                                   "unknown_field", "channel")):
            self.assertError(self.srv.request("POST", "/api/v1/links/resend", body), 400, code,
                             field)

    def test_a_booking_cannot_take_over_someone_elses_contact(self):
        """Booking with someone's email and one's own phone must not change the
        contact of their booking (and so where their new link goes)."""
        victim = self.book_one("1 Mill Road", "2026-03-13", name="Victoria Victim",
                               phone="07700 900950", email="victoria@example.org")
        gas = self.types["boiler-repair"]["id"]
        a = self.addr["3 Mill Road"]["id"]
        ws = self.windows(a, gas, "2026-03-13")["2026-03-13"]
        self.hold_and_book(a, gas, ws[0]["start"], name="Mallory", phone="07700 900951",
                           email="victoria@example.org", consent={"sms": True, "email": False})
        vid = self.appointment_id(victim["reference"])
        self.assertEqual(self.srv.sql("SELECT c.name, c.phone, c.email FROM customers c JOIN "
                                      "appointments a ON a.customer_id = c.id WHERE a.id = ?",
                                      (vid,)),
                         [("Victoria Victim", "+447700900950", "victoria@example.org")])
        r = self.srv.request("POST", "/api/v1/links/resend",
                             {"reference": victim["reference"], "contact": "07700 900951"})
        self.assertEqual(r.status, 202)
        self.assertEqual(ob.outbox(self.srv, vid, "new_link"), [])
        self.assertEqual(self.link(self.token_of(victim)).status, 200)
        staff = self.srv.request("GET", "/api/v1/appointments/" + victim["reference"],
                                 token="admin")
        self.assertEqual(staff.body["customer"]["name"], "Victoria Victim")


class TestLimitsAndExpiry(LinkCase):
    server_env = {"ONTHEDOT_BOOKING_SLOTS_BURST": "3", "ONTHEDOT_BOOKING_SLOTS_PER_MINUTE": "1",
                  "ONTHEDOT_BOOKING_RESEND_BURST": "2", "ONTHEDOT_BOOKING_RESEND_PER_HOUR": "1",
                  "ONTHEDOT_BOOKING_HOLDS_PER_CLIENT": "2"}

    def test_a_rate_limits(self):
        vt = self.types[VT]["id"]
        a = self.addr["14 High Street"]["id"]
        q = "/api/v1/slots?visit_type=%d&address=%d&from=2026-03-03&to=2026-03-03" % (vt, a)
        for _ in range(3):
            self.assertEqual(self.srv.request("GET", q).status, 200)
        r = self.srv.request("GET", q)
        self.assertError(r, 429, "rate_limited")
        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
        self.assertEqual(self.srv.request("GET", q, token="admin").status, 200)  # its own
        self.clock(60)
        ws = self.srv.request("GET", q).body["days"][0]["windows"]
        # Live holds per client.
        h1, h2 = self.hold(a, vt, ws[0]["start"]), self.hold(a, vt, ws[5]["start"])
        self.assertEqual((h1.status, h2.status), (201, 201))
        h3 = self.hold(a, vt, ws[8]["start"])
        self.assertError(h3, 429, "too_many_holds")
        self.assertGreaterEqual(int(h3.headers["Retry-After"]), 1)
        v = self.book(h1.body["hold"], name="Evie Fletcher", phone="07700 900960", email=None)
        self.assertEqual(v.status, 201, v.raw)
        self.assertEqual(self.hold(a, vt, ws[8]["start"]).status, 201)
        # "Send me a new link".
        for _ in range(2):
            r = self.srv.request("POST", "/api/v1/links/resend",
                                 {"reference": v.body["reference"], "contact": "07700900960"})
            self.assertEqual(r.status, 202, r.raw)
        r = self.srv.request("POST", "/api/v1/links/resend",
                             {"reference": v.body["reference"], "contact": "07700900960"})
        self.assertError(r, 429, "rate_limited")
        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
        self.assertEqual(len(ob.outbox(self.srv, self.appointment_id(v.body["reference"]),
                                       "new_link")), 2)

    def test_b_links_expire_after_the_visit(self):
        self.clock(3600)
        v = self.book_one("12 High Street", "2026-03-05",
                          name="Rhys Ahmed", phone="07700 900970", email=None)
        t = self.token_of(v)
        end = ob.utc(v["window"]["end"])
        self.clock(to=ob.iso(end + ob.dt.timedelta(days=30) - ob.dt.timedelta(seconds=1)))
        self.assertEqual(self.link(t).status, 200)
        self.clock(1)
        same_404(self, self.link(t))


if __name__ == "__main__":
    unittest.main()
