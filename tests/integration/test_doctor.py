"""onthedot doctor: one line per finding ("ok|WARN|FAIL  what: words"), exit 1
on any FAIL; a configuration file holding a secret must be private (doctor and
serve both refuse it otherwise); gateways are probed by TCP (SMTP: its 220
greeting) and never sent anything."""

import os
import re
import shutil
import socket
import threading
import unittest

import otd

LINE = re.compile(r"^(ok  |WARN|FAIL)  ([^:]+): (.+)$")


def free_port():
    """A port nobody listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Listener:
    """A TCP server on a free port. greeting: bytes sent on accept (SMTP's
    220), or None to accept silently. Records what each client sent."""

    def __init__(self, greeting=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.greeting = greeting
        self.received = []
        self.accepted = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            with conn:
                conn.settimeout(5)
                if self.greeting:
                    conn.sendall(self.greeting)
                data = b""
                try:
                    while True:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                self.received.append(data)

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


@otd.requires_sqlite("the database file's checks (TestDoctorPostgreSQL)")
class TestDoctor(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = otd.Server("doctor", users=())
        cls.srv.cli("migrate", "--db", cls.srv.db)
        os.chmod(cls.srv.db, 0o600)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.srv.dir, ignore_errors=True)

    def write_config(self, name, text, mode=0o600):
        path = os.path.join(self.srv.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def doctor(self, *args):
        p = self.srv.cli("doctor", *args, check=False)
        findings = []
        for line in p.stdout.splitlines():
            m = LINE.match(line)
            self.assertIsNotNone(m, "not a finding line: %r\n%s" % (line, p.stdout))
            findings.append((m.group(1).strip(), m.group(2), m.group(3)))
        return p, findings

    def assertFinding(self, findings, level, what, pattern, out=""):
        for lv, w, words in findings:
            if lv == level and w == what and re.search(pattern, words):
                return words
        self.fail("no %s %s: /%s/ among:\n%s" % (level, what, pattern,
                                                "\n".join("%s %s: %s" % f for f in findings)))

    def test_good_database_and_config_all_ok(self):
        conf = self.write_config("good.conf", 'database = "%s";\npublic_url = '
                                 '"https://visits.example.org";\nmessages = { record_only = true; };\n'
                                 % self.srv.db)
        p, findings = self.doctor("--config", conf)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        low_disk = shutil.disk_usage(self.srv.dir)
        allow_disk_warn = (low_disk.free < (1 << 30) or low_disk.free < low_disk.total / 10)
        for level, what, words in findings:
            if what == "disk" and allow_disk_warn:
                continue
            self.assertEqual(level, "ok", "%s: %s\n%s" % (what, words, p.stdout))
        whats = [w for _, w, _ in findings]
        for what in ("configuration", "database", "schema", "integrity", "wal", "disk", "tzdata",
                     "timezone", "messages", "public_url"):
            self.assertIn(what, whats, p.stdout)
        self.assertFinding(findings, "ok", "schema", r"current")
        self.assertFinding(findings, "ok", "timezone", r"Europe/London")
        self.assertFinding(findings, "ok", "configuration", re.escape(conf) + " loads")
        self.assertEqual(p.stderr, "")

    def test_world_readable_config_with_a_secret_is_refused(self):
        text = ('database = "%s";\npublic_url = "https://visits.example.org";\n'
                'messages = { record_only = true; };\n'
                'delivery = { webhook_secret = "0123456789abcdef0123456789abcdef"; };\n'
                % self.srv.db)
        self.srv.note_secret("0123456789abcdef0123456789abcdef")
        for mode, verb in ((0o644, "read"), (0o640, "read"), (0o602, "change")):
            conf = self.write_config("secret.conf", text, mode)
            p, findings = self.doctor("--config", conf)
            self.assertEqual(p.returncode, 1, p.stdout)
            words = self.assertFinding(findings, "FAIL", "configuration",
                                       r"webhook_secret.*may %s" % verb)
            self.assertIn("run chmod 600 %s" % conf, words)
            self.assertIn("%04o" % mode, words)
            self.assertNotIn("0123456789abcdef", p.stdout + p.stderr)
            # serve refuses the same file, before it listens.
            s = self.srv.cli("serve", "--config", conf, "--listen", "127.0.0.1:0", check=False,
                             timeout=60)
            self.assertEqual(s.returncode, 1, s.stderr)
            self.assertIn("chmod 600 %s" % conf, s.stderr)
        # chmod 600 mends it.
        os.chmod(conf, 0o600)
        p, findings = self.doctor("--config", conf)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertFinding(findings, "ok", "configuration", r"loads")
        # A readable file without a secret is fine: the secret may come from
        # the environment instead.
        conf = self.write_config("plain.conf", 'database = "%s";\npublic_url = '
                                 '"https://visits.example.org";\n' % self.srv.db, 0o644)
        p, findings = self.doctor("--config", conf)
        self.assertFinding(findings, "ok", "configuration", r"loads")
        # An empty secret is no secret.
        conf = self.write_config("empty.conf", 'delivery = { smtp_password = ""; };\n', 0o644)
        p, findings = self.doctor("--config", conf, "--db", self.srv.db)
        self.assertFinding(findings, "ok", "configuration", r"loads")

    def test_missing_database_names_the_create_command(self):
        missing = os.path.join(self.srv.dir, "nowhere.db")
        conf = self.write_config("missing.conf", 'public_url = "https://v.example.org";\n')
        p, findings = self.doctor("--config", conf, "--db", missing)
        self.assertEqual(p.returncode, 1, p.stdout)
        words = self.assertFinding(findings, "FAIL", "database", r"does not exist")
        self.assertIn("onthedot migrate --db %s" % missing, words)
        self.assertFalse(os.path.exists(missing))  # doctor creates nothing

    def test_old_schema_and_damaged_file(self):
        old = os.path.join(self.srv.dir, "old.db")
        import sqlite3
        c = sqlite3.connect(old)
        c.execute("CREATE TABLE t (x)")
        c.execute("PRAGMA user_version = 1")
        c.commit()
        c.close()
        p, findings = self.doctor("--db", old)
        self.assertEqual(p.returncode, 1)
        self.assertFinding(findings, "FAIL", "schema", r"run: onthedot migrate --db " +
                           re.escape(old))
        junk = os.path.join(self.srv.dir, "junk.db")
        with open(junk, "wb") as f:
            f.write(b"this is not a database" * 100)
        p, findings = self.doctor("--db", junk)
        self.assertEqual(p.returncode, 1)
        self.assertFinding(findings, "FAIL", "database", r"cannot read .* as a database")

    def gateway_config(self, name, **delivery):
        lines = "".join('\t%s = %s;\n' % (k, v) for k, v in delivery.items())
        return self.write_config(name, 'database = "%s";\npublic_url = "https://v.example.org";\n'
                                 'delivery = {\n%s};\n' % (self.srv.db, lines))

    def test_gateway_on_a_closed_port_fails_naming_it(self):
        port = free_port()
        conf = self.gateway_config("closed.conf", email_providers='[ "smtp" ]',
                                   smtp_url='"smtp://127.0.0.1:%d"' % port,
                                   connect_timeout_ms=2000)
        p, findings = self.doctor("--config", conf)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertFinding(findings, "FAIL", "gateway smtp",
                           r"cannot reach 127\.0\.0\.1:%d \(delivery\.smtp_url\)" % port)
        port2 = free_port()
        conf = self.gateway_config("closed2.conf", sms_providers='[ "kannel" ]',
                                   kannel_url='"http://127.0.0.1:%d/cgi-bin/sendsms"' % port2)
        p, findings = self.doctor("--config", conf)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertFinding(findings, "FAIL", "gateway kannel", r"127\.0\.0\.1:%d" % port2)
        # A provider listed without its URL.
        conf = self.gateway_config("nourl.conf", sms_providers='[ "twilio" ]')
        p, findings = self.doctor("--config", conf)
        self.assertFinding(findings, "FAIL", "gateway twilio", r"delivery\.twilio_url is empty")

    def test_listening_gateways_are_ok_and_sent_nothing(self):
        smtp = Listener(b"220 sink.test ESMTP ready\r\n")
        kannel = Listener()
        hook = Listener()
        try:
            conf = self.gateway_config(
                "open.conf", email_providers='[ "smtp" ]', sms_providers='[ "kannel" ]',
                smtp_url='"smtp://127.0.0.1:%d"' % smtp.port,
                kannel_url='"http://localhost:%d/cgi-bin/sendsms"' % kannel.port,
                webhook_url='"http://127.0.0.1:%d/hook"' % hook.port,
                webhook_secret='"s3cret-webhook-key"')
            p, findings = self.doctor("--config", conf)
            self.assertEqual(p.returncode, 0, p.stdout)
            self.assertFinding(findings, "ok", "gateway smtp",
                               r"127\.0\.0\.1:%d answers with its 220 greeting" % smtp.port)
            self.assertFinding(findings, "ok", "gateway kannel",
                               r"localhost:%d accepts connections" % kannel.port)
            self.assertFinding(findings, "ok", "gateway webhook", r":%d accepts" % hook.port)
            self.assertFalse([f for f in findings if f[0] == "FAIL"], p.stdout)
        finally:
            smtp.close()
            kannel.close()
            hook.close()
        self.assertEqual(smtp.accepted, 1)
        self.assertEqual(kannel.accepted, 1)
        self.assertEqual(hook.accepted, 1)
        # Nothing was ever sent to a gateway: no message, no HTTP request.
        self.assertEqual(smtp.received + kannel.received + hook.received, [b"", b"", b""])

    def test_smtp_that_does_not_greet_with_220_fails(self):
        bad = Listener(b"554 no service here\r\n")
        try:
            conf = self.gateway_config("bad.conf", email_providers='[ "smtp" ]',
                                       smtp_url='"smtp://127.0.0.1:%d"' % bad.port)
            p, findings = self.doctor("--config", conf)
        finally:
            bad.close()
        self.assertEqual(p.returncode, 1)
        self.assertFinding(findings, "FAIL", "gateway smtp", r"greeting is not 220")

    def test_public_url_needed_when_messages_go_out(self):
        conf = self.write_config("nopub.conf", 'database = "%s";\n' % self.srv.db)
        p, findings = self.doctor("--config", conf)
        self.assertEqual(p.returncode, 1)
        self.assertFinding(findings, "FAIL", "public_url", r"not set")

    def test_help(self):
        p = self.srv.cli("doctor", "--help")
        self.assertIn("usage: onthedot doctor", p.stdout)
        p = self.srv.cli("doctor", "extra", check=False)
        self.assertEqual(p.returncode, 2)



@unittest.skipUnless(otd.PG_ADMIN_URL, "PostgreSQL slice only")
class TestDoctorPostgreSQL(unittest.TestCase):
    """doctor on a PostgreSQL database: it answers, its schema, the nodes; the
    password never shown."""

    def setUp(self):
        self.srv = otd.Server("doctorpg", users=())
        self.addCleanup(otd.pg_drop_database, self.srv.db)
        self.addCleanup(shutil.rmtree, self.srv.dir, True)
        # Trust authentication ignores it; what matters is that no output shows it.
        self.url = self.srv.db.replace("postgresql://postgres@", "postgresql://postgres:Sekr1tPw@")

    def findings(self):
        p = self.srv.cli("doctor", "--db", self.url, check=False)
        self.assertNotIn("Sekr1tPw", p.stdout + p.stderr)
        out = {}
        for line in p.stdout.splitlines():
            m = LINE.match(line)
            self.assertIsNotNone(m, "not a finding line: %r\n%s" % (line, p.stdout))
            out[m.group(2)] = (m.group(1).strip(), m.group(3))
        return p, out

    def test_unmigrated_then_migrated(self):
        p, f = self.findings()
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(f["database"][0], "ok", f)
        self.assertIn("PostgreSQL", f["database"][1])
        self.assertIn("postgres:***@", f["database"][1])
        self.assertEqual(f["schema"][0], "FAIL", f)
        self.assertIn("onthedot migrate --db", f["schema"][1])
        self.srv.cli("migrate", "--db", self.url)
        p, f = self.findings()
        self.assertEqual(f["schema"], ("ok", "version %d, current" % len(
            [n for n in os.listdir(os.path.join(otd.SOURCE_DIR, "schema"))
             if n.endswith(".sql")])), f)
        self.assertEqual(f["nodes"][0], "ok", f)
        self.assertNotIn("collation", f)

    def test_unreachable_server_is_named(self):
        port = free_port()  # nothing listens there
        bad = "postgresql://postgres:Sekr1tPw@127.0.0.1:%d/nothing" % port
        p = self.srv.cli("doctor", "--db", bad, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("Sekr1tPw", p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"FAIL +database: Cannot connect to the PostgreSQL database "
                                   r"postgresql://postgres:\*\*\*@127\.0\.0\.1")

if __name__ == "__main__":
    unittest.main()
