"""A new TLS certificate while the daemon runs (issue 16): `cachetctl tls
reload` reads the tls { } files again, lookup checks the pair and keeps
the key (src/lookup/lookup_tls.c), and every process that serves TLS
(each smtp, imap and pop3 worker, http) makes new contexts from the
chain for its next connections (keyproxy_chain_update()).  Sessions
already open go on, handshakes in flight complete; a role restarted
later (whatever the files hold: the parent gives it the installed
chain), and a restarted lookup, present the new certificate too; a pair
that does not match is refused and the old one stays; the key is still
held by lookup alone."""

import hashlib
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess

import pytest

import testpki
from conftest import (imap_connect, on_every_worker, role_of,
                      tls_client_context, wait_for)
from test_keyproxy import holds_key, private_number

HOST = "127.0.0.1"
TIMEOUT = 20
ALICE, ALICE_PW = "alice@example.org", "secret"
NAME = "mx.example.org"


def leaf_der(path):
    """The DER of the first certificate of a PEM file."""
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def spki_sha256(cert):
    """SHA-256 of the certificate's SubjectPublicKeyInfo (TLSA 3 1 1),
    computed with openssl(1)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey",
                          "-noout"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


@pytest.fixture
def pkis(tmpbase):
    """Two unrelated pairs: A with an EC key, B with an RSA key (so both
    kinds of stand-in key sign after a change)."""
    out = {}
    for name, kind in (("a", "ec"), ("b", "rsa:2048")):
        d = os.path.join(tmpbase, "pki-" + name)
        os.makedirs(d)
        _ca, cert, key = testpki.make_pki(d, [NAME], leaf_key=kind)
        out[name] = (cert, key)
    return out


def tls_daemon(make_daemon, tmpbase, pkis):
    """A daemon whose tls { } files hold pair A."""
    live = os.path.join(tmpbase, "live")
    os.makedirs(live)
    cert, key = os.path.join(live, "cert.pem"), os.path.join(live, "key.pem")
    install(pkis["a"], cert, key)
    d = make_daemon(extra=f"tls {{\n certificate {cert}\n key {key}\n}}")
    d.start()
    d.live = (cert, key)
    return d


def install(pair, cert, key):
    """Replace the files as a renewal would: each whole, by rename."""
    for src, dst in zip(pair, (cert, key)):
        shutil.copyfile(src, dst + ".new")
        os.chmod(dst + ".new", 0o600)
        os.replace(dst + ".new", dst)


def peer_der(sock):
    return sock.getpeercert(binary_form=True)


# --- a new connection on each kind of TLS listener: (socket, closer) ---

def smtp_starttls(d, kind="smtp"):
    s = smtplib.SMTP(HOST, d.ports[kind], local_hostname="client.test",
                     timeout=TIMEOUT)
    s.ehlo()
    code, resp = s.starttls(context=tls_client_context())
    assert code == 220, resp
    return s.sock, s


def submissions(d):
    s = smtplib.SMTP_SSL(HOST, d.ports["submissions"],
                         local_hostname="client.test", timeout=TIMEOUT,
                         context=tls_client_context())
    return s.sock, s


def imap_starttls(d):
    c = imap_connect(d, "starttls", TIMEOUT)
    return c.sock, c


def imaps(d):
    c = imap_connect(d, "imaps", TIMEOUT)
    return c.sock, c


def pop3_stls(d):
    p = poplib.POP3(HOST, d.ports["pop3"], timeout=TIMEOUT)
    p.stls(context=tls_client_context())
    return p.sock, p


def pop3s(d):
    p = poplib.POP3_SSL(HOST, d.ports["pop3s"],
                        context=tls_client_context(), timeout=TIMEOUT)
    return p.sock, p


class HTTPSConn:
    def __init__(self, d):
        raw = socket.create_connection((HOST, d.ports["https"]),
                                       timeout=TIMEOUT)
        self.sock = tls_client_context().wrap_socket(raw,
                                                     server_hostname=NAME)

    def close(self):
        self.sock.close()


def https(d):
    c = HTTPSConn(d)
    return c.sock, c


# kind of listener -> (role, connect)
LISTENERS = {
    "smtp": ("smtp", smtp_starttls),
    "submission": ("smtp", lambda d: smtp_starttls(d, "submission")),
    "submissions": ("smtp", submissions),
    "imap": ("imap", imap_starttls),
    "imaps": ("imap", imaps),
    "pop3": ("pop3", pop3_stls),
    "pop3s": ("pop3", pop3s),
    "https": ("http", https),
}


def close_quietly(obj):
    try:
        obj.close()
    except (OSError, smtplib.SMTPException, imaplib.IMAP4.error,
            poplib.error_proto):
        pass


def presented(d, kind):
    """The leaf certificate each process serving listener kind presents
    to a new connection (one per worker of smtp, imap, pop3)."""
    role, connect = LISTENERS[kind]
    if role == "http":
        sock, obj = connect(d)
        der = peer_der(sock)
        close_quietly(obj)
        return [der]
    held, _ = on_every_worker(d, role, lambda: connect(d))
    ders = []
    for obj in held:
        ders.append(peer_der(obj.sock))
        close_quietly(obj)
    return ders


def all_present(d, der, kinds=tuple(LISTENERS)):
    """Whether every listener of kinds, on every worker, presents der."""
    for kind in kinds:
        try:
            got = presented(d, kind)
        except (OSError, ssl.SSLError, smtplib.SMTPException,
                imaplib.IMAP4.error, poplib.error_proto):
            return False
        if any(g != der for g in got):
            return False
    return True


def smtp_transaction(s, subject):
    code, resp = s.mail("sender@example.net")
    assert code == 250, resp
    code, resp = s.rcpt(ALICE)
    assert code == 250, resp
    code, resp = s.data(f"From: sender@example.net\r\nTo: {ALICE}\r\n"
                        f"Subject: {subject}\r\n\r\nbody\r\n".encode())
    assert code == 250, resp


def test_reload_swaps_certificate_everywhere(make_daemon, tmpbase, pkis):
    d = tls_daemon(make_daemon, tmpbase, pkis)
    d.add_user(ALICE, ALICE_PW)
    a, b = leaf_der(pkis["a"][0]), leaf_der(pkis["b"][0])
    assert all_present(d, a), d.log_tail()

    # Sessions that stay open across the change: IMAP over implicit TLS,
    # logged in and selected, and SMTP after STARTTLS on port 25.
    im = imap_connect(d, "imaps", TIMEOUT)
    assert im.login(ALICE, ALICE_PW)[0] == "OK"
    assert im.select("INBOX")[0] == "OK"
    sm = smtplib.SMTP(HOST, d.ports["smtp"], local_hostname="client.test",
                      timeout=TIMEOUT)
    sm.ehlo()
    assert sm.starttls(context=tls_client_context())[0] == 220
    sm.ehlo()
    assert peer_der(im.sock) == a and peer_der(sm.sock) == a

    before = d.role_pids()
    install(pkis["b"], *d.live)
    r = d.ctl("tls", "reload", check=False)
    assert r.returncode == 0, (r.stdout, r.stderr)
    # It says which key is in use now, as a TLSA 3 1 1 record holds it.
    assert f"TLSA 3 1 1 {spki_sha256(pkis['b'][0])}" in r.stdout, r.stdout

    # Every TLS listener of every process presents B to new connections
    # (each process gets the chain from lookup a moment later).
    assert wait_for(lambda: all_present(d, b), 20), d.log_tail()
    # Each made its new contexts itself, none was restarted for it (a
    # restarted one would have read B from the files).
    assert d.role_pids() == before, d.log_tail()
    log = d.read_log()
    for process, pid in before.items():
        if role_of(process) in ("smtp", "imap", "pop3", "http"):
            assert f"[{pid}]: event=tls-certificate-installed" in log, \
                process

    # The old sessions go on, with A, and end cleanly.
    assert im.noop()[0] == "OK"
    assert im.status("INBOX", "(MESSAGES)")[0] == "OK"
    smtp_transaction(sm, "across the change")
    assert sm.noop()[0] == 250
    assert peer_der(im.sock) == a and peer_der(sm.sock) == a
    assert sm.quit()[0] == 221
    assert im.logout()[0] == "BYE"
    assert wait_for(lambda: any(b"across the change" in m
                                for m in d.maildir_new(ALICE)), 20), \
        d.log_tail()
    # and a session begun after it, with B
    s, obj = smtp_starttls(d)
    obj.ehlo()
    smtp_transaction(obj, "after the change")
    assert obj.quit()[0] == 221

    # A worker of each role and http killed, while the files hold A
    # again (as when a certificate comes from elsewhere than the files):
    # the parent starts their new processes with the chain lookup
    # installed, so they present B from the start (lookup's copy, sent
    # when they give it their key channel, changes nothing then).
    install(pkis["a"], *d.live)
    killed = ("smtp/0", "imap/0", "pop3/0", "http")
    st = d.status()
    for proc in killed:
        os.kill(st[proc]["pid"], signal.SIGKILL)

    def back():
        now = d.status()
        return all(now.get(p, {}).get("pid") not in (None, st[p]["pid"])
                   and now[p]["state"] == "alive" for p in killed)
    assert wait_for(back, 30), d.ctl("status").stdout
    assert all_present(d, b), d.log_tail()
    now = d.status()
    for proc in killed:
        pid = now[proc]["pid"]
        assert not re.search(rf"\[{pid}\]: event=tls-certificate-installed",
                             d.read_log()), (proc, d.log_tail())

    # lookup restarted: it reads the files (B again), and signs for B.
    install(pkis["b"], *d.live)
    old = d.role_pids()["lookup"]
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: d.status().get("lookup", {}).get("pid")
                    not in (None, old) and
                    d.status()["lookup"]["state"] == "alive", 30)
    assert wait_for(lambda: all_present(d, b), 20), d.log_tail()

    # B's private key is in lookup and nowhere else, the parent (which
    # opened the file for lookup) included.
    number = private_number(pkis["b"][1])
    pids = d.role_pids()
    assert holds_key(pids["lookup"], number)
    for process, pid in pids.items():
        if role_of(process) != "lookup":
            assert not holds_key(pid, number), process
    assert not holds_key(d.proc.pid, number), "parent"


def test_reload_refuses_a_bad_pair(make_daemon, tmpbase, pkis):
    d = tls_daemon(make_daemon, tmpbase, pkis)
    a = leaf_der(pkis["a"][0])
    cert, key = d.live
    # B's certificate with A's key: refused, with the reason.
    install((pkis["b"][0], pkis["a"][1]), cert, key)
    r = d.ctl("tls", "reload", check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "does not match the certificate" in r.stderr, r.stderr
    assert "the certificate in use stays" in r.stderr, r.stderr
    # Not PEM at all, and no key file: refused as well.
    with open(key, "w") as f:
        f.write("not a key\n")
    r = d.ctl("tls", "reload", check=False)
    assert r.returncode == 1 and "private key" in r.stderr, r.stderr
    os.unlink(key)
    r = d.ctl("tls", "reload", check=False)
    assert r.returncode == 1 and "key" in r.stderr, r.stderr
    # A stays, on every listener, and still signs.
    assert all_present(d, a), d.log_tail()
    assert "event=tls-key-installed" not in d.read_log()


def test_reload_usage(daemon):
    """Only `tls reload` is the parent's; with the self-signed default
    it reloads those files (unchanged: the same certificate)."""
    r = daemon.ctl("tls", "reload", check=False)
    assert r.returncode == 0, r.stderr
    der = leaf_der(os.path.join(daemon.state, "tls", "cert.pem"))
    assert all_present(daemon, der, ("smtp", "imaps")), daemon.log_tail()


def test_handshakes_in_flight_complete(make_daemon, tmpbase, pkis):
    """Connections accepted by the kernel while every imap worker is
    stopped, their ClientHello sent, then the change: when the workers
    run again each handshake completes, with A (begun before the worker
    read the new chain: lookup still signs with A's key) or with B."""
    import threading
    d = tls_daemon(make_daemon, tmpbase, pkis)
    a, b = leaf_der(pkis["a"][0]), leaf_der(pkis["b"][0])
    results = []

    def client():
        try:
            raw = socket.create_connection((HOST, d.ports["imaps"]),
                                           timeout=30)
            s = tls_client_context().wrap_socket(raw)
            greeting = s.recv(100)
            results.append((peer_der(s), greeting))
            s.close()
        except (OSError, ssl.SSLError) as e:
            results.append((None, repr(e)))

    pids = d.worker_pids("imap")
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        install(pkis["b"], *d.live)
        r = d.ctl("tls", "reload", check=False)
        assert r.returncode == 0, r.stderr
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    for t in threads:
        t.join(40)
    assert len(results) == 4, results
    for der, greeting in results:
        assert der in (a, b), (greeting, d.log_tail())
        assert greeting.startswith(b"* OK"), greeting
    assert wait_for(lambda: all_present(d, b, ("imaps",)), 20)
