/*
 * libFuzzer target for the spool envelope decoder (queue_fs.c), which
 * reads files that a crash, a disk or an smtp role still holding its fd
 * may have damaged.  The first byte picks the mode: even, the rest is
 * decoded as it is; odd, a correct "end <crc>" line is appended first so
 * the fuzzer reaches past the CRC into every field.  Input is copied to a
 * heap block of exactly its length so a read past it trips ASan.
 * Invariants (abort() when broken): a decoded envelope encodes again to
 * the very same bytes (the decoder accepts only the canonical form), and
 * a rejected one leaves nothing allocated and an error string.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "queue_fs.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_fs_envelope	 env;
	struct buf			 in, out;
	const char			*err = NULL;
	char				*copy;
	char				 end[16];

	if (size == 0)
		return 0;
	buf_init(&in, QUEUE_FS_ENV_MAX);
	if (buf_append(&in, data + 1, size - 1) == -1)
		return 0;
	if (data[0] & 1) {
		(void)snprintf(end, sizeof(end), "end %08" PRIx32 "\n",
		    queue_fs_crc32c(0, in.data, in.len));
		if (buf_append_str(&in, end) == -1) {
			buf_free(&in);
			return 0;
		}
	}
	copy = xmalloc(in.len);
	if (in.len > 0)
		memcpy(copy, in.data, in.len);

	if (queue_fs_envelope_decode(copy, in.len, &env, &err) == 0) {
		buf_init(&out, QUEUE_FS_ENV_MAX);
		if (queue_fs_envelope_encode(&env, &out) == -1)
			abort();
		if (out.len != in.len || memcmp(out.data, copy, in.len) != 0)
			abort();
		buf_free(&out);
		queue_fs_envelope_free(&env);
	} else {
		if (err == NULL || env.sender != NULL || env.rcpts != NULL ||
		    env.nrcpts != 0)
			abort();
	}
	free(copy);
	buf_free(&in);
	return 0;
}
