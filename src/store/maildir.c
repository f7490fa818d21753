/*
 * maildir: Maildir delivery (mda role) and reading (pop3 and imap roles),
 * Maildir++ folders, and the per-folder "cachet-uidlist" index.  Every
 * role runs as the owner of the mailboxes; nothing here reads the
 * network.  What it trusts: the paths it is given.  What it does not:
 * file names in the Maildir (other MDAs and mail clients write there too)
 * and the uidlist text, which a crash, a disk or a hand edit may have
 * damaged; a corrupt uidlist is rebuilt from the files with a new
 * UIDVALIDITY, never parsed on faith.
 *
 * Delivery follows https://cr.yp.to/proto/maildir.html: a unique name in
 * tmp/, the data fsync'ed, then moved into new/ under a name that never
 * replaces a file, then new/ fsync'ed; only then is the message delivered
 * (RFC 5321 §6.1: we are responsible for it once we said so).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dovecot_uidlist.h"
#include "log.h"
#include "maildir.h"
#include "util.h"

#define MAILDIR_CHUNK		65536	/* bytes per pread/write */
#define MAILDIR_CREATE_TRIES	16	/* unique names tried in tmp/ */
#define MAILDIR_HOST_MAX	96	/* escaped host name kept in names */
#define MAILDIR_FLAGS_MAX	31	/* sizeof(entry->flags) - 1 */
/* ",S=" and ",W=" with 20 digits each: what delivery adds in new/. */
#define MAILDIR_SIZES_MAX	46
#define MAILDIR_UIDLIST_LOCK	"cachet-uidlist.lock"
#define MAILDIR_UIDLIST_TMP	"cachet-uidlist.tmp"
#define MAILDIR_UIDLIST_MAGIC	"cachet-uidlist 1 "
#define MAILDIR_FOLDER_MARK	"maildirfolder"

static const char *const maildir_std_folders[] = { MAILDIR_FOLDERS_STD };

/* Q<n> of the unique names: deliveries tried by this process. */
static uint64_t	maildir_deliveries;

/* One file found in new/ or cur/, with what listing needs besides. */
struct maildir_item {
	struct maildir_entry	 e;
	size_t			 baselen;
	long			 mtime_nsec;
	bool			 known;	/* its UID came from the uidlist */
	bool			 counted; /* size_crlf is known */
	bool			 gone;	/* vanished while being listed */
};

struct maildir_items {
	struct maildir_item	*v;
	size_t			 n;
	size_t			 cap;
};

/* --- small helpers ------------------------------------------------------ */

static int
maildir_fail(const char **errstr_out, const char *msg)
{
	if (errstr_out != NULL)
		*errstr_out = msg;
	return -1;
}

static int
maildir_path(char *out, size_t outsz, const char *dir, const char *sub,
    const char *name)
{
	int	n;

	if (name == NULL)
		n = snprintf(out, outsz, "%s/%s", dir, sub);
	else
		n = snprintf(out, outsz, "%s/%s/%s", dir, sub, name);
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
maildir_fsync_dir(const char *dir)
{
	int	fd, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(fd) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/* fsync the directory holding path, so that a new entry in it lasts. */
static int
maildir_fsync_parent(const char *path)
{
	char		 parent[PATH_MAX];
	const char	*slash;
	size_t		 n;

	if ((slash = strrchr(path, '/')) == NULL)
		return maildir_fsync_dir(".");
	n = (size_t)(slash - path);
	if (n == 0)
		return maildir_fsync_dir("/");
	if (n >= sizeof(parent)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(parent, path, n);
	parent[n] = '\0';
	return maildir_fsync_dir(parent);
}

/* Length of a file name's base name: up to the first ':'. */
static size_t
maildir_baselen(const char *name)
{
	const char	*colon;

	if ((colon = strchr(name, ':')) != NULL)
		return (size_t)(colon - name);
	return strlen(name);
}

static bool
maildir_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * A name we list or open: not hidden, not too long, no '/' (entries
 * come back from callers), no control byte (the uidlist is line-based),
 * a base name before any ':'.
 */
static bool
maildir_name_ok(const char *name)
{
	size_t	i, n;

	n = strnlen(name, MAILDIR_NAME_MAX + 1);
	if (n == 0 || n > MAILDIR_NAME_MAX || name[0] == '.' ||
	    name[0] == ':')
		return false;
	for (i = 0; i < n; i++)
		if (name[i] == '/' || maildir_ctl((unsigned char)name[i]))
			return false;
	return true;
}

static int
maildir_basecmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	r;

	if ((r = memcmp(a, b, alen < blen ? alen : blen)) != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

/*
 * Letters of s (up to n bytes) into out, sorted (ASCII: A-Z then a-z)
 * without repeats, at most MAILDIR_FLAGS_MAX.  Other bytes make it fail
 * when strict, and are skipped otherwise.
 */
static int
maildir_flags_sort(const char *s, size_t n, bool strict,
    char out[MAILDIR_FLAGS_MAX + 1])
{
	bool		 seen[128] = { false };
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
			seen[c] = true;
		else if (strict) {
			errno = EINVAL;
			return -1;
		}
	}
	for (i = 'A'; i <= 'z'; i++) {
		if (!seen[i])
			continue;
		if (o == MAILDIR_FLAGS_MAX) {
			if (strict) {
				errno = EINVAL;
				return -1;
			}
			break;
		}
		out[o++] = (char)i;
	}
	out[o] = '\0';
	return 0;
}

/* The flags of a file name: what follows ":2,", else none. */
static void
maildir_flags_of(const char *name, char out[MAILDIR_FLAGS_MAX + 1])
{
	const char	*info = name + maildir_baselen(name);

	if (strncmp(info, ":2,", 3) == 0)
		(void)maildir_flags_sort(info + 3, strlen(info + 3), false,
		    out);
	else
		out[0] = '\0';
}

/*
 * Find the message with this base name in cur/ (another process moved
 * it there or changed its flags); its file name into name_out.
 */
static int
maildir_find_cur(const char *path, const char *base, size_t baselen,
    char name_out[MAILDIR_NAME_MAX + 1])
{
	char		 dir[PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	int		 saved;

	if (maildir_path(dir, sizeof(dir), path, "cur", NULL) == -1)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (strncmp(de->d_name, base, baselen) != 0 ||
		    (de->d_name[baselen] != ':' &&
		    de->d_name[baselen] != '\0') ||
		    !maildir_name_ok(de->d_name))
			continue;
		(void)str_copy(name_out, MAILDIR_NAME_MAX + 1, de->d_name);
		(void)closedir(d);
		return 0;
	}
	saved = errno;
	(void)closedir(d);
	errno = saved != 0 ? saved : ENOENT;
	return -1;
}

/*
 * The uidlist lock: an open file description lock (F_OFD_SETLKW), which
 * conflicts with classic fcntl locks too but, unlike them, is not lost
 * when some other descriptor of the file is closed in this process.  The
 * holder never waits for anything else, so waiting cannot deadlock.
 */
static int
maildir_lock(const char *path)
{
	struct flock	 fl;
	char		 lpath[PATH_MAX];
	int		 fd, saved;

	if (path_join(lpath, sizeof(lpath), path, MAILDIR_UIDLIST_LOCK) == -1)
		return -1;
	fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_OFD_SETLKW, &fl) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
maildir_unlock(int fd)
{
	int	saved = errno;

	(void)close(fd);
	errno = saved;
}

int
maildir_lock_folder(const char *path)
{
	return maildir_lock(path);
}

void
maildir_unlock_folder(int fd)
{
	maildir_unlock(fd);
}

/* --- create ------------------------------------------------------------- */

/* mkdir that accepts an existing directory and syncs a new one's parent. */
static int
maildir_mkdir(const char *dir)
{
	struct stat	st;

	if (mkdir(dir, 0700) == 0)
		return maildir_fsync_parent(dir);
	if (errno != EEXIST)
		return -1;
	if (stat(dir, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static int
maildir_mkdir_p(const char *path)
{
	char	tmp[PATH_MAX];
	char	*p;

	if (str_copy(tmp, sizeof(tmp), path) == -1)
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		if (maildir_mkdir(tmp) == -1)
			return -1;
		*p = '/';
	}
	return maildir_mkdir(tmp);
}

/* cur/ new/ tmp/ in dir, which exists. */
static int
maildir_mksubdirs(const char *dir)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char	p[PATH_MAX];
	size_t	i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (maildir_path(p, sizeof(p), dir, subs[i], NULL) == -1 ||
		    maildir_mkdir(p) == -1)
			return -1;
	return 0;
}

int
maildir_create(const char *path, const char **errstr_out)
{
	char	folder[PATH_MAX], mark[PATH_MAX];
	size_t	i;
	int	fd;

	if (maildir_mkdir_p(path) == -1 || maildir_mksubdirs(path) == -1)
		return maildir_fail(errstr_out, "cannot create the Maildir");
	for (i = 0; i < sizeof(maildir_std_folders) /
	    sizeof(maildir_std_folders[0]); i++) {
		if (path_join(folder, sizeof(folder), path,
		    maildir_std_folders[i]) == -1 ||
		    maildir_mkdir(folder) == -1 ||
		    maildir_mksubdirs(folder) == -1 ||
		    path_join(mark, sizeof(mark), folder,
		    MAILDIR_FOLDER_MARK) == -1)
			return maildir_fail(errstr_out,
			    "cannot create a folder");
		fd = open(mark, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd == -1 && errno != EEXIST)
			return maildir_fail(errstr_out,
			    "cannot create maildirfolder");
		if (fd != -1 && (close(fd) == -1 ||
		    maildir_fsync_dir(folder) == -1))
			return maildir_fail(errstr_out,
			    "cannot create maildirfolder");
	}
	return 0;
}

/* --- deliver ------------------------------------------------------------ */

/* The state of one copy: CRLF -> LF, with the sizes counted on the way. */
struct maildir_copy {
	int		 fd;
	bool		 cr;	/* the input so far ends with a CR */
	char		 last;	/* last byte written */
	uint64_t	 size;
	uint64_t	 size_crlf;
	char		 in[MAILDIR_CHUNK];
	char		 out[MAILDIR_CHUNK + 1];
};

static int
maildir_copy_out(struct maildir_copy *c, size_t o)
{
	const char	*p = c->out, *end = c->out + o, *lf;
	uint64_t	 bare = 0;

	/* A bare LF is one byte more with CRLF; a CR LF pair is not. */
	while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if ((lf == c->out ? c->last : lf[-1]) != '\r')
			bare++;
		p = lf + 1;
	}
	if (o > 0)
		c->last = c->out[o - 1];
	c->size += o;
	c->size_crlf += o + bare;
	return write_full(c->fd, c->out, o);
}

/* Convert n <= MAILDIR_CHUNK bytes; a CR at the end waits for the next. */
static int
maildir_copy_in(struct maildir_copy *c, const char *p, size_t n)
{
	const char	*cr;
	size_t		 i = 0, o = 0, run;

	if (n == 0)
		return 0;
	if (c->cr) {
		c->cr = false;
		if (p[0] == '\n') {
			c->out[o++] = '\n';
			i = 1;
		} else
			c->out[o++] = '\r';
	}
	while (i < n) {
		cr = memchr(p + i, '\r', n - i);
		run = (cr == NULL ? n : (size_t)(cr - p)) - i;
		memcpy(c->out + o, p + i, run);
		o += run;
		i += run;
		if (cr == NULL)
			break;
		if (i + 1 == n) {
			c->cr = true;
			break;
		}
		if (p[i + 1] == '\n') {
			c->out[o++] = '\n';
			i += 2;
		} else {
			c->out[o++] = '\r';
			i++;
		}
	}
	return maildir_copy_out(c, o);
}

static int
maildir_copy(struct maildir_copy *c, const char *prepend, size_t prependlen,
    int msgfd, uint64_t msglen)
{
	uint64_t	off = 0;
	size_t		n;
	ssize_t		r;

	while (prependlen > 0) {
		n = prependlen < MAILDIR_CHUNK ? prependlen : MAILDIR_CHUNK;
		if (maildir_copy_in(c, prepend, n) == -1)
			return -1;
		prepend += n;
		prependlen -= n;
	}
	while (off < msglen) {
		n = msglen - off < MAILDIR_CHUNK ? (size_t)(msglen - off) :
		    MAILDIR_CHUNK;
		r = pread(msgfd, c->in, n, (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0) {
			errno = EIO;	/* the spool file is shorter */
			return -1;
		}
		if (maildir_copy_in(c, c->in, (size_t)r) == -1)
			return -1;
		off += (uint64_t)r;
	}
	if (c->cr) {
		c->cr = false;
		c->out[0] = '\r';
		return maildir_copy_out(c, 1);
	}
	return 0;
}

/*
 * "<sec>.M<usec>P<pid>Q<n>.<host>": the host name with "/" and ":"
 * written as "\057" and "\072", as the Maildir specification asks.
 */
static int
maildir_unique(char *out, size_t outsz)
{
	struct timespec	 ts;
	char		 host[256], esc[MAILDIR_HOST_MAX + 1];
	size_t		 i, o = 0;
	uint64_t	 seq;
	int		 n;

	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		(void)str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0' && o + 4 < sizeof(esc); i++) {
		if (host[i] == '/' || host[i] == ':') {
			memcpy(esc + o, host[i] == '/' ? "\\057" : "\\072",
			    4);
			o += 4;
		} else if (maildir_ctl((unsigned char)host[i]))
			continue;
		else
			esc[o++] = host[i];
	}
	esc[o] = '\0';
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	/* Atomic: the mda's workers name files at the same time. */
	seq = __atomic_add_fetch(&maildir_deliveries, 1, __ATOMIC_RELAXED);
	n = snprintf(out, outsz, "%lld.M%ldP%ldQ%" PRIu64 ".%s",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(), seq,
	    esc);
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Move from to to, failing with EEXIST rather than replacing a file:
 * renameat2(RENAME_NOREPLACE), or link() and unlink() where the file
 * system does not know that flag.
 */
static int
maildir_move_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) == -1)
		return -1;
	(void)unlink(from);
	return 0;
}

/* Create tmp/<unique>; a Maildir that is missing is created once. */
static int
maildir_tmp_open(const char *path, char *base, size_t basesz,
    char *tmppath, size_t tmppathsz, const char **errstr_out)
{
	int	tries, fd, created = 0;

	for (tries = 0; tries < MAILDIR_CREATE_TRIES; tries++) {
		if (maildir_unique(base, basesz) == -1 ||
		    maildir_path(tmppath, tmppathsz, path, "tmp",
		    base) == -1)
			return maildir_fail(errstr_out, "name too long");
		fd = open(tmppath, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd != -1)
			return fd;
		if (errno == ENOENT && !created) {
			created = 1;
			if (maildir_create(path, errstr_out) == -1)
				return -1;
			continue;
		}
		if (errno != EEXIST)
			return maildir_fail(errstr_out,
			    "cannot create a file in tmp/");
	}
	return maildir_fail(errstr_out, "no unique name in tmp/");
}

int
maildir_prepare(const char *path, const char *prepend, size_t prependlen,
    int msgfd, uint64_t msglen, struct maildir_pending *p,
    const char **errstr_out)
{
	struct maildir_copy	*c;
	char			 base[MAILDIR_NAME_MAX + 1];
	const char		*err = "write failed";
	int			 fd, n, saved;

	p->state = MAILDIR_PENDING_NONE;
	p->name[0] = '\0';
	/* The name in new/ is the base name and the sizes. */
	if ((fd = maildir_tmp_open(path, base,
	    sizeof(base) - MAILDIR_SIZES_MAX, p->tmppath, sizeof(p->tmppath),
	    errstr_out)) == -1)
		return -1;

	/*
	 * Not xmalloc(): the mda calls this on worker threads, which may
	 * not log or exit.  Out of memory is a failure like any other.
	 */
	if ((c = malloc(sizeof(*c))) == NULL) {
		err = "out of memory";
		goto fail;
	}
	c->fd = fd;
	c->cr = false;
	c->last = '\0';
	c->size = 0;
	c->size_crlf = 0;
	if (maildir_copy(c, prepend, prependlen, msgfd, msglen) == -1) {
		err = errno == EIO ? "message file short or unreadable" :
		    "write failed";
		goto fail;
	}
	if (fsync(fd) == -1) {
		err = "fsync failed";
		goto fail;
	}
	n = close(fd);
	fd = -1;
	if (n == -1)
		goto fail;
	n = snprintf(p->name, sizeof(p->name), "%s,S=%" PRIu64 ",W=%" PRIu64,
	    base, c->size, c->size_crlf);
	if (n < 0 || (size_t)n >= sizeof(p->name) ||
	    maildir_path(p->newpath, sizeof(p->newpath), path, "new",
	    p->name) == -1) {
		errno = ENAMETOOLONG;
		err = "name too long";
		goto fail;
	}
	free(c);
	p->state = MAILDIR_PENDING_TMP;
	return 0;

fail:
	saved = errno;
	if (fd != -1)
		(void)close(fd);
	(void)unlink(p->tmppath);
	p->name[0] = '\0';
	free(c);
	errno = saved;
	return maildir_fail(errstr_out, err);
}

int
maildir_commit(struct maildir_pending *p, const char **errstr_out)
{
	int	saved;

	if (p->state != MAILDIR_PENDING_TMP) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "nothing prepared");
	}
	if (maildir_move_noreplace(p->tmppath, p->newpath) == -1) {
		saved = errno;
		maildir_abort(p);
		errno = saved;
		return maildir_fail(errstr_out, "cannot move into new/");
	}
	p->state = MAILDIR_PENDING_NEW;
	return 0;
}

int
maildir_sync_new(const char *path, const char **errstr_out)
{
	char	newdir[PATH_MAX];

	if (maildir_path(newdir, sizeof(newdir), path, "new", NULL) == -1)
		return maildir_fail(errstr_out, "path too long");
	if (maildir_fsync_dir(newdir) == -1)
		return maildir_fail(errstr_out, "fsync of new/ failed");
	return 0;
}

void
maildir_abort(struct maildir_pending *p)
{
	int	saved = errno;

	/*
	 * Not durable, so not delivered: take it back, or the retry that
	 * our failure causes would deliver it twice.
	 */
	if (p->state == MAILDIR_PENDING_TMP)
		(void)unlink(p->tmppath);
	else if (p->state == MAILDIR_PENDING_NEW)
		(void)unlink(p->newpath);
	p->state = MAILDIR_PENDING_NONE;
	errno = saved;
}

int
maildir_deliver(const char *path, const char *prepend, size_t prependlen,
    int msgfd, uint64_t msglen, char *name_out, size_t namesz,
    const char **errstr_out)
{
	struct maildir_pending	*p;
	int			 saved;

	p = xmalloc(sizeof(*p));
	if (maildir_prepare(path, prepend, prependlen, msgfd, msglen, p,
	    errstr_out) == -1)
		goto fail;
	if (name_out != NULL && strlen(p->name) >= namesz) {
		maildir_abort(p);
		errno = ENAMETOOLONG;
		(void)maildir_fail(errstr_out, "name buffer too small");
		goto fail;
	}
	if (maildir_commit(p, errstr_out) == -1)
		goto fail;
	if (maildir_sync_new(path, errstr_out) == -1) {
		maildir_abort(p);
		goto fail;
	}
	if (name_out != NULL)
		(void)str_copy(name_out, namesz, p->name);
	free(p);
	return 0;

fail:
	saved = errno;
	free(p);
	errno = saved;
	return -1;
}

/* --- the uidlist text --------------------------------------------------- */

/* A decimal without leading zeros, at most max, then one byte sep. */
static int
maildir_num(const char **pp, const char *end, uint64_t max, char sep,
    uint64_t *out)
{
	const char	*p = *pp;
	uint64_t	 v = 0;
	size_t		 digits = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (digits > 0 && v == 0)
			return -1;	/* a leading zero */
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -1;
		digits++;
		p++;
	}
	if (digits == 0 || v > max || p >= end || *p != sep)
		return -1;
	*out = v;
	*pp = p + 1;
	return 0;
}

static bool
maildir_base_ok(const char *p, size_t n)
{
	size_t	i;

	if (n == 0 || n > MAILDIR_NAME_MAX || p[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (p[i] == '/' || p[i] == ':' || p[i] == '\0' ||
		    maildir_ctl((unsigned char)p[i]))
			return false;
	return true;
}

static int
maildir_rec_basecmp(const void *a, const void *b)
{
	const struct maildir_uidlist_rec *const	*ra = a, *const *rb = b;

	return maildir_basecmp((*ra)->base, (*ra)->baselen, (*rb)->base,
	    (*rb)->baselen);
}

/* Records sorted by base name (pointers into ul); caller frees. */
static struct maildir_uidlist_rec **
maildir_uidlist_bybase(const struct maildir_uidlist *ul)
{
	struct maildir_uidlist_rec	**v;
	size_t				  i;

	/* NOLINTBEGIN(bugprone-sizeof-expression): an array of pointers */
	v = xcalloc(ul->nrecs, sizeof(*v));
	for (i = 0; i < ul->nrecs; i++)
		v[i] = &ul->recs[i];
	if (ul->nrecs > 1)
		qsort(v, ul->nrecs, sizeof(*v), maildir_rec_basecmp);
	/* NOLINTEND(bugprone-sizeof-expression) */
	return v;
}

void
maildir_uidlist_free(struct maildir_uidlist *ul)
{
	if (ul == NULL)
		return;
	free(ul->recs);
	free(ul->text);
	ul->recs = NULL;
	ul->text = NULL;
	ul->nrecs = 0;
}

static int
maildir_uidlist_bad(struct maildir_uidlist *ul, const char **errstr_out,
    const char *msg)
{
	uint32_t	uv = ul->uidvalidity;

	maildir_uidlist_free(ul);
	ul->uidvalidity = uv;
	ul->uidnext = 0;
	return maildir_fail(errstr_out, msg);
}

int
maildir_uidlist_parse(const char *p, size_t len, struct maildir_uidlist *out,
    const char **errstr_out)
{
	struct maildir_uidlist_rec	**sorted, *r;
	const char			 *end = p + len, *body, *s, *lf;
	uint64_t			  uv, next, uid, size, crlf;
	uint32_t			  prev = 0;
	size_t				  nlines = 0, i, magic;
	bool				  dup = false;

	memset(out, 0, sizeof(*out));
	if (len > MAILDIR_UIDLIST_MAX)
		return maildir_uidlist_bad(out, errstr_out, "too large");
	magic = sizeof(MAILDIR_UIDLIST_MAGIC) - 1;
	if (len < magic || memcmp(p, MAILDIR_UIDLIST_MAGIC, magic) != 0)
		return maildir_uidlist_bad(out, errstr_out, "bad header");
	s = p + magic;
	if (maildir_num(&s, end, UINT32_MAX, ' ', &uv) == -1 || uv == 0 ||
	    maildir_num(&s, end, UINT32_MAX, '\n', &next) == -1 || next == 0)
		return maildir_uidlist_bad(out, errstr_out, "bad header");
	out->uidvalidity = (uint32_t)uv;
	out->uidnext = (uint32_t)next;
	body = s;

	/* Count the records before allocating for them. */
	for (lf = body; lf < end; lf++) {
		if ((lf = memchr(lf, '\n', (size_t)(end - lf))) == NULL)
			return maildir_uidlist_bad(out, errstr_out,
			    "no newline at the end");
		if (++nlines > MAILDIR_LIST_MAX)
			return maildir_uidlist_bad(out, errstr_out,
			    "too many records");
	}
	/* A copy with NULs for LFs, so that base names are C strings. */
	out->text = xmalloc((size_t)(end - body) + 1);
	if (end > body)
		memcpy(out->text, body, (size_t)(end - body));
	out->text[end - body] = '\0';
	out->recs = xcalloc(nlines, sizeof(*out->recs));
	for (i = 0; i < nlines; i++) {
		lf = memchr(s, '\n', (size_t)(end - s));
		if (maildir_num(&s, lf, UINT32_MAX - 1, ' ', &uid) == -1 ||
		    uid == 0 ||
		    maildir_num(&s, lf, INT64_MAX, ' ', &size) == -1 ||
		    maildir_num(&s, lf, UINT64_MAX, ' ', &crlf) == -1)
			return maildir_uidlist_bad(out, errstr_out,
			    "bad record");
		if ((uint32_t)uid <= prev || uid >= next)
			return maildir_uidlist_bad(out, errstr_out,
			    "UIDs out of order");
		if (crlf < size || crlf - size > size)
			return maildir_uidlist_bad(out, errstr_out,
			    "bad CRLF size");
		if (!maildir_base_ok(s, (size_t)(lf - s)))
			return maildir_uidlist_bad(out, errstr_out,
			    "bad base name");
		r = &out->recs[i];
		r->uid = (uint32_t)uid;
		r->size = size;
		r->size_crlf = crlf;
		r->base = out->text + (s - body);
		r->baselen = (size_t)(lf - s);
		out->text[lf - body] = '\0';
		prev = (uint32_t)uid;
		s = lf + 1;
	}
	out->nrecs = nlines;
	if (nlines > 1) {
		sorted = maildir_uidlist_bybase(out);
		for (i = 1; i < nlines && !dup; i++)
			dup = maildir_rec_basecmp(&sorted[i - 1],
			    &sorted[i]) == 0;
		free(sorted);
	}
	if (dup)
		return maildir_uidlist_bad(out, errstr_out,
		    "base name listed twice");
	return 0;
}

int
maildir_uidlist_format(const struct maildir_uidlist *ul, struct buf *out)
{
	const struct maildir_uidlist_rec	*r;
	size_t					 i;

	if (buf_printf(out, "%s%" PRIu32 " %" PRIu32 "\n",
	    MAILDIR_UIDLIST_MAGIC, ul->uidvalidity, ul->uidnext) == -1)
		return -1;
	for (i = 0; i < ul->nrecs; i++) {
		r = &ul->recs[i];
		if (buf_printf(out, "%" PRIu32 " %" PRIu64 " %" PRIu64 " ",
		    r->uid, r->size, r->size_crlf) == -1 ||
		    buf_append(out, r->base, r->baselen) == -1 ||
		    buf_append_char(out, '\n') == -1)
			return -1;
	}
	return 0;
}

/* --- list --------------------------------------------------------------- */

static struct maildir_item *
maildir_items_add(struct maildir_items *it)
{
	struct maildir_item	*m;

	if (it->n == MAILDIR_LIST_MAX) {
		errno = E2BIG;
		return NULL;
	}
	if (it->n == it->cap) {
		it->cap = it->cap == 0 ? 64 : it->cap * 2;
		if (it->cap > MAILDIR_LIST_MAX)
			it->cap = MAILDIR_LIST_MAX;
		it->v = xrealloc(it->v, it->cap * sizeof(*it->v));
	}
	m = &it->v[it->n++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* Add the regular files of path/sub to it. */
static int
maildir_scan(const char *path, const char *sub, struct maildir_items *it)
{
	char			 dir[PATH_MAX], pbuf[64];
	struct dirent		*de;
	struct stat		 st;
	struct maildir_item	*m;
	DIR			*d;
	int			 saved;

	if (maildir_path(dir, sizeof(dir), path, sub, NULL) == -1)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		if (!maildir_name_ok(de->d_name)) {
			log_debug("maildir: %s: skipped name \"%s\"", dir,
			    printable(de->d_name, strlen(de->d_name), pbuf,
			    sizeof(pbuf)));
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;	/* moved or removed meanwhile */
			goto fail;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if ((m = maildir_items_add(it)) == NULL)
			goto fail;
		(void)str_copy(m->e.name, sizeof(m->e.name), de->d_name);
		m->e.in_new = sub[0] == 'n';
		m->e.size = (uint64_t)st.st_size;
		m->e.mtime = st.st_mtim.tv_sec;
		m->mtime_nsec = st.st_mtim.tv_nsec;
		m->baselen = maildir_baselen(m->e.name);
		maildir_flags_of(m->e.name, m->e.flags);
	}
	(void)closedir(d);
	return 0;
fail:
	saved = errno;
	(void)closedir(d);
	errno = saved;
	return -1;
}

static int
maildir_item_basecmp(const void *a, const void *b)
{
	const struct maildir_item	*x = a, *y = b;
	int				 r;

	r = maildir_basecmp(x->e.name, x->baselen, y->e.name, y->baselen);
	if (r != 0)
		return r;
	if (x->e.in_new != y->e.in_new)
		return x->e.in_new ? 1 : -1;	/* cur/ is the newer state */
	return strcmp(x->e.name, y->e.name);
}

/* Arrival order: mtime, then name. */
static int
maildir_item_timecmp(const void *a, const void *b)
{
	const struct maildir_item *const	*x = a, *const *y = b;

	if ((*x)->e.mtime != (*y)->e.mtime)
		return (*x)->e.mtime < (*y)->e.mtime ? -1 : 1;
	if ((*x)->mtime_nsec != (*y)->mtime_nsec)
		return (*x)->mtime_nsec < (*y)->mtime_nsec ? -1 : 1;
	return strcmp((*x)->e.name, (*y)->e.name);
}

/* UID order, unindexed (0) last in arrival order. */
static int
maildir_item_uidcmp(const void *a, const void *b)
{
	const struct maildir_item	*x = a, *y = b;
	const struct maildir_item	*px = x, *py = y;

	if (x->e.uid != y->e.uid) {
		if (x->e.uid == 0 || y->e.uid == 0)
			return x->e.uid == 0 ? 1 : -1;
		return x->e.uid < y->e.uid ? -1 : 1;
	}
	return maildir_item_timecmp(&px, &py);
}

/*
 * Scan new/ then cur/ (a reader only ever moves a file from new/ to
 * cur/, so in this order a file being moved is seen at least once), and
 * keep one file per base name.
 */
static int
maildir_scan_all(const char *path, struct maildir_items *it)
{
	size_t	i, o;

	it->n = 0;
	if (maildir_scan(path, "new", it) == -1 ||
	    maildir_scan(path, "cur", it) == -1)
		return -1;
	if (it->n < 2)
		return 0;
	qsort(it->v, it->n, sizeof(*it->v), maildir_item_basecmp);
	for (i = 1, o = 1; i < it->n; i++) {
		if (maildir_basecmp(it->v[i].e.name, it->v[i].baselen,
		    it->v[o - 1].e.name, it->v[o - 1].baselen) == 0)
			continue;
		if (o != i)
			it->v[o] = it->v[i];
		o++;
	}
	it->n = o;
	return 0;
}

/*
 * Give the scanned files the UIDs of their uidlist records (both sorted
 * by base name); returns how many records matched a file.
 */
static size_t
maildir_merge(struct maildir_items *it, struct maildir_uidlist_rec **byb,
    size_t nrecs)
{
	struct maildir_item	*m;
	size_t			 i = 0, j = 0, matched = 0;
	int			 r;

	while (i < it->n && j < nrecs) {
		m = &it->v[i];
		r = maildir_basecmp(m->e.name, m->baselen, byb[j]->base,
		    byb[j]->baselen);
		if (r < 0) {
			i++;
			continue;
		}
		if (r > 0) {
			j++;
			continue;
		}
		m->known = true;
		m->e.uid = byb[j]->uid;
		if (byb[j]->size == m->e.size) {
			m->e.size_crlf = byb[j]->size_crlf;
			m->counted = true;
		}
		matched++;
		i++;
		j++;
	}
	return matched;
}

/* The value of ",<key>=<digits>" in a base name (Maildir++ ",S="). */
static int
maildir_name_size(const char *name, size_t baselen, char key, uint64_t *out)
{
	const char	*p = name, *end = name + baselen, *c;
	uint64_t	 v;
	size_t		 digits;

	while ((c = memchr(p, ',', (size_t)(end - p))) != NULL) {
		p = c + 1;
		if (end - c < 4 || c[1] != key || c[2] != '=')
			continue;
		v = 0;
		digits = 0;
		for (c += 3; c < end && *c >= '0' && *c <= '9'; c++) {
			if (++digits > 18)
				return -1;
			v = v * 10 + (uint64_t)(*c - '0');
		}
		if (digits == 0 || (c < end && *c != ','))
			continue;
		*out = v;
		return 0;
	}
	return -1;
}

/* Size and CRLF size of a message by reading it (buf: MAILDIR_CHUNK). */
static int
maildir_count(const char *path, struct maildir_item *m, char *buf)
{
	char		 p[PATH_MAX];
	const char	*q, *lf, *end;
	uint64_t	 size = 0, bare = 0;
	ssize_t		 n;
	char		 prev = '\0';
	int		 fd, saved;

	if (maildir_path(p, sizeof(p), path, m->e.in_new ? "new" : "cur",
	    m->e.name) == -1)
		return -1;
	if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	for (;;) {
		n = read(fd, buf, MAILDIR_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			(void)close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		end = buf + n;
		for (q = buf; (lf = memchr(q, '\n', (size_t)(end - q))) != NULL;
		    q = lf + 1)
			if ((lf == buf ? prev : lf[-1]) != '\r')
				bare++;
		prev = buf[n - 1];
		size += (uint64_t)n;
	}
	(void)close(fd);
	m->e.size = size;
	m->e.size_crlf = size + bare;
	m->counted = true;
	return 0;
}

/*
 * size_crlf of a file the uidlist did not know at this size: from the
 * ",S=" and ",W=" in its name when they agree with the file (what
 * maildir_deliver() and Dovecot write), else by reading it once.
 */
static int
maildir_resolve(const char *path, struct maildir_item *m, char *buf)
{
	uint64_t	s, w;

	if (maildir_name_size(m->e.name, m->baselen, 'S', &s) == 0 &&
	    maildir_name_size(m->e.name, m->baselen, 'W', &w) == 0 &&
	    s == m->e.size && w >= s && w - s <= s) {
		m->e.size_crlf = w;
		m->counted = true;
		return 0;
	}
	return maildir_count(path, m, buf);
}

/*
 * The last UIDVALIDITY handed out, also kept in the lock file (which
 * only we write, under the lock), so that a uidlist whose header was
 * destroyed still gets a larger one; 0 if unknown.
 */
static uint32_t
maildir_lastuv_read(int lockfd)
{
	char		 b[16];
	const char	*p = b;
	uint64_t	 v;
	ssize_t		 n;

	n = pread(lockfd, b, sizeof(b), 0);
	if (n <= 0 || maildir_num(&p, b + n, UINT32_MAX, '\n', &v) == -1)
		return 0;
	return (uint32_t)v;
}

static void
maildir_lastuv_write(int lockfd, uint32_t uv)
{
	char	b[16];
	int	n;

	n = snprintf(b, sizeof(b), "%" PRIu32 "\n", uv);
	if (pwrite(lockfd, b, (size_t)n, 0) != n ||
	    ftruncate(lockfd, n) == -1)
		log_warn("maildir: cannot note uidvalidity in the lock file");
}

/*
 * UIDVALIDITY for a new or rebuilt uidlist: the time, but always larger
 * than the value it replaces (old, when the header could still be read),
 * the last one this folder had (from the lock file), and the damaged
 * file's mtime (the value it held was the time it was first written, so
 * at most that).  RFC 3501 §2.3.1.1 wants it to grow.
 */
static uint32_t
maildir_uidvalidity(int lockfd, uint32_t old, int64_t mtime)
{
	uint64_t	v = (uint64_t)time(NULL) & UINT32_MAX;
	uint32_t	last = maildir_lastuv_read(lockfd);

	if (old != 0 && v <= old)
		v = (uint64_t)old + 1;
	if (last != 0 && v <= last)
		v = (uint64_t)last + 1;
	if (mtime > 0 && v <= (uint64_t)mtime)
		v = (uint64_t)mtime + 1;
	v &= UINT32_MAX;
	if (v == 0)
		v = 1;
	maildir_lastuv_write(lockfd, (uint32_t)v);
	return (uint32_t)v;
}

int
maildir_file_read(const char *file, size_t max, char **text_out,
    size_t *len_out, int64_t *mtime_out, const char **errstr_out)
{
	struct stat	 st;
	char		*text;
	ssize_t		 n;
	int		 fd, saved;

	*text_out = NULL;
	*len_out = 0;
	if (mtime_out != NULL)
		*mtime_out = 0;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	if (mtime_out != NULL)
		*mtime_out = st.st_mtim.tv_sec;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		(void)close(fd);
		*errstr_out = S_ISREG(st.st_mode) ? "too large" :
		    "not a regular file";
		return 2;
	}
	text = xmalloc((size_t)st.st_size + 1);
	n = read_full(fd, text, (size_t)st.st_size);
	saved = errno;
	(void)close(fd);
	if (n == -1) {
		free(text);
		errno = saved;
		return -1;
	}
	text[n] = '\0';
	*text_out = text;
	*len_out = (size_t)n;
	return 0;
}

/* 0: parsed, 1: missing, 2: corrupt (logged), -1: error (errno). */
static int
maildir_uidlist_read(const char *ulpath, struct maildir_uidlist *ul,
    int64_t *mtime_out)
{
	const char	*perr = NULL;
	char		*text;
	size_t		 len;
	int		 r;

	memset(ul, 0, sizeof(*ul));
	r = maildir_file_read(ulpath, MAILDIR_UIDLIST_MAX, &text, &len,
	    mtime_out, &perr);
	if (r == 0) {
		if (maildir_uidlist_parse(text, len, ul, &perr) == 0) {
			free(text);
			return 0;
		}
		free(text);
		r = 2;
	}
	if (r == 2)
		log_warnx("maildir: uidlist %s is corrupt (%s), rebuilding it",
		    ulpath, perr);
	return r;
}

int
maildir_file_replace(const char *dir, const char *tmp, const char *dst,
    const void *p, size_t len)
{
	int	fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return -1;
	if (write_full(fd, p, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		(void)close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, dst) == -1) {
		saved = errno;
		goto fail;
	}
	return maildir_fsync_dir(dir);
fail:
	(void)unlink(tmp);
	errno = saved;
	return -1;
}

/* Write the uidlist of the items (sorted by UID) atomically. */
static int
maildir_uidlist_write(const char *path, uint32_t uidvalidity,
    uint32_t uidnext, const struct maildir_items *it)
{
	struct maildir_uidlist		 ul;
	struct maildir_uidlist_rec	*r;
	struct buf			 b;
	char				 tmp[PATH_MAX], dst[PATH_MAX];
	size_t				 i;
	int				 rc, saved;

	if (path_join(tmp, sizeof(tmp), path, MAILDIR_UIDLIST_TMP) == -1 ||
	    path_join(dst, sizeof(dst), path, MAILDIR_UIDLIST) == -1)
		return -1;
	memset(&ul, 0, sizeof(ul));
	ul.uidvalidity = uidvalidity;
	ul.uidnext = uidnext;
	ul.recs = xcalloc(it->n, sizeof(*ul.recs));
	for (i = 0; i < it->n; i++) {
		if (it->v[i].e.uid == 0)
			continue;
		r = &ul.recs[ul.nrecs++];
		r->uid = it->v[i].e.uid;
		r->size = it->v[i].e.size;
		r->size_crlf = it->v[i].e.size_crlf;
		r->base = it->v[i].e.name;
		r->baselen = it->v[i].baselen;
	}
	buf_init(&b, MAILDIR_UIDLIST_MAX);
	/* Only the lock holder writes it, so one fixed tmp name will do. */
	rc = maildir_uidlist_format(&ul, &b) == -1 ? -1 :
	    maildir_file_replace(path, tmp, dst, b.data, b.len);
	saved = errno;
	free(ul.recs);
	buf_free(&b);
	errno = saved;
	return rc;
}

/* Give UIDs to the files the uidlist does not know, in arrival order. */
static void
maildir_assign(const char *path, int lockfd, struct maildir_items *it,
    uint32_t *uidvalidity, uint32_t *uidnext)
{
	struct maildir_item	**fresh;
	size_t			  i, nfresh = 0;

	for (i = 0; i < it->n; i++)
		if (!it->v[i].known)
			nfresh++;
	if (nfresh == 0)
		return;
	if ((uint64_t)*uidnext + nfresh > UINT32_MAX) {
		/* RFC 3501 §2.3.1.1: new UIDs need a new UIDVALIDITY. */
		log_warnx("maildir: %s: UIDs exhausted, renumbering", path);
		*uidvalidity = maildir_uidvalidity(lockfd, *uidvalidity, 0);
		*uidnext = 1;
		for (i = 0; i < it->n; i++)
			it->v[i].known = false;
		nfresh = it->n;
	}
	/* NOLINTBEGIN(bugprone-sizeof-expression): an array of pointers */
	fresh = xcalloc(nfresh, sizeof(*fresh));
	for (i = 0, nfresh = 0; i < it->n; i++)
		if (!it->v[i].known)
			fresh[nfresh++] = &it->v[i];
	qsort(fresh, nfresh, sizeof(*fresh), maildir_item_timecmp);
	/* NOLINTEND(bugprone-sizeof-expression) */
	for (i = 0; i < nfresh; i++)
		fresh[i]->e.uid = (*uidnext)++;
	free(fresh);
}

/*
 * A folder without a cachet-uidlist that Dovecot served: its UIDs are
 * taken over (dovecot_uidlist.h); the keywords file is Dovecot's own
 * already.  0 when ul holds them, -1 when there is nothing to adopt.
 */
static int
maildir_adopt_dovecot(const char *path, struct maildir_uidlist *ul)
{
	int	r;

	if ((r = dovecot_uidlist_read(path, ul)) == 0) {
		log_info("maildir: %s: adopting %s: uidvalidity=%" PRIu32
		    " uidnext=%" PRIu32 " records=%zu", path,
		    DOVECOT_UIDLIST_FILE, ul->uidvalidity, ul->uidnext,
		    ul->nrecs);
		return 0;
	}
	if (r == -1)
		log_warn("maildir: %s: cannot read %s", path,
		    DOVECOT_UIDLIST_FILE);
	maildir_uidlist_free(ul);
	memset(ul, 0, sizeof(*ul));
	return -1;
}

/*
 * The keywords of the listed files, under the lock: every letter they
 * carry gets its name (maildir_kw_sync()).
 */
static void
maildir_list_keywords(const char *path, const struct maildir_items *it,
    struct maildir_kw *out)
{
	uint32_t	used = 0;
	size_t		i;

	for (i = 0; i < it->n; i++)
		used |= maildir_kw_mask(it->v[i].e.flags);
	maildir_kw_sync(path, used, out);
}

int
maildir_list(const char *path, struct maildir_list *out,
    const char **errstr_out)
{
	struct maildir_uidlist		 ul;
	struct maildir_uidlist_rec	**byb = NULL;
	struct maildir_items		 it = { NULL, 0, 0 };
	struct maildir_item		*m;
	char				 ulpath[PATH_MAX];
	char				*cbuf = NULL;
	const char			*err = "cannot read the folder";
	uint32_t			 uv, next;
	int64_t				 ulmtime;
	size_t				 matched = 0, i, o;
	int				 lockfd, r, attempt, saved;
	bool				 dirty = false;

	memset(out, 0, sizeof(*out));
	if (path_join(ulpath, sizeof(ulpath), path, MAILDIR_UIDLIST) == -1)
		return maildir_fail(errstr_out, "path too long");
	if ((lockfd = maildir_lock(path)) == -1)
		return maildir_fail(errstr_out, "cannot lock the uidlist");
	if ((r = maildir_uidlist_read(ulpath, &ul, &ulmtime)) == -1) {
		err = "cannot read the uidlist";
		goto fail;
	}
	/*
	 * Only at the first contact: a folder whose lock file holds a
	 * UIDVALIDITY has had a cachet-uidlist, and UIDs handed out since
	 * Dovecot's file was written must not be handed out again.
	 */
	if (r == 1 && maildir_lastuv_read(lockfd) == 0 &&
	    maildir_adopt_dovecot(path, &ul) == 0) {
		maildir_lastuv_write(lockfd, ul.uidvalidity);
		r = 0;
		dirty = true;
	}
	if (r == 0) {
		uv = ul.uidvalidity;
		next = ul.uidnext;
	} else {
		uv = maildir_uidvalidity(lockfd, ul.uidvalidity,
		    r == 2 ? ulmtime : 0);
		next = 1;
		dirty = true;
		if (r == 2)
			log_warnx("maildir: %s: new uidvalidity=%" PRIu32,
			    path, uv);
	}
	byb = maildir_uidlist_bybase(&ul);
	for (attempt = 0; attempt < 2; attempt++) {
		if (maildir_scan_all(path, &it) == -1) {
			err = errno == E2BIG ? "too many messages" :
			    "cannot read the folder";
			goto fail;
		}
		/*
		 * A record without its file: removed, or renamed by a flag
		 * change during the scan, which readdir() may then show
		 * under neither name (POSIX leaves it open).  A second look
		 * tells the two apart.
		 */
		if ((matched = maildir_merge(&it, byb, ul.nrecs)) == ul.nrecs)
			break;
	}
	if (matched != ul.nrecs)
		dirty = true;
	cbuf = xmalloc(MAILDIR_CHUNK);
	for (i = 0; i < it.n; i++) {
		m = &it.v[i];
		if (m->counted)
			continue;
		if (maildir_resolve(path, m, cbuf) == -1) {
			if (errno != ENOENT) {
				err = "cannot read a message";
				goto fail;
			}
			m->gone = true;
		}
		dirty = true;	/* a new record, or a new size for one */
	}
	for (i = 0, o = 0; i < it.n; i++)
		if (!it.v[i].gone)
			it.v[o++] = it.v[i];
	it.n = o;
	maildir_assign(path, lockfd, &it, &uv, &next);
	if (it.n > 1)
		qsort(it.v, it.n, sizeof(*it.v), maildir_item_uidcmp);
	if (dirty && maildir_uidlist_write(path, uv, next, &it) == -1) {
		/*
		 * UIDs that are not on disk must not be shown: give them
		 * as 0 (the header's "not indexed") and keep the old ones.
		 */
		log_warn("maildir: cannot write %s", ulpath);
		for (i = 0; i < it.n; i++)
			if (!it.v[i].known)
				it.v[i].e.uid = 0;
		if (r == 0) {
			uv = ul.uidvalidity;
			next = ul.uidnext;
		}
		if (it.n > 1)
			qsort(it.v, it.n, sizeof(*it.v),
			    maildir_item_uidcmp);
	}
	maildir_list_keywords(path, &it, &out->kw);
	maildir_unlock(lockfd);

	out->entries = xcalloc(it.n, sizeof(*out->entries));
	for (i = 0; i < it.n; i++)
		out->entries[i] = it.v[i].e;
	out->nentries = it.n;
	out->uidvalidity = uv;
	out->uidnext = next;
	free(cbuf);
	free(byb);
	free(it.v);
	maildir_uidlist_free(&ul);
	return 0;
fail:
	saved = errno;
	maildir_unlock(lockfd);
	free(cbuf);
	free(byb);
	free(it.v);
	maildir_uidlist_free(&ul);
	errno = saved;
	return maildir_fail(errstr_out, err);
}

int
maildir_claim_new(const char *path, struct buf *moved_out,
    const char **errstr_out)
{
	char		 dir[PATH_MAX], to[MAILDIR_NAME_MAX + 1];
	char		 flags[MAILDIR_FLAGS_MAX + 1];
	struct buf	 names;
	struct dirent	*de;
	struct stat	 st;
	const char	*err = "cannot read new/", *name;
	DIR		*d = NULL;
	size_t		 o, baselen;
	int		 lockfd, curfd = -1, moved = 0, n, saved;

	if (maildir_path(dir, sizeof(dir), path, "new", NULL) == -1)
		return maildir_fail(errstr_out, "path too long");
	buf_init(&names, (size_t)MAILDIR_LIST_MAX * (MAILDIR_NAME_MAX + 1));
	/* Under the uidlist lock, so that a listing never misses one. */
	if ((lockfd = maildir_lock(path)) == -1) {
		buf_free(&names);
		return maildir_fail(errstr_out, "cannot lock the uidlist");
	}
	if ((d = opendir(dir)) == NULL)
		goto fail;
	/* the names first: new/ is not changed under readdir() */
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (!maildir_name_ok(de->d_name))
			continue;
		if (de->d_type != DT_REG && (de->d_type != DT_UNKNOWN ||
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode)))
			continue;
		if (buf_append(&names, de->d_name, strlen(de->d_name) + 1) ==
		    -1)
			goto fail;
	}
	err = "cannot rename a message";
	if (maildir_path(dir, sizeof(dir), path, "cur", NULL) == -1 ||
	    (curfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	for (o = 0; o < names.len; o += strlen(name) + 1) {
		name = names.data + o;
		baselen = maildir_baselen(name);
		maildir_flags_of(name, flags);
		n = snprintf(to, sizeof(to), "%.*s:2,%s", (int)baselen, name,
		    flags);
		if (n < 0 || (size_t)n >= sizeof(to))
			continue;	/* left in new/, as maildir_set_flags() */
		if (renameat(dirfd(d), name, curfd, to) == -1) {
			if (errno == ENOENT)
				continue;	/* another reader took it */
			goto fail;
		}
		moved++;
		if (moved_out != NULL &&
		    (buf_append(moved_out, name, baselen) == -1 ||
		    buf_append_char(moved_out, '\0') == -1))
			goto fail;
	}
	(void)close(curfd);
	(void)closedir(d);
	maildir_unlock(lockfd);
	buf_free(&names);
	return moved;
fail:
	saved = errno;
	if (curfd != -1)
		(void)close(curfd);
	if (d != NULL)
		(void)closedir(d);
	maildir_unlock(lockfd);
	buf_free(&names);
	errno = saved;
	return maildir_fail(errstr_out, err);
}

void
maildir_list_free(struct maildir_list *l)
{
	if (l == NULL)
		return;
	maildir_kw_free(&l->kw);
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

/* --- reading and changing one message ----------------------------------- */

/*
 * Open a message to read it, without updating its access time where we
 * may (the files' owner): a reader's first look at a new message would
 * otherwise dirty its inode, a write per message of a first sync that
 * nothing in a Maildir reads back.
 */
static int
maildir_open_ro_at(int dirfd, const char *p)
{
	int	fd;

	fd = openat(dirfd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
	if (fd == -1 && errno == EPERM)
		fd = openat(dirfd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

static int
maildir_open_ro(const char *p)
{
	return maildir_open_ro_at(AT_FDCWD, p);
}

int
maildir_dirs_open(const char *path, struct maildir_dirs *d)
{
	char	p[PATH_MAX];

	d->newfd = d->curfd = -1;
	if (maildir_path(p, sizeof(p), path, "new", NULL) == -1 ||
	    (d->newfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    maildir_path(p, sizeof(p), path, "cur", NULL) == -1 ||
	    (d->curfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		maildir_dirs_close(d);
		return -1;
	}
	return 0;
}

void
maildir_dirs_close(struct maildir_dirs *d)
{
	int	saved = errno;

	if (d->newfd != -1)
		(void)close(d->newfd);
	if (d->curfd != -1)
		(void)close(d->curfd);
	d->newfd = d->curfd = -1;
	errno = saved;
}

int
maildir_open_in(const struct maildir_dirs *d, const char *path,
    const struct maildir_entry *e, int *fd_out, const char **errstr_out)
{
	int	fd, dfd = e->in_new ? d->newfd : d->curfd;

	if (dfd != -1 && maildir_name_ok(e->name) &&
	    (fd = maildir_open_ro_at(dfd, e->name)) != -1) {
		*fd_out = fd;
		return 0;
	}
	return maildir_open(path, e, fd_out, errstr_out);
}

int
maildir_open(const char *path, const struct maildir_entry *e, int *fd_out,
    const char **errstr_out)
{
	char	p[PATH_MAX], found[MAILDIR_NAME_MAX + 1];
	int	fd;

	if (!maildir_name_ok(e->name)) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad message name");
	}
	if (maildir_path(p, sizeof(p), path, e->in_new ? "new" : "cur",
	    e->name) == -1)
		return maildir_fail(errstr_out, "path too long");
	fd = maildir_open_ro(p);
	if (fd == -1 && errno == ENOENT) {
		if (maildir_find_cur(path, e->name, maildir_baselen(e->name),
		    found) == -1)
			return maildir_fail(errstr_out, "message is gone");
		if (maildir_path(p, sizeof(p), path, "cur", found) == -1)
			return maildir_fail(errstr_out, "path too long");
		fd = maildir_open_ro(p);
	}
	if (fd == -1)
		return maildir_fail(errstr_out, "cannot open the message");
	*fd_out = fd;
	return 0;
}

/*
 * maildir_set_flags(), taking the folder's lock unless locked; through
 * the directories d holds open when there is d (the names alone, no walk
 * of the path), by the paths when the message moved meanwhile.
 */
static int
maildir_set_flags_as(const char *path, const struct maildir_dirs *d,
    struct maildir_entry *e, const char *flags, bool locked,
    const char **errstr_out)
{
	char		 sorted[MAILDIR_FLAGS_MAX + 1];
	char		 name[MAILDIR_NAME_MAX + 1];
	char		 found[MAILDIR_NAME_MAX + 1];
	char		 from[PATH_MAX], to[PATH_MAX];
	const char	*err = "cannot rename the message";
	size_t		 baselen, flen;
	int		 lockfd, fromfd, n;

	if (!maildir_name_ok(e->name)) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad message name");
	}
	if ((flen = strnlen(flags, 256)) == 256 ||
	    maildir_flags_sort(flags, flen, true, sorted) == -1) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad flags");
	}
	baselen = maildir_baselen(e->name);
	n = snprintf(name, sizeof(name), "%.*s:2,%s", (int)baselen, e->name,
	    sorted);
	if (n < 0 || (size_t)n >= sizeof(name) ||
	    maildir_path(from, sizeof(from), path, e->in_new ? "new" : "cur",
	    e->name) == -1 ||
	    maildir_path(to, sizeof(to), path, "cur", name) == -1) {
		errno = ENAMETOOLONG;
		return maildir_fail(errstr_out, "name too long");
	}
	if (!e->in_new && strcmp(name, e->name) == 0) {
		(void)str_copy(e->flags, sizeof(e->flags), sorted);
		return 0;
	}
	/* Under the uidlist lock, so that a listing never misses it. */
	if (locked)
		lockfd = -1;
	else if ((lockfd = maildir_lock(path)) == -1)
		return maildir_fail(errstr_out, "cannot lock the uidlist");
	fromfd = d == NULL ? -1 : e->in_new ? d->newfd : d->curfd;
	if ((fromfd == -1 || d->curfd == -1 ||
	    renameat(fromfd, e->name, d->curfd, name) == -1) &&
	    rename(from, to) == -1) {
		if (errno != ENOENT)
			goto fail;
		if (maildir_find_cur(path, e->name, baselen, found) == -1) {
			err = "message is gone";
			goto fail;
		}
		if (strcmp(found, name) != 0 &&
		    (maildir_path(from, sizeof(from), path, "cur",
		    found) == -1 || rename(from, to) == -1))
			goto fail;
	}
	if (lockfd != -1)
		maildir_unlock(lockfd);
	(void)str_copy(e->name, sizeof(e->name), name);
	(void)str_copy(e->flags, sizeof(e->flags), sorted);
	e->in_new = false;
	return 0;
fail:
	if (lockfd != -1)
		maildir_unlock(lockfd);
	return maildir_fail(errstr_out, err);
}

int
maildir_set_flags(const char *path, struct maildir_entry *e,
    const char *flags, const char **errstr_out)
{
	return maildir_set_flags_as(path, NULL, e, flags, false, errstr_out);
}

int
maildir_set_flags_locked(const char *path, struct maildir_entry *e,
    const char *flags, const char **errstr_out)
{
	return maildir_set_flags_as(path, NULL, e, flags, true, errstr_out);
}

int
maildir_set_flags_in(const struct maildir_dirs *d, const char *path,
    struct maildir_entry *e, const char *flags, const char **errstr_out)
{
	return maildir_set_flags_as(path, d, e, flags, true, errstr_out);
}

int
maildir_remove(const char *path, const struct maildir_entry *e,
    const char **errstr_out)
{
	char	p[PATH_MAX], found[MAILDIR_NAME_MAX + 1];

	if (!maildir_name_ok(e->name)) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad message name");
	}
	if (maildir_path(p, sizeof(p), path, e->in_new ? "new" : "cur",
	    e->name) == -1)
		return maildir_fail(errstr_out, "path too long");
	if (unlink(p) == 0)
		return 0;
	if (errno != ENOENT)
		return maildir_fail(errstr_out, "cannot remove the message");
	/* Moved or re-flagged by someone else meanwhile? */
	if (maildir_find_cur(path, e->name, maildir_baselen(e->name),
	    found) == -1) {
		if (errno == ENOENT)
			return 0;
		return maildir_fail(errstr_out, "cannot read cur/");
	}
	if (maildir_path(p, sizeof(p), path, "cur", found) == -1)
		return maildir_fail(errstr_out, "path too long");
	if (unlink(p) == -1 && errno != ENOENT)
		return maildir_fail(errstr_out, "cannot remove the message");
	return 0;
}

/* --- usage -------------------------------------------------------------- */

static int
maildir_usage_dir(const char *dir, uint64_t *sum)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	uint64_t	 size;
	int		 saved;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		if (maildir_name_size(de->d_name, maildir_baselen(de->d_name),
		    'S', &size) == -1) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1) {
				if (errno == ENOENT)
					continue;
				goto fail;
			}
			if (!S_ISREG(st.st_mode))
				continue;
			size = (uint64_t)st.st_size;
		}
		if (__builtin_add_overflow(*sum, size, sum)) {
			errno = EOVERFLOW;
			goto fail;
		}
	}
	(void)closedir(d);
	return 0;
fail:
	saved = errno;
	(void)closedir(d);
	errno = saved;
	return -1;
}

static int
maildir_usage_folder(const char *folder, uint64_t *sum)
{
	char	p[PATH_MAX];

	if (maildir_path(p, sizeof(p), folder, "new", NULL) == -1 ||
	    maildir_usage_dir(p, sum) == -1 ||
	    maildir_path(p, sizeof(p), folder, "cur", NULL) == -1 ||
	    maildir_usage_dir(p, sum) == -1)
		return -1;
	return 0;
}

int
maildir_usage(const char *path, uint64_t *bytes_out, const char **errstr_out)
{
	char		 p[PATH_MAX];
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	uint64_t	 sum = 0;
	int		 saved;

	if (maildir_usage_folder(path, &sum) == -1)
		return maildir_fail(errstr_out, "cannot read the Maildir");
	if ((d = opendir(path)) == NULL)
		return maildir_fail(errstr_out, "cannot read the Maildir");
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		/* Maildir++ folders: ".name" directories, all one level. */
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			goto fail;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		if (path_join(p, sizeof(p), path, de->d_name) == -1 ||
		    maildir_usage_folder(p, &sum) == -1)
			goto fail;
	}
	(void)closedir(d);
	*bytes_out = sum;
	return 0;
fail:
	saved = errno;
	(void)closedir(d);
	errno = saved;
	return maildir_fail(errstr_out, "cannot read a folder");
}

/* --- folders, and messages stored by a reader (IMAP) -------------------- */

static bool
maildir_folder_name_ok(const char *name)
{
	size_t	n = strnlen(name, MAILDIR_NAME_MAX);

	/* ".name" must fit a directory entry; no path, no "..". */
	return n > 0 && n < MAILDIR_NAME_MAX && name[0] != '.' &&
	    name[n - 1] != '.' && strchr(name, '/') == NULL &&
	    strstr(name, "..") == NULL;
}

static int
maildir_folder_path(char *out, size_t outsz, const char *path,
    const char *name)
{
	int	n;

	if (!maildir_folder_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(out, outsz, "%s/.%s", path, name);
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
maildir_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
maildir_folders_free(char **names, size_t n)
{
	size_t	i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
maildir_folders(const char *path, char ***names_out, size_t *n_out,
    const char **errstr_out)
{
	struct dirent	*de;
	struct stat	 st;
	char		**v = NULL;
	size_t		 n = 0, cap = 0, i;
	DIR		*d;
	int		 saved;

	*names_out = NULL;
	*n_out = 0;
	if ((d = opendir(path)) == NULL)
		return maildir_fail(errstr_out, "cannot read the Maildir");
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (de->d_name[0] != '.' ||
		    !maildir_folder_name_ok(de->d_name + 1))
			continue;
		for (i = 1; de->d_name[i] != '\0'; i++)
			if (maildir_ctl((unsigned char)de->d_name[i]))
				break;
		if (de->d_name[i] != '\0')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			goto fail;
		}
		if (!S_ISDIR(st.st_mode))
			continue;
		if (n == MAILDIR_FOLDERS_MAX) {
			errno = E2BIG;
			goto fail;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = xstrdup(de->d_name + 1);
	}
	(void)closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), maildir_strcmp);
	*names_out = v;
	*n_out = n;
	return 0;
fail:
	saved = errno;
	(void)closedir(d);
	maildir_folders_free(v, n);
	errno = saved;
	return maildir_fail(errstr_out, "cannot read a folder");
}

int
maildir_folder_create(const char *path, const char *name,
    const char **errstr_out)
{
	char	folder[PATH_MAX], mark[PATH_MAX];
	int	fd;

	if (maildir_folder_path(folder, sizeof(folder), path, name) == -1)
		return maildir_fail(errstr_out, "bad folder name");
	if (mkdir(folder, 0700) == -1)
		return maildir_fail(errstr_out, errno == EEXIST ?
		    "folder exists" : "cannot create the folder");
	if (maildir_fsync_parent(folder) == -1 ||
	    maildir_mksubdirs(folder) == -1 ||
	    path_join(mark, sizeof(mark), folder, MAILDIR_FOLDER_MARK) == -1)
		return maildir_fail(errstr_out, "cannot create the folder");
	fd = open(mark, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || close(fd) == -1 || maildir_fsync_dir(folder) == -1)
		return maildir_fail(errstr_out, "cannot create maildirfolder");
	return 0;
}

/* Remove the regular files of dir (not recursing); ENOENT is fine. */
static int
maildir_empty_dir(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 saved;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1 &&
		    errno != ENOENT && errno != EISDIR)
			goto fail;
	}
	return closedir(d);
fail:
	saved = errno;
	(void)closedir(d);
	errno = saved;
	return -1;
}

int
maildir_folder_delete(const char *path, const char *name,
    const char **errstr_out)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char	folder[PATH_MAX], p[PATH_MAX];
	size_t	i;

	if (maildir_folder_path(folder, sizeof(folder), path, name) == -1)
		return maildir_fail(errstr_out, "bad folder name");
	if (access(folder, F_OK) == -1)
		return maildir_fail(errstr_out, "no such folder");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (maildir_path(p, sizeof(p), folder, subs[i], NULL) == -1 ||
		    maildir_empty_dir(p) == -1 ||
		    (rmdir(p) == -1 && errno != ENOENT))
			return maildir_fail(errstr_out,
			    "cannot empty the folder");
	}
	/* The index, the lock, maildirfolder: regular files only. */
	if (maildir_empty_dir(folder) == -1 || rmdir(folder) == -1 ||
	    maildir_fsync_dir(path) == -1)
		return maildir_fail(errstr_out, "cannot remove the folder");
	return 0;
}

int
maildir_folder_rename(const char *path, const char *from, const char *to,
    const char **errstr_out)
{
	char	a[PATH_MAX], b[PATH_MAX];

	if (maildir_folder_path(a, sizeof(a), path, from) == -1 ||
	    maildir_folder_path(b, sizeof(b), path, to) == -1)
		return maildir_fail(errstr_out, "bad folder name");
	if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) == -1)
		return maildir_fail(errstr_out, errno == EEXIST ?
		    "folder exists" : errno == ENOENT ? "no such folder" :
		    "cannot rename the folder");
	if (maildir_fsync_dir(path) == -1)
		return maildir_fail(errstr_out, "cannot sync the Maildir");
	return 0;
}

int
maildir_store(const char *path, const char *data, size_t datalen, int fd,
    uint64_t len, const char *flags, int64_t mtime, char *name_out,
    size_t namesz, const char **errstr_out)
{
	return maildir_store_tagged(path, data, datalen, fd, len, flags,
	    mtime, "", name_out, namesz, errstr_out);
}

static bool
maildir_tag_ok(const char *tag)
{
	size_t	i;

	if (tag[0] == '\0')
		return true;
	if (tag[0] != ',')
		return false;
	for (i = 0; tag[i] != '\0'; i++)
		if (i >= MAILDIR_TAG_MAX || tag[i] < 0x21 || tag[i] > 0x7e ||
		    tag[i] == '/' || tag[i] == ':')
			return false;
	return true;
}

int
maildir_store_tagged(const char *path, const char *data, size_t datalen,
    int fd, uint64_t len, const char *flags, int64_t mtime, const char *tag,
    char *name_out, size_t namesz, const char **errstr_out)
{
	struct maildir_pending	*p;
	struct timespec		 ts[2];
	char			 sorted[MAILDIR_FLAGS_MAX + 1];
	char			 dest[PATH_MAX], fname[MAILDIR_NAME_MAX + 1];
	size_t			 flen;
	int			 n, saved;

	if ((flen = strnlen(flags, 256)) == 256 ||
	    maildir_flags_sort(flags, flen, true, sorted) == -1) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad flags");
	}
	if (!maildir_tag_ok(tag)) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad name tag");
	}
	p = xmalloc(sizeof(*p));
	if (maildir_prepare(path, data, datalen, fd, len, p,
	    errstr_out) == -1)
		goto fail;
	/* The internal date (IMAP APPEND, RFC 9051 §6.3.12) is the mtime. */
	ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	n = snprintf(fname, sizeof(fname), "%s%s:2,%s", p->name, tag, sorted);
	if (n < 0 || (size_t)n >= sizeof(fname) || (size_t)n >= namesz ||
	    maildir_path(dest, sizeof(dest), path, "cur", fname) == -1) {
		maildir_abort(p);
		errno = ENAMETOOLONG;
		(void)maildir_fail(errstr_out, "name too long");
		goto fail;
	}
	if (utimensat(AT_FDCWD, p->tmppath, ts, AT_SYMLINK_NOFOLLOW) == -1 ||
	    maildir_move_noreplace(p->tmppath, dest) == -1) {
		maildir_abort(p);
		(void)maildir_fail(errstr_out, "cannot move into cur/");
		goto fail;
	}
	if (maildir_fsync_parent(dest) == -1) {
		saved = errno;
		(void)unlink(dest);
		errno = saved;
		(void)maildir_fail(errstr_out, "fsync of cur/ failed");
		goto fail;
	}
	(void)str_copy(name_out, namesz, fname);
	free(p);
	return 0;
fail:
	saved = errno;
	free(p);
	errno = saved;
	return -1;
}

/*
 * maildir_move() and maildir_move_flags(): flags NULL keeps the name (and
 * new/ stays new/), else the message lands in cur/ with ":2,flags".
 */
static int
maildir_move_to(const char *from_path, const struct maildir_entry *e,
    const char *to_path, const char *flags, char *name_out, size_t namesz,
    const char **errstr_out)
{
	char	from[PATH_MAX], to[PATH_MAX], found[MAILDIR_NAME_MAX + 1];
	char	sorted[MAILDIR_FLAGS_MAX + 1];
	char	renamed[MAILDIR_NAME_MAX + 1];
	const char *name = e->name;
	size_t	flen;
	int	n;

	if (!maildir_name_ok(e->name)) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad message name");
	}
	if (flags != NULL && ((flen = strnlen(flags, 256)) == 256 ||
	    maildir_flags_sort(flags, flen, true, sorted) == -1)) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad flags");
	}
	if (maildir_path(from, sizeof(from), from_path, e->in_new ? "new" :
	    "cur", e->name) == -1)
		return maildir_fail(errstr_out, "path too long");
	if (access(from, F_OK) == -1) {
		if (maildir_find_cur(from_path, e->name,
		    maildir_baselen(e->name), found) == -1)
			return maildir_fail(errstr_out, "message is gone");
		name = found;
		if (maildir_path(from, sizeof(from), from_path, "cur",
		    found) == -1)
			return maildir_fail(errstr_out, "path too long");
	}
	if (flags != NULL) {
		n = snprintf(renamed, sizeof(renamed), "%.*s:2,%s",
		    (int)maildir_baselen(name), name, sorted);
		if (n < 0 || (size_t)n >= sizeof(renamed))
			return maildir_fail(errstr_out, "name too long");
		if (str_copy(name_out, namesz, renamed) == -1 ||
		    maildir_path(to, sizeof(to), to_path, "cur",
		    renamed) == -1)
			return maildir_fail(errstr_out, "path too long");
	} else if (str_copy(name_out, namesz, name) == -1 ||
	    maildir_path(to, sizeof(to), to_path, e->in_new &&
	    name == e->name ? "new" : "cur", name) == -1)
		/* The name keeps its flags; new/ stays new/ (still unseen). */
		return maildir_fail(errstr_out, "path too long");
	if (maildir_move_noreplace(from, to) == -1)
		return maildir_fail(errstr_out, "cannot move the message");
	if (maildir_fsync_parent(to) == -1 || maildir_fsync_parent(from) == -1)
		return maildir_fail(errstr_out, "fsync failed");
	return 0;
}

int
maildir_move(const char *from_path, const struct maildir_entry *e,
    const char *to_path, char *name_out, size_t namesz,
    const char **errstr_out)
{
	return maildir_move_to(from_path, e, to_path, NULL, name_out, namesz,
	    errstr_out);
}

int
maildir_move_flags(const char *from_path, const struct maildir_entry *e,
    const char *to_path, const char *flags, char *name_out, size_t namesz,
    const char **errstr_out)
{
	return maildir_move_to(from_path, e, to_path, flags, name_out, namesz,
	    errstr_out);
}

/* --- folder metadata ---------------------------------------------------- */

static bool
maildir_meta_use_ok(const char *use)
{
	size_t	i;

	for (i = 0; use[i] != '\0'; i++)
		if (i >= MAILDIR_META_USE_MAX || use[i] < 0x20 ||
		    use[i] > 0x7e)
			return false;
	return true;
}

/* Parse the file's text (untrusted: any bytes); fields not valid stay
 * empty. */
static void
maildir_meta_parse(const char *p, size_t len, struct maildir_meta *out)
{
	const char	*lf, *v;
	size_t		 n, vl, i;
	bool		 ok;

	memset(out, 0, sizeof(*out));
	while (len > 0) {
		lf = memchr(p, '\n', len);
		n = lf != NULL ? (size_t)(lf - p) : len;
		if (n > 3 && memcmp(p, "id ", 3) == 0) {
			v = p + 3;
			vl = n - 3;
			ok = vl == MAILDIR_META_ID_LEN;
			for (i = 0; ok && i < vl; i++)
				ok = (v[i] >= '0' && v[i] <= '9') ||
				    (v[i] >= 'a' && v[i] <= 'f');
			if (ok) {
				memcpy(out->id, v, vl);
				out->id[vl] = '\0';
			}
		} else if (n > 4 && memcmp(p, "use ", 4) == 0 &&
		    n - 4 <= MAILDIR_META_USE_MAX) {
			memcpy(out->use, p + 4, n - 4);
			out->use[n - 4] = '\0';
			if (!maildir_meta_use_ok(out->use))
				out->use[0] = '\0';
		}
		if (lf == NULL)
			break;
		len -= n + 1;
		p = lf + 1;
	}
}

/* -1 with errno; ENOENT when there is no file. */
static int
maildir_meta_read(const char *file, struct maildir_meta *out)
{
	char	text[MAILDIR_META_MAX];
	ssize_t	n;
	int	fd, saved;

	memset(out, 0, sizeof(*out));
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	n = read_full(fd, text, sizeof(text));
	saved = errno;
	(void)close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	maildir_meta_parse(text, (size_t)n, out);
	return 0;
}

/*
 * Write m into a new temporary file beside file and put it in place:
 * replacing what is there, or (replace false) failing with EEXIST.
 */
static int
maildir_meta_write(const char *file, const struct maildir_meta *m,
    bool replace)
{
	char	tmp[PATH_MAX], text[MAILDIR_META_MAX];
	int	fd, n, saved;

	n = snprintf(text, sizeof(text), "cachet-folder 1\nid %s\n%s%s%s",
	    m->id, m->use[0] != '\0' ? "use " : "", m->use,
	    m->use[0] != '\0' ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    snprintf(tmp, sizeof(tmp), "%s.%08x.tmp", file,
	    (unsigned)arc4random()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	if (write_full(fd, text, (size_t)n) == -1 || fsync(fd) == -1) {
		saved = errno;
		(void)close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		saved = errno;
		goto fail;
	}
	if (replace ? rename(tmp, file) == -1 : link(tmp, file) == -1) {
		saved = errno;
		goto fail;
	}
	if (!replace)
		(void)unlink(tmp);
	return maildir_fsync_parent(file);
fail:
	(void)unlink(tmp);
	errno = saved;
	return -1;
}

static void
maildir_meta_new_id(struct maildir_meta *m)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  r[MAILDIR_META_ID_LEN / 2];
	size_t		  i;

	arc4random_buf(r, sizeof(r));
	for (i = 0; i < sizeof(r); i++) {
		m->id[2 * i] = hex[r[i] >> 4];
		m->id[2 * i + 1] = hex[r[i] & 0x0f];
	}
	m->id[MAILDIR_META_ID_LEN] = '\0';
}

int
maildir_meta_get(const char *path, struct maildir_meta *out,
    const char **errstr_out)
{
	char			file[PATH_MAX];
	struct maildir_meta	m;
	int			tries;

	if (path_join(file, sizeof(file), path, MAILDIR_META_FILE) == -1)
		return maildir_fail(errstr_out, "path too long");
	for (tries = 0; tries < 3; tries++) {
		if (maildir_meta_read(file, &m) == -1 && errno != ENOENT)
			return maildir_fail(errstr_out, "cannot read "
			    MAILDIR_META_FILE);
		if (m.id[0] != '\0') {
			*out = m;
			return 0;
		}
		maildir_meta_new_id(&m);
		/* A file without a valid id is replaced; none is created
		 * without replacing one another process just made. */
		if (access(file, F_OK) == 0) {
			if (maildir_meta_write(file, &m, true) == -1)
				return maildir_fail(errstr_out, "cannot write "
				    MAILDIR_META_FILE);
			*out = m;
			return 0;
		}
		if (maildir_meta_write(file, &m, false) == 0) {
			*out = m;
			return 0;
		}
		if (errno != EEXIST)
			return maildir_fail(errstr_out, "cannot write "
			    MAILDIR_META_FILE);
	}
	return maildir_fail(errstr_out, MAILDIR_META_FILE " keeps changing");
}

int
maildir_meta_peek(const char *path, struct maildir_meta *out,
    const char **errstr_out)
{
	char	file[PATH_MAX];

	if (path_join(file, sizeof(file), path, MAILDIR_META_FILE) == -1)
		return maildir_fail(errstr_out, "path too long");
	if (maildir_meta_read(file, out) == -1 && errno != ENOENT)
		return maildir_fail(errstr_out, "cannot read "
		    MAILDIR_META_FILE);
	return 0;
}

int
maildir_meta_set_use(const char *path, const char *use,
    const char **errstr_out)
{
	char			file[PATH_MAX];
	struct maildir_meta	m;

	if (!maildir_meta_use_ok(use)) {
		errno = EINVAL;
		return maildir_fail(errstr_out, "bad special use");
	}
	if (maildir_meta_get(path, &m, errstr_out) == -1)
		return -1;
	(void)str_copy(m.use, sizeof(m.use), use);
	if (path_join(file, sizeof(file), path, MAILDIR_META_FILE) == -1 ||
	    maildir_meta_write(file, &m, true) == -1)
		return maildir_fail(errstr_out, "cannot write "
		    MAILDIR_META_FILE);
	return 0;
}
