/*
 * Unit tests for bayes.c: Robinson's token probability, the chi-square
 * survival function and Fisher's combining against values computed by
 * hand (the formulas of bayes.h evaluated independently, in doubles).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "bayes.h"

#define EPS	1e-9

static void
test_token_prob_robinson(void **state)
{
	struct bayes_params	bp;

	(void)state;
	bayes_params_default(&bp);
	bp.robs = 0.45;
	bp.robx = 0.5;
	/* b = 3/10, g = 1/20, p = 0.3/0.35, n = 4: (0.225 + 4p) / 4.45 */
	assert_true(fabs(bayes_token_prob(&bp, 3, 1, 10, 20) -
	    0.8210272873194222) < EPS);
	/* once in spam only: p = 1, f = (0.225 + 1) / 1.45, not 1 */
	assert_true(fabs(bayes_token_prob(&bp, 1, 0, 10, 10) -
	    0.8448275862068967) < EPS);
	/* and the mirror for ham */
	assert_true(fabs(bayes_token_prob(&bp, 0, 1, 10, 10) -
	    (1 - 0.8448275862068967)) < EPS);
}

static void
test_token_prob_unknown_is_robx(void **state)
{
	struct bayes_params	bp;

	(void)state;
	bayes_params_default(&bp);
	bp.robx = 0.52;
	assert_true(fabs(bayes_token_prob(&bp, 0, 0, 10, 10) - 0.52) < EPS);
	/* nothing learnt of either class */
	assert_true(fabs(bayes_token_prob(&bp, 5, 5, 0, 0) - 0.52) < EPS);
}

static void
test_token_prob_counts_capped(void **state)
{
	struct bayes_params	bp;

	(void)state;
	bayes_params_default(&bp);
	/* more spam counts than spam messages: taken as 10 of 10 */
	assert_true(fabs(bayes_token_prob(&bp, 50, 0, 10, 10) -
	    bayes_token_prob(&bp, 10, 0, 10, 10)) < EPS);
}

static void
test_chi2q_closed_forms(void **state)
{
	(void)state;
	/* v = 2: e^(-x/2); v = 4: e^(-m)(1 + m) */
	assert_true(fabs(bayes_chi2q(2, 2) - exp(-1.0)) < EPS);
	assert_true(fabs(bayes_chi2q(4, 4) - 0.4060058497098381) < EPS);
	assert_true(fabs(bayes_chi2q(30, 20) - 0.06985366069940976) < EPS);
	assert_true(bayes_chi2q(0, 10) == 1.0);
}

static void
test_chi2q_extremes(void **state)
{
	double	q;

	(void)state;
	/* e^-1000 underflows a plain sum; the log form stays exact-ish */
	q = bayes_chi2q(2000, 300);
	assert_true(q >= 0 && q < 1e-100);
	/* many degrees of freedom, small statistic: certainly 1 */
	q = bayes_chi2q(10, 6000);
	assert_true(fabs(q - 1.0) < EPS);
	assert_true(!isnan(bayes_chi2q(1e6, 6000)));
}

static void
test_fisher_hand_values(void **state)
{
	const double	spammy[] = { 0.99, 0.99, 0.99 };
	const double	hammy[] = { 0.01, 0.2 };
	const double	mixed[] = { 0.9, 0.8, 0.3 };

	(void)state;
	assert_true(fabs(bayes_fisher(spammy, 3) - 0.9999426420479766) <
	    EPS);
	assert_true(fabs(bayes_fisher(hammy, 2) - 0.01886982878000859) <
	    EPS);
	assert_true(fabs(bayes_fisher(mixed, 3) - 0.7996685883117753) < EPS);
}

static void
test_fisher_symmetric_and_empty(void **state)
{
	const double	f[] = { 0.9, 0.1, 0.7, 0.3 };

	(void)state;
	assert_true(fabs(bayes_fisher(NULL, 0) - 0.5) < EPS);
	/* evidence that cancels out: unsure */
	assert_true(fabs(bayes_fisher(f, 4) - 0.5) < EPS);
}

static void
test_combine_min_dev(void **state)
{
	struct bayes_params	bp;
	double			f[] = { 0.55, 0.45, 0.99, 0.52 };
	const double		only[] = { 0.99 };
	size_t			used;
	double			p;

	(void)state;
	bayes_params_default(&bp);
	bp.min_dev = 0.1;
	p = bayes_combine(&bp, f, 4, &used);
	assert_int_equal(used, 1);
	assert_true(fabs(p - bayes_fisher(only, 1)) < EPS);
}

static void
test_combine_max_clues(void **state)
{
	struct bayes_params	bp;
	double			f[] = { 0.8, 0.99, 0.3, 0.01 };
	size_t			used;
	double			p;

	(void)state;
	bayes_params_default(&bp);
	bp.min_dev = 0.1;
	bp.max_clues = 2;
	/* the two most extreme, 0.99 and 0.01, cancel */
	p = bayes_combine(&bp, f, 4, &used);
	assert_int_equal(used, 2);
	assert_true(fabs(p - 0.5) < EPS);
	bp.max_clues = 0;
	f[0] = 0.8, f[1] = 0.99, f[2] = 0.3, f[3] = 0.01;
	(void)bayes_combine(&bp, f, 4, &used);
	assert_int_equal(used, 4);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_token_prob_robinson),
		cmocka_unit_test(test_token_prob_unknown_is_robx),
		cmocka_unit_test(test_token_prob_counts_capped),
		cmocka_unit_test(test_chi2q_closed_forms),
		cmocka_unit_test(test_chi2q_extremes),
		cmocka_unit_test(test_fisher_hand_values),
		cmocka_unit_test(test_fisher_symmetric_and_empty),
		cmocka_unit_test(test_combine_min_dev),
		cmocka_unit_test(test_combine_max_clues),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
