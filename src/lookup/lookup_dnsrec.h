/*
 * lookup_dnsrec: `cachetctl dns DOMAIN` and `cachetctl dns check DOMAIN`
 * in the lookup role, which holds what the records are made of (the
 * DKIM keys, the TLS key and the next one, the config's MTA-STS policy)
 * and the resolver to check them with.  The records themselves are
 * dnsrec.h's; this file gathers their inputs, asks the resolver for each
 * record, for hostname's addresses and for their PTR records, and
 * prints one line per record.
 */
#ifndef CACHET_LOOKUP_DNSREC_H
#define CACHET_LOOKUP_DNSREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "proc.h"

struct dns;
struct lookup_acme;
struct lookup_dkimsign;
struct lookup_dnsrec;
struct lookup_tls;

struct lookup_dnsrec	*lookup_dnsrec_new(struct proc_self *,
			    const struct conf *, struct dns *,
			    struct lookup_dkimsign *, struct lookup_tls *,
			    struct lookup_acme *);

/*
 * A cachetctl request whose argv[0] is "dns": "dns DOMAIN" prints the
 * records (zone-file lines, then "; " notes of what is left out);
 * "dns check DOMAIN" prints "present|missing|different NAME TYPE
 * [found: ...]" per record, then hostname's A/AAAA and the PTR of each
 * address, later (the answers come from the resolver), and ends 0 only
 * when everything is present.  ours(domain, arg) says whether a domain
 * is one of ours.  The answer goes out with proc_ctl_line()/_end().
 */
void	lookup_dnsrec_ctl(struct lookup_dnsrec *, uint64_t reqid, size_t argc,
	    char **argv, bool (*ours)(const char *domain, void *arg),
	    void *arg);

/* Cancels the checks in flight (no answer is sent); NULL is a no-op. */
void	lookup_dnsrec_free(struct lookup_dnsrec *);

#endif
