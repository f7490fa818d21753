/*
 * imap_objectid: the object identifiers of OBJECTID (RFC 8474) as the
 * imap role makes them.  Pure.
 *
 * - MAILBOXID: "F" and the folder's random id (store/maildir.h
 *   maildir_meta_get(), kept in the folder, so a RENAME keeps it).
 * - EMAILID: "M" and 24 hex digits of SHA-256 over the message's
 *   Maildir base name (its file name up to ":"), which a flag change
 *   and a MOVE keep (a rename).  COPY writes a new file whose name
 *   carries the source's id as ",E=<24 hex digits>" (maildir.h
 *   maildir_store_tagged()), so a copy has the same EMAILID (RFC 8474
 *   §5.1: the id names the content).
 * - THREADID: none (NIL, RFC 8474 §5.2 allows it).
 */
#ifndef CACHET_IMAP_OBJECTID_H
#define CACHET_IMAP_OBJECTID_H

#define IMAP_OBJECTID_EMAIL_LEN	25	/* "M" and 24 hex digits */

/* The EMAILID of the message file name (flags after ':' ignored): the
 * ",E=" field's when there is one, else the hash of the base name. */
void	imap_objectid_email(const char *name,
	    char out[IMAP_OBJECTID_EMAIL_LEN + 1]);

#endif
