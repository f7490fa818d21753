/*
 * libFuzzer target for the structured field parsers of mime_hdr.h that
 * mime_addr.c, mime_date.c and mime_msgid.c implement: every input is
 * read as an address list, a date-time and a msg-id list, from a heap
 * copy of exactly its length so that a read past it trips ASan.  An
 * invariant that breaks calls abort():
 *
 * - addresses: at most MIME_ADDRS_MAX entries, groups balanced and not
 *   nested, every span inside the store, display names normalised (no
 *   blank but single inner spaces), the store within its bound, the
 *   same answer when parsed again into the used list;
 * - dates: a zone within ±99:59, a time within years 1900-9999, and the
 *   result written back as RFC 5322 text (gmtime_r) parses to itself;
 * - msg-ids: at most MIME_MSGIDS_MAX, each "<...@...>" without line
 *   ends, inside the value or the store, and the ids joined by spaces
 *   parse back to the same ids.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "mime_hdr.h"

static bool
inside(struct span s, const char *base, size_t len)
{
	return s.len == 0 || (s.ptr >= base && s.ptr + s.len <= base + len);
}

static void
check_name(struct span n)
{
	size_t	i;

	if (n.len > 0 && (n.ptr[0] == ' ' || n.ptr[n.len - 1] == ' '))
		abort();
	for (i = 0; i < n.len; i++) {
		if ((unsigned char)n.ptr[i] < ' ' || n.ptr[i] == 0x7f)
			abort();
		if (n.ptr[i] == ' ' && i + 1 < n.len && n.ptr[i + 1] == ' ')
			abort();
	}
}

static bool
same_span(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 ||
	    memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void
fuzz_addrs(const char *p, size_t size)
{
	struct mime_addrlist	l, again;
	const struct mime_addr	*a;
	size_t			i;
	bool			in_group = false;
	int			rc;

	memset(&l, 0, sizeof(l));
	rc = mime_hdr_addrs(span_make(p, size), &l);
	if ((rc == -1) != (l.n == 0) || (l.n == 0) != (l.v == NULL) ||
	    l.n > MIME_ADDRS_MAX || (l.capped && l.n < MIME_ADDRS_MAX - 1) ||
	    l.store.len > 2 * size + 16)
		abort();
	for (i = 0; i < l.n; i++) {
		a = &l.v[i];
		if (!inside(a->name, l.store.data, l.store.len) ||
		    !inside(a->route, l.store.data, l.store.len) ||
		    !inside(a->local, l.store.data, l.store.len) ||
		    !inside(a->domain, l.store.data, l.store.len) ||
		    a->name.ptr == NULL || a->route.ptr == NULL ||
		    a->local.ptr == NULL || a->domain.ptr == NULL)
			abort();
		check_name(a->name);
		switch (a->kind) {
		case MIME_ADDR_GROUP:
			if (in_group || a->route.len != 0 ||
			    a->local.len != 0 || a->domain.len != 0)
				abort();
			in_group = true;
			break;
		case MIME_ADDR_GROUP_END:
			if (!in_group || a->name.len != 0)
				abort();
			in_group = false;
			break;
		case MIME_ADDR_MAILBOX:
			break;
		default:
			abort();
		}
	}
	if (in_group)
		abort();

	/* the used list again: the same answer */
	memset(&again, 0, sizeof(again));
	(void)mime_hdr_addrs(span_make("x@y", 3), &again);
	if (mime_hdr_addrs(span_make(p, size), &again) != rc ||
	    again.n != l.n || again.capped != l.capped)
		abort();
	for (i = 0; i < l.n; i++)
		if (again.v[i].kind != l.v[i].kind ||
		    !same_span(again.v[i].name, l.v[i].name) ||
		    !same_span(again.v[i].route, l.v[i].route) ||
		    !same_span(again.v[i].local, l.v[i].local) ||
		    !same_span(again.v[i].domain, l.v[i].domain))
			abort();
	mime_addrlist_free(&again);
	mime_addrlist_free(&l);
}

static void
fuzz_date(const char *p, size_t size)
{
	static const char *const mon[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec",
	};
	struct tm	tm;
	char		text[96];
	int64_t		t, t2;
	time_t		local;
	int		zone, zone2, az, n;

	if (mime_hdr_date(span_make(p, size), &t, &zone) == -1) {
		if (t != 0 || zone != 0)
			abort();
		return;
	}
	if (zone < -5999 || zone > 5999 ||
	    t < -2208988800LL - 6000 * 60 ||	/* 1900-01-01 */
	    t > 253402300800LL + 6000 * 60)	/* 10000-01-01 */
		abort();
	/* leap seconds (":60") are counted into the next minute */
	local = (time_t)(t + (int64_t)zone * 60);
	if (gmtime_r(&local, &tm) == NULL)
		abort();
	az = zone < 0 ? -zone : zone;
	n = snprintf(text, sizeof(text), "%d %s %d %02d:%02d:%02d %c%02d%02d",
	    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, zone < 0 ? '-' : '+', az / 60, az % 60);
	if (n <= 0 || (size_t)n >= sizeof(text))
		abort();
	/* a year past 9999 from a zone near the end is no date, fine */
	if (mime_hdr_date(span_make(text, (size_t)n), &t2, &zone2) == -1) {
		if (tm.tm_year + 1900 >= 1900 && tm.tm_year + 1900 <= 9999)
			abort();
		return;
	}
	if (t2 != t || zone2 != zone)
		abort();
}

static void
fuzz_msgids(const char *p, size_t size)
{
	struct mime_msgids	ids, again;
	struct buf		joined;
	size_t			i;
	int			rc;

	memset(&ids, 0, sizeof(ids));
	rc = mime_hdr_msgids(span_make(p, size), &ids);
	if ((rc == -1) != (ids.n == 0) || ids.n > MIME_MSGIDS_MAX)
		abort();
	buf_init(&joined, 2 * size + 2);
	for (i = 0; i < ids.n; i++) {
		if (ids.v[i].len < 3 || ids.v[i].ptr[0] != '<' ||
		    ids.v[i].ptr[ids.v[i].len - 1] != '>' ||
		    memchr(ids.v[i].ptr, '@', ids.v[i].len) == NULL ||
		    memchr(ids.v[i].ptr, '\n', ids.v[i].len) != NULL ||
		    memchr(ids.v[i].ptr, '\r', ids.v[i].len) != NULL ||
		    (!inside(ids.v[i], p, size) &&
		    !inside(ids.v[i], ids.store.data, ids.store.len)))
			abort();
		if ((i > 0 && buf_append_char(&joined, ' ') == -1) ||
		    buf_append_span(&joined, ids.v[i]) == -1)
			abort();
	}
	if (ids.n > 0) {
		memset(&again, 0, sizeof(again));
		if (mime_hdr_msgids(span_make(joined.data, joined.len),
		    &again) != 0 || again.n != ids.n)
			abort();
		for (i = 0; i < ids.n; i++)
			if (!same_span(again.v[i], ids.v[i]))
				abort();
		mime_msgids_free(&again);
	}
	buf_free(&joined);
	mime_msgids_free(&ids);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*p;

	if ((p = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(p, data, size);
	fuzz_addrs(p, size);
	fuzz_date(p, size);
	fuzz_msgids(p, size);
	free(p);
	return 0;
}
