/*
 * spam: see spam.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "spam.h"
#include "spamrules.h"
#include "spamtok.h"

static int32_t
spam_clamp(int64_t v)
{
	if (v > SPAM_POINTS_MAX)
		return SPAM_POINTS_MAX;
	if (v < -SPAM_POINTS_MAX)
		return -SPAM_POINTS_MAX;
	return (int32_t)v;
}

/* Keep [A-Z0-9_] of src (lower case raised), at most outsz - 1. */
static void
spam_name_copy(char *out, size_t outsz, const char *src)
{
	size_t	o = 0;
	char	c;

	for (; *src != '\0' && o + 1 < outsz; src++) {
		c = *src;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_')
			out[o++] = c;
	}
	out[o] = '\0';
}

/* Printable ASCII of src, other bytes as '?', at most outsz - 1. */
static void
spam_desc_copy(char *out, size_t outsz, const char *src)
{
	size_t		o = 0;
	unsigned char	c;

	for (; *src != '\0' && o + 1 < outsz; src++) {
		c = (unsigned char)*src;
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

void
spam_score_add(struct spam_score *s, const char *name, int32_t score,
    const char *desc)
{
	struct spam_hit	*h;

	score = spam_clamp(score);
	s->total = spam_clamp((int64_t)s->total + score);
	if (s->nhits >= SPAM_HITS_MAX)
		return;
	h = &s->hits[s->nhits++];
	spam_name_copy(h->name, sizeof(h->name), name);
	h->score = score;
	spam_desc_copy(h->desc, sizeof(h->desc), desc != NULL ? desc : "");
}

void
spam_score_merge(struct spam_score *to, const struct spam_score *from)
{
	size_t	i;
	int64_t	rest = from->total;

	for (i = 0; i < from->nhits; i++) {
		spam_score_add(to, from->hits[i].name, from->hits[i].score,
		    from->hits[i].desc);
		rest -= from->hits[i].score;
	}
	/*
	 * Points whose reasons were not kept: only from a score that ran
	 * out of room for them, and not when it saturated (the difference
	 * is then the cut, not a reason left out).
	 */
	if (from->nhits == SPAM_HITS_MAX && from->total < SPAM_POINTS_MAX &&
	    from->total > -SPAM_POINTS_MAX)
		to->total = spam_clamp((int64_t)to->total + rest);
}

void
spam_points_text(int32_t milli, char *out, size_t outsz)
{
	int64_t	v = milli, tenths;

	tenths = v >= 0 ? (v + 50) / 100 : -((-v + 50) / 100);
	(void)snprintf(out, outsz, "%s%lld.%lld", tenths < 0 ? "-" : "",
	    (long long)(tenths < 0 ? -tenths : tenths) / 10,
	    (long long)(tenths < 0 ? -tenths : tenths) % 10);
}

int
spam_score_format(const struct spam_score *s, struct buf *out)
{
	char	pts[32];
	size_t	i;

	for (i = 0; i < s->nhits; i++) {
		spam_points_text(s->hits[i].score, pts, sizeof(pts));
		if (buf_printf(out, "%s%s=%s", i > 0 ? "," : "",
		    s->hits[i].name, pts) == -1)
			return -1;
	}
	return 0;
}

void
spam_score_put(struct msg *m, const struct spam_score *s)
{
	size_t	i;

	msg_put_u32(m, (uint32_t)s->nhits);
	for (i = 0; i < s->nhits; i++) {
		msg_put_str(m, s->hits[i].name);
		msg_put_u32(m, (uint32_t)s->hits[i].score);
		msg_put_str(m, s->hits[i].desc);
	}
}

int
spam_score_get(struct msg *m, struct spam_score *s)
{
	char		name[SPAM_NAME_MAX], desc[SPAM_DESC_MAX];
	uint32_t	n, i, v;

	memset(s, 0, sizeof(*s));
	if (msg_get_u32(m, &n) == -1 || n > SPAM_HITS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (msg_get_str(m, name, sizeof(name)) == -1 ||
		    msg_get_u32(m, &v) == -1 ||
		    msg_get_str(m, desc, sizeof(desc)) == -1)
			return -1;
		spam_score_add(s, name, (int32_t)v, desc);
	}
	return 0;
}

/* --- tokens --------------------------------------------------------- */

void
spam_tokens_init(struct spam_tokens *t)
{
	buf_init(&t->b, (size_t)SPAM_TOKENS_MAX * (SPAM_TOKEN_MAX + 1));
	t->n = 0;
}

void
spam_tokens_reset(struct spam_tokens *t)
{
	buf_reset(&t->b);
	t->n = 0;
}

void
spam_tokens_free(struct spam_tokens *t)
{
	buf_free(&t->b);
	t->n = 0;
}

int
spam_tokens_add(struct spam_tokens *t, const char *p, size_t len)
{
	if (t->n >= SPAM_TOKENS_MAX || len == 0 || len > SPAM_TOKEN_MAX ||
	    memchr(p, '\0', len) != NULL)
		return -1;
	if (buf_append(&t->b, p, len) == -1 ||
	    buf_append_char(&t->b, '\0') == -1)
		return -1;
	t->n++;
	return 0;
}

const char *
spam_tokens_next(const struct spam_tokens *t, size_t *off)
{
	const char	*p;

	if (*off >= t->b.len)
		return NULL;
	p = t->b.data + *off;
	*off += strlen(p) + 1;
	return p;
}

/* --- the message ---------------------------------------------------- */

void
spam_msg_parse(struct spam_msg *sm, const char *data, size_t len)
{
	memset(sm, 0, sizeof(*sm));
	if (len > SPAM_SCAN_MAX)
		len = SPAM_SCAN_MAX;
	sm->data = data;
	sm->len = len;
	buf_init(&sm->text, 4 * SPAM_SCAN_MAX);
	buf_init(&sm->links, SPAM_SCAN_MAX);
	mime_parse(&sm->mime, data, len);
	/* Past the bounds the text is cut: what fit is still checked. */
	(void)mime_text(&sm->mime, &sm->text, &sm->links);
}

void
spam_msg_free(struct spam_msg *sm)
{
	mime_msg_free(&sm->mime);
	buf_free(&sm->text);
	buf_free(&sm->links);
}

/* --- features ------------------------------------------------------- */

void
spam_features_init(struct spam_features *f)
{
	memset(&f->rules, 0, sizeof(f->rules));
	spam_tokens_init(&f->tokens);
}

void
spam_features_reset(struct spam_features *f)
{
	memset(&f->rules, 0, sizeof(f->rules));
	spam_tokens_reset(&f->tokens);
}

void
spam_features_free(struct spam_features *f)
{
	spam_tokens_free(&f->tokens);
}

void
spam_features_extract(struct spam_features *f,
    const struct spam_rules *rules, const char *data, size_t len)
{
	struct spam_msg	sm;

	spam_features_reset(f);
	spam_msg_parse(&sm, data, len);
	if (rules != NULL)
		spam_rules_check(rules, &sm, &f->rules);
	spam_tokenize(&sm, &f->tokens);
	spam_msg_free(&sm);
}

void
spam_features_put(struct msg *m, const struct spam_features *f)
{
	spam_score_put(m, &f->rules);
	msg_put_data(m, f->tokens.b.data, f->tokens.b.len);
}

int
spam_tokens_get(struct msg *m, struct spam_tokens *t)
{
	struct span	sp;
	size_t		i, start = 0;

	spam_tokens_reset(t);
	if (msg_get_span(m, &sp) == -1 ||
	    sp.len > (size_t)SPAM_TOKENS_MAX * (SPAM_TOKEN_MAX + 1))
		return -1;
	if (sp.len > 0 && sp.ptr[sp.len - 1] != '\0')
		return -1;
	for (i = 0; i < sp.len; i++) {
		if (sp.ptr[i] != '\0')
			continue;
		if (spam_tokens_add(t, sp.ptr + start, i - start) == -1) {
			spam_tokens_reset(t);
			return -1;
		}
		start = i + 1;
	}
	return 0;
}

int
spam_features_get(struct msg *m, struct spam_features *f)
{
	spam_tokens_reset(&f->tokens);
	if (spam_score_get(m, &f->rules) == -1)
		return -1;
	return spam_tokens_get(m, &f->tokens);
}

const char *
spam_verdict_name(enum spam_verdict v)
{
	switch (v) {
	case SPAM_INBOX:
		return "inbox";
	case SPAM_JUNK:
		return "junk";
	case SPAM_REJECT:
		return "reject";
	}
	return "?";
}
