/*
 * lookup_sts: the MTA-STS (RFC 8461) side of the lookup role.  lookup
 * keeps the policy cache (DESIGN.md: policy state is lookup's), in SQLite
 * under its directory (sts.db: domain, TXT id, policy text, fetched,
 * expires), and asks DNS what the mta cannot: the "_mta-sts.DOMAIN" TXT
 * record and the addresses of "mta-sts.DOMAIN", through the resolver the
 * daemon is configured with.  The HTTPS fetch itself is the mta's (it may
 * connect out and holds no secret); what it fetched comes back here to be
 * cached.
 *
 * Trust: the mta is a sibling that talks to the network.  Its domain is
 * bounded and checked; a policy it stores must parse (mtasts.c), or the
 * message is malformed and fatal.  DNS data is parsed by dns.c and
 * judged by mtasts.c.
 *
 * MSG_LOOKUP_STS (mta -> lookup): u64 reqid, str domain (a host name).
 *
 * MSG_LOOKUP_STS_RESULT (lookup -> mta): u64 reqid, u32 action
 * (enum lookup_sts_action), str id (the TXT record's id, "" when there
 * is none), str reason (why there is no policy or why the TXT record
 * could not be used: printable, "" when all is well), data policy (the
 * cached policy text, empty when none, at most MTASTS_POLICY_MAX), str
 * cached id (the id the cached policy was fetched under, "" none), u64
 * fetched and u64 expires (Unix seconds of the cached policy, 0 when
 * none), u32 n (at most LOOKUP_STS_ADDRS_MAX; 0 unless FETCH), n times:
 * str IP address of "mta-sts.DOMAIN" (to give curl, port 443).
 *
 * MSG_LOOKUP_STS_STORE (mta -> lookup): str domain, str id (1-32 letters
 * and digits), data policy (text that mtasts_policy_parse() accepts).
 * No answer: a policy in mode none removes the domain's cached one
 * (§5), any other replaces it, expiring max_age seconds from now.
 *
 * When to fetch (§3.3, §5.1): a TXT record with an id that differs from
 * the cached policy's, or none cached, or a cached policy past the
 * middle of its life (at most a day after it was fetched): FETCH, with
 * the cached policy (if any) to use should the fetch fail.  No TXT
 * record, an invalid one, or a failed lookup: the cached policy, if any,
 * until it expires (CACHED); else NONE.
 */
#ifndef CACHET_LOOKUP_STS_H
#define CACHET_LOOKUP_STS_H

#include "ipc.h"
#include "proc.h"

#define LOOKUP_STS_ADDRS_MAX	8	/* of mta-sts.DOMAIN, to try */
#define LOOKUP_STS_REASON_MAX	600
#define LOOKUP_STS_REFRESH_MAX	86400	/* refetch at least daily */
#define LOOKUP_STS_DB		"sts.db"	/* in lookup's directory */

enum lookup_sts_action {
	LOOKUP_STS_NONE,	/* no policy: opportunistic as before */
	LOOKUP_STS_CACHED,	/* use the cached policy sent */
	LOOKUP_STS_FETCH,	/* fetch; on failure use the cached one */
};

struct lookup_sts;
struct dns;

/*
 * Open (create) the cache in the current directory (after proc_drop) and
 * answer with dns (NULL: every TXT lookup fails).  A cache that cannot be
 * opened is logged, and every request is answered as if nothing were
 * cached; never NULL.
 */
struct lookup_sts	*lookup_sts_new(struct proc_self *, struct dns *);

/* MSG_LOOKUP_STS from the mta; the answer comes later. */
void	lookup_sts_request(struct lookup_sts *, enum proc_id from,
	    struct msg *m);

/* MSG_LOOKUP_STS_STORE from the mta. */
void	lookup_sts_store(struct lookup_sts *, enum proc_id from,
	    struct msg *m);

/* A peer came or went: answers to its earlier requests are dropped. */
void	lookup_sts_peer_change(struct lookup_sts *, enum proc_id id);

/*
 * The decision on a cached policy fetched at fetched that expires at
 * expires (0, 0: none cached), the TXT id found (NULL: none usable),
 * at now: enum lookup_sts_action (pure; unit-tested).
 */
enum lookup_sts_action	lookup_sts_decide(uint64_t fetched, uint64_t expires,
			    const char *cached_id, const char *txt_id,
			    uint64_t now);

#endif
