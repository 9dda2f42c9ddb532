"""HTTPS served by onthedot itself, and the scheme behind a reverse proxy.

A self-signed certificate made with the openssl command in the server's folder:
HTTPS with a context trusting it; Strict-Transport-Security over TLS and never
over plain HTTP; the session cookie marked Secure over TLS; SIGHUP after the
files were replaced serves the new certificate to new connections (the peer
certificate's fingerprint) while requests keep being answered, and a SIGHUP with
a broken key keeps the old certificate and logs why; start refuses a missing or
mismatched key with a message naming the file; plain HTTP to the TLS port fails
cleanly and the server stays up. Behind a proxy: X-Forwarded-Proto: https from a
trusted proxy (127.0.0.1) makes the request secure (HSTS, Secure cookie); the
same header from an untrusted address (127.0.0.2) does not.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest

import otd

HSTS = "Strict-Transport-Security"


def make_cert(folder, name, cn="127.0.0.1"):
    """Writes NAME.crt and NAME.key (P-256, self-signed, valid 2 days, for
    127.0.0.1) into folder with the openssl command; returns their paths."""
    crt = os.path.join(folder, name + ".crt")
    key = os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", crt],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def der_fingerprint(path):
    """SHA-256 of the certificate in a PEM file, as the server presents it."""
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def peer_fingerprint(port):
    """SHA-256 of the certificate the server presents to a new connection."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def wait_for_log(srv, msg, count, timeout=15.0):
    """Waits until the server has logged msg at least count times; returns
    those log records."""
    deadline = time.monotonic() + timeout
    while True:
        recs = []
        for line in srv.stderr_text().split("\n"):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("msg") == msg:
                recs.append(rec)
        if len(recs) >= count:
            return recs
        if time.monotonic() > deadline:
            raise AssertionError("the server did not log %r %d time(s) within %.0f s:\n%s"
                                 % (msg, count, timeout, srv.stderr_text()[-3000:]))
        time.sleep(0.05)


def session_cookie(resp):
    for c in resp.headers.get_all("Set-Cookie") or []:
        if c.startswith("otd_session="):
            return c
    raise AssertionError("no session cookie in %r" % resp.headers.get_all("Set-Cookie"))


def cookie_is_secure(cookie):
    return any(p.strip().lower() == "secure" for p in cookie.split(";")[1:])


class TlsTest(unittest.TestCase):
    """One server over HTTPS with certificate A; B is ready for a reload."""

    @classmethod
    def setUpClass(cls):
        cls.srv = otd.Server("TlsTest")
        cls.addClassCleanup(cls.srv.kill)
        d = cls.srv.dir
        cls.a_crt, cls.a_key = make_cert(d, "a")
        cls.b_crt, cls.b_key = make_cert(d, "b")
        cls.crt = os.path.join(d, "live.crt")
        cls.key = os.path.join(d, "live.key")
        shutil.copy(cls.a_crt, cls.crt)
        shutil.copy(cls.a_key, cls.key)
        cls.srv.extra_env.update({"ONTHEDOT_HTTP_TLS_CERT": cls.crt,
                                  "ONTHEDOT_HTTP_TLS_KEY": cls.key})
        # Trusts A and B, checks the name (127.0.0.1 is in both).
        cls.trust = os.path.join(d, "trust.pem")
        with open(cls.trust, "w") as out:
            for p in (cls.a_crt, cls.b_crt):
                with open(p) as f:
                    out.write(f.read())
        cls.srv.ssl_context = ssl.create_default_context(cafile=cls.trust)
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def test_https_answers_with_hsts(self):
        r = self.srv.request("GET", "/healthz")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.headers.get(HSTS), "max-age=31536000")
        # An error answer carries it too.
        r = self.srv.request("GET", "/no/such/page")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.headers.get(HSTS), "max-age=31536000")

    def test_an_untrusted_certificate_is_refused_by_a_checking_client(self):
        # The client side of the test can fail: a context without our
        # certificate must not connect.
        conn = http.client.HTTPSConnection("127.0.0.1", self.srv.port, timeout=10,
                                           context=ssl.create_default_context())
        with self.assertRaises(ssl.SSLCertVerificationError):
            conn.request("GET", "/healthz")
        conn.close()

    def test_sign_in_sets_a_secure_cookie(self):
        r = self.srv.request("POST", "/api/v1/auth/login",
                             {"login": "admin", "password": otd.PASSWORD})
        self.assertEqual(r.status, 200, r.raw)
        cookie = session_cookie(r)
        self.assertTrue(cookie_is_secure(cookie), cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertEqual(r.headers.get(HSTS), "max-age=31536000")

    def test_plain_http_to_the_tls_port_fails_cleanly(self):
        s = otd.raw_connect(self.srv.port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data, _ = otd.read_until_closed(s, limit=10.0)
        s.close()
        self.assertFalse(data.startswith(b"HTTP/"), data[:200])
        # The server is still up and serving HTTPS.
        r = self.srv.request("GET", "/healthz")
        self.assertEqual(r.status, 200)
        self.assertIsNone(self.srv.proc.poll())

    def test_sighup_reloads_the_certificate(self):
        a_fp, b_fp = der_fingerprint(self.a_crt), der_fingerprint(self.b_crt)
        self.assertNotEqual(a_fp, b_fp)
        self.assertEqual(peer_fingerprint(self.srv.port), a_fp)
        reloads = len(wait_for_log(self.srv, "tls_reloaded", 0))
        failures = len(wait_for_log(self.srv, "tls_reload_failed", 0))

        # A connection opened before the reload, kept alive across it.
        early = self.srv.connect()
        early.request("GET", "/healthz")
        r = early.getresponse()
        r.read()
        self.assertEqual(r.status, 200)

        # Requests on new connections all through the reload.
        stop = threading.Event()
        outcomes = []

        def hammer():
            while not stop.is_set():
                try:
                    c = self.srv.connect(timeout=10)
                    c.request("GET", "/healthz")
                    resp = c.getresponse()
                    resp.read()
                    outcomes.append(resp.status)
                    c.close()
                except Exception as e:  # any failure is a finding
                    outcomes.append(repr(e))
        t = threading.Thread(target=hammer)
        t.start()
        try:
            time.sleep(0.3)
            shutil.copy(self.b_crt, self.crt)
            shutil.copy(self.b_key, self.key)
            self.srv.proc.send_signal(signal.SIGHUP)
            rec = wait_for_log(self.srv, "tls_reloaded", reloads + 1)[-1]
            self.assertEqual(rec["sha256"], b_fp)
            time.sleep(0.3)
        finally:
            stop.set()
            t.join(30)
        bad = [o for o in outcomes if o != 200]
        self.assertFalse(bad, bad[:5])
        self.assertGreater(len(outcomes), 2)
        self.assertEqual(peer_fingerprint(self.srv.port), b_fp)
        # The early connection still works, with the certificate it had.
        self.assertEqual(hashlib.sha256(early.sock.getpeercert(binary_form=True)).hexdigest(),
                         a_fp)
        early.request("GET", "/healthz")
        r = early.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        early.close()

        # A broken key: the reload fails, B stays, the log says why.
        with open(self.key, "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        self.srv.proc.send_signal(signal.SIGHUP)
        rec = wait_for_log(self.srv, "tls_reload_failed", failures + 1)[-1]
        self.assertIn(self.key, rec["detail"])
        self.assertEqual(rec["kept"], b_fp)
        self.assertEqual(peer_fingerprint(self.srv.port), b_fp)
        # A key of the other certificate: refused too.
        shutil.copy(self.a_key, self.key)
        self.srv.proc.send_signal(signal.SIGHUP)
        rec = wait_for_log(self.srv, "tls_reload_failed", failures + 2)[-1]
        self.assertEqual(rec["code"], "tls_key_mismatch")
        self.assertEqual(peer_fingerprint(self.srv.port), b_fp)
        r = self.srv.request("GET", "/healthz")
        self.assertEqual(r.status, 200)
        shutil.copy(self.b_key, self.key)
        self.assertIsNone(self.srv.proc.poll())

        # /metrics: B's expiry, one reload that worked and two that did not.
        r = self.srv.request("GET", "/metrics")
        text = r.raw.decode()
        p = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", self.b_crt],
                           check=True, capture_output=True, text=True)
        not_after = int(ssl.cert_time_to_seconds(p.stdout.strip().split("=", 1)[1]))
        self.assertIn("\notd_tls_certificate_expiry_timestamp_seconds %d\n" % not_after, text)
        self.assertIn('\notd_tls_reloads_total{outcome="ok"} 1\n', text)
        self.assertIn('\notd_tls_reloads_total{outcome="failed"} 2\n', text)


class StartRefusalTest(unittest.TestCase):
    """serve refuses bad TLS settings before it listens, naming the file."""

    @classmethod
    def setUpClass(cls):
        cls.srv = otd.Server("TlsRefusal", users=())
        cls.srv.prepare()
        cls.crt, cls.key = make_cert(cls.srv.dir, "a")
        cls.other_crt, cls.other_key = make_cert(cls.srv.dir, "b")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.srv.dir, ignore_errors=True)

    def refused(self, env):
        self.srv.extra_env = dict(env)
        p = self.srv.cli("serve", "--db", self.srv.db, "--listen", "127.0.0.1:0", check=False,
                         timeout=60)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        return p.stderr

    def test_a_missing_key_file(self):
        missing = os.path.join(self.srv.dir, "nope.key")
        err = self.refused({"ONTHEDOT_HTTP_TLS_CERT": self.crt, "ONTHEDOT_HTTP_TLS_KEY": missing})
        self.assertIn(missing, err)
        self.assertIn("No such file", err)
        self.assertIn("http.tls_key", err)

    def test_a_key_of_another_certificate(self):
        err = self.refused({"ONTHEDOT_HTTP_TLS_CERT": self.crt,
                            "ONTHEDOT_HTTP_TLS_KEY": self.other_key})
        self.assertIn("does not belong", err)
        self.assertIn(self.other_key, err)
        self.assertIn(self.crt, err)

    def test_check_config_reads_the_files_too(self):
        self.srv.extra_env = {"ONTHEDOT_HTTP_TLS_CERT": self.crt,
                              "ONTHEDOT_HTTP_TLS_KEY": self.other_key}
        p = self.srv.cli("serve", "--db", self.srv.db, "--check-config", check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("does not belong", p.stderr)
        self.srv.extra_env = {"ONTHEDOT_HTTP_TLS_CERT": self.crt, "ONTHEDOT_HTTP_TLS_KEY": self.key}
        p = self.srv.cli("serve", "--db", self.srv.db, "--check-config")
        self.assertIn("configuration is valid", p.stdout)

    def test_a_certificate_without_a_key(self):
        err = self.refused({"ONTHEDOT_HTTP_TLS_CERT": self.crt})
        self.assertIn("http.tls_key", err)

    def test_a_file_that_is_not_pem(self):
        junk = os.path.join(self.srv.dir, "junk.crt")
        with open(junk, "wb") as f:
            f.write(b"\x30\x82\x01\x00 DER, not PEM")
        err = self.refused({"ONTHEDOT_HTTP_TLS_CERT": junk, "ONTHEDOT_HTTP_TLS_KEY": self.key})
        self.assertIn(junk, err)
        self.assertIn("not PEM", err)


class ProxyTest(otd.ServerTestCase):
    """Plain HTTP with 127.0.0.1 as the trusted proxy; 127.0.0.2 is a client
    that connects directly."""

    server_env = {"ONTHEDOT_HTTP_TRUSTED_PROXIES": "127.0.0.1"}

    def send(self, method, path, body=None, source="127.0.0.1", proto=None):
        headers = {}
        raw = None
        if body is not None:
            raw = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if proto is not None:
            headers["X-Forwarded-Proto"] = proto
        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30,
                                          source_address=(source, 0))
        try:
            conn.request(method, path, body=raw, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        self.srv.spec.check_response(method, path, resp.status, resp.msg, data)
        for c in resp.msg.get_all("Set-Cookie") or []:
            m = re.match(r"otd_session=([^;]*)", c)
            if m:
                self.srv.note_secret(m.group(1))
        return otd.Response(resp.status, resp.msg, None, data)

    def login(self, **kw):
        r = self.send("POST", "/api/v1/auth/login", {"login": "admin", "password": otd.PASSWORD},
                      **kw)
        self.assertEqual(r.status, 200, r.raw)
        return session_cookie(r)

    def test_plain_http_has_no_hsts_and_no_secure_cookie(self):
        r = self.srv.request("GET", "/healthz")
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.headers.get(HSTS))
        r = self.srv.request("GET", "/metrics")
        self.assertNotIn(b"otd_tls_", r.raw)
        self.assertFalse(cookie_is_secure(self.login()))

    def test_https_at_a_trusted_proxy_is_secure(self):
        r = self.send("GET", "/healthz", proto="https")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers.get(HSTS), "max-age=31536000")
        self.assertTrue(cookie_is_secure(self.login(proto="https")))
        # http at the proxy is not.
        r = self.send("GET", "/healthz", proto="http")
        self.assertIsNone(r.headers.get(HSTS))
        self.assertFalse(cookie_is_secure(self.login(proto="http")))

    def test_the_header_from_an_untrusted_address_is_ignored(self):
        try:
            r = self.send("GET", "/healthz", source="127.0.0.2", proto="https")
        except OSError as e:  # a loopback without 127.0.0.2
            self.skipTest("cannot connect from 127.0.0.2: %s" % e)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.headers.get(HSTS))
        self.assertFalse(cookie_is_secure(self.login(source="127.0.0.2", proto="https")))


class HstsOffTest(otd.ServerTestCase):
    """http.hsts_seconds = 0 sends no header, even on a secure request; the
    cookie is still Secure."""

    server_env = {"ONTHEDOT_HTTP_TRUSTED_PROXIES": "127.0.0.1",
                  "ONTHEDOT_HTTP_HSTS_SECONDS": "0"}

    def test_no_hsts_when_turned_off(self):
        r = self.srv.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.headers.get(HSTS))
        r = self.srv.request("POST", "/api/v1/auth/login",
                             {"login": "admin", "password": otd.PASSWORD},
                             headers={"X-Forwarded-Proto": "https"})
        self.assertTrue(cookie_is_secure(session_cookie(r)))


if __name__ == "__main__":
    unittest.main()
