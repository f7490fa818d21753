/*
 * conn: accepting, TLS, timeouts, backpressure and orderly close for the
 * roles that serve clients (smtp, pop3, imap).  Runs in those unprivileged
 * roles; it trusts nothing the client sends and hands the bytes, unread,
 * to the role's protocol code.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/rand.h>

#include "conn.h"
#include "conn_limit.h"
#include "log.h"
#include "metrics.h"
#include "sasl.h"
#include "tls.h"
#include "util.h"

#define CONN_LINGER_TICK_US	20000	/* recheck a closing TLS connection */
#define CONN_LINGER_TICKS	250	/* for at most 5 s */
#define CONN_SLOTS_STEP		64
/*
 * A worker busier than a sibling leaves new connections to it (the
 * sibling, woken by the same listener, takes them at once when it is
 * idle); when the siblings have taken none for this long, it takes what
 * waits itself.
 */
#define CONN_YIELD_US		5000

struct conn_listener {
	struct conn_server	*srv;
	struct event		*ev;
	int			 fd;
	int			 kind;
	struct tls_ctx		*tls;		/* NULL: no TLS */
	bool			 implicit_tls;
	bool			 local;
	int			 metric;	/* conf->listens index, -1 */
};

struct conn {
	struct conn_server	*srv;
	size_t			 slot;
	uint32_t		 seq;
	char			 sid[17];
	char			 ip[INET6_ADDRSTRLEN];
	int			 iphash;	/* -1: local, not counted */
	int			 metric;	/* its listener's, -1 */
	bool			 loopback;
	bool			 local;
	uid_t			 uid;
	struct bufferevent	*bev;
	const struct conn_ops	*ops;
	void			*arg;
	unsigned		 timeout;
	struct tls_ctx		*tlsctx;	/* the listener's, or NULL */
	bool			 tls;
	bool			 starttls_pending;
	bool			 closing;
	bool			 freeing;
	struct event		*ev_linger;
	unsigned		 linger_ticks;
};

static void	conn_free(struct conn *);
static void	conn_close_if_done(struct conn *);
static void	conn_linger(evutil_socket_t, short, void *);

static int
conn_ip_hash(const char *ip)
{
	uint32_t	h = 2166136261u;

	for (; *ip != '\0'; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return (int)(h % CONN_LIMIT_IP_SLOTS);
}

const char *
conn_ip(const struct conn *c)
{
	return c->ip;
}

bool
conn_is_loopback(const struct conn *c)
{
	return c->loopback;
}

uid_t
conn_peer_uid(const struct conn *c)
{
	return c->uid;
}

const char *
conn_sid(const struct conn *c)
{
	return c->sid;
}

bool
conn_tls(const struct conn *c)
{
	return c->tls;
}

bool
conn_tls_available(const struct conn *c)
{
	return c->tlsctx != NULL;
}

void *
conn_arg(const struct conn *c)
{
	return c->arg;
}

ssize_t
conn_channel_binding(struct conn *c, enum sasl_cb type, unsigned char *out,
    size_t outsz)
{
	SSL	*ssl;

	if (!c->tls || (ssl = bufferevent_openssl_get_ssl(c->bev)) == NULL)
		return -1;
	switch (type) {
	case SASL_CB_TLS_EXPORTER:
		return tls_channel_binding(ssl, TLS_CB_EXPORTER, out, outsz);
	case SASL_CB_TLS_SERVER_END_POINT:
		return tls_channel_binding(ssl, TLS_CB_SERVER_END_POINT, out,
		    outsz);
	default:
		return -1;
	}
}

uint64_t
conn_reqid(struct conn *c)
{
	c->seq++;
	return ((uint64_t)c->slot << 32) | c->seq;
}

struct conn *
conn_by_reqid(struct conn_server *srv, uint64_t reqid)
{
	size_t		 slot = (size_t)(reqid >> 32);
	struct conn	*c;

	if (slot >= srv->nslots || (c = srv->slots[slot]) == NULL ||
	    c->seq != (uint32_t)reqid || c->freeing)
		return NULL;	/* gone meanwhile */
	return c;
}

void
conn_foreach(struct conn_server *srv,
    void (*fn)(struct conn *, void *, void *), void *ctx)
{
	size_t		 i;
	struct conn	*c;

	for (i = 0; i < srv->nslots; i++)
		if ((c = srv->slots[i]) != NULL && !c->freeing)
			fn(c, c->arg, ctx);
}

void
conn_write(struct conn *c, const void *p, size_t len)
{
	if (c->freeing)
		return;
	if (bufferevent_write(c->bev, p, len) == -1)
		c->closing = true;
}

void
conn_set_nodelay(struct conn *c)
{
	int	one = 1, fd;

	if (c->local || (fd = (int)bufferevent_getfd(c->bev)) == -1)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

size_t
conn_bev_output_pending(struct bufferevent *bev)
{
	struct bufferevent	*under;
	size_t			 n;

	n = evbuffer_get_length(bufferevent_get_output(bev));
	if ((under = bufferevent_get_underlying(bev)) != NULL)
		n += evbuffer_get_length(bufferevent_get_output(under));
	return n;
}

size_t
conn_output_pending(const struct conn *c)
{
	return conn_bev_output_pending(c->bev);
}

bool
conn_can_feed(const struct conn *c)
{
	return !c->closing && !c->freeing && !c->starttls_pending &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) <
	    CONN_OUTPUT_HIWAT;
}

const char *
conn_peek(struct conn *c, size_t max, size_t *len_out)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 avail = evbuffer_get_length(in);
	unsigned char	*p;

	*len_out = 0;
	if (avail == 0 || c->starttls_pending)
		return NULL;
	if (avail > max)
		avail = max;
	if ((p = evbuffer_pullup(in, (ssize_t)avail)) == NULL)
		return NULL;
	*len_out = avail;
	return (const char *)p;
}

void
conn_consume(struct conn *c, size_t n)
{
	evbuffer_drain(bufferevent_get_input(c->bev), n);
}

void
conn_set_timeout(struct conn *c, unsigned seconds)
{
	struct timeval	tv = { (time_t)seconds, 0 };

	c->timeout = seconds;
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

void
conn_starttls(struct conn *c)
{
	/*
	 * RFC 3207 §4.2, RFC 2595 §4, CVE-2011-0411: whatever the client
	 * sent before the handshake is thrown away, never read as commands
	 * inside TLS.  Stop reading now; the swap happens once the reply
	 * is flushed (conn_on_write).
	 */
	bufferevent_disable(c->bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	c->starttls_pending = true;
}

void
conn_close(struct conn *c)
{
	struct timeval	tv = { 0, 0 };

	if (c->freeing || c->closing)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	/*
	 * Never free from inside the caller's stack (it may be a callback
	 * that goes on using the connection): look again from the loop.
	 */
	if (c->ev_linger == NULL)
		c->ev_linger = evtimer_new(c->srv->base, conn_linger, c);
	evtimer_add(c->ev_linger, &tv);
}

bool
conn_closing(const struct conn *c)
{
	return c->closing || c->freeing;
}

static void
conn_linger(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	if (++c->linger_ticks > CONN_LINGER_TICKS) {
		conn_free(c);	/* the client does not read */
		return;
	}
	conn_close_if_done(c);
}

/*
 * Free a closing connection once its last reply left.  Behind a TLS
 * filter the bytes sit in the underlying bufferevent after the filter's
 * own buffer drained; freeing then would cut off the goodbye.
 */
static void
conn_close_if_done(struct conn *c)
{
	struct timeval	tv = { 0, CONN_LINGER_TICK_US };

	if (!c->closing || c->freeing)
		return;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return;		/* the write callback comes back here */
	if (conn_output_pending(c) != 0) {
		if (c->ev_linger == NULL)
			c->ev_linger = evtimer_new(c->srv->base, conn_linger,
			    c);
		evtimer_add(c->ev_linger, &tv);
		return;
	}
	conn_free(c);
}

static void
conn_input(struct conn *c)
{
	if (c->ops != NULL && !c->freeing)
		c->ops->input(c, c->arg);
}

static void
conn_on_read(struct bufferevent *bev, void *arg)
{
	conn_input(arg);
}

static void	conn_on_write(struct bufferevent *, void *);
static void	conn_on_event(struct bufferevent *, short, void *);

static void
conn_start_tls(struct conn *c)
{
	struct bufferevent	*tbev;
	SSL			*ssl;

	c->starttls_pending = false;
	if (c->tlsctx == NULL ||
	    (ssl = tls_server_ssl_new(c->tlsctx)) == NULL) {
		log_warnx("sid=%s tls: %s", c->sid, tls_errstr());
		conn_free(c);
		return;
	}
	tbev = bufferevent_openssl_filter_new(c->srv->base, c->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tbev == NULL) {
		log_warnx("sid=%s tls filter failed", c->sid);
		tls_ssl_free(ssl);
		conn_free(c);
		return;
	}
	c->bev = tbev;
	bufferevent_openssl_set_allow_dirty_shutdown(tbev, 1);
	bufferevent_setcb(tbev, conn_on_read, conn_on_write, conn_on_event, c);
	bufferevent_setwatermark(tbev, EV_READ, 0, CONN_INPUT_HIWAT);
	conn_set_timeout(c, c->timeout);
	bufferevent_enable(tbev, EV_READ | EV_WRITE);
}

/* The output buffer drained. */
static void
conn_on_write(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->starttls_pending) {
		conn_start_tls(c);
		return;
	}
	if (c->closing) {
		conn_close_if_done(c);
		return;
	}
	/* Replies drained below the mark: take input again. */
	conn_input(c);
}

static void
conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	SSL		*ssl;
	unsigned long	 e;

	if (what & BEV_EVENT_CONNECTED) {
		ssl = bufferevent_openssl_get_ssl(c->bev);
		c->tls = true;
		log_info("sid=%s event=tls version=%s cipher=%s", c->sid,
		    tls_version(ssl), tls_cipher(ssl));
		metrics_tls(METRICS_DIR_IN, tls_version(ssl));
		if (c->ops != NULL && c->ops->tls_up != NULL)
			c->ops->tls_up(c, c->arg, tls_version(ssl),
			    tls_cipher(ssl));
		conn_input(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		log_info("sid=%s event=timeout", c->sid);
		if (!c->closing && c->ops != NULL && c->ops->timeout != NULL) {
			c->ops->timeout(c, c->arg);
			if (c->closing)
				return;
		}
		conn_free(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
			log_info("sid=%s event=tls-error error=\"%s\"", c->sid,
			    tls_error_reason(e));
	}
	/* EOF or error: the client is gone. */
	conn_free(c);
}

static void
conn_free(struct conn *c)
{
	struct conn_server	*srv = c->srv;

	if (c->freeing)
		return;
	c->freeing = true;
	if (c->ops != NULL && c->ops->gone != NULL)
		c->ops->gone(c, c->arg);
	if (c->ev_linger != NULL)
		event_free(c->ev_linger);
	bufferevent_free(c->bev);
	srv->slots[c->slot] = NULL;
	conn_limit_give(srv->limit, c->iphash);
	if (c->metric >= 0)
		metrics_add(METRICS_SESSIONS, (unsigned)c->metric, -1);
	log_info("sid=%s event=disconnect ip=%s", c->sid, c->ip);
	free(c);
}

void
conn_setup(struct conn *c, const struct conn_ops *ops, void *arg,
    unsigned timeout)
{
	c->ops = ops;
	c->arg = arg;
	conn_set_timeout(c, timeout);
}

static void
conn_refuse(int fd, const char *line)
{
	/* Best effort, non-blocking: the client is told why, then gone. */
	if (line != NULL)
		(void)write(fd, line, strlen(line));
	close(fd);
}

static void
conn_addr_text(struct conn *c, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (c->local) {
		(void)str_copy(c->ip, sizeof(c->ip), "local");
		c->loopback = true;
		return;
	}
	switch (ss->ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, c->ip, sizeof(c->ip));
		c->loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, c->ip, sizeof(c->ip));
		c->loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		break;
	default:
		(void)str_copy(c->ip, sizeof(c->ip), "unknown");
	}
}

static size_t
conn_slot_new(struct conn_server *srv)
{
	size_t	slot;

	for (slot = 0; slot < srv->nslots; slot++)
		if (srv->slots[slot] == NULL)
			return slot;
	/* NOLINTBEGIN(bugprone-sizeof-expression): an array of pointers */
	srv->slots = xrealloc(srv->slots, (srv->nslots + CONN_SLOTS_STEP) *
	    sizeof(*srv->slots));
	memset(srv->slots + srv->nslots, 0,
	    CONN_SLOTS_STEP * sizeof(*srv->slots));
	/* NOLINTEND(bugprone-sizeof-expression) */
	srv->nslots += CONN_SLOTS_STEP;
	return slot;
}

/*
 * Take one connection waiting on l: 1 when one was taken (and served, or
 * refused over a limit), 0 when none waits or accept failed.
 */
static int
conn_accept_one(struct conn_listener *l)
{
	struct conn_server	*srv = l->srv;
	struct conn		*c;
	struct sockaddr_storage	 ss;
	struct ucred		 cred;
	socklen_t		 sslen, clen;
	unsigned char		 rnd[8];
	size_t			 i;
	int			 fd;
	SSL			*ssl;

	sslen = sizeof(ss);
	fd = accept4(l->fd, (struct sockaddr *)&ss, &sslen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == ECONNABORTED)
			return 1;	/* gone already: look at the next */
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("%s: accept", srv->name);
		return 0;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->tlsctx = l->tls;
	c->local = l->local;
	c->uid = (uid_t)-1;
	conn_addr_text(c, &ss);
	c->iphash = c->local ? -1 : conn_ip_hash(c->ip);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatalx("RAND_bytes");
	for (i = 0; i < sizeof(rnd); i++)
		(void)snprintf(c->sid + 2 * i, 3, "%02x", rnd[i]);
	switch (conn_limit_take(srv->limit, c->iphash, srv->max_conns,
	    srv->max_per_ip)) {
	case CONN_LIMIT_OK:
		break;
	case CONN_LIMIT_TOTAL:
		log_info("sid=%s event=refused ip=%s reason=connections",
		    c->sid, c->ip);
		conn_refuse(fd, srv->refuse_total);
		free(c);
		return 1;
	case CONN_LIMIT_PER_IP:
		log_info("sid=%s event=refused ip=%s "
		    "reason=connections-per-ip", c->sid, c->ip);
		conn_refuse(fd, srv->refuse_per_ip);
		free(c);
		return 1;
	}
	if (c->local) {
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
			c->uid = cred.uid;
	}
	c->slot = conn_slot_new(srv);
	srv->slots[c->slot] = c;
	if ((c->metric = l->metric) >= 0) {
		metrics_inc(METRICS_CONNECTIONS, (unsigned)c->metric);
		metrics_add(METRICS_SESSIONS, (unsigned)c->metric, 1);
	}

	if (l->implicit_tls) {
		if ((ssl = tls_server_ssl_new(l->tls)) == NULL)
			fatalx("tls: %s", tls_errstr());
		c->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (c->bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(c->bev,
			    1);
	} else
		c->bev = bufferevent_socket_new(srv->base, fd,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL)
		fatalx("%s: bufferevent", srv->name);
	bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event,
	    c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_INPUT_HIWAT);
	/*
	 * libevent writes at most 16 KiB per call by default: a pipelined
	 * client's answers went out a message or two per writev, and the
	 * client read them as often.
	 */
	bufferevent_set_max_single_write(c->bev, CONN_WRITE_MAX);
	log_info("sid=%s event=connect ip=%s", c->sid, c->ip);
	srv->accepted(c, srv->arg, l->kind);
	if (c->ops == NULL)
		fatalx("%s: accepted connection not set up", srv->name);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 1;
}

static void	conn_yield(struct conn_server *);

/*
 * Take the connections waiting on l.  Every worker of the role waits on
 * the same listener and is woken for each connection; with may_yield
 * (srv->spread), one that holds more connections than a sibling leaves
 * them to that sibling, so that long sessions spread over the workers.
 * The listener stays readable while they wait, so this is called again
 * on the next turn of the loop (which does not sleep meanwhile), and
 * takes them as soon as this worker is no longer the busier one.
 */
static void
conn_accept_all(struct conn_listener *l, bool may_yield)
{
	for (;;) {
		if (may_yield && conn_limit_busier(l->srv->limit)) {
			conn_yield(l->srv);
			return;
		}
		if (conn_accept_one(l) == 0)
			return;
	}
}

static void
conn_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct conn_listener	*l = arg;

	conn_accept_all(l, l->srv->spread);
}

/*
 * A while after leaving connections to the siblings: if they took some
 * meanwhile, they are at it (what still waits brings us back to
 * conn_accept and a new while); if they took none (busy, or stopped),
 * whatever waits is ours.
 */
static void
conn_yield_end(evutil_socket_t fd, short what, void *arg)
{
	struct conn_server	*srv = arg;
	size_t			 i;

	if (conn_limit_progress(srv->limit) != srv->yield_progress)
		return;
	for (i = 0; i < srv->nlisteners; i++)
		conn_accept_all(srv->listeners[i], false);
}

static void
conn_yield(struct conn_server *srv)
{
	struct timeval	tv = { 0, CONN_YIELD_US };

	if (evtimer_pending(srv->ev_yield, NULL))
		return;
	srv->yield_progress = conn_limit_progress(srv->limit);
	evtimer_add(srv->ev_yield, &tv);
}

void
conn_listen(struct conn_server *srv, int fd, int kind, struct tls_ctx *tls,
    bool implicit_tls, bool local)
{
	struct conn_listener	*l;
	const char		*errstr;

	if (implicit_tls && tls == NULL)
		fatalx("%s: implicit TLS without a TLS context", srv->name);
	if (fd_set_nonblock(fd) == -1)
		fatal("%s: fcntl", srv->name);
	if (srv->limit == NULL &&
	    (srv->limit = conn_limit_open(-1, 0, 1, &errstr)) == NULL)
		fatalx("%s: %s", srv->name, errstr);
	if (srv->ev_yield == NULL && (srv->ev_yield = evtimer_new(srv->base,
	    conn_yield_end, srv)) == NULL)
		fatalx("%s: evtimer_new", srv->name);
	l = xcalloc(1, sizeof(*l));
	l->srv = srv;
	l->fd = fd;
	l->kind = kind;
	l->tls = tls;
	l->implicit_tls = implicit_tls;
	l->local = local;
	l->metric = -1;
	l->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_accept, l);
	if (l->ev == NULL)
		fatalx("%s: event_new", srv->name);
	event_add(l->ev, NULL);
	/* NOLINTBEGIN(bugprone-sizeof-expression): an array of pointers */
	srv->listeners = xrealloc(srv->listeners, (srv->nlisteners + 1) *
	    sizeof(*srv->listeners));
	/* NOLINTEND(bugprone-sizeof-expression) */
	srv->listeners[srv->nlisteners++] = l;
	conn_limit_accepting(srv->limit);
}

void
conn_listen_metrics(struct conn_server *srv, unsigned listen_index)
{
	if (srv->nlisteners == 0 || listen_index > INT_MAX)
		fatalx("%s: metrics for no listener", srv->name);
	srv->listeners[srv->nlisteners - 1]->metric = (int)listen_index;
}
