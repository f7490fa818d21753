"""SEARCH, SORT and THREAD of imap_search/imap_sort/imap_thread against a
private Dovecot on the same small mailbox.

The messages below go into a Dovecot Maildir (tests/blackbox/
dovecot_imap.py) with set mtimes (their internal dates); Dovecot's
sequence order is read back by an X-T header, the same files are
written in that order for build/san/tests/imapsearch (the test driver
that runs our modules as the imap role will), and every command's
untagged answer must be the same.  Where the two differ on purpose the
table DIFFERENT says why, and a listed difference that goes away fails.
"""

import os
import subprocess
import tempfile

import pytest

from dovecot_imap import DOVECOT, DovecotImap, command

BUILD = os.environ.get("CACHET_BUILD", "build/san")


def msg(n, hdrs, body="x\n"):
    return (f"X-T: {n}\n" + hdrs + "\n" + body).encode()


MESSAGES = [
    msg(1, "Message-ID: <a@x>\nFrom: Alice Example <alice@example.org>\n"
        "To: bob@example.net\nSubject: Project plan\n"
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\n",
        "Let us meet on Tuesday.\n"),
    msg(2, "Message-ID: <b@x>\nFrom: Bob <bob@example.net>\n"
        "To: Alice Example <alice@example.org>\nCc: carol@example.com\n"
        "Subject: Re: Project plan\nReferences: <a@x>\n"
        "Date: Tue, 2 Jan 2024 09:00:00 +0100\n",
        "Tuesday is fine.\n"),
    msg(3, "Message-ID: <c@x>\nFrom: carol@example.com\n"
        "To: alice@example.org\nSubject: RE: [team] Project plan\n"
        "In-Reply-To: <a@x>\nDate: Mon, 1 Jan 2024 23:30:00 -0500\n",
        "I cannot come.\n"),
    msg(4, "Message-ID: <d@x>\nFrom: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\n"
        "To: bob@example.net\n"
        "Subject: =?utf-8?q?Caf=C3=A9_tomorrow?=\n"
        "Date: Wed, 3 Jan 2024 12:00:00 +0000\nMIME-Version: 1.0\n"
        "Content-Type: multipart/alternative; boundary=\"b\"\n",
        "--b\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "Un caf=E9 cr=E8me demain?\n"
        "--b\nContent-Type: text/html; charset=utf-8\n"
        "Content-Transfer-Encoding: base64\n\n"
        "PHA+VW4gPGI+Y2Fmw6k8L2I+IGNyw6htZSBkZW1haW4/PC9wPgo=\n--b--\n"),
    msg(5, "Message-ID: <e@x>\nFrom: Dave <dave@example.org>\n"
        "To: Alice Example <alice@example.org>\n"
        "Subject: Fwd: Project plan (fwd)\nReferences: <a@x> <c@x>\n"
        "Date: Thu, 4 Jan 2024 08:00:00 +0000\nX-Priority: 1\n",
        "Forwarding this.\n"),
    msg(6, "Message-ID: <f@x>\nFrom: eve@example.net\nTo: dave@example.org\n"
        "Subject: lunch\nReferences: <missing@x>\n"
        "Date: Thu, 4 Jan 2024 12:00:00 +0000\n",
        "Pizza?\n"),
    msg(7, "Message-ID: <g@x>\nFrom: Frank <frank@example.org>\n"
        "To: dave@example.org\nSubject: Re: lunch\n"
        "References: <missing@x>\n"
        "Date: Thu, 4 Jan 2024 11:00:00 +0000\n",
        "Sushi!\n" * 40),
    msg(8, "Message-ID: <h@x>\nFrom: \"Zed\" <a-zed@example.org>\n"
        "To: Greta <greta@example.org>\n"
        "Subject: [list] Weekly report\n"
        "Date: Fri, 5 Jan 2024 10:00:00 +0000\n",
        "All good.\n"),
    msg(9, "Message-ID: <i@x>\nFrom: greta@example.org\n"
        "To: Zed <a-zed@example.org>\nSubject: weekly REPORT\n"
        "Date: Sat, 6 Jan 2024 10:00:00 +0000\n",
        "Numbers attached.\n"),
    msg(10, "From: nobody@example.org\nSubject: no id and no date\n",
        "Plain text without headers of note.\n"),
]

# mtimes: internal dates in an order unlike the Date: fields
MTIMES = [1704500000 - 3600 * i * 7 % 50000 for i in range(len(MESSAGES))]

COMMANDS = [
    "SEARCH ALL",
    "SEARCH BODY tuesday",
    "SEARCH TEXT tuesday",
    "SEARCH BODY \"CAF\xc3\x89 CR\xc3\x88ME\"",
    "SEARCH SUBJECT \"caf\xc3\xa9\"",
    "SEARCH FROM \"j\xc3\xb6rg\"",
    "SEARCH FROM alice",
    "SEARCH FROM \"alice example\"",
    "SEARCH TO \"alice example <alice@example.org>\"",
    "SEARCH CC carol",
    "SEARCH HEADER X-Priority \"\"",
    "SEARCH HEADER Message-ID \"\"",
    "SEARCH NOT HEADER Message-ID \"\"",
    "SEARCH SUBJECT \"project plan\"",
    "SEARCH OR SUBJECT lunch SUBJECT report",
    "SEARCH NOT (SUBJECT plan OR FROM dave BODY pizza)",
    "SEARCH SENTON 1-Jan-2024",
    "SEARCH SENTON 2-Jan-2024",
    "SEARCH SENTBEFORE 2-Jan-2024",
    "SEARCH SENTSINCE 4-Jan-2024",
    "SEARCH LARGER 300",
    "SEARCH SMALLER 250",
    "SEARCH BODY \"<b>\"",
    "SEARCH CHARSET UTF-8 TEXT \"CAF\xc3\x89\"",
    "SORT (ARRIVAL) UTF-8 ALL",
    "SORT (DATE) UTF-8 ALL",
    "SORT (REVERSE DATE) UTF-8 ALL",
    "SORT (SUBJECT) UTF-8 ALL",
    "SORT (SUBJECT DATE) UTF-8 ALL",
    "SORT (FROM) UTF-8 ALL",
    "SORT (TO) UTF-8 ALL",
    "SORT (CC) UTF-8 ALL",
    "SORT (SIZE) UTF-8 ALL",
    "SORT (REVERSE SIZE) UTF-8 ALL",
    "SORT (DISPLAYFROM) UTF-8 ALL",
    "SORT (DISPLAYTO) UTF-8 ALL",
    "SORT (SUBJECT) UTF-8 NOT SUBJECT lunch",
    "THREAD REFERENCES UTF-8 ALL",
    "THREAD ORDEREDSUBJECT UTF-8 ALL",
    "THREAD REFERENCES UTF-8 NOT FROM alice",
]

# Commands whose answers differ on purpose: command -> why.
DIFFERENT = {
    "SEARCH TO \"alice example <alice@example.org>\"":
        "addresses are matched as the text \"Name <addr>\" (issue 12); "
        "Dovecot matches the name and the address each on its own",
    "SEARCH BODY \"<b>\"":
        "an HTML part is searched as its text (mime_text), its tags are "
        "not text; Dovecot without FTS searches the HTML source",
}


def _untagged(conn, line):
    """Send one command, return its untagged answer line as text."""
    status, lines = command(conn, line)
    assert status == "OK", (line, status, lines)
    want = "* " + line.split()[0]
    got = [x for x in lines if x.upper().startswith(want)]
    assert len(got) == 1, (line, lines)
    return got[0].rstrip()


@pytest.fixture(scope="module")
def answers():
    """(Dovecot's answers, ours) for every command."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    tool = os.path.join(BUILD, "tests", "imapsearch")
    assert os.access(tool, os.X_OK), "make sanbuild builds " + tool
    with tempfile.TemporaryDirectory(prefix="cachet-search-") as base:
        d = DovecotImap(base)
        for i, m in enumerate(MESSAGES, 1):
            d.add(i, m)
        for name in os.listdir(os.path.join(d.maildir, "new")):
            n = int(name.split(".M")[1].split("P")[0])
            os.utime(os.path.join(d.maildir, "new", name),
                     (MTIMES[n - 1], MTIMES[n - 1]))
        d.start()
        try:
            c = d.connect()
            typ, data = c.select("INBOX", readonly=True)
            assert typ == "OK" and int(data[0]) == len(MESSAGES), data
            order = []
            for n in range(1, len(MESSAGES) + 1):
                typ, data = c.fetch(str(n), "(BODY.PEEK[HEADER.FIELDS (X-T)])")
                assert typ == "OK", data
                order.append(int(data[0][1].split(b":")[1]))
            theirs = {cmd: _untagged(c, cmd) for cmd in COMMANDS}
            c.logout()
        finally:
            d.stop()
        mine = os.path.join(base, "ours")
        os.mkdir(mine)
        for seq, n in enumerate(order, 1):
            p = os.path.join(mine, str(seq))
            with open(p, "wb") as f:
                f.write(MESSAGES[n - 1])
            os.utime(p, (MTIMES[n - 1], MTIMES[n - 1]))
        ours = {}
        for cmd in COMMANDS:
            r = subprocess.run([tool, mine, cmd], capture_output=True,
                               timeout=60)
            assert r.returncode == 0, r.stderr
            ours[cmd] = r.stdout.decode("utf-8").rstrip()
    return theirs, ours


@pytest.mark.parametrize("command", COMMANDS)
def test_same_as_dovecot(command, answers):
    theirs, ours = answers
    if command in DIFFERENT:
        assert ours[command] != theirs[command], \
            "listed as different but now the same: " + command
    else:
        assert ours[command] == theirs[command], command
