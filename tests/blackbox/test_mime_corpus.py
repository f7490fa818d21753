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

# (message relative to the corpus, form "" (LF) or "crlf") ->
# {aspect: reason}
STALWART_DIFFS = {
}

# message relative to the corpus -> {aspect: reason}
MIME4J_DIFFS = {
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
