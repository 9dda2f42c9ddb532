"""The concurrency oracle of the booking issue, from its construction.

One visitor whose base is address X works exactly one hour a day, equal to the
only window; the visit type lasts exactly 6 minutes (duration_spread 0), travel
is exact (planning.travel_spread 0), no break, no lead time, no per-day limit,
holds per client raised. 64 clients at once (threads, each on its own
connection with its own Idempotency-Key) each hold and book that window.

  Case 1, all at X: a visit every 6 minutes from the window start, the tenth
  arriving 54 minutes in and back at the base at the end of the shift: exactly
  10 bookings succeed.
  Case 2 (the next day), clients alternate between X and an address Y 60
  minutes away (great-circle km x road factor / speed): from Y the visitor
  could not arrive before the window ends nor be back in the shift, so
  exactly 10 succeed, all at X.

The rest get 409 (window_taken at the hold or at the booking). Replaying 8 of
the requests with their keys returns their first answers: the same reference
(Idempotent-Replayed, a fresh link) for successful bookings, 409 again for
refused ones. The database then shows no visitor double booked: the route is
re-timed by a forward simulation written here (arrival i = max(window start,
departure i-1 + travel)), and every window is kept."""

import threading
import unittest

import otd
import otd_booking as ob

CLIENTS = 64
ROAD_FACTOR, KMH = 1.3, 30.0  # the planning defaults
X = ob.CENTRE
Y_METRES = 60.0 / 60.0 * KMH / ROAD_FACTOR * 1000.0  # one hour away
Y = ob.moved(X, north_m=Y_METRES)


class TestConcurrencyOracle(ob.BookingTestCase):
    server_env = {
        "ONTHEDOT_PLANNING_TRAVEL_SPREAD": "0",
        "ONTHEDOT_PLANNING_BREAK_MINUTES": "0",
        "ONTHEDOT_PLANNING_ROAD_FACTOR": str(ROAD_FACTOR),
        "ONTHEDOT_PLANNING_SPEED_KMH": str(KMH),
        "ONTHEDOT_BOOKING_LEAD_MINUTES": "0",
        "ONTHEDOT_BOOKING_HOLDS_PER_CLIENT": "1000",
        "ONTHEDOT_BOOKING_MAX_VISITS_PER_DAY": "0",
        "ONTHEDOT_BOOKING_SAME_DAY_CUTOFF": "",
        "ONTHEDOT_STORE_WRITER_WAIT_MS": "60000",
    }
    users = ("admin",)
    holidays = None
    addresses = [("10090000101", "1 X Street", "", "Xton", "XX1 1XX", 0, 0),
                 ("10090000102", "1 Y Street", "", "Yton", "YY1 1YY", Y_METRES, 0)]
    visitors = [dict(name="Olive Oracle", role_title="inspector", phone="01632 960400",
                     base={"lat": X[0], "lon": X[1]}, skills=["oracle"],
                     shifts=[{"start": "2026-03-03T10:00", "duration_minutes": 60,
                              "rrule": "FREQ=DAILY"}])]
    visit_types = [{"code": "six-minutes", "name": "Six minutes", "skill": "oracle",
                    "duration_median_minutes": 6, "duration_spread": 0, "window_minutes": 60}]

    @classmethod
    def setUpOrganisation(cls):
        km = ob.haversine_km(X, (cls.addr["1 Y Street"]["lat"], cls.addr["1 Y Street"]["lon"]))
        assert abs(km * ROAD_FACTOR / KMH * 60 - 60) < 0.05, km

    def storm(self, date, place_of, phone_base):
        """64 clients hold and book date's 10:00 window at once. Returns their
        results: dicts with i, address, key, hold (Response), book (Response
        or None) and the booking body sent."""
        vt = self.types["six-minutes"]["id"]
        start = ob.iso(ob.local(date, "10:00"))
        offered = self.windows(self.addr["1 X Street"]["id"], vt, date)[date]
        self.assertEqual([w["start"] for w in offered], [start])  # the only window
        barrier = threading.Barrier(CLIENTS)
        results = [None] * CLIENTS
        errors = []

        def client(i):
            try:
                res = {"i": i, "address": place_of(i), "key": "oracle-%s-%02d" % (date, i)}
                barrier.wait(30)
                res["hold"] = self.hold(self.addr[res["address"]]["id"], vt, start)
                res["book"] = None
                if res["hold"].status == 201:
                    res["body"] = dict(hold=res["hold"].body["hold"], name="Client %02d" % i,
                                       phone="07700 9%05d" % (i + phone_base),
                                       email=None, consent={"sms": True, "email": False})
                    res["book"] = self.book(key=res["key"], **res["body"])
                results[i] = res
            except BaseException as e:  # reported below, in the main thread
                errors.append((i, e))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertTrue(all(results))
        return results

    def outcome(self, results):
        ok = [r for r in results if r["book"] is not None and r["book"].status == 201]
        refused = [r for r in results if r not in ok]
        for r in refused:
            last = r["book"] if r["book"] is not None else r["hold"]
            self.assertEqual(last.status, 409, last.raw)
            self.assertEqual(last.error["code"], "window_taken", last.raw)
        return ok, refused

    def replay(self, chosen):
        """Replays chosen requests at once: bookings with their key and body,
        refused holds as they were."""
        vt = self.types["six-minutes"]["id"]
        out = {}

        def again(r):
            if r["book"] is not None:
                out[r["i"]] = self.book(key=r["key"], **r["body"])
            else:
                out[r["i"]] = self.hold(self.addr[r["address"]]["id"], vt,
                                        ob.iso(ob.local(self.date_of(r), "10:00")))

        threads = [threading.Thread(target=again, args=(r,)) for r in chosen]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for r in chosen:
            first = r["book"] if r["book"] is not None else r["hold"]
            second = out[r["i"]]
            self.assertEqual(second.status, first.status, second.raw)
            if first.status == 201:
                self.assertEqual(second.headers["Idempotent-Replayed"], "true")
                self.assertEqual(second.body["reference"], first.body["reference"])
                self.assertNotEqual(second.body["link"], first.body["link"])
                self.assertEqual({k: v for k, v in second.body.items() if k != "link"},
                                 {k: v for k, v in first.body.items() if k != "link"})
            else:
                self.assertEqual(second.error["code"], first.error["code"])

    def date_of(self, r):
        return r["key"].split("-", 1)[1][:10]

    def check_route(self, date, n, all_at_x=True):
        visitor = self.org_visitors[0]["id"]
        stops = ob.visitor_day_stops(self.srv, visitor, date)
        self.assertEqual(len(stops), n)
        # Positions are order keys with gaps: distinct, all set.
        positions = [s["position"] for s in stops]
        self.assertTrue(all(p is not None and p >= 0 for p in positions), positions)
        self.assertEqual(len(set(positions)), n)
        shift_start = ob.secs(ob.local(date, "10:00"))
        shift_end = shift_start + 3600
        arrivals, back = ob.simulate_route(X, shift_start, shift_end, stops, ROAD_FACTOR, KMH)
        for s, t in zip(stops, arrivals):
            self.assertGreaterEqual(t, s["start"])
            self.assertLess(t, s["end"], "arrives after the window at %s" % s["reference"])
        for a, b in zip(arrivals, arrivals[1:]):
            self.assertGreaterEqual(b, a + 6 * 60 - 1e-6)  # never two visits at once
        self.assertLessEqual(back, shift_end + 1e-3)
        if all_at_x:
            for s in stops:
                self.assertAlmostEqual(s["lat"], X[0], places=5)
        # Nothing else holds capacity that day.
        self.assertEqual(self.srv.sql("SELECT count(*) FROM holds WHERE local_date = ? AND "
                                      "expires_at > ?", (date, ob.secs(ob.utc(
                                          "2026-03-02T09:00:00Z")))), [(0,)])

    def test_case_1_all_at_x(self):
        date = "2026-03-03"
        results = self.storm(date, lambda i: "1 X Street", 0)
        ok, refused = self.outcome(results)
        self.assertEqual(len(ok), 10, [(r["hold"].status, r["book"] and r["book"].status)
                                       for r in results])
        self.assertEqual(len(refused), CLIENTS - 10)
        self.assertEqual(len({r["book"].body["reference"] for r in ok}), 10)
        self.check_route(date, 10)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments WHERE local_date = ?",
                                      (date,)), [(10,)])
        self.replay(ok[:5] + refused[:3])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments WHERE local_date = ?",
                                      (date,)), [(10,)])
        # Nothing is offered any more that day.
        self.assertEqual(self.windows(self.addr["1 X Street"]["id"],
                                      self.types["six-minutes"]["id"], date), {})

    def test_case_2_alternating_x_and_y(self):
        date = "2026-03-04"
        results = self.storm(date, lambda i: "1 X Street" if i % 2 == 0 else "1 Y Street",
                             100)
        ok, refused = self.outcome(results)
        self.assertEqual(len(ok), 10, [(r["address"], r["hold"].status,
                                        r["book"] and r["book"].status) for r in results])
        self.assertTrue(all(r["address"] == "1 X Street" for r in ok))
        self.assertTrue(all(r["hold"].status == 409 for r in refused
                            if r["address"] == "1 Y Street"))
        self.check_route(date, 10)
        self.replay(ok[:5] + [r for r in refused if r["address"] == "1 Y Street"][:2]
                    + [r for r in refused if r["address"] == "1 X Street"][:1])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments WHERE local_date = ?",
                                      (date,)), [(10,)])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM idempotency_keys"), [(20,)])


if __name__ == "__main__":
    unittest.main()
