/*
 * libFuzzer target for dmarcrep.c's aggregate reports (RFC 7489 §7.2,
 * Appendix C): the same bytes as a report found in a mail or archive
 * (dmarcrep_extract: XML, gzip, zip, MIME) and then parsed, and parsed
 * as they are.  Broken invariants abort(): a parsed report holds
 * NUL-terminated fields within their sizes, at least one record, at
 * most DMARCREP_SOURCES_MAX failing sources, and pass + fail equal to
 * its messages.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmarcrep.h"

static void
fuzz_parse(const char *p, size_t size)
{
	struct dmarcrep_summary	 s;
	const char		*err;

	if (dmarcrep_parse(p, size, &s, &err) == -1)
		return;
	if (s.nrecords == 0 || s.nsources > DMARCREP_SOURCES_MAX ||
	    s.pass + s.fail != s.messages || s.p > DMARCREP_REJECT ||
	    strnlen(s.org, sizeof(s.org)) == sizeof(s.org) ||
	    strnlen(s.report_id, sizeof(s.report_id)) ==
	    sizeof(s.report_id) || s.report_id[0] == '\0' ||
	    strnlen(s.domain, sizeof(s.domain)) == sizeof(s.domain))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 b;
	const char	*err, *p = (const char *)data;

	fuzz_parse(p, size);
	buf_init(&b, DMARCREP_XML_MAX);
	if (dmarcrep_extract(p, size, &b, &err) == 0) {
		if (b.len > DMARCREP_XML_MAX)
			abort();
		fuzz_parse(b.data, b.len);
	}
	buf_free(&b);
	return 0;
}
