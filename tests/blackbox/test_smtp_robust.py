"""SMTP robustness, black-box: large and oddly split input, clients that
vanish at every step, aborted messages leaving nothing in the spool,
concurrency, and the envelope extensions reaching the queue."""

import os
import random
import re
import socket
import threading
import time

import pytest

from conftest import (wait_for, RawSMTP, dot_stuff, ehlo_keywords,
                      mail_transaction, queued_id, role_of, server_pid,
                      tls_client_context)


def raw(daemon, kind="smtp"):
    c = RawSMTP(daemon.ports[kind])
    c.greet()
    return c



def incoming(daemon):
    """Files in the spool's incoming/ (messages being received).  The
    directory exists once the daemon is up: a missing one is an error,
    not an empty spool."""
    return os.listdir(os.path.join(daemon.state, "queue", "incoming"))


def smtp_alive_unrestarted(daemon):
    """Every smtp worker alive and never restarted."""
    st = [v for k, v in daemon.status().items() if role_of(k) == "smtp"]
    return st and all(v["state"] == "alive" and v["restarts"] == 0
                      for v in st)


def assert_healthy(daemon):
    """Every role up, none restarted, and a session still works."""
    st = daemon.status()
    for role, v in st.items():
        assert v["state"] == "alive", (role, v)
        assert v["restarts"] == 0, (role, v, daemon.log_tail())
    with raw(daemon) as c:
        c.ehlo()
        c.expect("QUIT", 221)


# --- big and awkwardly split messages ---

def dotty_content(size, seed=1):
    """CRLF text with many lines starting with dots, of varied length."""
    rnd = random.Random(seed)
    out = [b"Subject: big\r\n\r\n"]
    n = 0
    while n < size:
        k = rnd.choice([0, 1, 2, 5, 70, 500, 997])
        lead = rnd.choice([b"", b".", b"..", b"", b""])
        line = (lead + bytes(rnd.choice(b"abcXYZ. \t")
                             for _ in range(k)))[:998] + b"\r\n"
        out.append(line)
        n += len(line)
    return b"".join(out)


def test_large_message_byte_identical(mx):
    content = dotty_content(3 * 1024 * 1024)
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               content)
    assert mx.stored(qid)[1] == content


def test_large_bdat_byte_identical(mx):
    content = dotty_content(2 * 1024 * 1024, seed=2)
    chunks = [content[i:i + 700001] for i in range(0, len(content), 700001)]
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        for ch in chunks[:-1]:
            c.send(f"BDAT {len(ch)}\r\n".encode() + ch)
            c.expect(None, 250, "2.0.0")
        c.send(f"BDAT {len(chunks[-1])} LAST\r\n".encode() + chunks[-1])
        qid = queued_id(c.read_reply())
    assert mx.stored(qid)[1] == content


def test_data_sent_byte_by_byte(mx):
    content = b"Subject: slow\r\n\r\n.dot\r\nend\r\n"
    with raw(mx) as c:
        for part in [b"EHLO client.example.net\r\n",
                     b"MAIL FROM:<s@example.net>\r\n",
                     b"RCPT TO:<alice@example.org>\r\n", b"DATA\r\n"]:
            for i in range(len(part)):
                c.send(part[i:i + 1])
                time.sleep(0.002)
            r = c.read_reply()
            assert r.code in (250, 354), r
        for b in dot_stuff(content):
            c.send(bytes([b]))
            time.sleep(0.002)
        qid = queued_id(c.read_reply())
    assert mx.stored(qid)[1] == content


def test_end_of_data_split_across_packets(mx):
    content = b"Subject: split\r\n\r\nbody\r\n"
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(content + b"\r")
        time.sleep(0.1)
        c.send(b"\n.")
        time.sleep(0.1)
        assert c.quiet(0.2), c.buf
        c.send(b"\r")
        time.sleep(0.1)
        c.send(b"\n")
        qid = queued_id(c.read_reply())
    # "\r" + "\n" made one CRLF: the content gained one empty line
    assert mx.stored(qid)[1] == content + b"\r\n"


def test_bdat_chunk_boundary_inside_crlf(mx):
    """A CR ending one chunk and the LF starting the next are one CRLF."""
    content = b"Subject: crlf\r\n\r\nline one\r\nline two\r\n"
    cut = content.index(b"\r\nline two") + 1
    a, b = content[:cut], content[cut:]
    assert a.endswith(b"\r") and b.startswith(b"\n")
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.send(f"BDAT {len(a)}\r\n".encode() + a)
        c.expect(None, 250, "2.0.0")
        c.send(f"BDAT {len(b)} LAST\r\n".encode() + b)
        qid = queued_id(c.read_reply())
    assert mx.stored(qid)[1] == content


def test_bdat_ending_in_bare_cr_refused(mx):
    body = b"Subject: cr\r\n\r\nends in CR\r"
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.send(f"BDAT {len(body)} LAST\r\n".encode() + body)
        c.expect(None, 554, "5.6.0")
        c.expect("NOOP", 250)
    assert mx.message_ids() == []


def test_stuffed_dot_not_counted_in_line_length(mx):
    """A 998-octet line starting with a dot travels as 1001 octets."""
    content = b"Subject: dotline\r\n\r\n." + b"d" * 997 + b"\r\n"
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               content)
    assert mx.stored(qid)[1] == content


def test_received_variants_count(mx):
    """'RECEIVED:' and 'Received :' are Received fields too."""
    lines = b"".join((b"RECEIVED: x\r\n", b"Received :y\r\n",
                      b"received:\tz\r\n")[i % 3] for i in range(101))
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(lines + b"Subject: loop\r\n\r\nx\r\n"))
        c.expect(None, 554, "5.4.6")


def test_many_transactions_pipelined(mx):
    n = 40
    batch = b"EHLO client.example.net\r\n"
    for i in range(n):
        batch += (b"MAIL FROM:<s%d@example.net>\r\n"
                  b"RCPT TO:<alice@example.org>\r\n"
                  b"RCPT TO:<nobody%d@example.org>\r\n"
                  b"RSET\r\n" % (i, i))
    batch += b"NOOP\r\nQUIT\r\n"
    with raw(mx) as c:
        c.send(batch)
        c.expect(None, 250)
        for i in range(n):
            c.expect(None, 250, "2.1.0")
            c.expect(None, 250, "2.1.5")
            c.expect(None, 550, "5.1.1")
            r = c.read_reply()
            # refusals count as errors (max-errors 10): the 10th ends it
            if r.code == 421:
                assert r.enh == "4.7.0", r
                assert i == 9, i
                assert c.eof()
                assert c.buf == b"", c.buf
                return
            assert (r.code, r.enh) == (250, "2.0.0"), (i, r)
        raise AssertionError("40 refused recipients did not hit "
                             "max-errors 10")


def test_many_transactions_pipelined_no_errors(mx):
    n = 60
    batch = b"EHLO client.example.net\r\n"
    for i in range(n):
        batch += (b"MAIL FROM:<s%d@example.net>\r\n"
                  b"RCPT TO:<alice@example.org>\r\n"
                  b"RSET\r\n" % i)
    batch += b"QUIT\r\n"
    with raw(mx) as c:
        c.send(batch)
        c.expect(None, 250)
        for i in range(n):
            c.expect(None, 250, "2.1.0")
            c.expect(None, 250, "2.1.5")
            c.expect(None, 250, "2.0.0")
        c.expect(None, 221)
        assert c.eof() and c.buf == b""


# --- the envelope extensions reach the queue ---

def test_dsn_and_body_parameters_recorded(mx_held):
    mx = mx_held
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net> RET=HDRS ENVID=env+2B42 "
                 "BODY=8BITMIME", 250, "2.1.0")
        c.expect("RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE "
                 "ORCPT=rfc822;alice+40example.org", 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(dot_stuff(b"Subject: dsn\r\n\r\n\xc3\xa9\r\n"))
        qid = queued_id(c.read_reply())
    show = mx.ctl("queue", "show", qid).stdout
    low = show.lower()
    assert re.search(r"ret:\s*hdrs", low), show
    assert re.search(r"body:\s*8bitmime", low), show
    assert "env+42" in show, show
    assert "success" in low and "failure" in low, show
    assert "rfc822;alice@example.org" in show, show


def test_smtputf8_recorded(mx_held):
    mx = mx_held
    with raw(mx) as c:
        c.ehlo()
        qid = mail_transaction(c, "j\u00f6rg@example.net",
                               ["alice@example.org"],
                               b"Subject: u\r\n\r\nx\r\n",
                               mail_params="SMTPUTF8")
    show = mx.ctl("queue", "show", qid).stdout
    assert re.search(r"smtputf8:\s*yes", show.lower()), show
    # show may print the address raw or %-escaped
    assert ("j\u00f6rg@example.net" in show or
            "j%C3%B6rg@example.net" in show), show


def test_helo_client_gets_smtp_protocol(mx):
    with raw(mx) as c:
        c.expect("HELO old.example.net", 250)
        qid = mail_transaction(c, "s@example.net", ["alice@example.org"],
                               b"Subject: helo\r\n\r\nx\r\n")
    received, _ = mx.stored(qid)
    assert b"from old.example.net " in received, received
    assert b" with SMTP id " in received, received


# --- clients that vanish ---

def test_disconnect_mid_data_leaves_nothing(mx):
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: gone\r\n\r\n" + b"x" * 70 + b"\r\n" * 1000)
        assert wait_for(lambda: incoming(mx)), "no spool file was made"
    assert wait_for(lambda: incoming(mx) == []), incoming(mx)
    assert mx.message_ids() == []
    assert_healthy(mx)


def test_disconnect_mid_bdat_leaves_nothing(mx):
    with raw(mx) as c:
        c.ehlo()
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.send(b"BDAT 100000\r\n" + b"y" * 5000)
    assert wait_for(lambda: incoming(mx) == []), incoming(mx)
    assert mx.message_ids() == []
    assert_healthy(mx)


def test_refused_and_reset_messages_leave_nothing(mx):
    with raw(mx) as c:
        c.ehlo()
        # refused at the end
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: bare\r\n\r\nbare\nlf\r\n.\r\n")
        c.expect(None, 554, "5.6.0")
        # dropped by RSET between chunks
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.send(b"BDAT 5\r\nabc\r\n")
        c.expect(None, 250, "2.0.0")
        c.expect("RSET", 250)
        # dropped by a new EHLO between chunks
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<alice@example.org>", 250)
        c.send(b"BDAT 5\r\nabc\r\n")
        c.expect(None, 250, "2.0.0")
        c.ehlo()
        assert wait_for(lambda: incoming(mx) == []), incoming(mx)
        c.expect("QUIT", 221)
    assert mx.message_ids() == []


def read_until(s, marker):
    got = b""
    while marker not in got:
        d = s.recv(4096)
        assert d, got
        got += d
    return got


@pytest.mark.parametrize("stage", ["rcpt", "data-open", "commit", "auth",
                                   "starttls"])
def test_vanishing_clients_do_not_hurt(mx, stage):
    """Close the connection while the session waits for lookup or queue,
    again and again: the smtp role must not crash (ASan would abort it,
    and the parent would restart it)."""
    body = dot_stuff(b"Subject: v\r\n\r\nx\r\n")
    for i in range(25):
        s = socket.create_connection(("127.0.0.1", mx.ports["smtp"]), 10)
        if stage == "rcpt":
            s.sendall(b"EHLO c\r\nMAIL FROM:<s@example.net>\r\n" +
                      b"RCPT TO:<alice@example.org>\r\n" * 20)
        elif stage == "data-open":
            s.sendall(b"EHLO c\r\nMAIL FROM:<s@example.net>\r\n"
                      b"RCPT TO:<alice@example.org>\r\nDATA\r\n")
        elif stage == "commit":
            s.sendall(b"EHLO c\r\nMAIL FROM:<s@example.net>\r\n"
                      b"RCPT TO:<alice@example.org>\r\nDATA\r\n" + body)
        elif stage == "auth":
            s.sendall(b"EHLO c\r\nSTARTTLS\r\n")
            read_until(s, b"220 2.0.0")
            s = tls_client_context().wrap_socket(s)
            s.sendall(b"EHLO c\r\nAUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHg=\r\n")
        else:
            s.sendall(b"EHLO c\r\nSTARTTLS\r\n")
            read_until(s, b"220 2.0.0")
            # half a ClientHello, then gone
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        if i % 2:
            time.sleep(0.02)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    time.sleep(1)
    assert wait_for(lambda: incoming(mx) == []), incoming(mx)
    assert_healthy(mx)


def test_plaintext_client_on_submissions(daemon):
    with RawSMTP(daemon.ports["submissions"]) as c:
        c.send(b"EHLO client.example.net\r\n")
        # no SMTP in the clear; the handshake fails and the server hangs
        # up (perhaps after a TLS alert)
        assert c.eof(), c.buf
        assert b"250" not in c.buf and b"220" not in c.buf, c.buf
    assert_healthy(daemon)


def test_garbage_handshake_after_starttls(daemon):
    with raw(daemon) as c:
        c.ehlo()
        c.expect("STARTTLS", 220)
        c.send(b"EHLO this is not TLS\r\n" * 5)
        assert c.eof()
    assert_healthy(daemon)


def test_binary_garbage_commands(daemon):
    rnd = random.Random(7)
    with raw(daemon) as c:
        c.ehlo()
        for _ in range(5):
            junk = bytes(rnd.randrange(256) for _ in range(300))
            c.send(junk.replace(b"\n", b"") + b"\r\n")
        # five errors, then the session still answers
        for _ in range(5):
            r = c.read_reply()
            assert r.code == 500, r
        c.expect("NOOP", 250)
    assert_healthy(daemon)


# --- concurrency ---

def test_concurrent_sessions(mx):
    n = 15
    ids, errors = [], []
    lock = threading.Lock()

    def one(i):
        try:
            content = b"Subject: c%d\r\n\r\n" % i + b"line\r\n" * (i * 50)
            with raw(mx, "smtp") as c:
                c.ehlo()
                qid = mail_transaction(c, f"s{i}@example.net",
                                       ["alice@example.org"], content)
                c.expect("QUIT", 221)
            with lock:
                ids.append((qid, content))
        except Exception as e:  # noqa: BLE001 -- reported below
            with lock:
                errors.append(repr(e))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [], errors
    assert len({q for q, _ in ids}) == n
    listed = set(mx.message_ids())
    for qid, content in ids:
        assert qid in listed
        assert mx.stored(qid)[1] == content


def test_auth_failures_count_as_errors(make_daemon):
    d = make_daemon(extra="max-errors 3")
    d.start()
    d.add_user("alice@example.org", "secret")
    with RawSMTP(d.ports["submission"]) as c:
        c.greet()
        c.ehlo()
        c.starttls()
        c.ehlo()
        c.expect("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHg=", 535, "5.7.8")
        c.expect("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHk=", 535, "5.7.8")
        r = c.cmd("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHo=")
        if r.code == 535:
            r = c.read_reply()
        assert (r.code, r.enh) == (421, "4.7.0"), r
        assert c.eof()


def test_auth_line_too_long(mx):
    with raw(mx, "submission") as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        c.expect("AUTH PLAIN " + "A" * 13000, 500, "5.5.2")
        c.expect("AUTH LOGIN", 334)
        c.expect("B" * 13000, 500, "5.5.2")
        c.expect("NOOP", 250)


def test_ehlo_keywords_after_reset_are_same(daemon):
    with raw(daemon) as c:
        a = ehlo_keywords(c.ehlo())
        c.expect("RSET", 250)
        b = ehlo_keywords(c.ehlo())
        assert a == b


def vm_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def test_client_that_never_reads_is_bounded(daemon):
    """A client that pipelines commands and never reads the replies must
    meet backpressure (the server stops reading once its output backs
    up), not make the smtp role, shared by every connection, buffer
    replies without bound.  EHLO multiplies its bytes about 19 times."""
    with RawSMTP(daemon.ports["smtp"]) as c:
        c.greet()
        # the worker that holds the connection
        pid = server_pid(c.sock, daemon.worker_pids("smtp"))
        before = vm_rss_mb(pid)
        c.sock.settimeout(3)
        chunk = b"EHLO x\r\n" * 8192
        sent = 0
        try:
            while sent < 8 * 1024 * 1024:
                c.sock.sendall(chunk)
                sent += len(chunk)
        except socket.timeout:
            pass
        time.sleep(1)
        grown = vm_rss_mb(pid) - before
        assert grown < 64, (f"smtp role grew {grown} MB after {sent} "
                            f"bytes of unread EHLOs")
    assert_healthy(daemon)
