/*
 * mime: the structure parser of the message parser family (mime.h).
 * One pass over the lines of a message in memory builds the tree of
 * parts, each with its offsets, bare-LF and line counts, and the index
 * of its header fields.  Pure; the message is hostile.
 *
 * Malformed structure is parsed the way Dovecot's message-parser reads
 * it, so that BODYSTRUCTURE and BODY[n] agree with the reference:
 * - a line that starts with "--" is tested against every boundary in
 *   effect, innermost first, as a prefix (so trailing whitespace or junk
 *   after it is allowed); the longest match wins, and a line that is
 *   exactly "--b" or "--b--" settles ties for the innermost;
 * - a boundary of an outer multipart ends every part inside it, and the
 *   inner multiparts are forgotten (RFC 2046 §5.1.2);
 * - "--b--" closes its multipart; what follows is its epilogue, up to
 *   an outer boundary or the end;
 * - a boundary line inside a header section ends that header there
 *   (the line end before the delimiter belongs to the delimiter, but
 *   for the header of an encapsulated message it belongs to the
 *   message/rfc822 part's body);
 * - the line end of a "--b--" line is b's multipart's, even when the
 *   next line is a delimiter;
 * - a multipart whose boundary never appears keeps its whole body as
 *   the preamble and has no children;
 * - a multipart's boundary takes effect only at the blank line that
 *   ends its header, Content-Type counts only once (the first), and a
 *   part without one is text/plain, or message/rfc822 inside a
 *   multipart/digest (RFC 2046 §5.1.5);
 * - a boundary longer than MIME_BOUNDARY_MAX is cut to that length, so
 *   long boundaries that share their first MIME_BOUNDARY_MAX characters
 *   are one boundary and the innermost takes every delimiter.
 *
 * Each line start is tested against a stack of the boundaries in
 * effect (at most MIME_DEPTH_MAX), never by rescanning the body, so the
 * time is linear in the message size whatever the nesting.  Counts are
 * kept as running totals at line starts; a region's count is the
 * difference of the totals at its two ends.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime.h"
#include "mime_decode.h"
#include "mime_hdr.h"
#include "util.h"

/* What the parse keeps beside a part until the end. */
struct mime_pextra {
	uint32_t	last_child;
	size_t		bnd_off;	/* into the message or msg->store */
	size_t		bnd_len;
	bool		bnd_own;	/* in msg->store */
	bool		pushed;		/* its boundary took effect */
	bool		closed;		/* "--b--" seen */
};

struct mime_bnd {
	uint32_t	part;
};

struct mime_pctx {
	struct mime_msg		*msg;
	const char		*d;
	size_t			 len;
	struct mime_pextra	*px;
	uint32_t		 cap_parts;
	uint32_t		 cap_fields;
	struct mime_bnd		 stack[MIME_DEPTH_MAX];
	size_t			 nstack;
	uint32_t		 cur;
	size_t			 after_close;	/* past the last "--b--" line */
	bool			 in_header;
	uint32_t		 field;		/* being read, or MIME_NONE */
	/* running totals at the start of the line being read */
	uint64_t		 lf;
	uint64_t		 bare;
	unsigned		 prev_nl;	/* the previous line's end */
};

static const char	mime_text_s[] = "text";
static const char	mime_plain_s[] = "plain";
static const char	mime_message_s[] = "message";
static const char	mime_rfc822_s[] = "rfc822";

static struct span
mime_bnd_span(const struct mime_pctx *c, uint32_t part)
{
	const struct mime_pextra	*x = &c->px[part];

	if (x->bnd_len == 0)
		return span_make("", 0);
	if (x->bnd_own)
		return span_make(c->msg->store.data + x->bnd_off, x->bnd_len);
	return span_make(c->d + x->bnd_off, x->bnd_len);
}

/* A new part under parent (MIME_NONE for part 0); MIME_NONE at the cap. */
static uint32_t
mime_part_new(struct mime_pctx *c, uint32_t parent, size_t hdr_start,
    uint64_t bare)
{
	struct mime_msg		*m = c->msg;
	struct mime_part	*p;
	uint32_t		 i;

	if (m->nparts == MIME_PARTS_MAX) {
		m->flags |= MIME_F_PARTS;
		return MIME_NONE;
	}
	if (m->nparts == c->cap_parts) {
		c->cap_parts *= 2;
		if (c->cap_parts > MIME_PARTS_MAX)
			c->cap_parts = MIME_PARTS_MAX;
		m->parts = xrealloc(m->parts, c->cap_parts * sizeof(*m->parts));
		c->px = xrealloc(c->px, c->cap_parts * sizeof(*c->px));
	}
	i = m->nparts++;
	p = &m->parts[i];
	memset(p, 0, sizeof(*p));
	memset(&c->px[i], 0, sizeof(c->px[i]));
	c->px[i].last_child = MIME_NONE;
	p->hdr_start = p->body_start = p->end = hdr_start;
	/* running totals for now; made into counts when the part ends */
	p->hdr_bare_lf = bare;
	p->parent = parent;
	p->first_child = p->next = MIME_NONE;
	p->field_first = m->nfields;
	p->type = span_make(mime_text_s, sizeof(mime_text_s) - 1);
	p->subtype = span_make(mime_plain_s, sizeof(mime_plain_s) - 1);
	p->ctype_default = true;
	if (parent != MIME_NONE) {
		p->depth = (uint16_t)(m->parts[parent].depth + 1);
		if (c->px[parent].last_child == MIME_NONE)
			m->parts[parent].first_child = i;
		else
			m->parts[c->px[parent].last_child].next = i;
		c->px[parent].last_child = i;
		m->parts[parent].nchildren++;
	}
	return i;
}

static void
mime_part_close(struct mime_pctx *c, uint32_t i, size_t end, uint64_t lf,
    uint64_t bare)
{
	struct mime_part	*p = &c->msg->parts[i];

	if (end < p->body_start)
		end = p->body_start;
	p->end = end;
	p->body_lines = lf - p->body_lines;
	p->body_bare_lf = bare - p->body_bare_lf;
}

static bool
mime_caseeq(struct span a, const char *s, size_t n)
{
	return a.len == n && strncasecmp(a.ptr, s, n) == 0;
}

/* The part's Content-Type, Content-Transfer-Encoding and boundary. */
static void
mime_part_ctype(struct mime_pctx *c, uint32_t i)
{
	struct mime_msg			*m = c->msg;
	struct mime_part		*p = &m->parts[i];
	const struct mime_field		*f;
	const struct mime_param		*bp;
	struct mime_ctype		 ct;
	struct span			 b;
	size_t				 k;

	memset(&ct, 0, sizeof(ct));
	if ((f = mime_part_field(m, i, "Content-Transfer-Encoding",
	    NULL)) != NULL)
		p->cte = mime_cte_parse(mime_field_value(m, f));
	f = mime_part_field(m, i, "Content-Type", NULL);
	if (f != NULL && mime_hdr_ctype(mime_field_value(m, f), &ct) == 0) {
		p->type = ct.type;
		p->subtype = ct.subtype;
		p->ctype_default = false;
		bp = NULL;
		for (k = 0; k < ct.nparams && bp == NULL; k++)
			if (span_caseeq(ct.params[k].imap_name, "boundary"))
				bp = &ct.params[k];
		if (bp != NULL) {
			b = bp->imap_value;
			if (b.len > MIME_BOUNDARY_MAX)
				b.len = MIME_BOUNDARY_MAX;
			if (b.len > 0 && b.ptr >= c->d &&
			    b.ptr + b.len <= c->d + c->len) {
				c->px[i].bnd_off = (size_t)(b.ptr - c->d);
			} else if (b.len > 0) {
				c->px[i].bnd_own = true;
				c->px[i].bnd_off = m->store.len;
				if (buf_append_span(&m->store, b) == -1)
					bp = NULL;
			}
			c->px[i].bnd_len = b.len;
			/* an empty boundary is still one (Dovecot) */
			c->px[i].pushed = bp != NULL;
		}
	} else if (p->parent != MIME_NONE &&
	    m->parts[p->parent].kind == MIME_KIND_MULTIPART &&
	    mime_caseeq(m->parts[p->parent].subtype, "digest", 6)) {
		p->type = span_make(mime_message_s, sizeof(mime_message_s) - 1);
		p->subtype = span_make(mime_rfc822_s, sizeof(mime_rfc822_s) - 1);
	}
	mime_ctype_free(&ct);
}

/*
 * The header of the current part ends at hend (eoh: at a blank line),
 * with the running totals there.  Decide what the body is.
 */
static void
mime_header_end(struct mime_pctx *c, size_t hend, uint64_t lf,
    uint64_t bare, bool eoh)
{
	struct mime_msg		*m = c->msg;
	struct mime_part	*p = &m->parts[c->cur];
	uint32_t		 child, i = c->cur;

	c->in_header = false;
	c->field = MIME_NONE;
	p->hdr_bare_lf = bare - p->hdr_bare_lf;
	p->body_start = p->end = hend;
	p->body_lines = lf;
	p->body_bare_lf = bare;
	mime_part_ctype(c, i);
	p = &m->parts[i];
	if (mime_caseeq(p->type, "multipart", 9)) {
		if (p->depth >= MIME_DEPTH_MAX) {
			m->flags |= MIME_F_DEPTH;
			c->px[i].pushed = false;
			return;
		}
		p->kind = MIME_KIND_MULTIPART;
		if (!c->px[i].pushed) {
			m->flags |= MIME_F_NO_BOUNDARY;
			return;
		}
		/* the delimiter counts from the blank line on, and only then */
		if (!eoh) {
			c->px[i].pushed = false;
			return;
		}
		c->stack[c->nstack++].part = i;
		return;
	}
	c->px[i].pushed = false;
	if (mime_caseeq(p->type, "message", 7) &&
	    (mime_caseeq(p->subtype, "rfc822", 6) ||
	    mime_caseeq(p->subtype, "global", 6))) {
		if (p->depth >= MIME_DEPTH_MAX) {
			m->flags |= MIME_F_DEPTH;
			return;
		}
		if ((child = mime_part_new(c, i, hend, bare)) == MIME_NONE)
			return;
		m->parts[i].kind = MIME_KIND_MESSAGE;
		c->cur = child;
		c->in_header = true;
	}
}

static void
mime_field_end(struct mime_pctx *c)
{
	c->field = MIME_NONE;
}

/* A line of the current header section (not its end). */
static void
mime_header_line(struct mime_pctx *c, size_t p, size_t next, unsigned nl)
{
	struct mime_msg		*m = c->msg;
	struct mime_field	*f;
	const char		*d = c->d;
	size_t			 i, colon, name_end;
	unsigned char		 ch;

	for (i = p; i < next; i++) {
		ch = (unsigned char)d[i];
		if (ch >= 0x80)
			m->flags |= MIME_F_HDR_8BIT;
		else if (ch == '\0')
			m->flags |= MIME_F_HDR_NUL;
	}
	if (d[p] == ' ' || d[p] == '\t') {
		/* folding (RFC 5322 §2.2.3): the field goes on */
		if (c->field == MIME_NONE) {
			m->flags |= MIME_F_HDR_BAD;
			return;
		}
		f = &m->fields[c->field];
		f->value_end = next - nl;
		f->end = next;
		f->bare_lf += nl == 1;
		return;
	}
	mime_field_end(c);
	for (colon = p; colon < next - nl && d[colon] != ':'; colon++)
		;
	/* obs-optional (RFC 5322 §4.5.3): WSP before the colon */
	for (name_end = colon; name_end > p &&
	    (d[name_end - 1] == ' ' || d[name_end - 1] == '\t'); name_end--)
		;
	for (i = p; i < name_end; i++)
		if ((unsigned char)d[i] <= ' ' || (unsigned char)d[i] >= 0x7f)
			break;
	if (colon == next - nl || name_end == p || i != name_end) {
		m->flags |= MIME_F_HDR_BAD;
		return;
	}
	if (m->nfields == MIME_FIELDS_MAX) {
		m->flags |= MIME_F_FIELDS;
		return;
	}
	if (m->nfields == c->cap_fields) {
		c->cap_fields = c->cap_fields == 0 ? 64 : c->cap_fields * 2;
		if (c->cap_fields > MIME_FIELDS_MAX)
			c->cap_fields = MIME_FIELDS_MAX;
		m->fields = xrealloc(m->fields,
		    c->cap_fields * sizeof(*m->fields));
	}
	c->field = m->nfields++;
	f = &m->fields[c->field];
	f->name_off = p;
	f->name_len = (uint32_t)(name_end - p);
	f->value_off = colon + 1;
	f->value_end = next - nl;
	f->end = next;
	f->bare_lf = nl == 1;
	m->parts[c->cur].nfields++;
}

/*
 * The innermost-first, longest-prefix boundary match for the line
 * l[0..n) that follows a "--", as an index into the stack, or -1.
 */
static int
mime_bnd_find(const struct mime_pctx *c, const char *l, size_t n)
{
	struct span	b;
	size_t		i, blen = 0;
	int		best = -1;
	bool		dashes;

	dashes = n > 2 && l[n - 1] == '-' && l[n - 2] == '-';
	for (i = c->nstack; i-- > 0; ) {
		b = mime_bnd_span(c, c->stack[i].part);
		if (b.len > n || (best != -1 && b.len <= blen) ||
		    (b.len > 0 && memcmp(b.ptr, l, b.len) != 0))
			continue;
		best = (int)i;
		blen = b.len;
		/* "--b--" may close b or open a "b--" further out: b */
		if (b.len == n || (dashes && b.len + 2 == n))
			break;
	}
	return best;
}

/* A delimiter line of the multipart at stack[si] at p. */
static void
mime_delimiter(struct mime_pctx *c, size_t p, size_t next, unsigned nl,
    size_t si)
{
	struct mime_msg	*m = c->msg;
	uint32_t	 owner = c->stack[si].part, x, child, upto = owner;
	size_t		 e, blen, n;
	uint64_t	 lf = c->lf, bare = c->bare;
	bool		 close;

	if (c->in_header) {
		/*
		 * The header of an encapsulated message cut by a delimiter:
		 * Dovecot counts the line end before the delimiter into the
		 * message/rfc822 part's body (and so into every part up to
		 * the delimiter's multipart), not into the cut header.
		 */
		x = m->parts[c->cur].parent;
		if (p > m->parts[c->cur].hdr_start && x != MIME_NONE &&
		    m->parts[x].kind == MIME_KIND_MESSAGE)
			upto = x;
		/* the header ends here; the line end before is ours */
		e = p > m->parts[c->cur].hdr_start ? p - c->prev_nl : p;
		if (e != p) {
			lf--;
			bare -= c->prev_nl == 1;
		}
		if (c->field != MIME_NONE &&
		    m->fields[c->field].end > e) {
			m->fields[c->field].end = e;
			if (m->fields[c->field].value_end > e)
				m->fields[c->field].value_end = e;
			m->fields[c->field].bare_lf -= c->prev_nl == 1;
		}
		while (c->in_header)
			mime_header_end(c, e, lf, bare, false);
	} else if (p == m->parts[c->cur].body_start || p == c->after_close) {
		/*
		 * Nothing before us, or only a close delimiter line whose
		 * line end is its own (Dovecot counts it into the closed
		 * multipart's epilogue, not to this delimiter).
		 */
		e = p;
	} else {
		e = p - c->prev_nl;
		lf--;
		bare -= c->prev_nl == 1;
	}
	for (x = c->cur; x != upto; x = m->parts[x].parent)
		mime_part_close(c, x, e, lf, bare);
	for (; x != owner; x = m->parts[x].parent)
		mime_part_close(c, x, p, c->lf, c->bare);
	c->cur = owner;
	blen = c->px[owner].bnd_len;
	n = next - nl - p - 2;
	close = n >= blen + 2 && c->d[p + 2 + blen] == '-' &&
	    c->d[p + 3 + blen] == '-';
	if (close) {
		c->px[owner].closed = true;
		c->after_close = next;
		c->nstack = si;
		return;
	}
	c->nstack = si + 1;
	child = mime_part_new(c, owner, next, c->bare + (nl == 1));
	if (child == MIME_NONE)
		return;
	c->cur = child;
	c->in_header = true;
}

static void
mime_fixup(struct mime_pctx *c)
{
	struct mime_msg	*m = c->msg;
	uint32_t	 i;

	for (i = 0; i < m->nparts; i++) {
		if (m->parts[i].kind != MIME_KIND_MULTIPART)
			continue;
		m->parts[i].boundary = mime_bnd_span(c, i);
		if (!c->px[i].pushed)
			continue;
		if (!c->px[i].closed)
			m->flags |= MIME_F_UNTERMINATED;
		if (m->parts[i].nchildren == 0)
			m->flags |= MIME_F_BOUNDARY_UNSEEN;
	}
}

void
mime_parse(struct mime_msg *msg, const char *data, size_t len)
{
	struct mime_pctx	 c;
	const char		*q;
	size_t			 p = 0, next, n;
	unsigned		 nl;
	int			 si;
	uint32_t		 x;
	bool			 has_nul;

	mime_msg_free(msg);
	/* one look for a NUL anywhere rather than one per body line */
	has_nul = len > 0 && memchr(data, '\0', len) != NULL;
	msg->data = data;
	msg->len = len;
	buf_init(&msg->store, (size_t)MIME_PARTS_MAX * MIME_BOUNDARY_MAX);
	memset(&c, 0, sizeof(c));
	c.msg = msg;
	c.d = data;
	c.len = len;
	c.field = MIME_NONE;
	c.cap_parts = 16;
	msg->parts = xcalloc(c.cap_parts, sizeof(*msg->parts));
	c.px = xcalloc(c.cap_parts, sizeof(*c.px));
	(void)mime_part_new(&c, MIME_NONE, 0, 0);
	c.cur = 0;
	c.in_header = true;

	while (p < len) {
		q = memchr(data + p, '\n', len - p);
		next = q != NULL ? (size_t)(q - data) + 1 : len;
		nl = q == NULL ? 0 : (q > data + p && q[-1] == '\r') ? 2 : 1;
		n = next - p - nl;
		si = c.nstack > 0 && n >= 2 && data[p] == '-' &&
		    data[p + 1] == '-' ?
		    mime_bnd_find(&c, data + p + 2, n - 2) : -1;
		if (si != -1 && msg->nparts == MIME_PARTS_MAX) {
			/* no part can be added: boundaries are text now */
			msg->flags |= MIME_F_PARTS;
			si = -1;
		}
		if (si != -1)
			mime_delimiter(&c, p, next, nl, (size_t)si);
		else if (c.in_header && n == 0 && nl > 0)
			mime_header_end(&c, next, c.lf + 1, c.bare + (nl == 1),
			    true);
		else if (c.in_header)
			mime_header_line(&c, p, next, nl);
		else if (has_nul && memchr(data + p, '\0', next - p) != NULL)
			msg->flags |= MIME_F_BODY_NUL;
		c.lf += nl > 0;
		c.bare += nl == 1;
		c.prev_nl = nl;
		p = next;
	}
	if (c.in_header && msg->parts[c.cur].hdr_start < len)
		msg->flags |= MIME_F_HDR_UNTERM;
	while (c.in_header)
		mime_header_end(&c, len, c.lf, c.bare, false);
	for (x = c.cur; x != MIME_NONE; x = msg->parts[x].parent)
		mime_part_close(&c, x, len, c.lf, c.bare);
	mime_fixup(&c);
	free(c.px);
}

void
mime_msg_free(struct mime_msg *msg)
{
	free(msg->parts);
	free(msg->fields);
	buf_free(&msg->store);
	memset(msg, 0, sizeof(*msg));
}

const char *
mime_strerror(const struct mime_msg *msg)
{
	if (msg->flags & MIME_F_DEPTH)
		return "MIME parts nested too deeply";
	if (msg->flags & MIME_F_PARTS)
		return "too many MIME parts";
	if (msg->flags & MIME_F_FIELDS)
		return "too many header fields";
	return NULL;
}

struct span
mime_field_name(const struct mime_msg *msg, const struct mime_field *f)
{
	return span_make(msg->data + f->name_off, f->name_len);
}

struct span
mime_field_value(const struct mime_msg *msg, const struct mime_field *f)
{
	return span_make(msg->data + f->value_off,
	    f->value_end - f->value_off);
}

const struct mime_field *
mime_part_field(const struct mime_msg *msg, uint32_t part, const char *name,
    const struct mime_field *from)
{
	const struct mime_part	*p;
	size_t			 i, end, n = strlen(name);

	if (part >= msg->nparts)
		return NULL;
	p = &msg->parts[part];
	i = p->field_first;
	end = (size_t)p->field_first + p->nfields;
	if (from != NULL)
		i = (size_t)(from - msg->fields) + 1;
	for (; i < end; i++)
		if (msg->fields[i].name_len == n &&
		    strncasecmp(msg->data + msg->fields[i].name_off, name,
		    n) == 0)
			return &msg->fields[i];
	return NULL;
}

int
mime_unfold(struct span value, struct buf *out)
{
	struct span	v = value;
	size_t		i, start;

	while (v.len > 0 && (v.ptr[0] == ' ' || v.ptr[0] == '\t' ||
	    v.ptr[0] == '\r' || v.ptr[0] == '\n'))
		v = span_make(v.ptr + 1, v.len - 1);
	while (v.len > 0 && (v.ptr[v.len - 1] == ' ' ||
	    v.ptr[v.len - 1] == '\t' || v.ptr[v.len - 1] == '\r' ||
	    v.ptr[v.len - 1] == '\n'))
		v.len--;
	for (i = start = 0; i < v.len; i++) {
		if (v.ptr[i] != '\n' && !(v.ptr[i] == '\r' &&
		    i + 1 < v.len && v.ptr[i + 1] == '\n'))
			continue;
		if (buf_append(out, v.ptr + start, i - start) == -1)
			return -1;
		start = i + 1;
	}
	return buf_append(out, v.ptr + start, v.len - start);
}

struct span
mime_part_body(const struct mime_msg *msg, uint32_t part)
{
	const struct mime_part	*p = &msg->parts[part];

	return span_make(msg->data + p->body_start, p->end - p->body_start);
}

struct span
mime_part_header(const struct mime_msg *msg, uint32_t part)
{
	const struct mime_part	*p = &msg->parts[part];

	return span_make(msg->data + p->hdr_start,
	    p->body_start - p->hdr_start);
}

/*
 * One text part's content in UTF-8 into out: transfer encoding undone,
 * then the charset; text with no charset (or one iconv does not know)
 * is taken as UTF-8 when it is that and as Latin-1 otherwise.
 */
static int
mime_text_part(const struct mime_msg *msg, uint32_t i, struct buf *out)
{
	const struct mime_field		*f;
	const struct mime_param		*cs;
	struct mime_ctype		 ct;
	struct buf			 dec;
	struct span			 charset = { "", 0 }, in;
	int				 r;

	memset(&ct, 0, sizeof(ct));
	buf_init(&dec, out->max);
	if ((r = mime_decode_body(msg->parts[i].cte, mime_part_body(msg, i),
	    &dec)) == -1)
		goto done;
	f = mime_part_field(msg, i, "Content-Type", NULL);
	if (f != NULL) {
		(void)mime_hdr_ctype(mime_field_value(msg, f), &ct);
		if ((cs = mime_ctype_param(&ct, "charset")) != NULL)
			charset = cs->value;
	}
	in = span_make(dec.data != NULL ? dec.data : "", dec.len);
	if (charset.len > 0 &&
	    (r = mime_charset_to_utf8(charset, in, out)) != 1)
		goto done;
	charset = span_str(mime_utf8_valid(in) ? "utf-8" : "iso-8859-1");
	r = mime_charset_to_utf8(charset, in, out);
done:
	mime_ctype_free(&ct);
	buf_free(&dec);
	return r == -1 ? -1 : 0;
}

/* Cut out's text from start on to at most max bytes (mime.h). */
static void
mime_text_cut(struct buf *out, size_t start, size_t max)
{
	size_t	end, k;
	char	c;

	if (out->len - start <= max)
		return;
	end = start + max;
	for (k = end; k > start && end - k < MIME_TEXT_CUT_BACK; k--) {
		c = out->data[k];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			end = k;
			goto cut;
		}
	}
	while (end > start && ((unsigned char)out->data[end] & 0xc0) == 0x80)
		end--;
cut:
	out->len = end;
	out->data[end] = '\0';
}

int
mime_text(const struct mime_msg *msg, struct buf *out, struct buf *links_out)
{
	return mime_text_max(msg, out, links_out, SIZE_MAX);
}

int
mime_text_max(const struct mime_msg *msg, struct buf *out,
    struct buf *links_out, size_t part_max)
{
	const struct mime_part	*p;
	struct buf		 text;
	uint32_t		 i;
	size_t			 before = out->len, start;
	int			 r = 0;

	buf_init(&text, out->max);
	for (i = 0; i < msg->nparts && r == 0; i++) {
		p = &msg->parts[i];
		/* only text leaves: attachments of other types say nothing */
		if (p->kind != MIME_KIND_LEAF || !mime_caseeq(p->type, "text", 4))
			continue;
		buf_reset(&text);
		if ((r = mime_text_part(msg, i, &text)) == -1)
			break;
		if (out->len > before)
			r = buf_append_str(out, out->data[out->len - 1] == '\n' ?
			    "\n" : "\n\n");
		start = out->len;
		if (r == 0 && mime_caseeq(p->subtype, "html", 4))
			r = mime_html_text(span_make(text.data != NULL ?
			    text.data : "", text.len), out, links_out);
		else if (r == 0)
			r = buf_append(out, text.data, text.len);
		/* what fit before out's ceiling is cut like the rest */
		mime_text_cut(out, start, part_max);
	}
	buf_free(&text);
	return r;
}
