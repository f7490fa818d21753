"""Black-box test harness: start the real cachetd on loopback with a
temporary config, talk to it with real clients, stop it by PID."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from procs import PPID, pids_where

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CACHET_BUILD", os.path.join(ROOT, "build", "san"))
CACHETD = os.path.join(BUILD, "cachetd")
CACHETCTL = os.path.join(BUILD, "cachetctl")
SENDMAIL = os.path.join(BUILD, "cachet-sendmail")

ROLES = ["smtp", "lookup", "queue", "mda", "mta", "imap", "pop3", "http"]
# The roles that run worker processes, listed by status as "smtp/0" ...
WORKER_ROLES = ["smtp", "imap", "pop3"]
KINDS = ["smtp", "submission", "submissions", "imap", "imaps", "pop3",
         "pop3s", "https", "http", "metrics"]


_given_ports = set()
_default_dns = None


def default_resolver():
    """A DNS server for every daemon of the run that names none: it
    answers SERVFAIL, so mail to other domains is deferred at once and
    no test ever asks the system's resolver (the network)."""
    global _default_dns
    if _default_dns is None:
        from dnsserver import DNSServer
        _default_dns = DNSServer(unknown="servfail").start()
    return _default_dns.addr


def free_port(host="127.0.0.1"):
    """A port free now and not handed out before in this test run (the
    kernel may give a just-released port again)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _given_ports:
            _given_ports.add(port)
            return port
    raise RuntimeError("no free port")


# The fields sender authentication writes on top of a message (issue 14:
# Authentication-Results, ARC sets, DKIM signatures; issue 15: the spam
# filter's X-Spam-Score and X-Spam-Status), above our Received:.
AUTH_FIELDS = (b"authentication-results", b"arc-seal",
               b"arc-message-signature", b"arc-authentication-results",
               b"dkim-signature", b"x-spam-score", b"x-spam-status")


def split_auth_fields(raw):
    """(the fields of AUTH_FIELDS on top of raw, the rest)."""
    pos = 0
    while True:
        colon = raw.find(b":", pos)
        if colon < 0 or raw[pos:colon].strip().lower() not in AUTH_FIELDS:
            return raw[:pos], raw[pos:]
        eol = raw.find(b"\r\n", colon)
        while eol >= 0 and raw[eol + 2:eol + 3] in (b" ", b"\t"):
            eol = raw.find(b"\r\n", eol + 2)
        if eol < 0:
            return raw[:pos], raw[pos:]
        pos = eol + 2


def strip_auth_fields(raw):
    return split_auth_fields(raw)[1]


def wait_for(pred, timeout=30, step=0.05):
    """Poll pred until it returns something true or timeout seconds pass;
    return its last value.  A long default costs nothing when pred comes
    true, only when a test is failing anyway."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def role_of(process):
    """"smtp/1" -> "smtp"; "queue" -> "queue"."""
    return process.split("/")[0]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _tcp_inode(local_port, remote_port):
    """The inode of the TCP socket with these ports (IPv4 or IPv6), as
    /proc/net/tcp lists it, or None."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            if (int(f[1].rsplit(":", 1)[1], 16) == local_port and
                    int(f[2].rsplit(":", 1)[1], 16) == remote_port):
                return f[9]
    return None


def server_pid(client_sock, pids):
    """Which of pids holds the server end of the TCP connection whose
    client end is client_sock, or None: how a test sees which worker
    process accepted a connection."""
    here = client_sock.getsockname()[1]
    there = client_sock.getpeername()[1]
    inode = _tcp_inode(there, here)
    if inode is None:
        return None
    want = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except FileNotFoundError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == want:
                    return pid
            except OSError:
                continue
    return None


def on_every_worker(d, role, connect):
    """One connection on each worker of role, in worker order: each is
    opened with connect() -> (client socket, object) while the role's
    other workers are stopped (SIGSTOP), so that the one left accepts it.
    Returns the objects (the caller closes them) and the pid serving each
    (read from /proc, and checked)."""
    pids = d.worker_pids(role)
    held, served = [], []
    for pid in pids:
        others = [p for p in pids if p != pid]
        for p in others:
            os.kill(p, signal.SIGSTOP)
        try:
            sock, obj = connect()
        finally:
            for p in others:
                os.kill(p, signal.SIGCONT)
        held.append(obj)
        served.append(wait_for(lambda: server_pid(sock, pids), 5))
        assert served[-1] == pid, (served, pids)
    return held, served


class Daemon:
    """One cachetd instance in its own directory."""

    def __init__(self, base, extra="", user=None, domains=("example.org",),
                 hold=False, resolver=None):
        self.base = base
        self.state = os.path.join(base, "state")
        self.mail = os.path.join(base, "mail")
        self.ports = {k: free_port() for k in KINDS}
        self.conf = os.path.join(base, "cachet.conf")
        self.log = os.path.join(base, "cachetd.log")
        lines = [
            "hostname mx.example.org",
            f"state-dir {self.state}",
            f"mail-dir {self.mail}",
        ]
        if user:
            lines.append(f"user {user}")
        for k in KINDS:
            lines.append(f"listen {k} 127.0.0.1:{self.ports[k]}")
        for d in domains:
            lines.append(f"domain {d}")
        if hold:
            # Messages stay in the queue: for tests of the queue itself.
            lines.append("delivery-hold yes")
        if "resolver " not in extra:
            # Never the system's resolver: mail to other domains must not
            # make a test talk to the network.
            lines.append(f"resolver {resolver or default_resolver()}")
        if "dnssec-trust-anchor " not in extra:
            # The tests' DNS servers are not signed: a validator anchored
            # at the root would call every answer bogus.  DANE tests name
            # their own zone's anchor (test_dane.py).
            lines.append("dnssec-trust-anchor none")
        lines.append(extra)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    @property
    def control(self):
        return os.path.join(self.state, "control.sock")

    def start(self, wait=True):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [CACHETD, "-d", "-v", "-f", self.conf],
            stdout=self.logf, stderr=self.logf, cwd=self.base,
            env=getattr(self, "env", None))
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"cachetd exited {self.proc.returncode}:\n"
                    + self.read_log())
            if os.path.exists(self.control):
                r = self.ctl("status", check=False)
                last = r.stdout + r.stderr
                st = self.parse_status(r.stdout)
                if (r.returncode == 0 and
                        sorted({role_of(p) for p in st}) == sorted(ROLES)
                        and all(v["state"] == "alive"
                                for v in st.values())):
                    return st
            time.sleep(0.1)
        raise AssertionError("cachetd not ready:\n" + last + self.read_log())

    def ctl(self, *args, input=None, check=True, timeout=30):
        r = subprocess.run([CACHETCTL, "-s", self.control, *args],
                           input=input, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"cachetctl {args} failed "
                                 f"({r.returncode}): {r.stderr}")
        return r

    @staticmethod
    def parse_status(text):
        """`cachetctl status` as {process: {pid, restarts, state}}: a
        one-process role under its name ("queue"), each worker of a role
        that runs workers as "smtp/0", "smtp/1", ..."""
        roles = {}
        for line in text.splitlines():
            m = re.match(r"role (\S+)\s+pid (\d+)\s+up (\d+)\s+"
                         r"restarts (\d+)\s+(\S+)", line)
            if m:
                roles[m.group(1)] = {"pid": int(m.group(2)),
                                     "restarts": int(m.group(4)),
                                     "state": m.group(5)}
        return roles

    def status(self):
        return self.parse_status(self.ctl("status").stdout)

    def role_pids(self):
        return {r: v["pid"] for r, v in self.status().items()}

    def worker_pids(self, role):
        """The pids of a role's workers, in worker order."""
        st = self.status()
        return [st[k]["pid"] for k in sorted(
            (k for k in st if role_of(k) == role),
            key=lambda k: int(k.split("/")[1]))]

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # --- helpers for the protocol tests ---

    def ctl_raw(self, *args, input=None, timeout=15):
        """cachetctl with bytes out (queue cat must be byte-exact)."""
        return subprocess.run([CACHETCTL, "-s", self.control, *args],
                              input=input, capture_output=True,
                              timeout=timeout)

    def add_user(self, address, password="secret"):
        self.ctl("user", "add", address, input=password + "\n",
                 timeout=15)

    def log_tail(self, n=60):
        return "\n".join(self.read_log().splitlines()[-n:])

    def queue_list(self):
        """`cachetctl queue` as a list of dicts: id, age, size, sender,
        rcpts (list), state.  The null sender may print as "<>" or as an
        empty field; both come back as given ("<>" or "").  A command
        that fails, or prints no listing, raises: it must never read as
        an empty queue."""
        r = self.ctl("queue", timeout=15)
        if not r.stdout.startswith("ID "):
            raise AssertionError(f"cachetctl queue printed no listing "
                                 f"(exit {r.returncode}): {r.stdout!r} "
                                 f"{r.stderr!r}")
        out = []
        for line in r.stdout.splitlines():
            f = line.split()
            # Indented lines detail a message's recipients.
            if not f or f[0] == "ID" or line[0] in " \t":
                continue
            if len(f) < 5:
                raise AssertionError(f"unparsable queue line: {line!r}")
            sender = f[3] if len(f) >= 6 else ""
            out.append({"id": f[0], "age": f[1], "size": f[2],
                        "sender": sender, "rcpts": f[-2].split(","),
                        "state": f[-1], "line": line})
        return out

    def queue_ids(self):
        return [m["id"] for m in self.queue_list()]

    # --- messages the queue has delivered into mail-dir ---

    _OUR_ID = re.compile(rb"\bid ([0-9a-f]{16})\b")

    def delivered(self):
        """Every message file in mail-dir's Maildirs (new/ and cur/ of
        each folder) as a list of (queue id or None, path, bytes).  The
        id is read from the first Received: header, which is ours (after
        the Return-Path: and Delivered-To: the mda puts in front)."""
        out = []
        for root, _dirs, files in os.walk(self.mail):
            if os.path.basename(root) not in ("new", "cur"):
                continue
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                out.append((self._received_id(data), path, data))
        return out

    def maildir_new(self, user):
        """The messages in user's Maildir new/ (as the file holds them,
        LF line ends), oldest first."""
        local, domain = user.split("@")
        path = os.path.join(self.mail, domain, local, "new")
        try:
            names = sorted(os.listdir(path))
        except FileNotFoundError:
            return []
        out = []
        for n in names:
            with open(os.path.join(path, n), "rb") as f:
                out.append(f.read())
        return out

    @classmethod
    def _received_id(cls, data):
        head = data.split(b"\n\n", 1)[0]
        m = re.search(rb"(?m)^Received: from .*(?:\n[ \t].*)*", head)
        if not m:
            return None
        found = cls._OUR_ID.search(m.group(0))
        return found.group(1).decode() if found else None

    def message_ids(self):
        """Ids of the messages stored: still queued or already delivered
        (sorted).  A message the server refused is in neither."""
        ids = set(self.queue_ids())
        ids.update(i for i, _p, _d in self.delivered() if i is not None)
        return sorted(ids)

    @staticmethod
    def _header(data, name):
        head = data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
        m = re.search(r"(?mi)^" + re.escape(name) + r":[ \t]*(.*)$", head)
        return m.group(1).strip() if m else None

    def envelope(self, qid):
        """{"sender", "rcpts"} of a message, from `cachetctl queue` while
        it is queued, else from its delivered copies (Return-Path: is the
        sender, each copy's Delivered-To: a recipient).  The null sender
        is "<>" either way."""
        for e in self.queue_list():
            if e["id"] == qid:
                return {"sender": e["sender"] or "<>",
                        "rcpts": sorted(r.strip("<>") for r in e["rcpts"])}
        copies = [d for i, _p, d in self.delivered() if i == qid]
        if not copies:
            raise AssertionError(f"message {qid} neither queued nor "
                                 "delivered\n" + self.log_tail())
        rp = self._header(copies[0], "Return-Path")
        sender = rp.strip("<>") if rp else None
        return {"sender": sender or "<>",
                "rcpts": sorted(self._header(d, "Delivered-To")
                                for d in copies)}

    def queue_cat(self, qid):
        """The stored message as bytes, Received: header included.  If
        the queue no longer has it (already delivered), the copy in
        mail-dir is used, from our Received: header on."""
        r = self.ctl_raw("queue", "cat", qid)
        if r.returncode == 0 and r.stdout:
            return r.stdout
        err = r.stderr.decode(errors="replace")
        found = self._maildir_copy(qid)
        if found is not None:
            return found
        raise AssertionError(f"queue cat {qid} failed ({r.returncode}): "
                             f"{err}\n" + self.log_tail())

    def _maildir_copy(self, qid):
        """The delivered copy from our Received: header on, with the
        CRLF line ends it had in the queue (a Maildir file holds LF, and
        a message received over SMTP has no bare LF or CR)."""
        needle = f" id {qid}".encode()
        for root, _dirs, files in os.walk(self.mail):
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                start = data.find(b"Received: from ")
                if start >= 0 and needle in data[start:start + 2048]:
                    return data[start:].replace(b"\n", b"\r\n")
        return None

    @staticmethod
    def split_received(raw):
        """Split a stored message into (our Received: header with its
        folded lines, the rest).  The header must come first, after the
        fields sender authentication puts on top (strip_auth_fields)."""
        raw = strip_auth_fields(raw)
        if not raw.startswith(b"Received: "):
            raise AssertionError(f"stored message does not start with "
                                 f"our Received: {raw[:200]!r}")
        pos = 0
        while True:
            eol = raw.find(b"\r\n", pos)
            if eol < 0:
                raise AssertionError("Received: header not CRLF-ended: "
                                     f"{raw[:300]!r}")
            pos = eol + 2
            if raw[pos:pos + 1] not in (b" ", b"\t"):
                return raw[:pos], raw[pos:]

    def stored(self, qid):
        """(Received header, the client's bytes) for a queued message."""
        return self.split_received(self.queue_cat(qid))


    def stop(self, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            return
        # The roles are the parent's children: asked of /proc, not of
        # cachetctl, which may fail (that must not read as "no roles").
        pids = pids_where(PPID, self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        deadline = time.time() + 5
        for pid in pids:
            while pid and pid_alive(pid) and time.time() < deadline:
                time.sleep(0.05)
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.logf.close()


@pytest.fixture
def tmpbase():
    # Not under /tmp's sticky, root-only paths: roles running as other
    # users must reach their directories, so make the base traversable.
    d = tempfile.mkdtemp(prefix="cachet-test-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    subprocess.run(["rm", "-rf", d])


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so fixtures can see a failure.
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _dump_log_if_failed(request, daemons):
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    for d in daemons:
        print(f"\n----- cachetd log ({d.base}) -----")
        print(d.log_tail(200))


@pytest.fixture
def daemon(tmpbase, request):
    d = Daemon(tmpbase)
    d.start()
    yield d
    _dump_log_if_failed(request, [d])
    d.stop()


@pytest.fixture
def make_daemon(tmpbase, request):
    made = []

    def make(**kw):
        sub = tempfile.mkdtemp(dir=tmpbase)
        os.chmod(sub, 0o755)
        d = Daemon(sub, **kw)
        made.append(d)
        return d
    yield make
    _dump_log_if_failed(request, [d for d in made if d.proc is not None])
    for d in made:
        d.stop()


# --- a raw SMTP client: exact bytes on the wire, replies parsed ---

SOCK_TIMEOUT = 10


def tls_client_context():
    """A client context that accepts the daemon's self-signed cert."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx

# --- IMAP clients (imaplib) ---

def imap_connect(daemon, tls="starttls", timeout=SOCK_TIMEOUT):
    """An imaplib client on the daemon's imap (tls "starttls" or None)
    or imaps (tls "imaps") listener."""
    import imaplib
    if tls == "imaps":
        return imaplib.IMAP4_SSL("127.0.0.1", daemon.ports["imaps"],
                                 ssl_context=tls_client_context(),
                                 timeout=timeout)
    c = imaplib.IMAP4("127.0.0.1", daemon.ports["imap"], timeout=timeout)
    if tls == "starttls":
        c.starttls(ssl_context=tls_client_context())
    return c


def imap_login(daemon, user, password, tls="starttls"):
    c = imap_connect(daemon, tls)
    typ, _ = c.login(user, password)
    assert typ == "OK"
    return c



class Reply:
    """One SMTP reply: code, its lines' text, the enhanced code of the
    last line (or None)."""

    def __init__(self, code, lines, raw):
        self.code = code
        self.lines = lines
        self.raw = raw
        m = re.match(r"([245]\.\d{1,3}\.\d{1,3})\b", lines[-1])
        self.enh = m.group(1) if m else None

    @property
    def text(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return f"Reply({self.raw!r})"


class RawSMTP:
    """A line-level SMTP client over a plain socket (TLS on demand)."""

    def __init__(self, port, host="127.0.0.1", timeout=SOCK_TIMEOUT,
                 implicit_tls=False):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if implicit_tls:
            self.sock = tls_client_context().wrap_socket(self.sock)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _more(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed by server; buffered: "
                           f"{self.buf!r}")
        self.buf += d

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_reply(self):
        lines, raw = [], b""
        while True:
            line = self.read_line()
            raw += line + b"\r\n"
            m = re.match(rb"(\d{3})([ -])(.*)", line, re.S)
            if not m:
                raise AssertionError(f"malformed reply line {line!r}")
            lines.append(m.group(3).decode("utf-8", "replace"))
            if m.group(2) == b" ":
                return Reply(int(m.group(1)), lines, raw)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n" if isinstance(line, str)
                  else line + b"\r\n")
        return self.read_reply()

    def expect(self, line, code, enh=None):
        r = self.cmd(line) if line is not None else self.read_reply()
        assert r.code == code, f"{line!r} -> {r!r}, want {code} {enh}"
        if enh is not None:
            assert r.enh == enh, f"{line!r} -> {r!r}, want {code} {enh}"
        return r

    def greet(self):
        return self.expect(None, 220)

    def ehlo(self, name="client.example.net"):
        return self.expect(f"EHLO {name}", 250)

    def starttls(self):
        self.expect("STARTTLS", 220, "2.0.0")
        assert self.buf == b"", f"bytes after 220 in clear: {self.buf!r}"
        self.sock = tls_client_context().wrap_socket(self.sock)

    def eof(self, timeout=SOCK_TIMEOUT):
        """True when the server closes (after what is buffered)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def quiet(self, wait=0.5):
        """True when the server sends nothing for `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            d = self.sock.recv(65536)
            self.buf += d
            return False
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(SOCK_TIMEOUT)


def ehlo_keywords(reply):
    """EHLO reply lines after the first, as {KEYWORD: params-string}."""
    kw = {}
    for line in reply.lines[1:]:
        parts = line.split(None, 1)
        kw[parts[0].upper()] = parts[1] if len(parts) > 1 else ""
    return kw


QUEUED_RE = re.compile(r"2\.0\.0 Ok: queued as (\S+)$")


def queued_id(reply):
    """The queue id of a '250 2.0.0 Ok: queued as ID' reply."""
    assert reply.code == 250, reply
    m = QUEUED_RE.match(reply.lines[-1])
    assert m, f"not a queued reply: {reply!r}"
    return m.group(1)


def dot_stuff(content):
    """DATA wire form of CRLF-ended content (RFC 5321 §4.5.2), with the
    end-of-data line."""
    out = re.sub(rb"(?m)^\.", b"..", content)
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out + b".\r\n"


def mail_transaction(c, sender, rcpts, content, mail_params="", wire=None):
    """MAIL, RCPTs, DATA over a RawSMTP; returns the queue id.  wire, if
    given, is sent instead of dot_stuff(content)."""
    line = f"MAIL FROM:<{sender}>" + (f" {mail_params}" if mail_params
                                      else "")
    c.expect(line, 250, "2.1.0")
    for r in rcpts:
        c.expect(f"RCPT TO:<{r}>", 250, "2.1.5")
    c.expect("DATA", 354)
    c.send(wire if wire is not None else dot_stuff(content))
    return queued_id(c.read_reply())


USERS = {"alice@example.org": "secret", "bob@example.org": "hunter2"}


@pytest.fixture
def mx(daemon):
    """The default daemon with the users of USERS."""
    for addr, pw in USERS.items():
        daemon.add_user(addr, pw)
    return daemon


@pytest.fixture
def mx_held(make_daemon):
    """As mx, with delivery-hold: messages stay in the queue, for tests
    of what the queue records (`cachetctl queue show`)."""
    d = make_daemon(hold=True)
    d.start()
    for addr, pw in USERS.items():
        d.add_user(addr, pw)
    return d
