/*
 * lookup_prescreen: the spam checks made before DATA that need DNS
 * (issue 15), asked by smtp on port 25 for clients that have not
 * authenticated, and answered asynchronously (several lists in parallel
 * with a time budget; never stalling other sessions):
 *
 *   PRESCREEN_CLIENT, at connect: every `dnsbl` and `dnswl` zone for the
 *   client address (RFC 5782; IPv4 and IPv6; 127.255.255.x answers are
 *   the lists' errors: logged, never a listing; a per-list cache) and
 *   the forward-confirmed reverse DNS of the client.  A `dnsbl` listing
 *   without a weight refuses the client (code 554 and a text naming the
 *   list; smtp refuses every MAIL and RCPT of the session with it); with
 *   a weight it adds points; a `dnswl` listing subtracts them and sets
 *   PRESCREEN_F_DNSWL (no greylisting).
 *   PRESCREEN_HELO, at HELO/EHLO: the name's syntax and whether it
 *   resolves (and to the client).
 *   PRESCREEN_SENDER, at MAIL FROM: a sender domain with no MX, A or
 *   AAAA (550 5.1.8 or points, as configured); "" (the null path) is
 *   not checked.
 *
 * MSG_LOOKUP_PRESCREEN (smtp -> lookup): u64 reqid, u32 enum
 * prescreen_what, str client ip, str helo, str sender domain.
 * MSG_LOOKUP_PRESCREEN_RESULT (lookup -> smtp): u64 reqid, u32 code (0:
 * go on; else the SMTP reply code to refuse with), str enh, str text,
 * u32 PRESCREEN_F_*, then the points with their reasons
 * (spam_score_put).  smtp drops an answer whose reqid matches no
 * question it still has (the session left).
 */
#ifndef CACHET_LOOKUP_PRESCREEN_H
#define CACHET_LOOKUP_PRESCREEN_H

#include "ipc.h"
#include "proc.h"

enum prescreen_what {
	PRESCREEN_CLIENT,
	PRESCREEN_HELO,
	PRESCREEN_SENDER,
	PRESCREEN_WHAT_COUNT,
};

#define PRESCREEN_F_DNSWL	0x1u	/* on a DNS whitelist */

struct conf;
struct dns;
struct lookup_prescreen;

struct lookup_prescreen	*lookup_prescreen_new(struct proc_self *,
			    const struct conf *, struct dns *);
/* MSG_LOOKUP_PRESCREEN from an smtp worker; answered later. */
void			 lookup_prescreen_request(struct lookup_prescreen *,
			    struct proc_peer from, struct msg *);
/*
 * cachetctl prescreen check IP [HELO [SENDER-DOMAIN]]: the three checks
 * at once, answered with the lines "reply: CODE ENH TEXT" (or "reply:
 * none"), "score: N", "dnswl: yes|no" and "reasons: NAME=N,...".
 */
void			 lookup_prescreen_ctl(struct lookup_prescreen *,
			    uint64_t reqid, size_t argc, char **argv);

#endif
