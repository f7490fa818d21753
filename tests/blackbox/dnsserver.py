"""A small authoritative-and-recursive-looking DNS server for the tests.

cachetd is configured with `resolver 127.0.0.1:PORT`, so libunbound
forwards every query here with RD set; we answer from the zone text a test
gives (dnslib's zone-file syntax), as a recursive resolver would (RA set).
Over UDP and TCP, on loopback only.

    dns = DNSServer('''
        example.net.      60 IN MX 10 mx1.example.net.
        mx1.example.net.  60 IN A  127.0.0.2
    ''').start()
    ... resolver {dns.addr} ...
    dns.servfail("broken.test")     # answer SERVFAIL for that name
    dns.drop("slow.test")           # never answer (a timeout)
    dns.stop()

A name with records of another type gets an empty NOERROR answer (NODATA),
a name with none NXDOMAIN, both with an SOA in the authority section; with
unknown="servfail", a name with no records gets SERVFAIL instead (the
harness's default resolver: mail to other domains waits, quickly).
queries is the list of (name, type) asked, for tests that check what
cachet looked up.  Needs Debian's python3-dnslib.
"""

import socket
import socketserver
import struct
import threading

from dnslib import DNSRecord, QTYPE, RCODE, RR

SOA = ("{zone} 60 IN SOA ns.{zone} hostmaster.{zone} 1 3600 600 86400 60")


class DNSServer:
    def __init__(self, zone="", host="127.0.0.1", port=0,
                 unknown="nxdomain"):
        self.host = host
        self.unknown = unknown
        self.port = port
        self.records = []
        self.servfails = set()
        self.drops = set()
        self.queries = []
        self.lock = threading.Lock()
        self.add(zone)
        self._udp = None
        self._tcp = None
        self._threads = []

    # --- the zone ---

    def add(self, zone):
        """Add records in zone-file syntax (absolute names)."""
        # Each record on a line of its own, indentation ignored (in zone
        # files a leading blank means "the previous name").
        zone = "\n".join(line.strip() for line in zone.splitlines())
        rrs = RR.fromZone(zone) if zone.strip() else []
        with self.lock:
            self.records.extend(rrs)
        return self

    def replace(self, zone):
        with self.lock:
            self.records = []
            self.servfails.clear()
            self.drops.clear()
        return self.add(zone)

    def servfail(self, name):
        with self.lock:
            self.servfails.add(name.lower().rstrip("."))
        return self

    def drop(self, name):
        with self.lock:
            self.drops.add(name.lower().rstrip("."))
        return self

    @property
    def addr(self):
        return f"{self.host}:{self.port}"

    # --- answering ---

    def answer(self, data):
        """The reply to one query in wire form, or None (no answer)."""
        try:
            q = DNSRecord.parse(data)
        except Exception:
            return None
        name = str(q.q.qname).lower().rstrip(".")
        qtype = q.q.qtype
        with self.lock:
            self.queries.append((name, QTYPE.get(qtype)))
            if name in self.drops:
                return None
            r = q.reply(ra=1, aa=1)
            if name in self.servfails:
                r.header.rcode = RCODE.SERVFAIL
                return r.pack()
            known = False
            for rr in self.records:
                rname = str(rr.rname).lower().rstrip(".")
                if rname != name:
                    continue
                known = True
                if rr.rtype == qtype:
                    r.add_answer(rr)
            if not known and self.unknown == "servfail":
                r.header.rcode = RCODE.SERVFAIL
                return r.pack()
            if not r.rr:
                zone = ".".join(name.split(".")[-2:]) + "."
                r.add_auth(*RR.fromZone(SOA.format(zone=zone)))
                if not known:
                    r.header.rcode = RCODE.NXDOMAIN
        return r.pack()

    # --- serving ---

    def start(self):
        server = self

        class UDP(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                out = server.answer(data)
                if out is not None:
                    sock.sendto(out, self.client_address)

        class TCP(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(5)
                try:
                    head = self._read(2)
                    (n,) = struct.unpack("!H", head)
                    out = server.answer(self._read(n))
                    if out is not None:
                        self.request.sendall(struct.pack("!H", len(out))
                                             + out)
                except (OSError, struct.error):
                    pass

            def _read(self, n):
                buf = b""
                while len(buf) < n:
                    chunk = self.request.recv(n - len(buf))
                    if not chunk:
                        raise OSError("short read")
                    buf += chunk
                return buf

        class UDPServer(socketserver.ThreadingUDPServer):
            allow_reuse_address = True
            daemon_threads = True

        class TCPServer(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        if self.port == 0:
            # One port free for both protocols.
            for _ in range(50):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((self.host, 0))
                    port = s.getsockname()[1]
                try:
                    self._tcp = TCPServer((self.host, port), TCP)
                    self._udp = UDPServer((self.host, port), UDP)
                    self.port = port
                    break
                except OSError:
                    if self._tcp is not None:
                        self._tcp.server_close()
                        self._tcp = None
            else:
                raise RuntimeError("no free port for the DNS server")
        else:
            self._tcp = TCPServer((self.host, self.port), TCP)
            self._udp = UDPServer((self.host, self.port), UDP)
        for srv in (self._udp, self._tcp):
            t = threading.Thread(target=srv.serve_forever,
                                 kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        for srv in (self._udp, self._tcp):
            if srv is not None:
                srv.shutdown()
                srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._udp = self._tcp = None
        self._threads = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
