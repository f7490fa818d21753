/*
 * imap: the imap role.  Serves the imap (STARTTLS) and imaps (implicit
 * TLS) listeners through conn.c and drives one imap_session per
 * connection, as pop3.c does for POP3.  Logins go to lookup
 * (MSG_LOOKUP_AUTH for LOGIN and AUTHENTICATE PLAIN, MSG_LOOKUP_SCRAM_SALT
 * and _PROOF for SCRAM-SHA-256(-PLUS), sasl_ipc.h), which also names the
 * user's Maildir (MSG_LOOKUP_MAILBOX), the one the mda delivers to; the
 * mailbox commands are imap_mbox.c's, over store/maildir.c and its
 * uidlist, so IMAP, POP3 and delivery agree on UIDs.
 *
 * IDLE (RFC 2177) looks at the selected folder again every
 * IMAP_IDLE_POLL seconds and reports what changed; so do NOOP and CHECK.
 *
 * This role parses the network and reads mailboxes: it runs as the
 * mailboxes' owner chrooted into mail-dir, and holds no password or
 * secret: lookup checks them.  It trusts lookup's answers and nothing
 * the client sends.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf.h"
#include "conn.h"
#include "conn_limit.h"
#include "imap_mbox.h"
#include "imap_session.h"
#include "ipc.h"
#include "keyproxy.h"
#include "log.h"
#include "lookup/lookup_login.h"
#include "mailbox.h"
#include "mime_decode.h"
#include "proc.h"
#include "store/maildir.h"
#include "store/mda.h"
#include "tls.h"
#include "util.h"

#define IMAP_FEED_MAX		(64 * 1024)	/* bytes per input() call */
#define IMAP_IDLE_POLL		1		/* seconds between looks */

enum imap_kind { IMAP_KIND_IMAP, IMAP_KIND_IMAPS };

struct imap_conn {
	struct imap_role	*role;
	struct conn		*conn;
	const char		*sid;
	struct imap_session	*session;
	bool			 greeted;
	bool			 feeding;
	struct lookup_login	 login;
	char			*owner;		/* the address as stored */
	struct imap_mbox	*mbox;		/* once logged in */
	struct event		*ev_idle;
};

struct imap_role {
	struct proc_self	*self;
	struct conf		*conf;
	struct tls_ctx		*tls[CONF_TLS_PROFILES];
	struct conn_server	 srv;
};

static void	imap_feed(struct imap_conn *);

/* --- session ops --- */

static void
imap_op_reply(void *arg, const char *p, size_t len)
{
	struct imap_conn	*c = arg;

	conn_write(c->conn, p, len);
}

static void
imap_op_starttls(void *arg)
{
	struct imap_conn	*c = arg;

	/* RFC 9051 §11.1: conn drops what came before the handshake. */
	conn_starttls(c->conn);
}

static void
imap_op_auth(void *arg, const char *user, const char *pass)
{
	struct imap_conn	*c = arg;

	if (lookup_login_auth(c->role->self, &c->login, c->conn, user,
	    pass) == -1)
		imap_session_auth_result(c->session, IMAP_AUTH_TEMPFAIL);
}

static void
imap_op_scram_salt(void *arg, const char *user)
{
	struct imap_conn	*c = arg;

	if (lookup_login_salt(c->role->self, &c->login, c->conn, user) == -1)
		imap_session_scram_challenge(c->session, IMAP_AUTH_TEMPFAIL,
		    NULL);
}

static void
imap_op_scram_proof(void *arg, const char *user, struct span auth_message,
    const unsigned char *proof)
{
	struct imap_conn	*c = arg;

	if (lookup_login_proof(c->role->self, &c->login, c->conn, user,
	    auth_message, proof) == -1)
		imap_session_scram_result(c->session, IMAP_AUTH_TEMPFAIL,
		    NULL);
}

/* The client took our ServerSignature: on to the mailbox. */
static void
imap_op_scram_done(void *arg)
{
	struct imap_conn	*c = arg;

	if (lookup_login_scram_done(c->role->self, &c->login, c->conn) == -1)
		imap_session_auth_result(c->session, IMAP_AUTH_TEMPFAIL);
}

static ssize_t
imap_op_cbind(void *arg, enum sasl_cb type, unsigned char *out,
    size_t outsz)
{
	struct imap_conn	*c = arg;

	return conn_channel_binding(c->conn, type, out, outsz);
}

static void
imap_op_command(void *arg, const struct imap_cmd *cmd)
{
	struct imap_conn	*c = arg;
	struct msg		*m;
	uint64_t		 bytes = 0;

	if (c->mbox == NULL)
		fatalx("imap: a mailbox command before login");
	imap_mbox_command(c->mbox, c->session, cmd);
	/* Lookup keeps mailbox sizes for quotas at RCPT (as pop3 does). */
	if (c->owner != NULL && imap_mbox_usage_changed(c->mbox, &bytes)) {
		m = msg_new(MSG_LOOKUP_USAGE);
		msg_put_str(m, c->owner);
		msg_put_u64(m, bytes);
		(void)proc_send(c->role->self, PROC_LOOKUP, m);
	}
}

static void
imap_idle_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct imap_conn	*c = arg;

	if (imap_session_idling(c->session) && c->mbox != NULL)
		imap_mbox_poll(c->mbox, c->session);
	if (imap_session_closing(c->session))
		conn_close(c->conn);
}

static void
imap_op_idle(void *arg, bool on)
{
	struct imap_conn	*c = arg;
	struct timeval		 tv = { IMAP_IDLE_POLL, 0 };

	if (!on) {
		if (c->ev_idle != NULL)
			evtimer_del(c->ev_idle);
		return;
	}
	if (c->ev_idle == NULL &&
	    (c->ev_idle = event_new(c->role->self->base, -1, EV_PERSIST,
	    imap_idle_tick, c)) == NULL)
		fatalx("imap: event_new");
	if (event_add(c->ev_idle, &tv) == -1)
		fatalx("imap: event_add");
	/* RFC 2177 §3: changes so far at once, the rest as they come. */
	if (c->mbox != NULL)
		imap_mbox_poll(c->mbox, c->session);
}

static void
imap_op_close(void *arg)
{
	struct imap_conn	*c = arg;

	conn_close(c->conn);
}

static const struct imap_session_ops imap_ops = {
	.reply = imap_op_reply,
	.starttls = imap_op_starttls,
	.auth = imap_op_auth,
	.scram_salt = imap_op_scram_salt,
	.scram_proof = imap_op_scram_proof,
	.scram_done = imap_op_scram_done,
	.cbind = imap_op_cbind,
	.command = imap_op_command,
	.idle = imap_op_idle,
	.close = imap_op_close,
};

/* --- connections --- */

static void
imap_feed(struct imap_conn *c)
{
	const char	*p;
	size_t		 len, n;

	if (c->feeding)
		return;
	c->feeding = true;
	for (;;) {
		/* a FETCH answers a message at a time as the output drains */
		while (c->mbox != NULL && imap_mbox_busy(c->mbox) &&
		    conn_can_feed(c->conn)) {
			conn_set_timeout(c->conn, IMAP_SESSION_IDLE_TIMEOUT);
			imap_mbox_resume(c->mbox, c->session);
		}
		if (!conn_can_feed(c->conn) ||
		    imap_session_waiting(c->session) ||
		    imap_session_closing(c->session))
			break;
		if ((p = conn_peek(c->conn, IMAP_FEED_MAX, &len)) == NULL)
			break;
		n = imap_session_input(c->session, p, len);
		/* After STARTTLS conn dropped the input already. */
		conn_consume(c->conn, n);
		if (n == 0)
			break;
	}
	c->feeding = false;
	if (imap_session_closing(c->session))
		conn_close(c->conn);
}

static void
imap_on_input(struct conn *cn, void *arg)
{
	imap_feed(arg);
}

static void
imap_on_tls(struct conn *cn, void *arg, const char *version,
    const char *cipher)
{
	struct imap_conn	*c = arg;

	imap_session_tls_started(c->session);
	if (!c->greeted) {
		c->greeted = true;
		imap_session_start(c->session);
	}
}

static void
imap_on_timeout(struct conn *cn, void *arg)
{
	struct imap_conn	*c = arg;

	/* RFC 9051 §5.4: autologout */
	imap_session_timeout(c->session);
	conn_close(c->conn);
}

static void
imap_on_gone(struct conn *cn, void *arg)
{
	struct imap_conn	*c = arg;

	if (c->ev_idle != NULL)
		event_free(c->ev_idle);
	imap_session_free(c->session);
	imap_mbox_free(c->mbox);
	log_info("sid=%s event=logout user=%s", c->sid,
	    c->owner != NULL ? c->owner : "-");
	lookup_login_free(&c->login);
	free(c->owner);
	free(c);
}

static const struct conn_ops imap_conn_ops = {
	.input = imap_on_input,
	.tls_up = imap_on_tls,
	.timeout = imap_on_timeout,
	.gone = imap_on_gone,
};

static void
imap_accepted(struct conn *cn, void *arg, int kind)
{
	struct imap_role	*r = arg;
	struct imap_conn	*c;
	struct imap_params	 params;

	c = xcalloc(1, sizeof(*c));
	c->role = r;
	c->conn = cn;
	c->sid = conn_sid(cn);
	memset(&params, 0, sizeof(params));
	params.hostname = r->conf->hostname;
	params.tls_available = conn_tls_available(cn);
	params.plaintext_auth = r->conf->plaintext_auth_loopback &&
	    conn_is_loopback(cn);
	c->session = imap_session_new(&params, &imap_ops, c);
	conn_setup(cn, &imap_conn_ops, c, IMAP_SESSION_LOGIN_TIMEOUT);
	conn_set_nodelay(cn);
	log_info("sid=%s event=session listener=%s", c->sid,
	    kind == IMAP_KIND_IMAPS ? "imaps" : "imap");
	if (kind != IMAP_KIND_IMAPS) {
		c->greeted = true;
		imap_session_start(c->session);
	}
}

/* --- answers from lookup --- */

static struct lookup_login *
imap_login_state(void *arg)
{
	struct imap_conn	*c = arg;

	return &c->login;
}

static bool
imap_login_closing(void *arg)
{
	struct imap_conn	*c = arg;

	return imap_session_closing(c->session);
}

static void
imap_login_auth(void *arg, uint32_t status)
{
	struct imap_conn	*c = arg;

	imap_session_auth_result(c->session, status == 1 ? IMAP_AUTH_FAIL :
	    IMAP_AUTH_TEMPFAIL);
}

static void
imap_login_salt(void *arg, uint32_t status,
    const struct sasl_scram_challenge *ch)
{
	struct imap_conn	*c = arg;

	imap_session_scram_challenge(c->session, status == 0 ? IMAP_AUTH_OK :
	    IMAP_AUTH_TEMPFAIL, ch);
}

static void
imap_login_proof(void *arg, uint32_t status, const unsigned char *sig)
{
	struct imap_conn	*c = arg;

	imap_session_scram_result(c->session, status == 0 ? IMAP_AUTH_OK :
	    status == 1 ? IMAP_AUTH_FAIL : IMAP_AUTH_TEMPFAIL, sig);
}

static void
imap_login_mailbox(void *arg, uint32_t status, const char *owner,
    const char *mailbox, uint32_t format, uint64_t quota)
{
	struct imap_conn	*c = arg;
	const char		*err = NULL;

	if (status != 0) {
		log_warnx("sid=%s imap: no mailbox for a user who just "
		    "logged in", c->sid);
		imap_session_auth_result(c->session, IMAP_AUTH_TEMPFAIL);
		return;
	}
	if (format != MAILBOX_FORMAT_MAILDIR) {
		/* IMAP serves Maildir only; an mbox user is refused. */
		log_info("sid=%s event=login-refused user=%s reason=mbox",
		    c->sid, owner);
		imap_session_auth_result(c->session, IMAP_AUTH_FAIL);
		return;
	}
	if (!mda_mailbox_valid(mailbox, MAILBOX_FORMAT_MAILDIR))
		fatalx("imap: lookup named mailbox %s", mailbox);
	/*
	 * A Maildir never delivered to is made, as the mda makes it, and
	 * the standard folders one lacks (made by another MDA) are added.
	 */
	if (maildir_create(mailbox, &err) == -1) {
		log_warn("sid=%s imap: create %s: %s", c->sid, mailbox, err);
		imap_session_auth_result(c->session, IMAP_AUTH_TEMPFAIL);
		return;
	}
	free(c->owner);
	c->owner = xstrdup(owner);
	imap_mbox_free(c->mbox);
	c->mbox = imap_mbox_new(mailbox, c->sid);
	imap_mbox_set_quota(c->mbox, quota);
	log_info("sid=%s event=login user=%s mailbox=%s", c->sid, owner,
	    mailbox);
	conn_set_timeout(c->conn, IMAP_SESSION_IDLE_TIMEOUT);
	imap_session_auth_result(c->session, IMAP_AUTH_OK);
}

static const struct lookup_login_ops imap_login_ops = {
	.state = imap_login_state,
	.closing = imap_login_closing,
	.auth = imap_login_auth,
	.salt = imap_login_salt,
	.proof = imap_login_proof,
	.mailbox = imap_login_mailbox,
};

static void
imap_dispatch(struct proc_self *self, struct proc_peer peer, struct msg *m)
{
	struct imap_role	*r = self->role;
	struct imap_conn	*c;

	if ((c = lookup_login_dispatch(self, &r->srv, peer, m,
	    &imap_login_ops)) != NULL)
		imap_feed(c);
}

static void
imap_feed_one(struct conn *cn, void *arg, void *ctx)
{
	imap_feed(arg);
}

/* Lookup died: every login waiting on it fails for now. */
static void
imap_peer_down(struct proc_self *self, struct proc_peer p)
{
	struct imap_role	*r = self->role;

	if (p.id != PROC_LOOKUP)
		return;
	lookup_login_peer_down(&r->srv, &imap_login_ops);
	conn_foreach(&r->srv, imap_feed_one, NULL);
}

void
imap_main(struct proc_self *self)
{
	struct imap_role	*r;
	enum conf_listen_kind	 lkind;
	const char		*errstr;
	bool			 imaps;
	size_t			 i;

	r = xcalloc(1, sizeof(*r));
	r->self = self;
	r->conf = self->conf;
	self->role = r;
	self->dispatch = imap_dispatch;
	self->peer_down = imap_peer_down;
	self->peer_up = keyproxy_peer_up;

	/* The certificate now; the private key stays in lookup. */
	keyproxy_server_contexts(self, r->tls);

	if ((r->srv.limit = conn_limit_open(self->conn_table_fd, self->worker,
	    self->nworkers, &errstr)) == NULL)
		fatalx("imap: %s", errstr);

	/* iconv's modules cannot be loaded in the chroot: SEARCH decodes */
	log_debug("imap: %zu charsets preloaded", mime_charset_preload());
	proc_drop(self);

	r->srv.base = self->base;
	r->srv.name = "imap";
	r->srv.spread = true;	/* sessions last long */
	r->srv.max_conns = r->conf->limits.connections;
	r->srv.max_per_ip = r->conf->limits.connections_per_ip;
	/* RFC 9051 §7.1.5: BYE at connection, and why. */
	r->srv.refuse_total = "* BYE [UNAVAILABLE] Too many connections, "
	    "try again later\r\n";
	r->srv.refuse_per_ip = "* BYE [UNAVAILABLE] Too many connections "
	    "from your address, try again later\r\n";
	r->srv.accepted = imap_accepted;
	r->srv.arg = r;
	for (i = 0; i < r->conf->nlistens; i++) {
		if (self->listen_fds[i] == -1)
			continue;
		lkind = r->conf->listens[i].kind;
		imaps = lkind == CONF_LISTEN_IMAPS;
		conn_listen(&r->srv, self->listen_fds[i],
		    imaps ? IMAP_KIND_IMAPS : IMAP_KIND_IMAP,
		    r->tls[conf_listen_tls_profile(lkind)], imaps, false);
	}
	proc_run(self);
}
