/*
 * maildir: the mailbox store shared by the mda (delivery), pop3 and imap
 * roles.  Maildir with Maildir++ folders (".Sent", ".Junk", ...), standard
 * unique file names and ":2," flags, so that mutt, Dovecot and any MDA can
 * read and write the same store.  IMAP/POP3 state that Maildir cannot
 * hold (UIDVALIDITY, UIDs) lives in a small per-folder index file,
 * "cachet-uidlist", that can always be rebuilt from the files.
 *
 * Paths are relative to the role's working directory (mail-dir; the
 * roles are chrooted or chdir'ed there): a mailbox is "<domain>/<local>",
 * a folder "<domain>/<local>/.Sent"; every function that takes a path
 * works on the mailbox's INBOX and on any of its folders alike.
 * Every function returns 0 or -1 with errno set (ENOSPC and EDQUOT mean
 * try later) and *errstr_out, when not NULL, a short static message (set
 * on failure only).
 *
 * A message's "base name" is its file name up to the first ':' (the
 * unique part that a flag change keeps); the uidlist keys on it.
 */
#ifndef CACHET_MAILDIR_H
#define CACHET_MAILDIR_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "maildir_kw.h"

#define MAILDIR_NAME_MAX	255
#define MAILDIR_FOLDERS_STD	\
	".Sent", ".Drafts", ".Junk", ".Trash", ".Archive"
/* Messages per folder that maildir_list() accepts (E2BIG past it). */
#define MAILDIR_LIST_MAX	1000000
/* The uidlist's file name in a folder (imap watches it). */
#define MAILDIR_UIDLIST		"cachet-uidlist"
/* Bytes of a uidlist file: a header and MAILDIR_LIST_MAX full lines. */
#define MAILDIR_UIDLIST_MAX	((size_t)64 + (size_t)MAILDIR_LIST_MAX * 320)

/*
 * Create the Maildir at path (and missing parents) with cur/ new/ tmp/
 * and the standard folders (each with a "maildirfolder" file), mode 0700.
 * Existing parts are left alone, so it is idempotent, and two processes
 * may run it at once.  Each directory created is made durable (fsync of
 * its parent) before the function returns.
 */
int	maildir_create(const char *path, const char **errstr_out);

/*
 * Deliver: write prepend (Return-Path:, Delivered-To: lines, CRLF or LF
 * as the caller chose) then msglen bytes of msgfd from offset 0 (read
 * with pread, so the fd's offset is not used) into tmp/<unique>, fsync,
 * move into new/ without ever replacing a file, fsync new/.  The unique
 * name follows the Maildir specification: "<sec>.M<usec>P<pid>Q<n>.<host>"
 * with ",S=<size>,W=<size_crlf>" appended in new/ (Maildir++ size, and
 * the CRLF size as Dovecot writes it).  The file holds LF line ends (the
 * Maildir convention): CRLF in the source becomes LF, a CR not followed
 * by LF stays.  name_out (namesz bytes, MAILDIR_NAME_MAX + 1 is always
 * enough; may be NULL) receives the file name in new/.  Nothing is left
 * in tmp/ on failure.  A missing Maildir is created first.  The caller
 * ignores SIGXFSZ if it sets RLIMIT_FSIZE (then EFBIG is returned).
 */
int	maildir_deliver(const char *path, const char *prepend,
	    size_t prependlen, int msgfd, uint64_t msglen,
	    char *name_out, size_t namesz, const char **errstr_out);

/*
 * Delivery in steps, so that a caller with many messages at once can
 * share one fsync of new/ among them: maildir_prepare() each, then
 * maildir_commit() each, then maildir_sync_new() once per Maildir; a
 * message is delivered only when the sync of its new/ returned 0.  Any
 * message not delivered is taken back with maildir_abort(), or a retry
 * would deliver it twice.  maildir_deliver() is the three in one.
 */
enum maildir_pending_state {
	MAILDIR_PENDING_NONE,	/* nothing on disk (or aborted) */
	MAILDIR_PENDING_TMP,	/* written and fsync'ed in tmp/ */
	MAILDIR_PENDING_NEW,	/* moved into new/, not yet synced */
};

struct maildir_pending {
	enum maildir_pending_state	 state;
	char				 name[MAILDIR_NAME_MAX + 1]; /* new/ */
	char				 tmppath[PATH_MAX];
	char				 newpath[PATH_MAX];
};

/*
 * First step: write prepend and the message into tmp/<unique> exactly
 * as maildir_deliver() does, fsync and close it.  On success p is
 * MAILDIR_PENDING_TMP and p->name is the name the file will have in
 * new/.  On failure nothing is left in tmp/ and p is
 * MAILDIR_PENDING_NONE.  A missing Maildir is created first.
 */
int	maildir_prepare(const char *path, const char *prepend,
	    size_t prependlen, int msgfd, uint64_t msglen,
	    struct maildir_pending *p, const char **errstr_out);

/*
 * Second step: move a prepared file into new/ without ever replacing a
 * file (EEXIST).  On success p is MAILDIR_PENDING_NEW: the name is
 * there but not yet durable.  On failure the file is removed and p is
 * MAILDIR_PENDING_NONE.  EINVAL if p is not MAILDIR_PENDING_TMP.
 */
int	maildir_commit(struct maildir_pending *p, const char **errstr_out);

/*
 * Last step: fsync path's new/ directory, which makes every name moved
 * into it before the call durable.  On failure none of them may be
 * counted as delivered (a failed fsync may not be reported again, so a
 * later success proves nothing): the caller aborts each.
 */
int	maildir_sync_new(const char *path, const char **errstr_out);

/*
 * Take back an undelivered message: unlink its file in tmp/ or new/;
 * p is MAILDIR_PENDING_NONE after (a no-op when it already was).  Never
 * call it for a message whose new/ was synced: that one is delivered.
 */
void	maildir_abort(struct maildir_pending *p);

/* One message of a folder, as listed by maildir_list(). */
struct maildir_entry {
	char		 name[MAILDIR_NAME_MAX + 1];	/* file name */
	bool		 in_new;	/* in new/, else cur/ */
	uint64_t	 size;		/* bytes on disk (LF) */
	/*
	 * Bytes with CRLF line ends (POP3 LIST, IMAP RFC822.SIZE): size
	 * plus one for every LF not already preceded by CR.  A reader that
	 * sends the message turns each such bare LF into CRLF and leaves
	 * everything else, CR LF pairs and bare CRs included, as it is.
	 */
	uint64_t	 size_crlf;
	/*
	 * From the uidlist, 0 if not indexed: only when the uidlist could
	 * not be written (disk full); such entries come last.
	 */
	uint32_t	 uid;
	/*
	 * ":2," flags: letters only, sorted (ASCII) and without repeats,
	 * e.g. "FS"; at most 31 are kept.
	 */
	char		 flags[32];
	int64_t		 mtime;
};

struct maildir_list {
	struct maildir_entry	*entries;
	size_t			 nentries;
	uint32_t		 uidvalidity;
	uint32_t		 uidnext;
	/*
	 * The folder's keywords (letters 'a'-'z' of the flags), read under
	 * the same lock as the listing, so that every letter an entry
	 * carries has its name here (maildir_kw_sync()).
	 */
	struct maildir_kw	 kw;
};

/*
 * List the messages of a Maildir folder (new/ and cur/), assign UIDs to
 * new files in arrival order (mtime, then name) through the folder's
 * uidlist (created when missing; its UIDVALIDITY then is the current
 * time), sorted by UID.  Files whose names start with "." or hold
 * control bytes are not listed; more than MAILDIR_LIST_MAX messages
 * fail with E2BIG.  The uidlist is updated atomically (write, fsync,
 * rename) under an fcntl lock on "cachet-uidlist.lock", so mda, pop3 and
 * imap agree.  A corrupt uidlist is logged and rebuilt with a new, larger
 * UIDVALIDITY (RFC 3501 §2.3.1.1: UIDs that change need a new one).
 * A folder without a cachet-uidlist but with the "dovecot-uidlist" of a
 * Dovecot that served it is adopted: its UIDVALIDITY, UIDs and next UID
 * are kept (dovecot_uidlist.h), files it does not list get UIDs after;
 * only at the first contact (never for a folder that had a uidlist).
 * The keywords come with the listing (out->kw).  On failure *out is
 * empty.
 */
int	maildir_list(const char *path, struct maildir_list *out,
	    const char **errstr_out);
/* Free the entries; the list is empty after.  NULL is a no-op. */
void	maildir_list_free(struct maildir_list *);

/*
 * Move every message in new/ to cur/ with ":2," and the flags its name
 * had, as maildir_set_flags() moves one, all under one hold of the
 * uidlist lock and by names relative to the folder (a read-write IMAP
 * SELECT takes the new messages so).  The base names of those moved go
 * into moved_out (NULL: not wanted), each followed by a NUL.  Files gone
 * meanwhile are skipped.  Returns how many moved, or -1; those moved
 * before a failure stay moved.
 */
int	maildir_claim_new(const char *path, struct buf *moved_out,
	    const char **errstr_out);

/*
 * Open a listed message for reading (O_RDONLY).  A message that another
 * process has since moved from new/ to cur/ or re-flagged is found again
 * in cur/ by its base name; ENOENT when it is gone.
 */
int	maildir_open(const char *path, const struct maildir_entry *,
	    int *fd_out, const char **errstr_out);

/*
 * Move a message to cur/ with these flags (replacing its ":2," part), as
 * a reader does after showing it ("S" = seen).  flags holds letters only
 * (A-Z, a-z; EINVAL otherwise), in any order and with repeats allowed;
 * they are stored sorted.  A message another process has moved is found
 * again in cur/ by its base name (ENOENT when it is gone).  The entry is
 * updated (name, in_new, flags).
 */
int	maildir_set_flags(const char *path, struct maildir_entry *,
	    const char *flags, const char **errstr_out);

/*
 * maildir_set_flags() with the folder's lock already held (taken with
 * maildir_lock_folder()), for a reader that flags many messages at once:
 * one lock for all of them, not one each.
 */
int	maildir_set_flags_locked(const char *path, struct maildir_entry *,
	    const char *flags, const char **errstr_out);

/*
 * A folder's new/ and cur/ held open, for a reader that opens and flags
 * many of its messages (POP3): by name in the directory, no walk of the
 * whole path each time.  maildir_open_in() and maildir_set_flags_in()
 * (the lock held, as maildir_set_flags_locked()) fall back on the paths
 * when a message moved.  A closed one (-1: IMAP holds only cur/) sends
 * its messages by the paths.
 */
struct maildir_dirs {
	int	newfd;
	int	curfd;
};

int	maildir_dirs_open(const char *path, struct maildir_dirs *);
void	maildir_dirs_close(struct maildir_dirs *);
int	maildir_open_in(const struct maildir_dirs *, const char *path,
	    const struct maildir_entry *, int *fd_out,
	    const char **errstr_out);
int	maildir_set_flags_in(const struct maildir_dirs *, const char *path,
	    struct maildir_entry *, const char *flags,
	    const char **errstr_out);

/*
 * Remove a message (POP3 DELE at UPDATE, IMAP EXPUNGE).  A message that
 * was moved is found again by its base name; one already gone counts as
 * removed.
 */
int	maildir_remove(const char *path, const struct maildir_entry *,
	    const char **errstr_out);

/*
 * Bytes used by the Maildir and its folders (for quotas): new/ and cur/
 * of path and of every ".folder" in it, taking each size from ",S=" in
 * the name when present (Maildir++), else from stat.
 */
int	maildir_usage(const char *path, uint64_t *bytes_out,
	    const char **errstr_out);

/*
 * The uidlist file, parsed.  Its text, all ASCII but the base names:
 *
 *	cachet-uidlist 1 <uidvalidity> <uidnext>\n
 *	<uid> <size> <size_crlf> <base name>\n	(one per message)
 *
 * Numbers are decimal without leading zeros; UIDs strictly increase and
 * stay below uidnext; size <= size_crlf <= 2 * size; base names are 1 to
 * MAILDIR_NAME_MAX bytes with no '/', ':' or control byte, do not start
 * with '.', and appear once.  Anything else is corrupt.
 */
struct maildir_uidlist_rec {
	uint32_t	 uid;
	uint64_t	 size;		/* size on disk when last counted */
	uint64_t	 size_crlf;	/* cached: counting reads the file */
	const char	*base;		/* NUL-terminated when parsed */
	size_t		 baselen;
};

struct maildir_uidlist {
	uint32_t			 uidvalidity;
	uint32_t			 uidnext;
	struct maildir_uidlist_rec	*recs;
	size_t				 nrecs;
	char				*text;	/* parsed recs point here */
};

/*
 * Parse len bytes of uidlist text (untrusted: any bytes, no NUL needed).
 * On success *out owns its memory (maildir_uidlist_free()).  On failure
 * *out holds no records, its uidvalidity is the header's when the header
 * line itself was well-formed (so that a rebuild can pick a larger one)
 * and 0 otherwise, and *errstr_out says what was wrong.
 */
int	maildir_uidlist_parse(const char *p, size_t len,
	    struct maildir_uidlist *out, const char **errstr_out);
void	maildir_uidlist_free(struct maildir_uidlist *);

/*
 * Append the text form of ul to out (which parses back to the same
 * list); -1 (EMSGSIZE) when out's ceiling is reached.
 */
int	maildir_uidlist_format(const struct maildir_uidlist *ul,
	    struct buf *out);

/*
 * The folder's uidlist lock (an OFD fcntl lock on cachet-uidlist.lock),
 * for the keywords file (maildir_kw.c), which is written under it too;
 * the fd to give back to maildir_unlock_folder(), or -1 with errno.
 */
int	maildir_lock_folder(const char *path);
void	maildir_unlock_folder(int fd);

/*
 * The store's small files beside a folder's messages (uidlist, keywords,
 * Dovecot's uidlist).  Read: the whole of file when it is a regular file
 * of at most max bytes: 0 with *text_out (malloc'ed, a NUL after the
 * *len_out bytes), 1 when there is none, 2 when it is no regular file or
 * too large (*errstr_out says which), -1 on an error (errno).  mtime_out
 * may be NULL.  Replace: dst gets len bytes of p atomically (written to
 * tmp, fsync'ed, renamed over dst, then the directory dir fsync'ed); the
 * caller holds the uidlist lock, so one fixed tmp name will do.
 */
int	maildir_file_read(const char *file, size_t max, char **text_out,
	    size_t *len_out, int64_t *mtime_out, const char **errstr_out);
int	maildir_file_replace(const char *dir, const char *tmp,
	    const char *dst, const void *p, size_t len);

/* --- folders, and messages stored by a reader (IMAP) --- */

#define MAILDIR_FOLDERS_MAX	10000	/* folders maildir_folders() lists */

/*
 * The Maildir++ folders of the Maildir at path: the names of its ".name"
 * directories without the dot (e.g. "Sent", "Lists.cachet"), sorted,
 * skipping names with control bytes.  Free with maildir_folders_free().
 */
int	maildir_folders(const char *path, char ***names_out, size_t *n_out,
	    const char **errstr_out);
void	maildir_folders_free(char **names, size_t n);

/*
 * Create, delete and rename the folder "name" (without its dot; no '/',
 * no "..", not starting or ending with '.').  create: EEXIST when it is
 * there.  delete: removes its messages, index and marker files, and
 * fails when it holds anything else (a directory).  rename: fails with
 * EEXIST rather than replace a folder; only that folder moves (Maildir++
 * keeps children as their own ".a.b" directories: the caller renames
 * each).
 */
int	maildir_folder_create(const char *path, const char *name,
	    const char **errstr_out);
int	maildir_folder_delete(const char *path, const char *name,
	    const char **errstr_out);
int	maildir_folder_rename(const char *path, const char *from,
	    const char *to, const char **errstr_out);

/*
 * Store a message as a reader does (IMAP APPEND and COPY): data (datalen
 * bytes) then len bytes of fd (-1 and 0 for none) through tmp/ exactly
 * as maildir_prepare() writes them (CRLF to LF, sizes in the name),
 * fsync, then the modification time set to mtime (the internal date),
 * then moved into cur/ with ":2,flags" (letters, as maildir_set_flags()
 * takes) and cur/ fsync'ed.  name_out gets the file name in cur/.  The
 * next maildir_list() gives it its UID.
 */
int	maildir_store(const char *path, const char *data, size_t datalen,
	    int fd, uint64_t len, const char *flags, int64_t mtime,
	    char *name_out, size_t namesz, const char **errstr_out);

/*
 * maildir_store() with tag put after the sizes of the unique name
 * (",S=<size>,W=<size>" then tag, before ":2,"): "" for none, else a
 * "," and printable ASCII without "/" or ":", at most 64 bytes (EINVAL
 * otherwise).  IMAP COPY tags a copy with ",E=<id>", the EMAILID of the
 * message it copies (RFC 8474 §5.1); readers skip fields they do not
 * know, as they skip ",W=".
 */
#define MAILDIR_TAG_MAX	64
int	maildir_store_tagged(const char *path, const char *data,
	    size_t datalen, int fd, uint64_t len, const char *flags,
	    int64_t mtime, const char *tag, char *name_out, size_t namesz,
	    const char **errstr_out);

/*
 * Move a listed message to the folder at to_path of the same file
 * system (IMAP MOVE), keeping its name, flags and date: a rename, never
 * replacing a file.  name_out gets its name there.
 */
int	maildir_move(const char *from_path, const struct maildir_entry *,
	    const char *to_path, char *name_out, size_t namesz,
	    const char **errstr_out);

/*
 * maildir_move() that gives the message new flags on the way (letters as
 * maildir_set_flags() takes them): IMAP MOVE between folders whose
 * keywords files name a keyword by different letters.  It lands in cur/.
 */
int	maildir_move_flags(const char *from_path,
	    const struct maildir_entry *, const char *to_path,
	    const char *flags, char *name_out, size_t namesz,
	    const char **errstr_out);

/* --- folder metadata (IMAP: MAILBOXID, special use) --- */

/*
 * A small file in each folder (INBOX: the Maildir itself), so that it
 * moves with a RENAME and goes with a DELETE:
 *
 *	cachet-folder 1\n
 *	id <32 lower-case hex digits>\n	(RFC 8474 MAILBOXID)
 *	use <attributes>\n		(RFC 6154, e.g. "\Archive"; optional)
 *
 * Unknown lines are skipped; a file that is missing, too large or
 * without a valid id gets a new id (and keeps a valid use).
 */
#define MAILDIR_META_FILE	"cachet-folder"
#define MAILDIR_META_MAX	4096	/* bytes of that file */
#define MAILDIR_META_ID_LEN	32
#define MAILDIR_META_USE_MAX	127

struct maildir_meta {
	char	id[MAILDIR_META_ID_LEN + 1];
	char	use[MAILDIR_META_USE_MAX + 1];	/* "" for none */
};

/*
 * The metadata of the folder at path.  A folder without an id is given
 * a random one, written atomically without replacing a file, so that
 * two processes asking at once agree on it.
 */
int	maildir_meta_get(const char *path, struct maildir_meta *out,
	    const char **errstr_out);
/*
 * The metadata as it is, making nothing (LIST reads every folder's
 * special use): a missing file gives empty fields.
 */
int	maildir_meta_peek(const char *path, struct maildir_meta *out,
	    const char **errstr_out);
/*
 * Set the folder's special use (printable ASCII, at most
 * MAILDIR_META_USE_MAX bytes; "" for none), keeping its id; the file
 * is replaced atomically (write, fsync, rename).
 */
int	maildir_meta_set_use(const char *path, const char *use,
	    const char **errstr_out);

#endif
