/*
 * Unit tests for queue_dedupe.c: the keys name one destination however
 * it is spelt (a mailbox whatever the tag, a remote domain in any case)
 * and keep apart what differs (a remote local part's case, local from
 * remote); the table finds what was put, the last put wins, it holds
 * QUEUE_DEDUPE_MAX keys and refuses the next one without losing any.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_dedupe.h"

static void
test_key_local_is_the_mailbox(void **state)
{
	char	*k = queue_dedupe_key_local("example.org/alice");

	(void)state;
	assert_non_null(k);
	assert_string_equal(k, "Lexample.org/alice");
	free(k);
	k = queue_dedupe_key_local("example.org/alice/mbox");
	assert_string_equal(k, "Lexample.org/alice/mbox");
	free(k);
	assert_null(queue_dedupe_key_local(""));
}

static void
test_key_remote_lowers_the_domain_only(void **state)
{
	char	*a, *b, *c;

	(void)state;
	a = queue_dedupe_key_remote("Bob@Example.NET");
	b = queue_dedupe_key_remote("Bob@example.net");
	c = queue_dedupe_key_remote("bob@example.net");
	assert_string_equal(a, "RBob@example.net");
	assert_string_equal(a, b);
	/* RFC 5321 §2.4: the local part is the remote host's to compare */
	assert_string_not_equal(b, c);
	free(a);
	free(b);
	free(c);
	/* the last '@' starts the domain (a quoted local part may hold one) */
	a = queue_dedupe_key_remote("\"a@B\"@X.example");
	assert_string_equal(a, "R\"a@B\"@x.example");
	free(a);
}

static void
test_key_addr_lowers_everything(void **state)
{
	char	*k = queue_dedupe_key_addr("Alice+Tag@Example.ORG");

	(void)state;
	assert_string_equal(k, "Aalice+tag@example.org");
	free(k);
}

static void
test_key_refuses_what_is_no_address(void **state)
{
	char	long_addr[QUEUE_DEDUPE_KEY_MAX + 10];

	(void)state;
	assert_null(queue_dedupe_key_remote("no-at-sign"));
	assert_null(queue_dedupe_key_remote("@example.net"));
	assert_null(queue_dedupe_key_remote("bob@"));
	assert_null(queue_dedupe_key_remote(""));
	assert_null(queue_dedupe_key_addr("bob@"));
	memset(long_addr, 'a', sizeof(long_addr) - 1);
	long_addr[sizeof(long_addr) - 1] = '\0';
	long_addr[20] = '@';
	assert_null(queue_dedupe_key_remote(long_addr));
	assert_null(queue_dedupe_key_local(long_addr));
}

static void
test_kinds_never_meet(void **state)
{
	char	*l = queue_dedupe_key_local("x@y");
	char	*r = queue_dedupe_key_remote("x@y");
	char	*a = queue_dedupe_key_addr("x@y");

	(void)state;
	assert_string_not_equal(l, r);
	assert_string_not_equal(r, a);
	assert_string_not_equal(l, a);
	free(l);
	free(r);
	free(a);
}

static void
test_put_get_and_replace(void **state)
{
	struct queue_dedupe	*d = queue_dedupe_new();
	uint32_t		 idx = 99;

	(void)state;
	assert_false(queue_dedupe_get(d, "Lexample.org/alice", &idx));
	assert_int_equal(idx, 99);
	assert_int_equal(queue_dedupe_put(d, "Lexample.org/alice", 3), 0);
	assert_int_equal(queue_dedupe_put(d, "Rbob@example.net", 5), 0);
	assert_true(queue_dedupe_get(d, "Lexample.org/alice", &idx));
	assert_int_equal(idx, 3);
	assert_true(queue_dedupe_get(d, "Rbob@example.net", &idx));
	assert_int_equal(idx, 5);
	assert_false(queue_dedupe_get(d, "Lexample.org/bob", &idx));
	/* the last holder wins (a recipient that failed, then another) */
	assert_int_equal(queue_dedupe_put(d, "Lexample.org/alice", 7), 0);
	assert_true(queue_dedupe_get(d, "Lexample.org/alice", &idx));
	assert_int_equal(idx, 7);
	assert_int_equal(queue_dedupe_count(d), 2);
	assert_false(queue_dedupe_get(d, "", &idx));
	queue_dedupe_free(d);
	queue_dedupe_free(NULL);
}

static void
test_put_refuses_bad_keys(void **state)
{
	struct queue_dedupe	*d = queue_dedupe_new();
	char			 big[QUEUE_DEDUPE_KEY_MAX + 2];

	(void)state;
	errno = 0;
	assert_int_equal(queue_dedupe_put(d, "", 1), -1);
	assert_int_equal(errno, EINVAL);
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	errno = 0;
	assert_int_equal(queue_dedupe_put(d, big, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_dedupe_count(d), 0);
	queue_dedupe_free(d);
}

/*
 * Full to the bound, by several seeds (one fixed, so that a failure can
 * be run again): every key is found with its index, the next new key is
 * refused with ENOSPC, and a key held can still change hands.
 */
static void
test_bound_holds_and_loses_nothing(void **state)
{
	struct queue_dedupe	*d;
	uint64_t		 seeds[] = { 0, 0x9e3779b97f4a7c15ULL, 1 };
	char			 key[64];
	uint32_t		 idx, i;
	size_t			 s;

	(void)state;
	for (s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		d = queue_dedupe_new_seeded(seeds[s]);
		for (i = 0; i < QUEUE_DEDUPE_MAX; i++) {
			(void)snprintf(key, sizeof(key), "Lexample.org/u%u", i);
			assert_int_equal(queue_dedupe_put(d, key, i), 0);
		}
		assert_int_equal(queue_dedupe_count(d), QUEUE_DEDUPE_MAX);
		for (i = 0; i < QUEUE_DEDUPE_MAX; i++) {
			(void)snprintf(key, sizeof(key), "Lexample.org/u%u", i);
			assert_true(queue_dedupe_get(d, key, &idx));
			assert_int_equal(idx, i);
		}
		errno = 0;
		assert_int_equal(queue_dedupe_put(d, "Rone@too.many", 1), -1);
		assert_int_equal(errno, ENOSPC);
		assert_false(queue_dedupe_get(d, "Rone@too.many", &idx));
		assert_int_equal(queue_dedupe_put(d, "Lexample.org/u17", 4242),
		    0);
		assert_true(queue_dedupe_get(d, "Lexample.org/u17", &idx));
		assert_int_equal(idx, 4242);
		assert_int_equal(queue_dedupe_count(d), QUEUE_DEDUPE_MAX);
		queue_dedupe_free(d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_local_is_the_mailbox),
		cmocka_unit_test(test_key_remote_lowers_the_domain_only),
		cmocka_unit_test(test_key_addr_lowers_everything),
		cmocka_unit_test(test_key_refuses_what_is_no_address),
		cmocka_unit_test(test_kinds_never_meet),
		cmocka_unit_test(test_put_get_and_replace),
		cmocka_unit_test(test_put_refuses_bad_keys),
		cmocka_unit_test(test_bound_holds_and_loses_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
