"""HTTP limits: the body cap (413 from Content-Length and for chunked bodies),
the idle timeout (an idle client is closed while others are served) and the
per-client connection limit."""

import http.client
import json
import re
import threading
import time
import unittest

import otd

MAX_BODY = 4096


def padded_visitor(size, name):
    """A valid visitor body of exactly size bytes (JSON padded with spaces)."""
    raw = json.dumps(otd.visitor_body(name=name)).encode()
    assert len(raw) <= size
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


class TestBodyLimit(otd.ServerTestCase):
    server_env = {"ONTHEDOT_HTTP_MAX_BODY": str(MAX_BODY)}
    users = ("admin",)

    def count_visitors(self):
        return self.srv.sql("SELECT count(*) FROM visitors")[0][0]

    def test_content_length_over_the_cap(self):
        before = self.count_visitors()
        # Only the headers are sent: the answer comes from Content-Length alone.
        for n in (MAX_BODY + 1, 10 ** 12, 2 ** 63 - 1):
            r = self.srv.request("POST", "/api/v1/visitors", token="admin", declared_length=n)
            self.assertError(r, 413, "body_too_large")
            self.assertIn(str(MAX_BODY), r.error["message"])
            self.assertEqual(r.headers["Connection"], "close")
        # Also on public routes, before authentication, and on GET.
        for method, path in (("POST", "/api/v1/auth/login"), ("POST", "/api/v1/visitors"),
                             ("GET", "/healthz"), ("PATCH", "/api/v1/visit-types/1")):
            r = self.srv.request(method, path, declared_length=MAX_BODY + 1)
            self.assertError(r, 413, "body_too_large")
        self.assertEqual(self.count_visitors(), before)

    def test_unparsable_content_length(self):
        # libmicrohttpd answers these itself, before any callback of ours
        # (so in its own HTML, without our headers): the connection is closed
        # with 413 or 400 and nothing else happens.
        for value, status in ((b"18446744073709551617", b"413"), (b"abc", b"400"),
                              (b"-1", b"400")):
            s = otd.raw_connect(self.srv.port)
            s.sendall(b"POST /api/v1/visitors HTTP/1.1\r\nHost: t\r\nContent-Length: "
                      + value + b"\r\n\r\n")
            data, _ = otd.read_until_closed(s, 5)
            s.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 " + status + b" "), data[:100])
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)

    def test_body_at_and_over_the_cap(self):
        before = self.count_visitors()
        r = self.srv.request("POST", "/api/v1/visitors", raw=padded_visitor(MAX_BODY, "At Cap"),
                             token="admin")
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(r.body["name"], "At Cap")
        r = self.srv.request("POST", "/api/v1/visitors",
                             raw=padded_visitor(MAX_BODY + 1, "Over Cap"), token="admin")
        self.assertError(r, 413, "body_too_large")
        self.assertEqual(self.count_visitors(), before + 1)

    def test_chunked_body(self):
        before = self.count_visitors()
        raw = json.dumps(otd.visitor_body(name="Chunked")).encode()
        chunks = [raw[i:i + 50] for i in range(0, len(raw), 50)]
        r = self.srv.request("POST", "/api/v1/visitors", chunks=chunks, token="admin")
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(r.body["name"], "Chunked")
        # Over the cap with no Content-Length to go by: the bytes are counted.
        big = padded_visitor(MAX_BODY + 1000, "Chunked Over")
        chunks = [big[i:i + 700] for i in range(0, len(big), 700)]
        r = self.srv.request("POST", "/api/v1/visitors", chunks=chunks, token="admin")
        self.assertError(r, 413, "body_too_large")
        # One byte over, in one chunk.
        r = self.srv.request("POST", "/api/v1/visitors",
                             chunks=[padded_visitor(MAX_BODY + 1, "One Over")], token="admin")
        self.assertError(r, 413, "body_too_large")
        self.assertEqual(self.count_visitors(), before + 1)

    def test_endless_chunked_body_is_cut_off(self):
        # The server discards an over-long chunked body for a while, then
        # closes the connection instead of reading forever.
        s = otd.raw_connect(self.srv.port)
        self.srv.note_secret(self.srv.token)
        s.sendall(b"POST /api/v1/visitors HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                  + self.srv.token.encode() + b"\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        sent, closed = 0, False
        s.settimeout(10)
        try:
            while sent < 64 * 2 ** 20:
                s.sendall(chunk)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if not closed:
            data, _ = otd.read_until_closed(s, 10)
            closed = True
        s.close()
        self.assertTrue(closed)
        self.assertLess(sent, 64 * 2 ** 20, "the server read 64 MiB of an over-long body")
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)


class TestIdleTimeout(otd.ServerTestCase):
    """Idle clients (no bytes for 2 s) are closed; meanwhile everyone else is
    served. This covers idle clients only: one that trickles a byte now and
    then is bounded by the connection limits, not by this timeout."""
    server_env = {"ONTHEDOT_HTTP_IDLE_TIMEOUT": "2"}
    users = ("admin",)

    def test_idle_clients_closed_while_others_served(self):
        port = self.srv.port
        idle = {}
        # Connected, silent.
        idle["silent"] = otd.raw_connect(port)
        # Half a request line and headers, then nothing.
        idle["half_headers"] = otd.raw_connect(port)
        idle["half_headers"].sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nAccept: applic")
        # Headers done, half the body, then nothing.
        idle["half_body"] = otd.raw_connect(port)
        idle["half_body"].sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n"
                                  b"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n"
                                  b'{"login":"admin",')
        # A keep-alive connection left open after one answer.
        idle["keep_alive"] = otd.raw_connect(port)
        idle["keep_alive"].sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        t0 = time.monotonic()
        closed = {}

        def watch(name, sock):
            data, _ = otd.read_until_closed(sock, 10)
            closed[name] = (time.monotonic() - t0, data)

        watchers = [threading.Thread(target=watch, args=kv) for kv in idle.items()]
        for w in watchers:
            w.start()
        served = 0
        while time.monotonic() - t0 < 3.0:
            self.assertEqual(self.srv.request("GET", "/healthz").status, 200)
            r = self.srv.request("GET", "/api/v1/visitors", token="admin")
            self.assertEqual(r.status, 200)
            served += 2
            time.sleep(0.05)
        for w in watchers:
            w.join(15)
        for name in idle:
            self.assertIn(name, closed, "%s was never closed" % name)
            elapsed, data = closed[name]
            self.assertGreaterEqual(elapsed, 1.5, name)
            self.assertLess(elapsed, 5.0, name)
            idle[name].close()
        self.assertGreater(served, 20)
        # The keep-alive client got its answer before it was timed out.
        self.assertTrue(closed["keep_alive"][1].startswith(b"HTTP/1.1 200 "))
        self.assertNotIn(b"HTTP/1.1", closed["silent"][1])
        # Still serving.
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)


class TestPerClientConnections(otd.ServerTestCase):
    server_env = {"ONTHEDOT_HTTP_PER_IP_CONNECTIONS": "4"}
    users = ()

    def test_limit(self):
        held = [otd.raw_connect(self.srv.port) for _ in range(4)]
        time.sleep(0.5)  # let the server accept them all
        extra = otd.raw_connect(self.srv.port)
        try:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, elapsed = otd.read_until_closed(extra, 5)
        extra.close()
        self.assertEqual(data, b"", "a fifth connection from one address was served")
        for s in held:
            s.close()
        # Once they are gone, the client is served again.
        deadline = time.monotonic() + 5
        while True:
            try:
                r = self.srv.request("GET", "/metrics")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.assertLess(time.monotonic(), deadline, "still refused after 5 s")
                time.sleep(0.1)
        self.assertEqual(r.status, 200)
        refused = int(re.search(r"^otd_http_connections_refused_total ([0-9]+)$", r.body,
                                re.M).group(1))
        self.assertGreaterEqual(refused, 1)
        # Four at once are fine. The server counts a connection until it has
        # seen it closed, so the /metrics one above may still be counted for a
        # moment: the four are tried again until that has passed (with a
        # limit of three they would never all be served).
        deadline = time.monotonic() + 5
        while True:
            results = []

            def one():
                try:
                    results.append(self.srv.request("GET", "/healthz").status)
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    results.append("refused")
            threads = [threading.Thread(target=one) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
            if results == [200] * 4 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(results, [200] * 4)


if __name__ == "__main__":
    unittest.main()
