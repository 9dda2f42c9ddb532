"""The visitor routes: create, read, update, list (cursor pagination),
deactivate and activate, shift occurrences across daylight saving changes,
strict input (400 naming the field), metacharacters stored verbatim,
Idempotency-Key, and 409 when a change would leave booked appointments
outside the visitor's shifts."""

import base64
import json
import unittest

import otd

SHIFT = {"start": "2026-03-02T08:00", "duration_minutes": 480,
         "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}


class TestVisitors(otd.ServerTestCase):
    users = ("admin",)

    def post(self, body=None, **kw):
        kw.setdefault("token", "admin")
        return self.srv.request("POST", "/api/v1/visitors", body, **kw)

    def patch(self, vid, body=None, **kw):
        kw.setdefault("token", "admin")
        return self.srv.request("PATCH", "/api/v1/visitors/%d" % vid, body, **kw)

    def get(self, vid):
        r = self.srv.request("GET", "/api/v1/visitors/%d" % vid, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        return r.body

    def count(self):
        return self.srv.sql("SELECT count(*) FROM visitors")[0][0]

    def test_create_and_read(self):
        body = otd.visitor_body(
            name="Priya Shah", email="Priya.Shah@Example.ORG", phone="+44 (1632) 960-001",
            skills=["planning", "gas"],
            shifts=[dict(SHIFT, exdates=["2026-03-04", "2026-03-03"]),
                    {"start": "2026-03-07T09:30:15", "duration_minutes": 240,
                     "rrule": "FREQ=WEEKLY;BYDAY=SA;COUNT=4", "tzid": "Europe/London"}])
        now = self.srv.request("POST", "/api/v1/admin/clock", {"seconds": 0},
                               token="admin").body["now"]
        r = self.post(body)
        self.assertEqual(r.status, 201, r.raw)
        v = r.body
        self.assertEqual(r.headers["Location"], "/api/v1/visitors/%d" % v["id"])
        self.assertIsNone(r.headers.get("Idempotent-Replayed"))
        self.assertEqual(v["name"], "Priya Shah")
        self.assertEqual(v["role_title"], "planning officer")
        self.assertEqual(v["phone"], "+441632960001")
        self.assertEqual(v["email"], "Priya.Shah@example.org")  # the domain is case-folded
        self.assertEqual(v["skills"], ["gas", "planning"])
        self.assertEqual(v["base"], {"lat": 51.5072, "lon": -0.1276})
        self.assertTrue(v["active"])
        self.assertEqual(v["created_at"], now)
        self.assertEqual(v["updated_at"], now)
        s0, s1 = v["shifts"]
        self.assertEqual({k: s0[k] for k in s0 if k != "id"},
                         {"start": "2026-03-02T08:00:00", "duration_minutes": 480,
                          "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                          "exdates": ["2026-03-03", "2026-03-04"], "tzid": "Europe/London"})
        self.assertEqual(s1["start"], "2026-03-07T09:30:15")
        self.assertEqual(self.get(v["id"]), v)
        self.assertEqual(self.srv.sql("SELECT action, entity, entity_id, actor_kind FROM "
                                      "audit_log WHERE entity = 'visitor' AND entity_id = ?",
                                      (v["id"],)),
                         [("visitor.create", "visitor", v["id"], "token")])

    def test_minimal_create(self):
        r = self.post({"name": "Min", "role_title": "engineer", "base": {"lat": 0, "lon": 0}})
        self.assertEqual(r.status, 201, r.raw)
        v = r.body
        self.assertIsNone(v["phone"])
        self.assertIsNone(v["email"])
        self.assertEqual(v["skills"], [])
        self.assertEqual(v["shifts"], [])
        r = self.post({"name": "Empty contacts", "role_title": "engineer", "phone": "",
                       "email": "", "base": {"lat": -90, "lon": 180}})
        self.assertEqual(r.status, 201, r.raw)
        self.assertIsNone(r.body["phone"])
        self.assertIsNone(r.body["email"])

    def test_strict_input(self):
        """Every malformed body is 400 naming the field, and creates nothing."""
        good = otd.visitor_body()
        long_name = "n" * 201
        cases = [
            # wrong types
            (dict(good, name=5), "wrong_type", "name"),
            (dict(good, name=None), "wrong_type", "name"),
            (dict(good, role_title=["x"]), "wrong_type", "role_title"),
            (dict(good, phone=1632960001), "wrong_type", "phone"),
            (dict(good, base=[51.5, -0.1]), "wrong_type", "base"),
            (dict(good, base={"lat": "51.5", "lon": 0}), "wrong_type", "base.lat"),
            (dict(good, skills="gas"), "wrong_type", "skills"),
            (dict(good, skills=["gas", 7]), "wrong_type", "skills[1]"),
            (dict(good, shifts={}), "wrong_type", "shifts"),
            (dict(good, shifts=["08:00"]), "wrong_type", "shifts[0]"),
            (dict(good, shifts=[dict(SHIFT, duration_minutes="480")]), "wrong_type",
             "shifts[0].duration_minutes"),
            (dict(good, shifts=[dict(SHIFT, duration_minutes=480.5)]), "wrong_type",
             "shifts[0].duration_minutes"),
            (dict(good, shifts=[SHIFT, dict(SHIFT, exdates="2026-03-03")]), "wrong_type",
             "shifts[1].exdates"),
            # unknown fields, at every level
            (dict(good, nickname="P"), "unknown_field", "nickname"),
            (dict(good, confirm_affected=True), "unknown_field", "confirm_affected"),
            (dict(good, id=5), "unknown_field", "id"),
            (dict(good, base={"lat": 1, "lon": 2, "alt": 3}), "unknown_field", "base.alt"),
            (dict(good, shifts=[dict(SHIFT, end="16:00")]), "unknown_field", "shifts[0].end"),
            # missing fields
            (otd.visitor_body(name=None), "missing_field", "name"),
            (otd.visitor_body(role_title=None), "missing_field", "role_title"),
            (otd.visitor_body(base=None), "missing_field", "base"),
            (dict(good, base={"lat": 1}), "missing_field", "base.lon"),
            (dict(good, shifts=[{"start": "2026-03-02T08:00", "duration_minutes": 60}]),
             "missing_field", "shifts[0].rrule"),
            # out of bounds
            (dict(good, name=""), "empty", "name"),
            (dict(good, name=long_name), "too_long", "name"),
            (dict(good, name="tab\tinside"), "invalid_text", "name"),
            (dict(good, role_title="r" * 101), "too_long", "role_title"),
            (dict(good, base={"lat": 90.0001, "lon": 0}), "out_of_range", "base.lat"),
            (dict(good, base={"lat": 0, "lon": -181}), "out_of_range", "base.lon"),
            (dict(good, phone="call me"), "invalid_phone", "phone"),
            (dict(good, phone="1632 960001"), "invalid_phone", "phone"),
            (dict(good, email="not-an-address"), "invalid_email", "email"),
            (dict(good, email="a@b@example.org"), "invalid_email", "email"),
            (dict(good, skills=["Gas"]), "invalid_code", "skills[0]"),
            (dict(good, skills=["g"] * 33), "too_many", "skills"),
            (dict(good, shifts=[SHIFT] * 17), "too_many", "shifts"),
            (dict(good, shifts=[dict(SHIFT, duration_minutes=0)]), "out_of_range",
             "shifts[0].duration_minutes"),
            (dict(good, shifts=[dict(SHIFT, duration_minutes=1441)]), "out_of_range",
             "shifts[0].duration_minutes"),
            (dict(good, shifts=[dict(SHIFT, rrule="FREQ=SECONDLY")]), "bad_rrule",
             "shifts[0].rrule"),
            (dict(good, shifts=[dict(SHIFT, rrule="RRULE:FREQ=DAILY")]), "bad_rrule",
             "shifts[0].rrule"),
            (dict(good, shifts=[SHIFT, dict(SHIFT, rrule="FREQ=DAILY;FREQ=WEEKLY")]),
             "bad_rrule", "shifts[1].rrule"),
            (dict(good, shifts=[dict(SHIFT, start="2026-03-02")]), "too_short",
             "shifts[0].start"),
            (dict(good, shifts=[dict(SHIFT, start="2026-02-30T08:00")]), "bad_local_time",
             "shifts[0].start"),
            (dict(good, shifts=[dict(SHIFT, start="2026-03-02 08:00")]), "bad_local_time",
             "shifts[0].start"),
            (dict(good, shifts=[dict(SHIFT, rrule="FREQ=YEARLY")]), "bad_rrule",
             "shifts[0].rrule"),
            (dict(good, shifts=[dict(SHIFT, rrule="FREQ=DAILY;UNTIL=2026")]), "bad_rrule",
             "shifts[0].rrule"),
            (dict(good, shifts=[dict(SHIFT, tzid="Europe/Paris")]), "unsupported_timezone",
             "shifts[0].tzid"),
            (dict(good, shifts=[dict(SHIFT, exdates=["3 March"])]), "invalid_date",
             "shifts[0].exdates[0]"),
            (dict(good, shifts=[SHIFT, dict(SHIFT, exdates=["2026-03-03", 20260304])]),
             "invalid_date", "shifts[1].exdates[1]"),
            (dict(good, shifts=[dict(SHIFT, exdates=["2026-03-03"] * 367)]), "too_many",
             "shifts[0].exdates"),
        ]
        before = self.count()
        for body, code, field in cases:
            r = self.post(body)
            self.assertEqual(r.status, 400, (body, r.raw))
            self.assertEqual(r.error["code"], code, (body, r.raw))
            self.assertEqual(r.error.get("field"), field, (body, r.raw))
        # Not one object: no field to name.
        for raw, code in ((b'{"name": "x", ', "malformed_json"), (b"[]", "malformed_json"),
                          (b'"visitor"', "malformed_json"), (b"null", "malformed_json"),
                          (b"{} {}", "malformed_json"), (b"", "empty_body"),
                          (b'{"name": "\xff"}', "malformed_json")):
            self.assertError(self.post(raw=raw), 400, code, no_field=True)
        # Duplicate keys are refused (jansson's JSON_REJECT_DUPLICATES), naming the key.
        raw = json.dumps(good)[:-1] + ', "name": "Someone Else"}'
        self.assertError(self.post(raw=raw.encode()), 400, "duplicate_field", "name")
        raw = json.dumps(dict(good, base={"lat": 1, "lon": 2}))
        raw = raw.replace('"lon": 2', '"lon": 2, "lat": 3')
        self.assertError(self.post(raw=raw.encode()), 400, "duplicate_field", "lat")
        self.assertError(self.post(raw=json.dumps(good).encode(), content_type="text/plain"),
                         400, "unsupported_media_type")
        self.assertEqual(self.count(), before)

    def test_metacharacters_stored_verbatim(self):
        names = ["Robert'); DROP TABLE visitors;--",
                 "<script>alert(\"x\")</script> & <b>bold</b> &amp; &#x27;",
                 "Zoë O'Brien-Nguyễn \"Zo\" \\ / % _ ; --",
                 "' OR '1'='1", "${jndi:x} {{7*7}} %s %n \u202e\u00a0end",
                 "漢字 😀 \u0301combining"]
        for name in names:
            r = self.post(otd.visitor_body(name=name, role_title="<i>officer</i>' --"))
            self.assertEqual(r.status, 201, r.raw)
            self.assertEqual(r.body["name"], name)
            self.assertEqual(r.body["role_title"], "<i>officer</i>' --")
            self.assertEqual(self.get(r.body["id"])["name"], name)
            self.assertEqual(self.srv.sql("SELECT name FROM visitors WHERE id = ?",
                                          (r.body["id"],)), [(name,)])
            # Raw bytes: JSON escapes only what JSON must; no HTML entities.
            self.assertNotIn(b"&lt;", r.raw)
            self.assertNotIn(b"\\u003c", r.raw.lower())
        r = self.patch(self.srv.create_visitor(name="Plain")["id"], {"name": names[0]})
        self.assertEqual(r.body["name"], names[0])
        # The table is still there (no name was taken for SQL).
        self.assertGreaterEqual(self.srv.sql("SELECT count(*) FROM visitors")[0][0], 1)
        listed = self.srv.request("GET", "/api/v1/visitors?limit=200", token="admin").body
        self.assertTrue(set(names) <= {v["name"] for v in listed["items"]})

    def test_update(self):
        v = self.srv.create_visitor(name="Before", email="before@example.org")
        self.srv.request("POST", "/api/v1/admin/clock", {"seconds": 60}, token="admin")
        r = self.patch(v["id"], {"name": "After"})
        self.assertEqual(r.status, 200, r.raw)
        after = r.body
        self.assertEqual(after["affected"], [])
        del after["affected"]
        expect = dict(v, name="After", updated_at=after["updated_at"])
        self.assertEqual(after, expect)  # nothing else changed
        self.assertGreater(after["updated_at"], v["updated_at"])
        self.assertEqual(self.get(v["id"]), after)
        # Null and "" clear phone and email; skills and shifts are replaced whole.
        new_shifts = [{"start": "2026-03-02T07:30", "duration_minutes": 600,
                       "rrule": "FREQ=WEEKLY;BYDAY=MO,WE,FR", "exdates": ["2026-03-06"]},
                      {"start": "2026-03-07T10:00", "duration_minutes": 180,
                       "rrule": "FREQ=MONTHLY;BYDAY=1SA"}]
        r = self.patch(v["id"], {"phone": None, "email": "", "skills": ["meter"],
                                 "shifts": new_shifts, "base": {"lat": 53.4, "lon": -2.2},
                                 "role_title": "meter engineer"})
        self.assertEqual(r.status, 200, r.raw)
        b = r.body
        self.assertIsNone(b["phone"])
        self.assertIsNone(b["email"])
        self.assertEqual(b["skills"], ["meter"])
        self.assertEqual(b["base"], {"lat": 53.4, "lon": -2.2})
        self.assertEqual(b["role_title"], "meter engineer")
        self.assertEqual([(s["start"], s["duration_minutes"], s["rrule"], s["exdates"])
                          for s in b["shifts"]],
                         [("2026-03-02T07:30:00", 600, "FREQ=WEEKLY;BYDAY=MO,WE,FR",
                           ["2026-03-06"]),
                          ("2026-03-07T10:00:00", 180, "FREQ=MONTHLY;BYDAY=1SA", [])])
        occ = self.srv.request("GET", "/api/v1/visitors/%d/shifts?from=2026-03-02&to=2026-03-08"
                               % v["id"], token="admin").body["shifts"]
        self.assertEqual([o["date"] for o in occ], ["2026-03-02", "2026-03-04", "2026-03-07"])
        self.assertEqual(occ[0]["start"]["utc"], "2026-03-02T07:30:00Z")
        self.assertEqual(occ[0]["end"]["utc"], "2026-03-02T17:30:00Z")
        r = self.patch(v["id"], {"shifts": []})
        self.assertEqual(r.body["shifts"], [])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM shifts WHERE visitor_id = ?",
                                      (v["id"],)), [(0,)])
        actions = self.srv.sql("SELECT action FROM audit_log WHERE entity = 'visitor' AND "
                               "entity_id = ? ORDER BY id", (v["id"],))
        self.assertEqual(actions, [("visitor.create",)] + [("visitor.update",)] * 3)

    def test_update_errors(self):
        v = self.srv.create_visitor(name="Stays", email="stays@example.org")
        before = self.get(v["id"])
        self.assertError(self.patch(v["id"], {}), 400, "empty_update")
        self.assertError(self.patch(v["id"], {"confirm_affected": True}), 400, "empty_update")
        self.assertError(self.patch(v["id"], {"name": ""}), 400, "empty", "name")
        self.assertError(self.patch(v["id"], {"nmae": "typo"}), 400, "unknown_field", "nmae")
        self.assertError(self.patch(v["id"], {"confirm_affected": "yes", "name": "x"}), 400,
                         "wrong_type", "confirm_affected")
        self.assertError(self.patch(v["id"], {"base": {"lat": 1}}), 400, "missing_field",
                         "base.lon")
        self.assertError(self.patch(v["id"], {"shifts": [dict(SHIFT, rrule="")]}), 400,
                         "empty", "shifts[0].rrule")
        self.assertError(self.patch(v["id"], raw=b'{"name":"a","name":"b"}'), 400,
                         "duplicate_field", "name")
        self.assertError(self.patch(v["id"], raw=b"name=x"), 400, "malformed_json")
        self.assertError(self.patch(987654, {"name": "Ghost"}), 404, "not_found")
        other = self.srv.create_visitor(name="Other", email="other@example.org")
        # The domain is case-folded, the local part kept as typed.
        self.assertError(self.patch(other["id"], {"email": "stays@EXAMPLE.org"}), 409,
                         "email_taken", "email")
        self.assertEqual(self.get(v["id"]), before)
        self.assertEqual(self.get(other["id"])["email"], "other@example.org")

    def test_email_taken_on_create(self):
        self.srv.create_visitor(name="First", email="same@example.org")
        before = self.count()
        r = self.post(otd.visitor_body(name="Second", email="same@EXAMPLE.ORG"))
        self.assertError(r, 409, "email_taken", "email")
        self.assertEqual(self.count(), before)

    def test_deactivate_and_activate(self):
        v = self.srv.create_visitor(name="Leaving")
        path = "/api/v1/visitors/%d" % v["id"]
        now = self.srv.request("POST", "/api/v1/admin/clock", {"seconds": 30},
                               token="admin").body["now"]
        r = self.srv.request("POST", path + "/deactivate", token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertFalse(r.body["active"])
        self.assertEqual(r.body["affected"], [])
        self.assertEqual(r.body["updated_at"], now)
        self.assertGreater(now, v["updated_at"])
        got = self.get(v["id"])
        self.assertEqual(dict(r.body, affected=None), dict(got, affected=None))
        # Again: nothing to change, still fine.
        r = self.srv.request("POST", path + "/deactivate", {"confirm_affected": False},
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertFalse(r.body["active"])
        listed = self.srv.request("GET", "/api/v1/visitors?active=false&limit=200",
                                  token="admin").body
        self.assertIn(v["id"], [x["id"] for x in listed["items"]])
        self.assertTrue(all(not x["active"] for x in listed["items"]))
        listed = self.srv.request("GET", "/api/v1/visitors?active=true&limit=200",
                                  token="admin").body
        self.assertNotIn(v["id"], [x["id"] for x in listed["items"]])
        r = self.srv.request("POST", path + "/activate", {}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertTrue(r.body["active"])
        self.assertTrue(self.get(v["id"])["active"])
        self.assertError(self.srv.request("POST", path + "/deactivate", {"force": True},
                                          token="admin"), 400, "unknown_field", "force")
        self.assertError(self.srv.request("POST", path + "/activate", raw=b"{",
                                          token="admin"), 400, "malformed_json")
        self.assertError(self.srv.request("POST", path + "/deactivate",
                                          {"confirm_affected": 1}, token="admin"), 400,
                         "wrong_type", "confirm_affected")
        self.assertTrue(self.get(v["id"])["active"])
        for action in ("deactivate", "activate"):
            self.assertError(self.srv.request("POST", "/api/v1/visitors/987654/" + action,
                                              token="admin"), 404, "not_found")
        actions = self.srv.sql("SELECT action FROM audit_log WHERE entity = 'visitor' AND "
                               "entity_id = ? ORDER BY id", (v["id"],))
        self.assertEqual(actions, [("visitor.create",), ("visitor.deactivate",),
                                   ("visitor.activate",)])

    def test_idempotency_key(self):
        body = otd.visitor_body(name="Once Only", email="once@example.org")
        key = {"Idempotency-Key": "create-once-7f3a"}
        first = self.post(body, headers=key)
        self.assertEqual(first.status, 201, first.raw)
        self.assertIsNone(first.headers.get("Idempotent-Replayed"))
        n = self.count()
        audits = self.srv.sql("SELECT count(*) FROM audit_log")[0][0]
        for _ in range(2):
            again = self.post(body, headers=key)
            self.assertEqual(again.status, 201, again.raw)
            self.assertEqual(again.headers["Idempotent-Replayed"], "true")
            self.assertEqual(again.headers["Location"], first.headers["Location"])
            self.assertEqual(again.body, first.body)
        self.assertEqual(self.count(), n)
        self.assertEqual(self.srv.sql("SELECT count(*) FROM audit_log")[0][0], audits)
        # The same key with another body: refused, nothing created.
        other = self.post(dict(body, name="Twice"), headers=key)
        self.assertError(other, 422, "idempotency_key_reused", "Idempotency-Key")
        # ... and on another route.
        vt = {"code": "once", "name": "Once", "skill": "gas", "duration_median_minutes": 30,
              "window_minutes": 60}
        r = self.srv.request("POST", "/api/v1/visit-types", vt, token="admin", headers=key)
        self.assertError(r, 422, "idempotency_key_reused", "Idempotency-Key")
        self.assertEqual(self.count(), n)
        # Keys belong to the caller: another principal's same key is a new request.
        admin = self.srv.login("admin")
        r = self.post(dict(body, email="once-more@example.org"), token=None, session=admin,
                      headers=key)
        self.assertEqual(r.status, 201, r.raw)
        self.assertIsNone(r.headers.get("Idempotent-Replayed"))
        self.assertNotEqual(r.body["id"], first.body["id"])
        # Without a key every POST creates.
        a = self.post(otd.visitor_body(name="No Key"))
        b = self.post(otd.visitor_body(name="No Key"))
        self.assertNotEqual(a.body["id"], b.body["id"])
        # Malformed keys.
        for bad in ("has space", "x" * 256, "tab\tkey", "caf\u00e9".encode().decode("latin-1")):
            r = self.post(body, headers={"Idempotency-Key": bad})
            self.assertError(r, 400, "invalid_idempotency_key", "Idempotency-Key")
        r = self.post(otd.visitor_body(name="Long Key", email=None),
                      headers={"Idempotency-Key": "k" * 255})
        self.assertEqual(r.status, 201, r.raw)
        # A failed first attempt stores nothing: the key is still free.
        key2 = {"Idempotency-Key": "after-a-400"}
        self.assertEqual(self.post(dict(body, name=""), headers=key2).status, 400)
        r = self.post(otd.visitor_body(name="Second Try"), headers=key2)
        self.assertEqual(r.status, 201, r.raw)
        self.assertIsNone(r.headers.get("Idempotent-Replayed"))


class TestShiftOccurrences(otd.ServerTestCase):
    """Shifts are expanded in Europe/London: a local start stays put across
    the 2026-03-29 and 2026-10-25 changes while its UTC instant moves."""
    users = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.v = cls.srv.create_visitor(shifts=[
            {"start": "2026-03-23T08:00", "duration_minutes": 480, "rrule": "FREQ=DAILY",
             "exdates": ["2026-03-28"]}])
        cls.night = cls.srv.create_visitor(name="Night Shift", shifts=[
            {"start": "2026-03-27T01:30", "duration_minutes": 60, "rrule": "FREQ=DAILY"}])

    def occ(self, vid, frm, to):
        r = self.srv.request("GET", "/api/v1/visitors/%d/shifts?from=%s&to=%s" % (vid, frm, to),
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["timezone"], otd.TIMEZONE)
        return [(o["date"], o["start"]["local"], o["start"]["utc"], o["end"]["local"],
                 o["end"]["utc"]) for o in r.body["shifts"]]

    def test_spring_forward(self):
        self.assertEqual(self.occ(self.v["id"], "2026-03-27", "2026-03-30"), [
            ("2026-03-27", "2026-03-27T08:00:00+00:00", "2026-03-27T08:00:00Z",
             "2026-03-27T16:00:00+00:00", "2026-03-27T16:00:00Z"),
            # 2026-03-28 is an EXDATE
            ("2026-03-29", "2026-03-29T08:00:00+01:00", "2026-03-29T07:00:00Z",
             "2026-03-29T16:00:00+01:00", "2026-03-29T15:00:00Z"),
            ("2026-03-30", "2026-03-30T08:00:00+01:00", "2026-03-30T07:00:00Z",
             "2026-03-30T16:00:00+01:00", "2026-03-30T15:00:00Z"),
        ])

    def test_fall_back(self):
        self.assertEqual(self.occ(self.v["id"], "2026-10-24", "2026-10-26"), [
            ("2026-10-24", "2026-10-24T08:00:00+01:00", "2026-10-24T07:00:00Z",
             "2026-10-24T16:00:00+01:00", "2026-10-24T15:00:00Z"),
            ("2026-10-25", "2026-10-25T08:00:00+00:00", "2026-10-25T08:00:00Z",
             "2026-10-25T16:00:00+00:00", "2026-10-25T16:00:00Z"),
            ("2026-10-26", "2026-10-26T08:00:00+00:00", "2026-10-26T08:00:00Z",
             "2026-10-26T16:00:00+00:00", "2026-10-26T16:00:00Z"),
        ])

    def test_missing_and_repeated_hour(self):
        # 01:30 does not exist on 2026-03-29: RFC 5545 takes the offset from
        # before the gap (01:30 GMT, shown as 02:30 BST). 01:30 happens twice
        # on 2026-10-25: the first (BST) is meant. Durations are real minutes.
        spring = self.occ(self.night["id"], "2026-03-28", "2026-03-30")
        self.assertEqual(spring, [
            ("2026-03-28", "2026-03-28T01:30:00+00:00", "2026-03-28T01:30:00Z",
             "2026-03-28T02:30:00+00:00", "2026-03-28T02:30:00Z"),
            ("2026-03-29", "2026-03-29T02:30:00+01:00", "2026-03-29T01:30:00Z",
             "2026-03-29T03:30:00+01:00", "2026-03-29T02:30:00Z"),
            ("2026-03-30", "2026-03-30T01:30:00+01:00", "2026-03-30T00:30:00Z",
             "2026-03-30T02:30:00+01:00", "2026-03-30T01:30:00Z"),
        ])
        autumn = self.occ(self.night["id"], "2026-10-25", "2026-10-25")
        self.assertEqual(autumn, [
            ("2026-10-25", "2026-10-25T01:30:00+01:00", "2026-10-25T00:30:00Z",
             "2026-10-25T01:30:00+00:00", "2026-10-25T01:30:00Z"),
        ])

    def test_range_errors(self):
        base = "/api/v1/visitors/%d/shifts" % self.v["id"]

        def get(q, vid=None):
            path = base if vid is None else "/api/v1/visitors/%s/shifts" % vid
            return self.srv.request("GET", path + q, token="admin")
        self.assertError(get(""), 400, "missing_parameter", "from")
        self.assertError(get("?from=2026-03-02"), 400, "missing_parameter", "to")
        self.assertError(get("?to=2026-03-02"), 400, "missing_parameter", "from")
        self.assertError(get("?from=2026-02-30&to=2026-03-02"), 400, "bad_date", "from")
        self.assertError(get("?from=2026-03-02&to=03/04/2026"), 400, "bad_date", "to")
        self.assertError(get("?from=2026-03-05&to=2026-03-04"), 400, "bad_range", "to")
        self.assertError(get("?from=2026-03-01&to=2027-03-02"), 400, "bad_range", "to")
        self.assertEqual(get("?from=2026-03-01&to=2027-02-28").status, 200)
        self.assertError(get("?from=2026-03-02&to=2026-03-03", 987654), 404, "not_found")
        self.assertError(get("?from=2026-03-02&to=2026-03-03", "x"), 404, "not_found")
        # One day, inclusive, and a day with no shift.
        self.assertEqual(len(self.occ(self.v["id"], "2026-03-25", "2026-03-25")), 1)
        self.assertEqual(self.occ(self.v["id"], "2026-03-28", "2026-03-28"), [])
        self.assertEqual(self.occ(self.v["id"], "2026-03-01", "2026-03-22"), [])


class TestPagination(otd.ServerTestCase):
    users = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ids = [cls.srv.create_visitor(name="Visitor %d" % i)["id"] for i in range(7)]

    def page(self, query):
        return self.srv.request("GET", "/api/v1/visitors" + query, token="admin")

    def walk(self, query, limit):
        seen, pages, after = [], [], None
        while True:
            q = "?limit=%d%s" % (limit, query)
            if after:
                q += "&after=" + after
            r = self.page(q)
            self.assertEqual(r.status, 200, r.raw)
            pages.append(len(r.body["items"]))
            seen += [v["id"] for v in r.body["items"]]
            after = r.body["next"]
            if after is None:
                return seen, pages
            self.assertRegex(after, r"^[A-Za-z0-9_-]+$")
            self.assertLess(len(pages), 10)

    def test_pages_of_three(self):
        seen, pages = self.walk("", 3)
        self.assertEqual(pages, [3, 3, 1])
        self.assertEqual(seen, self.ids)  # in id order, each once

    def test_page_sizes(self):
        self.assertEqual(self.walk("", 7), (self.ids, [7]))
        self.assertEqual(self.walk("", 6), (self.ids, [6, 1]))
        self.assertEqual(self.walk("", 1)[1], [1] * 7)
        r = self.page("")  # default limit 50
        self.assertEqual([v["id"] for v in r.body["items"]], self.ids)
        self.assertIsNone(r.body["next"])

    def test_filters(self):
        for vid in self.ids[1:3]:
            self.assertEqual(self.srv.request("POST", "/api/v1/visitors/%d/deactivate" % vid,
                                              token="admin").status, 200)
        try:
            self.assertEqual(self.walk("&active=true", 2)[0], [self.ids[0]] + self.ids[3:])
            self.assertEqual(self.walk("&active=false", 1), (self.ids[1:3], [1, 1]))
            self.assertEqual(self.walk("&active=all", 3)[0], self.ids)
        finally:
            for vid in self.ids[1:3]:
                self.srv.request("POST", "/api/v1/visitors/%d/activate" % vid, token="admin")

    def test_bad_parameters(self):
        for q in ("?limit=0", "?limit=201", "?limit=-1", "?limit=abc", "?limit=3.0",
                  "?limit=", "?limit=99999999999999999999"):
            self.assertError(self.page(q), 400, "invalid_limit", "limit")
        self.assertEqual(self.page("?limit=200").status, 200)
        for cursor in ("zzz", "!!", "dj", base64.urlsafe_b64encode(b"v2:3").decode().rstrip("="),
                       base64.urlsafe_b64encode(b"v1:x").decode().rstrip("="),
                       base64.urlsafe_b64encode(b"v1:-4").decode().rstrip("="), "A" * 41, ""):
            self.assertError(self.page("?limit=3&after=" + cursor), 400, "invalid_cursor",
                             "after")
        for a in ("yes", "TRUE", "1", ""):
            self.assertError(self.page("?active=" + a), 400, "invalid_filter", "active")
        # A cursor past the end is an empty last page.
        c = base64.urlsafe_b64encode(b"v1:%d" % (self.ids[-1] + 100)).decode().rstrip("=")
        r = self.page("?after=" + c)
        self.assertEqual((r.body["items"], r.body["next"]), ([], None))


class TestPromisesAffected(otd.ServerTestCase):
    """A shift change or a deactivation that leaves booked appointments
    outside the visitor's shifts answers 409 listing them and changes
    nothing; with confirm_affected it goes through and records a
    visitor_change event on each."""
    users = ("admin",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vt = cls.srv.create_visit_type("planning-inspection")

    def visitor_with_appointments(self, name, refs):
        v = self.srv.create_visitor(name=name, shifts=[SHIFT])
        appts = {}
        for ref, (date, start, end) in refs.items():
            appts[ref] = self.srv.insert_appointment(v["id"], self.vt["id"], ref, date, start, end)
        return v, appts

    def events(self, appt_id):
        return self.srv.sql("SELECT kind, actor_kind, actor_id, detail FROM appointment_events "
                            "WHERE appointment_id = ? ORDER BY id", (appt_id,))

    def get(self, vid):
        return self.srv.request("GET", "/api/v1/visitors/%d" % vid, token="admin").body

    def test_shift_change(self):
        v, appts = self.visitor_with_appointments("Shifty", {
            "OTD-7K3F9Q": ("2026-03-03", "2026-03-03T10:00:00Z", "2026-03-03T11:00:00Z"),
            "OTD-2B4C6D": ("2026-03-04", "2026-03-04T14:00:00Z", "2026-03-04T15:00:00Z"),
            # Already over (before the virtual now, 2026-03-02 09:00): never affected.
            "OTD-PASTXX": ("2026-02-27", "2026-02-27T10:00:00Z", "2026-02-27T11:00:00Z"),
            "OTD-CANCEL": ("2026-03-03", "2026-03-03T09:00:00Z", "2026-03-03T10:00:00Z"),
        })
        self.srv.sql("UPDATE appointments SET status = 'cancelled', cancelled_at = ?, "
                     "cancelled_by = 'customer' WHERE reference = 'OTD-CANCEL'",
                     (otd.iso_seconds(otd.VIRTUAL_START),))
        path = "/api/v1/visitors/%d" % v["id"]
        before = self.get(v["id"])
        audits = self.srv.sql("SELECT count(*) FROM audit_log")[0][0]
        afternoons = [{"start": "2026-03-02T12:00", "duration_minutes": 240,
                       "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}]
        r = self.srv.request("PATCH", path, {"shifts": afternoons, "name": "Renamed"},
                             token="admin")
        self.assertError(r, 409, "promises_affected", no_field=True)
        self.assertEqual(r.error["affected"], [
            {"reference": "OTD-7K3F9Q", "date": "2026-03-03",
             "window_start": "2026-03-03T10:00:00Z", "window_end": "2026-03-03T11:00:00Z",
             "status": "booked"}])
        self.assertIn("confirm_affected", r.error["message"])
        # Nothing changed: not the shifts, not the name, no event, no audit entry.
        self.assertEqual(self.get(v["id"]), before)
        self.assertEqual(self.events(appts["OTD-7K3F9Q"]), [])
        self.assertEqual(self.srv.sql("SELECT count(*) FROM audit_log")[0][0], audits)
        # confirm_affected false is the same as leaving it out.
        r = self.srv.request("PATCH", path, {"shifts": afternoons, "confirm_affected": False},
                             token="admin")
        self.assertError(r, 409, "promises_affected")
        # Shifts that still hold every appointment go through without asking.
        longer = [{"start": "2026-03-02T07:00", "duration_minutes": 600,
                   "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}]
        r = self.srv.request("PATCH", path, {"shifts": longer}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["affected"], [])
        # Dropping Wednesdays and mornings affects both, in window order.
        r = self.srv.request("PATCH", path, {"shifts": [dict(afternoons[0],
                                                             rrule="FREQ=WEEKLY;BYDAY=MO,TH")]},
                             token="admin")
        self.assertError(r, 409, "promises_affected")
        self.assertEqual([a["reference"] for a in r.error["affected"]],
                         ["OTD-7K3F9Q", "OTD-2B4C6D"])
        # Confirmed: the change is made and each affected appointment records it.
        r = self.srv.request("PATCH", path, {"shifts": afternoons, "confirm_affected": True},
                             token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual([a["reference"] for a in r.body["affected"]], ["OTD-7K3F9Q"])
        self.assertEqual(r.body["affected"][0]["window_start"], "2026-03-03T10:00:00Z")
        self.assertEqual(r.body["shifts"][0]["start"], "2026-03-02T12:00:00")
        self.assertEqual(self.get(v["id"])["shifts"][0]["start"], "2026-03-02T12:00:00")
        ev = self.events(appts["OTD-7K3F9Q"])
        # The change, then (tracking) the promise forced at_risk, with why.
        self.assertEqual([e[0] for e in ev], ["visitor_change", "risk", "at_risk"])
        self.assertEqual(json.loads(ev[1][3])["to"], "at_risk")
        self.assertEqual(ev[0][:3], ("visitor_change", "token", 1))
        self.assertEqual(json.loads(ev[0][3]), {"reason": "shift_changed",
                                                "visitor_id": v["id"]})
        for ref in ("OTD-2B4C6D", "OTD-PASTXX", "OTD-CANCEL"):
            self.assertEqual(self.events(appts[ref]), [], ref)
        # The appointment itself stays booked: a dispatcher (or the optimiser) moves it.
        self.assertEqual(self.srv.sql("SELECT status, visitor_id FROM appointments WHERE id = ?",
                                      (appts["OTD-7K3F9Q"],)), [("booked", v["id"])])

    def test_deactivate(self):
        v, appts = self.visitor_with_appointments("Deactivated", {
            "OTD-9W8X7Y": ("2026-03-05", "2026-03-05T13:00:00Z", "2026-03-05T14:00:00Z")})
        path = "/api/v1/visitors/%d" % v["id"]
        for body in (None, {}, {"confirm_affected": False}):
            r = self.srv.request("POST", path + "/deactivate", body, token="admin")
            self.assertError(r, 409, "promises_affected")
            self.assertEqual(r.error["affected"], [
                {"reference": "OTD-9W8X7Y", "date": "2026-03-05",
                 "window_start": "2026-03-05T13:00:00Z",
                 "window_end": "2026-03-05T14:00:00Z", "status": "booked"}])
        self.assertTrue(self.get(v["id"])["active"])
        self.assertEqual(self.events(appts["OTD-9W8X7Y"]), [])
        admin = self.srv.login("admin")
        r = self.srv.request("POST", path + "/deactivate", {"confirm_affected": True},
                             session=admin)
        self.assertEqual(r.status, 200, r.raw)
        self.assertFalse(r.body["active"])
        self.assertEqual([a["reference"] for a in r.body["affected"]], ["OTD-9W8X7Y"])
        self.assertFalse(self.get(v["id"])["active"])
        ev = self.events(appts["OTD-9W8X7Y"])
        self.assertEqual([e[0] for e in ev], ["visitor_change", "risk", "at_risk"])
        self.assertEqual(ev[0][:3], ("visitor_change", "user", admin.user["id"]))
        self.assertEqual(json.loads(ev[0][3]), {"reason": "visitor_deactivated",
                                                "visitor_id": v["id"]})
        # Reactivating affects no one.
        r = self.srv.request("POST", path + "/activate", token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["affected"], [])
        self.assertTrue(r.body["active"])
        self.assertEqual(len(self.events(appts["OTD-9W8X7Y"])), 3)

    def test_other_changes_do_not_ask(self):
        v, appts = self.visitor_with_appointments("Renamed Only", {
            "OTD-3M4N5P": ("2026-03-06", "2026-03-06T09:00:00Z", "2026-03-06T10:00:00Z")})
        r = self.srv.request("PATCH", "/api/v1/visitors/%d" % v["id"],
                             {"name": "New Name", "skills": ["water"]}, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["affected"], [])
        self.assertEqual(self.events(appts["OTD-3M4N5P"]), [])


if __name__ == "__main__":
    unittest.main()
