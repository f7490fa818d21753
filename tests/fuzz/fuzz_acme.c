/*
 * libFuzzer target for acme.c's parsers: what an ACME server answers.
 * The first byte picks the parser (directory, order, authorization,
 * error document); the rest is the body, a heap copy of exactly its
 * length.  Checked: every string kept is NUL-terminated inside its
 * field, URLs are https, a token is one acme_token_ok() takes, and the
 * counts stay within their arrays.  Broken invariants call abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"

static void
fz_str(const char *s, size_t sz, bool url)
{
	size_t	len = strnlen(s, sz);

	if (len == sz)
		abort();
	if (url && len > 0 && strncmp(s, "https://", 8) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acme_directory	 d;
	struct acme_order	 o;
	struct acme_authz	 a;
	const char		*err;
	char			*p, out[ACME_DETAIL_MAX];
	size_t			 len, i;

	if (size < 1)
		return 0;
	len = size - 1;
	p = malloc(len > 0 ? len : 1);
	if (p == NULL)
		return 0;
	memcpy(p, data + 1, len);
	switch (data[0] % 4) {
	case 0:
		if (acme_parse_directory(p, len, &d, &err) == 0) {
			fz_str(d.new_nonce, sizeof(d.new_nonce), true);
			fz_str(d.new_account, sizeof(d.new_account), true);
			fz_str(d.new_order, sizeof(d.new_order), true);
			if (d.new_nonce[0] == '\0' || d.new_order[0] == '\0')
				abort();
		}
		break;
	case 1:
		if (acme_parse_order(p, len, &o, &err) == 0) {
			if (o.nauthz == 0 || o.nauthz > ACME_AUTHZ_MAX ||
			    o.status == ACME_S_UNKNOWN)
				abort();
			for (i = 0; i < o.nauthz; i++)
				fz_str(o.authz[i], sizeof(o.authz[i]), true);
			fz_str(o.finalize, sizeof(o.finalize), true);
			fz_str(o.certificate, sizeof(o.certificate), true);
			fz_str(o.error, sizeof(o.error), false);
		}
		break;
	case 2:
		if (acme_parse_authz(p, len, &a, &err) == 0) {
			fz_str(a.name, sizeof(a.name), false);
			fz_str(a.error, sizeof(a.error), false);
			if (a.has_http01) {
				fz_str(a.chall_url, sizeof(a.chall_url), true);
				if (!acme_token_ok(a.token, strlen(a.token)))
					abort();
			}
		}
		break;
	default:
		acme_problem(p, len, out, sizeof(out));
		fz_str(out, sizeof(out), false);
		for (i = 0; out[i] != '\0'; i++)
			if ((unsigned char)out[i] < 0x20)
				abort();
		(void)acme_problem_bad_nonce(p, len);
		break;
	}
	free(p);
	return 0;
}
