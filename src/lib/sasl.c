/*
 * sasl: strict base64 and the PLAIN message, shared by the protocol state
 * machines of the server roles.  Everything here is peer input.
 */
#include <stdint.h>
#include <string.h>

#include "mailaddr.h"
#include "sasl.h"

static const char sasl_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
sasl_b64_value(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(sasl_b64, c)) == NULL)
		return -1;
	return (int)(p - sasl_b64);
}

int
sasl_b64_decode(struct span in, unsigned char *out, size_t *outlen)
{
	size_t		i, o = 0, pad = 0;
	int		v[4], k;
	uint32_t	q;

	if (in.len % 4 != 0)
		return -1;
	for (i = 0; i < in.len; i += 4) {
		for (k = 0; k < 4; k++) {
			if (in.ptr[i + k] == '=' && i + 4 == in.len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 ||
			    (v[k] = sasl_b64_value(in.ptr[i + k])) < 0)
				return -1;
		}
		q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if ((pad == 1 && (q & 0xff) != 0) ||
		    (pad == 2 && (q & 0xffff) != 0))
			return -1;
		out[o++] = (unsigned char)(q >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(q >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)q;
	}
	*outlen = o;
	return 0;
}

bool
sasl_user_valid(struct span u)
{
	size_t	i;

	/* SASL names are UTF-8 (RFC 4616 §2). */
	if (u.len == 0 || u.len > SASL_FIELD_MAX ||
	    !mailaddr_utf8_valid(u.ptr, u.len))
		return false;
	for (i = 0; i < u.len; i++)
		if ((unsigned char)u.ptr[i] < 0x20 || u.ptr[i] == 0x7f)
			return false;
	return true;
}

bool
sasl_pass_valid(struct span p)
{
	return p.len > 0 && p.len <= SASL_FIELD_MAX &&
	    memchr(p.ptr, '\0', p.len) == NULL;
}

enum sasl_plain
sasl_plain_parse(const char *p, size_t len, struct span *user_out,
    struct span *pass_out)
{
	const char	*nul1, *nul2;
	struct span	 authz;

	if ((nul1 = memchr(p, '\0', len)) == NULL ||
	    (nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 - p) - 1)) ==
	    NULL)
		return SASL_PLAIN_MALFORMED;
	authz = span_make(p, (size_t)(nul1 - p));
	*user_out = span_make(nul1 + 1, (size_t)(nul2 - nul1 - 1));
	*pass_out = span_make(nul2 + 1, len - (size_t)(nul2 - p) - 1);
	if (!sasl_user_valid(*user_out) || !sasl_pass_valid(*pass_out))
		return SASL_PLAIN_MALFORMED;
	if (authz.len > 0 && (authz.len != user_out->len ||
	    memcmp(authz.ptr, user_out->ptr, user_out->len) != 0))
		return SASL_PLAIN_AUTHZID;
	return SASL_PLAIN_OK;
}
