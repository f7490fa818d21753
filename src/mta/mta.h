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
 * ("" for <>), u64 msglen, u32 body (MTA_BODY_*), u32 MSG_ENV_* flags, u32
 * ret (MTA_RET_*), str envid ("" none), str domain, u32 n (1 ..
 * MTA_RCPTS_MAX), then n times: str addr, u32 notify (RFC 3461 NOTIFY bits as the spool keeps them,
 * bits), str orcpt ("" none), str prepend (header fields sent before the
 * message's bytes, msgauth.h; "" none); + a read-only descriptor of the
 * message.
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
#include "dns.h"
#include "lookup/lookup_mx.h"
#include "mtasts.h"
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

/* What lookup found for one MX host's DANE (lookup_mx.h). */
struct mta_dane {
	char			 host[DNS_NAME_MAX + 1];
	bool			 dnssec;	/* MX and addresses secure */
	enum lookup_mx_dane	 state;
	char			 reason[LOOKUP_MX_REASON_MAX];	/* FAILED */
	struct dns_tlsa		*rrs;		/* when RECORDS */
	size_t			 nrrs;
};

/*
 * The one TLS decision, per destination and MX host: must TLS be used,
 * how is the peer checked, or must this host not be used at all?
 *
 *   a relay directive      its `tls may|required|verify` (DANE not asked)
 *   DANE (RFC 7672)        usable TLSA records (DANE-TA 2, DANE-EE 3 with
 *                          a selector and matching type OpenSSL knows,
 *                          RFC 7672 §3.1): TLS required, checked against
 *                          them (source "dane"); TLSA records none of
 *                          which is usable: opportunistic (source
 *                          "dane-unusable"); a failed or bogus TLSA
 *                          lookup: skip the host (§2.2, never clear text)
 *   MTA-STS (RFC 8461)     for a host DANE does not cover (no usable
 *                          TLSA records), when the domain has a policy:
 *                          enforce: a host matching an mx pattern gets
 *                          TLS required with a certificate valid for its
 *                          name (source "mta-sts"); any other host is
 *                          skipped, with a reason naming the policy;
 *                          testing: opportunistic, a mismatch only noted
 *                          (source "mta-sts-testing", why says it)
 *   otherwise              opportunistic STARTTLS (RFC 7435)
 *
 * DANE wins for a host where both apply (RFC 8461 §2).
 */
#define MTA_POLICY_WHY_MAX	1024
#define MTA_POLICY_LABEL_MAX	(MTA_DOMAIN_MAX + 40)

struct mta_tls_policy {
	enum smtp_client_tls	 tls;		/* MAY or MUST */
	bool			 verify;	/* PKIX chain and name */
	bool			 dane;		/* match the host's TLSA */
	bool			 skip;		/* do not use this host */
	const char		*source;	/* "opportunistic", "relay", ... */
	/* skip: the reason; testing: a mismatch noted; "" else */
	const char		*why;
	/* "MTA-STS policy for D (enforce)" when a policy decided, else "" */
	char			 label[MTA_POLICY_LABEL_MAX];
	char			 whybuf[MTA_POLICY_WHY_MAX];
};

/*
 * The policy for domain's host whose DANE answer is dane (NULL when no
 * MX host is concerned: the destination's base policy), under the
 * domain's MTA-STS policy sts (NULL: none; mode none counts as none).
 * host is the MX host's name (NULL: take dane's, or no MTA-STS match).
 */
void	mta_tls_policy(const struct conf *, const char *domain,
	    const char *host, const struct mta_dane *dane,
	    const struct mtasts_policy *sts, struct mta_tls_policy *out);

/*
 * RFC 8689 §5: a message with "TLS-Required: No" is sent whatever the
 * domain's DANE or MTA-STS policy says: STARTTLS when offered, no
 * certificate check, no host skipped.  A relay's own TLS setting (the
 * operator's, not the domain's) stays.
 */
void	mta_tls_policy_optional(struct mta_tls_policy *);

/* Deep copies of n DANE answers into *out (NULL when n is 0); free. */
void	mta_dane_copy(const struct mta_dane *, size_t n,
	    struct mta_dane **out, size_t *nout);
void	mta_dane_free(struct mta_dane *, size_t n);

/* RFC 7672 §3.1: a TLSA record the mta can use. */
bool	mta_tlsa_usable(const struct dns_tlsa *);

/* The result a reply code stands for: 2xx, 4xx (or anything odd), 5xx. */
enum mta_result	mta_result_of(int code);

#endif
