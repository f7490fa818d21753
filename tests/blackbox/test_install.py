"""`make install`, `make install-sendmail` and `make uninstall` (issue 16):
what lands where and with which mode, man pages that render without a
warning, a systemd unit that `systemd-analyze verify` accepts, and the
installed daemon running under the unit's capability bounding set,
no_new_privs and MemoryDenyWriteExecute.

The binaries are the ones `make` built (build/, the release flags): the
install target depends on `all` and rebuilds nothing that is current."""

import ctypes
import os
import random
import re
import shutil
import smtplib
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, Daemon, wait_for

MAN_PAGES = {
    "man8/cachetd.8": "cachetd",
    "man8/cachetctl.8": "cachetctl",
    "man1/cachet-sendmail.1": "cachet-sendmail",
    "man5/cachet.conf.5": "cachet.conf",
    "man5/cachet-spam-rules.5": "cachet-spam-rules",
}
BINARIES = ["cachetd", "cachetctl", "cachet-sendmail"]
PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1


def make(*args, timeout=600):
    r = subprocess.run(["make", "-C", ROOT, "--no-print-directory", *args],
                       capture_output=True, text=True, timeout=timeout)
    return r


def tree(root):
    """{path relative to root: (file type letter, mode bits)}"""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            kind = "l" if os.path.islink(p) else (
                "d" if os.path.isdir(p) else "f")
            out[os.path.relpath(p, root)] = (kind, st.st_mode & 0o7777)
    return out


@pytest.fixture(scope="module")
def destdir():
    """`make install DESTDIR=... PREFIX=/usr`, as a package build does."""
    d = tempfile.mkdtemp(prefix="cachet-install-", dir="/var/tmp")
    r = make("install", f"DESTDIR={d}", "PREFIX=/usr")
    assert r.returncode == 0, r.stdout + r.stderr
    yield d
    shutil.rmtree(d)


@pytest.fixture(scope="module")
def here():
    """An install whose paths are real on this machine (no DESTDIR): the
    unit names binaries that exist, for systemd-analyze verify and for
    running them.  Config, state and mail are under it too."""
    d = tempfile.mkdtemp(prefix="cachet-install-", dir="/var/tmp")
    os.chmod(d, 0o755)
    r = make("install", f"PREFIX={d}/usr", f"SYSCONFDIR={d}/etc",
             f"STATEDIR={d}/var/lib/cachet",
             f"MAILSTOREDIR={d}/var/mail/cachet")
    assert r.returncode == 0, r.stdout + r.stderr
    yield d
    shutil.rmtree(d)


def test_install_puts_each_file_in_place_with_its_mode(destdir):
    t = tree(destdir)
    docs = {p for p in t if p.startswith("usr/share/doc/cachet/")}
    assert "usr/share/doc/cachet/README.md" in docs
    assert "usr/share/doc/cachet/cachet.conf.md" in docs
    rest = {p: v for p, v in t.items() if p not in docs}
    files = {p: v for p, v in rest.items() if v[0] != "d"}
    want = {f"usr/sbin/{b}": ("f", 0o755) for b in BINARIES}
    want.update({f"usr/share/man/{m}": ("f", 0o644) for m in MAN_PAGES})
    want.update({
        "usr/share/cachet/spam.rules": ("f", 0o644),
        "usr/lib/systemd/system/cachetd.service": ("f", 0o644),
        "usr/lib/sysusers.d/cachet.conf": ("f", 0o644),
    })
    assert files == want
    # The config directory is made, empty: quickstart writes the file.
    assert rest["etc/cachet"] == ("d", 0o755)
    assert os.listdir(os.path.join(destdir, "etc/cachet")) == []
    assert not any(p.startswith("var") for p in t)
    # The binaries are the release build's, byte for byte.
    for b in BINARIES:
        with open(os.path.join(ROOT, "build", b), "rb") as f1, \
                open(os.path.join(destdir, "usr/sbin", b), "rb") as f2:
            assert f1.read() == f2.read(), b
    with open(os.path.join(ROOT, "etc/spam.rules"), "rb") as f1, \
            open(os.path.join(destdir, "usr/share/cachet/spam.rules"),
                 "rb") as f2:
        assert f1.read() == f2.read()


@pytest.mark.parametrize("page", sorted(MAN_PAGES))
def test_man_page_renders_without_warnings(destdir, page):
    path = os.path.join(destdir, "usr/share/man", page)
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0
    assert r.stderr == ""
    name = MAN_PAGES[page]
    section = page.rsplit(".", 1)[1]
    lines = r.stdout.splitlines()
    assert lines[0].split()[0] == f"{name.upper()}({section})"
    # NAME is what whatis(1) reads: "name - description".
    i = lines.index("NAME")
    assert re.match(rf"\s+{re.escape(name)} - \S", lines[i + 1])
    # The document's sections follow, in capitals.
    sections = [line for line in lines[i + 2:]
                if re.match(r"[A-Z][A-Z ,/-]+$", line)]
    assert sections, "no section after NAME"
    # Tables are wrapped to fit the terminal (a literal example line,
    # which cannot wrap, may be wider).
    assert max([len(line) for line in lines if "\u2502" in line] or
               [0]) <= 80
    # groff's own check, every warning on.
    r = subprocess.run(["groff", "-K", "utf8", "-T", "utf8", "-rLL=80n",
                        "-t", "-man", "-ww", "-z",
                        path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == ""
    # whatis(1)'s parser finds the name and the description.
    r = subprocess.run(["lexgrog", path], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0
    assert f'"{name} - ' in r.stdout


def unit_settings(path):
    """{key: [values]} of a unit file (comments and sections dropped)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;[":
                continue
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


def test_unit_names_the_installed_paths(destdir):
    s = unit_settings(os.path.join(
        destdir, "usr/lib/systemd/system/cachetd.service"))
    assert s["ExecStart"] == [
        "/usr/sbin/cachetd -d -f /etc/cachet/cachet.conf"]
    assert s["ExecReload"] == [
        "/usr/sbin/cachetctl -f /etc/cachet/cachet.conf reload"]
    assert s["ReadWritePaths"] == ["/var/lib/cachet /var/mail/cachet"]
    assert ("+/usr/bin/systemd-sysusers /usr/lib/sysusers.d/cachet.conf"
            in s["ExecStartPre"])
    text = open(os.path.join(
        destdir, "usr/lib/systemd/system/cachetd.service")).read()
    assert "@" not in text.replace("man:", "")


def test_systemd_analyze_verify_accepts_the_unit(here):
    unit = os.path.join(here, "usr/lib/systemd/system/cachetd.service")
    # Documentation=man:... is checked too: man finds the installed pages.
    env = dict(os.environ, MANPATH=os.path.join(here, "usr/share/man"))
    r = subprocess.run(["systemd-analyze", "verify", unit],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    # And it does fail a unit whose binary is not there.
    bad = os.path.join(here, "cachetd.service")
    with open(unit) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text.replace(f"ExecStart={here}/usr/sbin/cachetd",
                             f"ExecStart={here}/usr/sbin/nothing"))
    r = subprocess.run(["systemd-analyze", "verify", bad],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode != 0
    assert "not executable" in r.stderr


def test_sysusers_file_makes_the_role_users(destdir):
    root = tempfile.mkdtemp(prefix="cachet-sysusers-", dir="/var/tmp")
    try:
        os.makedirs(os.path.join(root, "etc"))
        r = subprocess.run(
            ["systemd-sysusers", f"--root={root}",
             os.path.join(destdir, "usr/lib/sysusers.d/cachet.conf")],
            capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(root, "etc/passwd")) as f:
            users = {line.split(":")[0]: line.split(":")
                     for line in f if line.strip()}
        # The roles' users as the parent names them (proc_user()).
        assert set(users) == {"_cachet", "_cachetl", "_cachetq",
                              "_cachetm", "_cacheth"}
        for u in users.values():
            assert int(u[2]) < 1000  # system users
            assert u[6].strip() == "/usr/sbin/nologin"
    finally:
        shutil.rmtree(root)


def test_install_sendmail_only_when_asked(destdir):
    sendmail = os.path.join(destdir, "usr/sbin/sendmail")
    assert not os.path.lexists(sendmail)
    r = make("install-sendmail", f"DESTDIR={destdir}", "PREFIX=/usr")
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.readlink(sendmail) == "/usr/sbin/cachet-sendmail"
    # Again: still ours, still fine.
    r = make("install-sendmail", f"DESTDIR={destdir}", "PREFIX=/usr")
    assert r.returncode == 0, r.stdout + r.stderr
    os.unlink(sendmail)


def test_install_sendmail_leaves_another_mta_alone():
    d = tempfile.mkdtemp(prefix="cachet-install-", dir="/var/tmp")
    try:
        os.makedirs(os.path.join(d, "usr/sbin"))
        other = os.path.join(d, "usr/sbin/sendmail")
        with open(other, "w") as f:
            f.write("#!/bin/sh\n# another MTA\n")
        r = make("install-sendmail", f"DESTDIR={d}", "PREFIX=/usr")
        assert r.returncode != 0
        assert "is not cachet's" in r.stderr
        with open(other) as f:
            assert f.read() == "#!/bin/sh\n# another MTA\n"
    finally:
        shutil.rmtree(d)


def test_uninstall_removes_what_install_put_and_keeps_config():
    d = tempfile.mkdtemp(prefix="cachet-install-", dir="/var/tmp")
    try:
        r = make("install-sendmail", f"DESTDIR={d}", "PREFIX=/usr")
        assert r.returncode == 0, r.stdout + r.stderr
        conf = os.path.join(d, "etc/cachet/cachet.conf")
        with open(conf, "w") as f:
            f.write("hostname mail.example.org\n")
        r = make("uninstall", f"DESTDIR={d}", "PREFIX=/usr")
        assert r.returncode == 0, r.stdout + r.stderr
        left = {p for p, v in tree(d).items() if v[0] != "d"}
        assert left == {"etc/cachet/cachet.conf"}
    finally:
        shutil.rmtree(d)


def test_installed_cachetd_checks_a_config(here):
    cachetd = os.path.join(here, "usr/sbin/cachetd")
    conf = os.path.join(here, "etc/cachet/cachet.conf")
    with open(conf, "w") as f:
        f.write("hostname mail.example.org\n"
                f"state-dir {here}/var/lib/cachet\n"
                f"mail-dir {here}/var/mail/cachet\n"
                "listen smtp 127.0.0.1:2525\n"
                "domain example.org\n")
    r = subprocess.run([cachetd, "-n", "-f", conf], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stderr
    with open(conf, "a") as f:
        f.write("listen smtp nowhere\n")
    r = subprocess.run([cachetd, "-n", "-f", conf], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert f"{conf}:6:" in r.stderr


def unit_caps(unit):
    """The unit's CapabilityBoundingSet as setpriv's names."""
    caps = unit_settings(unit)["CapabilityBoundingSet"]
    assert len(caps) == 1
    return [c[len("CAP_"):].lower() for c in caps[0].split()]


# The unit's file-system sandbox, as mounts in a namespace of the daemon's
# own: ProtectSystem=strict (the root read-only) with ReadWritePaths=
# state-dir and mail-dir, ProtectHome (empty, unreadable /home and /root),
# PrivateTmp (a /tmp of its own) and PrivateDevices (a /dev with the
# harmless nodes only).  The script ends by exec'ing setpriv, which
# execs cachetd: the pid stays the one Popen started.
SANDBOX_SH = r"""
set -e
state=$1 mail=$2 dev=$3
shift 3
mount --bind "$state" "$state"
mount --bind "$mail" "$mail"
mount -t tmpfs -o mode=1777 tmpfs /tmp
for d in /home /root; do mount -t tmpfs -o ro,mode=000 tmpfs "$d"; done
mount -t tmpfs -o mode=755 tmpfs "$dev"
for n in null zero full random urandom tty; do
	touch "$dev/$n"
	mount --bind "/dev/$n" "$dev/$n"
done
mount --move "$dev" /dev
mount -o remount,bind,ro /
exec "$@"
"""


class UnitLimitedDaemon(Daemon):
    """The installed cachetd, run as the unit runs it as far as a test
    can without systemd: root, no capability outside the unit's bounding
    set, no_new_privs, memory never both writable and executable
    (PR_SET_MDWE, what MemoryDenyWriteExecute= asks of the kernel), and
    the unit's file-system sandbox (SANDBOX_SH)."""

    def __init__(self, base, cachetd, caps, **kw):
        super().__init__(base, **kw)
        self.cachetd = cachetd
        self.caps = caps

    def start(self, wait=True):
        def mdwe():
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0,
                          0) != 0:
                raise OSError(ctypes.get_errno(), "PR_SET_MDWE")
        # ExecStartPre: the directories exist before they are mounted.
        for p in (self.state, self.mail):
            os.makedirs(p, exist_ok=True)
        dev = os.path.join(self.base, "dev")
        os.makedirs(dev, exist_ok=True)
        bounding = "-all," + ",".join("+" + c for c in self.caps)
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private",
             "sh", "-c", SANDBOX_SH, "sandbox", self.state, self.mail, dev,
             "setpriv", "--no-new-privs", f"--bounding-set={bounding}",
             "--inh-caps=-all", self.cachetd, "-d", "-v", "-f", self.conf],
            stdout=self.logf, stderr=self.logf, cwd=self.base,
            preexec_fn=mdwe)
        if wait:
            self.wait_ready()
        return self


def test_installed_cachetd_runs_within_the_units_limits(here, tmpbase):
    # The roles drop from root to their users: the suite runs as root.
    assert os.geteuid() == 0
    unit = os.path.join(here, "usr/lib/systemd/system/cachetd.service")
    s = unit_settings(unit)
    assert s["NoNewPrivileges"] == ["yes"]
    assert s["MemoryDenyWriteExecute"] == ["yes"]
    caps = unit_caps(unit)
    # ExecStartPre: the role users, from the installed sysusers file (the
    # sandbox leaves /etc read-only, where cachetd would add them).
    r = subprocess.run(["systemd-sysusers", os.path.join(
        here, "usr/lib/sysusers.d/cachet.conf")], capture_output=True,
        text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # A port below 1024 (CAP_NET_BIND_SERVICE), on a loopback address of
    # its own so that nothing else here holds it.
    low = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.9"
    d = UnitLimitedDaemon(tmpbase, os.path.join(here, "usr/sbin/cachetd"),
                          caps, extra=f"listen smtp {low}:25")
    d.start()
    try:
        with open(f"/proc/{d.proc.pid}/status") as f:
            status = f.read()
        # In its own mount namespace, the root read-only.
        assert (os.readlink(f"/proc/{d.proc.pid}/ns/mnt") !=
                os.readlink("/proc/self/ns/mnt"))
        with open(f"/proc/{d.proc.pid}/mounts") as f:
            mounts = [line.split() for line in f]
        assert [m[3].split(",")[0] for m in mounts if m[1] == "/"] == ["ro"]
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M)
        bnd = int(re.search(r"^CapBnd:\s+([0-9a-f]+)$", status,
                            re.M).group(1), 16)
        assert bin(bnd).count("1") == len(caps)
        # Every role came up (wait_ready) and dropped to its user; a
        # message goes through smtp, queue and mda into the Maildir.
        d.add_user("alice@example.org")
        with smtplib.SMTP(low, 25, timeout=10) as c:
            c.sendmail("bob@example.net", ["alice@example.org"],
                       b"Subject: installed\r\n\r\nhello\r\n")
        wait_for(lambda: len(d.delivered()) == 1)
        # A role killed is restarted (the parent's CAP_KILL and
        # setuid work), and SIGTERM stops everything.
        pid = d.role_pids()["queue"]
        os.kill(pid, 9)
        wait_for(lambda: d.role_pids().get("queue", pid) != pid and
                 d.status()["queue"]["state"] == "alive")
    finally:
        began = time.monotonic()
        d.stop()
    # The parent stopped every role itself (CAP_KILL), well before the
    # harness would have killed it.
    assert d.proc.returncode == 0
    assert time.monotonic() - began < 10
