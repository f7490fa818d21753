"""POP3 interoperability: Debian's fetchmail and getmail6 download a
mailbox that cachet's own SMTP server and mda filled, and what they store
must be byte-identical to the Maildir files (line ends aside: both clients
store LF as the Maildir does).

fetchmail goes over STLS (sslproto set without ssl: mandatory STARTTLS)
and over implicit TLS on pop3s, delivering through an MDA command.
getmail6 has no STLS for POP3: it goes over pop3s, and in the clear with
APOP (which sends no password)."""

import os
import pwd
import shutil
import smtplib
import subprocess
import time

import pytest

from test_pop3 import (ALICE, ALICE_PW, HOST, TIMEOUT, listing,
                       mailbox_path)

pytestmark = pytest.mark.skipif(
    shutil.which("fetchmail") is None or shutil.which("getmail") is None,
    reason="fetchmail and getmail6 come with scripts/install-deps")

APOP_SECRET = "open sesame"

# What senders send: dot lines, a long body line, 8-bit text, an empty
# body, a body without a final line end (SMTP adds one).
CONTENTS = [
    b"From: carol@example.net\r\nTo: alice@example.org\r\n"
    b"Subject: one\r\n\r\nHello.\r\n.dot first\r\n..two dots\r\n.\r\nend\r\n",
    b"From: dave@example.net\r\nTo: alice@example.org\r\nSubject: two\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    b"Gr\xc3\xbc\xc3\x9fe, \xc3\xa9t\xc3\xa9.\r\n" + b"z" * 990 + b"\r\n",
    b"From: erin@example.net\r\nTo: alice@example.org\r\n"
    b"Subject: three\r\n\r\n",
    b"From: frank@example.net\r\nTo: alice@example.org\r\n"
    b"Subject: four\r\n\r\n" + b"line of the body\r\n" * 3000,
]


@pytest.fixture
def filled(make_daemon):
    """A daemon whose alice received CONTENTS by SMTP; .stored holds the
    Maildir files' bytes."""
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    d.ctl("user", "apop", ALICE, input=APOP_SECRET + "\n")
    s = smtplib.SMTP(HOST, d.ports["smtp"], timeout=TIMEOUT)
    for c in CONTENTS:
        s.sendmail("sender@example.net", [ALICE], c)
    s.quit()
    deadline = time.time() + 20
    while time.time() < deadline and \
            len(listing(d, ALICE, "new")) < len(CONTENTS):
        time.sleep(0.1)
    names = listing(d, ALICE, "new")
    assert len(names) == len(CONTENTS), d.log_tail()
    d.stored = []
    for n in names:
        with open(os.path.join(mailbox_path(d, ALICE), "new", n),
                  "rb") as f:
            d.stored.append(f.read())
    return d


def as_nobody(path):
    """Give path to nobody and return a preexec_fn that becomes nobody:
    getmail refuses to deliver as root."""
    nb = pwd.getpwnam("nobody")
    for root, dirs, files in os.walk(path):
        os.chown(root, nb.pw_uid, nb.pw_gid)
        for f in files:
            os.chown(os.path.join(root, f), nb.pw_uid, nb.pw_gid)

    def drop():
        os.setgroups([])
        os.setgid(nb.pw_gid)
        os.setuid(nb.pw_uid)
    return drop


def same_messages(got, stored):
    norm = sorted(m.replace(b"\r\n", b"\n") for m in got)
    assert len(norm) == len(stored)
    assert norm == sorted(stored)


STORE = """import os, sys
d = sys.argv[1]
n = len(os.listdir(d))
with open(os.path.join(d, "%04d" % n), "wb") as f:
    f.write(sys.stdin.buffer.read())
"""


def fetchmail(daemon, base, tls):
    """Run fetchmail once with its files in base."""
    out = os.path.join(base, "out")
    os.makedirs(out)
    store = os.path.join(base, "store.py")
    with open(store, "w") as f:
        f.write(STORE)
    port = daemon.ports["pop3s" if tls == "implicit" else "pop3"]
    ssl = "ssl " if tls == "implicit" else ""
    rc = os.path.join(base, "fetchmailrc")
    with open(rc, "w") as f:
        f.write(f"""set no syslog
poll {HOST} protocol pop3 port {port}:
  user "{ALICE}" there with password "{ALICE_PW}" is root here
  keep fetchall no rewrite {ssl}sslproto "TLS1.2+" no sslcertck
  mda "/usr/bin/python3 {store} {out}"
""")
    os.chmod(rc, 0o600)
    r = subprocess.run(["fetchmail", "-f", rc, "-v", "--invisible",
                        "--nodetach"],
                       env={**os.environ, "FETCHMAILHOME": base},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    msgs = []
    for n in sorted(os.listdir(out)):
        with open(os.path.join(out, n), "rb") as f:
            msgs.append(f.read())
    return msgs, r.stdout + r.stderr


def getmail(daemon, base, retriever):
    """Run getmail as nobody in base (a directory of its own)."""
    os.makedirs(base)
    out = os.path.join(base, "Maildir") + "/"
    for s in ("new", "cur", "tmp"):
        os.makedirs(out + s)
    gd = os.path.join(base, "home")
    os.makedirs(gd)
    if retriever == "ssl":
        rtext = (f"type = SimplePOP3SSLRetriever\nport = "
                 f"{daemon.ports['pop3s']}\npassword = {ALICE_PW}\n")
    else:
        rtext = (f"type = SimplePOP3Retriever\nport = "
                 f"{daemon.ports['pop3']}\npassword = {APOP_SECRET}\n"
                 "use_apop = true\n")
    rc = os.path.join(gd, "getmailrc")
    with open(rc, "w") as f:
        f.write(f"""[retriever]
server = {HOST}
username = {ALICE}
{rtext}
[destination]
type = Maildir
path = {out}

[options]
read_all = true
delete = false
received = false
delivered_to = false
verbose = 1
""")
    drop = as_nobody(base)
    r = subprocess.run(["getmail", "--getmaildir", gd, "--rcfile", rc],
                       capture_output=True, text=True, timeout=120,
                       preexec_fn=drop,
                       env={"PATH": os.environ["PATH"], "HOME": gd})
    assert r.returncode == 0, r.stdout + r.stderr
    msgs = []
    for n in sorted(os.listdir(out + "new")):
        with open(out + "new/" + n, "rb") as f:
            msgs.append(f.read())
    return msgs, r.stdout + r.stderr


@pytest.mark.parametrize("tls", ["stls", "implicit"])
def test_fetchmail_downloads_the_mailbox(filled, tls):
    base = os.path.join(filled.base, "fetchmail")
    os.makedirs(base)
    msgs, log = fetchmail(filled, base, tls)
    same_messages(msgs, filled.stored)
    if tls == "stls":
        assert "STLS" in log
    # fetchmail read them all (RETR): now in cur/ with S, none removed
    assert listing(filled, ALICE, "new") == []
    assert len(listing(filled, ALICE, "cur")) == len(CONTENTS)


@pytest.mark.parametrize("retriever", ["ssl", "apop"])
def test_getmail_downloads_the_mailbox(filled, retriever):
    msgs, log = getmail(filled, os.path.join(filled.base, "getmail"),
                        retriever)
    same_messages(msgs, filled.stored)
    assert len(listing(filled, ALICE, "cur")) == len(CONTENTS)


def test_fetchmail_twice_same_bytes(filled):
    """After the first download moved the files to cur/ with S, the
    second gives the same messages."""
    for sub in ("a", "b"):
        os.makedirs(os.path.join(filled.base, sub))
    first, _ = fetchmail(filled, os.path.join(filled.base, "a"), "stls")
    second, _ = fetchmail(filled, os.path.join(filled.base, "b"),
                          "implicit")
    same_messages(first, filled.stored)
    same_messages(second, filled.stored)
