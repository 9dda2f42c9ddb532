"""Live tracking through the HTTP API on a virtual clock: visitors' events,
projected arrivals and risk (issue 4).

Scripted days are played against the real binary. The oracle is computed
here, independently of the C code: journeys take exactly their mean
(travel_spread = 0: great-circle km x 1.3 / 30 km/h), durations are
log-normal (median, sigma of the visit type), and P(late) comes from the
closed form (one remaining leg) or a 4,000-point quadrature over the
conditioned duration of the visit under way (several legs). The server
projects with 256 Monte Carlo samples, so its P(late) is compared within
0.04.
"""

import json
import math
import random
import unittest

import otd
import otd_booking as ob
from otd_booking import iso, local, secs

DAY = "2026-03-03"  # a Tuesday (London is on GMT: local = UTC)
D45 = "2026-03-05"  # a Thursday
MEDIAN_MIN = 45.0
SIGMA = 0.3
TICK = 30


def phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def phi_inv(u):
    lo, hi = -12.0, 12.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if phi(mid) < u:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def p_duration_at_least(d_s, elapsed_s, median_s=MEDIAN_MIN * 60, sigma=SIGMA):
    """P(D >= d | D > elapsed) for a log-normal duration D."""
    mu = math.log(median_s)
    tail_e = 1.0 - phi((math.log(elapsed_s) - mu) / sigma) if elapsed_s > 0 else 1.0
    if d_s <= max(elapsed_s, 0):
        return 1.0
    return (1.0 - phi((math.log(d_s) - mu) / sigma)) / tail_e


def appt_events(srv, appointment_id):
    out = ob.events(srv, appointment_id)
    for e in out:
        e["detail"] = json.loads(e["detail"])
    return out


def travel_s(a, b):
    return ob.haversine_km(a, b) * 1.3 / 30.0 * 3600.0


class TrackingCase(ob.BookingTestCase):
    server_env = {
        "ONTHEDOT_PLANNING_TRAVEL_SPREAD": "0",
        "ONTHEDOT_PLANNING_BREAK_MINUTES": "0",
        "ONTHEDOT_TRACKING_SILENT_MINUTES": "20",
    }
    n_visitors = 2

    @classmethod
    def default_visitors(cls):
        return [dict(name="Visitor %d" % i, role_title="planning officer",
                     phone="01632 96%04d" % (300 + i), base={"lat": ob.CENTRE[0],
                                                              "lon": ob.CENTRE[1]},
                     skills=["planning"],
                     shifts=[{"start": "2026-03-02T08:00", "duration_minutes": 600,
                              "rrule": ob.WEEKDAYS}])
                for i in range(cls.n_visitors)]

    @classmethod
    def default_visit_types(cls):
        return [{"code": "planning-inspection", "name": "Planning inspection",
                 "skill": "planning", "duration_median_minutes": int(MEDIAN_MIN),
                 "duration_spread": SIGMA, "window_minutes": 60}]

    @classmethod
    def setUpOrganisation(cls):
        cls.sessions = []
        for i, v in enumerate(cls.org_visitors):
            cls.srv.add_user("visitor", "visitor%d" % i, "Visitor %d" % i, visitor_id=v["id"])
            cls.sessions.append(cls.srv.login("visitor%d" % i))
        cls.type_id = cls.types["planning-inspection"]["id"]
        cls.places = {}
        for row in cls.srv.sql("SELECT id, line1, lat, lon FROM addresses"):
            cls.places[row[1]] = (row[0], (row[2], row[3]))
        cls.seq = 0

    # -- fixtures --

    def appointment(self, visitor, line1, start, end, position, date=DAY):
        """Books an appointment straight into the route (the booking journey
        is tested elsewhere). start/end are local "HH:MM". Returns its
        reference."""
        cls = type(self)
        cls.seq += 1
        alphabet, n, tail = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ", cls.seq, ""
        for _ in range(5):
            n, d = divmod(n, len(alphabet))
            tail = alphabet[d] + tail
        ref = "OTD-T" + tail
        now = secs(local("2026-03-02", "09:00"))
        self.srv.sql("INSERT INTO customers(name, phone, created_at) VALUES (?, ?, ?)",
                     ("Customer %s" % ref, "+441632960%03d" % (cls.seq % 1000), now))
        cust = self.srv.sql("SELECT max(id) FROM customers")[0][0]
        self.srv.sql(
            "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
            "visitor_id, local_date, window_start, window_end, status, route_position, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?)",
            (ref, cust, self.places[line1][0], self.type_id, visitor["id"], date,
             secs(local(date, start)), secs(local(date, end)), position * 1000, now, now))
        return ref

    def where(self, line1):
        return self.places[line1][1]

    def to(self, date, hhmm, sec=0):
        t = local(date, hhmm)
        return self.clock(to=iso(secs(t) + sec))

    def events(self, who, *evs, status=200):
        body = evs[0] if len(evs) == 1 else {"events": list(evs)}
        r = self.srv.request("POST", "/api/v1/visitor/events", body, session=self.sessions[who])
        if r.status == 401:  # the virtual clock jumped past the session's idle time
            self.sessions[who] = self.srv.login("visitor%d" % who)
            r = self.srv.request("POST", "/api/v1/visitor/events", body,
                                 session=self.sessions[who])
        self.assertEqual(r.status, status, r.raw)
        return r

    def ev(self, kind, at, appointment=None, **kw):
        type(self).seq += 1
        e = {"client_event_id": "e%d" % type(self).seq, "type": kind, "at": iso(at)}
        if appointment:
            e["appointment"] = appointment
        e.update(kw)
        return e

    def day(self, visitor, date=DAY):
        r = self.srv.request("GET", "/api/v1/visitors/%d/day?date=%s" % (visitor["id"], date),
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        return r.body

    def stop(self, visitor, ref, date=DAY):
        for a in self.day(visitor, date)["appointments"]:
            if a["reference"] == ref:
                return a
        raise AssertionError("%s not on the day" % ref)

    def risk_row(self, ref):
        return self.srv.sql("SELECT risk, p_late FROM appointments WHERE reference = ?",
                            (ref,))[0]


class TestLateTap(TrackingCase):
    """A "late N" tap shifts the visitor's state by N minutes: a real delay
    with little slack raises risk at once, a small one with slack does not."""

    def test_late_45_with_little_slack_raises_risk_at_once(self):
        v = self.org_visitors[0]
        a1 = self.appointment(v, "1 Mill Road", "09:00", "10:00", 1, date=D45)
        a2 = self.appointment(v, "The Old Forge", "09:30", "10:30", 2, date=D45)
        self.to(D45, "09:10")
        t_arr = secs(local(D45, "09:10"))
        self.events(0, self.ev("arrived", t_arr, a1))
        self.to(D45, "09:20")
        now = secs(local(D45, "09:20"))
        leg = travel_s(self.where("1 Mill Road"), self.where("The Old Forge"))
        b2 = secs(local(D45, "10:30"))
        before = p_duration_at_least(b2 - leg - t_arr, now - t_arr)
        s = self.stop(v, a2, D45)
        self.assertEqual(s["risk"], "ok", s)
        self.assertAlmostEqual(s["p_late"], before, delta=0.04)
        # Late 45: in the same request's transaction the risk moves.
        self.events(0, self.ev("late", now, minutes=45))
        # The visit counts as begun 45 minutes later (time spent is not counted twice).
        after = p_duration_at_least(b2 - leg - 45 * 60 - t_arr, now - t_arr - 45 * 60)
        self.assertGreater(after, 0.5)  # the oracle says at_risk
        s = self.stop(v, a2, D45)
        self.assertEqual(s["risk"], "at_risk", s)
        self.assertAlmostEqual(s["p_late"], after, delta=0.04)
        # The change is an appointment event with its numbers, and the
        # at_risk transition recorded what an apology needs.
        aid = self.appointment_id(a2)
        kinds = [e["kind"] for e in appt_events(self.srv, aid)]
        self.assertIn("risk", kinds)
        self.assertIn("at_risk", kinds)
        at_risk = [e for e in appt_events(self.srv, aid) if e["kind"] == "at_risk"][-1]
        for k in ("promise_version", "expected_arrival", "band_early", "band_late", "p_late",
                  "window_start", "window_end", "reason"):
            self.assertIn(k, at_risk["detail"], at_risk)
        self.assertEqual(at_risk["detail"]["cause"], "late")

    def test_late_10_with_an_hour_of_slack_does_not(self):
        v = self.org_visitors[1]
        a1 = self.appointment(v, "3 Mill Road", "09:00", "10:00", 1)
        a2 = self.appointment(v, "7 Church Lane", "10:30", "11:30", 2)
        self.to(DAY, "09:10")
        t_arr = secs(local(DAY, "09:10"))
        self.events(1, self.ev("arrived", t_arr, a1))
        self.to(DAY, "09:20")
        now = secs(local(DAY, "09:20"))
        self.events(1, self.ev("late", now, minutes=10))
        leg = travel_s(self.where("3 Mill Road"), self.where("7 Church Lane"))
        p = p_duration_at_least(secs(local(DAY, "11:30")) - leg - 600 - t_arr,
                                now - t_arr - 600)
        self.assertLess(p, 0.2)
        s = self.stop(v, a2)
        self.assertEqual(s["risk"], "ok", s)
        self.assertAlmostEqual(s["p_late"], p, delta=0.04)
        self.assertEqual(self.day(v)["late_minutes"], 10)


class TestOverrun(TrackingCase):
    """An overrun at the second visit turns the fourth at_risk when P(late)
    crosses 0.5, within one ticker period; recovery does not flap."""

    n_visitors = 1

    def learned(self, visitor_id):
        """What the service learned from the visits and journeys before (the
        oracle uses the same model: visit type level durations, below 20
        observations of the visitor; the visitor's overall travel factor)."""
        median, sigma = self.srv.sql("SELECT median_s, sigma FROM learned_durations WHERE "
                                     "visit_type_id = ? AND visitor_id = 0",
                                     (self.type_id,))[0]
        rows = self.srv.sql("SELECT factor FROM learned_travel WHERE visitor_id = ? AND "
                            "hour = -1", (visitor_id,))
        return median, sigma, rows[0][0] if rows else 1.0

    def oracle_p4(self, since2, now, legs, a3, b4, model):
        """P(X4 >= b4): on site at A2 since since2 (D2 conditioned on the
        time spent), then leg 2-3, wait for a3, D3, leg 3-4. Quadrature over
        D2's conditioned quantiles, closed form for D3."""
        median, sigma, factor = model
        legs = (legs[0] * factor, legs[1] * factor)
        mu = math.log(median)
        e = now - since2
        f_e = phi((math.log(e) - mu) / sigma) if e > 0 else 0.0
        k = 4000
        total = 0.0
        for i in range(k):
            u = f_e + (1 - f_e) * (i + 0.5) / k
            d2 = math.exp(mu + sigma * phi_inv(u)) if u < 1 else float("inf")
            x3 = since2 + d2 + legs[0]
            start3 = max(a3, x3)
            need = b4 - legs[1] - start3  # D3 at least this makes A4 late
            total += 1.0 if need <= 0 else 1.0 - phi((math.log(need) - mu) / sigma)
        return total / k

    def test_overrun_at_the_second_visit(self):
        v = self.org_visitors[0]
        lines = ["1 Mill Road", "12 High Street", "7 Church Lane", "2 Orchard Way"]
        windows = [("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"),
                   ("12:00", "13:00")]
        refs = [self.appointment(v, lines[i], windows[i][0], windows[i][1], i + 1)
                for i in range(4)]
        legs = (travel_s(self.where(lines[1]), self.where(lines[2])),
                travel_s(self.where(lines[2]), self.where(lines[3])))
        t = lambda hhmm: secs(local(DAY, hhmm))
        self.to(DAY, "09:00")
        self.events(0, self.ev("arrived", t("09:00"), refs[0]))
        self.to(DAY, "09:40")
        self.events(0, self.ev("done", t("09:40"), refs[0]),
                    self.ev("start_travel", t("09:40") + 1, refs[1]))
        self.to(DAY, "10:00")
        since2 = t("10:00")
        self.events(0, self.ev("arrived", since2, refs[1]))
        self.assertEqual(self.risk_row(refs[3])[0], "ok")
        # One visit and one journey were learned (shrunk toward the priors).
        model = self.learned(v["id"])
        self.assertLess(abs(model[0] - MEDIAN_MIN * 60), 120)
        self.assertEqual(model[2], 1.0)  # journeys under 2 minutes teach nothing
        # The visit runs long: the ticker alone (nothing is sent) moves risk.
        a3, b4 = t("11:00"), t("13:00")
        oracle_cross = None
        server_cross = None
        step = since2
        while step < t("12:10") and (oracle_cross is None or server_cross is None):
            step += TICK
            self.clock(to=iso(step))
            p = self.oracle_p4(since2, step, legs, a3, b4, model)
            if oracle_cross is None and p >= 0.5:
                oracle_cross = step
            risk, p_server = self.risk_row(refs[3])
            if server_cross is None and risk == "at_risk":
                server_cross = step
                self.assertAlmostEqual(p_server, p, delta=0.04)
        self.assertIsNotNone(oracle_cross)
        self.assertIsNotNone(server_cross, "the fourth visit never went at_risk")
        self.assertLessEqual(abs(server_cross - oracle_cross), TICK,
                             "server %s, oracle %s" % (iso(server_cross), iso(oracle_cross)))
        # The visit ends; the visitor sets off. Passes at the same state give
        # the same projection (seeded): no flapping between ticks.
        self.events(0, self.ev("done", step, refs[1]),
                    self.ev("start_travel", step + 1, refs[2]))
        seen = []
        for _ in range(4):
            step += TICK
            self.clock(to=iso(step))
            seen.append(self.risk_row(refs[3]))
        self.assertEqual(len({r for r, _ in seen}), 1, seen)
        changes = [e for e in appt_events(self.srv, self.appointment_id(refs[3]))
                   if e["kind"] == "risk"]
        ups = [e for e in changes if e["detail"]["to"] == "at_risk"]
        self.assertEqual(len(ups), 1, changes)


class TestUnavailableAndSilent(TrackingCase):
    n_visitors = 3

    def test_unavailable_makes_the_rest_of_the_day_at_risk(self):
        v = self.org_visitors[0]
        date = "2026-03-06"
        refs = [self.appointment(v, "1 Mill Road", "09:00", "10:00", 1, date=date),
                self.appointment(v, "3 Mill Road", "10:00", "11:00", 2, date=date),
                self.appointment(v, "9 Church Lane", "14:00", "15:00", 3, date=date)]
        self.to(date, "09:05")
        now = secs(local(date, "09:05"))
        self.events(0, self.ev("arrived", now, refs[0]))
        self.events(0, self.ev("done", now + 1800, refs[0]), status=400)  # in the future
        self.to(date, "09:40")
        now = secs(local(date, "09:40"))
        self.events(0, self.ev("done", now, refs[0]),
                    self.ev("unavailable", now + 60, reason="breakdown", note="flat tyre"))
        d = self.day(v, date)
        self.assertEqual(d["state"], "unavailable")
        self.assertEqual(d["unavailable_reason"], "breakdown")
        by_ref = {a["reference"]: a for a in d["appointments"]}
        self.assertEqual(by_ref[refs[0]]["status"], "done")
        for ref in refs[1:]:
            self.assertEqual(by_ref[ref]["risk"], "at_risk", by_ref[ref])
            self.assertTrue(by_ref[ref]["forced"])
            self.assertIn("breakdown", by_ref[ref]["risk_reason"])
        # Nothing more is accepted from them today.
        r = self.events(0, self.ev("start_travel", now + 120, refs[1]), status=422)
        self.assertEqual(r.error["code"], "visitor_unavailable")
        # When the window ends with no arrival the promise is broken.
        self.to(date, "11:01")
        self.assertEqual(self.risk_row(refs[1])[0], "broken")
        self.assertEqual(self.risk_row(refs[2])[0], "at_risk")

    def test_unavailable_on_site_still_closes_the_visit_and_is_offered_nothing(self):
        v = self.org_visitors[0]
        date = "2026-03-09"
        refs = [self.appointment(v, "1 Mill Road", "09:00", "10:00", 1, date=date),
                self.appointment(v, "3 Mill Road", "11:00", "12:00", 2, date=date)]
        addr = self.places["5 Willow Drive"][0]
        self.to(date, "07:00")
        before = len(self.windows(addr, self.type_id, date).get(date, []))
        self.to(date, "09:05")
        now = secs(local(date, "09:05"))
        self.events(0, self.ev("arrived", now, refs[0]),
                    self.ev("unavailable", now + 60, reason="sick"))
        # The visit under way can still be closed (and with a position but
        # no accuracy: evidence kept as given).
        self.to(date, "09:15")
        self.events(0, self.ev("done", now + 600, refs[0], lat=52.205, lon=-1.548))
        d = self.day(v, date)
        self.assertEqual(d["state"], "unavailable")
        self.assertEqual([a["status"] for a in d["appointments"]], ["done", "booked"])
        self.assertEqual(d["appointments"][1]["risk"], "at_risk")
        # Nothing more of that day goes to them: every window still offered
        # is held by one of the other two visitors of this class.
        self.assertGreater(before, 0)
        for w in self.windows(addr, self.type_id, date).get(date, [])[:8]:
            self.hold(addr, self.type_id, w["start"])
        held = self.srv.sql("SELECT visitor_id, count(*) FROM holds GROUP BY visitor_id")
        self.assertTrue(held)
        self.assertNotIn(v["id"], [h[0] for h in held])

    def test_a_dispatcher_marks_a_visitor_unavailable(self):
        v = self.org_visitors[1]
        refs = [self.appointment(v, "21 Station Road", "15:00", "16:00", 1),
                self.appointment(v, "23 Station Road", "16:00", "17:00", 2)]
        self.to(DAY, "14:00")
        r = self.srv.request("POST", "/api/v1/visitors/%d/unavailable" % v["id"],
                             {"reason": "sick", "note": "called in at 2"}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["state"], "unavailable")
        self.assertTrue(all(a["risk"] == "at_risk" for a in r.body["appointments"]), r.body)
        bad = self.srv.request("POST", "/api/v1/visitors/%d/unavailable" % v["id"],
                               {"reason": "bored"}, token="admin")
        self.assertError(bad, 400, "bad_reason", "reason")
        missing = self.srv.request("POST", "/api/v1/visitors/99999/unavailable",
                                   {"reason": "sick"}, token="admin")
        self.assertEqual(missing.status, 404, missing.raw)

    def test_a_silent_visitor_is_flagged(self):
        v = self.org_visitors[2]
        date = "2026-03-05"
        self.appointment(v, "5 Willow Drive", "09:30", "10:30", 1, date=date)
        self.to(date, "08:45")  # shift began 08:00, but the first visit is at 09:30
        self.assertFalse(self.day(v, date)["silent"])
        self.to(date, "08:50")  # expected to leave by 08:30; 20 minutes of nothing
        self.assertTrue(self.day(v, date)["silent"])
        now = secs(local(date, "08:50"))
        self.events(2, self.ev("break_start", now))
        self.events(2, self.ev("break_end", now + 5))
        self.assertFalse(self.day(v, date)["silent"])


class TestEventsApi(TrackingCase):
    n_visitors = 3

    def test_impossible_sequences_change_nothing(self):
        v = self.org_visitors[0]
        other = self.org_visitors[1]
        date = "2026-03-05"
        a1 = self.appointment(v, "1 Kingsway", "09:00", "10:00", 1, date=date)
        theirs = self.appointment(other, "3 Kingsway", "09:00", "10:00", 1, date=date)
        self.to(date, "09:10")
        now = secs(local(date, "09:10"))
        n_before = self.srv.sql("SELECT count(*) FROM visitor_events")[0][0]
        r = self.events(0, self.ev("start_travel", now - 60, a1), self.ev("done", now, a1),
                        status=422)
        self.assertEqual(r.error["code"], "bad_sequence")
        self.assertEqual(r.error["field"], "events[1]")
        r = self.events(0, self.ev("arrived", now, theirs), status=422)
        self.assertEqual(r.error["code"], "not_on_route")
        # A single event (not a batch) is not called "events[0]".
        self.assertFalse(r.error.get("field"), r.raw)
        r = self.events(0, self.ev("late", now, minutes=5), self.ev("arrived", now, theirs),
                        status=422)
        self.assertEqual((r.error["code"], r.error["field"]), ("not_on_route", "events[1]"))
        self.assertEqual(self.srv.sql("SELECT count(*) FROM visitor_events")[0][0], n_before)
        self.assertEqual(self.stop(v, a1, date)["status"], "booked")
        self.assertEqual(self.day(v, date)["state"], "not_started")

    def test_a_repeated_event_is_accepted_once_and_positions_only_while_travelling(self):
        v = self.org_visitors[1]
        a1 = self.appointment(v, "Meadow Cottage", "11:00", "12:00", 1)
        self.to(DAY, "10:00")
        now = secs(local(DAY, "10:00"))
        pos = self.ev("position", now - 30, lat=52.2, lon=-1.55, accuracy=12)
        r = self.events(1, pos)
        self.assertEqual(r.body["ignored"], 1)  # not travelling: not kept
        go = self.ev("start_travel", now - 20, a1)
        r = self.events(1, go)
        self.assertEqual(r.body["applied"], 1)
        r = self.events(1, go)
        self.assertEqual(r.body["duplicates"], 1)
        ping = self.ev("position", now - 10, lat=52.201, lon=-1.549)
        r = self.events(1, ping, ping)
        self.assertEqual((r.body["applied"], r.body["duplicates"]), (1, 1))
        self.assertEqual(self.srv.sql("SELECT count(*) FROM visitor_positions WHERE "
                                      "visitor_id = ?", (v["id"],))[0][0], 1)
        self.assertEqual(self.srv.sql(
            "SELECT count(*) FROM visitor_events WHERE client_event_id = ?",
            (go["client_event_id"],))[0][0], 1)
        self.assertEqual(self.day(v)["state"], "travelling")
        # A tap made before that position but sent after it still applies
        # (positions do not order taps), and one before the last tap does not.
        self.events(1, self.ev("late", now - 15, minutes=10))
        self.assertEqual(self.day(v)["late_minutes"], 10)
        r = self.events(1, self.ev("late", now - 25, minutes=5), status=422)
        self.assertEqual(r.error["code"], "out_of_order")
        # Still travelling after the shift (08:00-18:00) has ended: the
        # phone's positions are no longer kept.
        self.to(DAY, "18:30")
        after = secs(local(DAY, "18:30"))
        r = self.events(1, self.ev("position", after - 60, lat=52.202, lon=-1.548))
        self.assertEqual(r.body["ignored"], 1, r.raw)
        r = self.events(1, self.ev("position", secs(local(DAY, "17:59")), lat=52.203,
                                   lon=-1.547))
        self.assertEqual(r.body["applied"], 1, r.raw)  # sent late, made within the shift
        self.assertEqual(self.srv.sql("SELECT count(*) FROM visitor_positions WHERE "
                                      "visitor_id = ?", (v["id"],))[0][0], 2)

    def test_malformed_events_are_refused_by_name(self):
        now = iso(secs(local(DAY, "08:00")))
        cases = [
            ({"client_event_id": "x1", "type": "teleport", "at": now}, "bad_type", "type"),
            ({"client_event_id": "x2", "type": "arrived", "at": now}, "missing_field",
             "appointment"),
            ({"client_event_id": "x3", "type": "late", "at": now}, "missing_field", "minutes"),
            ({"client_event_id": "x4", "type": "unavailable", "at": now, "reason": "tired"},
             "bad_reason", "reason"),
            ({"events": [{"client_event_id": "x5", "type": "position", "at": now}]},
             "missing_field", "events[0].lat"),
            ({"events": []}, "empty", "events"),
        ]
        for body, code, field in cases:
            r = self.events(2, body, status=400)
            self.assertError(r, 400, code, field)
        r = self.srv.request("POST", "/api/v1/visitor/events",
                             {"client_event_id": "x6", "type": "late", "at": now, "minutes": 5},
                             session=self.srv.login("disp"))
        self.assertEqual(r.status, 403, r.raw)


class TestOfflineReplay(TrackingCase):
    """Taps made without signal and sent later as one batch (in any order)
    give the same day as the same taps sent live."""

    n_visitors = 2

    def test_replayed_batch_equals_live_taps(self):
        plan = [("1 Mill Road", "09:00", "10:00"), ("14 High Street", "10:00", "11:00"),
                ("4 Orchard Way", "12:00", "13:00")]
        live_v, batch_v = self.org_visitors
        live = [self.appointment(live_v, p[0], p[1], p[2], i + 1) for i, p in enumerate(plan)]
        batch = [self.appointment(batch_v, p[0], p[1], p[2], i + 1) for i, p in enumerate(plan)]
        t = lambda hhmm: secs(local(DAY, hhmm))
        script = [("start_travel", "08:50", 0), ("arrived", "09:02", 0), ("done", "09:50", 0),
                  ("start_travel", "09:51", 1), ("late", "09:52", None),
                  ("arrived", "10:05", 1), ("done", "10:58", 1)]
        sent = []
        for kind, hhmm, i in script:
            self.to(DAY, hhmm)
            kw = {"minutes": 15} if kind == "late" else {}
            self.events(0, self.ev(kind, t(hhmm), live[i] if i is not None else None, **kw))
            sent.append(self.ev(kind, t(hhmm), batch[i] if i is not None else None, **kw))
        random.Random(4).shuffle(sent)
        self.to(DAY, "11:00")
        r = self.events(1, *sent)
        self.assertEqual(r.body["applied"], len(script))
        a, b = self.day(live_v), self.day(batch_v)
        for k in ("state", "since", "late_minutes", "last_event_at"):
            self.assertEqual(a[k], b[k], k)
        for x, y in zip(a["appointments"], b["appointments"]):
            for k in ("status", "arrived_at", "done_at", "risk"):
                self.assertEqual(x[k], y[k], (k, x, y))
            if x["p_late"] is not None:
                self.assertAlmostEqual(x["p_late"], y["p_late"], delta=0.04)
        # The journeys and visits taught the learning the same things.
        counts = [self.srv.sql("SELECT kind, count(*) FROM observations WHERE visitor_id = ? "
                               "GROUP BY kind ORDER BY kind", (vid,))
                  for vid in (live_v["id"], batch_v["id"])]
        self.assertEqual(counts[0], counts[1])
        self.assertEqual(dict(counts[0]).get("duration"), 2)


class TestAdminChanges(TrackingCase):
    """A shift cut short or a visitor deactivated takes the same path as
    "unavailable": the promises they leave are at_risk at once, with why."""

    n_visitors = 2

    def test_a_shift_cut_short_and_a_deactivation(self):
        v, w = self.org_visitors
        early = self.appointment(v, "1 Mill Road", "09:00", "10:00", 1)
        late = self.appointment(v, "3 Mill Road", "16:00", "17:00", 2)
        theirs = self.appointment(w, "7 Church Lane", "11:00", "12:00", 1)
        self.to(DAY, "08:00")
        shifts = [{"start": "2026-03-02T08:00", "duration_minutes": 360, "rrule": ob.WEEKDAYS}]
        r = self.srv.request("PATCH", "/api/v1/visitors/%d" % v["id"], {"shifts": shifts},
                             token="admin")
        self.assertEqual(r.status, 409, r.raw)  # not without confirm: nothing changed
        self.assertEqual(self.risk_row(late)[0], "ok")
        r = self.srv.request("PATCH", "/api/v1/visitors/%d" % v["id"],
                             {"shifts": shifts, "confirm_affected": True}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        s = self.stop(v, late)
        self.assertEqual((s["risk"], s["forced"]), ("at_risk", True), s)
        self.assertIn("shift", s["risk_reason"])
        self.assertEqual(self.stop(v, early)["risk"], "ok")
        kinds = [e["kind"] for e in appt_events(self.srv, self.appointment_id(late))]
        self.assertEqual(kinds[-3:], ["visitor_change", "risk", "at_risk"])
        r = self.srv.request("POST", "/api/v1/visitors/%d/deactivate" % w["id"],
                             {"confirm_affected": True}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        s = self.stop(w, theirs)
        self.assertEqual(s["risk"], "at_risk", s)
        self.assertIn("deactivated", s["risk_reason"])


class TestLearnedPace(TrackingCase):
    """A visitor learned to be 20% slower than a colleague is offered fewer
    windows for the same day: what was learned from visits feeds the offer.
    Visitor A works Mondays, B Tuesdays, both 09:00-13:00 with the same two
    visits already booked; their slots are compared before and after each
    has done 22 visits (A's around 54 minutes, B's around 45)."""

    server_env = dict(TrackingCase.server_env, ONTHEDOT_TRACKING_OFFLINE_HOURS="72")
    n_visitors = 2

    @classmethod
    def default_visitors(cls):
        return [dict(name="Visitor %s" % day, role_title="planning officer",
                     phone="01632 96%04d" % (400 + i),
                     base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}, skills=["planning"],
                     shifts=[{"start": "2026-03-0%dT09:00" % (2 + i), "duration_minutes": 240,
                              "rrule": "FREQ=WEEKLY;BYDAY=%s" % day}])
                for i, day in enumerate(("MO", "TU"))]

    def offered(self, date):
        addr = self.places["3 Kingsway"][0]
        return len(self.windows(addr, self.type_id, date).get(date, []))

    def teach(self, who, date, median_min):
        """22 visits (11 on date, 11 the day before) of about median_min."""
        v = self.org_visitors[who]
        prev = (ob.dt.date.fromisoformat(date) - ob.dt.timedelta(days=1)).isoformat()
        evs = []
        k = 0
        for day in (prev, date):
            for i in range(11):
                start = secs(ob.local_midnight(day)) + i * 110 * 60 + 60
                hhmm = ob.dt.datetime.fromtimestamp(start, ob.UTC).strftime("%H:%M")
                end = ob.dt.datetime.fromtimestamp(start + 3600, ob.UTC).strftime("%H:%M")
                ref = self.appointment(v, "1 Kingsway", hhmm, end if end > hhmm else "23:59",
                                       100 + i, date=day)
                z = phi_inv((k + 0.5) / 22)
                k += 1
                dur = median_min * 60 * math.exp(0.3 * z)
                evs.append(self.ev("arrived", start, ref))
                evs.append(self.ev("done", start + int(dur), ref))
        r = self.events(who, *evs)
        self.assertEqual(r.body["applied"], 44)

    # Days already partly booked, the same for both visitors (A's Monday,
    # B's Tuesday of the same week).
    WEEKS = [("2026-03-09", "2026-03-10", [("12 High Street", "09:30", "10:30"),
                                           ("2 Orchard Way", "11:00", "12:00")]),
             ("2026-03-16", "2026-03-17", [("1 Mill Road", "09:00", "10:00"),
                                           ("12 High Street", "10:30", "11:30")]),
             ("2026-03-23", "2026-03-24", [("7 Church Lane", "10:00", "11:00"),
                                           ("Meadow Cottage", "11:30", "12:30")])]

    def offered_all(self):
        return [(self.offered(mon), self.offered(tue)) for mon, tue, _ in self.WEEKS]

    def test_a_slower_visitor_is_offered_fewer_windows(self):
        for mon, tue, visits in self.WEEKS:
            for v, date in zip(self.org_visitors, (mon, tue)):
                for i, (line1, start, end) in enumerate(visits):
                    self.appointment(v, line1, start, end, i + 1, date=date)
        before = self.offered_all()
        for a, b in before:
            self.assertEqual(a, b)
        self.clock(to=iso(secs(local("2026-03-04", "00:30"))))
        self.teach(0, "2026-03-03", MEDIAN_MIN * 1.2)
        self.teach(1, "2026-03-03", MEDIAN_MIN)
        rows = dict(((r[0], r[1]), r[2]) for r in self.srv.sql(
            "SELECT visitor_id, n, median_s FROM learned_durations WHERE visitor_id > 0"))
        a, b = (self.org_visitors[i]["id"] for i in (0, 1))
        self.assertAlmostEqual(rows[(a, 22)] / 60, MEDIAN_MIN * 1.2, delta=0.5)
        self.assertAlmostEqual(rows[(b, 22)] / 60, MEDIAN_MIN, delta=0.5)
        self.clock(seconds=10)  # the planner notices the new models
        after = self.offered_all()
        total_a = sum(x for x, _ in after)
        total_b = sum(y for _, y in after)
        self.assertLess(total_a, total_b, (before, after))
        self.assertLess(total_a, sum(x for x, _ in before), (before, after))
        for (a0, _), (a1, b1) in zip(before, after):
            self.assertLessEqual(a1, a0)
            self.assertLessEqual(a1, b1)


if __name__ == "__main__":
    unittest.main()
