/*
 * sasl_server: the steps of a SASL exchange on the server side that the
 * protocol sessions (smtp_session, pop3_session, imap_session) share,
 * between their own command syntax and reply codes: decoding a client
 * response (RFC 4422 §3: base64, "*" cancels, "=" is an empty initial
 * response), and SCRAM-SHA-256(-PLUS) (RFC 5802, RFC 7677) as a small
 * machine: which message the client sent, what to ask the key holder
 * next, and the challenge lines built from its answers.  Pure, like the
 * sessions that use it; the key holder's questions go out through the
 * session's own ops.
 */
#ifndef CACHET_SASL_SERVER_H
#define CACHET_SASL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "sasl.h"

/* --- a client response --- */

enum sasl_server_resp {
	SASL_SERVER_RESP_DATA,		/* decoded: *out_out, *len_out */
	SASL_SERVER_RESP_CANCEL,	/* "*" */
	SASL_SERVER_RESP_BAD,		/* not base64 */
};

/*
 * Decode a response line (or an initial response, where "=" stands for
 * an empty one).  With DATA, *out_out is allocated (NUL-terminated) and
 * goes back through sasl_server_resp_free(p, len), which wipes it.
 */
enum sasl_server_resp	sasl_server_decode(struct span resp,
			    unsigned char **out_out, size_t *len_out);
void			sasl_server_resp_free(unsigned char *, size_t len);

/* --- SCRAM-SHA-256 --- */

enum sasl_server_step {
	SASL_SERVER_IDLE,		/* no SCRAM exchange */
	SASL_SERVER_SCRAM_FIRST,	/* waiting for client-first */
	SASL_SERVER_SCRAM_SALT,		/* the key holder has the user */
	SASL_SERVER_SCRAM_FINAL,	/* waiting for client-final */
	SASL_SERVER_SCRAM_PROOF,	/* the key holder has the proof */
	SASL_SERVER_SCRAM_DONE,		/* waiting for the empty answer */
};

/* What the session does with a client's SCRAM message. */
enum sasl_server_next {
	SASL_SERVER_ASK_SALT,	/* ops->scram_salt(sasl_server_user()) */
	SASL_SERVER_ASK_PROOF,	/* ops->scram_proof(user, authmsg, proof) */
	SASL_SERVER_LOGGED_IN,	/* the client took our signature */
	SASL_SERVER_MALFORMED,	/* a syntax error: *why_out */
	SASL_SERVER_REFUSED,	/* well formed, refused: *why_out */
	SASL_SERVER_FAILED,	/* data after our signature: just fail */
};

struct sasl_server {
	enum sasl_server_step	 step;
	struct sasl_scram	*scram;
	char			*user;	/* after client-first */
};

/* Start SCRAM (plus: -PLUS chosen; cb_offered: -PLUS advertised). */
void	sasl_server_scram_begin(struct sasl_server *, bool plus,
	    bool cb_offered);
/* End any exchange; wipes what it held.  Safe to repeat. */
void	sasl_server_end(struct sasl_server *);
/* The SCRAM user, valid from ASK_SALT until sasl_server_end(). */
const char	*sasl_server_user(const struct sasl_server *);

/*
 * A decoded client message at the current step.  MALFORMED and REFUSED
 * leave the exchange to be ended by the caller; ASK_SALT and ASK_PROOF
 * wait for the answers below; LOGGED_IN: the caller ends the exchange
 * and completes the login.  cbind: the connection's binding data (may
 * be NULL).
 */
enum sasl_server_next	sasl_server_scram_input(struct sasl_server *,
			    struct span msg, sasl_cbind_fn cbind, void *arg,
			    const char **why_out);
/* The AuthMessage and ClientProof, after ASK_PROOF. */
struct span		 sasl_server_auth_message(const struct sasl_server *);
const unsigned char	*sasl_server_proof(const struct sasl_server *);

/*
 * The key holder's answers, as challenge lines of prefix ("334 ", "+ ")
 * into line (SASL_CHALLENGE_LINE_MAX octets); the length, or 0 when the
 * exchange was not waiting for this answer or it is out of bounds (a
 * bug in the caller or its sibling: fatalx there).
 */
size_t	sasl_server_scram_challenge(struct sasl_server *,
	    const struct sasl_scram_challenge *, const char *prefix,
	    char *line);
size_t	sasl_server_scram_signature(struct sasl_server *,
	    const unsigned char *sig, const char *prefix, char *line);
/* Is the exchange waiting for the salt (or the proof) answer? */
bool	sasl_server_waiting_salt(const struct sasl_server *);
bool	sasl_server_waiting_proof(const struct sasl_server *);

#endif
