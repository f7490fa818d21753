"""TLS-RPT (RFC 8460) for DANE: the `tlsa` policy type, on test_dane.py's
world (a DNSSEC-signed zone served by nsd, peers on 127.0.13.x; its
fixtures are imported, so this module gets a world of its own).

    ee      TLSA 3 1 1 matching: success, the record as policy-string
    bad     TLSA 3 1 1 another key: validation-failure (deferred)
    bogus   the TLSA RRSIG broken: dnssec-invalid (host skipped)
"""

import re

import jsonschema

from conftest import wait_for
from test_dane import CHILD, mx, out, peers, submit, world  # noqa: F401
from test_tlsrpt import by_domain, reports, schema


def dom(case):
    return f"{case}.{CHILD[:-1]}"


def test_tlsa_results_are_reported(out, peers):
    for case in ("ee", "bad", "bogus"):
        peers(case)
    d = out()
    for case in ("ee", "bad", "bogus"):
        submit(d, f"bob@{dom(case)}")
    log = d.read_log
    assert wait_for(lambda: re.search(r"to=<bob@ee\.\S+> .*status=sent",
                                      log()), 20), d.log_tail()
    for case in ("bad", "bogus"):
        assert wait_for(lambda: re.search(
            r"to=<bob@" + re.escape(dom(case)) + r"> .*status=deferred",
            log()), 20), d.log_tail()
    reps = reports(d.ctl("tlsrpt", "show").stdout)
    for r in reps:
        jsonschema.validate(r, schema())
    pols = by_domain(reps)

    [ee] = pols[dom("ee")]
    assert ee["policy"]["policy-type"] == "tlsa"
    assert len(ee["policy"]["policy-string"]) == 1
    assert re.fullmatch(r"3 1 1 [0-9a-f]{64}",
                        ee["policy"]["policy-string"][0])
    assert ee["policy"]["mx-host"] == [mx("ee")]
    assert ee["summary"]["total-successful-session-count"] >= 1
    assert ee["summary"]["total-failure-session-count"] == 0

    [bad] = pols[dom("bad")]
    assert bad["policy"]["policy-type"] == "tlsa"
    assert bad["policy"]["policy-string"] == ["3 1 1 " + "00" * 32]
    assert bad["summary"]["total-successful-session-count"] == 0
    f = bad["failure-details"][0]
    assert f["result-type"] == "validation-failure"
    assert f["receiving-mx-hostname"] == mx("bad")
    assert f["receiving-ip"] == "127.0.13.3"
    assert f["failed-session-count"] == \
        bad["summary"]["total-failure-session-count"] >= 1

    [bogus] = pols[dom("bogus")]
    assert bogus["policy"]["policy-type"] == "tlsa"
    f = bogus["failure-details"][0]
    assert f["result-type"] == "dnssec-invalid"
    assert f["receiving-mx-hostname"] == mx("bogus")
    # a skipped host was not connected to
    assert "receiving-ip" not in f and "sending-mta-ip" not in f
