/*
 * Unit tests for greylisting's core (lookup_greylist.c, RFC 6647): the
 * network key, and the decision on an in-memory SQLite database with the
 * clock given by the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lookup/lookup_greylist.h"

#define NOW	1700000000ULL
#define DELAY	300ULL
#define WINDOW	(2 * 86400ULL)
#define WLIST	(35 * 86400ULL)

static const struct lookup_greylist_policy pol = {
	.delay = DELAY, .window = WINDOW, .whitelist = WLIST,
	.rows_max = 1000,
};

static struct lookup_greylist *
open_mem(const struct lookup_greylist_policy *p)
{
	struct lookup_greylist	*g;
	sqlite3			*db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	g = lookup_greylist_core(db, p);
	assert_non_null(g);
	return g;
}

/* decide, checking the wait it reports */
static void
expect(struct lookup_greylist *g, const char *net, const char *from,
    const char *to, uint32_t flags, uint64_t now,
    enum lookup_greylist_result want, uint64_t wait)
{
	uint64_t	w = 12345;

	assert_int_equal(lookup_greylist_decide(g, net, from, to, flags, now,
	    &w), want);
	assert_int_equal(w, wait);
}

static void
test_net(void **state)
{
	char	out[LOOKUP_GREYLIST_NET_MAX], small[8];

	(void)state;
	assert_int_equal(lookup_greylist_net("192.0.2.77", out, sizeof(out)),
	    0);
	assert_string_equal(out, "192.0.2.0/24");
	assert_int_equal(lookup_greylist_net("127.0.0.1", out, sizeof(out)),
	    0);
	assert_string_equal(out, "127.0.0.0/24");
	assert_int_equal(lookup_greylist_net("2001:db8:1:2:3:4:5:6", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "2001:db8:1:2::/64");
	assert_int_equal(lookup_greylist_net("::1", out, sizeof(out)), 0);
	assert_string_equal(out, "::/64");
	assert_int_equal(lookup_greylist_net("::ffff:198.51.100.9", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "198.51.100.0/24");
	assert_int_equal(lookup_greylist_net("ffff:ffff:ffff:ffff:ffff:ffff:"
	    "ffff:ffff", out, sizeof(out)), 0);
	assert_string_equal(out, "ffff:ffff:ffff:ffff::/64");
	assert_int_equal(lookup_greylist_net("", out, sizeof(out)), -1);
	assert_int_equal(lookup_greylist_net("192.0.2", out, sizeof(out)), -1);
	assert_int_equal(lookup_greylist_net("192.0.2.0/24", out,
	    sizeof(out)), -1);
	assert_int_equal(lookup_greylist_net("mx.example.org", out,
	    sizeof(out)), -1);
	assert_int_equal(lookup_greylist_net("192.0.2.1", small,
	    sizeof(small)), -1);
}

/* The transcript of the issue: new, too early, after the delay, known. */
static void
test_first_early_retry_known(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);
	uint64_t		 t, k;

	(void)state;
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    NOW + 100, LOOKUP_GREYLIST_EARLY, DELAY - 100);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    NOW + DELAY - 1, LOOKUP_GREYLIST_EARLY, 1);
	assert_int_equal(lookup_greylist_count(g, &t, &k), 0);
	assert_int_equal(t, 1);
	assert_int_equal(k, 0);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    NOW + DELAY, LOOKUP_GREYLIST_RETRIED, 0);
	/* the network and the domain are whitelisted, the triplet gone */
	assert_int_equal(lookup_greylist_count(g, &t, &k), 0);
	assert_int_equal(t, 0);
	assert_int_equal(k, 2);
	/* the next message from that network passes at once, any triplet */
	expect(g, "192.0.2.0/24", "x@other.example", "c@example.org", 0,
	    NOW + DELAY + 1, LOOKUP_GREYLIST_CLIENT, 0);
	expect(g, "192.0.2.0/24", "", "d@example.org", 0, NOW + DELAY + 2,
	    LOOKUP_GREYLIST_CLIENT, 0);
	/* another network is not */
	expect(g, "198.51.100.0/24", "x@other.example", "c@example.org", 0,
	    NOW + DELAY + 3, LOOKUP_GREYLIST_NEW, DELAY);
	lookup_greylist_free(g);
}

/* Sender and recipient are compared lower-cased. */
static void
test_case_insensitive(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);

	(void)state;
	expect(g, "192.0.2.0/24", "A@Example.NET", "B@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "b@EXAMPLE.ORG", 0,
	    NOW + DELAY, LOOKUP_GREYLIST_RETRIED, 0);
	lookup_greylist_free(g);
}

/* Each part of the triplet counts. */
static void
test_triplet_parts(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);

	(void)state;
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "c@example.org", 0,
	    NOW + DELAY, LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "z@example.net", "b@example.org", 0,
	    NOW + DELAY, LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.3.0/24", "a@example.net", "b@example.org", 0,
	    NOW + DELAY, LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "", "b@example.org", 0, NOW + DELAY,
	    LOOKUP_GREYLIST_NEW, DELAY);
	lookup_greylist_free(g);
}

/* A retry after the window starts over (§2.2). */
static void
test_window_starts_over(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);
	uint64_t		 late = NOW + WINDOW + 1;

	(void)state;
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, late,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    late + 10, LOOKUP_GREYLIST_EARLY, DELAY - 10);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    late + DELAY, LOOKUP_GREYLIST_RETRIED, 0);
	lookup_greylist_free(g);
}

/* A clock that went back is a new first attempt, not a pass. */
static void
test_clock_back(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);

	(void)state;
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    NOW - 1000, LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    NOW - 1000 + DELAY, LOOKUP_GREYLIST_RETRIED, 0);
	lookup_greylist_free(g);
}

/*
 * An SPF-pass sender of a domain that got past before passes from any
 * network; without SPF pass, or from the null path, it does not.
 */
static void
test_spf_pass_domain(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);

	(void)state;
	expect(g, "192.0.2.0/24", "a@Example.NET", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    NOW + DELAY, LOOKUP_GREYLIST_RETRIED, 0);
	expect(g, "203.0.113.0/24", "other@example.net", "c@example.org", 0,
	    NOW + DELAY + 1, LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "203.0.113.0/24", "other@EXAMPLE.net", "c@example.org",
	    GREYLIST_F_SPF_PASS, NOW + DELAY + 2, LOOKUP_GREYLIST_DOMAIN, 0);
	expect(g, "2001:db8::/64", "a@example.com", "c@example.org",
	    GREYLIST_F_SPF_PASS, NOW + DELAY + 3, LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "2001:db8::/64", "", "c@example.org", GREYLIST_F_SPF_PASS,
	    NOW + DELAY + 4, LOOKUP_GREYLIST_NEW, DELAY);
	lookup_greylist_free(g);
}

/* The whitelist lasts whitelist seconds after the network was last seen. */
static void
test_whitelist_expires(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);
	uint64_t		 t = NOW + DELAY;

	(void)state;
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, t,
	    LOOKUP_GREYLIST_RETRIED, 0);
	/* seen again within the period: it lasts from then */
	t += WLIST;
	expect(g, "192.0.2.0/24", "a@example.net", "c@example.org", 0, t,
	    LOOKUP_GREYLIST_CLIENT, 0);
	t += WLIST;
	expect(g, "192.0.2.0/24", "a@example.net", "d@example.org", 0, t,
	    LOOKUP_GREYLIST_CLIENT, 0);
	/* not seen for longer: greylisted again */
	t += WLIST + 1;
	expect(g, "192.0.2.0/24", "a@example.net", "e@example.org", 0, t,
	    LOOKUP_GREYLIST_NEW, DELAY);
	lookup_greylist_free(g);
}

/* The sweep deletes what expired and keeps each table bounded. */
static void
test_sweep_expiry_and_bound(void **state)
{
	struct lookup_greylist_policy	 small = pol;
	struct lookup_greylist		*g;
	char				 rcpt[32];
	uint64_t			 t, k;
	int				 i;

	(void)state;
	small.rows_max = 3;
	g = open_mem(&small);
	for (i = 0; i < 5; i++) {
		(void)snprintf(rcpt, sizeof(rcpt), "r%d@example.org", i);
		expect(g, "192.0.2.0/24", "a@example.net", rcpt, 0, NOW + i,
		    LOOKUP_GREYLIST_NEW, DELAY);
	}
	assert_int_equal(lookup_greylist_count(g, &t, &k), 0);
	assert_int_equal(t, 5);
	assert_int_equal(lookup_greylist_sweep(g, NOW + 10), 0);
	assert_int_equal(lookup_greylist_count(g, &t, &k), 0);
	assert_int_equal(t, 3);
	/* the oldest went, the newest stayed */
	expect(g, "192.0.2.0/24", "a@example.net", "r0@example.org", 0,
	    NOW + DELAY + 10, LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "r4@example.org", 0,
	    NOW + DELAY + 10, LOOKUP_GREYLIST_RETRIED, 0);
	assert_int_equal(lookup_greylist_count(g, &t, &k), 0);
	assert_int_equal(k, 2);
	/* past the window every waiting triplet expires ... */
	assert_int_equal(lookup_greylist_sweep(g, NOW + DELAY + 10 + WINDOW +
	    1), 0);
	assert_int_equal(lookup_greylist_count(g, &t, &k), 0);
	assert_int_equal(t, 0);
	assert_int_equal(k, 2);
	/* ... and past the whitelist period the whitelist does */
	assert_int_equal(lookup_greylist_sweep(g, NOW + DELAY + 10 + WLIST +
	    1), 0);
	assert_int_equal(lookup_greylist_count(g, &t, &k), 0);
	assert_int_equal(k, 0);
	lookup_greylist_free(g);
}

/* The sweep also runs by itself, once its interval has passed. */
static void
test_sweep_runs_by_itself(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);
	uint64_t		 t, k, later = NOW + WINDOW + 1 +
				    LOOKUP_GREYLIST_SWEEP;

	(void)state;
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "192.0.2.0/24", "a@example.net", "c@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	expect(g, "198.51.100.0/24", "a@example.net", "b@example.org", 0,
	    later, LOOKUP_GREYLIST_NEW, DELAY);
	assert_int_equal(lookup_greylist_count(g, &t, &k), 0);
	assert_int_equal(t, 1);
	lookup_greylist_free(g);
}

/* State is on disk: a new process (a restart, a kill -9) knows it. */
static void
test_survives_reopen(void **state)
{
	struct lookup_greylist	*g;
	sqlite3			*db;
	char			 path[] = "/tmp/test_greylist_XXXXXX";
	char			 wal[64], shm[64];
	int			 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	(void)close(fd);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL,
	    NULL, NULL), SQLITE_OK);
	assert_non_null(g = lookup_greylist_core(db, &pol));
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	lookup_greylist_free(g);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_non_null(g = lookup_greylist_core(db, &pol));
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0,
	    NOW + DELAY, LOOKUP_GREYLIST_RETRIED, 0);
	lookup_greylist_free(g);
	/* a database that cannot be written: everything passes */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_non_null(g = lookup_greylist_core(db, &pol));
	expect(g, "203.0.113.0/24", "a@example.net", "b@example.org", 0,
	    NOW + DELAY, LOOKUP_GREYLIST_ERROR, 0);
	lookup_greylist_free(g);
	(void)snprintf(wal, sizeof(wal), "%s-wal", path);
	(void)snprintf(shm, sizeof(shm), "%s-shm", path);
	(void)unlink(wal);
	(void)unlink(shm);
	assert_int_equal(unlink(path), 0);
}

/* Without a database every triplet passes: greylisting never loses mail. */
static void
test_no_database_passes(void **state)
{
	struct lookup_greylist	*g;
	uint64_t		 t, k;

	(void)state;
	assert_non_null(g = lookup_greylist_core(NULL, &pol));
	expect(g, "192.0.2.0/24", "a@example.net", "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_ERROR, 0);
	assert_int_equal(lookup_greylist_sweep(g, NOW), -1);
	assert_int_equal(lookup_greylist_count(g, &t, &k), -1);
	lookup_greylist_free(g);
	lookup_greylist_free(NULL);
}

/* An address longer than any request can carry: an error, so a pass. */
static void
test_long_address_passes(void **state)
{
	struct lookup_greylist	*g = open_mem(&pol);
	char			 longer[600];

	(void)state;
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	expect(g, "192.0.2.0/24", longer, "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_ERROR, 0);
	expect(g, "192.0.2.0/24", "a@example.net", longer, 0, NOW,
	    LOOKUP_GREYLIST_ERROR, 0);
	/* the longest that fits is keyed as any other */
	longer[511] = '\0';
	expect(g, "192.0.2.0/24", longer, "b@example.org", 0, NOW,
	    LOOKUP_GREYLIST_NEW, DELAY);
	lookup_greylist_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_first_early_retry_known),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_triplet_parts),
		cmocka_unit_test(test_window_starts_over),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_spf_pass_domain),
		cmocka_unit_test(test_whitelist_expires),
		cmocka_unit_test(test_sweep_expiry_and_bound),
		cmocka_unit_test(test_sweep_runs_by_itself),
		cmocka_unit_test(test_survives_reopen),
		cmocka_unit_test(test_no_database_passes),
		cmocka_unit_test(test_long_address_passes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
