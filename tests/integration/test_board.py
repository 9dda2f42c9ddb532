"""The staff pages' server side (issue 8), against the real binary: signing in
on the /login form (303 on to the role's page or a local next, never another
host; a wrong password re-renders the form), /visitor and /dispatch guarded
(303 to /login without a session, 403 for another role), signing out with the
form's CSRF token; the dispatch board of a day (every visitor working, their
shifts, breaks, visits with planned arrival and travel, the head figures, the
at-risk list with the notice clock and the money at stake); the visitor's day
with what the phone page shows (customer, address, access notes, plan, the
server's now), and another visitor's day refused; the visitors who could take
a visit instead (skill, the window kept, least travel first) and a
reassignment to one of them; an appointment's message log; the dispatcher's
inbox and closing its items."""

import re
import urllib.parse

import otd
import otd_booking as ob

VT = "planning-inspection"
DATE = "2026-03-03"  # a Tuesday


def form(fields):
    return urllib.parse.urlencode(fields).encode()


class TestBoard(ob.BookingTestCase):

    customers = 0
    booked = None

    @classmethod
    def setUpOrganisation(cls):
        for v in cls.org_visitors:
            cls.srv.add_user("visitor", "v%d" % v["id"], v["name"], visitor_id=v["id"])

    def setUp(self):
        self.disp = self.srv.login("disp")

    def book_at(self, date, line1, index):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        type(self).customers += 1
        n = type(self).customers
        return self.hold_and_book(a, vt, ws[index]["start"], name="Customer %d" % n,
                                  phone="07700 900%03d" % n, email="c%d@example.org" % n,
                                  access_notes="Side gate %d" % n)

    def day_booked(self):
        """Three visits on DATE, booked once for the class."""
        if type(self).booked is None:
            type(self).booked = [self.book_at(DATE, line1, i) for line1, i in
                                 (("1 Mill Road", 1), ("7 Church Lane", 3),
                                  ("12 High Street", 5))]
        return type(self).booked

    def visitor_of(self, reference):
        return self.srv.sql("SELECT visitor_id FROM appointments WHERE reference = ?",
                            (reference,))[0][0]

    def page(self, method, path, fields=None, cookie=None, check=True):
        headers = {"Cookie": "otd_session=" + cookie} if cookie else {}
        return self.srv.request(method, path, raw=form(fields) if fields is not None else None,
                                content_type="application/x-www-form-urlencoded",
                                headers=headers, check=check)

    @staticmethod
    def cookie_of(r):
        for c in r.headers.get_all("Set-Cookie") or []:
            m = re.match(r"otd_session=([^;]*)", c)
            if m:
                return m.group(1)
        return None

    # -- signing in and the guarded pages --

    def test_a_pages_without_a_session_go_to_sign_in(self):
        for page in ("/visitor", "/dispatch"):
            r = self.page("GET", page)
            self.assertEqual(r.status, 303, page)
            self.assertEqual(r.headers["Location"], "/login?next=" + page)
        r = self.page("GET", "/visitor", cookie="not-a-session")
        self.assertEqual(r.status, 303)
        r = self.page("GET", "/login?next=/dispatch")
        self.assertEqual(r.status, 200)
        self.assertIn('name="next" value="/dispatch"', r.raw.decode())
        self.assertIn('autocomplete="current-password"', r.raw.decode())

    def test_b_sign_in_on_the_form(self):
        v = self.org_visitors[0]
        r = self.page("POST", "/login", {"login": "v%d" % v["id"], "password": "wrong one!"})
        self.assertEqual(r.status, 401)
        self.assertIn("The login or the password is wrong.", r.raw.decode())
        self.assertIsNone(self.cookie_of(r))
        r = self.page("POST", "/login", {"login": "", "password": "x"})
        self.assertEqual(r.status, 400)
        self.assertIn("Enter your login.", r.raw.decode())

        # A visitor goes on to their page; a foreign next is ignored.
        r = self.page("POST", "/login", {"login": "V%d" % v["id"], "password": otd.PASSWORD,
                                          "next": "//evil.example/x"})
        self.assertEqual(r.status, 303, r.raw)
        self.assertEqual(r.headers["Location"], "/visitor")
        cookie = self.cookie_of(r)
        self.assertTrue(cookie)
        r = self.page("GET", "/visitor", cookie=cookie)
        self.assertEqual(r.status, 200)
        html = r.raw.decode()
        self.assertRegex(html, r'data-csrf="[A-Za-z0-9_-]{43}"')
        self.assertIn('data-visitor-id="%d"' % v["id"], html)
        self.assertIn('src="/static/visitor.js"', html)
        self.assertEqual(self.page("GET", "/dispatch", cookie=cookie).status, 403)

        # Signing out needs the form's token.
        csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
        self.assertEqual(self.page("POST", "/logout", {"csrf": "x" * 43}, cookie=cookie).status,
                         403)
        r = self.page("POST", "/logout", {"csrf": csrf}, cookie=cookie)
        self.assertEqual(r.status, 303)
        self.assertEqual(r.headers["Location"], "/login")
        self.assertEqual(self.page("GET", "/visitor", cookie=cookie).status, 303)

        # A dispatcher follows a local next.
        r = self.page("POST", "/login", {"login": "disp", "password": otd.PASSWORD,
                                          "next": "/dispatch"})
        self.assertEqual(r.status, 303)
        self.assertEqual(r.headers["Location"], "/dispatch")
        cookie = self.cookie_of(r)
        self.assertEqual(self.page("GET", "/dispatch", cookie=cookie).status, 200)
        self.assertEqual(self.page("GET", "/visitor", cookie=cookie).status, 403)

    def test_c_service_worker_and_assets(self):
        r = self.srv.request("GET", "/visitor-sw.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Cache-Control"], "no-cache")
        for name in ("visitor.js", "visitor.css", "dispatch.js", "dispatch.css"):
            self.assertEqual(self.srv.request("GET", "/static/" + name).status, 200, name)

    # -- the board --

    def test_d_the_board(self):
        booked = self.day_booked()
        refs = {b["reference"] for b in booked}
        r = self.srv.request("GET", "/api/v1/dispatch/board?date=" + DATE, session=self.disp)
        self.assertEqual(r.status, 200, r.raw)
        b = r.body
        self.assertEqual(b["date"], DATE)
        self.assertEqual(b["now"], "2026-03-02T09:00:00Z")
        self.assertEqual(b["figures"]["booked"], 3)
        self.assertEqual(b["figures"]["kept"], 0)
        self.assertEqual(b["at_risk"], [])
        names = [v["name"] for v in b["visitors"]]
        self.assertEqual(names, sorted(names))
        self.assertEqual(len(b["visitors"]), len(self.org_visitors))  # all work on Tuesdays
        seen = set()
        for v in b["visitors"]:
            self.assertEqual(len(v["shifts"]), 1, v)
            start, end = (ob.utc(v["shifts"][0][k]) for k in ("start", "end"))
            for s in v["stops"]:
                seen.add(s["reference"])
                self.assertEqual(self.visitor_of(s["reference"]), v["id"])
                planned = ob.utc(s["planned_arrival"])
                self.assertTrue(start <= planned < ob.utc(s["window_end"]), s)
                self.assertGreaterEqual(s["travel_minutes"], 0)
                self.assertRegex(s["customer_name"], r"^Customer \d+$")
                self.assertEqual(s["risk"], "ok")
                self.assertEqual(s["promise_version"], 1)
            if v["stops"]:
                self.assertGreater(v["travel_minutes"], 0)
            for br in v["breaks"]:
                self.assertTrue(start <= ob.utc(br["start"]) < ob.utc(br["end"]) <= end, br)
        self.assertEqual(seen, refs)
        # A bad date is named.
        r = self.srv.request("GET", "/api/v1/dispatch/board?date=2026-13-01", session=self.disp)
        self.assertError(r, 400, "bad_date", "date")

    def test_e_the_visitors_day_shows_what_the_page_needs(self):
        booked = self.day_booked()
        ref = booked[0]["reference"]
        vid = self.visitor_of(ref)
        me = self.srv.login("v%d" % vid)
        r = self.srv.request("GET", "/api/v1/visitor/day?date=" + DATE, session=me)
        self.assertEqual(r.status, 200, r.raw)
        d = r.body
        self.assertEqual(d["now"], "2026-03-02T09:00:00Z")
        self.assertEqual(d["visitor_name"],
                         [v["name"] for v in self.org_visitors if v["id"] == vid][0])
        self.assertEqual(len(d["shifts"]), 1)
        mine = {a["reference"]: a for a in d["appointments"]}
        a = mine[ref]
        self.assertEqual(a["address"]["line1"], "1 Mill Road")
        self.assertEqual(a["visit_type"], "Planning inspection")
        self.assertRegex(a["customer_name"], r"^Customer \d+$")
        self.assertRegex(a["access_notes"], r"^Side gate \d+$")
        self.assertTrue(a["phone"].startswith("+44"))
        self.assertRegex(a["doorstep_code"], r"^[0-9]{4}$")
        self.assertIsNotNone(a["planned_arrival"])
        # Only their own visits; another visitor's day is not theirs to see.
        for other in booked[1:]:
            if self.visitor_of(other["reference"]) != vid:
                self.assertNotIn(other["reference"], mine)
        other = [v["id"] for v in self.org_visitors if v["id"] != vid][0]
        r = self.srv.request("GET", "/api/v1/visitors/%d/day?date=%s" % (other, DATE), session=me)
        self.assertEqual(r.status, 403)
        r = self.srv.request("GET", "/api/v1/dispatch/board?date=" + DATE, session=me)
        self.assertEqual(r.status, 403)

    # -- reassignment options, the message log --

    def test_f_who_could_take_it_instead(self):
        booked = self.day_booked()
        ref = booked[1]["reference"]
        own = self.visitor_of(ref)
        r = self.srv.request("GET", "/api/v1/appointments/%s/reassign-options" % ref,
                             session=self.disp)
        self.assertEqual(r.status, 200, r.raw)
        opts = r.body["options"]
        self.assertGreaterEqual(len(opts), 1)
        gas = [v["id"] for v in self.org_visitors if v["skills"] == ["gas"]]
        for o in opts:
            self.assertNotEqual(o["visitor_id"], own)
            self.assertNotIn(o["visitor_id"], gas)  # lacks the skill
            # On time: it may come early and wait, never after the window.
            self.assertLess(ob.utc(o["expected_arrival"]), ob.utc(booked[1]["window"]["end"]), o)
        travel = [o["travel_added_minutes"] for o in opts]
        self.assertEqual(travel, sorted(travel))
        # A reassignment to the first one goes through; the customer is told.
        to = opts[0]["visitor_id"]
        r = self.srv.request("POST", "/api/v1/appointments/%s/reassign" % ref,
                             {"visitor_id": to, "reason": "balancing"}, session=self.disp)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(self.visitor_of(ref), to)
        r = self.srv.request("GET", "/api/v1/appointments/%s/messages" % ref, session=self.disp)
        self.assertEqual(r.status, 200, r.raw)
        templates = [m["template"] for m in r.body["items"]]
        self.assertIn("booking_confirmation", templates)
        self.assertIn("visitor_changed", templates)
        self.assertLess(templates.index("booking_confirmation"), templates.index("visitor_changed"))
        for m in r.body["items"]:
            self.assertIn(m["channel"], ("email", "sms"))
        r = self.srv.request("GET", "/api/v1/appointments/OTD-ZZZZZZ/messages", session=self.disp)
        self.assertEqual(r.status, 404)
        r = self.srv.request("GET", "/api/v1/appointments/OTD-ZZZZZZ/reassign-options",
                             session=self.disp)
        self.assertEqual(r.status, 404)

    def test_h_a_personal_message(self):
        booked = self.day_booked()
        ref = booked[2]["reference"]
        path = "/api/v1/appointments/%s/message" % ref
        words = "Priya will bring the plans you asked about; please keep the drive clear."
        r = self.srv.request("POST", path, {"text": words}, session=self.disp)
        self.assertEqual(r.status, 202, r.raw)
        aid = self.appointment_id(ref)
        msgs = ob.outbox(self.srv, aid, "personal")
        self.assertEqual(r.body["queued"], len(msgs))
        self.assertGreaterEqual(len(msgs), 1)
        for m in msgs:
            self.assertIn(words, str(m))
        # The same words at once are sent once; a channel the customer
        # did not agree to is refused; bad input is named.
        r = self.srv.request("POST", path, {"text": words}, session=self.disp)
        self.assertEqual(r.status, 202)
        self.assertEqual(len(ob.outbox(self.srv, aid, "personal")), len(msgs))
        self.clock(seconds=90)  # a retry after a timeout: still the same message
        r = self.srv.request("POST", path, {"text": words}, session=self.disp)
        self.assertEqual(r.status, 202)
        self.assertEqual(len(ob.outbox(self.srv, aid, "personal")), len(msgs))
        self.clock(seconds=300)  # later, the same words are a new message
        r = self.srv.request("POST", path, {"text": words}, session=self.disp)
        self.assertEqual(r.status, 202)
        self.assertEqual(len(ob.outbox(self.srv, aid, "personal")), 2 * len(msgs))
        r = self.srv.request("POST", path, {"text": "x" * 141}, session=self.disp)
        self.assertError(r, 400, "too_long", "text")
        r = self.srv.request("POST", path, {"text": "hello", "channel": "fax"}, session=self.disp)
        self.assertError(r, 400, "bad_channel", "channel")
        r = self.srv.request("POST", path, {"text": "two\nlines"}, session=self.disp)
        self.assertEqual(r.status, 400)
        audit = ob.audit(self.srv, "appointment.message", aid)
        self.assertEqual(len(audit), 2)
        self.assertNotIn("drive", str(audit))  # the words stay out of the audit log
        r = self.srv.request("GET", "/api/v1/appointments/%s/messages" % ref, session=self.disp)
        self.assertIn("personal", [m["template"] for m in r.body["items"]])

    def test_g_the_inbox(self):
        r = self.srv.request("POST", "/book/unlisted", raw=form({
            "address": "Flat 3, The Old Mill, Wrenfield", "name": "Ada Lovelace",
            "phone": "07700 900777", "email": "", "visit_type": str(self.types[VT]["id"])}),
            content_type="application/x-www-form-urlencoded")
        self.assertIn(r.status, (200, 303), r.raw)
        r = self.srv.request("GET", "/api/v1/dispatch/inbox", session=self.disp)
        self.assertEqual(r.status, 200, r.raw)
        msgs = [m for m in r.body["messages"] if "Old Mill" in m["text"]]
        self.assertEqual(len(msgs), 1, r.body)
        mid = msgs[0]["id"]
        self.assertEqual(msgs[0]["outcome"], "inbox")
        r = self.srv.request("POST", "/api/v1/dispatch/inbound/%d/done" % mid, {},
                             session=self.disp)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body, {"id": mid, "state": "done"})
        r = self.srv.request("POST", "/api/v1/dispatch/inbound/%d/done" % mid, {},
                             session=self.disp)
        self.assertEqual(r.status, 404)
        r = self.srv.request("GET", "/api/v1/dispatch/inbox", session=self.disp)
        self.assertNotIn(mid, [m["id"] for m in r.body["messages"]])
        self.assertTrue(ob.audit(self.srv, "inbox.done", mid))
        r = self.srv.request("POST", "/api/v1/dispatch/tasks/999999/done", {}, session=self.disp)
        self.assertEqual(r.status, 404)


class TestBoardAtRisk(ob.BookingTestCase):
    """The at-risk list: a visitor running late puts a promise at risk; the
    board lists it with its reason, P(late), projected arrival, the notice
    clock and the money at stake under the rules in force (gb-energy)."""

    server_env = {"ONTHEDOT_GUARANTEES_RULE_SET": "gb-energy"}

    @classmethod
    def setUpOrganisation(cls):
        for v in cls.org_visitors:
            cls.srv.add_user("visitor", "v%d" % v["id"], v["name"], visitor_id=v["id"])

    def test_a_a_late_visitor_shows_in_the_at_risk_list(self):
        vt = self.types[VT]["id"]
        a = self.addr["1 Mill Road"]["id"]
        ws = self.windows(a, vt, DATE)[DATE]
        view = self.hold_and_book(a, vt, ws[0]["start"], name="Rosa Late",
                                  phone="07700 900901", email="rosa@example.org")
        ref = view["reference"]
        vid = self.srv.sql("SELECT visitor_id FROM appointments WHERE reference = ?", (ref,))[0][0]
        start = ob.utc(view["window"]["start"])
        told = ob.secs(start) - 30 * 60
        self.clock(to=ob.iso(told))
        me = self.srv.login("v%d" % vid)
        for i, (kind, extra) in enumerate((("start_travel", {}), ("late", {"minutes": 120}))):
            body = {"client_event_id": "late%d" % i, "type": kind, "at": ob.iso(told)}
            if kind == "start_travel":
                body["appointment"] = ref
            body.update(extra)
            r = self.srv.request("POST", "/api/v1/visitor/events", body, session=me)
            self.assertEqual(r.status, 200, r.raw)
        self.clock(seconds=60)
        disp = self.srv.login("disp")
        r = self.srv.request("GET", "/api/v1/dispatch/board?date=" + DATE, session=disp)
        self.assertEqual(r.status, 200, r.raw)
        b = r.body
        self.assertEqual(b["figures"]["at_risk"], len(b["at_risk"]))
        mine = [x for x in b["at_risk"] if x["reference"] == ref]
        self.assertEqual(len(mine), 1, b["at_risk"])
        x = mine[0]
        self.assertIn(x["risk"], ("at_risk", "broken"))
        self.assertGreater(x["p_late"], 0.5)
        self.assertEqual(x["visitor_id"], vid)
        self.assertGreaterEqual(ob.utc(x["expected_arrival"]), ob.utc(view["window"]["end"]))
        # More than one working day before Tuesday: told on Thursday 26
        # February, Friday and Monday are between; on Friday only Monday.
        self.assertEqual(x["notice_deadline"], "2026-02-26T23:59:59Z")
        self.assertEqual(x["compensation"]["currency"], "GBP")
        self.assertGreater(x["compensation"]["missed_minor"], 0)
        row = [s for v in b["visitors"] for s in v["stops"] if s["reference"] == ref][0]
        self.assertEqual(row["status"], "travelling")
        self.assertEqual(row["risk"], x["risk"])


class TestReorder(ob.BookingTestCase):
    """A dispatcher reorders a route by hand: written when every promise is
    still kept (no customer is told: the windows stay), refused naming the
    visit that would be late, and bad orders named."""

    visit_types = [{"code": "meter-check", "name": "Meter check", "skill": "planning",
                    "duration_median_minutes": 10, "duration_spread": 0.1,
                    "window_minutes": 120}]

    @classmethod
    def default_visitors(cls):
        return super().default_visitors()[:1]  # one visitor: every visit is theirs

    def setUp(self):
        self.disp = self.srv.login("disp")

    def order_of(self, vid):
        rows = self.srv.sql("SELECT reference FROM appointments WHERE visitor_id = ? AND "
                            "local_date = ? AND status <> 'cancelled' ORDER BY route_position",
                            (vid, DATE))
        return [r[0] for r in rows]

    def test_a_reorder(self):
        vt = self.types["meter-check"]["id"]
        booked = []
        for n, (line1, pick) in enumerate((("1 Mill Road", 2), ("7 Church Lane", 3),
                                           ("12 High Street", -1))):
            a = self.addr[line1]["id"]
            ws = self.windows(a, vt, DATE)[DATE]
            booked.append(self.hold_and_book(a, vt, ws[pick]["start"], name="Meter %d" % n,
                                             phone="07700 900%03d" % (500 + n),
                                             email="m%d@example.org" % n))
        vid = self.org_visitors[0]["id"]
        before = self.order_of(vid)
        self.assertEqual(sorted(before), sorted(b["reference"] for b in booked))
        path = "/api/v1/visitors/%d/route" % vid
        # The last visit of the day first: the early ones would be late.
        late_first = [before[2], before[0], before[1]]
        r = self.srv.request("POST", path, {"date": DATE, "order": late_first},
                             session=self.disp)
        self.assertError(r, 409, "order_breaks_promise", "order")
        self.assertIn("OTD-", r.body["error"]["message"])
        self.assertEqual(self.order_of(vid), before)
        # The two early windows overlap: swapping them keeps every promise.
        swapped = [before[1], before[0], before[2]]
        msgs = len(ob.outbox(self.srv))
        r = self.srv.request("POST", path, {"date": DATE, "order": swapped}, session=self.disp)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(self.order_of(vid), swapped)
        self.assertEqual(len(ob.outbox(self.srv)), msgs)  # windows unchanged: nobody told
        self.assertTrue(ob.audit(self.srv, "route.reorder", vid))
        # Bad orders are named.
        for order in ([before[0], before[0], before[2]], swapped[:2], swapped + ["OTD-ZZZZZZ"]):
            r = self.srv.request("POST", path, {"date": DATE, "order": order},
                                 session=self.disp)
            self.assertError(r, 400, "order_mismatch", "order")
        r = self.srv.request("POST", path, {"date": DATE, "order": ["nope"]}, session=self.disp)
        self.assertError(r, 400, "bad_reference", "order[0]")
        r = self.srv.request("POST", path, {"date": "2026-02-30", "order": swapped},
                             session=self.disp)
        self.assertEqual(r.status, 400)
