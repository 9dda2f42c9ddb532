"""What the visitor page's journeys (tests/browser/staff/visitor*.js) need on the
server, and the control channel's operations (journeys.run_journey). Used by
test_visitor_page.py.

The organisation: Wrenfield (otd_booking) with three visitors whose skills do
not overlap, so every booking's visitor is known in advance:

  Priya Shah     planning   08:00-17:00   the visitor journey's day (Monday)
  Łukasz Nowak   gas        07:30-16:30   "another visitor": a boiler repair on
                                          Monday that Priya must never see
  Ruth Okafor    survey     08:00-17:00   the offline journey (Tuesday)

The virtual clock starts on Monday 2 March 2026 at 09:00 (London = UTC then);
the journeys move it forward only: the visitor journey through Monday, the
offline journey on Tuesday.
"""

import json

import otd
import otd_booking as ob
import pages_scenarios

PLANNING = "planning-inspection"
BOILER = "boiler-repair"
SURVEY = "home-survey"
MONDAY = "2026-03-02"
TUESDAY = "2026-03-03"

VISITORS = [
    dict(name="Priya Shah", role_title="planning officer", phone="01632 960100",
         email="priya@wrenfield.example", base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]},
         skills=["planning"], shifts=[{"start": "2026-03-02T08:00", "duration_minutes": 540,
                                       "rrule": ob.WEEKDAYS}]),
    dict(name="Łukasz Nowak", role_title="gas engineer", phone="01632 960200",
         base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}, skills=["gas"],
         shifts=[{"start": "2026-03-02T07:30", "duration_minutes": 540, "rrule": ob.WEEKDAYS}]),
    dict(name="Ruth Okafor", role_title="surveyor", phone="01632 960300",
         base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}, skills=["survey"],
         shifts=[{"start": "2026-03-02T08:00", "duration_minutes": 540, "rrule": ob.WEEKDAYS}]),
]

VISIT_TYPES = [
    {"code": PLANNING, "name": "Planning inspection", "skill": "planning",
     "duration_median_minutes": 45, "duration_spread": 0.3, "window_minutes": 60},
    {"code": BOILER, "name": "Boiler repair", "skill": "gas",
     "duration_median_minutes": 75, "duration_spread": 0.4, "window_minutes": 120},
    {"code": SURVEY, "name": "Home survey", "skill": "survey",
     "duration_median_minutes": 30, "duration_spread": 0.3, "window_minutes": 60},
]


def minutes_from(t, minutes):
    """RFC 3339 text of an RFC 3339 instant plus minutes."""
    return ob.iso(ob.secs(ob.utc(t)) + 60 * minutes)


class VisitorScenarios(pages_scenarios.PageScenarios):
    """A mixin for otd_booking.BookingTestCase subclasses (with VISITORS and
    VISIT_TYPES)."""

    monday_cache = None
    saved_now = None
    stopped = 0

    # -- who is who --

    def visitor_named(self, name):
        return [v for v in self.org_visitors if v["name"] == name][0]

    def login_of(self, visitor):
        self.visitor_logins()
        return "v%d" % visitor["id"]

    def place(self, line1):
        a = self.addr[line1]
        return {"lat": a["lat"], "lon": a["lon"]}

    def visit(self, type_code, line1, date, pick, name, phone):
        view, token, aid, vid = self.book_on(type_code, line1, date, pick, name, phone)
        return {"reference": view["reference"], "token": token, "appointment_id": aid,
                "visitor_id": vid, "window_start": view["window"]["start"],
                "window_end": view["window"]["end"], "customer": name, "line1": line1,
                "place": self.place(line1),
                "code": self.doorstep_code(vid, date, view["reference"])}

    # -- Monday: Priya's day, and Łukasz's visit she must not see --

    def monday(self):
        """Books Monday once: two planning inspections (Priya) and a boiler
        repair (Łukasz). Returns what the journey and the API checks need."""
        cls = type(self)
        if cls.monday_cache is not None:
            return cls.monday_cache
        priya = self.visitor_named("Priya Shah")
        lukasz = self.visitor_named("Łukasz Nowak")
        first = self.visit(PLANNING, "7 Church Lane", MONDAY, 1, "Amelia Hughes", "07700 900801")
        second = self.visit(PLANNING, "2 Orchard Way", MONDAY, -3, "Bernard O'Neill",
                            "07700 900802")
        other = self.visit(BOILER, "21 Station Road", MONDAY, 0, "Cordelia Pryce",
                           "07700 900803")
        for v in (first, second):
            self.assertEqual(v["visitor_id"], priya["id"], v)
        self.assertEqual(other["visitor_id"], lukasz["id"], other)
        self.assertLess(first["window_end"], second["window_start"])
        cls.monday_cache = {
            "login": self.login_of(priya), "password": otd.PASSWORD,
            "visitor_id": priya["id"], "visitor_name": priya["name"],
            "other": {"visitor_id": lukasz["id"], "login": self.login_of(lukasz),
                      "reference": other["reference"], "customer": other["customer"],
                      "line1": other["line1"]},
            "visits": [first, second],
            "base": {"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]},
        }
        return cls.monday_cache

    def scenario_visitor(self):
        m = dict(self.monday())
        first, second = m["visits"]
        w1 = first["window_start"]
        # When each tap happens (the journey moves the clock there first).
        m["times"] = {
            "open": self.clock(seconds=0),
            "travel1": minutes_from(w1, -20),
            "move1": minutes_from(w1, -14),
            "move2": minutes_from(w1, -8),
            "arrive1": minutes_from(w1, 5),
            "done1": minutes_from(w1, 40),
            "late": minutes_from(w1, 42),
            "break": minutes_from(w1, 45),
            "break_end": minutes_from(w1, 75),
            # (travel to the visit a dispatcher adds: 10 minutes before its window)
            # Priya's shift ends at 17:00 (London = UTC in March): sharing stops
            "shift_end": ob.iso(ob.local(MONDAY, "17:01")),
            "unavailable": ob.iso(ob.local(MONDAY, "17:02")),
        }
        for k in ("move1", "move2", "arrive1"):
            self.assertLess(m["times"]["travel1"], m["times"][k])
        self.assertLess(m["times"]["break_end"], second["window_start"])
        # Positions on the way to the first visit: 40% and 80% of the way.
        b, p = m["base"], first["place"]
        m["route1"] = [{"lat": b["lat"] + (p["lat"] - b["lat"]) * f,
                        "lon": b["lon"] + (p["lon"] - b["lon"]) * f} for f in (0.4, 0.8)]
        return m

    # -- Tuesday: Ruth's visits, for the offline journey --

    def scenario_visitor_offline(self):
        self.at(TUESDAY, "08:30")
        ruth = self.visitor_named("Ruth Okafor")
        first = self.visit(SURVEY, "12 High Street", TUESDAY, 0, "Delyth Evans", "07700 900811")
        second = self.visit(SURVEY, "4 Orchard Way", TUESDAY, -2, "Ebrima Sowe", "07700 900812")
        for v in (first, second):
            self.assertEqual(v["visitor_id"], ruth["id"], v)
        # The day starts a little before the first window.
        now = self.clock(to=minutes_from(first["window_start"], -15))
        return {"login": self.login_of(ruth), "password": otd.PASSWORD,
                "visitor_id": ruth["id"], "visits": [first, second], "now": now,
                "base": {"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}}

    # -- the control channel --

    def control(self, req):
        """What a journey asks through j.control(): stop/start the server,
        read or change the database, act as the dispatcher."""
        op = req.get("op")
        if op == "stop":
            return self.control_stop()
        if op == "start":
            return self.control_start(req.get("minutes", 10))
        if op == "events":
            rows = self.srv.sql(
                "SELECT e.kind, e.client_event_id, e.claimed_at, a.reference FROM visitor_events e "
                "LEFT JOIN appointments a ON a.id = e.appointment_id WHERE e.visitor_id = ? "
                "ORDER BY e.id", (req["visitor_id"],))
            return {"events": [{"kind": r[0], "client_event_id": r[1], "at": ob.iso(r[2]),
                                "reference": r[3]} for r in rows]}
        if op == "positions":
            rows = self.srv.sql("SELECT at, lat, lon FROM visitor_positions WHERE visitor_id = ? "
                                "ORDER BY at, id", (req["visitor_id"],))
            return {"positions": [{"at": ob.iso(r[0]), "lat": r[1], "lon": r[2]} for r in rows]}
        if op == "expire":
            # the session ends (as at the end of a shift): revoked in the database
            n = self.srv.sql("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                             "WHERE u.login = ? AND s.revoked_at IS NULL", (req["login"],))[0][0]
            now = ob.secs(ob.utc(self.clock(seconds=0)))
            self.srv.sql("UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND "
                         "user_id = (SELECT id FROM users WHERE login = ?)", (now, req["login"]))
            return {"revoked": n}
        if op == "cancel":
            r = self.srv.request("POST", "/api/v1/appointments/%s/cancel" % req["reference"],
                                 {"reason": req.get("reason", "The customer called to cancel.")},
                                 token="admin")
            self.assertEqual(r.status, 200, r.raw)
            return {"status": r.body.get("status")}
        if op == "book":
            return self.visit(req["type"], req["line1"], req["date"], req.get("pick", -1),
                              req.get("name", "Farida Haddad"), req.get("phone", "07700 900809"))
        if op == "reschedule":
            return self.control_reschedule(req["reference"], req["line1"], req["type"],
                                           req["date"], req.get("pick", -1))
        raise AssertionError("unknown control op %r" % (req,))

    def control_stop(self):
        """Stops the server (SIGTERM, a clean exit checked) and keeps its
        files; the virtual clock's time is saved for the restart."""
        cls = type(self)
        cls.saved_now = self.clock(seconds=0)
        srv = self.srv
        srv.terminate()
        code = srv.wait_exit()
        text = srv.stderr_text()
        cls.stopped += 1
        with open("%s.%d" % (srv.stderr_path, cls.stopped), "w", encoding="utf-8") as f:
            f.write(text)
        srv.assert_no_sanitizer_report("onthedot serve (stopped by a journey)", text)
        self.assertEqual(code, 0, text[-4000:])
        srv.check_log(text)
        srv.check_database()
        return {"stopped": True, "now": cls.saved_now}

    def control_start(self, minutes):
        """Starts the server again on the same port and database; the virtual
        clock (which restarts at its start) is put back where it was plus
        minutes."""
        srv = self.srv
        srv.listen_port = srv.port
        srv.start(prepare=False)
        now = self.clock(to=minutes_from(type(self).saved_now, minutes))
        return {"started": True, "port": srv.port, "now": now}

    def control_reschedule(self, reference, line1, type_code, date, pick):
        a = self.addr[line1]["id"]
        vt = self.types[type_code]["id"]
        ws = self.windows(a, vt, date)[date]
        body = {"address": a, "visit_type": vt, "window_start": ws[pick]["start"],
                "appointment": reference}
        h = self.srv.request("POST", "/api/v1/holds", body, token="admin")
        self.assertEqual(h.status, 201, h.raw)
        self.srv.note_secret(h.body["hold"])
        r = self.srv.request("POST", "/api/v1/appointments/%s/reschedule" % reference,
                             {"hold": h.body["hold"], "reason": "The customer asked for later."},
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        return {"window": r.body.get("window")}

    # -- reading the database --

    def visitor_events(self, visitor_id):
        return self.control({"op": "events", "visitor_id": visitor_id})["events"]

    def positions(self, visitor_id):
        return self.control({"op": "positions", "visitor_id": visitor_id})["positions"]


def dumps(x):
    return json.dumps(x, indent=1, ensure_ascii=False)
