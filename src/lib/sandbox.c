/*
 * sandbox: the system calls each role may make, as seccomp-bpf filters
 * built with libseccomp (sandbox.h).  Run by every role but the parent,
 * once, from proc_run(): after set-up (certificates, databases, the
 * spool scan) and after proc_drop(), so that nothing here needs to allow
 * what only set-up does (chroot, setuid, reading the configuration).
 *
 * Anything not listed kills the process.  What the issue forbids is
 * absent from every list and so kills: exec (execve, execveat), a new
 * process (fork, vfork, clone without CLONE_THREAD), and, per role,
 * opening files (smtp, mta, http) and sockets of its own (smtp, queue,
 * mda, pop3, imap, http).  The lists were taken from strace(1) of the
 * roles under the black-box suite, in the sanitizer and the release
 * build, and then read against the code and the libraries (libevent,
 * OpenSSL, SQLite, libunbound, glibc) for what they do only now and then.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZED	1
#endif
#endif

#define SANDBOX_RULES_MAX	160
#define SANDBOX_KMSG_RECORD	8192	/* the kernel's longest record */
#define SANDBOX_KMSG_RECORDS_MAX 100000	/* read at most, per death */
#define SANDBOX_KMSG_AGE_US	(60ull * 1000 * 1000)
#define U32			0xffffffffu	/* an int argument's bits */

#define ALLOW(n)		{ n, SANDBOX_ALLOW, SANDBOX_ANY, 0, 0, 0 }
#define ALLOW_EQ(n, a, v)	{ n, SANDBOX_ALLOW, SANDBOX_EQ, a, 0, v }
#define ALLOW_MASKED(n, a, m, v) { n, SANDBOX_ALLOW, SANDBOX_MASKED, a, m, v }
#define ALLOW_SELF(n, a)	{ n, SANDBOX_ALLOW, SANDBOX_SELF, a, 0, 0 }
#define FAIL(n, e)		{ n, e, SANDBOX_ANY, 0, 0, 0 }
#define FAIL_MASKED(n, e, a, m, v) { n, e, SANDBOX_MASKED, a, m, v }

/*
 * Which role has which sets.  No role may exec or start a process; only
 * lookup and the mda run threads; only lookup (DNS) and the mta (SMTP
 * out) make sockets of their own; smtp, the mta and http open no file.
 */
static const unsigned sandbox_role_sets[PROC_COUNT] = {
	[PROC_PARENT] = 0,
	[PROC_SMTP] = SANDBOX_CORE | SANDBOX_ACCEPT,
	[PROC_LOOKUP] = SANDBOX_CORE | SANDBOX_THREADS | SANDBOX_FILES |
	    SANDBOX_CONNECT,
	[PROC_QUEUE] = SANDBOX_CORE | SANDBOX_FILES,
	[PROC_MDA] = SANDBOX_CORE | SANDBOX_THREADS | SANDBOX_FILES,
	[PROC_MTA] = SANDBOX_CORE | SANDBOX_CA_PROBE | SANDBOX_CONNECT,
	[PROC_IMAP] = SANDBOX_CORE | SANDBOX_ACCEPT | SANDBOX_FILES |
	    SANDBOX_FOLDERS,
	[PROC_POP3] = SANDBOX_CORE | SANDBOX_ACCEPT | SANDBOX_FILES,
	/* Our MTA-STS policy over HTTPS: it holds all it serves in memory. */
	[PROC_HTTP] = SANDBOX_CORE | SANDBOX_ACCEPT,
};

/* Every role: its event loop, memory, channels, clock and logging. */
static const struct sandbox_rule sandbox_core[] = {
	/* Descriptors it holds: channels, clients, spool files, stderr. */
	ALLOW("read"), ALLOW("write"), ALLOW("readv"), ALLOW("writev"),
	ALLOW("pread64"), ALLOW("pwrite64"), ALLOW("lseek"), ALLOW("close"),
	/* ipc frames, with descriptors (SCM_RIGHTS). */
	ALLOW("recvmsg"), ALLOW("sendmsg"),
	/* send() and recv() with no address: syslog(3), libevent. */
	ALLOW_EQ("sendto", 4, 0), ALLOW_EQ("recvfrom", 4, 0),
	/* The loop: libevent's epoll and its wake-up pipe. */
	ALLOW("epoll_create1"), ALLOW("epoll_ctl"), ALLOW("epoll_wait"),
	ALLOW("epoll_pwait"), ALLOW("poll"), ALLOW("ppoll"), ALLOW("pipe2"),
	ALLOW("eventfd2"),
	ALLOW("fcntl"), ALLOW("dup"), ALLOW("dup3"),
	/* fstat(2) only: glibc makes it newfstatat(fd, "", AT_EMPTY_PATH). */
	ALLOW("fstat"),
	ALLOW_MASKED("newfstatat", 3, AT_EMPTY_PATH, AT_EMPTY_PATH),
	/* Sockets it was handed: options, addresses, half-close. */
	ALLOW("getsockopt"), ALLOW("setsockopt"), ALLOW("getsockname"),
	ALLOW("getpeername"), ALLOW("shutdown"),
	/* keyproxy's channel to lookup, made again when lookup restarts. */
	ALLOW_MASKED("socketpair", 0, U32, AF_UNIX),
	/*
	 * syslog(3) reconnects to /dev/log after the log daemon restarted;
	 * a new socket fails instead (in a chroot /dev/log is not there
	 * anyway), so that no role can reach a UNIX socket of the host.
	 */
	FAIL_MASKED("socket", SANDBOX_EACCES, 0, U32, AF_UNIX),
	/* libevent sizes reads with FIONREAD; isatty(3) asks TCGETS. */
	ALLOW_MASKED("ioctl", 1, U32, FIONREAD),
	ALLOW_MASKED("ioctl", 1, U32, TCGETS),
	ALLOW("brk"), ALLOW("mmap"), ALLOW("munmap"), ALLOW("mremap"),
	ALLOW("mprotect"), ALLOW("madvise"),
	/* The clock, when the vDSO falls back; mbox lock waits sleep. */
	ALLOW("clock_gettime"), ALLOW("clock_getres"), ALLOW("gettimeofday"),
	ALLOW("time"), ALLOW("nanosleep"), ALLOW("clock_nanosleep"),
	ALLOW("getpid"), ALLOW("gettid"), ALLOW("getuid"), ALLOW("geteuid"),
	ALLOW("getgid"), ALLOW("getegid"),
	/* gethostname(3) (Maildir names), qsort(3) (sysinfo, once). */
	ALLOW("uname"), ALLOW("sysinfo"), ALLOW("sched_getaffinity"),
	/* getrlimit(2), never setting one. */
	ALLOW_EQ("prlimit64", 2, 0),
	ALLOW("rt_sigaction"), ALLOW("rt_sigprocmask"), ALLOW("rt_sigreturn"),
	ALLOW("sigaltstack"), ALLOW("restart_syscall"),
	/* abort(3) and raise(3), to ourselves only. */
	ALLOW_SELF("tgkill", 0),
	/* OpenSSL reseeds its generator; libevent and queue ids. */
	ALLOW("getrandom"),
	/* Mutexes (OpenSSL, glibc, the worker pools). */
	ALLOW("futex"), ALLOW("sched_yield"),
	ALLOW("exit"), ALLOW("exit_group"),
	/*
	 * clone3 passes its flags in memory, which a filter cannot read:
	 * ENOSYS makes glibc fall back to clone(2), whose flags it can.
	 */
	FAIL("clone3", SANDBOX_ENOSYS),
};

/* Worker threads: lookup's and the mda's pools, libunbound's resolver. */
static const struct sandbox_rule sandbox_threads[] = {
	/* A thread, never a process: CLONE_THREAD must be set. */
	ALLOW_MASKED("clone", 0, CLONE_THREAD, CLONE_THREAD),
	/* What glibc's new thread registers for itself. */
	ALLOW("set_robust_list"), ALLOW("rseq"),
};

/*
 * The files under the role's directory (chroot): SQLite's database and
 * journals (lookup), the spool (queue), the Maildirs and mboxes (mda,
 * pop3, imap).
 */
static const struct sandbox_rule sandbox_files[] = {
	ALLOW("openat"), ALLOW("open"),
	ALLOW("newfstatat"), ALLOW("stat"), ALLOW("lstat"),
	ALLOW("getdents64"), ALLOW("access"), ALLOW("faccessat"),
	ALLOW("faccessat2"), ALLOW("readlink"), ALLOW("readlinkat"),
	ALLOW("getcwd"),
	ALLOW("mkdir"), ALLOW("mkdirat"), ALLOW("unlink"), ALLOW("unlinkat"),
	ALLOW("rename"), ALLOW("renameat"), ALLOW("renameat2"),
	ALLOW("link"), ALLOW("linkat"),
	ALLOW("fsync"), ALLOW("fdatasync"), ALLOW("ftruncate"),
	ALLOW("fallocate"), ALLOW("flock"),
	/* SQLite sets the mode of a journal it creates. */
	ALLOW("fchmod"),
};

/*
 * What only the imap role does to the Maildirs: DELETE removes a folder's
 * directories, APPEND sets a message's internal date (its mtime), and
 * the selected folders are watched for changes by others (inotify(7);
 * the descriptor itself is made before the filter).
 */
static const struct sandbox_rule sandbox_folders[] = {
	ALLOW("rmdir"), ALLOW("utimensat"),
	ALLOW("inotify_add_watch"), ALLOW("inotify_rm_watch"),
};

/*
 * The mta opens no file, but OpenSSL looks for an issuer in the CA
 * directory (/etc/ssl/certs/HASH.0) while it checks a chain: that fails
 * quietly, as it does in the chroot, where the directory is not; the
 * bundle read before the chroot holds the same certificates.
 */
static const struct sandbox_rule sandbox_ca_probe[] = {
	FAIL("openat", SANDBOX_EACCES), FAIL("open", SANDBOX_EACCES),
	FAIL("stat", SANDBOX_EACCES),
	FAIL_MASKED("newfstatat", SANDBOX_EACCES, 3, AT_EMPTY_PATH, 0),
};

/* Clients on the listeners the parent handed over. */
static const struct sandbox_rule sandbox_accept[] = {
	ALLOW("accept4"), ALLOW("accept"),
};

/* Sockets of its own: DNS over UDP and TCP (lookup), SMTP out (mta). */
static const struct sandbox_rule sandbox_connect[] = {
	ALLOW_MASKED("socket", 0, U32, AF_INET),
	ALLOW_MASKED("socket", 0, U32, AF_INET6),
	ALLOW("connect"),
	/* libunbound binds each query to a random source port. */
	ALLOW("bind"),
	ALLOW("sendto"), ALLOW("recvfrom"),
};

/*
 * Sanitizer builds (the tests) only.  An AddressSanitizer or UBSan
 * report reads /proc/self/maps and looks for llvm-symbolizer, then
 * forks it; on x86-64 its runtime makes the old calls open(2), stat(2)
 * and fork(2) for that, which glibc never makes (its fork() is clone(2),
 * which still kills).  Failing them lets the report come out whole,
 * frames as module+offset as in the chroot, where neither /proc nor the
 * symbolizer is, instead of a SIGSYS that would hide the bug.
 */
static const struct sandbox_rule sandbox_sanitizer[] = {
	FAIL("fork", SANDBOX_EACCES),
};

/* The same, for the roles whose lists have no open(2) or stat(2). */
static const struct sandbox_rule sandbox_sanitizer_files[] = {
	FAIL("open", SANDBOX_EACCES), FAIL("stat", SANDBOX_EACCES),
};

static const struct {
	unsigned			 set;
	const struct sandbox_rule	*rules;
	size_t				 n;
} sandbox_sets_table[] = {
#define SANDBOX_SET(bit, a)	{ (bit), (a), sizeof(a) / sizeof((a)[0]) }
	SANDBOX_SET(SANDBOX_CORE, sandbox_core),
	SANDBOX_SET(SANDBOX_THREADS, sandbox_threads),
	SANDBOX_SET(SANDBOX_FILES, sandbox_files),
	SANDBOX_SET(SANDBOX_FOLDERS, sandbox_folders),
	SANDBOX_SET(SANDBOX_CA_PROBE, sandbox_ca_probe),
	SANDBOX_SET(SANDBOX_ACCEPT, sandbox_accept),
	SANDBOX_SET(SANDBOX_CONNECT, sandbox_connect),
	SANDBOX_SET(SANDBOX_SANITIZER, sandbox_sanitizer),
	SANDBOX_SET(SANDBOX_SANITIZER_FILES, sandbox_sanitizer_files),
#undef SANDBOX_SET
};

unsigned
sandbox_sets(enum proc_id id)
{
	unsigned	sets;

	if (id >= PROC_COUNT || (sets = sandbox_role_sets[id]) == 0)
		return 0;
#ifdef SANDBOX_SANITIZED
	sets |= SANDBOX_SANITIZER;
	if ((sets & (SANDBOX_FILES | SANDBOX_CA_PROBE)) == 0)
		sets |= SANDBOX_SANITIZER_FILES;
#endif
	return sets;
}

size_t
sandbox_rules(enum proc_id id, const struct sandbox_rule **out, size_t max)
{
	unsigned	sets = sandbox_sets(id);
	size_t		i, j, n = 0;

	for (i = 0; i < sizeof(sandbox_sets_table) /
	    sizeof(sandbox_sets_table[0]); i++) {
		if ((sets & sandbox_sets_table[i].set) == 0)
			continue;
		for (j = 0; j < sandbox_sets_table[i].n; j++, n++)
			if (n < max)
				out[n] = &sandbox_sets_table[i].rules[j];
	}
	return n;
}

static int
sandbox_add(scmp_filter_ctx ctx, const struct sandbox_rule *r,
    const char **errstr_out)
{
	static char		 err[128];
	struct scmp_arg_cmp	 cmp;
	uint32_t		 action;
	int			 nr, rc;

	if ((nr = seccomp_syscall_resolve_name(r->name)) == __NR_SCMP_ERROR) {
		(void)snprintf(err, sizeof(err), "unknown system call %s",
		    r->name);
		*errstr_out = err;
		return -1;
	}
	switch (r->act) {
	case SANDBOX_ALLOW:
		action = SCMP_ACT_ALLOW;
		break;
	case SANDBOX_EACCES:
		action = SCMP_ACT_ERRNO(EACCES);
		break;
	case SANDBOX_ENOSYS:
	default:
		action = SCMP_ACT_ERRNO(ENOSYS);
		break;
	}
	memset(&cmp, 0, sizeof(cmp));
	cmp.arg = r->arg;
	switch (r->cmp) {
	case SANDBOX_ANY:
		rc = seccomp_rule_add(ctx, action, nr, 0);
		break;
	case SANDBOX_EQ:
		cmp.op = SCMP_CMP_EQ;
		cmp.datum_a = r->value;
		rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
		break;
	case SANDBOX_MASKED:
		cmp.op = SCMP_CMP_MASKED_EQ;
		cmp.datum_a = r->mask;
		cmp.datum_b = r->value;
		rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
		break;
	case SANDBOX_SELF:
	default:
		cmp.op = SCMP_CMP_EQ;
		cmp.datum_a = (scmp_datum_t)getpid();
		rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
		break;
	}
	if (rc != 0) {
		(void)snprintf(err, sizeof(err), "rule for %s: %s", r->name,
		    strerror(-rc));
		*errstr_out = err;
		return -1;
	}
	return 0;
}

int
sandbox_enter(enum proc_id id, const char **errstr_out)
{
	const struct sandbox_rule	*rules[SANDBOX_RULES_MAX];
	scmp_filter_ctx			 ctx;
	size_t				 i, n;

	if (sandbox_sets(id) == 0) {
		*errstr_out = "no sandbox for this role";
		return -1;
	}
	if ((n = sandbox_rules(id, rules, SANDBOX_RULES_MAX)) >
	    SANDBOX_RULES_MAX) {
		*errstr_out = "too many rules";
		return -1;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		*errstr_out = "seccomp_init failed";
		return -1;
	}
	/*
	 * TSYNC: the threads that set-up started (worker pools) get the
	 * filter too.  A call made for another architecture (int 0x80 on
	 * x86-64) kills as well.  The calls are found by a binary search
	 * rather than one after another: the lists are long, and calls
	 * with argument checks (ioctl FIONREAD on every read) run the
	 * program at each call.
	 */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0) {
		seccomp_release(ctx);
		*errstr_out = "seccomp_attr_set failed";
		return -1;
	}
	for (i = 0; i < n; i++)
		if (sandbox_add(ctx, rules[i], errstr_out) == -1) {
			seccomp_release(ctx);
			return -1;
		}
	if (seccomp_load(ctx) != 0) {
		seccomp_release(ctx);
		*errstr_out = "seccomp_load failed (a kernel without "
		    "seccomp filters? set `sandbox no`)";
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

/*
 * A number of at most 16 digits in base 10 or 16 at p, before end, as
 * the kernel prints them (no leading zero): the first octet after it,
 * or NULL when there is none, it is too long or it starts with a zero.
 */
static const char *
sandbox_num(const char *p, const char *end, int base, uint64_t *out)
{
	const char	*start = p;
	uint64_t	 v = 0;
	int		 d;

	for (; p < end && p - start < 16; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			break;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (p == start || (p < end && ((*p >= '0' && *p <= '9') ||
	    (*p >= 'a' && *p <= 'f'))) || (*start == '0' && p - start > 1))
		return NULL;
	*out = v;
	return p;
}

/* The number after " key=" (first or last occurrence), ending a field. */
static int
sandbox_field(const char *p, const char *end, const char *key, bool last,
    int base, uint64_t *out)
{
	const char	*hit = NULL, *q;
	size_t		 klen = strlen(key);

	while (p < end && (q = memmem(p, (size_t)(end - p), key, klen)) !=
	    NULL) {
		hit = q;
		if (!last)
			break;
		p = q + 1;
	}
	if (hit == NULL || (q = sandbox_num(hit + klen, end, base, out)) ==
	    NULL || (q < end && *q != ' '))
		return -1;
	return 0;
}

int
sandbox_audit_parse(const char *rec, size_t len, pid_t pid, long *nr,
    uint32_t *arch, uint64_t *usec)
{
	const char	*end = rec + len, *msg, *p, *nl;
	uint64_t	 v, a, n, t;
	int		 i;

	/* The prefix: priority, sequence, time, flags. */
	if ((msg = memchr(rec, ';', len)) == NULL)
		return -1;
	for (p = rec, i = 0; i < 2; i++) {
		if ((p = memchr(p, ',', (size_t)(msg - p))) == NULL)
			return -1;
		p++;
	}
	if ((p = sandbox_num(p, msg, 10, &t)) == NULL || *p != ',')
		return -1;
	/* The message is the first line; continuation lines follow. */
	msg++;
	if ((nl = memchr(msg, '\n', (size_t)(end - msg))) != NULL)
		end = nl;
	/*
	 * "audit: type=1326 audit(T:S): auid=.. uid=.. gid=.. ses=.. pid=N
	 * comm=.. exe=.. sig=31 arch=HEX syscall=N compat=0 ip=.. code=..":
	 * comm and exe are quoted, or hex when they hold a space, so no
	 * field can fake another; still, pid is the first and syscall the
	 * last of its name.
	 */
	if ((size_t)(end - msg) < 17 || memcmp(msg, "audit: type=1326 ",
	    17) != 0)
		return -1;
	if (sandbox_field(msg, end, " pid=", false, 10, &v) == -1 ||
	    v != (uint64_t)pid ||
	    sandbox_field(msg, end, " arch=", true, 16, &a) == -1 ||
	    a > UINT32_MAX ||
	    sandbox_field(msg, end, " syscall=", true, 10, &n) == -1 ||
	    n > INT32_MAX)
		return -1;
	*nr = (long)n;
	*arch = (uint32_t)a;
	*usec = t;
	return 0;
}

long
sandbox_killed_by(pid_t pid, char *name, size_t namesz)
{
	char		 rec[SANDBOX_KMSG_RECORD], *s;
	struct timespec	 now, pause = { 0, 10 * 1000 * 1000 };
	uint64_t	 since, usec;
	uint32_t	 arch;
	ssize_t		 n;
	size_t		 records = 0;
	long		 nr = -1, got;
	int		 fd, waited;

	if (namesz > 0)
		name[0] = '\0';
	if ((fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	/* A record about an earlier process of the same pid is older. */
	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	since = (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
	since = since > SANDBOX_KMSG_AGE_US ? since - SANDBOX_KMSG_AGE_US : 0;
	for (waited = 0; nr == -1 && waited <= SANDBOX_KMSG_WAIT_MS;
	    waited += 10) {
		if (waited > 0)
			(void)nanosleep(&pause, NULL);
		while (records++ < SANDBOX_KMSG_RECORDS_MAX) {
			/* One record per read; EPIPE: it was overwritten. */
			if ((n = read(fd, rec, sizeof(rec))) == -1 &&
			    errno == EPIPE)
				continue;
			if (n <= 0)
				break;
			if (sandbox_audit_parse(rec, (size_t)n, pid, &got,
			    &arch, &usec) == 0 && usec >= since &&
			    arch == seccomp_arch_native())
				nr = got;
		}
	}
	close(fd);
	if (nr >= 0 && (s = seccomp_syscall_resolve_num_arch(
	    SCMP_ARCH_NATIVE, (int)nr)) != NULL) {
		(void)str_copy(name, namesz, s);
		free(s);
	}
	return nr;
}

#ifdef CACHET_TEST_HOOKS
int
sandbox_test_violate(const char *what)
{
	static volatile size_t	 past = 9;
	struct sockaddr_in	 sin;
	char			*argv[] = { "cachet-sandbox-test", NULL };
	char			*p;
	pid_t			 pid;
	int			 fd, sv[2];

	log_warnx("sandbox-test: trying %s", what);
	if (strcmp(what, "exec") == 0) {
		/* A path that does not exist: without a filter, ENOENT. */
		(void)execve("/nonexistent/cachet-sandbox-test", argv, NULL);
		log_warn("sandbox-test: exec returned");
	} else if (strcmp(what, "fork") == 0) {
		if ((pid = fork()) == 0)
			_exit(0);
		if (pid > 0)
			(void)waitpid(pid, NULL, 0);
		log_warnx("sandbox-test: fork returned %d", (int)pid);
	} else if (strcmp(what, "open") == 0) {
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		log_warn("sandbox-test: open returned %d", fd);
		if (fd != -1)
			close(fd);
	} else if (strcmp(what, "socket") == 0) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		log_warn("sandbox-test: socket returned %d", fd);
		if (fd != -1)
			close(fd);
	} else if (strcmp(what, "connect") == 0) {
		/* connect(2) itself, on a socket the role may make. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) == -1) {
			log_warn("sandbox-test: socketpair");
			return 0;
		}
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(9);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = connect(sv[0], (struct sockaddr *)&sin, sizeof(sin));
		log_warn("sandbox-test: connect returned %d", fd);
		close(sv[0]);
		close(sv[1]);
	} else if (strcmp(what, "asan-report") == 0) {
		/* Not a violation: a bug the sanitizer must report whole. */
		p = xmalloc(8);
		/* cppcheck-suppress arrayIndexOutOfBounds ; the bug it is for */
		log_warnx("sandbox-test: read past the end: %d", p[past]);
		free(p);
	} else
		return -1;
	return 0;
}
#endif
