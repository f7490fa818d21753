/*
 * Unit tests for dkim.c: body canonicalisation and hashing (RFC 6376
 * §3.4.3, §3.4.4, §3.7 with erratum 3192), header canonicalisation
 * (§3.4.1, §3.4.2, including the example of §3.4.5), the header walker,
 * tag lists (§3.2) and the body-hash specs of a header section.  Each
 * body case gives the canonical text the RFC's rules make; the test
 * hashes that text itself and compares, and feeds the input in every
 * split (one octet, then two pieces at every offset) to check that the
 * streaming keeps what it must hold back.
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

#include "dkim.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct body_case {
	enum dkim_canon	 canon;
	uint64_t	 limit;
	const char	*in;
	const char	*canonical;
};

static const struct body_case body_cases[] = {
	/* §3.4.5's example body */
	{ DKIM_CANON_RELAXED, DKIM_BH_NOLIMIT,
	    " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n" },
	{ DKIM_CANON_SIMPLE, DKIM_BH_NOLIMIT,
	    " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n" },
	/* empty bodies (erratum 3192) */
	{ DKIM_CANON_RELAXED, DKIM_BH_NOLIMIT, "", "" },
	{ DKIM_CANON_SIMPLE, DKIM_BH_NOLIMIT, "", "\r\n" },
	{ DKIM_CANON_RELAXED, DKIM_BH_NOLIMIT, "\r\n\r\n", "" },
	{ DKIM_CANON_SIMPLE, DKIM_BH_NOLIMIT, "\r\n\r\n", "\r\n" },
	/* a line of white space only is empty under relaxed */
	{ DKIM_CANON_RELAXED, DKIM_BH_NOLIMIT, "a\r\n \t \r\n", "a\r\n" },
	{ DKIM_CANON_SIMPLE, DKIM_BH_NOLIMIT, "a\r\n \t \r\n",
	    "a\r\n \t \r\n" },
	/* empty lines inside the body stay */
	{ DKIM_CANON_RELAXED, DKIM_BH_NOLIMIT, "a\r\n\r\n\r\nb\r\n",
	    "a\r\n\r\n\r\nb\r\n" },
	/* no final CRLF: one is added */
	{ DKIM_CANON_RELAXED, DKIM_BH_NOLIMIT, "a  b ", "a b\r\n" },
	{ DKIM_CANON_SIMPLE, DKIM_BH_NOLIMIT, "a  b ", "a  b \r\n" },
	/* a CR alone is content */
	{ DKIM_CANON_SIMPLE, DKIM_BH_NOLIMIT, "a\rb\r\n", "a\rb\r\n" },
	/* l= counts canonical octets */
	{ DKIM_CANON_RELAXED, 4, "ab   cd\r\n", "ab c" },
	{ DKIM_CANON_SIMPLE, 0, "abc\r\n", "" },
	{ DKIM_CANON_SIMPLE, 100, "abc\r\n\r\n", "abc\r\n" },
};

static void
sha256(const char *p, size_t n, unsigned char *out)
{
	unsigned int	len;

	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

static void
check_body(const struct body_case *c, size_t split, bool octets)
{
	struct dkim_bh_spec	 spec = { c->canon, DKIM_HASH_SHA256,
				    c->limit };
	struct dkim_bh		*bh;
	unsigned char		 got[DKIM_DIGEST_MAX], want[32];
	uint64_t		 hashed;
	size_t			 n = strlen(c->in), i;

	bh = dkim_bh_new(&spec);
	if (octets)
		for (i = 0; i < n; i++)
			dkim_bh_update(bh, c->in + i, 1);
	else {
		dkim_bh_update(bh, c->in, split);
		dkim_bh_update(bh, c->in + split, n - split);
	}
	assert_int_equal(dkim_bh_final(bh, got, &hashed), 32);
	dkim_bh_free(bh);
	sha256(c->canonical, strlen(c->canonical), want);
	if (memcmp(got, want, 32) != 0 ||
	    hashed != strlen(c->canonical))
		fail_msg("body \"%s\" canon %d split %zu: not \"%s\"", c->in,
		    c->canon, split, c->canonical);
}

static void
test_body(void **state)
{
	size_t	i, split;

	(void)state;
	for (i = 0; i < NELEM(body_cases); i++) {
		check_body(&body_cases[i], 0, true);
		for (split = 0; split <= strlen(body_cases[i].in); split++)
			check_body(&body_cases[i], split, false);
	}
}

/* The well-known digests of an empty body, as every verifier has them. */
static void
test_body_empty_known(void **state)
{
	static const unsigned char relaxed[] = {	/* 47DEQpj8... */
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
	};
	static const unsigned char simple[] = {		/* frcCV1k9... */
		0x7e, 0xb7, 0x02, 0x57, 0x59, 0x3d, 0xa0, 0x6f,
	};
	struct dkim_bh_spec	 spec = { DKIM_CANON_RELAXED,
				    DKIM_HASH_SHA256, DKIM_BH_NOLIMIT };
	struct dkim_bh		*bh;
	unsigned char		 d[DKIM_DIGEST_MAX];

	(void)state;
	bh = dkim_bh_new(&spec);
	(void)dkim_bh_final(bh, d, NULL);
	dkim_bh_free(bh);
	assert_memory_equal(d, relaxed, sizeof(relaxed));
	spec.canon = DKIM_CANON_SIMPLE;
	bh = dkim_bh_new(&spec);
	(void)dkim_bh_final(bh, d, NULL);
	dkim_bh_free(bh);
	assert_memory_equal(d, simple, sizeof(simple));
}

static void
test_header_canon(void **state)
{
	static const struct {
		enum dkim_canon	 canon;
		bool		 crlf;
		const char	*in;
		const char	*out;
	} cases[] = {
		/* §3.4.5 */
		{ DKIM_CANON_RELAXED, true, "A: X\r\n", "a:X\r\n" },
		{ DKIM_CANON_RELAXED, true, "B : Y\t\r\n\tZ  \r\n",
		    "b:Y Z\r\n" },
		{ DKIM_CANON_SIMPLE, true, "B : Y\t\r\n\tZ  \r\n",
		    "B : Y\t\r\n\tZ  \r\n" },
		{ DKIM_CANON_RELAXED, false, "DKIM-Signature: a=1; b=\r\n",
		    "dkim-signature:a=1; b=" },
		{ DKIM_CANON_RELAXED, true, "Subject:   \r\n", "subject:\r\n" },
		{ DKIM_CANON_SIMPLE, true, "Subject: x", "Subject: x\r\n" },
		/* a ':' inside the value keeps the SP after it */
		{ DKIM_CANON_RELAXED, false, "DKIM-Signature: h=from : to :\r\n"
		    " subject", "dkim-signature:h=from : to : subject" },
		{ DKIM_CANON_RELAXED, true, "Subject: Re: x\r\n",
		    "subject:Re: x\r\n" },
	};
	struct buf	b;
	size_t		i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		buf_init(&b, 4096);
		assert_int_equal(dkim_canon_header(cases[i].canon,
		    span_str(cases[i].in), cases[i].crlf, &b), 0);
		assert_int_equal(b.len, strlen(cases[i].out));
		assert_memory_equal(b.data, cases[i].out, b.len);
		buf_free(&b);
	}
	buf_init(&b, 4096);
	assert_int_equal(dkim_canon_header(DKIM_CANON_RELAXED,
	    span_str("no colon\r\n"), true, &b), -1);
	buf_free(&b);
}

static void
test_header_walk(void **state)
{
	const char	*h = "From: a\r\nSubject: b\r\n c\r\nTo : d\r\n\r\nbody";
	struct span	 hs = span_str(h), f, n;
	size_t		 pos = 0;

	(void)state;
	assert_int_equal(dkim_header_next(hs, &pos, &f, &n), 1);
	assert_int_equal(f.len, 9);
	assert_int_equal(n.len, 4);
	assert_int_equal(dkim_header_next(hs, &pos, &f, &n), 1);
	assert_int_equal(f.len, strlen("Subject: b\r\n c\r\n"));
	assert_int_equal(dkim_header_next(hs, &pos, &f, &n), 1);
	assert_int_equal(n.len, 2);
	assert_int_equal(dkim_header_next(hs, &pos, &f, &n), 0);
	pos = 0;
	assert_int_equal(dkim_header_next(span_str("junk\r\n"), &pos, &f, &n),
	    -1);
}

static void
test_tags(void **state)
{
	struct span	 l = span_str(" v=1;a = rsa-sha256 ;\r\n\tb=ab\r\n cd; ;"),
			 t, v;
	size_t		 pos = 0;

	(void)state;
	assert_int_equal(dkim_tag_next(l, &pos, &t, &v), 1);
	assert_true(t.len == 1 && t.ptr[0] == 'v' && v.len == 1);
	assert_int_equal(dkim_tag_next(l, &pos, &t, &v), 1);
	assert_true(v.len == 10 && memcmp(v.ptr, "rsa-sha256", 10) == 0);
	assert_int_equal(dkim_tag_next(l, &pos, &t, &v), 1);
	assert_int_equal(v.len, strlen("ab\r\n cd"));
	assert_int_equal(dkim_tag_next(l, &pos, &t, &v), 0);
	pos = 0;
	assert_int_equal(dkim_tag_next(span_str("9=x"), &pos, &t, &v), -1);
	pos = 0;
	assert_int_equal(dkim_tag_next(span_str("a"), &pos, &t, &v), -1);
}

static void
test_specs(void **state)
{
	const char	*h =
	    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=x\r\n"
	    "dkim-signature: v=1; a=ed25519-sha256; c=relaxed/relaxed\r\n"
	    "DKIM-Signature: a=rsa-sha1; c=simple; l=10\r\n"
	    "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/simple\r\n"
	    "DKIM-Signature: a=rsa-sha256; l=x\r\n"
	    "Subject: c=relaxed/relaxed\r\n";
	struct dkim_bh_spec	out[8];
	size_t			n;

	(void)state;
	n = dkim_bh_specs(span_str(h), out, 0, 8);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].canon, DKIM_CANON_RELAXED);
	assert_int_equal(out[1].hash, DKIM_HASH_SHA1);
	assert_true(out[1].limit == 10);
	assert_int_equal(out[2].canon, DKIM_CANON_SIMPLE);
	assert_true(out[2].limit == DKIM_BH_NOLIMIT);
	/* the cap holds */
	assert_int_equal(dkim_bh_specs(span_str(h), out, 0, 2), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_body_empty_known),
		cmocka_unit_test(test_header_canon),
		cmocka_unit_test(test_header_walk),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
