/*
 * libFuzzer target for srs: every input goes through srs_reverse() (the
 * decoder a bounce's RCPT TO reaches) from a heap copy of exactly its
 * length, under a fixed secret, so that a read past len trips ASan.
 * What decodes is forwarded again, and that must decode to the same
 * address; the same bytes also go through srs_forward() as a sender.
 * An invariant that breaks calls abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "srs.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srs_keys	 k;
	enum srs_error	 e;
	char		 dec[SRS_ADDR_MAX + 1], again[SRS_ADDR_MAX + 1];
	char		 back[SRS_ADDR_MAX + 1];
	char		*copy;
	int		 rc;

	memset(&k, 0, sizeof(k));
	k.n = 1;
	k.secret[0].len = 4;
	memcpy(k.secret[0].key, "fuzz", 4);
	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	rc = srs_reverse(&k, copy, size, 20000, 21, dec, sizeof(dec), &e);
	if ((rc == 0) != (e == SRS_OK) || strlen(dec) > SRS_ADDR_MAX)
		abort();
	if (rc == 0 && srs_forward(&k, dec, strlen(dec), "example.org",
	    20000, again, sizeof(again), &e) == 0 &&
	    (srs_reverse(&k, again, strlen(again), 20000, 21, back,
	    sizeof(back), &e) != 0 || strcmp(back, dec) != 0))
		abort();
	/* The encoder on the same bytes, as a sender. */
	rc = srs_forward(&k, copy, size, "example.org", 20000, again,
	    sizeof(again), &e);
	if ((rc == 0) != (e == SRS_OK) || strlen(again) > SRS_ADDR_MAX)
		abort();
	free(copy);
	return 0;
}
