/*
 * buf: growable byte strings with a ceiling.  Used by every role; trusts
 * nothing about the bytes it holds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "util.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t	need, ncap;

	if (__builtin_add_overflow(b->len, extra, &need) || need > b->max) {
		errno = EMSGSIZE;
		return -1;
	}
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1) {
		if (__builtin_mul_overflow(ncap, 2, &ncap)) {
			ncap = need + 1;
			break;
		}
	}
	b->data = xrealloc(b->data, ncap);
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len) == -1)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_append_span(struct buf *b, struct span s)
{
	return buf_append(b, s.ptr, s.len);
}

int
buf_append_char(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_append_utf8(struct buf *b, uint32_t cp)
{
	char	u[4];
	size_t	n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(b, u, n);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;
	char	small[256];

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	if (buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

struct span
span_make(const char *p, size_t len)
{
	struct span	s = { p, len };

	return s;
}

struct span
span_str(const char *s)
{
	return span_make(s, strlen(s));
}

bool
span_eq(struct span a, const char *s)
{
	size_t	n = strlen(s);

	return a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}

bool
span_caseeq(struct span a, const char *s)
{
	size_t	n = strlen(s);

	return a.len == n && (n == 0 || strncasecmp(a.ptr, s, n) == 0);
}

bool
span_startswith_case(struct span a, const char *prefix)
{
	size_t	n = strlen(prefix);

	return a.len >= n && (n == 0 || strncasecmp(a.ptr, prefix, n) == 0);
}

struct span
span_trim(struct span s)
{
	while (s.len > 0 && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 &&
	    (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

bool
span_next_word(struct span *rest, struct span *word_out)
{
	size_t	i;

	while (rest->len > 0 && rest->ptr[0] == ' ') {
		rest->ptr++;
		rest->len--;
	}
	if (rest->len == 0)
		return false;
	for (i = 0; i < rest->len && rest->ptr[i] != ' '; i++)
		;
	*word_out = span_make(rest->ptr, i);
	rest->ptr += i;
	rest->len -= i;
	return true;
}

int
span_to_u64(struct span v, uint64_t *out, bool *overflow_out)
{
	uint64_t	n = 0;
	size_t		i;

	*overflow_out = false;
	if (v.len == 0)
		return -1;
	for (i = 0; i < v.len; i++) {
		if (v.ptr[i] < '0' || v.ptr[i] > '9')
			return -1;
		if (!*overflow_out &&
		    (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(v.ptr[i] - '0'), &n)))
			*overflow_out = true;
	}
	*out = n;
	return 0;
}

enum span_line
span_line_next(bool *discarding, const char *p, size_t len, size_t limit,
    size_t *n_out)
{
	const char	*lf;

	if (*discarding) {
		if ((lf = memchr(p, '\n', len)) == NULL) {
			*n_out = len;
			return SPAN_LINE_LONG;
		}
		*discarding = false;
		*n_out = (size_t)(lf - p) + 1;
		return SPAN_LINE_LONG_END;
	}
	if ((lf = memchr(p, '\n', len < limit ? len : limit)) != NULL) {
		*n_out = (size_t)(lf - p) + 1;
		return SPAN_LINE_WHOLE;
	}
	if (len < limit) {
		*n_out = 0;
		return SPAN_LINE_MORE;
	}
	*discarding = true;
	*n_out = limit;
	return SPAN_LINE_LONG;
}
