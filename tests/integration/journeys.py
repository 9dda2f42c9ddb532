"""Runs browser journeys (tests/browser/*.js and tests/browser/staff/*.js) against a
test case's server: npm_install() and run_journey(), shared by test_pages.py,
test_visitor_page.py and test_dispatch_page.py.

    node <script> BASE_URL SCREENSHOTS

runs with NODE_PATH at tests/browser/package-lock.json installed by `npm ci` into a
scratch folder under OTD_TEST_TMP (once per lock file), CHROMIUM at Debian's chromium,
OTD_ADMIN_TOKEN set to the server's admin API token and OTD_SCENARIO to the JSON of
the scenario dict. The journey's own lines (ok / FAIL / notes) are printed, and are the
failure message when it exits non-zero.

The control channel: a journey may print a line `@@control <json>` (lib.js:
`await j.control({op: 'stop'})`) and then waits for one line on its standard input.
The runner calls control(dict) (the test case's callable) and writes the dict it
returns as one JSON line; a journey run without control, or a control that raises,
gets {"error": "..."} (and the raise fails the test after the journey).

Screenshots go to OTD_SCREENSHOTS, by default the folder `screenshots` beside
OTD_TEST_TMP (build/<x>/screenshots under ctest), as <journey>-<profile>-<state>.png
(and <journey>-<profile>-FAIL-<n>.png for a failed step); a journey's old ones are
removed before it runs, and its output is kept there as <journey>.log.

Nothing is skipped: without node, npm or chromium the test fails saying to run
`bash contrib/install-deps.sh test`.
"""

import fcntl
import glob
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import threading
import time

import otd

BROWSER_DIR = os.path.join(otd.SOURCE_DIR, "tests", "browser")
STAFF_DIR = os.path.join(BROWSER_DIR, "staff")
CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
SCREENSHOTS = os.environ.get("OTD_SCREENSHOTS") or os.path.join(
    os.path.dirname(os.path.abspath(otd.TEST_TMP)), "screenshots")
JOURNEY_TIMEOUT = 300.0  # seconds; the journey's own guard (lib.js) stops it at 240
NPM_TIMEOUT = 300.0
HINT = "run `bash contrib/install-deps.sh test` (as root or with sudo) to install it"
CONTROL_PREFIX = "@@control "


def journey_names(folder, prefix=""):
    """The journey names in folder: its *.js files but lib.js, sorted; only those
    whose name starts with prefix when one is given."""
    names = []
    for path in sorted(glob.glob(os.path.join(folder, "*.js"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name != "lib" and name.startswith(prefix):
            names.append(name)
    return names


def require(program, package):
    path = program if os.path.isabs(program) else shutil.which(program)
    if not path or not os.access(path, os.X_OK):
        raise AssertionError("%s not found (Debian package %s): %s" % (program, package, HINT))
    return path


def require_tools():
    """node and chromium, or an AssertionError with the way out; returns node."""
    node = require("node", "nodejs")
    require(CHROMIUM, "chromium")
    return node


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


def _remove_old_screenshots(name, script_path):
    """Removes <name>-*.png, but not those of another journey whose name starts with
    <name>- (visitor-offline's when name is visitor)."""
    others = set()
    for folder in (BROWSER_DIR, STAFF_DIR, os.path.dirname(os.path.abspath(script_path))):
        for other in journey_names(folder, name + "-"):
            others.add(other)
    for old in glob.glob(os.path.join(SCREENSHOTS, name + "-*.png")):
        base = os.path.basename(old)
        if any(base.startswith(o + "-") for o in others):
            continue
        os.unlink(old)


def _kill(p):
    """SIGTERM first: playwright-core then closes the Chromium it launched (in a
    process group of its own); SIGKILL after 10 s."""
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def run_journey(testcase, script_path, scenario_dict, control=None, timeout=JOURNEY_TIMEOUT):
    """Runs the journey script_path against testcase.srv with scenario_dict as
    OTD_SCENARIO; control: None or a callable(dict) -> dict for the journey's
    `@@control <json>` lines. Fails testcase unless the journey exits 0 with
    "N passed, 0 failed" (N > 0). Returns the journey's output."""
    node = require_tools()
    modules = npm_install()
    os.makedirs(SCREENSHOTS, exist_ok=True)
    name = os.path.splitext(os.path.basename(script_path))[0]
    _remove_old_screenshots(name, script_path)
    srv = testcase.srv
    env = dict(os.environ)
    env.update({"NODE_PATH": modules, "CHROMIUM": CHROMIUM, "OTD_ADMIN_TOKEN": srv.token,
                "OTD_SCENARIO": json.dumps(scenario_dict or {})})
    base = "http://127.0.0.1:%d" % srv.port
    t0 = time.monotonic()
    deadline = t0 + timeout
    # Its own session, so that a hang is ended with the Chromium it started.
    p = subprocess.Popen([node, script_path, base, SCREENSHOTS], cwd=BROWSER_DIR, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, bufsize=1,
                         start_new_session=True)
    lines = queue.Queue()

    def reader():
        for line in p.stdout:
            lines.put(line)
        lines.put(None)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    out = []
    control_errors = []
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            try:
                line = lines.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if line is None:
                break
            out.append(line)
            if line.startswith(CONTROL_PREFIX):
                answer = _answer(control, line[len(CONTROL_PREFIX):], control_errors)
                out.append("# control answer: %s\n" % json.dumps(answer))
                try:
                    p.stdin.write(json.dumps(answer) + "\n")
                    p.stdin.flush()
                except (BrokenPipeError, OSError):
                    pass
        if timed_out:
            _kill(p)
            out.append("\nFAIL - stopped after %.0f s\n" % timeout)
        else:
            try:
                p.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill(p)
                out.append("\nFAIL - stopped after %.0f s\n" % timeout)
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        try:
            p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        t.join(5)
        try:
            p.stdout.close()
        except OSError:
            pass
        # lines the reader got after we stopped looking
        while True:
            try:
                line = lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                out.append(line)
    text = "".join(out)
    took = time.monotonic() - t0
    with open(os.path.join(SCREENSHOTS, name + ".log"), "w", encoding="utf-8") as f:
        f.write(text)
    print("--- journey %s (%.1f s, exit %s)\n%s" % (name, took, p.returncode, text), flush=True)
    if control_errors:
        testcase.fail("journey %s: the control channel failed:\n%s\n%s"
                      % (name, "\n".join(control_errors), text))
    if p.returncode != 0:
        testcase.fail("journey %s exited %s after %.1f s:\n%s" % (name, p.returncode, took, text))
    testcase.assertRegex(text, r"(?m)^[1-9][0-9]* passed, 0 failed$", "journey %s" % name)
    return text


def _answer(control, raw, errors):
    try:
        request = json.loads(raw)
    except ValueError as e:
        errors.append("not JSON after @@control: %r (%s)" % (raw, e))
        return {"error": "not JSON"}
    if control is None:
        errors.append("the journey asked %r but runs without a control channel" % (request,))
        return {"error": "this journey runs without a control channel"}
    try:
        answer = control(request)
    except Exception as e:  # the journey hears of it; the test fails after
        errors.append("control(%r) raised %s: %s" % (request, type(e).__name__, e))
        return {"error": "%s: %s" % (type(e).__name__, e)}
    return answer if isinstance(answer, dict) else {"result": answer}
