/*
 * Unit tests for maildir: delivery (CRLF to LF across chunk and prepend
 * boundaries, names, sizes, cleanup of tmp/ on every failure), delivery
 * in steps (prepare, commit, sync of new/, abort), creation
 * (idempotent, concurrent), listing through the uidlist (UIDs in arrival
 * order and stable, cached CRLF sizes, removed files, a table of corrupt
 * uidlists that must be rebuilt with a new UIDVALIDITY, a full disk,
 * concurrent listers), flags, removal, usage, and the uidlist parser.
 * Each test runs in a fresh mkdtemp directory under /var/tmp.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "buf.h"
#include "maildir.h"
#include "util.h"

#define PREPEND	\
    "Return-Path: <alice@example.org>\r\nDelivered-To: bob@example.org\r\n"
#define MSG	"Subject: hi\r\n\r\nHello.\r\n"

struct fx {
	char	dir[64];
	char	mb[128];	/* the Maildir: dir/example.org/bob */
};

/* --- helpers ----------------------------------------------------------- */

static int
fx_setup(void **state)
{
	struct fx	*f = xcalloc(1, sizeof(*f));

	(void)str_copy(f->dir, sizeof(f->dir), "/var/tmp/test_maildir.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	(void)snprintf(f->mb, sizeof(f->mb), "%s/example.org/bob", f->dir);
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	testutil_rmtree(f->dir);
	free(f);
	return 0;
}

static void
mkpath(char *out, size_t outsz, const char *dir, const char *sub,
    const char *name)
{
	int	n;

	if (name != NULL)
		n = snprintf(out, outsz, "%s/%s/%s", dir, sub, name);
	else
		n = snprintf(out, outsz, "%s/%s", dir, sub);
	assert_true(n > 0 && (size_t)n < outsz);
}

static size_t
count_files(const char *dir, const char *sub)
{
	char		 p[PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0;

	mkpath(p, sizeof(p), dir, sub, NULL);
	if ((d = opendir(p)) == NULL) {
		fail_msg("opendir %s", p);
		return 0;	/* not reached: fail_msg() longjmps */
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static bool
exists(const char *dir, const char *sub, const char *name)
{
	char	p[PATH_MAX];

	mkpath(p, sizeof(p), dir, sub, name);
	return access(p, F_OK) == 0;
}

/* The whole of a file into b (max 1 MiB). */
static void
slurp(const char *path, struct buf *b)
{
	char	tmp[4096];
	ssize_t	n;
	int	fd;

	buf_init(b, 1 << 20);
	if ((fd = open(path, O_RDONLY)) == -1) {
		fail_msg("open %s: %s", path, strerror(errno));
		return;		/* not reached: fail_msg() longjmps */
	}
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		assert_int_equal(buf_append(b, tmp, (size_t)n), 0);
	assert_true(n == 0);
	close(fd);
}

static void
spit(const char *path, const char *p, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, p, len), 0);
	close(fd);
}

/* Deliver prepend + msg; returns the name in new/. */
static void
deliver(const char *mb, const char *prepend, const char *msg, size_t len,
    char name[MAILDIR_NAME_MAX + 1])
{
	const char	*err = NULL;
	int		 fd;

	fd = testutil_memfd(msg, len);
	if (maildir_deliver(mb, prepend, prepend == NULL ? 0 :
	    strlen(prepend), fd, len, name, MAILDIR_NAME_MAX + 1, &err) != 0)
		fail_msg("deliver: %s: %s", err, strerror(errno));
	close(fd);
}

static void
set_mtime(const char *mb, const char *sub, const char *name, time_t t)
{
	struct timespec	ts[2];
	char		p[PATH_MAX];

	mkpath(p, sizeof(p), mb, sub, name);
	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void
list(const char *mb, struct maildir_list *l)
{
	const char	*err = NULL;

	if (maildir_list(mb, l, &err) != 0)
		fail_msg("list: %s: %s", err, strerror(errno));
}

static const struct maildir_entry *
find_entry(const struct maildir_list *l, const char *name)
{
	size_t	i;

	for (i = 0; i < l->nentries; i++)
		if (strcmp(l->entries[i].name, name) == 0)
			return &l->entries[i];
	fail_msg("%s not listed", name);
	return NULL;
}

static void
uidlist_path(const char *mb, char *out, size_t outsz)
{
	mkpath(out, outsz, mb, "cachet-uidlist", NULL);
}

/* A file written by someone else's MDA, with a chosen name and mtime. */
static void
foreign(const char *mb, const char *sub, const char *name, const char *body,
    time_t mtime)
{
	char	p[PATH_MAX];

	mkpath(p, sizeof(p), mb, sub, name);
	spit(p, body, strlen(body));
	set_mtime(mb, sub, name, mtime);
}

static void
create(const char *mb)
{
	const char	*err = NULL;

	if (maildir_create(mb, &err) != 0)
		fail_msg("create: %s: %s", err, strerror(errno));
}

/* --- deliver ----------------------------------------------------------- */

static void
test_deliver_converts_crlf_to_lf(void **state)
{
	struct fx	*f = *state;
	char		 name[MAILDIR_NAME_MAX + 1], p[PATH_MAX];
	struct buf	 b;
	static const char msg[] =
	    "Subject: x\r\n\r\nline\r\nbare\rcr\r\r\nlf only\nend\r\n";
	static const char want[] =
	    "Return-Path: <alice@example.org>\nDelivered-To: bob@example.org\n"
	    "Subject: x\n\nline\nbare\rcr\r\nlf only\nend\n";

	create(f->mb);
	deliver(f->mb, PREPEND, msg, sizeof(msg) - 1, name);
	mkpath(p, sizeof(p), f->mb, "new", name);
	slurp(p, &b);
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void
test_deliver_name_has_sizes(void **state)
{
	struct fx	*f = *state;
	char		 name[MAILDIR_NAME_MAX + 1], want[64];
	char		 p[PATH_MAX];
	struct stat	 st;
	const char	*dot;
	long		 pid;
	static const char msg[] = "a\r\nb\nc\r\n";	/* 6 bytes, 9 in CRLF */

	create(f->mb);
	deliver(f->mb, NULL, msg, sizeof(msg) - 1, name);
	mkpath(p, sizeof(p), f->mb, "new", name);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 6);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* "<sec>.M<usec>P<pid>Q<n>.<host>,S=6,W=9" */
	assert_true(strchr(name, ':') == NULL);
	assert_true(strchr(name, '/') == NULL);
	dot = strchr(name, '.');
	assert_non_null(dot);
	assert_true(dot[1] == 'M');
	assert_non_null(strstr(name, "P"));
	pid = strtol(strchr(dot, 'P') + 1, NULL, 10);
	assert_int_equal(pid, (long)getpid());
	assert_non_null(strstr(name, "Q"));
	(void)snprintf(want, sizeof(want), ",S=%d,W=%d", 6, 9);
	assert_true(strlen(name) > strlen(want));
	assert_string_equal(name + strlen(name) - strlen(want), want);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	assert_int_equal(count_files(f->mb, "new"), 1);
}

static void
test_deliver_two_names_differ(void **state)
{
	struct fx	*f = *state;
	char		 a[MAILDIR_NAME_MAX + 1], b[MAILDIR_NAME_MAX + 1];

	create(f->mb);
	deliver(f->mb, PREPEND, MSG, sizeof(MSG) - 1, a);
	deliver(f->mb, PREPEND, MSG, sizeof(MSG) - 1, b);
	assert_string_not_equal(a, b);
	assert_int_equal(count_files(f->mb, "new"), 2);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
}

/* A CRLF split between two 64 KiB reads, and between prepend and body. */
static void
test_deliver_crlf_split_across_chunks(void **state)
{
	struct fx	*f = *state;
	char		 name[MAILDIR_NAME_MAX + 1], p[PATH_MAX];
	struct buf	 b;
	size_t		 len = 65536 * 2 + 10, i;
	char		*msg, *want;
	int		 fd;
	const char	*err;

	msg = xmalloc(len);
	memset(msg, 'x', len);
	msg[0] = '\n';			/* completes the prepend's CR */
	msg[65535] = '\r';
	msg[65536] = '\n';
	msg[131071] = '\r';		/* a lone CR at a chunk's end */
	msg[len - 1] = '\r';		/* and at the very end */
	create(f->mb);
	fd = testutil_memfd(msg, len);
	assert_int_equal(maildir_deliver(f->mb, "X-A: 1\r", 7, fd, len, name,
	    sizeof(name), &err), 0);
	close(fd);
	want = xmalloc(len + 7);
	memcpy(want, "X-A: 1", 6);
	i = 6;
	memcpy(want + i, msg, 65535);	/* '\n', x..., up to the CR */
	i += 65535;
	memcpy(want + i, msg + 65536, len - 65536);
	i += len - 65536;
	mkpath(p, sizeof(p), f->mb, "new", name);
	slurp(p, &b);
	assert_int_equal(b.len, i);
	assert_memory_equal(b.data, want, i);
	buf_free(&b);
	free(want);
	free(msg);
}

static void
test_deliver_empty_message(void **state)
{
	struct fx	*f = *state;
	char		 name[MAILDIR_NAME_MAX + 1];

	create(f->mb);
	deliver(f->mb, NULL, "", 0, name);
	assert_non_null(strstr(name, ",S=0,W=0"));
}

static void
test_deliver_creates_missing_maildir(void **state)
{
	struct fx	*f = *state;
	char		 name[MAILDIR_NAME_MAX + 1];

	deliver(f->mb, PREPEND, MSG, sizeof(MSG) - 1, name);
	assert_true(exists(f->mb, "new", name));
	assert_true(exists(f->mb, ".Junk", "maildirfolder"));
}

static void
test_deliver_short_message_fd_fails_clean(void **state)
{
	struct fx	*f = *state;
	char		 name[MAILDIR_NAME_MAX + 1];
	const char	*err = NULL;
	int		 fd;

	create(f->mb);
	fd = testutil_memfd(MSG, sizeof(MSG) - 1);
	assert_int_equal(maildir_deliver(f->mb, PREPEND, strlen(PREPEND), fd,
	    sizeof(MSG) + 100, name, sizeof(name), &err), -1);
	assert_int_equal(errno, EIO);
	assert_non_null(err);
	close(fd);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	assert_int_equal(count_files(f->mb, "new"), 0);
}

static void
test_deliver_name_buffer_too_small(void **state)
{
	struct fx	*f = *state;
	char		 name[16];
	const char	*err = NULL;
	int		 fd;

	create(f->mb);
	fd = testutil_memfd(MSG, sizeof(MSG) - 1);
	assert_int_equal(maildir_deliver(f->mb, NULL, 0, fd, sizeof(MSG) - 1,
	    name, sizeof(name), &err), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	close(fd);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	assert_int_equal(count_files(f->mb, "new"), 0);
}

/* A full disk, played by RLIMIT_FSIZE: EFBIG and nothing left behind. */
static void
test_deliver_efbig_leaves_nothing(void **state)
{
	struct fx	*f = *state;
	struct rlimit	 old, lim;
	char		 name[MAILDIR_NAME_MAX + 1];
	const char	*err = NULL;
	size_t		 len = 200000;
	char		*msg;
	int		 fd, r, e;

	create(f->mb);
	msg = xmalloc(len);
	memset(msg, 'y', len);
	fd = testutil_memfd(msg, len);
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 100000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = maildir_deliver(f->mb, PREPEND, strlen(PREPEND), fd, len, name,
	    sizeof(name), &err);
	e = errno;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, -1);
	assert_int_equal(e, EFBIG);
	assert_non_null(err);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	assert_int_equal(count_files(f->mb, "new"), 0);
	close(fd);
	free(msg);
}

/* --- delivery in steps ------------------------------------------------ */

static void
prepare(const char *mb, const char *msg, size_t len, struct maildir_pending *p)
{
	const char	*err = NULL;
	int		 fd;

	fd = testutil_memfd(msg, len);
	if (maildir_prepare(mb, PREPEND, strlen(PREPEND), fd, len, p,
	    &err) != 0)
		fail_msg("prepare: %s: %s", err, strerror(errno));
	close(fd);
	assert_int_equal(p->state, MAILDIR_PENDING_TMP);
}

/* Two prepared, two committed, one sync of new/: both delivered. */
static void
test_steps_prepare_commit_sync_delivers(void **state)
{
	struct fx		*f = *state;
	struct maildir_pending	 a, b;
	char			 p[PATH_MAX];
	struct buf		 content;
	const char		*err = NULL;

	create(f->mb);
	prepare(f->mb, MSG, sizeof(MSG) - 1, &a);
	prepare(f->mb, MSG, sizeof(MSG) - 1, &b);
	assert_string_not_equal(a.name, b.name);
	assert_non_null(strstr(a.name, ",S="));
	assert_int_equal(count_files(f->mb, "tmp"), 2);
	assert_int_equal(count_files(f->mb, "new"), 0);
	assert_int_equal(maildir_commit(&a, &err), 0);
	assert_int_equal(maildir_commit(&b, &err), 0);
	assert_int_equal(a.state, MAILDIR_PENDING_NEW);
	assert_int_equal(b.state, MAILDIR_PENDING_NEW);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	assert_true(exists(f->mb, "new", a.name));
	assert_true(exists(f->mb, "new", b.name));
	assert_int_equal(maildir_sync_new(f->mb, &err), 0);
	mkpath(p, sizeof(p), f->mb, "new", a.name);
	slurp(p, &content);
	assert_int_equal(content.len, strlen("Return-Path: <alice@example.org>"
	    "\nDelivered-To: bob@example.org\nSubject: hi\n\nHello.\n"));
	buf_free(&content);
}

/* A failed prepare (short message file) leaves nothing in tmp/. */
static void
test_steps_failed_prepare_leaves_nothing(void **state)
{
	struct fx		*f = *state;
	struct maildir_pending	 pd;
	const char		*err = NULL;
	int			 fd;

	create(f->mb);
	fd = testutil_memfd(MSG, sizeof(MSG) - 1);
	assert_int_equal(maildir_prepare(f->mb, PREPEND, strlen(PREPEND), fd,
	    sizeof(MSG) + 100, &pd, &err), -1);
	assert_int_equal(errno, EIO);
	assert_non_null(err);
	close(fd);
	assert_int_equal(pd.state, MAILDIR_PENDING_NONE);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	assert_int_equal(count_files(f->mb, "new"), 0);
	maildir_abort(&pd);	/* a no-op */
}

static void
test_steps_abort_prepared_removes_tmp_file(void **state)
{
	struct fx		*f = *state;
	struct maildir_pending	 pd;

	create(f->mb);
	prepare(f->mb, MSG, sizeof(MSG) - 1, &pd);
	assert_int_equal(count_files(f->mb, "tmp"), 1);
	maildir_abort(&pd);
	assert_int_equal(pd.state, MAILDIR_PENDING_NONE);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	assert_int_equal(count_files(f->mb, "new"), 0);
	maildir_abort(&pd);
	assert_int_equal(pd.state, MAILDIR_PENDING_NONE);
}

/* A committed but unsynced message (new/'s sync failed) is taken back. */
static void
test_steps_abort_committed_removes_new_file(void **state)
{
	struct fx		*f = *state;
	struct maildir_pending	 pd;
	const char		*err = NULL;

	create(f->mb);
	prepare(f->mb, MSG, sizeof(MSG) - 1, &pd);
	assert_int_equal(maildir_commit(&pd, &err), 0);
	assert_int_equal(count_files(f->mb, "new"), 1);
	maildir_abort(&pd);
	assert_int_equal(pd.state, MAILDIR_PENDING_NONE);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	assert_int_equal(count_files(f->mb, "new"), 0);
}

/* A name taken in new/ is never replaced; the tmp file goes. */
static void
test_steps_commit_never_replaces(void **state)
{
	struct fx		*f = *state;
	struct maildir_pending	 pd;
	struct buf		 content;
	const char		*err = NULL;

	create(f->mb);
	prepare(f->mb, MSG, sizeof(MSG) - 1, &pd);
	spit(pd.newpath, "old", 3);
	assert_int_equal(maildir_commit(&pd, &err), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(err);
	assert_int_equal(pd.state, MAILDIR_PENDING_NONE);
	assert_int_equal(count_files(f->mb, "tmp"), 0);
	slurp(pd.newpath, &content);
	assert_int_equal(content.len, 3);
	buf_free(&content);
}

static void
test_steps_commit_unprepared_is_einval(void **state)
{
	struct maildir_pending	 pd;
	const char		*err = NULL;

	(void)state;
	memset(&pd, 0, sizeof(pd));
	assert_int_equal(maildir_commit(&pd, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pd.state, MAILDIR_PENDING_NONE);
}

static void
test_steps_sync_of_missing_maildir_fails(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL;

	assert_int_equal(maildir_sync_new(f->mb, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(err);
}

/* --- create ------------------------------------------------------------ */

static void
assert_maildir(const char *dir)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char		 p[PATH_MAX];
	struct stat	 st;
	size_t		 i;

	for (i = 0; i < 3; i++) {
		mkpath(p, sizeof(p), dir, subs[i], NULL);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0700);
	}
}

static void
test_create_is_idempotent_with_folders(void **state)
{
	static const char *const folders[] = {
		".Sent", ".Drafts", ".Junk", ".Trash", ".Archive"
	};
	struct fx	*f = *state;
	char		 p[PATH_MAX], name[MAILDIR_NAME_MAX + 1];
	struct stat	 st;
	size_t		 i;

	create(f->mb);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, name);
	create(f->mb);
	assert_true(exists(f->mb, "new", name));	/* left alone */
	assert_maildir(f->mb);
	assert_int_equal(stat(f->mb, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	mkpath(p, sizeof(p), f->dir, "example.org", NULL);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		mkpath(p, sizeof(p), f->mb, folders[i], NULL);
		assert_maildir(p);
		assert_true(exists(p, "maildirfolder", NULL));
	}
	assert_false(exists(f->mb, "maildirfolder", NULL));
}

static void
test_create_concurrent(void **state)
{
	struct fx	*f = *state;
	pid_t		 pids[6];
	size_t		 i;
	int		 status;

	for (i = 0; i < 6; i++) {
		if ((pids[i] = fork()) == 0)
			_exit(maildir_create(f->mb, NULL) == 0 ? 0 : 1);
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 6; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_maildir(f->mb);
}

static void
test_create_fails_on_a_file(void **state)
{
	struct fx	*f = *state;
	char		 p[PATH_MAX];
	const char	*err = NULL;

	mkpath(p, sizeof(p), f->dir, "example.org", NULL);
	spit(p, "x", 1);
	assert_int_equal(maildir_create(f->mb, &err), -1);
	assert_non_null(err);
}

/* --- list -------------------------------------------------------------- */

static void
test_list_assigns_uids_in_arrival_order(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 a[MAILDIR_NAME_MAX + 1];
	char			 b[MAILDIR_NAME_MAX + 1];
	char			 c[MAILDIR_NAME_MAX + 1];
	time_t			 now = time(NULL);

	create(f->mb);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, a);
	deliver(f->mb, NULL, "x\n", 2, b);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, c);
	/* Arrival is mtime: b first, then c, then a. */
	set_mtime(f->mb, "new", b, now - 30);
	set_mtime(f->mb, "new", c, now - 20);
	set_mtime(f->mb, "new", a, now - 10);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 3);
	assert_true(l.uidvalidity != 0);
	assert_int_equal(l.uidnext, 4);
	assert_string_equal(l.entries[0].name, b);
	assert_string_equal(l.entries[1].name, c);
	assert_string_equal(l.entries[2].name, a);
	assert_int_equal(l.entries[0].uid, 1);
	assert_int_equal(l.entries[1].uid, 2);
	assert_int_equal(l.entries[2].uid, 3);
	assert_true(l.entries[0].in_new);
	assert_int_equal(l.entries[0].size, 2);
	assert_int_equal(l.entries[0].size_crlf, 3);
	assert_int_equal(l.entries[1].size, sizeof(MSG) - 1 - 3);
	assert_int_equal(l.entries[1].size_crlf, sizeof(MSG) - 1);
	assert_int_equal(l.entries[0].mtime, now - 30);
	assert_string_equal(l.entries[0].flags, "");
	maildir_list_free(&l);
	assert_null(l.entries);
	maildir_list_free(NULL);
}

static void
test_list_same_mtime_orders_by_name(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;

	create(f->mb);
	foreign(f->mb, "new", "2.b.host", "x\n", 1000000000);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000000000);
	foreign(f->mb, "cur", "0.z.host:2,S", "x\n", 999999999);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 3);
	assert_string_equal(l.entries[0].name, "0.z.host:2,S");
	assert_string_equal(l.entries[1].name, "1.a.host");
	assert_string_equal(l.entries[2].name, "2.b.host");
	maildir_list_free(&l);
}

static void
test_list_keeps_uids_and_uidvalidity(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l1, l2;
	char			 a[MAILDIR_NAME_MAX + 1];
	char			 b[MAILDIR_NAME_MAX + 1];
	char			 c[MAILDIR_NAME_MAX + 1];
	uint32_t		 uv;

	create(f->mb);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, a);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, b);
	set_mtime(f->mb, "new", a, time(NULL) - 100);
	list(f->mb, &l1);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, c);
	/* Older than the others, but it came later: it gets the next UID. */
	set_mtime(f->mb, "new", c, time(NULL) - 1000);
	list(f->mb, &l2);
	assert_int_equal(l1.uidvalidity, l2.uidvalidity);
	assert_int_equal(l2.nentries, 3);
	assert_int_equal(find_entry(&l2, a)->uid, find_entry(&l1, a)->uid);
	assert_int_equal(find_entry(&l2, b)->uid, find_entry(&l1, b)->uid);
	assert_int_equal(find_entry(&l2, c)->uid, 3);
	assert_int_equal(l2.uidnext, 4);
	uv = l2.uidvalidity;
	maildir_list_free(&l1);
	maildir_list_free(&l2);
	list(f->mb, &l1);
	assert_int_equal(l1.uidvalidity, uv);
	maildir_list_free(&l1);
}

static void
test_list_empty_folder_creates_uidlist(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l1, l2;
	char			 p[PATH_MAX];
	time_t			 now = time(NULL);

	create(f->mb);
	list(f->mb, &l1);
	assert_int_equal(l1.nentries, 0);
	assert_int_equal(l1.uidnext, 1);
	assert_true(l1.uidvalidity >= (uint32_t)now);
	uidlist_path(f->mb, p, sizeof(p));
	assert_int_equal(access(p, F_OK), 0);
	list(f->mb, &l2);
	assert_int_equal(l1.uidvalidity, l2.uidvalidity);
	maildir_list_free(&l1);
	maildir_list_free(&l2);
}

static void
test_list_drops_removed_files(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 a[MAILDIR_NAME_MAX + 1];
	char			 b[MAILDIR_NAME_MAX + 1];
	char			 p[PATH_MAX];
	struct buf		 u;

	create(f->mb);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, a);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, b);
	set_mtime(f->mb, "new", a, time(NULL) - 100);
	list(f->mb, &l);
	maildir_list_free(&l);
	mkpath(p, sizeof(p), f->mb, "new", a);
	assert_int_equal(unlink(p), 0);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 1);
	assert_string_equal(l.entries[0].name, b);
	assert_int_equal(l.entries[0].uid, 2);
	assert_int_equal(l.uidnext, 3);
	maildir_list_free(&l);
	uidlist_path(f->mb, p, sizeof(p));
	slurp(p, &u);
	*strchr(a, ',') = '\0';
	assert_null(strstr(u.data, a));
	buf_free(&u);
}

static void
test_list_flags_and_places(void **state)
{
	struct fx			*f = *state;
	struct maildir_list		 l;
	const struct maildir_entry	*e;

	create(f->mb);
	foreign(f->mb, "cur", "1.a.host:2,TSRS", "x\n", 1000);
	foreign(f->mb, "cur", "2.b.host:2,", "x\n", 1001);
	foreign(f->mb, "cur", "3.c.host:1,weird", "x\n", 1002);
	foreign(f->mb, "new", "4.d.host", "x\n", 1003);
	foreign(f->mb, "cur", "5.e.host:2,abcdefghijklmnopqrstuvwxyzABCDEFGH",
	    "x\n", 1004);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 5);
	e = find_entry(&l, "1.a.host:2,TSRS");
	assert_string_equal(e->flags, "RST");
	assert_false(e->in_new);
	assert_string_equal(find_entry(&l, "2.b.host:2,")->flags, "");
	assert_string_equal(find_entry(&l, "3.c.host:1,weird")->flags, "");
	assert_true(find_entry(&l, "4.d.host")->in_new);
	/* 34 flags: the first 31 in ASCII order are kept. */
	assert_string_equal(find_entry(&l,
	    "5.e.host:2,abcdefghijklmnopqrstuvwxyzABCDEFGH")->flags,
	    "ABCDEFGHabcdefghijklmnopqrstuvw");
	maildir_list_free(&l);
}

static void
test_list_skips_hidden_odd_and_non_files(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 p[PATH_MAX];

	create(f->mb);
	foreign(f->mb, "new", ".hidden", "x\n", 1000);
	foreign(f->mb, "new", "bad\001name", "x\n", 1000);
	foreign(f->mb, "new", "bad\nname", "x\n", 1000);
	foreign(f->mb, "cur", "ok.host:2,S", "x\n", 1000);
	mkpath(p, sizeof(p), f->mb, "cur", "adir");
	assert_int_equal(mkdir(p, 0700), 0);
	mkpath(p, sizeof(p), f->mb, "cur", "alink");
	assert_int_equal(symlink("/etc/passwd", p), 0);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 1);
	assert_string_equal(l.entries[0].name, "ok.host:2,S");
	maildir_list_free(&l);
}

/*
 * maildir_claim_new(): every regular message of new/ goes to cur/ with
 * ":2," and the flags its name had, under the same UID; hidden and odd
 * names and what is no file stay; the base names moved come back.
 */
static void
test_claim_new_moves_all_to_cur(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	struct buf		 moved;
	const char		*err = NULL;
	char			 p[PATH_MAX];
	uint32_t		 uid;

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	foreign(f->mb, "new", "2.b.host,S=2,W=3", "y\n", 1001);
	foreign(f->mb, "new", "3.c.host:2,TS", "z\n", 1002);
	foreign(f->mb, "new", ".hidden", "x\n", 1000);
	foreign(f->mb, "new", "bad\001name", "x\n", 1000);
	mkpath(p, sizeof(p), f->mb, "new", "adir");
	assert_int_equal(mkdir(p, 0700), 0);
	list(f->mb, &l);
	uid = find_entry(&l, "2.b.host,S=2,W=3")->uid;
	maildir_list_free(&l);

	buf_init(&moved, 1 << 16);
	assert_int_equal(maildir_claim_new(f->mb, &moved, &err), 3);
	assert_true(exists(f->mb, "cur", "1.a.host:2,"));
	assert_true(exists(f->mb, "cur", "2.b.host,S=2,W=3:2,"));
	assert_true(exists(f->mb, "cur", "3.c.host:2,ST"));
	assert_int_equal(count_files(f->mb, "new"), 3);	/* the odd ones */
	assert_true(exists(f->mb, "new", ".hidden"));
	/* three NUL-terminated base names, in any order */
	assert_int_equal(moved.len, sizeof("1.a.host") +
	    sizeof("2.b.host,S=2,W=3") + sizeof("3.c.host"));
	assert_non_null(memmem(moved.data, moved.len, "1.a.host\0", 9));
	assert_non_null(memmem(moved.data, moved.len, "3.c.host\0", 9));
	buf_free(&moved);

	list(f->mb, &l);
	assert_int_equal(l.nentries, 3);
	assert_int_equal(find_entry(&l, "2.b.host,S=2,W=3:2,")->uid, uid);
	assert_false(find_entry(&l, "1.a.host:2,")->in_new);
	maildir_list_free(&l);

	/* nothing left to take; a folder that is not there fails */
	assert_int_equal(maildir_claim_new(f->mb, NULL, &err), 0);
	mkpath(p, sizeof(p), f->mb, ".Nope", NULL);
	assert_int_equal(maildir_claim_new(p, NULL, &err), -1);
}

/* The same message in new/ and cur/ (a move seen twice) is listed once. */
static void
test_list_same_base_in_new_and_cur_once(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;

	create(f->mb);
	foreign(f->mb, "new", "7.x.host", "x\n", 1000);
	foreign(f->mb, "cur", "7.x.host:2,S", "x\n", 1000);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 1);
	assert_string_equal(l.entries[0].name, "7.x.host:2,S");
	assert_false(l.entries[0].in_new);
	maildir_list_free(&l);
}

/* A flag change by another program keeps the UID (same base name). */
static void
test_list_rename_keeps_uid(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 from[PATH_MAX], to[PATH_MAX];

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	foreign(f->mb, "new", "2.b.host", "x\n", 1001);
	list(f->mb, &l);
	maildir_list_free(&l);
	mkpath(from, sizeof(from), f->mb, "new", "1.a.host");
	mkpath(to, sizeof(to), f->mb, "cur", "1.a.host:2,S");
	assert_int_equal(rename(from, to), 0);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 2);
	assert_int_equal(find_entry(&l, "1.a.host:2,S")->uid, 1);
	assert_int_equal(find_entry(&l, "2.b.host")->uid, 2);
	maildir_list_free(&l);
}

/* size_crlf is counted once and cached in the uidlist. */
static void
test_list_caches_crlf_size(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 p[PATH_MAX];
	struct buf		 u;
	uint32_t		 uv;
	char			 text[256];

	create(f->mb);
	/* "a\n" bare, "b\r\n" already CRLF, "c\rd\n" bare: 9 -> 11 */
	foreign(f->mb, "new", "1.a.host", "a\nb\r\nc\rd\n", 1000);
	list(f->mb, &l);
	assert_int_equal(l.entries[0].size, 9);
	assert_int_equal(l.entries[0].size_crlf, 11);
	uv = l.uidvalidity;
	maildir_list_free(&l);
	uidlist_path(f->mb, p, sizeof(p));
	slurp(p, &u);
	(void)snprintf(text, sizeof(text),
	    "cachet-uidlist 1 %" PRIu32 " 2\n1 9 11 1.a.host\n", uv);
	assert_string_equal(u.data, text);
	buf_free(&u);
	/* A cached value is believed while the size matches ... */
	(void)snprintf(text, sizeof(text),
	    "cachet-uidlist 1 %" PRIu32 " 2\n1 9 17 1.a.host\n", uv);
	spit(p, text, strlen(text));
	list(f->mb, &l);
	assert_int_equal(l.entries[0].size_crlf, 17);
	assert_int_equal(l.entries[0].uid, 1);
	maildir_list_free(&l);
	/* ... and counted again when it does not. */
	(void)snprintf(text, sizeof(text),
	    "cachet-uidlist 1 %" PRIu32 " 2\n1 8 16 1.a.host\n", uv);
	spit(p, text, strlen(text));
	list(f->mb, &l);
	assert_int_equal(l.entries[0].size_crlf, 11);
	assert_int_equal(l.entries[0].uid, 1);
	assert_int_equal(l.uidvalidity, uv);
	maildir_list_free(&l);
}

/* Delivered names carry S= and W=: listing needs not read the file. */
static void
test_list_takes_crlf_size_from_name(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;

	create(f->mb);
	/* W= that the content does not match shows that it was used. */
	foreign(f->mb, "new", "1.a.host,S=2,W=4", "x\n", 1000);
	/* S= that disagrees with the file: counted instead. */
	foreign(f->mb, "new", "2.b.host,S=5,W=6", "x\n", 1001);
	list(f->mb, &l);
	assert_int_equal(find_entry(&l, "1.a.host,S=2,W=4")->size_crlf, 4);
	assert_int_equal(find_entry(&l, "2.b.host,S=5,W=6")->size_crlf, 3);
	maildir_list_free(&l);
}

/* Corrupt uidlists: each must be rebuilt with a larger UIDVALIDITY. */
static const struct {
	const char	*name;
	const char	*text;	/* %u: the valid UIDVALIDITY */
	const char	*tail;	/* bytes after it, NUL included */
	size_t		 taillen;
} corrupt_cases[] = {
	{ "garbage", "\x7f" "ELF\x01\x02 not a uidlist at all", NULL, 0 },
	{ "empty", "", NULL, 0 },
	{ "header_only_magic", "cachet-uidlist 1 ", NULL, 0 },
	{ "wrong_version",
	    "cachet-uidlist 2 %u 3\n1 2 3 1.a.host\n", NULL, 0 },
	{ "no_final_newline",
	    "cachet-uidlist 1 %u 3\n1 2 3 1.a.host", NULL, 0 },
	{ "uid_zero",
	    "cachet-uidlist 1 %u 3\n0 2 3 1.a.host\n", NULL, 0 },
	{ "uid_not_below_uidnext",
	    "cachet-uidlist 1 %u 2\n2 2 3 1.a.host\n", NULL, 0 },
	{ "uids_not_increasing",
	    "cachet-uidlist 1 %u 5\n2 2 3 1.a.host\n1 2 3 2.b.host\n",
	    NULL, 0 },
	{ "duplicate_uid",
	    "cachet-uidlist 1 %u 5\n1 2 3 1.a.host\n1 2 3 2.b.host\n",
	    NULL, 0 },
	{ "duplicate_base",
	    "cachet-uidlist 1 %u 5\n1 2 3 1.a.host\n2 2 3 1.a.host\n",
	    NULL, 0 },
	{ "crlf_below_size",
	    "cachet-uidlist 1 %u 3\n1 2 1 1.a.host\n", NULL, 0 },
	{ "crlf_above_double",
	    "cachet-uidlist 1 %u 3\n1 2 5 1.a.host\n", NULL, 0 },
	{ "leading_zero",
	    "cachet-uidlist 1 %u 3\n01 2 3 1.a.host\n", NULL, 0 },
	{ "two_spaces",
	    "cachet-uidlist 1 %u 3\n1  2 3 1.a.host\n", NULL, 0 },
	{ "slash_in_base", "cachet-uidlist 1 %u 3\n1 2 3 ../x\n", NULL, 0 },
	{ "control_in_base", "cachet-uidlist 1 %u 3\n1 2 3 a\tb\n", NULL, 0 },
	{ "empty_base", "cachet-uidlist 1 %u 3\n1 2 3 \n", NULL, 0 },
	{ "uid_overflow",
	    "cachet-uidlist 1 %u 3\n99999999999999999999999 2 3 1.a.host\n",
	    NULL, 0 },
	{ "nul_in_record",
	    "cachet-uidlist 1 %u 3\n1 2 3 1.a", "\0host\n", 6 },
};

/* tmpl with its "%u" replaced by uv; returns the length. */
static size_t
fill_uv(char *out, size_t outsz, const char *tmpl, uint32_t uv)
{
	const char	*pct = strstr(tmpl, "%u");
	int		 n;

	if (pct == NULL)
		n = snprintf(out, outsz, "%s", tmpl);
	else
		n = snprintf(out, outsz, "%.*s%" PRIu32 "%s",
		    (int)(pct - tmpl), tmpl, uv, pct + 2);
	assert_true(n >= 0 && (size_t)n < outsz);
	return (size_t)n;
}

static void
test_list_rebuilds_corrupt_uidlist(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 p[PATH_MAX], text[512];
	uint32_t		 uv;
	size_t			 i, len;

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	foreign(f->mb, "new", "2.b.host", "x\n", 1001);
	uidlist_path(f->mb, p, sizeof(p));
	list(f->mb, &l);
	uv = l.uidvalidity;
	maildir_list_free(&l);
	for (i = 0; i < sizeof(corrupt_cases) / sizeof(corrupt_cases[0]);
	    i++) {
		len = fill_uv(text, sizeof(text), corrupt_cases[i].text, uv);
		if (corrupt_cases[i].tail != NULL) {
			memcpy(text + len, corrupt_cases[i].tail,
			    corrupt_cases[i].taillen);
			len += corrupt_cases[i].taillen;
		}
		spit(p, text, len);
		list(f->mb, &l);
		if (l.uidvalidity <= uv)
			fail_msg("%s: uidvalidity %" PRIu32 " after %" PRIu32,
			    corrupt_cases[i].name, l.uidvalidity, uv);
		assert_int_equal(l.nentries, 2);
		assert_string_equal(l.entries[0].name, "1.a.host");
		assert_int_equal(l.entries[0].uid, 1);
		assert_int_equal(l.entries[1].uid, 2);
		assert_int_equal(l.uidnext, 3);
		uv = l.uidvalidity;
		maildir_list_free(&l);
		/* And the rebuilt one is good: no new UIDVALIDITY now. */
		list(f->mb, &l);
		assert_int_equal(l.uidvalidity, uv);
		maildir_list_free(&l);
	}
}

static void
test_list_uid_exhaustion_renumbers(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 p[PATH_MAX], text[256];

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	foreign(f->mb, "new", "2.b.host", "x\n", 1001);
	uidlist_path(f->mb, p, sizeof(p));
	(void)snprintf(text, sizeof(text),
	    "cachet-uidlist 1 7 4294967295\n4294967294 2 4 1.a.host\n");
	spit(p, text, strlen(text));
	list(f->mb, &l);
	assert_true(l.uidvalidity > 7);
	assert_int_equal(l.nentries, 2);
	assert_int_equal(l.entries[0].uid, 1);
	assert_int_equal(l.entries[1].uid, 2);
	assert_int_equal(l.uidnext, 3);
	maildir_list_free(&l);
}

/*
 * When the uidlist cannot be written (a full disk, played by
 * RLIMIT_FSIZE), known UIDs stay, new files come last with UID 0, and
 * they get real UIDs once the disk has room again.
 */
static void
test_list_unwritable_uidlist_gives_uid_zero(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	struct rlimit		 old, lim;
	uint32_t		 uv;
	int			 r;

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	foreign(f->mb, "new", "2.b.host", "x\n", 1001);
	list(f->mb, &l);
	uv = l.uidvalidity;
	maildir_list_free(&l);
	foreign(f->mb, "new", "0.c.host", "x\n", 999);
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 40;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = maildir_list(f->mb, &l, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, 0);
	assert_int_equal(l.nentries, 3);
	assert_int_equal(l.uidvalidity, uv);
	assert_int_equal(l.uidnext, 3);
	assert_string_equal(l.entries[0].name, "1.a.host");
	assert_int_equal(l.entries[0].uid, 1);
	assert_int_equal(l.entries[1].uid, 2);
	assert_string_equal(l.entries[2].name, "0.c.host");
	assert_int_equal(l.entries[2].uid, 0);
	maildir_list_free(&l);
	assert_false(exists(f->mb, "cachet-uidlist.tmp", NULL));
	list(f->mb, &l);
	assert_string_equal(l.entries[2].name, "0.c.host");
	assert_int_equal(l.entries[2].uid, 3);
	assert_int_equal(l.uidvalidity, uv);
	maildir_list_free(&l);
}

/* Three processes deliver and list at once: every UID is unique. */
static void
test_list_concurrent_processes(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	pid_t			 pids[3];
	size_t			 i, j;
	int			 status, fd, bad;
	bool			 seen[16] = { false };

	create(f->mb);
	for (i = 0; i < 3; i++) {
		if ((pids[i] = fork()) == 0) {
			bad = 0;
			for (j = 0; j < 5; j++) {
				fd = testutil_memfd(MSG, sizeof(MSG) - 1);
				if (maildir_deliver(f->mb, NULL, 0, fd,
				    sizeof(MSG) - 1, NULL, 0, NULL) != 0 ||
				    maildir_list(f->mb, &l, NULL) != 0)
					bad = 1;
				else
					maildir_list_free(&l);
				close(fd);
			}
			_exit(bad);
		}
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	list(f->mb, &l);
	assert_int_equal(l.nentries, 15);
	assert_int_equal(l.uidnext, 16);
	for (i = 0; i < l.nentries; i++) {
		assert_true(l.entries[i].uid >= 1 && l.entries[i].uid <= 15);
		assert_false(seen[l.entries[i].uid]);
		seen[l.entries[i].uid] = true;
	}
	maildir_list_free(&l);
}

static void
test_list_missing_folder_fails(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	const char		*err = NULL;

	assert_int_equal(maildir_list(f->mb, &l, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(err);
	assert_null(l.entries);
	assert_int_equal(l.nentries, 0);
}

/* --- open, flags, remove ----------------------------------------------- */

static void
test_open_reads_and_follows_moves(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 name[MAILDIR_NAME_MAX + 1], buf[64];
	char			 from[PATH_MAX], to[PATH_MAX];
	int			 fd;

	create(f->mb);
	deliver(f->mb, NULL, "abc\r\n", 5, name);
	list(f->mb, &l);
	assert_int_equal(maildir_open(f->mb, &l.entries[0], &fd, NULL), 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "abc\n", 4);
	close(fd);
	/* Another reader moved it to cur/ with flags. */
	mkpath(from, sizeof(from), f->mb, "new", name);
	(void)snprintf(buf, sizeof(buf), "%s:2,S", name);
	mkpath(to, sizeof(to), f->mb, "cur", buf);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(maildir_open(f->mb, &l.entries[0], &fd, NULL), 0);
	close(fd);
	assert_int_equal(unlink(to), 0);
	assert_int_equal(maildir_open(f->mb, &l.entries[0], &fd, NULL), -1);
	assert_int_equal(errno, ENOENT);
	maildir_list_free(&l);
}

static void
test_entry_with_slash_is_refused(void **state)
{
	struct fx		*f = *state;
	struct maildir_entry	 e;
	int			 fd;

	create(f->mb);
	memset(&e, 0, sizeof(e));
	(void)str_copy(e.name, sizeof(e.name), "../../../etc/passwd");
	assert_int_equal(maildir_open(f->mb, &e, &fd, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(maildir_remove(f->mb, &e, NULL), -1);
	assert_int_equal(maildir_set_flags(f->mb, &e, "S", NULL), -1);
}

static void
test_set_flags_moves_to_cur_sorted(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	struct maildir_entry	 e;
	char			 name[MAILDIR_NAME_MAX + 1], want[300];

	create(f->mb);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, name);
	list(f->mb, &l);
	e = l.entries[0];
	maildir_list_free(&l);
	assert_int_equal(maildir_set_flags(f->mb, &e, "SRFS", NULL), 0);
	(void)snprintf(want, sizeof(want), "%s:2,FRS", name);
	assert_string_equal(e.name, want);
	assert_string_equal(e.flags, "FRS");
	assert_false(e.in_new);
	assert_true(exists(f->mb, "cur", want));
	assert_int_equal(count_files(f->mb, "new"), 0);
	/* Again with other flags, from cur/ this time. */
	assert_int_equal(maildir_set_flags(f->mb, &e, "aS", NULL), 0);
	(void)snprintf(want, sizeof(want), "%s:2,Sa", name);
	assert_string_equal(e.name, want);
	assert_int_equal(count_files(f->mb, "cur"), 1);
	/* Clearing all flags keeps ":2,". */
	assert_int_equal(maildir_set_flags(f->mb, &e, "", NULL), 0);
	(void)snprintf(want, sizeof(want), "%s:2,", name);
	assert_string_equal(e.name, want);
	assert_true(exists(f->mb, "cur", want));
	/* The same flags: nothing to do. */
	assert_int_equal(maildir_set_flags(f->mb, &e, "", NULL), 0);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 1);
	assert_int_equal(l.entries[0].uid, 1);
	assert_string_equal(l.entries[0].name, want);
	maildir_list_free(&l);
}

static void
test_set_flags_rejects_bad_flags(void **state)
{
	static const char *const bad[] = { "S1", "S ", "\\Seen", "S,", ":" };
	struct fx		*f = *state;
	struct maildir_list	 l;
	const char		*err;
	size_t			 i;

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	list(f->mb, &l);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(maildir_set_flags(f->mb, &l.entries[0],
		    bad[i], &err), -1);
		assert_int_equal(errno, EINVAL);
		assert_non_null(err);
	}
	assert_true(exists(f->mb, "new", "1.a.host"));
	maildir_list_free(&l);
}

static void
test_set_flags_finds_moved_file(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	struct maildir_entry	 e;
	char			 from[PATH_MAX], to[PATH_MAX];

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	list(f->mb, &l);
	e = l.entries[0];
	maildir_list_free(&l);
	mkpath(from, sizeof(from), f->mb, "new", "1.a.host");
	mkpath(to, sizeof(to), f->mb, "cur", "1.a.host:2,S");
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(maildir_set_flags(f->mb, &e, "ST", NULL), 0);
	assert_string_equal(e.name, "1.a.host:2,ST");
	assert_true(exists(f->mb, "cur", "1.a.host:2,ST"));
	assert_int_equal(count_files(f->mb, "cur"), 1);
	/* Moved to exactly the flags asked for: nothing left to do. */
	e.in_new = true;
	(void)str_copy(e.name, sizeof(e.name), "1.a.host");
	assert_int_equal(maildir_set_flags(f->mb, &e, "TS", NULL), 0);
	assert_true(exists(f->mb, "cur", "1.a.host:2,ST"));
	/* Gone for good. */
	mkpath(to, sizeof(to), f->mb, "cur", "1.a.host:2,ST");
	assert_int_equal(unlink(to), 0);
	assert_int_equal(maildir_set_flags(f->mb, &e, "S", NULL), -1);
	assert_int_equal(errno, ENOENT);
}

/*
 * With the folder's lock held, as a reader flagging a batch does: no
 * second lock is taken (an OFD lock of another open file would wait for
 * ours for ever: the alarm ends such a test), and the lock is free after.
 */
static void
test_set_flags_locked_takes_no_lock(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 name[MAILDIR_NAME_MAX + 1];
	size_t			 i;
	int			 lockfd;

	create(f->mb);
	for (i = 0; i < 3; i++)
		deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, name);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 3);
	assert_true((lockfd = maildir_lock_folder(f->mb)) != -1);
	(void)alarm(10);
	for (i = 0; i < l.nentries; i++) {
		assert_int_equal(maildir_set_flags_locked(f->mb,
		    &l.entries[i], "S", NULL), 0);
		assert_false(l.entries[i].in_new);
		assert_true(exists(f->mb, "cur", l.entries[i].name));
	}
	(void)alarm(0);
	maildir_unlock_folder(lockfd);
	assert_int_equal(count_files(f->mb, "new"), 0);
	assert_int_equal(count_files(f->mb, "cur"), 3);
	maildir_list_free(&l);
	/* Given back: a listing (which locks) goes on. */
	list(f->mb, &l);
	assert_int_equal(l.nentries, 3);
	for (i = 0; i < l.nentries; i++)
		assert_string_equal(l.entries[i].flags, "S");
	maildir_list_free(&l);
}

/*
 * Through the held directories: by name, and by the paths when the file
 * moved after the listing (another reader flagged it).
 */
static void
test_dirs_open_and_flag_by_name(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	struct maildir_dirs	 d;
	struct maildir_entry	 a, b;
	char			 name[MAILDIR_NAME_MAX + 1];
	char			 from[PATH_MAX], to[PATH_MAX], buf[64];
	int			 fd, lockfd;
	ssize_t			 n;

	create(f->mb);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, name);
	deliver(f->mb, NULL, MSG, sizeof(MSG) - 1, name);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 2);
	a = l.entries[0];
	b = l.entries[1];
	maildir_list_free(&l);
	assert_int_equal(maildir_dirs_open(f->mb, &d), 0);
	assert_true(d.newfd != -1 && d.curfd != -1);
	assert_int_equal(maildir_open_in(&d, f->mb, &a, &fd, NULL), 0);
	n = read(fd, buf, sizeof(buf));
	/* stored with LF line ends */
	assert_int_equal(n, 20);
	assert_memory_equal(buf, "Subject: hi\n\nHello.\n", 20);
	(void)close(fd);
	/* b moves to cur/ behind our back */
	mkpath(from, sizeof(from), f->mb, "new", b.name);
	(void)snprintf(name, sizeof(name), "%s:2,F", b.name);
	mkpath(to, sizeof(to), f->mb, "cur", name);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(maildir_open_in(&d, f->mb, &b, &fd, NULL), 0);
	(void)close(fd);
	assert_true((lockfd = maildir_lock_folder(f->mb)) != -1);
	assert_int_equal(maildir_set_flags_in(&d, f->mb, &a, "S", NULL), 0);
	assert_int_equal(maildir_set_flags_in(&d, f->mb, &b, "FS", NULL), 0);
	maildir_unlock_folder(lockfd);
	assert_true(exists(f->mb, "cur", a.name));
	assert_true(exists(f->mb, "cur", b.name));
	assert_int_equal(count_files(f->mb, "new"), 0);
	assert_int_equal(count_files(f->mb, "cur"), 2);
	maildir_dirs_close(&d);
	assert_true(d.newfd == -1 && d.curfd == -1);
	/* closed ones: the paths */
	assert_int_equal(maildir_open_in(&d, f->mb, &a, &fd, NULL), 0);
	(void)close(fd);
}

static void
test_remove_and_remove_again(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	foreign(f->mb, "new", "2.b.host", "x\n", 1001);
	list(f->mb, &l);
	assert_int_equal(maildir_remove(f->mb, &l.entries[0], NULL), 0);
	assert_false(exists(f->mb, "new", "1.a.host"));
	assert_int_equal(maildir_remove(f->mb, &l.entries[0], NULL), 0);
	maildir_list_free(&l);
	list(f->mb, &l);
	assert_int_equal(l.nentries, 1);
	assert_int_equal(l.entries[0].uid, 2);
	maildir_list_free(&l);
}

static void
test_remove_finds_moved_file(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 from[PATH_MAX], to[PATH_MAX];

	create(f->mb);
	foreign(f->mb, "new", "1.a.host", "x\n", 1000);
	foreign(f->mb, "cur", "1.ab.host:2,S", "x\n", 1000);
	list(f->mb, &l);
	mkpath(from, sizeof(from), f->mb, "new", "1.a.host");
	mkpath(to, sizeof(to), f->mb, "cur", "1.a.host:2,RS");
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(maildir_remove(f->mb, find_entry(&l, "1.a.host"),
	    NULL), 0);
	assert_false(exists(f->mb, "cur", "1.a.host:2,RS"));
	/* A longer name that starts the same is another message. */
	assert_true(exists(f->mb, "cur", "1.ab.host:2,S"));
	maildir_list_free(&l);
}

/* --- usage ------------------------------------------------------------- */

static void
test_usage_sums_folders(void **state)
{
	struct fx	*f = *state;
	char		 name[MAILDIR_NAME_MAX + 1], p[PATH_MAX];
	uint64_t	 bytes = 0;

	create(f->mb);
	assert_int_equal(maildir_usage(f->mb, &bytes, NULL), 0);
	assert_int_equal(bytes, 0);
	deliver(f->mb, NULL, "abc\r\n", 5, name);		/* 4 */
	deliver(f->mb, NULL, "abcdefgh", 8, name);		/* 8 */
	mkpath(p, sizeof(p), f->mb, ".Sent", NULL);
	deliver(p, NULL, "0123456789", 10, name);		/* 10 */
	foreign(p, "cur", "1.a.host:2,S", "twelve bytes", 1000);	/* 12 */
	/* ",S=" is believed: no stat for Maildir++ names. */
	foreign(f->mb, "cur", "2.b.host,S=1000:2,S", "x", 1000);
	/* tmp/ and files beside the folders do not count. */
	foreign(f->mb, "tmp", "3.c.host", "xxxxxxxxxxxxxxxxxxxxxxxxx", 1000);
	mkpath(p, sizeof(p), f->mb, "cachet-uidlist", NULL);
	spit(p, "xxxxxxxx", 8);
	assert_int_equal(maildir_usage(f->mb, &bytes, NULL), 0);
	assert_int_equal(bytes, 4 + 8 + 10 + 12 + 1000);
}

/* --- the uidlist parser ------------------------------------------------ */

static void
test_uidlist_parse_and_format_round_trip(void **state)
{
	static const char text[] =
	    "cachet-uidlist 1 1700000000 10\n"
	    "1 0 0 1.a.host\n"
	    "3 10 12 1700000001.M1P2Q3.mail.example.org,S=10,W=12\n"
	    "9 5 5 name with spaces \xc3\xa9\n";
	struct maildir_uidlist	 ul;
	struct buf		 b;
	const char		*err = NULL;

	assert_int_equal(maildir_uidlist_parse(text, sizeof(text) - 1, &ul,
	    &err), 0);
	assert_int_equal(ul.uidvalidity, 1700000000);
	assert_int_equal(ul.uidnext, 10);
	assert_int_equal(ul.nrecs, 3);
	assert_int_equal(ul.recs[1].uid, 3);
	assert_int_equal(ul.recs[1].size, 10);
	assert_int_equal(ul.recs[1].size_crlf, 12);
	assert_string_equal(ul.recs[2].base, "name with spaces \xc3\xa9");
	assert_int_equal(ul.recs[2].baselen, 19);
	buf_init(&b, MAILDIR_UIDLIST_MAX);
	assert_int_equal(maildir_uidlist_format(&ul, &b), 0);
	assert_int_equal(b.len, sizeof(text) - 1);
	assert_memory_equal(b.data, text, b.len);
	buf_free(&b);
	maildir_uidlist_free(&ul);
	assert_null(ul.recs);
	maildir_uidlist_free(NULL);
}

static void
test_uidlist_parse_empty_list(void **state)
{
	static const char text[] = "cachet-uidlist 1 4294967295 4294967295\n";
	struct maildir_uidlist	ul;

	assert_int_equal(maildir_uidlist_parse(text, sizeof(text) - 1, &ul,
	    NULL), 0);
	assert_int_equal(ul.uidvalidity, UINT32_MAX);
	assert_int_equal(ul.uidnext, UINT32_MAX);
	assert_int_equal(ul.nrecs, 0);
	maildir_uidlist_free(&ul);
}

static const struct {
	const char	*name;
	const char	*text;
	uint32_t	 uidvalidity;	/* kept from a good header, else 0 */
} parse_bad[] = {
	{ "empty", "", 0 },
	{ "magic_only", "cachet-uidlist 1 ", 0 },
	{ "uidvalidity_zero", "cachet-uidlist 1 0 1\n", 0 },
	{ "uidnext_zero", "cachet-uidlist 1 5 0\n", 0 },
	{ "uidvalidity_too_big", "cachet-uidlist 1 4294967296 1\n", 0 },
	{ "header_no_newline", "cachet-uidlist 1 5 6", 0 },
	{ "header_trailing_space", "cachet-uidlist 1 5 6 \n", 0 },
	{ "header_crlf", "cachet-uidlist 1 5 6\r\n", 0 },
	{ "record_missing_field", "cachet-uidlist 1 5 6\n1 2 3\n", 5 },
	{ "record_no_base", "cachet-uidlist 1 5 6\n1 2 3 \n", 5 },
	{ "record_uid_max", "cachet-uidlist 1 5 4294967295\n"
	    "4294967295 2 3 a\n", 5 },
	{ "record_size_too_big", "cachet-uidlist 1 5 6\n"
	    "1 9223372036854775808 9223372036854775808 a\n", 5 },
	{ "record_dot_base", "cachet-uidlist 1 5 6\n1 2 3 .a\n", 5 },
	{ "record_colon_base", "cachet-uidlist 1 5 6\n1 2 3 a:2,S\n", 5 },
	{ "record_del_base", "cachet-uidlist 1 5 6\n1 2 3 a\x7f\n", 5 },
	{ "record_cr", "cachet-uidlist 1 5 6\n1 2 3 a\r\n", 5 },
	{ "record_plus", "cachet-uidlist 1 5 6\n+1 2 3 a\n", 5 },
	{ "record_negative", "cachet-uidlist 1 5 6\n1 -2 3 a\n", 5 },
	{ "blank_line", "cachet-uidlist 1 5 6\n\n", 5 },
	{ "truncated", "cachet-uidlist 1 5 6\n1 2 3 a\n2 2", 5 },
};

static void
test_uidlist_parse_rejects(void **state)
{
	struct maildir_uidlist	 ul;
	const char		*err;
	size_t			 i;

	for (i = 0; i < sizeof(parse_bad) / sizeof(parse_bad[0]); i++) {
		err = NULL;
		if (maildir_uidlist_parse(parse_bad[i].text,
		    strlen(parse_bad[i].text), &ul, &err) != -1)
			fail_msg("%s: accepted", parse_bad[i].name);
		assert_non_null(err);
		assert_null(ul.recs);
		assert_null(ul.text);
		assert_int_equal(ul.nrecs, 0);
		if (ul.uidvalidity != parse_bad[i].uidvalidity)
			fail_msg("%s: uidvalidity %" PRIu32,
			    parse_bad[i].name, ul.uidvalidity);
	}
}

/* A base name of MAILDIR_NAME_MAX bytes is fine, one more is not. */
static void
test_uidlist_parse_base_length(void **state)
{
	struct maildir_uidlist	 ul;
	struct buf		 b;
	size_t			 i;

	for (i = MAILDIR_NAME_MAX; i <= MAILDIR_NAME_MAX + 1; i++) {
		buf_init(&b, 4096);
		assert_int_equal(buf_printf(&b, "cachet-uidlist 1 5 6\n"
		    "1 2 3 "), 0);
		while (b.len < 27 + i)
			assert_int_equal(buf_append_char(&b, 'n'), 0);
		assert_int_equal(buf_append_char(&b, '\n'), 0);
		assert_int_equal(maildir_uidlist_parse(b.data, b.len, &ul,
		    NULL), i == MAILDIR_NAME_MAX ? 0 : -1);
		maildir_uidlist_free(&ul);
		buf_free(&b);
	}
}

/* --- folders and reader stores (IMAP) ----------------------------------- */

static void
test_folders_create_list_rename_delete(void **state)
{
	struct fx	*f = *state;
	char		**names = NULL, p[PATH_MAX];
	size_t		  n = 0;
	const char	 *err = NULL;

	assert_int_equal(maildir_create(f->mb, &err), 0);
	assert_int_equal(maildir_folder_create(f->mb, "Work", &err), 0);
	assert_int_equal(maildir_folder_create(f->mb, "Work.2025", &err), 0);
	assert_int_equal(maildir_folder_create(f->mb, "Work", &err), -1);
	assert_int_equal(errno, EEXIST);
	/* no path tricks */
	assert_int_equal(maildir_folder_create(f->mb, "../x", &err), -1);
	assert_int_equal(maildir_folder_create(f->mb, ".x", &err), -1);
	assert_int_equal(maildir_folder_create(f->mb, "a/b", &err), -1);
	assert_int_equal(maildir_folders(f->mb, &names, &n, &err), 0);
	assert_int_equal(n, 7);
	assert_string_equal(names[0], "Archive");
	assert_string_equal(names[5], "Work");
	assert_string_equal(names[6], "Work.2025");
	maildir_folders_free(names, n);
	mkpath(p, sizeof(p), f->mb, ".Work.2025", "maildirfolder");
	assert_int_equal(access(p, F_OK), 0);

	assert_int_equal(maildir_folder_rename(f->mb, "Work", "Trash", &err),
	    -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(maildir_folder_rename(f->mb, "Work", "Job", &err), 0);
	assert_int_equal(maildir_folder_rename(f->mb, "Nope", "X", &err), -1);
	/* a folder with messages goes, files and all */
	assert_int_equal(maildir_store(f->mb, MSG, strlen(MSG), -1, 0, "S",
	    1700000000, p, sizeof(p), &err), 0);
	(void)snprintf(p, sizeof(p), "%s/.Job", f->mb);
	assert_int_equal(maildir_store(p, MSG, strlen(MSG), -1, 0, "",
	    1700000000, p + 200, sizeof(p) - 200, &err), 0);
	assert_int_equal(maildir_folder_delete(f->mb, "Job", &err), 0);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(maildir_folder_delete(f->mb, "Job", &err), -1);
}

static void
test_store_into_cur_with_flags_and_date(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	struct stat		 st;
	char			 name[MAILDIR_NAME_MAX + 1], p[PATH_MAX];
	const char		*err = NULL;

	assert_int_equal(maildir_create(f->mb, &err), 0);
	assert_int_equal(maildir_store(f->mb, MSG, strlen(MSG), -1, 0, "TSD",
	    1706779230, name, sizeof(name), &err), 0);
	assert_non_null(strstr(name, ":2,DST"));
	mkpath(p, sizeof(p), f->mb, "cur", name);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mtime, 1706779230);
	assert_int_equal(st.st_size, strlen("Subject: hi\n\nHello.\n"));
	assert_int_equal(maildir_store(f->mb, MSG, strlen(MSG), -1, 0, "S1",
	    0, name, sizeof(name), &err), -1);
	assert_int_equal(maildir_list(f->mb, &l, &err), 0);
	assert_int_equal(l.nentries, 1);
	assert_int_equal(l.entries[0].uid, 1);
	assert_string_equal(l.entries[0].flags, "DST");
	assert_int_equal(l.entries[0].mtime, 1706779230);
	maildir_list_free(&l);
}

static void
test_move_keeps_name_and_gets_a_uid_there(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 name[MAILDIR_NAME_MAX + 1], to[PATH_MAX];
	const char		*err = NULL;

	assert_int_equal(maildir_deliver(f->mb, NULL, 0, -1, 0, name,
	    sizeof(name), &err), 0);
	assert_int_equal(maildir_list(f->mb, &l, &err), 0);
	assert_int_equal(l.nentries, 1);
	(void)snprintf(to, sizeof(to), "%s/.Trash", f->mb);
	assert_int_equal(maildir_move(f->mb, &l.entries[0], to, name,
	    sizeof(name), &err), 0);
	assert_string_equal(name, l.entries[0].name);
	maildir_list_free(&l);
	assert_int_equal(maildir_list(f->mb, &l, &err), 0);
	assert_int_equal(l.nentries, 0);
	maildir_list_free(&l);
	assert_int_equal(maildir_list(to, &l, &err), 0);
	assert_int_equal(l.nentries, 1);
	assert_true(l.entries[0].in_new);
	assert_int_equal(l.entries[0].uid, 1);
	maildir_list_free(&l);
}

/* Folder metadata: one id, made once, kept by a use change and a
 * rename; a broken file gets a new id and keeps a valid use. */
static void
test_folder_meta(void **state)
{
	struct fx		*f = *state;
	struct maildir_meta	 a, b;
	char			 p[PATH_MAX], file[PATH_MAX];
	const char		*err = NULL;
	FILE			*fp;

	assert_int_equal(maildir_create(f->mb, &err), 0);
	assert_int_equal(maildir_folder_create(f->mb, "Old", &err), 0);
	mkpath(p, sizeof(p), f->mb, ".Old", NULL);
	mkpath(file, sizeof(file), f->mb, ".Old", MAILDIR_META_FILE);
	/* peek makes nothing */
	assert_int_equal(maildir_meta_peek(p, &a, &err), 0);
	assert_string_equal(a.id, "");
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(maildir_meta_get(p, &a, &err), 0);
	assert_int_equal(strlen(a.id), MAILDIR_META_ID_LEN);
	assert_string_equal(a.use, "");
	assert_int_equal(maildir_meta_get(p, &b, &err), 0);
	assert_string_equal(a.id, b.id);
	assert_int_equal(maildir_meta_set_use(p, "\\Archive", &err), 0);
	assert_int_equal(maildir_meta_peek(p, &b, &err), 0);
	assert_string_equal(a.id, b.id);
	assert_string_equal(b.use, "\\Archive");
	assert_int_equal(maildir_meta_set_use(p, "a\nb", &err), -1);
	assert_int_equal(maildir_folder_rename(f->mb, "Old", "New", &err), 0);
	mkpath(p, sizeof(p), f->mb, ".New", NULL);
	assert_int_equal(maildir_meta_get(p, &b, &err), 0);
	assert_string_equal(a.id, b.id);
	/* another folder, another id */
	assert_int_equal(maildir_meta_get(f->mb, &b, &err), 0);
	assert_string_not_equal(a.id, b.id);
	/* a broken id: a new one; the use and unknown lines survive */
	mkpath(file, sizeof(file), f->mb, ".New", MAILDIR_META_FILE);
	fp = fopen(file, "w");
	assert_non_null(fp);
	fputs("cachet-folder 1\nid 12XY\nfuture stuff\nuse \\Junk\n", fp);
	(void)fclose(fp);
	assert_int_equal(maildir_meta_get(p, &b, &err), 0);
	assert_int_equal(strlen(b.id), MAILDIR_META_ID_LEN);
	assert_string_not_equal(a.id, b.id);
	assert_string_equal(b.use, "\\Junk");
	/* the folder goes with its file */
	assert_int_equal(maildir_folder_delete(f->mb, "New", &err), 0);
	assert_int_equal(access(p, F_OK), -1);
}

/* maildir_store_tagged(): the tag after the sizes, before ":2,"; a tag
 * that could break the name refused */
static void
test_store_tagged(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 name[MAILDIR_NAME_MAX + 1];
	const char		*err = NULL;

	assert_int_equal(maildir_create(f->mb, &err), 0);
	assert_int_equal(maildir_store_tagged(f->mb, MSG, strlen(MSG), -1, 0,
	    "S", 1700000000, ",E=abc", name, sizeof(name), &err), 0);
	assert_non_null(strstr(name, ",E=abc:2,S"));
	assert_non_null(strstr(name, ",S="));
	assert_int_equal(maildir_store_tagged(f->mb, MSG, strlen(MSG), -1, 0,
	    "", 1700000000, ",E=a/b", name, sizeof(name), &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(maildir_store_tagged(f->mb, MSG, strlen(MSG), -1, 0,
	    "", 1700000000, "E=ab", name, sizeof(name), &err), -1);
	assert_int_equal(maildir_store_tagged(f->mb, MSG, strlen(MSG), -1, 0,
	    "", 1700000000, ",E=a:b", name, sizeof(name), &err), -1);
	/* listed with its sizes, as any stored message */
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, &err), 0);
	assert_int_equal(l.nentries, 1);
	assert_int_equal(l.entries[0].size, strlen(MSG) - 3);
	assert_int_equal(l.entries[0].size_crlf, strlen(MSG));
	assert_string_equal(l.entries[0].flags, "S");
	maildir_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n)	cmocka_unit_test_setup_teardown(n, fx_setup, fx_teardown)
		T(test_deliver_converts_crlf_to_lf),
		T(test_deliver_name_has_sizes),
		T(test_deliver_two_names_differ),
		T(test_deliver_crlf_split_across_chunks),
		T(test_deliver_empty_message),
		T(test_deliver_creates_missing_maildir),
		T(test_deliver_short_message_fd_fails_clean),
		T(test_deliver_name_buffer_too_small),
		T(test_deliver_efbig_leaves_nothing),
		T(test_steps_prepare_commit_sync_delivers),
		T(test_steps_failed_prepare_leaves_nothing),
		T(test_steps_abort_prepared_removes_tmp_file),
		T(test_steps_abort_committed_removes_new_file),
		T(test_steps_commit_never_replaces),
		T(test_steps_commit_unprepared_is_einval),
		T(test_steps_sync_of_missing_maildir_fails),
		T(test_create_is_idempotent_with_folders),
		T(test_create_concurrent),
		T(test_create_fails_on_a_file),
		T(test_list_assigns_uids_in_arrival_order),
		T(test_list_same_mtime_orders_by_name),
		T(test_list_keeps_uids_and_uidvalidity),
		T(test_list_empty_folder_creates_uidlist),
		T(test_list_drops_removed_files),
		T(test_list_flags_and_places),
		T(test_list_skips_hidden_odd_and_non_files),
		T(test_list_same_base_in_new_and_cur_once),
		T(test_list_rename_keeps_uid),
		T(test_list_caches_crlf_size),
		T(test_list_takes_crlf_size_from_name),
		T(test_list_rebuilds_corrupt_uidlist),
		T(test_list_uid_exhaustion_renumbers),
		T(test_list_unwritable_uidlist_gives_uid_zero),
		T(test_list_concurrent_processes),
		T(test_list_missing_folder_fails),
		T(test_claim_new_moves_all_to_cur),
		T(test_open_reads_and_follows_moves),
		T(test_entry_with_slash_is_refused),
		T(test_set_flags_moves_to_cur_sorted),
		T(test_set_flags_rejects_bad_flags),
		T(test_set_flags_finds_moved_file),
		T(test_set_flags_locked_takes_no_lock),
		T(test_dirs_open_and_flag_by_name),
		T(test_remove_and_remove_again),
		T(test_remove_finds_moved_file),
		T(test_usage_sums_folders),
		T(test_folders_create_list_rename_delete),
		T(test_folder_meta),
		T(test_store_tagged),
		T(test_store_into_cur_with_flags_and_date),
		T(test_move_keeps_name_and_gets_a_uid_there),
		cmocka_unit_test(test_uidlist_parse_and_format_round_trip),
		cmocka_unit_test(test_uidlist_parse_empty_list),
		cmocka_unit_test(test_uidlist_parse_rejects),
		cmocka_unit_test(test_uidlist_parse_base_length),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
