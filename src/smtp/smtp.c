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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "conn.h"
#include "conn_limit.h"
#include "dkim.h"
#include "ipc.h"
#include "keyproxy.h"
#include "log.h"
#include "mime.h"
#include "lookup/lookup_greylist.h"
#include "lookup/lookup_prescreen.h"
#include "lookup/msgauth.h"
#include "proc.h"
#include "sasl_ipc.h"
#include "smtp_msgauth.h"
#include "smtp_session.h"
#include "spam.h"
#include "spamrules.h"
#include "spf.h"
#include "tls.h"
#include "util.h"

#define SMTP_SPOOL_BUF		(64 * 1024)	/* DATA bytes per write() */
#define SMTP_FEED_MAX		(64 * 1024)	/* bytes per input() call */
/* A prescreen question's subject: a HELO name or domain (§4.5.3.1.2). */
#define SMTP_PRE_KEY_MAX	255
/* Points for commands sent before a reply RFC 2920 says to wait for. */
#define SMTP_PIPELINING_POINTS	(3 * SPAM_MILLI)

/* NOLINTNEXTLINE(misc-redundant-expression): the same bound, by name */
_Static_assert(MSGAUTH_PREPEND_MAX == MSG_PREPEND_MAX, "prepend bound");

enum smtp_wait {
	SMTP_WAIT_NONE,
	SMTP_WAIT_AUTH,		/* lookup */
	SMTP_WAIT_SCRAM_SALT,	/* lookup */
	SMTP_WAIT_SCRAM_PROOF,	/* lookup */
	SMTP_WAIT_MAIL,		/* lookup */
	SMTP_WAIT_RCPT,		/* lookup */
	SMTP_WAIT_PRESCREEN,	/* lookup, before answering a RCPT */
	SMTP_WAIT_GREY_SPF,	/* lookup: SPF, before asking greylist */
	SMTP_WAIT_GREYLIST,	/* lookup */
	SMTP_WAIT_CREATE,	/* queue */
	SMTP_WAIT_SPF,		/* lookup, at the end of DATA */
	SMTP_WAIT_MSGAUTH,	/* lookup */
	SMTP_WAIT_COMMIT,	/* queue */
};

/* The SPF check of a transaction, asked at MAIL FROM (msgauth.h). */
struct smtp_spf {
	uint64_t		 reqid;		/* of the one in flight */
	bool			 inflight;	/* an answer is owed */
	bool			 stale;		/* ... for an old transaction */
	bool			 again;		/* then ask for the current */
	bool			 have;		/* the current one's is in */
	char			 from[MAILADDR_PATH_MAX + 1];
	enum spf_result		 result;
	char			 identity[16];
	char			 domain[DNS_NAME_TEXT_MAX + 1];
	char			 reason[MSGAUTH_REASON_MAX];
};

/*
 * One prescreen question (lookup_prescreen.h) and its answer: the
 * client's at connect, the HELO name's, the transaction's sender's.
 * They run while the dialogue goes on; RCPT waits for those still out.
 */
struct smtp_pre {
	/* what is asked about: the address, HELO name, domain; "" none */
	char			 key[SMTP_PRE_KEY_MAX + 1];
	uint64_t		 reqid;		/* of the one in flight */
	bool			 inflight;
	bool			 stale;		/* ... about an older key */
	bool			 have;		/* the answer below is in */
	uint32_t		 code;		/* 0: go on; else refuse */
	char			 enh[16];
	char			 text[256];
	uint32_t		 flags;		/* PRESCREEN_F_* */
	struct spam_score	*score;		/* NULL: no points */
};

struct smtp_conn {
	struct smtp_role	*role;
	struct conn		*conn;
	struct smtp_session	*session;
	enum smtp_kind		 kind;
	enum smtp_wait		 wait;
	bool			 greeted;
	struct event		*greet_ev;	/* smtp-greet-delay runs */
	bool			 feeding;
	bool			 data_timeouts;	/* data-timeout in force */
	char			 localuser[32];
	int			 spool_fd;
	char			 id[32];
	struct buf		 spool;		/* DATA not yet written */
	uint64_t		 spool_len;
	bool			 spool_failed;
	int			 spool_errno;
	/* sender authentication (msgauth.h) */
	struct smtp_spf		 spf;
	const struct smtp_envelope *authenv;	/* while waiting */
	struct smtp_msgauth_info authinfo;
	struct buf		 prepend;	/* header fields for the top */
	uint32_t		 authflags;	/* MSGAUTH_F_* */
	/* spam (lib/spam.h): points before DATA, content features */
	struct smtp_pre		 pre[PRESCREEN_WHAT_COUNT];
	const struct smtp_envelope *rcpt_env;	/* while RCPT is checked */
	const struct smtp_rcpt	*rcpt;
	uint32_t		 rcpt_code;	/* lookup's answer to it */
	char			 rcpt_enh[16];
	char			 rcpt_text[256];
	struct spam_score	 spam_pre;
	struct spam_features	 spam_feat;
	struct buf		 scan;	/* the message's first SPAM_SCAN_MAX */
	bool			 scanning;	/* this message is judged */
};

struct smtp_role {
	struct proc_self	*self;
	struct conf		*conf;
	struct tls_ctx		*tls[CONF_TLS_PROFILES];
	struct conn_server	 srv;
	uint64_t		 spf_seq;	/* SPF reqids */
	uint64_t		 pre_seq;	/* prescreen reqids */
	struct spam_rules	*rules;		/* content rules (spamrules.h) */
	struct spam_score	 pre_points;	/* a prescreen answer's, read */
	char			 err[512];
};

static void	smtp_feed(struct smtp_conn *);
static void	smtp_spf_ask(struct smtp_conn *);
static void	smtp_pre_ask(struct smtp_conn *, enum prescreen_what,
		    const char *key);
static void	smtp_rcpt_gate(struct smtp_conn *);

/* --- session ops --- */

static void
smtp_op_reply(void *arg, const char *p, size_t len)
{
	struct smtp_conn	*c = arg;

	conn_write(c->conn, p, len);
}

static void
smtp_op_starttls(void *arg)
{
	struct smtp_conn	*c = arg;

	conn_starttls(c->conn);
}

static void
smtp_op_auth(void *arg, const char *user, const char *pass)
{
	struct smtp_conn	*c = arg;
	struct msg		*m;

	m = msg_new(MSG_LOOKUP_AUTH);
	msg_put_u64(m, conn_reqid(c->conn));
	msg_put_str(m, conn_ip(c->conn));
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
smtp_op_scram_salt(void *arg, const char *user)
{
	struct smtp_conn	*c = arg;

	c->wait = SMTP_WAIT_SCRAM_SALT;
	if (proc_send(c->role->self, PROC_LOOKUP,
	    sasl_ipc_salt_request(conn_reqid(c->conn), user)) == -1) {
		c->wait = SMTP_WAIT_NONE;
		smtp_session_scram_challenge(c->session, SMTP_AUTH_TEMPFAIL,
		    NULL);
	}
}

static void
smtp_op_scram_proof(void *arg, const char *user, struct span auth_message,
    const unsigned char *proof)
{
	struct smtp_conn	*c = arg;

	c->wait = SMTP_WAIT_SCRAM_PROOF;
	if (proc_send(c->role->self, PROC_LOOKUP,
	    sasl_ipc_proof_request(conn_reqid(c->conn), conn_ip(c->conn),
	    user, auth_message, proof)) == -1) {
		c->wait = SMTP_WAIT_NONE;
		smtp_session_scram_result(c->session, SMTP_AUTH_TEMPFAIL,
		    NULL);
	}
}

static ssize_t
smtp_op_cbind(void *arg, enum sasl_cb type, unsigned char *out,
    size_t outsz)
{
	struct smtp_conn	*c = arg;

	return conn_channel_binding(c->conn, type, out, outsz);
}

/*
 * The spam checks before DATA are for port 25 clients that did not log
 * in; submission, local and authenticated sessions skip them.
 */
static bool
smtp_screened(struct smtp_conn *c)
{
	return c->kind == SMTP_KIND_MX &&
	    smtp_session_auth_user(c->session) == NULL;
}

static void
smtp_op_helo(void *arg, const char *name)
{
	struct smtp_conn	*c = arg;

	if (smtp_screened(c))
		smtp_pre_ask(c, PRESCREEN_HELO, name);
}

static void
smtp_op_mail(void *arg, const struct smtp_envelope *env)
{
	struct smtp_conn	*c = arg;
	struct msg		*m;
	const char		*user;
	char			 from[MAILADDR_LOCAL_MAX + MAILADDR_DOMAIN_MAX + 2];

	/*
	 * SPF for a client on port 25 that did not log in: asked now,
	 * answered while RCPT and DATA go on, needed at the end of DATA.
	 */
	if (smtp_screened(c)) {
		c->spf.have = false;
		if (env->from.is_null ||
		    mailaddr_format(&env->from, c->spf.from,
		    sizeof(c->spf.from)) == -1)
			c->spf.from[0] = '\0';
		if (c->spf.inflight)
			c->spf.stale = c->spf.again = true;
		else
			smtp_spf_ask(c);
		/*
		 * The sender's domain, checked for this transaction; the
		 * null path and an address literal name none.
		 */
		smtp_pre_ask(c, PRESCREEN_SENDER, env->from.is_null ||
		    env->from.is_literal ? "" : env->from.domain);
	}
	/*
	 * On port 25 any sender may be used (SPF comes later).  On
	 * submission the authenticated user may only use addresses that
	 * are theirs: lookup decides.
	 */
	if (c->kind == SMTP_KIND_MX || c->kind == SMTP_KIND_LOCAL ||
	    !c->role->conf->submission_sender_check ||
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
	msg_put_u64(m, conn_reqid(c->conn));
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
	msg_put_u64(m, conn_reqid(c->conn));
	msg_put_u32(m, flags);
	msg_put_str(m, to);
	c->rcpt_env = env;
	c->rcpt = rcpt;
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

	/*
	 * The spam verdict judges mail from strangers only: port 25 without
	 * AUTH, while `spam` is on (lookup_spam.h).
	 */
	c->scanning = smtp_screened(c) && c->role->conf->spam;
	m = msg_new(MSG_QUEUE_CREATE);
	msg_put_u64(m, conn_reqid(c->conn));
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
		log_warn("sid=%s id=%s spool write", conn_sid(c->conn), c->id);
	}
	buf_reset(&c->spool);
}

static void
smtp_op_data_write(void *arg, const char *p, size_t len)
{
	struct smtp_conn	*c = arg;

	if (c->spool_fd == -1 || c->spool_failed)
		return;
	/* what the content checks read: the first SPAM_SCAN_MAX bytes */
	if (c->scanning && c->scan.len < SPAM_SCAN_MAX)
		(void)buf_append(&c->scan, p, len < SPAM_SCAN_MAX -
		    c->scan.len ? len : SPAM_SCAN_MAX - c->scan.len);
	c->spool_len += len;
	if (c->spool.len + len > SMTP_SPOOL_BUF)
		smtp_spool_flush(c);
	if (len >= SMTP_SPOOL_BUF) {
		if (!c->spool_failed &&
		    write_full(c->spool_fd, p, len) == -1) {
			c->spool_failed = true;
			c->spool_errno = errno;
			log_warn("sid=%s id=%s spool write", conn_sid(c->conn), c->id);
		}
		return;
	}
	if (buf_append(&c->spool, p, len) == -1)
		fatalx("spool buffer");
}

/*
 * RFC 8689 §5: a "TLS-Required: No" field asks that the recipient
 * domain's TLS policy (MTA-STS, DANE) be ignored for this message.  A
 * REQUIRETLS transaction ignores the field (§4.1), which the caller
 * sees to.
 */
static bool
smtp_tls_required_no(struct span hdrs)
{
	struct span	field, name;
	struct buf	value;
	size_t		pos = 0;
	const char	*colon;
	bool		no = false;

	/* "No", unfolded and trimmed; anything longer is not it */
	buf_init(&value, 16);
	while (!no && dkim_header_next(hdrs, &pos, &field, &name) == 1) {
		if (!span_caseeq(name, "TLS-Required"))
			continue;
		colon = memchr(field.ptr, ':', field.len);
		buf_reset(&value);
		no = mime_unfold(span_make(colon + 1, field.len -
		    (size_t)(colon + 1 - field.ptr)), &value) == 0 &&
		    span_caseeq(span_make(value.data, value.len), "No");
	}
	buf_free(&value);
	return no;
}

static void
smtp_spool_close(struct smtp_conn *c)
{
	if (c->spool_fd != -1)
		close(c->spool_fd);
	c->spool_fd = -1;
	buf_reset(&c->spool);
	/* up to SPAM_SCAN_MAX: not kept while the session idles */
	buf_free(&c->scan);
	c->scanning = false;
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
	msg_put_u64(m, conn_reqid(c->conn));
	msg_put_str(m, c->id);
	msg_put_u64(m, c->spool_len);
	(void)mailaddr_format(&env->from, a, sizeof(a));
	msg_put_str(m, a);
	msg_put_u32(m, env->body);
	msg_put_u32(m, (env->smtputf8 ? MSG_ENV_SMTPUTF8 : 0) |
	    (env->requiretls ? MSG_ENV_REQUIRETLS : 0) |
	    (!env->requiretls && smtp_tls_required_no(c->authinfo.hdrs) ?
	    MSG_ENV_TLS_OPTIONAL : 0));
	msg_put_u32(m, env->ret);
	msg_put_str(m, env->envid);
	msg_put_str(m, env->auth);
	msg_put_str(m, conn_ip(c->conn));
	user = smtp_session_auth_user(c->session);
	msg_put_str(m, user);
	msg_put_u32(m, (uint32_t)env->nrcpts);
	for (i = 0; i < env->nrcpts; i++) {
		(void)mailaddr_format(&env->rcpts[i].addr, a, sizeof(a));
		msg_put_str(m, a);
		msg_put_u32(m, env->rcpts[i].notify);
		msg_put_str(m, env->rcpts[i].orcpt);
	}
	msg_put_data(m, c->prepend.data, c->prepend.len);
	msg_put_u32(m, c->authflags);
	c->wait = SMTP_WAIT_COMMIT;
	if (proc_send(c->role->self, PROC_QUEUE, m) == -1) {
		c->wait = SMTP_WAIT_NONE;
		c->id[0] = '\0';
		smtp_session_commit_result(c->session, 451, "4.3.0",
		    "Queue unavailable");
	}
}

struct smtp_spf_find {
	uint64_t		 reqid;
	struct smtp_conn	*c;
};

static void
smtp_spf_find_one(struct conn *cn, void *arg, void *ctx)
{
	struct smtp_conn	*c = arg;
	struct smtp_spf_find	*f = ctx;

	if (c->spf.inflight && c->spf.reqid == f->reqid)
		f->c = c;
}

/* The connection whose SPF question reqid is, or NULL: it left. */
static struct smtp_conn *
smtp_spf_conn(struct smtp_role *r, uint64_t reqid)
{
	struct smtp_spf_find	f = { reqid, NULL };

	conn_foreach(&r->srv, smtp_spf_find_one, &f);
	return f.c;
}

/* MSG_LOOKUP_SPF for the current transaction (msgauth.h). */
static void
smtp_spf_ask(struct smtp_conn *c)
{
	struct msg	*m;

	/*
	 * Its own reqid: conn_reqid() is for the one question a session
	 * waits on, and RCPT and DATA ask theirs while this one runs.
	 */
	c->spf.reqid = ++c->role->spf_seq;
	m = msg_new(MSG_LOOKUP_SPF);
	msg_put_u64(m, c->spf.reqid);
	msg_put_str(m, conn_ip(c->conn));
	msg_put_str(m, smtp_session_helo(c->session));
	msg_put_str(m, c->spf.from);
	c->spf.inflight = proc_send(c->role->self, PROC_LOOKUP, m) == 0;

	c->spf.stale = c->spf.again = false;
}

/* --- the spam checks before DATA (issue 15, lib/spam.h) --- */

/* MSG_LOOKUP_PRESCREEN about p->key (lookup_prescreen.h). */
static void
smtp_pre_send(struct smtp_conn *c, enum prescreen_what what)
{
	struct smtp_pre	*p = &c->pre[what];
	struct msg	*m;

	/* its own reqid, as SPF's: RCPT asks its question meanwhile */
	p->reqid = ++c->role->pre_seq;
	m = msg_new(MSG_LOOKUP_PRESCREEN);
	msg_put_u64(m, p->reqid);
	msg_put_u32(m, what);
	msg_put_str(m, conn_ip(c->conn));
	msg_put_str(m, what == PRESCREEN_HELO ? p->key : "");
	msg_put_str(m, what == PRESCREEN_SENDER ? p->key : "");
	p->inflight = proc_send(c->role->self, PROC_LOOKUP, m) == 0;
	p->stale = false;
}

/*
 * The prescreen question of this kind is now about key ("": none),
 * replacing the one before; its answer is forgotten.  Not waited for:
 * the answer comes while the client talks, and RCPT waits for it only
 * if it is still out.  One question of a kind is in flight at a time
 * (a client repeating EHLO or MAIL cannot make lookup work faster than
 * it answers): a new key waits for the old answer, which is dropped;
 * the same key again asks nothing.
 */
static void
smtp_pre_ask(struct smtp_conn *c, enum prescreen_what what, const char *key)
{
	struct smtp_pre	*p = &c->pre[what];

	if (strcmp(p->key, key) == 0 && (p->have ||
	    (p->inflight && !p->stale)))
		return;
	free(p->score);
	p->score = NULL;
	p->have = false;
	p->code = p->flags = 0;
	p->enh[0] = p->text[0] = '\0';
	if (str_copy(p->key, sizeof(p->key), key) == -1)
		p->key[0] = '\0';	/* longer than a name: not asked */
	if (p->inflight)
		p->stale = true;
	else if (p->key[0] != '\0')
		smtp_pre_send(c, what);
}

/* The answer to the question p holds now, its points in pts. */
static void
smtp_pre_answer(struct smtp_pre *p, uint32_t code, const char *enh,
    const char *text, uint32_t flags, const struct spam_score *pts)
{
	p->have = true;
	p->code = code;
	(void)str_copy(p->enh, sizeof(p->enh), enh);
	(void)str_copy(p->text, sizeof(p->text), text);
	p->flags = flags;
	if (pts->nhits > 0 || pts->total != 0) {
		p->score = xmalloc(sizeof(*p->score));
		*p->score = *pts;
	}
}

struct smtp_pre_find {
	uint64_t		 reqid;
	struct smtp_conn	*c;
	struct smtp_pre		*p;
};

static void
smtp_pre_find_one(struct conn *cn, void *arg, void *ctx)
{
	struct smtp_conn	*c = arg;
	struct smtp_pre_find	*f = ctx;
	size_t			 i;

	for (i = 0; i < PRESCREEN_WHAT_COUNT; i++)
		if (c->pre[i].inflight && c->pre[i].reqid == f->reqid) {
			f->c = c;
			f->p = &c->pre[i];
		}
}

/* The prescreen question reqid names, or NULL: it was replaced or left. */
static struct smtp_pre *
smtp_pre_find(struct smtp_role *r, uint64_t reqid, struct smtp_conn **c_out)
{
	struct smtp_pre_find	f = { reqid, NULL, NULL };

	conn_foreach(&r->srv, smtp_pre_find_one, &f);
	*c_out = f.c;
	return f.p;
}

/*
 * The points of the checks before DATA, into c->spam_pre for
 * MSG_LOOKUP_MESSAGE: the client's and HELO's (of the session), the
 * sender's (of the transaction), and pipelining abuse.
 */
static void
smtp_pre_score(struct smtp_conn *c)
{
	const char	*after;
	char		 desc[SPAM_DESC_MAX];
	size_t		 i;

	memset(&c->spam_pre, 0, sizeof(c->spam_pre));
	if (!smtp_screened(c))
		return;
	for (i = 0; i < PRESCREEN_WHAT_COUNT; i++)
		if (c->pre[i].have && c->pre[i].score != NULL)
			spam_score_merge(&c->spam_pre, c->pre[i].score);
	if ((after = smtp_session_pipelining_abuse(c->session)) != NULL) {
		(void)snprintf(desc, sizeof(desc),
		    "commands sent before the reply to %s", after);
		spam_score_add(&c->spam_pre, "PIPELINING_ABUSE",
		    SMTP_PIPELINING_POINTS, desc);
	}
}

/* A RCPT refused or deferred before DATA, in the log. */
static void
smtp_rcpt_log(struct smtp_conn *c, const char *result, const char *reason)
{
	char	to[MAILADDR_PATH_MAX + 1];

	if (mailaddr_format(&c->rcpt->addr, to, sizeof(to)) == -1)
		to[0] = '\0';
	log_info("sid=%s event=rcpt to=<%s> result=%s reason=%s",
	    conn_sid(c->conn), to, result, reason);
}

/* MSG_LOOKUP_GREYLIST for the RCPT being checked; -1 if not sent. */
static int
smtp_greylist_ask(struct smtp_conn *c)
{
	struct msg	*m;
	char		 a[MAILADDR_PATH_MAX + 1];
	uint32_t	 flags = 0;

	if (c->spf.have && c->spf.result == SPF_PASS)
		flags |= GREYLIST_F_SPF_PASS;
	m = msg_new(MSG_LOOKUP_GREYLIST);
	msg_put_u64(m, conn_reqid(c->conn));
	msg_put_str(m, conn_ip(c->conn));
	if (c->rcpt_env->from.is_null ||
	    mailaddr_format(&c->rcpt_env->from, a, sizeof(a)) == -1)
		a[0] = '\0';
	msg_put_str(m, a);
	if (mailaddr_format(&c->rcpt->addr, a, sizeof(a)) == -1)
		a[0] = '\0';
	msg_put_str(m, a);
	msg_put_u32(m, flags);
	if (proc_send(c->role->self, PROC_LOOKUP, m) == -1)
		return -1;
	c->wait = SMTP_WAIT_GREYLIST;
	return 0;
}

/*
 * A RCPT lookup accepted, for a screened session: the decisions that can
 * be made at RCPT are made here (issue 15).  Wait for the prescreen
 * answers still out (lookup bounds them with its time budget); refuse
 * with the first refusal among them (a listed client: every RCPT of the
 * session; a bad sender: those of the transaction); then greylisting,
 * once SPF is in.  Only then the RCPT gets lookup's 250.
 */
static void
smtp_rcpt_gate(struct smtp_conn *c)
{
	static const char *const	 why[PRESCREEN_WHAT_COUNT] = {
		"prescreen-client", "prescreen-helo", "prescreen-sender",
	};
	const struct smtp_pre		*p;
	size_t				 i;

	for (i = 0; i < PRESCREEN_WHAT_COUNT; i++)
		if (c->pre[i].inflight) {
			c->wait = SMTP_WAIT_PRESCREEN;
			return;
		}
	for (i = 0; i < PRESCREEN_WHAT_COUNT; i++) {
		p = &c->pre[i];
		if (p->have && p->code != 0) {
			smtp_rcpt_log(c, p->code >= 500 ? "reject" :
			    "tempfail", why[i]);
			smtp_session_rcpt_result(c->session, (int)p->code,
			    p->enh, p->text);
			return;
		}
	}
	/* not for clients a DNS whitelist vouches for */
	if (c->role->conf->greylist &&
	    (c->pre[PRESCREEN_CLIENT].flags & PRESCREEN_F_DNSWL) == 0) {
		if (c->spf.inflight) {
			c->wait = SMTP_WAIT_GREY_SPF;
			return;
		}
		if (smtp_greylist_ask(c) == 0)
			return;
	}
	smtp_session_rcpt_result(c->session, (int)c->rcpt_code, c->rcpt_enh,
	    c->rcpt_text);
}

/* MSG_LOOKUP_MESSAGE, with the SPF result when there is one. */
static void
smtp_msgauth_ask(struct smtp_conn *c)
{
	const struct smtp_envelope	*env = c->authenv;
	const struct smtp_msgauth_info	*in = &c->authinfo;
	const struct msgauth_bh		*bh;
	const char			*user;
	struct msg			*m;
	char				 a[MAILADDR_PATH_MAX + 1];
	enum msgauth_kind		 kind;
	size_t				 i, n;

	user = smtp_session_auth_user(c->session);
	kind = c->kind == SMTP_KIND_LOCAL ? MSGAUTH_LOCAL :
	    user != NULL ? MSGAUTH_SUBMISSION : MSGAUTH_MX;
	/* RFC 7372 §3.2: 5.7.23, SPF validation failed */
	if (kind == MSGAUTH_MX && c->spf.result == SPF_FAIL &&
	    c->role->conf->spf_fail_reject) {
		log_info("sid=%s id=%s event=msgauth spf=fail domain=%s "
		    "verdict=reject", conn_sid(c->conn), c->id,
		    c->spf.domain);
		smtp_session_msgauth_result(c->session, 550, "5.7.23",
		    "SPF validation failed");
		return;
	}
	m = msg_new(MSG_LOOKUP_MESSAGE);
	msg_put_u64(m, conn_reqid(c->conn));
	msg_put_u32(m, kind);
	msg_put_str(m, conn_ip(c->conn));
	msg_put_str(m, smtp_session_helo(c->session));
	if (env->from.is_null ||
	    mailaddr_format(&env->from, a, sizeof(a)) == -1)
		a[0] = '\0';
	msg_put_str(m, a);
	msg_put_str(m, user);
	msg_put_str(m, c->id);
	if (kind == MSGAUTH_MX) {
		msg_put_u32(m, c->spf.result);
		msg_put_str(m, c->spf.identity);
		msg_put_str(m, c->spf.domain);
		msg_put_str(m, c->spf.reason);
	} else {
		msg_put_u32(m, SPF_NONE);
		msg_put_str(m, "");
		msg_put_str(m, "");
		msg_put_str(m, "");
	}
	n = env->nrcpts < MSGAUTH_RCPTS_MAX ? env->nrcpts : MSGAUTH_RCPTS_MAX;
	msg_put_u32(m, (uint32_t)n);
	/* cppcheck-suppress knownConditionTrueFalse ; n is the rcpt count */
	for (i = 0; i < n; i++) {
		if (mailaddr_format(&env->rcpts[i].addr, a, sizeof(a)) == -1)
			a[0] = '\0';
		msg_put_str(m, a);
	}
	msg_put_data(m, in->hdrs.ptr, in->hdrs.len);
	msg_put_u32(m, in->truncated ? 1 : 0);
	msg_put_u64(m, in->bodylen);
	msg_put_u32(m, (uint32_t)in->nbh);
	for (i = 0; i < in->nbh; i++) {
		bh = &in->bh[i];
		msg_put_u32(m, bh->canon);
		msg_put_u32(m, bh->hash);
		msg_put_u64(m, bh->limit);
		msg_put_u64(m, bh->hashed);
		msg_put_data(m, bh->digest, bh->digestlen);
	}
	spam_score_put(m, &c->spam_pre);
	spam_features_put(m, &c->spam_feat);
	/* the features are in the request: their storage can go */
	spam_features_free(&c->spam_feat);
	buf_free(&c->scan);
	c->wait = SMTP_WAIT_MSGAUTH;
	if (proc_send(c->role->self, PROC_LOOKUP, m) == -1) {
		c->wait = SMTP_WAIT_NONE;
		smtp_session_msgauth_result(c->session, 451, "4.3.0",
		    "Temporary lookup failure");
	}
}

static void
smtp_op_msgauth(void *arg, const struct smtp_envelope *env,
    const struct smtp_msgauth_info *info)
{
	struct smtp_conn	*c = arg;

	buf_reset(&c->prepend);
	c->authflags = 0;
	c->authenv = env;
	c->authinfo = *info;
	smtp_pre_score(c);
	/*
	 * The content features, computed here where the bytes are (lookup
	 * only judges them): one parse of at most SPAM_SCAN_MAX, the rules
	 * and the tokenizer, all linear in it.
	 */
	if (c->scanning)
		spam_features_extract(&c->spam_feat, c->role->rules,
		    c->scan.data != NULL ? c->scan.data : "", c->scan.len);
	else
		spam_features_reset(&c->spam_feat);

	if (smtp_screened(c) && !c->spf.have) {
		/* lookup restarted since MAIL FROM: ask again */
		if (!c->spf.inflight)
			smtp_spf_ask(c);
		if (c->spf.inflight) {
			c->wait = SMTP_WAIT_SPF;
			return;
		}
		c->spf.result = SPF_TEMPERROR;
		(void)str_copy(c->spf.reason, sizeof(c->spf.reason),
		    "lookup unavailable");
	}
	smtp_msgauth_ask(c);
}

static void
smtp_op_close(void *arg)
{
	struct smtp_conn	*c = arg;

	conn_close(c->conn);
}

static const struct smtp_session_ops smtp_ops = {
	.reply = smtp_op_reply,
	.starttls = smtp_op_starttls,
	.auth = smtp_op_auth,
	.scram_salt = smtp_op_scram_salt,
	.scram_proof = smtp_op_scram_proof,
	.cbind = smtp_op_cbind,
	.helo = smtp_op_helo,
	.mail = smtp_op_mail,
	.rcpt = smtp_op_rcpt,
	.data_open = smtp_op_data_open,
	.data_write = smtp_op_data_write,
	.msgauth = smtp_op_msgauth,
	.data_commit = smtp_op_data_commit,
	.data_abort = smtp_op_data_abort,
	.close = smtp_op_close,
};

/* --- connections --- */

/* Commands get smtp-timeout, message content data-timeout (§4.5.3.2). */
static void
smtp_timeouts(struct smtp_conn *c)
{
	bool	data = smtp_session_in_data(c->session);

	if (data == c->data_timeouts)
		return;
	c->data_timeouts = data;
	conn_set_timeout(c->conn, data ? c->role->conf->limits.data_timeout :
	    c->role->conf->limits.smtp_timeout);
}

/*
 * Hand buffered input to the session until it waits for an answer, asks
 * to close, holds only part of a line, or replies back up (conn.h).
 */
static void
smtp_feed(struct smtp_conn *c)
{
	const char	*p;
	size_t		 len, n;

	if (c->feeding)
		return;
	c->feeding = true;
	while (conn_can_feed(c->conn) && !smtp_session_waiting(c->session) &&
	    !smtp_session_closing(c->session)) {
		if ((p = conn_peek(c->conn, SMTP_FEED_MAX, &len)) == NULL)
			break;
		n = smtp_session_input(c->session, p, len);
		/* After STARTTLS conn dropped the input already. */
		conn_consume(c->conn, n);
		if (n == 0)
			break;	/* a partial line: wait for more */
	}
	c->feeding = false;
	smtp_timeouts(c);
	if (c->greet_ev != NULL && smtp_session_pregreeted(c->session)) {
		log_info("sid=%s event=pregreet result=reject",
		    conn_sid(c->conn));
		event_free(c->greet_ev);
		c->greet_ev = NULL;
	}
	if (smtp_session_closing(c->session))
		conn_close(c->conn);
}

/* The greeting delay is over: the greeting's last line. */
static void
smtp_greet_done(evutil_socket_t fd, short ev, void *arg)
{
	struct smtp_conn	*c = arg;

	event_free(c->greet_ev);
	c->greet_ev = NULL;
	smtp_session_start(c->session);
	smtp_feed(c);
}

static void
smtp_on_input(struct conn *cn, void *arg)
{
	smtp_feed(arg);
}

static void
smtp_on_tls(struct conn *cn, void *arg, const char *version,
    const char *cipher)
{
	struct smtp_conn	*c = arg;

	smtp_session_tls_started(c->session, version, cipher);
	/* With implicit TLS the greeting waited for the handshake. */
	if (c->kind == SMTP_KIND_SUBMISSIONS && !c->greeted) {
		c->greeted = true;
		smtp_session_start(c->session);
	}
}

static void
smtp_on_timeout(struct conn *cn, void *arg)
{
	struct smtp_conn	*c = arg;

	/* While waiting on a sibling there is no reply to give: just go. */
	if (c->wait == SMTP_WAIT_NONE)
		smtp_session_timeout(c->session);
}

static void
smtp_on_gone(struct conn *cn, void *arg)
{
	struct smtp_conn	*c = arg;
	size_t			 i;

	if (c->id[0] != '\0' && c->wait != SMTP_WAIT_COMMIT)
		smtp_op_data_abort(c);
	smtp_spool_close(c);
	buf_free(&c->spool);
	buf_free(&c->prepend);
	buf_free(&c->scan);
	spam_features_free(&c->spam_feat);
	for (i = 0; i < PRESCREEN_WHAT_COUNT; i++)
		free(c->pre[i].score);
	if (c->greet_ev != NULL)
		event_free(c->greet_ev);
	smtp_session_free(c->session);
	free(c);
}

static const struct conn_ops smtp_conn_ops = {
	.input = smtp_on_input,
	.tls_up = smtp_on_tls,
	.timeout = smtp_on_timeout,
	.gone = smtp_on_gone,
};

static void
smtp_accepted(struct conn *cn, void *arg, int kind)
{
	struct smtp_role	*r = arg;
	struct smtp_conn	*c;
	struct smtp_params	 params;
	struct timeval		 tv;

	c = xcalloc(1, sizeof(*c));
	c->role = r;
	c->conn = cn;
	c->kind = (enum smtp_kind)kind;
	c->spool_fd = -1;
	buf_init(&c->spool, SMTP_SPOOL_BUF);
	buf_init(&c->prepend, MSGAUTH_PREPEND_MAX);
	spam_features_init(&c->spam_feat);
	buf_init(&c->scan, SPAM_SCAN_MAX);

	memset(&params, 0, sizeof(params));
	params.hostname = r->conf->hostname;
	params.kind = c->kind;
	params.client_ip = conn_ip(cn);
	params.client_name = NULL;
	params.tls_available = conn_tls_available(cn);
	params.plaintext_auth = r->conf->plaintext_auth_loopback &&
	    conn_is_loopback(cn) && c->kind != SMTP_KIND_LOCAL;
	if (c->kind == SMTP_KIND_LOCAL) {
		(void)snprintf(c->localuser, sizeof(c->localuser), "uid=%u",
		    (unsigned)conn_peer_uid(cn));
		params.local_user = c->localuser;
		/* The Received: line names the submitting uid. */
		params.client_name = c->localuser;
	}
	params.max_size = r->conf->limits.message_size;
	params.max_rcpts = r->conf->limits.recipients;
	params.max_errors = r->conf->limits.errors;
	params.now = (int64_t)time(NULL);
	c->session = smtp_session_new(&params, &smtp_ops, c);
	conn_setup(cn, &smtp_conn_ops, c, r->conf->limits.smtp_timeout);
	log_info("sid=%s event=session listener=%s", conn_sid(cn),
	    c->kind == SMTP_KIND_MX ? "smtp" :
	    c->kind == SMTP_KIND_SUBMISSION ? "submission" :
	    c->kind == SMTP_KIND_SUBMISSIONS ? "submissions" : "local");
	/* the client's address, checked while the dialogue begins */
	if (c->kind == SMTP_KIND_MX)
		smtp_pre_ask(c, PRESCREEN_CLIENT, conn_ip(cn));
	/*
	 * smtp-greet-delay: "220-" now, the last line after the pause
	 * (a timer, the worker goes on); whoever talks meanwhile is an
	 * early talker.
	 */
	if (c->kind == SMTP_KIND_MX && r->conf->smtp_greet_delay > 0) {
		tv.tv_sec = r->conf->smtp_greet_delay / 1000;
		tv.tv_usec = (r->conf->smtp_greet_delay % 1000) * 1000;
		c->greet_ev = evtimer_new(r->srv.base, smtp_greet_done, c);
		if (c->greet_ev == NULL || evtimer_add(c->greet_ev, &tv) == -1)
			fatalx("smtp: greeting timer");
		c->greeted = true;
		smtp_session_start_paused(c->session);
		return;
	}
	if (c->kind != SMTP_KIND_SUBMISSIONS) {
		c->greeted = true;
		smtp_session_start(c->session);
	}
}

/* --- answers from lookup and queue --- */

static void __attribute__((noreturn))
smtp_bad(struct msg *m, enum proc_id from)
{
	fatalx("bad %s from %s", msg_name(m->type), proc_name(from));
}

static void
smtp_dispatch(struct proc_self *self, struct proc_peer peer, struct msg *m)
{
	enum proc_id			 from = peer.id;
	struct smtp_role		*r = self->role;
	struct smtp_conn		*c;
	struct conn			*cn;
	struct sasl_scram_challenge	 ch;
	struct smtp_spf			 spf;
	struct smtp_pre			*pre;
	struct span			 sp;
	unsigned char			 sig[SASL_SCRAM_HASH_LEN];
	uint64_t			 reqid;
	uint32_t			 u, code;
	char			 enh[16], text[256], id[32];
	int			 fd = -1;

	/* A new certificate from lookup, for the next handshakes. */
	if (m->type == MSG_KEYPROXY_CHAIN && peer.id == PROC_LOOKUP) {
		keyproxy_chain_update(self, m);
		msg_free(m);
		return;
	}
	if (msg_get_u64(m, &reqid) == -1)
		smtp_bad(m, from);
	cn = conn_by_reqid(&r->srv, reqid);
	c = cn != NULL ? conn_arg(cn) : NULL;
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
	case MSG_LOOKUP_SCRAM_SALT_RESULT:
		if (from != PROC_LOOKUP ||
		    sasl_ipc_salt_answer(m, &u, &ch) == -1)
			smtp_bad(m, from);
		if (c == NULL || c->wait != SMTP_WAIT_SCRAM_SALT)
			break;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_scram_challenge(c->session,
		    (enum smtp_auth_result)u, u == 0 ? &ch : NULL);
		break;
	case MSG_LOOKUP_SCRAM_PROOF_RESULT:
		if (from != PROC_LOOKUP ||
		    sasl_ipc_proof_answer(m, &u, sig) == -1)
			smtp_bad(m, from);
		if (c == NULL || c->wait != SMTP_WAIT_SCRAM_PROOF)
			break;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_scram_result(c->session,
		    (enum smtp_auth_result)u, u == 0 ? sig : NULL);
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
			if (code != 250 || !smtp_screened(c)) {
				smtp_session_rcpt_result(c->session,
				    (int)code, enh, text);
				break;
			}
			c->rcpt_code = code;
			memcpy(c->rcpt_enh, enh, sizeof(c->rcpt_enh));
			memcpy(c->rcpt_text, text, sizeof(c->rcpt_text));
			smtp_rcpt_gate(c);
		}
		break;
	case MSG_LOOKUP_PRESCREEN_RESULT:
		if (from != PROC_LOOKUP || msg_get_u32(m, &code) == -1 ||
		    msg_get_str(m, enh, sizeof(enh)) == -1 ||
		    msg_get_str(m, text, sizeof(text)) == -1 ||
		    msg_get_u32(m, &u) == -1 ||
		    spam_score_get(m, &r->pre_points) == -1 ||
		    msg_end(m) == -1 ||
		    (code != 0 && (code < 400 || code > 599)))
			smtp_bad(m, from);
		if ((pre = smtp_pre_find(r, reqid, &c)) == NULL)
			break;
		pre->inflight = false;
		if (pre->stale) {
			/* about an older key: ask about the current one */
			if (pre->key[0] != '\0')
				smtp_pre_send(c, (enum prescreen_what)
				    (pre - c->pre));
		} else
			smtp_pre_answer(pre, code, enh, text, u,
			    &r->pre_points);
		if (c->wait == SMTP_WAIT_PRESCREEN) {
			c->wait = SMTP_WAIT_NONE;
			smtp_rcpt_gate(c);
		}
		break;
	case MSG_LOOKUP_GREYLIST_RESULT:
		if (from != PROC_LOOKUP || msg_get_u32(m, &code) == -1 ||
		    msg_get_str(m, enh, sizeof(enh)) == -1 ||
		    msg_get_str(m, text, sizeof(text)) == -1 ||
		    msg_end(m) == -1 ||
		    (code != 0 && (code < 400 || code > 599)))
			smtp_bad(m, from);
		if (c == NULL || c->wait != SMTP_WAIT_GREYLIST)
			break;
		c->wait = SMTP_WAIT_NONE;
		if (code != 0) {
			smtp_rcpt_log(c, code >= 500 ? "reject" : "tempfail",
			    "greylist");
			smtp_session_rcpt_result(c->session, (int)code, enh,
			    text[0] != '\0' ? text : "Greylisted, please try "
			    "again later");
		} else
			smtp_session_rcpt_result(c->session,
			    (int)c->rcpt_code, c->rcpt_enh, c->rcpt_text);
		break;
	case MSG_LOOKUP_SPF_RESULT:
		if (from != PROC_LOOKUP || msg_get_u32(m, &u) == -1 ||
		    u >= SPF_RESULT_COUNT ||
		    msg_get_str(m, spf.identity, sizeof(spf.identity)) == -1 ||
		    msg_get_str(m, spf.domain, sizeof(spf.domain)) == -1 ||
		    msg_get_str(m, spf.reason, sizeof(spf.reason)) == -1 ||
		    msg_end(m) == -1)
			smtp_bad(m, from);
		if ((c = smtp_spf_conn(r, reqid)) == NULL)
			break;
		c->spf.inflight = false;
		if (c->spf.stale) {
			/* a transaction since gone: ask for the current */
			if (c->spf.again)
				smtp_spf_ask(c);
		} else {
			c->spf.have = true;
			c->spf.result = (enum spf_result)u;
			memcpy(c->spf.identity, spf.identity,
			    sizeof(spf.identity));
			memcpy(c->spf.domain, spf.domain, sizeof(spf.domain));
			memcpy(c->spf.reason, spf.reason, sizeof(spf.reason));
		}
		if (c->wait == SMTP_WAIT_SPF && c->spf.have) {
			c->wait = SMTP_WAIT_NONE;
			smtp_msgauth_ask(c);
		} else if (c->wait == SMTP_WAIT_GREY_SPF && !c->spf.inflight) {
			c->wait = SMTP_WAIT_NONE;
			smtp_rcpt_gate(c);
		}
		break;
	case MSG_LOOKUP_MESSAGE_RESULT:
		if (from != PROC_LOOKUP || msg_get_u32(m, &code) == -1 ||
		    msg_get_str(m, enh, sizeof(enh)) == -1 ||
		    msg_get_str(m, text, sizeof(text)) == -1 ||
		    msg_get_u32(m, &u) == -1 || (u & ~MSGAUTH_F_JUNK) != 0 ||
		    msg_get_span(m, &sp) == -1 ||
		    sp.len > MSGAUTH_PREPEND_MAX ||
		    memchr(sp.ptr, '\0', sp.len) != NULL ||
		    msg_end(m) == -1 ||
		    (code != 0 && (code < 400 || code > 599)))
			smtp_bad(m, from);
		if (c == NULL || c->wait != SMTP_WAIT_MSGAUTH)
			break;
		c->wait = SMTP_WAIT_NONE;
		if (code == 0) {
			if (buf_append(&c->prepend, sp.ptr, sp.len) == -1)
				fatalx("smtp: prepend");
			c->authflags = u;
			code = 250;
		}
		smtp_session_msgauth_result(c->session, (int)code, enh, text);
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
			    conn_sid(c->conn), c->id, (unsigned long long)c->spool_len);
		c->id[0] = '\0';
		c->spool_len = 0;
		smtp_session_commit_result(c->session, (int)code, enh, text);
		break;
	default:
		smtp_bad(m, from);
	}
	msg_free(m);
	if (c != NULL)
		smtp_feed(c);
}

/* A sibling died: every question to it gets a temporary failure. */
static void
smtp_peer_down_one(struct conn *cn, void *arg, void *ctx)
{
	struct smtp_conn	*c = arg;
	enum proc_id		 id = *(enum proc_id *)ctx;

	size_t			 i;

	/* An SPF answer owed by lookup will not come: ask again later. */
	if (id == PROC_LOOKUP)
		c->spf.inflight = c->spf.stale = c->spf.again = false;
	/* Nor will prescreen answers: the checks are skipped. */
	for (i = 0; id == PROC_LOOKUP && i < PRESCREEN_WHAT_COUNT; i++)
		c->pre[i].inflight = c->pre[i].stale = false;
	switch (c->wait) {
	case SMTP_WAIT_AUTH:
		if (id != PROC_LOOKUP)
			return;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_auth_result(c->session, SMTP_AUTH_TEMPFAIL);
		break;
	case SMTP_WAIT_SCRAM_SALT:
		if (id != PROC_LOOKUP)
			return;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_scram_challenge(c->session, SMTP_AUTH_TEMPFAIL,
		    NULL);
		break;
	case SMTP_WAIT_SCRAM_PROOF:
		if (id != PROC_LOOKUP)
			return;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_scram_result(c->session, SMTP_AUTH_TEMPFAIL,
		    NULL);
		break;
	case SMTP_WAIT_MAIL:
		if (id != PROC_LOOKUP)
			return;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_mail_result(c->session, 451, "4.3.0",
		    "Temporary lookup failure");
		break;
	case SMTP_WAIT_RCPT:
	case SMTP_WAIT_PRESCREEN:
	case SMTP_WAIT_GREY_SPF:
	case SMTP_WAIT_GREYLIST:
		if (id != PROC_LOOKUP)
			return;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_rcpt_result(c->session, 451, "4.3.0",
		    "Temporary lookup failure");
		break;
	case SMTP_WAIT_SPF:
	case SMTP_WAIT_MSGAUTH:
		if (id != PROC_LOOKUP)
			return;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_msgauth_result(c->session, 451, "4.3.0",
		    "Temporary lookup failure");
		break;
	case SMTP_WAIT_CREATE:
		if (id != PROC_QUEUE)
			return;
		c->wait = SMTP_WAIT_NONE;
		smtp_session_data_open_result(c->session, false, NULL);
		break;
	case SMTP_WAIT_COMMIT:
		if (id != PROC_QUEUE)
			return;
		/*
		 * The queue died before answering: the message may or may
		 * not be on disk.  451 asks the client to retry; at worst it
		 * is delivered twice, never lost.
		 */
		c->wait = SMTP_WAIT_NONE;
		c->id[0] = '\0';
		smtp_session_commit_result(c->session, 451, "4.3.0",
		    "Queue restarted, please try again");
		break;
	default:
		return;
	}
	smtp_feed(c);
}

static void
smtp_peer_down(struct proc_self *self, struct proc_peer p)
{
	struct smtp_role	*r = self->role;

	conn_foreach(&r->srv, smtp_peer_down_one, &p.id);
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

void
smtp_main(struct proc_self *self)
{
	static struct smtp_role	 role;
	struct smtp_role	*r = &role;
	enum conf_listen_kind	 lkind;
	enum smtp_kind		 kind;
	const char		*errstr;
	size_t			 i;

	r->self = self;
	r->conf = self->conf;
	self->role = r;
	self->dispatch = smtp_dispatch;
	self->peer_down = smtp_peer_down;
	self->peer_up = keyproxy_peer_up;

	/*
	 * The certificate is read before giving up the right to read it;
	 * the private key stays in lookup, which signs for us (keyproxy.h).
	 */
	keyproxy_server_contexts(self, r->tls);

	if ((r->srv.limit = conn_limit_open(self->conn_table_fd, self->worker,
	    self->nworkers, &errstr)) == NULL)
		fatalx("smtp: %s", errstr);

	if ((r->rules = spam_rules_load(r->conf->spam_rules, r->err,
	    sizeof(r->err))) == NULL)
		fatalx("smtp: %s", r->err);

	proc_drop(self);

	r->srv.base = self->base;
	r->srv.name = "smtp";
	/* short sessions: whichever worker is free takes the next one */
	r->srv.spread = false;
	r->srv.max_conns = r->conf->limits.connections;
	r->srv.max_per_ip = r->conf->limits.connections_per_ip;
	r->srv.refuse_total =
	    "421 4.7.0 Too many connections, try again later\r\n";
	r->srv.refuse_per_ip =
	    "421 4.7.0 Too many connections from your address, "
	    "try again later\r\n";
	r->srv.accepted = smtp_accepted;
	r->srv.arg = r;
	for (i = 0; i < r->conf->nlistens; i++) {
		if (self->listen_fds[i] == -1)
			continue;
		lkind = r->conf->listens[i].kind;
		kind = smtp_kind_of(lkind);
		conn_listen(&r->srv, self->listen_fds[i], (int)kind,
		    r->tls[conf_listen_tls_profile(lkind)],
		    kind == SMTP_KIND_SUBMISSIONS, false);
	}
	if (self->submit_fd != -1)
		conn_listen(&r->srv, self->submit_fd, SMTP_KIND_LOCAL,
		    r->tls[CONF_TLS_CLIENTS], false, true);
	proc_run(self);
}
