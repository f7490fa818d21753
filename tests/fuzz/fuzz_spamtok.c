/*
 * libFuzzer target for the Bayes tokenizer: any bytes as a message,
 * parsed (spam_msg_parse) and tokenized (spam_tokenize), from a heap
 * copy of exactly its length.  Every token is 1..SPAM_TOKEN_MAX bytes,
 * there are at most SPAM_TOKENS_MAX of them, and no two are the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spam.h"
#include "spamtok.h"

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*seen[SPAM_TOKENS_MAX];
	struct spam_tokens	 t;
	struct spam_msg		 sm;
	const char		*s;
	char			*copy;
	size_t			 off = 0, n = 0, i, len;

	copy = malloc(size > 0 ? size : 1);
	if (copy == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);
	spam_tokens_init(&t);
	spam_msg_parse(&sm, copy, size);
	spam_tokenize(&sm, &t);
	if (t.n > SPAM_TOKENS_MAX)
		abort();
	while ((s = spam_tokens_next(&t, &off)) != NULL) {
		len = strlen(s);
		if (len == 0 || len > SPAM_TOKEN_MAX || n >= SPAM_TOKENS_MAX)
			abort();
		seen[n++] = s;
	}
	if (n != t.n)
		abort();
	/* sorted, no two neighbours equal: unique */
	qsort(seen, n, sizeof(seen[0]), cmp);
	for (i = 1; i < n; i++)
		if (strcmp(seen[i - 1], seen[i]) == 0)
			abort();
	spam_msg_free(&sm);
	spam_tokens_free(&t);
	free(copy);
	return 0;
}
