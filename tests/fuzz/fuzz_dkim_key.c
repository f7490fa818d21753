/*
 * libFuzzer target for the DKIM key record parser of dkim.c (RFC 6376
 * §3.6.1, RFC 8463 §4.2).  Broken invariants call abort(): a key that
 * parses is revoked or carries a public key of its k= type.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "buf.h"
#include "dkim.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_key	 k;
	const char	*err = NULL;
	int		 id;

	if (dkim_key_parse(span_make((const char *)data, size), &k,
	    &err) == -1) {
		if (err == NULL)
			abort();
		return 0;
	}
	if (k.revoked != (k.pkey == NULL))
		abort();
	if (k.pkey != NULL) {
		id = EVP_PKEY_get_base_id(k.pkey);
		if ((k.type == DKIM_KEY_RSA && id != EVP_PKEY_RSA) ||
		    (k.type == DKIM_KEY_ED25519 && id != EVP_PKEY_ED25519))
			abort();
	}
	dkim_key_clear(&k);
	return 0;
}
