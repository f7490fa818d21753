"""`cachetctl dns DOMAIN` and `cachetctl dns check DOMAIN` (issue 16).

The records `dns` prints are read back by a real zone-file parser
(dnspython), served as printed by the test DNS server (dnsserver.py), and
`dns check` must then find every one present: the newcomer's condition.
Then records are removed, changed, and the reverse DNS of hostname made
wrong, and the check must say which, with what it found.  The test DNS
serves the records with TTL 0, so that the daemon's resolver asks again
at every check instead of answering from its cache.
"""

import hashlib
import os
import re
import subprocess
import time

import dns.rdatatype
import dns.zone
import pytest

from conftest import wait_for
from dnsserver import DNSServer

DOMAIN = "example.org"
HOST = "mx.example.org"       # conftest's hostname
POLICY = "mta-sts-policy testing mx mx.example.org"
LINE_RE = re.compile(r"^(present|missing|different) (\S+) (\S+)(?: (.*))?$")


@pytest.fixture
def world(make_daemon):
    server = DNSServer().start()
    d = make_daemon(extra=f"resolver {server.addr}\n{POLICY}\n")
    d.start()
    # The first start makes an ed25519 and an RSA key (test_dkim_sign.py).
    assert wait_for(lambda: len(active_keys(d)) >= 2, timeout=60), \
        d.ctl("dkim", "list").stdout
    yield d, server
    server.stop()


def active_keys(d):
    return [line for line in d.ctl("dkim", "list", DOMAIN).stdout
            .splitlines() if " active " in line]


def records(d):
    """The zone-file lines `cachetctl dns` prints (comments left out)."""
    out = d.ctl("dns", DOMAIN).stdout
    return [line for line in out.splitlines()
            if line and not line.startswith(";")]


def serve(server, lines, extra=()):
    """Serve lines (as printed) and extra, each with TTL 0."""
    zone = [re.sub(r"^(\S+) \d+ IN ", r"\1 0 IN ", line)
            for line in list(lines) + list(extra)]
    server.replace("\n".join(zone))


# Documentation addresses (RFC 5737, RFC 3849): libunbound answers the
# reverse of 127.0.0.0/8 itself ("localhost"), and dns.c lets these
# through.  Only data: nothing connects to them.
PTR4 = "25.2.0.192.in-addr.arpa."
PTR6 = ("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
        "ip6.arpa.")
ADDRESS = (f"{HOST}. 0 IN A 192.0.2.25",
           f"{HOST}. 0 IN AAAA 2001:db8::25",
           f"{PTR4} 0 IN PTR {HOST}.",
           f"{PTR6} 0 IN PTR {HOST}.")


def check(d):
    """`cachetctl dns check`: (exit status, [(state, name, type, rest)])."""
    r = d.ctl("dns", "check", DOMAIN, check=False, timeout=40)
    out = []
    for line in r.stdout.splitlines():
        m = LINE_RE.match(line)
        assert m, (line, r.stdout)
        out.append(m.groups())
    return r, out


def state_of(out, name, rtype):
    found = [(s, rest) for s, n, t, rest in out if n == name and t == rtype]
    assert len(found) == 1, (name, rtype, out)
    return found[0]


def test_zone_parses_and_names_every_record(world):
    d, _server = world
    text = d.ctl("dns", DOMAIN).stdout
    # Every name is absolute: the root as origin takes them all.
    zone = dns.zone.from_text(text, origin=".", relativize=False,
                              check_origin=False)
    got = {}
    for name, node in zone.nodes.items():
        for rds in node.rdatasets:
            got.setdefault(dns.rdatatype.to_text(rds.rdtype), {})[
                name.to_text()] = list(rds)
    mx = got["MX"][f"{DOMAIN}."]
    assert [(r.preference, r.exchange.to_text()) for r in mx] == \
        [(10, f"{HOST}.")]
    txt = {n: [b"".join(r.strings).decode() for r in rs]
           for n, rs in got["TXT"].items()}
    assert txt[f"{DOMAIN}."] == ["v=spf1 mx -all"]
    assert txt[f"_dmarc.{DOMAIN}."] == [
        f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{DOMAIN}"]
    assert re.fullmatch(r"v=STSv1; id=[0-9a-f]{20}",
                        txt[f"_mta-sts.{DOMAIN}."][0])
    assert txt[f"_smtp._tls.{DOMAIN}."] == [
        f"v=TLSRPTv1; rua=mailto:postmaster@{DOMAIN}"]
    dkim = {n: v for n, v in txt.items() if "._domainkey." in n}
    assert len(dkim) == 2
    for rs in got["TXT"].values():
        for r in rs:
            assert all(len(s) <= 255 for s in r.strings)
    assert sorted(re.search(r"k=(\w+)", v[0]).group(1)
                  for v in dkim.values()) == ["ed25519", "rsa"]
    # The keys `dns` prints are the keys lookup holds.
    selectors = sorted(line.split()[1] for line in active_keys(d))
    assert sorted(n.split(".")[0] for n in dkim) == selectors
    srv = {n: [(r.priority, r.weight, r.port, r.target.to_text())
               for r in rs] for n, rs in got["SRV"].items()}
    assert srv == {
        f"_submissions._tcp.{DOMAIN}.": [(0, 1, d.ports["submissions"],
                                          f"{HOST}.")],
        f"_imaps._tcp.{DOMAIN}.": [(0, 1, d.ports["imaps"], f"{HOST}.")],
        f"_pop3s._tcp.{DOMAIN}.": [(0, 1, d.ports["pop3s"], f"{HOST}.")],
        f"_submission._tcp.{DOMAIN}.": [(10, 1, d.ports["submission"],
                                         f"{HOST}.")],
        f"_imap._tcp.{DOMAIN}.": [(10, 1, d.ports["imap"], f"{HOST}.")],
        f"_pop3._tcp.{DOMAIN}.": [(10, 1, d.ports["pop3"], f"{HOST}.")],
    }
    cname = {n: [r.target.to_text() for r in rs]
             for n, rs in got["CNAME"].items()}
    assert cname == {f"autoconfig.{DOMAIN}.": [f"{HOST}."],
                     f"autodiscover.{DOMAIN}.": [f"{HOST}."],
                     f"mta-sts.{DOMAIN}.": [f"{HOST}."]}
    # TLSA 3 1 1: the SHA-256 of the key's SubjectPublicKeyInfo, as
    # openssl(1) makes it from the certificate the daemon serves; one
    # record (no ACME: no next key).
    tlsa = [(r.usage, r.selector, r.mtype, r.cert.hex())
            for r in got["TLSA"][f"_25._tcp.{HOST}."]]
    assert tlsa == [(3, 1, 1, spki_sha256(d))]
    assert sorted(got) == ["CNAME", "MX", "SRV", "TLSA", "TXT"]
    assert "; no TLS key" not in text


def spki_sha256(d):
    """SHA-256 of the served certificate's public key (DER SPKI)."""
    cert = os.path.join(d.state, "tls", "cert.pem")
    pem = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey",
                          "-noout"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pem, capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def test_check_finds_every_record_present(world):
    d, server = world
    lines = records(d)
    serve(server, lines, ADDRESS)
    r, out = check(d)
    assert r.returncode == 0, (r.stdout, r.stderr)
    names = [(n, t) for _s, n, t, _r in out]
    # One line per record, in the order printed, then A and PTR.
    assert names == [tuple(line.split()[0:4:3]) for line in lines] + [
        (f"{HOST}.", "A"), (f"{HOST}.", "AAAA"), (PTR4, "PTR"),
        (PTR6, "PTR")]
    assert all(s == "present" and rest is None for s, _n, _t, rest in out)


def test_check_says_what_is_missing_or_different(world):
    d, server = world
    lines = records(d)
    kept = [line for line in lines
            if not line.startswith(f"_dmarc.{DOMAIN}.")
            and not line.startswith(f"{DOMAIN}. 3600 IN MX")
            and not line.startswith(f"_imaps._tcp.{DOMAIN}.")]
    assert len(kept) == len(lines) - 3
    serve(server, kept, [
        f"{DOMAIN}. 0 IN MX 20 mail.example.net.",
        f"_imaps._tcp.{DOMAIN}. 0 IN SRV 0 1 9993 {HOST}.",
        f"{HOST}. 0 IN A 192.0.2.25",
        f"{HOST}. 0 IN AAAA 2001:db8::25",
        f"{PTR4} 0 IN PTR other.example.net.",
        f"{PTR6} 0 IN PTR {HOST}."])
    r, out = check(d)
    assert r.returncode == 1
    assert "4 of" in r.stderr, r.stderr
    assert state_of(out, f"_dmarc.{DOMAIN}.", "TXT") == ("missing", None)
    assert state_of(out, f"{DOMAIN}.", "MX") == \
        ("different", "found: 20 mail.example.net.")
    assert state_of(out, f"_imaps._tcp.{DOMAIN}.", "SRV") == \
        ("different", f"found: 0 1 9993 {HOST}.")
    assert state_of(out, PTR4, "PTR") == \
        ("different", "found: other.example.net.")
    # The rest is still present (the AAAA, absent, is not asked for).
    assert sum(s == "present" for s, _n, _t, _r in out) == len(out) - 4

    # A changed DKIM key and SPF: different, with the text found.
    spf = f'{DOMAIN}. 0 IN TXT "v=spf1 a mx ~all"'
    dkim = [line for line in lines if "._domainkey." in line][0]
    dkim_name = dkim.split()[0]
    changed = re.sub(r'p=[^"]{8}', "p=AAAAAAAA", dkim)
    assert changed != dkim
    serve(server, [line for line in lines
                   if not line.startswith(f"{DOMAIN}. 3600 IN TXT")
                   and line != dkim] + [spf, changed], ADDRESS)
    r, out = check(d)
    assert r.returncode == 1
    assert state_of(out, f"{DOMAIN}.", "TXT") == \
        ("different", 'found: "v=spf1 a mx ~all"')
    s, rest = state_of(out, dkim_name, "TXT")
    assert s == "different" and "p=AAAAAAAA" in rest, rest
    assert state_of(out, PTR4, "PTR") == ("present", None)
    assert state_of(out, PTR6, "PTR") == ("present", None)


def test_names_may_hold_hostnames_addresses(world):
    """autoconfig and mta-sts may be A records instead of CNAMEs: present
    with hostname's address, different with another."""
    d, server = world
    lines = [line for line in records(d) if " CNAME " not in line]
    serve(server, lines, list(ADDRESS) + [
        f"autoconfig.{DOMAIN}. 0 IN A 192.0.2.25",
        f"autoconfig.{DOMAIN}. 0 IN AAAA 2001:db8::25",
        f"mta-sts.{DOMAIN}. 0 IN A 192.0.2.26"])
    r, out = check(d)
    assert r.returncode == 1, r.stdout
    assert state_of(out, f"autoconfig.{DOMAIN}.", "A/AAAA") == \
        ("present", None)
    assert state_of(out, f"mta-sts.{DOMAIN}.", "A/AAAA") == \
        ("different", "found: A 192.0.2.26")


def test_no_address(world):
    d, server = world
    # No A/AAAA for hostname: said, and no PTR asked.
    serve(server, records(d))
    r, out = check(d)
    assert r.returncode == 1
    assert state_of(out, f"{HOST}.", "A/AAAA") == ("missing", None)
    assert not [o for o in out if o[2] == "PTR"]
    assert [o for o in out if o[0] != "present"] == [
        ("missing", f"{HOST}.", "A/AAAA", None)]


def test_a_resolver_that_fails(world):
    """SERVFAIL for every name (asked first: nothing cached): every
    record missing, with why."""
    d, server = world
    lines = records(d)
    serve(server, lines)
    for line in lines:
        server.servfail(line.split()[0])
    server.servfail(HOST)
    r, out = check(d)
    assert r.returncode == 1
    assert [o for o in out if o[0] != "missing"] == [], out
    assert state_of(out, f"_dmarc.{DOMAIN}.", "TXT")[1] == \
        "(no answer: server said SERVFAIL)"
    assert state_of(out, f"{HOST}.", "A/AAAA")[1] == "(no answer)"


def test_a_record_never_answered(world):
    """The resolver never answers for one name: that record is missing,
    and the check still ends in time."""
    d, server = world
    lines = records(d)
    serve(server, lines, ADDRESS)
    server.drop(f"_dmarc.{DOMAIN}")
    start = time.monotonic()
    r, out = check(d)
    assert time.monotonic() - start < 30
    assert r.returncode == 1
    # libunbound gives up on a silent server itself (SERVFAIL) or our
    # timer does ("timeout"): either way no answer, said so.
    bad = [o for o in out if o[0] != "present"]
    assert [o[:3] for o in bad] == [("missing", f"_dmarc.{DOMAIN}.", "TXT")]
    assert bad[0][3].startswith("(no answer: "), bad


def test_other_domains_and_bad_usage(world):
    d, _server = world
    for args in (["dns", "example.com"], ["dns", "check", "example.com"]):
        r = d.ctl(*args, check=False)
        assert r.returncode == 1 and "not one of our domains" in r.stderr
        assert r.stdout == ""
    for args in (["dns"], ["dns", "check"], ["dns", "look", DOMAIN],
                 ["dns", "bad..name"]):
        r = d.ctl(*args, check=False)
        assert r.returncode == 2, (args, r.stderr)
    # Case and a final dot do not matter.
    assert d.ctl("dns", "EXAMPLE.org.").stdout == d.ctl("dns", DOMAIN).stdout
