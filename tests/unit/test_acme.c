/*
 * Unit tests for acme.c: base64url (RFC 4648 §5), the JWK thumbprint of
 * RFC 7638 §3.1's example, the JWS of a request verified with OpenSSL,
 * the parsing of the directory, order, authorization and error examples
 * of RFC 8555 (§7.1.1, §7.1.3, §7.1.4, §6.7) and of malformed ones, and
 * the renewal time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "acme.h"
#include "buf.h"
#include "sasl.h"

/* base64url text back to octets (test helper: via strict base64). */
static size_t
unb64url(const char *s, size_t len, unsigned char *out)
{
	char	tmp[4096];
	size_t	i, n;

	assert_true(len + 4 < sizeof(tmp));
	for (i = 0; i < len; i++)
		tmp[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (i % 4 != 0)
		tmp[i++] = '=';
	assert_int_equal(sasl_b64_decode(span_make(tmp, i), out, &n), 0);
	return n;
}

static void
b64url_alphabet_and_no_padding(void **state)
{
	struct buf	b;

	buf_init(&b, 64);
	assert_int_equal(acme_b64url("\xfb\xff", 2, &b), 0);
	assert_string_equal(b.data, "-_8");
	buf_reset(&b);
	assert_int_equal(acme_b64url("f", 1, &b), 0);
	assert_string_equal(b.data, "Zg");
	buf_reset(&b);
	assert_int_equal(acme_b64url("", 0, &b), 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* RFC 7638 §3.1: the RSA key's canonical JWK and its thumbprint. */
static void
thumbprint_rfc7638_example(void **state)
{
	static const char	jwk[] = "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\""
	    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAt"
	    "VT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn6"
	    "4tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FD"
	    "W2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9"
	    "1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINH"
	    "aQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\"}";
	char			out[ACME_THUMB_LEN + 1];

	acme_thumbprint(jwk, sizeof(jwk) - 1, out);
	assert_string_equal(out, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

static void
jwk_ec_is_canonical(void **state)
{
	uint8_t		x[32], y[32];
	struct buf	b;

	memset(x, 0, sizeof(x));
	memset(y, 0xff, sizeof(y));
	buf_init(&b, 512);
	assert_int_equal(acme_jwk_ec(x, y, &b), 0);
	assert_string_equal(b.data, "{\"crv\":\"P-256\",\"kty\":\"EC\","
	    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"y\":\"__________________________________________8\"}");
	buf_free(&b);
}

static void
token_bounds(void **state)
{
	char	t[ACME_TOKEN_MAX + 2];

	memset(t, 'A', sizeof(t));
	assert_true(acme_token_ok(t, ACME_TOKEN_MAX));
	assert_false(acme_token_ok(t, ACME_TOKEN_MAX + 1));
	assert_false(acme_token_ok(t, 0));
	assert_true(acme_token_ok("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr"
	    "-oA", 43));
	assert_false(acme_token_ok("../etc", 6));
	assert_false(acme_token_ok("a.b", 3));
	assert_false(acme_token_ok("a/b", 3));
	assert_false(acme_token_ok("a=", 2));
}

/* The protected header of a request, decoded. */
static json_t *
protected_of(const struct buf *input)
{
	unsigned char	raw[2048];
	const char	*dot = memchr(input->data, '.', input->len);
	size_t		 n;

	assert_non_null(dot);
	n = unb64url(input->data, (size_t)(dot - input->data), raw);
	return json_loadb((const char *)raw, n, 0, NULL);
}

static void
jws_header_kid_and_post_as_get(void **state)
{
	struct buf	 in;
	json_t		*h;

	buf_init(&in, ACME_JSON_MAX);
	assert_int_equal(acme_jws_input(NULL, "https://a.test/acct/1", "N0nce",
	    "https://a.test/order/7", NULL, &in), 0);
	/* §6.3: POST-as-GET signs an empty payload */
	assert_int_equal(in.data[in.len - 1], '.');
	assert_non_null(h = protected_of(&in));
	assert_string_equal(json_string_value(json_object_get(h, "alg")),
	    "ES256");
	assert_string_equal(json_string_value(json_object_get(h, "kid")),
	    "https://a.test/acct/1");
	assert_string_equal(json_string_value(json_object_get(h, "nonce")),
	    "N0nce");
	assert_string_equal(json_string_value(json_object_get(h, "url")),
	    "https://a.test/order/7");
	assert_null(json_object_get(h, "jwk"));
	json_decref(h);
	buf_free(&in);
}

/* A whole request signed with a fresh key verifies as ES256. */
static void
jws_signature_verifies(void **state)
{
	EVP_PKEY	*k;
	EVP_MD_CTX	*ctx;
	ECDSA_SIG	*es;
	BIGNUM		*bx = NULL, *by = NULL;
	struct buf	 jwk, in, body;
	json_t		*o, *h;
	unsigned char	 der[128], raw[ACME_SIG_LEN], *p;
	uint8_t		 x[32], y[32], sig[ACME_SIG_LEN];
	size_t		 len = sizeof(der), n;
	const char	*prot, *pay, *s;
	int		 dlen;

	assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	assert_int_equal(EVP_PKEY_get_bn_param(k, "qx", &bx), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(k, "qy", &by), 1);
	assert_int_equal(BN_bn2binpad(bx, x, 32), 32);
	assert_int_equal(BN_bn2binpad(by, y, 32), 32);
	buf_init(&jwk, 512);
	buf_init(&in, ACME_JSON_MAX);
	buf_init(&body, ACME_JSON_MAX);
	assert_int_equal(acme_jwk_ec(x, y, &jwk), 0);
	assert_int_equal(acme_jws_input(jwk.data, NULL, "abc",
	    "https://a.test/new-acct", "{\"termsOfServiceAgreed\":true}",
	    &in), 0);
	assert_non_null(h = protected_of(&in));
	assert_non_null(json_object_get(h, "jwk"));
	assert_null(json_object_get(h, "kid"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    h, "jwk"), "crv")), "P-256");
	json_decref(h);

	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k),
	    1);
	assert_int_equal(EVP_DigestSign(ctx, der, &len,
	    (unsigned char *)in.data, in.len), 1);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(acme_sig_raw(der, len, sig), 0);
	assert_int_equal(acme_jws_body(&in, sig, &body), 0);

	/* The body's three members, and the signature over them. */
	assert_non_null(o = json_loadb(body.data, body.len, 0, NULL));
	prot = json_string_value(json_object_get(o, "protected"));
	pay = json_string_value(json_object_get(o, "payload"));
	s = json_string_value(json_object_get(o, "signature"));
	assert_non_null(prot);
	assert_non_null(pay);
	assert_non_null(s);
	assert_int_equal(strlen(prot) + 1 + strlen(pay), in.len);
	assert_memory_equal(in.data, prot, strlen(prot));
	n = unb64url(s, strlen(s), raw);
	assert_int_equal(n, ACME_SIG_LEN);
	es = ECDSA_SIG_new();
	assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL),
	    BN_bin2bn(raw + 32, 32, NULL)), 1);
	p = der;
	dlen = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
	    k), 1);
	assert_int_equal(EVP_DigestVerify(ctx, der, (size_t)dlen,
	    (unsigned char *)in.data, in.len), 1);
	/* One bit changed in what was signed: it does not verify. */
	in.data[0] ^= 1;
	assert_int_not_equal(EVP_DigestVerify(ctx, der, (size_t)dlen,
	    (unsigned char *)in.data, in.len), 1);
	EVP_MD_CTX_free(ctx);
	json_decref(o);
	BN_free(bx);
	BN_free(by);
	EVP_PKEY_free(k);
	buf_free(&jwk);
	buf_free(&in);
	buf_free(&body);
}

/* A short r is left-padded; trailing bytes are refused. */
static void
sig_raw_pads_and_refuses_junk(void **state)
{
	/* SEQUENCE { INTEGER 1, INTEGER 0x0100 } */
	static const uint8_t	der[] = { 0x30, 0x07, 0x02, 0x01, 0x01,
	    0x02, 0x02, 0x01, 0x00 };
	static const uint8_t	junk[] = { 0x30, 0x07, 0x02, 0x01, 0x01,
	    0x02, 0x02, 0x01, 0x00, 0x00 };
	uint8_t			out[ACME_SIG_LEN];

	assert_int_equal(acme_sig_raw(der, sizeof(der), out), 0);
	assert_int_equal(out[31], 1);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[62], 1);
	assert_int_equal(out[63], 0);
	assert_int_equal(acme_sig_raw(junk, sizeof(junk), out), -1);
	assert_int_equal(acme_sig_raw(der, 3, out), -1);
}

/* RFC 8555 §7.1.1 */
static const char directory_example[] =
    "{\n"
    "  \"newNonce\": \"https://example.com/acme/new-nonce\",\n"
    "  \"newAccount\": \"https://example.com/acme/new-account\",\n"
    "  \"newOrder\": \"https://example.com/acme/new-order\",\n"
    "  \"newAuthz\": \"https://example.com/acme/new-authz\",\n"
    "  \"revokeCert\": \"https://example.com/acme/revoke-cert\",\n"
    "  \"keyChange\": \"https://example.com/acme/key-change\",\n"
    "  \"meta\": {\n"
    "    \"termsOfService\": \"https://example.com/acme/terms/2017-5-30\",\n"
    "    \"website\": \"https://www.example.com/\",\n"
    "    \"caaIdentities\": [\"example.com\"],\n"
    "    \"externalAccountRequired\": false\n"
    "  }\n"
    "}\n";

static void
directory_example_and_bad_ones(void **state)
{
	struct acme_directory	 d;
	const char		*err;
	static const char	*bad[] = {
		"{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\"}",
		"{\"newNonce\":\"http://a/n\",\"newAccount\":\"https://a/a\","
		    "\"newOrder\":\"https://a/o\"}",
		"{\"newNonce\":\"https://a/n\",\"newAccount\":\"https://a/a\","
		    "\"newOrder\":7}",
		"{\"newNonce\":\"https://a/n\",\"newNonce\":\"https://a/n\","
		    "\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\"}",
		"[\"https://a/n\"]",
		"{\"newNonce\":\"https://a/\\u0000n\",\"newAccount\":"
		    "\"https://a/a\",\"newOrder\":\"https://a/o\"}",
		"not json",
	};
	size_t			 i;

	assert_int_equal(acme_parse_directory(directory_example,
	    sizeof(directory_example) - 1, &d, &err), 0);
	assert_string_equal(d.new_nonce, "https://example.com/acme/new-nonce");
	assert_string_equal(d.new_account,
	    "https://example.com/acme/new-account");
	assert_string_equal(d.new_order, "https://example.com/acme/new-order");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(acme_parse_directory(bad[i], strlen(bad[i]),
		    &d, &err), -1);
}

/* RFC 8555 §7.1.3, with a finalize URL on example.com's https */
static const char order_example[] =
    "{\n"
    "  \"status\": \"valid\",\n"
    "  \"expires\": \"2016-01-20T14:09:07.99Z\",\n"
    "  \"identifiers\": [\n"
    "    { \"type\": \"dns\", \"value\": \"www.example.org\" },\n"
    "    { \"type\": \"dns\", \"value\": \"example.org\" }\n"
    "  ],\n"
    "  \"notBefore\": \"2016-01-01T00:00:00Z\",\n"
    "  \"notAfter\": \"2016-01-08T00:00:00Z\",\n"
    "  \"authorizations\": [\n"
    "    \"https://example.com/acme/authz/PAniVnsZcis\",\n"
    "    \"https://example.com/acme/authz/r4HqLzrSrpI\"\n"
    "  ],\n"
    "  \"finalize\": \"https://example.com/acme/order/TOlocE8rfgo/finalize\","
    "\n"
    "  \"certificate\": \"https://example.com/acme/cert/mAt3xBGaobw\"\n"
    "}\n";

static void
order_example_and_bad_ones(void **state)
{
	struct acme_order	 o;
	const char		*err;
	struct buf		 big;
	size_t			 i;

	assert_int_equal(acme_parse_order(order_example,
	    sizeof(order_example) - 1, &o, &err), 0);
	assert_int_equal(o.status, ACME_S_VALID);
	assert_int_equal(o.nauthz, 2);
	assert_string_equal(o.authz[1],
	    "https://example.com/acme/authz/r4HqLzrSrpI");
	assert_string_equal(o.finalize,
	    "https://example.com/acme/order/TOlocE8rfgo/finalize");
	assert_string_equal(o.certificate,
	    "https://example.com/acme/cert/mAt3xBGaobw");
	assert_string_equal(o.error, "");

	/* An invalid order carries its error (§7.1.3) */
	static const char	inv[] = "{\"status\":\"invalid\",\"authorizations\""
	    ":[\"https://a/z\"],\"finalize\":\"https://a/f\",\"error\":{\"type\""
	    ":\"urn:ietf:params:acme:error:unauthorized\",\"detail\":\"no\"}}";
	assert_int_equal(acme_parse_order(inv, sizeof(inv) - 1, &o, &err), 0);
	assert_int_equal(o.status, ACME_S_INVALID);
	assert_string_equal(o.error, "unauthorized: no");

	/* No status we know, no authorizations, too many of them */
	static const char	nost[] = "{\"status\":\"odd\",\"authorizations\":"
	    "[\"https://a/z\"],\"finalize\":\"https://a/f\"}";
	static const char	noaz[] = "{\"status\":\"pending\",\"authorizations"
	    "\":[],\"finalize\":\"https://a/f\"}";
	assert_int_equal(acme_parse_order(nost, sizeof(nost) - 1, &o, &err),
	    -1);
	assert_int_equal(acme_parse_order(noaz, sizeof(noaz) - 1, &o, &err),
	    -1);
	buf_init(&big, ACME_JSON_MAX);
	assert_int_equal(buf_append_str(&big, "{\"status\":\"pending\","
	    "\"finalize\":\"https://a/f\",\"authorizations\":["), 0);
	for (i = 0; i <= ACME_AUTHZ_MAX; i++)
		assert_int_equal(buf_printf(&big, "%s\"https://a/%zu\"",
		    i > 0 ? "," : "", i), 0);
	assert_int_equal(buf_append_str(&big, "]}"), 0);
	assert_int_equal(acme_parse_order(big.data, big.len, &o, &err), -1);
	buf_free(&big);
}

/* RFC 8555 §7.1.4 (URLs made https) */
static const char authz_example[] =
    "{\n"
    "  \"status\": \"pending\",\n"
    "  \"expires\": \"2015-03-01T14:09:07.99Z\",\n"
    "  \"identifier\": { \"type\": \"dns\", \"value\": \"www.example.org\" "
    "},\n"
    "  \"challenges\": [\n"
    "    {\n"
    "      \"url\": \"https://example.com/acme/chall/prV_B7yEyA4\",\n"
    "      \"type\": \"http-01\",\n"
    "      \"status\": \"pending\",\n"
    "      \"token\": \"DGyRejmCefe7v4NfDGDKfA\"\n"
    "    },\n"
    "    {\n"
    "      \"url\": \"https://example.com/acme/chall/Rg5dV14Gh1Q\",\n"
    "      \"type\": \"dns-01\",\n"
    "      \"status\": \"pending\",\n"
    "      \"token\": \"DGyRejmCefe7v4NfDGDKfA\"\n"
    "    }\n"
    "  ]\n"
    "}\n";

static void
authz_example_and_bad_ones(void **state)
{
	struct acme_authz	 a;
	const char		*err;

	assert_int_equal(acme_parse_authz(authz_example,
	    sizeof(authz_example) - 1, &a, &err), 0);
	assert_int_equal(a.status, ACME_S_PENDING);
	assert_string_equal(a.name, "www.example.org");
	assert_true(a.has_http01);
	assert_int_equal(a.chall_status, ACME_S_PENDING);
	assert_string_equal(a.chall_url,
	    "https://example.com/acme/chall/prV_B7yEyA4");
	assert_string_equal(a.token, "DGyRejmCefe7v4NfDGDKfA");

	/* No http-01 offered: parsed, and said so */
	static const char	dnsonly[] = "{\"status\":\"pending\",\"identifier"
	    "\":{\"type\":\"dns\",\"value\":\"a.example\"},\"challenges\":[{"
	    "\"type\":\"dns-01\",\"url\":\"https://a/c\",\"status\":\"pending\","
	    "\"token\":\"x\"}]}";
	assert_int_equal(acme_parse_authz(dnsonly, sizeof(dnsonly) - 1, &a,
	    &err), 0);
	assert_false(a.has_http01);

	/* A token that could walk a path, or is too long: refused */
	static const char	badtok[] = "{\"status\":\"pending\",\"identifier\""
	    ":{\"type\":\"dns\",\"value\":\"a.example\"},\"challenges\":[{"
	    "\"type\":\"http-01\",\"url\":\"https://a/c\",\"status\":\"pending\""
	    ",\"token\":\"../../x\"}]}";
	assert_int_equal(acme_parse_authz(badtok, sizeof(badtok) - 1, &a,
	    &err), -1);
	static const char	longtok[] = "{\"status\":\"pending\",\"identifier"
	    "\":{\"type\":\"dns\",\"value\":\"a.example\"},\"challenges\":[{"
	    "\"type\":\"http-01\",\"url\":\"https://a/c\",\"status\":\"pending\""
	    ",\"token\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAA\"}]}";
	assert_int_equal(acme_parse_authz(longtok, sizeof(longtok) - 1, &a,
	    &err), -1);
	/* An identifier that is not a DNS name */
	static const char	ip[] = "{\"status\":\"pending\",\"identifier\":{"
	    "\"type\":\"ip\",\"value\":\"192.0.2.1\"},\"challenges\":[]}";
	assert_int_equal(acme_parse_authz(ip, sizeof(ip) - 1, &a, &err), -1);

	/* An invalid challenge's error comes with it */
	static const char	inv[] = "{\"status\":\"invalid\",\"identifier\":{"
	    "\"type\":\"dns\",\"value\":\"a.example\"},\"challenges\":[{\"type"
	    "\":\"http-01\",\"url\":\"https://a/c\",\"status\":\"invalid\","
	    "\"token\":\"t\",\"error\":{\"type\":\"urn:ietf:params:acme:error:"
	    "connection\",\"detail\":\"refused\"}}]}";
	assert_int_equal(acme_parse_authz(inv, sizeof(inv) - 1, &a, &err), 0);
	assert_int_equal(a.status, ACME_S_INVALID);
	assert_string_equal(a.error, "connection: refused");
}

/* RFC 8555 §6.7 and §6.5 */
static void
problem_documents(void **state)
{
	static const char	p[] = "{\"type\": \"urn:ietf:params:acme:error:"
	    "malformed\", \"detail\": \"Some of the identifiers requested were "
	    "rejected\"}";
	static const char	bn[] = "{\"type\":\"urn:ietf:params:acme:error:"
	    "badNonce\",\"detail\":\"JWS has an invalid anti-replay nonce\"}";
	char			out[ACME_DETAIL_MAX];

	acme_problem(p, sizeof(p) - 1, out, sizeof(out));
	assert_string_equal(out, "malformed: Some of the identifiers "
	    "requested were rejected");
	assert_false(acme_problem_bad_nonce(p, sizeof(p) - 1));
	assert_true(acme_problem_bad_nonce(bn, sizeof(bn) - 1));
	/* Not JSON: the text itself, made printable */
	acme_problem("oops\x01", 5, out, sizeof(out));
	assert_non_null(strstr(out, "oops"));
	assert_null(strchr(out, '\x01'));
}

static void
renewal_time(void **state)
{
	int64_t	day = 86400;

	/* 90 days: 30 days before the end is two thirds too */
	assert_int_equal(acme_renew_at(0, 90 * day), 60 * day);
	/* a year: 30 days before the end */
	assert_int_equal(acme_renew_at(0, 365 * day), 335 * day);
	/* pebble's short life: two thirds */
	assert_int_equal(acme_renew_at(1000, 1045), 1030);
	/* nonsense: at once */
	assert_int_equal(acme_renew_at(1000, 900), 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64url_alphabet_and_no_padding),
		cmocka_unit_test(thumbprint_rfc7638_example),
		cmocka_unit_test(jwk_ec_is_canonical),
		cmocka_unit_test(token_bounds),
		cmocka_unit_test(jws_header_kid_and_post_as_get),
		cmocka_unit_test(jws_signature_verifies),
		cmocka_unit_test(sig_raw_pads_and_refuses_junk),
		cmocka_unit_test(directory_example_and_bad_ones),
		cmocka_unit_test(order_example_and_bad_ones),
		cmocka_unit_test(authz_example_and_bad_ones),
		cmocka_unit_test(problem_documents),
		cmocka_unit_test(renewal_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
