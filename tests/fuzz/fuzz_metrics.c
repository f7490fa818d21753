/*
 * libFuzzer target for metrics_render: the renderer's input is the sum
 * of a shared table every role can write, so any bytes at all stand for
 * the cells (zero past the input).  Checked: the page is rendered, ends
 * in a newline, holds printable ASCII alone (no cell can put anything
 * but digits on it), and the latency histogram's buckets never go down.
 * Broken invariants call abort().
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "metrics.h"

/* The buckets of the histogram, in order, never decreasing. */
static void
fz_check_buckets(const char *p, size_t len)
{
	static const char	key[] =
				    "cachet_delivery_latency_seconds_bucket{";
	const char		*e = p + len, *nl, *sp;
	uint64_t		 prev = 0, v;

	for (; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			abort();
		if ((size_t)(nl - p) <= sizeof(key) - 1 ||
		    memcmp(p, key, sizeof(key) - 1) != 0)
			continue;
		if ((sp = memchr(p, ' ', (size_t)(nl - p))) == NULL)
			abort();
		v = strtoull(sp + 1, NULL, 10);
		if (v < prev)
			abort();
		prev = v;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf	*conf;
	uint64_t		*cells;
	struct buf		 out;
	size_t			 n = metrics_cells() * sizeof(uint64_t), i;
	int64_t			 now = 0;

	if (conf == NULL && (conf = conf_default()) == NULL)
		abort();
	cells = calloc(metrics_cells(), sizeof(uint64_t));
	if (cells == NULL)
		abort();
	if (size >= sizeof(now)) {
		memcpy(&now, data, sizeof(now));
		data += sizeof(now);
		size -= sizeof(now);
	}
	memcpy(cells, data, size < n ? size : n);
	buf_init(&out, 512 * 1024);
	if (metrics_render(cells, conf, now, &out) == -1 || out.len == 0 ||
	    out.data[out.len - 1] != '\n')
		abort();
	for (i = 0; i < out.len; i++)
		if (out.data[i] != '\n' && (out.data[i] < 0x20 ||
		    out.data[i] > 0x7e))
			abort();
	fz_check_buckets(out.data, out.len);
	buf_free(&out);
	free(cells);
	return 0;
}
