"""The spam checks smtp makes before DATA on port 25 (issue 15): the
greeting delay (smtp-greet-delay, a "220-" first and the last line after
the pause, never blocking the worker), early talkers refused with 554,
pipelining abuse scored as PIPELINING_ABUSE in the delivered message's
X-Spam-Status, and none of it for authenticated sessions."""

import smtplib
import socket
import time

from conftest import USERS, RawSMTP, wait_for

MSG = (b"From: sender@example.net\r\nTo: alice@example.org\r\n"
       b"Subject: lunch\r\n\r\nHello Alice, lunch on Tuesday?\r\n")


def started(make_daemon, extra=""):
    d = make_daemon(extra=extra)
    d.start()
    for addr, pw in USERS.items():
        d.add_user(addr, pw)
    return d


def read_lines_until(sock, done, timeout=15):
    """Reply lines as they arrive, each with its arrival time, until
    done(lines) or the server closes."""
    sock.settimeout(timeout)
    buf, lines = b"", []
    while not done(lines):
        try:
            d = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not d:
            break
        buf += d
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            lines.append((time.monotonic(), line))
    return lines


def final_220(lines):
    return any(line.startswith(b"220 ") for _, line in lines)


def spam_status(msg):
    head = msg.split(b"\n\n", 1)[0].replace(b"\n\t", b" ").replace(
        b"\n ", b" ")
    for line in head.split(b"\n"):
        if line.lower().startswith(b"x-spam-status:"):
            return line.decode()
    return None


def test_greeting_waits_for_the_delay(make_daemon):
    d = started(make_daemon, "smtp-greet-delay 2s\n")
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", d.ports["smtp"]), timeout=15)
    try:
        lines = read_lines_until(s, final_220)
    finally:
        s.close()
    assert [line[:4] for _, line in lines] == [b"220-", b"220 "], lines
    teaser, final = lines[0][0], lines[1][0]
    assert final - t0 >= 1.9, final - t0
    # the teaser came at once, the last line only after the pause
    assert final - teaser >= 1.0, (teaser - t0, final - t0)


def test_greet_delay_does_not_block_the_worker(make_daemon):
    """One smtp worker, three port 25 clients waiting at once: each gets
    its greeting after one delay, not three; submission (no delay) is
    greeted meanwhile."""
    d = started(make_daemon, "smtp-greet-delay 2s\nsmtp-workers 1\n")
    t0 = time.monotonic()
    socks = [socket.create_connection(("127.0.0.1", d.ports["smtp"]),
                                      timeout=15) for _ in range(3)]
    try:
        with RawSMTP(d.ports["submission"]) as sub:
            r = sub.greet()
            t_sub = time.monotonic() - t0
            assert r.raw.startswith(b"220 "), r
        ends = []
        for s in socks:
            lines = read_lines_until(s, final_220)
            assert final_220(lines), lines
            ends.append(lines[-1][0] - t0)
    finally:
        for s in socks:
            s.close()
    assert t_sub < 1.5, t_sub
    assert min(ends) >= 1.9 and max(ends) < 4.5, ends


def test_early_talker_refused_nothing_accepted(make_daemon):
    d = started(make_daemon, "smtp-greet-delay 2s\n")
    s = socket.create_connection(("127.0.0.1", d.ports["smtp"]), timeout=15)
    try:
        # the whole transaction at once, without reading the greeting
        s.sendall(b"EHLO bot.example.net\r\nMAIL FROM:<x@example.net>\r\n"
                  b"RCPT TO:<alice@example.org>\r\nDATA\r\n" + MSG +
                  b".\r\nQUIT\r\n")
        lines = read_lines_until(s, lambda ls: False)
    finally:
        s.close()
    codes = [line[:4] for _, line in lines]
    assert codes[-1] == b"554 ", lines
    assert lines[-1][1].startswith(b"554 5.7.1 ") and \
        b"before the greeting" in lines[-1][1], lines
    assert b"220 " not in codes and b"250 " not in codes, lines
    assert wait_for(lambda: "event=pregreet result=reject" in d.read_log(),
                    10), d.log_tail()
    # a client that waits is greeted and served as usual
    s = smtplib.SMTP(timeout=15, local_hostname="client.example.net")
    try:
        s.connect("127.0.0.1", d.ports["smtp"])
        s.ehlo()
        s.sendmail("sender@example.net", ["alice@example.org"], MSG)
    finally:
        s.quit()
    msgs = wait_for(lambda: d.maildir_new("alice@example.org"), 20)
    assert len(msgs) == 1 and b"lunch on Tuesday" in msgs[0]
    time.sleep(0.5)
    assert len(d.maildir_new("alice@example.org")) == 1
    assert d.queue_ids() == []


def test_pipelining_abuse_scored(make_daemon):
    d = started(make_daemon)
    # a client that waits for each reply: no points
    s = smtplib.SMTP(timeout=15, local_hostname="client.example.net")
    try:
        s.connect("127.0.0.1", d.ports["smtp"])
        s.sendmail("sender@example.net", ["alice@example.org"], MSG)
    finally:
        s.quit()
    # one that sends the whole transaction after EHLO, in one write
    with RawSMTP(d.ports["smtp"]) as c:
        c.greet()
        c.send(b"EHLO bot.example.net\r\nMAIL FROM:<sender@example.net>\r\n"
               b"RCPT TO:<alice@example.org>\r\nDATA\r\n" +
               MSG.replace(b"lunch on Tuesday", b"pipelined") + b".\r\n")
        r = c.read_reply()
        assert r.code == 250 and r.lines[0] == "mx.example.org", r
        c.expect(None, 250, "2.1.0")
        c.expect(None, 250, "2.1.5")
        c.expect(None, 354)
        # points, not a refusal: the message is taken
        c.expect(None, 250, "2.0.0")
        c.expect("QUIT", 221)
    msgs = wait_for(lambda: (lambda m: m if len(m) == 2 else None)(
        d.maildir_new("alice@example.org")), 20)
    assert msgs, d.log_tail()
    by_body = {b"pipelined" in m: m for m in msgs}
    bad, good = spam_status(by_body[True]), spam_status(by_body[False])
    assert bad is not None and "PIPELINING_ABUSE=3.0" in bad, bad
    assert good is not None and "PIPELINING_ABUSE" not in good, good


def login_and_bunch(c, subject):
    """AUTH, then a whole transaction in one write: all of it taken."""
    c.ehlo()
    c.expect("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==", 235)
    c.send(b"EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\n"
           b"RCPT TO:<bob@example.org>\r\nDATA\r\n"
           b"From: alice@example.org\r\nSubject: " + subject +
           b"\r\n\r\nhi\r\n.\r\n")
    c.expect(None, 250)
    c.expect(None, 250, "2.1.0")
    c.expect(None, 250, "2.1.5")
    c.expect(None, 354)
    c.expect(None, 250, "2.0.0")
    c.expect("QUIT", 221)


def test_authenticated_sessions_skip_it(make_daemon):
    """Submission is greeted at once and an authenticated client may
    bunch its commands: no delay, no refusal, no points."""
    d = started(make_daemon, "smtp-greet-delay 2s\n"
                "plaintext-auth-loopback yes\n")
    t0 = time.monotonic()
    with RawSMTP(d.ports["submission"]) as c:
        r = c.greet()
        assert time.monotonic() - t0 < 1.5
        assert r.raw.startswith(b"220 "), r
        login_and_bunch(c, b"sub")
    # port 25 with AUTH: after the delay, then the same bunching
    with RawSMTP(d.ports["smtp"]) as c:
        r = c.greet()
        assert r.raw.startswith(b"220-"), r
        login_and_bunch(c, b"mx")
    msgs = wait_for(lambda: (lambda m: m if len(m) == 2 else None)(
        d.maildir_new("bob@example.org")), 20)
    assert msgs, d.log_tail()
    for m in msgs:
        assert b"X-Spam-" not in m and b"PIPELINING_ABUSE" not in m, m
    assert "event=pregreet" not in d.read_log()


LISTS = """
5.0.0.127.bl.test.   60 IN A   127.0.0.2
5.0.0.127.bl.test.   60 IN TXT "listed for the test"
example.net.         60 IN MX  10 mx.example.net.
mx.example.net.      60 IN A   127.0.0.9
"""


class SourcedSMTP(RawSMTP):
    """RawSMTP from a chosen loopback address (127.0.0.x)."""

    def __init__(self, port, source):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=15,
                                             source_address=(source, 0))
        self.buf = b""


def client(d, source, helo="client.example.net"):
    c = SourcedSMTP(d.ports["smtp"], source)
    c.greet()
    c.ehlo(helo)
    return c


def test_rcpt_refused_for_a_listed_client(make_daemon):
    """A dnsbl listing without a weight refuses every RCPT of the
    session, after MAIL was taken and before anything is queued; a
    client the list does not name goes through."""
    from dnsserver import DNSServer
    with DNSServer(LISTS) as dns:
        d = started(make_daemon, f"resolver {dns.addr}\ndnsbl bl.test\n")
        with client(d, "127.0.0.5") as c:
            c.expect("MAIL FROM:<sender@example.net>", 250, "2.1.0")
            for rcpt in ("alice@example.org", "bob@example.org"):
                r = c.expect(f"RCPT TO:<{rcpt}>", 554, "5.7.1")
                assert "bl.test" in r.text and "127.0.0.5" in r.text, r
            # an unknown user is still told so first
            c.expect("RCPT TO:<nobody@example.org>", 550, "5.1.1")
            c.expect("DATA", 554)
            c.expect("RSET", 250)
            c.expect("MAIL FROM:<other@example.net>", 250, "2.1.0")
            c.expect("RCPT TO:<alice@example.org>", 554, "5.7.1")
        with client(d, "127.0.0.6") as c:
            mail_ok(c)
        log = d.read_log()
        assert "result=reject reason=prescreen-client" in log, log[-3000:]
        msgs = wait_for(lambda: d.maildir_new("alice@example.org"), 20)
        assert len(msgs) == 1 and b"lunch on Tuesday" in msgs[0]
        assert d.maildir_new("bob@example.org") == []


def mail_ok(c, sender="sender@example.net"):
    c.expect(f"MAIL FROM:<{sender}>", 250, "2.1.0")
    c.expect("RCPT TO:<alice@example.org>", 250, "2.1.5")
    c.expect("DATA", 354)
    c.send(MSG + b".\r\n")
    c.expect(None, 250, "2.0.0")


def test_sender_refusal_is_for_its_transaction(make_daemon):
    """sender-domain-check reject: RCPT of a transaction whose sender
    domain does not exist gets 550 5.1.8; the next transaction of the
    same session, with a real domain, is taken."""
    from dnsserver import DNSServer
    with DNSServer(LISTS) as dns:
        d = started(make_daemon, f"resolver {dns.addr}\n"
                    "sender-domain-check reject\n")
        with client(d, "127.0.0.7") as c:
            c.expect("MAIL FROM:<x@nowhere.invalid>", 250, "2.1.0")
            r = c.expect("RCPT TO:<alice@example.org>", 550, "5.1.8")
            assert "Domain not found" in r.text, r
            c.expect("RSET", 250)
            mail_ok(c)
        assert "reason=prescreen-sender" in d.read_log()
        msgs = wait_for(lambda: d.maildir_new("alice@example.org"), 20)
        assert len(msgs) == 1
