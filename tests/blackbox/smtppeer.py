"""SMTP servers for cachet to deliver to, on loopback addresses other than
127.0.0.1 (127.0.0.2:25, 127.0.0.3:25, ...), for the outbound tests.

Peer is Debian's python3-aiosmtpd with scripted behaviour: per recipient
replies, replies to DATA consumed in turn, STARTTLS with a self-signed
certificate, a DATA that hangs until released.  Every message it accepts
is kept (envelope, parameters, the bytes as received).

Refuser answers every connection with one greeting line (a 4xx or 5xx)
and closes: what aiosmtpd cannot be made to do.

Run as root (port 25).  Each test stops what it started.
"""

import asyncio
import os
import socket
import ssl
import subprocess
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def make_cert(directory, name="peer.example.net"):
    """A self-signed certificate and key for name; (cert, key) paths."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=" + name,
                        "-addext", "subjectAltName=DNS:" + name],
                       check=True, capture_output=True)
    return cert, key


class _Handler:
    def __init__(self, peer):
        self.peer = peer

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        self.peer.ehlos.append(hostname)
        # RFC 8689 §3: REQUIRETLS over TLS only
        if self.peer.requiretls and session.ssl is not None:
            responses.insert(len(responses) - 1, "250-REQUIRETLS")
        return responses

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        with self.peer.lock:
            self.peer.rcpt_commands.append(address)
        reply = self.peer.rcpt_reply(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        peer = self.peer
        while peer.hang.is_set():
            await asyncio.sleep(0.05)
        with peer.lock:
            reply = peer.data_replies.pop(0) if peer.data_replies else None
        if reply is not None and not reply.startswith("250"):
            peer.refused.append(envelope.mail_from)
            return reply
        with peer.lock:
            peer.messages.append({
                "from": envelope.mail_from,
                "rcpts": list(envelope.rcpt_tos),
                "mail_options": list(envelope.mail_options),
                "rcpt_options": list(envelope.rcpt_options),
                "data": envelope.original_content,
                "tls": session.ssl is not None,
                "time": time.time(),
            })
        return reply or "250 2.0.0 OK queued"


class _SMTP(SMTP):
    """aiosmtpd's server, taking MAIL's REQUIRETLS (RFC 8689) when the
    peer announces it; aiosmtpd refuses parameters it does not know."""

    def __init__(self, handler, peer, **kw):
        self.peer = peer
        super().__init__(handler, **kw)

    def _getparams(self, params):
        d = super()._getparams(params)
        if (d is not None and self.peer.requiretls and
                self.session.ssl is not None and
                d.get("REQUIRETLS") is True):
            del d["REQUIRETLS"]
        return d


class _Controller(Controller):
    def __init__(self, peer, handler, **kw):
        self.peer = peer
        super().__init__(handler, **kw)

    def factory(self):
        kw = {}
        if self.peer.auth is not None:
            kw = {"authenticator": self.peer.authenticate,
                  "auth_require_tls": True,
                  "auth_exclude_mechanism": ["LOGIN"]}
        return _SMTP(self.handler, self.peer,
                     enable_SMTPUTF8=self.peer.smtputf8,
                     data_size_limit=self.peer.size_limit,
                     tls_context=self.peer.tls_context,
                     require_starttls=False, ident="peer",
                     hostname=self.peer.name, **kw)


class Peer:
    """An aiosmtpd server on host:port.

    rcpts: {address: reply} for RCPT (e.g. "550 5.1.1 no such user");
    data_replies: replies to DATA used one per message, then 250;
    tls_dir: make a certificate there and offer STARTTLS;
    size_limit: the SIZE announced (None: none);
    auth: {user: password} to offer AUTH PLAIN (over TLS only); the
    logins tried are in .logins as (user, ok); every RCPT address
    given, taken or refused, is in .rcpt_commands; requiretls: announce
    REQUIRETLS after STARTTLS and take it in MAIL (RFC 8689).
    """

    def __init__(self, host, port=25, rcpts=None, data_replies=None,
                 tls_dir=None, smtputf8=True, size_limit=None,
                 name="peer.example.net", auth=None, requiretls=False):
        self.host = host
        self.port = port
        self.name = name
        self.rcpts = dict(rcpts or {})
        self.data_replies = list(data_replies or [])
        self.smtputf8 = smtputf8
        self.size_limit = size_limit
        self.messages = []
        self.rcpt_commands = []
        self.refused = []
        self.ehlos = []
        self.auth = dict(auth) if auth is not None else None
        self.requiretls = requiretls
        self.logins = []
        self.lock = threading.Lock()
        self.hang = threading.Event()
        self.tls_context = None
        if tls_dir is not None:
            cert, key = make_cert(tls_dir, name)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            self.tls_context = ctx
        self.controller = None

    def authenticate(self, server, session, envelope, mechanism, data):
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", "replace")
        ok = self.auth.get(user) == data.password.decode("utf-8",
                                                          "replace")
        self.logins.append((user, ok))
        # handled=False: aiosmtpd then answers 535 itself
        return AuthResult(success=ok, handled=False)

    def rcpt_reply(self, address):
        with self.lock:
            return self.rcpts.get(address)

    def start(self):
        self.controller = _Controller(self, _Handler(self),
                                      hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self):
        self.hang.clear()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait(self, n, timeout=30):
        """Wait until n messages were accepted; the list."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"{self.host}: {len(self.messages)} messages, "
                             f"wanted {n}")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Refuser:
    """Greets every connection with one line (e.g. "421 4.3.2 busy") and
    closes it.  Counts the connections."""

    def __init__(self, host, greeting, port=25):
        self.host = host
        self.port = port
        self.greeting = greeting
        self.connections = 0
        self._sock = None
        self._thread = None
        self._stop = threading.Event()

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(16)
        s.settimeout(0.1)
        self._sock = s
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            try:
                c.sendall(self.greeting.encode() + b"\r\n")
                c.settimeout(1)
                try:
                    c.recv(1024)
                except OSError:
                    pass
            finally:
                c.close()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
