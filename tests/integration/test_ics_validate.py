"""Calendar invites read by two independent iCalendar implementations.

tests/tools/ics_dump (built with the tests, found through OTD_TOOLS_DIR) writes
sample invites made by core/ics.c with the VTIMEZONE from app/tzload.c. Each is
read by Debian's python3-icalendar and python3-vobject (neither is libical), and
checked against the rules of RFC 5545 and iTIP (RFC 5546) that matter to a
calendar: CR LF line ends, lines of at most 75 octets, UTF-8, VERSION 2.0,
PRODID, METHOD, UID, DTSTAMP in UTC, DTEND after DTSTART, every TZID defined by
a VTIMEZONE, ORGANIZER and ATTENDEE for REQUEST and CANCEL, mailto: addresses,
SEQUENCE, STATUS. The expected values (names as typed, texts, the UTC instants
of every window, including those on the days the clocks change) are written
out below, independently of the C code; vobject converts the local times
through the file's own VTIMEZONE, and each VTIMEZONE is compared with the
system's tzdata (python's zoneinfo) hour by hour.
"""

import datetime as dt
import logging
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import zoneinfo

import icalendar
import vobject

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("OTD_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("OTD_BIN") or os.path.join(SOURCE_DIR, "build", "asan", "onthedot")
TOOLS_DIR = os.environ.get("OTD_TOOLS_DIR") or os.path.join(os.path.dirname(BIN), "tests", "tools")
TEST_TMP = os.environ.get("OTD_TEST_TMP") or tempfile.gettempdir()

ZOE = "Zoë O'Brien-Nguyễn"
HOSTILE = "<img src=x onerror=alert(1)>"
UID = "appt-42@onthedot.example"
SUMMARY = "Planning visit: extension, rear; 2 storeys"
LOCATION = "Flat 2\n12 High Street, Leeds LS1 4AB"
URL = "https://onthedot.example/a/Tok3n-x_9"
LONG_DESCRIPTION = (
    "Priya, your planning officer, will visit; she brings ID.\n"
    "Access: side gate \\ code 1234.\n"
    "Manage or move your visit: https://onthedot.example/a/Tok3n-x_9\n"
    "Nous vous prévenons si elle est en retard — 日本語のテキスト 🙂 " + ZOE
)
ORGANIZER = "mailto:dispatch@council.example"
ATTENDEE = "mailto:zoe@example.org"


def utc(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


# What ics_dump writes, as a calendar must read it.
SAMPLES = {
    "publish.ics": dict(method="PUBLISH", uid=UID, sequence=0, status="CONFIRMED",
                        start="2026-03-03T10:00:00Z", end="2026-03-03T11:00:00Z",
                        description="Priya, your planning officer, will visit.",
                        organizer_cn="Sam Ortiz, Planning", attendee_cn=None),
    "request-seq1.ics": dict(method="REQUEST", uid=UID, sequence=1, status="CONFIRMED",
                             start="2026-03-29T09:00:00Z", end="2026-03-29T10:00:00Z",
                             local=("2026-03-29T10:00:00", "2026-03-29T11:00:00"),
                             description=LONG_DESCRIPTION,
                             organizer_cn="Sam Ortiz, Planning", attendee_cn=ZOE),
    "request-seq3.ics": dict(method="REQUEST", uid=UID, sequence=3, status="CONFIRMED",
                             start="2026-10-25T10:00:00Z", end="2026-10-25T11:00:00Z",
                             local=("2026-10-25T10:00:00", "2026-10-25T11:00:00"),
                             description=LONG_DESCRIPTION,
                             organizer_cn=ZOE, attendee_cn=HOSTILE),
    "cancel.ics": dict(method="CANCEL", uid=UID, sequence=4, status="CANCELLED",
                       start="2026-10-25T10:00:00Z", end="2026-10-25T11:00:00Z",
                       description=LONG_DESCRIPTION, organizer_cn=ZOE, attendee_cn=HOSTILE),
    "request-gap.ics": dict(method="REQUEST", uid="appt-43@onthedot.example", sequence=1,
                            status="CONFIRMED",
                            start="2026-03-29T00:30:00Z", end="2026-03-29T01:30:00Z",
                            local=("2026-03-29T00:30:00", "2026-03-29T02:30:00"),
                            description="Across the missing hour.",
                            organizer_cn="Sam Ortiz, Planning", attendee_cn=ZOE),
    # 01:30 happens twice on 25 October: both ends are written in UTC.
    "request-overlap.ics": dict(method="REQUEST", uid="appt-44@onthedot.example", sequence=1,
                                status="CONFIRMED",
                                start="2026-10-25T00:30:00Z", end="2026-10-25T01:30:00Z",
                                utc_form=True, description="Inside the repeated hour.",
                                organizer_cn="Sam Ortiz, Planning", attendee_cn=ZOE),
}
# PUBLISH samples in other zones: 09:00Z to 10:00Z on 1 July 2026. The last
# year compared hour by hour with tzdata: libical writes rules from 2038 on
# from the zone's POSIX string, with a stray observance at 2038-01-19 whose
# TZOFFSETFROM is wrong for Lord Howe's half-hour change.
ZONES = {"Europe/London": 2060, "America/New_York": 2060, "Australia/Lord_Howe": 2037,
         "Asia/Tokyo": 2060, "America/Sao_Paulo": 2060, "UTC": 2060}

SINGLE = ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "LOCATION",
          "ORGANIZER", "SEQUENCE", "STATUS", "TRANSP", "URL")
MAILTO = re.compile(r"^mailto:[^@\s]+@[^@\s]+$", re.I)


def transitions(zone, last_year):
    """The UTC instants, to the second, at which zone changes its offset
    from 2020 to the end of last_year (a daily scan, then bisection)."""
    out = []
    day = dt.timedelta(days=1)
    t = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    off = t.astimezone(zone).utcoffset()
    while t.year <= last_year:
        nxt = t + day
        noff = nxt.astimezone(zone).utcoffset()
        if noff != off:
            lo, hi = t, nxt
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(zone).utcoffset() == off:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
            off = noff
        t = nxt
    return out


class TestIcsValidate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(TEST_TMP, exist_ok=True)
        cls.dir = tempfile.mkdtemp(prefix="ics-", dir=TEST_TMP)
        tool = os.path.join(TOOLS_DIR, "ics_dump")
        run = subprocess.run([tool, cls.dir], capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            raise AssertionError("ics_dump failed (%d): %s" % (run.returncode, run.stderr))
        cls.files = sorted(os.listdir(cls.dir))
        logging.disable(logging.CRITICAL)  # vobject logs at import of odd input

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def raw(self, name):
        with open(os.path.join(self.dir, name), "rb") as f:
            return f.read()

    def test_every_sample_was_written(self):
        want = set(SAMPLES) | {"tz-%s.ics" % z.replace("/", "_") for z in ZONES}
        self.assertEqual(set(self.files), want)

    # ---- the text itself (RFC 5545 section 3.1) -------------------------

    def test_lines_crlf_folded_utf8(self):
        for name in self.files:
            with self.subTest(file=name):
                raw = self.raw(name)
                raw.decode("utf-8")  # raises on bad UTF-8
                self.assertTrue(raw.startswith(b"BEGIN:VCALENDAR\r\n"))
                self.assertTrue(raw.endswith(b"END:VCALENDAR\r\n"))
                lines = raw.split(b"\r\n")[:-1]
                for i, line in enumerate(lines, 1):
                    self.assertNotIn(b"\n", line, "bare LF on line %d" % i)
                    self.assertNotIn(b"\r", line, "bare CR on line %d" % i)
                    self.assertLessEqual(len(line), 75, "line %d: %r" % (i, line))
                    self.assertTrue(line, "empty line %d" % i)
                    # Each physical line is whole UTF-8: no character split.
                    line.decode("utf-8")

    # ---- python3-icalendar --------------------------------------------------

    def check_with_icalendar(self, name, want):
        raw = self.raw(name)
        cal = icalendar.Calendar.from_ical(raw)
        for comp in cal.walk():
            self.assertEqual(getattr(comp, "errors", []), [], comp.name)
        self.assertEqual(cal.name, "VCALENDAR")
        self.assertEqual(str(cal["VERSION"]), "2.0")
        self.assertTrue(str(cal["PRODID"]).startswith("-//onthedot//"))
        self.assertEqual(str(cal["METHOD"]), want["method"])
        self.assertEqual(str(cal["CALSCALE"]), "GREGORIAN")

        tzids = set()
        for tz in cal.walk("VTIMEZONE"):
            tzids.add(str(tz["TZID"]))
            self.assertTrue(tz.walk("STANDARD") or tz.walk("DAYLIGHT"))
        events = cal.walk("VEVENT")
        self.assertEqual(len(events), 1)
        ev = events[0]
        for p in SINGLE:
            self.assertNotIsInstance(ev.get(p), list, "%s appears more than once" % p)
        for prop, value in ev.property_items(recursive=False):
            tzid = getattr(value, "params", {}).get("TZID")
            if tzid is not None:
                self.assertIn(tzid, tzids, "%s;TZID=%s has no VTIMEZONE" % (prop, tzid))

        self.assertEqual(str(ev["UID"]), want["uid"])
        self.assertEqual(int(ev["SEQUENCE"]), want["sequence"])
        stamp = ev.decoded("DTSTAMP")
        self.assertIsNotNone(stamp.tzinfo)
        self.assertEqual(stamp.utcoffset(), dt.timedelta(0), "DTSTAMP must be UTC")
        self.assertNotIn("DURATION", ev)
        start, end = ev.decoded("DTSTART"), ev.decoded("DTEND")
        self.assertEqual(start.astimezone(dt.timezone.utc), utc(want["start"]))
        self.assertEqual(end.astimezone(dt.timezone.utc), utc(want["end"]))
        self.assertGreater(end, start)
        if want.get("utc_form"):
            self.assertNotIn("TZID", ev["DTSTART"].params)
            self.assertNotIn("TZID", ev["DTEND"].params)
        else:
            self.assertEqual(ev["DTSTART"].params["TZID"], "Europe/London")
            self.assertEqual(ev["DTEND"].params["TZID"], "Europe/London")
        if "local" in want:
            self.assertEqual(start.replace(tzinfo=None).isoformat(), want["local"][0])
            self.assertEqual(end.replace(tzinfo=None).isoformat(), want["local"][1])

        self.assertEqual(str(ev["SUMMARY"]), SUMMARY)
        self.assertEqual(str(ev["LOCATION"]), LOCATION)
        self.assertEqual(str(ev["DESCRIPTION"]), want["description"])
        self.assertEqual(str(ev["URL"]), URL)
        self.assertEqual(str(ev["STATUS"]), want["status"])
        self.assertEqual(str(ev["TRANSP"]), "OPAQUE")

        # iTIP: REQUEST and CANCEL need an organizer and an attendee.
        org = ev.get("ORGANIZER")
        attendees = ev.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        self.assertIsNotNone(org)
        self.assertEqual(str(org), ORGANIZER)
        self.assertEqual(org.params["CN"], want["organizer_cn"])
        if want["method"] in ("REQUEST", "CANCEL"):
            self.assertEqual(len(attendees), 1)
        if want["attendee_cn"] is None:
            self.assertEqual(attendees, [])
        else:
            a = attendees[0]
            self.assertEqual(str(a), ATTENDEE)
            self.assertEqual(a.params["CN"], want["attendee_cn"])
            self.assertEqual(a.params["RSVP"], "FALSE")
            self.assertEqual(a.params["ROLE"], "REQ-PARTICIPANT")
            self.assertEqual(a.params["PARTSTAT"], "NEEDS-ACTION")
        for address in [org] + attendees:
            self.assertRegex(str(address), MAILTO)

    def test_icalendar_reads_every_invite(self):
        for name, want in SAMPLES.items():
            with self.subTest(file=name):
                self.check_with_icalendar(name, want)

    # ---- python3-vobject ----------------------------------------------------

    def check_with_vobject(self, name, want):
        cal = vobject.readOne(self.raw(name).decode("utf-8"))
        # Cardinality and required-member rules; raises on the first problem.
        cal.validate(raiseException=True, complainUnrecognized=True)
        self.assertEqual(cal.method.value, want["method"])
        ev = cal.vevent
        self.assertEqual(ev.uid.value, want["uid"])
        self.assertEqual(int(ev.sequence.value), want["sequence"])
        # vobject converts through the file's own VTIMEZONE (dateutil).
        self.assertEqual(ev.dtstart.value.astimezone(dt.timezone.utc), utc(want["start"]))
        self.assertEqual(ev.dtend.value.astimezone(dt.timezone.utc), utc(want["end"]))
        self.assertEqual(ev.dtstamp.value.utcoffset(), dt.timedelta(0))
        self.assertEqual(ev.summary.value, SUMMARY)
        self.assertEqual(ev.location.value, LOCATION)
        self.assertEqual(ev.description.value, want["description"])
        self.assertEqual(ev.organizer.params["CN"], [want["organizer_cn"]])
        attendees = getattr(ev, "attendee_list", [])
        if want["attendee_cn"] is None:
            self.assertEqual(attendees, [])
        else:
            self.assertEqual(len(attendees), 1)
            self.assertEqual(attendees[0].value, ATTENDEE)
            self.assertEqual(attendees[0].params["CN"], [want["attendee_cn"]])
            self.assertEqual(attendees[0].params["RSVP"], ["FALSE"])

    def test_vobject_reads_every_invite(self):
        for name, want in SAMPLES.items():
            with self.subTest(file=name):
                self.check_with_vobject(name, want)

    def test_cancel_keeps_the_uid_and_raises_the_sequence(self):
        req = icalendar.Calendar.from_ical(self.raw("request-seq3.ics")).walk("VEVENT")[0]
        can = icalendar.Calendar.from_ical(self.raw("cancel.ics")).walk("VEVENT")[0]
        self.assertEqual(str(req["UID"]), str(can["UID"]))
        self.assertGreater(int(can["SEQUENCE"]), int(req["SEQUENCE"]))
        first = icalendar.Calendar.from_ical(self.raw("request-seq1.ics")).walk("VEVENT")[0]
        self.assertEqual(str(first["UID"]), str(req["UID"]))
        self.assertGreater(int(req["SEQUENCE"]), int(first["SEQUENCE"]))

    # ---- the VTIMEZONE against tzdata ---------------------------------------

    def test_vtimezone_matches_tzdata(self):
        for zone, last_year in ZONES.items():
            name = "tz-%s.ics" % zone.replace("/", "_")
            with self.subTest(zone=zone):
                raw = self.raw(name)
                cal = vobject.readOne(raw.decode("utf-8"))
                cal.validate(raiseException=True, complainUnrecognized=True)
                self.assertEqual(cal.vtimezone.tzid.value, zone)
                ours = cal.vtimezone.gettzinfo()
                real = zoneinfo.ZoneInfo(zone)
                # Either side of every change tzdata knows, and every Monday.
                points = []
                for change in transitions(real, last_year):
                    points += [change - dt.timedelta(seconds=1), change]
                t = dt.datetime(2020, 1, 6, 12, tzinfo=dt.timezone.utc)
                while t.year <= last_year:
                    points.append(t)
                    t += dt.timedelta(days=7)
                wrong = [p.isoformat() for p in points
                         if p.astimezone(ours).utcoffset() != p.astimezone(real).utcoffset()]
                self.assertEqual(wrong[:5], [], "%d of %d instants differ" % (len(wrong),
                                                                               len(points)))
                # The event converts through it as well.
                self.assertEqual(cal.vevent.dtstart.value.astimezone(dt.timezone.utc),
                                 utc("2026-07-01T09:00:00Z"))
                # Trimmed: nothing from before the 1990s is left.
                self.assertIsNone(re.search(rb"DTSTART:1[0-8]\d\d", raw))
                self.assertNotIn(b"X-LIC-LOCATION", raw)


if __name__ == "__main__":
    unittest.main()
