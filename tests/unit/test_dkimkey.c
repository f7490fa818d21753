/*
 * Unit tests for dkimkey.c: the key store (a key made, stored, read back
 * the same, retired; the file's mode), default selectors, the TXT record
 * in zone-file form (strings of at most 255 octets that join to the
 * record), the From: domain a message is signed for, and the
 * DKIM-Signature made: its h= over-signs each field present (and From)
 * once more than it appears, leaves out what RFC 6376 §5.4.1 does not
 * list, refuses a hostile count of one field, and its b= verifies with
 * OpenSSL against the public key in the record over the canonical form
 * built here from the RFC's rules (the interop with dkimpy and OpenDKIM
 * is in tests/blackbox/test_dkim_sign.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dkim.h"
#include "lookup/dkimkey.h"
#include "sasl.h"
#include "util.h"

static struct dkimkey
make_key(enum dkimkey_alg alg, unsigned bits)
{
	struct dkimkey	 k;
	const char	*err = NULL;

	memset(&k, 0, sizeof(k));
	k.alg = alg;
	k.bits = bits;
	k.active = true;
	k.created = 1700000000;
	(void)str_copy(k.domain, sizeof(k.domain), "example.org");
	(void)str_copy(k.selector, sizeof(k.selector), "sel");
	assert_int_equal(dkimkey_generate(&k, &err), 0);
	return k;
}

static void
test_store(void **state)
{
	char		 dir[] = "/tmp/test_dkimkey.XXXXXX", path[256];
	struct dkimkey	 k = make_key(DKIMKEY_ED25519, 0), got[4];
	struct dkimkey_db *kd;
	const char	*err = NULL;
	struct stat	 st;
	ssize_t		 n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/dkim.db", dir);
	assert_non_null(kd = dkimkey_open(path, &err));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(dkimkey_add(kd, &k, &err), 0);
	/* the same selector again */
	assert_int_equal(dkimkey_add(kd, &k, &err), -1);
	n = dkimkey_load(kd, got, 4, &err);
	assert_int_equal(n, 1);
	assert_string_equal(got[0].domain, "example.org");
	assert_string_equal(got[0].selector, "sel");
	assert_int_equal(got[0].alg, DKIMKEY_ED25519);
	assert_true(got[0].active);
	assert_int_equal(got[0].created, 1700000000);
	assert_non_null(got[0].pkey);
	/* the key read back is the one stored */
	assert_int_equal(EVP_PKEY_eq(got[0].pkey, k.pkey), 1);
	assert_string_equal(got[0].pub, k.pub);
	dkimkey_release(got, (size_t)n);
	assert_int_equal(dkimkey_set_active(kd, "example.org", "sel", false,
	    &err), 0);
	assert_int_equal(dkimkey_set_active(kd, "example.org", "nosuch",
	    false, &err), -1);
	n = dkimkey_load(kd, got, 4, &err);
	assert_int_equal(n, 1);
	assert_false(got[0].active);
	dkimkey_release(got, (size_t)n);
	dkimkey_close(kd);
	dkimkey_release(&k, 1);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/dkim.db-journal", dir);
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static bool
taken_ab(const char *sel, void *arg)
{
	(void)arg;
	return strcmp(sel, "c2026a-rsa") == 0 || strcmp(sel, "c2026b-rsa") == 0;
}

static bool
taken_all(const char *sel, void *arg)
{
	(void)sel;
	(void)arg;
	return true;
}

static void
test_selector(void **state)
{
	char	out[64];

	(void)state;
	assert_int_equal(dkimkey_selector(DKIMKEY_ED25519, 2026, taken_ab,
	    NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "c2026a-ed");
	assert_int_equal(dkimkey_selector(DKIMKEY_RSA, 2026, taken_ab, NULL,
	    out, sizeof(out)), 0);
	assert_string_equal(out, "c2026c-rsa");
	assert_int_equal(dkimkey_selector(DKIMKEY_RSA, 2026, taken_all, NULL,
	    out, sizeof(out)), -1);
}

/* The strings of a zone-file TXT line, joined; each at most 255. */
static void
txt_join(const char *line, char *out, size_t outsz)
{
	const char	*p = strchr(line, '(') , *q;
	size_t		 o = 0, n;

	assert_non_null(p);
	while ((p = strchr(p, '"')) != NULL) {
		q = strchr(p + 1, '"');
		assert_non_null(q);
		n = (size_t)(q - p - 1);
		assert_true(n <= 255);
		assert_true(o + n < outsz);
		memcpy(out + o, p + 1, n);
		o += n;
		p = q + 1;
	}
	out[o] = '\0';
}

static void
test_txt(void **state)
{
	struct dkimkey	 k = make_key(DKIMKEY_RSA, 2048);
	struct buf	 b;
	char		 joined[2048], want[2048];

	(void)state;
	buf_init(&b, 8192);
	assert_int_equal(dkimkey_txt(&k, &b), 0);
	assert_true(strncmp(b.data, "sel._domainkey.example.org. IN TXT ( \"",
	    38) == 0);
	assert_true(b.len > 2 && strcmp(b.data + b.len - 2, " )") == 0);
	txt_join(b.data, joined, sizeof(joined));
	(void)snprintf(want, sizeof(want), "v=DKIM1; k=rsa; p=%s", k.pub);
	assert_string_equal(joined, want);
	/* an RSA-2048 record needs two strings */
	assert_true(strlen(joined) > 255);
	buf_free(&b);
	dkimkey_release(&k, 1);
}

static void
test_from_domain(void **state)
{
	static const struct {
		const char	*hdrs;
		const char	*want;	/* NULL: none */
	} cases[] = {
		{ "From: Alice <alice@Example.ORG>\r\nTo: b@c\r\n",
		    "example.org" },
		{ "To: b@c\r\nfrom:\r\n alice@sub.example.org (A)\r\n",
		    "sub.example.org" },
		{ "From: a@example.org\r\nFrom: b@example.org\r\n", NULL },
		{ "From: a@example.org, b@example.org\r\n", NULL },
		{ "From: undisclosed:;\r\n", NULL },
		{ "From: alice\r\n", NULL },
		{ "To: b@c\r\n", NULL },
		{ "", NULL },
	};
	char	out[DNS_NAME_MAX + 1];
	size_t	i;
	int	rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = dkimkey_from_domain(span_str(cases[i].hdrs), out,
		    sizeof(out));
		if (cases[i].want == NULL)
			assert_int_equal(rc, -1);
		else {
			assert_int_equal(rc, 0);
			assert_string_equal(out, cases[i].want);
		}
	}
}

/* The value of tag in a DKIM-Signature field (unfolded), into out. */
static void
sig_tag(const char *field, const char *tag, char *out, size_t outsz)
{
	char		 pat[16];
	const char	*p, *e;
	size_t		 o = 0;

	(void)snprintf(pat, sizeof(pat), " %s=", tag);
	if ((p = strstr(field, pat)) == NULL) {
		pat[0] = '\t';
		p = strstr(field, pat);
	}
	if (p == NULL) {
		(void)snprintf(pat, sizeof(pat), ";%s=", tag);
		p = strstr(field, pat);
	}
	assert_non_null(p);
	for (p += strlen(pat), e = p; *e != ';' && *e != '\0'; e++)
		if (*e != '\r' && *e != '\n' && *e != '\t' && *e != ' ') {
			assert_true(o + 1 < outsz);
			out[o++] = *e;
		}
	out[o] = '\0';
}

/*
 * RFC 6376 §3.4.2 relaxed header canonicalisation, written here again
 * for the check: name lower case, unfold, WSP runs to one SP, none at
 * the end or around the colon.
 */
static void
relaxed(const char *f, size_t len, bool crlf, struct buf *out)
{
	const char	*colon = memchr(f, ':', len);
	size_t		 i, start;
	bool		 sp = false;

	assert_non_null(colon);
	for (i = 0; f + i < colon; i++)
		if (f[i] != ' ' && f[i] != '\t')
			assert_int_equal(buf_append_char(out,
			    (char)(f[i] | (f[i] >= 'A' && f[i] <= 'Z' ?
			    0x20 : 0))), 0);
	assert_int_equal(buf_append_char(out, ':'), 0);
	start = out->len;
	for (i = (size_t)(colon - f) + 1; i < len; i++) {
		if (f[i] == '\r' || f[i] == '\n')
			continue;
		if (f[i] == ' ' || f[i] == '\t') {
			sp = true;
			continue;
		}
		if (sp && out->len > start)
			assert_int_equal(buf_append_char(out, ' '), 0);
		sp = false;
		assert_int_equal(buf_append_char(out, f[i]), 0);
	}
	if (crlf)
		assert_int_equal(buf_append_str(out, "\r\n"), 0);
}

static void
verify(const struct dkimkey *k, const char *sig, const char *hdrs,
    const char *const *signed_fields, size_t n)
{
	struct buf	 c;
	unsigned char	 raw[1024], bsig[1024], dg[32];
	char		 b64[2048], *stripped, *bpos;
	size_t		 rawlen, siglen, i;
	unsigned int	 dlen;
	const unsigned char *p = raw;
	EVP_PKEY	*pub;
	EVP_MD_CTX	*md;
	const char	*f;

	(void)hdrs;
	buf_init(&c, 1 << 20);
	for (i = 0; i < n; i++) {
		f = signed_fields[i];
		relaxed(f, strlen(f), true, &c);
	}
	/* the signature field with b= emptied, without its CRLF */
	stripped = xstrdup(sig);
	bpos = strstr(stripped, "\tb=");
	assert_non_null(bpos);
	bpos[3] = '\0';
	relaxed(stripped, strlen(stripped), false, &c);
	free(stripped);

	sig_tag(sig, "b", b64, sizeof(b64));
	assert_int_equal(sasl_b64_decode(span_str(b64), bsig, &siglen), 0);
	assert_int_equal(sasl_b64_decode(span_str(k->pub), raw, &rawlen), 0);
	if (k->alg == DKIMKEY_RSA)
		pub = d2i_PUBKEY(NULL, &p, (long)rawlen);
	else
		pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
		    rawlen);
	assert_non_null(pub);
	md = EVP_MD_CTX_new();
	if (k->alg == DKIMKEY_RSA) {
		assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(),
		    NULL, pub), 1);
		assert_int_equal(EVP_DigestVerify(md, bsig, siglen,
		    (unsigned char *)c.data, c.len), 1);
	} else {
		/* RFC 8463 §3: Ed25519 over the SHA-256 of the data */
		assert_int_equal(EVP_Digest(c.data, c.len, dg, &dlen,
		    EVP_sha256(), NULL), 1);
		assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL,
		    pub), 1);
		assert_int_equal(EVP_DigestVerify(md, bsig, siglen, dg, dlen),
		    1);
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	buf_free(&c);
}

#define F_RECV	"Received: from x by y; Sun, 6 Dec 2026 17:00:00 +0000\r\n"
#define F_FROM	"From: Alice <alice@example.org>\r\n"
#define F_TO1	"To: bob@example.net\r\n"
#define F_TO2	"to:  carol@example.net,\r\n\t dave@example.net\r\n"
#define F_SUBJ	"Subject:   Re: hello \t there: \r\n"
#define F_XMAIL	"X-Mailer: test\r\n"

static void
sign_one(enum dkimkey_alg alg, unsigned bits)
{
	static const char hdrs[] = F_RECV F_FROM F_TO1 F_SUBJ F_XMAIL F_TO2;
	/* h= order: From, Subject, To (§5.4.1's list); bottom-up */
	static const char *const fields[] = { F_FROM, F_SUBJ, F_TO2, F_TO1 };
	struct dkimkey	 k = make_key(alg, bits);
	unsigned char	 bh[32];
	char		 h[512], bhv[64], b64[64], v[64];
	struct buf	 out;
	const char	*err = NULL;

	memset(bh, 0x5a, sizeof(bh));
	buf_init(&out, 65536);
	assert_int_equal(dkimkey_sign(&k, span_str(hdrs), bh, sizeof(bh),
	    1765040000, &out, &err), 0);
	assert_true(strncmp(out.data, "DKIM-Signature: v=1; a=", 23) == 0);
	sig_tag(out.data, "a", v, sizeof(v));
	assert_string_equal(v, alg == DKIMKEY_RSA ? "rsa-sha256" :
	    "ed25519-sha256");
	sig_tag(out.data, "c", v, sizeof(v));
	assert_string_equal(v, "relaxed/relaxed");
	sig_tag(out.data, "d", v, sizeof(v));
	assert_string_equal(v, "example.org");
	sig_tag(out.data, "s", v, sizeof(v));
	assert_string_equal(v, "sel");
	sig_tag(out.data, "t", v, sizeof(v));
	assert_string_equal(v, "1765040000");
	assert_true(strcmp(out.data + out.len - 2, "\r\n") == 0);
	sig_tag(out.data, "h", h, sizeof(h));
	assert_string_equal(h, "From:From:Subject:Subject:To:To:To");
	sig_tag(out.data, "bh", bhv, sizeof(bhv));
	(void)sasl_b64_encode(bh, sizeof(bh), b64);
	assert_string_equal(bhv, b64);
	verify(&k, out.data, hdrs, fields, 4);
	buf_free(&out);
	dkimkey_release(&k, 1);
}

static void
test_sign_ed25519(void **state)
{
	(void)state;
	sign_one(DKIMKEY_ED25519, 0);
}

static void
test_sign_rsa(void **state)
{
	(void)state;
	sign_one(DKIMKEY_RSA, 1024);
}

static void
test_sign_refuses_hostile_counts(void **state)
{
	struct dkimkey	 k = make_key(DKIMKEY_ED25519, 0);
	struct buf	 hdrs, out;
	unsigned char	 bh[32] = { 0 };
	const char	*err = NULL;
	int		 i;

	(void)state;
	buf_init(&hdrs, 1 << 20);
	buf_init(&out, 65536);
	assert_int_equal(buf_append_str(&hdrs, F_FROM), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_append_str(&hdrs, "Cc: x@y\r\n"), 0);
	assert_int_equal(dkimkey_sign(&k, span_make(hdrs.data, hdrs.len), bh,
	    sizeof(bh), 1, &out, &err), -1);
	assert_int_equal(out.len, 0);
	buf_free(&hdrs);
	buf_free(&out);
	dkimkey_release(&k, 1);
}

static void
test_generate_bounds(void **state)
{
	struct dkimkey	 k;
	const char	*err = NULL;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.alg = DKIMKEY_RSA;
	k.bits = 512;
	assert_int_equal(dkimkey_generate(&k, &err), -1);
	k.bits = 8192;
	assert_int_equal(dkimkey_generate(&k, &err), -1);
	assert_null(k.pkey);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_selector),
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_from_domain),
		cmocka_unit_test(test_sign_ed25519),
		cmocka_unit_test(test_sign_rsa),
		cmocka_unit_test(test_sign_refuses_hostile_counts),
		cmocka_unit_test(test_generate_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
