/*
 * spamrules: STAND-IN (the `rules` helper replaces this file).  Knows
 * only GTUBE, so that the pipeline can be tested end to end.
 */
#include <stdlib.h>
#include <string.h>

#include "spamrules.h"
#include "util.h"

struct spam_rules {
	size_t	n;
};

#define SPAM_GTUBE "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

struct spam_rules *
spam_rules_parse(const char *text, size_t len, const char *name, char *err,
    size_t errsz)
{
	struct spam_rules	*r = xcalloc(1, sizeof(*r));

	(void)text;
	(void)len;
	(void)name;
	(void)err;
	(void)errsz;
	r->n = 1;
	return r;
}

struct spam_rules *
spam_rules_load(const char *path, char *err, size_t errsz)
{
	(void)path;
	return spam_rules_parse("", 0, "(default)", err, errsz);
}

void
spam_rules_free(struct spam_rules *r)
{
	free(r);
}

size_t
spam_rules_count(const struct spam_rules *r)
{
	return r->n;
}

void
spam_rules_check(const struct spam_rules *r, const struct spam_msg *sm,
    struct spam_score *out)
{
	(void)r;
	if (memmem(sm->data, sm->len, SPAM_GTUBE, strlen(SPAM_GTUBE)) != NULL)
		spam_score_add(out, "GTUBE", 1000 * SPAM_MILLI,
		    "GTUBE, the generic test for unsolicited bulk email");
}
