"""A test CA and a server certificate it signs, made with openssl(1) in
a test's directory, for tests whose clients verify the daemon's
certificate as they would a real one (testssl, HTTPS clients)."""

import os
import subprocess


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def make_pki(d, names, leaf_key="ec", days=30, extensions=()):
    """In directory d: ca.pem (an EC P-256 CA, 400 days) and leaf.pem /
    leaf.key for names (subjectAltName dNSNames, CN the first), key
    "ec" (P-256) or "rsa:BITS", valid `days`, serverAuth, with extra
    extension lines.  Returns the three paths (ca, cert, key)."""
    sans = ",".join(f"DNS:{n}" for n in names)
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("\n".join([f"subjectAltName={sans}",
                           "basicConstraints=critical,CA:FALSE",
                           "keyUsage=critical,digitalSignature",
                           "extendedKeyUsage=serverAuth",
                           *extensions]) + "\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "400", "-subj", "/CN=cachet test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    newkey = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
              if leaf_key == "ec" else ["-newkey", leaf_key])
    openssl("req", *newkey, "-nodes", "-keyout", "leaf.key", "-out",
            "leaf.csr", "-subj", f"/CN={names[0]}", cwd=d)
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", str(days), "-sha256",
            "-extfile", "leaf.ext", "-out", "leaf.pem", cwd=d)
    os.chmod(os.path.join(d, "leaf.key"), 0o600)
    return tuple(os.path.join(d, n) for n in ("ca.pem", "leaf.pem",
                                               "leaf.key"))
