"""The lookup role through cachetctl: the user, domain and alias verbs the
parent forwards to it, their errors and exit codes (0 done, 1 failed,
2 usage), and that a password never reaches the log.  Each test starts
its own daemon (config domain example.org)."""

import subprocess
import threading

import pytest

from conftest import CACHETCTL

PW = "Tr0ub4dor&3-unique-ctl"


def ok(daemon, *args, input=None):
    r = daemon.ctl(*args, input=input, check=False)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r


def fails(daemon, code, message, *args, input=None):
    r = daemon.ctl(*args, input=input, check=False)
    assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
    assert message in r.stderr, (args, r.stderr)
    return r


def lines(r):
    return r.stdout.splitlines()


# --- users ---

def test_user_add_then_list(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    ok(daemon, "user", "add", "bob@example.org", input=PW + "\n")
    assert lines(ok(daemon, "user", "list")) == [
        "alice@example.org", "bob@example.org"]


def test_user_list_empty(daemon):
    assert ok(daemon, "user", "list").stdout == ""


def test_user_add_lowercases_the_domain(daemon):
    ok(daemon, "user", "add", "Carol@EXAMPLE.Org", input=PW + "\n")
    assert lines(ok(daemon, "user", "list")) == ["Carol@example.org"]


def test_user_add_duplicate_refused(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    fails(daemon, 1, "user exists", "user", "add", "alice@example.org",
          input="other\n")


def test_user_add_duplicate_in_other_case_refused(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    fails(daemon, 1, "user exists", "user", "add", "ALICE@example.org",
          input="other\n")
    assert lines(ok(daemon, "user", "list")) == ["alice@example.org"]


@pytest.mark.parametrize("addr", [
    "alice",                    # no domain
    "@example.org",             # no local part
    "alice@",                   # no domain after @
    "a b@example.org",          # space in the local part
    "alice@exa_mple.org",       # not a host name
    "alice@[192.0.2.1]",        # address literal
    "\"a\"@example.org",        # quoted local part
    "alice..x@example.org",     # empty dot-atom part
    "x" * 65 + "@example.org",  # local part over 64 octets
])
def test_user_add_bad_address_refused(daemon, addr):
    fails(daemon, 1, "invalid address", "user", "add", addr,
          input=PW + "\n")
    assert ok(daemon, "user", "list").stdout == ""


def test_user_add_unknown_domain_refused(daemon):
    fails(daemon, 1, "no such domain example.net", "user", "add",
          "alice@example.net", input=PW + "\n")


def test_user_add_in_domain_added_by_ctl(daemon):
    ok(daemon, "domain", "add", "example.net")
    ok(daemon, "user", "add", "dave@example.net", input=PW + "\n")
    assert lines(ok(daemon, "user", "list")) == ["dave@example.net"]


def test_user_add_empty_password_refused(daemon):
    r = daemon.ctl("user", "add", "alice@example.org", input="\n",
                   check=False)
    assert r.returncode == 1
    assert "empty password" in r.stderr
    assert ok(daemon, "user", "list").stdout == ""


def test_user_add_too_long_password_refused(daemon):
    fails(daemon, 1, "password too long", "user", "add",
          "alice@example.org", input="p" * 600 + "\n")


def test_user_del(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    ok(daemon, "user", "add", "bob@example.org", input=PW + "\n")
    ok(daemon, "user", "del", "alice@example.org")
    assert lines(ok(daemon, "user", "list")) == ["bob@example.org"]


def test_user_del_is_case_insensitive(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    ok(daemon, "user", "del", "Alice@Example.ORG")
    assert ok(daemon, "user", "list").stdout == ""


def test_user_del_unknown_refused(daemon):
    fails(daemon, 1, "no such user", "user", "del", "nobody@example.org")


def test_user_del_bad_address_refused(daemon):
    fails(daemon, 1, "invalid address", "user", "del", "not-an-address")


def test_user_passwd(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    ok(daemon, "user", "passwd", "alice@example.org", input="n3w-pw\n")
    assert lines(ok(daemon, "user", "list")) == ["alice@example.org"]


def test_user_passwd_unknown_refused(daemon):
    fails(daemon, 1, "no such user", "user", "passwd",
          "nobody@example.org", input=PW + "\n")


def test_user_passwd_bad_address_refused(daemon):
    fails(daemon, 1, "invalid address", "user", "passwd", "nobody",
          input=PW + "\n")


def test_user_adds_in_parallel_all_land(daemon):
    """Hashing runs on the worker pool; concurrent adds all finish."""
    results = {}

    def add(i):
        r = daemon.ctl("user", "add", f"u{i}@example.org",
                       input=f"pw-{i}\n", check=False)
        results[i] = (r.returncode, r.stderr)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(v[0] == 0 for v in results.values()), results
    assert sorted(lines(ok(daemon, "user", "list"))) == sorted(
        f"u{i}@example.org" for i in range(8))


@pytest.mark.parametrize("args", [
    ("user",),
    ("user", "add"),
    ("user", "del"),
    ("user", "list", "extra"),
    ("user", "del", "a@example.org", "extra"),
    ("user", "frob", "a@example.org"),
])
def test_user_usage_errors(daemon, args):
    r = fails(daemon, 2, "usage: user", *args)
    assert "add" in r.stderr and "list" in r.stderr


# --- domains ---

def test_domain_list_marks_config_domains(daemon):
    assert lines(ok(daemon, "domain", "list")) == ["example.org (config)"]


def test_output_that_cannot_be_written_fails(daemon):
    """An answer that does not reach stdout (here /dev/full) is a failure
    (exit 1), not a silent success."""
    with open("/dev/full", "w") as full:
        r = subprocess.run([CACHETCTL, "-s", daemon.control, "domain",
                            "list"], stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "cachetctl: output: No space left on device" in r.stderr


def test_domain_list_with_several_config_domains(make_daemon):
    d = make_daemon(domains=("example.org", "example.com"))
    d.start()
    assert lines(ok(d, "domain", "list")) == [
        "example.com (config)", "example.org (config)"]


def test_domain_add_list_del(daemon):
    ok(daemon, "domain", "add", "example.net")
    ok(daemon, "domain", "add", "Mail.Example.COM")
    assert lines(ok(daemon, "domain", "list")) == [
        "example.net", "example.org (config)", "mail.example.com"]
    ok(daemon, "domain", "del", "example.net")
    assert lines(ok(daemon, "domain", "list")) == [
        "example.org (config)", "mail.example.com"]


def test_domain_add_duplicate_refused(daemon):
    ok(daemon, "domain", "add", "example.net")
    fails(daemon, 1, "domain exists", "domain", "add", "EXAMPLE.net")


def test_domain_add_config_domain_refused_as_existing(daemon):
    fails(daemon, 1, "domain exists", "domain", "add", "example.org")


@pytest.mark.parametrize("name", [
    "exa mple.net", "a.-bad.example", "bad-.example", "a..b", "[127.0.0.1]",
    "x" * 64 + ".example",
])
def test_domain_add_invalid_name_refused(daemon, name):
    fails(daemon, 1, "invalid domain name", "domain", "add", name)


def test_domain_del_unknown_refused(daemon):
    fails(daemon, 1, "no such domain", "domain", "del", "example.net")


def test_domain_del_config_domain_refused(daemon):
    fails(daemon, 1, "config file", "domain", "del", "example.org")
    assert lines(ok(daemon, "domain", "list")) == ["example.org (config)"]


def test_domain_del_with_users_refused(daemon):
    ok(daemon, "domain", "add", "example.net")
    ok(daemon, "user", "add", "dave@example.net", input=PW + "\n")
    fails(daemon, 1, "domain still has users", "domain", "del",
          "example.net")
    ok(daemon, "user", "del", "dave@example.net")
    ok(daemon, "domain", "del", "example.net")


@pytest.mark.parametrize("args", [
    ("domain",),
    ("domain", "add"),
    ("domain", "del"),
    ("domain", "list", "extra"),
    ("domain", "add", "a.example", "b.example"),
    ("domain", "rename", "a.example"),
])
def test_domain_usage_errors(daemon, args):
    fails(daemon, 2, "usage: domain", *args)


# --- aliases ---

def test_alias_add_list_del(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    ok(daemon, "alias", "add", "info@example.org", "alice@example.org")
    ok(daemon, "alias", "add", "info@example.org", "carol@example.net")
    ok(daemon, "alias", "add", "abuse@example.org", "alice@example.org")
    assert lines(ok(daemon, "alias", "list")) == [
        "abuse@example.org -> alice@example.org",
        "info@example.org -> alice@example.org",
        "info@example.org -> carol@example.net",
    ]
    ok(daemon, "alias", "del", "info@example.org", "carol@example.net")
    assert lines(ok(daemon, "alias", "list")) == [
        "abuse@example.org -> alice@example.org",
        "info@example.org -> alice@example.org",
    ]


def test_alias_add_several_targets(daemon):
    """As an aliases file line: SOURCE TARGET TARGET..."""
    ok(daemon, "alias", "add", "team@example.org", "alice@example.org",
       "bob@example.org", "carol@example.net")
    assert lines(ok(daemon, "alias", "list")) == [
        "team@example.org -> alice@example.org",
        "team@example.org -> bob@example.org",
        "team@example.org -> carol@example.net",
    ]
    # more targets for the same source later, as one at a time did
    ok(daemon, "alias", "add", "team@example.org", "dave@example.org",
       "erin@example.org")
    assert len(lines(ok(daemon, "alias", "list"))) == 5


@pytest.mark.parametrize("targets,message", [
    # one bad address among good ones
    (("alice@example.org", "not an address", "bob@example.org"),
     "invalid address"),
    # one that is a target already
    (("bob@example.org", "alice@example.org", "carol@example.net"),
     "alias exists"),
    # one named twice, in any case
    (("bob@example.org", "carol@example.net", "BOB@Example.org"),
     "named twice"),
])
def test_alias_add_several_is_all_or_nothing(daemon, targets, message):
    ok(daemon, "alias", "add", "team@example.org", "alice@example.org")
    before = lines(ok(daemon, "alias", "list"))
    r = fails(daemon, 1, message, "alias", "add", "team@example.org",
              *targets)
    assert "nothing added" in r.stderr or len(targets) == 1
    assert lines(ok(daemon, "alias", "list")) == before


def test_alias_add_at_most_100_targets(daemon):
    many = [f"u{i}@example.org" for i in range(101)]
    fails(daemon, 2, "usage: alias add SOURCE TARGET... (at most 100)",
          "alias", "add", "big@example.org", *many)
    assert ok(daemon, "alias", "list").stdout == ""
    ok(daemon, "alias", "add", "big@example.org", *many[:100])
    assert len(lines(ok(daemon, "alias", "list"))) == 100


def test_alias_list_empty(daemon):
    assert ok(daemon, "alias", "list").stdout == ""


def test_alias_add_duplicate_refused(daemon):
    ok(daemon, "alias", "add", "info@example.org", "alice@example.org")
    fails(daemon, 1, "alias exists", "alias", "add", "INFO@example.org",
          "alice@example.org")


def test_alias_source_must_be_ours(daemon):
    fails(daemon, 1, "no such domain", "alias", "add", "info@example.net",
          "alice@example.org")


def test_alias_in_domain_added_by_ctl(daemon):
    ok(daemon, "domain", "add", "example.net")
    ok(daemon, "alias", "add", "info@example.net", "alice@example.org")
    assert lines(ok(daemon, "alias", "list")) == [
        "info@example.net -> alice@example.org"]


@pytest.mark.parametrize("src,dst", [
    ("info", "alice@example.org"),
    ("info@example.org", "alice"),
    ("info@example.org", "a b@example.org"),
])
def test_alias_bad_address_refused(daemon, src, dst):
    fails(daemon, 1, "invalid address", "alias", "add", src, dst)
    fails(daemon, 1, "invalid address", "alias", "del", src, dst)


def test_alias_del_unknown_refused(daemon):
    fails(daemon, 1, "no such alias", "alias", "del", "info@example.org",
          "alice@example.org")


@pytest.mark.parametrize("args", [
    ("alias",),
    ("alias", "add"),
    ("alias", "add", "info@example.org"),
    ("alias", "del", "info@example.org"),
    ("alias", "del", "info@example.org", "a@example.org", "b@example.org"),
    ("alias", "list", "extra"),
    ("alias", "show", "info@example.org"),
])
def test_alias_usage_errors(daemon, args):
    fails(daemon, 2, "usage: alias", *args)


def test_domain_del_removes_its_aliases(daemon):
    ok(daemon, "domain", "add", "example.net")
    ok(daemon, "alias", "add", "info@example.net", "alice@example.org")
    ok(daemon, "domain", "del", "example.net")
    assert ok(daemon, "alias", "list").stdout == ""


# --- persistence, the log, the process ---

def test_state_survives_a_restart(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    ok(daemon, "domain", "add", "example.net")
    ok(daemon, "alias", "add", "info@example.org", "alice@example.org")
    daemon.stop()
    daemon.start()
    assert lines(ok(daemon, "user", "list")) == ["alice@example.org"]
    assert lines(ok(daemon, "domain", "list")) == [
        "example.net", "example.org (config)"]
    assert lines(ok(daemon, "alias", "list")) == [
        "info@example.org -> alice@example.org"]


def test_config_domains_are_added_once(daemon):
    daemon.stop()
    daemon.start()
    log = daemon.read_log()
    assert log.count("event=domain-added domain=example.org "
                     "source=config") == 1, log


def test_database_is_private(daemon):
    import os
    import stat
    db = os.path.join(daemon.state, "lookup", "cachet.db")
    assert os.path.exists(db)
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_password_never_logged(daemon):
    ok(daemon, "user", "add", "alice@example.org", input=PW + "\n")
    ok(daemon, "user", "passwd", "alice@example.org",
       input="second-" + PW + "\n")
    fails(daemon, 1, "user exists", "user", "add", "alice@example.org",
          input="third-" + PW + "\n")
    fails(daemon, 1, "no such user", "user", "passwd", "bob@example.org",
          input="fourth-" + PW + "\n")
    log = daemon.read_log()
    assert "event=user-added user=alice@example.org" in log
    assert "event=user-passwd user=alice@example.org" in log
    assert PW not in log


def test_lookup_keeps_running_after_errors(daemon):
    before = daemon.status()["lookup"]["pid"]
    fails(daemon, 1, "invalid address", "user", "add", "\x01@example.org",
          input=PW + "\n")
    fails(daemon, 2, "usage", "user", "add", "a@example.org", "b", "c")
    ok(daemon, "user", "list")
    st = daemon.status()["lookup"]
    assert st["pid"] == before and st["restarts"] == 0
