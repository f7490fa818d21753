/*
 * Unit tests for lookup_bayes.c, the token database: no opinion before
 * 20 of each class, learn once, class moves, the per-user layer, stats,
 * expiry by age and count, a reopened file keeping its counts, a batch
 * never committed leaving nothing, and the speed of classify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "lookup_bayes.h"
#include "spam.h"
#include "util.h"
#include "testutil.h"

#define DAY	86400

struct fixture {
	char			 dir[64];
	char			 path[128];
	struct conf		*conf;
	struct lookup_bayes	*b;
};

static int
setup(void **state)
{
	struct fixture	*fx = xcalloc(1, sizeof(*fx));
	char		 err[256];

	(void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_lookup_bayes."
	    "XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	(void)snprintf(fx->path, sizeof(fx->path), "%s/bayes.db", fx->dir);
	fx->conf = conf_default();
	assert_non_null(fx->conf);
	fx->b = lookup_bayes_open(fx->conf, fx->path, err, sizeof(err));
	assert_non_null(fx->b);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*fx = *state;

	lookup_bayes_close(fx->b);
	conf_free(fx->conf);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

static void
reopen(struct fixture *fx)
{
	char	err[256];

	lookup_bayes_close(fx->b);
	fx->b = lookup_bayes_open(fx->conf, fx->path, err, sizeof(err));
	assert_non_null(fx->b);
}

/* Tokens from a space-separated list. */
static void
toks(struct spam_tokens *t, const char *list)
{
	const char	*p = list, *s;

	spam_tokens_reset(t);
	while (*p != '\0') {
		s = strchr(p, ' ');
		if (s == NULL)
			s = p + strlen(p);
		assert_int_equal(spam_tokens_add(t, p, (size_t)(s - p)), 0);
		p = *s == ' ' ? s + 1 : s;
	}
}

/* n messages of a class: "cls-common", "cls-<i>", "shared". */
static void
learn_many(struct lookup_bayes *b, const char *user, bool spam, size_t n,
    size_t first)
{
	struct spam_tokens	t;
	char			list[128], id[64];
	size_t			i;

	spam_tokens_init(&t);
	assert_int_equal(lookup_bayes_begin(b), 0);
	for (i = first; i < first + n; i++) {
		(void)snprintf(list, sizeof(list), "%s-common %s-%zu shared",
		    spam ? "spam" : "ham", spam ? "spam" : "ham", i);
		(void)snprintf(id, sizeof(id), "<%s%zu@test>", spam ? "s" :
		    "h", i);
		toks(&t, list);
		assert_int_equal(lookup_bayes_train(b, user, id, &t, spam), 1);
	}
	assert_int_equal(lookup_bayes_commit(b), 0);
	spam_tokens_free(&t);
}

static double
classify(struct lookup_bayes *b, const char *user, const char *list)
{
	struct spam_tokens	t;
	double			p;

	spam_tokens_init(&t);
	toks(&t, list);
	assert_int_equal(lookup_bayes_classify(b, user, &t, &p), 0);
	spam_tokens_free(&t);
	return p;
}

static void
test_no_opinion_until_trained(void **state)
{
	struct fixture		*fx = *state;
	struct spam_tokens	 t;
	double			 p;

	spam_tokens_init(&t);
	toks(&t, "spam-common");
	assert_int_equal(lookup_bayes_classify(fx->b, "", &t, &p), -1);
	learn_many(fx->b, "", true, 20, 0);
	learn_many(fx->b, "", false, 19, 0);
	assert_int_equal(lookup_bayes_classify(fx->b, "", &t, &p), -1);
	learn_many(fx->b, "", false, 1, 19);
	assert_int_equal(lookup_bayes_classify(fx->b, "", &t, &p), 0);
	spam_tokens_free(&t);
	assert_true(classify(fx->b, "", "spam-common spam-3") > 0.9);
	assert_true(classify(fx->b, "", "ham-common ham-3") < 0.1);
	/* known to both classes alike, or never seen: unsure */
	p = classify(fx->b, "", "shared never-seen");
	assert_true(p > 0.49 && p < 0.51);
}

static void
test_learn_once(void **state)
{
	struct fixture		*fx = *state;
	struct spam_tokens	 t;
	uint64_t		 ns, nh, nt, s, h;

	spam_tokens_init(&t);
	toks(&t, "alpha beta");
	assert_int_equal(lookup_bayes_train(fx->b, "", "<1@x>", &t, true), 1);
	assert_int_equal(lookup_bayes_train(fx->b, "", "<1@x>", &t, true), 0);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns, &nh, &nt), 0);
	assert_int_equal(ns, 1);
	assert_int_equal(nh, 0);
	assert_int_equal(nt, 2);
	assert_int_equal(lookup_bayes_token(fx->b, "", "alpha", &s, &h), 0);
	assert_int_equal(s, 1);
	assert_int_equal(h, 0);
	spam_tokens_free(&t);
}

static void
test_class_move(void **state)
{
	struct fixture		*fx = *state;
	struct spam_tokens	 t;
	uint64_t		 ns, nh, nt, s, h;

	spam_tokens_init(&t);
	toks(&t, "alpha beta");
	assert_int_equal(lookup_bayes_train(fx->b, "", "<1@x>", &t, true), 1);
	toks(&t, "alpha gamma");
	assert_int_equal(lookup_bayes_train(fx->b, "", "<2@x>", &t, true), 1);
	/* <1@x> was ham after all: out of spam, into ham */
	toks(&t, "alpha beta");
	assert_int_equal(lookup_bayes_train(fx->b, "", "<1@x>", &t, false),
	    1);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns, &nh, &nt), 0);
	assert_int_equal(ns, 1);
	assert_int_equal(nh, 1);
	assert_int_equal(lookup_bayes_token(fx->b, "", "alpha", &s, &h), 0);
	assert_int_equal(s, 1);
	assert_int_equal(h, 1);
	assert_int_equal(lookup_bayes_token(fx->b, "", "beta", &s, &h), 0);
	assert_int_equal(s, 0);
	assert_int_equal(h, 1);
	/* moved back: beta's ham count goes and the row with it */
	assert_int_equal(lookup_bayes_train(fx->b, "", "<1@x>", &t, true), 1);
	assert_int_equal(lookup_bayes_token(fx->b, "", "beta", &s, &h), 0);
	assert_int_equal(s, 1);
	assert_int_equal(h, 0);
	reopen(fx);
	assert_int_equal(lookup_bayes_token(fx->b, "", "beta", &s, &h), 0);
	assert_int_equal(s, 1);
	assert_int_equal(h, 0);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns, &nh, &nt), 0);
	assert_int_equal(ns, 2);
	assert_int_equal(nh, 0);
	assert_int_equal(nt, 3);
	spam_tokens_free(&t);
}

static void
test_per_user_layer(void **state)
{
	struct fixture		*fx = *state;
	struct spam_tokens	 t;
	uint64_t		 ns, nh, nt, s, h;
	double			 pa, pb, ps;
	char			 id[32];
	int			 i;

	fx->conf->spam_bayes_per_user = true;
	reopen(fx);
	learn_many(fx->b, "", true, 20, 0);
	learn_many(fx->b, "", false, 20, 0);
	spam_tokens_init(&t);
	/* bob calls "offer" spam once, alice "newsletter" ham three times */
	toks(&t, "offer");
	assert_int_equal(lookup_bayes_train(fx->b, "bob@example.org",
	    "<o0@x>", &t, true), 1);
	toks(&t, "newsletter");
	for (i = 1; i <= 3; i++) {
		(void)snprintf(id, sizeof(id), "<n%d@x>", i);
		assert_int_equal(lookup_bayes_train(fx->b, "alice@example.org",
		    id, &t, false), 1);
	}
	/* the server learnt all four, each user only their own */
	assert_int_equal(lookup_bayes_token(fx->b, "", "newsletter", &s, &h),
	    0);
	assert_int_equal(s, 0);
	assert_int_equal(h, 3);
	assert_int_equal(lookup_bayes_token(fx->b, "bob@example.org",
	    "offer", &s, &h), 0);
	assert_int_equal(s, 1);
	assert_int_equal(h, 0);
	assert_int_equal(lookup_bayes_token(fx->b, "bob@example.org",
	    "newsletter", &s, &h), 0);
	assert_int_equal(s + h, 0);
	assert_int_equal(lookup_bayes_stats(fx->b, "alice@example.org", &ns,
	    &nh, &nt), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(nh, 3);
	assert_int_equal(nt, 1);
	/* each user's own counts weigh on top of the server's */
	pa = classify(fx->b, "alice@example.org", "newsletter");
	ps = classify(fx->b, "", "newsletter");
	assert_true(pa < ps && ps < 0.5);
	pb = classify(fx->b, "bob@example.org", "offer");
	ps = classify(fx->b, "", "offer");
	assert_true(pb > ps && ps > 0.5);
	/* and someone else's do not */
	assert_true(classify(fx->b, "bob@example.org", "newsletter") ==
	    classify(fx->b, "", "newsletter"));
	/* without per-user learning a user's train goes to the server only */
	fx->conf->spam_bayes_per_user = false;
	reopen(fx);
	toks(&t, "coupon");
	assert_int_equal(lookup_bayes_train(fx->b, "carol@example.org",
	    "<c@x>", &t, true), 1);
	assert_int_equal(lookup_bayes_stats(fx->b, "carol@example.org", &ns,
	    &nh, &nt), 0);
	assert_int_equal(ns + nh + nt, 0);
	assert_int_equal(lookup_bayes_token(fx->b, "", "coupon", &s, &h), 0);
	assert_int_equal(s, 1);
	spam_tokens_free(&t);
}

static void
test_expiry(void **state)
{
	struct fixture	*fx = *state;
	uint64_t	 ns, nh, nt, s, h, left;
	time_t		 now = time(NULL);
	char		 tok[32];
	size_t		 i;

	fx->conf->spam_bayes_max_tokens = 60;
	reopen(fx);
	/* 30 old messages: 2 common tokens and 30 hapaxes */
	lookup_bayes_set_clock(fx->b, now - 200 * DAY);
	learn_many(fx->b, "", true, 30, 0);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns, &nh, &nt), 0);
	assert_int_equal(nt, 32);
	/* 30 new ones: 31 more tokens, 63 > 60: expire down to 54 */
	lookup_bayes_set_clock(fx->b, now);
	learn_many(fx->b, "", false, 30, 0);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns, &nh, &nt), 0);
	assert_int_equal(nt, 54);
	/* 9 of the old hapaxes go; old tokens of many messages stay */
	for (i = 0, left = 0; i < 30; i++) {
		(void)snprintf(tok, sizeof(tok), "spam-%zu", i);
		assert_int_equal(lookup_bayes_token(fx->b, "", tok, &s, &h), 0);
		left += s;
		(void)snprintf(tok, sizeof(tok), "ham-%zu", i);
		assert_int_equal(lookup_bayes_token(fx->b, "", tok, &s, &h), 0);
		assert_int_equal(h, 1);
	}
	assert_int_equal(left, 21);
	assert_int_equal(lookup_bayes_token(fx->b, "", "spam-common", &s,
	    &h), 0);
	assert_int_equal(s, 30);
	assert_int_equal(lookup_bayes_token(fx->b, "", "ham-29", &s, &h), 0);
	assert_int_equal(h, 1);
	/* the file agrees */
	reopen(fx);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns, &nh, &nt), 0);
	assert_int_equal(nt, 54);
	assert_int_equal(ns, 30);
	assert_int_equal(nh, 30);
}

static void
test_reopen_keeps_counts(void **state)
{
	struct fixture	*fx = *state;
	uint64_t	 ns, nh, nt, ns2, nh2, nt2;
	double		 p, p2;

	learn_many(fx->b, "", true, 25, 0);
	learn_many(fx->b, "", false, 25, 0);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns, &nh, &nt), 0);
	p = classify(fx->b, "", "spam-common ham-3 shared");
	reopen(fx);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns2, &nh2, &nt2), 0);
	assert_int_equal(ns, ns2);
	assert_int_equal(nh, nh2);
	assert_int_equal(nt, nt2);
	assert_int_equal(ns2, 25);
	assert_int_equal(nt2, 25 + 25 + 3);
	p2 = classify(fx->b, "", "spam-common ham-3 shared");
	assert_true(p == p2);
}

static void
test_uncommitted_batch_is_lost_whole(void **state)
{
	struct fixture		*fx = *state;
	struct spam_tokens	 t;
	uint64_t		 ns, nh, nt;

	learn_many(fx->b, "", true, 2, 0);
	spam_tokens_init(&t);
	toks(&t, "lost-token");
	assert_int_equal(lookup_bayes_begin(fx->b), 0);
	assert_int_equal(lookup_bayes_train(fx->b, "", "<l1@x>", &t, true), 1);
	assert_int_equal(lookup_bayes_train(fx->b, "", "<l2@x>", &t, false),
	    1);
	/* the process dies here: close without a commit */
	reopen(fx);
	assert_int_equal(lookup_bayes_stats(fx->b, "", &ns, &nh, &nt), 0);
	assert_int_equal(ns, 2);
	assert_int_equal(nh, 0);
	assert_int_equal(nt, 2 + 2);
	/* and the ids were not taken: learning them again works */
	assert_int_equal(lookup_bayes_train(fx->b, "", "<l1@x>", &t, true), 1);
	spam_tokens_free(&t);
}

static void
test_bad_arguments(void **state)
{
	struct fixture		*fx = *state;
	struct spam_tokens	 t;
	char			 id[1100];

	spam_tokens_init(&t);
	toks(&t, "x");
	assert_int_equal(lookup_bayes_train(fx->b, "", "", &t, true), -1);
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(lookup_bayes_train(fx->b, "", id, &t, true), -1);
	spam_tokens_free(&t);
}

/*
 * Classify 1,000 tokens against 100,000 known ones: well under a
 * millisecond even in the sanitizer build (the bound is generous).
 */
static void
test_classify_speed(void **state)
{
	struct fixture		*fx = *state;
	struct spam_tokens	 t;
	struct timespec		 a, z;
	char			 tok[32], id[32];
	size_t			 i, j;
	double			 p, us;

	spam_tokens_init(&t);
	assert_int_equal(lookup_bayes_begin(fx->b), 0);
	for (i = 0; i < 100; i++) {
		spam_tokens_reset(&t);
		for (j = 0; j < 1000; j++) {
			(void)snprintf(tok, sizeof(tok), "t%zu", i * 1000 + j);
			assert_int_equal(spam_tokens_add(&t, tok, strlen(tok)),
			    0);
		}
		(void)snprintf(id, sizeof(id), "<%zu@x>", i);
		assert_int_equal(lookup_bayes_train(fx->b, "", id, &t,
		    i % 2 == 0), 1);
	}
	assert_int_equal(lookup_bayes_commit(fx->b), 0);
	spam_tokens_reset(&t);
	for (j = 0; j < 1000; j++) {
		(void)snprintf(tok, sizeof(tok), "t%zu", j * 97);
		assert_int_equal(spam_tokens_add(&t, tok, strlen(tok)), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 100; i++)
		assert_int_equal(lookup_bayes_classify(fx->b, "", &t, &p), 0);
	clock_gettime(CLOCK_MONOTONIC, &z);
	us = ((double)(z.tv_sec - a.tv_sec) * 1e9 +
	    (double)(z.tv_nsec - a.tv_nsec)) / 1e3 / 100;
	print_message("classify: 1000 tokens in %.1f us\n", us);
	assert_true(us < 5000);
	spam_tokens_free(&t);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_setup_teardown(test_no_opinion_until_trained,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_learn_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_class_move, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_user_layer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_counts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_uncommitted_batch_is_lost_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_classify_speed, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
