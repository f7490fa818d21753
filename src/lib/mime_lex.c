/*
 * mime_lex: the lexical primitives of RFC 5322 §3.2 (CFWS, quoted
 * strings, atoms) and RFC 2045 §5.1 (tokens) that every structured
 * field parser of mime_hdr.h is built from.  Pure; the bytes are a
 * hostile message's, so each loop stops at the span's end and nothing
 * here looks past it.
 */
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "mime_hdr.h"

static void
lex_skip(struct span *s, size_t n)
{
	s->ptr += n;
	s->len -= n;
}

static bool
lex_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * RFC 2045 §5.1 tspecials, and SPACE and CTLs.  Bytes >= 0x80 are let
 * into tokens: real mail puts raw 8-bit text in parameter values and
 * Dovecot takes them.
 */
static bool
lex_is_token(unsigned char c)
{
	if (c <= ' ' || c == 0x7f)
		return false;
	switch (c) {
	case '(': case ')': case '<': case '>': case '@': case ',':
	case ';': case ':': case '\\': case '"': case '/': case '[':
	case ']': case '?': case '=':
		return false;
	default:
		return true;
	}
}

/* RFC 5322 §3.2.3 atext, with 8-bit bytes (RFC 6532 §3.2 UTF-8). */
static bool
lex_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '=': case '?':
	case '^': case '_': case '`': case '{': case '|': case '}':
	case '~':
		return true;
	default:
		return false;
	}
}

/*
 * A comment (RFC 5322 §3.2.2) at the start of *s, which is '('.  Nested
 * comments only count a depth, so the hostile "((((..." costs no stack;
 * an unterminated comment runs to the end of the value.
 */
static void
lex_comment(struct span *s)
{
	size_t	depth = 0, i;

	for (i = 0; i < s->len; i++) {
		if (s->ptr[i] == '\\' && i + 1 < s->len)
			i++;
		else if (s->ptr[i] == '(')
			depth++;
		else if (s->ptr[i] == ')' && --depth == 0) {
			i++;
			break;
		}
	}
	lex_skip(s, i);
}

void
mime_lex_cfws(struct span *s)
{
	while (s->len > 0) {
		if (lex_is_wsp((unsigned char)s->ptr[0]))
			lex_skip(s, 1);
		else if (s->ptr[0] == '(')
			lex_comment(s);
		else
			break;
	}
}

bool
mime_lex_quoted(struct span *s, struct buf *out)
{
	size_t	i;
	char	c;

	if (s->len == 0 || s->ptr[0] != '"')
		return false;
	for (i = 1; i < s->len; i++) {
		c = s->ptr[i];
		if (c == '"') {
			i++;
			break;
		}
		/*
		 * Unfolding (RFC 5322 §2.2.3) takes the line end out and
		 * keeps the WSP after it; a line end inside a quoted
		 * string that is not folding is dropped too.
		 */
		if (c == '\r' || c == '\n')
			continue;
		if (c == '\\' && i + 1 < s->len) {
			c = s->ptr[++i];
			/* A quoted line end is still not content. */
			if (c == '\r' || c == '\n')
				continue;
		}
		/* out's ceiling is the caller's: past it the rest is lost */
		(void)buf_append_char(out, c);
	}
	lex_skip(s, i);
	return true;
}

bool
mime_lex_token(struct span *s, struct span *tok_out)
{
	size_t	i;

	for (i = 0; i < s->len && lex_is_token((unsigned char)s->ptr[i]); i++)
		;
	*tok_out = span_make(s->ptr, i);
	lex_skip(s, i);
	return i > 0;
}

/*
 * With dot, dots are taken anywhere in the run (leading, trailing,
 * doubled: "john..doe" is obsolete local-part syntax that real mail
 * still carries, RFC 5322 §4.4); the caller judges the result.
 */
bool
mime_lex_atom(struct span *s, bool dot, struct span *atom_out)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < s->len; i++) {
		c = (unsigned char)s->ptr[i];
		if (!lex_is_atext(c) && !(dot && c == '.'))
			break;
	}
	*atom_out = span_make(s->ptr, i);
	lex_skip(s, i);
	return i > 0;
}
