"""The other providers (label: messaging): SMTP with AUTH (a real Node
smtp-server that refuses mail without it), a Twilio-style Messages API, the
generic signed JSON webhook, and a provider chain.

Twilio cannot run on loopback, so a small local server speaks its Messages
API (basic auth, form POST, 201 with a SID); its status callbacks and inbound
messages are signed here the way Twilio signs them (HMAC-SHA1 of the URL and
the sorted form, python's hmac), and the server must check them. The webhook
receiver checks our HMAC-SHA256 signature with python's hmac.
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import tempfile
import threading
import time
import unittest
import urllib.parse

import gateways
import otd
import otd_booking as ob

VT = "planning-inspection"
SID, TOKEN = "AC0123456789abcdef", "twilio-token-" + "x" * 20
HOOK_SECRET = "hook-secret-" + "y" * 20


def twilio_signature(token, url, params):
    data = url + "".join(k + v for k, v in sorted(params.items()))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class Recorder(http.server.ThreadingHTTPServer):
    """A local HTTP server recording requests; respond(handler, body) decides
    the answer (status, content type, body)."""

    daemon_threads = True

    def __init__(self, respond):
        self.requests, self.respond = [], respond
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body})
                status, ctype, out = outer.respond(self, body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), H)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


class ProviderCase(ob.BookingTestCase):

    def book_one(self, line1, date, index=0, **kw):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        return self.hold_and_book(a, vt, ws[index]["start"], **kw)

    def rows(self, aid):
        return self.srv.sql("SELECT id, channel, state, provider, provider_id, last_error FROM "
                            "outbox WHERE appointment_id = ? ORDER BY id", (aid,))

    def wait_state(self, aid, channel, state, timeout=20):
        return wait_for(lambda: [r for r in self.rows(aid) if r[1] == channel and r[2] == state],
                        timeout, "%s %s" % (channel, state))


class TestSmtpAuth(ProviderCase):
    """A real SMTP server that wants AUTH and STARTTLS."""

    @classmethod
    def setUpClass(cls):
        root = gateways.gateway_root(otd.TEST_TMP, cls.__name__ + "-gw-")
        cls.smtp = gateways.Smtp(os.path.join(root, "smtp"), impl="node", auth_user="onthedot",
                                 auth_pass="s3cret-pass-word")
        cls.smtp.start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.server_env = {
            "ONTHEDOT_DELIVERY_EMAIL_PROVIDERS": "smtp",
            "ONTHEDOT_DELIVERY_SMTP_URL": cls.smtp.url,
            "ONTHEDOT_DELIVERY_SMTP_CAFILE": cls.smtp.cafile,
            "ONTHEDOT_DELIVERY_SMTP_USER": "onthedot",
            "ONTHEDOT_DELIVERY_SMTP_PASSWORD": "s3cret-pass-word",
        }
        super().setUpClass()
        cls.srv.secrets.add("s3cret-pass-word")

    def test_authenticated_over_starttls(self):
        v = self.book_one("5 Willow Drive", "2026-03-05", 0, name="Nia Evans", phone=None,
                          email="nia@example.org")
        aid = self.appointment_id(v["reference"])
        self.wait_state(aid, "email", "sent")
        self.smtp.wait_messages(1)
        env = self.smtp.envelopes()[-1]
        self.assertEqual(env["user"], "onthedot")
        self.assertTrue(env["tls"])
        self.assertEqual(env["rcptTo"], ["nia@example.org"])


class TestTwilioAndWebhook(ProviderCase):
    """SMS through a Twilio-style API that refuses the first number for
    good (so that message moves on to the webhook, the next provider),
    email through the signed webhook."""

    @classmethod
    def setUpClass(cls):
        def twilio(handler, body):
            auth = handler.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(("%s:%s" % (SID, TOKEN)).encode()).decode()
            if auth != want:
                return 401, "application/json", b'{"code": 20003, "message": "Authenticate"}'
            form = dict(urllib.parse.parse_qsl(body.decode()))
            if form.get("To") == "+447700900899":
                return 400, "application/json", b'{"code": 21211, "message": "Invalid To"}'
            sid = "SM%032x" % len(cls.twilio.requests)
            return 201, "application/json", json.dumps({"sid": sid, "status": "queued"}).encode()

        def hook(handler, body):
            sig = "sha256=" + hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
            if handler.headers.get("X-Onthedot-Signature") != sig:
                return 401, "text/plain", b"bad signature"
            return 200, "application/json", b'{"id": "hook-1"}'

        cls.twilio = Recorder(twilio)
        cls.hook = Recorder(hook)
        cls.addClassCleanup(cls.twilio.stop)
        cls.addClassCleanup(cls.hook.stop)
        cls.server_env = {
            "ONTHEDOT_DELIVERY_EMAIL_PROVIDERS": "webhook",
            "ONTHEDOT_DELIVERY_SMS_PROVIDERS": "twilio,webhook",
            "ONTHEDOT_DELIVERY_TWILIO_URL": cls.twilio.base + "/2010-04-01/Accounts/%s/Messages"
                                                               ".json" % SID,
            "ONTHEDOT_DELIVERY_TWILIO_SID": SID,
            "ONTHEDOT_DELIVERY_TWILIO_TOKEN": TOKEN,
            "ONTHEDOT_DELIVERY_TWILIO_FROM": "+441632960999",
            "ONTHEDOT_DELIVERY_WEBHOOK_URL": cls.hook.base + "/messages",
            "ONTHEDOT_DELIVERY_WEBHOOK_SECRET": HOOK_SECRET,
        }
        super().setUpClass()
        cls.srv.secrets.update({TOKEN, HOOK_SECRET})

    def test_twilio_send_status_callback_and_inbound(self):
        v = self.book_one("7 Church Lane", "2026-03-05", 1, name="Łukasz Wiśniewski",
                          phone="07700 900801", email=None)
        aid = self.appointment_id(v["reference"])
        row = self.wait_state(aid, "sms", "sent")[0]
        self.assertEqual(row[3], "twilio")
        self.assertRegex(row[4], r"^SM[0-9a-f]{32}$")
        req = [r for r in self.twilio.requests
               if b"To=%2B447700900801" in r["body"]][0]
        form = dict(urllib.parse.parse_qsl(req["body"].decode()))
        self.assertIn("Łukasz Wiśniewski", form["Body"])
        self.assertEqual(form["From"], "+441632960999")
        callback = form["StatusCallback"]
        self.assertTrue(callback.startswith("http://127.0.0.1:%d/api/v1/webhooks/twilio/status?"
                                            % self.srv.port), callback)
        path = callback[len("http://127.0.0.1:%d" % self.srv.port):]
        params = {"MessageSid": row[4], "MessageStatus": "delivered", "To": "+447700900801"}
        body = urllib.parse.urlencode(params).encode()
        ctype = "application/x-www-form-urlencoded"
        # A forged callback (wrong key) changes nothing.
        bad = self.srv.request("POST", path, raw=body, content_type=ctype,
                               headers={"X-Twilio-Signature": twilio_signature("wrong", callback,
                                                                               params)})
        self.assertError(bad, 403, "bad_signature")
        ok = self.srv.request("POST", path, raw=body, content_type=ctype,
                              headers={"X-Twilio-Signature": twilio_signature(TOKEN, callback,
                                                                              params)})
        self.assertEqual(ok.status, 200, ok.raw)
        self.assertEqual(self.srv.sql("SELECT status FROM delivery_receipts WHERE outbox_id = ?",
                                      (row[0],)), [("delivered",)])
        # Twilio inbound: signed over PUBLIC_URL/api/v1/webhooks/twilio/inbound.
        url = "http://127.0.0.1:%d/api/v1/webhooks/twilio/inbound" % self.srv.port
        params = {"MessageSid": "SMinbound1", "From": "+447700900801", "Body": "Ring me first"}
        body = urllib.parse.urlencode(params).encode()
        r = self.srv.request("POST", "/api/v1/webhooks/twilio/inbound", raw=body,
                             content_type=ctype,
                             headers={"X-Twilio-Signature": twilio_signature(TOKEN, url, params)})
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["outcome"], "inbox")
        self.assertEqual(r.body["reference"], v["reference"])
        # Twilio retries the same message: recorded once.
        r = self.srv.request("POST", "/api/v1/webhooks/twilio/inbound", raw=body,
                             content_type=ctype,
                             headers={"X-Twilio-Signature": twilio_signature(TOKEN, url, params)})
        self.assertEqual(r.body["outcome"], "duplicate")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM inbound_messages WHERE provider_id "
                                      "= 'SMinbound1'")[0][0], 1)
        # Unsigned: refused.
        r = self.srv.request("POST", "/api/v1/webhooks/twilio/inbound", raw=body,
                             content_type=ctype)
        self.assertError(r, 403, "bad_signature")

    def test_email_through_the_signed_webhook(self):
        v = self.book_one("12 High Street", "2026-03-06", 0, name="<img src=x onerror=alert(1)>",
                          phone=None, email="hook@example.org")
        aid = self.appointment_id(v["reference"])
        row = self.wait_state(aid, "email", "sent")[0]
        self.assertEqual((row[3], row[4]), ("webhook", "hook-1"))
        req = [r for r in self.hook.requests if b"hook@example.org" in r["body"]][0]
        doc = json.loads(req["body"])
        self.assertEqual(doc["channel"], "email")
        self.assertEqual(doc["template"], "booking_confirmation")
        self.assertEqual(req["headers"]["Idempotency-Key"], doc["key"])
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", doc["message"]["html"])
        self.assertNotIn("<img", doc["message"]["html"])
        self.assertIn("BEGIN:VCALENDAR", doc["message"]["ics"])

    def test_a_refused_number_moves_to_the_next_provider(self):
        v = self.book_one("21 Station Road", "2026-03-06", 1, name="Ola Nordmann",
                          phone="07700 900899", email=None)
        aid = self.appointment_id(v["reference"])
        row = self.wait_state(aid, "sms", "sent")[0]
        self.assertEqual(row[3], "webhook")  # Twilio said 400: no retry there, the next one
        req = [r for r in self.hook.requests if b"+447700900899" in r["body"]][0]
        self.assertEqual(json.loads(req["body"])["channel"], "sms")
        attempts = self.srv.sql("SELECT attempts, provider_index FROM outbox WHERE id = ?",
                                (row[0],))[0]
        self.assertEqual(attempts, (2, 1))


class TestSmsCaps(ProviderCase):
    """The booking form cannot be used to pump text messages: per number,
    per prefix and per client, and only to the organisation's country."""

    server_env = {
        "ONTHEDOT_BOOKING_SMS_NUMBER_PER_DAY": "1",
        "ONTHEDOT_BOOKING_SMS_PREFIX_PER_HOUR": "4",
        "ONTHEDOT_BOOKING_SMS_PREFIX_DIGITS": "4",
        "ONTHEDOT_BOOKING_SMS_CLIENT_BURST": "8",
        "ONTHEDOT_BOOKING_SMS_CLIENT_PER_HOUR": "0.001",
    }

    def try_book(self, phone, vt=VT, line1="5 Willow Drive", email=None):
        vt = self.types[vt]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, "2026-03-09")["2026-03-09"]
        n = len(self.srv.sql("SELECT id FROM holds"))
        h = self.hold(a, vt, ws[n % len(ws)]["start"])
        self.assertEqual(h.status, 201, h.raw)
        # A new contact each time (its own email), asking for texts.
        return self.book(h.body["hold"], phone=phone, email=email or "c%d@example.org" % n,
                         consent={"sms": phone is not None, "email": phone is None})

    def test_caps(self):
        # Abroad: never (and it counts against the client).
        self.assertError(self.try_book("+33 6 12 34 56 78"), 400, "unsupported_country",
                         "phone")
        r = self.try_book("07700 900111")
        self.assertEqual(r.status, 201, r.raw)
        first = r.body["reference"]
        # "Send me a new link" to that number: the same answer, but no
        # second text today.
        r = self.srv.request("POST", "/api/v1/links/resend",
                             {"reference": first, "contact": "07700 900111"})
        self.assertEqual(r.status, 202, r.raw)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM outbox WHERE channel = 'sms' AND "
                                      "recipient = '+447700900111'")[0][0], 1)
        # The same number again (another visit) the same day: refused.
        r = self.try_book("07700 900111", vt="boiler-repair")
        self.assertError(r, 429, "too_many_texts", "phone")
        self.assertTrue(r.headers.get("Retry-After"))
        # Email instead is fine.
        r = self.try_book(None, vt="boiler-repair", email="instead@example.org")
        self.assertEqual(r.status, 201, r.raw)
        # Numbers sharing the prefix +44 7700: three more reach its hourly cap of 4.
        for phone in ("07700 900222", "07700 900333", "07700 900444"):
            r = self.try_book(phone)
            self.assertEqual(r.status, 201, r.raw)
        self.assertError(self.try_book("07700 900555"), 429, "too_many_texts", "phone")
        # Another prefix: the client's eighth request for texts passes, the
        # ninth does not.
        r = self.try_book("07701 123456")
        self.assertEqual(r.status, 201, r.raw)
        self.assertError(self.try_book("07702 123456"), 429, "rate_limited")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM outbox WHERE channel = 'sms'")[0][0],
                         5)


if __name__ == "__main__":
    unittest.main()
