/*
 * mda: the local delivery role.  The queue sends MSG_MDA_DELIVER with a
 * read-only descriptor of the message; the mda writes it into the user's
 * Maildir (maildir.c) or mbox (mbox.c) under mail-dir, in which it is
 * chrooted as the mailboxes' owner, and answers MSG_MDA_RESULT.  No
 * program is ever run for a recipient: delivery to a pipe, the source of
 * many of sendmail's security holes, is not offered.
 *
 * The helpers below are the role's pure parts, exported for the tests.
 */
#ifndef CACHET_MDA_H
#define CACHET_MDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"

/* MSG_MDA_RESULT's result field. */
enum mda_result {
	MDA_DELIVERED,		/* fsync'ed into the mailbox */
	MDA_TEMPFAIL,		/* try again later */
	MDA_PERMFAIL,		/* will never work: the recipient fails */
};

/* Return-Path: and Delivered-To: lines, LF-ended: the longest they get. */
#define MDA_PREPEND_MAX		(2 * 1000 + 64)

/*
 * Is mailbox a path lookup could have made for this format
 * (mailbox_path(): "<domain>/<local>" or "<domain>/<local>/mbox")?
 * Relative, no "." or ".." component, no empty one: a sibling's message
 * cannot name a file outside mail-dir or another kind of file in it.
 */
bool	mda_mailbox_valid(const char *mailbox, enum mailbox_format format);

/*
 * Write "Return-Path: <sender>\nDelivered-To: rcpt\n" into out (RFC 5321
 * §4.4, and Delivered-To as Postfix and qmail write it).  Control bytes
 * in either string become '?', so that nothing can end a header line
 * early.  Returns the length, or 0 when out is too small.
 */
size_t	mda_prepend(char *out, size_t outsz, const char *sender,
	    const char *rcpt);

/*
 * What a failed delivery with errno err means for the sender: always a
 * temporary failure (a full disk, a lock held too long and an I/O error
 * pass), with an RFC 3463 code and a short text.
 */
void	mda_errno_result(int err, const char **enh_out,
	    const char **text_out);

/*
 * Does a message of msglen bytes fit a mailbox of usage bytes with this
 * quota (bytes; a negative quota is none)?
 */
bool	mda_quota_fits(int64_t quota, uint64_t usage, uint64_t msglen);

#endif
