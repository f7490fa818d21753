/*
 * Unit tests for sandbox.c.  The lists themselves: no role may exec or
 * start a process, smtp, the mta and http open no file, pop3, imap and
 * http make no socket, every name is a system call of this machine.
 * Then the filters for real, each in a child process of its own that
 * installs a role's filter and makes one call: a forbidden call kills
 * the child with SIGSYS, an allowed one lets it exit 0.  And the reader of the
 * kernel's audit records, on records as /dev/kmsg gives them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "proc.h"
#include "sandbox.h"

#define RULES_MAX	256

static const enum proc_id roles[] = {
	PROC_SMTP, PROC_LOOKUP, PROC_QUEUE, PROC_MDA, PROC_MTA, PROC_IMAP,
	PROC_POP3, PROC_HTTP,
};
#define NROLES	(sizeof(roles) / sizeof(roles[0]))

/* --- the lists --- */

static size_t
rules_of(enum proc_id id, const struct sandbox_rule **r)
{
	size_t	n = sandbox_rules(id, r, RULES_MAX);

	assert_true(n <= RULES_MAX);
	return n;
}

/* The rules of a role for one system call that let it through. */
static size_t
allowing(enum proc_id id, const char *name, const struct sandbox_rule **out)
{
	const struct sandbox_rule	*r[RULES_MAX];
	size_t				 i, n, k = 0;

	n = rules_of(id, r);
	for (i = 0; i < n; i++)
		if (strcmp(r[i]->name, name) == 0 &&
		    r[i]->act == SANDBOX_ALLOW) {
			if (out != NULL)
				out[k] = r[i];
			k++;
		}
	return k;
}

static void
test_every_role_but_the_parent_has_a_list(void **state)
{
	size_t	i;

	(void)state;
	assert_int_equal(sandbox_sets(PROC_PARENT), 0);
	for (i = 0; i < NROLES; i++)
		assert_true(sandbox_sets(roles[i]) & SANDBOX_CORE);
}

static void
test_every_name_is_a_system_call_here(void **state)
{
	const struct sandbox_rule	*r[RULES_MAX];
	size_t				 i, j, n;

	(void)state;
	for (i = 0; i < NROLES; i++) {
		n = rules_of(roles[i], r);
		assert_true(n > 20);
		for (j = 0; j < n; j++) {
			assert_true(r[j]->arg <= 5);
			if (seccomp_syscall_resolve_name(r[j]->name) < 0)
				fail_msg("%s is no system call", r[j]->name);
		}
	}
}

static void
test_no_role_may_exec_or_start_a_process(void **state)
{
	static const char *const never[] = { "execve", "execveat", "fork",
	    "vfork", "clone3", "ptrace", "kill", "setuid", "chroot",
	    "prctl" };
	const struct sandbox_rule	*r[RULES_MAX];
	size_t				 i, j, n;

	(void)state;
	for (i = 0; i < NROLES; i++) {
		for (j = 0; j < sizeof(never) / sizeof(never[0]); j++)
			if (allowing(roles[i], never[j], NULL) != 0)
				fail_msg("%s may %s", proc_name(roles[i]),
				    never[j]);
		/* clone only for a thread, and only where there are some. */
		n = allowing(roles[i], "clone", r);
		assert_int_equal(n, (sandbox_sets(roles[i]) &
		    SANDBOX_THREADS) ? 1 : 0);
		if (n == 1) {
			assert_int_equal(r[0]->cmp, SANDBOX_MASKED);
			assert_int_equal(r[0]->arg, 0);
			assert_true(r[0]->mask & CLONE_THREAD);
			assert_true(r[0]->value & CLONE_THREAD);
		}
	}
	/* Threads: lookup's and the mda's pools only. */
	for (i = 0; i < NROLES; i++)
		assert_int_equal(allowing(roles[i], "clone", NULL) != 0,
		    roles[i] == PROC_LOOKUP || roles[i] == PROC_MDA);
}

static void
test_smtp_and_mta_open_no_file(void **state)
{
	static const char *const files[] = { "open", "openat", "openat2",
	    "creat", "stat", "lstat", "mkdir", "unlink", "rename",
	    "truncate" };
	const struct sandbox_rule	*r[RULES_MAX];
	size_t				 j, n;

	(void)state;
	for (j = 0; j < sizeof(files) / sizeof(files[0]); j++) {
		assert_int_equal(allowing(PROC_SMTP, files[j], NULL), 0);
		assert_int_equal(allowing(PROC_MTA, files[j], NULL), 0);
		assert_int_equal(allowing(PROC_HTTP, files[j], NULL), 0);
	}
	/* fstat(2), not stat(2): newfstatat only with AT_EMPTY_PATH. */
	n = allowing(PROC_SMTP, "newfstatat", r);
	assert_int_equal(n, 1);
	assert_int_equal(r[0]->cmp, SANDBOX_MASKED);
	assert_int_equal(r[0]->mask, AT_EMPTY_PATH);
	assert_int_equal(r[0]->value, AT_EMPTY_PATH);
}

static void
test_only_lookup_and_mta_make_sockets(void **state)
{
	const struct sandbox_rule	*r[RULES_MAX];
	size_t				 i, j, n;
	bool				 may;

	(void)state;
	for (i = 0; i < NROLES; i++) {
		may = roles[i] == PROC_LOOKUP || roles[i] == PROC_MTA;
		assert_int_equal(allowing(roles[i], "connect", NULL) != 0,
		    may);
		assert_int_equal(allowing(roles[i], "bind", NULL) != 0, may);
		n = allowing(roles[i], "socket", r);
		assert_int_equal(n, may ? 2 : 0);
		for (j = 0; j < n; j++) {
			assert_int_equal(r[j]->cmp, SANDBOX_MASKED);
			assert_true(r[j]->value == AF_INET ||
			    r[j]->value == AF_INET6);
		}
		/* Only the listeners' roles accept. */
		assert_int_equal(allowing(roles[i], "accept4", NULL) != 0,
		    roles[i] == PROC_SMTP || roles[i] == PROC_POP3 ||
		    roles[i] == PROC_IMAP || roles[i] == PROC_HTTP);
	}
}

/* --- the filters, in a child each --- */

typedef int (*child_fn)(void);

/* The child's exit status or signal, as waitpid(2) gives it. */
static int
run_sandboxed(enum proc_id id, child_fn fn)
{
	const char	*err;
	pid_t		 pid;
	int		 status;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		/* As log_init() does in every role: the time zone is read. */
		tzset();
		if (sandbox_enter(id, &err) == -1)
			_exit(99);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
assert_killed(enum proc_id id, child_fn fn)
{
	int	status = run_sandboxed(id, fn);

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("%s: not killed by SIGSYS (status 0x%x)",
		    proc_name(id), status);
}

static void
assert_lives(enum proc_id id, child_fn fn)
{
	int	status = run_sandboxed(id, fn);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: child status 0x%x", proc_name(id), status);
}

static int
do_open(void)
{
	int	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return 1;
	close(fd);
	return 0;
}

static int
do_fork(void)
{
	pid_t	pid = fork();

	if (pid == 0)
		_exit(0);
	return 1;
}

static int
do_exec(void)
{
	char	*argv[] = { "true", NULL };

	(void)execve("/bin/true", argv, NULL);
	return 1;
}

static int
do_socket_inet(void)
{
	int	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd != -1)
		close(fd);
	return 1;
}

static int
do_connect(void)
{
	struct sockaddr_in	sin;
	int			sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return 1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(9);
	(void)connect(sv[0], (struct sockaddr *)&sin, sizeof(sin));
	return 1;
}

static int
do_kill_init(void)
{
	(void)kill(1, 0);
	return 1;
}

/* What every role does all day: channels, memory, clock, randomness. */
static int
do_daily_work(void)
{
	struct timespec	 ts;
	struct stat	 st;
	char		 b[16], *big;
	int		 p[2], sv[2], fd;

	if (pipe2(p, O_CLOEXEC) == -1 || write(p[1], "x", 1) != 1 ||
	    read(p[0], b, 1) != 1 || fstat(p[0], &st) == -1)
		return 1;
	close(p[0]);
	close(p[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    send(sv[0], "y", 1, 0) != 1 || recv(sv[1], b, 1, 0) != 1)
		return 2;
	close(sv[0]);
	close(sv[1]);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1 ||
	    getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return 3;
	if ((big = malloc(8 << 20)) == NULL)
		return 4;
	memset(big, 1, 8 << 20);
	free(big);
	/* syslog(3) reconnecting: fails quietly. */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) != -1) {
		close(fd);
		return 5;
	}
	if (errno != EACCES)
		return 5;
	return 0;
}

/*
 * syslog(3) as roles use it without -d: it (re)connects to /dev/log on
 * each call that finds no connection; under the filter the new socket
 * fails quietly, where a log daemon listens the message goes out.
 */
static int
do_syslog(void)
{
	openlog("test_sandbox", LOG_PID | LOG_NDELAY, LOG_MAIL);
	syslog(LOG_DEBUG, "test_sandbox: a child under a role's filter");
	syslog(LOG_DEBUG, "test_sandbox: and again");
	closelog();
	return 0;
}

static void *
thread_main(void *arg)
{
	return arg;
}

static int
do_thread(void)
{
	pthread_t	 t;
	void		*ret;
	int		 x;

	if (pthread_create(&t, NULL, thread_main, &x) != 0 ||
	    pthread_join(t, &ret) != 0 || ret != &x)
		return 1;
	return 0;
}

/* The mta's CA lookups fail as in the chroot; fstat still works. */
static int
do_ca_probe(void)
{
	struct stat	st;
	int		fd;

	if ((fd = open("/etc/hostname", O_RDONLY)) != -1) {
		close(fd);
		return 1;
	}
	if (errno != EACCES)
		return 1;
	if (stat("/etc", &st) != -1 || errno != EACCES)
		return 2;
	if (fstat(1, &st) == -1)
		return 3;
	return 0;
}

/* lookup, queue, mda, pop3, imap: their files. */
static int
do_files(void)
{
	char	path[] = "/tmp/cachet-test-sandbox-XXXXXX";
	char	to[sizeof(path) + 4];
	int	fd;

	if ((fd = mkstemp(path)) == -1)
		return 1;
	(void)snprintf(to, sizeof(to), "%s.new", path);
	if (write(fd, "z", 1) != 1 || fsync(fd) == -1 ||
	    rename(path, to) == -1 || unlink(to) == -1) {
		close(fd);
		return 2;
	}
	close(fd);
	return 0;
}

static void
test_forbidden_calls_kill(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NROLES; i++) {
		assert_killed(roles[i], do_fork);
		assert_killed(roles[i], do_exec);
		assert_killed(roles[i], do_kill_init);
	}
	assert_killed(PROC_SMTP, do_open);
	assert_killed(PROC_HTTP, do_open);
	assert_killed(PROC_HTTP, do_socket_inet);
	assert_killed(PROC_HTTP, do_connect);
	assert_killed(PROC_HTTP, do_thread);
	assert_killed(PROC_SMTP, do_thread);
	assert_killed(PROC_QUEUE, do_thread);
	assert_killed(PROC_POP3, do_socket_inet);
	assert_killed(PROC_POP3, do_connect);
	assert_killed(PROC_IMAP, do_socket_inet);
	assert_killed(PROC_IMAP, do_connect);
	assert_killed(PROC_SMTP, do_connect);
	assert_killed(PROC_QUEUE, do_socket_inet);
	assert_killed(PROC_MDA, do_socket_inet);
}

static void
test_allowed_calls_work(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NROLES; i++) {
		assert_lives(roles[i], do_daily_work);
		assert_lives(roles[i], do_syslog);
	}
	/* Threads, through glibc's fallback from clone3 to clone. */
	assert_lives(PROC_LOOKUP, do_thread);
	assert_lives(PROC_MDA, do_thread);
	assert_lives(PROC_MTA, do_ca_probe);
	assert_lives(PROC_LOOKUP, do_files);
	assert_lives(PROC_QUEUE, do_files);
	assert_lives(PROC_MDA, do_files);
	assert_lives(PROC_POP3, do_files);
	assert_lives(PROC_IMAP, do_files);
}

/* --- the kernel's audit records --- */

#define REC(pid, sys) "6,2045,1433408695,-;audit: type=1326 " \
	"audit(1796543118.871:3): auid=4294967295 uid=993 gid=992 " \
	"ses=4294967295 pid=" pid " comm=\"cachetd\" " \
	"exe=\"/usr/sbin/cachetd\" sig=31 arch=c000003e syscall=" sys \
	" compat=0 ip=0x7f2640a3a7c0 code=0x80000000\n"

static int
parse(const char *rec, pid_t pid, long *nr, uint64_t *usec)
{
	uint32_t	arch;
	char		*copy;
	size_t		len = strlen(rec);
	int		rc;

	/* A heap copy of exactly its length: a read past it trips ASan. */
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, rec, len);
	rc = sandbox_audit_parse(copy, len, pid, nr, &arch, usec);
	free(copy);
	if (rc == 0)
		assert_int_equal(arch, 0xc000003e);
	return rc;
}

static void
test_audit_record_names_the_call(void **state)
{
	uint64_t	usec = 0;
	long		nr = -1;

	(void)state;
	assert_int_equal(parse(REC("12342", "42"), 12342, &nr, &usec), 0);
	assert_int_equal(nr, 42);
	assert_int_equal(usec, 1433408695);
	/* Continuation lines ("SUBSYSTEM=...") are not the message. */
	assert_int_equal(parse(REC("7", "59") " SUBSYSTEM=x syscall=1\n", 7,
	    &nr, &usec), 0);
	assert_int_equal(nr, 59);
	/* No line end; a name with a space comes in hex. */
	assert_int_equal(parse("6,1,5,-;audit: type=1326 audit(1:2): pid=9 "
	    "comm=636174206D65 sig=31 arch=c000003e syscall=2", 9, &nr,
	    &usec), 0);
	assert_int_equal(nr, 2);
	assert_int_equal(usec, 5);
}

static void
test_audit_other_records_are_not(void **state)
{
	static const char *const bad[] = {
		/* Another pid, one that only starts the same, or with a
		 * leading zero (the kernel prints none). */
		REC("123", "42"),
		REC("12345", "42"),
		REC("01234", "42"),
		/* Another audit type, or no audit record at all. */
		"6,1,2,-;audit: type=1400 audit(1:2): pid=1234 arch=c000003e "
		    "syscall=2\n",
		"6,1,2,-;kernel: pid=1234 arch=c000003e syscall=2\n",
		/* No syscall, an empty or an overlong one, no arch. */
		"6,1,2,-;audit: type=1326 audit(1:2): pid=1234 arch=c000003e\n",
		"6,1,2,-;audit: type=1326 audit(1:2): pid=1234 arch=c000003e "
		    "syscall= compat=0\n",
		"6,1,2,-;audit: type=1326 audit(1:2): pid=1234 arch=c000003e "
		    "syscall=99999999999999999999\n",
		"6,1,2,-;audit: type=1326 audit(1:2): pid=1234 syscall=2\n",
		/* A broken prefix. */
		"6,1;audit: type=1326 audit(1:2): pid=1234 arch=c000003e "
		    "syscall=2\n",
		"6,1,x,-;audit: type=1326 audit(1:2): pid=1234 arch=c000003e "
		    "syscall=2\n",
		"no prefix at all",
		"",
	};
	uint64_t	usec;
	long		nr;
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], 1234, &nr, &usec) != -1)
			fail_msg("record %zu was taken", i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_role_but_the_parent_has_a_list),
		cmocka_unit_test(test_every_name_is_a_system_call_here),
		cmocka_unit_test(test_no_role_may_exec_or_start_a_process),
		cmocka_unit_test(test_smtp_and_mta_open_no_file),
		cmocka_unit_test(test_only_lookup_and_mta_make_sockets),
		cmocka_unit_test(test_forbidden_calls_kill),
		cmocka_unit_test(test_allowed_calls_work),
		cmocka_unit_test(test_audit_record_names_the_call),
		cmocka_unit_test(test_audit_other_records_are_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
