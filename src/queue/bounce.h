/*
 * bounce: compose a delivery status notification (RFC 3464 inside RFC
 * 6522 multipart/report; report-type=delivery-status), for failures,
 * delays and successes.  Run by the queue role, which sends the result
 * from the null path <> (RFC 5321 §4.5.5) and never bounces a bounce.
 * Pure: the original message comes through a read function, the clock
 * and the randomness through params, the result goes into a struct buf
 * whose ceiling bounds it.
 *
 * It trusts the caller's envelope (our own queue) as to its shape, but
 * the strings in it came from SMTP clients and servers (addresses, ENVID,
 * ORCPT, a remote server's reply): each is made printable and folded so
 * that no line passes 998 octets (RFC 5322 §2.1.1) and no CR or LF
 * reaches a header.  The original message is copied as it is, except
 * that line ends become CRLF and a line over 998 octets is broken.
 *
 * The three parts: a human-readable text/plain, the message/delivery-
 * status (Reporting-MTA, Arrival-Date, Original-Envelope-Id, then per
 * recipient Original-Recipient, Final-Recipient, Action, Status,
 * Remote-MTA, Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until), and
 * the original: its header section as text/rfc822-headers, or the whole
 * message as message/rfc822 for a failure report when the sender asked
 * RET=FULL (RFC 3461 §4.3) and the message is not over full_max.
 */
#ifndef CACHET_BOUNCE_H
#define CACHET_BOUNCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define BOUNCE_LINE_MAX		998	/* RFC 5322 §2.1.1, CRLF excluded */
#define BOUNCE_FOLD		76	/* where we fold our own lines */
#define BOUNCE_FULL_MAX_DEFAULT	(1024 * 1024)	/* RET=FULL up to this */
#define BOUNCE_FIELD_MAX	2000	/* one string from the envelope */

/* What the report is about; it picks the subject and the wording. */
enum bounce_kind {
	BOUNCE_FAILURE,		/* some recipients failed for good */
	BOUNCE_DELAY,		/* still trying (NOTIFY=DELAY) */
	BOUNCE_SUCCESS,		/* delivered (NOTIFY=SUCCESS) */
};

/* RFC 3464 §2.3.3 */
enum bounce_action {
	BOUNCE_ACTION_FAILED,
	BOUNCE_ACTION_DELAYED,
	BOUNCE_ACTION_DELIVERED,
	BOUNCE_ACTION_RELAYED,	/* to a server without DSN (RFC 3461 §5.2.2) */
	BOUNCE_ACTION_EXPANDED,
};

enum bounce_ret {
	BOUNCE_RET_UNSET,	/* headers only */
	BOUNCE_RET_FULL,
	BOUNCE_RET_HDRS,
};

struct bounce_rcpt {
	const char		*addr;		/* "bob@example.net" */
	const char		*orcpt;		/* "rfc822;bob@x", or NULL */
	enum bounce_action	 action;
	/* "5.1.1"; NULL or malformed: 5.0.0, 4.0.0 or 2.0.0 by action */
	const char		*status;
	const char		*remote_mta;	/* host name, or NULL */
	/*
	 * The server's reply ("550 5.1.1 no such user", lines joined by
	 * "\n") or our own words when diag_local; NULL for none.
	 */
	const char		*diagnostic;
	bool			 diag_local;	/* not an SMTP server's reply */
	int64_t			 last_attempt;	/* unix seconds, 0 none */
	int64_t			 retry_until;	/* DELAYED: unix seconds */
};

struct bounce_params {
	const char		*hostname;	/* ours: Reporting-MTA */
	const char		*sender;	/* To: the envelope sender */
	const char		*queue_id;	/* of the original */
	const char		*envid;		/* RFC 3461 ENVID, or NULL */
	int64_t			 arrival;	/* unix seconds */
	int64_t			 now;		/* Date: */
	enum bounce_kind	 kind;
	enum bounce_ret		 ret;
	bool			 eightbit;	/* original is 8BITMIME/UTF-8 */
	uint64_t		 random;	/* boundary and Message-ID */
	uint64_t		 message_size;	/* octets, 0 unknown */
	uint64_t		 full_max;	/* 0: BOUNCE_FULL_MAX_DEFAULT */
	const struct bounce_rcpt *rcpts;
	size_t			 nrcpts;	/* at least 1 */
	/* Recipients of the same report left out to keep it small; the
	 * human part says how many. */
	size_t			 omitted;
	/* the original: count read into buf, 0 at the end, -1 on error */
	ssize_t			(*read)(void *arg, char *buf, size_t len);
	void			*read_arg;
};

/*
 * Append the whole report (header section and body, lines ending in
 * CRLF) to out.  Returns 0, or -1 with *errstr: no sender (a bounce is
 * never sent to <>), no recipient, a read error, a line of the original
 * that would be read as our MIME boundary (call again with another
 * random), or out full (EMSGSIZE: call again with RET_HDRS).  out is
 * left as it was on failure.
 */
int	bounce_compose(const struct bounce_params *, struct buf *out,
	    const char **errstr);

/* "Tue, 14 Nov 2023 22:13:20 +0000" (RFC 5322 §3.3) into out[32]. */
void	bounce_date(int64_t t, char out[32]);

#endif
