"""Teaching the Bayes filter (issue 15): `cachetctl spam train` over
corpus messages (counted by `spam stats`, learnt once, moved between the
classes), an mbox, a Maildir with Maildir++ folders, the learn-once id
of messages without a Message-ID, and IMAP: a MOVE into Junk teaches
spam once, a move out of it teaches ham, into Trash nothing.

The corpus is the shared SpamAssassin one (../shared/testdata/
spam-corpus, copied verbatim into tests/data/spam-corpus), read straight
from its tar.xz into the test's own directory."""

import os
import re
import tarfile
import time

from conftest import ROOT, imap_login, wait_for

CORPUS = os.path.join(ROOT, "tests", "data", "spam-corpus",
                      "spamassassin-public-corpus.tar.xz")
ALICE, ALICE_PW = "alice@example.org", "secret"


def extract(dest, groups):
    """Extract the first n messages of each corpus group {group: n}
    into dest/<group>/; the paths, by group."""
    want = dict(groups)
    got = {g: [] for g in groups}
    with tarfile.open(CORPUS, "r:xz") as tar:
        for m in tar:
            parts = m.name.split("/")
            if not m.isfile() or len(parts) < 2:
                continue
            g = parts[-2]
            if g not in want or len(got[g]) >= want[g]:
                continue
            path = os.path.join(dest, g, parts[-1])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with tar.extractfile(m) as src, open(path, "wb") as out:
                out.write(src.read())
            got[g].append(path)
            if all(len(got[k]) >= want[k] for k in want):
                break
    for g, n in want.items():
        assert len(got[g]) == n, (g, len(got[g]))
    return got


def train(d, cls, *paths, check=True):
    r = d.ctl("spam", "train", cls, *[str(p) for p in paths],
              check=False, timeout=600)
    out = dict(re.findall(r"(?m)^([a-z ]+): (\d+)$", r.stdout))
    counts = {k: int(v) for k, v in out.items()}
    if check:
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return counts, r


def stats(d, user=None):
    r = d.ctl("spam", "stats", *([user] if user else []))
    out = dict(re.findall(r"(?m)^(\w+): (\d+)$", r.stdout))
    return {k: int(v) for k, v in out.items()}


def msg(subject, body="Just a note.\n", msgid=None, extra=""):
    head = f"From: carol@example.net\nTo: alice@example.org\n"
    if msgid:
        head += f"Message-ID: {msgid}\n"
    return (head + extra + f"Subject: {subject}\n\n{body}").encode()


def test_train_corpus_counts_once_and_moves(make_daemon, tmp_path):
    d = make_daemon()
    d.start()
    got = extract(tmp_path, {"spam-2": 150, "easy-ham-1": 150})
    assert stats(d) == {"spam": 0, "ham": 0, "tokens": 0}

    c, _ = train(d, "spam", tmp_path / "spam-2")
    assert c["unreadable"] == 0 and c["learnt"] + c["already known"] == 150
    # the corpus repeats a few Message-IDs, not many
    assert c["learnt"] > 140, c
    nspam = c["learnt"]
    c, _ = train(d, "ham", *got["easy-ham-1"])
    assert c["unreadable"] == 0 and c["learnt"] + c["already known"] == 150
    nham = c["learnt"]
    s = stats(d)
    assert (s["spam"], s["ham"]) == (nspam, nham), s
    assert s["tokens"] > 1000, s

    # once, not twice
    c, _ = train(d, "spam", tmp_path / "spam-2")
    assert (c["learnt"], c["already known"]) == (0, 150), c
    assert stats(d) == s

    # learnt as the other class: moved from spam to ham
    few = got["spam-2"][:10]
    c, _ = train(d, "ham", *few)
    assert c["learnt"] + c["already known"] == 10 and c["learnt"] >= 9, c
    s2 = stats(d)
    assert s2["spam"] == nspam - c["learnt"], s2
    assert s2["ham"] == nham + c["learnt"], s2

    # what cannot be read is counted and named, the rest still learnt
    c, r = train(d, "spam", tmp_path / "nonexistent", few[0], check=False)
    assert r.returncode == 1 and c["unreadable"] == 1, r.stdout
    assert c["learnt"] == 1, c
    assert "nonexistent" in r.stderr


def test_train_rate(make_daemon, tmp_path):
    """A thousand corpus messages in one call, timed: the issue's target
    is the whole corpus (6,046) in two minutes on the optimised build
    (bench/spam-train measures that); this sanitizer build is several
    times slower, so a thousand get a minute."""
    d = make_daemon()
    d.start()
    extract(tmp_path, {"spam-1": 400, "easy-ham-2": 600})
    t0 = time.monotonic()
    c, _ = train(d, "ham", tmp_path / "easy-ham-2")
    c2, _ = train(d, "spam", tmp_path / "spam-1")
    dt = time.monotonic() - t0
    print(f"spam train: 1000 messages in {dt:.1f} s "
          f"({1000 / dt:.0f} msg/s, sanitizer build)")
    assert c["learnt"] + c["already known"] == 600
    assert c2["learnt"] + c2["already known"] == 400
    s = stats(d)
    assert (s["spam"], s["ham"]) == (c2["learnt"], c["learnt"]), s
    assert dt < 60, dt


def test_train_mbox_maildir_and_ids(make_daemon, tmp_path):
    d = make_daemon()
    d.start()
    # An mbox of four messages, mboxrd-quoted "From " lines in bodies.
    mbox = tmp_path / "spam.mbox"
    with open(mbox, "wb") as f:
        for i in range(4):
            f.write(b"From spammer@example.net Mon Jan  1 00:00:00 2024\n")
            f.write(msg(f"offer {i}", f"Buy now {i}\n>From here on\n\n",
                        f"<mbox{i}@Example.NET>"))
            f.write(b"\n")
    c, _ = train(d, "spam", mbox)
    assert (c["learnt"], c["already known"], c["unreadable"]) == (4, 0, 0)
    # the domain's case does not make another message
    one = tmp_path / "one.eml"
    one.write_bytes(msg("offer 0", msgid="<mbox0@example.net>"))
    c, _ = train(d, "spam", one)
    assert (c["learnt"], c["already known"]) == (0, 1), c

    # A Maildir: cur/, new/ and a Maildir++ folder; its other files and
    # tmp/ are no mail.
    md = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp", ".Junk/cur", ".Junk/new",
                ".Junk/tmp"):
        (md / sub).mkdir(parents=True)
    (md / "cur" / "1.a:2,S").write_bytes(msg("a", msgid="<a@x>"))
    (md / "cur" / "2.b:2,").write_bytes(msg("b", msgid="<b@x>"))
    (md / "new" / "3.c").write_bytes(msg("c", msgid="<c@x>"))
    (md / ".Junk" / "cur" / "4.d:2,S").write_bytes(msg("d", msgid="<d@x>"))
    (md / "tmp" / "5.e").write_bytes(msg("e", msgid="<e@x>"))
    (md / "dovecot-uidlist").write_bytes(b"3 V1 N5\n")
    (md / "subscriptions").write_bytes(b"Junk\n")
    c, _ = train(d, "ham", md)
    assert (c["learnt"], c["already known"], c["unreadable"]) == (4, 0, 0)
    s = stats(d)
    assert (s["spam"], s["ham"]) == (4, 4), s

    # No Message-ID: the header section names the message, not the body
    # nor its line ends.
    a = tmp_path / "noid-a.eml"
    b = tmp_path / "noid-b.eml"
    e = tmp_path / "noid-c.eml"
    a.write_bytes(msg("same head", "one body\n"))
    b.write_bytes(msg("same head", "another body\n").replace(b"\n",
                                                             b"\r\n"))
    e.write_bytes(msg("other head", "one body\n"))
    c, _ = train(d, "spam", a, b, e)
    assert (c["learnt"], c["already known"]) == (2, 1), c


def test_train_user(make_daemon, tmp_path):
    d = make_daemon(extra="spam-bayes-per-user yes")
    d.start()
    f = tmp_path / "m.eml"
    f.write_bytes(msg("for bob", msgid="<bob1@x>"))
    c, _ = train(d, "--user", "bob@example.org", "spam", f)
    assert c["learnt"] == 1, c
    assert stats(d, "bob@example.org")["spam"] == 1
    assert stats(d)["spam"] == 1
    assert stats(d, "alice@example.org")["spam"] == 0
    r = d.ctl("spam", "train", "--user", "bob@example.org", check=False)
    assert r.returncode == 2 and "usage" in r.stderr


def append(c, box, data):
    typ, _ = c.append(box, None, None, data.replace(b"\n", b"\r\n"))
    assert typ == "OK"


def learnt_lines(d, user, cls, result):
    pat = re.compile(rf"event=spam-train user={re.escape(user)} "
                     rf"class={cls} result={result}\b")
    return len(pat.findall(d.read_log()))


def test_imap_junk_moves_teach_once(make_daemon):
    d = make_daemon(extra="spam-bayes-per-user yes")
    d.start()
    d.add_user(ALICE, ALICE_PW)
    c = imap_login(d, ALICE, ALICE_PW)
    try:
        # Two copies of one message (one Message-ID) and two others.
        one = msg("cheap watches", "Replica watches, best price!\n",
                  "<watch1@spam.example>")
        append(c, "INBOX", one)
        append(c, "INBOX", one)
        append(c, "INBOX", msg("lunch", "Lunch on Tuesday?\n",
                               "<lunch@friend.example>"))
        append(c, "INBOX", msg("pills", "Cheap pills online\n",
                               "<pills@spam.example>"))
        assert c.select("INBOX")[0] == "OK"
        assert stats(d, ALICE) == {"spam": 0, "ham": 0, "tokens": 0}

        # MOVE into Junk: learnt as spam, for alice and server-wide
        assert c.uid("MOVE", "1", "Junk")[0] == "OK"
        assert wait_for(lambda: stats(d)["spam"] == 1, 20), d.log_tail()
        assert stats(d, ALICE)["spam"] == 1
        assert stats(d, ALICE)["tokens"] > 0

        # the same message moved in again: known, not counted twice
        assert c.uid("MOVE", "2", "Junk")[0] == "OK"
        assert wait_for(lambda: learnt_lines(d, ALICE, "spam", "known")
                        == 1, 20), d.log_tail()
        assert stats(d)["spam"] == 1 and stats(d, ALICE)["spam"] == 1

        # COPY + expunge, as older clients move: spam too
        assert c.uid("COPY", "4", "Junk")[0] == "OK"
        assert c.uid("STORE", "4", "+FLAGS.SILENT", r"(\Deleted)")[0] == \
            "OK"
        assert c.expunge()[0] == "OK"
        assert wait_for(lambda: stats(d)["spam"] == 2, 20), d.log_tail()

        # out of Junk into another folder: ham (from spam); into Trash:
        # nothing
        assert c.select("Junk")[0] == "OK"
        typ, data = c.uid("SEARCH", None, "HEADER", "Message-ID",
                          "pills@spam.example")
        pills = data[0].split()
        assert typ == "OK" and len(pills) == 1, data
        typ, data = c.uid("SEARCH", None, "HEADER", "Message-ID",
                          "watch1@spam.example")
        watches = data[0].split()
        assert len(watches) == 2, data
        assert c.uid("MOVE", pills[0].decode(), "Archive")[0] == "OK"
        assert wait_for(lambda: stats(d, ALICE)["ham"] == 1, 20), \
            d.log_tail()
        s = stats(d, ALICE)
        assert (s["spam"], s["ham"]) == (1, 1), s
        n_before = learnt_lines(d, ALICE, "ham", r"\w+") + \
            learnt_lines(d, ALICE, "spam", r"\w+")
        assert c.uid("MOVE", watches[0].decode(), "Trash")[0] == "OK"
        # a NOOP round trip, then time for a queued learning to show
        assert c.noop()[0] == "OK"
        time.sleep(1)
        assert learnt_lines(d, ALICE, "ham", r"\w+") + \
            learnt_lines(d, ALICE, "spam", r"\w+") == n_before
        s = stats(d, ALICE)
        assert (s["spam"], s["ham"]) == (1, 1), s
    finally:
        c.logout()
