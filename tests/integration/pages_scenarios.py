"""What the browser journeys need prepared on the server (test_pages.py calls
scenario_<journey>() before running tests/browser/<journey>.js and hands its
answer over as OTD_SCENARIO).

The Wrenfield organisation of otd_booking (four planning officers, one gas
engineer, Wednesday 4 March a bank holiday), on the virtual clock from Monday
2 March 09:00. The journeys run in name order (book, manage, public, smoke)
against one server, so the clock only moves forward:

  book     Monday: nothing to prepare but names and numbers.
  manage   for each browser profile: a planning inspection next Monday to
           move and cancel; one on Tuesday that its planning officer
           travels to, reaches and finishes (feedback); a boiler repair on
           Thursday whose engineer (the only one) calls in sick at 08:10, so
           the customer is sent an apology with windows held on Friday; and
           a planning inspection on Thursday 09:00 whose officer sets off
           while the page watches (live status). The clock is left at
           Thursday 08:10.
  public   three more finished visits with feedback through the link
           (published, redacted, withheld by the dispatcher) and one
           guarantee case paid by finance.
"""

import otd_booking as ob

PLANNING = "planning-inspection"
BOILER = "boiler-repair"
PROFILES = ("mobile", "desktop", "nojs")


class PageScenarios:
    """A mixin for otd_booking.BookingTestCase subclasses."""

    users = ("admin", "dispatcher", "finance")
    visitor_sessions = None

    # -- helpers --

    def at(self, date, hhmm, minutes=0):
        return self.clock(to=ob.iso(ob.secs(ob.local(date, hhmm)) + 60 * minutes))

    def visitor_logins(self):
        """A user for every visitor (login v<id>), made once."""
        cls = type(self)
        if cls.visitor_sessions is None:
            cls.visitor_sessions = {}
            for v in cls.org_visitors:
                self.srv.add_user("visitor", "v%d" % v["id"], v["name"], visitor_id=v["id"])
        return cls.visitor_sessions

    def session_of(self, visitor_id):
        """A fresh session of the visitor (a clock jump ends an idle one)."""
        s = self.srv.login("v%d" % visitor_id)
        type(self).visitor_sessions[visitor_id] = s
        return s

    def book_on(self, type_code, line1, date, pick, name, phone, email=None):
        """Books window number pick (negative: from the end) of date; returns
        (view, token, appointment id, visitor id)."""
        a = self.addr[line1]["id"]
        vt = self.types[type_code]["id"]
        ws = self.windows(a, vt, date)[date]
        v = self.hold_and_book(a, vt, ws[pick]["start"], name=name, phone=phone, email=email)
        aid = self.appointment_id(v["reference"])
        vid = self.srv.sql("SELECT visitor_id FROM appointments WHERE id = ?", (aid,))[0][0]
        return v, self.token_of(v), aid, vid

    def tap(self, visitor_id, kind, reference, at):
        """One tap of the visitor's phone at at (the clock moved there first)."""
        self.clock(to=ob.iso(at))
        s = self.session_of(visitor_id)
        type(self).seq = getattr(type(self), "seq", 0) + 1
        body = {"client_event_id": "scn%d" % type(self).seq, "type": kind, "at": ob.iso(at),
                "appointment": reference}
        r = self.srv.request("POST", "/api/v1/visitor/events", body, session=s)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["applied"], 1, r.raw)

    def finish_visit(self, visitor_id, view):
        """The visitor travels to, reaches and finishes the visit inside its window."""
        start = ob.secs(ob.utc(view["window"]["start"]))
        ref = view["reference"]
        self.tap(visitor_id, "start_travel", ref, start - 15 * 60)
        self.tap(visitor_id, "arrived", ref, start + 5 * 60)
        self.tap(visitor_id, "done", ref, start + 45 * 60)

    def doorstep_code(self, visitor_id, date, reference):
        r = self.srv.request("GET", "/api/v1/visitors/%d/day?date=%s" % (visitor_id, date),
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        return [s for s in r.body["appointments"] if s["reference"] == reference][0][
            "doorstep_code"]

    # -- the journeys' scenarios --

    def scenario_book(self):
        a = self.addr["1 Mill Road"]
        return {"search": "1 mill", "address_label": "1 Mill Road, Wrenfield, ZZ1 1AA",
                "address_id": a["id"], "visit_type": "Planning inspection",
                "visit_type_id": self.types[PLANNING]["id"],
                "phones": {"mobile": "07700 900501", "desktop": "07700 900502",
                           "nojs": "07700 900503", "keyboard": "07700 900504"}}

    def scenario_manage(self):
        self.visitor_logins()
        out = {"profiles": {}}
        lines = {"mobile": ("5 Willow Drive", "7 Church Lane", "12 High Street", "2 Orchard Way"),
                 "desktop": ("9 Church Lane", "14 High Street", "21 Station Road",
                             "4 Orchard Way"),
                 "nojs": ("1 Kingsway", "3 Kingsway", "23 Station Road", "Meadow Cottage")}
        feedback = []
        for i, profile in enumerate(PROFILES):
            move_l, fb_l, ap_l, live_l = lines[profile]
            phone = "07700 9006%02d" % i
            move, move_t, _, move_vid = self.book_on(PLANNING, move_l, "2026-03-09", 2 + 2 * i,
                                                     "Manage %s" % profile, phone)
            fb, fb_t, _, fb_vid = self.book_on(PLANNING, fb_l, "2026-03-03", 2 + 3 * i,
                                               "Feedback %s" % profile, "07700 9006%02d" % (10 + i))
            ap, ap_t, _, _ = self.book_on(BOILER, ap_l, "2026-03-05", 1 + 2 * i,
                                          "Apology %s" % profile, "07700 9006%02d" % (20 + i))
            p = {"move": move_t, "move_reference": move["reference"], "move_phone": phone,
                 "move_visitor": move["visitor"]["first_name"],
                 "move_code": self.doorstep_code(move_vid, "2026-03-09", move["reference"]),
                 "feedback": fb_t, "apology": ap_t}
            if profile != "nojs":
                live, live_t, _, live_vid = self.book_on(
                    PLANNING, live_l, "2026-03-05", i, "Live %s" % profile,
                    "07700 9006%02d" % (30 + i))
                p.update({"live": live_t, "live_reference": live["reference"],
                          "live_visitor": live_vid})
            out["profiles"][profile] = p
            feedback.append((fb_vid, fb))
        # Tuesday: the feedback visits are made, in time order.
        feedback.sort(key=lambda x: x[1]["window"]["start"])
        for vid, view in feedback:
            self.finish_visit(vid, view)
        # Thursday 08:10: the gas engineer calls in sick; every boiler repair
        # of the day gets an apology with windows held on Friday.
        self.at("2026-03-05", "08:10")
        gas = [v for v in self.org_visitors if "gas" in v["skills"]][0]
        r = self.srv.request("POST", "/api/v1/visitors/%d/unavailable" % gas["id"],
                             {"reason": "sick"}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        for profile in PROFILES:
            aid = self.srv.sql("SELECT a.id FROM appointments a JOIN customers c ON c.id = "
                               "a.customer_id WHERE c.name = ?", ("Apology %s" % profile,))[0][0]
            n = self.srv.sql("SELECT count(*) FROM holds WHERE for_appointment = ? AND "
                             "purpose = 'apology_offer'", (aid,))[0][0]
            self.assertGreaterEqual(n, 1, "windows held for %s" % profile)
        now = ob.iso(ob.secs(ob.local("2026-03-05", "08:10")))
        for profile in ("mobile", "desktop"):
            p = out["profiles"][profile]
            s = self.session_of(p.pop("live_visitor"))
            p["visitor"] = {"cookie": s.cookie, "csrf": s.csrf, "at": now}
        return out

    def scenario_public(self):
        """Three finished visits on Friday with feedback given through the link,
        moderated three ways, and one guarantee case paid."""
        self.visitor_logins()
        said = {"published": "Arrived on time and explained everything.",
                "redacted": "Very helpful, thanks to [name removed].",
                "withheld_text": "Ring me on 07700 900999 about my neighbour"}
        given = []
        for i, (line1, comment, rating) in enumerate((
                ("3 Mill Road", said["published"], 5),
                ("Flat 2, 5 Mill Road", "Very helpful, thanks to Kevin Smith.", 4),
                ("The Old Forge", said["withheld_text"], 1))):
            v, t, aid, vid = self.book_on(PLANNING, line1, "2026-03-06", 2 + 3 * i,
                                          "Public %d" % i, "07700 9007%02d" % i)
            given.append((vid, v, t, comment, rating))
        given.sort(key=lambda x: x[1]["window"]["start"])
        ids = []
        for vid, v, t, comment, rating in given:
            self.finish_visit(vid, v)
            r = self.srv.request("POST", "/api/v1/a/%s/feedback" % t,
                                 {"rating": rating, "comment": comment, "publish_consent": True})
            self.assertIn(r.status, (200, 201), r.raw)
            ids.append((r.body.get("id") or self.srv.sql(
                "SELECT f.id FROM feedback f JOIN appointments a ON a.id = f.appointment_id "
                "WHERE a.reference = ?", (v["reference"],))[0][0], comment))
        for fid, comment in ids:
            if comment == said["published"]:
                body = {"action": "publish"}
            elif comment.startswith("Very helpful"):
                body = {"action": "redact", "comment": said["redacted"]}
            else:
                body = {"action": "withhold", "reason": "a phone number and a neighbour"}
            r = self.srv.request("POST", "/api/v1/feedback/%d/moderate" % fid, body,
                                 token="admin")
            self.assertEqual(r.status, 200, r.raw)
        # A broken promise, paid: £40.00.
        aid = self.appointment_id(given[0][1]["reference"])
        now = ob.secs(ob.utc(self.clock(seconds=0)))
        self.srv.sql("INSERT INTO guarantee_cases(appointment_id, promise_version, reason, "
                     "rule_set, rule_version, amount_minor, currency, breached_at, deadline_at, "
                     "state, notice_s, created_at) VALUES (?, 1, 'window_missed', 'gb-energy', "
                     "'test', 4000, 'GBP', ?, ?, 'open', -1, ?)", (aid, now - 60, now + 86400,
                                                                   now - 60))
        case = self.srv.sql("SELECT max(id) FROM guarantee_cases")[0][0]
        r = self.srv.request("POST", "/api/v1/guarantees/%d/pay" % case, {"paid_minor": 4000},
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        # A minute passes: the figures count what happened before now.
        self.clock(seconds=60)
        said.update({"withheld": 1, "paid": "£40.00"})
        return said
