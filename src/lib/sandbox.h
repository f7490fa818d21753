/*
 * sandbox: a seccomp-bpf allow-list per role (libseccomp).  proc_run()
 * installs the role's list after the role's set-up and privilege drop;
 * from then on a system call outside the list kills the whole process
 * (SECCOMP_RET_KILL_PROCESS, the process dies of SIGSYS) and the parent
 * logs it and starts the role again.  A few calls that libraries make
 * harmlessly fail with an errno instead (see the lists in sandbox.c).
 *
 * The lists are built from named sets (every role's core, threads, the
 * role's directory, accepting clients, connecting out): the table at the
 * top of sandbox.c says which role has which, and docs/architecture.md
 * says the same in words.
 */
#ifndef CACHET_SANDBOX_H
#define CACHET_SANDBOX_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proc.h"

/* What a rule does when its system call and condition match. */
enum sandbox_act {
	SANDBOX_ALLOW,
	SANDBOX_EACCES,		/* fails with EACCES: a harmless probe */
	SANDBOX_ENOSYS,		/* fails with ENOSYS: use the older call */
};

/* The condition on one argument; SANDBOX_SELF compares with our pid. */
enum sandbox_cmp {
	SANDBOX_ANY,		/* no condition */
	SANDBOX_EQ,		/* arg == value */
	SANDBOX_MASKED,		/* (arg & mask) == value */
	SANDBOX_SELF,		/* arg == getpid() at installation */
};

struct sandbox_rule {
	const char		*name;	/* as libseccomp names it */
	enum sandbox_act	 act;
	enum sandbox_cmp	 cmp;
	unsigned		 arg;	/* 0-5 */
	uint64_t		 mask;
	uint64_t		 value;
};

/* The sets of rules a role may have (bits of sandbox_sets()). */
#define SANDBOX_CORE	0x01u	/* loop, memory, channels, clock, logging */
#define SANDBOX_THREADS	0x02u	/* worker threads: clone(CLONE_THREAD) */
#define SANDBOX_FILES	0x04u	/* the files under the role's directory */
#define SANDBOX_CA_PROBE 0x08u	/* open/stat by name fail with EACCES */
#define SANDBOX_ACCEPT	0x10u	/* clients on the inherited listeners */
#define SANDBOX_CONNECT	0x20u	/* IPv4/IPv6 sockets of its own: connect */
#define SANDBOX_SANITIZER 0x40u	/* sanitizer builds: their reports */
#define SANDBOX_SANITIZER_FILES 0x80u	/* the same, roles without files */
#define SANDBOX_FOLDERS	0x100u	/* imap: rmdir, file times, inotify watches */

/* The sets a role has; 0 for the parent, which has no filter. */
unsigned	sandbox_sets(enum proc_id);

/*
 * The rules of a role, in the order they are added: at most max are
 * stored in out; returns how many there are.
 */
size_t		sandbox_rules(enum proc_id, const struct sandbox_rule **out,
		    size_t max);

/*
 * Install the role's filter on every thread of the process.  Returns 0,
 * or -1 with *errstr_out saying why (the role must then not run).
 */
int		sandbox_enter(enum proc_id, const char **errstr_out);

/*
 * The parent's side, after a role died of SIGSYS: the system call that
 * its filter killed it for, from the kernel's audit record (type=1326)
 * in /dev/kmsg, which root may read.  Returns the call's number and its
 * name in name (or "" when unknown), or -1 when no such record is there
 * (no access, or audit records go to auditd instead: see its log).
 * Waits at most SANDBOX_KMSG_WAIT_MS for the record, which the kernel
 * writes from a thread of its own.
 */
#define SANDBOX_KMSG_WAIT_MS	250
long		sandbox_killed_by(pid_t pid, char *name, size_t namesz);

/*
 * One /dev/kmsg record ("PRIO,SEQ,USEC,FLAGS;MESSAGE\n" and optional
 * continuation lines), len octets, not NUL-terminated.  Returns 0 when
 * it is the audit record of a seccomp kill of pid, with the system call
 * in *nr, its AUDIT_ARCH in *arch and the record's time (microseconds
 * since boot) in *usec; -1 for any other record, well-formed or not.
 */
int		sandbox_audit_parse(const char *rec, size_t len, pid_t pid,
		    long *nr, uint32_t *arch, uint64_t *usec);

#ifdef CACHET_TEST_HOOKS
/*
 * Test builds only: make one forbidden call ("exec", "fork", "open",
 * "socket", "connect") as a compromised role might.  Under the filter
 * the process dies here; without it the call is undone and logged.
 * "asan-report" reads past a heap block instead, for AddressSanitizer
 * to report.  Returns -1 for an unknown name.
 */
int		sandbox_test_violate(const char *what);
#endif

#endif
