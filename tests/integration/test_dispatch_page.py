"""The dispatcher's board (/dispatch) in a real browser, against the real binary.

One server with the Wrenfield organisation (otd_booking.BookingTestCase) on the
virtual clock; the scenarios are in dispatch_scenarios.py, the journeys in
tests/browser/staff/dispatch*.js, run by journeys.run_journey:

  test_a  dispatch.js: a dispatcher signs in on /login, finds the visit a late
          visitor puts at risk, is offered only the visitors who can keep its
          window, reassigns it; a visitor setting off shows live. Then: the
          appointment is the new visitor's, the customer was sent visitor_changed,
          their link names the new visitor, the audit log has appointment.reassign.
  test_b  dispatch-rebalance.js: the dispatcher marks a visitor unavailable from
          the board, asks for a rebalance and applies it; the board shows the
          moves. Then: the moved visits are the new visitors' in the database.
  test_c  /dispatch without a session answers 303 to /login?next=/dispatch; a
          visitor's session gets 403; a dispatcher's gets the shell.
  test_d  dispatch-actions.js: the dispatcher reorders a route (an order that
          breaks a promise is refused with the server's words and nothing
          changes; a good one is written), writes to a customer from the
          visit's panel, sees a visitor's "running late" live, clears an
          address request from the inbox, publishes one feedback and
          withholds another, and exempts a guarantee case. Then: the route
          order and its audit, the outbox row of template personal, the
          inbound message done and audited, the feedback rows, the case.
"""

import os
import unittest

import dispatch_scenarios
import journeys
import otd
import otd_booking as ob
import pages_scenarios

STAFF = journeys.STAFF_DIR


class DispatchPageTest(dispatch_scenarios.DispatchScenarios, pages_scenarios.PageScenarios,
                       ob.BookingTestCase):
    users = ("admin", "dispatcher", "finance")
    server_env = {"ONTHEDOT_GUARANTEES_RULE_SET": "gb-energy"}

    def control(self, request):
        """The journeys' control channel (journeys.run_journey)."""
        op = request.get("op")
        if op == "start_travel":
            ref = request["reference"]
            vid = self.srv.sql("SELECT visitor_id FROM appointments WHERE reference = ?",
                               (ref,))[0][0]
            now = ob.utc(self.clock(seconds=0))
            self.report(vid, "start_travel", now, appointment=ref)
            return {"visitor_id": vid}
        if op == "route":
            return {"order": self.route_order(request["visitor_id"], request["date"])}
        if op == "late":
            now = ob.utc(self.clock(seconds=0))
            self.report(request["visitor_id"], "late", now, minutes=request["minutes"])
            return {"ok": True}
        raise AssertionError("unknown control op %r" % op)

    def test_a_reassign_a_visit_at_risk(self):
        sc = self.scenario_reassign()
        ref = sc["reference"]
        aid = self.appointment_id(ref)
        journeys.run_journey(self, os.path.join(STAFF, "dispatch.js"), sc, control=self.control)
        # The journey chose the first visitor offered.
        chosen = [v for v in self.org_visitors if v["name"] == sc["options"][0]][0]
        row = self.srv.sql("SELECT visitor_id, promise_version FROM appointments WHERE id = ?",
                           (aid,))[0]
        self.assertEqual(row, (chosen["id"], 2))
        told = ob.outbox(self.srv, aid, "visitor_changed")
        self.assertTrue(told, "the customer was not told of the new visitor")
        self.assertEqual({m["channel"] for m in told}, {"sms"})  # the customer gave a phone only
        audit = ob.audit(self.srv, "appointment.reassign", aid)
        self.assertEqual(len(audit), 1, audit)
        self.assertIn("Priya is delayed", audit[0][5])  # the dispatcher's reason
        disp = self.srv.sql("SELECT id FROM users WHERE login = ?",
                            (otd.STAFF_LOGINS["dispatcher"],))[0][0]
        self.assertEqual(audit[0][3:5], ("user", disp))
        r = self.link(sc["token"])
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["visitor"]["first_name"], chosen["name"].split()[0])

    def test_b_rebalance_and_apply(self):
        sc = self.scenario_rebalance()
        before = dict(self.srv.sql("SELECT reference, visitor_id FROM appointments WHERE "
                                   "local_date = ?", (sc["date"],)))
        out = journeys.run_journey(self, os.path.join(STAFF, "dispatch-rebalance.js"), sc,
                                   control=self.control)
        after = dict(self.srv.sql("SELECT reference, visitor_id FROM appointments WHERE "
                                  "local_date = ?", (sc["date"],)))
        moved = {r for r in after if after[r] != before[r]}
        self.assertTrue(moved, "no visit changed visitor:\n%s" % out)
        self.assertTrue(moved <= set(sc["theirs"]), (moved, sc["theirs"]))
        self.assertNotIn(sc["sick_visitor_id"], [after[r] for r in moved])
        self.assertEqual(len(ob.audit(self.srv, "dispatch.rebalance")), 1)
        # Marked unavailable from the board: a dispatcher acting for the visitor.
        marked = ob.audit(self.srv, "visitor.events", sc["sick_visitor_id"])
        self.assertEqual([a[3] for a in marked], ["user"], marked)
        for ref in moved:
            aid = self.appointment_id(ref)
            self.assertTrue(ob.outbox(self.srv, aid, "visitor_changed"), ref)

    def test_d_reorder_write_inbox_feedback_exempt(self):
        sc = self.scenario_actions()
        sc["message_text"] = "Priya comes before 10:00; please keep the meter cupboard clear. Thanks!"
        vid = sc["visitor_id"]
        before = list(sc["order"])
        journeys.run_journey(self, os.path.join(STAFF, "dispatch-actions.js"), sc,
                             control=self.control)
        # The refused order changed nothing; the accepted one is the route now.
        self.assertEqual(self.route_order(vid, sc["tuesday"]), [before[1], before[0], before[2]])
        self.assertEqual(len(ob.audit(self.srv, "route.reorder", vid)), 1)
        # The personal message, in the dispatcher's words, on the customer's channels.
        aid = self.appointment_id(sc["message_reference"])
        msgs = ob.outbox(self.srv, aid, "personal")
        self.assertTrue(msgs, "no personal message in the outbox")
        for m in msgs:
            self.assertIn(sc["message_text"], str(m["payload"]))
        self.assertEqual(len(ob.audit(self.srv, "appointment.message", aid)), 1)
        # The address request is done, and that is audited.
        self.assertEqual(self.srv.sql("SELECT state FROM inbound_messages WHERE id = ?",
                                      (sc["inbox_id"],))[0][0], "done")
        self.assertTrue(ob.audit(self.srv, "inbox.done", sc["inbox_id"]))
        # Feedback: one published as given, one withheld with the reason.
        fb = sc["feedback"]
        row = self.srv.sql("SELECT moderation, published_comment FROM feedback WHERE id = ?",
                           (fb["publish"]["id"],))[0]
        self.assertEqual(row, ("published", fb["publish"]["comment"]))
        row = self.srv.sql("SELECT moderation, published_comment, moderation_reason FROM feedback "
                           "WHERE id = ?", (fb["withhold"]["id"],))[0]
        self.assertEqual(row, ("withheld", None, "a phone number and a neighbour"))
        # The case is exempt, with the reason and note given on the panel.
        row = self.srv.sql("SELECT state, exempt_reason, exempt_note FROM guarantee_cases "
                           "WHERE id = ?", (sc["case_id"],))[0]
        self.assertEqual(row, ("exempt", "consent", "Agreed a new day on the phone at 08:05"))

    def test_c_the_page_needs_a_dispatchers_session(self):
        r = self.srv.request("GET", "/dispatch")
        self.assertEqual(r.status, 303, r.raw)
        self.assertEqual(r.headers["Location"], "/login?next=/dispatch")
        vid = self.org_visitors[0]["id"]
        self.visitor_logins()
        s = self.session_of(vid)
        r = self.srv.request("GET", "/dispatch", session=s)
        self.assertEqual(r.status, 403, r.raw)
        self.assertNotIn("dispatch.js", r.body)
        d = self.srv.login(otd.STAFF_LOGINS["dispatcher"])
        r = self.srv.request("GET", "/dispatch", session=d)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn('src="/static/dispatch.js"', r.body)
        self.assertIn('data-csrf="%s"' % d.csrf, r.body)
        # The board's API refuses a visitor too.
        r = self.srv.request("GET", "/api/v1/dispatch/board", session=s)
        self.assertEqual(r.status, 403, r.raw)


if __name__ == "__main__":
    unittest.main()
