/*
 * imap_index: the per-folder IMAP index (contract in imap_index.h), run
 * by the imap role.  It trusts nothing it reads from the file.
 *
 * The file is a log of records, each
 *
 *	u32 len | u8 type | payload (len - 1 bytes) | u32 CRC-32 of the rest
 *
 * little-endian, the CRC (IEEE 802.3) over len, type and payload.  The
 * first record is the header, then any of:
 *
 *	'H'  "cachetix" u32 version (1) u32 uidvalidity u64 highest
 *	     u64 forgotten				(first record only)
 *	'M'  u32 uid u64 modseq u64 flags		(flags of uid as of modseq)
 *	'X'  u32 lo u32 hi u64 modseq			(lo..hi expunged at modseq)
 *	'C'  u32 uid u64 size u32 n1 envelope u32 n2 body u32 n3 bodystructure
 *
 * A later 'M' for a UID replaces the earlier one; an 'M' for an expunged
 * UID is ignored (UIDs are never reused).  Why a log: a STORE on one
 * message of a 10,000-message folder appends 29 bytes instead of
 * rewriting the file (megabytes with the cache); the log is rewritten
 * from memory ("compacted") once it is more than twice what a fresh
 * copy would hold, so the rewrite costs O(1) per change on average.
 * Why one file and not two: one lock, one replacement, and a record is
 * either whole and checked or absent.
 *
 * Crash safety: records are appended under the lock and announced only
 * after the write returned, so a writer killed mid-record leaves a tail
 * that no one announced; the next writer (under the lock) cuts it off.
 * A record that is whole but wrong (CRC, field, order) makes the file
 * bad, and it is rebuilt.  A rebuild forgets every expunge (QRESYNC then
 * names every UID that is not live, a superset the RFC allows) and
 * counts MODSEQs from the clock (imap_index_next()), above any value a
 * lost file may have announced.  A compaction writes a new file, fsyncs
 * it and renames it over the old one; readers holding the old one still
 * read their cache records through its descriptor.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "imap_index.h"
#include "imap/imap_parse.h"
#include "log.h"
#include "util.h"

#define IDX_MAGIC		"cachetix"
#define IDX_VERSION		1
#define IDX_FRAME		9	/* len, type, CRC */
#define IDX_HDR_LEN		(1 + 8 + 4 + 4 + 8 + 8)
#define IDX_MSG_LEN		(1 + 4 + 8 + 8)
#define IDX_GONE_LEN		(1 + 4 + 4 + 8)
#define IDX_CACHE_FIXED		(1 + 4 + 8 + 4 + 4 + 4)
/* struct imap_index_msg's cache_len (a record is at most ~1 MiB) */
#define IDX_CACHE_LEN_MASK	0x7fffffffu
/* Messages inserted out of UID order in one file (a legitimate file has
 * a few at most: each costs a move of the array). */
#define IDX_UNSORTED_MAX	4096
/* Compact when the file exceeds twice its live size and this. */
#define IDX_COMPACT_SLACK	((uint64_t)256 * 1024)
#define IDX_READ_CHUNK		(256 * 1024)
/* Write buffers larger than this are freed after use. */
#define IDX_KEEP		(16 * 1024)
/* MODSEQs that must stay free above HIGHESTMODSEQ, or it is rebuilt. */
#define IDX_MODSEQ_ROOM		((uint64_t)1 << 40)
#define IDX_FLAG_LETTERS	\
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define IDX_FLAG_ALL		((UINT64_C(1) << 52) - 1)

/* --- CRC-32 (IEEE 802.3, reflected 0xEDB88320) --- */

/*
 * zlib's crc32() is that CRC (initial and final value all ones), and
 * computes it several bytes at a time: a cold first sync writes
 * megabytes of cache records, and a byte-wise table was its largest
 * single cost.
 */
static uint32_t
idx_crc(const unsigned char *p, size_t len)
{
	uLong	c = crc32(0L, Z_NULL, 0);

	while (len > 0) {
		uInt	n = len > UINT_MAX ? UINT_MAX : (uInt)len;

		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)c;
}

/* --- little-endian fields --- */

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Append a framed record: body is type and payload (len bytes). */
static void
put_record(struct buf *b, const unsigned char *body, size_t len)
{
	unsigned char	 frame[4];
	uint32_t	 crc;
	size_t		 start = b->len;

	put32(frame, (uint32_t)len);
	if (buf_append(b, frame, 4) == -1 ||
	    buf_append(b, body, len) == -1)
		fatalx("imap_index: record buffer full");
	crc = idx_crc((const unsigned char *)b->data + start, 4 + len);
	put32(frame, crc);
	if (buf_append(b, frame, 4) == -1)
		fatalx("imap_index: record buffer full");
}

/* --- flags --- */

uint64_t
imap_index_flag_mask(const char *letters)
{
	uint64_t	m = 0;

	for (; *letters != '\0'; letters++)
		m |= imap_index_flag_bit(*letters);
	return m;
}

void
imap_index_flag_letters(uint64_t mask, char out[53])
{
	size_t	i, o = 0;

	for (i = 0; i < 52; i++)
		if (mask & (UINT64_C(1) << i))
			out[o++] = IDX_FLAG_LETTERS[i];
	out[o] = '\0';
}

/* --- the state in memory --- */

void
imap_index_init(struct imap_index *x)
{
	memset(x, 0, sizeof(*x));
	x->fd = x->lockfd = -1;
	buf_init(&x->wr, SIZE_MAX);
	buf_init(&x->pend, SIZE_MAX);
}

void
imap_index_reset(struct imap_index *x)
{
	free(x->msgs);
	free(x->gone);
	x->msgs = NULL;
	x->gone = NULL;
	x->nmsgs = x->msgcap = x->ndead = x->ngone = x->gonecap = 0;
	x->highest = x->forgotten = 0;
	x->uidvalidity = 0;
	x->have_header = false;
}

/* The position of uid in msgs, or where it would go. */
static size_t
msg_pos(const struct imap_index *x, uint32_t uid)
{
	size_t	lo = 0, hi = x->nmsgs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (x->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct imap_index_msg *
imap_index_find(struct imap_index *x, uint32_t uid)
{
	size_t	i = msg_pos(x, uid);

	return i < x->nmsgs && x->msgs[i].uid == uid ? &x->msgs[i] : NULL;
}

uint64_t
imap_index_next(const struct imap_index *x, int64_t now)
{
	uint64_t	clock = now > 0 ? (uint64_t)now << 20 : 0;
	uint64_t	n = x->highest + 1;

	if (clock > n && clock < IMAP_INDEX_MODSEQ_MAX)
		n = clock;
	return n;
}

static void
note_modseq(struct imap_index *x, uint64_t modseq)
{
	if (modseq > x->highest)
		x->highest = modseq;
}

/* The entry for uid, made when missing; NULL when over the bounds. */
static struct imap_index_msg *
msg_get(struct imap_index *x, uint32_t uid, size_t *unsorted)
{
	size_t	i = msg_pos(x, uid);

	if (i < x->nmsgs && x->msgs[i].uid == uid)
		return &x->msgs[i];
	if (x->nmsgs >= 2 * (size_t)IMAP_INDEX_MSGS_MAX)
		return NULL;
	if (i < x->nmsgs && ++*unsorted > IDX_UNSORTED_MAX)
		return NULL;
	if (x->nmsgs == x->msgcap) {
		/* by a quarter: every session holds this array (memory) */
		x->msgcap += x->msgcap / 4 + 64;
		x->msgs = xrealloc(x->msgs, x->msgcap * sizeof(*x->msgs));
	}
	memmove(&x->msgs[i + 1], &x->msgs[i], (x->nmsgs - i) *
	    sizeof(*x->msgs));
	memset(&x->msgs[i], 0, sizeof(*x->msgs));
	x->msgs[i].uid = uid;
	x->nmsgs++;
	return &x->msgs[i];
}

static void
gone_add(struct imap_index *x, uint32_t lo, uint32_t hi, uint64_t modseq)
{
	size_t	i;

	for (i = msg_pos(x, lo); i < x->nmsgs && x->msgs[i].uid <= hi; i++)
		if (!x->msgs[i].dead) {
			x->msgs[i].dead = true;
			x->ndead++;
		}
	if (x->ngone == IMAP_INDEX_GONE_MAX) {
		/* RFC 7162 §3.2.5: the oldest expunges are forgotten. */
		if (x->gone[0].modseq > x->forgotten)
			x->forgotten = x->gone[0].modseq;
		memmove(&x->gone[0], &x->gone[1], (x->ngone - 1) *
		    sizeof(*x->gone));
		x->ngone--;
	}
	if (x->ngone == x->gonecap) {
		x->gonecap = x->gonecap == 0 ? 16 : x->gonecap * 2;
		x->gone = xrealloc(x->gone, x->gonecap * sizeof(*x->gone));
	}
	x->gone[x->ngone].lo = lo;
	x->gone[x->ngone].hi = hi;
	x->gone[x->ngone].modseq = modseq;
	x->ngone++;
}

/* One record's body (type and payload), checked; off: the record's. */
static int
apply_record(struct imap_index *x, const unsigned char *r, size_t len,
    uint64_t off, size_t *unsorted, const char **err)
{
	struct imap_index_msg	*msg;
	uint64_t		 modseq, size, flags;
	uint32_t		 uid, lo, hi, n;
	size_t			 at, k;

	if (r[0] != 'H' && !x->have_header) {
		*err = "no header";
		return -1;
	}
	switch (r[0]) {
	case 'H':
		if (x->have_header || len != IDX_HDR_LEN ||
		    memcmp(r + 1, IDX_MAGIC, 8) != 0) {
			*err = "bad header";
			return -1;
		}
		if (get32(r + 9) != IDX_VERSION) {
			*err = "unknown version";
			return -1;
		}
		uid = get32(r + 13);
		modseq = get64(r + 17);
		size = get64(r + 25);
		if (uid == 0 || modseq > IMAP_INDEX_MODSEQ_MAX ||
		    size > modseq) {
			*err = "bad header values";
			return -1;
		}
		x->uidvalidity = uid;
		x->highest = modseq;
		x->forgotten = size;
		x->have_header = true;
		return 0;
	case 'M':
		if (len != IDX_MSG_LEN)
			break;
		uid = get32(r + 1);
		modseq = get64(r + 5);
		flags = get64(r + 13);
		if (uid == 0 || modseq == 0 || modseq > IMAP_INDEX_MODSEQ_MAX ||
		    (flags & ~IDX_FLAG_ALL) != 0)
			break;
		note_modseq(x, modseq);
		if ((msg = msg_get(x, uid, unsorted)) == NULL) {
			*err = "too many messages";
			return -1;
		}
		if (msg->dead)
			return 0;	/* a late change: expunge is final */
		msg->modseq = modseq;
		msg->flags = flags;
		return 0;
	case 'X':
		if (len != IDX_GONE_LEN)
			break;
		lo = get32(r + 1);
		hi = get32(r + 5);
		modseq = get64(r + 9);
		if (lo == 0 || lo > hi || modseq == 0 ||
		    modseq > IMAP_INDEX_MODSEQ_MAX)
			break;
		note_modseq(x, modseq);
		gone_add(x, lo, hi, modseq);
		return 0;
	case 'C':
		if (len < IDX_CACHE_FIXED)
			break;
		uid = get32(r + 1);
		/* three length-prefixed strings filling the rest exactly */
		for (at = 13, k = 0; k < 3 && !x->lazy; k++) {
			if (len - at < 4)
				goto bad;
			n = get32(r + at);
			at += 4;
			if (n > len - at)
				goto bad;
			at += n;
		}
		if ((!x->lazy && at != len) || uid == 0)
			break;
		if ((msg = imap_index_find(x, uid)) == NULL || msg->dead)
			return 0;	/* cache of a message not (or no more) here */
		msg->cache_off = off;
		msg->cache_len = (uint32_t)(len + IDX_FRAME - 1) &
		    IDX_CACHE_LEN_MASK;
		return 0;
	default:
		*err = "unknown record type";
		return -1;
	}
bad:
	*err = "bad record";
	return -1;
}

int
imap_index_apply(struct imap_index *x, const char *p, size_t len,
    uint64_t off, size_t *used_out, const char **errstr_out)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 at = 0, rlen, unsorted = 0;

	*used_out = 0;
	while (len - at >= IDX_FRAME) {
		rlen = get32(u + at);
		if (rlen == 0 || rlen > IMAP_INDEX_REC_MAX + IDX_CACHE_FIXED) {
			*errstr_out = "bad record length";
			return -1;
		}
		if (len - at - 8 < rlen)
			break;		/* cut short: not ours to judge */
		/* lazy: a cache record's CRC is checked when it is read */
		if (!(x->lazy && u[at + 4] == 'C') &&
		    idx_crc(u + at, 4 + rlen) != get32(u + at + 4 + rlen)) {
			*errstr_out = "checksum mismatch";
			return -1;
		}
		if (apply_record(x, u + at + 4, rlen, off + at, &unsorted,
		    errstr_out) == -1)
			return -1;
		at += 8 + rlen;
		*used_out = at;
	}
	return 0;
}

/* --- record writers --- */

void
imap_index_put_header(struct buf *b, uint32_t uidvalidity, uint64_t highest,
    uint64_t forgotten)
{
	unsigned char	r[IDX_HDR_LEN];

	r[0] = 'H';
	memcpy(r + 1, IDX_MAGIC, 8);
	put32(r + 9, IDX_VERSION);
	put32(r + 13, uidvalidity);
	put64(r + 17, highest);
	put64(r + 25, forgotten);
	put_record(b, r, sizeof(r));
}

void
imap_index_put_msg(struct buf *b, uint32_t uid, uint64_t modseq,
    uint64_t flags)
{
	unsigned char	r[IDX_MSG_LEN];

	r[0] = 'M';
	put32(r + 1, uid);
	put64(r + 5, modseq);
	put64(r + 13, flags);
	put_record(b, r, sizeof(r));
}

void
imap_index_put_gone(struct buf *b, uint32_t lo, uint32_t hi, uint64_t modseq)
{
	unsigned char	r[IDX_GONE_LEN];

	r[0] = 'X';
	put32(r + 1, lo);
	put32(r + 5, hi);
	put64(r + 9, modseq);
	put_record(b, r, sizeof(r));
}

int
imap_index_put_cache(struct buf *b, uint32_t uid, uint64_t size,
    struct span envelope, struct span body, struct span bodystructure)
{
	const struct span	 s[3] = { envelope, body, bodystructure };
	unsigned char		*r;
	size_t			 len = IDX_CACHE_FIXED, at, k;

	for (k = 0; k < 3; k++) {
		if (s[k].len > IMAP_INDEX_REC_MAX)
			return -1;
		len += s[k].len;
	}
	if (len > IMAP_INDEX_REC_MAX)
		return -1;
	r = xmalloc(len);
	r[0] = 'C';
	put32(r + 1, uid);
	put64(r + 5, size);
	for (at = 13, k = 0; k < 3; k++) {
		put32(r + at, (uint32_t)s[k].len);
		at += 4;
		if (s[k].len > 0)
			memcpy(r + at, s[k].ptr, s[k].len);
		at += s[k].len;
	}
	put_record(b, r, len);
	free(r);
	return 0;
}

/* --- the file --- */

static int
idx_path(const struct imap_index *x, const char *name, char *out,
    size_t outsz)
{
	return path_join(out, outsz, x->dir, name);
}

struct imap_index *
imap_index_open(const char *dir, uint32_t uidvalidity,
    const char **errstr_out)
{
	struct imap_index	*x;
	char			 path[PATH_MAX];

	x = xmalloc(sizeof(*x));
	imap_index_init(x);
	x->dir = xstrdup(dir);
	x->uidvalidity = uidvalidity;
	if (idx_path(x, IMAP_INDEX_LOCK, path, sizeof(path)) == -1 ||
	    (x->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		*errstr_out = "cannot open the index lock";
		imap_index_close(x);
		return NULL;
	}
	return x;
}

void
imap_index_close(struct imap_index *x)
{
	if (x == NULL)
		return;
	imap_index_reset(x);
	if (x->fd != -1)
		(void)close(x->fd);
	if (x->lockfd != -1)
		(void)close(x->lockfd);
	buf_free(&x->wr);
	buf_free(&x->pend);
	free(x->dir);
	free(x);
}

static int
idx_lock(struct imap_index *x, int type)
{
	struct flock	fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = (short)type;
	fl.l_whence = SEEK_SET;
	while (fcntl(x->lockfd, F_OFD_SETLKW, &fl) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Write b as the whole new file (tmp, fsync, rename, fsync dir). */
static int
idx_replace(struct imap_index *x, const struct buf *b)
{
	char		 path[PATH_MAX], tmp[PATH_MAX];
	struct stat	 st;
	int		 fd, dfd;

	if (idx_path(x, IMAP_INDEX_FILE, path, sizeof(path)) == -1 ||
	    idx_path(x, IMAP_INDEX_FILE ".tmp", tmp, sizeof(tmp)) == -1)
		return -1;
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	if (write_full(fd, b->data, b->len) == -1 || fsync(fd) == -1 ||
	    fstat(fd, &st) == -1 || rename(tmp, path) == -1) {
		(void)close(fd);
		(void)unlink(tmp);
		return -1;
	}
	if ((dfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		(void)close(dfd);
	}
	if (x->fd != -1)
		(void)close(x->fd);
	x->fd = fd;
	x->dev = st.st_dev;
	x->ino = st.st_ino;
	x->off = b->len;
	return 0;
}

/* A new, empty index: every earlier expunge and MODSEQ forgotten. */
static int
idx_rebuild(struct imap_index *x, uint32_t uidvalidity, int64_t now)
{
	struct buf	b;
	uint64_t	base;
	int		rc;

	imap_index_reset(x);
	x->uidvalidity = uidvalidity;
	base = imap_index_next(x, now);
	x->highest = x->forgotten = base;
	x->have_header = true;
	x->rebuilt = true;
	buf_init(&b, SIZE_MAX);
	imap_index_put_header(&b, uidvalidity, base, base);
	rc = idx_replace(x, &b);
	buf_free(&b);
	return rc;
}

/* Read the file from x->off and apply it; -1: bad, rebuild. */
static int
idx_read(struct imap_index *x, const char **err)
{
	struct stat	 st;
	size_t		 cap = IDX_READ_CHUNK + IMAP_INDEX_REC_MAX + 64;
	char		*b;
	size_t		 len = 0, used;
	ssize_t		 n;
	int		 rc = 0;

	if (fstat(x->fd, &st) == -1 || (uint64_t)st.st_size >
	    IMAP_INDEX_FILE_MAX) {
		*err = "index too large";
		return -1;
	}
	if ((uint64_t)st.st_size == x->off)
		return 0;	/* nothing new: the common case */
	if ((uint64_t)st.st_size > x->off && (uint64_t)st.st_size - x->off <
	    cap - 1)
		cap = (size_t)((uint64_t)st.st_size - x->off) + 1;
	b = xmalloc(cap);
	x->lazy = true;
	for (;;) {
		n = pread(x->fd, b + len, cap - len, (off_t)(x->off + len));
		if (n == -1) {
			*err = "cannot read the index";
			rc = -1;
			break;
		}
		len += (size_t)n;
		if (imap_index_apply(x, b, len, x->off, &used, err) == -1) {
			rc = -1;
			break;
		}
		x->off += used;
		memmove(b, b + used, len - used);
		len -= used;
		if (n == 0)
			break;
	}
	x->lazy = false;
	if (rc == 0 && !x->have_header) {
		*err = "no header";
		rc = -1;
	}
	/*
	 * A record cut short: a writer died in it (we hold the lock), and
	 * no one announced what it held.  Cut it off.
	 */
	if (rc == 0 && len > 0 && ftruncate(x->fd, (off_t)x->off) == -1) {
		*err = "cannot truncate the index";
		rc = -1;
	}
	free(b);
	return rc;
}

int
imap_index_begin(struct imap_index *x, uint32_t uidvalidity, int64_t now,
    const char **errstr_out)
{
	char		 path[PATH_MAX];
	struct stat	 st;
	const char	*why = NULL;
	int		 fd;

	x->rebuilt = false;
	buf_reset(&x->wr);
	if (idx_lock(x, F_WRLCK) == -1) {
		*errstr_out = "cannot lock the index";
		return -1;
	}
	if (idx_path(x, IMAP_INDEX_FILE, path, sizeof(path)) == -1)
		goto fail;
	if (x->fd == -1 || stat(path, &st) == -1 || st.st_dev != x->dev ||
	    st.st_ino != x->ino) {
		/* first look, or replaced by another: read it all again */
		imap_index_reset(x);
		if (x->fd != -1)
			(void)close(x->fd);
		x->fd = -1;
		x->off = 0;
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd == -1) {
			if (errno != ENOENT) {
				why = "cannot open the index";
				goto rebuild;
			}
			if (idx_rebuild(x, uidvalidity, now) == -1)
				goto fail;
			return 0;
		}
		if (fstat(fd, &st) == -1) {
			(void)close(fd);
			goto fail;
		}
		x->fd = fd;
		x->dev = st.st_dev;
		x->ino = st.st_ino;
	}
	if (idx_read(x, &why) == -1)
		goto rebuild;
	if (x->uidvalidity != uidvalidity) {
		why = "UIDVALIDITY changed";
		goto rebuild;
	}
	/* room for every change to come (a hostile file may leave none) */
	if (x->highest > IMAP_INDEX_MODSEQ_MAX - IDX_MODSEQ_ROOM) {
		why = "MODSEQ space used up";
		goto rebuild;
	}
	return 0;
rebuild:
	log_warnx("imap: index %s: %s; rebuilding it", x->dir, why);
	if (idx_rebuild(x, uidvalidity, now) == 0)
		return 0;
fail:
	*errstr_out = "cannot write the index";
	(void)idx_lock(x, F_UNLCK);
	return -1;
}

/* Bytes of a fresh copy of the index. */
static uint64_t
idx_live_size(const struct imap_index *x)
{
	uint64_t	n = IDX_HDR_LEN + 8;
	size_t		i;

	n += (uint64_t)x->ngone * (IDX_GONE_LEN + 8);
	for (i = 0; i < x->nmsgs; i++)
		if (!x->msgs[i].dead)
			n += IDX_MSG_LEN + 8 + x->msgs[i].cache_len;
	return n;
}

/*
 * Is r (len bytes, frame included) a whole, sound cache record: its
 * length, type and CRC, and three strings filling it exactly?  Records
 * read from the file are applied lazily (imap_index.h), so this is
 * where a damaged one is found; it is then simply not used.
 */
static bool
cache_ok(const unsigned char *r, size_t len)
{
	size_t		at, k;
	uint32_t	n;

	if (len < IDX_FRAME + IDX_CACHE_FIXED - 1 || get32(r) != len - 8 ||
	    r[4] != 'C' || idx_crc(r, len - 4) != get32(r + len - 4))
		return false;
	for (at = 4 + 13, k = 0; k < 3; k++) {
		if (len - 4 - at < 4)
			return false;
		n = get32(r + at);
		at += 4;
		if (n > len - 4 - at)
			return false;
		at += n;
	}
	return at == len - 4;
}

/*
 * Append msg's cache record to b and point msg at it there: from the
 * file (checked, as it was applied lazily), or from the records not
 * yet written.
 */
static int
idx_copy_cache(struct imap_index *x, struct imap_index_msg *msg,
    struct buf *b)
{
	char		*r;
	size_t		 at = b->len;
	uint64_t	 w;
	int		 rc = 0;

	if (msg->cache_off >= x->off) {
		w = msg->cache_off - x->off;
		if (w > x->wr.len || msg->cache_len > x->wr.len - w)
			return -1;
		rc = buf_append(b, x->wr.data + w, msg->cache_len);
	} else {
		r = xmalloc(msg->cache_len);
		if (pread(x->fd, r, msg->cache_len, (off_t)msg->cache_off) !=
		    (ssize_t)msg->cache_len || !cache_ok((unsigned char *)r,
		    msg->cache_len))
			rc = -1;
		else
			rc = buf_append(b, r, msg->cache_len);
		free(r);
	}
	if (rc == 0)
		msg->cache_off = at;
	return rc;
}

/* Write the state in memory as a new file (the cache copied over). */
static int
idx_compact(struct imap_index *x)
{
	struct imap_index_msg	*msg;
	struct buf		 b;
	size_t			 i, k;
	uint64_t		 off;
	int			 rc;

	buf_init(&b, SIZE_MAX);
	imap_index_put_header(&b, x->uidvalidity, x->highest, x->forgotten);
	for (i = 0; i < x->ngone; i++)
		imap_index_put_gone(&b, x->gone[i].lo, x->gone[i].hi,
		    x->gone[i].modseq);
	for (i = 0, k = 0; i < x->nmsgs; i++) {
		msg = &x->msgs[i];
		if (msg->dead)
			continue;
		imap_index_put_msg(&b, msg->uid, msg->modseq, msg->flags);
		if (msg->cache_off != 0 && idx_copy_cache(x, msg, &b) == -1) {
			msg->cache_off = 0;
			msg->cache_len = 0;
		}
		x->msgs[k++] = *msg;
	}
	x->nmsgs = k;
	x->ndead = 0;
	off = x->off;
	rc = idx_replace(x, &b);
	if (rc == -1)
		x->off = off;
	buf_free(&b);
	return rc;
}

static void	idx_add(struct imap_index *, struct buf *);

int
imap_index_end(struct imap_index *x, int64_t now, const char **errstr_out)
{
	uint64_t	live;
	int		rc = 0;

	(void)now;
	if (x->pend.len > 0)
		idx_add(x, &x->pend);	/* the queued cache records */
	if (x->wr.len > 0) {
		live = idx_live_size(x);
		if (x->off + x->wr.len > 2 * live + IDX_COMPACT_SLACK) {
			if (idx_compact(x) == -1)
				rc = -1;
		} else if (pwrite(x->fd, x->wr.data, x->wr.len,
		    (off_t)x->off) != (ssize_t)x->wr.len) {
			rc = -1;
		} else
			x->off += x->wr.len;
		if (rc == -1) {
			/* memory is ahead of the file: read it all again */
			*errstr_out = "cannot write the index";
			(void)close(x->fd);
			x->fd = -1;
		}
	}
	buf_reset(&x->wr);
	/* an idle session keeps no batch-sized buffers */
	if (x->wr.cap > IDX_KEEP) {
		buf_free(&x->wr);
		buf_init(&x->wr, SIZE_MAX);
	}
	if (x->pend.cap > IDX_KEEP) {
		buf_free(&x->pend);
		buf_init(&x->pend, SIZE_MAX);
	}
	(void)idx_lock(x, F_UNLCK);
	return rc;
}

/* Append records made in tmp to wr and apply them to memory. */
static void
idx_add(struct imap_index *x, struct buf *tmp)
{
	const char	*err = NULL;
	size_t		 used;
	int		 rc;

	/* our own records: their cache strings need no second check */
	x->lazy = true;
	rc = imap_index_apply(x, tmp->data, tmp->len, x->off + x->wr.len,
	    &used, &err);
	x->lazy = false;
	if (rc == -1 || used != tmp->len)
		fatalx("imap_index: own record refused: %s", err);
	if (buf_append(&x->wr, tmp->data, tmp->len) == -1)
		fatalx("imap_index: write buffer full");
	buf_reset(tmp);
}

uint64_t
imap_index_set(struct imap_index *x, uint32_t uid, const char *letters,
    int64_t now)
{
	struct buf	tmp;
	uint64_t	modseq = imap_index_next(x, now);

	buf_init(&tmp, SIZE_MAX);
	imap_index_put_msg(&tmp, uid, modseq, imap_index_flag_mask(letters));
	idx_add(x, &tmp);
	buf_free(&tmp);
	return modseq;
}

void
imap_index_expunge(struct imap_index *x, const uint32_t *uids, size_t n,
    int64_t now)
{
	struct buf	tmp;
	uint64_t	modseq;
	size_t		i, j = 0;
	uint32_t	lo = 0, hi = 0;
	bool		gone;

	if (n == 0)
		return;
	modseq = imap_index_next(x, now);
	buf_init(&tmp, SIZE_MAX);
	/*
	 * One record per run of the index's messages all expunged now
	 * (messages expunged before do not break a run), so that "3 5 7"
	 * with 4 and 6 long gone is one range.
	 */
	for (i = 0; i < x->nmsgs; i++) {
		while (j < n && uids[j] < x->msgs[i].uid)
			j++;
		gone = j < n && uids[j] == x->msgs[i].uid;
		if (x->msgs[i].dead && !gone)
			continue;
		if (gone) {
			if (lo == 0)
				lo = x->msgs[i].uid;
			hi = x->msgs[i].uid;
			continue;
		}
		if (lo != 0)
			imap_index_put_gone(&tmp, lo, hi, modseq);
		lo = 0;
	}
	if (lo != 0)
		imap_index_put_gone(&tmp, lo, hi, modseq);
	if (tmp.len > 0)
		idx_add(x, &tmp);
	buf_free(&tmp);
}

void
imap_index_sync(struct imap_index *x, const struct maildir_list *l,
    int64_t now)
{
	const struct maildir_entry	*e;
	struct imap_index_msg		*msg;
	uint32_t			*gone;
	size_t				 i, j, ngone = 0;
	uint64_t			 fl;

	for (j = 0; j < l->nentries; j++) {
		e = &l->entries[j];
		if (e->uid == 0)
			continue;
		fl = imap_index_flag_mask(e->flags);
		msg = imap_index_find(x, e->uid);
		if (msg != NULL && (msg->dead || msg->flags == fl))
			continue;
		/* new, or its letters changed (by us or by mutt) */
		(void)imap_index_set(x, e->uid, e->flags, now);
	}
	/* What the index holds and the listing has not: expunged. */
	gone = xcalloc(x->nmsgs + 1, sizeof(*gone));
	for (i = 0, j = 0; i < x->nmsgs; i++) {
		if (x->msgs[i].dead)
			continue;
		while (j < l->nentries && l->entries[j].uid != 0 &&
		    l->entries[j].uid < x->msgs[i].uid)
			j++;
		if (j < l->nentries && l->entries[j].uid == x->msgs[i].uid)
			continue;
		gone[ngone++] = x->msgs[i].uid;
	}
	imap_index_expunge(x, gone, ngone, now);
	free(gone);
}

void
imap_index_cache_add(struct imap_index *x, uint32_t uid, uint64_t size,
    struct span envelope, struct span body, struct span bodystructure)
{
	struct buf	tmp;

	buf_init(&tmp, SIZE_MAX);
	if (imap_index_put_cache(&tmp, uid, size, envelope, body,
	    bodystructure) == 0)
		idx_add(x, &tmp);
	buf_free(&tmp);
}

void
imap_index_cache_queue(struct imap_index *x, uint32_t uid, uint64_t size,
    struct span envelope, struct span body, struct span bodystructure)
{
	(void)imap_index_put_cache(&x->pend, uid, size, envelope, body,
	    bodystructure);
}

void
imap_index_cache_init(struct imap_index_cache *c)
{
	buf_init(&c->envelope, IMAP_INDEX_REC_MAX);
	buf_init(&c->body, IMAP_INDEX_REC_MAX);
	buf_init(&c->bodystructure, IMAP_INDEX_REC_MAX);
}

void
imap_index_cache_free(struct imap_index_cache *c)
{
	buf_free(&c->envelope);
	buf_free(&c->body);
	buf_free(&c->bodystructure);
}

int
imap_index_cache_get(struct imap_index *x, uint32_t uid, uint64_t size,
    struct imap_index_cache *out)
{
	struct imap_index_msg	*msg = imap_index_find(x, uid);
	struct buf		*dst[3] = { &out->envelope, &out->body,
				    &out->bodystructure };
	unsigned char		*r;
	size_t			 len, at, k;
	uint32_t		 n;
	int			 rc = -1;

	if (msg == NULL || msg->dead || msg->cache_off == 0 || x->fd == -1 ||
	    msg->cache_off >= x->off || msg->cache_len < IDX_FRAME +
	    IDX_CACHE_FIXED - 1)
		return -1;
	len = msg->cache_len;
	r = xmalloc(len);
	/* applied lazily: the whole record is checked here (cache_ok) */
	if (pread(x->fd, r, len, (off_t)msg->cache_off) != (ssize_t)len ||
	    !cache_ok(r, len) || get32(r + 5) != uid || get64(r + 9) != size)
		goto done;
	for (at = 4 + 13, k = 0; k < 3; k++) {
		n = get32(r + at);
		at += 4;
		buf_reset(dst[k]);
		if (buf_append(dst[k], r + at, n) == -1)
			goto done;
		at += n;
	}
	rc = 0;
done:
	free(r);
	return rc;
}

/* --- VANISHED (EARLIER) --- */

struct urange {
	uint32_t	lo, hi;
};

static int
urange_cmp(const void *a, const void *b)
{
	const struct urange	*x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge overlapping or touching ranges in place. */
static size_t
urange_norm(struct urange *v, size_t n)
{
	size_t	i, k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), urange_cmp);
	for (i = 1; i < n; i++) {
		if (v[i].lo <= v[k].hi || v[i].lo - 1 == v[k].hi) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else
			v[++k] = v[i];
	}
	return k + 1;
}

void
imap_index_vanished(const struct imap_index *x, uint64_t modseq,
    const struct imap_seqset *set, uint32_t uidnext, struct buf *out)
{
	struct urange	*a, *s;
	size_t		 na = 0, ns = 0, i, j, cap;
	uint32_t	 max = uidnext > 0 ? uidnext - 1 : 0, lo, hi, prev;
	bool		 first = true;

	if (max == 0)
		return;
	cap = x->ngone + x->nmsgs + 2;
	a = xcalloc(cap, sizeof(*a));
	if (modseq >= x->forgotten) {
		for (i = 0; i < x->ngone; i++)
			if (x->gone[i].modseq > modseq) {
				a[na].lo = x->gone[i].lo;
				a[na].hi = x->gone[i].hi;
				na++;
			}
	} else {
		/* forgotten: every UID that is not live */
		prev = 0;
		for (i = 0; i < x->nmsgs; i++) {
			if (x->msgs[i].dead)
				continue;
			if (x->msgs[i].uid > prev + 1) {
				a[na].lo = prev + 1;
				a[na].hi = x->msgs[i].uid - 1;
				na++;
			}
			prev = x->msgs[i].uid;
		}
		if (prev < max) {
			a[na].lo = prev + 1;
			a[na].hi = max;
			na++;
		}
	}
	na = urange_norm(a, na);
	s = xcalloc((set != NULL ? set->n : 0) + 1, sizeof(*s));
	if (set == NULL) {
		s[0].lo = 1;
		s[0].hi = max;
		ns = 1;
	} else
		for (i = 0; i < set->n; i++) {
			lo = set->r[i].lo == IMAP_SEQ_STAR ? max : set->r[i].lo;
			hi = set->r[i].hi == IMAP_SEQ_STAR ? max : set->r[i].hi;
			s[ns].lo = lo < hi ? lo : hi;
			s[ns].hi = lo < hi ? hi : lo;
			ns++;
		}
	ns = urange_norm(s, ns);
	/* the intersection, in order */
	for (i = 0, j = 0; i < na && j < ns;) {
		lo = a[i].lo > s[j].lo ? a[i].lo : s[j].lo;
		hi = a[i].hi < s[j].hi ? a[i].hi : s[j].hi;
		if (hi > max)
			hi = max;
		if (lo <= hi) {
			if (lo == hi)
				(void)buf_printf(out, "%s%u", first ? "" : ",",
				    lo);
			else
				(void)buf_printf(out, "%s%u:%u", first ? "" :
				    ",", lo, hi);
			first = false;
		}
		if (a[i].hi < s[j].hi)
			i++;
		else
			j++;
	}
	free(a);
	free(s);
}
