/*
 * lookup_msgauth: see lookup_msgauth.h.  A stand-in until the
 * orchestrator lands: every message is accepted with nothing added.
 */
#include <stdlib.h>

#include "conf.h"
#include "log.h"
#include "lookup_msgauth.h"
#include "msgauth.h"
#include "util.h"

struct lookup_msgauth {
	struct proc_self	*self;
	struct msgauth_modules	 mod;
};

struct lookup_msgauth *
lookup_msgauth_new(struct proc_self *self, const struct conf *conf,
    const struct msgauth_modules *mod)
{
	struct lookup_msgauth	*la = xcalloc(1, sizeof(*la));

	(void)conf;
	la->self = self;
	la->mod = *mod;
	return la;
}

void
lookup_msgauth_request(struct lookup_msgauth *la, struct proc_peer from,
    struct msg *m)
{
	struct msg	*a;
	uint64_t	 reqid;

	if (msg_get_u64(m, &reqid) == -1)
		fatalx("lookup: bad %s", msg_name(m->type));
	a = msg_new(MSG_LOOKUP_MESSAGE_RESULT);
	msg_put_u64(a, reqid);
	msg_put_u32(a, 0);
	msg_put_str(a, "");
	msg_put_str(a, "");
	msg_put_u32(a, 0);
	msg_put_data(a, "", 0);
	(void)proc_send_peer(la->self, from, a);
}

void
lookup_msgauth_sign(struct lookup_msgauth *la, struct proc_peer from,
    struct msg *m)
{
	struct msg	*a;
	uint64_t	 reqid;

	if (msg_get_u64(m, &reqid) == -1)
		fatalx("lookup: bad %s", msg_name(m->type));
	a = msg_new(MSG_LOOKUP_SIGN_RESULT);
	msg_put_u64(a, reqid);
	msg_put_data(a, "", 0);
	(void)proc_send_peer(la->self, from, a);
}

void
lookup_msgauth_peer_change(struct lookup_msgauth *la, struct proc_peer p)
{
	(void)la;
	(void)p;
}

const struct msgauth_bh *
msgauth_bh_find(const struct msgauth *m, enum dkim_canon canon,
    enum dkim_hash hash, uint64_t limit)
{
	size_t	i;

	for (i = 0; i < m->nbh; i++)
		if (m->bh[i].canon == canon && m->bh[i].hash == hash &&
		    m->bh[i].limit == limit)
			return &m->bh[i];
	return NULL;
}

void
msgauth_free(struct msgauth *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->hdrs);
	buf_free(&m->prepend);
	free(m);
}
