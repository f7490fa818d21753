"""Interop for outbound TLS policy (issue 13): independent implementations
from Debian judge the same test zones as cachet, and agree with what
`cachetctl tls-policy` says.

DANE: the signed zones of test_dane.py (dnssec.dane_world), served by nsd,
on peers at 127.0.17.x:25.  cachet validates them itself (its resolver
forwards to nsd, the child's DS is its trust anchor).  Postfix 3.7 with
`smtp_tls_security_level = dane` and `smtp_dns_support_level = dnssec`
takes the AD bit of the resolver in /etc/resolv.conf: that is Debian's
unbound on 127.0.17.53:53 (dnssec.ValidatingResolver), with the same
trust anchor, forwarding to the same nsd; Postfix sees it through a mount
namespace (postfix_peer.PostfixPeer resolv_conf).  For each case, what
cachet decides for the MX and what Postfix does with a real message
must be the same kind of thing:

    cachet `policy: dane: TLS required, certificate checked against TLSA`
        Postfix: "Verified TLS connection" and sent, or deferred because
        the certificate did not verify (the mismatching cases)
    cachet `policy: dane-unusable ...` or `policy: opportunistic ...`
        Postfix: sent over TLS it calls "Untrusted" (opportunistic)
    cachet `host not used, mail deferred` (TLSA lookup failed or bogus)
        Postfix: deferred, "TLSA lookup error"

and the messages themselves: a verified delivery reaches the peer from
both, a deferred one from neither.

MTA-STS: Debian's postfix-mta-sts-resolver (`mta-sts-query`, its own
DNS and HTTPS code: aiodns, aiohttp) fetches the same policies from the
same policy host as cachet (the world of test_mta_sts.py, on 127.0.16.x:
a test DNS on 127.0.16.53:53, seen through a mount namespace, and the
test CA through SSL_CERT_FILE); its mode and mx list, or its refusal,
must be what `cachetctl tls-policy` prints.
"""

import os
import re
import smtplib
import subprocess
import time

import pytest

from conftest import Daemon, wait_for
from dnsserver import DNSServer
from dnssec import (CHILD, ValidatingResolver, dane_world, make_ca_and_leaf,
                    mx_name)
from postfix_peer import PostfixPeer
from smtppeer import Peer
from stsworld import PATH, PolicyHost, leaf

HOSTS = {
    "ee": "127.0.17.2",
    "bad": "127.0.17.3",
    "ta": "127.0.17.4",
    "taname": "127.0.17.5",
    "unus": "127.0.17.6",
    "bogus": "127.0.17.7",
}
PLAIN_IP = "127.0.17.8"
RESOLVER_IP = "127.0.17.53"
SENDER = "alice@example.org"
CONTENT = (b"From: Alice <alice@example.org>\r\n"
           b"To: Bob\r\n"
           b"Subject: dane interop\r\n"
           b"\r\n"
           b"Judged twice.\r\n")

# What each kind of decision means, for both.
DANE, OPPORTUNISTIC, NOT_USED = "dane", "opportunistic", "not used"


def domain(case):
    return f"{case}.{CHILD[:-1]}" if case != "plain" else "plain.t1.test"


def mx_of(case):
    return mx_name(case) if case != "plain" else "mx.plain.t1.test"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Zones on nsd, unbound validating in front of them, a Postfix
    that delivers through unbound with DANE, and one peer per case; all
    stopped at the end."""
    base = str(tmp_path_factory.mktemp("tls-interop"))
    zones, certs = dane_world(base, HOSTS, PLAIN_IP)
    zones.start()
    started = []
    try:
        resolver = ValidatingResolver(os.path.join(base, "unbound"), zones,
                                      RESOLVER_IP).start()
        started.append(resolver)
        # Its own directory under /var/tmp (Postfix wants root-owned
        # parents), removed by cleanup().
        postfix = PostfixPeer(
            hostname="postfix.interop.test",
            tls_level="dane", resolv_conf=resolver.resolv_conf,
            extra={"smtp_dns_support_level": "dnssec",
                   "smtp_host_lookup": "dns",
                   # tests are short: retry soon, give up never
                   "maximal_queue_lifetime": "1h"})
        postfix.start()
        started.append(postfix)
        peers = {}
        for case in list(HOSTS) + ["plain"]:
            ip = HOSTS.get(case, PLAIN_IP)
            peers[case] = Peer(ip, tls_dir=certs, name=mx_of(case)).start()
            started.append(peers[case])
        yield {"zones": zones, "postfix": postfix, "peers": peers}
    finally:
        for thing in reversed(started):
            thing.stop()
            if isinstance(thing, PostfixPeer):
                thing.cleanup()
        zones.stop()


@pytest.fixture(scope="module")
def cachet(world, tmp_path_factory):
    """One daemon for the module (it only answers tls-policy)."""
    z = world["zones"]
    base = str(tmp_path_factory.mktemp("cachet"))
    os.chmod(base, 0o755)
    d = Daemon(base, extra=f"resolver {z.addr}\n"
               f"dnssec-trust-anchor {z.anchor}\n")
    d.start()
    yield d
    d.stop()


def cachet_decision(d, case):
    """The decision `cachetctl tls-policy` prints for the case's MX."""
    r = d.ctl("tls-policy", domain(case))
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"^mx: " + re.escape(mx_of(case)) +
                  r" .*?^\s+policy: (.*)$", r.stdout, re.M | re.S)
    assert m, r.stdout
    policy = m.group(1)
    if "host not used" in policy:
        return NOT_USED, r.stdout
    if policy.startswith("dane:"):
        return DANE, r.stdout
    if policy.startswith(("dane-unusable", "opportunistic")):
        return OPPORTUNISTIC, r.stdout
    raise AssertionError(f"unknown decision {policy!r}:\n{r.stdout}")


def postfix_outcome(world, case):
    """Send one message through Postfix to bob@DOMAIN and read what its
    smtp client did: (kind, delivered, log lines about it)."""
    pf = world["postfix"]
    rcpt = f"bob@{domain(case)}"
    with smtplib.SMTP(pf.host, pf.port, timeout=30) as s:
        s.sendmail(SENDER, [rcpt], CONTENT)
    mx = re.escape(mx_of(case))
    pat = (r"(Verified|Untrusted|Trusted|Anonymous) TLS connection "
           r"established to " + mx + r"|to=<" + re.escape(rcpt) +
           r">.*status=(sent|deferred)")

    def settled():
        log = pf.log()
        status = re.findall(r"to=<" + re.escape(rcpt) +
                            r">.*status=(sent|deferred).*", log)
        return status and log

    log = wait_for(settled, 60)
    assert log, pf.log_tail()
    lines = [ln for ln in log.splitlines() if re.search(pat, ln) or
             (mx_of(case) in ln and "TLSA" in ln)]
    text = "\n".join(lines)
    sent = re.search(r"to=<" + re.escape(rcpt) + r">.*status=sent", log)
    if sent and "Verified TLS connection established to " + mx_of(case) \
            in log:
        return DANE, True, text
    if sent:
        return OPPORTUNISTIC, True, text
    if re.search(r"TLSA lookup error for " + mx, log):
        return NOT_USED, False, text
    # deferred after a handshake whose certificate did not verify
    # against the TLSA records: DANE was required
    if re.search(r"status=deferred.*(certificate|[Vv]erif|TLSA)", text):
        return DANE, False, text
    raise AssertionError(f"unexpected Postfix outcome for {case}:\n"
                         + pf.log_tail())


CASES = {
    # case: (decision both must reach, delivered)
    "ee": (DANE, True),
    "bad": (DANE, False),
    "ta": (DANE, True),
    "taname": (DANE, False),
    "unus": (OPPORTUNISTIC, True),
    "bogus": (NOT_USED, False),
    "plain": (OPPORTUNISTIC, True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_postfix_dane_agrees_with_tls_policy(world, cachet, case):
    want, deliver = CASES[case]
    ours, shown = cachet_decision(cachet, case)
    theirs, delivered, why = postfix_outcome(world, case)
    assert ours == want, shown
    assert theirs == want, why
    assert delivered == deliver, why
    peer = world["peers"][case]
    if deliver:
        msgs = peer.wait(1)
        assert msgs[0]["tls"] is True
    else:
        time.sleep(1)
        assert peer.messages == [], why


# --- MTA-STS: postfix-mta-sts-resolver against the same policies ---

STS_Z = "i.test"
STS_DNS_IP = "127.0.16.53"      # port 53: c-ares reads resolv.conf
STS_HOST_IP = "127.0.16.1"
GOOD = "version: STSv1\nmode: {mode}\nmx: *.{d}\nmax_age: 86400\n"

# case: the response of the policy host, None: no _mta-sts TXT record
STS_CASES = {
    "enforce": (200, "text/plain", GOOD.format(mode="enforce",
                                               d="enforce." + STS_Z), {}),
    "testing": (200, "text/plain", GOOD.format(mode="testing",
                                               d="testing." + STS_Z), {}),
    "none": (200, "text/plain", GOOD.format(mode="none", d="none." + STS_Z),
             {}),
    "redirect": (301, "text/plain", "moved\n",
                 {"Location": f"https://mta-sts.enforce.{STS_Z}{PATH}"}),
    "invalid": (200, "text/plain", "version: STSv1\nmode: doubt\n"
                "mx: mx.invalid.i.test\nmax_age: 86400\n", {}),
    "ctype": (200, "text/html", GOOD.format(mode="enforce",
                                            d="ctype." + STS_Z), {}),
    "missing": (404, "text/plain", "not here\n", {}),
    "notxt": None,
}


def sts_dom(case):
    return f"{case}.{STS_Z}"


@pytest.fixture(scope="module")
def sts_world(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("sts-interop"))
    os.chmod(base, 0o755)
    certs = os.path.join(base, "certs")
    os.makedirs(certs)
    ca = make_ca_and_leaf(certs, "mx.enforce.i.test")
    leaf(certs, "policyhost", ["mta-sts." + sts_dom(c) for c in STS_CASES])
    host = PolicyHost(STS_HOST_IP, certs, "policyhost")
    zone = []
    for case, resp in STS_CASES.items():
        d = sts_dom(case)
        zone += [f"{d}. 60 IN MX 10 mx.{d}.", f"mx.{d}. 60 IN A 127.0.16.9",
                 f"mta-sts.{d}. 60 IN A {STS_HOST_IP}"]
        if resp is not None:
            zone.append(f'_mta-sts.{d}. 60 IN TXT "v=STSv1; id=7"')
            host.set("mta-sts." + d, resp)
    resolv = os.path.join(base, "resolv.conf")
    with open(resolv, "w") as f:
        f.write(f"nameserver {STS_DNS_IP}\n")
    dns = DNSServer("\n".join(zone), host=STS_DNS_IP, port=53).start()
    host.start()
    sub = os.path.join(base, "cachet")
    os.makedirs(sub)
    os.chmod(sub, 0o755)
    d = Daemon(sub, extra=f"resolver {STS_DNS_IP}:53\ntls-ca {ca}\n")
    d.start()
    yield {"ca": ca, "resolv": resolv, "daemon": d}
    d.stop()
    host.stop()
    dns.stop()


def mta_sts_query(world, domain):
    """Debian's mta-sts-query for domain, its DNS through resolv.conf
    (a mount namespace of its own) and the test CA as its trust store:
    (result name, mode or None, mx list or None)."""
    r = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"', "sh",
         world["resolv"], "mta-sts-query", "-v", "error", domain],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, SSL_CERT_FILE=world["ca"]))
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.match(r"\(<STSFetchResult\.(\w+): \d+>, (.*)\)$",
                 r.stdout.strip())
    assert m, r.stdout
    mode = re.search(r"'mode': '(\w+)'", m.group(2))
    mx = re.search(r"'mx': \[([^\]]*)\]", m.group(2))
    return (m.group(1), mode.group(1) if mode else None,
            re.findall(r"'([^']*)'", mx.group(1)) if mx else None)


def cachet_sts(d, domain):
    """The mta-sts: line of `cachetctl tls-policy`: (mode or None, mx
    list or None, the line)."""
    r = d.ctl("tls-policy", domain)
    m = re.search(r"^mta-sts: (.*)$", r.stdout, re.M)
    assert m, r.stdout + r.stderr
    line = m.group(1)
    mode = re.search(r"\bmode=(\w+)", line)
    mx = re.search(r"\bmx=(\S+)", line)
    if line.startswith("none") and "mode none" in line:
        return "none", None, line
    return (mode.group(1) if mode else None,
            mx.group(1).split(",") if mx else None, line)


@pytest.mark.parametrize("case", list(STS_CASES))
def test_mta_sts_query_agrees_with_tls_policy(sts_world, case):
    domain = sts_dom(case)
    result, mode, mx = mta_sts_query(sts_world, domain)
    our_mode, our_mx, line = cachet_sts(sts_world["daemon"], domain)
    if result == "VALID":
        assert mode == our_mode, (case, mode, line)
        if mode != "none":
            assert mx == our_mx, (case, mx, line)
    else:
        # NONE (no record) or FETCH_ERROR: no policy for either of us
        assert result in ("NONE", "FETCH_ERROR"), result
        assert line.startswith("none"), line
    # and what each case should be, so that agreeing on nothing fails
    want = {"enforce": "VALID", "testing": "VALID", "none": "VALID",
            "notxt": "NONE"}.get(case, "FETCH_ERROR")
    assert result == want, (case, result)
