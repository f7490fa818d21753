/*
 * Fuzz the ipc frame decoder and the typed readers: arbitrary bytes are
 * taken apart into frames as a channel does, and each frame's payload is
 * read with every reader until one fails.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_hdr	 hdr;
	struct msg	*m;
	struct span	 sp;
	size_t		 off = 0;
	uint64_t	 u64;
	uint32_t	 u32;
	char		 str[64], *dup;
	int		 r, k;

	while (off < size) {
		r = ipc_frame_decode(data + off, size - off, &hdr);
		if (r <= 0)
			break;
		if (hdr.len > IPC_PAYLOAD_MAX)
			abort();
		m = msg_new(hdr.type);
		msg_put_raw(m, data + off + IPC_HDR_SIZE, hdr.len);
		off += IPC_HDR_SIZE + hdr.len;
		for (k = 0; ; k = (k + 1) % 5) {
			if (k == 0)
				r = msg_get_u32(m, &u32);
			else if (k == 1)
				r = msg_get_u64(m, &u64);
			else if (k == 2)
				r = msg_get_span(m, &sp);
			else if (k == 3)
				r = msg_get_str(m, str, sizeof(str));
			else {
				r = msg_get_strdup(m, 100, &dup);
				if (r == 0)
					free(dup);
			}
			if (r == -1)
				break;
		}
		(void)msg_end(m);
		msg_free(m);
	}
	return 0;
}
