/*
 * libFuzzer target for dns.c's answer parsers: the rdata of each type we
 * ask for, the wire names inside them, and the host-name check mx.c
 * applies to what comes out.  The first byte picks the type; the rest is
 * the rdata as libunbound would hand it over.  Broken invariants call
 * abort(): a parsed name longer than its bound or not NUL-terminated, a
 * TXT longer than its rdata, lengths that do not add up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_type types[] = {
		DNS_T_A, DNS_T_MX, DNS_T_TXT, DNS_T_AAAA, DNS_T_TLSA,
		DNS_T_PTR, DNS_T_CNAME, DNS_T_SRV,
	};
	struct dns_rr	rr;
	char		name[DNS_NAME_TEXT_MAX + 1];
	size_t		used, n;

	if (size < 1)
		return 0;
	if (dns_parse_rdata(types[data[0] % (sizeof(types) /
	    sizeof(types[0]))], data + 1, size - 1, &rr) == 0) {
		switch (rr.type) {
		case DNS_T_MX:
			n = strlen(rr.u.mx.name);
			if (n > DNS_NAME_TEXT_MAX)
				abort();
			(void)dns_hostname_ok(rr.u.mx.name, n);
			break;
		case DNS_T_PTR:
			if (strlen(rr.u.ptr.name) > DNS_NAME_TEXT_MAX)
				abort();
			break;
		case DNS_T_CNAME:
			if (strlen(rr.u.cname.name) > DNS_NAME_TEXT_MAX)
				abort();
			break;
		case DNS_T_SRV:
			if (strlen(rr.u.srv.target) > DNS_NAME_TEXT_MAX ||
			    size - 1 < 7)
				abort();
			break;
		case DNS_T_TXT:
			if (rr.u.txt.len >= size - 1 ||
			    rr.u.txt.data[rr.u.txt.len] != '\0')
				abort();
			break;
		case DNS_T_TLSA:
			if (rr.u.tlsa.len + 3 != size - 1)
				abort();
			break;
		case DNS_T_A:
		case DNS_T_AAAA:
			break;
		}
	}
	dns_rr_clear(&rr);
	if (dns_parse_name(data + 1, size - 1, name, sizeof(name), &used) ==
	    0) {
		if (used > size - 1 || used > DNS_WIRE_NAME_MAX ||
		    strlen(name) > DNS_NAME_TEXT_MAX)
			abort();
	}
	(void)dns_hostname_ok((const char *)data, size);
	return 0;
}
