/*
 * mime_addr: address lists (RFC 5322 §3.4: From, To, Cc, Reply-To, ...)
 * into mailboxes and groups, with the obsolete syntax of §4.4 (source
 * routes, CFWS around the dots of a local part or a domain, empty list
 * members) and what real mail gets wrong: dots and '@' in unquoted
 * display names, "<>", a missing comma, unbalanced quotes, comments and
 * brackets.  Entries look the way Dovecot's ENVELOPE shows them (name
 * without comments, quotes and quoted-pairs resolved, whitespace made
 * single spaces, encoded words left encoded; a lone comment names an
 * addr-spec); where Dovecot gives up on the rest of a list after a
 * broken entry, this goes on at the next entry.
 *
 * Pure.  The value is hostile: every scan is bounded by its length, the
 * list by MIME_ADDRS_MAX, and a quote, comment or domain literal that is
 * not closed is remembered so that none is looked for again after it
 * (each byte is looked at a bounded number of times).
 *
 * Everything a result names is copied into the list's store, built as
 * offsets while it may still grow and turned into spans at the end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime_hdr.h"
#include "util.h"

/* Where in the store a part of an entry is. */
struct addr_off {
	size_t	off;
	size_t	len;
};

struct addr_ent {
	enum mime_addr_kind	kind;
	struct addr_off		name;
	struct addr_off		route;
	struct addr_off		local;
	struct addr_off		domain;
};

struct addr_ctx {
	struct span	 v;
	struct buf	*store;
	struct buf	 tmp;		/* a quoted string's content */
	struct addr_ent	*ents;
	size_t		 n;
	size_t		 cap;
	bool		 in_group;
	bool		 stop;		/* a cap was reached */
	/*
	 * From these offsets on, '"', '(' and '[' are plain bytes: one of
	 * them was not closed before the end of the value, and looking for
	 * the end of each later one again would be quadratic.
	 */
	size_t		 quote_open;
	size_t		 comment_open;
	size_t		 literal_open;
	/* the last comment seen by addr_cfws(..., true): its content */
	size_t		 com_off;
	size_t		 com_len;
	bool		 com_seen;
	/* name rendering: where it started, a space owed before more */
	size_t		 name_start;
	bool		 space;
};

#define ADDR_STOPS	"<,;:"	/* what ends a phrase at the top level */
#define ADDR_ANGLE_STOPS "<>,;"	/* what ends junk inside "<...>" */

static bool
addr_is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Bytes that a display name shows as whitespace: WSP and CTLs. */
static bool
addr_is_blank(char c)
{
	return (unsigned char)c <= ' ' || c == 0x7f;
}

static bool
addr_is_stop(const char *stops, char c)
{
	return c != '\0' && strchr(stops, c) != NULL;
}

/*
 * The end (past the closer) of the quoted string, comment or domain
 * literal opening at v[p], or 0 when it is not closed; quoted-pairs
 * escape the closer.  A literal also ends, unclosed, at another '['.
 */
static size_t
addr_closed(struct addr_ctx *ctx, size_t p)
{
	const char	*v = ctx->v.ptr;
	size_t		 i, depth = 0;
	char		 open = v[p];

	if ((open == '"' && p >= ctx->quote_open) ||
	    (open == '(' && p >= ctx->comment_open) ||
	    (open == '[' && p >= ctx->literal_open))
		return 0;
	for (i = p + 1; i < ctx->v.len; i++) {
		if (v[i] == '\\') {
			i++;
			continue;
		}
		if (open == '"' && v[i] == '"')
			return i + 1;
		if (open == '[' && v[i] == ']')
			return i + 1;
		if (open == '[' && v[i] == '[')
			return 0;
		if (open == '(' && v[i] == '(')
			depth++;
		else if (open == '(' && v[i] == ')' && depth-- == 0)
			return i + 1;
	}
	if (open == '"')
		ctx->quote_open = p;
	else if (open == '(')
		ctx->comment_open = p;
	else
		ctx->literal_open = p;
	return 0;
}

/*
 * Skip whitespace, folding and closed comments from p up to limit; with
 * keep, remember the last comment's content (Dovecot names an addr-spec
 * after it).
 */
static size_t
addr_cfws(struct addr_ctx *ctx, size_t p, size_t limit, bool keep)
{
	size_t	e;

	while (p < limit) {
		if (addr_is_wsp(ctx->v.ptr[p])) {
			p++;
			continue;
		}
		if (ctx->v.ptr[p] != '(' || (e = addr_closed(ctx, p)) == 0 ||
		    e > limit)
			break;
		if (keep) {
			ctx->com_off = p + 1;
			ctx->com_len = e - p - 2;
			ctx->com_seen = true;
		}
		p = e;
	}
	return p;
}

static void
addr_full(struct addr_ctx *ctx)
{
	/* The store is sized so that this cannot happen; stop anyway. */
	ctx->stop = true;
}

/*
 * Append display-name text to the store: runs of blanks become one
 * space, none at the start; the last one waits for more text.
 */
static void
addr_text(struct addr_ctx *ctx, const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (addr_is_blank(p[i])) {
			ctx->space = true;
			continue;
		}
		if (ctx->space && ctx->store->len > ctx->name_start &&
		    buf_append_char(ctx->store, ' ') == -1)
			addr_full(ctx);
		ctx->space = false;
		if (buf_append_char(ctx->store, p[i]) == -1)
			addr_full(ctx);
	}
}

static void
addr_name_begin(struct addr_ctx *ctx)
{
	ctx->name_start = ctx->store->len;
	ctx->space = false;
}

static struct addr_off
addr_name_end(struct addr_ctx *ctx)
{
	struct addr_off	o;

	o.off = ctx->name_start;
	o.len = ctx->store->len - ctx->name_start;
	return o;
}

/* The last comment's text as a name: quoted-pairs resolved. */
static struct addr_off
addr_comment_name(struct addr_ctx *ctx)
{
	const char	*c = ctx->v.ptr + ctx->com_off;
	size_t		 i;

	addr_name_begin(ctx);
	for (i = 0; ctx->com_seen && i < ctx->com_len; i++) {
		if (c[i] == '\\' && i + 1 < ctx->com_len)
			i++;
		addr_text(ctx, c + i, 1);
	}
	return addr_name_end(ctx);
}

/*
 * Walk a phrase from p: atoms, quoted strings, comments, domain
 * literals and any other byte, up to the first of stops outside them or
 * limit.  With render, append it to the store as display-name text
 * (comments count as whitespace).  *saw_at tells whether an '@' was
 * passed.  Returns where it stopped.
 */
static size_t
addr_phrase(struct addr_ctx *ctx, size_t p, size_t limit, const char *stops,
    bool render, bool *saw_at)
{
	struct span	s, a;
	size_t		e;
	bool		word = false;	/* the last token was a word */
	char		c;

	*saw_at = false;
	while (p < limit && !addr_is_stop(stops, c = ctx->v.ptr[p])) {
		if ((c == '"' || c == '(' || c == '[') &&
		    (e = addr_closed(ctx, p)) != 0 && e <= limit) {
			if (c == '(')
				ctx->space = true;
			else if (c == '[' && render)
				addr_text(ctx, ctx->v.ptr + p, e - p);
			else if (c == '"' && render) {
				/* two words are two, even unspaced */
				ctx->space |= word;
				s = span_make(ctx->v.ptr + p, e - p);
				buf_reset(&ctx->tmp);
				(void)mime_lex_quoted(&s, &ctx->tmp);
				addr_text(ctx, ctx->tmp.data == NULL ? "" :
				    ctx->tmp.data, ctx->tmp.len);
			}
			word = c == '"';
			p = e;
			continue;
		}
		s = span_make(ctx->v.ptr + p, limit - p);
		if (mime_lex_atom(&s, false, &a)) {
			if (render) {
				ctx->space |= word;
				addr_text(ctx, a.ptr, a.len);
			}
			word = true;
			p += a.len;
			continue;
		}
		if (c == '@')
			*saw_at = true;
		/* an unbalanced '"' is no text of the name */
		if (render && c != '"')
			addr_text(ctx, &c, 1);
		word = false;
		p++;
	}
	return p < limit ? p : limit;
}

/* v[p..q) as a display name in the store. */
static struct addr_off
addr_name(struct addr_ctx *ctx, size_t p, size_t q)
{
	bool	at;

	addr_name_begin(ctx);
	(void)addr_phrase(ctx, p, q, "", true, &at);
	return addr_name_end(ctx);
}

/*
 * Words joined by dots into the store, CFWS between them left out: a
 * local-part (RFC 5322 §3.4.1 and obs-local-part of §4.4, quoted words
 * unquoted, dots anywhere as Japanese mail writes them) with quoted, or
 * a domain's dot-atom (obs-domain) without.  Comments are remembered.
 * Returns where it ended (before CFWS after it); *any tells whether
 * there was a word.
 */
static size_t
addr_dotted(struct addr_ctx *ctx, size_t p, size_t limit, bool quoted,
    bool *any)
{
	struct span	s, a;
	size_t		q, e;
	bool		dot = false;

	*any = false;
	for (;;) {
		q = addr_cfws(ctx, p, limit, true);
		if (q >= limit || (*any && !dot && ctx->v.ptr[q] != '.'))
			break;
		if (quoted && ctx->v.ptr[q] == '"' &&
		    (e = addr_closed(ctx, q)) != 0 && e <= limit) {
			/* the store is sized for it (mime_hdr_addrs) */
			s = span_make(ctx->v.ptr + q, e - q);
			(void)mime_lex_quoted(&s, ctx->store);
			dot = false;
			p = e;
		} else {
			s = span_make(ctx->v.ptr + q, limit - q);
			if (!mime_lex_atom(&s, true, &a))
				break;
			if (buf_append_span(ctx->store, a) == -1)
				addr_full(ctx);
			dot = a.ptr[a.len - 1] == '.';
			p = q + a.len;
		}
		*any = true;
	}
	return p;
}

/*
 * A domain: a dot-atom, or a domain literal kept with its brackets and
 * without line ends.  Returns where it ended.
 */
static size_t
addr_domain(struct addr_ctx *ctx, size_t p, size_t limit)
{
	size_t	q, e, i;
	bool	any;

	q = addr_cfws(ctx, p, limit, true);
	if (q < limit && ctx->v.ptr[q] == '[' &&
	    (e = addr_closed(ctx, q)) != 0 && e <= limit) {
		for (i = q; i < e; i++)
			if (ctx->v.ptr[i] != '\r' && ctx->v.ptr[i] != '\n' &&
			    buf_append_char(ctx->store, ctx->v.ptr[i]) == -1)
				addr_full(ctx);
		return e;
	}
	return addr_dotted(ctx, p, limit, false, &any);
}

static struct addr_off
addr_since(struct addr_ctx *ctx, size_t off)
{
	struct addr_off	o;

	o.off = off;
	o.len = ctx->store->len - off;
	return o;
}

/* The domain after an '@' at v[p - 1] into *out; returns past its CFWS. */
static size_t
addr_at_domain(struct addr_ctx *ctx, size_t p, size_t limit,
    struct addr_off *out)
{
	size_t	off = ctx->store->len;

	p = addr_domain(ctx, p, limit);
	*out = addr_since(ctx, off);
	return addr_cfws(ctx, p, limit, true);
}

/*
 * Room for one more entry of kind: the end of an open group is always
 * kept free, and a group start needs room for its end.
 */
static struct addr_ent *
addr_add(struct addr_ctx *ctx, enum mime_addr_kind kind)
{
	struct addr_ent	*e;
	size_t		 need;

	need = kind == MIME_ADDR_GROUP_END ? 1 :
	    kind == MIME_ADDR_GROUP ? 2 : 1 + (ctx->in_group ? 1 : 0);
	if (ctx->n + need > MIME_ADDRS_MAX) {
		ctx->stop = true;
		return NULL;
	}
	if (ctx->n == ctx->cap) {
		ctx->cap = ctx->cap == 0 ? 8 : ctx->cap * 2;
		ctx->ents = xrealloc(ctx->ents, ctx->cap * sizeof(*e));
	}
	e = &ctx->ents[ctx->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static void
addr_group_end(struct addr_ctx *ctx)
{
	if (ctx->in_group) {
		(void)addr_add(ctx, MIME_ADDR_GROUP_END);
		ctx->in_group = false;
	}
}

/*
 * "<" [route ":"] local-part "@" domain ">" at v[p] (RFC 5322 §3.4 and
 * obs-angle-addr of §4.4): route, local part and domain into e.  What
 * does not parse inside is skipped to the '>' (Dovecot shows such an
 * address with what it read before); a missing '>' ends the address at
 * the next ',', ';', '<' or the end.
 */
static size_t
addr_angle(struct addr_ctx *ctx, size_t p, struct addr_ent *e)
{
	size_t	lim = ctx->v.len, off, ndom = 0;
	bool	any, at;

	p = addr_cfws(ctx, p + 1, lim, false);
	if (p < lim && ctx->v.ptr[p] == '@') {
		/* obs-route = obs-domain-list ":" */
		off = ctx->store->len;
		while (p < lim && ctx->v.ptr[p] == '@') {
			if ((ndom > 0 && buf_append_char(ctx->store, ',') ==
			    -1) || buf_append_char(ctx->store, '@') == -1)
				addr_full(ctx);
			p = addr_domain(ctx, p + 1, lim);
			ndom++;
			while ((p = addr_cfws(ctx, p, lim, false)) < lim &&
			    ctx->v.ptr[p] == ',')
				p++;
		}
		e->route = addr_since(ctx, off);
		if (p < lim && ctx->v.ptr[p] == ':')
			p = addr_cfws(ctx, p + 1, lim, false);
		else if (p < lim && ctx->v.ptr[p] == '>' && ndom == 1) {
			/* "<@domain>": no local part, not a route */
			e->domain.off = e->route.off + 1;
			e->domain.len = e->route.len - 1;
			e->route.len = 0;
			return p + 1;
		}
	}
	off = ctx->store->len;
	p = addr_dotted(ctx, p, lim, true, &any);
	e->local = addr_since(ctx, off);
	p = addr_cfws(ctx, p, lim, false);
	if (p < lim && ctx->v.ptr[p] == '@')
		p = addr_at_domain(ctx, p + 1, lim, &e->domain);
	if (p < lim && ctx->v.ptr[p] != '>')
		p = addr_phrase(ctx, p, lim, ADDR_ANGLE_STOPS, false, &at);
	if (p < lim && ctx->v.ptr[p] == '>')
		p++;
	return p;
}

/*
 * An entry without "<...>", v[p..q): an addr-spec, maybe after words
 * that are then its display name ("John Smith john@example.org"), maybe
 * followed by more.  Try each word as the start of the addr-spec until
 * one is followed by '@'.  Without any: a lone local part ("NO",
 * "undisclosed-recipients") is a mailbox without a domain, more words
 * are a display name alone, as Dovecot shows them.
 */
static size_t
addr_spec(struct addr_ctx *ctx, size_t p, size_t q)
{
	struct addr_ent	*e;
	struct addr_off	 local;
	size_t		 c, r, end, mark, off;
	bool		 any;

	if ((e = addr_add(ctx, MIME_ADDR_MAILBOX)) == NULL)
		return q;
	mark = ctx->store->len;
	for (c = p; c < q; ) {
		ctx->com_seen = false;
		off = ctx->store->len;
		r = addr_dotted(ctx, c, q, true, &any);
		local = addr_since(ctx, off);
		end = addr_cfws(ctx, r, q, true);
		if (end < q && ctx->v.ptr[end] == '@') {
			end = addr_at_domain(ctx, end + 1, q, &e->domain);
			e->local = local;
			if (c > p) {
				e->name = addr_name(ctx, p, c);
			}
			if (e->name.len == 0)
				e->name = addr_comment_name(ctx);
			return end;
		}
		if (c == p && any && end >= q) {
			e->local = local;
			e->name = addr_comment_name(ctx);
			return q;
		}
		ctx->store->len = off;
		if (any)
			c = end;
		else if ((r = addr_cfws(ctx, c, q, false)) > c)
			c = r;
		else if (ctx->v.ptr[c] == '[' &&
		    (r = addr_closed(ctx, c)) != 0 && r <= q)
			c = r;
		else
			c++;
	}
	ctx->store->len = mark;
	e->name = addr_name(ctx, p, q);
	if (e->name.len == 0) {
		/* only comments and blanks: not an entry (§4.4) */
		ctx->n--;
	}
	return q;
}

/*
 * One entry at v[p], which is neither a separator nor CFWS: a group's
 * start, a mailbox with "<...>", or one without.  Returns where the next
 * thing starts: after the entry, or at its junk when that looks like
 * another entry with the comma missing ('@', '<' or ':' in it); junk
 * that does not is dropped.
 */
static size_t
addr_entry(struct addr_ctx *ctx, size_t p)
{
	struct addr_ent	*e;
	struct addr_off	 name;
	size_t		 q, j;
	bool		 at;

	q = addr_phrase(ctx, p, ctx->v.len, ADDR_STOPS, false, &at);
	if (q < ctx->v.len && ctx->v.ptr[q] == ':') {
		/* a group; one inside another ends the first (§3.4 has
		   no nesting) */
		addr_group_end(ctx);
		if (ctx->n + 2 > MIME_ADDRS_MAX) {
			ctx->stop = true;
			return ctx->v.len;
		}
		name = addr_name(ctx, p, q);
		if ((e = addr_add(ctx, MIME_ADDR_GROUP)) == NULL)
			return ctx->v.len;
		e->name = name;
		ctx->in_group = true;
		return q + 1;
	}
	if (q < ctx->v.len && ctx->v.ptr[q] == '<') {
		if ((e = addr_add(ctx, MIME_ADDR_MAILBOX)) == NULL)
			return ctx->v.len;
		e->name = addr_name(ctx, p, q);
		q = addr_angle(ctx, q, e);
	} else
		q = addr_spec(ctx, p, q);

	q = addr_cfws(ctx, q, ctx->v.len, false);
	if (q >= ctx->v.len || ctx->v.ptr[q] == ',' || ctx->v.ptr[q] == ';')
		return q;
	j = addr_phrase(ctx, q, ctx->v.len, ADDR_STOPS, false, &at);
	if ((at && ctx->v.ptr[q] != '@') || (j < ctx->v.len &&
	    (ctx->v.ptr[j] == '<' || ctx->v.ptr[j] == ':')))
		return q;
	return j;
}

void
mime_addrlist_free(struct mime_addrlist *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
	l->capped = false;
	buf_free(&l->store);
}

static struct span
addr_span(const struct buf *store, struct addr_off o)
{
	if (o.len == 0)
		return span_make("", 0);
	return span_make(store->data + o.off, o.len);
}

int
mime_hdr_addrs(struct span value, struct mime_addrlist *out)
{
	struct addr_ctx	ctx;
	size_t		i, p = 0, max;
	char		c;

	mime_addrlist_free(out);
	/*
	 * Each byte of the value lands in at most one part of one entry;
	 * a route adds a ',' per '@'.  Twice the value is enough.
	 */
	if (__builtin_mul_overflow(value.len, 2, &max) ||
	    __builtin_add_overflow(max, 16, &max))
		max = SIZE_MAX;
	buf_init(&out->store, max);

	memset(&ctx, 0, sizeof(ctx));
	ctx.v = value;
	ctx.store = &out->store;
	buf_init(&ctx.tmp, value.len + 1);
	ctx.quote_open = ctx.comment_open = ctx.literal_open = SIZE_MAX;

	while (!ctx.stop) {
		p = addr_cfws(&ctx, p, value.len, false);
		if (p >= value.len)
			break;
		c = value.ptr[p];
		if (c == ',') {
			/* an empty member (obs-addr-list): nothing */
			p++;
		} else if (c == ';') {
			addr_group_end(&ctx);
			p++;
		} else
			p = addr_entry(&ctx, p);
	}
	/* A group left open at the end is closed (Dovecot does too). */
	addr_group_end(&ctx);
	out->capped = ctx.stop;

	if (ctx.n > 0) {
		out->v = xcalloc(ctx.n, sizeof(*out->v));
		for (i = 0; i < ctx.n; i++) {
			out->v[i].kind = ctx.ents[i].kind;
			out->v[i].name = addr_span(&out->store,
			    ctx.ents[i].name);
			out->v[i].route = addr_span(&out->store,
			    ctx.ents[i].route);
			out->v[i].local = addr_span(&out->store,
			    ctx.ents[i].local);
			out->v[i].domain = addr_span(&out->store,
			    ctx.ents[i].domain);
		}
		out->n = ctx.n;
	}
	free(ctx.ents);
	buf_free(&ctx.tmp);
	return out->n > 0 ? 0 : -1;
}
