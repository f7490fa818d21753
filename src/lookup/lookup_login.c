/*
 * lookup_login: a client's login through lookup, the part pop3 and imap
 * share (contract in lookup_login.h).  Runs in those roles.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "lookup_login.h"
#include "mailbox.h"
#include "resolve.h"
#include "sasl_ipc.h"
#include "util.h"

int
lookup_login_ask(struct proc_self *self, struct lookup_login *l,
    struct msg *m, enum lookup_login_wait wait)
{
	l->wait = wait;
	if (proc_send(self, PROC_LOOKUP, m) == -1) {
		l->wait = LOOKUP_LOGIN_NONE;
		return -1;
	}
	return 0;
}

static void
login_user(struct lookup_login *l, const char *user)
{
	free(l->user);
	l->user = xstrdup(user);
}

int
lookup_login_auth(struct proc_self *self, struct lookup_login *l,
    struct conn *cn, const char *user, const char *pass)
{
	struct msg	*m;

	login_user(l, user);
	m = msg_new(MSG_LOOKUP_AUTH);
	msg_put_u64(m, conn_reqid(cn));
	msg_put_str(m, conn_ip(cn));
	msg_put_str(m, user);
	msg_put_str(m, pass);
	/* ipc_send copies the password into the frame and frees m. */
	return lookup_login_ask(self, l, m, LOOKUP_LOGIN_AUTH);
}

int
lookup_login_salt(struct proc_self *self, struct lookup_login *l,
    struct conn *cn, const char *user)
{
	l->scram_ok = false;
	return lookup_login_ask(self, l, sasl_ipc_salt_request(conn_reqid(cn),
	    user), LOOKUP_LOGIN_SCRAM_SALT);
}

int
lookup_login_proof(struct proc_self *self, struct lookup_login *l,
    struct conn *cn, const char *user, struct span auth_message,
    const unsigned char *proof)
{
	login_user(l, user);
	return lookup_login_ask(self, l, sasl_ipc_proof_request(
	    conn_reqid(cn), conn_ip(cn), user, auth_message, proof),
	    LOOKUP_LOGIN_SCRAM_PROOF);
}

static int
login_mailbox(struct proc_self *self, struct lookup_login *l,
    struct conn *cn)
{
	struct msg	*m;

	m = msg_new(MSG_LOOKUP_MAILBOX);
	msg_put_u64(m, conn_reqid(cn));
	msg_put_str(m, l->user);
	return lookup_login_ask(self, l, m, LOOKUP_LOGIN_MAILBOX);
}

int
lookup_login_scram_done(struct proc_self *self, struct lookup_login *l,
    struct conn *cn)
{
	if (!l->scram_ok)
		fatalx("lookup_login: SCRAM done without a proof lookup took");
	l->scram_ok = false;
	return login_mailbox(self, l, cn);
}

void
lookup_login_free(struct lookup_login *l)
{
	free(l->user);
	l->user = NULL;
	l->wait = LOOKUP_LOGIN_NONE;
}

static void __attribute__((noreturn))
login_bad(struct msg *m, enum proc_id from)
{
	fatalx("lookup_login: bad %s from %s", msg_name(m->type),
	    proc_name(from));
}

static void
login_failed(struct conn *cn, uint32_t u)
{
	log_info("sid=%s event=login-failed ip=%s reason=%s", conn_sid(cn),
	    conn_ip(cn), u == 1 ? "credentials" : "tempfail");
}

void *
lookup_login_dispatch(struct proc_self *self, struct conn_server *srv,
    struct proc_peer peer, struct msg *m, const struct lookup_login_ops *ops)
{
	enum proc_id			 from = peer.id;
	struct sasl_scram_challenge	 ch;
	struct lookup_login		*l = NULL;
	struct conn			*cn;
	unsigned char			 sig[SASL_SCRAM_HASH_LEN];
	char				 owner[MAILBOX_ADDR_MAX + 1];
	char				 mailbox[RESOLVE_MAILBOX_MAX + 1];
	uint64_t			 reqid, quota;
	uint32_t			 u, format;
	void				*c;

	if (from != PROC_LOOKUP || msg_get_u64(m, &reqid) == -1)
		login_bad(m, from);
	cn = conn_by_reqid(srv, reqid);
	c = cn != NULL ? conn_arg(cn) : NULL;
	if (c != NULL)
		l = ops->state(c);
	switch (m->type) {
	case MSG_LOOKUP_AUTH_RESULT:
	case MSG_LOOKUP_APOP_RESULT:
		if (msg_get_u32(m, &u) == -1 || msg_end(m) == -1 || u > 2)
			login_bad(m, from);
		if (l == NULL || l->wait != LOOKUP_LOGIN_AUTH)
			break;
		l->wait = LOOKUP_LOGIN_NONE;
		if (ops->closing(c))
			break;		/* timed out meanwhile */
		if (u != 0) {
			login_failed(cn, u);
			ops->auth(c, u);
		} else if (login_mailbox(self, l, cn) == -1)
			ops->auth(c, 2);
		break;
	case MSG_LOOKUP_SCRAM_SALT_RESULT:
		if (sasl_ipc_salt_answer(m, &u, &ch) == -1)
			login_bad(m, from);
		if (l == NULL || l->wait != LOOKUP_LOGIN_SCRAM_SALT)
			break;
		l->wait = LOOKUP_LOGIN_NONE;
		ops->salt(c, u, u == 0 ? &ch : NULL);
		break;
	case MSG_LOOKUP_SCRAM_PROOF_RESULT:
		if (sasl_ipc_proof_answer(m, &u, sig) == -1)
			login_bad(m, from);
		if (l == NULL || l->wait != LOOKUP_LOGIN_SCRAM_PROOF)
			break;
		l->wait = LOOKUP_LOGIN_NONE;
		if (u != 0)
			login_failed(cn, u);
		l->scram_ok = u == 0;
		ops->proof(c, u, u == 0 ? sig : NULL);
		break;
	case MSG_LOOKUP_MAILBOX_RESULT:
		if (msg_get_u32(m, &u) == -1 ||
		    msg_get_str(m, owner, sizeof(owner)) == -1 ||
		    msg_get_str(m, mailbox, sizeof(mailbox)) == -1 ||
		    msg_get_u32(m, &format) == -1 ||
		    msg_get_u64(m, &quota) == -1 || msg_end(m) == -1 ||
		    u > 2 || (u == 0 && (owner[0] == '\0' ||
		    mailbox[0] == '\0')))
			login_bad(m, from);
		if (l == NULL || l->wait != LOOKUP_LOGIN_MAILBOX)
			break;
		l->wait = LOOKUP_LOGIN_NONE;
		if (ops->closing(c))
			break;
		ops->mailbox(c, u, owner, mailbox, format, quota);
		break;
	default:
		login_bad(m, from);
	}
	msg_free(m);
	return c;
}

static void
login_down_one(struct conn *cn, void *arg, void *ctx)
{
	const struct lookup_login_ops	*ops = ctx;
	struct lookup_login		*l = ops->state(arg);
	enum lookup_login_wait		 w = l->wait;

	l->wait = LOOKUP_LOGIN_NONE;
	switch (w) {
	case LOOKUP_LOGIN_NONE:
		break;
	case LOOKUP_LOGIN_SCRAM_SALT:
		ops->salt(arg, 2, NULL);
		break;
	case LOOKUP_LOGIN_SCRAM_PROOF:
		ops->proof(arg, 2, NULL);
		break;
	default:
		ops->auth(arg, 2);
		break;
	}
}

void
lookup_login_peer_down(struct conn_server *srv,
    const struct lookup_login_ops *ops)
{
	conn_foreach(srv, login_down_one, (void *)(uintptr_t)ops);
}
