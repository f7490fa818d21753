/*
 * mta_sts: MTA-STS (RFC 8461) in the mta role: what policy applies to a
 * destination domain now.  It asks lookup (MSG_LOOKUP_STS, lookup_sts.h:
 * the TXT record, the cache, the addresses of the policy host), fetches
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt when lookup says so,
 * parses it (mtasts.c) and hands the result back to lookup to cache
 * (MSG_LOOKUP_STS_STORE).
 *
 * The fetch (§3.3) is libcurl's multi interface driven by the role's
 * libevent loop (CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION), so
 * no delivery waits for it and the mta keeps its one thread (its
 * sandbox forbids threads).  Only to port 443 of the addresses lookup
 * found through our resolver (CURLOPT_RESOLVE: curl never resolves),
 * HTTPS only, the certificate verified for mta-sts.DOMAIN against
 * `tls-ca` (or the system bundle), read into memory before the chroot
 * (CURLOPT_CAINFO_BLOB); no redirects (a 3xx is a fetch error), no
 * proxy, at most MTASTS_POLICY_MAX octets, MTA_STS_TIMEOUT_S seconds in
 * all, and a 200 with Content-Type text/plain, or it is a fetch error.
 *
 * Trust: the policy host is the network; its body is bounded before it
 * is kept and parsed by mtasts.c.  lookup's answers are a sibling's:
 * malformed is fatal.
 */
#ifndef CACHET_MTA_STS_H
#define CACHET_MTA_STS_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc.h"
#include "mtasts.h"
#include "proc.h"

#define MTA_STS_TIMEOUT_S	10	/* the whole fetch; §3.3: "short" */
#define MTA_STS_CONNECT_S	5
#define MTA_STS_WHY_MAX		600
#define MTA_STS_FETCHES_MAX	64	/* at once */

/* What applies to a domain, as the callback gets it. */
struct mta_sts_result {
	bool			 policy;	/* pol holds one (not none) */
	struct mtasts_policy	 pol;
	char			 id[MTASTS_ID_MAX + 1];
	/* "fetched", "cached", or "none" */
	const char		*source;
	/* a fetch error, a TXT problem, why none: "" when all went well */
	char			 why[MTA_STS_WHY_MAX];
};

typedef void	(*mta_sts_cb)(void *arg, const struct mta_sts_result *);

struct mta_sts;
struct event_base;

/*
 * Set up curl on self's loop with the CA bundle ca_file ("" or NULL: the
 * system's), read now: call before proc_drop().  NULL with *errstr_out.
 */
struct mta_sts	*mta_sts_new(struct proc_self *self, const char *ca_file,
		    const char **errstr_out);

/*
 * What applies to domain (a host name): cb is called once, later (never
 * from inside this call) unless cancelled.  A handle, never 0.
 */
uint64_t	mta_sts_ask(struct mta_sts *, const char *domain, mta_sts_cb,
		    void *arg);

/* Forget a request: its callback is not called.  0 is a no-op. */
void		mta_sts_cancel(struct mta_sts *, uint64_t handle);

/* How a POST went: ok, or why not (printable). */
typedef void	(*mta_sts_post_cb)(void *arg, bool ok, const char *why);

/*
 * POST data[0..len) as Content-Type ctype to url (https only), whose
 * host is host, at port 443 of ips[0..nips) (found by lookup): the same
 * curl, CA bundle, limits and no-redirect rule as a policy fetch (TLS-RPT
 * reports, RFC 8460 §5.4).  0 and cb later, or -1 at once.
 */
int		mta_sts_post(struct mta_sts *, const char *url,
		    const char *host, char (*ips)[INET6_ADDRSTRLEN],
		    size_t nips, const char *ctype, const void *data,
		    size_t len, mta_sts_post_cb cb, void *arg);

/* MSG_LOOKUP_STS_RESULT from lookup. */
void		mta_sts_lookup_result(struct mta_sts *, struct msg *m);

/* lookup came back: the questions it had not answered go again. */
void		mta_sts_lookup_changed(struct mta_sts *);

/*
 * Is the Content-Type value ct (a NUL-terminated header value, as curl
 * gives it) "text/plain", parameters allowed, case-insensitive (RFC 8461
 * §3.2, RFC 2045 §5.1)?
 */
bool		mta_sts_content_type_ok(const char *ct);

#endif
