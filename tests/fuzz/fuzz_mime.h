/*
 * Shared by the mime_decode fuzz targets: the split-invariance check of
 * the streaming decoders and the UTF-8 check of the converters.  Each
 * broken invariant calls abort().
 */
#ifndef CACHET_FUZZ_MIME_H
#define CACHET_FUZZ_MIME_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime_decode.h"

/* A heap copy of exactly len bytes, so that a read past it trips ASan. */
static inline char *
fuzz_mime_copy(const uint8_t *data, size_t len)
{
	char	*copy;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(copy, data, len);
	return copy;
}

/*
 * data[0..2) is where to cut the rest: decoded whole and in the two
 * pieces, the outputs must be equal and at most max_out(len) long.
 */
static inline void
fuzz_mime_split(enum mime_cte cte, const uint8_t *data, size_t size,
    size_t (*max_out)(size_t))
{
	struct mime_b64	 b;
	struct mime_qp	 q;
	struct buf	 whole, split;
	char		*in;
	size_t		 cut, len;
	int		 rc;

	if (size < 2)
		return;
	len = size - 2;
	cut = ((size_t)data[0] << 8 | data[1]) % (len + 1);
	in = fuzz_mime_copy(data + 2, len);
	buf_init(&whole, 1 << 20);
	buf_init(&split, 1 << 20);
	if (mime_decode_body(cte, span_make(in, len), &whole) != 0)
		abort();
	if (cte == MIME_CTE_BASE64) {
		mime_b64_init(&b);
		rc = mime_b64_feed(&b, in, cut, &split) |
		    mime_b64_feed(&b, in + cut, len - cut, &split) |
		    mime_b64_end(&b, &split);
	} else {
		mime_qp_init(&q);
		rc = mime_qp_feed(&q, in, cut, &split) |
		    mime_qp_feed(&q, in + cut, len - cut, &split) |
		    mime_qp_end(&q, &split);
	}
	if (rc != 0 || whole.len != split.len || (whole.len > 0 &&
	    memcmp(whole.data, split.data, whole.len) != 0))
		abort();
	if (whole.len > max_out(len))
		abort();
	buf_free(&whole);
	buf_free(&split);
	free(in);
}

/* out must hold well-formed UTF-8; it is freed. */
static inline void
fuzz_mime_utf8_done(struct buf *out)
{
	if (!mime_utf8_valid(span_make(out->data, out->len)))
		abort();
	buf_free(out);
}

#endif
