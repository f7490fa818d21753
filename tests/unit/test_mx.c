/*
 * Unit tests for mx.c: tables of configs and DNS answers against the
 * hosts and addresses to try (RFC 5321 §5.1, RFC 7505), one cmocka test
 * per row.  Answers are built from short specs: "10 a.example" is an MX
 * record, "." the root exchange.  Randomness comes from a scripted
 * sequence so that the order of equal preferences is known.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "dns.h"
#include "mx.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SPECS_MAX	8

/* Randomness */

struct rng {
	const uint32_t	*seq;	/* NULL: always 0 */
	size_t		 n, i;
	unsigned	 calls;
};

static uint32_t
rng_next(void *arg)
{
	struct rng	*r = arg;

	r->calls++;
	if (r->seq == NULL || r->n == 0)
		return 0;
	return r->seq[r->i++ % r->n];
}

/* Answers from specs */

static void
answer_mx(struct dns_result *res, enum dns_status st,
    const char *const *specs)
{
	size_t	i, n = 0;
	char	*sp;

	memset(res, 0, sizeof(*res));
	res->status = st;
	res->type = DNS_T_MX;
	while (specs != NULL && specs[n] != NULL)
		n++;
	if (n == 0)
		return;
	res->rrs = calloc(n, sizeof(*res->rrs));
	assert_non_null(res->rrs);
	for (i = 0; i < n; i++) {
		res->rrs[i].type = DNS_T_MX;
		res->rrs[i].u.mx.pref = (uint16_t)strtoul(specs[i], &sp, 10);
		sp++;
		res->rrs[i].u.mx.name = strdup(strcmp(sp, ".") == 0 ? "" : sp);
	}
	res->nrrs = n;
}

/* "1.2.3.4 2001:db8::1" into A or AAAA records */
static void
answer_addr(struct dns_result *res, enum dns_status st, enum dns_type type,
    const char *spec)
{
	char	 copy[256], *p, *tok, *save = NULL;
	size_t	 n = 0;

	*res = (struct dns_result){ .status = st, .type = type };
	if (spec == NULL)
		return;
	res->rrs = calloc(8, sizeof(*res->rrs));
	assert_non_null(res->rrs);
	snprintf(copy, sizeof(copy), "%s", spec);
	for (p = copy; (tok = strtok_r(p, " ", &save)) != NULL; p = NULL) {
		res->rrs[n].type = type;
		if (type == DNS_T_A)
			assert_int_equal(inet_pton(AF_INET, tok,
			    &res->rrs[n].u.a), 1);
		else
			assert_int_equal(inet_pton(AF_INET6, tok,
			    &res->rrs[n].u.aaaa), 1);
		n++;
	}
	res->nrrs = n;
}

static void
answer_free(struct dns_result *res)
{
	size_t	i;

	for (i = 0; i < res->nrrs; i++)
		dns_rr_clear(&res->rrs[i]);
	free(res->rrs);
}

/* "a.example:10 b.example:20" */
static void
route_text(const struct mx_route *r, char *out, size_t outsz)
{
	size_t	i, o = 0;

	out[0] = '\0';
	for (i = 0; i < r->nhosts; i++) {
		o += (size_t)snprintf(out + o, outsz - o, "%s%s:%u%s%s",
		    i ? " " : "", r->hosts[i].name, r->hosts[i].pref,
		    r->hosts[i].implicit ? "i" : "",
		    r->hosts[i].literal ? "L" : "");
		assert_true(o < outsz);
	}
}

/* mx_route */

struct route_case {
	const char	*name;
	enum dns_status	 dns;
	const char	*mx[SPECS_MAX];
	const char	*self;
	bool		 relay;		/* the plan came from a relay */
	uint32_t	 rnd[4];
	size_t		 nrnd;
	enum mx_status	 status;
	const char	*enhanced;	/* on failure */
	const char	*hosts;		/* on success */
};

static const struct route_case route_cases[] = {
	{ "one MX", DNS_OK, { "10 mx.example.org" }, NULL, false, { 0 }, 0,
	    MX_OK, NULL, "mx.example.org:10" },
	{ "sorted by preference", DNS_OK,
	    { "30 c.example", "10 a.example", "20 b.example" }, NULL, false,
	    { 0 }, 0, MX_OK, NULL, "a.example:10 b.example:20 c.example:30" },
	{ "preference 0 and 65535", DNS_OK,
	    { "65535 z.example", "0 a.example" }, NULL, false, { 0 }, 0,
	    MX_OK, NULL, "a.example:0 z.example:65535" },
	{ "equal preferences shuffled (rnd 0)", DNS_OK,
	    { "10 a.example", "10 b.example", "10 c.example", "5 first.example",
	    "20 last.example" }, NULL, false, { 0 }, 0, MX_OK, NULL,
	    "first.example:5 b.example:10 c.example:10 a.example:10 "
	    "last.example:20" },
	{ "equal preferences shuffled (rnd 2, 1)", DNS_OK,
	    { "10 a.example", "10 b.example", "10 c.example" }, NULL, false,
	    { 2, 1 }, 2, MX_OK, NULL,
	    "a.example:10 b.example:10 c.example:10" },
	{ "equal preferences shuffled (rnd 1, 0)", DNS_OK,
	    { "10 a.example", "10 b.example", "10 c.example" }, NULL, false,
	    { 1, 0 }, 2, MX_OK, NULL,
	    "c.example:10 a.example:10 b.example:10" },
	{ "names lower-cased", DNS_OK, { "10 MX.Example.ORG" }, NULL, false,
	    { 0 }, 0, MX_OK, NULL, "mx.example.org:10" },
	{ "duplicate host kept once, best preference", DNS_OK,
	    { "20 a.example", "10 a.example", "15 b.example", "30 A.EXAMPLE" },
	    NULL, false, { 0 }, 0, MX_OK, NULL, "a.example:10 b.example:15" },
	{ "null MX", DNS_OK, { "0 ." }, NULL, false, { 0 }, 0, MX_PERMFAIL,
	    "5.1.10", NULL },
	{ "null MX with a nonzero preference", DNS_OK, { "10 ." }, NULL,
	    false, { 0 }, 0, MX_PERMFAIL, "5.1.10", NULL },
	{ "root among other MX is skipped", DNS_OK,
	    { "0 .", "10 mx.example" }, NULL, false, { 0 }, 0, MX_OK, NULL,
	    "mx.example:10" },
	{ "IPv4 literal exchange skipped", DNS_OK,
	    { "5 192.0.2.1", "10 mx.example" }, NULL, false, { 0 }, 0, MX_OK,
	    NULL, "mx.example:10" },
	{ "only an IP literal exchange", DNS_OK, { "10 192.0.2.1" }, NULL,
	    false, { 0 }, 0, MX_PERMFAIL, "5.4.4", NULL },
	{ "only an IPv6 literal-like exchange", DNS_OK, { "10 2001:db8::1" },
	    NULL, false, { 0 }, 0, MX_PERMFAIL, "5.4.4", NULL },
	{ "escaped octets not a host name", DNS_OK,
	    { "10 a\\032b.example", "20 mx_1.example", "30 ok.example" }, NULL,
	    false, { 0 }, 0, MX_OK, NULL, "ok.example:30" },
	{ "no MX: implicit MX is the domain", DNS_NODATA, { NULL }, NULL,
	    false, { 0 }, 0, MX_OK, NULL, "example.net:0i" },
	{ "NXDOMAIN bounces", DNS_NXDOMAIN, { NULL }, NULL, false, { 0 }, 0,
	    MX_PERMFAIL, "5.1.2", NULL },
	{ "NXDOMAIN of a relay host defers", DNS_NXDOMAIN, { NULL }, NULL,
	    true, { 0 }, 0, MX_TEMPFAIL, "4.4.3", NULL },
	{ "SERVFAIL is try later, never no MX", DNS_TEMPFAIL, { NULL }, NULL,
	    false, { 0 }, 0, MX_TEMPFAIL, "4.4.3", NULL },
	{ "self as least preferred: the others", DNS_OK,
	    { "10 a.example", "20 mail.self.example", "20 b.example",
	    "30 c.example" }, "mail.self.example", false, { 0 }, 0, MX_OK,
	    NULL, "a.example:10" },
	{ "self as most preferred: loop", DNS_OK,
	    { "10 mail.self.example", "20 b.example" }, "MAIL.self.example",
	    false, { 0 }, 0, MX_PERMFAIL, "5.4.6", NULL },
	{ "self is the implicit MX: loop", DNS_NODATA, { NULL },
	    "example.net", false, { 0 }, 0, MX_PERMFAIL, "5.4.6", NULL },
	{ "self not among MX", DNS_OK, { "10 a.example" }, "other.example",
	    false, { 0 }, 0, MX_OK, NULL, "a.example:10" },
};

static void
test_route(void **state)
{
	const struct route_case	*c = *state;
	struct mx_plan		 plan;
	struct dns_result	 res;
	struct mx_route		 r;
	struct rng		 g = { c->rnd, c->nrnd, 0, 0 };
	char			 text[1024];

	memset(&plan, 0, sizeof(plan));
	snprintf(plan.name, sizeof(plan.name), "example.net");
	plan.port = 25;
	plan.lookup_mx = true;
	plan.relay = c->relay;
	answer_mx(&res, c->dns, c->mx);
	mx_route(&plan, &res, c->self, rng_next, &g, &r);
	assert_int_equal(r.status, c->status);
	if (c->status == MX_OK) {
		route_text(&r, text, sizeof(text));
		assert_string_equal(text, c->hosts);
		assert_null(r.reason);
		assert_int_equal(r.hosts[0].port, 25);
	} else {
		assert_int_equal(r.nhosts, 0);
		assert_non_null(r.reason);
		assert_string_equal(r.enhanced, c->enhanced);
	}
	answer_free(&res);
}

/* Equal preferences come out in every order, over many draws. */
static void
test_route_shuffle_spreads(void **state)
{
	static const char *const mx[] = {
		"10 a.example", "10 b.example", "20 c.example", NULL
	};
	struct mx_plan		plan;
	struct dns_result	res;
	struct mx_route		r;
	unsigned		first_a = 0, i;
	uint32_t		x = 12345;

	memset(&plan, 0, sizeof(plan));
	snprintf(plan.name, sizeof(plan.name), "example.net");
	plan.port = 25;
	plan.lookup_mx = true;
	answer_mx(&res, DNS_OK, mx);
	for (i = 0; i < 1000; i++) {
		struct rng g = { &x, 1, 0, 0 };

		x = x * 1103515245u + 12345u;
		x ^= x >> 16;
		mx_route(&plan, &res, NULL, rng_next, &g, &r);
		assert_int_equal(r.nhosts, 3);
		assert_string_equal(r.hosts[2].name, "c.example");
		if (strcmp(r.hosts[0].name, "a.example") == 0)
			first_a++;
	}
	assert_true(first_a > 300 && first_a < 700);
	answer_free(&res);
}

/* Random numbers are drawn only for ties. */
static void
test_route_no_rnd_without_ties(void **state)
{
	static const char *const mx[] = {
		"10 a.example", "20 b.example", NULL
	};
	struct mx_plan		plan;
	struct dns_result	res;
	struct mx_route		r;
	struct rng		g = { NULL, 0, 0, 0 };

	memset(&plan, 0, sizeof(plan));
	snprintf(plan.name, sizeof(plan.name), "example.net");
	plan.port = 25;
	plan.lookup_mx = true;
	answer_mx(&res, DNS_OK, mx);
	mx_route(&plan, &res, NULL, rng_next, &g, &r);
	assert_int_equal(g.calls, 0);
	answer_free(&res);
}

static void
test_route_keeps_at_most_hosts_max(void **state)
{
	const char		*mx[MX_HOSTS_MAX + 6];
	char			 names[MX_HOSTS_MAX + 5][32];
	struct mx_plan		 plan;
	struct dns_result	 res;
	struct mx_route		 r;
	struct rng		 g = { NULL, 0, 0, 0 };
	size_t			 i;

	for (i = 0; i < MX_HOSTS_MAX + 5; i++) {
		snprintf(names[i], sizeof(names[i]), "%zu h%zu.example",
		    100 - i, i);
		mx[i] = names[i];
	}
	mx[i] = NULL;
	memset(&plan, 0, sizeof(plan));
	snprintf(plan.name, sizeof(plan.name), "example.net");
	plan.port = 25;
	plan.lookup_mx = true;
	answer_mx(&res, DNS_OK, mx);
	mx_route(&plan, &res, NULL, rng_next, &g, &r);
	assert_int_equal(r.status, MX_OK);
	assert_int_equal(r.nhosts, MX_HOSTS_MAX);
	/* the most preferred are kept: the last ones in the answer */
	assert_string_equal(r.hosts[0].name, "h20.example");
	assert_int_equal(r.hosts[MX_HOSTS_MAX - 1].pref,
	    100 - (MX_HOSTS_MAX + 4) + MX_HOSTS_MAX - 1);
	answer_free(&res);
}

static void
test_route_direct_plan_ignores_dns(void **state)
{
	struct mx_plan	plan;
	struct mx_route	r;
	struct rng	g = { NULL, 0, 0, 0 };

	memset(&plan, 0, sizeof(plan));
	snprintf(plan.name, sizeof(plan.name), "10.0.0.5");
	plan.port = 2525;
	plan.literal = true;
	plan.relay = true;
	mx_route(&plan, NULL, "anything", rng_next, &g, &r);
	assert_int_equal(r.status, MX_OK);
	assert_int_equal(r.nhosts, 1);
	assert_string_equal(r.hosts[0].name, "10.0.0.5");
	assert_int_equal(r.hosts[0].port, 2525);
	assert_true(r.hosts[0].literal);
}

/* mx_plan */

static const struct conf_relay relays_some[] = {
	{ "example.net", "10.0.0.5", 2525, false, 1,
	    CONF_RELAY_TLS_MAY, "", "" },
	{ "example.com", "mx.example.com", 25, true, 2,
	    CONF_RELAY_TLS_MAY, "", "" },
	{ "v6.example", "2001:db8::25", 26, false, 3,
	    CONF_RELAY_TLS_MAY, "", "" },
	{ "bracket.example", "smtp.provider.example", 587, false, 4,
	    CONF_RELAY_TLS_MAY, "", "" },
};

static const struct conf_relay relays_star[] = {
	{ "example.net", "10.0.0.5", 2525, false, 1,
	    CONF_RELAY_TLS_MAY, "", "" },
	{ "*", "smart.example", 587, false, 2,
	    CONF_RELAY_TLS_MAY, "", "" },
};

struct plan_case {
	const char		*name;
	const struct conf_relay	*relays;
	size_t			 nrelays;
	const char		*domain;
	int			 rc;
	const char		*want;	/* name port flags: m l r */
};

static const struct plan_case plan_cases[] = {
	{ "no relay: MX of the domain", NULL, 0, "Example.ORG", 0,
	    "example.org 25 m" },
	{ "relay to an IPv4 host", relays_some, NELEM(relays_some),
	    "example.net", 0, "10.0.0.5 2525 lr" },
	{ "relay matched without case", relays_some, NELEM(relays_some),
	    "EXAMPLE.NET", 0, "10.0.0.5 2525 lr" },
	{ "relay with MX lookup", relays_some, NELEM(relays_some),
	    "example.com", 0, "mx.example.com 25 mr" },
	{ "relay to an IPv6 host", relays_some, NELEM(relays_some),
	    "v6.example", 0, "2001:db8::25 26 lr" },
	{ "relay to a [host]", relays_some, NELEM(relays_some),
	    "bracket.example", 0, "smtp.provider.example 587 r" },
	{ "relay for another domain only", relays_some, NELEM(relays_some),
	    "sub.example.net", 0, "sub.example.net 25 m" },
	{ "star relay for the rest", relays_star, NELEM(relays_star),
	    "other.example", 0, "smart.example 587 r" },
	{ "own relay beats star", relays_star, NELEM(relays_star),
	    "example.net", 0, "10.0.0.5 2525 lr" },
	{ "address literal direct", NULL, 0, "[192.0.2.7]", 0,
	    "192.0.2.7 25 l" },
	{ "IPv6 address literal direct", NULL, 0, "[IPv6:2001:db8::7]", 0,
	    "2001:db8::7 25 l" },
	{ "address literal through star relay", relays_star,
	    NELEM(relays_star), "[192.0.2.7]", 0, "smart.example 587 r" },
	{ "bad literal", NULL, 0, "[300.0.0.1]", -1, NULL },
	{ "bad IPv6 literal", NULL, 0, "[IPv6:1.2.3.4]", -1, NULL },
	{ "literal without tag", NULL, 0, "[2001:db8::1]", -1, NULL },
	{ "not a host name", NULL, 0, "a_b.example", -1, NULL },
	{ "empty", NULL, 0, "", -1, NULL },
	{ "trailing dot", NULL, 0, "example.org.", -1, NULL },
};

static void
test_plan(void **state)
{
	const struct plan_case	*c = *state;
	struct mx_plan		 p;
	const char		*errstr = NULL;
	char			 got[400];

	assert_int_equal(mx_plan(c->relays, c->nrelays, c->domain, &p,
	    &errstr), c->rc);
	if (c->rc == -1) {
		assert_non_null(errstr);
		return;
	}
	snprintf(got, sizeof(got), "%s %u %s%s%s", p.name, p.port,
	    p.lookup_mx ? "m" : "", p.literal ? "l" : "", p.relay ? "r" : "");
	assert_string_equal(got, c->want);
	assert_int_equal(p.relay_line != 0, p.relay);
}

/* mx_addresses */

struct addr_case {
	const char	*name;
	const char	*hosts[3];	/* "name" or "[literal]" */
	/* per host: A spec, AAAA spec; "T" tempfail, "N" nxdomain, "-" none */
	const char	*a[3];
	const char	*aaaa[3];
	size_t		 max;
	enum mx_status	 status;
	const char	*want;		/* "host#:addr ..." or enhanced code */
};

static const struct addr_case addr_cases[] = {
	{ "v6 then v4, host by host", { "a", "b" },
	    { "192.0.2.1", "192.0.2.2" }, { "2001:db8::1", "-" }, 10, MX_OK,
	    "0:[2001:db8::1]:25 0:192.0.2.1:25 1:192.0.2.2:25" },
	{ "answer order kept", { "a" }, { "192.0.2.9 192.0.2.1" }, { "-" },
	    10, MX_OK, "0:192.0.2.9:25 0:192.0.2.1:25" },
	{ "host that does not resolve skipped", { "a", "b" },
	    { "N", "192.0.2.2" }, { "N", "-" }, 10, MX_OK, "1:192.0.2.2:25" },
	{ "tempfail host skipped when another resolves", { "a", "b" },
	    { "T", "192.0.2.2" }, { "T", "-" }, 10, MX_OK, "1:192.0.2.2:25" },
	{ "duplicates dropped", { "a", "b" },
	    { "192.0.2.1 192.0.2.1", "192.0.2.1" }, { "-", "-" }, 10, MX_OK,
	    "0:192.0.2.1:25" },
	{ "unspecified addresses skipped", { "a" }, { "0.0.0.0 192.0.2.3" },
	    { ":: 2001:db8::3" }, 10, MX_OK,
	    "0:[2001:db8::3]:25 0:192.0.2.3:25" },
	{ "loopback kept (test networks)", { "a" }, { "127.0.0.2" }, { "-" },
	    10, MX_OK, "0:127.0.0.2:25" },
	{ "at most max", { "a", "b" }, { "192.0.2.1 192.0.2.2", "192.0.2.3" },
	    { "-", "-" }, 2, MX_OK, "0:192.0.2.1:25 0:192.0.2.2:25" },
	{ "literal host", { "[192.0.2.5]" }, { NULL }, { NULL }, 10, MX_OK,
	    "0:192.0.2.5:25" },
	{ "IPv6 literal host", { "[2001:db8::5]" }, { NULL }, { NULL }, 10,
	    MX_OK, "0:[2001:db8::5]:25" },
	{ "nothing resolves, one tempfail", { "a", "b" }, { "N", "T" },
	    { "N", "-" }, 10, MX_TEMPFAIL, "4.4.3" },
	{ "nothing resolves", { "a", "b" }, { "N", "-" }, { "N", "-" }, 10,
	    MX_PERMFAIL, "5.4.4" },
	{ "AAAA tempfail with no A", { "a" }, { "-" }, { "T" }, 10,
	    MX_TEMPFAIL, "4.4.3" },
};

static void
spec_answer(struct dns_result *r, enum dns_type type, const char *spec)
{
	if (strcmp(spec, "T") == 0)
		answer_addr(r, DNS_TEMPFAIL, type, NULL);
	else if (strcmp(spec, "N") == 0)
		answer_addr(r, DNS_NXDOMAIN, type, NULL);
	else if (strcmp(spec, "-") == 0)
		answer_addr(r, DNS_NODATA, type, NULL);
	else
		answer_addr(r, DNS_OK, type, spec);
}

static void
test_addresses(void **state)
{
	const struct addr_case	*c = *state;
	struct mx_route		 route;
	struct dns_result	 ra[3], raaaa[3];
	const struct dns_result	*pa[3] = { NULL }, *paaaa[3] = { NULL };
	struct mx_addr		 out[MX_ADDRS_MAX];
	const char		*reason, *enh;
	char			 got[1024], a[INET6_ADDRSTRLEN];
	size_t			 i, n, o = 0;
	enum mx_status		 st;

	memset(&route, 0, sizeof(route));
	for (i = 0; i < 3 && c->hosts[i] != NULL; i++) {
		struct mx_host *h = &route.hosts[route.nhosts++];

		h->port = 25;
		if (c->hosts[i][0] == '[') {
			snprintf(h->name, sizeof(h->name), "%.*s",
			    (int)strlen(c->hosts[i]) - 2, c->hosts[i] + 1);
			h->literal = true;
			continue;
		}
		snprintf(h->name, sizeof(h->name), "%s", c->hosts[i]);
		spec_answer(&ra[i], DNS_T_A, c->a[i]);
		spec_answer(&raaaa[i], DNS_T_AAAA, c->aaaa[i]);
		pa[i] = &ra[i];
		paaaa[i] = &raaaa[i];
	}
	st = mx_addresses(&route, pa, paaaa, out, c->max, &n, &reason, &enh);
	assert_int_equal(st, c->status);
	if (st != MX_OK) {
		assert_int_equal(n, 0);
		assert_non_null(reason);
		assert_string_equal(enh, c->want);
	} else {
		got[0] = '\0';
		for (i = 0; i < n; i++) {
			if (out[i].ss.ss_family == AF_INET6) {
				struct sockaddr_in6 *s6 =
				    (struct sockaddr_in6 *)&out[i].ss;

				inet_ntop(AF_INET6, &s6->sin6_addr, a,
				    sizeof(a));
				assert_int_equal(out[i].sslen, sizeof(*s6));
				o += (size_t)snprintf(got + o, sizeof(got) - o,
				    "%s%zu:[%s]:%u", i ? " " : "", out[i].host,
				    a, ntohs(s6->sin6_port));
			} else {
				struct sockaddr_in *s4 =
				    (struct sockaddr_in *)&out[i].ss;

				inet_ntop(AF_INET, &s4->sin_addr, a,
				    sizeof(a));
				assert_int_equal(out[i].sslen, sizeof(*s4));
				o += (size_t)snprintf(got + o, sizeof(got) - o,
				    "%s%zu:%s:%u", i ? " " : "", out[i].host,
				    a, ntohs(s4->sin_port));
			}
		}
		assert_string_equal(got, c->want);
	}
	for (i = 0; i < route.nhosts; i++) {
		if (pa[i] != NULL)
			answer_free(&ra[i]);
		if (paaaa[i] != NULL)
			answer_free(&raaaa[i]);
	}
}

/* Through all three steps: a plan, its answer, its addresses. */
static void
test_plan_route_addresses_together(void **state)
{
	static const char *const mx[] = {
		"20 mx2.example.org", "10 mx1.example.org", NULL
	};
	struct mx_plan		 plan;
	struct dns_result	 res, a[2], aaaa[2];
	const struct dns_result	*pa[2] = { &a[0], &a[1] };
	const struct dns_result	*paaaa[2] = { &aaaa[0], &aaaa[1] };
	struct mx_route		 r;
	struct mx_addr		 out[4];
	const char		*errstr, *reason, *enh;
	struct rng		 g = { NULL, 0, 0, 0 };
	size_t			 n, i;

	assert_int_equal(mx_plan(NULL, 0, "example.org", &plan, &errstr), 0);
	answer_mx(&res, DNS_OK, mx);
	mx_route(&plan, &res, "mail.example.com", rng_next, &g, &r);
	assert_int_equal(r.nhosts, 2);
	assert_string_equal(r.hosts[0].name, "mx1.example.org");
	answer_addr(&a[0], DNS_OK, DNS_T_A, "127.0.0.2");
	answer_addr(&a[1], DNS_OK, DNS_T_A, "127.0.0.3");
	answer_addr(&aaaa[0], DNS_NODATA, DNS_T_AAAA, NULL);
	answer_addr(&aaaa[1], DNS_NODATA, DNS_T_AAAA, NULL);
	assert_int_equal(mx_addresses(&r, pa, paaaa, out, NELEM(out), &n,
	    &reason, &enh), MX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].host, 0);
	assert_int_equal(out[1].host, 1);
	answer_free(&res);
	for (i = 0; i < 2; i++) {
		answer_free(&a[i]);
		answer_free(&aaaa[i]);
	}
}

static void
test_status_names(void **state)
{
	assert_string_equal(mx_status_name(MX_OK), "ok");
	assert_string_equal(mx_status_name(MX_TEMPFAIL), "tempfail");
	assert_string_equal(mx_status_name(MX_PERMFAIL), "permfail");
}

static char *
test_name(const char *prefix, const char *name)
{
	char	*s;
	size_t	 n;

	n = strlen(prefix) + strlen(name) + 1;
	s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "%s%s", prefix, name);
	return s;
}

static void
add_test(struct CMUnitTest *t, size_t *n, const char *name,
    CMUnitTestFunction fn, const void *row)
{
	t[*n].name = name;
	t[*n].test_func = fn;
	t[*n].setup_func = NULL;
	t[*n].teardown_func = NULL;
	t[*n].initial_state = (void *)(uintptr_t)row;
	(*n)++;
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_route_shuffle_spreads),
	cmocka_unit_test(test_route_no_rnd_without_ties),
	cmocka_unit_test(test_route_keeps_at_most_hosts_max),
	cmocka_unit_test(test_route_direct_plan_ignores_dns),
	cmocka_unit_test(test_plan_route_addresses_together),
	cmocka_unit_test(test_status_names),
};

int
main(void)
{
	struct CMUnitTest	*tests;
	size_t			 i, n = 0, total;
	int			 rc;

	total = NELEM(route_cases) + NELEM(plan_cases) + NELEM(addr_cases) +
	    NELEM(fixed_tests);
	tests = calloc(total, sizeof(*tests));
	assert_non_null(tests);
	for (i = 0; i < NELEM(route_cases); i++)
		add_test(tests, &n, test_name("route: ", route_cases[i].name),
		    test_route, &route_cases[i]);
	for (i = 0; i < NELEM(plan_cases); i++)
		add_test(tests, &n, test_name("plan: ", plan_cases[i].name),
		    test_plan, &plan_cases[i]);
	for (i = 0; i < NELEM(addr_cases); i++)
		add_test(tests, &n, test_name("addresses: ",
		    addr_cases[i].name), test_addresses, &addr_cases[i]);
	for (i = 0; i < NELEM(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	rc = _cmocka_run_group_tests("mx", tests, n, NULL, NULL);
	for (i = 0; i < n - NELEM(fixed_tests); i++)
		free((char *)(uintptr_t)tests[i].name);
	free(tests);
	return rc;
}
