/*
 * dnsbl: see dnsbl.h.  Pure: no sockets, no clock, no globals.  The
 * cache is a fixed array of entries reused in insertion order (a ring:
 * the oldest goes first) with a chained hash index over the addresses.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dnsbl.h"
#include "log.h"
#include "util.h"

#define DNSBL_NET127		0x7f000000u	/* 127.0.0.0/8 */
#define DNSBL_ERRNET		0x7fffff00u	/* 127.255.255.0/24 */
#define DNSBL_NONE		UINT32_MAX	/* end of a hash chain */

/* One dotted quad at s[0..len); 0 or -1. */
static int
dnsbl_quad(const char *s, size_t len, uint32_t *out)
{
	char		 tmp[16];
	struct in_addr	 a;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

/* A decimal octet "0".."255" at s[0..len); 0 or -1. */
static int
dnsbl_octet(const char *s, size_t len, uint32_t *out)
{
	uint32_t	v = 0;
	size_t		i;

	if (len == 0 || len > 3)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 255)
		return -1;
	*out = v;
	return 0;
}

static int
dnsbl_item(const char *s, size_t len, uint32_t *lo, uint32_t *hi,
    const char **errstr)
{
	const char	*dash = memchr(s, '-', len);
	size_t		 n = dash != NULL ? (size_t)(dash - s) : len;
	uint32_t	 end;

	*errstr = "is not an address or a range of addresses";
	if (dnsbl_quad(s, n, lo) == -1)
		return -1;
	*hi = *lo;
	if (dash != NULL) {
		s += n + 1;
		len -= n + 1;
		if (memchr(s, '.', len) == NULL) {
			/* "127.0.0.4-11": the end's last octet */
			if (dnsbl_octet(s, len, &end) == -1)
				return -1;
			*hi = (*lo & 0xffffff00u) | end;
		} else if (dnsbl_quad(s, len, hi) == -1)
			return -1;
	}
	if ((*lo & 0xff000000u) != DNSBL_NET127 ||
	    (*hi & 0xff000000u) != DNSBL_NET127) {
		*errstr = "is outside 127.0.0.0/8";
		return -1;
	}
	if (*lo > *hi) {
		*errstr = "ends before it starts";
		return -1;
	}
	return 0;
}

int
dnsbl_returns_parse(const char *s, size_t len, struct dnsbl_returns *out,
    const char **errstr)
{
	const char	*comma;
	size_t		 n;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > DNSBL_RETURNS_TEXT_MAX) {
		*errstr = len ? "is too long" : "is empty";
		return -1;
	}
	for (;;) {
		comma = memchr(s, ',', len);
		n = comma != NULL ? (size_t)(comma - s) : len;
		if (out->n == DNSBL_RETURNS_MAX) {
			*errstr = "has too many items";
			return -1;
		}
		if (dnsbl_item(s, n, &out->lo[out->n], &out->hi[out->n],
		    errstr) == -1)
			return -1;
		out->n++;
		if (comma == NULL)
			return 0;
		s += n + 1;
		len -= n + 1;
	}
}

bool
dnsbl_is_error(uint32_t a)
{
	return (a & 0xffffff00u) == DNSBL_ERRNET;
}

bool
dnsbl_returns_match(const struct dnsbl_returns *r, uint32_t a)
{
	size_t	i;

	if ((a & 0xff000000u) != DNSBL_NET127 || dnsbl_is_error(a))
		return false;
	if (r == NULL || r->n == 0)
		return true;
	for (i = 0; i < r->n; i++)
		if (a >= r->lo[i] && a <= r->hi[i])
			return true;
	return false;
}

int
dnsbl_addr(const char *ip, int *af_out, uint8_t addr_out[16])
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	memset(addr_out, 0, 16);
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		*af_out = AF_INET;
		memcpy(addr_out, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		*af_out = AF_INET;
		memcpy(addr_out, a6.s6_addr + 12, 4);
		return 0;
	}
	*af_out = AF_INET6;
	memcpy(addr_out, &a6, 16);
	return 0;
}

int
dnsbl_query_name(const char *ip, const char *zone, char *out, size_t outsz)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 a[16];
	char			 rev[72];
	size_t			 o = 0, zlen = strlen(zone);
	int			 af, i, n;

	if (dnsbl_addr(ip, &af, a) == -1 || zlen == 0)
		return -1;
	if (af == AF_INET) {
		n = snprintf(rev, sizeof(rev), "%u.%u.%u.%u.", a[3], a[2],
		    a[1], a[0]);
		if (n < 0 || (size_t)n >= sizeof(rev))
			return -1;
		o = (size_t)n;
	} else {
		/* RFC 5782 §2.4: nibbles, low-order first */
		for (i = 15; i >= 0; i--) {
			rev[o++] = hex[a[i] & 0xf];
			rev[o++] = '.';
			rev[o++] = hex[a[i] >> 4];
			rev[o++] = '.';
		}
		rev[o] = '\0';
	}
	if (zone[zlen - 1] == '.')
		zlen--;
	if (zlen == 0 || o + zlen > DNS_NAME_MAX || o + zlen + 1 > outsz)
		return -1;
	memcpy(out, rev, o);
	memcpy(out + o, zone, zlen);
	out[o + zlen] = '\0';
	return 0;
}

int
dnsbl_txt_text(const char *txt, size_t len, char *out, size_t outsz)
{
	size_t	i;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	if (len == 0 || len > DNSBL_TXT_MAX || len + 1 > outsz)
		return -1;
	for (i = 0; i < len; i++)
		if (txt[i] < 0x20 || txt[i] > 0x7e)
			return -1;
	memcpy(out, txt, len);
	out[len] = '\0';
	return 0;
}

struct dnsbl_entry {
	bool		 used;
	int		 af;
	uint8_t		 addr[16];
	uint64_t	 expires;
	uint32_t	 next;		/* in its hash chain */
	struct dnsbl_hit hit;
};

struct dnsbl_cache {
	struct dnsbl_entry	*ents;
	size_t			 max;
	size_t			 count;
	size_t			 ring;		/* the oldest, reused next */
	uint32_t		*buckets;
	size_t			 nbuckets;	/* a power of two */
};

struct dnsbl_cache *
dnsbl_cache_new(size_t max)
{
	struct dnsbl_cache	*c = xcalloc(1, sizeof(*c));
	size_t			 i;

	if (max == 0 || max > DNSBL_NONE / 2)
		fatalx("dnsbl_cache_new: bad size %zu", max);
	c->max = max;
	c->ents = xcalloc(max, sizeof(*c->ents));
	c->nbuckets = 1;
	while (c->nbuckets < max)
		c->nbuckets <<= 1;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	for (i = 0; i < c->nbuckets; i++)
		c->buckets[i] = DNSBL_NONE;
	return c;
}

void
dnsbl_cache_free(struct dnsbl_cache *c)
{
	if (c == NULL)
		return;
	free(c->ents);
	free(c->buckets);
	free(c);
}

/* FNV-1a over the address; the family is in the length. */
static size_t
dnsbl_bucket(const struct dnsbl_cache *c, int af, const uint8_t addr[16])
{
	uint32_t	h = 2166136261u;
	size_t		i, n = af == AF_INET ? 4 : 16;

	for (i = 0; i < n; i++) {
		h ^= addr[i];
		h *= 16777619u;
	}
	h ^= (uint32_t)n;
	return h & (c->nbuckets - 1);
}

static bool
dnsbl_same(const struct dnsbl_entry *e, int af, const uint8_t addr[16])
{
	return e->used && e->af == af && memcmp(e->addr, addr, 16) == 0;
}

static struct dnsbl_entry *
dnsbl_find(struct dnsbl_cache *c, int af, const uint8_t addr[16])
{
	uint32_t	i = c->buckets[dnsbl_bucket(c, af, addr)];

	for (; i != DNSBL_NONE; i = c->ents[i].next)
		if (dnsbl_same(&c->ents[i], af, addr))
			return &c->ents[i];
	return NULL;
}

/* Take entry i out of its chain. */
static void
dnsbl_unlink(struct dnsbl_cache *c, uint32_t i)
{
	struct dnsbl_entry	*e = &c->ents[i];
	uint32_t		*pp = &c->buckets[dnsbl_bucket(c, e->af,
				    e->addr)];

	while (*pp != DNSBL_NONE && *pp != i)
		pp = &c->ents[*pp].next;
	if (*pp == i)
		*pp = e->next;
	e->used = false;
	c->count--;
}

const struct dnsbl_hit *
dnsbl_cache_get(struct dnsbl_cache *c, int af, const uint8_t addr[16],
    uint64_t now)
{
	struct dnsbl_entry	*e = dnsbl_find(c, af, addr);

	if (e == NULL || now >= e->expires)
		return NULL;
	return &e->hit;
}

void
dnsbl_cache_put(struct dnsbl_cache *c, int af, const uint8_t addr[16],
    const struct dnsbl_hit *hit, uint32_t ttl, uint64_t now)
{
	struct dnsbl_entry	*e;
	uint32_t		 i;
	size_t			 b;

	if (ttl < DNSBL_TTL_MIN)
		ttl = DNSBL_TTL_MIN;
	if (ttl > DNSBL_TTL_MAX)
		ttl = DNSBL_TTL_MAX;
	if ((e = dnsbl_find(c, af, addr)) == NULL) {
		i = (uint32_t)c->ring;
		c->ring = (c->ring + 1) % c->max;
		if (c->ents[i].used)
			dnsbl_unlink(c, i);
		e = &c->ents[i];
		e->used = true;
		e->af = af;
		memcpy(e->addr, addr, 16);
		b = dnsbl_bucket(c, af, addr);
		e->next = c->buckets[b];
		c->buckets[b] = i;
		c->count++;
	}
	e->hit = *hit;
	e->hit.txt[sizeof(e->hit.txt) - 1] = '\0';
	e->expires = now + ttl;
}

size_t
dnsbl_cache_count(const struct dnsbl_cache *c)
{
	return c->count;
}
