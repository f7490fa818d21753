"""A DNSSEC-signed test zone served by a real authoritative server, for
the DANE tests.

Layout (all on one nsd on 127.0.0.1 and a free port; cachet's `resolver`
points at it, libunbound forwards with RD set and nsd answers what it is
authoritative for):

    t1.test.        unsigned parent: NS + glue for sec.t1.test and its
                    DS record; also the unsigned (insecure) names
    sec.t1.test.    signed with ldns-keygen/ldns-signzone (Debian's
                    ldnsutils), NSEC; its DS is cachet's trust anchor

bogus(name, type) corrupts the signature of one RRset after signing, so
that the validator calls it bogus.  Needs Debian's nsd and ldnsutils
(scripts/install-deps).  Started and stopped by PID.

dane_world() makes the DANE cases of test_dane.py on those zones (each
MX a host name in the signed child with its TLSA record), for any set of
loopback addresses.  ValidatingResolver is Debian's unbound as a
validating recursive resolver on port 53 of a loopback address, trusting
the child's DS and forwarding to nsd: for peers that, like Postfix, take
the AD bit of a resolver named in /etc/resolv.conf.
"""

import os
import signal
import socket
import subprocess
import time

PARENT = "t1.test."
CHILD = "sec.t1.test."

def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

class SignedZones:
    def __init__(self, directory, child_records, parent_records,
                 bogus=()):
        """child_records / parent_records: zone-file lines with absolute
        names; bogus: (name, type) whose RRSIG is broken after signing."""
        self.dir = directory
        self.port = _free_port()
        self.proc = None
        os.makedirs(directory, exist_ok=True)
        self._sign(child_records, bogus)
        self._parent(parent_records)
        self._conf()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def _run(self, *args):
        return subprocess.run(list(args), cwd=self.dir, check=True,
                              capture_output=True, text=True).stdout

    def _sign(self, records, bogus):
        soa = (f"{CHILD} 60 IN SOA ns.{CHILD} hostmaster.{CHILD} "
               "1 3600 600 86400 60")
        text = "\n".join([soa, f"{CHILD} 60 IN NS ns.{CHILD}",
                          f"ns.{CHILD} 60 IN A 127.0.0.1"] +
                         [r.strip() for r in records]) + "\n"
        zf = os.path.join(self.dir, "child.zone")
        with open(zf, "w") as f:
            f.write(text)
        # a KSK (SEP) and a ZSK, ECDSA P-256 (algorithm 13)
        ksk = self._run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k",
                        CHILD).strip()
        zsk = self._run("ldns-keygen", "-a", "ECDSAP256SHA256",
                        CHILD).strip()
        self._run("ldns-signzone", "-o", CHILD, "-f",
                  os.path.join(self.dir, "child.signed"), zf, zsk, ksk)
        with open(os.path.join(self.dir, ksk + ".ds")) as f:
            self.ds = f.read().strip()
        with open(os.path.join(self.dir, "anchor"), "w") as f:
            f.write("; the test zone's KSK as a DS record\n" + self.ds +
                    "\n")
        self.anchor = os.path.join(self.dir, "anchor")
        if bogus:
            self._break(bogus)

    def _break(self, bogus):
        path = os.path.join(self.dir, "child.signed")
        with open(path) as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            f = line.split()
            for name, rtype in bogus:
                if (len(f) > 8 and f[0].lower() == name.lower() and
                        f[3] == "RRSIG" and f[4] == rtype):
                    # flip one character of the signature (last field)
                    sig = f[-1]
                    c = "A" if sig[0] != "A" else "B"
                    f[-1] = c + sig[1:]
                    line = "\t".join(f)
            out.append(line)
        with open(path, "w") as fh:
            fh.write("\n".join(out) + "\n")

    def _parent(self, records):
        soa = (f"{PARENT} 60 IN SOA ns.{PARENT} hostmaster.{PARENT} "
               "1 3600 600 86400 60")
        ds = self.ds.split()
        ds[0] = CHILD
        lines = [soa, f"{PARENT} 60 IN NS ns.{PARENT}",
                 f"ns.{PARENT} 60 IN A 127.0.0.1",
                 f"{CHILD} 60 IN NS ns.{CHILD}",
                 f"ns.{CHILD} 60 IN A 127.0.0.1",
                 " ".join(ds)] + [r.strip() for r in records]
        with open(os.path.join(self.dir, "parent.zone"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def _conf(self):
        d = self.dir
        self.conf = os.path.join(d, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write(f"""server:
    ip-address: 127.0.0.1@{self.port}
    port: {self.port}
    username: ""
    chroot: ""
    zonesdir: "{d}"
    database: ""
    zonelistfile: "{d}/zone.list"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    pidfile: "{d}/nsd.pid"
    logfile: "{d}/nsd.log"
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: "{PARENT}"
    zonefile: "{d}/parent.zone"
zone:
    name: "{CHILD}"
    zonefile: "{d}/child.signed"
""")

    def start(self):
        self._run("nsd-checkconf", self.conf)
        self.proc = subprocess.Popen(["nsd", "-d", "-c", self.conf],
                                     cwd=self.dir,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self._answers():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        with open(os.path.join(self.dir, "nsd.log")) as f:
            raise RuntimeError("nsd did not start: " + f.read()[-2000:])

    def _answers(self):
        """True once nsd answers the child's SOA over UDP."""
        q = (b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00" +
             b"".join(bytes([len(l)]) + l.encode()
                      for l in CHILD.rstrip(".").split(".")) +
             b"\x00\x00\x06\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            try:
                s.sendto(q, ("127.0.0.1", self.port))
                r = s.recv(512)
            except OSError:
                return False
        return len(r) > 12 and r[:2] == b"\x12\x34" and r[3] & 0xf == 0

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

def spki_sha256(cert):
    """The SHA2-256 of a certificate's public key (TLSA selector 1,
    matching type 1), as hex."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                          "-pubkey"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, check=True, capture_output=True).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()

def cert_sha256(cert):
    """The SHA2-256 of a whole certificate (selector 0, type 1), hex."""
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform",
                          "DER"], check=True, capture_output=True).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()

def make_ca_and_leaf(directory, name):
    """A test CA and a certificate for name it signs; the leaf's file
    holds the chain (leaf, then CA), as Peer loads it.  The CA's path."""
    ca_key = os.path.join(directory, "ca.key")
    ca = os.path.join(directory, "ca.crt")
    run = lambda *a: subprocess.run(list(a), check=True,  # noqa: E731
                                    capture_output=True)
    if not os.path.exists(ca):
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_key,
            "-out", ca, "-days", "2", "-subj", "/CN=cachet test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    key = os.path.join(directory, name + ".key")
    csr = os.path.join(directory, name + ".csr")
    leaf = os.path.join(directory, name + ".leaf")
    crt = os.path.join(directory, name + ".crt")
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:{name}\n")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=" + name)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-out", leaf, "-days", "2", "-extfile", ext)
    with open(crt, "w") as f:
        f.write(open(leaf).read() + open(ca).read())
    return ca

def mx_name(case):
    """The MX host of a DANE case (no final dot)."""
    return f"mx-{case}.{CHILD}".rstrip(".")


# TLSA data for a case, from the peer's certificate digests:
#   ee      3 1 1 its key                 (DANE-EE, matches)
#   bad     3 1 1 another key             (DANE-EE, mismatch)
#   ta      2 0 1 the test CA             (DANE-TA, the right name)
#   taname  2 0 1 the test CA, but the certificate names another host
#   unus    1 1 1 its key                 (PKIX-EE: unusable for SMTP)
#   bogus   3 1 1 its key, RRSIG broken
KINDS = {"ee": "self", "bad": "self", "ta": "ca", "taname": "ca-other-name",
         "unus": "self", "bogus": "self"}


def dane_world(base, hosts, plain_ip):
    """Certificates (Peer loads NAME.crt/NAME.key from certs) and the
    signed zones for hosts {case: address} (cases of KINDS), plus the
    insecure plain.t1.test (MX mx.plain.t1.test at plain_ip, a wrong
    TLSA record that must be ignored).  Returns (zones, certs); start
    and stop the zones."""
    from smtppeer import make_cert
    check_tools()
    certs = os.path.join(base, "certs")
    os.makedirs(certs)
    digests = {}
    ca = None
    for case in hosts:
        name = mx_name(case)
        kind = KINDS[case]
        if kind == "self":
            cert, _ = make_cert(certs, name)
            digests[case] = spki_sha256(cert)
        else:
            # taname: a CA-signed certificate that names another host
            other = name if kind == "ca" else "elsewhere." + CHILD[:-1]
            ca = make_ca_and_leaf(certs, other)
            if other != name:
                for ext in (".crt", ".key"):
                    os.link(os.path.join(certs, other + ext),
                            os.path.join(certs, name + ext))
    make_cert(certs, "mx.plain.t1.test")
    ca_digest = cert_sha256(ca) if ca else None
    wrong = "00" * 32
    child = []
    for case, ip in hosts.items():
        name = mx_name(case) + "."
        child.append(f"{case}.{CHILD} 60 IN MX 10 {name}")
        child.append(f"{name} 60 IN A {ip}")
        tlsa = {
            "ee": f"3 1 1 {digests.get('ee')}",
            "bad": f"3 1 1 {wrong}",
            "ta": f"2 0 1 {ca_digest}",
            "taname": f"2 0 1 {ca_digest}",
            "unus": f"1 1 1 {digests.get('unus')}",
            "bogus": f"3 1 1 {digests.get('bogus')}",
        }[case]
        child.append(f"_25._tcp.{name} 60 IN TLSA {tlsa}")
    parent = [
        "plain.t1.test. 60 IN MX 10 mx.plain.t1.test.",
        f"mx.plain.t1.test. 60 IN A {plain_ip}",
        f"_25._tcp.mx.plain.t1.test. 60 IN TLSA 3 1 1 {wrong}",
    ]
    bogus = ([(f"_25._tcp.{mx_name('bogus')}.", "TLSA")]
             if "bogus" in hosts else [])
    zones = SignedZones(os.path.join(base, "dns"), child, parent,
                        bogus=bogus)
    return zones, certs


class ValidatingResolver:
    """unbound on host:53, validating with the child's DS as its only
    trust anchor (everything else is insecure) and forwarding every
    query to nsd: nothing leaves the machine.  resolv_conf is a file
    naming it, with `options trust-ad` so that glibc passes the AD bit
    on.  Started and stopped by PID."""

    def __init__(self, directory, zones, host):
        self.dir = directory
        self.host = host
        self.proc = None
        os.makedirs(directory, exist_ok=True)
        self.conf = os.path.join(directory, "unbound.conf")
        self.log = os.path.join(directory, "unbound.log")
        self.resolv_conf = os.path.join(directory, "resolv.conf")
        with open(self.resolv_conf, "w") as f:
            f.write(f"nameserver {host}\noptions trust-ad\n")
        with open(self.conf, "w") as f:
            f.write(f"""server:
    interface: {host}
    port: 53
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{directory}"
    pidfile: ""
    use-syslog: no
    logfile: "{self.log}"
    verbosity: 1
    val-log-level: 2
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    # .test is special-use (RFC 6761); unbound refuses it by default
    local-zone: "test." nodefault
    trust-anchor-file: "{zones.anchor}"
    module-config: "validator iterator"
    qname-minimisation: no
    cache-max-ttl: 5
    cache-max-negative-ttl: 5
remote-control:
    control-enable: no
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{zones.port}
""")

    def start(self):
        subprocess.run(["unbound-checkconf", self.conf], check=True,
                       capture_output=True)
        self.proc = subprocess.Popen(["unbound", "-d", "-c", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        # RD and AD set: AD comes back only when asked (RFC 6840 §5.7)
        q = (b"\x12\x34\x01\x20\x00\x01\x00\x00\x00\x00\x00\x00" +
             b"".join(bytes([len(l)]) + l.encode()
                      for l in CHILD.rstrip(".").split(".")) +
             b"\x00\x00\x06\x00\x01")
        deadline = time.time() + 20
        while time.time() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.5)
                try:
                    s.sendto(q, (self.host, 53))
                    r = s.recv(512)
                    # an answer with AD set: validation works
                    if len(r) > 12 and r[3] & 0x20:
                        return self
                except OSError:
                    pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        log = open(self.log).read()[-2000:] if os.path.exists(self.log) \
            else ""
        raise RuntimeError("unbound did not validate the child's SOA: " +
                           log)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


def check_tools():
    """The tools this module runs, so that a missing one fails loudly."""
    for tool in ("nsd", "nsd-checkconf", "ldns-keygen", "ldns-signzone",
                 "unbound", "unbound-checkconf"):
        path = None
        for d in ("/usr/sbin", "/usr/bin"):
            if os.path.exists(os.path.join(d, tool)):
                path = d
        assert path is not None, f"{tool} missing: run scripts/install-deps"

