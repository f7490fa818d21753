/*
 * mta: the mta role, delivery to other mail servers.  The queue hands it
 * one message for one destination domain at a time (MSG_MTA_DELIVER);
 * it asks lookup for the route (MSG_LOOKUP_MX), keeps connections per
 * destination (mta_conn.c) within its limits, reuses an idle one for the
 * next message, and answers with one result per recipient
 * (MSG_MTA_RESULT).  It runs unprivileged, chrooted in an empty
 * directory, and holds no secret but a relay's password while it uses it.
 *
 * MSG_MTA_DELIVER (queue -> mta): u64 reqid, str queue id, str sender
 * ("" for <>), u64 msglen, u32 body (MTA_BODY_*), u32 smtputf8, u32
 * ret (MTA_RET_*), str envid ("" none), str domain, u32 n (1 ..
 * MTA_RCPTS_MAX), then n times: str addr, u32 notify (RFC 3461 NOTIFY bits as the spool keeps them,
 * bits), str orcpt ("" none); + a read-only descriptor of the message.
 *
 * MSG_MTA_RESULT (mta -> queue): u64 reqid, u32 n (as asked), then per
 * recipient in the order asked: u32 result (enum mta_result), u32 flags
 * (MTA_F_*), str enhanced code, str text (the server's reply, lines
 * joined by "\n", or our own words, at most MTA_TEXT_MAX octets), str
 * remote ("host[ip]" when text is that server's reply, else "").
 */
#ifndef CACHET_MTA_H
#define CACHET_MTA_H

#include <stdbool.h>

#include "conf.h"
#include "smtp_client.h"

#define MTA_RCPTS_MAX	100	/* per message: RFC 5321 §4.5.3.1.8 */
#define MTA_TEXT_MAX	1000	/* a reply kept: QUEUE_FS_STR_MAX */
/* A destination domain: a DNS name, or an address literal "[...]". */
#define MTA_DOMAIN_MAX	(253 + 8)

/*
 * MSG_MTA_DELIVER's body and ret fields: the spool's values (the queue
 * checks that its enums agree at compile time).
 */
#define MTA_BODY_7BIT		0
#define MTA_BODY_8BITMIME	1	/* RFC 6152 */
#define MTA_BODY_BINARYMIME	2	/* RFC 3030 */
#define MTA_RET_UNSET		0
#define MTA_RET_FULL		1	/* RFC 3461 §4.3 */
#define MTA_RET_HDRS		2

enum mta_result {
	MTA_DELIVERED,		/* 2xx */
	MTA_TEMPFAIL,		/* 4xx, or no server reached */
	MTA_PERMFAIL,		/* 5xx, or no route can ever work */
};

/*
 * The server took the message without announcing DSN (RFC 3461 §5.2.2):
 * a NOTIFY=SUCCESS recipient is owed a "relayed" DSN by us.
 */
#define MTA_F_RELAYED	0x1

/*
 * The one TLS decision for a destination: must TLS be used, and must the
 * certificate verify?  Today: a relay directive's `tls required` or
 * `tls verify`, else opportunistic (RFC 7435).  MTA-STS (RFC 8461) and
 * DANE (RFC 7672) will tighten it here, and nowhere else.
 */
struct mta_tls_policy {
	enum smtp_client_tls	 tls;		/* MAY or MUST */
	bool			 verify;	/* chain and name must verify */
	const char		*source;	/* "opportunistic", "relay" */
};

void	mta_tls_policy(const struct conf *, const char *domain,
	    struct mta_tls_policy *out);

/* The result a reply code stands for: 2xx, 4xx (or anything odd), 5xx. */
enum mta_result	mta_result_of(int code);

#endif
