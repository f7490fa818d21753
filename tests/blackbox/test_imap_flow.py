"""IMAP output flow control: FETCH answers a message at a time as the
client reads.  A mailbox of 40 messages of 1 MB, a client that sends
`FETCH 1:* BODY.PEEK[]` and reads slowly through a small socket buffer:
the imap worker's VmRSS stays within a bound far below the 40 MB answer
(which before flow control all sat in the output buffer), and the whole
answer arrives intact."""

import os
import re
import socket
import time

from test_pop3 import ALICE, ALICE_PW, put_message, wire

HOST = "127.0.0.1"
N = 40
SIZE = 1024 * 1024
# Growth of the worker's VmRSS while it serves the 40 MB answer: one
# message's buffers (file, CRLF copy, response) and the connection's
# output watermark, with room for the allocator and ASan's quarantine.
RSS_GROWTH_MAX_KB = 24 * 1024


def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def message(i):
    head = (f"From: sender{i}@example.net\nTo: alice@example.org\n"
            f"Subject: big {i}\n\n").encode()
    line = f"{i:04d} " + "x" * 73 + "\n"
    body = (line * (SIZE // len(line) + 1)).encode()[:SIZE - len(head) - 1]
    return head + body + b"\n"


def test_fetch_all_is_paced_by_the_reader(make_daemon, monkeypatch):
    # ASan keeps freed memory in a quarantine (256 MB by default), which
    # would count every freed output chunk: keep it small for this daemon
    asan = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS",
                       (asan + ":" if asan else "") + "quarantine_size_mb=4")
    d = make_daemon(extra="plaintext-auth-loopback yes\nimap-workers 1")
    d.start()
    d.add_user(ALICE, ALICE_PW)
    msgs = [message(i) for i in range(N)]
    for m in msgs:
        put_message(d, ALICE, m)
    [pid] = d.worker_pids("imap")

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 128 * 1024)
    s.settimeout(30)
    s.connect((HOST, d.ports["imap"]))
    buf = b""

    def until(tag):
        nonlocal buf
        while not re.search(rb"(^|\r\n)" + tag + rb" ", buf):
            data = s.recv(65536)
            assert data, buf[-200:]
            buf += data
        out, buf = buf, b""
        return out

    until(rb"\* OK")
    s.sendall(f'a LOGIN "{ALICE}" "{ALICE_PW}"\r\n'.encode())
    assert b"a OK" in until(b"a")
    s.sendall(b"b EXAMINE INBOX\r\n")
    assert b"b OK" in until(b"b")
    before = vm_rss_kb(pid)
    s.sendall(b"c FETCH 1:* BODY.PEEK[]\r\n")
    got, peak, reads = b"", before, 0
    deadline = time.monotonic() + 240
    while not got.endswith(b"c OK FETCH completed\r\n"):
        assert time.monotonic() < deadline, len(got)
        data = s.recv(65536)
        assert data, got[-200:]
        got += data
        reads += 1
        if reads % 16 == 0:
            peak = max(peak, vm_rss_kb(pid))
            time.sleep(0.02)     # a slow reader
    s.sendall(b"d LOGOUT\r\n")
    s.close()

    growth = peak - before
    print(f"imap worker VmRSS {before} kB before, peak {peak} kB, "
          f"growth {growth} kB over a {len(got) // 1024} kB answer")
    assert growth < RSS_GROWTH_MAX_KB, (before, peak)
    # intact: every message whole and in order
    pos = 0
    for i, m in enumerate(msgs, 1):
        w = wire(m)
        head = f"* {i} FETCH (BODY[] {{{len(w)}}}\r\n".encode()
        assert got[pos:pos + len(head)] == head, got[pos:pos + 80]
        pos += len(head)
        assert got[pos:pos + len(w)] == w, i
        pos += len(w)
        assert got[pos:pos + 3] == b")\r\n"
        pos += 3
    assert got[pos:] == b"c OK FETCH completed\r\n"


def test_body_literal_carries_no_nul(make_daemon):
    """RFC 9051 §4.3: a literal is CHAR8, never NUL.  A message with NULs
    (UTF-16 text sent 8bit, from the MIME corpus) gets 0x80 in their place
    in BODY[] and BODY[1], as Dovecot sends it; BINARY[1] carries them,
    as a literal8 (RFC 3516 §4.2)."""
    d = make_daemon(extra="plaintext-auth-loopback yes")
    d.start()
    d.add_user(ALICE, ALICE_PW)
    body = "Test\n".encode("utf-16le")
    msg = (b"Subject: nul\nMIME-Version: 1.0\n"
           b"Content-Type: text/plain; charset=utf-16le\n"
           b"Content-Transfer-Encoding: binary\n\n" + body)
    put_message(d, ALICE, msg)
    import imaplib
    c = imaplib.IMAP4(HOST, d.ports["imap"])
    c.login(ALICE, ALICE_PW)
    c.select("INBOX")
    typ, data = c.fetch("1", "(BODY.PEEK[] BODY.PEEK[1] BINARY.PEEK[1])")
    assert typ == "OK", data
    lits = [x[1] for x in data if isinstance(x, tuple)]
    # the file as stored, CRLF line ends (it holds no CR)
    assert lits[0] == msg.replace(b"\n", b"\r\n").replace(b"\0", b"\x80")
    assert lits[1] == body.replace(b"\n", b"\r\n").replace(b"\0", b"\x80")
    assert b"\0" in lits[2] and b"~{" in data[0][0] + b"".join(
        x[0] for x in data if isinstance(x, tuple)), data
    c.logout()
