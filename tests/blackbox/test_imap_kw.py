"""IMAP keywords, black-box through imaplib: stored as Maildir letters
a-z named by the folder's dovecot-keywords file (Dovecot's format), so
that the file names and that file are what Dovecot and mutt read; FLAGS
and PERMANENTFLAGS at SELECT and again when a keyword is made; STORE
+FLAGS/-FLAGS/FLAGS, FETCH FLAGS, SEARCH KEYWORD/UNKEYWORD matched
without case and shown as first written; NO [LIMIT] past 26 keywords;
APPEND with keywords; COPY and MOVE map keywords by name into folders
that give them other letters; a POP3 RETR (which sets \\Seen) keeps
them; a damaged keywords file is rebuilt without losing a flag; another
session hears of a new keyword; moves into and out of Junk and $Junk /
$NotJunk reach the spam filter's hook (its debug line)."""

import os
import re
import time

import pytest

from conftest import imap_login
from test_pop3 import ALICE, ALICE_PW, login as pop3_login, mailbox_path, \
    put_message

MESSAGES = [
    b"From: a@example.net\nSubject: one\n\nfirst\n",
    b"From: b@example.net\nSubject: two\n\nsecond\n",
    b"From: c@example.net\nSubject: three\n\nthird\n",
]


@pytest.fixture
def kwd(make_daemon):
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    for m in MESSAGES:
        put_message(d, ALICE, m)
    return d


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


def flags_of(c, seq="1:*"):
    """{seq: set of flags} from FETCH FLAGS (\\Recent left out)."""
    out = {}
    for line in ok(c.fetch(seq, "(FLAGS)")):
        m = re.match(rb"(\d+) \(FLAGS \((.*?)\)", line)
        assert m, line
        out[int(m.group(1))] = set(m.group(2).decode().split()) - \
            {"\\Recent"}
    return out


def untagged(c, name):
    """The untagged responses of that name since last asked, decoded."""
    _, data = c.response(name)
    return [d.decode() for d in data if d is not None]


def keywords_file(d, folder=""):
    p = os.path.join(mailbox_path(d, ALICE), folder, "dovecot-keywords")
    with open(p) as f:
        return f.read()


def file_flags(d, folder=""):
    """The ':2,' letters of each file in cur/, sorted by name."""
    cur = os.path.join(mailbox_path(d, ALICE), folder, "cur")
    return [n.split(":2,", 1)[1] if ":2," in n else ""
            for n in sorted(os.listdir(cur))]


def test_store_fetch_search_keywords(kwd):
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.select("INBOX"))
    flags = untagged(c, "FLAGS")
    assert flags == ["(\\Answered \\Flagged \\Deleted \\Seen \\Draft)"]
    perm = untagged(c, "PERMANENTFLAGS")
    assert perm and perm[-1].endswith("\\*)"), perm

    ok(c.store("1", "+FLAGS", "($Label1 $Junk \\Flagged)"))
    # RFC 9051 §7.3.5: the new keywords are announced
    flags = untagged(c, "FLAGS")
    assert flags and flags[-1] == \
        "(\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1 $Junk)"
    assert keywords_file(kwd) == "0 $Label1\n1 $Junk\n"
    # the same keyword in another case: its letter, its first spelling
    ok(c.store("2", "+FLAGS", "($LABEL1)"))
    got = flags_of(c)
    assert got[1] == {"\\Flagged", "$Label1", "$Junk"}
    assert got[2] == {"$Label1"}
    assert got[3] == set()
    assert file_flags(kwd) == ["Fab", "a", ""]
    assert keywords_file(kwd) == "0 $Label1\n1 $Junk\n"

    assert ok(c.search(None, "KEYWORD", "$label1"))[0].split() == \
        [b"1", b"2"]
    assert ok(c.search(None, "UNKEYWORD", "$Junk"))[0].split() == \
        [b"2", b"3"]
    assert ok(c.uid("SEARCH", "KEYWORD", "$Nothing"))[0].split() == []

    ok(c.store("1", "-FLAGS", "($JUNK)"))
    assert flags_of(c, "1")[1] == {"\\Flagged", "$Label1"}
    # removing a keyword no message or file knows is fine
    ok(c.store("1", "-FLAGS", "($Nowhere)"))
    # FLAGS replaces the keywords too
    ok(c.store("2", "FLAGS", "(\\Seen $Forwarded)"))
    assert flags_of(c, "2")[2] == {"\\Seen", "$Forwarded"}
    ok(c.store("2", "FLAGS", "(\\Seen)"))
    assert flags_of(c, "2")[2] == {"\\Seen"}
    c.logout()

    # a new session sees the folder's keywords at SELECT
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.select("INBOX", readonly=True))
    flags = untagged(c, "FLAGS")
    assert flags[-1] == ("(\\Answered \\Flagged \\Deleted \\Seen \\Draft "
                         "$Label1 $Junk $Forwarded)")
    assert flags_of(c)[1] == {"\\Flagged", "$Label1"}
    c.logout()


def test_keyword_limit(kwd):
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.select("INBOX"))
    for i in range(0, 26, 13):
        ok(c.store("1", "+FLAGS",
                   "(" + " ".join(f"k{j}" for j in range(i, i + 13)) + ")"))
    assert len(flags_of(c, "1")[1]) == 26
    # RFC 9051 §7.1: no room for another one
    typ, data = c.store("2", "+FLAGS", "(k26)")
    assert typ == "NO" and b"[LIMIT]" in data[0], (typ, data)
    assert flags_of(c, "2")[2] == set()
    # the ones it has still work, and \* is gone
    ok(c.store("2", "+FLAGS", "(K25)"))
    assert flags_of(c, "2")[2] == {"k25"}
    ok(c.select("INBOX"))
    perm = untagged(c, "PERMANENTFLAGS")
    assert perm and "\\*" not in perm[-1], perm
    c.logout()


def test_append_copy_move_map_keywords_by_name(kwd):
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.create("Work"))
    # Work names 'a' $Other: INBOX's 'a' ($Label1) must not land on it
    ok(c.append("Work", "(\\Seen $Other)", None,
                b"Subject: w\r\n\r\nwork\r\n"))
    assert keywords_file(kwd, ".Work") == "0 $Other\n"
    ok(c.select("INBOX"))
    ok(c.store("1:2", "+FLAGS", "($Label1)"))
    ok(c.store("2", "+FLAGS", "($Junk)"))
    ok(c.copy("1", "Work"))
    ok(c.uid("MOVE", ok(c.fetch("2", "(UID)"))[0].split()[-1]
             .strip(b")").decode(), "Work"))
    ok(c.select("Work"))
    got = flags_of(c)
    assert got == {1: {"\\Seen", "$Other"}, 2: {"$Label1"},
                   3: {"$Label1", "$Junk"}}, got
    assert keywords_file(kwd, ".Work") == "0 $Other\n1 $Label1\n2 $Junk\n"
    assert sorted(file_flags(kwd, ".Work")) == ["Sa", "b", "bc"]
    # APPEND with a keyword Work knows and one it does not
    ok(c.append("Work", "($label1 $MDNSent)", None,
                b"Subject: x\r\n\r\nx\r\n"))
    ok(c.noop())
    assert flags_of(c, "4")[4] == {"$Label1", "$MDNSent"}
    c.logout()


def test_keywords_survive_pop3_retr(kwd):
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.select("INBOX"))
    ok(c.store("1:3", "+FLAGS", "($Forwarded)"))
    c.logout()
    p = pop3_login(kwd)
    p.retr(2)
    p.quit()
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.select("INBOX"))
    got = flags_of(c)
    assert got[2] == {"\\Seen", "$Forwarded"}
    assert got[1] == got[3] == {"$Forwarded"}
    c.logout()


def test_damaged_keywords_file_is_rebuilt(kwd):
    mb = mailbox_path(kwd, ALICE)
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.select("INBOX"))
    ok(c.store("1", "+FLAGS", "(\\Seen \\Answered $A $B)"))
    c.logout()
    with open(os.path.join(mb, "dovecot-keywords"), "w") as f:
        f.write("garbage line\n1 $B\n")
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.select("INBOX"))
    # the lost name of 'a' becomes Dovecot's "unknown-0"; no flag is lost
    assert flags_of(c, "1")[1] == {"\\Seen", "\\Answered", "unknown-0",
                                   "$B"}
    assert keywords_file(kwd) == "0 unknown-0\n1 $B\n"
    c.logout()


def test_other_session_sees_new_keyword(kwd):
    a = imap_login(kwd, ALICE, ALICE_PW)
    b = imap_login(kwd, ALICE, ALICE_PW)
    ok(a.select("INBOX"))
    ok(b.select("INBOX"))
    untagged(a, "FLAGS")
    ok(b.store("3", "+FLAGS", "($Important)"))
    ok(a.noop())
    # the new keyword's FLAGS, then the message's new flags
    flags = untagged(a, "FLAGS")
    assert flags and flags[-1].endswith(" $Important)"), flags
    fetches = [f for f in untagged(a, "FETCH") if "FLAGS" in f]
    assert any("$Important" in f for f in fetches), fetches
    a.logout()
    b.logout()


def wait_log(d, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in d.read_log():
            return True
        time.sleep(0.1)
    return False


def test_junk_actions_reach_the_spam_hook(kwd):
    c = imap_login(kwd, ALICE, ALICE_PW)
    ok(c.select("INBOX"))
    ok(c.store("1", "+FLAGS", "($Junk)"))
    assert wait_log(kwd, "mailbox=INBOX uid=1 verdict=spam cause=store")
    ok(c.store("3", "+FLAGS", "($NotJunk)"))
    assert wait_log(kwd, "mailbox=INBOX uid=3 verdict=ham cause=store")
    ok(c.uid("MOVE", "2", "Junk"))
    assert wait_log(kwd, "mailbox=Junk uid=2 verdict=spam cause=move")
    ok(c.select("Junk"))
    ok(c.copy("1", "INBOX"))
    assert wait_log(kwd, "mailbox=INBOX uid=1 verdict=ham cause=copy")
    # deleting spam says nothing about it
    ok(c.uid("MOVE", "1", "Trash"))
    time.sleep(0.5)
    assert "mailbox=Trash" not in kwd.read_log()
    c.logout()
