/*
 * proc: the role table and the child side of a role process.  The parent
 * (cachetd.c) execs `cachetd -X ROLE` with its channel on descriptor 3,
 * then sends the config text, the role's listening sockets, for a worker
 * its number and the role's connection table, a channel per sibling
 * process the role may talk to, and finally GO.  The child trusts the
 * parent and nothing else; after GO it drops privileges and serves.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "conn_limit.h"
#include "ipc.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "sandbox.h"
#include "util.h"

#define LISTEN_BIT(k)	(1u << (k))
#define CONF_TEXT_MAX	(1024 * 1024)
#define WORKERS(f)	offsetof(struct conf, workers.f)

_Static_assert(PROC_WORKERS_MAX == CONF_WORKERS_MAX &&
    PROC_WORKERS_MAX <= CONN_LIMIT_WORKERS, "one bound on workers");
_Static_assert(offsetof(struct conf, workers) != 0,
    "0 means a one-process role");

const struct proc_info proc_table[PROC_COUNT] = {
	[PROC_PARENT] = { PROC_PARENT, "parent", "", PROC_DIR_EMPTY, 0, 0,
	    NULL },
	[PROC_SMTP] = { PROC_SMTP, "smtp", "", PROC_DIR_EMPTY,
	    LISTEN_BIT(CONF_LISTEN_SMTP) | LISTEN_BIT(CONF_LISTEN_SUBMISSION) |
	    LISTEN_BIT(CONF_LISTEN_SUBMISSIONS), WORKERS(smtp), smtp_main },
	[PROC_LOOKUP] = { PROC_LOOKUP, "lookup", "l", PROC_DIR_LOOKUP, 0, 0,
	    lookup_main },
	[PROC_QUEUE] = { PROC_QUEUE, "queue", "q", PROC_DIR_QUEUE, 0, 0,
	    queue_main },
	[PROC_MDA] = { PROC_MDA, "mda", "m", PROC_DIR_MAIL, 0, 0, mda_main },
	[PROC_MTA] = { PROC_MTA, "mta", "", PROC_DIR_EMPTY, 0, 0, mta_main },
	[PROC_IMAP] = { PROC_IMAP, "imap", "m", PROC_DIR_MAIL,
	    LISTEN_BIT(CONF_LISTEN_IMAP) | LISTEN_BIT(CONF_LISTEN_IMAPS),
	    WORKERS(imap), imap_main },
	[PROC_POP3] = { PROC_POP3, "pop3", "m", PROC_DIR_MAIL,
	    LISTEN_BIT(CONF_LISTEN_POP3) | LISTEN_BIT(CONF_LISTEN_POP3S),
	    WORKERS(pop3), pop3_main },
	[PROC_HTTP] = { PROC_HTTP, "http", "h", PROC_DIR_EMPTY,
	    LISTEN_BIT(CONF_LISTEN_HTTPS) | LISTEN_BIT(CONF_LISTEN_HTTP) |
	    LISTEN_BIT(CONF_LISTEN_METRICS), 0, http_main },
};

/*
 * Which siblings have a channel.  The parent talks to every role; the
 * rest follows the data flow of DESIGN.md and nothing more, so that a
 * compromised smtp role cannot, say, ask the mda for anything.
 */
static const enum proc_id proc_pairs[][2] = {
	{ PROC_SMTP, PROC_LOOKUP },
	{ PROC_SMTP, PROC_QUEUE },
	{ PROC_QUEUE, PROC_LOOKUP },
	{ PROC_QUEUE, PROC_MDA },
	{ PROC_QUEUE, PROC_MTA },
	{ PROC_MDA, PROC_LOOKUP },
	{ PROC_MTA, PROC_LOOKUP },
	{ PROC_IMAP, PROC_LOOKUP },
	{ PROC_POP3, PROC_LOOKUP },
	{ PROC_HTTP, PROC_LOOKUP },	/* its TLS key operations alone */
};

const struct proc_info *
proc_by_name(const char *name)
{
	size_t	i;

	for (i = 1; i < PROC_COUNT; i++)
		if (strcmp(proc_table[i].name, name) == 0)
			return &proc_table[i];
	return NULL;
}

const char *
proc_name(enum proc_id id)
{
	return id < PROC_COUNT ? proc_table[id].name : "unknown";
}

bool
proc_may_talk(enum proc_id a, enum proc_id b)
{
	size_t	i;

	if (a == b || a >= PROC_COUNT || b >= PROC_COUNT)
		return false;
	if (a == PROC_PARENT || b == PROC_PARENT)
		return true;
	for (i = 0; i < sizeof(proc_pairs) / sizeof(proc_pairs[0]); i++)
		if ((proc_pairs[i][0] == a && proc_pairs[i][1] == b) ||
		    (proc_pairs[i][0] == b && proc_pairs[i][1] == a))
			return true;
	return false;
}

unsigned
proc_workers(const struct conf *conf, enum proc_id id)
{
	unsigned	n;
	long		cores;

	if (id >= PROC_COUNT || proc_table[id].workers_field == 0)
		return 1;
	memcpy(&n, (const char *)conf + proc_table[id].workers_field,
	    sizeof(n));
	if (n != 0)
		return n > PROC_WORKERS_MAX ? PROC_WORKERS_MAX : n;
	/*
	 * One per core: each worker is one event loop, which one core
	 * runs.  Past a few, lookup and queue (one process each) set the
	 * pace, so auto stops at PROC_WORKERS_AUTO_MAX.
	 */
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1)
		return 1;
	return cores > PROC_WORKERS_AUTO_MAX ? PROC_WORKERS_AUTO_MAX :
	    (unsigned)cores;
}

unsigned
proc_metrics_slot(enum proc_id id, unsigned worker)
{
	unsigned	slot = 0;
	size_t		i;

	for (i = 0; i < id && i < PROC_COUNT; i++)
		slot += proc_table[i].workers_field != 0 ? PROC_WORKERS_MAX : 1;
	return slot + worker;
}

unsigned
proc_metrics_slots(void)
{
	return proc_metrics_slot(PROC_COUNT, 0);
}

void
proc_user(const struct conf *conf, enum proc_id id, char *out, size_t outsz)
{
	char	*s;

	s = xasprintf("%s%s", conf->user, proc_table[id].user_suffix);
	if (str_copy(out, outsz, s) == -1)
		fatalx("user name %s too long", s);
	free(s);
}

void
proc_ensure_user(const char *name)
{
	pid_t	 pid;
	int	 status;
	char	*argv[] = { "useradd", "--system", "--user-group",
		    "--no-create-home", "--home-dir", "/nonexistent",
		    "--shell", "/usr/sbin/nologin", (char *)name, NULL };

	if (getpwnam(name) != NULL)
		return;
	log_info("creating user user=%s", name);
	if (posix_spawnp(&pid, "useradd", NULL, NULL, argv, environ) != 0)
		fatal("spawn useradd");
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fatalx("useradd %s failed", name);
	if (getpwnam(name) == NULL)
		fatalx("user %s still missing after useradd", name);
}

void
proc_dir_path(const struct conf *conf, enum proc_id id, char *out,
    size_t outsz)
{
	char	*s = NULL;

	switch (proc_table[id].dir) {
	case PROC_DIR_EMPTY:
		s = xasprintf("%s/empty", conf->state_dir);
		break;
	case PROC_DIR_LOOKUP:
		s = xasprintf("%s/lookup", conf->state_dir);
		break;
	case PROC_DIR_QUEUE:
		s = xasprintf("%s/queue", conf->state_dir);
		break;
	case PROC_DIR_MAIL:
		s = xasprintf("%s", conf->mail_dir);
		break;
	}
	if (str_copy(out, outsz, s) == -1)
		fatalx("path %s too long", s);
	free(s);
}

void
proc_tls_paths(const struct conf *conf, char *cert, char *key, size_t sz)
{
	if (conf->tls_cert[0] != '\0') {
		if (str_copy(cert, sz, conf->tls_cert) == -1 ||
		    str_copy(key, sz, conf->tls_key) == -1)
			fatalx("certificate path too long");
		return;
	}
	/*
	 * tls { acme }: the certificate lookup stored (lookup_acme.h) once
	 * there is one with its key; the self-signed pair until then.
	 */
	if (conf->acme_url[0] != '\0') {
		if (path_join(cert, sz, conf->state_dir, "lookup/acme/cert.pem")
		    == -1 || path_join(key, sz, conf->state_dir,
		    "lookup/acme/key.pem") == -1)
			fatalx("state-dir path too long");
		if (access(cert, R_OK) == 0 && access(key, R_OK) == 0)
			return;
	}
	if (path_join(cert, sz, conf->state_dir, "tls/cert.pem") == -1 ||
	    path_join(key, sz, conf->state_dir, "tls/key.pem") == -1)
		fatalx("state-dir path too long");
}

static struct conf *
proc_read_config(int fd)
{
	struct conf	*conf;
	struct stat	 st;
	char		*text, errs[4096];
	ssize_t		 n;

	if (fstat(fd, &st) == -1)
		fatal("config fstat");
	if (st.st_size < 0 || st.st_size > CONF_TEXT_MAX)
		fatalx("config from parent too large");
	text = xmalloc((size_t)st.st_size + 1);
	n = pread(fd, text, (size_t)st.st_size, 0);
	if (n != st.st_size)
		fatal("config read");
	text[n] = '\0';
	close(fd);
	/* The parent checked this text already; failing here is a bug. */
	if ((conf = conf_parse("config", text, (size_t)n, errs,
	    sizeof(errs))) == NULL)
		fatalx("config from parent does not parse: %s", errs);
	free(text);
	return conf;
}

static void
proc_chan_msg(struct ipc_chan *c, struct msg *m, void *arg);
static void
proc_chan_close(struct ipc_chan *c, void *arg);

struct proc_chan_arg {
	struct proc_self	*self;
	struct proc_peer	 peer;
};

static struct proc_chan_arg	proc_args[PROC_COUNT][PROC_WORKERS_MAX];

static void
proc_add_peer(struct proc_self *self, struct proc_peer p, int fd)
{
	struct proc_chan_arg	*a = &proc_args[p.id][p.worker];
	char			 name[32];

	if (self->peer[p.id][p.worker] != NULL) {
		ipc_chan_free(self->peer[p.id][p.worker]);
		self->peer[p.id][p.worker] = NULL;
	}
	a->self = self;
	a->peer = p;
	(void)snprintf(name, sizeof(name), "%s->%s/%u", self->info->name,
	    proc_name(p.id), p.worker);
	self->peer[p.id][p.worker] = ipc_chan_new(self->base, fd, name,
	    proc_chan_msg, proc_chan_close, a);
}

/*
 * A MSG_PARENT_PEER: u32 role, u32 worker, fd.  The role must be one we
 * may talk to, and the worker one that role can have.
 */
static int
proc_get_peer(struct proc_self *self, struct msg *m, struct proc_peer *p,
    int *fd)
{
	uint32_t	id, worker;

	if (msg_get_u32(m, &id) == -1 || msg_get_u32(m, &worker) == -1 ||
	    msg_end(m) == -1 || id >= PROC_COUNT ||
	    !proc_may_talk(self->info->id, (enum proc_id)id) ||
	    worker >= PROC_WORKERS_MAX ||
	    (worker > 0 && proc_table[id].workers_field == 0) ||
	    (*fd = msg_take_fd(m)) == -1)
		return -1;
	p->id = (enum proc_id)id;
	p->worker = worker;
	return 0;
}

static void
proc_chan_msg(struct ipc_chan *c, struct msg *m, void *arg)
{
	struct proc_chan_arg	*a = arg;
	struct proc_self	*self = a->self;
	struct proc_peer	 p;
	struct msg		*r;
	uint64_t		 reqid;
	int			 fd;
#ifdef CACHET_TEST_HOOKS
	char			 what[32];
#endif

	switch (m->type) {
	case MSG_PING:
		if (msg_get_u64(m, &reqid) == -1 || msg_end(m) == -1)
			fatalx("%s: bad %s from %s", self->info->name,
			    msg_name(m->type), proc_name(a->peer.id));
		r = msg_new(MSG_PONG);
		msg_put_u64(r, reqid);
		ipc_send(c, r);
		msg_free(m);
		return;
	case MSG_PARENT_PEER:
		if (a->peer.id != PROC_PARENT ||
		    proc_get_peer(self, m, &p, &fd) == -1)
			fatalx("%s: bad %s from %s", self->info->name,
			    msg_name(m->type), proc_name(a->peer.id));
		msg_free(m);
		proc_add_peer(self, p, fd);
		log_debug("peer up role=%s worker=%u", proc_name(p.id),
		    p.worker);
		if (self->peer_up != NULL)
			self->peer_up(self, p);
		return;
#ifdef CACHET_TEST_HOOKS
	case MSG_PARENT_SANDBOX_TEST:
		if (a->peer.id != PROC_PARENT ||
		    msg_get_str(m, what, sizeof(what)) == -1 ||
		    msg_end(m) == -1 || sandbox_test_violate(what) == -1)
			fatalx("%s: bad %s from %s", self->info->name,
			    msg_name(m->type), proc_name(a->peer.id));
		msg_free(m);
		return;
#endif
	default:
		if (self->dispatch == NULL)
			fatalx("%s: unexpected %s from %s", self->info->name,
			    msg_name(m->type), proc_name(a->peer.id));
		self->dispatch(self, a->peer, m);
		return;
	}
}

static void
proc_chan_close(struct ipc_chan *c, void *arg)
{
	struct proc_chan_arg	*a = arg;
	struct proc_self	*self = a->self;
	struct proc_peer	 p = a->peer;

	if (p.id == PROC_PARENT) {
		/* The parent is gone: so are we. */
		log_debug("parent gone, exiting");
		exit(0);
	}
	log_info("peer down role=%s worker=%u", proc_name(p.id), p.worker);
	ipc_chan_free(self->peer[p.id][p.worker]);
	self->peer[p.id][p.worker] = NULL;
	if (self->peer_down != NULL)
		self->peer_down(self, p);
}

int
proc_send_peer(struct proc_self *self, struct proc_peer to, struct msg *m)
{
	if (to.id >= PROC_COUNT || to.worker >= PROC_WORKERS_MAX ||
	    self->peer[to.id][to.worker] == NULL) {
		log_warnx("no channel to %s/%u, %s dropped", proc_name(to.id),
		    to.worker, msg_name(m->type));
		msg_free(m);
		return -1;
	}
	ipc_send(self->peer[to.id][to.worker], m);
	return 0;
}

int
proc_send(struct proc_self *self, enum proc_id to, struct msg *m)
{
	struct proc_peer	p = { to, 0 };

	return proc_send_peer(self, p, m);
}

void
proc_ctl_line(struct proc_self *self, uint64_t reqid, const char *line)
{
	struct msg	*m;

	m = msg_new(MSG_CTL_LINE);
	msg_put_u64(m, reqid);
	msg_put_str(m, line);
	(void)proc_send(self, PROC_PARENT, m);
}

void
proc_ctl_end(struct proc_self *self, uint64_t reqid, uint32_t code,
    const char *err)
{
	struct msg	*m;

	m = msg_new(MSG_CTL_END);
	msg_put_u64(m, reqid);
	msg_put_u32(m, code);
	msg_put_str(m, err == NULL ? "" : err);
	(void)proc_send(self, PROC_PARENT, m);
}

void
proc_child_main(const char *name, bool foreground, bool verbose)
{
	static struct proc_self	 self;
	static struct {
		struct proc_peer	p;
		int			fd;
	}			 peers[PROC_COUNT * PROC_WORKERS_MAX];
	const struct proc_info	*info;
	struct proc_peer	 parent = { PROC_PARENT, 0 };
	struct msg		*m;
	const char		*errstr;
	struct span		 sp;
	size_t			 npeers = 0, i;
	uint32_t		 u, n;
	int			 fd;

	log_init(foreground, verbose);
	if ((info = proc_by_name(name)) == NULL)
		fatalx("unknown role %s", name);
	log_setproc(info->name);
	self.info = info;
	self.submit_fd = -1;
	self.conn_table_fd = -1;
	self.nworkers = 1;
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);

	/* Receive the role's material until GO; the parent is trusted. */
	for (;;) {
		if ((m = ipc_read_blocking(PROC_PARENT_FD)) == NULL) {
			if (errno == 0)
				exit(0);
			fatal("reading from parent");
		}
		if (m->type == MSG_PARENT_GO) {
			msg_free(m);
			break;
		}
		switch (m->type) {
		case MSG_PARENT_CONFIG:
			if (self.conf != NULL || (fd = msg_take_fd(m)) == -1)
				fatalx("bad config message");
			self.conf = proc_read_config(fd);
			self.listen_fds = xcalloc(self.conf->nlistens + 1,
			    sizeof(int));
			for (i = 0; i < self.conf->nlistens; i++)
				self.listen_fds[i] = -1;
			break;
		case MSG_PARENT_LISTEN:
			if (self.conf == NULL || msg_get_u32(m, &u) == -1 ||
			    (fd = msg_take_fd(m)) == -1)
				fatalx("bad listen message");
			if (u == PROC_SUBMIT_LISTEN)
				self.submit_fd = fd;
			else if (u < self.conf->nlistens)
				self.listen_fds[u] = fd;
			else
				fatalx("bad listen index");
			break;
		case MSG_PARENT_PEER:
			if (npeers >= sizeof(peers) / sizeof(peers[0]) ||
			    proc_get_peer(&self, m, &peers[npeers].p,
			    &peers[npeers].fd) == -1)
				fatalx("bad peer message");
			npeers++;
			break;
		case MSG_PARENT_METRICS:
			if (msg_get_u32(m, &u) == -1 || msg_end(m) == -1 ||
			    (fd = msg_take_fd(m)) == -1)
				fatalx("bad metrics message");
			if (metrics_attach(fd, u, &errstr) == -1)
				fatalx("metrics: %s", errstr);
			break;
		case MSG_PARENT_TLS_CHAIN:
			if (self.tls_chain != NULL ||
			    msg_get_span(m, &sp) == -1 || msg_end(m) == -1 ||
			    sp.len == 0)
				fatalx("bad tls chain message");
			self.tls_chain = xmalloc(sp.len + 1);
			memcpy(self.tls_chain, sp.ptr, sp.len);
			self.tls_chain[sp.len] = '\0';
			self.tls_chain_len = sp.len;
			break;
		case MSG_PARENT_WORKER:
			if (info->workers_field == 0 ||
			    self.conn_table_fd != -1 ||
			    msg_get_u32(m, &u) == -1 ||
			    msg_get_u32(m, &n) == -1 || msg_end(m) == -1 ||
			    n == 0 || n > PROC_WORKERS_MAX || u >= n ||
			    (fd = msg_take_fd(m)) == -1)
				fatalx("bad worker message");
			self.worker = u;
			self.nworkers = n;
			self.conn_table_fd = fd;
			break;
		default:
			fatalx("unexpected %s before GO", msg_name(m->type));
		}
		msg_free(m);
	}
	if (self.conf == NULL)
		fatalx("no config from parent");

	if ((self.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	proc_add_peer(&self, parent, PROC_PARENT_FD);
	for (i = 0; i < npeers; i++)
		proc_add_peer(&self, peers[i].p, peers[i].fd);
	proc_dir_path(self.conf, info->id, self.dir_path,
	    sizeof(self.dir_path));
	if (info->workers_field != 0)
		log_debug("started pid=%d worker=%u of %u", (int)getpid(),
		    self.worker, self.nworkers);
	else
		log_debug("started pid=%d", (int)getpid());
	info->main(&self);
	fatalx("role %s returned", info->name);
}

void
proc_drop(struct proc_self *self)
{
	struct passwd	*pw;
	char		 user[64];
	uid_t		 uid;
	gid_t		 gid;

	if (geteuid() != 0) {
		if (chdir(self->dir_path) == -1)
			fatal("chdir %s", self->dir_path);
		return;
	}
	proc_user(self->conf, self->info->id, user, sizeof(user));
	if ((pw = getpwnam(user)) == NULL)
		fatalx("no user %s", user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (chroot(self->dir_path) == -1)
		fatal("chroot %s", self->dir_path);
	if (chdir("/") == -1)
		fatal("chdir /");
	if (setgroups(1, &gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("cannot drop privileges to %s", user);
	if (setuid(0) != -1)
		fatalx("could regain root after dropping to %s", user);
	log_debug("dropped to user=%s chroot=%s", user, self->dir_path);
}

void
proc_run(struct proc_self *self)
{
	const char	*errstr;

	/* Set-up is over: from here on, only the role's system calls. */
	if (!self->conf->sandbox)
		log_info("sandbox: off (sandbox no), no system call filter");
	else if (sandbox_enter(self->info->id, &errstr) == -1)
		fatalx("sandbox: %s", errstr);
	else
		log_debug("sandbox: filter installed");
	event_base_dispatch(self->base);
	log_debug("event loop ended");
	exit(0);
}
