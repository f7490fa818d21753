/*
 * spamrules: the rule language (spamrules.h).  Parsed once, where
 * message content is parsed (the smtp role before it drops privileges,
 * cachetctl); every regular expression is compiled and JIT-compiled at
 * load, so that a message costs one match per rule over views of it that
 * are built once: the decoded header fields, the text, the raw text
 * bodies, the URLs and the normalised words.  Trusts nothing of the
 * file but its bounds, and nothing of the message.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_hdr.h"
#include "spamnorm.h"
#include "spamrules.h"
#include "log.h"
#include "util.h"

#define SPAM_GTUBE \
    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

#define SR_FIELD_MAX	78	/* a header field name (RFC 5322 §2.1.1) */
#define SR_META_MAX	64	/* operands and operators of one meta */
#define SR_META_DEPTH	16	/* parentheses */
#define SR_FIELDS_MAX	300	/* header fields of a message looked at */
#define SR_URIS_MAX	300	/* URLs of a message looked at */
#define SR_URI_MAX	2048	/* bytes of one URL looked at */
#define SR_ANCHOR_MAX	4096	/* bytes of one <a ...>text</a> */
#define SR_ANCHORS_MAX	500	/* links of a message looked at */
/* PCRE2 bounds per match: backtracking cannot take a message hostage. */
#define SR_MATCH_LIMIT	200000
#define SR_DEPTH_LIMIT	2000
#define SR_HEAP_LIMIT	8192	/* KiB */

/* The built-in rules the file reads from etc/spam.rules (Makefile). */
static const char spam_rules_default[] =
#include "spam_rules.inc"
    ;

enum sr_kind {
	SR_HEADER,
	SR_EXISTS,
	SR_BODY,
	SR_RAWBODY,
	SR_URI,
	SR_KEYWORD,
	SR_CHECK,
	SR_META,
};

enum sr_fview {
	SR_VIEW_DECODED,	/* unfolded, RFC 2047 words decoded */
	SR_VIEW_RAW,		/* unfolded only */
	SR_VIEW_ADDR,		/* the addresses, local@domain a line */
	SR_VIEW_NAME,		/* the display names, decoded, a line each */
};

enum sr_check {
	SR_CHECK_HTML_ONLY,
	SR_CHECK_HTML_IMAGE,
	SR_CHECK_LINK_MISMATCH,
	SR_CHECK_FROM_NAME_ADDR,
	SR_CHECK_DATE_FUTURE,
	SR_CHECK_DATE_PAST,
	SR_CHECK_DATE_INVALID,
	SR_CHECK_RECIPIENTS,
	SR_CHECK_CAPS,
	SR_CHECK_MIME_BROKEN,
	SR_CHECK_HEADER_8BIT,
	SR_CHECK_TEXT_BASE64,
};

static const struct {
	const char	*name;
	enum sr_check	 fn;
	bool		 arg;		/* takes a number */
	bool		 raw;		/* reads the raw bodies */
} sr_checks[] = {
	{ "html_only", SR_CHECK_HTML_ONLY, false, false },
	{ "html_image", SR_CHECK_HTML_IMAGE, true, true },
	{ "link_mismatch", SR_CHECK_LINK_MISMATCH, false, true },
	{ "from_name_addr", SR_CHECK_FROM_NAME_ADDR, false, false },
	{ "date_future", SR_CHECK_DATE_FUTURE, true, false },
	{ "date_past", SR_CHECK_DATE_PAST, true, false },
	{ "date_invalid", SR_CHECK_DATE_INVALID, false, false },
	{ "recipients", SR_CHECK_RECIPIENTS, true, false },
	{ "caps", SR_CHECK_CAPS, true, false },
	{ "mime_broken", SR_CHECK_MIME_BROKEN, false, false },
	{ "header_8bit", SR_CHECK_HEADER_8BIT, false, false },
	{ "text_base64", SR_CHECK_TEXT_BASE64, false, false },
};
#define SR_NCHECKS	(sizeof(sr_checks) / sizeof(sr_checks[0]))

#define SR_OP_NOT	0xfffd
#define SR_OP_AND	0xfffe
#define SR_OP_OR	0xffff

struct sr_rule {
	char		 name[SPAM_NAME_MAX];
	char		 desc[SPAM_DESC_MAX];
	int32_t		 score;
	enum sr_kind	 kind;
	bool		 negate;	/* !~ and !exists */
	bool		 helper;	/* "__NAME": scores nothing */
	char		 field[SR_FIELD_MAX + 1];	/* "ALL" for all */
	enum sr_fview	 view;
	pcre2_code	*re;
	enum sr_check	 fn;
	long		 arg;
	uint16_t	 meta[SR_META_MAX];
	size_t		 nmeta;
};

struct spam_rules {
	struct sr_rule		*v;
	size_t			 n;
	bool			 need_raw, need_norm, need_uris;
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
};

/* --- parsing -------------------------------------------------------- */

struct sr_parser {
	struct spam_rules	*r;
	const char		*name;
	size_t			 line;
	char			*err;
	size_t			 errsz;
};

static int
sr_err(struct sr_parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sr_err(struct sr_parser *ps, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(ps->err, ps->errsz, "%s:%zu: ", ps->name, ps->line);
	if (n >= 0 && (size_t)n < ps->errsz) {
		va_start(ap, fmt);
		(void)vsnprintf(ps->err + n, ps->errsz - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool
sr_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Take the next word off *s (words end at whitespace). */
static bool
sr_word(struct span *s, struct span *w)
{
	while (s->len > 0 && sr_space(*s->ptr)) {
		s->ptr++;
		s->len--;
	}
	w->ptr = s->ptr;
	while (s->len > 0 && !sr_space(*s->ptr)) {
		s->ptr++;
		s->len--;
	}
	w->len = (size_t)(s->ptr - w->ptr);
	return w->len > 0;
}

/* "1", "-0.5", "2.25": points to milli-points within the bound. */
static int
sr_score(struct span w, int32_t *out)
{
	int64_t	v = 0, frac = 0, scale = SPAM_MILLI;
	size_t	i = 0;
	bool	neg = false, dot = false, digits = false;

	if (w.len > 0 && (w.ptr[0] == '-' || w.ptr[0] == '+')) {
		neg = w.ptr[0] == '-';
		i = 1;
	}
	for (; i < w.len; i++) {
		if (w.ptr[i] == '.' && !dot) {
			dot = true;
			continue;
		}
		if (w.ptr[i] < '0' || w.ptr[i] > '9')
			return -1;
		digits = true;
		if (!dot) {
			v = v * 10 + (w.ptr[i] - '0');
			if (v > SPAM_RULES_SCORE_MAX / SPAM_MILLI)
				return -1;
		} else {
			if (scale == 1)
				return -1;	/* more than three decimals */
			scale /= 10;
			frac += (w.ptr[i] - '0') * scale;
		}
	}
	if (!digits)
		return -1;
	v = v * SPAM_MILLI + frac;
	if (v > SPAM_RULES_SCORE_MAX)
		return -1;
	*out = (int32_t)(neg ? -v : v);
	return 0;
}

static const struct sr_rule *
sr_find(const struct spam_rules *r, struct span name, size_t *idx_out)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (strlen(r->v[i].name) == name.len &&
		    memcmp(r->v[i].name, name.ptr, name.len) == 0) {
			if (idx_out != NULL)
				*idx_out = i;
			return &r->v[i];
		}
	return NULL;
}

/* Compile "/re/flags" (the pattern runs to the last '/'). */
static int
sr_regex(struct sr_parser *ps, struct span t, bool utf, pcre2_code **out)
{
	const char	*last;
	uint32_t	 opts = 0;
	size_t		 i, plen, erroff;
	int		 ecode;
	PCRE2_UCHAR	 msg[160];

	t = span_trim(t);
	if (t.len < 2 || t.ptr[0] != '/' ||
	    (last = memrchr(t.ptr + 1, '/', t.len - 1)) == NULL)
		return sr_err(ps, "expected /pattern/flags");
	plen = (size_t)(last - t.ptr - 1);
	if (plen == 0)
		return sr_err(ps, "empty pattern");
	if (plen > SPAM_RULES_PATTERN_MAX)
		return sr_err(ps, "pattern longer than %d bytes",
		    SPAM_RULES_PATTERN_MAX);
	for (i = (size_t)(last - t.ptr) + 1; i < t.len; i++) {
		switch (t.ptr[i]) {
		case 'i': opts |= PCRE2_CASELESS; break;
		case 'm': opts |= PCRE2_MULTILINE; break;
		case 's': opts |= PCRE2_DOTALL; break;
		case 'x': opts |= PCRE2_EXTENDED; break;
		default:
			return sr_err(ps, "unknown pattern flag '%c'",
			    (t.ptr[i] >= 0x20 && t.ptr[i] < 0x7f) ?
			    t.ptr[i] : '?');
		}
	}
	/* Message text may be broken UTF-8: it matches, never errs. */
	if (utf)
		opts |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	opts |= PCRE2_NEVER_BACKSLASH_C;
	*out = pcre2_compile((PCRE2_SPTR)t.ptr + 1, plen, opts, &ecode,
	    &erroff, NULL);
	if (*out == NULL) {
		(void)pcre2_get_error_message(ecode, msg, sizeof(msg));
		return sr_err(ps, "pattern: %s at offset %zu", (char *)msg,
		    erroff);
	}
	/* Without JIT (no support on this CPU) the interpreter serves. */
	(void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
	return 0;
}

static int
sr_field(struct sr_parser *ps, struct sr_rule *rl, struct span f)
{
	const char	*colon;
	struct span	 mod;
	size_t		 i;

	rl->view = SR_VIEW_DECODED;
	if ((colon = memchr(f.ptr, ':', f.len)) != NULL) {
		mod = span_make(colon + 1, f.len - (size_t)(colon - f.ptr) - 1);
		f.len = (size_t)(colon - f.ptr);
		if (span_eq(mod, "raw"))
			rl->view = SR_VIEW_RAW;
		else if (span_eq(mod, "addr"))
			rl->view = SR_VIEW_ADDR;
		else if (span_eq(mod, "name"))
			rl->view = SR_VIEW_NAME;
		else
			return sr_err(ps, "unknown field view (raw, addr, "
			    "name)");
	}
	if (f.len == 0 || f.len > SR_FIELD_MAX)
		return sr_err(ps, "bad header field name");
	/* RFC 5322 §3.6.8: printable US-ASCII but ':' */
	for (i = 0; i < f.len; i++)
		if (f.ptr[i] <= 0x20 || f.ptr[i] >= 0x7f)
			return sr_err(ps, "bad header field name");
	memcpy(rl->field, f.ptr, f.len);
	rl->field[f.len] = '\0';
	return 0;
}

static int
sr_header(struct sr_parser *ps, struct sr_rule *rl, struct span t)
{
	struct span	w1, w2;

	if (!sr_word(&t, &w1) || !sr_word(&t, &w2))
		return sr_err(ps, "header: expected FIELD =~ /re/, "
		    "exists FIELD or !exists FIELD");
	if (span_eq(w1, "exists") || span_eq(w1, "!exists")) {
		rl->kind = SR_EXISTS;
		rl->negate = w1.ptr[0] == '!';
		if (span_trim(t).len != 0)
			return sr_err(ps, "header: junk after the field");
		if (sr_field(ps, rl, w2) == -1)
			return -1;
		if (rl->view != SR_VIEW_DECODED)
			return sr_err(ps, "header: exists takes no view");
		return 0;
	}
	if (!span_eq(w2, "=~") && !span_eq(w2, "!~"))
		return sr_err(ps, "header: expected =~ or !~ after the field");
	rl->negate = w2.ptr[0] == '!';
	if (sr_field(ps, rl, w1) == -1)
		return -1;
	if (strcasecmp(rl->field, "ALL") == 0 && rl->view != SR_VIEW_DECODED)
		return sr_err(ps, "header: ALL takes no view");
	return sr_regex(ps, t, true, &rl->re);
}

/* Keywords to one expression over spamnorm's words. */
static int
sr_keyword(struct sr_parser *ps, struct sr_rule *rl, struct span t)
{
	struct buf	re;
	struct span	w;
	size_t		i, n = 0;
	int		rc;
	char		c;

	buf_init(&re, SPAM_RULES_PATTERN_MAX + 64);
	/*
	 * A word starts after a space: the view puts one before every
	 * word (spamnorm.h) and holds nothing but words and spaces.  A
	 * literal space lets PCRE2 look for it alone, where a look-behind
	 * made it try every letter a keyword could start with.
	 */
	(void)buf_append_str(&re, "/ (?:");
	while (sr_word(&t, &w)) {
		if (n++ > 0)
			(void)buf_append_char(&re, '|');
		for (i = 0; i < w.len; i++) {
			c = w.ptr[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
				rc = buf_append_char(&re, c);
			else if (c == '_' && i > 0 && i + 1 < w.len)
				rc = buf_append_char(&re, ' ');
			else if (c == '*' && i > 0 && i + 1 == w.len)
				rc = buf_append_str(&re, "[a-z0-9~]*");
			else {
				buf_free(&re);
				return sr_err(ps, "keyword: '%.*s': only "
				    "letters, digits, a_b and a trailing *",
				    (int)(w.len > 40 ? 40 : w.len), w.ptr);
			}
			if (rc == -1) {
				buf_free(&re);
				return sr_err(ps, "keyword: longer than %d "
				    "bytes in all", SPAM_RULES_PATTERN_MAX);
			}
		}
	}
	if (n == 0) {
		buf_free(&re);
		return sr_err(ps, "keyword: no words");
	}
	if (buf_append_str(&re, ")(?![a-z0-9~])/") == -1) {
		buf_free(&re);
		return sr_err(ps, "keyword: longer than %d bytes in all",
		    SPAM_RULES_PATTERN_MAX);
	}
	rc = sr_regex(ps, span_make(re.data, re.len), false, &rl->re);
	buf_free(&re);
	return rc;
}

static int
sr_check(struct sr_parser *ps, struct sr_rule *rl, struct span t)
{
	struct span	w, a;
	uint64_t	v;
	bool		over;
	size_t		i;

	if (!sr_word(&t, &w))
		return sr_err(ps, "check: expected a function");
	for (i = 0; i < SR_NCHECKS; i++)
		if (span_eq(w, sr_checks[i].name))
			break;
	if (i == SR_NCHECKS)
		return sr_err(ps, "check: unknown function '%.*s'",
		    (int)(w.len > 40 ? 40 : w.len), w.ptr);
	rl->fn = sr_checks[i].fn;
	if (sr_checks[i].raw)
		ps->r->need_raw = true;
	if (sr_checks[i].arg) {
		if (!sr_word(&t, &a) || span_to_u64(a, &v, &over) == -1 ||
		    over || v > 1000000)
			return sr_err(ps, "check: %s takes a number "
			    "(0..1000000)", sr_checks[i].name);
		rl->arg = (long)v;
	}
	if (span_trim(t).len != 0)
		return sr_err(ps, "check: junk after the function");
	return 0;
}

/* --- meta: recursive descent into RPN ------------------------------- */

struct sr_meta {
	struct sr_parser	*ps;
	struct sr_rule		*rl;
	struct span		 s;
	int			 depth;
};

static void
sr_meta_skip(struct sr_meta *m)
{
	while (m->s.len > 0 && sr_space(*m->s.ptr)) {
		m->s.ptr++;
		m->s.len--;
	}
}

static int
sr_meta_emit(struct sr_meta *m, uint16_t op)
{
	if (m->rl->nmeta >= SR_META_MAX)
		return sr_err(m->ps, "meta: more than %d terms", SR_META_MAX);
	m->rl->meta[m->rl->nmeta++] = op;
	return 0;
}

static int	sr_meta_or(struct sr_meta *);

/* NOLINTBEGIN(misc-no-recursion): SR_META_DEPTH deep at most */
static int
sr_meta_factor(struct sr_meta *m)
{
	struct span	name;
	size_t		idx;

	sr_meta_skip(m);
	if (m->s.len > 0 && m->s.ptr[0] == '!') {
		if (++m->depth > SR_META_DEPTH)
			return sr_err(m->ps, "meta: nested too deep");
		m->s.ptr++;
		m->s.len--;
		if (sr_meta_factor(m) == -1)
			return -1;
		m->depth--;
		return sr_meta_emit(m, SR_OP_NOT);
	}
	if (m->s.len > 0 && m->s.ptr[0] == '(') {
		if (++m->depth > SR_META_DEPTH)
			return sr_err(m->ps, "meta: nested too deep");
		m->s.ptr++;
		m->s.len--;
		if (sr_meta_or(m) == -1)
			return -1;
		sr_meta_skip(m);
		if (m->s.len == 0 || m->s.ptr[0] != ')')
			return sr_err(m->ps, "meta: expected ')'");
		m->s.ptr++;
		m->s.len--;
		m->depth--;
		return 0;
	}
	name.ptr = m->s.ptr;
	while (m->s.len > 0 && ((*m->s.ptr >= 'A' && *m->s.ptr <= 'Z') ||
	    (*m->s.ptr >= '0' && *m->s.ptr <= '9') || *m->s.ptr == '_')) {
		m->s.ptr++;
		m->s.len--;
	}
	name.len = (size_t)(m->s.ptr - name.ptr);
	if (name.len == 0)
		return sr_err(m->ps, "meta: expected a rule name");
	if (sr_find(m->ps->r, name, &idx) == NULL)
		return sr_err(m->ps, "meta: '%.*s' is not a rule defined "
		    "above", (int)(name.len > 40 ? 40 : name.len), name.ptr);
	return sr_meta_emit(m, (uint16_t)idx);
}

static int
sr_meta_and(struct sr_meta *m)
{
	if (sr_meta_factor(m) == -1)
		return -1;
	for (;;) {
		sr_meta_skip(m);
		if (m->s.len < 2 || m->s.ptr[0] != '&' || m->s.ptr[1] != '&')
			return 0;
		m->s.ptr += 2;
		m->s.len -= 2;
		if (sr_meta_factor(m) == -1 || sr_meta_emit(m, SR_OP_AND) == -1)
			return -1;
	}
}

static int
sr_meta_or(struct sr_meta *m)
{
	if (sr_meta_and(m) == -1)
		return -1;
	for (;;) {
		sr_meta_skip(m);
		if (m->s.len < 2 || m->s.ptr[0] != '|' || m->s.ptr[1] != '|')
			return 0;
		m->s.ptr += 2;
		m->s.len -= 2;
		if (sr_meta_and(m) == -1 || sr_meta_emit(m, SR_OP_OR) == -1)
			return -1;
	}
}

/* NOLINTEND(misc-no-recursion) */

static int
sr_meta(struct sr_parser *ps, struct sr_rule *rl, struct span t)
{
	struct sr_meta	m = { ps, rl, t, 0 };

	if (sr_meta_or(&m) == -1)
		return -1;
	sr_meta_skip(&m);
	if (m.s.len != 0)
		return sr_err(ps, "meta: unexpected '%c'",
		    (m.s.ptr[0] >= 0x20 && m.s.ptr[0] < 0x7f) ?
		    m.s.ptr[0] : '?');
	return 0;
}

/* One line: TYPE NAME SCORE TEST "description". */
static int
sr_line(struct sr_parser *ps, struct span s)
{
	struct spam_rules	*r = ps->r;
	struct sr_rule		*rl;
	struct span		 type, name, score, test;
	const char		*q;
	size_t			 i;

	s = span_trim(s);
	if (s.len == 0 || s.ptr[0] == '#')
		return 0;
	if (!sr_word(&s, &type) || !sr_word(&s, &name) ||
	    !sr_word(&s, &score))
		return sr_err(ps, "expected TYPE NAME SCORE TEST "
		    "\"description\"");
	s = span_trim(s);
	if (s.len < 2 || s.ptr[s.len - 1] != '"' ||
	    (q = memrchr(s.ptr, '"', s.len - 1)) == NULL)
		return sr_err(ps, "expected a \"description\" at the end");
	if (r->n >= SPAM_RULES_MAX)
		return sr_err(ps, "more than %d rules", SPAM_RULES_MAX);
	rl = &r->v[r->n];
	memset(rl, 0, sizeof(*rl));

	if (name.len >= SPAM_NAME_MAX)
		return sr_err(ps, "rule name longer than %d characters",
		    SPAM_NAME_MAX - 1);
	for (i = 0; i < name.len; i++)
		if (!((name.ptr[i] >= 'A' && name.ptr[i] <= 'Z') ||
		    (name.ptr[i] >= '0' && name.ptr[i] <= '9') ||
		    name.ptr[i] == '_'))
			return sr_err(ps, "rule name: only A-Z, 0-9 and _");
	if (span_eq(name, "GTUBE"))
		return sr_err(ps, "GTUBE is built in");
	if (sr_find(r, name, NULL) != NULL)
		return sr_err(ps, "rule %.*s defined twice", (int)name.len,
		    name.ptr);
	memcpy(rl->name, name.ptr, name.len);
	rl->helper = name.len > 2 && name.ptr[0] == '_' && name.ptr[1] == '_';
	if (sr_score(score, &rl->score) == -1)
		return sr_err(ps, "score: a number of points within +-%d, "
		    "at most three decimals", SPAM_RULES_SCORE_MAX / SPAM_MILLI);

	test = span_make(s.ptr, (size_t)(q - s.ptr));
	i = (size_t)(s.ptr + s.len - 1 - (q + 1));
	if (i >= SPAM_DESC_MAX)
		return sr_err(ps, "description longer than %d bytes",
		    SPAM_DESC_MAX - 1);
	memcpy(rl->desc, q + 1, i);
	for (i = 0; rl->desc[i] != '\0'; i++)
		if ((unsigned char)rl->desc[i] < 0x20 ||
		    (unsigned char)rl->desc[i] >= 0x7f)
			return sr_err(ps, "description: printable ASCII only");
	if (span_trim(test).len == 0)
		return sr_err(ps, "no test");

	if (span_eq(type, "header")) {
		rl->kind = SR_HEADER;
		if (sr_header(ps, rl, test) == -1)
			return -1;
	} else if (span_eq(type, "body") || span_eq(type, "rawbody") ||
	    span_eq(type, "uri")) {
		rl->kind = type.ptr[0] == 'b' ? SR_BODY :
		    type.ptr[0] == 'r' ? SR_RAWBODY : SR_URI;
		if (rl->kind == SR_RAWBODY)
			r->need_raw = true;
		if (rl->kind == SR_URI)
			r->need_uris = true;
		if (sr_regex(ps, test, true, &rl->re) == -1)
			return -1;
	} else if (span_eq(type, "keyword")) {
		rl->kind = SR_KEYWORD;
		r->need_norm = true;
		if (sr_keyword(ps, rl, test) == -1)
			return -1;
	} else if (span_eq(type, "check")) {
		rl->kind = SR_CHECK;
		if (sr_check(ps, rl, test) == -1)
			return -1;
	} else if (span_eq(type, "meta")) {
		rl->kind = SR_META;
		if (sr_meta(ps, rl, test) == -1)
			return -1;
	} else
		return sr_err(ps, "unknown rule type '%.*s' (header, body, "
		    "rawbody, uri, keyword, check, meta)",
		    (int)(type.len > 20 ? 20 : type.len), type.ptr);
	r->n++;
	return 0;
}

void
spam_rules_free(struct spam_rules *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		pcre2_code_free(r->v[i].re);
	pcre2_match_data_free(r->md);
	pcre2_match_context_free(r->mctx);
	free(r->v);
	free(r);
}

struct spam_rules *
spam_rules_parse(const char *text, size_t len, const char *name, char *err,
    size_t errsz)
{
	struct sr_parser	 ps;
	struct spam_rules	*r;
	const char		*nl;
	size_t			 off = 0, llen;

	r = xcalloc(1, sizeof(*r));
	r->v = xcalloc(SPAM_RULES_MAX, sizeof(*r->v));
	ps.r = r;
	ps.name = name;
	ps.line = 0;
	ps.err = err;
	ps.errsz = errsz;
	if (len > SPAM_RULES_FILE_MAX) {
		(void)sr_err(&ps, "larger than %d bytes", SPAM_RULES_FILE_MAX);
		goto fail;
	}
	while (off < len) {
		ps.line++;
		nl = memchr(text + off, '\n', len - off);
		llen = nl != NULL ? (size_t)(nl - (text + off)) : len - off;
		if (llen > SPAM_RULES_LINE_MAX) {
			(void)sr_err(&ps, "line longer than %d bytes",
			    SPAM_RULES_LINE_MAX);
			goto fail;
		}
		if (memchr(text + off, '\0', llen) != NULL) {
			(void)sr_err(&ps, "NUL byte");
			goto fail;
		}
		if (sr_line(&ps, span_make(text + off, llen)) == -1) {
			/* the rule being parsed may hold a pattern */
			if (r->n < SPAM_RULES_MAX)
				pcre2_code_free(r->v[r->n].re);
			goto fail;
		}
		off += llen + 1;
	}
	r->md = pcre2_match_data_create(1, NULL);
	r->mctx = pcre2_match_context_create(NULL);
	if (r->md == NULL || r->mctx == NULL)
		fatalx("spamrules: out of memory");
	(void)pcre2_set_match_limit(r->mctx, SR_MATCH_LIMIT);
	(void)pcre2_set_depth_limit(r->mctx, SR_DEPTH_LIMIT);
	(void)pcre2_set_heap_limit(r->mctx, SR_HEAP_LIMIT);
	return r;
fail:
	spam_rules_free(r);
	return NULL;
}

struct spam_rules *
spam_rules_load(const char *path, char *err, size_t errsz)
{
	struct spam_rules	*r;
	struct buf		 b;
	char			 chunk[8192];
	FILE			*f;
	size_t			 n;

	if (path == NULL || path[0] == '\0')
		return spam_rules_parse(spam_rules_default,
		    sizeof(spam_rules_default) - 1, "(default)", err, errsz);
	if ((f = fopen(path, "r")) == NULL) {
		(void)snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, SPAM_RULES_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) == -1) {
			(void)snprintf(err, errsz, "%s: larger than %d bytes",
			    path, SPAM_RULES_FILE_MAX);
			(void)fclose(f);
			buf_free(&b);
			return NULL;
		}
	if (ferror(f)) {
		(void)snprintf(err, errsz, "%s: %s", path, strerror(errno));
		(void)fclose(f);
		buf_free(&b);
		return NULL;
	}
	(void)fclose(f);
	r = spam_rules_parse(b.data != NULL ? b.data : "", b.len, path, err,
	    errsz);
	buf_free(&b);
	return r;
}

size_t
spam_rules_count(const struct spam_rules *r)
{
	return r->n + 1;	/* GTUBE */
}

/* --- the message's views -------------------------------------------- */

struct sr_field_ix {
	struct span	name;
	size_t		off, len;	/* the decoded value in hdrs */
	uint32_t	fi;		/* index into mime.fields */
};

struct sr_view {
	const struct spam_rules	*r;
	const struct spam_msg	*sm;
	struct buf		 hdrs;	/* "Name: value\n", decoded */
	struct sr_field_ix	 fx[SR_FIELDS_MAX];
	size_t			 nfx;
	struct span		 subject;
	struct span		 body;	/* the text, SPAM_RULES_PART_TEXT_MAX
					   of each part */
	struct buf		 bodycut;	/* body when a part was cut */
	struct buf		 raw;	/* text bodies, transfer-decoded */
	struct buf		 norm;	/* spamnorm.h words */
	struct buf		 uris;	/* one URL a line */
	struct buf		 tmp;
};

static bool
sr_match(const struct spam_rules *r, const pcre2_code *re, const char *p,
    size_t len)
{
	return pcre2_match(re, (PCRE2_SPTR)(p != NULL ? p : ""), len, 0, 0,
	    r->md, r->mctx) >= 0;
}

static void
sr_view_headers(struct sr_view *v)
{
	const struct mime_msg	*m = &v->sm->mime;
	const struct mime_part	*p0 = &m->parts[0];
	struct sr_field_ix	*x;
	struct span		 name;
	uint32_t		 i;

	buf_init(&v->hdrs, 2 * SPAM_SCAN_MAX);
	buf_init(&v->tmp, SPAM_SCAN_MAX);
	for (i = 0; i < p0->nfields && v->nfx < SR_FIELDS_MAX; i++) {
		x = &v->fx[v->nfx];
		name = mime_field_name(m, &m->fields[p0->field_first + i]);
		if (buf_append_span(&v->hdrs, name) == -1 ||
		    buf_append_str(&v->hdrs, ": ") == -1)
			break;
		x->name = name;
		x->fi = p0->field_first + i;
		x->off = v->hdrs.len;
		buf_reset(&v->tmp);
		(void)mime_unfold(mime_field_value(m, &m->fields[x->fi]),
		    &v->tmp);
		if (mime_decode_words(span_make(v->tmp.data, v->tmp.len),
		    &v->hdrs) == -1)
			break;
		x->len = v->hdrs.len - x->off;
		if (buf_append_char(&v->hdrs, '\n') == -1)
			break;
		v->nfx++;
	}
	for (i = 0; i < v->nfx; i++)
		if (span_caseeq(v->fx[i].name, "Subject")) {
			v->subject = span_make(v->hdrs.data + v->fx[i].off,
			    v->fx[i].len);
			break;
		}
}

/*
 * The text the body rules read: at most SPAM_RULES_PART_TEXT_MAX bytes of
 * each part's.  A text no longer than that holds no part that is, and is
 * read as it is.
 */
static void
sr_view_body(struct sr_view *v)
{
	const struct buf	*t = &v->sm->text;

	if (t->len <= SPAM_RULES_PART_TEXT_MAX) {
		v->body = span_make(t->data, t->len);
		return;
	}
	buf_init(&v->bodycut, t->max);
	/* past the ceiling the text is cut: what fit is still read */
	(void)mime_text_max(&v->sm->mime, &v->bodycut, NULL,
	    SPAM_RULES_PART_TEXT_MAX);
	v->body = span_make(v->bodycut.data, v->bodycut.len);
}

static bool
sr_is_text(const struct mime_part *p, const char *sub)
{
	return p->kind == MIME_KIND_LEAF && span_caseeq(p->type, "text") &&
	    (sub == NULL || span_caseeq(p->subtype, sub));
}

static void
sr_view_raw(struct sr_view *v)
{
	const struct mime_msg	*m = &v->sm->mime;
	uint32_t		 i;

	buf_init(&v->raw, 2 * SPAM_SCAN_MAX);
	for (i = 0; i < m->nparts; i++) {
		if (!sr_is_text(&m->parts[i], NULL))
			continue;
		if (mime_decode_body(m->parts[i].cte, mime_part_body(m, i),
		    &v->raw) == -1 || buf_append_char(&v->raw, '\n') == -1)
			break;
	}
}

static bool
sr_url_char(char c)
{
	return (unsigned char)c > 0x20 && c != '<' && c != '>' && c != '"' &&
	    c != '\'' && c != 0x7f && c != '(' && c != ')';
}

static void
sr_add_uri(struct sr_view *v, const char *p, size_t len, size_t *n)
{
	if (*n >= SR_URIS_MAX || len == 0)
		return;
	if (len > SR_URI_MAX)
		len = SR_URI_MAX;
	if (buf_append(&v->uris, p, len) == 0 &&
	    buf_append_char(&v->uris, '\n') == 0)
		(*n)++;
}

/* The HTML's links, then the URLs written in the text. */
static void
sr_view_uris(struct sr_view *v)
{
	const struct buf	*l = &v->sm->links;
	struct span		 t = v->body, rest;
	size_t			 i, e, n = 0, start;

	buf_init(&v->uris, (SR_URI_MAX + 1) * SR_URIS_MAX);
	for (start = 0, i = 0; i < l->len; i++)
		if (i + 1 == l->len || l->data[i] == '\n') {
			if (l->data[i] != '\n')
				i++;
			sr_add_uri(v, l->data + start, i - start, &n);
			start = i + 1;
		}
	for (i = 0; i < t.len && n < SR_URIS_MAX; i++) {
		/* every prefix below starts with h or w (cheap to rule out) */
		if ((t.ptr[i] | 0x20) != 'h' && (t.ptr[i] | 0x20) != 'w')
			continue;
		if (i > 0 && sr_url_char(t.ptr[i - 1]) &&
		    t.ptr[i - 1] != ':')
			continue;
		rest = span_make(t.ptr + i, t.len - i);
		if (!span_startswith_case(rest, "http://") &&
		    !span_startswith_case(rest, "https://") &&
		    !span_startswith_case(rest, "www."))
			continue;
		for (e = i; e < t.len && sr_url_char(t.ptr[e]); e++)
			;
		/* a sentence's full stop or comma is not the URL's */
		while (e > i && (t.ptr[e - 1] == '.' ||
		    t.ptr[e - 1] == ',' || t.ptr[e - 1] == ';'))
			e--;
		sr_add_uri(v, t.ptr + i, e - i, &n);
		i = e;
	}
}

static void
sr_view_norm(struct sr_view *v)
{
	buf_init(&v->norm, 2 * SPAM_NORM_IN_MAX + 16);
	(void)spam_norm(v->subject.ptr, v->subject.len, &v->norm);
	(void)buf_append_str(&v->norm, " ");
	(void)spam_norm(v->body.ptr, v->body.len, &v->norm);
	(void)buf_append_char(&v->norm, ' ');
}

static void
sr_view_free(struct sr_view *v)
{
	buf_free(&v->hdrs);
	buf_free(&v->tmp);
	buf_free(&v->bodycut);
	buf_free(&v->raw);
	buf_free(&v->norm);
	buf_free(&v->uris);
}

/* --- header tests --------------------------------------------------- */

/* A value in the view a rule asks for, into v->tmp. */
static struct span
sr_field_view(struct sr_view *v, const struct sr_field_ix *x,
    enum sr_fview view)
{
	const struct mime_msg	*m = &v->sm->mime;
	struct mime_addrlist	 al;
	size_t			 i;

	if (view == SR_VIEW_DECODED)
		return span_make(v->hdrs.data + x->off, x->len);
	buf_reset(&v->tmp);
	if (view == SR_VIEW_RAW) {
		(void)mime_unfold(mime_field_value(m, &m->fields[x->fi]),
		    &v->tmp);
		return span_make(v->tmp.data, v->tmp.len);
	}
	memset(&al, 0, sizeof(al));
	if (mime_hdr_addrs(mime_field_value(m, &m->fields[x->fi]), &al) == 0)
		for (i = 0; i < al.n; i++) {
			if (al.v[i].kind != MIME_ADDR_MAILBOX)
				continue;
			if (view == SR_VIEW_ADDR) {
				(void)buf_append_span(&v->tmp, al.v[i].local);
				(void)buf_append_char(&v->tmp, '@');
				(void)buf_append_span(&v->tmp, al.v[i].domain);
			} else
				(void)mime_decode_words(al.v[i].name, &v->tmp);
			(void)buf_append_char(&v->tmp, '\n');
		}
	mime_addrlist_free(&al);
	return span_make(v->tmp.data, v->tmp.len);
}

static bool
sr_test_header(struct sr_view *v, const struct sr_rule *rl)
{
	struct span	val;
	size_t		i;
	bool		seen = false;

	if (rl->kind == SR_HEADER && strcasecmp(rl->field, "ALL") == 0)
		return sr_match(v->r, rl->re, v->hdrs.data, v->hdrs.len) !=
		    rl->negate;
	for (i = 0; i < v->nfx; i++) {
		if (!span_caseeq(v->fx[i].name, rl->field))
			continue;
		seen = true;
		if (rl->kind == SR_EXISTS)
			break;
		val = sr_field_view(v, &v->fx[i], rl->view);
		if (sr_match(v->r, rl->re, val.ptr, val.len))
			return !rl->negate;
	}
	if (rl->kind == SR_EXISTS)
		return seen != rl->negate;
	/* !~ needs the field: a missing one is what !exists is for */
	return rl->negate && seen;
}

/* --- built-in checks ------------------------------------------------ */

/*
 * The first n (ASCII, case-insensitive, not empty) in h[0..hlen).  The
 * text can be half a megabyte: candidates are found by their first byte
 * (memchr when it has no case), and only those are compared.
 */
static const char *
sr_memcase(const char *h, size_t hlen, const char *n)
{
	size_t		 nlen = strlen(n);
	const char	*p, *e;
	char		 c0 = n[0];
	bool		 alpha;

	if (h == NULL || nlen == 0 || nlen > hlen)
		return NULL;
	alpha = (c0 | 0x20) >= 'a' && (c0 | 0x20) <= 'z';
	c0 = alpha ? (char)(c0 | 0x20) : c0;
	/* the last place a match can start */
	e = h + (hlen - nlen);
	for (p = h; p <= e; p++) {
		if (!alpha) {
			if ((p = memchr(p, c0, (size_t)(e - p) + 1)) == NULL)
				return NULL;
		} else if ((*p | 0x20) != c0)
			continue;
		if (strncasecmp(p + 1, n + 1, nlen - 1) == 0)
			return p;
	}
	return NULL;
}

static const struct sr_field_ix *
sr_field_first(const struct sr_view *v, const char *name)
{
	size_t	i;

	for (i = 0; i < v->nfx; i++)
		if (span_caseeq(v->fx[i].name, name))
			return &v->fx[i];
	return NULL;
}

/* The host of "scheme://[user@]host..." or "www.host...", lower case. */
static size_t
sr_host(const char *p, size_t len, char *out, size_t outsz)
{
	const char	*e, *at;
	size_t		 n = 0;
	struct span	 s = span_make(p, len);

	if (span_startswith_case(s, "http://"))
		p += 7, len -= 7;
	else if (span_startswith_case(s, "https://"))
		p += 8, len -= 8;
	else if (!span_startswith_case(s, "www."))
		return 0;
	for (e = p; e < p + len && *e != '/' && *e != '?' && *e != '#'; e++)
		;
	if ((at = memrchr(p, '@', (size_t)(e - p))) != NULL)
		p = at + 1;
	for (; p < e && n + 1 < outsz; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			break;
		out[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	}
	while (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
	if (strncmp(out, "www.", 4) == 0) {
		memmove(out, out + 4, n - 3);
		n -= 4;
	}
	return memchr(out, '.', n) != NULL ? n : 0;
}

/* a is b or a subdomain of b */
static bool
sr_host_within(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen >= blen && memcmp(a + alen - blen, b, blen) == 0 &&
	    (alen == blen || a[alen - blen - 1] == '.');
}

/* <a href="http://x/">http://y/</a>: the text shows another host. */
static bool
sr_link_mismatch(const struct sr_view *v)
{
	const char	*p, *end;
	const char	*a, *gt, *close, *h, *q;
	char		 hh[256], th[256], vis[256];
	size_t		 hl, tl, vl, lim, n = 0;

	/* no HTML: no anchors (and no pointer arithmetic on NULL) */
	if (v->raw.len == 0)
		return false;
	p = v->raw.data;
	end = v->raw.data + v->raw.len;
	while (p != NULL && p < end && n++ < SR_ANCHORS_MAX &&
	    (a = sr_memcase(p, (size_t)(end - p), "<a")) != NULL) {
		p = a + 2;
		if (p >= end || !(*p == ' ' || *p == '\t' || *p == '\n' ||
		    *p == '\r'))
			continue;
		lim = (size_t)(end - p) < SR_ANCHOR_MAX ? (size_t)(end - p) :
		    SR_ANCHOR_MAX;
		if ((gt = memchr(p, '>', lim)) == NULL)
			continue;
		if ((h = sr_memcase(p, (size_t)(gt - p), "href")) == NULL)
			continue;
		for (h += 4; h < gt && (*h == ' ' || *h == '='); h++)
			;
		q = h;
		if (h < gt && (*h == '"' || *h == '\'')) {
			h++;
			q = memchr(h, h[-1], (size_t)(gt - h));
		} else
			for (; q < gt && *q != ' ' && *q != '\t'; q++)
				;
		if (q == NULL || q < h)
			continue;
		hl = sr_host(h, (size_t)(q - h), hh, sizeof(hh));
		lim = (size_t)(end - gt) < SR_ANCHOR_MAX ? (size_t)(end - gt) :
		    SR_ANCHOR_MAX;
		if ((close = sr_memcase(gt, lim, "</a")) == NULL)
			continue;
		/* the visible text: tags dropped, spaces trimmed */
		vl = 0;
		for (q = gt + 1; q < close && vl + 1 < sizeof(vis); q++) {
			if (*q == '<') {
				while (q < close && *q != '>')
					q++;
				continue;
			}
			if (vl == 0 && (*q == ' ' || *q == '\n' ||
			    *q == '\r' || *q == '\t'))
				continue;
			vis[vl++] = *q;
		}
		p = close;
		if (hl == 0)
			continue;
		tl = sr_host(vis, vl, th, sizeof(th));
		if (tl == 0)
			continue;
		if (!sr_host_within(hh, hl, th, tl) &&
		    !sr_host_within(th, tl, hh, hl))
			return true;
	}
	return false;
}

/* From: "someone@a.example" <x@b.example> */
static bool
sr_from_name_addr(struct sr_view *v)
{
	const struct sr_field_ix	*x;
	const struct mime_msg		*m = &v->sm->mime;
	struct mime_addrlist		 al;
	const char			*at, *d, *e;
	struct span			 dom;
	bool				 hit = false;

	if ((x = sr_field_first(v, "From")) == NULL)
		return false;
	memset(&al, 0, sizeof(al));
	if (mime_hdr_addrs(mime_field_value(m, &m->fields[x->fi]), &al) ==
	    -1 || al.n == 0 || al.v[0].kind != MIME_ADDR_MAILBOX) {
		mime_addrlist_free(&al);
		return false;
	}
	dom = al.v[0].domain;
	buf_reset(&v->tmp);
	(void)mime_decode_words(al.v[0].name, &v->tmp);
	if (v->tmp.len > 0 &&
	    (at = memchr(v->tmp.data, '@', v->tmp.len)) != NULL &&
	    at > v->tmp.data && at[-1] != ' ') {
		d = at + 1;
		for (e = d; e < v->tmp.data + v->tmp.len &&
		    ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
		    (*e >= '0' && *e <= '9') || *e == '.' || *e == '-'); e++)
			;
		while (e > d && e[-1] == '.')
			e--;
		if (memchr(d, '.', (size_t)(e - d)) != NULL &&
		    !span_caseeq(dom, "") &&
		    ((size_t)(e - d) != dom.len ||
		    strncasecmp(d, dom.ptr, dom.len) != 0))
			hit = true;
	}
	mime_addrlist_free(&al);
	return hit;
}

/* The Date field's time and the topmost Received's. */
static int
sr_dates(struct sr_view *v, int64_t *date, int64_t *recv)
{
	const struct sr_field_ix	*d, *r;
	const char			*semi;
	int				 zone;

	if ((d = sr_field_first(v, "Date")) == NULL ||
	    (r = sr_field_first(v, "Received")) == NULL)
		return -1;
	if (mime_hdr_date(span_make(v->hdrs.data + d->off, d->len), date,
	    &zone) == -1)
		return -1;
	if ((semi = memrchr(v->hdrs.data + r->off, ';', r->len)) == NULL)
		return -1;
	return mime_hdr_date(span_make(semi + 1, (size_t)(v->hdrs.data +
	    r->off + r->len - semi - 1)), recv, &zone);
}

static long
sr_recipients(struct sr_view *v)
{
	const struct mime_msg	*m = &v->sm->mime;
	struct mime_addrlist	 al;
	size_t			 i, k;
	long			 n = 0;

	for (i = 0; i < v->nfx; i++) {
		if (!span_caseeq(v->fx[i].name, "To") &&
		    !span_caseeq(v->fx[i].name, "Cc"))
			continue;
		memset(&al, 0, sizeof(al));
		if (mime_hdr_addrs(mime_field_value(m,
		    &m->fields[v->fx[i].fi]), &al) == 0)
			for (k = 0; k < al.n; k++)
				if (al.v[k].kind == MIME_ADDR_MAILBOX)
					n++;
		mime_addrlist_free(&al);
	}
	return n;
}

/* Percent of capitals among the text's letters (ASCII), from 200. */
static bool
sr_caps(const struct sr_view *v, long pct)
{
	struct span	t = v->body;
	size_t		i, up = 0, lo = 0;

	for (i = 0; i < t.len; i++) {
		if (t.ptr[i] >= 'A' && t.ptr[i] <= 'Z')
			up++;
		else if (t.ptr[i] >= 'a' && t.ptr[i] <= 'z')
			lo++;
	}
	return up + lo >= 200 && up * 100 > (up + lo) * (size_t)pct;
}

static bool
sr_run_check(struct sr_view *v, const struct sr_rule *rl)
{
	const struct mime_msg	*m = &v->sm->mime;
	int64_t			 date, recv;
	int			 zone;
	uint32_t		 i;
	bool			 html = false, plain = false;
	size_t			 vis;

	switch (rl->fn) {
	case SR_CHECK_HTML_ONLY:
	case SR_CHECK_HTML_IMAGE:
		for (i = 0; i < m->nparts; i++) {
			html |= sr_is_text(&m->parts[i], "html");
			plain |= sr_is_text(&m->parts[i], "plain");
		}
		if (rl->fn == SR_CHECK_HTML_ONLY)
			return html && !plain;
		/* no HTML, no count: the text can be half a megabyte */
		if (!html)
			return false;
		/* counted only as far as the answer needs */
		for (vis = 0, i = 0; i < v->body.len &&
		    vis < (size_t)rl->arg; i++)
			if ((unsigned char)v->body.ptr[i] > ' ')
				vis++;
		return vis < (size_t)rl->arg &&
		    sr_memcase(v->raw.data, v->raw.len, "<img") != NULL;
	case SR_CHECK_LINK_MISMATCH:
		return sr_link_mismatch(v);
	case SR_CHECK_FROM_NAME_ADDR:
		return sr_from_name_addr(v);
	case SR_CHECK_DATE_FUTURE:
		return sr_dates(v, &date, &recv) == 0 &&
		    date > recv + (int64_t)rl->arg * 3600;
	case SR_CHECK_DATE_PAST:
		return sr_dates(v, &date, &recv) == 0 &&
		    date < recv - (int64_t)rl->arg * 3600;
	case SR_CHECK_DATE_INVALID:
		for (i = 0; i < v->nfx; i++)
			if (span_caseeq(v->fx[i].name, "Date"))
				return mime_hdr_date(span_make(v->hdrs.data +
				    v->fx[i].off, v->fx[i].len), &date,
				    &zone) == -1;
		return false;
	case SR_CHECK_RECIPIENTS:
		return sr_recipients(v) > rl->arg;
	case SR_CHECK_CAPS:
		return sr_caps(v, rl->arg);
	case SR_CHECK_MIME_BROKEN:
		return (m->flags & (MIME_F_NO_BOUNDARY |
		    MIME_F_BOUNDARY_UNSEEN | MIME_F_HDR_NUL)) != 0;
	case SR_CHECK_HEADER_8BIT:
		return (m->flags & MIME_F_HDR_8BIT) != 0;
	case SR_CHECK_TEXT_BASE64:
		return m->nparts == 1 && sr_is_text(&m->parts[0], NULL) &&
		    m->parts[0].cte == MIME_CTE_BASE64;
	}
	return false;
}

/* The parser emits well-formed RPN; the stack is checked anyway. */
static bool
sr_eval_meta(const struct sr_rule *rl, const bool *hit)
{
	bool	st[SR_META_MAX] = { false };
	size_t	i, sp = 0;

	for (i = 0; i < rl->nmeta; i++) {
		switch (rl->meta[i]) {
		case SR_OP_NOT:
			if (sp < 1)
				return false;
			st[sp - 1] = !st[sp - 1];
			break;
		case SR_OP_AND:
		case SR_OP_OR:
			if (sp < 2)
				return false;
			sp--;
			st[sp - 1] = rl->meta[i] == SR_OP_AND ?
			    st[sp - 1] && st[sp] : st[sp - 1] || st[sp];
			break;
		default:
			if (sp >= SR_META_MAX)
				return false;
			st[sp++] = hit[rl->meta[i]];
		}
	}
	return sp == 1 && st[0];
}

static bool
sr_test(struct sr_view *v, const struct sr_rule *rl, const bool *hit)
{
	size_t	start, i;

	switch (rl->kind) {
	case SR_HEADER:
	case SR_EXISTS:
		return sr_test_header(v, rl);
	case SR_BODY:
		return sr_match(v->r, rl->re, v->subject.ptr,
		    v->subject.len) || sr_match(v->r, rl->re, v->body.ptr,
		    v->body.len);
	case SR_RAWBODY:
		return sr_match(v->r, rl->re, v->raw.data, v->raw.len);
	case SR_URI:
		for (start = 0, i = 0; i < v->uris.len; i++)
			if (v->uris.data[i] == '\n') {
				if (sr_match(v->r, rl->re, v->uris.data + start,
				    i - start))
					return true;
				start = i + 1;
			}
		return false;
	case SR_KEYWORD:
		return sr_match(v->r, rl->re, v->norm.data, v->norm.len);
	case SR_CHECK:
		return sr_run_check(v, rl);
	case SR_META:
		return sr_eval_meta(rl, hit);
	}
	return false;
}

void
spam_rules_check(const struct spam_rules *r, const struct spam_msg *sm,
    struct spam_score *out)
{
	struct sr_view	*v;
	bool		 hit[SPAM_RULES_MAX];
	size_t		 i;

	/* The test string of GTUBE, anywhere: not removable by the file. */
	if (sm->len > 0 && memmem(sm->data, sm->len, SPAM_GTUBE,
	    sizeof(SPAM_GTUBE) - 1) != NULL)
		spam_score_add(out, "GTUBE", SPAM_RULES_GTUBE_SCORE,
		    "GTUBE, the generic test for unsolicited bulk email");
	if (r->n == 0)
		return;
	v = xcalloc(1, sizeof(*v));
	v->r = r;
	v->sm = sm;
	sr_view_headers(v);
	sr_view_body(v);
	if (r->need_raw)
		sr_view_raw(v);
	if (r->need_uris)
		sr_view_uris(v);
	if (r->need_norm)
		sr_view_norm(v);
	for (i = 0; i < r->n; i++) {
		hit[i] = sr_test(v, &r->v[i], hit);
		if (hit[i] && !r->v[i].helper && r->v[i].score != 0)
			spam_score_add(out, r->v[i].name, r->v[i].score,
			    r->v[i].desc);
	}
	sr_view_free(v);
	free(v);
}
