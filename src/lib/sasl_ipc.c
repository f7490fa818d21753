/*
 * sasl_ipc: the SCRAM requests of the network roles to lookup and the
 * checks of lookup's answers (a sibling we trust for content, not for
 * sizes: anything out of bounds is reported as malformed).
 */
#include <string.h>

#include <openssl/rand.h>

#include "log.h"
#include "sasl_ipc.h"

/* Our part of the nonce: 18 random octets, 24 base64 characters. */
#define SASL_IPC_SNONCE_RAW	18

struct msg *
sasl_ipc_salt_request(uint64_t reqid, const char *user)
{
	struct msg	*m;

	m = msg_new(MSG_LOOKUP_SCRAM_SALT);
	msg_put_u64(m, reqid);
	msg_put_str(m, user);
	return m;
}

struct msg *
sasl_ipc_proof_request(uint64_t reqid, const char *ip, const char *user,
    struct span auth_message, const unsigned char *proof)
{
	struct msg	*m;

	m = msg_new(MSG_LOOKUP_SCRAM_PROOF);
	msg_put_u64(m, reqid);
	msg_put_str(m, ip);
	msg_put_str(m, user);
	msg_put_data(m, auth_message.ptr, auth_message.len);
	msg_put_data(m, proof, SASL_SCRAM_HASH_LEN);
	return m;
}

int
sasl_ipc_salt_answer(struct msg *m, uint32_t *status_out,
    struct sasl_scram_challenge *ch)
{
	unsigned char	r[SASL_IPC_SNONCE_RAW];
	struct span	salt;

	memset(ch, 0, sizeof(*ch));
	if (msg_get_u32(m, status_out) == -1 ||
	    msg_get_span(m, &salt) == -1 ||
	    msg_get_u32(m, &ch->iterations) == -1 || msg_end(m) == -1 ||
	    (*status_out != 0 && *status_out != 2))
		return -1;
	if (*status_out != 0)
		return 0;
	if (salt.len < SASL_SCRAM_SALT_MIN || salt.len > SASL_SCRAM_SALT_MAX ||
	    ch->iterations < SASL_SCRAM_ITER_MIN ||
	    ch->iterations > SASL_SCRAM_ITER_MAX)
		return -1;
	memcpy(ch->salt, salt.ptr, salt.len);
	ch->saltlen = salt.len;
	/* RFC 5802 §5.1: a nonce the client cannot predict. */
	if (RAND_bytes(r, sizeof(r)) != 1)
		fatalx("sasl_ipc: RAND_bytes");
	_Static_assert(SASL_B64_LEN(SASL_IPC_SNONCE_RAW) <=
	    SASL_SCRAM_SNONCE_MAX, "nonce too long");
	(void)sasl_b64_encode(r, sizeof(r), ch->snonce);
	return 0;
}

int
sasl_ipc_proof_answer(struct msg *m, uint32_t *status_out,
    unsigned char *sig_out)
{
	struct span	sig;

	if (msg_get_u32(m, status_out) == -1 || msg_get_span(m, &sig) == -1 ||
	    msg_end(m) == -1 || *status_out > 2 ||
	    sig.len != (*status_out == 0 ? SASL_SCRAM_HASH_LEN : 0))
		return -1;
	if (*status_out == 0)
		memcpy(sig_out, sig.ptr, SASL_SCRAM_HASH_LEN);
	return 0;
}
