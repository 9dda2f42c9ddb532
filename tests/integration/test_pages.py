"""Browser journeys: every tests/browser/<journey>.js (but lib.js) against the real binary.

One server with the Wrenfield organisation (otd_booking.BookingTestCase: gazetteer,
holidays, visitors, visit types, virtual clock) serves all journeys of this class;
each journey is one test method, test_<journey>, which runs

    node tests/browser/<journey>.js BASE_URL SCREENSHOTS

with NODE_PATH at tests/browser/package-lock.json installed by `npm ci` into a scratch
folder under OTD_TEST_TMP (once per lock file), CHROMIUM at Debian's chromium and
OTD_ADMIN_TOKEN set to the server's admin API token (for journeys that move the
virtual clock or act as the dispatcher), and OTD_SCENARIO to the JSON of what the
method scenario_<journey>() returns, when there is one (it runs first and prepares
the server: appointments, tokens, feedback). The journey's own lines (ok / FAIL / notes)
are printed, and are the failure message when it exits non-zero.

Screenshots go to OTD_SCREENSHOTS, by default the folder `screenshots` beside
OTD_TEST_TMP (build/asan/screenshots under ctest), as <journey>-<profile>-<state>.png
(and <journey>-<profile>-FAIL-<n>.png for a failed step); a journey's old ones are
removed before it runs, and its output is kept there as <journey>.log.

Nothing is skipped: without node, npm or chromium every test fails saying to run
`bash contrib/install-deps.sh test`.
"""

import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

import otd
import otd_booking
import pages_scenarios

BROWSER_DIR = os.path.join(otd.SOURCE_DIR, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("OTD_SCREENSHOTS") or os.path.join(
    os.path.dirname(os.path.abspath(otd.TEST_TMP)), "screenshots")
JOURNEY_TIMEOUT = 300.0  # seconds; the journey's own guard (lib.js) stops it at 240
NPM_TIMEOUT = 300.0
HINT = "run `bash contrib/install-deps.sh test` (as root or with sudo) to install it"


def journeys():
    """The journey names: tests/browser/*.js but the library, sorted."""
    names = []
    for path in sorted(glob.glob(os.path.join(BROWSER_DIR, "*.js"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name != "lib":
            names.append(name)
    return names


def require(program, package):
    path = program if os.path.isabs(program) else shutil.which(program)
    if not path or not os.access(path, os.X_OK):
        raise AssertionError("%s not found (Debian package %s): %s" % (program, package, HINT))
    return path


def npm_install():
    """Installs tests/browser/package-lock.json (playwright-core, axe-core, pinned)
    with `npm ci` into OTD_TEST_TMP/node-browser-<hash of the lock>, once;
    concurrent test processes wait for each other. Returns its node_modules."""
    npm = require("npm", "npm")
    with open(os.path.join(BROWSER_DIR, "package-lock.json"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    scratch = os.path.join(otd.TEST_TMP, "node-browser-" + digest)
    os.makedirs(scratch, exist_ok=True)
    modules = os.path.join(scratch, "node_modules")
    stamp = os.path.join(scratch, "installed")
    with open(os.path.join(scratch, ".lock"), "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if os.path.exists(stamp) and all(os.path.isdir(os.path.join(modules, m))
                                         for m in ("playwright-core", "axe-core")):
            return modules
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(os.path.join(BROWSER_DIR, name), os.path.join(scratch, name))
        p = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=scratch, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=NPM_TIMEOUT)
        if p.returncode != 0:
            raise AssertionError("npm ci in %s failed:\n%s%s" % (scratch, p.stdout, p.stderr))
        with open(stamp, "w") as f:
            f.write(digest + "\n")
    return modules


class PagesTest(pages_scenarios.PageScenarios, otd_booking.BookingTestCase):
    """The customer pages in a real browser (methods added below, one per journey)."""

    @classmethod
    def setUpClass(cls):
        # The tools first: a missing one fails every journey with the way out.
        cls.node = require("node", "nodejs")
        require(CHROMIUM, "chromium")
        cls.modules = npm_install()
        os.makedirs(SCREENSHOTS, exist_ok=True)
        super().setUpClass()

    def run_journey(self, name):
        for old in glob.glob(os.path.join(SCREENSHOTS, name + "-*.png")):
            os.unlink(old)
        env = dict(os.environ)
        env.update({"NODE_PATH": self.modules, "CHROMIUM": CHROMIUM,
                    "OTD_ADMIN_TOKEN": self.srv.token})
        # A method scenario_<journey>() (optional) prepares the server for the
        # journey and returns what the journey needs to know (tokens, names),
        # handed over as JSON in OTD_SCENARIO.
        prepare = getattr(self, "scenario_" + name.replace("-", "_"), None)
        scenario = prepare() if prepare else {}
        env["OTD_SCENARIO"] = json.dumps(scenario)
        base = "http://127.0.0.1:%d" % self.srv.port
        script = os.path.join(BROWSER_DIR, name + ".js")
        t0 = time.monotonic()
        # Its own session, so that a hang is ended with the Chromium it started.
        p = subprocess.Popen([self.node, script, base, SCREENSHOTS], cwd=BROWSER_DIR, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=JOURNEY_TIMEOUT)
        except subprocess.TimeoutExpired:
            # SIGTERM first: playwright-core then closes the Chromium it
            # launched (in a process group of its own).
            os.killpg(p.pid, signal.SIGTERM)
            try:
                out, _ = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, _ = p.communicate()
            out += "\nFAIL - stopped after %.0f s" % JOURNEY_TIMEOUT
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        took = time.monotonic() - t0
        with open(os.path.join(SCREENSHOTS, name + ".log"), "w", encoding="utf-8") as f:
            f.write(out)
        print("--- journey %s (%.1f s, exit %s)\n%s" % (name, took, p.returncode, out), flush=True)
        if p.returncode != 0:
            self.fail("journey %s exited %s after %.1f s:\n%s" % (name, p.returncode, took, out))
        self.assertRegex(out, r"(?m)^[1-9][0-9]* passed, 0 failed$", "journey %s" % name)


def _journey_test(name):
    def test(self):
        self.run_journey(name)
    test.__doc__ = "tests/browser/%s.js" % name
    return test


for _name in journeys():
    setattr(PagesTest, "test_" + _name.replace("-", "_"), _journey_test(_name))


class JourneysPresent(unittest.TestCase):
    def test_there_are_journeys(self):
        self.assertIn("smoke", journeys(), "tests/browser/smoke.js is missing")


if __name__ == "__main__":
    unittest.main()
