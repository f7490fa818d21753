"""DKIM verification, black-box: messages signed by independent
implementations (dkimpy from python3-dkim, and OpenDKIM's own filter run
in its test mode, `opendkim -t`) are sent to the real daemon on port 25
from 127.0.0.1, with their public keys in the test DNS; each arrives in
the Maildir with an Authentication-Results field (RFC 8601) from our
authserv-id giving, per signature, the result cachet found.

A changed body or header gives dkim=fail, rsa-sha1 gives permerror (RFC
8301 §3.1; cachet reports it as permerror: an algorithm it does not
accept), a selector with no key gives permerror, a SERVFAIL for the key
gives temperror."""

import base64
import os
import re
import smtplib
import subprocess

import dkim
import pytest

from conftest import wait_for
from dnsserver import DNSServer

DOMAIN = b"example.net"
RCPT = "alice@example.org"


# --- keys and the DNS that publishes them ---

def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True,
                          capture_output=True, timeout=60).stdout


class Keys:
    """An RSA-2048 and an Ed25519 key pair, as PEM files and as what
    dkimpy wants (PEM for RSA, the base64 32-octet seed for Ed25519)."""

    def __init__(self, base):
        self.rsa_pem = os.path.join(base, "rsa.pem")
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:2048", "-out", self.rsa_pem)
        os.chmod(self.rsa_pem, 0o600)
        with open(self.rsa_pem, "rb") as f:
            self.rsa = f.read()
        self.rsa_pub = base64.b64encode(openssl(
            "pkey", "-in", self.rsa_pem, "-pubout", "-outform", "DER"))
        ed_pem = os.path.join(base, "ed.pem")
        openssl("genpkey", "-algorithm", "ed25519", "-out", ed_pem)
        # PKCS#8 and SubjectPublicKeyInfo DER of Ed25519 end in the 32
        # octets of the seed and of the public key (RFC 8410).
        self.ed_seed = base64.b64encode(openssl(
            "pkey", "-in", ed_pem, "-outform", "DER")[-32:])
        self.ed_pub = base64.b64encode(openssl(
            "pkey", "-in", ed_pem, "-pubout", "-outform", "DER")[-32:])


def txt(name, record):
    """A TXT record in zone-file syntax, split in strings of 255."""
    parts = [record[i:i + 255] for i in range(0, len(record), 255)]
    return f"{name}. 60 IN TXT " + " ".join(f'"{p}"' for p in parts)


@pytest.fixture
def world(make_daemon, tmpbase):
    keys = Keys(tmpbase)
    zone = "\n".join([
        txt("rsa._domainkey.example.net",
            "v=DKIM1; k=rsa; p=" + keys.rsa_pub.decode()),
        txt("ed._domainkey.example.net",
            "v=DKIM1; k=ed25519; p=" + keys.ed_pub.decode()),
        txt("od._domainkey.example.net",
            "v=DKIM1; k=rsa; p=" + keys.rsa_pub.decode()),
    ])
    dns = DNSServer(zone).start()
    d = make_daemon(resolver=dns.addr)
    d.start()
    d.add_user(RCPT)
    yield d, keys, dns
    dns.stop()


# --- messages ---

def message(tag, body=b"Hello there.\r\n\r\nA second paragraph.\r\n"):
    return (b"From: Bob <bob@example.net>\r\n"
            b"To: Alice <alice@example.org>\r\n"
            b"Subject: dkim test " + tag.encode() + b"\r\n"
            b"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n"
            b"Message-ID: <" + tag.encode() + b"@example.net>\r\n"
            b"\r\n" + body)


def dkimpy_sign(msg, keys, algo=b"rsa-sha256", canon=b"relaxed",
                length=False):
    ed = algo == b"ed25519-sha256"
    sig = dkim.sign(msg, b"ed" if ed else b"rsa", DOMAIN,
                    keys.ed_seed if ed else keys.rsa,
                    canonicalize=(canon, canon), signature_algorithm=algo,
                    include_headers=[b"from", b"to", b"subject", b"date",
                                     b"message-id"],
                    length=length)
    return sig + msg


def opendkim_sign(msg, keys, base):
    """Sign msg with OpenDKIM's filter in its test mode (`opendkim -t`:
    the milter's code, without a milter connection), rsa-sha256 and
    relaxed/simple, selector od.  It prints the field it would add."""
    path = os.path.join(base, "od.msg")
    with open(path, "wb") as f:
        f.write(msg)
    # The configuration comes on stdin: opendkim refuses files under a
    # world-writable directory such as /var/tmp.
    conf = (f"Domain example.net\nSelector od\nKeyFile {keys.rsa_pem}\n"
            "Mode s\nSignatureAlgorithm rsa-sha256\n"
            "Canonicalization relaxed/simple\nRequireSafeKeys no\n"
            "Syslog no\n")
    r = subprocess.run(["/usr/sbin/opendkim", "-x", "/dev/stdin", "-t",
                        path], input=conf.encode(), capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    i = out.index("DKIM-Signature:")
    field = out[i:].rstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n")
    assert "a=rsa-sha256" in field, field
    return field.encode() + b"\r\n" + msg


# --- sending and reading what arrived ---

def send(d, msg):
    s = smtplib.SMTP("127.0.0.1", d.ports["smtp"],
                     local_hostname="client.example.net", timeout=30)
    try:
        s.ehlo()
        code, resp = s.mail("bob@example.net")
        assert code == 250, resp
        code, resp = s.rcpt(RCPT)
        assert code == 250, resp
        code, resp = s.data(msg)
        assert code == 250, resp
        s.quit()
    finally:
        s.close()


def arrived(d, tag):
    """The delivered copy of the message with Message-ID <tag@...>."""
    needle = f"Message-ID: <{tag}@example.net>".encode()

    def find():
        for _qid, _path, data in d.delivered():
            if needle in data:
                return data
        return None
    data = wait_for(find, timeout=30)
    assert data is not None, f"{tag} not delivered\n" + d.log_tail()
    return data


def dkim_results(data, authserv="mx.example.org"):
    """From our Authentication-Results fields: one dict per dkim result,
    {"result": ..., "header.d": ..., "header.s": ..., ...}."""
    head = data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    head = re.sub(r"\r?\n[ \t]+", " ", head)
    out = []
    for line in head.split("\n"):
        m = re.match(r"(?i)authentication-results:\s*(.*)", line)
        if not m:
            continue
        value = re.sub(r"\([^()]*\)", "", m.group(1))
        parts = [p.strip() for p in value.split(";")]
        if parts[0].split()[0].lower() != authserv:
            continue
        for p in parts[1:]:
            words = p.split()
            if not words or not words[0].lower().startswith("dkim="):
                continue
            r = {"result": words[0].split("=", 1)[1].lower()}
            for w in words[1:]:
                if "=" in w:
                    k, v = w.split("=", 1)
                    r[k.lower()] = v
            out.append(r)
    return out


def result_for(data, selector):
    res = [r for r in dkim_results(data) if r.get("header.s") == selector]
    assert len(res) == 1, (selector, dkim_results(data), data[:1500])
    return res[0]


# --- the tests ---

def test_dkimpy_signatures_pass(world):
    d, keys, _dns = world
    cases = {
        "rsa-relaxed": dkimpy_sign(message("rsa-relaxed"), keys),
        "rsa-simple": dkimpy_sign(message("rsa-simple"), keys,
                                  canon=b"simple"),
        "ed-relaxed": dkimpy_sign(message("ed-relaxed"), keys,
                                  algo=b"ed25519-sha256"),
        "ed-simple": dkimpy_sign(message("ed-simple"), keys,
                                 algo=b"ed25519-sha256", canon=b"simple"),
        # l=: what is added after the signed length does not count
        "rsa-l": dkimpy_sign(message("rsa-l"), keys, length=True) +
        b"An appended footer.\r\n",
    }
    for tag, msg in cases.items():
        send(d, msg)
    for tag in cases:
        data = arrived(d, tag)
        sel = "ed" if tag.startswith("ed") else "rsa"
        r = result_for(data, sel)
        assert r["result"] == "pass", (tag, r)
        assert r["header.d"] == "example.net", (tag, r)
        assert r.get("header.a") == ("ed25519-sha256" if sel == "ed"
                                     else "rsa-sha256"), (tag, r)
    # dkimpy agrees the l= one still verifies (the control)
    assert dkim.verify(dkimpy_sign(message("ctl"), keys, length=True) +
                       b"tail\r\n", dnsfunc=lambda n, timeout=5:
                       b"v=DKIM1; k=rsa; p=" + keys.rsa_pub)


def test_opendkim_signature_passes(world, tmpbase):
    d, keys, _dns = world
    send(d, opendkim_sign(message("opendkim"), keys, tmpbase))
    r = result_for(arrived(d, "opendkim"), "od")
    assert r["result"] == "pass", r
    assert r["header.d"] == "example.net"


def test_tampered_messages_fail(world):
    d, keys, _dns = world
    body = dkimpy_sign(message("body"), keys)
    body = body.replace(b"second paragraph", b"SECOND paragraph")
    hdr = dkimpy_sign(message("hdr"), keys, algo=b"ed25519-sha256")
    hdr = hdr.replace(b"Subject: dkim test hdr", b"Subject: dkim test hdr!")
    send(d, body)
    send(d, hdr)
    assert result_for(arrived(d, "body"), "rsa")["result"] == "fail"
    data = arrived(d, "hdr")
    assert result_for(data, "ed")["result"] == "fail"


def test_sha1_missing_key_servfail(world):
    d, keys, dns = world
    dns.servfail("broken._domainkey.example.net")
    sha1 = dkimpy_sign(message("sha1"), keys, algo=b"rsa-sha1")
    # the same key under selectors that have no record / no answer
    nokey = dkimpy_sign(message("nokey"), keys).replace(b"s=rsa;",
                                                         b"s=absent;")
    tmp = dkimpy_sign(message("tmp"), keys).replace(b"s=rsa;", b"s=broken;")
    assert b"s=absent;" in nokey and b"s=broken;" in tmp
    for m in (sha1, nokey, tmp):
        send(d, m)
    assert result_for(arrived(d, "sha1"), "rsa")["result"] == "permerror"
    assert result_for(arrived(d, "nokey"), "absent")["result"] == \
        "permerror"
    assert result_for(arrived(d, "tmp"), "broken")["result"] == "temperror"
