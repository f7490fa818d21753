"""ACME (RFC 8555) against Debian's pebble on loopback: `tls { acme URL }`
obtains a certificate for hostname, mta-sts.<domain> and
autoconfig.<domain> with the http-01 challenge answered on our own
`listen http`, renews it, keeps the old one when a challenge fails (with
backoff and the error in `cachetctl tls status`), and finishes a renewal
that pebble's restart broke off.

pebble listens on 127.0.0.1 with a certificate for acme.test made by
testpki (its CA is our tls-ca); it resolves our names through the test
DNS server, which also answers acme.test for the daemon."""

import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import free_port, pid_alive, wait_for
from dnsserver import DNSServer
from testpki import make_pki

NAMES = ["mx.example.org", "mta-sts.example.org", "autoconfig.example.org",
         "autodiscover.example.org"]
ZONE = "\n".join(f"{n}. 60 IN A 127.0.0.1" for n in ["acme.test", *NAMES])


class Pebble:
    """One pebble process on loopback, stopped by its PID."""

    def __init__(self, base, port, http_port, dns_addr, validity=None):
        self.base = base
        self.port = port
        self.mgmt = free_port()
        self.ca, cert, key = make_pki(base, ["acme.test"])
        cfg = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.mgmt}",
            "certificate": cert, "privateKey": key,
            "httpPort": http_port, "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False}}
        if validity:
            cfg["pebble"]["certificateValidityPeriod"] = validity
        self.config = os.path.join(base, "pebble.json")
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.dns_addr = dns_addr
        self.proc = None
        self.log = os.path.join(base, "pebble.log")

    @property
    def url(self):
        return f"https://acme.test:{self.port}/dir"

    def start(self):
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1",
                   PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["pebble", "-config", self.config, "-dnsserver",
             self.dns_addr], env=env, stdout=self.logf,
            stderr=self.logf, cwd=self.base)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(up, timeout=20)
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        assert not pid_alive(self.proc.pid) or self.proc.poll() is not None
        self.proc = None
        self.logf.close()

    def intermediate(self):
        """pebble's issuing certificate (made anew at each start)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = False
        with socket.create_connection(("127.0.0.1", self.mgmt),
                                      timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="acme.test") as t:
                t.sendall(b"GET /intermediates/0 HTTP/1.0\r\n"
                          b"Host: acme.test\r\n\r\n")
                data = b""
                while chunk := t.recv(65536):
                    data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.split()[1] == b"200", head
        path = os.path.join(self.base, "intermediate.pem")
        with open(path, "wb") as f:
            f.write(body)
        return path


def openssl(*args, input=None):
    r = subprocess.run(["openssl", *args], input=input,
                       capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode(errors="replace")


def cert_names(pem):
    _, out = openssl("x509", "-noout", "-ext", "subjectAltName",
                     input=pem)
    return sorted(p.strip()[4:] for p in out.split("\n", 1)[1].split(",")
                  if p.strip().startswith("DNS:"))


def verifies_under(pem, intermediate):
    """Is the leaf pem signed by pebble's intermediate?"""
    rc, out = openssl("verify", "-partial_chain", "-CAfile",
                      intermediate, input=pem)
    return rc == 0


def served_pem(port):
    """The leaf certificate a TLS listener serves now."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="mx.example.org") as t:
            der = t.getpeercert(binary_form=True)
    return ssl.DER_cert_to_PEM_cert(der).encode()


def leaf_of(path):
    with open(path, "rb") as f:
        chain = f.read()
    end = b"-----END CERTIFICATE-----"
    return chain[:chain.index(end) + len(end)] + b"\n"


def status(d):
    return {k.strip(): v.strip() for k, _, v in (
        line.partition(":") for line in d.ctl("tls", "status")
        .stdout.splitlines())}


def spki_of_key(path):
    _, out = openssl("pkey", "-in", path, "-pubout")
    return out


def spki_of_cert(pem):
    _, out = openssl("x509", "-noout", "-pubkey", input=pem)
    return out


@pytest.fixture
def acme(make_daemon, tmpbase, request):
    made = {}

    def make(validity=None, start_pebble=True):
        dns = DNSServer(ZONE).start()
        made["dns"] = dns
        pdir = os.path.join(tmpbase, "pebble")
        os.makedirs(pdir, exist_ok=True)
        # The daemon first: pebble must know our listen http port.
        port = free_port()
        extra = (f"tls-ca {pdir}/ca.pem\n"
                 f"tls {{ acme https://acme.test:{port}/dir "
                 f"contact postmaster@example.org }}")
        d = make_daemon(extra=extra, resolver=dns.addr)
        p = Pebble(pdir, port, d.ports["http"], dns.addr, validity)
        made["pebble"] = p
        if start_pebble:
            p.start()
        return d, p, dns
    yield make
    if "pebble" in made:
        if request.node.rep_call.failed if hasattr(
                request.node, "rep_call") else False:
            with open(made["pebble"].log, errors="replace") as f:
                print("----- pebble log -----\n" + f.read()[-5000:])
        made["pebble"].stop()
    if "dns" in made:
        made["dns"].stop()


def acme_file(d, name):
    return os.path.join(d.state, "lookup", "acme", name)


def wait_issued(d, timeout=90, other_than=None):
    """Wait until `tls status` shows an ACME certificate (a new one when
    other_than names the old validity)."""
    def issued():
        st = status(d)
        return ("issuer" in st and st.get("valid") != other_than and
                st["valid"])
    wait_for(issued, timeout=timeout, step=0.5)
    return status(d)


def test_issue_for_all_names_and_serve_it(acme):
    d, pebble, _ = acme()
    d.start()
    st = wait_issued(d)
    assert st["names"].split() == NAMES
    assert sorted(st["certificate"].split()) == sorted(NAMES)
    assert st["last error"] == "none"
    chain = acme_file(d, "cert.pem")
    leaf = leaf_of(chain)
    assert cert_names(leaf) == sorted(NAMES)
    assert verifies_under(leaf, pebble.intermediate())
    # The key is lookup's alone (0600), next to the key for the next one.
    for name in ("key.pem", "next-key.pem", "account.pem"):
        assert os.stat(acme_file(d, name)).st_mode & 0o077 == 0
    assert spki_of_cert(leaf) == spki_of_key(acme_file(d, "key.pem"))
    assert spki_of_key(acme_file(d, "next-key.pem")) != \
        spki_of_key(acme_file(d, "key.pem"))
    # Renewal is planned for later, not now.
    assert st["next renewal"] > time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                              time.gmtime())
    # Installed while running (lookup_tls_install): every TLS listener
    # serves it to new connections, without a restart.
    for kind in ("https", "submissions", "imaps", "pop3s"):
        wait_for(lambda: served_pem(d.ports[kind]) == leaf, timeout=20,
                 step=0.2)
    # Every role reads the stored certificate at start (proc_tls_paths):
    # after a restart they serve it still, and no new order is made.
    d.stop()
    d.start()
    assert served_pem(d.ports["https"]) == leaf
    assert served_pem(d.ports["submissions"]) == leaf
    assert served_pem(d.ports["imaps"]) == leaf
    time.sleep(2)
    assert status(d)["valid"] == st["valid"]
    assert d.read_log().count("event=acme-issued") == 1


def test_challenge_token_served_only_while_in_progress(acme):
    d, pebble, _ = acme()
    d.start()
    wait_issued(d)
    # pebble fetched our answers: the http role logged them with 200.
    log = d.read_log()
    hits = [line for line in log.splitlines()
            if "path=/.well-known/acme-challenge/" in line]
    assert hits and all("status=200" in h for h in hits[:len(NAMES)])
    token = hits[0].split("path=/.well-known/acme-challenge/")[1].split()[0]
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", d.ports["http"],
                                   timeout=10)
    c.request("GET", f"/.well-known/acme-challenge/{token}",
              headers={"Host": "mx.example.org"})
    r = c.getresponse()
    r.read()
    c.close()
    # The run is over: the token is no longer answered.
    assert r.status == 404


def test_renew_short_lived_certificate(acme):
    # 45 s of life: renewal at two thirds, about 30 s after issuance.
    d, pebble, _ = acme(validity=45)
    d.start()
    first = wait_issued(d)
    next_spki = spki_of_key(acme_file(d, "next-key.pem"))
    second = wait_issued(d, timeout=90, other_than=first["valid"])
    assert second["valid"] != first["valid"]
    leaf = leaf_of(acme_file(d, "cert.pem"))
    assert cert_names(leaf) == sorted(NAMES)
    # The key made ahead (whose TLSA could be published) is now in use.
    assert spki_of_cert(leaf) == next_spki
    assert d.read_log().count("event=acme-issued") >= 2
    # The renewed certificate is what new connections get.
    wait_for(lambda: served_pem(d.ports["submissions"]) == leaf,
             timeout=20, step=0.2)


def test_failed_challenge_keeps_old_certificate_with_backoff(acme):
    d, pebble, dns = acme()
    d.start()
    first = wait_issued(d)
    with open(acme_file(d, "cert.pem"), "rb") as f:
        old = f.read()
    # Our names now point elsewhere: pebble's check cannot reach us.
    # Every name, not one: pebble may hand back a name's valid
    # authorization from the first issuance even with
    # PEBBLE_AUTHZREUSE=0 (it reuses when rand.Intn(100) <= the percent,
    # so 1 time in 100), and a reused name needs no check to fail.
    dns.replace(ZONE.replace("org. 60 IN A 127.0.0.1",
                             "org. 60 IN A 127.0.0.2"))
    assert "renewal started" in d.ctl("tls", "renew").stdout

    def failed():
        return status(d)["last error"] != "none"
    assert wait_for(failed, timeout=60, step=0.5)
    st = status(d)
    assert any(n in st["last error"] for n in NAMES)
    assert "invalid" in st["last error"]
    with open(acme_file(d, "cert.pem"), "rb") as f:
        assert f.read() == old
    assert st["valid"] == first["valid"]
    # Backoff: it tries again by itself, later each time.
    assert wait_for(lambda: "failures 2" in status(d)["last error"],
                    timeout=60, step=0.5)
    log = d.read_log()
    assert "event=acme result=error failures=1" in log
    assert "event=acme result=error failures=2" in log
    # The name is ours again: the next retry succeeds.
    dns.replace(ZONE)
    st = wait_issued(d, timeout=90, other_than=first["valid"])
    assert st["last error"] == "none"
    with open(acme_file(d, "cert.pem"), "rb") as f:
        assert f.read() != old


def test_pebble_restarted_mid_renewal(acme):
    d, pebble, dns = acme()
    # pebble cannot resolve our hostname yet: its check of the first
    # challenge hangs, and we are mid-run when it goes away.
    dns.drop("mx.example.org")
    d.start()
    wait_for(lambda: "event=acme-challenge" in d.read_log(), timeout=60,
             step=0.2)
    assert "event=acme-issued" not in d.read_log()
    pebble.stop()
    with dns.lock:
        dns.drops.clear()
    wait_for(lambda: "event=acme result=error" in d.read_log(),
             timeout=60, step=0.2)
    pebble.start()
    st = wait_issued(d, timeout=90)
    assert sorted(st["certificate"].split()) == sorted(NAMES)
    assert verifies_under(leaf_of(acme_file(d, "cert.pem")),
                          pebble.intermediate())


def test_status_and_renew_without_acme(make_daemon):
    d = make_daemon()
    d.start()
    assert d.ctl("tls", "status").stdout.strip() == "acme: none"
    r = d.ctl("tls", "renew", check=False)
    assert r.returncode == 1 and "no tls { acme }" in r.stderr
    r = d.ctl("tls", "bogus", check=False)
    assert r.returncode == 2


def test_mismatched_pair_at_start_renews_at_once(acme):
    # A crash between writing the key and the chain leaves a pair that
    # does not match: the next start sees it and renews at once.
    d, pebble, _ = acme()
    d.start()
    first = wait_issued(d)
    d.stop()
    with open(acme_file(d, "next-key.pem"), "rb") as f:
        other = f.read()
    with open(acme_file(d, "key.pem"), "wb") as f:
        f.write(other)
    d.start()
    st = wait_issued(d, timeout=90, other_than=first["valid"])
    assert "do not match: renewing now" in d.read_log()
    leaf = leaf_of(acme_file(d, "cert.pem"))
    assert spki_of_cert(leaf) == spki_of_key(acme_file(d, "key.pem"))
    assert st["last error"] == "none"
