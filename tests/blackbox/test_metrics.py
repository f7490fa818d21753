"""/metrics on `listen metrics` (plain HTTP, Prometheus text format
0.0.4): the counters every role keeps in the shared table move by the
right amounts when mail comes in, is delivered here and elsewhere,
bounces and is deferred, when logins fail, TLS is spoken and a role is
killed; Prometheus' own `promtool check metrics` takes the page without
a lint warning; HEAD has the headers alone.

Outbound mail goes through the test DNS to a scripted peer on
127.0.0.2:25 (smtppeer.py), so this runs as root."""

import http.client
import imaplib
import os
import poplib
import re
import signal
import smtplib
import socket
import ssl
import subprocess

import pytest

from conftest import wait_for, pid_alive
from dnsserver import DNSServer
from smtppeer import Peer

TIMEOUT = 10
ALICE = "alice@example.org"
ZONE = """
example.net.      1 IN MX 10 mx1.example.net.
mx1.example.net.  1 IN A  127.0.0.2
"""
MESSAGE = (b"From: Alice <alice@example.org>\r\n"
           b"To: someone\r\n"
           b"Subject: metrics\r\n"
           b"Message-ID: <metrics.%d@example.org>\r\n"
           b"Date: Sun, 06 Dec 2026 12:00:00 +0000\r\n"
           b"\r\n"
           b"Hello.\r\n")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


@pytest.fixture
def dns():
    s = DNSServer().start()
    s.replace(ZONE)
    yield s
    s.stop()


@pytest.fixture
def peer(tmpbase):
    p = Peer("127.0.0.2", tls_dir=tmpbase,
             rcpts={"carol@example.net": "550 5.1.1 no such user",
                    "dave@example.net": "451 4.3.0 try later"}).start()
    yield p
    p.stop()


@pytest.fixture
def d(make_daemon, dns):
    d = make_daemon(extra=f"resolver {dns.addr}\n"
                    "smtp-plaintext-auth-loopback yes\n"
                    "retry 10m 2h\n")
    d.start()
    d.add_user(ALICE)
    return d


def fetch(d, method="GET", path="/metrics"):
    c = http.client.HTTPConnection("127.0.0.1", d.ports["metrics"],
                                   timeout=TIMEOUT)
    try:
        c.request(method, path, headers={"Host": "127.0.0.1"})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def scrape(d):
    """{(name, labels): value} of the page, labels as written."""
    status, headers, body = fetch(d)
    assert status == 200
    assert headers["Content-Type"] == \
        "text/plain; version=0.0.4; charset=utf-8"
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def listener(d, kind):
    return '{kind="%s",address="127.0.0.1:%d"}' % (kind, d.ports[kind])


def moved(before, after):
    """The samples that changed, by how much."""
    return {k: after[k] - before.get(k, 0) for k in after
            if after[k] != before.get(k, 0)}


def submit(d, rcpt, n):
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        s.login(ALICE, "secret")
        s.sendmail(ALICE, [rcpt], MESSAGE % n)
    finally:
        s.quit()


def test_counters_move_by_the_right_amounts(d, peer):
    m0 = scrape(d)
    assert m0[("cachet_start_time_seconds", "")] > 0
    assert m0[("cachet_queue_messages", "")] == 0

    # mail in on port 25 for a user here: received, delivered locally
    s = smtplib.SMTP("127.0.0.1", d.ports["smtp"],
                     local_hostname="client.example.com", timeout=15)
    s.sendmail("someone@example.com", [ALICE], MESSAGE % 1)
    s.quit()
    assert wait_for(lambda: len(d.maildir_new(ALICE)) == 1, 20)
    # out through submission to a peer speaking STARTTLS
    submit(d, "bob@example.net", 2)
    assert wait_for(lambda: len(peer.messages) == 1, 20), d.log_tail()
    # a 550 from the peer: a bounce, delivered to alice
    submit(d, "carol@example.net", 3)
    assert wait_for(lambda: len(d.maildir_new(ALICE)) == 2, 20)
    # a 451: deferred once (the next try is 10 minutes away), queued
    submit(d, "dave@example.net", 4)
    assert wait_for(lambda: re.search(r"event=deferred to=<dave@example.net>",
                                      d.read_log()), 20)

    def settled():
        m = scrape(d)
        return m if m[("cachet_queue_messages", "")] == 1 and \
            m[("cachet_deliveries_total",
               '{destination="local"}')] == 2 else None
    m1 = wait_for(settled, 20)
    assert m1, moved(m0, scrape(d))
    got = moved(m0, m1)

    assert got.pop(("cachet_connections_accepted_total",
                    listener(d, "smtp"))) == 1
    assert got.pop(("cachet_connections_accepted_total",
                    listener(d, "submission"))) == 3
    assert got.pop(("cachet_messages_received_total",
                    '{listener="smtp"}')) == 1
    assert got.pop(("cachet_messages_received_total",
                    '{listener="submission"}')) == 3
    assert got.pop(("cachet_deliveries_total",
                    '{destination="local"}')) == 2
    assert got.pop(("cachet_deliveries_total",
                    '{destination="remote"}')) == 1
    assert got.pop(("cachet_recipients_bounced_total", "")) == 1
    assert got.pop(("cachet_recipients_deferred_total", "")) == 1
    assert got.pop(("cachet_queue_messages", "")) == 1
    # three deliveries, each within a second or so of arrival
    assert got.pop(("cachet_delivery_latency_seconds_count", "")) == 3
    assert got.pop(("cachet_delivery_latency_seconds_bucket",
                    '{le="+Inf"}')) == 3
    assert got.pop(("cachet_delivery_latency_seconds_bucket",
                    '{le="86400"}')) == 3
    assert got.pop(("cachet_delivery_latency_seconds_bucket",
                    '{le="5"}')) == 3
    for le in ("10", "30", "60", "300", "900", "3600", "14400"):
        assert got.pop(("cachet_delivery_latency_seconds_bucket",
                        '{le="%s"}' % le)) == 3
    got.pop(("cachet_delivery_latency_seconds_bucket", '{le="1"}'), None)
    assert got.pop(("cachet_delivery_latency_seconds_sum", ""), 0) <= 15
    # STARTTLS out, unchecked: a session per message, or fewer when
    # the mta kept its connection to the peer for the next one
    tls_out = [k for k in got if k[0] == "cachet_tls_sessions_total" and
               'direction="out"' in k[1]]
    n = sum(got.pop(k) for k in tls_out)
    assert 1 <= n <= 3
    assert all('version="TLSv1.' in k[1] for k in tls_out)
    assert got.pop(("cachet_tls_outbound_verification_total",
                    '{outcome="none"}')) == n
    # the one message from a stranger on port 25 was judged
    verdicts = [k for k in got if k[0] == "cachet_spam_verdicts_total"]
    assert sum(got.pop(k) for k in verdicts) == 1
    # time goes on; the queue's one message is as old as dave's
    got.pop(("cachet_uptime_seconds", ""), None)
    got.pop(("cachet_queue_oldest_message_age_seconds", ""), None)
    assert got == {}, got
    assert m1[("cachet_sessions_open", listener(d, "smtp"))] == 0


def test_login_failures_tls_and_sessions(d):
    m0 = scrape(d)
    p = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=TIMEOUT)
    p.user(ALICE)
    with pytest.raises(poplib.error_proto):
        p.pass_("wrong")
    p.quit()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    i = imaplib.IMAP4_SSL("127.0.0.1", d.ports["imaps"], ssl_context=ctx,
                          timeout=TIMEOUT)
    with pytest.raises(imaplib.IMAP4.error):
        i.login(ALICE, "wrong")
    # an IMAP session still open: one on imaps
    m1 = scrape(d)
    assert m1[("cachet_sessions_open", listener(d, "imaps"))] == 1
    i.logout()
    assert wait_for(lambda: scrape(d)[("cachet_sessions_open",
                                       listener(d, "imaps"))] == 0, 10)
    got = moved(m0, scrape(d))
    got.pop(("cachet_uptime_seconds", ""), None)
    assert got == {
        ("cachet_auth_failures_total", '{protocol="pop3"}'): 1,
        ("cachet_auth_failures_total", '{protocol="imap"}'): 1,
        ("cachet_connections_accepted_total", listener(d, "pop3")): 1,
        ("cachet_connections_accepted_total", listener(d, "imaps")): 1,
        ("cachet_tls_sessions_total",
         '{direction="in",version="TLSv1.3"}'): 1,
    }, got


def test_killed_role_is_counted_as_restarted(d):
    m0 = scrape(d)
    series = ("cachet_role_restarts_total", '{role="mta"}')
    pid = d.role_pids()["mta"]
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not pid_alive(pid), 10)
    assert wait_for(lambda: d.status()["mta"]["state"] == "alive" and
                    d.status()["mta"]["pid"] != pid, 20)
    m1 = scrape(d)
    assert m1[series] - m0[series] == 1
    assert d.status()["mta"]["restarts"] == m1[series]
    others = [k for k in m1 if k[0] == series[0] and k != series]
    assert len(others) == 7
    assert all(m1[k] == m0[k] for k in others)


def test_promtool_accepts_the_page_without_lint_warnings(d):
    # some traffic first, so that nothing is only zeros
    s = smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=15)
    s.sendmail("someone@example.com", [ALICE], MESSAGE % 5)
    s.quit()
    assert wait_for(lambda: len(d.maildir_new(ALICE)) == 1, 20)
    status, _, body = fetch(d)
    assert status == 200
    r = subprocess.run(["promtool", "check", "metrics"], input=body,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == b"" and r.stderr.strip() == b"", \
        r.stdout + r.stderr


def test_head_has_the_headers_alone(d):
    status, headers, body = fetch(d, method="HEAD")
    assert status == 200
    assert body == b""
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    n = int(headers["Content-Length"])
    _, _, full = fetch(d)
    # the same page but for a counter or two that moved meanwhile
    assert abs(len(full) - n) < 16


def test_metrics_listener_speaks_no_tls_and_nothing_but_metrics(d):
    assert fetch(d, path="/")[0] == 404
    assert fetch(d, path="/metrics", method="POST")[0] == 405
    s = socket.create_connection(("127.0.0.1", d.ports["metrics"]),
                                 timeout=TIMEOUT)
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    assert data.startswith(b"HTTP/1.")
    assert b"\r\n\r\n# HELP cachet_" in data
