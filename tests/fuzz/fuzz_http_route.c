/*
 * libFuzzer target for http_route: the request-target and Host parsers
 * and the routing of a whole request.  The first byte picks the method
 * (GET, HEAD, other, POST), HTTP/1.0 or 1.1 and how many Host fields there
 * were (0-2); the rest is the request-target, a NUL, and the Host value
 * (each a heap copy of exactly its length).  Checked: the status is one
 * the router may give, every span it returns lies inside the input (or
 * is the path "/" of an absolute target that has none), a
 * 200 goes to the policy only for mta-sts.<one of our domains> and a
 * path that is exactly the policy's, to client autoconfiguration only
 * on a web listener for one of our domains (or autoconfig. or
 * autodiscover. one) and one of its paths.  Broken invariants call
 * abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_route.h"

static const char	fz_domains[][CONF_NAME_MAX + 1] = {
	"example.org", "a.example",
};

/* s lies in in, or is the "/" an absolute target without path gets. */
static bool
fz_inside(struct span s, struct span in)
{
	return s.len == 0 || (s.ptr >= in.ptr &&
	    s.ptr + s.len <= in.ptr + in.len) ||
	    (s.len == 1 && s.ptr[0] == '/');
}

static bool
fz_caseeq(struct span s, const char *t)
{
	size_t	i, n = strlen(t);
	char	c;

	if (s.len != n)
		return false;
	for (i = 0; i < n; i++) {
		c = s.ptr[i] >= 'A' && s.ptr[i] <= 'Z' ?
		    (char)(s.ptr[i] + 32) : s.ptr[i];
		if (c != t[i])
			return false;
	}
	return true;
}

/* host is label "." domain, or domain when label is "". */
static bool
fz_host(struct span host, const char *label, const char *domain)
{
	char	want[CONF_NAME_MAX + 16];

	(void)snprintf(want, sizeof(want), "%s%s%s", label,
	    label[0] != '\0' ? "." : "", domain);
	return fz_caseeq(host, want);
}

/* A 200 of client autoconfiguration: listener, method, host and path. */
static bool
fz_autoconfig(const struct http_route_req *rq, const struct http_match *mt)
{
	const char	*d = fz_domains[mt->domain];
	bool		 post = mt->handler == HTTP_HANDLER_AUTODISCOVER;

	if ((rq->listener != CONF_LISTEN_HTTPS &&
	    rq->listener != CONF_LISTEN_HTTP) || mt->domain >= 2 ||
	    post != (rq->method == HTTP_M_POST) ||
	    rq->method == HTTP_M_OTHER)
		return false;
	switch (mt->handler) {
	case HTTP_HANDLER_AUTOCONFIG:
		return (fz_host(mt->host, "autoconfig", d) &&
		    span_eq(mt->path, "/mail/config-v1.1.xml")) ||
		    (fz_host(mt->host, "", d) && span_eq(mt->path,
		    "/.well-known/autoconfig/mail/config-v1.1.xml"));
	case HTTP_HANDLER_AUTODISCOVER:
		return (fz_host(mt->host, "autodiscover", d) ||
		    fz_host(mt->host, "", d)) &&
		    (span_eq(mt->path, "/autodiscover/autodiscover.xml") ||
		    span_eq(mt->path, "/Autodiscover/Autodiscover.xml"));
	default:
		return (fz_host(mt->host, "autoconfig", d) ||
		    fz_host(mt->host, "", d)) &&
		    span_eq(mt->path, "/apple/mobileconfig");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned	 methods[] = { HTTP_M_GET, HTTP_M_HEAD,
				    HTTP_M_OTHER, HTTP_M_POST };
	struct http_router	 rt = { http_route_table, http_route_count,
				    fz_domains, 2 };
	static const enum conf_listen_kind listeners[] = {
		CONF_LISTEN_HTTPS, CONF_LISTEN_HTTP, CONF_LISTEN_METRICS };
	struct http_route_req	 rq;
	struct http_match	 mt;
	struct span		 path, host, in;
	const uint8_t		*nul;
	char			*t, *h, want[CONF_NAME_MAX + 16];
	size_t			 tlen, hlen;
	bool			 has_host;

	if (size < 1)
		return 0;
	nul = memchr(data + 1, '\0', size - 1);
	tlen = nul != NULL ? (size_t)(nul - data - 1) : size - 1;
	hlen = nul != NULL ? size - 1 - tlen - 1 : 0;
	t = malloc(tlen > 0 ? tlen : 1);
	h = malloc(hlen > 0 ? hlen : 1);
	if (t == NULL || h == NULL)
		abort();
	memcpy(t, data + 1, tlen);
	if (hlen > 0)
		memcpy(h, nul + 1, hlen);

	/* The parsers alone. */
	in = span_make(h, hlen);
	if (http_route_host(in, &host) == 0 && !fz_inside(host, in))
		abort();
	in = span_make(t, tlen);
	if (http_route_target(in, &path, &host, &has_host) == 0 &&
	    (!fz_inside(path, in) || (has_host && !fz_inside(host, in)) ||
	    path.len == 0))
		abort();

	memset(&rq, 0, sizeof(rq));
	rq.method = methods[data[0] & 3];
	rq.http11 = (data[0] & 4) != 0;
	rq.nhost = (size_t)((data[0] >> 3) & 3) % 3;
	rq.target = span_make(t, tlen);
	rq.host = span_make(h, hlen);
	rq.listener = listeners[(data[0] >> 5) % 3];
	http_route_match(&rt, &rq, &mt);
	if (mt.query.len > 0 && !fz_inside(mt.query, rq.target))
		abort();
	switch (mt.status) {
	case 200:
		if (mt.rest.len > 0 && !fz_inside(mt.rest, mt.path))
			abort();
		if (mt.handler == HTTP_HANDLER_ACME) {
			if (rq.listener != CONF_LISTEN_HTTP ||
			    !span_startswith_case(mt.path,
			    "/.well-known/acme-challenge/"))
				abort();
			break;
		}
		if (mt.handler == HTTP_HANDLER_METRICS) {
			if (rq.listener != CONF_LISTEN_METRICS ||
			    !span_eq(mt.path, "/metrics"))
				abort();
			break;
		}
		if (mt.handler == HTTP_HANDLER_AUTOCONFIG ||
		    mt.handler == HTTP_HANDLER_AUTODISCOVER ||
		    mt.handler == HTTP_HANDLER_MOBILECONFIG) {
			if (!fz_autoconfig(&rq, &mt))
				abort();
			break;
		}
		if (rq.listener != CONF_LISTEN_HTTPS)
			abort();
		if (mt.handler != HTTP_HANDLER_MTA_STS || mt.domain >= 2 ||
		    !span_eq(mt.path, "/.well-known/mta-sts.txt") ||
		    rq.method == HTTP_M_OTHER)
			abort();
		(void)snprintf(want, sizeof(want), "mta-sts.%s",
		    fz_domains[mt.domain]);
		if (!fz_caseeq(mt.host, want))
			abort();
		/* FALLTHROUGH */
	case 404:
	case 405:
		if (!fz_inside(mt.path, rq.target) ||
		    (!fz_inside(mt.host, rq.target) &&
		    !fz_inside(mt.host, rq.host)))
			abort();
		if (mt.status == 405 && mt.allow == 0)
			abort();
		break;
	case 400:
	case 414:
		if (mt.handler != HTTP_HANDLER_NONE)
			abort();
		break;
	default:
		abort();
	}
	free(t);
	free(h);
	return 0;
}
