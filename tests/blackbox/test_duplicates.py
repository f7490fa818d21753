"""Duplicate recipients: a message goes once to each final mailbox and
once to each address of another domain, however many of its recipients
lead there (the same RCPT twice, an alias and its target, two aliases of
one user, user+a and user+b, spellings of one address), while every
recipient keeps its own outcome and reports: NOTIFY=SUCCESS reports for
each, a failure bounced for each (RFC 3461 §4.1).  The contract is
docs/architecture.md "Duplicates".

alice@example.org sends through submission (she also receives the
reports); bob@example.org is a local user; bob@example.net is served by
a scripted peer on 127.0.0.2 (smtppeer.py) found through the test DNS
server.  Runs as root (port 25)."""

import re
import smtplib

import pytest

from conftest import wait_for
from test_delivery import maildir_messages, split_delivered
from test_outbound import (ALICE, CONTENT, dns, out, servers,  # noqa: F401
                           in_queue, report_fields, reports)

BOB = "bob@example.org"
RBOB = "bob@example.net"


def submit_each(d, rcpts):
    """Send CONTENT as alice through submission, each recipient with its
    own RCPT parameters: rcpts is [(address, [options])]; the queue id."""
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"],
                     local_hostname="client.example.org", timeout=15)
    try:
        s.login(ALICE, "secret")
        code, text = s.mail(ALICE)
        assert code == 250, text
        for addr, options in rcpts:
            code, text = s.rcpt(addr, options)
            assert code == 250, (addr, text)
        code, text = s.data(CONTENT)
        assert code == 250, text
        return re.search(rb"queued as ([0-9a-f]{16})", text).group(1).decode()
    finally:
        s.quit()


def submit(d, rcpts):
    return submit_each(d, [(r, []) for r in rcpts])


def done(d, qid):
    """Wait until message qid has left the queue: every recipient is
    settled, so nothing more of it will be delivered."""
    assert wait_for(lambda: not in_queue(d, qid), 30), \
        d.ctl("queue").stdout + d.log_tail(40)


def removed(d, qid):
    """(delivered, failed) of the queue's last word on qid."""
    m = re.search(r"id=" + qid + r" event=removed delivered=(\d+) "
                  r"failed=(\d+)", d.read_log())
    assert m, d.log_tail(40)
    return int(m.group(1)), int(m.group(2))


def duplicates(d, qid):
    """What the queue logged of recipients sharing a delivery: (the
    recipient, the one whose delivery it shares, shared (when it joined
    one under way) or delivered (when it got that outcome))."""
    return re.findall(r"id=" + qid + r" event=duplicate to=<([^>]*)> "
                      r"same=<([^>]*)> result=(\w+)", d.read_log())


def all_reports(d, n):
    """Wait for n reports in alice's Maildir (and no more once the queue
    is empty); parsed."""
    assert wait_for(lambda: len(reports(d)) >= n, 30), d.log_tail(40)
    assert wait_for(lambda: d.queue_ids() == [], 30), d.ctl("queue").stdout
    got = reports(d)
    assert len(got) == n, [r["Subject"] for r in got]
    return got


# --- local mailboxes ---

def test_same_rcpt_twice_gets_one_copy(out):
    d = out()
    d.add_user(BOB)
    qid = submit(d, [BOB, BOB])
    done(d, qid)
    [raw] = maildir_messages(d, BOB)
    assert split_delivered(raw)[1] == BOB
    # both recipients are delivered, one by sharing the other's copy
    assert removed(d, qid) == (2, 0)
    assert duplicates(d, qid) == [(BOB, BOB, "shared"),
                                  (BOB, BOB, "delivered")]
    assert len(re.findall(r"id=" + qid + r" event=delivered to=<",
                          d.read_log())) == 1


def test_spellings_of_one_address_get_one_copy(out):
    d = out()
    d.add_user(BOB)
    qid = submit(d, [BOB, "Bob@Example.ORG", "BOB@example.org"])
    done(d, qid)
    assert len(maildir_messages(d, BOB)) == 1
    assert removed(d, qid) == (3, 0)


def test_alias_and_its_target_get_one_copy_in_either_order(out):
    d = out()
    d.add_user(BOB)
    d.ctl("alias", "add", "team@example.org", BOB)
    a = submit(d, ["team@example.org", BOB])
    done(d, a)
    b = submit(d, [BOB, "team@example.org"])
    done(d, b)
    ids = sorted(re.search(rb" id ([0-9a-f]{16})", m).group(1).decode()
                 for m in maildir_messages(d, BOB))
    assert ids == sorted([a, b])
    # team expanded into a child bob, delivered with the named bob
    assert removed(d, a) == (2, 0) and removed(d, b) == (2, 0)


def test_two_aliases_of_one_user_get_one_copy(out):
    d = out()
    d.add_user(BOB)
    d.ctl("alias", "add", "sales@example.org", BOB)
    d.ctl("alias", "add", "info@example.org", BOB)
    qid = submit(d, ["sales@example.org", "info@example.org"])
    done(d, qid)
    assert len(maildir_messages(d, BOB)) == 1
    assert removed(d, qid) == (2, 0)
    # each alias keeps its own child, so its own reports
    text = d.read_log()
    assert re.search(r"id=" + qid + r" event=expanded "
                     r"rcpt=<sales@example.org> into=1", text)
    assert re.search(r"id=" + qid + r" event=expanded "
                     r"rcpt=<info@example.org> into=1", text)


def test_plus_addresses_of_one_user_get_one_copy(out):
    """user+a and user+b lead to one mailbox: one copy, as Dovecot's
    LMTP delivers once per mailbox; its Delivered-To: is the recipient
    resolved first."""
    d = out()
    d.add_user(BOB)
    qid = submit(d, ["bob+a@example.org", "bob+b@example.org"])
    done(d, qid)
    [raw] = maildir_messages(d, BOB)
    assert split_delivered(raw)[1] in ("bob+a@example.org",
                                       "bob+b@example.org")
    assert removed(d, qid) == (2, 0)


@pytest.mark.parametrize("aliases,rcpts", [
    # bob named twice beside carol
    ([], [BOB, "carol@example.org", BOB]),
    # an alias made in one call whose targets are bob under two names
    # and carol
    ([("team@example.org", BOB, "bob+lists@example.org",
       "carol@example.org")], ["team@example.org"]),
])
def test_each_user_gets_one_copy(out, aliases, rcpts):
    d = out()
    d.add_user(BOB)
    d.add_user("carol@example.org")
    for line in aliases:
        d.ctl("alias", "add", *line)
    qid = submit(d, rcpts)
    done(d, qid)
    assert len(maildir_messages(d, BOB)) == 1
    assert len(maildir_messages(d, "carol@example.org")) == 1
    assert removed(d, qid) == (3, 0)


def test_notify_success_reports_every_rcpt(out):
    d = out()
    d.add_user(BOB)
    qid = submit_each(d, [
        (BOB, ["NOTIFY=SUCCESS", "ORCPT=rfc822;first@example.org"]),
        (BOB, ["NOTIFY=SUCCESS", "ORCPT=rfc822;second@example.org"])])
    done(d, qid)
    assert len(maildir_messages(d, BOB)) == 1
    [r] = all_reports(d, 1)
    _, rcpts = report_fields(r)
    assert sorted(x["Original-Recipient"].replace(" ", "")
                  for x in rcpts) == ["rfc822;first@example.org",
                                      "rfc822;second@example.org"]
    for x in rcpts:
        assert x["Action"] == "delivered"
        assert x["Final-Recipient"] == "rfc822; " + BOB


def test_a_failure_is_bounced_for_every_rcpt(out):
    """Over quota with quota-exceeded reject: the one delivery fails,
    and the bounce names the named recipient and the alias that led to
    the same mailbox."""
    d = out(extra="quota-exceeded reject")
    d.add_user(BOB)
    d.ctl("user", "set", BOB, "quota", "1K")
    d.ctl("alias", "add", "team@example.org", BOB)
    big = b"Subject: too big\r\n\r\n" + (b"z" * 78 + b"\r\n") * 40
    s = smtplib.SMTP("127.0.0.1", d.ports["submission"], timeout=15)
    s.login(ALICE, "secret")
    s.sendmail(ALICE, [BOB, "team@example.org"], big)
    s.quit()
    [r] = all_reports(d, 1)
    _, rcpts = report_fields(r)
    assert len(rcpts) == 2
    for x in rcpts:
        assert x["Action"] == "failed"
        assert x["Status"] == "5.2.2"
        assert x["Final-Recipient"] == "rfc822; " + BOB
    assert sorted(x.get("Original-Recipient", "").replace(" ", "")
                  for x in rcpts) == ["", "rfc822;team@example.org"]
    # the mda was asked once
    assert len(re.findall(r"event=over-quota to=<", d.read_log())) == 1
    assert maildir_messages(d, BOB) == []


# --- addresses of another domain ---

def test_remote_rcpt_twice_is_sent_once(out, servers):
    peer = servers("127.0.0.2")
    d = out()
    qid = submit(d, [RBOB, RBOB, "bob@EXAMPLE.NET"])
    done(d, qid)
    assert removed(d, qid) == (3, 0)
    [m] = peer.messages
    assert m["rcpts"] == [RBOB]
    assert peer.rcpt_commands == [RBOB]


def test_remote_local_part_case_is_the_remote_hosts(out, servers):
    """RFC 5321 §2.4: only the host of a mailbox may fold the case of
    its local part, so Bob@ and bob@ are both sent (in one message)."""
    peer = servers("127.0.0.2")
    d = out()
    qid = submit(d, [RBOB, "Bob@example.net"])
    done(d, qid)
    [m] = peer.messages
    assert sorted(m["rcpts"]) == ["Bob@example.net", RBOB]


def test_remote_alias_and_direct_sent_once(out, servers):
    peer = servers("127.0.0.2")
    d = out()
    d.ctl("alias", "add", "fwd@example.org", RBOB)
    qid = submit(d, ["fwd@example.org", RBOB])
    done(d, qid)
    assert removed(d, qid) == (2, 0)
    [m] = peer.messages
    assert m["rcpts"] == [RBOB]


def test_remote_refusal_is_bounced_for_every_rcpt(out, servers):
    peer = servers("127.0.0.2", rcpts={RBOB: "550 5.1.1 no such user"})
    d = out()
    qid = submit(d, [RBOB, RBOB])
    [r] = all_reports(d, 1)
    _, rcpts = report_fields(r)
    assert [x["Action"] for x in rcpts] == ["failed", "failed"]
    assert all(x["Status"] == "5.1.1" for x in rcpts)
    assert all(x["Diagnostic-Code"] == "smtp; 550 5.1.1 no such user"
               for x in rcpts)
    assert peer.rcpt_commands == [RBOB]
    assert removed(d, qid) == (0, 2)


def test_remote_deferral_keeps_both_and_sends_one_rcpt_a_try(out, servers):
    peer = servers("127.0.0.2", rcpts={RBOB: "450 4.2.1 mailbox busy"})
    d = out()
    qid = submit(d, [RBOB, RBOB])
    # two tries: each deferred both recipients, with one RCPT each time
    assert wait_for(lambda: len(re.findall(
        r"id=" + qid + r" event=deferred to=<bob@example.net> "
        r"attempts=2 ", d.read_log())) == 2, 30), d.log_tail(40)
    text = d.ctl("queue", "show", qid).stdout
    assert text.count("  last error: 450 4.2.1 mailbox busy\n") == 2, text
    # the mailbox frees up: one message, one RCPT, both delivered
    with peer.lock:
        peer.rcpts.clear()
    done(d, qid)
    assert [m["rcpts"] for m in peer.messages] == [[RBOB]]
    assert removed(d, qid) == (2, 0)
    # the mta tried one recipient each time (its log has a line per
    # recipient tried), and the peer saw one RCPT each time
    tries = re.findall(r"id=" + qid + r" to=<bob@example.net> .*"
                       r"status=(deferred|sent)", d.read_log())
    assert tries.count("sent") == 1 and tries.count("deferred") >= 2
    assert peer.rcpt_commands == [RBOB] * len(tries)


def test_remote_notify_success_relayed_for_every_rcpt(out, servers):
    """aiosmtpd does not announce DSN, so the "relayed" reports are
    ours: one per recipient, though one RCPT went out."""
    peer = servers("127.0.0.2")
    d = out()
    qid = submit_each(d, [(RBOB, ["NOTIFY=SUCCESS"]),
                          (RBOB, ["NOTIFY=SUCCESS,FAILURE"])])
    done(d, qid)
    assert [m["rcpts"] for m in peer.messages] == [[RBOB]]
    [r] = all_reports(d, 1)
    _, rcpts = report_fields(r)
    assert [x["Action"] for x in rcpts] == ["relayed", "relayed"]
