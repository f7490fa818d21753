/*
 * Unit tests for dmarc.c: the record (RFC 7489 §6.3, §6.4, the examples
 * of Appendix B.2, §6.6.3's rule for a missing p=), the From: domain
 * (§6.6.1), alignment (§3.1), the policy for a domain, a subdomain and
 * a non-existent subdomain (DMARCbis np=), pct= sampling (§6.6.4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc.h"
#include "util.h"

static int
parse(const char *txt, struct dmarc_record *r)
{
	const char	*why = NULL;
	int		 rc;

	rc = dmarc_record_parse(txt, strlen(txt), r, &why);
	assert_non_null(why);
	return rc;
}

static void
test_record_rfc_examples(void **state)
{
	struct dmarc_record	r;

	(void)state;
	/* RFC 7489 B.2.1 */
	assert_int_equal(parse("v=DMARC1; p=none; "
	    "rua=mailto:dmarc-feedback@example.com", &r), 0);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	assert_string_equal(r.rua, "mailto:dmarc-feedback@example.com");
	assert_string_equal(r.ruf, "");
	assert_int_equal(r.pct, 100);
	assert_false(r.adkim_strict);
	assert_false(r.aspf_strict);
	assert_string_equal(r.fo, "0");
	assert_string_equal(r.rf, "afrf");
	assert_int_equal(r.ri, 86400);
	assert_false(r.p_implied);
	/* B.2.3 (two rua URIs, one with a size limit) and pct= */
	assert_int_equal(parse("v=DMARC1; p=quarantine; "
	    "rua=mailto:dmarc-feedback@example.com,"
	    "mailto:tld-test@thirdparty.example.net!10m; pct=25", &r), 0);
	assert_int_equal(r.p, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.pct, 25);
	assert_string_equal(r.rua, "mailto:dmarc-feedback@example.com,"
	    "mailto:tld-test@thirdparty.example.net!10m");
	/* Every tag. */
	assert_int_equal(parse("v=DMARC1;p=reject;sp=quarantine;np=none;"
	    "pct=0;adkim=s;aspf=s;ruf=mailto:f@example.org;fo=1:d;"
	    "rf=afrf;ri=3600;t=y", &r), 0);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.np, DMARC_POLICY_NONE);
	assert_true(r.has_sp);
	assert_true(r.has_np);
	assert_int_equal(r.pct, 0);
	assert_true(r.adkim_strict);
	assert_true(r.aspf_strict);
	assert_string_equal(r.ruf, "mailto:f@example.org");
	assert_string_equal(r.fo, "1:d");
	assert_int_equal(r.ri, 3600);
	assert_true(r.testing);
}

static void
test_record_syntax(void **state)
{
	struct dmarc_record	r;
	char			big[DMARC_RECORD_MAX + 64];

	(void)state;
	/* v= first, exactly "DMARC1" */
	assert_int_equal(parse("p=reject; v=DMARC1", &r), -1);
	assert_int_equal(parse("v=DMARC2; p=reject", &r), -1);
	assert_int_equal(parse("v=dmarc1; p=reject", &r), -1);
	assert_int_equal(parse("v=DMARC1p=reject", &r), -1);
	assert_int_equal(parse("", &r), -1);
	assert_false(dmarc_record_is_dmarc("v=spf1 -all", 11));
	assert_true(dmarc_record_is_dmarc(" V = DMARC1 ;", 13));
	/* White space around tags, values and semicolons; case of words */
	assert_int_equal(parse("v = DMARC1 ;P = Reject ; sp=NONE ;", &r), 0);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	/* §6.3: bad values and unknown tags are ignored, defaults kept */
	assert_int_equal(parse("v=DMARC1; p=reject; foo=bar; pct=abc; "
	    "adkim=x; aspf=; fo=1:x; rf=9; ri=-1; np=maybe; junk; =x; 9a=b",
	    &r), 0);
	assert_int_equal(r.p, DMARC_POLICY_REJECT);
	assert_int_equal(r.pct, 100);
	assert_false(r.adkim_strict);
	assert_string_equal(r.fo, "0");
	assert_string_equal(r.rf, "afrf");
	assert_int_equal(r.ri, 86400);
	assert_false(r.has_np);
	assert_int_equal(r.np, DMARC_POLICY_REJECT);
	assert_int_equal(parse("v=DMARC1; p=reject; pct=101", &r), 0);
	assert_int_equal(r.pct, 100);
	/* The first of a repeated tag wins. */
	assert_int_equal(parse("v=DMARC1; p=none; p=reject", &r), 0);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	/* rua= keeps the valid URIs only. */
	assert_int_equal(parse("v=DMARC1; p=none; rua=foo, mailto:a@b.example,"
	    " :x, mailto:c@d.example", &r), 0);
	assert_string_equal(r.rua, "mailto:a@b.example,mailto:c@d.example");
	/* Too long to be ours. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "v=DMARC1; p=reject;", 19);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &r), -1);
}

static void
test_record_missing_p(void **state)
{
	struct dmarc_record	r;

	(void)state;
	/* §6.6.3: no valid p= and no rua=: no DMARC processing */
	assert_int_equal(parse("v=DMARC1", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=bogus", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=reject; sp=bogus", &r), -1);
	assert_int_equal(parse("v=DMARC1; rua=nonsense", &r), -1);
	/* ... with a valid rua=: as if p=none */
	assert_int_equal(parse("v=DMARC1; rua=mailto:r@example.org", &r), 0);
	assert_true(r.p_implied);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	assert_int_equal(parse("v=DMARC1; p=reject; sp=x; "
	    "rua=mailto:r@example.org", &r), 0);
	assert_int_equal(r.p, DMARC_POLICY_NONE);
	assert_int_equal(r.sp, DMARC_POLICY_NONE);
	/* sp= defaults to p=, np= to sp= */
	assert_int_equal(parse("v=DMARC1; p=quarantine", &r), 0);
	assert_int_equal(r.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(r.np, DMARC_POLICY_QUARANTINE);
	assert_int_equal(parse("v=DMARC1; p=reject; sp=none", &r), 0);
	assert_int_equal(r.np, DMARC_POLICY_NONE);
}

static enum dmarc_from
from(const char *hdrs, char *out)
{
	const char	*why = NULL;
	enum dmarc_from	 f;

	f = dmarc_from_domain(span_make(hdrs, strlen(hdrs)), out,
	    DMARC_NAME_MAX + 1, &why);
	assert_non_null(why);
	return f;
}

static void
test_from_domain(void **state)
{
	char	d[DMARC_NAME_MAX + 1];

	(void)state;
	assert_int_equal(from("Subject: x\r\nFrom: Alice <alice@Example.ORG."
	    ">\r\nTo: b@c.example\r\n", d), DMARC_FROM_OK);
	assert_string_equal(d, "example.org");
	/* folded, a comment, the name in any case */
	assert_int_equal(from("FROM:\r\n (the boss) boss@\r\n mail.example.com"
	    "\r\n", d), DMARC_FROM_OK);
	assert_string_equal(d, "mail.example.com");
	assert_int_equal(from("To: a@b.example\r\n", d), DMARC_FROM_NONE);
	assert_int_equal(from("", d), DMARC_FROM_NONE);
	assert_int_equal(from("From: a@x.example\r\nFrom: b@y.example\r\n", d),
	    DMARC_FROM_MULTIPLE);
	/* A broken line does not hide the second From: */
	assert_int_equal(from("From: a@x.example\r\nno colon here\r\n"
	    "From: b@y.example\r\n", d), DMARC_FROM_MULTIPLE);
	/* several addresses: one domain is fine, two are not */
	assert_int_equal(from("From: a@x.example, b@X.example\r\n", d),
	    DMARC_FROM_OK);
	assert_string_equal(d, "x.example");
	assert_int_equal(from("From: a@x.example, b@y.example\r\n", d),
	    DMARC_FROM_ADDRS);
	assert_string_equal(d, "");
	/* no usable domain */
	assert_int_equal(from("From: undisclosed-recipients:;\r\n", d),
	    DMARC_FROM_BAD);
	assert_int_equal(from("From: alice\r\n", d), DMARC_FROM_BAD);
	assert_int_equal(from("From: a@[192.0.2.1]\r\n", d), DMARC_FROM_BAD);
	assert_int_equal(from("From: a@x..example\r\n", d), DMARC_FROM_BAD);
	assert_int_equal(from("From: <a@\r\n", d), DMARC_FROM_BAD);
	assert_int_equal(from("From: a@x.example..\r\n", d), DMARC_FROM_BAD);
	/* a group with one member */
	assert_int_equal(from("From: team: a@g.example;\r\n", d),
	    DMARC_FROM_OK);
	assert_string_equal(d, "g.example");
}

static void
test_alignment(void **state)
{
	(void)state;
	assert_true(dmarc_aligned("example.com", "EXAMPLE.com", NULL, NULL,
	    true));
	assert_false(dmarc_aligned("mail.example.com", "example.com",
	    "example.com", "example.com", true));
	assert_true(dmarc_aligned("mail.example.com", "example.com",
	    "example.com", "example.com", false));
	assert_false(dmarc_aligned("example.com", "example.net",
	    "example.com", "example.net", false));
	/* a public suffix has no organisational domain */
	assert_false(dmarc_aligned("a.co.uk", "b.co.uk", "", "", false));
	assert_false(dmarc_aligned("", "", "", "", false));
}

static void
test_policy_and_sampling(void **state)
{
	struct dmarc_record	r;
	bool			s;

	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject; sp=quarantine; np=none",
	    &r), 0);
	assert_int_equal(dmarc_policy_for(&r, "example.com", "Example.com",
	    false), DMARC_POLICY_REJECT);
	assert_int_equal(dmarc_policy_for(&r, "a.example.com", "example.com",
	    false), DMARC_POLICY_QUARANTINE);
	assert_int_equal(dmarc_policy_for(&r, "a.example.com", "example.com",
	    true), DMARC_POLICY_NONE);
	/* np= applies only below the record's domain */
	assert_int_equal(dmarc_policy_for(&r, "example.com", "example.com",
	    true), DMARC_POLICY_REJECT);

	assert_int_equal(parse("v=DMARC1; p=reject; pct=50", &r), 0);
	assert_int_equal(dmarc_sample(&r, DMARC_POLICY_REJECT, 49, &s),
	    DMARC_POLICY_REJECT);
	assert_true(s);
	assert_int_equal(dmarc_sample(&r, DMARC_POLICY_REJECT, 50, &s),
	    DMARC_POLICY_QUARANTINE);
	assert_false(s);
	assert_int_equal(dmarc_sample(&r, DMARC_POLICY_QUARANTINE, 99, &s),
	    DMARC_POLICY_NONE);
	assert_false(s);
	assert_int_equal(dmarc_sample(&r, DMARC_POLICY_NONE, 99, &s),
	    DMARC_POLICY_NONE);
	assert_true(s);
	assert_int_equal(parse("v=DMARC1; p=reject", &r), 0);
	assert_int_equal(dmarc_sample(&r, DMARC_POLICY_REJECT, 99, &s),
	    DMARC_POLICY_REJECT);
	assert_int_equal(parse("v=DMARC1; p=reject; pct=0", &r), 0);
	assert_int_equal(dmarc_sample(&r, DMARC_POLICY_REJECT, 0, &s),
	    DMARC_POLICY_QUARANTINE);
	/* DMARCbis t=y: as pct=0 */
	assert_int_equal(parse("v=DMARC1; p=reject; t=y", &r), 0);
	assert_int_equal(dmarc_sample(&r, DMARC_POLICY_REJECT, 0, &s),
	    DMARC_POLICY_QUARANTINE);
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE),
	    "quarantine");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_rfc_examples),
		cmocka_unit_test(test_record_syntax),
		cmocka_unit_test(test_record_missing_p),
		cmocka_unit_test(test_from_domain),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_policy_and_sampling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
