/*
 * Unit tests for the Authentication-Results field the orchestrator
 * writes (lookup_msgauth_authres(), RFC 8601): the authserv-id first,
 * one resinfo a line, each method's properties, values quoted where they
 * are not tokens, every line under 78 columns, CRLF at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "lookup_msgauth.h"
#include "msgauth.h"
#include "util.h"

static struct msgauth *
base(void)
{
	struct msgauth	*m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->kind = MSGAUTH_MX;
	m->spf = SPF_PASS;
	(void)str_copy(m->spf_identity, sizeof(m->spf_identity), "mailfrom");
	(void)str_copy(m->mailfrom, sizeof(m->mailfrom), "bob@example.net");
	(void)str_copy(m->helo, sizeof(m->helo), "mail.example.net");
	return m;
}

static void
check_lines(const char *s)
{
	const char	*p = s, *e;

	while ((e = strstr(p, "\r\n")) != NULL) {
		assert_true(e - p < 78);
		p = e + 2;
		/* every line after the first is a continuation */
		if (*p != '\0')
			assert_true(*p == '\t');
	}
	assert_string_equal(p, "");
}

static void
test_none_results(void **state)
{
	struct msgauth	*m = base();
	struct buf	 b;

	(void)state;
	buf_init(&b, MSGAUTH_PREPEND_MAX);
	assert_int_equal(lookup_msgauth_authres(m, "mx.example.org", &b), 0);
	assert_string_equal(b.data, "Authentication-Results: mx.example.org;"
	    "\r\n\tspf=pass smtp.mailfrom=bob@example.net;\r\n\tdkim=none;"
	    "\r\n\tdmarc=none;\r\n\tarc=none\r\n");
	check_lines(b.data);
	buf_free(&b);
	free(m);
}

static void
test_every_method(void **state)
{
	struct msgauth	*m = base();
	struct buf	 b;

	(void)state;
	m->spf = SPF_SOFTFAIL;
	(void)str_copy(m->spf_reason, sizeof(m->spf_reason),
	    "127.0.0.9 is not (quite) allowed");
	m->ndkim = 2;
	m->dkim[0].result = MSGAUTH_DKIM_PASS;
	(void)str_copy(m->dkim[0].domain, sizeof(m->dkim[0].domain),
	    "example.net");
	(void)str_copy(m->dkim[0].selector, sizeof(m->dkim[0].selector),
	    "sel1");
	(void)str_copy(m->dkim[0].algo, sizeof(m->dkim[0].algo),
	    "ed25519-sha256");
	(void)str_copy(m->dkim[0].b, sizeof(m->dkim[0].b), "Ab/cd+EF");
	m->dkim[1].result = MSGAUTH_DKIM_FAIL;
	(void)str_copy(m->dkim[1].domain, sizeof(m->dkim[1].domain),
	    "example.com");
	(void)str_copy(m->dkim[1].reason, sizeof(m->dkim[1].reason),
	    "body hash did not verify");
	m->dmarc.result = MSGAUTH_DMARC_FAIL;
	m->dmarc.policy = MSGAUTH_POLICY_REJECT;
	(void)str_copy(m->dmarc.from_domain, sizeof(m->dmarc.from_domain),
	    "example.com");
	m->arc.result = MSGAUTH_ARC_PASS;
	buf_init(&b, MSGAUTH_PREPEND_MAX);
	assert_int_equal(lookup_msgauth_authres(m, "mx.example.org", &b), 0);
	check_lines(b.data);
	/* SPF's reason is a comment, parentheses inside it dropped */
	assert_non_null(strstr(b.data, "\tspf=softfail (127.0.0.9 is not "
	    "quite allowed)"));
	/* header.b has '/' and '+'... '/' is a tspecial: quoted */
	assert_non_null(strstr(b.data, "dkim=pass header.d=example.net "
	    "header.s=sel1 header.a=ed25519-sha256"));
	assert_non_null(strstr(b.data, "header.b=\"Ab/cd+EF\""));
	assert_non_null(strstr(b.data, "\tdkim=fail reason=\"body hash did "
	    "not verify\""));
	assert_non_null(strstr(b.data, "\tdmarc=fail header.from=example.com "
	    "policy.dmarc=reject;"));
	assert_non_null(strstr(b.data, "\tarc=pass\r\n"));
	buf_free(&b);
	free(m);
}

static void
test_null_path_names_helo(void **state)
{
	struct msgauth	*m = base();
	struct buf	 b;

	(void)state;
	m->mailfrom[0] = '\0';
	(void)str_copy(m->spf_identity, sizeof(m->spf_identity), "helo");
	buf_init(&b, MSGAUTH_PREPEND_MAX);
	assert_int_equal(lookup_msgauth_authres(m, "mx.example.org", &b), 0);
	assert_non_null(strstr(b.data, "spf=pass smtp.helo=mail.example.net;"));
	assert_null(strstr(b.data, "smtp.mailfrom"));
	buf_free(&b);
	free(m);
}

static void
test_hostile_values_quoted(void **state)
{
	struct msgauth	*m = base();
	struct buf	 b;

	(void)state;
	(void)str_copy(m->mailfrom, sizeof(m->mailfrom),
	    "\"a;b c\\\"\"@example.net");
	m->ndkim = 1;
	m->dkim[0].result = MSGAUTH_DKIM_PERMERROR;
	(void)str_copy(m->dkim[0].reason, sizeof(m->dkim[0].reason),
	    "bad\r\nX-Injected: 1");
	buf_init(&b, MSGAUTH_PREPEND_MAX);
	assert_int_equal(lookup_msgauth_authres(m, "mx.example.org", &b), 0);
	check_lines(b.data);
	/* no CR or LF from a value, quotes and backslashes escaped */
	assert_null(strstr(b.data, "\r\nX-Injected"));
	assert_non_null(strstr(b.data, "reason=\"badX-Injected: 1\""));
	assert_non_null(strstr(b.data,
	    "smtp.mailfrom=\"\\\"a;b c\\\\\\\"\\\"@example.net\""));
	buf_free(&b);
	free(m);
}

static void
test_no_room(void **state)
{
	struct msgauth	*m = base();
	struct buf	 b;

	(void)state;
	buf_init(&b, 40);
	assert_int_equal(buf_append_str(&b, "X: y\r\n"), 0);
	assert_int_equal(lookup_msgauth_authres(m, "mx.example.org", &b), -1);
	/* out unchanged */
	assert_string_equal(b.data, "X: y\r\n");
	buf_free(&b);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_results),
		cmocka_unit_test(test_every_method),
		cmocka_unit_test(test_null_path_names_helo),
		cmocka_unit_test(test_hostile_values_quoted),
		cmocka_unit_test(test_no_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
