"""IMAP, black-box, through Python's imaplib and a raw socket: the
greeting and capabilities, STARTTLS (and its input discard), implicit TLS
on imaps, LOGIN and AUTHENTICATE (PLAIN, SCRAM-SHA-256 with the client of
test_scram.py), the loopback plaintext switch, the mailbox commands over
the Maildir (LIST with special-use and children, CREATE, RENAME incl.
INBOX, DELETE, SUBSCRIBE, STATUS, SELECT/EXAMINE, FETCH of whole
messages and header/text, STORE, EXPUNGE, UID EXPUNGE, COPY and MOVE with
COPYUID, APPEND with flags and date and APPENDUID, SEARCH without text
keys), IDLE woken by a new message, two sessions on one mailbox, SMTP
delivery seen with the UID POP3 shows, bad-command floods, and mbsync
syncing the account both ways."""

import base64
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import imap_connect, imap_login, tls_client_context
from test_pop3 import (ALICE, ALICE_PW, BOB, BOB_PW, listing, mailbox_path,
                       put_message, wire)
from test_scram import PyTLS, Scram, b64

HOST = "127.0.0.1"
TIMEOUT = 10

MESSAGES = [
    b"From: carol@example.net\nTo: alice@example.org\nSubject: one\n\n"
    b"Hello.\nSecond line\n",
    b"From: dave@example.net\nTo: alice@example.org\nSubject: two\n\n"
    + b"body line\n" * 300,
    b"From: erin@example.net\nSubject: three\n\nthird\n",
]


@pytest.fixture
def imapd(make_daemon):
    """alice with three messages in new/; bob with no Maildir yet;
    logins only over TLS."""
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    d.add_user(BOB, BOB_PW)
    d.files = [put_message(d, ALICE, m) for m in MESSAGES]
    return d


@pytest.fixture
def imapd_plain(make_daemon):
    # the switch under its protocol-neutral name
    d = make_daemon(extra="plaintext-auth-loopback yes")
    d.start()
    d.add_user(ALICE, ALICE_PW)
    return d


def alice(d, tls="starttls"):
    return imap_login(d, ALICE, ALICE_PW, tls)


def ok(r):
    typ, data = r
    assert typ == "OK", (typ, data)
    return data


def list_names(c, ref='""', pat="*"):
    out = {}
    for line in ok(c.list(ref, pat)):
        m = re.match(rb'\((.*?)\) "\." (.*)$', line)
        assert m, line
        name = m.group(2).strip(b'"').decode()
        out[name] = set(m.group(1).decode().split())
    return out


class RawIMAP:
    """Exact bytes on the wire, for what imaplib will not send."""

    def __init__(self, port, tls=False):
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
        if tls:
            self.sock = PyTLS(self.sock)
        self.buf = b""
        self.greeting = self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(f"closed; buffered {self.buf!r}")
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode("utf-8", "replace")

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, tag, line):
        """Send a command; the lines up to its tagged completion."""
        self.send(f"{tag} {line}\r\n".encode())
        return self.until(tag)

    def until(self, tag):
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if ln.startswith(tag + " ") or ln.startswith("* BYE"):
                return out

    def close(self):
        self.sock.close()


# --- greeting, capabilities, TLS, login ---

def test_capabilities_before_and_after_tls(imapd):
    c = imap_connect(imapd, tls=None)
    caps = set(c.capabilities)
    assert {"IMAP4REV1", "STARTTLS", "LOGINDISABLED", "SASL-IR"} <= caps
    assert not any(x.startswith("AUTH=") for x in caps)
    # no password in the clear
    with pytest.raises(imaplib.IMAP4.error, match="PRIVACYREQUIRED"):
        c.login(ALICE, ALICE_PW)
    c.starttls(ssl_context=tls_client_context())
    caps = set(ok(c.capability())[0].decode().upper().split())
    assert {"AUTH=PLAIN", "AUTH=SCRAM-SHA-256",
            "AUTH=SCRAM-SHA-256-PLUS"} <= caps
    assert "LOGINDISABLED" not in caps and "STARTTLS" not in caps
    typ, data = c.login(ALICE, ALICE_PW)
    assert typ == "OK" and b"[CAPABILITY" in data[0]
    caps = set(ok(c.capability())[0].decode().upper().split())
    assert {"IDLE", "NAMESPACE", "UNSELECT", "CHILDREN", "SPECIAL-USE",
            "MOVE", "UIDPLUS", "ID", "ENABLE"} <= caps
    assert any(x.startswith("APPENDLIMIT=") for x in caps)
    # the extensions announced once complete
    assert {"IMAP4REV2", "CONDSTORE", "QRESYNC", "ESEARCH", "SORT"} <= caps
    c.logout()


def test_imaps_and_wrong_password(imapd):
    c = imap_connect(imapd, tls="imaps")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        c.login(ALICE, "wrong")
    ok(c.login(ALICE, ALICE_PW))
    ok(c.noop())
    c.logout()


def test_plaintext_login_on_loopback_when_configured(imapd_plain):
    c = imap_connect(imapd_plain, tls=None)
    assert "LOGINDISABLED" not in c.capabilities
    ok(c.login(ALICE, ALICE_PW))
    c.logout()


def test_password_with_spaces_as_literal(make_daemon):
    d = make_daemon()
    d.start()
    d.add_user("carol@example.org", "pencil and ink")
    c = imap_connect(d)
    # imaplib quotes it; send it as a literal too
    ok(c.login("carol@example.org", "pencil and ink"))
    c.logout()
    r = RawIMAP(d.ports["imaps"], tls=True)
    r.send(b"a LOGIN carol@example.org {14}\r\n")
    assert r.line().startswith("+ ")
    r.send(b"pencil and ink\r\n")
    assert r.until("a")[-1].startswith("a OK")
    r.close()


def test_authenticate_plain_with_and_without_initial_response(imapd):
    c = imap_connect(imapd)
    cred = f"\0{ALICE}\0{ALICE_PW}".encode()
    ok(c.authenticate("PLAIN", lambda _: cred))
    c.logout()
    r = RawIMAP(imapd.ports["imaps"], tls=True)
    out = r.cmd("a", "AUTHENTICATE PLAIN " + b64(cred))
    assert out[-1].startswith("a OK [CAPABILITY"), out
    r.close()


def test_authenticate_scram_and_plus(imapd):
    r = RawIMAP(imapd.ports["imaps"], tls=True)
    s = Scram(ALICE, ALICE_PW, "tls-exporter",
              r.sock.binding("tls-exporter"))
    r.send(f"a AUTHENTICATE SCRAM-SHA-256-PLUS {b64(s.first())}\r\n"
           .encode())
    ln = r.line()
    assert ln.startswith("+ "), ln
    r.send(b64(s.final(base64.b64decode(ln[2:]))).encode() + b"\r\n")
    ln = r.line()
    assert ln.startswith("+ ") and \
        s.server_final_ok(base64.b64decode(ln[2:])), ln
    r.send(b"\r\n")
    assert r.until("a")[-1].startswith("a OK [CAPABILITY")
    assert r.cmd("b", "SELECT INBOX")[-1].startswith("b OK")
    r.close()
    # a wrong password
    r = RawIMAP(imapd.ports["imaps"], tls=True)
    s = Scram(ALICE, "nope")
    r.send(f"a AUTHENTICATE SCRAM-SHA-256 {b64(s.first())}\r\n".encode())
    ln = r.line()
    r.send(b64(s.final(base64.b64decode(ln[2:]))).encode() + b"\r\n")
    assert r.until("a")[-1].startswith("a NO [AUTHENTICATIONFAILED]")
    r.close()


def test_starttls_discards_input_sent_with_it(imapd_plain):
    r = RawIMAP(imapd_plain.ports["imap"])
    # LOGIN rides in the same packet as STARTTLS: it must not run
    r.send(b"a STARTTLS\r\nb LOGIN alice@example.org secret\r\n")
    assert r.line() == "a OK Begin TLS negotiation now"
    r.sock = PyTLS(r.sock)
    r.buf = b""
    out = r.cmd("c", "NOOP")
    assert out == ["c OK NOOP completed"], out
    r.close()


def test_bad_commands_then_bye(imapd):
    r = RawIMAP(imapd.ports["imap"])
    assert r.cmd("a", "FROB") == ["a BAD Unknown command"]
    assert r.cmd("b", "NOOP") == ["b OK NOOP completed"]
    for i in range(19):
        assert r.cmd(f"x{i}", "FROB")[-1].endswith("Unknown command")
    assert r.cmd("y", "FROB") == ["y BAD Unknown command"]
    assert r.line() == "* BYE Too many invalid commands"
    with pytest.raises(EOFError):
        r.line()
    r.close()
    # the role goes on
    c = alice(imapd)
    c.logout()


# --- mailboxes ---

def test_list_special_use_and_children(imapd):
    c = alice(imapd)
    names = list_names(c)
    assert set(names) >= {"INBOX", "Sent", "Drafts", "Junk", "Trash",
                          "Archive"}
    assert "\\Sent" in names["Sent"] and "\\Junk" in names["Junk"]
    assert "\\HasNoChildren" in names["Trash"]
    ok(c.create("Lists.cachet"))
    names = list_names(c)
    assert "\\Noselect" in names["Lists"] and \
        "\\HasChildren" in names["Lists"]
    assert "\\HasNoChildren" in names["Lists.cachet"]
    assert set(list_names(c, '""', "%")) >= {"INBOX", "Lists", "Sent"}
    assert "Lists.cachet" not in list_names(c, '""', "%")
    assert set(list_names(c, "Lists.", "%")) == {"Lists.cachet"}
    # the delimiter
    typ, data = c.list('""', '""')
    assert data == [b'(\\Noselect) "." ""']
    c.logout()
    assert os.path.isdir(os.path.join(mailbox_path(imapd, ALICE),
                                      ".Lists.cachet", "cur"))


def test_create_rename_delete(imapd):
    c = alice(imapd)
    ok(c.create("Work"))
    ok(c.create("Work.2025"))
    typ, data = c.create("Work")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    typ, data = c.delete("Work")
    assert typ == "NO", data       # it has children
    ok(c.rename("Work", "Job"))
    names = list_names(c)
    assert "Job" in names and "Job.2025" in names and "Work" not in names
    typ, data = c.rename("Nope", "X")
    assert typ == "NO" and b"NONEXISTENT" in data[0]
    typ, data = c.rename("Job", "Sent")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    ok(c.delete("Job.2025"))
    ok(c.delete("Job"))
    assert "Job" not in list_names(c)
    typ, data = c.delete("INBOX")
    assert typ == "NO"
    typ, data = c.create("bad/name")
    assert typ == "NO"
    c.logout()


def test_rename_inbox_moves_its_messages(imapd):
    c = alice(imapd)
    ok(c.rename("INBOX", "Old"))
    assert ok(c.select("INBOX"))[0] == b"0"
    assert ok(c.select("Old"))[0] == b"3"
    c.logout()


def test_subscribe_and_lsub(imapd):
    c = alice(imapd)
    ok(c.subscribe("Sent"))
    ok(c.subscribe("INBOX"))
    ok(c.subscribe("Sent"))
    typ, data = c.lsub()
    assert sorted(data) == [b'() "." "INBOX"', b'() "." "Sent"']
    ok(c.unsubscribe("Sent"))
    typ, data = c.lsub()
    assert data == [b'() "." "INBOX"']
    c.logout()
    with open(os.path.join(mailbox_path(imapd, ALICE),
                           "subscriptions")) as f:
        assert f.read() == "INBOX\n"
    # a file another program wrote, its last line without a newline
    with open(os.path.join(mailbox_path(imapd, ALICE),
                           "subscriptions"), "w") as f:
        f.write("INBOX\nSent")
    c = alice(imapd)
    ok(c.unsubscribe("Sent"))
    typ, data = c.lsub()
    assert data == [b'() "." "INBOX"']
    c.logout()


def test_status(imapd):
    c = alice(imapd)
    data = ok(c.status("INBOX", "(MESSAGES RECENT UIDNEXT UIDVALIDITY "
                       "UNSEEN SIZE)"))
    m = re.match(rb'"INBOX" \(MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY '
                 rb'(\d+) UNSEEN 3 SIZE (\d+)\)', data[0])
    assert m, data
    assert int(m.group(2)) == sum(len(wire(x)) for x in MESSAGES)
    typ, data = c.status("Nope", "(MESSAGES)")
    assert typ == "NO"
    c.logout()


# --- the selected mailbox ---

def test_select_examine_and_recent(imapd):
    c = alice(imapd)
    typ, data = c.select("INBOX", readonly=True)
    assert data == [b"3"]
    assert c.untagged_responses.get("RECENT") == [b"3"]
    assert c.untagged_responses.get("READ-ONLY") is not None
    # EXAMINE leaves new/ alone; SELECT moves the messages to cur/
    assert len(listing(imapd, ALICE, "new")) == 3
    typ, data = c.select("INBOX")
    assert data == [b"3"]
    assert c.untagged_responses.get("READ-WRITE") is not None
    assert listing(imapd, ALICE, "new") == []
    assert len(listing(imapd, ALICE, "cur")) == 3
    c.logout()
    c = alice(imapd)
    c.select("INBOX")
    assert c.untagged_responses.get("RECENT") == [b"0"]
    c.logout()


def test_fetch_whole_header_text_partial(imapd):
    c = alice(imapd)
    c.select("INBOX")
    data = ok(c.fetch("1:3", "(UID RFC822.SIZE BODY.PEEK[])"))
    bodies = [d for d in data if isinstance(d, tuple)]
    assert [b for _, b in bodies] == [wire(m) for m in MESSAGES]
    for (hdr, b), m in zip(bodies, MESSAGES):
        assert f"RFC822.SIZE {len(wire(m))}".encode() in hdr
    # PEEK set nothing
    assert all("S" not in n.split(":2,")[-1]
               for n in listing(imapd, ALICE, "cur"))
    data = ok(c.fetch("1", "(BODY.PEEK[HEADER] BODY.PEEK[TEXT])"))
    head, text = wire(MESSAGES[0]).split(b"\r\n\r\n", 1)
    assert data[0][1] == head + b"\r\n\r\n"
    assert data[1][1] == text
    data = ok(c.fetch("2", "(BODY.PEEK[]<10.20>)"))
    assert data[0][1] == wire(MESSAGES[1])[10:30]
    assert b"BODY[]<10>" in data[0][0]
    data = ok(c.fetch("1", "(INTERNALDATE)"))
    assert re.search(rb'INTERNALDATE "\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d '
                     rb'\+0000"', data[0]), data
    # BODY[] sets \Seen, and the file says so
    data = ok(c.fetch("3", "(BODY[])"))
    assert b"\\Seen" in data[0][0] or b"\\Seen" in data[1]
    assert any(n.endswith(":2,S") for n in listing(imapd, ALICE, "cur"))
    data = ok(c.fetch("1", "(ENVELOPE)"))
    assert b'"one"' in data[0] and b'"carol" "example.net"' in data[0], data
    with pytest.raises(imaplib.IMAP4.error, match="Invalid message "
                       "sequence number"):
        c.fetch("9", "(FLAGS)")
    c.logout()


def test_store_expunge_uid_expunge(imapd):
    c = alice(imapd)
    c.select("INBOX")
    data = ok(c.store("1:2", "+FLAGS", "(\\Deleted \\Flagged)"))
    assert b"\\Deleted" in data[0] and b"\\Flagged" in data[0]
    assert sum(n.endswith(":2,FT") for n in
               listing(imapd, ALICE, "cur")) == 2
    ok(c.store("2", "-FLAGS.SILENT", "(\\Deleted)"))
    data = ok(c.uid("EXPUNGE", "2:3"))    # UID 2 is not deleted
    assert data == [None] or data == [b""] or data is not None
    assert len(listing(imapd, ALICE, "cur")) == 3
    typ, data = c.expunge()
    assert data == [b"1"]
    assert len(listing(imapd, ALICE, "cur")) == 2
    data = ok(c.uid("SEARCH", "ALL"))
    assert data == [b"2 3"]
    c.logout()


def test_copy_move_with_copyuid(imapd):
    c = alice(imapd)
    c.select("INBOX")
    typ, data = c.copy("1:2", "Archive")
    assert typ == "OK" and re.match(rb"\[COPYUID \d+ 1,2 1,2\]", data[0]), \
        data
    assert len(listing(imapd, ALICE, ".Archive/cur")) == 2
    typ, data = c.uid("MOVE", "3", "Trash")
    assert typ == "OK", data
    assert c.untagged_responses.get("EXPUNGE") == [b"3"]
    assert len(listing(imapd, ALICE, ".Trash/new")) + \
        len(listing(imapd, ALICE, ".Trash/cur")) == 1
    typ, data = c.copy("1", "Nope")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    c.select("Archive")
    data = ok(c.fetch("1:2", "(BODY.PEEK[])"))
    assert [d[1] for d in data if isinstance(d, tuple)] == \
        [wire(m) for m in MESSAGES[:2]]
    c.logout()


def test_append_flags_date_appenduid(imapd):
    c = alice(imapd)
    msg = b"From: alice@example.org\r\nSubject: sent\r\n\r\nHi.\r\n"
    typ, data = c.append("Sent", "(\\Seen \\Draft)",
                         '"01-Feb-2024 10:20:30 +0100"', msg)
    assert typ == "OK", data
    m = re.match(rb"\[APPENDUID (\d+) 1\]", data[0])
    assert m, data
    cur = listing(imapd, ALICE, ".Sent/cur")
    assert len(cur) == 1 and cur[0].endswith(":2,DS")
    path = os.path.join(mailbox_path(imapd, ALICE), ".Sent", "cur", cur[0])
    assert int(os.stat(path).st_mtime) == 1706779230
    with open(path, "rb") as f:
        assert f.read() == msg.replace(b"\r\n", b"\n")
    c.select("Sent")
    data = ok(c.fetch("1", "(INTERNALDATE BODY.PEEK[])"))
    assert b"01-Feb-2024 09:20:30 +0000" in data[0][0]
    assert data[0][1] == msg
    typ, data = c.append("Nope", None, None, msg)
    assert typ == "NO" and b"TRYCREATE" in data[0]
    c.logout()
    # over APPENDLIMIT: refused before any "+"
    r = RawIMAP(imapd.ports["imaps"], tls=True)
    r.cmd("a", f"LOGIN {ALICE} {ALICE_PW}")
    out = r.cmd("b", "APPEND INBOX {999999999}")
    assert out == ["b NO [TOOBIG] Message larger than APPENDLIMIT"], out
    r.close()


def test_search_keys(imapd):
    c = alice(imapd)
    c.select("INBOX")
    ok(c.store("2", "+FLAGS", "(\\Seen)"))
    assert ok(c.search(None, "ALL")) == [b"1 2 3"]
    assert ok(c.search(None, "SEEN")) == [b"2"]
    assert ok(c.search(None, "UNSEEN")) == [b"1 3"]
    assert ok(c.search(None, "LARGER", "1000")) == [b"2"]
    assert ok(c.search(None, "NOT", "LARGER", "1000")) == [b"1 3"]
    assert ok(c.search(None, "OR", "1", "3")) == [b"1 3"]
    assert ok(c.search(None, "UID", "2:*")) == [b"2 3"]
    today = time.strftime("%d-%b-%Y", time.gmtime())
    assert ok(c.search(None, "SINCE", today)) == [b"1 2 3"]
    assert ok(c.search(None, "BEFORE", today)) == [b""]
    assert ok(c.search("UTF-8", "ALL")) == [b"1 2 3"]
    assert ok(c.search(None, "SUBJECT", "one")) == [b"1"]
    assert ok(c.search(None, "BODY", "LINE")) == [b"1 2"]
    c.logout()


def test_noop_reports_other_sessions_changes(imapd):
    a = alice(imapd)
    b = alice(imapd)
    a.select("INBOX")
    b.select("INBOX")
    ok(a.store("1", "+FLAGS", "(\\Flagged)"))
    put_message(imapd, ALICE, b"Subject: four\n\nfour\n")
    ok(b.noop())
    assert b.untagged_responses.get("EXISTS")[-1] == b"4"
    assert any(b"\\Flagged" in x for x in b.untagged_responses["FETCH"])
    ok(a.store("2", "+FLAGS", "(\\Deleted)"))
    ok(a.expunge())
    ok(b.noop())
    assert b.untagged_responses.get("EXPUNGE") == [b"2"]
    assert ok(b.search(None, "ALL")) == [b"1 2 3"]
    a.logout()
    b.logout()


def test_idle_sees_a_new_message(imapd):
    r = RawIMAP(imapd.ports["imaps"], tls=True)
    r.cmd("a", f"LOGIN {ALICE} {ALICE_PW}")
    r.cmd("b", "SELECT INBOX")
    r.send(b"c IDLE\r\n")
    assert r.line() == "+ idling"
    t0 = time.time()
    put_message(imapd, ALICE, b"Subject: four\n\nfour\n")
    assert r.line() == "* 4 EXISTS"
    assert time.time() - t0 < 3
    r.send(b"DONE\r\n")
    out = r.until("c")
    assert out[-1] == "c OK IDLE terminated", out
    r.close()


def test_delivered_message_has_the_uid_pop3_shows(imapd):
    with smtplib.SMTP(HOST, imapd.ports["smtp"], timeout=TIMEOUT) as s:
        s.sendmail("zed@example.net", [BOB], b"Subject: hi bob\r\n\r\nyo\r\n")
    deadline = time.time() + 20
    while time.time() < deadline and \
            not listing(imapd, BOB, "new") + listing(imapd, BOB, "cur"):
        time.sleep(0.1)
    c = imap_login(imapd, BOB, BOB_PW)
    typ, data = c.status("INBOX", "(UIDVALIDITY)")
    uidv = re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1).decode()
    c.select("INBOX")
    data = ok(c.fetch("1", "(UID BODY.PEEK[])"))
    uid = re.search(rb"UID (\d+)", data[0][0]).group(1).decode()
    assert b"Subject: hi bob" in data[0][1]
    c.logout()
    p = poplib.POP3_SSL(HOST, imapd.ports["pop3s"],
                        context=tls_client_context(), timeout=TIMEOUT)
    p.user(BOB)
    p.pass_(BOB_PW)
    assert p.uidl(1).split()[-1].decode() == f"{uidv}.{uid}"
    p.quit()


# --- interop: mbsync (isync) ---

@pytest.mark.skipif(shutil.which("mbsync") is None,
                    reason="isync is installed by scripts/install-deps")
def test_mbsync_both_ways(imapd, tmp_path):
    local = tmp_path / "local"
    local.mkdir()
    rc = tmp_path / "mbsyncrc"
    rc.write_text(f"""
IMAPAccount cachet
Host {HOST}
Port {imapd.ports["imaps"]}
User {ALICE}
Pass {ALICE_PW}
SSLType IMAPS
CertificateFile {os.path.join(imapd.state, "tls", "cert.pem")}
SystemCertificates no
AuthMechs LOGIN
PipelineDepth 1

IMAPStore remote
Account cachet

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns INBOX Sent
Create Both
Expunge Both
SyncState *
""")

    def run():
        r = subprocess.run(["mbsync", "-c", str(rc), "-V", "sync"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout + r.stderr

    run()
    inbox = local / "INBOX"
    # mbsync marks what it copies with an X-TUID header of its own
    got = sorted(re.sub(rb"X-TUID: [^\n]*\n", b"",
                        open(os.path.join(inbox, d, f), "rb").read())
                 for d in ("cur", "new") for f in os.listdir(inbox / d))
    assert got == sorted(MESSAGES)
    # a local message goes up to Sent; a second run changes nothing
    sent = local / "Sent"
    new = sent / "new"
    new.mkdir(parents=True, exist_ok=True)
    (sent / "cur").mkdir(exist_ok=True)
    (sent / "tmp").mkdir(exist_ok=True)
    (new / "1700000000.1.host").write_bytes(b"Subject: up\n\nup\n")
    run()
    c = alice(imapd)
    c.select("Sent")
    data = ok(c.fetch("1:*", "(BODY.PEEK[])"))
    assert [re.sub(rb"X-TUID: [^\r]*\r\n", b"", d[1]) for d in data
            if isinstance(d, tuple)] == [b"Subject: up\r\n\r\nup\r\n"]
    c.logout()
    before = {p: sorted(os.listdir(p)) for p in
              (os.path.join(mailbox_path(imapd, ALICE), "cur"),
               os.path.join(mailbox_path(imapd, ALICE), ".Sent", "cur"))}
    out = run()
    after = {p: sorted(os.listdir(p)) for p in before}
    assert before == after, out
