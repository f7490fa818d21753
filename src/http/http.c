/*
 * http: the http role.  Serves the `listen https` listeners with
 * libevent's evhttp over OpenSSL bufferevents (implicit TLS, the
 * tls { } certificate, its private key kept by lookup: keyproxy.h), and
 * routes each request through http_route.c's table.  Today one route:
 * our MTA-STS policy (RFC 8461 §3.3) at /.well-known/mta-sts.txt for
 * mta-sts.<each of our domains>, from mta-sts-policy (http_policy.c,
 * whose id lookup prints in `cachetctl dns`).
 *
 * This role parses the network and holds nothing but the config: it
 * runs as its own user chrooted into an empty directory, opens no file
 * and makes no socket once set up (sandbox.c), and trusts the parent
 * and lookup alone.  Every request is bounded (evhttp's header and body
 * limits) and every connection timed out.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "buf.h"
#include "conf.h"
#include "http_policy.h"
#include "http/http_route.h"
#include "ipc.h"
#include "keyproxy.h"
#include "log.h"
#include "proc.h"
#include "tls.h"
#include "util.h"

#define HTTP_HEADERS_MAX	8192	/* request line and headers, octets */
#define HTTP_BODY_MAX		1024	/* no route takes a body */
#define HTTP_TIMEOUT_S		30	/* handshake, request, each write */
#define HTTP_LOG_MAX		128	/* octets of a peer's string logged */

/* The kinds of listener this role serves, each with an evhttp of its own. */
enum http_front_kind {
	HTTP_FRONT_HTTPS,	/* listen https: TLS from the first byte */
	HTTP_FRONT_HTTP,	/* listen http: plain (ACME http-01) */
	HTTP_FRONT_METRICS,	/* listen metrics: plain, /metrics alone */
	HTTP_FRONTS
};

struct http_role;

struct http_front {
	struct http_role	*r;
	enum conf_listen_kind	 kind;
	struct evhttp		*http;	/* NULL: no listener of the kind */
};

struct http_role {
	struct proc_self	*self;
	struct conf		*conf;
	struct tls_ctx		*tls[CONF_TLS_PROFILES];
	struct http_front	 fronts[HTTP_FRONTS];
	struct evhttp_bound_socket **bound;	/* per listener, or NULL */
	size_t			 nconns;	/* open, handshake or not */
	bool			 paused;	/* at max-connections */
	struct http_router	 router;
	struct buf		 policy;	/* "" without mta-sts-policy */
	char			 policy_id[HTTP_POLICY_ID_LEN + 1];
};

typedef void	(*http_handler_fn)(struct http_role *, struct evhttp_request *,
		    const struct http_match *);

/*
 * Accept on every listener, or on none: at max-connections new clients
 * wait in the listen queue (the parent's backlog) until one closes.
 */
static void
http_pause(struct http_role *r, bool pause)
{
	struct evconnlistener	*l;
	size_t			 i;

	if (r->paused == pause)
		return;
	r->paused = pause;
	for (i = 0; i < r->conf->nlistens; i++) {
		/* Only TLS connections are counted (http_bevcb). */
		if (r->bound[i] == NULL ||
		    r->conf->listens[i].kind != CONF_LISTEN_HTTPS)
			continue;
		l = evhttp_bound_socket_get_listener(r->bound[i]);
		if ((pause ? evconnlistener_disable(l) :
		    evconnlistener_enable(l)) == -1)
			fatalx("http: cannot %s a listener", pause ? "pause" :
			    "resume");
	}
	if (pause)
		log_warnx("http: %zu connections (max-connections): no more "
		    "accepted until one closes", r->nconns);
	else
		log_info("http: accepting again connections=%zu", r->nconns);
}

/* A connection's SSL was freed: evhttp is done with it. */
static void
http_conn_gone(void *arg)
{
	struct http_role	*r = arg;

	if (r->nconns == 0)
		fatalx("http: more connections closed than opened");
	r->nconns--;
	if (r->nconns < r->conf->limits.connections)
		http_pause(r, false);
}

/* A new connection: TLS from its first byte, the handshake ours. */
static struct bufferevent *
http_bevcb(struct event_base *base, void *arg)
{
	struct http_role	*r = arg;
	struct bufferevent	*bev;
	SSL			*ssl;

	/*
	 * evhttp would speak cleartext on a NULL: there is no refusing
	 * here, and only memory can be short, so that ends the role.
	 */
	if ((ssl = tls_server_ssl_new(r->tls[conf_listen_tls_profile(
	    CONF_LISTEN_HTTPS)])) == NULL)
		fatalx("http: tls: %s", tls_errstr());
	if (tls_ssl_on_free(ssl, http_conn_gone, r) == -1)
		fatalx("http: tls: cannot watch a connection");
	r->nconns++;
	if (r->nconns >= r->conf->limits.connections)
		http_pause(r, true);
	if ((bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("http: bufferevent_openssl_socket_new");
	/* Clients often close without close_notify; that is no error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/*
 * A response with a short text body.  HEAD gets the headers alone, with
 * the Content-Length a GET would have (RFC 9110 §9.3.2): evhttp would
 * leave out the one and send the other.
 */
static void
http_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body, size_t len)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*eb;
	char			 clen[24];

	if ((eb = evbuffer_new()) == NULL)
		fatalx("http: evbuffer_new");
	(void)snprintf(clen, sizeof(clen), "%zu", len);
	if (evhttp_add_header(out, "Content-Type", type) == -1 ||
	    (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD ?
	    evhttp_add_header(out, "Content-Length", clen) :
	    evbuffer_add(eb, body, len)) == -1)
		fatalx("http: out of memory");
	evhttp_send_reply(req, code, reason, eb);
	evbuffer_free(eb);
}

static void
http_error(struct evhttp_request *req, int code)
{
	static const struct {
		int		 code;
		const char	*reason;
		const char	*body;
	} errs[] = {
		{ 404, "Not Found", "not found\n" },
		{ 405, "Method Not Allowed", "method not allowed\n" },
		{ 414, "URI Too Long", "request-target too long\n" },
		{ 400, "Bad Request", "bad request\n" },	/* the rest */
	};
	size_t	i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]) - 1; i++)
		if (errs[i].code == code)
			break;
	http_reply(req, errs[i].code, errs[i].reason, "text/plain",
	    errs[i].body, strlen(errs[i].body));
}

/* RFC 8461 §3.3: the policy, text/plain; none configured is none here. */
static void
http_mta_sts(struct http_role *r, struct evhttp_request *req,
    const struct http_match *mt)
{
	if (r->policy.len == 0) {
		http_error(req, 404);
		return;
	}
	http_reply(req, 200, "OK", "text/plain", r->policy.data,
	    r->policy.len);
}

/* RFC 8555 §8.3: the key authorization of a pending challenge. */
static void
http_acme(struct http_role *r, struct evhttp_request *req,
    const struct http_match *mt)
{
	http_error(req, 404);	/* stand-in: no challenge is pending */
}

/* The Prometheus text format of the daemon's counters. */
static void
http_metrics(struct http_role *r, struct evhttp_request *req,
    const struct http_match *mt)
{
	static const char	none[] = "# no metrics yet\n";

	http_reply(req, 200, "OK", "text/plain; version=0.0.4", none,
	    sizeof(none) - 1);
}

static const http_handler_fn	http_handlers[HTTP_HANDLER_COUNT] = {
	[HTTP_HANDLER_MTA_STS] = http_mta_sts,
	[HTTP_HANDLER_ACME] = http_acme,
	[HTTP_HANDLER_METRICS] = http_metrics,
};

static unsigned
http_method(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return HTTP_M_GET;
	case EVHTTP_REQ_HEAD:
		return HTTP_M_HEAD;
	case EVHTTP_REQ_POST:
		return HTTP_M_POST;
	default:
		return HTTP_M_OTHER;
	}
}

/*
 * evhttp hands over NUL-terminated strings, each within the request's
 * HTTP_HEADERS_MAX: bounded by that, not by trusting the NUL alone.
 */
static struct span
http_span(const char *s)
{
	return s == NULL ? span_make("", 0) :
	    span_make(s, strnlen(s, HTTP_HEADERS_MAX));
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	struct http_front	*f = arg;
	struct http_role	*r = f->r;
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct evkeyval		*kv;
	struct http_route_req	 rq;
	struct http_match	 mt;
	struct span		 host, what;
	bool			 routed;
	char			*peer = NULL;
	char			 hb[HTTP_LOG_MAX], pb[HTTP_LOG_MAX];
	char			 allow[24];
	ev_uint16_t		 port = 0;

	memset(&rq, 0, sizeof(rq));
	rq.listener = f->kind;
	rq.method = http_method(req);
	rq.target = http_span(evhttp_request_get_uri(req));
	rq.http11 = req->major > 1 || (req->major == 1 && req->minor >= 1);
	TAILQ_FOREACH(kv, in, next)
		if (strcasecmp(kv->key, "Host") == 0) {
			rq.nhost++;
			rq.host = http_span(kv->value);
		}
	http_route_match(&r->router, &rq, &mt);
	if (mt.status == 405) {
		/* RFC 9110 §15.5.6: a 405 names the methods served. */
		(void)snprintf(allow, sizeof(allow), "%s%s%s%s%s",
		    mt.allow & HTTP_M_GET ? "GET" : "",
		    (mt.allow & HTTP_M_GET) && (mt.allow & HTTP_M_HEAD) ?
		    ", " : "", mt.allow & HTTP_M_HEAD ? "HEAD" : "",
		    (mt.allow & (HTTP_M_GET | HTTP_M_HEAD)) &&
		    (mt.allow & HTTP_M_POST) ? ", " : "",
		    mt.allow & HTTP_M_POST ? "POST" : "");
		if (evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", allow) == -1)
			fatalx("http: out of memory");
	}
	if (mt.status == 200)
		http_handlers[mt.handler](r, req, &mt);
	else
		http_error(req, mt.status);

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &peer, &port);
	/* A request refused before routing is logged as it came. */
	routed = mt.status != 400 && mt.status != 414;
	host = routed ? mt.host : rq.host;
	what = routed ? mt.path : rq.target;
	log_info("event=http client=%s method=%s host=%s path=%s status=%d",
	    peer != NULL ? peer : "-", rq.method == HTTP_M_GET ? "GET" :
	    rq.method == HTTP_M_HEAD ? "HEAD" : rq.method == HTTP_M_POST ?
	    "POST" : "other",
	    printable(host.ptr, host.len, hb, sizeof(hb)),
	    printable(what.ptr, what.len, pb, sizeof(pb)), mt.status);
}

/* Only lookup's new certificates come (`cachetctl dns` is lookup's). */
static void
http_dispatch(struct proc_self *self, struct proc_peer peer, struct msg *m)
{
	/* A new certificate from lookup, for the next handshakes. */
	if (m->type == MSG_KEYPROXY_CHAIN && peer.id == PROC_LOOKUP) {
		keyproxy_chain_update(self, m);
		msg_free(m);
		return;
	}
	fatalx("http: unexpected %s from %s", msg_name(m->type),
	    proc_name(peer.id));
}

/*
 * The evhttp that serves listeners of kind, made on first use: the same
 * bounds for all, TLS from the first byte for https alone.
 */
static struct http_front *
http_front(struct http_role *r, enum conf_listen_kind kind)
{
	struct http_front	*f = NULL;
	size_t			 i;

	for (i = 0; i < HTTP_FRONTS; i++)
		if (r->fronts[i].kind == kind)
			f = &r->fronts[i];
	if (f == NULL)
		fatalx("http: no front for %s", conf_listen_kind_name(kind));
	if (f->http != NULL)
		return f;
	f->r = r;
	if ((f->http = evhttp_new(r->self->base)) == NULL)
		fatalx("http: evhttp_new");
	evhttp_set_max_headers_size(f->http, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(f->http, HTTP_BODY_MAX);
	evhttp_set_timeout(f->http, HTTP_TIMEOUT_S);
	/* The methods left out get evhttp's 501 (RFC 9110 §15.6.2). */
	evhttp_set_allowed_methods(f->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	if (kind == CONF_LISTEN_HTTPS)
		evhttp_set_bevcb(f->http, http_bevcb, r);
	evhttp_set_gencb(f->http, http_request, f);
	return f;
}

void
http_main(struct proc_self *self)
{
	struct http_role	*r;
	size_t			 i, n = 0;

	r = xcalloc(1, sizeof(*r));
	r->self = self;
	r->conf = self->conf;
	self->role = r;
	self->dispatch = http_dispatch;
	self->peer_up = keyproxy_peer_up;

	/* The policy and its id, fixed for this process (reload: anew). */
	buf_init(&r->policy, HTTP_POLICY_MAX);
	if (r->conf->sts_policy.set &&
	    http_policy_text(&r->conf->sts_policy, &r->policy) == -1)
		fatalx("http: policy longer than %d octets", HTTP_POLICY_MAX);
	http_policy_id(r->policy.data != NULL ? r->policy.data : "",
	    r->policy.len, r->policy_id);
	r->router.routes = http_route_table;
	r->router.nroutes = http_route_count;
	r->router.domains = (const char (*)[CONF_NAME_MAX + 1])
	    r->conf->domains;
	r->router.ndomains = r->conf->ndomains;

	/* The certificate is read now; lookup signs for us (keyproxy.h). */
	keyproxy_server_contexts(self, r->tls);

	r->fronts[HTTP_FRONT_HTTPS].kind = CONF_LISTEN_HTTPS;
	r->fronts[HTTP_FRONT_HTTP].kind = CONF_LISTEN_HTTP;
	r->fronts[HTTP_FRONT_METRICS].kind = CONF_LISTEN_METRICS;
	r->bound = xcalloc(r->conf->nlistens + 1,
	    sizeof(struct evhttp_bound_socket *));
	for (i = 0; i < r->conf->nlistens; i++) {
		if (self->listen_fds[i] == -1)
			continue;
		if ((r->bound[i] = evhttp_accept_socket_with_handle(
		    http_front(r, r->conf->listens[i].kind)->http,
		    self->listen_fds[i])) == NULL)
			fatalx("http: cannot accept on %s",
			    r->conf->listens[i].text);
		n++;
	}

	proc_drop(self);
	log_debug("http: listeners=%zu policy=%s id=%s", n,
	    r->conf->sts_policy.set ?
	    conf_sts_mode_name(r->conf->sts_policy.mode) : "-",
	    r->policy_id);
	proc_run(self);
}
