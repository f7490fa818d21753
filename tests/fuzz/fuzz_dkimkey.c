/*
 * libFuzzer target for the signing side of dkimkey.c: every input is a
 * header section a user wrote (hostile), from a heap copy of exactly its
 * length so that a read past it trips ASan.  dkimkey_from_domain() must
 * give a lower-case domain or nothing; dkimkey_sign() (an ed25519 key
 * made once) must give one field ending in CRLF, or nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lookup/dkimkey.h"
#include "util.h"

static struct dkimkey	fuzz_key;

static void
fuzz_key_init(void)
{
	const char	*err = NULL;

	if (fuzz_key.pkey != NULL)
		return;
	fuzz_key.alg = DKIMKEY_ED25519;
	(void)str_copy(fuzz_key.domain, sizeof(fuzz_key.domain),
	    "example.org");
	(void)str_copy(fuzz_key.selector, sizeof(fuzz_key.selector), "f");
	if (dkimkey_generate(&fuzz_key, &err) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*copy, domain[DNS_NAME_MAX + 1];
	unsigned char	 bh[32] = { 0 };
	struct buf	 out;
	const char	*err = NULL;
	size_t		 i;

	fuzz_key_init();
	copy = xmalloc(size + 1);
	memcpy(copy, data, size);
	if (dkimkey_from_domain(span_make(copy, size), domain,
	    sizeof(domain)) == 0) {
		if (domain[0] == '\0')
			abort();
		for (i = 0; domain[i] != '\0'; i++)
			if (domain[i] >= 'A' && domain[i] <= 'Z')
				abort();
	}
	buf_init(&out, 64 * 1024);
	if (dkimkey_sign(&fuzz_key, span_make(copy, size), bh, sizeof(bh), 1,
	    &out, &err) == 0) {
		if (out.len < 18 ||
		    memcmp(out.data, "DKIM-Signature: ", 16) != 0 ||
		    memcmp(out.data + out.len - 2, "\r\n", 2) != 0)
			abort();
	} else if (out.len != 0)
		abort();
	buf_free(&out);
	free(copy);
	return 0;
}
