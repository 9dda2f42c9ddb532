"""Self-test of the gateway fixtures in gateways.py: a real Kannel (sendsms,
fake SMSC, delivery reports, inbound SMS), a real Postfix with STARTTLS, and
the Node SMTP server with mandatory AUTH. Needs the packages that
contrib/install-deps.sh test installs, and root for Postfix.

OTD_KEEP=1 keeps the gateways' folders (under OTD_TEST_TMP) to read their logs.
"""

import os
import shutil
import smtplib
import ssl
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage

import gateways
from gateways import GatewayError, HttpSink, Kannel, Smtp

TEST_TMP = gateways.TEST_TMP


def scratch(prefix):
    return gateways.gateway_root(TEST_TMP, prefix)


def remove(d):
    if not os.environ.get("OTD_KEEP"):
        shutil.rmtree(d, ignore_errors=True)


class ParserTest(unittest.TestCase):
    """The fakesmsc log parser on made-up lines (no daemons)."""

    PREFIX = "2026-12-04 17:36:09 [25771] [0] DEBUG: "

    def test_16bit_reference_out_of_order_and_newline(self):
        text = "\n".join([
            self.PREFIX + "Got message 1: <4711 +4915 udh %06%08%04%12%34%02%02 data %00B%00C>",
            self.PREFIX + "Got message 2: <4711 +4915 text line one>",
            "",  # fakesmsc logs a text SMS with a newline as two "messages"
            self.PREFIX + "Got message 3: <second line>",
            self.PREFIX + "Got message 4: <4711 +4915 udh %06%08%04%12%34%02%01 data %00A%00+>",
        ])
        parts = gateways.parse_fakesmsc_log(text)
        self.assertEqual(len(parts), 3)
        # bearerbox's access log says it was UCS-2
        sent = [{"sender": "4711", "receiver": "+4915", "coding": "ucs-2", "length": 8,
                 "data": b"\x00A\x00 \x00B\x00C"}]
        msgs = gateways.assemble_messages(parts, sent)
        self.assertEqual([(m["text"], m["coding"], m["parts"]) for m in msgs],
                         [("A BC", "ucs-2", 2), ("line one\nsecond line", "text", 1)])
        # an incomplete concatenation is held back
        self.assertEqual(len(gateways.assemble_messages(parts[:1])), 0)

    def test_missing_program_names_the_package(self):
        with self.assertRaisesRegex(GatewayError, "install the Debian package kannel-extras"):
            gateways.require("/nonexistent/fakesmsc", "kannel-extras")

    def test_free_ports_differ(self):
        ports = gateways.free_ports(5)
        self.assertEqual(len(set(ports)), 5)
        self.assertFalse(any(gateways.port_open(p) for p in ports))


class KannelTest(unittest.TestCase):
    """One Kannel for the class; its MO URL points at an HttpSink."""

    @classmethod
    def setUpClass(cls):
        cls.dir = scratch("kannel-")
        cls.sink = HttpSink()
        cls.addClassCleanup(remove, cls.dir)
        cls.addClassCleanup(cls.sink.stop)
        cls.kannel = Kannel(os.path.join(cls.dir, "k"))
        cls.kannel.start(mo_url=cls.sink.url + "/sms/in")
        cls.addClassCleanup(cls.kannel.stop)

    def sendsms(self, **params):
        """A plain urllib GET on sendsms; (status, body)."""
        q = {"username": self.kannel.username, "password": self.kannel.password}
        q.update(params)
        url = self.kannel.sendsms_url + "?" + urllib.parse.urlencode(q)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_for(self, receiver, n=1, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            got = [m for m in self.kannel.messages() if m["receiver"] == receiver]
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.02)

    def test_sendsms_decoded(self):
        long_gsm = ("Your visit on Mon 2 Mar 10:00-11:00 at 1 Main St is confirmed. "
                    "Reply C to cancel or call us. Grüße, € 20 deposit paid. ") * 2
        long_ucs2 = "Zoë O'Brien-Nguyễn, your appointment is confirmed. " * 3
        cases = [  # receiver, params, expected (text, coding, parts)
            ("+4915000001", {"text": "Job 42 assigned"}, ("Job 42 assigned", "text", 1)),
            ("+4915000002", {"text": "Zoë O'Brien-Nguyễn", "coding": "2", "charset": "UTF-8"},
             ("Zoë O'Brien-Nguyễn", "ucs-2", 1)),
            ("+4915000003", {"text": "Łukasz", "coding": "2", "charset": "UTF-8"},
             ("Łukasz", "ucs-2", 1)),
            ("+4915000004", {"text": long_gsm, "charset": "UTF-8"}, (long_gsm, "text", 2)),
            ("+4915000005", {"text": long_ucs2, "coding": "2", "charset": "UTF-8"},
             (long_ucs2, "ucs-2", 3)),
        ]
        for to, params, _ in cases:
            status, body = self.sendsms(**dict(params, **{"from": "4711", "to": to}))
            self.assertEqual(status, 202, body)
            self.assertIn("Accepted", body)
        for to, _, (text, coding, parts) in cases:
            got = self.wait_for(to)
            self.assertEqual(len(got), 1, "%s: %r" % (to, got))
            m = got[0]
            self.assertEqual((m["sender"], m["text"], m["coding"], m["parts"]),
                             ("4711", text, coding, parts), to)

    def test_gsm_text_loses_what_gsm_cannot_hold(self):
        # coding 0 (the default) goes through GSM 03.38: ü and € survive, ë does not
        status, _ = self.kannel.send("+4915000010", "Grüße Zoë €", charset="UTF-8")
        self.assertEqual(status, 202)
        self.assertEqual(self.wait_for("+4915000010")[0]["text"], "Grüße Zo? €")

    def test_wrong_password_is_refused(self):
        status, _ = self.sendsms(**{"username": "nobody", "password": "wrong", "from": "1",
                                    "to": "2", "text": "x"})
        self.assertEqual(status, 403)

    def test_delivery_reports(self):
        dlr_url = (self.sink.url + "/dlr?ref=r42&type=%d&status=%A&to=%p&from=%P&smsc=%i")
        status, _ = self.kannel.send("+4915000020", "with reports", dlr_mask=31,
                                     dlr_url=dlr_url)
        self.assertEqual(status, 202)
        got = self.sink.wait(lambda r: r["path"] == "/dlr" and r["query"].get("ref") == "r42",
                             n=2)
        self.assertEqual(sorted(r["query"]["type"] for r in got), ["1", "8"])
        for r in got:
            self.assertEqual(r["method"], "GET")
            self.assertEqual((r["query"]["to"], r["query"]["from"], r["query"]["smsc"]),
                             ("+4915000020", "4711", "FAKE"))
        acked = [r for r in got if r["query"]["type"] == "8"][0]
        self.assertEqual(acked["query"]["status"], "ACK/")

    def test_inbound_sms(self):
        self.kannel.inject_mo("+4915000030", "4711", "JOB 42 DONE")
        self.kannel.inject_mo("+4915000031", "4711", "Łukasz: ok 👍")
        plain = self.sink.wait(lambda r: r["query"].get("from") == "+4915000030")[0]
        self.assertEqual(plain["path"], "/sms/in")
        self.assertEqual((plain["query"]["to"], plain["query"]["text"], plain["query"]["coding"],
                          plain["query"]["smsc"]), ("4711", "JOB 42 DONE", "0", "MO"))
        uni = self.sink.wait(lambda r: r["query"].get("from") == "+4915000031")[0]
        self.assertEqual((uni["query"]["coding"], uni["query"]["charset"]), ("2", "UTF-16BE"))
        raw = urllib.parse.parse_qs(urllib.parse.urlsplit(uni["raw_path"]).query,
                                    encoding="latin-1")["text"][0].encode("latin-1")
        self.assertEqual(raw.decode("utf-16-be"), "Łukasz: ok 👍")


class KannelRecodeTest(unittest.TestCase):

    def test_mo_recode_hands_on_utf8(self):
        d = scratch("kannel-recode-")
        self.addCleanup(remove, d)
        with HttpSink() as sink:
            k = Kannel(os.path.join(d, "k"))
            k.start(mo_url=sink.url + "/in", mo_recode=True)
            try:
                k.inject_mo("+4915000040", "4711", "Привет, Zoë 😀")
                q = sink.wait()[0]["query"]
            finally:
                k.stop()
        self.assertEqual((q["text"], q["coding"], q["charset"]), ("Привет, Zoë 😀", "0", "UTF-8"))


class SmtpTest(unittest.TestCase):

    def message(self, to):
        m = EmailMessage()
        m["From"] = "Dispatcher <dispatch@example.test>"
        m["To"] = to
        m["Subject"] = "Termin für Zoë"
        m["Date"] = "Mon, 02 Mar 2026 09:00:00 +0000"
        m["Message-ID"] = "<gw-selftest-1@example.test>"
        m.set_content("Hallo Zoë,\nbis Montag.\n")
        return m

    def test_postfix_starttls_to_maildir(self):
        d = scratch("postfix-")
        self.addCleanup(remove, d)
        with Smtp(d, impl="postfix") as smtp:
            self.assertTrue(smtp.url.startswith("smtp://127.0.0.1:"))
            ctx = ssl.create_default_context(cafile=smtp.cafile)  # verifies 127.0.0.1
            with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as c:
                c.starttls(context=ctx)
                c.send_message(self.message("Zoë <zoe@example.test>"),
                               to_addrs=["zoe@example.test", "office@example.org"])
            msgs = smtp.wait_messages(2)
        self.assertEqual(sorted(m["Delivered-To"] for m in msgs),
                         ["office@example.org", "zoe@example.test"])
        for m in msgs:
            self.assertEqual(m["Subject"], "Termin für Zoë")
            self.assertEqual(m["Message-ID"], "<gw-selftest-1@example.test>")
            self.assertEqual(m.get_content(), "Hallo Zoë,\nbis Montag.\n")
            self.assertIn("with ESMTPS", m["Received"])  # went over TLS
            self.assertEqual(m["Return-Path"], "<dispatch@example.test>")

    def test_node_auth_is_mandatory(self):
        d = scratch("smtp-node-")
        self.addCleanup(remove, d)
        with Smtp(d, impl="node", auth_user="mailer", auth_pass="s3cret-pw") as smtp:
            ctx = ssl.create_default_context(cafile=smtp.cafile)
            with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as c:
                c.starttls(context=ctx)
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    c.login("mailer", "wrong")
                self.assertEqual(cm.exception.smtp_code, 535)
            with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as c:
                with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                    c.send_message(self.message("zoe@example.test"))
                self.assertEqual(cm.exception.smtp_code, 530)
            with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as c:
                c.starttls(context=ctx)
                c.login("mailer", "s3cret-pw")
                c.send_message(self.message("zoe@example.test"))
            msgs = smtp.wait_messages(1)
            env = smtp.envelopes()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0]["Subject"], "Termin für Zoë")
        self.assertEqual(msgs[0].get_content(), "Hallo Zoë,\nbis Montag.\n")
        self.assertEqual((env[0]["user"], env[0]["tls"], env[0]["deliveredTo"]),
                         ("mailer", True, "zoe@example.test"))


if __name__ == "__main__":
    unittest.main()
