"""A private Postfix instance for interoperability tests and benchmarks.

Debian's postfix package is installed unconfigured by scripts/install-deps
and is never the system's MTA.  PostfixPeer writes a main.cf and a master.cf
from scratch into its own directory, starts the instance with
`postfix -c DIR start`, and stops it by the PID of its master process.  It
listens only on a loopback address and a non-standard port, and logs to a
file in its directory (the postlogd service), so no syslog is needed.

Three roles:

- a relaying client: every message it accepts from mynetworks goes to one
  relayhost ([127.0.0.1]:PORT), with smtp_tls_security_level "encrypt" (or
  "may"/"none") and TLS logging on, so the log says how TLS went;
- a receiving MX that discards: smtpd accepts mail for the given domains,
  queues it durably as usual (cleanup fsyncs each queue file before the
  250), then the discard transport drops it and logs status=sent;
- a receiving MX that delivers: smtpd accepts mail for the addresses of
  maildir_users, queues it as above, and the virtual(8) delivery agent
  writes each message to that address's Maildir under maildir_base
  (virtual_mailbox_domains, a texthash virtual_mailbox_maps, one static
  owner).

Runs as root (Postfix's start-up needs it).  Trusts nothing it reads back
but its own files.
"""

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from procs import PGRP, pids_where

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
SMTP_SOURCE = "/usr/sbin/smtp-source"

# Queue subdirectories that hold messages not yet delivered.
QUEUE_DIRS = ("maildrop", "incoming", "active", "deferred", "hold")


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _alive(pid):
    """True when pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _group_members(pgid):
    """PIDs of live processes in process group pgid (the master is its
    group's leader: it calls setsid())."""
    return pids_where(PGRP, pgid)


class PostfixError(AssertionError):
    pass


class PostfixPeer:
    """One Postfix instance in its own directory.

    base: an existing directory to work in (created if None, under
    /var/tmp, and removed by cleanup()).
    host, port: where smtpd listens (port picked free if None).
    relayhost: "[127.0.0.1]:2525" to relay everything there.
    tls_level: smtp_tls_security_level for the client side.
    discard_domains: domains smtpd accepts and the discard transport
    drops (the benchmark's MX).
    maildir_users: {address: path} delivered by virtual(8) into the
    Maildir maildir_base/path (path relative, ending in "/"), e.g.
    {"u@bench.test": "bench.test/u/"}; their domains become
    virtual_mailbox_domains and nothing else is accepted for them.
    maildir_base: where those Maildirs go (default base/mail), made if
    missing and chowned to maildir_owner, as whom virtual(8) writes (a
    user name with a uid of at least virtual_minimum_uid, 100).
    extra: dict of further main.cf parameters.
    resolv_conf: a file to stand for /etc/resolv.conf in the instance's
    processes (a test DNS server, for Postfix's own lookups and its
    policy services): the master starts in a mount namespace of its own
    (unshare(1)) where that file is bind-mounted over /etc/resolv.conf;
    every process it starts inherits it, nothing else on the machine
    sees it.
    """

    def __init__(self, base=None, host="127.0.0.1", port=None,
                 hostname="peer.postfix.test", relayhost=None,
                 tls_level="encrypt", discard_domains=(),
                 mynetworks="127.0.0.0/8", extra=None,
                 maildir_users=None, maildir_base=None,
                 maildir_owner="nobody", resolv_conf=None):
        self.own_base = base is None
        if base is None:
            base = tempfile.mkdtemp(prefix="postfix-peer-", dir="/var/tmp")
        self.base = os.path.abspath(base)
        # Postfix wants its directories root-owned and not writable by
        # group or others (postfix-script check-warn).
        os.chmod(self.base, 0o755)
        self.host = host
        self.port = port or free_port(host)
        self.hostname = hostname
        self.relayhost = relayhost
        self.tls_level = tls_level
        self.discard_domains = tuple(discard_domains)
        self.mynetworks = mynetworks
        self.extra = dict(extra or {})
        self.config_dir = os.path.join(self.base, "etc")
        self.queue_dir = os.path.join(self.base, "spool")
        self.data_dir = os.path.join(self.base, "data")
        self.maillog = os.path.join(self.base, "maillog")
        self.maildir_users = dict(maildir_users or {})
        for addr, path in self.maildir_users.items():
            # The map's syntax has no quoting; the path must stay inside
            # the base and end in "/" (a Maildir, not an mbox).
            if ("@" not in addr or any(c.isspace() for c in addr + path)
                    or not path.endswith("/") or path.startswith("/")
                    or ".." in path.split("/")):
                raise ValueError(f"maildir_users: {addr!r}: {path!r}")
        self.maildir_base = os.path.abspath(
            maildir_base or os.path.join(self.base, "mail"))
        self.maildir_owner = maildir_owner
        self.resolv_conf = resolv_conf
        self.master_pid = None
        self._write_config()

    # --- configuration ---

    def main_cf(self):
        p = {
            # Behaviour of current Postfix, without the backwards-
            # compatibility warnings.
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "syslog_name": "postfix-peer",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.base,
            "inet_interfaces": self.host,
            "inet_protocols": "ipv4",
            "myhostname": self.hostname,
            "mydomain": "postfix.test",
            "myorigin": "$myhostname",
            # Final destination for nothing: all mail is relayed or
            # discarded.
            "mydestination": "",
            "local_recipient_maps": "",
            "local_transport": "error:5.1.1 no local delivery",
            "alias_maps": "",
            "alias_database": "",
            "mynetworks": self.mynetworks,
            "biff": "no",
            # Leave the client's headers exactly as sent: no rewriting of
            # addresses in headers, whoever the client is.
            "local_header_rewrite_clients": "",
            "remote_header_rewrite_domain": "",
            # No DNS here: don't look up client names.
            "smtpd_peername_lookup": "no",
            "smtpd_tls_security_level": "none",
            "smtp_tls_security_level": self.tls_level,
            "smtp_tls_loglevel": "1",
            "smtp_tls_session_cache_database": "",
            # Give up quickly on a dead peer: tests are short.
            "smtp_connect_timeout": "10s",
            "maximal_backoff_time": "10s",
            "minimal_backoff_time": "2s",
            "queue_run_delay": "2s",
            "notify_classes": "",
        }
        if self.relayhost:
            p["relayhost"] = self.relayhost
        if self.discard_domains:
            p["relay_domains"] = ", ".join(self.discard_domains)
            p["relay_transport"] = "discard:"
            p["default_transport"] = "discard:"
        if self.maildir_users:
            pw = pwd.getpwnam(self.maildir_owner)
            domains = sorted({a.rsplit("@", 1)[1].lower()
                              for a in self.maildir_users})
            p["virtual_mailbox_domains"] = ", ".join(domains)
            p["virtual_mailbox_base"] = self.maildir_base
            p["virtual_mailbox_maps"] = "texthash:" + os.path.join(
                self.config_dir, "vmailbox")
            p["virtual_uid_maps"] = f"static:{pw.pw_uid}"
            p["virtual_gid_maps"] = f"static:{pw.pw_gid}"
        p.update(self.extra)
        return "".join(f"{k} = {v}\n" for k, v in p.items())

    def master_cf(self):
        # Nothing chrooted: the instance has no chroot jail.  Columns:
        # service type private unpriv chroot wakeup maxproc command.
        rows = [
            (f"{self.host}:{self.port}", "inet", "n", "-", "n", "-", "-",
             "smtpd"),
            ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
            ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
            ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
            ("tlsmgr", "unix", "-", "-", "n", "1000?", "1", "tlsmgr"),
            ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
            ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
            ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
            ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
            ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
            ("proxywrite", "unix", "-", "-", "n", "-", "1", "proxymap"),
            ("smtp", "unix", "-", "-", "n", "-", "-", "smtp"),
            ("relay", "unix", "-", "-", "n", "-", "-", "smtp"),
            ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
            ("error", "unix", "-", "-", "n", "-", "-", "error"),
            ("retry", "unix", "-", "-", "n", "-", "-", "error"),
            ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
            # Runs as root, writes as the mailbox's owner.
            ("virtual", "unix", "-", "n", "n", "-", "-", "virtual"),
            ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
            ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
            ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
        ]
        return "".join("%-20s %-10s %-3s %-3s %-3s %-6s %-4s %s\n" % r
                       for r in rows)

    def _write_config(self):
        os.makedirs(self.config_dir, mode=0o755, exist_ok=True)
        os.makedirs(self.queue_dir, mode=0o755, exist_ok=True)
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        shutil.chown(self.data_dir, "postfix", "postfix")
        with open(os.path.join(self.config_dir, "main.cf"), "w") as f:
            f.write(self.main_cf())
        with open(os.path.join(self.config_dir, "master.cf"), "w") as f:
            f.write(self.master_cf())
        if self.maildir_users:
            with open(os.path.join(self.config_dir, "vmailbox"), "w") as f:
                f.write("".join(f"{a} {p}\n"
                                for a, p in self.maildir_users.items()))
            os.makedirs(self.maildir_base, mode=0o700, exist_ok=True)
            shutil.chown(self.maildir_base, self.maildir_owner,
                         grp.getgrgid(pwd.getpwnam(
                             self.maildir_owner).pw_gid).gr_name)

    # --- running ---

    def _postfix(self, *args, check=True, timeout=60):
        cmd = [POSTFIX, "-c", self.config_dir, *args]
        if self.resolv_conf and args[:1] == ("start",):
            cmd = ["unshare", "--mount", "--propagation", "private",
                   "sh", "-c", 'mount --bind "$1" /etc/resolv.conf && '
                   'shift && exec "$@"', "sh", self.resolv_conf, *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise PostfixError(f"postfix {' '.join(args)} failed "
                               f"({r.returncode}): {r.stdout}{r.stderr}\n"
                               + self.log_tail())
        return r

    def postconf(self, *args):
        r = subprocess.run([POSTCONF, "-c", self.config_dir, *args],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise PostfixError(f"postconf {args}: {r.stderr}")
        return r.stdout

    @property
    def pid_file(self):
        return os.path.join(self.queue_dir, "pid", "master.pid")

    def read_master_pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def check(self):
        self._postfix("check")

    def start(self, timeout=30):
        self._postfix("start", timeout=timeout)
        self.master_pid = self.read_master_pid()
        if self.master_pid is None or not _alive(self.master_pid):
            raise PostfixError("postfix started but no master pid:\n"
                               + self.log_tail())
        deadline = time.time() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.port),
                                              timeout=2):
                    break
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise PostfixError("smtpd not listening on "
                                       f"{self.host}:{self.port}:\n"
                                       + self.log_tail())
                time.sleep(0.1)
        return self

    def running(self):
        pid = self.master_pid or self.read_master_pid()
        return pid is not None and _alive(pid)

    def stop(self, timeout=20):
        """Stop the instance: `postfix stop`, then make sure the master
        and every process of its group are gone, by their PIDs."""
        pid = self.master_pid or self.read_master_pid()
        if pid is None:
            return
        if _alive(pid):
            # postfix stop sends SIGTERM to the master, which terminates
            # its children; it forces the group after 5 seconds.
            self._postfix("stop", check=False, timeout=timeout)
        deadline = time.time() + timeout
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        # Children that outlived the master (they exit on their own when
        # the master's status pipe closes; don't wait for that).
        deadline = time.time() + 5
        while time.time() < deadline:
            left = _group_members(pid)
            if not left:
                break
            time.sleep(0.05)
        for child in _group_members(pid):
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.master_pid = None

    def processes(self):
        """PIDs of the instance's live processes (the master first)."""
        pid = self.master_pid or self.read_master_pid()
        if pid is None or not _alive(pid):
            return []
        return [pid] + [p for p in _group_members(pid) if p != pid]

    def cleanup(self):
        """Stop, and remove the directory if this object made it."""
        self.stop()
        if self.own_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- inspecting ---

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, n=60):
        return "\n".join(self.log().splitlines()[-n:])

    def wait_log(self, pattern, timeout=30):
        """Wait until the log has a line matching pattern; the match."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.log())
            if m:
                return m
            if time.time() > deadline:
                raise PostfixError(f"no {pattern!r} in the Postfix log:\n"
                                   + self.log_tail())
            time.sleep(0.2)

    def count_log(self, pattern):
        return len(re.findall(pattern, self.log(), re.M))

    def discarded(self):
        """Messages the discard transport has dropped (one line each)."""
        return self.count_log(r"/discard\[\d+\]: [0-9A-Za-z]+: to=.*"
                              r"status=sent")

    def virtual_delivered(self):
        """Messages virtual(8) has delivered (one line each)."""
        return self.count_log(r"/virtual\[\d+\]: [0-9A-Za-z]+: to=.*"
                              r"status=sent")

    def maildir_new(self, address):
        """Path of the new/ directory of address's Maildir."""
        return os.path.join(self.maildir_base,
                            self.maildir_users[address], "new")

    def queue_count(self):
        """Files in the queue directories that hold undelivered mail.  A
        directory that is not there raises (os.walk would say nothing,
        which would read as an empty queue)."""
        n = 0
        for d in QUEUE_DIRS:
            path = os.path.join(self.queue_dir, d)
            if not os.path.isdir(path):
                raise PostfixError(f"no Postfix queue directory {path}")
            for _root, _dirs, files in os.walk(path):
                n += len(files)
        return n

    def wait_queue_empty(self, timeout=60):
        deadline = time.time() + timeout
        while self.queue_count() > 0:
            if time.time() > deadline:
                raise PostfixError(f"{self.queue_count()} messages still "
                                   "queued:\n" + self.log_tail())
            time.sleep(0.2)
