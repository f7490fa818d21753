/*
 * libFuzzer target for mime_decode_words(): any header value, from a
 * heap copy of exactly its length so that a read past it trips ASan;
 * the result must be well-formed UTF-8 whatever the charsets and bytes.
 */
#include "fuzz_mime.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 out;
	char		*copy;

	copy = fuzz_mime_copy(data, size);
	buf_init(&out, 1 << 20);
	if (mime_decode_words(span_make(copy, size), &out) != 0)
		abort();
	fuzz_mime_utf8_done(&out);
	free(copy);
	return 0;
}
