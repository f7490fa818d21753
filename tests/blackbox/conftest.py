"""Black-box test harness: start the real cachetd on loopback with a
temporary config, talk to it with real clients, stop it by PID."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CACHET_BUILD", os.path.join(ROOT, "build", "san"))
CACHETD = os.path.join(BUILD, "cachetd")
CACHETCTL = os.path.join(BUILD, "cachetctl")
SENDMAIL = os.path.join(BUILD, "cachet-sendmail")

ROLES = ["smtp", "lookup", "queue", "mda", "mta", "imap", "pop3"]
KINDS = ["smtp", "submission", "submissions", "imap", "imaps", "pop3",
         "pop3s"]


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Daemon:
    """One cachetd instance in its own directory."""

    def __init__(self, base, extra="", user=None, domains=("example.org",)):
        self.base = base
        self.state = os.path.join(base, "state")
        self.mail = os.path.join(base, "mail")
        self.ports = {k: free_port() for k in KINDS}
        self.conf = os.path.join(base, "cachet.conf")
        self.log = os.path.join(base, "cachetd.log")
        lines = [
            "hostname mx.example.org",
            f"state-dir {self.state}",
            f"mail-dir {self.mail}",
        ]
        if user:
            lines.append(f"user {user}")
        for k in KINDS:
            lines.append(f"listen {k} 127.0.0.1:{self.ports[k]}")
        for d in domains:
            lines.append(f"domain {d}")
        lines.append(extra)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    @property
    def control(self):
        return os.path.join(self.state, "control.sock")

    def start(self, wait=True):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [CACHETD, "-d", "-v", "-f", self.conf],
            stdout=self.logf, stderr=self.logf, cwd=self.base)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        last = ""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"cachetd exited {self.proc.returncode}:\n"
                    + self.read_log())
            if os.path.exists(self.control):
                r = self.ctl("status", check=False)
                last = r.stdout + r.stderr
                st = self.parse_status(r.stdout)
                if r.returncode == 0 and all(
                        st.get(role, {}).get("state") == "alive"
                        for role in ROLES):
                    return st
            time.sleep(0.1)
        raise AssertionError("cachetd not ready:\n" + last + self.read_log())

    def ctl(self, *args, input=None, check=True, timeout=30):
        r = subprocess.run([CACHETCTL, "-s", self.control, *args],
                           input=input, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"cachetctl {args} failed "
                                 f"({r.returncode}): {r.stderr}")
        return r

    @staticmethod
    def parse_status(text):
        roles = {}
        for line in text.splitlines():
            m = re.match(r"role (\S+)\s+pid (\d+)\s+up (\d+)\s+"
                         r"restarts (\d+)\s+(\S+)", line)
            if m:
                roles[m.group(1)] = {"pid": int(m.group(2)),
                                     "restarts": int(m.group(4)),
                                     "state": m.group(5)}
        return roles

    def status(self):
        return self.parse_status(self.ctl("status").stdout)

    def role_pids(self):
        return {r: v["pid"] for r, v in self.status().items()}

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            return
        pids = []
        try:
            pids = list(self.role_pids().values())
        except Exception:
            pass
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        deadline = time.time() + 5
        for pid in pids:
            while pid and pid_alive(pid) and time.time() < deadline:
                time.sleep(0.05)
            if pid and pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.logf.close()


@pytest.fixture
def tmpbase():
    # Not under /tmp's sticky, root-only paths: roles running as other
    # users must reach their directories, so make the base traversable.
    d = tempfile.mkdtemp(prefix="cachet-test-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    subprocess.run(["rm", "-rf", d])


@pytest.fixture
def daemon(tmpbase):
    d = Daemon(tmpbase)
    d.start()
    yield d
    d.stop()


@pytest.fixture
def make_daemon(tmpbase):
    made = []

    def make(**kw):
        sub = tempfile.mkdtemp(dir=tmpbase)
        os.chmod(sub, 0o755)
        d = Daemon(sub, **kw)
        made.append(d)
        return d
    yield make
    for d in made:
        d.stop()
