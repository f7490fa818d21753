"""Crash safety: several clients send in a loop, every cachet process is
killed with SIGKILL at a random moment, the daemon restarts, and every
message that got 250 must be in the queue or delivered to bob's Maildir,
byte-identical; anything else there must be a whole message that was
being sent (its 250 was lost in the crash), never a half-written one."""

import os
import random
import re
import signal
import smtplib
import threading
import time

from conftest import pid_alive, strip_auth_fields

QUEUED = re.compile(rb"queued as ([0-9a-f]{16})")


def strip_received(raw):
    """Drop our Received: header (the first field, with its folded
    continuation lines), and the sender authentication fields above it."""
    raw = strip_auth_fields(raw)
    assert raw.startswith(b"Received:"), raw[:80]
    i = raw.index(b"\r\n") + 2
    while raw[i:i + 1] in (b" ", b"\t"):
        i = raw.index(b"\r\n", i) + 2
    return raw[i:]


class Gone(Exception):
    """The message left the queue between the listing and the cat."""


def queue_cat(daemon, qid):
    r = daemon.ctl_raw("queue", "cat", qid, timeout=30)
    if r.returncode == 1 and b"no such message" in r.stderr:
        raise Gone(qid)
    assert r.returncode == 0, r.stderr
    return r.stdout


def stored(daemon):
    """{queue id: [the client's bytes, ...]} of every message stored:
    queued (queue cat) or delivered (its Maildir copies, LF turned back
    into CRLF).  A message delivered twice (the at-least-once window)
    has two copies."""
    out = {}
    for qid in daemon.queue_ids():
        try:
            raw = queue_cat(daemon, qid)
        except Gone:
            continue    # delivered and removed since: read below
        out.setdefault(qid, []).append(strip_received(raw))
    for qid, path, data in daemon.delivered():
        assert qid is not None, f"a file without our Received: {path}"
        start = data.index(b"Received: from ")
        out.setdefault(qid, []).append(
            strip_received(data[start:].replace(b"\n", b"\r\n")))
    return out


def sender(port, tag, acked, attempted, stop):
    n = 0
    while not stop.is_set():
        n += 1
        body = (f"From: crash@example.org\r\nTo: bob@example.org\r\n"
                f"Subject: {tag}-{n}\r\n\r\n"
                + "".join(f"line {i} of message {tag}-{n}\r\n"
                          for i in range(random.randint(1, 400)))
                ).encode()
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=10)
            s.ehlo("crash.example.org")
            s.mail("crash@example.org")
            s.rcpt("bob@example.org")
            attempted.append(body)
            code, msg = s.data(body)
            if code == 250:
                m = QUEUED.search(msg)
                assert m, msg
                acked[m.group(1).decode()] = body
            s.quit()
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)


def test_kill9_loses_no_acknowledged_message(make_daemon):
    d = make_daemon()
    d.start()
    d.ctl("user", "add", "bob@example.org", input="pw\n")
    acked_total, attempted_total = {}, set()
    for rnd in range(3):
        acked, attempted = {}, []
        stop = threading.Event()
        threads = [threading.Thread(
            target=sender,
            args=(d.ports["smtp"], f"r{rnd}t{t}", acked, attempted, stop))
            for t in range(4)]
        for t in threads:
            t.start()
        time.sleep(random.uniform(1.0, 3.0))
        pids = [d.proc.pid] + list(d.role_pids().values())
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        d.proc.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        deadline = time.time() + 10
        while any(pid_alive(p) for p in pids) and time.time() < deadline:
            time.sleep(0.05)
        assert not any(pid_alive(p) for p in pids)
        assert acked, "no message was acknowledged before the kill"
        acked_total.update(acked)
        attempted_total.update(attempted)

        d.logf.close()
        d.start()
        have = stored(d)
        ids = set(have)
        # every acknowledged message, from every round, is there
        lost = [qid for qid in acked_total if qid not in ids]
        assert not lost, f"acknowledged messages lost: {lost[:5]}"
        # intact: all of this round's, every copy
        for qid in acked:
            for copy in have[qid]:
                assert copy == acked[qid], qid
        # and whatever else is there is a whole message that was sent
        for qid in ids - set(acked_total):
            for copy in have[qid]:
                assert copy in attempted_total, qid
        # nothing half-written waits in the spool
        incoming = os.path.join(d.state, "queue", "incoming")
        assert os.listdir(incoming) == []
