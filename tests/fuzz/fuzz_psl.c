/*
 * libFuzzer target for psl.c: the bytes as a Public Suffix List file,
 * then each of its lines as a name asked about that list.  Broken
 * invariants abort(): an organisational domain is a suffix of the name
 * asked, has one label more than the public suffix, and A-label forms
 * are short, lower case ASCII.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "psl.h"

static void
fuzz_name(const struct psl *psl, const char *p, size_t len)
{
	char		 a[PSL_NAME_MAX + 1];
	const char	*org;
	size_t		 orglen, n, i;

	if (psl_alabel(p, len, a, sizeof(a)) == 0) {
		n = strlen(a);
		if (n == 0 || n > PSL_NAME_MAX)
			abort();
		for (i = 0; i < n; i++)
			if ((unsigned char)a[i] >= 0x80 ||
			    (a[i] >= 'A' && a[i] <= 'Z'))
				abort();
	}
	n = psl_suffix_labels(psl, p, len, PSL_ALL);
	if (psl_org_domain(psl, p, len, PSL_ALL, &org, &orglen) == 0) {
		if (n == 0 || org < p || org + orglen > p + len ||
		    orglen == 0)
			abort();
		if (psl_suffix_labels(psl, org, orglen, PSL_ALL) != n)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psl	*psl = psl_new();
	const char	*p = (const char *)data, *err, *nl;
	size_t		 skipped, left = size;

	(void)psl_parse(psl, p, size, &skipped, &err);
	while (left > 0) {
		nl = memchr(p, '\n', left);
		fuzz_name(psl, p, nl == NULL ? left : (size_t)(nl - p));
		if (nl == NULL)
			break;
		left -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	psl_free(psl);
	return 0;
}
