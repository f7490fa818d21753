"""Sender authentication's path through the daemon (issue 14): every
message accepted on port 25 carries one Authentication-Results field
naming our hostname, on top of the message, wherever it goes (Maildir,
the next hop, a bounce, after a crash); forged ones claiming our name are
gone, others stay; submission gets none.  The modules behind it may be
stand-ins (every result "none"): this checks the path, not the verdicts.
Runs as root (the peer listens on port 25 of a 127.0.x.y)."""

import os
import random
import re
import signal
import smtplib

import pytest

from conftest import USERS, pid_alive, split_auth_fields, wait_for
from dnsserver import DNSServer
from smtppeer import Peer

HOST = "mx.example.org"
OUR_AR = re.compile(rb"(?im)^Authentication-Results:[ \t]*mx\.example\.org"
                    rb"[ \t]*;")
# Other helpers' tests use 127.0.0.2:25: a peer address of our own.
PEER_IP = f"127.0.{random.randint(100, 250)}.{random.randint(2, 250)}"
ZONE = f"""
example.net.      1 IN MX 10 mx1.example.net.
mx1.example.net.  1 IN A  {PEER_IP}
"""


@pytest.fixture
def dns():
    s = DNSServer().start()
    s.replace(ZONE)
    yield s
    s.stop()


@pytest.fixture
def ar(make_daemon, dns):
    def make(hold=False, extra=""):
        d = make_daemon(extra=f"resolver {dns.addr}\nretry 1s 2s\n"
                        "smtp-plaintext-auth-loopback yes\n" + extra,
                        hold=hold)
        d.start()
        for addr, pw in USERS.items():
            d.add_user(addr, pw)
        return d
    return make


@pytest.fixture
def peer():
    p = Peer(PEER_IP, rcpts={
        "gone@example.net": "550 5.1.1 <gone@example.net>: no such user"},
        size_limit=10 * 1024 * 1024)
    p.start()
    yield p
    p.stop()


def mx_send(d, content, rcpts=("alice@example.org",),
            sender="sender@example.net", source="127.0.0.3"):
    """Over port 25 from source; the queue id."""
    s = smtplib.SMTP(timeout=15, source_address=(source, 0),
                     local_hostname="client.example.net")
    try:
        s.connect("127.0.0.1", d.ports["smtp"])
        s.ehlo()
        code, text = s.mail(sender)
        assert code == 250, text
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, (r, text)
        code, text = s.data(content)
        assert code == 250, text
        return re.search(rb"queued as ([0-9a-f]{16})", text).group(1) \
            .decode()
    finally:
        s.quit()


def maildir(d, user):
    """user's Maildir messages, with CRLF line ends as sent."""
    return [m.replace(b"\n", b"\r\n") for m in d.maildir_new(user)]


def header(msg):
    return msg.split(b"\r\n\r\n", 1)[0] + b"\r\n"


def fields(head):
    """The header fields of head, each with its continuation lines."""
    return re.findall(rb"(?m)^[^ \t\r\n][^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*",
                      head)


def delivered_one(d, user="alice@example.org"):
    [m] = wait_for(lambda: maildir(d, user), 20) or [None]
    assert m is not None, d.log_tail()
    return m


def check_ours_on_top(msg):
    """Exactly one A-R of ours, the first field after the mda's
    Return-Path: and Delivered-To:, above our Received:."""
    fs = fields(header(msg))
    names = [f.split(b":", 1)[0].lower() for f in fs]
    assert names[:2] == [b"return-path", b"delivered-to"], names
    assert OUR_AR.match(fs[2]), fs[2]
    assert len([f for f in fs if OUR_AR.match(f)]) == 1, fs
    # the spam filter's verdict (issue 15) sits under it
    assert names[3:5] == [b"x-spam-score", b"x-spam-status"], names
    assert names[5] == b"received", names
    # RFC 8601 §2.2: the results, one resinfo a line, folded under 78
    for line in fs[2].split(b"\r\n"):
        assert len(line) < 78, line
    assert b"spf=" in fs[2] and b"dkim=" in fs[2] and b"dmarc=" in fs[2] \
        and b"arc=" in fs[2]
    return fs


def test_mx_message_gets_one_authres_on_top(ar):
    d = ar()
    content = (b"Authentication-Results: MX.EXAMPLE.ORG; dkim=pass "
               b"header.d=forged.example\r\n"
               b"From: Someone <sender@example.net>\r\n"
               b"authentication-results: (forged)\r\n"
               b"\tmx.example.org;\r\n\tspf=pass smtp.mailfrom=x@y\r\n"
               b"Authentication-Results: other.example; dkim=fail\r\n"
               b"Subject: a-r test\r\n"
               b"\r\n"
               b"Authentication-Results: mx.example.org; in the body\r\n")
    qid = mx_send(d, content)
    m = delivered_one(d)
    fs = check_ours_on_top(m)
    # the forged ones are gone, not renamed; the other stays; the body
    # is the client's
    assert b"forged" not in header(m)
    assert b"Authentication-Results: other.example; dkim=fail\r\n" in fs
    assert m.endswith(b"\r\n\r\nAuthentication-Results: mx.example.org; "
                      b"in the body\r\n")
    assert b"smtp.mailfrom=sender@example.net" in fs[2]
    assert re.search(r"id=" + qid + r" event=msgauth kind=mx spf=\w+ ",
                     d.read_log())


def test_message_over_the_bounds_still_delivers(ar):
    d = ar()
    pad = b"".join(b"X-Pad-%05d: %s\r\n" % (i, b"p" * 80)
                   for i in range(1600))
    assert len(pad) > 128 * 1024
    content = (b"From: sender@example.net\r\n" + pad +
               b"Authentication-Results: mx.example.org; spf=pass\r\n"
               b"Subject: big header\r\n\r\nbody\r\n")
    mx_send(d, content)
    m = delivered_one(d)
    check_ours_on_top(m)
    assert b"spf=pass" not in m
    assert m.endswith(b"Subject: big header\r\n\r\nbody\r\n")


def test_submission_gets_no_authres(ar):
    d = ar()
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        s.login("alice@example.org", USERS["alice@example.org"])
        s.sendmail("alice@example.org", ["bob@example.org"],
                   b"From: alice@example.org\r\nSubject: sub\r\n\r\nhi\r\n")
    finally:
        s.quit()
    m = delivered_one(d, "bob@example.org")
    assert b"Authentication-Results" not in m
    assert re.search(r"event=msgauth kind=submission ", d.read_log())


def kill9(d):
    """SIGKILL the parent and every role, by pid."""
    pids = [d.proc.pid] + list(d.role_pids().values())
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    d.proc.wait(timeout=10)
    assert wait_for(lambda: not any(pid_alive(p) for p in pids), 10)
    d.logf.close()


def test_prepend_survives_kill9(ar):
    d = ar(hold=True)
    qid = mx_send(d, b"Subject: crash\r\n\r\nbody\r\n")
    before = d.ctl_raw("queue", "cat", qid).stdout
    assert OUR_AR.match(before), before[:200]
    kill9(d)
    # restart, delivering now
    with open(d.conf) as f:
        text = f.read()
    with open(d.conf, "w") as f:
        f.write(text.replace("delivery-hold yes\n", ""))
    d.start()
    m = delivered_one(d)
    check_ours_on_top(m)
    assert m.endswith(b"Subject: crash\r\n\r\nbody\r\n")
    # the same A-R as before the crash: it came from the spool
    top = split_auth_fields(before)[0]
    assert top and top in m


def test_mta_sends_it_on_top(ar, peer):
    d = ar()
    # The ARC seal needs the RSA key lookup makes for example.org at its
    # first start (RSA key generation takes a while under ASan): wait.
    assert wait_for(lambda: any(
        " rsa " in line and " active " in line for line in
        d.ctl("dkim", "list", "example.org").stdout.splitlines()), 60), \
        d.ctl("dkim", "list").stdout
    d.ctl("alias", "add", "fwd@example.org", "bob@example.net")
    content = b"From: sender@example.net\r\nSubject: fwd\r\n\r\nbody\r\n"
    mx_send(d, content, rcpts=("fwd@example.org",))
    [m] = peer.wait(1)
    top, rest = split_auth_fields(m["data"])
    assert len(OUR_AR.findall(top)) == 1, top
    # An alias forwards it out: the ARC set (RFC 8617 §4.1) sealed over
    # our A-R goes on top of it.
    assert top.startswith(b"ARC-Seal: "), top
    assert re.search(rb"(?im)^ARC-Authentication-Results:\s*i=1;\s*"
                     rb"mx\.example\.org", top), top
    assert re.search(rb"(?m)^X-Spam-Score: [-0-9.]+\r\nX-Spam-Status: No, ",
                     top), top
    assert rest.startswith(b"Received: from client.example.net")
    assert rest.endswith(content)
    # RFC 1870: the SIZE given is what is sent, our fields included
    [size] = [o for o in m["mail_options"] if o.upper().startswith("SIZE=")]
    assert int(size[5:]) == len(m["data"])


def test_bounce_returns_it(ar, peer):
    d = ar()
    d.ctl("alias", "add", "fwd@example.org", "gone@example.net")
    mx_send(d, b"From: alice@example.org\r\nSubject: will bounce\r\n"
            b"\r\nbody\r\n", rcpts=("fwd@example.org",),
            sender="alice@example.org")
    b = delivered_one(d)
    assert b"multipart/report" in b
    # the original's header section, our A-R first, is in the report
    report = b[b.index(b"message/delivery-status"):]
    assert OUR_AR.search(report), b
    assert report.index(b"Authentication-Results: mx.example.org") < \
        report.index(b"Subject: will bounce")
