/*
 * lookup_dkimsign: DKIM signing in the lookup role (issue 14).  The
 * msgauth step is declared in msgauth.h; this header adds what the rest
 * of lookup calls: signing a whole message lookup made (TLS-RPT and
 * DMARC reports) and the `cachetctl dkim` verbs.
 */
#ifndef CACHET_LOOKUP_DKIMSIGN_H
#define CACHET_LOOKUP_DKIMSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct dkimkey;
struct lookup_dkimsign;

/*
 * Sign msg (a whole message, CRLF lines) when its From: domain has
 * active keys: the DKIM-Signature fields are put on top of msg, then
 * done(arg, msg) runs, later (the signature is made on a worker
 * thread) or at once when nothing signs.  msg stays the caller's.
 */
void	lookup_dkimsign_message(struct lookup_dkimsign *, struct buf *msg,
	    void (*done)(void *arg, struct buf *msg), void *arg);

/*
 * The active keys of domain (lower case) that load, at most max, in the
 * order made, into out; their count.  The pointers are good until the
 * next `cachetctl dkim` verb: use them at once (`cachetctl dns`).
 */
size_t	lookup_dkimsign_published(struct lookup_dkimsign *,
	    const char *domain, const struct dkimkey **out, size_t max);

/*
 * A cachetctl request whose argv[0] is "dkim": keygen, list, retire,
 * activate.
 * ours(domain, arg) says whether a domain is one of ours (keys are made
 * for those only).  The answer is sent with proc_ctl_line()/_end().
 */
void	lookup_dkimsign_ctl(struct lookup_dkimsign *, uint64_t reqid,
	    size_t argc, char **argv,
	    bool (*ours)(const char *domain, void *arg), void *arg);

#endif
