"""MTA-STS for sending (RFC 8461) against a test DNS server (dnsserver.py),
an HTTPS policy host and scripted SMTP peers, all on 127.0.14.x (away
from the 127.0.0.x of the other outbound tests and DANE's 127.0.13.x).

The policy host is a Python HTTPS server on 127.0.14.1:443 whose
certificate, from a test CA, names every mta-sts.DOMAIN below; cachet
gets the CA as `tls-ca` (it also checks the SMTP peers' certificates
against it).  It answers per Host header, and counts the requests.

    good      enforce, mx *.good.sts.test; peer with a good certificate
    wrong     enforce; the peer's certificate names another host, then
              a good one
    plain     enforce; the peer offers no STARTTLS, then does
    nomatch   enforce, mx *.nomatch.sts.test, but the MX is mx1.other.test;
              then the policy (id 2) lists it
    testing   testing; MX not listed, certificate for another name
    none      enforce (id 1), then mode none (id 2): cache dropped
    redirect, oversize, invalid, ctype, missing: a 301, 70 KiB, garbage,
              text/html, a 404: no policy, opportunistic delivery to a
              peer whose certificate would fail under enforce
    strip     enforce; a proxy in front of a good peer removes
              250-STARTTLS; strip-nopol: the same MX, no policy
    cache     enforce; the policy survives lookup's SIGKILL and a restart
    refresh   enforce (id 1), then id 2 but the policy host answers 404:
              the cached policy stays in force
    expire    enforce, MX not listed, queue-lifetime 4s: the bounce says
    slow      the policy host answers after 12 s: a fetch error (the
              mta gives up at 10 s), then delivered opportunistically

Each test starts its own daemon; peers and servers are stopped by PID
(threads of this process: stopped at the end of the test or module).
"""

import email
import email.policy
import os
import re
import signal
import smtplib
import socket
import threading
import time

import pytest

from conftest import wait_for
from dnsserver import DNSServer
from dnssec import make_ca_and_leaf
from smtppeer import Peer
from stsworld import leaf
import stsworld

ALICE = "alice@example.org"
CONTENT = (b"From: Alice <alice@example.org>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: mta-sts\r\n"
           b"\r\n"
           b"Only over verified TLS.\r\n")
Z = "sts.test"
POLICY_IP = "127.0.14.1"
GOOD = "version: STSv1\nmode: enforce\nmx: *.{d}\nmax_age: 86400\n"

# domain: (MX host, its address, TXT id or None, policy response)
# a response: (status, content type, body, extra headers)
DOMAINS = {
    "good": ("mx.good.sts.test", "127.0.14.2", "1", None),
    "wrong": ("mx.wrong.sts.test", "127.0.14.3", "1", None),
    "plain": ("mx.plain.sts.test", "127.0.14.4", "1", None),
    "nomatch": ("mx1.other.test", "127.0.14.5", "1", None),
    "testing": ("mx.elsewhere.test", "127.0.14.6", "1",
                (200, "text/plain", "version: STSv1\r\nmode: testing\r\n"
                 "mx: *.testing.sts.test\r\nmax_age: 86400\r\n", {})),
    "none": ("mx.none.sts.test", "127.0.14.7", "1", None),
    "redirect": ("mx.bad.sts.test", "127.0.14.8", "1",
                 (301, "text/plain", "moved\n",
                  {"Location": "https://mta-sts.target.sts.test"
                   "/.well-known/mta-sts.txt"})),
    "oversize": ("mx.bad.sts.test", "127.0.14.8", "1",
                 (200, "text/plain", GOOD.format(d="oversize.sts.test") +
                  "x-pad: " + "a" * (70 * 1024) + "\n", {})),
    "invalid": ("mx.bad.sts.test", "127.0.14.8", "1",
                (200, "text/plain", "version: STSv1\nmode: doubt\n"
                 "mx: mx.bad.sts.test\nmax_age: 86400\n", {})),
    "ctype": ("mx.bad.sts.test", "127.0.14.8", "1",
              (200, "text/html", GOOD.format(d="ctype.sts.test"), {})),
    "missing": ("mx.bad.sts.test", "127.0.14.8", "1",
                (404, "text/plain", "not here\n", {})),
    "strip": ("mx.strip.sts.test", "127.0.14.9", "1", None),
    "strip-nopol": ("mx.strip.sts.test", "127.0.14.9", None, None),
    "cache": ("mx.cache.sts.test", "127.0.14.11", "1", None),
    "refresh": ("mx.refresh.sts.test", "127.0.14.12", "1", None),
    "slow": ("mx.slow.sts.test", "127.0.14.13", "1",
             (200, "text/plain", GOOD.format(d="slow.sts.test"),
              {"_delay": "12"})),
    "expire": ("mx1.other.test", "127.0.14.5", "1",
               (200, "text/plain", GOOD.format(d="expire.sts.test"), {})),
}
STRIP_BACKEND = "127.0.14.10"


def dom(case):
    return f"{case}.{Z}"


class PolicyHost(stsworld.PolicyHost):
    """The policy host on POLICY_IP:443, answering per case."""

    def __init__(self, certs):
        super().__init__(POLICY_IP, certs, "policyhost")

    def set(self, case, response):
        super().set("mta-sts." + dom(case), response)

    def requests(self, case):
        return super().requests("mta-sts." + dom(case))


class StripProxy:
    """TCP on host:25 to backend:25, removing the 250-STARTTLS line of
    the server's EHLO reply (a man in the middle)."""

    def __init__(self, host, backend):
        self.host = host
        self.backend = backend
        self.stopping = threading.Event()
        self.sock = None
        self.thread = None
        self.conns = []

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, 25))
        s.listen(8)
        s.settimeout(0.1)
        self.sock = s
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _pipe(self, src, dst, strip):
        try:
            while not self.stopping.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if strip:
                    data = re.sub(rb"250-STARTTLS\r\n", b"", data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self):
        while not self.stopping.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            b = socket.create_connection((self.backend, 25), timeout=10)
            self.conns += [c, b]
            for args in ((c, b, False), (b, c, True)):
                threading.Thread(target=self._pipe, args=args,
                                 daemon=True).start()

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()
        for s in self.conns:
            s.close()


def zone():
    lines = []
    for case, (mx, ip, txt, _) in DOMAINS.items():
        d = dom(case)
        lines += [f"{d}. 1 IN MX 10 {mx}.", f"{mx}. 1 IN A {ip}"]
        if txt is not None:
            lines.append(f'_mta-sts.{d}. 1 IN TXT "v=STSv1; id={txt}"')
        lines.append(f"mta-sts.{d}. 1 IN A {POLICY_IP}")
    return "\n".join(sorted(set(lines))) + "\n"


def set_txt(dns, case, txt):
    """Replace the _mta-sts TXT record of case's domain."""
    name = f"_mta-sts.{dom(case)}"
    with dns.lock:
        dns.records = [r for r in dns.records
                       if str(r.rname).lower().rstrip(".") != name]
    dns.add(f'{name}. 1 IN TXT "{txt}"')


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("mta-sts"))
    os.chmod(base, 0o755)
    certs = os.path.join(base, "certs")
    os.makedirs(certs)
    ca = make_ca_and_leaf(certs, "mx.good.sts.test")
    leaf(certs, "policyhost", ["mta-sts." + dom(c) for c in DOMAINS])
    for mx in {v[0] for v in DOMAINS.values()} - {"mx.good.sts.test"}:
        leaf(certs, mx, [mx])
    # a certificate from the same CA that names some other host
    wrong = os.path.join(base, "wrong")
    os.makedirs(wrong)
    for ext in (".crt", ".key"):
        os.link(os.path.join(certs, "ca" + ext), os.path.join(wrong,
                                                             "ca" + ext))
    for mx in ("mx.wrong.sts.test", "mx.elsewhere.test", "mx.bad.sts.test"):
        leaf(wrong, mx, ["elsewhere.test"])
    host = PolicyHost(certs)
    for case, v in DOMAINS.items():
        host.set(case, v[3] or (200, "text/plain; charset=us-ascii",
                                GOOD.format(d=dom(case)), {}))
    host.set("target", (200, "text/plain", GOOD.format(d=dom("target")),
                        {}))
    host.start()
    dns = DNSServer(zone()).start()
    yield {"certs": certs, "wrong": wrong, "ca": ca, "host": host,
           "dns": dns}
    dns.stop()
    host.stop()


@pytest.fixture
def peers(world):
    made = []

    def peer(case, tls="good", ip=None):
        mx, addr = DOMAINS[case][0], ip or DOMAINS[case][1]
        tls_dir = {"good": world["certs"], "wrong": world["wrong"],
                   None: None}[tls]
        p = Peer(addr, tls_dir=tls_dir, name=mx).start()
        made.append(p)
        return p
    yield peer
    for p in made:
        p.stop()


@pytest.fixture
def out(make_daemon, world):
    def make(extra=""):
        d = make_daemon(extra=f"resolver {world['dns'].addr}\n"
                        f"tls-ca {world['ca']}\n"
                        "retry 1s 2s\n"
                        "smtp-plaintext-auth-loopback yes\n" + extra)
        d.start()
        d.add_user(ALICE)
        return d
    return make


def submit(d, rcpt, content=CONTENT):
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        s.login(ALICE, "secret")
        s.sendmail(ALICE, [rcpt], content)
    finally:
        s.quit()
    m = wait_for(lambda: re.search(r"id=([0-9a-f]{16}) to=<" +
                                   re.escape(rcpt) + ">", d.read_log()))
    assert m, d.log_tail()
    return m.group(1)


def log_has(d, pattern, timeout=20):
    return wait_for(lambda: re.search(pattern, d.read_log()), timeout)


def sent(d, qid, rcpt, verified, timeout=20):
    assert log_has(d, r"id=" + qid + r" to=<" + re.escape(rcpt) +
                   r"> relay=\S+ tls=\S+ verified=" + verified +
                   r" .*status=sent", timeout), d.log_tail()


def deferred(d, case, reason):
    """bob@CASE's message is deferred with reason (a regex), in the log
    and in `cachetctl queue show`, and stays queued.  Its id."""
    rcpt = f"bob@{dom(case)}"
    qid = submit(d, rcpt)
    assert log_has(d, r"id=" + qid + r" to=<" + re.escape(rcpt) +
                   r"> .*status=deferred reply=\".*" + reason), d.log_tail()
    assert re.search(reason, d.ctl("queue", "show", qid).stdout)
    assert qid in d.queue_ids()
    return qid


def test_enforce_with_a_good_certificate_is_delivered(out, peers, world):
    p = peers("good")
    d = out()
    qid = submit(d, "bob@good.sts.test")
    assert p.wait(1)[0]["tls"] is True
    sent(d, qid, "bob@good.sts.test", "yes")
    assert log_has(d, r"event=mta-sts-fetch domain=good\.sts\.test "
                   r"result=ok id=1 mode=enforce")
    assert log_has(d, r"event=mta-sts domain=good\.sts\.test "
                   r"policy=enforce source=fetched")


def test_wrong_name_is_deferred_then_delivered_when_fixed(out, peers):
    p = peers("wrong", tls="wrong")
    d = out()
    qid = deferred(d, "wrong", r"MTA-STS policy for wrong\.sts\.test "
                   r"\(enforce\): the certificate of mx\.wrong\.sts\.test "
                   r"is not valid")
    time.sleep(2)
    assert p.messages == [] and p.rcpt_commands == []
    p.stop()
    fixed = peers("wrong", tls="good")
    assert fixed.wait(1)[0]["tls"] is True
    sent(d, qid, "bob@wrong.sts.test", "yes")


def test_tls_required_no_sets_the_policy_aside(out, peers):
    """RFC 8689 §5: a message with "TLS-Required: No" goes to the MX an
    enforce policy refuses (a certificate for another name), over
    STARTTLS unverified, while one without the field waits."""
    p = peers("wrong", tls="wrong")
    d = out()
    held = deferred(d, "wrong", r"MTA-STS policy for wrong\.sts\.test "
                    r"\(enforce\): the certificate of mx\.wrong\.sts\.test "
                    r"is not valid")
    qid = submit(d, "carol@wrong.sts.test",
                 b"TLS-Required: No\r\n" + CONTENT)
    [m] = p.wait(1)
    assert m["tls"] is True and b"TLS-Required: No" in m["data"]
    sent(d, qid, "carol@wrong.sts.test", "no")
    assert log_has(d, r"policy=tls-required-no tls=may")
    # the other one still waits for a certificate valid for the name
    assert held in d.queue_ids()
    assert len(p.messages) == 1


def test_no_starttls_is_deferred_then_delivered_when_fixed(out, peers):
    p = peers("plain", tls=None)
    d = out()
    qid = deferred(d, "plain", r"MTA-STS policy for plain\.sts\.test "
                   r"\(enforce\): mx\.plain\.sts\.test does not offer "
                   r"STARTTLS")
    assert p.messages == [] and p.rcpt_commands == []
    p.stop()
    fixed = peers("plain", tls="good")
    assert fixed.wait(1)[0]["tls"] is True
    sent(d, qid, "bob@plain.sts.test", "yes")


def test_mx_not_matching_is_deferred_until_the_policy_changes(out, peers,
                                                               world):
    p = peers("nomatch")
    d = out()
    qid = deferred(d, "nomatch", r"MTA-STS policy for nomatch\.sts\.test "
                   r"\(enforce\) allows mx \*\.nomatch\.sts\.test; "
                   r"mx1\.other\.test does not match")
    # the host is not even connected to
    assert p.ehlos == []
    assert world["host"].requests("nomatch") == 1
    # the domain publishes a new policy under a new id: fetched again
    world["host"].set("nomatch", (200, "text/plain",
                                  "version: STSv1\nmode: enforce\n"
                                  "mx: *.nomatch.sts.test\n"
                                  "mx: mx1.other.test\nmax_age: 600\n", {}))
    set_txt(world["dns"], "nomatch", "v=STSv1; id=2")
    assert p.wait(1)[0]["tls"] is True
    sent(d, qid, "bob@nomatch.sts.test", "yes")
    assert world["host"].requests("nomatch") == 2
    assert log_has(d, r"result=ok id=2 mode=enforce")


def test_testing_mode_delivers_anyway_and_logs(out, peers):
    p = peers("testing", tls="wrong")
    d = out()
    qid = submit(d, "bob@testing.sts.test")
    p.wait(1)
    # opportunistic: TLS, the certificate not valid for the name
    sent(d, qid, "bob@testing.sts.test", "no")
    assert log_has(d, r"event=mta-sts-testing domain=testing\.sts\.test "
                   r"mx=mx\.elsewhere\.test result=would-defer reason=\""
                   r"MTA-STS policy for testing\.sts\.test \(testing\) "
                   r"allows mx \*\.testing\.sts\.test; mx\.elsewhere\.test "
                   r"does not match\"")


def test_mode_none_drops_the_cached_policy(out, world, peers):
    d = out()
    r = d.ctl("tls-policy", "none.sts.test")
    assert "mta-sts: fetched id=1 mode=enforce" in r.stdout, r.stdout
    assert log_has(d, r"event=mta-sts-cached domain=none\.sts\.test id=1")
    world["host"].set("none", (200, "text/plain",
                               "version: STSv1\nmode: none\n"
                               "max_age: 86400\n", {}))
    set_txt(world["dns"], "none", "v=STSv1; id=2")
    time.sleep(2)  # the TXT record's TTL
    r = d.ctl("tls-policy", "none.sts.test")
    assert re.search(r"^mta-sts: none: the policy of none\.sts\.test has "
                     r"mode none$", r.stdout, re.M), r.stdout
    assert log_has(d, r"event=mta-sts-dropped domain=none\.sts\.test id=2 "
                   r"reason=\"mode none\"")
    # not cached any more: the TXT record gone, nothing applies
    with world["dns"].lock:
        world["dns"].records = [
            rr for rr in world["dns"].records
            if str(rr.rname).lower().rstrip(".") != "_mta-sts.none.sts.test"]
    time.sleep(2)
    r = d.ctl("tls-policy", "none.sts.test")
    assert re.search(r"^mta-sts: none$", r.stdout, re.M), r.stdout
    assert "policy: opportunistic: STARTTLS when offered" in r.stdout


@pytest.mark.parametrize("case,why", [
    ("redirect", r"HTTP 301: a redirect, not followed"),
    ("oversize", r"policy larger than 64 KiB"),
    ("invalid", r"invalid policy: mode is not enforce, testing or none"),
    ("ctype", r"Content-Type .text/html., not text/plain"),
    ("missing", r"HTTP 404"),
])
def test_a_bad_policy_is_no_policy(out, peers, world, case, why):
    p = peers(case, tls="wrong")
    d = out()
    qid = submit(d, f"bob@{case}.sts.test")
    assert p.wait(1)[0]["tls"] is True
    sent(d, qid, f"bob@{case}.sts.test", "no")
    assert log_has(d, r"event=mta-sts-fetch domain=" + case +
                   r"\.sts\.test result=error reason=\"https://mta-sts\." +
                   case + r"\.sts\.test/\.well-known/mta-sts\.txt: " + why)
    assert log_has(d, r"event=mta-sts domain=" + case + r"\.sts\.test "
                   r"policy=none source=none reason=\"MTA-STS policy fetch "
                   r"for " + case + r"\.sts\.test failed")
    assert world["host"].requests(case) == 1
    # not followed: where the redirect pointed was never asked
    assert world["host"].requests("target") == 0


def test_stripped_starttls_is_not_delivered_under_a_policy(out, peers):
    backend = peers("strip", ip=STRIP_BACKEND)
    proxy = StripProxy(DOMAINS["strip"][1], STRIP_BACKEND).start()
    try:
        d = out()
        deferred(d, "strip", r"MTA-STS policy for strip\.sts\.test "
                 r"\(enforce\): mx\.strip\.sts\.test does not offer "
                 r"STARTTLS")
        assert backend.messages == [] and backend.rcpt_commands == []
        # the same MX for a domain without a policy: delivered, in clear
        qid = submit(d, "bob@strip-nopol.sts.test")
        msgs = backend.wait(1)
        assert msgs[0]["tls"] is False
        assert msgs[0]["rcpts"] == ["bob@strip-nopol.sts.test"]
        sent(d, qid, "bob@strip-nopol.sts.test", "no")
    finally:
        proxy.stop()


def test_the_cache_survives_a_crash_and_a_restart(out, peers, world):
    p = peers("cache")
    d = out()
    qid = submit(d, "bob@cache.sts.test")
    p.wait(1)
    sent(d, qid, "bob@cache.sts.test", "yes")
    assert world["host"].requests("cache") == 1
    # lookup killed (its SQLite file as the crash left it), restarted
    old = d.role_pids()["lookup"]
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: d.status().get("lookup", {}).get("pid")
                    not in (None, old) and
                    d.status()["lookup"]["state"] == "alive"), d.log_tail()
    # the mta keeps a route (and its policy) for 2 s and an idle
    # connection for 5 s: after that a message asks again
    time.sleep(6)
    before = len(d.read_log())
    qid = submit(d, "bob@cache.sts.test")
    p.wait(2)
    sent(d, qid, "bob@cache.sts.test", "yes")
    assert wait_for(lambda: re.search(
        r"event=mta-sts domain=cache\.sts\.test policy=enforce "
        r"source=cached", d.read_log()[before:])), d.log_tail()
    assert world["host"].requests("cache") == 1
    # the whole daemon restarted
    d.stop()
    before = len(d.read_log())
    d.start()
    qid = submit(d, "bob@cache.sts.test")
    p.wait(3)
    sent(d, qid, "bob@cache.sts.test", "yes")
    # no second fetch: the policy came from lookup's SQLite cache
    assert world["host"].requests("cache") == 1
    assert wait_for(lambda: re.search(
        r"event=mta-sts domain=cache\.sts\.test policy=enforce "
        r"source=cached", d.read_log()[before:])), d.log_tail()


def test_tls_policy_command_shows_the_policy_and_decisions(out, world):
    d = out()
    r = d.ctl("tls-policy", "nomatch.sts.test")
    lines = r.stdout.splitlines()
    assert lines[0] == "domain: nomatch.sts.test", r.stdout
    assert re.search(r"^mta-sts: (fetched|cached) id=\S+ mode=enforce "
                     r"max_age=\d+ mx=", r.stdout, re.M), r.stdout
    r = d.ctl("tls-policy", "good.sts.test")
    assert re.search(r"^mta-sts: (fetched|cached) id=1 mode=enforce "
                     r"max_age=86400 mx=\*\.good\.sts\.test$", r.stdout,
                     re.M), r.stdout
    assert "mx: mx.good.sts.test dnssec=insecure " \
           "addresses=127.0.14.2:25" in r.stdout
    assert "  policy: mta-sts: TLS required, certificate verified" \
        in r.stdout
    r = d.ctl("tls-policy", "testing.sts.test")
    assert ("  policy: mta-sts-testing: STARTTLS when offered: MTA-STS "
            "policy for testing.sts.test (testing) allows mx "
            "*.testing.sts.test; mx.elsewhere.test does not match") \
        in r.stdout, r.stdout
    r = d.ctl("tls-policy", "missing.sts.test")
    assert re.search(r"^mta-sts: none: MTA-STS policy fetch for "
                     r"missing\.sts\.test failed: HTTP 404$", r.stdout,
                     re.M), r.stdout
    r = d.ctl("tls-policy", "strip-nopol.sts.test")
    assert re.search(r"^mta-sts: none$", r.stdout, re.M), r.stdout
    d2 = out("mta-sts no\n")
    r = d2.ctl("tls-policy", "good.sts.test")
    assert "mta-sts: none: not asked (mta-sts no)" in r.stdout
    assert "  policy: opportunistic: STARTTLS when offered" in r.stdout


def test_a_failed_refresh_keeps_the_cached_policy(out, world):
    d = out()
    r = d.ctl("tls-policy", "refresh.sts.test")
    assert "mta-sts: fetched id=1 mode=enforce" in r.stdout, r.stdout
    world["host"].set("refresh", (404, "text/plain", "gone\n", {}))
    set_txt(world["dns"], "refresh", "v=STSv1; id=2")
    time.sleep(2)  # the TXT record's TTL
    r = d.ctl("tls-policy", "refresh.sts.test")
    assert world["host"].requests("refresh") == 2
    assert re.search(r"^mta-sts: cached id=1 mode=enforce max_age=86400 "
                     r"mx=\*\.refresh\.sts\.test$", r.stdout, re.M), r.stdout
    assert ("  note: MTA-STS policy fetch for refresh.sts.test failed: "
            "HTTP 404") in r.stdout
    assert "  policy: mta-sts: TLS required, certificate verified" \
        in r.stdout


def test_expiry_bounce_names_the_policy(out):
    d = out("queue-lifetime 4s\ndelay-warning none\n")
    qid = submit(d, "bob@expire.sts.test")
    path = os.path.join(d.mail, "example.org", "alice", "new")
    assert wait_for(lambda: os.path.isdir(path) and os.listdir(path), 30), \
        d.log_tail()
    [name] = os.listdir(path)
    with open(os.path.join(path, name), "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report"
    text = " ".join(msg.get_payload()[0].get_payload().split())
    assert ("MTA-STS policy for expire.sts.test (enforce) allows mx "
            "*.expire.sts.test; mx1.other.test does not match") in text, text
    assert log_has(d, r"id=" + qid + r" event=expired to=<bob@expire")


def test_a_hanging_policy_host_is_a_fetch_error(out, peers):
    """The fetch gives up (10 s) and the message goes on without a
    policy, although the route (TTL 1 s) is older than the fetch."""
    p = peers("slow", tls="wrong")
    d = out()
    qid = submit(d, "bob@slow.sts.test")
    assert p.wait(1, timeout=40)[0]["tls"] is True
    sent(d, qid, "bob@slow.sts.test", "no")
    assert log_has(d, r"event=mta-sts-fetch domain=slow\.sts\.test "
                   r"result=error reason=\"https://mta-sts\.slow\.sts\.test"
                   r"/\.well-known/mta-sts\.txt: Operation timed out")
    assert len(re.findall(r"event=mta-sts-fetch domain=slow\.sts\.test "
                          r"result=error", d.read_log())) == 1
