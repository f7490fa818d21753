/*
 * libFuzzer target for tlsrpt.c: the same bytes as an RFC 8460 §4.4
 * report (plain, and gunzipped when they are gzip), as a mail carrying
 * one (§5.3, through mime.c), as a "_smtp._tls" TXT
 * record (§3) and as an RFC 3339 date-time.  Broken invariants abort():
 * a parsed report holds NUL-terminated fields within their sizes and at
 * most TLSRPT_POLICIES_MAX policies; a parsed record at least one
 * mailto: or https: URI.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "tlsrpt.h"

static void
fuzz_report(const char *p, size_t size)
{
	struct tlsrpt_summary	 s;
	const char		*err;

	if (tlsrpt_parse(p, size, &s, &err) == -1)
		return;
	if (s.npolicies > TLSRPT_POLICIES_MAX || s.org[0] == '\0' ||
	    strnlen(s.org, sizeof(s.org)) == sizeof(s.org) ||
	    strnlen(s.report_id, sizeof(s.report_id)) == sizeof(s.report_id) ||
	    strnlen(s.domain, sizeof(s.domain)) == sizeof(s.domain) ||
	    s.end < s.start)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsrpt_record	 r;
	struct buf		 b;
	const char		*err, *p = (const char *)data;
	uint64_t		 t;
	size_t			 i;

	fuzz_report(p, size);
	buf_init(&b, TLSRPT_JSON_MAX);
	if (tlsrpt_gunzip(p, size, TLSRPT_JSON_MAX, &b) == 0)
		fuzz_report(b.data != NULL ? b.data : "", b.len);
	buf_reset(&b);
	if (tlsrpt_mail_extract(p, size, &b, &err) == 0) {
		if (b.len > TLSRPT_JSON_MAX)
			abort();
		fuzz_report(b.data != NULL ? b.data : "", b.len);
	}
	buf_free(&b);
	if (tlsrpt_record_parse(p, size, &r, &err) == 0) {
		if (r.nrua == 0 || r.nrua > TLSRPT_RUA_MAX)
			abort();
		for (i = 0; i < r.nrua; i++)
			if (strncasecmp(r.rua[i], "mailto:", 7) != 0 &&
			    strncasecmp(r.rua[i], "https://", 8) != 0)
				abort();
	}
	(void)tlsrpt_datetime_parse(p, size, &t);
	return 0;
}
