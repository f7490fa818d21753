"""Worker processes (smtp-workers, pop3-workers, imap-workers): several
processes of one role share its listeners, each wired to lookup and the
queue of its own; the connection limits hold for the role as a whole; a
worker killed comes back without leaking its counts; reload changes the
number of workers; `cachetctl status` lists each one.  Which process
serves a connection is read from /proc (conftest.server_pid)."""

import os
import poplib
import re
import signal
import socket
import threading
import time

from conftest import (USERS, RawSMTP, on_every_worker, pid_alive, role_of,
                      server_pid, wait_for)

HOST = "127.0.0.1"
REFUSED_TOTAL = "Too many connections, try again later"
REFUSED_PER_IP = "Too many connections from your address"


def started(make_daemon, extra):
    d = make_daemon(extra=extra)
    d.start()
    return d


def greeted(port, source=None):
    """A RawSMTP after its 220, optionally from another loopback
    address."""
    if source is None:
        c = RawSMTP(port)
    else:
        c = RawSMTP.__new__(RawSMTP)
        c.sock = socket.create_connection((HOST, port), timeout=10,
                                          source_address=(source, 0))
        c.buf = b""
    c.greet()
    return c


def smtp_connect(d):
    def connect():
        c = greeted(d.ports["smtp"])
        return c.sock, c
    return connect


def refused(port, text):
    """The server answers 421 4.7.0 with text and closes."""
    with RawSMTP(port) as c:
        r = c.read_reply()
        assert (r.code, r.enh) == (421, "4.7.0"), r
        assert text in r.text, r
        assert c.eof()


def close_all(conns):
    for c in conns:
        c.close()


def test_status_lists_each_worker(make_daemon):
    d = started(make_daemon, "smtp-workers 3\npop3-workers 2\n"
                "imap-workers 1")
    out = d.ctl("status").stdout
    st = d.parse_status(out)
    assert sorted(k for k in st if role_of(k) == "smtp") == \
        ["smtp/0", "smtp/1", "smtp/2"]
    assert sorted(k for k in st if role_of(k) == "pop3") == \
        ["pop3/0", "pop3/1"]
    assert sorted(k for k in st if role_of(k) == "imap") == ["imap/0"]
    # the one-process roles keep their plain names
    for role in ("lookup", "queue", "mda", "mta"):
        assert role in st
    pids = [v["pid"] for v in st.values()]
    assert len(set(pids)) == len(pids)
    for name, v in st.items():
        assert v["state"] == "alive", name
        with open(f"/proc/{v['pid']}/stat") as f:
            assert int(f.read().split(")")[-1].split()[1]) == d.proc.pid


def test_connections_are_served_by_every_worker(make_daemon):
    d = started(make_daemon, "smtp-workers 3")
    pids = d.worker_pids("smtp")
    # Left alone, the workers share the connections: whichever is free
    # to accept first takes the next one.
    conns = [greeted(d.ports["smtp"]) for _ in range(20)]
    try:
        served = {server_pid(c.sock, pids) for c in conns}
        assert None not in served and len(served) > 1, served
    finally:
        close_all(conns)
    # Each of them is a whole SMTP server.
    held, served = on_every_worker(d, "smtp", smtp_connect(d))
    try:
        assert served == pids
        for c in held:
            c.ehlo()
            c.expect("NOOP", 250)
    finally:
        close_all(held)


def test_pop3_sessions_spread_evenly(make_daemon):
    """POP3 sessions last a whole download: each lands on the worker that
    holds the fewest (a busier one leaves the connection to it), whether
    they come one after another or all at once (as a client with ten
    mailboxes to fetch opens them)."""
    d = started(make_daemon, "pop3-workers 2")
    pids = d.worker_pids("pop3")
    conns = []
    try:
        for _ in range(6):
            s = socket.create_connection((HOST, d.ports["pop3"]),
                                         timeout=10)
            conns.append(s)
            assert s.recv(512).startswith(b"+OK")
        served = [server_pid(s, pids) for s in conns]
        counts = sorted(served.count(p) for p in pids)
        assert counts[0] >= 2, served
    finally:
        for s in conns:
            s.close()
    # all six gone on the server's side too: each worker back to none
    assert wait_for(lambda: d.read_log().count("event=disconnect") >= 6,
                    10), d.log_tail()
    socks = [socket.create_connection((HOST, d.ports["pop3"]), timeout=10)
             for _ in range(8)]
    try:
        for s in socks:
            assert s.recv(512).startswith(b"+OK")
        served = [server_pid(s, pids) for s in socks]
        counts = sorted(served.count(p) for p in pids)
        assert counts[0] >= 3, served
    finally:
        for s in socks:
            s.close()


def test_pop3_workers_answer_logins(make_daemon):
    """The pop3 greeting's APOP timestamp names its process (RFC 1939 §7):
    it is the worker that holds the connection, and each worker logs a
    user in through its own channel to lookup."""
    d = started(make_daemon, "pop3-workers 2\n"
                "smtp-plaintext-auth-loopback yes")
    d.add_user("alice@example.org", USERS["alice@example.org"])

    def connect():
        p = poplib.POP3(HOST, d.ports["pop3"], timeout=10)
        return p.sock, p
    held, served = on_every_worker(d, "pop3", connect)
    try:
        for p, pid in zip(held, served):
            m = re.search(rb"<(\d+)\.", p.getwelcome())
            assert m and int(m.group(1)) == pid, p.getwelcome()
        # one login at a time: the maildrop lock is per user
        for p in held:
            p.user("alice@example.org")
            p.pass_(USERS["alice@example.org"])
            assert p.stat() == (0, 0)
            p.quit()
    finally:
        for p in held:
            p.close()


def test_max_connections_holds_across_workers(make_daemon):
    d = started(make_daemon, "smtp-workers 2\npop3-workers 2\n"
                "max-connections 4")
    port = d.ports["smtp"]
    # both hold some: a limit per process would let a fifth in
    conns, _ = on_every_worker(d, "smtp", smtp_connect(d))
    conns += [greeted(port) for _ in range(2)]
    try:
        refused(port, REFUSED_TOTAL)
        refused(d.ports["submission"], REFUSED_TOTAL)
        # pop3 counts its own connections
        p = poplib.POP3(HOST, d.ports["pop3"], timeout=10)
        p.quit()
        # one goes, one more may come
        conns.pop().close()
        assert wait_for(lambda: _greets(port), 5)
    finally:
        close_all(conns)


def _greets(port):
    with RawSMTP(port) as c:
        return c.read_reply().code == 220


def test_max_connections_pop3_across_workers(make_daemon):
    d = started(make_daemon, "pop3-workers 2\nmax-connections 2")

    def connect():
        p = poplib.POP3(HOST, d.ports["pop3"], timeout=10)
        return p.sock, p
    conns, _ = on_every_worker(d, "pop3", connect)
    try:
        s = socket.create_connection((HOST, d.ports["pop3"]), timeout=10)
        with s:
            line = s.makefile("rb").readline()
        assert line.startswith(b"-ERR [SYS/TEMP] Too many connections"), \
            line
    finally:
        for p in conns:
            p.close()


def test_per_ip_limit_holds_across_workers(make_daemon):
    d = started(make_daemon, "smtp-workers 2\nmax-connections-per-ip 3")
    port = d.ports["smtp"]
    conns, _ = on_every_worker(d, "smtp", smtp_connect(d))
    conns.append(greeted(port))
    try:
        refused(port, REFUSED_PER_IP)
        # another address has its own count
        other = greeted(port, source="127.0.0.2")
        conns.append(other)
        other.expect("NOOP", 250)
    finally:
        close_all(conns)


def test_killed_worker_returns_and_its_places_with_it(make_daemon):
    """kill -9 of one worker: its clients are cut off, the other worker
    goes on serving, the parent restarts it, and the connections it held
    no longer count: as many as the limit are accepted again."""
    d = started(make_daemon, "smtp-workers 2\nmax-connections 4")
    port = d.ports["smtp"]
    before = d.status()
    pids = d.worker_pids("smtp")
    conns, served = on_every_worker(d, "smtp", smtp_connect(d))
    conns += [greeted(port) for _ in range(2)]
    try:
        served += [server_pid(c.sock, pids) for c in conns[2:]]
        victim = served[0]
        name = next(k for k, v in before.items() if v["pid"] == victim)
        os.kill(victim, signal.SIGKILL)
        for c, pid in zip(conns, served):
            if pid == victim:
                assert c.eof()
            else:
                c.expect("NOOP", 250)
        # Its places are free at once: the survivor takes new ones.
        assert wait_for(lambda: _greets(port), 10), d.log_tail()

        def back():
            st = d.status()
            return (st[name]["pid"] not in (victim, 0) and
                    st[name]["state"] == "alive" and
                    st[name]["restarts"] == 1)
        assert wait_for(back, 20), d.ctl("status").stdout
        assert f"role died role={name} pid={victim}" in d.read_log()
        # the other worker was not restarted
        for k, v in d.status().items():
            if k != name:
                assert v["pid"] == before[k]["pid"], k
    finally:
        close_all(conns)
    # Nothing leaked: four places again, and a fifth refused.
    conns = []
    try:
        def four():
            while len(conns) < 4:
                c = RawSMTP(port)
                if c.read_reply().code != 220:
                    c.close()
                    return False
                conns.append(c)
            return True
        assert wait_for(four, 10), d.log_tail()
        refused(port, REFUSED_TOTAL)
    finally:
        close_all(conns)


def test_queue_keeps_other_workers_messages(make_daemon):
    """The queue aborts the files of the worker that died, not those a
    live worker is still writing."""
    d = started(make_daemon, "smtp-workers 2")
    d.add_user("bob@example.org", USERS["bob@example.org"])
    (a, b), (pa, pb) = on_every_worker(d, "smtp", smtp_connect(d))
    try:
        for c in (a, b):
            c.ehlo()
            c.expect("MAIL FROM:<sender@example.net>", 250)
            c.expect("RCPT TO:<bob@example.org>", 250)
            c.expect("DATA", 354)
            c.send(b"Subject: half\r\n\r\nfirst half\r\n")
        name = next(k for k, v in d.status().items() if v["pid"] == pb)
        os.kill(pb, signal.SIGKILL)
        assert b.eof()
        # the queue drops the dead worker's file before a's commit comes
        assert wait_for(lambda: f"queue: {name} went away, 1 files "
                        "aborted" in d.read_log(), 10), d.log_tail()
        a.send(b"second half\r\n.\r\n")
        r = a.read_reply()
        assert r.code == 250, r
        a.expect("QUIT", 221)
    finally:
        a.close()
        b.close()
    assert wait_for(lambda: len(d.message_ids()) == 1, 15), d.log_tail()


def test_reload_changes_the_number_of_workers(make_daemon):
    d = started(make_daemon, "smtp-workers 2")
    port = d.ports["smtp"]
    old = d.worker_pids("smtp")
    assert len(old) == 2

    # Clients keep connecting through both reloads; none is turned away:
    # the listener stays open in the parent while workers change.
    stop = threading.Event()
    results = []

    def client():
        while not stop.is_set():
            try:
                with RawSMTP(port, timeout=20) as c:
                    results.append(c.read_reply().code)
            except (OSError, EOFError) as e:
                results.append(repr(e))
            time.sleep(0.02)
    t = threading.Thread(target=client)
    t.start()
    try:
        with open(d.conf, "a") as f:
            f.write("smtp-workers 3\n")
        _reload(d)
        assert wait_for(lambda: _workers_alive(d, "smtp", 3, old), 20), \
            d.ctl("status").stdout
        three = d.worker_pids("smtp")
        with open(d.conf, "a") as f:
            f.write("smtp-workers 1\n")
        _reload(d)
        assert wait_for(lambda: _workers_alive(d, "smtp", 1, three), 20), \
            d.ctl("status").stdout
        # the two no longer wanted are gone for good
        assert wait_for(lambda: not any(pid_alive(p) for p in three), 10)
        assert "role retired role=smtp/2" in d.read_log()
        time.sleep(0.5)
    finally:
        stop.set()
        t.join(30)
    assert results and all(r == 220 for r in results), results
    held, served = on_every_worker(d, "smtp", smtp_connect(d))
    close_all(held)
    assert len(set(served)) == 1


def _reload(d):
    # the same directive twice: the config parser refuses it
    with open(d.conf) as f:
        lines = f.read().splitlines()
    keep = [ln for ln in lines if not ln.startswith("smtp-workers")]
    last = [ln for ln in lines if ln.startswith("smtp-workers")][-1]
    with open(d.conf, "w") as f:
        f.write("\n".join(keep + [last]) + "\n")
    d.ctl("reload")


def _workers_alive(d, role, n, old):
    st = d.status()
    names = [k for k in st if role_of(k) == role]
    return (len(names) == n and
            all(st[k]["state"] == "alive" and st[k]["pid"] not in old
                for k in names))


def test_restarted_siblings_are_wired_to_every_worker(make_daemon):
    """kill -9 of lookup and of the queue: each comes back with a channel
    to every worker, so that a transaction through each smtp worker (RCPT
    asks lookup, DATA the queue) and a login through each pop3 worker
    work again."""
    d = started(make_daemon, "smtp-workers 2\npop3-workers 2\n"
                "smtp-plaintext-auth-loopback yes")
    d.add_user("bob@example.org", USERS["bob@example.org"])
    before = d.status()
    for role in ("lookup", "queue"):
        os.kill(before[role]["pid"], signal.SIGKILL)
    assert wait_for(lambda: all(
        d.status()[r]["pid"] != before[r]["pid"] and
        d.status()[r]["state"] == "alive" for r in ("lookup", "queue")),
        20), d.ctl("status").stdout

    def transaction():
        c = greeted(d.ports["smtp"])
        c.ehlo()
        c.expect("MAIL FROM:<sender@example.net>", 250)
        c.expect("RCPT TO:<bob@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: rewired\r\n\r\nhello\r\n.\r\n")
        assert c.read_reply().code == 250
        return c.sock, c

    def ok_or_retry(connect):
        # the first after the restart may race the new channels
        def attempt():
            try:
                return connect()
            except (AssertionError, OSError, EOFError,
                    poplib.error_proto):
                return None
        return lambda: wait_for(attempt, 10)

    held, _ = on_every_worker(d, "smtp", ok_or_retry(transaction))
    close_all(held)

    # One session held open per pop3 worker, then a login on each, one
    # after another (the maildrop lock is per user).
    def session():
        p = poplib.POP3(HOST, d.ports["pop3"], timeout=10)
        return p.sock, p
    held, _ = on_every_worker(d, "pop3", session)
    try:
        for p in held:
            p.user("bob@example.org")
            p.pass_(USERS["bob@example.org"])
            assert p.stat()[0] >= 0
            p.quit()
    finally:
        for p in held:
            p.close()
    assert wait_for(lambda: len(d.message_ids()) >= 2, 15), d.log_tail()
