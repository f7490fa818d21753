/*
 * mbox: appends one message to an mbox file, run by the mda role as the
 * owner of the mailboxes.  It trusts its caller (the queue's envelope and
 * spool file) and nothing in the mbox itself: the file may be shared
 * with mutt, procmail or a user's editor, so it takes both locks they
 * know (an fcntl lock and a "<file>.lock" dotlock), quotes body lines
 * that would look like a message separator (mboxrd), and takes back a
 * failed append by truncating to the size it found.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mbox.h"
#include "util.h"

#define MBOX_CHUNK		65536	/* bytes per pread/write */
#define MBOX_POLL_MS		100	/* between two tries of a lock */
#define MBOX_DOTLOCK_STALE	300	/* seconds: an older dotlock is dead */
/* RFC 5321 §4.5.3.1.3 allows 256 for a path; leave room, but bound it. */
#define MBOX_SENDER_MAX		1000
#define MBOX_LOCK_SUFFIX	".lock"

/* The output of one append: CRLF -> LF, mboxrd quoting, buffering. */
struct mbox_out {
	int		 fd;
	int		 error;	/* errno of the first failed write */
	bool		 cr;	/* the input so far ends with a CR */
	bool		 bol;	/* at the start of a line */
	uint64_t	 gts;	/* '>' held back at the start of a line */
	size_t		 from;	/* bytes of "From " held back after them */
	char		 last;	/* last byte put */
	size_t		 len;
	char		 buf[MBOX_CHUNK];
	char		 in[MBOX_CHUNK];
};

static const char *const mbox_days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const mbox_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static int
mbox_fail(const char **errstr_out, const char *msg)
{
	if (errstr_out != NULL)
		*errstr_out = msg;
	return -1;
}

/* --- output ------------------------------------------------------------- */

static void
mbox_flush(struct mbox_out *o)
{
	if (o->len > 0 && o->error == 0 &&
	    write_full(o->fd, o->buf, o->len) == -1)
		o->error = errno;
	o->len = 0;
}

static void
mbox_put(struct mbox_out *o, char c)
{
	if (o->len == sizeof(o->buf))
		mbox_flush(o);
	o->buf[o->len++] = c;
	o->last = c;
}

static void
mbox_puts(struct mbox_out *o, const char *s, size_t n)
{
	while (n-- > 0)
		mbox_put(o, *s++);
}

/* Put what was held back at the start of a line, unquoted. */
static void
mbox_release(struct mbox_out *o)
{
	for (; o->gts > 0; o->gts--)
		mbox_put(o, '>');
	mbox_puts(o, "From ", o->from);
	o->from = 0;
	o->bol = false;
}

/*
 * One byte of the message with LF line ends.  mboxrd: a line that
 * matches ">*From " gets one more '>', so that a reader can take exactly
 * one away again.  The start of a line is held back until it is clear
 * whether it matches; a line can be any length and span any chunks.
 */
static void
mbox_line(struct mbox_out *o, char c)
{
	if (o->bol) {
		if (o->from == 0 && c == '>') {
			o->gts++;
			return;
		}
		if (c == "From "[o->from]) {
			if (++o->from < 5)
				return;
			mbox_put(o, '>');
			mbox_release(o);
			return;
		}
		mbox_release(o);
	}
	mbox_put(o, c);
	if (c == '\n')
		o->bol = true;
}

/* One byte of input: CRLF becomes LF, a lone CR stays. */
static void
mbox_byte(struct mbox_out *o, char c)
{
	if (o->cr) {
		o->cr = false;
		if (c == '\n') {
			mbox_line(o, '\n');
			return;
		}
		mbox_line(o, '\r');
	}
	if (c == '\r') {
		o->cr = true;
		return;
	}
	mbox_line(o, c);
}

/* End the message with a newline and the empty line after it. */
static void
mbox_end(struct mbox_out *o)
{
	if (o->cr) {
		o->cr = false;
		mbox_line(o, '\r');
	}
	if (o->bol)
		mbox_release(o);
	if (o->last != '\n')
		mbox_put(o, '\n');
	mbox_put(o, '\n');
	mbox_flush(o);
}

/*
 * "From <sender> <date>": the date as asctime(3) writes it, in UTC and
 * always in English (no locale).  Bytes that would split the line into
 * other fields (space, controls) become '_'.
 */
static int
mbox_from_line(struct mbox_out *o, const char *sender, time_t when)
{
	struct tm	tm;
	char		date[64];
	size_t		i, n;
	int		len;

	if (gmtime_r(&when, &tm) == NULL) {
		errno = EINVAL;
		return -1;
	}
	len = snprintf(date, sizeof(date), "%s %s %2d %02d:%02d:%02d %lld",
	    mbox_days[tm.tm_wday], mbox_months[tm.tm_mon], tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)tm.tm_year + 1900);
	if (len < 0 || (size_t)len >= sizeof(date)) {
		errno = EINVAL;
		return -1;
	}
	n = sender == NULL ? 0 : strnlen(sender, MBOX_SENDER_MAX + 1);
	if (n > MBOX_SENDER_MAX) {
		errno = EINVAL;
		return -1;
	}
	mbox_puts(o, "From ", 5);
	if (n == 0)
		mbox_puts(o, "MAILER-DAEMON", 13);
	for (i = 0; i < n; i++)
		mbox_put(o, (unsigned char)sender[i] <= 0x20 ||
		    sender[i] == 0x7f ? '_' : sender[i]);
	mbox_put(o, ' ');
	mbox_puts(o, date, (size_t)len);
	mbox_put(o, '\n');
	return 0;
}

/*
 * A "From " line starts a message only after an empty line: make the
 * file end with one if someone left it otherwise.
 */
static int
mbox_separate(struct mbox_out *o, off_t size)
{
	char	tail[2];
	size_t	want;
	ssize_t	n;

	if (size == 0)
		return 0;
	want = size >= 2 ? 2 : 1;
	do
		n = pread(o->fd, tail, want, size - (off_t)want);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != want) {
		errno = EIO;
		return -1;
	}
	if (tail[want - 1] != '\n')
		mbox_puts(o, "\n\n", 2);
	else if (want == 2 && tail[0] != '\n')
		mbox_put(o, '\n');
	return 0;
}

/* --- locks -------------------------------------------------------------- */

static void
mbox_nap(uint64_t deadline)
{
	struct timespec	ts;
	uint64_t	now = now_ms(), ms;

	ms = deadline > now ? deadline - now : 0;
	if (ms > MBOX_POLL_MS)
		ms = MBOX_POLL_MS;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)ms * 1000000;
	(void)nanosleep(&ts, NULL);
}

/*
 * The fcntl lock, as an open file description lock: it conflicts with
 * the classic fcntl locks of mutt and procmail, and unlike those is not
 * dropped when another descriptor of the same file closes in this
 * process.  Polled, not F_OFD_SETLKW, so that the wait is bounded
 * without alarm(2).
 */
static int
mbox_fcntl_lock(int fd, uint64_t deadline)
{
	struct flock	fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	for (;;) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -1;
		if (now_ms() >= deadline) {
			errno = EAGAIN;
			return -1;
		}
		mbox_nap(deadline);
	}
}

static int
mbox_dotlock(const char *lockpath, uint64_t deadline)
{
	struct stat	st;
	char		pid[32];
	int		fd, n, saved;

	for (;;) {
		fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd != -1)
			break;
		if (errno != EEXIST)
			return -1;
		if (lstat(lockpath, &st) == 0 &&
		    (int64_t)st.st_mtime + MBOX_DOTLOCK_STALE <
		    (int64_t)time(NULL)) {
			/* Its holder died without removing it. */
			log_warnx("mbox: removing stale lock %s", lockpath);
			if (unlink(lockpath) == -1 && errno != ENOENT)
				return -1;
			continue;
		}
		if (now_ms() >= deadline) {
			errno = EAGAIN;
			return -1;
		}
		mbox_nap(deadline);
	}
	/* Our pid in it, as other dotlockers do, for a human to read. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (write_full(fd, pid, (size_t)n) == -1) {
		saved = errno;
		(void)close(fd);
		(void)unlink(lockpath);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1) {
		saved = errno;
		(void)unlink(lockpath);
		errno = saved;
		return -1;
	}
	return 0;
}

/* --- deliver ------------------------------------------------------------ */

int
mbox_deliver(const char *path, const char *sender, time_t when,
    const char *prepend, size_t prependlen, int msgfd, uint64_t msglen,
    const char **errstr_out)
{
	return mbox_deliver_timeout(path, sender, when, prepend, prependlen,
	    msgfd, msglen, MBOX_LOCK_TIMEOUT * 1000, errstr_out);
}

int
mbox_deliver_timeout(const char *path, const char *sender, time_t when,
    const char *prepend, size_t prependlen, int msgfd, uint64_t msglen,
    unsigned int timeout_ms, const char **errstr_out)
{
	struct mbox_out	*o = NULL;
	struct stat	 st;
	char		 lockpath[PATH_MAX];
	const char	*err = "cannot open the mbox";
	uint64_t	 deadline, off = 0;
	off_t		 orig = -1;
	ssize_t		 r, k;
	size_t		 i, n;
	int		 fd, saved;
	bool		 dotlocked = false;

	n = (size_t)snprintf(lockpath, sizeof(lockpath), "%s%s", path,
	    MBOX_LOCK_SUFFIX);
	if (n >= sizeof(lockpath)) {
		errno = ENAMETOOLONG;
		return mbox_fail(errstr_out, "path too long");
	}
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NOCTTY | O_NONBLOCK, 0600);
	if (fd == -1)
		return mbox_fail(errstr_out, err);
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		err = "mbox is not a regular file";
		goto fail;
	}

	deadline = now_ms() + timeout_ms;
	if (mbox_fcntl_lock(fd, deadline) == -1) {
		err = errno == EAGAIN ? "mbox is locked" :
		    "cannot lock the mbox";
		goto fail;
	}
	if (mbox_dotlock(lockpath, deadline) == -1) {
		err = errno == EAGAIN ? "mbox is dotlocked" :
		    "cannot create the dotlock";
		goto fail;
	}
	dotlocked = true;
	/* The size that counts is the one under the locks. */
	if (fstat(fd, &st) == -1) {
		err = "cannot stat the mbox";
		goto fail;
	}
	orig = st.st_size;

	o = xcalloc(1, sizeof(*o));
	o->fd = fd;
	err = "write failed";
	if (mbox_separate(o, orig) == -1) {
		err = "cannot read the mbox";
		goto fail;
	}
	if (mbox_from_line(o, sender, when) == -1) {
		err = "bad sender or date";
		goto fail;
	}
	o->bol = true;
	for (i = 0; i < prependlen; i++)
		mbox_byte(o, prepend[i]);
	while (off < msglen && o->error == 0) {
		n = msglen - off < MBOX_CHUNK ? (size_t)(msglen - off) :
		    MBOX_CHUNK;
		r = pread(msgfd, o->in, n, (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;	/* the spool file is shorter */
			err = "message file short or unreadable";
			goto fail;
		}
		for (k = 0; k < r; k++)
			mbox_byte(o, o->in[k]);
		off += (uint64_t)r;
	}
	mbox_end(o);
	if (o->error != 0) {
		errno = o->error;
		goto fail;
	}
	if (fsync(fd) == -1) {
		err = "fsync failed";
		goto fail;
	}
	(void)unlink(lockpath);
	(void)close(fd);
	free(o);
	return 0;

fail:
	saved = errno;
	if (orig != -1) {
		/* Take back what was written, so no half message stays. */
		if (ftruncate(fd, orig) == -1 || fsync(fd) == -1)
			log_warn("mbox: cannot roll %s back to %lld bytes",
			    path, (long long)orig);
	}
	if (dotlocked)
		(void)unlink(lockpath);
	(void)close(fd);
	free(o);
	errno = saved;
	return mbox_fail(errstr_out, err);
}
