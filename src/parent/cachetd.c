/*
 * cachetd: main and the parent role.  The parent reads the config, makes
 * the directories and the role users, opens the listening sockets and the
 * control socket, and runs each role as a fresh exec of itself, handing
 * it the config text, its sockets and its channels.  It restarts a role
 * that dies (with backoff), reloads on SIGHUP and stops everything on
 * SIGTERM.  It parses no network protocol: only the config file and the
 * framed messages of cachetctl on a local socket.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "conn_limit.h"
#include "ipc.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "sandbox.h"
#include "tls.h"
#include "util.h"

#define PARENT_BACKOFF_MAX	60	/* seconds between restarts */
#define PARENT_STABLE_AFTER	60	/* a role up this long is healthy */
#define PARENT_KILL_AFTER	5	/* SIGTERM, then SIGKILL */
#define PARENT_CTL_CLIENTS	64
#define PARENT_STATUS_WAIT_MS	1000
#define PARENT_LISTEN_BACKLOG	511

/* One process: a role, or one worker of a role that runs several. */
struct role {
	enum proc_id	 id;
	unsigned	 worker;
	char		 name[16];	/* "queue", "smtp/1" */
	pid_t		 pid;
	struct ipc_chan	*chan;
	time_t		 started;
	unsigned	 restarts;
	unsigned	 backoff;	/* seconds before the next start */
	bool		 alive;		/* answered the last status ping */
	bool		 restart_now;	/* reload: no backoff */
	bool		 retire;	/* reload: a worker no longer wanted */
	struct event	*ev_restart;
};

struct ctl_client {
	struct ipc_chan	*chan;
	uint64_t	 reqid;		/* forwarded request in flight */
	bool		 status_wait;
	struct event	*ev_status;
	uid_t		 uid;
};

struct parent {
	struct event_base	*base;
	struct conf		*conf;
	char			*conf_text;
	size_t			 conf_len;
	const char		*conf_file;	/* NULL: embedded default */
	bool			 foreground;
	bool			 verbose;
	char			 self_exe[PATH_MAX];
	int			*listen_fds;	/* per conf->listens */
	int			 submit_fd;
	int			 control_fd;
	char			 control_path[CONF_PATH_MAX];
	char			 submit_path[CONF_PATH_MAX];
	char			 pid_path[CONF_PATH_MAX];
	struct event		*ev_control;
	struct role		 roles[PROC_COUNT][PROC_WORKERS_MAX];
	unsigned		 nworkers[PROC_COUNT];	/* running now */
	int			 conn_table[PROC_COUNT];	/* or -1 */
	int			 metrics_fd;	/* metrics.h */
	struct ctl_client	*clients[PARENT_CTL_CLIENTS];
	bool			 stopping;
	struct event		*ev_kill;
	time_t			 started;
	uint64_t		 next_reqid;
	uint64_t		 status_reqid;
	/*
	 * The TLS chain the running lookup installed (lookup_tls.h), for
	 * the roles that serve TLS when they start; NULL: the files.
	 */
	char			*tls_chain;
	size_t			 tls_chain_len;
};

static struct parent	P;

static void	parent_start_role(struct role *);

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: cachetd [-dnv] [-f file]\n");
	exit(2);
}

/* Read a config file whole, bounded. */
static char *
parent_read_file(const char *path, size_t *len_out)
{
	struct stat	 st;
	char		*text;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > 1024 * 1024) {
		if (errno == 0 || S_ISREG(st.st_mode))
			errno = EFBIG;
		else
			errno = EINVAL;
		close(fd);
		return NULL;
	}
	text = xmalloc((size_t)st.st_size + 1);
	n = read_full(fd, text, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	*len_out = (size_t)n;
	return text;
}

/*
 * Load the config: the file's text is kept so that every role parses the
 * very text that was checked here.
 */
static struct conf *
parent_load(const char *file, char **text_out, size_t *len_out)
{
	struct conf	*conf;
	char		*text, errs[8192];
	size_t		 len;

	if (file == NULL) {
		text = xstrdup(conf_default_text());
		len = strlen(text);
		conf = conf_parse("(default)", text, len, errs, sizeof(errs));
	} else {
		if ((text = parent_read_file(file, &len)) == NULL) {
			fprintf(stderr, "%s: %s\n", file, strerror(errno));
			return NULL;
		}
		conf = conf_parse(file, text, len, errs, sizeof(errs));
	}
	if (conf == NULL) {
		fputs(errs, stderr);
		if (errs[0] != '\0' && errs[strlen(errs) - 1] != '\n')
			fputc('\n', stderr);
		free(text);
		return NULL;
	}
	*text_out = text;
	*len_out = len;
	return conf;
}

static void
parent_mkdir(const char *path, mode_t mode, const char *owner)
{
	struct passwd	*pw;

	if (mkdir_p(path, 0755) == -1)
		fatal("mkdir %s", path);
	if (chmod(path, mode) == -1)
		fatal("chmod %s", path);
	if (owner == NULL || geteuid() != 0)
		return;
	if ((pw = getpwnam(owner)) == NULL)
		fatalx("no user %s", owner);
	if (chown(path, pw->pw_uid, pw->pw_gid) == -1)
		fatal("chown %s", path);
}

/* Directories, users and the certificate: idempotent, at every start. */
static void
parent_setup(struct conf *conf)
{
	char	 user[64], dir[CONF_PATH_MAX];
	char	 cert[CONF_PATH_MAX], key[CONF_PATH_MAX], *tlsdir;
	const char *errstr;
	size_t	 i;
	bool	 root = geteuid() == 0;

	if (root)
		for (i = 1; i < PROC_COUNT; i++) {
			proc_user(conf, (enum proc_id)i, user, sizeof(user));
			proc_ensure_user(user);
		}
	parent_mkdir(conf->state_dir, 0755, NULL);
	for (i = 1; i < PROC_COUNT; i++) {
		proc_dir_path(conf, (enum proc_id)i, dir, sizeof(dir));
		proc_user(conf, (enum proc_id)i, user, sizeof(user));
		switch (proc_table[i].dir) {
		case PROC_DIR_EMPTY:
			/* Owned by root, holding nothing, writable by none. */
			parent_mkdir(dir, 0555, NULL);
			break;
		case PROC_DIR_MAIL:
			parent_mkdir(dir, 0750, user);
			break;
		default:
			parent_mkdir(dir, 0700, user);
			break;
		}
	}
	if (conf->tls_cert[0] == '\0') {
		tlsdir = xasprintf("%s/tls", conf->state_dir);
		parent_mkdir(tlsdir, 0700, NULL);
		proc_tls_paths(conf, cert, key, sizeof(cert));
		if (access(cert, F_OK) == -1 || access(key, F_OK) == -1) {
			(void)unlink(cert);
			(void)unlink(key);
			if (tls_selfsigned_create(conf->hostname, cert, key,
			    &errstr) == -1)
				fatalx("self-signed certificate: %s", errstr);
			log_info("created self-signed certificate cert=%s "
			    "name=%s", cert, conf->hostname);
		}
		free(tlsdir);
	}
}

static int
parent_listen_one(const struct conf_listen *l)
{
	int	fd, on = 1;

	if ((fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (l->addr.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) == -1 ||
	    listen(fd, PARENT_LISTEN_BACKLOG) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Open the listeners of conf; a listener that exists in the old set with
 * the same kind and address is kept (so a reload does not drop it).
 */
static int *
parent_listen(const struct conf *conf, const struct conf *old, int *oldfds)
{
	int	*fds;
	size_t	 i, j;

	fds = xcalloc(conf->nlistens + 1, sizeof(int));
	for (i = 0; i < conf->nlistens; i++) {
		fds[i] = -1;
		for (j = 0; old != NULL && j < old->nlistens; j++) {
			if (oldfds[j] != -1 &&
			    old->listens[j].kind == conf->listens[i].kind &&
			    strcmp(old->listens[j].text,
			    conf->listens[i].text) == 0) {
				fds[i] = oldfds[j];
				oldfds[j] = -1;
				break;
			}
		}
		if (fds[i] != -1)
			continue;
		if ((fds[i] = parent_listen_one(&conf->listens[i])) == -1) {
			log_warn("listen %s %s",
			    conf_listen_kind_name(conf->listens[i].kind),
			    conf->listens[i].text);
			for (j = 0; j < i; j++)
				if (fds[j] != -1)
					close(fds[j]);
			free(fds);
			return NULL;
		}
	}
	return fds;
}

static int
parent_unix_listen(const char *path, mode_t mode)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) == -1)
		fatalx("socket path too long: %s", path);
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		fatal("socket");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	if (chmod(path, mode) == -1)
		fatal("chmod %s", path);
	if (listen(fd, 64) == -1)
		fatal("listen %s", path);
	return fd;
}

/* --- roles --- */

static void	parent_role_msg(struct ipc_chan *, struct msg *, void *);
static void	parent_role_close(struct ipc_chan *, void *);
static void	parent_client_reply_end(struct ctl_client *, uint32_t,
		    const char *);

static int
parent_config_fd(void)
{
	int	fd;

	if ((fd = memfd_create("cachet.conf", MFD_CLOEXEC)) == -1)
		fatal("memfd_create");
	if (write_full(fd, P.conf_text, P.conf_len) == -1)
		fatal("memfd write");
	return fd;
}

static void
parent_send_peer(struct role *a, struct role *b)
{
	struct msg	*m;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	m = msg_new(MSG_PARENT_PEER);
	msg_put_u32(m, b->id);
	msg_put_u32(m, b->worker);
	msg_put_fd(m, sp[0]);
	ipc_send(a->chan, m);
	m = msg_new(MSG_PARENT_PEER);
	msg_put_u32(m, a->id);
	msg_put_u32(m, a->worker);
	msg_put_fd(m, sp[1]);
	ipc_send(b->chan, m);
}

/* A process that runs and has its channel. */
static bool
parent_role_up(const struct role *r)
{
	return r->pid > 0 && r->chan != NULL;
}

/*
 * Fork and exec one role process with its channel on descriptor 3, then
 * send it the config, its listeners and, for a worker, its number and the
 * role's connection table.  Channels to siblings and GO follow.
 */
static void
parent_spawn(struct role *r)
{
	enum proc_id	 id = r->id;
	struct msg	*m;
	char		*argv[6];
	int		 sp[2], fd;
	size_t		 i, n = 0;
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		fatal("socketpair");
	argv[n++] = "cachetd";
	argv[n++] = "-X";
	argv[n++] = (char *)proc_name(id);
	if (P.foreground)
		argv[n++] = "-d";
	if (P.verbose)
		argv[n++] = "-v";
	argv[n] = NULL;

	switch ((pid = fork())) {
	case -1:
		fatal("fork");
	case 0:
		if (dup2(sp[1], PROC_PARENT_FD) == -1)
			_exit(127);
		execve(P.self_exe, argv, environ);
		_exit(127);
	}
	close(sp[1]);
	r->pid = pid;
	r->started = time(NULL);
	r->alive = false;
	r->chan = ipc_chan_new(P.base, sp[0], r->name, parent_role_msg,
	    parent_role_close, r);

	m = msg_new(MSG_PARENT_CONFIG);
	msg_put_fd(m, parent_config_fd());
	ipc_send(r->chan, m);
	for (i = 0; i < P.conf->nlistens; i++) {
		if ((proc_table[id].listen_mask &
		    (1u << P.conf->listens[i].kind)) == 0)
			continue;
		/* Every worker accepts on the same socket. */
		if ((fd = dup(P.listen_fds[i])) == -1)
			fatal("dup");
		m = msg_new(MSG_PARENT_LISTEN);
		msg_put_u32(m, (uint32_t)i);
		msg_put_fd(m, fd);
		ipc_send(r->chan, m);
	}
	if (id == PROC_SMTP) {
		if ((fd = dup(P.submit_fd)) == -1)
			fatal("dup");
		m = msg_new(MSG_PARENT_LISTEN);
		msg_put_u32(m, PROC_SUBMIT_LISTEN);
		msg_put_fd(m, fd);
		ipc_send(r->chan, m);
	}
	/*
	 * A new lookup reads the files, so a chain installed in the one
	 * before is no longer what it signs for; a role that serves TLS
	 * begins with the chain the running lookup installed.
	 */
	if (id == PROC_LOOKUP) {
		free(P.tls_chain);
		P.tls_chain = NULL;
	} else if (P.tls_chain != NULL && (id == PROC_SMTP ||
	    id == PROC_POP3 || id == PROC_IMAP || id == PROC_HTTP)) {
		m = msg_new(MSG_PARENT_TLS_CHAIN);
		msg_put_data(m, P.tls_chain, P.tls_chain_len);
		ipc_send(r->chan, m);
	}
	if (P.conn_table[id] != -1) {
		if ((fd = dup(P.conn_table[id])) == -1)
			fatal("dup");
		m = msg_new(MSG_PARENT_WORKER);
		msg_put_u32(m, r->worker);
		msg_put_u32(m, P.nworkers[id]);
		msg_put_fd(m, fd);
		ipc_send(r->chan, m);
	}
	if ((fd = dup(P.metrics_fd)) == -1)
		fatal("dup");
	m = msg_new(MSG_PARENT_METRICS);
	msg_put_u32(m, proc_metrics_slot(id, r->worker));
	msg_put_fd(m, fd);
	ipc_send(r->chan, m);
	log_info("role started role=%s pid=%d", r->name, (int)pid);
}

static void
parent_go(struct role *r)
{
	ipc_send(r->chan, msg_new(MSG_PARENT_GO));
}

static void
parent_start_all(void)
{
	size_t		 i, j;
	unsigned	 wi, wj;

	for (i = 1; i < PROC_COUNT; i++)
		for (wi = 0; wi < P.nworkers[i]; wi++)
			parent_spawn(&P.roles[i][wi]);
	for (i = 1; i < PROC_COUNT; i++)
		for (j = i + 1; j < PROC_COUNT; j++) {
			if (!proc_may_talk((enum proc_id)i, (enum proc_id)j))
				continue;
			for (wi = 0; wi < P.nworkers[i]; wi++)
				for (wj = 0; wj < P.nworkers[j]; wj++)
					parent_send_peer(&P.roles[i][wi],
					    &P.roles[j][wj]);
		}
	for (i = 1; i < PROC_COUNT; i++)
		for (wi = 0; wi < P.nworkers[i]; wi++)
			parent_go(&P.roles[i][wi]);
}

/*
 * Start one role process again, wiring it to every living sibling
 * process: a new lookup to each worker of smtp and pop3, a new smtp
 * worker to lookup and queue.
 */
static void
parent_start_role(struct role *r)
{
	size_t		j;
	unsigned	w;

	parent_spawn(r);
	for (j = 1; j < PROC_COUNT; j++) {
		if (!proc_may_talk(r->id, (enum proc_id)j))
			continue;
		for (w = 0; w < PROC_WORKERS_MAX; w++)
			if (parent_role_up(&P.roles[j][w]))
				parent_send_peer(r, &P.roles[j][w]);
	}
	parent_go(r);
}

static void
parent_restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct role	*r = arg;

	if (P.stopping || r->pid > 0 || r->worker >= P.nworkers[r->id])
		return;
	r->restarts++;
	metrics_inc(METRICS_RESTARTS, r->id);
	parent_start_role(r);
}

static void
parent_role_died(struct role *r, int status)
{
	struct timeval	tv;
	time_t		lived = time(NULL) - r->started;
	char		call[32], what[64];
	long		nr;

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		if ((nr = sandbox_killed_by(r->pid, call, sizeof(call))) >= 0)
			(void)snprintf(what, sizeof(what), "%ld (%s)", nr,
			    call[0] != '\0' ? call : "?");
		else
			(void)str_copy(what, sizeof(what),
			    "unknown (see the audit log)");
		log_warnx("role died role=%s pid=%d signal=%d (SIGSYS): "
		    "killed by its seccomp filter syscall=%s",
		    r->name, (int)r->pid, SIGSYS, what);
	} else if (WIFSIGNALED(status))
		log_warnx("role died role=%s pid=%d signal=%d", r->name,
		    (int)r->pid, WTERMSIG(status));
	else if (!P.stopping && !r->restart_now && !r->retire)
		log_warnx("role exited role=%s pid=%d status=%d", r->name,
		    (int)r->pid, WEXITSTATUS(status));
	r->pid = 0;
	r->alive = false;
	if (r->chan != NULL) {
		ipc_chan_free(r->chan);
		r->chan = NULL;
	}
	/* Its connections died with it: so do its counts. */
	if (P.conn_table[r->id] != -1 &&
	    conn_limit_reset(P.conn_table[r->id], r->worker) == -1)
		log_warn("connection counts of role=%s kept", r->name);
	metrics_clear_gauges(proc_metrics_slot(r->id, r->worker));
	if (P.stopping)
		return;
	if (r->retire || r->worker >= P.nworkers[r->id]) {
		r->retire = false;
		r->restart_now = false;
		log_info("role retired role=%s", r->name);
		return;
	}
	if (r->restart_now) {
		r->restart_now = false;
		r->backoff = 0;
	} else if (lived >= PARENT_STABLE_AFTER || r->backoff == 0)
		r->backoff = 1;
	else if (r->backoff < PARENT_BACKOFF_MAX)
		r->backoff = r->backoff * 2 > PARENT_BACKOFF_MAX ?
		    PARENT_BACKOFF_MAX : r->backoff * 2;
	tv.tv_sec = r->backoff;
	tv.tv_usec = 0;
	if (r->backoff > 0)
		log_info("restarting role=%s in=%us", r->name, r->backoff);
	evtimer_add(r->ev_restart, &tv);
}

static void
parent_cleanup(void)
{
	(void)unlink(P.control_path);
	(void)unlink(P.submit_path);
	(void)unlink(P.pid_path);
}

static void
parent_check_done(void)
{
	size_t		i;
	unsigned	w;

	for (i = 1; i < PROC_COUNT; i++)
		for (w = 0; w < PROC_WORKERS_MAX; w++)
			if (P.roles[i][w].pid > 0)
				return;
	log_info("stopped");
	parent_cleanup();
	exit(0);
}

static struct role *
parent_role_by_pid(pid_t pid)
{
	size_t		i;
	unsigned	w;

	for (i = 1; i < PROC_COUNT; i++)
		for (w = 0; w < PROC_WORKERS_MAX; w++)
			if (P.roles[i][w].pid == pid)
				return &P.roles[i][w];
	return NULL;
}

static void
parent_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct role	*r;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if ((r = parent_role_by_pid(pid)) != NULL)
			parent_role_died(r, status);
	if (P.stopping)
		parent_check_done();
}

static void
parent_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	size_t		i;
	unsigned	w;

	for (i = 1; i < PROC_COUNT; i++)
		for (w = 0; w < PROC_WORKERS_MAX; w++)
			if (P.roles[i][w].pid > 0) {
				log_warnx("role did not stop, killing "
				    "role=%s pid=%d", P.roles[i][w].name,
				    (int)P.roles[i][w].pid);
				kill(P.roles[i][w].pid, SIGKILL);
			}
}

static void
parent_stop(void)
{
	struct timeval	tv = { PARENT_KILL_AFTER, 0 };
	size_t		i;
	unsigned	w;

	if (P.stopping)
		return;
	P.stopping = true;
	log_info("stopping");
	for (i = 1; i < PROC_COUNT; i++)
		for (w = 0; w < PROC_WORKERS_MAX; w++) {
			evtimer_del(P.roles[i][w].ev_restart);
			if (P.roles[i][w].pid > 0)
				kill(P.roles[i][w].pid, SIGTERM);
		}
	evtimer_add(P.ev_kill, &tv);
	parent_check_done();
}

static void
parent_sigterm(evutil_socket_t sig, short what, void *arg)
{
	parent_stop();
}

/*
 * Restart a role's processes on the new config: those it keeps at once,
 * those it no longer wants stop for good, new workers start (the
 * listeners stay open in the parent throughout, so a change in the number
 * of workers loses no connection waiting to be accepted).
 */
static void
parent_reload_role(enum proc_id id)
{
	struct role	*r;
	unsigned	 w, n = proc_workers(P.conf, id);

	P.nworkers[id] = n;
	for (w = 0; w < PROC_WORKERS_MAX; w++) {
		r = &P.roles[id][w];
		if (r->pid > 0) {
			if (w < n)
				r->restart_now = true;
			else
				r->retire = true;
			kill(r->pid, SIGTERM);
		} else if (w >= n)
			evtimer_del(r->ev_restart);
		else if (!evtimer_pending(r->ev_restart, NULL))
			parent_start_role(r);
	}
}

/*
 * Reload: parse the file again; on any error keep running on the old
 * config.  On success reopen what changed and restart every role on the
 * new config (in-flight sessions end; the queue loses nothing).
 */
static int
parent_reload(char *err, size_t errsz)
{
	struct conf	*conf;
	char		*text;
	size_t		 len, i;
	int		*fds;

	err[0] = '\0';
	if ((conf = parent_load(P.conf_file, &text, &len)) == NULL) {
		(void)snprintf(err, errsz, "config has errors, "
		    "keeping the running one (see the log)");
		log_warnx("reload refused: config has errors");
		return -1;
	}
	if (strcmp(conf->state_dir, P.conf->state_dir) != 0 ||
	    strcmp(conf->mail_dir, P.conf->mail_dir) != 0 ||
	    strcmp(conf->user, P.conf->user) != 0) {
		(void)snprintf(err, errsz, "state-dir, mail-dir and user "
		    "change only with a restart");
		log_warnx("reload refused: %s", err);
		conf_free(conf);
		free(text);
		return -1;
	}
	if ((fds = parent_listen(conf, P.conf, P.listen_fds)) == NULL) {
		(void)snprintf(err, errsz, "cannot open a new listener");
		conf_free(conf);
		free(text);
		return -1;
	}
	parent_setup(conf);
	for (i = 0; i < P.conf->nlistens; i++)
		if (P.listen_fds[i] != -1)
			close(P.listen_fds[i]);
	free(P.listen_fds);
	P.listen_fds = fds;
	conf_free(P.conf);
	free(P.conf_text);
	P.conf = conf;
	P.conf_text = text;
	P.conf_len = len;
	for (i = 1; i < PROC_COUNT; i++)
		parent_reload_role((enum proc_id)i);
	log_info("reloaded file=%s", P.conf->file);
	return 0;
}

static void
parent_sighup(evutil_socket_t sig, short what, void *arg)
{
	char	err[256];

	log_info("SIGHUP: reloading");
	(void)parent_reload(err, sizeof(err));
}

/* --- control socket --- */

static void
parent_client_free(struct ctl_client *c)
{
	size_t	i;

	for (i = 0; i < PARENT_CTL_CLIENTS; i++)
		if (P.clients[i] == c)
			P.clients[i] = NULL;
	if (c->ev_status != NULL)
		event_free(c->ev_status);
	ipc_chan_free(c->chan);
	free(c);
}

static void
parent_client_line(struct ctl_client *c, const char *line)
{
	struct msg	*m;

	m = msg_new(MSG_CTL_LINE);
	msg_put_u64(m, 0);
	msg_put_str(m, line);
	ipc_send(c->chan, m);
}

static void
parent_client_reply_end(struct ctl_client *c, uint32_t code,
    const char *err)
{
	struct msg	*m;

	m = msg_new(MSG_CTL_END);
	msg_put_u64(m, 0);
	msg_put_u32(m, code);
	msg_put_str(m, err == NULL ? "" : err);
	ipc_send(c->chan, m);
	c->reqid = 0;
}

static void
parent_status_send(struct ctl_client *c)
{
	char		 line[CONF_PATH_MAX + 128];
	size_t		 i;
	unsigned	 w;
	time_t		 now = time(NULL);
	struct role	*r;

	c->status_wait = false;
	(void)snprintf(line, sizeof(line), "cachetd pid %d up %llds "
	    "config %s", (int)getpid(), (long long)(now - P.started),
	    P.conf->file);
	parent_client_line(c, line);
	/* One line per process: "smtp/0", "smtp/1" for a role's workers. */
	for (i = 1; i < PROC_COUNT; i++)
		for (w = 0; w < P.nworkers[i]; w++) {
			r = &P.roles[i][w];
			(void)snprintf(line, sizeof(line),
			    "role %-7s pid %-7d up %-7lld restarts %-3u %s",
			    r->name, (int)r->pid,
			    r->pid > 0 ? (long long)(now - r->started) : 0LL,
			    r->restarts, r->pid <= 0 ? "down" :
			    r->alive ? "alive" : "not-answering");
			parent_client_line(c, line);
		}
	for (i = 0; i < P.conf->nlistens; i++) {
		(void)snprintf(line, sizeof(line), "listen %-11s %s",
		    conf_listen_kind_name(P.conf->listens[i].kind),
		    P.conf->listens[i].text);
		parent_client_line(c, line);
	}
	parent_client_reply_end(c, 0, NULL);
}

static void
parent_status_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client	*c = arg;

	if (c->status_wait)
		parent_status_send(c);
}

static void
parent_status_check(void)
{
	size_t		i, j;
	unsigned	w;
	bool		all = true;

	for (i = 1; i < PROC_COUNT; i++)
		for (w = 0; w < PROC_WORKERS_MAX; w++)
			if (P.roles[i][w].pid > 0 && !P.roles[i][w].alive)
				all = false;
	if (!all)
		return;
	for (j = 0; j < PARENT_CTL_CLIENTS; j++)
		if (P.clients[j] != NULL && P.clients[j]->status_wait) {
			evtimer_del(P.clients[j]->ev_status);
			parent_status_send(P.clients[j]);
		}
}

static void
parent_status(struct ctl_client *c)
{
	struct timeval	 tv = { 0, PARENT_STATUS_WAIT_MS * 1000 };
	struct role	*r;
	struct msg	*m;
	size_t		 i;
	unsigned	 w;

	P.status_reqid = ++P.next_reqid;
	for (i = 1; i < PROC_COUNT; i++)
		for (w = 0; w < PROC_WORKERS_MAX; w++) {
			r = &P.roles[i][w];
			r->alive = false;
			if (r->chan == NULL)
				continue;
			m = msg_new(MSG_PING);
			msg_put_u64(m, P.status_reqid);
			ipc_send(r->chan, m);
		}
	c->status_wait = true;
	if (c->ev_status == NULL)
		c->ev_status = evtimer_new(P.base, parent_status_timeout, c);
	evtimer_add(c->ev_status, &tv);
}

/* Which role serves a forwarded cachetctl verb. */
static enum proc_id
parent_verb_role(struct span verb)
{
	if (span_eq(verb, "queue"))
		return PROC_QUEUE;
	if (span_eq(verb, "user") || span_eq(verb, "domain") ||
	    span_eq(verb, "alias") || span_eq(verb, "tlsrpt") ||
	    span_eq(verb, "dmarc") || span_eq(verb, "dkim") ||
	    span_eq(verb, "spf") || span_eq(verb, "spam") ||
	    span_eq(verb, "prescreen") || span_eq(verb, "greylist") ||
	    span_eq(verb, "dns") || span_eq(verb, "tls"))
		return PROC_LOOKUP;
	if (span_eq(verb, "tls-policy"))
		return PROC_MTA;
	return PROC_PARENT;
}

#ifdef CACHET_TEST_HOOKS
/*
 * Test builds only: `cachetctl sandbox-test ROLE CALL` makes ROLE try a
 * call its sandbox forbids (sandbox.h), as a compromised role would.
 */
static void
parent_sandbox_test(struct ctl_client *c, struct msg *m, uint32_t argc)
{
	const struct proc_info	*info;
	struct msg		*f;
	char			 role[16], what[32];

	if (argc != 3 || msg_get_str(m, role, sizeof(role)) == -1 ||
	    msg_get_str(m, what, sizeof(what)) == -1 || msg_end(m) == -1) {
		parent_client_reply_end(c, 2, "usage: sandbox-test ROLE CALL");
		return;
	}
	if (c->uid != 0 && c->uid != geteuid()) {
		parent_client_reply_end(c, 1, "permission denied");
		return;
	}
	/* A role that runs several workers: its first one. */
	if ((info = proc_by_name(role)) == NULL ||
	    P.roles[info->id][0].chan == NULL) {
		parent_client_reply_end(c, 1, "role is not running");
		return;
	}
	f = msg_new(MSG_PARENT_SANDBOX_TEST);
	msg_put_str(f, what);
	ipc_send(P.roles[info->id][0].chan, f);
	parent_client_reply_end(c, 0, NULL);
}
#endif

/*
 * cachetctl tls reload: the tls { } files read again (after a renewal
 * by certbot, say) and installed by lookup while everything runs
 * (lookup/lookup_tls.h).  lookup cannot open them in its chroot: we
 * read the chain, which is public, and hand lookup a descriptor of the
 * key file, which we never read (lookup alone reads secrets).
 */
static void
parent_tls_reload(struct ctl_client *c)
{
	struct msg	*f;
	char		 cert[CONF_PATH_MAX], key[CONF_PATH_MAX], why[2048];
	char		*chain;
	const char	*err;
	size_t		 len;
	int		 fd;

	if (P.conf->acme_url[0] != '\0') {
		parent_client_reply_end(c, 1, "the certificate comes from "
		    "tls { acme }: lookup renews and installs it itself");
		return;
	}
	proc_tls_paths(P.conf, cert, key, sizeof(cert));
	if (tls_pem_read(cert, &chain, &len, &err) == -1) {
		(void)snprintf(why, sizeof(why), "certificate %s", err);
		parent_client_reply_end(c, 1, why);
		return;
	}
	if ((fd = open(key, O_RDONLY | O_CLOEXEC)) == -1) {
		(void)snprintf(why, sizeof(why), "key %s: %s", key,
		    strerror(errno));
		parent_client_reply_end(c, 1, why);
		free(chain);
		return;
	}
	log_info("event=tls-reload certificate=%s key=%s", cert, key);
	c->reqid = ++P.next_reqid;
	f = msg_new(MSG_LOOKUP_TLS_RELOAD);
	msg_put_u64(f, c->reqid);
	msg_put_data(f, chain, len);
	msg_put_fd(f, fd);
	ipc_send(P.roles[PROC_LOOKUP][0].chan, f);
	free(chain);
}

static void
parent_forward(struct ctl_client *c, struct msg *m)
{
	struct msg	*f;
	struct span	 verb, what;
	uint64_t	 reqid;
	uint32_t	 argc;
	enum proc_id	 to;
	size_t		 save;
	int		 fd;

	save = m->pos;
	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &argc) == -1 ||
	    argc == 0 || msg_get_span(m, &verb) == -1) {
		parent_client_reply_end(c, 2, "malformed request");
		return;
	}
#ifdef CACHET_TEST_HOOKS
	if (span_eq(verb, "sandbox-test")) {
		parent_sandbox_test(c, m, argc);
		return;
	}
#endif
	if ((to = parent_verb_role(verb)) == PROC_PARENT) {
		parent_client_reply_end(c, 2, "unknown command");
		return;
	}
	if (P.roles[to][0].chan == NULL) {
		parent_client_reply_end(c, 1, "role is not running");
		return;
	}
	if (c->uid != 0 && c->uid != geteuid()) {
		parent_client_reply_end(c, 1, "permission denied");
		return;
	}
	if (span_eq(verb, "tls") && argc == 2 &&
	    msg_get_span(m, &what) == 0 && span_eq(what, "reload")) {
		parent_tls_reload(c);
		return;
	}
	/* Re-send the request with our id; the role answers with it. */
	c->reqid = ++P.next_reqid;
	f = msg_new(MSG_CTL_REQUEST);
	msg_put_u64(f, c->reqid);
	m->pos = save + 8;
	msg_put_raw(f, m->data.data + m->pos, m->data.len - m->pos);
	if ((fd = msg_take_fd(m)) != -1)
		msg_put_fd(f, fd);
	ipc_send(P.roles[to][0].chan, f);
}

static void
parent_client_msg(struct ipc_chan *chan, struct msg *m, void *arg)
{
	struct ctl_client	*c = arg;
	char			 err[256];

	if (c->reqid != 0 || c->status_wait) {
		/* One request at a time per client. */
		msg_free(m);
		parent_client_free(c);
		return;
	}
	switch (m->type) {
	case MSG_CTL_STATUS:
		parent_status(c);
		break;
	case MSG_CTL_STOP:
		if (c->uid != 0 && c->uid != geteuid())
			parent_client_reply_end(c, 1, "permission denied");
		else {
			parent_client_reply_end(c, 0, NULL);
			parent_stop();
		}
		break;
	case MSG_CTL_RELOAD:
		if (c->uid != 0 && c->uid != geteuid())
			parent_client_reply_end(c, 1, "permission denied");
		else if (parent_reload(err, sizeof(err)) == -1)
			parent_client_reply_end(c, 1, err);
		else
			parent_client_reply_end(c, 0, NULL);
		break;
	case MSG_CTL_REQUEST:
		parent_forward(c, m);
		break;
	default:
		msg_free(m);
		parent_client_free(c);
		return;
	}
	msg_free(m);
}

static void
parent_client_close(struct ipc_chan *chan, void *arg)
{
	parent_client_free(arg);
}

static void
parent_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ctl_client	*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	size_t			 i;
	int			 fd;

	/* cppcheck-suppress nullPointer ; accept4(2) takes NULL, NULL */
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	for (i = 0; i < PARENT_CTL_CLIENTS; i++)
		if (P.clients[i] == NULL)
			break;
	if (i == PARENT_CTL_CLIENTS ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->uid = cred.uid;
	c->chan = ipc_chan_new(P.base, fd, "control", parent_client_msg,
	    parent_client_close, c);
	P.clients[i] = c;
}

/* Messages from a role: pongs and answers to forwarded requests. */
static void
parent_role_msg(struct ipc_chan *chan, struct msg *m, void *arg)
{
	struct role	*r = arg;
	struct msg	*f;
	struct span	 chain;
	uint64_t	 reqid;
	size_t		 i;

	switch (m->type) {
	case MSG_PARENT_TLS_CHAIN:
		if (r->id != PROC_LOOKUP || msg_get_span(m, &chain) == -1 ||
		    msg_end(m) == -1 || chain.len == 0 ||
		    chain.len > TLS_PEM_MAX)
			goto bad;
		free(P.tls_chain);
		P.tls_chain = xmalloc(chain.len);
		memcpy(P.tls_chain, chain.ptr, chain.len);
		P.tls_chain_len = chain.len;
		break;
	case MSG_PONG:
		if (msg_get_u64(m, &reqid) == -1 || msg_end(m) == -1)
			goto bad;
		if (reqid == P.status_reqid)
			r->alive = true;
		parent_status_check();
		break;
	case MSG_CTL_LINE:
	case MSG_CTL_DATA:
	case MSG_CTL_END:
		if (msg_get_u64(m, &reqid) == -1)
			goto bad;
		for (i = 0; i < PARENT_CTL_CLIENTS; i++) {
			if (P.clients[i] == NULL ||
			    P.clients[i]->reqid != reqid)
				continue;
			f = msg_new(m->type);
			msg_put_u64(f, 0);
			msg_put_raw(f, m->data.data + m->pos,
			    m->data.len - m->pos);
			if (m->type == MSG_CTL_END)
				P.clients[i]->reqid = 0;
			ipc_send(P.clients[i]->chan, f);
			break;
		}
		break;
	default:
		goto bad;
	}
	msg_free(m);
	return;
bad:
	/* The parent outlives a broken role: kill it, SIGCHLD restarts it. */
	log_warnx("bad %s from role=%s, killing it", msg_name(m->type),
	    r->name);
	msg_free(m);
	if (r->pid > 0)
		kill(r->pid, SIGKILL);
}

static void
parent_role_close(struct ipc_chan *chan, void *arg)
{
	struct role	*r = arg;

	/* SIGCHLD does the bookkeeping; here the channel just goes. */
	ipc_chan_free(r->chan);
	r->chan = NULL;
}

static void
parent_daemonize(void)
{
	int	fd;

	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() == -1)
		fatal("setsid");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

static void
parent_print_banner(void)
{
	size_t	i;

	if (!P.foreground || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "cachetd: hostname %s, state in %s, mail in %s\n",
	    P.conf->hostname, P.conf->state_dir, P.conf->mail_dir);
	for (i = 0; i < P.conf->nlistens; i++)
		fprintf(stderr, "cachetd: %-11s on %s\n",
		    conf_listen_kind_name(P.conf->listens[i].kind),
		    P.conf->listens[i].text);
	if (P.conf->demo_user[0] != '\0')
		fprintf(stderr, "cachetd: demo user %s, password %s\n",
		    P.conf->demo_user, P.conf->demo_password);
	fprintf(stderr, "cachetd: try 'build/cachetctl status' or "
	    "'swaks --server 127.0.0.1:2525 --to postmaster@%s'\n",
	    P.conf->ndomains > 0 ? P.conf->domains[0] : "localhost");
}

int
main(int argc, char *argv[])
{
	struct event	*ev;
	struct role	*r;
	FILE		*fp;
	const char	*role = NULL;
	bool		 check_only = false;
	ssize_t		 n;
	size_t		 i;
	unsigned	 w;
	int		 ch;

	while ((ch = getopt(argc, argv, "df:hnvX:")) != -1) {
		switch (ch) {
		case 'd':
			P.foreground = true;
			break;
		case 'f':
			P.conf_file = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		case 'v':
			P.verbose = true;
			break;
		case 'X':
			role = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (role != NULL)
		proc_child_main(role, P.foreground, P.verbose);

	log_init(true, P.verbose);
	log_setproc("parent");
	if ((P.conf = parent_load(P.conf_file, &P.conf_text,
	    &P.conf_len)) == NULL)
		exit(1);
	if (check_only) {
		fprintf(stderr, "%s: configuration OK\n", P.conf->file);
		exit(0);
	}
	if ((n = readlink("/proc/self/exe", P.self_exe,
	    sizeof(P.self_exe) - 1)) == -1)
		fatal("readlink /proc/self/exe");
	P.self_exe[n] = '\0';

	parent_setup(P.conf);
	if ((P.listen_fds = parent_listen(P.conf, NULL, NULL)) == NULL)
		fatalx("cannot open listeners");
	if (path_join(P.control_path, sizeof(P.control_path),
	    P.conf->state_dir, "control.sock") == -1 ||
	    path_join(P.submit_path, sizeof(P.submit_path),
	    P.conf->state_dir, "submit.sock") == -1 ||
	    path_join(P.pid_path, sizeof(P.pid_path), P.conf->state_dir,
	    "cachetd.pid") == -1)
		fatalx("state-dir path too long");
	P.control_fd = parent_unix_listen(P.control_path, 0660);
	/* Any local user may submit, as with sendmail(1). */
	P.submit_fd = parent_unix_listen(P.submit_path, 0666);

	if (!P.foreground) {
		parent_daemonize();
		log_init(false, P.verbose);
	}
	if ((fp = fopen(P.pid_path, "w")) == NULL)
		log_warn("pid file %s", P.pid_path);
	else {
		fprintf(fp, "%d\n", (int)getpid());
		/* stdio errors are sticky: one check covers the fprintf */
		if (fflush(fp) == EOF || ferror(fp))
			log_warn("pid file %s", P.pid_path);
		(void)fclose(fp);
	}
	(void)signal(SIGPIPE, SIG_IGN);
	P.started = time(NULL);
	if ((P.metrics_fd = metrics_create(proc_metrics_slots(),
	    proc_metrics_slot(PROC_PARENT, 0))) == -1)
		fatal("metrics table");
	metrics_set(METRICS_START_TIME, 0, (int64_t)P.started);
	if ((P.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (i = 1; i < PROC_COUNT; i++) {
		P.nworkers[i] = proc_workers(P.conf, (enum proc_id)i);
		/* One table for the role's life; each worker has a slot. */
		P.conn_table[i] = -1;
		if (proc_table[i].workers_field != 0 &&
		    (P.conn_table[i] = conn_limit_create()) == -1)
			fatal("connection table");
		for (w = 0; w < PROC_WORKERS_MAX; w++) {
			r = &P.roles[i][w];
			r->id = (enum proc_id)i;
			r->worker = w;
			if (proc_table[i].workers_field != 0)
				(void)snprintf(r->name, sizeof(r->name),
				    "%s/%u", proc_name(r->id), w);
			else
				(void)str_copy(r->name, sizeof(r->name),
				    proc_name(r->id));
			if ((r->ev_restart = evtimer_new(P.base,
			    parent_restart_cb, r)) == NULL)
				fatalx("evtimer_new");
		}
	}
	P.ev_kill = evtimer_new(P.base, parent_kill_cb, NULL);
	ev = evsignal_new(P.base, SIGCHLD, parent_sigchld, NULL);
	evsignal_add(ev, NULL);
	ev = evsignal_new(P.base, SIGTERM, parent_sigterm, NULL);
	evsignal_add(ev, NULL);
	ev = evsignal_new(P.base, SIGINT, parent_sigterm, NULL);
	evsignal_add(ev, NULL);
	ev = evsignal_new(P.base, SIGHUP, parent_sighup, NULL);
	evsignal_add(ev, NULL);
	P.ev_control = event_new(P.base, P.control_fd, EV_READ | EV_PERSIST,
	    parent_accept, NULL);
	event_add(P.ev_control, NULL);

	parent_start_all();
	log_info("started pid=%d config=%s", (int)getpid(), P.conf->file);
	parent_print_banner();
	event_base_dispatch(P.base);
	parent_cleanup();
	return 0;
}
