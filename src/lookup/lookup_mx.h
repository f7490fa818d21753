/*
 * lookup_mx: the DNS side of the lookup role.  It answers the mta's
 * MSG_LOOKUP_MX ("where does the mail of this domain go?") with the
 * addresses to try, in order, through dns.c (libunbound, asynchronous)
 * and the pure routing of mx.c: the config's relay directives, MX records
 * sorted by preference, the implicit MX, the null MX, the A and AAAA
 * records of each host.  A relay that authenticates gets its password
 * from here: lookup is the holder of secrets, and reads each relay's
 * password file once, before it chroots.
 *
 * Trust: the mta is a sibling that talks to the network, so the domain it
 * asks about is bounded and checked (mx_plan refuses what is not a host
 * name or an address literal); a malformed request is fatal.  DNS answers
 * are parsed by dns.c.
 *
 * MSG_LOOKUP_MX: u64 reqid, str domain.
 * MSG_LOOKUP_MX_RESULT: u64 reqid, u32 status (enum mx_status), str
 * enhanced, str reason (both "" when MX_OK), u32 ttl (seconds the answer
 * may be kept), str auth user, str auth password ("" when none), u32 n
 * (at most MX_ADDRS_MAX), then n times: str host name, str IP address
 * (numeric), u32 port; then u32 h (at most MX_HOSTS_MAX), the hosts
 * those addresses belong to, in order, h times: str host name, u32
 * dnssec (1 when its MX and address answers were secure), u32 dane
 * (enum lookup_mx_dane), str reason ("" unless LOOKUP_MX_DANE_FAILED),
 * u32 r (at most LOOKUP_MX_TLSA_MAX; 0 unless LOOKUP_MX_DANE_RECORDS),
 * r times: u32 usage, u32 selector, u32 matching type, data
 * (1 .. LOOKUP_MX_TLSA_DATA_MAX octets).
 *
 * DANE (RFC 7672 §2.2): the TLSA RRset of "_25._tcp.HOST" is asked only
 * for a host whose MX and address answers are DNSSEC-secure, only for an
 * MX route (not a relay directive, not an address literal) and only with
 * `dane yes`; what its records mean for TLS is the mta's decision
 * (mta_tls_policy), not lookup's.
 */
#ifndef CACHET_LOOKUP_MX_H
#define CACHET_LOOKUP_MX_H

#include "ipc.h"
#include "proc.h"

#define LOOKUP_MX_PASS_MAX	1024	/* a relay password, octets */
#define LOOKUP_MX_TTL_MAX	300	/* the longest an mta keeps a route */
#define LOOKUP_MX_TLSA_MAX	8	/* TLSA records per host; more: FAILED */
#define LOOKUP_MX_TLSA_DATA_MAX	1024	/* one record's data; more: FAILED */
#define LOOKUP_MX_REASON_MAX	512	/* why DANE failed for a host */

/* What DANE found for one MX host. */
enum lookup_mx_dane {
	/* not asked: insecure MX or addresses, a relay, `dane no` */
	LOOKUP_MX_DANE_NONE,
	/* secure answer, no TLSA records (or an insecure TLSA answer) */
	LOOKUP_MX_DANE_NO_TLSA,
	/* secure TLSA records follow */
	LOOKUP_MX_DANE_RECORDS,
	/* the TLSA lookup failed or was bogus: do not use this host */
	LOOKUP_MX_DANE_FAILED,
};

struct lookup_mx;

/*
 * Set up the resolver of the config (`resolver`, else /etc/resolv.conf)
 * on self's loop and read the relays' password files.  Call before
 * proc_drop(): both read files outside the chroot.  A resolver that
 * cannot be set up is logged and every request gets a temporary failure
 * (mail waits in the queue); never NULL.
 */
struct lookup_mx	*lookup_mx_new(struct proc_self *self);

/* A MSG_LOOKUP_MX from role from; the answer comes later. */
void	lookup_mx_request(struct lookup_mx *, enum proc_id from,
	    struct msg *m);

/* A peer came or went: answers to its earlier requests are dropped. */
void	lookup_mx_peer_change(struct lookup_mx *, enum proc_id id);

/* Cancel every query and free; NULL is a no-op. */
void	lookup_mx_free(struct lookup_mx *);

/* The resolver, shared with lookup_sts.c; NULL when none could be set up. */
struct dns	*lookup_mx_dns(struct lookup_mx *);

#endif
