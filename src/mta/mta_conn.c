/*
 * mta_conn: one outbound SMTP connection (mta_conn.h has the contract).
 * Run by the mta role, chrooted and unprivileged.  The protocol is
 * smtp_client.c's; this file is its wiring to libevent: a bufferevent per
 * connection (bufferevent_openssl once STARTTLS is agreed), the content
 * pumped from the queue's descriptor as the output drains, a timer for
 * each wait the client names.
 *
 * The smtp_client may not be freed from its own callbacks, and its close
 * callback can come from deep inside smtp_client_input(); so every end
 * of a session goes through one deferred event (ev_next), which frees
 * the client and the bufferevent and then either connects to the next
 * address or reports gone and frees the connection.
 *
 * Trust: server bytes go only to smtp_client_input(), in bounded amounts
 * (the input watermark); nothing here interprets them.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/ssl.h>

#include "conn.h"
#include "log.h"
#include "metrics.h"
#include "msgread.h"
#include "mta_conn.h"
#include "smtp_client.h"
#include "tls.h"
#include "util.h"

#define MTA_CONN_IN_HIWAT	(64 * 1024)	/* server bytes buffered */
#define MTA_CONN_OUT_HIWAT	(256 * 1024)	/* content queued to send */
#define MTA_CONN_OUT_LOWAT	(64 * 1024)	/* pump again below this */
#define MTA_CONN_PUMP		(64 * 1024)	/* content per pump call */
#define MTA_CONN_TLS_NAME_MAX	64

enum mta_conn_state {
	MTA_CONN_CONNECTING,	/* TCP connect in progress */
	MTA_CONN_SESSION,	/* the client runs (TLS handshake too) */
	MTA_CONN_ENDING,	/* ev_next will tear down */
};

struct mta_conn {
	struct event_base		*base;
	struct tls_ctx			*tls;
	const struct mta_conn_ops	*ops;
	void				*arg;

	char				*helo;
	struct mta_dane			*dane;	/* copies of the params' */
	size_t				 ndane;
	char				*auth_user;
	char				*auth_pass;

	struct mta_conn_addr		*addrs;
	size_t				 naddrs;
	size_t				 cur;

	enum mta_conn_state		 state;
	struct bufferevent		*bev;
	struct smtp_client		*client;
	struct event			*ev_next;

	bool				 reached;	/* ready, ever */
	bool				 ready_here;	/* on this address */
	bool				 quitting;
	bool				 want_tls;
	bool				 handshaking;
	bool				 tls_failed;
	bool				 plain_retry;	/* no STARTTLS now */
	bool				 tls_up;
	bool				 verified;
	bool				 dane_checked;	/* by TLSA */
	char				 tls_version[MTA_CONN_TLS_NAME_MAX];
	char				 tls_cipher[MTA_CONN_TLS_NAME_MAX];
	char				 why[MTA_CONN_WHY_MAX];
	char				 enh[SMTP_CLIENT_ENH_MAX];

	struct msgread			 rd;		/* message content */
	size_t				 messages;
};

static void	mta_conn_connect(struct mta_conn *);
static void	mta_conn_timeouts(struct mta_conn *);

/* --- helpers --- */

int
mta_conn_addr_make(struct mta_conn_addr *a, const char *host, const char *ip,
    uint16_t port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (str_copy(a->host, sizeof(a->host), host) == -1 ||
	    str_copy(a->ip, sizeof(a->ip), ip) == -1 || port == 0)
		return -1;
	a->port = port;
	a->tls = SMTP_CLIENT_TLS_MAY;
	a->dane = -1;
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		a->sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		a->sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* "mx.example.net[192.0.2.1]:25: " then what happened, one line. */
static void
mta_conn_set_why(struct mta_conn *c, const char *what, size_t len)
{
	const struct mta_conn_addr	*a = &c->addrs[c->cur];
	size_t				 i, o;
	int				 n;

	n = snprintf(c->why, sizeof(c->why), "%s[%s]:%u: ", a->host, a->ip,
	    a->port);
	o = n < 0 ? 0 : (size_t)n;
	for (i = 0; i < len && o + 1 < sizeof(c->why); i++) {
		unsigned char ch = (unsigned char)what[i];

		c->why[o++] = ch == '\n' ? ' ' :
		    (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	c->why[o] = '\0';
}

static size_t
mta_conn_output(const struct mta_conn *c)
{
	return conn_bev_output_pending(c->bev);
}

/* Tear the session down after this turn (never from a callback's depth). */
static void
mta_conn_end(struct mta_conn *c)
{
	c->state = MTA_CONN_ENDING;
	event_active(c->ev_next, EV_TIMEOUT, 0);
}

/* --- smtp_client ops --- */

static void
mta_conn_op_send(void *arg, const char *p, size_t len)
{
	struct mta_conn	*c = arg;

	if (bufferevent_write(c->bev, p, len) == -1)
		fatalx("mta: bufferevent_write");
}

static void
mta_conn_op_starttls(void *arg)
{
	struct mta_conn	*c = arg;

	/* The swap waits until smtp_client_input() has returned. */
	c->want_tls = true;
}

/* Tell the mta what TLS came to on this attempt (TLS-RPT, RFC 8460). */
static void
mta_conn_tlsrpt(struct mta_conn *c, enum mta_conn_tls_event ev,
    const char *why)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 ip[MTA_CONN_IP_MAX] = "";
	evutil_socket_t		 fd;

	if (c->ops->tls_result == NULL || c->plain_retry)
		return;
	memset(&ss, 0, sizeof(ss));
	if (c->bev != NULL && (fd = bufferevent_getfd(c->bev)) != -1 &&
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET)
			(void)inet_ntop(AF_INET, &((struct sockaddr_in *)
			    &ss)->sin_addr, ip, sizeof(ip));
		else if (ss.ss_family == AF_INET6)
			(void)inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
			    &ss)->sin6_addr, ip, sizeof(ip));
	}
	c->ops->tls_result(c, c->arg, &c->addrs[c->cur], ev,
	    why != NULL ? why : "", ip);
}

static void
mta_conn_op_ready(void *arg)
{
	struct mta_conn	*c = arg;

	if (!c->ready_here && !c->tls_up &&
	    c->addrs[c->cur].tls != SMTP_CLIENT_TLS_NO)
		mta_conn_tlsrpt(c, MTA_CONN_TLS_NOT_OFFERED, NULL);
	c->ready_here = true;
	c->reached = true;
	c->ops->ready(c, c->arg);
}

static ssize_t
mta_conn_op_read(void *arg, char *buf, size_t len)
{
	struct mta_conn	*c = arg;
	ssize_t		 n;

	/* EIO: shorter than the queue said; never send a cut message */
	if ((n = msgread_read(&c->rd, buf, len)) == -1)
		log_warn("mta: reading the message");
	return n;
}

static void
mta_conn_op_rcpt_done(void *arg, size_t i, const struct smtp_client_reply *r)
{
	struct mta_conn	*c = arg;

	c->ops->rcpt_done(c, c->arg, i, r);
}

static void
mta_conn_op_done(void *arg)
{
	struct mta_conn	*c = arg;

	c->rd.fd = -1;
	c->ops->done(c, c->arg);
}

static void
mta_conn_op_close(void *arg, const struct smtp_client_reply *why)
{
	struct mta_conn	*c = arg;

	const struct mta_conn_addr	*a = &c->addrs[c->cur];
	char				 text[MTA_CONN_WHY_MAX];

	if (!c->quitting && why->local && !c->tls_up &&
	    a->tls == SMTP_CLIENT_TLS_MUST && why->code == 451 &&
	    strcmp(why->enhanced, "4.7.0") == 0)
		mta_conn_tlsrpt(c, MTA_CONN_TLS_NOT_OFFERED, NULL);
	if (c->quitting)
		c->why[0] = '\0';
	else if (a->label[0] != '\0' && why->local && !c->tls_up &&
	    a->tls == SMTP_CLIENT_TLS_MUST && why->code == 451 &&
	    strcmp(why->enhanced, "4.7.0") == 0) {
		/* RFC 8461 §4.2: no STARTTLS, no mail; say whose rule it is */
		(void)snprintf(text, sizeof(text), "%s: %s does not offer "
		    "STARTTLS", a->label, a->host);
		mta_conn_set_why(c, text, strlen(text));
		(void)str_copy(c->enh, sizeof(c->enh), "4.7.5");
	} else {
		mta_conn_set_why(c, why->text, why->len);
		(void)str_copy(c->enh, sizeof(c->enh), why->enhanced);
	}
	mta_conn_end(c);
}

static const struct smtp_client_ops mta_conn_client_ops = {
	.send = mta_conn_op_send,
	.starttls = mta_conn_op_starttls,
	.ready = mta_conn_op_ready,
	.read = mta_conn_op_read,
	.rcpt_done = mta_conn_op_rcpt_done,
	.done = mta_conn_op_done,
	.close = mta_conn_op_close,
};

/* --- the bufferevent --- */

static void	mta_conn_on_read(struct bufferevent *, void *);
static void	mta_conn_on_write(struct bufferevent *, void *);
static void	mta_conn_on_event(struct bufferevent *, short, void *);

/* Send content while the output has room. */
static void
mta_conn_pump(struct mta_conn *c)
{
	while (c->state == MTA_CONN_SESSION &&
	    smtp_client_wants_body(c->client) &&
	    mta_conn_output(c) < MTA_CONN_OUT_HIWAT)
		smtp_client_pump(c->client, MTA_CONN_PUMP);
}

static void
mta_conn_start_tls(struct mta_conn *c)
{
	const struct mta_conn_addr	*a = &c->addrs[c->cur];
	struct bufferevent		*tbev;
	SSL				*ssl;

	c->want_tls = false;
	if (a->dane >= 0)
		ssl = tls_client_ssl_new_dane(c->tls, a->host,
		    c->dane[a->dane].rrs, c->dane[a->dane].nrrs);
	else
		ssl = tls_client_ssl_new(c->tls, a->host);
	if (ssl == NULL) {
		log_warnx("mta: tls: %s", tls_errstr());
		smtp_client_fail(c->client, "cannot set up TLS");
		return;
	}
	tbev = bufferevent_openssl_filter_new(c->base, c->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tbev == NULL) {
		tls_ssl_free(ssl);
		smtp_client_fail(c->client, "cannot set up TLS");
		return;
	}
	c->bev = tbev;
	c->handshaking = true;
	bufferevent_openssl_set_allow_dirty_shutdown(tbev, 1);
	bufferevent_setcb(tbev, mta_conn_on_read, mta_conn_on_write,
	    mta_conn_on_event, c);
	bufferevent_setwatermark(tbev, EV_READ, 0, MTA_CONN_IN_HIWAT);
	bufferevent_setwatermark(tbev, EV_WRITE, MTA_CONN_OUT_LOWAT, 0);
	bufferevent_enable(tbev, EV_READ | EV_WRITE);
	mta_conn_timeouts(c);
}

/* How the server of a finished handshake was checked (metrics.h). */
static enum metrics_verify
mta_conn_verify_outcome(const struct mta_conn *c,
    const struct mta_conn_addr *a)
{
	if (c->dane_checked)
		return c->verified ? METRICS_VERIFY_DANE :
		    METRICS_VERIFY_FAILED;
	if (!a->verify)
		return METRICS_VERIFY_NONE;
	if (!c->verified)
		return METRICS_VERIFY_FAILED;
	/* a policy's label names it; a relay's `tls verify` has none */
	return a->label[0] != '\0' ? METRICS_VERIFY_MTA_STS :
	    METRICS_VERIFY_PKIX;
}

/* The handshake is done: note what it gave, apply the policy, go on. */
static void
mta_conn_tls_done(struct mta_conn *c)
{
	const struct mta_conn_addr	*a = &c->addrs[c->cur];
	const char			*err = "";
	char				 why[MTA_CONN_WHY_MAX];
	SSL				*ssl;

	c->handshaking = false;
	c->tls_up = true;
	ssl = bufferevent_openssl_get_ssl(c->bev);
	(void)str_copy(c->tls_version, sizeof(c->tls_version),
	    tls_version(ssl));
	(void)str_copy(c->tls_cipher, sizeof(c->tls_cipher), tls_cipher(ssl));
	c->dane_checked = a->dane >= 0;
	if (c->dane_checked)
		c->verified = tls_dane_verified(ssl, &err) == 0;
	else
		c->verified = tls_peer_verified(ssl, &err) == 0;
	log_info("mta: event=tls relay=%s[%s]:%u version=%s cipher=%s "
	    "verified=%s%s%s%s%s", a->host, a->ip, a->port, c->tls_version,
	    c->tls_cipher, c->verified ? "yes" : "no",
	    c->dane_checked ? " by=dane" : "",
	    c->verified ? "" : " reason=\"", c->verified ? "" : err,
	    c->verified ? "" : "\"");
	metrics_tls(METRICS_DIR_OUT, c->tls_version);
	metrics_inc(METRICS_TLS_VERIFY, mta_conn_verify_outcome(c, a));
	mta_conn_tlsrpt(c, c->verified ? MTA_CONN_TLS_VERIFIED :
	    MTA_CONN_TLS_UNVERIFIED, err);
	if (c->dane_checked && !c->verified) {
		/*
		 * RFC 7672 §2.2: no match, no mail to this host; the
		 * reason names DANE for the queue and the operator.
		 */
		(void)snprintf(why, sizeof(why), "TLSA for %s does not match "
		    "the certificate (DANE: %s)", a->host, err);
		smtp_client_fail(c->client, why);
		return;
	}
	if (a->verify && !c->verified) {
		/* RFC 8461 §4.2: a policy wants proof */
		if (a->label[0] != '\0')
			(void)snprintf(why, sizeof(why), "%s: the certificate "
			    "of %s is not valid: %s", a->label, a->host, err);
		else
			(void)snprintf(why, sizeof(why), "TLS certificate not "
			    "verified: %s", err);
		smtp_client_fail(c->client, why);
		return;
	}
	smtp_client_tls_started(c->client);
	mta_conn_timeouts(c);
}

/* Feed what the server sent; then whatever the client asked for. */
static void
mta_conn_input(struct mta_conn *c)
{
	struct evbuffer	*in;
	const char	*p;
	size_t		 len, n;

	if (c->state != MTA_CONN_SESSION || c->handshaking)
		return;
	in = bufferevent_get_input(c->bev);
	if ((len = evbuffer_get_length(in)) > 0) {
		/* Contiguous, so that the client sees all of one read. */
		if ((p = (const char *)evbuffer_pullup(in, -1)) == NULL)
			fatalx("mta: evbuffer_pullup");
		n = smtp_client_input(c->client, p, len);
		if (c->state != MTA_CONN_SESSION)
			return;
		evbuffer_drain(in, n);
	}
	if (c->want_tls) {
		mta_conn_start_tls(c);
		return;
	}
	mta_conn_pump(c);
	if (c->state == MTA_CONN_SESSION)
		mta_conn_timeouts(c);
}

static void
mta_conn_on_read(struct bufferevent *bev, void *arg)
{
	mta_conn_input(arg);
}

static void
mta_conn_on_write(struct bufferevent *bev, void *arg)
{
	struct mta_conn	*c = arg;

	if (c->state != MTA_CONN_SESSION || c->handshaking)
		return;
	mta_conn_pump(c);
	if (c->state == MTA_CONN_SESSION)
		mta_conn_timeouts(c);
}

static void
mta_conn_started(struct mta_conn *c)
{
	struct smtp_client_params	p;

	memset(&p, 0, sizeof(p));
	p.helo = c->helo;
	p.tls = c->plain_retry ? SMTP_CLIENT_TLS_NO : c->addrs[c->cur].tls;
	p.tls_verified = !c->plain_retry &&
	    c->addrs[c->cur].tls == SMTP_CLIENT_TLS_MUST &&
	    (c->addrs[c->cur].verify || c->addrs[c->cur].dane >= 0);
	p.auth_user = c->auth_user;
	p.auth_pass = c->auth_pass;
	c->state = MTA_CONN_SESSION;
	c->ready_here = false;
	c->client = smtp_client_new(&p, &mta_conn_client_ops, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	mta_conn_timeouts(c);
}

static void
mta_conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct mta_conn	*c = arg;
	const char	*why;
	char		 text[MTA_CONN_WHY_MAX];
	unsigned long	 e;
	int		 err;

	if (c->state == MTA_CONN_ENDING)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == MTA_CONN_CONNECTING)
			mta_conn_started(c);
		else if (c->handshaking)
			mta_conn_tls_done(c);
		return;
	}
	err = EVUTIL_SOCKET_ERROR();
	if (c->state == MTA_CONN_CONNECTING) {
		if (what & BEV_EVENT_TIMEOUT)
			why = "connection timed out";
		else
			why = strerror(err != 0 ? err : ECONNREFUSED);
		(void)snprintf(text, sizeof(text), "connect: %s", why);
		mta_conn_set_why(c, text, strlen(text));
		c->enh[0] = '\0';
		mta_conn_end(c);
		return;
	}
	if (c->handshaking) {
		text[0] = '\0';
		while ((e = bufferevent_get_openssl_error(bev)) != 0)
			(void)snprintf(text, sizeof(text), "TLS handshake "
			    "failed: %s", tls_error_reason(e));
		if (text[0] == '\0')
			(void)snprintf(text, sizeof(text), "TLS handshake "
			    "failed: %s", (what & BEV_EVENT_TIMEOUT) ?
			    "timed out" : (what & BEV_EVENT_EOF) ?
			    "connection closed" : "error");
		log_info("mta: event=tls-failed relay=%s[%s]:%u reason=\"%s\"",
		    c->addrs[c->cur].host, c->addrs[c->cur].ip,
		    c->addrs[c->cur].port, text);
		mta_conn_tlsrpt(c, MTA_CONN_TLS_FAILED, text);
		c->tls_failed = true;
		c->handshaking = false;
		smtp_client_fail(c->client, text);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		why = "timeout waiting for the server";
	else if (what & BEV_EVENT_EOF)
		why = "connection closed by the server";
	else
		why = "connection lost";
	smtp_client_fail(c->client, why);
}

/* The waits of RFC 5321 §4.5.3.2, as the client counts them. */
static void
mta_conn_timeouts(struct mta_conn *c)
{
	struct timeval	tv;
	unsigned	t;

	if (c->client == NULL || c->bev == NULL)
		return;
	t = smtp_client_timeout(c->client);
	if (t == 0) {
		bufferevent_set_timeouts(c->bev, NULL, NULL);
		return;
	}
	tv.tv_sec = t;
	tv.tv_usec = 0;
	/* While content goes out no reply is awaited: writes must move. */
	if (smtp_client_stage(c->client) == SMTP_CLIENT_STAGE_BODY)
		bufferevent_set_timeouts(c->bev, NULL, &tv);
	else
		bufferevent_set_timeouts(c->bev, &tv, &tv);
}

static void
mta_conn_connect(struct mta_conn *c)
{
	const struct mta_conn_addr	*a = &c->addrs[c->cur];
	struct timeval			 tv = { MTA_CONN_CONNECT_TIMEOUT, 0 };

	c->state = MTA_CONN_CONNECTING;
	c->tls_up = c->verified = c->handshaking = c->want_tls = false;
	c->dane_checked = false;
	c->tls_version[0] = c->tls_cipher[0] = '\0';
	if (a->skip) {
		/*
		 * RFC 7672 §2.2: a failed TLSA lookup skips the host; RFC
		 * 8461 §4.1: so does an MX an enforced policy does not list.
		 */
		mta_conn_tlsrpt(c, MTA_CONN_TLS_SKIPPED, a->why);
		mta_conn_set_why(c, a->why, strnlen(a->why, sizeof(a->why)));
		(void)str_copy(c->enh, sizeof(c->enh), "4.7.5");
		mta_conn_end(c);
		return;
	}
	c->bev = bufferevent_socket_new(c->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (c->bev == NULL)
		fatalx("mta: bufferevent_socket_new");
	bufferevent_setcb(c->bev, mta_conn_on_read, mta_conn_on_write,
	    mta_conn_on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, MTA_CONN_IN_HIWAT);
	bufferevent_setwatermark(c->bev, EV_WRITE, MTA_CONN_OUT_LOWAT, 0);
	/* libevent counts the connect against the write timeout */
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	log_debug("mta: event=connect relay=%s[%s]:%u", a->host, a->ip,
	    a->port);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&a->ss,
	    (int)a->sslen) == -1) {
		mta_conn_set_why(c, "connect: cannot start", strlen("connect: "
		    "cannot start"));
		mta_conn_end(c);
	}
}

/* The deferred end of a session: next address, or gone. */
static void
mta_conn_next(evutil_socket_t fd, short what, void *arg)
{
	struct mta_conn	*c = arg;
	bool		 again = false;

	smtp_client_free(c->client);
	c->client = NULL;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (!c->quitting && !c->ready_here) {
		if (c->tls_failed &&
		    c->addrs[c->cur].tls == SMTP_CLIENT_TLS_MAY &&
		    !c->plain_retry) {
			/*
			 * RFC 7435 §3: opportunistic TLS that fails may
			 * fall back to cleartext rather than not deliver.
			 */
			c->plain_retry = true;
			again = true;
		} else if (c->cur + 1 < c->naddrs) {
			c->cur++;
			c->plain_retry = false;
			again = true;
		}
		c->tls_failed = false;
	}
	if (again) {
		mta_conn_connect(c);
		return;
	}
	c->ops->gone(c, c->arg, c->reached, c->why,
	    c->enh[0] != '\0' ? c->enh : "4.4.1");
	event_free(c->ev_next);
	mta_dane_free(c->dane, c->ndane);
	free(c->addrs);
	free(c->helo);
	free(c->auth_user);
	if (c->auth_pass != NULL) {
		explicit_bzero(c->auth_pass, strlen(c->auth_pass));
		free(c->auth_pass);
	}
	free(c);
}

/* --- the interface --- */

struct mta_conn *
mta_conn_new(struct event_base *base, struct tls_ctx *tls,
    const struct mta_conn_params *p, const struct mta_conn_addr *addrs,
    size_t naddrs, const struct mta_conn_ops *ops, void *arg)
{
	struct mta_conn	*c;

	if (naddrs == 0 || naddrs > MTA_CONN_ADDRS_MAX)
		fatalx("mta: %zu addresses for a connection", naddrs);
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->tls = tls;
	c->ops = ops;
	c->arg = arg;
	c->helo = xstrdup(p->helo);
	mta_dane_copy(p->dane, p->ndane, &c->dane, &c->ndane);
	if (p->auth_user != NULL && p->auth_pass != NULL) {
		c->auth_user = xstrdup(p->auth_user);
		c->auth_pass = xstrdup(p->auth_pass);
	}
	c->addrs = xcalloc(naddrs, sizeof(*c->addrs));
	memcpy(c->addrs, addrs, naddrs * sizeof(*c->addrs));
	c->naddrs = naddrs;
	c->rd.fd = -1;
	if ((c->ev_next = evtimer_new(base, mta_conn_next, c)) == NULL)
		fatalx("mta: evtimer_new");
	mta_conn_connect(c);
	return c;
}

int
mta_conn_send(struct mta_conn *c, const struct smtp_client_msg *msg,
    const char *prepend, int fd, uint64_t msglen)
{
	msgread_init(&c->rd, prepend, fd, msglen);
	c->messages++;
	if (smtp_client_mail(c->client, msg) == -1)
		return -1;
	/* From ready inside input, mta_conn_input() arms the timers. */
	mta_conn_timeouts(c);
	return 0;
}

void
mta_conn_quit(struct mta_conn *c)
{
	if (c->state == MTA_CONN_ENDING)
		return;
	c->quitting = true;
	if (c->state == MTA_CONN_SESSION && c->client != NULL &&
	    smtp_client_stage(c->client) == SMTP_CLIENT_STAGE_READY) {
		smtp_client_quit(c->client);
		mta_conn_timeouts(c);
		return;
	}
	c->why[0] = '\0';
	mta_conn_end(c);
}

const struct mta_conn_addr *
mta_conn_peer(const struct mta_conn *c)
{
	return &c->addrs[c->cur];
}

bool
mta_conn_tls(const struct mta_conn *c, const char **version,
    const char **cipher, bool *verified, bool *dane)
{
	*dane = c->dane_checked;
	*version = c->tls_version;
	*cipher = c->tls_cipher;
	*verified = c->verified;
	return c->tls_up;
}

unsigned
mta_conn_extensions(const struct mta_conn *c)
{
	return c->client != NULL ? smtp_client_extensions(c->client) : 0;
}

size_t
mta_conn_messages(const struct mta_conn *c)
{
	return c->messages;
}
