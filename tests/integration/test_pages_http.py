"""The customer pages over plain HTTP (issue 6), the real binary, no browser:
what a phone with JavaScript off does, form by form, and what the browser
journeys (test_pages.py) cannot see: every bad field named at once, the
booking form sent twice booking once, a cross-site form refused with nothing
stored, every invalid link answering the very same 404 page, the page
headers (no caching, no referrer, the Content-Security-Policy), the doorstep
code equal on the customer's page and the visitor's route, a customer named
<img src=x onerror=alert(1)> escaped in every page, and "my address isn't
listed" reaching the dispatcher's inbox."""

import html
import re
import socket
import time
import unittest
import urllib.parse

import otd
import otd_booking as ob

EVIL = "<img src=x onerror=alert(1)>"
VT = "planning-inspection"


def form(fields):
    return urllib.parse.urlencode(fields).encode()


class TestPagesHttp(ob.BookingTestCase):

    users = ("admin", "dispatcher")

    def page(self, method, path, fields=None, status=200, headers=None):
        """One page request; returns (response, text)."""
        h = {"Host": "127.0.0.1:%d" % self.srv.port}
        h.update(headers or {})
        if fields is not None:
            r = self.srv.request(method, path, raw=form(fields), headers=h,
                                 content_type="application/x-www-form-urlencoded")
        else:
            r = self.srv.request(method, path, headers=h)
        text = r.raw.decode("utf-8")
        self.assertEqual(r.status, status, text[:3000])
        if r.headers.get("Content-Type", "").startswith("text/html"):
            self.assertNotIn(EVIL, text)  # never unescaped, anywhere
            if status != 303:  # whole, never cut short
                self.assertTrue(text.rstrip().endswith("</html>"), text[-300:])
        return r, text

    def windows_page(self, line1, date_index=0):
        a = self.addr[line1]["id"]
        vt = self.types[VT]["id"]
        r, text = self.page("GET", "/book?visit_type=%d&address=%d" % (vt, a))
        starts = re.findall(r'name="window_start" value="([0-9TZ:-]+)"', text)
        self.assertTrue(starts, text[:2000])
        return a, vt, starts

    def hold_page(self, line1, index=0):
        a, vt, starts = self.windows_page(line1)
        r, text = self.page("POST", "/book/hold", {"address": a, "visit_type": vt,
                                                    "window_start": starts[index]})
        fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', text))
        self.assertIn("hold", fields)
        self.srv.note_secret(fields["hold"])
        return {k: html.unescape(v) for k, v in fields.items()}

    def test_search_finds_addresses_forgivingly_and_names_the_field(self):
        vt = self.types[VT]["id"]
        for q in ("1 mill", "ZZ1 1AA", "zz11aa", "  1   MILL  road "):
            r, text = self.page("GET", "/book?visit_type=%d&q=%s" % (vt, urllib.parse.quote(q)))
            self.assertIn("1 Mill Road, Wrenfield, ZZ1 1AA", text, q)
        r, text = self.page("GET", "/book?visit_type=%d&q=qqqqq" % vt)
        self.assertIn("We found no address", text)
        r, text = self.page("GET", "/book?visit_type=&q=", status=400)
        self.assertIn('id="q-error"', text)
        self.assertIn('id="visit_type-error"', text)
        self.assertIn('aria-invalid="true"', text)
        r, text = self.page("GET", "/book?visit_type=%d&q=%s" % (vt, "x" * 101), status=400)
        self.assertIn("too long", text)
        r, text = self.page("GET", "/book?visit_type=%d&address=999999" % vt, status=400)
        self.assertIn("could not find that address", text)

    def test_a_booking_without_javascript_every_field_checked(self):
        f = self.hold_page("3 Mill Road")
        bad = dict(f, name="", phone="123", email="nope", access_needs="x" * 901)
        r, text = self.page("POST", "/book/confirm", bad, status=400)
        for field in ("name", "phone", "email", "contact", "access_needs"):
            self.assertIn('id="%s-error"' % field, text, field)
        self.assertIn('value="nope"', text)  # what they typed stays
        self.assertIn('href="#phone"', text)  # the summary links the field
        good = dict(f, name=EVIL, phone="07700 900401", email="", sms="1",
                    access_needs="Ramp at the side <door>", notes="Park on the drive")
        n0 = self.srv.sql("SELECT count(*) FROM appointments")[0][0]
        r, text = self.page("POST", "/book/confirm", good, status=303)
        loc = r.headers["Location"]
        m = re.fullmatch(r"/a/([A-Za-z0-9_-]{22})\?booked=1", loc)
        self.assertTrue(m, loc)
        token = m.group(1)
        self.srv.note_secret(token)
        # The same form again (a double tap, a retry): the same booking, no second.
        r2, _ = self.page("POST", "/book/confirm", good, status=303)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments")[0][0], n0 + 1)
        token2 = r2.headers["Location"][3:25]
        self.srv.note_secret(token2)
        r, page = self.page("GET", "/a/%s?booked=1" % token)
        ref = re.search(r'class="reference">(OTD-[A-Z0-9]{6})<', page).group(1)
        r, page2 = self.page("GET", "/a/%s" % token2)
        self.assertIn(ref, page2)
        self.assertIn(html.escape(EVIL, quote=True).replace("&#x27;", "&#39;"), page)
        notes = self.srv.sql("SELECT c.access_notes FROM customers c JOIN appointments a ON "
                             "a.customer_id = c.id WHERE a.reference = ?", (ref,))[0][0]
        self.assertEqual(notes, "Access needs: Ramp at the side <door>\nNotes: Park on the drive")
        # The page's headers: never cached, no referrer, the policy.
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        self.assertEqual(r.headers["Referrer-Policy"], "no-referrer")
        self.assertIn("script-src 'self'", r.headers["Content-Security-Policy"])
        # The doorstep code: the same on the visitor's route.
        code = re.search(r'class="code">(\d{4})<', page).group(1)
        aid = self.appointment_id(ref)
        vid, date = self.srv.sql("SELECT visitor_id, local_date FROM appointments WHERE id = ?",
                                 (aid,))[0]
        day = self.srv.request("GET", "/api/v1/visitors/%d/day?date=%s" % (vid, date),
                               token="admin")
        self.assertEqual(day.status, 200, day.raw)
        stops = [s for s in day.body["appointments"] if s["reference"] == ref]
        self.assertEqual(stops[0]["doorstep_code"], code)

    def test_a_cross_site_form_is_refused_and_stores_nothing(self):
        f = self.hold_page("7 Church Lane")
        n0 = self.srv.sql("SELECT count(*) FROM appointments")[0][0]
        good = dict(f, name="Cross Site", phone="07700 900402", sms="1")
        r, text = self.page("POST", "/book/confirm", good, status=403,
                            headers={"Origin": "https://evil.example"})
        self.assertIn("another site", text)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments")[0][0], n0)
        # What browsers really send: our pages say no-referrer, so the Origin
        # is "null" and there is no Referer; Sec-Fetch-Site tells the truth.
        for site in ("cross-site", "same-site"):
            self.page("POST", "/book/confirm", good, status=403,
                      headers={"Origin": "null", "Sec-Fetch-Site": site})
        self.assertEqual(self.srv.sql("SELECT count(*) FROM appointments")[0][0], n0)
        # From our own page it books.
        self.page("POST", "/book/confirm", good, status=303,
                  headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})

    def test_every_invalid_link_gets_the_same_page(self):
        a, vt, starts = self.windows_page("9 Church Lane")
        v = self.hold_and_book(a, vt, starts[1], name="Link Owner", phone="07700 900403",
                               email=None)
        token = self.token_of(v)
        r, ok = self.page("GET", "/a/%s" % token)
        self.assertIn(v["reference"], ok)
        # Revoked: "send me a new link" (through the page) revokes every link.
        r, sent = self.page("POST", "/a/new-link", {"reference": v["reference"],
                                                    "contact": "07700 900403"}, status=202)
        self.assertIn("Check your messages", sent)
        # Expired: a visit long past (its link works link_days after the visit).
        old = self.hold_and_book(a, vt, starts[0], name="Old Visit", phone="07700 900406",
                                 email=None)
        expired = self.token_of(old)
        self.page("GET", "/a/%s" % expired)
        end = ob.secs(ob.utc(old["window"]["end"]))
        self.clock(to=ob.iso(end + 31 * 86400))
        bodies = set()
        # revoked, unknown, too short, unknown of the right shape, a character
        # no token has, expired
        for t in (token, "A" * 22, "short", "%s-x" % token[:20], "AAAAAAAAAAAAAAAAAAAAA!",
                  expired):
            r, text = self.page("GET", "/a/%s" % urllib.parse.quote(t), status=404)
            self.assertIn("Send me a new link", text)
            bodies.add(text)
        self.assertEqual(len(bodies), 1, "one page for every invalid link")
        # Actions through a dead link change nothing.
        self.page("POST", "/a/%s/cancel" % token, {}, status=404)
        self.assertEqual(self.srv.sql("SELECT status FROM appointments WHERE reference = ?",
                                      (v["reference"],))[0][0], "booked")
        # The form names what is missing, next to each field, keeping what was typed.
        r, text = self.page("POST", "/a/new-link", {"reference": "", "contact": EVIL},
                            status=400)
        self.assertIn('id="reference-error"', text)
        self.assertNotIn('id="contact-error"', text)
        self.assertIn(html.escape(EVIL, quote=True).replace("&#x27;", "&#39;"), text)
        # The same answer whether or not the details matched.
        r, other = self.page("POST", "/a/new-link", {"reference": "OTD-ZZZZZZ",
                                                     "contact": "07700 900000"}, status=202)
        self.assertEqual(other, sent)

    def test_cancel_and_feedback_pages_say_what_is_wrong(self):
        a, vt, starts = self.windows_page("12 High Street")
        v = self.hold_and_book(a, vt, starts[2], name="Dee Cancel", phone="07700 900404",
                               email=None)
        token = self.token_of(v)
        r, text = self.page("GET", "/a/%s/cancel" % token)
        self.assertIn("Cancelling costs you nothing", text)
        # Feedback before the visit: refused, next to the field.
        r, text = self.page("POST", "/a/%s/feedback" % token, {"rating": "4"}, status=422)
        self.assertIn("once the visit is done", text)
        self.assertIn('class="error-summary" role="alert"', text)
        r, text = self.page("POST", "/a/%s/feedback" % token, {"rating": "9"}, status=400)
        self.assertIn("Choose a rating from 1 to 5", text)
        # Not a form: a clear page, nothing changed.
        r = self.srv.request("POST", "/a/%s/cancel" % token, {"x": 1},
                             headers={"Host": "127.0.0.1:%d" % self.srv.port})
        self.assertEqual(r.status, 400)
        self.page("POST", "/a/%s/cancel" % token, {}, status=303)
        self.assertEqual(self.srv.sql("SELECT status, cancelled_by FROM appointments WHERE "
                                      "reference = ?", (v["reference"],))[0],
                         ("cancelled", "customer"))
        r, text = self.page("GET", "/a/%s/cancel" % token, status=422)
        self.assertIn("already cancelled", text)

    def test_an_unlisted_address_reaches_the_inbox(self):
        r, text = self.page("GET", "/book/unlisted")
        r, text = self.page("POST", "/book/unlisted", {"address": "", "name": EVIL,
                                                       "phone": "", "email": ""}, status=400)
        self.assertIn('id="address-error"', text)
        n0 = self.srv.sql("SELECT count(*) FROM inbound_messages")[0][0]
        self.page("POST", "/book/unlisted", {"address": "Flat 9, The New Mill, ZZ9 9ZZ",
                                             "name": EVIL, "phone": "07700 900405",
                                             "email": "", "visit_type": "1"})
        rows = self.srv.sql("SELECT provider, outcome, body FROM inbound_messages ORDER BY id "
                            "DESC LIMIT 1")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM inbound_messages")[0][0], n0 + 1)
        self.assertEqual(rows[0][:2], ("web", "inbox"))
        self.assertIn("Flat 9, The New Mill, ZZ9 9ZZ", rows[0][2])

    def test_static_files_and_public_pages(self):
        for name, ctype in (("site.css", "text/css"), ("site.js", "text/javascript"),
                            ("icon.svg", "image/svg+xml")):
            r = self.srv.request("GET", "/static/" + name)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.headers["Content-Type"].startswith(ctype), r.headers)
            self.assertIn("max-age", r.headers["Cache-Control"])
        self.assertEqual(self.srv.request("GET", "/static/openapi.json").status, 404)
        r, text = self.page("GET", "/privacy")
        self.assertIn("How we use your details", text)
        r, text = self.page("GET", "/trust")
        self.assertIn("How well we keep our promises", text)
        self.assertIn("The last 90 days", text)


class TestLiveStatus(ob.BookingTestCase):
    """The customer's stream hears the visitor set off, even when it is the
    first tap of the day and a risk pass just before projected the same
    numbers (the page's live status was stuck on "booked" then)."""

    def test_the_first_tap_of_the_day_reaches_the_customer(self):
        a = self.addr["2 Orchard Way"]["id"]
        vt = self.types[VT]["id"]
        date = "2026-03-05"
        w = self.windows(a, vt, date)[date][0]
        v = self.hold_and_book(a, vt, w["start"], name="Live", phone="07700 900777", email=None)
        token = self.token_of(v)
        vid = self.srv.sql("SELECT visitor_id FROM appointments WHERE reference = ?",
                           (v["reference"],))[0][0]
        self.srv.add_user("visitor", "live%d" % vid, "Live visitor", visitor_id=vid)
        at = ob.iso(ob.secs(ob.utc(w["start"])) + 600)
        self.clock(to=at)
        time.sleep(1.5)  # a ticker pass projects the day first
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(("GET /api/v1/a/%s/stream HTTP/1.1\r\nHost: x\r\n"
                   "Accept: text/event-stream\r\n\r\n" % token).encode())
        s.settimeout(0.3)

        def read(seconds, want=None):
            out, end = b"", time.time() + seconds
            while time.time() < end and not (want and want in out):
                try:
                    d = s.recv(65536)
                    if not d:
                        break
                    out += d
                except socket.timeout:
                    pass
            return out

        read(1.0)
        session = self.srv.login("live%d" % vid)
        r = self.srv.request("POST", "/api/v1/visitor/events",
                             {"client_event_id": "go", "type": "start_travel", "at": at,
                              "appointment": v["reference"]}, session=session)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["applied"], 1, r.raw)
        got = read(8.0, b'"status":"travelling"')
        self.assertIn(b"event: appointment", got)
        self.assertIn(b'"status":"travelling"', got)
        self.assertIn(b'"band_early":"2026-03-05T', got)


if __name__ == "__main__":
    unittest.main()
