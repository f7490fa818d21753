"""Interop: cachet delivers to a real Postfix (Debian's package, a private
instance from postfix_peer.py) found through the test DNS server, over
STARTTLS.  Postfix relays what it receives to a recording peer, so the
bytes can be compared: after Postfix's own Received: header, the message
must be exactly what cachet had in its queue.  Postfix's log must show
the TLS session.  Runs as root."""

import os
import re
import time

import pytest

from postfix_peer import PostfixPeer
from smtppeer import make_cert
from test_outbound import (ALICE, CONTENT, dns, out, servers,  # noqa: F401
                           submit, wait_for)

PF_HOST = "127.0.0.6"
SINK_HOST = "127.0.0.7"

ZONE = f"""
example.net.      1 IN MX 10 mx.example.net.
mx.example.net.   1 IN A  {PF_HOST}
"""

EIGHTBIT = ("From: Alice <alice@example.org>\r\n"
            "To: Bob <bob@example.net>\r\n"
            "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Un café, s'il vous plaît.\r\n"
            "..two dots\r\n").encode()


@pytest.fixture
def postfix(tmpbase, servers):  # noqa: F811
    sink = servers(SINK_HOST)
    cert, key = make_cert(tmpbase, "mx.example.net")
    base = os.path.join(tmpbase, "postfix")
    os.makedirs(base)
    pf = PostfixPeer(base=base, host=PF_HOST,
                     port=25, hostname="mx.example.net",
                     relayhost=f"[{SINK_HOST}]:25", tls_level="none",
                     # Postfix binds only configured addresses for
                     # inet_interfaces; master.cf's 127.0.0.6:25 binds.
                     extra={"inet_interfaces": "127.0.0.1",
                            "smtpd_tls_security_level": "may",
                            "smtpd_tls_cert_file": cert,
                            "smtpd_tls_key_file": key,
                            "smtpd_tls_loglevel": "1"})
    pf.start()
    yield pf, sink
    pf.stop()


def held_bytes(d, qid):
    r = d.ctl_raw("queue", "cat", qid)
    assert r.returncode == 0, r.stderr
    return r.stdout


def release(d):
    """Restart d without delivery-hold."""
    d.stop()
    with open(d.conf) as f:
        text = f.read().replace("delivery-hold yes\n", "")
    with open(d.conf, "w") as f:
        f.write(text)
    d.start()


def strip_first_header(raw):
    """Postfix's Received: header (with its folded lines) and the rest."""
    assert raw.startswith(b"Received: "), raw[:200]
    pos = 0
    while True:
        eol = raw.index(b"\r\n", pos)
        pos = eol + 2
        if raw[pos:pos + 1] not in (b" ", b"\t"):
            return raw[:pos], raw[pos:]


def test_delivers_to_postfix_over_starttls_byte_identical(out, postfix):  # noqa: F811,E501
    pf, sink = postfix
    d = out(zone=ZONE, hold=True)
    a = submit(d, ["bob@example.net"])
    b = submit(d, ["carol@example.net"], content=EIGHTBIT,
               mail_options=["BODY=8BITMIME"])
    stored = {a: held_bytes(d, a), b: held_bytes(d, b)}
    release(d)
    msgs = sink.wait(2, timeout=60)
    assert wait_for(lambda: d.queue_ids() == [], 30), d.ctl("queue").stdout
    got = {}
    for m in msgs:
        theirs, rest = strip_first_header(m["data"])
        assert b"by mx.example.net (Postfix)" in theirs, theirs
        found = re.search(rb" id ([0-9a-f]{16})\b", rest)
        assert found, m["data"][:600].decode("latin-1")
        qid = found.group(1).decode()
        got[qid] = rest
        assert m["rcpts"] == (["bob@example.net"] if qid == a
                              else ["carol@example.net"])
        assert m["from"] == ALICE
    assert got == stored
    assert stored[b].endswith(EIGHTBIT)
    # Postfix saw TLS from us, and we logged it
    pf.wait_log(r"TLS connection established from \S*\[127\.0\.0\.1\]: "
                r"TLSv1\.[23] with cipher")
    log = d.read_log()
    for qid in (a, b):
        assert re.search(r"id=" + qid + r" to=<\S+> relay=mx\.example\.net"
                         r"\[127\.0\.0\.6\]:25 tls=TLSv1\.[23]/\S+ "
                         r"verified=no .*dsn=2\.0\.0 status=sent "
                         r"reply=\"250 2\.0\.0 Ok: queued as ", log), log
    # Postfix announced 8BITMIME: the second message said BODY=8BITMIME
    pf.wait_log(r"from=<alice@example.org>, size=\d+, nrcpt=1")
    time.sleep(0.5)
    assert pf.count_log(r"status=sent") >= 2
