/*
 * http_route: the router of the http role (pure: no sockets, no clock,
 * no globals).  It reads what a request says about where it goes, its
 * method, request-target (RFC 9112 §3.2) and Host (RFC 9110 §7.2), and
 * finds the route of http_route_table that answers it: a path and a
 * kind of host, "mta-sts." and one of our domains for the MTA-STS
 * policy (RFC 8461 §3.3).  ACME challenges, metrics and client
 * autoconfiguration (autoconfig.<domain>, autodiscover.<domain> or the
 * domain itself) are rows of the same table.
 *
 * Everything it reads comes from the network: lengths are bounded, no
 * string is assumed to end in a NUL.
 */
#ifndef CACHET_HTTP_ROUTE_H
#define CACHET_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "conf.h"

#define HTTP_ROUTE_TARGET_MAX	2048	/* octets of a request-target */
#define HTTP_ROUTE_HOST_MAX	(CONF_NAME_MAX + 7)	/* name, ":65535" */

/* Methods, a bit each; a method not listed is HTTP_M_OTHER. */
#define HTTP_M_GET	0x1u
#define HTTP_M_HEAD	0x2u
#define HTTP_M_OTHER	0x4u
#define HTTP_M_POST	0x8u

/* Which listeners a route answers on: bits of enum conf_listen_kind. */
#define HTTP_ON(kind)	(1u << (kind))
#define HTTP_ON_WEB	(HTTP_ON(CONF_LISTEN_HTTPS) | HTTP_ON(CONF_LISTEN_HTTP))

/* What answers a request that found its route. */
enum http_handler {
	HTTP_HANDLER_NONE,
	HTTP_HANDLER_MTA_STS,	/* our policy (http_policy.h) */
	HTTP_HANDLER_ACME,	/* an http-01 challenge (RFC 8555 §8.3) */
	HTTP_HANDLER_METRICS,	/* /metrics, Prometheus text */
	HTTP_HANDLER_AUTOCONFIG,	/* Thunderbird's config-v1.1.xml */
	HTTP_HANDLER_AUTODISCOVER,	/* Outlook's autodiscover.xml */
	HTTP_HANDLER_MOBILECONFIG,	/* an Apple profile */
	HTTP_HANDLER_COUNT
};

/* Which Host values a route answers. */
enum http_host_kind {
	HTTP_HOST_ANY,		/* every host */
	HTTP_HOST_LABEL,	/* label "." one of our domains */
	HTTP_HOST_DOMAIN,	/* exactly one of our domains */
};

struct http_route {
	enum http_host_kind	 host;
	const char		*label;		/* HTTP_HOST_LABEL: "mta-sts" */
	const char		*path;		/* exact; the query is apart */
	unsigned		 methods;	/* HTTP_M_* it serves */
	enum http_handler	 handler;
	unsigned		 listeners;	/* HTTP_ON() bits */
	bool			 prefix;	/* path is a prefix: the rest
						   is match.rest */
};

extern const struct http_route	http_route_table[];
extern const size_t		http_route_count;

/* Our domains (struct conf's, lower case), as the router sees them. */
struct http_router {
	const struct http_route	*routes;
	size_t			 nroutes;
	const char		(*domains)[CONF_NAME_MAX + 1];
	size_t			 ndomains;
};

/* A request as evhttp read it; the spans point into its strings. */
struct http_route_req {
	unsigned	 method;	/* HTTP_M_* */
	enum conf_listen_kind listener;	/* the listener it came on */
	struct span	 target;	/* the request-target as sent */
	size_t		 nhost;		/* Host header fields */
	struct span	 host;		/* the value of the last one */
	bool		 http11;	/* HTTP/1.1 or later */
};

struct http_match {
	int			 status;	/* 200, 400, 404, 405 or 414 */
	enum http_handler	 handler;	/* when 200 */
	size_t			 domain;	/* HTTP_HOST_LABEL or _DOMAIN:
						   its index */
	unsigned		 allow;		/* 405: the methods served */
	struct span		 host;		/* without port or end dot */
	struct span		 path;		/* without the query */
	struct span		 rest;		/* a prefix route: the path
						   after it */
	struct span		 query;		/* after '?', without it */
};

/*
 * A Host value (or a target's authority): the host without ":port" and
 * without one final dot, in *host_out.  An IP literal in brackets is kept
 * with them.  "" is a valid value (RFC 9112 §3.2: no authority).  -1 when
 * it is not a host[:port] of RFC 3986 §3.2.2 or is longer than
 * HTTP_ROUTE_HOST_MAX.
 */
int	http_route_host(struct span value, struct span *host_out);

/*
 * A request-target (RFC 9112 §3.2): origin-form "/path?query" or
 * absolute-form "http(s)://authority/path?query" (whose host then wins
 * over Host: §3.2.2; *has_host_out says it came), "*" for OPTIONS.  The
 * path without query or fragment in *path_out.  -1 on anything else,
 * on bytes outside visible ASCII, or userinfo in the authority.
 */
int	http_route_target(struct span target, struct span *path_out,
	    struct span *host_out, bool *has_host_out);

/*
 * Route a request: 414 for a target over HTTP_ROUTE_TARGET_MAX, 400 for
 * a bad target, a bad Host, several Host fields, or none in HTTP/1.1
 * (RFC 9112 §3.2); 404 when no route has that host and path; 405 when
 * the route does not serve the method (out->allow says which do); 200
 * with the handler.  Host names compare without regard to ASCII case.
 */
void	http_route_match(const struct http_router *,
	    const struct http_route_req *, struct http_match *out);

#endif
