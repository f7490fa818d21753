"""The rules file of the content filter (issue 15): `spam-rules FILE`
replaces the built-in set in the smtp role and in `cachetctl spam check`,
so a custom rule shows in the X-Spam-Status of a delivered message; a
broken rules file is a configuration error naming file:line, from
`cachetd -n` and at start."""

import os
import re
import subprocess

from conftest import CACHETCTL, CACHETD, USERS, wait_for
from test_spam_path import send

# The three together make 4.0 points: under the junk line, so both
# messages land in the Inbox (new/).
RULES = (
    "# a site's own rules\n"
    "body    CUSTOM_PINEAPPLE  2.5  /pineapple/i  \"Talks about pineapples\"\n"
    "keyword CUSTOM_KIWI       1.0  kiwi          \"Kiwi, however written\"\n"
    "header  CUSTOM_FROM       0.5  From:addr =~ /^sender@example\\.net$/m"
    "  \"From our test sender\"\n"
)


def status_of(msg):
    head = re.sub(rb"\n[ \t]+", b" ", msg.split(b"\n\n", 1)[0])
    for line in head.split(b"\n"):
        if line.lower().startswith(b"x-spam-status:"):
            return line.decode()
    raise AssertionError(head)


def test_custom_rules_change_status(make_daemon, tmp_path):
    rules = tmp_path / "site.rules"
    rules.write_text(RULES)
    # the checks before DATA add their own points (no reverse DNS on
    # loopback): the Junk line well above both messages
    d = make_daemon(extra=f"spam-rules {rules}\nspam-junk 10")
    d.start()
    for addr, pw in USERS.items():
        d.add_user(addr, pw)
    code, text = send(d, b"A pineapple and a K.1.W.I for you")
    assert code == 250, text
    code, text = send(d, b"Hello Alice, lunch on Tuesday?")
    assert code == 250, text
    msgs = wait_for(lambda: (lambda m: m if len(m) == 2 else None)(
        d.maildir_new("alice@example.org")), 20)
    assert msgs, d.log_tail()
    statuses = sorted(status_of(m) for m in msgs)
    hit = [s for s in statuses if "CUSTOM_PINEAPPLE=2.5" in s]
    assert len(hit) == 1, statuses
    assert "CUSTOM_KIWI=1.0" in hit[0] and "CUSTOM_FROM=0.5" in hit[0]
    other = [s for s in statuses if s not in hit][0]
    assert "CUSTOM_FROM=0.5" in other, statuses
    assert "CUSTOM_PINEAPPLE" not in other and "CUSTOM_KIWI" not in other

    # cachetctl reads the same file through the daemon's config
    f = tmp_path / "m.eml"
    f.write_bytes(b"From: a@example.net\r\nSubject: x\r\n\r\n"
                  b"PINEAPPLE\r\n")
    r = subprocess.run([CACHETCTL, "-f", d.conf, "spam", "check", str(f)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert any(line.startswith("CUSTOM_PINEAPPLE ")
               for line in r.stdout.splitlines()), r.stdout


def test_default_rules_without_directive(make_daemon, tmp_path):
    d = make_daemon()
    d.start()
    f = tmp_path / "m.eml"
    f.write_bytes(b"From: a@example.net\r\nSubject: FREE MONEY NOW!!!\r\n"
                  b"\r\npineapple\r\n")
    r = d.ctl("spam", "check", str(f))
    names = [line.split()[0] for line in r.stdout.splitlines()[2:] if line]
    assert "SUBJ_EXCLAIM" in names and "MISSING_DATE" in names, r.stdout
    assert "CUSTOM_PINEAPPLE" not in names, r.stdout


def test_broken_rules_file_is_a_config_error(make_daemon, tmp_path):
    rules = tmp_path / "bad.rules"
    rules.write_text("# ok\nbody GOOD 1 /a/ \"fine\"\n"
                     "body BAD 1 /unclosed(/ \"broken\"\n")
    # the checks before DATA add their own points (no reverse DNS on
    # loopback): the Junk line well above both messages
    d = make_daemon(extra=f"spam-rules {rules}\nspam-junk 10")
    r = subprocess.run([CACHETD, "-n", "-f", d.conf], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1, r.stderr
    assert f"{rules}:3: pattern:" in r.stderr, r.stderr
    assert f"{d.conf}:" in r.stderr, r.stderr
    r = subprocess.run([CACHETD, "-d", "-f", d.conf], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert f"{rules}:3:" in r.stderr
    os.unlink(rules)
    r = subprocess.run([CACHETD, "-n", "-f", d.conf], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1 and "spam-rules" in r.stderr, r.stderr
