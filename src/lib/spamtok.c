/*
 * spamtok: STAND-IN (the `bayes` helper replaces this file): the words
 * of the text, lower-cased, duplicates kept out by a linear scan.
 */
#include <ctype.h>
#include <string.h>

#include "spamtok.h"

static int
spamtok_seen(const struct spam_tokens *out, const char *p, size_t len)
{
	const char	*t;
	size_t		 off = 0;

	while ((t = spam_tokens_next(out, &off)) != NULL)
		if (strlen(t) == len && memcmp(t, p, len) == 0)
			return 1;
	return 0;
}

void
spam_tokenize(const struct spam_msg *sm, struct spam_tokens *out)
{
	char		 w[SPAM_TOKEN_MAX];
	size_t		 i, n = 0;
	unsigned char	 c;

	for (i = 0; i <= sm->text.len && out->n < 200; i++) {
		c = i < sm->text.len ? (unsigned char)sm->text.data[i] : ' ';
		if (isalnum(c) && n < sizeof(w)) {
			w[n++] = (char)tolower(c);
			continue;
		}
		if (n >= 3 && !spamtok_seen(out, w, n))
			(void)spam_tokens_add(out, w, n);
		n = 0;
	}
}
