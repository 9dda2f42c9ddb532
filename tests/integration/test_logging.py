"""Logging for operations: log_file (appended to, reopened on SIGHUP after
logrotate renamed it) and access-log sampling (log.access_sample: 1 in N
successful requests, every 4xx and 5xx, the rest counted on /metrics)."""

import json
import os
import re
import shutil
import signal
import stat
import time
import unittest

import otd


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def request_lines(recs, route=None, status=None):
    return [r for r in recs if r.get("msg") == "request" and (route is None or r["route"] == route)
            and (status is None or r["status"] == status)]


def wait_for(cond, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


class TestLogFile(unittest.TestCase):
    def test_log_file_written_and_reopened_after_rename_and_sighup(self):
        srv = otd.Server("logfile", users=())
        log = os.path.join(srv.dir, "onthedot.log")
        srv.extra_env["ONTHEDOT_LOG_FILE"] = log
        self.addCleanup(srv.kill)
        srv.start()
        for _ in range(3):
            self.assertEqual(srv.request("GET", "/healthz").status, 200)
        self.assertEqual(srv.request("GET", "/before-rotation").status, 404)
        self.assertEqual(stat.S_IMODE(os.stat(log).st_mode) & 0o007, 0)  # not for others
        # A request's line is written once its reply is sent: wait for them.
        wait_for(lambda: len(request_lines(records(log))) == 4)
        before = records(log)
        self.assertIn("listening", [r["msg"] for r in before])
        self.assertEqual(len(request_lines(before, "/healthz", 200)), 3)
        # What logrotate does: rename, then SIGHUP (postrotate).
        rotated = log + ".1"
        os.rename(log, rotated)
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while not os.path.exists(log) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(log), "no new log file after SIGHUP")
        wait_for(lambda: any(r["msg"] == "log_reopened" for r in records(log)))
        for _ in range(2):
            self.assertEqual(srv.request("GET", "/healthz").status, 200)
        self.assertEqual(srv.request("GET", "/after-rotation").status, 404)
        wait_for(lambda: len(request_lines(records(log))) == 3)
        srv.terminate()
        self.assertEqual(srv.wait_exit(), 0)
        old, new = records(rotated), records(log)
        self.assertEqual(new[0]["msg"], "log_reopened", new[:2])
        self.assertEqual(len(request_lines(old, "/healthz", 200)), 3)
        self.assertEqual(len(request_lines(new, "/healthz", 200)), 2)
        self.assertEqual(len(request_lines(old, status=404)), 1)
        self.assertEqual(len(request_lines(new, status=404)), 1)
        self.assertEqual(new[-1]["msg"], "stopped")
        # The two files together are one clean log; stderr holds nothing.
        with open(rotated) as a, open(log) as b:
            srv.check_log(a.read() + b.read())
        self.assertEqual(srv.stderr_text(), "")
        srv.assert_no_sanitizer_report("onthedot serve")
        srv.check_database()
        shutil.rmtree(srv.dir, ignore_errors=True)

    def test_unwritable_log_file_refuses_to_start(self):
        srv = otd.Server("logfile-bad", users=())
        self.addCleanup(shutil.rmtree, srv.dir, True)
        srv.prepare()
        bad = os.path.join(srv.dir, "no-such-dir", "x.log")
        srv.extra_env["ONTHEDOT_LOG_FILE"] = bad
        p = srv.cli("serve", "--db", srv.db, "--listen", "127.0.0.1:0", check=False, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("cannot open the log file %s" % bad, p.stderr)
        self.assertIn("(log_file)", p.stderr)


class TestAccessSampling(otd.ServerTestCase):
    users = ()
    server_env = {"ONTHEDOT_LOG_ACCESS_SAMPLE": "10"}

    def test_one_in_ten_successes_and_every_error_logged(self):
        for i in range(200):
            self.assertEqual(self.srv.request("GET", "/healthz").status, 200)
        for i in range(20):
            self.assertEqual(self.srv.request("GET", "/missing-%d" % i).status, 404)
        def sampled_out():
            body = self.srv.request("GET", "/metrics").body
            m = re.search(r"^otd_access_log_sampled_out_total (\d+)$", body, re.M)
            self.assertIsNotNone(m, body[:2000])
            return int(m.group(1))

        seen = []  # each /metrics request is a success the sampler may leave out too
        wait_for(lambda: seen.append(sampled_out()) or seen[-1] >= 180, 5)
        self.assertLessEqual(seen[-1], 180 + len(seen) - 1)

        def logged():
            return [json.loads(line) for line in self.srv.stderr_text().splitlines() if line]

        wait_for(lambda: len(request_lines(logged(), status=404)) >= 20, 5)
        recs = logged()
        ok = request_lines(recs, "/healthz", 200)
        self.assertTrue(15 <= len(ok) <= 25, len(ok))  # about a tenth of 200
        self.assertEqual(len(request_lines(recs, status=404)), 20)  # every one


if __name__ == "__main__":
    unittest.main()
