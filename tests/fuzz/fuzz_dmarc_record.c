/*
 * libFuzzer target for dmarc.c: the bytes as a DMARC record (RFC 7489
 * §6.4) and as a header section whose From: domain is asked for
 * (§6.6.1).  Broken invariants abort(): a parsed record holds policies
 * in range, pct <= 100, NUL-terminated bounded strings, and a record
 * that parses is a DMARC record; a From: domain is lower case, short
 * and has no empty label.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc.h"

static void
fuzz_str(const char *s, size_t sz)
{
	if (strnlen(s, sz) >= sz)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record	 r;
	const char		*p = (const char *)data, *why;
	char			 d[DMARC_NAME_MAX + 1];
	size_t			 n, i;
	bool			 s;

	if (dmarc_record_parse(p, size, &r, &why) == 0) {
		if (!dmarc_record_is_dmarc(p, size) || r.pct > 100 ||
		    r.p > DMARC_POLICY_REJECT || r.sp > DMARC_POLICY_REJECT ||
		    r.np > DMARC_POLICY_REJECT)
			abort();
		fuzz_str(r.rua, sizeof(r.rua));
		fuzz_str(r.ruf, sizeof(r.ruf));
		fuzz_str(r.fo, sizeof(r.fo));
		fuzz_str(r.rf, sizeof(r.rf));
		if (dmarc_sample(&r, r.p, 0, &s) > r.p)
			abort();
	}
	if (dmarc_from_domain(span_make(p, size), d, sizeof(d), &why) ==
	    DMARC_FROM_OK) {
		n = strnlen(d, sizeof(d));
		if (n == 0 || n > DMARC_NAME_MAX || d[0] == '.' ||
		    d[n - 1] == '.' || strstr(d, "..") != NULL)
			abort();
		for (i = 0; i < n; i++)
			if (d[i] >= 'A' && d[i] <= 'Z')
				abort();
	}
	return 0;
}
