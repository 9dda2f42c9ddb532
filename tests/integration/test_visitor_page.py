"""The visitor's phone page (/visitor, issue 8) against the real binary: HTTP checks
from Python and browser journeys (tests/browser/staff/visitor*.js, run by
journeys.run_journey with visitor_scenarios.VisitorScenarios.control as their
control channel).

  test_a_no_session       /visitor without a session: 303 to /login?next=/visitor
  test_b_isolation_api    a visitor cannot read or change another visitor's route
  test_c_visitor          the day tapped through on the page, faked geolocation, the
                          customer's page following live; positions only while
                          travelling (checked in the database afterwards)
  test_d_visitor_offline  taps with the context offline and the server stopped, a
                          reload served by the service worker, the replay stored
                          once each and in order; an expired session; a refused tap

Screenshots: OTD_SCREENSHOTS (default build/<x>/screenshots), as
visitor-<profile>-<state>.png and visitor-offline-<profile>-<state>.png.
"""

import os
import unittest

import otd
import otd_booking
import visitor_scenarios as vs
from journeys import CHROMIUM, STAFF_DIR, npm_install, require, run_journey


class VisitorPageTest(vs.VisitorScenarios, otd_booking.BookingTestCase):
    visitors = vs.VISITORS
    visit_types = vs.VISIT_TYPES
    # a dispatcher adds and moves a visit on the day itself (the journey)
    server_env = {"ONTHEDOT_BOOKING_SAME_DAY_CUTOFF": "20:00"}

    @classmethod
    def setUpClass(cls):
        # The tools first: a missing one fails every journey with the way out.
        require("node", "nodejs")
        require(CHROMIUM, "chromium")
        npm_install()
        super().setUpClass()

    def journey(self, name, scenario):
        return run_journey(self, os.path.join(STAFF_DIR, name + ".js"), scenario,
                           control=self.control)

    # -- (5) no session --

    def test_a_no_session(self):
        r = self.srv.request("GET", "/visitor", check=False)
        self.assertEqual(r.status, 303, r.raw)
        self.assertEqual(r.headers.get("Location"), "/login?next=/visitor")
        r = self.srv.request("GET", "/api/v1/visitor/day", check=False)
        self.assertEqual(r.status, 401, r.raw)
        # a dispatcher is signed in, but this is not their page
        s = self.srv.login(otd.STAFF_LOGINS["dispatcher"])
        r = self.srv.request("GET", "/visitor", session=s, check=False)
        self.assertEqual(r.status, 403, r.raw)
        # the service worker is there for anyone (it holds no data), never cached stale
        r = self.srv.request("GET", "/visitor-sw.js", check=False)
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn("javascript", r.headers.get("Content-Type", ""))
        self.assertEqual(r.headers.get("Cache-Control"), "no-cache")

    # -- (3) over the API: another visitor's route is out of reach --

    def test_b_isolation_api(self):
        m = self.monday()
        me = self.session_of(m["visitor_id"])
        other = m["other"]
        r = self.srv.request("GET", "/api/v1/visitors/%d/day?date=%s"
                             % (other["visitor_id"], vs.MONDAY), session=me, check=False)
        self.assertEqual(r.status, 403, r.raw)
        r = self.srv.request("GET", "/api/v1/visitor/day?date=%s" % vs.MONDAY, session=me)
        self.assertEqual(r.status, 200, r.raw)
        refs = [a["reference"] for a in r.body["appointments"]]
        self.assertEqual(sorted(refs), sorted(v["reference"] for v in m["visits"]))
        self.assertNotIn(other["reference"], r.raw.decode())
        self.assertNotIn(other["customer"], r.raw.decode("utf-8"))
        # a tap naming another visitor's appointment changes nothing
        before = self.srv.sql("SELECT status FROM appointments WHERE reference = ?",
                              (other["reference"],))
        for kind in ("start_travel", "cannot_attend"):
            body = {"client_event_id": "iso-%s" % kind, "type": kind,
                    "at": self.clock(seconds=0), "appointment": other["reference"]}
            if kind == "cannot_attend":
                body["note"] = "not mine"
            r = self.srv.request("POST", "/api/v1/visitor/events", body, session=me,
                                 check=False)
            self.assertEqual(r.status, 422, r.raw)
            self.assertEqual(r.error["code"], "not_on_route", r.raw)
        self.assertEqual(self.srv.sql("SELECT status FROM appointments WHERE reference = ?",
                                      (other["reference"],)), before)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM visitor_events WHERE "
                                      "client_event_id LIKE 'iso-%'"), [(0,)])
        # the other visitor's live stream
        r = self.srv.request("GET", "/api/v1/visitor/stream?visitor=%d" % other["visitor_id"],
                             session=me, check=False, timeout=10)
        self.assertEqual(r.status, 403, r.raw)

    # -- (1) and (4): the day, in the browser --

    def test_c_visitor(self):
        sc = self.scenario_visitor()
        self.journey("visitor", sc)
        vid = sc["visitor_id"]
        events = self.visitor_events(vid)
        kinds = [e["kind"] for e in events]
        for k in ("start_travel", "arrived", "done", "late", "break_start", "break_end",
                  "cannot_attend", "unavailable"):
            self.assertIn(k, kinds, vs.dumps(events))
        self.assertEqual(len({e["client_event_id"] for e in events}), len(events),
                         "a tap stored twice:\n" + vs.dumps(events))
        first = sc["visits"][0]["reference"]
        self.assertEqual(self.srv.sql("SELECT status FROM appointments WHERE reference = ?",
                                      (first,)), [("done",)])
        # Positions arrive only while travelling: between a start_travel and the
        # next tap that ends the journey.
        positions = self.positions(vid)
        self.assertGreaterEqual(len(positions), 3, vs.dumps(positions))
        spans, start = [], None
        for e in events:
            if e["kind"] == "start_travel":
                start = e["at"]
            elif start and e["kind"] in ("arrived", "cannot_attend", "unavailable", "no_access"):
                spans.append((start, e["at"]))
                start = None
        for p in positions:
            self.assertTrue(any(a <= p["at"] <= b for a, b in spans),
                            "a position outside travel: %s\nspans %s" % (p, spans))

    # -- (2) offline, the server stopped, the replay --

    def test_d_visitor_offline(self):
        sc = self.scenario_visitor_offline()
        self.journey("visitor-offline", sc)
        events = self.visitor_events(sc["visitor_id"])
        first, second = [v["reference"] for v in sc["visits"]]
        offline = [e for e in events if e["reference"] == first]
        self.assertEqual([e["kind"] for e in offline], ["start_travel", "arrived", "done"],
                         vs.dumps(events))
        self.assertEqual(len({e["client_event_id"] for e in events}), len(events))
        self.assertEqual(sorted(e["at"] for e in offline), [e["at"] for e in offline])
        self.assertEqual([e["kind"] for e in events if e["kind"] == "late"], ["late"],
                         vs.dumps(events))
        # the refused tap (start travel to a cancelled visit) was not stored
        self.assertNotIn(("start_travel", second),
                         [(e["kind"], e["reference"]) for e in events], vs.dumps(events))


if __name__ == "__main__":
    unittest.main()
