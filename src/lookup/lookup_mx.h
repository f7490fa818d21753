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
 * (numeric), u32 port.
 */
#ifndef CACHET_LOOKUP_MX_H
#define CACHET_LOOKUP_MX_H

#include "ipc.h"
#include "proc.h"

#define LOOKUP_MX_PASS_MAX	1024	/* a relay password, octets */
#define LOOKUP_MX_TTL_MAX	300	/* the longest an mta keeps a route */

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

#endif
