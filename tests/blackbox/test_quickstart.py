"""`cachetctl -f FILE quickstart ADDRESS` (issue 16), the newcomer's
first step: on a clean directory it writes a config that `cachetd -n`
accepts, makes the first user with a password printed once, and the
domain's DKIM keys; the daemon started on that very file lets the user
log in with that password.  It never overwrites a config or an install.

The generated config is the one run: its ports, listen address, state
and mail directories, ACME directory and resolver are chosen by
quickstart's own options (so that it runs on free loopback ports, with
the tests' DNS and an ACME URL on loopback that nothing answers).  One
line is added after `cachetd -n` has accepted the file as written:
`dnssec-trust-anchor none`, which the harness gives every daemon
(conftest.py), since the tests' DNS server is not signed and a validator
anchored at the root would call its answers bogus.

Then the newcomer's last condition: with the test DNS serving the
records quickstart printed (and `cachetctl dns` prints the same ones,
the TLSA records of a key aside), plus hostname's address and its PTR,
`cachetctl dns check` finds every record present."""

import imaplib
import os
import poplib
import pwd
import re
import smtplib
import subprocess
import time

import pytest
from dnslib import RR

from conftest import (CACHETCTL, CACHETD, Daemon, free_port,
                      tls_client_context)
from dnsserver import DNSServer

# The kinds quickstart writes (no cleartext imap or pop3).
QS_KINDS = ["smtp", "submission", "submissions", "imaps", "pop3s",
            "https", "http", "metrics"]
ADDRESS = "alice@example.org"
PASSWORD_RE = re.compile(r"^  password: (\S+)$", re.M)
TIMEOUT = 10


class QuickstartDaemon(Daemon):
    """A cachetd whose config is written by quickstart, not by the
    harness; started, checked and stopped (by PID) as any other."""

    def __init__(self, base, resolver):
        self.resolver = resolver
        self.base = base
        self.state = os.path.join(base, "state")
        self.mail = os.path.join(base, "mail")
        self.ports = {k: free_port() for k in QS_KINDS}
        # In a directory that does not exist yet, as /etc/cachet on a
        # fresh system: quickstart makes it.
        self.conf = os.path.join(base, "etc", "cachet", "cachet.conf")
        self.log = os.path.join(base, "cachetd.log")
        self.proc = None

    def quickstart_args(self, *extra):
        args = [CACHETCTL, "-f", self.conf, "quickstart", ADDRESS,
                "--state-dir", self.state, "--mail-dir", self.mail,
                "--listen-address", "127.0.0.1",
                # Nothing listens there: ACME fails, on loopback only.
                "--acme", f"https://127.0.0.1:{free_port()}/dir",
                "--resolver", self.resolver]
        for k in QS_KINDS:
            args += ["--port", f"{k}={self.ports[k]}"]
        return args + list(extra)

    def quickstart(self, *extra):
        return subprocess.run(self.quickstart_args(*extra),
                              capture_output=True, text=True, timeout=60)


def zone_lines(out):
    """The zone-file lines of quickstart's output."""
    return [l for l in out.splitlines()
            if re.match(r"^\S+\. \d+ IN [A-Z]+ ", l)]


# Documentation addresses (RFC 5737, RFC 3849) for hostname: what the
# operator publishes in step 1 of quickstart's "Next".  Only data.
HOST = "mail.example.org"
ADDRESSES = (f"{HOST}. 0 IN A 192.0.2.25",
             f"{HOST}. 0 IN AAAA 2001:db8::25",
             f"25.2.0.192.in-addr.arpa. 0 IN PTR {HOST}.",
             "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
             f"ip6.arpa. 0 IN PTR {HOST}.")


def serve(server, lines):
    """Serve zone lines as printed, with TTL 0 (no answer is cached)."""
    server.replace("\n".join(re.sub(r"^(\S+) \d+ IN ", r"\1 0 IN ", line)
                             for line in lines))


@pytest.fixture
def dns_server():
    server = DNSServer().start()
    yield server
    server.stop()


@pytest.fixture
def qs(tmpbase, dns_server, request):
    d = QuickstartDaemon(tmpbase, dns_server.addr)
    yield d
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and d.proc is not None:
        print(d.log_tail(200))
    d.stop()


def test_newcomer(qs, dns_server):
    r = qs.quickstart()
    assert r.returncode == 0, r.stderr
    with open(qs.conf) as f:
        text = f.read()
    assert text.startswith("# cachet.conf for example.org")

    # The password: printed once, 20 characters of the alphabet.
    found = PASSWORD_RE.findall(r.stdout)
    assert len(found) == 1, r.stdout
    password = found[0]
    assert re.fullmatch(r"[2-9a-km-np-z]{5}(-[2-9a-km-np-z]{5}){3}",
                        password), password
    assert password not in text

    # What it asks to publish is zone-file syntax a DNS server loads.
    recs = zone_lines(r.stdout)
    assert "example.org. 3600 IN MX 10 mail.example.org." in recs
    assert any(l.startswith("example.org. 3600 IN TXT \"v=spf1 ")
               for l in recs)
    loaded = RR.fromZone("\n".join(recs))
    assert len(loaded) == len(recs)
    assert f"cachetctl -f {qs.conf} dns check example.org" in r.stdout

    # cachetd -n accepts the file as written.
    n = subprocess.run([CACHETD, "-n", "-f", qs.conf], capture_output=True,
                       text=True, timeout=30)
    assert n.returncode == 0, n.stderr + n.stdout

    # The files made for the lookup role are its user's (as root).
    lookup = os.path.join(qs.state, "lookup")
    uid = (pwd.getpwnam("_cachetl").pw_uid if os.geteuid() == 0
           else os.geteuid())
    for name in ("", "cachet.db", "dkim.db"):
        st = os.stat(os.path.join(lookup, name))
        assert st.st_uid == uid, name
        assert st.st_mode & 0o077 == 0, name

    with open(qs.conf, "a") as f:
        f.write("dnssec-trust-anchor none\n")
    qs.start()

    # The printed password logs in, on each protocol's TLS port.
    c = imaplib.IMAP4_SSL("127.0.0.1", qs.ports["imaps"],
                          ssl_context=tls_client_context(), timeout=TIMEOUT)
    assert c.login(ADDRESS, password)[0] == "OK"
    assert c.select("INBOX")[0] == "OK"
    c.logout()
    c = imaplib.IMAP4_SSL("127.0.0.1", qs.ports["imaps"],
                          ssl_context=tls_client_context(), timeout=TIMEOUT)
    with pytest.raises(imaplib.IMAP4.error):
        c.login(ADDRESS, password[:-1] + ("2" if password[-1] != "2"
                                          else "3"))
    c.logout()
    p = poplib.POP3_SSL("127.0.0.1", qs.ports["pop3s"],
                        context=tls_client_context(), timeout=TIMEOUT)
    p.user(ADDRESS)
    assert p.pass_(password).startswith(b"+OK")
    p.quit()
    s = smtplib.SMTP_SSL("127.0.0.1", qs.ports["submissions"],
                         context=tls_client_context(), timeout=TIMEOUT)
    s.ehlo("client.example")
    assert s.login(ADDRESS, password)[0] == 235
    s.quit()

    # lookup found the DKIM keys quickstart made and made none of its
    # own: exactly the pair, both active, and their records printed.
    time.sleep(1)
    keys = qs.ctl("dkim", "list", "example.org").stdout.split("\n")
    keys = [k.split() for k in keys if k.strip()]
    year = time.gmtime().tm_year
    assert sorted((k[1], k[2], k[4]) for k in keys) == [
        (f"c{year}a-ed", "ed25519", "active"),
        (f"c{year}a-rsa", "rsa", "active")], keys
    for k in keys:
        assert any(l.startswith(f"{k[1]}._domainkey.example.org. ")
                   for l in recs), recs

    # The daemon prints what quickstart printed, and the TLSA record of
    # the key it serves, which quickstart could not know (it said so).
    assert not any(" IN TLSA " in l for l in recs)
    assert "; no TLS key: no TLSA record for _25._tcp.mail.example.org." \
        in r.stdout.splitlines()
    daemon_recs = zone_lines(qs.ctl("dns", "example.org").stdout)
    assert set(recs) <= set(daemon_recs), (recs, daemon_recs)
    extra = set(daemon_recs) - set(recs)
    assert extra and all(
        l.startswith("_25._tcp.mail.example.org. 3600 IN TLSA 3 1 1 ")
        for l in extra), extra

    # Published (with hostname's addresses), every record is present.
    serve(dns_server, daemon_recs + list(ADDRESSES))
    r = qs.ctl("dns", "check", "example.org", check=False, timeout=60)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, r.stdout + r.stderr
    assert lines and all(l.startswith("present ") for l in lines), lines
    for l in daemon_recs:
        name, rtype = l.split()[0], l.split()[3]
        assert f"present {name} {rtype}" in lines, (l, lines)


def test_refuses_to_overwrite(qs):
    os.makedirs(os.path.dirname(qs.conf))
    with open(qs.conf, "w") as f:
        f.write("# mine\n")
    r = qs.quickstart()
    assert r.returncode == 1
    assert "exists" in r.stderr and qs.conf in r.stderr
    assert "password" not in r.stdout
    with open(qs.conf) as f:
        assert f.read() == "# mine\n"
    assert not os.path.exists(qs.state)


def test_refuses_an_existing_install(qs):
    assert qs.quickstart().returncode == 0
    first = os.stat(os.path.join(qs.state, "lookup", "cachet.db"))
    other = os.path.join(qs.base, "other.conf")
    args = qs.quickstart_args()
    args[2] = other
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "already holds users" in r.stderr
    assert not os.path.exists(other)
    again = os.stat(os.path.join(qs.state, "lookup", "cachet.db"))
    assert again.st_mtime_ns == first.st_mtime_ns


def test_password_not_seen_leaves_nothing(qs):
    """Output that cannot be written (a full disk) means the password
    was never seen: the config and the stores are removed again, so the
    command can simply be run once more."""
    with open("/dev/full", "w") as full:
        r = subprocess.run(qs.quickstart_args(), stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 1
    assert "output" in r.stderr
    assert not os.path.exists(qs.conf)
    lookup = os.path.join(qs.state, "lookup")
    assert [n for n in os.listdir(lookup)] == []
    again = qs.quickstart()
    assert again.returncode == 0, again.stderr
    assert len(PASSWORD_RE.findall(again.stdout)) == 1


@pytest.mark.parametrize("argv,msg", [
    (["quickstart", "alice"], "not an address"),
    (["quickstart", "alice@example.org", "--hostname", "bad..name"],
     "not a host name"),
    (["quickstart", "alice@example.org", "--state-dir", "relative"],
     "absolute"),
    (["quickstart", "alice@example.org", "--resolver", "nonsense"],
     "does not parse"),
])
def test_bad_arguments(qs, argv, msg):
    extra = [] if "--state-dir" in argv else ["--state-dir", qs.state]
    r = subprocess.run([CACHETCTL, "-f", qs.conf] + argv + extra,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert msg in r.stderr
    assert "usage: cachetctl -f FILE quickstart" in r.stderr or \
        "does not parse" in r.stderr
    assert not os.path.exists(qs.conf)
    assert not os.path.exists(qs.state)


def test_needs_a_file(qs):
    r = subprocess.run([CACHETCTL, "quickstart", ADDRESS],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "-f FILE" in r.stderr
