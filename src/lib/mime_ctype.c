/*
 * mime_ctype: Content-Type (RFC 2045 §5.1) and Content-Disposition (RFC
 * 2183) values with their parameters: RFC 2231 continuations joined,
 * extended values' %XX and charset decoded, and RFC 2047 encoded words
 * inside plain values decoded (RFC 2047 §5 forbids them there; Outlook
 * and Thunderbird write them anyway).  Part of the message parser family
 * (mime_hdr.h); pure, and the value is a hostile message's.
 *
 * Each parameter also keeps what IMAP BODYSTRUCTURE serves for it, the
 * way Dovecot's rfc2231 parser builds it: plain parameters first, in
 * the order written, then the RFC 2231 ones grouped by name (sorted);
 * a complete group is joined under "name" or, when a section is
 * extended, under "name*" with the value still "charset'lang'%XX..."
 * (plain sections' '%' written "%25", and "''" put first when the first
 * section is plain); a group with a missing or doubled section number
 * is served section by section as "name*N" / "name*N*".  Encoded words
 * are not decoded there: clients do that.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime_decode.h"
#include "mime_hdr.h"
#include "util.h"

/* Parameters as written that are looked at; the rest is capped. */
#define CTYPE_RAW_MAX		256
/*
 * The store holds quoted values, joined and decoded values and the IMAP
 * forms; charset conversion grows a byte to at most 4 (U+FFFD is 3),
 * so a multiple of the value's length bounds it.
 */
#define CTYPE_STORE_FACTOR	16
#define CTYPE_STORE_SLACK	4096
#define CTYPE_SECTION_NONE	UINT32_MAX

/* A span during the parse: into the value, or at an offset of store. */
struct ctype_ref {
	size_t	off;
	size_t	len;
	bool	own;
};

/* One parameter as written. */
struct ctype_raw {
	struct ctype_ref	name;	/* RFC 2231 suffix cut off */
	const char		*nameptr;	/* the same, for sorting */
	struct ctype_ref	value;	/* unquoted */
	uint32_t		idx;	/* section; 0 without "*N" */
	size_t			order;
	bool			rfc2231;
	bool			ext;	/* "*" at the end: %XX encoded */
};

/* One result parameter before its spans are made. */
struct ctype_out {
	struct ctype_ref	name, value, imap_name, imap_value;
};

struct ctype_ctx {
	struct span		 in;
	struct mime_ctype	*out;
	struct ctype_raw	 raw[CTYPE_RAW_MAX];
	size_t			 nraw;
	struct ctype_out	 res[MIME_PARAMS_MAX];
	size_t			 nres;
};

static struct ctype_ref
ctype_ref_in(const struct ctype_ctx *c, const char *p, size_t len)
{
	struct ctype_ref	r = { (size_t)(p - c->in.ptr), len, false };

	return r;
}

static struct span
ctype_ref_span(const struct ctype_ctx *c, struct ctype_ref r)
{
	if (r.own) {
		if (c->out->store.data == NULL)
			return span_make("", 0);
		return span_make(c->out->store.data + r.off, r.len);
	}
	return span_make(c->in.ptr + r.off, r.len);
}

/*
 * Start a value in the store: its offset.  The ref is finished by
 * ctype_ref_end() with whatever was appended since.
 */
static struct ctype_ref
ctype_ref_end(const struct ctype_ctx *c, size_t start)
{
	struct ctype_ref	r = { start, c->out->store.len - start, true };

	return r;
}

static int
ctype_append_ref(struct ctype_ctx *c, struct ctype_ref r)
{
	struct span	s = ctype_ref_span(c, r);

	/* the store may move while it grows: copy through an offset */
	if (r.own) {
		size_t	i;

		for (i = 0; i < r.len; i++)
			if (buf_append_char(&c->out->store,
			    c->out->store.data[r.off + i]) == -1)
				return -1;
		return 0;
	}
	return buf_append_span(&c->out->store, s);
}

static void
ctype_skip(struct span *s, size_t n)
{
	s->ptr += n;
	s->len -= n;
}

/*
 * A parameter's value after "=" and CFWS: a quoted-string, a token, or
 * (Dovecot's work-around for Outlook's unquoted name==?utf-8?b?...?=)
 * a run up to ';' or whitespace when it starts with '='.  A quoted
 * string without quoted-pairs or line ends stays a span of the value.
 */
static int
ctype_value(struct ctype_ctx *c, struct span *s, struct ctype_ref *out)
{
	struct span	tok;
	size_t		i, start;
	bool		simple = true;

	if (s->len > 0 && s->ptr[0] == '"') {
		for (i = 1; i < s->len && s->ptr[i] != '"'; i++)
			if (s->ptr[i] == '\\' || s->ptr[i] == '\r' ||
			    s->ptr[i] == '\n')
				simple = false;
		if (simple && i < s->len) {
			*out = ctype_ref_in(c, s->ptr + 1, i - 1);
			ctype_skip(s, i + 1);
			return 0;
		}
		start = c->out->store.len;
		(void)mime_lex_quoted(s, &c->out->store);
		*out = ctype_ref_end(c, start);
		return 0;
	}
	if (s->len > 0 && s->ptr[0] == '=') {
		for (i = 0; i < s->len; i++)
			if (s->ptr[i] == ';' || s->ptr[i] == ' ' ||
			    s->ptr[i] == '\t' || s->ptr[i] == '\r' ||
			    s->ptr[i] == '\n')
				break;
		*out = ctype_ref_in(c, s->ptr, i);
		ctype_skip(s, i);
		return 0;
	}
	(void)mime_lex_token(s, &tok);
	*out = ctype_ref_in(c, tok.ptr, tok.len);
	return 0;
}

/*
 * Split an RFC 2231 name "name*N", "name*N*" or "name*" as Dovecot does:
 * from the first '*', digits (maybe none), then an optional '*', then
 * the end; anything else leaves a plain parameter with the stars in its
 * name.
 */
static void
ctype_split_name(struct ctype_raw *r, struct span name)
{
	size_t		i, star;
	uint64_t	idx = 0;

	for (star = 0; star < name.len && name.ptr[star] != '*'; star++)
		;
	if (star == name.len)
		return;
	i = star + 1;
	if (i == name.len) {
		/* "name*": one extended section */
		r->rfc2231 = r->ext = true;
		r->name.len = star;
		return;
	}
	while (i < name.len && name.ptr[i] >= '0' && name.ptr[i] <= '9') {
		/* a huge number is a missing section, not an overflow */
		if (idx < UINT32_MAX)
			idx = idx * 10 + (uint64_t)(name.ptr[i] - '0');
		i++;
	}
	r->ext = false;
	if (i < name.len && name.ptr[i] == '*') {
		r->ext = true;
		i++;
	}
	if (i != name.len)
		return;
	r->rfc2231 = true;
	r->idx = idx < UINT32_MAX ? (uint32_t)idx : UINT32_MAX - 1;
	r->name.len = star;
}

static void
ctype_params(struct ctype_ctx *c, struct span s)
{
	struct ctype_raw	*r;
	struct span		 name;

	for (;;) {
		while (s.len > 0 && s.ptr[0] != ';')
			ctype_skip(&s, 1);
		if (s.len == 0)
			return;
		ctype_skip(&s, 1);
		mime_lex_cfws(&s);
		if (!mime_lex_token(&s, &name))
			continue;
		mime_lex_cfws(&s);
		if (s.len == 0 || s.ptr[0] != '=')
			continue;
		ctype_skip(&s, 1);
		mime_lex_cfws(&s);
		if (c->nraw == CTYPE_RAW_MAX) {
			c->out->params_capped = true;
			return;
		}
		r = &c->raw[c->nraw];
		memset(r, 0, sizeof(*r));
		r->name = ctype_ref_in(c, name.ptr, name.len);
		r->nameptr = name.ptr;
		r->order = c->nraw;
		ctype_split_name(r, name);
		(void)ctype_value(c, &s, &r->value);
		c->nraw++;
		mime_lex_cfws(&s);
	}
}

static int
ctype_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* RFC 2231 §4 %XX into bytes; a '%' that is not followed by hex stays. */
static int
ctype_pct_decode(struct span in, struct buf *out)
{
	size_t	i;
	int	hi, lo;

	for (i = 0; i < in.len; i++) {
		if (in.ptr[i] == '%' && i + 2 < in.len &&
		    (hi = ctype_hex(in.ptr[i + 1])) >= 0 &&
		    (lo = ctype_hex(in.ptr[i + 2])) >= 0) {
			if (buf_append_char(out, (char)(hi << 4 | lo)) == -1)
				return -1;
			i += 2;
		} else if (buf_append_char(out, in.ptr[i]) == -1)
			return -1;
	}
	return 0;
}

/*
 * Bytes of no declared charset into out: kept when they are UTF-8,
 * read as Latin-1 otherwise (the fallback mime_decode.h asks of its
 * callers when iconv does not know a charset).
 */
static int
ctype_raw8(struct span in, struct buf *out)
{
	size_t		i;
	unsigned char	ch;
	int		r;

	if (mime_utf8_valid(in))
		return buf_append_span(out, in);
	for (i = 0; i < in.len; i++) {
		ch = (unsigned char)in.ptr[i];
		if (ch < 0x80)
			r = buf_append_char(out, (char)ch);
		else {
			r = buf_append_char(out, (char)(0xc0 | ch >> 6));
			if (r == 0)
				r = buf_append_char(out,
				    (char)(0x80 | (ch & 0x3f)));
		}
		if (r == -1)
			return -1;
	}
	return 0;
}

/* By name (bytes, as Dovecot sorts), then section, then as written. */
/* Bytes in charset to UTF-8 into out. */
static int
ctype_to_utf8(struct span charset, struct span in, struct buf *out)
{
	int	r;

	if ((r = mime_charset_to_utf8(charset, in, out)) != 1)
		return r;
	return ctype_raw8(in, out);
}

static bool
ctype_has_words(struct span v)
{
	size_t	i;

	for (i = 0; i + 1 < v.len; i++)
		if (v.ptr[i] == '=' && v.ptr[i + 1] == '?')
			return true;
	return false;
}

static int
ctype_raw_cmp(const void *a, const void *b)
{
	const struct ctype_raw	*x = a, *y = b;
	size_t			 n;
	int			 d;

	n = x->name.len < y->name.len ? x->name.len : y->name.len;
	if (n > 0 && (d = memcmp(x->nameptr, y->nameptr, n)) != 0)
		return d;
	if (x->name.len != y->name.len)
		return x->name.len < y->name.len ? -1 : 1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static struct ctype_out *
ctype_res_new(struct ctype_ctx *c)
{
	if (c->nres == MIME_PARAMS_MAX) {
		c->out->params_capped = true;
		return NULL;
	}
	memset(&c->res[c->nres], 0, sizeof(c->res[0]));
	return &c->res[c->nres++];
}

static bool
ctype_name_caseeq(const struct ctype_ctx *c, struct ctype_ref a,
    struct ctype_ref b)
{
	struct span	x = ctype_ref_span(c, a), y = ctype_ref_span(c, b);

	return x.len == y.len && (x.len == 0 ||
	    strncasecmp(x.ptr, y.ptr, x.len) == 0);
}

/*
 * The decoded value of sections raw[i, j) of one name, in order: the
 * first one's charset (when it is extended), extended sections %XX
 * decoded, plain ones as written; without a charset, encoded words
 * decoded when no section is extended.
 */
static int
ctype_join_value(struct ctype_ctx *c, size_t i, size_t j,
    struct ctype_ref *out)
{
	struct buf	 bytes;
	struct span	 v, charset = { "", 0 };
	bool		 have_ext = false;
	size_t		 k, q1, q2, start;
	int		 rc = 0;

	buf_init(&bytes, c->out->store.max);
	for (k = i; k < j; k++)
		have_ext |= c->raw[k].ext;
	for (k = i; k < j && rc == 0; k++) {
		v = ctype_ref_span(c, c->raw[k].value);
		if (!c->raw[k].ext) {
			rc = buf_append_span(&bytes, v);
			continue;
		}
		if (k == i) {
			/* charset'language'value (RFC 2231 §4) */
			for (q1 = 0; q1 < v.len && v.ptr[q1] != '\''; q1++)
				;
			for (q2 = q1 + 1; q2 < v.len && v.ptr[q2] != '\'';
			    q2++)
				;
			if (q2 < v.len) {
				charset = span_make(v.ptr, q1);
				v = span_make(v.ptr + q2 + 1, v.len - q2 - 1);
			}
		}
		rc = ctype_pct_decode(v, &bytes);
	}
	start = c->out->store.len;
	if (rc == 0) {
		/* charset may point into the store: take a copy first */
		char	cs[64];
		size_t	cslen = charset.len < sizeof(cs) ? charset.len : 0;

		if (cslen > 0)
			memcpy(cs, charset.ptr, cslen);
		if (cslen > 0)
			rc = ctype_to_utf8(span_make(cs, cslen),
			    span_make(bytes.data, bytes.len), &c->out->store);
		else if (have_ext || !ctype_has_words(span_make(bytes.data,
		    bytes.len)))
			rc = ctype_raw8(span_make(bytes.data, bytes.len),
			    &c->out->store);
		else
			rc = mime_decode_words(span_make(bytes.data,
			    bytes.len), &c->out->store);
	}
	buf_free(&bytes);
	*out = ctype_ref_end(c, start);
	return rc;
}

/* The IMAP form of a complete group raw[i, j), as Dovecot joins it. */
static int
ctype_join_imap(struct ctype_ctx *c, size_t i, size_t j, bool have_ext,
    struct ctype_ref *out)
{
	struct span	v;
	size_t		k, n, start = c->out->store.len;
	int		rc = 0;

	if (have_ext && !c->raw[i].ext)
		rc = buf_append_str(&c->out->store, "''");
	for (k = i; k < j && rc == 0; k++) {
		if (have_ext && !c->raw[k].ext) {
			/* the value may be in the store: fetch it anew */
			for (n = 0; n < c->raw[k].value.len && rc == 0; n++) {
				v = ctype_ref_span(c, c->raw[k].value);
				if (v.ptr[n] == '%')
					rc = buf_append_str(&c->out->store,
					    "%25");
				else
					rc = buf_append_char(&c->out->store,
					    v.ptr[n]);
			}
		} else
			rc = ctype_append_ref(c, c->raw[k].value);
	}
	*out = ctype_ref_end(c, start);
	return rc;
}

static int
ctype_group(struct ctype_ctx *c, size_t i, size_t j)
{
	struct ctype_out	*o;
	struct ctype_ref	 value;
	bool			 ok = true, have_ext = false;
	size_t			 k, start;
	int			 rc = 0;

	if (j - i > MIME_PARAM_SECTIONS_MAX) {
		c->out->params_capped = true;
		j = i + MIME_PARAM_SECTIONS_MAX;
	}
	for (k = i; k < j; k++) {
		if (c->raw[k].idx != k - i)
			ok = false;
		have_ext |= c->raw[k].ext;
	}
	if (ctype_join_value(c, i, j, &value) == -1)
		return -1;
	if (ok) {
		if ((o = ctype_res_new(c)) == NULL)
			return 0;
		o->name = c->raw[i].name;
		o->value = value;
		start = c->out->store.len;
		rc = ctype_append_ref(c, c->raw[i].name);
		if (rc == 0 && have_ext)
			rc = buf_append_char(&c->out->store, '*');
		o->imap_name = ctype_ref_end(c, start);
		if (rc == 0)
			rc = ctype_join_imap(c, i, j, have_ext,
			    &o->imap_value);
		return rc;
	}
	/*
	 * A section missing or doubled: Dovecot serves each as written.
	 * The meaning is still the sections joined in order (what a
	 * reader wants of a file name); the first entry carries it.
	 */
	for (k = i; k < j && rc == 0; k++) {
		if ((o = ctype_res_new(c)) == NULL)
			return 0;
		o->name = c->raw[i].name;
		if (k == i)
			o->value = value;
		start = c->out->store.len;
		rc = ctype_append_ref(c, c->raw[k].name);
		if (rc == 0)
			rc = buf_printf(&c->out->store, "*%u%s",
			    (unsigned)c->raw[k].idx, c->raw[k].ext ? "*" : "");
		o->imap_name = ctype_ref_end(c, start);
		o->imap_value = c->raw[k].value;
	}
	return rc;
}

static void
ctype_build(struct ctype_ctx *c)
{
	struct ctype_out	*o;
	struct ctype_raw	*rr;
	size_t			 i, j, n2231 = 0;

	for (i = 0; i < c->nraw; i++) {
		if (c->raw[i].rfc2231)
			continue;
		if ((o = ctype_res_new(c)) == NULL)
			break;
		o->name = o->imap_name = c->raw[i].name;
		o->imap_value = c->raw[i].value;
		if (ctype_join_value(c, i, i + 1, &o->value) == -1)
			c->nres--;
	}
	/* the RFC 2231 ones to the end, then sorted by name and section */
	rr = c->raw;
	for (i = 0; i < c->nraw; i++)
		if (rr[i].rfc2231) {
			struct ctype_raw	t = rr[i];

			memmove(&rr[n2231 + 1], &rr[n2231],
			    (i - n2231) * sizeof(*rr));
			rr[n2231++] = t;
		}
	qsort(rr, n2231, sizeof(*rr), ctype_raw_cmp);
	for (i = 0; i < n2231; i = j) {
		for (j = i + 1; j < n2231 &&
		    ctype_name_caseeq(c, rr[i].name, rr[j].name); j++)
			;
		if (ctype_group(c, i, j) == -1)
			c->out->params_capped = true;
	}
}

static void
ctype_finish(struct ctype_ctx *c)
{
	struct mime_param	*p;
	size_t			 i;

	for (i = 0; i < c->nres; i++) {
		p = &c->out->params[i];
		p->name = ctype_ref_span(c, c->res[i].name);
		p->value = ctype_ref_span(c, c->res[i].value);
		p->imap_name = ctype_ref_span(c, c->res[i].imap_name);
		p->imap_value = ctype_ref_span(c, c->res[i].imap_value);
	}
	c->out->nparams = c->nres;
}

static int
ctype_parse(struct span value, struct mime_ctype *out, bool want_sub)
{
	struct ctype_ctx	*c;
	struct span		 s = value;
	size_t			 max;
	int			 rc = 0;

	mime_ctype_free(out);
	if (__builtin_mul_overflow(value.len, CTYPE_STORE_FACTOR, &max) ||
	    __builtin_add_overflow(max, CTYPE_STORE_SLACK, &max))
		max = SIZE_MAX;
	buf_init(&out->store, max);
	/* a span of "" rather than NULL: callers may memcmp it */
	out->type = out->subtype = span_make("", 0);

	mime_lex_cfws(&s);
	if (!mime_lex_token(&s, &out->type))
		rc = -1;
	else if (want_sub) {
		mime_lex_cfws(&s);
		if (s.len == 0 || s.ptr[0] != '/')
			rc = -1;
		else {
			ctype_skip(&s, 1);
			mime_lex_cfws(&s);
			if (!mime_lex_token(&s, &out->subtype))
				rc = -1;
		}
	}
	if (value.len == 0)
		return -1;

	c = xcalloc(1, sizeof(*c));
	c->in = value;
	c->out = out;
	ctype_params(c, s);
	ctype_build(c);
	ctype_finish(c);
	free(c);
	return rc;
}

int
mime_hdr_ctype(struct span value, struct mime_ctype *out)
{
	return ctype_parse(value, out, true);
}

int
mime_hdr_disposition(struct span value, struct mime_ctype *out)
{
	return ctype_parse(value, out, false);
}

void
mime_ctype_free(struct mime_ctype *ct)
{
	if (ct == NULL)
		return;
	buf_free(&ct->store);
	memset(ct, 0, sizeof(*ct));
}

const struct mime_param *
mime_ctype_param(const struct mime_ctype *ct, const char *name)
{
	size_t	i;

	for (i = 0; i < ct->nparams; i++)
		if (span_caseeq(ct->params[i].name, name))
			return &ct->params[i];
	return NULL;
}
