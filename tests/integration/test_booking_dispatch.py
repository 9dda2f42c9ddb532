"""Dispatchers and booking: booking on a customer's behalf (a phone call) with a
session cookie (CSRF required) or a bearer token (booked_by "dispatcher");
listing by date, visitor and status; searching by reference, name prefix,
phone (as typed) and postcode; cancelling with a reason (required) and moving
a booking (held by its reference, with a reason); roles: a visitor-role user
gets 403, a customer without credentials 401 on staff routes."""

import json
import unittest

import ics_checks
import otd
import otd_booking as ob

VT = "planning-inspection"


class TestDispatch(ob.BookingTestCase):
    users = ("admin", "dispatcher", "finance")

    @classmethod
    def setUpOrganisation(cls):
        cls.srv.add_user("visitor", "priya", "Priya Shah", visitor_id=cls.org_visitors[0]["id"])
        cls.disp = cls.srv.login("disp")
        cls.priya = cls.srv.login("priya")
        cls.fin = cls.srv.login("fin")

    def staff_hold(self, line1, date, label, **kw):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = {w["label"]: w for w in self.windows(a, vt, date, **kw)[date]}
        return self.hold(a, vt, ws[label]["start"], **kw)

    def test_a_book_on_behalf(self):
        # With the session cookie: reading slots needs no CSRF, changes do.
        h = self.staff_hold("1 Mill Road", "2026-03-05", "09:00-10:00", session=self.disp,
                            csrf=False)
        self.assertError(h, 403, "csrf_failed")
        h = self.staff_hold("1 Mill Road", "2026-03-05", "09:00-10:00", session=self.disp)
        self.assertEqual(h.status, 201, h.raw)
        self.assertEqual(self.srv.sql("SELECT client_key FROM holds"),
                         [("user:%d" % self.disp.user["id"],)])
        body = dict(hold=h.body["hold"], name="Hannah Hughes", phone="07700 900801",
                    email="hannah@example.org", consent={"sms": True, "email": True},
                    key="phone-call-1")
        self.assertError(self.book(session=self.disp, csrf=False, **body), 403, "csrf_failed")
        self.assertError(self.book(session=self.disp, csrf="x" * 43, **body), 403,
                         "csrf_failed")
        r = self.book(session=self.disp, **body)
        self.assertEqual(r.status, 201, r.raw)
        v = r.body
        self.assertEqual((v["booked_by"], v["status"]), ("dispatcher", "booked"))
        self.assertEqual(v["customer"]["phone"], "+447700900801")  # the staff view
        self.assertIn("link", v)
        aid = v["id"]
        self.assertEqual([(e["kind"], e["actor_kind"], e["actor_id"])
                          for e in ob.events(self.srv, aid)],
                         [("booked", "user", self.disp.user["id"])])
        a = ob.audit(self.srv, "appointment.book", aid)
        self.assertEqual((a[0][3], a[0][4]), ("user", self.disp.user["id"]))
        # A replay by the same dispatcher: the same booking; the same key from a
        # customer is another request.
        r2 = self.book(session=self.disp, **body)
        self.assertEqual((r2.status, r2.headers["Idempotent-Replayed"], r2.body["id"]),
                         (201, "true", aid))
        # With the admin token.
        h = self.staff_hold("3 Mill Road", "2026-03-05", "10:00-11:00", token="admin")
        self.assertEqual(h.status, 201, h.raw)
        r = self.book(h.body["hold"], name="Oliver Patel", phone="07700 900802",
                      email=None, consent={"sms": True, "email": False}, token="admin")
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(r.body["booked_by"], "dispatcher")
        self.assertEqual(ob.audit(self.srv, "appointment.book", r.body["id"])[0][3], "token")
        self.assertEqual(self.srv.sql("SELECT booked_by FROM appointments WHERE id = ?",
                                      (r.body["id"],)), [("dispatcher",)])

    def test_b_roles(self):
        ref = self.srv.sql("SELECT reference FROM appointments ORDER BY id LIMIT 1")
        ref = ref[0][0] if ref else "OTD-222222"
        staff_routes = [("GET", "/api/v1/appointments", None),
                        ("GET", "/api/v1/appointments/" + ref, None),
                        ("POST", "/api/v1/appointments/%s/cancel" % ref, {"reason": "x"}),
                        ("POST", "/api/v1/appointments/%s/reschedule" % ref,
                         {"hold": "x", "reason": "x"})]
        for method, path, body in staff_routes:
            self.assertError(self.srv.request(method, path, body), 401, "unauthenticated")
            self.assertError(self.srv.request(method, path, body, session=self.priya), 403,
                             "forbidden")
            self.assertError(self.srv.request(method, path, body, session=self.fin), 403,
                             "forbidden")
        # A customer's link is not a credential.
        links = [x["token"] for x in ob.outbox(self.srv) if x.get("token")]
        self.assertTrue(links)
        self.assertError(self.srv.request("GET", "/api/v1/appointments", token=links[0]), 401,
                         "invalid_token")
        # The public routes with a visitor's session: the role is checked.
        vt = self.types[VT]["id"]
        a = self.addr["1 Mill Road"]["id"]
        self.assertError(self.slots(a, vt, "2026-03-05", status=None, session=self.priya), 403,
                         "forbidden")
        self.assertError(self.hold(a, vt, "2026-03-05T11:00:00Z", session=self.priya), 403,
                         "forbidden")
        # ... and the same routes without credentials are public.
        self.assertEqual(self.slots(a, vt, "2026-03-05").status, 200)

    def test_c_list_and_search(self):
        vt = self.types[VT]["id"]
        bookings = {}
        for key, line1, date, label, name, phone in (
                ("b1", "7 Church Lane", "2026-03-09", "08:00-09:00", "Hannah Brennan",
                 "07700 900811"),
                ("b2", "9 Church Lane", "2026-03-09", "10:00-11:00", "hannah o'connor",
                 "07700 900812"),
                ("b3", "2 Orchard Way", "2026-03-10", "09:00-10:00", "Yusuf Ahmed",
                 "07700 900813"),
                ("b4", "4 Orchard Way", "2026-03-10", "13:00-14:00", "100% Real_Name",
                 "07700 900814")):
            a = self.addr[line1]["id"]
            ws = {w["label"]: w for w in self.windows(a, vt, date)[date]}
            bookings[key] = self.hold_and_book(a, vt, ws[label]["start"], name=name,
                                               phone=phone, email=key + "@example.org")
        c = self.link(self.token_of(bookings["b4"]), "/cancel", body={})
        self.assertEqual(c.status, 200, c.raw)
        refs = {k: v["reference"] for k, v in bookings.items()}

        def listed(query, **kw):
            kw.setdefault("session", self.disp)
            r = self.srv.request("GET", "/api/v1/appointments?" + query, **kw)
            self.assertEqual(r.status, 200, r.raw)
            return [x["reference"] for x in r.body["items"]]

        self.assertEqual(listed("date=2026-03-09"), [refs["b1"], refs["b2"]])
        self.assertEqual(listed("date=2026-03-10"), [refs["b3"], refs["b4"]])
        self.assertEqual(listed("date=2026-03-10&status=booked"), [refs["b3"]])
        self.assertEqual(listed("status=cancelled&date=2026-03-10"), [refs["b4"]])
        b1 = self.srv.request("GET", "/api/v1/appointments/" + refs["b1"], token="admin").body
        by_visitor = listed("visitor=%d&date=2026-03-09" % b1["visitor_id"])
        self.assertIn(refs["b1"], by_visitor)
        self.assertTrue(all(x["visitor_id"] == b1["visitor_id"] for x in self.srv.request(
            "GET", "/api/v1/appointments?visitor=%d" % b1["visitor_id"], token="admin")
            .body["items"]))
        # Search: reference (any case), name prefix, phone as typed, postcode, email.
        self.assertEqual(listed("q=" + refs["b3"].lower()), [refs["b3"]])
        self.assertEqual(listed("q=hannah&date=2026-03-09"), [refs["b1"], refs["b2"]])
        self.assertEqual(listed("q=HANNAH%20O&date=2026-03-09"), [refs["b2"]])
        self.assertEqual(listed("q=Brennan"), [])  # a prefix of the name, not a word in it
        self.assertEqual(listed("q=07700%20900813"), [refs["b3"]])
        self.assertEqual(listed("q=%2B44%207700%20900813"), [refs["b3"]])
        self.assertEqual(listed("q=%2B447700900813"), [refs["b3"]])
        self.assertEqual(listed("q=zz3%205ef&date=2026-03-10"), [refs["b3"], refs["b4"]])
        self.assertEqual(listed("q=ZZ35EF&status=booked"), [refs["b3"]])
        self.assertEqual(listed("q=b2@example.org"), [refs["b2"]])
        self.assertEqual(listed("q=100%25"), [refs["b4"]])  # LIKE's % is literal
        self.assertEqual(listed("q=1%25"), [])
        self.assertEqual(listed("q=100%25%20Real_"), [refs["b4"]])
        self.assertEqual(listed("q=100%25%20Real%25"), [])
        # Pages.
        r = self.srv.request("GET", "/api/v1/appointments?limit=1&date=2026-03-09",
                             token="admin")
        self.assertEqual(len(r.body["items"]), 1)
        nxt = r.body["next"]
        self.assertTrue(nxt)
        r2 = self.srv.request("GET", "/api/v1/appointments?limit=1&date=2026-03-09&after=" +
                              nxt, token="admin")
        self.assertEqual([x["reference"] for x in r2.body["items"]], [refs["b2"]])
        # Bad filters name the parameter.
        for q, field in (("date=9%20March", "date"), ("status=lost", "status"),
                         ("q=x", "q"), ("visitor=abc", "visitor"), ("limit=0", "limit"),
                         ("after=zzz", "after"), ("q=" + "x" * 101, "q")):
            r = self.srv.request("GET", "/api/v1/appointments?" + q, token="admin")
            self.assertEqual((r.status, r.error.get("field")), (400, field), (q, r.raw))

    def test_d_cancel_and_reschedule(self):
        vt = self.types[VT]["id"]
        a = self.addr["21 Station Road"]["id"]
        ws = {w["label"]: w for w in self.windows(a, vt, "2026-03-11")["2026-03-11"]}
        v = self.hold_and_book(a, vt, ws["09:00-10:00"]["start"], name="Isla Kowalski",
                               phone="07700 900821", email="isla@example.org")
        ref = v["reference"]
        aid = self.appointment_id(ref)
        path = "/api/v1/appointments/%s/" % ref
        # Move it: hold by reference (staff only), then reschedule with a reason.
        w2 = {w["label"]: w for w in self.windows(a, vt, "2026-03-12")["2026-03-12"]}
        h = self.srv.request("POST", "/api/v1/holds",
                             {"address": a, "visit_type": vt,
                              "window_start": w2["11:00-12:00"]["start"],
                              "appointment": ref.lower()}, session=self.disp)
        self.assertEqual((h.status, h.body["purpose"]), (201, "reschedule"), h.raw)
        self.srv.note_secret(h.body["hold"])
        self.assertError(self.srv.request("POST", "/api/v1/holds",
                                          {"address": a, "visit_type": vt,
                                           "window_start": w2["11:00-12:00"]["start"],
                                           "appointment": "OTD-222222"}, token="admin"),
                         400, "unknown_appointment", "appointment")
        self.assertError(self.srv.request("POST", path + "reschedule", {"hold": h.body["hold"]},
                                          session=self.disp), 400, "missing_field", "reason")
        self.assertError(self.srv.request("POST", path + "reschedule",
                                          {"hold": h.body["hold"], "reason": "x"},
                                          session=self.disp, csrf=False), 403, "csrf_failed")
        r = self.srv.request("POST", path + "reschedule",
                             {"hold": h.body["hold"], "reason": "Officer on a course"},
                             session=self.disp)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.body["promise_version"], r.body["date"], r.body["window"]["label"]),
                         (2, "2026-03-12", "11:00-12:00"))
        self.assertNotIn("link", r.body)
        ev = ob.events(self.srv, aid)[-1]
        self.assertEqual((ev["kind"], ev["actor_kind"]), ("rescheduled", "user"))
        self.assertEqual(json.loads(ev["detail"])["by"], "organisation")
        au = ob.audit(self.srv, "appointment.reschedule", aid)
        self.assertEqual(json.loads(au[0][5]), {"promise_version": 2,
                                                "reason": "Officer on a course"})
        mail = [x for x in ob.outbox(self.srv, aid, "rescheduled")
                if x["channel"] == "email"][0]["payload"]
        ics_checks.check(self, mail["ics"], "REQUEST", ref + "@onthedot", 2,
                         w2["11:00-12:00"]["start"], w2["11:00-12:00"]["end"])
        self.assertEqual(self.link(self.token_of(v)).body["promise_version"], 2)
        # Cancel: the reason is required.
        for body in (None, {}, {"reason": ""}):
            r = self.srv.request("POST", path + "cancel", body, session=self.disp)
            self.assertEqual(r.status, 400, r.raw)
            self.assertEqual(r.error["field"], "reason")
        self.assertError(self.srv.request("POST", path + "cancel", {"reason": "x", "why": "y"},
                                          session=self.disp), 400, "unknown_field", "why")
        self.clock(to="2026-03-11T12:00:00Z")
        disp = self.srv.login("disp")  # days later: a new session
        r = self.srv.request("POST", path + "cancel", {"reason": "The officer is ill"},
                             session=disp)
        self.assertEqual(r.status, 200, r.raw)
        notice = ob.secs(ob.utc(w2["11:00-12:00"]["start"])) - ob.secs(
            ob.utc("2026-03-11T12:00:00Z"))
        self.assertEqual(r.body["cancelled"], {"at": "2026-03-11T12:00:00Z",
                                               "by": "organisation",
                                               "notice_hours": notice // 3600})
        self.assertEqual(self.srv.sql("SELECT cancel_reason, cancel_notice_s FROM appointments "
                                      "WHERE id = ?", (aid,)),
                         [("The officer is ill", notice)])
        rows = ob.outbox(self.srv, aid, "cancelled")
        self.assertEqual(sorted(x["channel"] for x in rows), ["email", "sms"])
        mail = [x for x in rows if x["channel"] == "email"][0]["payload"]
        self.assertIn("The officer is ill", mail["text"])
        ics_checks.check(self, mail["ics"], "CANCEL", ref + "@onthedot", 3,
                         w2["11:00-12:00"]["start"], w2["11:00-12:00"]["end"])
        self.assertError(self.srv.request("POST", path + "cancel", {"reason": "again"},
                                          session=disp), 422, "cannot_cancel")
        self.assertError(self.srv.request("POST", "/api/v1/appointments/OTD-222222/cancel",
                                          {"reason": "x"}, session=disp), 404,
                         "not_found")
        self.assertError(self.srv.request("GET", "/api/v1/appointments/nonsense",
                                          token="admin"), 404, "not_found")


if __name__ == "__main__":
    unittest.main()
