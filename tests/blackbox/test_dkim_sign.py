"""DKIM signing (issue 14): the keys lookup keeps (cachetctl dkim
keygen/list/retire/activate, the pair a config domain gets at first
start, their file's mode, a restart), the records `cachetctl dns` prints,
and messages that leave signed: submitted on 587 to a peer on
127.0.0.x:25 (smtppeer.py), with the test DNS (dnsserver.py) serving the
TXT records exactly as cachetctl printed them, verified by dkimpy
(python3-dkim) and by OpenDKIM's own verifier (opendkim-testmsg from
opendkim-tools, with a KeyTable-free config whose resolver is the test
DNS).  Runs as root (port 25)."""

import base64
import os
import re
import stat
import subprocess
import time

import dkim
import pytest
from dnslib import DNSRecord, QTYPE

from conftest import wait_for
from dnsserver import DNSServer
from smtppeer import Peer
from test_outbound import submit as outbound_submit
from test_sendmail import run_sendmail

ALICE = "alice@example.org"

# The peer's address: one no other test module uses.
PEER = "127.0.66.2"
ZONE = f"""
example.net.      1 IN MX 10 mx1.example.net.
mx1.example.net.  1 IN A  {PEER}
"""

CONTENT = (b"From: Alice <alice@example.org>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: Re: signed: twice\r\n"
           b"Date: Sun, 06 Dec 2026 17:00:00 +0000\r\n"
           b"Message-ID: <sign.1@example.org>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\n"
           b"\r\n"
           b"Hello Bob.  \r\n"
           b".leading dot\r\n"
           b"\r\n\r\n")

LIST_RE = re.compile(r"^(\S+) (\S+) (ed25519|rsa) (\d+) (active|retired) "
                     r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$")
TXT_RE = re.compile(r'^(\S+)\._domainkey\.(\S+)\. (?:\d+ )?IN TXT (?:\( )?'
                    r'((?:"[^"]*" ?)+)\)?$')


def keys(d, domain=None):
    """`cachetctl dkim list` as a list of dicts."""
    args = ["dkim", "list"] + ([domain] if domain else [])
    out = []
    for line in d.ctl(*args).stdout.splitlines():
        m = LIST_RE.match(line)
        assert m, line
        out.append({"domain": m.group(1), "selector": m.group(2),
                    "alg": m.group(3), "bits": int(m.group(4)),
                    "state": m.group(5)})
    return out


def wait_keys(d, n, domain="example.org"):
    """The keys, once domain has n of them (first start makes two)."""
    got = []

    def enough():
        got[:] = keys(d, domain)
        return len(got) >= n
    assert wait_for(enough, timeout=60), got
    return got


def txt_records(text):
    """{selector._domainkey.domain: the TXT value} from zone-file lines,
    each quoted string at most 255 octets, as DNS stores them."""
    out = {}
    for line in text.splitlines():
        m = TXT_RE.match(line)
        if not m:
            continue
        parts = re.findall(r'"([^"]*)"', m.group(3))
        assert all(len(p) <= 255 for p in parts), line
        out[f"{m.group(1)}._domainkey.{m.group(2)}"] = "".join(parts)
    return out


def published(d, domain="example.org"):
    """The DKIM records `cachetctl dns` says to publish."""
    return txt_records(d.ctl("dns", domain).stdout)


def dns_txt(server):
    """A dkimpy dnsfunc that asks the test DNS server (dnsserver.py)."""
    host, port = server.addr.rsplit(":", 1)

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        a = DNSRecord.parse(DNSRecord.question(name, "TXT").send(
            host, int(port), timeout=timeout))
        for rr in a.rr:
            if rr.rtype == QTYPE.TXT:
                return b"".join(rr.rdata.data)
        return b""
    return dnsfunc


def dkimpy_results(records, raw):
    """[(d=, s=, a=, verified)] for each DKIM-Signature of raw, top first,
    dkimpy (python3-dkim) checking each against records (a dict, or a
    dnsfunc).  Lines end in CRLF for it, as on the wire (Maildir files
    end them in LF)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    def dnsfunc(name, timeout=5):
        if callable(records):
            return records(name, timeout)
        name = name.decode() if isinstance(name, bytes) else name
        return records.get(name.rstrip("."), "").encode()
    n = len(re.findall(rb"(?im)^DKIM-Signature:", raw.split(b"\r\n\r\n")[0]))
    out = []
    for i in range(n):
        v = dkim.DKIM(raw)
        try:
            ok = v.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.ValidationError:
            ok = False      # dkimpy raises for a body hash mismatch
        f = v.signature_fields
        out.append((f[b"d"].decode(), f[b"s"].decode(), f[b"a"].decode(),
                    ok))
    return out


def tag(value, name):
    m = re.search(r"(?:^|;)\s*" + name + r"=([^;]*)", value)
    return m.group(1).strip() if m else None


@pytest.fixture
def peer():
    p = Peer("127.0.0.2").start()
    yield p
    p.stop()


@pytest.fixture
def signer(make_daemon):
    """make() starts a daemon with alice@example.org that resolves
    through make.dns (the test DNS)."""
    dns = DNSServer(ZONE).start()

    def make(**kw):
        d = make_daemon(extra=f"resolver {dns.addr}\nretry 1s 2s\n"
                        "smtp-plaintext-auth-loopback yes\n", **kw)
        d.start()
        d.add_user(ALICE)
        return d
    make.dns = dns
    yield make
    dns.stop()


def key_file(d):
    for root, _, files in os.walk(d.state):
        if "dkim.db" in files:
            return os.path.join(root, "dkim.db")
    raise AssertionError("no dkim.db under " + d.state)


# --- keys ---

def test_first_start_makes_a_pair_in_a_file_only_lookup_reads(signer):
    d = signer()
    got = wait_keys(d, 2)
    assert sorted((k["alg"], k["bits"], k["state"]) for k in got) == [
        ("ed25519", 256, "active"), ("rsa", 2048, "active")]
    year = time.gmtime().tm_year
    assert {k["selector"] for k in got} == {f"c{year}a-ed",
                                            f"c{year}a-rsa"}
    path = key_file(d)
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) & 0o077 == 0, oct(st.st_mode)
    uids = role_uids(d)
    assert st.st_uid == uids["lookup"]
    # No other role runs as its owner, and its directory keeps them out.
    assert st.st_uid not in {u for r, u in uids.items() if r != "lookup"}
    dst = os.stat(os.path.dirname(path))
    assert dst.st_uid == st.st_uid and stat.S_IMODE(dst.st_mode) & 0o007 \
        == 0, oct(dst.st_mode)


def publish(signer, d, domain="example.org"):
    """Serve the records `cachetctl dns` prints, as printed, from the
    test DNS; the DKIM ones as a dict."""
    out = d.ctl("dns", domain).stdout
    for line in out.splitlines():
        if TXT_RE.match(line):
            signer.dns.add(line)
    return txt_records(out)


def submit(d, content=CONTENT, rcpt="bob@example.net"):
    """Submit on 587 as alice (AUTH); the queue id."""
    return outbound_submit(d, [rcpt], content=content)


def opendkim_verify(tmp, records, raw, selector):
    """OpenDKIM's verifier (opendkim -t, test mode) on raw with only the
    DKIM-Signature of selector left, its keys from records
    (TestPublicKeys); the line it prints."""
    raw = raw.replace(b"\r\n", b"\n")
    head, body = raw.split(b"\n\n", 1)
    fields = re.split(rb"\n(?![ \t])", head)
    keep = [f for f in fields if not f.lower().startswith(
        b"dkim-signature:") or re.search(rb"\bs=" + selector.encode() +
                                          rb";", f)]
    assert len(fields) - len(keep) >= 1
    msg = os.path.join(tmp, f"msg-{selector}.eml")
    with open(msg, "wb") as f:
        f.write(b"\n".join(keep) + b"\n\n" + body)
    keys = os.path.join(tmp, "keys")
    with open(keys, "w") as f:
        for name, value in records.items():
            f.write(f"{name} {value}\n")
    conf = os.path.join(tmp, "opendkim.conf")
    with open(conf, "w") as f:
        f.write(f"Mode v\nSyslog no\nTestPublicKeys {keys}\n")
    r = subprocess.run(["opendkim", "-x", conf, "-t", msg],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).strip()


# --- signing ---

def test_submitted_mail_leaves_with_two_signatures_dkimpy_and_opendkim_verify(
        signer, tmp_path):
    d = signer()
    wait_keys(d, 2)
    records = publish(signer, d)
    with Peer(PEER) as p:
        submit(d)
        raw = p.wait(1)[0]["data"]
    res = dkimpy_results(dns_txt(signer.dns), raw)
    assert sorted(a for _d, _s, a, _ok in res) == ["ed25519-sha256",
                                                   "rsa-sha256"], res
    assert all(dd == "example.org" and ok for dd, _s, _a, ok in res), res
    head = raw.split(b"\r\n\r\n")[0].decode()
    # relaxed/relaxed, the §5.4.1 fields present, each once more
    h = re.search(r"\bh=([^;]*);", re.sub(r"\s", "", head)).group(1)
    assert h.lower().split(":").count("from") == 2
    assert h.lower().split(":").count("subject") == 2
    assert "c=relaxed/relaxed" in re.sub(r"\s", "", head)
    assert "received" not in h.lower()
    os.chmod(tmp_path, 0o755)
    for _dd, sel, _a, _ok in res:
        rc, out = opendkim_verify(str(tmp_path), records, raw, sel)
        assert rc == 0 and "succeeded" in out and f"s={sel}" in out, out
    # A change after signing fails both (the checks can fail).
    bad = raw.replace(b"Hello Bob.", b"Hello Eve.")
    assert not any(ok for *_x, ok in dkimpy_results(records, bad))
    rc, out = opendkim_verify(str(tmp_path), records, bad, res[0][1])
    assert "succeeded" not in out, out


def test_mail_from_sendmail_is_signed(signer):
    d = signer()
    wait_keys(d, 2)
    publish(signer, d)
    with Peer(PEER) as p:
        r = run_sendmail(d, ["-i", "-f", ALICE, "bob@example.net"],
                         CONTENT.replace(b"\r\n", b"\n"))
        assert r.returncode == 0, r.stderr
        raw = p.wait(1)[0]["data"]
    res = dkimpy_results(dns_txt(signer.dns), raw)
    assert len(res) == 2 and all(ok for *_x, ok in res), res


def test_mail_from_a_domain_not_ours_is_not_signed(signer):
    d = signer()
    wait_keys(d, 2)
    publish(signer, d)
    content = CONTENT.replace(b"From: Alice <alice@example.org>",
                              b"From: Alice <alice@elsewhere.test>")
    with Peer(PEER) as p:
        submit(d, content)
        raw = p.wait(1)[0]["data"]
    assert b"DKIM-Signature:" not in raw.split(b"\r\n\r\n")[0]


def test_keygen_retire_activate_change_what_signs(signer):
    d = signer()
    got = wait_keys(d, 2)
    ed = [k["selector"] for k in got if k["alg"] == "ed25519"][0]
    out = d.ctl("dkim", "keygen", "example.org", "--selector", "new",
                "--bits", "1024", timeout=60).stdout
    # every record published, the one about to be retired too
    publish(signer, d)
    assert "new._domainkey" in out
    d.ctl("dkim", "retire", "example.org", ed)
    with Peer(PEER) as p:
        submit(d)
        raw = p.wait(1)[0]["data"]
        res = dkimpy_results(dns_txt(signer.dns), raw)
        sels = sorted(s for _d, s, _a, ok in res if ok)
        assert sels == sorted([k["selector"] for k in got
                               if k["alg"] == "rsa"] + ["new"]), res
        d.ctl("dkim", "activate", "example.org", ed)
        d.ctl("dkim", "retire", "example.org", "new")
        submit(d)
        raw = p.wait(2)[1]["data"]
    sels = sorted(s for _d, s, _a, ok in
                  dkimpy_results(dns_txt(signer.dns), raw) if ok)
    assert sels == sorted(k["selector"] for k in got), sels


def test_a_bounce_from_us_is_signed(signer):
    """A recipient the peer refuses for good: the bounce (From:
    MAILER-DAEMON@mx.example.org, our hostname) reaches alice signed
    d=example.org, the domain above the hostname, and dkimpy verifies
    both signatures."""
    d = signer()
    wait_keys(d, 2)
    publish(signer, d)
    with Peer(PEER, rcpts={"nobody@example.net": "550 5.1.1 no such "
                           "user"}):
        submit(d, rcpt="nobody@example.net")
        assert wait_for(lambda: bounces(d), 30), d.log_tail()
    raw = bounces(d)[0]
    assert re.search(rb"(?m)^From: .*MAILER-DAEMON@mx\.example\.org", raw)
    res = dkimpy_results(dns_txt(signer.dns), raw)
    assert sorted(a for _d, _s, a, _ok in res) == ["ed25519-sha256",
                                                   "rsa-sha256"], res
    assert all(dd == "example.org" and ok for dd, _s, _a, ok in res), res


def bounces(d):
    return [data for _i, _p, data in d.delivered()
            if b"MAILER-DAEMON@" in data.split(b"\n\n")[0]]


def role_uids(d):
    out = {}
    for role, pid in d.role_pids().items():
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    out[role] = int(line.split()[1])
    return out


def test_keygen_list_retire_activate(signer):
    d = signer()
    wait_keys(d, 2)
    r = d.ctl("dkim", "keygen", "example.org", "--selector", "s1",
              "--algorithm", "ed25519", timeout=60)
    recs = txt_records(r.stdout)
    assert list(recs) == ["s1._domainkey.example.org"], r.stdout
    v = recs["s1._domainkey.example.org"]
    assert tag(v, "v") == "DKIM1" and tag(v, "k") == "ed25519"
    assert len(base64.b64decode(tag(v, "p"), validate=True)) == 32

    r = d.ctl("dkim", "keygen", "example.org", "--selector", "big",
              "--bits", "4096", timeout=120)
    v = txt_records(r.stdout)["big._domainkey.example.org"]
    assert tag(v, "k") == "rsa"
    # A 4096-bit key's record is longer than one string may be.
    assert r.stdout.count('"') >= 6, r.stdout
    spki = base64.b64decode(tag(v, "p"), validate=True)
    assert 560 > len(spki) > 540, len(spki)

    byname = {k["selector"]: k for k in keys(d, "example.org")}
    assert byname["s1"]["state"] == "active"
    assert byname["big"]["bits"] == 4096

    d.ctl("dkim", "retire", "example.org", "s1")
    assert {k["selector"]: k["state"] for k in keys(d)}["s1"] == "retired"
    dns = d.ctl("dns", "example.org").stdout
    assert "s1._domainkey" not in dns and "big._domainkey" in dns
    d.ctl("dkim", "activate", "example.org", "s1")
    assert {k["selector"]: k["state"] for k in keys(d)}["s1"] == "active"
    assert "s1._domainkey" in d.ctl("dns", "example.org").stdout

    # Refusals: a selector taken, a domain not ours, bad sizes, no key.
    for args in (["keygen", "example.org", "--selector", "s1"],
                 ["keygen", "example.com"],
                 ["keygen", "example.org", "--bits", "512"],
                 ["keygen", "example.org", "--bits", "8192"],
                 ["keygen", "example.org", "--algorithm", "dsa"],
                 ["keygen", "example.org", "--algorithm", "ed25519",
                  "--bits", "2048"],
                 ["retire", "example.org", "nosuch"]):
        r = d.ctl("dkim", *args, check=False, timeout=60)
        assert r.returncode != 0, args
    assert len(keys(d)) == 4


def test_keys_survive_a_restart(signer):
    d = signer()
    wait_keys(d, 2)
    d.ctl("dkim", "keygen", "example.org", "--selector", "later",
          "--bits", "1024", timeout=60)
    d.ctl("dkim", "retire", "example.org", "later")
    before = keys(d)
    records = txt_records(d.ctl("dns", "example.org").stdout)
    d.stop()
    d.start()
    assert keys(d) == before
    # The same keys, not new ones with the same names.
    assert txt_records(d.ctl("dns", "example.org").stdout) == records


def test_dns_prints_spf_dkim_dmarc(signer):
    d = signer()
    wait_keys(d, 2)
    out = d.ctl("dns", "example.org").stdout
    assert 'example.org. 3600 IN TXT "v=spf1 mx -all"' in out
    assert ('_dmarc.example.org. 3600 IN TXT "v=DMARC1; p=quarantine; '
            'rua=mailto:postmaster@example.org"') in out
    recs = txt_records(out)
    assert len(recs) == 2
    assert sorted(tag(v, "k") for v in recs.values()) == ["ed25519", "rsa"]
    # The MTA-STS / TLS-RPT part is still there.
    assert "_smtp._tls.example.org." in out
