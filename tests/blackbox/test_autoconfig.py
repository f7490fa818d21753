"""Client autoconfiguration served by the http role, over HTTPS (a test
CA's certificate for every name, verified as a client would) and over
plain HTTP: Thunderbird's config-v1.1.xml for autoconfig.<domain> and
the domain's well-known path, Outlook's POX Autodiscover (POST), and an
Apple profile.  Each document is parsed (xml.etree, plistlib), checked
field by field against the daemon's config file (hostname, the port of
each listen line), and validated by xmllint: the Thunderbird document
against autoconfig-v1.1.xsd, written from Mozilla's documented format.
Every connection goes to 127.0.0.1; the names are SNI and Host only."""

import http.client
import os
import plistlib
import re
import subprocess
import tempfile
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest

import testpki
from conftest import Daemon
from test_https_policy import Loopback, context

DOMAINS = ("example.org", "example.net")
NAMES = ([f"autoconfig.{d}" for d in DOMAINS] +
         [f"autodiscover.{d}" for d in DOMAINS] + list(DOMAINS))
TB_PATH = "/mail/config-v1.1.xml"
TB_WELL_KNOWN = "/.well-known/autoconfig/mail/config-v1.1.xml"
AD_PATH = "/autodiscover/autodiscover.xml"
APPLE_PATH = "/apple/mobileconfig"
XSD = os.path.join(os.path.dirname(__file__), "autoconfig-v1.1.xsd")
AD_RESP_NS = "http://schemas.microsoft.com/exchange/autodiscover/" \
    "responseschema/2006"
AD_OUTLOOK = "http://schemas.microsoft.com/exchange/autodiscover/" \
    "outlook/responseschema/2006a"
AD_REQ_NS = "http://schemas.microsoft.com/exchange/autodiscover/" \
    "outlook/requestschema/2006"
TIMEOUT = 10


@pytest.fixture(scope="module")
def web():
    """One daemon for the module (the checks only read), in a directory
    the roles' users can reach, as conftest's tmpbase makes them."""
    base = tempfile.mkdtemp(prefix="cachet-test-", dir="/var/tmp")
    os.chmod(base, 0o755)
    ca, cert, key = testpki.make_pki(base, NAMES)
    d = Daemon(base, domains=DOMAINS,
               extra=f"tls {{ certificate {cert} key {key} }}")
    try:
        d.start()
        d.ca = ca
        yield d
    finally:
        if d.proc is not None:
            d.stop()
        subprocess.run(["rm", "-rf", base])


def config(d):
    """hostname and {kind: port of its first listen line}, read from the
    daemon's config file as an operator wrote it."""
    host, ports = None, {}
    with open(d.conf) as f:
        for line in f:
            w = line.split()
            if w[:1] == ["hostname"]:
                host = w[1]
            elif w[:1] == ["listen"]:
                ports.setdefault(w[1], int(w[2].rsplit(":", 1)[1]))
    return host, ports


def fetch(d, kind, host, path, method="GET", body=None, headers=None,
          sni=None):
    """(status, headers, body) of one request on the https or http
    listener, for host (and TLS for sni, by default host)."""
    if kind == "https":
        c = Loopback(sni or host, d.ports["https"], context=context(d.ca),
                     timeout=TIMEOUT)
    else:
        c = http.client.HTTPConnection("127.0.0.1", d.ports["http"],
                                       timeout=TIMEOUT)
    try:
        c.request(method, path, body=body,
                  headers={"Host": host, **(headers or {})})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def q(addr):
    return urllib.parse.quote(addr, safe="")


def xmllint(body, *args):
    r = subprocess.run(["xmllint", "--noout", "--nonet", *args, "-"],
                       input=body, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()


# --- Thunderbird ---

def expected_tb(d):
    host, p = config(d)
    incoming = [("imap", host, p["imaps"], "SSL"),
                ("imap", host, p["imap"], "STARTTLS"),
                ("pop3", host, p["pop3s"], "SSL"),
                ("pop3", host, p["pop3"], "STARTTLS")]
    outgoing = [("smtp", host, p["submissions"], "SSL"),
                ("smtp", host, p["submission"], "STARTTLS")]
    return incoming, outgoing


def servers(provider, tag):
    out = []
    for s in provider.findall(tag):
        assert s.findtext("username") == "%EMAILADDRESS%"
        assert s.findtext("authentication") == "password-cleartext"
        out.append((s.get("type"), s.findtext("hostname"),
                    int(s.findtext("port")), s.findtext("socketType")))
    return out


def check_tb(d, body, domain):
    xmllint(body, "--schema", XSD)
    root = ET.fromstring(body)
    assert root.tag == "clientConfig" and root.get("version") == "1.1"
    provider = root.find("emailProvider")
    assert provider.get("id") == domain
    assert [e.text for e in provider.findall("domain")] == [domain]
    assert provider.findtext("displayName") == domain
    incoming, outgoing = expected_tb(d)
    assert servers(provider, "incomingServer") == incoming
    assert servers(provider, "outgoingServer") == outgoing


@pytest.mark.parametrize("kind", ["https", "http"])
@pytest.mark.parametrize("domain", DOMAINS)
def test_thunderbird_for_autoconfig_host(web, kind, domain):
    status, headers, body = fetch(
        web, kind, f"autoconfig.{domain}",
        f"{TB_PATH}?emailaddress={q('alice@' + domain)}")
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/xml")
    check_tb(web, body, domain)


@pytest.mark.parametrize("kind", ["https", "http"])
def test_thunderbird_well_known_for_the_domain(web, kind):
    status, _, body = fetch(
        web, kind, "example.net",
        f"{TB_WELL_KNOWN}?emailaddress={q('bob@example.net')}")
    assert status == 200, body
    check_tb(web, body, "example.net")
    # Without an address too: the document names %EMAILADDRESS%.
    status, _, body = fetch(web, kind, "example.net", TB_WELL_KNOWN)
    assert status == 200
    check_tb(web, body, "example.net")


def test_thunderbird_head_has_the_length_of_get(web):
    path = f"{TB_PATH}?emailaddress={q('alice@example.org')}"
    _, _, body = fetch(web, "https", "autoconfig.example.org", path)
    status, headers, empty = fetch(web, "https", "autoconfig.example.org",
                                   path, method="HEAD")
    assert status == 200 and empty == b""
    assert int(headers["Content-Length"]) == len(body)


def test_thunderbird_errors(web):
    host = "autoconfig.example.org"
    # Not one of our domains: no route.
    assert fetch(web, "https", "autoconfig.example.com", TB_PATH,
                 sni=host)[0] == 404
    assert fetch(web, "http", "example.com", TB_WELL_KNOWN)[0] == 404
    # An address of a domain not ours.
    assert fetch(web, "https", host, f"{TB_PATH}?emailaddress="
                 f"{q('alice@example.com')}")[0] == 404
    # Not an address, badly encoded, twice, too long.
    for query in ["emailaddress=alice", "emailaddress=alice%4",
                  "emailaddress=al%ZZice%40example.org",
                  "emailaddress=a%40example.org&emailaddress=b%40example.org",
                  "emailaddress=" + "a" * 300 + "%40example.org",
                  "emailaddress=%3Calice%40example.org%3E",
                  "emailaddress=alice%00%40example.org"]:
        assert fetch(web, "https", host, f"{TB_PATH}?{query}")[0] == 400, \
            query
    assert fetch(web, "https", host, TB_PATH, method="POST",
                 body=b"x")[0] == 405


# --- Autodiscover ---

def ad_request(addr, schema=AD_OUTLOOK):
    return (f'<?xml version="1.0" encoding="utf-8"?>\r\n'
            f'<Autodiscover xmlns="{AD_REQ_NS}">\r\n'
            f'  <Request>\r\n'
            f'    <EMailAddress>{addr}</EMailAddress>\r\n'
            f'    <AcceptableResponseSchema>{schema}'
            f'</AcceptableResponseSchema>\r\n'
            f'  </Request>\r\n'
            f'</Autodiscover>\r\n').encode()


def autodiscover(d, body, kind="https", host="autodiscover.example.org",
                 path=AD_PATH):
    status, headers, out = fetch(d, kind, host, path, method="POST",
                                 body=body,
                                 headers={"Content-Type": "text/xml"})
    assert status == 200, out
    assert headers["Content-Type"].startswith("text/xml")
    xmllint(out)
    root = ET.fromstring(out)
    assert root.tag == f"{{{AD_RESP_NS}}}Autodiscover"
    return root


def ad_error(root):
    err = root.find(f"{{{AD_RESP_NS}}}Response/{{{AD_RESP_NS}}}Error")
    assert err is not None, ET.tostring(root)
    return int(err.findtext(f"{{{AD_RESP_NS}}}ErrorCode"))


@pytest.mark.parametrize("kind,host,path", [
    ("https", "autodiscover.example.org", AD_PATH),
    ("https", "example.org", AD_PATH),
    ("https", "autodiscover.example.org", "/Autodiscover/Autodiscover.xml"),
    ("http", "autodiscover.example.org", AD_PATH),
])
def test_autodiscover_outlook(web, kind, host, path):
    addr = "o'neil&co@example.org"
    req = ad_request(addr.replace("&", "&amp;").replace("'", "&apos;"))
    root = autodiscover(web, req, kind, host, path)
    n = f"{{{AD_OUTLOOK}}}"
    acct = root.find(f"{n}Response/{n}Account")
    assert acct.findtext(f"{n}AccountType") == "email"
    assert acct.findtext(f"{n}Action") == "settings"
    hostname, p = config(web)
    got = {}
    for proto in acct.findall(f"{n}Protocol"):
        t = proto.findtext(f"{n}Type")
        assert t not in got
        got[t] = proto
        assert proto.findtext(f"{n}Server") == hostname
        assert proto.findtext(f"{n}LoginName") == addr
        assert proto.findtext(f"{n}SSL") == "on"
        assert proto.findtext(f"{n}SPA") == "off"
        assert proto.findtext(f"{n}AuthRequired") == "on"
        assert proto.findtext(f"{n}Encryption") == "SSL"
    assert sorted(got) == ["IMAP", "POP3", "SMTP"]
    assert int(got["IMAP"].findtext(f"{n}Port")) == p["imaps"]
    assert int(got["POP3"].findtext(f"{n}Port")) == p["pop3s"]
    assert int(got["SMTP"].findtext(f"{n}Port")) == p["submissions"]


def test_autodiscover_errors(web):
    cases = [
        (b"<Autodiscover><Request>", 600),             # not well-formed
        (b"", 600),
        (b"<Other/>", 600),
        (ad_request("alice"), 600),                      # not an address
        (ad_request("alice@example.com"), 500),          # not ours
        (ad_request("alice@example.org", schema="http://schemas.microsoft"
                    ".com/exchange/autodiscover/mobilesync/responseschema"
                    "/2006"), 601),
        # A DTD, and with it entities: refused before anything expands.
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "alice@example.org">'
         b']><Autodiscover><Request><EMailAddress>&e;</EMailAddress>'
         b'</Request></Autodiscover>', 600),
        (b'<Autodiscover><Request><EMailAddress>a@example.org</EMailAddress>'
         b'<EMailAddress>b@example.org</EMailAddress></Request>'
         b'</Autodiscover>', 600),
    ]
    for body, code in cases:
        assert ad_error(autodiscover(web, body)) == code, body


def test_autodiscover_declared_encoding_is_ignored(web):
    """An encoding declared is not loaded (a converter is a file, and the
    role opens none): the body is read as UTF-8 and the role lives."""
    pid = web.role_pids()["http"]
    body = ad_request("alice@example.org").replace(b"utf-8", b"SHIFT_JIS")
    root = autodiscover(web, body)
    assert root.find(f"{{{AD_OUTLOOK}}}Response") is not None
    assert web.role_pids()["http"] == pid


def test_autodiscover_method_and_size(web):
    status, headers, _ = fetch(web, "https", "autodiscover.example.org",
                               AD_PATH)
    assert status == 405 and headers["Allow"] == "POST"
    # Past HTTP_BODY_MAX (2 KiB) evhttp refuses the body.
    big = ad_request("alice@example.org") + b" " * 2048
    status, _, _ = fetch(web, "https", "autodiscover.example.org", AD_PATH,
                         method="POST", body=big)
    assert status == 413
    assert fetch(web, "https", "autodiscover.example.com", AD_PATH,
                 method="POST", body=ad_request("a@example.com"),
                 sni="example.org")[0] == 404


# --- Apple ---

@pytest.mark.parametrize("kind,host", [("https", "autoconfig.example.org"),
                                       ("https", "example.org"),
                                       ("http", "example.org")])
def test_apple_profile(web, kind, host):
    addr = "alice+tag@example.org"
    status, headers, body = fetch(web, kind, host,
                                  f"{APPLE_PATH}?emailaddress={q(addr)}")
    assert status == 200, body
    assert headers["Content-Type"] == "application/x-apple-aspen-config"
    assert headers["Content-Disposition"] == \
        'attachment; filename="example.org.mobileconfig"'
    xmllint(body)
    pl = plistlib.loads(body, fmt=plistlib.FMT_XML)
    assert pl["PayloadType"] == "Configuration"
    assert pl["PayloadVersion"] == 1
    uuid.UUID(pl["PayloadUUID"])
    assert re.fullmatch(r"org\.example\.mx\.mail\.[0-9A-F-]{36}",
                        pl["PayloadIdentifier"]), pl["PayloadIdentifier"]
    [mail] = pl["PayloadContent"]
    hostname, p = config(web)
    assert mail["PayloadType"] == "com.apple.mail.managed"
    assert mail["PayloadVersion"] == 1
    assert mail["PayloadIdentifier"].startswith(pl["PayloadIdentifier"])
    assert uuid.UUID(mail["PayloadUUID"]) != uuid.UUID(pl["PayloadUUID"])
    assert mail["EmailAccountType"] == "EmailTypeIMAP"
    assert mail["EmailAddress"] == addr
    assert mail["IncomingMailServerHostName"] == hostname
    assert mail["IncomingMailServerPortNumber"] == p["imaps"]
    assert mail["IncomingMailServerUseSSL"] is True
    assert mail["IncomingMailServerUsername"] == addr
    assert mail["IncomingMailServerAuthentication"] == "EmailAuthPassword"
    assert mail["OutgoingMailServerHostName"] == hostname
    assert mail["OutgoingMailServerPortNumber"] == p["submissions"]
    assert mail["OutgoingMailServerUseSSL"] is True
    assert mail["OutgoingMailServerUsername"] == addr
    assert mail["OutgoingMailServerAuthentication"] == "EmailAuthPassword"
    assert mail["OutgoingPasswordSameAsIncomingPassword"] is True


def test_apple_profile_is_the_same_for_the_same_user(web):
    def ids(addr):
        _, _, body = fetch(web, "https", "example.org",
                           f"{APPLE_PATH}?emailaddress={q(addr)}")
        pl = plistlib.loads(body)
        return pl["PayloadUUID"], pl["PayloadContent"][0]["PayloadUUID"]
    assert ids("alice@example.org") == ids("alice@example.org")
    assert ids("alice@example.org") != ids("bob@example.org")


def test_apple_profile_errors(web):
    assert fetch(web, "https", "example.org", APPLE_PATH)[0] == 400
    assert fetch(web, "https", "example.org",
                 f"{APPLE_PATH}?emailaddress=nobody")[0] == 400
    assert fetch(web, "https", "example.org",
                 f"{APPLE_PATH}?emailaddress={q('a@example.com')}")[0] == 404
    assert fetch(web, "https", "mx.example.org",
                 f"{APPLE_PATH}?emailaddress={q('a@example.org')}",
                 sni="example.org")[0] == 404


def test_nothing_on_the_metrics_listener(web):
    c = http.client.HTTPConnection("127.0.0.1", web.ports["metrics"],
                                   timeout=TIMEOUT)
    try:
        c.request("GET", TB_PATH, headers={"Host": "autoconfig.example.org"})
        assert c.getresponse().status == 404
    finally:
        c.close()
