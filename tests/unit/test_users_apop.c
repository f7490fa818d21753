/*
 * Unit tests for the APOP part of users.c (users_user_set_apop() and
 * users_check_apop()), kept apart from test_users.c: the RFC 1939 §7
 * example (timestamp <1896.697170952@dbc.mtview.ca.us>, secret
 * "tanstaaf", digest c4c9334bac560ecc979e58001b3e22fb), wrong digests,
 * users without a secret, malformed arguments.  Each test gets a fresh
 * database in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "users.h"

#define RFC_STAMP	"<1896.697170952@dbc.mtview.ca.us>"
#define RFC_SECRET	"tanstaaf"
#define RFC_DIGEST	"c4c9334bac560ecc979e58001b3e22fb"
#define ALICE		"alice@example.org"

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct users	*u;
};

static int
setup(void **state)
{
	struct fixture	*f;
	const char	*err = NULL;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_users_apop.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/users.db", f->dir);
	f->u = users_open(f->path, true, &err);
	if (f->u == NULL)
		fail_msg("users_open: %s", err);
	assert_int_equal(users_domain_add(f->u, "example.org", &err), 0);
	assert_int_equal(users_user_add(f->u, ALICE, "password", &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	static const char *const suffixes[] = { "", "-wal", "-shm",
	    "-journal" };
	char		 p[160];
	size_t		 i;

	users_close(f->u);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
set_secret(struct fixture *f, const char *addr, const char *secret)
{
	const char	*err = NULL;

	if (users_user_set_apop(f->u, addr, secret, &err) == -1)
		fail_msg("users_user_set_apop: %s", err);
}

static void
test_rfc1939_example_accepted(void **state)
{
	struct fixture	*f = *state;

	set_secret(f, ALICE, RFC_SECRET);
	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP, RFC_DIGEST),
	    USERS_AUTH_OK);
}

static void
test_address_case_insensitive(void **state)
{
	struct fixture	*f = *state;

	set_secret(f, "ALICE@Example.ORG", RFC_SECRET);
	assert_int_equal(users_check_apop(f->u, "Alice@EXAMPLE.org",
	    RFC_STAMP, RFC_DIGEST), USERS_AUTH_OK);
}

static void
test_wrong_digest_refused(void **state)
{
	struct fixture	*f = *state;

	set_secret(f, ALICE, RFC_SECRET);
	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP,
	    "c4c9334bac560ecc979e58001b3e22fc"), USERS_AUTH_FAIL);
}

static void
test_other_timestamp_refused(void **state)
{
	struct fixture	*f = *state;

	/* A digest replayed under another greeting is worthless. */
	set_secret(f, ALICE, RFC_SECRET);
	assert_int_equal(users_check_apop(f->u, ALICE,
	    "<1897.697170952@dbc.mtview.ca.us>", RFC_DIGEST),
	    USERS_AUTH_FAIL);
}

static void
test_password_is_not_the_secret(void **state)
{
	struct fixture	*f = *state;

	/* MD5(RFC_STAMP "password") */
	set_secret(f, ALICE, RFC_SECRET);
	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP,
	    "c8d5c1212c6646b317e1c957fa15cf9a"), USERS_AUTH_FAIL);
}

static void
test_off_until_set(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP, RFC_DIGEST),
	    USERS_AUTH_FAIL);
}

static void
test_noapop_turns_it_off(void **state)
{
	struct fixture	*f = *state;

	set_secret(f, ALICE, RFC_SECRET);
	set_secret(f, ALICE, NULL);
	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP, RFC_DIGEST),
	    USERS_AUTH_FAIL);
}

static void
test_unknown_user_refused(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(users_check_apop(f->u, "bob@example.org", RFC_STAMP,
	    RFC_DIGEST), USERS_AUTH_FAIL);
	assert_int_equal(users_check_apop(f->u, "not an address", RFC_STAMP,
	    RFC_DIGEST), USERS_AUTH_FAIL);
}

static void
test_malformed_digest_refused(void **state)
{
	struct fixture	*f = *state;

	set_secret(f, ALICE, RFC_SECRET);
	/* upper case, short, long, not hex */
	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP,
	    "C4C9334BAC560ECC979E58001B3E22FB"), USERS_AUTH_FAIL);
	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP,
	    "c4c9334bac560ecc979e58001b3e22f"), USERS_AUTH_FAIL);
	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP,
	    RFC_DIGEST "0"), USERS_AUTH_FAIL);
	assert_int_equal(users_check_apop(f->u, ALICE, RFC_STAMP,
	    "g4c9334bac560ecc979e58001b3e22fb"), USERS_AUTH_FAIL);
	assert_int_equal(users_check_apop(f->u, ALICE, "", RFC_DIGEST),
	    USERS_AUTH_FAIL);
}

static void
test_set_for_unknown_user_fails(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;

	assert_int_equal(users_user_set_apop(f->u, "bob@example.org",
	    RFC_SECRET, &err), -1);
	assert_string_equal(err, "no such user");
}

static void
test_set_empty_or_long_secret_fails(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;
	char		 big[USERS_PASSWORD_MAX + 2];

	assert_int_equal(users_user_set_apop(f->u, ALICE, "", &err), -1);
	memset(big, 's', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(users_user_set_apop(f->u, ALICE, big, &err), -1);
	big[USERS_PASSWORD_MAX] = '\0';
	assert_int_equal(users_user_set_apop(f->u, ALICE, big, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rfc1939_example_accepted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_address_case_insensitive,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_digest_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_timestamp_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_is_not_the_secret,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_off_until_set, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_noapop_turns_it_off,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_user_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_digest_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_for_unknown_user_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_set_empty_or_long_secret_fails, setup, teardown),
	};

	return cmocka_run_group_tests_name("users_apop", tests, NULL, NULL);
}
