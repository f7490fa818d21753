/*
 * resolve: where the mail for one recipient address goes.  Run by the
 * lookup role, for the smtp role's RCPT check and for the queue before a
 * delivery (MSG_LOOKUP_RESOLVE).  The rules, in order, for an address of
 * one of our domains (docs/architecture.md "Delivering a message"):
 *
 *   1. an alias whose source is the address: each target, resolved in
 *      turn (nested aliases, loops detected on the path, depth at most
 *      RESOLVE_DEPTH_MAX); a target equal to its own source is the user
 *      of that name ("keep a copy and forward");
 *   2. a user: that user's mailbox;
 *   3. postmaster@ and abuse@ (RFC 5321 §4.5.1, RFC 2142 §2): the
 *      `postmaster` address of the config, else postmaster@ of the first
 *      configured domain if that is a user or an alias, else the first
 *      user in address order;
 *   4. user+tag@ (any character of `recipient-delimiter`): the address
 *      without the tag, resolved by these same rules; a user found that
 *      way keeps the tag in the address it is delivered as;
 *   5. the domain's catch-all (the alias source "@domain");
 *   6. unknown.
 *
 * An address of another domain is a remote destination.  Local parts are
 * compared without regard to ASCII case unless the config says
 * `local-part-case sensitive`; domains always so.
 *
 * Trust: the address may come from an SMTP client, through the smtp or
 * queue role; it is bounded and checked by users.c before any query.
 * The database and the config are trusted.
 */
#ifndef CACHET_RESOLVE_H
#define CACHET_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "mailbox.h"

struct users;

#define RESOLVE_DEPTH_MAX	20	/* nested aliases on one path */
#define RESOLVE_DESTS_MAX	200	/* destinations of one address */
#define RESOLVE_STEPS_MAX	2000	/* addresses looked at for one */
/* mailbox_path(): a domain, "/", a local part escaped, "/mbox" */
#define RESOLVE_MAILBOX_MAX	(MAILBOX_DOMAIN_MAX + 3 * MAILBOX_LOCAL_MAX + 8)
#define RESOLVE_TEXT_MAX	600

/* The recipient is a final one already (a child in the envelope). */
#define RESOLVE_F_FINAL		0x1

enum resolve_status {
	RESOLVE_OK,		/* dests holds at least one destination */
	RESOLVE_UNKNOWN,	/* 5.1.1: no such recipient here */
	RESOLVE_TEMPFAIL,	/* the store failed, or no postmaster yet */
};

enum resolve_kind {
	RESOLVE_LOCAL,		/* a mailbox under mail-dir */
	RESOLVE_REMOTE,		/* an address of another domain */
	RESOLVE_FAILED,		/* a branch that cannot be delivered */
};

struct resolve_dest {
	enum resolve_kind	 kind;
	/*
	 * The final recipient: the user's address as stored (with the tag
	 * when the user was found through one), the remote address, or the
	 * address whose branch failed.
	 */
	char			 addr[MAILBOX_ADDR_MAX + 1];
	/* RESOLVE_LOCAL only */
	char			 owner[MAILBOX_ADDR_MAX + 1];	/* the user */
	char			 mailbox[RESOLVE_MAILBOX_MAX + 1];
	enum mailbox_format	 format;
	int64_t			 quota;		/* bytes, -1 none */
	/* RESOLVE_FAILED only: RFC 3463 code and text */
	const char		*enh;
	const char		*text;
};

struct resolve_result {
	enum resolve_status	 status;
	/*
	 * At most RESOLVE_DESTS_MAX, and one more when the expansion was
	 * cut: that last one is then RESOLVE_FAILED with 5.2.4.
	 */
	struct resolve_dest	*dests;
	size_t			 ndests;
	char			 err[RESOLVE_TEXT_MAX];	/* for TEMPFAIL */
};

/*
 * Resolve addr ("local@domain", or "postmaster" alone as RFC 5321
 * §4.1.1.3 allows) into *out; flags RESOLVE_F_*.  With RESOLVE_F_FINAL
 * only rules 2 and 4 apply (the recipient came out of an expansion
 * before).  Returns 0, or -1 only when addr is longer than any address
 * can be (the caller's bug); free the result with resolve_result_free().
 */
int	resolve_address(struct users *, const struct conf *, const char *addr,
	    unsigned flags, struct resolve_result *out);
void	resolve_result_free(struct resolve_result *);

/* True when the local part of addr is name, ignoring ASCII case. */
bool	resolve_local_is(const char *addr, const char *name);

#endif
