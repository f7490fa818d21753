/*
 * spamtrain: how a message to teach the Bayes filter is named and where
 * messages come from (issue 15), for the two places that read messages
 * to learn them: cachetctl's `spam train` (tools/ctl_spamtrain.c) and
 * the imap role's Junk moves (imap.c).  Both name a message the same
 * way, so that one learnt by either is learnt once (lookup_bayes_train).
 *
 * Pure.  The input is hostile (files a user named, messages in a
 * mailbox): every scan is linear and bounded by its input.
 */
#ifndef CACHET_SPAMTRAIN_H
#define CACHET_SPAMTRAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* An id with its NUL; a longer Message-ID gives way to the digest. */
#define SPAMTRAIN_ID_MAX	256

/*
 * The learn-once id of the message in data[0..len): its Message-ID
 * (RFC 5322 §3.6.4) as "<left@right>" with the CFWS inside removed and
 * the right side lower-cased (domains are case-insensitive, local parts
 * are not); without a usable one (none, longer than SPAMTRAIN_ID_MAX - 1
 * or holding a byte outside printable ASCII, such as the space of a
 * quoted left side), "sha256:" and the hex SHA-256 of the
 * header section (up to the blank line or the end) with each CR LF
 * taken as LF, so that the same file stored with either line end is the
 * same message.
 */
void	spamtrain_id(const char *data, size_t len,
	    char out[SPAMTRAIN_ID_MAX]);
/*
 * Could p[0..len) be such an id: 1 to SPAMTRAIN_ID_MAX - 1 bytes of
 * printable ASCII without space (one word in logs)?  For the receiver.
 */
bool	spamtrain_id_ok(const char *p, size_t len);

/*
 * mbox: a file whose first line starts "From " (mboxrd, as qmail's
 * mbox(5) and Debian's mutt write it).
 */
bool	spamtrain_is_mbox(const char *data, size_t len);
/*
 * The next message of the mbox in *rest: the bytes after its "From "
 * line up to the next line that starts "From " (the separator), *rest
 * moved past it.  false at the end.
 */
bool	spamtrain_mbox_next(struct span *rest, struct span *msg_out);
/*
 * A message of an mbox as it was before it was stored (mboxrd): each
 * line ">From ", ">>From ", ... loses one '>'.  Appends to out (reset
 * it first) as far as out->max allows: -1 when cut there.
 */
int	spamtrain_mbox_unquote(struct span msg, struct buf *out);

#endif
