"""The queue role, black-box: messages sent with smtplib land in the
spool, `cachetctl queue` lists, shows, cats and deletes them, and the
queue is rebuilt from disk after a restart of the daemon or a kill -9 of
the role.  The contract is src/queue/queue.c's header, docs/spool.md and
docs/cachetctl.md.  Each test starts its own daemon.

Messages must stay queued for these tests, so the daemon runs with
`delivery-hold yes` (docs/cachet.conf.md); delivery itself is tested in
test_delivery*.py."""

import os
import re
import signal
import smtplib
import threading

import pytest

from conftest import (wait_for, RawSMTP, dot_stuff, pid_alive,
                      server_pid, split_auth_fields)

HOST = "127.0.0.1"
SENDER = "sender@example.net"
CONTENT = (b"From: Sender <sender@example.net>\r\n"
           b"To: Alice <alice@example.org>\r\n"
           b"Subject: queue test\r\n"
           b"Message-ID: <q.1@example.net>\r\n"
           b"\r\n"
           b"Body line one\r\n"
           b"\r\n"
           b"Subject: not a header\r\n")
AGE_RE = re.compile(r"^\d+[smhd]$")



@pytest.fixture
def q(make_daemon):
    daemon = make_daemon(hold=True)
    daemon.start()
    daemon.ctl("user", "add", "alice@example.org", input="pw\n")
    daemon.ctl("user", "add", "bob@example.org", input="pw\n")
    return daemon


def send(d, content=CONTENT, sender=SENDER, rcpts=("alice@example.org",)):
    """One message over smtplib; returns its queue id."""
    s = smtplib.SMTP(HOST, d.ports["smtp"],
                     local_hostname="client.example.net", timeout=15)
    try:
        s.ehlo()
        code, resp = s.mail(sender)
        assert code == 250, resp
        for r in rcpts:
            code, resp = s.rcpt(r)
            assert code == 250, resp
        code, resp = s.data(content)
        assert code == 250, resp
        m = re.match(rb"2\.0\.0 Ok: queued as ([0-9a-f]{16})$", resp)
        assert m, resp
        s.quit()
    finally:
        s.close()
    return m.group(1).decode()


def cat(d, qid):
    r = d.ctl_raw("queue", "cat", qid)
    assert r.returncode == 0, r.stderr
    return r.stdout


def spool(d, sub):
    return sorted(os.listdir(os.path.join(d.state, "queue", sub)))


def listing(d):
    return {m["id"]: m for m in d.queue_list()}


# --- cachetctl queue ---

def test_empty_queue_lists_only_the_header(q):
    r = q.ctl("queue")
    assert r.stdout == ("ID               AGE     SIZE SENDER RECIPIENTS "
                        "STATE\n")
    assert "event=scan messages=0" in q.read_log()


def test_queued_message_listed(q):
    qid = send(q, rcpts=["alice@example.org", "bob@example.org"])
    stored = cat(q, qid)
    e = listing(q)[qid]
    f = e["line"].split()
    assert len(f) == 6, e
    assert f[0] == qid
    assert AGE_RE.match(f[1]), e
    assert int(f[2]) == len(stored)
    assert f[3] == SENDER
    assert f[4] == "alice@example.org,bob@example.org"
    assert f[5] == "held"
    assert (f"id={qid} event=queued from=<{SENDER}> size={len(stored)} "
            f"nrcpt=2") in q.read_log()


def test_null_sender_listed_as_brackets(q):
    qid = send(q, sender="")
    assert listing(q)[qid]["line"].split()[3] == "<>"


def test_listing_sorted_by_id(q):
    ids = [send(q, content=b"Subject: %d\r\n\r\nx\r\n" % i)
           for i in range(5)]
    assert q.queue_ids() == sorted(ids)
    assert ids == sorted(ids)


# --- queue cat ---

def test_cat_is_received_header_then_the_sent_bytes(q):
    qid = send(q)
    raw = cat(q, qid)
    received, rest = q.split_received(raw)
    assert rest == CONTENT
    assert qid in received.decode()
    # and the spool file begins with exactly those bytes, but for the
    # fields sender authentication put on top (they are in the envelope)
    top, raw = split_auth_fields(raw)
    assert top.startswith(b"Authentication-Results: ")
    with open(os.path.join(q.state, "queue", "queue", qid), "rb") as f:
        assert f.read(len(raw)) == raw


def test_cat_large_message_streamed_byte_identical(q):
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    content = b"Subject: big\r\n\r\n" + line * (3 * 1024 * 1024 // len(line))
    with RawSMTP(q.ports["smtp"]) as c:
        c.greet()
        c.ehlo()
        c.expect(f"MAIL FROM:<{SENDER}>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(content))
        r = c.read_reply()
        assert r.code == 250, r
        qid = r.lines[-1].split()[-1]
    _, rest = q.split_received(cat(q, qid))
    assert rest == content


# --- queue show ---

def test_show_envelope_then_headers(q):
    qid = send(q, rcpts=["alice@example.org", "bob@example.org"])
    r = q.ctl("queue", "show", qid)
    env, _, headers = r.stdout.partition("\n\n")
    lines = env.splitlines()
    assert f"id: {qid}" in lines
    assert f"sender: <{SENDER}>" in lines
    assert "client: 127.0.0.1" in lines
    assert "recipients: 2" in lines
    assert "recipient: <alice@example.org>" in lines
    assert "recipient: <bob@example.org>" in lines
    assert lines.count("  state: pending") == 2
    assert lines.count("  attempts: 0") == 2
    assert lines.count("  next try: now") == 2
    assert any(x.startswith("created: ") for x in lines)
    assert f"size: {len(cat(q, qid))}" in lines
    h = headers.splitlines()
    assert h[0].startswith("Received: from ")
    assert "Subject: queue test" in h
    assert "Message-ID: <q.1@example.net>" in h
    # the header section only: the body is not shown
    assert "Body line one" not in headers
    assert "Subject: not a header" not in headers


# --- queue delete ---

def test_delete_removes_message_and_file(q):
    keep = send(q)
    qid = send(q)
    assert qid in spool(q, "queue")
    q.ctl("queue", "delete", qid)
    assert q.queue_ids() == [keep]
    assert qid not in spool(q, "queue")
    assert f"id={qid} event=deleted" in q.read_log()
    r = q.ctl("queue", "delete", qid, check=False)
    assert r.returncode == 1 and "no such message" in r.stderr


# --- errors ---

@pytest.mark.parametrize("verb", ["show", "cat", "delete"])
def test_unknown_id(q, verb):
    for qid in ["0123456789abcdef", "nonsense", "../../etc/passwd"]:
        r = q.ctl("queue", verb, qid, check=False)
        assert r.returncode == 1, (qid, r)
        assert "no such message" in r.stderr


@pytest.mark.parametrize("args", [["frob"], ["show"], ["cat"],
                                  ["delete", "a", "b"], ["show", "x", "y"]])
def test_bad_usage(q, args):
    r = q.ctl("queue", *args, check=False)
    assert r.returncode == 2, r
    assert "usage" in r.stderr


# --- durability: rebuilt from disk ---

def test_restart_rebuilds_queue(q):
    a = send(q, sender="")
    b = send(q, rcpts=["alice@example.org", "bob@example.org"])
    before = listing(q)
    raw = {x: cat(q, x) for x in (a, b)}
    q.stop()
    q.start()
    after = listing(q)
    assert sorted(after) == sorted(before)
    for x in (a, b):
        f0, f1 = before[x]["line"].split(), after[x]["line"].split()
        assert f0[0] == f1[0] and f0[2:] == f1[2:]
        assert cat(q, x) == raw[x]
    assert "event=scan messages=2" in q.read_log()


def test_killed_queue_role_rebuilds_queue(q):
    qid = send(q)
    raw = cat(q, qid)
    victim = q.status()["queue"]["pid"]
    os.kill(victim, signal.SIGKILL)

    def back():
        st = q.status()["queue"]
        return st["pid"] != victim and st["state"] == "alive"
    assert wait_for(back, timeout=20), q.log_tail()
    assert q.queue_ids() == [qid]
    assert cat(q, qid) == raw
    # and it takes new mail again
    qid2 = send(q)
    assert q.queue_ids() == sorted([qid, qid2])


def test_incoming_left_by_a_crash_is_removed_at_start(q):
    qid = send(q)
    q.stop()
    stale = "0000000000000001"
    with open(os.path.join(q.state, "queue", "incoming", stale), "wb") as f:
        f.write(b"Subject: half\r\n")
    q.start()
    assert spool(q, "incoming") == []
    assert q.queue_ids() == [qid]


def test_damaged_file_moved_aside_at_start(q):
    qid = send(q)
    q.stop()
    bad = "0000000000000002"
    with open(os.path.join(q.state, "queue", "queue", bad), "wb") as f:
        f.write(b"not a spool file at all" * 4)
    q.start()
    assert q.queue_ids() == [qid]
    assert bad in spool(q, "corrupt")
    assert "event=scan messages=1" in q.read_log()


# --- files in flight ---

def test_abandoned_data_leaves_no_file(q):
    with RawSMTP(q.ports["smtp"]) as c:
        c.greet()
        c.ehlo()
        c.expect(f"MAIL FROM:<{SENDER}>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: cut\r\n\r\nhalf a message")
        assert wait_for(lambda: spool(q, "incoming") != [], timeout=5)
    assert wait_for(lambda: spool(q, "incoming") == [], timeout=10)
    assert q.queue_ids() == []


def test_killed_smtp_role_aborts_its_files(q):
    c = RawSMTP(q.ports["smtp"])
    try:
        c.greet()
        c.ehlo()
        c.expect(f"MAIL FROM:<{SENDER}>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: cut\r\n\r\nhalf a message")
        assert wait_for(lambda: spool(q, "incoming") != [], timeout=5)
        # the worker that holds the connection
        pid = server_pid(c.sock, q.worker_pids("smtp"))
        worker = next(k for k, v in q.status().items() if v["pid"] == pid)
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: not pid_alive(pid), timeout=5)
        assert wait_for(lambda: spool(q, "incoming") == [], timeout=10), \
            q.log_tail()
    finally:
        c.close()
    assert f"{worker} went away, 1 files aborted" in q.read_log()
    assert q.queue_ids() == []


def test_concurrent_commits_all_queued(q):
    n = 40
    ids, errors = [], []
    # Under the default max-connections-per-ip of 20.
    slots = threading.Semaphore(16)

    def one(i):
        try:
            with slots:
                ids.append(send(q, content=b"Subject: c%d\r\n\r\nx\r\n"
                                % i))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(q.queue_ids()) == sorted(ids) and len(ids) == n
    batches = [int(x) for x in
               re.findall(r"batch commits=(\d+)", q.read_log())]
    assert sum(batches) == n
    print(f"{n} commits in {len(batches)} batches, largest "
          f"{max(batches)}")
