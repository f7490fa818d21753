/*
 * mta_tlsrpt: what the mta tells lookup about each outbound TLS session
 * attempt, for SMTP TLS Reporting (RFC 8460 §4): the policy domain, the
 * policy that applied (its type and text, §4.3), and the result: success
 * or one of the RFC's failure types, with our address, the MX host and
 * its address.  lookup counts them (lookup_tlsrpt.h).
 *
 * MSG_LOOKUP_TLSRPT (mta -> lookup, no answer): str policy domain, u32
 * enum tlsrpt_policy_type, str policy-string lines joined by "\n", str
 * mx-host lines joined by "\n", u32 enum tlsrpt_result, str sending-mta-ip,
 * str receiving-mx-hostname, str receiving-ip, str additional information
 * (printable, at most MTA_TLSRPT_INFO_MAX).
 *
 * MSG_MTA_TLSRPT_POST (lookup -> mta, no answer): str url (an https: rua),
 * str host (its host), u32 n (1 to MTA_TLSRPT_ADDRS_MAX), n times str
 * IP address of host (lookup resolved it), data the gzip'ed report.
 * POSTed as application/tlsrpt+gzip (RFC 8460 §5.4) with mta_sts.c's
 * curl; the outcome is logged (event=tlsrpt-post).
 */
#ifndef CACHET_MTA_TLSRPT_H
#define CACHET_MTA_TLSRPT_H

#include "mta.h"
#include "mta_conn.h"
#include "mtasts.h"
#include "proc.h"
#include "tlsrpt.h"

#define MTA_TLSRPT_INFO_MAX	200
#define MTA_TLSRPT_ADDRS_MAX	8	/* of a collector, to try */
/* the policy-string of a policy: an MTA-STS policy or 8 TLSA records */
#define MTA_TLSRPT_POLICY_MAX	4096

/*
 * The result type of a session attempt that ended in ev (why: the
 * verification error or the skip's reason) under a policy of type ptype
 * (pure; unit-tested): a certificate error under MTA-STS is named by its
 * kind (§4.3.1), a bogus DNSSEC answer under DANE dnssec-invalid and any
 * other failed TLSA lookup tlsa-invalid (§4.3.2.1); opportunistic TLS
 * without a policy succeeds when it is up, verified or not.
 */
enum tlsrpt_result	mta_tlsrpt_result(enum tlsrpt_policy_type ptype,
			    enum mta_conn_tls_event ev, const char *why);

/*
 * Send lookup the outcome of a session attempt on address a of a route
 * to domain under policy source src (mta_tls_policy()'s source), its
 * DANE answer dn (or NULL) and its MTA-STS policy sts (or NULL).  Relay
 * hosts are not reported (no policy domain of theirs applies).
 */
void	mta_tlsrpt_send(struct proc_self *, const char *domain,
	    const char *src, const struct mta_dane *dn,
	    const struct mtasts_policy *sts, const struct mta_conn_addr *a,
	    enum mta_conn_tls_event ev, const char *why, const char *local_ip);

struct mta_sts;
struct mta_sts_result;

/*
 * The result type of a failed policy fetch whose reason (mta_sts.c's
 * "MTA-STS policy fetch for D failed: ...") is why (pure; unit-tested):
 * sts-policy-invalid for a policy that does not parse, sts-webpki-invalid
 * for a certificate curl refused, sts-policy-fetch-error for anything
 * else (RFC 8460 §4.3.2.2); TLSRPT_OK when why is no fetch failure (no
 * TXT record, mode none, all well).
 */
enum tlsrpt_result	mta_tlsrpt_fetch_result(const char *why);

/*
 * A destination's MTA-STS answer res is in: a failed fetch is reported
 * under domain's "sts" policy (the cached one's text, or none), once
 * per fetch, without MX details.
 */
void	mta_tlsrpt_sts_fetch(struct proc_self *, const char *domain,
	    const struct mta_sts_result *res);

/* MSG_MTA_TLSRPT_POST from lookup (sts: the mta's curl, or NULL). */
void	mta_tlsrpt_post(struct mta_sts *sts, struct msg *m);

#endif
