/*
 * lookup_greylist: greylisting (RFC 6647, issue 15), asked by smtp at
 * each accepted RCPT on port 25 when `greylist yes`, for clients that
 * have not authenticated and are not on a DNS whitelist (smtp skips
 * those).  The triplet is the client network (IPv4 /24, IPv6 /64), the
 * envelope sender and the recipient; state in SQLite (greylist.db in
 * lookup's directory) with expiry.
 *
 * MSG_LOOKUP_GREYLIST (smtp -> lookup): u64 reqid, str client ip, str
 * sender (the address, "" for the null path), str recipient, u32
 * GREYLIST_F_*.
 * MSG_LOOKUP_GREYLIST_RESULT (lookup -> smtp): u64 reqid, u32 code (0:
 * pass; 450: defer), str enh, str text (the explanation).  smtp drops
 * an answer whose reqid matches no question it still has.
 */
#ifndef CACHET_LOOKUP_GREYLIST_H
#define CACHET_LOOKUP_GREYLIST_H

#include "ipc.h"
#include "proc.h"

/* SPF passed for the sender's domain (smtp had the result by RCPT). */
#define GREYLIST_F_SPF_PASS	0x1u

struct conf;
struct lookup_greylist;

struct lookup_greylist	*lookup_greylist_new(struct proc_self *,
			    const struct conf *);
/* MSG_LOOKUP_GREYLIST from an smtp worker; answered at once or later. */
void			 lookup_greylist_request(struct lookup_greylist *,
			    struct proc_peer from, struct msg *);

#endif
