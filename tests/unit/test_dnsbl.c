/*
 * Unit tests for dnsbl.c: the query names of RFC 5782 §2.1 (IPv4) and
 * §2.4 (IPv6, the RFC's own example), `returns` lists, the error codes
 * of 127.255.255.0/24, the TXT text repeated in a reply, and the cache
 * (hits, expiry with the TTL floor and ceiling, eviction of the oldest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dns.h"
#include "dnsbl.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define Q(a, b, c, d)	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | \
			    ((uint32_t)(c) << 8) | (uint32_t)(d))

struct name_case {
	const char	*ip;
	const char	*zone;
	const char	*want;	/* NULL: refused */
};

static const struct name_case name_cases[] = {
	{ "192.0.2.99", "bl.example", "99.2.0.192.bl.example" },
	{ "127.0.0.2", "zen.spamhaus.org.", "2.0.0.127.zen.spamhaus.org" },
	/* an IPv4-mapped address is asked as IPv4 */
	{ "::ffff:192.0.2.1", "bl.example", "1.2.0.192.bl.example" },
	/* RFC 5782 §2.4's example */
	{ "2001:db8:1:2:3:4:567:89ab", "ugly.example.com",
	    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2."
	    "ugly.example.com" },
	{ "::1", "bl.example",
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "bl.example" },
	{ "not-an-ip", "bl.example", NULL },
	{ "192.0.2.1", "", NULL },
	{ "1.2.3", "bl.example", NULL },
	/* 64 + 190 > 253 octets */
	{ "::1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "example", NULL },
};

static void
test_query_names(void **state)
{
	char	out[DNS_NAME_MAX + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(name_cases); i++) {
		int	rc = dnsbl_query_name(name_cases[i].ip,
			    name_cases[i].zone, out, sizeof(out));

		if (name_cases[i].want == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(out, name_cases[i].want);
	}
}

static void
test_query_name_small_buffer(void **state)
{
	char	out[12];

	(void)state;
	assert_int_equal(dnsbl_query_name("192.0.2.99", "bl.example", out,
	    sizeof(out)), -1);
}

static void
test_error_codes(void **state)
{
	(void)state;
	assert_true(dnsbl_is_error(Q(127, 255, 255, 254)));
	assert_true(dnsbl_is_error(Q(127, 255, 255, 252)));
	assert_true(dnsbl_is_error(Q(127, 255, 255, 0)));
	assert_false(dnsbl_is_error(Q(127, 255, 254, 255)));
	assert_false(dnsbl_is_error(Q(127, 0, 0, 2)));
	/* never a listing, with or without a returns list */
	assert_false(dnsbl_returns_match(NULL, Q(127, 255, 255, 254)));
}

static void
test_default_match(void **state)
{
	struct dnsbl_returns	none;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_true(dnsbl_returns_match(&none, Q(127, 0, 0, 2)));
	assert_true(dnsbl_returns_match(&none, Q(127, 0, 1, 9)));
	/* outside 127.0.0.0/8: a rewriting resolver, not a list */
	assert_false(dnsbl_returns_match(&none, Q(192, 0, 2, 1)));
	assert_false(dnsbl_returns_match(&none, Q(128, 0, 0, 2)));
}

struct returns_case {
	const char	*text;
	int		 rc;
	uint32_t	 in[3];		/* 0 ends */
	uint32_t	 out[3];
};

static const struct returns_case returns_cases[] = {
	{ "127.0.0.2", 0, { Q(127, 0, 0, 2) },
	    { Q(127, 0, 0, 3), Q(127, 0, 1, 2) } },
	{ "127.0.0.2,127.0.0.4-11", 0,
	    { Q(127, 0, 0, 2), Q(127, 0, 0, 4), Q(127, 0, 0, 11) },
	    { Q(127, 0, 0, 3), Q(127, 0, 0, 12), Q(127, 0, 0, 1) } },
	{ "127.0.1.0-127.0.2.255", 0, { Q(127, 0, 1, 0), Q(127, 0, 2, 255) },
	    { Q(127, 0, 0, 255), Q(127, 0, 3, 0) } },
	/* an error code inside a range is still no listing */
	{ "127.0.0.0-127.255.255.255", 0, { Q(127, 0, 0, 2) },
	    { Q(127, 255, 255, 254) } },
	{ "", -1, { 0 }, { 0 } },
	{ "127.0.0.2,", -1, { 0 }, { 0 } },
	{ ",127.0.0.2", -1, { 0 }, { 0 } },
	{ "127.0.0.11-4", -1, { 0 }, { 0 } },
	{ "127.0.0.4-256", -1, { 0 }, { 0 } },
	{ "10.0.0.2", -1, { 0 }, { 0 } },
	{ "127.0.0.2-128.0.0.1", -1, { 0 }, { 0 } },
	{ "127.0.0.2-", -1, { 0 }, { 0 } },
	{ "127.0.0.x", -1, { 0 }, { 0 } },
	{ "127.0.0.2 ", -1, { 0 }, { 0 } },
	{ "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,"
	    "127.0.0.7,127.0.0.8,127.0.0.9,127.0.0.10,127.0.0.11,127.0.0.12,"
	    "127.0.0.13,127.0.0.14,127.0.0.15,127.0.0.16", 0,
	    { Q(127, 0, 0, 16) }, { Q(127, 0, 0, 17) } },
	{ "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,"
	    "127.0.0.7,127.0.0.8,127.0.0.9,127.0.0.10,127.0.0.11,127.0.0.12,"
	    "127.0.0.13,127.0.0.14,127.0.0.15,127.0.0.16,127.0.0.17", -1,
	    { 0 }, { 0 } },
};

static void
test_returns(void **state)
{
	struct dnsbl_returns	 r;
	const char		*errstr;
	size_t			 i, k;

	(void)state;
	for (i = 0; i < NELEM(returns_cases); i++) {
		const struct returns_case	*c = &returns_cases[i];

		errstr = NULL;
		assert_int_equal(dnsbl_returns_parse(c->text, strlen(c->text),
		    &r, &errstr), c->rc);
		if (c->rc == -1) {
			assert_non_null(errstr);
			continue;
		}
		for (k = 0; k < 3 && c->in[k] != 0; k++)
			assert_true(dnsbl_returns_match(&r, c->in[k]));
		for (k = 0; k < 3 && c->out[k] != 0; k++)
			assert_false(dnsbl_returns_match(&r, c->out[k]));
	}
}

static void
test_txt_text(void **state)
{
	char	out[DNSBL_TXT_MAX + 1], big[DNSBL_TXT_MAX + 2];

	(void)state;
	assert_int_equal(dnsbl_txt_text("Listed; see https://bl.example/",
	    31, out, sizeof(out)), 0);
	assert_string_equal(out, "Listed; see https://bl.example/");
	assert_int_equal(dnsbl_txt_text("bad\r\n250 ok", 11, out,
	    sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(dnsbl_txt_text("a\0b", 3, out, sizeof(out)), -1);
	memset(big, 'x', sizeof(big));
	assert_int_equal(dnsbl_txt_text(big, sizeof(big), out, sizeof(out)),
	    -1);
	assert_string_equal(out, "");
}

static void
addr(const char *ip, int *af, uint8_t a[16])
{
	assert_int_equal(dnsbl_addr(ip, af, a), 0);
}

static void
test_cache_hit_and_expiry(void **state)
{
	struct dnsbl_cache	*c = dnsbl_cache_new(8);
	struct dnsbl_hit	 h;
	const struct dnsbl_hit	*g;
	uint8_t			 a[16], b[16];
	int			 af, bf;

	(void)state;
	addr("127.0.0.5", &af, a);
	addr("::ffff:127.0.0.5", &bf, b);
	assert_null(dnsbl_cache_get(c, af, a, 1000));
	memset(&h, 0, sizeof(h));
	h.listed = true;
	h.code = Q(127, 0, 0, 2);
	(void)str_copy(h.txt, sizeof(h.txt), "spam source");
	dnsbl_cache_put(c, af, a, &h, 600, 1000);
	/* the mapped address is the same client */
	assert_int_equal(bf, af);
	g = dnsbl_cache_get(c, bf, b, 1599);
	assert_non_null(g);
	assert_true(g->listed);
	assert_int_equal(g->code, Q(127, 0, 0, 2));
	assert_string_equal(g->txt, "spam source");
	assert_null(dnsbl_cache_get(c, af, a, 1600));
	/* ttl 0 is kept for the floor, a day only for the ceiling */
	dnsbl_cache_put(c, af, a, &h, 0, 2000);
	assert_non_null(dnsbl_cache_get(c, af, a, 2000 + DNSBL_TTL_MIN - 1));
	assert_null(dnsbl_cache_get(c, af, a, 2000 + DNSBL_TTL_MIN));
	dnsbl_cache_put(c, af, a, &h, 86400, 3000);
	assert_non_null(dnsbl_cache_get(c, af, a, 3000 + DNSBL_TTL_MAX - 1));
	assert_null(dnsbl_cache_get(c, af, a, 3000 + DNSBL_TTL_MAX));
	/* updated in place, not twice */
	assert_int_equal(dnsbl_cache_count(c), 1);
	dnsbl_cache_free(c);
}

static void
test_cache_negative_and_families(void **state)
{
	struct dnsbl_cache	*c = dnsbl_cache_new(8);
	struct dnsbl_hit	 h;
	const struct dnsbl_hit	*g;
	uint8_t			 a4[16], a6[16];
	int			 af4, af6;

	(void)state;
	/* the same 16 octets as IPv4 and IPv6 are different clients */
	addr("1.2.3.4", &af4, a4);
	memset(a6, 0, sizeof(a6));
	memcpy(a6, a4, 4);
	af6 = AF_INET6;
	memset(&h, 0, sizeof(h));
	dnsbl_cache_put(c, af4, a4, &h, 300, 0);
	g = dnsbl_cache_get(c, af4, a4, 10);
	assert_non_null(g);
	assert_false(g->listed);
	assert_null(dnsbl_cache_get(c, af6, a6, 10));
	dnsbl_cache_free(c);
}

static void
test_cache_bounded(void **state)
{
	struct dnsbl_cache	*c = dnsbl_cache_new(4);
	struct dnsbl_hit	 h;
	uint8_t			 a[16];
	char			 ip[32];
	int			 af, i;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (i = 1; i <= 10; i++) {
		(void)snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		addr(ip, &af, a);
		dnsbl_cache_put(c, af, a, &h, 300, 0);
		assert_true(dnsbl_cache_count(c) <= 4);
	}
	assert_int_equal(dnsbl_cache_count(c), 4);
	/* the oldest went first: 1-6 gone, 7-10 kept */
	for (i = 1; i <= 10; i++) {
		(void)snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		addr(ip, &af, a);
		if (i <= 6)
			assert_null(dnsbl_cache_get(c, af, a, 1));
		else
			assert_non_null(dnsbl_cache_get(c, af, a, 1));
	}
	dnsbl_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_query_names),
		cmocka_unit_test(test_query_name_small_buffer),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_default_match),
		cmocka_unit_test(test_returns),
		cmocka_unit_test(test_txt_text),
		cmocka_unit_test(test_cache_hit_and_expiry),
		cmocka_unit_test(test_cache_negative_and_families),
		cmocka_unit_test(test_cache_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
