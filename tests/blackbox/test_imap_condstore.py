"""CONDSTORE and QRESYNC (RFC 7162) and the per-folder index behind
them (cachet-index), black-box, as raw IMAP transcripts: ENABLE, the
implicit enable, SELECT/EXAMINE (CONDSTORE) and (QRESYNC ...) with
VANISHED (EARLIER), FETCH MODSEQ and CHANGEDSINCE (with VANISHED), STORE
UNCHANGEDSINCE and MODIFIED, SEARCH MODSEQ, STATUS HIGHESTMODSEQ,
EXPUNGE as VANISHED, [CLOSED]; a resync after a disconnect; a flag
change by another program (a rename, as mutt does) noticed with a new
MODSEQ; the index deleted, damaged, or its writer killed -9 in a STORE
loop, then rebuilt or read with the same UIDs and higher MODSEQs; the
FETCH cache serving a warm sync without reading the files; and the same
transcript against a private Dovecot, whose answers must have the same
form."""

import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import Daemon, pid_alive, wait_for
from dovecot_imap import DOVECOT, DovecotImap, PASSWORD as DV_PASSWORD, \
    USER as DV_USER
from test_imap import RawIMAP
from test_pop3 import ALICE, ALICE_PW, mailbox_path, put_message

HOST = "127.0.0.1"
TIMEOUT = 10

MESSAGES = [
    b"From: carol@example.net\nTo: alice@example.org\nSubject: one\n"
    b"Message-ID: <one@example.net>\n\nHello.\n",
    b"From: dave@example.net\nTo: alice@example.org\nSubject: two\n\n"
    + b"body line\n" * 50,
    b"From: erin@example.net\nSubject: three\n\nthird\n",
    b"From: frank@example.net\nSubject: four\n\nfourth\n",
]


class Raw(RawIMAP):
    """test_imap.py's raw client, with literals kept inline (as {n} and
    their bytes) and commands tagged here."""

    def __init__(self, port):
        self.n = 0
        super().__init__(port)

    def line(self):
        ln = super().line()
        m = re.search(r"\{(\d+)\}$", ln)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                d = self.sock.recv(65536)
                if not d:
                    raise EOFError("closed in a literal")
                self.buf += d
            lit, self.buf = self.buf[:n], self.buf[n:]
            ln += "\r\n" + lit.decode("utf-8", "replace") + self.line()
        return ln

    def cmd(self, line):
        """Send a command: (untagged lines, tagged line)."""
        self.n += 1
        tag = f"t{self.n}"
        self.sock.sendall(f"{tag} {line}\r\n".encode())
        out = []
        while True:
            ln = self.line()
            if ln.startswith(tag + " "):
                return out, ln[len(tag) + 1:]
            out.append(ln)

    def ok(self, line):
        out, done = self.cmd(line)
        assert done.startswith("OK"), (line, out, done)
        return out

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (OSError, EOFError):
            pass
        self.sock.close()


def login(d):
    c = Raw(d.ports["imap"])
    c.ok(f'LOGIN {d.user} "{ALICE_PW}"')
    return c


def code(lines, name):
    """The value of a response code ("HIGHESTMODSEQ") in untagged OKs."""
    for ln in lines:
        m = re.match(r"\* OK \[" + name + r" (\d+)\]", ln)
        if m:
            return int(m.group(1))
    return None


def fetches(lines):
    """{seq: {"UID": .., "FLAGS": set, "MODSEQ": n}} of FETCH lines."""
    out = {}
    for ln in lines:
        m = re.match(r"\* (\d+) FETCH \((.*)\)$", ln)
        if not m:
            continue
        body, item = m.group(2), {}
        f = re.search(r"FLAGS \(([^)]*)\)", body)
        if f:
            item["FLAGS"] = set(f.group(1).split())
        u = re.search(r"\bUID (\d+)", body)
        if u:
            item["UID"] = int(u.group(1))
        ms = re.search(r"MODSEQ \((\d+)\)", body)
        if ms:
            item["MODSEQ"] = int(ms.group(1))
        out[int(m.group(1))] = item
    return out


def vanished(lines, earlier=True):
    pre = "* VANISHED (EARLIER) " if earlier else "* VANISHED "
    for ln in lines:
        if ln.startswith(pre) and (earlier or "(EARLIER)" not in ln):
            return ln[len(pre):]
    return None


def uids_of(setstr):
    out = set()
    for part in setstr.split(","):
        a, _, b = part.partition(":")
        out |= set(range(int(a), int(b or a) + 1))
    return out


@pytest.fixture(scope="module")
def shared():
    """One daemon for the tests that do not stop or damage it: each test
    gets a user of its own (a fresh Maildir), so that the file runs in a
    fraction of the time a daemon per test takes."""
    base = tempfile.mkdtemp(prefix="cachet-test-", dir="/var/tmp")
    os.chmod(base, 0o755)
    d = Daemon(base, extra="plaintext-auth-loopback yes")
    d.start()
    yield d
    d.stop()
    subprocess.run(["rm", "-rf", base], check=False)


_users = [0]


@pytest.fixture
def imapd(shared):
    _users[0] += 1
    shared.user = f"user{_users[0]}@example.org"
    shared.add_user(shared.user, ALICE_PW)
    shared.files = [put_message(shared, shared.user, m) for m in MESSAGES]
    return shared


@pytest.fixture
def own_imapd(make_daemon):
    """A daemon of its own: for the tests that kill it or read its log."""
    d = make_daemon(extra="plaintext-auth-loopback yes")
    d.start()
    d.user = ALICE
    d.add_user(ALICE, ALICE_PW)
    d.files = [put_message(d, ALICE, m) for m in MESSAGES]
    return d


def index_path(d):
    return os.path.join(mailbox_path(d, d.user), "cachet-index")


def modseqs(c):
    return {n: v["MODSEQ"] for n, v in
            fetches(c.ok("FETCH 1:* (MODSEQ)")).items()}


def test_enable_select_fetch_modseq(imapd):
    c = login(imapd)
    _, done = c.cmd("CAPABILITY")
    out = c.ok("ENABLE CONDSTORE")
    assert out == ["* ENABLED CONDSTORE"]
    sel = c.ok("SELECT INBOX")
    high = code(sel, "HIGHESTMODSEQ")
    assert high is not None and high > 0
    ms = modseqs(c)
    assert sorted(ms) == [1, 2, 3, 4]
    assert all(0 < v <= high for v in ms.values())
    # ENABLE again names nothing new (RFC 5161 §3.1)
    c.ok("UNSELECT")
    assert c.ok("ENABLE CONDSTORE QRESYNC") == ["* ENABLED QRESYNC"]
    c.close()


def test_implicit_enable_and_examine(imapd):
    c = login(imapd)
    sel = c.ok("SELECT INBOX")
    assert code(sel, "HIGHESTMODSEQ") is None    # not enabled yet
    out = c.ok("FETCH 1 (FLAGS MODSEQ)")
    # RFC 7162 §3.1: the first enabling command reports HIGHESTMODSEQ
    high = code(out, "HIGHESTMODSEQ")
    assert high is not None
    assert fetches(out)[1]["MODSEQ"] <= high
    # now SELECT and EXAMINE say it without being asked
    ex = c.ok("EXAMINE INBOX")
    assert "* OK [CLOSED] Previous mailbox closed" in ex
    assert code(ex, "HIGHESTMODSEQ") == high
    c.close()
    c = login(imapd)
    assert code(c.ok("EXAMINE INBOX (CONDSTORE)"), "HIGHESTMODSEQ") == high
    c.close()


def test_store_unchangedsince_modified(imapd):
    c = login(imapd)
    high = code(c.ok("SELECT INBOX (CONDSTORE)"), "HIGHESTMODSEQ")
    ms = modseqs(c)
    out = c.ok(f"STORE 1 (UNCHANGEDSINCE {ms[1]}) +FLAGS (\\Flagged)")
    f = fetches(out)[1]
    assert "\\Flagged" in f["FLAGS"] and f["MODSEQ"] > high
    # the same condition again fails: the message changed since
    out, done = c.cmd(f"STORE 1,2 (UNCHANGEDSINCE {high}) "
                      "+FLAGS.SILENT (\\Seen)")
    assert done.startswith("OK [MODIFIED 1]"), done
    # .SILENT still reports the new MODSEQ of what was stored (§3.1.3)
    f = fetches(out)
    assert list(f) == [2] and "FLAGS" not in f[2] and f[2]["MODSEQ"] > high
    # UID STORE names UIDs in MODIFIED
    out, done = c.cmd("UID STORE 1:3 (UNCHANGEDSINCE 1) FLAGS (\\Answered)")
    assert done.startswith("OK [MODIFIED 1:3]"), done
    assert out == []
    # a STORE that changes nothing keeps the MODSEQ
    before = modseqs(c)
    c.ok("STORE 3 +FLAGS (\\Seen)")
    c.ok("STORE 3 +FLAGS (\\Seen)")
    assert modseqs(c)[3] == modseqs(c)[3] > before[3]
    after = modseqs(c)
    c.ok("STORE 3 +FLAGS.SILENT (\\Seen)")
    assert modseqs(c)[3] == after[3]
    c.close()


def test_fetch_changedsince_and_search_modseq(imapd):
    c = login(imapd)
    high = code(c.ok("SELECT INBOX (CONDSTORE)"), "HIGHESTMODSEQ")
    assert fetches(c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {high})")) == {}
    c.ok("STORE 2 +FLAGS (\\Seen)")
    c.ok("STORE 4 +FLAGS (\\Draft)")
    out = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {high})")
    f = fetches(out)
    assert sorted(f) == [2, 4]
    assert all("MODSEQ" in v and v["MODSEQ"] > high for v in f.values())
    top = max(v["MODSEQ"] for v in f.values())
    out = c.ok(f"SEARCH MODSEQ {high + 1}")
    assert out == [f"* SEARCH 2 4 (MODSEQ {top})"]
    out = c.ok(f'SEARCH MODSEQ "/flags/\\\\draft" all {high + 1} DRAFT')
    assert out == [f"* SEARCH 4 (MODSEQ {top})"]
    # nothing found: no MODSEQ (RFC 7162 §3.1.5)
    assert c.ok(f"SEARCH MODSEQ {top + 1}") == ["* SEARCH"]
    # VANISHED needs QRESYNC and UID FETCH
    _, done = c.cmd("UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)")
    assert done.startswith("BAD")
    _, done = c.cmd("FETCH 1 FLAGS (VANISHED)")
    assert done.startswith("BAD")
    c.close()


def test_status_highestmodseq(imapd):
    c = login(imapd)
    out = c.ok("STATUS INBOX (MESSAGES HIGHESTMODSEQ)")
    m = re.match(r"\* STATUS \"?INBOX\"? \(MESSAGES 4 HIGHESTMODSEQ (\d+)\)$",
                 out[0])
    assert m, out
    sent = c.ok("STATUS Sent (HIGHESTMODSEQ)")
    assert re.match(r"\* STATUS \"?Sent\"? \(HIGHESTMODSEQ \d+\)$", sent[0])
    high = code(c.ok("SELECT INBOX"), "HIGHESTMODSEQ")  # enabled by STATUS
    assert high == int(m.group(1))
    c.ok("STORE 1 +FLAGS (\\Seen)")
    out = c.ok("STATUS INBOX (HIGHESTMODSEQ)")
    assert int(re.search(r"HIGHESTMODSEQ (\d+)", out[0]).group(1)) > high
    c.close()


def test_qresync_resync_after_disconnect(imapd):
    a = login(imapd)
    a.ok("ENABLE QRESYNC")
    sel = a.ok("SELECT INBOX")
    uv, high = code(sel, "UIDVALIDITY"), code(sel, "HIGHESTMODSEQ")
    a.close()
    # another session changes flags and expunges while a is away
    b = login(imapd)
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS (\\Seen)")
    b.ok("STORE 2 +FLAGS (\\Deleted)")
    out = b.ok("EXPUNGE")
    assert out == ["* 2 EXPUNGE"]     # b has not enabled QRESYNC
    b.close()
    a = login(imapd)
    a.ok("ENABLE QRESYNC")
    out = a.ok(f"SELECT INBOX (QRESYNC ({uv} {high} 1:4))")
    assert vanished(out) == "2"
    f = fetches(out)
    assert f == {1: {"UID": 1, "FLAGS": {"\\Seen"},
                     "MODSEQ": f[1]["MODSEQ"]}}
    assert f[1]["MODSEQ"] > high
    newhigh = code(out, "HIGHESTMODSEQ")
    assert newhigh >= f[1]["MODSEQ"]
    # known-uids limit the answer
    out = a.ok(f"SELECT INBOX (QRESYNC ({uv} {high} 3:4 (1:2 3:4)))")
    assert "* OK [CLOSED] Previous mailbox closed" in out
    assert vanished(out) is None and fetches(out) == {}
    # up to date: nothing
    out = a.ok(f"SELECT INBOX (QRESYNC ({uv} {newhigh}))")
    assert vanished(out) is None and fetches(out) == {}
    # another UIDVALIDITY: a plain SELECT
    out = a.ok(f"SELECT INBOX (QRESYNC ({uv + 1} {high}))")
    assert vanished(out) is None and fetches(out) == {}
    # UID FETCH ... (CHANGEDSINCE n VANISHED)
    out = a.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {high} VANISHED)")
    assert vanished(out) == "2" and sorted(fetches(out)) == [1]
    a.close()


def test_qresync_needs_enable(imapd):
    c = login(imapd)
    _, done = c.cmd("SELECT INBOX (QRESYNC (1 1))")
    assert done.startswith("BAD")
    c.close()


def test_expunge_is_vanished_under_qresync(imapd):
    a, b = login(imapd), login(imapd)
    for c in (a, b):
        c.ok("ENABLE QRESYNC")
        c.ok("SELECT INBOX")
    a.ok("STORE 2:3 +FLAGS.SILENT (\\Deleted)")
    out = a.ok("EXPUNGE")
    assert out == ["* VANISHED 2:3"]
    out = b.ok("NOOP")
    assert "* VANISHED 2:3" in out
    assert not any("EXPUNGE" in ln for ln in out)
    out = b.ok("FETCH 1:* (UID)")
    assert sorted(fetches(out)) == [1, 2]
    # MOVE (RFC 6851 §4.4 with QRESYNC): VANISHED too, here and there
    out = a.ok("UID MOVE 4 Trash")
    assert "* VANISHED 4" in out
    assert not any("EXPUNGE" in ln for ln in out)
    assert "* VANISHED 4" in b.ok("NOOP")
    # a FETCH that sets \Seen reports the new MODSEQ (RFC 7162 §3.1.4)
    before = fetches(a.ok("FETCH 1 (MODSEQ)"))[1]["MODSEQ"]
    out = a.ok("FETCH 1 (BODY[TEXT])")
    f = fetches([ln.split("\r\n")[0] + ")" if "{" in ln else ln
                 for ln in out])
    assert "\\Seen" in f[1]["FLAGS"] and f[1]["MODSEQ"] > before
    b.close()
    a.close()


def test_external_rename_gets_new_modseq(imapd):
    c = login(imapd)
    c.ok("SELECT INBOX (CONDSTORE)")      # moves new/ to cur/
    before = modseqs(c)
    cur = os.path.join(mailbox_path(imapd, imapd.user), "cur")
    name = sorted(os.listdir(cur))[0]
    base = name.split(":")[0]
    # mutt marks it flagged and seen: a rename of the file
    os.rename(os.path.join(cur, name), os.path.join(cur, base + ":2,FS"))
    out = c.ok("NOOP")
    f = fetches(out)
    assert f[1]["FLAGS"] - {"\\Recent"} == {"\\Flagged", "\\Seen"}
    assert f[1]["UID"] == 1 and f[1]["MODSEQ"] > before[1]
    assert modseqs(c)[1] == f[1]["MODSEQ"]
    c.close()


def test_index_deleted_rebuilt_same_uids_higher_modseqs(imapd):
    c = login(imapd)
    c.ok("ENABLE QRESYNC")
    sel = c.ok("SELECT INBOX")
    uv, high = code(sel, "UIDVALIDITY"), code(sel, "HIGHESTMODSEQ")
    uids = {n: v["UID"] for n, v in fetches(c.ok("FETCH 1:* UID")).items()}
    c.close()
    os.unlink(index_path(imapd))
    time.sleep(1.1)   # the clock part of MODSEQs moves on
    c = login(imapd)
    c.ok("ENABLE QRESYNC")
    out = c.ok(f"SELECT INBOX (QRESYNC ({uv} {high} 1:4))")
    assert code(out, "UIDVALIDITY") == uv
    assert code(out, "HIGHESTMODSEQ") > high
    # every message is reported changed; nothing vanished
    f = fetches(out)
    assert {n: v["UID"] for n, v in f.items()} == uids
    assert all(v["MODSEQ"] > high for v in f.values())
    assert vanished(out) is None
    c.close()
    assert os.path.exists(index_path(imapd))


def test_corrupt_index_is_rebuilt(own_imapd):
    imapd = own_imapd
    c = login(imapd)
    sel = c.ok("SELECT INBOX (CONDSTORE)")
    high = code(sel, "HIGHESTMODSEQ")
    c.ok("STORE 3 +FLAGS (\\Deleted)")
    c.ok("EXPUNGE")
    c.close()
    size = os.path.getsize(index_path(imapd))
    with open(index_path(imapd), "r+b") as f:
        f.seek(size // 2)
        f.write(b"\xff\x00garbage\x00")
    time.sleep(1.1)
    c = login(imapd)
    c.ok("ENABLE QRESYNC")
    uv = code(c.ok("EXAMINE INBOX"), "UIDVALIDITY")
    out = c.ok(f"SELECT INBOX (QRESYNC ({uv} {high}))")
    assert code(out, "HIGHESTMODSEQ") > high
    # the expunge is forgotten: VANISHED names every UID not live, a
    # superset (RFC 7162 §3.2.5.2)
    assert 3 in uids_of(vanished(out))
    assert sorted(v["UID"] for v in fetches(out).values()) == [1, 2, 4]
    assert "rebuilding" in imapd.read_log()
    c.close()


def test_kill9_in_store_loop_leaves_usable_index(own_imapd):
    imapd = own_imapd
    c = login(imapd)
    c.ok("SELECT INBOX (CONDSTORE)")
    seen = 0
    # pipeline STOREs, then kill every process of the daemon mid-stream
    batch = "".join(f"k{i} STORE {1 + i % 4} {'+' if i % 2 else '-'}"
                    f"FLAGS (\\Flagged)\r\n" for i in range(400))
    c.sock.sendall(batch.encode())
    deadline = time.time() + 10
    got = 0
    while got < 60 and time.time() < deadline:
        ln = c.line()
        m = re.search(r"MODSEQ \((\d+)\)", ln)
        if m:
            seen = max(seen, int(m.group(1)))
        got += ln.startswith("k")
    pids = [imapd.proc.pid] + list(imapd.role_pids().values())
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    imapd.proc.wait(timeout=10)
    assert wait_for(lambda: not any(pid_alive(p) for p in pids), timeout=10)
    c.sock.close()
    assert seen > 0
    imapd.logf.close()
    imapd.start()
    c = login(imapd)
    out = c.ok("SELECT INBOX (CONDSTORE)")
    # a record cut short is cut off; nothing else was damaged
    assert "rebuilding" not in imapd.read_log()
    assert code(out, "HIGHESTMODSEQ") >= seen
    ms = modseqs(c)
    assert sorted(ms) == [1, 2, 3, 4]
    # and it keeps counting up
    f = fetches(c.ok("STORE 1 +FLAGS (\\Answered)"))
    assert f[1]["MODSEQ"] > seen
    c.close()


def test_warm_fetch_reads_no_file(imapd):
    items = "(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)"
    c = login(imapd)
    c.ok("EXAMINE INBOX")
    cold = c.ok(f"UID FETCH 1:* {items}")
    assert len(cold) == 4 and "ENVELOPE (" in cold[0]
    c.close()
    # the same bytes count, other content: only a read would see it
    path = imapd.files[0]      # still in new/: EXAMINE moves nothing
    assert os.path.exists(path)
    size = os.path.getsize(path)
    fake = (b"From: zed@example.net\nSubject: changed\n\n"
            + b"x" * 500)[:size]
    st = os.stat(path)
    with open(path, "r+b") as fh:
        fh.write(fake)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))   # INTERNALDATE
    c = login(imapd)
    c.ok("EXAMINE INBOX")
    warm = c.ok(f"UID FETCH 1:* {items}")
    assert warm == cold
    # a section still reads the file
    out = c.ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert "changed" in out[0]
    c.close()


# --- the same transcript against Dovecot ---

def shape(lines):
    """The form of responses: numbers as N, the human text after a
    response code dropped.  Two differences that are not CONDSTORE's are
    left out: Dovecot follows an EXPUNGE of a \\Recent message with
    "* N RECENT" (RFC 3501 §7.3.2 does not ask for it, and cachet's
    EXPUNGE never sent it), and cachet quotes every mailbox name in
    STATUS (both forms are an astring)."""
    out = []
    for ln in lines:
        if re.match(r"\* \d+ RECENT$", ln):
            continue
        ln = re.sub(r'^\* STATUS "([^"]*)"', r"* STATUS \1", ln)
        ln = re.sub(r"\d+", "N", ln)
        ln = re.sub(r"^(\* (?:OK|NO|BAD) \[[^\]]*\]).*$", r"\1", ln)
        ln = re.sub(r"^((?:OK|NO|BAD) \[[^\]]*\]).*$", r"\1", ln)
        ln = re.sub(r"^(OK|NO|BAD) [^\[].*$", r"\1", ln)
        out.append(ln)
    return out


def transcript(c):
    """A CONDSTORE/QRESYNC session; its answers' shapes, one per step."""
    steps = []
    # [CLOSED] before anything is enabled (RFC 7162 §3.2.11)
    c.ok("EXAMINE INBOX")
    out = c.ok("EXAMINE INBOX")
    steps.append([ln for ln in shape(out) if "CLOSED" in ln])
    c.ok("UNSELECT")
    steps.append(shape(c.ok("ENABLE QRESYNC")))
    sel = c.ok("SELECT INBOX")
    uv, high = code(sel, "UIDVALIDITY"), code(sel, "HIGHESTMODSEQ")
    steps.append([ln for ln in shape(sel) if "HIGHESTMODSEQ" in ln])
    for cmd in ["FETCH 1:2 (UID FLAGS MODSEQ)",
                "STORE 1 +FLAGS (\\Seen)",
                "STORE 2 +FLAGS.SILENT (\\Flagged)",
                "UID STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Answered)",
                f"FETCH 1:* (FLAGS) (CHANGEDSINCE {high})",
                f"SEARCH MODSEQ {high + 1}",
                "STORE 3 +FLAGS.SILENT (\\Deleted)",
                "EXPUNGE",
                f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {high} VANISHED)",
                "STATUS Sent (HIGHESTMODSEQ)",
                f"SELECT INBOX (QRESYNC ({uv} {high} 1:4))"]:
        out, done = c.cmd(cmd)
        if cmd.startswith("SELECT"):
            out = [ln for ln in out if "VANISHED" in ln or "FETCH" in ln
                   or "CLOSED" in ln]
        steps.append((shape([cmd])[0], shape(out),
                      shape([done])[0].split(" ")[0]))
    return steps


def test_same_form_as_dovecot(imapd):
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    with tempfile.TemporaryDirectory(prefix="cachet-dovecot-") as base:
        dv = DovecotImap(base)
        for i, m in enumerate(MESSAGES):
            dv.add(i + 1, m)
        os.makedirs(os.path.join(dv.maildir, ".Sent", "cur"))
        os.makedirs(os.path.join(dv.maildir, ".Sent", "new"))
        os.makedirs(os.path.join(dv.maildir, ".Sent", "tmp"))
        dv.start()
        try:
            v = Raw(dv.port)
            v.ok(f'LOGIN {DV_USER} "{DV_PASSWORD}"')
            theirs = transcript(v)
            v.close()
        finally:
            dv.stop()
    c = login(imapd)
    ours = transcript(c)
    c.close()
    for a, b in zip(ours, theirs):
        print("ours  ", a)
        print("theirs", b)
    assert ours == theirs
