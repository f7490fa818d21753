"""SMTP with TLS and AUTH, black-box: STARTTLS (RFC 3207) on smtp and
submission, implicit TLS on submissions (RFC 8314), AUTH PLAIN and
LOGIN (RFC 4954, 4616), the submission rules of RFC 6409, open-relay
checks on every listener, and the STARTTLS command injection of
CVE-2011-0411."""

import base64
import re
import smtplib
import subprocess

import pytest

from conftest import (USERS, RawSMTP, dot_stuff, ehlo_keywords,
                      mail_transaction, tls_client_context)

HOST = "127.0.0.1"
TIMEOUT = 10
ALICE, ALICE_PW = "alice@example.org", USERS["alice@example.org"]


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s
                            ).decode()


def plain_ir(user, pw, authz=""):
    return b64(f"{authz}\0{user}\0{pw}")


def starttls_client(port):
    s = smtplib.SMTP(HOST, port, local_hostname="client.example.net",
                     timeout=TIMEOUT)
    s.ehlo()
    code, resp = s.starttls(context=tls_client_context())
    assert code == 220, resp
    s.ehlo()
    return s


def ssl_client(port):
    s = smtplib.SMTP_SSL(HOST, port, local_hostname="client.example.net",
                         timeout=TIMEOUT, context=tls_client_context())
    s.ehlo()
    return s


def send_data(s, sender, rcpts, content):
    """MAIL/RCPT/DATA on an smtplib client; returns the queue id."""
    code, resp = s.mail(sender)
    assert code == 250, resp
    for r in rcpts:
        code, resp = s.rcpt(r)
        assert code == 250, (r, resp)
    code, resp = s.data(content)
    assert code == 250, resp
    m = re.match(rb"2\.0\.0 Ok: queued as (\S+)$", resp)
    assert m, resp
    return m.group(1).decode()


def raw_tls(daemon, kind):
    """A RawSMTP after EHLO, STARTTLS and EHLO again."""
    c = RawSMTP(daemon.ports[kind])
    c.greet()
    c.ehlo()
    c.starttls()
    return c


CONTENT = b"From: alice@example.org\r\nSubject: tls\r\n\r\nover TLS\r\n"


# --- EHLO before and after TLS ---

def test_submission_ehlo_before_tls(daemon):
    with RawSMTP(daemon.ports["submission"]) as c:
        c.greet()
        kw = ehlo_keywords(c.ehlo())
        assert "STARTTLS" in kw
        assert "AUTH" not in kw


def test_ehlo_after_starttls_offers_auth_not_starttls(daemon):
    for kind in ("smtp", "submission"):
        with raw_tls(daemon, kind) as c:
            kw = ehlo_keywords(c.ehlo())
            assert "STARTTLS" not in kw, kind
            assert kw.get("AUTH", "").split() == [
                "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN", "LOGIN"], (
                kind, kw)
            for k in ["PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8",
                      "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"]:
                assert k in kw, (kind, k)


def test_starttls_forgets_ehlo(daemon):
    """RFC 3207 §4.2: after TLS the client must EHLO again."""
    with raw_tls(daemon, "smtp") as c:
        c.expect("MAIL FROM:<s@example.net>", 503, "5.5.1")


def test_starttls_twice_refused(daemon):
    with raw_tls(daemon, "smtp") as c:
        c.ehlo()
        c.expect("STARTTLS", 503, "5.5.1")


def test_starttls_needs_ehlo(daemon):
    with RawSMTP(daemon.ports["smtp"]) as c:
        c.greet()
        c.expect("STARTTLS", 503, "5.5.1")


def test_starttls_not_on_submissions(daemon):
    with RawSMTP(daemon.ports["submissions"], implicit_tls=True) as c:
        c.greet()
        kw = ehlo_keywords(c.ehlo())
        assert "STARTTLS" not in kw
        assert kw.get("AUTH", "").split() == [
            "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN", "LOGIN"], kw
        r = c.cmd("STARTTLS")
        assert r.code in (454, 503), r


# --- AUTH ---

def test_starttls_auth_plain_submission(mx):
    s = starttls_client(mx.ports["submission"])
    try:
        assert "auth" in s.esmtp_features
        s.user, s.password = ALICE, ALICE_PW
        code, resp = s.auth("PLAIN", s.auth_plain)
        assert code == 235, resp
        assert resp.startswith(b"2.7.0"), resp
        qid = send_data(s, ALICE, ["bob@example.org"], CONTENT)
        s.quit()
    finally:
        s.close()
    received, body = mx.stored(qid)
    assert body == CONTENT
    text = received.decode()
    assert "with ESMTPSA" in text, text
    assert re.search(r"using TLSv1\.[23] with cipher \S+", text), text
    # the authenticated user is not disclosed in the trace header
    assert "alice" not in text.split("for <")[0], text


def test_auth_plain_with_challenge(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        r = c.expect("AUTH PLAIN", 334)
        assert r.lines == [""], r
        c.expect(plain_ir(ALICE, ALICE_PW), 235, "2.7.0")
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW), 503, "5.5.1")


def test_auth_plain_with_authzid_self(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW, authz=ALICE),
                 235, "2.7.0")


def test_auth_plain_authzid_other_refused(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW,
                                          authz="bob@example.org"),
                 535, "5.7.8")


def test_starttls_auth_login_submission(mx):
    s = starttls_client(mx.ports["submission"])
    try:
        s.user, s.password = ALICE, ALICE_PW
        code, resp = s.auth("LOGIN", s.auth_login,
                            initial_response_ok=False)
        assert code == 235, resp
        qid = send_data(s, ALICE, ["bob@example.org"], CONTENT)
        s.quit()
    finally:
        s.close()
    assert mx.stored(qid)[1] == CONTENT


def test_auth_login_raw(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        r = c.expect("AUTH LOGIN", 334)
        assert base64.b64decode(r.lines[0]) == b"Username:", r
        r = c.expect(b64(ALICE), 334)
        assert base64.b64decode(r.lines[0]) == b"Password:", r
        c.expect(b64(ALICE_PW), 235, "2.7.0")


def test_auth_cancel(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        c.expect("AUTH LOGIN", 334)
        c.expect("*", 501)
        c.expect("NOOP", 250)


def test_auth_unknown_mechanism(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        c.expect("AUTH CRAM-MD5", 504, "5.5.4")


def test_implicit_tls_submissions(mx):
    s = ssl_client(mx.ports["submissions"])
    try:
        assert "starttls" not in s.esmtp_features
        s.login(ALICE, ALICE_PW)
        qid = send_data(s, ALICE, ["bob@example.org"], CONTENT)
        s.quit()
    finally:
        s.close()
    received, body = mx.stored(qid)
    assert body == CONTENT
    text = received.decode()
    assert "with ESMTPSA" in text, text
    assert re.search(r"using TLSv1\.[23] with cipher \S+", text), text


def test_received_mentions_tls_on_port25(mx):
    with raw_tls(mx, "smtp") as c:
        c.ehlo()
        qid = mail_transaction(c, "s@example.net", [ALICE], CONTENT)
    received, body = mx.stored(qid)
    assert body == CONTENT
    text = received.decode()
    assert "with ESMTPS " in text, text
    assert re.search(r"using TLSv1\.[23] with cipher \S+", text), text


def test_auth_before_tls_refused_on_submission(mx):
    with RawSMTP(mx.ports["submission"]) as c:
        c.greet()
        assert "AUTH" not in ehlo_keywords(c.ehlo())
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW), 530, "5.7.0")
        c.expect("AUTH LOGIN", 530, "5.7.0")
        c.expect("AUTH PLAIN", 530, "5.7.0")
        # nothing of the password was taken as a command
        c.expect("NOOP", 250)


def test_auth_before_tls_refused_on_port25(mx):
    with RawSMTP(mx.ports["smtp"]) as c:
        c.greet()
        c.ehlo()
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW), 530, "5.7.0")


def test_mail_before_auth_on_submission(daemon):
    # in the clear
    with RawSMTP(daemon.ports["submission"]) as c:
        c.greet()
        c.ehlo()
        c.expect(f"MAIL FROM:<{ALICE}>", 530, "5.7.0")
    # after STARTTLS
    with raw_tls(daemon, "submission") as c:
        c.ehlo()
        c.expect(f"MAIL FROM:<{ALICE}>", 530, "5.7.0")
    # on submissions
    with RawSMTP(daemon.ports["submissions"], implicit_tls=True) as c:
        c.greet()
        c.ehlo()
        c.expect(f"MAIL FROM:<{ALICE}>", 530, "5.7.0")


def test_wrong_password_535(mx):
    s = starttls_client(mx.ports["submission"])
    try:
        with pytest.raises(smtplib.SMTPAuthenticationError) as ei:
            s.login(ALICE, "wrong")
        assert ei.value.smtp_code == 535
        assert ei.value.smtp_error.startswith(b"5.7.8"), ei.value
        # the same for a user that does not exist: nothing to harvest
        with pytest.raises(smtplib.SMTPAuthenticationError) as ei:
            s.login("nobody@example.org", "wrong")
        assert ei.value.smtp_code == 535
        # and the session still works
        code, _ = s.noop()
        assert code == 250
    finally:
        s.close()


def test_wrong_password_raw_then_right(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + plain_ir(ALICE, "wrong"), 535, "5.7.8")
        c.expect("AUTH LOGIN", 334)
        c.expect(b64(ALICE), 334)
        c.expect(b64("wrong"), 535, "5.7.8")
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW), 235, "2.7.0")


def test_bad_base64_501(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        c.expect("AUTH PLAIN not!base64", 501)
        c.expect("NOOP", 250)


def test_foreign_sender_after_auth_553(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW), 235)
        c.expect("MAIL FROM:<someone@elsewhere.example>", 553, "5.7.1")
        c.expect("MAIL FROM:<bob@example.org>", 553, "5.7.1")
        c.expect(f"MAIL FROM:<{ALICE}>", 250, "2.1.0")


def test_sender_check_can_be_turned_off(make_daemon):
    d = make_daemon(extra="submission-sender-check no")
    d.start()
    for addr, pw in USERS.items():
        d.add_user(addr, pw)
    with raw_tls(d, "submission") as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW), 235)
        c.expect("MAIL FROM:<bob@example.org>", 250, "2.1.0")


def test_authenticated_may_relay(mx):
    with raw_tls(mx, "submission") as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + plain_ir(ALICE, ALICE_PW), 235)
        c.expect(f"MAIL FROM:<{ALICE}>", 250, "2.1.0")
        c.expect("RCPT TO:<friend@elsewhere.example>", 250, "2.1.5")


def test_plaintext_auth_loopback_option(make_daemon):
    d = make_daemon(extra="smtp-plaintext-auth-loopback yes")
    d.start()
    for addr, pw in USERS.items():
        d.add_user(addr, pw)
    s = smtplib.SMTP(HOST, d.ports["submission"],
                     local_hostname="client.example.net", timeout=TIMEOUT)
    try:
        s.ehlo()
        assert "auth" in s.esmtp_features
        s.login(ALICE, ALICE_PW)
        qid = send_data(s, ALICE, ["bob@example.org"], CONTENT)
        s.quit()
    finally:
        s.close()
    received, body = d.stored(qid)
    assert body == CONTENT
    assert b"with ESMTPA " in received, received


# --- open relay on the TLS listeners ---

def test_no_relay_port25_after_starttls(mx):
    for sender in ("s@example.net", ALICE, ""):
        with raw_tls(mx, "smtp") as c:
            c.ehlo()
            c.expect(f"MAIL FROM:<{sender}>", 250, "2.1.0")
            c.expect("RCPT TO:<victim@elsewhere.example>", 550, "5.7.1")
            c.expect("RCPT TO:<@example.org:victim@elsewhere.example>",
                     550, "5.7.1")
            c.expect("DATA", 554, "5.5.1")
    assert mx.message_ids() == []


@pytest.mark.parametrize("tls", ["clear", "starttls", "implicit"])
def test_no_relay_submission_without_auth(mx, tls):
    if tls == "clear":
        c = RawSMTP(mx.ports["submission"])
        c.greet()
    elif tls == "starttls":
        c = raw_tls(mx, "submission")
    else:
        c = RawSMTP(mx.ports["submissions"], implicit_tls=True)
        c.greet()
    with c:
        c.ehlo()
        c.expect(f"MAIL FROM:<{ALICE}>", 530, "5.7.0")
        r = c.cmd("RCPT TO:<victim@elsewhere.example>")
        assert r.code >= 500, r
        r = c.cmd("DATA")
        assert r.code >= 500, r
        # a message sent blindly is read as (refused) commands
        c.send(dot_stuff(b"Subject: relay?\r\n\r\nx\r\n") +
               b"NOOP\r\n")
        for _ in range(4):
            r = c.read_reply()
            assert r.code >= 500, r
        c.expect(None, 250)
    assert mx.message_ids() == []


def test_auth_failure_grants_no_relay(mx):
    with raw_tls(mx, "smtp") as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + plain_ir(ALICE, "wrong"), 535, "5.7.8")
        c.expect("MAIL FROM:<s@example.net>", 250)
        c.expect("RCPT TO:<victim@elsewhere.example>", 550, "5.7.1")


# --- STARTTLS command injection, CVE-2011-0411 ---

@pytest.mark.parametrize("kind", ["smtp", "submission"])
def test_starttls_injection_discarded(daemon, kind):
    with RawSMTP(daemon.ports[kind]) as c:
        c.greet()
        c.ehlo()
        c.send(b"STARTTLS\r\nNOOP\r\n")
        r = c.read_reply()
        assert (r.code, r.enh) == (220, "2.0.0"), r
        # nothing answered the NOOP in the clear
        assert c.buf == b""
        c.sock = tls_client_context().wrap_socket(c.sock)
        # ... nor inside TLS
        assert c.quiet(0.5), c.buf
        r = c.cmd("EHLO client.example.net")
        assert r.code == 250 and r.lines[0].startswith("mx.example.org"), r
        assert len(r.lines) > 1, r
        c.expect("NOOP", 250)
        c.expect("QUIT", 221)
        assert c.eof() and c.buf == b"", c.buf


def test_starttls_injection_of_mail(daemon):
    """A MAIL smuggled after STARTTLS must not open a transaction."""
    with RawSMTP(daemon.ports["smtp"]) as c:
        c.greet()
        c.ehlo()
        c.send(b"STARTTLS\r\nEHLO evil.example\r\n"
               b"MAIL FROM:<evil@example.net>\r\n")
        c.expect(None, 220, "2.0.0")
        c.sock = tls_client_context().wrap_socket(c.sock)
        assert c.quiet(0.5), c.buf
        r = c.ehlo()
        assert r.lines[0].startswith("mx.example.org"), r
        c.expect("RCPT TO:<alice@example.org>", 503, "5.5.1")


# --- swaks over TLS ---

def swaks(*args):
    return subprocess.run(["swaks", "--timeout", "10", *args],
                          capture_output=True, text=True, timeout=60)


def test_swaks_starttls_auth_plain(mx):
    r = swaks("--server", f"{HOST}:{mx.ports['submission']}", "--tls",
              "--auth", "PLAIN", "--auth-user", ALICE,
              "--auth-password", ALICE_PW,
              "--from", ALICE, "--to", "bob@example.org")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "queued as" in r.stdout


def test_swaks_tls_on_connect_auth_login(mx):
    r = swaks("--server", f"{HOST}:{mx.ports['submissions']}",
              "--tls-on-connect",
              "--auth", "LOGIN", "--auth-user", ALICE,
              "--auth-password", ALICE_PW,
              "--from", ALICE, "--to", "bob@example.org")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "queued as" in r.stdout


def test_swaks_tls_on_connect_pipelined(mx):
    r = swaks("--server", f"{HOST}:{mx.ports['submissions']}",
              "--tls-on-connect", "--pipeline",
              "--auth", "PLAIN", "--auth-user", ALICE,
              "--auth-password", ALICE_PW,
              "--from", ALICE, "--to", "bob@example.org")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "queued as" in r.stdout
