"""IMAP on the wire, black-box, with exact bytes: commands and literals
split across packets (synchronising and LITERAL- non-synchronising), the
limits on literals (never a "+" for what will be refused, a non-
synchronising literal over 4096 octets ends the session), an over-long
command line, and twenty logged-in sessions of one user from one
address at once.  After each refusal the role goes on serving."""

import imaplib
import socket
import time

from conftest import imap_login
from test_imap import RawIMAP, imapd  # noqa: F401 (the fixture)
from test_pop3 import ALICE, ALICE_PW
from test_scram import PyTLS

LITERAL_MINUS_MAX = 4096        # RFC 7888 §5: LITERAL- non-sync bound


def logged_in(d):
    """A raw session over STARTTLS, logged in as alice."""
    r = RawIMAP(d.ports["imap"])
    assert r.cmd("t", "STARTTLS")[-1].startswith("t OK")
    r.sock = PyTLS(r.sock)
    r.buf = b""
    out = r.cmd("l", f'LOGIN "{ALICE}" "{ALICE_PW}"')
    assert out[-1].startswith("l OK"), out
    return r


def trickle(r, data, pieces=7, pause=0.05):
    """Send data in pieces with pauses, so the server reads it in
    several packets and must keep what it has."""
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        r.send(data[i:i + step])
        time.sleep(pause)


def still_serving(d):
    c = imap_login(d, ALICE, ALICE_PW, "starttls")
    typ, _ = c.noop()
    assert typ == "OK"
    c.logout()


def test_synchronising_literal_split_across_packets(imapd):  # noqa: F811
    r = logged_in(imapd)
    msg = (b"From: a@example.net\r\nSubject: split\r\n\r\n" +
           b"line of the body\r\n" * 200)
    # the command line itself arrives in pieces, cut inside a word
    trickle(r, b"a APP")
    trickle(r, b"END INBOX (\\Seen) {%d}\r\n" % len(msg))
    assert r.line() == "+ Ready for literal data"
    trickle(r, msg + b"\r\n", pieces=13)
    out = r.until("a")
    assert out[-1].startswith("a OK [APPENDUID "), out
    uid = out[-1].split()[4].rstrip("]")
    out = r.cmd("s", "SELECT INBOX")
    assert out[-1].startswith("s OK"), out
    r.send(b"f UID FETCH " + uid.encode() + b" BODY.PEEK[]\r\n")
    head = r.line()
    assert head.endswith("{%d}" % len(msg)), head
    while len(r.buf) < len(msg):
        r.buf += r.sock.recv(65536)
    assert r.buf[:len(msg)] == msg
    r.buf = r.buf[len(msg):]
    assert r.until("f")[-1].startswith("f OK")
    r.close()


def test_non_synchronising_literal_split_across_packets(imapd):  # noqa: F811,E501
    r = logged_in(imapd)
    msg = b"Subject: nonsync\r\n\r\n" + b"x" * 3000 + b"\r\n"
    assert len(msg) <= LITERAL_MINUS_MAX
    # LITERAL- (RFC 7888): {n+} needs no "+", the data follows at once
    trickle(r, b"b APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n",
            pieces=11)
    out = r.until("b")
    assert not any(ln.startswith("+") for ln in out), out
    assert out[-1].startswith("b OK [APPENDUID "), out
    # a string argument as a non-synchronising literal, in pieces too
    trickle(r, b"c STATUS {5+}\r\nINBOX (MESSAGES)\r\n")
    out = r.until("c")
    assert out[-1].startswith("c OK"), out
    assert any(ln.startswith('* STATUS "INBOX" (MESSAGES ') for ln in out), \
        out
    r.close()


def test_non_synchronising_literal_over_the_bound_ends_the_session(imapd):  # noqa: F811,E501
    r = logged_in(imapd)
    n = LITERAL_MINUS_MAX + 1
    r.send(b"d APPEND INBOX {%d+}\r\n" % n)
    out = r.until("d")
    assert out[0].startswith("d BAD") or out[0].startswith("* BYE"), out
    assert not any(ln.startswith("+") for ln in out), out
    # RFC 7888 §4: the server cannot know where the data ends: it closes
    lines = out[1:]
    try:
        while True:
            lines.append(r.line())
    except (EOFError, ConnectionError, OSError):
        pass
    assert any(ln.startswith("* BYE") for ln in out + lines), out + lines
    r.close()
    still_serving(imapd)


def test_huge_literal_outside_append_gets_no_continuation(imapd):  # noqa: F811,E501
    r = RawIMAP(imapd.ports["imap"])
    # before login, a LOGIN with a 100 MB literal: refused, never "+"
    r.send(b"e LOGIN {100000000}\r\n")
    ln = r.line()
    assert not ln.startswith("+"), ln
    assert ln.startswith("e BAD") or ln.startswith("e NO") or \
        ln.startswith("* BYE"), ln
    r.close()
    r = logged_in(imapd)
    # after login, a SEARCH string of the same size: refused too
    r.send(b"g SEARCH SUBJECT {100000000}\r\n")
    ln = r.line()
    assert not ln.startswith("+"), ln
    assert ln.startswith("g BAD") or ln.startswith("g NO") or \
        ln.startswith("* BYE"), ln
    r.close()
    still_serving(imapd)


def test_over_long_command_line_is_refused_and_the_role_goes_on(imapd):  # noqa: F811,E501
    r = logged_in(imapd)
    line = b"h SEARCH SUBJECT " + b"a" * (200 * 1024) + b"\r\n"
    try:
        r.send(line)
        out = r.until("h")
    except (EOFError, ConnectionError, OSError) as e:
        out = [f"closed: {e}"]
    assert not out[-1].startswith("h OK"), out
    assert any(("BAD" in ln or "BYE" in ln or ln.startswith("closed"))
               for ln in out), out
    r.close()
    still_serving(imapd)


def test_twenty_sessions_of_one_user_from_one_address(imapd):  # noqa: F811
    sessions = []
    try:
        t0 = time.monotonic()
        for _ in range(20):
            c = imap_login(imapd, ALICE, ALICE_PW, "starttls")
            sessions.append(c)
        took = time.monotonic() - t0
        for c in sessions:
            typ, data = c.select("INBOX", readonly=True)
            assert typ == "OK", data
            assert int(data[0]) == 3
        # successful logins are not slowed (no failure delay applies):
        # 20 logins with TLS in well under the 1 s a delay would add each
        assert took < 15, took
    finally:
        for c in sessions:
            try:
                c.logout()
            except (imaplib.IMAP4.error, OSError, socket.error):
                pass
