"""spamlib: what bench/spam and bench/spam-crossval share: the corpus
(unpacked into a work directory, with stratified deterministic folds),
the three filters' command lines (cachet's build/spam_eval, Debian's
bogofilter, SpamAssassin's spamd/spamc and sa-learn with network tests
off), and the ROC point at a false-positive budget.
"""

import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the shared corpus, copied verbatim into tests/data (its README)
CORPUS = os.path.join(ROOT, "tests", "data", "spam-corpus")
TARBALL = os.path.join(CORPUS, "spamassassin-public-corpus.tar.xz")
INDEX = os.path.join(CORPUS, "spamassassin-public-corpus.INDEX.tsv")
FOLDS = 10


def log(msg):
    print(msg, flush=True)


def corpus(work):
    """Unpack the corpus into work (once) and return its messages as
    (path, label, fold): within each label the messages are ordered by
    the MD5 of their bytes (in their names) and dealt round-robin to the
    folds, so that each fold holds a tenth of the ham and a tenth of the
    spam, from every group, the same on every run."""
    top = os.path.join(work, "spamassassin-public-corpus")
    if not os.path.isdir(top):
        with tarfile.open(TARBALL) as t:
            try:
                t.extractall(work, filter="data")
            except TypeError:       # Python before 3.11.4: no filter
                t.extractall(work)
    by = {"ham": [], "spam": []}
    with open(INDEX) as f:
        for line in f:
            path, label, _group, md5 = line.rstrip("\n").split("\t")
            by[label].append((md5, os.path.join(top, path)))
    msgs = []
    for label in ("ham", "spam"):
        for i, (_md5, path) in enumerate(sorted(by[label])):
            msgs.append((path, label, i % FOLDS))
    return msgs


def write_list(path, msgs):
    with open(path, "w") as f:
        for p, label, fold in msgs:
            f.write(f"{p}\t{label}\t{fold}\n")


def spam_eval(build):
    exe = os.path.join(build, "spam_eval")
    if not os.access(exe, os.X_OK):
        sys.exit(f"no {exe}: run `make build/spam_eval` first")
    return exe


def need(*tools):
    for t in tools:
        if shutil.which(t) is None and not os.access(t, os.X_OK):
            sys.exit(f"no {t}: run scripts/install-deps as root")


# --- bogofilter: its own word list per run, no config file ---

def bogo_train(db, spam_paths, ham_paths):
    os.makedirs(db, exist_ok=True)
    for flag, paths in (("-s", spam_paths), ("-n", ham_paths)):
        subprocess.run(["bogofilter", "-C", "-d", db, flag, "-b"],
                       input="\n".join(paths) + "\n", text=True,
                       check=True)


def bogo_classify(db, paths):
    """{path: (spamicity, class S/H/U)} through bulk mode (-b, -T)."""
    r = subprocess.run(["bogofilter", "-C", "-d", db, "-T", "-b"],
                       input="\n".join(paths) + "\n", text=True,
                       capture_output=True)
    if r.returncode not in (0, 1, 2):
        sys.exit(f"bogofilter: exit {r.returncode}: {r.stderr}")
    out = {}
    for line in r.stdout.splitlines():
        path, cls, score = line.rsplit(" ", 2)
        out[path] = (float(score), cls)
    return out


# --- SpamAssassin: local tests only, Bayes in a directory of the run ---

SA_LOCAL = """
# bench: local tests only, the run's own Bayes database, no learning
# while classifying
use_bayes 1
bayes_auto_learn 0
bayes_auto_expire 0
bayes_path {db}/bayes
bayes_file_mode 0777
lock_method flock
skip_rbl_checks 1
dns_available no
use_razor2 0
use_pyzor 0
use_dcc 0
"""


def sa_site(sitedir, db):
    """A site config directory: Debian's (/etc/spamassassin, whose .pre
    files load the plugins) plus local.cf's settings for the run."""
    if os.path.isdir(sitedir):
        shutil.rmtree(sitedir)
    shutil.copytree("/etc/spamassassin", sitedir, symlinks=True,
                    ignore=shutil.ignore_patterns("sa-update-*"))
    os.makedirs(db, exist_ok=True)
    with open(os.path.join(sitedir, "local.cf"), "a") as f:
        f.write(SA_LOCAL.format(db=db))
    # spamd's children run as nobody when started by root
    for d in (sitedir, db):
        os.chmod(d, 0o777)
    return sitedir


def sa_learn(sitedir, listfile, spam, forget=False):
    """sa-learn of the messages named in listfile as spam or ham, or
    --forget of them (which takes back exactly what learning added)."""
    what = "--forget" if forget else "--spam" if spam else "--ham"
    subprocess.run(["nice", "sa-learn", "-L", "--siteconfigpath", sitedir,
                    what, "-f", listfile],
                   check=True, stdout=subprocess.DEVNULL)


def sa_learn_all(sitedir, work, msgs):
    """Learn every message of msgs into sitedir's database; seconds."""
    t0 = time.monotonic()
    for label in ("spam", "ham"):
        lf = os.path.join(work, f"sa-{label}.txt")
        with open(lf, "w") as f:
            f.write("".join(p + "\n" for p, lab, _ in msgs if lab == label))
        sa_learn(sitedir, lf, label == "spam")
    return time.monotonic() - t0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Spamd:
    """A private spamd on 127.0.0.1, network tests off, stopped by PID."""

    def __init__(self, sitedir, logpath, children=2, nice=True):
        """nice: at a lower priority (when only its scores count, not its
        speed)."""
        need("/usr/sbin/spamd", "spamc")
        self.port = free_port()
        cmd = (["nice"] if nice else []) + ["/usr/sbin/spamd", "-L", "-x",
               "--siteconfigpath", sitedir, "-i", f"127.0.0.1:{self.port}",
               "-A", "127.0.0.1", "-m", str(children),
               "--min-children", str(children), "-s", "stderr"]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        self.logf = open(logpath, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"spamd exited {self.proc.returncode}: see "
                         f"{logpath}")
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit("spamd did not listen in 120 s")

    def score(self, path):
        """SpamAssassin's score of one message (spamc -c: "S/T")."""
        with open(path, "rb") as f:
            r = subprocess.run(["spamc", "-d", "127.0.0.1", "-p",
                                str(self.port), "-c", "-x",
                                "-s", "1048576"],
                               stdin=f, capture_output=True, text=True,
                               timeout=120)
        if r.returncode not in (0, 1):
            raise RuntimeError(f"spamc: exit {r.returncode}: {r.stderr}")
        return float(r.stdout.split("/")[0])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


# --- the comparison ---

def roc_point(scores, fp_rate):
    """scores: [(score, is_spam)].  The lowest threshold at which at most
    floor(fp_rate * ham) ham score at or above it; returns (threshold,
    ham at or above, spam at or above, ham, spam).  Ties count whole: a
    threshold never splits messages of equal score."""
    ham = sorted((s for s, spam in scores if not spam), reverse=True)
    spam = sorted((s for s, sp in scores if sp), reverse=True)
    allowed = int(fp_rate * len(ham) + 1e-9)
    # the threshold sits just above the (allowed+1)-th highest ham score
    if allowed >= len(ham):
        t = float("-inf")
    else:
        t = ham[allowed]
        # strictly above it: every ham scoring t is outside
    fp = sum(1 for s in ham if s > t)
    tp = sum(1 for s in spam if s > t)
    return t, fp, tp, len(ham), len(spam)


def pct(n, d):
    return 100.0 * n / d if d else 0.0
