/*
 * imap_search: SEARCH keys against one message, ESEARCH and SEARCHRES
 * (contract in imap_search.h).  Run by the imap role; trusts the parsed
 * command (imap_parse bounded it: at most IMAP_SEARCH_NODES_MAX nodes,
 * children always after their parent) and nothing of the message.
 *
 * No recursion: the tree is evaluated bottom-up by walking the nodes
 * from the last to the first (a child's index is always larger than its
 * parent's), with three-valued logic so that a round can leave a key
 * unknown and the next round fill it in.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imap_search.h"
#include "log.h"
#include "mime_hdr.h"
#include "util.h"

/* Rounds: what a key needs to be decided. */
#define COST_CHEAP	0	/* the facts in struct imap_search_msg */
#define COST_HEADER	1	/* header fields of the parsed message */
#define COST_BODY	2	/* the decoded text of the body */
#define COST_ROUNDS	3

#define V_FALSE		0
#define V_TRUE		1
#define V_UNKNOWN	2

#define DAY		86400

bool
imap_search_charset_ok(struct span charset)
{
	/* RFC 9051 §6.4.4: UTF-8 must be supported; US-ASCII is its subset */
	return charset.len == 0 || span_caseeq(charset, "UTF-8") ||
	    span_caseeq(charset, "US-ASCII");
}

/* --- case folding --- */

/*
 * Simple one-to-one case folding of a code point (Unicode's
 * CaseFolding.txt status C for these blocks).
 */
static uint32_t
fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c < 0x100) {
		if (c >= 0xc0 && c <= 0xde && c != 0xd7)
			return c + 32;
		if (c == 0xb5)		/* micro sign: Greek mu */
			return 0x3bc;
		return c;
	}
	if (c < 0x180) {
		if (c == 0x130)		/* I with dot: simple fold keeps it */
			return c;
		if (c == 0x178)
			return 0xff;
		if (c == 0x17f)		/* long s */
			return 's';
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return (c & 1) ? c + 1 : c;
		if (c == 0x138 || c == 0x149)
			return c;
		return (c & 1) ? c : c + 1;
	}
	if (c >= 0x370 && c < 0x400) {
		if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
			return c + 32;
		if (c == 0x386)
			return 0x3ac;
		if (c >= 0x388 && c <= 0x38a)
			return c + 37;
		if (c == 0x38c)
			return 0x3cc;
		if (c == 0x38e || c == 0x38f)
			return c + 63;
		if (c == 0x3c2)		/* final sigma */
			return 0x3c3;
		return c;
	}
	if (c >= 0x400 && c < 0x530) {
		if (c <= 0x40f)
			return c + 80;
		if (c <= 0x42f)
			return c + 32;
		if (c < 0x460)
			return c;
		if (c <= 0x481 || (c >= 0x48a && c <= 0x4bf) ||
		    (c >= 0x4d0 && c <= 0x52f))
			return (c & 1) ? c : c + 1;
		if (c == 0x4c0)
			return 0x4cf;
		if (c >= 0x4c1 && c <= 0x4ce)
			return (c & 1) ? c + 1 : c;
		return c;
	}
	return c;
}

/* One UTF-8 sequence at p: its code point and length, or 0 if invalid. */
static size_t
utf8_next(const unsigned char *p, size_t len, uint32_t *cp_out)
{
	uint32_t	c;
	size_t		n, i;

	if (p[0] < 0x80) {
		*cp_out = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp_out = c;
	return n;
}

int
imap_search_fold(struct span in, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)in.ptr;
	size_t			 i = 0, n, run;
	uint32_t		 c;

	while (i < in.len) {
		/* runs of lower-case ASCII go in one append */
		for (run = i; run < in.len && p[run] < 0x80 &&
		    !(p[run] >= 'A' && p[run] <= 'Z'); run++)
			;
		if (run > i) {
			if (buf_append(out, p + i, run - i) == -1)
				return -1;
			i = run;
			continue;
		}
		n = utf8_next(p + i, in.len - i, &c);
		if (n == 0) {
			if (buf_append(out, p + i, 1) == -1)
				return -1;
			i++;
			continue;
		}
		if (buf_append_utf8(out, fold_cp(c)) == -1)
			return -1;
		i += n;
	}
	return 0;
}

static bool
contains(const struct buf *hay, const struct buf *needle)
{
	if (needle->len == 0)
		return true;
	if (hay->len < needle->len)
		return false;
	return memmem(hay->data, hay->len, needle->data, needle->len) != NULL;
}

/* --- preparing --- */

static uint8_t
leaf_cost(enum imap_skey key)
{
	switch (key) {
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
	case IMAP_SK_HEADER:
	case IMAP_SK_BCC:
	case IMAP_SK_CC:
	case IMAP_SK_FROM:
	case IMAP_SK_SUBJECT:
	case IMAP_SK_TO:
		return COST_HEADER;
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
		return COST_BODY;
	default:
		return COST_CHEAP;
	}
}

int
imap_search_prepare(struct imap_search_ctx *ctx,
    const struct imap_search *se, uint32_t max_seq, uint32_t max_uid,
    const uint32_t *saved, size_t nsaved, const char **err_out)
{
	const struct imap_search_node	*n;
	size_t				 i;
	uint16_t			 ch;

	memset(ctx, 0, sizeof(*ctx));
	if (!imap_search_charset_ok(se->charset)) {
		*err_out = IMAP_SEARCH_BADCHARSET " Unknown charset";
		return -1;
	}
	ctx->se = se;
	ctx->max_seq = max_seq;
	ctx->max_uid = max_uid;
	ctx->saved = saved;
	ctx->nsaved = nsaved;
	if (se->nnode == 0)
		return 0;
	ctx->parent = xcalloc(se->nnode, sizeof(*ctx->parent));
	ctx->cost = xcalloc(se->nnode, sizeof(*ctx->cost));
	ctx->val = xcalloc(se->nnode, sizeof(*ctx->val));
	ctx->needle = xcalloc(se->nnode, sizeof(*ctx->needle));
	ctx->field = xcalloc(se->nnode, sizeof(*ctx->field));
	buf_init(&ctx->hdr_text, IMAP_SEARCH_TEXT_MAX);
	buf_init(&ctx->body_text, IMAP_SEARCH_TEXT_MAX);
	buf_init(&ctx->tmp, IMAP_SEARCH_TEXT_MAX);
	buf_init(&ctx->tmp2, IMAP_SEARCH_TEXT_MAX);
	for (i = 0; i < se->nnode; i++) {
		n = &se->node[i];
		for (ch = n->child; ch != 0; ch = se->node[ch].next) {
			if (ch <= i || ch >= se->nnode)
				fatalx("imap_search: malformed search tree");
			ctx->parent[ch] = (uint16_t)i;
		}
		ctx->cost[i] = leaf_cost(n->key);
		buf_init(&ctx->needle[i], IMAP_COMMAND_MAX);
		if (n->key == IMAP_SK_HEADER) {
			ctx->field[i] = xstrndup(n->str.ptr, n->str.len);
			if (imap_search_fold(n->str2, &ctx->needle[i]) == -1)
				fatalx("imap_search: needle");
		} else if (ctx->cost[i] != COST_CHEAP &&
		    imap_search_fold(n->str, &ctx->needle[i]) == -1)
			fatalx("imap_search: needle");
	}
	/* a node costs what its dearest descendant costs */
	for (i = se->nnode; i-- > 1;)
		if (ctx->cost[ctx->parent[i]] < ctx->cost[i])
			ctx->cost[ctx->parent[i]] = ctx->cost[i];
	return 0;
}

void
imap_search_ctx_free(struct imap_search_ctx *ctx)
{
	size_t	i;

	if (ctx->se != NULL && ctx->needle != NULL)
		for (i = 0; i < ctx->se->nnode; i++) {
			buf_free(&ctx->needle[i]);
			free(ctx->field[i]);
		}
	free(ctx->parent);
	free(ctx->cost);
	free(ctx->val);
	free(ctx->needle);
	free(ctx->field);
	buf_free(&ctx->hdr_text);
	buf_free(&ctx->body_text);
	buf_free(&ctx->tmp);
	buf_free(&ctx->tmp2);
	memset(ctx, 0, sizeof(*ctx));
}

bool
imap_search_needs_message(const struct imap_search_ctx *ctx)
{
	return ctx->se->nnode > 0 && ctx->cost[0] != COST_CHEAP;
}

/* --- the keys --- */

static int64_t
day_of(int64_t t, int zone_min)
{
	int64_t	local = t + (int64_t)zone_min * 60;

	return local >= 0 ? local / DAY : -((-local + DAY - 1) / DAY);
}

static bool
date_cmp(enum imap_skey key, int64_t day, int64_t want)
{
	switch (key) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_SENTBEFORE:
		return day < want;
	case IMAP_SK_ON:
	case IMAP_SK_SENTON:
		return day == want;
	default:
		return day >= want;
	}
}

static bool
in_saved(const struct imap_search_ctx *ctx, uint32_t uid)
{
	size_t	lo = 0, hi = ctx->nsaved, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ctx->saved[mid] == uid)
			return true;
		if (ctx->saved[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int
eval_cheap(const struct imap_search_ctx *ctx, const struct imap_search_node *n,
    const struct imap_search_msg *m)
{
	size_t	i;

	switch (n->key) {
	case IMAP_SK_ALL:
		return V_TRUE;
	case IMAP_SK_FLAG:
		return (m->flags & n->flag) != 0;
	case IMAP_SK_UNFLAG:
		return (m->flags & n->flag) == 0;
	case IMAP_SK_NEW:
		return (m->flags & (IMAP_FLAG_RECENT | IMAP_FLAG_SEEN)) ==
		    IMAP_FLAG_RECENT;
	case IMAP_SK_OLD:
		return (m->flags & IMAP_FLAG_RECENT) == 0;
	case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
		/* keywords compare without case, as flags do (RFC 9051 §2.3.2) */
		for (i = 0; i < m->nkw; i++)
			if (m->kw[i].len == n->str.len &&
			    strncasecmp(m->kw[i].ptr, n->str.ptr,
			    n->str.len) == 0)
				return n->key == IMAP_SK_KEYWORD;
		return n->key == IMAP_SK_UNKEYWORD;
	case IMAP_SK_SEQ:
		/* RFC 5182 §2.1: "$" is the saved set of messages */
		if (n->seq.last)
			return in_saved(ctx, m->uid);
		return imap_seqset_contains(&n->seq, m->seq, ctx->max_seq);
	case IMAP_SK_UID:
		if (n->seq.last)
			return in_saved(ctx, m->uid);
		return imap_seqset_contains(&n->seq, m->uid, ctx->max_uid);
	case IMAP_SK_LARGER:
		return m->size > n->num;
	case IMAP_SK_SMALLER:
		return m->size < n->num;
	case IMAP_SK_MODSEQ:
		/* RFC 7162 §3.1.5: equal to or greater than */
		return m->modseq >= n->num;
	case IMAP_SK_EMAILID:
		/* RFC 8474 §6: the same id, octet for octet */
		return m->emailid.len > 0 && m->emailid.len == n->str.len &&
		    memcmp(m->emailid.ptr, n->str.ptr, n->str.len) == 0;
	case IMAP_SK_THREADID:
		/* no message has a THREADID (NIL) */
		return V_FALSE;
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		/* RFC 9051 §6.4.4: the internal date, time and zone
		 * disregarded, i.e. its date in its own zone */
		return date_cmp(n->key, day_of(m->internaldate,
		    m->internal_zone), n->date);
	default:
		return V_FALSE;
	}
}

/*
 * An address field as text: "Name <local@domain>, local@domain" with
 * the names decoded; the decoded raw value when nothing parses.
 */
static int
addr_text(struct imap_search_ctx *ctx, struct span value)
{
	struct mime_addrlist	 al;
	const struct mime_addr	*a;
	size_t			 i;
	bool			 sep = false;
	int			 r = 0;

	memset(&al, 0, sizeof(al));
	buf_reset(&ctx->tmp);
	if (mime_hdr_addrs(value, &al) == -1) {
		mime_addrlist_free(&al);
		return mime_decode_words(value, &ctx->tmp);
	}
	for (i = 0; i < al.n && r == 0; i++) {
		a = &al.v[i];
		if (a->kind == MIME_ADDR_GROUP_END)
			continue;
		if (sep)
			r = buf_append_str(&ctx->tmp, ", ");
		sep = true;
		if (r == 0 && a->name.len > 0) {
			r = mime_decode_words(a->name, &ctx->tmp);
			if (r == 0 && a->kind == MIME_ADDR_MAILBOX)
				r = buf_append_str(&ctx->tmp, " <");
			else if (r == 0)
				r = buf_append_str(&ctx->tmp, ":");
		}
		if (r == 0 && a->kind == MIME_ADDR_MAILBOX) {
			r = buf_append_span(&ctx->tmp, a->local);
			if (r == 0 && a->domain.len > 0 &&
			    (r = buf_append_char(&ctx->tmp, '@')) == 0)
				r = buf_append_span(&ctx->tmp, a->domain);
			if (r == 0 && a->name.len > 0)
				r = buf_append_char(&ctx->tmp, '>');
		}
	}
	mime_addrlist_free(&al);
	return r;
}

static const char *
key_field(const struct imap_search_ctx *ctx, size_t k)
{
	switch (ctx->se->node[k].key) {
	case IMAP_SK_BCC:
		return "Bcc";
	case IMAP_SK_CC:
		return "Cc";
	case IMAP_SK_FROM:
		return "From";
	case IMAP_SK_TO:
		return "To";
	case IMAP_SK_SUBJECT:
		return "Subject";
	default:
		return ctx->field[k];
	}
}

static int
eval_header(struct imap_search_ctx *ctx, size_t k, const struct mime_msg *msg)
{
	const struct imap_search_node	*n = &ctx->se->node[k];
	const struct mime_field		*f = NULL;
	struct span			 v;
	int64_t				 t;
	int				 zone, r;

	switch (n->key) {
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		/* the date as written, in the sender's zone (RFC 9051
		 * §6.4.4: time and zone disregarded); a missing or broken
		 * Date: is the epoch, as Dovecot takes it */
		f = mime_part_field(msg, 0, "Date", NULL);
		if (f == NULL || mime_hdr_date(mime_field_value(msg, f), &t,
		    &zone) == -1) {
			t = 0;
			zone = 0;
		}
		return date_cmp(n->key, day_of(t, zone), n->date);
	default:
		break;
	}
	while ((f = mime_part_field(msg, 0, key_field(ctx, k), f)) != NULL) {
		v = mime_field_value(msg, f);
		switch (n->key) {
		case IMAP_SK_BCC:
		case IMAP_SK_CC:
		case IMAP_SK_FROM:
		case IMAP_SK_TO:
			r = addr_text(ctx, v);
			break;
		default:
			buf_reset(&ctx->tmp);
			r = mime_decode_words(v, &ctx->tmp);
			break;
		}
		if (r == -1 && errno != EMSGSIZE)
			return V_FALSE;
		buf_reset(&ctx->tmp2);
		(void)imap_search_fold(span_make(ctx->tmp.data != NULL ?
		    ctx->tmp.data : "", ctx->tmp.len), &ctx->tmp2);
		if (contains(&ctx->tmp2, &ctx->needle[k]))
			return V_TRUE;
	}
	return V_FALSE;
}

/* The header section and the body text, decoded and folded, once. */
static void
load_text(struct imap_search_ctx *ctx, const struct mime_msg *msg,
    enum imap_skey key)
{
	const struct mime_part	*p0 = &msg->parts[0];
	uint32_t		 i;

	if (key == IMAP_SK_TEXT && !ctx->have_hdr) {
		buf_reset(&ctx->tmp);
		buf_reset(&ctx->hdr_text);
		/* each field "Name: decoded value", one a line */
		for (i = 0; i < p0->nfields; i++) {
			const struct mime_field	*f =
			    &msg->fields[p0->field_first + i];

			if (buf_append_span(&ctx->tmp,
			    mime_field_name(msg, f)) == -1 ||
			    buf_append_str(&ctx->tmp, ": ") == -1 ||
			    mime_decode_words(mime_field_value(msg, f),
			    &ctx->tmp) == -1 ||
			    buf_append_char(&ctx->tmp, '\n') == -1)
				break;
		}
		(void)imap_search_fold(span_make(ctx->tmp.data != NULL ?
		    ctx->tmp.data : "", ctx->tmp.len), &ctx->hdr_text);
		ctx->have_hdr = true;
	}
	if (!ctx->have_body) {
		buf_reset(&ctx->tmp);
		buf_reset(&ctx->body_text);
		/* past the cap the text so far is searched (imap_search.h) */
		(void)mime_text(msg, &ctx->tmp, NULL);
		(void)imap_search_fold(span_make(ctx->tmp.data != NULL ?
		    ctx->tmp.data : "", ctx->tmp.len), &ctx->body_text);
		ctx->have_body = true;
	}
}

static int
eval_body(struct imap_search_ctx *ctx, size_t k, const struct mime_msg *msg)
{
	enum imap_skey	key = ctx->se->node[k].key;

	load_text(ctx, msg, key);
	if (key == IMAP_SK_TEXT && contains(&ctx->hdr_text, &ctx->needle[k]))
		return V_TRUE;
	return contains(&ctx->body_text, &ctx->needle[k]);
}

/* Combine the children of every inner node, bottom-up (Kleene logic). */
static void
combine(struct imap_search_ctx *ctx)
{
	const struct imap_search	*se = ctx->se;
	const struct imap_search_node	*n;
	size_t				 i;
	uint16_t			 ch;
	int				 v, cv;

	for (i = se->nnode; i-- > 0;) {
		n = &se->node[i];
		switch (n->key) {
		case IMAP_SK_AND:
		case IMAP_SK_OR:
			v = n->key == IMAP_SK_AND ? V_TRUE : V_FALSE;
			for (ch = n->child; ch != 0; ch = se->node[ch].next) {
				cv = ctx->val[ch];
				if (cv == (n->key == IMAP_SK_AND ? V_FALSE :
				    V_TRUE)) {
					v = cv;
					break;
				}
				if (cv == V_UNKNOWN)
					v = V_UNKNOWN;
			}
			ctx->val[i] = (uint8_t)v;
			break;
		case IMAP_SK_NOT:
			cv = ctx->val[n->child];
			ctx->val[i] = (uint8_t)(cv == V_UNKNOWN ? V_UNKNOWN :
			    !cv);
			break;
		default:
			break;
		}
	}
}

/* Is leaf k still worth evaluating: no ancestor is decided yet? */
static bool
relevant(const struct imap_search_ctx *ctx, size_t k)
{
	while (k != 0) {
		k = ctx->parent[k];
		if (ctx->val[k] != V_UNKNOWN)
			return false;
	}
	return true;
}

static bool
inner(enum imap_skey key)
{
	return key == IMAP_SK_AND || key == IMAP_SK_OR || key == IMAP_SK_NOT;
}

int
imap_search_match(struct imap_search_ctx *ctx, const struct imap_search_msg *m)
{
	const struct imap_search	*se = ctx->se;
	const struct mime_msg		*msg = NULL;
	size_t				 i;
	int				 round;

	if (se->nnode == 0)
		return 1;
	ctx->have_hdr = ctx->have_body = false;
	for (i = 0; i < se->nnode; i++)
		ctx->val[i] = V_UNKNOWN;
	for (i = 0; i < se->nnode; i++)
		if (!inner(se->node[i].key) && ctx->cost[i] == COST_CHEAP)
			ctx->val[i] = (uint8_t)eval_cheap(ctx, &se->node[i], m);
	combine(ctx);
	for (round = COST_HEADER; round < COST_ROUNDS &&
	    ctx->val[0] == V_UNKNOWN; round++) {
		for (i = 0; i < se->nnode; i++) {
			if (inner(se->node[i].key) || ctx->cost[i] != round ||
			    !relevant(ctx, i))
				continue;
			if (msg == NULL && m->message(m->arg, &msg) == -1)
				return -1;
			ctx->val[i] = (uint8_t)(round == COST_HEADER ?
			    eval_header(ctx, i, msg) : eval_body(ctx, i, msg));
		}
		combine(ctx);
	}
	return ctx->val[0] == V_TRUE;
}

/* --- results --- */

int
imap_search_seqset(struct buf *out, const uint32_t *v, size_t n)
{
	size_t	i = 0, j;

	while (i < n) {
		for (j = i; j + 1 < n && v[j + 1] == v[j] + 1; j++)
			;
		if (buf_printf(out, "%s%" PRIu32, i > 0 ? "," : "", v[i]) ==
		    -1)
			return -1;
		if (j > i && buf_printf(out, ":%" PRIu32, v[j]) == -1)
			return -1;
		i = j + 1;
	}
	return 0;
}

int
imap_search_esearch(struct buf *out, struct span tag, bool uid,
    unsigned ret, const uint32_t *v, size_t n)
{
	/* RFC 5182 §2.4: SAVE alone answers nothing */
	if ((ret & ~(unsigned)IMAP_SRET_SAVE) == 0)
		return 0;
	if (buf_append_str(out, "* ESEARCH (TAG \"") == -1 ||
	    buf_append_span(out, tag) == -1 ||
	    buf_append_str(out, uid ? "\") UID" : "\")") == -1)
		return -1;
	/* RFC 4731 §3.1: MIN, MAX and ALL are left out when nothing
	 * matched; COUNT is 0 */
	if (n > 0 && (ret & IMAP_SRET_MIN) &&
	    buf_printf(out, " MIN %" PRIu32, v[0]) == -1)
		return -1;
	if (n > 0 && (ret & IMAP_SRET_MAX) &&
	    buf_printf(out, " MAX %" PRIu32, v[n - 1]) == -1)
		return -1;
	if (n > 0 && (ret & IMAP_SRET_ALL) &&
	    (buf_append_str(out, " ALL ") == -1 ||
	    imap_search_seqset(out, v, n) == -1))
		return -1;
	if ((ret & IMAP_SRET_COUNT) &&
	    buf_printf(out, " COUNT %zu", n) == -1)
		return -1;
	return buf_append_str(out, "\r\n");
}

size_t
imap_search_save(unsigned ret, const uint32_t *uids, size_t n,
    uint32_t *saved_out)
{
	size_t	k = 0;

	if (n == 0)
		return 0;
	if ((ret & (IMAP_SRET_MIN | IMAP_SRET_MAX)) &&
	    !(ret & (IMAP_SRET_ALL | IMAP_SRET_COUNT))) {
		if (ret & IMAP_SRET_MIN)
			saved_out[k++] = uids[0];
		if ((ret & IMAP_SRET_MAX) && (k == 0 || uids[n - 1] != uids[0]))
			saved_out[k++] = uids[n - 1];
		return k;
	}
	memcpy(saved_out, uids, n * sizeof(*uids));
	return n;
}
