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

/* Append len bytes; -1 with errno EMSGSIZE when max would be passed. */
int	buf_append(struct buf *b, const void *p, size_t len);
int	buf_append_str(struct buf *b, const char *s);
int	buf_append_span(struct buf *b, struct span s);
int	buf_append_char(struct buf *b, char c);

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

#endif
