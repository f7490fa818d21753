/*
 * sasl_server: the server-side steps of SASL exchanges shared by the
 * protocol sessions (contract in sasl_server.h).  Runs in the network
 * roles (smtp, pop3, imap); trusts nothing in the client's messages,
 * which sasl.c bounds and checks, and holds no key.
 */
#include <stdlib.h>
#include <string.h>

#include "sasl_server.h"
#include "util.h"

enum sasl_server_resp
sasl_server_decode(struct span resp, unsigned char **out_out,
    size_t *len_out)
{
	unsigned char	*dec;
	size_t		 cap;

	/* RFC 4422 §3.5: "*" cancels the exchange */
	if (span_eq(resp, "*"))
		return SASL_SERVER_RESP_CANCEL;
	/* RFC 4954 §4, RFC 5034 §4, RFC 4959 §3: "=" is empty */
	if (span_eq(resp, "="))
		resp.len = 0;
	cap = resp.len / 4 * 3 + 1;
	dec = xmalloc(cap);
	if (sasl_b64_decode(resp, dec, len_out) == -1) {
		sasl_server_resp_free(dec, cap - 1);
		return SASL_SERVER_RESP_BAD;
	}
	dec[*len_out] = '\0';
	*out_out = dec;
	return SASL_SERVER_RESP_DATA;
}

void
sasl_server_resp_free(unsigned char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len + 1);	/* with its NUL */
	free(p);
}

void
sasl_server_scram_begin(struct sasl_server *x, bool plus, bool cb_offered)
{
	sasl_server_end(x);
	x->scram = sasl_scram_new(plus, cb_offered);
	x->step = SASL_SERVER_SCRAM_FIRST;
}

void
sasl_server_end(struct sasl_server *x)
{
	sasl_scram_free(x->scram);
	x->scram = NULL;
	free(x->user);
	x->user = NULL;
	x->step = SASL_SERVER_IDLE;
}

const char *
sasl_server_user(const struct sasl_server *x)
{
	return x->user;
}

enum sasl_server_next
sasl_server_scram_input(struct sasl_server *x, struct span msg,
    sasl_cbind_fn cbind, void *arg, const char **why_out)
{
	enum sasl_scram_rc	rc;

	*why_out = "";
	switch (x->step) {
	case SASL_SERVER_SCRAM_FIRST:
		rc = sasl_scram_start(x->scram, msg.ptr, msg.len, cbind, arg,
		    why_out);
		if (rc != SASL_SCRAM_OK)
			break;
		free(x->user);
		x->user = xstrdup(sasl_scram_user(x->scram));
		x->step = SASL_SERVER_SCRAM_SALT;
		return SASL_SERVER_ASK_SALT;
	case SASL_SERVER_SCRAM_FINAL:
		rc = sasl_scram_client_final(x->scram, msg.ptr, msg.len,
		    why_out);
		if (rc != SASL_SCRAM_OK)
			break;
		x->step = SASL_SERVER_SCRAM_PROOF;
		return SASL_SERVER_ASK_PROOF;
	case SASL_SERVER_SCRAM_DONE:
		/*
		 * The client checked our ServerSignature and answers with
		 * nothing (RFC 4422 §3.6: data with success goes in a
		 * challenge where the protocol has no other place for it).
		 */
		if (msg.len != 0)
			return SASL_SERVER_FAILED;
		return SASL_SERVER_LOGGED_IN;
	default:
		*why_out = "no exchange";
		return SASL_SERVER_REFUSED;
	}
	return rc == SASL_SCRAM_MALFORMED ? SASL_SERVER_MALFORMED :
	    SASL_SERVER_REFUSED;
}

struct span
sasl_server_auth_message(const struct sasl_server *x)
{
	return sasl_scram_auth_message(x->scram);
}

const unsigned char *
sasl_server_proof(const struct sasl_server *x)
{
	return sasl_scram_proof(x->scram);
}

size_t
sasl_server_scram_challenge(struct sasl_server *x,
    const struct sasl_scram_challenge *ch, const char *prefix, char *line)
{
	struct span	msg;

	if (x->step != SASL_SERVER_SCRAM_SALT ||
	    sasl_scram_server_first(x->scram, ch, &msg) == -1)
		return 0;
	x->step = SASL_SERVER_SCRAM_FINAL;
	return sasl_challenge_line(prefix, msg, line);
}

size_t
sasl_server_scram_signature(struct sasl_server *x, const unsigned char *sig,
    const char *prefix, char *line)
{
	if (x->step != SASL_SERVER_SCRAM_PROOF)
		return 0;
	/* RFC 5802 §3: our proof that we know the keys too. */
	x->step = SASL_SERVER_SCRAM_DONE;
	return sasl_challenge_line(prefix, sasl_scram_server_final(x->scram,
	    sig), line);
}

bool
sasl_server_waiting_salt(const struct sasl_server *x)
{
	return x->step == SASL_SERVER_SCRAM_SALT;
}

bool
sasl_server_waiting_proof(const struct sasl_server *x)
{
	return x->step == SASL_SERVER_SCRAM_PROOF;
}
