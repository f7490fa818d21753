"""Pieces of the MTA-STS and TLS-RPT test worlds (test_mta_sts.py,
test_tlsrpt.py, test_tls_interop.py): certificates from the test CA of
dnssec.make_ca_and_leaf, and an HTTPS host on IP:443 that serves policies
per Host header and keeps what is POSTed to it.  Threads of the test
process, stopped by stop()."""

import os
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/.well-known/mta-sts.txt"


def run(*args):
    subprocess.run(list(args), check=True, capture_output=True)


def leaf(certs, name, sans):
    """A certificate from the test CA (made by make_ca_and_leaf) for
    sans, saved as NAME.crt (chain) and NAME.key."""
    key = os.path.join(certs, name + ".key")
    csr = os.path.join(certs, name + ".csr")
    ext = os.path.join(certs, name + ".ext")
    out = os.path.join(certs, name + ".leaf")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + s for s in sans) +
                "\n")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=" + sans[0])
    run("openssl", "x509", "-req", "-in", csr, "-CA",
        os.path.join(certs, "ca.crt"), "-CAkey",
        os.path.join(certs, "ca.key"), "-CAcreateserial", "-out", out,
        "-days", "2", "-extfile", ext)
    with open(os.path.join(certs, name + ".crt"), "w") as f:
        f.write(open(out).read() +
                open(os.path.join(certs, "ca.crt")).read())


class PolicyHost:
    """HTTPS on ip:443 with certs/NAME.crt and .key.  GET of PATH answers
    responses[host] = (status, content type, body, extra headers; an
    extra "_delay" header is a wait in seconds before answering), 404
    otherwise; count[host] = GETs seen.  A POST to any path is kept in
    posts as (path, headers, body) and answered 200."""

    def __init__(self, ip, certs, name):
        self.responses = {}
        self.count = {}
        self.posts = []
        self.lock = threading.Lock()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.headers.get("Host", "").split(":")[0].lower()
                with host.lock:
                    host.count[name] = host.count.get(name, 0) + 1
                    r = host.responses.get(name)
                if r is None or self.path != PATH:
                    r = (404, "text/plain", "no\n", {})
                status, ctype, body, extra = r
                extra = dict(extra)
                if "_delay" in extra:
                    time.sleep(float(extra.pop("_delay")))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
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
        ctx.load_cert_chain(os.path.join(certs, name + ".crt"),
                            os.path.join(certs, name + ".key"))
        self.server = ThreadingHTTPServer((ip, 443), Handler)
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

    def set(self, name, response):
        with self.lock:
            self.responses[name] = response

    def requests(self, name):
        with self.lock:
            return self.count.get(name, 0)
