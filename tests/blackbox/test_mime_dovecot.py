"""ENVELOPE, BODY and BODYSTRUCTURE of every corpus message: cachet's
(src/imap/imap_struct.c over lib/mime.c, through the dump tool) against
Dovecot's, the reference IMAP server (Debian's dovecot-imapd, a private
instance on a loopback port serving the corpus from one Maildir).

Values are compared as parsed IMAP data (a literal and a quoted string
with the same bytes are the same value); the exact text is compared too
and must match wherever the values do, since imap_struct quotes as
Dovecot does.  Every message where cachet differs from Dovecot on
purpose, or where a difference is still open, is in DIFFERENCES with the
reason and the field; such a message must still differ there (an entry
that starts to match fails, so that the table is kept true)."""

import os
import tempfile

import pytest

import mimecorpus as mc
from dovecot_imap import DOVECOT, DovecotImap, fetch_raw

ITEMS = ("ENVELOPE", "BODY", "BODYSTRUCTURE")

# message (relative to the corpus) -> {item: reason}.  An item listed
# here must differ from Dovecot's; every other item must equal it.
BAD_CTYPE = ("a Content-Type that is not type/subtype: RFC 2045 §5.2 "
             "makes it text/plain; charset=us-ascii, and so do we; Dovecot "
             "serves what it could read of it")
RFC822_END = ("the message/rfc822 part ends at the line end before the "
              "next delimiter (RFC 2046 §5.1.1), as for other parts; "
              "Dovecot counts that line end (2 bytes, 1 line) into the "
              "message/rfc822 body when the message inside has no header "
              "end or an unfinished multipart (open, reported for mime.c)")
LONG_BOUNDARY = ("a boundary of 700 (7,000) characters, past "
                 "MIME_BOUNDARY_MAX (200, mime.h): no parts for us; "
                 "Dovecot has no such cap (open, reported)")
_S = "stalwart-mail-parser/eml/"
_M = "james-mime4j/"
_BOTH = ("BODY", "BODYSTRUCTURE")
DIFFERENCES = {
    _S + "malformed/016.eml": dict.fromkeys(_BOTH, (
        "boundaries that are prefixes of each other (80, 81, 82 "
        "characters): Dovecot finds four parts in the innermost "
        "multipart, we one and put the rest in the outer one (open, "
        "reported for mime.c)")),
    _S + "malformed/017.eml": dict.fromkeys(_BOTH, (
        "'multipart/mixed' then 'boundary=' on the next line without ';': "
        "a multipart without a boundary (RFC 2045 §5.1), an empty "
        "multipart for us; Dovecot serves it as a leaf of type \"\" "
        "(open, reported for mime.c)")),
    _S + "malformed/022.eml": dict.fromkeys(_BOTH, RFC822_END),
    _S + "rfc/008.eml": dict.fromkeys(_BOTH, RFC822_END),
    _S + "thirdparty/007.eml": dict.fromkeys(_BOTH, RFC822_END),
    _S + "thirdparty/015.eml": dict.fromkeys(_BOTH, RFC822_END),
    _M + "mimetools-testmsgs/double-semicolon.msg": dict.fromkeys(_BOTH, (
        "'multipart/alternative;; boundary=\"foo\"': we skip the empty "
        "parameter and find the boundary (two parts, what the sender "
        "meant); Dovecot stops at ';;' and sees no boundary (reported "
        "for mime_ctype.c: follow Dovecot or keep this)")),
    _M + "mimetools-testmsgs/hdr-fakeout.msg": dict.fromkeys(_BOTH, (
        "a header whose blank line holds a space, then lines without a "
        "colon: Dovecot then serves the default \"7bit\" for "
        "'Content-transfer-encoding: 7BIT', we serve the field as written "
        "(open)")),
    _M + "mimetools-testmsgs/multi-digest.msg": dict.fromkeys(
        _BOTH, BAD_CTYPE + " ('Content-type: text')"),
    _M + "testmsgs/very-long-boundary.msg": dict.fromkeys(
        _BOTH, LONG_BOUNDARY),
    _M + "testmsgs/very-very-long-boundary.msg": dict.fromkeys(
        _BOTH, LONG_BOUNDARY),
    "cpython-test_email/msg_14.txt": dict.fromkeys(
        _BOTH, BAD_CTYPE + " ('Content-Type: text; charset=us-ascii')"),
}


def _norm(data):
    """A message as Dovecot serves it and as the file holds it: LF line
    ends, NULs as 0x80 (Dovecot sends NUL so in BODY[])."""
    return data.replace(b"\r\n", b"\n").replace(b"\0", b"\x80")


@pytest.fixture(scope="module")
def dovecot_answers():
    """{relative path: {item: (value, its text)}} for every corpus message,
    from one Dovecot run."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.fail("no dovecot: run scripts/install-deps")
    msgs = mc.all_messages()
    by_content = {}
    for m in msgs:
        with open(m, "rb") as f:
            by_content.setdefault(_norm(f.read()), []).append(mc.rel(m))
    with tempfile.TemporaryDirectory(prefix="cachet-dovecot-") as base:
        d = DovecotImap(base)
        for i, m in enumerate(msgs, 1):
            with open(m, "rb") as f:
                d.add(i, f.read())
        d.start()
        try:
            c = d.connect()
            typ, data = c.select("INBOX", readonly=True)
            assert typ == "OK" and int(data[0]) == len(msgs), data
            answers = {}
            for n in range(1, len(msgs) + 1):
                raw = fetch_raw(c, n, "BODY.PEEK[] ENVELOPE BODY "
                                "BODYSTRUCTURE")
                got = mc.imap_items(raw)
                # Maildir order is the directory's: match by content.
                for rel in by_content[_norm(got["BODY[]"][0])]:
                    answers[rel] = {k: got[k] for k in ITEMS}
            c.logout()
        finally:
            d.stop()
    assert len(answers) == len(msgs)
    return answers


def ours(path):
    d = mc.dump_cached(path)
    out = {}
    for item, key in (("ENVELOPE", "envelope"), ("BODY", "body"),
                      ("BODYSTRUCTURE", "bodystructure")):
        out[item] = d[key].encode("latin-1")
    return out


@pytest.mark.parametrize("path", mc.all_messages(), ids=mc.rel)
def test_same_as_dovecot(path, dovecot_answers):
    rel = mc.rel(path)
    theirs = dovecot_answers[rel]
    mine = ours(path)
    expected = DIFFERENCES.get(rel, {})
    unexpected = []
    for item in ITEMS:
        a = mc.imap_value(mine[item])
        b, btext = theirs[item]
        same = mc.plain(a) == mc.plain(b)
        if item in expected:
            assert not same, (f"{rel} {item} now matches Dovecot: remove "
                              f"it from DIFFERENCES")
            continue
        if not same:
            unexpected.append(f"{item}:\n  cachet:  {mine[item]!r}\n"
                              f"  dovecot: {btext!r}")
        else:
            # Same values: the same form (quoted or literal) too.
            assert mine[item] == btext, (item, mine[item], btext)
    assert not unexpected, "\n".join(unexpected)


def test_differences_table_names_real_messages():
    known = {mc.rel(p) for p in mc.all_messages()}
    for rel, items in DIFFERENCES.items():
        assert rel in known, rel
        for item, reason in items.items():
            assert item in ITEMS and reason, (rel, item)
