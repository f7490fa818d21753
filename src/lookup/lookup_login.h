/*
 * lookup_login: the client side of a login through lookup, shared by the
 * roles that serve mail clients (pop3, imap): the requests
 * (MSG_LOOKUP_AUTH, _SCRAM_SALT, _SCRAM_PROOF through sasl_ipc.h, then
 * MSG_LOOKUP_MAILBOX for the user's mailbox), which answer a connection
 * waits for, reading the answers and handing them back to the role, and
 * failing every waiting login when lookup goes away.  The role keeps its
 * protocol's replies; this keeps the bookkeeping.  Runs in the network
 * roles; it trusts lookup's framing only as far as it checks it (a
 * malformed answer is fatalx, as for any sibling).
 */
#ifndef CACHET_LOOKUP_LOGIN_H
#define CACHET_LOOKUP_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "ipc.h"
#include "proc.h"
#include "sasl.h"

struct conn;
struct conn_server;

enum lookup_login_wait {
	LOOKUP_LOGIN_NONE,
	LOOKUP_LOGIN_AUTH,		/* AUTH (or APOP) result */
	LOOKUP_LOGIN_SCRAM_SALT,
	LOOKUP_LOGIN_SCRAM_PROOF,
	LOOKUP_LOGIN_MAILBOX,		/* the user's mailbox */
};

/* One connection's login; in the role's connection, zeroed at first. */
struct lookup_login {
	enum lookup_login_wait	 wait;
	char			*user;		/* the name logging in */
	bool			 scram_ok;	/* lookup took the proof */
};

/*
 * The role's side; arg is its connection (conn_arg()).  status: 0 ok, 1
 * refused, 2 try later.  auth is called for a refused or failed login
 * only: a good one goes on to the mailbox by itself.  Each is called
 * with the wait already cleared.
 */
struct lookup_login_ops {
	struct lookup_login	*(*state)(void *arg);
	bool	(*closing)(void *arg);	/* the session is going away */
	void	(*auth)(void *arg, uint32_t status);
	void	(*salt)(void *arg, uint32_t status,
		    const struct sasl_scram_challenge *);
	void	(*proof)(void *arg, uint32_t status, const unsigned char *sig);
	/* quota: the user's, in bytes (UINT64_MAX: none) */
	void	(*mailbox)(void *arg, uint32_t status, const char *owner,
		    const char *mailbox, uint32_t format, uint64_t quota);
};

/*
 * Send m (its request id is the connection's) and wait for its answer.
 * -1 when it could not be sent: nothing is waited for, the caller
 * answers its client "try later".
 */
int	lookup_login_ask(struct proc_self *, struct lookup_login *,
	    struct msg *m, enum lookup_login_wait);
/* MSG_LOOKUP_AUTH for user and pass from the client at conn. */
int	lookup_login_auth(struct proc_self *, struct lookup_login *,
	    struct conn *, const char *user, const char *pass);
int	lookup_login_salt(struct proc_self *, struct lookup_login *,
	    struct conn *, const char *user);
int	lookup_login_proof(struct proc_self *, struct lookup_login *,
	    struct conn *, const char *user, struct span auth_message,
	    const unsigned char *proof);
/*
 * The client took our ServerSignature (after a proof lookup took): ask
 * for the mailbox.  -1 when it could not be sent.
 */
int	lookup_login_scram_done(struct proc_self *, struct lookup_login *,
	    struct conn *);
/* Forget the login (the connection is gone). */
void	lookup_login_free(struct lookup_login *);

/*
 * An answer from lookup: read it, find its connection in srv and hand
 * it to ops.  The connection, or NULL when it is gone or was not
 * waiting for this (the answer is dropped).  m is freed.
 */
void	*lookup_login_dispatch(struct proc_self *, struct conn_server *srv,
	    struct proc_peer peer, struct msg *m,
	    const struct lookup_login_ops *);
/* Lookup went away: every login waiting on it gets "try later". */
void	lookup_login_peer_down(struct conn_server *srv,
	    const struct lookup_login_ops *);

#endif
