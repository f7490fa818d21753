"""Local delivery under stress: other programs writing into the same
mailboxes at the same time, and kill -9 of the mda or of the whole
daemon in the middle of a burst.  After a restart every acknowledged
message is delivered, every file in new/ is a whole message, and a
message is delivered twice only in the at-least-once window that
docs/architecture.md describes (a delivery done but not yet recorded
when the kill came: at most the deliveries in flight per kill)."""

import fcntl
import mailbox
import os
import random
import re
import signal
import smtplib
import threading
import time

from conftest import wait_for, Daemon, pid_alive

QUEUED = re.compile(rb"queued as ([0-9a-f]{16})")
DELIVER_MAX = 16        # QUEUE_DELIVER_MAX in src/queue/queue.c



def body_of(tag, n, lines):
    return (f"From: burst@example.net\r\nTo: bob@example.org\r\n"
            f"Subject: {tag}-{n}\r\n\r\n"
            + "".join(f"line {i} of message {tag}-{n}\r\n"
                      for i in range(lines))).encode()


def sender(port, tag, acked, attempted, stop, rcpt="bob@example.org"):
    """Send in a loop until stop; record what got 250 (by queue id)
    and everything that was sent."""
    n = 0
    while not stop.is_set():
        n += 1
        body = body_of(tag, n, random.randint(1, 300))
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=10)
            s.ehlo("burst.example.net")
            s.mail("burst@example.net")
            s.rcpt(rcpt)
            attempted.add(body)
            code, msg = s.data(body)
            if code == 250:
                acked[QUEUED.search(msg).group(1).decode()] = body
            s.quit()
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)


def start_senders(d, tag, nthreads=4):
    acked, attempted, stop = {}, set(), threading.Event()
    threads = [threading.Thread(target=sender, args=(
        d.ports["smtp"], f"{tag}t{t}", acked, attempted, stop))
        for t in range(nthreads)]
    for t in threads:
        t.start()
    return acked, attempted, stop, threads


def stop_senders(stop, threads):
    stop.set()
    for t in threads:
        t.join(timeout=30)


def delivered_copies(d):
    """{queue id: [the client's bytes, ...]} from every file in new/ and
    cur/ of bob's Maildir; a file that is not a whole message of ours
    fails the test."""
    out = {}
    for qid, path, data in d.delivered():
        assert qid is not None, f"not one of ours: {path}: {data[:200]!r}"
        head = data.split(b"\n", 2)
        assert head[0].startswith(b"Return-Path: <"), path
        assert head[1] == b"Delivered-To: bob@example.org", path
        rest = data[data.index(b"Received: from "):]
        i = rest.index(b"\n") + 1
        while rest[i:i + 1] in (b" ", b"\t"):
            i = rest.index(b"\n", i) + 1
        out.setdefault(qid, []).append(rest[i:].replace(b"\n", b"\r\n"))
    return out


def wait_all_delivered(d, timeout=90):
    ok = wait_for(lambda: d.queue_ids() == [], timeout)
    assert ok, d.ctl("queue").stdout + d.log_tail(60)


def check_delivered(d, acked, attempted, kills):
    copies = delivered_copies(d)
    lost = [q for q in acked if q not in copies]
    assert not lost, f"acknowledged but not delivered: {lost[:5]}"
    dups = 0
    for qid, bodies in copies.items():
        for b in bodies:
            if qid in acked:
                assert b == acked[qid], qid
            else:
                # its 250 was lost in the crash: still a whole message
                assert b in attempted, qid
        dups += len(bodies) - 1
    assert dups <= kills * DELIVER_MAX, dups
    return copies, dups


# --- other writers in the same mailbox ---

def test_external_maildir_writer_not_disturbed(mx):
    """A program delivering into bob's Maildir by the Maildir rules
    (tmp/, then rename into new/) while cachet delivers a burst."""
    path = os.path.join(mx.mail, "example.org", "bob")
    s = smtplib.SMTP("127.0.0.1", mx.ports["smtp"], timeout=10)
    s.sendmail("first@example.net", ["bob@example.org"],
               b"Subject: first\r\n\r\ncreates the Maildir\r\n")
    s.quit()
    assert wait_for(lambda: os.path.isdir(os.path.join(path, "new")))
    ours = {}
    stop = threading.Event()

    def external():
        n = 0
        host = "external.example"
        while not stop.is_set() or n < 50:
            n += 1
            name = f"{int(time.time())}.M{n}P{os.getpid()}.{host}"
            data = (f"Subject: external {n}\n\n" + f"body {n}\n" * n
                    ).encode()
            tmp = os.path.join(path, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, os.path.join(path, "new", name))
            ours[name] = data
    t = threading.Thread(target=external)
    t.start()
    acked, attempted, sstop, threads = start_senders(mx, "md", 3)
    time.sleep(2)
    stop_senders(sstop, threads)
    stop.set()
    t.join()
    wait_all_delivered(mx)
    md = mailbox.Maildir(path, factory=None, create=False)
    keys = set(md.keys())
    # every external file is there, untouched
    for name, data in ours.items():
        assert name in keys, name
        assert md.get_bytes(name) == data
    # and every cachet message too, none twice
    copies = delivered_copies_excluding(mx, set(ours))
    assert sorted(copies) == sorted(list(acked) + [first_id(mx)]), \
        (len(copies), len(acked))
    for qid, bodies in copies.items():
        assert len(bodies) == 1
        if qid in acked:
            assert bodies[0] == acked[qid]
    assert len(keys) == len(ours) + len(acked) + 1
    print(f"\n{len(acked)} cachet deliveries beside {len(ours)} external "
          f"ones")


def first_id(d):
    m = re.search(r"id=([0-9a-f]{16}) event=queued from=<first@",
                  d.read_log())
    return m.group(1)


def delivered_copies_excluding(d, names):
    out = {}
    for qid, path, data in d.delivered():
        if os.path.basename(path) in names:
            continue
        assert qid is not None, path
        rest = data[data.index(b"Received: from "):]
        i = rest.index(b"\n") + 1
        while rest[i:i + 1] in (b" ", b"\t"):
            i = rest.index(b"\n", i) + 1
        out.setdefault(qid, []).append(rest[i:].replace(b"\n", b"\r\n"))
    return out


def test_parallel_mbox_writers_never_interleave(mx):
    """A procmail-like program appends to bob's mbox (fcntl lock, then
    the dotlock, as mutt and procmail do) while cachet delivers there: no
    message is cut by another."""
    mx.ctl("user", "set", "bob@example.org", "format", "mbox")
    box = os.path.join(mx.mail, "example.org", "bob", "mbox")
    # The first delivery makes the mbox, owned by the mailboxes' user.
    s = smtplib.SMTP("127.0.0.1", mx.ports["smtp"], timeout=10)
    s.sendmail("first@example.net", ["bob@example.org"],
               b"Subject: first\r\n\r\ncreates the mbox\r\n")
    s.quit()
    assert wait_for(lambda: os.path.exists(box))
    wait_all_delivered(mx)
    stop = threading.Event()
    external = []

    def writer():
        n = 0
        while not stop.is_set() or n < 30:
            n += 1
            msg = (f"From ext@example.net Mon Jan  1 00:00:00 2024\n"
                   f"Subject: external {n}\n\n"
                   + "".join(f"external {n} line {i}\n"
                             for i in range(random.randint(1, 2000)))
                   + "\n").encode()
            fd = os.open(box, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX)
                while True:
                    try:
                        lk = os.open(box + ".lock",
                                     os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                                     0o600)
                        os.close(lk)
                        break
                    except FileExistsError:
                        time.sleep(0.01)
                # written in pieces, to give an unlocked writer its chance
                for i in range(0, len(msg), 4096):
                    os.write(fd, msg[i:i + 4096])
                os.fsync(fd)
                os.unlink(box + ".lock")
            finally:
                os.close(fd)
            external.append(n)
    t = threading.Thread(target=writer)
    t.start()
    acked, attempted, sstop, threads = start_senders(mx, "mb", 3)
    time.sleep(2)
    stop_senders(sstop, threads)
    stop.set()
    t.join()
    wait_all_delivered(mx)
    mb = mailbox.mbox(box, create=False)
    seen_ext, seen_ours = [], {}
    for key in mb.keys():
        raw = mb.get_bytes(key)
        subj = re.search(rb"(?m)^Subject: (.*)$", raw).group(1).decode()
        if subj == "first":
            continue
        if subj.startswith("external "):
            n = int(subj.split()[1])
            body = raw.split(b"\n\n", 1)[1]
            lines = body.rstrip(b"\n").split(b"\n")
            assert all(line == f"external {n} line {i}".encode()
                       for i, line in enumerate(lines)), subj
            seen_ext.append(n)
        else:
            qid = Daemon._received_id(raw)
            assert qid in acked, subj
            text = raw[raw.index(b"Received: from "):]
            i = text.index(b"\n") + 1
            while text[i:i + 1] in (b" ", b"\t"):
                i = text.index(b"\n", i) + 1
            assert text[i:].replace(b"\n", b"\r\n") == acked[qid], subj
            seen_ours[qid] = seen_ours.get(qid, 0) + 1
    assert sorted(seen_ext) == sorted(external)
    assert sorted(seen_ours) == sorted(acked)
    assert all(v == 1 for v in seen_ours.values())
    assert not os.path.exists(box + ".lock")
    print(f"\n{len(acked)} cachet deliveries beside {len(external)} "
          f"external appends")


# --- kill -9 ---

def test_kill9_mda_in_a_burst(mx):
    acked, attempted, stop, threads = start_senders(mx, "km")
    kills = 0
    for _ in range(3):
        time.sleep(random.uniform(0.5, 1.5))
        pid = mx.status()["mda"]["pid"]
        os.kill(pid, signal.SIGKILL)
        kills += 1
        assert wait_for(lambda: mx.status()["mda"]["pid"] != pid and
                        mx.status()["mda"]["state"] == "alive", 30)
    time.sleep(0.5)
    stop_senders(stop, threads)
    assert acked
    wait_all_delivered(mx)
    copies, dups = check_delivered(mx, acked, attempted, kills)
    print(f"\n{len(acked)} acknowledged, {len(copies)} delivered, "
          f"{dups} twice, {kills} kills of the mda")


def test_kill9_daemon_in_a_burst(make_daemon):
    d = make_daemon()
    d.start()
    d.add_user("bob@example.org")
    acked_all, attempted_all, kills = {}, set(), 0
    for rnd in range(2):
        acked, attempted, stop, threads = start_senders(d, f"kd{rnd}")
        time.sleep(random.uniform(1.0, 2.5))
        pids = [d.proc.pid] + list(d.role_pids().values())
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        kills += 1
        d.proc.wait(timeout=10)
        stop_senders(stop, threads)
        assert wait_for(lambda: not any(pid_alive(p) for p in pids), 10)
        assert acked
        acked_all.update(acked)
        attempted_all.update(attempted)
        d.logf.close()
        d.start()
        wait_all_delivered(d)
        copies, dups = check_delivered(d, acked_all, attempted_all, kills)
        assert os.listdir(os.path.join(d.state, "queue", "incoming")) == []
        print(f"\nround {rnd}: {len(acked_all)} acknowledged, "
              f"{len(copies)} delivered, {dups} twice")
