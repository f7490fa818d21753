/*
 * libFuzzer target for mailaddr: every input goes through
 * mailaddr_parse_path() under the four flag combinations and through
 * mailaddr_parse(), from a heap copy of exactly its length so that a read
 * past len trips ASan.  An invariant that breaks calls abort().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailaddr.h"

/* A field is NUL-terminated inside its array and holds no other NUL. */
static size_t
field_len(const char *f, size_t sz)
{
	const char	*nul;

	if ((nul = memchr(f, '\0', sz)) == NULL)
		abort();
	return (size_t)(nul - f);
}

static bool
has_8bit(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

static void
check_addr(const struct mailaddr *a, bool utf8)
{
	size_t	llen, dlen;

	llen = field_len(a->local, sizeof(a->local));
	dlen = field_len(a->domain, sizeof(a->domain));
	if (llen > MAILADDR_LOCAL_MAX || dlen > MAILADDR_DOMAIN_MAX)
		abort();
	if (a->is_null && (llen != 0 || dlen != 0 || a->is_literal))
		abort();
	if (!a->is_null && llen == 0)
		abort();
	if (a->is_literal && (dlen < 2 || a->domain[0] != '[' ||
	    a->domain[dlen - 1] != ']'))
		abort();
	if (a->utf8 != (has_8bit(a->local, llen) || has_8bit(a->domain, dlen)))
		abort();
	if (a->utf8 && !utf8)
		abort();
	if (!mailaddr_utf8_valid(a->local, llen) ||
	    !mailaddr_utf8_valid(a->domain, dlen))
		abort();
}

static void
check_same(const struct mailaddr *a, const struct mailaddr *b)
{
	if (strcmp(a->local, b->local) != 0 ||
	    strcmp(a->domain, b->domain) != 0 || a->is_null != b->is_null ||
	    a->is_literal != b->is_literal || a->utf8 != b->utf8)
		abort();
}

/* What format() writes must parse back to the same address. */
static void
check_round_trip(const struct mailaddr *a, bool utf8)
{
	struct mailaddr	b;
	char		out[MAILADDR_PATH_MAX + 2];
	size_t		n, consumed;

	if (mailaddr_format(a, out + 1, sizeof(out) - 2) == -1)
		abort();
	if (a->is_null || a->domain[0] == '\0')
		return;
	n = strlen(out + 1);
	if (mailaddr_parse(out + 1, n, utf8, &b) != MAILADDR_OK)
		abort();
	check_same(a, &b);
	out[0] = '<';
	out[n + 1] = '>';
	if (mailaddr_parse_path(out, n + 2, false, utf8, &b, &consumed) !=
	    MAILADDR_OK || consumed != n + 2)
		abort();
	check_same(a, &b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailaddr		res[4], a;
	enum mailaddr_error	err[4], e;
	size_t			consumed[4];
	char			*p;
	int			i;
	bool			allow_null, utf8;

	if ((p = malloc(size)) == NULL && size > 0)
		return 0;
	if (size > 0)
		memcpy(p, data, size);

	for (i = 0; i < 4; i++) {
		allow_null = (i & 1) != 0;
		utf8 = (i & 2) != 0;
		consumed[i] = 12345;
		err[i] = mailaddr_parse_path(p, size, allow_null, utf8,
		    &res[i], &consumed[i]);
		if (mailaddr_strerror(err[i]) == NULL)
			abort();
		if (err[i] != MAILADDR_OK) {
			if (consumed[i] != 0)
				abort();
			continue;
		}
		if (consumed[i] > size || consumed[i] < 2 ||
		    consumed[i] > MAILADDR_PATH_MAX ||
		    p[0] != '<' || p[consumed[i] - 1] != '>')
			abort();
		if (res[i].is_null && (!allow_null || consumed[i] != 2))
			abort();
		check_addr(&res[i], utf8);
		check_round_trip(&res[i], utf8);
	}
	/* Allowing more never changes an answer that was already yes. */
	for (i = 0; i < 4; i++) {
		if (err[i] != MAILADDR_OK)
			continue;
		if ((i | 1) != i && (err[i | 1] != MAILADDR_OK ||
		    consumed[i | 1] != consumed[i]))
			abort();
		if ((i | 2) != i && (err[i | 2] != MAILADDR_OK ||
		    consumed[i | 2] != consumed[i]))
			abort();
		if ((i | 1) != i)
			check_same(&res[i], &res[i | 1]);
		if ((i | 2) != i)
			check_same(&res[i], &res[i | 2]);
	}
	/* Only the null path tells allow_null apart. */
	for (i = 0; i < 4; i += 2)
		if (err[i] != err[i + 1] && !(err[i] == MAILADDR_ENULL &&
		    err[i + 1] == MAILADDR_OK && res[i + 1].is_null))
			abort();

	for (i = 0; i < 2; i++) {
		utf8 = i != 0;
		e = mailaddr_parse(p, size, utf8, &a);
		if (e == MAILADDR_ENULL)
			abort();
		if (e == MAILADDR_OK) {
			if (size > MAILADDR_PATH_MAX - 2 || a.is_null)
				abort();
			check_addr(&a, utf8);
			check_round_trip(&a, utf8);
		}
	}
	free(p);
	return 0;
}
