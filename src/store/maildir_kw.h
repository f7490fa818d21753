/*
 * maildir_kw: the keywords of a Maildir folder.  An IMAP keyword (any
 * atom: $Junk, $NotJunk, $Label1, $Forwarded, ...) is stored as one of
 * the 26 lower-case letters 'a'-'z' in the ":2," flags of a message's
 * file name, and the folder's "dovecot-keywords" file names the letters,
 * in Dovecot's format so that Dovecot, mutt and cachet read the same
 * flags: one line "<index> <name>\n" per letter in use, index 0 being
 * 'a' and 25 'z'.
 *
 * A letter, once named, keeps its name: lines are added, never changed
 * or removed, so the letters of an unchanged keyword set are stable.
 * Names match without regard to case (RFC 9051 §2.3.2) and are shown as
 * the file spells them.  The file is replaced atomically (write, fsync,
 * rename) under the folder's uidlist lock; readers need no lock.  The
 * text is untrusted (another program, a disk, a hand edit): a line that
 * does not parse is dropped and counted, never trusted.
 */
#ifndef CACHET_MAILDIR_KW_H
#define CACHET_MAILDIR_KW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MAILDIR_KW_FILE		"dovecot-keywords"
#define MAILDIR_KW_MAX		26	/* letters 'a'-'z' */
#define MAILDIR_KW_NAME_MAX	200	/* bytes of a keyword we keep */
/* Bytes of the file (a larger one is corrupt as a whole). */
#define MAILDIR_KW_FILE_MAX	(64 * 1024)

struct maildir_kw {
	char	*name[MAILDIR_KW_MAX];	/* NULL: the letter is free */
	/*
	 * The first letter with the same name (a file may name two letters
	 * alike; both then mean that keyword): canon[i] == i for the first.
	 */
	uint8_t	 canon[MAILDIR_KW_MAX];
};

/* Free the names; the table is empty after.  NULL is a no-op. */
void	maildir_kw_free(struct maildir_kw *);
/* dst (empty or freed before) becomes a copy of src. */
void	maildir_kw_copy(struct maildir_kw *dst,
	    const struct maildir_kw *src);
/* Do the two name the same letters alike (spelling included)? */
bool	maildir_kw_equal(const struct maildir_kw *,
	    const struct maildir_kw *);

/*
 * A keyword we store: 1 to MAILDIR_KW_NAME_MAX bytes of an IMAP atom
 * (RFC 9051 §9: CHAR but no atom-specials), not starting with '\'.
 */
bool	maildir_kw_name_ok(const char *p, size_t len);

/*
 * Parse len bytes of keywords text into out (empty before).  Returns the
 * number of lines dropped: not "<index> <name>", an index over 25 or
 * with a leading zero, a name that is not a keyword, a letter named
 * twice (the first line wins).  The last line may lack its LF.
 */
size_t	maildir_kw_parse(const char *p, size_t len,
	    struct maildir_kw *out);

/* The text form, lines in letter order; -1 with EMSGSIZE. */
int	maildir_kw_format(const struct maildir_kw *, struct buf *out);

/* The letter index (0-25) of a name, matched without case, or -1. */
int	maildir_kw_find(const struct maildir_kw *, const char *name,
	    size_t len);

/* Bits 0-25 for the letters 'a'-'z' found in a flags string. */
uint32_t maildir_kw_mask(const char *letters);
/* The letters with their duplicates folded onto the first (canon). */
uint32_t maildir_kw_canon_mask(const struct maildir_kw *, uint32_t mask);
/* Letters left free. */
size_t	maildir_kw_free_count(const struct maildir_kw *);

/*
 * Read the keywords of the folder at path into out (empty before; no
 * file: none).  *nbad_out (may be NULL) gets the lines dropped.  -1 with
 * errno when the file cannot be read; out is empty then.
 */
int	maildir_kw_read(const char *path, struct maildir_kw *out,
	    size_t *nbad_out);

/*
 * What maildir_list() calls under the uidlist lock: read the folder's
 * keywords into out and make them whole.  Every letter in used (the
 * letters the folder's files carry) gets a name: one the file lost
 * becomes "unknown-<index>" (as Dovecot names it), so that no new
 * keyword is ever given a letter that messages already carry.  When
 * lines were dropped or names added the file is written again (logged).
 * It does not fail: what cannot be read or written is logged, and out
 * holds what is known.
 */
void	maildir_kw_sync(const char *path, uint32_t used,
	    struct maildir_kw *out);

/*
 * Give each of the n names a letter in the folder at path, defining the
 * ones it lacks (under the uidlist lock, the file written atomically).
 * A new keyword takes the first letter that has no name and that no
 * file of the folder carries (such letters get "unknown-<index>" first,
 * as maildir_kw_sync() names them).
 * letters_out[i] is the letter of names[i].  kw_out (empty before; may
 * be NULL) gets the table after.  All or nothing: -1 with errno EINVAL
 * (a name is not a keyword, *errstr_out says), ERANGE (no letter left
 * for them all, RFC 9051 §7.1 [LIMIT]) or an I/O error, and nothing is
 * defined.
 */
int	maildir_kw_define(const char *path, const struct span *names,
	    size_t n, char *letters_out, struct maildir_kw *kw_out,
	    const char **errstr_out);

#endif
