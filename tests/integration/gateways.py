"""Real SMS and e-mail gateways on loopback for the integration tests.

Python 3 standard library only (run with /usr/bin/python3). Everything listens
on 127.0.0.1, on ports chosen free at start (never fixed ones), and keeps its
configuration, logs and data in its own folder. Every process is started in its
own session and stopped by PID: SIGTERM, up to 10 s, then SIGKILL.

Kannel(dir)
    Debian's Kannel (packages kannel, kannel-extras): bearerbox and smsbox with
    two fake SMSC links, FAKE for outgoing SMS, where Kannel's own test client
    /usr/lib/kannel/test/fakesmsc is connected and logs every SMS it gets, and MO,
    used only to inject inbound SMS (inject_mo), which smsbox hands to the URL
    given to start() with an HTTP GET. messages() reads fakesmsc's log back as
    decoded, reassembled messages. Runs as the current user (root works).

Smtp(dir, impl="postfix" | "node", auth_user=None, auth_pass=None)
    postfix: Debian's Postfix with its own config dir and queue, delivering every
    recipient of any domain into one Maildir, STARTTLS with a self-signed
    certificate (cafile), no AUTH. Needs root (Postfix's master runs as root).
    node: npm smtp-server (pinned in node/package-lock.json, installed with
    `npm ci` into a scratch folder under OTD_TEST_TMP) and node/smtp_sink.js:
    STARTTLS, AUTH PLAIN/LOGIN (mandatory when auth_user is given), any user.
    Both write one file per recipient into maildir/new with Return-Path: and
    Delivered-To: on top; messages() parses them with the email package.

HttpSink()
    A tiny recording HTTP server (a thread) for delivery reports and MO URLs.

All are context managers: `with Kannel(d) as k:` starts (Kannel: with no MO URL)
and stops. Missing programs raise GatewayError naming the Debian package
(contrib/install-deps.sh test installs them all). A gateway still running when
the script exits is stopped (atexit); daemons started by spawn() get SIGTERM if
the test process is killed.

What Kannel 1.4.5 does here (seen, not assumed):
  * sendsms answers 202 "0: Accepted for delivery"; bad credentials 403.
  * coding=0 (default) goes through GSM 03.38: "Grüße €" survives, "ë" becomes
    "?". Names need coding=2&charset=UTF-8; fakesmsc then logs "ucs-2" with
    URL-encoded UTF-16BE ('+' = byte 0x20).
  * Over 160 GSM characters (70 UCS-2) Kannel splits with a UDH 05 00 03 REF
    TOTAL SEQ (8-bit reference); fakesmsc logs every part as "udh ... data ...",
    whatever the coding, hence the access log lookup in assemble_messages().
  * A text SMS with a newline reaches fakesmsc as two lines (joined again; a
    CR before the LF is lost).
  * dlr-mask=31 with dlr-url: two GETs of the URL, type (%d) 8 with %A "ACK/"
    (SMSC accepted) and type 1 with %A "" (delivered); %I differs between them.
  * MO: the URL gets %b/%a URL-encoded as received: UTF-8 with coding=0 and
    charset=UTF-8 for a text SMS, raw UTF-16BE with coding=2 and
    charset=UTF-16BE for a UCS-2 one, unless mo_recode (then UTF-8, coding=0).
"""

import atexit
import email
import email.policy
import fcntl
import grp
import hashlib
import http.server
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_SRC = os.path.join(HERE, "node")  # package.json, package-lock.json, smtp_sink.js
TEST_TMP = os.environ.get("OTD_TEST_TMP") or tempfile.gettempdir()

STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
START_TIMEOUT = 20.0  # seconds for a gateway to become ready

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
POSTFIX = "/usr/sbin/postfix"
OPENSSL = "openssl"
NODE = "node"
NPM = "npm"

INSTALL_HINT = "(contrib/install-deps.sh test installs it)"


class GatewayError(RuntimeError):
    """A gateway cannot be installed, started or read."""


# ---- helpers ----------------------------------------------------------------


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(n):
    """n different free ports on 127.0.0.1 (all held open while choosing, so
    they cannot repeat)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(port, host="127.0.0.1", timeout=0.5):
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout, what, interval=0.02, alive=None):
    """Polls predicate() until it returns something true (and returns that).
    alive: optional callable that returns an error text when the thing waited
    for has died (stops the wait at once). Raises GatewayError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if alive is not None:
            err = alive()
            if err:
                raise GatewayError("%s: %s" % (what, err))
        if time.monotonic() > deadline:
            raise GatewayError("%s: not within %.1f s" % (what, timeout))
        time.sleep(interval)


def require(program, package):
    """The full path of program (a path or a name on PATH); GatewayError naming
    the Debian package when it is missing."""
    path = program if os.path.isabs(program) else shutil.which(program)
    if not path or not os.access(path, os.X_OK):
        raise GatewayError("%s not found: install the Debian package %s %s"
                           % (program, package, INSTALL_HINT))
    return path


def pid_gone(pid):
    """True when the process no longer exists or is a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat[stat.rfind(")") + 2:][:1] in ("Z", "X")


def group_pids(pgid):
    """The live (not zombie) processes in process group pgid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            out.append(int(name))
    return out


def stop_pid(pid, proc=None, timeout=STOP_TIMEOUT):
    """SIGTERM to pid, waits up to timeout seconds, then SIGKILL. proc: the
    Popen object when it is our child (reaped here). True when it ended on
    SIGTERM."""
    if pid is None:
        return True
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    clean = True
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None:
            if proc.poll() is not None:
                break
        elif pid_gone(pid):
            break
        if time.monotonic() > deadline:
            clean = False
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if proc is not None:
                proc.wait(5)
            break
        time.sleep(0.02)
    return clean


def spawn(args, log_path, env=None, cwd=None):
    """Starts args in its own session (setsid), stdin from /dev/null, stdout and
    stderr appended to log_path. Through `setpriv --pdeathsig TERM` (util-linux),
    so that it gets SIGTERM if this process dies without stopping it (even by
    SIGKILL; the signal comes when the thread that started it ends, so start
    gateways from the main thread). Returns the Popen."""
    setpriv = shutil.which("setpriv")
    if setpriv:
        args = [setpriv, "--pdeathsig", "TERM", "--"] + list(args)
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=env, cwd=cwd, start_new_session=True)


def tail(path, n=20):
    """The last n lines of a file (for error messages)."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no %s)" % path
    return "--- %s ---\n%s" % (path, "\n".join(lines[-n:]))


def _searchable_path(path):
    """Whether every folder from / down to path lets other users through."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def gateway_root(base, prefix):
    """A new folder for a test's gateways, searchable by other users:
    Postfix delivers and Kannel may run as other users. Under base when
    base and every folder above it let others through; otherwise (a
    checkout in a home folder of mode 0700, as on a fresh Debian) under the
    system's temporary folder, removed at exit unless OTD_KEEP is set."""
    os.makedirs(base, exist_ok=True)
    mode = os.stat(base).st_mode & 0o7777
    if mode & 0o011 != 0o011:
        try:
            os.chmod(base, mode | 0o011)
        except OSError:
            pass
    if _searchable_path(base):
        root = tempfile.mkdtemp(prefix=prefix, dir=base)
    else:
        root = tempfile.mkdtemp(prefix="otd-" + prefix, dir=tempfile.gettempdir())
        if not os.environ.get("OTD_KEEP"):
            atexit.register(shutil.rmtree, root, True)
    os.chmod(root, 0o755)
    return root


def make_cert(tls_dir):
    """A self-signed P-256 certificate for CN=localhost with SAN DNS:localhost and
    IP:127.0.0.1, made with openssl in tls_dir (kept when already there).
    Returns (cert path, key path)."""
    cert = os.path.join(tls_dir, "cert.pem")
    key = os.path.join(tls_dir, "key.pem")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    openssl = require(OPENSSL, "openssl")
    os.makedirs(tls_dir, exist_ok=True)
    p = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650",
                        "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise GatewayError("openssl req failed:\n%s" % p.stderr)
    os.chmod(key, 0o600)
    return cert, key


def http_get(url, timeout=10):
    """(status, body text) of a GET; HTTP errors are answers, not exceptions."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class HttpSink:
    """A tiny HTTP server on 127.0.0.1 (a thread of this process) that answers
    every GET/POST/PUT/DELETE with 200 "OK" and records it, for delivery-report
    and inbound-SMS callbacks. url: its base URL (http://127.0.0.1:PORT);
    requests: dicts {method, path, query (dict of the last value per name),
    headers (dict), body (bytes), t (time.monotonic())} in arrival order."""

    def __init__(self):
        sink = self
        self.requests = []
        self.cond = threading.Condition()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                u = urllib.parse.urlsplit(self.path)
                rec = {"method": self.command, "path": u.path, "raw_path": self.path,
                       "query": dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True)),
                       "headers": dict(self.headers.items()), "body": body,
                       "t": time.monotonic()}
                with sink.cond:
                    sink.requests.append(rec)
                    sink.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "3")
                self.end_headers()
                self.wfile.write(b"OK\n")

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, predicate=lambda r: True, n=1, timeout=5.0):
        """The first n recorded requests for which predicate(request) is true,
        once there are n (GatewayError after timeout seconds)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [r for r in self.requests if predicate(r)]
                if len(found) >= n:
                    return found[:n]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GatewayError("HTTP sink: %d matching request(s) within %.1f s, got "
                                       "%d; all: %r" % (n, timeout, len(found),
                                                        [r["raw_path"] for r in self.requests]))
                self.cond.wait(left)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


# ---- Kannel -----------------------------------------------------------------

# fakesmsc logs each SMS part it receives as one log line:
#   2026-12-04 17:40:00 [123] [0] DEBUG: Got message 7: <SENDER RECEIVER REST>
# REST is "text DATA" (7-bit text as Kannel holds it: UTF-8, raw), "data DATA"
# (8-bit, URL-encoded), "ucs-2 DATA" (URL-encoded UTF-16BE), or, for a part with
# a user data header (concatenated SMS), "udh UDH data DATA" whatever the coding.
# In URL-encoded fields '+' is byte 0x20. The fake SMSC protocol is one line per
# SMS, so a text SMS with a newline arrives as two "messages", the second
# without sender and receiver (joined again here; a CR before it is lost).
# bearerbox's access log has one "Sent SMS" line per whole message with its
# coding ([flags:MCLASS:CODING:MWI:COMPRESS:DLRMASK], coding 0 7-bit, 1 8-bit,
# 2 UCS-2) and [msg:LENGTH:DATA] (hex for 8-bit and UCS-2): that tells the
# coding of a concatenated message.
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[\d+\] \[\d+\] [A-Z]+: ")
_GOT = re.compile(r"Got message (\d+): <(.*)>$", re.S)
_SENT = re.compile(r"^\S+ \S+ Sent SMS \[SMSC:[^\]]*\] .*?\[from:(.*?)\] \[to:(.*?)\] "
                   r"\[flags:-?\d+:(-?\d+):[^\]]*\] \[msg:(\d+):(.*)\] \[udh:\d+:[^\]]*\]$")
_TYPES = ("text", "data", "ucs-2", "udh")
_CODINGS = {0: "text", 1: "data", 2: "ucs-2"}


def _unquote_bytes(s):
    """URL-decoding as Kannel writes it: %XX is a byte, '+' is byte 0x20."""
    return urllib.parse.unquote_to_bytes(s.replace("+", "%20"))


def _parse_udh(udh):
    """(reference, total, sequence) of the concatenation element in a UDH (bytes,
    length octet first): IEI 0x00 (8-bit reference) or 0x08 (16-bit); None when
    there is none."""
    if not udh:
        return None
    end = min(len(udh), 1 + udh[0])
    i = 1
    while i + 1 < end:
        iei, iel = udh[i], udh[i + 1]
        body = udh[i + 2:i + 2 + iel]
        if iei == 0x00 and iel == 3 and len(body) == 3:
            return (body[0], body[1], body[2])
        if iei == 0x08 and iel == 4 and len(body) == 4:
            return ((body[0] << 8) | body[1], body[2], body[3])
        i += 2 + iel
    return None


def _log_entries(text):
    """Kannel log text as entries (a line with the log prefix plus the lines
    that follow it without one)."""
    entries = []
    for line in text.split("\n"):
        if _LOG_LINE.match(line) or not entries:
            entries.append(line)
        else:
            entries[-1] += "\n" + line
    return entries


def parse_fakesmsc_log(text):
    """The SMS parts in fakesmsc's log text, in order: dicts {sender, receiver,
    coding ('text'|'ucs-2'|'data'; 'data' for every part with a UDH), udh (bytes
    or None), data (bytes)}."""
    parts = []
    for entry in _log_entries(text):
        m = _GOT.search(entry)
        if not m:
            continue
        fields = m.group(2).split(" ", 3)
        if len(fields) < 4 or fields[2] not in _TYPES:
            # the rest of a text SMS after a newline
            if parts and parts[-1]["coding"] == "text" and parts[-1]["udh"] is None:
                parts[-1]["data"] += b"\n" + m.group(2).encode("utf-8", "surrogateescape")
                continue
            raise GatewayError("fakesmsc log: cannot parse %r" % entry)
        sender, receiver, kind, rest = fields
        udh = None
        if kind == "udh":
            udh_text, _, rest = rest.partition(" ")
            udh = _unquote_bytes(udh_text)
            kind, _, rest = rest.partition(" ")
        if kind == "text":
            coding, data = "text", rest.encode("utf-8", "surrogateescape")
        elif kind in ("data", "ucs-2"):
            coding, data = kind, _unquote_bytes(rest)
        else:
            raise GatewayError("fakesmsc log: unknown message type %r in %r" % (kind, entry))
        parts.append({"sender": sender, "receiver": receiver, "coding": coding, "udh": udh,
                      "data": data})
    return parts


def parse_access_log(text):
    """The "Sent SMS" lines of bearerbox's access log: dicts {sender, receiver,
    coding ('text'|'data'|'ucs-2'), length (bytes), data (bytes for 8-bit and
    UCS-2, None for text, whose log shows '.' for bytes it cannot print)}."""
    sent = []
    for line in text.split("\n"):
        m = _SENT.match(line)
        if not m:
            continue
        coding = _CODINGS.get(int(m.group(3)), "text")
        data = None
        if coding != "text":
            try:
                data = bytes.fromhex(m.group(5))
            except ValueError:
                data = None
        sent.append({"sender": m.group(1), "receiver": m.group(2), "coding": coding,
                     "length": int(m.group(4)), "data": data})
    return sent


def _guess_coding(data):
    """The coding of a concatenated message bearerbox did not log (yet)."""
    if len(data) % 2 == 0 and b"\x00" in data[0::2]:
        return "ucs-2"
    try:
        data.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "data"


def _decode(coding, data):
    if coding == "ucs-2":
        return data.decode("utf-16-be", "replace")
    if coding == "text":
        return data.decode("utf-8", "replace")
    return data.decode("latin-1")


def assemble_messages(parts, sent=()):
    """SMS parts (parse_fakesmsc_log) as whole messages, in the order their first
    part arrived: dicts {sender, receiver, coding, text, parts, data}. The parts
    of a concatenated message (same sender, receiver, reference and count) are
    joined in sequence order, and its coding taken from the matching access log
    line in sent (parse_access_log); a message whose parts have not all arrived
    is left out."""
    out = []
    groups = {}
    for p in parts:
        concat = _parse_udh(p["udh"])
        if concat is None or concat[1] <= 1:
            out.append({"sender": p["sender"], "receiver": p["receiver"],
                        "coding": p["coding"], "data": p["data"], "parts": 1})
            continue
        ref, total, seq = concat
        key = (p["sender"], p["receiver"], ref, total)
        g = groups.get(key)
        if g is None or seq in g["segments"]:  # a reused reference starts a new message
            g = {"sender": p["sender"], "receiver": p["receiver"], "total": total,
                 "segments": {}}
            groups[key] = g
            out.append(g)
        g["segments"][seq] = p["data"]
    unused = list(sent)
    messages = []
    for m in out:
        if "segments" in m:
            if len(m["segments"]) < m["total"]:
                continue
            data = b"".join(m["segments"][i] for i in sorted(m["segments"]))
            coding = None
            for i, s in enumerate(unused):
                if (s["sender"] == m["sender"] and s["receiver"] == m["receiver"]
                        and s["length"] == len(data) and s["data"] in (None, data)):
                    coding = s["coding"]
                    del unused[i]
                    break
            m = {"sender": m["sender"], "receiver": m["receiver"],
                 "coding": coding or _guess_coding(data), "data": data, "parts": m["total"]}
        m["text"] = _decode(m["coding"], m["data"])
        messages.append({k: m[k] for k in ("sender", "receiver", "coding", "text", "parts",
                                           "data")})
    return messages


class Kannel:
    """A Kannel SMS gateway (bearerbox, smsbox, fakesmsc) in its own folder dir.

    Attributes once started: sendsms_url (smsbox's /cgi-bin/sendsms), username,
    password (the sendsms-user), status_url (bearerbox's admin status page),
    admin_port, box_port, smsc_port (link FAKE), mo_port (link MO), sendsms_port,
    mo_url (where inbound SMS go), and the logs in dir: bearerbox.log, smsbox.log,
    fakesmsc.log (every outgoing SMS part), *-debug.log, *-access.log.
    """

    def __init__(self, dir, username="tester", password="testpw", admin_password="adminpw"):
        for program, package in ((BEARERBOX, "kannel"), (SMSBOX, "kannel"),
                                 (FAKESMSC, "kannel-extras")):
            require(program, package)
        self.dir = os.path.abspath(dir)
        os.makedirs(self.dir, exist_ok=True)
        self.username = username
        self.password = password
        self.admin_password = admin_password
        self.conf = os.path.join(self.dir, "kannel.conf")
        self.fakesmsc_log = os.path.join(self.dir, "fakesmsc.log")
        self.procs = {}  # name -> Popen
        self.mo_sock = None
        self.mo_url = None
        (self.admin_port, self.box_port, self.smsc_port, self.mo_port,
         self.sendsms_port) = free_ports(5)
        self.sendsms_url = "http://127.0.0.1:%d/cgi-bin/sendsms" % self.sendsms_port
        self.status_url = "http://127.0.0.1:%d/status.txt?password=%s" % (
            self.admin_port, urllib.parse.quote(admin_password))

    # -- lifecycle --

    def write_config(self, mo_url=None, mo_recode=False):
        """Writes kannel.conf. mo_url: where smsbox GETs inbound SMS. A URL with
        a '%' is used as it is (Kannel escapes: %p sender, %P receiver, %b text
        as received, URL-encoded, %c coding 0/1/2, %i smsc-id, %t time...);
        otherwise from=%p&to=%P&text=%b&coding=%c&charset=%C&smsc=%i&ts=%t is
        appended. None: inbound SMS are accepted and dropped. mo_recode: smsbox's
        mo-recode (UCS-2 inbound SMS handed on as UTF-8, coding=0)."""
        if mo_url:
            if '"' in mo_url or "\n" in mo_url:
                raise GatewayError("MO URL must not contain quotes or newlines: %r" % mo_url)
            if "%" not in mo_url:
                mo_url += ("&" if "?" in mo_url else "?") + \
                    "from=%p&to=%P&text=%b&coding=%c&charset=%C&smsc=%i&ts=%t"
            service = 'get-url = "%s"' % mo_url
        else:
            service = 'text = "accepted"'
        self.mo_url = mo_url
        d = self.dir
        conf = """# written by tests/integration/gateways.py
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = "{adminpw}"
admin-allow-ip = "127.0.0.1"
smsbox-port = {box}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
box-deny-ip = "*.*.*.*"
log-file = "{d}/bearerbox-debug.log"
log-level = 0
access-log = "{d}/bearerbox-access.log"
dlr-storage = internal

# MT link: fakesmsc connects here and logs every SMS part it receives
group = smsc
smsc = fake
smsc-id = FAKE
port = {smsc}
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"

# MO link: only inject_mo() writes here; never chosen for outgoing SMS
group = smsc
smsc = fake
smsc-id = MO
port = {mo}
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"
allowed-smsc-id = MO

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{d}/smsbox-debug.log"
log-level = 0
access-log = "{d}/smsbox-access.log"
mo-recode = {recode}

group = sendsms-user
username = "{user}"
password = "{pw}"
max-messages = 10
concatenation = true

# inbound SMS: handed to the MO URL; never answered
group = sms-service
keyword = default
catch-all = yes
max-messages = 0
{service}
""".format(admin=self.admin_port, adminpw=self.admin_password, box=self.box_port,
           smsc=self.smsc_port, mo=self.mo_port, sendsms=self.sendsms_port, d=d,
           user=self.username, pw=self.password, service=service,
           recode="true" if mo_recode else "false")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(conf)

    def start(self, mo_url=None, mo_recode=False, timeout=START_TIMEOUT):
        """Writes the config (see write_config), starts bearerbox, smsbox and
        fakesmsc, connects the MO injector and waits until the admin page
        answers, both links are online, an smsbox is connected and the sendsms
        port accepts."""
        if self.procs:
            raise GatewayError("Kannel in %s is running already" % self.dir)
        self.write_config(mo_url, mo_recode)
        for name in os.listdir(self.dir):  # Kannel appends to its logs
            if name.endswith(".log"):
                os.unlink(os.path.join(self.dir, name))
        t0 = time.monotonic()
        atexit.register(self.stop)  # a script that ends without stop()
        try:
            self.procs["bearerbox"] = spawn([BEARERBOX, "-v", "1", self.conf],
                                            os.path.join(self.dir, "bearerbox.log"), cwd=self.dir)
            wait_until(lambda: self._status() is not None, timeout, "bearerbox admin page",
                       alive=self._dead)
            self.procs["smsbox"] = spawn([SMSBOX, "-v", "1", self.conf],
                                         os.path.join(self.dir, "smsbox.log"), cwd=self.dir)
            # -m 0: sends nothing itself, logs every SMS it receives
            self.procs["fakesmsc"] = spawn([FAKESMSC, "-H", "127.0.0.1", "-r",
                                            str(self.smsc_port), "-m", "0", "0 0 text unused"],
                                           self.fakesmsc_log, cwd=self.dir)
            # The MO link takes one client: this test process, for all of inject_mo().
            self.mo_sock = wait_until(self._connect_mo, timeout, "Kannel MO link",
                                      alive=self._dead)
            wait_until(self._ready, timeout, "Kannel ready", alive=self._dead)
        except BaseException as e:
            status = self._status() if isinstance(e, GatewayError) else None
            self.stop()
            if isinstance(e, GatewayError):
                raise GatewayError("%s\n%s\n--- bearerbox status ---\n%s"
                                   % (e, self.logs(), status)) from None
            raise
        self.ready_seconds = time.monotonic() - t0
        return self

    def _connect_mo(self):
        try:
            return socket.create_connection(("127.0.0.1", self.mo_port), timeout=2)
        except OSError:
            return None

    def _status(self):
        try:
            with urllib.request.urlopen(self.status_url, timeout=2) as r:
                return r.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return None

    def status(self):
        """bearerbox's admin status page (text)."""
        return self._status()

    def _ready(self):
        st = self._status()
        return (st is not None and "FAKE:%d (online" % self.smsc_port in st
                and "FAKE:%d (online" % self.mo_port in st and "smsbox:" in st
                and port_open(self.sendsms_port))

    def _dead(self):
        for name, p in self.procs.items():
            if p.poll() is not None:
                return "%s exited with %s" % (name, p.returncode)
        return None

    def logs(self):
        """The ends of the daemons' logs (for error messages)."""
        return "\n".join(tail(os.path.join(self.dir, n)) for n in
                         ("bearerbox.log", "smsbox.log", "fakesmsc.log"))

    def stop(self):
        """Stops fakesmsc, smsbox and bearerbox by PID (SIGTERM, up to 10 s, then
        SIGKILL). Idempotent."""
        atexit.unregister(self.stop)
        if self.mo_sock is not None:
            self.mo_sock.close()
            self.mo_sock = None
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            p = self.procs.pop(name, None)
            if p is not None:
                stop_pid(p.pid, p)

    def __enter__(self):
        if not self.procs:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- use --

    def send(self, to, text, sender="4711", **params):
        """GETs sendsms with the credentials, from, to, text and any other
        parameters (coding=2, charset="UTF-8", dlr_mask=31 / "dlr-mask": 31,
        dlr_url=...; '_' in names becomes '-'). Returns (HTTP status, body)."""
        q = {"username": self.username, "password": self.password, "from": sender,
             "to": to, "text": text}
        for k, v in params.items():
            q[k.replace("_", "-")] = str(v)
        return http_get(self.sendsms_url + "?" + urllib.parse.urlencode(q))

    def parts(self):
        """Every SMS part fakesmsc has logged (see parse_fakesmsc_log)."""
        try:
            with open(self.fakesmsc_log, "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape")
        except FileNotFoundError:
            return []
        return parse_fakesmsc_log(text)

    def sent_log(self):
        """The "Sent SMS" lines of bearerbox's access log (see parse_access_log)."""
        try:
            with open(os.path.join(self.dir, "bearerbox-access.log"), "rb") as f:
                return parse_access_log(f.read().decode("utf-8", "surrogateescape"))
        except FileNotFoundError:
            return []

    def messages(self):
        """Every complete SMS that reached the fake SMSC, in arrival order: dicts
        {sender, receiver, coding ('text'|'ucs-2'|'data'), text (decoded str),
        parts (number of segments), data (the payload bytes without UDH)}."""
        parts = self.parts()
        return assemble_messages(parts, self.sent_log())

    def wait_messages(self, n, timeout=5.0):
        """messages() once there are at least n of them (GatewayError after
        timeout seconds)."""
        try:
            return wait_until(lambda: (lambda m: m if len(m) >= n else None)(self.messages()),
                              timeout, "%d SMS at the fake SMSC" % n)
        except GatewayError as e:
            raise GatewayError("%s; have %d:\n%s" % (e, len(self.messages()),
                                                    tail(self.fakesmsc_log))) from None

    def inject_mo(self, sender, receiver, text, coding="auto"):
        """Sends an inbound SMS from sender to receiver through the MO link;
        smsbox then GETs the MO URL with it. coding: "text" (a 7-bit SMS; the
        MO URL gets the text as UTF-8 with coding=0), "ucs-2" (the MO URL gets
        URL-encoded UTF-16BE with coding=2, charset=UTF-16BE), or "auto" (text
        for ASCII, ucs-2 otherwise). Text SMS cannot hold CR or LF (the fake
        SMSC protocol is line-based)."""
        if self.mo_sock is None:
            raise GatewayError("Kannel is not running")
        for v in (sender, receiver):
            if not v or any(c.isspace() for c in v):
                raise GatewayError("sender and receiver must be non-empty, without spaces")
        if coding == "auto":
            coding = "text" if text.isascii() and text.isprintable() else "ucs-2"
        if coding == "text":
            if "\n" in text or "\r" in text:
                raise GatewayError("a text MO cannot hold CR or LF; use coding='ucs-2'")
            line = ("%s %s text %s\n" % (sender, receiver, text)).encode("utf-8")
        elif coding == "ucs-2":
            line = ("%s %s ucs2 %s\n" % (sender, receiver, urllib.parse.quote(
                text.encode("utf-16-be"), safe=""))).encode("ascii")
        else:
            raise GatewayError("inject_mo: coding must be auto, text or ucs-2, not %r" % coding)
        self.mo_sock.sendall(line)


# ---- SMTP -------------------------------------------------------------------


def _traversable_by_others(path):
    """The first folder on the way to path that other users cannot enter, or
    None (Postfix's daemons and delivery run as other users)."""
    path = os.path.abspath(path)
    parts = path.split(os.sep)
    for i in range(2, len(parts) + 1):
        p = os.sep.join(parts[:i])
        if not os.stat(p).st_mode & 0o001:
            return p
    return None


def npm_install(scratch=None, timeout=300):
    """Installs node/package-lock.json (smtp-server, pinned) with `npm ci` into a
    scratch folder under OTD_TEST_TMP named after the lock file's hash, once;
    concurrent test processes wait for each other. Returns its node_modules."""
    require(NODE, "nodejs")
    npm = require(NPM, "npm")
    with open(os.path.join(NODE_SRC, "package-lock.json"), "rb") as f:
        lock = f.read()
    digest = hashlib.sha256(lock).hexdigest()[:16]
    scratch = scratch or os.path.join(TEST_TMP, "node-smtp-" + digest)
    os.makedirs(scratch, exist_ok=True)
    modules = os.path.join(scratch, "node_modules")
    stamp = os.path.join(scratch, "installed")
    with open(os.path.join(scratch, ".lock"), "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        if os.path.exists(stamp) and os.path.isdir(os.path.join(modules, "smtp-server")):
            return modules
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(os.path.join(NODE_SRC, name), os.path.join(scratch, name))
        p = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=scratch, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=timeout)
        if p.returncode != 0:
            raise GatewayError("npm ci in %s failed:\n%s%s" % (scratch, p.stdout, p.stderr))
        with open(stamp, "w") as f:
            f.write(digest + "\n")
    return modules


def _postfix_queue(queue_dir, data_dir, files="/etc/postfix/postfix-files"):
    """Creates Postfix's queue and data directories with the owners and modes
    that its postfix-files list gives (what `post-install create-missing` does
    during `postfix check`). False when that list cannot be used (then postfix
    start checks and creates them itself)."""
    try:
        owners = {"$mail_owner": pwd.getpwnam("postfix"), "root": pwd.getpwnam("root")}
        groups = {"-": None, "$setgid_group": grp.getgrnam("postdrop")}
        with open(files) as f:
            lines = f.read().splitlines()
        made = 0
        for line in lines:
            fields = line.split(":")
            if len(fields) < 5 or fields[1] != "d":
                continue
            base, _, sub = fields[0].partition("/")
            if base == "$queue_directory":
                path = os.path.join(queue_dir, sub) if sub else queue_dir
            elif base == "$data_directory" and not sub:
                path = data_dir
            else:
                continue
            owner, group = owners[fields[2]], groups[fields[3]]
            os.makedirs(path, exist_ok=True)
            os.chown(path, owner.pw_uid, group.gr_gid if group else owner.pw_gid)
            os.chmod(path, int(fields[4], 8))
            made += 1
        return made >= 10
    except (OSError, KeyError, ValueError):
        return False


POSTFIX_MASTER_CF = """# written by tests/integration/gateways.py (no chroot)
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

POSTFIX_MAIN_CF = """# written by tests/integration/gateways.py: accepts mail for any domain from
# 127.0.0.0/8 and delivers every recipient into one Maildir; never relays.
compatibility_level = 3.6
queue_directory = {d}/spool
data_directory = {d}/data
maillog_file = {d}/postfix.log
maillog_file_prefixes = {d}
myhostname = mail.test.invalid
mydomain = test.invalid
myorigin = $myhostname
mydestination =
relay_domains =
relayhost =
local_transport = error:local delivery disabled
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = static:all
virtual_mailbox_base = {d}
virtual_mailbox_maps = static:maildir/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
virtual_mailbox_limit = 0
message_size_limit = 52428800
smtp_dns_support_level = disabled
biff = no
append_dot_mydomain = no
# store what the client sent: no Date:, Message-ID:, From: or To: added
local_header_rewrite_clients =
always_add_missing_headers = no
smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/tls/cert.pem
smtpd_tls_key_file = {d}/tls/key.pem
smtpd_tls_loglevel = 1
"""


class Smtp:
    """An SMTP server on 127.0.0.1 that stores every message in dir/maildir.

    impl: "postfix" (real MTA, own queue, STARTTLS, no AUTH; needs root) or
    "node" (npm smtp-server via node/smtp_sink.js; STARTTLS; AUTH PLAIN/LOGIN,
    mandatory with exactly auth_user/auth_pass when auth_user is given).
    mail_user: postfix only, the owner of delivered files (default nobody).

    Attributes: url (smtp://127.0.0.1:PORT), host, port, maildir, cafile (the
    self-signed certificate to verify STARTTLS with; CN=localhost, SAN
    DNS:localhost and IP:127.0.0.1), auth_user, auth_pass, dir, and the log in
    dir: postfix.log or smtp_sink.log.
    """

    def __init__(self, dir, impl="postfix", auth_user=None, auth_pass=None,
                 mail_user="nobody"):
        if impl not in ("postfix", "node"):
            raise GatewayError("Smtp impl must be postfix or node, not %r" % impl)
        if impl == "postfix":
            require(POSTFIX, "postfix")
            if auth_user is not None:
                raise GatewayError("the postfix Smtp offers no AUTH; use impl='node'")
            if os.geteuid() != 0:
                raise GatewayError("the postfix Smtp needs root (Postfix's master runs as "
                                   "root); use impl='node'")
        else:
            require(NODE, "nodejs")
            if (auth_user is None) != (auth_pass is None):
                raise GatewayError("give both auth_user and auth_pass, or neither")
        require(OPENSSL, "openssl")
        self.impl = impl
        self.auth_user = auth_user
        self.auth_pass = auth_pass
        self.mail_user = mail_user
        self.dir = os.path.abspath(dir)
        os.makedirs(self.dir, exist_ok=True)
        self.maildir = os.path.join(self.dir, "maildir")
        self.envdir = os.path.join(self.dir, "envelopes")
        self.host = "127.0.0.1"
        self.port = free_port()
        self.url = "smtp://127.0.0.1:%d" % self.port
        self.cafile = os.path.join(self.dir, "tls", "cert.pem")  # made by start()
        self.keyfile = os.path.join(self.dir, "tls", "key.pem")
        self.proc = None  # node
        self.master_pid = None  # postfix
        self.log = os.path.join(self.dir, "postfix.log" if impl == "postfix"
                                else "smtp_sink.log")

    def start(self, timeout=START_TIMEOUT):
        """Makes the certificate and the Maildir, starts the server and waits
        until it accepts connections."""
        if self.proc is not None or self.master_pid is not None:
            raise GatewayError("Smtp in %s is running already" % self.dir)
        self.cafile, self.keyfile = make_cert(os.path.join(self.dir, "tls"))
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub), exist_ok=True)
        t0 = time.monotonic()
        atexit.register(self.stop)  # a script that ends without stop()
        try:
            if self.impl == "postfix":
                self._start_postfix(timeout)
            else:
                self._start_node(timeout)
            wait_until(lambda: port_open(self.port), timeout,
                       "%s SMTP on 127.0.0.1:%d" % (self.impl, self.port), alive=self._dead)
        except BaseException as e:
            self.stop()
            if isinstance(e, GatewayError):
                raise GatewayError("%s\n%s" % (e, tail(self.log))) from None
            raise
        self.ready_seconds = time.monotonic() - t0
        return self

    def _dead(self):
        if self.proc is not None and self.proc.poll() is not None:
            return "exited with %s" % self.proc.returncode
        if self.master_pid is not None and pid_gone(self.master_pid):
            return "postfix master exited"
        return None

    def _start_postfix(self, timeout):
        d = self.dir
        os.chmod(d, 0o755)
        blocked = _traversable_by_others(d)
        if blocked:
            raise GatewayError("Postfix runs its daemons as other users: %s must be "
                               "searchable by others (chmod o+x) or use another OTD_TEST_TMP"
                               % blocked)
        try:
            pw = pwd.getpwnam(self.mail_user)
        except KeyError:
            raise GatewayError("no user %r to deliver mail as" % self.mail_user) from None
        for sub in ("", "new", "cur", "tmp"):
            os.chown(os.path.join(self.maildir, sub), pw.pw_uid, pw.pw_gid)
        etc = os.path.join(d, "etc")
        for sub in (etc, os.path.join(d, "spool"), os.path.join(d, "data")):
            os.makedirs(sub, exist_ok=True)
        shutil.chown(os.path.join(d, "data"), "postfix")
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN_CF.format(d=d, uid=pw.pw_uid, gid=pw.pw_gid))
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER_CF.format(port=self.port))
        # postfix start waits ~2.5 s when main.cf changed in the last seconds
        past = time.time() - 60
        for name in ("main.cf", "master.cf"):
            os.utime(os.path.join(etc, name), (past, past))
        # postfix start runs its integrity checks first (1-2 s) unless the queue
        # has a quick-start file: make the queue as Postfix's own list says
        if _postfix_queue(os.path.join(d, "spool"), os.path.join(d, "data")):
            open(os.path.join(d, "spool", "quick-start"), "w").close()
        pid_file = os.path.join(d, "spool", "pid", "master.pid")
        try:
            os.unlink(pid_file)
        except FileNotFoundError:
            pass
        # postfix(1) daemonizes master and reports fatal errors to its log only
        p = subprocess.run([POSTFIX, "-c", etc, "start"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise GatewayError("postfix -c %s start failed (%d):\n%s%s"
                               % (etc, p.returncode, p.stdout, p.stderr))

        def master_pid():
            try:
                with open(pid_file) as f:
                    text = f.read().strip()
                return int(text) if text else None
            except (FileNotFoundError, ValueError):
                return None
        self.master_pid = wait_until(master_pid, timeout, "postfix master.pid")

    def _start_node(self, timeout):
        modules = npm_install()
        env = dict(os.environ)
        env["NODE_PATH"] = modules
        env.pop("SMTP_AUTH_USER", None)
        env.pop("SMTP_AUTH_PASS", None)
        if self.auth_user is not None:
            env["SMTP_AUTH_USER"] = self.auth_user
            env["SMTP_AUTH_PASS"] = self.auth_pass
        self.proc = spawn([shutil.which(NODE), os.path.join(NODE_SRC, "smtp_sink.js"),
                           str(self.port), self.maildir, self.envdir, self.cafile,
                           self.keyfile], self.log, env=env, cwd=self.dir)

    def stop(self):
        """Stops the server by PID (SIGTERM, up to 10 s, then SIGKILL; Postfix's
        master takes its children along). Idempotent."""
        atexit.unregister(self.stop)
        if self.proc is not None:
            stop_pid(self.proc.pid, self.proc)
            self.proc = None
        if self.master_pid is not None:
            # master leads its own process group; on SIGTERM it stops its
            # children too: wait for all of them, SIGKILL what is left
            pgid = self.master_pid
            stop_pid(self.master_pid)
            deadline = time.monotonic() + STOP_TIMEOUT
            while group_pids(pgid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if group_pids(pgid):
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.master_pid = None

    def __enter__(self):
        if self.proc is None and self.master_pid is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def files(self):
        """The paths in maildir/new, in delivery order (modification time, then
        name)."""
        new = os.path.join(self.maildir, "new")
        try:
            names = os.listdir(new)
        except FileNotFoundError:
            return []
        entries = []
        for name in names:
            path = os.path.join(new, name)
            try:
                entries.append((os.stat(path).st_mtime_ns, name, path))
            except FileNotFoundError:
                continue
        return [path for _, _, path in sorted(entries)]

    def messages(self):
        """The delivered messages (one per recipient) as email.message.EmailMessage
        (policy email.policy.default), in delivery order."""
        out = []
        for path in self.files():
            with open(path, "rb") as f:
                out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
        return out

    def wait_messages(self, n, timeout=10.0):
        """messages() once there are at least n (GatewayError after timeout s)."""
        try:
            wait_until(lambda: len(self.files()) >= n, timeout,
                       "%d message(s) in %s/new" % (n, self.maildir))
        except GatewayError as e:
            raise GatewayError("%s; have %d\n%s" % (e, len(self.files()), tail(self.log))) \
                from None
        return self.messages()

    def envelopes(self):
        """node only: the SMTP envelopes of the files() in the same order, dicts
        {mailFrom, rcptTo, deliveredTo, tls, user, heloName}."""
        out = []
        for path in self.files():
            with open(os.path.join(self.envdir, os.path.basename(path) + ".json")) as f:
                out.append(json.load(f))
        return out
