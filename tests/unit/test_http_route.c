/*
 * Unit tests for http_route.c: Host values and request-targets as the
 * network sends them, and the routing of whole requests to the MTA-STS
 * policy, a 404, a 405 or a 400.  Every input is copied to a heap block
 * of exactly its length, so that a read past it trips AddressSanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_route.h"

static const char	domains[][CONF_NAME_MAX + 1] = {
	"example.org", "example.net",
};

static const struct http_router	router = {
	http_route_table, 0, domains, 2,
};

/* A heap copy of s without its NUL, its length in *len; caller frees. */
static char *
dup_bytes(const char *s, size_t *len)
{
	char	*p;

	*len = strlen(s);
	p = malloc(*len > 0 ? *len : 1);
	assert_non_null(p);
	memcpy(p, s, *len);
	return p;
}

/* Route one request that came on a listener of kind; mt->handler if 200. */
static int
route_on(enum conf_listen_kind kind, unsigned method, const char *target,
    const char *host, size_t nhost, bool http11, struct http_match *mt)
{
	struct http_router	 rt = router;
	struct http_route_req	 rq;
	char			*t, *h;
	size_t			 tn, hn;

	rt.nroutes = http_route_count;
	t = dup_bytes(target, &tn);
	h = dup_bytes(host != NULL ? host : "", &hn);
	memset(&rq, 0, sizeof(rq));
	rq.listener = kind;
	rq.method = method;
	rq.target = span_make(t, tn);
	rq.nhost = nhost;
	rq.host = span_make(h, hn);
	rq.http11 = http11;
	http_route_match(&rt, &rq, mt);
	free(t);
	free(h);
	return mt->status;
}

/* The same on the https listener. */
static int
route(unsigned method, const char *target, const char *host, size_t nhost,
    bool http11, struct http_match *mt)
{
	return route_on(CONF_LISTEN_HTTPS, method, target, host, nhost,
	    http11, mt);
}

static void
test_host_forms(void **state)
{
	static const struct {
		const char	*in;
		const char	*host;	/* NULL: refused */
	} cases[] = {
		{ "mta-sts.example.org", "mta-sts.example.org" },
		{ "MTA-STS.Example.ORG:443", "MTA-STS.Example.ORG" },
		{ "mta-sts.example.org.", "mta-sts.example.org" },
		{ "mta-sts.example.org.:8443", "mta-sts.example.org" },
		{ "mta-sts.example.org:", "mta-sts.example.org" },
		{ "127.0.0.1:443", "127.0.0.1" },
		{ "[::1]:443", "[::1]" },
		{ "[2001:db8::a]", "[2001:db8::a]" },
		{ "", "" },
		{ ".", "." },
		{ "a b", NULL },
		{ "a/b", NULL },
		{ "a@b", NULL },
		{ "host:44x", NULL },
		{ "host:443:1", NULL },
		{ "host:123456", NULL },
		{ "[::1", NULL },
		{ "[]", NULL },
		{ "[::g]", NULL },
		{ "[::1]x", NULL },
		{ "\x7f", NULL },
		{ "h\xc3\xa9", NULL },
	};
	struct span	 out;
	char		*in;
	size_t		 i, n;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = dup_bytes(cases[i].in, &n);
		rc = http_route_host(span_make(in, n), &out);
		if (cases[i].host == NULL)
			assert_int_equal(rc, -1);
		else {
			assert_int_equal(rc, 0);
			assert_int_equal(out.len, strlen(cases[i].host));
			assert_memory_equal(out.ptr, cases[i].host, out.len);
		}
		free(in);
	}
}

static void
test_host_too_long(void **state)
{
	char		name[HTTP_ROUTE_HOST_MAX + 2];
	struct span	out;

	(void)state;
	memset(name, 'a', sizeof(name));
	assert_int_equal(http_route_host(span_make(name,
	    HTTP_ROUTE_HOST_MAX), &out), 0);
	assert_int_equal(http_route_host(span_make(name,
	    HTTP_ROUTE_HOST_MAX + 1), &out), -1);
}

static void
test_target_forms(void **state)
{
	static const struct {
		const char	*in;
		const char	*path;	/* NULL: refused */
		const char	*host;	/* absolute-form: its host */
	} cases[] = {
		{ "/.well-known/mta-sts.txt", "/.well-known/mta-sts.txt",
		    NULL },
		{ "/a?b=/c", "/a", NULL },
		{ "/a#frag", "/a", NULL },
		{ "/", "/", NULL },
		{ "*", "*", NULL },
		{ "https://mta-sts.example.org/.well-known/mta-sts.txt?x",
		    "/.well-known/mta-sts.txt", "mta-sts.example.org" },
		{ "HTTP://h.example:80", "/", "h.example" },
		{ "http://h.example?q", "/", "h.example" },
		{ "https://user@h.example/", NULL, NULL },
		{ "https:///path", NULL, NULL },
		{ "ftp://h.example/", NULL, NULL },
		{ "h.example:443", NULL, NULL },
		{ "", NULL, NULL },
		{ "/a b", NULL, NULL },
		{ "/a\tb", NULL, NULL },
		{ "/\xff", NULL, NULL },
	};
	struct span	 path, host;
	char		*in;
	bool		 has_host;
	size_t		 i, n;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in = dup_bytes(cases[i].in, &n);
		rc = http_route_target(span_make(in, n), &path, &host,
		    &has_host);
		if (cases[i].path == NULL)
			assert_int_equal(rc, -1);
		else {
			assert_int_equal(rc, 0);
			assert_int_equal(path.len, strlen(cases[i].path));
			assert_memory_equal(path.ptr, cases[i].path,
			    path.len);
			assert_int_equal(has_host, cases[i].host != NULL);
			if (cases[i].host != NULL) {
				assert_int_equal(host.len,
				    strlen(cases[i].host));
				assert_memory_equal(host.ptr, cases[i].host,
				    host.len);
			}
		}
		free(in);
	}
}

#define POLICY	"/.well-known/mta-sts.txt"

static void
test_policy_for_each_domain(void **state)
{
	struct http_match	mt;

	(void)state;
	assert_int_equal(route(HTTP_M_GET, POLICY, "mta-sts.example.org", 1,
	    true, &mt), 200);
	assert_int_equal(mt.handler, HTTP_HANDLER_MTA_STS);
	assert_int_equal(mt.domain, 0);
	assert_int_equal(route(HTTP_M_HEAD, POLICY,
	    "MTA-STS.EXAMPLE.NET.:443", 1, true, &mt), 200);
	assert_int_equal(mt.handler, HTTP_HANDLER_MTA_STS);
	assert_int_equal(mt.domain, 1);
	/* The query is not part of the path. */
	assert_int_equal(route(HTTP_M_GET, POLICY "?v=1",
	    "mta-sts.example.org", 1, true, &mt), 200);
	/* HTTP/1.0 may leave Host out; an absolute target names it. */
	assert_int_equal(route(HTTP_M_GET,
	    "https://mta-sts.example.net" POLICY, NULL, 0, false, &mt), 200);
	assert_int_equal(mt.domain, 1);
	/* ... and wins over the Host field (RFC 9112 §3.2.2). */
	assert_int_equal(route(HTTP_M_GET,
	    "https://mta-sts.example.net" POLICY, "www.example.org", 1, true,
	    &mt), 200);
}

static void
test_other_hosts_and_paths_are_404(void **state)
{
	static const char *const hosts[] = {
		"example.org", "www.example.org", "mta-sts.example.com",
		"mta-sts.example.org.evil.test", "xmta-sts.example.org",
		"mta-sts.sub.example.org", "mta-sts-example.org",
		"mta-sts.example.or", "mta-sts.example.orgg", "127.0.0.1",
		"[::1]", "", "mta-sts", "mta-sts.",
	};
	static const char *const paths[] = {
		"/", "/.well-known/mta-sts.txt/", "/.well-known/MTA-STS.TXT",
		"/.well-known/mta-sts.tx", "//.well-known/mta-sts.txt",
		"/.well-known/mta%2Dsts.txt", "*",
	};
	struct http_match	mt;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		assert_int_equal(route(HTTP_M_GET, POLICY, hosts[i], 1, true,
		    &mt), 404);
		assert_int_equal(mt.handler, HTTP_HANDLER_NONE);
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(route(HTTP_M_GET, paths[i],
		    "mta-sts.example.org", 1, true, &mt), 404);
	/* Other methods elsewhere are not found either. */
	assert_int_equal(route(HTTP_M_OTHER, "/", "mta-sts.example.org", 1,
	    true, &mt), 404);
}

static void
test_other_methods_are_405(void **state)
{
	struct http_match	mt;

	(void)state;
	assert_int_equal(route(HTTP_M_OTHER, POLICY, "mta-sts.example.org",
	    1, true, &mt), 405);
	assert_int_equal(mt.allow, HTTP_M_GET | HTTP_M_HEAD);
	assert_int_equal(mt.handler, HTTP_HANDLER_NONE);
}

static void
test_bad_requests_are_400(void **state)
{
	char			*longt;
	struct http_match	 mt;

	(void)state;
	/* RFC 9112 §3.2: no Host in HTTP/1.1, two of them, a bad one. */
	assert_int_equal(route(HTTP_M_GET, POLICY, NULL, 0, true, &mt), 400);
	assert_int_equal(route(HTTP_M_GET, POLICY, "mta-sts.example.org", 2,
	    true, &mt), 400);
	assert_int_equal(route(HTTP_M_GET, POLICY, "mta-sts.example.org/x",
	    1, true, &mt), 400);
	assert_int_equal(route(HTTP_M_GET, "mta-sts.txt",
	    "mta-sts.example.org", 1, true, &mt), 400);
	/* HTTP/1.0 without Host: no host, so no policy. */
	assert_int_equal(route(HTTP_M_GET, POLICY, NULL, 0, false, &mt), 404);
	/* A target too long is 414, whatever it holds. */
	longt = malloc(HTTP_ROUTE_TARGET_MAX + 2);
	assert_non_null(longt);
	memset(longt, 'a', HTTP_ROUTE_TARGET_MAX + 1);
	longt[0] = '/';
	longt[HTTP_ROUTE_TARGET_MAX + 1] = '\0';
	assert_int_equal(route(HTTP_M_GET, longt, "mta-sts.example.org", 1,
	    true, &mt), 414);
	longt[HTTP_ROUTE_TARGET_MAX] = '\0';
	assert_int_equal(route(HTTP_M_GET, longt, "mta-sts.example.org", 1,
	    true, &mt), 404);
	free(longt);
}

static void
test_no_domains_no_policy(void **state)
{
	struct http_router	rt = router;
	struct http_route_req	rq;
	struct http_match	mt;

	(void)state;
	rt.nroutes = http_route_count;
	rt.ndomains = 0;
	memset(&rq, 0, sizeof(rq));
	rq.listener = CONF_LISTEN_HTTPS;
	rq.method = HTTP_M_GET;
	rq.target = span_str(POLICY);
	rq.nhost = 1;
	rq.host = span_str("mta-sts.example.org");
	rq.http11 = true;
	http_route_match(&rt, &rq, &mt);
	assert_int_equal(mt.status, 404);
}

#define TB	"/mail/config-v1.1.xml"
#define TB_WK	"/.well-known/autoconfig/mail/config-v1.1.xml"
#define AD	"/autodiscover/autodiscover.xml"
#define APPLE	"/apple/mobileconfig"

/*
 * Client autoconfiguration: each path for its hosts (autoconfig. or
 * autodiscover. one of our domains, or the domain itself: HTTP_HOST_DOMAIN)
 * on https and http, its methods, and nothing for other hosts, other
 * listeners or other paths.
 */
static void
test_autoconfig_routes(void **state)
{
	static const struct {
		enum conf_listen_kind	 on;
		unsigned		 method;
		const char		*target;
		const char		*host;
		int			 status;
		enum http_handler	 handler;
		size_t			 domain;
	} cases[] = {
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, TB "?emailaddress=a%40b",
		    "autoconfig.example.org", 200, HTTP_HANDLER_AUTOCONFIG,
		    0 },
		{ CONF_LISTEN_HTTP, HTTP_M_HEAD, TB, "AUTOCONFIG.example.net.",
		    200, HTTP_HANDLER_AUTOCONFIG, 1 },
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, TB_WK, "example.net:443", 200,
		    HTTP_HANDLER_AUTOCONFIG, 1 },
		{ CONF_LISTEN_HTTP, HTTP_M_GET, TB_WK, "Example.ORG", 200,
		    HTTP_HANDLER_AUTOCONFIG, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_POST, AD,
		    "autodiscover.example.org", 200,
		    HTTP_HANDLER_AUTODISCOVER, 0 },
		{ CONF_LISTEN_HTTP, HTTP_M_POST, AD, "example.net", 200,
		    HTTP_HANDLER_AUTODISCOVER, 1 },
		{ CONF_LISTEN_HTTPS, HTTP_M_POST,
		    "/Autodiscover/Autodiscover.xml", "example.org", 200,
		    HTTP_HANDLER_AUTODISCOVER, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, APPLE "?emailaddress=x",
		    "autoconfig.example.net", 200, HTTP_HANDLER_MOBILECONFIG,
		    1 },
		{ CONF_LISTEN_HTTP, HTTP_M_GET, APPLE, "example.org", 200,
		    HTTP_HANDLER_MOBILECONFIG, 0 },
		/* Methods. */
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, AD,
		    "autodiscover.example.org", 405, HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_POST, TB, "autoconfig.example.org",
		    405, HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_POST, APPLE, "example.org", 405,
		    HTTP_HANDLER_NONE, 0 },
		/* Hosts: not ours, the wrong label, a subdomain. */
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, TB, "autoconfig.example.com",
		    404, HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, TB, "example.org", 404,
		    HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, TB_WK, "mx.example.org", 404,
		    HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, TB_WK, "xexample.org", 404,
		    HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, TB_WK, "example.or", 404,
		    HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_POST, AD, "autoconfig.example.org",
		    404, HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, APPLE, "mta-sts.example.org",
		    404, HTTP_HANDLER_NONE, 0 },
		/* Paths: exact, case and all. */
		{ CONF_LISTEN_HTTPS, HTTP_M_GET, TB "/",
		    "autoconfig.example.org", 404, HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_HTTPS, HTTP_M_POST,
		    "/autodiscover/Autodiscover.xml", "example.org", 404,
		    HTTP_HANDLER_NONE, 0 },
		/* Not on the metrics listener. */
		{ CONF_LISTEN_METRICS, HTTP_M_GET, TB, "autoconfig.example.org",
		    404, HTTP_HANDLER_NONE, 0 },
		{ CONF_LISTEN_METRICS, HTTP_M_POST, AD, "example.org", 404,
		    HTTP_HANDLER_NONE, 0 },
	};
	struct http_match	mt;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(route_on(cases[i].on, cases[i].method,
		    cases[i].target, cases[i].host, 1, true, &mt),
		    cases[i].status);
		assert_int_equal(mt.handler, cases[i].handler);
		if (cases[i].status == 200)
			assert_int_equal(mt.domain, cases[i].domain);
		if (cases[i].status == 405)
			assert_int_equal(mt.allow,
			    cases[i].method == HTTP_M_GET ? HTTP_M_POST :
			    HTTP_M_GET | HTTP_M_HEAD);
	}
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_forms),
		cmocka_unit_test(test_host_too_long),
		cmocka_unit_test(test_target_forms),
		cmocka_unit_test(test_policy_for_each_domain),
		cmocka_unit_test(test_other_hosts_and_paths_are_404),
		cmocka_unit_test(test_other_methods_are_405),
		cmocka_unit_test(test_bad_requests_are_400),
		cmocka_unit_test(test_no_domains_no_policy),
		cmocka_unit_test(test_autoconfig_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
