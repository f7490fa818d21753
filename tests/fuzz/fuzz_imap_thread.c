/*
 * libFuzzer target for imap_thread: the input is cut into messages at
 * each NUL byte; each is parsed (lib/mime.h) and turned into a thread
 * message (Message-ID, References, In-Reply-To, Subject, Date), then
 * both algorithms thread them.  Invariants: the thread list is
 * well-formed (balanced parentheses, no empty list) and names every
 * message exactly once.  Broken invariants call abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_thread.h"
#include "mime.h"

#define FUZZ_MSGS_MAX	64

static void
check(const struct buf *out, size_t n)
{
	unsigned char	seen[FUZZ_MSGS_MAX + 1];
	size_t		i, depth = 0, num;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < out->len; i++) {
		char	c = out->data[i];

		if (c == '(') {
			if (i + 1 < out->len && out->data[i + 1] == ')')
				abort();
			depth++;
		} else if (c == ')') {
			if (depth == 0)
				abort();
			depth--;
		} else if (c >= '1' && c <= '9') {
			for (num = 0; i < out->len && out->data[i] >= '0' &&
			    out->data[i] <= '9'; i++)
				num = num * 10 + (size_t)(out->data[i] - '0');
			i--;
			if (num == 0 || num > n || seen[num]++ != 0)
				abort();
		} else if (c != ' ')
			abort();
	}
	if (depth != 0)
		abort();
	for (i = 1; i <= n; i++)
		if (seen[i] != 1)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_thread_msg	 v[FUZZ_MSGS_MAX];
	struct mime_msg		 msg;
	struct buf		 out;
	const char		*p = (const char *)data, *end = p + size, *z;
	size_t			 n = 0, i;

	while (p < end && n < FUZZ_MSGS_MAX) {
		z = memchr(p, '\0', (size_t)(end - p));
		if (z == NULL)
			z = end;
		memset(&msg, 0, sizeof(msg));
		mime_parse(&msg, p, (size_t)(z - p));
		imap_thread_msg_make(&v[n], &msg, (uint32_t)n + 1,
		    (uint32_t)n + 1, (int64_t)n * 7 % 5);
		mime_msg_free(&msg);
		n++;
		p = z + 1;
	}
	buf_init(&out, 1 << 20);
	if (imap_thread_run(IMAP_THREAD_REFERENCES, v, n, &out) == -1)
		abort();
	check(&out, n);
	buf_reset(&out);
	if (imap_thread_run(IMAP_THREAD_ORDEREDSUBJECT, v, n, &out) == -1)
		abort();
	check(&out, n);
	buf_free(&out);
	for (i = 0; i < n; i++)
		imap_thread_msg_free(&v[i]);
	return 0;
}
