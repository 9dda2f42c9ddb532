"""Sign-in, sessions, roles and CSRF: login and logout, 401 without valid
credentials, 403 for a role a route does not allow, 403 for a missing or
wrong CSRF token on a cookie-authenticated change (checked after 401), the
login rate limit (429 with Retry-After) and a full hash queue (503)."""

import re
import threading
import unittest

import otd

ALL_ROLES = ("admin", "dispatcher", "finance", "visitor")


class TestLogin(otd.ServerTestCase):

    def test_login(self):
        r = self.srv.request("POST", "/api/v1/auth/login",
                             {"login": "disp", "password": otd.PASSWORD})
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["user"]["login"], "disp")
        self.assertEqual(r.body["user"]["role"], "dispatcher")
        self.assertEqual(r.body["user"]["name"], "Test dispatcher")
        self.assertIsNone(r.body["user"]["visitor_id"])
        self.assertRegex(r.body["csrf_token"], r"^[A-Za-z0-9_-]{43}$")
        self.assertEqual(r.body["expires_at"], "2026-03-02T21:00:00Z")  # 12 hours
        cookies = r.headers.get_all("Set-Cookie")
        self.assertEqual(len(cookies), 1)
        m = re.fullmatch(r"otd_session=([A-Za-z0-9_-]{43}); Path=/; HttpOnly; SameSite=Strict; "
                         r"Max-Age=43200", cookies[0])
        self.assertIsNotNone(m, cookies[0])  # and no Secure without TLS
        self.assertNotEqual(m.group(1), r.body["csrf_token"])

    def test_login_is_case_insensitive(self):
        s = self.srv.login("DiSp")
        self.assertEqual(s.user["login"], "disp")

    def test_wrong_password_and_unknown_user_look_the_same(self):
        wrong = self.srv.request("POST", "/api/v1/auth/login",
                                 {"login": "disp", "password": "not-the-password"})
        unknown = self.srv.request("POST", "/api/v1/auth/login",
                                   {"login": "nobody", "password": otd.PASSWORD})
        bad_name = self.srv.request("POST", "/api/v1/auth/login",
                                    {"login": "Not A Login!", "password": otd.PASSWORD})
        self.assertError(wrong, 401, "invalid_credentials", no_field=True)
        self.assertEqual(unknown.status, 401)
        self.assertEqual(unknown.raw, wrong.raw)
        self.assertEqual(bad_name.raw, wrong.raw)
        self.assertIsNone(wrong.headers.get("Set-Cookie"))
        self.assertIsNone(unknown.headers.get("Set-Cookie"))

    def test_login_body_errors(self):
        def login(body=None, **kw):
            return self.srv.request("POST", "/api/v1/auth/login", body, **kw)
        self.assertError(login({"login": "disp"}), 400, "missing_field", "password")
        self.assertError(login({"password": otd.PASSWORD}), 400, "missing_field", "login")
        self.assertError(login({"login": "disp", "password": otd.PASSWORD, "remember": True}),
                         400, "unknown_field", "remember")
        self.assertError(login({"login": 5, "password": otd.PASSWORD}), 400, "wrong_type",
                         "login")
        self.assertError(login({"login": "disp", "password": None}), 400, "wrong_type",
                         "password")
        self.assertError(login({"login": "", "password": otd.PASSWORD}), 400, "empty", "login")
        self.assertError(login({"login": "d" * 65, "password": otd.PASSWORD}), 400, "too_long",
                         "login")
        self.assertError(login({"login": "disp", "password": "p" * 257}), 400, "too_long",
                         "password")
        self.assertError(login(raw=b'{"login":"disp","login":"admin","password":"x"}'), 400,
                         "duplicate_field", "login")
        self.assertError(login(raw=b'{"login":"disp",'), 400, "malformed_json", no_field=True)
        self.assertError(login(raw=b'["disp"]'), 400, "malformed_json")
        self.assertError(login(raw=b'{"login":"disp","password":"%s"} {}' %
                               otd.PASSWORD.encode()), 400, "malformed_json")
        self.assertError(login(raw=b''), 400, "empty_body")
        self.assertError(login(raw=b'login=disp', content_type="application/x-www-form-urlencoded"),
                         400, "unsupported_media_type")

    def test_session_route(self):
        r = self.srv.request("GET", "/api/v1/auth/session", token="admin")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, {"kind": "token", "role": "admin", "token_id": 1})
        s = self.srv.login("fin")
        r = self.srv.request("GET", "/api/v1/auth/session", session=s)
        self.assertEqual(r.body["kind"], "session")
        self.assertEqual(r.body["role"], "finance")
        self.assertEqual(r.body["user_id"], s.user["id"])
        self.assertIsNone(r.body["visitor_id"])
        self.assertEqual(r.body["csrf_token"], s.csrf)

    def test_logout_revokes_the_session(self):
        a = self.srv.login("disp")
        b = self.srv.login("disp")  # a second session of the same user
        self.assertEqual(self.srv.request("GET", "/api/v1/visitors", session=a).status, 200)
        # Without the CSRF token the logout is refused and the session lives on.
        self.assertError(self.srv.request("POST", "/api/v1/auth/logout", session=a, csrf=False),
                         403, "csrf_failed")
        self.assertEqual(self.srv.request("GET", "/api/v1/auth/session", session=a).status, 200)
        r = self.srv.request("POST", "/api/v1/auth/logout", session=a)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.raw, b"")
        self.assertRegex(r.headers["Set-Cookie"], r"^otd_session=; Path=/; HttpOnly; "
                                                  r"SameSite=Strict; Max-Age=0$")
        for path in ("/api/v1/auth/session", "/api/v1/visitors"):
            self.assertError(self.srv.request("GET", path, session=a), 401, "session_expired")
        self.assertError(self.srv.request("POST", "/api/v1/auth/logout", session=a), 401,
                         "session_expired")
        # The other session is untouched.
        self.assertEqual(self.srv.request("GET", "/api/v1/auth/session", session=b).status, 200)
        n = self.srv.sql("SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL "
                         "AND user_id = ?", (a.user["id"],))[0][0]
        self.assertEqual(n, 1)

    def test_token_cannot_logout(self):
        r = self.srv.request("POST", "/api/v1/auth/logout", token="admin")
        self.assertError(r, 422, "not_a_session")
        self.assertEqual(self.srv.request("GET", "/api/v1/auth/session", token="admin").status,
                         200)

    def test_login_is_audited(self):
        s = self.srv.login("fin")
        rows = self.srv.sql("SELECT actor_kind, actor_id, ip FROM audit_log WHERE "
                            "action = 'session.start' AND actor_id = ?", (s.user["id"],))
        self.assertTrue(rows)
        self.assertEqual(rows[-1], ("user", s.user["id"], "127.0.0.1"))


class TestAuthorisation(otd.ServerTestCase):
    """Every staff route, every role: 401, 403, CSRF."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.visitor = cls.srv.create_visitor(name="Vera Visitor")
        cls.visit_type = cls.srv.create_visit_type("boiler-repair")
        cls.srv.add_user("visitor", "vera", "Vera Visitor", visitor_id=cls.visitor["id"])
        cls.reference = "OTD-AAAAAA"  # for /api/v1/appointments/{reference}
        aid = cls.srv.insert_appointment(cls.visitor["id"], cls.visit_type["id"], cls.reference,
                                         "2026-03-03", "2026-03-03T10:00:00Z",
                                         "2026-03-03T11:00:00Z")
        # A guarantee case whose id is the one the paths use ({id}).
        cls.srv.sql("INSERT INTO guarantee_cases(id, appointment_id, promise_version, reason, "
                    "rule_set, rule_version, amount_minor, currency, breached_at, deadline_at, "
                    "created_at) VALUES (?, ?, 1, 'window_missed', 'gb-energy', '2023-04', 4000, "
                    "'GBP', 1772535600, 1773446400, 1772535600)", (cls.visitor["id"], aid))
        cls.sessions = {role: cls.srv.login(login) for role, login in
                        (("admin", "admin"), ("dispatcher", "disp"), ("finance", "fin"),
                         ("visitor", "vera"))}

    def operations(self, optional=True):
        """Operations that take staff credentials; optional: also those that
        are public as well (security holds {}: the booking routes)."""
        doc = otd.spec().doc
        for template, item in doc["paths"].items():
            for method, op in item.items():
                if method in otd.HTTP_METHODS and op["security"]:
                    if {} in op["security"] and not optional:
                        continue
                    path = template.replace("{id}", str(
                        self.visit_type["id"] if "visit-types" in template
                        else self.visitor["id"])).replace("{reference}", self.reference)
                    if path.endswith("/shifts"):
                        path += "?from=2026-03-02&to=2026-03-08"
                    if path == "/api/v1/visitor/stream":
                        path += "?visitor=%d" % self.visitor["id"]
                    if path == "/api/v1/guarantees/report":
                        path += "?quarter=2026-Q1"
                    if path == "/api/v1/slots":
                        path += "?visit_type=%d&lat=51.5&lon=-0.12" % self.visit_type["id"]
                    yield template, method.upper(), path, op

    def test_no_credentials_is_401_everywhere(self):
        n = 0
        for template, method, path, op in self.operations(optional=False):
            r = self.srv.request(method, path, {} if method != "GET" else None)
            self.assertError(r, 401, "unauthenticated", no_field=True)
            self.assertEqual(r.headers.get("Set-Cookie"), None)
            n += 1
        # and the 4 appointment routes of dispatchers, 2 live streams, the
        # 4 tracking routes, the disruption route, the 5 guarantee routes and
        # the 2 feedback moderation routes, reassignment and the 2 rebalance
        # routes, and the board's 8 (board, inbox, 2 inbox closes,
        # reassignment options, message log, personal message, reorder), and
        # the 3 privacy routes of admins (erase, export, the audit log)
        self.assertEqual(n, 15 + 4 + 2 + 4 + 1 + 5 + 2 + 1 + 2 + 8 + 3)

    def get_ok(self, path, **kw):
        """GET answers 200; a live stream never ends, so it is asked with HEAD
        (which answers like GET, without opening the stream)."""
        method = "HEAD" if path.split("?")[0].endswith("/stream") else "GET"
        return self.srv.request(method, path, **kw)

    def test_bad_credentials_are_401(self):
        bogus_token = "otd_" + "A" * 43
        cases = [({"Authorization": "Bearer " + bogus_token}, "invalid_token"),
                 ({"Authorization": "Bearer " + self.srv.token + "x"}, "invalid_token"),
                 ({"Authorization": "Bearer " + self.srv.token[4:]}, "invalid_token"),
                 ({"Authorization": "Bearer"}, "unsupported_authorization"),
                 ({"Authorization": "Basic YWRtaW46cGFzc3dvcmQ="}, "unsupported_authorization"),
                 ({"Authorization": self.srv.token}, "unsupported_authorization"),
                 ({"Cookie": "otd_session=" + "B" * 43}, "session_expired"),
                 ({"Cookie": "otd_session=short"}, "session_expired"),
                 ({"Cookie": "other=1"}, "unauthenticated")]
        for headers, code in cases:
            self.srv.note_secret(headers.get("Authorization", "")[7:])
            r = self.srv.request("GET", "/api/v1/visitors", headers=headers)
            self.assertError(r, 401, code)

    def test_token_is_admin_everywhere(self):
        for template, method, path, op in self.operations():
            if op["x-roles"] == ["visitor"]:
                continue  # a visitor's own route: a token is nobody's
            if method == "GET":
                r = self.get_ok(path, token="admin")
                self.assertEqual(r.status, 200, (path, r.raw))

    def test_roles(self):
        n_forbidden = 0
        for template, method, path, op in self.operations():
            allowed = set(op["x-roles"])
            for role in ALL_ROLES:
                s = self.sessions[role]
                if role not in allowed:
                    r = self.srv.request(method, path, {} if method != "GET" else None,
                                         session=s)
                    self.assertError(r, 403, "forbidden")
                    self.assertIn(role, r.error["message"])
                    n_forbidden += 1
                elif method == "GET":
                    r = self.get_ok(path, session=s)
                    self.assertEqual(r.status, 200, (role, path, r.raw))
        # 8 admin-only changes x 3 roles + 5 admin/dispatcher reads x 2 roles,
        # and for finance and visitor: the 4 appointment routes of dispatchers
        # and the 3 booking routes that staff may use too; the dispatch stream
        # for finance and visitor, a visitor's route stream for finance; a
        # visitor's day and "unavailable" for finance and visitor, and the
        # visitor's own events and day for the three staff roles; the
        # disruption route for finance and visitor; the guarantee routes: the
        # list and a case for visitors, the report and paying for dispatchers
        # and visitors, exempting for finance and visitors; the feedback
        # queue and moderation for finance and visitors; reassignment and the
        # two rebalance routes for finance and visitors; the board's 8 routes
        # for finance and visitors; the 3 admin-only privacy routes (erase,
        # export, the audit log) for the three other roles.
        self.assertEqual(n_forbidden,
                         8 * 3 + 5 * 2 + 4 * 2 + 3 * 2 + 2 + 1 + 2 * 2 + 2 * 3 + 2 + 8 + 2 * 2
                         + 3 * 2 + 8 * 2 + 3 * 3)

    def test_named_cases(self):
        disp, vis = self.sessions["dispatcher"], self.sessions["visitor"]
        # A dispatcher may read visitors but not change them.
        path = "/api/v1/visitors/%d" % self.visitor["id"]
        self.assertEqual(self.srv.request("GET", path, session=disp).status, 200)
        r = self.srv.request("PATCH", path, {"name": "Renamed by dispatcher"}, session=disp)
        self.assertError(r, 403, "forbidden")
        self.assertEqual(self.srv.request("GET", path, token="admin").body["name"],
                         "Vera Visitor")
        # A visitor user may not read the visitor list, not even their own record.
        self.assertError(self.srv.request("GET", "/api/v1/visitors", session=vis), 403,
                         "forbidden")
        self.assertError(self.srv.request("GET", path, session=vis), 403, "forbidden")
        r = self.srv.request("GET", "/api/v1/auth/session", session=vis)
        self.assertEqual(r.body["role"], "visitor")
        self.assertEqual(r.body["visitor_id"], self.visitor["id"])

    def test_csrf(self):
        admin = self.srv.login("admin")
        other = self.sessions["admin"]
        before = self.srv.sql("SELECT count(*) FROM visitors")[0][0]
        body = otd.visitor_body(name="Made with a cookie")
        for csrf in (False, other.csrf, "x" * 43, admin.csrf[:-1], admin.csrf + "x", "",
                     admin.csrf.lower() if admin.csrf.lower() != admin.csrf else "y" * 43):
            r = self.srv.request("POST", "/api/v1/visitors", body, session=admin, csrf=csrf)
            self.assertError(r, 403, "csrf_failed")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM visitors")[0][0], before)
        path = "/api/v1/visitors/%d" % self.visitor["id"]
        for method, p, b in (("PATCH", path, {"name": "x"}),
                             ("POST", path + "/deactivate", None),
                             ("POST", "/api/v1/visit-types", {"code": "x"}),
                             ("POST", "/api/v1/visit-types/%d/deactivate" % self.visit_type["id"],
                              None),
                             ("POST", "/api/v1/admin/clock", {"seconds": 1})):
            self.assertError(self.srv.request(method, p, b, session=admin, csrf=False), 403,
                             "csrf_failed")
        self.assertTrue(self.srv.request("GET", path, token="admin").body["active"])
        # With the right token it goes through; reads never need one.
        r = self.srv.request("POST", "/api/v1/visitors", body, session=admin)
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(self.srv.request("GET", path, session=admin, csrf=False).status, 200)
        # A bearer token needs no CSRF token.
        r = self.srv.request("PATCH", "/api/v1/visitors/%d" % r.body["id"],
                             {"role_title": "inspector"}, token="admin", csrf=False)
        self.assertEqual(r.status, 200, r.raw)

    def test_401_before_403(self):
        body = otd.visitor_body(name="Nobody's")
        before = self.srv.sql("SELECT count(*) FROM visitors")[0][0]
        # No cookie, no CSRF token: 401, not 403.
        self.assertError(self.srv.request("POST", "/api/v1/visitors", body), 401,
                         "unauthenticated")
        # A CSRF token without a cookie authenticates nothing.
        self.assertError(self.srv.request("POST", "/api/v1/visitors", body,
                                          csrf=self.sessions["admin"].csrf), 401,
                         "unauthenticated")
        # A dead cookie without CSRF: 401 too.
        dead = otd.Session("x", "C" * 43, "D" * 43, {})
        self.assertError(self.srv.request("POST", "/api/v1/visitors", body, session=dead,
                                          csrf=False), 401, "session_expired")
        # Wrong role and no CSRF: the role answers (403 forbidden).
        r = self.srv.request("POST", "/api/v1/visitors", body, session=self.sessions["finance"],
                             csrf=False)
        self.assertError(r, 403, "forbidden")
        self.assertEqual(self.srv.sql("SELECT count(*) FROM visitors")[0][0], before)


class TestLoginRateLimit(otd.ServerTestCase):
    """Three sign-in attempts per client address at once, ten a minute."""
    server_env = {"ONTHEDOT_LIMITS_LOGIN_IP_BURST": "3",
                  "ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE": "10"}
    users = ("dispatcher",)

    def login(self, login="disp", password=otd.PASSWORD):
        return self.srv.request("POST", "/api/v1/auth/login",
                                {"login": login, "password": password})

    def advance(self, seconds):
        r = self.srv.request("POST", "/api/v1/admin/clock", {"seconds": seconds}, token="admin")
        self.assertEqual(r.status, 200)

    def test_burst_then_429(self):
        self.assertEqual(self.login(password="wrong-password-1").status, 401)
        self.assertEqual(self.login(login="nobody").status, 401)
        self.assertEqual(self.login().status, 200)
        # The bucket is empty: even the right password is refused, without a cookie.
        for _ in range(2):
            r = self.login()
            self.assertError(r, 429, "too_many_attempts")
            self.assertEqual(r.headers["Retry-After"], "6")  # one attempt per 6 s
            self.assertIn("6 seconds", r.error["message"])
            self.assertIsNone(r.headers.get("Set-Cookie"))
        # A wait shorter than Retry-After is not enough; the one it names is.
        self.advance(5)
        r = self.login()
        self.assertError(r, 429, "too_many_attempts")
        retry = int(r.headers["Retry-After"])
        self.assertIn(retry, (1, 2))
        self.advance(retry)
        self.assertEqual(self.login().status, 200)
        self.assertEqual(self.login().status, 429)
        # Other routes are not limited.
        self.assertEqual(self.srv.request("GET", "/api/v1/visitors", token="admin").status, 200)
        m = self.srv.request("GET", "/metrics").body
        self.assertIn('otd_http_requests_total{route="/api/v1/auth/login",method="POST",'
                      'status="429"} 4\n', m)


class TestBusyHasher(otd.ServerTestCase):
    """One password hasher with room for one waiting job: a burst of sign-ins
    gets 503 with Retry-After for the ones that do not fit."""
    server_env = {"ONTHEDOT_AUTH_HASH_WORKERS": "1", "ONTHEDOT_AUTH_HASH_QUEUE": "1"}
    users = ("dispatcher",)

    def test_burst_of_logins(self):
        n = 10
        results = [None] * n
        barrier = threading.Barrier(n)

        def one(i):
            barrier.wait()
            results[i] = self.srv.request("POST", "/api/v1/auth/login",
                                          {"login": "disp", "password": otd.PASSWORD})

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(r.status for r in results)
        self.assertTrue(set(statuses) <= {200, 503}, statuses)
        self.assertIn(200, statuses)
        self.assertIn(503, statuses)
        for r in results:
            if r.status == 503:
                self.assertError(r, 503, "busy")
                self.assertEqual(r.headers["Retry-After"], "1")
        # Once the burst is over, signing in works again.
        self.assertEqual(self.srv.login("disp").user["login"], "disp")


if __name__ == "__main__":
    unittest.main()
