/*
 * sasl: the parts of SASL that every server role's protocol shares: strict
 * base64 (RFC 4648 §4) and the PLAIN mechanism's message (RFC 4616 §2).
 * Pure functions on peer bytes, bounded, used by smtp_session and
 * pop3_session (and imap later) in their unprivileged roles.
 */
#ifndef CACHET_SASL_H
#define CACHET_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SASL_FIELD_MAX	255	/* a PLAIN field, RFC 4616 §2 */

/*
 * Decode strict base64: whole quanta, padding only at the end, no other
 * characters, and the bits the padding drops are zero, so one text decodes
 * one way.  out must hold in.len / 4 * 3 octets.  0, or -1 on bad input.
 */
int	sasl_b64_decode(struct span in, unsigned char *out, size_t *outlen);

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

#endif
