"""Greylisting (RFC 6647, issue 15) through the daemon: with
`greylist-delay 2s` a first attempt gets 450, a retry too early 450 again,
a retry after the delay 250, and the next message from that client's
network passes at once; an SPF-pass sender of a domain that got past
before passes from another network; an authenticated submission is never
greylisted; `greylist no` (the default) passes everything; the state
survives a kill -9 of lookup; `cachetctl greylist list|flush`."""

import os
import re
import signal
import smtplib
import time

import pytest

from conftest import USERS, pid_alive, wait_for
from dnsserver import DNSServer

DELAY = 2
# Two client networks (/24 apart) on loopback.
CLIENT = "127.0.0.3"
OTHER = "127.0.9.3"
ZONE = """
example.net.  1 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
"""
MSG = b"From: %s\r\nSubject: greylist\r\n\r\nhello\r\n"


@pytest.fixture
def dns():
    s = DNSServer().start()
    s.replace(ZONE)
    yield s
    s.stop()


@pytest.fixture
def grey(make_daemon, dns):
    def make(extra=f"greylist yes\ngreylist-delay {DELAY}s\n"):
        d = make_daemon(extra=f"resolver {dns.addr}\n"
                        "smtp-plaintext-auth-loopback yes\n" + extra)
        d.start()
        for addr, pw in USERS.items():
            d.add_user(addr, pw)
        return d
    return make


def connect(d, source=CLIENT):
    s = smtplib.SMTP(timeout=30, source_address=(source, 0),
                     local_hostname="client.example.net")
    s.connect("127.0.0.1", d.ports["smtp"])
    s.ehlo()
    return s


def attempt(s, sender, rcpt):
    """MAIL and RCPT in a new transaction: the RCPT's reply."""
    s.rset()
    code, text = s.mail(sender)
    assert code == 250, text
    return s.rcpt(rcpt)


def once(d, sender="sender@example.net", rcpt="alice@example.org",
         source=CLIENT):
    """One attempt on a connection of its own: the RCPT's reply."""
    s = connect(d, source)
    try:
        return attempt(s, sender, rcpt)
    finally:
        s.quit()


def never_greylisted(d):
    """bob's message arrived, and greylisting neither kept nor logged a
    thing."""
    wait_for(lambda: d.maildir_new("bob@example.org"), 20)
    assert d.ctl("greylist", "list").stdout == ""
    assert "event=greylist " not in d.read_log()


def wait_seconds(text):
    m = re.search(rb"try again in (\d+) seconds", text)
    assert m, text
    return int(m.group(1))


def test_first_early_after_delay_then_known(grey):
    d = grey()
    s = connect(d)
    try:
        t0 = time.monotonic()
        code, text = attempt(s, "sender@example.net", "alice@example.org")
        assert code == 450, text
        assert text.startswith(b"4.7.1 Greylisted"), text
        assert b"RFC 6647" in text, text
        assert wait_seconds(text) == DELAY
        # too early: the same triplet, again 450
        code, text = attempt(s, "Sender@Example.NET", "alice@example.org")
        assert code == 450, text
        assert wait_seconds(text) <= DELAY
        time.sleep(max(0.0, DELAY + 0.2 - (time.monotonic() - t0)))
        code, text = attempt(s, "sender@example.net", "alice@example.org")
        assert code == 250, text
        code, text = s.data(MSG % b"sender@example.net")
        assert code == 250, text
        # the next message from that client passes at once, any triplet
        code, text = attempt(s, "", "bob@example.org")
        assert code == 250, text
        code, text = s.data(MSG % b"mailer-daemon@example.net")
        assert code == 250, text
    finally:
        s.quit()
    wait_for(lambda: d.maildir_new("alice@example.org"), 20)
    wait_for(lambda: d.maildir_new("bob@example.org"), 20)
    out = d.ctl("greylist", "list").stdout
    assert re.search(r"(?m)^client 127\.0\.0\.0/24 seen=\d+ passed=1$",
                     out), out
    assert re.search(r"(?m)^domain example\.net seen=\d+ passed=1$",
                     out), out
    log = d.read_log()
    assert "event=greylist net=127.0.0.0/24 from=<sender@example.net> " \
        "to=<alice@example.org> result=defer-new wait=2" in log
    assert "result=defer-early" in log
    assert "result=pass-retried" in log
    assert "result=pass-client" in log


def test_other_network_is_greylisted_unless_spf_pass_known(grey):
    d = grey()
    s = connect(d)
    try:
        code, text = attempt(s, "sender@example.net", "alice@example.org")
        assert code == 450, text
        # another network, a sender without SPF: greylisted on its own
        code, text = once(d, "x@example.com", source=OTHER)
        assert code == 450, text
        time.sleep(DELAY + 0.2)
        code, text = attempt(s, "sender@example.net", "alice@example.org")
        assert code == 250, text
    finally:
        s.quit()
    # example.net got past, and its SPF passes for OTHER: at once
    code, text = once(d, "news@example.net", "bob@example.org", OTHER)
    assert code == 250, text
    assert "result=pass-domain" in d.read_log()


def test_authenticated_submission_never_greylisted(grey):
    d = grey()
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=30)
    try:
        s.login("alice@example.org", USERS["alice@example.org"])
        refused = s.sendmail("alice@example.org", ["bob@example.org"],
                             MSG % b"alice@example.org")
        assert refused == {}
    finally:
        s.quit()
    never_greylisted(d)


def test_greylist_off_by_default(grey):
    d = grey(extra="")
    s = connect(d)
    try:
        for rcpt in ("alice@example.org", "bob@example.org"):
            code, text = attempt(s, "sender@example.net", rcpt)
            assert code == 250, text
            code, text = s.data(MSG % b"sender@example.net")
            assert code == 250, text
    finally:
        s.quit()
    never_greylisted(d)


def test_state_survives_kill9_of_lookup(grey):
    d = grey()
    code, text = once(d)
    assert code == 450, text
    t0 = time.monotonic()
    old = d.role_pids()["lookup"]
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: not pid_alive(old), 10)
    wait_for(lambda: d.role_pids().get("lookup") not in (None, old) and
             d.status()["lookup"]["state"] == "alive", 20)
    time.sleep(max(0.0, DELAY + 0.2 - (time.monotonic() - t0)))
    code, text = once(d)
    assert code == 250, text


def test_ctl_flush_and_usage(grey):
    d = grey()
    s = connect(d)
    try:
        code, text = attempt(s, "sender@example.net", "alice@example.org")
        assert code == 450, text
        out = d.ctl("greylist", "list").stdout
        assert re.search(r"(?m)^triplet net=127\.0\.0\.0/24 "
                         r"from=<sender@example\.net> "
                         r"to=<alice@example\.org> first=\d+ last=\d+ "
                         r"tries=1$", out), out
        d.ctl("greylist", "flush")
        assert d.ctl("greylist", "list").stdout == ""
        # forgotten: the retry after the delay is a first attempt again
        time.sleep(DELAY + 0.2)
        code, text = attempt(s, "sender@example.net", "alice@example.org")
        assert code == 450, text
        assert wait_seconds(text) == DELAY
    finally:
        s.quit()
    r = d.ctl("greylist", "show", check=False)
    assert r.returncode == 2 and "usage: greylist list" in r.stderr, r
