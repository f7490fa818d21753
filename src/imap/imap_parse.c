/*
 * imap_parse: the IMAP command reader and grammar (RFC 3501 §9, RFC 9051
 * §9, literals of RFC 7888).  Run by the imap role inside each session;
 * pure and bounded, it trusts nothing in the bytes it is given: the
 * contract and the limits are in imap_parse.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_parse.h"
#include "log.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* --- the reader --- */

/* The literals of one APPEND together (MULTIAPPEND, RFC 3502). */
static uint64_t
append_total(const struct imap_reader *r)
{
	return r->appendlimit > IMAP_APPEND_TOTAL_MAX ? r->appendlimit :
	    IMAP_APPEND_TOTAL_MAX;
}

void
imap_reader_init(struct imap_reader *r, uint64_t appendlimit)
{
	memset(r, 0, sizeof(*r));
	r->appendlimit = appendlimit;
	/*
	 * The ceiling is what the checks below let through (all of one
	 * MULTIAPPEND's messages); reaching it is a bug in them.
	 */
	buf_init(&r->cmd, IMAP_COMMAND_MAX + IMAP_LINE_MAX + append_total(r));
	r->tag[0] = '*';
}

void
imap_reader_free(struct imap_reader *r)
{
	buf_free(&r->cmd);
}

void
imap_reader_line_mode(struct imap_reader *r, bool on)
{
	r->line_mode = on;
}

static void
reader_reset(struct imap_reader *r)
{
	/* A large APPEND's memory is not kept for the next command. */
	if (r->cmd.cap > IMAP_COMMAND_MAX) {
		buf_free(&r->cmd);
		buf_init(&r->cmd, IMAP_COMMAND_MAX + IMAP_LINE_MAX +
		    r->appendlimit);
	} else
		buf_reset(&r->cmd);
	r->piece = 0;
	r->lit_left = 0;
	r->nlit = 0;
	r->in_literal = false;
	r->done = false;
	r->refuse_no = false;
	r->error = NULL;
	r->tag[0] = '*';
	r->tag[1] = '\0';
}

/* RFC 9051 §9: ASTRING-CHAR, i.e. ATOM-CHAR or "]". */
static bool
astring_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	    c != '%' && c != '*' && c != '"' && c != '\\';
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static bool
tag_char(unsigned char c)
{
	return astring_char(c) && c != '+';
}

/* The tag at the start of the command, for an answer; "*" if none. */
static void
reader_find_tag(struct imap_reader *r)
{
	size_t	i;

	for (i = 0; i < r->cmd.len && i < IMAP_TAG_MAX; i++)
		if (!tag_char((unsigned char)r->cmd.data[i]))
			break;
	if (i == 0 || i >= r->cmd.len || r->cmd.data[i] != ' ') {
		r->tag[0] = '*';
		r->tag[1] = '\0';
		return;
	}
	memcpy(r->tag, r->cmd.data, i);
	r->tag[i] = '\0';
}

static enum imap_read
reader_refuse(struct imap_reader *r, const char *why, bool no)
{
	reader_find_tag(r);
	r->error = why;
	r->refuse_no = no;
	r->done = true;
	return IMAP_READ_REFUSE;
}

static enum imap_read
reader_close(struct imap_reader *r, const char *why)
{
	reader_find_tag(r);
	r->error = why;
	r->done = true;
	return IMAP_READ_CLOSE;
}

/* Is this an APPEND (whose literal may reach appendlimit)? */
static bool
reader_is_append(const struct imap_reader *r)
{
	const char	*sp;
	size_t		 rest;

	sp = memchr(r->cmd.data, ' ', r->cmd.len);
	if (sp == NULL)
		return false;
	sp++;
	rest = r->cmd.len - (size_t)(sp - r->cmd.data);
	return rest >= 7 && strncasecmp(sp, "APPEND ", 7) == 0;
}

/*
 * Does the line (CRLF stripped) end in a literal's "{n}" or "{n+}"
 * (RFC 9051 §9 literal, RFC 7888 §3)?  1 with *n_out and *sync_out, 0
 * when not, -1 when the number is bad.
 */
static int
literal_suffix(const char *p, size_t len, uint64_t *n_out, bool *sync_out)
{
	size_t	end, i;
	bool	overflow;

	if (len < 3 || p[len - 1] != '}')
		return 0;
	end = len - 1;
	*sync_out = true;
	if (p[end - 1] == '+') {
		*sync_out = false;
		end--;
	}
	for (i = end; i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9'; i--)
		;
	if (i == 0 || p[i - 1] != '{')
		return 0;
	if (i == end || end - i > IMAP_NUMBER_DIGITS ||
	    span_to_u64(span_make(p + i, end - i), n_out, &overflow) == -1 ||
	    overflow)
		return -1;
	return 1;
}

/* A whole line was added: what follows from it. */
static enum imap_read
reader_line(struct imap_reader *r)
{
	const char	*line = r->cmd.data + r->piece;
	size_t		 len = r->cmd.len - r->piece;
	uint64_t	 n, limit, total;
	bool		 sync, append;
	int		 rc;

	if (len < 2 || line[len - 2] != '\r')
		return reader_refuse(r, "Line must end with CRLF", false);
	len -= 2;
	if (memchr(line, '\r', len) != NULL)
		return reader_refuse(r, "CR inside a line", false);
	if (r->line_mode) {
		r->done = true;
		return IMAP_READ_LINE;
	}
	if (memchr(line, '\0', len) != NULL)
		return reader_refuse(r, "NUL in a command line", false);
	if ((rc = literal_suffix(line, len, &n, &sync)) == 0) {
		r->done = true;
		return IMAP_READ_COMMAND;
	}
	if (rc == -1)
		return reader_refuse(r, "Invalid literal size", false);
	append = reader_is_append(r);
	if (!sync && n > IMAP_LITERAL_MINUS_MAX && !append)
		/*
		 * RFC 7888 §4 (LITERAL-): a larger non-synchronising
		 * literal is refused; its octets are already on their
		 * way, so the connection ends.
		 */
		return reader_close(r, "[TOOBIG] Non-synchronizing literal "
		    "over 4096 octets");
	if (++r->nlit > IMAP_LITERALS_MAX)
		return sync ? reader_refuse(r, "Too many literals", false) :
		    reader_close(r, "Too many literals");
	limit = append ? r->appendlimit : IMAP_LITERAL_MAX;
	total = r->cmd.len;
	if (n > limit || total + n > IMAP_COMMAND_MAX + (append ?
	    append_total(r) : 0)) {
		if (!sync)
			return reader_close(r, "[TOOBIG] Literal too large");
		/*
		 * No "+": the client sends nothing more of this command
		 * (RFC 9051 §7.5).  RFC 7889 §3: APPEND over APPENDLIMIT
		 * gets NO [TOOBIG].
		 */
		return reader_refuse(r, !append ? "[TOOBIG] Literal too "
		    "large" : n > limit ? "[TOOBIG] Message larger than "
		    "APPENDLIMIT" : "[TOOBIG] Messages of one APPEND too "
		    "large together", append);
	}
	if (!sync && n > IMAP_LITERAL_MINUS_MAX)
		/* An APPEND message of LITERAL-: §5 asks for the "+". */
		return reader_close(r, "[TOOBIG] Non-synchronizing literal "
		    "over 4096 octets");
	r->lit_left = n;
	r->in_literal = n > 0;
	r->piece = r->cmd.len;
	return sync ? IMAP_READ_CONTINUE : IMAP_READ_MORE;
}

enum imap_read
imap_reader_input(struct imap_reader *r, const char *p, size_t len,
    size_t *used_out)
{
	enum imap_read	 rc;
	const char	*lf;
	size_t		 off = 0, avail, room;
	uint64_t	 n;

	if (r->done)
		reader_reset(r);
	while (off < len) {
		if (r->in_literal) {
			n = len - off < r->lit_left ? len - off : r->lit_left;
			if (buf_append(&r->cmd, p + off, (size_t)n) == -1)
				fatalx("imap_parse: literal over its bound");
			off += (size_t)n;
			r->lit_left -= n;
			if (r->lit_left == 0) {
				r->in_literal = false;
				r->piece = r->cmd.len;
			}
			continue;
		}
		lf = memchr(p + off, '\n', len - off);
		if (r->discarding) {
			if (lf == NULL) {
				off = len;
				continue;
			}
			off = (size_t)(lf - p) + 1;
			r->discarding = false;
			*used_out = off;
			return reader_refuse(r, "Line too long", false);
		}
		avail = lf != NULL ? (size_t)(lf - (p + off)) + 1 : len - off;
		room = IMAP_LINE_MAX - (r->cmd.len - r->piece);
		if (avail > room) {
			/* Keep the start for the tag, skip to the LF. */
			if (buf_append(&r->cmd, p + off, room) == -1)
				fatalx("imap_parse: line over its bound");
			r->discarding = true;
			off += room;
			continue;
		}
		if (buf_append(&r->cmd, p + off, avail) == -1)
			fatalx("imap_parse: line over its bound");
		off += avail;
		if (lf == NULL)
			break;
		rc = reader_line(r);
		if (rc != IMAP_READ_MORE) {
			*used_out = off;
			return rc;
		}
	}
	*used_out = off;
	return IMAP_READ_MORE;
}

struct span
imap_reader_data(const struct imap_reader *r)
{
	size_t	len = r->cmd.len;

	/* A line is given without its CRLF (the reader checked it). */
	if (r->line_mode && len >= 2)
		len -= 2;
	return span_make(r->cmd.data, len);
}

const char *
imap_reader_tag(const struct imap_reader *r)
{
	return r->tag;
}

const char *
imap_reader_error(const struct imap_reader *r)
{
	return r->error != NULL ? r->error : "";
}

bool
imap_reader_refuse_no(const struct imap_reader *r)
{
	return r->refuse_no;
}

/* --- the parser --- */

struct ps {
	const char	*p;
	size_t		 len;
	size_t		 off;
	struct imap_cmd	*cmd;
	const char	*err;
	size_t		 depth;
};

static int
fail(struct ps *s, const char *why)
{
	if (s->err == NULL)
		s->err = why;
	return -1;
}

static bool
at_end(const struct ps *s)
{
	return s->off >= s->len;
}

static int
peek(const struct ps *s)
{
	return s->off < s->len ? (unsigned char)s->p[s->off] : -1;
}

static int
expect_sp(struct ps *s)
{
	if (peek(s) != ' ')
		return fail(s, at_end(s) ? "Missing arguments" :
		    "Expected a space");
	s->off++;
	return 0;
}

static int
expect_char(struct ps *s, char c, const char *why)
{
	if (peek(s) != (unsigned char)c)
		return fail(s, why);
	s->off++;
	return 0;
}

/* RFC 9051 §9 ATOM-CHAR */
static bool
atom_char(int c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	    c != '%' && c != '*' && c != '"' && c != '\\' && c != ']';
}

static bool
list_char(int c)
{
	return atom_char(c) || c == '%' || c == '*' || c == ']';
}

/* 1*ATOM-CHAR */
static int
p_atom(struct ps *s, struct span *out)
{
	size_t	start = s->off;

	while (!at_end(s) && atom_char(peek(s)))
		s->off++;
	if (s->off == start)
		return fail(s, "Expected an atom");
	*out = span_make(s->p + start, s->off - start);
	return 0;
}

static int
p_number(struct ps *s, uint64_t *out)
{
	size_t	start = s->off;
	bool	overflow;

	*out = 0;
	while (!at_end(s) && peek(s) >= '0' && peek(s) <= '9')
		s->off++;
	if (s->off == start)
		return fail(s, "Expected a number");
	if (s->off - start > IMAP_NUMBER_DIGITS ||
	    span_to_u64(span_make(s->p + start, s->off - start), out,
	    &overflow) == -1 || overflow)
		return fail(s, "Number too large");
	return 0;
}

/* nz-number = digit-nz *DIGIT, fitting in 32 bits (RFC 9051 §9) */
static int
p_nz32(struct ps *s, uint32_t *out)
{
	uint64_t	n = 0;

	*out = 0;
	if (p_number(s, &n) == -1)
		return -1;
	if (n == 0 || n > UINT32_MAX)
		return fail(s, "Number out of range");
	*out = (uint32_t)n;
	return 0;
}

/*
 * mod-sequence-value: 1 to 2^63 - 1; mod-sequence-valzer: 0 too (RFC
 * 7162 §7).
 */
static int
p_modseq(struct ps *s, uint64_t *out, bool zero)
{
	if (p_number(s, out) == -1)
		return -1;
	if ((*out == 0 && !zero) || *out > (uint64_t)INT64_MAX)
		return fail(s, "Invalid mod-sequence value");
	return 0;
}

/* quoted = DQUOTE *QUOTED-CHAR DQUOTE, unescaped into the arena. */
static int
p_quoted(struct ps *s, struct span *out)
{
	struct buf	*a = &s->cmd->arena;
	size_t		 start;
	int		 c;

	s->off++;	/* the DQUOTE */
	start = a->len;
	for (;;) {
		if (at_end(s))
			return fail(s, "Unterminated quoted string");
		c = peek(s);
		s->off++;
		if (c == '"')
			break;
		if (c == '\\') {
			c = peek(s);
			if (c != '"' && c != '\\')
				return fail(s, "Invalid escape in a quoted "
				    "string");
			s->off++;
		} else if (c == '\r' || c == '\n' || c == '\0')
			return fail(s, "Invalid character in a quoted string");
		/* 8-bit: UTF-8 under UTF8=ACCEPT (RFC 6855 §3) */
		if (buf_append_char(a, (char)c) == -1)
			fatalx("imap_parse: arena");
	}
	*out = span_make(a->data + start, a->len - start);
	return 0;
}

/* literal = "{" number64 ["+"] "}" CRLF *CHAR8 (RFC 9051 §9, 7888) */
static int
p_literal(struct ps *s, struct span *out)
{
	uint64_t	n = 0;

	s->off++;	/* "{" */
	if (p_number(s, &n) == -1)
		return -1;
	if (peek(s) == '+')
		s->off++;
	if (expect_char(s, '}', "Invalid literal") == -1 ||
	    expect_char(s, '\r', "Literal must end its line") == -1 ||
	    expect_char(s, '\n', "Literal must end its line") == -1)
		return -1;
	if (n > s->len - s->off)
		return fail(s, "Literal longer than the command");
	*out = span_make(s->p + s->off, (size_t)n);
	if (memchr(out->ptr, '\0', out->len) != NULL)
		return fail(s, "NUL in a literal");
	s->off += (size_t)n;
	return 0;
}

/* string = quoted / literal */
static int
p_string(struct ps *s, struct span *out)
{
	*out = span_make("", 0);
	if (peek(s) == '"')
		return p_quoted(s, out);
	if (peek(s) == '{')
		return p_literal(s, out);
	return fail(s, "Expected a string");
}

/* astring = 1*ASTRING-CHAR / string */
static int
p_astring(struct ps *s, struct span *out)
{
	size_t	start = s->off;

	*out = span_make("", 0);
	if (peek(s) == '"' || peek(s) == '{')
		return p_string(s, out);
	while (!at_end(s) && astring_char((unsigned char)peek(s)))
		s->off++;
	if (s->off == start)
		return fail(s, at_end(s) ? "Missing arguments" :
		    "Expected an atom or a string");
	*out = span_make(s->p + start, s->off - start);
	return 0;
}

/* nstring = string / "NIL"; *nil_out for NIL */
static int
p_nstring(struct ps *s, struct span *out, bool *nil_out)
{
	*nil_out = false;
	if (s->len - s->off >= 3 && strncasecmp(s->p + s->off, "NIL", 3) == 0) {
		s->off += 3;
		*nil_out = true;
		*out = span_make("", 0);
		return 0;
	}
	return p_string(s, out);
}

/* mailbox = "INBOX" / astring, bounded */
static int
p_mailbox(struct ps *s, struct span *out)
{
	if (p_astring(s, out) == -1)
		return -1;
	if (out->len == 0)
		return fail(s, "Empty mailbox name");
	if (out->len > IMAP_MAILBOX_MAX)
		return fail(s, "Mailbox name too long");
	return 0;
}

/* list-mailbox = 1*list-char / string */
static int
p_list_mailbox(struct ps *s, struct span *out)
{
	size_t	start = s->off;

	if (peek(s) == '"' || peek(s) == '{')
		return p_string(s, out);
	while (!at_end(s) && list_char(peek(s)))
		s->off++;
	if (s->off == start)
		return fail(s, "Expected a mailbox pattern");
	*out = span_make(s->p + start, s->off - start);
	return out->len > IMAP_MAILBOX_MAX ? fail(s, "Pattern too long") : 0;
}

static int
list_open(struct ps *s)
{
	if (expect_char(s, '(', "Expected a list") == -1)
		return -1;
	if (++s->depth > IMAP_DEPTH_MAX)
		return fail(s, "Lists nested too deeply");
	return 0;
}

static int
list_close(struct ps *s)
{
	if (expect_char(s, ')', "Expected the end of a list") == -1)
		return -1;
	s->depth--;
	return 0;
}

/* Between a list's elements: a space (taken) or its ")" (left). */
static int
list_next(struct ps *s, const char *why)
{
	if (peek(s) == ' ') {
		s->off++;
		return 0;
	}
	return peek(s) == ')' ? 0 : fail(s, why);
}

/*
 * sequence-set = (seq-number / seq-range) ["," sequence-set] / "$"
 * (RFC 9051 §9, RFC 5182 §2).
 */
static int
p_seqset(struct ps *s, struct imap_seqset *set)
{
	struct imap_range	r = { 0, 0 };
	size_t			cap = 0;
	uint32_t		*v;
	int			i;

	if (set->r != NULL || set->n > 0 || set->last)
		return fail(s, "Sequence set given twice");
	if (peek(s) == '$') {
		s->off++;
		set->last = true;
		return 0;
	}
	for (;;) {
		for (i = 0; i < 2; i++) {
			v = i == 0 ? &r.lo : &r.hi;
			if (peek(s) == '*') {
				s->off++;
				*v = IMAP_SEQ_STAR;
			} else if (peek(s) < '0' || peek(s) > '9')
				return fail(s, "Invalid sequence set");
			else if (p_nz32(s, v) == -1)
				return -1;
			if (i == 0) {
				if (peek(s) != ':') {
					r.hi = r.lo;
					break;
				}
				s->off++;
			}
		}
		if (set->n == IMAP_SEQ_RANGES_MAX)
			return fail(s, "Sequence set too long");
		if (set->n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			set->r = xrealloc(set->r, cap * sizeof(*set->r));
		}
		set->r[set->n++] = r;
		if (peek(s) != ',')
			break;
		s->off++;
	}
	return 0;
}

/* flag = "\Answered" / ... / flag-keyword / flag-extension */
struct flag_name {
	const char	*name;
	unsigned	 bit;
};
static const struct flag_name system_flags[] = {
	{ "\\Seen",	IMAP_FLAG_SEEN },
	{ "\\Answered",	IMAP_FLAG_ANSWERED },
	{ "\\Flagged",	IMAP_FLAG_FLAGGED },
	{ "\\Deleted",	IMAP_FLAG_DELETED },
	{ "\\Draft",	IMAP_FLAG_DRAFT },
};

static int
p_flag(struct ps *s, struct imap_flags *f)
{
	struct span	name;
	size_t		i, start = s->off;

	if (peek(s) == '\\')
		s->off++;
	if (p_atom(s, &name) == -1)
		return fail(s, "Invalid flag");
	name = span_make(s->p + start, s->off - start);
	if (name.ptr[0] == '\\') {
		for (i = 0; i < NELEM(system_flags); i++)
			if (span_caseeq(name, system_flags[i].name)) {
				f->sys |= system_flags[i].bit;
				return 0;
			}
		/* \Recent and extensions cannot be stored, §6.4.6 */
		return fail(s, "Flag cannot be stored");
	}
	for (i = 0; i < f->nkw; i++)
		if (f->kw[i].len == name.len &&
		    strncasecmp(f->kw[i].ptr, name.ptr, name.len) == 0)
			return 0;
	if (f->nkw == IMAP_KEYWORDS_MAX)
		return fail(s, "Too many keywords");
	if (f->kw == NULL)
		f->kw = xcalloc(IMAP_KEYWORDS_MAX, sizeof(*f->kw));
	f->kw[f->nkw++] = name;
	return 0;
}

/* flag-list = "(" [flag *(SP flag)] ")" */
static int
p_flag_list(struct ps *s, struct imap_flags *f)
{
	if (list_open(s) == -1)
		return -1;
	while (peek(s) != ')') {
		if (p_flag(s, f) == -1)
			return -1;
		if (peek(s) == ' ')
			s->off++;
		else if (peek(s) != ')')
			return fail(s, "Invalid flag list");
	}
	return list_close(s);
}

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

int64_t
imap_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era, yoe, doy, doe;

	/* The proleptic Gregorian count of days, March-based years. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* date-day "-" date-month "-" date-year; days since the epoch. */
static int
p_date_text(struct ps *s, bool fixed, int64_t *days_out)
{
	static const unsigned	mdays[12] = { 31, 29, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	uint64_t		day, year;
	size_t			start, digits = 0;
	unsigned		m;

	/* date-day-fixed = (SP DIGIT) / 2DIGIT (RFC 9051 §9) */
	if (fixed) {
		digits = peek(s) == ' ' ? 1 : 2;
		if (digits == 1)
			s->off++;
	}
	start = s->off;
	if (p_number(s, &day) == -1 || s->off - start > 2 || day == 0 ||
	    (digits > 0 && s->off - start != digits))
		return fail(s, "Invalid date");
	if (expect_char(s, '-', "Invalid date") == -1 ||
	    s->len - s->off < 4)
		return fail(s, "Invalid date");
	for (m = 0; m < 12; m++)
		if (strncasecmp(s->p + s->off, months[m], 3) == 0)
			break;
	if (m == 12)
		return fail(s, "Invalid month");
	s->off += 3;
	if (expect_char(s, '-', "Invalid date") == -1)
		return -1;
	start = s->off;
	if (p_number(s, &year) == -1 || s->off - start != 4)
		return fail(s, "Invalid year");
	if (day > mdays[m] || (m == 1 && day == 29 && !leap((int64_t)year)))
		return fail(s, "Invalid date");
	*days_out = imap_days_from_civil((int64_t)year, m + 1,
	    (unsigned)day);
	return 0;
}

/* date = date-text / DQUOTE date-text DQUOTE */
static int
p_date(struct ps *s, int64_t *days_out)
{
	bool	q = peek(s) == '"';

	if (q)
		s->off++;
	if (p_date_text(s, false, days_out) == -1)
		return -1;
	return q ? expect_char(s, '"', "Invalid date") : 0;
}

static int
p_2digit(struct ps *s, unsigned max, unsigned *out)
{
	int	a, b;

	*out = 0;
	a = peek(s);
	if (a < '0' || a > '9' || s->len - s->off < 2)
		return fail(s, "Invalid time");
	b = (unsigned char)s->p[s->off + 1];
	if (b < '0' || b > '9')
		return fail(s, "Invalid time");
	*out = (unsigned)(a - '0') * 10 + (unsigned)(b - '0');
	if (*out > max)
		return fail(s, "Invalid time");
	s->off += 2;
	return 0;
}

/*
 * date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time
 * SP zone DQUOTE (RFC 9051 §9); seconds since the epoch, UTC.
 */
static int
p_date_time(struct ps *s, int64_t *out)
{
	unsigned	hh = 0, mm = 0, ss = 0, zh = 0, zm = 0;
	int64_t		days;
	int		sign;

	if (expect_char(s, '"', "Invalid date-time") == -1 ||
	    p_date_text(s, true, &days) == -1 || expect_sp(s) == -1 ||
	    p_2digit(s, 23, &hh) == -1 ||
	    expect_char(s, ':', "Invalid time") == -1 ||
	    p_2digit(s, 59, &mm) == -1 ||
	    expect_char(s, ':', "Invalid time") == -1 ||
	    p_2digit(s, 60, &ss) == -1 || expect_sp(s) == -1)
		return fail(s, "Invalid date-time");
	if (peek(s) == '+')
		sign = 1;
	else if (peek(s) == '-')
		sign = -1;
	else
		return fail(s, "Invalid time zone");
	s->off++;
	if (p_2digit(s, 99, &zh) == -1 || p_2digit(s, 59, &zm) == -1 ||
	    expect_char(s, '"', "Invalid date-time") == -1)
		return fail(s, "Invalid time zone");
	*out = days * 86400 + hh * 3600 + mm * 60 + ss -
	    sign * (int64_t)(zh * 3600 + zm * 60);
	return 0;
}

/* --- FETCH (RFC 9051 §6.4.5) --- */

struct fetch_name {
	const char	*name;
	unsigned	 atts;
};
static const struct fetch_name fetch_macros[] = {
	/* §6.4.5: the macros, alone and not in a list */
	{ "ALL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	    IMAP_FETCH_SIZE | IMAP_FETCH_ENVELOPE },
	{ "FAST", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	    IMAP_FETCH_SIZE },
	{ "FULL", IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
	    IMAP_FETCH_SIZE | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY },
};
static const struct fetch_name fetch_simple[] = {
	{ "FLAGS", IMAP_FETCH_FLAGS },
	{ "UID", IMAP_FETCH_UID },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822.SIZE", IMAP_FETCH_SIZE },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
	{ "EMAILID", IMAP_FETCH_EMAILID },
	{ "THREADID", IMAP_FETCH_THREADID },
};

static struct imap_fetch_section *
section_new(struct ps *s, enum imap_sec_kind kind, bool peek_)
{
	struct imap_fetch	 *f = &s->cmd->fetch;
	struct imap_fetch_section *sec;

	if (f->nsec == IMAP_FETCH_SECTIONS_MAX) {
		fail(s, "Too many sections in one FETCH");
		return NULL;
	}
	if (f->sec == NULL)
		f->sec = xcalloc(IMAP_FETCH_SECTIONS_MAX, sizeof(*f->sec));
	sec = &f->sec[f->nsec++];
	sec->kind = kind;
	sec->peek = peek_;
	return sec;
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")" */
static int
p_header_list(struct ps *s, struct imap_fetch_section *sec)
{
	struct span	name;

	if (list_open(s) == -1)
		return -1;
	sec->fields = xcalloc(IMAP_FIELDS_MAX, sizeof(*sec->fields));
	for (;;) {
		if (p_astring(s, &name) == -1)
			return -1;
		if (name.len == 0)
			return fail(s, "Empty header field name");
		if (sec->nfields == IMAP_FIELDS_MAX)
			return fail(s, "Too many header field names");
		sec->fields[sec->nfields++] = name;
		if (peek(s) != ' ')
			break;
		s->off++;
	}
	return list_close(s);
}

/*
 * section = "[" [section-spec] "]"; section-spec = section-msgtext /
 * (section-part ["." section-text]); section-binary = "[" [section-part]
 * "]"
 */
static int
p_section(struct ps *s, struct imap_fetch_section *sec, bool binary)
{
	struct span	w;
	size_t		start;

	if (expect_char(s, '[', "Expected a section") == -1)
		return -1;
	while (peek(s) >= '0' && peek(s) <= '9') {
		if (sec->nparts == IMAP_PART_DEPTH)
			return fail(s, "Section nested too deeply");
		if (p_nz32(s, &sec->part[sec->nparts]) == -1)
			return fail(s, "Invalid section part");
		sec->nparts++;
		if (peek(s) != '.')
			break;
		s->off++;
		if (peek(s) < '0' || peek(s) > '9')
			break;
	}
	if (peek(s) != ']') {
		if (binary)
			return fail(s, "Invalid binary section");
		if (sec->nparts > 0 && s->p[s->off - 1] != '.')
			return fail(s, "Invalid section");
		start = s->off;
		while (!at_end(s) && (atom_char(peek(s)) || peek(s) == '.'))
			s->off++;
		w = span_make(s->p + start, s->off - start);
		if (span_caseeq(w, "HEADER"))
			sec->text = IMAP_SECT_HEADER;
		else if (span_caseeq(w, "TEXT"))
			sec->text = IMAP_SECT_TEXT;
		else if (span_caseeq(w, "MIME") && sec->nparts > 0)
			sec->text = IMAP_SECT_MIME;
		else if (span_caseeq(w, "HEADER.FIELDS"))
			sec->text = IMAP_SECT_HEADER_FIELDS;
		else if (span_caseeq(w, "HEADER.FIELDS.NOT"))
			sec->text = IMAP_SECT_HEADER_FIELDS_NOT;
		else
			return fail(s, "Invalid section");
		if (sec->text == IMAP_SECT_HEADER_FIELDS ||
		    sec->text == IMAP_SECT_HEADER_FIELDS_NOT) {
			if (expect_sp(s) == -1 || p_header_list(s, sec) == -1)
				return -1;
		}
	} else if (sec->nparts > 0 && s->p[s->off - 1] == '.')
		return fail(s, "Invalid section");
	return expect_char(s, ']', "Expected the end of a section");
}

/* partial = "<" number64 "." nz-number64 ">" */
static int
p_partial(struct ps *s, struct imap_fetch_section *sec)
{
	if (peek(s) != '<')
		return 0;
	s->off++;
	if (p_number(s, &sec->offset) == -1 ||
	    expect_char(s, '.', "Invalid partial") == -1 ||
	    p_number(s, &sec->count) == -1 || sec->count == 0 ||
	    expect_char(s, '>', "Invalid partial") == -1)
		return fail(s, "Invalid partial");
	sec->partial = true;
	return 0;
}

static int
p_fetch_att(struct ps *s)
{
	struct imap_fetch		*f = &s->cmd->fetch;
	struct imap_fetch_section	*sec;
	struct span			 w;
	size_t				 i, start = s->off;
	bool				 binary = false;
	enum imap_sec_kind		 kind = IMAP_SEC_BODY;

	while (!at_end(s) && atom_char(peek(s)) && peek(s) != '[')
		s->off++;
	w = span_make(s->p + start, s->off - start);
	if (w.len == 0)
		return fail(s, "Expected a fetch item");
	for (i = 0; i < NELEM(fetch_simple); i++)
		if (span_caseeq(w, fetch_simple[i].name)) {
			f->atts |= fetch_simple[i].atts;
			return 0;
		}
	if (span_caseeq(w, "RFC822") || span_caseeq(w, "RFC822.HEADER") ||
	    span_caseeq(w, "RFC822.TEXT")) {
		kind = span_caseeq(w, "RFC822") ? IMAP_SEC_RFC822 :
		    span_caseeq(w, "RFC822.TEXT") ? IMAP_SEC_RFC822_TEXT :
		    IMAP_SEC_RFC822_HEADER;
		if ((sec = section_new(s, kind, kind ==
		    IMAP_SEC_RFC822_HEADER)) == NULL)
			return -1;
		sec->text = kind == IMAP_SEC_RFC822 ? IMAP_SECT_NONE :
		    kind == IMAP_SEC_RFC822_TEXT ? IMAP_SECT_TEXT :
		    IMAP_SECT_HEADER;
		return 0;
	}
	if (span_caseeq(w, "BODY") && peek(s) != '[') {
		f->atts |= IMAP_FETCH_BODY;
		return 0;
	}
	if (span_caseeq(w, "BODY") || span_caseeq(w, "BODY.PEEK"))
		kind = IMAP_SEC_BODY;
	else if (span_caseeq(w, "BINARY") || span_caseeq(w, "BINARY.PEEK")) {
		kind = IMAP_SEC_BINARY;
		binary = true;
	} else if (span_caseeq(w, "BINARY.SIZE")) {
		kind = IMAP_SEC_BINARY_SIZE;
		binary = true;
	} else
		return fail(s, "Unknown fetch item");
	if ((sec = section_new(s, kind, w.len > 5 &&
	    (span_caseeq(w, "BODY.PEEK") || span_caseeq(w, "BINARY.PEEK") ||
	    kind == IMAP_SEC_BINARY_SIZE))) == NULL)
		return -1;
	if (p_section(s, sec, binary) == -1)
		return -1;
	if (kind == IMAP_SEC_BINARY_SIZE)
		return 0;
	return p_partial(s, sec);
}

/* "ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")" */
static int
p_fetch(struct ps *s)
{
	struct imap_fetch	*f = &s->cmd->fetch;
	struct span		 w;
	size_t			 i, save = s->off;

	if (peek(s) == '(') {
		if (list_open(s) == -1)
			return -1;
		for (;;) {
			if (p_fetch_att(s) == -1)
				return -1;
			if (peek(s) != ' ')
				break;
			s->off++;
		}
		return list_close(s);
	}
	if (p_atom(s, &w) == 0)
		for (i = 0; i < NELEM(fetch_macros); i++)
			if (span_caseeq(w, fetch_macros[i].name)) {
				f->atts |= fetch_macros[i].atts;
				return 0;
			}
	s->off = save;
	s->err = NULL;
	return p_fetch_att(s);
}

/*
 * fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")";
 * fetch-modifier = chgsince-fetch-mod / "VANISHED" (RFC 7162 §7,
 * RFC 4466 §2.4).
 */
static int
p_fetch_modifiers(struct ps *s, struct imap_cmd *c)
{
	struct span	w = { NULL, 0 };

	if (peek(s) != ' ')
		return 0;
	s->off++;
	if (list_open(s) == -1)
		return -1;
	for (;;) {
		if (p_atom(s, &w) == -1)
			return -1;
		if (span_caseeq(w, "CHANGEDSINCE") && !c->has_changedsince) {
			if (expect_sp(s) == -1 ||
			    p_modseq(s, &c->changedsince, true) == -1)
				return -1;
			c->has_changedsince = true;
		} else if (span_caseeq(w, "VANISHED") && !c->vanished)
			c->vanished = true;
		else
			return fail(s, "Unknown FETCH modifier");
		if (peek(s) != ' ')
			break;
		s->off++;
	}
	/* RFC 7162 §3.2.6: VANISHED only with CHANGEDSINCE */
	if (c->vanished && !c->has_changedsince)
		return fail(s, "VANISHED needs CHANGEDSINCE");
	return list_close(s);
}

/* --- SEARCH (RFC 9051 §6.4.4) --- */

enum skey_arg {
	SKA_NONE,
	SKA_STRING,	/* astring */
	SKA_FLAG,	/* atom, a keyword */
	SKA_DATE,
	SKA_NUMBER,
	SKA_SEQ,
	SKA_HEADER,	/* header-fld-name SP astring */
};
struct skey_name {
	const char	*name;
	enum imap_skey	 key;
	unsigned	 flag;
	enum skey_arg	 arg;
};
static const struct skey_name skeys[] = {
	{ "ALL", IMAP_SK_ALL, 0, SKA_NONE },
	{ "ANSWERED", IMAP_SK_FLAG, IMAP_FLAG_ANSWERED, SKA_NONE },
	{ "DELETED", IMAP_SK_FLAG, IMAP_FLAG_DELETED, SKA_NONE },
	{ "DRAFT", IMAP_SK_FLAG, IMAP_FLAG_DRAFT, SKA_NONE },
	{ "FLAGGED", IMAP_SK_FLAG, IMAP_FLAG_FLAGGED, SKA_NONE },
	{ "RECENT", IMAP_SK_FLAG, IMAP_FLAG_RECENT, SKA_NONE },
	{ "SEEN", IMAP_SK_FLAG, IMAP_FLAG_SEEN, SKA_NONE },
	{ "UNANSWERED", IMAP_SK_UNFLAG, IMAP_FLAG_ANSWERED, SKA_NONE },
	{ "UNDELETED", IMAP_SK_UNFLAG, IMAP_FLAG_DELETED, SKA_NONE },
	{ "UNDRAFT", IMAP_SK_UNFLAG, IMAP_FLAG_DRAFT, SKA_NONE },
	{ "UNFLAGGED", IMAP_SK_UNFLAG, IMAP_FLAG_FLAGGED, SKA_NONE },
	{ "UNSEEN", IMAP_SK_UNFLAG, IMAP_FLAG_SEEN, SKA_NONE },
	{ "NEW", IMAP_SK_NEW, 0, SKA_NONE },
	{ "OLD", IMAP_SK_OLD, 0, SKA_NONE },
	{ "KEYWORD", IMAP_SK_KEYWORD, 0, SKA_FLAG },
	{ "UNKEYWORD", IMAP_SK_UNKEYWORD, 0, SKA_FLAG },
	{ "UID", IMAP_SK_UID, 0, SKA_SEQ },
	{ "LARGER", IMAP_SK_LARGER, 0, SKA_NUMBER },
	{ "SMALLER", IMAP_SK_SMALLER, 0, SKA_NUMBER },
	{ "MODSEQ", IMAP_SK_MODSEQ, 0, SKA_NUMBER },
	{ "BEFORE", IMAP_SK_BEFORE, 0, SKA_DATE },
	{ "ON", IMAP_SK_ON, 0, SKA_DATE },
	{ "SINCE", IMAP_SK_SINCE, 0, SKA_DATE },
	{ "SENTBEFORE", IMAP_SK_SENTBEFORE, 0, SKA_DATE },
	{ "SENTON", IMAP_SK_SENTON, 0, SKA_DATE },
	{ "SENTSINCE", IMAP_SK_SENTSINCE, 0, SKA_DATE },
	{ "HEADER", IMAP_SK_HEADER, 0, SKA_HEADER },
	{ "BCC", IMAP_SK_BCC, 0, SKA_STRING },
	{ "BODY", IMAP_SK_BODY, 0, SKA_STRING },
	{ "CC", IMAP_SK_CC, 0, SKA_STRING },
	{ "FROM", IMAP_SK_FROM, 0, SKA_STRING },
	{ "SUBJECT", IMAP_SK_SUBJECT, 0, SKA_STRING },
	{ "TEXT", IMAP_SK_TEXT, 0, SKA_STRING },
	{ "TO", IMAP_SK_TO, 0, SKA_STRING },
	{ "EMAILID", IMAP_SK_EMAILID, 0, SKA_STRING },
	{ "THREADID", IMAP_SK_THREADID, 0, SKA_STRING },
};

/*
 * search-modsequence = "MODSEQ" [search-modseq-ext] SP
 * mod-sequence-valzer; search-modseq-ext = SP entry-name SP
 * entry-type-req (RFC 7162 §7).  The entry (a flag's own MODSEQ) is
 * checked and not kept: MODSEQ is per message here, which §3.1.5
 * allows.
 */
static int
p_search_modseq(struct ps *s, struct imap_search_node *n)
{
	struct span	entry = { NULL, 0 }, type = { NULL, 0 };

	if (peek(s) == '"') {
		if (p_quoted(s, &entry) == -1 || expect_sp(s) == -1 ||
		    p_atom(s, &type) == -1 || expect_sp(s) == -1)
			return -1;
		if (!span_caseeq(type, "priv") && !span_caseeq(type, "shared") &&
		    !span_caseeq(type, "all"))
			return fail(s, "Invalid MODSEQ entry type");
	}
	return p_modseq(s, &n->num, true);
}

/* NOLINTBEGIN(misc-no-recursion): IMAP_DEPTH_MAX deep at most */
static int	p_search_key(struct ps *, uint16_t *);

static int
node_new(struct ps *s, enum imap_skey key, uint16_t *idx_out)
{
	struct imap_search	*se = &s->cmd->search;

	if (se->nnode == IMAP_SEARCH_NODES_MAX)
		return fail(s, "Too many search keys");
	if (se->node == NULL)
		se->node = xcalloc(IMAP_SEARCH_NODES_MAX, sizeof(*se->node));
	se->node[se->nnode].key = key;
	*idx_out = (uint16_t)se->nnode++;
	return 0;
}

/* Keys up to the end or ")", as children of parent (an AND). */
static int
p_search_keys(struct ps *s, uint16_t parent, bool in_list)
{
	struct imap_search_node	*n;
	uint16_t		 k = 0, prev = 0;

	for (;;) {
		if (p_search_key(s, &k) == -1)
			return -1;
		n = s->cmd->search.node;
		if (prev == 0)
			n[parent].child = k;
		else
			n[prev].next = k;
		prev = k;
		if (peek(s) != ' ')
			break;
		s->off++;
	}
	if (in_list)
		return 0;
	return at_end(s) ? 0 : fail(s, "Invalid search key");
}

static int
p_search_key(struct ps *s, uint16_t *idx_out)
{
	const struct skey_name	*k = NULL;
	struct imap_search_node	*n;
	struct span		 w;
	uint16_t		 idx = 0, a = 0, b = 0;
	size_t			 i;
	int			 c;

	c = peek(s);
	if (c == '(') {
		if (list_open(s) == -1 ||
		    node_new(s, IMAP_SK_AND, &idx) == -1 ||
		    p_search_keys(s, idx, true) == -1 || list_close(s) == -1)
			return -1;
		*idx_out = idx;
		return 0;
	}
	if ((c >= '0' && c <= '9') || c == '*' || c == '$') {
		if (node_new(s, IMAP_SK_SEQ, &idx) == -1 ||
		    p_seqset(s, &s->cmd->search.node[idx].seq) == -1)
			return -1;
		*idx_out = idx;
		return 0;
	}
	if (p_atom(s, &w) == -1)
		return fail(s, "Invalid search key");
	if (span_caseeq(w, "NOT")) {
		if (++s->depth > IMAP_DEPTH_MAX)
			return fail(s, "Search keys nested too deeply");
		if (node_new(s, IMAP_SK_NOT, &idx) == -1 ||
		    expect_sp(s) == -1 || p_search_key(s, &a) == -1)
			return -1;
		s->depth--;
		s->cmd->search.node[idx].child = a;
		*idx_out = idx;
		return 0;
	}
	if (span_caseeq(w, "OR")) {
		if (++s->depth > IMAP_DEPTH_MAX)
			return fail(s, "Search keys nested too deeply");
		if (node_new(s, IMAP_SK_OR, &idx) == -1 ||
		    expect_sp(s) == -1 || p_search_key(s, &a) == -1 ||
		    expect_sp(s) == -1 || p_search_key(s, &b) == -1)
			return -1;
		s->depth--;
		n = s->cmd->search.node;
		n[idx].child = a;
		n[a].next = b;
		*idx_out = idx;
		return 0;
	}
	for (i = 0; i < NELEM(skeys); i++)
		if (span_caseeq(w, skeys[i].name)) {
			k = &skeys[i];
			break;
		}
	if (k == NULL)
		return fail(s, "Unknown search key");
	if (node_new(s, k->key, &idx) == -1)
		return -1;
	n = &s->cmd->search.node[idx];
	n->flag = k->flag;
	*idx_out = idx;
	if (k->arg == SKA_NONE)
		return 0;
	if (expect_sp(s) == -1)
		return -1;
	switch (k->arg) {
	case SKA_STRING:
		return p_astring(s, &n->str);
	case SKA_FLAG:
		return p_atom(s, &n->str);
	case SKA_DATE:
		return p_date(s, &n->date);
	case SKA_NUMBER:
		if (k->key == IMAP_SK_MODSEQ)
			return p_search_modseq(s, n);
		return p_number(s, &n->num);
	case SKA_SEQ:
		return p_seqset(s, &n->seq);
	case SKA_HEADER:
		if (p_astring(s, &n->str) == -1 || expect_sp(s) == -1)
			return -1;
		return p_astring(s, &n->str2);
	default:
		return fail(s, "Invalid search key");
	}
}

/* NOLINTEND(misc-no-recursion) */

/*
 * search-return-opts = SP "RETURN" SP "(" [search-return-opt
 * *(SP search-return-opt)] ")" (RFC 4731 §3.1, RFC 5182 §2.4), when the
 * arguments start with it; 0 when they do not (nothing is taken).
 */
static int
p_search_return(struct ps *s)
{
	struct imap_search	*se = &s->cmd->search;
	struct span		 w = { NULL, 0 };
	size_t			 save = s->off;

	if (p_atom(s, &w) == 0 && span_caseeq(w, "RETURN"))
		se->esearch = true;
	else {
		s->off = save;
		s->err = NULL;
		return 0;
	}
	if (expect_sp(s) == -1 || list_open(s) == -1)
		return -1;
	while (peek(s) != ')') {
		if (p_atom(s, &w) == -1)
			return -1;
		if (span_caseeq(w, "MIN"))
			se->ret |= IMAP_SRET_MIN;
		else if (span_caseeq(w, "MAX"))
			se->ret |= IMAP_SRET_MAX;
		else if (span_caseeq(w, "ALL"))
			se->ret |= IMAP_SRET_ALL;
		else if (span_caseeq(w, "COUNT"))
			se->ret |= IMAP_SRET_COUNT;
		else if (span_caseeq(w, "SAVE"))
			se->ret |= IMAP_SRET_SAVE;
		else
			return fail(s, "Unknown search return option");
		if (peek(s) == ' ')
			s->off++;
		else if (peek(s) != ')')
			return fail(s, "Invalid return options");
	}
	if (list_close(s) == -1 || expect_sp(s) == -1)
		return -1;
	/* RFC 4731 §3.1: "RETURN ()" means ALL */
	if (se->ret == 0)
		se->ret = IMAP_SRET_ALL;
	return 0;
}

/*
 * search = "SEARCH" [search-return-opts] SP search-program;
 * search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)
 * (RFC 9051 §9 with ESEARCH's RETURN, RFC 4731 §3, RFC 5182 §2).
 */
static int
p_search(struct ps *s)
{
	struct imap_search	*se = &s->cmd->search;
	struct span		 w;
	size_t			 save;
	uint16_t		 root;

	if (node_new(s, IMAP_SK_AND, &root) == -1 || p_search_return(s) == -1)
		return -1;
	save = s->off;
	if (p_atom(s, &w) == 0 && span_caseeq(w, "CHARSET")) {
		if (expect_sp(s) == -1 || p_astring(s, &se->charset) == -1 ||
		    expect_sp(s) == -1)
			return -1;
	} else
		s->off = save;
	s->err = NULL;
	return p_search_keys(s, root, false);
}

/*
 * sort = ["UID" SP] "SORT" SP sort-criteria SP charset 1*(SP search-key)
 * thread = ["UID" SP] "THREAD" SP thread-alg SP charset 1*(SP search-key)
 * (RFC 5256 §5, RFC 5957 §3), SORT with ESORT's [search-return-opts]
 * before the criteria (RFC 5267 §3.2).  imap_sort_parse() reads the
 * criteria or the algorithm and the charset, the search keys are
 * SEARCH's; the charset is checked as SEARCH's CHARSET is.
 */
static int
p_sort(struct ps *s, bool thread)
{
	struct imap_cmd	*c = s->cmd;
	const char	*err = NULL;
	size_t		 used = 0;
	uint16_t	 root;

	if (!thread && p_search_return(s) == -1)
		return -1;
	if (imap_sort_parse(span_make(s->p + s->off, s->len - s->off),
	    thread, &c->sort, &used, &err) == -1)
		return fail(s, err);
	s->off += used;
	c->search.charset = c->sort.charset;
	if (node_new(s, IMAP_SK_AND, &root) == -1)
		return -1;
	return p_search_keys(s, root, false);
}

/* --- the commands --- */

enum cmd_args {
	ARGS_NONE,
	ARGS_MAILBOX,		/* SELECT EXAMINE CREATE DELETE (UN)SUBSCRIBE */
	ARGS_OTHER,		/* a parser of its own */
};

struct cmd_def {
	const char		*name;
	enum imap_cmd_name	 cmd;
	enum cmd_args		 args;
	bool			 uid;	/* has a UID form */
};
static const struct cmd_def cmds[] = {
	{ "CAPABILITY", IMAP_CMD_CAPABILITY, ARGS_NONE, false },
	{ "NOOP", IMAP_CMD_NOOP, ARGS_NONE, false },
	{ "LOGOUT", IMAP_CMD_LOGOUT, ARGS_NONE, false },
	{ "STARTTLS", IMAP_CMD_STARTTLS, ARGS_NONE, false },
	{ "AUTHENTICATE", IMAP_CMD_AUTHENTICATE, ARGS_OTHER, false },
	{ "LOGIN", IMAP_CMD_LOGIN, ARGS_OTHER, false },
	{ "ENABLE", IMAP_CMD_ENABLE, ARGS_OTHER, false },
	{ "ID", IMAP_CMD_ID, ARGS_OTHER, false },
	{ "NAMESPACE", IMAP_CMD_NAMESPACE, ARGS_NONE, false },
	{ "SELECT", IMAP_CMD_SELECT, ARGS_OTHER, false },
	{ "EXAMINE", IMAP_CMD_EXAMINE, ARGS_OTHER, false },
	{ "CREATE", IMAP_CMD_CREATE, ARGS_OTHER, false },
	{ "DELETE", IMAP_CMD_DELETE, ARGS_MAILBOX, false },
	{ "RENAME", IMAP_CMD_RENAME, ARGS_OTHER, false },
	{ "SUBSCRIBE", IMAP_CMD_SUBSCRIBE, ARGS_MAILBOX, false },
	{ "UNSUBSCRIBE", IMAP_CMD_UNSUBSCRIBE, ARGS_MAILBOX, false },
	{ "LIST", IMAP_CMD_LIST, ARGS_OTHER, false },
	{ "LSUB", IMAP_CMD_LSUB, ARGS_OTHER, false },
	{ "STATUS", IMAP_CMD_STATUS, ARGS_OTHER, false },
	{ "APPEND", IMAP_CMD_APPEND, ARGS_OTHER, false },
	{ "IDLE", IMAP_CMD_IDLE, ARGS_NONE, false },
	{ "CHECK", IMAP_CMD_CHECK, ARGS_NONE, false },
	{ "CLOSE", IMAP_CMD_CLOSE, ARGS_NONE, false },
	{ "UNSELECT", IMAP_CMD_UNSELECT, ARGS_NONE, false },
	{ "EXPUNGE", IMAP_CMD_EXPUNGE, ARGS_OTHER, true },
	{ "SEARCH", IMAP_CMD_SEARCH, ARGS_OTHER, true },
	{ "FETCH", IMAP_CMD_FETCH, ARGS_OTHER, true },
	{ "STORE", IMAP_CMD_STORE, ARGS_OTHER, true },
	{ "COPY", IMAP_CMD_COPY, ARGS_OTHER, true },
	{ "MOVE", IMAP_CMD_MOVE, ARGS_OTHER, true },
	{ "SORT", IMAP_CMD_SORT, ARGS_OTHER, true },
	{ "THREAD", IMAP_CMD_THREAD, ARGS_OTHER, true },
	{ "GETQUOTA", IMAP_CMD_GETQUOTA, ARGS_OTHER, false },
	{ "GETQUOTAROOT", IMAP_CMD_GETQUOTAROOT, ARGS_MAILBOX, false },
	{ "SETQUOTA", IMAP_CMD_SETQUOTA, ARGS_OTHER, false },
};

/* AUTHENTICATE SP auth-type [SP (base64 / "=")] (RFC 4959 §3) */
static int
p_authenticate(struct ps *s, struct imap_cmd *c)
{
	size_t	start;

	if (p_atom(s, &c->user) == -1)
		return -1;
	if (peek(s) != ' ')
		return 0;
	s->off++;
	start = s->off;
	while (!at_end(s) && ((peek(s) >= 'A' && peek(s) <= 'Z') ||
	    (peek(s) >= 'a' && peek(s) <= 'z') || (peek(s) >= '0' &&
	    peek(s) <= '9') || peek(s) == '+' || peek(s) == '/' ||
	    peek(s) == '='))
		s->off++;
	if (s->off == start)
		return fail(s, "Invalid initial response");
	c->pass = span_make(s->p + start, s->off - start);
	c->has_ir = true;
	return 0;
}

/* ENABLE 1*(SP capability) (RFC 5161 §3.1) */
static int
p_enable(struct ps *s, struct imap_cmd *c)
{
	for (;;) {
		if (c->nenable == IMAP_ENABLE_MAX)
			return fail(s, "Too many capabilities");
		if (p_atom(s, &c->enable[c->nenable]) == -1)
			return -1;
		c->nenable++;
		if (peek(s) != ' ')
			return 0;
		s->off++;
	}
}

/* ID ("(" string SP nstring *(SP string SP nstring) ")" / nil) (2971) */
static int
p_id(struct ps *s, struct imap_cmd *c)
{
	struct span	k, v;
	bool		nil;

	if (peek(s) != '(') {
		if (p_nstring(s, &v, &nil) == -1 || !nil)
			return fail(s, "Expected NIL or a list");
		return 0;
	}
	if (list_open(s) == -1)
		return -1;
	while (peek(s) != ')') {
		if (c->nid == IMAP_ID_PAIRS_MAX)
			return fail(s, "Too many ID fields");
		if (p_string(s, &k) == -1 || expect_sp(s) == -1 ||
		    p_nstring(s, &v, &nil) == -1)
			return -1;
		/* RFC 2971 §3.3: field names at most 30 octets */
		if (k.len > 30)
			return fail(s, "ID field name too long");
		c->nid++;
		if (peek(s) == ' ')
			s->off++;
		else if (peek(s) != ')')
			return fail(s, "Invalid ID list");
	}
	return list_close(s);
}

/*
 * qresync-param = "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
 * [SP known-uids] [SP seq-match-data] ")"; seq-match-data = "("
 * known-sequence-set SP known-uid-set ")" (RFC 7162 §7).
 */
static int
p_qresync(struct ps *s, struct imap_cmd *c)
{
	c->qresync = true;
	if (list_open(s) == -1 || p_nz32(s, &c->qr_uidvalidity) == -1 ||
	    expect_sp(s) == -1 || p_modseq(s, &c->qr_modseq, false) == -1)
		return -1;
	if (peek(s) == ' ') {
		s->off++;
		if (peek(s) != '(' && p_seqset(s, &c->qr_known) == -1)
			return -1;
		if (c->qr_known.n > 0 && peek(s) == ' ')
			s->off++;
		if (peek(s) == '(' && (list_open(s) == -1 ||
		    p_seqset(s, &c->qr_seqs) == -1 || expect_sp(s) == -1 ||
		    p_seqset(s, &c->qr_uids) == -1 || list_close(s) == -1))
			return -1;
	}
	if (c->qr_known.last || c->qr_seqs.last || c->qr_uids.last)
		return fail(s, "Invalid QRESYNC parameters");
	return list_close(s);
}

/* select-params = SP "(" select-param *(SP select-param) ")" */
static int
p_select(struct ps *s, struct imap_cmd *c)
{
	struct span	w;

	if (p_mailbox(s, &c->mailbox) == -1)
		return -1;
	if (peek(s) != ' ')
		return 0;
	s->off++;
	if (list_open(s) == -1)
		return -1;
	while (peek(s) != ')') {
		if (p_atom(s, &w) == -1)
			return -1;
		if (span_caseeq(w, "CONDSTORE"))
			c->condstore = true;
		else if (span_caseeq(w, "QRESYNC")) {
			if (c->qresync)
				return fail(s, "QRESYNC given twice");
			if (expect_sp(s) == -1 || p_qresync(s, c) == -1)
				return -1;
		} else
			return fail(s, "Unknown SELECT parameter");
		if (peek(s) == ' ')
			s->off++;
		else if (peek(s) != ')')
			return fail(s, "Invalid SELECT parameters");
	}
	return list_close(s);
}

struct status_name {
	const char	*name;
	unsigned	 bit;
};
static const struct status_name status_items[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES },
	{ "RECENT", IMAP_STATUS_RECENT },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN", IMAP_STATUS_UNSEEN },
	{ "SIZE", IMAP_STATUS_SIZE },
	{ "DELETED", IMAP_STATUS_DELETED },
	{ "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
	{ "DELETED-STORAGE", IMAP_STATUS_DELETED_STORAGE },
	{ "MAILBOXID", IMAP_STATUS_MAILBOXID },
};

/* "(" status-att *(SP status-att) ")" into cmd->status */
static int
p_status_atts(struct ps *s, struct imap_cmd *c)
{
	struct span	w = { NULL, 0 };
	size_t		i;

	if (list_open(s) == -1)
		return -1;
	for (;;) {
		if (p_atom(s, &w) == -1)
			return -1;
		for (i = 0; i < NELEM(status_items); i++)
			if (span_caseeq(w, status_items[i].name))
				break;
		if (i == NELEM(status_items))
			return fail(s, "Unknown status item");
		c->status |= status_items[i].bit;
		if (peek(s) != ' ')
			break;
		s->off++;
	}
	return list_close(s);
}

/* STATUS SP mailbox SP "(" status-att *(SP status-att) ")" */
static int
p_status(struct ps *s, struct imap_cmd *c)
{
	if (p_mailbox(s, &c->mailbox) == -1 || expect_sp(s) == -1)
		return -1;
	return p_status_atts(s, c);
}

/* literal8 = "~{" number64 ["+"] "}" CRLF *OCTET (RFC 3516 §4.1) */
static int
p_literal8(struct ps *s, struct span *out)
{
	uint64_t	n = 0;

	s->off++;	/* "~" */
	if (expect_char(s, '{', "Invalid literal8") == -1 ||
	    p_number(s, &n) == -1)
		return -1;
	if (peek(s) == '+')
		s->off++;
	if (expect_char(s, '}', "Invalid literal8") == -1 ||
	    expect_char(s, '\r', "Literal must end its line") == -1 ||
	    expect_char(s, '\n', "Literal must end its line") == -1)
		return -1;
	if (n > s->len - s->off)
		return fail(s, "Literal longer than the command");
	*out = span_make(s->p + s->off, (size_t)n);
	s->off += (size_t)n;
	return 0;
}

/*
 * append-message = [SP flag-list] [SP date-time] SP append-data (RFC
 * 3502 §6.3.11 as RFC 4466 §2.1 extends it), the leading space taken;
 * append-data = literal / "UTF8" SP "(" literal8 ")" (RFC 6855 §4).
 */
static int
p_append_msg(struct ps *s, struct imap_append_msg *a)
{
	if (peek(s) == '(') {
		if (p_flag_list(s, &a->flags) == -1 || expect_sp(s) == -1)
			return -1;
		a->has_flags = true;
	}
	if (peek(s) == '"') {
		if (p_date_time(s, &a->date) == -1 || expect_sp(s) == -1)
			return -1;
		a->has_date = true;
	}
	if (s->len - s->off >= 5 && strncasecmp(s->p + s->off, "UTF8 ", 5) ==
	    0) {
		s->off += 5;
		a->utf8 = true;
		if (list_open(s) == -1)
			return -1;
		if (peek(s) != '~')
			return fail(s, "Expected UTF8 (~{n} message)");
		if (p_literal8(s, &a->literal) == -1)
			return -1;
		return list_close(s);
	}
	if (peek(s) != '{')
		return fail(s, "Expected the message as a literal");
	return p_literal(s, &a->literal);
}

/* APPEND SP mailbox 1*append-message (MULTIAPPEND, RFC 3502 §6.3.11) */
static int
p_append(struct ps *s, struct imap_cmd *c)
{
	struct imap_append_msg	*a;

	if (p_mailbox(s, &c->mailbox) == -1)
		return -1;
	c->app = xcalloc(IMAP_APPEND_MSGS_MAX, sizeof(*c->app));
	while (peek(s) == ' ') {
		if (c->napp == IMAP_APPEND_MSGS_MAX)
			return fail(s, "Too many messages");
		s->off++;
		a = &c->app[c->napp++];
		if (p_append_msg(s, a) == -1)
			return -1;
	}
	if (c->napp == 0)
		return fail(s, "Missing arguments");
	/* The first message where a single APPEND has always been. */
	c->flags = c->app[0].flags;
	c->app[0].flags.kw = NULL;
	c->app[0].flags.nkw = 0;
	c->has_flags = c->app[0].has_flags;
	c->has_date = c->app[0].has_date;
	c->date = c->app[0].date;
	c->literal = c->app[0].literal;
	return 0;
}

/*
 * CREATE SP mailbox [SP "(" create-param *(SP create-param) ")"] (RFC
 * 4466 §2.2); create-param = "USE" SP "(" [use-attr *(SP use-attr)]
 * ")" (RFC 6154 §6), use-attr = "\" atom.  Any other parameter: BAD.
 */
static int
p_create(struct ps *s, struct imap_cmd *c)
{
	struct span	w = { NULL, 0 };

	if (p_mailbox(s, &c->mailbox) == -1)
		return -1;
	if (peek(s) != ' ')
		return 0;
	s->off++;
	if (list_open(s) == -1 || p_atom(s, &w) == -1)
		return -1;
	if (!span_caseeq(w, "USE"))
		return fail(s, "Unknown CREATE parameter");
	if (expect_sp(s) == -1 || list_open(s) == -1)
		return -1;
	while (peek(s) != ')') {
		if (c->nuse == IMAP_CREATE_USE_MAX)
			return fail(s, "Too many special uses");
		if (expect_char(s, '\\', "Expected a special-use attribute") ==
		    -1 || p_atom(s, &w) == -1)
			return -1;
		c->use[c->nuse++] = span_make(w.ptr - 1, w.len + 1);
		if (list_next(s, "Invalid USE list") == -1)
			return -1;
	}
	if (list_close(s) == -1)
		return -1;
	return list_close(s);
}

struct list_opt {
	const char	*name;
	unsigned	 bit;
};
static const struct list_opt list_sel_opts[] = {
	{ "SUBSCRIBED", IMAP_LIST_SEL_SUBSCRIBED },
	{ "REMOTE", IMAP_LIST_SEL_REMOTE },
	{ "RECURSIVEMATCH", IMAP_LIST_SEL_RECURSIVEMATCH },
	{ "SPECIAL-USE", IMAP_LIST_SEL_SPECIALUSE },
};
static const struct list_opt list_ret_opts[] = {
	{ "SUBSCRIBED", IMAP_LIST_RET_SUBSCRIBED },
	{ "CHILDREN", IMAP_LIST_RET_CHILDREN },
	{ "SPECIAL-USE", IMAP_LIST_RET_SPECIALUSE },
	{ "STATUS", IMAP_LIST_RET_STATUS },
};

/* "(" [option *(SP option)] ")", each a name of the table. */
static int
p_list_opts(struct ps *s, struct imap_cmd *c, const struct list_opt *t,
    size_t nt, unsigned *bits)
{
	struct span	w = { NULL, 0 };
	size_t		i;

	if (list_open(s) == -1)
		return -1;
	while (peek(s) != ')') {
		if (p_atom(s, &w) == -1)
			return -1;
		for (i = 0; i < nt; i++)
			if (span_caseeq(w, t[i].name))
				break;
		/* RFC 5258 §3: an option we do not know is an error */
		if (i == nt)
			return fail(s, "Unknown LIST option");
		*bits |= t[i].bit;
		if (t[i].bit == IMAP_LIST_RET_STATUS && t == list_ret_opts) {
			/* RFC 5819 §4: STATUS SP "(" status-att ... ")" */
			if (expect_sp(s) == -1 ||
			    p_status_atts(s, c) == -1)
				return -1;
		}
		if (list_next(s, "Invalid LIST options") == -1)
			return -1;
	}
	return list_close(s);
}

/*
 * LIST [SP list-select-opts] SP mailbox SP mbox-or-pat
 * [SP list-return-opts] (RFC 5258 §6); mbox-or-pat = list-mailbox /
 * "(" list-mailbox *(SP list-mailbox) ")".  LSUB is the basic form.
 */
static int
p_list(struct ps *s, struct imap_cmd *c)
{
	struct span	w = { NULL, 0 };

	if (c->name == IMAP_CMD_LIST && peek(s) == '(') {
		c->list_ext = true;
		if (p_list_opts(s, c, list_sel_opts, NELEM(list_sel_opts),
		    &c->list_sel) == -1 || expect_sp(s) == -1)
			return -1;
	}
	/* reference may be empty: "" */
	if (p_astring(s, &c->mailbox) == -1 || expect_sp(s) == -1)
		return -1;
	if (c->mailbox.len > IMAP_MAILBOX_MAX)
		return fail(s, "Reference too long");
	if (c->name == IMAP_CMD_LIST && peek(s) == '(') {
		c->list_ext = true;
		if (list_open(s) == -1)
			return -1;
		for (;;) {
			if (c->nlist_pat == IMAP_LIST_PATTERNS_MAX)
				return fail(s, "Too many patterns");
			if (p_list_mailbox(s, &c->list_pat[c->nlist_pat]) ==
			    -1)
				return -1;
			c->nlist_pat++;
			if (peek(s) != ' ')
				break;
			s->off++;
		}
		if (list_close(s) == -1)
			return -1;
	} else {
		if (p_list_mailbox(s, &c->list_pat[0]) == -1)
			return -1;
		c->nlist_pat = 1;
	}
	c->mailbox2 = c->list_pat[0];
	if (c->name == IMAP_CMD_LIST && peek(s) == ' ') {
		s->off++;
		if (p_atom(s, &w) == -1 || !span_caseeq(w, "RETURN"))
			return fail(s, "Expected RETURN");
		c->list_ext = true;
		if (expect_sp(s) == -1 || p_list_opts(s, c, list_ret_opts,
		    NELEM(list_ret_opts), &c->list_ret) == -1)
			return -1;
	}
	/* RFC 5258 §3.1: RECURSIVEMATCH alone is an error */
	if ((c->list_sel & IMAP_LIST_SEL_RECURSIVEMATCH) &&
	    !(c->list_sel & IMAP_LIST_SEL_SUBSCRIBED))
		return fail(s, "RECURSIVEMATCH needs SUBSCRIBED");
	return 0;
}

/* SETQUOTA SP quota-root SP setquota-list (RFC 9208 §6.3), parsed
 * only to be refused. */
static int
p_setquota(struct ps *s, struct imap_cmd *c)
{
	struct span	w = { NULL, 0 };
	uint64_t	n;

	if (p_astring(s, &c->mailbox) == -1 || expect_sp(s) == -1 ||
	    list_open(s) == -1)
		return -1;
	while (peek(s) != ')') {
		if (p_atom(s, &w) == -1 || expect_sp(s) == -1 ||
		    p_number(s, &n) == -1)
			return -1;
		if (list_next(s, "Invalid quota list") == -1)
			return -1;
	}
	return list_close(s);
}

/*
 * store-modifiers = SP "(" store-modifier *(SP store-modifier) ")";
 * store-modifier = "UNCHANGEDSINCE" SP mod-sequence-valzer (RFC 7162
 * §7, RFC 4466 §2.5), then the SP before the flags.
 */
static int
p_store_modifiers(struct ps *s, struct imap_cmd *c)
{
	struct span	w = { NULL, 0 };

	if (peek(s) != '(')
		return 0;
	if (list_open(s) == -1)
		return -1;
	for (;;) {
		if (p_atom(s, &w) == -1)
			return -1;
		if (!span_caseeq(w, "UNCHANGEDSINCE") || c->has_unchangedsince)
			return fail(s, "Unknown STORE modifier");
		if (expect_sp(s) == -1 ||
		    p_modseq(s, &c->unchangedsince, true) == -1)
			return -1;
		c->has_unchangedsince = true;
		if (peek(s) != ' ')
			break;
		s->off++;
	}
	if (list_close(s) == -1)
		return -1;
	return expect_sp(s);
}

/* store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list /
 * (flag *(SP flag))) */
static int
p_store(struct ps *s, struct imap_cmd *c)
{
	struct span	w;
	size_t		start;

	if (p_seqset(s, &c->seq) == -1 || expect_sp(s) == -1 ||
	    p_store_modifiers(s, c) == -1)
		return -1;
	c->store_op = IMAP_STORE_SET;
	if (peek(s) == '+' || peek(s) == '-') {
		c->store_op = peek(s) == '+' ? IMAP_STORE_ADD :
		    IMAP_STORE_REMOVE;
		s->off++;
	}
	start = s->off;
	while (!at_end(s) && atom_char(peek(s)))
		s->off++;
	w = span_make(s->p + start, s->off - start);
	if (span_caseeq(w, "FLAGS.SILENT"))
		c->silent = true;
	else if (!span_caseeq(w, "FLAGS"))
		return fail(s, "Expected FLAGS, +FLAGS or -FLAGS");
	if (expect_sp(s) == -1)
		return -1;
	if (peek(s) == '(')
		return p_flag_list(s, &c->flags);
	for (;;) {
		if (p_flag(s, &c->flags) == -1)
			return -1;
		if (peek(s) != ' ')
			return 0;
		s->off++;
	}
}

static int
p_args(struct ps *s, struct imap_cmd *c)
{
	switch (c->name) {
	case IMAP_CMD_AUTHENTICATE:
		return p_authenticate(s, c);
	case IMAP_CMD_LOGIN:
		if (p_astring(s, &c->user) == -1 || expect_sp(s) == -1)
			return -1;
		return p_astring(s, &c->pass);
	case IMAP_CMD_ENABLE:
		return p_enable(s, c);
	case IMAP_CMD_ID:
		return p_id(s, c);
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE:
		return p_select(s, c);
	case IMAP_CMD_RENAME:
		if (p_mailbox(s, &c->mailbox) == -1 || expect_sp(s) == -1)
			return -1;
		return p_mailbox(s, &c->mailbox2);
	case IMAP_CMD_LIST:
	case IMAP_CMD_LSUB:
		return p_list(s, c);
	case IMAP_CMD_CREATE:
		return p_create(s, c);
	case IMAP_CMD_GETQUOTA:
		/* quota-root = astring; ours is "" (RFC 9208 §6.1) */
		return p_astring(s, &c->mailbox);
	case IMAP_CMD_SETQUOTA:
		return p_setquota(s, c);
	case IMAP_CMD_STATUS:
		return p_status(s, c);
	case IMAP_CMD_APPEND:
		return p_append(s, c);
	case IMAP_CMD_EXPUNGE:
		/* only UID EXPUNGE takes an argument (RFC 4315 §2.1) */
		return p_seqset(s, &c->seq);
	case IMAP_CMD_SEARCH:
		return p_search(s);
	case IMAP_CMD_SORT:
	case IMAP_CMD_THREAD:
		return p_sort(s, c->name == IMAP_CMD_THREAD);
	case IMAP_CMD_FETCH:
		if (p_seqset(s, &c->seq) == -1 || expect_sp(s) == -1 ||
		    p_fetch(s) == -1)
			return -1;
		return p_fetch_modifiers(s, c);
	case IMAP_CMD_STORE:
		return p_store(s, c);
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
		if (p_seqset(s, &c->seq) == -1 || expect_sp(s) == -1)
			return -1;
		return p_mailbox(s, &c->mailbox);
	default:
		fatalx("imap_parse: no argument parser for %d",
		    (int)c->name);
	}
}

int
imap_parse_command(const char *p, size_t len, struct imap_cmd *c,
    const char **err_out)
{
	const struct cmd_def	*d = NULL;
	struct ps		 s;
	struct span		 w;
	size_t			 i, start;

	memset(c, 0, sizeof(*c));
	memset(&s, 0, sizeof(s));
	/* Unescaped strings are never longer than the command. */
	buf_init(&c->arena, len + 1);
	if (len > 0 && buf_append(&c->arena, p, len) == -1)
		fatalx("imap_parse: arena");
	buf_reset(&c->arena);
	s.p = p;
	s.cmd = c;
	/* The final CRLF; the reader made sure it is there. */
	if (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n') {
		*err_out = "Line must end with CRLF";
		return -1;
	}
	s.len = len - 2;

	for (i = 0; i < s.len && i <= IMAP_TAG_MAX && tag_char(
	    (unsigned char)p[i]); i++)
		;
	if (i == 0 || i > IMAP_TAG_MAX || i == s.len || p[i] != ' ') {
		*err_out = i == 0 || i == s.len ? "Missing tag or command" :
		    i > IMAP_TAG_MAX ? "Tag too long" : "Invalid tag";
		return -1;
	}
	c->tag = span_make(p, i);
	s.off = i + 1;
	start = s.off;
	while (!at_end(&s) && atom_char(peek(&s)))
		s.off++;
	w = span_make(p + start, s.off - start);
	if (span_caseeq(w, "UID")) {
		c->uid = true;
		if (expect_sp(&s) == -1)
			goto bad;
		start = s.off;
		while (!at_end(&s) && atom_char(peek(&s)))
			s.off++;
		w = span_make(p + start, s.off - start);
	}
	for (i = 0; i < NELEM(cmds); i++)
		if (span_caseeq(w, cmds[i].name)) {
			d = &cmds[i];
			break;
		}
	if (d == NULL || (c->uid && !d->uid)) {
		fail(&s, w.len == 0 ? "Missing command" : c->uid ?
		    "Unknown UID command" : "Unknown command");
		goto bad;
	}
	c->name = d->cmd;
	if (d->args == ARGS_NONE ||
	    (d->cmd == IMAP_CMD_EXPUNGE && !c->uid)) {
		if (!at_end(&s)) {
			fail(&s, "No arguments allowed");
			goto bad;
		}
		return 0;
	}
	if (expect_sp(&s) == -1)
		goto bad;
	if (d->args == ARGS_MAILBOX) {
		if (p_mailbox(&s, &c->mailbox) == -1)
			goto bad;
	} else if (p_args(&s, c) == -1)
		goto bad;
	if (!at_end(&s)) {
		fail(&s, "Unexpected extra arguments");
		goto bad;
	}
	return 0;
bad:
	*err_out = s.err != NULL ? s.err : "Syntax error";
	return -1;
}

void
imap_cmd_free(struct imap_cmd *c)
{
	size_t	i;

	free(c->seq.r);
	free(c->qr_known.r);
	free(c->qr_seqs.r);
	free(c->qr_uids.r);
	free(c->flags.kw);
	if (c->fetch.sec != NULL)
		for (i = 0; i < c->fetch.nsec; i++)
			free(c->fetch.sec[i].fields);
	free(c->fetch.sec);
	if (c->search.node != NULL)
		for (i = 0; i < c->search.nnode; i++)
			free(c->search.node[i].seq.r);
	free(c->search.node);
	if (c->app != NULL)
		for (i = 0; i < c->napp; i++)
			free(c->app[i].flags.kw);
	free(c->app);
	buf_free(&c->arena);
	memset(c, 0, sizeof(*c));
}

const char *
imap_cmd_label(const struct imap_cmd *c)
{
	size_t	i;

	for (i = 0; i < NELEM(cmds); i++)
		if (cmds[i].cmd == c->name) {
			if (!c->uid)
				return cmds[i].name;
			switch (c->name) {
			case IMAP_CMD_EXPUNGE:
				return "UID EXPUNGE";
			case IMAP_CMD_SEARCH:
				return "UID SEARCH";
			case IMAP_CMD_FETCH:
				return "UID FETCH";
			case IMAP_CMD_STORE:
				return "UID STORE";
			case IMAP_CMD_COPY:
				return "UID COPY";
			case IMAP_CMD_SORT:
				return "UID SORT";
			case IMAP_CMD_THREAD:
				return "UID THREAD";
			default:
				return "UID MOVE";
			}
		}
	return "?";
}

bool
imap_seqset_contains(const struct imap_seqset *set, uint32_t n,
    uint32_t max)
{
	uint32_t	lo, hi, t;
	size_t		i;

	for (i = 0; i < set->n; i++) {
		lo = set->r[i].lo == IMAP_SEQ_STAR ? max : set->r[i].lo;
		hi = set->r[i].hi == IMAP_SEQ_STAR ? max : set->r[i].hi;
		if (lo > hi) {
			t = lo;
			lo = hi;
			hi = t;
		}
		if (n >= lo && n <= hi)
			return true;
	}
	return false;
}
