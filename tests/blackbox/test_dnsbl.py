"""The prescreen's DNS checks (issue 15) against the tests' DNS server:
DNSBL and DNSWL (RFC 5782) with weights, `returns` filters, error codes,
IPv6 nibbles, a list that never answers and the cache; forward-confirmed
reverse DNS; HELO syntax and resolution; the sender domain.

The lookup role answers `cachetctl prescreen check IP [HELO [DOMAIN]]`
with the same job an smtp worker's question runs, so the lines it
prints are what smtp would be told:

    reply: 554 5.7.1 Service unavailable; client [127.0.0.5] blocked ...
    score: 2.5
    dnswl: no
    reasons: DNSBL_WBL_TEST=2.5

Every address is asked about, loopback too: the tests' lists name
127.0.0.x, the addresses the tests connect from.
"""

import re
import smtplib
import time

import pytest

from conftest import wait_for
from dnsserver import DNSServer

ZONE = """
5.0.0.127.bl.test.   300 IN A   127.0.0.2
5.0.0.127.bl.test.   300 IN TXT "listed for tests, see https://bl.test/"
7.0.0.127.bl.test.   300 IN A   127.255.255.254
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test. 300 IN A 127.0.0.2
20.0.0.127.wbl.test. 300 IN A   127.0.0.2
21.0.0.127.wl.test.  300 IN A   127.0.10.3
22.0.0.127.rbl.test. 300 IN A   127.0.0.2
23.0.0.127.rbl.test. 300 IN A   127.0.0.3
30.0.0.127.wbl.test. 300 IN A   192.0.2.1
8.2.0.192.in-addr.arpa. 300 IN PTR good.test.
9.2.0.192.in-addr.arpa. 300 IN PTR liar.test.
8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 300 IN PTR good.test.
good.test.           300 IN A   192.0.2.8
good.test.           300 IN AAAA 2001:db8::8
good.test.           300 IN MX  10 good.test.
liar.test.           300 IN A   192.0.2.1
addronly.test.       300 IN AAAA ::1
nullmx.test.         300 IN MX  0 .
nomx.test.           300 IN TXT "v=spf1 -all"
"""

LISTS = """
dnsbl bl.test
dnsbl wbl.test weight 2.5
dnswl wl.test
dnsbl rbl.test weight 1 returns 127.0.0.3
dnsbl slow.test weight 1
dnsbl-timeout 1
"""


@pytest.fixture
def dns():
    server = DNSServer(ZONE, unknown="nxdomain").start()
    server.drop("24.0.0.127.slow.test")
    server.servfail("tempfail.test")
    yield server
    server.stop()


def check(d, *args):
    """`cachetctl prescreen check ...` as {reply, score, dnswl,
    reasons: {NAME: points}}."""
    r = d.ctl("prescreen", "check", *args)
    out = {}
    for line in r.stdout.splitlines():
        key, _, value = line.partition(": ")
        out[key] = value
    reasons = {}
    if out["reasons"] != "none":
        for item in out["reasons"].split(","):
            name, _, pts = item.partition("=")
            reasons[name] = float(pts)
    out["reasons"] = reasons
    out["score"] = float(out["score"])
    return out


@pytest.fixture
def lists(make_daemon, dns):
    d = make_daemon(resolver=dns.addr,
                    extra=LISTS + "sender-domain-check reject\n")
    d.start()
    return d


def test_ctl_usage(lists):
    for args in (["check"], ["look", "127.0.0.5"],
                 ["check", "127.0.0.5", "h.test", "d.test", "extra"]):
        r = lists.ctl("prescreen", *args, check=False)
        assert r.returncode == 2, r
        assert "usage: prescreen check IP [HELO [SENDER-DOMAIN]]" in r.stderr
    r = lists.ctl("prescreen", "check", "1" * 80, check=False)
    assert r.returncode == 2 and "too long" in r.stderr, r


def test_listed_client_refused_with_the_list_named(lists):
    r = check(lists, "127.0.0.5")
    assert r["reply"] == ("554 5.7.1 Service unavailable; client "
                          "[127.0.0.5] blocked using bl.test; listed for "
                          "tests, see https://bl.test/")


def test_unlisted_client_goes_on(lists):
    r = check(lists, "127.0.0.6")
    assert r["reply"] == "none"
    # no PTR in the test zone: the only reason
    assert r["reasons"] == {"RDNS_NONE": 1.0}
    assert r["score"] == 1.0


def test_error_code_is_not_a_listing_and_is_logged(lists):
    r = check(lists, "127.0.0.7")
    assert r["reply"] == "none"
    assert ("event=dnsbl zone=bl.test ip=127.0.0.7 result=error "
            "answer=127.255.255.254") in lists.read_log()


def test_ipv6_client_asked_by_nibbles(lists):
    r = check(lists, "::1")
    assert r["reply"].startswith("554 5.7.1 Service unavailable; client "
                                 "[::1] blocked using bl.test")


def test_weighted_list_adds_points(lists):
    r = check(lists, "127.0.0.20")
    assert r["reply"] == "none"
    assert r["reasons"]["DNSBL_WBL_TEST"] == 2.5
    assert r["dnswl"] == "no"


def test_answer_outside_127_is_ignored(lists):
    r = check(lists, "127.0.0.30")
    assert "DNSBL_WBL_TEST" not in r["reasons"]
    assert ("zone=wbl.test ip=127.0.0.30 result=ignored answer=192.0.2.1"
            in lists.read_log())


def test_dnswl_subtracts_and_flags(lists):
    r = check(lists, "127.0.0.21")
    assert r["reasons"]["DNSWL_WL_TEST"] == -5.0
    assert r["dnswl"] == "yes"
    assert r["score"] == sum(r["reasons"].values())


def test_returns_filters_answers(lists):
    assert "DNSBL_RBL_TEST" not in check(lists, "127.0.0.22")["reasons"]
    assert check(lists, "127.0.0.23")["reasons"]["DNSBL_RBL_TEST"] == 1.0


def test_silent_list_is_no_answer_within_the_budget(lists):
    t0 = time.monotonic()
    r = check(lists, "127.0.0.24")
    took = time.monotonic() - t0
    assert r["reply"] == "none"
    assert "DNSBL_SLOW_TEST" not in r["reasons"]
    assert took < 4, took
    assert ("zone=slow.test ip=127.0.0.24 result=timeout"
            in lists.read_log())


def test_answers_are_cached(lists):
    def cached(ip):
        return [line for line in lists.read_log().splitlines()
                if "event=prescreen" in line and f"ip={ip} " in line
                and "cached=5 " in line]
    check(lists, "127.0.0.20")
    assert not cached("127.0.0.20")
    r = check(lists, "127.0.0.20")
    assert r["reasons"]["DNSBL_WBL_TEST"] == 2.5
    assert len(cached("127.0.0.20")) == 1
    # a cached refusal keeps the list's text
    check(lists, "127.0.0.5")
    assert "listed for tests" in check(lists, "127.0.0.5")["reply"]
    assert len(cached("127.0.0.5")) == 1


# libunbound answers 127.in-addr.arpa itself (its localhost zone), so
# these use the documentation networks, which it leaves to the resolver.
@pytest.mark.parametrize("ip,reason", [
    ("192.0.2.8", None),
    ("2001:db8::8", None),
    ("192.0.2.9", "RDNS_NOT_CONFIRMED"),
    ("192.0.2.10", "RDNS_NONE"),
    ("2001:db8::10", "RDNS_NONE"),
])
def test_fcrdns(lists, ip, reason):
    got = {k for k in check(lists, ip)["reasons"] if k.startswith("RDNS")}
    assert got == ({reason} if reason else set())


def test_fcrdns_tempfail_costs_nothing(make_daemon):
    # the harness's resolver: SERVFAIL for every name
    d = make_daemon()
    d.start()
    r = check(d, "192.0.2.9")
    assert r["reasons"] == {}


@pytest.mark.parametrize("ip,helo,reason", [
    ("192.0.2.8", "good.test", None),
    ("2001:db8::8", "good.test", None),
    ("127.0.0.1", "[127.0.0.1]", None),
    ("::1", "[IPv6:::1]", None),
    ("127.0.0.1", "[127.0.0.2]", "HELO_IP_MISMATCH"),
    ("127.0.0.1", "good.test", "HELO_IP_MISMATCH"),
    ("127.0.0.1", "addronly.test", "HELO_IP_MISMATCH"),
    ("127.0.0.1", "nodots", "HELO_BAD_SYNTAX"),
    ("127.0.0.1", "192.0.2.1", "HELO_BAD_SYNTAX"),
    ("127.0.0.1", "[999.1.1.1]", "HELO_BAD_SYNTAX"),
    ("127.0.0.1", "missing.test", "HELO_NO_DNS"),
    ("127.0.0.1", "tempfail.test", None),
])
def test_helo(lists, ip, helo, reason):
    got = {k for k in check(lists, ip, helo)["reasons"]
           if k.startswith("HELO")}
    assert got == ({reason} if reason else set())


@pytest.mark.parametrize("domain,reply", [
    ("good.test", "none"),
    ("addronly.test", "none"),
    ("missing.test", "550 5.1.8 Sender address rejected: Domain not "
     "found"),
    ("nomx.test", "550 5.1.8 Sender address rejected: Domain not found"),
    ("nullmx.test", "550 5.7.27 Sender address rejected: Domain does not "
     "accept mail (null MX)"),
    # a temporary failure never refuses
    ("tempfail.test", "none"),
])
def test_sender_domain_reject(lists, domain, reply):
    assert check(lists, "127.0.0.6", "good.test", domain)["reply"] == reply


def test_sender_domain_scored_by_default(make_daemon, dns):
    d = make_daemon(resolver=dns.addr)
    d.start()
    r = check(d, "127.0.0.6", "good.test", "missing.test")
    assert r["reply"] == "none"
    assert r["reasons"]["SENDER_DOMAIN_NO_DNS"] == 2.0
    # without lists, no list is asked
    assert not any(n.endswith(".bl.test") for n, _ in dns.queries)


def test_sender_domain_check_off(make_daemon, dns):
    d = make_daemon(resolver=dns.addr, extra="sender-domain-check off\n")
    d.start()
    r = check(d, "127.0.0.6", "good.test", "missing.test")
    assert "SENDER_DOMAIN_NO_DNS" not in r["reasons"]
    assert not any(n == "missing.test"
                   for n, _ in dns.queries)


# --- through smtp: port 25 clients connecting from the listed addresses ---

# A well-formed message (Date, Message-ID), so that only the checks
# before DATA decide whether it lands in the Inbox.
MSG = (b"From: sender@good.test\r\nTo: alice@example.org\r\n"
       b"Date: Sun, 06 Dec 2026 10:00:00 +0000\r\n"
       b"Message-ID: <prescreen.1@good.test>\r\n"
       b"Subject: prescreen\r\n\r\nHello Alice.\r\n")


@pytest.fixture
def mx(lists):
    lists.add_user("alice@example.org", "secret")
    return lists


def send_from(d, ip, sender="sender@good.test"):
    """One message to alice from ip; the refused recipients' replies."""
    s = smtplib.SMTP(timeout=15, local_hostname="client.good.test",
                     source_address=(ip, 0))
    try:
        s.connect("127.0.0.1", d.ports["smtp"])
        return s.sendmail(sender, ["alice@example.org"], MSG)
    except smtplib.SMTPRecipientsRefused as e:
        return e.recipients
    finally:
        s.close()


def spam_status(msg):
    """The X-Spam-Status field of a delivered message, unfolded."""
    m = re.search(rb"(?im)^x-spam-status:(.*(?:\n[ \t].*)*)", msg)
    return m and re.sub(rb"\s+", b" ", m.group(1)).decode()


def delivered(d, n):
    msgs = wait_for(lambda: (lambda m: m if len(m) >= n else None)(
        d.maildir_new("alice@example.org")), 20)
    assert msgs, d.log_tail()
    return msgs[-1]


def test_smtp_listed_client_refused_at_rcpt(mx):
    refused = send_from(mx, "127.0.0.5")
    code, text = refused["alice@example.org"]
    assert code == 554
    assert text.startswith(b"5.7.1 Service unavailable; client "
                           b"[127.0.0.5] blocked using bl.test"), text
    assert "reason=prescreen-client" in mx.read_log()
    # the next address is not listed: taken, no list in its reasons
    assert send_from(mx, "127.0.0.6") == {}
    status = spam_status(delivered(mx, 1))
    assert status is not None and "DNSBL" not in status, status
    assert len(mx.maildir_new("alice@example.org")) == 1


def test_smtp_weighted_list_in_x_spam_status(mx):
    assert send_from(mx, "127.0.0.20") == {}
    status = spam_status(delivered(mx, 1))
    assert "DNSBL_WBL_TEST=2.5" in status, status


def test_smtp_dnswl_subtracts(mx):
    assert send_from(mx, "127.0.0.21") == {}
    status = spam_status(delivered(mx, 1))
    assert "DNSWL_WL_TEST=-5.0" in status, status


def test_smtp_sender_domain_without_dns_refused(mx):
    refused = send_from(mx, "127.0.0.6", sender="someone@missing.test")
    code, text = refused["alice@example.org"]
    assert (code, text) == (550, b"5.1.8 Sender address rejected: Domain "
                            b"not found")
    assert mx.maildir_new("alice@example.org") == []
