/*
 * imap_mutf7: modified UTF-7 <-> UTF-8 for mailbox names (contract in
 * imap_mutf7.h).  Input is the client's or a folder name found on
 * disk: both are untrusted, every step is checked, nothing recurses.
 */
#include <stdint.h>
#include <string.h>

#include "imap_mutf7.h"

/* RFC 3501 §5.1.3: RFC 2152's base64 with "," for "/". */
static const char mutf7_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static bool
printable(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* C0 controls and DEL: no part of a name in either form. */
static bool
control(uint32_t c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * One code point of strict UTF-8 at p[*i]; -1 for an invalid, overlong
 * or surrogate sequence or one above U+10FFFF.
 */
static int
utf8_next(const unsigned char *p, size_t len, size_t *i, uint32_t *cp_out)
{
	uint32_t	cp, min;
	size_t		n, k;
	unsigned char	c = p[*i];

	if (c < 0x80) {
		n = 0;
		cp = c;
		min = 0;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (len - *i <= n)
		return -1;
	for (k = 1; k <= n; k++) {
		if ((p[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[*i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	*cp_out = cp;
	return 0;
}

/* 16 more bits into the shift's base64. */
static int
b64_unit(struct buf *out, uint32_t *bits, unsigned *nbits, uint32_t unit)
{
	*bits = (*bits << 16) | unit;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		if (buf_append_char(out, mutf7_b64[(*bits >> *nbits) &
		    0x3f]) == -1)
			return -1;
	}
	*bits &= (1u << *nbits) - 1;
	return 0;
}

int
imap_mutf7_encode(struct span utf8, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)utf8.ptr;
	size_t			 i = 0;
	uint32_t		 cp, bits;
	unsigned		 nbits;

	while (i < utf8.len) {
		if (printable(p[i])) {
			if (p[i] == '&' ? buf_append(out, "&-", 2) == -1 :
			    buf_append_char(out, (char)p[i]) == -1)
				return -1;
			i++;
			continue;
		}
		if (control(p[i]))
			return -1;
		/* A run of everything else, as one shift. */
		if (buf_append_char(out, '&') == -1)
			return -1;
		bits = 0;
		nbits = 0;
		while (i < utf8.len && !printable(p[i])) {
			if (control(p[i]) || utf8_next(p, utf8.len, &i,
			    &cp) == -1)
				return -1;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				if (b64_unit(out, &bits, &nbits, 0xd800 +
				    (cp >> 10)) == -1 || b64_unit(out, &bits,
				    &nbits, 0xdc00 + (cp & 0x3ff)) == -1)
					return -1;
			} else if (b64_unit(out, &bits, &nbits, cp) == -1)
				return -1;
		}
		if (nbits > 0 && buf_append_char(out, mutf7_b64[(bits <<
		    (6 - nbits)) & 0x3f]) == -1)
			return -1;
		if (buf_append_char(out, '-') == -1)
			return -1;
	}
	return 0;
}

/* One UTF-16 unit of a shift; *hi holds a high surrogate waiting. */
static int
decode_unit(struct buf *out, uint32_t u, uint32_t *hi)
{
	if (*hi != 0) {
		if (u < 0xdc00 || u > 0xdfff)
			return -1;
		u = 0x10000 + ((*hi - 0xd800) << 10) + (u - 0xdc00);
		*hi = 0;
		return buf_append_utf8(out, u);
	}
	if (u >= 0xd800 && u <= 0xdbff) {
		*hi = u;
		return 0;
	}
	/* a lone low surrogate; what must be written directly */
	if ((u >= 0xdc00 && u <= 0xdfff) || printable(u) || control(u))
		return -1;
	return buf_append_utf8(out, u);
}

int
imap_mutf7_decode(struct span mutf7, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)mutf7.ptr;
	size_t			 i = 0, units;
	uint32_t		 bits, hi;
	unsigned		 nbits;
	bool			 after_shift = false;
	int			 v;

	while (i < mutf7.len) {
		if (!printable(p[i]))
			return -1;
		if (p[i] != '&') {
			if (buf_append_char(out, (char)p[i]) == -1)
				return -1;
			i++;
			after_shift = false;
			continue;
		}
		i++;
		if (i < mutf7.len && p[i] == '-') {
			if (buf_append_char(out, '&') == -1)
				return -1;
			i++;
			after_shift = false;
			continue;
		}
		/* "&AOk-&AOk-" is "&AOkA6Q-" written twice as long */
		if (after_shift)
			return -1;
		bits = hi = 0;
		nbits = 0;
		units = 0;
		while (i < mutf7.len && p[i] != '-') {
			if ((v = b64_value(p[i])) == -1)
				return -1;
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			i++;
			if (nbits >= 16) {
				nbits -= 16;
				if (decode_unit(out, (bits >> nbits) & 0xffff,
				    &hi) == -1)
					return -1;
				bits &= (1u << nbits) - 1;
				units++;
			}
		}
		if (i == mutf7.len)
			return -1;	/* no "-" */
		i++;
		/* RFC 2152: the leftover bits are fewer than 6, all zero */
		if (units == 0 || hi != 0 || nbits >= 6 || bits != 0)
			return -1;
		after_shift = true;
	}
	return 0;
}

bool
imap_mutf7_valid(struct span mutf7)
{
	struct buf	b;
	bool		ok;

	/* UTF-8 is at most 3/2 of the modified UTF-7 it came from. */
	buf_init(&b, mutf7.len * 2 + 16);
	ok = imap_mutf7_decode(mutf7, &b) == 0;
	buf_free(&b);
	return ok;
}
