/*
 * lookup_spamtrain: STAND-IN (the `train` helper replaces this file).
 */
#include "log.h"
#include "lookup_bayes.h"
#include "lookup_spamtrain.h"

void
lookup_spamtrain_ctl(struct proc_self *self, struct lookup_bayes *b,
    uint64_t reqid, size_t argc, char **argv, struct msg *m)
{
	(void)b;
	(void)argc;
	(void)argv;
	(void)m;
	proc_ctl_end(self, reqid, 1, "spam train: not built yet");
}

void
lookup_spamtrain_imap(struct lookup_bayes *b, struct proc_peer from,
    struct msg *m)
{
	(void)b;
	(void)from;
	(void)m;
}
