/*
 * imap_thread: THREAD=ORDEREDSUBJECT and THREAD=REFERENCES of RFC 5256
 * §3 and the THREAD response's thread list, "(1 2 (3 4)(5))" (§4).
 *
 * Pure: no I/O.  The imap role turns each matching message into a
 * struct imap_thread_msg with imap_thread_msg_make() (base subject,
 * sent date, Message-ID and its parent chain, owned copies, so that the
 * message need not stay parsed), then imap_thread_run() threads them.
 * Headers are hostile: ids are capped (IMAP_THREAD_REFS_MAX kept per
 * message, the nearest ones), loops in References are refused as the
 * RFC says, and nothing recurses: every walk of the tree is an explicit
 * stack or a parent chain bounded by the number of containers, which is
 * at most 2 * messages + all references.
 */
#ifndef CACHET_IMAP_THREAD_H
#define CACHET_IMAP_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_sort.h"
#include "mime.h"

#define IMAP_THREAD_REFS_MAX	256	/* References kept per message */

struct imap_thread_msg {
	uint32_t	 num;		/* what is printed: seq or UID */
	uint32_t	 seq;		/* order in the mailbox, for ties */
	int64_t		 date;		/* sent date (imap_sort_sent_date) */
	char		*subject;	/* base subject, case-folded */
	bool		 reply;		/* subject had Re:/Fwd: */
	char		*msgid;		/* "<...>", NULL when none */
	char		**refs;		/* parents, oldest first */
	size_t		 nrefs;
};

/*
 * Fill t from a parsed message: Message-ID; the References ids, or when
 * there is none the first id of In-Reply-To (RFC 5256 §3 step 1).
 */
void	imap_thread_msg_make(struct imap_thread_msg *t,
	    const struct mime_msg *msg, uint32_t num, uint32_t seq,
	    int64_t internaldate);
void	imap_thread_msg_free(struct imap_thread_msg *t);

/*
 * Thread v[0..n) and append the threads to out ("(1)(2 3)", without
 * "* THREAD").  -1 with EMSGSIZE at out's ceiling; n must fit the
 * caps of the caller's mailbox (UINT32_MAX / 4 messages).
 */
int	imap_thread_run(enum imap_thread_alg alg,
	    const struct imap_thread_msg *v, size_t n, struct buf *out);

#endif
