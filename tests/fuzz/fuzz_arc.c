/*
 * libFuzzer target for arc.c: the input is a header section (hostile
 * ARC sets, RFC 8617) parsed into a chain and, when it parses, verified
 * with one fixed RSA key standing for every selector and a body hash of
 * zeros; the same bytes as a key record (RFC 6376 §3.6.1); and, when the
 * first byte is odd, the section sealed.  Broken invariants abort(): a
 * chain's instance count past 50, a passing chain with a missing set or
 * wrong cv=, a seal that does not end in CRLF.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "arc.h"

static EVP_PKEY	*fz_key;
static struct arc_chain	fz_chain;

static int
fz_bh(void *arg, enum dkim_canon canon, uint64_t limit, unsigned char *out)
{
	(void)arg;
	(void)canon;
	(void)limit;
	memset(out, 0, DKIM_DIGEST_MAX);
	return 0;
}

static EVP_PKEY *
fz_getkey(void *arg, const char *d, const char *s, bool *temp)
{
	(void)arg;
	*temp = false;
	if (strnlen(d, DNS_NAME_MAX + 1) > DNS_NAME_MAX ||
	    strnlen(s, DNS_LABEL_MAX + 1) > DNS_LABEL_MAX)
		abort();
	return fz_key;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arc_verify_ops	 ops = { fz_bh, fz_getkey, NULL };
	struct arc_chain	*c = &fz_chain;
	struct span		 hdrs = span_make((const char *)data, size);
	struct arc_seal_args	 a;
	struct buf		 out;
	unsigned char		 bh[DKIM_DIGEST_MAX] = { 0 };
	const char		*err;
	EVP_PKEY		*k;
	unsigned		 i;

	if (fz_key == NULL && (fz_key = EVP_RSA_gen(1024)) == NULL)
		abort();
	if ((k = arc_key_parse(hdrs, &err)) != NULL)
		EVP_PKEY_free(k);

	arc_chain_parse(hdrs, c);
	if (c->n > ARC_INSTANCE_MAX)
		abort();
	if (c->result == ARC_CV_PASS) {
		for (i = 0; i < c->n; i++)
			if (!c->set[i].have_aar || !c->set[i].have_ams ||
			    !c->set[i].have_as || c->set[i].as.cv !=
			    (i == 0 ? ARC_CV_NONE : ARC_CV_PASS))
				abort();
		arc_chain_verify(c, hdrs, &ops);
	}
	if (size > 0 && (data[0] & 1) != 0) {
		memset(&a, 0, sizeof(a));
		a.ar = span_make("mx.example.org; arc=none", 24);
		a.cv = c->result;
		a.d = "example.org";
		a.s = "sel";
		a.h = "from:to:subject";
		a.t = 1;
		a.key = fz_key;
		a.bh = bh;
		buf_init(&out, 1024 * 1024);
		if (arc_seal(hdrs, c, &a, &out, &err) == 0 && out.len > 0 &&
		    (out.len < 2 || memcmp(out.data + out.len - 2, "\r\n",
		    2) != 0))
			abort();
		buf_free(&out);
	}
	return 0;
}
