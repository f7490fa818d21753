/*
 * acme: the pure parts of an ACME client (RFC 8555): base64url (RFC 4648
 * §5), the JSON Web Key of an ECDSA P-256 key and its thumbprint (RFC
 * 7638), the JWS a request is sent as (RFC 7515, flattened JSON
 * serialization, §6.2 of RFC 8555), and the parsing of what the server
 * answers: the directory (§7.1.1), an order (§7.1.3), an authorization
 * and its http-01 challenge (§7.1.4, §8.3), an error document (§6.7,
 * RFC 7807).  JSON is read and written by jansson; no sockets, no
 * clock, no keys: lookup_acme.c signs and talks.
 *
 * Trust: every parser takes the ACME server's bytes (the network),
 * bounded by ACME_JSON_MAX, and keeps only bounded strings.
 */
#ifndef CACHET_ACME_H
#define CACHET_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ACME_JSON_MAX		(64 * 1024)	/* one response body */
#define ACME_URL_MAX		512
#define ACME_TOKEN_MAX		64	/* octets of base64url: ours */
#define ACME_AUTHZ_MAX		32	/* authorizations of one order */
#define ACME_NAME_MAX		253	/* an identifier (RFC 1035 §2.3.4) */
#define ACME_DETAIL_MAX		300	/* an error's text, printable */
#define ACME_THUMB_LEN		43	/* base64url of 32 octets */
#define ACME_SIG_LEN		64	/* ES256: r and s, 32 octets each */

/* Status of an order, authorization or challenge (RFC 8555 §7.1.6). */
enum acme_status {
	ACME_S_UNKNOWN,
	ACME_S_PENDING,
	ACME_S_READY,
	ACME_S_PROCESSING,
	ACME_S_VALID,
	ACME_S_INVALID,
	ACME_S_DEACTIVATED,
	ACME_S_EXPIRED,
	ACME_S_REVOKED,
};

struct acme_directory {
	char	new_nonce[ACME_URL_MAX + 1];
	char	new_account[ACME_URL_MAX + 1];
	char	new_order[ACME_URL_MAX + 1];
};

struct acme_order {
	enum acme_status	 status;
	char			 authz[ACME_AUTHZ_MAX][ACME_URL_MAX + 1];
	size_t			 nauthz;
	char			 finalize[ACME_URL_MAX + 1];
	char			 certificate[ACME_URL_MAX + 1];	/* "" none */
	char			 error[ACME_DETAIL_MAX];	/* "" none */
};

/* An authorization with the one challenge we answer: http-01. */
struct acme_authz {
	enum acme_status	 status;
	char			 name[ACME_NAME_MAX + 1];	/* dns */
	bool			 has_http01;
	enum acme_status	 chall_status;
	char			 chall_url[ACME_URL_MAX + 1];
	char			 token[ACME_TOKEN_MAX + 1];
	char			 error[ACME_DETAIL_MAX];	/* "" none */
};

const char	*acme_status_name(enum acme_status);

/* Append base64url of p[0..len), no padding (RFC 7515 §2).  0 or -1. */
int	acme_b64url(const void *p, size_t len, struct buf *out);

/* Is t[0..len) a token we accept: 1 to ACME_TOKEN_MAX base64url octets? */
bool	acme_token_ok(const char *t, size_t len);

/*
 * The JWK of the P-256 public point (x, y) in RFC 7638 §3's canonical
 * form: {"crv":"P-256","kty":"EC","x":"...","y":"..."}.  0 or -1.
 */
int	acme_jwk_ec(const uint8_t x[32], const uint8_t y[32], struct buf *out);

/*
 * RFC 7638 §3: base64url of SHA-256 of a JWK already in canonical form
 * (jwk[0..len)) into out (ACME_THUMB_LEN + 1 octets).
 */
void	acme_thumbprint(const char *jwk, size_t len,
	    char out[ACME_THUMB_LEN + 1]);

/*
 * The JWS signing input of a request (RFC 7515 §5.1, RFC 8555 §6.2):
 * base64url(protected) "." base64url(payload), the protected header
 * {"alg":"ES256", "jwk" or "kid", "nonce", "url"}: jwk (canonical JSON)
 * for newAccount, kid (the account URL) after.  payload NULL is
 * POST-as-GET (§6.3: the empty string).  Replaces input.  0 or -1.
 */
int	acme_jws_input(const char *jwk, const char *kid, const char *nonce,
	    const char *url, const char *payload, struct buf *input);

/*
 * The request body: the flattened JWS JSON of input (acme_jws_input())
 * and its ES256 signature sig (r || s).  Replaces body.  0 or -1.
 */
int	acme_jws_body(const struct buf *input,
	    const uint8_t sig[ACME_SIG_LEN], struct buf *body);

/*
 * A DER ECDSA-Sig-Value (what OpenSSL makes) as JWS wants it (RFC 7518
 * §3.4): r and s, each 32 octets big-endian.  0 or -1.
 */
int	acme_sig_raw(const uint8_t *der, size_t len, uint8_t out[ACME_SIG_LEN]);

/* The parsers: 0, or -1 with *errstr_out (static text). */
int	acme_parse_directory(const char *json, size_t len,
	    struct acme_directory *out, const char **errstr_out);
int	acme_parse_order(const char *json, size_t len, struct acme_order *out,
	    const char **errstr_out);
int	acme_parse_authz(const char *json, size_t len, struct acme_authz *out,
	    const char **errstr_out);

/*
 * An error document (RFC 7807, RFC 8555 §6.7) as one printable line
 * "TYPE: DETAIL" into out (the URN prefix dropped); the body itself,
 * made printable and cut, when it is not one.
 */
void	acme_problem(const char *json, size_t len, char *out, size_t outsz);

/* Is the problem type badNonce (§6.5: retry with the new nonce)? */
bool	acme_problem_bad_nonce(const char *json, size_t len);

/*
 * When to renew a certificate valid from not_before to not_after (Unix
 * seconds): 30 days before it expires, or at two thirds of its life
 * when that is later (short-lived certificates).
 */
int64_t	acme_renew_at(int64_t not_before, int64_t not_after);

#endif
