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
  actions    Monday 9 March: two planning visits are made and their customers
             give feedback through their links; a third is never reached, so
             at 23:00 its promise is broken and a guarantee case opens
             (gb-energy). An address request comes in through /book/unlisted.
             Tuesday 10 March: three meter checks (10 minutes, two-hour
             windows) all on Priya's route: 08:00 and 08:30 windows (whose
             order can be swapped) and 15:00 (which first would make the
             morning ones late). The clock stands at Tuesday 07:30. The
             dispatcher reorders (refused, then accepted), writes to a
             customer, sees a visitor running late live, clears the address
             request, moderates both feedbacks and exempts the case.
"""

import time
import urllib.parse

import otd
import otd_booking as ob

PLANNING = "planning-inspection"
METER = "meter-check"
THURSDAY = "2026-03-05"
FRIDAY = "2026-03-06"
MONDAY = "2026-03-09"
TUESDAY = "2026-03-10"


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

    def route_order(self, visitor_id, date):
        """The references of the visitor's day in route order (cancelled left out)."""
        rows = self.srv.sql("SELECT reference FROM appointments WHERE visitor_id = ? AND "
                            "local_date = ? AND status <> 'cancelled' ORDER BY route_position",
                            (visitor_id, date))
        return [r[0] for r in rows]

    def scenario_actions(self):
        self.visitor_logins()
        if METER not in self.types:
            t = self.srv.create_visit_type(METER, name="Meter check", skill="planning",
                                           duration_median_minutes=10, duration_spread=0.1,
                                           window_minutes=120)
            self.types[METER] = t
        # Monday: two visits made, with feedback; one never reached.
        fb = {"publish": ("5 Willow Drive", 2, "Feedback Ash", 5,
                          "Arrived on time and explained the plans clearly."),
              "withhold": ("9 Church Lane", 5, "Feedback Birch", 2,
                           "Ring me on 07700 900999 about my neighbour's fence")}
        made = []
        for key, (line1, pick, name, rating, comment) in fb.items():
            v, t, aid, vid = self.book_on(PLANNING, line1, MONDAY, pick, name, self.phone())
            made.append((v["window"]["start"], key, vid, v, t, rating, comment))
        broken, broken_t, broken_aid, _ = self.book_on(PLANNING, "21 Station Road", MONDAY, -1,
                                                       "Broken Promise", self.phone(),
                                                       email="broken@example.org")
        made.sort()
        feedback = {}
        for _, key, vid, v, t, rating, comment in made:
            self.finish_visit(vid, v)
            r = self.srv.request("POST", "/api/v1/a/%s/feedback" % t,
                                 {"rating": rating, "comment": comment, "publish_consent": True})
            self.assertIn(r.status, (200, 201), r.raw)
            fid = self.srv.sql("SELECT f.id FROM feedback f JOIN appointments a ON "
                               "a.id = f.appointment_id WHERE a.reference = ?",
                               (v["reference"],))[0][0]
            feedback[key] = {"id": fid, "reference": v["reference"], "comment": comment}
        # 23:00: the last visit was never reached: a case opens (the ticker).
        self.at(MONDAY, "23:00")
        case = None
        deadline = time.monotonic() + 20
        while not case and time.monotonic() < deadline:
            case = self.srv.sql("SELECT id FROM guarantee_cases WHERE appointment_id = ? AND "
                                "state = 'open'", (broken_aid,))
            if not case:
                time.sleep(0.2)
                self.clock(seconds=1)
        self.assertTrue(case, "no guarantee case for the broken promise")
        # An address request (the form of /book/unlisted).
        r = self.srv.request("POST", "/book/unlisted", raw=urllib.parse.urlencode({
            "address": "Unit 4, Tannery Yard, Wrenfield", "name": "Grace Hopper",
            "phone": "07700 900778", "email": "",
            "visit_type": str(self.types[PLANNING]["id"])}).encode(),
            content_type="application/x-www-form-urlencoded")
        self.assertIn(r.status, (200, 303), r.raw)
        inbound = self.srv.sql("SELECT id FROM inbound_messages WHERE body LIKE '%Tannery Yard%'")
        self.assertEqual(len(inbound), 1, "the address request is not in the inbox")
        # Tuesday: three meter checks on one route.
        meters = []
        for n, (line1, pick) in enumerate((("1 Mill Road", 0), ("7 Church Lane", 1),
                                           ("12 High Street", -1))):
            meters.append(self.book_on(METER, line1, TUESDAY, pick, "Meter %s" % "ABC"[n],
                                       self.phone(), email="meter%d@example.org" % n))
        vids = {m[3] for m in meters}
        self.assertEqual(len(vids), 1, "the meter checks are on several routes: %s" % vids)
        vid = vids.pop()
        order = self.route_order(vid, TUESDAY)
        by_ref = {m[0]["reference"]: m[0] for m in meters}
        self.assertEqual(sorted(order), sorted(by_ref))
        late = meters[2][0]["reference"]  # the 15:00 window
        self.assertEqual(order[-1], late, order)
        self.at(TUESDAY, "07:30")
        return dict(self.login_details(), monday=MONDAY, tuesday=TUESDAY,
                    visitor=self.visitor_name(vid), visitor_id=vid, order=order, late=late,
                    message_reference=order[0], message_customer=self.srv.sql(
                        "SELECT c.name FROM appointments a JOIN customers c ON "
                        "c.id = a.customer_id WHERE a.reference = ?", (order[0],))[0][0],
                    # Greenwich time in March: the UTC clock reads as local.
                    message_window="%s\u2013%s" % (by_ref[order[0]]["window"]["start"][11:16],
                                                   by_ref[order[0]]["window"]["end"][11:16]),
                    broken=broken["reference"], case_id=case[0][0],
                    inbox_text="Tannery Yard", inbox_id=inbound[0][0], feedback=feedback)
