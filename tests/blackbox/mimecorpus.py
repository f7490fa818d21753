"""The shared MIME corpora, the dump tool (build/san/tests/mimedump) that
prints cachet's parse of a message as JSON, and a reader of IMAP
responses (the ENVELOPE / BODYSTRUCTURE syntax of RFC 3501 §7.4.2), for
test_mime_corpus.py and test_mime_dovecot.py.  No daemon is needed."""

import glob
import json
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CACHET_BUILD", os.path.join(ROOT, "build", "san"))
MIMEDUMP = os.path.join(BUILD, "tests", "mimedump")
# tests/data is a verbatim copy of the shared corpora (tests/data/README.md).
CORPUS = os.path.join(os.environ.get("CACHET_TESTDATA",
                                     os.path.join(ROOT, "tests", "data")),
                      "mime")
STALWART = os.path.join(CORPUS, "stalwart-mail-parser", "eml")
MIME4J = os.path.join(CORPUS, "james-mime4j")
CPYTHON = os.path.join(CORPUS, "cpython-test_email")


def rel(path):
    return os.path.relpath(path, CORPUS)


def stalwart_messages():
    return sorted(glob.glob(os.path.join(STALWART, "*", "*.eml")))


def mime4j_messages():
    return sorted(glob.glob(os.path.join(MIME4J, "testmsgs", "*.msg")) +
                  glob.glob(os.path.join(MIME4J, "mimetools-testmsgs",
                                         "*.msg")))


def cpython_messages():
    return sorted(glob.glob(os.path.join(CPYTHON, "msg_*.txt")))


def all_messages():
    return stalwart_messages() + mime4j_messages() + cpython_messages()


_dumps = {}


def dump_cached(path, form=""):
    """dump(), once per message and form in a test run."""
    key = (path, form)
    if key not in _dumps:
        _dumps[key] = dump(path, form)
    return _dumps[key]


def dump(path, form=""):
    """cachet's parse of the message at path, as the dump tool prints
    it: as the file is (form ""), or with every bare LF made CRLF first
    ("crlf"), or every CRLF made LF ("lf")."""
    args = [MIMEDUMP]
    if form:
        args.append("--" + form)
    args.append(path)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    r = subprocess.run(args, capture_output=True, timeout=60, env=env)
    assert r.returncode == 0, (path, r.returncode, r.stderr[-4000:])
    return json.loads(r.stdout)


# --- IMAP response syntax (RFC 3501 §9: nstring, literal, lists) ---

class Lit(bytes):
    """A string that came as a literal {n}."""


def _parse_one(data, pos):
    """One value at data[pos] (no leading space): (value, end)."""
    c = data[pos:pos + 1]
    if c == b"(":
        out = []
        pos += 1
        while True:
            while data[pos:pos + 1] == b" ":
                pos += 1
            if pos >= len(data):
                raise ValueError("unterminated list")
            if data[pos:pos + 1] == b")":
                return out, pos + 1
            v, pos = _parse_one(data, pos)
            out.append(v)
    if c == b'"':
        pos += 1
        s = bytearray()
        while data[pos:pos + 1] != b'"':
            if pos >= len(data):
                raise ValueError("unterminated quoted string")
            if data[pos:pos + 1] == b"\\":
                pos += 1
            s += data[pos:pos + 1]
            pos += 1
        return bytes(s), pos + 1
    if c == b"{":
        end = data.index(b"}", pos)
        size = int(data[pos + 1:end])
        pos = end + 1
        if data[pos:pos + 2] != b"\r\n":
            raise ValueError("literal without CRLF")
        pos += 2
        return Lit(data[pos:pos + size]), pos + size
    end = pos
    depth = 0
    # an atom; "BODY[...]" may hold spaces and parentheses inside [ ]
    while end < len(data):
        ch = data[end:end + 1]
        if ch == b"[":
            depth += 1
        elif ch == b"]":
            depth -= 1
        elif depth == 0 and ch in b" ()":
            break
        end += 1
    tok = data[pos:end].decode("latin-1")
    if tok == "NIL":
        return None, end
    if tok.isdigit():
        return int(tok), end
    if not tok:
        raise ValueError(f"unexpected {data[pos:pos + 10]!r}")
    return tok, end


def imap_items(data):
    """A FETCH response's "(NAME value NAME value ...)" into {NAME:
    (value, the value's text as sent)}."""
    if data[:1] != b"(":
        raise ValueError("not a list")
    pos = 1
    out = {}
    while True:
        while data[pos:pos + 1] == b" ":
            pos += 1
        if data[pos:pos + 1] == b")":
            return out
        name, pos = _parse_one(data, pos)
        while data[pos:pos + 1] == b" ":
            pos += 1
        start = pos
        v, pos = _parse_one(data, pos)
        out[name] = (v, data[start:pos])


def imap_value(text):
    """The one value of an ENVELOPE or BODYSTRUCTURE string."""
    if isinstance(text, str):
        text = text.encode("latin-1")
    v, pos = _parse_one(text, 0)
    assert pos == len(text), (text, pos)
    return v


def plain(v):
    """v with literals made plain bytes (to compare values, not form)."""
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, Lit):
        return bytes(v)
    return v


def load_json(path):
    with open(path, "rb") as f:
        return json.loads(f.read())
