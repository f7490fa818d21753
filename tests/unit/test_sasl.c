/*
 * Unit tests for sasl: strict base64, the PLAIN message, and SCRAM-SHA-256
 * with the RFC 7677 §3 example run through both sides (the client side is
 * written here from RFC 5802 §3 on OpenSSL directly, not with sasl.c's
 * key functions) and every class of malformed message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sasl.h"
#include "scram_client.h"

static int
dec(const char *in, char *out, size_t *n)
{
	return sasl_b64_decode(span_str(in), (unsigned char *)out, n);
}

static void
test_b64_valid(void **state)
{
	char	out[64];
	size_t	n;

	assert_int_equal(dec("", out, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dec("Zm9v", out, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(dec("Zm8=", out, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "fo", 2);
	assert_int_equal(dec("Zg==", out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(dec("AGFsaWNlAHNlY3JldA==", out, &n), 0);
	assert_int_equal(n, 13);
	assert_memory_equal(out, "\0alice\0secret", 13);
}

static void
test_b64_strict(void **state)
{
	const char	*bad[] = {
		"Zm9", "Zm9vY", "Zm=v", "Z===", "=Zm9", "Zm9v====", "Zm 9v",
		"Zm9v\n", "Zh==",	/* dropped bits not zero */
		"Zm9=",			/* dropped bits not zero */
		"Zm8=Zm8=",		/* padding in the middle */
		"Zm9v!A==",
	};
	char		out[64];
	size_t		i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dec(bad[i], out, &n), -1);
	/* a NUL in the middle of the input is refused, not a terminator */
	assert_int_equal(sasl_b64_decode(span_make("Zm\0v", 4),
	    (unsigned char *)out, &n), -1);
}

static void
test_plain(void **state)
{
	struct span	u, p;

	assert_int_equal(sasl_plain_parse("\0alice\0pw", 9, &u, &p),
	    SASL_PLAIN_OK);
	assert_true(span_eq(u, "alice") && span_eq(p, "pw"));
	assert_int_equal(sasl_plain_parse("alice\0alice\0pw", 14, &u, &p),
	    SASL_PLAIN_OK);
	assert_int_equal(sasl_plain_parse("bob\0alice\0pw", 12, &u, &p),
	    SASL_PLAIN_AUTHZID);
	assert_int_equal(sasl_plain_parse("alice", 5, &u, &p),
	    SASL_PLAIN_MALFORMED);
	assert_int_equal(sasl_plain_parse("\0alice", 6, &u, &p),
	    SASL_PLAIN_MALFORMED);
	assert_int_equal(sasl_plain_parse("\0\0pw", 4, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* empty user */
	assert_int_equal(sasl_plain_parse("\0alice\0", 7, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* empty password */
	assert_int_equal(sasl_plain_parse("\0alice\0p\0w", 10, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* NUL in password */
	assert_int_equal(sasl_plain_parse("\0al\x01ice\0pw", 10, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* control in user */
	assert_int_equal(sasl_plain_parse("\0al\xffice\0pw", 10, &u, &p),
	    SASL_PLAIN_MALFORMED);		/* not UTF-8 */
}

static void
test_field_limits(void **state)
{
	char	buf[300];

	memset(buf, 'a', sizeof(buf));
	assert_true(sasl_user_valid(span_make(buf, SASL_FIELD_MAX)));
	assert_false(sasl_user_valid(span_make(buf, SASL_FIELD_MAX + 1)));
	assert_true(sasl_pass_valid(span_make(buf, SASL_FIELD_MAX)));
	assert_false(sasl_pass_valid(span_make(buf, SASL_FIELD_MAX + 1)));
	assert_false(sasl_user_valid(span_make(buf, 0)));
	assert_false(sasl_pass_valid(span_make(buf, 0)));
}

static void
test_b64_encode(void **state)
{
	static const struct {
		const char	*in, *out;
	} v[] = {	/* RFC 4648 §10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char		out[64], back[64];
	size_t		i, n, m;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = sasl_b64_encode((const unsigned char *)v[i].in,
		    strlen(v[i].in), out);
		assert_int_equal(n, strlen(v[i].out));
		assert_string_equal(out, v[i].out);
		assert_int_equal(n, SASL_B64_LEN(strlen(v[i].in)));
		assert_int_equal(sasl_b64_decode(span_make(out, n),
		    (unsigned char *)back, &m), 0);
		assert_int_equal(m, strlen(v[i].in));
		assert_memory_equal(back, v[i].in, m);
	}
}

/* --- SCRAM --- */

/* RFC 7677 §3, user "user", password "pencil" */
#define R_USER		"user"
#define R_PASS		"pencil"
#define R_CNONCE	"rOprNGfwEbeRWgbNEkqO"
#define R_SNONCE	"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define R_SALT_B64	"W22ZaJ0SNY7soEsUEjb6gQ=="
#define R_ITER		4096
#define R_CFIRST	"n,,n=user,r=" R_CNONCE
#define R_SFIRST	"r=" R_CNONCE R_SNONCE ",s=" R_SALT_B64 ",i=4096"
#define R_CFINAL_NP	"c=biws,r=" R_CNONCE R_SNONCE
#define R_PROOF_B64	"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define R_CFINAL	R_CFINAL_NP ",p=" R_PROOF_B64
#define R_SFINAL	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void
b64dec(const char *in, unsigned char *out, size_t *n)
{
	assert_int_equal(sasl_b64_decode(span_str(in), out, n), 0);
}

static void
rfc_challenge(struct sasl_scram_challenge *ch)
{
	memset(ch, 0, sizeof(*ch));
	b64dec(R_SALT_B64, ch->salt, &ch->saltlen);
	ch->iterations = R_ITER;
	strcpy(ch->snonce, R_SNONCE);
}

/* The client side alone reproduces the RFC's proof and signature. */
static void
test_scram_rfc7677_client(void **state)
{
	unsigned char	salt[32], proof[32], sig[32], want[64];
	char		b64[64];
	size_t		saltlen, n;

	b64dec(R_SALT_B64, salt, &saltlen);
	scram_client_compute(R_PASS, salt, saltlen, R_ITER,
	    "n=user,r=" R_CNONCE "," R_SFIRST "," R_CFINAL_NP, proof, sig);
	sasl_b64_encode(proof, 32, b64);
	assert_string_equal(b64, R_PROOF_B64);
	b64dec(&R_SFINAL[2], want, &n);
	assert_int_equal(n, 32);
	assert_memory_equal(sig, want, 32);
}

/* The server side: sasl.c's messages and key functions, RFC values. */
static void
test_scram_rfc7677_server(void **state)
{
	struct sasl_scram		*sc;
	struct sasl_scram_challenge	 ch;
	unsigned char			 stored[32], server[32], sig[32];
	struct span			 out, am;

	sc = sasl_scram_new(false, false);
	assert_int_equal(sasl_scram_client_first(sc, R_CFIRST,
	    strlen(R_CFIRST), NULL), SASL_SCRAM_OK);
	assert_string_equal(sasl_scram_user(sc), R_USER);
	assert_int_equal(sasl_scram_cb(sc), SASL_CB_NONE);
	rfc_challenge(&ch);
	assert_int_equal(sasl_scram_server_first(sc, &ch, &out), 0);
	assert_int_equal(out.len, strlen(R_SFIRST));
	assert_memory_equal(out.ptr, R_SFIRST, out.len);
	assert_int_equal(sasl_scram_client_final(sc, R_CFINAL,
	    strlen(R_CFINAL), NULL), SASL_SCRAM_OK);
	am = sasl_scram_auth_message(sc);
	assert_true(span_eq(am, "n=user,r=" R_CNONCE "," R_SFIRST ","
	    R_CFINAL_NP));

	/* the key holder: keys from the password, then the proof */
	assert_int_equal(sasl_scram_derive(R_PASS, strlen(R_PASS), ch.salt,
	    ch.saltlen, R_ITER, stored, server), 0);
	assert_true(sasl_scram_verify(stored, server, am.ptr, am.len,
	    sasl_scram_proof(sc), sig));
	out = sasl_scram_server_final(sc, sig);
	assert_true(span_eq(out, R_SFINAL));
	sasl_scram_free(sc);

	/* a wrong password's keys refuse the same proof */
	sc = sasl_scram_new(false, false);
	assert_int_equal(sasl_scram_client_first(sc, R_CFIRST,
	    strlen(R_CFIRST), NULL), SASL_SCRAM_OK);
	assert_int_equal(sasl_scram_server_first(sc, &ch, &out), 0);
	assert_int_equal(sasl_scram_client_final(sc, R_CFINAL,
	    strlen(R_CFINAL), NULL), SASL_SCRAM_OK);
	am = sasl_scram_auth_message(sc);
	assert_int_equal(sasl_scram_derive("pencil2", 7, ch.salt, ch.saltlen,
	    R_ITER, stored, server), 0);
	assert_false(sasl_scram_verify(stored, server, am.ptr, am.len,
	    sasl_scram_proof(sc), sig));
	sasl_scram_free(sc);
}

/*
 * Both sides with channel binding: the client's c= carries the GS2
 * header and the binding data, and a client that saw other data (a
 * man in the middle's TLS session) is refused.
 */
static void
scram_plus_run(const unsigned char *cb_client, enum sasl_scram_rc want)
{
	static const unsigned char	 cb[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct sasl_scram		*sc;
	struct sasl_scram_challenge	 ch;
	unsigned char			 stored[32], server[32], sig[32];
	unsigned char			 expect[32];
	char				 first[128], sf[256], final[512];
	struct span			 out;
	const char			*gs2 = "p=tls-exporter,,";

	snprintf(first, sizeof(first), "%sn=user,r=abcdef", gs2);
	sc = sasl_scram_new(true, true);
	assert_int_equal(sasl_scram_client_first(sc, first, strlen(first),
	    NULL), SASL_SCRAM_OK);
	assert_int_equal(sasl_scram_cb(sc), SASL_CB_TLS_EXPORTER);
	sasl_scram_set_cb_data(sc, cb, sizeof(cb));
	rfc_challenge(&ch);
	strcpy(ch.snonce, "XYZ");
	assert_int_equal(sasl_scram_server_first(sc, &ch, &out), 0);
	snprintf(sf, sizeof(sf), "%.*s", (int)out.len, out.ptr);
	scram_client_final(gs2, cb_client, 32, first + strlen(gs2), sf,
	    R_PASS, final, sizeof(final), expect);
	assert_int_equal(sasl_scram_client_final(sc, final, strlen(final),
	    NULL), want);
	if (want == SASL_SCRAM_OK) {
		assert_int_equal(sasl_scram_derive(R_PASS, strlen(R_PASS),
		    ch.salt, ch.saltlen, R_ITER, stored, server), 0);
		out = sasl_scram_auth_message(sc);
		assert_true(sasl_scram_verify(stored, server, out.ptr,
		    out.len, sasl_scram_proof(sc), sig));
		assert_memory_equal(sig, expect, 32);
	}
	sasl_scram_free(sc);
}

static void
test_scram_plus(void **state)
{
	static const unsigned char	cb[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const unsigned char	other[32] = { 9, 9, 9 };

	scram_plus_run(cb, SASL_SCRAM_OK);
	scram_plus_run(other, SASL_SCRAM_REFUSED);
}

struct first_case {
	const char		*msg;
	bool			 plus, offered;
	enum sasl_scram_rc	 want;
};

static void
test_scram_client_first_classes(void **state)
{
	static const struct first_case	c[] = {
		{ "", false, false, SASL_SCRAM_MALFORMED },
		{ "n", false, false, SASL_SCRAM_MALFORMED },
		{ "x,,n=user,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "N,,n=user,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,n=user,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,r=abc,n=user", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=us=2Xer,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=us=2c,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user=2,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user=,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=us\x01" "er,r=abc", false, false,
		    SASL_SCRAM_MALFORMED },		/* a control */
		{ "n,,n=us\xff" "er,r=abc", false, false,
		    SASL_SCRAM_MALFORMED },		/* not UTF-8 */
		{ "n,,n=us\xc3\xa9r,r=abc", false, false, SASL_SCRAM_OK },
		{ "n,,n=user,r=ab\x7f", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user,r=", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user,r=a b", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user,r=abc,", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user,r=abc,1=x", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user,r=abc,x=", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user,r=abc,xy", false, false, SASL_SCRAM_MALFORMED },
		{ "n,,n=user,r=abc,x=y", false, false, SASL_SCRAM_OK },
		{ "n,,m=ext,n=user,r=abc", false, false, SASL_SCRAM_REFUSED },
		{ "n,a=bob,n=user,r=abc", false, false, SASL_SCRAM_REFUSED },
		{ "n,a=User,n=user,r=abc", false, false, SASL_SCRAM_REFUSED },
		{ "n,a=user,n=user,r=abc", false, false, SASL_SCRAM_OK },
		{ "n,a=,n=user,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,b=user,n=user,r=abc", false, false, SASL_SCRAM_MALFORMED },
		{ "n,a=us=2Cer,n=us=2Cer,r=abc", false, false, SASL_SCRAM_OK },
		/* channel binding flags against mechanism and offer (§6) */
		{ "y,,n=user,r=abc", false, false, SASL_SCRAM_OK },
		{ "y,,n=user,r=abc", false, true, SASL_SCRAM_REFUSED },
		{ "n,,n=user,r=abc", false, true, SASL_SCRAM_OK },
		{ "n,,n=user,r=abc", true, true, SASL_SCRAM_REFUSED },
		{ "y,,n=user,r=abc", true, true, SASL_SCRAM_REFUSED },
		{ "p=tls-exporter,,n=user,r=abc", false, true,
		    SASL_SCRAM_REFUSED },
		{ "p=tls-exporter,,n=user,r=abc", true, true, SASL_SCRAM_OK },
		{ "p=tls-server-end-point,,n=user,r=abc", true, true,
		    SASL_SCRAM_OK },
		{ "p=tls-unique,,n=user,r=abc", true, true,
		    SASL_SCRAM_REFUSED },
		{ "p=,,n=user,r=abc", true, true, SASL_SCRAM_MALFORMED },
		{ "p=tls exporter,,n=user,r=abc", true, true,
		    SASL_SCRAM_MALFORMED },
		{ "p=tls-exporter,,n=user,r=abc,m=x", true, true,
		    SASL_SCRAM_OK },
	};
	struct sasl_scram	*sc;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		sc = sasl_scram_new(c[i].plus, c[i].offered);
		why = NULL;
		if (sasl_scram_client_first(sc, c[i].msg, strlen(c[i].msg),
		    &why) != c[i].want)
			fail_msg("case %zu: \"%s\" (%s)", i, c[i].msg,
			    why != NULL ? why : "ok");
		if (c[i].want != SASL_SCRAM_OK)
			assert_non_null(why);
		sasl_scram_free(sc);
	}
}

/* An exchange at server-first with the RFC values. */
static struct sasl_scram *
scram_at_final(bool plus, const char *first)
{
	static const unsigned char	 cb[4] = { 0xca, 0xfe, 0xba, 0xbe };
	struct sasl_scram		*sc;
	struct sasl_scram_challenge	 ch;
	struct span			 out;

	sc = sasl_scram_new(plus, plus);
	assert_int_equal(sasl_scram_client_first(sc, first, strlen(first),
	    NULL), SASL_SCRAM_OK);
	if (plus)
		sasl_scram_set_cb_data(sc, cb, sizeof(cb));
	rfc_challenge(&ch);
	assert_int_equal(sasl_scram_server_first(sc, &ch, &out), 0);
	return sc;
}

static void
test_scram_client_final_classes(void **state)
{
	static const struct {
		const char		*msg;
		enum sasl_scram_rc	 want;
	} c[] = {
		{ R_CFINAL, SASL_SCRAM_OK },
		{ "", SASL_SCRAM_MALFORMED },
		{ "r=" R_CNONCE R_SNONCE ",p=" R_PROOF_B64,
		    SASL_SCRAM_MALFORMED },			/* no c= */
		{ "c=biw,r=" R_CNONCE R_SNONCE ",p=" R_PROOF_B64,
		    SASL_SCRAM_MALFORMED },			/* base64 */
		{ "c=eSws,r=" R_CNONCE R_SNONCE ",p=" R_PROOF_B64,
		    SASL_SCRAM_REFUSED },			/* "y,," */
		{ "c=biwsAA==,r=" R_CNONCE R_SNONCE ",p=" R_PROOF_B64,
		    SASL_SCRAM_REFUSED },			/* data added */
		{ "c=biws,p=" R_PROOF_B64, SASL_SCRAM_MALFORMED },
		{ "c=biws,r=" R_CNONCE ",p=" R_PROOF_B64,
		    SASL_SCRAM_REFUSED },			/* our part lost */
		{ "c=biws,r=" R_CNONCE R_SNONCE "x,p=" R_PROOF_B64,
		    SASL_SCRAM_REFUSED },
		{ "c=biws,r=" R_CNONCE R_SNONCE, SASL_SCRAM_MALFORMED },
		{ "c=biws,r=" R_CNONCE R_SNONCE ",p=" R_PROOF_B64 ",x=y",
		    SASL_SCRAM_MALFORMED },			/* p= not last */
		{ "c=biws,r=" R_CNONCE R_SNONCE ",p=dHzbZapW",
		    SASL_SCRAM_MALFORMED },			/* short proof */
		{ "c=biws,r=" R_CNONCE R_SNONCE ",p=" R_PROOF_B64 "AAAA",
		    SASL_SCRAM_MALFORMED },
		{ "c=biws,r=" R_CNONCE R_SNONCE ",p=",
		    SASL_SCRAM_MALFORMED },
		{ "c=biws,r=" R_CNONCE R_SNONCE ",1=x,p=" R_PROOF_B64,
		    SASL_SCRAM_MALFORMED },
		{ "c=biws,r=" R_CNONCE R_SNONCE ",x=y,p=" R_PROOF_B64,
		    SASL_SCRAM_OK },				/* ignored */
		{ "r=" R_CNONCE R_SNONCE ",c=biws,p=" R_PROOF_B64,
		    SASL_SCRAM_MALFORMED },			/* order */
	};
	struct sasl_scram	*sc;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		sc = scram_at_final(false, R_CFIRST);
		why = NULL;
		if (sasl_scram_client_final(sc, c[i].msg, strlen(c[i].msg),
		    &why) != c[i].want)
			fail_msg("case %zu: \"%s\" (%s)", i, c[i].msg,
			    why != NULL ? why : "ok");
		sasl_scram_free(sc);
	}
	/* The extension before the proof is part of the AuthMessage. */
#define X_FINAL	"c=biws,r=" R_CNONCE R_SNONCE ",x=y,p=" R_PROOF_B64
	sc = scram_at_final(false, R_CFIRST);
	assert_int_equal(sasl_scram_client_final(sc, X_FINAL,
	    strlen(X_FINAL), NULL), SASL_SCRAM_OK);
	assert_true(span_eq(sasl_scram_auth_message(sc), "n=user,r=" R_CNONCE
	    "," R_SFIRST ",c=biws,r=" R_CNONCE R_SNONCE ",x=y"));
	sasl_scram_free(sc);
	/* With -PLUS, c= must carry the binding data too. */
	sc = scram_at_final(true, "p=tls-exporter,,n=user,r=" R_CNONCE);
	/* "p=tls-exporter,," alone */
	assert_int_equal(sasl_scram_client_final(sc, "c=cD10bHMtZXhwb3J0"
	    "ZXIsLA==,r=" R_CNONCE R_SNONCE ",p=" R_PROOF_B64,
	    strlen("c=cD10bHMtZXhwb3J0ZXIsLA==,r=" R_CNONCE R_SNONCE ",p="
	    R_PROOF_B64), NULL), SASL_SCRAM_REFUSED);
	sasl_scram_free(sc);
	sc = scram_at_final(true, "p=tls-exporter,,n=user,r=" R_CNONCE);
	/* "p=tls-exporter,," and ca fe ba be */
	assert_int_equal(sasl_scram_client_final(sc, "c=cD10bHMtZXhwb3J0"
	    "ZXIsLMr+ur4=,r=" R_CNONCE R_SNONCE ",p=" R_PROOF_B64,
	    strlen("c=cD10bHMtZXhwb3J0ZXIsLMr+ur4=,r=" R_CNONCE R_SNONCE
	    ",p=" R_PROOF_B64), NULL), SASL_SCRAM_OK);
	sasl_scram_free(sc);
}

/* Embedded NULs and sizes over the limits. */
static void
test_scram_limits(void **state)
{
	struct sasl_scram		*sc;
	struct sasl_scram_challenge	 ch;
	struct span			 out;
	char				 big[SASL_SCRAM_MSG_MAX + 64];
	char				 name[2 * SASL_FIELD_MAX];
	size_t				 n;

	sc = sasl_scram_new(false, false);
	assert_int_equal(sasl_scram_client_first(sc, "n,,n=u\0er,r=abc", 15,
	    NULL), SASL_SCRAM_MALFORMED);
	sasl_scram_free(sc);
	/* a nonce of SASL_SCRAM_NONCE_MAX octets, then one more */
	for (n = SASL_SCRAM_NONCE_MAX; n <= SASL_SCRAM_NONCE_MAX + 1; n++) {
		memcpy(big, "n,,n=user,r=", 12);
		memset(big + 12, 'x', n);
		sc = sasl_scram_new(false, false);
		assert_int_equal(sasl_scram_client_first(sc, big, 12 + n,
		    NULL), n <= SASL_SCRAM_NONCE_MAX ? SASL_SCRAM_OK :
		    SASL_SCRAM_MALFORMED);
		sasl_scram_free(sc);
	}
	/* a user name of SASL_FIELD_MAX octets, then one more */
	for (n = SASL_FIELD_MAX; n <= SASL_FIELD_MAX + 1; n++) {
		memset(name, 'u', n);
		snprintf(big, sizeof(big), "n,,n=%.*s,r=abc", (int)n, name);
		sc = sasl_scram_new(false, false);
		assert_int_equal(sasl_scram_client_first(sc, big, strlen(big),
		    NULL), n <= SASL_FIELD_MAX ? SASL_SCRAM_OK :
		    SASL_SCRAM_MALFORMED);
		sasl_scram_free(sc);
	}
	/* a message over SASL_SCRAM_MSG_MAX, in optional extensions */
	memcpy(big, "n,,n=user,r=abc,x=", 18);
	memset(big + 18, 'y', sizeof(big) - 18);
	sc = sasl_scram_new(false, false);
	assert_int_equal(sasl_scram_client_first(sc, big, SASL_SCRAM_MSG_MAX,
	    NULL), SASL_SCRAM_OK);
	sasl_scram_free(sc);
	sc = sasl_scram_new(false, false);
	assert_int_equal(sasl_scram_client_first(sc, big,
	    SASL_SCRAM_MSG_MAX + 1, NULL), SASL_SCRAM_MALFORMED);
	sasl_scram_free(sc);

	/* server-first refuses what the key holder must not send */
	rfc_challenge(&ch);
	sc = scram_at_final(false, R_CFIRST);
	sasl_scram_free(sc);
	sc = sasl_scram_new(false, false);
	assert_int_equal(sasl_scram_client_first(sc, R_CFIRST,
	    strlen(R_CFIRST), NULL), SASL_SCRAM_OK);
	ch.saltlen = 0;
	assert_int_equal(sasl_scram_server_first(sc, &ch, &out), -1);
	rfc_challenge(&ch);
	ch.iterations = SASL_SCRAM_ITER_MAX + 1;
	assert_int_equal(sasl_scram_server_first(sc, &ch, &out), -1);
	rfc_challenge(&ch);
	strcpy(ch.snonce, "a,b");
	assert_int_equal(sasl_scram_server_first(sc, &ch, &out), -1);
	ch.snonce[0] = '\0';
	assert_int_equal(sasl_scram_server_first(sc, &ch, &out), -1);
	sasl_scram_free(sc);
}

/* Escaped names: "=2C" is ',' and "=3D" is '=' (§5.1). */
static void
test_scram_saslname(void **state)
{
	struct sasl_scram	*sc;
	const char		*m = "n,,n=a=2Cb=3Dc,r=abc";

	sc = sasl_scram_new(false, false);
	assert_int_equal(sasl_scram_client_first(sc, m, strlen(m), NULL),
	    SASL_SCRAM_OK);
	assert_string_equal(sasl_scram_user(sc), "a,b=c");
	sasl_scram_free(sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_valid),
		cmocka_unit_test(test_b64_strict),
		cmocka_unit_test(test_b64_encode),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_field_limits),
		cmocka_unit_test(test_scram_rfc7677_client),
		cmocka_unit_test(test_scram_rfc7677_server),
		cmocka_unit_test(test_scram_plus),
		cmocka_unit_test(test_scram_client_first_classes),
		cmocka_unit_test(test_scram_client_final_classes),
		cmocka_unit_test(test_scram_limits),
		cmocka_unit_test(test_scram_saslname),
	};

	return cmocka_run_group_tests_name("sasl", tests, NULL, NULL);
}
