/*
 * tls: the one module that speaks to OpenSSL's SSL_* API.  It builds the
 * server contexts of the listeners (certificate, key, protocol floor,
 * ciphers: one list for our users' clients, a broader one for port 25),
 * checks configured cipher lists, and builds the client context the mta
 * role uses, the SSL objects that bufferevent_openssl wraps around a
 * socket, and a self-signed certificate for a first start without one.
 * Sessions see a connection, not a library: they get the negotiated
 * version and cipher as strings for logs and the Received: header.
 *
 * Errors come back as 0/-1 (or NULL) with *errstr_out pointing at a
 * message in a per-thread buffer that stays valid until the next tls_*
 * call in that thread; errstr_out may be NULL.  The message carries
 * OpenSSL's error queue, which is left empty.
 */
#ifndef CACHET_TLS_H
#define CACHET_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

#include <openssl/types.h>	/* SSL */

/* Validity of a certificate made by tls_selfsigned_create() (~10 years). */
#define TLS_SELFSIGNED_DAYS	3650

/*
 * The TLS 1.2 cipher lists a server offers unless configured otherwise
 * (tls { ciphers, smtp-ciphers }), best first; TLS 1.3 keeps OpenSSL's
 * suites, all AEAD with forward secrecy.  RFC 9325 §4.1: no NULL, RC4,
 * export or 3DES suites, none without forward secrecy (static RSA), and
 * no finite-field DHE (it "SHOULD NOT" be negotiated; every client that
 * has the AEAD suites has ECDHE); §4.2 recommends the ECDHE AES-GCM
 * suites, and ChaCha20-Poly1305 serves CPUs without AES instructions.
 *
 * TLS_CIPHERS_CLIENTS, for the listeners of our own users' clients
 * (submission, submissions, pop3, pop3s, imap, imaps): AEAD suites only,
 * Mozilla's "intermediate" profile without its DHE suites.
 * TLS_CIPHERS_MX, for other servers on port 25: the same, then the ECDHE
 * AES-CBC suites, because some MTAs still in service offer nothing
 * better and refusing them there means cleartext instead (RFC 7435 §1:
 * opportunistic TLS is better than none).
 */
#define TLS_CIPHERS_AEAD						\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"	\
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_CIPHERS_CLIENTS	TLS_CIPHERS_AEAD
#define TLS_CIPHERS_MX	TLS_CIPHERS_AEAD ":"				\
	"ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"		\
	"ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"		\
	"ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:"			\
	"ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
#define TLS_CIPHERS_MAX		2048	/* octets in a configured list */

struct tls_ctx;
struct dns_tlsa;

/*
 * A server context: TLS 1.2 or newer, TLS_CIPHERS_CLIENTS until
 * tls_ctx_set_ciphers() says otherwise, no compression (RFC 9325 §3.3),
 * no renegotiation, our cipher order.  cert_file is a PEM chain, leaf
 * first; key_file a PEM private key, which must match the leaf.  NULL on
 * failure.
 */
struct tls_ctx	*tls_server_new(const char *cert_file, const char *key_file,
		    const char **errstr_out);

/*
 * A private-key operation done by the key's holder.  TLS_KEY_RSA_SIGN is
 * RSA_private_encrypt(): in padded with padding (RSA_PKCS1_PADDING, or
 * RSA_NO_PADDING when the caller made RSA-PSS's encoding), out the
 * modulus' size.  TLS_KEY_ECDSA_SIGN: in a digest, out a DER
 * ECDSA-Sig-Value.  No static RSA key exchange is offered, so no
 * decryption is ever asked.
 */
enum tls_key_op {
	TLS_KEY_RSA_SIGN = 1,
	TLS_KEY_ECDSA_SIGN = 2,
};
#define TLS_KEY_IO_MAX	1024	/* octets in or out: RSA to 8192 bits */

/*
 * A key is named by the SHA-256 of its SubjectPublicKeyInfo (the DER of
 * the leaf's public key: what a TLSA 3 1 1 record holds, RFC 7671 §8.1).
 */
#define TLS_SPKI_LEN	32
/* Octets of a PEM file we read: a certificate chain, or a private key. */
#define TLS_PEM_MAX	(64 * 1024)

/*
 * Does op with the remote key named spki (TLS_SPKI_LEN octets: the key
 * of the certificate the context was made with); the length of out, or
 * -1.
 */
typedef ssize_t	(*tls_key_remote_fn)(void *arg, const uint8_t *spki,
		    enum tls_key_op op, int padding, const unsigned char *in,
		    size_t inlen, unsigned char *out, size_t outsz);

/*
 * As tls_server_new(), without the private key: the leaf certificate's
 * public key stands in for it, and every operation that needs the
 * private half is handed to fn(arg) during the handshake (synchronously;
 * a -1 fails that handshake), naming the key.  All such contexts of a
 * process share one fn and arg, the last given.  RSA and EC keys.
 */
struct tls_ctx	*tls_server_new_remote(const char *cert_file,
		    tls_key_remote_fn fn, void *arg, const char **errstr_out);
/* The same from a PEM chain in memory (leaf first), len octets. */
struct tls_ctx	*tls_server_new_remote_pem(const char *chain, size_t len,
		    tls_key_remote_fn fn, void *arg, const char **errstr_out);

/*
 * t takes with's certificate, key and settings for the connections made
 * from now on; with is freed.  Connections made before keep what they
 * were made with (each SSL holds a reference on its context).
 */
void		 tls_ctx_replace(struct tls_ctx *t, struct tls_ctx *with);

/*
 * A whole file of at most TLS_PEM_MAX octets, NUL-terminated, into a new
 * buffer *out (free it; wipe a key's with explicit_bzero first).  From a
 * path, or from a descriptor it does not close.  0, or -1 with the
 * reason.
 */
int		 tls_pem_read(const char *path, char **out, size_t *len_out,
		    const char **errstr_out);
int		 tls_pem_read_fd(int fd, char **out, size_t *len_out,
		    const char **errstr_out);

/*
 * The holder's side: the private key in key_file, checked against the
 * leaf of cert_file as tls_server_new() does; NULL on failure.  The key
 * keeps the chain too (tls_key_chain()).
 */
struct tls_key;
struct tls_key	*tls_key_load(const char *cert_file, const char *key_file,
		    const char **errstr_out);
/*
 * The same from memory: chain (PEM, leaf first) and key (PEM, not
 * encrypted), which must match the leaf.  NULL with the reason.
 */
struct tls_key	*tls_key_new_pem(const char *chain, size_t chain_len,
		    const char *key, size_t key_len, const char **errstr_out);
/* The chain the key was loaded with, PEM, *len_out octets. */
const char	*tls_key_chain(const struct tls_key *, size_t *len_out);
/* The key's name: the SHA-256 of its SubjectPublicKeyInfo. */
const uint8_t	*tls_key_spki(const struct tls_key *);
/* op with the key: the length written to out, or -1 (bad request). */
ssize_t		 tls_key_op(struct tls_key *, enum tls_key_op op,
		    int padding, const unsigned char *in, size_t inlen,
		    unsigned char *out, size_t outsz);
void		 tls_key_free(struct tls_key *);

/*
 * A client context: TLS 1.2 or newer, the system's CA store loaded.  The
 * handshake itself never fails on verification: opportunistic TLS is still
 * better than cleartext (RFC 7435 §3), and whether a destination demands
 * a verified peer (MTA-STS, DANE) is decided after the handshake with
 * tls_peer_verified().  NULL on failure.
 */
struct tls_ctx	*tls_client_new(const char **errstr_out);

/* Add the PEM certificates in ca_file as trust anchors of a client context. */
int	tls_client_load_ca(struct tls_ctx *, const char *ca_file,
	    const char **errstr_out);

/*
 * Make the PEM certificates in ca_file the only trust anchors of a client
 * context (`tls-ca`: the system's store is dropped).  0 or -1.
 */
int	tls_client_use_ca(struct tls_ctx *, const char *ca_file,
	    const char **errstr_out);

/*
 * Offer these suites on a server context: ciphers for TLS 1.2 in
 * OpenSSL's cipher-list syntax, ciphersuites for TLS 1.3 (NULL or "":
 * OpenSSL's default).  Both should have passed tls_ciphers_check().
 */
int	tls_ctx_set_ciphers(struct tls_ctx *, const char *ciphers,
	    const char *ciphersuites, const char **errstr_out);

/*
 * Check a configured list: TLS 1.2 ciphers (tls13 false) or TLS 1.3
 * ciphersuites (tls13 true), NUL-terminated, at most TLS_CIPHERS_MAX
 * octets.  Every name or category in it must select something (OpenSSL
 * skips an unknown one silently, which would hide a typo), and what the
 * list selects must be fit to offer: TLS 1.2 suites with ECDHE or DHE key
 * exchange (forward secrecy; static RSA would also need lookup to
 * decrypt), an RSA or ECDSA certificate, and AES, CAMELLIA, ARIA or
 * ChaCha20-Poly1305 (no NULL, RC4, DES, 3DES or other 64-bit blocks).  0,
 * or -1 with the reason.
 */
int	tls_ciphers_check(const char *list, bool tls13,
	    const char **errstr_out);

/* NULL is a no-op.  SSL objects made from the context keep it alive. */
void	tls_ctx_free(struct tls_ctx *);

/*
 * A new SSL for one server connection, to hand to
 * bufferevent_openssl_*_new(..., BUFFEREVENT_SSL_ACCEPTING, ...), which
 * then owns it.  NULL on failure (see tls_errstr()).
 */
SSL	*tls_server_ssl_new(struct tls_ctx *);

/*
 * A new SSL for one client connection.  servername, when not NULL, is sent
 * as SNI (RFC 6066 §3) unless it is an IP address, and is the name the
 * peer's certificate must carry for tls_peer_verified() to succeed.
 */
SSL	*tls_client_ssl_new(struct tls_ctx *, const char *servername);

/*
 * A new SSL for one client connection checked by DANE (RFC 7672) against
 * the TLSA records rrs[0..n) of host: servername is sent as SNI and, for
 * DANE-TA(2), is the name the chain's leaf must carry (§3.2.2, partial
 * wildcards refused); DANE-EE(3) matches the key or certificate alone,
 * without a name check (§3.2.1).  Records OpenSSL cannot use are skipped;
 * NULL when none is usable or on failure.  tls_dane_verified() after the
 * handshake says whether a record matched.
 */
SSL	*tls_client_ssl_new_dane(struct tls_ctx *, const char *servername,
	    const struct dns_tlsa *rrs, size_t n);

/*
 * After a DANE handshake: 0 when a TLSA record matched the chain (and
 * the name, for DANE-TA), else -1 with the reason.
 */
int	tls_dane_verified(SSL *, const char **errstr_out);

/*
 * Call fn(arg) when ssl is freed (by whoever frees it: a bufferevent that
 * owns it, for one): how a role counts connections that libevent's HTTP
 * server closes on its own.  Once per SSL.  0, or -1.
 */
int	tls_ssl_on_free(SSL *, void (*fn)(void *), void *arg);

/* Free an SSL that no bufferevent took over; NULL is a no-op. */
void	tls_ssl_free(SSL *);

/*
 * After a client handshake: 0 when the peer's chain verified against the
 * trust anchors and carries the server name, else -1 with the reason.
 */
int	tls_peer_verified(SSL *, const char **errstr_out);

/* "TLSv1.3", "TLSv1.2", ... and the cipher's OpenSSL name, for logs. */
const char	*tls_version(SSL *);
const char	*tls_cipher(SSL *);

/* Channel binding types (RFC 5056) for SCRAM-PLUS. */
enum tls_cb {
	TLS_CB_EXPORTER,		/* RFC 9266 */
	TLS_CB_SERVER_END_POINT,	/* RFC 5929 §4 */
};
#define TLS_CB_EXPORTER_LEN	32	/* RFC 9266 §2 */

/*
 * The channel binding data of a server connection into out: for
 * TLS_CB_EXPORTER 32 octets exported with the label
 * "EXPORTER-Channel-Binding" and no context, on TLS 1.3 or on TLS 1.2
 * with the extended master secret only; for TLS_CB_SERVER_END_POINT the
 * hash of our certificate.  The length, or -1 when the type is not
 * available on this connection (or out is too small: 64 octets always do).
 */
ssize_t	tls_channel_binding(SSL *, enum tls_cb type, unsigned char *out,
	    size_t outsz);

/*
 * Make a self-signed certificate for hostname: an EC P-256 key (ECDSA is
 * accepted by every TLS 1.2+ stack), X.509 v3, CN and subjectAltName
 * dNSName set to hostname (RFC 6125 §6.4.4 checks only the SAN when there
 * is one), a random 126-bit serial, valid TLS_SELFSIGNED_DAYS days from an
 * hour ago.  The key (mode 0600) and the certificate (0644) are each
 * written whole to a new temporary file, then renamed into place key
 * first, so neither is ever seen half-written.  Existing files are
 * replaced.
 */
int	tls_selfsigned_create(const char *hostname, const char *cert_path,
	    const char *key_path, const char **errstr_out);

/*
 * Drain OpenSSL's error queue (this thread's) into one line, for a log:
 * "error:...:reason (detail); error:...".  Never NULL.
 */
const char	*tls_errstr(void);

/* The reason text of one OpenSSL error code (bufferevent_openssl's). */
const char	*tls_error_reason(unsigned long e);

#endif
