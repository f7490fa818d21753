/*
 * libFuzzer target for the DKIM-Signature parser and the header data of
 * dkim.c.  The input is a header section; each DKIM-Signature and
 * ARC-Message-Signature field in it is parsed and, when it parses, the
 * data its h= covers is built, as the verifier does.  Broken invariants
 * call abort(): a parsed signature without From in h=, without a b= or
 * bh=, or with an i= outside d=.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "dkim.h"

static void
fz_check(const struct dkim_sig *s)
{
	size_t		 i, dl, al;
	const char	*at;
	bool		 from = false;

	for (i = 0; i < s->nh; i++)
		if (strcasecmp(s->h[i], "from") == 0)
			from = true;
	if (!from || s->blen == 0 || s->blen > DKIM_SIG_B_MAX ||
	    s->bhlen == 0 || s->bhlen > DKIM_DIGEST_MAX ||
	    s->domain[0] == '\0' || s->selector[0] == '\0')
		abort();
	if (s->instance == 0 && (at = strrchr(s->auid, '@')) != NULL) {
		dl = strlen(s->domain);
		al = strlen(at + 1);
		if (al < dl || strcmp(at + 1 + al - dl, s->domain) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dkim_sig	 s;
	struct span		 hdrs = span_make((const char *)data, size);
	struct span		 f, name, value;
	struct buf		 out;
	const char		*colon, *err;
	unsigned		 flags;
	size_t			 pos = 0;

	buf_init(&out, DKIM_HDATA_MAX);
	while (dkim_header_next(hdrs, &pos, &f, &name) == 1) {
		if (span_caseeq(name, "DKIM-Signature"))
			flags = 0;
		else if (span_caseeq(name, "ARC-Message-Signature"))
			flags = DKIM_SIG_AMS;
		else
			continue;
		colon = memchr(f.ptr, ':', f.len);
		value = span_make(colon + 1, f.len - (size_t)(colon + 1 - f.ptr));
		if (dkim_sig_parse(value, flags, &s, &err) == -1) {
			if (err == NULL)
				abort();
			continue;
		}
		fz_check(&s);
		buf_reset(&out);
		(void)dkim_header_data(s.hcanon, hdrs,
		    (const char (*)[DKIM_HNAME_MAX])s.h, s.nh, f, &out);
	}
	buf_free(&out);
	return 0;
}
