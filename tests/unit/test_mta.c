/*
 * Unit tests for the pure parts of the mta: mta_tls_policy(), the one
 * place that decides TLS for a destination, and mta_result_of(); and for
 * mta_conn_addr_make().  Configs are parsed from text as cachetd would.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "mta.h"
#include "mta_conn.h"
#include "smtp_client.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define L1		"hostname mx.example.org\nlisten smtp 127.0.0.1:25\n"

static struct conf *
parse(const char *text)
{
	struct conf	*c;
	char		 errs[1024];

	c = conf_parse("t.conf", text, strlen(text), errs, sizeof(errs));
	if (c == NULL)
		fail_msg("parse: %s", errs);
	return c;
}

struct policy_case {
	const char		*name;
	const char		*relays;	/* config lines */
	const char		*domain;
	enum smtp_client_tls	 tls;
	bool			 verify;
	const char		*source;
	const struct mta_dane	*dane;		/* the MX host's, or NULL */
	bool			 want_dane;	/* checked by TLSA */
	bool			 skip;		/* host not used */
};

/* TLSA records (RFC 6698 §2.1) for the DANE cases. */
static uint8_t sha256[32] = { 0x5a };
static uint8_t sha512[64] = { 0xa5 };
static struct dns_tlsa ee_311 = { 3, 1, 1, sha256, 32 };
static struct dns_tlsa ta_201 = { 2, 0, 1, sha256, 32 };
static struct dns_tlsa ee_302 = { 3, 0, 2, sha512, 64 };
static struct dns_tlsa pkix_ee = { 1, 1, 1, sha256, 32 };
static struct dns_tlsa pkix_ta = { 0, 0, 1, sha256, 32 };
static struct dns_tlsa short_digest = { 3, 1, 1, sha256, 20 };
static struct dns_tlsa bad_selector = { 3, 2, 1, sha256, 32 };
static struct dns_tlsa bad_mtype = { 3, 1, 3, sha256, 32 };
static struct dns_tlsa unusable_set[] = { { 1, 1, 1, sha256, 32 },
    { 0, 0, 1, sha256, 32 }, { 3, 1, 1, sha256, 31 } };
static struct dns_tlsa mixed_set[] = { { 1, 1, 1, sha256, 32 },
    { 3, 1, 1, sha256, 32 } };

static const struct mta_dane dane_ee = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", &ee_311, 1 };
static const struct mta_dane dane_ta = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", &ta_201, 1 };
static const struct mta_dane dane_ee512 = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", &ee_302, 1 };
static const struct mta_dane dane_pkix_ee = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", &pkix_ee, 1 };
static const struct mta_dane dane_pkix_ta = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", &pkix_ta, 1 };
static const struct mta_dane dane_short = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", &short_digest, 1 };
static const struct mta_dane dane_badsel = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", &bad_selector, 1 };
static const struct mta_dane dane_badmt = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", &bad_mtype, 1 };
static const struct mta_dane dane_unusable = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", unusable_set, 3 };
static const struct mta_dane dane_mixed = { "mx.example.net", true,
    LOOKUP_MX_DANE_RECORDS, "", mixed_set, 2 };
static const struct mta_dane dane_failed = { "mx.example.net", true,
    LOOKUP_MX_DANE_FAILED, "TLSA lookup for _25._tcp.mx.example.net "
    "failed: DNSSEC validation failed", NULL, 0 };
static const struct mta_dane dane_none = { "mx.example.net", false,
    LOOKUP_MX_DANE_NONE, "", NULL, 0 };
static const struct mta_dane dane_no_tlsa = { "mx.example.net", true,
    LOOKUP_MX_DANE_NO_TLSA, "", NULL, 0 };

static const struct policy_case policy_cases[] = {
	{ "no relay: opportunistic", "", "example.net", SMTP_CLIENT_TLS_MAY,
	  false, "opportunistic", NULL, false, false },
	{ "a relay without tls: opportunistic still",
	  "relay example.net via [10.0.0.5]:2525\n", "example.net",
	  SMTP_CLIENT_TLS_MAY, false, "relay", NULL, false, false },
	{ "relay tls required", "relay * via [10.0.0.5] tls required\n",
	  "example.net", SMTP_CLIENT_TLS_MUST, false, "relay", NULL, false, false },
	{ "relay tls verify", "relay * via [smtp.example] tls verify\n",
	  "example.com", SMTP_CLIENT_TLS_MUST, true, "relay", NULL, false, false },
	{ "relay tls may", "relay * via [smtp.example] tls may\n",
	  "example.com", SMTP_CLIENT_TLS_MAY, false, "relay", NULL, false, false },
	{ "another domain's relay does not apply",
	  "relay example.com via [10.0.0.5] tls verify\n", "example.net",
	  SMTP_CLIENT_TLS_MAY, false, "opportunistic", NULL, false, false },
	{ "the domain's own relay wins over *",
	  "relay * via [10.0.0.5] tls verify\n"
	  "relay example.net via [10.0.0.6] tls required\n", "EXAMPLE.net",
	  SMTP_CLIENT_TLS_MUST, false, "relay", NULL, false, false },
	{ "an address literal takes no relay of a name",
	  "relay example.net via [10.0.0.6] tls required\n", "[192.0.2.1]",
	  SMTP_CLIENT_TLS_MAY, false, "opportunistic", NULL, false, false },
	{ "a bad domain: opportunistic (routing refuses it anyway)",
	  "relay * via [10.0.0.6] tls required\n", "bad..domain",
	  SMTP_CLIENT_TLS_MAY, false, "opportunistic", NULL, false, false },
	{ "DANE-EE 3 1 1: TLS required, checked by TLSA", "", "example.net",
	  SMTP_CLIENT_TLS_MUST, false, "dane", &dane_ee, true, false },
	{ "DANE-TA 2 0 1: TLS required, checked by TLSA", "", "example.net",
	  SMTP_CLIENT_TLS_MUST, false, "dane", &dane_ta, true, false },
	{ "DANE-EE 3 0 2 (SHA2-512): usable", "", "example.net",
	  SMTP_CLIENT_TLS_MUST, false, "dane", &dane_ee512, true, false },
	{ "PKIX-EE 1 alone: unusable, opportunistic", "", "example.net",
	  SMTP_CLIENT_TLS_MAY, false, "dane-unusable", &dane_pkix_ee, false,
	  false },
	{ "PKIX-TA 0 alone: unusable, opportunistic", "", "example.net",
	  SMTP_CLIENT_TLS_MAY, false, "dane-unusable", &dane_pkix_ta, false,
	  false },
	{ "a SHA2-256 digest of 20 octets: unusable", "", "example.net",
	  SMTP_CLIENT_TLS_MAY, false, "dane-unusable", &dane_short, false,
	  false },
	{ "selector 2: unusable", "", "example.net", SMTP_CLIENT_TLS_MAY,
	  false, "dane-unusable", &dane_badsel, false, false },
	{ "matching type 3: unusable", "", "example.net", SMTP_CLIENT_TLS_MAY,
	  false, "dane-unusable", &dane_badmt, false, false },
	{ "only unusable records of several: opportunistic", "",
	  "example.net", SMTP_CLIENT_TLS_MAY, false, "dane-unusable",
	  &dane_unusable, false, false },
	{ "one usable record among unusable ones: DANE", "", "example.net",
	  SMTP_CLIENT_TLS_MUST, false, "dane", &dane_mixed, true, false },
	{ "a failed or bogus TLSA lookup: the host is skipped", "",
	  "example.net", SMTP_CLIENT_TLS_MUST, false, "dane", &dane_failed,
	  false, true },
	{ "an insecure MX: no DANE", "", "example.net", SMTP_CLIENT_TLS_MAY,
	  false, "opportunistic", &dane_none, false, false },
	{ "secure, no TLSA: opportunistic", "", "example.net",
	  SMTP_CLIENT_TLS_MAY, false, "opportunistic", &dane_no_tlsa, false,
	  false },
	{ "dane no: usable records ignored", "dane no\n", "example.net",
	  SMTP_CLIENT_TLS_MAY, false, "opportunistic", &dane_ee, false,
	  false },
	{ "a relay directive wins over DANE",
	  "relay * via [10.0.0.6] tls required\n", "example.net",
	  SMTP_CLIENT_TLS_MUST, false, "relay", &dane_failed, false, false },
};

static void
run_policy_case(void **state)
{
	const struct policy_case	*t = *state;
	struct mta_tls_policy		 p;
	struct conf			*c;
	char				 text[1024];

	(void)snprintf(text, sizeof(text), L1 "%s", t->relays);
	c = parse(text);
	mta_tls_policy(c, t->domain, NULL, t->dane, NULL, &p);
	assert_int_equal(p.tls, t->tls);
	assert_int_equal(p.verify, t->verify);
	assert_string_equal(p.source, t->source);
	assert_int_equal(p.dane, t->want_dane);
	assert_int_equal(p.skip, t->skip);
	if (t->skip)
		assert_string_equal(p.why, t->dane->reason);
	else
		assert_string_equal(p.why, "");
	conf_free(c);
}

/*
 * MTA-STS (RFC 8461 §4.2, §5) in the same decision: policy text, MX host,
 * the host's DANE answer, and what must come out.
 */
struct sts_case {
	const char		*name;
	const char		*conf;
	const char		*policy;	/* NULL: none */
	const char		*host;
	const struct mta_dane	*dane;
	enum smtp_client_tls	 tls;
	bool			 verify;
	bool			 skip;
	const char		*source;
	const char		*why;		/* exact; "" none */
};

#define STS_ENFORCE	"version: STSv1\nmode: enforce\nmx: *.example.net\n" \
			"mx: mx1.other.org\nmax_age: 600\n"
#define STS_TESTING	"version: STSv1\nmode: testing\nmx: *.example.net\n" \
			"max_age: 600\n"
#define STS_NONE	"version: STSv1\nmode: none\nmax_age: 600\n"

static const struct sts_case sts_cases[] = {
	{ "enforce, matching MX: TLS required and verified", "",
	  STS_ENFORCE, "mx.example.net", NULL, SMTP_CLIENT_TLS_MUST, true,
	  false, "mta-sts", "" },
	{ "enforce, the exact pattern matches too", "", STS_ENFORCE,
	  "MX1.other.org.", &dane_none, SMTP_CLIENT_TLS_MUST, true, false,
	  "mta-sts", "" },
	{ "enforce, MX not matching: skipped, the policy named", "",
	  STS_ENFORCE, "mx1.other.net", NULL, SMTP_CLIENT_TLS_MUST, false,
	  true, "mta-sts", "MTA-STS policy for example.net (enforce) allows "
	  "mx *.example.net, mx1.other.org; mx1.other.net does not match" },
	{ "enforce, wildcard is one label only", "", STS_ENFORCE,
	  "a.mx.example.net", NULL, SMTP_CLIENT_TLS_MUST, false, true,
	  "mta-sts", "MTA-STS policy for example.net (enforce) allows mx "
	  "*.example.net, mx1.other.org; a.mx.example.net does not match" },
	{ "testing, matching: opportunistic", "", STS_TESTING,
	  "mx.example.net", NULL, SMTP_CLIENT_TLS_MAY, false, false,
	  "mta-sts-testing", "" },
	{ "testing, not matching: delivered, noted", "", STS_TESTING,
	  "mx.other.net", NULL, SMTP_CLIENT_TLS_MAY, false, false,
	  "mta-sts-testing", "MTA-STS policy for example.net (testing) "
	  "allows mx *.example.net; mx.other.net does not match" },
	{ "mode none: as no policy", "", STS_NONE, "mx.other.net", NULL,
	  SMTP_CLIENT_TLS_MAY, false, false, "opportunistic", "" },
	{ "mta-sts no: ignored", "mta-sts no\n", STS_ENFORCE,
	  "mx.other.net", NULL, SMTP_CLIENT_TLS_MAY, false, false,
	  "opportunistic", "" },
	{ "DANE wins where it applies (usable TLSA)", "", STS_ENFORCE,
	  "mx.other.net", &dane_ee, SMTP_CLIENT_TLS_MUST, false, false,
	  "dane", "" },
	{ "a failed TLSA lookup still skips (DANE)", "", STS_ENFORCE,
	  "mx.example.net", &dane_failed, SMTP_CLIENT_TLS_MUST, false, true,
	  "dane", "TLSA lookup for _25._tcp.mx.example.net failed: DNSSEC "
	  "validation failed" },
	{ "unusable TLSA only: MTA-STS decides", "", STS_ENFORCE,
	  "mx.example.net", &dane_pkix_ee, SMTP_CLIENT_TLS_MUST, true, false,
	  "mta-sts", "" },
	{ "secure, no TLSA: MTA-STS decides", "", STS_ENFORCE,
	  "mx.other.net", &dane_no_tlsa, SMTP_CLIENT_TLS_MUST, false, true,
	  "mta-sts", "MTA-STS policy for example.net (enforce) allows mx "
	  "*.example.net, mx1.other.org; mx.other.net does not match" },
	{ "a relay directive wins over MTA-STS",
	  "relay example.net via [10.0.0.6] tls may\n", STS_ENFORCE,
	  "mx.other.net", NULL, SMTP_CLIENT_TLS_MAY, false, false, "relay",
	  "" },
};

static void
test_sts_policy_cases(void **state)
{
	struct mtasts_policy	 pol;
	struct mta_tls_policy	 p;
	struct conf		*c;
	const char		*err;
	char			 text[1024];
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(sts_cases); i++) {
		const struct sts_case *t = &sts_cases[i];

		(void)snprintf(text, sizeof(text), L1 "%s", t->conf);
		c = parse(text);
		if (t->policy != NULL && mtasts_policy_parse(t->policy,
		    strlen(t->policy), &pol, &err) == -1)
			fail_msg("%s: policy: %s", t->name, err);
		mta_tls_policy(c, "example.net", t->host, t->dane,
		    t->policy != NULL ? &pol : NULL, &p);
		if (p.tls != t->tls || p.verify != t->verify ||
		    p.skip != t->skip || strcmp(p.source, t->source) != 0 ||
		    strcmp(p.why, t->why) != 0)
			fail_msg("%s: tls=%d verify=%d skip=%d source=%s "
			    "why=\"%s\"", t->name, p.tls, p.verify, p.skip,
			    p.source, p.why);
		conf_free(c);
	}
}

static void
test_result_of_reply_classes(void **state)
{
	assert_int_equal(mta_result_of(250), MTA_DELIVERED);
	assert_int_equal(mta_result_of(251), MTA_DELIVERED);
	assert_int_equal(mta_result_of(421), MTA_TEMPFAIL);
	assert_int_equal(mta_result_of(452), MTA_TEMPFAIL);
	assert_int_equal(mta_result_of(550), MTA_PERMFAIL);
	assert_int_equal(mta_result_of(554), MTA_PERMFAIL);
	/* anything odd is no proof of failure: try again */
	assert_int_equal(mta_result_of(354), MTA_TEMPFAIL);
	assert_int_equal(mta_result_of(0), MTA_TEMPFAIL);
	assert_int_equal(mta_result_of(999), MTA_TEMPFAIL);
}

static void
test_addr_make_v4_v6(void **state)
{
	struct mta_conn_addr		 a;
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	assert_int_equal(mta_conn_addr_make(&a, "mx.example.net",
	    "192.0.2.7", 25), 0);
	sin = (const struct sockaddr_in *)&a.ss;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 25);
	assert_int_equal(a.sslen, sizeof(*sin));
	assert_string_equal(a.host, "mx.example.net");
	assert_string_equal(a.ip, "192.0.2.7");

	assert_int_equal(mta_conn_addr_make(&a, "mx6.example.net",
	    "2001:db8::25", 2525), 0);
	sin6 = (const struct sockaddr_in6 *)&a.ss;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 2525);
	assert_int_equal(a.sslen, sizeof(*sin6));
}

static void
test_addr_make_refuses_garbage(void **state)
{
	struct mta_conn_addr	a;
	char			long_host[DNS_NAME_MAX + 10];

	assert_int_equal(mta_conn_addr_make(&a, "h", "not an ip", 25), -1);
	assert_int_equal(mta_conn_addr_make(&a, "h", "192.0.2.1", 0), -1);
	assert_int_equal(mta_conn_addr_make(&a, "h", "", 25), -1);
	memset(long_host, 'a', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	assert_int_equal(mta_conn_addr_make(&a, long_host, "192.0.2.1", 25),
	    -1);
}

/*
 * RFC 8689 §5: TLS-Required: No sets a DANE decision (even a failed
 * lookup) aside, leaves opportunistic alone and keeps a relay's TLS.
 */
static void
test_tls_required_no(void **state)
{
	struct mta_tls_policy	 p;
	struct conf		*c;

	(void)state;
	c = parse(L1);
	mta_tls_policy(c, "example.net", NULL, &dane_ee, NULL, &p);
	assert_true(p.dane);
	mta_tls_policy_optional(&p);
	assert_int_equal(p.tls, SMTP_CLIENT_TLS_MAY);
	assert_false(p.verify || p.dane || p.skip);
	assert_string_equal(p.source, "tls-required-no");
	mta_tls_policy(c, "example.net", NULL, &dane_failed, NULL, &p);
	assert_true(p.skip);
	mta_tls_policy_optional(&p);
	assert_false(p.skip);
	assert_int_equal(p.tls, SMTP_CLIENT_TLS_MAY);
	mta_tls_policy(c, "example.net", NULL, NULL, NULL, &p);
	mta_tls_policy_optional(&p);
	assert_string_equal(p.source, "opportunistic");
	conf_free(c);
	c = parse(L1 "relay * via [10.0.0.6] tls verify\n");
	mta_tls_policy(c, "example.net", NULL, &dane_ee, NULL, &p);
	mta_tls_policy_optional(&p);
	assert_string_equal(p.source, "relay");
	assert_int_equal(p.tls, SMTP_CLIENT_TLS_MUST);
	assert_true(p.verify);
	conf_free(c);
}

int
main(void)
{
	struct CMUnitTest	 tests[NELEM(policy_cases) + 5];
	size_t			 i, n = 0;

	for (i = 0; i < NELEM(policy_cases); i++) {
		tests[n].name = policy_cases[i].name;
		tests[n].test_func = run_policy_case;
		tests[n].setup_func = NULL;
		tests[n].teardown_func = NULL;
		tests[n].initial_state = (void *)&policy_cases[i];
		n++;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_sts_policy_cases);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_result_of_reply_classes);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_addr_make_v4_v6);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_tls_required_no);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_addr_make_refuses_garbage);
	return _cmocka_run_group_tests("mta", tests, n, NULL, NULL);
}
