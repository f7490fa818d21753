/*
 * Unit tests for dns.c.  The rdata parsers run on tables of wire bytes,
 * one cmocka test per row.  The asynchronous path runs for real: a small
 * DNS server inside the test, on a UDP socket on 127.0.0.1 watched by the
 * same libevent loop, answers from a table of names (or stays silent, to
 * make our timer fire); libunbound forwards to it.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "dns.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define B(s)		(const uint8_t *)(s), sizeof(s) - 1

/* Parsers */

struct rdata_case {
	const char	*name;
	enum dns_type	 type;
	const uint8_t	*p;
	size_t		 len;
	int		 rc;
	const char	*text;	/* MX name, TXT data, or NULL */
	unsigned	 num;	/* MX pref, TLSA data length */
};

static const struct rdata_case rdata_cases[] = {
	{ "MX simple", DNS_T_MX,
	    B("\x00\x0a\x02mx\x07" "example\x03org\x00"), 0,
	    "mx.example.org", 10 },
	{ "MX preference 65535", DNS_T_MX,
	    B("\xff\xff\x01" "a\x00"), 0, "a", 65535 },
	{ "MX null (RFC 7505)", DNS_T_MX, B("\x00\x00\x00"), 0, "", 0 },
	{ "PTR simple", DNS_T_PTR, B("\x04host\x07" "example\x00"), 0,
	    "host.example", 0 },
	{ "PTR octets escaped", DNS_T_PTR, B("\x03" "a b\x00"), 0,
	    "a\\032b", 0 },
	{ "PTR trailing octets", DNS_T_PTR, B("\x01" "a\x00x"), -1, NULL,
	    0 },
	{ "PTR empty", DNS_T_PTR, B(""), -1, NULL, 0 },
	{ "MX odd octets escaped", DNS_T_MX,
	    B("\x00\x01\x03" "a.b\x02" "\x00z\x00"), 0, "a\\046b.\\000z", 1 },
	{ "MX underscore kept", DNS_T_MX, B("\x00\x01\x03_ab\x00"), 0,
	    "_ab", 1 },
	{ "MX compression pointer", DNS_T_MX, B("\x00\x0a\xc0\x0c"), -1,
	    NULL, 0 },
	{ "MX extended label type", DNS_T_MX, B("\x00\x0a\x41" "a\x00"), -1,
	    NULL, 0 },
	{ "MX label runs past rdata", DNS_T_MX, B("\x00\x0a\x05" "ab\x00"),
	    -1, NULL, 0 },
	{ "MX no root label", DNS_T_MX, B("\x00\x0a\x02" "ab"), -1, NULL, 0 },
	{ "MX trailing octets", DNS_T_MX, B("\x00\x0a\x01" "a\x00\x00"), -1,
	    NULL, 0 },
	{ "MX too short", DNS_T_MX, B("\x00\x0a"), -1, NULL, 0 },
	{ "MX empty", DNS_T_MX, B(""), -1, NULL, 0 },
	{ "A", DNS_T_A, B("\xc0\x00\x02\x01"), 0, NULL, 0 },
	{ "A short", DNS_T_A, B("\xc0\x00\x02"), -1, NULL, 0 },
	{ "A long", DNS_T_A, B("\xc0\x00\x02\x01\x00"), -1, NULL, 0 },
	{ "AAAA", DNS_T_AAAA,
	    B("\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x01"), 0, NULL, 0 },
	{ "AAAA short", DNS_T_AAAA, B("\x20\x01\x0d\xb8"), -1, NULL, 0 },
	{ "TXT one string", DNS_T_TXT, B("\x0bv=spf1 -all"), 0,
	    "v=spf1 -all", 0 },
	{ "TXT strings joined", DNS_T_TXT, B("\x03v=s\x03pf1\x00\x05 -all"),
	    0, "v=spf1 -all", 0 },
	{ "TXT string runs past rdata", DNS_T_TXT, B("\x05" "abc"), -1, NULL,
	    0 },
	{ "TXT empty rdata", DNS_T_TXT, B(""), -1, NULL, 0 },
	{ "TLSA 3 1 1", DNS_T_TLSA,
	    B("\x03\x01\x01\xaa\xbb\xcc\xdd"), 0, NULL, 4 },
	{ "TLSA without data", DNS_T_TLSA, B("\x03\x01\x01"), -1, NULL, 0 },
	{ "CNAME", DNS_T_CNAME, B("\x02mx\x07" "example\x03org\x00"), 0,
	    "mx.example.org", 0 },
	{ "CNAME trailing octets", DNS_T_CNAME, B("\x01" "a\x00\x00"), -1,
	    NULL, 0 },
	{ "CNAME empty", DNS_T_CNAME, B(""), -1, NULL, 0 },
	{ "SRV 0 1 993", DNS_T_SRV,
	    B("\x00\x00\x00\x01\x03\xe1\x02mx\x07" "example\x03org\x00"),
	    0, "mx.example.org", 993 },
	{ "SRV no service (RFC 2782 \".\")", DNS_T_SRV,
	    B("\x00\x00\x00\x00\x00\x00\x00"), 0, "", 0 },
	{ "SRV without target", DNS_T_SRV, B("\x00\x00\x00\x00\x00\x00"),
	    -1, NULL, 0 },
	{ "SRV trailing octets", DNS_T_SRV,
	    B("\x00\x00\x00\x00\x00\x00\x00\x00"), -1, NULL, 0 },
};

static void
test_rdata(void **state)
{
	const struct rdata_case	*c = *state;
	struct dns_rr		 rr;
	int			 rc;

	rc = dns_parse_rdata(c->type, c->p, c->len, &rr);
	assert_int_equal(rc, c->rc);
	if (rc == -1) {
		dns_rr_clear(&rr);
		return;
	}
	assert_int_equal(rr.type, c->type);
	switch (c->type) {
	case DNS_T_MX:
		assert_string_equal(rr.u.mx.name, c->text);
		assert_int_equal(rr.u.mx.pref, c->num);
		break;
	case DNS_T_PTR:
		assert_string_equal(rr.u.ptr.name, c->text);
		break;
	case DNS_T_CNAME:
		assert_string_equal(rr.u.cname.name, c->text);
		break;
	case DNS_T_SRV:
		/* the cases: priority 0, weight 1 unless "no service" */
		assert_string_equal(rr.u.srv.target, c->text);
		assert_int_equal(rr.u.srv.port, c->num);
		assert_int_equal(rr.u.srv.prio, 0);
		assert_int_equal(rr.u.srv.weight, c->num != 0 ? 1 : 0);
		break;
	case DNS_T_TXT:
		assert_int_equal(rr.u.txt.len, strlen(c->text));
		assert_memory_equal(rr.u.txt.data, c->text, rr.u.txt.len);
		break;
	case DNS_T_TLSA:
		assert_int_equal(rr.u.tlsa.usage, 3);
		assert_int_equal(rr.u.tlsa.selector, 1);
		assert_int_equal(rr.u.tlsa.mtype, 1);
		assert_int_equal(rr.u.tlsa.len, c->num);
		assert_memory_equal(rr.u.tlsa.data, c->p + 3, c->num);
		break;
	case DNS_T_A:
		assert_memory_equal(&rr.u.a, c->p, 4);
		break;
	case DNS_T_AAAA:
		assert_memory_equal(&rr.u.aaaa, c->p, 16);
		break;
	}
	dns_rr_clear(&rr);
}

/* A name of 255 wire octets is the most; 256 is refused. */
static void
test_name_length_limit(void **state)
{
	uint8_t	w[300];
	char	out[DNS_NAME_TEXT_MAX + 1];
	size_t	i, o = 0, used;

	/* 3 labels of 63 and one of 61: 4 * 1 + 63 * 3 + 61 + 1 = 255 */
	for (i = 0; i < 4; i++) {
		size_t l = i < 3 ? 63 : 61;

		w[o++] = (uint8_t)l;
		memset(w + o, 'a', l);
		o += l;
	}
	w[o++] = 0;
	assert_int_equal(o, 255);
	assert_int_equal(dns_parse_name(w, o, out, sizeof(out), &used), 0);
	assert_int_equal(used, 255);
	assert_int_equal(strlen(out), 253);
	/* one more octet in the last label */
	o = 0;
	for (i = 0; i < 4; i++) {
		size_t l = i < 3 ? 63 : 62;

		w[o++] = (uint8_t)l;
		memset(w + o, 'a', l);
		o += l;
	}
	w[o++] = 0;
	assert_int_equal(dns_parse_name(w, o, out, sizeof(out), &used), -1);
}

/* The text of a name of odd octets fits the documented size. */
static void
test_name_escaped_worst_case(void **state)
{
	uint8_t	w[300];
	char	out[DNS_NAME_TEXT_MAX + 1];
	size_t	i, o = 0, used;

	for (i = 0; i < 4; i++) {
		size_t l = i < 3 ? 63 : 61;

		w[o++] = (uint8_t)l;
		memset(w + o, 0xff, l);
		o += l;
	}
	w[o++] = 0;
	assert_int_equal(dns_parse_name(w, o, out, sizeof(out), &used), 0);
	assert_int_equal(strlen(out), 250 * 4 + 3);
	assert_memory_equal(out, "\\255\\255", 8);
	/* an output buffer one short is refused, not overrun */
	assert_int_equal(dns_parse_name(w, o, out, 250 * 4 + 3, &used), -1);
}

struct host_case {
	const char	*name;
	bool		 ok;
};

static const struct host_case host_cases[] = {
	{ "mx.example.org", true },
	{ "a", true },
	{ "a-b.c0", true },
	{ "xn--bcher-kva.example", true },
	{ "", false },
	{ "mx.example.org.", false },
	{ ".example", false },
	{ "a..b", false },
	{ "-a.example", false },
	{ "a-.example", false },
	{ "a_b.example", false },
	{ "a\\046b.example", false },
	{ "192.0.2.1", false },
	{ "mx.123", false },
	{ "123.example", true },
	{ "a b.example", false },
};

static void
test_hostname(void **state)
{
	const struct host_case	*c = *state;

	assert_int_equal(dns_hostname_ok(c->name, strlen(c->name)), c->ok);
}

static void
test_hostname_limits(void **state)
{
	char	n[300];

	memset(n, 'a', 63);
	assert_true(dns_hostname_ok(n, 63));
	memset(n, 'a', 64);
	assert_false(dns_hostname_ok(n, 64));
	/* 253 octets in labels of 63 */
	memset(n, 'a', 253);
	n[63] = n[127] = n[191] = '.';
	assert_true(dns_hostname_ok(n, 253));
	n[253] = 'a';
	assert_false(dns_hostname_ok(n, 254));
}

/* The test DNS server */

#define ZONE_RRS_MAX	4

struct zone_rr {
	uint16_t	type;
	uint8_t		rdata[256];
	size_t		len;
};

struct zone_entry {
	const char	*name;
	uint16_t	 type;
	int		 rcode;		/* 0, 2 (SERVFAIL), 3 (NXDOMAIN) */
	bool		 drop;		/* never answer */
	struct zone_rr	 rrs[ZONE_RRS_MAX];
	size_t		 nrrs;
};

struct server {
	int			 fd;
	struct sockaddr_in	 sin;
	struct event		*ev;
	struct zone_entry	*zone;
	size_t			 nzone;
	unsigned		 queries;
};

static size_t
wire_name(const char *text, uint8_t *out)
{
	size_t		 o = 0;
	const char	*p = text, *dot;

	while (*p != '\0') {
		dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[o++] = 0;
	return o;
}

static void
rr_mx(struct zone_entry *z, uint16_t pref, const char *name)
{
	struct zone_rr	*r = &z->rrs[z->nrrs++];

	r->type = DNS_T_MX;
	r->rdata[0] = (uint8_t)(pref >> 8);
	r->rdata[1] = (uint8_t)pref;
	r->len = 2 + wire_name(name, r->rdata + 2);
}

static void
rr_raw(struct zone_entry *z, uint16_t type, const void *p, size_t len)
{
	struct zone_rr	*r = &z->rrs[z->nrrs++];

	r->type = type;
	memcpy(r->rdata, p, len);
	r->len = len;
}

static void
put16(uint8_t *p, size_t *o, unsigned v)
{
	p[(*o)++] = (uint8_t)(v >> 8);
	p[(*o)++] = (uint8_t)v;
}

static void
put32(uint8_t *p, size_t *o, uint32_t v)
{
	put16(p, o, v >> 16);
	put16(p, o, v & 0xffff);
}

static void
server_read(evutil_socket_t fd, short ev, void *arg)
{
	struct server		*s = arg;
	uint8_t			 q[512], r[1500];
	struct sockaddr_in	 from;
	socklen_t		 fromlen = sizeof(from);
	char			 name[300];
	ssize_t			 n;
	size_t			 i, o = 0, qend, nlen = 0, k;
	uint16_t		 qtype;
	struct zone_entry	*z = NULL, nodata;
	bool			 known = false;

	memset(&nodata, 0, sizeof(nodata));
	n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
	if (n < 12 + 5)
		return;
	s->queries++;
	/* the question name, as text, lower case */
	i = 12;
	while (i < (size_t)n && q[i] != 0) {
		size_t l = q[i++];

		if (l > 63 || i + l > (size_t)n || nlen + l + 2 > sizeof(name))
			return;
		if (nlen > 0)
			name[nlen++] = '.';
		for (k = 0; k < l; k++)
			name[nlen++] = (char)(q[i + k] >= 'A' &&
			    q[i + k] <= 'Z' ? q[i + k] | 0x20 : q[i + k]);
		i += l;
	}
	name[nlen] = '\0';
	qend = i + 1 + 4;
	if (qend > (size_t)n)
		return;
	qtype = (uint16_t)(q[i + 1] << 8 | q[i + 2]);
	for (k = 0; k < s->nzone; k++) {
		if (strcmp(s->zone[k].name, name) != 0)
			continue;
		known = true;
		if (s->zone[k].type == qtype || s->zone[k].rcode == 3 ||
		    s->zone[k].drop)
			z = &s->zone[k];
	}
	if (z != NULL && z->drop)
		return;
	if (z == NULL && known)
		z = &nodata;
	memcpy(r, q, qend);
	/* QR, opcode 0, AA, RD as asked, RA */
	r[2] = 0x84 | (q[2] & 0x01);
	r[3] = 0x80 | (z != NULL ? (uint8_t)z->rcode : 3);
	o = 4;
	put16(r, &o, 1);
	put16(r, &o, z != NULL && z->rcode == 0 ? (unsigned)z->nrrs : 0);
	put16(r, &o, 0);
	put16(r, &o, 0);
	o = qend;
	if (z != NULL && z->rcode == 0) {
		for (k = 0; k < z->nrrs; k++) {
			put16(r, &o, 0xc00c);
			put16(r, &o, z->rrs[k].type);
			put16(r, &o, 1);
			put32(r, &o, 60);
			put16(r, &o, (unsigned)z->rrs[k].len);
			memcpy(r + o, z->rrs[k].rdata, z->rrs[k].len);
			o += z->rrs[k].len;
		}
	}
	if (z == NULL || z->nrrs == 0) {
		/* negative answer: the SOA of "test." in authority */
		uint8_t	soa[64];
		size_t	sl = 0;

		r[9] = 1;
		o += wire_name("test", r + o);
		put16(r, &o, 6);
		put16(r, &o, 1);
		put32(r, &o, 5);
		sl = wire_name("ns.test", soa);
		sl += wire_name("h.test", soa + sl);
		put32(soa, &sl, 1);
		put32(soa, &sl, 60);
		put32(soa, &sl, 60);
		put32(soa, &sl, 60);
		put32(soa, &sl, 5);
		put16(r, &o, (unsigned)sl);
		memcpy(r + o, soa, sl);
		o += sl;
	}
	(void)sendto(fd, r, o, 0, (struct sockaddr *)&from, fromlen);
}

struct world {
	struct event_base	*base;
	struct server		 srv;
	struct zone_entry	 zone[16];
	struct dns		*dns;
	char			 resolver[64];
	/* the last answer, copied */
	int			 answers;
	enum dns_status		 status;
	bool			 timeout;
	int			 rcode;
	size_t			 nrrs;
	char			 text[4][300];
	unsigned		 num[4];
	char			 qname[300];
};

static struct zone_entry *
zone_add(struct world *w, const char *name, uint16_t type)
{
	struct zone_entry	*z = &w->zone[w->srv.nzone++];

	memset(z, 0, sizeof(*z));
	z->name = name;
	z->type = type;
	return z;
}

static int
world_setup(void **state)
{
	struct world		*w;
	struct zone_entry	*z;
	socklen_t		 len;
	const char		*errstr;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	if ((w->base = event_base_new()) == NULL) {
		free(w);
		return -1;
	}
	w->srv.zone = w->zone;
	z = zone_add(w, "two.test", DNS_T_MX);
	rr_mx(z, 20, "mx2.two.test");
	rr_mx(z, 10, "mx1.two.test");
	z = zone_add(w, "nullmx.test", DNS_T_MX);
	rr_raw(z, DNS_T_MX, "\x00\x00\x00", 3);
	z = zone_add(w, "gone.test", DNS_T_MX);
	z->rcode = 3;
	z = zone_add(w, "broken.test", DNS_T_MX);
	z->rcode = 2;
	z = zone_add(w, "slow.test", DNS_T_MX);
	z->drop = true;
	z = zone_add(w, "host.test", DNS_T_A);
	rr_raw(z, DNS_T_A, "\x7f\x00\x00\x02", 4);
	z = zone_add(w, "host.test", DNS_T_AAAA);
	rr_raw(z, DNS_T_AAAA, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x25",
	    16);
	z = zone_add(w, "host.test", DNS_T_TXT);
	rr_raw(z, DNS_T_TXT, "\x06v=spf1\x05 -all", 13);
	z = zone_add(w, "3.2.0.192.in-addr.arpa", DNS_T_PTR);
	rr_raw(z, DNS_T_PTR, "\x04host\x04test\x00", 11);
	/* octets no host name has, as SPF macros make them */
	z = zone_add(w, "9.0.168.192.in-addr.arpa", DNS_T_PTR);
	rr_raw(z, DNS_T_PTR, "\x04host\x04test\x00", 11);
	z = zone_add(w, "sp ace+x.test", DNS_T_TXT);
	rr_raw(z, DNS_T_TXT, "\x02ok", 3);
	z = zone_add(w, "_25._tcp.host.test", DNS_T_TLSA);
	rr_raw(z, DNS_T_TLSA, "\x03\x01\x01\x01\x02\x03", 6);

	if ((w->srv.fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	w->srv.sin.sin_family = AF_INET;
	w->srv.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(w->srv.fd, (struct sockaddr *)&w->srv.sin,
	    sizeof(w->srv.sin)) == -1)
		return -1;
	len = sizeof(w->srv.sin);
	if (getsockname(w->srv.fd, (struct sockaddr *)&w->srv.sin,
	    &len) == -1)
		return -1;
	w->srv.ev = event_new(w->base, w->srv.fd, EV_READ | EV_PERSIST,
	    server_read, &w->srv);
	event_add(w->srv.ev, NULL);
	snprintf(w->resolver, sizeof(w->resolver), "127.0.0.1:%u",
	    ntohs(w->srv.sin.sin_port));
	w->dns = dns_new(w->base, w->resolver, &errstr);
	if (w->dns == NULL) {
		fprintf(stderr, "dns_new: %s\n", errstr);
		return -1;
	}
	*state = w;
	return 0;
}

static int
world_teardown(void **state)
{
	struct world	*w = *state;

	dns_free(w->dns);
	event_free(w->srv.ev);
	close(w->srv.fd);
	event_base_free(w->base);
	free(w);
	return 0;
}

static void
on_answer(void *arg, const struct dns_result *res)
{
	struct world	*w = arg;
	size_t		 i;

	w->answers++;
	w->status = res->status;
	w->timeout = res->timeout;
	w->rcode = res->rcode;
	w->nrrs = res->nrrs;
	snprintf(w->qname, sizeof(w->qname), "%s", res->qname);
	for (i = 0; i < res->nrrs && i < 4; i++) {
		const struct dns_rr *rr = &res->rrs[i];
		char a[INET6_ADDRSTRLEN];

		switch (rr->type) {
		case DNS_T_MX:
			snprintf(w->text[i], sizeof(w->text[i]), "%s",
			    rr->u.mx.name);
			w->num[i] = rr->u.mx.pref;
			break;
		case DNS_T_PTR:
			snprintf(w->text[i], sizeof(w->text[i]), "%s",
			    rr->u.ptr.name);
			break;
		case DNS_T_CNAME:
			snprintf(w->text[i], sizeof(w->text[i]), "%s",
			    rr->u.cname.name);
			break;
		case DNS_T_SRV:
			w->num[i] = rr->u.srv.port;
			snprintf(w->text[i], sizeof(w->text[i]), "%s",
			    rr->u.srv.target);
			break;
		case DNS_T_A:
			inet_ntop(AF_INET, &rr->u.a, a, sizeof(a));
			snprintf(w->text[i], sizeof(w->text[i]), "%s", a);
			break;
		case DNS_T_AAAA:
			inet_ntop(AF_INET6, &rr->u.aaaa, a, sizeof(a));
			snprintf(w->text[i], sizeof(w->text[i]), "%s", a);
			break;
		case DNS_T_TXT:
			snprintf(w->text[i], sizeof(w->text[i]), "%.*s",
			    (int)rr->u.txt.len, rr->u.txt.data);
			break;
		case DNS_T_TLSA:
			w->num[i] = (unsigned)rr->u.tlsa.len;
			snprintf(w->text[i], sizeof(w->text[i]), "%u %u %u",
			    rr->u.tlsa.usage, rr->u.tlsa.selector,
			    rr->u.tlsa.mtype);
			break;
		}
	}
	event_base_loopbreak(w->base);
}

static void
on_guard(evutil_socket_t fd, short ev, void *arg)
{
	event_base_loopbreak(arg);
}

/* Run the loop until an answer or ms milliseconds. */
static void
run(struct world *w, unsigned ms)
{
	struct event	*guard;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	guard = evtimer_new(w->base, on_guard, w->base);
	evtimer_add(guard, &tv);
	event_base_dispatch(w->base);
	event_free(guard);
}

static void
ask(struct world *w, const char *name, enum dns_type type)
{
	const char	*errstr;

	w->answers = 0;
	assert_non_null(dns_query(w->dns, name, type, on_answer, w, &errstr));
	assert_int_equal(dns_pending(w->dns), 1);
	run(w, 5000);
	assert_int_equal(w->answers, 1);
	assert_int_equal(dns_pending(w->dns), 0);
}

static void
test_live_mx_two_records(void **state)
{
	struct world	*w = *state;

	ask(w, "two.test", DNS_T_MX);
	assert_int_equal(w->status, DNS_OK);
	assert_int_equal(w->rcode, 0);
	assert_int_equal(w->nrrs, 2);
	assert_string_equal(w->qname, "two.test");
	/* the order is the server's: sorting is mx.c's job */
	assert_true((strcmp(w->text[0], "mx2.two.test") == 0 &&
	    w->num[0] == 20 && strcmp(w->text[1], "mx1.two.test") == 0 &&
	    w->num[1] == 10) || (strcmp(w->text[1], "mx2.two.test") == 0 &&
	    w->num[1] == 20 && strcmp(w->text[0], "mx1.two.test") == 0 &&
	    w->num[0] == 10));
}

static void
test_live_null_mx(void **state)
{
	struct world	*w = *state;

	ask(w, "nullmx.test", DNS_T_MX);
	assert_int_equal(w->status, DNS_OK);
	assert_int_equal(w->nrrs, 1);
	assert_string_equal(w->text[0], "");
	assert_int_equal(w->num[0], 0);
}

static void
test_live_nxdomain(void **state)
{
	struct world	*w = *state;

	ask(w, "gone.test", DNS_T_MX);
	assert_int_equal(w->status, DNS_NXDOMAIN);
	assert_int_equal(w->nrrs, 0);
}

static void
test_live_nodata(void **state)
{
	struct world	*w = *state;

	/* host.test has A records but no MX: §5.1 implicit MX territory */
	ask(w, "host.test", DNS_T_MX);
	assert_int_equal(w->status, DNS_NODATA);
	assert_int_equal(w->nrrs, 0);
}

static void
test_live_servfail_is_tempfail(void **state)
{
	struct world	*w = *state;

	ask(w, "broken.test", DNS_T_MX);
	assert_int_equal(w->status, DNS_TEMPFAIL);
	assert_false(w->timeout);
}

static void
test_live_timeout_is_tempfail(void **state)
{
	struct world	*w = *state;
	unsigned	 before = w->srv.queries;

	dns_set_timeout(w->dns, 300);
	ask(w, "slow.test", DNS_T_MX);
	assert_int_equal(w->status, DNS_TEMPFAIL);
	assert_true(w->timeout);
	assert_true(w->srv.queries > before);
	dns_set_timeout(w->dns, 0);
}

static void
test_live_a(void **state)
{
	struct world	*w = *state;

	ask(w, "host.test", DNS_T_A);
	assert_int_equal(w->status, DNS_OK);
	assert_int_equal(w->nrrs, 1);
	assert_string_equal(w->text[0], "127.0.0.2");
}

static void
test_live_aaaa(void **state)
{
	struct world	*w = *state;

	ask(w, "host.test.", DNS_T_AAAA);
	assert_int_equal(w->status, DNS_OK);
	assert_int_equal(w->nrrs, 1);
	assert_string_equal(w->text[0], "2001:db8::25");
}

static void
test_live_txt(void **state)
{
	struct world	*w = *state;

	ask(w, "HOST.test", DNS_T_TXT);
	assert_int_equal(w->status, DNS_OK);
	assert_string_equal(w->text[0], "v=spf1 -all");
}

static void
test_live_tlsa(void **state)
{
	struct world	*w = *state;

	ask(w, "_25._tcp.host.test", DNS_T_TLSA);
	assert_int_equal(w->status, DNS_OK);
	assert_string_equal(w->text[0], "3 1 1");
	assert_int_equal(w->num[0], 3);
	/* no trust anchor: nothing is "secure" */
}

static void
test_live_cancel(void **state)
{
	struct world		*w = *state;
	struct dns_query	*q;
	const char		*errstr;

	w->answers = 0;
	q = dns_query(w->dns, "two.test", DNS_T_MX, on_answer, w, &errstr);
	assert_non_null(q);
	dns_cancel(q);
	assert_int_equal(dns_pending(w->dns), 0);
	run(w, 300);
	assert_int_equal(w->answers, 0);
}

/* Cancelled in flight, then freed: no callback, no leak (ASan). */
static void
test_live_free_with_pending(void **state)
{
	struct world	*w = *state;
	const char	*errstr;

	w->answers = 0;
	assert_non_null(dns_query(w->dns, "slow.test", DNS_T_MX, on_answer,
	    w, &errstr));
	assert_non_null(dns_query(w->dns, "two.test", DNS_T_A, on_answer,
	    w, &errstr));
	assert_int_equal(dns_pending(w->dns), 2);
	dns_free(w->dns);
	w->dns = NULL;
	assert_int_equal(w->answers, 0);
}

static void
test_live_ptr(void **state)
{
	struct world	*w = *state;

	ask(w, "3.2.0.192.in-addr.arpa", DNS_T_PTR);
	assert_int_equal(w->status, DNS_OK);
	assert_int_equal(w->nrrs, 1);
	assert_string_equal(w->text[0], "host.test");
	/* and a private network's (RFC 6303) */
	ask(w, "9.0.168.192.in-addr.arpa", DNS_T_PTR);
	assert_int_equal(w->status, DNS_OK);
	assert_string_equal(w->text[0], "host.test");
}

/* RFC 1035 §5.1 escapes reach the wire as the octets they stand for. */
static void
test_live_escaped_name(void **state)
{
	struct world	*w = *state;

	ask(w, "sp\\032ace\\043x.test", DNS_T_TXT);
	assert_int_equal(w->status, DNS_OK);
	assert_string_equal(w->text[0], "ok");
}

static void
test_bad_query_names(void **state)
{
	struct world	*w = *state;
	const char	*errstr = NULL;
	char		 big[300];
	static const char *const bad[] = {
		"", ".", "a..b", "a b", "a\\.b", "\xc3\xa9.example", ".a",
		"a.b..", "a\\03.b", "a\\256.b", "a\\", "a\\0",
	};
	size_t		 i;

	for (i = 0; i < NELEM(bad); i++) {
		errstr = NULL;
		assert_null(dns_query(w->dns, bad[i], DNS_T_A, on_answer, w,
		    &errstr));
		assert_non_null(errstr);
	}
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_null(dns_query(w->dns, big, DNS_T_A, on_answer, w, &errstr));
	memset(big, 'a', 64);
	big[64] = '\0';
	assert_null(dns_query(w->dns, big, DNS_T_A, on_answer, w, &errstr));
	assert_int_equal(dns_pending(w->dns), 0);
}

static void
test_resolver_forms(void **state)
{
	struct event_base	*base = event_base_new();
	struct dns		*d;
	const char		*errstr;
	static const char *const good[] = {
		"127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1", "[::1]",
		"2001:db8::1",
	};
	static const char *const bad[] = {
		"", "localhost", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:x", "[::1", "[127.0.0.1]:53", "1.2.3.4.5",
		"[::1]x", "127.0.0.1:+53",
	};
	size_t			 i;

	for (i = 0; i < NELEM(good); i++) {
		d = dns_new(base, good[i], &errstr);
		if (d == NULL)
			fail_msg("%s: %s", good[i], errstr);
		dns_free(d);
	}
	for (i = 0; i < NELEM(bad); i++) {
		errstr = NULL;
		assert_null(dns_new(base, bad[i], &errstr));
		assert_non_null(errstr);
	}
	dns_free(NULL);
	event_base_free(base);
}

static void
test_trust_anchor_after_query(void **state)
{
	struct world	*w = *state;
	const char	*errstr;

	ask(w, "host.test", DNS_T_A);
	assert_int_equal(dns_set_trust_anchor(w->dns, "/nonexistent",
	    &errstr), -1);
	assert_string_equal(errstr, "trust anchor set after the first query");
}

/* dns_ta_parse's callback: the records, joined by "|". */
static int
ta_collect(void *arg, const char *rec)
{
	char	*out = arg;
	size_t	 n = strlen(out);

	if (n > 0)
		out[n++] = '|';
	if (n + strlen(rec) + 1 > 4096)
		return -1;
	memcpy(out + n, rec, strlen(rec) + 1);
	return 0;
}

/* Parse text as a trust anchor file: 0/-1, records in out, errstr. */
static int
ta_parse(const char *text, char *out, const char **errstr)
{
	char	*buf = strdup(text);
	int	 rc;

	assert_non_null(buf);
	out[0] = '\0';
	rc = dns_ta_parse(buf, strlen(buf), ta_collect, out, errstr);
	free(buf);
	return rc;
}

static void
test_trust_anchor_records(void **state)
{
	char		 out[4096];
	const char	*errstr;

	/* Debian's root.key form: one record a line, a comment after it */
	assert_int_equal(ta_parse(". IN DNSKEY 257 3 8 AwEAAa ; keytag 20326\n"
	    ". IN DS 20326 8 2 E06D44B8\n", out, &errstr), 0);
	assert_string_equal(out, ". IN DNSKEY 257 3 8 AwEAAa|"
	    ". IN DS 20326 8 2 E06D44B8");
	/* ldns-keygen's .ds: tabs, TTL, no final newline */
	assert_int_equal(ta_parse("sec.test.\t3600\tIN\tDS\t1 13 2 ab",
	    out, &errstr), 0);
	assert_string_equal(out, "sec.test. 3600 IN DS 1 13 2 ab");
	/* RFC 1035 §5.1: parentheses span lines; comments inside them */
	assert_int_equal(ta_parse("; a file comment\n\n"
	    "example. IN DNSKEY ( 257 3 13 ; flags, protocol, algorithm\n"
	    "   AAAA\r\n   BBBB )\n", out, &errstr), 0);
	assert_string_equal(out, "example. IN DNSKEY 257 3 13 AAAA BBBB");
}

static void
test_trust_anchor_refused(void **state)
{
	char		 out[4096], big[8192];
	const char	*errstr;
	size_t		 i, o = 0;

	assert_int_equal(ta_parse("example. IN A 192.0.2.1\n", out, &errstr),
	    -1);
	assert_string_equal(errstr, "trust anchor: not a DS or DNSKEY record");
	assert_int_equal(ta_parse("; only a comment\n\n", out, &errstr), -1);
	assert_string_equal(errstr, "trust anchor: no record");
	assert_int_equal(ta_parse("example. IN DS ( 1 13 2 ab\n", out,
	    &errstr), -1);
	assert_string_equal(errstr, "trust anchor: unbalanced parentheses");
	/* a record over 4 KiB of text */
	o = (size_t)snprintf(big, sizeof(big), "example. IN DS 1 13 2 ");
	for (i = 0; i < 5000; i++)
		big[o++] = 'a';
	big[o] = '\0';
	assert_int_equal(ta_parse(big, out, &errstr), -1);
	/* more than 64 records */
	for (o = 0, i = 0; i < 65; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o,
		    ". IN DS %zu 8 2 AB\n", i);
	assert_int_equal(ta_parse(big, out, &errstr), -1);
	assert_string_equal(errstr, "trust anchor: too many records");
}

static void
test_trust_anchor_file(void **state)
{
	struct world	*w = *state;
	static const char root_ds[] = ". IN DS 20326 8 2 E06D44B80B8F1D39"
	    "A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n";
	char		 path[] = "/tmp/test_dns_taXXXXXX";
	const char	*errstr = NULL;
	int		 fd;

	assert_int_equal(dns_set_trust_anchor(w->dns, "/nonexistent",
	    &errstr), -1);
	assert_string_equal(errstr, "cannot open the trust anchor file");
	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "test. IN A 192.0.2.1\n", 21), 21);
	close(fd);
	assert_int_equal(dns_set_trust_anchor(w->dns, path, &errstr), -1);
	assert_string_equal(errstr, "trust anchor: not a DS or DNSKEY record");
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd != -1);
	assert_int_equal(write(fd, root_ds, strlen(root_ds)),
	    (ssize_t)strlen(root_ds));
	close(fd);
	assert_int_equal(dns_set_trust_anchor(w->dns, path, &errstr), 0);
	assert_null(errstr);
	unlink(path);
}

static void
test_names(void **state)
{
	assert_string_equal(dns_type_name(DNS_T_TLSA), "TLSA");
	assert_string_equal(dns_type_name(DNS_T_MX), "MX");
	assert_string_equal(dns_status_name(DNS_NXDOMAIN), "nxdomain");
	assert_string_equal(dns_status_name(DNS_TEMPFAIL), "tempfail");
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
	cmocka_unit_test(test_name_length_limit),
	cmocka_unit_test(test_name_escaped_worst_case),
	cmocka_unit_test(test_hostname_limits),
	cmocka_unit_test(test_resolver_forms),
	cmocka_unit_test(test_names),
	cmocka_unit_test_setup_teardown(test_live_mx_two_records,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_null_mx,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_nxdomain,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_nodata,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_servfail_is_tempfail,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_timeout_is_tempfail,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_a,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_aaaa,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_txt,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_tlsa,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_cancel,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_free_with_pending,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_ptr,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_live_escaped_name,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_bad_query_names,
	    world_setup, world_teardown),
	cmocka_unit_test_setup_teardown(test_trust_anchor_after_query,
	    world_setup, world_teardown),
	cmocka_unit_test(test_trust_anchor_records),
	cmocka_unit_test(test_trust_anchor_refused),
	cmocka_unit_test_setup_teardown(test_trust_anchor_file,
	    world_setup, world_teardown),
};

int
main(void)
{
	struct CMUnitTest	*tests;
	size_t			 i, n = 0, total;
	int			 rc;

	total = NELEM(rdata_cases) + NELEM(host_cases) + NELEM(fixed_tests);
	tests = calloc(total, sizeof(*tests));
	assert_non_null(tests);
	for (i = 0; i < NELEM(rdata_cases); i++)
		add_test(tests, &n, test_name("rdata: ", rdata_cases[i].name),
		    test_rdata, &rdata_cases[i]);
	for (i = 0; i < NELEM(host_cases); i++)
		add_test(tests, &n, test_name("hostname: ",
		    host_cases[i].name), test_hostname, &host_cases[i]);
	for (i = 0; i < NELEM(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	rc = _cmocka_run_group_tests("dns", tests, n, NULL, NULL);
	for (i = 0; i < n - NELEM(fixed_tests); i++)
		free((char *)(uintptr_t)tests[i].name);
	free(tests);
	return rc;
}
