"""contrib/systemd/onthedot.service passes `systemd-analyze verify` (with
ExecStart pointed at the built binary, which verify needs to exist) and has
the sandbox and settings operations rely on; the sysusers and logrotate
files go with it."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import otd

CONTRIB = os.path.join(otd.SOURCE_DIR, "contrib")
UNIT = os.path.join(CONTRIB, "systemd", "onthedot.service")


def unit_settings(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


class TestSystemdUnit(unittest.TestCase):
    def setUp(self):
        with open(UNIT) as f:
            self.text = f.read()
        self.s = unit_settings(self.text)

    def test_systemd_analyze_verify(self):
        self.assertIsNotNone(shutil.which("systemd-analyze"), "systemd-analyze is not installed "
                             "(contrib/install-deps.sh test installs Debian's systemd package)")
        os.makedirs(otd.TEST_TMP, exist_ok=True)
        d = tempfile.mkdtemp(prefix="systemd-", dir=otd.TEST_TMP)
        self.addCleanup(shutil.rmtree, d, True)
        binary = os.path.abspath(otd.BIN)
        text = self.text.replace("ExecStart=/usr/local/bin/onthedot ", "ExecStart=%s " % binary)
        self.assertNotEqual(text, self.text)
        path = os.path.join(d, "onthedot.service")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True,
                           text=True, timeout=60)
        # verify exits 0 on unknown keys and bad values, but says so.
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))
        # And it does fail on a wrong value (the check can fail).
        with open(path, "w") as f:
            f.write(text.replace("ProtectSystem=strict", "ProtectSystem=strictly"))
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True,
                           text=True, timeout=60)
        self.assertIn("strictly", p.stderr)

    def test_the_settings_operations_rely_on(self):
        want = {
            "User": "onthedot",
            "ExecStart": "/usr/local/bin/onthedot serve --config /etc/onthedot/onthedot.conf",
            "ExecReload": "/bin/kill -HUP $MAINPID",
            "Restart": "on-failure",
            "NoNewPrivileges": "yes",
            "ProtectSystem": "strict",
            "ReadWritePaths": "/var/lib/onthedot",
            "StateDirectory": "onthedot",
            "LogsDirectory": "onthedot",
            "PrivateTmp": "yes",
            "ProtectHome": "yes",
            "PrivateDevices": "yes",
            "ProtectKernelTunables": "yes",
            "ProtectKernelModules": "yes",
            "ProtectControlGroups": "yes",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
            "LimitNOFILE": "65536",
        }
        for k, v in want.items():
            self.assertEqual(self.s.get(k), [v], k)
        self.assertRegex(self.s["LogRateLimitIntervalSec"][0], r"^\d+s$")
        self.assertGreaterEqual(int(self.s["LogRateLimitBurst"][0]), 10000)
        # Longer than requests get to finish (http.shutdown_grace's default,
        # from contrib/onthedot.conf) plus the worker's 10 s to store outcomes.
        with open(os.path.join(CONTRIB, "onthedot.conf")) as f:
            grace = int(re.search(r"^\s*shutdown_grace = (\d+);", f.read(), re.M).group(1))
        stop = int(re.fullmatch(r"(\d+)s", self.s["TimeoutStopSec"][0]).group(1))
        self.assertGreater(stop, grace + 10)

    def test_sysusers_creates_the_user(self):
        with open(os.path.join(CONTRIB, "systemd", "onthedot.sysusers")) as f:
            lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
        self.assertEqual(lines[0][:2], ["u", "onthedot"])

    def test_logrotate_reopens_with_sighup(self):
        with open(os.path.join(CONTRIB, "logrotate", "onthedot")) as f:
            text = f.read()
        self.assertIn("/var/log/onthedot/onthedot.log {", text)  # the unit's LogsDirectory
        post = text[text.index("postrotate"):text.index("endscript")]
        self.assertIn("kill -HUP", post)
        self.assertIn("create 0600 onthedot onthedot", text)
        self.assertIn("delaycompress", text)  # onthedot may write to it until the HUP


if __name__ == "__main__":
    unittest.main()
