"""Integration test harness: runs the real onthedot binary and talks HTTP to it.

Python 3 standard library plus Debian's python3-jsonschema only. CTest runs each
tests/integration/test_*.py with /usr/bin/python3 and these environment variables:

  OTD_BIN         the onthedot binary (the asan build)
  OTD_TEST_TMP    a scratch directory (each server makes its own folder in it)
  OTD_SOURCE_DIR  the repository (for src/web/openapi.json and src/http/routes.c)
  OTD_PG_SLICE    set for the PostgreSQL slice (ctest label pg), which then needs
  OTD_TEST_PG     a connection string to a PostgreSQL server
                  that may create databases: each Server then gets a database of
                  its own there instead of a SQLite file (tests/scripts/pg.sh)

A Server migrates a fresh database, creates an admin API token and staff users
through the command line, starts `onthedot serve` on 127.0.0.1:0 with a virtual
clock and sanitizer logs, and on stop sends SIGTERM and checks: exit status 0, no
sanitizer report, every stderr line is a JSON log line that holds neither a raw
path with a query string nor any secret the tests sent, and the database passes
PRAGMA integrity_check and foreign_key_check.

Every response a Server's request() receives is checked against the OpenAPI
document: its status must be documented for the route template and method, its
JSON body must validate against the schema, its required headers must be there,
and the security headers must be on it.
"""

import copy
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("OTD_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("OTD_BIN") or os.path.join(SOURCE_DIR, "build", "asan", "onthedot")
TEST_TMP = os.environ.get("OTD_TEST_TMP") or tempfile.gettempdir()
OPENAPI_PATH = os.path.join(SOURCE_DIR, "src", "web", "openapi.json")
ROUTES_PATH = os.path.join(SOURCE_DIR, "src", "http", "routes.c")

PASSWORD = "correct-horse-battery"  # every staff user's password (10 to 256 characters)
VIRTUAL_START = "2026-03-02T09:00:00Z"  # a Monday, four weeks before the spring DST change
TIMEZONE = "Europe/London"

# Staff users each Server creates: role -> login.
STAFF_LOGINS = {"admin": "admin", "dispatcher": "disp", "finance": "fin"}

# Limits the tests do not test are raised (every test client is 127.0.0.1).
RAISED_LIMITS = {
    "ONTHEDOT_LIMITS_LOGIN_IP_BURST": "100000",
    "ONTHEDOT_LIMITS_LOGIN_IP_PER_MINUTE": "100000",
    "ONTHEDOT_LIMITS_LOGIN_ACCOUNT_BURST": "100000",
    "ONTHEDOT_LIMITS_LOGIN_ACCOUNT_PER_MINUTE": "100000",
    "ONTHEDOT_HTTP_PER_IP_CONNECTIONS": "1000",
}

SECURITY_HEADERS = {
    "Content-Security-Policy": None,  # any value, but present
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": None,
}

# The PostgreSQL slice: a server that may create databases, or None (SQLite).
PG_ADMIN_URL = None
if os.environ.get("OTD_PG_SLICE"):
    PG_ADMIN_URL = os.environ.get("OTD_TEST_PG")
    if not PG_ADMIN_URL:
        raise SystemExit("the PostgreSQL slice needs OTD_TEST_PG: start a server with "
                         "tests/scripts/pg.sh start DIR and export what it prints")


def pg_connect(url):
    import psycopg2  # Debian's python3-psycopg2; only the PostgreSQL slice needs it
    return psycopg2.connect(url)


def pg_url_for(admin_url, dbname):
    """admin_url with its database name replaced by dbname."""
    base, _, rest = admin_url.rpartition("/")
    query = ""
    if "?" in rest:
        query = "?" + rest.split("?", 1)[1]
    return "%s/%s%s" % (base, dbname, query)


def pg_create_database(name):
    """A fresh, empty database on OTD_TEST_PG named after name; returns its URL."""
    dbname = "t_%s_%s" % (re.sub(r"[^a-z0-9]", "_", name.lower())[:40], os.urandom(4).hex())
    admin = pg_connect(PG_ADMIN_URL)
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute('CREATE DATABASE "%s" TEMPLATE template0 ENCODING \'UTF8\' '
                        'LC_COLLATE \'C\' LC_CTYPE \'C\'' % dbname)
    finally:
        admin.close()
    return pg_url_for(PG_ADMIN_URL, dbname)


def pg_drop_database(url):
    dbname = url.rpartition("/")[2].split("?", 1)[0]
    admin = pg_connect(PG_ADMIN_URL)
    try:
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % dbname)
    finally:
        admin.close()


def pg_query(url, query, args=()):
    """Runs one statement written for SQLite's parameters (?) on PostgreSQL."""
    q = query.replace("%", "%%")
    given, bound = list(args), []

    def param(m):
        bound.append(given[int(m.group(1)) - 1] if m.group(1) else given[len(bound)])
        return "%s"
    q = re.sub(r"\?(\d*)", param, q)
    db = pg_connect(url)
    try:
        with db.cursor() as cur:
            cur.execute(q, tuple(bound))
            rows = [tuple(r) for r in cur.fetchall()] if cur.description else []
        db.commit()
        return rows
    finally:
        db.close()


def requires_sqlite(reason):
    """Skips a test (or a class) in the PostgreSQL slice, saying why."""
    return unittest.skipIf(PG_ADMIN_URL is not None, "SQLite only: " + reason)


START_TIMEOUT = 30.0  # seconds for the port file to appear
STOP_TIMEOUT = 30.0  # seconds for the process to exit after SIGTERM (LeakSanitizer runs then)
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# ---- the OpenAPI document ---------------------------------------------------


def load_openapi():
    with open(OPENAPI_PATH, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def parse_routes(path=ROUTES_PATH):
    """The route table of src/http/routes.c as a list of dicts: methods (set of
    lower-case names), template, handler, auth, roles (set of role names, empty
    for any) and flags (set of ROUTE_* names)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    entry = re.compile(
        r"\{\s*(HTTP_[A-Z]+(?:\s*\|\s*HTTP_[A-Z]+)*)\s*,\s*\"([^\"]+)\"\s*,\s*(\w+)\s*,"
        r"\s*(AUTH_\w+)\s*,\s*([\w\s|]+?)\s*,\s*([\w\s|]+?)\s*\}"
    )
    names = {"ADMIN": "admin", "DISPATCHER": "dispatcher", "FINANCE": "finance",
             "VISITOR": "visitor", "OTD_ROLE_ADMIN": "admin",
             "OTD_ROLE_DISPATCHER": "dispatcher", "OTD_ROLE_FINANCE": "finance",
             "OTD_ROLE_VISITOR": "visitor"}
    routes = []
    for m in entry.finditer(text):
        methods = {p.strip()[len("HTTP_"):].lower() for p in m.group(1).split("|")}
        roles = set()
        for p in m.group(5).split("|"):
            p = p.strip()
            if p != "0":
                roles.add(names[p])
        flags = {p.strip() for p in m.group(6).split("|") if p.strip() != "0"}
        routes.append({"methods": methods, "template": m.group(2), "handler": m.group(3),
                       "auth": m.group(4), "roles": roles, "flags": flags})
    return routes


def template_regex(template):
    parts = re.split(r"(\{[^}/]+\})", template)
    out = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile("^" + out + "$")


class Spec:
    """The OpenAPI document, turned into something that validates responses."""

    def __init__(self, doc=None):
        self.doc = doc if doc is not None else load_openapi()
        self.templates = [(t, template_regex(t)) for t in self.doc["paths"]]

    def resolve(self, node):
        """Follows a $ref (one level at a time, until none is left)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            r = node["$ref"]
            if r in seen:
                raise AssertionError("$ref cycle at %s" % r)
            seen.add(r)
            node = self.pointer(r)
        return node

    def pointer(self, ref):
        if not ref.startswith("#/"):
            raise AssertionError("only local $refs are used here: %s" % ref)
        node = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise AssertionError("unresolvable $ref %s" % ref)
            node = node[part]
        return node

    def json_schema(self, schema, depth=0):
        """An OpenAPI 3.0 schema as a plain JSON Schema (draft 4): $refs inlined,
        nullable turned into a null type, OpenAPI-only keywords dropped."""
        if depth > 64:
            raise AssertionError("schema nesting too deep (a $ref cycle?)")
        if isinstance(schema, list):
            return [self.json_schema(s, depth + 1) for s in schema]
        if not isinstance(schema, dict):
            return schema
        schema = self.resolve(schema)
        out = {}
        for k, v in schema.items():
            if k in ("nullable", "example", "readOnly", "writeOnly", "discriminator", "xml",
                     "externalDocs", "deprecated") or k.startswith("x-"):
                continue
            if k in ("properties", "patternProperties", "definitions"):
                out[k] = {name: self.json_schema(s, depth + 1) for name, s in v.items()}
            elif k in ("items", "additionalProperties", "not"):
                out[k] = self.json_schema(v, depth + 1) if isinstance(v, (dict, list)) else v
            elif k in ("allOf", "anyOf", "oneOf"):
                out[k] = [self.json_schema(s, depth + 1) for s in v]
            else:
                out[k] = copy.deepcopy(v)
        if schema.get("nullable"):
            t = out.get("type")
            if isinstance(t, str):
                out["type"] = [t, "null"]
            elif isinstance(t, list) and "null" not in t:
                out["type"] = t + ["null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = out["enum"] + [None]
        return out

    def match(self, path):
        """The template for a path (no query string), or None."""
        for t, rx in self.templates:
            if rx.match(path):
                return t
        return None

    def response_for(self, method, path, status):
        """(template or None, the response object) for a request and its status;
        raises AssertionError when the status is not documented."""
        template = self.match(path)
        m = "get" if method.lower() == "head" else method.lower()
        glob = self.doc.get("x-global-responses", {})
        if template is None:
            if str(status) != "404":
                raise AssertionError("%s %s: no route matches, so the answer must be 404, "
                                     "not %s" % (method, path, status))
            return None, self.resolve(glob["404"])
        item = self.doc["paths"][template]
        if m not in item:
            if str(status) != "405":
                raise AssertionError("%s %s: %s is not documented for %s, so the answer "
                                     "must be 405, not %s" % (method, path, method, template,
                                                              status))
            return template, self.resolve(glob["405"])
        responses = item[m]["responses"]
        if str(status) not in responses:
            raise AssertionError("%s %s (%s): status %s is not documented (documented: %s)"
                                 % (method, path, template, status,
                                    ", ".join(sorted(responses))))
        return template, self.resolve(responses[str(status)])

    def check_response(self, method, path, status, headers, raw):
        """Checks one response against the document; returns the parsed body
        (JSON, text, or None when empty). headers is an http.client.HTTPMessage."""
        path = path.split("?", 1)[0]
        template, resp = self.response_for(method, path, status)
        where = "%s %s -> %s" % (method, path, status)
        for name, value in SECURITY_HEADERS.items():
            got = headers.get(name)
            if got is None:
                raise AssertionError("%s: security header %s is missing" % (where, name))
            if value is not None and got != value:
                raise AssertionError("%s: %s is %r, want %r" % (where, name, got, value))
        for name, h in (resp.get("headers") or {}).items():
            h = self.resolve(h)
            if h.get("required") and headers.get(name) is None:
                raise AssertionError("%s: documented header %s is missing" % (where, name))
            if headers.get(name) is not None and "schema" in h:
                sch = self.json_schema(h["schema"])
                value = headers.get(name)
                if sch.get("type") == "integer":
                    if not re.fullmatch(r"[0-9]+", value):
                        raise AssertionError("%s: header %s=%r is not an integer"
                                             % (where, name, value))
                    value = int(value)
                try:
                    jsonschema.Draft4Validator(sch).validate(value)
                except jsonschema.ValidationError as e:
                    raise AssertionError("%s: header %s: %s" % (where, name, e.message))
        content = resp.get("content") or {}
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if method.upper() == "HEAD":
            if raw:
                raise AssertionError("%s: HEAD answered with a body" % where)
            return None
        if not content:
            if raw:
                raise AssertionError("%s: documented without a body, but got %r"
                                     % (where, raw[:200]))
            return None
        if ctype not in content:
            raise AssertionError("%s: Content-Type %r is not documented (%s)"
                                 % (where, ctype, ", ".join(content)))
        schema = content[ctype].get("schema")
        if ctype == "application/json":
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise AssertionError("%s: body is not JSON (%s): %r" % (where, e, raw[:200]))
        else:
            body = raw.decode("utf-8")
        if schema is not None:
            try:
                jsonschema.Draft4Validator(self.json_schema(schema)).validate(body)
            except jsonschema.ValidationError as e:
                raise AssertionError("%s: the body does not match the OpenAPI schema at %s: "
                                     "%s\nbody: %s" % (where, "/".join(map(str, e.absolute_path)),
                                                       e.message, raw[:1000]))
        return body


_SPEC = None


def spec():
    global _SPEC
    if _SPEC is None:
        _SPEC = Spec()
    return _SPEC


# ---- responses and sessions -------------------------------------------------


class Response:
    """status, headers (case-insensitive), body (parsed JSON, text or None),
    raw bytes. Unpacks as (status, headers, body)."""

    def __init__(self, status, headers, body, raw):
        self.status = status
        self.headers = headers
        self.body = body
        self.raw = raw

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    @property
    def error(self):
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"]
        return None

    def __repr__(self):
        return "<Response %s %s>" % (self.status, self.raw[:300])


class Session:
    """A signed-in user: the session cookie and its CSRF token."""

    def __init__(self, login, cookie, csrf, user):
        self.login = login
        self.cookie = cookie
        self.csrf = csrf
        self.user = user


# ---- the server ---------------------------------------------------------------


def _clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ONTHEDOT_") and k not in ("ASAN_OPTIONS", "UBSAN_OPTIONS",
                                                          "LSAN_OPTIONS")}
    env["TZ"] = "UTC"
    return env


class Server:
    """One onthedot process with its own folder and database.

    env: ONTHEDOT_* overrides for this server (on top of RAISED_LIMITS).
    virtual_clock: run with --virtual-clock --virtual-start VIRTUAL_START.
    users: roles (from STAFF_LOGINS) to create with `user add`.
    ssl_context: an ssl.SSLContext to talk HTTPS with (the server has
    http.tls_cert and http.tls_key in env); None talks plain HTTP.
    db: another Server's database (PostgreSQL) to serve as one more node on it.
    """

    def __init__(self, name, env=None, virtual_clock=True, users=("admin", "dispatcher",
                                                                   "finance"), ssl_context=None,
                 db=None):
        os.makedirs(TEST_TMP, exist_ok=True)
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=TEST_TMP)
        self.db = os.path.join(self.dir, "onthedot.db")
        self.pg = PG_ADMIN_URL is not None
        # db: another Server's PostgreSQL database, to run as a second node
        # on it (that Server creates and drops it).
        self.shared_db = db is not None
        if self.shared_db:
            self.db = db
        elif self.pg:
            self.db = pg_create_database(name)
        self.san_dir = os.path.join(self.dir, "san")
        os.makedirs(self.san_dir)
        self.port_file = os.path.join(self.dir, "port")
        self.stderr_path = os.path.join(self.dir, "serve.stderr")
        self.extra_env = dict(env or {})
        self.virtual_clock = virtual_clock
        self.users = tuple(users)
        self.proc = None
        self.port = None
        self.listen_port = 0  # 0: a free port; a restart may keep the last one
        self.token = None
        self.secrets = set()  # values that must never reach the log
        self.query_paths = set()  # raw paths with a query string that we sent
        self.lock = threading.Lock()
        self.spec = spec()
        self.exit_code = None
        self.ssl_context = ssl_context

    # -- processes --

    def env(self):
        env = _clean_env()
        env["ASAN_OPTIONS"] = ("abort_on_error=1:detect_leaks=1:log_path=%s"
                               % os.path.join(self.san_dir, "asan"))
        env["UBSAN_OPTIONS"] = ("halt_on_error=1:print_stacktrace=1:log_path=%s"
                                % os.path.join(self.san_dir, "ubsan"))
        env.update(RAISED_LIMITS)
        env.update(self.extra_env)
        return env

    def assert_no_sanitizer_report(self, what, stderr_text=""):
        reports = sorted(os.listdir(self.san_dir))
        details = ""
        for r in reports:
            with open(os.path.join(self.san_dir, r), errors="replace") as f:
                details += "\n--- %s ---\n%s" % (r, f.read()[:6000])
        if reports:
            raise AssertionError("%s: sanitizer report(s) %s%s" % (what, reports, details))
        for needle in ("runtime error", "Sanitizer"):
            if needle in stderr_text:
                raise AssertionError("%s: %r in its stderr:\n%s" % (what, needle,
                                                                      stderr_text[-4000:]))

    def cli(self, *args, stdin=None, check=True, timeout=120):
        """Runs `onthedot ARGS` with the sanitizer settings; returns the
        CompletedProcess (text). check: fail unless it exits 0."""
        p = subprocess.run([BIN] + list(args), input=stdin, capture_output=True, text=True,
                           env=self.env(), cwd=self.dir, timeout=timeout)
        self.assert_no_sanitizer_report("onthedot %s" % " ".join(args), p.stderr)
        if check and p.returncode != 0:
            raise AssertionError("onthedot %s exited %d:\n%s%s" % (" ".join(args), p.returncode,
                                                                   p.stdout, p.stderr))
        return p

    def prepare(self):
        """Migrates the database, creates the admin token and the staff users."""
        self.cli("migrate", "--db", self.db)
        p = self.cli("token", "create", "--db", self.db, "--name", "integration tests")
        self.token = p.stdout.strip()
        assert re.fullmatch(r"otd_[A-Za-z0-9_-]{43}", self.token), self.token
        self.secrets.add(self.token)
        for role in self.users:
            self.add_user(role, STAFF_LOGINS[role], "Test %s" % role)

    def another_node(self, name, env=None):
        """Starts one more `serve` on this server's PostgreSQL database, as
        another node behind a load balancer: this server's settings (or env),
        API token and secrets (the same set: a secret noted on either is
        looked for in both logs). It never drops the database (this server
        does); the caller stops or kills it."""
        node = Server(name, env=self.extra_env if env is None else env,
                      virtual_clock=self.virtual_clock, users=(), db=self.db)
        node.token = self.token
        node.secrets = self.secrets
        try:
            node.start(prepare=False)
        except BaseException:
            node.kill()
            raise
        return node

    def add_user(self, role, login, name, visitor_id=None, password=PASSWORD):
        args = ["user", "add", "--db", self.db, "--role", role, "--login", login, "--name", name,
                "--password-stdin"]
        if visitor_id is not None:
            args += ["--visitor", str(visitor_id)]
        self.secrets.add(password)
        self.cli(*args, stdin=password + "\n")

    def start(self, prepare=True):
        if prepare:
            self.prepare()
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)  # a restart: wait for the new process's
        args = [BIN, "serve", "--db", self.db, "--listen", "127.0.0.1:%d" % self.listen_port,
                "--port-file",
                self.port_file]
        if self.virtual_clock:
            args += ["--virtual-clock", "--virtual-start", VIRTUAL_START]
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr_file, env=self.env(), cwd=self.dir)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    break
            if self.proc.poll() is not None:
                raise AssertionError("onthedot serve exited %d before listening:\n%s"
                                     % (self.proc.returncode, self.stderr_text()))
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError("onthedot serve wrote no port file within %.0f s"
                                     % START_TIMEOUT)
            time.sleep(0.02)
        return self

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def kill(self):
        """Cleanup of last resort (a failed setUpClass): no checks."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if getattr(self, "stderr_file", None):
            self.stderr_file.close()

    def terminate(self):
        """Sends SIGTERM (the server must still be running)."""
        if self.proc.poll() is not None:
            raise AssertionError("onthedot serve died (exit %s) before SIGTERM:\n%s"
                                 % (self.proc.returncode, self.stderr_text()[-6000:]))
        self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        try:
            self.exit_code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError("onthedot serve did not exit within %.0f s of SIGTERM:\n%s"
                                 % (timeout, self.stderr_text()[-6000:]))
        finally:
            self.stderr_file.close()
        return self.exit_code

    def stop(self, signalled=False):
        """SIGTERM, then every check of a clean run (see the module comment).
        The server's folder is removed when all is well, kept otherwise."""
        try:
            if not signalled:
                self.terminate()
            code = self.wait_exit()
            text = self.stderr_text()
            self.assert_no_sanitizer_report("onthedot serve", text)
            if code != 0:
                raise AssertionError("onthedot serve exited %d:\n%s" % (code, text[-6000:]))
            self.check_log(text)
            self.check_database()
        except AssertionError as e:
            raise AssertionError("%s\n(the server's files are kept in %s)" % (e, self.dir))
        if not os.environ.get("OTD_KEEP"):  # OTD_KEEP=1: keep it to read the log
            shutil.rmtree(self.dir, ignore_errors=True)
            if self.pg and not self.shared_db:
                pg_drop_database(self.db)

    def check_log(self, text):
        routes = set(self.spec.doc["paths"]) | {"-"}
        lines = [l for l in text.split("\n") if l.strip()]
        if not lines:
            raise AssertionError("onthedot serve wrote no log line")
        msgs = []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                raise AssertionError("a log line is not JSON: %r" % line)
            if not isinstance(rec, dict) or "msg" not in rec or "level" not in rec:
                raise AssertionError("a log line lacks msg or level: %r" % line)
            msgs.append(rec["msg"])
            if rec["msg"] == "request":
                for k in ("method", "route", "status", "duration_ms", "request_id"):
                    if k not in rec:
                        raise AssertionError("a request log line lacks %s: %r" % (k, line))
                if rec["route"] not in routes:
                    raise AssertionError("a request log line has route %r, not a template: %r"
                                         % (rec["route"], line))
            for secret in self.secrets:
                if secret and secret in line:
                    raise AssertionError("a secret reached the log: %r" % line)
            for qp in self.query_paths:
                if qp in line:
                    raise AssertionError("a raw path with its query reached the log: %r"
                                         % line)
            if "?" in rec.get("route", ""):
                raise AssertionError("a query string reached the log: %r" % line)
        if "listening" not in msgs or "stopping" not in msgs or msgs[-1] != "stopped":
            raise AssertionError("the log does not run from \"listening\" to \"stopped\": "
                                 "the start or the shutdown was not clean")

    def check_database(self):
        if self.pg:  # PostgreSQL enforces its constraints as it goes
            return
        db = sqlite3.connect(self.db)
        try:
            ok = db.execute("PRAGMA integrity_check").fetchall()
            if ok != [("ok",)]:
                raise AssertionError("integrity_check: %r" % ok)
            fk = db.execute("PRAGMA foreign_key_check").fetchall()
            if fk:
                raise AssertionError("foreign_key_check: %r" % fk)
        finally:
            db.close()

    def sql(self, query, args=()):
        """Runs one statement on the database (the tests' back door; the server
        keeps running). Returns all rows."""
        if self.pg:
            return pg_query(self.db, query, args)
        db = sqlite3.connect(self.db, timeout=10)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            rows = db.execute(query, args).fetchall()
            db.commit()
            return rows
        finally:
            db.close()

    # -- HTTP --

    def connect(self, timeout=30):
        if self.ssl_context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, *, raw=None, headers=None, token=None,
                session=None, csrf=True, content_type="application/json", chunks=None,
                declared_length=None, timeout=30, check=True):
        """Sends one request on a new connection and checks the answer against the
        OpenAPI document. body: a JSON value; raw: bytes as they are; chunks: a
        list of bytes sent with Transfer-Encoding: chunked; declared_length: send
        only the headers with this Content-Length (no body). token: "admin" for
        the server's API token, or a bearer token. session: a Session (its cookie,
        and its CSRF token on unsafe methods unless csrf is False or a string to
        send instead). Returns a Response."""
        hdrs = {}
        if body is not None:
            raw = json.dumps(body).encode("utf-8")
            if isinstance(body, dict) and isinstance(body.get("password"), str):
                self.note_secret(body["password"])
        if (raw is not None or chunks is not None or declared_length is not None) \
                and content_type:
            hdrs["Content-Type"] = content_type
        if token == "admin":
            token = self.token
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
            self.note_secret(token)
        if session is not None:
            hdrs["Cookie"] = "otd_session=" + session.cookie
            self.note_secret(session.cookie)
            if method.upper() not in ("GET", "HEAD") and csrf:
                hdrs["X-CSRF-Token"] = session.csrf if csrf is True else csrf
        if isinstance(csrf, str):
            hdrs["X-CSRF-Token"] = csrf
        if "X-CSRF-Token" in hdrs:
            self.note_secret(hdrs["X-CSRF-Token"])
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            if k.lower() in ("authorization", "cookie", "x-csrf-token"):
                self.note_secret(v.split(" ", 1)[-1].split("=", 1)[-1])
        if "?" in path:
            with self.lock:
                self.query_paths.add(path)
        conn = self.connect(timeout)
        try:
            if declared_length is not None:
                conn.putrequest(method, path, skip_accept_encoding=True)
                hdrs["Content-Length"] = str(declared_length)
                for k, v in hdrs.items():
                    conn.putheader(k, v)
                conn.endheaders()
            elif chunks is not None:
                conn.request(method, path, body=iter(chunks), headers=hdrs, encode_chunked=True)
            else:
                conn.request(method, path, body=raw, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            status, rheaders = resp.status, resp.msg
        finally:
            conn.close()
        body_out = None
        if check:
            body_out = self.spec.check_response(method, path, status, rheaders, data)
        elif data:
            try:
                body_out = json.loads(data)
            except ValueError:
                body_out = data.decode("utf-8", "replace")
        sc = rheaders.get_all("Set-Cookie") or []
        for c in sc:
            m = re.match(r"otd_session=([^;]*)", c)
            if m and m.group(1):
                self.note_secret(m.group(1))
        return Response(status, rheaders, body_out, data)

    def note_secret(self, value):
        if value and len(value) >= 8:
            with self.lock:
                self.secrets.add(value)

    def login(self, login, password=PASSWORD):
        """Signs in; returns a Session (fails the test unless 200)."""
        r = self.request("POST", "/api/v1/auth/login", {"login": login, "password": password})
        if r.status != 200:
            raise AssertionError("login %s: %s %r" % (login, r.status, r.raw))
        cookie = None
        for c in r.headers.get_all("Set-Cookie") or []:
            m = re.match(r"otd_session=([^;]+)", c)
            if m:
                cookie = m.group(1)
        if not cookie:
            raise AssertionError("login %s set no session cookie" % login)
        self.note_secret(r.body["csrf_token"])
        return Session(login, cookie, r.body["csrf_token"], r.body["user"])

    # -- fixtures through the API and the back door --

    def create_visitor(self, **fields):
        body = visitor_body(**fields)
        r = self.request("POST", "/api/v1/visitors", body, token="admin")
        if r.status != 201:
            raise AssertionError("create visitor: %s %r" % (r.status, r.raw))
        return r.body

    def create_visit_type(self, code, **fields):
        body = {"code": code, "name": "Visit %s" % code, "skill": "gas",
                "duration_median_minutes": 45, "window_minutes": 60}
        body.update(fields)
        r = self.request("POST", "/api/v1/visit-types", body, token="admin")
        if r.status != 201:
            raise AssertionError("create visit type: %s %r" % (r.status, r.raw))
        return r.body

    def insert_appointment(self, visitor_id, visit_type_id, reference, local_date, start_utc,
                           end_utc, status="booked"):
        """Books an appointment straight into the database (the booking use case
        comes with a later issue): a customer, an address and the appointment.
        start_utc/end_utc are RFC 3339 UTC strings. Returns the appointment id."""
        now = iso_seconds(VIRTUAL_START)
        customer = self.sql(
            "INSERT INTO customers(name, phone, email, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING id", ("Customer of %s" % reference, "+441632960999", None, now))[0][0]
        address = self.sql(
            "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
            "created_at, updated_at) VALUES (?, 'AB1 2CD', 'AB12CD', ?, 51.5, -0.12, ?, ?) "
            "RETURNING id",
            ("1 %s Street" % reference, "1 %s street|AB12CD" % reference.lower(), now, now))[0][0]
        return self.sql(
            "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
            "visitor_id, local_date, window_start, window_end, status, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (reference, customer, address, visit_type_id, visitor_id, local_date,
             iso_seconds(start_utc), iso_seconds(end_utc), status, now, now))[0][0]


def iso_seconds(text):
    """Unix seconds of an RFC 3339 UTC instant such as 2026-03-02T09:00:00Z."""
    import calendar
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def visitor_body(**fields):
    """A valid visitor create body; keyword arguments replace fields (None
    removes one)."""
    body = {
        "name": "Priya Shah",
        "role_title": "planning officer",
        "phone": "01632 960001",
        "email": None,
        "base": {"lat": 51.5072, "lon": -0.1276},
        "skills": ["gas", "planning"],
        "shifts": [{"start": "2026-03-02T08:00", "duration_minutes": 480,
                    "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}],
    }
    for k, v in fields.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


# ---- raw sockets ----------------------------------------------------------------


def raw_connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_until_closed(sock, limit=10.0):
    """Reads until the peer closes; returns (bytes, seconds waited). Raises
    AssertionError when the connection stays open for limit seconds."""
    sock.settimeout(limit)
    t0 = time.monotonic()
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError("the server kept an idle connection open for %.1f s" % limit)
    return data, time.monotonic() - t0


# ---- test cases ---------------------------------------------------------------------


class ServerTestCase(unittest.TestCase):
    """One fresh server (and database) per TestCase class. Subclasses set
    server_env, virtual_clock and users as needed."""

    server_env = {}
    virtual_clock = True
    users = ("admin", "dispatcher", "finance")

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(cls.__name__, env=cls.server_env, virtual_clock=cls.virtual_clock,
                         users=cls.users)
        cls.addClassCleanup(cls.srv.kill)
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def assertError(self, r, status, code, field=None, no_field=False):
        """r is an error answer with this status, code and (when given) field."""
        self.assertEqual(r.status, status, r.raw)
        self.assertIsNotNone(r.error, r.raw)
        self.assertEqual(r.error["code"], code, r.raw)
        if field is not None:
            self.assertEqual(r.error.get("field"), field, r.raw)
        if no_field:
            self.assertNotIn("field", r.error, r.raw)
        self.assertTrue(r.error["message"].strip(), r.raw)
