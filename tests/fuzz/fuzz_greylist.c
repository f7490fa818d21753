/*
 * libFuzzer target for greylisting's core (lookup_greylist.c): what smtp
 * sends (a client address, a sender, a recipient, flags; split on NUL
 * bytes here) is keyed and decided on an in-memory database kept across
 * inputs, with a clock the input moves, and a tiny size bound so that
 * the sweep runs.  Invariants: a key that parses names a /24 or a /64
 * and fits; a 450 waits at most the delay, a pass waits nothing; the
 * tables stay within their bound after a sweep.  A broken one aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lookup/lookup_greylist.h"

#define FUZZ_FIELD_MAX	512

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct lookup_greylist	*g;
static uint64_t			 now = 1700000000;

/* The next NUL-separated field of data into out (cut to fit). */
static void
field(const uint8_t **p, const uint8_t *end, char *out, size_t outsz)
{
	size_t	n = 0;

	while (*p < end && **p != '\0') {
		if (n + 1 < outsz)
			out[n++] = (char)**p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	out[n] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lookup_greylist_policy pol = {
		.delay = 300, .window = 3600, .whitelist = 7200, .rows_max = 8,
	};
	const uint8_t	*p = data, *end = data + size;
	char		 ip[FUZZ_FIELD_MAX], sender[FUZZ_FIELD_MAX];
	char		 rcpt[FUZZ_FIELD_MAX], net[LOOKUP_GREYLIST_NET_MAX];
	enum lookup_greylist_result r;
	uint64_t	 wait, t, k;
	sqlite3		*db;
	size_t		 len;

	if (g == NULL) {
		if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
		    (g = lookup_greylist_core(db, &pol)) == NULL)
			abort();
	}
	if (size < 2)
		return 0;
	/* two bytes of clock: forward by up to ~18h, or back a little */
	t = (uint64_t)data[0] << 8 | data[1];
	now = data[0] & 0x80 ? now - (t & 0xff) : now + t;
	p += 2;
	field(&p, end, ip, sizeof(ip));
	field(&p, end, sender, sizeof(sender));
	field(&p, end, rcpt, sizeof(rcpt));
	if (lookup_greylist_net(ip, net, sizeof(net)) == -1)
		(void)memcpy(net, "192.0.2.0/24", sizeof("192.0.2.0/24"));
	len = strlen(net);
	if (len < 4 || (strcmp(net + len - 3, "/24") != 0 &&
	    strcmp(net + len - 3, "/64") != 0))
		abort();
	r = lookup_greylist_decide(g, net, sender, rcpt,
	    p < end ? *p : 0, now, &wait);
	if ((r == LOOKUP_GREYLIST_NEW || r == LOOKUP_GREYLIST_EARLY) ?
	    wait == 0 || wait > pol.delay : wait != 0)
		abort();
	if (r == LOOKUP_GREYLIST_ERROR)
		abort();
	if (lookup_greylist_sweep(g, now) == -1 ||
	    lookup_greylist_count(g, &t, &k) == -1 ||
	    t > pol.rows_max || k > pol.rows_max)
		abort();
	return 0;
}
