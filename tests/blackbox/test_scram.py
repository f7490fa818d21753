"""SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677), black-box,
over SMTP AUTH (RFC 4954) and POP3 AUTH (RFC 5034), with the channel
bindings tls-exporter (RFC 9266) and tls-server-end-point (RFC 5929).

The client is written here from RFC 5802 §3 and §7 (hashlib.pbkdf2_hmac,
hmac) and checked first against the example of RFC 7677 §3.  TLS goes
through pyOpenSSL, which exports keying material (Python's ssl module
gives only tls-unique).  GNU SASL's command line client (gsasl) is a
second, independent client."""

import base64
import hashlib
import hmac
import os
import re
import select
import socket
import sqlite3
import struct
import subprocess
import time

import pytest
from OpenSSL import SSL, crypto

from conftest import RawSMTP, ehlo_keywords

HOST = "127.0.0.1"
TIMEOUT = 10
ALICE, ALICE_PW = "alice@example.org", "pencil and ink"
BOB, BOB_PW = "bob@example.org", "hunter2"
# OpenSSL's SSL_OP_NO_EXTENDED_MASTER_SECRET (pyOpenSSL has no name for it)
OP_NO_EMS = 0x1


# --- the client: RFC 5802 §3 (the algorithm) and §7 (the messages) ---

def _hmac(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def saslname(name):
    """RFC 5802 §5.1: ',' and '=' escaped."""
    return name.replace("=", "=3D").replace(",", "=2C")


class Scram:
    """One SCRAM-SHA-256 exchange seen from the client.  cb_type names
    the channel binding ("tls-exporter", ...) and cb_data its data; a
    client without binding sends flag "n" (or "y": it could bind but
    thinks the server cannot)."""

    def __init__(self, user, password, cb_type=None, cb_data=b"",
                 flag="n", authzid="", nonce=None):
        self.password = password.encode()
        gs2flag = f"p={cb_type}" if cb_type else flag
        authz = f"a={saslname(authzid)}" if authzid else ""
        self.gs2 = f"{gs2flag},{authz},".encode()
        self.cb_data = cb_data if cb_type else b""
        self.nonce = nonce or base64.b64encode(os.urandom(18)).decode()
        self.bare = f"n={saslname(user)},r={self.nonce}"
        self.server_sig = None
        self.salt = None
        self.iterations = None

    def first(self):
        return self.gs2 + self.bare.encode()

    def final(self, server_first):
        sf = server_first.decode()
        attrs = dict(a.split("=", 1) for a in sf.split(","))
        assert attrs["r"].startswith(self.nonce) and \
            len(attrs["r"]) > len(self.nonce), sf
        self.salt = base64.b64decode(attrs["s"], validate=True)
        self.iterations = int(attrs["i"])
        salted = hashlib.pbkdf2_hmac("sha256", self.password, self.salt,
                                     self.iterations)
        client_key = _hmac(salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        cbind = base64.b64encode(self.gs2 + self.cb_data).decode()
        without_proof = f"c={cbind},r={attrs['r']}"
        auth_message = f"{self.bare},{sf},{without_proof}".encode()
        sig = _hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        self.server_sig = _hmac(_hmac(salted, b"Server Key"), auth_message)
        return (f"{without_proof},p="
                f"{base64.b64encode(proof).decode()}").encode()

    def server_final_ok(self, msg):
        return msg == b"v=" + base64.b64encode(self.server_sig)


def test_client_checked_against_rfc7677():
    """RFC 7677 §3: user "user", password "pencil", the RFC's nonces."""
    c = Scram("user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    assert c.first() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    final = c.final(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    b"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    assert final == (b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
                     b"hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    assert c.server_final_ok(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert not c.server_final_ok(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRs"
                                 b"jl95G5=")
    assert saslname("a,b=c") == "a=2Cb=3Dc"


# --- TLS through pyOpenSSL, with the binding data a client sees ---

class PyTLS:
    """A pyOpenSSL client connection with the socket calls RawSMTP uses."""

    def __init__(self, sock, tls12=False, no_ems=False):
        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        ctx.set_verify(SSL.VERIFY_NONE, lambda *a: True)
        if tls12:
            ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
        if no_ems:
            ctx.set_options(OP_NO_EMS)
        # pyOpenSSL wants a blocking socket; the kernel bounds each wait.
        sock.settimeout(None)
        tv = struct.pack("ll", TIMEOUT, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
        self.raw = sock
        self.conn = SSL.Connection(ctx, sock)
        self.conn.set_connect_state()
        self.conn.do_handshake()

    def recv(self, n):
        try:
            return self.conn.recv(n)
        except SSL.ZeroReturnError:
            return b""
        except (SSL.WantReadError, SSL.SysCallError) as e:
            raise socket.timeout(str(e))

    def sendall(self, data):
        self.conn.sendall(data)

    def close(self):
        self.raw.close()

    def settimeout(self, t):
        pass

    def version(self):
        return self.conn.get_protocol_version_name()

    def binding(self, kind):
        """The channel binding data this client sees."""
        if kind == "tls-exporter":
            return self.conn.export_keying_material(
                b"EXPORTER-Channel-Binding", 32)
        assert kind == "tls-server-end-point"
        der = crypto.dump_certificate(crypto.FILETYPE_ASN1,
                                      self.conn.get_peer_certificate())
        # RFC 5929 §4.1: our certificate is signed with ECDSA-SHA256
        return hashlib.sha256(der).digest()


def b64(data):
    return base64.b64encode(data).decode()


# --- SMTP ---

def smtp_open(daemon, kind="submission", tls12=False, no_ems=False):
    """A session on the submission port after STARTTLS, or on
    submissions (implicit TLS); returns (client, EHLO keywords)."""
    if kind == "submissions":
        c = RawSMTP(daemon.ports["submissions"])
        c.sock = PyTLS(c.sock, tls12, no_ems)
        c.greet()
    else:
        c = RawSMTP(daemon.ports[kind])
        c.greet()
        c.ehlo()
        c.expect("STARTTLS", 220, "2.0.0")
        c.sock = PyTLS(c.sock, tls12, no_ems)
    return c, ehlo_keywords(c.ehlo())


def smtp_scram(c, scram, mech="SCRAM-SHA-256", ir=True):
    """Run the exchange; the last reply and whether the server proved
    that it knows the keys (a right v=)."""
    if ir:
        r = c.cmd(f"AUTH {mech} {b64(scram.first())}")
    else:
        r = c.cmd(f"AUTH {mech}")
        assert (r.code, r.lines) == (334, [""]), r
        r = c.cmd(b64(scram.first()))
    if r.code != 334:
        return r, False
    r = c.cmd(b64(scram.final(base64.b64decode(r.lines[0]))))
    if r.code != 334:
        return r, False
    proved = scram.server_final_ok(base64.b64decode(r.lines[0]))
    # RFC 4422 §3.6: the client accepts the server's proof with "".
    return c.cmd("" if proved else "*"), proved


@pytest.fixture
def scramd(make_daemon):
    """A daemon with alice and bob; logins only over TLS."""
    d = make_daemon()
    d.start()
    d.add_user(ALICE, ALICE_PW)
    d.add_user(BOB, BOB_PW)
    return d


def test_smtp_advertises_scram(scramd):
    c, kw = smtp_open(scramd)
    assert kw["AUTH"].split() == ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256",
                                  "PLAIN", "LOGIN"]
    c.close()
    # In the clear no AUTH at all (the rule stays) and no -PLUS ever.
    with RawSMTP(scramd.ports["submission"]) as c:
        c.greet()
        assert "AUTH" not in ehlo_keywords(c.ehlo())
        c.expect(f"AUTH SCRAM-SHA-256 {b64(b'n,,n=x,r=y')}", 530, "5.7.0")


def test_smtp_scram_login(scramd):
    c, _ = smtp_open(scramd)
    s = Scram(ALICE, ALICE_PW)
    r, proved = smtp_scram(c, s, ir=False)
    assert proved and (r.code, r.enh) == (235, "2.7.0"), r
    assert s.iterations == 65536 and len(s.salt) == 16
    # submission now takes mail from alice
    c.expect(f"MAIL FROM:<{ALICE}>", 250, "2.1.0")
    c.close()
    assert f"event=auth user={ALICE} ip=127.0.0.1 mech=scram" in \
        scramd.read_log()


def test_smtp_scram_plus_tls_exporter(scramd):
    c, kw = smtp_open(scramd, "submissions")
    assert c.sock.version() == "TLSv1.3"
    assert "SCRAM-SHA-256-PLUS" in kw["AUTH"].split()
    s = Scram(ALICE, ALICE_PW, "tls-exporter",
              c.sock.binding("tls-exporter"))
    r, proved = smtp_scram(c, s, "SCRAM-SHA-256-PLUS")
    assert proved and r.code == 235, r
    c.close()


def test_smtp_scram_plus_server_end_point(scramd):
    c, _ = smtp_open(scramd, "submission")
    s = Scram(BOB, BOB_PW, "tls-server-end-point",
              c.sock.binding("tls-server-end-point"))
    r, proved = smtp_scram(c, s, "SCRAM-SHA-256-PLUS", ir=False)
    assert proved and r.code == 235, r
    c.close()


def test_smtp_scram_plus_tls12(scramd):
    """RFC 9266 §3: tls-exporter on TLS 1.2 only with the extended master
    secret; tls-server-end-point does not depend on it."""
    c, _ = smtp_open(scramd, "submissions", tls12=True)
    assert c.sock.version() == "TLSv1.2"
    s = Scram(ALICE, ALICE_PW, "tls-exporter",
              c.sock.binding("tls-exporter"))
    r, proved = smtp_scram(c, s, "SCRAM-SHA-256-PLUS")
    assert proved and r.code == 235, r
    c.close()

    c, _ = smtp_open(scramd, "submissions", tls12=True, no_ems=True)
    s = Scram(ALICE, ALICE_PW, "tls-exporter",
              c.sock.binding("tls-exporter"))
    r, proved = smtp_scram(c, s, "SCRAM-SHA-256-PLUS")
    assert (r.code, r.enh) == (535, "5.7.8") and not proved, r
    assert "channel binding type not available" in r.lines[0]
    s = Scram(ALICE, ALICE_PW, "tls-server-end-point",
              c.sock.binding("tls-server-end-point"))
    r, proved = smtp_scram(c, s, "SCRAM-SHA-256-PLUS")
    assert proved and r.code == 235, r
    c.close()


def test_smtp_scram_wrong_password(scramd):
    c, _ = smtp_open(scramd)
    r, proved = smtp_scram(c, Scram(ALICE, ALICE_PW + "x"))
    assert (r.code, r.enh) == (535, "5.7.8") and not proved, r
    c.expect(f"MAIL FROM:<{ALICE}>", 530, "5.7.0")
    c.close()


@pytest.mark.parametrize("kind", ["tls-exporter", "tls-server-end-point"])
def test_smtp_scram_tampered_channel_binding(scramd, kind):
    """What a man in the middle's client would see: other binding data."""
    c, _ = smtp_open(scramd, "submissions")
    data = bytearray(c.sock.binding(kind))
    data[0] ^= 1
    r, proved = smtp_scram(c, Scram(ALICE, ALICE_PW, kind, bytes(data)),
                           "SCRAM-SHA-256-PLUS")
    assert (r.code, r.enh) == (535, "5.7.8") and not proved, r
    assert "channel binding mismatch" in r.lines[0]
    c.close()


def test_smtp_scram_refusals(scramd):
    """RFC 5802 §6 and §5.1: the downgrade flag, an authzid of someone
    else, the reserved m= extension."""
    c, _ = smtp_open(scramd)
    for s, why in [
            (Scram(ALICE, ALICE_PW, flag="y"),
             "channel binding was offered"),
            (Scram(ALICE, ALICE_PW, authzid=BOB),
             "authorization identity not allowed")]:
        r, proved = smtp_scram(c, s)
        assert (r.code, r.enh) == (535, "5.7.8") and not proved, r
        assert why in r.lines[0], r
    c.expect(f"AUTH SCRAM-SHA-256 {b64(b'n,,m=x,n=a,r=b')}", 535, "5.7.8")
    # the authzid may name the user itself
    r, proved = smtp_scram(c, Scram(ALICE, ALICE_PW, authzid=ALICE))
    assert proved and r.code == 235, r
    c.close()


def test_unknown_user_gets_a_salt_like_a_user(scramd):
    """RFC 5802 §9: the exchange does not tell whether a user exists.
    An unknown name gets the same salt every time (also after a
    restart), with the iteration count a real user has."""
    def server_first(user):
        c, _ = smtp_open(scramd)
        s = Scram(user, "x")
        r = c.cmd(f"AUTH SCRAM-SHA-256 {b64(s.first())}")
        assert r.code == 334, r
        sf = base64.b64decode(r.lines[0]).decode()
        attrs = dict(a.split("=", 1) for a in sf.split(","))
        c.expect("*", 501, "5.0.0")
        c.close()
        return attrs["s"], attrs["i"]

    ghost = server_first("ghost@example.org")
    assert server_first("ghost@example.org") == ghost
    assert server_first("GHOST@example.org") == ghost
    real = server_first(ALICE)
    assert ghost[1] == real[1] == "65536"
    assert ghost[0] != real[0]
    assert server_first("other@example.org")[0] != ghost[0]
    scramd.stop()
    scramd.start()
    assert server_first("ghost@example.org") == ghost
    assert server_first(ALICE) == real
    c, _ = smtp_open(scramd)
    r, proved = smtp_scram(c, Scram("ghost@example.org", "x"))
    assert (r.code, r.enh) == (535, "5.7.8") and not proved, r
    c.close()


def test_scram_failures_delayed_with_plain(scramd):
    """SCRAM failures count toward lookup's per-IP delays as PLAIN's do:
    after two free failures the third answer is held back a second."""
    c, _ = smtp_open(scramd)
    for _ in range(2):
        r, _p = smtp_scram(c, Scram(ALICE, "wrong"))
        assert r.code == 535, r
    t0 = time.monotonic()
    r = c.cmd("AUTH PLAIN " + b64(f"\0{ALICE}\0wrong".encode()))
    assert r.code == 535, r
    assert time.monotonic() - t0 >= 0.9
    c.close()
    log = scramd.read_log()
    assert "failures=2 delay=0s mech=scram" in log
    assert "failures=3 delay=1s mech=password" in log


# --- POP3 ---

class RawPOP3:
    """A line-level POP3 client; TLS through PyTLS."""

    def __init__(self, port, implicit_tls=False, tls12=False):
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
        if implicit_tls:
            self.sock = PyTLS(self.sock, tls12)
        self.buf = b""
        self.line()    # greeting

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(f"closed; buffered {self.buf!r}")
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln.decode("utf-8", "replace")

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.line()

    def stls(self):
        assert self.cmd("STLS").startswith("+OK")
        self.sock = PyTLS(self.sock)

    def capa(self):
        assert self.cmd("CAPA").startswith("+OK")
        caps = {}
        while (ln := self.line()) != ".":
            k, _, v = ln.partition(" ")
            caps[k] = v.split()
        return caps

    def close(self):
        self.sock.close()


def pop3_scram(p, scram, mech="SCRAM-SHA-256"):
    """The exchange; the last response and whether the server proved
    that it knows the keys."""
    r = p.cmd(f"AUTH {mech} {b64(scram.first())}")
    if not r.startswith("+ "):
        return r, False
    r = p.cmd(b64(scram.final(base64.b64decode(r[2:]))))
    if not r.startswith("+ "):
        return r, False
    proved = scram.server_final_ok(base64.b64decode(r[2:]))
    return p.cmd("" if proved else "*"), proved


def test_pop3_scram_after_stls(scramd):
    p = RawPOP3(scramd.ports["pop3"])
    p.stls()
    assert p.capa()["SASL"] == ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256",
                                "PLAIN"]
    r, proved = pop3_scram(p, Scram(ALICE, ALICE_PW))
    assert proved and r.startswith("+OK Logged in"), r
    assert p.cmd("STAT") == "+OK 0 0"
    assert p.cmd("QUIT").startswith("+OK")
    p.close()


@pytest.mark.parametrize("kind", ["tls-exporter", "tls-server-end-point"])
def test_pop3s_scram_plus(scramd, kind):
    p = RawPOP3(scramd.ports["pop3s"], implicit_tls=True)
    r, proved = pop3_scram(p, Scram(BOB, BOB_PW, kind, p.sock.binding(kind)),
                           "SCRAM-SHA-256-PLUS")
    assert proved and r.startswith("+OK Logged in"), r
    p.close()


def test_pop3_scram_wrong_password_and_tampered_binding(scramd):
    p = RawPOP3(scramd.ports["pop3s"], implicit_tls=True)
    r, proved = pop3_scram(p, Scram(ALICE, "not it"))
    assert r == "-ERR [AUTH] Authentication failed" and not proved
    data = bytearray(p.sock.binding("tls-exporter"))
    data[-1] ^= 0x80
    r, proved = pop3_scram(p, Scram(ALICE, ALICE_PW, "tls-exporter",
                                    bytes(data)), "SCRAM-SHA-256-PLUS")
    assert r == ("-ERR [AUTH] Authentication failed: channel binding "
                 "mismatch") and not proved
    # and the session goes on: the right login still works
    r, proved = pop3_scram(p, Scram(ALICE, ALICE_PW, "tls-exporter",
                                    p.sock.binding("tls-exporter")),
                           "SCRAM-SHA-256-PLUS")
    assert proved and r.startswith("+OK Logged in"), r
    p.close()


# --- users from before SCRAM ---

def make_pre_scram(daemon):
    """Turn the stopped daemon's database into what schema 1 left: no
    SCRAM columns, version 1 (the files keep their owner)."""
    db = os.path.join(daemon.state, "lookup", "cachet.db")
    st = os.stat(db)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=DELETE")
    for col in ("scram_iter", "scram_salt", "scram_stored", "scram_server"):
        con.execute(f"ALTER TABLE users DROP COLUMN {col}")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.execute("DELETE FROM meta WHERE key = 'scram_secret'")
    con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.chown(db + suffix, st.st_uid, st.st_gid)


def test_old_user_plain_until_passwd(scramd):
    """A user whose password was set before SCRAM keys existed logs in
    with PLAIN, fails SCRAM, is marked in `user list`, and has keys
    after `cachetctl user passwd`."""
    scramd.stop()
    make_pre_scram(scramd)
    scramd.start()
    assert scramd.ctl("user", "list").stdout.splitlines() == [
        f"{ALICE} (no SCRAM keys)", f"{BOB} (no SCRAM keys)"]
    assert "scram: no" in scramd.ctl("user", "show", ALICE).stdout
    c, _ = smtp_open(scramd)
    r, proved = smtp_scram(c, Scram(ALICE, ALICE_PW))
    assert (r.code, r.enh) == (535, "5.7.8") and not proved, r
    c.expect("AUTH PLAIN " + b64(f"\0{ALICE}\0{ALICE_PW}".encode()), 235,
             "2.7.0")
    c.close()
    p = RawPOP3(scramd.ports["pop3s"], implicit_tls=True)
    r, _ = pop3_scram(p, Scram(ALICE, ALICE_PW))
    assert r == "-ERR [AUTH] Authentication failed"
    assert p.cmd("AUTH PLAIN " + b64(f"\0{ALICE}\0{ALICE_PW}".encode())
                 ).startswith("+OK Logged in")
    p.close()

    scramd.ctl("user", "passwd", ALICE, input="new pencil\n")
    assert scramd.ctl("user", "list").stdout.splitlines() == [
        ALICE, f"{BOB} (no SCRAM keys)"]
    assert "scram: yes" in scramd.ctl("user", "show", ALICE).stdout
    c, _ = smtp_open(scramd)
    r, proved = smtp_scram(c, Scram(ALICE, "new pencil"))
    assert proved and r.code == 235, r
    c.close()


def test_non_ascii_password_gets_no_keys(scramd):
    r = scramd.ctl("user", "add", "carol@example.org", input="p\u00e4ss\n")
    assert "no SCRAM keys" in r.stdout
    assert "carol@example.org (no SCRAM keys)" in \
        scramd.ctl("user", "list").stdout
    c, _ = smtp_open(scramd)
    c.expect("AUTH PLAIN " + b64("\0carol@example.org\0p\u00e4ss".encode()),
             235, "2.7.0")
    c.close()


# --- GNU SASL's gsasl, an independent client ---

def gsasl(*args, input=None):
    return subprocess.run(["gsasl", *args], input=input,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def scramd_loopback(make_daemon):
    """As scramd, with AUTH allowed in the clear on loopback.  Only so
    that gsasl sees STARTTLS: it looks for "250-STARTTLS" and misses it
    as the last EHLO keyword (where it is when AUTH is not listed before
    TLS), and its --starttls sends STARTTLS before EHLO.  AUTH still
    runs over TLS here."""
    d = make_daemon(extra="smtp-plaintext-auth-loopback yes")
    d.start()
    d.add_user(ALICE, ALICE_PW)
    return d


def gsasl_smtp(daemon, *args):
    r = gsasl("--verbose", "--smtp", "--connect",
              f"{HOST}:{daemon.ports['submission']}", "--x509-ca-file=",
              "--hostname", "mx.example.org", *args)
    # gsasl exits 0 even when it found no mechanism: read the dialogue
    return r, r.stdout + r.stderr


@pytest.mark.parametrize("mech,extra,first", [
    # base64 of "p=tls-exporter,,n=" and of "n,,n=a": the GS2 header
    ("SCRAM-SHA-256-PLUS", [], "cD10bHMtZXhwb3J0ZXIsLG49"),
    ("SCRAM-SHA-256", ["--no-cb"], "biwsbj1h"),
])
def test_gsasl_smtp(scramd_loopback, mech, extra, first):
    """gsasl --smtp: EHLO, STARTTLS (GnuTLS, TLS 1.3), AUTH; with -PLUS
    it binds to the session with tls-exporter."""
    r, out = gsasl_smtp(scramd_loopback, "-m", mech, "-a", ALICE,
                        "-p", ALICE_PW, *extra)
    lines = out.replace("\r", "").split("\n")
    assert r.returncode == 0, out
    assert f"AUTH {mech}" in lines, out
    assert any(ln.startswith(first) for ln in lines), out
    assert "235 2.7.0 Authentication successful" in lines, out
    assert f"event=auth user={ALICE} ip=127.0.0.1 mech=scram" in \
        scramd_loopback.read_log()


def test_gsasl_smtp_wrong_password(scramd_loopback):
    r, out = gsasl_smtp(scramd_loopback, "-m", "SCRAM-SHA-256-PLUS",
                        "-a", ALICE, "-p", "wrong")
    assert "535 5.7.8" in out, out
    assert "235 " not in out
    assert "event=auth-failed" in scramd_loopback.read_log()


class GsaslPipe:
    """gsasl in its bare mode: the mechanism's name, then (for -PLUS) a
    prompt for the binding data, then one base64 line out per line in."""

    def __init__(self, mech, user, password, cb=None):
        self.proc = subprocess.Popen(
            ["gsasl", "--client", "--quiet", "-m", mech, "-a", user,
             "-p", password] + ([] if cb is not None else ["--no-cb"]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        assert self.line() == mech
        if cb is not None:
            self.write(b64(cb))

    def write(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def line(self):
        """The next line gsasl writes, without a prompt before it."""
        out = b""
        fd = self.proc.stdout.fileno()
        while not out.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], TIMEOUT)
            assert ready, f"gsasl said nothing after {out!r}"
            b = os.read(fd, 1)
            assert b, f"gsasl ended: {self.proc.stderr.read()!r}"
            out += b
        text = out.decode().rstrip("\n")
        return text.rsplit(": ", 1)[-1] if ": " in text else text

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.mark.parametrize("plus", [False, True])
def test_gsasl_pop3(scramd, plus):
    """gsasl speaks IMAP and SMTP only; its bare mode is driven here over
    POP3 on pop3s, given the tls-exporter data of our TLS session for
    -PLUS (as a client with its own TLS would see it)."""
    p = RawPOP3(scramd.ports["pop3s"], implicit_tls=True)
    mech = "SCRAM-SHA-256-PLUS" if plus else "SCRAM-SHA-256"
    g = GsaslPipe(mech, BOB, BOB_PW,
                  p.sock.binding("tls-exporter") if plus else None)
    try:
        first = g.line()
        assert base64.b64decode(first).startswith(
            b"p=tls-exporter,," if plus else b"n,,"), first
        r = p.cmd(f"AUTH {mech} {first}")
        while r.startswith("+ "):
            g.write(r[2:])
            r = p.cmd(g.line())
        assert r.startswith("+OK Logged in"), r
    finally:
        g.close()
        p.close()
    assert f"event=auth user={BOB} ip=127.0.0.1 mech=scram" in \
        scramd.read_log()
