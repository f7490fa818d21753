"""The http role's plain listeners: `listen http` (ACME http-01
challenges, RFC 8555 §8.3) and `listen metrics` (/metrics).  Each route
answers only on the kinds of listener its row names: the MTA-STS policy
only over TLS, /metrics only on the metrics listener, challenges only on
plain http."""

import http.client

import pytest

TIMEOUT = 10


@pytest.fixture
def web(make_daemon):
    d = make_daemon(extra="mta-sts-policy testing")
    d.start()
    return d


def get(d, kind, path, host="example.org", method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", d.ports[kind],
                                   timeout=TIMEOUT)
    try:
        c.request(method, path, headers={"Host": host})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def test_metrics_listener_serves_metrics_in_the_clear(web):
    status, headers, body = get(web, "metrics", "/metrics",
                                host="127.0.0.1")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    assert body.decode().endswith("\n")


def test_metrics_listener_serves_nothing_else(web):
    assert get(web, "metrics", "/.well-known/mta-sts.txt",
               host="mta-sts.example.org")[0] == 404
    assert get(web, "metrics", "/.well-known/acme-challenge/x")[0] == 404
    assert get(web, "metrics", "/metrics", method="POST")[0] == 405


def test_plain_http_has_no_policy_and_no_metrics(web):
    # RFC 8461 §3.3: the policy is served over HTTPS only.
    assert get(web, "http", "/.well-known/mta-sts.txt",
               host="mta-sts.example.org")[0] == 404
    assert get(web, "http", "/metrics")[0] == 404


def test_unknown_challenge_is_not_found(web):
    assert get(web, "http", "/.well-known/acme-challenge/nope")[0] == 404
    assert get(web, "http", "/.well-known/acme-challenge/nope",
               method="POST")[0] == 405


def test_plain_request_does_not_speak_tls(web):
    """A TLS ClientHello on the plain listener is not HTTP: 400 or a
    close, and the role goes on."""
    import socket
    s = socket.create_connection(("127.0.0.1", web.ports["http"]),
                                 timeout=TIMEOUT)
    s.sendall(b"\x16\x03\x01\x00\x05hello")
    try:
        data = s.recv(4096)
    except OSError:
        data = b""
    s.close()
    assert data == b"" or data.startswith(b"HTTP/1.1 400")
    assert get(web, "metrics", "/metrics", host="127.0.0.1")[0] == 200
