"""IMAP4rev2 (RFC 9051) after ENABLE IMAP4rev2, beside an IMAP4rev1
session on the same Maildir, and SEARCHRES's "$" (RFC 5182) in the
commands that change the mailbox (COPY, MOVE, STORE, UID EXPUNGE), as
imaplib transcripts against the running daemon.

What rev2 changes for a server (RFC 9051 Appendix E) and is checked
here: IMAP4rev2 announced and ENABLEd; SEARCH answers only in ESEARCH
form (no "* SEARCH"), also for UID SEARCH and with nothing found; no
\\Recent anywhere (no RECENT response at SELECT or when mail arrives, no
\\Recent in FLAGS, SEARCH RECENT/NEW/OLD and STATUS RECENT refused); no
UNSEEN response code at SELECT, which answers a LIST response for the
mailbox instead and [CLOSED] when it replaces a selected one; STATUS
DELETED; SORT and LSUB unchanged.  Dovecot 2.3 has no IMAP4rev2, so the
comparison with it (test_imap_sort_dovecot.py) is of rev2's SEARCH with
Dovecot's SEARCH RETURN (ALL)."""

import re

import pytest

from conftest import imap_login
from dovecot_imap import command
from test_pop3 import ALICE, ALICE_PW, put_message

MESSAGES = [
    b"From: carol@example.net\nTo: alice@example.org\nSubject: one\n\n"
    b"Hello.\n",
    b"From: dave@example.net\nTo: alice@example.org\nSubject: two\n\n"
    b"Second.\n",
    b"From: erin@example.net\nSubject: three\n\nthird\n",
]


@pytest.fixture
def imapd(make_daemon):
    """alice with three messages in new/ (recent for the first
    session)."""
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    for m in MESSAGES:
        put_message(d, ALICE, m)
    return d


def ok(conn, line):
    status, lines = command(conn, line)
    assert status == "OK", (line, status, lines)
    return lines


def rev2(d):
    c = imap_login(d, ALICE, ALICE_PW)
    assert ok(c, "ENABLE IMAP4rev2") == ["* ENABLED IMAP4rev2"]
    return c


def test_announced_and_enabled(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    caps = ok(c, "CAPABILITY")[0].upper().split()
    assert {"IMAP4REV1", "IMAP4REV2", "ESEARCH", "SEARCHRES", "SORT",
            "ESORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT",
            "THREAD=REFERENCES"} <= set(caps)
    assert command(c, "ENABLE IMAP4rev2 X-NONE")[1] == \
        ["* ENABLED IMAP4rev2"]
    # RFC 5161 §3.2: only what this command turned on
    assert ok(c, "ENABLE IMAP4rev2") == ["* ENABLED"]
    c.logout()


def test_rev2_select_fetch_search_status(imapd):
    c = rev2(imapd)
    lines = ok(c, "SELECT INBOX")
    assert "* 3 EXISTS" in lines
    assert '* LIST (\\HasNoChildren) "." "INBOX"' in lines
    assert not any("RECENT" in x or "[UNSEEN" in x for x in lines), lines
    assert any(x.startswith("* OK [UIDNEXT 4]") for x in lines)
    assert any(x.startswith("* OK [UIDVALIDITY ") for x in lines)
    # the three were in new/: recent for IMAP4rev1, nothing here
    flags = ok(c, "FETCH 1:* (FLAGS)")
    assert flags == ["* 1 FETCH (FLAGS ())", "* 2 FETCH (FLAGS ())",
                     "* 3 FETCH (FLAGS ())"]
    # SEARCH answers ESEARCH only, as RETURN (ALL) (RFC 9051 §6.4.4)
    assert ok(c, "SEARCH ALL") == ['* ESEARCH (TAG "TAG") ALL 1:3']
    assert ok(c, "UID SEARCH 2:*") == ['* ESEARCH (TAG "TAG") UID ALL 2:3']
    assert ok(c, "SEARCH SUBJECT nothing") == ['* ESEARCH (TAG "TAG")']
    assert ok(c, "UID SEARCH RETURN (COUNT MIN) SUBJECT t") == \
        ['* ESEARCH (TAG "TAG") UID MIN 2 COUNT 2']
    for key in ("RECENT", "NEW", "OLD", "NOT RECENT"):
        status, lines = command(c, "SEARCH " + key)
        assert status == "BAD" and lines == [], key
    # STATUS: RECENT is gone, DELETED is there
    assert command(c, "STATUS INBOX (MESSAGES RECENT)")[0] == "BAD"
    ok(c, "STORE 2 +FLAGS.SILENT (\\Deleted)")
    assert ok(c, "STATUS INBOX (MESSAGES DELETED)") == \
        ['* STATUS "INBOX" (MESSAGES 3 DELETED 1)']
    # SORT is RFC 5256's, not changed by rev2
    assert ok(c, "SORT (REVERSE SUBJECT) UTF-8 ALL") == ["* SORT 2 3 1"]
    # a delivery: EXISTS, no RECENT
    put_message(imapd, ALICE, b"Subject: four\n\nnew\n")
    assert ok(c, "NOOP") == ["* 4 EXISTS"]
    assert ok(c, "FETCH 4 (FLAGS)") == ["* 4 FETCH (FLAGS ())"]
    # SELECT over a selected one: [CLOSED] first, then its LIST
    lines = ok(c, "SELECT Trash")
    assert lines[0].startswith("* OK [CLOSED]"), lines
    assert '* LIST (\\HasNoChildren \\Trash) "." "Trash"' in lines
    ok(c, "UNSELECT")
    # LSUB stays (RFC 9051 §6.3.9: a server MAY keep it)
    ok(c, "LSUB \"\" *")
    c.logout()


def test_rev1_session_beside_it(imapd):
    c = rev2(imapd)
    ok(c, "EXAMINE INBOX")
    c1 = imap_login(imapd, ALICE, ALICE_PW)
    lines = ok(c1, "EXAMINE INBOX")
    assert "* 3 RECENT" in lines and "* OK [UNSEEN 1] First unseen" in lines
    assert not any(x.startswith("* LIST") for x in lines)
    assert ok(c1, "FETCH 1 (FLAGS)") == ["* 1 FETCH (FLAGS (\\Recent))"]
    assert ok(c1, "SEARCH RECENT") == ["* SEARCH 1 2 3"]
    assert ok(c1, "SEARCH ALL") == ["* SEARCH 1 2 3"]
    assert ok(c, "SEARCH ALL") == ['* ESEARCH (TAG "TAG") ALL 1:3']
    lines = ok(c1, "EXAMINE Trash")
    # [CLOSED] goes to every session, as Dovecot sends it (a rev1 client
    # ignores a response code it does not know, RFC 3501 §7.1)
    assert any("[CLOSED]" in x for x in lines)
    assert not any(x.startswith("* LIST") for x in lines)
    c1.logout()
    c.logout()


def test_searchres_in_commands_that_change_the_mailbox(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    ok(c, "SELECT INBOX")
    # before any SAVE, "$" is empty and harmless
    assert ok(c, "FETCH $ (UID)") == []
    assert ok(c, "SEARCH RETURN (SAVE) SUBJECT t") == []
    lines = command(c, "UID COPY $ Trash")
    assert lines[0] == "OK", lines
    assert ok(c, "STATUS Trash (MESSAGES)") == \
        ['* STATUS "Trash" (MESSAGES 2)']
    ok(c, "STORE $ +FLAGS.SILENT (\\Deleted)")
    assert ok(c, "SEARCH DELETED") == ["* SEARCH 2 3"]
    # only what "$" names goes, though more could be \Deleted
    ok(c, "STORE 1 +FLAGS.SILENT (\\Deleted)")
    ok(c, "UID STORE 3 -FLAGS.SILENT (\\Deleted)")
    assert ok(c, "UID EXPUNGE $") == ["* 2 EXPUNGE"]
    # the expunged one left "$"; the other stays in it
    assert ok(c, "UID FETCH $ (UID)") == ["* 2 FETCH (UID 3)"]
    assert ok(c, "UID SEARCH RETURN (SAVE) ALL") == []
    lines = ok(c, "MOVE $ Junk")
    assert lines[0].startswith("* OK [COPYUID "), lines
    assert lines[1:] == ["* 2 EXPUNGE", "* 1 EXPUNGE"], lines
    assert ok(c, "STATUS Junk (MESSAGES)") == ['* STATUS "Junk" (MESSAGES 2)']
    assert ok(c, "FETCH $ (UID)") == []
    # a SEARCH that fails with SAVE leaves "$" empty (RFC 5182 §2.1)
    ok(c, "SELECT Trash")
    assert ok(c, "SEARCH RETURN (SAVE COUNT) ALL") == \
        ['* ESEARCH (TAG "TAG") COUNT 2']
    assert ok(c, "SEARCH $") == ["* SEARCH 1 2"]
    status, _ = command(c, "SEARCH RETURN (SAVE) CHARSET KOI9 TEXT x")
    assert status == "NO"
    assert ok(c, "SEARCH $") == ["* SEARCH"]
    c.logout()


def test_esearch_sets_are_compressed(imapd):
    c = imap_login(imapd, ALICE, ALICE_PW)
    for i in range(7):
        put_message(imapd, ALICE, f"Subject: n{i}\n\nx\n".encode())
    ok(c, "SELECT INBOX")
    ok(c, "STORE 2,5,6 +FLAGS.SILENT (\\Seen)")
    lines = ok(c, "SEARCH RETURN (ALL COUNT) UNSEEN")
    assert lines == ['* ESEARCH (TAG "TAG") ALL 1,3:4,7:10 COUNT 7']
    lines = ok(c, "UID SEARCH RETURN (MIN MAX) SEEN")
    m = re.fullmatch(r'\* ESEARCH \(TAG "TAG"\) UID MIN (\d+) MAX (\d+)',
                     lines[0])
    assert m and (int(m[1]), int(m[2])) == (2, 6), lines
    c.logout()
