/*
 * The client's side of SCRAM-SHA-256 for the unit tests, written from
 * RFC 5802 §3 on OpenSSL directly (not with sasl.c's key functions), so
 * that the server side is checked against an independent computation.
 * Include after <cmocka.h> and "sasl.h" (for base64 only).
 */
#ifndef CACHET_SCRAM_CLIENT_H
#define CACHET_SCRAM_CLIENT_H

#include <stdio.h>
#include <stdlib.h>
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

/* base64 of n octets, into a static buffer (sasl.h must be included). */
static inline const char *
scram_b64(const void *p, size_t n)
{
	static char	out[4096];

	assert_true(SASL_B64_LEN(n) < sizeof(out));
	sasl_b64_encode(p, n, out);
	return out;
}

/*
 * The client-final-message answering server_first (whose salt and
 * count it reads) after client-first gs2 and bare, with the binding data
 * cb the client saw, into final; want_sig gets the ServerSignature the
 * server must send.
 */
static inline void
scram_client_final(const char *gs2, const unsigned char *cb, size_t cblen,
    const char *bare, const char *server_first, const char *pass,
    char *final, size_t finalsz, unsigned char want_sig[32])
{
	unsigned char	 gs2cb[256], salt[128], proof[32];
	char		 cbind[512], nonce[512], am[2048];
	const char	*r, *sp, *ip;
	size_t		 saltlen, n;

	r = server_first + 2;
	sp = strstr(server_first, ",s=");
	ip = strstr(server_first, ",i=");
	assert_true(strncmp(server_first, "r=", 2) == 0 && sp != NULL &&
	    ip != NULL && ip > sp);
	n = (size_t)(sp - r);
	assert_true(n < sizeof(nonce));
	memcpy(nonce, r, n);
	nonce[n] = '\0';
	assert_int_equal(sasl_b64_decode(span_make(sp + 3,
	    (size_t)(ip - sp - 3)), salt, &saltlen), 0);
	n = strlen(gs2);
	assert_true(n + cblen <= sizeof(gs2cb));
	memcpy(gs2cb, gs2, n);
	if (cblen > 0)
		memcpy(gs2cb + n, cb, cblen);
	snprintf(cbind, sizeof(cbind), "%s", scram_b64(gs2cb, n + cblen));
	snprintf(am, sizeof(am), "%s,%s,c=%s,r=%s", bare, server_first, cbind,
	    nonce);
	scram_client_compute(pass, salt, saltlen, (int)strtol(ip + 3, NULL, 10), am, proof,
	    want_sig);
	snprintf(final, finalsz, "c=%s,r=%s,p=%s", cbind, nonce,
	    scram_b64(proof, 32));
}

#endif
