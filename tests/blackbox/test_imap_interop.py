"""IMAP interop with real clients from Debian (issue 12; mbsync is in
test_imap.py): offlineimap syncs a mailbox both ways over imaps (pinned
to the daemon's certificate) and a second run changes nothing; neomutt,
driven by keys in batch (in a pseudo-terminal, over imap on loopback),
reads, flags, moves and deletes.  What the clients fetched is
byte-identical to the Maildir files, but for the CRLF on the wire."""

import hashlib
import os
import pty
import re
import select
import signal
import ssl
import subprocess
import time

from test_imap import MESSAGES, imapd, imapd_plain  # noqa: F401 (fixtures)
from test_pop3 import ALICE, ALICE_PW, mailbox_path, put_message

HOST = "127.0.0.1"
RUN_TIMEOUT = 60


def files(d):
    """name -> bytes of a Maildir's messages (new/ and cur/)."""
    out = {}
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        if os.path.isdir(p):
            for f in os.listdir(p):
                with open(os.path.join(p, f), "rb") as fh:
                    out[f] = fh.read()
    return out


def lf(data):
    return data.replace(b"\r\n", b"\n")


# --- offlineimap ---

def test_offlineimap_both_ways(imapd, tmp_path):  # noqa: F811
    cert = os.path.join(imapd.state, "tls", "cert.pem")
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    local = tmp_path / "local"
    rc = tmp_path / "offlineimaprc"
    rc.write_text(f"""[general]
accounts = t
metadata = {tmp_path}/meta
ui = basic

[Account t]
localrepository = l
remoterepository = r

[Repository l]
type = Maildir
localfolders = {local}

[Repository r]
type = IMAP
remotehost = {HOST}
remoteport = {imapd.ports["imaps"]}
remoteuser = {ALICE}
remotepass = {ALICE_PW}
ssl = yes
cert_fingerprint = {hashlib.sha512(der).hexdigest()}
folderfilter = lambda f: f in ["INBOX", "Sent"]
""")

    def run():
        r = subprocess.run(["offlineimap", "-c", str(rc), "-o"],
                           capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
        out = r.stdout + r.stderr
        assert r.returncode == 0 and "ERROR" not in out, out
        return out

    run()
    server = mailbox_path(imapd, ALICE)
    got = sorted(lf(x) for x in files(local / "INBOX").values())
    assert got == sorted(files(server).values()) == sorted(MESSAGES)

    # up: a local message into Sent, a flag on a local INBOX message
    sent = local / "Sent"
    (sent / "new").mkdir(parents=True, exist_ok=True)
    (sent / "new" / "1700000000.1.host").write_bytes(b"Subject: up\n\nup\n")
    cur = local / "INBOX" / "cur"
    sub, name = sorted((s, n) for s in ("new", "cur")
                       for n in os.listdir(local / "INBOX" / s))[0]
    base, _, fl = name.partition(":2,")
    to = cur / f"{base}:2,{''.join(sorted(fl + 'F'))}"
    os.rename(local / "INBOX" / sub / name, to)
    flagged = lf(to.read_bytes())
    run()
    up = files(os.path.join(server, ".Sent"))
    assert list(up.values()) == [b"Subject: up\n\nup\n"], up
    inbox = files(server)
    assert [n for n, v in inbox.items() if v == flagged and
            "F" in n.split(":2,")[1]], inbox

    # a second run changes nothing on either side
    before = (sorted(files(server)), sorted(files(os.path.join(
        server, ".Sent"))), sorted(files(local / "INBOX")))
    run()
    after = (sorted(files(server)), sorted(files(os.path.join(
        server, ".Sent"))), sorted(files(local / "INBOX")))
    assert before == after


# --- neomutt ---

def run_in_pty(argv, env, timeout):
    """Run argv on a pseudo-terminal until it exits; its output."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    status = None
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                out += data
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            status = None
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert status is not None, f"neomutt did not finish: {out[-2000:]!r}"
    return os.waitstatus_to_exitcode(status), out


# neomutt's settings for a run without questions: no cache, no record,
# messages in mailbox order, the cursor moved only by the keys given
MUTT_SETTINGS = {
    "ssl_starttls": "no", "ssl_force_tls": "no", "spoolfile": '"+INBOX"',
    "record": '""', "header_cache": '""', "message_cachedir": '""',
    "sort": "unsorted", "resolve": "no", "delete": "yes", "quit": "yes",
    "move": "no", "mark_old": "no", "confirmappend": "no",
    "confirmcreate": "no", "wait_key": "no", "pipe_decode": "no",
    "beep": "no", "imap_check_subscribed": "no",
}


def test_neomutt_reads_flags_moves_deletes(imapd_plain, tmp_path):  # noqa
    d = imapd_plain
    for m in MESSAGES:
        put_message(d, ALICE, m)
    server = mailbox_path(d, ALICE)
    before = files(server)
    url = f"imap://{HOST}:{d.ports['imap']}/"
    rc = tmp_path / "muttrc"
    # folder first: spoolfile is relative to it
    settings = dict(folder=f'"{url}"', imap_user=f'"{ALICE}"',
                    imap_pass=f'"{ALICE_PW}"', **MUTT_SETTINGS)
    rc.write_text("".join(f"set {k}={v}\n" for k, v in settings.items()))
    m1, m2 = tmp_path / "m1", tmp_path / "m2"
    keys = (f"<pipe-message>cat > {m1}<enter><flag-message>"
            f"<next-entry><pipe-message>cat > {m2}<enter>"
            "<save-message>=Sent<enter>"
            "<next-entry><delete-message>"
            "<sync-mailbox><quit>")
    env = dict(os.environ, TERM="xterm", HOME=str(tmp_path),
               LC_ALL="C.UTF-8")
    code, out = run_in_pty(["neomutt", "-n", "-F", str(rc), "-e",
                            f"push '{keys}'"], env, RUN_TIMEOUT)
    assert code == 0, out[-2000:]

    # read: the bytes it piped are the files', modulo CRLF
    by_subject = {re.search(rb"Subject: (\w+)", v).group(1): (n, v)
                  for n, v in before.items()}
    assert lf(m1.read_bytes()) == by_subject[b"one"][1]
    assert lf(m2.read_bytes()) == by_subject[b"two"][1]
    after = files(server)
    # flagged: message one is still in INBOX with F
    ones = [n for n, v in after.items() if v == by_subject[b"one"][1]]
    assert len(ones) == 1 and "F" in ones[0].split(":2,")[1], after
    # moved: message two is in Sent, not in INBOX; deleted: three is gone
    assert list(after.values()) == [by_subject[b"one"][1]], after
    sent = files(os.path.join(server, ".Sent"))
    assert list(sent.values()) == [by_subject[b"two"][1]], sent
