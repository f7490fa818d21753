/*
 * libFuzzer target for the streaming quoted-printable decoder: every
 * input is decoded whole and in two pieces cut where its first two bytes
 * say, and the outputs must be equal (the decoder's split invariance);
 * the output is never longer than the input.
 */
#include "fuzz_mime.h"

static size_t
qp_max(size_t len)
{
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_mime_split(MIME_CTE_QP, data, size, qp_max);
	return 0;
}
