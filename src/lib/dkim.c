/*
 * dkim: see dkim.h.  Canonicalisation follows RFC 6376 §3.4 with erratum
 * 3192 (relaxed: an empty body hashes as nothing, simple: as one CRLF).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim.h"
#include "log.h"
#include "sasl.h"
#include "util.h"

#define DKIM_BH_CHUNK	4096	/* canonical octets gathered per update */
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

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
	bool		 wsp = false, value = false;
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
		/* no SP before the value's first octet, wherever a ':' is */
		if (wsp && value)
			rc |= buf_append_char(out, ' ');
		wsp = false;
		value = true;
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

/* --- signatures (§3.5) --- */

/* Tags of a signature field we track for "at most once" (§3.2). */
enum sig_tag {
	SIG_V, SIG_A, SIG_B, SIG_BH, SIG_C, SIG_D, SIG_H, SIG_I, SIG_L,
	SIG_Q, SIG_S, SIG_T, SIG_X, SIG_Z, SIG_NTAGS
};

static const char *const sig_tags[SIG_NTAGS] = {
	"v", "a", "b", "bh", "c", "d", "h", "i", "l", "q", "s", "t", "x", "z"
};

int
dkim_b64_decode(struct span v, unsigned char *out, size_t max,
    size_t *outlen, char *prefix)
{
	char		 text[(DKIM_KEY_DER_MAX + 2) / 3 * 4 + 4];
	unsigned char	 dec[sizeof(text) / 4 * 3];
	size_t		 i, n = 0, len;

	for (i = 0; i < v.len; i++) {
		if (is_fws(v.ptr[i]))
			continue;
		if (n == sizeof(text))
			return -1;
		text[n++] = v.ptr[i];
	}
	if (prefix != NULL) {
		len = n < DKIM_BPREFIX_MAX ? n : DKIM_BPREFIX_MAX;
		memcpy(prefix, text, len);
		prefix[len] = '\0';
	}
	if (sasl_b64_decode(span_make(text, n), dec, &len) == -1 ||
	    len > max)
		return -1;
	memcpy(out, dec, len);
	*outlen = len;
	return 0;
}

/*
 * A domain name as DKIM writes it (d=, s=, the domain of i=): labels of
 * letters, digits, '-' and '_', 1 to 63 octets each, into out lower-
 * cased.  '_' is not in RFC 5321's Let-dig but it is in real selectors.
 */
static bool
domain_copy(struct span v, char *out, size_t max)
{
	size_t	i, label = 0;
	char	c;

	if (v.len == 0 || v.len > max)
		return false;
	for (i = 0; i < v.len; i++) {
		c = v.ptr[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (ascii_isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
		out[i] = ascii_tolower(c);
	}
	out[i] = '\0';
	return label > 0;
}

static bool
span_digits(struct span v, size_t maxdigits, uint64_t *out)
{
	bool	overflow;

	if (v.len > maxdigits || span_to_u64(v, out, &overflow) == -1)
		return false;
	return !overflow;
}

/* Does the colon-separated list v hold word (case-insensitive)? */
static bool
list_has(struct span v, const char *word)
{
	size_t		 i = 0, j;
	struct span	 w;

	while (i <= v.len) {
		for (j = i; j < v.len && v.ptr[j] != ':'; j++)
			;
		w = span_trim(span_make(v.ptr + i, j - i));
		while (w.len > 0 && is_fws(w.ptr[0]))
			w = span_make(w.ptr + 1, w.len - 1);
		while (w.len > 0 && is_fws(w.ptr[w.len - 1]))
			w.len--;
		if (span_is_nocase(w, word))
			return true;
		i = j + 1;
	}
	return false;
}

static int
sig_h_parse(struct span v, struct dkim_sig *s)
{
	size_t		 i = 0, j, k;
	struct span	 w;
	bool		 from = false;

	while (i <= v.len) {
		for (j = i; j < v.len && v.ptr[j] != ':'; j++)
			;
		w = span_make(v.ptr + i, j - i);
		while (w.len > 0 && is_fws(w.ptr[0]))
			w = span_make(w.ptr + 1, w.len - 1);
		while (w.len > 0 && is_fws(w.ptr[w.len - 1]))
			w.len--;
		/* field-name = 1*ftext, printable US-ASCII but ':' */
		if (w.len == 0 || w.len >= DKIM_HNAME_MAX ||
		    s->nh == DKIM_SIG_H_MAX)
			return -1;
		for (k = 0; k < w.len; k++) {
			if (w.ptr[k] < 33 || w.ptr[k] > 126)
				return -1;
			s->h[s->nh][k] = w.ptr[k];
		}
		s->h[s->nh][k] = '\0';
		if (span_is_nocase(w, "from"))
			from = true;
		s->nh++;
		i = j + 1;
	}
	return from ? 0 : 1;
}

/* i= in dkim-quoted-printable (§2.11), FWS dropped, into s->auid. */
static int
sig_auid(struct span v, struct dkim_sig *s)
{
	size_t		 i, n = 0;
	const char	*at = NULL;
	char		 c, dom[DKIM_DOMAIN_MAX + 1];
	size_t		 dl, ddl;
	int		 h1, h2;

	for (i = 0; i < v.len; i++) {
		c = v.ptr[i];
		if (is_fws(c))
			continue;
		if (c == '=') {
			if (i + 2 >= v.len || (h1 = hex_digit(v.ptr[i + 1])) < 0 ||
			    (h2 = hex_digit(v.ptr[i + 2])) < 0)
				return -1;
			c = (char)(h1 << 4 | h2);
			i += 2;
		}
		if (n == DKIM_AUID_MAX || c == '\0')
			return -1;
		s->auid[n++] = c;
	}
	s->auid[n] = '\0';
	for (i = 0; i < n; i++)
		if (s->auid[i] == '@')
			at = s->auid + i;
	if (at == NULL || !domain_copy(span_make(at + 1,
	    n - (size_t)(at + 1 - s->auid)), dom, DKIM_DOMAIN_MAX))
		return -1;
	/* The domain of i= is d= or a subdomain of it (§3.5 i=). */
	dl = strlen(dom);
	ddl = strlen(s->domain);
	if (dl < ddl || strcmp(dom + dl - ddl, s->domain) != 0 ||
	    (dl > ddl && dom[dl - ddl - 1] != '.'))
		return 1;
	/* the domain part lower-cased, as d= is, for t=s (§3.6.1) */
	memcpy(s->auid + (at + 1 - s->auid), dom, dl + 1);
	return 0;
}

int
dkim_sig_parse(struct span value, unsigned flags, struct dkim_sig *s,
    const char **errstr)
{
	struct span	 tag, v, vals[SIG_NTAGS];
	bool		 seen[SIG_NTAGS] = { false };
	size_t		 pos = 0, i, slash;
	uint64_t	 n;
	bool		 ams = (flags & DKIM_SIG_AMS) != 0;
	int		 rc;

	memset(s, 0, sizeof(*s));
	s->limit = DKIM_BH_NOLIMIT;
	if (value.len > DKIM_FIELD_MAX) {
		*errstr = "signature field too long";
		return -1;
	}
	while ((rc = dkim_tag_next(value, &pos, &tag, &v)) == 1) {
		for (i = 0; i < SIG_NTAGS; i++)
			if (span_is(tag, sig_tags[i]))
				break;
		if (i == SIG_NTAGS)
			continue;	/* unknown tags are ignored (§3.2) */
		if (seen[i]) {
			*errstr = "a tag appears twice";
			return -1;
		}
		seen[i] = true;
		vals[i] = v;
	}
	if (rc == -1) {
		*errstr = "tag list does not parse";
		return -1;
	}
	/* §6.1.1: the required tags */
	if ((!ams && !seen[SIG_V]) || (ams && !seen[SIG_I]) ||
	    !seen[SIG_A] || !seen[SIG_B] || !seen[SIG_BH] || !seen[SIG_D] ||
	    !seen[SIG_H] || !seen[SIG_S]) {
		*errstr = "a required tag is missing";
		return -1;
	}
	if (!ams && !span_is(vals[SIG_V], "1")) {
		*errstr = "unknown v=";
		return -1;
	}
	v = vals[SIG_A];
	if (v.len >= sizeof(s->a)) {
		*errstr = "unknown a=";
		return -1;
	}
	for (i = 0; i < v.len; i++)
		s->a[i] = ascii_tolower(v.ptr[i]);
	s->a[i] = '\0';
	if (strcmp(s->a, "rsa-sha256") == 0)
		s->algo = DKIM_ALGO_RSA_SHA256;
	else if (strcmp(s->a, "rsa-sha1") == 0)
		s->algo = DKIM_ALGO_RSA_SHA1;
	else if (strcmp(s->a, "ed25519-sha256") == 0)
		s->algo = DKIM_ALGO_ED25519_SHA256;
	else {
		*errstr = "unknown a=";
		return -1;
	}
	if (vals[SIG_B].len == 0 || dkim_b64_decode(vals[SIG_B], s->b,
	    sizeof(s->b), &s->blen, s->bprefix) == -1 || s->blen == 0) {
		*errstr = "bad b=";
		return -1;
	}
	if (dkim_b64_decode(vals[SIG_BH], s->bh, sizeof(s->bh), &s->bhlen,
	    NULL) == -1 || s->bhlen == 0) {
		*errstr = "bad bh=";
		return -1;
	}
	s->hcanon = s->bcanon = DKIM_CANON_SIMPLE;
	if (seen[SIG_C]) {
		v = vals[SIG_C];
		for (slash = 0; slash < v.len && v.ptr[slash] != '/'; slash++)
			;
		if (span_is_nocase(span_make(v.ptr, slash), "relaxed"))
			s->hcanon = DKIM_CANON_RELAXED;
		else if (!span_is_nocase(span_make(v.ptr, slash), "simple"))
			goto badc;
		if (slash < v.len) {
			v = span_make(v.ptr + slash + 1, v.len - slash - 1);
			if (span_is_nocase(v, "relaxed"))
				s->bcanon = DKIM_CANON_RELAXED;
			else if (!span_is_nocase(v, "simple"))
				goto badc;
		}
	}
	if (!domain_copy(vals[SIG_D], s->domain, DKIM_DOMAIN_MAX)) {
		*errstr = "bad d=";
		return -1;
	}
	if (!domain_copy(vals[SIG_S], s->selector, DKIM_DOMAIN_MAX)) {
		*errstr = "bad s=";
		return -1;
	}
	if ((rc = sig_h_parse(vals[SIG_H], s)) != 0) {
		*errstr = rc == 1 ? "h= does not sign From" : "bad h=";
		return -1;
	}
	if (ams) {
		if (!span_digits(vals[SIG_I], 2, &n) || n < 1 || n > 50) {
			*errstr = "bad i=";
			return -1;
		}
		s->instance = (unsigned)n;
	} else if (seen[SIG_I]) {
		if ((rc = sig_auid(vals[SIG_I], s)) != 0) {
			*errstr = rc == 1 ? "i= is not within d=" : "bad i=";
			return -1;
		}
	} else if (snprintf(s->auid, sizeof(s->auid), "@%s", s->domain) < 0)
		fatalx("dkim: snprintf");
	if (seen[SIG_L] && !span_digits(vals[SIG_L], 19, &s->limit)) {
		*errstr = "bad l=";
		return -1;
	}
	if (seen[SIG_Q] && !list_has(vals[SIG_Q], "dns/txt")) {
		*errstr = "q= does not allow dns/txt";
		return -1;
	}
	if ((s->has_t = seen[SIG_T]) && !span_digits(vals[SIG_T], 19,
	    &s->t)) {
		*errstr = "bad t=";
		return -1;
	}
	if ((s->has_x = seen[SIG_X]) && !span_digits(vals[SIG_X], 19,
	    &s->x)) {
		*errstr = "bad x=";
		return -1;
	}
	/* x= "MUST be greater than" t= (§3.5) */
	if (s->has_t && s->has_x && s->x < s->t) {
		*errstr = "x= before t=";
		return -1;
	}
	return 0;
badc:
	*errstr = "unknown c=";
	return -1;
}

void
dkim_sig_bh_spec(const struct dkim_sig *s, struct dkim_bh_spec *spec)
{
	spec->canon = s->bcanon;
	spec->hash = s->algo == DKIM_ALGO_RSA_SHA1 ? DKIM_HASH_SHA1 :
	    DKIM_HASH_SHA256;
	spec->limit = s->limit;
}

/* --- keys (§3.6.1) --- */

enum key_tag {
	KEY_V, KEY_H, KEY_K, KEY_N, KEY_P, KEY_S, KEY_T, KEY_NTAGS
};

static const char *const key_tags[KEY_NTAGS] = {
	"v", "h", "k", "n", "p", "s", "t"
};

void
dkim_key_clear(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

static int
key_decode(struct dkim_key *k, const unsigned char *der, size_t len)
{
	const unsigned char	*p = der;
	EVP_PKEY		*pkey;

	if (k->type == DKIM_KEY_ED25519) {
		/* RFC 8463 §4.2: the bare 32-octet public key */
		if (len != 32)
			return -1;
		k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    der, len);
		return k->pkey == NULL ? -1 : 0;
	}
	/*
	 * §3.6.1 says RSAPublicKey, but every signer publishes the
	 * SubjectPublicKeyInfo around it (as the §A.3 example does); take
	 * either.
	 */
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey == NULL || p != der + len) {
		EVP_PKEY_free(pkey);
		p = der;
		pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
		if (pkey != NULL && p != der + len) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	k->pkey = pkey;
	k->bits = (unsigned)EVP_PKEY_get_bits(pkey);
	return 0;
}

int
dkim_key_parse(struct span rec, struct dkim_key *k, const char **errstr)
{
	struct span	 tag, v, vals[KEY_NTAGS];
	bool		 seen[KEY_NTAGS] = { false };
	unsigned char	 der[DKIM_KEY_DER_MAX];
	size_t		 pos = 0, i, len, ntags = 0;
	int		 rc;

	memset(k, 0, sizeof(*k));
	if (rec.len > DKIM_KEY_RECORD_MAX) {
		*errstr = "key record too long";
		return -1;
	}
	while ((rc = dkim_tag_next(rec, &pos, &tag, &v)) == 1) {
		ntags++;
		for (i = 0; i < KEY_NTAGS; i++)
			if (span_is(tag, key_tags[i]))
				break;
		if (i == KEY_NTAGS)
			continue;
		if (seen[i]) {
			*errstr = "a key tag appears twice";
			return -1;
		}
		/* v= "MUST be the first tag in the record" (§3.6.1) */
		if (i == KEY_V && ntags != 1) {
			*errstr = "key v= is not first";
			return -1;
		}
		seen[i] = true;
		vals[i] = v;
	}
	if (rc == -1) {
		*errstr = "key record does not parse";
		return -1;
	}
	if (seen[KEY_V] && !span_is(vals[KEY_V], "DKIM1")) {
		*errstr = "key v= is not DKIM1";
		return -1;
	}
	if (!seen[KEY_P]) {
		*errstr = "key has no p=";
		return -1;
	}
	k->type = DKIM_KEY_RSA;
	if (seen[KEY_K]) {
		if (span_is_nocase(vals[KEY_K], "ed25519"))
			k->type = DKIM_KEY_ED25519;
		else if (!span_is_nocase(vals[KEY_K], "rsa")) {
			*errstr = "unknown key type k=";
			return -1;
		}
	}
	k->sha256_ok = k->sha1_ok = true;
	if (seen[KEY_H]) {
		k->sha256_ok = list_has(vals[KEY_H], "sha256");
		k->sha1_ok = list_has(vals[KEY_H], "sha1");
	}
	k->email_ok = !seen[KEY_S] || list_has(vals[KEY_S], "*") ||
	    list_has(vals[KEY_S], "email");
	if (seen[KEY_T]) {
		k->testing = list_has(vals[KEY_T], "y");
		k->strict = list_has(vals[KEY_T], "s");
	}
	if (vals[KEY_P].len == 0) {
		k->revoked = true;
		return 0;
	}
	if (dkim_b64_decode(vals[KEY_P], der, sizeof(der), &len, NULL) == -1 ||
	    key_decode(k, der, len) == -1) {
		ERR_clear_error();
		*errstr = "key p= does not decode";
		return -1;
	}
	return 0;
}

/* --- the header hash (§3.7, §5.4.2) --- */

int
dkim_canon_sig_field(enum dkim_canon canon, struct span field,
    struct buf *out)
{
	struct buf	 tmp;
	struct span	 tag, v, value;
	const char	*colon;
	size_t		 pos = 0;
	int		 rc;

	if (field.len > DKIM_FIELD_MAX ||
	    (colon = memchr(field.ptr, ':', field.len)) == NULL)
		return -1;
	value = span_make(colon + 1, field.len - (size_t)(colon + 1 -
	    field.ptr));
	while ((rc = dkim_tag_next(value, &pos, &tag, &v)) == 1)
		if (span_is(tag, "b"))
			break;
	if (rc == -1)
		return -1;
	if (rc == 0)
		return dkim_canon_header(canon, field, false, out);
	/* The field as it is, the value of b= left out. */
	buf_init(&tmp, DKIM_FIELD_MAX);
	rc = buf_append(&tmp, field.ptr, (size_t)(v.ptr - field.ptr));
	rc |= buf_append(&tmp, v.ptr + v.len, field.len -
	    (size_t)(v.ptr + v.len - field.ptr));
	if (rc == 0)
		rc = dkim_canon_header(canon, span_make(tmp.data, tmp.len),
		    false, out);
	buf_free(&tmp);
	return rc == 0 ? 0 : -1;
}

int
dkim_header_data(enum dkim_canon canon, struct span hdrs,
    const char (*names)[DKIM_HNAME_MAX], size_t n, struct span sigfield,
    struct buf *out)
{
	struct span	*fields = NULL, *fnames = NULL, f, name;
	bool		*used = NULL;
	size_t		 nf = 0, cap = 0, pos = 0, i, j;
	int		 rc = 0;

	while ((rc = dkim_header_next(hdrs, &pos, &f, &name)) == 1) {
		if (nf == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			fields = xrealloc(fields, cap * sizeof(*fields));
			fnames = xrealloc(fnames, cap * sizeof(*fnames));
		}
		fields[nf] = f;
		fnames[nf++] = name;
	}
	if (rc == -1)
		goto done;
	used = xcalloc(nf == 0 ? 1 : nf, sizeof(*used));
	for (i = 0; i < n && rc == 0; i++) {
		/* The last instance not yet taken, bottom up (§5.4.2). */
		for (j = nf; j > 0; j--) {
			if (used[j - 1] || !span_is_nocase(fnames[j - 1],
			    names[i]))
				continue;
			if (fields[j - 1].ptr == sigfield.ptr)
				continue;
			break;
		}
		if (j == 0)
			continue;	/* not there: hashes as nothing */
		used[j - 1] = true;
		rc = dkim_canon_header(canon, fields[j - 1], true, out);
	}
	if (rc == 0)
		rc = dkim_canon_sig_field(canon, sigfield, out);
done:
	free(fields);
	free(fnames);
	free(used);
	return rc == 0 ? 0 : -1;
}

/* --- the signature primitives (RFC 8017 §8.2, RFC 8463 §3) --- */

static int
algo_check(enum dkim_algo algo, EVP_PKEY *key)
{
	switch (algo) {
	case DKIM_ALGO_RSA_SHA256:
		return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ? 0 : -1;
	case DKIM_ALGO_ED25519_SHA256:
		return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? 0 : -1;
	default:
		return -1;
	}
}

/*
 * What goes into the signature algorithm: the data itself for RSA
 * (RSASSA-PKCS1-v1_5 hashes it), its SHA-256 for Ed25519 (RFC 8463 §3:
 * PureEd25519 signs the hash, not the data).
 */
static int
sig_input(enum dkim_algo algo, const void *data, size_t len,
    unsigned char *digest, const unsigned char **in, size_t *inlen,
    const EVP_MD **md)
{
	unsigned int	dlen;

	if (algo == DKIM_ALGO_ED25519_SHA256) {
		if (EVP_Digest(data, len, digest, &dlen, EVP_sha256(),
		    NULL) != 1)
			return -1;
		*in = digest;
		*inlen = dlen;
		*md = NULL;
	} else {
		*in = data;
		*inlen = len;
		*md = EVP_sha256();
	}
	return 0;
}

/* Sign (sign set) or verify sig[0..*siglen) over data with key. */
static int
sig_op(enum dkim_algo algo, EVP_PKEY *key, const void *data, size_t len,
    unsigned char *sig, size_t *siglen, bool sign)
{
	EVP_MD_CTX		*ctx;
	const EVP_MD		*md;
	const unsigned char	*in;
	unsigned char		 digest[DKIM_DIGEST_MAX];
	size_t			 inlen;
	int			 rc = -1;

	if (key == NULL || algo_check(algo, key) == -1 ||
	    (sign && (size_t)EVP_PKEY_get_size(key) > *siglen) ||
	    sig_input(algo, data, len, digest, &in, &inlen, &md) == -1)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("dkim: EVP_MD_CTX_new");
	if (sign) {
		if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) == 1 &&
		    EVP_DigestSign(ctx, sig, siglen, in, inlen) == 1)
			rc = 0;
	} else if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, sig, *siglen, in, inlen) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
dkim_sign_data(enum dkim_algo algo, EVP_PKEY *key, const void *data,
    size_t len, unsigned char *sig, size_t *siglen)
{
	return sig_op(algo, key, data, len, sig, siglen, true);
}

int
dkim_verify_data(enum dkim_algo algo, EVP_PKEY *key, const void *data,
    size_t len, const unsigned char *sig, size_t siglen)
{
	/* EVP_DigestVerify() only reads sig */
	return sig_op(algo, key, data, len, (unsigned char *)(uintptr_t)sig,
	    &siglen, false);
}

/* --- making a signature field --- */

#define DKIM_FOLD_COLUMNS	78	/* RFC 5322 §2.1.1 */

/* Append one "tag=value;" item, folding before it when the line is full. */
static int
fold_item(struct buf *out, size_t *col, const char *item, size_t len)
{
	int	rc = 0;

	if (*col + 1 + len > DKIM_FOLD_COLUMNS) {
		rc |= buf_append(out, "\r\n\t", 3);
		*col = 1;
	} else {
		rc |= buf_append_char(out, ' ');
		(*col)++;
	}
	rc |= buf_append(out, item, len);
	*col += len;
	return rc;
}

/* A long value (h= names, base64) folded at ':' or anywhere, FWS-safe. */
static int
fold_long(struct buf *out, size_t *col, const char *tag, const char *v,
    size_t len, bool at_colon, bool semi)
{
	size_t	i = 0, n, room;
	int	rc = 0;

	rc |= buf_append(out, "\r\n\t", 3);
	rc |= buf_append_str(out, tag);
	*col = 1 + strlen(tag);
	while (i < len) {
		room = DKIM_FOLD_COLUMNS - *col;
		n = len - i;
		if (n > room) {
			n = room;
			if (at_colon) {
				/* break after a ':' so names stay whole */
				while (n > 0 && v[i + n - 1] != ':')
					n--;
				if (n == 0)
					n = room;
			}
		}
		rc |= buf_append(out, v + i, n);
		i += n;
		*col += n;
		if (i < len) {
			rc |= buf_append(out, "\r\n\t ", 4);
			*col = 2;
		}
	}
	if (semi)
		rc |= buf_append_char(out, ';');
	(*col)++;
	return rc;
}

/* How many fields named name hdrs holds. */
static size_t
header_count(struct span hdrs, const char *name)
{
	struct span	f, fname;
	size_t		pos = 0, n = 0;

	while (dkim_header_next(hdrs, &pos, &f, &fname) == 1)
		if (span_is_nocase(fname, name))
			n++;
	return n;
}

int
dkim_sign_field(const struct dkim_sign_req *r, struct buf *out,
    const char **errstr)
{
	char		 (*names)[DKIM_HNAME_MAX] = NULL;
	char		 bh64[SASL_B64_LEN(DKIM_DIGEST_MAX) + 1];
	char		 b64[SASL_B64_LEN(DKIM_SIG_B_MAX) + 1];
	unsigned char	 sig[DKIM_SIG_B_MAX];
	struct buf	 field, hlist, data;
	size_t		 i, k, cnt, nn = 0, col, siglen = sizeof(sig), start;
	size_t		 len;
	char		 item[DKIM_DOMAIN_MAX + 16];
	int		 rc = 0;

	if ((r->algo != DKIM_ALGO_RSA_SHA256 &&
	    r->algo != DKIM_ALGO_ED25519_SHA256) || r->bhlen == 0 ||
	    r->bhlen > DKIM_DIGEST_MAX) {
		*errstr = "cannot sign with this algorithm";
		return -1;
	}
	buf_init(&field, DKIM_FIELD_MAX);
	buf_init(&hlist, DKIM_FIELD_MAX);
	buf_init(&data, DKIM_HDATA_MAX);
	names = xcalloc(DKIM_SIG_H_MAX, sizeof(*names));
	/* h=: each name as often as it is there, and once more to oversign */
	for (i = 0; i < r->nnames; i++) {
		len = strlen(r->names[i]);
		cnt = header_count(r->hdrs, r->names[i]) +
		    (r->oversign ? 1 : 0);
		if (len == 0 || len >= DKIM_HNAME_MAX ||
		    nn + cnt > DKIM_SIG_H_MAX) {
			*errstr = "too many header fields to sign";
			rc = -1;
			goto done;
		}
		for (k = 0; k < cnt; k++) {
			memcpy(names[nn++], r->names[i], len + 1);
			if (hlist.len > 0)
				rc |= buf_append_char(&hlist, ':');
			rc |= buf_append(&hlist, r->names[i], len);
		}
	}
	sasl_b64_encode(r->bh, r->bhlen, bh64);
	rc |= buf_append_str(&field, "DKIM-Signature:");
	col = field.len;
	rc |= fold_item(&field, &col, "v=1;", 4);
	len = (size_t)snprintf(item, sizeof(item), "a=%s;",
	    r->algo == DKIM_ALGO_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256");
	rc |= fold_item(&field, &col, item, len);
	rc |= fold_item(&field, &col, "c=relaxed/relaxed;", 18);
	if (strlen(r->domain) > DKIM_DOMAIN_MAX ||
	    strlen(r->selector) > DKIM_DOMAIN_MAX) {
		*errstr = "domain or selector too long";
		rc = -1;
		goto done;
	}
	len = (size_t)snprintf(item, sizeof(item), "d=%s;", r->domain);
	rc |= fold_item(&field, &col, item, len);
	len = (size_t)snprintf(item, sizeof(item), "s=%s;", r->selector);
	rc |= fold_item(&field, &col, item, len);
	len = (size_t)snprintf(item, sizeof(item), "t=%llu;",
	    (unsigned long long)r->t);
	rc |= fold_item(&field, &col, item, len);
	if (r->x != 0) {
		len = (size_t)snprintf(item, sizeof(item), "x=%llu;",
		    (unsigned long long)r->x);
		rc |= fold_item(&field, &col, item, len);
	}
	rc |= fold_long(&field, &col, "h=", hlist.data == NULL ? "" :
	    hlist.data, hlist.len, true, true);
	rc |= fold_long(&field, &col, "bh=", bh64, strlen(bh64), false,
	    true);
	start = field.len;
	rc |= buf_append_str(&field, "\r\n\tb=");
	if (rc != 0) {
		*errstr = "signature field too long";
		goto done;
	}
	/* §3.7: sign the selected fields, then this one with b= empty */
	if (dkim_header_data(DKIM_CANON_RELAXED, r->hdrs,
	    (const char (*)[DKIM_HNAME_MAX])names, nn,
	    span_make(field.data, field.len), &data) == -1 ||
	    dkim_sign_data(r->algo, r->key, data.data, data.len, sig,
	    &siglen) == -1) {
		*errstr = "signing failed";
		rc = -1;
		goto done;
	}
	sasl_b64_encode(sig, siglen, b64);
	field.len = start;
	rc |= fold_long(&field, &col, "b=", b64, strlen(b64), false, false);
	rc |= buf_append(&field, "\r\n", 2);
	if (rc != 0 || buf_append(out, field.data, field.len) == -1) {
		*errstr = "signature field too long";
		rc = -1;
	}
done:
	free(names);
	buf_free(&field);
	buf_free(&hlist);
	buf_free(&data);
	return rc == 0 ? 0 : -1;
}

/* --- verification (§6.1) --- */

static const char *const result_names[] = {
	"pass", "fail", "neutral", "policy", "temperror", "permerror"
};

const char *
dkim_result_name(enum dkim_result r)
{
	return (size_t)r < NELEM(result_names) ? result_names[r] : "none";
}

/* The domain of the signature's i= (or of "@d"). */
static const char *
auid_domain(const struct dkim_sig *s)
{
	const char	*at = strrchr(s->auid, '@');

	return at == NULL ? s->domain : at + 1;
}

enum dkim_result
dkim_verify_sig(const struct dkim_sig *s, struct span hdrs,
    struct span sigfield, const unsigned char *bh, size_t bhlen,
    uint64_t hashed, const struct dkim_key *k, uint64_t now,
    const char **reason)
{
	struct buf		data;
	enum dkim_result	res;

	*reason = NULL;
	/*
	 * RFC 8301 §3.1: rsa-sha1 "MUST NOT" be considered valid; like any
	 * algorithm we do not verify, that is permerror (§6.1.1: a= not
	 * supported, PERMFAIL; RFC 8601 §2.7.1).
	 */
	if (s->algo == DKIM_ALGO_RSA_SHA1) {
		*reason = "rsa-sha1 is not accepted (RFC 8301)";
		return DKIM_PERMERROR;
	}
	/* §6.1.1: an expired signature; a future one (clock skew allowed) */
	if (s->has_x && now > s->x) {
		*reason = "signature expired";
		return DKIM_PERMERROR;
	}
	if (s->has_t && s->t > now && s->t - now > DKIM_CLOCK_SKEW) {
		*reason = "signature from the future";
		return DKIM_PERMERROR;
	}
	/* §6.1.2, the key's checks in its order */
	if (k->revoked) {
		*reason = "key revoked";
		return DKIM_PERMERROR;
	}
	if (!k->sha256_ok) {
		*reason = "key h= does not allow sha256";
		return DKIM_PERMERROR;
	}
	if ((k->type == DKIM_KEY_RSA) != (s->algo == DKIM_ALGO_RSA_SHA256)) {
		*reason = "key type does not match a=";
		return DKIM_PERMERROR;
	}
	if (!k->email_ok) {
		*reason = "key s= is not for email";
		return DKIM_PERMERROR;
	}
	/* §3.6.1 t=s: the i= domain must be d= itself */
	if (k->strict && strcmp(auid_domain(s), s->domain) != 0) {
		*reason = "key t=s and i= is a subdomain of d=";
		return DKIM_PERMERROR;
	}
	/* RFC 8301 §3.2: under 1024 bits is never valid */
	if (k->type == DKIM_KEY_RSA && k->bits < DKIM_RSA_BITS_MIN) {
		*reason = "RSA key under 1024 bits (RFC 8301)";
		return DKIM_PERMERROR;
	}
	if (k->type == DKIM_KEY_RSA && k->bits > DKIM_RSA_BITS_MAX) {
		*reason = "RSA key over 4096 bits";
		return DKIM_PERMERROR;
	}
	/* §6.1.3: the body hash first, it is the cheap one */
	if (s->limit != DKIM_BH_NOLIMIT && hashed < s->limit) {
		*reason = "l= is longer than the body";
		return DKIM_FAIL;
	}
	if (bh == NULL || bhlen != s->bhlen ||
	    CRYPTO_memcmp(bh, s->bh, bhlen) != 0) {
		*reason = "body hash mismatch";
		return DKIM_FAIL;
	}
	buf_init(&data, DKIM_HDATA_MAX);
	if (dkim_header_data(s->hcanon, hdrs, (const char (*)[
	    DKIM_HNAME_MAX])s->h, s->nh, sigfield, &data) == -1) {
		*reason = "header section does not parse";
		res = DKIM_PERMERROR;
	} else if (dkim_verify_data(s->algo, k->pkey, data.data, data.len,
	    s->b, s->blen) == -1) {
		*reason = "signature mismatch";
		res = DKIM_FAIL;
	} else
		res = DKIM_PASS;
	buf_free(&data);
	return res;
}
