/*
 * lookup_bayes: STAND-IN (the `bayes` helper replaces this file): never
 * trained, learns nothing.
 */
#include <stdlib.h>

#include "lookup_bayes.h"
#include "util.h"

struct lookup_bayes {
	int	unused;
};

struct lookup_bayes *
lookup_bayes_open(const struct conf *conf, const char *path, char *err,
    size_t errsz)
{
	(void)conf;
	(void)path;
	(void)err;
	(void)errsz;
	return xcalloc(1, sizeof(struct lookup_bayes));
}

void
lookup_bayes_close(struct lookup_bayes *b)
{
	free(b);
}

int
lookup_bayes_classify(struct lookup_bayes *b, const char *user,
    const struct spam_tokens *t, double *p)
{
	(void)b;
	(void)user;
	(void)t;
	*p = 0.5;
	return -1;
}

int
lookup_bayes_train(struct lookup_bayes *b, const char *user, const char *id,
    const struct spam_tokens *t, bool spam)
{
	(void)b;
	(void)user;
	(void)id;
	(void)t;
	(void)spam;
	return -1;
}

int
lookup_bayes_begin(struct lookup_bayes *b)
{
	(void)b;
	return 0;
}

int
lookup_bayes_commit(struct lookup_bayes *b)
{
	(void)b;
	return 0;
}

int
lookup_bayes_stats(struct lookup_bayes *b, const char *user, uint64_t *nspam,
    uint64_t *nham, uint64_t *ntokens)
{
	(void)b;
	(void)user;
	*nspam = *nham = *ntokens = 0;
	return 0;
}
