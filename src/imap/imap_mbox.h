/*
 * imap_mbox: the mailbox commands of an IMAP session over the user's
 * Maildir (store/maildir.c), run by the imap role in its chroot
 * (mail-dir) as the mailboxes' owner.  One per logged-in session: the
 * user's Maildir, the subscriptions, and the selected folder as the
 * session sees it (sequence numbers, UIDs, flags), kept in step with the
 * disk at NOOP, CHECK and IDLE.
 *
 * Mailbox names are Maildir++'s: "INBOX" is the Maildir itself, other
 * names are its ".name" folders, with "." as the hierarchy delimiter
 * (as Dovecot serves Maildir++): "Lists.cachet" is ".Lists.cachet".
 * Names are kept 7-bit (modified UTF-7 for other characters, RFC 3501
 * §5.1.3, as Dovecot keeps them); a session with UTF8=ACCEPT (RFC 6855)
 * sends and receives UTF-8, converted at the edge (imap_mutf7.h).
 *
 * It trusts the parsed command (imap_parse bounded it) and the files it
 * reads only as far as maildir.c checks them.
 */
#ifndef CACHET_IMAP_MBOX_H
#define CACHET_IMAP_MBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "imap_parse.h"
#include "imap_session.h"

#define IMAP_MBOX_SUBS_FILE	"subscriptions"	/* as Dovecot names it */
#define IMAP_MBOX_SUBS_MAX	(64 * 1024)	/* bytes of that file */

struct imap_mbox;

/* root: the user's Maildir, relative to mail-dir; sid: for logs. */
struct imap_mbox	*imap_mbox_new(const char *root, const char *sid);
void			 imap_mbox_free(struct imap_mbox *);

/*
 * Do a command of the AUTHENTICATED or SELECTED state (what
 * ops->command gives): untagged responses, then imap_session_done().
 */
void	imap_mbox_command(struct imap_mbox *, struct imap_session *,
	    const struct imap_cmd *);

/*
 * A command answered a message at a time (FETCH): while busy, the role
 * calls resume whenever its output is below the watermark; each call
 * sends one message's answer, the last one the tagged completion.
 */
bool	imap_mbox_busy(const struct imap_mbox *);
void	imap_mbox_resume(struct imap_mbox *, struct imap_session *);

/*
 * Look at the selected folder again and report what changed since
 * (EXPUNGE, EXISTS, RECENT, FETCH FLAGS): at NOOP, CHECK and in IDLE.
 * Nothing is listed when the role's watch saw no change (the role reads
 * its events before every command), or, unwatched, when the folder's
 * directories kept their mtimes since the last listing.
 */
void	imap_mbox_poll(struct imap_mbox *, struct imap_session *);

/*
 * Change notification (the role's inotify watches, imap.c).  The role
 * watches the folder imap_mbox_folder() names (NULL: none selected);
 * imap_mbox_folder_of() gives the folder a SELECT of name would open,
 * so that the watch can start before the folder is listed (-1: no such
 * name).  imap_mbox_watched() says whether that watch works; while it
 * does not, every command stats the folder's directories and looks at
 * it again when one's mtime moved.  On an event the
 * role calls imap_mbox_changed(): the next command reports the change
 * (EXPUNGE only where RFC 9051 §7.5.1 allows it), and imap_mbox_sync()
 * reports it at once (IDLE), doing nothing when nothing changed.
 * imap_mbox_knows(): does the session's view hold a file of that name
 * in new/ (in_new) or cur/?  The role tells a session's own changes
 * from others' by it.  Linear in the folder's size.
 */
/*
 * Before the role watches the folder a SELECT names (path, from
 * imap_mbox_folder_of()): take its new/ messages to cur/ now, so that
 * the session's own renames are not events it must then look at (a
 * folder of 10,000 new messages makes 20,000, past what the role checks
 * one by one, and past inotify's queue); the SELECT that follows counts
 * them \Recent.  Only for a SELECT that will list the folder; nothing
 * for EXAMINE.
 */
void		 imap_mbox_select_prepare(struct imap_mbox *,
		    const struct imap_session *, const struct imap_cmd *,
		    const char *path);
const char	*imap_mbox_folder(const struct imap_mbox *);
int		 imap_mbox_folder_of(struct imap_mbox *, struct span name,
		    char *out, size_t outsz);
void		 imap_mbox_watched(struct imap_mbox *, bool on);
void		 imap_mbox_changed(struct imap_mbox *);
bool		 imap_mbox_knows(const struct imap_mbox *, bool in_new,
		    const char *name, size_t len);
void		 imap_mbox_sync(struct imap_mbox *, struct imap_session *);

/*
 * The user's quota in bytes (UINT64_MAX: none), as lookup gave it at
 * login: QUOTA's one root "" (RFC 9208) and APPEND, COPY and MOVE's
 * OVERQUOTA, over the usage the mda counts (maildir_usage()).
 */
void	imap_mbox_set_quota(struct imap_mbox *, uint64_t quota);

/*
 * Did the last commands (APPEND, COPY, EXPUNGE, CLOSE, DELETE) change
 * the size of a Maildir with a quota?  Then true and its bytes, for
 * lookup, which refuses recipients over quota at RCPT by the sizes it
 * is told (MSG_LOOKUP_USAGE, as the mda and pop3 tell it).
 */
bool	imap_mbox_usage_changed(struct imap_mbox *, uint64_t *bytes_out);

/*
 * Messages the last commands moved or copied into the Junk folder
 * (spam) or out of it (ham, but not into Trash), or marked $Junk or
 * $NotJunk (imap_kw.h): the role reads and learns them (issue 15).
 * Take them one at a time: 0 with the folder's path (as maildir.h takes
 * it), the file name there and the class; -1 when none is left.  At
 * most IMAP_MBOX_JUNK_MAX wait; a command that moves more learns from
 * the first ones only (logged).
 */
#define IMAP_MBOX_JUNK_MAX	1024
int	imap_mbox_junk_take(struct imap_mbox *, char *folder_out,
	    size_t foldersz, char *name_out, size_t namesz, bool *spam_out);

/* "<dd>-<Mon>-<yyyy> <hh>:<mm>:<ss> +0000" for a time (INTERNALDATE). */
void	imap_mbox_date(int64_t t, char out[27]);

/*
 * Does name match the LIST pattern (RFC 9051 §6.3.9: "*" matches
 * anything, "%" anything but the delimiter)?
 */
bool	imap_mbox_match(const char *pattern, size_t plen, const char *name,
	    size_t nlen);

#endif
