"""Sandboxed roles (src/lib/sandbox.c): every role runs under its seccomp
filter; a role made to try a call its filter forbids (the test build's
`cachetctl sandbox-test ROLE CALL`, as a compromised role would) dies of
SIGSYS, the parent logs it as a seccomp kill and starts it again, and
the new process serves as before."""

import errno
import http.client
import os
import poplib
import re
import smtplib

import pytest

from conftest import (BUILD, ROLES, ROOT, free_port, pid_alive, role_of,
                      tls_client_context, wait_for)
from smtppeer import Peer

# (role, what it is made to try, the system call that kills it)
FORBIDDEN = (
    [("smtp", "open", "openat"), ("smtp", "socket", "socket"),
     ("smtp", "connect", "connect")]
    + [(r, "connect", "connect") for r in ("pop3", "imap")]
    + [(r, "socket", "socket") for r in ("pop3", "imap", "queue", "mda")]
    + [(r, "fork", "clone") for r in ROLES]
    + [(r, "exec", "execve") for r in ROLES])

MSG = (b"From: alice@example.org\r\nTo: bob@example.org\r\n"
       b"Subject: after the sandbox\r\n\r\nstill here\r\n")


@pytest.fixture
def peer():
    """An SMTP server on loopback that every other domain is relayed
    to, so that the mta has somewhere to deliver."""
    p = Peer("127.0.0.1", port=free_port()).start()
    yield p
    p.stop()


@pytest.fixture
def sandboxed(make_daemon, peer):
    d = make_daemon(extra=f"relay * via [127.0.0.1]:{peer.port}\n"
                    "smtp-plaintext-auth-loopback yes")
    d.start()
    d.add_user("bob@example.org", "hunter2")
    return d


def seccomp_mode(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Seccomp:"):
                return int(line.split()[1])
    raise AssertionError(f"no Seccomp: line for {pid}")


def kmsg_syscall(pid):
    """The syscall number in the kernel's audit record (type=1326) of a
    seccomp kill of pid, as the test reads /dev/kmsg; None if there is
    none to read (no access, ratelimited, or audit goes to auditd)."""
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    found = None
    try:
        for _ in range(200000):
            try:
                rec = os.read(fd, 8192).decode("utf-8", "replace")
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.EPIPE:
                    continue
                break
            msg = rec.split(";", 1)[-1].split("\n", 1)[0]
            m = re.match(r"audit: type=1326 .* pid=(\d+) .* "
                         r"syscall=(\d+) ", msg)
            if m and int(m.group(1)) == pid:
                found = int(m.group(2))
    finally:
        os.close(fd)
    return found


WORKER_ROLES = ("smtp", "pop3", "imap")


def process(role):
    """The process `cachetctl sandbox-test ROLE` reaches: a role's first
    worker ("smtp/0") where the role runs workers, else the role."""
    return f"{role}/0" if role in WORKER_ROLES else role


def role_back(d, role, old_pid, restarts):
    """Wait until role runs again in a new process that answers pings."""
    def back():
        st = d.status().get(process(role), {})
        return (st.get("pid") not in (None, 0, old_pid)
                and st.get("restarts", 0) > restarts
                and st.get("state") == "alive")
    assert wait_for(back, timeout=30), d.log_tail()
    return d.status()[process(role)]["pid"]


def send_mail(d, rcpt):
    with smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=10) as s:
        s.sendmail("alice@example.org", [rcpt], MSG)


def submit_mail(d, rcpt):
    """Through submission with AUTH (plaintext allowed on loopback)."""
    with smtplib.SMTP("127.0.0.1", d.ports["submission"], timeout=10) as s:
        s.login("bob@example.org", "hunter2")
        s.sendmail("bob@example.org", [rcpt], MSG)


def serves(d, role, peer):
    """The role does its work again: mail in and delivered (smtp, queue,
    lookup, mda), out (mta), a POP3 login (pop3, lookup), an HTTPS
    request answered (http, lookup: it signs the handshake).  imap has
    no protocol yet: it answers pings (role_back)."""
    if role in ("smtp", "queue", "lookup", "mda"):
        before = len(d.delivered())
        send_mail(d, "bob@example.org")
        assert wait_for(lambda: len(d.delivered()) > before), d.log_tail()
    if role == "mta":
        submit_mail(d, "carol@example.net")
        [m] = peer.wait(1)
        assert m["rcpts"] == ["carol@example.net"]
    if role in ("pop3", "lookup"):
        p = poplib.POP3("127.0.0.1", d.ports["pop3"], timeout=10)
        try:
            p.user("bob@example.org")
            p.pass_("hunter2")
            assert p.stat()[0] >= 0
        finally:
            p.quit()
    if role in ("http", "lookup"):
        c = http.client.HTTPSConnection(
            "127.0.0.1", d.ports["https"], timeout=10,
            context=tls_client_context())
        try:
            c.request("GET", "/.well-known/mta-sts.txt",
                      headers={"Host": "mta-sts.example.org"})
            r = c.getresponse()
            # No mta-sts-policy here: the role answers, with a 404.
            assert (r.status, r.read()) == (404, b"not found\n")
        finally:
            c.close()


def test_every_role_runs_under_its_filter(sandboxed):
    pids = sandboxed.role_pids()
    assert sorted({role_of(p) for p in pids}) == sorted(ROLES)
    for role, pid in pids.items():
        assert seccomp_mode(pid) == 2, role
    # The parent forks and execs the roles: it has no filter.
    assert seccomp_mode(sandboxed.proc.pid) == 0
    assert "sandbox: off" not in sandboxed.read_log()


@pytest.mark.parametrize("role,call,syscall", FORBIDDEN,
                         ids=[f"{r}-{c}" for r, c, _s in FORBIDDEN])
def test_forbidden_call_kills_the_role_which_comes_back(sandboxed, peer,
                                                       role, call, syscall):
    d = sandboxed
    before = d.status()[process(role)]
    pid = before["pid"]
    d.ctl("sandbox-test", role, call)
    died = re.compile(rf"role died role={process(role)} pid={pid} signal=31 "
                      rf"\(SIGSYS\): killed by its seccomp filter "
                      rf"syscall=(\d+ \((\w+)\)|unknown)")
    m = wait_for(lambda: died.search(d.read_log()), timeout=20)
    assert m, d.log_tail()
    assert not pid_alive(pid)
    # The call is named when the kernel's audit record can be read.
    nr = kmsg_syscall(pid)
    if nr is None:
        assert m.group(1).startswith("unknown"), m.group(0)
    else:
        assert m.group(1) == f"{nr} ({syscall})", m.group(0)

    new = role_back(d, role, pid, before["restarts"])
    assert seccomp_mode(new) == 2
    serves(d, role, peer)


def test_without_the_sandbox_the_call_is_made_and_the_role_lives(
        make_daemon):
    # The same request with `sandbox no`: the role makes the call and
    # lives on, so the deaths above are the filter's doing.
    d = make_daemon(extra="sandbox no")
    d.start()
    pids = d.role_pids()
    for pid in pids.values():
        assert seccomp_mode(pid) == 0
    d.ctl("sandbox-test", "smtp", "socket")
    d.ctl("sandbox-test", "pop3", "connect")
    assert wait_for(lambda: "sandbox-test: socket returned" in d.read_log()
                    and "sandbox-test: connect returned" in d.read_log())
    assert d.role_pids() == pids
    assert "killed by its seccomp filter" not in d.read_log()
    assert "sandbox: off (sandbox no)" in d.read_log()


def test_a_sanitizer_report_comes_out_whole(sandboxed):
    # A bug in a sandboxed role: AddressSanitizer's report (which looks
    # for /proc and a symbolizer) must not be cut short by a SIGSYS.
    d = sandboxed
    pid = d.status()["smtp/0"]["pid"]
    d.ctl("sandbox-test", "smtp", "asan-report")
    assert wait_for(lambda: f"role=smtp/0 pid={pid} " in d.read_log()), \
        d.log_tail()
    log = d.read_log()
    assert re.search(rf"=={pid}==ERROR: AddressSanitizer: "
                     r"heap-buffer-overflow", log), log[-4000:]
    assert re.search(r"SUMMARY: AddressSanitizer: heap-buffer-overflow",
                     log), log[-4000:]
    assert "#1 0x" in log
    assert f"role died role=smtp/0 pid={pid} signal=31" not in log


def test_unknown_role_or_call_is_refused(sandboxed):
    d = sandboxed
    r = d.ctl("sandbox-test", "nosuchrole", "exec", check=False)
    assert r.returncode == 1 and "not running" in r.stderr
    r = d.ctl("sandbox-test", "smtp", check=False)
    assert r.returncode == 2


def test_release_build_has_no_test_hooks():
    # The hook is compiled into the test build only (CACHET_TEST_HOOKS).
    release = os.path.join(ROOT, "build", "cachetd")
    assert os.path.exists(release), "build the release binary: make"
    for path, want in ((release, False),
                       (os.path.join(BUILD, "cachetd"), True)):
        with open(path, "rb") as f:
            data = f.read()
        assert (b"sandbox-test" in data) == want, path
        assert (b"PARENT_SANDBOX_TEST" in data) == want, path
