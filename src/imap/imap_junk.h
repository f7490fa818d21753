/*
 * imap_junk: the Bayes filter learns from what users do with their
 * Junk folder (issue 15).  A message moved or copied into Junk is
 * learnt as spam for its user, one moved out of it (but not into Trash)
 * as ham; $Junk and $NotJunk marks count the same (imap_kw.h decides,
 * imap_mbox_junk_take() hands them over).
 *
 * The imap role reads the message file (it has it; lookup has no access
 * to mailboxes), turns at most SPAM_SCAN_MAX of it into Bayes tokens
 * and sends them with the message's learn-once id (spamtrain.h) to
 * lookup in MSG_LOOKUP_SPAM_TRAIN (lookup_spamtrain.h), which learns
 * each id once per class.  Fire and forget, and after the command: the
 * moves wait in a bounded queue that a zero timer drains a few messages
 * a turn of the event loop, so the IMAP reply never waits for it.
 */
#ifndef CACHET_IMAP_JUNK_H
#define CACHET_IMAP_JUNK_H

struct imap_junk;
struct imap_mbox;
struct proc_self;

struct imap_junk	*imap_junk_new(struct proc_self *);
void			 imap_junk_free(struct imap_junk *);
/* After a command of user's session: queue its Junk moves. */
void			 imap_junk_take(struct imap_junk *, struct imap_mbox *,
			    const char *user);

#endif
