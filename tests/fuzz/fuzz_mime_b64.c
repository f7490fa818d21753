/*
 * libFuzzer target for the streaming base64 decoder: every input is
 * decoded whole and in two pieces cut where its first two bytes say, and
 * the outputs must be equal (the decoder's split invariance); the output
 * is never more than 3/4 of the input.
 */
#include "fuzz_mime.h"

static size_t
b64_max(size_t len)
{
	return len / 4 * 3 + 2;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_mime_split(MIME_CTE_BASE64, data, size, b64_max);
	return 0;
}
