"""cachet-sendmail: the sendmail-compatible command hands messages to the
running daemon over the local socket."""

import os
import pwd
import subprocess

from conftest import SENDMAIL
from test_crash import strip_received


def run_sendmail(daemon, args, data, user=None):
    env = dict(os.environ,
               CACHET_SUBMIT_SOCKET=os.path.join(daemon.state,
                                                 "submit.sock"))
    pre = None
    if user is not None:
        pw = pwd.getpwnam(user)

        def pre():
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
    return subprocess.run([SENDMAIL, *args], input=data, env=env,
                          capture_output=True, timeout=30,
                          preexec_fn=pre)


def only_message(daemon):
    """The one message stored, queued or already delivered."""
    ids = daemon.message_ids()
    assert len(ids) == 1, ids
    return strip_received(daemon.queue_cat(ids[0]))


def test_sendmail_recipient_args(daemon):
    daemon.ctl("user", "add", "bob@example.org", input="pw\n")
    msg = (b"From: cron@example.org\nTo: bob@example.org\n"
           b"Date: Mon, 23 Nov 2026 00:00:00 +0000\n"
           b"Message-ID: <1@example.org>\nSubject: t\n\n"
           b"hello\n.leading dot\n")
    r = run_sendmail(daemon, ["-i", "-f", "cron@example.org",
                              "bob@example.org"], msg)
    assert r.returncode == 0, r.stderr
    # LF became CRLF; the leading dot survived dot-stuffing
    assert only_message(daemon) == msg.replace(b"\n", b"\r\n")


def test_sendmail_t_reads_headers_and_drops_bcc(daemon):
    daemon.ctl("user", "add", "bob@example.org", input="pw\n")
    daemon.ctl("user", "add", "carol@example.org", input="pw\n")
    msg = (b"From: me@example.org\nTo: Bob <bob@example.org>\n"
           b"Bcc: carol@example.org\nSubject: t\n\nbody\n")
    r = run_sendmail(daemon, ["-t", "-oi"], msg)
    assert r.returncode == 0, r.stderr
    [qid] = daemon.message_ids()
    assert daemon.envelope(qid)["rcpts"] == ["bob@example.org",
                                             "carol@example.org"]
    stored = only_message(daemon)
    assert b"Bcc:" not in stored
    assert b"Date:" in stored and b"Message-ID:" in stored


def test_sendmail_dot_ends_without_i(daemon):
    daemon.ctl("user", "add", "bob@example.org", input="pw\n")
    r = run_sendmail(daemon, ["bob@example.org"],
                     b"Subject: t\n\nfirst\n.\nnot sent\n")
    assert r.returncode == 0, r.stderr
    stored = only_message(daemon)
    assert b"first" in stored and b"not sent" not in stored


def test_sendmail_unknown_recipient_exit_code(daemon):
    r = run_sendmail(daemon, ["nobody@example.org"], b"Subject: t\n\nx\n")
    assert r.returncode == 67  # EX_NOUSER
    assert daemon.message_ids() == []


def test_sendmail_no_recipients_is_usage_error(daemon):
    r = run_sendmail(daemon, [], b"Subject: t\n\nx\n")
    assert r.returncode == 64  # EX_USAGE


def test_sendmail_daemon_down(daemon):
    daemon.stop()
    r = run_sendmail(daemon, ["bob@example.org"], b"Subject: t\n\nx\n")
    assert r.returncode == 69  # EX_UNAVAILABLE


def test_sendmail_as_unprivileged_user(daemon):
    """Any local user may submit; the uid shows in the Received line."""
    daemon.ctl("user", "add", "bob@example.org", input="pw\n")
    r = run_sendmail(daemon, ["bob@example.org"], b"Subject: t\n\nx\n",
                     user="nobody")
    assert r.returncode == 0, r.stderr
    ids = daemon.message_ids()
    raw = daemon.queue_cat(ids[0])
    uid = pwd.getpwnam("nobody").pw_uid
    assert f"uid={uid}".encode() in raw.split(b"\r\n\r\n")[0]
