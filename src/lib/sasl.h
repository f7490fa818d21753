/*
 * sasl: the parts of SASL that every server role's protocol shares: strict
 * base64 (RFC 4648 §4), the PLAIN mechanism's message (RFC 4616 §2) and
 * SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677, channel
 * bindings of RFC 5929 and RFC 9266).  Pure functions on peer bytes,
 * bounded, used by smtp_session and pop3_session (and imap later) in their
 * unprivileged roles; no I/O, no clock, no randomness of its own.
 *
 * SCRAM is split so that the keys never reach a network role.  The
 * network side (struct sasl_scram) parses the client's messages, builds
 * ours and checks the channel binding and the nonce; the key holder
 * (lookup, through users.c) derives the keys when a password is set
 * (sasl_scram_derive) and checks a proof (sasl_scram_verify), which needs
 * only the AuthMessage and the proof the network side hands it.
 */
#ifndef CACHET_SASL_H
#define CACHET_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define SASL_FIELD_MAX	255	/* a PLAIN field, RFC 4616 §2 */

/*
 * Decode strict base64: whole quanta, padding only at the end, no other
 * characters, and the bits the padding drops are zero, so one text decodes
 * one way.  out must hold in.len / 4 * 3 octets.  0, or -1 on bad input.
 */
int	sasl_b64_decode(struct span in, unsigned char *out, size_t *outlen);
/* The space base64 of len octets takes, without the NUL. */
#define SASL_B64_LEN(len)	(((len) + 2) / 3 * 4)
/*
 * Encode len octets (RFC 4648 §4, with padding) into out, which must
 * hold SASL_B64_LEN(len) + 1 octets; NUL-terminated.  Returns the length.
 */
size_t	sasl_b64_encode(const unsigned char *in, size_t len, char *out);

/* A login name: 1-255 octets of valid UTF-8 with no control characters. */
bool	sasl_user_valid(struct span);
/* A password: 1-255 octets without NUL. */
bool	sasl_pass_valid(struct span);

enum sasl_plain {
	SASL_PLAIN_OK,
	SASL_PLAIN_MALFORMED,	/* not authzid NUL authcid NUL passwd */
	SASL_PLAIN_AUTHZID,	/* asks to act for someone else */
};

/*
 * Split a decoded PLAIN message into the user and password (borrowed
 * spans into p).  We act for nobody else: authzid must be empty or the
 * user itself.
 */
enum sasl_plain	sasl_plain_parse(const char *p, size_t len,
		    struct span *user_out, struct span *pass_out);

/* --- SCRAM-SHA-256 (RFC 5802, RFC 7677) --- */

#define SASL_SCRAM_HASH_LEN	32	/* SHA-256 output, RFC 7677 §3 */
#define SASL_SCRAM_SALT_MIN	16	/* what we accept from the store */
#define SASL_SCRAM_SALT_MAX	64
#define SASL_SCRAM_ITER_MIN	4096	/* RFC 7677 §4: at least 4096 */
/* More would keep a client hashing for seconds at every login. */
#define SASL_SCRAM_ITER_MAX	10000000
#define SASL_SCRAM_NONCE_MAX	128	/* the client's nonce, octets */
#define SASL_SCRAM_SNONCE_MAX	64	/* our part of the nonce */
/*
 * A client message, decoded.  The worst valid ones fit: an escaped
 * 255-octet name in both n= and a=, a 128-octet nonce, the c= of that
 * GS2 header with 64 octets of binding data, and a proof.
 */
#define SASL_SCRAM_MSG_MAX	2048
/* client-first-bare "," server-first "," client-final-without-proof */
#define SASL_SCRAM_AUTHMSG_MAX	(3 * SASL_SCRAM_MSG_MAX)
#define SASL_CB_DATA_MAX	64	/* a certificate hash, an exporter */

/* Channel binding types (RFC 5056) we know. */
enum sasl_cb {
	SASL_CB_NONE,
	SASL_CB_TLS_EXPORTER,		/* RFC 9266 */
	SASL_CB_TLS_SERVER_END_POINT,	/* RFC 5929 §4 */
};

/* How a step went. */
enum sasl_scram_rc {
	SASL_SCRAM_OK,
	SASL_SCRAM_MALFORMED,	/* not RFC 5802 §7's grammar, too long */
	SASL_SCRAM_REFUSED,	/* well formed, but we will not go on */
};

struct sasl_scram;

/*
 * An exchange, server side.  plus: the client chose SCRAM-SHA-256-PLUS.
 * cb_offered: we offer channel binding on this connection (advertised
 * -PLUS), which makes a client's "y" flag a downgrade (RFC 5802 §6).
 */
struct sasl_scram	*sasl_scram_new(bool plus, bool cb_offered);
/* Wipes what it holds; NULL is a no-op. */
void			 sasl_scram_free(struct sasl_scram *);

/*
 * The client-first-message (decoded).  Refused: an authzid other than
 * the user, the reserved "m=" extension (RFC 5802 §5.1), a channel
 * binding flag that does not match the mechanism or the offer, an
 * unknown binding type.  Unknown optional extensions are ignored, as
 * §5.1 says.  *why_out (may be NULL) is a short static reason.
 */
enum sasl_scram_rc	sasl_scram_client_first(struct sasl_scram *,
			    const char *p, size_t len, const char **why_out);
/*
 * Where a session gets the channel binding data of its connection: the
 * length written to out, or -1 when type is not available.
 */
typedef ssize_t	(*sasl_cbind_fn)(void *arg, enum sasl_cb type,
		    unsigned char *out, size_t outsz);
/* Is some binding type available (so that -PLUS may be offered)? */
bool	sasl_cb_available(sasl_cbind_fn, void *arg);
/*
 * sasl_scram_client_first(), then the binding data of the type the
 * client asked for, from cbind (NULL: none available); REFUSED when
 * there is none of that type on this connection (RFC 9266 §3: no
 * tls-exporter on TLS 1.2 without the extended master secret).
 */
enum sasl_scram_rc	sasl_scram_start(struct sasl_scram *, const char *p,
			    size_t len, sasl_cbind_fn cbind, void *arg,
			    const char **why_out);
/* After client_first: the user name (unescaped, NUL-terminated). */
const char		*sasl_scram_user(const struct sasl_scram *);
/* After client_first: the binding the client asked for, or NONE. */
enum sasl_cb		 sasl_scram_cb(const struct sasl_scram *);
/* The binding data of that type on this connection (before final). */
void			 sasl_scram_set_cb_data(struct sasl_scram *,
			    const unsigned char *data, size_t len);

/*
 * What the server-first-message says: the user's salt and iteration
 * count (from the key holder) and our part of the nonce (printable, no
 * ',', 1 to SASL_SCRAM_SNONCE_MAX octets: base64 of random octets).
 */
struct sasl_scram_challenge {
	unsigned char	salt[SASL_SCRAM_SALT_MAX];
	size_t		saltlen;
	uint32_t	iterations;
	char		snonce[SASL_SCRAM_SNONCE_MAX + 1];
};

/*
 * Make the server-first-message; *out points into the exchange.  -1 when
 * a field of ch is out of its bounds.
 */
int	sasl_scram_server_first(struct sasl_scram *,
	    const struct sasl_scram_challenge *ch, struct span *out);

/*
 * The client-final-message (decoded): the channel binding must repeat
 * the GS2 header (and the binding data with "p="), the nonce must be the
 * one we sent, the proof must be last.  On OK, the AuthMessage and the
 * proof are ready for the key holder.
 */
enum sasl_scram_rc	sasl_scram_client_final(struct sasl_scram *,
			    const char *p, size_t len, const char **why_out);
struct span		 sasl_scram_auth_message(const struct sasl_scram *);
/* SASL_SCRAM_HASH_LEN octets. */
const unsigned char	*sasl_scram_proof(const struct sasl_scram *);

/* The server-final-message "v=..." from the key holder's signature. */
struct span	sasl_scram_server_final(struct sasl_scram *,
		    const unsigned char sig[SASL_SCRAM_HASH_LEN]);

/*
 * A challenge line: prefix ("334 " in SMTP, "+ " in POP3, at most 7
 * octets), base64 of msg (at most SASL_SCRAM_MSG_MAX octets), CRLF, into
 * out of SASL_CHALLENGE_LINE_MAX octets.  Returns its length.
 */
#define SASL_CHALLENGE_LINE_MAX \
	(7 + SASL_B64_LEN(SASL_SCRAM_MSG_MAX) + 3)
size_t	sasl_challenge_line(const char *prefix, struct span msg,
	    char *out);

/* The binding type's name on the wire ("tls-exporter"), "" for NONE. */
const char	*sasl_cb_name(enum sasl_cb);

/*
 * The key holder's side.  derive: SaltedPassword = Hi(password, salt, i)
 * (PBKDF2-HMAC-SHA-256), then StoredKey = H(HMAC(SaltedPassword, "Client
 * Key")) and ServerKey = HMAC(SaltedPassword, "Server Key") (RFC 5802
 * §3).  password is used as given: the caller makes sure SASLprep
 * (RFC 4013) leaves it unchanged.  0 or -1.
 */
int	sasl_scram_derive(const char *password, size_t passlen,
	    const unsigned char *salt, size_t saltlen, uint32_t iterations,
	    unsigned char stored_key[SASL_SCRAM_HASH_LEN],
	    unsigned char server_key[SASL_SCRAM_HASH_LEN]);
/*
 * Is proof right for stored_key over auth_message?  ClientKey = proof
 * XOR HMAC(StoredKey, AuthMessage) must hash to StoredKey (compared in
 * constant time).  Whatever the answer, sig_out gets ServerSignature =
 * HMAC(ServerKey, AuthMessage), to send only on success.
 */
bool	sasl_scram_verify(
	    const unsigned char stored_key[SASL_SCRAM_HASH_LEN],
	    const unsigned char server_key[SASL_SCRAM_HASH_LEN],
	    const char *auth_message, size_t len,
	    const unsigned char proof[SASL_SCRAM_HASH_LEN],
	    unsigned char sig_out[SASL_SCRAM_HASH_LEN]);

#endif
