/*
 * Unit tests for authres: the authserv-id of Authentication-Results
 * fields (RFC 8601 §2.2) in every shape a client may send, and the
 * "is it ours" decision the smtp role removes fields on (§5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authres.h"

#define HOST	"mx.example.org"

static bool
ours(const char *field)
{
	return authres_is_ours(span_make(field, strlen(field)), HOST);
}

static void
test_ours_plain(void **state)
{
	(void)state;
	assert_true(ours("Authentication-Results: mx.example.org; "
	    "spf=pass smtp.mailfrom=a@b.example\r\n"));
	assert_true(ours("Authentication-Results: mx.example.org;"
	    " none\r\n"));
	/* the id alone, to the end of the field */
	assert_true(ours("Authentication-Results: mx.example.org"));
}

static void
test_ours_any_case(void **state)
{
	(void)state;
	assert_true(ours("authentication-results: MX.Example.ORG; none\r\n"));
	assert_true(ours("AUTHENTICATION-RESULTS:mx.example.org;none\r\n"));
	/* obsolete WSP before the colon (RFC 5322 §4.5.3) */
	assert_true(ours("Authentication-Results \t: mx.example.org; "
	    "none\r\n"));
}

static void
test_ours_comments_and_folding(void **state)
{
	(void)state;
	assert_true(ours("Authentication-Results: (forged (nested) \\) "
	    "comment) mx.example.org; none\r\n"));
	assert_true(ours("Authentication-Results:\r\n\tmx.example.org;\r\n"
	    "\tdkim=pass header.d=example.org\r\n"));
	assert_true(ours("Authentication-Results: (a)\r\n (b) "
	    "mx.example.org (c); none\r\n"));
	/* a version after the id (§2.2 authserv-id [ CFWS authres-version ]) */
	assert_true(ours("Authentication-Results: mx.example.org 1; none\r\n"));
	/* quoted-string, with a quoted-pair in it */
	assert_true(ours("Authentication-Results: \"mx.example.org\"; "
	    "none\r\n"));
	assert_true(ours("Authentication-Results: \"mx.exa\\mple.org\"; "
	    "none\r\n"));
}

static void
test_not_ours(void **state)
{
	(void)state;
	assert_false(ours("Authentication-Results: mx.example.net; none\r\n"));
	assert_false(ours("Authentication-Results: mx.example.org.evil; "
	    "none\r\n"));
	assert_false(ours("Authentication-Results: example.org; none\r\n"));
	assert_false(ours("Authentication-Results: x.mx.example.org; "
	    "none\r\n"));
	/* our name only in a comment, or later in the value */
	assert_false(ours("Authentication-Results: (mx.example.org) other; "
	    "none\r\n"));
	assert_false(ours("Authentication-Results: other; spf=pass "
	    "smtp.helo=mx.example.org\r\n"));
	/* other fields with our name */
	assert_false(ours("ARC-Authentication-Results: i=1; mx.example.org; "
	    "none\r\n"));
	assert_false(ours("Authentication-Results-Old: mx.example.org; "
	    "none\r\n"));
	assert_false(ours("X-Authentication-Results: mx.example.org\r\n"));
	assert_false(ours("Received: from mx.example.org\r\n"));
}

static void
test_malformed(void **state)
{
	(void)state;
	/* no id, an unclosed comment or quote: not ours, never a crash */
	assert_false(ours("Authentication-Results: ; none\r\n"));
	assert_false(ours("Authentication-Results: (mx.example.org\r\n"));
	assert_false(ours("Authentication-Results: \"mx.example.org\r\n"));
	assert_false(ours("Authentication-Results:"));
	assert_false(ours("Authentication-Results"));
	assert_false(ours(""));
}

static void
test_prefix(void **state)
{
	struct span	id;
	bool		quoted;
	const char	*v = " mx.example.org; none";

	(void)state;
	/* a prefix that stops inside the id is not complete */
	assert_int_equal(authres_authserv_id(span_make(v, 8), false, &id,
	    &quoted), 0);
	assert_int_equal(authres_authserv_id(span_make(v, 8), true, &id,
	    &quoted), 1);
	assert_int_equal(id.len, 7);
	assert_int_equal(authres_authserv_id(span_make(v, strlen(v)), false,
	    &id, &quoted), 1);
	assert_int_equal(id.len, strlen(HOST));
	assert_memory_equal(id.ptr, HOST, id.len);
	assert_false(quoted);
	assert_int_equal(authres_authserv_id(span_make(" (open", 6), true,
	    &id, &quoted), 0);
	assert_int_equal(authres_authserv_id(span_make(" ;", 2), true,
	    &id, &quoted), -1);
}

static void
test_deep_comments(void **state)
{
	char	f[600];
	size_t	i, o;

	(void)state;
	o = (size_t)snprintf(f, sizeof(f), "Authentication-Results: ");
	for (i = 0; i < 200; i++)
		f[o++] = '(';
	for (i = 0; i < 200; i++)
		f[o++] = ')';
	(void)snprintf(f + o, sizeof(f) - o, " %s; none\r\n", HOST);
	/* nesting past the bound is refused, not followed */
	assert_false(ours(f));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ours_plain),
		cmocka_unit_test(test_ours_any_case),
		cmocka_unit_test(test_ours_comments_and_folding),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_deep_comments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
