"""SMTP limits, black-box: line lengths (RFC 5321 §4.5.3.1), message-size
(RFC 1870), max-recipients, max-errors, smtp-timeout, max-connections
and max-connections-per-ip, each from docs/cachet.conf.md."""

import socket
import time

import pytest

from conftest import (USERS, RawSMTP, dot_stuff, ehlo_keywords,
                      mail_transaction)

SIZE = 10 * 1024


def started(make_daemon, extra, users=()):
    d = make_daemon(extra=extra)
    d.start()
    for u in users:
        d.add_user(u, USERS.get(u, "secret"))
    return d


def raw(daemon, kind="smtp"):
    c = RawSMTP(daemon.ports[kind])
    c.greet()
    return c


def content_of_size(n):
    """A CRLF-ended message of exactly n octets."""
    head = b"Subject: size\r\n\r\n"
    line = b"y" * 78 + b"\r\n"
    body = b""
    while len(head) + len(body) + len(line) <= n - 2:
        body += line
    rest = n - len(head) - len(body) - 2
    assert rest >= 0
    out = head + body + b"z" * rest + b"\r\n"
    assert len(out) == n
    return out


# --- command lines ---

def test_command_line_512_accepted(daemon):
    with raw(daemon) as c:
        c.ehlo()
        line = "NOOP " + "x" * (512 - 2 - 5)
        assert len(line) + 2 == 512
        c.expect(line, 250)


def test_command_line_too_long(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("NOOP " + "x" * (513 - 2 - 5), 500, "5.5.2")
        c.expect("NOOP " + "x" * 5000, 500, "5.5.2")
        # one reply per long line, and the session goes on
        assert c.quiet(0.3), c.buf
        c.expect("NOOP", 250)


def test_long_mail_line_not_half_executed(daemon):
    """The tail of an overlong line must not be read as a command.  MAIL
    and RCPT may run to 512 + 1024 octets for their parameters (ORCPT,
    AUTH=, ENVID; §4.5.3.1.4), so go well past that."""
    with raw(daemon) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net> " + " " * 2000 +
                 "QUIT", 500, "5.5.2")
        c.expect("NOOP", 250)


def test_mail_line_with_long_parameters_accepted(daemon):
    """ENVID (100) and AUTH= (500) make MAIL longer than 512 octets."""
    with raw(daemon) as c:
        c.ehlo()
        line = ("MAIL FROM:<s@example.net> ENVID=" + "e" * 100 +
                " AUTH=" + "a" * 400 + "@example.net")
        assert len(line) > 512
        c.expect(line, 250, "2.1.0")


def test_text_line_too_long_refused(make_daemon):
    d = started(make_daemon, "", ["alice@example.org"])
    with raw(d) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: long\r\n\r\n" + b"x" * 999 + b"\r\n.\r\n")
        c.expect(None, 554, "5.6.0")
        c.expect("NOOP", 250)
    assert d.message_ids() == []


# --- message-size ---

def test_size_advertised(make_daemon):
    d = started(make_daemon, "message-size 10K")
    with raw(d) as c:
        assert ehlo_keywords(c.ehlo())["SIZE"] == str(SIZE)


def test_size_refused_at_mail(make_daemon):
    d = started(make_daemon, "message-size 10K")
    with raw(d) as c:
        c.ehlo()
        c.expect(f"MAIL FROM:<s@example.net> SIZE={SIZE + 1}", 552, "5.3.4")
        c.expect("MAIL FROM:<s@example.net> SIZE=99999999999999999999999",
                 552, "5.3.4")
        c.expect(f"MAIL FROM:<s@example.net> SIZE={SIZE}", 250, "2.1.0")


def test_size_refused_at_end_of_data(make_daemon):
    d = started(make_daemon, "message-size 10K", ["alice@example.org"])
    big = content_of_size(SIZE + 1)
    with raw(d) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(big))
        c.expect(None, 552, "5.3.4")
        assert d.message_ids() == []
        # much bigger too, and the session goes on afterwards
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(content_of_size(SIZE * 20)))
        c.expect(None, 552, "5.3.4")
        assert d.message_ids() == []
        ok = content_of_size(SIZE)
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               ok)
    assert d.message_ids() == [qid]
    assert d.stored(qid)[1] == ok


def test_size_refused_in_bdat(make_daemon):
    d = started(make_daemon, "message-size 10K", ["alice@example.org"])
    big = content_of_size(SIZE + 100)
    with raw(d) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.send(f"BDAT {len(big)} LAST\r\n".encode() + big)
        c.expect(None, 552, "5.3.4")
        # the chunk was read, not taken for commands
        assert c.quiet(0.3), c.buf
        c.expect("NOOP", 250)
    assert d.message_ids() == []


# --- max-recipients ---

def test_too_many_recipients(make_daemon):
    users = ["alice@example.org", "bob@example.org", "carol@example.org",
             "dave@example.org"]
    d = started(make_daemon, "max-recipients 3", users)
    content = b"Subject: many\r\n\r\nhi\r\n"
    with raw(d) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        for u in users[:3]:
            c.expect(f"RCPT TO:<{u}>", 250, "2.1.5")
        c.expect(f"RCPT TO:<{users[3]}>", 452, "4.5.3")
        c.expect("DATA", 354)
        c.send(dot_stuff(content))
        r = c.read_reply()
        assert r.code == 250, r
    [qid] = d.message_ids()
    assert d.envelope(qid)["rcpts"] == sorted(users[:3])


# --- max-errors ---

def test_max_errors_configured(make_daemon):
    d = started(make_daemon, "max-errors 3")
    with raw(d) as c:
        c.ehlo()
        c.expect("BOGUS1", 500)
        c.expect("BOGUS2", 500)
        r = c.cmd("BOGUS3")
        if r.code == 500:
            r = c.read_reply()
        assert (r.code, r.enh) == (421, "4.7.0"), r
        assert c.eof()


# --- smtp-timeout ---

def test_idle_timeout(make_daemon):
    d = started(make_daemon, "smtp-timeout 2")
    with RawSMTP(d.ports["smtp"]) as c:
        c.greet()
        t0 = time.monotonic()
        r = c.read_reply()
        elapsed = time.monotonic() - t0
        assert (r.code, r.enh) == (421, "4.4.2"), r
        assert 1.5 <= elapsed <= 8, elapsed
        assert c.eof()


def test_idle_timeout_mid_line(make_daemon):
    d = started(make_daemon, "smtp-timeout 2")
    with RawSMTP(d.ports["smtp"]) as c:
        c.greet()
        c.ehlo()
        c.send(b"NOOP")          # no CRLF
        r = c.read_reply()
        assert (r.code, r.enh) == (421, "4.4.2"), r
        assert c.eof()


def test_idle_timeout_after_starttls(make_daemon):
    d = started(make_daemon, "smtp-timeout 2")
    with RawSMTP(d.ports["submission"]) as c:
        c.greet()
        c.ehlo()
        c.starttls()
        r = c.read_reply()
        assert (r.code, r.enh) == (421, "4.4.2"), r
        assert c.eof()


def test_data_timeout_inside_data(make_daemon):
    """data-timeout, not smtp-timeout, governs the wait for message
    bytes (docs/cachet.conf.md)."""
    d = started(make_daemon, "smtp-timeout 300\ndata-timeout 2",
                ["alice@example.org"])
    with raw(d) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: stalled\r\n\r\nhalf a mess")
        t0 = time.monotonic()
        r = c.read_reply()
        assert (r.code, r.enh) == (421, "4.4.2"), r
        assert time.monotonic() - t0 <= 8
        assert c.eof()
    assert d.message_ids() == []


def test_smtp_timeout_not_applied_inside_data(make_daemon):
    d = started(make_daemon, "smtp-timeout 2\ndata-timeout 30",
                ["alice@example.org"])
    with raw(d) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: slow\r\n\r\n")
        # longer than smtp-timeout, well inside data-timeout
        assert c.quiet(3.5), c.buf
        c.send(b"rest\r\n.\r\n")
        qid_reply = c.read_reply()
        assert qid_reply.code == 250, qid_reply
    assert len(d.message_ids()) == 1


def test_activity_resets_timeout(make_daemon):
    d = started(make_daemon, "smtp-timeout 2")
    with raw(d) as c:
        for _ in range(4):
            time.sleep(1)
            c.expect("NOOP", 250)


# --- connection limits ---

def open_greeted(port, n):
    conns = []
    for _ in range(n):
        c = RawSMTP(port)
        c.greet()
        conns.append(c)
    return conns


def refused_421(port):
    with RawSMTP(port) as c:
        r = c.read_reply()
        assert (r.code, r.enh) == (421, "4.7.0"), r
        assert c.eof()


def wait_greeting(port, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        with RawSMTP(port) as c:
            r = c.read_reply()
            if r.code == 220:
                return r
        if time.monotonic() > deadline:
            raise AssertionError(f"still refused: {r!r}")
        time.sleep(0.1)


def test_max_connections_per_ip(make_daemon):
    d = started(make_daemon, "max-connections-per-ip 3")
    port = d.ports["smtp"]
    conns = open_greeted(port, 3)
    try:
        refused_421(port)
        # the limit holds across listeners
        refused_421(d.ports["submission"])
        # and frees up when one leaves
        conns.pop().close()
        wait_greeting(port)
    finally:
        for c in conns:
            c.close()


def test_max_connections(make_daemon):
    d = started(make_daemon, "max-connections 2")
    conns = open_greeted(d.ports["smtp"], 1) + \
        open_greeted(d.ports["submission"], 1)
    try:
        refused_421(d.ports["smtp"])
        refused_421(d.ports["submission"])
        conns.pop(0).close()
        wait_greeting(d.ports["smtp"])
    finally:
        for c in conns:
            c.close()


def test_limits_survive_abrupt_disconnects(make_daemon):
    """Connections reset by the client give their slot back."""
    d = started(make_daemon, "max-connections-per-ip 3")
    port = d.ports["smtp"]
    for _ in range(10):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    conns = []
    try:
        deadline = time.monotonic() + 5
        while len(conns) < 3:
            c = RawSMTP(port)
            r = c.read_reply()
            if r.code == 220:
                conns.append(c)
                continue
            c.close()
            assert time.monotonic() < deadline, r
            time.sleep(0.1)
    finally:
        for c in conns:
            c.close()


@pytest.mark.parametrize("kind", ["smtp", "submission"])
def test_many_sequential_sessions(daemon, kind):
    for _ in range(30):
        with RawSMTP(daemon.ports[kind]) as c:
            c.greet()
            c.ehlo()
            c.expect("QUIT", 221)
    for name, v in daemon.status().items():
        assert v["restarts"] == 0, name
