/*
 * lookup_dmarc: DMARC (RFC 7489, msgauth.h).  A stand-in until it lands:
 * every message is "none".
 */
#include <stdlib.h>

#include "msgauth.h"
#include "util.h"

struct lookup_dmarc {
	struct proc_self	*self;
};

struct lookup_dmarc *
lookup_dmarc_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_dmarc	*ld = xcalloc(1, sizeof(*ld));

	(void)conf;
	(void)dns;
	ld->self = self;
	return ld;
}

void
lookup_dmarc_evaluate(struct lookup_dmarc *ld, struct msgauth *m,
    msgauth_done_cb done)
{
	(void)ld;
	m->dmarc.result = MSGAUTH_DMARC_NONE;
	done(m);
}
