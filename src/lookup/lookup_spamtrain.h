/*
 * lookup_spamtrain: teaching the Bayes database (issue 15).
 *
 * `cachetctl spam train spam|ham PATH...` parses the files, Maildirs and
 * mboxes itself (tools/ctl_spamtrain.c) and sends the tokens of each message,
 * as many as fit in one request (argv "spam" "train" "spam|ham" [USER],
 * then u32 count and per message: str id, data tokens as spam_tokens' b);
 * `cachetctl spam stats [USER]` prints what was learnt.
 *
 * MSG_LOOKUP_SPAM_TRAIN (imap -> lookup, a message a user moved into
 * their Junk folder, or out of it): str user, str id (lookup_bayes.h),
 * u32 1 spam / 0 ham, data tokens.  No answer.
 *
 * The ids are spamtrain_id()'s (lib/spamtrain.h) on both paths, so that
 * a message trained by either is learnt once.
 */
#ifndef CACHET_LOOKUP_SPAMTRAIN_H
#define CACHET_LOOKUP_SPAMTRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "proc.h"

struct lookup_bayes;

/* `cachetctl spam train|stats`: m is positioned after the arguments. */
void	lookup_spamtrain_ctl(struct proc_self *, struct lookup_bayes *,
	    uint64_t reqid, size_t argc, char **argv, struct msg *m);
/* MSG_LOOKUP_SPAM_TRAIN from imap. */
void	lookup_spamtrain_imap(struct lookup_bayes *, struct proc_peer from,
	    struct msg *m);

#endif
