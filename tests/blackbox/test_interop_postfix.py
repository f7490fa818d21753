"""Interoperability with a real Postfix as the sending MTA.

A private Postfix instance (postfix_peer.PostfixPeer: Debian's binaries as
installed, its own config directory, loopback only) accepts a message from
smtplib and relays it to cachet's port-25 listener through
relayhost=[127.0.0.1]:PORT with smtp_tls_security_level=encrypt, so the
hop must use STARTTLS (RFC 3207) or Postfix defers.  Checked: cachet
queued the message with the bytes Postfix sent (our Received:, Postfix's
Received:, then the client's bytes unchanged), our Received: header
records the TLS version, and Postfix's log shows the TLS session to
cachet and the 250 with cachet's queue id.

Needs root (Postfix's start-up) and the postfix package, which
scripts/install-deps installs: no skip when it is missing.
"""

import os
import re
import smtplib
import time

import pytest

from conftest import Daemon
from postfix_peer import PostfixPeer

HOST = "127.0.0.1"
BOB = "bob@example.org"
SENDER = "alice@example.net"
WAIT = 30               # seconds for Postfix to hand the message over

TLS_ESTABLISHED = (r"(Trusted|Untrusted|Anonymous|Verified) TLS connection "
                   r"established to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: "
                   r"(TLSv1\.[0-3])")


def message_7bit():
    """Headers a relay has no reason to add to (Date, Message-ID, From
    are there), and body lines that test transparency: leading dots
    (dot-stuffed on the wire, RFC 5321 §4.5.2), a line that is only a
    dot, "From " at a line start, trailing white space, a tab, a 998-octet
    line (the most RFC 5322 §2.1.1 allows, and what Postfix's
    smtp_line_length_limit still sends unbroken), empty lines."""
    lines = [
        b"Date: Sun, 23 Nov 2025 01:00:00 +0000",
        b"Message-ID: <interop-7bit.1@client.example.net>",
        b"From: Alice <alice@example.net>",
        b"To: Bob <bob@example.org>",
        b"Subject: Postfix to cachet over STARTTLS",
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=us-ascii",
        b"X-Folded: first part",
        b"\tsecond part",
        b"",
        b"From the start of a line.",
        b".leading dot",
        b"..two leading dots",
        b".",
        b"trailing spaces   ",
        b"a\ttab",
        b"",
        b"",
        b"y" * 998,
        b"last line",
    ]
    return b"\r\n".join(lines) + b"\r\n"


def message_8bit(size=300 * 1024):
    """An 8-bit (UTF-8) body sent with BODY=8BITMIME (RFC 6152), large
    enough to span many TLS records on the relay hop."""
    head = (b"Date: Sun, 23 Nov 2025 01:00:01 +0000\r\n"
            b"Message-ID: <interop-8bit.1@client.example.net>\r\n"
            b"From: Alice <alice@example.net>\r\n"
            b"To: Bob <bob@example.org>\r\n"
            b"Subject: 8bit\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n"
            b"\r\n")
    body = []
    n = 0
    total = len(head)
    while total < size:
        line = ("%06d Grüße aus Köln, ½ € — ñandú %s" % (n, "." * (n % 50))
                ).encode("utf-8") + b"\r\n"
        if n % 97 == 0:
            line = b"." + line
        body.append(line)
        total += len(line)
        n += 1
    return head + b"".join(body)


@pytest.fixture
def relay(daemon, request):
    """cachet with bob@example.org, and a Postfix relaying everything to
    cachet's smtp listener with mandatory TLS."""
    daemon.add_user(BOB, "hunter2")
    base = os.path.join(daemon.base, "postfix")
    os.mkdir(base)
    peer = PostfixPeer(base, host=HOST,
                       relayhost=f"[127.0.0.1]:{daemon.ports['smtp']}",
                       tls_level="encrypt")
    try:
        peer.start()
        yield peer
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(f"\n----- Postfix maillog ({peer.maillog}) -----")
            print(peer.log_tail(80))
        peer.stop()
    assert not peer.running()


def submit(peer, content, mail_options=()):
    """Hand a message to Postfix's smtpd; returns Postfix's queue id."""
    s = smtplib.SMTP(HOST, peer.port, local_hostname="client.example.net",
                     timeout=15)
    try:
        s.ehlo()
        code, resp = s.mail(SENDER, list(mail_options))
        assert code == 250, resp
        code, resp = s.rcpt(BOB)
        assert code == 250, resp
        code, resp = s.data(content)
        assert code == 250, resp
        m = re.search(rb"queued as ([0-9A-Za-z]+)", resp)
        assert m, resp
        s.quit()
    finally:
        s.close()
    return m.group(1).decode()


def wait_relayed(daemon, peer, pf_id):
    """Wait until Postfix logs the 250 from cachet for its message pf_id;
    return cachet's queue id from that reply.  Meanwhile poll cachet's
    queue, so a message that cachet queued but Postfix did not log is
    still reported.  A bounce fails at once; deferrals are retried until
    WAIT runs out."""
    port = daemon.ports["smtp"]
    sent = re.compile(
        re.escape(pf_id) + r": to=<" + re.escape(BOB) + r">, "
        r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:" + str(port) + r", .*"
        r"status=sent \(250 2\.0\.0 Ok: queued as (\S+)\)")
    bad = re.compile(re.escape(pf_id) + r": .*status=(deferred|bounced) "
                     r"\((.*)\)")
    deadline = time.time() + WAIT
    last, queue = None, []
    while time.time() < deadline:
        log = peer.log()
        m = sent.search(log)
        if m:
            return m.group(1)
        for b in bad.finditer(log):
            last = b.group(0)
            if b.group(1) == "bounced":
                pytest.fail(f"Postfix bounced the message: {last}")
        queue = daemon.queue_list()
        time.sleep(0.2)
    pytest.fail(f"Postfix did not relay {pf_id} to cachet in {WAIT} s; "
                f"last: {last}; cachet queue: {queue}")


def relay_and_fetch(daemon, peer, content, mail_options=()):
    pf_id = submit(peer, content, mail_options)
    qid = wait_relayed(daemon, peer, pf_id)
    # cachet's queue lists it (or has already delivered it to Bob's
    # Maildir, which queue_cat falls back to).
    listed = {m["id"]: m for m in daemon.queue_list()}
    if qid in listed:
        entry = listed[qid]
        assert entry["sender"] == SENDER, entry
        assert entry["rcpts"] == [BOB], entry
    ours, rest = daemon.stored(qid)
    theirs, client = Daemon.split_received(rest)
    return pf_id, qid, ours.decode(), theirs.decode(), client


def check_tls(peer, daemon, ours):
    """Postfix logged a TLS session to cachet; cachet's Received: names
    the same protocol version and says ESMTPS (RFC 3848)."""
    m = peer.wait_log(TLS_ESTABLISHED.format(port=daemon.ports["smtp"]),
                      timeout=5)
    version = m.group(2)
    assert version in ("TLSv1.2", "TLSv1.3"), m.group(0)
    assert "with ESMTPS " in ours, ours
    assert version in ours, (version, ours)


def test_postfix_relays_over_starttls_byte_identical(relay, daemon):
    content = message_7bit()
    pf_id, qid, ours, theirs, client = relay_and_fetch(daemon, relay,
                                                       content)
    # Our header first: it names Postfix's EHLO and cachet's queue id.
    assert ours.startswith(f"Received: from {relay.hostname} "), ours
    assert "[127.0.0.1]" in ours and "by mx.example.org" in ours, ours
    assert re.search(r"\bid " + re.escape(qid) + r"\b", ours), ours
    assert f"for <{BOB}>" in ours, ours
    # Then Postfix's, from its smtpd, with its own queue id.
    assert theirs.startswith("Received: from client.example.net "), theirs
    assert f"by {relay.hostname} (Postfix)" in theirs, theirs
    assert pf_id in theirs, theirs
    # Then exactly what the client sent.
    assert client == content
    check_tls(relay, daemon, ours)
    # Postfix is done with it: nothing left in its queue.
    relay.wait_queue_empty(timeout=10)


def test_postfix_relays_8bit_body_byte_identical(relay, daemon):
    content = message_8bit()
    _pf, _qid, ours, theirs, client = relay_and_fetch(
        daemon, relay, content, mail_options=["BODY=8BITMIME"])
    assert "(Postfix)" in theirs, theirs
    # No conversion to quoted-printable on the way: cachet announces
    # 8BITMIME, so Postfix passes the octets through (RFC 6152 §3).
    assert client == content
    check_tls(relay, daemon, ours)
