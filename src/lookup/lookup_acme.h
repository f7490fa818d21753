/*
 * lookup_acme: certificates from an ACME server (RFC 8555) for
 * tls { acme URL }: lookup holds the account key and the certificate
 * keys, signs the requests (JWS, §6.2), makes the CSRs, stores what is
 * issued in its directory and installs it (lookup_tls.h).  Renewal 30
 * days before expiry, with backoff.
 */
#ifndef CACHET_LOOKUP_ACME_H
#define CACHET_LOOKUP_ACME_H

#include <stdint.h>

#include "conf.h"
#include "proc.h"

struct lookup_acme;
struct lookup_tls;

/* NULL when conf has no tls { acme }. */
struct lookup_acme	*lookup_acme_new(struct proc_self *, const struct conf *,
			    struct lookup_tls *);

/*
 * SHA-256 of the SubjectPublicKeyInfo of the key the next certificate
 * will have (made ahead, so that its TLSA record can be published
 * before it is used: RFC 7671 §8.1); -1 when there is none (NULL, or
 * no ACME).
 */
int	lookup_acme_next_spki(struct lookup_acme *, uint8_t out[32]);

void	lookup_acme_free(struct lookup_acme *);

#endif
