/*
 * lookup_bayes: the Bayesian classifier's token database (issue 15), in
 * the lookup role: SQLite (bayes.db in lookup's directory, WAL), per
 * server with an optional per-user layer on top (`spam-bayes-per-user`),
 * bounded in size with expiry (`spam-bayes-max-tokens`).  The tokens
 * come from wherever the message was parsed (spamtok.h); the combining
 * is Robinson's / Fisher's chi-square (lib/bayes.h).
 *
 * The token counts are also held in memory (loaded at open), so that
 * classify() reads no token from disk; train() changes the memory and
 * the commit writes what changed, with the learnt messages and the
 * totals, in one transaction: a message is learnt or not, never half.
 * Synchronous: train() batches run in one transaction
 * (lookup_bayes_begin/commit); without begin() each train() is its own.
 *
 * Expiry: when a commit leaves more than spam-bayes-max-tokens tokens
 * (all layers together), the oldest are dropped down to 90% of it, a
 * token's age being the day it was last learnt plus 30 days for every
 * doubling of the messages it was counted in (a hapax from last year
 * goes first, a token of a thousand messages lasts ten months more).
 */
#ifndef CACHET_LOOKUP_BAYES_H
#define CACHET_LOOKUP_BAYES_H

#include <stdbool.h>
#include <stdint.h>

#include "spam.h"

struct conf;
struct lookup_bayes;

/* Open (or create) path; NULL with why in err when it cannot. */
struct lookup_bayes	*lookup_bayes_open(const struct conf *,
			    const char *path, char *err, size_t errsz);
void			 lookup_bayes_close(struct lookup_bayes *);
/*
 * The probability in [0,1] that a message with these tokens is spam,
 * for user ("" none: the server's database only): 0, or -1 when the
 * database has not learnt enough of both classes yet (then there is no
 * Bayes opinion; the verdict goes on without it).
 */
int			 lookup_bayes_classify(struct lookup_bayes *,
			    const char *user, const struct spam_tokens *,
			    double *p);
/*
 * Learn a message as spam or ham, server-wide and for user when not ""
 * (and per-user learning is on).  id names the message (its Message-ID
 * or a digest of its header section) so that a message is learnt once:
 * 1 learnt, 0 already learnt as that class, -1 error.  A message learnt
 * before as the other class is unlearnt from it first.
 */
int			 lookup_bayes_train(struct lookup_bayes *,
			    const char *user, const char *id,
			    const struct spam_tokens *, bool spam);
/* Batches of train() calls: one transaction. */
int			 lookup_bayes_begin(struct lookup_bayes *);
int			 lookup_bayes_commit(struct lookup_bayes *);
/* Messages learnt as spam and ham, and tokens known, for user (""). */
int			 lookup_bayes_stats(struct lookup_bayes *,
			    const char *user, uint64_t *nspam, uint64_t *nham,
			    uint64_t *ntokens);
/*
 * One token's counts in user's layer ("" the server's): 0 (zeros when
 * unknown), -1 error.  For tests and diagnostics.
 */
int			 lookup_bayes_token(struct lookup_bayes *,
			    const char *user, const char *token,
			    uint64_t *spam, uint64_t *ham);
/* The clock train() and expiry read (seconds; 0: the real one). */
void			 lookup_bayes_set_clock(struct lookup_bayes *,
			    int64_t now);

#endif
