/*
 * queue_fs: the spool format and its durable operations (docs/spool.md).
 * Run only by the queue role, which owns the spool.  It trusts nothing in
 * the files it reads back: the smtp role wrote the message bytes through
 * a copy of our fd and could still write after the commit, and disks and
 * crashes damage files, so the trailer, its CRC and every envelope field
 * are checked and a bad file is moved to corrupt/ instead of parsed on
 * faith.  What we acknowledge (250 after DATA, RFC 5321 §4.1.1.4, RFC
 * 1123 §5.3.3) is always fsync'ed first: file, rename, directory.
 */
#include <sys/random.h>
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
#include "log.h"
#include "queue_fs.h"
#include "util.h"

#define QUEUE_FS_MAGIC		"CACHETQ1"
#define QUEUE_FS_MAGIC_LEN	8
#define QUEUE_FS_HEADER		"cachet-envelope 1"
#define QUEUE_FS_CREATE_TRIES	16	/* ids tried before giving up */
#define QUEUE_FS_CORRUPT_TRIES	100	/* corrupt/<name>.N suffixes */
#define QUEUE_FS_TMP_SUFFIX	".tmp"
/*
 * The smallest text one recipient can take ("rcpt <x>", "notify never",
 * "state failed", "attempts 0", "next 0", each with its LF is 53 bytes);
 * a count that the remaining input cannot hold is refused before the
 * array is allocated.
 */
#define QUEUE_FS_RCPT_MIN_TEXT	40

enum {
	QUEUE_FS_DIR_INCOMING,
	QUEUE_FS_DIR_QUEUE,
	QUEUE_FS_DIR_STATE,
	QUEUE_FS_DIR_CORRUPT,
	QUEUE_FS_DIR_COUNT
};

static const char *const queue_fs_dirnames[QUEUE_FS_DIR_COUNT] = {
	"incoming", "queue", "state", "corrupt"
};

struct queue_fs {
	int			rootfd;
	int			dirfd[QUEUE_FS_DIR_COUNT];
	bool			queue_dirty;	/* renames not yet fsync'ed */
	bool			state_dirty;
	struct queue_fs_stats	stats;
};

static const char	*queue_fs_body_names[] = {
	"7bit", "8bitmime", "binarymime"
};
static const char	*queue_fs_ret_names[] = { "unset", "full", "hdrs" };
static const char	*queue_fs_state_names[] = {
	"pending", "delivered", "failed", "bounced", "expanded"
};

/* --- CRC-32C ----------------------------------------------------------- */

static uint32_t	queue_fs_crc_table[256];
static bool	queue_fs_crc_ready;

static void
queue_fs_crc_init(void)
{
	uint32_t	c;
	int		n, k;

	/* Castagnoli polynomial 0x1EDC6F41, bit-reversed. */
	for (n = 0; n < 256; n++) {
		c = (uint32_t)n;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78U : c >> 1;
		queue_fs_crc_table[n] = c;
	}
	queue_fs_crc_ready = true;
}

uint32_t
queue_fs_crc32c(uint32_t crc, const void *p, size_t len)
{
	const unsigned char	*b = p;

	if (!queue_fs_crc_ready)
		queue_fs_crc_init();
	crc = ~crc;
	while (len-- > 0)
		crc = queue_fs_crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* --- small I/O helpers ------------------------------------------------- */

static int
queue_fs_pwrite_full(int fd, const void *p, size_t len, uint64_t off)
{
	const char	*c = p;
	ssize_t		 n;

	while (len > 0) {
		if (off > INT64_MAX) {
			errno = EFBIG;
			return -1;
		}
		n = pwrite(fd, c, len, (off_t)off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		c += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Read exactly len bytes at off; a short file is EBADMSG. */
static int
queue_fs_pread_full(int fd, void *p, size_t len, uint64_t off)
{
	char	*c = p;
	ssize_t	 n;

	while (len > 0) {
		if (off > INT64_MAX) {
			errno = EBADMSG;
			return -1;
		}
		n = pread(fd, c, len, (off_t)off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EBADMSG;
			return -1;
		}
		c += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * rename that never replaces an existing name: a collision must not
 * silently overwrite an acknowledged message.  Falls back to a plain
 * rename only where the filesystem lacks RENAME_NOREPLACE.
 */
static int
queue_fs_rename_new(int fromfd, const char *from, int tofd, const char *to)
{
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	return renameat(fromfd, from, tofd, to);
}

static void
queue_fs_put_le64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
queue_fs_get_le64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * The trailer: magic, msglen, envlen, CRC-32C of the envelope then of the
 * two length fields, magic again; integers little-endian.
 */
static void
queue_fs_trailer_make(unsigned char t[QUEUE_FS_TRAILER_LEN], uint64_t msglen,
    const char *env, size_t envlen)
{
	uint32_t	crc;
	int		i;

	memcpy(t, QUEUE_FS_MAGIC, QUEUE_FS_MAGIC_LEN);
	queue_fs_put_le64(t + 8, msglen);
	queue_fs_put_le64(t + 16, envlen);
	crc = queue_fs_crc32c(0, env, envlen);
	crc = queue_fs_crc32c(crc, t + 8, 16);
	for (i = 0; i < 4; i++)
		t[24 + i] = (unsigned char)(crc >> (8 * i));
	memcpy(t + 28, QUEUE_FS_MAGIC, QUEUE_FS_MAGIC_LEN);
}

/* --- the spool --------------------------------------------------------- */

struct queue_fs *
queue_fs_open(const char *path)
{
	struct queue_fs	*q;
	bool		 created = false;
	int		 i, saved;

	if (mkdir_p(path, 0700) == -1)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->rootfd = -1;
	for (i = 0; i < QUEUE_FS_DIR_COUNT; i++)
		q->dirfd[i] = -1;
	q->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->rootfd == -1)
		goto fail;
	for (i = 0; i < QUEUE_FS_DIR_COUNT; i++) {
		if (mkdirat(q->rootfd, queue_fs_dirnames[i], 0700) == 0)
			created = true;
		else if (errno != EEXIST)
			goto fail;
		q->dirfd[i] = openat(q->rootfd, queue_fs_dirnames[i],
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (q->dirfd[i] == -1)
			goto fail;
	}
	/* New directories are durable before anything goes into them. */
	if (created && fsync(q->rootfd) == -1)
		goto fail;
	return q;
fail:
	saved = errno;
	queue_fs_close(q);
	errno = saved;
	return NULL;
}

void
queue_fs_close(struct queue_fs *q)
{
	int	i;

	if (q == NULL)
		return;
	for (i = 0; i < QUEUE_FS_DIR_COUNT; i++)
		if (q->dirfd[i] != -1)
			close(q->dirfd[i]);
	if (q->rootfd != -1)
		close(q->rootfd);
	free(q);
}

void
queue_fs_stats(const struct queue_fs *q, struct queue_fs_stats *out)
{
	*out = q->stats;
}

int
queue_fs_create(struct queue_fs *q, uint64_t now, char id_out[QID_SIZE],
    int *fd_out)
{
	struct stat	st;
	int		fd, i;

	for (i = 0; i < QUEUE_FS_CREATE_TRIES; i++) {
		qid_new(now, id_out);
		/*
		 * An id already in queue/ (a clock stepped back past a
		 * restart) is skipped here; the commit's no-replace rename
		 * is the last guard.
		 */
		if (fstatat(q->dirfd[QUEUE_FS_DIR_QUEUE], id_out, &st,
		    AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (errno != ENOENT)
			return -1;
		fd = openat(q->dirfd[QUEUE_FS_DIR_INCOMING], id_out,
		    O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd != -1) {
			*fd_out = fd;
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

int
queue_fs_abort(struct queue_fs *q, const char *id)
{
	if (!qid_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (unlinkat(q->dirfd[QUEUE_FS_DIR_INCOMING], id, 0) == -1 &&
	    errno != ENOENT)
		return -1;
	return 0;
}

/*
 * queue_fs_commit_prepare(), telling the caller in *owned whether fd was
 * found to be incoming/<env->id>: only then may a failure unlink that
 * name, which otherwise could be another message's.
 */
static int
queue_fs_prepare(struct queue_fs *q, int fd, uint64_t msglen,
    const struct queue_fs_envelope *env, bool *owned)
{
	struct stat	 st, nst;
	struct buf	 b;
	unsigned char	 trailer[QUEUE_FS_TRAILER_LEN];
	uint64_t	 total;
	size_t		 envlen;
	int		 saved;

	*owned = false;
	buf_init(&b, (size_t)QUEUE_FS_ENV_MAX + QUEUE_FS_TRAILER_LEN);
	if (!qid_valid(env->id)) {
		errno = EINVAL;
		return -1;
	}
	if (fstat(fd, &st) == -1)
		return -1;
	if (fstatat(q->dirfd[QUEUE_FS_DIR_INCOMING], env->id, &nst,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			errno = ESTALE;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_dev != nst.st_dev ||
	    st.st_ino != nst.st_ino) {
		errno = ESTALE;
		return -1;
	}
	*owned = true;
	/*
	 * The smtp role wrote through a copy of this fd; the length is what
	 * the file says, and the role's claim only has to agree with it.
	 */
	if (st.st_size < 0 || (uint64_t)st.st_size != msglen) {
		errno = EBADMSG;
		return -1;
	}
	if (queue_fs_envelope_encode(env, &b) == -1)
		goto fail;
	envlen = b.len;
	queue_fs_trailer_make(trailer, msglen, b.data, envlen);
	if (buf_append(&b, trailer, sizeof(trailer)) == -1)
		goto fail;
	if (__builtin_add_overflow(msglen, (uint64_t)b.len, &total)) {
		errno = EFBIG;
		goto fail;
	}
	/* pwrite: the file offset is shared with the smtp role's copy. */
	if (queue_fs_pwrite_full(fd, b.data, b.len, msglen) == -1)
		goto fail;
	/* Anything written behind our back would hide the trailer. */
	if (fstat(fd, &st) == -1)
		goto fail;
	if ((uint64_t)st.st_size != total) {
		errno = EBADMSG;
		goto fail;
	}
	if (fdatasync(fd) == -1)
		goto fail;
	q->stats.file_syncs++;
	buf_free(&b);
	return 0;
fail:
	saved = errno;
	buf_free(&b);
	errno = saved;
	return -1;
}

int
queue_fs_commit_prepare(struct queue_fs *q, int fd, uint64_t msglen,
    const struct queue_fs_envelope *env)
{
	bool	owned;

	return queue_fs_prepare(q, fd, msglen, env, &owned);
}

int
queue_fs_commit_rename(struct queue_fs *q, const char *id)
{
	if (!qid_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (queue_fs_rename_new(q->dirfd[QUEUE_FS_DIR_INCOMING], id,
	    q->dirfd[QUEUE_FS_DIR_QUEUE], id) == -1)
		return -1;
	q->queue_dirty = true;
	q->stats.commits++;
	return 0;
}

int
queue_fs_sync_dirs(struct queue_fs *q)
{
	if (q->queue_dirty) {
		if (fsync(q->dirfd[QUEUE_FS_DIR_QUEUE]) == -1)
			return -1;
		q->queue_dirty = false;
		q->stats.dir_syncs++;
	}
	if (q->state_dirty) {
		if (fsync(q->dirfd[QUEUE_FS_DIR_STATE]) == -1)
			return -1;
		q->state_dirty = false;
		q->stats.dir_syncs++;
	}
	return 0;
}

int
queue_fs_commit(struct queue_fs *q, int fd, uint64_t msglen,
    const struct queue_fs_envelope *env)
{
	bool	owned;
	int	saved;

	if (queue_fs_prepare(q, fd, msglen, env, &owned) == -1) {
		if (owned)
			goto fail_incoming;
		return -1;
	}
	if (queue_fs_commit_rename(q, env->id) == -1)
		goto fail_incoming;
	if (queue_fs_sync_dirs(q) == -1)
		goto fail_queue;
	return 0;
fail_queue:
	saved = errno;
	(void)unlinkat(q->dirfd[QUEUE_FS_DIR_QUEUE], env->id, 0);
	errno = saved;
	return -1;
fail_incoming:
	saved = errno;
	(void)unlinkat(q->dirfd[QUEUE_FS_DIR_INCOMING], env->id, 0);
	errno = saved;
	return -1;
}

int
queue_fs_state_stage(struct queue_fs *q, const struct queue_fs_envelope *env)
{
	struct buf	 b;
	char		 tmp[QID_SIZE + sizeof(QUEUE_FS_TMP_SUFFIX)];
	int		 fd = -1, sfd = q->dirfd[QUEUE_FS_DIR_STATE], saved;

	buf_init(&b, QUEUE_FS_ENV_MAX);
	if (!qid_valid(env->id)) {
		errno = EINVAL;
		return -1;
	}
	if (queue_fs_envelope_encode(env, &b) == -1)
		return -1;
	(void)snprintf(tmp, sizeof(tmp), "%s%s", env->id, QUEUE_FS_TMP_SUFFIX);
	/* A .tmp left by a crash is ours to overwrite. */
	fd = openat(sfd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1)
		goto fail;
	if (write_full(fd, b.data, b.len) == -1 || fdatasync(fd) == -1)
		goto fail_unlink;
	q->stats.file_syncs++;
	if (close(fd) == -1) {
		fd = -1;
		goto fail_unlink;
	}
	fd = -1;
	if (renameat(sfd, tmp, sfd, env->id) == -1)
		goto fail_unlink;
	q->state_dirty = true;
	buf_free(&b);
	return 0;
fail_unlink:
	saved = errno;
	(void)unlinkat(sfd, tmp, 0);
	errno = saved;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	buf_free(&b);
	errno = saved;
	return -1;
}

int
queue_fs_state_write(struct queue_fs *q, const struct queue_fs_envelope *env)
{
	if (queue_fs_state_stage(q, env) == -1)
		return -1;
	return queue_fs_sync_dirs(q);
}

int
queue_fs_remove(struct queue_fs *q, const char *id)
{
	struct stat	st;

	if (!qid_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (unlinkat(q->dirfd[QUEUE_FS_DIR_QUEUE], id, 0) == -1 &&
	    errno != ENOENT)
		return -1;
	if (fstatat(q->dirfd[QUEUE_FS_DIR_STATE], id, &st,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	/*
	 * The message's unlink must be durable before its state file goes:
	 * otherwise a crash could bring the message back with its first
	 * envelope and deliver again to recipients already done.
	 */
	if (fsync(q->dirfd[QUEUE_FS_DIR_QUEUE]) == -1)
		return -1;
	q->queue_dirty = false;
	q->stats.dir_syncs++;
	if (unlinkat(q->dirfd[QUEUE_FS_DIR_STATE], id, 0) == -1 &&
	    errno != ENOENT)
		return -1;
	return 0;
}

/*
 * Open queue/<id> and check its trailer against the file size.  Returns
 * the fd with the lengths and CRC, or -1 with errno: EBADMSG (and
 * *errstr_out) when the file is damaged, another errno for I/O.
 */
static int
queue_fs_trailer_open(struct queue_fs *q, const char *id, int *fd_out,
    uint64_t *msglen_out, uint64_t *envlen_out, uint32_t *crc_out,
    const char **errstr_out)
{
	unsigned char	 t[QUEUE_FS_TRAILER_LEN];
	struct stat	 st;
	uint64_t	 msglen, envlen, sum;
	int		 fd, saved;

	*errstr_out = "cannot read";
	fd = openat(q->dirfd[QUEUE_FS_DIR_QUEUE], id,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP) {
			*errstr_out = "not a regular file";
			errno = EBADMSG;
		}
		return -1;
	}
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		*errstr_out = "not a regular file";
		goto bad;
	}
	if (st.st_size < QUEUE_FS_TRAILER_LEN) {
		*errstr_out = "no trailer (truncated)";
		goto bad;
	}
	if (queue_fs_pread_full(fd, t, sizeof(t),
	    (uint64_t)st.st_size - QUEUE_FS_TRAILER_LEN) == -1) {
		if (errno == EBADMSG)
			*errstr_out = "file shrank while read";
		goto fail;
	}
	if (memcmp(t, QUEUE_FS_MAGIC, QUEUE_FS_MAGIC_LEN) != 0 ||
	    memcmp(t + 28, QUEUE_FS_MAGIC, QUEUE_FS_MAGIC_LEN) != 0) {
		*errstr_out = "bad trailer magic (truncated or not committed)";
		goto bad;
	}
	msglen = queue_fs_get_le64(t + 8);
	envlen = queue_fs_get_le64(t + 16);
	if (envlen == 0 || envlen > QUEUE_FS_ENV_MAX) {
		*errstr_out = "envelope length out of range";
		goto bad;
	}
	if (__builtin_add_overflow(msglen, envlen, &sum) ||
	    __builtin_add_overflow(sum, QUEUE_FS_TRAILER_LEN, &sum) ||
	    sum != (uint64_t)st.st_size) {
		*errstr_out = "trailer lengths disagree with the file size";
		goto bad;
	}
	*fd_out = fd;
	*msglen_out = msglen;
	*envlen_out = envlen;
	*crc_out = (uint32_t)t[24] | (uint32_t)t[25] << 8 |
	    (uint32_t)t[26] << 16 | (uint32_t)t[27] << 24;
	return 0;
bad:
	errno = EBADMSG;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
queue_fs_open_message(struct queue_fs *q, const char *id, int *fd_out,
    uint64_t *msglen_out)
{
	const char	*errstr;
	uint64_t	 envlen;
	uint32_t	 crc;
	int		 fd;

	if (!qid_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (queue_fs_trailer_open(q, id, &fd, msglen_out, &envlen, &crc,
	    &errstr) == -1)
		return -1;
	/* O_NONBLOCK was only for opening; regular files ignore it. */
	*fd_out = fd;
	return 0;
}

/*
 * Read and validate the committed file of id: trailer, CRC, envelope,
 * envelope id equal to the name.  -1 with EBADMSG and *errstr_out when
 * the file is damaged, another errno for I/O.
 */
static int
queue_fs_read_message(struct queue_fs *q, const char *id,
    struct queue_fs_envelope *env, uint64_t *msglen_out,
    const char **errstr_out)
{
	unsigned char	 lens[16];
	char		*text = NULL;
	uint64_t	 msglen, envlen;
	uint32_t	 crc, want;
	int		 fd, saved;

	if (queue_fs_trailer_open(q, id, &fd, &msglen, &envlen, &want,
	    errstr_out) == -1)
		return -1;
	text = xmalloc((size_t)envlen);
	if (queue_fs_pread_full(fd, text, (size_t)envlen, msglen) == -1) {
		if (errno == EBADMSG)
			*errstr_out = "file shrank while read";
		goto fail;
	}
	queue_fs_put_le64(lens, msglen);
	queue_fs_put_le64(lens + 8, envlen);
	crc = queue_fs_crc32c(0, text, (size_t)envlen);
	crc = queue_fs_crc32c(crc, lens, sizeof(lens));
	if (crc != want) {
		*errstr_out = "trailer CRC mismatch";
		errno = EBADMSG;
		goto fail;
	}
	if (queue_fs_envelope_decode(text, (size_t)envlen, env,
	    errstr_out) == -1) {
		errno = EBADMSG;
		goto fail;
	}
	if (strcmp(env->id, id) != 0) {
		queue_fs_envelope_free(env);
		*errstr_out = "envelope id differs from the file name";
		errno = EBADMSG;
		goto fail;
	}
	free(text);
	close(fd);
	*msglen_out = msglen;
	return 0;
fail:
	saved = errno;
	free(text);
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Read state/<id>.  -1 with ENOENT when there is none, EBADMSG (and
 * *errstr_out) when it does not validate, another errno for I/O.
 */
static int
queue_fs_read_state(struct queue_fs *q, const char *id,
    struct queue_fs_envelope *env, const char **errstr_out)
{
	struct stat	 st;
	char		*text = NULL;
	int		 fd, saved;

	*errstr_out = "cannot read";
	fd = openat(q->dirfd[QUEUE_FS_DIR_STATE], id,
	    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP) {
			*errstr_out = "not a regular file";
			errno = EBADMSG;
		}
		return -1;
	}
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		*errstr_out = "not a regular file";
		errno = EBADMSG;
		goto fail;
	}
	if (st.st_size <= 0 || st.st_size > QUEUE_FS_ENV_MAX) {
		*errstr_out = "state file size out of range";
		errno = EBADMSG;
		goto fail;
	}
	text = xmalloc((size_t)st.st_size);
	if (queue_fs_pread_full(fd, text, (size_t)st.st_size, 0) == -1) {
		if (errno == EBADMSG)
			*errstr_out = "file shrank while read";
		goto fail;
	}
	if (queue_fs_envelope_decode(text, (size_t)st.st_size, env,
	    errstr_out) == -1) {
		errno = EBADMSG;
		goto fail;
	}
	if (strcmp(env->id, id) != 0) {
		queue_fs_envelope_free(env);
		*errstr_out = "envelope id differs from the file name";
		errno = EBADMSG;
		goto fail;
	}
	free(text);
	close(fd);
	return 0;
fail:
	saved = errno;
	free(text);
	close(fd);
	errno = saved;
	return -1;
}

int
queue_fs_load(struct queue_fs *q, const char *id,
    struct queue_fs_envelope *out, uint64_t *msglen_out)
{
	struct queue_fs_envelope	 st;
	const char			*errstr;
	uint64_t			 msglen;
	int				 saved;

	memset(out, 0, sizeof(*out));
	if (!qid_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (queue_fs_read_message(q, id, out, &msglen, &errstr) == -1)
		return -1;
	if (queue_fs_read_state(q, id, &st, &errstr) == 0) {
		queue_fs_envelope_free(out);
		*out = st;
	} else if (errno == EBADMSG) {
		log_warnx("spool: state file ignored id=%s reason=\"%s\"",
		    id, errstr);
	} else if (errno != ENOENT) {
		saved = errno;
		queue_fs_envelope_free(out);
		errno = saved;
		return -1;
	}
	if (msglen_out != NULL)
		*msglen_out = msglen;
	return 0;
}

/* --- recovery ---------------------------------------------------------- */

struct queue_fs_names {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

static void
queue_fs_names_free(struct queue_fs_names *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
queue_fs_names_add(struct queue_fs_names *l, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(name);
}

static int
queue_fs_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory fd but "." and "..", sorted. */
static int
queue_fs_list(int dirfd, struct queue_fs_names *out)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, saved;

	memset(out, 0, sizeof(*out));
	/* A fresh open file description: our dirfd's offset stays put. */
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		queue_fs_names_add(out, de->d_name);
	}
	if (errno != 0) {
		saved = errno;
		closedir(d);
		queue_fs_names_free(out);
		errno = saved;
		return -1;
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), queue_fs_names_cmp);
	return 0;
}

static bool
queue_fs_has_suffix(const char *s, const char *suffix)
{
	size_t	n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/*
 * Move name from directory fromfd to corrupt/<name><suffix>, adding .1,
 * .2, ... rather than replacing evidence already there.  Failure is
 * logged; the file then stays where it is.
 */
static void
queue_fs_move_corrupt(struct queue_fs *q, int fromfd, const char *name,
    const char *suffix)
{
	char	dst[NAME_MAX + 1], pname[80];
	int	i, n;

	for (i = 0; i < QUEUE_FS_CORRUPT_TRIES; i++) {
		if (i == 0)
			n = snprintf(dst, sizeof(dst), "%s%s", name, suffix);
		else
			n = snprintf(dst, sizeof(dst), "%s%s.%d", name, suffix,
			    i);
		if (n < 0 || (size_t)n >= sizeof(dst)) {
			errno = ENAMETOOLONG;
			break;
		}
		if (queue_fs_rename_new(fromfd, name,
		    q->dirfd[QUEUE_FS_DIR_CORRUPT], dst) == 0)
			return;
		if (errno != EEXIST)
			break;
	}
	log_warn("spool: cannot move to corrupt/ file=%s",
	    printable(name, strlen(name), pname, sizeof(pname)));
}

/* Step 1: nothing in incoming/ was ever acknowledged. */
static int
queue_fs_scan_incoming(struct queue_fs *q)
{
	struct queue_fs_names	 l;
	char			 pname[80];
	size_t			 i;
	int			 fd = q->dirfd[QUEUE_FS_DIR_INCOMING];

	if (queue_fs_list(fd, &l) == -1)
		return -1;
	for (i = 0; i < l.n; i++) {
		printable(l.v[i], strlen(l.v[i]), pname, sizeof(pname));
		if (unlinkat(fd, l.v[i], 0) == -1) {
			log_warn("spool: cannot remove incoming/%s", pname);
			continue;
		}
		log_warnx("spool: removed never acknowledged incoming/%s",
		    pname);
	}
	queue_fs_names_free(&l);
	return 0;
}

int
queue_fs_scan(struct queue_fs *q,
    int (*cb)(void *arg, struct queue_fs_envelope *env, uint64_t msglen),
    void *arg)
{
	struct queue_fs_names		 ql, sl;
	struct queue_fs_envelope	 env, st;
	struct stat			 sb;
	const char			*errstr, *id;
	char				 pname[80];
	uint64_t			 msglen;
	size_t				 i;
	int				 qfd = q->dirfd[QUEUE_FS_DIR_QUEUE];
	int				 sfd = q->dirfd[QUEUE_FS_DIR_STATE];
	int				 saved;

	memset(&ql, 0, sizeof(ql));
	memset(&sl, 0, sizeof(sl));
	if (queue_fs_scan_incoming(q) == -1)
		return -1;
	if (queue_fs_list(qfd, &ql) == -1)
		goto fail;

	for (i = 0; i < ql.n; i++) {
		id = ql.v[i];
		if (!qid_valid(id)) {
			log_warnx("spool: unknown file moved to corrupt/ "
			    "file=queue/%s", printable(id, strlen(id), pname,
			    sizeof(pname)));
			queue_fs_move_corrupt(q, qfd, id, "");
			continue;
		}
		if (queue_fs_read_message(q, id, &env, &msglen,
		    &errstr) == -1) {
			if (errno != EBADMSG)
				goto fail;
			log_warnx("spool: damaged message moved to corrupt/ "
			    "id=%s reason=\"%s\"", id, errstr);
			queue_fs_move_corrupt(q, qfd, id, "");
			/* Keep its state with it; the scan below skips it. */
			if (fstatat(sfd, id, &sb, AT_SYMLINK_NOFOLLOW) == 0)
				queue_fs_move_corrupt(q, sfd, id, ".state");
			continue;
		}
		if (queue_fs_read_state(q, id, &st, &errstr) == 0) {
			queue_fs_envelope_free(&env);
			env = st;
		} else if (errno == EBADMSG) {
			/* The first envelope: retries, never a loss. */
			log_warnx("spool: damaged state moved to corrupt/ "
			    "id=%s reason=\"%s\"", id, errstr);
			queue_fs_move_corrupt(q, sfd, id, ".state");
		} else if (errno != ENOENT) {
			saved = errno;
			queue_fs_envelope_free(&env);
			errno = saved;
			goto fail;
		}
		if (cb(arg, &env, msglen) == -1) {
			queue_fs_envelope_free(&env);
			errno = ECANCELED;
			goto fail;
		}
		queue_fs_envelope_free(&env);
	}

	/* Step 3: leftovers in state/. */
	if (queue_fs_list(sfd, &sl) == -1)
		goto fail;
	for (i = 0; i < sl.n; i++) {
		id = sl.v[i];
		printable(id, strlen(id), pname, sizeof(pname));
		if (queue_fs_has_suffix(id, QUEUE_FS_TMP_SUFFIX)) {
			/* An update that never reached its rename. */
			if (unlinkat(sfd, id, 0) == -1)
				log_warn("spool: cannot remove state/%s",
				    pname);
			continue;
		}
		if (!qid_valid(id)) {
			log_warnx("spool: unknown file moved to corrupt/ "
			    "file=state/%s", pname);
			queue_fs_move_corrupt(q, sfd, id, "");
			continue;
		}
		/* An empty list is NULL, which bsearch() may not be given. */
		if (ql.n > 0 && bsearch(&id, ql.v, ql.n, sizeof(*ql.v),
		    queue_fs_names_cmp) != NULL)
			continue;
		/* queue_fs_remove() stopped between its two unlinks. */
		if (unlinkat(sfd, id, 0) == -1)
			log_warn("spool: cannot remove state/%s", pname);
		else
			log_info("spool: removed orphan state id=%s", pname);
	}
	queue_fs_names_free(&ql);
	queue_fs_names_free(&sl);
	return 0;
fail:
	saved = errno;
	queue_fs_names_free(&ql);
	queue_fs_names_free(&sl);
	errno = saved;
	return -1;
}

/* --- envelope text ----------------------------------------------------- */

static bool
queue_fs_str_ok(const char *s, bool optional)
{
	if (s == NULL)
		return optional;
	return strnlen(s, QUEUE_FS_STR_MAX + 1) <= QUEUE_FS_STR_MAX;
}

static bool
queue_fs_notify_ok(unsigned n)
{
	if ((n & ~0xfU) != 0)
		return false;
	/* RFC 3461 §4.1: NEVER stands alone. */
	return (n & QUEUE_FS_NOTIFY_NEVER) == 0 || n == QUEUE_FS_NOTIFY_NEVER;
}

static bool
queue_fs_envelope_ok(const struct queue_fs_envelope *env)
{
	const struct queue_fs_rcpt	*r;
	size_t				 i;

	if (!qid_valid(env->id) || env->created < 0 ||
	    !queue_fs_str_ok(env->sender, false) ||
	    (unsigned)env->body > QUEUE_FS_BODY_BINARYMIME ||
	    (unsigned)env->ret > QUEUE_FS_RET_HDRS ||
	    !queue_fs_str_ok(env->envid, true) ||
	    !queue_fs_str_ok(env->auth, true) ||
	    !queue_fs_str_ok(env->helo, true) ||
	    !queue_fs_str_ok(env->ip, true) ||
	    !queue_fs_str_ok(env->user, true) ||
	    (env->prepend != NULL && strnlen(env->prepend,
	    QUEUE_FS_PREPEND_MAX + 1) > QUEUE_FS_PREPEND_MAX) ||
	    env->nrcpts == 0 || env->nrcpts > QUEUE_FS_RCPTS_MAX ||
	    env->rcpts == NULL)
		return false;
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		if (!queue_fs_str_ok(r->addr, false) || r->addr[0] == '\0' ||
		    !queue_fs_notify_ok(r->notify) ||
		    !queue_fs_str_ok(r->orcpt, true) ||
		    !queue_fs_str_ok(r->sender, true) ||
		    (unsigned)r->state > QUEUE_FS_RCPT_EXPANDED ||
		    r->next_try < 0 || !queue_fs_str_ok(r->error, true) ||
		    !queue_fs_str_ok(r->remote, true) || r->warned < 0)
			return false;
		/* A parent comes first and was expanded: no cycle possible. */
		if (r->has_parent && (r->parent >= i ||
		    env->rcpts[r->parent].state != QUEUE_FS_RCPT_EXPANDED))
			return false;
	}
	return true;
}

/* Bytes that the text form writes as %XX: controls, space, %, 8-bit. */
static bool
queue_fs_must_escape(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%';
}

static int
queue_fs_enc_str(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 run;
	char			 esc[3];

	while (*p != '\0') {
		for (run = 0; p[run] != '\0' && !queue_fs_must_escape(p[run]);
		    run++)
			;
		if (run > 0) {
			if (buf_append(b, p, run) == -1)
				return -1;
			p += run;
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 0xf];
		if (buf_append(b, esc, sizeof(esc)) == -1)
			return -1;
		p++;
	}
	return 0;
}

static int
queue_fs_enc_field(struct buf *b, const char *key, const char *s)
{
	if (s == NULL)
		return 0;
	if (buf_printf(b, "%s ", key) == -1 || queue_fs_enc_str(b, s) == -1 ||
	    buf_append_char(b, '\n') == -1)
		return -1;
	return 0;
}

/*
 * The prepend as "prepend" lines of QUEUE_FS_STR_MAX bytes each, the
 * last one shorter (and not empty): one string field would not hold it.
 */
static int
queue_fs_enc_prepend(struct buf *b, const char *s)
{
	char	chunk[QUEUE_FS_STR_MAX + 1];
	size_t	len, n;

	if (s == NULL)
		return 0;
	len = strlen(s);
	while (len > 0) {
		n = len < QUEUE_FS_STR_MAX ? len : QUEUE_FS_STR_MAX;
		memcpy(chunk, s, n);
		chunk[n] = '\0';
		if (queue_fs_enc_field(b, "prepend", chunk) == -1)
			return -1;
		s += n;
		len -= n;
	}
	return 0;
}

static int
queue_fs_enc_addr(struct buf *b, const char *key, const char *s)
{
	if (buf_printf(b, "%s <", key) == -1 || queue_fs_enc_str(b, s) == -1 ||
	    buf_append(b, ">\n", 2) == -1)
		return -1;
	return 0;
}

/* The canonical text of a notify value, into out (at least 32 bytes). */
static void
queue_fs_notify_text(unsigned n, char *out, size_t outsz)
{
	static const char *const names[] = { "success", "failure", "delay" };
	size_t			 o = 0;
	int			 i;

	if (n == 0) {
		(void)snprintf(out, outsz, "unset");
		return;
	}
	if (n == QUEUE_FS_NOTIFY_NEVER) {
		(void)snprintf(out, outsz, "never");
		return;
	}
	out[0] = '\0';
	for (i = 0; i < 3; i++) {
		if ((n & (1U << i)) == 0)
			continue;
		o += (size_t)snprintf(out + o, outsz - o, "%s%s",
		    o > 0 ? "," : "", names[i]);
	}
}

int
queue_fs_envelope_encode(const struct queue_fs_envelope *env, struct buf *out)
{
	const struct queue_fs_rcpt	*r;
	char				 notify[32];
	size_t				 start = out->len, i;
	uint32_t			 crc;

	if (!queue_fs_envelope_ok(env)) {
		errno = EINVAL;
		return -1;
	}
	if (buf_printf(out, "%s\nid %s\ncreated %" PRId64 "\n",
	    QUEUE_FS_HEADER, env->id, env->created) == -1 ||
	    queue_fs_enc_addr(out, "from", env->sender) == -1 ||
	    buf_printf(out, "size %" PRIu64 "\nbody %s\nsmtputf8 %s\n"
	    "ret %s\n", env->size, queue_fs_body_names[env->body],
	    env->smtputf8 ? "yes" : "no", queue_fs_ret_names[env->ret]) == -1 ||
	    (env->requiretls &&
	    buf_append_str(out, "requiretls yes\n") == -1) ||
	    (env->tls_optional &&
	    buf_append_str(out, "tls-optional yes\n") == -1) ||
	    queue_fs_enc_field(out, "envid", env->envid) == -1 ||
	    queue_fs_enc_field(out, "auth", env->auth) == -1 ||
	    queue_fs_enc_field(out, "helo", env->helo) == -1 ||
	    queue_fs_enc_field(out, "ip", env->ip) == -1 ||
	    queue_fs_enc_field(out, "user", env->user) == -1 ||
	    (env->held && buf_append_str(out, "hold yes\n") == -1) ||
	    queue_fs_enc_prepend(out, env->prepend) == -1 ||
	    (env->junk && buf_append_str(out, "junk yes\n") == -1) ||
	    buf_printf(out, "rcpts %zu\n", env->nrcpts) == -1)
		goto fail;
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		queue_fs_notify_text(r->notify, notify, sizeof(notify));
		if (queue_fs_enc_addr(out, "rcpt", r->addr) == -1 ||
		    buf_printf(out, "notify %s\n", notify) == -1 ||
		    queue_fs_enc_field(out, "orcpt", r->orcpt) == -1 ||
		    (r->has_parent && buf_printf(out, "parent %" PRIu32 "\n",
		    r->parent) == -1) ||
		    (r->sender != NULL &&
		    queue_fs_enc_addr(out, "sender", r->sender) == -1) ||
		    buf_printf(out, "state %s\nattempts %" PRIu32 "\n"
		    "next %" PRId64 "\n", queue_fs_state_names[r->state],
		    r->attempts, r->next_try) == -1 ||
		    queue_fs_enc_field(out, "error", r->error) == -1 ||
		    queue_fs_enc_field(out, "remote", r->remote) == -1 ||
		    (r->warned > 0 && buf_printf(out, "warned %" PRId64 "\n",
		    r->warned) == -1))
			goto fail;
		if (out->len - start > QUEUE_FS_ENV_MAX) {
			errno = EMSGSIZE;
			goto fail;
		}
	}
	crc = queue_fs_crc32c(0, out->data + start, out->len - start);
	if (buf_printf(out, "end %08" PRIx32 "\n", crc) == -1)
		goto fail;
	if (out->len - start > QUEUE_FS_ENV_MAX) {
		errno = EMSGSIZE;
		goto fail;
	}
	return 0;
fail:
	/* Leave out as it was; buf_* only fail with EMSGSIZE here. */
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}

struct queue_fs_dec {
	const char	*start;
	const char	*p;
	const char	*end;
	const char	*err;
};

/*
 * Take the next line, which must read "key SP value LF"; the value may be
 * empty.  With optional set, a line with another key is left in place
 * and false returned without an error.
 */
static bool
queue_fs_dec_line(struct queue_fs_dec *d, const char *key, bool optional,
    const char *err, struct span *val)
{
	const char	*lf;
	size_t		 avail, klen = strlen(key);

	avail = (size_t)(d->end - d->p);
	if (avail > QUEUE_FS_LINE_MAX)
		avail = QUEUE_FS_LINE_MAX;
	if ((lf = memchr(d->p, '\n', avail)) == NULL) {
		if (d->err == NULL)
			d->err = avail == QUEUE_FS_LINE_MAX ?
			    "line too long" : "truncated envelope";
		return false;
	}
	if ((size_t)(lf - d->p) <= klen || memcmp(d->p, key, klen) != 0 ||
	    d->p[klen] != ' ') {
		if (!optional && d->err == NULL)
			d->err = err;
		return false;
	}
	val->ptr = d->p + klen + 1;
	val->len = (size_t)(lf - val->ptr);
	d->p = lf + 1;
	return true;
}

/*
 * An optional "key yes" line: *out true when it is there, false when the
 * next line has another key; false returned only on an error.
 */
static bool
queue_fs_dec_yes(struct queue_fs_dec *d, const char *key, const char *err,
    bool *out)
{
	struct span	v;

	*out = false;
	if (!queue_fs_dec_line(d, key, true, err, &v))
		return d->err == NULL;
	if (!span_eq(v, "yes")) {
		d->err = err;
		return false;
	}
	*out = true;
	return true;
}

/* Decimal, canonical (no sign, no leading zero), at most max. */
static bool
queue_fs_dec_u64(struct span v, uint64_t max, uint64_t *out)
{
	uint64_t	n = 0;
	size_t		i;

	if (v.len == 0 || v.len > 20 || (v.len > 1 && v.ptr[0] == '0'))
		return false;
	for (i = 0; i < v.len; i++) {
		if (v.ptr[i] < '0' || v.ptr[i] > '9')
			return false;
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(v.ptr[i] - '0'), &n))
			return false;
	}
	if (n > max)
		return false;
	*out = n;
	return true;
}

static bool
queue_fs_dec_enum(struct span v, const char *const *names, size_t n,
    unsigned *out)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (span_eq(v, names[i])) {
			*out = (unsigned)i;
			return true;
		}
	return false;
}

/*
 * Undo the escaping.  Only the canonical form passes: a raw byte must be
 * printable and not '%', an escape is %XX with upper-case hex and only
 * for a byte that must be escaped, and NUL cannot be held by a C string.
 */
static char *
queue_fs_dec_str(struct span v)
{
	char	*s, *o;
	size_t	 i;
	int	 hi, lo;
	unsigned char c;

	s = o = xmalloc(v.len + 1);
	for (i = 0; i < v.len; i++) {
		c = (unsigned char)v.ptr[i];
		if (c != '%') {
			if (queue_fs_must_escape(c))
				goto bad;
			*o++ = (char)c;
			continue;
		}
		if (v.len - i < 3)
			goto bad;
		hi = (unsigned char)v.ptr[i + 1];
		lo = (unsigned char)v.ptr[i + 2];
		if (!((hi >= '0' && hi <= '9') || (hi >= 'A' && hi <= 'F')) ||
		    !((lo >= '0' && lo <= '9') || (lo >= 'A' && lo <= 'F')))
			goto bad;
		hi = hi <= '9' ? hi - '0' : hi - 'A' + 10;
		lo = lo <= '9' ? lo - '0' : lo - 'A' + 10;
		c = (unsigned char)(hi << 4 | lo);
		if (c == 0 || !queue_fs_must_escape(c))
			goto bad;
		/* cppcheck-suppress uninitdata ; a write, not a read */
		*o++ = (char)c;
		i += 2;
	}
	*o = '\0';
	if ((size_t)(o - s) > QUEUE_FS_STR_MAX)
		goto bad;
	return s;
bad:
	free(s);
	return NULL;
}

static bool
queue_fs_dec_field(struct queue_fs_dec *d, const char *key, bool optional,
    const char *err, char **out)
{
	struct span	v;

	if (!queue_fs_dec_line(d, key, optional, err, &v))
		return d->err == NULL;
	if ((*out = queue_fs_dec_str(v)) == NULL) {
		d->err = err;
		return false;
	}
	return true;
}

/*
 * The "prepend" lines (absent in spools from before them): every one
 * but the last exactly QUEUE_FS_STR_MAX bytes, the last not empty, the
 * whole at most QUEUE_FS_PREPEND_MAX.
 */
static bool
queue_fs_dec_prepend(struct queue_fs_dec *d, char **out)
{
	struct buf	 b;
	char		*s;
	size_t		 n;
	bool		 last = false;

	buf_init(&b, QUEUE_FS_PREPEND_MAX + 1);
	for (;;) {
		s = NULL;
		if (!queue_fs_dec_field(d, "prepend", true, "bad prepend value",
		    &s))
			goto fail;
		if (s == NULL)
			break;
		n = strlen(s);
		if (last || n == 0 || b.len + n > QUEUE_FS_PREPEND_MAX) {
			free(s);
			d->err = "bad prepend value";
			goto fail;
		}
		last = n < QUEUE_FS_STR_MAX;
		if (buf_append(&b, s, n) == -1)
			fatalx("queue_fs: prepend");
		free(s);
	}
	if (b.len > 0) {
		*out = xmalloc(b.len + 1);
		memcpy(*out, b.data, b.len);
		(*out)[b.len] = '\0';
	}
	buf_free(&b);
	return true;
fail:
	buf_free(&b);
	return false;
}

static bool
queue_fs_dec_addr(struct queue_fs_dec *d, const char *key, bool optional,
    const char *err, char **out)
{
	struct span	v;

	if (!queue_fs_dec_line(d, key, optional, err, &v))
		return optional && d->err == NULL;
	if (v.len < 2 || v.ptr[0] != '<' || v.ptr[v.len - 1] != '>' ||
	    (*out = queue_fs_dec_str(span_make(v.ptr + 1, v.len - 2))) ==
	    NULL) {
		d->err = err;
		return false;
	}
	return true;
}

static bool
queue_fs_dec_num(struct queue_fs_dec *d, const char *key, uint64_t max,
    const char *err, uint64_t *out)
{
	struct span	v;

	if (!queue_fs_dec_line(d, key, false, err, &v))
		return false;
	if (!queue_fs_dec_u64(v, max, out)) {
		d->err = err;
		return false;
	}
	return true;
}

static bool
queue_fs_dec_choice(struct queue_fs_dec *d, const char *key,
    const char *const *names, size_t n, const char *err, unsigned *out)
{
	struct span	v;

	if (!queue_fs_dec_line(d, key, false, err, &v))
		return false;
	if (!queue_fs_dec_enum(v, names, n, out)) {
		d->err = err;
		return false;
	}
	return true;
}

static bool
queue_fs_dec_notify(struct queue_fs_dec *d, unsigned *out)
{
	static const unsigned	 valid[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct span		 v;
	char			 text[32];
	size_t			 i;

	if (!queue_fs_dec_line(d, "notify", false, "bad notify line", &v))
		return false;
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		queue_fs_notify_text(valid[i], text, sizeof(text));
		if (span_eq(v, text)) {
			*out = valid[i];
			return true;
		}
	}
	d->err = "bad notify value";
	return false;
}

/*
 * Recipient i of env.  Its parent, when it has one, must be an earlier
 * recipient in state expanded (read already, so checked here).
 */
static bool
queue_fs_dec_rcpt(struct queue_fs_dec *d, struct queue_fs_envelope *env,
    size_t i)
{
	struct queue_fs_rcpt	*r = &env->rcpts[i];
	struct span		 v;
	uint64_t		 n;
	unsigned		 e;

	if (!queue_fs_dec_addr(d, "rcpt", false, "bad rcpt line", &r->addr))
		return false;
	if (r->addr[0] == '\0') {
		d->err = "empty recipient address";
		return false;
	}
	if (!queue_fs_dec_notify(d, &r->notify) ||
	    !queue_fs_dec_field(d, "orcpt", true, "bad orcpt value",
	    &r->orcpt))
		return false;
	if (queue_fs_dec_line(d, "parent", true, "bad parent line", &v)) {
		if (!queue_fs_dec_u64(v, UINT32_MAX, &n) || n >= i ||
		    env->rcpts[n].state != QUEUE_FS_RCPT_EXPANDED) {
			d->err = "bad parent value";
			return false;
		}
		r->has_parent = true;
		r->parent = (uint32_t)n;
	} else if (d->err != NULL)
		return false;
	if (!queue_fs_dec_addr(d, "sender", true, "bad sender line",
	    &r->sender))
		return false;
	if (!queue_fs_dec_choice(d, "state", queue_fs_state_names,
	    sizeof(queue_fs_state_names) / sizeof(queue_fs_state_names[0]),
	    "bad state line", &e))
		return false;
	r->state = (enum queue_fs_rcpt_state)e;
	if (!queue_fs_dec_num(d, "attempts", UINT32_MAX, "bad attempts line",
	    &n))
		return false;
	r->attempts = (uint32_t)n;
	if (!queue_fs_dec_num(d, "next", INT64_MAX, "bad next line", &n))
		return false;
	r->next_try = (int64_t)n;
	if (!queue_fs_dec_field(d, "error", true, "bad error value",
	    &r->error) ||
	    !queue_fs_dec_field(d, "remote", true, "bad remote value",
	    &r->remote))
		return false;
	if (queue_fs_dec_line(d, "warned", true, "bad warned line", &v)) {
		if (!queue_fs_dec_u64(v, INT64_MAX, &n) || n == 0) {
			d->err = "bad warned value";
			return false;
		}
		r->warned = (int64_t)n;
	} else if (d->err != NULL)
		return false;
	return true;
}

int
queue_fs_envelope_decode(const char *p, size_t len,
    struct queue_fs_envelope *out, const char **errstr_out)
{
	struct queue_fs_dec	 d;
	struct span		 v;
	const char		*endline;
	uint64_t		 n;
	unsigned		 e;
	size_t			 i;
	uint32_t		 crc;
	char			 want[16];

	memset(out, 0, sizeof(*out));
	d.start = d.p = p;
	d.end = p + len;
	d.err = NULL;
	if (len > QUEUE_FS_ENV_MAX) {
		d.err = "envelope too large";
		goto fail;
	}
	if (len < sizeof(QUEUE_FS_HEADER) ||
	    memcmp(p, QUEUE_FS_HEADER "\n", sizeof(QUEUE_FS_HEADER)) != 0) {
		d.err = "not a version 1 envelope";
		goto fail;
	}
	d.p += sizeof(QUEUE_FS_HEADER);

	if (!queue_fs_dec_line(&d, "id", false, "bad id line", &v))
		goto fail;
	if (v.len != QID_LEN) {
		d.err = "bad id";
		goto fail;
	}
	memcpy(out->id, v.ptr, QID_LEN);
	out->id[QID_LEN] = '\0';
	if (!qid_valid(out->id)) {
		d.err = "bad id";
		goto fail;
	}
	if (!queue_fs_dec_num(&d, "created", INT64_MAX, "bad created line",
	    &n))
		goto fail;
	out->created = (int64_t)n;
	if (!queue_fs_dec_addr(&d, "from", false, "bad from line",
	    &out->sender) ||
	    !queue_fs_dec_num(&d, "size", UINT64_MAX, "bad size line",
	    &out->size))
		goto fail;
	if (!queue_fs_dec_choice(&d, "body", queue_fs_body_names,
	    sizeof(queue_fs_body_names) / sizeof(queue_fs_body_names[0]),
	    "bad body line", &e))
		goto fail;
	out->body = (enum queue_fs_body)e;
	if (!queue_fs_dec_line(&d, "smtputf8", false, "bad smtputf8 line",
	    &v))
		goto fail;
	if (span_eq(v, "yes"))
		out->smtputf8 = true;
	else if (!span_eq(v, "no")) {
		d.err = "bad smtputf8 value";
		goto fail;
	}
	if (!queue_fs_dec_choice(&d, "ret", queue_fs_ret_names,
	    sizeof(queue_fs_ret_names) / sizeof(queue_fs_ret_names[0]),
	    "bad ret line", &e))
		goto fail;
	out->ret = (enum queue_fs_ret)e;
	/* RFC 8689: written only when set (spools from before read on) */
	if (!queue_fs_dec_yes(&d, "requiretls", "bad requiretls value",
	    &out->requiretls) ||
	    !queue_fs_dec_yes(&d, "tls-optional", "bad tls-optional value",
	    &out->tls_optional))
		goto fail;
	if (!queue_fs_dec_field(&d, "envid", true, "bad envid value",
	    &out->envid) ||
	    !queue_fs_dec_field(&d, "auth", true, "bad auth value",
	    &out->auth) ||
	    !queue_fs_dec_field(&d, "helo", true, "bad helo value",
	    &out->helo) ||
	    !queue_fs_dec_field(&d, "ip", true, "bad ip value", &out->ip) ||
	    !queue_fs_dec_field(&d, "user", true, "bad user value",
	    &out->user))
		goto fail;
	if (!queue_fs_dec_yes(&d, "hold", "bad hold value", &out->held) ||
	    !queue_fs_dec_prepend(&d, &out->prepend) ||
	    !queue_fs_dec_yes(&d, "junk", "bad junk value", &out->junk))
		goto fail;
	if (!queue_fs_dec_num(&d, "rcpts", QUEUE_FS_RCPTS_MAX,
	    "bad rcpts line", &n))
		goto fail;
	if (n == 0) {
		d.err = "no recipients";
		goto fail;
	}
	if (n > (uint64_t)(d.end - d.p) / QUEUE_FS_RCPT_MIN_TEXT) {
		d.err = "recipient count larger than the envelope";
		goto fail;
	}
	out->rcpts = xcalloc((size_t)n, sizeof(*out->rcpts));
	out->nrcpts = (size_t)n;
	for (i = 0; i < out->nrcpts; i++)
		if (!queue_fs_dec_rcpt(&d, out, i))
			goto fail;

	endline = d.p;
	if (!queue_fs_dec_line(&d, "end", false, "bad end line", &v))
		goto fail;
	crc = queue_fs_crc32c(0, d.start, (size_t)(endline - d.start));
	(void)snprintf(want, sizeof(want), "%08" PRIx32, crc);
	if (!span_eq(v, want)) {
		d.err = "envelope CRC mismatch";
		goto fail;
	}
	if (d.p != d.end) {
		d.err = "bytes after the end line";
		goto fail;
	}
	return 0;
fail:
	queue_fs_envelope_free(out);
	if (errstr_out != NULL)
		*errstr_out = d.err != NULL ? d.err : "bad envelope";
	return -1;
}

void
queue_fs_envelope_free(struct queue_fs_envelope *env)
{
	size_t	i;

	if (env == NULL)
		return;
	free(env->sender);
	free(env->envid);
	free(env->auth);
	free(env->helo);
	free(env->ip);
	free(env->user);
	free(env->prepend);
	if (env->rcpts != NULL) {
		for (i = 0; i < env->nrcpts; i++) {
			free(env->rcpts[i].addr);
			free(env->rcpts[i].orcpt);
			free(env->rcpts[i].sender);
			free(env->rcpts[i].error);
			free(env->rcpts[i].remote);
		}
		free(env->rcpts);
	}
	memset(env, 0, sizeof(*env));
}
