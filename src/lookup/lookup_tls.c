/*
 * lookup_tls: lookup's TLS key and its replacement (lookup_tls.h).
 *
 * STAND-IN: holds the key read at start; install is refused.
 */
#include <stdlib.h>

#include "lookup/lookup_tls.h"
#include "tls.h"
#include "util.h"

struct lookup_tls {
	struct proc_self	*self;
	struct tls_key		*key;
};

struct lookup_tls *
lookup_tls_new(struct proc_self *self, struct tls_key *key)
{
	struct lookup_tls	*t;

	t = xcalloc(1, sizeof(*t));
	t->self = self;
	t->key = key;
	return t;
}

struct tls_key *
lookup_tls_key(struct lookup_tls *t)
{
	return t->key;
}

int
lookup_tls_install(struct lookup_tls *t, const char *chain_pem,
    size_t chain_len, const char *key_pem, size_t key_len,
    const char **errstr_out)
{
	*errstr_out = "installing a certificate is not built yet";
	return -1;
}

int
lookup_tls_spki_sha256(struct lookup_tls *t, uint8_t out[32])
{
	return -1;
}

void
lookup_tls_free(struct lookup_tls *t)
{
	if (t == NULL)
		return;
	tls_key_free(t->key);
	free(t);
}
