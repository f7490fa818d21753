"""POP3, black-box: every command of RFC 1939 through Python's poplib and
a raw client, CAPA (RFC 2449), STLS (RFC 2595) and its input discard,
implicit TLS on pop3s (RFC 8314), AUTH PLAIN (RFC 5034), APOP with right
and wrong digests, the maildrop lock, RSET, a drop before QUIT that
deletes nothing, and the Maildir left behind (cur/ with S, removals).

Mailboxes are made two ways: Maildir files written straight into
mail-dir/<domain>/<local>/new/ (owned by the mailbox user, as the mda
writes them), and real SMTP delivery through the daemon."""

import base64
import hashlib
import os
import poplib
import pwd
import re
import smtplib
import socket
import time

import pytest

from conftest import tls_client_context

HOST = "127.0.0.1"
TIMEOUT = 10
ALICE, ALICE_PW = "alice@example.org", "secret"
BOB, BOB_PW = "bob@example.org", "hunter2"
MAIL_USER = "_cachetm"     # the mailbox owner of the default "user"

MESSAGES = [
    b"From: carol@example.net\nTo: alice@example.org\nSubject: one\n\n"
    b"Hello.\n.A line that starts with a dot\n..and two\n.\nend\n",
    b"From: dave@example.net\nTo: alice@example.org\nSubject: two\n"
    b"X-Long: " + b"x" * 900 + b"\n\n" + b"body line\n" * 200,
    b"From: erin@example.net\nSubject: three\n\nno final newline",
]


# --- helpers ---

def mailbox_path(daemon, addr):
    local, domain = addr.split("@")
    return os.path.join(daemon.mail, domain, local)


_seq = [0]


def put_message(daemon, addr, data, flags=None):
    """Write a message into the user's Maildir as an MDA would: tmp/,
    then new/ (or cur/ with flags), owned by the mailbox user."""
    pw = pwd.getpwnam(MAIL_USER)
    mb = mailbox_path(daemon, addr)
    for d in (os.path.dirname(mb), mb, *(os.path.join(mb, s)
              for s in ("tmp", "new", "cur"))):
        if not os.path.isdir(d):
            os.makedirs(d, mode=0o700, exist_ok=True)
            os.chown(d, pw.pw_uid, pw.pw_gid)
    _seq[0] += 1
    # Zero-padded, so that names sort in the order they were made (UIDs
    # follow arrival: mtime, then name).
    name = f"{int(time.time())}.M{_seq[0]:06d}P{os.getpid()}.test"
    tmp = os.path.join(mb, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.chown(tmp, pw.pw_uid, pw.pw_gid)
    if flags is None:
        final = os.path.join(mb, "new", name)
    else:
        final = os.path.join(mb, "cur", name + ":2," + flags)
    os.rename(tmp, final)
    return final


def wire(data):
    """What RETR must deliver for a Maildir file: CRLF line ends, a CRLF
    added when the last line has none (poplib strips the stuffing)."""
    out = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out


def size(data):
    """The octets LIST and STAT give: the file with CRLF line ends.  A
    last line without a newline gets a CRLF on the wire (the final "."
    needs a line of its own) that the count does not include: a Maildir
    file written by an MDA always ends with a newline."""
    return len(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def joined(lines):
    return b"".join(l + b"\r\n" for l in lines)


def listing(daemon, addr, sub):
    d = os.path.join(mailbox_path(daemon, addr), sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def starttls(port, timeout=TIMEOUT):
    p = poplib.POP3(HOST, port, timeout=timeout)
    p.stls(context=tls_client_context())
    return p


def pop3s(port, timeout=TIMEOUT):
    return poplib.POP3_SSL(HOST, port, timeout=timeout,
                           context=tls_client_context())


def login(daemon, user=ALICE, pw=ALICE_PW, tls="stls"):
    p = starttls(daemon.ports["pop3"]) if tls == "stls" else \
        pop3s(daemon.ports["pop3s"])
    p.user(user)
    p.pass_(pw)
    return p


def err_of(excinfo):
    return excinfo.value.args[0]


class RawPOP3:
    """A line-level POP3 client: exact bytes on the wire."""

    def __init__(self, port, tls=False):
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
        if tls:
            self.sock = tls_client_context().wrap_socket(self.sock)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _more(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError(f"closed; buffered {self.buf!r}")
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def multi(self):
        """The lines of a multi-line body up to the ".", unstuffed."""
        out = []
        while True:
            line = self.line()
            if line == b".":
                return out
            out.append(line[1:] if line.startswith(b".") else line)

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes)
                          else data.encode())

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.line()

    def starttls(self):
        assert self.cmd("STLS").startswith(b"+OK")
        assert self.buf == b"", self.buf
        self.sock = tls_client_context().wrap_socket(self.sock)

    def eof(self, timeout=TIMEOUT):
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except socket.timeout:
            return False
        except OSError:
            return True

    def quiet(self, wait=0.5):
        self.sock.settimeout(wait)
        try:
            self.buf += self.sock.recv(65536)
            return False
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(TIMEOUT)


@pytest.fixture
def popd(make_daemon):
    """A daemon with alice (three messages) and bob (no Maildir yet);
    logins only over TLS, as by default."""
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    d.add_user(BOB, BOB_PW)
    d.files = [put_message(d, ALICE, m) for m in MESSAGES]
    return d


@pytest.fixture
def popd_plain(make_daemon):
    """As popd, with logins allowed in the clear on loopback."""
    d = make_daemon(extra="smtp-plaintext-auth-loopback yes")
    d.start()
    d.add_user(ALICE, ALICE_PW)
    d.add_user(BOB, BOB_PW)
    d.files = [put_message(d, ALICE, m) for m in MESSAGES]
    return d


# --- greeting, CAPA, TLS ---

def test_greeting_carries_unique_apop_timestamp(popd):
    stamps = set()
    for _ in range(3):
        p = poplib.POP3(HOST, popd.ports["pop3"], timeout=TIMEOUT)
        m = re.match(rb"\+OK .*(<[^<>@ ]+@[^<>@ ]+>)$", p.getwelcome())
        assert m, p.getwelcome()
        stamps.add(m.group(1))
        p.quit()
    assert len(stamps) == 3


def test_capa_without_tls_offers_stls_not_login(popd):
    p = poplib.POP3(HOST, popd.ports["pop3"], timeout=TIMEOUT)
    caps = p.capa()
    for c in ("TOP", "UIDL", "STLS", "RESP-CODES", "AUTH-RESP-CODE",
              "PIPELINING", "IMPLEMENTATION"):
        assert c in caps, caps
    assert caps["EXPIRE"] == ["NEVER"]
    assert "USER" not in caps and "SASL" not in caps
    with pytest.raises(poplib.error_proto) as e:
        p.user(ALICE)
    assert b"STLS" in err_of(e)
    p.quit()


def test_capa_after_stls_offers_login(popd):
    p = starttls(popd.ports["pop3"])
    caps = p.capa()
    assert "USER" in caps and caps["SASL"] == [
        "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN"]
    assert "STLS" not in caps
    p.quit()


def test_plaintext_login_on_loopback_when_configured(popd_plain):
    p = poplib.POP3(HOST, popd_plain.ports["pop3"], timeout=TIMEOUT)
    assert "USER" in p.capa()
    p.user(ALICE)
    assert p.pass_(ALICE_PW).startswith(b"+OK")
    assert p.stat()[0] == 3
    p.quit()


def test_pop3s_implicit_tls(popd):
    p = pop3s(popd.ports["pop3s"])
    assert p.getwelcome().startswith(b"+OK")
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps
    p.user(ALICE)
    p.pass_(ALICE_PW)
    assert p.stat() == (3, sum(size(m) for m in MESSAGES))
    p.quit()


def test_stls_discards_input_sent_with_it(popd):
    """RFC 2595 §4 / CVE-2011-0411: a command sent in the clear behind
    STLS must not be run inside TLS."""
    c = RawPOP3(popd.ports["pop3"])
    assert c.line().startswith(b"+OK")
    c.send(b"STLS\r\nCAPA\r\n")
    assert c.line().startswith(b"+OK")
    assert c.buf == b""
    c.sock = tls_client_context().wrap_socket(c.sock)
    assert c.quiet(0.7), c.buf
    assert c.cmd("NOOP") == b"-ERR Not logged in"
    c.close()


def test_stls_twice_refused(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    c.starttls()
    assert c.cmd("STLS") == b"-ERR TLS already active"
    c.close()


# --- logins ---

def test_wrong_password(popd):
    p = starttls(popd.ports["pop3"])
    p.user(ALICE)
    with pytest.raises(poplib.error_proto) as e:
        p.pass_("wrong")
    assert err_of(e).startswith(b"-ERR [AUTH]")
    p.quit()


def test_unknown_user_fails_like_a_wrong_password(popd):
    p = starttls(popd.ports["pop3"])
    assert p.user("nobody@example.org").startswith(b"+OK")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_("x")
    assert err_of(e).startswith(b"-ERR [AUTH]")
    p.quit()


def test_repeated_failures_are_delayed(popd):
    p = starttls(popd.ports["pop3"])
    took = []
    for _ in range(3):
        p.user(ALICE)
        t = time.monotonic()
        with pytest.raises(poplib.error_proto):
            p.pass_("wrong")
        took.append(time.monotonic() - t)
    # lookup answers two failures at once, then waits (1 s, 2 s, ...)
    assert took[2] >= 0.9, took
    p.quit()


def test_user_login_is_case_insensitive(popd):
    p = login(popd, user="Alice@EXAMPLE.org")
    assert p.stat()[0] == 3
    p.quit()


def test_auth_plain(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    c.starttls()
    ir = base64.b64encode(f"\0{ALICE}\0{ALICE_PW}".encode()).decode()
    assert c.cmd(f"AUTH PLAIN {ir}").startswith(b"+OK")
    assert c.cmd("STAT").startswith(b"+OK 3 ")
    assert c.cmd("QUIT").startswith(b"+OK")
    c.close()


def test_auth_plain_continuation_and_cancel(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    c.starttls()
    assert c.cmd("AUTH PLAIN") == b"+ "
    assert c.cmd("*") == b"-ERR Authentication cancelled"
    assert c.cmd("AUTH PLAIN") == b"+ "
    bad = base64.b64encode(f"\0{ALICE}\0nope".encode()).decode()
    assert c.cmd(bad).startswith(b"-ERR [AUTH]")
    assert c.cmd("AUTH PLAIN") == b"+ "
    good = base64.b64encode(f"\0{ALICE}\0{ALICE_PW}".encode()).decode()
    assert c.cmd(good).startswith(b"+OK")
    c.close()


def test_auth_refused_before_tls(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    ir = base64.b64encode(f"\0{ALICE}\0{ALICE_PW}".encode()).decode()
    assert c.cmd(f"AUTH PLAIN {ir}").startswith(b"-ERR Plaintext")
    c.close()


def test_apop_right_and_wrong_digest(popd):
    popd.ctl("user", "apop", ALICE, input="tanstaaf\n")
    p = poplib.POP3(HOST, popd.ports["pop3"], timeout=TIMEOUT)
    with pytest.raises(poplib.error_proto) as e:
        p.apop(ALICE, "not the secret")
    assert err_of(e).startswith(b"-ERR [AUTH]")
    assert p.apop(ALICE, "tanstaaf").startswith(b"+OK")
    assert p.stat()[0] == 3
    p.quit()
    # The password is not the APOP secret.
    p = poplib.POP3(HOST, popd.ports["pop3"], timeout=TIMEOUT)
    with pytest.raises(poplib.error_proto):
        p.apop(ALICE, ALICE_PW)
    p.quit()


def test_apop_digest_is_md5_of_the_banner_timestamp(popd):
    popd.ctl("user", "apop", ALICE, input="tanstaaf\n")
    c = RawPOP3(popd.ports["pop3"])
    ts = re.search(rb"<.*>", c.line()).group(0)
    digest = hashlib.md5(ts + b"tanstaaf").hexdigest()
    assert c.cmd(f"APOP {ALICE} {digest}").startswith(b"+OK")
    c.close()


def test_apop_off_by_default_and_after_noapop(popd):
    p = poplib.POP3(HOST, popd.ports["pop3"], timeout=TIMEOUT)
    with pytest.raises(poplib.error_proto):
        p.apop(BOB, BOB_PW)
    p.quit()
    popd.ctl("user", "apop", ALICE, input="tanstaaf\n")
    popd.ctl("user", "noapop", ALICE)
    p = poplib.POP3(HOST, popd.ports["pop3"], timeout=TIMEOUT)
    with pytest.raises(poplib.error_proto):
        p.apop(ALICE, "tanstaaf")
    p.quit()


def test_apop_secret_never_in_argv(popd):
    r = popd.ctl("user", "apop", ALICE, "tanstaaf", check=False)
    assert r.returncode == 2 and "standard input" in r.stderr


def test_mbox_user_refused(popd):
    popd.ctl("user", "set", BOB, "format", "mbox")
    p = starttls(popd.ports["pop3"])
    p.user(BOB)
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(BOB_PW)
    assert err_of(e).startswith(b"-ERR [SYS/PERM]")
    p.quit()


# --- the maildrop ---

def test_every_transaction_command(popd):
    p = login(popd)
    sizes = [size(m) for m in MESSAGES]
    assert p.stat() == (3, sum(sizes))
    resp, lines, _ = p.list()
    assert resp == f"+OK 3 messages ({sum(sizes)} octets)".encode()
    assert lines == [f"{i + 1} {s}".encode() for i, s in enumerate(sizes)]
    assert p.list(2) == f"+OK 2 {sizes[1]}".encode()
    resp, uidls, _ = p.uidl()
    ids = [l.split()[1] for l in uidls]
    assert len(set(ids)) == 3 and all(re.match(rb"^\d+\.\d+$", i)
                                      for i in ids)
    assert p.uidl(3) == b"+OK 3 " + ids[2]
    for i, m in enumerate(MESSAGES):
        resp, lines, _ = p.retr(i + 1)
        assert resp == f"+OK {sizes[i]} octets".encode()
        assert joined(lines) == wire(m)
    resp, lines, _ = p.top(2, 0)
    head = MESSAGES[1].split(b"\n\n")[0]
    assert joined(lines) == wire(head + b"\n\n")
    resp, lines, _ = p.top(2, 3)
    assert lines[-3:] == [b"body line"] * 3
    assert p.noop() == b"+OK"
    assert p.dele(1).startswith(b"+OK")
    assert p.stat() == (2, sizes[1] + sizes[2])
    with pytest.raises(poplib.error_proto):
        p.retr(1)
    with pytest.raises(poplib.error_proto):
        p.list(4)
    assert p.rset().startswith(b"+OK")
    assert p.stat() == (3, sum(sizes))
    assert p.dele(3).startswith(b"+OK")
    assert p.quit().startswith(b"+OK")
    # Message 3 is gone, 1 and 2 were read: in cur/ with S.
    assert listing(popd, ALICE, "new") == []
    cur = listing(popd, ALICE, "cur")
    assert len(cur) == 2 and all(n.endswith(":2,S") for n in cur)


def test_octet_counts_are_the_bytes_sent(popd):
    """RFC 1939: the size of a message is its octets with CRLF line ends;
    RETR sends exactly that many, plus the stuffing dots (and the CRLF
    that ends a file without a final newline)."""
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    c.starttls()
    c.cmd(f"USER {ALICE}")
    assert c.cmd(f"PASS {ALICE_PW}").startswith(b"+OK")
    for i, m in enumerate(MESSAGES):
        n = int(c.cmd(f"LIST {i + 1}").split()[2])
        assert n == size(m)
        assert c.cmd(f"RETR {i + 1}") == f"+OK {n} octets".encode()
        body = joined(c.multi())
        assert body == wire(m)
        assert len(body) == n + (0 if m.endswith(b"\n") else 2)
    c.close()


def test_uidl_stable_across_sessions_and_deliveries(popd):
    p = login(popd)
    first = p.uidl()[1]
    p.quit()
    put_message(popd, ALICE, b"Subject: four\n\nnew\n")
    p = login(popd)
    second = p.uidl()[1]
    p.quit()
    assert second[:3] == first
    assert len(second) == 4
    assert second[3].split()[1] not in [l.split()[1] for l in first]


def test_rset_undoes_deletions(popd):
    p = login(popd)
    for i in (1, 2, 3):
        p.dele(i)
    assert p.stat() == (0, 0)
    p.rset()
    p.quit()
    p = login(popd)
    assert p.stat()[0] == 3
    p.quit()


def test_drop_before_quit_deletes_nothing(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    c.starttls()
    c.cmd(f"USER {ALICE}")
    assert c.cmd(f"PASS {ALICE_PW}").startswith(b"+OK")
    for i in (1, 2, 3):
        assert c.cmd(f"DELE {i}").startswith(b"+OK")
    c.sock.close()     # no QUIT: no UPDATE state
    time.sleep(0.3)
    p = login(popd)
    assert p.stat()[0] == 3
    p.quit()
    assert len(listing(popd, ALICE, "new")) == 3


def test_quit_removes_marked_messages(popd):
    p = login(popd)
    p.dele(1)
    p.dele(3)
    p.quit()
    assert not os.path.exists(popd.files[0])
    assert not os.path.exists(popd.files[2])
    assert os.path.exists(popd.files[1])
    p = login(popd)
    assert p.stat() == (1, size(MESSAGES[1]))
    p.quit()


def test_top_does_not_mark_seen(popd):
    p = login(popd)
    p.top(1, 1)
    p.quit()
    assert len(listing(popd, ALICE, "new")) == 3


def test_flags_kept_when_marked_seen(popd):
    path = put_message(popd, ALICE, b"Subject: flagged\n\nx\n", flags="F")
    p = login(popd)
    assert p.stat()[0] == 4
    n = [i for i in range(1, 5)
         if b"Subject: flagged" in p.top(i, 0)[1]]
    assert len(n) == 1
    p.retr(n[0])
    p.quit()
    assert not os.path.exists(path)
    assert os.path.exists(path[:-len(":2,F")] + ":2,FS")


def test_retrieved_marked_seen_when_connection_drops(popd):
    """Seen flags are written in batches; a session that ends without
    QUIT (no UPDATE: nothing removed) still leaves what it retrieved in
    cur/ with S, and a second session finds the names."""
    p = login(popd)
    assert p.stat()[0] == 3
    p.retr(1)
    p.retr(3)
    assert p.dele(2).startswith(b"+OK")
    # no QUIT (poplib's file keeps the socket open past close())
    p.sock.shutdown(socket.SHUT_RDWR)
    p.sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and \
            len(listing(popd, ALICE, "cur")) < 2:
        time.sleep(0.05)
    cur = listing(popd, ALICE, "cur")
    assert len(cur) == 2 and all(n.endswith(":2,S") for n in cur), cur
    assert len(listing(popd, ALICE, "new")) == 1
    # the next session (the drop's lock is free) reads all three
    deadline = time.monotonic() + 10
    while True:
        try:
            q = login(popd)
            break
        except poplib.error_proto:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert q.stat()[0] == 3
    for i in (1, 2, 3):
        q.retr(i)
    q.quit()
    assert len(listing(popd, ALICE, "cur")) == 3


def test_maildrop_lock(popd):
    p = login(popd)
    q = starttls(popd.ports["pop3"])
    q.user(ALICE)
    with pytest.raises(poplib.error_proto) as e:
        q.pass_(ALICE_PW)
    assert err_of(e).startswith(b"-ERR [IN-USE]")
    # over pop3s too, and for APOP
    r = pop3s(popd.ports["pop3s"])
    r.user(ALICE)
    with pytest.raises(poplib.error_proto) as e:
        r.pass_(ALICE_PW)
    assert err_of(e).startswith(b"-ERR [IN-USE]")
    r.quit()
    # another user is not locked out
    b = login(popd, BOB, BOB_PW)
    b.quit()
    p.quit()
    q.user(ALICE)
    assert q.pass_(ALICE_PW).startswith(b"+OK")
    q.quit()


def test_lock_released_when_connection_drops(popd):
    c = RawPOP3(popd.ports["pop3s"], tls=True)
    c.line()
    c.cmd(f"USER {ALICE}")
    assert c.cmd(f"PASS {ALICE_PW}").startswith(b"+OK")
    c.close()
    time.sleep(0.3)
    p = login(popd)
    p.quit()


def test_empty_maildrop_before_any_delivery(popd):
    assert not os.path.exists(mailbox_path(popd, BOB))
    p = login(popd, BOB, BOB_PW)
    assert p.stat() == (0, 0)
    assert p.list()[1] == []
    assert p.uidl()[1] == []
    p.quit()


def test_pipelined_commands(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    c.starttls()
    c.send(f"CAPA\r\nUSER {ALICE}\r\nPASS {ALICE_PW}\r\nSTAT\r\nLIST\r\n"
           "RETR 1\r\nTOP 2 0\r\nUIDL 3\r\nDELE 2\r\nRETR 2\r\nNOOP\r\n"
           "RSET\r\nQUIT\r\n")
    assert c.line().startswith(b"+OK")
    assert "USER" in [l.decode() for l in c.multi()]
    assert c.line().startswith(b"+OK")      # USER
    assert c.line().startswith(b"+OK")      # PASS
    assert c.line().startswith(b"+OK 3 ")   # STAT
    assert c.line().startswith(b"+OK")
    assert len(c.multi()) == 3
    assert c.line().startswith(b"+OK")
    assert joined(c.multi()) == wire(MESSAGES[0])
    assert c.line().startswith(b"+OK")
    assert joined(c.multi()) == wire(MESSAGES[1].split(b"\n\n")[0] +
                                     b"\n\n")
    assert c.line().startswith(b"+OK 3 ")
    assert c.line() == b"+OK Message 2 deleted"
    assert c.line() == b"-ERR Message 2 already deleted"
    assert c.line() == b"+OK"
    assert c.line().startswith(b"+OK")      # RSET
    assert c.line().startswith(b"+OK")      # QUIT
    assert c.eof()


def test_many_pipelined_retrs_with_a_slow_reader(popd):
    """Pipelined RETRs of a large message while the client does not read:
    the server stops producing, then sends everything in order."""
    big = b"Subject: big\n\n" + (b"." + b"y" * 998 + b"\n") * 1000
    put_message(popd, ALICE, big)
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    c.starttls()
    c.cmd(f"USER {ALICE}")
    c.cmd(f"PASS {ALICE_PW}")
    c.send("RETR 4\r\n" * 10 + "QUIT\r\n")
    time.sleep(1)
    for _ in range(10):
        assert c.line().startswith(b"+OK")
        assert joined(c.multi()) == wire(big)
    assert c.line().startswith(b"+OK")


# --- bad input ---

def test_bad_input_gets_clear_errors(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    assert c.cmd("FROB") == b"-ERR Unknown command"
    assert c.cmd("STAT") == b"-ERR Not logged in"
    assert c.cmd("X" * 300) == b"-ERR Line too long"
    c.send(b"NOOP\n")
    assert c.line() == b"-ERR Line must end with CRLF"
    assert c.cmd("CAPA").startswith(b"+OK")
    c.multi()
    c.starttls()
    c.cmd(f"USER {ALICE}")
    c.cmd(f"PASS {ALICE_PW}")
    assert c.cmd("RETR 0") == b"-ERR No such message"
    assert c.cmd("RETR 99") == b"-ERR No such message"
    assert c.cmd("RETR x") == b"-ERR Invalid message number"
    assert c.cmd("TOP 1") == b"-ERR Syntax: TOP message lines"
    assert c.cmd("USER x") == b"-ERR Already logged in"
    c.close()


def test_too_many_errors_close_the_connection(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    for _ in range(9):
        assert c.cmd("FROB").startswith(b"-ERR")
    assert c.cmd("FROB") == b"-ERR Unknown command"
    assert c.line() == b"-ERR Too many errors, closing connection"
    assert c.eof()
    # The server goes on.
    p = login(popd)
    p.quit()


def test_flood_of_commands_without_reading(popd):
    c = RawPOP3(popd.ports["pop3"])
    c.line()
    c.starttls()
    c.cmd(f"USER {ALICE}")
    c.cmd(f"PASS {ALICE_PW}")
    c.sock.settimeout(2)
    sent = 0
    try:
        for _ in range(20000):
            c.send(b"LIST\r\n" * 50)
            sent += 50
    except (socket.timeout, OSError):
        pass
    c.close()
    p = login(popd)    # the lock went with the connection
    assert p.stat()[0] == 3
    p.quit()


# --- real delivery ---

def test_message_delivered_by_smtp_retrieved_by_pop3(popd):
    content = (b"From: zed@example.net\r\nTo: bob@example.org\r\n"
               b"Subject: via smtp\r\n\r\n.dot first\r\nplain\r\n")
    s = smtplib.SMTP(HOST, popd.ports["smtp"], timeout=TIMEOUT)
    s.sendmail("zed@example.net", [BOB], content)
    s.quit()
    deadline = time.time() + 15
    while time.time() < deadline and not listing(popd, BOB, "new"):
        time.sleep(0.1)
    files = listing(popd, BOB, "new")
    assert len(files) == 1
    with open(os.path.join(mailbox_path(popd, BOB), "new", files[0]),
              "rb") as f:
        stored = f.read()
    p = login(popd, BOB, BOB_PW)
    resp, lines, _ = p.retr(1)
    got = joined(lines)
    assert got == wire(stored)
    assert got.endswith(content)
    assert int(resp.split()[1]) == len(got)
    p.dele(1)
    p.quit()
    assert listing(popd, BOB, "new") == [] and \
        listing(popd, BOB, "cur") == []
