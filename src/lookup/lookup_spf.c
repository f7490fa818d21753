/*
 * lookup_spf: see lookup_spf.h.  A stand-in until the evaluator lands:
 * every request is answered "none" at once.
 */
#include <stdlib.h>

#include "conf.h"
#include "dns.h"
#include "log.h"
#include "lookup_spf.h"
#include "spf.h"
#include "util.h"

struct lookup_spf {
	struct proc_self	*self;
};

struct lookup_spf *
lookup_spf_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_spf	*ls = xcalloc(1, sizeof(*ls));

	(void)conf;
	(void)dns;
	ls->self = self;
	return ls;
}

void
lookup_spf_request(struct lookup_spf *ls, struct proc_peer from,
    struct msg *m)
{
	struct msg	*a;
	uint64_t	 reqid;

	if (msg_get_u64(m, &reqid) == -1)
		fatalx("lookup: bad %s", msg_name(m->type));
	a = msg_new(MSG_LOOKUP_SPF_RESULT);
	msg_put_u64(a, reqid);
	msg_put_u32(a, SPF_NONE);
	msg_put_str(a, "mailfrom");
	msg_put_str(a, "");
	msg_put_str(a, "not checked");
	(void)proc_send_peer(ls->self, from, a);
}

void
lookup_spf_peer_change(struct lookup_spf *ls, struct proc_peer p)
{
	(void)ls;
	(void)p;
}
