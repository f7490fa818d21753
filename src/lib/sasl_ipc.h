/*
 * sasl_ipc: what the roles that serve clients (smtp, pop3, imap) share to
 * run SCRAM with lookup, the keys' holder: the two requests and the
 * reading of their answers (layouts in ipc.h), and our part of the
 * nonce.  The network role never sees StoredKey or ServerKey: it sends
 * the AuthMessage and the ClientProof and gets the ServerSignature back.
 */
#ifndef CACHET_SASL_IPC_H
#define CACHET_SASL_IPC_H

#include <stdint.h>

#include "buf.h"
#include "ipc.h"
#include "sasl.h"

/* MSG_LOOKUP_SCRAM_SALT for user. */
struct msg	*sasl_ipc_salt_request(uint64_t reqid, const char *user);
/* MSG_LOOKUP_SCRAM_PROOF: the client's ip, user, AuthMessage and proof. */
struct msg	*sasl_ipc_proof_request(uint64_t reqid, const char *ip,
		    const char *user, struct span auth_message,
		    const unsigned char *proof);

/*
 * Read MSG_LOOKUP_SCRAM_SALT_RESULT after its reqid: *status_out 0 ok or
 * 2 tempfail; on ok ch holds the salt and count, checked against sasl.h's
 * bounds, and a fresh random nonce part of ours.  -1: a malformed
 * answer (the caller's fatalx).
 */
int	sasl_ipc_salt_answer(struct msg *, uint32_t *status_out,
	    struct sasl_scram_challenge *ch);
/*
 * Read MSG_LOOKUP_SCRAM_PROOF_RESULT after its reqid: *status_out 0 ok,
 * 1 fail, 2 tempfail; on ok sig_out (SASL_SCRAM_HASH_LEN octets) is the
 * ServerSignature.  -1: malformed.
 */
int	sasl_ipc_proof_answer(struct msg *, uint32_t *status_out,
	    unsigned char *sig_out);

#endif
