"""The spam filter's path through the daemon (issue 15): the verdict's
fields on every message accepted on port 25, GTUBE refused at the end of
DATA with nothing queued, and `cachetctl spam check` answering for a file
without delivering it.  The checks behind the score may be stand-ins:
this checks the path, not the filter's quality."""

import smtplib

from conftest import USERS, wait_for

GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def send(d, body):
    s = smtplib.SMTP(timeout=15, source_address=("127.0.0.3", 0),
                     local_hostname="client.example.net")
    try:
        s.connect("127.0.0.1", d.ports["smtp"])
        s.ehlo()
        assert s.mail("sender@example.net")[0] == 250
        assert s.rcpt("alice@example.org")[0] == 250
        return s.data(b"From: sender@example.net\r\nSubject: hi\r\n\r\n" +
                      body + b"\r\n")
    finally:
        s.quit()


def test_gtube_refused_and_ham_marked(make_daemon):
    d = make_daemon()
    d.start()
    for addr, pw in USERS.items():
        d.add_user(addr, pw)
    code, text = send(d, b"Hello Alice, lunch on Tuesday?")
    assert code == 250, text
    code, text = send(d, b"test " + GTUBE)
    assert code == 550, text
    assert b"5.7.1" in text and b"spam" in text, text
    msgs = wait_for(lambda: d.maildir_new("alice@example.org"), 20)
    assert len(msgs) == 1, d.log_tail()
    head = msgs[0].split(b"\n\n", 1)[0]
    assert b"\nX-Spam-Score: " in head and b"\nX-Spam-Status: No," in head


def test_spam_check_prints_score_and_verdict(make_daemon, tmp_path):
    d = make_daemon()
    d.start()
    f = tmp_path / "gtube.eml"
    f.write_bytes(b"From: a@example.net\r\nSubject: x\r\n\r\n" + GTUBE +
                  b"\r\n")
    r = d.ctl("spam", "check", str(f))
    lines = r.stdout.splitlines()
    assert lines[0].startswith("score: "), r.stdout
    assert float(lines[0].split()[1]) >= 15, r.stdout
    assert lines[1] == "verdict: reject", r.stdout
    assert any(line.startswith("GTUBE ") for line in lines[2:]), r.stdout
