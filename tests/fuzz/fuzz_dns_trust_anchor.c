/*
 * libFuzzer target for dns_ta_parse(), the splitter of trust anchor
 * files (dnssec-trust-anchor): comments, parentheses across lines,
 * records of bounded size and number.  Broken invariants call abort():
 * a record handed over that is empty, longer than its bound, holds a
 * line end or a parenthesis, or is not DS or DNSKEY.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

static int
check(void *arg, const char *rec)
{
	size_t	n = strlen(rec);

	(void)arg;
	if (n == 0 || n >= 4096 || strpbrk(rec, "\r\n\t()") != NULL ||
	    (strstr(rec, " DS ") == NULL && strstr(rec, " DNSKEY ") == NULL))
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*errstr;
	char		*buf;

	if (size > 256 * 1024)
		return 0;
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	(void)dns_ta_parse(buf, size, check, NULL, &errstr);
	free(buf);
	return 0;
}
