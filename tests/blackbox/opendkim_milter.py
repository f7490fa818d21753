"""Debian's OpenDKIM as a milter for a Postfix peer (benches and tests):
one opendkim process in the foreground with the configuration lines
given, on a free loopback port, stopped by PID."""

import os
import socket
import subprocess
import time

from postfix_peer import free_port

OPENDKIM = "/usr/sbin/opendkim"


class OpenDKIMMilter:
    def __init__(self, base, lines):
        """lines: the opendkim.conf lines beside Socket, Syslog and
        PidFile (Mode, keys, nameservers...)."""
        self.port = free_port()
        self.conf = os.path.join(base, "opendkim.conf")
        self.proc = None
        with open(self.conf, "w") as f:
            f.write(f"Socket inet:{self.port}@127.0.0.1\nSyslog no\n"
                    f"PidFile {os.path.join(base, 'opendkim.pid')}\n"
                    + "".join(line + "\n" for line in lines))

    @property
    def socket(self):
        """What Postfix's smtpd_milters takes."""
        return f"inet:127.0.0.1:{self.port}"

    def start(self, timeout=30):
        self.proc = subprocess.Popen([OPENDKIM, "-f", "-x", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=2).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError("opendkim did not start")
                time.sleep(0.1)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
