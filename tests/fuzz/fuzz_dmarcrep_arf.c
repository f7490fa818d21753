/*
 * libFuzzer target for dmarcrep.c's failure reports (RFC 6591 over ARF,
 * RFC 5965): a mail parsed for its message/feedback-report part.
 * Broken invariants abort(): a parsed report has a Feedback-Type and
 * every field NUL-terminated within its size and free of control
 * characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarcrep.h"

static void
check(const char *s, size_t sz)
{
	size_t	n = strnlen(s, sz), i;

	if (n == sz)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarcrep_arf	 a;
	const char		*err;

	if (dmarcrep_arf_parse((const char *)data, size, &a, &err) == -1)
		return 0;
	if (a.feedback_type[0] == '\0')
		abort();
	check(a.feedback_type, sizeof(a.feedback_type));
	check(a.user_agent, sizeof(a.user_agent));
	check(a.source_ip, sizeof(a.source_ip));
	check(a.original_mail_from, sizeof(a.original_mail_from));
	check(a.original_rcpt_to, sizeof(a.original_rcpt_to));
	check(a.arrival_date, sizeof(a.arrival_date));
	check(a.reported_domain, sizeof(a.reported_domain));
	check(a.auth_failure, sizeof(a.auth_failure));
	check(a.delivery_result, sizeof(a.delivery_result));
	check(a.identity_alignment, sizeof(a.identity_alignment));
	return 0;
}
