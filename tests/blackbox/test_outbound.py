"""Outbound delivery: MX routing, the SMTP client, retries, bounces and
queue control, against a test DNS server (dnsserver.py, the daemon's
`resolver`) and scripted SMTP peers on 127.0.0.2:25, 127.0.0.3:25, ...
(smtppeer.py).  Runs as root (port 25).

alice@example.org is a local user: she sends through submission (AUTH),
and the bounces and reports addressed to her land in her Maildir, where
Python's email package reads them."""

import email
import email.policy
import os
import re
import signal
import smtplib
import time

import pytest

from conftest import wait_for, pid_alive
from dnsserver import DNSServer
from smtppeer import Peer, Refuser

ALICE = "alice@example.org"
CONTENT = (b"From: Alice <alice@example.org>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: outbound test\r\n"
           b"Message-ID: <out.1@example.org>\r\n"
           b"\r\n"
           b"Hello Bob.\r\n"
           b".leading dot\r\n"
           b"Bye.\r\n")

ZONE = """
example.net.      1 IN MX 10 mx1.example.net.
mx1.example.net.  1 IN A  127.0.0.2
"""



@pytest.fixture
def dns():
    s = DNSServer().start()
    yield s
    s.stop()


@pytest.fixture
def servers():
    """Start peers and refusers; all are stopped at the end."""
    made = []

    def peer(host, **kw):
        p = Peer(host, **kw).start()
        made.append(p)
        return p

    def refuser(host, greeting):
        r = Refuser(host, greeting).start()
        made.append(r)
        return r
    peer.refuser = refuser
    yield peer
    for p in made:
        p.stop()


@pytest.fixture
def out(make_daemon, dns):
    """A daemon that resolves through dns, retries after 1-2 s, and has
    the user alice@example.org."""
    def make(extra="", zone=ZONE, **kw):
        dns.replace(zone)
        if "retry " not in extra:
            extra = "retry 1s 2s\n" + extra
        d = make_daemon(extra=f"resolver {dns.addr}\n"
                        "smtp-plaintext-auth-loopback yes\n" + extra, **kw)
        d.start()
        d.add_user(ALICE)
        return d
    return make


def submit(d, rcpts, content=CONTENT, sender=ALICE, rcpt_options=(),
           mail_options=()):
    """Send through submission as alice; the queue id."""
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        s.login(ALICE, "secret")
        code, text = s.mail(sender, list(mail_options))
        assert code == 250, text
        for r in rcpts:
            code, text = s.rcpt(r, list(rcpt_options))
            assert code == 250, (r, text)
        code, text = s.data(content)
        assert code == 250, text
        m = re.search(rb"queued as ([0-9a-f]{16})", text)
        return m.group(1).decode()
    finally:
        s.quit()


def mailbox(d, user=ALICE):
    """The messages in user's Maildir new/, oldest first."""
    return d.maildir_new(user)


def reports(d, user=ALICE):
    """The DSNs in user's Maildir, parsed."""
    return [email.message_from_bytes(m, policy=email.policy.compat32)
            for m in mailbox(d, user)]


def report_fields(msg):
    """(per-message fields, [per-recipient fields]) of a multipart/report
    as Python's email parses its message/delivery-status part."""
    assert msg.get_content_type() == "multipart/report", msg
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    ds = parts[1]
    assert ds.get_content_type() == "message/delivery-status"
    blocks = ds.get_payload()
    return blocks[0], blocks[1:]


def in_queue(d, qid):
    return qid in d.queue_ids()


def dsns(d, qid):
    """The kinds of the reports the queue made about message qid, from
    its log.  A report is logged when it is committed, before the state
    that records it and before its message may leave the queue: unlike
    the mailbox it is delivered to later, the log cannot lag."""
    return re.findall(r"id=[0-9a-f]{16} event=dsn kind=(\w+) about=" + qid +
                      r" ", d.read_log())


def show(d, qid):
    return d.ctl("queue", "show", qid).stdout


def log_has(d, pattern, timeout=20):
    return wait_for(lambda: re.search(pattern, d.read_log()), timeout)


# --- routing ---

def test_delivers_to_the_mx_with_the_lowest_preference(out, servers):
    first = servers("127.0.0.3")
    second = servers("127.0.0.2")
    # the less preferred record first in the answer
    d = out(zone="""
        example.net.      1 IN MX 20 mx2.example.net.
        example.net.      1 IN MX 10 mx1.example.net.
        mx1.example.net.  1 IN A  127.0.0.3
        mx2.example.net.  1 IN A  127.0.0.2
    """)
    qid = submit(d, ["bob@example.net"])
    [m] = first.wait(1)
    assert m["rcpts"] == ["bob@example.net"] and m["from"] == ALICE
    assert wait_for(lambda: not in_queue(d, qid))
    assert second.messages == []
    assert log_has(d, r"id=" + qid + r" to=<bob@example.net> "
                   r"relay=mx1\.example\.net\[127\.0\.0\.3\]:25 .* dsn=2\.0\.0 "
                   r"status=sent")


def test_message_arrives_as_stored(out, servers):
    peer = servers("127.0.0.2")
    d = out()
    qid = submit(d, ["bob@example.net"])
    [m] = peer.wait(1)
    received, rest = d.split_received(m["data"])
    assert rest == CONTENT
    assert b" id " + qid.encode() in received
    assert m["data"].count(b"\r\n.leading dot") == 1


def test_falls_back_when_the_first_mx_refuses_connections(out, servers):
    peer = servers("127.0.0.2")
    # nothing listens on 127.0.0.3:25
    d = out(zone="""
        example.net.      1 IN MX 10 mx1.example.net.
        example.net.      1 IN MX 20 mx2.example.net.
        mx1.example.net.  1 IN A  127.0.0.3
        mx2.example.net.  1 IN A  127.0.0.2
    """)
    qid = submit(d, ["bob@example.net"])
    peer.wait(1)
    assert wait_for(lambda: not in_queue(d, qid))
    log = d.read_log()
    assert "event=connect relay=mx1.example.net[127.0.0.3]:25" in log
    assert re.search(r"to=<bob@example.net> relay=mx2\.example\.net"
                     r"\[127\.0\.0\.2\]:25 .*status=sent", log), log


def test_falls_back_when_the_first_mx_greets_with_4xx(out, servers):
    busy = servers.refuser("127.0.0.3", "421 4.3.2 too busy, try later")
    peer = servers("127.0.0.2")
    d = out(zone="""
        example.net.      1 IN MX 10 mx1.example.net.
        example.net.      1 IN MX 20 mx2.example.net.
        mx1.example.net.  1 IN A  127.0.0.3
        mx2.example.net.  1 IN A  127.0.0.2
    """)
    qid = submit(d, ["bob@example.net"])
    peer.wait(1)
    assert wait_for(lambda: not in_queue(d, qid))
    assert busy.connections >= 1


def test_implicit_mx_is_the_domain_itself(out, servers, dns):
    peer = servers("127.0.0.2")
    d = out(zone="""
        example.net.      1 IN A  127.0.0.2
    """)
    qid = submit(d, ["bob@example.net"])
    peer.wait(1)
    assert wait_for(lambda: not in_queue(d, qid))
    assert ("example.net", "MX") in dns.queries
    assert ("example.net", "A") in dns.queries


def test_null_mx_bounces_at_once(out, servers):
    peer = servers("127.0.0.2")
    d = out(zone="""
        example.net.      1 IN MX 0 .
        example.net.      1 IN A  127.0.0.2
    """)
    qid = submit(d, ["bob@example.net"])
    [r] = wait_for(lambda: reports(d), 20) or [None]
    assert r is not None, d.log_tail()
    _, [rcpt] = report_fields(r)
    assert rcpt["Final-Recipient"] == "rfc822; bob@example.net"
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "5.1.10"
    assert "null MX" in rcpt["Diagnostic-Code"]
    assert wait_for(lambda: not in_queue(d, qid))
    assert peer.messages == []
    # one attempt, no retry
    assert len(re.findall(r"id=" + qid + r" to=<bob@example.net> .*"
                          r"status=bounced", d.read_log())) == 1


def test_servfail_is_deferred_not_bounced(out, servers, dns):
    servers("127.0.0.2")
    d = out(extra="delay-warning none")
    dns.servfail("example.net")
    qid = submit(d, ["bob@example.net"])
    assert log_has(d, r"id=" + qid + r" event=deferred to=<bob@example.net> "
                   r"attempts=1 reason=\"4\.4\.3 ")
    # a few retries (retry 1s 2s)
    assert log_has(d, r"id=" + qid + r" event=deferred to=<bob@example.net> "
                   r"attempts=3 ")
    assert in_queue(d, qid)
    [e] = [e for e in d.queue_list() if e["id"] == qid]
    assert e["state"] in ("deferred", "active", "queued")
    assert dsns(d, qid) == []
    assert "status=bounced" not in d.read_log()
    # the DNS recovers: delivered at the next try
    peer = servers("127.0.0.4")
    dns.replace(ZONE.replace("127.0.0.2", "127.0.0.4"))
    peer.wait(1, timeout=30)
    assert wait_for(lambda: not in_queue(d, qid))


def test_dns_timeout_is_deferred(out, dns):
    d = out()
    dns.drop("example.net")
    qid = submit(d, ["bob@example.net"])
    assert log_has(d, r"id=" + qid + r" event=deferred to=<bob@example.net> "
                   r"attempts=1 reason=\"4\.4\.3 ", timeout=60)
    assert in_queue(d, qid)
    assert dsns(d, qid) == []


# --- replies ---

def test_5xx_bounces_with_a_delivery_status_report(out, servers):
    peer = servers("127.0.0.2", rcpts={
        "bob@example.net": "550 5.1.1 <bob@example.net>: no such user"})
    d = out()
    qid = submit(d, ["bob@example.net", "carol@example.net"])
    [m] = peer.wait(1)
    assert m["rcpts"] == ["carol@example.net"]
    [r] = wait_for(lambda: reports(d), 20) or [None]
    assert r is not None, d.log_tail()
    assert r["From"].startswith("Mail Delivery System") or \
        "MAILER-DAEMON@mx.example.org" in r["From"]
    assert r["To"] == ALICE or ALICE in r["To"]
    assert r["Auto-Submitted"] == "auto-replied"
    per_msg, [rcpt] = report_fields(r)
    assert per_msg["Reporting-MTA"] == "dns; mx.example.org"
    assert per_msg["X-Cachet-Queue-ID"] == qid
    assert rcpt["Final-Recipient"] == "rfc822; bob@example.net"
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "5.1.1"
    assert rcpt["Remote-MTA"] == "dns; mx1.example.net"
    assert rcpt["Diagnostic-Code"] == \
        "smtp; 550 5.1.1 <bob@example.net>: no such user"
    # the original's header section comes back
    orig = r.get_payload()[2]
    assert orig.get_content_type() == "text/rfc822-headers"
    assert "Subject: outbound test" in orig.get_payload()
    # the bounce comes from <>; the original is gone
    assert mailbox(d)[0].startswith(b"Return-Path: <>\n")
    assert wait_for(lambda: not in_queue(d, qid))
    assert log_has(d, r"id=" + qid + r" to=<bob@example.net> .*dsn=5\.1\.1 "
                   r"status=bounced reply=\"550 5\.1\.1")


def test_4xx_is_retried_then_delivered(out, servers):
    peer = servers("127.0.0.2", data_replies=["451 4.3.0 try again later"])
    d = out()
    qid = submit(d, ["bob@example.net"])
    assert log_has(d, r"id=" + qid + r" to=<bob@example.net> .*dsn=4\.3\.0 "
                   r"status=deferred reply=\"451 4\.3\.0 try again later\"")
    [m] = peer.wait(1, timeout=30)
    assert m["rcpts"] == ["bob@example.net"]
    assert wait_for(lambda: not in_queue(d, qid))
    assert dsns(d, qid) == []
    assert re.search(r"id=" + qid + r" event=deferred to=<bob@example.net> "
                     r"attempts=1 reason=\"451 4\.3\.0 try again later\"",
                     d.read_log())


def test_deferred_recipient_listed_with_error_and_next_try(out, servers):
    servers("127.0.0.2", rcpts={
        "bob@example.net": "450 4.2.1 mailbox busy"})
    d = out(extra="retry 1h 2h")
    qid = submit(d, ["bob@example.net"])
    assert log_has(d, r"id=" + qid + r" event=deferred")
    lines = d.ctl("queue").stdout.splitlines()
    i = [n for n, line in enumerate(lines) if line.startswith(qid)][0]
    assert lines[i].split()[-1] == "deferred"
    detail = lines[i + 1]
    assert detail.startswith("    to=<bob@example.net> state=pending "
                             "attempts=1 next=\""), detail
    assert 'error="450 4.2.1 mailbox busy"' in detail
    assert "remote=mx1.example.net[127.0.0.2]" in detail
    text = show(d, qid)
    assert "  last error: 450 4.2.1 mailbox busy\n" in text
    assert "  remote: mx1.example.net[127.0.0.2]\n" in text


def test_expiry_bounces(out, servers):
    servers("127.0.0.2", rcpts={"bob@example.net": "450 4.2.1 mailbox busy"})
    d = out(extra="queue-lifetime 4s\ndelay-warning none")
    qid = submit(d, ["bob@example.net"])
    [r] = wait_for(lambda: reports(d), 30) or [None]
    assert r is not None, d.log_tail()
    _, [rcpt] = report_fields(r)
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "4.4.7"
    assert rcpt["Diagnostic-Code"] == "smtp; 450 4.2.1 mailbox busy"
    assert wait_for(lambda: not in_queue(d, qid))
    assert re.search(r"id=" + qid + r" event=expired to=<bob@example.net>",
                     d.read_log())


def test_delay_warning_sent_once(out, servers):
    servers("127.0.0.2", rcpts={"bob@example.net": "450 4.2.1 mailbox busy"})
    d = out(extra="delay-warning 2s")
    qid = submit(d, ["bob@example.net"])
    [r] = wait_for(lambda: reports(d), 30) or [None]
    assert r is not None, d.log_tail()
    assert "Delayed" in r["Subject"] or "delay" in r["Subject"].lower()
    _, [rcpt] = report_fields(r)
    assert rcpt["Action"] == "delayed"
    assert rcpt["Status"] == "4.2.1"
    assert "Will-Retry-Until" in rcpt
    # more tries, no more warnings; the message stays
    n = len(re.findall(r"id=" + qid + r" event=deferred ", d.read_log()))
    assert log_has(d, r"id=" + qid + r" event=deferred .*attempts=" +
                   str(n + 2) + " ", 30)
    assert dsns(d, qid) == ["delay"]
    assert len(reports(d)) == 1
    assert in_queue(d, qid)
    assert "  delay warning sent: " in show(d, qid)


def test_no_delay_warning_without_notify_delay(out, servers):
    servers("127.0.0.2", rcpts={"bob@example.net": "450 4.2.1 mailbox busy"})
    d = out(extra="delay-warning 1s")
    qid = submit(d, ["bob@example.net"], rcpt_options=["NOTIFY=FAILURE"])
    assert log_has(d, r"id=" + qid + r" event=deferred .*attempts=3")
    assert dsns(d, qid) == []


def test_notify_never_gets_no_bounce(out, servers):
    servers("127.0.0.2", rcpts={
        "bob@example.net": "550 5.1.1 no such user"})
    d = out()
    qid = submit(d, ["bob@example.net"], rcpt_options=["NOTIFY=NEVER"])
    assert wait_for(lambda: not in_queue(d, qid))
    assert log_has(d, r"id=" + qid + r" event=removed delivered=0 failed=1")
    # made before the message leaves, so none will come
    assert dsns(d, qid) == []
    assert "event=dsn" not in d.read_log()


def test_notify_success_relayed_report(out, servers):
    # aiosmtpd does not announce DSN: we owe the "relayed" report
    peer = servers("127.0.0.2")
    d = out()
    qid = submit(d, ["bob@example.net"],
                 rcpt_options=["NOTIFY=SUCCESS,FAILURE",
                               "ORCPT=rfc822;bob@example.net"],
                 mail_options=["ENVID=env-42"])
    peer.wait(1)
    [r] = wait_for(lambda: reports(d), 20) or [None]
    assert r is not None, d.log_tail()
    per_msg, [rcpt] = report_fields(r)
    assert per_msg["Original-Envelope-Id"] == "env-42"
    assert rcpt["Action"] == "relayed"
    assert rcpt["Status"] == "2.0.0"
    assert rcpt["Original-Recipient"].replace(" ", "") == \
        "rfc822;bob@example.net"
    assert wait_for(lambda: not in_queue(d, qid))


def test_notify_success_on_local_delivery(out):
    d = out()
    d.add_user("bob@example.org")
    qid = submit(d, ["bob@example.org"], rcpt_options=["NOTIFY=SUCCESS"])
    [r] = wait_for(lambda: reports(d), 20) or [None]
    assert r is not None, d.log_tail()
    _, [rcpt] = report_fields(r)
    assert rcpt["Action"] == "delivered"
    assert rcpt["Final-Recipient"] == "rfc822; bob@example.org"
    assert len(mailbox(d, "bob@example.org")) == 1
    assert wait_for(lambda: not in_queue(d, qid))


def test_local_permanent_failure_bounces(out):
    d = out(extra="quota-exceeded reject")
    d.add_user("bob@example.org")
    d.ctl("user", "set", "bob@example.org", "quota", "1K")
    big = b"Subject: too big\r\n\r\n" + (b"z" * 78 + b"\r\n") * 40
    qid = submit(d, ["bob@example.org"], content=big)
    [r] = wait_for(lambda: reports(d), 20) or [None]
    assert r is not None, d.log_tail()
    _, [rcpt] = report_fields(r)
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "5.2.2"
    assert rcpt["Diagnostic-Code"].startswith("X-Cachet; 5.2.2 ")
    assert wait_for(lambda: not in_queue(d, qid))


def test_bounce_of_a_bounce_is_dropped(out, servers):
    # a message from <> that fails: no report, the message goes
    servers("127.0.0.2", rcpts={"bob@example.net": "550 5.1.1 no such user"})
    d = out()
    qid = submit(d, ["bob@example.net"], sender="")
    assert wait_for(lambda: not in_queue(d, qid))
    # a report is made before its message leaves the queue
    assert "event=dsn" not in d.read_log()


def test_too_big_for_the_server_is_not_sent(out, servers):
    peer = servers("127.0.0.2", size_limit=100)
    d = out()
    qid = submit(d, ["bob@example.net"])
    [r] = wait_for(lambda: reports(d), 20) or [None]
    assert r is not None, d.log_tail()
    _, [rcpt] = report_fields(r)
    assert rcpt["Status"] == "5.3.4"
    assert peer.messages == []
    assert wait_for(lambda: not in_queue(d, qid))


def test_smtputf8_to_a_server_without_it_bounces(out, servers):
    peer = servers("127.0.0.2", smtputf8=False)
    d = out()
    qid = submit(d, ["bjørn@example.net"], mail_options=["SMTPUTF8"],
                 content=CONTENT.replace(b"Bob <bob@", "Bjørn <bjørn@"
                                         .encode()))
    [r] = wait_for(lambda: reports(d), 20) or [None]
    assert r is not None, d.log_tail()
    assert r.get_content_type() == "multipart/report"
    assert "message/global-delivery-status" in \
        [p.get_content_type() for p in r.get_payload()]
    assert peer.messages == []
    assert wait_for(lambda: not in_queue(d, qid))
    assert log_has(d, r"id=" + qid + r" to=<bj\?+rn@example.net> .*"
                   r"dsn=5\.6\.7 status=bounced")


# --- connections and TLS ---

def test_starttls_used_and_logged(out, servers, tmpbase):
    peer = servers("127.0.0.2", tls_dir=tmpbase)
    d = out()
    qid = submit(d, ["bob@example.net"])
    [m] = peer.wait(1)
    assert m["tls"]
    assert log_has(d, r"id=" + qid + r" to=<bob@example.net> "
                   r"relay=mx1\.example\.net\[127\.0\.0\.2\]:25 "
                   r"tls=TLSv1\.[23]/\S+ verified=no delay=\d+\.\ds "
                   r"dsn=2\.0\.0 status=sent reply=\"250 2\.0\.0 OK queued\"")
    assert log_has(d, r"event=tls relay=mx1\.example\.net\[127\.0\.0\.2\]:25 "
                   r"version=TLSv1\.[23] .*verified=no reason=\"self-signed")


def test_connection_reused_for_the_next_message(out, servers):
    peer = servers("127.0.0.2")
    d = out()
    submit(d, ["bob@example.net"])
    peer.wait(1)
    submit(d, ["carol@example.net"])
    peer.wait(2)
    assert len(peer.ehlos) == 1, peer.ehlos


def test_several_recipients_one_transaction(out, servers):
    peer = servers("127.0.0.2")
    d = out()
    rcpts = [f"user{i}@example.net" for i in range(5)]
    submit(d, rcpts)
    [m] = peer.wait(1)
    assert sorted(m["rcpts"]) == sorted(rcpts)


def test_one_transaction_per_domain(out, servers):
    one = servers("127.0.0.2")
    two = servers("127.0.0.3")
    d = out(zone=ZONE + """
        example.com.      1 IN MX 10 mx.example.com.
        mx.example.com.   1 IN A  127.0.0.3
    """)
    qid = submit(d, ["bob@example.net", "dan@example.com",
                     "carol@example.net"])
    [m1] = one.wait(1)
    [m2] = two.wait(1)
    assert sorted(m1["rcpts"]) == ["bob@example.net", "carol@example.net"]
    assert m2["rcpts"] == ["dan@example.com"]
    assert wait_for(lambda: not in_queue(d, qid))


def test_relay_directive_sends_through_the_smarthost(out, servers, dns):
    smart = servers("127.0.0.5")
    d = out(extra="relay * via [127.0.0.5]:25", zone="")
    qid = submit(d, ["bob@example.net"])
    [m] = smart.wait(1)
    assert m["rcpts"] == ["bob@example.net"]
    assert wait_for(lambda: not in_queue(d, qid))
    assert not any(n == "example.net" for n, _t in dns.queries)


def test_relay_with_auth_over_tls(out, servers, tmpbase):
    smart = servers("127.0.0.5", tls_dir=tmpbase,
                    auth={"me@example.org": "s3cret pass"})
    pw = os.path.join(tmpbase, "relay.pass")
    with open(pw, "w") as f:
        f.write("s3cret pass\n")
    os.chmod(pw, 0o600)
    d = out(extra=f"relay * via [127.0.0.5]:25 tls required auth "
            f"me@example.org {pw}", zone="")
    qid = submit(d, ["bob@example.net"])
    [m] = smart.wait(1)
    assert m["tls"] and m["rcpts"] == ["bob@example.net"]
    assert smart.logins == [("me@example.org", True)]
    assert wait_for(lambda: not in_queue(d, qid))
    assert "s3cret" not in d.read_log()


def test_relay_with_a_wrong_password_defers(out, servers, tmpbase):
    smart = servers("127.0.0.5", tls_dir=tmpbase,
                    auth={"me@example.org": "right"})
    pw = os.path.join(tmpbase, "relay.pass")
    with open(pw, "w") as f:
        f.write("wrong\n")
    d = out(extra=f"relay * via [127.0.0.5]:25 auth me@example.org {pw}",
            zone="")
    qid = submit(d, ["bob@example.net"])
    # a 535 to AUTH is the relay's refusal, not the recipient's: retried
    assert log_has(d, r"id=" + qid + r" event=deferred to=<bob@example.net> "
                   r"attempts=1 reason=\"4\.7\.8 127\.0\.0\.5\[127\.0\.0\.5\]:25: "
                   r"535 5\.7\.8 ")
    assert smart.logins and smart.logins[0] == ("me@example.org", False)
    assert smart.messages == [] and in_queue(d, qid)


def test_ipv6_tried_before_ipv4(out, servers):
    peer = servers("127.0.0.2")
    # nothing listens on [::1]:25: refused, then the A record
    d = out(zone="""
        example.net.      1 IN MX 10 mx1.example.net.
        mx1.example.net.  1 IN AAAA ::1
        mx1.example.net.  1 IN A  127.0.0.2
    """)
    qid = submit(d, ["bob@example.net"])
    peer.wait(1)
    assert wait_for(lambda: not in_queue(d, qid))
    log = d.read_log()
    v6 = log.index("event=connect relay=mx1.example.net[::1]:25")
    v4 = log.index("event=connect relay=mx1.example.net[127.0.0.2]:25")
    assert v6 < v4


def test_relay_requiring_tls_waits_for_it(out, servers, tmpbase):
    servers("127.0.0.5")  # no STARTTLS
    d = out(extra="relay * via [127.0.0.5]:25 tls required", zone="")
    qid = submit(d, ["bob@example.net"])
    assert log_has(d, r"id=" + qid + r" event=deferred to=<bob@example.net> "
                   r"attempts=1 reason=\"4\.7\.0 ")
    assert in_queue(d, qid)


# --- queue control ---

def test_hold_release_flush_and_bounce(out, servers, dns):
    servers("127.0.0.2")
    d = out(extra="retry 1h 2h\ndelay-warning none")
    dns.servfail("example.net")
    qid = submit(d, ["bob@example.net"])
    assert log_has(d, r"id=" + qid + r" event=deferred")
    # hold: listed so, survives a restart, not tried by a flush
    d.ctl("queue", "hold", qid)
    assert [e["state"] for e in d.queue_list() if e["id"] == qid] == \
        ["held"]
    d.stop()
    d.start()
    assert [e["state"] for e in d.queue_list() if e["id"] == qid] == \
        ["held"]
    assert "held: yes" in show(d, qid)
    dns.replace(ZONE)
    d.ctl("queue", "flush", "example.net")
    time.sleep(1)
    assert in_queue(d, qid)
    # release, then flush by domain: delivered
    d.ctl("queue", "release", qid)
    assert [e["state"] for e in d.queue_list() if e["id"] == qid] == \
        ["deferred"]
    assert "1 messages to try now" in d.ctl("queue", "flush",
                                            "example.net").stdout
    assert wait_for(lambda: not in_queue(d, qid))
    # bounce by hand: the sender gets a report, the message goes
    dns.servfail("example.com")
    qid = submit(d, ["dan@example.com"])
    assert log_has(d, r"id=" + qid + r" event=deferred")
    assert "0 messages" in d.ctl("queue", "flush", "example.net").stdout
    d.ctl("queue", "bounce", qid)
    assert wait_for(lambda: not in_queue(d, qid))
    [r] = wait_for(lambda: reports(d), 20) or [None]
    _, [rcpt] = report_fields(r)
    assert rcpt["Action"] == "failed" and rcpt["Status"] == "5.0.0"
    for verb in ("hold", "release", "bounce", "flush"):
        res = d.ctl("queue", verb, "0123456789abcdef", check=False)
        assert res.returncode == 1 and "no such message" in res.stderr


# --- crashes ---

def kill9_all(d):
    pids = [d.proc.pid] + list(d.role_pids().values())
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    d.proc.wait()
    for pid in pids:
        assert wait_for(lambda: not pid_alive(pid), 10)
    d.logf.close()


def test_message_in_transit_survives_kill9(out, servers):
    peer = servers("127.0.0.2")
    peer.hang.set()
    d = out()
    qid = submit(d, ["bob@example.net"])
    # the content is sent, the server has not answered: kill everything
    assert wait_for(lambda: peer.ehlos, 20)
    time.sleep(0.5)
    kill9_all(d)
    peer.data_replies = ["451 4.3.0 the client went away"]
    peer.hang.clear()
    time.sleep(0.3)
    assert peer.messages == []
    d.start()
    [m] = peer.wait(1, timeout=30)
    assert m["rcpts"] == ["bob@example.net"]
    assert wait_for(lambda: not in_queue(d, qid))


def test_mta_killed_mid_delivery_redelivers(out, servers):
    peer = servers("127.0.0.2")
    peer.hang.set()
    d = out()
    qid = submit(d, ["bob@example.net"])
    assert wait_for(lambda: peer.ehlos, 20)
    time.sleep(0.5)
    os.kill(d.role_pids()["mta"], signal.SIGKILL)
    peer.data_replies = ["451 4.3.0 the client went away"]
    peer.hang.clear()
    [m] = peer.wait(1, timeout=30)
    assert m["rcpts"] == ["bob@example.net"]
    assert wait_for(lambda: not in_queue(d, qid))
