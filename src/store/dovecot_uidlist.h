/*
 * dovecot_uidlist: the "dovecot-uidlist" file of a Maildir folder that
 * Dovecot served, read so that cachet adopts its UIDs (maildir_list()
 * builds the cachet-uidlist from it when it has none): same UIDVALIDITY,
 * same UID for every message, same next UID, so that clients keep their
 * caches across the move.  Read only, never written.
 *
 * The formats (Dovecot src/lib-storage/index/maildir/maildir-uidlist.c):
 *
 *	version 3:  3 V<uidvalidity> N<nextuid> [<key><value> ...]\n
 *	            <uid> [<key><value> ...] :<file name>\n
 *	version 1:  1 <uidvalidity> <nextuid>\n
 *	            <uid> <file name>\n
 *
 * Header keys are one byte (V, N, G the mailbox GUID, ...); unknown ones
 * are skipped.  Record fields before the ':' are one letter A-Z and a
 * value (S the size on disk, W the size with CRLF line ends, G a GUID,
 * ...).  The file name may carry ":2,<flags>"; only its base name (up to
 * the first ':') is kept, as flags change without the uidlist.
 *
 * The text is untrusted (any bytes): sizes are bounded, numbers checked
 * for overflow, a record that is not well formed (no UID, a UID not
 * above the one before, a bad base name, a line over the limit) is
 * dropped and counted, so its file gets a new UID after the others.
 */
#ifndef CACHET_DOVECOT_UIDLIST_H
#define CACHET_DOVECOT_UIDLIST_H

#include <stddef.h>

#include "maildir.h"

#define DOVECOT_UIDLIST_FILE	"dovecot-uidlist"
#define DOVECOT_UIDLIST_LINE_MAX 4096	/* bytes of a record we read */

/*
 * Parse len bytes of dovecot-uidlist text into *out in cachet's form
 * (maildir_uidlist_free() frees it): records by ascending UID, each base
 * name once (a name listed twice keeps its higher UID, as Dovecot does),
 * size and size_crlf from S and W when both are there and agree, else
 * size is UINT64_MAX (unknown: maildir_list() counts the file).  uidnext
 * is at least the highest UID plus one.  *nbad_out (may be NULL) gets
 * the records dropped.  -1 with *errstr_out when the header is not a
 * version 1 or 3 header with a UIDVALIDITY and a next UID, or the text
 * is over MAILDIR_UIDLIST_MAX; *out is empty then.
 */
int	dovecot_uidlist_parse(const char *p, size_t len,
	    struct maildir_uidlist *out, size_t *nbad_out,
	    const char **errstr_out);

/*
 * Read path's dovecot-uidlist: 0 parsed, 1 none there, 2 there but not
 * usable (logged), -1 an error (errno).
 */
int	dovecot_uidlist_read(const char *path, struct maildir_uidlist *out);

#endif
