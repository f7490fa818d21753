"""SMTP TLS Reporting (RFC 8460) against the tests' DNS server, an HTTPS
server on 127.0.15.1:443 (MTA-STS policies by Host header, and a TLS-RPT
collector taking POSTs) and scripted SMTP peers on 127.0.15.x:25, away
from the addresses of the other outbound tests.

    good      MTA-STS enforce, a peer with a good certificate: success;
              rua mailto: to a local address
    testing   MTA-STS testing, the peer's certificate names another host:
              delivered, certificate-host-mismatch; rua mailto: and https:
    plain     no policy, STARTTLS: success under no-policy-found; rua
              https: to the collector (collector.rpt.test, 127.0.15.1)
    clear     no policy, no STARTTLS: starttls-not-supported
    unlisted  MTA-STS testing, the MX is not in the policy (its certificate
              is good): delivered, validation-failure
    nofetch   an _mta-sts record, but the policy host answers 404:
              sts-policy-fetch-error, and the delivery under no policy

The JSON of `cachetctl tlsrpt show` is validated against a JSON Schema
written from RFC 8460 §4.4 (tests/blackbox/tlsrpt-schema.json; the shared
test data has none) with Debian's python3-jsonschema.

Each test starts its own daemon; peers and servers are stopped by PID
(threads of this process, stopped at the end of the test or module).
"""

import email
import email.policy
import gzip
import json
import os
import re
import smtplib
import subprocess
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import pytest

from conftest import wait_for
from dnsserver import DNSServer
from dnssec import make_ca_and_leaf
from smtppeer import Peer
from test_dkim_sign import dkimpy_results, published
from test_mta_sts import leaf, out, submit  # noqa: F401 (fixture)

Z = "rpt.test"
HTTPS_IP = "127.0.15.1"
POLICY = "version: STSv1\nmode: {mode}\nmx: *.{d}\nmax_age: 86400\n"
SCHEMA = os.path.join(os.path.dirname(__file__), "tlsrpt-schema.json")

# case: (MX host, its address, MTA-STS mode or None, peer TLS)
DOMAINS = {
    "good": ("mx.good.rpt.test", "127.0.15.2", "enforce", "good"),
    "testing": ("mx.testing.rpt.test", "127.0.15.3", "testing", "wrong"),
    "plain": ("mx.plain.rpt.test", "127.0.15.4", None, "good"),
    "clear": ("mx.clear.rpt.test", "127.0.15.5", None, None),
    "unlisted": ("mx.unlisted.test", "127.0.15.6", "testing", "good"),
    "nofetch": ("mx.nofetch.rpt.test", "127.0.15.7", "404", "good"),
}

# the _smtp._tls records (clear has none)
RUA = {
    "good": "mailto:tlsrpt@example.org",
    "testing": "mailto:tlsrpt@example.org,https://collector.rpt.test/r",
    "plain": "https://collector.rpt.test/r",
}


def dom(case):
    return f"{case}.{Z}"


class HTTPSHost:
    """HTTPS on HTTPS_IP:443: GET serves policies[host]; POST to any path
    is kept in posts as (path, headers, body)."""

    def __init__(self, certs):
        self.policies = {}
        self.posts = []
        self.lock = threading.Lock()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.headers.get("Host", "").split(":")[0].lower()
                with host.lock:
                    body = host.policies.get(name)
                if body is None or \
                        self.path != "/.well-known/mta-sts.txt":
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(min(n, 1 << 20))
                with host.lock:
                    host.posts.append((self.path, dict(self.headers),
                                       body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(os.path.join(certs, "https.crt"),
                            os.path.join(certs, "https.key"))
        self.server = ThreadingHTTPServer((HTTPS_IP, 443), Handler)
        self.server.socket = ctx.wrap_socket(self.server.socket,
                                             server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def zone():
    lines = []
    for case, (mx, ip, mode, _) in DOMAINS.items():
        d = dom(case)
        lines += [f"{d}. 1 IN MX 10 {mx}.", f"{mx}. 1 IN A {ip}"]
        if mode is not None:
            lines += [f'_mta-sts.{d}. 1 IN TXT "v=STSv1; id=1"',
                      f"mta-sts.{d}. 1 IN A {HTTPS_IP}"]
        if case in RUA:
            lines.append(f'_smtp._tls.{d}. 1 IN TXT "v=TLSRPTv1; '
                         f'rua={RUA[case]}"')
    lines.append(f"collector.{Z}. 1 IN A {HTTPS_IP}")
    return "\n".join(sorted(set(lines))) + "\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("tlsrpt"))
    os.chmod(base, 0o755)
    certs = os.path.join(base, "certs")
    os.makedirs(certs)
    ca = make_ca_and_leaf(certs, "mx.good.rpt.test")
    leaf(certs, "https", ["mta-sts." + dom(c) for c in DOMAINS] +
         ["collector.rpt.test"])
    for mx in ("mx.plain.rpt.test", "mx.clear.rpt.test", "mx.unlisted.test",
               "mx.nofetch.rpt.test"):
        leaf(certs, mx, [mx])
    wrong = os.path.join(base, "wrong")
    os.makedirs(wrong)
    for ext in (".crt", ".key"):
        os.link(os.path.join(certs, "ca" + ext), os.path.join(wrong,
                                                             "ca" + ext))
    leaf(wrong, "mx.testing.rpt.test", ["elsewhere.test"])
    host = HTTPSHost(certs)
    for case, (_, _, mode, _) in DOMAINS.items():
        if mode not in (None, "404"):
            host.policies["mta-sts." + dom(case)] = POLICY.format(
                mode=mode, d=dom(case))
    host.start()
    dns = DNSServer(zone()).start()
    yield {"certs": certs, "wrong": wrong, "ca": ca, "host": host,
           "dns": dns}
    dns.stop()
    host.stop()


@pytest.fixture
def peers(world):
    made = []

    def peer(case):
        mx, addr, _, tls = DOMAINS[case]
        tls_dir = {"good": world["certs"], "wrong": world["wrong"],
                   None: None}[tls]
        p = Peer(addr, tls_dir=tls_dir, name=mx).start()
        made.append(p)
        return p
    yield peer
    for p in made:
        p.stop()


def sent(d, rcpt):
    assert wait_for(lambda: re.search(r"to=<" + re.escape(rcpt) +
                                      r"> .*status=sent", d.read_log()),
                    20), d.log_tail()


def reports(text):
    """The JSON reports printed one after another."""
    dec = json.JSONDecoder()
    out, i = [], 0
    text = text.strip()
    while i < len(text):
        obj, n = dec.raw_decode(text, i)
        out.append(obj)
        i = n
        while i < len(text) and text[i].isspace():
            i += 1
    return out


def schema():
    with open(SCHEMA) as f:
        return json.load(f)


def by_domain(reps):
    """policy-domain: [policy entries] over all reports."""
    m = {}
    for r in reps:
        for p in r["policies"]:
            m.setdefault(p["policy"]["policy-domain"], []).append(p)
    return m


def deliver_all(d, peers):
    for case in DOMAINS:
        peers(case)
    for case in DOMAINS:
        submit(d, f"bob@{dom(case)}")
    for case in DOMAINS:
        sent(d, f"bob@{dom(case)}")


def test_show_counts_sessions_per_policy(out, peers):
    d = out("tlsrpt-from tlsrpt@example.org\n")
    deliver_all(d, peers)
    reps = reports(d.ctl("tlsrpt", "show").stdout)
    assert reps, "no report"
    for r in reps:
        jsonschema.validate(r, schema())
        assert r["contact-info"] == "tlsrpt@example.org"
        assert r["date-range"]["start-datetime"].endswith("T00:00:00Z")
        assert r["date-range"]["end-datetime"].endswith("T23:59:59Z")
    pols = by_domain(reps)

    good = pols[dom("good")]
    assert len(good) == 1
    assert good[0]["policy"]["policy-type"] == "sts"
    assert good[0]["policy"]["policy-string"] == POLICY.format(
        mode="enforce", d=dom("good")).splitlines()
    assert good[0]["policy"]["mx-host"] == ["*." + dom("good")]
    assert good[0]["summary"] == {"total-successful-session-count": 1,
                                  "total-failure-session-count": 0}

    testing = pols[dom("testing")]
    assert len(testing) == 1
    assert testing[0]["policy"]["policy-type"] == "sts"
    assert "mode: testing" in testing[0]["policy"]["policy-string"]
    assert testing[0]["summary"]["total-failure-session-count"] == 1
    f = testing[0]["failure-details"]
    assert [x["result-type"] for x in f] == ["certificate-host-mismatch"]
    assert f[0]["receiving-mx-hostname"] == "mx.testing.rpt.test"
    assert f[0]["receiving-ip"] == "127.0.15.3"
    assert f[0]["sending-mta-ip"].startswith("127.")
    assert f[0]["failed-session-count"] == 1

    plain = pols[dom("plain")]
    assert [p["policy"]["policy-type"] for p in plain] == ["no-policy-found"]
    assert plain[0]["summary"]["total-successful-session-count"] == 1
    assert "policy-string" not in plain[0]["policy"]

    clear = pols[dom("clear")]
    assert clear[0]["policy"]["policy-type"] == "no-policy-found"
    assert clear[0]["summary"] == {"total-successful-session-count": 0,
                                   "total-failure-session-count": 1}
    assert clear[0]["failure-details"][0]["result-type"] == \
        "starttls-not-supported"

    unlisted = pols[dom("unlisted")]
    assert unlisted[0]["policy"]["policy-type"] == "sts"
    assert unlisted[0]["summary"] == {"total-successful-session-count": 0,
                                      "total-failure-session-count": 1}
    f = unlisted[0]["failure-details"][0]
    assert f["result-type"] == "validation-failure"
    assert "mx.unlisted.test does not match" in \
        f["additional-information"]

    nofetch = {p["policy"]["policy-type"]: p for p in pols[dom("nofetch")]}
    assert set(nofetch) == {"sts", "no-policy-found"}
    assert nofetch["sts"]["failure-details"][0]["result-type"] == \
        "sts-policy-fetch-error"
    assert "HTTP 404" in \
        nofetch["sts"]["failure-details"][0]["additional-information"]
    assert nofetch["no-policy-found"]["summary"][
        "total-successful-session-count"] == 1

    # one domain only; and the counts survive a restart (SQLite)
    one = reports(d.ctl("tlsrpt", "show", dom("good")).stdout)
    assert set(by_domain(one)) == {dom("good")}
    d.stop()
    d.start()
    again = by_domain(reports(d.ctl("tlsrpt", "show").stdout))
    assert again[dom("testing")][0]["summary"] == \
        testing[0]["summary"]


def test_schema_matches_the_samples():
    """Our schema takes the reports of tests/data/tlsrpt that follow RFC
    8460 §4.4, and refuses those that do not: rfc8460.json (the RFC's
    own §4.9 example) writes mx-host as a string where §4.4 says "a list";
    rpt03.json leaves out policy-domain; mail.ru.json and smtp_tls.json
    follow it."""
    base = os.path.join(os.path.dirname(__file__), "..", "data", "tlsrpt")
    s = schema()
    for name in ("parsedmarc-smtp_tls/mail.ru.json",
                 "parsedmarc-smtp_tls/smtp_tls.json",
                 "stalwart-mail-auth-tlsrpt/rpt02.json"):
        with open(os.path.join(base, name)) as f:
            jsonschema.validate(json.load(f), s)
    for name in ("parsedmarc-smtp_tls/rfc8460.json",
                 "stalwart-mail-auth-tlsrpt/rpt03.json"):
        with open(os.path.join(base, name)) as f:
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(json.load(f), s)


def mailed_reports(d):
    """The TLS-RPT mails delivered into mail-dir, parsed."""
    out = []
    for _i, _p, data in d.delivered():
        m = email.message_from_bytes(data, policy=email.policy.default)
        if m["TLS-Report-Domain"] is not None:
            out.append(m)
    return out


def test_send_mails_and_posts_reports_to_the_rua(out, peers, world):
    d = out("tlsrpt-from tlsrpt-sender@example.org\n")
    d.add_user("tlsrpt@example.org")
    deliver_all(d, peers)
    with world["host"].lock:
        world["host"].posts.clear()
    r = d.ctl("tlsrpt", "send")
    # good and testing mail one each; testing and plain POST one each;
    # clear, unlisted and nofetch have no record
    assert "2 reports queued, 2 posted, 3 domains without a TLS-RPT " \
        "record, 0 failed" in r.stdout, r.stdout
    assert wait_for(lambda: len(mailed_reports(d)) == 2, 20), d.log_tail()
    mails = {m["TLS-Report-Domain"]: m for m in mailed_reports(d)}
    assert set(mails) == {dom("good"), dom("testing")}
    hostname = None
    for domain, m in mails.items():
        # RFC 8460 §5.3
        assert m.get_content_type() == "multipart/report"
        assert m.get_param("report-type") == "tlsrpt"
        assert m["From"] == "tlsrpt-sender@example.org"
        assert m["To"] == "tlsrpt@example.org"
        hostname = m["TLS-Report-Submitter"]
        assert m["Subject"].startswith(f"Report Domain: {domain} "
                                       f"Submitter: {hostname} Report-ID: <")
        parts = list(m.iter_parts())
        assert [p.get_content_type() for p in parts] == \
            ["text/plain", "application/tlsrpt+gzip"]
        gz = parts[1]
        name = gz.get_filename()
        assert re.fullmatch(re.escape(f"{hostname}!{domain}!") +
                            r"\d+!\d+!.+\.json\.gz", name), name
        rep = json.loads(gzip.decompress(gz.get_content()))
        jsonschema.validate(rep, schema())
        assert rep["organization-name"] == hostname
        assert [p["policy"]["policy-domain"] for p in rep["policies"]] == \
            [domain]
    rep = json.loads(gzip.decompress(
        list(mails[dom("testing")].iter_parts())[1].get_content()))
    assert rep["policies"][0]["failure-details"][0]["result-type"] == \
        "certificate-host-mismatch"
    # RFC 8460 §5.4: POSTed to the https: rua, verified against tls-ca
    assert wait_for(lambda: len(world["host"].posts) == 2, 20), \
        d.log_tail()
    assert re.search(r"event=tlsrpt-post url=https://collector\.rpt\.test"
                     r"/r result=ok", d.read_log())
    posted = {}
    for path, headers, body in world["host"].posts:
        assert path == "/r"
        assert headers["Content-Type"] == "application/tlsrpt+gzip"
        rep = json.loads(gzip.decompress(body))
        jsonschema.validate(rep, schema())
        posted[rep["policies"][0]["policy"]["policy-domain"]] = rep
    assert set(posted) == {dom("testing"), dom("plain")}
    assert posted[dom("plain")]["policies"][0]["policy"]["policy-type"] \
        == "no-policy-found"
    # what was reported (or had nobody to go to) is forgotten
    assert d.ctl("tlsrpt", "show").stdout.strip() == ""
    # signed with both of example.org's keys (issue 14), as dkimpy
    # checks them against the records `cachetctl dns` prints
    keys = published(d)
    for _i, _p, raw in d.delivered():
        if b"TLS-Report-Domain:" in raw:
            res = dkimpy_results(keys, raw)
            assert sorted(a for _d, _s, a, _ok in res) == [
                "ed25519-sha256", "rsa-sha256"], res
            assert all(ok and dd == "example.org"
                       for dd, _s, _a, ok in res), res


def sample_report(name):
    """The JSON report in a sample mail, read with Python's email and
    gzip (independently of cachet's parser)."""
    with open(os.path.join(os.path.dirname(__file__), "..", "data",
                           "tlsrpt", name), "rb") as f:
        raw = re.sub(rb"\r?\n", b"\r\n", f.read())
    m = email.message_from_bytes(raw, policy=email.policy.default)
    for part in m.walk():
        if part.get_content_type().startswith("application/tlsrpt"):
            data = part.get_payload(decode=True)
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            return raw, json.loads(data)
    raise AssertionError(name + ": no report part")


def test_received_reports_are_listed(out):
    d = out()
    d.add_user("tlsrpt@example.org")
    samples = ["parsedmarc-smtp_tls/google.com_smtp_tls_report.eml",
               "stalwart-mail-auth-tlsrpt/rpt02.eml"]
    expect = []
    for name in samples:
        raw, rep = sample_report(name)
        s = smtplib.SMTP("127.0.0.1", d.ports["smtp"],
                         local_hostname="reporter.example.com", timeout=15)
        try:
            s.sendmail("reports@reporter.example.com",
                       ["tlsrpt@example.org"], raw)
        finally:
            s.quit()
        ok = sum(p["summary"].get("total-successful-session-count", 0)
                 for p in rep["policies"])
        fail = sum(p["summary"].get("total-failure-session-count", 0)
                   for p in rep["policies"])
        day = rep["date-range"]["start-datetime"][:10]
        expect.append(f'org="{rep["organization-name"]}" day={day} '
                      f'domains={rep["policies"][0]["policy"]["policy-domain"]}'
                      f' reports=1 success={ok} failure={fail}')
    assert wait_for(lambda: d.read_log().count(
        "event=tlsrpt-received org=") == 2, 20), d.log_tail()
    lines = d.ctl("tlsrpt", "received").stdout.splitlines()
    assert sorted(lines) == sorted(expect)
    # the same report again is kept once; a mail that only mentions
    # tlsrpt is looked at and dropped
    s = smtplib.SMTP("127.0.0.1", d.ports["smtp"], timeout=15)
    try:
        s.sendmail("reports@reporter.example.com", ["tlsrpt@example.org"],
                   sample_report(samples[1])[0])
        s.sendmail("x@reporter.example.com", ["tlsrpt@example.org"],
                   b"Subject: about tlsrpt\r\n\r\nNo report here.\r\n")
    finally:
        s.quit()
    assert wait_for(lambda: "result=ignored reason=\"no application/"
                    "tlsrpt+json or +gzip part\"" in d.read_log(), 20), \
        d.log_tail()
    assert sorted(d.ctl("tlsrpt", "received").stdout.splitlines()) == \
        sorted(expect)


def test_whole_past_days_go_out_by_themselves(out, peers):
    """The round after start sends the days before today, not today:
    the day of what was recorded is moved back in tlsrpt.db while the
    daemon is stopped."""
    d = out("tlsrpt-interval 1d\n")
    d.add_user("tlsrpt@example.org")
    peers("good")
    submit(d, f"bob@{dom('good')}")
    sent(d, f"bob@{dom('good')}")
    d.stop()
    db = os.path.join(d.state, "lookup", "tlsrpt.db")
    for table in ("sessions", "failures"):
        subprocess.run(["sqlite3", db, f"UPDATE {table} SET day = day - 1"],
                       check=True, capture_output=True)
    d.start()
    # today's session, recorded after the restart, stays
    submit(d, f"bob@{dom('good')}")
    assert wait_for(lambda: len(re.findall(
        r"to=<bob@good\.rpt\.test> .*status=sent", d.read_log())) == 2,
        20), d.log_tail()
    assert wait_for(lambda: len(mailed_reports(d)) == 1, 30), d.log_tail()
    rep = json.loads(gzip.decompress(
        list(mailed_reports(d)[0].iter_parts())[1].get_content()))
    jsonschema.validate(rep, schema())
    assert rep["policies"][0]["summary"][
        "total-successful-session-count"] == 1
    left = reports(d.ctl("tlsrpt", "show").stdout)
    assert len(left) == 1
    assert left[0]["date-range"]["start-datetime"] > \
        rep["date-range"]["start-datetime"]
