"""What the dispatcher's board journeys (tests/browser/staff/dispatch*.js) need
prepared on the server; test_dispatch_page.py calls these and hands the answer
over as OTD_SCENARIO.

The Wrenfield organisation of otd_booking (four planning officers, one gas
engineer), on the virtual clock from Monday 2 March 09:00; one server for the
whole class, so the clock only moves forward:

  reassign   Thursday 5 March: a day of planning inspections; at 09:00 the
             officer of the 09:00-10:00 visit reports running 60 minutes late
             and a minute passes (the ticker runs), so that visit is at risk.
             The dispatcher reassigns it from the board.
  rebalance  Friday 6 March, 07:00: four visits booked on Friday; the
             dispatcher marks the officer of the first one unavailable (sick)
             from the board, asks for a rebalance and applies it.
"""

import otd
import otd_booking as ob

PLANNING = "planning-inspection"
THURSDAY = "2026-03-05"
FRIDAY = "2026-03-06"


class DispatchScenarios:
    """A mixin for otd_booking.BookingTestCase subclasses that also mix in
    pages_scenarios.PageScenarios (visitor_logins, session_of, book_on)."""

    phones = 0

    def phone(self):
        type(self).phones += 1
        return "07700 9008%02d" % type(self).phones

    def book_at(self, line1, date, hhmm, name):
        """Books the window that starts at hhmm (local) on date for a new
        customer; returns (view, token, appointment id, visitor id)."""
        a = self.addr[line1]["id"]
        vt = self.types[PLANNING]["id"]
        want = ob.iso(ob.local(date, hhmm))
        ws = self.windows(a, vt, date)[date]
        starts = [w["start"] for w in ws]
        self.assertIn(want, starts, "no window at %s %s for %s" % (date, hhmm, line1))
        return self.book_on(PLANNING, line1, date, starts.index(want), name, self.phone())

    def report(self, visitor_id, kind, at, **fields):
        """One event from the visitor's phone at at (the clock moved there first)."""
        self.clock(to=ob.iso(at))
        s = self.session_of(visitor_id)
        type(self).seq = getattr(type(self), "seq", 0) + 1
        body = {"client_event_id": "dsp%d" % type(self).seq, "type": kind, "at": ob.iso(at)}
        body.update(fields)
        r = self.srv.request("POST", "/api/v1/visitor/events", body, session=s)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["applied"], 1, r.raw)
        return r.body

    def visitor_name(self, visitor_id):
        return [v["name"] for v in self.org_visitors if v["id"] == visitor_id][0]

    def login_details(self):
        return {"login": otd.STAFF_LOGINS["dispatcher"], "password": otd.PASSWORD}

    # -- the journeys' scenarios --

    def scenario_reassign(self):
        self.visitor_logins()
        booked = {}
        for line1, hhmm, name in (("1 Mill Road", "09:00", "Olwen Pritchard"),
                                  ("7 Church Lane", "11:00", "Rhys Bellamy"),
                                  ("12 High Street", "13:00", "Chiara Rossi"),
                                  ("2 Orchard Way", "14:00", "Dev Patel")):
            booked[hhmm] = self.book_at(line1, THURSDAY, hhmm, name)
        view, token, aid, late_vid = booked["09:00"]
        ref = view["reference"]
        # 09:00: the officer of the 09:00 visit is running an hour late.
        self.report(late_vid, "late", ob.local(THURSDAY, "09:00"), minutes=60)
        self.clock(seconds=60)
        r = self.srv.request("GET", "/api/v1/appointments/%s" % ref, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(r.body["risk"], ("at_risk", "broken"), "the late visit is not at risk: %s"
                      % r.raw)
        opts = self.srv.request("GET", "/api/v1/appointments/%s/reassign-options" % ref,
                                token="admin")
        self.assertEqual(opts.status, 200, opts.raw)
        names = [o["name"] for o in opts.body["options"]]
        self.assertTrue(names, "no visitor can take %s: the journey would have nothing to "
                        "choose" % ref)
        others = [v["name"] for v in self.org_visitors
                  if v["id"] != late_vid and v["name"] not in names]
        return dict(self.login_details(), reference=ref, token=token,
                    customer="Olwen Pritchard", late_visitor=self.visitor_name(late_vid),
                    late_visitor_id=late_vid, options=names, not_options=others,
                    others=[booked[k][0]["reference"] for k in ("11:00", "13:00", "14:00")])

    def scenario_rebalance(self):
        self.visitor_logins()
        booked = [self.book_on(PLANNING, line1, FRIDAY, i, "Friday %d" % n, self.phone())
                  for n, (line1, i) in enumerate((("3 Mill Road", 2), ("9 Church Lane", 4),
                                                  ("14 High Street", 6), ("4 Orchard Way", 3)))]
        sick = booked[0][3]
        theirs = [b[0]["reference"] for b in booked if b[3] == sick]
        self.at(FRIDAY, "07:00")
        return dict(self.login_details(), date=FRIDAY, sick_visitor_id=sick,
                    sick_visitor=self.visitor_name(sick), theirs=theirs,
                    references=[b[0]["reference"] for b in booked])
