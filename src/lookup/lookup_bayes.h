/*
 * lookup_bayes: the Bayesian classifier's token database (issue 15), in
 * the lookup role: SQLite (bayes.db in lookup's directory), per server
 * with an optional per-user layer on top, bounded in size with expiry.
 * The tokens come from wherever the message was parsed (spamtok.h); the
 * combining is Robinson's / Fisher's chi-square (lib/bayes.h).
 *
 * Synchronous: each call is a few indexed SQLite statements; train()
 * batches run in one transaction.
 *
 * STAND-IN: the `bayes` helper replaces lookup_bayes.c; the signatures
 * are the contract.
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

#endif
