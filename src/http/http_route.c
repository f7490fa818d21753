/*
 * http_route: which handler of the http role answers a request (see
 * http_route.h).  Pure, and fed by the network: every byte is checked,
 * no NUL is relied upon.
 */
#include <string.h>

#include "http/http_route.h"

/*
 * The routes, first match wins.  RFC 8461 §3.3: the policy is at
 * https://mta-sts.<domain>/.well-known/mta-sts.txt, and fetched with GET.
 */
const struct http_route http_route_table[] = {
	{ HTTP_HOST_LABEL, "mta-sts", "/.well-known/mta-sts.txt",
	    HTTP_M_GET | HTTP_M_HEAD, HTTP_HANDLER_MTA_STS,
	    HTTP_ON(CONF_LISTEN_HTTPS), false },
	/*
	 * RFC 8555 §8.3: the ACME server fetches
	 * http://<name>/.well-known/acme-challenge/<token> on port 80.
	 */
	{ HTTP_HOST_ANY, NULL, "/.well-known/acme-challenge/",
	    HTTP_M_GET | HTTP_M_HEAD, HTTP_HANDLER_ACME,
	    HTTP_ON(CONF_LISTEN_HTTP), true },
	/* The metrics listener serves /metrics alone. */
	{ HTTP_HOST_ANY, NULL, "/metrics", HTTP_M_GET | HTTP_M_HEAD,
	    HTTP_HANDLER_METRICS, HTTP_ON(CONF_LISTEN_METRICS), false },
	/*
	 * Client autoconfiguration, over HTTPS and plain HTTP (Thunderbird
	 * tries both).  Thunderbird asks autoconfig.<domain> for
	 * /mail/config-v1.1.xml, then the domain for the well-known path.
	 */
	{ HTTP_HOST_LABEL, "autoconfig", "/mail/config-v1.1.xml",
	    HTTP_M_GET | HTTP_M_HEAD, HTTP_HANDLER_AUTOCONFIG, HTTP_ON_WEB,
	    false },
	{ HTTP_HOST_DOMAIN, NULL,
	    "/.well-known/autoconfig/mail/config-v1.1.xml",
	    HTTP_M_GET | HTTP_M_HEAD, HTTP_HANDLER_AUTOCONFIG, HTTP_ON_WEB,
	    false },
	/*
	 * Outlook POSTs to https://<domain>/autodiscover/autodiscover.xml,
	 * then to autodiscover.<domain>; Apple's clients spell it with
	 * capitals.
	 */
	{ HTTP_HOST_LABEL, "autodiscover", "/autodiscover/autodiscover.xml",
	    HTTP_M_POST, HTTP_HANDLER_AUTODISCOVER, HTTP_ON_WEB, false },
	{ HTTP_HOST_DOMAIN, NULL, "/autodiscover/autodiscover.xml",
	    HTTP_M_POST, HTTP_HANDLER_AUTODISCOVER, HTTP_ON_WEB, false },
	{ HTTP_HOST_LABEL, "autodiscover", "/Autodiscover/Autodiscover.xml",
	    HTTP_M_POST, HTTP_HANDLER_AUTODISCOVER, HTTP_ON_WEB, false },
	{ HTTP_HOST_DOMAIN, NULL, "/Autodiscover/Autodiscover.xml",
	    HTTP_M_POST, HTTP_HANDLER_AUTODISCOVER, HTTP_ON_WEB, false },
	/* An Apple profile for ?emailaddress=, opened in Safari. */
	{ HTTP_HOST_LABEL, "autoconfig", "/apple/mobileconfig",
	    HTTP_M_GET | HTTP_M_HEAD, HTTP_HANDLER_MOBILECONFIG, HTTP_ON_WEB,
	    false },
	{ HTTP_HOST_DOMAIN, NULL, "/apple/mobileconfig",
	    HTTP_M_GET | HTTP_M_HEAD, HTTP_HANDLER_MOBILECONFIG, HTTP_ON_WEB,
	    false },
};
const size_t http_route_count =
    sizeof(http_route_table) / sizeof(http_route_table[0]);

static char
http_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool
http_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 3986 §3.2.2 reg-name: unreserved, pct-encoded, sub-delims. */
static bool
http_regname_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    http_is_digit(c) || strchr("-._~%!$&'()*+,;=", c) != NULL;
}

int
http_route_host(struct span v, struct span *host_out)
{
	const char	*p = v.ptr;
	size_t		 n = v.len, i, hlen;

	if (n > HTTP_ROUTE_HOST_MAX)
		return -1;
	if (n == 0) {
		*host_out = span_make(p, 0);
		return 0;
	}
	if (p[0] == '[') {
		/* IP-literal: hex digits, colons, dots (v4 tail), no zone. */
		for (i = 1; i < n && p[i] != ']'; i++)
			if (!http_is_digit(p[i]) && p[i] != ':' &&
			    p[i] != '.' && !(http_lower(p[i]) >= 'a' &&
			    http_lower(p[i]) <= 'f'))
				return -1;
		if (i == n || i == 1)
			return -1;
		hlen = i + 1;
	} else {
		for (i = 0; i < n && p[i] != ':'; i++)
			if (!http_regname_char(p[i]))
				return -1;
		hlen = i;
	}
	/* ":" port, the port possibly empty (RFC 3986 §3.2.3). */
	if (hlen < n) {
		if (p[hlen] != ':' || n - hlen - 1 > 5)
			return -1;
		for (i = hlen + 1; i < n; i++)
			if (!http_is_digit(p[i]))
				return -1;
	}
	/* A fully qualified name ends in a dot: the same host. */
	if (p[0] != '[' && hlen > 1 && p[hlen - 1] == '.')
		hlen--;
	*host_out = span_make(p, hlen);
	return 0;
}

/* Visible ASCII only (RFC 9112 §3.2: no whitespace inside a target). */
static bool
http_visible(struct span s)
{
	size_t	i;

	for (i = 0; i < s.len; i++)
		if (s.ptr[i] <= ' ' || s.ptr[i] > '~')
			return false;
	return true;
}

/* The path part of "path?query#fragment". */
static struct span
http_path_of(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n && p[i] != '?' && p[i] != '#'; i++)
		;
	return span_make(p, i);
}

/* The query after path in target: from '?' (left out) to '#' or end. */
static struct span
http_query_of(struct span target, struct span path)
{
	const char	*end = target.ptr + target.len;
	const char	*p = path.ptr + path.len, *q;

	if (path.ptr < target.ptr || p >= end || *p != '?')
		return span_make("", 0);
	for (q = ++p; q < end && *q != '#'; q++)
		;
	return span_make(p, (size_t)(q - p));
}

int
http_route_target(struct span t, struct span *path_out,
    struct span *host_out, bool *has_host_out)
{
	const char	*p = t.ptr;
	size_t		 n = t.len, skip, i;

	*has_host_out = false;
	*host_out = span_make(p, 0);
	if (n == 0 || !http_visible(t))
		return -1;
	if (p[0] == '/') {
		*path_out = http_path_of(p, n);
		return 0;
	}
	if (n == 1 && p[0] == '*') {
		*path_out = t;
		return 0;
	}
	/* absolute-form: scheme "://" authority path-abempty [? query] */
	if (span_startswith_case(t, "https://"))
		skip = 8;
	else if (span_startswith_case(t, "http://"))
		skip = 7;
	else
		return -1;
	for (i = skip; i < n && p[i] != '/' && p[i] != '?' && p[i] != '#';
	    i++)
		if (p[i] == '@')
			return -1;	/* userinfo: RFC 9110 §4.2.4 */
	if (http_route_host(span_make(p + skip, i - skip), host_out) == -1 ||
	    host_out->len == 0)
		return -1;
	*has_host_out = true;
	*path_out = http_path_of(p + i, n - i);
	if (path_out->len == 0)
		*path_out = span_make("/", 1);
	return 0;
}

/*
 * host is label "." domain, or domain itself when label is NULL, ASCII
 * case aside (domains are lower case).
 */
static bool
http_host_is(struct span host, const char *label, const char *domain)
{
	size_t	ll = label != NULL ? strlen(label) + 1 : 0;
	size_t	dl = strlen(domain), i;

	if (host.len != ll + dl)
		return false;
	for (i = 0; i + 1 < ll; i++)
		if (http_lower(host.ptr[i]) != label[i])
			return false;
	if (ll > 0 && host.ptr[ll - 1] != '.')
		return false;
	for (i = 0; i < dl; i++)
		if (http_lower(host.ptr[ll + i]) != domain[i])
			return false;
	return true;
}

/* Does route r's path match path?  *rest_out: after a prefix. */
static bool
http_path_ok(const struct http_route *r, struct span path,
    struct span *rest_out)
{
	size_t	n = strlen(r->path);

	*rest_out = span_make("", 0);
	if (!r->prefix)
		return span_eq(path, r->path);
	if (path.len < n || memcmp(path.ptr, r->path, n) != 0)
		return false;
	*rest_out = span_make(path.ptr + n, path.len - n);
	return true;
}

/* Does route r answer host?  *domain_out: which of our domains. */
static bool
http_host_ok(const struct http_router *rt, const struct http_route *r,
    struct span host, size_t *domain_out)
{
	size_t	i;

	*domain_out = 0;
	if (r->host == HTTP_HOST_ANY)
		return true;
	for (i = 0; i < rt->ndomains; i++)
		if (http_host_is(host, r->host == HTTP_HOST_LABEL ?
		    r->label : NULL, rt->domains[i])) {
			*domain_out = i;
			return true;
		}
	return false;
}

void
http_route_match(const struct http_router *rt,
    const struct http_route_req *req, struct http_match *out)
{
	const struct http_route	*r;
	struct span		 thost, host;
	size_t			 i, domain;
	bool			 has_host;

	memset(out, 0, sizeof(*out));
	out->handler = HTTP_HANDLER_NONE;
	if (req->target.len > HTTP_ROUTE_TARGET_MAX) {
		out->status = 414;
		return;
	}
	out->status = 400;
	if (http_route_target(req->target, &out->path, &thost,
	    &has_host) == -1)
		return;
	out->query = http_query_of(req->target, out->path);
	/* RFC 9112 §3.2: one valid Host, and in HTTP/1.1 one at least. */
	if (req->nhost > 1 || (req->nhost == 0 && req->http11))
		return;
	host = span_make("", 0);
	if (req->nhost == 1 && http_route_host(req->host, &host) == -1)
		return;
	/* §3.2.2: an absolute-form target names the host itself. */
	out->host = has_host ? thost : host;
	out->status = 404;
	for (i = 0; i < rt->nroutes; i++) {
		r = &rt->routes[i];
		if ((r->listeners & HTTP_ON(req->listener)) == 0 ||
		    !http_path_ok(r, out->path, &out->rest) ||
		    !http_host_ok(rt, r, out->host, &domain))
			continue;
		if ((req->method & r->methods) == 0) {
			out->status = 405;
			out->allow = r->methods;
			return;
		}
		out->status = 200;
		out->handler = r->handler;
		out->domain = domain;
		return;
	}
}
