"""A private Dovecot IMAP server for tests that diff against it: its own
config, base and state directories under a temporary directory, a
passwd-file user, one Maildir, a loopback port; started in the
foreground (-F) and stopped by PID with every process below it."""

import imaplib
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import time

from procs import PPID, pids_where

DOVECOT = "/usr/sbin/dovecot"
USER = "corpus"
PASSWORD = "corpus-password"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DovecotImap:
    def __init__(self, base):
        self.base = base
        self.maildir = os.path.join(base, "mail", USER)
        self.port = _free_port()
        self.proc = None
        # Dovecot's auth and mail processes run as other users.
        os.chmod(base, 0o755)
        for d in ("run", "state", "mail"):
            os.makedirs(os.path.join(base, d), exist_ok=True)
        for d in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(self.maildir, d), exist_ok=True)
        # Dovecot will not give mail to uid 0: as root, mail is nobody's.
        if os.getuid() == 0:
            pw = pwd.getpwnam("nobody")
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self.conf = os.path.join(base, "dovecot.conf")
        self.log = os.path.join(base, "dovecot.log")
        with open(os.path.join(base, "passwd"), "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        with open(self.conf, "w") as f:
            f.write(f"""# a private instance for the MIME corpus diff
base_dir = {base}/run
state_dir = {base}/state
instance_name = cachet-mime-{os.getpid()}
protocols = imap
listen = 127.0.0.1
log_path = {self.log}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = {min(self.uid, 500)}
mail_location = maildir:{base}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {base}/passwd
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={base}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")

    def add(self, n, data):
        """Deliver message number n (1-based, in order) into new/."""
        path = os.path.join(self.maildir, "new", f"{1000000 + n}.M{n}P1.corpus")
        with open(path, "wb") as f:
            f.write(data)

    def start(self):
        if os.getuid() == 0:
            for dirpath, dirnames, filenames in os.walk(
                    os.path.join(self.base, "mail")):
                os.chown(dirpath, self.uid, self.gid)
                for fn in filenames:
                    os.chown(os.path.join(dirpath, fn), self.uid, self.gid)
        self.out = open(os.path.join(self.base, "dovecot.out"), "ab")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                     stdout=self.out, stderr=self.out,
                                     cwd=self.base)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited: " + self._logtail())
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not listen: " + self._logtail())

    def _logtail(self):
        for p in (self.log, os.path.join(self.base, "dovecot.out")):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    return f.read()[-2000:]
        return ""

    def connect(self):
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=60)
        c.login(USER, PASSWORD)
        return c

    def stop(self):
        if self.proc is None:
            return
        pids, todo = [], [self.proc.pid]
        while todo:
            kids = pids_where(PPID, todo.pop())
            pids += kids
            todo += kids
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None
        self.out.close()


def fetch_raw(conn, n, items):
    """FETCH n (items): the response's bytes after "n FETCH " with
    literals written back as {size}CRLF data, as the server sent them."""
    typ, data = conn.fetch(str(n), "(" + items + ")")
    assert typ == "OK", (typ, data)
    raw = b""
    for d in data:
        if isinstance(d, tuple):
            raw += d[0] + b"\r\n" + d[1]
        elif d is not None:
            raw += d
    prefix = f"{n} ".encode()
    assert raw.startswith(prefix), raw[:40]
    return raw[len(prefix):]


def command(conn, line):
    """Send one command line on an imaplib connection: (its status word,
    its untagged lines as text with the tag read as TAG)."""
    tag = conn._new_tag()
    conn.send(tag + b" " + line.encode() + b"\r\n")
    lines = []
    while True:
        got = conn._get_line()
        if got.startswith(tag + b" "):
            return (got.split()[1].decode(),
                    [x.replace(tag.decode(), "TAG") for x in lines])
        lines.append(got.decode("utf-8", "replace"))
