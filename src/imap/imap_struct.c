/*
 * imap_struct: ENVELOPE, BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, RFC
 * 9051 §7.5.2) of a message parsed by lib/mime.c, and BODY[section]
 * addressing (RFC 3501 §6.4.5).  Run by the imap role; pure.  It trusts
 * the parse (offsets inside the message, a tree) and nothing in the
 * message bytes: every value is read through a span and written through
 * a capped struct buf.  Where the RFC leaves the form open, the output is
 * what Dovecot 2.3 sends for the same message (tests/blackbox/
 * test_mime_dovecot.py diffs the two over the shared corpora).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap/imap_struct.h"
#include "mime.h"
#include "mime_hdr.h"

/* More '"' and '\' than this and a string goes out as a literal. */
#define IMAP_STRUCT_ESCAPES_MAX	4
/* Content-Language tags kept (RFC 3282). */
#define IMAP_STRUCT_LANGS_MAX	64
/* Digits of one part number in a section spec. */
#define IMAP_STRUCT_NUM_DIGITS	9

/*
 * The writers append to out and, while body is set, the same to body
 * too, except for the extension data (ext_only): one walk of the tree
 * gives BODYSTRUCTURE and BODY together (imap_struct_bodies()).
 */
struct imap_struct_ctx {
	const struct mime_msg	*msg;
	struct buf		*out;
	struct buf		*body;	/* BODY beside BODYSTRUCTURE, or NULL */
	bool			 ext_only; /* what goes to out alone */
	struct buf		 tmp;	/* a value being cleaned: never
					   longer than the raw value, and
					   capped as the output is */
	struct mime_ctype	 ct;
	struct mime_addrlist	 al;
	int			 failed;
};

/* Every byte written goes through here: whole runs, never a byte at a
 * time (a first sync formats a folder's worth of these). */
static void
put_mem(struct imap_struct_ctx *c, const char *p, size_t len)
{
	if (c->failed)
		return;
	if (buf_append(c->out, p, len) == -1 ||
	    (c->body != NULL && !c->ext_only &&
	    buf_append(c->body, p, len) == -1))
		c->failed = 1;
}

static void
put(struct imap_struct_ctx *c, const char *s)
{
	put_mem(c, s, strlen(s));
}

static void
put_u64(struct imap_struct_ctx *c, uint64_t v)
{
	char	d[20];
	size_t	i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	put_mem(c, d + i, sizeof(d) - i);
}

/* A literal, RFC 3501 §4.3.  A NUL cannot travel in one: it becomes 0x80,
 * as Dovecot's header parser makes it. */
static void
put_literal(struct imap_struct_ctx *c, struct span s)
{
	const char	*nul;
	size_t		 i;

	put(c, "{");
	put_u64(c, s.len);
	put(c, "}\r\n");
	for (i = 0; (nul = memchr(s.ptr + i, '\0', s.len - i)) != NULL;
	    i = (size_t)(nul - s.ptr) + 1) {
		put_mem(c, s.ptr + i, (size_t)(nul - s.ptr) - i);
		put(c, "\x80");
	}
	put_mem(c, s.ptr + i, s.len - i);
}

/* An IMAP string: quoted when it can be, else a literal. */
static void
put_string(struct imap_struct_ctx *c, struct span s)
{
	size_t		i, start, escapes = 0;
	unsigned char	ch;

	for (i = 0; i < s.len; i++) {
		ch = (unsigned char)s.ptr[i];
		if (ch == '"' || ch == '\\') {
			if (++escapes > IMAP_STRUCT_ESCAPES_MAX)
				break;
		} else if (ch == '\r' || ch == '\n' || ch == '\0' ||
		    ch >= 0x80)
			break;
	}
	if (i < s.len) {
		put_literal(c, s);
		return;
	}
	put(c, "\"");
	for (i = start = 0; escapes > 0 && i < s.len; i++) {
		if (s.ptr[i] != '"' && s.ptr[i] != '\\')
			continue;
		put_mem(c, s.ptr + start, i - start);
		put(c, "\\");
		start = i;	/* the quote or backslash itself follows */
	}
	put_mem(c, s.ptr + start, s.len - start);
	put(c, "\"");
}

/*
 * Text for humans (a subject, a display name): tabs and runs of white
 * space become one space, line ends go, leading and trailing white
 * space is trimmed.  When nothing had to change it goes out quoted as it
 * is; otherwise (quotes and 8-bit bytes count as changes) as a literal,
 * or "" when only white space was there.
 */
static void
put_human(struct imap_struct_ctx *c, struct span s)
{
	size_t		i;
	bool		modify = false, lwsp = true;
	unsigned char	ch;

	/* most are clean already: then they go out as they are */
	for (i = 0; i < s.len; i++) {
		ch = (unsigned char)s.ptr[i];
		if (ch == ' ') {
			if (lwsp)
				break;
			lwsp = true;
			continue;
		}
		if (ch == '\r' || ch == '\n' || ch == '\t' || ch == '"' ||
		    ch == '\\' || ch == '\0' || ch >= 0x80)
			break;
		lwsp = false;
	}
	if (i == s.len && (!lwsp || s.len == 0)) {
		put(c, "\"");
		put_mem(c, s.ptr, s.len);
		put(c, "\"");
		return;
	}
	lwsp = true;
	buf_reset(&c->tmp);
	for (i = 0; i < s.len; i++) {
		ch = (unsigned char)s.ptr[i];
		switch (ch) {
		case '\r':
		case '\n':
			modify = true;
			continue;
		case '\t':
		case ' ':
			if (ch == '\t' || lwsp)
				modify = true;
			if (!lwsp && buf_append_char(&c->tmp, ' ') == -1)
				c->failed = 1;
			lwsp = true;
			continue;
		case '"':
		case '\\':
			modify = true;
			break;
		case '\0':
			modify = true;
			ch = 0x80;
			break;
		default:
			if (ch >= 0x80)
				modify = true;
			break;
		}
		lwsp = false;
		if (buf_append_char(&c->tmp, (char)ch) == -1)
			c->failed = 1;
	}
	if (lwsp && c->tmp.len > 0) {
		modify = true;
		c->tmp.len--;
	}
	if (c->failed)
		return;
	if (!modify) {
		put(c, "\"");
		put_mem(c, s.ptr, s.len);
		put(c, "\"");
	} else if (c->tmp.len == 0)
		put(c, "\"\"");
	else
		put_literal(c, span_make(c->tmp.data, c->tmp.len));
}

/*
 * A field's raw value as IMAP serves it in BODYSTRUCTURE and ENVELOPE
 * (Content-ID, Date, Message-ID, ...): leading white space skipped, CR
 * and LF removed (the folding white space stays), as an nstring.
 */
static void
put_raw_value(struct imap_struct_ctx *c, const struct mime_field *f)
{
	struct span	v;
	size_t		i, start;

	if (f == NULL) {
		put(c, "NIL");
		return;
	}
	v = mime_field_value(c->msg, f);
	while (v.len > 0 && (*v.ptr == ' ' || *v.ptr == '\t' ||
	    *v.ptr == '\r' || *v.ptr == '\n')) {
		v.ptr++;
		v.len--;
	}
	buf_reset(&c->tmp);
	for (i = start = 0; i < v.len; i++) {
		if (v.ptr[i] != '\r' && v.ptr[i] != '\n')
			continue;
		if (buf_append(&c->tmp, v.ptr + start, i - start) == -1) {
			c->failed = 1;
			return;
		}
		start = i + 1;
	}
	if (start == 0) {
		put_string(c, v);	/* nothing to take out */
		return;
	}
	if (buf_append(&c->tmp, v.ptr + start, v.len - start) == -1) {
		c->failed = 1;
		return;
	}
	put_string(c, span_make(c->tmp.data, c->tmp.len));
}

/* The last field of that name in part's header (ENVELOPE's strings
 * take the last, as Dovecot does), or NULL. */
static const struct mime_field *
last_field(const struct mime_msg *msg, uint32_t part, const char *name)
{
	const struct mime_field	*f = NULL, *next;

	while ((next = mime_part_field(msg, part, name, f)) != NULL)
		f = next;
	return f;
}

/* One address of an address list (RFC 3501 §7.4.2 address). */
static void
put_addr(struct imap_struct_ctx *c, const struct mime_addr *a)
{
	put(c, "(");
	switch (a->kind) {
	case MIME_ADDR_GROUP:
		/* the start of a group: its name in the mailbox field */
		put(c, "NIL NIL ");
		put_string(c, a->name);
		put(c, " NIL");
		break;
	case MIME_ADDR_GROUP_END:
		put(c, "NIL NIL NIL NIL");
		break;
	case MIME_ADDR_MAILBOX:
		if (a->name.len == 0)
			put(c, "NIL");
		else
			put_human(c, a->name);
		put(c, " ");
		/* Dovecot's markers for a broken angle address */
		if (a->bad_route)
			put_string(c, span_str("INVALID_ROUTE"));
		else if (a->route.len == 0)
			put(c, "NIL");
		else
			put_string(c, a->route);
		put(c, " ");
		put_string(c, a->local.len > 0 ? a->local :
		    span_str("MISSING_MAILBOX"));
		put(c, " ");
		if (a->bad_syntax)
			put_string(c, span_str("SYNTAX_ERROR"));
		else
			put_string(c, a->domain.len > 0 ? a->domain :
			    span_str("MISSING_DOMAIN"));
		break;
	}
	put(c, ")");
}

/*
 * The addresses of every field of that name in part's header, one list
 * (Dovecot joins repeated To: or Cc: fields so); false, with nothing
 * written, when there are none.
 */
static bool
put_addr_fields(struct imap_struct_ctx *c, uint32_t part, const char *name)
{
	const struct mime_field	*f = NULL;
	size_t			 i;
	bool			 first = true;

	/* one parse a field: "(" comes with the first address */
	while ((f = mime_part_field(c->msg, part, name, f)) != NULL) {
		if (mime_hdr_addrs(mime_field_value(c->msg, f),
		    &c->al) == -1)
			continue;
		for (i = 0; i < c->al.n; i++) {
			if (first)
				put(c, "(");
			first = false;
			put_addr(c, &c->al.v[i]);
		}
	}
	if (first)
		return false;
	put(c, ")");
	return true;
}

/* An address list of the envelope; when it has none, fallback's (RFC
 * 3501 §7.4.2: sender and reply-to default to from), or NIL. */
static void
put_addrs(struct imap_struct_ctx *c, uint32_t part, const char *name,
    const char *fallback)
{
	if (put_addr_fields(c, part, name))
		return;
	if (fallback == NULL || !put_addr_fields(c, part, fallback))
		put(c, "NIL");
}

static void
put_envelope(struct imap_struct_ctx *c, uint32_t part)
{
	const struct mime_msg	*msg = c->msg;
	const struct mime_field	*f;
	struct span		 v;

	put(c, "(");
	put_raw_value(c, last_field(msg, part, "Date"));
	put(c, " ");
	if ((f = last_field(msg, part, "Subject")) == NULL)
		put(c, "NIL");
	else {
		v = mime_field_value(msg, f);
		while (v.len > 0 && (*v.ptr == ' ' || *v.ptr == '\t')) {
			v.ptr++;
			v.len--;
		}
		put_human(c, v);
	}
	put(c, " ");
	put_addrs(c, part, "From", NULL);
	put(c, " ");
	put_addrs(c, part, "Sender", "From");
	put(c, " ");
	put_addrs(c, part, "Reply-To", "From");
	put(c, " ");
	put_addrs(c, part, "To", NULL);
	put(c, " ");
	put_addrs(c, part, "Cc", NULL);
	put(c, " ");
	put_addrs(c, part, "Bcc", NULL);
	put(c, " ");
	put_raw_value(c, last_field(msg, part, "In-Reply-To"));
	put(c, " ");
	put_raw_value(c, last_field(msg, part, "Message-ID"));
	put(c, ")");
}

int
imap_struct_envelope(struct buf *out, const struct mime_msg *msg,
    uint32_t part)
{
	struct imap_struct_ctx	 c;

	memset(&c, 0, sizeof(c));
	c.msg = msg;
	c.out = out;
	buf_init(&c.tmp, out->max);
	put_envelope(&c, part);
	buf_free(&c.tmp);
	mime_addrlist_free(&c.al);
	if (c.failed) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* ("name" "value" ...) of a parsed Content-Type or -Disposition, with
 * charset=us-ascii added for text (RFC 2045 §5.2) when absent. */
static void
put_params(struct imap_struct_ctx *c, const struct mime_ctype *ct,
    bool parsed, bool default_charset)
{
	size_t	i, n = parsed ? ct->nparams : 0;
	bool	charset = false;

	if (n == 0 && !default_charset) {
		put(c, "NIL");
		return;
	}
	put(c, "(");
	for (i = 0; i < n; i++) {
		if (i > 0)
			put(c, " ");
		if (span_caseeq(ct->params[i].imap_name, "charset"))
			charset = true;
		put_string(c, ct->params[i].imap_name);
		put(c, " ");
		put_string(c, ct->params[i].imap_value);
	}
	if (default_charset && !charset) {
		if (n > 0)
			put(c, " ");
		put(c, "\"charset\" \"us-ascii\"");
	}
	put(c, ")");
}

/*
 * The body-fld-dsp: ("disposition" (params)) or NIL.  As Dovecot does, a
 * later Content-Disposition replaces one that had no parameters.
 */
static void
put_disposition(struct imap_struct_ctx *c, uint32_t part)
{
	const struct mime_field	*f = NULL, *use = NULL;

	while ((f = mime_part_field(c->msg, part, "Content-Disposition",
	    f)) != NULL) {
		if (mime_hdr_disposition(mime_field_value(c->msg, f),
		    &c->ct) == -1 || c->ct.type.len == 0)
			continue;
		use = f;
		if (c->ct.nparams > 0)
			break;
	}
	if (use == NULL) {
		put(c, "NIL");
		return;
	}
	if (use != f)
		(void)mime_hdr_disposition(mime_field_value(c->msg, use),
		    &c->ct);
	put(c, "(");
	put_string(c, c->ct.type);
	put(c, " ");
	put_params(c, &c->ct, true, false);
	put(c, ")");
}

/* body-fld-lang: the tags of Content-Language (RFC 3282), or NIL. */
static void
put_language(struct imap_struct_ctx *c, uint32_t part)
{
	const struct mime_field	*f;
	struct span		 v, tag;
	size_t			 n = 0;

	f = mime_part_field(c->msg, part, "Content-Language", NULL);
	if (f == NULL) {
		put(c, "NIL");
		return;
	}
	v = mime_field_value(c->msg, f);
	mime_lex_cfws(&v);
	while (n < IMAP_STRUCT_LANGS_MAX && mime_lex_atom(&v, false, &tag)) {
		put(c, n++ == 0 ? "(" : " ");
		put_string(c, tag);
		mime_lex_cfws(&v);
		if (v.len == 0 || *v.ptr != ',')
			break;
		v.ptr++;
		v.len--;
		mime_lex_cfws(&v);
	}
	put(c, n == 0 ? "NIL" : ")");
}

/* The extension data both kinds of body end with (RFC 3501 §7.4.2). */
static void
put_ext_common(struct imap_struct_ctx *c, uint32_t part)
{
	put(c, " ");
	put_disposition(c, part);
	put(c, " ");
	put_language(c, part);
	put(c, " ");
	put_raw_value(c, mime_part_field(c->msg, part, "Content-Location",
	    NULL));
}

/* body-fld-enc: the Content-Transfer-Encoding token as written, when the
 * field holds exactly one token; "7bit" otherwise (RFC 2045 §6.1). */
static void
put_encoding(struct imap_struct_ctx *c, uint32_t part)
{
	const struct mime_field	*f;
	struct span		 v, tok;

	f = mime_part_field(c->msg, part, "Content-Transfer-Encoding", NULL);
	if (f != NULL) {
		v = mime_field_value(c->msg, f);
		mime_lex_cfws(&v);
		if (mime_lex_token(&v, &tok)) {
			mime_lex_cfws(&v);
			if (v.len == 0) {
				put_string(c, tok);
				return;
			}
		}
	}
	put(c, "\"7bit\"");
}

static uint64_t
body_size(const struct mime_part *p)
{
	return (uint64_t)(p->end - p->body_start) + p->body_bare_lf;
}

/* The parsed Content-Type of part into c->ct: true when it parsed. */
static bool
parse_ctype(struct imap_struct_ctx *c, uint32_t part)
{
	const struct mime_field	*f;

	f = mime_part_field(c->msg, part, "Content-Type", NULL);
	if (f == NULL)
		return false;
	return mime_hdr_ctype(mime_field_value(c->msg, f), &c->ct) == 0;
}

/*
 * The start of a body: "(" and, for a multipart without parts, the empty
 * part Dovecot writes (RFC 2046 §5.1.1 wants one at least); for a single
 * part its fields, size and lines, and for message/rfc822 the envelope
 * of its message.  true when the body's children come next.
 */
static bool
open_part(struct imap_struct_ctx *c, uint32_t part, bool ext)
{
	const struct mime_part	*p = &c->msg->parts[part];
	bool			 text, parsed;

	put(c, "(");
	if (p->kind == MIME_KIND_MULTIPART) {
		if (p->nchildren > 0 && p->first_child != MIME_NONE)
			return true;
		put(c, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"
		    " \"7bit\" 0 0");
		if (ext) {
			c->ext_only = true;
			put(c, " NIL NIL NIL NIL");
			c->ext_only = false;
		}
		put(c, ")");
		return false;
	}
	text = p->kind == MIME_KIND_LEAF && span_caseeq(p->type, "text");
	if (p->kind == MIME_KIND_MESSAGE && span_caseeq(p->type, "message") &&
	    span_caseeq(p->subtype, "rfc822"))
		put(c, "\"message\" \"rfc822\"");
	else {
		put_string(c, p->type);
		put(c, " ");
		put_string(c, p->subtype);
	}
	parsed = !p->ctype_default && parse_ctype(c, part);
	put(c, " ");
	put_params(c, &c->ct, parsed, text);
	put(c, " ");
	put_raw_value(c, mime_part_field(c->msg, part, "Content-ID", NULL));
	put(c, " ");
	put_raw_value(c, mime_part_field(c->msg, part,
	    "Content-Description", NULL));
	put(c, " ");
	put_encoding(c, part);
	put(c, " ");
	put_u64(c, body_size(p));
	if (text) {
		put(c, " ");
		put_u64(c, p->body_lines);
	} else if (p->kind == MIME_KIND_MESSAGE &&
	    p->first_child != MIME_NONE) {
		put(c, " ");
		put_envelope(c, p->first_child);
		put(c, " ");
		return true;
	}
	return false;
}

/*
 * The end of a body: a multipart's subtype, a message/rfc822 part's
 * line count, then the extension data (RFC 3501 §7.4.2) and ")".
 */
static void
close_part(struct imap_struct_ctx *c, uint32_t part, bool ext)
{
	const struct mime_part	*p = &c->msg->parts[part];
	bool			 parsed;

	if (p->kind == MIME_KIND_MULTIPART) {
		put(c, " ");
		put_string(c, p->subtype);
		if (ext) {
			c->ext_only = true;
			parsed = parse_ctype(c, part);
			put(c, " ");
			put_params(c, &c->ct, parsed, false);
			put_ext_common(c, part);
			c->ext_only = false;
		}
	} else {
		if (p->kind == MIME_KIND_MESSAGE &&
		    p->first_child != MIME_NONE) {
			put(c, " ");
			put_u64(c, p->body_lines);
		}
		if (ext) {
			c->ext_only = true;
			put(c, " ");
			put_raw_value(c, mime_part_field(c->msg, part,
			    "Content-MD5", NULL));
			put_ext_common(c, part);
			c->ext_only = false;
		}
	}
	put(c, ")");
}

/*
 * The body of part and everything below it, walking the tree by its
 * links (no recursion: the parse may be MIME_DEPTH_MAX deep).
 */
static void
struct_body(struct imap_struct_ctx *c, uint32_t part, bool ext)
{
	const struct mime_part	*parts = c->msg->parts;
	uint32_t		 cur = part, up;

	for (;;) {
		if (open_part(c, cur, ext)) {
			cur = parts[cur].first_child;
			continue;
		}
		close_part(c, cur, ext);
		/* up to the first ancestor with a next part to open */
		while (cur != part) {
			up = parts[cur].parent;
			if (parts[cur].next != MIME_NONE &&
			    parts[up].kind == MIME_KIND_MULTIPART)
				break;
			cur = up;
			close_part(c, cur, ext);
		}
		if (cur == part)
			return;
		cur = parts[cur].next;
	}
}

static int
bodies(struct buf *out, struct buf *body, const struct mime_msg *msg,
    uint32_t part, bool extended)
{
	struct imap_struct_ctx	c;

	memset(&c, 0, sizeof(c));
	c.msg = msg;
	c.out = out;
	c.body = body;
	buf_init(&c.tmp, out->max);
	if (part >= msg->nparts) {
		buf_free(&c.tmp);
		errno = EINVAL;
		return -1;
	}
	struct_body(&c, part, extended);
	buf_free(&c.tmp);
	mime_ctype_free(&c.ct);
	mime_addrlist_free(&c.al);
	if (c.failed) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
imap_struct_bodystructure(struct buf *out, const struct mime_msg *msg,
    uint32_t part, bool extended)
{
	return bodies(out, NULL, msg, part, extended);
}

int
imap_struct_bodies(struct buf *bodystructure, struct buf *body,
    const struct mime_msg *msg, uint32_t part)
{
	return bodies(bodystructure, body, msg, part, true);
}

/* Take "N" (nz-number) or "N." off the front of *s; 0 when none. */
static uint32_t
section_number(struct span *s)
{
	uint32_t	n = 0;
	size_t		i;

	if (s->len == 0 || s->ptr[0] < '1' || s->ptr[0] > '9')
		return 0;
	for (i = 0; i < s->len && s->ptr[i] >= '0' && s->ptr[i] <= '9';
	    i++) {
		if (i == IMAP_STRUCT_NUM_DIGITS)
			return 0;
		n = n * 10 + (uint32_t)(s->ptr[i] - '0');
	}
	s->ptr += i;
	s->len -= i;
	return n;
}

/* The n-th (1-based) body part of a multipart, MIME_NONE when none. */
static uint32_t
child_n(const struct mime_msg *msg, uint32_t part, uint32_t n)
{
	uint32_t	ch = msg->parts[part].first_child;

	if (n > msg->parts[part].nchildren)
		return MIME_NONE;
	while (ch != MIME_NONE && --n > 0)
		ch = msg->parts[ch].next;
	return ch;
}

/* A keyword at the front of *s (any case), taken off when there. */
static bool
section_word(struct span *s, const char *w)
{
	size_t	n = strlen(w);

	if (s->len < n || !span_startswith_case(*s, w))
		return false;
	s->ptr += n;
	s->len -= n;
	return true;
}

int
imap_struct_section(const struct mime_msg *msg, struct span spec,
    uint32_t *part_out, enum imap_struct_region *region_out,
    struct span *fields_out)
{
	uint32_t	msgpart = 0, part = MIME_NONE, n;
	struct span	s = spec;

	*fields_out = span_make(NULL, 0);
	/* section-part: each number picks a body part of the message or
	 * multipart reached so far (RFC 3501 §6.4.5). */
	while ((n = section_number(&s)) != 0) {
		if (part != MIME_NONE) {
			if (msg->parts[part].kind == MIME_KIND_MULTIPART)
				msgpart = MIME_NONE;
			else if (msg->parts[part].kind == MIME_KIND_MESSAGE &&
			    msg->parts[part].first_child != MIME_NONE)
				msgpart = msg->parts[part].first_child;
			else
				return -1;
		}
		if (msgpart != MIME_NONE &&
		    msg->parts[msgpart].kind != MIME_KIND_MULTIPART) {
			/* a message that is not multipart: part 1 is its
			 * body, the message itself */
			if (n != 1)
				return -1;
			part = msgpart;
		} else {
			part = child_n(msg, msgpart != MIME_NONE ? msgpart :
			    part, n);
			if (part == MIME_NONE)
				return -1;
		}
		if (s.len == 0) {
			*part_out = part;
			*region_out = IMAP_STRUCT_PART;
			return 0;
		}
		if (*s.ptr != '.')
			return -1;
		s.ptr++;
		s.len--;
	}
	if (part == MIME_NONE) {
		if (s.len == 0) {
			*part_out = 0;
			*region_out = IMAP_STRUCT_ALL;
			return 0;
		}
		msgpart = 0;
	} else if (section_word(&s, "MIME")) {
		if (s.len != 0)
			return -1;
		*part_out = part;
		*region_out = IMAP_STRUCT_MIME;
		return 0;
	} else {
		/* HEADER and TEXT of a part: only of message/rfc822 */
		if (msg->parts[part].kind != MIME_KIND_MESSAGE ||
		    msg->parts[part].first_child == MIME_NONE)
			return -1;
		msgpart = msg->parts[part].first_child;
	}
	*part_out = msgpart;
	if (section_word(&s, "HEADER.FIELDS.NOT"))
		*region_out = IMAP_STRUCT_FIELDS_NOT;
	else if (section_word(&s, "HEADER.FIELDS"))
		*region_out = IMAP_STRUCT_FIELDS;
	else if (section_word(&s, "HEADER"))
		*region_out = IMAP_STRUCT_HEADER;
	else if (section_word(&s, "TEXT"))
		*region_out = IMAP_STRUCT_TEXT;
	else
		return -1;
	if (*region_out == IMAP_STRUCT_FIELDS ||
	    *region_out == IMAP_STRUCT_FIELDS_NOT) {
		if (s.len == 0 || *s.ptr != ' ')
			return -1;
		*fields_out = s;
		return 0;
	}
	return s.len == 0 ? 0 : -1;
}

void
imap_struct_region(const struct mime_msg *msg, uint32_t part,
    enum imap_struct_region region, struct span *out,
    uint64_t *crlf_size_out)
{
	const struct mime_part	*p = &msg->parts[part];
	uint64_t		 bare;

	switch (region) {
	case IMAP_STRUCT_ALL:
		*out = span_make(msg->data + p->hdr_start,
		    p->end - p->hdr_start);
		bare = p->hdr_bare_lf + p->body_bare_lf;
		break;
	case IMAP_STRUCT_PART:
	case IMAP_STRUCT_TEXT:
		*out = mime_part_body(msg, part);
		bare = p->body_bare_lf;
		break;
	default:
		*out = mime_part_header(msg, part);
		bare = p->hdr_bare_lf;
		break;
	}
	if (crlf_size_out != NULL)
		*crlf_size_out = (uint64_t)out->len + bare;
}
