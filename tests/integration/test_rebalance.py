"""Rebalancing and reassignment, against the real binary: a visitor marked
unavailable leaves visits on no route; a rebalance proposal gives them to
colleagues who can keep their windows (promises saved, customers affected,
each move's visitor and place); applying it reassigns each visit as a manual
reassignment does (promise version + 1, the customer told who comes now, an
event and the audit); a used or unknown proposal is 404; a day that changed
since the proposal is 409 and nothing is written; a dispatcher's manual
reassignment with its refusals (skill, unknown visitor, not booked); and bad
input named by field."""

import re
import unittest

import otd
import otd_booking as ob

VT = "planning-inspection"


class TestRebalance(ob.BookingTestCase):

    def setUp(self):
        self.disp = self.srv.login("disp")

    customers = 0

    def book_window(self, date, line1, index):
        """Books the index-th window offered on date at line1, for a new
        customer."""
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        type(self).customers += 1
        n = type(self).customers
        return self.hold_and_book(a, vt, ws[index]["start"], name="Customer %d" % n,
                                  phone="07700 900%03d" % n, email="c%d@example.org" % n)

    def visitor_of(self, reference):
        return self.srv.sql("SELECT visitor_id FROM appointments WHERE reference = ?",
                            (reference,))[0][0]

    def propose(self, date, scope="all", status=200):
        r = self.srv.request("POST", "/api/v1/dispatch/rebalance", {"date": date, "scope": scope},
                             session=self.disp)
        self.assertEqual(r.status, status, r.raw)
        return r

    def apply(self, pid):
        return self.srv.request("POST", "/api/v1/dispatch/rebalance/%s/apply" % pid, {},
                                session=self.disp)

    def to(self, date, hhmm):
        self.clock(to=ob.iso(ob.secs(ob.local(date, hhmm))))
        self.disp = self.srv.login("disp")  # the clock jumped past the session's idle time

    def unavailable(self, visitor_id):
        r = self.srv.request("POST", "/api/v1/visitors/%d/unavailable" % visitor_id,
                             {"reason": "sick", "note": "called in"}, token="admin")
        self.assertEqual(r.status, 200, r.raw)

    def test_a_an_unavailable_visitors_visits_go_to_colleagues(self):
        date = "2026-03-05"
        booked = [self.book_window(date, line1, i) for line1, i in
                  (("1 Mill Road", 2), ("7 Church Lane", 4), ("12 High Street", 6),
                   ("2 Orchard Way", 3))]
        refs = [b["reference"] for b in booked]
        sick = self.visitor_of(refs[0])
        theirs = [r for r in refs if self.visitor_of(r) == sick]
        self.to(date, "07:00")
        self.unavailable(sick)

        p = self.propose(date).body
        self.assertIsNotNone(p["id"], p)
        self.assertEqual(p["date"], date)
        self.assertGreaterEqual(p["promises_broken_before"], len(theirs))
        # The colleagues' routes also carry the windows the apologies held
        # for these customers: a proposal never breaks a hold, a break or a
        # window kept now, so it may save fewer than all.
        self.assertGreaterEqual(p["promises_saved"], 1, p)
        self.assertEqual(p["promises_saved"],
                         p["promises_broken_before"] - p["promises_broken_after"])
        moved = {m["reference"]: m for m in p["moves"] if m["from_visitor_id"] != m["to_visitor_id"]}
        self.assertEqual(p["customers_affected"], len(moved))
        self.assertTrue(set(moved) <= set(theirs), (moved, theirs))
        kept_still = [r for r in theirs if r not in moved]
        theirs = sorted(moved)
        for ref in theirs:
            m = moved[ref]
            self.assertEqual(m["from_visitor_id"], None)  # on no route: the visitor is off
            self.assertNotEqual(m["to_visitor_id"], sick)
            self.assertFalse(m["kept_before"])
            self.assertTrue(m["kept_after"])
            self.assertGreaterEqual(m["position"], 1)
            self.assertLess(m["expected_arrival"], m["window_end"])
        # Nothing is written by a proposal.
        self.assertEqual([self.visitor_of(r) for r in theirs], [sick] * len(theirs))

        a = self.apply(p["id"])
        self.assertEqual(a.status, 200, a.raw)
        self.assertEqual(a.body["moved"], len(theirs))
        self.assertEqual(a.body["customers_told"], len(theirs))
        for ref in theirs:
            aid = self.appointment_id(ref)
            row = self.srv.sql("SELECT visitor_id, promise_version, window_start FROM "
                               "appointments WHERE id = ?", (aid,))[0]
            self.assertEqual(row[0], moved[ref]["to_visitor_id"])
            self.assertEqual(row[1], 2)
            self.assertEqual(ob.iso(row[2]), moved[ref]["window_start"])  # the promise stays
            msgs = ob.outbox(self.srv, aid, "visitor_changed")
            self.assertEqual(sorted(m["channel"] for m in msgs), ["email", "sms"])
            kinds = [e["kind"] for e in ob.events(self.srv, aid)]
            self.assertEqual(kinds[-1], "reassigned")
        self.assertEqual(len(ob.audit(self.srv, "dispatch.rebalance")), 1)
        self.assertEqual(len(ob.audit(self.srv, "appointment.reassign")), len(theirs))
        for ref in kept_still:  # not given away: still the sick visitor's, at risk
            self.assertEqual(self.visitor_of(ref), sick)
        # The customer's page names the new visitor.
        names = {v["id"]: v["name"].split()[0] for v in self.org_visitors}
        for ref, b in zip(refs, booked):
            if ref in theirs:
                r = self.link(self.token_of(b))
                self.assertEqual(r.status, 200, r.raw)
                self.assertEqual(r.body["visitor"]["first_name"],
                                 names[moved[ref]["to_visitor_id"]])

        # A proposal is used once.
        again = self.apply(p["id"])
        self.assertError(again, 404, "proposal_not_found")
        self.assertError(self.apply("0" * 32), 404, "proposal_not_found")
        # Asked again, the saved visits are kept now.
        p2 = self.propose(date).body
        self.assertEqual(p2["promises_broken_before"], p["promises_broken_after"], p2)

    def test_b_a_day_that_changed_since_is_409_and_nothing_is_written(self):
        date = "2026-03-06"
        booked = [self.book_window(date, line1, i) for line1, i in
                  (("3 Mill Road", 2), ("9 Church Lane", 5), ("14 High Street", 7))]
        refs = [b["reference"] for b in booked]
        sick = self.visitor_of(refs[0])
        self.to(date, "07:00")
        self.unavailable(sick)
        p = self.propose(date).body
        self.assertIsNotNone(p["id"], p)
        before = self.srv.sql("SELECT id, visitor_id, promise_version, route_position FROM "
                              "appointments WHERE local_date = ? ORDER BY id", (date,))
        other = [r for r in refs if self.visitor_of(r) != sick]
        victim = other[0] if other else refs[-1]
        c = self.srv.request("POST", "/api/v1/appointments/%s/cancel" % victim,
                             {"reason": "the customer phoned to cancel"}, session=self.disp)
        self.assertEqual(c.status, 200, c.raw)
        a = self.apply(p["id"])
        self.assertError(a, 409, "day_changed")
        after = self.srv.sql("SELECT id, visitor_id, promise_version, route_position FROM "
                             "appointments WHERE local_date = ? ORDER BY id", (date,))
        self.assertEqual([r for r in after if r[0] != self.appointment_id(victim)],
                         [r for r in before if r[0] != self.appointment_id(victim)])
        self.assertEqual(ob.outbox(self.srv, template="visitor_changed")
                         and [m for m in ob.outbox(self.srv, template="visitor_changed")
                              if m["appointment_id"] in [self.appointment_id(r) for r in refs]],
                         [])
        # A refused proposal is used up too.
        self.assertError(self.apply(p["id"]), 404, "proposal_not_found")

    def test_c_a_dispatcher_reassigns_by_hand(self):
        date = "2026-03-09"
        b = self.book_window(date, "1 Kingsway", 3)
        ref = b["reference"]
        aid = self.appointment_id(ref)
        was = self.visitor_of(ref)
        planners = [v for v in self.org_visitors if "planning" in v["skills"]]
        gas = [v for v in self.org_visitors if v["skills"] == ["gas"]][0]
        window = b["window"]
        # Someone working then: the window's hour must be in their shift.
        target = None
        for v in planners:
            if v["id"] == was:
                continue
            r = self.srv.request("POST", "/api/v1/appointments/%s/reassign" % ref,
                                 {"visitor_id": v["id"], "reason": "Tom knows the site"},
                                 session=self.disp)
            if r.status == 200:
                target = v
                break
            self.assertError(r, 409, "window_cannot_be_kept", "visitor_id")
        self.assertIsNotNone(target, "no colleague could take %s" % window)
        self.assertEqual(self.visitor_of(ref), target["id"])
        self.assertEqual(r.body["window"], window)  # the promise stays
        self.assertEqual((r.body["visitor_id"], r.body["promise_version"]), (target["id"], 2))
        self.assertEqual(r.body["visitor"]["first_name"], target["name"].split()[0])
        msgs = ob.outbox(self.srv, aid, "visitor_changed")
        self.assertEqual(len(msgs), 2)
        email = [m for m in msgs if m["channel"] == "email"][0]
        self.assertIn("Tom knows the site", email["payload"]["text"])
        self.assertIn(target["name"].split()[0], email["payload"]["text"])
        self.assertIn("SEQUENCE:2", email["payload"]["ics"])  # the promise version
        # Refusals.
        self.assertError(self.srv.request("POST", "/api/v1/appointments/%s/reassign" % ref,
                                          {"visitor_id": gas["id"]}, session=self.disp),
                         422, "lacks_skill", "visitor_id")
        self.assertError(self.srv.request("POST", "/api/v1/appointments/%s/reassign" % ref,
                                          {"visitor_id": 99999}, session=self.disp),
                         400, "unknown_visitor", "visitor_id")
        self.assertError(self.srv.request("POST", "/api/v1/appointments/%s/reassign" % ref,
                                          {}, session=self.disp),
                         400, "missing_field", "visitor_id")
        c = self.srv.request("POST", "/api/v1/appointments/%s/cancel" % ref,
                             {"reason": "no longer needed"}, session=self.disp)
        self.assertEqual(c.status, 200, c.raw)
        self.assertError(self.srv.request("POST", "/api/v1/appointments/%s/reassign" % ref,
                                          {"visitor_id": was}, session=self.disp),
                         422, "cannot_reassign")

    def insert_visit(self, visitor, line1, date, start, end, position):
        """An appointment written straight into a route (the booking journey
        is tested elsewhere): a deliberately poor plan. Returns its id."""
        type(self).customers += 1
        n = type(self).customers
        now = ob.secs(ob.local("2026-03-02", "09:00"))
        self.srv.sql("INSERT INTO customers(name, phone, email, created_at) VALUES (?, ?, ?, ?)",
                     ("Customer %d" % n, "+447700900%03d" % n, "c%d@example.org" % n, now))
        cust = self.srv.sql("SELECT max(id) FROM customers")[0][0]
        vt = self.types[VT]["id"]
        self.srv.sql(
            "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
            "visitor_id, local_date, window_start, window_end, status, route_position, "
            "consent_sms, consent_email, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?, 1, 1, ?, ?)",
            ("OTD-P%05d" % n, cust, self.addr[line1]["id"], vt, visitor, date,
             ob.secs(ob.local(date, start)), ob.secs(ob.local(date, end)), position * 1024,
             now, now))
        return self.srv.sql("SELECT max(id) FROM appointments")[0][0]

    def test_e_plan_cuts_travel_inside_the_windows(self):
        date = "2026-03-12"
        priya, tom = self.org_visitors[0]["id"], self.org_visitors[1]["id"]
        # Priya zigzags west-east-west, Tom east-west-east, at the same hours.
        plan = [(priya, "21 Station Road", "10:00", "11:00", 1),
                (priya, "1 Kingsway", "12:00", "13:00", 2),
                (priya, "23 Station Road", "14:00", "15:00", 3),
                (tom, "3 Kingsway", "10:00", "11:00", 1),
                (tom, "The Old Forge", "12:00", "13:00", 2),
                (tom, "2 Orchard Way", "14:00", "15:00", 3)]
        ids = [self.insert_visit(v, line1, date, a, b, pos) for v, line1, a, b, pos in plan]
        windows = self.srv.sql("SELECT id, window_start, window_end FROM appointments "
                               "WHERE id >= ? ORDER BY id", (ids[0],))

        now = self.clock(seconds=1)  # the command plans at the service's (virtual) time
        dry = self.srv.cli("plan", "--date", date, "--db", self.srv.db, "--now", now,
                           "--dry-run")
        head = dry.stdout.split("\n")[0]
        m = re.match(r"%s: (\d+) visits; promises not kept (\d+) -> (\d+); "
                     r"travel (\d+) -> (\d+) minutes$" % date, head)
        self.assertIsNotNone(m, dry.stdout)
        visits, broken_before, broken_after, before, after = map(int, m.groups())
        self.assertEqual(visits, 6)
        self.assertEqual((broken_before, broken_after), (0, 0))
        self.assertLess(after, before, dry.stdout)
        self.assertIn("dry run: nothing changed", dry.stdout)
        self.assertEqual([r[0] for r in self.srv.sql(
            "SELECT visitor_id FROM appointments WHERE id >= ? ORDER BY id", (ids[0],))],
            [p[0] for p in plan])

        done = self.srv.cli("plan", "--date", date, "--db", self.srv.db, "--now", now)
        self.assertIn("applied:", done.stdout)
        rows = self.srv.sql("SELECT id, visitor_id, promise_version FROM appointments "
                            "WHERE id >= ? ORDER BY id", (ids[0],))
        by_visitor = {}
        for (aid, visitor, version), (v0, line1, *_rest) in zip(rows, plan):
            by_visitor.setdefault(visitor, []).append(line1)
            msgs = ob.outbox(self.srv, aid, "visitor_changed")
            if visitor != v0:
                self.assertEqual(version, 2)
                self.assertEqual(sorted(m["channel"] for m in msgs), ["email", "sms"])
            else:
                self.assertEqual((version, msgs), (1, []))
        # The windows never change.
        self.assertEqual(self.srv.sql("SELECT id, window_start, window_end FROM appointments "
                                      "WHERE id >= ? ORDER BY id", (ids[0],)), windows)
        # Nobody crosses town any more: no visitor has both an east and a
        # west address (a third colleague may take one: a plan weighs travel,
        # not who was named).
        west = {"21 Station Road", "23 Station Road", "The Old Forge"}
        for lines in by_visitor.values():
            self.assertFalse(west & set(lines) and set(lines) - west, by_visitor)
        self.assertEqual([a[3] for a in ob.audit(self.srv, "dispatch.rebalance")][-1], "cli")

    def test_d_bad_input_is_named(self):
        r = self.srv.request("POST", "/api/v1/dispatch/rebalance", {"date": "2026-02-30"},
                             session=self.disp)
        self.assertError(r, 400, "invalid_date", "date")
        r = self.srv.request("POST", "/api/v1/dispatch/rebalance", {"scope": "all"},
                             session=self.disp)
        self.assertError(r, 400, "missing_field", "date")
        r = self.srv.request("POST", "/api/v1/dispatch/rebalance",
                             {"date": "2026-03-10", "scope": "some"}, session=self.disp)
        self.assertError(r, 400, "bad_type", "scope")
        r = self.srv.request("POST", "/api/v1/dispatch/rebalance",
                             {"date": "2026-03-10", "scope": [1, "x"]}, session=self.disp)
        self.assertError(r, 400, "bad_type", "scope")
        for scope in ([99999], [self.org_visitors[0]["id"], 99999]):
            r = self.srv.request("POST", "/api/v1/dispatch/rebalance",
                                 {"date": "2026-03-10", "scope": scope}, session=self.disp)
            self.assertError(r, 400, "unknown_visitor", "scope")
        r = self.srv.request("POST", "/api/v1/dispatch/rebalance",
                             {"date": "2026-03-10", "mode": "fast"}, session=self.disp)
        self.assertError(r, 400, "bad_value", "mode")
        r = self.srv.request("POST", "/api/v1/dispatch/rebalance",
                             {"date": "2026-03-10", "when": 1}, session=self.disp)
        self.assertError(r, 400, "unknown_field", "when")
        # An empty day: nothing to propose, said so.
        p = self.propose("2026-03-10").body
        self.assertIsNone(p["id"])
        self.assertEqual(p["moves"], [])
        self.assertEqual(p["visits"], 0)
        self.assertIn("Nothing to improve", p["note"])




class TestAutoRebalance(ob.BookingTestCase):
    """dispatch.auto_rebalance: after a risk pass finds visits at risk
    because their visitor is off, the ticker applies a rebalance on its own
    that saves them and gives no other visit to another visitor."""

    server_env = {"ONTHEDOT_DISPATCH_AUTO_REBALANCE": "true"}

    def test_an_unavailable_visitors_visits_are_given_away_on_the_next_pass(self):
        date = "2026-03-05"
        vt = self.types[VT]["id"]
        refs = []
        for n, (line1, i) in enumerate((("1 Mill Road", 2), ("7 Church Lane", 4),
                                        ("12 High Street", 6))):
            a = self.addr[line1]["id"]
            ws = self.windows(a, vt, date)[date]
            b = self.hold_and_book(a, vt, ws[i]["start"], name="Customer %d" % n,
                                   phone="07700 900%03d" % n, email="c%d@example.org" % n)
            refs.append(b["reference"])
        owner = {r: self.srv.sql("SELECT visitor_id FROM appointments WHERE reference = ?",
                                 (r,))[0][0] for r in refs}
        sick = owner[refs[0]]
        theirs = [r for r in refs if owner[r] == sick]
        others = [r for r in refs if owner[r] != sick]
        self.clock(to=ob.iso(ob.secs(ob.local(date, "07:00"))))
        r = self.srv.request("POST", "/api/v1/visitors/%d/unavailable" % sick,
                             {"reason": "sick"}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(ob.audit(self.srv, "dispatch.rebalance"), [])
        self.clock(seconds=60)  # two ticker passes
        self.assertGreaterEqual(len(ob.audit(self.srv, "dispatch.rebalance")), 1)
        given = [r for r in theirs if self.srv.sql(
            "SELECT visitor_id FROM appointments WHERE reference = ?", (r,))[0][0] != sick]
        self.assertGreaterEqual(len(given), 1)
        for ref in given:
            aid = self.appointment_id(ref)
            self.assertEqual(len(ob.outbox(self.srv, aid, "visitor_changed")), 2)
            detail = [e for e in ob.events(self.srv, aid) if e["kind"] == "reassigned"]
            self.assertIn('"by":"auto_rebalance"', detail[-1]["detail"])
        for ref in others:  # nobody else was given away
            self.assertEqual(self.srv.sql("SELECT visitor_id FROM appointments WHERE "
                                          "reference = ?", (ref,))[0][0], owner[ref])
        # Giving a visit away drops the windows its apology held, which
        # frees colleagues' time: a later pass may save more. Then, with
        # nothing at risk or nothing changed, later passes leave the day be.
        self.clock(seconds=120)
        settled = len(ob.audit(self.srv, "dispatch.rebalance"))
        self.clock(seconds=120)
        self.assertEqual(len(ob.audit(self.srv, "dispatch.rebalance")), settled)


if __name__ == "__main__":
    unittest.main()
