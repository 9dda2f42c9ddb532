"""Fault tolerance of the store, with the real binary (issue 10).

  Locked database: another process (this test, through Python's sqlite3) holds
  the write lock with BEGIN IMMEDIATE. A booking, a visitor event, an admin
  write and a page login each answer 503 with Retry-After within about
  store.busy_timeout_ms + store.writer_wait_ms (both small here), never
  hanging; reads (the API, /healthz, a page) keep answering 200 (WAL); once
  the lock is released the same writes succeed. /metrics counts the refused
  writes as otd_store_write_errors_total{kind="busy"} and the log says when
  writes started failing and when they recovered.

  Saturated writer: store.writer_queue 1 and the lock held so the writer waits
  on its first job: a flood of writes is answered 503 with Retry-After at
  once (the queue is full) or after writer_wait_ms, long before the lock's
  busy timeout, and counted on /metrics.

  Full disk: the database lives on a small tmpfs (mounted here: the tests run
  as root; a failed mount fails the test). A filler file leaves a little room,
  then bookings are made until they fail: each failure is 503 with
  Retry-After and the code storage_full, never 500; the server keeps running
  and reading; every booking answered 201 is there; once the filler is gone
  bookings succeed again without a restart; after a clean stop the file
  passes PRAGMA integrity_check and still holds every confirmed booking.
"""

import errno
import json
import os
import re
import select
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

import otd
import otd_booking as ob

VT = "planning-inspection"
BUSY_MS, WAIT_MS = 400, 300
SLACK = 2.5  # seconds on top of the store's bounds: ASan build, shared machine


def metric(text, name, labels=""):
    """The value of one sample of /metrics text (0 when absent)."""
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else 0.0


def log_events(srv, msg):
    out = []
    for line in srv.stderr_text().splitlines():
        if '"msg":"%s"' % msg in line.replace(" ", ""):
            out.append(line)
    return out


class WriteLock:
    """The database's write lock, held by this process (as an import or a
    backup would hold it) until release()."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, timeout=10, isolation_level=None)
        self.db.execute("BEGIN IMMEDIATE")

    def release(self):
        if self.db is not None:
            self.db.execute("ROLLBACK")
            self.db.close()
            self.db = None


class FaultCase(ob.BookingTestCase):
    users = ("admin", "dispatcher")

    @classmethod
    def setUpOrganisation(cls):
        cls.priya = cls.org_visitors[0]
        cls.srv.add_user("visitor", "priya", "Priya Shah", visitor_id=cls.priya["id"])
        cls.used = set()

    def metrics(self):
        r = self.srv.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        return r.body

    def free_windows(self, dates=None):
        """(address id, window start) pairs still offered, over some days."""
        vt = self.types[VT]["id"]
        lines = ["1 Mill Road", "7 Church Lane", "12 High Street", "2 Orchard Way",
                 "21 Station Road", "1 Kingsway"]
        for date in dates or ["2026-03-%02d" % d for d in (3, 5, 6, 9, 10, 11, 12, 13)]:
            for line in lines:
                a = self.addr[line]["id"]
                for w in self.windows(a, vt, date).get(date, []):
                    key = (a, w["start"])
                    if key not in self.used:
                        yield key

    def try_booking(self, a, start, n):
        """Holds and books; returns the last answer (the hold's when it failed)."""
        self.used.add((a, start))
        h = self.hold(a, self.types[VT]["id"], start, timeout=30)
        if h.status != 201:
            return h
        return self.book(h.body["hold"], name="Fault Customer %d" % n,
                         email="fault%d@example.org" % n, phone=None, timeout=30)

    def assertUnavailable(self, r, codes, started=None, bound=None):
        """r is 503 with Retry-After and one of codes, answered within bound."""
        self.assertEqual(r.status, 503, r.raw)
        self.assertIn(r.error["code"], codes, r.raw)
        ra = r.headers.get("Retry-After")
        self.assertIsNotNone(ra, "503 without Retry-After")
        self.assertGreaterEqual(int(ra), 1)
        if bound is not None:
            self.assertLess(time.monotonic() - started, bound, r.raw)


@otd.requires_sqlite("another process holding SQLite's write lock")
class TestLockedDatabase(FaultCase):
    server_env = {"ONTHEDOT_STORE_BUSY_TIMEOUT_MS": str(BUSY_MS),
                  "ONTHEDOT_STORE_WRITER_WAIT_MS": str(WAIT_MS)}

    def test_writes_answer_503_while_locked_and_succeed_after(self):
        srv = self.srv
        vt = self.types[VT]["id"]
        windows = self.free_windows()
        a, start = next(windows)
        self.used.add((a, start))
        ref = self.hold_and_book(a, vt, start, name="Locked Customer")["reference"]
        # A session and a hold made before the lock (signing in is a write).
        priya = srv.login("priya")
        a2, start2 = next(windows)
        self.used.add((a2, start2))
        h = self.hold(a2, vt, start2)
        self.assertEqual(h.status, 201, h.raw)
        before = self.metrics()
        busy_before = metric(before, "otd_store_write_errors_total", '{kind="busy"}')

        # Priya starts a break: within her shift, needs no appointment.
        event = {"client_event_id": "lock-1", "type": "break_start",
                 "at": "2026-03-02T09:00:00Z"}
        writes = [
            ("booking", lambda: self.book(h.body["hold"], name="Locked Out",
                                          email="locked@example.org", phone=None,
                                          timeout=30)),
            ("visitor event", lambda: srv.request("POST", "/api/v1/visitor/events", event,
                                                  session=priya, timeout=30)),
            ("admin write", lambda: srv.request("POST", "/api/v1/visit-types",
                                                {"code": "lock-test", "name": "Lock test",
                                                 "skill": "gas",
                                                 "duration_median_minutes": 30,
                                                 "window_minutes": 60},
                                                token="admin", timeout=30)),
            ("page login", lambda: srv.request(
                "POST", "/login", raw=b"login=disp&password=" + otd.PASSWORD.encode(),
                content_type="application/x-www-form-urlencoded", timeout=30)),
        ]
        lock = WriteLock(srv.db)
        try:
            for what, fn in writes:
                with self.subTest(write=what):
                    t0 = time.monotonic()
                    r = fn()
                    if what == "page login":
                        self.assertEqual(r.status, 503, r.raw)
                        self.assertIn("text/html", r.headers["Content-Type"])
                        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
                        self.assertLess(time.monotonic() - t0, (BUSY_MS + WAIT_MS) / 1000 + SLACK)
                    else:
                        self.assertUnavailable(r, ("database_busy", "busy"), t0,
                                               (BUSY_MS + WAIT_MS) / 1000 + SLACK)
            # Reads go on meanwhile (WAL): the API, health and a page.
            for path, kw in (("/api/v1/appointments/%s" % ref, {"token": "admin"}),
                             ("/api/v1/visitors", {"token": "admin"}),
                             ("/healthz", {}), ("/book", {})):
                t0 = time.monotonic()
                r = srv.request("GET", path, timeout=30, **kw)
                self.assertEqual(r.status, 200, (path, r.raw[:300]))
                self.assertLess(time.monotonic() - t0, SLACK)
            self.slots(a, vt, "2026-03-03")
        finally:
            lock.release()

        # The lock is gone: the same writes succeed, without a restart.
        r = writes[0][1]()
        self.assertEqual(r.status, 201, r.raw)
        r = writes[1][1]()
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.body["applied"], 1, r.raw)
        r = writes[2][1]()
        self.assertEqual(r.status, 201, r.raw)
        r = writes[3][1]()
        self.assertEqual(r.status, 303, r.raw)
        after = self.metrics()
        self.assertGreaterEqual(
            metric(after, "otd_store_write_errors_total", '{kind="busy"}') - busy_before, 4)
        self.assertIn('otd_store_write_errors_total{kind="full"}', after)
        self.assertIn('otd_store_write_errors_total{kind="io"}', after)
        failing = log_events(srv, "store_writes_failing")
        self.assertTrue(any('"kind":"busy"' in l for l in failing), srv.stderr_text()[-3000:])
        deadline = time.monotonic() + 5
        while not log_events(srv, "store_writes_recovered") and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(log_events(srv, "store_writes_recovered"))


def read_answer(sock, limit=10.0):
    """One whole HTTP answer (it carries Content-Length) read from sock."""
    sock.settimeout(limit)
    data = b""
    while True:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            m = re.search(rb"(?im)^content-length: *([0-9]+)", head)
            if len(rest) >= (int(m.group(1)) if m else 0):
                return data
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


@otd.requires_sqlite("another process holding SQLite's write lock")
class TestWorkersKeepServing(FaultCase):
    """A request waiting for the database holds up its own worker only:
    connections opened together go to different workers, and one opened
    while a worker waits goes to another (http.threads 4)."""
    server_env = {"ONTHEDOT_STORE_BUSY_TIMEOUT_MS": "4000",
                  "ONTHEDOT_STORE_WRITER_WAIT_MS": "8000",
                  "ONTHEDOT_HTTP_THREADS": "4"}

    def test_a_waiting_request_does_not_hold_up_the_others(self):
        srv = self.srv
        # Four connections opened at once: each connect is started before
        # any completes, as a browser or a load balancer opens them.
        conns = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(4)]
        for s in conns:
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", srv.port))
        for s in conns:
            select.select([], [s], [], 10)
            s.setblocking(True)
        time.sleep(0.3)
        lock = WriteLock(srv.db)
        try:
            body = json.dumps({"code": "workers", "name": "Workers", "skill": "gas",
                               "duration_median_minutes": 30,
                               "window_minutes": 60}).encode()
            srv.note_secret(srv.token)
            conns[0].sendall(b"POST /api/v1/visit-types HTTP/1.1\r\nHost: t\r\n"
                             b"Authorization: Bearer " + srv.token.encode() +
                             b"\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
            time.sleep(0.5)  # the write now waits for the lock, in its worker
            for s in conns[1:]:
                t0 = time.monotonic()
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                answer = read_answer(s, 10)
                self.assertTrue(answer.startswith(b"HTTP/1.1 200 "), answer[:200])
                self.assertLess(time.monotonic() - t0, 1.5, "held up behind the write")
            t0 = time.monotonic()
            self.assertEqual(srv.request("GET", "/healthz", timeout=10).status, 200)
            self.assertLess(time.monotonic() - t0, 1.5, "a new connection waited")
        finally:
            lock.release()
        answer = read_answer(conns[0], 20)
        self.assertTrue(answer.startswith(b"HTTP/1.1 201 "), answer[:300])
        for s in conns:
            s.close()


@otd.requires_sqlite("SQLite's single writer queue and its wait")
class TestSaturatedWriter(FaultCase):
    server_env = {"ONTHEDOT_STORE_BUSY_TIMEOUT_MS": "4000",
                  "ONTHEDOT_STORE_WRITER_WAIT_MS": str(WAIT_MS),
                  "ONTHEDOT_STORE_WRITER_QUEUE": "1"}
    FLOOD = 16

    def visit_type_write(self, n, out):
        t0 = time.monotonic()
        body = {"code": "flood-%d" % n, "name": "Flood %d" % n, "skill": "gas",
                "duration_median_minutes": 30, "window_minutes": 60}
        r = self.srv.request("POST", "/api/v1/visit-types", body, token="admin", timeout=30)
        out[n] = (r, time.monotonic() - t0)

    def test_excess_writes_get_503_at_once(self):
        srv = self.srv
        busy_before = metric(self.metrics(), "otd_store_write_errors_total", '{kind="busy"}')
        lock = WriteLock(srv.db)
        out = {}
        try:
            # The writer takes this one and waits for the lock (4 s).
            first = threading.Thread(target=self.visit_type_write, args=(0, out))
            first.start()
            time.sleep(0.5)
            threads = [threading.Thread(target=self.visit_type_write, args=(n, out))
                       for n in range(1, self.FLOOD + 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
                self.assertFalse(t.is_alive(), "a flooding write hung")
            flood = [out[n] for n in range(1, self.FLOOD + 1)]
            for r, secs in flood:
                self.assertEqual(r.status, 503, r.raw)
                self.assertEqual(r.error["code"], "busy", r.raw)
                self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
                # The queue was full or the wait ran out: well before the
                # lock's 4 s busy timeout.
                self.assertLess(secs, WAIT_MS / 1000 + SLACK, r.raw)
            first.join(60)
            self.assertFalse(first.is_alive(), "the waiting write hung")
            r, secs = out[0]
            self.assertEqual(r.status, 503, r.raw)
            self.assertEqual(r.error["code"], "database_busy", r.raw)
            self.assertLess(secs, 4 + WAIT_MS / 1000 + SLACK)
        finally:
            lock.release()
        out2 = {}
        self.visit_type_write(99, out2)
        self.assertEqual(out2[99][0].status, 201, out2[99][0].raw)
        text = self.metrics()
        self.assertGreaterEqual(
            metric(text, "otd_store_write_errors_total", '{kind="busy"}') - busy_before,
            self.FLOOD + 1)
        self.assertGreaterEqual(metric(text, "otd_db_busy_total"), self.FLOOD + 1)
        self.assertGreaterEqual(metric(text, "otd_http_requests_total",
                                       '{route="/api/v1/visit-types",method="POST",'
                                       'status="503"}'), self.FLOOD + 1)


def fill(path):
    """Writes path until the file system is full; returns its size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 16, 1 << 12):
            block = b"\0" * chunk
            while True:
                try:
                    if os.write(fd, block) < chunk:
                        break
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


@otd.requires_sqlite("the SQLite file on a tmpfs the test fills")
class TestDiskFull(FaultCase):
    """The server's database on a tmpfs of its own, filled up."""

    ROOM = 512 * 1024  # bytes left free: room for a few bookings (each ~150 KiB of log)
    server_env = {"ONTHEDOT_TRACKING_TICKER_SECONDS": "1"}  # its writes fail too

    @classmethod
    def setUpClass(cls):
        super().setUpClass()  # the organisation, made on the ordinary disk
        srv = cls.srv
        srv.terminate()
        if srv.wait_exit() != 0:
            raise AssertionError("the server did not stop cleanly:\n" + srv.stderr_text())
        cls.mnt = tempfile.mkdtemp(prefix="tmpfs-", dir=otd.TEST_TMP)
        size_kb = (os.path.getsize(srv.db) + 4 * 1024 * 1024) // 1024
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk" % size_kb, "tmpfs",
                            cls.mnt], capture_output=True, text=True)
        if p.returncode != 0:
            os.rmdir(cls.mnt)
            raise AssertionError(
                "cannot mount a tmpfs for the disk-full test (%s): this test needs root with "
                "CAP_SYS_ADMIN (run the suite as root, or in a container with it)"
                % (p.stderr.strip() or "exit %d" % p.returncode))
        cls.addClassCleanup(cls.unmount)
        db = os.path.join(cls.mnt, "onthedot.db")
        shutil.copyfile(srv.db, db)
        srv.db = db
        srv.start(prepare=False)

    @classmethod
    def unmount(cls):
        cls.srv.kill()  # a failed test may leave it running; it holds the mount
        subprocess.run(["umount", cls.mnt], capture_output=True)
        shutil.rmtree(cls.mnt, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        pass  # the test stops the server itself, then checks the file

    def test_full_disk_loses_nothing_and_recovers(self):
        srv = self.srv
        filler = os.path.join(self.mnt, "filler")
        size = fill(filler)
        os.truncate(filler, max(0, size - self.ROOM))
        confirmed, failures, n = [], [], 0
        windows = self.free_windows()
        while len(failures) < 4 and n < 400:
            a, start = next(windows)
            n += 1
            r = self.try_booking(a, start, n)
            if r.status == 201:
                # (one may fit between failures: an idle checkpoint can
                # free room in the log)
                confirmed.append(r.body["reference"])
            elif r.status == 409:
                continue  # the window went to an earlier booking: not a fault
            else:
                failures.append(r)
            self.assertIsNone(srv.proc.poll(), "the server died")
        self.assertTrue(confirmed, "no booking fitted in %d bytes: make ROOM larger (%r)"
                        % (self.ROOM, [f.raw[:200] for f in failures]))
        self.assertEqual(len(failures), 4, "the disk never filled up")
        for r in failures:
            self.assertUnavailable(r, ("storage_full",))
            self.assertIn("disk is full", r.error["message"])
        # Full: the server runs and reads; what was confirmed is there.
        self.assertEqual(srv.request("GET", "/healthz").status, 200)
        for ref in confirmed:
            r = srv.request("GET", "/api/v1/appointments/%s" % ref, token="admin")
            self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(srv.request("GET", "/book").status, 200)
        # The ticker (every second here) meets the full disk too: its
        # writes fail (counted with kind="full"), nothing may fall over.
        time.sleep(2.5)
        self.assertIsNone(srv.proc.poll(), "the server died while the disk was full")
        text = self.metrics()
        self.assertGreaterEqual(metric(text, "otd_store_write_errors_total", '{kind="full"}'),
                                len(failures))
        self.assertEqual(metric(text, "otd_http_requests_total",
                                '{route="/api/v1/appointments",method="POST",status="500"}'), 0)
        self.assertEqual(metric(text, "otd_http_requests_total",
                                '{route="/api/v1/holds",method="POST",status="500"}'), 0)
        self.assertTrue(any('"kind":"full"' in l
                            for l in log_events(srv, "store_writes_failing")),
                        srv.stderr_text()[-3000:])

        # The operator makes room: bookings succeed again, no restart.
        os.unlink(filler)
        for _ in range(3):
            a, start = next(windows)
            n += 1
            r = self.try_booking(a, start, n)
            self.assertEqual(r.status, 201, r.raw)
            confirmed.append(r.body["reference"])
        deadline = time.monotonic() + 5
        while not log_events(srv, "store_writes_recovered") and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(log_events(srv, "store_writes_recovered"))

        # A clean stop (exit 0, no sanitizer report, integrity_check and
        # foreign_key_check), then every confirmed booking is in the file.
        srv.stop()
        db = sqlite3.connect(srv.db)
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
            stored = {r[0] for r in db.execute("SELECT reference FROM appointments")}
        finally:
            db.close()
        missing = [ref for ref in confirmed if ref not in stored]
        self.assertEqual(missing, [], "confirmed bookings lost")


if __name__ == "__main__":
    unittest.main()
