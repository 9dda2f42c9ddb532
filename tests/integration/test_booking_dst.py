"""Windows on the days the clocks change (Europe/London): 29 March 2026 (01:00
GMT becomes 02:00 BST: a 23-hour day) and 25 October 2026 (02:00 BST becomes
01:00 GMT: a 25-hour day). A visitor works 00:00 to 06:00 local on Sundays (six
real hours), so the offer meets the missing and the repeated hour; another works
from 21:00 on Saturdays into Sunday, so the offer meets midnight. The expected
windows are computed here from Python's zoneinfo, independently of the C code:
the grid starts at local midnight, a window every 30 minutes, 60 minutes long,
inside the shift, never crossing local midnight; each carries its UTC instants,
its local renderings with their offsets and its HH:MM-HH:MM label. A window
across each change is booked and its calendar invite read by icalendar and
vobject."""

import datetime as dt
import unittest

import ics_checks
import otd_booking as ob

H = dt.timedelta(hours=1)
M30 = dt.timedelta(minutes=30)


def expected_windows(date, shift_start, shift_minutes, step=M30, width=H):
    """The grid windows of a local date inside [shift_start, +shift_minutes)
    and inside the local day."""
    day_start, day_end = ob.local_midnight(date), ob.next_midnight(date)
    shift_end = shift_start + dt.timedelta(minutes=shift_minutes)
    out = []
    t = day_start
    while t + width <= day_end:
        if t >= shift_start and t + width <= shift_end:
            e = t + width
            out.append({"start": ob.iso(t), "end": ob.iso(e),
                        "local_start": ob.local_iso(t), "local_end": ob.local_iso(e),
                        "label": "%s-%s" % (t.astimezone(ob.LONDON).strftime("%H:%M"),
                                            e.astimezone(ob.LONDON).strftime("%H:%M"))})
        t += step
    return out


class TestDaylightSaving(ob.BookingTestCase):
    server_env = {"ONTHEDOT_PLANNING_TRAVEL_SPREAD": "0",
                  "ONTHEDOT_PLANNING_BREAK_MINUTES": "0"}
    holidays = None
    visitors = [
        dict(name="Noor Owl", role_title="night inspector", phone="01632 960300",
             base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}, skills=["night"],
             shifts=[{"start": "2026-03-01T00:00", "duration_minutes": 360,
                      "rrule": "FREQ=WEEKLY;BYDAY=SU"}]),
        dict(name="Lark Late", role_title="night inspector", phone="01632 960301",
             base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}, skills=["night"],
             shifts=[{"start": "2026-03-07T21:00", "duration_minutes": 360,
                      "rrule": "FREQ=WEEKLY;BYDAY=SA"}]),
    ]
    visit_types = [{"code": "night-check", "name": "Night check", "skill": "night",
                    "duration_median_minutes": 20, "duration_spread": 0, "window_minutes": 60}]
    addresses = ob.ADDRESSES[:1] + [("10090000099", "The Lighthouse", "", "Wrenfield",
                                     "ZZ9 9ZZ", 0, 0)]

    def check_day(self, date, sat_shift, sun_date):
        """The windows of Saturday date (the late shift) and of Sunday sun_date."""
        vt = self.types["night-check"]["id"]
        a = self.addr["The Lighthouse"]["id"]
        r = self.slots(a, vt, date, sun_date)
        days = {d["date"]: d for d in r.body["days"]}
        self.assertEqual(sorted(days), [date, sun_date])
        got = {k: [{f: w[f] for f in ("start", "end", "local_start", "local_end", "label")}
                   for w in d["windows"]] for k, d in days.items()}
        want_sat = expected_windows(date, ob.local(date, sat_shift), 360)
        want_sun = expected_windows(sun_date, ob.local_midnight(sun_date), 360)
        self.assertEqual(got[date], want_sat)
        self.assertEqual(got[sun_date], want_sun)
        self.assertEqual(days[sun_date]["weekday"], "Sunday")
        for k, d in days.items():
            for w in d["windows"]:
                self.assertEqual(w["capacity"], 1)  # one visitor works each shift
                s, e = ob.utc(w["start"]), ob.utc(w["end"])
                self.assertEqual(e - s, H)  # 60 real minutes, whatever the clocks say
                self.assertGreaterEqual(s, ob.local_midnight(k))
                self.assertLessEqual(e, ob.next_midnight(k))  # never past local midnight
        return got

    def book_and_check_invite(self, window, name):
        vt = self.types["night-check"]["id"]
        a = self.addr["The Lighthouse"]["id"]
        v = self.hold_and_book(a, vt, window["start"], name=name, phone=None,
                               email="%s@example.org" % name.split()[0].lower(),
                               consent={"sms": False, "email": True})
        self.assertEqual({k: v["window"][k] for k in window}, window)
        aid = self.appointment_id(v["reference"])
        mail = ob.outbox(self.srv, aid)[0]["payload"]
        ics_checks.check(self, mail["ics"], "REQUEST", v["reference"] + "@onthedot", 1,
                         window["start"], window["end"])
        ics = self.link(self.token_of(v), "/ics")
        ics_checks.check(self, ics.raw, "PUBLISH", v["reference"] + "@onthedot", 1,
                         window["start"], window["end"])
        return v, mail

    def test_spring_forward(self):
        got = self.check_day("2026-03-28", "21:00", "2026-03-29")
        sat = got["2026-03-28"]
        self.assertEqual([w["label"] for w in sat],
                         ["21:00-22:00", "21:30-22:30", "22:00-23:00", "22:30-23:30",
                          "23:00-00:00"])
        self.assertEqual(sat[-1]["end"], "2026-03-29T00:00:00Z")
        sun = got["2026-03-29"]
        # 00:00 GMT is 00:00Z; 01:00Z is already 02:00 BST.
        self.assertEqual([w["label"] for w in sun][:4],
                         ["00:00-02:00", "00:30-02:30", "02:00-03:00", "02:30-03:30"])
        self.assertEqual(sun[1], {"start": "2026-03-29T00:30:00Z", "end": "2026-03-29T01:30:00Z",
                                  "local_start": "2026-03-29T00:30:00+00:00",
                                  "local_end": "2026-03-29T02:30:00+01:00",
                                  "label": "00:30-02:30"})
        self.assertEqual(len(sun), 11)  # six real hours: 00:00Z to 06:00Z (07:00 BST)
        self.assertEqual(sun[-1]["label"], "06:00-07:00")
        self.assertFalse(any(w["label"].startswith("01:") for w in sun))  # no 01:xx exists
        v, mail = self.book_and_check_invite(sun[1], "Gap Gertrude")
        self.assertIn("DTSTART;TZID=Europe/London:20260329T003000", mail["ics"])
        self.assertIn("DTEND;TZID=Europe/London:20260329T023000", mail["ics"])
        self.assertEqual(v["date"], "2026-03-29")

    def test_z_fall_back(self):
        self.clock(to="2026-10-20T09:00:00Z")
        got = self.check_day("2026-10-24", "21:00", "2026-10-25")
        sat = got["2026-10-24"]
        self.assertEqual(sat[0]["start"], "2026-10-24T20:00:00Z")  # 21:00 BST
        self.assertEqual(sat[-1]["label"], "23:00-00:00")
        self.assertEqual(sat[-1]["end"], "2026-10-24T23:00:00Z")
        sun = got["2026-10-25"]
        self.assertEqual(len(sun), 11)  # 23:00Z to 05:00Z
        self.assertEqual(sun[0]["start"], "2026-10-24T23:00:00Z")
        self.assertEqual(sun[0]["local_start"], "2026-10-25T00:00:00+01:00")
        # The repeated hour: 01:00 BST, then 01:00 GMT an hour later.
        self.assertEqual([(w["local_start"], w["label"]) for w in sun[2:5]],
                         [("2026-10-25T01:00:00+01:00", "01:00-01:00"),
                          ("2026-10-25T01:30:00+01:00", "01:30-01:30"),
                          ("2026-10-25T01:00:00+00:00", "01:00-02:00")])
        self.assertEqual(sun[3]["start"], "2026-10-25T00:30:00Z")
        self.assertEqual(sun[3]["local_end"], "2026-10-25T01:30:00+00:00")
        self.assertEqual(sun[-1]["label"], "04:00-05:00")
        # A window inside the repeated hour: its invite names both ends in UTC.
        v, mail = self.book_and_check_invite(sun[3], "Twice Tabitha")
        self.assertIn("DTSTART:20261025T003000Z", mail["ics"])
        self.assertIn("DTEND:20261025T013000Z", mail["ics"])
        self.assertEqual(v["date"], "2026-10-25")
        # The late Saturday shift's last window ends at local midnight.
        v2, _ = self.book_and_check_invite(sat[-1], "Midnight Mo")
        self.assertEqual(v2["date"], "2026-10-24")


if __name__ == "__main__":
    unittest.main()
