"""Backups and restore with the real binary: `onthedot backup` while the server
takes writes, `onthedot restore` and serving what it put back, the refusals (a
damaged, newer or foreign backup; a server running on the database; a second
serve), serve refusing a damaged database with the restore command to run, and
scheduled backups kept to backup.keep."""

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import unittest

import otd

SCHEMA_DIR = os.path.join(otd.SOURCE_DIR, "schema")
LATEST = len([f for f in os.listdir(SCHEMA_DIR) if f.endswith(".sql")])
BACKUP_NAME = re.compile(r"^onthedot-\d{8}T\d{6}Z\.db$")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def integrity(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()


def query(path, sql):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def damage_page(path, n, page_size=4096):
    """Writes garbage over page n (1-based) of a database file."""
    junk = bytes((i * 7919 + 13) & 0xFF for i in range(page_size))
    with open(path, "r+b") as f:
        f.seek(page_size * (n - 1))
        f.write(junk)


def checkpoint(path):
    """Copies the log into the database file, so its bytes hold everything."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def visitor_names(srv):
    r = srv.request("GET", "/api/v1/visitors?limit=100", token="admin", check=True)
    return {v["name"] for v in r.body["items"]}


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    if not m:
        raise AssertionError("no %s in /metrics" % name)
    return float(m.group(1))


@otd.requires_sqlite("onthedot backup copies SQLite files; PostgreSQL is backed up with pg_dump (TestPostgreSQLBackup)")
class TestOnlineBackup(otd.ServerTestCase):
    """One server that keeps running while backups are taken of it."""

    users = ("admin",)

    def test_backup_while_the_server_writes(self):
        srv = self.srv
        # Ballast, so the copy takes a while: about 8 MB.
        srv.sql("CREATE TABLE IF NOT EXISTS ballast(b BLOB)")
        for _ in range(4):
            srv.sql("INSERT INTO ballast SELECT randomblob(4000) FROM "
                    "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 500) SELECT i FROM n)")
        created = []  # (id, time its 201 arrived)
        stop = threading.Event()
        errors = []

        def writer():
            i = 0
            while not stop.is_set() and i < 2000:
                i += 1
                try:
                    r = srv.request("POST", "/api/v1/visitors",
                                    otd.visitor_body(name="Writer %d" % i), token="admin")
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(repr(e))
                    return
                if r.status != 201:
                    errors.append("%s %r" % (r.status, r.raw[:200]))
                    return
                created.append((r.body["id"], time.monotonic()))

        t = threading.Thread(target=writer)
        t.start()
        try:
            while len(created) < 20 and t.is_alive():
                time.sleep(0.01)
            to = os.path.join(srv.dir, "online.db")
            started = time.monotonic()
            p = srv.cli("backup", "--db", srv.db, "--to", to)
            finished = time.monotonic()
            time.sleep(0.3)
        finally:
            stop.set()
            t.join(60)
        self.assertEqual(errors, [])
        before = [vid for vid, at in created if at < started]
        during = [vid for vid, at in created if started <= at < finished]
        self.assertGreater(len(before), 0)
        # The server went on taking writes while the copy ran.
        self.assertGreater(len(during), 0, "no write completed during the backup")
        self.assertEqual(integrity(to), [("ok",)])
        got = {row[0] for row in query(to, "SELECT id FROM visitors")}
        self.assertTrue(set(before) <= got, "a write committed before the backup is missing")
        # One moment: every write up to the newest in the copy, none after it.
        newest = max(got)
        self.assertEqual({vid for vid, _ in created if vid <= newest}, got & {v for v, _ in created})
        self.assertEqual(query(to, "PRAGMA user_version"), [(LATEST,)])
        # It says what it copied, stands alone and is private.
        self.assertRegex(p.stdout, r"pages: +\d+ of 4096 bytes")
        self.assertRegex(p.stdout, r"size: +\d+ bytes")
        self.assertIn("schema version: %d" % LATEST, p.stdout)
        self.assertRegex(p.stdout, r"seconds: +\d+\.\d\d")
        self.assertFalse(os.path.exists(to + "-wal"))
        self.assertEqual(os.stat(to).st_mode & 0o777, 0o600)
        self.assertEqual([f for f in os.listdir(srv.dir) if ".tmp-" in f], [])

    def test_backup_refuses_to_overwrite_unless_forced(self):
        srv = self.srv
        to = os.path.join(srv.dir, "exists.db")
        with open(to, "w") as f:
            f.write("precious\n")
        p = srv.cli("backup", "--db", srv.db, "--to", to, check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("already exists", p.stderr)
        self.assertIn("--force", p.stderr)
        with open(to) as f:
            self.assertEqual(f.read(), "precious\n")
        srv.cli("backup", "--db", srv.db, "--to", to, "--force")
        self.assertEqual(integrity(to), [("ok",)])
        p = srv.cli("backup", "--db", srv.db, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--to", p.stderr)

    def test_restore_is_refused_while_the_server_runs(self):
        srv = self.srv
        bak = os.path.join(srv.dir, "for-restore.db")
        srv.cli("backup", "--db", srv.db, "--to", bak)
        files = sorted(os.listdir(srv.dir))
        p = srv.cli("restore", "--from", bak, "--db", srv.db, check=False)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("another onthedot serve is running on %s (pid %d)"
                      % (srv.db, srv.proc.pid), p.stderr)
        self.assertIn("was not changed", p.stderr)
        self.assertEqual(sorted(os.listdir(srv.dir)), files)
        self.assertEqual(srv.request("GET", "/healthz").status, 200)

    def test_a_second_serve_is_refused(self):
        srv = self.srv
        p = srv.cli("serve", "--db", srv.db, "--listen", "127.0.0.1:0", "--port-file",
                    os.path.join(srv.dir, "port2"), check=False, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("another onthedot serve is running on %s (pid %d)"
                      % (srv.db, srv.proc.pid), p.stderr)
        self.assertFalse(os.path.exists(os.path.join(srv.dir, "port2")))
        self.assertEqual(srv.request("GET", "/healthz").status, 200)

    def test_metrics_without_scheduled_backups(self):
        text = self.srv.request("GET", "/metrics").body
        self.assertEqual(metric(text, "otd_backup_enabled"), 0)
        self.assertEqual(metric(text, "otd_backup_failures_total"), 0)
        self.assertEqual(metric(text, "otd_backup_last_success_timestamp_seconds"), 0)
        self.assertEqual(metric(text, "otd_backup_last_duration_seconds"), 0)


@otd.requires_sqlite("onthedot restore writes SQLite files; PostgreSQL is restored with pg_restore")
class TestRestore(unittest.TestCase):
    """Servers started and stopped around backups and restores."""

    def server(self, name, **kw):
        srv = otd.Server(name, users=("admin",), **kw)
        self.addCleanup(srv.kill)
        return srv

    def stop_keeping_folder(self, srv):
        """SIGTERM and the checks of a clean run, keeping the folder (stop()
        removes it)."""
        srv.terminate()
        self.assertEqual(srv.wait_exit(), 0, srv.stderr_text()[-3000:])
        text = srv.stderr_text()
        srv.assert_no_sanitizer_report("onthedot serve", text)
        srv.check_log(text)
        return text

    def test_restore_then_serve_the_data(self):
        srv = self.server("restore")
        srv.start()
        srv.create_visitor(name="Zoë O'Brien-Nguyễn")
        bak = os.path.join(srv.dir, "backup.db")
        srv.cli("backup", "--db", srv.db, "--to", bak)
        srv.create_visitor(name="After The Backup")
        self.assertIn("After The Backup", visitor_names(srv))
        self.stop_keeping_folder(srv)
        p = srv.cli("restore", "--from", bak, "--db", srv.db)
        self.assertIn("integrity_check and foreign_key_check passed", p.stdout)
        self.assertIn("schema version %d" % LATEST, p.stdout)
        m = re.search(r"kept the previous database as (\S+)", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        kept = m.group(1)
        self.assertRegex(kept, re.escape(srv.db) + r"\.before-restore-\d{8}T\d{6}Z\.bak$")
        self.assertIn("After The Backup",
                      {r[0] for r in query(kept, "SELECT name FROM visitors")})
        self.assertIn("restored %s from %s" % (srv.db, bak), p.stdout)
        self.assertFalse(os.path.exists(srv.db + "-wal"))
        srv.start(prepare=False)
        names = visitor_names(srv)
        self.assertIn("Zoë O'Brien-Nguyễn", names)
        self.assertNotIn("After The Backup", names)
        srv.stop()

    def test_restore_refuses_bad_backups_and_leaves_the_database(self):
        srv = self.server("refuse")
        srv.prepare()
        checkpoint(srv.db)
        good = os.path.join(srv.dir, "good.db")
        srv.cli("backup", "--db", srv.db, "--to", good)
        damaged = os.path.join(srv.dir, "damaged.db")
        shutil.copy(good, damaged)
        damage_page(damaged, 3)
        newer = os.path.join(srv.dir, "newer.db")
        shutil.copy(good, newer)
        db = sqlite3.connect(newer)
        db.execute("PRAGMA user_version = %d" % (LATEST + 1))
        db.commit()
        db.close()
        text = os.path.join(srv.dir, "notes.txt")
        with open(text, "w") as f:
            f.write("visitors,appointments\n")
        foreign = os.path.join(srv.dir, "foreign.db")
        db = sqlite3.connect(foreign)
        db.execute("CREATE TABLE recipes(id INTEGER PRIMARY KEY, name TEXT)")
        db.commit()
        db.close()
        truncated = os.path.join(srv.dir, "truncated.db")
        with open(good, "rb") as f:
            data = f.read()
        with open(truncated, "wb") as f:
            f.write(data[:len(data) // 2])
        cases = [(damaged, "failed its integrity check"),
                 (newer, "schema version %d, newer than this onthedot knows (%d)"
                  % (LATEST + 1, LATEST)),
                 (text, "is not a SQLite database"),
                 (foreign, "not an onthedot one"),
                 (truncated, "cut short"),
                 (os.path.join(srv.dir, "missing.db"), "No such file")]
        before = digest(srv.db)
        files = sorted(os.listdir(srv.dir))
        for path, why in cases:
            p = srv.cli("restore", "--from", path, "--db", srv.db, check=False)
            self.assertEqual(p.returncode, 1, (path, p.stdout, p.stderr))
            self.assertIn(why, p.stderr, path)
            self.assertIn("was not changed", p.stderr, path)
            self.assertEqual(digest(srv.db), before, path)
            self.assertEqual(sorted(os.listdir(srv.dir)), files, path)
        # The good one goes in.
        p = srv.cli("restore", "--from", good, "--db", srv.db)
        self.assertIn("kept the previous database", p.stdout)

    def test_restore_of_an_older_schema_says_to_migrate(self):
        srv = self.server("older")
        srv.prepare()
        old = os.path.join(srv.dir, "old.db")
        srv.cli("backup", "--db", srv.db, "--to", old)
        db = sqlite3.connect(old)
        db.execute("PRAGMA user_version = %d" % (LATEST - 1))
        db.commit()
        db.close()
        p = srv.cli("restore", "--from", old, "--db", srv.db)
        self.assertIn("older than this onthedot's (%d)" % LATEST, p.stdout)
        self.assertIn("onthedot migrate --db %s" % srv.db, p.stdout)

    def test_serve_refuses_a_damaged_database_naming_the_restore(self):
        srv = self.server("damaged")
        bdir = os.path.join(srv.dir, "backups")
        srv.extra_env["ONTHEDOT_BACKUP_DIR"] = bdir
        srv.start()
        srv.create_visitor(name="Kept Safe")
        # A backup the server itself took (at start: there was none).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            names = [n for n in os.listdir(bdir)] if os.path.isdir(bdir) else []
            if any(BACKUP_NAME.match(n) for n in names):
                break
            time.sleep(0.1)
        self.stop_keeping_folder(srv)
        # The folder holds one backup; a later manual one has a later name.
        newest = os.path.join(bdir, "onthedot-29990101T000000Z.db")
        srv.cli("backup", "--db", srv.db, "--to", newest)
        checkpoint(srv.db)
        damage_page(srv.db, 3)
        before = digest(srv.db)
        p = srv.cli("serve", "--db", srv.db, "--listen", "127.0.0.1:0", check=False, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("failed its startup check", p.stderr)
        self.assertIn('store.startup_check = "quick"', p.stderr)
        command = "onthedot restore --from %s --db %s" % (newest, srv.db)
        self.assertIn(command, p.stderr)
        self.assertEqual(digest(srv.db), before)
        # The command it names puts it right.
        srv.cli(*command.split()[1:])
        srv.start(prepare=False)
        self.assertIn("Kept Safe", visitor_names(srv))
        srv.stop()

    def test_serve_without_backups_names_a_placeholder(self):
        srv = self.server("nobackup")
        srv.prepare()
        checkpoint(srv.db)
        damage_page(srv.db, 3)
        env = srv.env()
        p = subprocess.run([otd.BIN, "serve", "--db", srv.db, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, env=env, cwd=srv.dir, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("onthedot restore --from BACKUP --db %s" % srv.db, p.stderr)
        self.assertIn("backup.dir is not set", p.stderr)
        # store.startup_check = "off" lets it past the check (and the
        # damage shows up later instead): here only that it is not refused
        # by the check.
        env["ONTHEDOT_STORE_STARTUP_CHECK"] = "off"
        p = subprocess.run([otd.BIN, "serve", "--db", srv.db, "--check-config"],
                           capture_output=True, text=True, env=env, cwd=srv.dir, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('startup_check = "off"', p.stdout)


@otd.requires_sqlite("scheduled backups copy the SQLite file")
class TestScheduledBackups(unittest.TestCase):

    def test_backups_rotate_to_keep(self):
        srv = otd.Server("scheduled", users=("admin",))
        self.addCleanup(srv.kill)
        bdir = os.path.join(srv.dir, "backups")
        os.makedirs(bdir)
        old = ["onthedot-2025010%dT000000Z.db" % d for d in range(1, 6)]
        others = ["notes.txt", "onthedot-manual.db", "onthedot.db"]
        for name in old + others:
            with open(os.path.join(bdir, name), "w") as f:
                f.write("not checked: only the name counts for rotation\n")
        srv.extra_env.update({"ONTHEDOT_BACKUP_DIR": bdir,
                              "ONTHEDOT_BACKUP_INTERVAL_MINUTES": "1",
                              "ONTHEDOT_BACKUP_KEEP": "3"})
        t0 = time.time()
        srv.start()

        def ours():
            return sorted(n for n in os.listdir(bdir) if BACKUP_NAME.match(n) and n not in old)

        # The newest was older than the interval: one at start.
        deadline = time.monotonic() + 60
        while not ours() and time.monotonic() < deadline:
            time.sleep(0.1)
        first = ours()
        self.assertEqual(len(first), 1)
        path = os.path.join(bdir, first[0])
        self.assertEqual(integrity(path), [("ok",)])
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        names = sorted(os.listdir(bdir))
        self.assertEqual(sorted(n for n in names if BACKUP_NAME.match(n)),
                         sorted(first + old[-2:]))
        for name in others:
            self.assertIn(name, names)
        text = srv.request("GET", "/metrics").body
        self.assertEqual(metric(text, "otd_backup_enabled"), 1)
        self.assertEqual(metric(text, "otd_backup_failures_total"), 0)
        self.assertEqual(metric(text, "otd_backup_successes_total"), 1)
        self.assertGreater(metric(text, "otd_backup_last_duration_seconds"), 0)
        self.assertAlmostEqual(metric(text, "otd_backup_last_success_timestamp_seconds"),
                               time.time(), delta=120)
        self.assertGreaterEqual(metric(text, "otd_backup_last_success_timestamp_seconds"),
                                int(t0) - 1)
        # One interval (real time) later, the next; still 3 kept.
        srv.create_visitor(name="Between Backups")
        deadline = time.monotonic() + 100
        while len(ours()) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        second = ours()
        self.assertEqual(len(second), 2, second)
        self.assertEqual(sorted(n for n in os.listdir(bdir) if BACKUP_NAME.match(n)),
                         sorted(second + old[-1:]))
        self.assertIn(("Between Backups",),
                      query(os.path.join(bdir, second[-1]), "SELECT name FROM visitors"))
        log = [l for l in srv.stderr_text().split("\n") if '"msg":"backup"' in l]
        srv.stop()
        self.assertEqual(len(log), 2, log)
        self.assertRegex(log[0], r'"bytes":\d+')
        self.assertRegex(log[0], r'"seconds":')

    def test_a_failing_backup_never_stops_the_server(self):
        srv = otd.Server("failing", users=("admin",))
        self.addCleanup(srv.kill)
        blocker = os.path.join(srv.dir, "not-a-folder")
        with open(blocker, "w") as f:
            f.write("a file where the folder should be\n")
        srv.extra_env["ONTHEDOT_BACKUP_DIR"] = blocker
        srv.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = srv.request("GET", "/metrics").body
            if metric(text, "otd_backup_failures_total") >= 1:
                break
            time.sleep(0.1)
        self.assertEqual(metric(text, "otd_backup_failures_total"), 1)
        self.assertEqual(metric(text, "otd_backup_successes_total"), 0)
        self.assertEqual(srv.request("GET", "/healthz").status, 200)
        srv.create_visitor(name="Still Serving")
        srv.stop()




@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestPostgreSQLBackup(unittest.TestCase):
    """backup and restore name PostgreSQL's own tools for a PostgreSQL database
    and change nothing."""

    def test_backup_and_restore_point_to_pg_dump(self):
        srv = otd.Server("PgBackup")
        try:
            srv.prepare()
            before = srv.sql("SELECT count(*) FROM users")
            target = os.path.join(srv.dir, "copy.db")
            p = srv.cli("backup", "--db", srv.db, "--to", target, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("pg_dump", p.stderr)
            self.assertFalse(os.path.exists(target))
            other = os.path.join(srv.dir, "other.db")
            with open(other, "wb") as f:
                f.write(b"not used")
            p = srv.cli("restore", "--from", other, "--db", srv.db, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("pg_restore", p.stderr)
            self.assertEqual(srv.sql("SELECT count(*) FROM users"), before)
        finally:
            shutil.rmtree(srv.dir, ignore_errors=True)
            otd.pg_drop_database(srv.db)


if __name__ == "__main__":
    unittest.main()
