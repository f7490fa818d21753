/*
 * libFuzzer target for spf.c's record parser and check_host(): the bytes
 * are an SPF record, checked for syntax and then evaluated over a fake
 * DNS that serves them as the TXT record of every name (so include and
 * redirect recurse into the same record), one address for every A and
 * AAAA query, two exchangers for MX and two names for PTR.  Broken
 * invariants abort(): a result out of range, a reason or explanation
 * not NUL-terminated within its bound or not printable, more queries
 * than SPF_QUERIES_MAX, an evaluation that does not end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf.h"

static void
check_text(const char *s, size_t max)
{
	size_t	i, n = strnlen(s, max);

	if (n >= max)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_request	 req;
	struct spf		*s;
	struct dns_rr		 rr[2];
	const char		*qname, *errstr;
	enum dns_type		 qtype;
	size_t			 steps = 0, n;
	char			 rec[SPF_RECORD_MAX + 1];

	if (size > SPF_RECORD_MAX)
		return 0;
	memcpy(rec, data, size);
	rec[size] = '\0';
	(void)spf_record_check(rec, size, &errstr);

	memset(&req, 0, sizeof(req));
	req.af = size % 2 ? AF_INET6 : AF_INET;
	req.ip[0] = 192;
	req.ip[3] = 7;
	req.helo = "mx.example.org";
	req.sender = "a.b-c@example.com";
	req.rcvhost = "mx.cachet.test";
	req.check_helo = size % 3 == 0;
	s = spf_new(&req);
	while (spf_eval(s, &qname, &qtype) == SPF_STEP_QUERY) {
		if (++steps > SPF_QUERIES_MAX + 1 ||
		    strlen(qname) > SPF_DOMAIN_MAX)
			abort();
		memset(rr, 0, sizeof(rr));
		rr[0].type = rr[1].type = qtype;
		n = 1;
		switch (qtype) {
		case DNS_T_TXT:
			rr[0].u.txt.data = rec;
			rr[0].u.txt.len = size;
			break;
		case DNS_T_A:
			memcpy(&rr[0].u.a, "\xc0\x00\x02\x07", 4);
			break;
		case DNS_T_AAAA:
			memcpy(&rr[0].u.aaaa, data, size < 16 ? size : 16);
			break;
		case DNS_T_MX:
			rr[0].u.mx.name = (char *)"mx1.example.org";
			rr[1].u.mx.name = (char *)"";
			n = 2;
			break;
		case DNS_T_PTR:
			rr[0].u.ptr.name = (char *)"mx.example.org";
			rr[1].u.ptr.name = (char *)"example.com";
			n = 2;
			break;
		default:
			abort();
		}
		spf_answer(s, qtype, qname, size % 5 == 1 ? DNS_NXDOMAIN :
		    DNS_OK, rr, n);
	}
	if ((unsigned)spf_result(s) >= SPF_RESULT_COUNT ||
	    spf_queries(s) > SPF_QUERIES_MAX)
		abort();
	check_text(spf_reason(s), SPF_REASON_MAX);
	check_text(spf_explanation(s), SPF_EXPLAIN_MAX);
	spf_free(s);
	return 0;
}
