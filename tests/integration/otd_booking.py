"""Booking fixtures for the integration tests (test_booking*.py), on top of otd.py.

A demo-like organisation, the town of Wrenfield, is set up the way an
administrator does it: the gazetteer and the bank holidays with `onthedot
import` (before the server starts), visitors with shifts and visit types
through the admin API. BookingTestCase gives each test class its own server
with that organisation and helpers for the customer's journey (slots, hold,
book, the link) that note every secret (hold tokens, link tokens) so the
server log is checked for them at the end.

Also here: an independent planning model (great-circle km x road factor /
speed, fixed durations) used to re-time a visitor's route from the database,
and readers for the outbox rows.
"""

import calendar
import datetime as dt
import json
import math
import os
import re
import time
import zoneinfo

import otd

LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = dt.timezone.utc
CENTRE = (52.2050, -1.5480)  # Wrenfield
EARTH_KM = 6371.0088  # mean Earth radius (IUGG)

# Planning options every booking server sets unless a test overrides them.
BOOKING_ENV = {
    "ONTHEDOT_BOOKING_SLOTS_BURST": "100000",
    "ONTHEDOT_BOOKING_SLOTS_PER_MINUTE": "100000",
    "ONTHEDOT_BOOKING_HOLDS_PER_CLIENT": "1000",
    "ONTHEDOT_BOOKING_RESEND_BURST": "100000",
    "ONTHEDOT_BOOKING_RESEND_PER_HOUR": "100000",
    "ONTHEDOT_MESSAGES_EMAIL_FROM": "visits@wrenfield.example",
    "ONTHEDOT_BOOKING_SMS_CLIENT_PER_HOUR": "100000",
    "ONTHEDOT_BOOKING_SMS_CLIENT_BURST": "100000",
    "ONTHEDOT_BOOKING_SMS_NUMBER_PER_DAY": "100000",
    "ONTHEDOT_BOOKING_SMS_PREFIX_PER_HOUR": "100000",
}

LINK_RE = re.compile(r"/a/([A-Za-z0-9_-]{22})\b")


# ---- time ------------------------------------------------------------------


def utc(text):
    """datetime of an RFC 3339 UTC instant."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def iso(t):
    """RFC 3339 UTC text of an aware datetime (or of Unix seconds)."""
    if isinstance(t, (int, float)):
        t = dt.datetime.fromtimestamp(t, UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(date, hhmm):
    """The UTC instant (aware datetime) of a London wall time on a date
    (the first one when the wall time happens twice)."""
    y, m, d = map(int, date.split("-"))
    h, mi = map(int, hhmm.split(":"))
    return dt.datetime(y, m, d, h, mi, tzinfo=LONDON).astimezone(UTC)


def local_iso(t):
    """The London rendering the API uses: 2026-03-30T08:00:00+01:00."""
    return t.astimezone(LONDON).isoformat()


def local_brief(start, end):
    """A window as SMS name it: "Tue 3 Mar, 10:00-11:00" (Unix seconds in)."""
    a = dt.datetime.fromtimestamp(start, UTC).astimezone(LONDON)
    b = dt.datetime.fromtimestamp(end, UTC).astimezone(LONDON)
    return "%s %d %s, %02d:%02d-%02d:%02d" % (a.strftime("%a"), a.day, a.strftime("%b"), a.hour,
                                              a.minute, b.hour, b.minute)


def local_midnight(date):
    y, m, d = map(int, date.split("-"))
    return dt.datetime(y, m, d, tzinfo=LONDON).astimezone(UTC)


def next_midnight(date):
    d = dt.date.fromisoformat(date) + dt.timedelta(days=1)
    return local_midnight(d.isoformat())


def secs(t):
    return calendar.timegm(t.astimezone(UTC).timetuple())


# ---- places ------------------------------------------------------------------


def haversine_km(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def moved(place, north_m=0.0, east_m=0.0):
    """A point north_m metres north and east_m metres east of place."""
    lat = place[0] + north_m / 1000.0 / EARTH_KM * 180 / math.pi
    lon = place[1] + east_m / 1000.0 / (EARTH_KM * math.cos(math.radians(place[0]))) * 180 / math.pi
    return (round(lat, 6), round(lon, 6))


def travel_minutes(a, b, road_factor=1.3, kmh=30.0):
    return haversine_km(a, b) * road_factor / kmh * 60.0


# ---- the organisation ----------------------------------------------------------

# The gazetteer: (uprn, line1, line2, town, postcode, north_m, east_m from CENTRE).
ADDRESSES = [
    ("10090000001", "1 Mill Road", "", "Wrenfield", "ZZ1 1AA", 100, 0),
    ("10090000002", "3 Mill Road", "", "Wrenfield", "ZZ1 1AA", 115, 12),
    ("10090000003", "Flat 2, 5 Mill Road", "", "Wrenfield", "ZZ1 1AA", 130, 24),
    ("10090000004", "The Old Forge", "Forge Lane", "Wrenfield", "ZZ2 4BD", -600, 400),
    ("10090000005", "7 Church Lane", "", "Wrenfield", "ZZ1 2AB", 300, -250),
    ("10090000006", "9 Church Lane", "", "Wrenfield", "ZZ1 2AB", 320, -260),
    ("10090000007", "12 High Street", "", "Wrenfield", "ZZ1 3CD", -150, 200),
    ("10090000008", "14 High Street", "", "Wrenfield", "ZZ1 3CD", -160, 215),
    ("10090000009", "2 Orchard Way", "", "Wrenfield", "ZZ3 5EF", 900, 700),
    ("10090000010", "4 Orchard Way", "", "Wrenfield", "ZZ3 5EF", 910, 715),
    ("10090000011", "21 Station Road", "", "Wrenfield", "ZZ2 7GH", -800, -500),
    ("10090000012", "23 Station Road", "", "Wrenfield", "ZZ2 7GH", -810, -515),
    ("10090000013", "1 Kingsway", "", "Wrenfield", "ZZ4 1JK", 1200, -900),
    ("10090000014", "3 Kingsway", "", "Wrenfield", "ZZ4 1JK", 1215, -915),
    ("10090000015", "Meadow Cottage", "Meadow Close", "Wrenfield", "ZZ4 2LM", -1300, 1100),
    ("10090000016", "5 Willow Drive", "", "Wrenfield", "ZZ3 8NP", 500, 1200),
]

# Bank holidays the organisation imports (a Wednesday and Good Friday).
HOLIDAYS = {"2026-03-04": "Wrenfield Charter Day", "2026-04-03": "Good Friday"}

WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

# Planning visitors: name, role, shift start (local), minutes. Their bases
# are the centre, so windows near it differ only by the shifts: 08:00 has one
# visitor, 09:00 two, 10:00 four ("3+").
PLANNING_VISITORS = [
    ("Priya Shah", "planning officer", "08:00", 540),
    ("Tom Brennan", "planning officer", "09:00", 480),
    ("Zoë O'Brien-Nguyễn", "senior planning officer", "10:00", 300),
    ("Samuel Adeyemi", "planning officer", "10:00", 300),
]


def gazetteer_csv(addresses=ADDRESSES, centre=CENTRE):
    lines = ["uprn,line1,line2,town,postcode,latitude,longitude"]
    for uprn, l1, l2, town, pc, n, e in addresses:
        lat, lon = moved(centre, n, e)
        l1q = '"%s"' % l1 if "," in l1 else l1
        lines.append("%s,%s,%s,%s,%s,%.6f,%.6f" % (uprn, l1q, l2, town, pc, lat, lon))
    return "\n".join(lines) + "\n"


def holidays_ics(holidays=HOLIDAYS):
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//onthedot tests//holidays//EN",
           "CALSCALE:GREGORIAN"]
    for date, name in sorted(holidays.items()):
        d = dt.date.fromisoformat(date)
        out += ["BEGIN:VEVENT", "UID:%s@holidays.test" % date,
                "DTSTAMP:20260101T000000Z",
                "DTSTART;VALUE=DATE:%s" % d.strftime("%Y%m%d"),
                "DTEND;VALUE=DATE:%s" % (d + dt.timedelta(days=1)).strftime("%Y%m%d"),
                "SUMMARY:%s" % name, "END:VEVENT"]
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


def import_file(srv, kind, name, text):
    path = os.path.join(srv.dir, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return srv.cli("import", kind, path, "--db", srv.db)


def addresses_by_line1(srv):
    rows = srv.sql("SELECT id, line1, lat, lon, postcode FROM addresses ORDER BY id")
    return {r[1]: {"id": r[0], "lat": r[2], "lon": r[3], "postcode": r[4]} for r in rows}


# ---- outbox and events -----------------------------------------------------------


def outbox(srv, appointment_id=None, template=None):
    """Outbox rows as dicts (payload parsed), in id order."""
    q = ("SELECT id, idem_key, appointment_id, customer_id, channel, template, payload, state, "
         "due_at, created_at FROM outbox WHERE 1 = 1")
    args = []
    if appointment_id is not None:
        q += " AND appointment_id = ?"
        args.append(appointment_id)
    if template is not None:
        q += " AND template = ?"
        args.append(template)
    out = []
    for r in srv.sql(q + " ORDER BY id", args):
        row = dict(zip(("id", "idem_key", "appointment_id", "customer_id", "channel",
                        "template", "payload", "state", "due_at", "created_at"), r))
        row["payload"] = json.loads(row["payload"])
        link = row["payload"].get("link")
        if link:
            m = LINK_RE.search(link)
            row["token"] = m.group(1) if m else None
            srv.note_secret(row["token"])
        out.append(row)
    return out


def events(srv, appointment_id):
    return [dict(zip(("kind", "actor_kind", "actor_id", "detail", "received_at"), r))
            for r in srv.sql("SELECT kind, actor_kind, actor_id, detail, received_at FROM "
                             "appointment_events WHERE appointment_id = ? ORDER BY id",
                             (appointment_id,))]


def audit(srv, action=None, entity_id=None):
    q = "SELECT action, entity, entity_id, actor_kind, actor_id, detail FROM audit_log WHERE 1 = 1"
    args = []
    if action:
        q += " AND action = ?"
        args.append(action)
    if entity_id is not None:
        q += " AND entity_id = ?"
        args.append(entity_id)
    return srv.sql(q + " ORDER BY id", args)


# ---- the independent route check ----------------------------------------------------


def simulate_route(base, shift_start, shift_end, stops, road_factor=1.3, kmh=30.0):
    """Re-times a route forward with fixed durations and constant speed: stops
    are dicts with lat, lon, start, end (Unix seconds) and minutes, in visiting
    order. Returns (arrivals, back_at_base); arrival i = max(window start,
    previous departure + travel)."""
    t = shift_start
    here = base
    arrivals = []
    for s in stops:
        place = (s["lat"], s["lon"])
        reach = t + travel_minutes(here, place, road_factor, kmh) * 60.0
        arrive = max(s["start"], reach)
        arrivals.append(arrive)
        t = arrive + s["minutes"] * 60.0
        here = place
    back = t + travel_minutes(here, base, road_factor, kmh) * 60.0
    return arrivals, back


def visitor_day_stops(srv, visitor_id, local_date):
    """The visitor's live appointments on local_date in route order."""
    rows = srv.sql(
        "SELECT a.id, a.reference, a.route_position, a.window_start, a.window_end, d.lat, "
        "d.lon, t.duration_median_min FROM appointments a JOIN addresses d ON d.id = "
        "a.address_id JOIN visit_types t ON t.id = a.visit_type_id WHERE a.visitor_id = ? AND "
        "a.local_date = ? AND a.status IN ('booked', 'travelling', 'arrived') "
        "ORDER BY a.route_position, a.window_start, a.id", (visitor_id, local_date))
    return [dict(zip(("id", "reference", "position", "start", "end", "lat", "lon", "minutes"),
                     r)) for r in rows]


# ---- the test case ------------------------------------------------------------------


class BookingTestCase(otd.ServerTestCase):
    """A server with the Wrenfield organisation. Subclasses may set
    server_env (merged over BOOKING_ENV), holidays (dict or None),
    visitors (list of visitor_body keyword dicts; None for the default
    planning team) and visit_types (list of create bodies)."""

    server_env = {}
    listen_port = 0  # 0: a free port chosen by the kernel
    users = ("admin", "dispatcher")
    holidays = HOLIDAYS
    addresses = ADDRESSES
    visitors = None
    visit_types = None

    @classmethod
    def setUpClass(cls):
        env = dict(BOOKING_ENV)
        env.update(cls.server_env)
        cls.srv = otd.Server(cls.__name__, env=env, virtual_clock=cls.virtual_clock,
                             users=cls.users)
        cls.addClassCleanup(cls.srv.kill)
        srv = cls.srv
        srv.prepare()
        import_file(srv, "gazetteer", "gazetteer.csv", gazetteer_csv(cls.addresses))
        if cls.holidays:
            import_file(srv, "holidays", "holidays.ics", holidays_ics(cls.holidays))
        srv.listen_port = cls.listen_port
        srv.start(prepare=False)
        cls.addr = addresses_by_line1(srv)
        cls.org_visitors = []
        for fields in (cls.visitors if cls.visitors is not None else cls.default_visitors()):
            cls.org_visitors.append(srv.create_visitor(**fields))
        cls.types = {}
        for body in (cls.visit_types if cls.visit_types is not None
                     else cls.default_visit_types()):
            t = srv.create_visit_type(body["code"], **{k: v for k, v in body.items()
                                                         if k != "code"})
            cls.types[t["code"]] = t
        cls.setUpOrganisation()

    @classmethod
    def setUpOrganisation(cls):
        """Hook: more fixtures once the server runs."""

    @classmethod
    def default_visitors(cls):
        out = []
        for i, (name, role, start, minutes) in enumerate(PLANNING_VISITORS):
            out.append(dict(name=name, role_title=role, phone="01632 96%04d" % (100 + i),
                            email="visitor%d@wrenfield.example" % i,
                            base={"lat": CENTRE[0], "lon": CENTRE[1]},
                            skills=["planning"],
                            shifts=[{"start": "2026-03-02T%s" % start,
                                     "duration_minutes": minutes, "rrule": WEEKDAYS}]))
        out.append(dict(name="Łukasz Nowak", role_title="gas engineer", phone="01632 960200",
                        base={"lat": CENTRE[0], "lon": CENTRE[1]}, skills=["gas"],
                        shifts=[{"start": "2026-03-02T07:30", "duration_minutes": 540,
                                 "rrule": WEEKDAYS}]))
        return out

    @classmethod
    def default_visit_types(cls):
        return [
            {"code": "planning-inspection", "name": "Planning inspection", "skill": "planning",
             "duration_median_minutes": 45, "duration_spread": 0.3, "window_minutes": 60},
            {"code": "boiler-repair", "name": "Boiler repair", "skill": "gas",
             "duration_median_minutes": 75, "duration_spread": 0.4, "window_minutes": 120},
        ]

    # -- the clock --

    def clock(self, seconds=None, to=None):
        # A long move runs a ticker pass per period of its last day before
        # answering: on PostgreSQL each pass is many round trips.
        body = {"seconds": seconds} if to is None else {"to": to}
        r = self.srv.request("POST", "/api/v1/admin/clock", body, token="admin", timeout=180)
        self.assertEqual(r.status, 200, r.raw)
        return r.body["now"]

    # -- the customer's journey --

    def slots(self, address, visit_type, frm=None, to=None, status=200, **kw):
        q = "/api/v1/slots?visit_type=%s" % visit_type
        if address is not None:
            q += "&address=%s" % address
        if frm:
            q += "&from=%s" % frm
        if to:
            q += "&to=%s" % to
        r = self.srv.request("GET", q, **kw)
        if status is not None:
            self.assertEqual(r.status, status, r.raw)
        return r

    def windows(self, address, visit_type, frm, to=None, **kw):
        """{date: [window, ...]} offered."""
        r = self.slots(address, visit_type, frm, to or frm, **kw)
        return {d["date"]: d["windows"] for d in r.body["days"]}

    def hold(self, address, visit_type, start, link=None, **kw):
        body = {"address": address, "visit_type": visit_type,
                "window_start": start if isinstance(start, str) else iso(start)}
        if link:
            body["link"] = link
        r = self.srv.request("POST", "/api/v1/holds", body, **kw)
        if r.status == 201:
            self.srv.note_secret(r.body["hold"])
        return r

    def book(self, hold, name="Amelia Hughes", phone="07700 900123",
             email="amelia@example.org", consent=None, access_notes=None, key=None,
             headers=None, **kw):
        body = {"hold": hold, "name": name}
        if phone is not None:
            body["phone"] = phone
        if email is not None:
            body["email"] = email
        if access_notes is not None:
            body["access_notes"] = access_notes
        body["consent"] = consent if consent is not None else {"sms": phone is not None,
                                                               "email": email is not None}
        hdrs = dict(headers or {})
        if key:
            hdrs["Idempotency-Key"] = key
        r = self.srv.request("POST", "/api/v1/appointments", body, headers=hdrs, **kw)
        if r.status == 201:
            self.note_link(r.body)
        return r

    def note_link(self, view):
        link = view.get("link")
        if link:
            token = link["path"].rsplit("/", 1)[-1]
            self.srv.note_secret(token)
            return token
        return None

    def token_of(self, view):
        return view["link"]["path"].rsplit("/", 1)[-1]

    def hold_and_book(self, address, visit_type, start, **kw):
        h = self.hold(address, visit_type, start)
        self.assertEqual(h.status, 201, h.raw)
        r = self.book(h.body["hold"], **kw)
        self.assertEqual(r.status, 201, r.raw)
        return r.body

    def link(self, token, sub="", method=None, body=None, **kw):
        path = "/api/v1/a/%s%s" % (token, sub)
        return self.srv.request(method or ("GET" if body is None and sub in ("", "/ics")
                                           else "POST"), path, body, **kw)

    def appointment_id(self, reference):
        return self.srv.sql("SELECT id FROM appointments WHERE reference = ?",
                            (reference,))[0][0]
