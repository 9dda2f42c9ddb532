"""The guarantee ledger over HTTP (issue 5, part 2), with the gb-energy rules:
a broken promise opens a case (GBP 40, ten working days to pay, bank holidays
not counted) and the customer is told what they are owed and by when; a
change we make with too little notice opens one, the customer's own change
does not; exemptions with their evidence; a declared disruption exempts by
itself; finance pays, late payment owes the same again; the quarterly report
and the CSV export."""

import csv
import datetime as dt
import io
import json
import time
import unittest

import otd
import otd_booking as ob

VT = "planning-inspection"


def working_days_after(date, n, holidays):
    """The date of the n-th working day after date (weekdays not holidays)."""
    d = dt.date.fromisoformat(date)
    while n:
        d += dt.timedelta(days=1)
        if d.weekday() < 5 and d.isoformat() not in holidays:
            n -= 1
    return d.isoformat()


class TestLedger(ob.BookingTestCase):

    server_env = {"ONTHEDOT_GUARANTEES_RULE_SET": "gb-energy"}
    users = ("admin", "dispatcher", "finance")

    def book_one(self, line1, date, index, name, **kw):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        v = self.hold_and_book(a, vt, ws[index]["start"], name=name, **kw)
        return v, self.appointment_id(v["reference"])

    def cases(self, **q):
        path = "/api/v1/guarantees"
        if q:
            path += "?" + "&".join("%s=%s" % kv for kv in q.items())
        r = self.srv.request("GET", path, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        return r.body["items"]

    def case_of(self, reference, reason="window_missed"):
        got = [c for c in self.cases() if c["reference"] == reference and c["reason"] == reason]
        return got[0] if got else None

    def test_a_day_of_cases(self):
        date = "2026-03-03"  # Tuesday; Wednesday 4 March is a bank holiday
        missed, aid = self.book_one("5 Willow Drive", date, 2, "Zoë O'Brien-Nguyễn",
                                phone="07700 900301", email="zoe@example.org")
        fm, fm_aid = self.book_one("7 Church Lane", date, 5, "Force Majeure",
                               phone="07700 900302", email=None)
        moved, moved_aid = self.book_one("1 Kingsway", "2026-03-05", 0, "Short Notice",
                                     phone="07700 900303", email=None)
        own, own_aid = self.book_one("3 Kingsway", "2026-03-05", 3, "Own Choice",
                                 phone="07700 900304", email=None)
        # A flood is declared for Force Majeure's street before the day.
        r = self.srv.request("POST", "/api/v1/dispatch/disruptions",
                             {"date": date, "note": "Flooding in Church Lane.",
                              "postcodes": ["ZZ1 2"]}, token="admin")
        self.assertEqual(r.status, 201, r.raw)

        # The day passes with nobody arriving anywhere.
        self.clock(to=ob.iso(ob.local(date, "23:00")))
        case = None
        deadline = time.monotonic() + 20
        while case is None and time.monotonic() < deadline:
            case = self.case_of(missed["reference"])
            time.sleep(0.2)
        self.assertIsNotNone(case, self.cases())
        self.assertEqual((case["amount_minor"], case["currency"], case["state"]),
                         (4000, "GBP", "open"))
        self.assertEqual(case["rule_set"], "gb-energy")
        self.assertEqual(case["breached_at"], missed["window"]["end"])
        last_day = working_days_after(date, 10, set(ob.HOLIDAYS))
        self.assertEqual(last_day, "2026-03-18")
        self.assertEqual(case["deadline_at"], ob.iso(ob.next_midnight(last_day)))
        # The customer is told what they are owed and by when, unasked.
        told = ob.outbox(self.srv, aid, template="promise_broken")
        self.assertEqual(sorted(m["channel"] for m in told), ["email", "sms"])
        email = [m for m in told if m["channel"] == "email"][0]["payload"]
        self.assertIn("£40.00", email["text"])
        self.assertIn("Wednesday 18 March", email["text"])
        # One case per promise, however often the ticker passes.
        self.clock(seconds=3600)
        self.assertEqual(len([c for c in self.cases() if c["reference"] == missed["reference"]]),
                         1)
        # The flooded street's case is exempt by itself, and nothing is owed.
        fm_case = self.case_of(fm["reference"])
        self.assertEqual((fm_case["state"], fm_case["exempt_reason"]),
                         ("exempt", "force_majeure"))
        fm_told = ob.outbox(self.srv, fm_aid, template="promise_broken")
        self.assertTrue(fm_told)
        self.assertNotIn("£", fm_told[0]["payload"]["text"])

        # The evidence: the promise's events and every message with its state.
        r = self.srv.request("GET", "/api/v1/guarantees/%d" % case["id"], token="admin")
        self.assertEqual(r.status, 200, r.raw)
        kinds = [(e["kind"], e["what"]) for e in r.body["evidence"]]
        self.assertIn(("event", "booked"), kinds)
        self.assertIn(("message", "booking_confirmation"), kinds)
        self.assertIn(("message", "promise_broken"), kinds)
        self.assertIn(("event", "guarantee_case"), kinds)

        # Wednesday 4 March (a bank holiday) 10:00: we move Short Notice's
        # Thursday visit. Less than one working day's notice: a case.
        self.clock(to=ob.iso(ob.local("2026-03-04", "10:00")))
        vt = self.types[VT]["id"]
        a = self.addr["1 Kingsway"]["id"]
        later = self.windows(a, vt, "2026-03-06")["2026-03-06"][4]["start"]
        hold = self.srv.request("POST", "/api/v1/holds", {"address": a, "visit_type": vt,
                                                          "window_start": later,
                                                          "link": self.token_of(moved)})
        self.assertEqual(hold.status, 201, hold.raw)
        self.srv.note_secret(hold.body["hold"])
        r = self.srv.request("POST", "/api/v1/appointments/%s/reschedule" % moved["reference"],
                             {"hold": hold.body["hold"], "reason": "officer on training"},
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        short = self.case_of(moved["reference"], "short_notice")
        self.assertIsNotNone(short, self.cases())
        self.assertEqual((short["amount_minor"], short["promise_version"]), (4000, 1))
        self.assertGreater(short["notice_s"], 0)
        # Own Choice moves their visit themselves: their consent, no case.
        a2 = self.addr["3 Kingsway"]["id"]
        later2 = self.windows(a2, vt, "2026-03-06")["2026-03-06"][6]["start"]
        hold = self.srv.request("POST", "/api/v1/holds", {"address": a2, "visit_type": vt,
                                                          "window_start": later2,
                                                          "link": self.token_of(own)})
        self.assertEqual(hold.status, 201, hold.raw)
        self.srv.note_secret(hold.body["hold"])
        r = self.link(self.token_of(own), "/reschedule", body={"hold": hold.body["hold"]})
        self.assertEqual(r.status, 200, r.raw)
        self.assertIsNone(self.case_of(own["reference"], "short_notice"))

        # Exemptions: no_access needs the visitor's report; consent is fine.
        r = self.srv.request("POST", "/api/v1/guarantees/%d/exempt" % short["id"],
                             {"reason": "no_access", "note": "nobody home"}, token="admin")
        self.assertError(r, 422, "no_evidence", "reason")
        r = self.srv.request("POST", "/api/v1/guarantees/%d/exempt" % short["id"],
                             {"reason": "consent", "note": "agreed on the phone at 09:55"},
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["state"], "exempt")
        r = self.srv.request("POST", "/api/v1/guarantees/%d/exempt" % short["id"],
                             {"reason": "consent", "note": "again"}, token="admin")
        self.assertError(r, 422, "case_settled")

        # Deadlines: near, then passed; finance pays late: the same again.
        self.clock(to=ob.iso(ob.local("2026-03-17", "09:00")))
        self.assertIn(case["id"], [c["id"] for c in self.cases(deadline="near")])
        self.clock(to=ob.iso(ob.local("2026-03-19", "09:00")))
        self.assertIn(case["id"], [c["id"] for c in self.cases(deadline="passed")])
        fin = self.srv.login("fin")
        r = self.srv.request("POST", "/api/v1/guarantees/%d/pay" % case["id"],
                             {"paid_minor": 4000}, session=fin)
        self.assertError(r, 400, "underpaid", "paid_minor")
        r = self.srv.request("POST", "/api/v1/guarantees/%d/pay" % case["id"], {}, session=fin)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.body["paid_minor"], r.body["penalty_minor"], r.body["paid_late"]),
                         (8000, 4000, True))
        disp = self.srv.login("disp")
        r = self.srv.request("POST", "/api/v1/guarantees/%d/pay" % case["id"], {}, session=disp)
        self.assertError(r, 403, "forbidden")
        audit = ob.audit(self.srv, "guarantee.pay", case["id"])
        self.assertEqual(len(audit), 1)

        # The quarter's report and the export.
        r = self.srv.request("GET", "/api/v1/guarantees/report?quarter=2026-Q1", session=fin)
        self.assertEqual(r.status, 200, r.raw)
        rep = r.body
        self.assertEqual((rep["cases"], rep["exempt"], rep["paid"], rep["paid_late"]),
                         (len(self.cases()), 2, 1, 1))
        self.assertEqual(rep["breaches"], rep["cases"] - 2)
        self.assertEqual(rep["paid_minor"], 8000)
        self.assertEqual(rep["penalty_minor"], 4000)
        r = self.srv.request("GET", "/api/v1/guarantees/report?quarter=2026-Q5", session=fin)
        self.assertError(r, 400, "bad_quarter", "quarter")
        r = self.srv.request("GET", "/api/v1/guarantees?format=csv&quarter=2026-Q1", session=fin)
        self.assertEqual(r.status, 200, r.raw)
        self.assertTrue(r.headers["Content-Type"].startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(r.raw.decode("utf-8"))))
        self.assertEqual(len(rows), rep["cases"])
        paid = [x for x in rows if x["id"] == str(case["id"])][0]
        self.assertEqual((paid["state"], paid["paid_minor"], paid["paid_late"]),
                         ("paid", "8000", "yes"))


class TestNoLedger(ob.BookingTestCase):
    """Without a rule set nothing is opened, and the broken promise is
    still apologised for."""

    def test_no_rules_no_cases(self):
        vt = self.types[VT]["id"]
        a = self.addr["5 Willow Drive"]["id"]
        ws = self.windows(a, vt, "2026-03-03")["2026-03-03"]
        v = self.hold_and_book(a, vt, ws[1]["start"], name="Nobody Owed", phone="07700 900399",
                               email=None)
        aid = self.appointment_id(v["reference"])
        self.clock(to=ob.iso(ob.local("2026-03-03", "23:00")))
        deadline = time.monotonic() + 20
        while not ob.outbox(self.srv, aid, template="promise_broken"):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM guarantee_cases")[0][0], 0)


if __name__ == "__main__":
    unittest.main()
