/*
 * lookup_tls: the TLS key and certificate that lookup holds for every
 * role's listeners (keyproxy.h), and the one place that changes them
 * while the daemon runs: a certificate from ACME (lookup_acme.h) or
 * `cachetctl tls reload` is installed here, lookup signs the next
 * handshakes with the new key, and each role that serves TLS is handed
 * the new chain for its new connections; sessions already open go on
 * with the old one.
 */
#ifndef CACHET_LOOKUP_TLS_H
#define CACHET_LOOKUP_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "proc.h"

struct tls_key;
struct lookup_tls;

/* Takes key (may be NULL: none could be read at start). */
struct lookup_tls	*lookup_tls_new(struct proc_self *, struct tls_key *key);
/* The key handshakes are signed with now. */
struct tls_key		*lookup_tls_key(struct lookup_tls *);

/*
 * Install chain_pem (leaf first) and its private key key_pem: checked
 * (the key matches the leaf), then in use for every new handshake of
 * every role.  -1 with *errstr_out when refused; the old pair stays.
 */
int	lookup_tls_install(struct lookup_tls *, const char *chain_pem,
	    size_t chain_len, const char *key_pem, size_t key_len,
	    const char **errstr_out);

/*
 * SHA-256 of the SubjectPublicKeyInfo of the key in use (TLSA 3 1 1,
 * RFC 7671 §8.1); -1 when there is none.
 */
int	lookup_tls_spki_sha256(struct lookup_tls *, uint8_t out[32]);

void	lookup_tls_free(struct lookup_tls *);

#endif
