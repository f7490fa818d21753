/*
 * libFuzzer target for dnsbl.c: the bytes as a `returns` list, and (up
 * to the first NUL) as an address whose query name is built.  Broken
 * invariants abort(): every parsed range lies in 127.0.0.0/8 with its
 * start not after its end, an error code never matches, and a query
 * name is NUL-terminated within its bound and ends with the zone.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dnsbl.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsbl_returns	 r;
	const char		*errstr;
	char			 ip[128], name[DNS_NAME_MAX + 1];
	size_t			 i, n;

	if (dnsbl_returns_parse((const char *)data, size, &r, &errstr) == 0) {
		if (r.n == 0 || r.n > DNSBL_RETURNS_MAX)
			abort();
		for (i = 0; i < r.n; i++)
			if ((r.lo[i] >> 24) != 127 || (r.hi[i] >> 24) != 127 ||
			    r.lo[i] > r.hi[i])
				abort();
		if (dnsbl_returns_match(&r, 0x7ffffffe))
			abort();
	}
	n = size < sizeof(ip) - 1 ? size : sizeof(ip) - 1;
	memcpy(ip, data, n);
	ip[n] = '\0';
	if (dnsbl_query_name(ip, "bl.example", name, sizeof(name)) == 0) {
		n = strnlen(name, sizeof(name));
		if (n == sizeof(name) || n < 11 ||
		    strcmp(name + n - 11, ".bl.example") != 0)
			abort();
	}
	return 0;
}
