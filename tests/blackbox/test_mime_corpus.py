"""cachet's message parser (lib/mime*.c, through the dump tool) against the
expected parses shipped with three public corpora (../shared/testdata/
mime/SOURCE.md): Stalwart's mail-parser (a JSON parse per message, for
the message as it is and with CRLF line ends), Apache Mime4j and Perl
MIME-tools (an XML structure per message and the decoded content of
every leaf part), and CPython's email tests (no expected parse: sane
invariants only).  No daemon is needed.

Their data models differ from ours; what is compared is meaning: the
tree of parts, content types and parameters, decoded header values,
decoded bodies, and where a model has them the offsets.  Each message
is one test; a difference fails it unless the message and the aspect
are in the table of its corpus with the reason (where the expectation is
wrong by the RFC, or where we follow Dovecot on purpose).  A listed
difference that goes away fails too, so that the tables stay true.  The
data is never edited."""

import calendar
import os
import xml.etree.ElementTree as ET

import pytest

import mimecorpus as mc

# Reasons that several messages share.
LATIN1 = ("raw 8-bit header text that is not UTF-8 is read as Latin-1 "
          "(mime_decode.h; Dovecot and Thunderbird show it so); Stalwart "
          "makes it U+FFFD")
DOVECOT_TREE = ("malformed structure split as Dovecot splits it (our "
                "BODYSTRUCTURE equals Dovecot 2.3's, test_mime_dovecot.py); "
                "Stalwart's parser reads these delimiters otherwise")


def _both(table, rel, diffs):
    """The same expected differences for the LF and the CRLF form (added
    to what the message already has)."""
    for form in ("", "crlf"):
        table.setdefault((rel, form), {}).update(diffs)


# (message relative to the corpus, form "" (LF) or "crlf") ->
# {aspect: reason}
STALWART_DIFFS = {}
_S = "stalwart-mail-parser/eml/"
for _n in ("010", "020", "022", "027", "052"):
    _both(STALWART_DIFFS, _S + f"legacy/{_n}.eml", {"text-headers": LATIN1})
for _n in ("016", "023", "026"):
    _both(STALWART_DIFFS, _S + f"legacy/{_n}.eml", {"params": LATIN1})
for _n in ("000", "001", "002", "007", "008", "009", "011", "012", "013",
           "014", "020", "021"):
    _both(STALWART_DIFFS, _S + f"malformed/{_n}.eml", {"tree": DOVECOT_TREE})
for _n in ("010", "017", "020", "022", "027", "052"):
    _both(STALWART_DIFFS, _S + f"legacy/{_n}.eml", {"addresses": LATIN1})
WORD_ADDR = ("an address that is one word ('From: Whomever') is a mailbox "
             "with that local part and no domain, as Dovecot's ENVELOPE "
             "shows it (MISSING_DOMAIN); Stalwart makes it a name")
for _n in ("001", "004"):
    _both(STALWART_DIFFS, _S + f"rfc/{_n}.eml", {"addresses": WORD_ADDR})
_both(STALWART_DIFFS, _S + "rfc/000.eml", {
    "addresses": "'From: (mailbox in US-ASCII)' is only a comment: no "
                 "address (RFC 5322 §3.4; Dovecot's ENVELOPE has NIL); "
                 "Stalwart makes the comment a name"})
_both(STALWART_DIFFS, _S + "rfc/002.eml", {
    "addresses": "'A1 (The Enforcer) Gore <...>': a comment is not part of "
                 "the display name (RFC 5322 §3.2.2, §3.4; Dovecot says "
                 "\"A1 Gore\" too); Stalwart keeps it"})
_both(STALWART_DIFFS, _S + "malformed/004.eml", {
    "offsets": "the delimiter line '--ab' of boundary 'a' has junk after "
               "the boundary: the part starts on the next line (RFC 2046 "
               "§5.1.1, a delimiter line runs to its line end; Dovecot "
               "too), Stalwart starts it right after '--a'"})
_both(STALWART_DIFFS, _S + "malformed/016.eml", {
    "tree": "boundaries that are prefixes of each other (80, 81 and 82 "
            "characters): Stalwart sees one part, Dovecot four; ours two: "
            "open, reported for mime.c"})
_both(STALWART_DIFFS, _S + "malformed/017.eml", {
    "params": "'multipart/mixed' then 'boundary=' on the next line without "
              "';': not a parameter (RFC 2045 §5.1); Stalwart takes it",
    "tree": "so no boundary: a multipart without parts for us, Stalwart "
            "splits it; Dovecot shows an unknown leaf (open, reported)"})
_both(STALWART_DIFFS, _S + "malformed/019.eml", {
    "date": "'Tue, 7 Apr 2026 10:00:t <...>' has no seconds: not a date "
            "by RFC 5322 §3.3; Stalwart reads 10:00:00",
    "body": DOVECOT_TREE + " (a fuzzed message: delimiters that differ "
            "in case, headers inside bodies)"})
_both(STALWART_DIFFS, _S + "malformed/022.eml", {
    "tree": "a message/rfc822 part whose content is not a message stays "
            "message/rfc822 with an empty message inside (RFC 2046 "
            "§5.2.1; Dovecot does the same); Stalwart makes it text"})
_both(STALWART_DIFFS, _S + "rfc/000.eml", {
    "body": "base64 parts holding placeholder prose ('... base64-encoded "
            "... goes here ...'): we decode its alphabet characters and "
            "skip the rest (RFC 2045 §6.8); Stalwart keeps the raw text"})
_both(STALWART_DIFFS, _S + "rfc/001.eml", {
    "params": "'access-type=mail-server' and 'server=...' with no ';' "
              "between them: the second is not a parameter (RFC 2045 "
              "§5.1; Dovecot drops it too); Stalwart takes it"})
_both(STALWART_DIFFS, _S + "rfc/008.eml", {
    "tree": "a base64 message/rfc822 part is not decoded and parsed: "
            "RFC 2046 §5.2.1 allows only 7bit, 8bit or binary there "
            "(Dovecot does not either); Stalwart decodes it"})
_both(STALWART_DIFFS, _S + "thirdparty/002.eml", {
    "body": "base64 with text after the padding ('...Cg== ignored') and "
            "a part of '?garbage': the data ends at '=' and non-alphabet "
            "characters are skipped (RFC 2045 §6.8); Stalwart decodes "
            "past the padding and keeps undecodable parts raw"})
STALWART_DIFFS[(_S + "thirdparty/005.eml", "")] = {
    "body": "'invalid--1--' is not a close delimiter (not at the start "
            "of a line, RFC 2046 §5.1.1): the last part runs to the end; "
            "Stalwart cuts it there"}
STALWART_DIFFS[(_S + "thirdparty/005.eml", "crlf")] = {
    "body": STALWART_DIFFS[(_S + "thirdparty/005.eml", "")]["body"] +
            "; and a UTF-16 body that has an odd length once its LF is "
            "CRLF: the lone last byte is U+FFFD (mime_decode.h), "
            "Stalwart drops it"}
_both(STALWART_DIFFS, _S + "thirdparty/010.eml", {
    "params": "a parameter given twice (comment=\"\" then comment=...): "
              "we keep the first, as Dovecot does; Stalwart the last"})
_both(STALWART_DIFFS, _S + "thirdparty/015.eml", {
    "tree": DOVECOT_TREE + " (message/rfc822 parts whose inner "
            "multipart never starts)"})

# message relative to the corpus -> {aspect: reason}
_M = "james-mime4j/"
B64_MESSAGE = ("a base64 message/rfc822 part is not decoded and parsed: "
               "RFC 2046 §5.2.1 allows only 7bit, 8bit or binary there "
               "(Dovecot shows an empty message inside, so do we); "
               "Mime4j decodes it and parses the result")
LONG_BOUNDARY = ("a boundary longer than MIME_BOUNDARY_MAX (200, mime.h): "
                 "the multipart has no parts; Mime4j sees one, Dovecot "
                 "three (open: the cap is the contract's, reported)")
MIME4J_DIFFS = {
    _M + "mimetools-testmsgs/frag.msg": {
        "decoded": "the last base64 part runs into a line "
                   "'XXXXXX--boundary--' (not a delimiter) and the "
                   "epilogue: the junk's alphabet characters decode to 2 "
                   "more bytes for us than for Mime4j (no right answer, "
                   "RFC 2045 §6.8)"},
    _M + "mimetools-testmsgs/multi-frag.msg": {
        "decoded": "the same junk after the last base64 part as frag.msg"},
    _M + "mimetools-testmsgs/multi-2gifs-base64.msg": {
        "fields": B64_MESSAGE, "tree": B64_MESSAGE},
    _M + "testmsgs/bad-newlines-multiple-parts-base64.msg": {
        "fields": B64_MESSAGE, "tree": B64_MESSAGE},
    _M + "testmsgs/base64encoded-rfc822message-nested.msg": {
        "fields": B64_MESSAGE, "tree": B64_MESSAGE},
    _M + "testmsgs/base64encoded-rfc822message.msg": {
        "fields": B64_MESSAGE, "decoded": B64_MESSAGE},
    _M + "testmsgs/malformedHeaderStartsBody-nocrlfcrlf.msg": {
        "fields": "a header line without a colon does not end the header "
                  "for us, as for Dovecot (whose BODYSTRUCTURE has the "
                  "same 11-byte body); Mime4j starts the body there",
        "decoded": "the same: the body is only 'Body text'"},
    _M + "testmsgs/malformedHeaderStartsBody-noheader.msg": {
        "decoded": "no blank line and no field: all of it is an "
                   "unterminated header for us and for Dovecot (an empty "
                   "body); Mime4j reads it as body"},
    _M + "testmsgs/very-long-boundary.msg": {"tree": LONG_BOUNDARY},
    _M + "testmsgs/very-very-long-boundary.msg": {"tree": LONG_BOUNDARY},
}


def b(s):
    """A dump string of message bytes back to bytes."""
    return s.encode("latin-1")


def children(d, i):
    """The children of part i, in order (parts are in tree order)."""
    out = [p["index"] for p in d["parts"] if p["parent"] == i]
    assert len(out) == d["parts"][i]["nchildren"], (i, out)
    return out


def field(d, i, name, nth=0):
    """The nth (0-based) field of that name in part i's header."""
    for f in d["parts"][i]["fields"]:
        if b(f["name"]).lower() == name.lower().encode():
            if nth == 0:
                return f
            nth -= 1
    return None


# --- Stalwart's mail-parser ---

def _their_name(h):
    n = h["name"]
    if isinstance(n, dict):
        return n.get("other", "").lower().replace("-", "_")
    return n


def _addr_list(v):
    """Stalwart's Address value as [(kind, name, address)]."""
    a = v["Address"]
    out = []
    if "List" in a:
        for x in a["List"]:
            out.append(("mailbox", x.get("name"), x.get("address")))
    else:
        for g in a["Group"]:
            out.append(("group", g.get("name"), None))
            for x in g.get("addresses") or []:
                out.append(("mailbox", x.get("name"), x.get("address")))
            out.append(("group_end", None, None))
    return out


def _our_addr_list(f):
    out = []
    for a in f.get("addrs", []):
        if a["kind"] == "mailbox":
            name = a["name_decoded"] or None
            local, dom = b(a["local"]).decode("utf-8", "replace"), \
                b(a["domain"]).decode("utf-8", "replace")
            addr = (local + "@" + dom) if dom else (local or None)
            out.append(("mailbox", name, addr))
        elif a["kind"] == "group":
            out.append(("group", a["name_decoded"] or None, None))
        else:
            out.append(("group_end", None, None))
    return out


def _their_time(dt):
    t = calendar.timegm((dt["year"], dt["month"], dt["day"], dt["hour"],
                         dt["minute"], dt["second"], 0, 0, 0))
    zone = dt["tz_hour"] * 60 + dt["tz_minute"]
    if dt["tz_before_gmt"]:
        zone = -zone
    return t - zone * 60, zone


def _ws(s):
    return " ".join(s.split())


def stalwart_compare(ours, theirs):
    """{aspect: [differences]} between our dump and Stalwart's JSON."""
    diffs = {}

    def note(aspect, what):
        diffs.setdefault(aspect, []).append(what)

    def walk(tmsg, ti, oi, where, offsets):
        tp = tmsg["parts"][ti]
        op = ours["parts"][oi]
        body = tp["body"]
        tkind = next(iter(body)) if isinstance(body, dict) else body
        okind = op["kind"]
        want = {"Multipart": "multipart", "Message": "message"}.get(
            tkind, "leaf")
        if want != okind:
            note("tree", f"{where}: {tkind} vs our {okind}")
            return
        if offsets:
            for tk, ok in (("offset_header", "hdr_start"),
                           ("offset_body", "body_start")):
                if tp[tk] != op[ok]:
                    note("offsets", f"{where}: {tk} {tp[tk]} vs {op[ok]}")
        seen = {}
        for h in tp["headers"]:
            name = _their_name(h)
            v = h["value"]
            if name.startswith("list_"):
                # RFC 2369 URL lists, not addresses: not compared
                continue
            oname = name.replace("_", "-")
            f = field(ours, oi, oname, seen.get(oname, 0))
            seen[oname] = seen.get(oname, 0) + 1
            if f is None:
                if v != "Empty":
                    note("headers", f"{where}: no {oname}")
                continue
            kind = next(iter(v)) if isinstance(v, dict) else v
            if kind == "ContentType":
                ct = f.get("ctype")
                tc = v["ContentType"]
                if ct is None or not ct["ok"]:
                    note("content-type", f"{where}: {oname} not parsed")
                    continue
                if (b(ct["type"]).lower().decode("latin-1") !=
                        tc["c_type"].lower() or
                        (tc.get("c_subtype") or "").lower() !=
                        b(ct["subtype"]).lower().decode("latin-1")):
                    note("content-type", f"{where}: {tc} vs {ct['type']}"
                         f"/{ct['subtype']}")
                tpar = {a["name"].lower(): a["value"]
                        for a in tc.get("attributes") or []}
                opar = {b(p["name"]).decode("utf-8", "replace").lower():
                        b(p["value"]).decode("utf-8", "replace")
                        for p in ct["params"]}
                if tpar != opar:
                    note("params", f"{where}: {tpar} vs {opar}")
            elif kind == "Address":
                if _addr_list(v) != _our_addr_list(f):
                    note("addresses", f"{where}: {oname} "
                         f"{_addr_list(v)} vs {_our_addr_list(f)}")
            elif kind == "DateTime":
                if f.get("time") is None or \
                        (f["time"], f["zone"]) != _their_time(v["DateTime"]):
                    note("date", f"{where}: {v['DateTime']} vs "
                         f"{f.get('time')} {f.get('zone')}")
            elif kind == "Text" and name == "return_path":
                got = _ws(b(f["raw"]).decode("utf-8", "replace")).strip("<>")
                if got != v["Text"]:
                    note("text-headers", f"{where}: {oname} {v['Text']!r} "
                         f"vs {got!r}")
            elif kind == "Text":
                if name in ("message_id", "in_reply_to", "references",
                            "content_id", "resent_message_id"):
                    ids = [b(x).decode("utf-8", "replace").strip("<>")
                           for x in f.get("ids", [])]
                    got = ids[0] if ids else None
                    if name == "content_id":
                        got = b(f["raw"]).decode("utf-8", "replace") \
                            .strip().strip("<>")
                    if got != v["Text"]:
                        note("ids", f"{where}: {oname} {v['Text']!r} vs "
                             f"{got!r}")
                else:
                    text = f["text"]
                    if not isinstance(text, str) or \
                            _ws(text) != _ws(v["Text"]):
                        note("text-headers", f"{where}: {oname} "
                             f"{v['Text']!r} vs {text!r}")
            elif kind == "Empty":
                pass
            # Received, TextList and the like: not compared
        if tkind == "Multipart":
            och = children(ours, oi)
            tch = body["Multipart"]
            if len(och) != len(tch):
                note("tree", f"{where}: {len(tch)} parts vs our "
                     f"{len(och)}")
                return
            for n, (t, o) in enumerate(zip(tch, och), 1):
                walk(tmsg, t, o, f"{where}.{n}", offsets)
        elif tkind == "Message":
            och = children(ours, oi)
            nested = body["Message"]
            # offsets of a message that was not transfer-encoded are
            # into the outer message; of an encoded one, into its text
            inner = nested["parts"][0]
            same = inner["offset_header"] == ours["parts"][och[0]][
                "hdr_start"]
            walk(nested, 0, och[0], f"{where}.m", offsets and same)
        else:
            dec = b(op.get("decoded", ""))
            if tkind in ("Text", "Html"):
                text = op.get("text")
                if text is None and op["type"].lower() != "text":
                    # Stalwart shows some non-text types as text
                    text = dec.decode("utf-8", "replace")
                if not isinstance(text, str) or text != body[tkind]:
                    if not isinstance(text, str) or \
                            _ws(text) != _ws(body[tkind]):
                        note("body", f"{where}: {body[tkind][:60]!r} vs "
                             f"{str(text)[:60]!r}")
            else:
                if bytes(body[tkind]) != dec:
                    note("body", f"{where}: {len(body[tkind])} bytes vs "
                         f"{len(dec)}")

    walk(theirs, 0, 0, "0", True)
    return diffs


def _stalwart_cases():
    out = []
    for m in mc.stalwart_messages():
        for form in ("", "crlf"):
            out.append(pytest.param(m, form,
                                    id=mc.rel(m) + (":crlf" if form else "")))
    return out


def check_table(key, diffs, table):
    listed = table.get(key, {})
    for aspect, reason in listed.items():
        assert aspect in diffs, (f"{key} {aspect} matches now: remove it "
                                 f"from the table")
    rest = {a: d for a, d in diffs.items() if a not in listed}
    assert not rest, "\n".join(f"{a}: {x}" for a, d in rest.items()
                               for x in d)


@pytest.mark.parametrize("path,form", _stalwart_cases())
def test_stalwart(path, form):
    want = path[:-4] + (".crlf.json" if form else ".json")
    theirs = mc.load_json(want)
    # Stalwart's NNN.json is the parse of the message with LF line ends,
    # NNN.crlf.json with CRLF ones.
    ours = mc.dump_cached(path, form or "lf")
    check_table((mc.rel(path), form), stalwart_compare(ours, theirs),
                STALWART_DIFFS)


# --- Mime4j and MIME-tools ---

def _mime4j_tree(el):
    """An entity element (message or body-part) as (fields, node):
    node is ("multipart", [entities]), ("message", entity) or
    ("leaf", element)."""
    hdr = el.find("header")
    names = []
    if hdr is not None:
        for f in hdr.findall("field"):
            text = (f.text or "").lstrip("\r\n")
            names.append(text.split(":", 1)[0].strip().lower())
    for child in el:
        if child.tag == "multipart":
            return names, ("multipart", [_mime4j_tree(p) for p in
                                         child.findall("body-part")])
        if child.tag == "message":
            return names, ("message", _mime4j_tree(child))
        if child.tag in ("body", "text-body", "binary-body"):
            return names, ("leaf", child)
    return names, ("leaf", None)


def mime4j_compare(ours, path):
    diffs = {}
    base = path[:-4]

    def note(aspect, what):
        diffs.setdefault(aspect, []).append(what)

    def walk(ent, oi, where):
        names, (kind, sub) = ent
        op = ours["parts"][oi]
        onames = [b(f["name"]).decode("latin-1").strip().lower()
                  for f in op["fields"]]
        if names != onames:
            note("fields", f"{where}: {names} vs {onames}")
        if kind != op["kind"]:
            note("tree", f"{where}: {kind} vs our {op['kind']}")
            return
        if kind == "multipart":
            och = children(ours, oi)
            if len(och) != len(sub):
                note("tree", f"{where}: {len(sub)} parts vs our "
                     f"{len(och)}")
                return
            for n, (t, o) in enumerate(zip(sub, och), 1):
                walk(t, o, f"{where}.{n}")
        elif kind == "message":
            walk(sub, children(ours, oi)[0], f"{where}.m")
        elif sub is not None and sub.get("name"):
            fn = os.path.join(os.path.dirname(path), sub.get("name"))
            with open(fn, "rb") as f:
                want = f.read()
            got = b(op.get("decoded", ""))
            if want != got and want.replace(b"\r\n", b"\n") != \
                    got.replace(b"\r\n", b"\n"):
                note("decoded", f"{where}: {len(want)} bytes vs our "
                     f"{len(got)}: {want[:40]!r} vs {got[:40]!r}")

    tree = ET.parse(base + "_decoded.xml").getroot()
    walk(_mime4j_tree(tree), 0, "0")
    return diffs


@pytest.mark.parametrize("path", mc.mime4j_messages(), ids=mc.rel)
def test_mime4j(path):
    ours = mc.dump_cached(path)
    check_table(mc.rel(path), mime4j_compare(ours, path), MIME4J_DIFFS)


# --- invariants, for every message of the three corpora ---

def check_invariants(d):
    n = d["len"]
    parts = d["parts"]
    assert parts and parts[0]["parent"] == -1 and parts[0]["hdr_start"] == 0
    for p in parts:
        assert 0 <= p["hdr_start"] <= p["body_start"] <= p["end"] <= n, p
        assert p["body_lines"] <= p["end"] - p["body_start"] + 1
        if p["parent"] != -1:
            q = parts[p["parent"]]
            assert q["body_start"] <= p["hdr_start"] and p["end"] <= q["end"]
            assert p["depth"] == q["depth"] + 1
            if q["kind"] == "message":
                assert q["nchildren"] == 1
        for f in p["fields"]:
            assert p["hdr_start"] <= f["name_off"] <= f["value_off"] <= \
                f["value_end"] <= f["end"] <= p["body_start"], f
        if p["kind"] == "leaf":
            assert p["nchildren"] == 0
        text = p.get("text")
        assert text is None or isinstance(text, str), p["index"]
    assert isinstance(d["text"], str)
    for key in ("envelope", "body", "bodystructure"):
        mc.imap_value(d[key])
    for env in d["envelopes"].values():
        assert len(mc.imap_value(env)) == 10


@pytest.mark.parametrize("path", mc.all_messages(), ids=mc.rel)
def test_invariants(path):
    check_invariants(mc.dump_cached(path))
    check_invariants(mc.dump_cached(path, "crlf"))
