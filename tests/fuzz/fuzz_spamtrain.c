/*
 * libFuzzer target for spamtrain: the input is an mbox (or a message),
 * from a heap copy of exactly its length so that a read past it trips
 * ASan.  Every message the reader finds lies inside the input, in order,
 * and is unquoted under a small cap; each, and the whole input, gets a
 * learn-once id that must be a "<...@...>" Message-ID or a sha256 digest.
 * An invariant that breaks calls abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spamtrain.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_id(const char *p, size_t len)
{
	char	id[SPAMTRAIN_ID_MAX];
	size_t	n;

	memset(id, 'Z', sizeof(id));
	spamtrain_id(p, len, id);
	if (memchr(id, '\0', sizeof(id)) == NULL)
		abort();
	n = strlen(id);
	if (!spamtrain_id_ok(id, n))
		abort();
	if (strncmp(id, "sha256:", 7) == 0) {
		if (n != 7 + 64)
			abort();
	} else if (n < 3 || id[0] != '<' || id[n - 1] != '>' ||
	    strchr(id, '@') == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span	 rest, msg;
	struct buf	 b;
	char		*copy;
	const char	*prev;
	size_t		 n = 0;

	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	check_id(copy, size);
	(void)spamtrain_is_mbox(copy, size);
	buf_init(&b, 4096);
	rest = span_make(copy, size);
	prev = copy;
	while (spamtrain_mbox_next(&rest, &msg)) {
		if (msg.ptr < prev || msg.ptr + msg.len > copy + size ||
		    rest.ptr != msg.ptr + msg.len ||
		    rest.ptr + rest.len != copy + size || ++n > size + 1)
			abort();
		prev = msg.ptr + msg.len;
		buf_reset(&b);
		if (spamtrain_mbox_unquote(msg, &b) == 0 && b.len > msg.len)
			abort();
		if (b.len > 4096)
			abort();
		check_id(msg.ptr, msg.len);
	}
	buf_free(&b);
	free(copy);
	return 0;
}
