/*
 * queue_dsn: the delivery status notifications the queue sends (RFC 3461,
 * RFC 3464): a bounce when recipients failed for good or their time ran
 * out, a warning when they are still delayed, a "delivered" or "relayed"
 * report when the sender asked NOTIFY=SUCCESS.  Each is composed by
 * bounce.c from the original's envelope and spool file, then written and
 * committed to the spool as a new message from the null path <> to the
 * original sender (RFC 5321 §4.5.5), like any message: it survives a
 * crash and is delivered by the same scheduler.  Run by the queue role;
 * it reads and writes only the spool through queue_fs.
 */
#ifndef CACHET_QUEUE_DSN_H
#define CACHET_QUEUE_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bounce.h"
#include "queue_fs.h"

#define QUEUE_DSN_MAX	(4 * 1024 * 1024)	/* octets of one report */

/* One recipient the report is about. */
struct queue_dsn_rcpt {
	size_t			 idx;		/* in the original envelope */
	enum bounce_action	 action;
	/* RFC 3463 code ("5.1.1"); NULL: taken from the recipient's error */
	const char		*status;
};

/*
 * Compose a report of kind about rcpts[0..n) of the message env (whose
 * spool file holds msglen message octets), write it to the spool and
 * commit it (durable when this returns 0).  hostname is ours
 * (Reporting-MTA, the From: and Received: lines); now the time of the
 * report; retry_until, for a delay, when we give up.  On success out
 * holds the new message's envelope (the caller queues it and frees it)
 * and *outlen its length.  -1 with errno on failure: nothing is left in
 * the spool.  env->sender must not be "" (no report goes to <>).
 */
int	queue_dsn_make(struct queue_fs *fs, const char *hostname,
	    const struct queue_fs_envelope *env, uint64_t msglen,
	    enum bounce_kind kind, const struct queue_dsn_rcpt *rcpts,
	    size_t n, int64_t now, int64_t retry_until,
	    struct queue_fs_envelope *out, uint64_t *outlen);

/*
 * A message lookup made (a TLS-RPT report, RFC 8460 §5.3): data[0..len)
 * from sender to rcpt, behind our Received: line, written to the spool
 * and committed as queue_dsn_make() does; out and *outlen as there.
 * The caller checked the addresses; -1 with errno on failure.
 */
int	queue_dsn_inject(struct queue_fs *fs, const char *hostname,
	    const char *sender, const char *rcpt, const char *data,
	    size_t len, int64_t now, struct queue_fs_envelope *out,
	    uint64_t *outlen);

/*
 * The RFC 3463 status code in a recipient's error text, which is a
 * server's reply ("550 5.1.1 no such user", "550-5.1.1 ...") or our own
 * words after a code ("5.4.6 Alias loop"), into out; false when there is
 * none.
 */
bool	queue_dsn_status(const char *error, char out[16]);

/* The host name part of a remote ("mx.example.net[192.0.2.1]"). */
void	queue_dsn_remote_host(const char *remote, char *out, size_t outsz);

#endif
