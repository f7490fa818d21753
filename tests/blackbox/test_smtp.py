"""SMTP on the port 25 listener, black-box: the real cachetd, talked to
with smtplib, raw sockets and swaks.  The contract is the one in
src/smtp/smtp_session.h and docs/cachet.conf.md.  Each test starts its own
daemon."""

import re
import smtplib
import subprocess

import pytest

from conftest import (RawSMTP, dot_stuff, ehlo_keywords,
                      mail_transaction, queued_id)

HOST = "127.0.0.1"
TIMEOUT = 10

# A message exercising what must come back unchanged: folded headers,
# 8-bit UTF-8, tabs, trailing blanks, empty lines, a line of 998 octets
# (the most RFC 5321 §4.5.3.1.6 allows), a lone "." and a line of dots
# (which travel dot-stuffed).
MESSAGE = (
    b"From: Sender <sender@example.net>\r\n"
    b"To: Alice <alice@example.org>\r\n"
    b"Subject: =?utf-8?q?byte_identical?=\r\n"
    b"X-Folded: first part\r\n"
    b"\tsecond part\r\n"
    b"Message-ID: <bytes.1@example.net>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln \xe2\x82\xac\r\n"
    b"\ttab indented   \r\n"
    b"\r\n"
    b"\r\n"
    b".\r\n"
    b"...\r\n"
    b".leading dot\r\n"
    + b"x" * 998 + b"\r\n"
    b"last line\r\n"
)


def smtp_client(port):
    return smtplib.SMTP(HOST, port, local_hostname="client.example.net",
                        timeout=TIMEOUT)


def raw(daemon, kind="smtp"):
    c = RawSMTP(daemon.ports[kind])
    c.greet()
    return c


# --- greeting and EHLO ---

def test_greeting_names_host(daemon):
    with RawSMTP(daemon.ports["smtp"]) as c:
        r = c.greet()
        assert r.lines[0].startswith("mx.example.org "), r
        assert "ESMTP" in r.text


def test_ehlo_keywords_port25(daemon):
    with raw(daemon) as c:
        r = c.ehlo()
        assert r.lines[0].split()[0] == "mx.example.org", r
        kw = ehlo_keywords(r)
        for k in ["PIPELINING", "8BITMIME", "SMTPUTF8",
                  "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "STARTTLS"]:
            assert k in kw, (k, r)
        # RFC 1870: SIZE with the configured maximum (default 35M)
        assert kw.get("SIZE") == str(35 * 1024 * 1024), r
        # no password in the clear (RFC 4954 §4)
        assert "AUTH" not in kw, r


def test_helo_gets_plain_250(daemon):
    with raw(daemon) as c:
        r = c.expect("HELO client.example.net", 250)
        assert len(r.lines) == 1 and r.lines[0].startswith("mx.example.org")


def test_noop_rset_help_quit(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("NOOP", 250, "2.0.0")
        c.expect("RSET", 250, "2.0.0")
        c.expect("HELP", 214)
        c.expect("QUIT", 221, "2.0.0")
        assert c.eof()


# --- messages stored byte for byte ---

def test_message_stored_byte_identical_smtplib(mx):
    s = smtp_client(mx.ports["smtp"])
    try:
        code, _ = s.ehlo()
        assert code == 250
        code, resp = s.mail("sender@example.net", ["BODY=8BITMIME"])
        assert code == 250, resp
        code, resp = s.rcpt("alice@example.org")
        assert code == 250, resp
        code, resp = s.data(MESSAGE)
        assert code == 250, resp
        m = re.match(rb"2\.0\.0 Ok: queued as (\S+)$", resp)
        assert m, resp
        qid = m.group(1).decode()
        s.quit()
    finally:
        s.close()
    received, body = mx.stored(qid)
    assert body == MESSAGE
    assert qid in received.decode()


def test_dot_stuffed_lines_come_back_unstuffed(mx):
    content = (b"Subject: dots\r\n\r\n"
               b".\r\n..\r\n.x\r\n..y\r\n. \r\nend\r\n")
    wire = (b"Subject: dots\r\n\r\n"
            b"..\r\n...\r\n..x\r\n...y\r\n.. \r\nend\r\n.\r\n")
    assert dot_stuff(content) == wire
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               content, wire=wire)
        c.expect("QUIT", 221)
    _, body = mx.stored(qid)
    assert body == content


def test_received_header(mx):
    with raw(mx) as c:
        c.ehlo("client.example.net")
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               b"Subject: r\r\n\r\nhi\r\n")
    received, body = mx.stored(qid)
    text = received.decode()
    assert text.startswith("Received: from client.example.net "), text
    assert "[127.0.0.1]" in text
    assert "by mx.example.org" in text
    assert re.search(r"with ESMTP id " + re.escape(qid) + r"\b", text), text
    assert "for <alice@example.org>" in text
    # a date in RFC 5322 form ends it
    assert re.search(r"; ?\s*\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d "
                     r"\+0000\r\n$", text), text
    # no TLS on this one
    assert "TLS" not in text
    assert body == b"Subject: r\r\n\r\nhi\r\n"


def test_queue_lists_envelope(mx):
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "s@example.net",
                               ["alice@example.org", "bob@example.org"],
                               b"Subject: q\r\n\r\nhi\r\n")
    # Listed while queued, or read back from the delivered copies.
    e = mx.envelope(qid)
    assert e["sender"] in ("s@example.net", "<s@example.net>"), e
    assert e["rcpts"] == ["alice@example.org", "bob@example.org"], e


def test_null_sender_accepted_on_port25(mx):
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "", ["alice@example.org"],
                               b"Subject: bounce\r\n\r\nundeliverable\r\n")
    _, body = mx.stored(qid)
    assert body == b"Subject: bounce\r\n\r\nundeliverable\r\n"
    assert mx.envelope(qid)["sender"] == "<>"


def test_two_messages_one_session(mx):
    with raw(mx) as c:
        c.ehlo()
        a = mail_transaction(c, "s@example.net", ["alice@example.org"],
                             b"Subject: one\r\n\r\n1\r\n")
        b = mail_transaction(c, "s@example.net", ["bob@example.org"],
                             b"Subject: two\r\n\r\n2\r\n")
    assert a != b
    assert mx.stored(a)[1] == b"Subject: one\r\n\r\n1\r\n"
    assert mx.stored(b)[1] == b"Subject: two\r\n\r\n2\r\n"


def test_rset_drops_transaction(mx):
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250, "2.1.0")
        c.expect("RCPT TO:<alice@example.org>", 250, "2.1.5")
        c.expect("RSET", 250, "2.0.0")
        c.expect("DATA", 503, "5.5.1")
    assert mx.message_ids() == []


# --- PIPELINING (RFC 2920) ---

def test_pipelined_session_in_one_write(mx):
    content = b"Subject: pipelined\r\n\r\nbody\r\n"
    with RawSMTP(mx.ports["smtp"]) as c:
        c.greet()
        c.send(b"EHLO client.example.net\r\n"
               b"MAIL FROM:<s@example.net>\r\n"
               b"RCPT TO:<alice@example.org>\r\n"
               b"RCPT TO:<bob@example.org>\r\n"
               b"DATA\r\n")
        r = c.read_reply()
        assert r.code == 250 and "PIPELINING" in ehlo_keywords(r), r
        r = c.read_reply()
        assert (r.code, r.enh) == (250, "2.1.0"), r
        r = c.read_reply()
        assert (r.code, r.enh) == (250, "2.1.5"), r
        r = c.read_reply()
        assert (r.code, r.enh) == (250, "2.1.5"), r
        r = c.read_reply()
        assert r.code == 354, r
        c.send(dot_stuff(content) + b"QUIT\r\n")
        qid = queued_id(c.read_reply())
        r = c.read_reply()
        assert r.code == 221, r
        assert c.eof()
        assert c.buf == b""
    _, body = mx.stored(qid)
    assert body == content
    assert mx.envelope(qid)["rcpts"] == [
        "alice@example.org", "bob@example.org"]


def test_pipelined_refusals_keep_order(mx):
    content = b"Subject: mixed\r\n\r\nbody\r\n"
    with RawSMTP(mx.ports["smtp"]) as c:
        c.greet()
        c.send(b"EHLO client.example.net\r\n"
               b"MAIL FROM:<s@example.net>\r\n"
               b"RCPT TO:<alice@example.org>\r\n"
               b"RCPT TO:<nosuchuser@example.org>\r\n"
               b"RCPT TO:<victim@elsewhere.example>\r\n"
               b"FROB\r\n"
               b"RCPT TO:<bob@example.org>\r\n"
               b"DATA\r\n" + dot_stuff(content) + b"NOOP\r\nQUIT\r\n")
        want = [(250, None), (250, "2.1.0"), (250, "2.1.5"),
                (550, "5.1.1"), (550, "5.7.1"), (500, "5.5.1"),
                (250, "2.1.5"), (354, None)]
        for code, enh in want:
            r = c.read_reply()
            assert r.code == code, (code, enh, r)
            if enh:
                assert r.enh == enh, (code, enh, r)
        qid = queued_id(c.read_reply())
        c.expect(None, 250, "2.0.0")
        c.expect(None, 221)
        assert c.eof() and c.buf == b""
    assert mx.envelope(qid)["rcpts"] == [
        "alice@example.org", "bob@example.org"]


# --- CHUNKING (RFC 3030) ---

def test_bdat_chunks_stored_byte_identical(mx):
    # BDAT content is raw: dots are not stuffed, ".\r\n" does not end it.
    content = (b"Subject: chunked\r\n\r\n"
               b"line one\r\n.\r\n..two dots\r\n"
               b"\xc3\xa9t\xc3\xa9\r\nlast\r\n")
    first, rest = content[:10], content[10:]
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net> BODY=8BITMIME", 250, "2.1.0")
        c.expect("RCPT TO:<alice@example.org>", 250, "2.1.5")
        c.send(b"BDAT 10\r\n" + first)
        r = c.expect(None, 250, "2.0.0")
        assert "10" in r.text
        c.send(f"BDAT {len(rest)} LAST\r\n".encode() + rest)
        qid = queued_id(c.read_reply())
        c.expect("NOOP", 250)
    _, body = mx.stored(qid)
    assert body == content


def test_bdat_pipelined_with_empty_last(mx):
    content = b"Subject: bdat pipelined\r\n\r\n" + b"0123456789" * 50 + \
        b"\r\n"
    a, b = content[:100], content[100:]
    with RawSMTP(mx.ports["smtp"]) as c:
        c.greet()
        c.send(b"EHLO client.example.net\r\n"
               b"MAIL FROM:<s@example.net>\r\n"
               b"RCPT TO:<alice@example.org>\r\n"
               + f"BDAT {len(a)}\r\n".encode() + a
               + f"BDAT {len(b)}\r\n".encode() + b
               + b"BDAT 0 LAST\r\nQUIT\r\n")
        c.expect(None, 250)
        c.expect(None, 250, "2.1.0")
        c.expect(None, 250, "2.1.5")
        c.expect(None, 250, "2.0.0")
        c.expect(None, 250, "2.0.0")
        qid = queued_id(c.read_reply())
        c.expect(None, 221)
    _, body = mx.stored(qid)
    assert body == content


def test_bdat_then_data_refused(mx):
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.send(b"BDAT 4\r\nab\r\n")
        c.expect(None, 250, "2.0.0")
        c.expect("DATA", 503, "5.5.1")


# --- SMTPUTF8 (RFC 6531) ---

def test_smtputf8_sender_accepted(mx):
    content = ("From: J\u00f6rg <j\u00f6rg@example.net>\r\n"
               "Subject: Gr\u00fc\u00dfe\r\n\r\nHallo\r\n").encode()
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "j\u00f6rg@example.net",
                               ["alice@example.org"], content,
                               mail_params="SMTPUTF8 BODY=8BITMIME")
    received, body = mx.stored(qid)
    assert body == content
    assert b"UTF8SMTP" in received, received


def test_utf8_sender_without_smtputf8_refused(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("MAIL FROM:<j\u00f6rg@example.net>", 553, "5.6.7")
        # and the session goes on
        c.expect("MAIL FROM:<joerg@example.net>", 250, "2.1.0")
        c.expect("RCPT TO:<j\u00f6rg@example.org>", 553, "5.6.7")


# --- error replies ---

def test_unknown_command(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("FROBNICATE now", 500, "5.5.1")
        c.expect("NOOP", 250)


def test_mail_before_ehlo(daemon):
    with raw(daemon) as c:
        c.expect("MAIL FROM:<s@example.net>", 503, "5.5.1")


def test_rcpt_before_mail(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("RCPT TO:<alice@example.org>", 503, "5.5.1")


def test_data_before_mail(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("DATA", 503, "5.5.1")


def test_data_before_rcpt(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250, "2.1.0")
        c.expect("DATA", 503, "5.5.1")
        # the DATA was not taken: what follows is still a command
        c.expect("NOOP", 250)


def test_nested_mail(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("MAIL FROM:<t@example.net>", 503, "5.5.1")


@pytest.mark.parametrize("line", [
    "MAIL FROM s@example.net",
    "MAIL FROM:<s@example.net",
    "MAIL FROM:s@@example.net",
    "MAIL FROM:<s@example.net>junk",
    "MAIL FROM:<s@example.net> SIZE=abc",
    "MAIL FROM:<s@example.net> BODY=9BIT",
    "MAIL FROM:<s@example.net> SIZE=1 SIZE=2",
    "MAIL FROM:<s@example.net> SMTPUTF8=yes",
    "MAIL FROM:<s@example.net> RET=NONE",
    "EHLO",
    "RSET now",
    "VRFY",
    "STARTTLS now",
])
def test_syntax_errors_501(daemon, line):
    with raw(daemon) as c:
        if not line.startswith("EHLO"):
            c.ehlo()
        r = c.cmd(line)
        assert r.code == 501, (line, r)
        assert r.enh and r.enh.startswith("5.")
        c.expect("NOOP", 250)


def test_rcpt_syntax_errors_501(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        for line in ["RCPT TO alice@example.org", "RCPT TO:<alice@",
                     "RCPT TO:<>", "RCPT TO:<a@example.org> NOTIFY=SOMETIMES",
                     "RCPT TO:<a@example.org> NOTIFY=NEVER,SUCCESS"]:
            r = c.cmd(line)
            assert r.code == 501, (line, r)


def test_unknown_mail_parameter_555(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net> FROB=1", 555, "5.5.4")
        c.expect("MAIL FROM:<s@example.net> BODY=BINARYMIME", 555, "5.5.4")
        c.expect("MAIL FROM:<s@example.net> SIZE=100 BODY=8BITMIME "
                 "RET=HDRS ENVID=abc+2Bdef", 250, "2.1.0")
        c.expect("RCPT TO:<alice@example.org> FROB=1", 555, "5.5.4")


def test_unknown_local_user(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<nosuchuser@example.org>", 550, "5.1.1")
        # every recipient refused: DATA says so
        c.expect("DATA", 554, "5.5.1")


def test_known_user_case_insensitive_domain(mx):
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@EXAMPLE.ORG>", 250, "2.1.5")


def test_vrfy_252(daemon):
    with raw(daemon) as c:
        c.ehlo()
        # neither confirmed nor denied, for users and non-users alike
        a = c.expect("VRFY alice@example.org", 252)
        b = c.expect("VRFY nosuchuser@example.org", 252)
        assert a.raw == b.raw


def test_expn_502(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("EXPN staff", 502, "5.5.1")


def test_too_many_errors_421(daemon):
    """Default max-errors 10: the 10th failed command ends the session."""
    with raw(daemon) as c:
        c.ehlo()
        for i in range(1, 10):
            c.expect(f"BOGUS{i}", 500, "5.5.1")
        r = c.cmd("BOGUS10")
        if r.code == 500:
            r = c.read_reply()
        assert (r.code, r.enh) == (421, "4.7.0"), r
        assert c.eof()
        assert c.buf == b"", c.buf


def test_too_many_errors_pipelined(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.send(b"".join(b"BOGUS%d\r\n" % i for i in range(15)))
        n500 = 0
        while True:
            r = c.read_reply()
            if r.code != 500:
                break
            n500 += 1
        assert (r.code, r.enh) == (421, "4.7.0"), r
        assert n500 in (9, 10), n500
        assert c.eof()
        assert c.buf == b"", c.buf


# --- open relay (port 25 without TLS) ---

RELAY_EXACT = ["bob@elsewhere.example", "bob@ELSEWHERE.EXAMPLE",
               "bob@sub.example.org", "bob@example.org.elsewhere.example"]
RELAY_TRICKS = [
    "@example.org:bob@elsewhere.example",     # source route (§C)
    "bob%elsewhere.example@example.org",      # percent hack
    "\"bob@elsewhere.example\"@example.org",  # quoted local part
    "bob@elsewhere.example@example.org",
    "bob@[192.0.2.1]",
    "bob@[IPv6:2001:db8::1]",
    "bob!elsewhere.example@example.org",      # UUCP bang path
    "elsewhere.example!bob",
    "bob@localhost",
    "postmaster@elsewhere.example",
]


def relay_attempt(daemon, sender, rcpt, kind="smtp"):
    """One connection per attempt: refusals count toward max-errors."""
    with raw(daemon, kind) as c:
        c.ehlo()
        c.expect(f"MAIL FROM:<{sender}>", 250, "2.1.0")
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        d = c.cmd("DATA")
        assert d.code in (503, 554) or r.code == 250, (rcpt, d)
        return r


@pytest.mark.parametrize("sender", ["s@example.net", "alice@example.org",
                                    ""], ids=["foreign", "local", "null"])
def test_no_open_relay_port25(mx, sender):
    for rcpt in RELAY_EXACT:
        r = relay_attempt(mx, sender, rcpt)
        assert (r.code, r.enh) == (550, "5.7.1"), (rcpt, r)
    for rcpt in RELAY_TRICKS:
        r = relay_attempt(mx, sender, rcpt)
        assert r.code >= 500, (rcpt, r)
    assert mx.message_ids() == []


def test_no_relay_with_auth_param_unauthenticated(mx):
    """MAIL AUTH= from an unauthenticated client grants nothing."""
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@example.org> AUTH=alice@example.org",
                 250, "2.1.0")
        c.expect("RCPT TO:<bob@elsewhere.example>", 550, "5.7.1")


# --- SMTP smuggling: only CRLF.CRLF ends DATA; bare CR/LF refused ---

SMUGGLE = [b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\r",
           b"\r.\r\n", b"\n..\n"]


@pytest.mark.parametrize("sep", SMUGGLE, ids=lambda s: repr(s)[2:-1])
def test_smuggling_refused(mx, sep):
    smuggled = (b"MAIL FROM:<admin@example.org>\r\n"
                b"RCPT TO:<bob@example.org>\r\n"
                b"DATA\r\n"
                b"From: admin@example.org\r\nSubject: smuggled\r\n\r\n"
                b"evil")
    wire = (b"From: s@example.net\r\nSubject: cover\r\n\r\nhello"
            + sep + smuggled + b"\r\n.\r\n")
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(wire)
        c.expect(None, 554, "5.6.0")
        # nothing was read as commands: no further reply is pending
        assert c.quiet(0.5), c.buf
        # and the session goes on: a proper message is accepted
        content = b"Subject: proper\r\n\r\nfine\r\n"
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               content)
        c.expect("QUIT", 221)
    ids = mx.message_ids()
    assert ids == [qid], ids
    assert mx.stored(qid)[1] == content


@pytest.mark.parametrize("bad", [b"bare\rCR inside\r\n",
                                 b"bare LF\ninside\r\n",
                                 b"ends in CR\r"],
                         ids=["cr", "lf", "trailing-cr"])
def test_bare_cr_lf_in_body_refused(mx, bad):
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: bare\r\n\r\n" + bad + b"\r\n.\r\n")
        c.expect(None, 554, "5.6.0")
        c.expect("NOOP", 250)
    assert mx.message_ids() == []


def test_bare_lf_in_bdat_refused(mx):
    body = b"Subject: bdat\r\n\r\nbare\nLF\r\n"
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.send(f"BDAT {len(body)} LAST\r\n".encode() + body)
        c.expect(None, 554, "5.6.0")
        c.expect("NOOP", 250)
    assert mx.message_ids() == []


def test_bare_lf_command_refused(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.send(b"NOOP\n")
        c.expect(None, 500, "5.5.2")
        c.expect("NOOP", 250)


# --- mail loops (RFC 5321 §6.3) ---

def received_lines(n):
    return b"".join(
        b"Received: from hop%d.example.net by relay%d.example.net; "
        b"Thu, 1 Jan 2026 00:00:00 +0000\r\n" % (i, i) for i in range(n))


def test_100_received_accepted(mx):
    content = received_lines(100) + b"Subject: far\r\n\r\nbody\r\n"
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               content)
    assert mx.stored(qid)[1] == content


def test_101_received_refused(mx):
    content = received_lines(101) + b"Subject: loop\r\n\r\nbody\r\n"
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(content))
        c.expect(None, 554, "5.4.6")
        c.expect("NOOP", 250)
    assert mx.message_ids() == []


def test_received_lines_in_body_do_not_count(mx):
    content = (b"Subject: quoting\r\n\r\n" + received_lines(150))
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               content)
    assert mx.stored(qid)[1] == content


# --- swaks, a real client ---

def swaks(*args):
    return subprocess.run(["swaks", "--timeout", "10", *args],
                          capture_output=True, text=True, timeout=60)


def test_swaks_plain(mx):
    r = swaks("--server", f"{HOST}:{mx.ports['smtp']}",
              "--helo", "client.example.net",
              "--from", "sender@example.net", "--to", "alice@example.org")
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"<[-~]* +250 2\.0\.0 Ok: queued as (\S+)", r.stdout)
    assert m, r.stdout
    assert m.group(1) in mx.message_ids()


def test_swaks_pipelining(mx):
    r = swaks("--server", f"{HOST}:{mx.ports['smtp']}", "--pipeline",
              "--from", "sender@example.net",
              "--to", "alice@example.org,bob@example.org")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "queued as" in r.stdout


def test_swaks_relay_refused(mx):
    r = swaks("--server", f"{HOST}:{mx.ports['smtp']}",
              "--from", "sender@example.net",
              "--to", "victim@elsewhere.example")
    assert r.returncode != 0
    assert "550 5.7.1" in r.stdout, r.stdout
    assert mx.message_ids() == []

