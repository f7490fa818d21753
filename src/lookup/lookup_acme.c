/*
 * lookup_acme: ACME certificates (lookup_acme.h).
 *
 * STAND-IN: no ACME yet.
 */
#include <stdlib.h>

#include "lookup/lookup_acme.h"
#include "log.h"

struct lookup_acme {
	int	 unused;
};

struct lookup_acme *
lookup_acme_new(struct proc_self *self, const struct conf *conf,
    struct lookup_tls *tls)
{
	if (conf->acme_url[0] != '\0')
		log_warnx("lookup: tls { acme } is not built yet: the "
		    "certificate stays the one made at start");
	return NULL;
}

int
lookup_acme_next_spki(struct lookup_acme *a, uint8_t out[32])
{
	return -1;
}

void
lookup_acme_free(struct lookup_acme *a)
{
	free(a);
}
