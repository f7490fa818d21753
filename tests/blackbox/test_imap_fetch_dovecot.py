"""FETCH of message structure and sections, cachet against Dovecot: the
same corpus messages (nested message/rfc822, multipart/alternative with
quoted-printable and base64 parts) APPENDed to cachet and to a private
Dovecot (dovecot_imap.py), then every item asked one FETCH at a time
from both and compared as parsed IMAP data (name and value): ENVELOPE,
BODY, BODYSTRUCTURE, BODY.PEEK[] and its HEADER, TEXT, HEADER.FIELDS,
HEADER.FIELDS.NOT and partial forms, and for every part (found by
walking Dovecot's BODYSTRUCTURE) BODY.PEEK[p], [p.MIME], a partial, and
for leaf parts BINARY.PEEK[p] and BINARY.SIZE[p], for message/rfc822
parts [p.HEADER], [p.TEXT] and [p.HEADER.FIELDS (...)].  Where the two
differ on purpose the item is in DIFFERENCES with the reason, and must
still differ there."""

import os
import tempfile

import pytest

import mimecorpus as mc
from conftest import imap_login
from dovecot_imap import DOVECOT, DovecotImap, command, fetch_raw
from test_pop3 import ALICE, ALICE_PW, wire

CORPUS = mc.CORPUS
MESSAGES = [
    "james-mime4j/mimetools-testmsgs/multi-nested.msg",
    "james-mime4j/mimetools-testmsgs/jt-0498.msg",
    "cpython-test_email/msg_15.txt",
    "stalwart-mail-parser/eml/legacy/028.eml",
    "stalwart-mail-parser/eml/legacy/035.eml",
]

# (message, item) -> reason: must differ from Dovecot.
WHOLE = ("BINARY[] of the whole message: Dovecot rewrites the message "
         "with every part decoded (and its Content-Transfer-Encoding "
         "changed); we serve the message as stored, decoding only a "
         "leaf part's content (RFC 3516 §4.2 names the decoding of a "
         "part's transfer encoding). Open: Dovecot's reading is the "
         "fuller one")
BAD_B64 = ("msg_15.txt: Dovecot refuses every BINARY of this message with "
           "NO [PARSE] (its image/gif part is not valid base64); we decode "
           "tolerantly as mime_decode does for every reader (the bytes "
           "outside the alphabet skipped)")
DIFFERENCES = {}
for _m in MESSAGES:
    DIFFERENCES[(_m, "BINARY.PEEK[]")] = WHOLE
    DIFFERENCES[(_m, "BINARY.SIZE[]")] = WHOLE
for _i in ("BINARY.SIZE[1.1]", "BINARY.SIZE[1.2]", "BINARY.PEEK[2]",
           "BINARY.SIZE[2]", "BINARY.PEEK[2]<3.7>"):
    DIFFERENCES[("cpython-test_email/msg_15.txt", _i)] = BAD_B64


def parts(bs, path=()):
    """(part number, kind) of every part below a BODYSTRUCTURE value, kind
    one of "multipart", "message", "leaf"."""
    if isinstance(bs[0], list):
        kids = []
        for x in bs:   # the body parts, before the subtype
            if not isinstance(x, list):
                break
            kids.append(x)
        for i, k in enumerate(kids, 1):
            yield from _visit(k, path + (i,))
    else:
        yield from _visit(bs, path + (1,)) if not path else ()


def _visit(node, path):
    if isinstance(node[0], list):
        yield path, "multipart"
        yield from parts(node, path)
        return
    t = (mc.plain(node[0]) or b"").lower(), (mc.plain(node[1]) or b"").lower()
    if t == (b"message", b"rfc822"):
        yield path, "message"
        inner = node[8]
        if isinstance(inner[0], list):
            yield from parts(inner, path)
        else:
            yield from _visit(inner, path + (1,))
        return
    yield path, "leaf"


def items_for(bs):
    out = ["ENVELOPE", "BODY", "BODYSTRUCTURE", "BODY.PEEK[]",
           "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]", "BODY.PEEK[]<5.30>",
           "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]",
           "BODY.PEEK[HEADER.FIELDS.NOT (FROM SUBJECT)]",
           "BINARY.PEEK[]", "BINARY.SIZE[]"]
    for path, kind in parts(bs):
        p = ".".join(str(n) for n in path)
        out += [f"BODY.PEEK[{p}]", f"BODY.PEEK[{p}.MIME]",
                f"BODY.PEEK[{p}]<2.10>"]
        if kind == "leaf":
            out += [f"BINARY.PEEK[{p}]", f"BINARY.SIZE[{p}]",
                    f"BINARY.PEEK[{p}]<3.7>"]
        if kind == "message":
            out += [f"BODY.PEEK[{p}.HEADER]", f"BODY.PEEK[{p}.TEXT]",
                    f"BODY.PEEK[{p}.HEADER.FIELDS (SUBJECT DATE)]",
                    f"BODY.PEEK[{p}.HEADER.FIELDS.NOT (SUBJECT)]"]
    return out


def answer(conn, n, item):
    """{name: parsed value} of FETCH n (item), or ("NO", text)."""
    # a NO leaves Dovecot's "* n FETCH (UID n)" behind in imaplib
    conn.untagged_responses.pop("FETCH", None)
    try:
        raw = fetch_raw(conn, n, item)
    except AssertionError as e:     # fetch_raw's: not OK
        return ("NO", str(e))
    # literal8 (RFC 3516) reads as a literal
    raw = raw.replace(b"~{", b"{")
    return {k: mc.plain(v) for k, (v, _) in mc.imap_items(raw).items()}


@pytest.fixture
def both(make_daemon):
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    datas = []
    for m in MESSAGES:
        with open(os.path.join(CORPUS, m), "rb") as f:
            datas.append(wire(f.read()))
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    c = imap_login(d, ALICE, ALICE_PW)
    with tempfile.TemporaryDirectory(prefix="cachet-dovecot-") as base:
        dv = DovecotImap(base)
        dv.start()
        try:
            v = dv.connect()
            for data in datas:
                for conn in (c, v):
                    typ, r = conn.append("INBOX", None, None, data)
                    assert typ == "OK", r
            for conn in (c, v):
                typ, r = conn.select("INBOX", readonly=True)
                assert typ == "OK" and int(r[0]) == len(datas), r
            yield c, v
            v.logout()
        finally:
            dv.stop()
    c.logout()


def test_fetch_items_same_as_dovecot(both):
    c, v = both
    unexpected, compared, seen_diff = [], 0, set()
    for n in range(1, len(MESSAGES) + 1):
        bs = answer(v, n, "BODYSTRUCTURE")["BODYSTRUCTURE"]
        for item in items_for(bs):
            mine, theirs = answer(c, n, item), answer(v, n, item)
            compared += 1
            key = (MESSAGES[n - 1], item)
            if key in DIFFERENCES:
                seen_diff.add(key)
                assert mine != theirs, f"{key} now matches: remove it"
                continue
            if mine != theirs:
                unexpected.append(f"{MESSAGES[n - 1]} {item}:\n"
                                  f"  cachet:  {mine!r:.600}\n"
                                  f"  dovecot: {theirs!r:.600}")
    assert compared > 100, compared
    assert seen_diff == set(DIFFERENCES), set(DIFFERENCES) - seen_diff
    assert not unexpected, f"{len(unexpected)} of {compared}:\n" + \
        "\n".join(unexpected)


def test_binary_decodes_and_sets_seen(both):
    c, _ = both
    # msg_15.txt: 1.1 is the quoted-printable text/plain part
    got = answer(c, 3, "BINARY.PEEK[1.1]")["BINARY[1.1]"]
    assert b"=3D" not in got and b"=\r\n" not in got
    typ, data = c.select("INBOX")
    assert typ == "OK"
    typ, data = c.fetch("3", "(BINARY[1.1])")
    assert typ == "OK"
    typ, data = c.fetch("3", "(FLAGS)")
    assert b"\\Seen" in data[0], data


def test_unknown_cte_is_refused(make_daemon):
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    c = imap_login(d, ALICE, ALICE_PW)
    msg = (b"From: a@example.net\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n")
    assert c.append("INBOX", None, None, msg)[0] == "OK"
    c.select("INBOX")
    typ, data = c.fetch("1", "(BINARY.PEEK[1])")
    assert typ == "NO" and b"[UNKNOWN-CTE]" in data[0], (typ, data)
    # BODY[1] serves it as it is
    typ, data = c.fetch("1", "(BODY.PEEK[1])")
    assert typ == "OK" and data[0][1] == b"begin 644 x\r\n", data
    c.logout()


# Sequence sets against Dovecot, on a folder whose UIDs have gaps (2 and
# 5 expunged: UIDs 1 3 4 6 7 8 at sequence numbers 1-6): which messages
# FETCH, UID FETCH and UID STORE take for each set.  Reversed ranges,
# "*" at either end, ranges past the end, repeats and overlaps; the
# server finds a set's messages from its ranges, not by testing each.
SEQ_SETS = ["1", "6", "*", "2:4", "4:2", "5:*", "*:5", "1,3,5", "5,3,1",
            "1:2,2:3", "6:*", "*:*", "1:*"]
UID_SETS = SEQ_SETS + ["2", "2:5", "5:2", "9:*", "*:100", "100:200",
                       "3,7,100", "1:2,7:*", "5", "4:6", "8:8,1"]


def _uids(lines):
    """The UIDs of "* n FETCH (UID u ...)" lines, in order."""
    out = []
    for ln in lines:
        words = ln.replace("(", " ").replace(")", " ").split()
        if len(words) > 3 and words[2] == "FETCH":
            out.append(int(words[words.index("UID") + 1]))
    return out


def test_sequence_sets_same_as_dovecot(make_daemon):
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    c = imap_login(d, ALICE, ALICE_PW)
    with tempfile.TemporaryDirectory(prefix="cachet-dovecot-") as base:
        dv = DovecotImap(base)
        dv.start()
        try:
            v = dv.connect()
            for conn in (c, v):
                for i in range(8):
                    typ, r = conn.append(
                        "INBOX", None, None,
                        b"From: a@example.net\r\nSubject: %d\r\n\r\n"
                        b"body %d\r\n" % (i, i))
                    assert typ == "OK", r
                assert conn.select("INBOX")[0] == "OK"
                assert command(conn, "UID STORE 2,5 +FLAGS.SILENT "
                               "(\\Deleted)")[0] == "OK"
                assert command(conn, "EXPUNGE")[0] == "OK"
                st, lines = command(conn, "FETCH 1:* (UID)")
                assert st == "OK" and _uids(lines) == [1, 3, 4, 6, 7, 8]
            checked = 0
            for cmd, sets in (("FETCH", SEQ_SETS), ("UID FETCH", UID_SETS)):
                for s in sets:
                    mine = command(c, f"{cmd} {s} (UID)")
                    theirs = command(v, f"{cmd} {s} (UID)")
                    assert mine[0] == theirs[0], (cmd, s, mine, theirs)
                    # the same messages, each once, in folder order
                    assert _uids(mine[1]) == sorted(set(_uids(theirs[1]))), \
                        (cmd, s, mine, theirs)
                    checked += 1
            for s in UID_SETS:
                got = []
                for conn in (c, v):
                    assert command(conn, f"UID STORE {s} +FLAGS.SILENT "
                                   "(\\Flagged)")[0] == "OK"
                    st, lines = command(conn, "FETCH 1:* (UID FLAGS)")
                    got.append([u for u, ln in zip(_uids(lines), lines)
                                if "\\Flagged" in ln])
                    assert command(conn, "STORE 1:* -FLAGS.SILENT "
                                   "(\\Flagged)")[0] == "OK"
                assert got[0] == got[1], (s, got)
                checked += 1
            assert checked == len(SEQ_SETS) + 2 * len(UID_SETS)
            v.logout()
        finally:
            dv.stop()
    c.logout()
