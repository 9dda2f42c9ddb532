"""Feedback after a visit, its moderation, and the public trust figures
(issue 6) through the HTTP API of the real binary on a virtual clock.

Two customers book through the booking API; the visitor's taps (start
travel, arrived, done) close both visits on time. Each customer gives
feedback through their link: refused before the visit is done and with a
mark out of range (naming "rating"), changeable while pending, fixed once
moderated; an HTML tag in a comment is stored and returned as text. A
dispatcher moderates (publish without consent refused, withhold with a
reason, redact with the text the public sees); a visitor may not. Then
GET /api/v1/trust, which is public, shows the redacted words only (never
the customer's own words, never the withheld comment), counts the withheld
one, and gives the kept figures of a small hand-made history (written
with SQL, in February, away from the ticker's day) plus the two visits,
each worked out here from the definitions in include/onthedot/trust.h."""

import unittest

import otd
import otd_booking as ob
from otd_booking import iso, local, secs

DAY = "2026-03-03"  # a Tuesday; London is on GMT: local = UTC
VT = "planning-inspection"
IMG = "<img src=x onerror=alert(1)>"


class TestFeedback(ob.BookingTestCase):
    visitors = [dict(name="Priya Shah", role_title="planning officer", phone="01632 960100",
                     base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}, skills=["planning"],
                     shifts=[{"start": "2026-03-02T08:00", "duration_minutes": 600,
                              "rrule": ob.WEEKDAYS}])]
    visit_types = [{"code": VT, "name": "Planning inspection", "skill": "planning",
                    "duration_median_minutes": 45, "duration_spread": 0.3,
                    "window_minutes": 60}]
    server_env = {"ONTHEDOT_PLANNING_TRAVEL_SPREAD": "0"}

    @classmethod
    def setUpOrganisation(cls):
        cls.priya = cls.org_visitors[0]
        cls.srv.add_user("visitor", "priya", "Priya Shah", visitor_id=cls.priya["id"])
        cls.seq = 0

    # -- helpers --

    def visitor_session(self):
        return self.srv.login("priya")

    def tap(self, kind, hhmm, ref):
        type(self).seq += 1
        t = secs(local(DAY, hhmm))
        self.clock(to=iso(t))
        body = {"client_event_id": "fb%d" % type(self).seq, "type": kind, "at": iso(t),
                "appointment": ref}
        r = self.srv.request("POST", "/api/v1/visitor/events", body,
                             session=self.visitor_session())
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["applied"], 1, r.raw)

    def book_window(self, label, line1, name, phone, email):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = {w["label"]: w for w in self.windows(a, vt, DAY)[DAY]}
        self.assertIn(label, ws, sorted(ws))
        v = self.hold_and_book(a, vt, ws[label]["start"], name=name, phone=phone, email=email)
        return v["reference"], self.token_of(v)

    def feedback(self, token, body, status):
        r = self.link(token, "/feedback", "POST", body)
        self.assertEqual(r.status, status, r.raw)
        return r

    def moderate(self, fid, body, status, **kw):
        if "session" not in kw and "token" not in kw:
            kw["session"] = self.srv.login("disp")
        r = self.srv.request("POST", "/api/v1/feedback/%d/moderate" % fid, body, **kw)
        self.assertEqual(r.status, status, r.raw)
        return r

    def hand_made_history(self):
        """Appointments in February with known outcomes (see the figures in
        the test), an apology 30 minutes before one of them, and a case
        paid 10 days ago. Returns nothing; ids are not needed."""
        srv = self.srv
        srv.sql("INSERT INTO customers(name, phone, created_at) VALUES ('Hand Made', "
                "'+441632960999', 1)")
        cust = srv.sql("SELECT max(id) FROM customers")[0][0]
        addr = self.addr["7 Church Lane"]["id"]
        vt = self.types[VT]["id"]
        rows = [  # ref, date, start, minutes, status, arrived (minutes after start), by
            ("OTD-HAND01", "2026-02-20", "09:00", 60, "done", 20, None),       # kept
            ("OTD-HAND02", "2026-02-21", "09:00", 60, "done", 70, None),       # late
            ("OTD-HAND03", "2026-02-23", "10:00", 120, "done", -10, None),     # early
            ("OTD-HAND04", "2026-02-24", "10:00", 120, "cancelled", None, "customer"),
            ("OTD-HAND05", "2026-02-25", "10:00", 120, "cancelled", None, "organisation"),
            ("OTD-HAND06", "2026-01-12", "09:00", 60, "done", 5, None),        # 90 days
            ("OTD-HAND07", "2025-11-10", "09:00", 60, "done", 5, None),        # too old
        ]
        for ref, date, hhmm, minutes, status, arrived, by in rows:
            ws = secs(local(date, hhmm))
            we = ws + minutes * 60
            arr = ws + arrived * 60 if arrived is not None else None
            srv.sql(
                "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
                "visitor_id, local_date, window_start, window_end, status, arrived_at, done_at, "
                "cancelled_at, cancelled_by, created_at, updated_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1)",
                (ref, cust, addr, vt, None if status == "cancelled" else self.priya["id"], date,
                 ws, we, status, arr, arr + 2400 if status == "done" else None,
                 1 if status == "cancelled" else None, by))
        late = srv.sql("SELECT id, window_start FROM appointments WHERE reference = "
                       "'OTD-HAND02'")[0]
        srv.sql("INSERT INTO outbox(idem_key, appointment_id, channel, template, payload, "
                "state, due_at, created_at, event_key, sent_at) VALUES ('hand-apology', ?, "
                "'record', 'apology', '{}', 'sent', ?, ?, ?, ?)",
                (late[0], late[1] - 1800, late[1] - 1800, "appt:%d:v1:apology" % late[0],
                 late[1] - 1790))
        paid = secs(local("2026-02-21", "12:00"))
        srv.sql("INSERT INTO guarantee_cases(appointment_id, promise_version, reason, rule_set, "
                "rule_version, amount_minor, currency, breached_at, deadline_at, state, "
                "paid_at, paid_minor, created_at) VALUES (?, 1, 'window_missed', 'gb-energy', "
                "'2026', 4000, 'GBP', ?, ?, 'paid', ?, 4000, 1)",
                (late[0], late[1] + 3600, late[1] + 10 * 86400, paid))

    # -- the journey --

    def test_feedback_moderation_and_trust(self):
        srv = self.srv
        a_ref, a_tok = self.book_window("09:00-10:00", "1 Mill Road", "Amelia Hughes",
                                        "07700 900123", "amelia@example.org")
        b_ref, b_tok = self.book_window("11:00-12:00", "14 High Street", "Bilal Khan",
                                        "07700 900456", "bilal@example.org")

        # Before the visit: not yet (422), and the page says it cannot be given.
        r = self.feedback(a_tok, {"rating": 5}, 422)
        self.assertError(r, 422, "feedback_not_yet")
        self.assertEqual(r.headers.get_all("Cache-Control"), ["no-store"])
        g = self.link(a_tok, "/feedback", "GET")
        self.assertEqual(g.status, 200, g.raw)
        self.assertEqual(g.body, {"can_give": False, "changeable": False, "feedback": None})

        # Both visits on time.
        self.tap("start_travel", "08:45", a_ref)
        self.tap("arrived", "09:05", a_ref)
        self.tap("done", "09:50", a_ref)
        self.tap("start_travel", "10:50", b_ref)
        self.tap("arrived", "11:02", b_ref)
        self.tap("done", "11:47", b_ref)
        ids = {ref: self.appointment_id(ref) for ref in (a_ref, b_ref)}
        self.assertEqual(srv.sql("SELECT count(*) FROM outbox WHERE appointment_id IN (?, ?) "
                                 "AND template IN ('apology', 'update', 'cannot_attend')",
                                 (ids[a_ref], ids[b_ref]))[0][0], 0)
        g = self.link(a_tok, "/feedback", "GET")
        self.assertEqual(g.body, {"can_give": True, "changeable": False, "feedback": None})

        # Bad input names the field.
        for bad in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {"rating": 4.5}, {}):
            r = self.feedback(a_tok, bad, 400)
            self.assertError(r, 400, r.error["code"], "rating")
        r = self.feedback(a_tok, {"rating": 4, "comment": "x" * 2001}, 400)
        self.assertError(r, 400, "too_long", "comment")
        r = self.feedback(a_tok, {"rating": 4, "publish_consent": "yes"}, 400)
        self.assertError(r, 400, r.error["code"], "publish_consent")
        r = self.feedback(a_tok, {"rating": 4, "colour": "red"}, 400)
        self.assertError(r, 400, r.error["code"], "colour")
        # Every invalid link: the same 404.
        r = self.link("A" * 22, "/feedback", "POST", {"rating": 5})
        self.assertError(r, 404, "link_not_found", no_field=True)

        # Amelia: 2 at first, then 4 with consent (still pending: replaced).
        r = self.feedback(a_tok, {"rating": 2, "comment": "Bit late?"}, 201)
        self.assertEqual(r.body["moderation"], "pending")
        self.assertTrue(r.body["changeable"])
        self.assertFalse(r.body["publish_consent"])
        r = self.feedback(a_tok, {"rating": 4, "comment": "Priya was great; call me on "
                                  "07700 900123 if you need.", "publish_consent": True}, 200)
        self.assertEqual(r.body["rating"], 4)
        # Bilal: a tag as comment, no consent; stored and shown as text.
        r = self.feedback(b_tok, {"rating": 1, "comment": IMG, "publish_consent": False}, 201)
        self.assertEqual(r.body["comment"], IMG)
        self.assertEqual(srv.sql("SELECT comment FROM feedback WHERE appointment_id = ?",
                                 (ids[b_ref],))[0][0], IMG)
        g = self.link(b_tok, "/feedback", "GET")
        self.assertEqual(g.body["feedback"]["comment"], IMG)
        self.assertTrue(g.body["can_give"] and g.body["changeable"])

        # The queue, for dispatchers only.
        disp = srv.login("disp")
        q = srv.request("GET", "/api/v1/feedback?state=pending", session=disp)
        self.assertEqual(q.status, 200, q.raw)
        items = {i["reference"]: i for i in q.body["items"]}
        self.assertEqual(set(items), {a_ref, b_ref})
        fa, fb = items[a_ref]["id"], items[b_ref]["id"]
        self.assertEqual(items[b_ref]["comment"], IMG)
        self.assertIsNone(items[a_ref]["published_comment"])
        r = srv.request("GET", "/api/v1/feedback?state=gone", session=disp)
        self.assertError(r, 400, "bad_state", "state")
        page = srv.request("GET", "/api/v1/feedback?limit=1", token="admin")
        self.assertEqual(len(page.body["items"]), 1)
        self.assertIsNotNone(page.body["next"])
        visitor = self.visitor_session()
        self.assertEqual(srv.request("GET", "/api/v1/feedback", session=visitor).status, 403)
        self.moderate(fa, {"action": "publish"}, 403, session=visitor)
        self.assertEqual(srv.request("GET", "/api/v1/feedback").status, 401)
        self.moderate(fa, {"action": "publish"}, 401, token="otd_" + "x" * 43)

        # Moderation rules.
        r = self.moderate(fb, {"action": "publish"}, 422)
        self.assertError(r, 422, "no_consent")
        self.assertIn("did not agree", r.error["message"])
        r = self.moderate(fb, {"action": "withhold"}, 400)
        self.assertError(r, 400, "missing_field", "reason")
        r = self.moderate(fa, {"action": "redact"}, 400)
        self.assertError(r, 400, "missing_field", "comment")
        r = self.moderate(fa, {"action": "redact", "comment": ""}, 400)
        self.assertError(r, 400, r.error["code"], "comment")
        r = self.moderate(fa, {"action": "hide"}, 400)
        self.assertError(r, 400, "bad_action", "action")
        self.moderate(999999, {"action": "publish"}, 404)
        r = self.moderate(fb, {"action": "withhold", "reason": "Not about the visit"}, 200)
        self.assertEqual(r.body["moderation"], "withheld")
        self.assertIsNone(r.body["published_comment"])
        r = self.moderate(fa, {"action": "publish"}, 200)
        self.assertEqual(r.body["published_comment"], r.body["comment"])
        r = self.moderate(fa, {"action": "redact", "comment": "Priya was great.",
                               "reason": "phone number"}, 200)
        self.assertEqual(r.body["moderation"], "redacted")
        self.assertEqual(r.body["published_comment"], "Priya was great.")
        self.assertIn("07700 900123", r.body["comment"])  # the words as given, kept
        self.assertIsNotNone(r.body["moderated_at"])
        audit = ob.audit(srv, "feedback.moderate")
        self.assertEqual([(a[2], a[3]) for a in audit],
                         [(fb, "user"), (fa, "user"), (fa, "user")])
        # Fixed once moderated.
        r = self.feedback(a_tok, {"rating": 1}, 409)
        self.assertError(r, 409, "feedback_given")
        g = self.link(a_tok, "/feedback", "GET")
        self.assertEqual((g.body["can_give"], g.body["changeable"]), (False, False))
        self.assertEqual(g.body["feedback"]["published_comment"], "Priya was great.")

        # The public figures.
        self.hand_made_history()
        self.clock(to=iso(secs(local(DAY, "12:30"))))
        t = srv.request("GET", "/api/v1/trust")
        self.assertEqual(t.status, 200, t.raw)
        self.assertEqual(t.headers.get("Cache-Control"), "public, max-age=60")
        raw = t.raw.decode("utf-8")
        for secret in ("07700 900123", IMG, "<img", "Amelia", "Bilal", a_ref, b_ref,
                       "Mill Road", "OTD-HAND"):
            self.assertNotIn(secret, raw)
        self.assertEqual(t.body["computed_at"], iso(secs(local(DAY, "12:30"))))
        self.assertEqual(t.body["published_feedback"], [
            {"rating": 4, "comment": "Priya was great.", "redacted": True, "date": DAY,
             "visit_type": "Planning inspection"}])
        p30, p90 = t.body["periods"]
        self.assertEqual((p30["days"], p90["days"]), (30, 90))
        # 30 days, 60-minute windows: HAND01 kept, HAND02 late, the two
        # visits kept. 120: HAND03 kept early, HAND04 cancelled by the
        # customer (not due), HAND05 cancelled by us (not kept).
        self.assertEqual(p30["promises"]["by_width"], [
            {"width_minutes": 60, "due": 4, "kept": 3, "early": 0, "kept_percent": 75},
            {"width_minutes": 120, "due": 2, "kept": 1, "early": 1, "kept_percent": 50}])
        self.assertEqual({k: p30["promises"][k] for k in ("due", "kept", "early",
                                                          "kept_percent")},
                         {"due": 6, "kept": 4, "early": 1, "kept_percent": 66})
        # 90 days adds HAND06 (kept); HAND07 is older.
        self.assertEqual(p90["promises"]["by_width"][0],
                         {"width_minutes": 60, "due": 5, "kept": 4, "early": 0,
                          "kept_percent": 80})
        self.assertEqual(p90["promises"]["kept_percent"], 71)
        self.assertEqual(p30["notice"], {"delays": 1, "told_before_start": 1,
                                         "median_minutes": 30})
        self.assertEqual(p30["compensation"], {"cases": 1, "paid_minor": 4000,
                                               "currency": "GBP"})
        self.assertEqual(p30["feedback"], {"given": 2, "good": 1, "neutral": 0, "bad": 1,
                                           "published": 1, "published_good": 1,
                                           "published_bad": 0, "withheld": 1, "pending": 0})
        # HEAD answers like GET.
        h = srv.request("HEAD", "/api/v1/trust")
        self.assertEqual(h.status, 200)


if __name__ == "__main__":
    unittest.main()
