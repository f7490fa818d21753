/*
 * Unit tests for sasl: strict base64 and the PLAIN message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sasl.h"

static int
dec(const char *in, char *out, size_t *n)
{
	return sasl_b64_decode(span_str(in), (unsigned char *)out, n);
}

static void
test_b64_valid(void **state)
{
	char	out[64];
	size_t	n;

	assert_int_equal(dec("", out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dec("Zm9v", out, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(dec("Zm8=", out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "fo", 2);
	assert_int_equal(dec("Zg==", out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dec("AGFsaWNlAHNlY3JldA==", out, &n), 0);
	assert_int_equal(n, 13);
	assert_memory_equal(out, "\0alice\0secret", 13);
}

static void
test_b64_strict(void **state)
{
	const char	*bad[] = {
		"Zm9", "Zm9vY", "Zm=v", "Z===", "=Zm9", "Zm9v====", "Zm 9v",
		"Zm9v\n", "Zh==",	/* dropped bits not zero */
		"Zm9=",			/* dropped bits not zero */
		"Zm8=Zm8=",		/* padding in the middle */
		"Zm9v!A==",
	};
	char		out[64];
	size_t		i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dec(bad[i], out, &n), -1);
	/* a NUL in the middle of the input is refused, not a terminator */
	assert_int_equal(sasl_b64_decode(span_make("Zm\0v", 4),
	    (unsigned char *)out, &n), -1);
}

static void
test_plain(void **state)
{
	struct span	u, p;

	assert_int_equal(sasl_plain_parse("\0alice\0pw", 9, &u, &p),
	    SASL_PLAIN_OK);
	assert_true(span_eq(u, "alice") && span_eq(p, "pw"));
	assert_int_equal(sasl_plain_parse("alice\0alice\0pw", 14, &u, &p),
	    SASL_PLAIN_OK);
	assert_int_equal(sasl_plain_parse("bob\0alice\0pw", 12, &u, &p),
	    SASL_PLAIN_AUTHZID);
	assert_int_equal(sasl_plain_parse("alice", 5, &u, &p),
	    SASL_PLAIN_MALFORMED);
	assert_int_equal(sasl_plain_parse("\0alice", 6, &u, &p),
	    SASL_PLAIN_MALFORMED);
	assert_int_equal(sasl_plain_parse("\0\0pw", 4, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* empty user */
	assert_int_equal(sasl_plain_parse("\0alice\0", 7, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* empty password */
	assert_int_equal(sasl_plain_parse("\0alice\0p\0w", 10, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* NUL in password */
	assert_int_equal(sasl_plain_parse("\0al\x01ice\0pw", 10, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* control in user */
	assert_int_equal(sasl_plain_parse("\0al\xffice\0pw", 10, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* not UTF-8 */
}

static void
test_field_limits(void **state)
{
	char	buf[300];

	memset(buf, 'a', sizeof(buf));
	assert_true(sasl_user_valid(span_make(buf, SASL_FIELD_MAX)));
	assert_false(sasl_user_valid(span_make(buf, SASL_FIELD_MAX + 1)));
	assert_true(sasl_pass_valid(span_make(buf, SASL_FIELD_MAX)));
	assert_false(sasl_pass_valid(span_make(buf, SASL_FIELD_MAX + 1)));
	assert_false(sasl_user_valid(span_make(buf, 0)));
	assert_false(sasl_pass_valid(span_make(buf, 0)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_valid),
		cmocka_unit_test(test_b64_strict),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_field_limits),
	};

	return cmocka_run_group_tests_name("sasl", tests, NULL, NULL);
}
