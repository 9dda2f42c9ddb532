"""The visit type routes: create, read, update, list, deactivate; strict
input; Idempotency-Key; unique codes."""

import json
import unittest

import otd


def vt_body(code="boiler-repair", **fields):
    body = {"code": code or "no-code", "name": "Boiler repair", "skill": "gas",
            "duration_median_minutes": 75, "duration_spread": 0.4, "window_minutes": 120}
    if code is None:
        del body["code"]
    for k, v in fields.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


class TestVisitTypes(otd.ServerTestCase):
    users = ("admin", "dispatcher")

    def post(self, body=None, **kw):
        kw.setdefault("token", "admin")
        return self.srv.request("POST", "/api/v1/visit-types", body, **kw)

    def patch(self, tid, body=None, **kw):
        kw.setdefault("token", "admin")
        return self.srv.request("PATCH", "/api/v1/visit-types/%d" % tid, body, **kw)

    def get(self, tid, **kw):
        kw.setdefault("token", "admin")
        return self.srv.request("GET", "/api/v1/visit-types/%d" % tid, **kw)

    def count(self):
        return self.srv.sql("SELECT count(*) FROM visit_types")[0][0]

    def now(self, advance=0):
        return self.srv.request("POST", "/api/v1/admin/clock", {"seconds": advance},
                                token="admin").body["now"]

    def test_create_and_read(self):
        now = self.now()
        r = self.post(vt_body("meter-exchange", name="Meter exchange", skill="meter",
                              duration_median_minutes=37.5))
        self.assertEqual(r.status, 201, r.raw)
        t = r.body
        self.assertEqual(r.headers["Location"], "/api/v1/visit-types/%d" % t["id"])
        self.assertEqual({k: t[k] for k in t if k != "id"}, {
            "code": "meter-exchange", "name": "Meter exchange", "skill": "meter",
            "duration_median_minutes": 37.5, "duration_spread": 0.4, "window_minutes": 120,
            "active": True, "created_at": now, "updated_at": now})
        self.assertEqual(self.get(t["id"]).body, t)
        # A dispatcher reads it too.
        disp = self.srv.login("disp")
        self.assertEqual(self.get(t["id"], token=None, session=disp).body, t)
        # The spread defaults to 0.3.
        r = self.post(vt_body("broadband-install", duration_spread=None))
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(r.body["duration_spread"], 0.3)
        self.assertEqual(self.srv.sql("SELECT action FROM audit_log WHERE entity = 'visit_type' "
                                      "AND entity_id = ?", (t["id"],)),
                         [("visit_type.create",)])

    def test_strict_input(self):
        good = vt_body("strict")
        cases = [
            (vt_body(code=None), "missing_field", "code"),
            (vt_body(name=None), "missing_field", "name"),
            (vt_body(skill=None), "missing_field", "skill"),
            (vt_body(duration_median_minutes=None), "missing_field", "duration_median_minutes"),
            (vt_body(window_minutes=None), "missing_field", "window_minutes"),
            (dict(good, code=7), "wrong_type", "code"),
            (dict(good, duration_median_minutes="75"), "wrong_type", "duration_median_minutes"),
            (dict(good, duration_spread=True), "wrong_type", "duration_spread"),
            (dict(good, window_minutes=60.0), "wrong_type", "window_minutes"),
            (dict(good, active=False), "unknown_field", "active"),
            (dict(good, colour="red"), "unknown_field", "colour"),
            (dict(good, code=""), "empty", "code"),
            (dict(good, code="c" * 65), "too_long", "code"),
            (dict(good, code="Boiler Repair"), "invalid_code", "code"),
            (dict(good, code="boiler/repair"), "invalid_code", "code"),
            (dict(good, skill="GAS"), "invalid_code", "skill"),
            (dict(good, name="n" * 201), "too_long", "name"),
            (dict(good, name="bell\x07"), "invalid_text", "name"),
            (dict(good, duration_median_minutes=0), "out_of_range", "duration_median_minutes"),
            (dict(good, duration_median_minutes=0.05), "out_of_range",
             "duration_median_minutes"),
            (dict(good, duration_median_minutes=720.5), "out_of_range",
             "duration_median_minutes"),
            (dict(good, duration_spread=-0.1), "out_of_range", "duration_spread"),
            (dict(good, duration_spread=3.01), "out_of_range", "duration_spread"),
            (dict(good, window_minutes=10), "out_of_range", "window_minutes"),
            (dict(good, window_minutes=725), "out_of_range", "window_minutes"),
            (dict(good, window_minutes=62), "out_of_range", "window_minutes"),
        ]
        before = self.count()
        for body, code, field in cases:
            r = self.post(body)
            self.assertError(r, 400, code, field)
        self.assertError(self.post(raw=b'{"code":"a","code":"b"}'), 400, "duplicate_field",
                         "code")
        self.assertError(self.post(raw=b"{'code': 'single quotes'}"), 400, "malformed_json")
        self.assertError(self.post(raw=b'{"code":"x"'), 400, "malformed_json")
        self.assertEqual(self.count(), before)
        # The bounds themselves are accepted.
        for i, (med, spread, win) in enumerate(((0.1, 0, 15), (720, 3, 720))):
            r = self.post(vt_body("bounds-%d" % i, duration_median_minutes=med,
                                  duration_spread=spread, window_minutes=win))
            self.assertEqual(r.status, 201, r.raw)

    def test_code_taken(self):
        self.assertEqual(self.post(vt_body("unique-code")).status, 201)
        n = self.count()
        self.assertError(self.post(vt_body("unique-code", name="Another")), 409, "code_taken",
                         "code")
        other = self.post(vt_body("other-code")).body
        self.assertError(self.patch(other["id"], {"code": "unique-code"}), 409, "code_taken",
                         "code")
        self.assertEqual(self.get(other["id"]).body["code"], "other-code")
        self.assertEqual(self.count(), n + 1)

    def test_update_and_deactivate(self):
        t = self.post(vt_body("planning-inspection", name="Planning <inspection> & 'site' visit"))
        self.assertEqual(t.status, 201, t.raw)
        t = t.body
        self.assertEqual(t["name"], "Planning <inspection> & 'site' visit")
        now = self.now(120)
        self.assertGreater(now, t["updated_at"])
        r = self.patch(t["id"], {"window_minutes": 60, "duration_spread": 0.25})
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body, dict(t, window_minutes=60, duration_spread=0.25,
                                      updated_at=now))
        self.assertEqual(self.get(t["id"]).body, r.body)
        r = self.patch(t["id"], {"skill": "planning", "name": "Renamed",
                                 "duration_median_minutes": 90, "code": "planning-visit"})
        self.assertEqual((r.body["skill"], r.body["name"], r.body["duration_median_minutes"],
                          r.body["code"]), ("planning", "Renamed", 90, "planning-visit"))
        self.assertError(self.patch(t["id"], {}), 400, "empty_update")
        self.assertError(self.patch(t["id"], {"window_minutes": 7}), 400, "out_of_range",
                         "window_minutes")
        self.assertError(self.patch(t["id"], {"id": 3}), 400, "unknown_field", "id")
        self.assertError(self.patch(t["id"], {"active": "no"}), 400, "wrong_type", "active")
        self.assertError(self.patch(987654, {"name": "x"}), 404, "not_found")
        path = "/api/v1/visit-types/%d/deactivate" % t["id"]
        self.assertError(self.srv.request("POST", path, {}, token="admin"), 400,
                         "unexpected_body")
        self.assertTrue(self.get(t["id"]).body["active"])
        r = self.srv.request("POST", path, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertFalse(r.body["active"])
        self.assertFalse(self.get(t["id"]).body["active"])
        self.assertEqual(self.srv.request("POST", path, token="admin").status, 200)
        self.assertError(self.srv.request("POST", "/api/v1/visit-types/987654/deactivate",
                                          token="admin"), 404, "not_found")
        listed = self.srv.request("GET", "/api/v1/visit-types?active=false&limit=200",
                                  token="admin").body
        self.assertIn(t["id"], [x["id"] for x in listed["items"]])
        # PATCH active: true brings it back.
        r = self.patch(t["id"], {"active": True})
        self.assertTrue(r.body["active"])
        listed = self.srv.request("GET", "/api/v1/visit-types?active=false&limit=200",
                                  token="admin").body
        self.assertNotIn(t["id"], [x["id"] for x in listed["items"]])

    def test_idempotency_key(self):
        key = {"Idempotency-Key": "vt-7c1e0a9b-4f"}
        first = self.post(vt_body("idem-type"), headers=key)
        self.assertEqual(first.status, 201, first.raw)
        n = self.count()
        again = self.post(vt_body("idem-type"), headers=key)
        self.assertEqual(again.status, 201, again.raw)
        self.assertEqual(again.headers["Idempotent-Replayed"], "true")
        self.assertEqual(again.body, first.body)
        self.assertEqual(self.count(), n)
        # Byte-for-byte the same request only: the same JSON spaced differently
        # is another request.
        raw = json.dumps(vt_body("idem-type"), indent=1).encode()
        self.assertError(self.post(raw=raw, headers=key), 422, "idempotency_key_reused",
                         "Idempotency-Key")
        self.assertError(self.post(vt_body("idem-type-2"), headers=key), 422,
                         "idempotency_key_reused", "Idempotency-Key")
        self.assertEqual(self.count(), n)
        self.assertError(self.post(vt_body("idem-type-3"), headers={"Idempotency-Key": ""}), 400,
                         "invalid_idempotency_key", "Idempotency-Key")

    def test_list(self):
        codes = ["list-%d" % i for i in range(5)]
        ids = [self.post(vt_body(c)).body["id"] for c in codes]
        seen, after = [], None
        while True:
            q = "?limit=2" + ("&after=" + after if after else "")
            r = self.srv.request("GET", "/api/v1/visit-types" + q, token="admin")
            self.assertEqual(r.status, 200, r.raw)
            self.assertLessEqual(len(r.body["items"]), 2)
            seen += [x["id"] for x in r.body["items"]]
            after = r.body["next"]
            if after is None:
                break
        self.assertEqual(seen, sorted(seen))
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(set(ids) <= set(seen))
        self.assertEqual(len(seen), self.count())
        self.assertError(self.srv.request("GET", "/api/v1/visit-types?after=nope",
                                          token="admin"), 400, "invalid_cursor", "after")
        self.assertError(self.srv.request("GET", "/api/v1/visit-types?limit=0", token="admin"),
                         400, "invalid_limit", "limit")
        self.assertError(self.srv.request("GET", "/api/v1/visit-types?active=maybe",
                                          token="admin"), 400, "invalid_filter", "active")


if __name__ == "__main__":
    unittest.main()
