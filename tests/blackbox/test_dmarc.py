"""DMARC on port 25 (RFC 7489, issue 14) against the real daemon and a
test DNS server on loopback: a forged From: of a p=reject domain is
refused at the end of DATA with 550 5.7.1, a p=quarantine one is filed
into the recipient's Junk folder with an Authentication-Results dmarc=fail,
`dmarc-policy report-only` delivers both to INBOX, a message whose SPF
passes for its From: domain is delivered normally, and sp= (a subdomain
that exists) and DMARCbis np= (one that does not) pick their policies.
The client connects from 127.0.0.1, which no SPF record here allows
except aligned.test's."""

import os
import smtplib
import uuid

import pytest

from conftest import wait_for
from dnsserver import DNSServer

HOST = "127.0.0.1"
BOB = "bob@example.org"

ZONE = """
_dmarc.reject.test.   60 IN TXT "v=DMARC1; p=reject"
_dmarc.quar.test.     60 IN TXT "v=DMARC1; p=quarantine"
_dmarc.aligned.test.  60 IN TXT "v=DMARC1; p=reject; aspf=s"
aligned.test.         60 IN TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc.org.test.      60 IN TXT "v=DMARC1; p=none; sp=reject; np=quarantine"
live.org.test.        60 IN A   127.0.0.9
"""


@pytest.fixture(scope="module")
def dns():
    s = DNSServer(ZONE).start()
    yield s
    s.stop()


def mx(make_daemon, dns, extra=""):
    d = make_daemon(extra=extra, resolver=dns.addr)
    d.start()
    d.ctl("user", "add", BOB, input="bob-secret-pw\n")
    return d


def send(d, mail_from, from_hdr):
    """One message to bob on port 25; (code, reply text, subject)."""
    subject = "dmarc " + uuid.uuid4().hex
    msg = (f"From: {from_hdr}\r\nTo: <{BOB}>\r\nSubject: {subject}\r\n"
           f"Message-ID: <{uuid.uuid4().hex}@test>\r\n\r\nhello\r\n")
    s = smtplib.SMTP(HOST, d.ports["smtp"], local_hostname="client.test",
                     timeout=30)
    try:
        s.ehlo()
        code, resp = s.mail(mail_from)
        assert code == 250, resp
        code, resp = s.rcpt(BOB)
        assert code == 250, resp
        code, resp = s.data(msg.encode())
    finally:
        s.close()
    return code, resp.decode(errors="replace"), subject


def stored(d, subject):
    """(path, bytes) of the delivered copy with that subject, waited for."""
    want = b"Subject: " + subject.encode()

    def find():
        for _qid, path, data in d.delivered():
            if want in data:
                return path, data
        return None
    got = wait_for(find, 20)
    assert got, f"{subject} not delivered\n" + d.log_tail()
    return got


def folder(path):
    """"INBOX" or the Maildir++ folder name (".Junk") a file is in."""
    parent = os.path.basename(os.path.dirname(os.path.dirname(path)))
    return parent if parent.startswith(".") else "INBOX"


def dmarc_ar(data):
    """The dmarc= result of our Authentication-Results field."""
    head = data.split(b"\n\n", 1)[0].replace(b"\n\t", b" ").replace(
        b"\n ", b" ").decode(errors="replace")
    for line in head.split("\n"):
        if line.lower().startswith("authentication-results:") and \
                "mx.example.org" in line:
            for part in line.split(";"):
                part = part.strip()
                if part.startswith("dmarc="):
                    return part.split()[0][len("dmarc="):]
    return None


def test_reject_refused_at_data(make_daemon, dns):
    d = mx(make_daemon, dns)
    code, resp, subject = send(d, "x@evil.test", "<ceo@reject.test>")
    assert code == 550 and "5.7.1" in resp, (code, resp)
    assert not any(subject.encode() in data
                   for _i, _p, data in d.delivered())
    assert d.queue_ids() == []


def test_quarantine_files_into_junk(make_daemon, dns):
    d = mx(make_daemon, dns)
    code, resp, subject = send(d, "x@evil.test", "Boss <boss@quar.test>")
    assert code == 250, resp
    path, data = stored(d, subject)
    assert folder(path) == ".Junk", path
    assert dmarc_ar(data) == "fail", data[:800]


def test_report_only_delivers_both(make_daemon, dns):
    # DMARC itself does not act; the spam score, which a failing p=reject
    # or p=quarantine feeds with points even so (test_spam_verdict.py),
    # is kept out of the way by a high Junk line
    d = mx(make_daemon, dns, "dmarc-policy report-only\nspam-junk 100\n"
           "spam-reject none")
    for from_hdr in ("<ceo@reject.test>", "<boss@quar.test>"):
        code, resp, subject = send(d, "x@evil.test", from_hdr)
        assert code == 250, (from_hdr, resp)
        path, data = stored(d, subject)
        assert folder(path) == "INBOX", path
        assert dmarc_ar(data) == "fail", data[:800]


def test_aligned_spf_pass_delivered(make_daemon, dns):
    d = mx(make_daemon, dns)
    code, resp, subject = send(d, "news@aligned.test", "<news@aligned.test>")
    assert code == 250, resp
    path, data = stored(d, subject)
    assert folder(path) == "INBOX", path
    assert dmarc_ar(data) == "pass", data[:800]
    # the same domain from a forger is still refused (strict SPF)
    code, resp, _s = send(d, "x@evil.test", "<news@aligned.test>")
    assert code == 550 and "5.7.1" in resp, (code, resp)


def test_subdomain_policies(make_daemon, dns):
    d = mx(make_daemon, dns)
    # the organisational domain itself: p=none
    code, resp, subject = send(d, "x@evil.test", "<a@org.test>")
    assert code == 250, resp
    path, data = stored(d, subject)
    assert folder(path) == "INBOX" and dmarc_ar(data) == "fail"
    # an existing subdomain without a record of its own: sp=reject
    code, resp, _s = send(d, "x@evil.test", "<a@live.org.test>")
    assert code == 550 and "5.7.1" in resp, (code, resp)
    # a subdomain that does not exist: np=quarantine
    code, resp, subject = send(d, "x@evil.test", "<a@gone.org.test>")
    assert code == 250, resp
    path, data = stored(d, subject)
    assert folder(path) == ".Junk", path
    assert dmarc_ar(data) == "fail", data[:800]
