"""Text SEARCH in the chrooted imap role over charsets glibc's iconv
loads as gconv modules (KOI8-R, ISO-2022-JP, windows-1251 in
quoted-printable, a Shift_JIS subject in an RFC 2047 word): found by
their decoded text, which works only because mime_charset_preload()
opened those converters before the role entered its chroot.  Also the
other header and text keys and SENT* through imap_search.c."""

import base64
import socket

from test_pop3 import ALICE, ALICE_PW, put_message

HOST = "127.0.0.1"

RU = "Съешь же ещё этих мягких французских булок"
JA = "日本語のテキストです"
SUBJ_JA = "会議の予定"

MESSAGES = [
    # 1: KOI8-R, 8bit
    (b"From: Ivan <ivan@example.net>\nTo: alice@example.org\n"
     b"Subject: koi8\nDate: Mon, 02 Mar 2026 10:00:00 +0000\n"
     b"MIME-Version: 1.0\n"
     b"Content-Type: text/plain; charset=KOI8-R\n"
     b"Content-Transfer-Encoding: 8bit\n\n" + RU.encode("koi8-r") + b"\n"),
    # 2: ISO-2022-JP, 7bit, with a Shift_JIS subject word
    (b"From: Taro <taro@example.jp>\nTo: alice@example.org\n"
     b"Cc: hanako@example.jp\n"
     b"Subject: =?shift_jis?B?" + base64.b64encode(SUBJ_JA.encode(
         "shift_jis")) + b"?=\nDate: Tue, 10 Mar 2026 10:00:00 +0900\n"
     b"MIME-Version: 1.0\n"
     b"Content-Type: text/plain; charset=ISO-2022-JP\n"
     b"Content-Transfer-Encoding: 7bit\n\n" + JA.encode("iso2022_jp") +
     b"\n"),
    # 3: windows-1251 in quoted-printable
    (b"From: Olga <olga@example.net>\nTo: bob@example.org\n"
     b"Subject: cp1251\nDate: Wed, 18 Mar 2026 10:00:00 +0000\n"
     b"MIME-Version: 1.0\n"
     b"Content-Type: text/plain; charset=windows-1251\n"
     b"Content-Transfer-Encoding: quoted-printable\n\n" +
     "".join(f"={b:02X}" for b in "привет мир".encode("cp1251")).encode()
     + b"\n"),
]


class Raw:
    def __init__(self, port):
        self.s = socket.create_connection((HOST, port), timeout=20)
        self.buf = b""
        self.n = 0
        self.until(b"*")

    def until(self, tag):
        while True:
            for ln in self.buf.split(b"\r\n")[:-1]:
                if ln.startswith(tag + b" "):
                    out, self.buf = self.buf, b""
                    return out.decode("utf-8", "replace").split("\r\n")
            d = self.s.recv(65536)
            assert d, self.buf
            self.buf += d

    def cmd(self, line):
        """line: bytes, may end in a LITERAL- {n+} argument."""
        self.n += 1
        tag = f"t{self.n}".encode()
        self.s.sendall(tag + b" " + line + b"\r\n")
        return self.until(tag)


def search(c, key, text=None):
    line = b"SEARCH"
    if text is not None:
        t = text.encode()
        line += b" CHARSET UTF-8 " + key + b" {%d+}\r\n" % len(t) + t
    else:
        line += b" " + key
    out = c.cmd(line)
    assert out[-2].split(" ", 1)[1].startswith("OK"), out
    [res] = [ln for ln in out if ln.startswith("* SEARCH")]
    return [int(x) for x in res.split()[2:]]


def test_search_decoded_text_in_chroot(make_daemon):
    d = make_daemon(extra="plaintext-auth-loopback yes")
    d.start()
    d.add_user(ALICE, ALICE_PW)
    for m in MESSAGES:
        put_message(d, ALICE, m)
    c = Raw(d.ports["imap"])
    assert "OK" in c.cmd(f'LOGIN "{ALICE}" "{ALICE_PW}"'.encode())[-2]
    assert "OK" in c.cmd(b"EXAMINE INBOX")[-2]
    # bodies, decoded from their charsets (case-insensitive: Cyrillic)
    assert search(c, b"BODY", "мягких") == [1]
    assert search(c, b"BODY", "ФРАНЦУЗСКИХ") == [1]
    assert search(c, b"TEXT", "テキスト") == [2]
    assert search(c, b"BODY", "привет") == [3]
    assert search(c, b"SUBJECT", "会議") == [2]
    assert search(c, b"BODY", "нет такого") == []
    # header keys and the other text keys
    assert search(c, b'FROM "ivan"') == [1]
    assert search(c, b'TO "bob@"') == [3]
    assert search(c, b'CC "hanako"') == [2]
    assert search(c, b'BCC "anyone"') == []
    assert search(c, b'HEADER "Content-Transfer-Encoding" "quoted"') == [3]
    assert search(c, b'SUBJECT "koi8" NOT FROM "olga"') == [1]
    assert search(c, b"OR SUBJECT cp1251 SUBJECT koi8") == [1, 3]
    # SENT* on the Date: field's date (RFC 9051 §6.4.4)
    assert search(c, b"SENTBEFORE 10-Mar-2026") == [1]
    assert search(c, b"SENTON 10-Mar-2026") == [2]
    assert search(c, b"SENTSINCE 10-Mar-2026") == [2, 3]
    # UID SEARCH answers UIDs
    uids = search(c, b"UID 1:*")
    out = c.cmd(b"UID SEARCH CHARSET UTF-8 BODY {12+}\r\n"
                + "привет".encode())
    assert f"* SEARCH {uids[2]}" in out, out
    # a charset we do not search in
    out = c.cmd(b"SEARCH CHARSET KOI8-R BODY x")
    assert "NO [BADCHARSET" in out[-2], out
    c.cmd(b"LOGOUT")
