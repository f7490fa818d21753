"""ARC (RFC 8617, issue 14) end to end.

Sealing: mail that arrives on port 25 for an alias of ours that forwards
to another domain leaves with an ARC set of instance 1 (cv=none), sealed
with the RSA DKIM key lookup made for example.org; the peer on
127.0.0.61:25 (smtppeer.py) receives it and dkimpy's ARC verifier
(python3-dkim, `dkim.arc_verify`) checks it with a DNS function that
answers with the records `cachetctl dns` prints.  Verifying: a message that comes in already carrying a chain
sealed by dkimpy for lists.example.net (its key in the test DNS), which
the config names as an `arc-trusted-sealer`, is stored with arc=pass in
our Authentication-Results and logged as trusted; the same chain with its
body changed gets arc=fail.  DMARC (the dmarc module's override): a
p=reject sender's message that fails DMARC is let in only with a passing
chain from a trusted sealer.  Runs as root (port 25)."""

import base64
import os
import re
import smtplib
import subprocess

import dkim
import pytest

from conftest import wait_for
from dnsserver import DNSServer
from smtppeer import Peer

ZONE = """
example.net.      1 IN MX 10 mx1.example.net.
mx1.example.net.  1 IN A  127.0.0.61
"""

TXT_RE = re.compile(r'^(\S+)\._domainkey\.(\S+)\. (?:\d+ )?IN TXT (?:\( )?'
                    r'((?:"[^"]*" ?)+)\)?$')

MESSAGE = (b"From: Carol <carol@sender.example>\r\n"
           b"To: fwd@example.org\r\n"
           b"Subject: forwarded and sealed\r\n"
           b"Date: Sun, 06 Dec 2026 17:00:00 +0000\r\n"
           b"Message-ID: <arc.1@sender.example>\r\n"
           b"\r\n"
           b"Hello through an alias.\r\n")


@pytest.fixture
def dns():
    s = DNSServer(ZONE).start()
    yield s
    s.stop()


@pytest.fixture
def peer():
    p = Peer("127.0.0.61").start()
    yield p
    p.stop()


def txt_records(d, domain):
    """{selector._domainkey.domain: TXT value} as `cachetctl dns` prints
    them (zone-file lines, each value in quoted pieces)."""
    out = {}
    for line in d.ctl("dns", domain).stdout.splitlines():
        m = TXT_RE.match(line)
        if m:
            out[f"{m.group(1)}._domainkey.{m.group(2)}"] = "".join(
                re.findall(r'"([^"]*)"', m.group(3)))
    return out


def rsa_ready(d, domain="example.org"):
    """True once lookup holds an active RSA key for domain."""
    return any(" rsa " in line and " active " in line
               for line in d.ctl("dkim", "list", domain).stdout.splitlines())


def send_mx(d, sender, rcpt, data):
    s = smtplib.SMTP("127.0.0.1", d.ports["smtp"],
                     local_hostname="client.sender.example", timeout=30)
    try:
        s.sendmail(sender, [rcpt], data)
    finally:
        s.quit()


def arc_fields(data):
    """The ARC header fields of a message, unfolded, (name, value)."""
    head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    fields = re.findall(rb"^([A-Za-z-]+):(.*(?:\n[ \t].*)*)", head, re.M)
    return [(n.decode(), v.replace(b"\n", b"").decode())
            for n, v in fields if n.lower().startswith(b"arc-")]


def test_forwarded_mail_is_sealed(make_daemon, dns, peer):
    d = make_daemon(extra=f"resolver {dns.addr}\nretry 1s 2s\n")
    d.start()
    assert wait_for(lambda: rsa_ready(d), timeout=60), \
        d.ctl("dkim", "list").stdout
    d.ctl("alias", "add", "fwd@example.org", "bob@example.net")
    records = txt_records(d, "example.org")
    assert records, d.ctl("dns", "example.org").stdout

    send_mx(d, "carol@sender.example", "fwd@example.org", MESSAGE)
    data = peer.wait(1)[0]["data"]

    fields = arc_fields(data)
    names = [n.lower() for n, _ in fields]
    # one set, instance 1, the chain we found: none (RFC 8617 §4.1.3)
    assert names.count("arc-seal") == 1, fields
    assert names.count("arc-message-signature") == 1, fields
    assert names.count("arc-authentication-results") == 1, fields
    seal = dict(fields)["ARC-Seal"]
    assert re.search(r"\bi=1\b", seal) and re.search(r"\bcv=none\b", seal)
    assert re.search(r"\bd=example\.org\b", seal)
    assert re.search(r"\ba=rsa-sha256\b", seal)
    aar = dict(fields)["ARC-Authentication-Results"]
    assert re.match(r"\s*i=1;\s*mx\.example\.org;", aar), aar

    def dnsfunc(name, timeout=5):
        v = records.get(name.decode().rstrip("."))
        return v.encode() if v is not None else None

    cv, results, reason = dkim.arc_verify(data, dnsfunc=dnsfunc)
    assert cv == b"pass", (reason, data[:2000])
    assert results[0]["as-domain"] == b"example.org"
    assert results[0]["ams-valid"]

    # the verifier is not a rubber stamp: a changed Subject fails it
    bad = data.replace(b"Subject: forwarded and sealed",
                       b"Subject: forwarded and changed")
    assert bad != data
    cv, _, _ = dkim.arc_verify(bad, dnsfunc=dnsfunc)
    assert cv == b"fail"


def make_key(tmp):
    """An RSA-2048 key (PEM) and its DKIM TXT value."""
    pem = os.path.join(tmp, "sealer.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", pem], check=True,
                   capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", pem, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    with open(pem, "rb") as f:
        key = f.read()
    return key, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def zone_txt(owner, value):
    """A TXT record in zone-file syntax, in pieces of at most 255."""
    parts = [value[i:i + 200] for i in range(0, len(value), 200)]
    return f"{owner}. 1 IN TXT " + " ".join(f'"{p}"' for p in parts)


def sealed_by_list(key):
    """A message as the list lists.example.net forwards it: its own A-R
    and an ARC set of instance 1 made by dkimpy."""
    msg = (b"Authentication-Results: lists.example.net; arc=none;\r\n"
           b"  spf=pass smtp.mailfrom=carol@sender.example\r\n"
           b"From: Carol <carol@sender.example>\r\n"
           b"To: list@lists.example.net\r\n"
           b"Subject: through a trusted list\r\n"
           b"Date: Sun, 06 Dec 2026 17:00:00 +0000\r\n"
           b"Message-ID: <arc.2@sender.example>\r\n"
           b"\r\n"
           b"A list message.\r\n")
    fields = dkim.arc_sign(msg, b"arc", b"lists.example.net", key,
                           b"lists.example.net",
                           include_headers=[b"from", b"to", b"subject",
                                            b"date", b"message-id"])
    assert len(fields) == 3, fields
    return b"".join(fields) + msg


def our_ar(data):
    """Our Authentication-Results fields (authserv-id mx.example.org)."""
    head = data.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n")
    return [v.decode() for v in re.findall(
        rb"^Authentication-Results:\s*(mx\.example\.org;.*(?:\n[ \t].*)*)",
        head, re.M)]


def test_trusted_sealer_chain_passes(make_daemon, dns, tmp_path):
    key, txt = make_key(str(tmp_path))
    dns.add(zone_txt("arc._domainkey.lists.example.net", txt))
    d = make_daemon(extra=f"resolver {dns.addr}\n"
                    "arc-trusted-sealer lists.example.net\n")
    d.start()
    d.add_user("alice@example.org")
    good = sealed_by_list(key)
    bad = good.replace(b"A list message.", b"A changed message.")

    send_mx(d, "list-bounces@lists.example.net", "alice@example.org", good)
    send_mx(d, "list-bounces@lists.example.net", "alice@example.org", bad)
    new = os.path.join(d.mail, "example.org", "alice", "new")

    def two():
        try:
            names = sorted(os.listdir(new))
        except FileNotFoundError:
            return None
        return names if len(names) >= 2 else None
    names = wait_for(two)
    assert names, d.log_tail()
    got = {}
    for n in names:
        with open(os.path.join(new, n), "rb") as f:
            data = f.read()
        body = b"changed" if b"A changed message." in data else b"list"
        got[body] = our_ar(data)
    assert len(got[b"list"]) == 1, got
    assert re.search(r"\barc=pass\b", got[b"list"][0]), got
    assert re.search(r"\barc=fail\b", got[b"changed"][0]), got
    # the newest seal's d= is listed: lookup says the chain is trusted
    log = d.read_log()
    assert re.search(r"event=arc result=pass instance=1 "
                     r"sealer=lists\.example\.net trusted=yes", log), log
    assert re.search(r"event=arc result=fail instance=1 .*trusted=no",
                     log), log


def data_reply(d, data):
    """Send data on port 25 as the list; the reply code to its DATA."""
    s = smtplib.SMTP("127.0.0.1", d.ports["smtp"],
                     local_hostname="mail.lists.example.net", timeout=30)
    try:
        s.ehlo()
        code, text = s.mail("list-bounces@lists.example.net")
        assert code == 250, text
        code, text = s.rcpt("alice@example.org")
        assert code == 250, text
        code, text = s.data(data)
        return code, text
    finally:
        s.quit()


def test_trusted_chain_overrides_dmarc_reject(make_daemon, dns, tmp_path):
    """From: sender.example publishes p=reject; the list's envelope and
    its lack of DKIM fail DMARC (nothing aligns).  Only a passing chain
    from a sealer the config trusts lets it in (RFC 7489 §6.7, RFC 8617
    §7.2): the same message with its body changed, or at a server that
    does not trust the list, is refused with 550 5.7.1."""
    key, txt = make_key(str(tmp_path))
    dns.add(zone_txt("arc._domainkey.lists.example.net", txt))
    dns.add('_dmarc.sender.example. 1 IN TXT "v=DMARC1; p=reject"')
    good = sealed_by_list(key)
    bad = good.replace(b"A list message.", b"A changed message.")

    trusting = make_daemon(extra=f"resolver {dns.addr}\n"
                           "arc-trusted-sealer lists.example.net\n")
    trusting.start()
    trusting.add_user("alice@example.org")
    code, text = data_reply(trusting, good)
    assert code == 250, text
    code, text = data_reply(trusting, bad)
    assert code == 550 and b"5.7.1" in text, (code, text)
    log = trusting.read_log()
    assert re.search(r"event=arc result=pass .*trusted=yes", log), log

    wary = make_daemon(extra=f"resolver {dns.addr}\n")
    wary.start()
    wary.add_user("alice@example.org")
    code, text = data_reply(wary, good)
    assert code == 550 and b"5.7.1" in text, (code, text)
