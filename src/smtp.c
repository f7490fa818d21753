/*
 * smtp: the smtp role.  Accepts connections on the smtp, submission and
 * submissions listeners and on the local submission socket of
 * cachet-sendmail, runs TLS, and drives one smtp_session per connection.
 * Questions go to lookup (AUTH, MAIL and RCPT checks) and to queue (a
 * spool file to write DATA into, then the commit).  This role parses the
 * network and so holds nothing: it runs as an unprivileged user chrooted
 * into an empty directory and cannot open the spool; the queue hands it
 * one open file per message.
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
#include <openssl/rand.h>

#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "smtp_session.h"
#include "tls.h"
#include "util.h"

#define SMTP_INPUT_HIWAT	(256 * 1024)	/* stop reading past this */
#define SMTP_OUTPUT_HIWAT	(256 * 1024)
#define SMTP_SPOOL_BUF		(64 * 1024)	/* DATA bytes per write() */
#define SMTP_FEED_MAX		(64 * 1024)	/* bytes per input() call */
#define SMTP_PER_IP_SLOTS	4096
#define SMTP_LINGER_TICK_US	20000	/* recheck a closing TLS connection */
#define SMTP_LINGER_TICKS	250	/* for at most 5 s */

enum smtp_wait {
	SMTP_WAIT_NONE,
	SMTP_WAIT_AUTH,		/* lookup */
	SMTP_WAIT_MAIL,		/* lookup */
	SMTP_WAIT_RCPT,		/* lookup */
	SMTP_WAIT_CREATE,	/* queue */
	SMTP_WAIT_COMMIT,	/* queue */
};

struct smtp_conn {
	struct smtp_role	*role;
	size_t			 slot;
	uint32_t		 seq;		/* bumps per request */
	char			 sid[17];
	struct bufferevent	*bev;
	struct smtp_session	*session;
	enum smtp_kind		 kind;
	char			 ip[INET6_ADDRSTRLEN];
	uint32_t		 iphash;
	bool			 tls;
	bool			 starttls_pending;
	bool			 closing;
	bool			 feeding;
	enum smtp_wait		 wait;
	int			 spool_fd;
	char			 id[32];
	struct buf		 spool;		/* DATA not yet written */
	uint64_t		 spool_len;
	bool			 spool_failed;
	int			 spool_errno;
	struct event		*ev_linger;
	unsigned		 linger_ticks;
	bool			 data_timeouts;	/* data-timeout in force */
};

struct smtp_listener {
	struct smtp_role	*role;
	struct event		*ev;
	int			 fd;
	enum smtp_kind		 kind;
};

struct smtp_role {
	struct proc_self	*self;
	struct conf		*conf;
	struct tls_ctx		*tls;
	struct smtp_conn	**conns;	/* slot table */
	size_t			 nslots;
	size_t			 nconns;
	uint16_t		 per_ip[SMTP_PER_IP_SLOTS];
	struct smtp_listener	*listeners;
	size_t			 nlisteners;
};

static void	smtp_conn_feed(struct smtp_conn *);
static void	smtp_conn_free(struct smtp_conn *);
static void	smtp_conn_close_if_done(struct smtp_conn *);

static uint64_t
smtp_reqid(struct smtp_conn *c)
{
	c->seq++;
	return ((uint64_t)c->slot << 32) | c->seq;
}

static struct smtp_conn *
smtp_conn_by_reqid(struct smtp_role *r, uint64_t reqid)
{
	size_t			 slot = (size_t)(reqid >> 32);
	struct smtp_conn	*c;

	if (slot >= r->nslots || (c = r->conns[slot]) == NULL ||
	    c->seq != (uint32_t)reqid)
		return NULL;	/* the connection went away meanwhile */
	return c;
}

/* --- session ops --- */

static void
smtp_op_reply(void *arg, const char *p, size_t len)
{
	struct smtp_conn	*c = arg;

	if (bufferevent_write(c->bev, p, len) == -1)
		c->closing = true;
}

static void
smtp_op_starttls(void *arg)
{
	struct smtp_conn	*c = arg;

	/*
	 * RFC 3207 §4.2, CVE-2011-0411: whatever the client sent after
	 * STARTTLS and before the handshake is thrown away, never read
	 * as commands inside TLS.  Stop reading now; the swap happens once
	 * the 220 is flushed (smtp_conn_write).
	 */
	bufferevent_disable(c->bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
	c->starttls_pending = true;
}

static void
smtp_op_auth(void *arg, const char *user, const char *pass)
{
	struct smtp_conn	*c = arg;
	struct msg		*m;

	m = msg_new(MSG_LOOKUP_AUTH);
	msg_put_u64(m, smtp_reqid(c));
	msg_put_str(m, c->ip);
	msg_put_str(m, user);
	msg_put_str(m, pass);
	c->wait = SMTP_WAIT_AUTH;
	if (proc_send(c->role->self, PROC_LOOKUP, m) == -1) {
		c->wait = SMTP_WAIT_NONE;
		smtp_session_auth_result(c->session, SMTP_AUTH_TEMPFAIL);
	}
	/* The message buffer holds the password until sent: ipc_send
	 * copies it into the frame and frees the message at once. */
}

static void
smtp_op_mail(void *arg, const struct smtp_envelope *env)
{
	struct smtp_conn	*c = arg;
	struct msg		*m;
	const char		*user;
	char			 from[MAILADDR_LOCAL_MAX + MAILADDR_DOMAIN_MAX + 2];

	/*
	 * On port 25 any sender may be used (SPF comes later).  On
	 * submission the authenticated user may only use addresses that
	 * are theirs: lookup decides.
	 */
	if (c->kind == SMTP_KIND_MX || c->kind == SMTP_KIND_LOCAL ||
	    (user = smtp_session_auth_user(c->session)) == NULL) {
		smtp_session_mail_result(c->session, 250, "2.1.0", "Ok");
		return;
	}
	if (mailaddr_format(&env->from, from, sizeof(from)) == -1) {
		smtp_session_mail_result(c->session, 501, "5.1.7",
		    "Bad sender address");
		return;
	}
	m = msg_new(MSG_LOOKUP_MAIL);
	msg_put_u64(m, smtp_reqid(c));
	msg_put_str(m, user);
	msg_put_str(m, from);
	c->wait = SMTP_WAIT_MAIL;
	if (proc_send(c->role->self, PROC_LOOKUP, m) == -1) {
		c->wait = SMTP_WAIT_NONE;
		smtp_session_mail_result(c->session, 451, "4.3.0",
		    "Temporary lookup failure");
	}
}

static void
smtp_op_rcpt(void *arg, const struct smtp_envelope *env,
    const struct smtp_rcpt *rcpt)
{
	struct smtp_conn	*c = arg;
	struct msg		*m;
	char			 to[MAILADDR_LOCAL_MAX + MAILADDR_DOMAIN_MAX + 2];
	uint32_t		 flags = 0;

	if (mailaddr_format(&rcpt->addr, to, sizeof(to)) == -1) {
		smtp_session_rcpt_result(c->session, 501, "5.1.3",
		    "Bad recipient address");
		return;
	}
	if (smtp_session_auth_user(c->session) != NULL ||
	    c->kind == SMTP_KIND_LOCAL)
		flags |= MSG_RCPT_F_RELAY_OK;
	m = msg_new(MSG_LOOKUP_RCPT);
	msg_put_u64(m, smtp_reqid(c));
	msg_put_u32(m, flags);
	msg_put_str(m, to);
	c->wait = SMTP_WAIT_RCPT;
	if (proc_send(c->role->self, PROC_LOOKUP, m) == -1) {
		c->wait = SMTP_WAIT_NONE;
		smtp_session_rcpt_result(c->session, 451, "4.3.0",
		    "Temporary lookup failure");
	}
}

static void
smtp_op_data_open(void *arg)
{
	struct smtp_conn	*c = arg;
	struct msg		*m;

	m = msg_new(MSG_QUEUE_CREATE);
	msg_put_u64(m, smtp_reqid(c));
	c->wait = SMTP_WAIT_CREATE;
	if (proc_send(c->role->self, PROC_QUEUE, m) == -1) {
		c->wait = SMTP_WAIT_NONE;
		smtp_session_data_open_result(c->session, false, NULL);
	}
}

static void
smtp_spool_flush(struct smtp_conn *c)
{
	if (c->spool.len == 0 || c->spool_failed)
		return;
	if (write_full(c->spool_fd, c->spool.data, c->spool.len) == -1) {
		c->spool_failed = true;
		c->spool_errno = errno;
		log_warn("sid=%s id=%s spool write", c->sid, c->id);
	}
	buf_reset(&c->spool);
}

static void
smtp_op_data_write(void *arg, const char *p, size_t len)
{
	struct smtp_conn	*c = arg;

	if (c->spool_fd == -1 || c->spool_failed)
		return;
	c->spool_len += len;
	if (c->spool.len + len > SMTP_SPOOL_BUF)
		smtp_spool_flush(c);
	if (len >= SMTP_SPOOL_BUF) {
		if (!c->spool_failed &&
		    write_full(c->spool_fd, p, len) == -1) {
			c->spool_failed = true;
			c->spool_errno = errno;
			log_warn("sid=%s id=%s spool write", c->sid, c->id);
		}
		return;
	}
	if (buf_append(&c->spool, p, len) == -1)
		fatalx("spool buffer");
}

static void
smtp_spool_close(struct smtp_conn *c)
{
	if (c->spool_fd != -1)
		close(c->spool_fd);
	c->spool_fd = -1;
	buf_reset(&c->spool);
	c->spool_len = 0;
	c->spool_failed = false;
}

static void
smtp_op_data_abort(void *arg)
{
	struct smtp_conn	*c = arg;
	struct msg		*m;

	if (c->id[0] == '\0')
		return;
	smtp_spool_close(c);
	m = msg_new(MSG_QUEUE_ABORT);
	msg_put_str(m, c->id);
	(void)proc_send(c->role->self, PROC_QUEUE, m);
	c->id[0] = '\0';
}

static void
smtp_op_data_commit(void *arg, const struct smtp_envelope *env)
{
	struct smtp_conn	*c = arg;
	struct msg		*m;
	char			 a[MAILADDR_LOCAL_MAX + MAILADDR_DOMAIN_MAX + 2];
	const char		*user;
	size_t			 i;

	smtp_spool_flush(c);
	if (c->spool_failed) {
		errno = c->spool_errno;
		smtp_op_data_abort(c);
		if (errno == ENOSPC || errno == EDQUOT)
			smtp_session_commit_result(c->session, 452, "4.3.1",
			    "Insufficient system storage");
		else
			smtp_session_commit_result(c->session, 451, "4.3.0",
			    "Local error writing the message");
		return;
	}
	/* The queue fsyncs through its own descriptor of the same file. */
	close(c->spool_fd);
	c->spool_fd = -1;

	m = msg_new(MSG_QUEUE_COMMIT);
	msg_put_u64(m, smtp_reqid(c));
	msg_put_str(m, c->id);
	msg_put_u64(m, c->spool_len);
	(void)mailaddr_format(&env->from, a, sizeof(a));
	msg_put_str(m, a);
	msg_put_u32(m, env->body);
	msg_put_u32(m, env->smtputf8);
	msg_put_u32(m, env->ret);
	msg_put_str(m, env->envid);
	msg_put_str(m, env->auth);
	msg_put_str(m, c->ip);
	user = smtp_session_auth_user(c->session);
	msg_put_str(m, user);
	msg_put_u32(m, (uint32_t)env->nrcpts);
	for (i = 0; i < env->nrcpts; i++) {
		(void)mailaddr_format(&env->rcpts[i].addr, a, sizeof(a));
		msg_put_str(m, a);
		msg_put_u32(m, env->rcpts[i].notify);
		msg_put_str(m, env->rcpts[i].orcpt);
	}
	c->wait = SMTP_WAIT_COMMIT;
	if (proc_send(c->role->self, PROC_QUEUE, m) == -1) {
		c->wait = SMTP_WAIT_NONE;
		c->id[0] = '\0';
		smtp_session_commit_result(c->session, 451, "4.3.0",
		    "Queue unavailable");
	}
}

static void
smtp_op_close(void *arg)
{
	struct smtp_conn	*c = arg;

	c->closing = true;
}

static const struct smtp_session_ops smtp_ops = {
	.reply = smtp_op_reply,
	.starttls = smtp_op_starttls,
	.auth = smtp_op_auth,
	.mail = smtp_op_mail,
	.rcpt = smtp_op_rcpt,
	.data_open = smtp_op_data_open,
	.data_write = smtp_op_data_write,
	.data_commit = smtp_op_data_commit,
	.data_abort = smtp_op_data_abort,
	.close = smtp_op_close,
};

/* --- connections --- */

static void
smtp_conn_linger(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_conn	*c = arg;

	if (++c->linger_ticks > SMTP_LINGER_TICKS) {
		smtp_conn_free(c);	/* the client does not read */
		return;
	}
	smtp_conn_close_if_done(c);
}

/*
 * Free a closing connection once its last reply left.  Behind a TLS
 * filter the bytes sit in the underlying bufferevent after the filter's
 * own buffer drained; freeing then would cut off the 221 or 421.
 */
static void
smtp_conn_close_if_done(struct smtp_conn *c)
{
	struct bufferevent	*under;
	struct timeval		 tv = { 0, SMTP_LINGER_TICK_US };

	if (!c->closing ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return;
	under = bufferevent_get_underlying(c->bev);
	if (under != NULL &&
	    evbuffer_get_length(bufferevent_get_output(under)) != 0) {
		if (c->ev_linger == NULL)
			c->ev_linger = evtimer_new(c->role->self->base,
			    smtp_conn_linger, c);
		evtimer_add(c->ev_linger, &tv);
		return;
	}
	smtp_conn_free(c);
}

/* Commands get smtp-timeout, message content data-timeout (§4.5.3.2). */
static void
smtp_conn_timeouts(struct smtp_conn *c)
{
	struct timeval	tv = { 0, 0 };
	bool		data = smtp_session_in_data(c->session);

	if (data == c->data_timeouts)
		return;
	c->data_timeouts = data;
	tv.tv_sec = (time_t)(data ? c->role->conf->limits.data_timeout :
	    c->role->conf->limits.smtp_timeout);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/*
 * Hand buffered input to the session until it waits for an answer, asks
 * to close, or holds only part of a line.
 */
static void
smtp_conn_feed(struct smtp_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	unsigned char	*p;
	size_t		 avail, n, take;

	if (c->feeding)
		return;
	c->feeding = true;
	/*
	 * A client that sends and never reads must not make us buffer
	 * replies without end: past the high-water mark of output, stop
	 * taking input (its own buffer then fills, and TCP stops the
	 * client); the write callback resumes once the replies drained.
	 */
	while (!c->closing && !c->starttls_pending &&
	    !smtp_session_waiting(c->session) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) <
	    SMTP_OUTPUT_HIWAT &&
	    (avail = evbuffer_get_length(in)) > 0) {
		take = avail < SMTP_FEED_MAX ? avail : SMTP_FEED_MAX;
		if ((p = evbuffer_pullup(in, (ssize_t)take)) == NULL)
			break;
		n = smtp_session_input(c->session, (const char *)p, take);
		if (c->starttls_pending)
			break;	/* input was discarded by the op */
		evbuffer_drain(in, n);
		if (n == 0) {
			/* A partial line: wait for more, unless more is
			 * there beyond this pullup (cannot happen: the
			 * session consumes overlong lines). */
			break;
		}
	}
	c->feeding = false;
	smtp_conn_timeouts(c);
	if (c->closing || smtp_session_closing(c->session)) {
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
		smtp_conn_close_if_done(c);
	}
}

static void
smtp_conn_read(struct bufferevent *bev, void *arg)
{
	smtp_conn_feed(arg);
}

static void smtp_conn_event(struct bufferevent *, short, void *);
static void smtp_conn_timeouts(struct smtp_conn *);

static void
smtp_conn_start_tls(struct smtp_conn *c)
{
	struct bufferevent	*tbev;
	SSL			*ssl;

	c->starttls_pending = false;
	if ((ssl = tls_server_ssl_new(c->role->tls)) == NULL) {
		log_warnx("sid=%s tls: %s", c->sid, tls_errstr());
		smtp_conn_free(c);
		return;
	}
	tbev = bufferevent_openssl_filter_new(c->role->self->base, c->bev,
	    ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tbev == NULL) {
		log_warnx("sid=%s tls filter failed", c->sid);
		tls_ssl_free(ssl);
		smtp_conn_free(c);
		return;
	}
	c->bev = tbev;
	c->data_timeouts = true;	/* force smtp_conn_timeouts to set them */
	smtp_conn_timeouts(c);
	bufferevent_openssl_set_allow_dirty_shutdown(tbev, 1);
	bufferevent_setcb(tbev, smtp_conn_read, NULL, smtp_conn_event, c);
	bufferevent_setwatermark(tbev, EV_READ, 0, SMTP_INPUT_HIWAT);
	bufferevent_enable(tbev, EV_READ | EV_WRITE);
}

static void
smtp_conn_write(struct bufferevent *bev, void *arg)
{
	struct smtp_conn	*c = arg;

	/* Called when the output buffer drained. */
	if (c->starttls_pending) {
		smtp_conn_start_tls(c);
		return;
	}
	if (c->closing) {
		smtp_conn_close_if_done(c);
		return;
	}
	/* Output drained below the high-water mark: read again. */
	smtp_conn_feed(c);
}

static void
smtp_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_conn	*c = arg;
	SSL			*ssl;
	unsigned long		 e;

	if (what & BEV_EVENT_CONNECTED) {
		/* TLS handshake done (STARTTLS or implicit). */
		ssl = bufferevent_openssl_get_ssl(c->bev);
		c->tls = true;
		log_info("sid=%s event=tls version=%s cipher=%s", c->sid,
		    tls_version(ssl), tls_cipher(ssl));
		smtp_session_tls_started(c->session, tls_version(ssl),
		    tls_cipher(ssl));
		if (c->kind == SMTP_KIND_SUBMISSIONS && c->seq == 0 &&
		    !c->closing)
			smtp_session_start(c->session);
		smtp_conn_feed(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		log_info("sid=%s event=timeout", c->sid);
		if (c->wait == SMTP_WAIT_NONE && !c->closing) {
			smtp_session_timeout(c->session);
			c->closing = true;
			bufferevent_disable(c->bev, EV_READ);
			bufferevent_enable(c->bev, EV_WRITE);
			smtp_conn_close_if_done(c);
			return;
		}
		smtp_conn_free(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
			log_info("sid=%s event=tls-error error=\"%s\"", c->sid,
			    tls_error_reason(e));
	}
	/* EOF or error: the client is gone. */
	smtp_conn_free(c);
}

static void
smtp_conn_free(struct smtp_conn *c)
{
	struct smtp_role	*r = c->role;

	if (c->id[0] != '\0' && c->wait != SMTP_WAIT_COMMIT)
		smtp_op_data_abort(c);
	smtp_spool_close(c);
	buf_free(&c->spool);
	smtp_session_free(c->session);
	if (c->ev_linger != NULL)
		event_free(c->ev_linger);
	bufferevent_free(c->bev);
	r->conns[c->slot] = NULL;
	r->nconns--;
	if (r->per_ip[c->iphash] > 0)
		r->per_ip[c->iphash]--;
	log_info("sid=%s event=disconnect ip=%s", c->sid, c->ip);
	free(c);
}

static uint32_t
smtp_ip_hash(const char *ip)
{
	uint32_t	h = 2166136261u;

	for (; *ip != '\0'; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % SMTP_PER_IP_SLOTS;
}

static void
smtp_refuse(int fd, const char *line)
{
	/* Best effort, non-blocking: the client is told why, then gone. */
	(void)write(fd, line, strlen(line));
	close(fd);
}

static void
smtp_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct smtp_listener	*l = arg;
	struct smtp_role	*r = l->role;
	struct smtp_conn	*c;
	struct smtp_params	 params;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct ucred		 cred;
	socklen_t		 clen = sizeof(cred);
	unsigned char		 rnd[8];
	char			 localuser[32];
	size_t			 slot, i;
	int			 fd;
	SSL			*ssl;

	for (;;) {
		sslen = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		c = xcalloc(1, sizeof(*c));
		c->role = r;
		c->kind = l->kind;
		c->spool_fd = -1;
		buf_init(&c->spool, SMTP_SPOOL_BUF);
		if (l->kind == SMTP_KIND_LOCAL)
			(void)str_copy(c->ip, sizeof(c->ip), "local");
		else if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET,
			    &((struct sockaddr_in *)&ss)->sin_addr, c->ip,
			    sizeof(c->ip));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, c->ip,
			    sizeof(c->ip));
		else
			(void)str_copy(c->ip, sizeof(c->ip), "unknown");
		c->iphash = smtp_ip_hash(c->ip);
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			fatalx("RAND_bytes");
		for (i = 0; i < sizeof(rnd); i++)
			(void)snprintf(c->sid + 2 * i, 3, "%02x", rnd[i]);

		if (r->nconns >= r->conf->limits.connections) {
			log_info("sid=%s event=refused ip=%s "
			    "reason=connections", c->sid, c->ip);
			smtp_refuse(fd, "421 4.7.0 Too many connections, "
			    "try again later\r\n");
			buf_free(&c->spool);
			free(c);
			continue;
		}
		if (l->kind != SMTP_KIND_LOCAL &&
		    r->per_ip[c->iphash] >=
		    r->conf->limits.connections_per_ip) {
			log_info("sid=%s event=refused ip=%s "
			    "reason=connections-per-ip", c->sid, c->ip);
			smtp_refuse(fd, "421 4.7.0 Too many connections "
			    "from your address, try again later\r\n");
			buf_free(&c->spool);
			free(c);
			continue;
		}
		for (slot = 0; slot < r->nslots; slot++)
			if (r->conns[slot] == NULL)
				break;
		if (slot == r->nslots) {
			r->conns = xrealloc(r->conns, (r->nslots + 64) *
			    sizeof(*r->conns));
			memset(r->conns + r->nslots, 0,
			    64 * sizeof(*r->conns));
			r->nslots += 64;
		}
		c->slot = slot;
		r->conns[slot] = c;
		r->nconns++;
		r->per_ip[c->iphash]++;

		memset(&params, 0, sizeof(params));
		params.hostname = r->conf->hostname;
		params.kind = l->kind;
		params.client_ip = c->ip;
		params.client_name = NULL;
		params.tls_available = r->tls != NULL;
		params.plaintext_auth = r->conf->plaintext_auth_loopback &&
		    (strcmp(c->ip, "127.0.0.1") == 0 ||
		    strcmp(c->ip, "::1") == 0);
		if (l->kind == SMTP_KIND_LOCAL) {
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
			    &clen) == -1)
				cred.uid = (uid_t)-1;
			(void)snprintf(localuser, sizeof(localuser),
			    "uid=%u", (unsigned)cred.uid);
			params.local_user = localuser;
			/* The Received: line names the submitting uid. */
			params.client_name = localuser;
		}
		params.max_size = r->conf->limits.message_size;
		params.max_rcpts = r->conf->limits.recipients;
		params.max_errors = r->conf->limits.errors;
		params.now = (int64_t)time(NULL);
		c->session = smtp_session_new(&params, &smtp_ops, c);

		if (l->kind == SMTP_KIND_SUBMISSIONS) {
			if ((ssl = tls_server_ssl_new(r->tls)) == NULL)
				fatalx("tls: %s", tls_errstr());
			c->bev = bufferevent_openssl_socket_new(r->self->base,
			    fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
			    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
			if (c->bev != NULL)
				bufferevent_openssl_set_allow_dirty_shutdown(
				    c->bev, 1);
		} else
			c->bev = bufferevent_socket_new(r->self->base, fd,
			    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (c->bev == NULL)
			fatalx("bufferevent");
		bufferevent_setcb(c->bev, smtp_conn_read, smtp_conn_write,
		    smtp_conn_event, c);
		bufferevent_setwatermark(c->bev, EV_READ, 0,
		    SMTP_INPUT_HIWAT);
		{
			struct timeval	tv = {
				(time_t)r->conf->limits.smtp_timeout, 0 };

			bufferevent_set_timeouts(c->bev, &tv, &tv);
		}
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		log_info("sid=%s event=connect ip=%s listener=%s", c->sid,
		    c->ip, l->kind == SMTP_KIND_MX ? "smtp" :
		    l->kind == SMTP_KIND_SUBMISSION ? "submission" :
		    l->kind == SMTP_KIND_SUBMISSIONS ? "submissions" :
		    "local");
		if (l->kind != SMTP_KIND_SUBMISSIONS)
			smtp_session_start(c->session);
		/* With implicit TLS the greeting waits for the handshake. */
	}
}

/* --- answers from lookup and queue --- */

static void __attribute__((noreturn))
smtp_bad(struct msg *m, enum proc_id from)
{
	fatalx("bad %s from %s", msg_name(m->type), proc_name(from));
}

static void
smtp_dispatch(struct proc_self *self, enum proc_id from, struct msg *m)
{
	struct smtp_role	*r = self->role;
	struct smtp_conn	*c;
	uint64_t		 reqid;
	uint32_t		 u, code;
	char			 enh[16], text[256], id[32];
	int			 fd = -1;

	if (msg_get_u64(m, &reqid) == -1)
		smtp_bad(m, from);
	c = smtp_conn_by_reqid(r, reqid);
	switch (m->type) {
	case MSG_LOOKUP_AUTH_RESULT:
		if (from != PROC_LOOKUP || msg_get_u32(m, &u) == -1 ||
		    msg_end(m) == -1 || u > SMTP_AUTH_TEMPFAIL)
			smtp_bad(m, from);
		if (c == NULL || c->wait != SMTP_WAIT_AUTH)
			break;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_auth_result(c->session, (enum smtp_auth_result)u);
		break;
	case MSG_LOOKUP_RESULT:
		if (from != PROC_LOOKUP || msg_get_u32(m, &code) == -1 ||
		    msg_get_str(m, enh, sizeof(enh)) == -1 ||
		    msg_get_str(m, text, sizeof(text)) == -1 ||
		    msg_end(m) == -1 || code < 200 || code > 599)
			smtp_bad(m, from);
		if (c == NULL)
			break;
		if (c->wait == SMTP_WAIT_MAIL) {
			c->wait = SMTP_WAIT_NONE;
			smtp_session_mail_result(c->session, (int)code, enh,
			    text);
		} else if (c->wait == SMTP_WAIT_RCPT) {
			c->wait = SMTP_WAIT_NONE;
			smtp_session_rcpt_result(c->session, (int)code, enh,
			    text);
		}
		break;
	case MSG_QUEUE_CREATE_RESULT:
		if (from != PROC_QUEUE || msg_get_u32(m, &u) == -1 ||
		    msg_get_str(m, id, sizeof(id)) == -1 || msg_end(m) == -1)
			smtp_bad(m, from);
		fd = msg_take_fd(m);
		if (u != 0 && fd == -1)
			smtp_bad(m, from);
		if (c == NULL || c->wait != SMTP_WAIT_CREATE) {
			/* The client left: give the file back. */
			if (fd != -1) {
				close(fd);
				msg_free(m);
				m = msg_new(MSG_QUEUE_ABORT);
				msg_put_str(m, id);
				(void)proc_send(self, PROC_QUEUE, m);
				return;
			}
			break;
		}
		c->wait = SMTP_WAIT_NONE;
		if (u != 0) {
			c->spool_fd = fd;
			(void)str_copy(c->id, sizeof(c->id), id);
		}
		smtp_session_data_open_result(c->session, u != 0,
		    u != 0 ? id : NULL);
		break;
	case MSG_QUEUE_COMMIT_RESULT:
		if (from != PROC_QUEUE || msg_get_u32(m, &code) == -1 ||
		    msg_get_str(m, enh, sizeof(enh)) == -1 ||
		    msg_get_str(m, text, sizeof(text)) == -1 ||
		    msg_end(m) == -1 || code < 200 || code > 599)
			smtp_bad(m, from);
		if (c == NULL || c->wait != SMTP_WAIT_COMMIT)
			break;
		c->wait = SMTP_WAIT_NONE;
		if (code == 250)
			log_info("sid=%s id=%s event=queued size=%llu",
			    c->sid, c->id, (unsigned long long)c->spool_len);
		c->id[0] = '\0';
		c->spool_len = 0;
		smtp_session_commit_result(c->session, (int)code, enh, text);
		break;
	default:
		smtp_bad(m, from);
	}
	msg_free(m);
	if (c != NULL && r->conns[c->slot] == c) {
		smtp_conn_feed(c);
		if (r->conns[c->slot] == c)
			bufferevent_enable(c->bev, EV_WRITE);
	}
}

/* A sibling died: every question to it gets a temporary failure. */
static void
smtp_peer_down(struct proc_self *self, enum proc_id id)
{
	struct smtp_role	*r = self->role;
	struct smtp_conn	*c;
	size_t			 i;

	for (i = 0; i < r->nslots; i++) {
		if ((c = r->conns[i]) == NULL)
			continue;
		switch (c->wait) {
		case SMTP_WAIT_AUTH:
			if (id != PROC_LOOKUP)
				continue;
			c->wait = SMTP_WAIT_NONE;
			smtp_session_auth_result(c->session,
			    SMTP_AUTH_TEMPFAIL);
			break;
		case SMTP_WAIT_MAIL:
		case SMTP_WAIT_RCPT:
			if (id != PROC_LOOKUP)
				continue;
			if (c->wait == SMTP_WAIT_MAIL)
				smtp_session_mail_result(c->session, 451,
				    "4.3.0", "Temporary lookup failure");
			else
				smtp_session_rcpt_result(c->session, 451,
				    "4.3.0", "Temporary lookup failure");
			c->wait = SMTP_WAIT_NONE;
			break;
		case SMTP_WAIT_CREATE:
			if (id != PROC_QUEUE)
				continue;
			c->wait = SMTP_WAIT_NONE;
			smtp_session_data_open_result(c->session, false, NULL);
			break;
		case SMTP_WAIT_COMMIT:
			if (id != PROC_QUEUE)
				continue;
			/*
			 * The queue died before answering: the message may
			 * or may not be on disk.  451 asks the client to
			 * retry; at worst it is delivered twice, never lost.
			 */
			c->wait = SMTP_WAIT_NONE;
			c->id[0] = '\0';
			smtp_session_commit_result(c->session, 451, "4.3.0",
			    "Queue restarted, please try again");
			break;
		default:
			continue;
		}
		if (r->conns[i] == c)
			smtp_conn_feed(c);
	}
}

static enum smtp_kind
smtp_kind_of(enum conf_listen_kind k)
{
	switch (k) {
	case CONF_LISTEN_SUBMISSION:
		return SMTP_KIND_SUBMISSION;
	case CONF_LISTEN_SUBMISSIONS:
		return SMTP_KIND_SUBMISSIONS;
	default:
		return SMTP_KIND_MX;
	}
}

static void
smtp_add_listener(struct smtp_role *r, int fd, enum smtp_kind kind)
{
	struct smtp_listener	*l;

	r->listeners = xrealloc(r->listeners, (r->nlisteners + 1) *
	    sizeof(*r->listeners));
	l = &r->listeners[r->nlisteners++];
	l->role = r;
	l->fd = fd;
	l->kind = kind;
	l->ev = NULL;
}

void
smtp_main(struct proc_self *self)
{
	static struct smtp_role	 role;
	struct smtp_role	*r = &role;
	char			 cert[CONF_PATH_MAX], key[CONF_PATH_MAX];
	const char		*errstr;
	size_t			 i;

	r->self = self;
	r->conf = self->conf;
	self->role = r;
	self->dispatch = smtp_dispatch;
	self->peer_down = smtp_peer_down;

	/* Load the key before giving up the right to read it. */
	proc_tls_paths(r->conf, cert, key, sizeof(cert));
	if ((r->tls = tls_server_new(cert, key, &errstr)) == NULL)
		fatalx("tls: %s", errstr);

	for (i = 0; i < r->conf->nlistens; i++)
		if (self->listen_fds[i] != -1)
			smtp_add_listener(r, self->listen_fds[i],
			    smtp_kind_of(r->conf->listens[i].kind));
	if (self->submit_fd != -1)
		smtp_add_listener(r, self->submit_fd, SMTP_KIND_LOCAL);

	proc_drop(self);

	for (i = 0; i < r->nlisteners; i++) {
		if (fd_set_nonblock(r->listeners[i].fd) == -1)
			fatal("fcntl");
		r->listeners[i].ev = event_new(self->base, r->listeners[i].fd,
		    EV_READ | EV_PERSIST, smtp_accept, &r->listeners[i]);
		event_add(r->listeners[i].ev, NULL);
	}
	proc_run(self);
}
