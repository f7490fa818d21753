"""The foundation: config checking, the process split, supervision,
reload, stop, privileges.  Each test starts its own cachetd."""

import os
import pwd
import signal
import socket
import subprocess
import time

from conftest import (wait_for, CACHETD, ROLES, WORKER_ROLES, Daemon,
                      pid_alive, role_of)


def default_workers():
    """What smtp-workers auto (the default) means here: one per core
    online, at most 8."""
    return min(os.sysconf("SC_NPROCESSORS_ONLN"), 8)


def test_status_lists_every_role_alive(daemon):
    r = daemon.ctl("status")
    st = daemon.parse_status(r.stdout)
    # One line per process: a worker role once per worker.
    expect = [role for role in ROLES if role not in WORKER_ROLES]
    for role in WORKER_ROLES:
        expect += [f"{role}/{w}" for w in range(default_workers())]
    assert sorted(st) == sorted(expect)
    for role, v in st.items():
        assert v["state"] == "alive", role
        assert pid_alive(v["pid"])
    # every listener is reported with its address
    for kind, port in daemon.ports.items():
        assert f"127.0.0.1:{port}" in r.stdout
    # and accepts connections
    for kind, port in daemon.ports.items():
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_roles_are_separate_processes_of_the_parent(daemon):
    pids = daemon.role_pids()
    assert len(set(pids.values())) == len(pids)
    assert {role_of(p) for p in pids} == set(ROLES)
    for pid in pids.values():
        with open(f"/proc/{pid}/stat") as f:
            ppid = int(f.read().split(")")[-1].split()[1])
        assert ppid == daemon.proc.pid


def test_killed_role_comes_back(daemon):
    before = daemon.status()
    victim = before["queue"]["pid"]
    os.kill(victim, signal.SIGKILL)

    def back():
        st = daemon.status()
        q = st["queue"]
        return (q["pid"] != victim and q["state"] == "alive"
                and q["restarts"] == 1) and st
    st = wait_for(back, timeout=15)
    assert st, daemon.read_log()
    # the others were not touched
    assert sorted(st) == sorted(before)
    for process in before:
        if process != "queue":
            assert st[process]["pid"] == before[process]["pid"]
    assert "role died role=queue" in daemon.read_log()


def test_killed_role_rewired_to_siblings(daemon):
    """A restarted smtp worker gets fresh channels: killing it twice in a
    row still leaves every role alive and answering."""
    for _ in range(2):
        pid = daemon.status()["smtp/0"]["pid"]
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: daemon.status()["smtp/0"]["pid"] != pid
                        and daemon.status()["smtp/0"]["state"] == "alive",
                        timeout=20), daemon.read_log()
    st = daemon.status()
    assert all(v["state"] == "alive" for v in st.values())


def test_sigterm_leaves_no_process(daemon):
    pids = list(daemon.role_pids().values()) + [daemon.proc.pid]
    daemon.proc.send_signal(signal.SIGTERM)
    daemon.proc.wait(timeout=15)
    assert daemon.proc.returncode == 0
    assert wait_for(lambda: not any(pid_alive(p) for p in pids), 5)
    assert not os.path.exists(daemon.control)


def test_cachetctl_stop(daemon):
    pids = list(daemon.role_pids().values())
    r = daemon.ctl("stop")
    assert r.returncode == 0
    daemon.proc.wait(timeout=15)
    assert wait_for(lambda: not any(pid_alive(p) for p in pids), 5)


def test_check_config_ok(tmpbase):
    d = Daemon(tmpbase)
    r = subprocess.run([CACHETD, "-n", "-f", d.conf], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_broken_config_refused_with_line(tmpbase):
    path = os.path.join(tmpbase, "bad.conf")
    with open(path, "w") as f:
        f.write("hostname mx.example.org\n"
                "# a comment\n"
                "listen smtp 127.0.0.1:99999\n"
                "frobnicate yes\n"
                "listen smtp 127.0.0.1:2525\n")
    r = subprocess.run([CACHETD, "-n", "-f", path], capture_output=True,
                       text=True)
    assert r.returncode == 1
    assert f"{path}:3:" in r.stderr
    assert f"{path}:4:" in r.stderr
    # and the daemon itself refuses to start on it
    r = subprocess.run([CACHETD, "-d", "-f", path], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert f"{path}:3:" in r.stderr


def test_missing_certificate_refused(tmpbase):
    path = os.path.join(tmpbase, "c.conf")
    with open(path, "w") as f:
        f.write("listen smtp 127.0.0.1:2525\n"
                "tls {\n certificate /nonexistent/cert.pem\n"
                " key /nonexistent/key.pem\n}\n")
    r = subprocess.run([CACHETD, "-n", "-f", path], capture_output=True,
                       text=True)
    assert r.returncode == 1
    assert f"{path}:3:" in r.stderr


def test_self_signed_certificate_made_at_first_start(daemon):
    cert = os.path.join(daemon.state, "tls", "cert.pem")
    key = os.path.join(daemon.state, "tls", "key.pem")
    assert os.path.exists(cert)
    assert os.stat(key).st_mode & 0o077 == 0
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                          "-ext", "subjectAltName"],
                         capture_output=True, text=True).stdout
    assert "DNS:mx.example.org" in out


def test_reload_keeps_old_config_on_error(daemon):
    before = daemon.role_pids()
    with open(daemon.conf, "a") as f:
        f.write("bogus-directive 1\n")
    r = daemon.ctl("reload", check=False)
    assert r.returncode != 0
    assert "error" in r.stderr
    # SIGHUP does the same
    daemon.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reload refused" in daemon.read_log(), 5)
    time.sleep(0.5)
    assert daemon.role_pids() == before
    assert all(v["state"] == "alive" for v in daemon.status().values())


def test_reload_applies_new_listener(daemon):
    from conftest import free_port
    port = free_port()
    with open(daemon.conf, "a") as f:
        f.write(f"listen smtp 127.0.0.1:{port}\n")
    before = daemon.role_pids()
    daemon.proc.send_signal(signal.SIGHUP)

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            return False
    assert wait_for(up, 10), daemon.read_log()
    st = wait_for(lambda: all(v["state"] == "alive" and
                              v["pid"] != before[k]
                              for k, v in daemon.status().items())
                  and daemon.status(), 15)
    assert st, daemon.read_log()
    # old listeners still there
    socket.create_connection(("127.0.0.1", daemon.ports["smtp"]), 2).close()


def test_control_socket_survives_garbage(daemon):
    for junk in [b"\xff" * 12, b"\x00" * 3, b"\x10\x00\x00\x00" * 10]:
        s = socket.socket(socket.AF_UNIX)
        s.connect(daemon.control)
        s.sendall(junk)
        s.close()
    assert all(v["state"] == "alive" for v in daemon.status().values())


def _uid_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])


def test_roles_run_as_their_users_in_their_chroots(daemon):
    assert os.geteuid() == 0, "CI runs as root; this test needs root"
    pids = daemon.role_pids()
    expect = {
        "smtp": ("_cachet", os.path.join(daemon.state, "empty")),
        "mta": ("_cachet", os.path.join(daemon.state, "empty")),
        "lookup": ("_cachetl", os.path.join(daemon.state, "lookup")),
        "queue": ("_cachetq", os.path.join(daemon.state, "queue")),
        "mda": ("_cachetm", daemon.mail),
        "imap": ("_cachetm", daemon.mail),
        "pop3": ("_cachetm", daemon.mail),
        "http": ("_cacheth", os.path.join(daemon.state, "empty")),
    }
    assert {role_of(p) for p in pids} == set(expect)
    for process, pid in pids.items():
        user, root = expect[role_of(process)]
        assert _uid_of(pid) == pwd.getpwnam(user).pw_uid, process
        assert os.readlink(f"/proc/{pid}/root") == root, process
    # the parent stays root and unchrooted
    assert _uid_of(daemon.proc.pid) == 0
    assert os.readlink(f"/proc/{daemon.proc.pid}/root") == "/"


def test_smtp_role_cannot_open_the_spool(daemon):
    """Run as the smtp role's user: the spool and the lookup database
    are closed to it, even outside its chroot."""
    pid = daemon.role_pids()["smtp/0"]
    uid = _uid_of(pid)
    spool = os.path.join(daemon.state, "queue")
    probe = os.path.join(spool, "probe")
    with open(probe, "w") as f:
        f.write("secret")
    code = ("import os,sys\n"
            "os.setgroups([]); os.setgid(%d); os.setuid(%d)\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n"
            "        open(p).read(); print('OPENED', p)\n"
            "    except PermissionError:\n"
            "        print('DENIED', p)\n" % (uid, uid))
    r = subprocess.run(["/usr/bin/python3", "-c", code, probe,
                        os.path.join(daemon.state, "lookup", "x")],
                       capture_output=True, text=True)
    assert "OPENED" not in r.stdout
    assert r.stdout.count("DENIED") == 2, r.stdout + r.stderr
    # and inside its chroot there is nothing at all
    assert os.listdir(f"/proc/{pid}/root/") == []


def test_embedded_default_runs_the_demo(tmpbase):
    """`make run`: no -f, the embedded config, its demo user can log in
    and receive mail, all under ./var of the current directory."""
    import smtplib
    import ssl
    from conftest import CACHETCTL
    log = open(os.path.join(tmpbase, "demo.log"), "wb")
    proc = subprocess.Popen([CACHETD, "-d"], cwd=tmpbase, stdout=log,
                            stderr=log)
    sock = os.path.join(tmpbase, "var", "state", "control.sock")
    try:
        def ready():
            if not os.path.exists(sock):
                return False
            r = subprocess.run([CACHETCTL, "-s", sock, "user", "list"],
                               capture_output=True, text=True)
            return r.returncode == 0 and "demo@demo.cachet.test" in r.stdout
        assert wait_for(ready, 20), open(log.name).read()
        s = smtplib.SMTP("127.0.0.1", 2587, timeout=10)
        s.ehlo("t.example")
        s.starttls(context=ssl._create_unverified_context())
        s.ehlo("t.example")
        s.login("demo@demo.cachet.test", "demo")
        s.sendmail("demo@demo.cachet.test", ["demo@demo.cachet.test"],
                   b"Subject: hi\r\n\r\nhello\r\n")
        s.quit()
        new = os.path.join(tmpbase, "var", "mail", "demo.cachet.test",
                           "demo", "new")
        assert wait_for(lambda: os.path.isdir(new) and os.listdir(new), 15)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        log.close()
