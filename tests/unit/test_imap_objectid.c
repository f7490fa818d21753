/*
 * Unit tests for imap_objectid: an EMAILID is "M" and 24 hex digits,
 * the same for every flag suffix of one Maildir base name (a STORE or
 * MOVE keeps it), different for different names, and a copy's ",E="
 * field's when it is well-formed.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imap/imap_objectid.h"

static void
test_emailid(void **state)
{
	char	a[IMAP_OBJECTID_EMAIL_LEN + 1], b[IMAP_OBJECTID_EMAIL_LEN + 1];
	size_t	i;

	(void)state;
	imap_objectid_email("1700000000.M1P2Q3.host,S=10,W=11:2,S", a);
	assert_int_equal(strlen(a), IMAP_OBJECTID_EMAIL_LEN);
	assert_int_equal(a[0], 'M');
	for (i = 1; i < IMAP_OBJECTID_EMAIL_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	imap_objectid_email("1700000000.M1P2Q3.host,S=10,W=11:2,FRS", b);
	assert_string_equal(a, b);
	imap_objectid_email("1700000000.M1P2Q3.host,S=10,W=11", b);
	assert_string_equal(a, b);
	imap_objectid_email("1700000000.M1P2Q4.host,S=10,W=11:2,S", b);
	assert_string_not_equal(a, b);
	/* SHA-256("x")'s first 12 octets: a fixed answer, not a mirror */
	imap_objectid_email("x", b);
	assert_string_equal(b, "M2d711642b726b04401627ca9");
	/* a copy carries the id of what it copied */
	imap_objectid_email("17.M2P3Q4.host,S=10,W=11,E=0123456789abcdef01234567"
	    ":2,S", b);
	assert_string_equal(b, "M0123456789abcdef01234567");
	imap_objectid_email("17.M2P3Q4.host,E=0123456789abcdef01234567,S=10",
	    b);
	assert_string_equal(b, "M0123456789abcdef01234567");
	/* not 24 lower-case hex digits: the name's hash */
	imap_objectid_email("17.M2P3Q4.host,E=0123456789ABCDEF01234567", a);
	assert_string_not_equal(a, "M0123456789ABCDEF01234567");
	assert_int_equal(strlen(a), IMAP_OBJECTID_EMAIL_LEN);
	imap_objectid_email("17.M2P3Q4.host,E=0123456789abcdef012345678", b);
	assert_string_not_equal(b, "M0123456789abcdef01234567");
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emailid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
