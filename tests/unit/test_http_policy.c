/*
 * Unit tests for http_policy.c: the policy text byte for byte (RFC 8461
 * §3.2), its id (SHA-256 test vectors of FIPS 180-2, then: changes with
 * every change of the policy, never without one).  The DNS records that
 * name the policy are test_dnsrec.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_policy.h"

static struct conf *
parse(const char *text)
{
	struct conf	*c;
	char		 errs[1024];

	c = conf_parse("t.conf", text, strlen(text), errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	return c;
}

/* The text and id of the policy of a config's text. */
static void
policy_of(const char *conf_text, struct buf *b,
    char id[HTTP_POLICY_ID_LEN + 1])
{
	struct conf	*c = parse(conf_text);

	assert_true(c->sts_policy.set);
	assert_int_equal(http_policy_text(&c->sts_policy, b), 0);
	http_policy_id(b->data, b->len, id);
	conf_free(c);
}

#define L1	"hostname mx.example.org\nlisten https 127.0.0.1:443\n" \
		"domain example.org\n"

static void
test_policy_text(void **state)
{
	struct buf	b;
	char		id[HTTP_POLICY_ID_LEN + 1];

	(void)state;
	buf_init(&b, HTTP_POLICY_MAX);
	policy_of(L1 "mta-sts-policy enforce max-age 1d mx mx1.example.org "
	    "mx *.example.net\n", &b, id);
	assert_string_equal(b.data, "version: STSv1\r\nmode: enforce\r\n"
	    "mx: mx1.example.org\r\nmx: *.example.net\r\nmax_age: 86400\r\n");
	policy_of(L1 "mta-sts-policy none\n", &b, id);
	assert_string_equal(b.data, "version: STSv1\r\nmode: none\r\n"
	    "mx: mx.example.org\r\nmax_age: 604800\r\n");
	buf_free(&b);
}

static void
test_policy_too_large_for_buffer(void **state)
{
	struct buf	 b;
	struct conf	*c = parse(L1 "mta-sts-policy testing\n");

	(void)state;
	buf_init(&b, 20);
	assert_int_equal(http_policy_text(&c->sts_policy, &b), -1);
	buf_free(&b);
	conf_free(c);
}

static void
test_id_vectors(void **state)
{
	char	id[HTTP_POLICY_ID_LEN + 1];

	(void)state;
	/* SHA-256("") and SHA-256("abc"), their first 20 hex digits. */
	http_policy_id("", 0, id);
	assert_string_equal(id, "e3b0c44298fc1c149afb");
	http_policy_id("abc", 3, id);
	assert_string_equal(id, "ba7816bf8f01cfea4141");
}

static void
test_id_follows_the_policy(void **state)
{
	static const char *const variants[] = {
		L1 "mta-sts-policy enforce\n",
		L1 "mta-sts-policy testing\n",
		L1 "mta-sts-policy none\n",
		L1 "mta-sts-policy enforce max-age 604801\n",
		L1 "mta-sts-policy enforce mx mx.example.org mx b.example\n",
		L1 "mta-sts-policy enforce mx b.example mx mx.example.org\n",
		L1 "mta-sts-policy enforce mx *.example.org\n",
	};
	char		ids[7][HTTP_POLICY_ID_LEN + 1];
	char		again[HTTP_POLICY_ID_LEN + 1];
	struct buf	b;
	size_t		i, j;

	(void)state;
	_Static_assert(sizeof(variants) / sizeof(variants[0]) == 7, "ids");
	buf_init(&b, HTTP_POLICY_MAX);
	for (i = 0; i < 7; i++) {
		policy_of(variants[i], &b, ids[i]);
		assert_int_equal(strlen(ids[i]), HTTP_POLICY_ID_LEN);
		/* RFC 8461 §3.1: 1*32(ALPHA / DIGIT). */
		assert_int_equal(strspn(ids[i], "0123456789abcdef"),
		    HTTP_POLICY_ID_LEN);
		for (j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	/* The same policy written another way: the same id. */
	policy_of(L1 "mta-sts-policy enforce max-age 7d mx MX.example.ORG\n",
	    &b, again);
	assert_string_equal(again, ids[0]);
	buf_free(&b);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_text),
		cmocka_unit_test(test_policy_too_large_for_buffer),
		cmocka_unit_test(test_id_vectors),
		cmocka_unit_test(test_id_follows_the_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
