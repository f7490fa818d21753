/*
 * The client's side of SCRAM-SHA-256 for the unit tests, written from
 * RFC 5802 §3 on OpenSSL directly (not with sasl.c's key functions), so
 * that the server side is checked against an independent computation.
 * Include after <cmocka.h>.
 */
#ifndef CACHET_SCRAM_CLIENT_H
#define CACHET_SCRAM_CLIENT_H

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/*
 * ClientProof for password over authmsg, and the ServerSignature the
 * client must then see (RFC 5802 §3).
 */
static inline void
scram_client_compute(const char *pass, const unsigned char *salt,
    size_t saltlen, int iter, const char *authmsg, unsigned char proof[32],
    unsigned char expect_sig[32])
{
	unsigned char	salted[32], ckey[32], stored[32], csig[32], skey[32];
	unsigned int	n;
	size_t		i;

	assert_int_equal(PKCS5_PBKDF2_HMAC(pass, (int)strlen(pass), salt,
	    (int)saltlen, iter, EVP_sha256(), 32, salted), 1);
	assert_non_null(HMAC(EVP_sha256(), salted, 32,
	    (const unsigned char *)"Client Key", 10, ckey, &n));
	SHA256(ckey, 32, stored);
	assert_non_null(HMAC(EVP_sha256(), stored, 32,
	    (const unsigned char *)authmsg, strlen(authmsg), csig, &n));
	for (i = 0; i < 32; i++)
		proof[i] = ckey[i] ^ csig[i];
	assert_non_null(HMAC(EVP_sha256(), salted, 32,
	    (const unsigned char *)"Server Key", 10, skey, &n));
	assert_non_null(HMAC(EVP_sha256(), skey, 32,
	    (const unsigned char *)authmsg, strlen(authmsg), expect_sig, &n));
}

#endif
