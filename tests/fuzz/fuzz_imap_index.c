/*
 * libFuzzer target for the per-folder IMAP index reader (imap_index.c),
 * which reads a file that a crash, a disk, a hand edit or another program
 * may have damaged.  The first byte picks the mode:
 *  - even: the rest is applied to an empty index in memory.  Accepted or
 *    not, the state must hold: messages in strictly increasing UID order,
 *    every MODSEQ and the forgotten mark at most HIGHESTMODSEQ, at most
 *    IMAP_INDEX_GONE_MAX expunge ranges, cache records inside what was
 *    read.  When every byte was taken, the state written back as a
 *    compacted file (header, expunges, live messages) reads back to the
 *    same live state, and VANISHED sets are well formed.
 *  - odd: the rest becomes the cachet-index of a folder on tmpfs, and
 *    open, begin, a sync with a small listing and end must succeed
 *    (rebuilding when the file is bad); a second reader must then read
 *    the same state without a rebuild, and the cache records it located
 *    without checking (imap_index.h, lazy) are checked when used.
 * Input is copied to a heap block of exactly its length so that a read
 * past it trips ASan.  abort() marks a broken invariant.  A rebuild logs
 * a warning, muted unless FUZZ_VERBOSE is set.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "buf.h"
#include "imap/imap_index.h"
#include "imap/imap_parse.h"
#include "util.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fz_dir[PATH_MAX];
static int	fz_stderr = -1, fz_null = -1;

static void
fz_rm(void)
{
	char	cmd[PATH_MAX + 16];

	if (fz_dir[0] != '\0' &&
	    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fz_dir) <
	    (int)sizeof(cmd))
		(void)system(cmd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*base;

	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	if (snprintf(fz_dir, sizeof(fz_dir), "%s/fuzz_imap_index.%ld", base,
	    (long)getpid()) >= (int)sizeof(fz_dir) ||
	    (mkdir(fz_dir, 0700) == -1 && errno != EEXIST))
		abort();
	(void)atexit(fz_rm);
	if (getenv("FUZZ_VERBOSE") == NULL) {
		if ((fz_stderr = dup(2)) == -1 ||
		    (fz_null = open("/dev/null", O_WRONLY)) == -1)
			abort();
		__sanitizer_set_report_fd((void *)(intptr_t)fz_stderr);
	}
	return 0;
}

static void
fz_mute(bool mute)
{
	if (fz_null != -1 && dup2(mute ? fz_null : fz_stderr, 2) == -1)
		abort();
}

static void
fz_check(const struct imap_index *x, uint64_t read)
{
	size_t	i;

	if (x->forgotten > x->highest || x->ngone > IMAP_INDEX_GONE_MAX)
		abort();
	for (i = 0; i < x->nmsgs; i++) {
		if (x->msgs[i].uid == 0 || x->msgs[i].modseq > x->highest ||
		    (i > 0 && x->msgs[i].uid <= x->msgs[i - 1].uid))
			abort();
		if (x->msgs[i].cache_off != 0 &&
		    x->msgs[i].cache_off + x->msgs[i].cache_len > read)
			abort();
	}
	for (i = 0; i < x->ngone; i++)
		if (x->gone[i].lo == 0 || x->gone[i].lo > x->gone[i].hi ||
		    x->gone[i].modseq > x->highest)
			abort();
}

/* The compacted form of x's live state (no cache: it needs the file). */
static void
fz_write_back(const struct imap_index *x, struct buf *b)
{
	size_t	i;

	imap_index_put_header(b, x->uidvalidity, x->highest, x->forgotten);
	for (i = 0; i < x->ngone; i++)
		imap_index_put_gone(b, x->gone[i].lo, x->gone[i].hi,
		    x->gone[i].modseq);
	for (i = 0; i < x->nmsgs; i++)
		if (!x->msgs[i].dead)
			imap_index_put_msg(b, x->msgs[i].uid,
			    x->msgs[i].modseq, x->msgs[i].flags);
}

static void
fz_memory(const char *p, size_t len)
{
	struct imap_index	 x, y;
	struct imap_index_msg	*m;
	struct imap_range	 r[2] = { { 1, 5 }, { 9, IMAP_SEQ_STAR } };
	struct imap_seqset	 set = { r, 2, false };
	struct buf		 b, v;
	const char		*err = NULL;
	size_t			 used = 0, i, live = 0;

	imap_index_init(&x);
	if (imap_index_apply(&x, p, len, 0, &used, &err) == -1) {
		if (err == NULL)
			abort();
	}
	if (used > len)
		abort();
	fz_check(&x, used);
	if (used == len && x.have_header) {
		buf_init(&b, SIZE_MAX);
		buf_init(&v, SIZE_MAX);
		fz_write_back(&x, &b);
		imap_index_init(&y);
		if (imap_index_apply(&y, b.data, b.len, 0, &used, &err) == -1 ||
		    used != b.len || y.highest != x.highest ||
		    y.forgotten != x.forgotten || y.ngone != x.ngone)
			abort();
		for (i = 0; i < x.nmsgs; i++) {
			if (x.msgs[i].dead)
				continue;
			live++;
			m = imap_index_find(&y, x.msgs[i].uid);
			/* a live UID inside a remembered expunge range is
			 * dead once the ranges come first */
			if (m == NULL || (!m->dead &&
			    (m->modseq != x.msgs[i].modseq ||
			    m->flags != x.msgs[i].flags)))
				abort();
		}
		imap_index_vanished(&x, x.highest / 2, &set, 100, &v);
		imap_index_vanished(&x, 0, NULL, 100, &v);
		for (i = 0; i < v.len; i++)
			if (strchr("0123456789:,", v.data[i]) == NULL)
				abort();
		imap_index_reset(&y);
		buf_free(&y.wr);
		buf_free(&b);
		buf_free(&v);
	}
	(void)live;
	imap_index_reset(&x);
	buf_free(&x.wr);
}

static void
fz_file(const char *p, size_t len)
{
	struct imap_index	*x, *y;
	struct imap_index_cache	 ca;
	struct maildir_list	 l;
	struct maildir_entry	 e[3];
	char			 path[PATH_MAX];
	const char		*err = NULL;
	size_t			 i;
	int			 fd;

	if (snprintf(path, sizeof(path), "%s/%s", fz_dir, IMAP_INDEX_FILE) >=
	    (int)sizeof(path))
		abort();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write_full(fd, p, len) == -1 || close(fd) == -1)
		abort();
	memset(e, 0, sizeof(e));
	for (i = 0; i < 3; i++) {
		e[i].uid = (uint32_t)(2 * i + 1);
		e[i].size = 10;
	}
	(void)str_copy(e[1].flags, sizeof(e[1].flags), "S");
	memset(&l, 0, sizeof(l));
	l.entries = e;
	l.nentries = 3;
	l.uidvalidity = 7;
	l.uidnext = 6;
	fz_mute(true);
	if ((x = imap_index_open(fz_dir, 7, &err)) == NULL ||
	    imap_index_begin(x, 7, 1700000000, &err) == -1)
		abort();
	imap_index_sync(x, &l, 1700000000);
	if (imap_index_end(x, 1700000000, &err) == -1)
		abort();
	if ((y = imap_index_open(fz_dir, 7, &err)) == NULL ||
	    imap_index_begin(y, 7, 1700000000, &err) == -1 || y->rebuilt)
		abort();
	imap_index_sync(y, &l, 1700000000);
	/* nothing changed since x's sync: nothing to append */
	if (y->wr.len != 0 || y->highest != x->highest)
		abort();
	if (imap_index_end(y, 1700000000, &err) == -1)
		abort();
	/* cache records were read lazily: each is checked when used */
	imap_index_cache_init(&ca);
	for (i = 0; i < 3; i++)
		if (imap_index_cache_get(y, e[i].uid, e[i].size, &ca) == 0 &&
		    ca.envelope.len + ca.body.len + ca.bodystructure.len >
		    IMAP_INDEX_REC_MAX)
			abort();
	imap_index_cache_free(&ca);
	fz_mute(false);
	for (i = 0; i < 3; i++)
		if (imap_index_find(y, e[i].uid) == NULL ||
		    imap_index_find(y, e[i].uid)->modseq !=
		    imap_index_find(x, e[i].uid)->modseq)
			abort();
	fz_check(y, UINT64_MAX);
	imap_index_close(x);
	imap_index_close(y);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*p;

	if (size == 0)
		return 0;
	p = xmalloc(size > 1 ? size - 1 : 1);
	memcpy(p, data + 1, size - 1);
	if (data[0] & 1)
		fz_file(p, size - 1);
	else
		fz_memory(p, size - 1);
	free(p);
	return 0;
}
