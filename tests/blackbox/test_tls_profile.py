"""The TLS profile of every listener kind: what a client with a given
cipher gets on each (quick, Python's ssl), what tls { ciphers ... }
changes, and how testssl.sh (Debian's `testssl.sh`, an independent
scanner) rates it all.

testssl: one daemon, six scans run side by side: SMTP STARTTLS on the smtp
listener (port 25's broader list), STARTTLS on submission, implicit TLS on
submissions, STLS on pop3, implicit TLS on pop3s and on https (the http
role's MTA-STS listener) (the clients' AEAD-only list).  Each scan runs the checks that judge a TLS profile: protocols (-p),
cipher categories (-s), forward secrecy (-f), the server's cipher order
(-P), server defaults (-S) and every vulnerability check (-U).  A finding
that testssl rates LOW, MEDIUM, HIGH or CRITICAL fails the test, with two
exceptions on port 25 alone, explained at PORT25_ACCEPTED.

The certificate is the test's own, issued by a test CA that testssl is
told to trust (--add-ca), for the name the scan asks for
(mx.example.org, connecting to --ip 127.0.0.1), valid for 120 days and
naming a CRL distribution point.  So testssl judges a certificate as a
real deployment would have one, instead of the test having to exclude
what it says about a self-signed one (chain of trust CRITICAL, name
mismatch HIGH, validity and revocation HIGH): those findings are about
the certificate an administrator installs, not about the TLS profile
under test.  Nothing about protocols, ciphers or vulnerabilities is
excluded anywhere.

testssl stays on loopback: --ip 127.0.0.1 is the only address it
connects to, --nodns none makes it resolve nothing (no A, MX, CAA or PTR
lookups), and PHONE_OUT=false keeps it from fetching CRLs or OCSP
answers (the CRL named in the certificate is on 127.0.0.1 anyway).  The
scans run in parallel, each bounded by SCAN_TIMEOUT and stopped by PID.
"""

import json
import os
import poplib
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

import testpki
from conftest import (CACHETD, Daemon, _dump_log_if_failed,
                      tls_client_context)

HOST = "mx.example.org"
SCAN_TIMEOUT = 420          # seconds for all six scans together
CHECKS = ["-p", "-s", "-f", "-P", "-S", "-U"]
FAIL = {"LOW", "MEDIUM", "HIGH", "CRITICAL", "FATAL"}

# kind -> testssl's STARTTLS protocol (None: implicit TLS)
SCANS = {
    "smtp": "smtp",
    "submission": "smtp",
    "submissions": None,
    "pop3": "pop3",
    "pop3s": None,
    "https": None,
}

# What testssl must have said for each listener, or the scan is not
# complete (a scan cut short reports fewer findings, not worse ones).
REQUIRED = {
    "SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3",
    "cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT",
    "cipherlist_LOW", "cipherlist_3DES_IDEA", "cipherlist_AVERAGE",
    "cipherlist_STRONG", "PFS", "cipher_order", "cipherorder_TLSv1_2",
    "cipherorder_TLSv1_3", "cert_chain_of_trust", "cert_trust",
    "heartbleed", "CCS", "ROBOT", "secure_renego", "secure_client_renego",
    "CRIME_TLS", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK",
    "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4",
}

# Port 25 offers ECDHE with AES-CBC after the AEAD suites, for senders
# that have nothing better: refusing them there means the message comes
# in cleartext instead (RFC 7435 §1, opportunistic security).  testssl
# rates exactly two findings LOW because of that, and both are about CBC
# being offered at all, not about a flaw found: "Obsolete CBC ciphers"
# offered (cipherlist_AVERAGE), and LUCKY13 "potentially vulnerable,
# uses TLS CBC ciphers", which it says of any CBC suite without testing
# for the timing leak (OpenSSL's CBC code is constant-time since 1.0.1d).
# Those two, at LOW and no worse, are accepted on port 25 and nowhere
# else; every other finding there must be OK or INFO like on the others.
PORT25_ACCEPTED = {"cipherlist_AVERAGE": "LOW", "LUCKY13": "LOW"}

# WARN findings that say nothing about the server's TLS profile: the
# local openssl has no GOST engine; and the session resumption checks,
# which race: testssl's `openssl s_client -sess_out </dev/null` often
# exits before a TLS 1.3 NewSessionTicket arrives, so the second
# connection has no session to offer and testssl calls that "check
# failed because of connect problem" (it does the same against
# `openssl s_server`, about one run in two).  Resumption is a
# performance feature, not part of the profile.  Any other WARN (a check
# that could not be done) fails the test.
WARN_LOCAL = {
    "engine_problem": None,
    "sessionresumption_ticket": "check failed because of connect problem",
    "sessionresumption_ID": "check failed because of connect problem",
}

AEAD_12 = re.compile(r"^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|"
                     r"CHACHA20-POLY1305)$")
CBC_12 = re.compile(r"^ECDHE-(ECDSA|RSA)-AES(128|256)-SHA(256|384)?$")


# --- what a client gets on each listener kind (Python's ssl) ---

TIMEOUT = 10


def client_ctx(ciphers=None, tls13=True):
    ctx = tls_client_context()
    if not tls13:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def negotiate(daemon, kind, ctx):
    """TLS on a listener of kind, as its clients start it: (version,
    cipher name).  OSError (ssl.SSLError) when the handshake fails."""
    port = daemon.ports[kind]
    if kind in ("smtp", "submission"):
        with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT) as s:
            s.ehlo("client.example.net")
            s.starttls(context=ctx)
            return s.sock.version(), s.sock.cipher()[0]
    if kind == "pop3":
        p = poplib.POP3("127.0.0.1", port, timeout=TIMEOUT)
        try:
            p.stls(context=ctx)
            return p.sock.version(), p.sock.cipher()[0]
        finally:
            p.close()
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=TIMEOUT) as raw:
        with ctx.wrap_socket(raw) as t:
            return t.version(), t.cipher()[0]


CLIENT_KINDS = ["submission", "submissions", "pop3", "pop3s"]


def test_cbc_only_client_gets_tls_on_port25_alone(daemon):
    """An old MTA with nothing but ECDHE and AES-CBC: TLS on port 25,
    refused on every listener of our users' clients (the daemon's
    self-signed certificate is ECDSA)."""
    old = "ECDHE-ECDSA-AES128-SHA"
    assert negotiate(daemon, "smtp", client_ctx(old, tls13=False)) == \
        ("TLSv1.2", old)
    for kind in CLIENT_KINDS:
        with pytest.raises(OSError):
            negotiate(daemon, kind, client_ctx(old, tls13=False))
        # The same client with an AEAD suite is welcome.
        assert negotiate(daemon, kind, client_ctx(
            old + ":ECDHE-ECDSA-AES128-GCM-SHA256", tls13=False)) == \
            ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"), kind
    # Our order: a client listing CBC first still gets AEAD on port 25.
    assert negotiate(daemon, "smtp", client_ctx(
        old + ":ECDHE-ECDSA-CHACHA20-POLY1305", tls13=False))[1] == \
        "ECDHE-ECDSA-CHACHA20-POLY1305"
    for kind in ["smtp"] + CLIENT_KINDS:
        assert negotiate(daemon, kind, client_ctx())[0] == "TLSv1.3", kind


def test_configured_lists(make_daemon):
    d = make_daemon(extra="tls {\n"
                    " ciphers ECDHE-ECDSA-CHACHA20-POLY1305\n"
                    " smtp-ciphers ECDHE-ECDSA-AES256-SHA\n"
                    " ciphersuites TLS_CHACHA20_POLY1305_SHA256\n"
                    "}")
    d.start()
    for kind in CLIENT_KINDS:
        assert negotiate(d, kind, client_ctx(tls13=False)) == \
            ("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"), kind
    assert negotiate(d, "smtp", client_ctx(tls13=False)) == \
        ("TLSv1.2", "ECDHE-ECDSA-AES256-SHA")
    with pytest.raises(OSError):
        negotiate(d, "smtp", client_ctx("ECDHE-ECDSA-AES256-GCM-SHA384",
                                        tls13=False))
    for kind in ["smtp"] + CLIENT_KINDS:
        assert negotiate(d, kind, client_ctx()) == \
            ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"), kind


def test_check_reports_bad_list_by_line(tmpbase):
    path = os.path.join(tmpbase, "bad.conf")
    with open(path, "w") as f:
        f.write("listen smtp 127.0.0.1:2525\n"
                "tls {\n"
                " ciphers ECDHE+AESGCM:ECDHE-RSA-AES128-GCM-SHA257\n"
                " smtp-ciphers ECDHE+AESGCM:AES128-SHA\n"
                "}\n")
    r = subprocess.run([CACHETD, "-n", "-f", path], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        f'{path}:3: tls: ciphers: "ECDHE-RSA-AES128-GCM-SHA257" names no '
        "TLS 1.2 cipher suite",
        f"{path}:4: tls: smtp-ciphers: selects AES128-SHA, but its key "
        "exchange is not ECDHE or DHE (no forward secrecy, RFC 9325 §4.1)",
    ], r.stderr


# --- testssl ---

def make_pki(d):
    """A test CA and a server certificate for HOST signed by it: RSA
    2048 (so the ECDHE-RSA suites are what is offered), 120 days,
    serverAuth, a CRL distribution point on loopback."""
    return testpki.make_pki(
        d, [HOST], leaf_key="rsa:2048", days=120,
        extensions=["crlDistributionPoints=URI:http://127.0.0.1:9/ca.crl"])


def start_scans(daemon, ca, outdir):
    procs = {}
    env = dict(os.environ, PHONE_OUT="false")
    for kind, starttls in SCANS.items():
        out = os.path.join(outdir, f"{kind}.json")
        args = ["testssl", "--quiet", "--color", "0", "--warnings", "batch",
                "--nodns", "none", "--ip", "127.0.0.1", "--add-ca", ca,
                "--connect-timeout", "10", "--openssl-timeout", "10",
                "--jsonfile", out, *CHECKS]
        if starttls:
            args += ["--starttls", starttls]
        args.append(f"{HOST}:{daemon.ports[kind]}")
        log = open(os.path.join(outdir, f"{kind}.log"), "wb")
        # Its own process group: testssl forks openssl and bash helpers.
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env, cwd=outdir,
                             start_new_session=True)
        procs[kind] = (p, log, out)
    return procs


def stop_scan(p):
    """Stop a scan and whatever it left running in its process group."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


def wait_scans(procs):
    deadline = time.monotonic() + SCAN_TIMEOUT
    try:
        for kind, (p, _log, _out) in procs.items():
            left = deadline - time.monotonic()
            try:
                p.wait(timeout=max(left, 0.1))
            except subprocess.TimeoutExpired:
                raise AssertionError(f"testssl on {kind} still running "
                                     f"after {SCAN_TIMEOUT}s")
    finally:
        for p, log, _out in procs.values():
            stop_scan(p)
            log.close()


def findings(out):
    with open(out) as f:
        data = json.load(f)
    by_id = {}
    for item in data:
        by_id.setdefault(item["id"], []).append(item)
    return data, by_id


def judge(kind, data, by_id):
    """The findings that fail the test, as printable lines."""
    bad = []
    for item in data:
        sev, fid = item["severity"], item["id"]
        if sev == "WARN" and (fid not in WARN_LOCAL or WARN_LOCAL[fid]
                              not in (None, item["finding"])):
            bad.append(f"{kind}: WARN {fid}: {item['finding']}")
        if sev not in FAIL:
            continue
        if kind == "smtp" and PORT25_ACCEPTED.get(fid) == sev:
            continue
        bad.append(f"{kind}: {sev} {fid}: {item['finding']}")
    missing = REQUIRED - set(by_id)
    if missing:
        bad.append(f"{kind}: scan incomplete, no finding for "
                   f"{sorted(missing)}")
    return bad


def one(by_id, fid):
    items = by_id.get(fid, [])
    assert len(items) == 1, f"{fid}: {items}"
    return items[0]


@pytest.fixture
def scanned(tmpbase, request):
    ca, cert, key = make_pki(tmpbase)
    # Three scans share the smtp role and its limit per client address.
    d = Daemon(tmpbase, extra=f"tls {{ certificate {cert} key {key} }}\n"
               "max-connections-per-ip 100")
    d.start()
    outdir = os.path.join(tmpbase, "testssl")
    os.mkdir(outdir)
    procs = {}
    try:
        procs = start_scans(d, ca, outdir)
        wait_scans(procs)
        yield {kind: findings(out) for kind, (_p, _l, out) in procs.items()}
    finally:
        for p, _log, _out in procs.values():
            stop_scan(p)
        _dump_log_if_failed(request, [d])
        d.stop()


def test_testssl_every_listener_kind(scanned):
    bad = []
    for kind, (data, by_id) in scanned.items():
        bad += judge(kind, data, by_id)
    assert not bad, "testssl findings below OK:\n" + "\n".join(bad)

    for kind, (_data, by_id) in scanned.items():
        # The protocol floor and ceiling.
        for fid in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
            assert one(by_id, fid)["finding"].startswith("not offered"), \
                f"{kind}: {one(by_id, fid)}"
        for fid in ("TLS1_2", "TLS1_3"):
            assert one(by_id, fid)["finding"].startswith("offered"), \
                f"{kind}: {one(by_id, fid)}"
        assert one(by_id, "PFS")["severity"] == "OK", kind
        # Our order, not the client's.
        assert one(by_id, "cipher_order")["finding"].startswith("server"), \
            f"{kind}: {one(by_id, 'cipher_order')}"
        assert one(by_id, "cert_chain_of_trust")["severity"] == "OK", kind

        order = one(by_id, "cipherorder_TLSv1_2")["finding"].split()
        assert order, kind
        aead = [c for c in order if AEAD_12.match(c)]
        cbc = [c for c in order if CBC_12.match(c)]
        assert len(aead) + len(cbc) == len(order), f"{kind}: {order}"
        # The RSA certificate: the ECDHE-RSA suites, GCM first.
        assert order[0] == "ECDHE-RSA-AES256-GCM-SHA384", f"{kind}: {order}"
        assert "ECDHE-RSA-CHACHA20-POLY1305" in aead, f"{kind}: {order}"
        if kind == "smtp":
            # Port 25: the AEAD suites first, then CBC for old senders.
            assert cbc, f"smtp: no CBC suite: {order}"
            assert order == aead + cbc, f"smtp: CBC before AEAD: {order}"
            assert one(by_id, "LUCKY13")["severity"] == "LOW"
        else:
            # Our users' clients: AEAD only, so nothing CBC to flag.
            assert not cbc, f"{kind}: CBC offered: {order}"
            assert one(by_id, "cipherlist_AVERAGE")["finding"] == \
                "not offered", kind
            assert one(by_id, "LUCKY13")["severity"] == "OK", kind
