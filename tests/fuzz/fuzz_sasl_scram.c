/*
 * libFuzzer target for the SCRAM-SHA-256 messages of sasl.c: the
 * client-first and client-final parsers and what is built from them.
 * The first byte picks the mechanism (-PLUS or not), whether binding is
 * offered and whether binding data is there; the rest is client-first,
 * a NUL, client-final (each from a heap copy of exactly its length, so a
 * read past it trips ASan).  The server side runs with RFC 7677's salt
 * and nonce, so the RFC's messages in the seed corpus reach the end.
 * Invariants that break call abort(): the server messages follow the
 * grammar of RFC 5802 §7, the AuthMessage is client-first-bare,
 * server-first and the final without its proof, the proof is 32 octets.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"

#define FZ_SNONCE	"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"

static const unsigned char fz_salt[16] = {
	0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
	0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81,
};

static char *
fz_copy(const uint8_t *p, size_t n)
{
	char	*c;

	if ((c = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	memcpy(c, p, n);
	return c;
}

/* Printable ASCII without ',' between "r=" and ",s=" etc. */
static void
fz_check_server_first(struct span sf)
{
	size_t	i;

	if (sf.len < 2 || memcmp(sf.ptr, "r=", 2) != 0 ||
	    memmem(sf.ptr, sf.len, ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    34) == NULL)
		abort();
	for (i = 0; i < sf.len; i++)
		if (sf.ptr[i] < 0x21 || sf.ptr[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char	 cbdata[32] = { 7, 7, 7 };
	struct sasl_scram		*sc;
	struct sasl_scram_challenge	 ch;
	struct span			 sf, am, v;
	unsigned char			 stored[32], server[32], sig[32];
	const uint8_t			*nul;
	const char			*why = NULL;
	char				*first, *final;
	size_t				 flen, rest;
	bool				 plus, offered, have_cb;

	if (size < 1)
		return 0;
	plus = (data[0] & 1) != 0;
	offered = plus || (data[0] & 2) != 0;
	have_cb = (data[0] & 4) == 0;
	data++;
	size--;
	nul = memchr(data, '\0', size);
	flen = nul != NULL ? (size_t)(nul - data) : size;
	rest = nul != NULL ? size - flen - 1 : 0;
	first = fz_copy(data, flen);
	final = fz_copy(nul != NULL ? nul + 1 : data, rest);

	sc = sasl_scram_new(plus, offered);
	if (sasl_scram_client_first(sc, first, flen, &why) != SASL_SCRAM_OK) {
		if (why == NULL)
			abort();
		goto out;
	}
	if (strlen(sasl_scram_user(sc)) == 0 ||
	    strlen(sasl_scram_user(sc)) > SASL_FIELD_MAX)
		abort();
	if (sasl_scram_cb(sc) != SASL_CB_NONE) {
		if (!plus)
			abort();
		if (!have_cb)
			goto out;
		sasl_scram_set_cb_data(sc, cbdata, sizeof(cbdata));
	} else if (plus)
		abort();
	memset(&ch, 0, sizeof(ch));
	memcpy(ch.salt, fz_salt, sizeof(fz_salt));
	ch.saltlen = sizeof(fz_salt);
	ch.iterations = 4096;
	memcpy(ch.snonce, FZ_SNONCE, sizeof(FZ_SNONCE));
	if (sasl_scram_server_first(sc, &ch, &sf) == -1)
		abort();
	fz_check_server_first(sf);
	if (sasl_scram_client_final(sc, final, rest, &why) != SASL_SCRAM_OK) {
		if (why == NULL)
			abort();
		goto out;
	}
	am = sasl_scram_auth_message(sc);
	if (am.len <= sf.len + 2 || am.len > SASL_SCRAM_AUTHMSG_MAX ||
	    memmem(am.ptr, am.len, sf.ptr, sf.len) == NULL ||
	    am.len - sf.len - 2 > flen + rest)
		abort();
	/* the keys of "pencil"; a proof checks or not, it never crashes */
	if (sasl_scram_derive("pencil", 6, fz_salt, sizeof(fz_salt), 4096,
	    stored, server) == -1)
		abort();
	(void)sasl_scram_verify(stored, server, am.ptr, am.len,
	    sasl_scram_proof(sc), sig);
	v = sasl_scram_server_final(sc, sig);
	if (v.len != 46 || memcmp(v.ptr, "v=", 2) != 0)
		abort();
out:
	sasl_scram_free(sc);
	free(first);
	free(final);
	return 0;
}
