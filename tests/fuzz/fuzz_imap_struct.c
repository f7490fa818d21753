/*
 * libFuzzer target for imap_struct.c.  The input is a BODY[] section spec
 * (up to the first NUL, at most 256 bytes) and then a message; both are
 * copied into heap blocks of exactly their length.  The section spec is
 * mapped and its region taken; the message's BODY and BODYSTRUCTURE and
 * the ENVELOPE of every message header are written, and each must be
 * one well-formed IMAP value (balanced lists, closed quoted strings,
 * literals of the size they announce); otherwise abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap/imap_struct.h"
#include "mime.h"

#define FUZZ_SPEC_MAX	256

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A string or atom token at *i (RFC 3501 §9: quoted, literal, atom). */
static bool
token_ok(const char *p, size_t len, size_t *i)
{
	size_t	n;

	if (p[*i] == '"') {
		for ((*i)++; *i < len && p[*i] != '"'; (*i)++) {
			if (p[*i] == '\r' || p[*i] == '\n' ||
			    (unsigned char)p[*i] >= 0x80)
				return false;
			if (p[*i] == '\\' && ++(*i) >= len)
				return false;
		}
		if (*i >= len)
			return false;
		(*i)++;
		return true;
	}
	if (p[*i] == '{') {
		n = 0;
		for ((*i)++; *i < len && p[*i] >= '0' && p[*i] <= '9' &&
		    n < len; (*i)++)
			n = n * 10 + (size_t)(p[*i] - '0');
		if (len - *i < 3 || memcmp(p + *i, "}\r\n", 3) != 0)
			return false;
		*i += 3;
		if (len - *i < n || memchr(p + *i, '\0', n) != NULL)
			return false;
		*i += n;
		return true;
	}
	n = *i;
	while (*i < len && p[*i] != ' ' && p[*i] != '(' && p[*i] != ')' &&
	    p[*i] != '"' && p[*i] != '{')
		(*i)++;
	return *i > n;
}

/* out is one IMAP value: a list with balanced parentheses around tokens. */
static void
check(const struct buf *b)
{
	size_t	i = 0, depth = 0;

	if (b->len == 0 || b->data[0] != '(')
		abort();
	while (i < b->len) {
		if (b->data[i] == '(') {
			depth++;
			i++;
		} else if (b->data[i] == ')') {
			if (depth == 0)
				abort();
			depth--;
			i++;
			if (depth == 0 && i != b->len)
				abort();
		} else if (b->data[i] == ' ')
			i++;
		else if (depth == 0 || !token_ok(b->data, b->len, &i))
			abort();
	}
	if (depth != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_msg			 m;
	struct buf			 out, bs, body;
	enum imap_struct_region		 region;
	struct span			 fields, s;
	const uint8_t			*nul;
	char				*spec, *msg;
	size_t				 speclen, msglen;
	int				 both;
	uint64_t			 crlf;
	uint32_t			 part, k;

	nul = memchr(data, '\0', size < FUZZ_SPEC_MAX ? size : FUZZ_SPEC_MAX);
	speclen = nul != NULL ? (size_t)(nul - data) : 0;
	msglen = nul != NULL ? size - speclen - 1 : size;
	spec = malloc(speclen + 1);
	msg = malloc(msglen + 1);
	if (spec == NULL || msg == NULL)
		abort();
	memcpy(spec, data, speclen);
	memcpy(msg, nul != NULL ? nul + 1 : data, msglen);

	memset(&m, 0, sizeof(m));
	mime_parse(&m, msg, msglen);
	if (imap_struct_section(&m, span_make(spec, speclen), &part, &region,
	    &fields) == 0) {
		if (part >= m.nparts)
			abort();
		imap_struct_region(&m, part, region, &s, &crlf);
		if (s.ptr < msg || s.ptr + s.len > msg + msglen ||
		    crlf < s.len)
			abort();
		if ((region == IMAP_STRUCT_FIELDS ||
		    region == IMAP_STRUCT_FIELDS_NOT) &&
		    (fields.len == 0 || fields.ptr < spec ||
		    fields.ptr + fields.len != spec + speclen))
			abort();
	}
	buf_init(&out, 64UL * 1024 * 1024);
	buf_init(&bs, 64UL * 1024 * 1024);
	buf_init(&body, 64UL * 1024 * 1024);
	/* one walk for both forms gives what each walk alone gives */
	both = imap_struct_bodies(&bs, &body, &m, 0);
	if (imap_struct_bodystructure(&out, &m, 0, true) == 0) {
		check(&out);
		if (both != 0 || out.len != bs.len ||
		    memcmp(out.data, bs.data, out.len) != 0)
			abort();
	}
	buf_reset(&out);
	if (imap_struct_bodystructure(&out, &m, 0, false) == 0) {
		check(&out);
		if (both != 0 || out.len != body.len ||
		    memcmp(out.data, body.data, out.len) != 0)
			abort();
	}
	buf_free(&bs);
	buf_free(&body);
	for (k = 0; k < m.nparts; k++) {
		if (k != 0 && m.parts[m.parts[k].parent].kind !=
		    MIME_KIND_MESSAGE)
			continue;
		buf_reset(&out);
		if (imap_struct_envelope(&out, &m, k) == 0)
			check(&out);
	}
	buf_free(&out);
	mime_msg_free(&m);
	free(spec);
	free(msg);
	return 0;
}
