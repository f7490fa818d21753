/*
 * lookup_spf: SPF (RFC 7208) in the lookup role.  MSG_LOOKUP_SPF from an
 * smtp worker starts check_host() (spf.c) over lookup's resolver; the
 * answer, MSG_LOOKUP_SPF_RESULT, goes back to that worker when the
 * evaluation ends (layouts in msgauth.h).  The smtp dialogue does not
 * wait for it: smtp asks at MAIL FROM and needs the result only at the
 * end of DATA.
 */
#ifndef CACHET_LOOKUP_SPF_H
#define CACHET_LOOKUP_SPF_H

#include "ipc.h"
#include "proc.h"

struct conf;
struct dns;
struct lookup_spf;

struct lookup_spf	*lookup_spf_new(struct proc_self *, const struct conf *,
			    struct dns *);
/* MSG_LOOKUP_SPF from an smtp worker; answered later. */
void			 lookup_spf_request(struct lookup_spf *,
			    struct proc_peer from, struct msg *);
/*
 * `cachetctl spf check IP HELO SENDER` (argv[0] is "spf"): the result,
 * identity, domain, reason and, for a fail, the explanation, a line
 * each; SENDER "<>" or "" is the null path.
 */
void			 lookup_spf_ctl(struct lookup_spf *, uint64_t reqid,
			    size_t argc, char **argv);
/* A peer came or went: answers to its earlier requests are dropped. */
void			 lookup_spf_peer_change(struct lookup_spf *,
			    struct proc_peer);

#endif
