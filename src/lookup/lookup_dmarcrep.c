/*
 * lookup_dmarcrep: DMARC aggregate reports (RFC 7489 §7, msgauth.h).  A
 * stand-in until it lands: nothing is recorded.
 */
#include <stdlib.h>

#include "msgauth.h"
#include "util.h"

struct lookup_dmarcrep {
	struct proc_self	*self;
};

struct lookup_dmarcrep *
lookup_dmarcrep_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_dmarcrep	*lr = xcalloc(1, sizeof(*lr));

	(void)conf;
	(void)dns;
	lr->self = self;
	return lr;
}

void
lookup_dmarcrep_record(struct lookup_dmarcrep *lr, const struct msgauth *m)
{
	(void)lr;
	(void)m;
}
