"""SORT, THREAD, ESEARCH and SEARCHRES of the running daemon against a
private Dovecot (dovecot_imap.py) over the same mailbox.

The messages of test_imap_search_dovecot.py and a few more (base
subjects with "[fwd: ...]", "Re[2]:" and stacked "Re: Re: Fw:", threads
made by In-Reply-To alone, roots whose date order is not their mailbox
order) are APPENDed in the same order with the same
internal dates to cachet and to Dovecot, so sequence numbers and UIDs
agree.  Then every SORT and THREAD command below (and its UID form), the
ESEARCH answers of SEARCH RETURN (...), and SEARCHRES transcripts ($
saved, used by FETCH/STORE/SEARCH/UID forms, reset by UNSELECT, emptied
by a failed SEARCH) must answer alike; a tag in an answer is read as
TAG.  Where the two differ on purpose DIFFERENT says why, and a listed
difference that goes away fails.
"""

import os
import random
import tempfile

import pytest

from conftest import imap_login
from dovecot_imap import DOVECOT, DovecotImap, command
from test_imap_search_dovecot import MESSAGES as BASE, MTIMES as BASE_T, msg
from test_pop3 import ALICE, ALICE_PW, put_message, wire

EXTRA = [
    msg(11, "Message-ID: <k@x>\nFrom: Greta <greta@example.org>\n"
        "To: a-zed@example.org\nSubject: [fwd: Weekly report]\n"
        "In-Reply-To: <h@x>\nDate: Sat, 6 Jan 2024 11:00:00 +0000\n"),
    msg(12, "Message-ID: <l@x>\nFrom: Dave <dave@example.org>\n"
        "To: eve@example.net\nSubject: Re: Re: Fw: lunch\n"
        "In-Reply-To: <g@x> <f@x>\n"
        "Date: Thu, 4 Jan 2024 13:00:00 +0000\n"),
    msg(13, "Message-ID: <m@x>\nFrom: bob@example.net\n"
        "To: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\n"
        "Subject: =?utf-8?q?Re[2]:_Caf=C3=A9_tomorrow?=\n"
        "In-Reply-To: <d@x>\nDate: Wed, 3 Jan 2024 15:00:00 +0000\n"),
    msg(14, "Message-ID: <n@x>\nFrom: carol@example.com\n"
        "To: alice@example.org\nSubject: Project plan\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"),
    # RFC 5256 §3 step 4: the roots in date order before the subjects
    # are gathered (the reply of the 7th goes under the original of the
    # 8th, which shares a dummy with the later one of the 12th)
    msg(15, "Message-ID: <o@x>\nFrom: a@example.org\nSubject: budget\n"
        "Date: Fri, 12 Jan 2024 10:00:00 +0000\n"),
    msg(16, "Message-ID: <p@x>\nFrom: b@example.org\n"
        "Subject: Re: budget\nDate: Sun, 7 Jan 2024 10:00:00 +0000\n"),
    msg(17, "Message-ID: <q@x>\nFrom: c@example.org\nSubject: budget\n"
        "Date: Mon, 8 Jan 2024 10:00:00 +0000\n"),
    msg(18, "Message-ID: <r@x>\nFrom: =?utf-8?q?=C3=89mile?= <e@example.org>\n"
        "To: =?utf-8?q?=C3=A9quipe?= <team@example.org>\nSubject: menu\n"
        "Date: Tue, 9 Jan 2024 10:00:00 +0000\n"),
]
MESSAGES = BASE + EXTRA
MTIMES = BASE_T + [1704400000 + 7777 * i for i in range(len(EXTRA))]

SORTS = [
    "SORT (ARRIVAL) UTF-8 ALL",
    "SORT (REVERSE ARRIVAL) UTF-8 ALL",
    "SORT (DATE) UTF-8 ALL",
    "SORT (REVERSE DATE) UTF-8 ALL",
    "SORT (SUBJECT) UTF-8 ALL",
    "SORT (SUBJECT REVERSE DATE) UTF-8 ALL",
    "SORT (REVERSE SUBJECT ARRIVAL) UTF-8 ALL",
    "SORT (FROM) UTF-8 ALL",
    "SORT (TO DATE) UTF-8 ALL",
    "SORT (CC) UTF-8 ALL",
    "SORT (SIZE) UTF-8 ALL",
    "SORT (REVERSE SIZE) UTF-8 ALL",
    "SORT (DISPLAYFROM) UTF-8 ALL",
    "SORT (DISPLAYTO) UTF-8 ALL",
    "SORT (SUBJECT) US-ASCII NOT SUBJECT lunch",
    "SORT (DATE) UTF-8 SUBJECT plan",
    "SORT (SUBJECT) UTF-8 2:9",
    "SORT (DATE) UTF-8 SUBJECT nothing-matches",
    "THREAD REFERENCES UTF-8 ALL",
    "THREAD ORDEREDSUBJECT UTF-8 ALL",
    "THREAD REFERENCES UTF-8 NOT FROM alice",
    "THREAD REFERENCES UTF-8 SUBJECT lunch",
    "THREAD ORDEREDSUBJECT UTF-8 SUBJECT report",
    "THREAD REFERENCES UTF-8 SUBJECT nothing-matches",
    "THREAD REFERENCES UTF-8 SUBJECT budget",
]
SORTS += ["UID " + c for c in SORTS]

ESEARCHES = [
    # ESORT (RFC 5267 §3.2): MIN, MAX and ALL in the sort's order
    "SORT RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 ALL",
    "SORT RETURN (MIN MAX ALL COUNT) (REVERSE ARRIVAL) UTF-8 ALL",
    "UID SORT RETURN () (SUBJECT) UTF-8 ALL",
    "UID SORT RETURN (MAX COUNT) (REVERSE SIZE) UTF-8 NOT SUBJECT plan",
    "SORT RETURN (MIN MAX ALL) (DATE) UTF-8 SUBJECT nothing-matches",
    "SEARCH RETURN (MIN MAX COUNT ALL) ALL",
    "SEARCH RETURN () SUBJECT plan",
    "SEARCH RETURN (ALL) OR SUBJECT lunch SUBJECT report",
    "SEARCH RETURN (COUNT) FROM nobody-at-all",
    "SEARCH RETURN (MIN MAX ALL) SUBJECT nothing-matches",
    "SEARCH RETURN (MIN) SUBJECT lunch",
    "SEARCH RETURN (MAX COUNT) CHARSET UTF-8 NOT SUBJECT plan",
    "UID SEARCH RETURN (MIN MAX COUNT ALL) NOT SUBJECT plan",
    "UID SEARCH RETURN (ALL) 3:7",
    "UID SEARCH RETURN (COUNT) SUBJECT nothing-matches",
]

# Transcripts: each list runs in one session, in order ("$" is the
# session's).
SEARCHRES = [
    ["SEARCH RETURN (SAVE) SUBJECT plan", "FETCH $ (UID)",
     "UID SEARCH UID $", "SEARCH $ FROM carol", "UID FETCH $ (UID)",
     "SEARCH RETURN (SAVE ALL) SUBJECT lunch", "UID SEARCH $"],
    ["SEARCH RETURN (SAVE MIN MAX) SUBJECT plan", "UID FETCH $ (UID)",
     "SEARCH RETURN (SAVE MIN) SUBJECT report", "FETCH $ (UID)",
     "SEARCH RETURN (SAVE COUNT MAX) SUBJECT report", "FETCH $ (UID)",
     "UID SEARCH RETURN (SAVE MAX) ALL", "SEARCH $"],
    ["SEARCH RETURN (SAVE) SUBJECT lunch",
     "STORE $ +FLAGS.SILENT (\\Flagged)", "SEARCH FLAGGED",
     "UID STORE $ -FLAGS.SILENT (\\Flagged)", "SEARCH FLAGGED"],
    ["SEARCH RETURN (SAVE) ALL", "UNSELECT", "SELECT INBOX",
     "FETCH $ (UID)", "UID SEARCH UID $"],
    ["SEARCH RETURN (SAVE) ALL",
     "SEARCH RETURN (SAVE) CHARSET X-NO-SUCH-CHARSET SUBJECT x",
     "UID SEARCH UID $"],
    # SAVE in SORT RETURN: MIN/MAX are the sort's first and last
    ["SORT RETURN (SAVE MIN) (REVERSE DATE) UTF-8 ALL", "SEARCH $",
     "UID SORT RETURN (SAVE MAX MIN) (SUBJECT) UTF-8 ALL", "FETCH $ (UID)",
     "SORT RETURN (SAVE) (REVERSE DATE) UTF-8 SUBJECT plan", "SEARCH $",
     "SORT (SIZE) UTF-8 $"],
]

# Commands whose answers differ on purpose: command -> why.
EMPTY_THREAD = ("no thread: Dovecot answers \"* THREAD \" with a space "
                "before nothing; RFC 5256 §4 has thread-data = \"THREAD\" "
                "[SP 1*thread-list], so without threads no SP")
COLLATION = ("the display names \u00c9mile and \u00e9quipe: we compare "
             "by i;ascii-casemap (RFC 5256 §2.1 and §3: octets, a-z as "
             "A-Z), so \u00c9 (C3 89) and \u00e9 (C3 A9) come after "
             "every ASCII letter; Dovecot announces I18NLEVEL=1 and sorts "
             "by i;unicode-casemap (RFC 5255 §4.3), where they are E and "
             "a combining accent")
DIFFERENT = {
    "THREAD REFERENCES UTF-8 SUBJECT nothing-matches": EMPTY_THREAD,
    "UID THREAD REFERENCES UTF-8 SUBJECT nothing-matches": EMPTY_THREAD,
    "SORT (DISPLAYFROM) UTF-8 ALL": COLLATION,
    "UID SORT (DISPLAYFROM) UTF-8 ALL": COLLATION,
    "SORT (DISPLAYTO) UTF-8 ALL": COLLATION,
    "UID SORT (DISPLAYTO) UTF-8 ALL": COLLATION,
}


def answer(conn, line, verbs):
    """The status and the untagged lines that answer a command (those of
    the verbs given, e.g. SORT; numbers first for FETCH)."""
    status, lines = command(conn, line)
    keep = []
    for x in lines:
        w = x.split()
        if len(w) > 1 and (w[1] in verbs or (len(w) > 2 and
                                             w[2] in verbs)):
            keep.append(x)
    return status, keep


def esearch_items(line):
    """* ESEARCH (TAG "t") [UID] name value ...: the items as a dict
    (RFC 4731 §3.1 leaves their order open)."""
    w = line.split()
    assert w[:3] == ["*", "ESEARCH", "(TAG"] and w[3] == '"TAG")', line
    w = w[4:]
    uid = bool(w) and w[0] == "UID"
    w = w[1:] if uid else w
    assert len(w) % 2 == 0, line
    return uid, dict(zip(w[::2], w[1::2]))


@pytest.fixture
def both(make_daemon):
    """(cachet, Dovecot, cachet after ENABLE IMAP4rev2) sessions with
    MESSAGES in INBOX, selected."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    c = imap_login(d, ALICE, ALICE_PW)
    with tempfile.TemporaryDirectory(prefix="cachet-sort-") as base:
        dv = DovecotImap(base)
        dv.start()
        try:
            v = dv.connect()
            for m, t in zip(MESSAGES, MTIMES):
                for conn in (c, v):
                    typ, r = conn.append("INBOX", None, t, wire(m))
                    assert typ == "OK", r
            for conn in (c, v):
                typ, r = conn.select("INBOX")
                assert typ == "OK" and int(r[0]) == len(MESSAGES), r
            c2 = imap_login(d, ALICE, ALICE_PW)
            assert command(c2, "ENABLE IMAP4rev2")[1] == \
                ["* ENABLED IMAP4rev2"]
            assert command(c2, "EXAMINE INBOX")[0] == "OK"
            yield c, v, c2
            c2.logout()
            v.logout()
        finally:
            dv.stop()
    c.logout()


def check(results, different=None):
    """results: (command, mine, theirs); the mismatches and the listed
    differences (DIFFERENT unless given) that went away, as one
    assertion."""
    different = DIFFERENT if different is None else different
    wrong = []
    for cmd, mine, theirs in results:
        if cmd in different:
            if mine == theirs:
                wrong.append(("listed as different but now the same", cmd))
        elif mine != theirs:
            wrong.append((cmd, mine, theirs))
    assert not wrong, wrong


def test_sort_and_thread_same_as_dovecot(both):
    c, v, _ = both
    results = []
    for cmd in SORTS:
        verb = "SORT" if "SORT" in cmd.split()[:2] else "THREAD"
        mine, theirs = answer(c, cmd, (verb,)), answer(v, cmd, (verb,))
        assert mine[0] == "OK" and len(mine[1]) == 1, (cmd, mine)
        results.append((cmd, mine, theirs))
    check(results)
    # what the comparison rests on: real orders, not one answer for all
    assert len({str(m) for _, m, _ in results}) > 20


def test_esearch_same_as_dovecot(both):
    c, v, _ = both
    results = []
    for cmd in ESEARCHES:
        st_m, mine = answer(c, cmd, ("ESEARCH", "SEARCH"))
        st_t, theirs = answer(v, cmd, ("ESEARCH", "SEARCH"))
        assert st_m == "OK" and len(mine) == 1, (cmd, st_m, mine)
        assert mine[0].startswith("* ESEARCH "), mine
        results.append((cmd, (st_m, esearch_items(mine[0])),
                        (st_t, [esearch_items(x) for x in theirs][0]
                         if len(theirs) == 1 else theirs)))
    check(results)


def test_searchres_same_as_dovecot(both):
    c, v, _ = both
    results = []
    for script in SEARCHRES:
        for cmd in script:
            verbs = ("ESEARCH", "SEARCH", "SORT", "FETCH")
            mine, theirs = answer(c, cmd, verbs), answer(v, cmd, verbs)
            if cmd.startswith("SELECT"):
                mine, theirs = mine[0], theirs[0]
            results.append((" / ".join(script[:1]) + " ... " + cmd,
                            mine, theirs))
    check(results)
    # "$" held something and was used
    assert any(cmd.endswith("FETCH $ (UID)") and len(mine[1]) > 0
               for cmd, mine, _ in results)


def test_rev2_search_same_as_dovecot_return_all(both):
    """After ENABLE IMAP4rev2 a SEARCH is answered as SEARCH RETURN (ALL)
    (RFC 9051 §6.4.4); Dovecot 2.3 has no IMAP4rev2, so its answer to
    the RETURN (ALL) form is the reference."""
    _, v, c2 = both
    results = []
    for keys in ("ALL", "SUBJECT plan", "OR SUBJECT lunch FROM greta",
                 "NOT SUBJECT plan", "SUBJECT nothing-matches", "2:4,9"):
        for uid in ("", "UID "):
            mine = answer(c2, uid + "SEARCH " + keys, ("ESEARCH", "SEARCH"))
            theirs = answer(v, uid + "SEARCH RETURN (ALL) " + keys,
                            ("ESEARCH", "SEARCH"))
            assert mine[0] == "OK" and len(mine[1]) == 1, (keys, mine)
            assert mine[1][0].startswith("* ESEARCH "), mine
            results.append((uid + "SEARCH " + keys, mine, theirs))
    check(results)


# --- a generated mailbox ---

GEN_N = 400
GEN_WORDS = ["plan", "lunch", "report", "budget", "offsite", "release",
             "café menu", "Weekly sync"]
GEN_LEADS = ["", "", "", "Re: ", "RE: ", "Fwd: ", "Re: Re: ", "[list] ",
             "Re[2]: ", "Fw: ", "re:", "[team] Re: "]
GEN_NAMES = ["Alice Example", "bob", "=?utf-8?q?J=C3=B6rg?=", "\"Zed, Z.\"",
             "=?iso-8859-1?q?Ren=E9e?=", ""]


def gen_message(i, rnd):
    """Message i of a seeded random mailbox: shared base subjects behind
    reply and forward marks and blobs, References chains (some to
    messages not in the mailbox), In-Reply-To alone, dates with ties and
    zones, a few without Date or Message-ID, display names plain,
    quoted and encoded."""
    subj = rnd.choice(GEN_LEADS) + rnd.choice(GEN_WORDS) + \
        (f" {rnd.randrange(6)}" if rnd.random() < .7 else "") + \
        (" (fwd)" if rnd.random() < .05 else "")
    h = []
    if rnd.random() < .95:
        h.append(f"Message-ID: <g{i}@x>")
    if i and rnd.random() < .6:
        refs = [f"<g{rnd.randrange(i)}@x>" for _ in range(rnd.randrange(
            1, 4))]
        if rnd.random() < .15:
            refs.insert(0, f"<gone{rnd.randrange(20)}@x>")
        if rnd.random() < .25:
            h.append("In-Reply-To: " + refs[-1])
        else:
            h.append("References: " + " ".join(refs))
    name = rnd.choice(GEN_NAMES)
    addr = f"u{rnd.randrange(30)}@example.{rnd.choice(['org', 'net'])}"
    h.append("From: " + (f"{name} <{addr}>" if name else addr))
    h.append(f"To: t{rnd.randrange(9)}@example.org")
    if rnd.random() < .3:
        h.append(f"Cc: {rnd.choice(GEN_NAMES) or 'x'} "
                 f"<c{rnd.randrange(5)}@example.com>")
    if rnd.random() < .97:
        day, hour = 1 + rnd.randrange(7), rnd.randrange(24)
        zone = rnd.choice(["+0000", "+0100", "-0500", "+0930"])
        h.append(f"Date: {day} Jan 2024 {hour:02d}:"
                 f"{rnd.choice([0, 30]):02d}:00 {zone}")
    h.append("Subject: " + (subj if subj.isascii() else
                            "=?utf-8?q?" + "".join(
                                f"={b:02X}" for b in subj.encode())
                            + "?="))
    body = "text\n" * rnd.randrange(1, 60)
    return ("\n".join(h) + "\n\n" + body).encode()


GEN_COMMANDS = [
    "SORT (ARRIVAL) UTF-8 ALL", "SORT (DATE) UTF-8 ALL",
    "SORT (REVERSE DATE) UTF-8 ALL", "SORT (SUBJECT) UTF-8 ALL",
    "SORT (SUBJECT REVERSE DATE) UTF-8 ALL", "SORT (FROM) UTF-8 ALL",
    "SORT (REVERSE FROM SIZE) UTF-8 ALL", "SORT (TO) UTF-8 ALL",
    "SORT (CC DATE) UTF-8 ALL", "SORT (SIZE) UTF-8 ALL",
    "SORT (DISPLAYFROM) UTF-8 ALL", "SORT (DISPLAYTO REVERSE SUBJECT) "
    "UTF-8 ALL", "UID SORT (SUBJECT) UTF-8 NOT SUBJECT lunch",
    "THREAD REFERENCES UTF-8 ALL", "THREAD ORDEREDSUBJECT UTF-8 ALL",
    "UID THREAD REFERENCES UTF-8 NOT SUBJECT plan",
    "SORT RETURN (MIN MAX ALL COUNT) (DATE SUBJECT) UTF-8 SUBJECT re",
]


def compare_mailbox(make_daemon, msgs, commands):
    """msgs written into cachet's and Dovecot's Maildir as an MDA would
    (so both number them alike; the same internal date for a message in
    both, a second apart), then commands answered alike there (first
    one: SORT (ARRIVAL), the order itself)."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    t0 = 1704067200
    for i, m in enumerate(msgs):
        p = put_message(d, ALICE, m)
        os.utime(p, (t0 + i, t0 + i))
    c = imap_login(d, ALICE, ALICE_PW)
    with tempfile.TemporaryDirectory(prefix="cachet-gen-") as base:
        dv = DovecotImap(base)
        for i, m in enumerate(msgs, 1):
            dv.add(i, m)
            os.utime(os.path.join(dv.maildir, "new",
                                  f"{1000000 + i}.M{i}P1.corpus"),
                     (t0 + i - 1, t0 + i - 1))
        dv.start()
        try:
            v = dv.connect()
            for conn in (c, v):
                assert command(conn, "EXAMINE INBOX")[0] == "OK"
            results = []
            for cmd in ["SORT (ARRIVAL) UTF-8 ALL"] + commands:
                verbs = ("SORT", "THREAD", "ESEARCH")
                mine, theirs = answer(c, cmd, verbs), answer(v, cmd, verbs)
                assert mine[0] == "OK" and len(mine[1]) == 1, (cmd, mine)
                results.append((cmd, mine, theirs))
            assert results[0][1] == results[0][2]
            v.logout()
        finally:
            dv.stop()
    c.logout()
    return results


def test_generated_mailbox_same_as_dovecot(make_daemon):
    """GEN_N seeded random messages, every command of GEN_COMMANDS."""
    rnd = random.Random(5256)
    msgs = [gen_message(i, rnd) for i in range(GEN_N)]
    results = compare_mailbox(make_daemon, msgs, GEN_COMMANDS)
    # every display name is ASCII or sorts as if (COLLATION)
    check(results, {})


def test_header_sections_same_as_dovecot(make_daemon):
    """SORT and THREAD read only a message's header section: CRLF files
    (another MDA's), a body with header-like lines, no header at all, a
    header without the empty line, one longer than a read chunk, and an
    empty line across two chunks."""
    long_refs = " ".join(f"<r{i}@x>" for i in range(600))
    # the header's last LF is a chunk's last byte, the empty line's the
    # next chunk's first (read_header() reads 8192 at a time)
    pad = "X-Pad: " + "p" * (8191 - len("Subject: g\nX-Pad: "))
    msgs = [
        b"Subject: b crlf\r\nFrom: z@example.org\r\n\r\n"
        b"Subject: a body\r\n",
        b"Subject: d\nFrom: y@example.org\n\nSubject: 0 body\nFrom: a@a\n",
        b"\nSubject: 1 no header\n",
        b"\r\nSubject: 2 no header\r\n",
        b"Subject: c only a header\nFrom: x@example.org",
        ("Message-ID: <e@x>\nReferences: " + long_refs +
         "\nSubject: e long\n\nbody\n").encode(),
        ("Subject: g\n" + pad + "\n\nSubject: 3 body\n").encode(),
        b"Subject: Re: e long\nReferences: <e@x>\n\nx\n",
    ]
    assert len(msgs[6].split(b"\n\n")[0]) == 8191
    results = compare_mailbox(make_daemon, msgs, [
        "SORT (SUBJECT) UTF-8 ALL", "SORT (FROM) UTF-8 ALL",
        "THREAD ORDEREDSUBJECT UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"])
    check(results, {})
