"""The command line around the service: `serve` refuses a database that needs
migrating (naming the command to run), `migrate` refuses a database from a
newer onthedot, and SIGTERM lets a request in flight finish."""

import hashlib
import http.client
import json
import os
import shutil
import sqlite3
import time
import unittest

import otd


# The schema version this build migrates to: the number of migrations.
LATEST = len([f for f in os.listdir(os.path.join(os.environ["OTD_SOURCE_DIR"], "schema"))
              if f.endswith(".sql")])


def user_version(path):
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def set_user_version(path, v):
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA user_version = %d" % v)
        db.commit()
    finally:
        db.close()


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@otd.requires_sqlite("files: an empty one, a newer one (TestPostgreSQLMigrations)")
class TestMigrations(unittest.TestCase):

    def setUp(self):
        self.srv = otd.Server(self.id().rsplit(".", 1)[-1], users=())
        self.addCleanup(shutil.rmtree, self.srv.dir, True)
        self.addCleanup(self.srv.kill)

    def serve(self, db):
        p = self.srv.cli("serve", "--db", db, "--listen", "127.0.0.1:0", "--port-file",
                         self.srv.port_file, check=False, timeout=60)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(self.srv.port_file), "it listened anyway")
        return p

    def test_serve_refuses_an_empty_file_then_migrate_fixes_it(self):
        open(self.srv.db, "wb").close()
        p = self.serve(self.srv.db)
        self.assertIn("onthedot migrate --db %s" % self.srv.db, p.stderr)
        self.assertIn("from schema version 0 to %d" % LATEST, p.stderr)
        self.assertEqual(user_version(self.srv.db), 0)
        p = self.srv.cli("migrate", "--db", self.srv.db)
        self.assertIn("migrated from schema version 0 to %d" % LATEST, p.stdout)
        self.assertEqual(user_version(self.srv.db), LATEST)
        p = self.srv.cli("migrate", "--db", self.srv.db)
        self.assertIn("nothing to do", p.stdout)
        # Now it serves (start migrates again: nothing to do) and stops cleanly.
        self.srv.start()
        self.assertEqual(self.srv.request("GET", "/healthz").status, 200)
        self.srv.stop()

    def test_serve_refuses_a_missing_file(self):
        missing = os.path.join(self.srv.dir, "missing.db")
        p = self.serve(missing)
        self.assertIn("onthedot migrate --db %s" % missing, p.stderr)
        self.assertFalse(os.path.exists(missing))

    def test_serve_refuses_an_older_schema(self):
        self.srv.cli("migrate", "--db", self.srv.db)
        set_user_version(self.srv.db, 0)
        p = self.serve(self.srv.db)
        self.assertIn("onthedot migrate --db %s" % self.srv.db, p.stderr)
        self.assertEqual(user_version(self.srv.db), 0)

    def test_newer_database_refused(self):
        self.srv.cli("migrate", "--db", self.srv.db)
        set_user_version(self.srv.db, 999)
        before = digest(self.srv.db)
        files = sorted(os.listdir(self.srv.dir))
        p = self.srv.cli("migrate", "--db", self.srv.db, check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("schema version 999", p.stderr)
        self.assertIn("newer than this onthedot knows (%d)" % LATEST, p.stderr)
        self.assertEqual(digest(self.srv.db), before)
        self.assertEqual(user_version(self.srv.db), 999)
        self.assertEqual(sorted(os.listdir(self.srv.dir)), files)  # no backup, nothing new
        p = self.serve(self.srv.db)
        self.assertIn("schema version 999", p.stderr)
        self.assertEqual(digest(self.srv.db), before)



@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestPostgreSQLMigrations(unittest.TestCase):
    """migrate and serve against a PostgreSQL database: an empty one is refused
    with the command that fixes it, migrate brings it to the latest version once,
    a newer one is refused."""

    def setUp(self):
        self.srv = otd.Server(self.id().rsplit(".", 1)[-1], users=())
        self.addCleanup(otd.pg_drop_database, self.srv.db)
        self.addCleanup(shutil.rmtree, self.srv.dir, True)
        self.addCleanup(self.srv.kill)

    def serve_refused(self):
        p = self.srv.cli("serve", "--db", self.srv.db, "--listen", "127.0.0.1:0", "--port-file",
                         self.srv.port_file, check=False, timeout=60)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(self.srv.port_file), "it listened anyway")
        return p

    def test_empty_database_then_migrate_then_newer(self):
        p = self.serve_refused()
        self.assertIn("onthedot migrate --db %s" % self.srv.db, p.stderr)
        self.assertIn("from schema version 0 to %d" % LATEST, p.stderr)
        p = self.srv.cli("migrate", "--db", self.srv.db)
        self.assertIn("%d" % LATEST, p.stdout + p.stderr)
        self.assertEqual(self.srv.sql("SELECT version FROM onthedot_schema"), [(LATEST,)])
        p = self.srv.cli("migrate", "--db", self.srv.db)
        self.assertIn("nothing to do", p.stdout + p.stderr)
        self.srv.sql("UPDATE onthedot_schema SET version = ?", (LATEST + 1,))
        p = self.serve_refused()
        self.assertIn("newer than this onthedot knows", p.stderr)
        p = self.srv.cli("migrate", "--db", self.srv.db, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("newer than this onthedot knows", p.stderr)


class TestShutdown(unittest.TestCase):

    def test_sigterm_finishes_a_request_in_flight(self):
        srv = otd.Server("sigterm", users=("dispatcher",))
        self.addCleanup(srv.kill)
        srv.start()
        body = json.dumps({"login": "disp", "password": otd.PASSWORD}).encode()
        s = otd.raw_connect(srv.port)
        s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: "
                  b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:-1])
        time.sleep(0.3)  # the server has the request and waits for its last byte
        srv.terminate()
        time.sleep(0.5)
        self.assertIsNone(srv.proc.poll(), "the server quit with a request in flight")
        s.sendall(body[-1:])  # the login (argon2id on a worker) completes during shutdown
        s.settimeout(30)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        data = resp.read()
        s.close()
        self.assertEqual(resp.status, 200, data)
        parsed = srv.spec.check_response("POST", "/api/v1/auth/login", resp.status, resp.msg,
                                         data)
        self.assertEqual(parsed["user"]["login"], "disp")
        srv.note_secret(parsed["csrf_token"])
        self.assertRegex(resp.msg["Set-Cookie"], r"^otd_session=[A-Za-z0-9_-]{43};")
        srv.note_secret(resp.msg["Set-Cookie"][12:55])
        srv.stop(signalled=True)  # exit 0, no sanitizer report, clean log and database

    def test_grace_bounds_a_stalled_request(self):
        srv = otd.Server("grace", users=(), env={"ONTHEDOT_HTTP_SHUTDOWN_GRACE": "1"})
        self.addCleanup(srv.kill)
        srv.start()
        s = otd.raw_connect(srv.port)
        s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: "
                  b"application/json\r\nContent-Length: 50\r\n\r\n{")
        time.sleep(0.3)
        t0 = time.monotonic()
        srv.terminate()
        srv.wait_exit(20)
        elapsed = time.monotonic() - t0
        s.close()
        self.assertEqual(srv.exit_code, 0)
        self.assertLess(elapsed, 8.0)
        self.assertIn('"msg":"stopping"', srv.stderr_text())
        srv.stop(signalled=True)


if __name__ == "__main__":
    unittest.main()
