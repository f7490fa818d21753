/*
 * mbox: delivery into an mbox file for users who choose it, run by the
 * mda role.  Locking is what mutt and procmail expect: an fcntl write
 * lock and a "<file>.lock" dotlock.  mboxrd quoting: a body line matching
 * ">*From " gets one more ">".  An append that fails (a full disk, a
 * quota, a read error) is rolled back by truncating to the old size, so
 * a failure never leaves half a message; a crash in the middle of an
 * append can, as mbox cannot be changed atomically.
 */
#ifndef CACHET_MBOX_H
#define CACHET_MBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* How long to wait for the locks before a temporary failure (EAGAIN). */
#define MBOX_LOCK_TIMEOUT	30	/* seconds */

/*
 * Append one message: the "From sender date" separator line (sender "" is
 * written as MAILER-DAEMON; date is when, in UTC, as asctime(3) writes
 * it), prepend, msglen bytes of msgfd read with pread from offset 0
 * (CRLF becomes LF, a lone CR stays), and an empty line; fsync.  Creates
 * the file (0600) when missing; a symbolic link or anything but a
 * regular file is refused.  A file that does not end with an empty line
 * gets one first, so that our "From " line starts a message.  Waits for
 * the locks up to MBOX_LOCK_TIMEOUT, polling every 100 ms (the mda
 * blocks meanwhile); a dotlock older than 5 minutes is stale and removed.
 * The caller ignores SIGXFSZ if it sets RLIMIT_FSIZE (then EFBIG).
 */
int	mbox_deliver(const char *path, const char *sender, time_t when,
	    const char *prepend, size_t prependlen, int msgfd,
	    uint64_t msglen, const char **errstr_out);

/* mbox_deliver() waiting at most timeout_ms for the locks (for tests). */
int	mbox_deliver_timeout(const char *path, const char *sender,
	    time_t when, const char *prepend, size_t prependlen, int msgfd,
	    uint64_t msglen, unsigned int timeout_ms,
	    const char **errstr_out);

#endif
