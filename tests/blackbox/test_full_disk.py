"""A full disk: the message is refused with 452 4.3.1, nothing that was
not stored is acknowledged, and mail flows again once there is room."""

import os
import smtplib
import subprocess

import pytest

from conftest import Daemon
from test_crash import strip_received


@pytest.fixture
def small_fs(tmpbase):
    mnt = os.path.join(tmpbase, "small")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755",
                    "tmpfs", mnt], check=True)
    yield mnt
    subprocess.run(["umount", "-l", mnt])


def fill(path, leave):
    """Fill the file system of path, leaving about `leave` bytes."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    filler = os.path.join(path, "filler")
    with open(filler, "wb") as f:
        f.truncate(0)
        os.posix_fallocate(f.fileno(), 0, max(free - leave, 0))
    return filler


def test_full_disk_refused_then_recovers(small_fs):
    d = Daemon(small_fs)
    d.start()
    try:
        d.ctl("user", "add", "bob@example.org", input="pw\n")
        filler = fill(small_fs, 64 * 1024)
        body = b"Subject: big\r\n\r\n" + b"x" * 998 + b"\r\n"
        body = body * 400          # about 400 KB: cannot fit
        s = smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=30)
        s.ehlo("t.example.org")
        s.mail("a@example.net")
        s.rcpt("bob@example.org")
        code, msg = s.data(body)
        assert (code, msg[:5]) == (452, b"4.3.1"), (code, msg)
        assert d.message_ids() == []
        # the session goes on, and once there is room mail flows again
        os.unlink(filler)
        s.mail("a@example.net")
        s.rcpt("bob@example.org")
        code, msg = s.data(body)
        assert code == 250, msg
        s.quit()
        # queued, or already delivered to bob's Maildir
        ids = d.message_ids()
        assert len(ids) == 1
        assert strip_received(d.queue_cat(ids[0])) == body
    finally:
        d.stop()
