"""Local delivery, black-box: messages sent with smtplib and swaks land
in the user's Maildir (read back with Python's mailbox.Maildir) or mbox
(read by mailbox.mbox and by Debian's mutt), with Return-Path: and
Delivered-To: in front and otherwise the bytes that were sent (LF line
ends: a Maildir or mbox file holds LF).  Recipients: aliases (fan-out,
nested, loops), the catch-all, plus-addressing, postmaster@ and abuse@,
unknown users; quotas at RCPT and at delivery.  The contract is
docs/architecture.md "Delivering a message", docs/cachet.conf.md and
docs/cachetctl.md."""

import mailbox
import os
import re
import smtplib
import subprocess
import time

import pytest

from conftest import AUTH_FIELDS, wait_for, RawSMTP, dot_stuff

HOST = "127.0.0.1"
SENDER = "sender@example.net"
CONTENT = (b"From: Sender <sender@example.net>\r\n"
           b"To: Alice <alice@example.org>\r\n"
           b"Subject: delivery test\r\n"
           b"Message-ID: <d.1@example.net>\r\n"
           b"\r\n"
           b"First line\r\n"
           b"\r\n"
           b"From the body, a line that mbox must quote\r\n"
           b">From an already quoted one\r\n"
           b".a leading dot\r\n"
           b"caf\xc3\xa9\r\n")



def send(d, rcpts, content=CONTENT, sender=SENDER, port="smtp"):
    """One message over smtplib; its queue id."""
    s = smtplib.SMTP(HOST, d.ports[port], local_hostname="client.example.net",
                     timeout=15)
    try:
        s.ehlo()
        code, resp = s.mail(sender, ["BODY=8BITMIME"])
        assert code == 250, resp
        for r in rcpts:
            code, resp = s.rcpt(r)
            assert code == 250, (r, code, resp)
        code, resp = s.data(content)
        assert code == 250, resp
        s.quit()
    finally:
        s.close()
    m = re.search(rb"queued as ([0-9a-f]{16})", resp)
    assert m, resp
    return m.group(1).decode()


def rcpt_reply(d, rcpt, sender=SENDER):
    """The reply to RCPT TO:<rcpt>, as (code, enhanced code, text)."""
    with RawSMTP(d.ports["smtp"]) as c:
        c.greet()
        c.ehlo()
        c.expect(f"MAIL FROM:<{sender}>", 250)
        r = c.cmd(f"RCPT TO:<{rcpt}>")
        return r.code, r.enh, r.text


def maildir_path(d, addr):
    local, domain = addr.split("@")
    return os.path.join(d.mail, domain, local)


def maildir_messages(d, addr):
    """The raw bytes of every message in a user's Maildir (INBOX), read
    with Python's mailbox.Maildir."""
    path = maildir_path(d, addr)
    if not maildir_made(path):
        return []
    md = mailbox.Maildir(path, factory=None, create=False)
    return [md.get_bytes(k) for k in md.keys()]


def maildir_made(path):
    """The mda makes tmp/, new/ and cur/ one after the other before the
    first message goes in: until all three are there, none is (and
    Python's mailbox would fail on the missing one)."""
    return all(os.path.isdir(os.path.join(path, sub))
               for sub in ("tmp", "new", "cur"))


def maildir_count(d, addr):
    """Messages in a user's new/ and cur/, without reading them."""
    path = maildir_path(d, addr)
    if not maildir_made(path):
        return 0
    return sum(len(os.listdir(os.path.join(path, sub)))
               for sub in ("new", "cur"))


def wait_messages(d, addr, n, timeout=15):
    got = wait_for(lambda: len(maildir_messages(d, addr)) >= n, timeout)
    msgs = maildir_messages(d, addr)
    assert got and len(msgs) == n, (addr, len(msgs), d.log_tail(40))
    return msgs


def wait_queue_empty(d, timeout=20):
    assert wait_for(lambda: d.queue_ids() == [], timeout), \
        d.ctl("queue").stdout + d.log_tail(40)


def split_delivered(raw):
    """A delivered message: (Return-Path, Delivered-To, our Received:
    header with its folded lines, the rest).  The fields sender
    authentication puts on top (AUTH_FIELDS) sit between the first two
    and Received:, and are passed over."""
    lines = raw.split(b"\n")
    assert lines[0].startswith(b"Return-Path: "), raw[:200]
    assert lines[1].startswith(b"Delivered-To: "), raw[:200]
    r = 2
    while lines[r].split(b":", 1)[0].lower() in AUTH_FIELDS:
        r += 1
        while lines[r][:1] in (b" ", b"\t"):
            r += 1
    assert lines[r].startswith(b"Received: from "), raw[:300]
    i = r + 1
    while lines[i][:1] in (b" ", b"\t"):
        i += 1
    return (lines[0][len(b"Return-Path: "):].decode(),
            lines[1][len(b"Delivered-To: "):].decode(),
            b"\n".join(lines[r:i]) + b"\n", b"\n".join(lines[i:]))


def lf(content):
    return content.replace(b"\r\n", b"\n")


def show(d, qid):
    return d.ctl("queue", "show", qid).stdout


# --- Maildir ---

def test_smtplib_message_in_maildir_byte_identical(mx):
    qid = send(mx, ["alice@example.org"])
    [raw] = wait_messages(mx, "alice@example.org", 1)
    rp, dt, received, rest = split_delivered(raw)
    assert rp == f"<{SENDER}>"
    assert dt == "alice@example.org"
    assert f"id {qid}".encode() in received
    assert b"for <alice@example.org>" in received
    # byte-identical after the added headers, CRLF -> LF
    assert rest == lf(CONTENT)
    wait_queue_empty(mx)
    assert f"id={qid} event=removed delivered=1 failed=0" in mx.read_log()


def test_maildir_layout_and_file_name(mx):
    send(mx, ["alice@example.org"])
    wait_messages(mx, "alice@example.org", 1)
    path = maildir_path(mx, "alice@example.org")
    for sub in ("cur", "new", "tmp"):
        assert os.path.isdir(os.path.join(path, sub))
    # Maildir++ standard folders, created on the first delivery
    for folder in (".Sent", ".Drafts", ".Junk", ".Trash", ".Archive"):
        for sub in ("cur", "new", "tmp"):
            assert os.path.isdir(os.path.join(path, folder, sub)), folder
        assert os.path.exists(os.path.join(path, folder, "maildirfolder"))
    [name] = os.listdir(os.path.join(path, "new"))
    # time.M<usec>P<pid>Q<n>.host,S=<size> (Maildir spec, Maildir++)
    m = re.match(r"^(\d+)\.M(\d+)P(\d+)Q(\d+)\.([^,/:]+),S=(\d+)", name)
    assert m, name
    assert abs(int(m.group(1)) - time.time()) < 300
    size = os.path.getsize(os.path.join(path, "new", name))
    assert int(m.group(6)) == size
    assert os.listdir(os.path.join(path, "tmp")) == []
    # only the owner reads a mailbox
    assert os.stat(path).st_mode & 0o077 == 0
    assert os.stat(os.path.join(path, "new", name)).st_mode & 0o077 == 0


def test_swaks_message_in_maildir(mx):
    body = "Subject: swaks\r\n\r\nsent by swaks\r\n.dot line\r\n"
    r = subprocess.run(["swaks", "--server", f"{HOST}:{mx.ports['smtp']}",
                        "--helo", "client.example.net",
                        "--from", SENDER, "--to", "bob@example.org",
                        "--data", body], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    qid = re.search(r"queued as ([0-9a-f]{16})", r.stdout).group(1)
    [raw] = wait_messages(mx, "bob@example.org", 1)
    rp, dt, received, rest = split_delivered(raw)
    assert (rp, dt) == (f"<{SENDER}>", "bob@example.org")
    assert f"id {qid}".encode() in received
    # swaks ends the data with CRLF before the final dot
    assert rest == lf(body.encode()) + b"\n"


def test_one_message_two_users(mx):
    qid = send(mx, ["alice@example.org", "bob@example.org"])
    for user in ("alice@example.org", "bob@example.org"):
        [raw] = wait_messages(mx, user, 1)
        _rp, dt, received, rest = split_delivered(raw)
        assert dt == user
        assert f"id {qid}".encode() in received
        assert rest == lf(CONTENT)
    wait_queue_empty(mx)


def test_null_sender_return_path(mx):
    send(mx, ["alice@example.org"], sender="")
    [raw] = wait_messages(mx, "alice@example.org", 1)
    assert split_delivered(raw)[0] == "<>"


def test_recipient_case_and_domain_case_ignored(mx):
    send(mx, ["ALICE@Example.ORG"])
    [raw] = wait_messages(mx, "alice@example.org", 1)
    assert split_delivered(raw)[1] == "alice@example.org"


def test_large_message_delivered_intact(mx):
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    content = b"Subject: big\r\n\r\n" + line * (4 * 1024 * 1024 // len(line))
    send(mx, ["alice@example.org"], content=content)
    [raw] = wait_messages(mx, "alice@example.org", 1, timeout=30)
    assert split_delivered(raw)[3] == lf(content)


# --- mbox ---

def mbox_user(d, addr="bob@example.org"):
    d.ctl("user", "set", addr, "format", "mbox")
    local, domain = addr.split("@")
    return os.path.join(d.mail, domain, local, "mbox")


def test_mbox_read_by_python_and_mutt(mx, tmpbase):
    path = mbox_user(mx)
    a = send(mx, ["bob@example.org"])
    b = send(mx, ["bob@example.org"], content=b"Subject: second\r\n\r\n"
             b"From me\r\nbye\r\n", sender="")
    wait_queue_empty(mx)
    assert not os.path.exists(maildir_path(mx, "bob@example.org") + "/new")
    box = mailbox.mbox(path, create=False)
    msgs = [box.get_bytes(k, from_=True) for k in box.keys()]
    assert len(msgs) == 2, msgs
    first = msgs[0].split(b"\n", 1)
    assert first[0].startswith(b"From " + SENDER.encode() + b" ")
    rp, dt, received, rest = split_delivered(first[1])
    assert (rp, dt) == (f"<{SENDER}>", "bob@example.org")
    assert f"id {a}".encode() in received
    # mboxrd: every ">*From " body line got one more ">"
    quoted = (lf(CONTENT).replace(b"\nFrom the body", b"\n>From the body")
              .replace(b"\n>From an", b"\n>>From an"))
    assert rest == quoted
    second = msgs[1].split(b"\n", 1)
    assert second[0].startswith(b"From MAILER-DAEMON ")
    rp, _dt, received, rest = split_delivered(second[1])
    assert rp == "<>" and f"id {b}".encode() in received
    assert rest == b"Subject: second\n\n>From me\nbye\n"
    # on disk, an empty line ends each message
    with open(path, "rb") as f:
        data = f.read()
    assert data.count(b"\n\nFrom ") == 1
    assert data.endswith(b"\nbye\n\n")
    assert data.index(quoted) > 0
    # no lock left behind
    assert os.listdir(os.path.dirname(path)) == ["mbox"]

    # mutt, in batch: copy each message it parsed into a fresh Maildir,
    # one by one in file order.  Not by tagging them all: once in ~300
    # runs mutt copied only the current message, which is what its
    # <tag-prefix> does when it finds no tag (a read-only mailbox that
    # mutt reopens loses its tags, mutt's mbox.c), so the result hung on
    # mutt's state rather than on what it parsed.
    out = os.path.join(tmpbase, "mutt-copy")
    cmd = ("TERM=vt100 mutt -n -F /dev/null -R -f " + path +
           " -e 'set mbox_type=Maildir confirmcreate=no confirmappend=no"
           " sort=mailbox-order'"
           " -e 'push <first-entry><copy-message>" + out + "<enter>"
           "<next-entry><copy-message>" + out + "<enter><exit>'")
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout[-2000:]
    # mutt's status line counts what it parsed
    assert b"Msgs:2 " in r.stdout, r.stdout[-2000:]
    md = mailbox.Maildir(out, factory=None, create=False)
    copied = sorted(md.get_bytes(k) for k in md.keys())
    assert len(copied) == 2, (copied, r.stdout[-2000:])
    subjects = sorted(re.search(rb"(?m)^Subject: (.*)$", m).group(1)
                      for m in copied)
    assert subjects == [b"delivery test", b"second"]
    for m in copied:
        assert b"Delivered-To: bob@example.org\n" in m


def test_mbox_switch_back_to_maildir(mx):
    mbox_user(mx)
    send(mx, ["bob@example.org"])
    wait_queue_empty(mx)
    mx.ctl("user", "set", "bob@example.org", "format", "maildir")
    send(mx, ["bob@example.org"])
    [raw] = wait_messages(mx, "bob@example.org", 1)
    assert split_delivered(raw)[3] == lf(CONTENT)


# --- recipients: aliases, catch-all, plus-addressing, postmaster ---

def test_alias_fan_out(mx):
    mx.ctl("alias", "add", "team@example.org", "alice@example.org")
    mx.ctl("alias", "add", "team@example.org", "bob@example.org")
    mx.ctl("alias", "add", "team@example.org", "carol@example.net")
    qid = send(mx, ["team@example.org"])
    for user in ("alice@example.org", "bob@example.org"):
        [raw] = wait_messages(mx, user, 1)
        assert split_delivered(raw)[1] == user
        assert split_delivered(raw)[3] == lf(CONTENT)
    # the remote target waits (the harness's DNS answers SERVFAIL); the
    # rest is done
    assert wait_for(lambda: "last error: 4.4.3" in show(mx, qid))
    text = show(mx, qid)
    assert "recipient: <team@example.org>\n  state: expanded" in text
    for user in ("alice@example.org", "bob@example.org"):
        assert re.search(r"recipient: <" + re.escape(user) + r">\n"
                         r"  state: delivered\n"
                         r"  notify: unset\n"
                         r"  orcpt: rfc822;team@example.org\n"
                         r"  parent: <team@example.org>\n", text), text
    assert re.search(r"recipient: <carol@example.net>\n(  .*\n)*"
                     r"  state: pending\n(  .*\n)*"
                     r"  last error: 4\.4\.3 temporary DNS failure looking "
                     r"up MX", text), text
    [e] = [e for e in mx.queue_list() if e["id"] == qid]
    assert e["rcpts"] == ["team@example.org"] and e["state"] == "deferred"
    # the expansion is on disk: the restarted queue (ready only after its
    # scan) holds team expanded and alice delivered, so nothing of it is
    # delivered again; a sleep would only hope so
    mx.stop()
    mx.start()
    text = show(mx, qid)
    assert "recipient: <team@example.org>\n  state: expanded" in text, text
    for user in ("alice@example.org", "bob@example.org"):
        assert re.search(r"recipient: <" + re.escape(user) + r">\n"
                         r"  state: delivered\n", text), text
    assert len(maildir_messages(mx, "alice@example.org")) == 1


def test_alias_nested(mx):
    mx.ctl("alias", "add", "all@example.org", "staff@example.org")
    mx.ctl("alias", "add", "staff@example.org", "admins@example.org")
    mx.ctl("alias", "add", "admins@example.org", "alice@example.org")
    send(mx, ["all@example.org"])
    [raw] = wait_messages(mx, "alice@example.org", 1)
    assert split_delivered(raw)[1] == "alice@example.org"
    wait_queue_empty(mx)


def test_alias_fan_out_reaching_one_user_twice_delivers_once(mx):
    mx.ctl("alias", "add", "a@example.org", "alice@example.org")
    mx.ctl("alias", "add", "a@example.org", "b@example.org")
    mx.ctl("alias", "add", "b@example.org", "alice@example.org")
    send(mx, ["a@example.org", "alice@example.org"])
    wait_queue_empty(mx)
    assert len(maildir_messages(mx, "alice@example.org")) == 1


def test_alias_loop_refused_at_rcpt(mx):
    mx.ctl("alias", "add", "ping@example.org", "pong@example.org")
    mx.ctl("alias", "add", "pong@example.org", "ping@example.org")
    code, enh, text = rcpt_reply(mx, "ping@example.org")
    assert (code, enh) == (550, "5.4.6"), text
    assert "Alias loop" in text


def test_alias_partial_loop_fails_that_branch(mx):
    mx.ctl("alias", "add", "ping@example.org", "pong@example.org")
    mx.ctl("alias", "add", "ping@example.org", "alice@example.org")
    mx.ctl("alias", "add", "pong@example.org", "ping@example.org")
    # null sender: no bounce is owed, so the message leaves the queue
    qid = send(mx, ["ping@example.org"], sender="")
    wait_messages(mx, "alice@example.org", 1)
    wait_queue_empty(mx)
    assert f"id={qid} event=removed delivered=1 failed=1" in mx.read_log()
    # with a sender, the failed branch is bounced to it (RFC 3464), and
    # the message leaves; the bounce waits for outbound delivery (the
    # harness's DNS answers SERVFAIL)
    qid = send(mx, ["ping@example.org"])
    wait_messages(mx, "alice@example.org", 2)
    m = wait_for(lambda: re.search(r"id=([0-9a-f]{16}) event=dsn "
                                   r"kind=failure about=" + qid +
                                   r" to=<sender@example.net> rcpts=1",
                                   mx.read_log()))
    assert m, mx.log_tail()
    assert wait_for(lambda: qid not in mx.queue_ids())
    bounce = m.group(1)
    [e] = [e for e in mx.queue_list() if e["id"] == bounce]
    assert e["sender"] in ("<>", "") and e["rcpts"] == [SENDER]
    assert "Alias loop" in mx.queue_cat(bounce).decode()


def test_alias_keeping_a_copy(mx):
    mx.ctl("alias", "add", "alice@example.org", "alice@example.org")
    mx.ctl("alias", "add", "alice@example.org", "bob@example.org")
    send(mx, ["alice@example.org"])
    wait_messages(mx, "alice@example.org", 1)
    wait_messages(mx, "bob@example.org", 1)


def test_catchall(mx):
    code, enh, _ = rcpt_reply(mx, "whoever@example.org")
    assert (code, enh) == (550, "5.1.1")
    mx.ctl("alias", "add", "@example.org", "bob@example.org")
    assert "@example.org -> bob@example.org" in mx.ctl("alias",
                                                       "list").stdout
    send(mx, ["whoever@example.org", "sales+x@example.org"])
    wait_messages(mx, "bob@example.org", 1)
    # users still get their own mail
    send(mx, ["alice@example.org"])
    wait_messages(mx, "alice@example.org", 1)
    wait_queue_empty(mx)
    assert len(maildir_messages(mx, "bob@example.org")) == 1
    mx.ctl("alias", "del", "@example.org", "bob@example.org")
    assert rcpt_reply(mx, "whoever@example.org")[0] == 550


def test_plus_addressing(mx):
    send(mx, ["alice+lists@example.org"])
    [raw] = wait_messages(mx, "alice@example.org", 1)
    assert split_delivered(raw)[1] == "alice+lists@example.org"
    assert not os.path.exists(os.path.join(mx.mail, "example.org",
                                           "alice+lists"))
    assert rcpt_reply(mx, "nobody+x@example.org")[:2] == (550, "5.1.1")


def test_plus_addressing_other_delimiter(make_daemon):
    d = make_daemon(extra="recipient-delimiter -")
    d.start()
    d.add_user("alice@example.org")
    send(d, ["alice-news@example.org"])
    [raw] = wait_messages(d, "alice@example.org", 1)
    assert split_delivered(raw)[1] == "alice-news@example.org"
    assert rcpt_reply(d, "alice+news@example.org")[:2] == (550, "5.1.1")


def test_postmaster_and_abuse(make_daemon):
    d = make_daemon(domains=("example.org", "example.com"),
                    extra="postmaster admin@example.org")
    d.start()
    d.add_user("admin@example.org")
    d.add_user("alice@example.org")
    rcpts = ["postmaster@example.org", "abuse@example.org",
             "Postmaster@example.com", "ABUSE@example.com"]
    for r in rcpts:
        send(d, [r])
    # RFC 5321 §4.1.1.3: <Postmaster> with no domain
    with RawSMTP(d.ports["smtp"]) as c:
        c.greet()
        c.ehlo()
        c.expect(f"MAIL FROM:<{SENDER}>", 250)
        c.expect("RCPT TO:<Postmaster>", 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(dot_stuff(b"Subject: bare postmaster\r\n\r\nhi\r\n"))
        c.expect(None, 250)
    msgs = wait_messages(d, "admin@example.org", 5)
    assert sorted(split_delivered(m)[1] for m in msgs) == \
        ["admin@example.org"] * 5
    assert maildir_messages(d, "alice@example.org") == []
    wait_queue_empty(d)


def test_postmaster_default_is_a_user(mx):
    # no postmaster directive: the first user in address order
    send(mx, ["postmaster@example.org"])
    wait_messages(mx, "alice@example.org", 1)


def test_unknown_user_refused_at_rcpt(mx):
    code, enh, text = rcpt_reply(mx, "nobody@example.org")
    assert (code, enh) == (550, "5.1.1"), text
    assert "User unknown" in text


def test_local_part_case_sensitive(make_daemon):
    d = make_daemon(extra="local-part-case sensitive")
    d.start()
    d.add_user("alice@example.org")
    assert rcpt_reply(d, "ALICE@example.org")[:2] == (550, "5.1.1")
    send(d, ["alice@EXAMPLE.org"])
    wait_messages(d, "alice@example.org", 1)


def test_no_delivery_to_a_program(mx):
    for target in ["|/bin/sh -c id", "/etc/passwd", ":include:/x"]:
        r = mx.ctl("alias", "add", "x@example.org", target, check=False)
        assert r.returncode == 1 and "invalid address" in r.stderr, r


# --- quotas ---

def usage(d, addr):
    out = d.ctl("user", "show", addr).stdout
    return re.search(r"usage: (\S+)", out).group(1)


def test_user_set_and_show(mx):
    mx.ctl("user", "set", "alice@example.org", "quota", "10K")
    mx.ctl("user", "set", "alice@example.org", "format", "mbox")
    out = mx.ctl("user", "show", "Alice@example.org").stdout
    assert "address: alice@example.org\n" in out
    assert "quota: 10240\n" in out and "format: mbox\n" in out
    assert f"mailbox: {mx.mail}/example.org/alice/mbox\n" in out
    assert "usage: unknown\n" in out
    mx.ctl("user", "set", "alice@example.org", "quota", "none")
    assert "quota: none\n" in mx.ctl("user", "show",
                                     "alice@example.org").stdout
    for args, err in [(["quota", "lots"], "quota: expected"),
                      (["quota", "-1"], "quota: expected"),
                      (["format", "mh"], "format: expected"),
                      (["colour", "blue"], "usage: user set")]:
        r = mx.ctl("user", "set", "alice@example.org", *args, check=False)
        assert r.returncode == 1 and err in r.stderr, (args, r.stderr)
    r = mx.ctl("user", "set", "nobody@example.org", "quota", "1M",
               check=False)
    assert r.returncode == 1 and "no such user" in r.stderr


def test_quota_refused_at_rcpt_after_delivery_fills_it(mx):
    mx.ctl("user", "set", "alice@example.org", "quota", "10K")
    big = b"Subject: fill\r\n\r\n" + (b"y" * 78 + b"\r\n") * 120  # ~9.6 KB
    send(mx, ["alice@example.org"], content=big)
    wait_messages(mx, "alice@example.org", 1)
    assert wait_for(lambda: usage(mx, "alice@example.org") != "unknown")
    assert int(usage(mx, "alice@example.org")) > 9000
    # the next message would not fit: the mda defers it (4.2.2)...
    qid = send(mx, ["alice@example.org"], content=big)
    assert wait_for(lambda: "4.2.2 Mailbox full" in show(mx, qid)), \
        show(mx, qid)
    assert [e["state"] for e in mx.queue_list() if e["id"] == qid] == \
        ["deferred"]
    # RCPT still takes it: a smaller message might fit...
    assert rcpt_reply(mx, "alice@example.org")[0] == 250
    # ...but not once the mailbox is full by the size the mda reported
    mx.ctl("user", "set", "alice@example.org", "quota", "5K")
    code, enh, text = rcpt_reply(mx, "alice@example.org")
    assert (code, enh) == (452, "4.2.2"), text
    # others are not affected
    assert rcpt_reply(mx, "bob@example.org")[0] == 250
    # more room, a flush, and the deferred message is delivered
    mx.ctl("user", "set", "alice@example.org", "quota", "1M")
    assert "1 messages to try now" in mx.ctl("queue", "flush").stdout
    wait_messages(mx, "alice@example.org", 2)
    wait_queue_empty(mx)
    assert rcpt_reply(mx, "alice@example.org")[0] == 250


def test_quota_reject_mode(make_daemon):
    d = make_daemon(extra="quota-exceeded reject")
    d.start()
    d.add_user("alice@example.org")
    d.ctl("user", "set", "alice@example.org", "quota", "2K")
    big = b"Subject: too big\r\n\r\n" + (b"z" * 78 + b"\r\n") * 40
    # null sender: the failure owes no bounce, the message goes
    qid = send(d, ["alice@example.org"], content=big, sender="")
    wait_queue_empty(d)
    assert maildir_messages(d, "alice@example.org") == []
    log = d.read_log()
    assert re.search(r"id=" + qid + r" event=failed to=<alice@example.org> "
                     r"reason=\"5\.2\.2 Mailbox full\"", log), log
    # the mailbox is empty, so a small message still fits
    send(d, ["alice@example.org"], content=b"Subject: s\r\n\r\nsmall\r\n")
    wait_messages(d, "alice@example.org", 1)
    # lookup heard its size: with less room than that, RCPT refuses
    d.ctl("user", "set", "alice@example.org", "quota", "10")
    code, enh, text = rcpt_reply(d, "alice@example.org")
    assert (code, enh) == (552, "5.2.2"), text


# --- the queue's view ---

def test_hold_keeps_messages_and_flush_says_so(make_daemon):
    d = make_daemon(hold=True)
    d.start()
    d.add_user("alice@example.org")
    qid = send(d, ["alice@example.org"])
    time.sleep(0.5)
    assert maildir_messages(d, "alice@example.org") == []
    [e] = d.queue_list()
    assert (e["id"], e["state"]) == (qid, "held")
    r = d.ctl("queue", "flush", check=False)
    assert r.returncode == 1 and "held" in r.stderr
    # without the hold, the restarted daemon delivers what was held
    d.stop()
    with open(d.conf) as f:
        text = f.read()
    with open(d.conf, "w") as f:
        f.write(text.replace("delivery-hold yes\n", ""))
    d.start()
    wait_messages(d, "alice@example.org", 1)
    wait_queue_empty(d)


def send_burst(d, n, conns, rcpts_of, content_of):
    """Messages 0..n-1 over conns parallel smtplib sessions, message i
    to rcpts_of(i) with content_of(i); every one must be accepted."""
    import threading
    errors = []

    def worker(k):
        try:
            s = smtplib.SMTP(HOST, d.ports["smtp"], timeout=30)
            for i in range(k, n, conns):
                s.sendmail(SENDER, rcpts_of(i), content_of(i))
            s.quit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
    threads = [threading.Thread(target=worker, args=(k,))
               for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_deliveries_per_second(mx):
    """A burst over a few connections: every message delivered; prints
    the rate seen (sanitizer build, so slower than a release build)."""
    n = 200
    t0 = time.time()
    send_burst(mx, n, 4, lambda i: ["bob@example.org"],
               lambda i: b"Subject: burst %d\r\n\r\n" % i
               + (b"x" * 98 + b"\r\n") * 50)
    assert wait_for(lambda: maildir_count(mx, "bob@example.org") >= n, 60), \
        mx.log_tail()
    dt = time.time() - t0
    assert len(maildir_messages(mx, "bob@example.org")) == n
    wait_queue_empty(mx)
    print(f"\n{n} messages of 5 KB accepted and delivered in {dt:.2f} s: "
          f"{n / dt:.0f}/s")


@pytest.mark.parametrize("workers", [1, 16])
def test_delivery_workers_burst_to_many_mailboxes(make_daemon, workers):
    """delivery-workers: with one thread or many, a burst over parallel
    connections to several Maildirs (some messages to two of them) puts
    every message exactly once in each of its mailboxes, each in a file
    of its own, and the queue ends empty."""
    d = make_daemon(extra=f"delivery-workers {workers}")
    d.start()
    users = [f"u{i}@example.org" for i in range(6)]
    for u in users:
        d.add_user(u)
    assert wait_for(lambda: re.search(rf"mda: ready .* workers={workers}\b",
                                      d.read_log()), 10), d.log_tail()
    n = 120
    want = {u: set() for u in users}
    for i in range(n):
        want[users[i % 6]].add(i)
        if i % 5 == 0:
            want[users[(i + 1) % 6]].add(i)
    send_burst(d, n, 4, lambda i: [u for u in users if i in want[u]],
               lambda i: b"Subject: burst %d\r\n\r\n" % i
               + (b"y" * 70 + b"\r\n") * (20 + i))
    wait_queue_empty(d, 60)
    for u in users:
        msgs = wait_messages(d, u, len(want[u]))
        got = sorted(int(re.search(rb"Subject: burst (\d+)\n", m).group(1))
                     for m in msgs)
        assert got == sorted(want[u]), u
        for m in msgs:
            i = int(re.search(rb"Subject: burst (\d+)\n", m).group(1))
            assert m.endswith(b"\n\n" + (b"y" * 70 + b"\n") * (20 + i))
        names = os.listdir(os.path.join(maildir_path(d, u), "new"))
        assert len(names) == len(set(names)) == len(want[u])
        assert os.listdir(os.path.join(maildir_path(d, u), "tmp")) == []
