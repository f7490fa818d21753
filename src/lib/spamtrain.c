/*
 * spamtrain: see spamtrain.h.  The learn-once id of a message and the
 * mbox reader of `spam train`.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "mime.h"
#include "mime_hdr.h"
#include "spamtrain.h"

#define SPAMTRAIN_FROM		"From "
#define SPAMTRAIN_FROM_LEN	5

/* The header section: up to and with the blank line, or all of it. */
static size_t
spamtrain_header_len(const char *data, size_t len)
{
	const char	*lf;
	size_t		 off = 0;

	while (off < len) {
		if (data[off] == '\n')
			return off + 1;
		if (data[off] == '\r' && off + 1 < len && data[off + 1] == '\n')
			return off + 2;
		if ((lf = memchr(data + off, '\n', len - off)) == NULL)
			break;
		off = (size_t)(lf - data) + 1;
	}
	return len;
}

bool
spamtrain_id_ok(const char *p, size_t len)
{
	size_t	i;

	if (len == 0 || len >= SPAMTRAIN_ID_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return false;
	return true;
}

/* The first msg-id of the Message-ID field, into out; -1 when none. */
static int
spamtrain_msgid(const char *data, size_t hlen, char out[SPAMTRAIN_ID_MAX])
{
	struct mime_msg		 mm;
	struct mime_msgids	 ids;
	const struct mime_field	*f;
	const char		*at;
	size_t			 i;
	int			 rc = -1;

	memset(&mm, 0, sizeof(mm));
	memset(&ids, 0, sizeof(ids));
	mime_parse(&mm, data, hlen);
	if ((f = mime_part_field(&mm, 0, "Message-ID", NULL)) != NULL &&
	    mime_hdr_msgids(mime_field_value(&mm, f), &ids) == 0 &&
	    spamtrain_id_ok(ids.v[0].ptr, ids.v[0].len)) {
		memcpy(out, ids.v[0].ptr, ids.v[0].len);
		out[ids.v[0].len] = '\0';
		/* The last '@': a quoted left side may hold one. */
		at = memrchr(out, '@', ids.v[0].len);
		for (i = at != NULL ? (size_t)(at - out) : 0;
		    i < ids.v[0].len; i++)
			if (out[i] >= 'A' && out[i] <= 'Z')
				out[i] = (char)(out[i] - 'A' + 'a');
		rc = 0;
	}
	mime_msgids_free(&ids);
	mime_msg_free(&mm);
	return rc;
}

void
spamtrain_id(const char *data, size_t len, char out[SPAMTRAIN_ID_MAX])
{
	static const char	 hex[] = "0123456789abcdef";
	EVP_MD_CTX		*ctx;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	size_t			 hlen, off = 0, n;

	hlen = spamtrain_header_len(data, len);
	if (spamtrain_msgid(data, hlen, out) == 0)
		return;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		fatalx("spamtrain: sha256 init failed");
	/* Hash the runs between the CRs of CR LF pairs. */
	while (off < hlen) {
		for (n = off; n < hlen; n++)
			if (data[n] == '\r' && n + 1 < hlen &&
			    data[n + 1] == '\n')
				break;
		if (EVP_DigestUpdate(ctx, data + off, n - off) != 1)
			fatalx("spamtrain: sha256 update failed");
		off = n + 1;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		fatalx("spamtrain: sha256 final failed");
	EVP_MD_CTX_free(ctx);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < mdlen && 7 + 2 * (size_t)i + 2 < SPAMTRAIN_ID_MAX;
	    i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[7 + 2 * i + 1] = hex[md[i] & 0xf];
	}
	out[7 + 2 * i] = '\0';
}

static bool
spamtrain_from_line(const char *p, size_t len)
{
	return len >= SPAMTRAIN_FROM_LEN &&
	    memcmp(p, SPAMTRAIN_FROM, SPAMTRAIN_FROM_LEN) == 0;
}

bool
spamtrain_is_mbox(const char *data, size_t len)
{
	return spamtrain_from_line(data, len);
}

bool
spamtrain_mbox_next(struct span *rest, struct span *msg_out)
{
	const char	*p = rest->ptr, *lf;
	size_t		 len = rest->len, off;

	/* Skip to the first separator (and past it). */
	while (len > 0 && !spamtrain_from_line(p, len)) {
		if ((lf = memchr(p, '\n', len)) == NULL) {
			rest->ptr = p + len;
			rest->len = 0;
			return false;
		}
		len -= (size_t)(lf - p) + 1;
		p = lf + 1;
	}
	if (len == 0) {
		rest->ptr = p;
		rest->len = 0;
		return false;
	}
	if ((lf = memchr(p, '\n', len)) == NULL)
		off = len;
	else
		off = (size_t)(lf - p) + 1;
	p += off;
	len -= off;
	/* The message runs to the next line that is a separator. */
	off = 0;
	while (off < len && !spamtrain_from_line(p + off, len - off)) {
		if ((lf = memchr(p + off, '\n', len - off)) == NULL)
			off = len;
		else
			off = (size_t)(lf - p) + 1;
	}
	*msg_out = span_make(p, off);
	rest->ptr = p + off;
	rest->len = len - off;
	return true;
}

int
spamtrain_mbox_unquote(struct span msg, struct buf *out)
{
	const char	*p = msg.ptr, *lf;
	size_t		 len = msg.len, n, q;

	while (len > 0) {
		lf = memchr(p, '\n', len);
		n = lf != NULL ? (size_t)(lf - p) + 1 : len;
		for (q = 0; q < n && p[q] == '>'; q++)
			;
		/* mboxrd (of the family RFC 4155 describes): one '>' a level. */
		if (q > 0 && spamtrain_from_line(p + q, n - q)) {
			if (buf_append(out, p + 1, n - 1) == -1)
				return -1;
		} else if (buf_append(out, p, n) == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}
