/*
 * Unit tests for mta_tlsrpt_result() (mta_tlsrpt.c): which RFC 8460
 * §4.3 result type a session's TLS outcome is under each policy type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mta/mta_tlsrpt.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct result_case {
	enum tlsrpt_policy_type	 ptype;
	enum mta_conn_tls_event	 ev;
	const char		*why;
	enum tlsrpt_result	 want;
};

static const struct result_case cases[] = {
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_VERIFIED, "", TLSRPT_OK },
	{ TLSRPT_POLICY_TLSA, MTA_CONN_TLS_VERIFIED, "", TLSRPT_OK },
	{ TLSRPT_POLICY_NONE, MTA_CONN_TLS_VERIFIED, "", TLSRPT_OK },
	/* opportunistic TLS without a policy: up is a success */
	{ TLSRPT_POLICY_NONE, MTA_CONN_TLS_UNVERIFIED,
	    "self-signed certificate", TLSRPT_OK },
	/* OpenSSL's X509_verify_cert_error_string() texts under MTA-STS */
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_UNVERIFIED, "certificate has "
	    "expired", TLSRPT_CERTIFICATE_EXPIRED },
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_UNVERIFIED, "certificate is not "
	    "yet valid", TLSRPT_CERTIFICATE_EXPIRED },
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_UNVERIFIED, "hostname mismatch",
	    TLSRPT_CERTIFICATE_HOST_MISMATCH },
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_UNVERIFIED, "self-signed "
	    "certificate", TLSRPT_CERTIFICATE_NOT_TRUSTED },
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_UNVERIFIED, "unable to get local "
	    "issuer certificate", TLSRPT_CERTIFICATE_NOT_TRUSTED },
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_UNVERIFIED, "certificate "
	    "signature failure", TLSRPT_VALIDATION_FAILURE },
	/* RFC 7672 §2.2: no TLSA record matched */
	{ TLSRPT_POLICY_TLSA, MTA_CONN_TLS_UNVERIFIED, "no matching DANE "
	    "record", TLSRPT_VALIDATION_FAILURE },
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_NOT_OFFERED, "",
	    TLSRPT_STARTTLS_NOT_SUPPORTED },
	{ TLSRPT_POLICY_NONE, MTA_CONN_TLS_NOT_OFFERED, "",
	    TLSRPT_STARTTLS_NOT_SUPPORTED },
	{ TLSRPT_POLICY_TLSA, MTA_CONN_TLS_FAILED, "TLS handshake failed: x",
	    TLSRPT_VALIDATION_FAILURE },
	/* skipped hosts: an MX the policy does not list; TLSA lookups */
	{ TLSRPT_POLICY_STS, MTA_CONN_TLS_SKIPPED, "MTA-STS policy for d "
	    "(enforce) allows mx *.d; mx.e does not match",
	    TLSRPT_VALIDATION_FAILURE },
	{ TLSRPT_POLICY_TLSA, MTA_CONN_TLS_SKIPPED, "TLSA lookup for "
	    "_25._tcp.mx.d: bogus: signature expired",
	    TLSRPT_DNSSEC_INVALID },
	{ TLSRPT_POLICY_TLSA, MTA_CONN_TLS_SKIPPED, "TLSA lookup for "
	    "_25._tcp.mx.d: SERVFAIL", TLSRPT_TLSA_INVALID },
};

static void
test_result(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (mta_tlsrpt_result(cases[i].ptype, cases[i].ev,
		    cases[i].why) != cases[i].want)
			fail_msg("case %zu (%s): got %s", i, cases[i].why,
			    tlsrpt_result_name(mta_tlsrpt_result(
			    cases[i].ptype, cases[i].ev, cases[i].why)));
}

struct fetch_case {
	const char		*why;
	enum tlsrpt_result	 want;
};

static const struct fetch_case fetch_cases[] = {
	{ "MTA-STS policy fetch for d.example failed: invalid policy: no mode",
	    TLSRPT_STS_POLICY_INVALID },
	{ "MTA-STS policy fetch for d.example failed: SSL certificate "
	    "problem: unable to get local issuer certificate",
	    TLSRPT_STS_WEBPKI_INVALID },
	{ "MTA-STS policy fetch for d.example failed: SSL: no alternative "
	    "certificate subject name matches target host name 'x'",
	    TLSRPT_STS_WEBPKI_INVALID },
	{ "MTA-STS policy fetch for d.example failed: HTTP 404",
	    TLSRPT_STS_POLICY_FETCH_ERROR },
	{ "MTA-STS policy fetch for d.example failed: HTTP 301: a redirect, "
	    "not followed (RFC 8461 §3.3)", TLSRPT_STS_POLICY_FETCH_ERROR },
	{ "MTA-STS policy fetch for d.example failed: cannot start it",
	    TLSRPT_STS_POLICY_FETCH_ERROR },
	/* not fetch failures */
	{ "", TLSRPT_OK },
	{ "the policy of d.example has mode none", TLSRPT_OK },
	{ "no _mta-sts.d.example TXT record", TLSRPT_OK },
};

static void
test_fetch_result(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(fetch_cases); i++)
		if (mta_tlsrpt_fetch_result(fetch_cases[i].why) !=
		    fetch_cases[i].want)
			fail_msg("%s: got %s", fetch_cases[i].why,
			    tlsrpt_result_name(mta_tlsrpt_fetch_result(
			    fetch_cases[i].why)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_fetch_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
