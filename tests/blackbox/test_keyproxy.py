"""The TLS private key stays in the lookup role (DESIGN.md: lookup is the
only holder of secrets; the roles that parse the network hold none).
The smtp and pop3 roles sign their handshakes through lookup
(src/lib/keyproxy.c): their memory holds no copy of the key, a handshake
cannot complete while lookup is stopped, and works again once it runs.
Both an EC key (the self-signed default) and an RSA key (configured with
`tls { }`), TLS 1.2 and 1.3."""

import os
import poplib
import re
import signal
import smtplib
import ssl
import subprocess
import time

import pytest

from conftest import (on_every_worker, role_of, tls_client_context,
                      wait_for)

HOST = "127.0.0.1"


def private_number(key_path):
    """The private scalar (EC) or exponent (RSA) of a PEM key, big-endian
    bytes, read with openssl(1)."""
    text = subprocess.run(["openssl", "pkey", "-in", key_path, "-noout",
                           "-text"], capture_output=True, text=True,
                          check=True).stdout
    m = re.search(r"^(?:priv|privateExponent):\s*\n((?:\s+[0-9a-f:]+\n)+)",
                  text, re.M)
    assert m, text
    raw = bytes.fromhex(re.sub(r"[\s:]", "", m.group(1)))
    return raw.lstrip(b"\0")


def memory_holds(pid, needles):
    """Whether any readable mapping of process pid holds one of needles
    (as root, through /proc/PID/mem), in one pass over its memory."""
    with open(f"/proc/{pid}/maps") as maps, \
            open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if not perms.startswith("r"):
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            if hi - lo > 512 * 1024 * 1024:
                continue
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue
            if any(n in chunk for n in needles):
                return True
    return False


def holds_key(pid, number):
    """The key's number in memory, as its big-endian bytes (PEM/DER) or as
    OpenSSL's BIGNUM keeps it on this little-endian machine."""
    return memory_holds(pid, (number[:24], number[::-1][:24]))


def smtp_starttls(d, version=None):
    ctx = tls_client_context()
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    s = smtplib.SMTP(HOST, d.ports["smtp"], timeout=30)
    try:
        s.ehlo("client.example.net")
        s.starttls(context=ctx)
        s.ehlo("client.example.net")
        assert s.noop()[0] == 250
        return s.sock.version()
    finally:
        s.close()


def starttls_everywhere(d):
    """A TLS 1.3 handshake on every smtp and pop3 worker, each signed
    through lookup: the TLS versions, one per connection."""
    def smtp():
        s = smtplib.SMTP(HOST, d.ports["smtp"], timeout=30)
        s.ehlo("client.example.net")
        s.starttls(context=tls_client_context())
        assert s.noop()[0] == 250
        return s.sock, s

    def pop3s():
        p = poplib.POP3_SSL(HOST, d.ports["pop3s"],
                            context=tls_client_context(), timeout=30)
        return p.sock, p
    versions = []
    for role, connect in (("smtp", smtp), ("pop3", pop3s)):
        held, _ = on_every_worker(d, role, connect)
        versions += [c.sock.version() for c in held]
        for c in held:
            c.close()
    return versions


def pop3s_version(d):
    p = poplib.POP3_SSL(HOST, d.ports["pop3s"], context=tls_client_context(),
                        timeout=30)
    try:
        return p.sock.version()
    finally:
        p.close()


def rsa_daemon(make_daemon, tmpbase):
    """A daemon with an RSA certificate and key of its own."""
    certdir = os.path.join(tmpbase, "rsa-cert")
    os.makedirs(certdir, exist_ok=True)
    cert = os.path.join(certdir, "cert.pem")
    key = os.path.join(certdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=mx.example.org"], check=True,
                   capture_output=True)
    os.chmod(key, 0o600)
    d = make_daemon(extra=f"tls {{\n certificate {cert}\n key {key}\n}}")
    d.start()
    return d, key


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_network_roles_hold_no_private_key(daemon, make_daemon, tmpbase,
                                           kind):
    if kind == "ec":
        d = daemon
        key = os.path.join(d.state, "tls", "key.pem")
    else:
        d, key = rsa_daemon(make_daemon, tmpbase)
    number = private_number(key)
    assert len(number) >= 30
    # Handshakes of every kind, so that whatever would load it has.
    assert smtp_starttls(d, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    assert smtp_starttls(d, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert pop3s_version(d) in ("TLSv1.2", "TLSv1.3")
    # Every worker process has made a handshake of its own.
    assert set(starttls_everywhere(d)) == {"TLSv1.3"}
    pids = d.role_pids()
    # The search works: the holder has it.
    assert holds_key(pids["lookup"], number)
    for process, pid in pids.items():
        if role_of(process) != "lookup":
            assert not holds_key(pid, number), process


def test_handshake_needs_lookup(daemon):
    """smtp cannot sign without lookup: with lookup stopped the handshake
    fails (after the keyproxy's bounded wait) and the role goes on; with
    lookup running again, the next handshake works."""
    d = daemon
    assert smtp_starttls(d) == "TLSv1.3"
    lookup = d.role_pids()["lookup"]
    smtp_pids = d.worker_pids("smtp")
    os.kill(lookup, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        with pytest.raises((ssl.SSLError, OSError,
                            smtplib.SMTPException)):
            smtp_starttls(d)
        assert time.monotonic() - t0 < 20
    finally:
        os.kill(lookup, signal.SIGCONT)
    assert wait_for(lambda: "keyproxy: lookup did not answer in time"
                    in d.read_log(), 10), d.log_tail()
    ok = []

    def works():
        try:
            ok.append(smtp_starttls(d))
            return True
        except (ssl.SSLError, OSError, smtplib.SMTPException):
            return False
    assert wait_for(works, 15), d.log_tail()
    assert ok[-1] == "TLSv1.3"
    # Neither role was restarted for it.
    assert d.worker_pids("smtp") == smtp_pids
    assert d.role_pids()["lookup"] == lookup


def test_handshakes_after_lookup_restart(daemon):
    """kill -9 of lookup: the parent restarts it, each worker of smtp and
    pop3 gives the new lookup a channel, and handshakes work again."""
    d = daemon
    assert smtp_starttls(d) == "TLSv1.3"
    old = d.role_pids()["lookup"]
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: d.status().get("lookup", {}).get("pid")
                    not in (None, old) and
                    d.status()["lookup"].get("state") == "alive", 20), \
        d.ctl("status").stdout

    def works():
        try:
            return smtp_starttls(d) == "TLSv1.3" and \
                pop3s_version(d) == "TLSv1.3"
        except (ssl.SSLError, OSError, smtplib.SMTPException,
                poplib.error_proto):
            return False
    assert wait_for(works, 20), d.log_tail()
    # Every worker of smtp and pop3 gave the new lookup its channel.
    assert set(starttls_everywhere(d)) == {"TLSv1.3"}, d.log_tail()
