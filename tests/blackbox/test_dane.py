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
"""

import os
import re
import smtplib
import time

import pytest

from conftest import wait_for
from dnssec import (CHILD, SignedZones, cert_sha256, check_tools,
                    make_ca_and_leaf, spki_sha256)
from smtppeer import Peer, make_cert

ALICE = "alice@example.org"
CONTENT = (b"From: Alice <alice@example.org>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: dane\r\n"
           b"\r\n"
           b"Pinned in DNSSEC.\r\n")

HOSTS = {
    # case: (address, certificate kind)
    "ee": ("127.0.13.2", "self"),
    "bad": ("127.0.13.3", "self"),
    "ta": ("127.0.13.4", "ca"),
    "taname": ("127.0.13.5", "ca-other-name"),
    "unus": ("127.0.13.6", "self"),
    "bogus": ("127.0.13.7", "self"),
}
PLAIN_IP = "127.0.13.8"


def mx(case):
    return f"mx-{case}.{CHILD}".rstrip(".")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Certificates, the signed zones on nsd; stopped at the end."""
    check_tools()
    base = str(tmp_path_factory.mktemp("dane"))
    certs = os.path.join(base, "certs")
    os.makedirs(certs)
    digests = {}
    ca = None
    for case, (ip, kind) in HOSTS.items():
        name = mx(case)
        if kind == "self":
            cert, _ = make_cert(certs, name)
            digests[case] = spki_sha256(cert)
        else:
            # taname: a CA-signed certificate that names another host
            other = name if kind == "ca" else "elsewhere." + CHILD[:-1]
            ca = make_ca_and_leaf(certs, other)
            if other != name:
                for ext in (".crt", ".key"):
                    os.link(os.path.join(certs, other + ext),
                            os.path.join(certs, name + ext))
    plain_cert, _ = make_cert(certs, "mx.plain.t1.test")
    ca_digest = cert_sha256(ca)
    wrong = "00" * 32
    child = []
    for case, (ip, kind) in HOSTS.items():
        name = mx(case) + "."
        child.append(f"{case}.{CHILD} 60 IN MX 10 {name}")
        child.append(f"{name} 60 IN A {ip}")
        tlsa = {
            "ee": f"3 1 1 {digests.get('ee')}",
            "bad": f"3 1 1 {wrong}",
            "ta": f"2 0 1 {ca_digest}",
            "taname": f"2 0 1 {ca_digest}",
            "unus": f"1 1 1 {digests.get('unus')}",
            "bogus": f"3 1 1 {digests.get('bogus')}",
        }[case]
        child.append(f"_25._tcp.{name} 60 IN TLSA {tlsa}")
    parent = [
        "plain.t1.test. 60 IN MX 10 mx.plain.t1.test.",
        f"mx.plain.t1.test. 60 IN A {PLAIN_IP}",
        f"_25._tcp.mx.plain.t1.test. 60 IN TLSA 3 1 1 {wrong}",
    ]
    zones = SignedZones(os.path.join(base, "dns"), child, parent,
                        bogus=[(f"_25._tcp.{mx('bogus')}.", "TLSA")])
    zones.start()
    yield {"zones": zones, "certs": certs}
    zones.stop()


@pytest.fixture
def peers(world):
    made = []

    def peer(case):
        ip = HOSTS[case][0] if case != "plain" else PLAIN_IP
        name = mx(case) if case != "plain" else "mx.plain.t1.test"
        p = Peer(ip, tls_dir=world["certs"], name=name).start()
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


def submit(d, rcpt):
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        s.login(ALICE, "secret")
        s.sendmail(ALICE, [rcpt], CONTENT)
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
