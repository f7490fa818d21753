/*
 * libFuzzer target for imap_mutf7: the input as a modified UTF-7 name
 * and as a UTF-8 name.  Invariants: whatever decodes encodes back to
 * the very same octets (one way to write each name), whatever encodes
 * decodes back to the input, an encoded name is printable ASCII, and
 * imap_mutf7_valid() agrees with the decoder.  Broken invariants call
 * abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_mutf7.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span	in = span_make((const char *)data, size);
	struct buf	a, b;
	size_t		i;
	bool		ok;

	buf_init(&a, size * 4 + 16);
	buf_init(&b, size * 4 + 16);
	ok = imap_mutf7_decode(in, &a) == 0;
	if (ok != imap_mutf7_valid(in))
		abort();
	if (ok && (imap_mutf7_encode(span_make(a.data, a.len), &b) != 0 ||
	    b.len != size || (size > 0 && memcmp(b.data, data, size) != 0)))
		abort();
	buf_reset(&a);
	buf_reset(&b);
	if (imap_mutf7_encode(in, &a) == 0) {
		for (i = 0; i < a.len; i++)
			if (a.data[i] < 0x20 || a.data[i] > 0x7e)
				abort();
		if (imap_mutf7_decode(span_make(a.data, a.len), &b) != 0 ||
		    b.len != size || (size > 0 &&
		    memcmp(b.data, data, size) != 0))
			abort();
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
