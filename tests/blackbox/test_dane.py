"""DANE for outbound SMTP (RFC 7672) against a DNSSEC-signed zone.

nsd serves an unsigned parent t1.test. that delegates (NS, glue, DS) to
sec.t1.test., signed with ldns-signzone (dnssec.py); cachet forwards its
queries there and takes the child's DS as its trust anchor.  The MX
hosts are scripted SMTP peers (smtppeer.py) on 127.0.13.x:25 (away from
the 127.0.0.x the other outbound tests use), each with STARTTLS and a
certificate: self-signed for DANE-EE, signed by a test CA for DANE-TA.

    ee.sec.t1.test     MX mx-ee     TLSA 3 1 1 its key        delivered, TLS
    bad.sec.t1.test    MX mx-bad    TLSA 3 1 1 another key    deferred, no MAIL
    ta.sec.t1.test     MX mx-ta     TLSA 2 0 1 the CA         delivered
    taname.sec.t1.test MX mx-taname TLSA 2 0 1 the CA, but the certificate
                                    names another host        deferred
    unus.sec.t1.test   MX mx-unus   TLSA 1 1 1 (PKIX-EE)      opportunistic
    bogus.sec.t1.test  MX mx-bogus  TLSA 3 1 1 its key, RRSIG broken
                                                              deferred
    plain.t1.test      MX mx.plain.t1.test (unsigned), TLSA 3 1 1 wrong:
                                    insecure, ignored          delivered

REQUIRETLS (RFC 8689) rides on the same world: a message submitted with
it goes only over TLS that DANE (or MTA-STS) makes mandatory and
verified, to a server that announces REQUIRETLS, else it is bounced at
once (5.7.30), its body left out of the bounce.
"""

import email
import os
import re
import smtplib
import ssl
import time

import pytest

from conftest import wait_for
from dnssec import CHILD, dane_world, mx_name
from smtppeer import Peer

ALICE = "alice@example.org"
CONTENT = (b"From: Alice <alice@example.org>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: dane\r\n"
           b"\r\n"
           b"Pinned in DNSSEC.\r\n")

HOSTS = {
    # case (dnssec.KINDS): the peer's address
    "ee": "127.0.13.2",
    "bad": "127.0.13.3",
    "ta": "127.0.13.4",
    "taname": "127.0.13.5",
    "unus": "127.0.13.6",
    "bogus": "127.0.13.7",
}
PLAIN_IP = "127.0.13.8"


mx = mx_name


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Certificates, the signed zones on nsd; stopped at the end."""
    base = str(tmp_path_factory.mktemp("dane"))
    zones, certs = dane_world(base, HOSTS, PLAIN_IP)
    zones.start()
    yield {"zones": zones, "certs": certs}
    zones.stop()


@pytest.fixture
def peers(world):
    made = []

    def peer(case, **kw):
        ip = HOSTS[case] if case != "plain" else PLAIN_IP
        name = mx(case) if case != "plain" else "mx.plain.t1.test"
        p = Peer(ip, tls_dir=world["certs"], name=name, **kw).start()
        made.append(p)
        return p
    yield peer
    for p in made:
        p.stop()


@pytest.fixture
def out(make_daemon, world):
    def make(extra=""):
        z = world["zones"]
        d = make_daemon(extra=f"resolver {z.addr}\n"
                        f"dnssec-trust-anchor {z.anchor}\n"
                        "retry 1s 2s\n"
                        "smtp-plaintext-auth-loopback yes\n" + extra)
        d.start()
        d.add_user(ALICE)
        return d
    return make


def submit(d, rcpt, requiretls=False):
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        if requiretls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
        s.login(ALICE, "secret")
        s.sendmail(ALICE, [rcpt], CONTENT,
                   mail_options=["REQUIRETLS"] if requiretls else [])
    finally:
        s.quit()
    m = wait_for(lambda: re.search(r"id=([0-9a-f]{16}) to=<" +
                                   re.escape(rcpt) + ">", d.read_log()))
    assert m, d.log_tail()
    return m.group(1)


def log_has(d, pattern, timeout=20):
    return wait_for(lambda: re.search(pattern, d.read_log()), timeout)


def delivered(d, p, rcpt, verified):
    """rcpt's message reached peer p over TLS; the log says how the
    certificate was judged (verified=dane, or no for opportunistic)."""
    qid = submit(d, rcpt)
    msgs = p.wait(1)
    assert msgs[0]["tls"] is True
    assert log_has(d, r"id=" + qid + r" to=<" + re.escape(rcpt) +
                   r"> relay=\S+ tls=TLS\S+ verified=" + verified +
                   r" .*status=sent"), d.log_tail()
    return qid


def deferred(out, peers, case, reason):
    """With the peer of case up, bob@CASE.sec.t1.test's message is
    deferred with reason (a regex) and the peer sees no MAIL FROM and
    no RCPT, now or at the retry (1-2 s).  The daemon and the peer."""
    p = peers(case)
    d = out()
    rcpt = f"bob@{case}.{CHILD[:-1]}"
    qid = submit(d, rcpt)
    assert log_has(d, r"id=" + qid + r" to=<" + re.escape(rcpt) +
                   r"> .*status=deferred reply=\".*" + reason), \
        d.log_tail()
    assert re.search(reason, d.ctl("queue", "show", qid).stdout)
    assert qid in d.queue_ids()
    time.sleep(3)
    assert p.messages == [] and p.rcpt_commands == []
    return d, p


def test_dane_ee_match_is_delivered_over_verified_tls(out, peers):
    p = peers("ee")
    d = out()
    delivered(d, p, "bob@ee.sec.t1.test", "dane")
    assert ("event=tls relay=mx-ee.sec.t1.test[127.0.13.2]:25 "
            in d.read_log())
    assert "verified=yes by=dane" in d.read_log()


def test_dane_ee_mismatch_is_deferred_and_never_sent(out, peers):
    d, _ = deferred(out, peers, "bad", r"TLSA for mx-bad\.sec\.t1\.test "
                    r"does not match the certificate")
    # the handshake was made (so the peer was reached, over TLS only)
    assert "event=tls relay=mx-bad.sec.t1.test" in d.read_log()


def test_dane_ta_with_the_right_name_is_delivered(out, peers):
    delivered(out(), peers("ta"), "bob@ta.sec.t1.test", "dane")


def test_dane_ta_with_another_name_is_deferred(out, peers):
    deferred(out, peers, "taname",
             r"TLSA for mx-taname\.sec\.t1\.test does not match")


def test_unusable_tlsa_only_is_opportunistic(out, peers):
    # opportunistic TLS still: STARTTLS offered and taken, not verified
    delivered(out(), peers("unus"), "bob@unus.sec.t1.test", "no")


def test_bogus_tlsa_is_deferred_and_the_host_skipped(out, peers):
    _, p = deferred(out, peers, "bogus",
                    r"TLSA lookup for _25\._tcp\.mx-bogus\.sec\.t1\.test "
                    r"failed: DNSSEC validation failed")
    # not even a connection: the host is skipped
    assert p.ehlos == []


def test_insecure_zone_has_no_dane(out, peers):
    d = out()
    delivered(d, peers("plain"), "bob@plain.t1.test", "no")
    # the (wrong) TLSA of an unsigned zone is not even asked for
    assert "event=tlsa name=_25._tcp.mx.plain" not in d.read_log()


def test_dane_no_ignores_tlsa(out, peers):
    delivered(out("dane no\n"), peers("bad"), "bob@bad.sec.t1.test", "no")


def test_tls_policy_command(out, world):
    d = out()
    r = d.ctl("tls-policy", "ee.sec.t1.test")
    lines = r.stdout.splitlines()
    assert lines[0] == "domain: ee.sec.t1.test", r.stdout
    assert "mx: mx-ee.sec.t1.test dnssec=secure addresses=127.0.13.2:25" \
        in lines
    assert re.search(r"^  tlsa: 3 1 1 [0-9a-f]{64} \(usable\)$", r.stdout,
                     re.M), r.stdout
    assert ("  policy: dane: TLS required, certificate checked against "
            "TLSA") in lines
    r = d.ctl("tls-policy", "unus.sec.t1.test")
    assert re.search(r"^  tlsa: 1 1 1 [0-9a-f]{64} \(unusable\)$", r.stdout,
                     re.M), r.stdout
    assert "  policy: dane-unusable: STARTTLS when offered" in r.stdout
    r = d.ctl("tls-policy", "bogus.sec.t1.test")
    assert re.search(r"^  tlsa: failed: TLSA lookup for _25\._tcp\.mx-bogus"
                     r"\.sec\.t1\.test failed: DNSSEC validation failed",
                     r.stdout, re.M), r.stdout
    assert "  policy: dane: host not used, mail deferred" in r.stdout
    r = d.ctl("tls-policy", "plain.t1.test")
    assert "mx: mx.plain.t1.test dnssec=insecure" in r.stdout
    assert "  tlsa: not asked" in r.stdout
    assert "  policy: opportunistic: STARTTLS when offered" in r.stdout
    r = d.ctl("tls-policy", "nothing.t1.test", check=False)
    assert r.returncode == 1 and "route: permfail" in r.stdout, r
    r = d.ctl("tls-policy", check=False)
    assert r.returncode == 2 and "usage: tls-policy DOMAIN" in r.stderr, r


# --- REQUIRETLS (RFC 8689) ---

def bounced_requiretls(d, p, rcpt, reason):
    """rcpt's REQUIRETLS message is bounced at once with 5.7.30 and
    reason; p saw no MAIL; alice's bounce holds the header only."""
    qid = submit(d, rcpt, requiretls=True)
    assert log_has(d, r"id=" + qid + r" to=<" + re.escape(rcpt) +
                   r"> .*dsn=5\.7\.30 status=bounced reply=\".*" +
                   reason), d.log_tail()
    assert p.messages == []
    dsn = wait_for(lambda: [m for _q, _p, m in d.delivered()
                            if b"delivery-status" in m])
    assert dsn, d.log_tail()
    msg = email.message_from_bytes(dsn[0])
    assert msg.get_param("report-type") == "delivery-status"
    parts = [x.get_content_type() for x in msg.walk()]
    # RFC 8689 §5: the returned content is the header alone
    assert "text/rfc822-headers" in parts, parts
    assert b"Pinned in DNSSEC." not in dsn[0]
    assert b"Subject: dane" in dsn[0]
    return qid


def test_requiretls_over_dane_to_a_server_that_announces_it(out, peers):
    p = peers("ee", requiretls=True)
    d = out()
    qid = submit(d, "bob@ee.sec.t1.test", requiretls=True)
    msgs = p.wait(1)
    assert msgs[0]["tls"] is True
    # passed on in MAIL FROM (RFC 8689 §4.2.1)
    assert "REQUIRETLS" in msgs[0]["mail_options"], msgs[0]
    assert log_has(d, r"id=" + qid + r" .*verified=dane .*status=sent"), \
        d.log_tail()


def test_requiretls_to_a_dane_server_without_it_is_bounced(out, peers):
    p = peers("ee")
    bounced_requiretls(out(), p, "bob@ee.sec.t1.test",
                       r"REQUIRETLS support required")


def test_requiretls_without_dane_or_mta_sts_is_bounced(out, peers):
    # an unsigned zone: STARTTLS is there but nothing verifies it
    p = peers("plain", requiretls=True)
    bounced_requiretls(out(), p, "bob@plain.t1.test",
                       r"neither DANE nor an MTA-STS policy")


def test_requiretls_inbound_needs_tls_and_is_announced_over_it(out):
    d = out()
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        s.ehlo()
        # RFC 8689 §3: not announced in the clear
        assert not s.has_extn("requiretls")
        s.login(ALICE, "secret")
        code, msg = s.mail(ALICE, ["REQUIRETLS"])
        assert code == 530 and msg.startswith(b"5.7.10 "), (code, msg)
        s.rset()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo()
        assert s.has_extn("requiretls")
    finally:
        s.quit()
