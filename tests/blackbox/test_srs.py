"""SRS (src/lib/srs.h, src/lookup/lookup_srs.h): an alias of ours that
forwards to another domain sends the copy with an SRS0 reverse-path at
our domain, which the next hop's SPF check (pyspf, Debian's python3-spf,
against the test DNS) passes; a bounce to that address comes back and
is relayed to the original sender; forged and expired SRS addresses are
refused; our own users' mail keeps its sender; the rewritten copy
survives a restart.  Peers (smtppeer.py) on 127.0.0.2:25 (example.net,
the alias's target) and 127.0.0.3:25 (sender.example, the original
sender's domain).  Runs as root (port 25)."""

import base64
import glob
import hashlib
import hmac
import os
import re
import smtplib
import time

import dns.resolver
import pytest
import spf

from conftest import RawSMTP, wait_for
from dnsserver import DNSServer
from smtppeer import Peer

ALIAS = "fwd@example.org"
TARGET = "someone@example.net"
SENDER = "alice@sender.example"

ZONE = """
example.org.          1 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
example.net.          1 IN MX 10 mx1.example.net.
mx1.example.net.      1 IN A  127.0.0.2
sender.example.       1 IN MX 10 mx.sender.example.
mx.sender.example.    1 IN A  127.0.0.3
sender.example.       1 IN TXT "v=spf1 ip4:192.0.2.1 -all"
"""

CONTENT = (b"From: Alice <alice@sender.example>\r\n"
           b"To: fwd@example.org\r\n"
           b"Subject: forwarded\r\n"
           b"Message-ID: <srs.1@sender.example>\r\n"
           b"\r\n"
           b"Hello.\r\n")

BOUNCE = (b"From: MAILER-DAEMON@mx1.example.net\r\n"
          b"To: someone\r\n"
          b"Subject: Undelivered Mail Returned to Sender\r\n"
          b"\r\n"
          b"It did not work.\r\n")

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@pytest.fixture
def dns_server():
    s = DNSServer(ZONE).start()
    yield s
    s.stop()


@pytest.fixture
def peers():
    made = []

    def peer(host):
        p = Peer(host).start()
        made.append(p)
        return p
    yield peer
    for p in made:
        p.stop()


@pytest.fixture
def mx(make_daemon, dns_server):
    d = make_daemon(extra=f"resolver {dns_server.addr}\nretry 1s 2s\n"
                    "smtp-plaintext-auth-loopback yes\n")
    d.start()
    d.ctl("alias", "add", ALIAS, TARGET)
    return d


def spf_check(dns_server, ip, sender):
    """pyspf's check_host() for sender from ip, through the test DNS."""
    res = dns.resolver.Resolver(configure=False)
    host, port = dns_server.addr.rsplit(":", 1)
    res.nameservers = [host]
    res.port = int(port)

    def lookup(name, qtype, tcpfallback=True, timeout=30):
        out = []
        try:
            answers = res.resolve(name, qtype, lifetime=timeout)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            return out
        for r in answers:
            if qtype in ("A", "AAAA"):
                out.append(((name, qtype), r.address))
            elif qtype == "MX":
                out.append(((name, qtype), (r.preference, r.exchange)))
            elif qtype == "TXT":
                out.append(((name, qtype), list(r.strings)))
        return out
    saved = spf.DNSLookup
    spf.DNSLookup = lookup
    try:
        return spf.check2(i=ip, s=sender, h="mx.example.org")[0]
    finally:
        spf.DNSLookup = saved


def send25(d, sender, rcpts, content=CONTENT):
    """A message over port 25 (no AUTH); the queue id."""
    s = smtplib.SMTP("127.0.0.1", d.ports["smtp"],
                     local_hostname="mx1.example.net", timeout=15)
    try:
        s.ehlo()
        code, text = s.mail(sender)
        assert code == 250, text
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, (r, text)
        code, text = s.data(content)
        assert code == 250, text
        return re.search(rb"queued as ([0-9a-f]{16})", text).group(1).decode()
    finally:
        s.quit()


def rcpt_reply(d, rcpt, sender=""):
    with RawSMTP(d.ports["smtp"]) as c:
        c.greet()
        c.ehlo("mx1.example.net")
        c.expect(f"MAIL FROM:<{sender}>", 250)
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        c.cmd("QUIT")
        return r


def secrets(d):
    """The lines of lookup's srs-secret (it made the file at start)."""
    [path] = glob.glob(os.path.join(d.state, "**", "srs-secret"),
                       recursive=True)
    assert os.stat(path).st_mode & 0o777 == 0o600
    with open(path, "rb") as f:
        return [ln for ln in f.read().split(b"\n") if ln]


def make_srs0(key, local, domain, day, ours="example.org"):
    """SRS0 as srs.h describes it, written here with Python's own hmac
    and base64: HMAC-SHA256 over "0=tt=domain=local" (lower case), the
    first 40 bits in base32."""
    d = day % 1024
    ts = B32[d >> 5] + B32[d & 31]
    msg = ("0=" + ts + "=" + domain + "=" + local).lower().encode()
    h = base64.b32encode(hmac.new(key, msg, hashlib.sha256).digest()[:5])
    return f"SRS0={h.decode()}={ts}={domain}={local}@{ours}"


def test_forwarded_copy_has_an_srs0_sender_that_passes_spf(mx, peers,
                                                           dns_server):
    peer = peers("127.0.0.2")
    send25(mx, SENDER, [ALIAS])
    [m] = peer.wait(1)
    assert m["rcpts"] == [TARGET]
    assert re.fullmatch(r"SRS0=[A-Z2-7]{8}=[A-Z2-7]{2}=sender\.example="
                        r"alice@example\.org", m["from"]), m["from"]
    # the next hop's view: our address passes for our domain, while the
    # original sender would have failed from here
    assert spf_check(dns_server, "127.0.0.1", m["from"]) == "pass"
    assert spf_check(dns_server, "127.0.0.1", SENDER) == "fail"
    # the same address from an independent implementation of the scheme
    [key] = secrets(mx)
    assert m["from"] == make_srs0(key, "alice", "sender.example",
                                  int(time.time()) // 86400)


def test_bounce_to_the_srs_address_reaches_the_original_sender(mx, peers):
    peer = peers("127.0.0.2")
    home = peers("127.0.0.3")
    send25(mx, SENDER, [ALIAS])
    [m] = peer.wait(1)
    srs = m["from"]
    # the next hop bounces: null sender, to the SRS address; an MTA on
    # the way may have folded its case
    send25(mx, "", [srs.lower()], content=BOUNCE)
    [b] = home.wait(1)
    assert b["rcpts"] == [SENDER]
    assert b["from"] == "<>"  # aiosmtpd records the null path so
    assert b"It did not work." in b["data"]
    # no second copy anywhere
    time.sleep(1)
    assert len(peer.messages) == 1 and len(home.messages) == 1


def test_forged_and_expired_srs_addresses_are_refused(mx, peers):
    [key] = secrets(mx)
    today = int(time.time()) // 86400
    good = make_srs0(key, "alice", "sender.example", today)
    assert rcpt_reply(mx, good).code == 250
    # a non-null sender is taken too (auto-replies come from people)
    assert rcpt_reply(mx, good, sender="robot@example.net").code == 250
    # another address under the same hash: an attempt to relay
    forged = good.replace("=alice@", "=mallory@")
    r = rcpt_reply(mx, forged)
    assert (r.code, r.enh) == (550, "5.1.1"), r
    # a hash under another secret
    other = make_srs0(b"not our secret", "alice", "sender.example", today)
    r = rcpt_reply(mx, other)
    assert (r.code, r.enh) == (550, "5.1.1"), r
    # our secret, 22 days old (srs-max-age 21 by default)
    old = make_srs0(key, "alice", "sender.example", today - 22)
    r = rcpt_reply(mx, old)
    assert (r.code, r.enh) == (550, "5.1.1"), r
    assert make_srs0(key, "alice", "sender.example", today - 21) != old
    assert rcpt_reply(mx, make_srs0(key, "alice", "sender.example",
                                    today - 21)).code == 250
    # malformed
    r = rcpt_reply(mx, "SRS0=xx@example.org")
    assert (r.code, r.enh) == (550, "5.1.1"), r
    assert "event=rcpt-srs-refused" in mx.read_log()


def test_local_users_mail_is_not_rewritten(mx, peers):
    peer = peers("127.0.0.2")
    mx.add_user("bob@example.org")
    s = smtplib.SMTP("127.0.0.1", mx.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        s.login("bob@example.org", "secret")
        s.sendmail("bob@example.org", [TARGET, ALIAS], CONTENT)
    finally:
        s.quit()
    # both copies (direct, and through the alias) keep bob's address:
    # our domain's SPF covers us already
    peer.wait(1)
    time.sleep(1)
    msgs = list(peer.messages)
    assert all(m["from"] == "bob@example.org" for m in msgs), msgs
    assert {r for m in msgs for r in m["rcpts"]} == {TARGET}


def test_srs_no_keeps_the_sender(make_daemon, dns_server, peers):
    peer = peers("127.0.0.2")
    d = make_daemon(extra=f"resolver {dns_server.addr}\nsrs no\n")
    d.start()
    d.ctl("alias", "add", ALIAS, TARGET)
    send25(d, SENDER, [ALIAS])
    [m] = peer.wait(1)
    assert m["from"] == SENDER


def test_srs_domain_names_the_domain(make_daemon, dns_server, peers):
    peer = peers("127.0.0.2")
    d = make_daemon(extra=f"resolver {dns_server.addr}\n"
                    "srs-domain bounces.example.org\n")
    d.start()
    d.ctl("alias", "add", ALIAS, TARGET)
    send25(d, SENDER, [ALIAS])
    [m] = peer.wait(1)
    assert m["from"].startswith("SRS0=")
    assert m["from"].endswith("=sender.example=alice@bounces.example.org")


def test_rewritten_copy_survives_a_restart(mx, peers):
    # nothing listens on 127.0.0.2:25 yet: the copy waits in the queue
    qid = send25(mx, SENDER, [ALIAS])
    assert wait_for(lambda: re.search(r"recipient: <someone@example\.net>"
                                      r"\n(  .*\n)*  sender: SRS0=",
                                      mx.ctl("queue", "show", qid).stdout))
    shown = re.search(r"  sender: (\S+)",
                      mx.ctl("queue", "show", qid).stdout).group(1)
    state = glob.glob(os.path.join(mx.state, "**", "state", qid),
                      recursive=True)
    assert state, "no state file"
    with open(state[0], "rb") as f:
        assert b"\nsender <" + shown.encode() + b">\n" in f.read()
    mx.stop()
    mx.start()
    peer = peers("127.0.0.2")
    [m] = peer.wait(1, timeout=60)
    assert m["from"] == shown
    assert m["rcpts"] == [TARGET]
