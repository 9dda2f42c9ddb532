"""Checks of one calendar file as the server writes it (an outbox invite or the
"add to calendar" download), by two implementations that are not libical:
Debian's python3-icalendar and python3-vobject. The rules are those of
test_ics_validate.py (which checks fixed samples written by tests/tools/ics_dump),
applied here to any file with expected values given by the caller: RFC 5545
text rules (CR LF, lines of at most 75 octets, UTF-8), VERSION, PRODID,
METHOD, one VEVENT, every TZID defined by a VTIMEZONE, UID, SEQUENCE, DTSTAMP
in UTC, DTSTART/DTEND as the expected UTC instants (vobject converting through
the file's own VTIMEZONE), STATUS, and for REQUEST and CANCEL (iTIP, RFC 5546)
an ORGANIZER and one ATTENDEE with mailto: addresses and RSVP=FALSE."""

import datetime as dt
import logging

import icalendar
import vobject

from test_ics_validate import MAILTO, SINGLE, utc  # the colleague's rules, not copies

logging.getLogger("vobject").setLevel(logging.CRITICAL)


def check_text(tc, raw):
    """RFC 5545 section 3.1 on raw bytes."""
    raw.decode("utf-8")
    tc.assertTrue(raw.startswith(b"BEGIN:VCALENDAR\r\n"), raw[:40])
    tc.assertTrue(raw.endswith(b"END:VCALENDAR\r\n"), raw[-40:])
    for i, line in enumerate(raw.split(b"\r\n")[:-1], 1):
        tc.assertNotIn(b"\n", line, "bare LF on line %d" % i)
        tc.assertNotIn(b"\r", line, "bare CR on line %d" % i)
        tc.assertLessEqual(len(line), 75, "line %d: %r" % (i, line))
        tc.assertTrue(line, "empty line %d" % i)
        line.decode("utf-8")  # never a character split across a fold


def check(tc, text, method, uid, sequence, start, end, status=None, attendee=None,
          attendee_cn=None, organizer=None, url=None):
    """Checks calendar text; start and end are RFC 3339 UTC strings. Returns the
    icalendar VEVENT for further checks."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    check_text(tc, raw)
    status = status or ("CANCELLED" if method == "CANCEL" else "CONFIRMED")

    # python3-icalendar
    cal = icalendar.Calendar.from_ical(raw)
    for comp in cal.walk():
        tc.assertEqual(getattr(comp, "errors", []), [], comp.name)
    tc.assertEqual(str(cal["VERSION"]), "2.0")
    tc.assertTrue(str(cal["PRODID"]))
    tc.assertEqual(str(cal["METHOD"]), method)
    tzids = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    events = cal.walk("VEVENT")
    tc.assertEqual(len(events), 1)
    ev = events[0]
    for p in SINGLE:
        tc.assertNotIsInstance(ev.get(p), list, "%s appears more than once" % p)
    for prop, value in ev.property_items(recursive=False):
        tzid = getattr(value, "params", {}).get("TZID")
        if tzid is not None:
            tc.assertIn(tzid, tzids, "%s;TZID=%s has no VTIMEZONE" % (prop, tzid))
    tc.assertEqual(str(ev["UID"]), uid)
    tc.assertEqual(int(ev["SEQUENCE"]), sequence)
    tc.assertEqual(ev.decoded("DTSTAMP").utcoffset(), dt.timedelta(0), "DTSTAMP must be UTC")
    s, e = ev.decoded("DTSTART"), ev.decoded("DTEND")
    tc.assertEqual(s.astimezone(dt.timezone.utc), utc(start))
    tc.assertEqual(e.astimezone(dt.timezone.utc), utc(end))
    tc.assertEqual(str(ev["STATUS"]), status)
    tc.assertTrue(str(ev["SUMMARY"]))
    attendees = ev.get("ATTENDEE", [])
    attendees = attendees if isinstance(attendees, list) else [attendees]
    if method in ("REQUEST", "CANCEL"):
        org = ev.get("ORGANIZER")
        tc.assertIsNotNone(org)
        tc.assertRegex(str(org), MAILTO)
        if organizer:
            tc.assertEqual(str(org), "mailto:" + organizer)
        tc.assertEqual(len(attendees), 1)
        tc.assertRegex(str(attendees[0]), MAILTO)
        tc.assertEqual(attendees[0].params["RSVP"], "FALSE")
    if attendee:
        tc.assertEqual(str(attendees[0]), "mailto:" + attendee)
    if attendee_cn:
        tc.assertEqual(attendees[0].params["CN"], attendee_cn)
    if url is not None:
        tc.assertEqual(str(ev["URL"]), url)

    # python3-vobject: cardinality rules, and the times through the file's VTIMEZONE
    vc = vobject.readOne(raw.decode("utf-8"))
    vc.validate(raiseException=True, complainUnrecognized=True)
    tc.assertEqual(vc.method.value, method)
    tc.assertEqual(vc.vevent.uid.value, uid)
    tc.assertEqual(int(vc.vevent.sequence.value), sequence)
    tc.assertEqual(vc.vevent.dtstart.value.astimezone(dt.timezone.utc), utc(start))
    tc.assertEqual(vc.vevent.dtend.value.astimezone(dt.timezone.utc), utc(end))
    return ev
