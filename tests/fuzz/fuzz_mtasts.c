/*
 * libFuzzer target for mtasts.c: the same bytes as an MTA-STS policy
 * (RFC 8461 §3.2), as a "_mta-sts" TXT record (§3.1) and, split at the
 * first NUL, as an MX pattern and a host name (§4.1).  Broken invariants
 * abort(): a valid policy must hold what the parser promises (a mode,
 * max_age within the cap, mx patterns that are short, lower case and
 * match themselves).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtasts.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtasts_policy	 pol;
	struct dns_txt		 t;
	char			 id[MTASTS_ID_MAX + 1], list[512];
	char			 a[300], b[300];
	const char		*err, *p = (const char *)data, *nul;
	size_t			 i, n;

	if (mtasts_policy_parse(p, size, &pol, &err) == 0) {
		if (pol.max_age > MTASTS_MAX_AGE_MAX ||
		    pol.nmx > MTASTS_MX_MAX ||
		    (pol.nmx == 0 && pol.mode != MTASTS_MODE_NONE))
			abort();
		for (i = 0; i < pol.nmx; i++) {
			n = strnlen(pol.mx[i], sizeof(pol.mx[i]));
			if (n == 0 || n > MTASTS_PATTERN_MAX)
				abort();
			if (pol.mx[i][0] != '*' &&
			    !mtasts_mx_match(pol.mx[i], pol.mx[i]))
				abort();
		}
		mtasts_policy_mx_list(&pol, list, sizeof(list));
		if (strnlen(list, sizeof(list)) >= sizeof(list))
			abort();
	}
	t.data = (char *)p;
	t.len = size;
	if (mtasts_txt_pick(&t, 1, id, &err) == 1) {
		n = strnlen(id, sizeof(id));
		if (n == 0 || n > MTASTS_ID_MAX)
			abort();
	}
	if ((nul = memchr(p, '\0', size)) != NULL &&
	    (size_t)(nul - p) < sizeof(a) && size - (size_t)(nul - p) - 1 <
	    sizeof(b)) {
		memcpy(a, p, (size_t)(nul - p));
		a[nul - p] = '\0';
		n = size - (size_t)(nul - p) - 1;
		memcpy(b, nul + 1, n);
		b[n] = '\0';
		(void)mtasts_mx_match(a, b);
	}
	return 0;
}
