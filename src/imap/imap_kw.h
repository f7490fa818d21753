/*
 * imap_kw: IMAP keywords over a folder's Maildir letters (the table is
 * store/maildir_kw.h's): the names a message's letters stand for in FETCH
 * FLAGS and SEARCH KEYWORD, the FLAGS and PERMANENTFLAGS lists of a
 * SELECT, the letters a STORE leaves, the translation of letters between
 * two folders' tables for COPY and MOVE, and the place where the spam
 * filter will learn from the user (Junk moves, $Junk / $NotJunk).
 *
 * Pure but for the report's log line; the imap role (imap_mbox.c) calls
 * it with tables it read through maildir_list() and maildir_kw_define().
 */
#ifndef CACHET_IMAP_KW_H
#define CACHET_IMAP_KW_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "imap_parse.h"
#include "store/maildir_kw.h"

/*
 * Append " <name>" for each keyword of a message's flag letters, each
 * name once (two letters of one name give it once), in letter order.
 * -1 with EMSGSIZE.
 */
int	imap_kw_names(const struct maildir_kw *, const char *letters,
	    struct buf *out);

/*
 * The keyword names of a message's letters as spans into the table (for
 * imap_search_msg.kw), each once; their count.
 */
size_t	imap_kw_spans(const struct maildir_kw *, const char *letters,
	    struct span out[MAILDIR_KW_MAX]);

/*
 * The SELECT responses' lists (RFC 9051 §7.3.5, §7.1): FLAGS is the five
 * system flags and every keyword of the folder; PERMANENTFLAGS the same
 * plus "\*" while a letter is free (a new keyword can be made), or
 * nothing when read-only.  The list without its parentheses.
 */
int	imap_kw_flags_list(const struct maildir_kw *, bool permanent,
	    struct buf *out);

/*
 * STORE on the keyword letters of flags (NUL-ended, at most 31 letters,
 * system letters kept): add the letters of mask, remove every letter
 * naming the same keyword as one of mask, or set them to mask.  The
 * table is only read for a removal (it may be NULL otherwise).
 */
void	imap_kw_store(const struct maildir_kw *, enum imap_store_op,
	    uint32_t mask, char flags[32]);

/*
 * COPY/MOVE: flags with each keyword letter replaced by map[letter]
 * (0 drops it); system letters kept.
 */
void	imap_kw_translate(const char *flags, const char map[MAILDIR_KW_MAX],
	    char out[32]);

/* What a user's action says about a message, for the spam filter. */
enum imap_kw_junk {
	IMAP_KW_JUNK_NONE,
	IMAP_KW_JUNK_SPAM,	/* into Junk, or $Junk set */
	IMAP_KW_JUNK_HAM,	/* out of Junk (not to Trash), or $NotJunk */
};

/* A COPY or MOVE between these folders (names as the client gave). */
enum imap_kw_junk imap_kw_junk_move(const char *from, const char *to);
/* A flags change from old to new letters on a folder of this table. */
enum imap_kw_junk imap_kw_junk_store(const struct maildir_kw *,
	    const char *old, const char *new);

/*
 * The hook of issue 15: the spam filter (Bayes) will be trained here
 * with the message; for now it only logs at debug level.
 */
void	imap_kw_junk_report(const char *sid, const char *mailbox,
	    uint32_t uid, enum imap_kw_junk, const char *cause);

#endif
