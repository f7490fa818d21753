/*
 * imap_list: which mailboxes a LIST answers and with which attributes
 * (RFC 3501 §6.3.8, RFC 9051 §6.3.9, LIST-EXTENDED RFC 5258, CHILDREN
 * RFC 3348, SPECIAL-USE RFC 6154 §5).  Pure, for the imap role: it takes
 * the folders that exist, the subscriptions and each folder's special
 * use, and the parsed command (options, reference, patterns); it gives
 * the entries to send, in order, each once however many patterns it
 * matches.  imap_mbox.c gathers the inputs and writes the responses
 * (with STATUS for LIST-STATUS, RFC 5819).
 *
 * Names are as stored (Maildir++, "." the delimiter, "INBOX" for the
 * Maildir itself); the inputs are the role's own, the patterns the
 * client's (bounded by imap_parse).
 */
#ifndef CACHET_IMAP_LIST_H
#define CACHET_IMAP_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "imap_parse.h"

#define IMAP_LIST_DELIM		'.'
/* Names considered in one LIST: folders, their parents, subscriptions. */
#define IMAP_LIST_NAMES_MAX	200000

/* Attributes of an entry (RFC 5258 §3.4, RFC 3348). */
#define IMAP_LIST_A_NOSELECT	0x01	/* a parent level, no folder */
#define IMAP_LIST_A_NONEXISTENT	0x02	/* subscribed, not there */
#define IMAP_LIST_A_HASCHILDREN	0x04
#define IMAP_LIST_A_HASNOCHILDREN 0x08
#define IMAP_LIST_A_SUBSCRIBED	0x10
#define IMAP_LIST_A_CHILDINFO	0x20	/* ("CHILDINFO" ("SUBSCRIBED")) */

struct imap_list_in {
	char		**folders;	/* existing ".name" folders, no dot */
	size_t		  nfolders;
	char		**subs;		/* subscribed names */
	size_t		  nsubs;
	/* The special-use attributes of an existing mailbox, or NULL
	 * (copied before the next call). */
	const char	*(*use)(void *arg, const char *name);
	void		 *arg;
};

struct imap_list_entry {
	char		*name;
	unsigned	 attrs;		/* IMAP_LIST_A_* */
	char		*use;		/* a copy of in->use's, or NULL */
};

/*
 * The entries LIST or LSUB c answers (c: IMAP_CMD_LIST or _LSUB, with
 * its options and patterns), INBOX first, then by name.  Children
 * attributes are computed for every entry (the caller shows them on a
 * basic LIST and when RETURN (CHILDREN) asks).  Free with
 * imap_list_free().
 */
void	imap_list_run(const struct imap_cmd *c, const struct imap_list_in *in,
	    struct imap_list_entry **out, size_t *n_out);
void	imap_list_free(struct imap_list_entry *v, size_t n);

/*
 * Write the attribute list of an entry, "(\HasNoChildren \Sent)",
 * as the command asks for it (children and special use on a basic LIST
 * always; on an extended one as RETURN says, RFC 5258 §3.2, RFC 6154
 * §5.2).
 */
void	imap_list_attrs(const struct imap_cmd *c,
	    const struct imap_list_entry *e, struct buf *out);

#endif
