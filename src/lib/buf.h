/*
 * buf: owned, growable, length-tracked byte strings with a ceiling, and
 * span: a borrowed pointer plus length.  Every byte that came from a peer
 * is handled through one of these; nothing here calls strlen() on input.
 */
#ifndef CACHET_BUF_H
#define CACHET_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*data;	/* NUL after len for convenience; may hold NULs */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* growth past this fails with EMSGSIZE */
};

struct span {
	const char	*ptr;
	size_t		 len;
};

/* Initialise an empty buffer that may grow to at most max bytes. */
void	buf_init(struct buf *b, size_t max);

/* Release the storage; the buffer is empty and may be reused. */
void	buf_free(struct buf *b);

/* Forget the contents, keep the storage. */
void	buf_reset(struct buf *b);

/*
 * Room for extra more bytes (and the NUL after them) without growing: a
 * reader may then write up to cap - len - 1 bytes at data + len and add
 * them to len itself, never past max.  -1 with errno EMSGSIZE when len +
 * extra passes max.
 */
int	buf_reserve(struct buf *b, size_t extra);

/* Append len bytes; -1 with errno EMSGSIZE when max would be passed. */
int	buf_append(struct buf *b, const void *p, size_t len);
int	buf_append_str(struct buf *b, const char *s);
int	buf_append_span(struct buf *b, struct span s);
int	buf_append_char(struct buf *b, char c);
/* The UTF-8 form of a code point (at most U+10FFFF, not checked). */
int	buf_append_utf8(struct buf *b, uint32_t cp);

/* printf-style append for our own text (never a peer's format). */
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Remove the first n bytes. */
void	buf_consume(struct buf *b, size_t n);

struct span	span_make(const char *p, size_t len);
struct span	span_str(const char *s);
bool		span_eq(struct span a, const char *s);
bool		span_caseeq(struct span a, const char *s);
bool		span_startswith_case(struct span a, const char *prefix);
/* Strip leading and trailing spaces and tabs. */
struct span	span_trim(struct span s);
/*
 * Take the next space-separated word off *rest (runs of spaces count as
 * one); false when nothing but spaces is left.
 */
bool		span_next_word(struct span *rest, struct span *word_out);
/*
 * 1*DIGIT into *out: -1 when v is empty or not all digits; otherwise 0,
 * with *overflow_out set (and *out meaningless) when it exceeds 64 bits.
 */
int		span_to_u64(struct span v, uint64_t *out, bool *overflow_out);

/*
 * Splitting protocol input into LF-terminated lines of bounded length.
 * A line longer than its limit cannot be held until its end: it is
 * handed over in pieces (the first exactly limit bytes), the last one
 * through its LF, so that the caller can answer "line too long" once,
 * then read on.  *discarding is the splitter's state between calls
 * (false at the start of a session; true inside an overlong line).
 */
enum span_line {
	SPAN_LINE_MORE,		/* no LF yet and it may still fit: n is 0 */
	SPAN_LINE_WHOLE,	/* p[0..n) is a line, through its LF */
	SPAN_LINE_LONG,		/* p[0..n) is a piece of an overlong line */
	SPAN_LINE_LONG_END,	/* p[0..n) is its last piece, through LF */
};

/*
 * Look at p[0..len), len > 0, where a line starts (or an overlong one
 * goes on): what is there and, in *n_out, how many bytes it covers.
 * limit (> 0) is the longest line allowed, LF included; it is not used
 * while *discarding.
 */
enum span_line	span_line_next(bool *discarding, const char *p, size_t len,
		    size_t limit, size_t *n_out);

#endif
