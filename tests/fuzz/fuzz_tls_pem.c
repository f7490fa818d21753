/*
 * libFuzzer target for the PEM that a certificate change reads
 * (tls_key_new_pem(), tls_server_new_remote_pem()): a chain and a key
 * from the files, or from an ACME server.  The input is the chain, a
 * NUL, and the key (no NUL: the whole input is both), each a heap copy
 * of exactly its length.  Checked: a pair that is taken keeps the chain
 * byte for byte, and a chain taken with its key also makes a server
 * context (both read it the same way).  Broken invariants call abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "tls.h"

/* NOLINTBEGIN(readability-non-const-parameter): tls_key_remote_fn's */
static ssize_t
fz_sign(void *arg, const uint8_t *spki, enum tls_key_op op, int padding,
    const unsigned char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	(void)arg;
	(void)spki;
	(void)op;
	(void)padding;
	(void)in;
	(void)inlen;
	(void)out;
	(void)outsz;
	return -1;
}
/* NOLINTEND(readability-non-const-parameter) */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_key	*k;
	struct tls_ctx	*t;
	const uint8_t	*nul;
	const char	*chain, *err;
	char		*c, *key;
	size_t		 clen, klen, len;

	if (size > 2 * TLS_PEM_MAX)
		return 0;
	nul = memchr(data, '\0', size);
	clen = nul != NULL ? (size_t)(nul - data) : size;
	klen = nul != NULL ? size - clen - 1 : size;
	c = malloc(clen + 1);
	key = malloc(klen + 1);
	if (c == NULL || key == NULL)
		abort();
	memcpy(c, data, clen);
	memcpy(key, nul != NULL ? nul + 1 : data, klen);
	k = tls_key_new_pem(c, clen, key, klen, &err);
	t = tls_server_new_remote_pem(c, clen, fz_sign, NULL, &err);
	if (k != NULL) {
		chain = tls_key_chain(k, &len);
		if (len != clen || memcmp(chain, c, len) != 0 || t == NULL)
			abort();
	}
	tls_key_free(k);
	tls_ctx_free(t);
	ERR_clear_error();
	free(c);
	free(key);
	return 0;
}
