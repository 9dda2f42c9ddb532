"""Live streams (Server-Sent Events): the dispatch board's stream gets an
event when a booking is made and cancelled; a customer's stream gets its own
appointment's status and window only (no other customer's, no staff field);
a visitor's stream gets a dispatcher's cancel of one of their appointments
and nothing of another visitor's route; Last-Event-ID replays what was
missed (and a reset when it cannot); keepalive comments arrive; the fifth
stream of one user gets 429; /metrics counts open streams; and SIGTERM with
streams open stops the server cleanly (exit 0) within seconds."""

import http.client
import json
import queue
import re
import threading
import time
import unittest

import otd
import otd_booking as ob

VT = "planning-inspection"
STREAM_ENV = {"ONTHEDOT_STREAMS_HEARTBEAT_S": "1", "ONTHEDOT_STREAMS_RETRY_MS": "2500"}


class Stream:
    """One open text/event-stream response, read by a thread into frames:
    dicts with "id", "event", "data" (parsed JSON) and "comment"."""

    def __init__(self, srv, path, session=None, token=None, headers=None, check=True):
        self.srv = srv
        hdrs = dict(headers or {})
        if session is not None:
            hdrs["Cookie"] = "otd_session=" + session.cookie
        if token is not None:
            hdrs["Authorization"] = "Bearer " + (srv.token if token == "admin" else token)
        self.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        self.conn.request("GET", path, headers=hdrs)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = self.resp.msg
        self.frames = queue.Queue()
        self.closed = threading.Event()
        if self.status != 200:
            self.raw = self.resp.read()
            self.conn.close()
            self.closed.set()
            self.body = srv.spec.check_response("GET", path, self.status, self.headers, self.raw)
            return
        if check:  # headers, status and content type against the document
            srv.spec.check_response("GET", path, self.status, self.headers, b"")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buf = b""
        try:
            while True:
                chunk = self.resp.read1(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    self.frames.put(self._parse(block.decode("utf-8")))
        except Exception:  # closed under it (close() from the test, or the server gone)
            pass
        finally:
            self.closed.set()

    @staticmethod
    def _parse(block):
        f = {"id": None, "event": None, "data": None, "comment": None, "retry": None}
        data = []
        for line in block.split("\n"):
            if line.startswith(":"):
                f["comment"] = line[1:].strip()
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name in ("id", "event", "retry"):
                f[name] = value
        if data:
            f["data"] = json.loads("\n".join(data))
        return f

    def next(self, timeout=10, skip_comments=True):
        """The next frame (keepalives skipped); fails after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no frame within %s s" % timeout)
            try:
                f = self.frames.get(timeout=left)
            except queue.Empty:
                raise AssertionError("no frame within %s s" % timeout)
            if skip_comments and f["comment"] is not None and f["event"] is None \
                    and f["data"] is None and f["id"] is None:
                continue
            return f

    def event(self, timeout=10):
        """The next frame that carries an event."""
        while True:
            f = self.next(timeout)
            if f["event"] is not None:
                return f

    def no_event(self, seconds=1.5):
        """No event arrives within seconds (keepalives may)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                f = self.frames.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return
            if f["event"] is not None:
                raise AssertionError("unexpected event %r" % f)

    def close(self):
        try:
            self.conn.sock.shutdown(2)
        except (OSError, AttributeError):
            pass
        self.conn.close()


class StreamCase(ob.BookingTestCase):
    server_env = STREAM_ENV

    def setUp(self):
        self.streams = []

    def tearDown(self):
        for s in self.streams:
            s.close()

    def open(self, path, **kw):
        s = Stream(self.srv, path, **kw)
        if s.status == 200:
            self.streams.append(s)
        return s

    def preamble(self, s):
        f = s.next()
        self.assertEqual(f["retry"], "2500", f)
        self.assertRegex(f["id"], r"^[0-9]+$")
        self.assertIsNone(f["event"])
        return int(f["id"])

    def book_one(self, line1, date="2026-03-05", index=0, **kw):
        vt = self.types[VT]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        return self.hold_and_book(a, vt, ws[index]["start"], **kw)

    def cancel_as(self, session, ref, reason="The officer is ill"):
        r = self.srv.request("POST", "/api/v1/appointments/%s/cancel" % ref,
                             {"reason": reason}, session=session)
        self.assertEqual(r.status, 200, r.raw)
        return r.body


class TestStreams(StreamCase):
    users = ("admin", "dispatcher", "finance")

    @classmethod
    def setUpOrganisation(cls):
        cls.disp = cls.srv.login("disp")
        cls.srv.add_user("dispatcher", "disp2", "Second dispatcher")

    def test_dispatch_stream_sees_booking_and_cancel(self):
        s = self.open("/api/v1/dispatch/stream", session=self.disp)
        self.assertEqual(s.headers["Content-Type"], "text/event-stream")
        self.assertEqual(s.headers["Cache-Control"], "no-cache")
        self.assertEqual(s.headers["X-Accel-Buffering"], "no")
        start = self.preamble(s)
        v = self.book_one("1 Mill Road", name="Ada Lovelace", phone="07700 900301")
        aid = self.appointment_id(v["reference"])
        f = s.event()
        self.assertEqual(f["event"], "appointment")
        self.assertGreater(int(f["id"]), start)
        d = f["data"]
        self.assertEqual((d["change"], d["appointment_id"], d["reference"], d["status"]),
                         ("booked", aid, v["reference"], "booked"))
        self.assertEqual(d["window"]["start"], v["window"]["start"])
        self.assertEqual(d["window"]["end"], v["window"]["end"])
        self.assertEqual(d["visitor_id"], self.srv.sql(
            "SELECT visitor_id FROM appointments WHERE id = ?", (aid,))[0][0])
        self.assertIn("risk", d)
        self.assertNotIn("Ada", json.dumps(d))  # no personal data on the board's stream
        self.cancel_as(self.disp, v["reference"])
        f2 = s.event()
        self.assertEqual(int(f2["id"]), int(f["id"]) + 1)
        self.assertEqual((f2["data"]["change"], f2["data"]["status"],
                          f2["data"]["reference"]), ("cancelled", "cancelled", v["reference"]))
        # The admin token may watch too; finance may not; nobody without credentials.
        a = self.open("/api/v1/dispatch/stream", token="admin")
        self.preamble(a)
        fin = self.srv.login("fin")
        self.assertError(Stream(self.srv, "/api/v1/dispatch/stream", session=fin), 403,
                         "forbidden")
        self.assertError(Stream(self.srv, "/api/v1/dispatch/stream"), 401, "unauthenticated")

    def assertError(self, r, status, code, field=None, no_field=False):
        if isinstance(r, Stream):
            self.assertEqual(r.status, status, r.raw)
            self.assertEqual(r.body["error"]["code"], code, r.raw)
            return
        super().assertError(r, status, code, field, no_field)

    def test_customer_stream_is_its_own_appointment_only(self):
        mine = self.book_one("3 Mill Road", index=1, name="Grace Hopper", phone="07700 900302")
        other = self.book_one("7 Church Lane", index=1, name="Alan Turing",
                              phone="07700 900303")
        token = self.token_of(mine)
        s = self.open("/api/v1/a/%s/stream" % token)
        self.assertEqual(s.headers.get_all("Cache-Control"), ["no-store"])
        self.assertEqual(s.headers.get_all("Referrer-Policy"), ["no-referrer"])
        self.preamble(s)
        # Another customer's cancel is not shown here.
        r = self.link(self.token_of(other), "/cancel", body={})
        self.assertEqual(r.status, 200, r.raw)
        s.no_event(1.5)
        # Our own is, with status and window only.
        r = self.link(token, "/cancel", body={})
        self.assertEqual(r.status, 200, r.raw)
        f = s.event()
        self.assertEqual(f["event"], "appointment")
        self.assertEqual(set(f["data"]), {"change", "status", "window"})
        self.assertEqual((f["data"]["change"], f["data"]["status"]), ("cancelled", "cancelled"))
        self.assertEqual(f["data"]["window"]["start"], mine["window"]["start"])
        text = json.dumps(f["data"])
        for word in ("Grace", "Alan", "visitor", "risk", "reference", mine["reference"]):
            self.assertNotIn(word, text)
        # An invalid link gets the links' one 404, promptly.
        bad = Stream(self.srv, "/api/v1/a/%s/stream" % ("A" * 22))
        self.assertEqual((bad.status, bad.body["error"]["code"]), (404, "link_not_found"))

    def test_visitor_stream_gets_a_cancel_of_its_route(self):
        v = self.book_one("9 Church Lane", date="2026-03-06", name="Mary Somerville",
                          phone="07700 900304")
        ref = v["reference"]
        visitor = self.srv.sql("SELECT visitor_id FROM appointments WHERE reference = ?",
                               (ref,))[0][0]
        self.srv.add_user("visitor", "vis%d" % visitor, "Visitor %d" % visitor,
                          visitor_id=visitor)
        me = self.srv.login("vis%d" % visitor)
        s = self.open("/api/v1/visitor/stream", session=me)
        self.preamble(s)
        # Another visitor's route is none of theirs.
        others = [x["id"] for x in self.org_visitors if x["id"] != visitor]
        forbidden = Stream(self.srv, "/api/v1/visitor/stream?visitor=%d" % others[0],
                           session=me)
        self.assertEqual((forbidden.status, forbidden.body["error"]["code"]),
                         (403, "forbidden"))
        # A dispatcher's stream of another visitor's route does not get this one.
        d = self.open("/api/v1/visitor/stream?visitor=%d" % others[0], session=self.disp)
        self.preamble(d)
        self.cancel_as(self.disp, ref, "Road closed")
        f = s.event()
        self.assertEqual((f["event"], f["data"]["reference"], f["data"]["status"],
                          f["data"]["visitor_id"]), ("appointment", ref, "cancelled", visitor))
        d.no_event(1.0)
        # Staff must say whose route.
        r = self.srv.request("GET", "/api/v1/visitor/stream", session=self.disp)
        self.assertError(r, 400, "missing_parameter", "visitor")

    def test_last_event_id_replays_what_was_missed(self):
        s = self.open("/api/v1/dispatch/stream", token="admin")
        seen = self.preamble(s)
        s.close()
        v = self.book_one("12 High Street", index=2, name="Emmy Noether",
                          phone="07700 900305")
        self.cancel_as(self.disp, v["reference"])
        r = self.open("/api/v1/dispatch/stream", token="admin",
                      headers={"Last-Event-ID": str(seen)})
        self.assertEqual(self.preamble(r), seen)
        a, b = r.event(), r.event()
        self.assertEqual([a["data"]["change"], b["data"]["change"]], ["booked", "cancelled"])
        self.assertEqual([int(a["id"]), int(b["id"])], [seen + 1, seen + 2])
        self.assertEqual(a["data"]["reference"], v["reference"])
        # An id the server never gave (from before a restart): reload.
        x = self.open("/api/v1/dispatch/stream", token="admin",
                      headers={"Last-Event-ID": str(seen + 1000)})
        self.preamble(x)
        f = x.event()
        self.assertEqual((f["event"], f["data"]), ("reset", {"reason": "missed"}))
        self.assertGreaterEqual(int(f["id"]), seen + 2)

    def test_keepalive_and_metrics(self):
        s = self.open("/api/v1/dispatch/stream", session=self.disp)
        self.preamble(s)
        t0 = time.monotonic()
        f = s.next(timeout=5, skip_comments=False)
        self.assertEqual(f["comment"], "keepalive")
        self.assertLess(time.monotonic() - t0, 3.5)
        f = s.next(timeout=5, skip_comments=False)
        self.assertEqual(f["comment"], "keepalive")
        m = self.srv.request("GET", "/metrics").body
        n = int(re.search(r"^otd_streams_open ([0-9]+)$", m, re.M).group(1))
        self.assertGreaterEqual(n, 1)
        self.assertRegex(m, r"(?m)^otd_streams_waiting [0-9]+$")
        # A closed stream is noticed at its next keepalive, and counted no more.
        s.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            m = self.srv.request("GET", "/metrics").body
            if int(re.search(r"^otd_streams_open ([0-9]+)$", m, re.M).group(1)) < n:
                break
            time.sleep(0.2)
        else:
            self.fail("the closed stream is still counted")

    def test_fifth_stream_of_one_user_gets_429(self):
        me = self.srv.login("disp2")
        for _ in range(4):
            self.preamble(self.open("/api/v1/dispatch/stream", session=me))
        # Another session of the same user is the same principal.
        again = self.srv.login("disp2")
        r = Stream(self.srv, "/api/v1/dispatch/stream", session=again)
        self.assertEqual((r.status, r.body["error"]["code"]), (429, "too_many_streams"))
        self.assertRegex(r.headers["Retry-After"], r"^[1-9][0-9]*$")
        # Others are unaffected.
        self.preamble(self.open("/api/v1/dispatch/stream", session=self.disp))
        # Once one closes (noticed at its keepalive), a new one opens.
        self.streams[0].close()
        deadline = time.monotonic() + 10
        while True:
            r = self.open("/api/v1/dispatch/stream", session=again)
            if r.status == 200:
                break
            self.assertEqual(r.status, 429)
            self.assertLess(time.monotonic(), deadline, "the closed stream was not freed")
            time.sleep(0.3)
        self.preamble(r)

    def test_head_answers_without_a_stream(self):
        r = self.srv.request("HEAD", "/api/v1/dispatch/stream", session=self.disp)
        self.assertEqual((r.status, r.raw), (200, b""))
        self.assertEqual(r.headers["Content-Type"], "text/event-stream")


class TestShutdownWithStreamsOpen(StreamCase):
    users = ("admin", "dispatcher")
    server_env = dict(STREAM_ENV, ONTHEDOT_STREAMS_HEARTBEAT_S="60")

    @classmethod
    def tearDownClass(cls):
        if cls.srv.exit_code is None:
            cls.srv.stop()

    def test_sigterm(self):
        disp = self.srv.login("disp")
        a = self.open("/api/v1/dispatch/stream", session=disp)
        b = self.open("/api/v1/dispatch/stream", token="admin")
        self.preamble(a)
        self.preamble(b)
        time.sleep(0.3)  # both are suspended now, waiting for news
        m = self.srv.request("GET", "/metrics").body
        self.assertIn("otd_streams_open 2\n", m)
        self.assertIn("otd_streams_waiting 2\n", m)
        t0 = time.monotonic()
        self.srv.terminate()
        self.assertEqual(self.srv.wait_exit(timeout=20), 0)
        self.assertLess(time.monotonic() - t0, 5.0)
        for s in (a, b):
            self.assertTrue(s.closed.wait(5), "a stream stayed open after the server stopped")
        ends = [json.loads(l) for l in self.srv.stderr_text().splitlines()
                if '"stream_end"' in l]
        self.assertEqual([(e["route"], e["reason"]) for e in ends],
                         [("/api/v1/dispatch/stream", "shutdown")] * 2)
        self.srv.stop(signalled=True)  # the clean-log, sanitizer and database checks


if __name__ == "__main__":
    unittest.main()
