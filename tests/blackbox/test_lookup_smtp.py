"""The lookup role's answers as SMTP clients see them: which recipients
are ours (RFC 5321 §4.1.1.3 and §4.5.1, RFC 2142), relaying, AUTH PLAIN
over STARTTLS on submission, the submission sender check (RFC 6409
§6.1), the delay after repeated AUTH failures, and that the event loop
keeps answering while a password is hashed or an answer held back."""

import base64
import smtplib
import threading
import time

import pytest

from conftest import tls_client_context

HOST = "127.0.0.1"
TIMEOUT = 30
ALICE, ALICE_PW = "alice@example.org", "Corr3ct-horse-lookup"


@pytest.fixture
def mx(daemon):
    daemon.ctl("user", "add", ALICE, input=ALICE_PW + "\n")
    daemon.ctl("alias", "add", "info@example.org", ALICE)
    daemon.ctl("domain", "add", "example.net")
    daemon.ctl("user", "add", "dave@example.net", input="dave-pw\n")
    return daemon


def port25(daemon):
    s = smtplib.SMTP(HOST, daemon.ports["smtp"],
                     local_hostname="client.example.com", timeout=TIMEOUT)
    s.ehlo()
    code, resp = s.mail("sender@remote.example")
    assert code == 250, resp
    return s


def submission(daemon):
    s = smtplib.SMTP(HOST, daemon.ports["submission"],
                     local_hostname="client.example.com", timeout=TIMEOUT)
    s.ehlo()
    code, resp = s.starttls(context=tls_client_context())
    assert code == 220, resp
    s.ehlo()
    return s


def auth_plain(s, user, pw):
    """One AUTH PLAIN attempt with an initial response (RFC 4616)."""
    blob = base64.b64encode(f"\0{user}\0{pw}".encode()).decode()
    return s.docmd("AUTH", "PLAIN " + blob)


def close(s):
    try:
        s.quit()
    except smtplib.SMTPException:
        s.close()


# --- RCPT on port 25 ---

@pytest.mark.parametrize("rcpt", [
    ALICE,
    "ALICE@Example.ORG",        # local part and domain in any case
    "info@example.org",         # an alias source
    "postmaster@example.org",   # RFC 5321 §4.5.1
    "PostMaster@example.org",
    "abuse@example.org",        # RFC 2142 §2
    "dave@example.net",         # a user in a domain added by cachetctl
    "postmaster@example.net",
])
def test_rcpt_ours_accepted(mx, rcpt):
    s = port25(mx)
    code, resp = s.rcpt(rcpt)
    assert (code, resp[:5]) == (250, b"2.1.5"), resp
    close(s)


def test_rcpt_bare_postmaster_accepted(mx):
    s = port25(mx)
    code, resp = s.docmd("RCPT", "TO:<Postmaster>")
    assert code == 250, resp
    close(s)


@pytest.mark.parametrize("rcpt", [
    "nobody@example.org",
    "nobody@example.net",
    "info.x@example.org",
])
def test_rcpt_unknown_user_550_511(mx, rcpt):
    s = port25(mx)
    code, resp = s.rcpt(rcpt)
    assert code == 550, resp
    assert resp.startswith(b"5.1.1 <" + rcpt.encode() + b">"), resp
    assert b"User unknown" in resp
    close(s)


@pytest.mark.parametrize("rcpt", [
    "someone@elsewhere.example",
    "alice@sub.example.org",     # a subdomain is not the domain
    "alice@[127.0.0.1]",         # address literals are not ours (yet)
])
def test_rcpt_relay_denied_550_571(mx, rcpt):
    s = port25(mx)
    code, resp = s.rcpt(rcpt)
    assert (code, resp) == (550, b"5.7.1 Relay access denied"), resp
    close(s)


def test_rcpt_sees_ctl_changes_at_once(mx):
    s = port25(mx)
    assert s.rcpt("newbie@example.org")[0] == 550
    mx.ctl("user", "add", "newbie@example.org", input="pw-newbie\n")
    assert s.rcpt("newbie@example.org")[0] == 250
    mx.ctl("user", "del", "newbie@example.org")
    assert s.rcpt("newbie@example.org")[0] == 550
    close(s)


# --- AUTH over STARTTLS on submission ---

def test_auth_plain_success(mx):
    s = submission(mx)
    code, resp = auth_plain(s, ALICE, ALICE_PW)
    assert code == 235, resp
    close(s)
    assert f"event=auth user={ALICE} ip=127.0.0.1" in mx.read_log()


def test_auth_plain_domain_case_does_not_matter(mx):
    s = submission(mx)
    code, resp = auth_plain(s, "alice@EXAMPLE.org", ALICE_PW)
    assert code == 235, resp
    close(s)


@pytest.mark.parametrize("user,pw", [
    (ALICE, "wrong password"),
    (ALICE, ALICE_PW.upper()),
    ("nobody@example.org", ALICE_PW),
    ("alice", ALICE_PW),
])
def test_auth_plain_failure_535(mx, user, pw):
    s = submission(mx)
    code, resp = auth_plain(s, user, pw)
    assert code == 535, resp
    close(s)
    assert f"event=auth-failed ip=127.0.0.1 user={user}" in mx.read_log()


def test_auth_with_smtplib_login(mx):
    s = submission(mx)
    s.login(ALICE, ALICE_PW)
    close(s)


def test_authenticated_may_relay(mx):
    s = submission(mx)
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    assert s.mail(ALICE)[0] == 250
    code, resp = s.rcpt("someone@elsewhere.example")
    assert code == 250, resp
    close(s)


def test_authenticated_still_gets_user_unknown(mx):
    s = submission(mx)
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    assert s.mail(ALICE)[0] == 250
    code, resp = s.rcpt("nobody@example.org")
    assert code == 550 and resp.startswith(b"5.1.1"), resp
    close(s)


# --- the submission sender check ---

@pytest.mark.parametrize("sender", [
    ALICE, "Alice@Example.Org", "info@example.org",
])
def test_sender_owned_accepted(mx, sender):
    s = submission(mx)
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    code, resp = s.mail(sender)
    assert code == 250, resp
    close(s)


def test_null_sender_accepted(mx):
    s = submission(mx)
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    code, resp = s.docmd("MAIL", "FROM:<>")
    assert code == 250, resp
    close(s)


@pytest.mark.parametrize("sender", [
    "dave@example.net", "bob@example.org", "alice@elsewhere.example",
])
def test_sender_not_owned_553(mx, sender):
    s = submission(mx)
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    code, resp = s.mail(sender)
    assert code == 553, resp
    assert resp == (b"5.7.1 Sender address rejected: not owned by user "
                    + ALICE.encode()), resp
    close(s)


# --- failures, delays, the loop ---

def test_repeated_failures_are_delayed(mx):
    times = []
    for _ in range(4):
        s = submission(mx)
        t = time.monotonic()
        code, _ = auth_plain(s, ALICE, "guess")
        times.append(time.monotonic() - t)
        assert code == 535
        close(s)
    # failures 1 and 2 come at once, then 1 s, then 2 s
    assert times[0] < 0.9 and times[1] < 0.9, times
    assert 0.9 <= times[2] < 3, times
    assert 1.9 <= times[3] < 5, times
    log = mx.read_log()
    assert "failures=3 delay=1s" in log and "failures=4 delay=2s" in log


def test_loop_answers_while_an_auth_is_held_back(mx):
    for _ in range(4):
        s = submission(mx)
        assert auth_plain(s, ALICE, "guess")[0] == 535
        close(s)
    # The fifth failure is held back 4 s; RCPT must not wait for it.
    held = {}

    def guess():
        s = submission(mx)
        t = time.monotonic()
        held["code"] = auth_plain(s, ALICE, "guess")[0]
        held["took"] = time.monotonic() - t
        close(s)

    th = threading.Thread(target=guess)
    th.start()
    time.sleep(0.5)
    s = port25(mx)
    t = time.monotonic()
    code, _ = s.rcpt(ALICE)
    took = time.monotonic() - t
    close(s)
    th.join()
    assert code == 250 and took < 1.5, took
    assert held["code"] == 535 and held["took"] >= 3.5, held


def test_passwords_never_logged(mx):
    s = submission(mx)
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    close(s)
    s = submission(mx)
    assert auth_plain(s, ALICE, "Wr0ng-but-secret-too")[0] == 535
    close(s)
    log = mx.read_log()
    assert ALICE_PW not in log
    assert "Wr0ng-but-secret-too" not in log
    assert "dave-pw" not in log
