"""The OpenAPI document (src/web/openapi.json): well formed, complete against
the route table in src/http/routes.c, every $ref resolves, every schema is a
valid JSON Schema, and the server serves exactly this file."""

import json
import re
import unittest

import jsonschema

import otd

HTTP_METHODS = otd.HTTP_METHODS


def walk(node, path=""):
    """Yields (json pointer, node) for every dict in the document."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, "%s/%s" % (path, k.replace("~", "~0").replace("/", "~1")))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, "%s/%d" % (path, i))


def is_page(template):
    """The customer pages (HTML, forms): everything outside /api/ but the
    home page, health, metrics and the static files."""
    return not template.startswith("/api/") and template not in (
        "/", "/healthz", "/metrics", "/static/{name}", "/favicon.ico")


class TestDocument(unittest.TestCase):
    """Static checks of the file; no server needed."""

    @classmethod
    def setUpClass(cls):
        with open(otd.OPENAPI_PATH, "rb") as f:
            cls.raw = f.read()
        cls.doc = json.loads(cls.raw.decode("utf-8"))
        cls.spec = otd.Spec(cls.doc)
        cls.routes = otd.parse_routes()

    def operations(self):
        for template, item in self.doc["paths"].items():
            for method, op in item.items():
                if method in HTTP_METHODS:
                    yield template, method, op

    def test_top_level(self):
        d = self.doc
        self.assertEqual(d["openapi"], "3.0.3")
        for k in ("title", "version", "description"):
            self.assertIsInstance(d["info"][k], str)
            self.assertTrue(d["info"][k])
        self.assertIsInstance(d["paths"], dict)
        schemes = d["components"]["securitySchemes"]
        self.assertEqual(schemes["bearerAuth"], {**schemes["bearerAuth"], "type": "http",
                                                 "scheme": "bearer"})
        self.assertEqual(schemes["cookieAuth"]["type"], "apiKey")
        self.assertEqual(schemes["cookieAuth"]["in"], "cookie")
        self.assertEqual(schemes["cookieAuth"]["name"], "otd_session")
        # Only keys OpenAPI 3.0 allows (and extensions).
        allowed = {"openapi", "info", "servers", "paths", "components", "security", "tags",
                   "externalDocs"}
        for k in d:
            self.assertTrue(k in allowed or k.startswith("x-"), k)
        for code in ("404", "405"):
            self.assertIn(code, d["x-global-responses"])

    def test_route_table_parsed(self):
        # The regex must see the whole table, or the next test proves nothing.
        with open(otd.ROUTES_PATH) as f:
            n_entries = len(re.findall(r"\{\s*HTTP_", f.read()))
        self.assertEqual(len(self.routes), n_entries)
        self.assertGreaterEqual(len(self.routes), 19)
        self.assertIn({"get"}, [r["methods"] for r in self.routes])

    def test_every_route_documented_and_nothing_else(self):
        in_c = set()
        for r in self.routes:
            for m in r["methods"]:
                in_c.add((r["template"], m))
        in_doc = {(t, m) for t, m, _ in self.operations()}
        self.assertEqual(sorted(in_c - in_doc), [], "routes missing from openapi.json")
        self.assertEqual(sorted(in_doc - in_c), [], "documented operations no route serves")
        for template, item in self.doc["paths"].items():
            for k in item:
                self.assertTrue(k in HTTP_METHODS or k in ("parameters", "summary",
                                                           "description", "servers"),
                                "%s: %s" % (template, k))

    def test_security_and_roles_match_the_route_table(self):
        for r in self.routes:
            for m in r["methods"]:
                op = self.doc["paths"][r["template"]][m]
                where = "%s %s" % (m.upper(), r["template"])
                if r["auth"] == "AUTH_PUBLIC":
                    self.assertEqual(op["security"], [], where)
                    self.assertNotIn("x-roles", op, where)
                    continue
                staff = [{"bearerAuth": []}, {"cookieAuth": []}]
                if r["auth"] == "AUTH_OPTIONAL":
                    # Public (the empty requirement), and staff credentials when
                    # sent: checked like a staff route's (401, role 403, CSRF).
                    staff = [{}] + staff
                else:
                    self.assertEqual(r["auth"], "AUTH_STAFF", where)
                self.assertEqual(sorted(op["security"], key=json.dumps),
                                 sorted(staff, key=json.dumps), where)
                self.assertIn("401", op["responses"], where)
                roles = r["roles"] or {"admin", "dispatcher", "finance", "visitor"}
                self.assertEqual(set(op["x-roles"]), roles, where)
                unsafe = m not in ("get", "head", "options")
                csrf = unsafe and "ROUTE_NO_CSRF" not in r["flags"]
                names = [self.spec.resolve(p)["name"] for p in op.get("parameters", [])]
                self.assertEqual("X-CSRF-Token" in names, csrf, where)
                if r["roles"] or csrf:
                    self.assertIn("403", op["responses"], where)
                idem = "ROUTE_IDEMPOTENT" in r["flags"]
                self.assertEqual("Idempotency-Key" in names, idem, where)
                if idem:
                    self.assertIn("422", op["responses"], where)

    def test_operations(self):
        ids = set()
        for template, method, op in self.operations():
            where = "%s %s" % (method.upper(), template)
            self.assertRegex(op.get("operationId", ""), r"^[a-z][A-Za-z0-9]+$", where)
            self.assertNotIn(op["operationId"], ids, where)
            ids.add(op["operationId"])
            self.assertTrue(op.get("summary"), where)
            self.assertIn("security", op, where)
            self.assertTrue(op.get("responses"), where)
            codes = [c for c in op["responses"] if c != "default"]
            # A page's form answers 303 (on to the page that shows the result).
            ok = ("2", "3") if is_page(template) else ("2",)
            self.assertTrue(any(c.startswith(ok) for c in codes), where)
            self.assertIn("413", codes, where)  # any request can carry a body too large
            for c in codes:
                self.assertRegex(c, r"^[1-5][0-9][0-9]$", where)
                resp = self.spec.resolve(op["responses"][c])
                self.assertTrue(resp.get("description"), "%s %s" % (where, c))
                if c.startswith(("4", "5")) and is_page(template) and c != "413":
                    # The customer pages answer errors as pages, in words.
                    self.assertEqual(list(resp["content"]), ["text/html"], "%s %s" % (where, c))
                elif c.startswith(("4", "5")) and template != "/healthz":
                    schema = resp["content"]["application/json"]["schema"]
                    self.assertEqual(schema, {"$ref": "#/components/schemas/Error"},
                                     "%s %s" % (where, c))
            for c in ("429", "503"):
                if c in codes and template != "/healthz" and not is_page(template):
                    self.assertIn("Retry-After", self.spec.resolve(op["responses"][c])["headers"],
                                  where)
            # Path parameters: declared exactly for the template's {names}.
            params = [self.spec.resolve(p) for p in
                      self.doc["paths"][template].get("parameters", []) + op.get("parameters", [])]
            declared = sorted(p["name"] for p in params if p["in"] == "path")
            self.assertEqual(declared, sorted(re.findall(r"\{([^}]+)\}", template)), where)
            for p in params:
                self.assertIn(p["in"], ("path", "query", "header", "cookie"), where)
                self.assertIn("schema", p, where)
                if p["in"] == "path":
                    self.assertTrue(p["required"], where)
            # Request bodies are strict JSON objects, except the forms that
            # gateways post to the webhooks (their fields are the gateway's).
            if "requestBody" in op:
                rb = self.spec.resolve(op["requestBody"])
                self.assertIn("400", codes, where)
                if template.startswith("/api/v1/webhooks/") or is_page(template):
                    self.assertEqual(list(rb["content"]), ["application/x-www-form-urlencoded"],
                                     where)
                    continue
                schema = self.spec.json_schema(rb["content"]["application/json"]["schema"])
                self.assertEqual(schema["type"], "object", where)
                self.assertIs(schema["additionalProperties"], False, where)
        for r in self.routes:  # GET answers HEAD too: it must have a 2xx with a body
            if "get" in r["methods"]:
                op = self.doc["paths"][r["template"]]["get"]
                self.assertIn("200", op["responses"])

    def test_every_ref_resolves(self):
        n = 0
        for where, node in walk(self.doc):
            if "$ref" in node:
                n += 1
                self.assertEqual(set(node), {"$ref"}, "%s: $ref with siblings" % where)
                target = self.spec.pointer(node["$ref"])
                self.assertIsInstance(target, dict, where)
        self.assertGreater(n, 50)

    def test_every_schema_is_valid_json_schema(self):
        schemas = []
        for name, s in self.doc["components"]["schemas"].items():
            schemas.append(("components/schemas/" + name, s))
        for template, method, op in self.operations():
            for code, r in op["responses"].items():
                for ctype, c in (self.spec.resolve(r).get("content") or {}).items():
                    schemas.append(("%s %s %s %s" % (method, template, code, ctype), c["schema"]))
            if "requestBody" in op:
                rb = self.spec.resolve(op["requestBody"])
                for ctype, c in rb["content"].items():
                    schemas.append(("%s %s body %s" % (method, template, ctype), c["schema"]))
            for p in op.get("parameters", []):
                schemas.append(("%s %s param" % (method, template),
                                self.spec.resolve(p)["schema"]))
        for name, h in self.doc["components"]["headers"].items():
            schemas.append(("components/headers/" + name, h["schema"]))
        for where, s in schemas:
            converted = self.spec.json_schema(s)
            try:
                jsonschema.Draft4Validator.check_schema(converted)
            except jsonschema.SchemaError as e:
                self.fail("%s: %s" % (where, e.message))
        # nullable is converted, so a null passes where the document allows it.
        vis = self.spec.json_schema({"$ref": "#/components/schemas/Visitor"})
        self.assertEqual(vis["properties"]["email"]["type"], ["string", "null"])
        self.assertTrue(all("additionalProperties" in self.spec.json_schema(s)
                            for n, s in self.doc["components"]["schemas"].items()
                            if self.spec.json_schema(s).get("type") == "object"
                            and n != "OpenApiDocument"))

    def test_schemas_accept_examples_and_reject_wrong_ones(self):
        v = jsonschema.Draft4Validator(
            self.spec.json_schema({"$ref": "#/components/schemas/VisitorCreate"}))
        good = otd.visitor_body()
        self.assertEqual(list(v.iter_errors(good)), [])
        for bad in (otd.visitor_body(name=""), otd.visitor_body(base={"lat": 91, "lon": 0}),
                    dict(good, extra=1), otd.visitor_body(name=None),
                    otd.visitor_body(skills=["Not A Code"])):
            self.assertTrue(list(v.iter_errors(bad)), bad)
        err = jsonschema.Draft4Validator(
            self.spec.json_schema({"$ref": "#/components/schemas/Error"}))
        self.assertFalse(list(err.iter_errors({"error": {"code": "x", "message": "m"}})))
        self.assertTrue(list(err.iter_errors({"error": {"code": "x"}})))
        self.assertTrue(list(err.iter_errors({"error": {"code": "x", "message": "m",
                                                        "other": 1}})))
        clock = jsonschema.Draft4Validator(
            self.spec.json_schema({"$ref": "#/components/schemas/ClockRequest"}))
        self.assertFalse(list(clock.iter_errors({"seconds": 5})))
        self.assertTrue(list(clock.iter_errors({"seconds": 5, "to": "2026-03-02T10:00:00Z"})))
        self.assertTrue(list(clock.iter_errors({})))

    def test_spec_rejects_undocumented_answers(self):
        # The harness's own check must be able to fail.
        import email.message
        h = email.message.Message()
        for k, v in (("Content-Security-Policy", "default-src 'self'"),
                     ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                     ("Referrer-Policy", "no-referrer"), ("Content-Type", "application/json")):
            h[k] = v
        ok = b'{"status":"ok"}'
        self.assertEqual(self.spec.check_response("GET", "/healthz", 200, h, ok),
                         {"status": "ok"})
        with self.assertRaises(AssertionError):
            self.spec.check_response("GET", "/healthz", 418, h, ok)
        with self.assertRaises(AssertionError):
            self.spec.check_response("GET", "/healthz", 200, h, b'{"status":"fine"}')
        with self.assertRaises(AssertionError):
            self.spec.check_response("GET", "/nowhere", 200, h, ok)
        with self.assertRaises(AssertionError):  # 405 needs Allow
            self.spec.check_response("DELETE", "/healthz", 405, h,
                                     b'{"error":{"code":"method_not_allowed","message":"m"}}')
        del h["X-Frame-Options"]
        with self.assertRaises(AssertionError):
            self.spec.check_response("GET", "/healthz", 200, h, ok)


class TestServed(otd.ServerTestCase):
    users = ()

    def test_served_copy_equals_file(self):
        r = self.srv.request("GET", "/api/v1/openapi.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "application/json")
        with open(otd.OPENAPI_PATH, "rb") as f:
            self.assertEqual(r.raw, f.read())
        self.assertEqual(r.body["openapi"], "3.0.3")

    def test_optional_auth_routes(self):
        """AUTH_OPTIONAL routes answer a customer without credentials, and
        check credentials when they are sent (401 before anything else)."""
        routes = [r for r in otd.parse_routes() if r["auth"] == "AUTH_OPTIONAL"]
        self.assertTrue(routes)
        for r in routes:
            for m in r["methods"]:
                path = re.sub(r"\{[^}]+\}", "1", r["template"])
                body = None if m == "get" else {}
                anon = self.srv.request(m.upper(), path, body)
                self.assertNotIn(anon.status, (401, 403), (m, path, anon.raw))
                bad = self.srv.request(m.upper(), path, body, token="otd_" + "x" * 43)
                self.assertEqual(bad.status, 401, (m, path, bad.raw))

    def test_head(self):
        g = self.srv.request("GET", "/api/v1/openapi.json")
        h = self.srv.request("HEAD", "/api/v1/openapi.json")
        self.assertEqual(h.status, 200)
        self.assertEqual(h.raw, b"")
        self.assertEqual(h.headers["Content-Length"], str(len(g.raw)))


if __name__ == "__main__":
    unittest.main()
