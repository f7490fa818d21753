"""IMAP mailbox-level extensions, black-box, as imaplib transcripts and
compared with a private Dovecot (dovecot_imap.py) where Dovecot 2.3
serves the same: LIST-EXTENDED and LIST-STATUS (RFC 5258, 5819),
STATUS=SIZE, DELETED and APPENDLIMIT, CREATE-SPECIAL-USE (RFC 6154),
MULTIAPPEND (RFC 3502), QUOTA (RFC 9208), UTF8=ACCEPT and modified
UTF-7 names (RFC 6855, RFC 3501 §5.1.3), OBJECTID (RFC 8474)."""

import os
import pwd
import re
import subprocess
import tempfile
import time

import pytest

from conftest import imap_login
from dovecot_imap import DOVECOT, DovecotImap
from test_pop3 import ALICE, ALICE_PW, MAIL_USER, mailbox_path

MSG = (b"From: carol@example.net\r\nTo: alice@example.org\r\n"
       b"Subject: hello\r\n\r\nHello.\r\n")


def run(c, cmd):
    """Send one command line; (untagged lines, tagged text), literals
    written back inline as quoted strings, CRLFs taken off."""
    tag = c._new_tag().decode()
    if isinstance(cmd, str):
        cmd = cmd.encode()
    c.send(tag.encode() + b" " + cmd + b"\r\n")
    lines = []
    while True:
        line = c.readline()
        assert line, "connection closed"
        m = re.search(rb"\{(\d+)\}\r\n$", line)
        while m:
            line = line[:m.start()] + b'"' + c.read(int(m.group(1))) + b'"'
            more = c.readline()
            line += more
            m = re.search(rb"\{(\d+)\}\r\n$", line)
        if line.startswith(tag.encode() + b" "):
            return lines, line[len(tag) + 1:].rstrip(b"\r\n").decode()
        lines.append(line.rstrip(b"\r\n"))


def run_ok(c, cmd):
    lines, done = run(c, cmd)
    assert done.startswith("OK"), (cmd, done)
    return lines


def run_lits(c, head, parts):
    """A command with synchronising literals: head, then for each
    (literal, text after it) the literal once the server says "+"."""
    tag = c._new_tag().decode()
    c.send(f"{tag} {head}".encode())
    lines = []
    for lit, after in parts:
        c.send(b"{%d}\r\n" % len(lit))
        while True:
            line = c.readline()
            if line.startswith(b"+"):
                break
            if line.startswith(tag.encode() + b" "):
                return lines, line[len(tag) + 1:].rstrip().decode()
            lines.append(line.rstrip(b"\r\n"))
        c.send(lit + after)
    c.send(b"\r\n")
    while True:
        line = c.readline()
        if line.startswith(tag.encode() + b" "):
            return lines, line[len(tag) + 1:].rstrip().decode()
        lines.append(line.rstrip(b"\r\n"))


LIST_RE = re.compile(rb'^\* LIST \(([^)]*)\) "\." ("(?:[^"\\]|\\.)*"|\S+)'
                     rb'(?: \((.*)\))?$')


def listing(lines):
    """LIST responses as {name: (attrs, extended data)}, STATUS lines as
    {name: {item: value}}."""
    out, status = {}, {}
    for line in lines:
        if line.startswith(b"* STATUS "):
            m = re.match(rb'^\* STATUS ("(?:[^"\\]|\\.)*"|\S+) \((.*)\)$',
                         line)
            items = m.group(2).split()
            status[m.group(1).strip(b'"').decode()] = dict(
                zip([i.decode() for i in items[::2]],
                    [int(i) for i in items[1::2]]))
            continue
        m = LIST_RE.match(line)
        assert m, line
        name = m.group(2).strip(b'"').decode()
        assert name not in out, ("listed twice", line)
        out[name] = (frozenset(m.group(1).decode().lower().split()),
                     (m.group(3) or b"").decode().upper())
    return out, status


@pytest.fixture
def imapd(make_daemon):
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    return d


def caps(c):
    return set(run_ok(c, "CAPABILITY")[0].decode().upper().split()[2:])


# --- LIST-EXTENDED, LIST-STATUS, STATUS, CREATE-SPECIAL-USE ---

# The same folders and subscriptions on both servers: levels without a
# folder ("a", "a.b", "p"), a subscription whose mailbox went away
# ("gone"), a subscribed child of a level ("p.q").
SETUP = ["CREATE a.b.c", "CREATE x", "CREATE p.q", "CREATE gone",
         "SUBSCRIBE a.b.c", "SUBSCRIBE x", "SUBSCRIBE gone",
         "SUBSCRIBE p.q", "DELETE gone"]
STD = ["Sent", "Drafts", "Junk", "Trash", "Archive"]

LIST_CMDS = [
    'LIST "" *',
    'LIST "" %',
    'LIST () "" *',
    'LIST (SUBSCRIBED) "" *',
    'LIST (SUBSCRIBED) "" * RETURN (CHILDREN)',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" %',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" *',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" a',
    'LIST "" * RETURN (CHILDREN)',
    'LIST "" * RETURN (SUBSCRIBED)',
    'LIST "" * RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)',
    'LIST (SPECIAL-USE) "" *',
    'LIST (SPECIAL-USE) "" * RETURN (SUBSCRIBED)',
    'LIST (REMOTE) "" %',
    'LIST "" ("INBOX" "nope")',
    'LIST "" (x "a.*" x)',
    'LIST "a." %',
    'LIST "" * RETURN (STATUS (MESSAGES UIDNEXT UNSEEN SIZE))',
    'LIST (SUBSCRIBED) "" * RETURN (STATUS (MESSAGES SIZE))',
    'LIST "" "" RETURN ()',
]


def setup_both(c):
    for cmd in SETUP:
        run_ok(c, cmd)
    run_ok(c, "SELECT INBOX")
    for n in range(2):
        lines, done = run_lits(c, "APPEND x (\\Seen) ", [(MSG, b"")])
        assert done.startswith("OK"), done
    lines, done = run_lits(c, "APPEND x ", [(MSG, b"")])
    assert done.startswith("OK"), done


@pytest.fixture
def dovecot():
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    with tempfile.TemporaryDirectory(prefix="cachet-dovecot-") as base:
        d = DovecotImap(base)
        with open(d.conf, "a") as f:
            f.write("namespace inbox {\n  inbox = yes\n  separator = .\n")
            for n in STD:
                f.write(f"  mailbox {n} {{\n    special_use = \\{n}\n"
                        "  }\n")
            f.write("}\n")
        d.start()
        try:
            yield d
        finally:
            d.stop()


def test_list_extended_as_dovecot(imapd, dovecot):
    ours = imap_login(imapd, ALICE, ALICE_PW)
    theirs = dovecot.connect()
    for n in STD:
        run_ok(theirs, f"CREATE {n}")   # the mda made ours
    setup_both(ours)
    setup_both(theirs)
    for cmd in LIST_CMDS:
        a = listing(run_ok(ours, cmd))
        b = listing(run_ok(theirs, cmd))
        assert a == b, (cmd, a, b)
    # What Dovecot cannot do (subscribe to what does not exist) and
    # what the test above covers, checked for itself too.
    got, _ = listing(run_ok(ours, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" %'))
    assert got["p"] == (frozenset({"\\nonexistent"}),
                        'CHILDINFO ("SUBSCRIBED")')
    assert got["gone"][0] == {"\\subscribed", "\\nonexistent"}
    assert got["a"] == got["p"] and "a.b.c" not in got
    got, st = listing(run_ok(ours, 'LIST "" x RETURN (STATUS (MESSAGES '
                                   'UNSEEN SIZE DELETED))'))
    assert st == {"x": {"MESSAGES": 3, "UNSEEN": 1,
                        "SIZE": 3 * len(MSG), "DELETED": 0}}
    for bad in ['LIST (RECURSIVEMATCH) "" *', 'LIST (BOGUS) "" *',
                'LIST "" * RETURN (BOGUS)', 'LIST "" * RETURN (STATUS ())']:
        assert run(ours, bad)[1].startswith("BAD"), bad
        assert run(theirs, bad)[1].startswith("BAD"), bad
    # RFC 5258 §6 patterns: at least one (Dovecot takes none)
    assert run(ours, 'LIST "" ()')[1].startswith("BAD")


def test_capabilities(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    assert {"LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE",
            "CREATE-SPECIAL-USE"} <= caps(c)


def test_lsub_unchanged(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    for cmd in SETUP:
        run_ok(c, cmd)
    lines = run_ok(c, 'LSUB "" *')
    assert sorted(lines) == [b'* LSUB () "." "a.b.c"',
                             b'* LSUB () "." "gone"',
                             b'* LSUB () "." "p.q"', b'* LSUB () "." "x"']


def test_status_size_deleted_appendlimit(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    run_ok(c, "CREATE box")
    for flags in ("(\\Deleted)", "(\\Seen)"):
        _, done = run_lits(c, f"APPEND box {flags} ", [(MSG, b"")])
        assert done.startswith("OK")
    limit = [x for x in caps(c) if x.startswith("APPENDLIMIT=")][0]
    lines = run_ok(c, "STATUS box (MESSAGES SIZE DELETED APPENDLIMIT "
                      "UNSEEN)")
    assert lines == [b"* STATUS \"box\" (MESSAGES 2 UNSEEN 1 SIZE %d DELETED 1 "
                     b"APPENDLIMIT %s)" % (2 * len(MSG),
                                           limit.split("=")[1].encode())]
    assert run(c, "STATUS box (BOGUS)")[1].startswith("BAD")


def test_create_special_use(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    run_ok(c, "CREATE Old (USE (\\Archive))")
    run_ok(c, "CREATE Bin (USE (\\Trash \\Junk))")
    done = run(c, "CREATE Odd (USE (\\Bogus))")[1]
    assert done.startswith("NO [USEATTR]"), done
    done = run(c, "CREATE All (USE (\\All))")[1]
    assert done.startswith("NO [USEATTR]"), done
    assert run(c, "CREATE Odd (COLOR (red))")[1].startswith("BAD")
    got, _ = listing(run_ok(c, 'LIST (SPECIAL-USE) "" *'))
    assert got["Old"][0] == {"\\archive"}
    assert got["Bin"][0] == {"\\trash", "\\junk"}
    # the mda's folders keep theirs
    for n in STD:
        assert got[n][0] == {"\\" + n.lower()}
    assert "Odd" not in listing(run_ok(c, 'LIST "" *'))[0]
    assert "All" not in listing(run_ok(c, 'LIST "" *'))[0]
    # kept in the folder: a RENAME takes it along
    run_ok(c, "RENAME Old Older")
    got, _ = listing(run_ok(c, 'LIST "" Older'))
    assert "\\archive" in got["Older"][0]
    path = os.path.join(mailbox_path(imapd, ALICE), ".Older",
                        "cachet-folder")
    with open(path) as f:
        assert "use \\Archive\n" in f.read()


# --- MULTIAPPEND ---

def uids_of(c, box):
    run_ok(c, f"EXAMINE {box}")
    lines = run_ok(c, "UID SEARCH ALL")
    return [int(x) for x in lines[0].split()[2:]]


def test_multiappend_all_with_appenduid(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    assert "MULTIAPPEND" in caps(c)
    run_ok(c, "CREATE m")
    msgs = [MSG.replace(b"hello", b"m%d" % i) for i in range(3)]
    lines, done = run_lits(c, "APPEND m (\\Seen) ",
                           [(msgs[0], b' (\\Flagged) "01-Jan-2020 10:00:00 '
                                      b'+0000" '),
                            (msgs[1], b" "), (msgs[2], b"")])
    assert done.startswith("OK [APPENDUID "), done
    uv, uidset = done.split()[2], done.split()[3].rstrip("]")
    st = run_ok(c, "STATUS m (UIDVALIDITY MESSAGES)")[0]
    assert st == b"* STATUS \"m\" (MESSAGES 3 UIDVALIDITY %s)" % uv.encode()
    assert uidset == "1:3"
    run_ok(c, "SELECT m")
    got = run_ok(c, "FETCH 1:3 (FLAGS INTERNALDATE BODY.PEEK[])")
    assert b"\\Seen" in got[0] and b"\\Flagged" in got[1]
    assert b'"01-Jan-2020 10:00:00 +0000"' in got[1]
    for i in range(3):
        assert msgs[i] in got[i]


def test_multiappend_all_or_nothing(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    run_ok(c, "CREATE m")
    # the second message names a flag that cannot be stored: BAD, and
    # neither is stored
    lines, done = run_lits(c, "APPEND m ", [(MSG, b" (\\Recent) "),
                                           (MSG, b"")])
    assert done.startswith("BAD"), done
    assert uids_of(c, "m") == []
    # over the quota together, though each fits: NO [OVERQUOTA], none
    imapd.ctl("user", "set", ALICE, "quota", "1K")
    c2 = imap_login(imapd, ALICE, ALICE_PW)
    big = MSG + b"x" * 400 + b"\r\n"
    lines, done = run_lits(c2, "APPEND m ", [(big, b" "), (big, b" "),
                                            (big, b"")])
    assert done.startswith("NO [OVERQUOTA]"), done
    assert uids_of(c2, "m") == []
    box = os.path.join(mailbox_path(imapd, ALICE), ".m")
    assert os.listdir(os.path.join(box, "cur")) == []
    lines, done = run_lits(c2, "APPEND m ", [(big, b"")])
    assert done.startswith("OK [APPENDUID"), done
    assert len(os.listdir(os.path.join(box, "cur"))) == 1


def test_multiappend_larger_than_appendlimit_together(imapd):
    """Each message within APPENDLIMIT, both together over it (and
    within the 64 MiB a MULTIAPPEND may hold): stored, the worker
    alive (a reader ceiling of one APPENDLIMIT once ended it)."""
    c = imap_login(imapd, ALICE, ALICE_PW)
    limit = int([x for x in caps(c) if x.startswith("APPENDLIMIT=")][0]
                .split("=")[1])
    body = MSG + (b"y" * 998 + b"\r\n") * (limit // 2 // 1000 + 100)
    assert limit // 2 < len(body) < limit
    lines, done = run_lits(c, "APPEND INBOX ", [(body, b" "), (body, b"")])
    assert done.startswith("OK [APPENDUID"), done
    assert run_ok(c, "STATUS INBOX (MESSAGES)") == [
        b'* STATUS "INBOX" (MESSAGES 2)']


def test_multiappend_failure_half_way_takes_back(imapd):
    """The folder on a 32 KiB tmpfs: the first message is stored, the
    second fills the file system; the first is taken back."""
    c = imap_login(imapd, ALICE, ALICE_PW)
    run_ok(c, "CREATE m")
    box = os.path.join(mailbox_path(imapd, ALICE), ".m")
    pw = pwd.getpwnam(MAIL_USER)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32k,mode=0700",
                    "tmpfs", box], check=True)
    try:
        os.chown(box, pw.pw_uid, pw.pw_gid)
        for d in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(box, d), 0o700)
            os.chown(os.path.join(box, d), pw.pw_uid, pw.pw_gid)
        big = MSG + b"z" * 100000 + b"\r\n"
        lines, done = run_lits(c, "APPEND m ", [(MSG, b" "), (big, b"")])
        assert done.startswith("NO [OVERQUOTA]"), done
        for d in ("cur", "new", "tmp"):
            assert os.listdir(os.path.join(box, d)) == [], d
        assert run_ok(c, "STATUS m (MESSAGES)") == [
            b'* STATUS "m" (MESSAGES 0)']
        # and with room for both, both
        lines, done = run_lits(c, "APPEND m ", [(MSG, b" "), (MSG, b"")])
        assert done.startswith("OK [APPENDUID"), done
    finally:
        subprocess.run(["umount", "-l", box], check=True)


# --- QUOTA ---

def test_quota(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    assert {"QUOTA", "QUOTA=RES-STORAGE"} <= caps(c)
    assert "QUOTASET" not in caps(c)
    # no quota: no root
    assert run_ok(c, "GETQUOTAROOT INBOX") == [b'* QUOTAROOT "INBOX"']
    assert run(c, 'GETQUOTA ""')[1].startswith("NO")
    imapd.ctl("user", "set", ALICE, "quota", "4K")
    c = imap_login(imapd, ALICE, ALICE_PW)     # lookup tells at login
    assert run_ok(c, "GETQUOTAROOT INBOX") == [
        b'* QUOTAROOT "INBOX" ""', b'* QUOTA "" (STORAGE 0 4)']
    big = MSG + b"y" * 1500 + b"\r\n"
    for n in range(2):
        _, done = run_lits(c, "APPEND INBOX (\\Deleted) ", [(big, b"")])
        assert done.startswith("OK"), done
    size = 2 * len(big.replace(b"\r\n", b"\n"))
    # lookup is told, for its quota check at RCPT (as the mda tells it);
    # the report travels on its own, so wait for it (at most 5 s)
    deadline = time.monotonic() + 5
    while True:
        out = imapd.ctl("user", "show", ALICE).stdout
        if f"usage: {size}\n" in out or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert f"usage: {size}\n" in out, out
    assert run_ok(c, 'GETQUOTA ""') == [
        b'* QUOTA "" (STORAGE %d 4)' % (size // 1024)]
    st = run_ok(c, "STATUS INBOX (DELETED-STORAGE)")
    assert st == [b"* STATUS \"INBOX\" (DELETED-STORAGE %d)" % (size // 1024)]
    # the third goes over: APPEND and COPY refused, MOVE allowed
    _, done = run_lits(c, "APPEND INBOX ", [(big, b"")])
    assert done.startswith("NO [OVERQUOTA]"), done
    run_ok(c, "SELECT INBOX")
    assert run(c, "COPY 1 Trash")[1].startswith("NO [OVERQUOTA]")
    assert run_ok(c, "MOVE 1 Trash")
    assert run(c, 'SETQUOTA "" (STORAGE 100)')[1].startswith("NO")
    assert run(c, "GETQUOTAROOT nothere")[1].startswith("NO [NONEXISTENT]")
    # the moved one stays counted in Trash, the expunged one is gone
    run_ok(c, "EXPUNGE")
    assert run_ok(c, 'GETQUOTA ""') == [
        b'* QUOTA "" (STORAGE %d 4)' % (size // 2 // 1024)]


# --- OBJECTID ---

def test_objectid(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    assert "OBJECTID" in caps(c)
    done = run(c, "CREATE ids")[1]
    m = re.match(r"OK \[MAILBOXID \((F[0-9a-f]{32})\)\]", done)
    assert m, done
    boxid = m.group(1)
    st = run_ok(c, "STATUS ids (MAILBOXID)")
    assert st == [b'* STATUS "ids" (MAILBOXID (%s))' % boxid.encode()]
    inbox = run_ok(c, "STATUS INBOX (MAILBOXID)")[0]
    assert boxid.encode() not in inbox
    # RENAME keeps it (RFC 8474 §4.2); SELECT names it
    run_ok(c, "RENAME ids ids2")
    lines = run_ok(c, "SELECT ids2")
    assert b"* OK [MAILBOXID (%s)] Ok" % boxid.encode() in lines
    for n in range(2):
        _, done = run_lits(c, "APPEND ids2 ", [(MSG + b"%d\r\n" % n, b"")])
        assert done.startswith("OK"), done
    run_ok(c, "NOOP")
    got = run_ok(c, "FETCH 1:2 (EMAILID THREADID)")
    ids = [re.search(rb"EMAILID \((M[0-9a-f]{24})\) THREADID NIL", g)
           for g in got]
    assert all(ids), got
    e1, e2 = ids[0].group(1), ids[1].group(1)
    assert e1 != e2
    # stable: flags change the file name, not the id
    run_ok(c, "STORE 1 +FLAGS (\\Flagged)")
    assert e1 in run_ok(c, "FETCH 1 (EMAILID)")[0]
    assert run_ok(c, f"SEARCH EMAILID {e2.decode()}") == [b"* SEARCH 2"]
    assert run_ok(c, "SEARCH THREADID T1") == [b"* SEARCH"]
    # MOVE and COPY keep the EMAILID (RFC 8474 §5.1), a copy of a copy
    # too; the copy is a message of its own (its own UID, its own file)
    run_ok(c, "COPY 2 INBOX")
    run_ok(c, "MOVE 1 INBOX")
    run_ok(c, "SELECT INBOX")
    got = run_ok(c, "FETCH 1:* (UID EMAILID)")
    assert len(got) == 2 and e2 in got[0] and e1 in got[1], got
    run_ok(c, "COPY 1 Trash")
    run_ok(c, "SELECT Trash")
    assert e2 in run_ok(c, "FETCH 1 (EMAILID)")[0]
    run_ok(c, "SELECT ids2")
    assert run_ok(c, f"SEARCH EMAILID {e2.decode()}") == [b"* SEARCH 1"]


# --- modified UTF-7 names, UTF8=ACCEPT ---

# (name as a rev1 client sends it, we take it, Dovecot takes it)
MUTF7_NAMES = [
    ("Entw&APw-rfe", True, True),
    ("&ZeVnLIqe-", True, True),
    ("a&-b", True, True),
    ("&2D3eAA-", True, True),
    ("bad&AGE-", False, False),   # "a" must be written directly
    ("bad&AOk", False, False),    # no "-"
    # Leftover bits not zero: RFC 2152 (which RFC 3501 §5.1.3 builds
    # on) has them zero; Dovecot drops them.  Taking them would give one
    # folder two names, so we refuse.
    ("bad&AOl-", False, True),
    ("bad&2D0-", False, False),   # a lone surrogate
    ("bad&-&", False, False),
]


def test_mutf7_names_as_dovecot(imapd, dovecot):
    ours = imap_login(imapd, ALICE, ALICE_PW)
    theirs = dovecot.connect()
    for n in STD:
        run_ok(theirs, f"CREATE {n}")   # the mda made ours
    for name, valid, dv_valid in MUTF7_NAMES:
        a = run(ours, f'CREATE "{name}"')[1]
        b = run(theirs, f'CREATE "{name}"')[1]
        assert a.startswith("OK") == valid, (name, a)
        assert b.startswith("OK") == dv_valid, (name, b)
        if dv_valid and not valid:
            run_ok(theirs, f'DELETE "{name}"')
    # 8-bit in a rev1 session is no modified UTF-7
    assert run(ours, 'CREATE "Entw\u00fcrfe"')[1].startswith("NO")
    assert run(ours, 'RENAME "a&-b" "x&AGE-"')[1].startswith("NO")
    for cmd in ['LIST "" *', 'LIST "" "Entw&APw-*"']:
        assert listing(run_ok(ours, cmd)) == listing(run_ok(theirs, cmd))
    box = mailbox_path(imapd, ALICE)
    assert os.path.isdir(os.path.join(box, ".Entw&APw-rfe"))


def run_utf8_append(c, head, msg):
    """APPEND ... UTF8 (~{n}) with its synchronising literal8."""
    tag = c._new_tag().decode()
    c.send(f"{tag} {head} UTF8 (~{{{len(msg)}}}\r\n".encode())
    line = c.readline()
    if not line.startswith(b"+"):
        return line[len(tag) + 1:].rstrip().decode()
    c.send(msg + b")\r\n")
    while True:
        line = c.readline()
        if line.startswith(tag.encode() + b" "):
            return line[len(tag) + 1:].rstrip().decode()


def test_utf8_accept(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    assert "UTF8=ACCEPT" in caps(c)
    run_ok(c, 'CREATE "Entw&APw-rfe"')
    umsg = ("From: J\u00f6rg <j\u00f6rg@example.org>\r\nSubject: "
            "gr\u00fc\u00dfe\r\n\r\nHallo.\r\n").encode()
    # UTF8 (...) only once enabled (RFC 6855 §4)
    assert run_utf8_append(c, "APPEND INBOX", umsg).startswith("BAD")
    assert run_ok(c, "ENABLE UTF8=ACCEPT") == [b"* ENABLED UTF8=ACCEPT"]
    got, _ = listing(run_ok(c, 'LIST "" *'))
    assert "Entw\u00fcrfe" in got
    # UTF-8 names in, modified UTF-7 on disk
    run_ok(c, 'CREATE "\u65e5\u672c\u8a9e"')
    box = mailbox_path(imapd, ALICE)
    assert os.path.isdir(os.path.join(box, ".&ZeVnLIqe-"))
    st = run_ok(c, 'STATUS "\u65e5\u672c\u8a9e" (MESSAGES)'
                )
    assert st == ['* STATUS "\u65e5\u672c\u8a9e" (MESSAGES 0)'.encode()]
    done = run_utf8_append(c, 'APPEND "\u65e5\u672c\u8a9e" (\\Seen)'
                           , umsg)
    assert done.startswith("OK [APPENDUID"), done
    run_ok(c, 'SELECT "\u65e5\u672c\u8a9e"')
    assert umsg in run_ok(c, "FETCH 1 BODY.PEEK[]")[0]
    assert run(c, b'CREATE "\xff"')[1].startswith("BAD")
    # a rev1 session sees the same folder in modified UTF-7
    c2 = imap_login(imapd, ALICE, ALICE_PW)
    got, _ = listing(run_ok(c2, 'LIST "" *'))
    assert "&ZeVnLIqe-" in got and "Entw&APw-rfe" in got
