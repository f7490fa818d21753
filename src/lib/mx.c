/*
 * mx: from a recipient domain and DNS answers to the ordered hosts and
 * addresses to try (RFC 5321 §5.1, RFC 7505).  Run by the lookup role or
 * the mta; pure.  It trusts the config and the caller; the DNS answers
 * have been parsed by dns.c but their content is anyone's, so names are
 * checked here before they become hosts.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "dns.h"
#include "mailaddr.h"
#include "mx.h"
#include "util.h"

const char *
mx_status_name(enum mx_status s)
{
	switch (s) {
	case MX_OK:
		return "ok";
	case MX_TEMPFAIL:
		return "tempfail";
	case MX_PERMFAIL:
		return "permfail";
	}
	return "?";
}

static void
mx_lower(char *dst, const char *src, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ?
		    (char)(src[i] | 0x20) : src[i];
	dst[len] = '\0';
}

static bool
mx_is_ip(const char *s)
{
	struct in6_addr	a6;
	struct in_addr	a4;

	return inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1;
}

/*
 * "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 §4.1.3) into the bare
 * address; -1 if it is neither.
 */
static int
mx_literal(const char *domain, size_t len, char *out, size_t outsz)
{
	struct in6_addr	a6;
	struct in_addr	a4;
	const char	*p = domain + 1;
	size_t		 n = len - 2;

	if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
		return -1;
	if (n > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		p += 5;
		n -= 5;
		if (n >= outsz)
			return -1;
		memcpy(out, p, n);
		out[n] = '\0';
		return inet_pton(AF_INET6, out, &a6) == 1 ? 0 : -1;
	}
	if (n >= outsz)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return inet_pton(AF_INET, out, &a4) == 1 ? 0 : -1;
}

int
mx_plan(const struct conf_relay *relays, size_t nrelays, const char *domain,
    struct mx_plan *out, const char **errstr)
{
	const struct conf_relay	*r = NULL;
	size_t			 i, len;

	memset(out, 0, sizeof(*out));
	len = strnlen(domain, MAILADDR_DOMAIN_MAX + 1);
	if (len == 0 || len > MAILADDR_DOMAIN_MAX) {
		*errstr = "bad domain";
		return -1;
	}
	if (domain[0] == '[') {
		if (mx_literal(domain, len, out->name, sizeof(out->name)) ==
		    -1) {
			*errstr = "bad address literal";
			return -1;
		}
		out->literal = true;
	} else if (!dns_hostname_ok(domain, len)) {
		*errstr = "bad domain";
		return -1;
	} else {
		mx_lower(out->name, domain, len);
		out->lookup_mx = true;
	}
	out->port = MX_PORT;

	for (i = 0; i < nrelays; i++) {
		if (strcmp(relays[i].domain, "*") != 0 &&
		    strcasecmp(relays[i].domain, out->name) == 0 &&
		    !out->literal) {
			r = &relays[i];
			break;
		}
	}
	for (i = 0; r == NULL && i < nrelays; i++)
		if (strcmp(relays[i].domain, "*") == 0)
			r = &relays[i];
	if (r != NULL) {
		len = strnlen(r->host, sizeof(r->host));
		if (len > DNS_NAME_MAX) {
			*errstr = "relay host too long";
			return -1;
		}
		mx_lower(out->name, r->host, len);
		out->port = r->port;
		out->literal = mx_is_ip(out->name);
		out->lookup_mx = r->mx && !out->literal;
		out->relay = true;
		out->relay_line = r->line;
	}
	*errstr = NULL;
	return 0;
}

/* An MX record we may use, with its place in the answer for ties. */
struct mx_cand {
	const char	*name;
	uint16_t	 pref;
	size_t		 idx;
};

static int
mx_cand_cmp(const void *a, const void *b)
{
	const struct mx_cand	*x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
mx_fail(struct mx_route *out, enum mx_status st, const char *enh,
    const char *reason)
{
	out->status = st;
	out->enhanced = enh;
	out->reason = reason;
	out->nhosts = 0;
}

static void
mx_add_host(struct mx_route *out, const char *name, uint16_t pref,
    uint16_t port, bool literal, bool implicit)
{
	struct mx_host	*h = &out->hosts[out->nhosts++];
	size_t		 len;

	len = strnlen(name, DNS_NAME_MAX);
	mx_lower(h->name, name, len);
	h->pref = pref;
	h->port = port;
	h->literal = literal;
	h->implicit = implicit;
}

/* Fisher-Yates over c[lo..hi) */
static void
mx_shuffle(struct mx_cand *c, size_t lo, size_t hi,
    uint32_t (*rnd)(void *), void *rndarg)
{
	struct mx_cand	t;
	size_t		i, j;

	for (i = hi - 1; i > lo; i--) {
		j = lo + rnd(rndarg) % (i - lo + 1);
		t = c[i];
		c[i] = c[j];
		c[j] = t;
	}
}

void
mx_route(const struct mx_plan *plan, const struct dns_result *res,
    const char *self, uint32_t (*rnd)(void *), void *rndarg,
    struct mx_route *out)
{
	struct mx_cand	*c;
	size_t		 i, j, n = 0, lo, keep;
	bool		 dup;
	const char	*name;

	memset(out, 0, sizeof(*out));
	out->status = MX_OK;
	if (!plan->lookup_mx) {
		mx_add_host(out, plan->name, 0, plan->port, plan->literal,
		    false);
		return;
	}
	switch (res->status) {
	case DNS_TEMPFAIL:
		mx_fail(out, MX_TEMPFAIL, "4.4.3",
		    "temporary DNS failure looking up MX");
		return;
	case DNS_NXDOMAIN:
		if (plan->relay)
			mx_fail(out, MX_TEMPFAIL, "4.4.3",
			    "relay host does not exist in DNS");
		else
			mx_fail(out, MX_PERMFAIL, "5.1.2",
			    "domain does not exist");
		return;
	case DNS_NODATA:
		/* §5.1: no MX, so the domain is its own implicit MX */
		if (self != NULL && strcasecmp(self, plan->name) == 0) {
			mx_fail(out, MX_PERMFAIL, "5.4.6",
			    "mail for the domain loops back to myself");
			return;
		}
		mx_add_host(out, plan->name, 0, plan->port, false, true);
		return;
	case DNS_OK:
		break;
	}

	if (res->nrrs == 1 && res->rrs[0].type == DNS_T_MX &&
	    res->rrs[0].u.mx.name[0] == '\0') {
		/* RFC 7505 §3: the domain accepts no mail at all */
		mx_fail(out, MX_PERMFAIL, "5.1.10",
		    "domain does not accept mail (null MX)");
		return;
	}
	c = xcalloc(res->nrrs, sizeof(*c));
	for (i = 0; i < res->nrrs; i++) {
		if (res->rrs[i].type != DNS_T_MX)
			continue;
		name = res->rrs[i].u.mx.name;
		/* §5.1 wants host names; RFC 2181 §10.3 no literal */
		if (name[0] == '\0' || mx_is_ip(name) ||
		    !dns_hostname_ok(name, strnlen(name, DNS_NAME_MAX + 1))) {
			out->skipped++;
			continue;
		}
		c[n].name = name;
		c[n].pref = res->rrs[i].u.mx.pref;
		c[n].idx = i;
		n++;
	}
	if (n == 0) {
		free(c);
		mx_fail(out, MX_PERMFAIL, "5.4.4", "no usable MX host");
		return;
	}
	qsort(c, n, sizeof(*c), mx_cand_cmp);
	/* §5.1: equal preferences in random order, to spread the load */
	for (lo = 0; lo < n; lo = i) {
		for (i = lo + 1; i < n && c[i].pref == c[lo].pref; i++)
			;
		if (i - lo > 1)
			mx_shuffle(c, lo, i, rnd, rndarg);
	}
	/*
	 * §5.1: when we are one of the MX hosts, only hosts more preferred
	 * than we are may take the mail; we would only pass it back.
	 */
	keep = n;
	for (i = 0; self != NULL && i < n; i++) {
		if (strcasecmp(c[i].name, self) == 0) {
			for (keep = 0; keep < n && c[keep].pref < c[i].pref;
			    keep++)
				;
			break;
		}
	}
	if (keep == 0) {
		free(c);
		mx_fail(out, MX_PERMFAIL, "5.4.6",
		    "mail for the domain loops back to myself");
		return;
	}
	for (i = 0; i < keep && out->nhosts < MX_HOSTS_MAX; i++) {
		dup = false;
		for (j = 0; j < out->nhosts; j++)
			if (strcasecmp(out->hosts[j].name, c[i].name) == 0)
				dup = true;
		if (!dup)
			mx_add_host(out, c[i].name, c[i].pref, plan->port,
			    false, false);
	}
	free(c);
}

static bool
mx_addr_seen(const struct mx_addr *out, size_t n,
    const struct sockaddr_storage *ss)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (out[i].ss.ss_family != ss->ss_family)
			continue;
		if (ss->ss_family == AF_INET &&
		    memcmp(&((const struct sockaddr_in *)&out[i].ss)->sin_addr,
		    &((const struct sockaddr_in *)ss)->sin_addr, 4) == 0 &&
		    ((const struct sockaddr_in *)&out[i].ss)->sin_port ==
		    ((const struct sockaddr_in *)ss)->sin_port)
			return true;
		if (ss->ss_family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)&out[i].ss)->
		    sin6_addr, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16) == 0 &&
		    ((const struct sockaddr_in6 *)&out[i].ss)->sin6_port ==
		    ((const struct sockaddr_in6 *)ss)->sin6_port)
			return true;
	}
	return false;
}

static void
mx_push(struct mx_addr *out, size_t max, size_t *n, size_t host,
    int family, const void *addr, uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;

	if (*n >= max)
		return;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		if (memcmp(addr, "\0\0\0\0", 4) == 0)
			return;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		len = sizeof(*sin);
	} else {
		if (IN6_IS_ADDR_UNSPECIFIED((const struct in6_addr *)addr))
			return;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
		len = sizeof(*sin6);
	}
	if (mx_addr_seen(out, *n, &ss))
		return;
	out[*n].ss = ss;
	out[*n].sslen = len;
	out[*n].host = host;
	(*n)++;
}

static void
mx_push_answer(const struct dns_result *r, enum dns_type type,
    struct mx_addr *out, size_t max, size_t *n, size_t host, uint16_t port,
    bool *temp)
{
	size_t	i;

	if (r == NULL)
		return;
	if (r->status == DNS_TEMPFAIL) {
		*temp = true;
		return;
	}
	if (r->status != DNS_OK)
		return;
	for (i = 0; i < r->nrrs; i++) {
		if (r->rrs[i].type != type)
			continue;
		if (type == DNS_T_AAAA)
			mx_push(out, max, n, host, AF_INET6,
			    &r->rrs[i].u.aaaa, port);
		else
			mx_push(out, max, n, host, AF_INET, &r->rrs[i].u.a,
			    port);
	}
}

enum mx_status
mx_addresses(const struct mx_route *route, const struct dns_result *const *a,
    const struct dns_result *const *aaaa, struct mx_addr *out, size_t max,
    size_t *nout, const char **reason, const char **enhanced)
{
	const struct mx_host	*h;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	size_t			 i, n = 0;
	bool			 temp = false;

	*reason = NULL;
	*enhanced = NULL;
	if (max > MX_ADDRS_MAX)
		max = MX_ADDRS_MAX;
	for (i = 0; i < route->nhosts; i++) {
		h = &route->hosts[i];
		if (h->literal) {
			if (inet_pton(AF_INET6, h->name, &a6) == 1)
				mx_push(out, max, &n, i, AF_INET6, &a6,
				    h->port);
			else if (inet_pton(AF_INET, h->name, &a4) == 1)
				mx_push(out, max, &n, i, AF_INET, &a4,
				    h->port);
			continue;
		}
		mx_push_answer(aaaa != NULL ? aaaa[i] : NULL, DNS_T_AAAA, out,
		    max, &n, i, h->port, &temp);
		mx_push_answer(a != NULL ? a[i] : NULL, DNS_T_A, out, max, &n,
		    i, h->port, &temp);
	}
	*nout = n;
	if (n > 0)
		return MX_OK;
	if (temp) {
		*reason = "temporary DNS failure looking up host addresses";
		*enhanced = "4.4.3";
		return MX_TEMPFAIL;
	}
	*reason = "no address for any mail host";
	*enhanced = "5.4.4";
	return MX_PERMFAIL;
}
