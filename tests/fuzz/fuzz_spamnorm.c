/*
 * libFuzzer target for spamnorm.c: the input is text (any bytes, as a
 * message's decoded text may be), normalised from a heap copy of
 * exactly its length.  The output must be lower-case ASCII words, each
 * after one space.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spamnorm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	out;
	char		*in, c;
	size_t		 i;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	buf_init(&out, 4 * size + 64);
	(void)spam_norm(in, size, &out);
	for (i = 0; i < out.len; i++) {
		c = out.data[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '~' || c == ' '))
			abort();
		if (c == ' ' && (i + 1 == out.len || out.data[i + 1] == ' '))
			abort();
	}
	buf_free(&out);
	free(in);
	return 0;
}
