/*
 * lookup_acme: certificates from an ACME server (RFC 8555) for
 * tls { acme URL }: lookup holds the account key and the certificate
 * keys, signs the requests (JWS, §6.2), makes the CSRs, talks to the
 * server itself (libcurl on lookup's loop, lib/httpc.h), stores what is
 * issued in its directory and installs it (lookup_tls.h).  Renewal 30
 * days before expiry (or at two thirds of a shorter life), with backoff.
 *
 * Files, under lookup's directory: acme/account.pem (the account key,
 * ECDSA P-256), acme/key.pem and acme/cert.pem (the certificate in use
 * and its key: proc_tls_paths() hands them to every role at start),
 * acme/next-key.pem (the key the next certificate will have).
 *
 * The http-01 challenges (§8.3) are answered by the http role on
 * `listen http`: lookup sends it the tokens of the challenges in
 * progress and the account key's thumbprint (MSG_HTTP_ACME_TOKENS).
 *
 * Trust: the ACME server is the network; what it sends is parsed by
 * lib/acme.c, bounded.  Nothing secret leaves lookup.
 */
#ifndef CACHET_LOOKUP_ACME_H
#define CACHET_LOOKUP_ACME_H

#include <stdint.h>

#include "conf.h"
#include "proc.h"

#define LOOKUP_ACME_DIR		"acme"	/* relative: after proc_drop */

struct dns;
struct lookup_acme;
struct lookup_tls;

/*
 * NULL when conf has no tls { acme }.  Call before proc_drop(): the CA
 * bundle (tls-ca, or the system's) is read now; the files are read and
 * the first run is started from the loop, after the drop.  dns resolves
 * the ACME server's name.
 */
struct lookup_acme	*lookup_acme_new(struct proc_self *, const struct conf *,
			    struct lookup_tls *, struct dns *);

/*
 * SHA-256 of the SubjectPublicKeyInfo of the key the next certificate
 * will have (made ahead, so that its TLSA record can be published
 * before it is used: RFC 7671 §8.1); -1 when there is none (NULL, or
 * no ACME).
 */
int	lookup_acme_next_spki(struct lookup_acme *, uint8_t out[32]);

/*
 * `cachetctl tls status` and `cachetctl tls renew` (argv[0] "tls"):
 * answered (MSG_CTL_LINE, MSG_CTL_END) before it returns.  a may be
 * NULL (no tls { acme }).
 */
void	lookup_acme_ctl(struct lookup_acme *, struct proc_self *,
	    uint64_t reqid, size_t argc, char **argv);

/* A sibling came or went: the http role gets the tokens again. */
void	lookup_acme_peer_change(struct lookup_acme *, struct proc_peer);

void	lookup_acme_free(struct lookup_acme *);

#endif
