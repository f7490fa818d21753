/*
 * bayes: the arithmetic of the Bayesian filter (issue 15), pure: no I/O,
 * no state.  The token database (lookup/lookup_bayes.h) counts, for each
 * token, the spam and ham messages it was learnt in; this file turns
 * those counts into one probability that a message is spam.
 *
 * Per token (Gary Robinson, "A Statistical Approach to the Spam
 * Problem", Linux Journal 107, 2003; the same as SpamBayes'
 * classifier.py and bogofilter's robinson.c):
 *
 *	b = spam_count / nspam		g = ham_count / nham
 *	p = b / (b + g)
 *	f = (s * x + n * p) / (s + n)	n = spam_count + ham_count
 *
 * x is the probability assumed for a token never seen (robx) and s the
 * strength given to that assumption (robs), so a token seen once in spam
 * only is not taken as proof.
 *
 * Over the message (Robinson's chi-square combining, after R. A.
 * Fisher; SpamBayes calls it "chi-combining"): only tokens with
 * |f - 0.5| >= min_dev count, at most max_clues of them, the most
 * extreme; with N of them
 *
 *	H = C^-1(-2 ln prod f, 2N)	S = C^-1(-2 ln prod (1 - f), 2N)
 *	I = (1 + H - S) / 2
 *
 * C^-1(x, v) is the chi-square survival function with v degrees of
 * freedom (the probability of a value >= x).  H near 1 says the f are
 * not uniformly spread toward 0 (not hammy), S near 1 that they are not
 * spread toward 1 (not spammy); I is near 1 for spam, near 0 for ham,
 * and near 0.5 both when there is no evidence and when the evidence
 * conflicts (SpamBayes' "unsure").
 */
#ifndef CACHET_BAYES_H
#define CACHET_BAYES_H

#include <stddef.h>
#include <stdint.h>

struct bayes_params {
	double	robs;		/* s, the prior's strength (> 0) */
	double	robx;		/* x, an unknown token's probability */
	double	min_dev;	/* |f - 0.5| below this: ignored */
	size_t	max_clues;	/* the most extreme kept; 0: all */
};

/*
 * A token's key: 64-bit FNV-1a of its bytes (the token database's key,
 * collisions improbable below billions of tokens; the tokenizer's set
 * uses its low bits).
 */
uint64_t	bayes_hash(const char *p, size_t len);

/* The defaults (see bayes.c for where each comes from). */
void	bayes_params_default(struct bayes_params *);

/*
 * f of a token learnt spam_count times in nspam spam messages and
 * ham_count times in nham ham messages; robx when it was never seen (or
 * nothing was learnt).  Counts above the totals are taken as the totals.
 */
double	bayes_token_prob(const struct bayes_params *, uint64_t spam_count,
	    uint64_t ham_count, uint64_t nspam, uint64_t nham);

/*
 * The chi-square survival function Q(x2 | v) = P(X >= x2) for an even
 * number v of degrees of freedom (the closed form: a Poisson sum),
 * computed in logarithms so that large x2 and v neither underflow nor
 * overflow.  In [0, 1].
 */
double	bayes_chi2q(double x2, size_t v);

/* Fisher/Robinson combining of all n values of f: I above; 0.5 if n 0. */
double	bayes_fisher(const double *f, size_t n);

/*
 * The whole step: keep the f at least min_dev from 0.5, the max_clues
 * most extreme of them, and combine.  f is reordered (the kept ones
 * first); *used_out (when not NULL) is how many were kept.
 */
double	bayes_combine(const struct bayes_params *, double *f, size_t n,
	    size_t *used_out);

#endif
