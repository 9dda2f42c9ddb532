"""System routes and the server's common behaviour: /healthz, /metrics, the
virtual clock, 404 and 405 as JSON, HEAD like GET, security headers, logs."""

import re
import time
import unittest

import otd


class TestHealthAndErrors(otd.ServerTestCase):
    users = ("admin", "dispatcher")

    def test_healthz(self):
        r = self.srv.request("GET", "/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, {"status": "ok"})
        self.assertEqual(r.headers["Content-Type"], "application/json")
        self.assertEqual(r.headers["Cache-Control"], "no-store")
        self.assertRegex(r.headers["X-Request-Id"], r"^[0-9a-f]{20}$")
        self.assertIn("frame-ancestors 'none'", r.headers["Content-Security-Policy"])
        self.assertEqual(r.headers["Referrer-Policy"], "no-referrer")

    def test_index_page(self):
        r = self.srv.request("GET", "/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertTrue(r.body.startswith("<!doctype html>"), r.body[:100])
        self.assertIn('href="/api/v1/openapi.json"', r.body)
        h = self.srv.request("HEAD", "/")
        self.assertEqual((h.status, h.raw), (200, b""))
        self.assertEqual(h.headers["Content-Length"], str(len(r.raw)))

    def test_request_ids_differ(self):
        a = self.srv.request("GET", "/healthz").headers["X-Request-Id"]
        b = self.srv.request("GET", "/healthz").headers["X-Request-Id"]
        self.assertNotEqual(a, b)

    def test_head_like_get(self):
        for path, auth in (("/healthz", None), ("/api/v1/visitors", "admin"),
                           ("/api/v1/visit-types?limit=5", "admin"), ("/metrics", None),
                           ("/api/v1/nothing-here", None), ("/api/v1/visitors/999", "admin")):
            g = self.srv.request("GET", path, token=auth)
            h = self.srv.request("HEAD", path, token=auth)
            self.assertEqual(h.status, g.status, path)
            self.assertEqual(h.raw, b"", path)
            skip = {"date", "x-request-id", "content-length"}
            gh = {k.lower(): v for k, v in g.headers.items() if k.lower() not in skip}
            hh = {k.lower(): v for k, v in h.headers.items() if k.lower() not in skip}
            self.assertEqual(hh, gh, path)
            if path != "/metrics":  # the metrics text grows between the two requests
                self.assertEqual(h.headers["Content-Length"], str(len(g.raw)), path)

    def test_not_found_is_json(self):
        for path in ("/nothing", "/index.html", "/api/v1/visitors/1/nothing", "/api/v1//visitors",
                     "/healthz/", "/api/v1/visitors/", "/API/V1/VISITORS"):
            r = self.srv.request("GET", path, token="admin")
            self.assertError(r, 404, "not_found", no_field=True)
        # An {id} that is not a positive integer names nothing either.
        for bad in ("abc", "0", "-1", "01", "+1", "1.5", "99999999999999999999"):
            r = self.srv.request("GET", "/api/v1/visitors/" + bad, token="admin")
            self.assertError(r, 404, "not_found")
            r = self.srv.request("GET", "/api/v1/visit-types/%s" % bad, token="admin")
            self.assertError(r, 404, "not_found")

    def test_method_not_allowed_is_json_with_allow(self):
        cases = [("DELETE", "/api/v1/visitors/1", "GET, HEAD, PATCH"),
                 ("PUT", "/api/v1/visitors", "GET, HEAD, POST"),
                 ("POST", "/healthz", "GET, HEAD"),
                 ("GET", "/api/v1/auth/login", "POST"),
                 ("HEAD", "/api/v1/auth/logout", "POST"),
                 ("PATCH", "/api/v1/visit-types", "GET, HEAD, POST"),
                 ("OPTIONS", "/metrics", "GET, HEAD"),
                 ("BREW", "/api/v1/visitors/7/shifts", "GET, HEAD")]
        for method, path, allow in cases:
            r = self.srv.request(method, path, token="admin")
            self.assertEqual(r.status, 405, (method, path))
            self.assertEqual(r.headers["Allow"], allow, (method, path))
            if method != "HEAD":
                self.assertError(r, 405, "method_not_allowed")
                self.assertIn(allow, r.error["message"])

    def test_405_and_404_before_authentication(self):
        # No credentials: the address is checked first, so a stranger learns
        # nothing more than with credentials.
        self.assertError(self.srv.request("DELETE", "/api/v1/visitors"), 405,
                         "method_not_allowed")
        self.assertError(self.srv.request("GET", "/api/v1/secret"), 404, "not_found")

    def test_secrets_in_query_strings_never_logged(self):
        # The harness fails the class at tearDown when a raw path with its
        # query, or a secret, shows up in the log.
        secret = "s3cr3t-link-token-QmFzZTY0"
        self.srv.note_secret(secret)
        self.assertEqual(self.srv.request("GET", "/healthz?token=" + secret).status, 200)
        r = self.srv.request("GET", "/api/v1/visitors?after=" + secret, token="admin")
        self.assertError(r, 400, "invalid_cursor", "after")
        r = self.srv.request("GET", "/a/" + secret)  # the customer's page: HTML
        self.assertEqual(r.status, 404)
        self.assertIn(b"This link does not work", r.raw)


class TestMetrics(otd.ServerTestCase):
    users = ()

    def test_prometheus_text(self):
        v = self.srv.create_visitor(name="Metric Visitor")
        for _ in range(3):
            self.assertEqual(self.srv.request("GET", "/api/v1/visitors/%d" % v["id"],
                                              token="admin").status, 200)
        self.assertEqual(self.srv.request("GET", "/api/v1/visitors/424242",
                                          token="admin").status, 404)
        self.assertEqual(self.srv.request("GET", "/no/such/path/77").status, 404)
        self.srv.request("GET", "/healthz")
        # A request is counted when its answer has gone out, which can be a
        # moment after the client has read it: wait for the last one.
        deadline = time.time() + 5
        while True:
            r = self.srv.request("GET", "/metrics")
            if ('route="/healthz",method="GET",status="200"} 1\n' in r.body
                    or time.time() > deadline):
                break
            time.sleep(0.05)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        text = r.body
        self.assertIn("# TYPE otd_http_requests_total counter", text)
        self.assertIn('otd_http_requests_total{route="/api/v1/visitors/{id}",method="GET",'
                      'status="200"} 3\n', text)
        self.assertIn('otd_http_requests_total{route="/api/v1/visitors/{id}",method="GET",'
                      'status="404"} 1\n', text)
        self.assertIn('otd_http_requests_total{route="/api/v1/visitors",method="POST",'
                      'status="201"} 1\n', text)
        self.assertIn('otd_http_requests_total{route="unmatched",method="GET",status="404"} 1\n',
                      text)
        self.assertIn('otd_http_requests_total{route="/healthz",method="GET",status="200"} 1\n',
                      text)
        templates = set(otd.spec().doc["paths"]) | {"unmatched"}
        routes = re.findall(r'route="([^"]*)"', text)
        self.assertTrue(routes)
        for route in routes:
            self.assertIn(route, templates)  # a template, never a raw id
        self.assertNotIn("/api/v1/visitors/%d" % v["id"], text)
        self.assertNotIn("424242", text)
        # Every sample line is NAME{labels} VALUE or NAME VALUE.
        for line in text.splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) otd_[a-z_]+ ")
                continue
            self.assertRegex(line, r'^otd_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? '
                                   r'[0-9.e+-]+$')
        for name in ("otd_http_request_duration_seconds_bucket{le=\"+Inf\"}",
                     "otd_http_request_duration_seconds_count", "otd_db_errors_total",
                     "otd_writer_queue_depth", "otd_outbox_depth",
                     "otd_http_connections_refused_total", "otd_clock_seconds"):
            self.assertIn(name, text)
        self.assertIn("otd_clock_seconds %d\n" % otd.iso_seconds(otd.VIRTUAL_START), text)
        self.assertIn("otd_db_errors_total 0\n", text)
        # The writer's time: the requests above wrote (a visitor added), and
        # the time in COMMIT is part of the time in transactions.
        busy = float(re.search(r"^otd_writer_busy_seconds_total ([0-9.e+-]+)$", text, re.M)
                     .group(1))
        commit = float(re.search(r"^otd_writer_commit_seconds_total ([0-9.e+-]+)$", text, re.M)
                       .group(1))
        self.assertGreater(commit, 0)
        self.assertGreaterEqual(busy, commit)


class TestVirtualClock(otd.ServerTestCase):
    users = ("admin", "dispatcher")

    def clock(self, body, **kw):
        kw.setdefault("token", "admin")
        return self.srv.request("POST", "/api/v1/admin/clock", body, **kw)

    def test_clock(self):
        start = otd.iso_seconds(otd.VIRTUAL_START)
        r = self.clock({"seconds": 0})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, {"now": otd.VIRTUAL_START})
        r = self.clock({"seconds": 3600})
        self.assertEqual(r.body, {"now": "2026-03-02T10:00:00Z"})
        r = self.clock({"to": "2026-03-02T11:30:00Z"})
        self.assertEqual(r.body, {"now": "2026-03-02T11:30:00Z"})
        # The service's time moved: a new record carries it.
        v = self.srv.create_visitor(name="Clocked")
        self.assertEqual(v["created_at"], "2026-03-02T11:30:00Z")
        m = self.srv.request("GET", "/metrics").body
        self.assertIn("otd_clock_seconds %d\n" % (start + 9000), m)
        # Never backwards, and the failed move changes nothing.
        self.assertError(self.clock({"to": "2026-03-02T11:29:59Z"}), 400, "clock_backwards",
                         "to")
        self.assertError(self.clock({"seconds": -1}), 400, "out_of_range", "seconds")
        self.assertEqual(self.clock({"seconds": 0}).body, {"now": "2026-03-02T11:30:00Z"})
        # Exactly one of seconds and to, well formed.
        self.assertError(self.clock({}), 400, "missing_field", "seconds")
        self.assertError(self.clock({"seconds": 1, "to": "2026-03-03T00:00:00Z"}), 400,
                         "missing_field", "seconds")
        self.assertError(self.clock({"seconds": "60"}), 400, "wrong_type", "seconds")
        self.assertError(self.clock({"seconds": 1.5}), 400, "wrong_type", "seconds")
        self.assertError(self.clock({"seconds": 366 * 86400 + 1}), 400, "out_of_range",
                         "seconds")
        self.assertError(self.clock({"to": "tomorrow"}), 400, "bad_time", "to")
        self.assertError(self.clock({"to": "2026-03-02T12:00:00"}), 400, "bad_time", "to")
        self.assertError(self.clock({"when": 5}), 400, "unknown_field", "when")
        self.assertError(self.clock(None, raw=b"{"), 400, "malformed_json")
        self.assertEqual(self.clock({"seconds": 0}).body, {"now": "2026-03-02T11:30:00Z"})

    def test_clock_needs_admin(self):
        self.assertError(self.clock({"seconds": 1}, token=None), 401, "unauthenticated")
        disp = self.srv.login("disp")
        self.assertError(self.clock({"seconds": 1}, token=None, session=disp), 403, "forbidden")
        admin = self.srv.login("admin")
        self.assertError(self.clock({"seconds": 0}, token=None, session=admin, csrf=False), 403,
                         "csrf_failed")
        self.assertEqual(self.clock({"seconds": 0}, token=None, session=admin).status, 200)


class TestRealClock(otd.ServerTestCase):
    """Without --virtual-clock the clock route does not exist for anyone."""
    virtual_clock = False
    users = ()

    def test_clock_route_is_404(self):
        r = self.srv.request("POST", "/api/v1/admin/clock", {"seconds": 60}, token="admin")
        self.assertError(r, 404, "not_found")
        r = self.srv.request("POST", "/api/v1/admin/clock", {"to": "2030-01-01T00:00:00Z"},
                             token="admin")
        self.assertError(r, 404, "not_found")
        # Still authenticated first.
        self.assertError(self.srv.request("POST", "/api/v1/admin/clock", {"seconds": 60}), 401,
                         "unauthenticated")

    def test_real_time(self):
        m = self.srv.request("GET", "/metrics").body
        now = int(re.search(r"^otd_clock_seconds ([0-9]+)$", m, re.M).group(1))
        self.assertLess(abs(now - time.time()), 60)


if __name__ == "__main__":
    unittest.main()
