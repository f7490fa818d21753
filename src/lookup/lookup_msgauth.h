/*
 * lookup_msgauth: the orchestrator of msgauth.h in the lookup role.  It
 * takes MSG_LOOKUP_MESSAGE (smtp) and MSG_LOOKUP_SIGN (queue), runs the
 * steps over one struct msgauth and answers.
 */
#ifndef CACHET_LOOKUP_MSGAUTH_H
#define CACHET_LOOKUP_MSGAUTH_H

#include "buf.h"
#include "ipc.h"
#include "proc.h"

struct conf;
struct lookup_msgauth;

/* The steps' modules (msgauth.h), made by lookup_main(). */
struct msgauth_modules {
	struct lookup_dkim	*dkim;
	struct lookup_arc	*arc;
	struct lookup_dmarc	*dmarc;
	struct lookup_dmarcrep	*dmarcrep;
	struct lookup_dkimsign	*dkimsign;
	struct lookup_spam	*spam;
};

struct lookup_msgauth	*lookup_msgauth_new(struct proc_self *,
			    const struct conf *,
			    const struct msgauth_modules *);
/* MSG_LOOKUP_MESSAGE from an smtp worker; answered later. */
void			 lookup_msgauth_request(struct lookup_msgauth *,
			    struct proc_peer from, struct msg *);
/* MSG_LOOKUP_SIGN from the queue; answered later. */
void			 lookup_msgauth_sign(struct lookup_msgauth *,
			    struct proc_peer from, struct msg *);
void			 lookup_msgauth_peer_change(struct lookup_msgauth *,
			    struct proc_peer);

/*
 * Append the Authentication-Results field (RFC 8601) of m's results to
 * out, authserv-id first, one resinfo per line, folded under 78 columns,
 * ending in CRLF.  0, or -1 (out unchanged) when out has no room.
 */
struct msgauth;
int			 lookup_msgauth_authres(const struct msgauth *m,
			    const char *authserv_id, struct buf *out);

#endif
