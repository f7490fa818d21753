/*
 * dkim: see dkim.h.  Canonicalisation follows RFC 6376 §3.4 with erratum
 * 3192 (relaxed: an empty body hashes as nothing, simple: as one CRLF).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "dkim.h"
#include "log.h"
#include "util.h"

#define DKIM_BH_CHUNK	4096	/* canonical octets gathered per update */

struct dkim_bh {
	EVP_MD_CTX	*ctx;
	enum dkim_canon	 canon;
	uint64_t	 limit;
	uint64_t	 hashed;
	uint64_t	 empty;		/* empty lines held back */
	bool		 wsp;		/* relaxed: WSP held back in a line */
	bool		 cr;		/* a CR held back */
	bool		 content;	/* the current line has content */
	bool		 any;		/* anything went into the hash */
	size_t		 outlen;
	unsigned char	 out[DKIM_BH_CHUNK];
};

static void
bh_flush(struct dkim_bh *bh)
{
	if (bh->outlen > 0 && EVP_DigestUpdate(bh->ctx, bh->out,
	    bh->outlen) != 1)
		fatalx("dkim: EVP_DigestUpdate failed");
	bh->outlen = 0;
}

/* Canonical octets into the hash, up to the limit. */
static void
bh_emit(struct dkim_bh *bh, const char *p, size_t n)
{
	size_t	room;

	if (bh->limit - bh->hashed < n)
		n = (size_t)(bh->limit - bh->hashed);
	bh->hashed += n;
	if (n > 0)
		bh->any = true;
	while (n > 0) {
		room = sizeof(bh->out) - bh->outlen;
		if (room > n)
			room = n;
		memcpy(bh->out + bh->outlen, p, room);
		bh->outlen += room;
		p += room;
		n -= room;
		if (bh->outlen == sizeof(bh->out))
			bh_flush(bh);
	}
}

/* Content octets of a line: what was held back first. */
static void
bh_content(struct dkim_bh *bh, const char *p, size_t n)
{
	for (; bh->empty > 0; bh->empty--)
		bh_emit(bh, "\r\n", 2);
	if (bh->wsp) {
		bh_emit(bh, " ", 1);
		bh->wsp = false;
	}
	bh_emit(bh, p, n);
	bh->content = true;
}

/* A CRLF: a line with content keeps it; empty lines wait (§3.4.3). */
static void
bh_line_end(struct dkim_bh *bh)
{
	if (bh->content)
		bh_emit(bh, "\r\n", 2);
	else if (bh->empty < UINT64_MAX)
		bh->empty++;
	bh->content = false;
	bh->wsp = false;	/* relaxed §3.4.4: WSP at a line's end goes */
}

struct dkim_bh *
dkim_bh_new(const struct dkim_bh_spec *spec)
{
	struct dkim_bh	*bh = xcalloc(1, sizeof(*bh));
	const EVP_MD	*md = spec->hash == DKIM_HASH_SHA1 ? EVP_sha1() :
			    EVP_sha256();

	bh->canon = spec->canon;
	bh->limit = spec->limit;
	if ((bh->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(bh->ctx, md, NULL) != 1)
		fatalx("dkim: cannot start a digest");
	return bh;
}

void
dkim_bh_update(struct dkim_bh *bh, const char *p, size_t n)
{
	size_t	i = 0, j;
	char	c;

	while (i < n) {
		c = p[i];
		if (bh->cr) {
			bh->cr = false;
			if (c == '\n') {
				bh_line_end(bh);
				i++;
				continue;
			}
			bh_content(bh, "\r", 1);
		}
		if (c == '\r') {
			bh->cr = true;
			i++;
			continue;
		}
		if (bh->canon == DKIM_CANON_RELAXED &&
		    (c == ' ' || c == '\t')) {
			bh->wsp = true;
			i++;
			continue;
		}
		/* A run of plain octets at once. */
		for (j = i + 1; j < n && p[j] != '\r' && (bh->canon ==
		    DKIM_CANON_SIMPLE || (p[j] != ' ' && p[j] != '\t')); j++)
			;
		bh_content(bh, p + i, j - i);
		i = j;
	}
}

size_t
dkim_bh_final(struct dkim_bh *bh, unsigned char *out, uint64_t *hashed)
{
	unsigned int	len = 0;

	if (bh->cr)
		bh_content(bh, "\r", 1);
	bh->cr = false;
	/* A last line without CRLF gets one (§3.4.3, §3.4.4). */
	if (bh->content)
		bh_line_end(bh);
	/* simple: an empty body is one CRLF (§3.4.3) */
	if (bh->canon == DKIM_CANON_SIMPLE && !bh->any)
		bh_emit(bh, "\r\n", 2);
	bh_flush(bh);
	if (EVP_DigestFinal_ex(bh->ctx, out, &len) != 1 ||
	    len > DKIM_DIGEST_MAX)
		fatalx("dkim: EVP_DigestFinal_ex failed");
	if (hashed != NULL)
		*hashed = bh->hashed;
	return len;
}

void
dkim_bh_free(struct dkim_bh *bh)
{
	if (bh == NULL)
		return;
	EVP_MD_CTX_free(bh->ctx);
	free(bh);
}

/* --- header fields --- */

static bool
ascii_isalpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
ascii_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
ascii_isalnum(char c)
{
	return ascii_isalpha(c) || ascii_isdigit(c);
}

static char
ascii_tolower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

int
dkim_canon_header(enum dkim_canon canon, struct span f, bool crlf,
    struct buf *out)
{
	const char	*colon;
	size_t		 i, end, name_end;
	bool		 wsp = false, value_start = true;
	int		 rc = 0;

	if ((colon = memchr(f.ptr, ':', f.len)) == NULL)
		return -1;
	/* The field without its final CRLF. */
	end = f.len;
	if (end >= 2 && f.ptr[end - 2] == '\r' && f.ptr[end - 1] == '\n')
		end -= 2;
	if (canon == DKIM_CANON_SIMPLE) {
		rc |= buf_append(out, f.ptr, end);
		if (crlf)
			rc |= buf_append(out, "\r\n", 2);
		return rc == 0 ? 0 : -1;
	}
	/* relaxed §3.4.2: lower-case name, no WSP around the colon */
	name_end = (size_t)(colon - f.ptr);
	while (name_end > 0 && is_wsp(f.ptr[name_end - 1]))
		name_end--;
	for (i = 0; i < name_end; i++)
		rc |= buf_append_char(out, ascii_tolower(f.ptr[i]));
	rc |= buf_append_char(out, ':');
	i = (size_t)(colon - f.ptr) + 1;
	/* Unfold, squeeze WSP runs to one SP, drop it at both ends. */
	for (; i < end; i++) {
		if (f.ptr[i] == '\r' && i + 1 < end && f.ptr[i + 1] == '\n') {
			i++;
			continue;
		}
		if (is_wsp(f.ptr[i])) {
			wsp = true;
			continue;
		}
		/* only the WSP right after the name's colon goes, not a
		 * colon's inside the value ("h=from : to") */
		if (wsp && !value_start)
			rc |= buf_append_char(out, ' ');
		wsp = false;
		value_start = false;
		rc |= buf_append_char(out, f.ptr[i]);
	}
	if (crlf)
		rc |= buf_append(out, "\r\n", 2);
	return rc == 0 ? 0 : -1;
}

int
dkim_header_next(struct span h, size_t *pos, struct span *field,
    struct span *name)
{
	const char	*lf, *colon;
	size_t		 start = *pos, i = *pos, n;

	if (i >= h.len)
		return 0;
	/* An empty line ends the header section. */
	if (h.ptr[i] == '\n' || (h.ptr[i] == '\r' && i + 1 < h.len &&
	    h.ptr[i + 1] == '\n'))
		return 0;
	/* The field runs until a line that does not start with WSP. */
	for (;;) {
		lf = memchr(h.ptr + i, '\n', h.len - i);
		i = lf == NULL ? h.len : (size_t)(lf - h.ptr) + 1;
		if (i >= h.len || !is_wsp(h.ptr[i]))
			break;
	}
	n = i - start;
	colon = memchr(h.ptr + start, ':', n);
	lf = memchr(h.ptr + start, '\n', n);
	if (colon == NULL || (lf != NULL && colon > lf))
		return -1;
	*field = span_make(h.ptr + start, n);
	n = (size_t)(colon - (h.ptr + start));
	while (n > 0 && is_wsp(h.ptr[start + n - 1]))
		n--;
	*name = span_make(h.ptr + start, n);
	*pos = i;
	return 1;
}

/* --- tag lists --- */

static bool
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
dkim_tag_next(struct span l, size_t *pos, struct span *tag,
    struct span *value)
{
	size_t	i = *pos, t0, t1, v0, v1;

	/* Skip white space and empty "; ;" entries. */
	while (i < l.len && (is_fws(l.ptr[i]) || l.ptr[i] == ';'))
		i++;
	if (i >= l.len) {
		*pos = i;
		return 0;
	}
	t0 = i;
	if (!ascii_isalpha(l.ptr[i]))
		return -1;
	while (i < l.len && (ascii_isalnum(l.ptr[i]) || l.ptr[i] == '_'))
		i++;
	t1 = i;
	while (i < l.len && is_fws(l.ptr[i]))
		i++;
	if (i >= l.len || l.ptr[i] != '=')
		return -1;
	i++;
	while (i < l.len && is_fws(l.ptr[i]))
		i++;
	v0 = i;
	while (i < l.len && l.ptr[i] != ';')
		i++;
	v1 = i;
	while (v1 > v0 && is_fws(l.ptr[v1 - 1]))
		v1--;
	if (i < l.len)
		i++;
	*tag = span_make(l.ptr + t0, t1 - t0);
	*value = span_make(l.ptr + v0, v1 - v0);
	*pos = i;
	return 1;
}

static bool
span_is(struct span s, const char *lit)
{
	size_t	n = strlen(lit);

	return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

static bool
span_is_nocase(struct span s, const char *lit)
{
	size_t	n = strlen(lit);

	return s.len == n && strncasecmp(s.ptr, lit, n) == 0;
}

/* The spec one signature field's tags ask for; false when it cannot. */
static bool
field_spec(struct span value, struct dkim_bh_spec *spec)
{
	struct span	 tag, v;
	const char	*slash;
	size_t		 pos = 0, i;
	uint64_t	 l;
	int		 rc;

	spec->canon = DKIM_CANON_SIMPLE;
	spec->hash = DKIM_HASH_SHA256;
	spec->limit = DKIM_BH_NOLIMIT;
	while ((rc = dkim_tag_next(value, &pos, &tag, &v)) == 1) {
		if (span_is(tag, "a")) {
			if (v.len > 5 && strncasecmp(v.ptr + v.len - 5,
			    "-sha1", 5) == 0)
				spec->hash = DKIM_HASH_SHA1;
		} else if (span_is(tag, "c")) {
			/* header/body, the body one defaulting to simple */
			slash = memchr(v.ptr, '/', v.len);
			if (slash != NULL && span_is_nocase(span_make(slash + 1,
			    v.len - (size_t)(slash - v.ptr) - 1), "relaxed"))
				spec->canon = DKIM_CANON_RELAXED;
		} else if (span_is(tag, "l")) {
			if (v.len == 0 || v.len > 19)
				return false;
			for (l = 0, i = 0; i < v.len; i++) {
				if (!ascii_isdigit(v.ptr[i]))
					return false;
				l = l * 10 + (uint64_t)(v.ptr[i] - '0');
			}
			spec->limit = l;
		}
	}
	return rc == 0;
}

size_t
dkim_bh_specs(struct span hdrs, struct dkim_bh_spec *out, size_t n,
    size_t max)
{
	struct dkim_bh_spec	 spec;
	struct span		 field, name, value;
	size_t			 pos = 0, i;
	const char		*colon;

	while (n < max && dkim_header_next(hdrs, &pos, &field, &name) == 1) {
		if (!span_is_nocase(name, "DKIM-Signature") &&
		    !span_is_nocase(name, "ARC-Message-Signature"))
			continue;
		colon = memchr(field.ptr, ':', field.len);
		value = span_make(colon + 1,
		    field.len - (size_t)(colon + 1 - field.ptr));
		if (!field_spec(value, &spec))
			continue;
		for (i = 0; i < n; i++)
			if (out[i].canon == spec.canon &&
			    out[i].hash == spec.hash &&
			    out[i].limit == spec.limit)
				break;
		if (i == n)
			out[n++] = spec;
	}
	return n;
}
