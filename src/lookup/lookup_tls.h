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
 * The key named spki (TLS_SPKI_LEN octets): the one in use, or the one
 * before it for a while after a change; NULL for any other.  arg is the
 * struct lookup_tls (keyproxy_find_fn).
 */
struct tls_key		*lookup_tls_find(void *arg, const uint8_t *spki);

/*
 * MSG_LOOKUP_KEY_CHANNEL from a process of smtp, pop3, imap or http:
 * serve its key operations on fd (keyproxy_serve()) and send it the
 * chain in use (MSG_KEYPROXY_CHAIN).
 */
void	lookup_tls_channel(struct lookup_tls *, struct proc_peer from, int fd);

/*
 * Install chain_pem (leaf first) and its private key key_pem: checked
 * (the key matches the leaf), then in use for every new handshake of
 * every role: each process that serves TLS is sent the chain.  The key
 * before still signs for a while (handshakes already begun).  -1 with
 * *errstr_out when refused; the old pair stays.
 */
int	lookup_tls_install(struct lookup_tls *, const char *chain_pem,
	    size_t chain_len, const char *key_pem, size_t key_len,
	    const char **errstr_out);

/*
 * MSG_LOOKUP_TLS_RELOAD from the parent (cachetctl tls reload): the
 * chain it read and a descriptor of the key file it opened, installed
 * as lookup_tls_install() does; the answer goes to cachetctl.  fatalx()
 * on a malformed message.
 */
void	lookup_tls_reload(struct lookup_tls *, struct msg *);

/*
 * SHA-256 of the SubjectPublicKeyInfo of the key in use (TLSA 3 1 1,
 * RFC 7671 §8.1); -1 when there is none.
 */
int	lookup_tls_spki_sha256(struct lookup_tls *, uint8_t out[32]);

void	lookup_tls_free(struct lookup_tls *);

#endif
