/*
 * Unit tests for the pure decision of lookup_sts.c (when to fetch an
 * MTA-STS policy, RFC 8461 §3.3, §5.1) and for the mta's Content-Type
 * check of a fetched policy (mta_sts.c, §3.2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lookup/lookup_sts.h"
#include "mta/mta_sts.h"

#define NOW	1700000000ULL
#define DAY	86400ULL

static void
test_decide(void **state)
{
	(void)state;
	/* nothing cached: a TXT record means fetch, none means none */
	assert_int_equal(lookup_sts_decide(0, 0, "", "abc", NOW),
	    LOOKUP_STS_FETCH);
	assert_int_equal(lookup_sts_decide(0, 0, "", NULL, NOW),
	    LOOKUP_STS_NONE);
	/* cached, same id, young: use it */
	assert_int_equal(lookup_sts_decide(NOW - 10, NOW + 7 * DAY, "abc",
	    "abc", NOW), LOOKUP_STS_CACHED);
	/* the id changed: fetch (§3.3) */
	assert_int_equal(lookup_sts_decide(NOW - 10, NOW + 7 * DAY, "abc",
	    "abd", NOW), LOOKUP_STS_FETCH);
	/* the TXT record went: the cached policy holds until it expires */
	assert_int_equal(lookup_sts_decide(NOW - 10, NOW + 7 * DAY, "abc",
	    NULL, NOW), LOOKUP_STS_CACHED);
	/* expired: as if nothing were cached */
	assert_int_equal(lookup_sts_decide(NOW - 100, NOW, "abc", NULL, NOW),
	    LOOKUP_STS_NONE);
	assert_int_equal(lookup_sts_decide(NOW - 100, NOW, "abc", "abc",
	    NOW), LOOKUP_STS_FETCH);
	/* past the middle of its life: refresh */
	assert_int_equal(lookup_sts_decide(NOW - 600, NOW + 400, "abc",
	    "abc", NOW), LOOKUP_STS_FETCH);
	assert_int_equal(lookup_sts_decide(NOW - 400, NOW + 600, "abc",
	    "abc", NOW), LOOKUP_STS_CACHED);
	/* a year's policy is refreshed daily */
	assert_int_equal(lookup_sts_decide(NOW - DAY, NOW + 364 * DAY, "abc",
	    "abc", NOW), LOOKUP_STS_FETCH);
	assert_int_equal(lookup_sts_decide(NOW - DAY + 1, NOW + 364 * DAY,
	    "abc", "abc", NOW), LOOKUP_STS_CACHED);
}

static void
test_content_type(void **state)
{
	(void)state;
	assert_true(mta_sts_content_type_ok("text/plain"));
	assert_true(mta_sts_content_type_ok("Text/Plain; charset=utf-8"));
	assert_true(mta_sts_content_type_ok(" text/plain ;charset=us-ascii"));
	assert_false(mta_sts_content_type_ok(NULL));
	assert_false(mta_sts_content_type_ok(""));
	assert_false(mta_sts_content_type_ok("text/html"));
	assert_false(mta_sts_content_type_ok("text/plainx"));
	assert_false(mta_sts_content_type_ok("application/octet-stream"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
