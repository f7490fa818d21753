/*
 * lookup_greylist: STAND-IN (the `greylist` helper replaces this file):
 * every triplet passes.
 */
#include <stdlib.h>

#include "log.h"
#include "lookup_greylist.h"
#include "util.h"

struct lookup_greylist {
	struct proc_self	*self;
};

struct lookup_greylist *
lookup_greylist_new(struct proc_self *self, const struct conf *conf)
{
	struct lookup_greylist	*g = xcalloc(1, sizeof(*g));

	(void)conf;
	g->self = self;
	return g;
}

void
lookup_greylist_request(struct lookup_greylist *g, struct proc_peer from,
    struct msg *m)
{
	struct msg	*a;
	char		 ip[64], sender[512], rcpt[512];
	uint64_t	 reqid;
	uint32_t	 flags;

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, ip, sizeof(ip)) == -1 ||
	    msg_get_str(m, sender, sizeof(sender)) == -1 ||
	    msg_get_str(m, rcpt, sizeof(rcpt)) == -1 ||
	    msg_get_u32(m, &flags) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s", msg_name(m->type));
	a = msg_new(MSG_LOOKUP_GREYLIST_RESULT);
	msg_put_u64(a, reqid);
	msg_put_u32(a, 0);
	msg_put_str(a, "");
	msg_put_str(a, "");
	(void)proc_send_peer(g->self, from, a);
}
