/*
 * lookup_dkimsign: DKIM signing (msgauth.h).  A stand-in until it lands:
 * nothing is signed.
 */
#include <stdlib.h>

#include "msgauth.h"
#include "util.h"

struct lookup_dkimsign {
	struct proc_self	*self;
};

struct lookup_dkimsign *
lookup_dkimsign_new(struct proc_self *self, const struct conf *conf)
{
	struct lookup_dkimsign	*ls = xcalloc(1, sizeof(*ls));

	(void)conf;
	ls->self = self;
	return ls;
}

void
lookup_dkimsign_sign(struct lookup_dkimsign *ls, struct msgauth *m,
    msgauth_done_cb done)
{
	(void)ls;
	done(m);
}

struct evp_pkey_st *
lookup_dkimsign_rsa_key(struct lookup_dkimsign *ls, const char *domain,
    char *selector)
{
	(void)ls;
	(void)domain;
	selector[0] = '\0';
	return NULL;
}
