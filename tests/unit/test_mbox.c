/*
 * Unit tests for mbox: the exact bytes of appended messages (From_ line,
 * date, CRLF to LF, mboxrd quoting as a table and across chunk and
 * prepend boundaries, separators), both locks (released after, waited
 * for, timed out with EAGAIN, a stale dotlock removed), concurrent
 * writers, and the rollback of a failed append.  Each test runs in a
 * fresh mkdtemp directory under /var/tmp.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
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
#include "mbox.h"
#include "util.h"

#define WHEN	((time_t)1795395723)	/* Mon Nov 23 01:02:03 2026 UTC */
#define FROM_	"From alice@example.org Mon Nov 23 01:02:03 2026\n"

struct fx {
	char	dir[64];
	char	mbox[128];
	char	lock[136];
};

/* --- helpers ----------------------------------------------------------- */

static int
fx_setup(void **state)
{
	struct fx	*f = xcalloc(1, sizeof(*f));

	(void)str_copy(f->dir, sizeof(f->dir), "/var/tmp/test_mbox.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	(void)snprintf(f->mbox, sizeof(f->mbox), "%s/bob", f->dir);
	(void)snprintf(f->lock, sizeof(f->lock), "%s/bob.lock", f->dir);
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
slurp(const char *path, struct buf *b)
{
	char	tmp[65536];
	ssize_t	n;
	int	fd;

	buf_init(b, 64 << 20);
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

static int
deliver_t(const char *mbox, const char *sender, time_t when,
    const char *prepend, const char *msg, size_t len, unsigned int ms,
    const char **err)
{
	int	fd, r, saved;

	fd = testutil_memfd(msg, len);
	r = mbox_deliver_timeout(mbox, sender, when, prepend,
	    prepend == NULL ? 0 : strlen(prepend), fd, len, ms, err);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

static void
deliver(const char *mbox, const char *sender, const char *prepend,
    const char *msg, size_t len)
{
	const char	*err = NULL;

	if (deliver_t(mbox, sender, WHEN, prepend, msg, len, 1000, &err) != 0)
		fail_msg("deliver: %s: %s", err, strerror(errno));
}

static void
assert_file(const char *path, const char *want, size_t len)
{
	struct buf	b;

	slurp(path, &b);
	if (b.len != len || (len > 0 && memcmp(b.data, want, len) != 0))
		fail_msg("%s holds\n[%s]\nwant\n[%.*s]", path,
		    b.len > 0 ? b.data : "", (int)len, want);
	buf_free(&b);
}

static uint64_t
elapsed_ms(uint64_t since)
{
	return now_ms() - since;
}

/* A child that holds a classic fcntl lock on path until told to go. */
static pid_t
hold_fcntl_lock(const char *path, int *release_fd)
{
	struct flock	fl;
	pid_t		pid;
	int		up[2], down[2], fd;
	char		c;

	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	if ((pid = fork()) == 0) {
		close(up[0]);
		close(down[1]);
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if ((fd = open(path, O_RDWR | O_CREAT, 0600)) == -1 ||
		    fcntl(fd, F_SETLK, &fl) == -1)
			_exit(1);
		(void)write(up[1], "l", 1);
		(void)read(down[0], &c, 1);
		_exit(0);
	}
	assert_true(pid > 0);
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);
	close(up[0]);
	*release_fd = down[1];
	return pid;
}

static void
reap(pid_t pid)
{
	int	status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* --- content ----------------------------------------------------------- */

static void
test_mbox_two_messages(void **state)
{
	struct fx	*f = *state;
	struct stat	 st;
	static const char want[] =
	    FROM_
	    "Return-Path: <alice@example.org>\n"
	    "Subject: one\n\nHello.\n\n"
	    "From MAILER-DAEMON Mon Nov 23 01:02:03 2026\n"
	    "Return-Path: <>\n"
	    "Subject: two\n\nbody\n>From me\n\n";
	static const char one[] = "Subject: one\r\n\r\nHello.\r\n";
	static const char two[] = "Subject: two\r\n\r\nbody\r\nFrom me";

	deliver(f->mbox, "alice@example.org",
	    "Return-Path: <alice@example.org>\r\n", one, sizeof(one) - 1);
	deliver(f->mbox, "", "Return-Path: <>\r\n", two, sizeof(two) - 1);
	assert_file(f->mbox, want, sizeof(want) - 1);
	assert_int_equal(stat(f->mbox, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(access(f->lock, F_OK), -1);
}

static const struct {
	const char	*name;
	const char	*in;
	const char	*out;	/* after the From_ line, before the "\n" */
} quote_cases[] = {
	{ "from_line", "From me\n", ">From me\n" },
	{ "quoted_once", ">From x\n", ">>From x\n" },
	{ "quoted_twice", ">>From y\n", ">>>From y\n" },
	{ "many_quotes", ">>>>>>>>>From z\n", ">>>>>>>>>>From z\n" },
	{ "from_no_space", "From\n", "From\n" },
	{ "fromage", "Fromage\n", "Fromage\n" },
	{ "quoted_fromage", ">Fromage\n", ">Fromage\n" },
	{ "indented", " From z\n", " From z\n" },
	{ "mid_line", "x From y\n", "x From y\n" },
	{ "lower_case", "from me\n", "from me\n" },
	{ "gt_only", ">>>\n", ">>>\n" },
	{ "gt_then_text", ">> hi\n", ">> hi\n" },
	{ "partial_at_end", ">Fro", ">Fro\n" },
	{ "from_space_at_end", "From ", ">From \n" },
	{ "crlf_lines", "a\r\nFrom b\r\n", "a\n>From b\n" },
	{ "leading_crlf", "\r\nFrom x", "\n>From x\n" },
	{ "cr_is_not_a_line_end", "a\rFrom x\n", "a\rFrom x\n" },
	{ "lone_cr_at_end", "a\r", "a\r\n" },
	{ "cr_cr_lf", "a\r\r\nb\n", "a\r\nb\n" },
	{ "empty_lines", "\n\nFrom x\n\n", "\n\n>From x\n\n" },
	{ "empty", "", "" },
};

static void
test_mbox_quoting_table(void **state)
{
	struct fx	*f = *state;
	struct buf	 want, got;
	size_t		 i;

	for (i = 0; i < sizeof(quote_cases) / sizeof(quote_cases[0]); i++) {
		(void)unlink(f->mbox);
		deliver(f->mbox, "alice@example.org", NULL, quote_cases[i].in,
		    strlen(quote_cases[i].in));
		buf_init(&want, 4096);
		assert_int_equal(buf_printf(&want, "%s%s\n", FROM_,
		    quote_cases[i].out), 0);
		slurp(f->mbox, &got);
		if (got.len != want.len ||
		    memcmp(got.data, want.data, got.len) != 0)
			fail_msg("%s: got [%s]", quote_cases[i].name,
			    got.data);
		buf_free(&got);
		buf_free(&want);
	}
}

/* Quoting and CRLF across the 64 KiB reads and the prepend boundary. */
static void
test_mbox_quoting_across_boundaries(void **state)
{
	struct fx	*f = *state;
	struct buf	 want;
	size_t		 len = 65536 * 2;
	char		*msg;

	msg = xmalloc(len);
	memset(msg, 'x', len);
	msg[0] = '\n';				/* ends the prepend's line */
	memcpy(msg + 1, "From a\n", 7);
	msg[65532] = '\n';
	memcpy(msg + 65533, ">From b", 7);	/* split at 65536 */
	msg[65540] = '\n';
	msg[131070] = '\r';			/* CRLF at the very end */
	msg[131071] = '\n';
	deliver(f->mbox, "alice@example.org", "X-A: 1\r", msg, len);
	buf_init(&want, 1 << 20);
	assert_int_equal(buf_append_str(&want, FROM_ "X-A: 1\n>From a\n"),
	    0);
	assert_int_equal(buf_append(&want, msg + 8, 65532 - 8 + 1), 0);
	assert_int_equal(buf_append_str(&want, ">>From b\n"), 0);
	assert_int_equal(buf_append(&want, msg + 65541, 131070 - 65541), 0);
	assert_int_equal(buf_append_str(&want, "\n\n"), 0);
	assert_file(f->mbox, want.data, want.len);
	buf_free(&want);
	free(msg);
}

static void
test_mbox_date_and_sender(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL;
	char		*longest;
	static const char want[] =
	    "From MAILER-DAEMON Tue Nov  3 01:02:03 2026\nx\n\n"
	    "From a_b@c__d Mon Nov 23 01:02:03 2026\ny\n\n";

	assert_int_equal(deliver_t(f->mbox, NULL, (time_t)1793667723, NULL,
	    "x\n", 2, 1000, &err), 0);
	deliver(f->mbox, "a b@c\t\x7f" "d", NULL, "y\n", 2);
	longest = xmalloc(1002);
	memset(longest, 'a', 1001);
	longest[1001] = '\0';
	assert_int_equal(deliver_t(f->mbox, longest, WHEN, NULL, "z\n", 2,
	    1000, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(err);
	free(longest);
	assert_file(f->mbox, want, sizeof(want) - 1);
	assert_int_equal(access(f->lock, F_OK), -1);
}

/* A file someone left without the empty line gets it first. */
static void
test_mbox_separates_from_previous(void **state)
{
	static const struct {
		const char	*before;
		const char	*added;
	} cases[] = {
		{ "From x Mon Nov 23 01:02:03 2026\nbody", "\n\n" },
		{ "From x Mon Nov 23 01:02:03 2026\nbody\n", "\n" },
		{ "From x Mon Nov 23 01:02:03 2026\nbody\n\n", "" },
		{ "\n", "" },
		{ "x", "\n\n" },
	};
	struct fx	*f = *state;
	struct buf	 want;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spit(f->mbox, cases[i].before, strlen(cases[i].before));
		deliver(f->mbox, "alice@example.org", NULL, "m\n", 2);
		buf_init(&want, 4096);
		assert_int_equal(buf_printf(&want, "%s%s%sm\n\n",
		    cases[i].before, cases[i].added, FROM_), 0);
		assert_file(f->mbox, want.data, want.len);
		buf_free(&want);
	}
}

/* --- locks ------------------------------------------------------------- */

static void
test_mbox_locks_released(void **state)
{
	struct fx	*f = *state;
	struct flock	 fl;
	pid_t		 pid;
	int		 fd;

	deliver(f->mbox, "alice@example.org", NULL, "m\n", 2);
	assert_int_equal(access(f->lock, F_OK), -1);
	if ((pid = fork()) == 0) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fd = open(f->mbox, O_RDWR);
		_exit(fd != -1 && fcntl(fd, F_SETLK, &fl) == 0 ? 0 : 1);
	}
	assert_true(pid > 0);
	reap(pid);
}

static void
test_mbox_dotlock_timeout(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL;
	uint64_t	 t0, ms;

	spit(f->mbox, "", 0);
	spit(f->lock, "4242\n", 5);	/* another process holds it */
	t0 = now_ms();
	assert_int_equal(deliver_t(f->mbox, "a@b", WHEN, NULL, "m\n", 2, 300,
	    &err), -1);
	ms = elapsed_ms(t0);
	assert_int_equal(errno, EAGAIN);
	assert_non_null(err);
	assert_true(ms >= 290 && ms < 2000);
	assert_file(f->mbox, "", 0);
	assert_int_equal(access(f->lock, F_OK), 0);	/* not ours */
}

static void
test_mbox_fcntl_lock_timeout(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL;
	uint64_t	 t0, ms;
	pid_t		 pid;
	int		 go;

	pid = hold_fcntl_lock(f->mbox, &go);
	t0 = now_ms();
	assert_int_equal(deliver_t(f->mbox, "a@b", WHEN, NULL, "m\n", 2, 300,
	    &err), -1);
	ms = elapsed_ms(t0);
	assert_int_equal(errno, EAGAIN);
	assert_true(ms >= 290 && ms < 2000);
	close(go);
	reap(pid);
	assert_file(f->mbox, "", 0);
	assert_int_equal(access(f->lock, F_OK), -1);
	/* Released: now it goes through. */
	deliver(f->mbox, "alice@example.org", NULL, "m\n", 2);
	assert_file(f->mbox, FROM_ "m\n\n", sizeof(FROM_) + 2);
}

/* A dotlock that goes away within the timeout is waited for. */
static void
test_mbox_waits_for_dotlock(void **state)
{
	struct fx	*f = *state;
	pid_t		 pid;

	spit(f->lock, "", 0);
	if ((pid = fork()) == 0) {
		nanosleep(&(struct timespec){ 0, 300000000 }, NULL);
		_exit(unlink(f->lock) == 0 ? 0 : 1);
	}
	assert_true(pid > 0);
	deliver(f->mbox, "alice@example.org", NULL, "m\n", 2);
	reap(pid);
	assert_file(f->mbox, FROM_ "m\n\n", sizeof(FROM_) + 2);
	assert_int_equal(access(f->lock, F_OK), -1);
}

static void
test_mbox_stale_dotlock_removed(void **state)
{
	struct fx	*f = *state;
	struct timespec	 ts[2];

	spit(f->lock, "1\n", 2);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, f->lock, ts, 0), 0);
	deliver(f->mbox, "alice@example.org", NULL, "m\n", 2);
	assert_file(f->mbox, FROM_ "m\n\n", sizeof(FROM_) + 2);
	assert_int_equal(access(f->lock, F_OK), -1);
}

/* Three writers with large messages: each message lands whole. */
static void
test_mbox_concurrent_writers(void **state)
{
	struct fx	*f = *state;
	struct buf	 b;
	pid_t		 pids[3];
	size_t		 len = 150000, i, j, off, hdr = sizeof(FROM_) - 1;
	char		*msg;
	int		 fd, bad;

	for (i = 0; i < 3; i++) {
		if ((pids[i] = fork()) == 0) {
			msg = xmalloc(len);
			memset(msg, 'a' + (int)i, len - 1);
			msg[len - 1] = '\n';
			fd = testutil_memfd(msg, len);
			bad = 0;
			for (j = 0; j < 5; j++)
				if (mbox_deliver_timeout(f->mbox,
				    "alice@example.org", WHEN, NULL, 0, fd,
				    len, 20000, NULL) != 0)
					bad = 1;
			_exit(bad);
		}
		assert_true(pids[i] > 0);
	}
	for (i = 0; i < 3; i++)
		reap(pids[i]);
	slurp(f->mbox, &b);
	assert_int_equal(b.len, 15 * (hdr + len + 1));
	for (off = 0, i = 0; i < 15; i++, off += hdr + len + 1) {
		assert_memory_equal(b.data + off, FROM_, hdr);
		for (j = 1; j < len - 1; j++)
			if (b.data[off + hdr + j] != b.data[off + hdr])
				fail_msg("message %zu mixed at %zu", i, j);
		assert_memory_equal(b.data + off + hdr + len - 1, "\n\n", 2);
	}
	buf_free(&b);
}

/* --- failures ---------------------------------------------------------- */

static const char	old_mail[] =
    "From x Mon Nov 23 01:02:03 2026\nSubject: old\n\nold body\n\n";

static void
test_mbox_rollback_on_efbig(void **state)
{
	struct fx	*f = *state;
	struct rlimit	 old, lim;
	const char	*err = NULL;
	size_t		 len = 100000;
	char		*msg;
	int		 r, e, fd;

	spit(f->mbox, old_mail, sizeof(old_mail) - 1);
	msg = xmalloc(len);
	memset(msg, 'z', len);
	fd = testutil_memfd(msg, len);	/* the limit would apply to it too */
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = sizeof(old_mail) - 1 + 70000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = mbox_deliver_timeout(f->mbox, "a@b", WHEN, "X: y\n", 5, fd, len,
	    1000, &err);
	e = errno;
	close(fd);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, -1);
	assert_int_equal(e, EFBIG);
	assert_non_null(err);
	assert_file(f->mbox, old_mail, sizeof(old_mail) - 1);
	assert_int_equal(access(f->lock, F_OK), -1);
	free(msg);
}

static void
test_mbox_rollback_on_short_message(void **state)
{
	struct fx	*f = *state;
	const char	*err = NULL;
	int		 fd;

	spit(f->mbox, old_mail, sizeof(old_mail) - 1);
	fd = testutil_memfd("abc\n", 4);
	assert_int_equal(mbox_deliver_timeout(f->mbox, "a@b", WHEN, NULL, 0,
	    fd, 100, 1000, &err), -1);
	assert_int_equal(errno, EIO);
	close(fd);
	assert_file(f->mbox, old_mail, sizeof(old_mail) - 1);
	assert_int_equal(access(f->lock, F_OK), -1);
}

static void
test_mbox_refuses_symlink_and_dir(void **state)
{
	struct fx	*f = *state;
	char		 target[PATH_MAX];
	const char	*err = NULL;

	(void)snprintf(target, sizeof(target), "%s/target", f->dir);
	spit(target, "", 0);
	assert_int_equal(symlink(target, f->mbox), 0);
	assert_int_equal(deliver_t(f->mbox, "a@b", WHEN, NULL, "m\n", 2,
	    1000, &err), -1);
	assert_int_equal(errno, ELOOP);
	assert_file(target, "", 0);
	assert_int_equal(unlink(f->mbox), 0);
	assert_int_equal(mkdir(f->mbox, 0700), 0);
	assert_int_equal(deliver_t(f->mbox, "a@b", WHEN, NULL, "m\n", 2,
	    1000, &err), -1);
	assert_int_equal(access(f->lock, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n)	cmocka_unit_test_setup_teardown(n, fx_setup, fx_teardown)
		T(test_mbox_two_messages),
		T(test_mbox_quoting_table),
		T(test_mbox_quoting_across_boundaries),
		T(test_mbox_date_and_sender),
		T(test_mbox_separates_from_previous),
		T(test_mbox_locks_released),
		T(test_mbox_dotlock_timeout),
		T(test_mbox_fcntl_lock_timeout),
		T(test_mbox_waits_for_dotlock),
		T(test_mbox_stale_dotlock_removed),
		T(test_mbox_concurrent_writers),
		T(test_mbox_rollback_on_efbig),
		T(test_mbox_rollback_on_short_message),
		T(test_mbox_refuses_symlink_and_dir),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
