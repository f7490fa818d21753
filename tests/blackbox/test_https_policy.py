"""Hosting our own MTA-STS policy (RFC 8461 §3.3): the http role on a
`listen https` listener serves /.well-known/mta-sts.txt for
mta-sts.<each of our domains> with the tls { } certificate, nothing else
with a 200; `cachetctl dns` prints the TXT records whose id is the served
policy's; a reload with a new policy serves it under a new id.

The certificate is the test's own, from a test CA, for the mta-sts names
of both domains, so the clients (Python's ssl and curl) verify it as they
would a real one.  Every connection goes to 127.0.0.1; names are given
as SNI and Host only (curl --resolve)."""

import hashlib
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest

import testpki
from conftest import pid_alive, wait_for

DOMAINS = ("example.org", "example.net")
NAMES = [f"mta-sts.{d}" for d in DOMAINS]
PATH = "/.well-known/mta-sts.txt"
POLICY = "mta-sts-policy enforce max-age 1d mx mx.example.org mx *.example.net"
TIMEOUT = 10


def make_pki(d):
    """A test CA and a leaf for the mta-sts names (and the MX's)."""
    return testpki.make_pki(d, NAMES + ["mx.example.org"])


@pytest.fixture
def pki(tmpbase):
    return make_pki(tmpbase)


@pytest.fixture
def web(make_daemon, pki):
    _ca, cert, key = pki
    d = make_daemon(domains=DOMAINS,
                    extra=f"tls {{ certificate {cert} key {key} }}\n"
                    + POLICY)
    d.start()
    d.ca = pki[0]
    return d


def context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class Loopback(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 for a name: SNI, certificate check and Host
    are the name's, the TCP connection goes to loopback."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port),
                                        self.timeout)
        self.sock = self._context.wrap_socket(sock,
                                              server_hostname=self.host)


def fetch(d, name, path=PATH, method="GET", body=None, headers=None):
    c = Loopback(name, d.ports["https"], context=context(d.ca),
                 timeout=TIMEOUT)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def parse_policy(body):
    """RFC 8461 §3.2, read strictly: CRLF lines of "key: value", version
    first; returns {key: value or [values] for mx}."""
    text = body.decode("ascii")
    assert text.endswith("\r\n"), text
    lines = text[:-2].split("\r\n")
    assert lines[0] == "version: STSv1", lines
    out = {"mx": []}
    for line in lines:
        assert "\n" not in line and "\r" not in line, lines
        m = re.fullmatch(r"([A-Za-z0-9_]+): (\S+)", line)
        assert m, line
        if m.group(1) == "mx":
            out["mx"].append(m.group(2))
        else:
            assert m.group(1) not in out, line
            out[m.group(1)] = m.group(2)
    assert out["mode"] in ("enforce", "testing", "none")
    assert 0 <= int(out["max_age"]) <= 31557600
    return out


def dns_records(d, domain):
    """The id of the _mta-sts record and the rua of the _smtp._tls one,
    among the records `cachetctl dns` prints (test_dns_records.py)."""
    r = d.ctl("dns", domain)
    sts = rpt = None
    for line in r.stdout.splitlines():
        sts = sts or re.fullmatch(r'_mta-sts\.(\S+)\. 3600 IN TXT '
                                  r'"v=STSv1; id=([A-Za-z0-9]{1,32})"', line)
        rpt = rpt or re.fullmatch(r'_smtp\._tls\.(\S+)\. 3600 IN TXT '
                                  r'"v=TLSRPTv1; rua=(\S+)"', line)
    assert sts and rpt, r.stdout
    assert sts.group(1) == domain and rpt.group(1) == domain
    return sts.group(2), rpt.group(2)


def policy_id(body):
    """The documented rule (cachet.conf.md): the first 20 hex digits of
    the policy's SHA-256."""
    return hashlib.sha256(body).hexdigest()[:20]


def test_policy_served_for_each_domain(web):
    bodies = []
    for name in NAMES:
        status, headers, body = fetch(web, name)
        assert status == 200, (name, body)
        assert headers["Content-Type"] == "text/plain"
        assert int(headers["Content-Length"]) == len(body)
        p = parse_policy(body)
        assert p == {"version": "STSv1",
                     "mx": ["mx.example.org", "*.example.net"],
                     "mode": "enforce", "max_age": "86400"}, p
        bodies.append(body)
    assert bodies[0] == bodies[1]
    # HEAD: the headers alone.
    status, headers, body = fetch(web, NAMES[1], method="HEAD")
    assert (status, body) == (200, b"")
    assert int(headers["Content-Length"]) == len(bodies[0])
    # The host compares without case, with a port and a final dot.
    status, _h, body = fetch(web, NAMES[0], headers={
        "Host": f"MTA-STS.Example.ORG.:{web.ports['https']}"})
    assert (status, body) == (200, bodies[0])
    # The id published is the served policy's.
    for d in DOMAINS:
        sid, rua = dns_records(web, d)
        assert sid == policy_id(bodies[0])
        assert rua == f"mailto:postmaster@{d}"
    log = web.read_log()
    assert re.search(r"http\[\d+\]: event=http client=127\.0\.0\.1 "
                     r"method=GET host=mta-sts\.example\.net "
                     rf"path={re.escape(PATH)} status=200", log), log[-2000:]


def test_policy_with_curl(web):
    for name in NAMES:
        port = web.ports["https"]
        r = subprocess.run(
            ["curl", "-sS", "--max-time", "10", "--proto", "=https",
             "--cacert", web.ca, "--resolve", f"{name}:{port}:127.0.0.1",
             "-w", "\n%{http_code} %{content_type}",
             f"https://{name}:{port}{PATH}"],
            capture_output=True, timeout=20)
        assert r.returncode == 0, r.stderr
        body, _nl, tail = r.stdout.rpartition(b"\n")
        assert tail == b"200 text/plain", r.stdout
        assert parse_policy(body)["mode"] == "enforce"


def test_nothing_else_gets_a_200(web):
    # Another host (certificate name aside: the Host field decides).
    for host in ("mx.example.org", "mta-sts.example.com", "example.org",
                 "mta-sts.example.org.evil.test", "127.0.0.1"):
        status, _h, body = fetch(web, NAMES[0], headers={"Host": host})
        assert status == 404, (host, body)
        assert b"STSv1" not in body
    for path in ("/", "/.well-known/mta-sts.txt.bak", "/mta-sts.txt",
                 "/.well-known/", "/.well-known/MTA-STS.TXT"):
        status, _h, body = fetch(web, NAMES[0], path=path)
        assert status == 404, (path, body)
        assert b"STSv1" not in body
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, headers, body = fetch(web, NAMES[0], method=method,
                                      body=b"x=1")
        assert status == 405, (method, body)
        assert headers["Allow"] == "GET, HEAD"
        assert b"STSv1" not in body


def raw_tls(d, request, name=NAMES[0]):
    """Send bytes over TLS, return all the server says until it closes
    or goes quiet."""
    sock = socket.create_connection(("127.0.0.1", d.ports["https"]),
                                    TIMEOUT)
    s = context(d.ca).wrap_socket(sock, server_hostname=name)
    try:
        s.sendall(request)
        s.settimeout(3)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError, ssl.SSLError):
            pass
        return out
    finally:
        s.close()


def test_bad_and_oversize_requests(web):
    pid = web.status()["http"]["pid"]
    # RFC 9112 §3.2: HTTP/1.1 without Host, and two Host fields.
    out = raw_tls(web, f"GET {PATH} HTTP/1.1\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 400 "), out
    out = raw_tls(web, f"GET {PATH} HTTP/1.1\r\nHost: {NAMES[0]}\r\n"
                  f"Host: {NAMES[1]}\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 400 "), out
    # Headers past the limit (8 KiB), in one line or in many: 400, and
    # the connection closed (raw_tls reads to the end).
    # Small enough to sit whole in the socket buffers before the server
    # answers, so that the write does not race with its close.
    for big in ("X-Filler: " + "a" * 10000,
                "\r\n".join(f"X-F{i}: {'b' * 100}" for i in range(100))):
        out = raw_tls(web, f"GET {PATH} HTTP/1.1\r\nHost: {NAMES[0]}\r\n"
                      f"{big}\r\n\r\n".encode())
        assert out.startswith(b"HTTP/1.1 400 "), out
        assert b"STSv1" not in out
    # A body announced past its limit (1 KiB): 413 before it is sent
    # (sending it would race with the close).
    out = raw_tls(web, f"POST {PATH} HTTP/1.1\r\nHost: {NAMES[0]}\r\n"
                  "Content-Length: 100000\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 413 "), out
    # HEAD: the headers of a GET, no body.
    out = raw_tls(web, f"HEAD {PATH} HTTP/1.1\r\nHost: {NAMES[1]}\r\n"
                  "Connection: close\r\n\r\n".encode())
    head, _sep, rest = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and _sep and rest == b"", out
    _s, _h, body = fetch(web, NAMES[1])
    assert f"Content-Length: {len(body)}".encode() in head.split(b"\r\n")
    # A request line of garbage.
    out = raw_tls(web, b"\x00\x01 nonsense\r\n\r\n")
    assert b"STSv1" not in out
    # The role goes on, in the same process.
    status, _h, body = fetch(web, NAMES[0])
    assert status == 200 and b"STSv1" in body
    assert web.status()["http"]["pid"] == pid
    # Cleartext on the TLS port gets no policy.
    with socket.create_connection(("127.0.0.1", web.ports["https"]),
                                  TIMEOUT) as s:
        s.sendall(f"GET {PATH} HTTP/1.1\r\nHost: {NAMES[0]}\r\n\r\n"
                  .encode())
        s.settimeout(3)
        try:
            got = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            got = b""
        assert b"STSv1" not in got


def test_reload_serves_the_new_policy_under_a_new_id(web):
    _s, _h, before = fetch(web, NAMES[0])
    id_before, _rua = dns_records(web, DOMAINS[0])
    assert id_before == policy_id(before)
    with open(web.conf) as f:
        text = f.read()
    with open(web.conf, "w") as f:
        f.write(text.replace(POLICY, "mta-sts-policy testing mx "
                             "mx.example.org\ntlsrpt-rua "
                             "mailto:tls-reports@example.net"))
    web.ctl("reload")

    def new_body():
        try:
            status, _h, body = fetch(web, NAMES[1])
        except OSError:
            return None
        return status == 200 and b"mode: testing" in body and body
    after = wait_for(new_body, timeout=20)
    assert after, web.log_tail()
    p = parse_policy(after)
    assert p == {"version": "STSv1", "mx": ["mx.example.org"],
                 "mode": "testing", "max_age": "604800"}, p
    id_after, rua = dns_records(web, DOMAINS[1])
    assert id_after != id_before
    assert id_after == policy_id(after)
    assert rua == "mailto:tls-reports@example.net"
    # Both domains name the one policy.
    assert dns_records(web, DOMAINS[0])[0] == id_after


def test_dns_refuses_other_domains_and_bad_usage(web):
    r = web.ctl("dns", "example.com", check=False)
    assert r.returncode == 1 and "not one of our domains" in r.stderr
    assert r.stdout == ""
    r = web.ctl("dns", check=False)
    assert r.returncode == 2, r.stderr
    # Case does not matter; the records are written in lower case.
    sid, _rua = dns_records(web, "example.org")
    r = web.ctl("dns", "EXAMPLE.ORG")
    assert f"id={sid}" in r.stdout and "_mta-sts.example.org." in r.stdout


def test_without_a_policy_nothing_is_served(make_daemon):
    d = make_daemon()
    d.start()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = Loopback("mta-sts.example.org", d.ports["https"], context=ctx,
                 timeout=TIMEOUT)
    c.request("GET", PATH)
    r = c.getresponse()
    assert r.status == 404 and b"STSv1" not in r.read()
    c.close()
    out = d.ctl("dns", "example.org").stdout.splitlines()
    assert ("; no mta-sts-policy in the config: no _mta-sts.example.org. "
            "record") in out, out
    assert not [line for line in out if line.startswith("_mta-sts.")]
    assert ('_smtp._tls.example.org. 3600 IN TXT "v=TLSRPTv1; '
            'rua=mailto:postmaster@example.org"') in out


def test_http_role_is_sandboxed_and_comes_back(web):
    st = web.status()["http"]
    with open(f"/proc/{st['pid']}/status") as f:
        seccomp = [line.split()[1] for line in f
                   if line.startswith("Seccomp:")]
    assert seccomp == ["2"]
    os.kill(st["pid"], signal.SIGKILL)

    def back():
        now = web.status()["http"]
        return (now["pid"] not in (0, st["pid"]) and now["state"] == "alive"
                and now["restarts"] == st["restarts"] + 1) and now
    now = wait_for(back, timeout=20)
    assert now, web.log_tail()
    assert not pid_alive(st["pid"])
    status, _h, body = fetch(web, NAMES[1])
    assert status == 200 and b"mode: enforce" in body


def test_postfix_mta_sts_resolver_reads_what_we_publish(web):
    """Debian's postfix-mta-sts-resolver (another implementation) reads
    our record and policy, checked as its resolver checks them before it
    takes a policy (resolver.py: v=STSv1 and an id; version, max_age in
    range, a known mode; text/plain)."""
    from postfix_mta_sts_resolver.utils import (is_plaintext,
                                                parse_mta_sts_policy,
                                                parse_mta_sts_record)
    status, headers, body = fetch(web, NAMES[0])
    assert status == 200 and is_plaintext(headers["Content-Type"])
    pol = parse_mta_sts_policy(body.decode("ascii"))
    assert pol["version"] == "STSv1"
    assert 0 <= int(pol["max_age"]) <= 31557600
    assert pol["mode"] == "enforce"
    assert pol["mx"] == ["mx.example.org", "*.example.net"]
    out = web.ctl("dns", DOMAINS[0]).stdout
    txt = re.search(r'^_mta-sts\.example\.org\. 3600 IN TXT "(.*)"$', out,
                    re.M)
    assert txt, out
    rec = parse_mta_sts_record(txt.group(1))
    assert rec == {"v": "STSv1", "id": policy_id(body)}


def test_connections_past_the_limit_wait_for_one_to_close(make_daemon, pki):
    """max-connections 3: three TLS connections held open (handshaken,
    no request), a fourth is not taken up (its handshake does not
    finish) until one of the three closes; then it is served."""
    _ca, cert, key = pki
    d = make_daemon(domains=DOMAINS,
                    extra=f"tls {{ certificate {cert} key {key} }}\n"
                    f"{POLICY}\nmax-connections 3")
    d.start()
    d.ca = pki[0]
    ctx = context(d.ca)
    held = []
    try:
        for _ in range(3):
            sock = socket.create_connection(
                ("127.0.0.1", d.ports["https"]), TIMEOUT)
            held.append(ctx.wrap_socket(sock, server_hostname=NAMES[0]))
        assert wait_for(lambda: "http: 3 connections (max-connections)"
                        in d.read_log(), 5), d.log_tail()
        # The kernel completes the TCP handshake (listen queue); ours
        # waits.
        late = socket.create_connection(("127.0.0.1", d.ports["https"]),
                                        TIMEOUT)
        late.settimeout(2)
        with pytest.raises((socket.timeout, ssl.SSLError)):
            ctx.wrap_socket(late, server_hostname=NAMES[0])
        late.close()
        late = socket.create_connection(("127.0.0.1", d.ports["https"]),
                                        TIMEOUT)
        held.pop().close()
        late.settimeout(TIMEOUT)
        t = ctx.wrap_socket(late, server_hostname=NAMES[0])
        held.append(t)
        t.sendall(f"GET {PATH} HTTP/1.1\r\nHost: {NAMES[0]}\r\n"
                  "Connection: close\r\n\r\n".encode())
        out = b""
        while True:
            chunk = t.recv(65536)
            if not chunk:
                break
            out += chunk
        assert out.startswith(b"HTTP/1.1 200 ") and b"STSv1" in out, out
    finally:
        for s in held:
            s.close()
    # All closed: the role accepts again at once.
    assert fetch(d, NAMES[1])[0] == 200
    assert "http: accepting again" in d.read_log()


def test_idle_and_slow_connections_are_closed(web):
    """30 s without progress closes a connection: one that sends nothing
    after the handshake, and one that sends half a request (slowloris).
    Both are held side by side, so the test waits once."""
    ctx = context(web.ca)
    conns = []
    for partial in (b"", f"GET {PATH} HTTP/1.1\r\nHost: ".encode()):
        sock = socket.create_connection(("127.0.0.1", web.ports["https"]),
                                        TIMEOUT)
        s = ctx.wrap_socket(sock, server_hostname=NAMES[0])
        if partial:
            s.sendall(partial)
        s.settimeout(45)
        conns.append(s)
    start = time.monotonic()
    try:
        for s in conns:
            try:
                got = s.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                got = b""
            # Closed, with nothing served.
            assert b"STSv1" not in got and (got == b"" or
                                            got.startswith(b"HTTP/1.1 4"))
        took = time.monotonic() - start
        assert 20 <= took <= 40, took
    finally:
        for s in conns:
            s.close()
