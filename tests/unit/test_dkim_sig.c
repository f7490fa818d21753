/*
 * Unit tests for the signature primitives of dkim.c: the DKIM-Signature
 * parser (RFC 6376 §3.5, §6.1.1), the key record parser (§3.6.1), the
 * header data (§3.7, §5.4.2), signing and verification with rsa-sha256
 * and ed25519-sha256 (RFC 8463), dkim_sign_field() round trips, the
 * RFC 8463 Appendix A example (dkimpy's copy of it, with the RFC 8032
 * §7.1 key that made it: Ed25519 is deterministic, so our signature of
 * the same data must be the very b= of the example), and the checks of
 * dkim_verify_sig() (RFC 8301, x=, t=, key flags).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim.h"
#include "dkim_testmsg.h"
#include "sasl.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* An RFC 8463 §A signature, as a base for the parser cases. */
#define B_OK	"b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB" \
		"o0wBLR++X5LqmsxXaOYLLJe46l10AQ=="
#define BH_OK	"bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ="

struct sig_case {
	const char	*value;
	unsigned	 flags;
	const char	*err;	/* NULL: parses */
};

static const struct sig_case sig_cases[] = {
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From:To; "
	    BH_OK "; " B_OK, 0, NULL },
	/* FWS inside base64 and around tags, unknown tags ignored */
	{ "v=1; a=ed25519-sha256; d=example.com; s=sel; h=from : to;\r\n"
	    " bh=4bLNXImK9drULnmePzZNEBle\r\n UanJCX5PIsDIFoH4KTQ=;\r\n"
	    " b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB\r\n"
	    " o0wBLR++X5LqmsxXaOYLLJe46l10AQ==; zz=whatever", 0, NULL },
	{ "a=rsa-sha256; d=example.com; s=sel; h=From; " BH_OK "; " B_OK,
	    0, "a required tag is missing" },
	{ "v=2; a=rsa-sha256; d=example.com; s=sel; h=From; " BH_OK "; "
	    B_OK, 0, "unknown v=" },
	{ "v=1; a=rsa-md5; d=example.com; s=sel; h=From; " BH_OK "; " B_OK,
	    0, "unknown a=" },
	{ "v=1; a=rsa-sha256; d=example.com; d=example.org; s=sel; h=From; "
	    BH_OK "; " B_OK, 0, "a tag appears twice" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=To:Subject; " BH_OK
	    "; " B_OK, 0, "h= does not sign From" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; i=a@evil.com; "
	    BH_OK "; " B_OK, 0, "i= is not within d=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; "
	    "i=a@notexample.com; " BH_OK "; " B_OK, 0,
	    "i= is not within d=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; "
	    "i=a@mail.Example.COM; " BH_OK "; " B_OK, 0, NULL },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; i=@example.com;"
	    " t=200; x=100; " BH_OK "; " B_OK, 0, "x= before t=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; l=12a; " BH_OK
	    "; " B_OK, 0, "bad l=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; " BH_OK
	    "; b=!!!!", 0, "bad b=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; " BH_OK
	    "; b=", 0, "bad b=" },
	{ "v=1; a=rsa-sha256; d=legitimate.com(.attacker.com; s=sel; "
	    "h=From; " BH_OK "; " B_OK, 0, "bad d=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; q=http; "
	    BH_OK "; " B_OK, 0, "q= does not allow dns/txt" },
	{ "v=1; a=rsa-sha256; c=fancy/simple; d=example.com; s=sel; "
	    "h=From; " BH_OK "; " B_OK, 0, "unknown c=" },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=From; " BH_OK
	    "; " B_OK "; v", 0, "tag list does not parse" },
	/* ARC-Message-Signature: i= is the instance, no v= */
	{ "i=2; a=rsa-sha256; d=example.com; s=sel; h=From; " BH_OK "; "
	    B_OK, DKIM_SIG_AMS, NULL },
	{ "i=51; a=rsa-sha256; d=example.com; s=sel; h=From; " BH_OK "; "
	    B_OK, DKIM_SIG_AMS, "bad i=" },
};

static void
test_sig_parse(void **state)
{
	struct dkim_sig	*s = xcalloc(1, sizeof(*s));
	const char	*err;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < NELEM(sig_cases); i++) {
		err = NULL;
		rc = dkim_sig_parse(span_str(sig_cases[i].value),
		    sig_cases[i].flags, s, &err);
		if (sig_cases[i].err == NULL) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err);
		} else {
			if (rc != -1)
				fail_msg("case %zu parses", i);
			assert_string_equal(err, sig_cases[i].err);
		}
	}
	/* What the first ones hold */
	assert_int_equal(dkim_sig_parse(span_str(sig_cases[1].value), 0, s,
	    &err), 0);
	assert_int_equal(s->algo, DKIM_ALGO_ED25519_SHA256);
	assert_string_equal(s->domain, "example.com");
	assert_string_equal(s->auid, "@example.com");
	assert_int_equal(s->nh, 2);
	assert_string_equal(s->h[1], "to");
	assert_int_equal(s->blen, 64);
	assert_int_equal(s->bhlen, 32);
	assert_string_equal(s->bprefix, "9/dsDChY0YMTtD5");
	assert_int_equal(s->hcanon, DKIM_CANON_SIMPLE);
	assert_true(s->limit == DKIM_BH_NOLIMIT);
	assert_int_equal(dkim_sig_parse(span_str(sig_cases[18].value),
	    DKIM_SIG_AMS, s, &err), 0);
	assert_int_equal(s->instance, 2);
	free(s);
}

/* i= in dkim-quoted-printable (§2.11), c= with one word, l=, t=, x= */
static void
test_sig_parse_values(void **state)
{
	struct dkim_sig	*s = xcalloc(1, sizeof(*s));
	const char	*err;

	(void)state;
	assert_int_equal(dkim_sig_parse(span_str("v=1; a=rsa-sha1; "
	    "c=relaxed; d=Example.COM; s=Sel; h=from; i=j=3Dq@ex\r\n "
	    "ample.com; l=1234; t=100; x=200; " BH_OK "; " B_OK), 0, s,
	    &err), 0);
	assert_string_equal(s->auid, "j=q@example.com");
	assert_string_equal(s->domain, "example.com");
	assert_string_equal(s->selector, "sel");
	assert_int_equal(s->algo, DKIM_ALGO_RSA_SHA1);
	assert_int_equal(s->hcanon, DKIM_CANON_RELAXED);
	assert_int_equal(s->bcanon, DKIM_CANON_SIMPLE);
	assert_true(s->limit == 1234);
	assert_true(s->has_t && s->t == 100 && s->has_x && s->x == 200);
	assert_int_equal(dkim_sig_parse(span_str("v=1; a=rsa-sha256; "
	    "d=example.com; s=sel; h=from; i=J@Mail.Example.com; " BH_OK "; "
	    B_OK), 0, s, &err), 0);
	assert_string_equal(s->auid, "J@mail.example.com");
	free(s);
}

struct key_case {
	const char	*rec;
	const char	*err;
};

#define P_RSA	"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3i" \
	"dY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC" \
	"/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+" \
	"2kryOTIKT+l/K4w3QIDAQAB"

static const struct key_case key_cases[] = {
	{ "v=DKIM1; k=rsa; " P_RSA, NULL },
	{ P_RSA, NULL },
	{ "k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", NULL },
	{ "v=DKIM1; p=", NULL },
	{ "k=rsa; v=DKIM1; " P_RSA, "key v= is not first" },
	{ "v=DKIM1: k=rsa; " P_RSA, "key v= is not DKIM1" },
	{ "v=DKIM1; k=ed25519-sha256; " P_RSA, "unknown key type k=" },
	{ "v=DKIM1; k=rsa", "key has no p=" },
	{ "v=DKIM1; k=ed25519; " P_RSA, "key p= does not decode" },
	{ "v=DKIM1; p=AAAA", "key p= does not decode" },
	{ "v=DKIM1; k=rsa; t; " P_RSA, "key record does not parse" },
	{ "v=DKIM1; " P_RSA "; p=", "a key tag appears twice" },
};

static void
test_key_parse(void **state)
{
	struct dkim_key	 k;
	const char	*err;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < NELEM(key_cases); i++) {
		err = NULL;
		rc = dkim_key_parse(span_str(key_cases[i].rec), &k, &err);
		if (key_cases[i].err == NULL) {
			if (rc != 0)
				fail_msg("case %zu: %s", i, err);
			dkim_key_clear(&k);
		} else {
			if (rc != -1)
				fail_msg("case %zu parses", i);
			assert_string_equal(err, key_cases[i].err);
		}
	}
	assert_int_equal(dkim_key_parse(span_str("v=DKIM1; h=sha1 : sha256;"
	    " s=email; t=y:s; n=a note; " P_RSA), &k, &err), 0);
	assert_int_equal(k.type, DKIM_KEY_RSA);
	assert_int_equal(k.bits, 1024);
	assert_true(k.testing && k.strict && k.sha256_ok && k.email_ok);
	dkim_key_clear(&k);
	assert_int_equal(dkim_key_parse(span_str("h=sha1; s=chat; " P_RSA),
	    &k, &err), 0);
	assert_false(k.sha256_ok);
	assert_false(k.email_ok);
	dkim_key_clear(&k);
	assert_int_equal(dkim_key_parse(span_str("p="), &k, &err), 0);
	assert_true(k.revoked);
	assert_null(k.pkey);
	dkim_key_clear(&k);
}

/* §5.4.2: bottom up, an absent instance adds nothing, the own field last */
static void
test_header_data(void **state)
{
	const char	*h =
	    "Received: x\r\n"
	    "From: a@b\r\n"
	    "Subject: one\r\n"
	    "DKIM-Signature: v=1; b=AB\r\n CD; d=x\r\n"
	    "Subject:  two\r\n";
	const char	 names[][DKIM_HNAME_MAX] = {
		"subject", "from", "Subject", "subject", "dkim-signature"
	};
	struct buf	 out;
	struct span	 hdrs = span_str(h), sig, f, n;
	size_t		 pos = 0;

	(void)state;
	while (dkim_header_next(hdrs, &pos, &f, &n) == 1)
		if (span_caseeq(n, "DKIM-Signature"))
			sig = f;
	buf_init(&out, 4096);
	assert_int_equal(dkim_header_data(DKIM_CANON_RELAXED, hdrs, names, 5,
	    sig, &out), 0);
	assert_string_equal(out.data,
	    "subject:two\r\nfrom:a@b\r\nsubject:one\r\n"
	    "dkim-signature:v=1; b=; d=x");
	buf_reset(&out);
	assert_int_equal(dkim_header_data(DKIM_CANON_SIMPLE, hdrs, names, 2,
	    sig, &out), 0);
	assert_string_equal(out.data,
	    "Subject:  two\r\nFrom: a@b\r\n"
	    "DKIM-Signature: v=1; b=; d=x");
	buf_free(&out);
}

static EVP_PKEY *
keygen(enum dkim_algo algo)
{
	EVP_PKEY	*k;

	k = algo == DKIM_ALGO_ED25519_SHA256 ?
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(k);
	return k;
}

/* The key record of a key pair, as a signer would publish it. */
static void
key_record(EVP_PKEY *k, enum dkim_algo algo, char *out, size_t outlen)
{
	unsigned char	 der[1024], *p = der;
	char		 b64[SASL_B64_LEN(1024) + 1];
	size_t		 n = sizeof(der);
	int		 len;

	if (algo == DKIM_ALGO_ED25519_SHA256) {
		assert_int_equal(EVP_PKEY_get_raw_public_key(k, der, &n), 1);
	} else {
		len = i2d_PUBKEY(k, &p);
		assert_true(len > 0);
		n = (size_t)len;
	}
	sasl_b64_encode(der, n, b64);
	(void)snprintf(out, outlen, "v=DKIM1; k=%s; p=%s",
	    algo == DKIM_ALGO_ED25519_SHA256 ? "ed25519" : "rsa", b64);
}

static void
test_sign_verify_data(void **state)
{
	static const enum dkim_algo algos[] = {
		DKIM_ALGO_RSA_SHA256, DKIM_ALGO_ED25519_SHA256
	};
	unsigned char	 sig[DKIM_SIG_B_MAX];
	size_t		 i, n;
	EVP_PKEY	*k;

	(void)state;
	for (i = 0; i < NELEM(algos); i++) {
		k = keygen(algos[i]);
		n = sizeof(sig);
		assert_int_equal(dkim_sign_data(algos[i], k, "data", 4, sig,
		    &n), 0);
		assert_int_equal(n, algos[i] == DKIM_ALGO_RSA_SHA256 ?
		    256 : 64);
		assert_int_equal(dkim_verify_data(algos[i], k, "data", 4, sig,
		    n), 0);
		assert_int_equal(dkim_verify_data(algos[i], k, "dat4", 4, sig,
		    n), -1);
		sig[0] ^= 1;
		assert_int_equal(dkim_verify_data(algos[i], k, "data", 4, sig,
		    n), -1);
		/* the key must be of the algorithm's type; sha1 never signs */
		n = sizeof(sig);
		assert_int_equal(dkim_sign_data(algos[1 - i], k, "data", 4,
		    sig, &n), -1);
		assert_int_equal(dkim_sign_data(DKIM_ALGO_RSA_SHA1, k, "data",
		    4, sig, &n), -1);
		/* too little room */
		n = 16;
		assert_int_equal(dkim_sign_data(algos[i], k, "data", 4, sig,
		    &n), -1);
		EVP_PKEY_free(k);
	}
}

static const char round_hdrs[] =
    "Received: from x by y; Sun, 6 Dec 2026 10:00:00 +0000\r\n"
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.net\r\n"
    "Subject: a rather long subject line that goes on and on and\r\n"
    " on over a folded line\r\n"
    "Date: Sun, 6 Dec 2026 10:00:00 +0000\r\n"
    "Message-ID: <1@example.com>\r\n";
static const char round_body[] = "Hello  \r\nworld\r\n\r\n";

/*
 * Sign hdrs + body with dkim_sign_field(), then put the field on top of
 * (possibly altered) hdrs2 and body2 and verify it with the key's record.
 */
static enum dkim_result
round_trip(enum dkim_algo algo, const char *hdrs2, const char *body2,
    uint64_t now, const char **reason)
{
	static const char *const names[] = {
		"From", "To", "Subject", "Date", "Message-ID", "Reply-To"
	};
	struct dkim_bh_spec	 spec = { DKIM_CANON_RELAXED,
				    DKIM_HASH_SHA256, DKIM_BH_NOLIMIT };
	struct dkim_sign_req	 r;
	struct dkim_sig		*s = xcalloc(1, sizeof(*s));
	struct dkim_key		 key;
	struct buf		 field, msg;
	struct span		 f, n, hs = span_str(round_hdrs);
	unsigned char		 bh[DKIM_DIGEST_MAX], bh2[DKIM_DIGEST_MAX];
	char			 rec[2048];
	const char		*err, *colon;
	uint64_t		 hashed;
	size_t			 pos = 0, bhlen;
	enum dkim_result	 res;
	EVP_PKEY		*k = keygen(algo);

	memset(&r, 0, sizeof(r));
	r.domain = "example.com";
	r.selector = "sel";
	r.algo = algo;
	r.key = k;
	r.hdrs = hs;
	r.names = names;
	r.nnames = NELEM(names);
	r.oversign = true;
	r.bhlen = testmsg_bh(span_str(round_body), &spec, bh, NULL);
	r.bh = bh;
	r.t = 1000;
	r.x = 2000;
	buf_init(&field, DKIM_FIELD_MAX);
	if (dkim_sign_field(&r, &field, &err) == -1)
		fail_msg("sign: %s", err);
	/* Folded: no line over 78 columns, CRLF and WSP after each break */
	for (pos = 0, bhlen = 0; pos < field.len; pos++) {
		if (field.data[pos] == '\n') {
			assert_true(bhlen <= 79);
			bhlen = 0;
		} else
			bhlen++;
	}
	buf_init(&msg, 64 * 1024);
	assert_int_equal(buf_append(&msg, field.data, field.len), 0);
	assert_int_equal(buf_append_str(&msg, hdrs2), 0);
	pos = 0;
	assert_int_equal(dkim_header_next(span_make(msg.data, msg.len), &pos,
	    &f, &n), 1);
	assert_true(span_caseeq(n, "DKIM-Signature"));
	colon = memchr(f.ptr, ':', f.len);
	if (dkim_sig_parse(span_make(colon + 1, f.len - (size_t)(colon + 1 -
	    f.ptr)), 0, s, &err) == -1)
		fail_msg("parse: %s", err);
	assert_int_equal(s->hcanon, DKIM_CANON_RELAXED);
	assert_int_equal(s->bcanon, DKIM_CANON_RELAXED);
	/* From, To, ..., each once more; Reply-To (absent) once */
	assert_int_equal(s->nh, 11);
	key_record(k, algo, rec, sizeof(rec));
	assert_int_equal(dkim_key_parse(span_str(rec), &key, &err), 0);
	bhlen = testmsg_bh(span_str(body2), &spec, bh2, &hashed);
	res = dkim_verify_sig(s, span_make(msg.data, msg.len), f, bh2, bhlen,
	    hashed, &key, now, reason);
	dkim_key_clear(&key);
	EVP_PKEY_free(k);
	buf_free(&field);
	buf_free(&msg);
	free(s);
	return res;
}

static void
test_sign_field_round_trip(void **state)
{
	static const enum dkim_algo algos[] = {
		DKIM_ALGO_RSA_SHA256, DKIM_ALGO_ED25519_SHA256
	};
	const char	*reason;
	char		 hdrs[1024];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(algos); i++) {
		assert_int_equal(round_trip(algos[i], round_hdrs, round_body,
		    1500, &reason), DKIM_PASS);
		/* relaxed: refolding and case of names do not matter */
		(void)snprintf(hdrs, sizeof(hdrs), "%s", round_hdrs);
		memcpy(strstr(hdrs, "To:"), "tO:", 3);
		assert_int_equal(round_trip(algos[i], hdrs,
		    "Hello\r\nworld \r\n", 1500, &reason), DKIM_PASS);
		/* a changed Subject */
		memcpy(strstr(hdrs, "rather"), "RATHER", 6);
		assert_int_equal(round_trip(algos[i], hdrs, round_body, 1500,
		    &reason), DKIM_FAIL);
		assert_string_equal(reason, "signature mismatch");
		/* a second From: added on top: over-signed, it breaks */
		(void)snprintf(hdrs, sizeof(hdrs), "%sFrom: eve@evil.example\r\n",
		    round_hdrs);
		assert_int_equal(round_trip(algos[i], hdrs, round_body, 1500,
		    &reason), DKIM_FAIL);
		/* a Reply-To added: over-signed though absent */
		(void)snprintf(hdrs, sizeof(hdrs), "%sReply-To: eve@evil\r\n",
		    round_hdrs);
		assert_int_equal(round_trip(algos[i], hdrs, round_body, 1500,
		    &reason), DKIM_FAIL);
		/* an unsigned field added is fine */
		(void)snprintf(hdrs, sizeof(hdrs), "%sX-Extra: 1\r\n",
		    round_hdrs);
		assert_int_equal(round_trip(algos[i], hdrs, round_body, 1500,
		    &reason), DKIM_PASS);
		/* the body changed */
		assert_int_equal(round_trip(algos[i], round_hdrs,
		    "Hello\r\nworld!\r\n", 1500, &reason), DKIM_FAIL);
		assert_string_equal(reason, "body hash mismatch");
		/* expired (x=2000), and from the future (t=1000) */
		assert_int_equal(round_trip(algos[i], round_hdrs, round_body,
		    2001, &reason), DKIM_PERMERROR);
		assert_string_equal(reason, "signature expired");
		assert_int_equal(round_trip(algos[i], round_hdrs, round_body,
		    1000 - DKIM_CLOCK_SKEW, &reason), DKIM_PASS);
		assert_int_equal(round_trip(algos[i], round_hdrs, round_body,
		    1000 - DKIM_CLOCK_SKEW - 1, &reason), DKIM_PERMERROR);
	}
}

/* One signature field of hdrs (the n-th DKIM-Signature), parsed. */
static struct span
nth_sig(struct span hdrs, size_t nth, struct dkim_sig *s)
{
	struct span	 f, n;
	size_t		 pos = 0;
	const char	*colon, *err;

	while (dkim_header_next(hdrs, &pos, &f, &n) == 1) {
		if (!span_caseeq(n, "DKIM-Signature") || nth-- > 0)
			continue;
		colon = memchr(f.ptr, ':', f.len);
		if (dkim_sig_parse(span_make(colon + 1, f.len -
		    (size_t)(colon + 1 - f.ptr)), 0, s, &err) == -1)
			fail_msg("parse: %s", err);
		return f;
	}
	fail_msg("no signature %zu", nth);
	return f;
}

static char *
read_line_file(const char *rel)
{
	size_t	 n;
	char	*p = testmsg_read(rel, &n);

	assert_non_null(p);
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		p[--n] = '\0';
	return p;
}

/*
 * RFC 8463 Appendix A: both signatures pass with the published keys, and
 * signing the same header data with the RFC 8032 §7.1 key yields the very
 * b= of the example (Ed25519 signatures are deterministic).
 */
static void
test_rfc8463_example(void **state)
{
	struct dkim_sig		*s = xcalloc(1, sizeof(*s));
	struct dkim_bh_spec	 spec;
	struct dkim_key		 key;
	struct buf		 msg, data;
	struct span		 hdrs, body, f;
	unsigned char		 bh[DKIM_DIGEST_MAX], seed[64];
	unsigned char		 sig[DKIM_SIG_B_MAX];
	char			*raw, *seed64, *txt;
	const char		*err, *reason;
	size_t			 n, bhlen, siglen;
	uint64_t		 hashed;
	EVP_PKEY		*priv;

	(void)state;
	raw = testmsg_read("dkim/dkimpy/rfc6376.signed.msg", &n);
	assert_non_null(raw);
	buf_init(&msg, TESTMSG_MAX * 2);
	testmsg_crlf(raw, n, &msg);
	testmsg_split(span_make(msg.data, msg.len), &hdrs, &body);

	/* ed25519-sha256, s=brisbane */
	f = nth_sig(hdrs, 0, s);
	assert_int_equal(s->algo, DKIM_ALGO_ED25519_SHA256);
	dkim_sig_bh_spec(s, &spec);
	bhlen = testmsg_bh(body, &spec, bh, &hashed);
	assert_int_equal(dkim_key_parse(span_str("v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="), &key, &err), 0);
	assert_int_equal(dkim_verify_sig(s, hdrs, f, bh, bhlen, hashed, &key,
	    1528637909, &reason), DKIM_PASS);
	dkim_key_clear(&key);

	seed64 = read_line_file("dkim/dkimpy/rfc8032_7_1.key");
	assert_int_equal(sasl_b64_decode(span_str(seed64), seed, &n), 0);
	assert_int_equal(n, 32);
	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	assert_non_null(priv);
	buf_init(&data, DKIM_HDATA_MAX);
	assert_int_equal(dkim_header_data(s->hcanon, hdrs,
	    (const char (*)[DKIM_HNAME_MAX])s->h, s->nh, f, &data), 0);
	siglen = sizeof(sig);
	assert_int_equal(dkim_sign_data(DKIM_ALGO_ED25519_SHA256, priv,
	    data.data, data.len, sig, &siglen), 0);
	assert_int_equal(siglen, s->blen);
	assert_memory_equal(sig, s->b, siglen);
	EVP_PKEY_free(priv);
	buf_free(&data);

	/* rsa-sha256, s=test (dkimpy's test.txt, 1024 bits) */
	f = nth_sig(hdrs, 1, s);
	assert_int_equal(s->algo, DKIM_ALGO_RSA_SHA256);
	txt = read_line_file("dkim/dkimpy/test.txt");
	assert_int_equal(dkim_key_parse(span_str(txt), &key, &err), 0);
	dkim_sig_bh_spec(s, &spec);
	bhlen = testmsg_bh(body, &spec, bh, &hashed);
	assert_int_equal(dkim_verify_sig(s, hdrs, f, bh, bhlen, hashed, &key,
	    1528637909, &reason), DKIM_PASS);
	/* one octet of the body changed: body hash; of a header: signature */
	memcpy(strstr(msg.data, "hungry"), "HUNGRY", 6);
	bhlen = testmsg_bh(body, &spec, bh, &hashed);
	assert_int_equal(dkim_verify_sig(s, hdrs, f, bh, bhlen, hashed, &key,
	    1528637909, &reason), DKIM_FAIL);
	assert_string_equal(reason, "body hash mismatch");
	memcpy(strstr(msg.data, "HUNGRY"), "hungry", 6);
	bhlen = testmsg_bh(body, &spec, bh, &hashed);
	memcpy(strstr(msg.data, "dinner"), "DINNER", 6);
	assert_int_equal(dkim_verify_sig(s, hdrs, f, bh, bhlen, hashed, &key,
	    1528637909, &reason), DKIM_FAIL);
	assert_string_equal(reason, "signature mismatch");
	dkim_key_clear(&key);
	free(txt);
	free(seed64);
	free(raw);
	free(s);
	buf_free(&msg);
}

/* §6.1.2 and RFC 8301: what the key and the algorithm may refuse */
static void
test_verify_policy(void **state)
{
	struct dkim_sig	*s = xcalloc(1, sizeof(*s));
	struct dkim_key	 key;
	struct span	 f = span_str("DKIM-Signature: x");
	const char	*err, *reason;
	unsigned char	 bh[DKIM_DIGEST_MAX];

	(void)state;
	memset(bh, 0, sizeof(bh));
	assert_int_equal(dkim_sig_parse(span_str("v=1; a=rsa-sha256; "
	    "d=example.com; s=sel; h=From; i=@sub.example.com; " BH_OK "; "
	    B_OK), 0, s, &err), 0);
	assert_int_equal(dkim_key_parse(span_str("t=s; " P_RSA), &key, &err),
	    0);
	assert_int_equal(dkim_verify_sig(s, f, f, bh, 32, 0, &key, 0,
	    &reason), DKIM_PERMERROR);
	assert_string_equal(reason, "key t=s and i= is a subdomain of d=");
	dkim_key_clear(&key);
	assert_int_equal(dkim_key_parse(span_str("k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="), &key, &err), 0);
	assert_int_equal(dkim_verify_sig(s, f, f, bh, 32, 0, &key, 0,
	    &reason), DKIM_PERMERROR);
	assert_string_equal(reason, "key type does not match a=");
	dkim_key_clear(&key);
	assert_int_equal(dkim_key_parse(span_str("p="), &key, &err), 0);
	assert_int_equal(dkim_verify_sig(s, f, f, bh, 32, 0, &key, 0,
	    &reason), DKIM_PERMERROR);
	assert_string_equal(reason, "key revoked");
	dkim_key_clear(&key);
	assert_int_equal(dkim_key_parse(span_str("s=chat; " P_RSA), &key,
	    &err), 0);
	assert_int_equal(dkim_verify_sig(s, f, f, bh, 32, 0, &key, 0,
	    &reason), DKIM_PERMERROR);
	dkim_key_clear(&key);
	/* a 512-bit key (Mail::DKIM's test1 key) */
	assert_int_equal(dkim_key_parse(span_str("p=MFwwDQYJKoZIhvcNAQEBBQAD"
	    "SwAwSAJBALgSoqXVSEmfcIsOzw7oRuCCOwsmtX/SJnTWxYyj2leFxfS/AVJ+dYfY"
	    "+hXqMsT7l+MZvvh/R1WzN4MO/kI/7XsCAwEAAQ=="), &key, &err), 0);
	assert_int_equal(key.bits, 512);
	assert_int_equal(dkim_verify_sig(s, f, f, bh, 32, 0, &key, 0,
	    &reason), DKIM_PERMERROR);
	assert_string_equal(reason, "RSA key under 1024 bits (RFC 8301)");
	dkim_key_clear(&key);
	/* rsa-sha1 is refused whatever the key */
	assert_int_equal(dkim_sig_parse(span_str("v=1; a=rsa-sha1; "
	    "d=example.com; s=sel; h=From; " BH_OK "; " B_OK), 0, s, &err), 0);
	assert_int_equal(dkim_key_parse(span_str(P_RSA), &key, &err), 0);
	assert_int_equal(dkim_verify_sig(s, f, f, bh, 32, 0, &key, 0,
	    &reason), DKIM_PERMERROR);
	assert_string_equal(reason, "rsa-sha1 is not accepted (RFC 8301)");
	/* l= longer than the body */
	assert_int_equal(dkim_sig_parse(span_str("v=1; a=rsa-sha256; l=100;"
	    "d=example.com; s=sel; h=From; " BH_OK "; " B_OK), 0, s, &err), 0);
	assert_int_equal(dkim_verify_sig(s, f, f, bh, 32, 99, &key, 0,
	    &reason), DKIM_FAIL);
	assert_string_equal(reason, "l= is longer than the body");
	dkim_key_clear(&key);
	assert_string_equal(dkim_result_name(DKIM_TEMPERROR), "temperror");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sig_parse),
		cmocka_unit_test(test_sig_parse_values),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_header_data),
		cmocka_unit_test(test_sign_verify_data),
		cmocka_unit_test(test_sign_field_round_trip),
		cmocka_unit_test(test_rfc8463_example),
		cmocka_unit_test(test_verify_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
