/*
 * mailbox: the vocabulary of addresses and mailboxes that every role
 * shares (lookup's user store, the queue, the mda, pop3, the config).
 * Pure functions over caller-owned buffers.
 */
#ifndef CACHET_MAILBOX_H
#define CACHET_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 §4.5.3.1.1 and §4.5.3.1.2 */
#define MAILBOX_LOCAL_MAX	64
#define MAILBOX_DOMAIN_MAX	255
/* "local@domain" without the NUL */
#define MAILBOX_ADDR_MAX	(MAILBOX_LOCAL_MAX + 1 + MAILBOX_DOMAIN_MAX)

/* How a user's mail is stored under mail-dir (mailbox_path()). */
enum mailbox_format {
	MAILBOX_FORMAT_MAILDIR,	/* "maildir", the default */
	MAILBOX_FORMAT_MBOX,	/* "mbox" */
};

/*
 * Check an address and write its canonical form (domain lower-cased) into
 * out, which should hold MAILBOX_ADDR_MAX + 1 bytes.  0, or -1 with
 * *errstr_out (if not NULL) set to a static message.
 */
int	mailbox_addr_normalize(const char *addr, char *out, size_t outsz,
	    const char **errstr_out);

/*
 * A host name (RFC 1123 §2.1): letter-digit-hyphen labels of 1-63 octets,
 * at most MAILBOX_DOMAIN_MAX in all.  Copies p[0..len) lower-cased into out
 * (len + 1 bytes) and NUL-terminates it; false when it is not one.
 */
bool	mailbox_domain_canon(const char *p, size_t len, char *out);

/* "maildir" or "mbox"; the parse returns -1 for any other name. */
const char	*mailbox_format_name(enum mailbox_format);
int		 mailbox_format_parse(const char *name, enum mailbox_format *out);

/*
 * The mailbox of a user, relative to mail-dir, written into out:
 * "<domain>/<local>" (a Maildir) or "<domain>/<local>/mbox" (an mbox
 * file), from the address as stored.  '/' and '%' in the local part,
 * which RFC 5322 atext allows, are written %2F and %25, so that a local
 * part can never name another user's directory or a Maildir++ folder.
 * -1 when addr is not "local@domain" or out is too small.
 */
int	mailbox_path(const char *addr, enum mailbox_format format,
	    char *out, size_t outsz);

#endif
