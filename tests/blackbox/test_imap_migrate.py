"""Moving from Dovecot: a private Dovecot (dovecot_imap.py) fills a
Maildir over IMAP (APPENDs with flags and keywords, STOREs, EXPUNGEs
that leave gaps in the UIDs, a second folder), its answers to `UID
FETCH 1:* (UID FLAGS)` and `STATUS (MESSAGES UIDVALIDITY UIDNEXT)` are
noted, then cachet serves a copy of that Maildir (owned by the mailbox
user, Dovecot's dovecot-uidlist and dovecot-keywords in it, no
cachet-uidlist) and must answer the same: same UIDVALIDITY, UIDs, next
UID, flags and keywords, so that a client does not fetch everything
again.  A message that arrives after the move gets Dovecot's next UID.
And back: Dovecot serving a Maildir cachet wrote shows the same flags
and keywords."""

import os
import pwd
import re
import shutil
import tempfile

import pytest

from conftest import imap_login
from dovecot_imap import DOVECOT, DovecotImap
from test_pop3 import ALICE, ALICE_PW, MAIL_USER, mailbox_path, put_message


def msg(i):
    return (f"From: sender{i}@example.net\r\nTo: corpus@example.org\r\n"
            f"Subject: message {i}\r\nMessage-ID: <m{i}@example.net>\r\n"
            f"\r\nbody {i}\r\n").encode()


# (folder, APPEND flags); None: no flags
APPENDS = [
    ("INBOX", "(\\Seen $Label1)"),
    ("INBOX", None),
    ("INBOX", "(\\Flagged $Forwarded $Label2)"),
    ("INBOX", "(\\Seen)"),
    ("INBOX", "($Junk)"),
    ("INBOX", "(\\Answered \\Seen $MDNSent)"),
    ("INBOX", None),
    ("Lists", "($NotJunk)"),
    ("Lists", "(\\Seen)"),
    ("Lists", "($Label1 \\Draft)"),
]


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


def uid_flags(c, folder):
    """{uid: set of flags} by UID FETCH 1:* (UID FLAGS), \\Recent out."""
    ok(c.select(folder, readonly=True))
    out = {}
    for line in ok(c.uid("FETCH", "1:*", "(UID FLAGS)")):
        if line is None:
            continue
        uid = re.search(rb"\bUID (\d+)", line)
        flags = re.search(rb"\bFLAGS \(([^)]*)\)", line)
        assert uid and flags, line
        out[int(uid.group(1))] = set(flags.group(1).decode().split()) - \
            {"\\Recent"}
    ok(c.close())
    return out


def status(c, folder):
    data = ok(c.status(folder, "(MESSAGES UIDVALIDITY UIDNEXT)"))
    return {k.decode(): int(v) for k, v in
            re.findall(rb"(MESSAGES|UIDVALIDITY|UIDNEXT) (\d+)", data[0])}


def populate(v):
    ok(v.create("Lists"))
    for i, (folder, flags) in enumerate(APPENDS):
        ok(v.append(folder, flags, None, msg(i)))
    ok(v.select("INBOX"))
    # later changes, a keyword made by STORE, expunges: UID gaps
    ok(v.store("2", "+FLAGS", "(\\Seen $Label3)"))
    ok(v.store("4", "+FLAGS", "(\\Deleted)"))
    ok(v.store("5", "-FLAGS", "($Junk)"))
    ok(v.store("5", "+FLAGS", "(\\Deleted)"))
    ok(v.expunge())
    ok(v.close())
    ok(v.select("Lists"))
    ok(v.store("1", "+FLAGS", "(\\Deleted)"))
    ok(v.expunge())
    ok(v.close())


@pytest.fixture
def dovecot_maildir():
    """A Maildir Dovecot filled, and what Dovecot answered about it."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    with tempfile.TemporaryDirectory(prefix="cachet-migrate-") as base:
        dv = DovecotImap(base)
        dv.start()
        try:
            v = dv.connect()
            populate(v)
            seen = {f: (uid_flags(v, f), status(v, f))
                    for f in ("INBOX", "Lists")}
            v.logout()
        finally:
            dv.stop()
        yield dv.maildir, seen


def test_cachet_answers_as_dovecot_did(make_daemon, dovecot_maildir):
    src, seen = dovecot_maildir
    for f in ("dovecot-uidlist", "dovecot-keywords"):
        assert os.path.exists(os.path.join(src, f)), os.listdir(src)
    # what was tested is what Dovecot made: gaps, keywords, two folders
    inbox_uids = sorted(seen["INBOX"][0])
    assert len(inbox_uids) == 5 and inbox_uids != list(range(1, 6))
    assert any(k.startswith("$") for fl in seen["INBOX"][0].values()
               for k in fl)

    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    mb = mailbox_path(d, ALICE)
    os.makedirs(os.path.dirname(mb), exist_ok=True)
    shutil.copytree(src, mb, symlinks=True)
    pw = pwd.getpwnam(MAIL_USER)
    for dirpath, _dirs, files in os.walk(os.path.dirname(mb)):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for fn in files:
            os.chown(os.path.join(dirpath, fn), pw.pw_uid, pw.pw_gid)
    assert not os.path.exists(os.path.join(mb, "cachet-uidlist"))

    c = imap_login(d, ALICE, ALICE_PW)
    for folder in ("INBOX", "Lists"):
        flags, st = seen[folder]
        assert status(c, folder) == st, folder
        assert uid_flags(c, folder) == flags, folder
    c.logout()
    # the cachet-uidlist now holds them: a second session agrees
    assert os.path.exists(os.path.join(mb, "cachet-uidlist"))
    c = imap_login(d, ALICE, ALICE_PW)
    assert uid_flags(c, "INBOX") == seen["INBOX"][0]

    # new mail after the move: the UID Dovecot would have given next
    put_message(d, ALICE, b"Subject: after\n\nmoved\n")
    st = status(c, "INBOX")
    assert st["UIDNEXT"] == seen["INBOX"][1]["UIDNEXT"] + 1
    assert st["UIDVALIDITY"] == seen["INBOX"][1]["UIDVALIDITY"]
    assert max(uid_flags(c, "INBOX")) == seen["INBOX"][1]["UIDNEXT"]
    c.logout()


def subject_flags(c):
    """{subject: set of flags} of the selected folder, \\Recent out."""
    out = {}
    data = ok(c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    for item in data:
        if not isinstance(item, tuple):
            continue
        flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
        subj = re.search(rb"Subject: (.*?)\r?\n", item[1])
        assert flags and subj, item
        out[subj.group(1).decode()] = \
            set(flags.group(1).decode().split()) - {"\\Recent"}
    return out


def test_dovecot_reads_the_keywords_cachet_wrote(make_daemon):
    """And back: the letters and dovecot-keywords cachet writes are what
    Dovecot reads."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    for i in range(4):
        put_message(d, ALICE, msg(i).replace(b"\r\n", b"\n"))
    c = imap_login(d, ALICE, ALICE_PW)
    ok(c.select("INBOX"))
    ok(c.store("1", "+FLAGS", "($Label1 $Junk)"))
    ok(c.store("2", "+FLAGS", "(\\Seen $label1 $Forwarded)"))
    ok(c.store("3", "+FLAGS", "(\\Flagged $NotJunk)"))
    ok(c.store("1", "-FLAGS", "($Junk)"))
    ours = subject_flags(c)
    c.logout()
    assert ours["message 1"] == {"\\Seen", "$Label1", "$Forwarded"}

    with tempfile.TemporaryDirectory(prefix="cachet-migrate-") as base:
        dv = DovecotImap(base)
        shutil.copytree(mailbox_path(d, ALICE), dv.maildir, symlinks=True,
                        dirs_exist_ok=True)
        dv.start()
        try:
            v = dv.connect()
            ok(v.select("INBOX", readonly=True))
            theirs = subject_flags(v)
            v.logout()
        finally:
            dv.stop()
    assert theirs == ours
