/*
 * imap: the imap role.  Serves the imap (STARTTLS) and imaps (implicit
 * TLS) listeners through conn.c and drives one imap_session per
 * connection, as pop3.c does for POP3.  Logins go to lookup
 * (MSG_LOOKUP_AUTH for LOGIN and AUTHENTICATE PLAIN, MSG_LOOKUP_SCRAM_SALT
 * and _PROOF for SCRAM-SHA-256(-PLUS), sasl_ipc.h), which also names the
 * user's Maildir (MSG_LOOKUP_MAILBOX), the one the mda delivers to; the
 * mailbox commands are imap_mbox.c's, over store/maildir.c and its
 * uidlist, so IMAP, POP3 and delivery agree on UIDs.
 *
 * Change notification: each worker holds one inotify(7) descriptor and
 * watches every folder one of its sessions has selected (its new/ and
 * cur/, and its uidlist in the folder's directory), one watch per
 * folder shared by the sessions on it, counted, dropped with the last.
 * An event that is news to a session (not its own STORE or EXPUNGE)
 * marks its view stale: an idling one (RFC 2177) hears of the change at
 * once, the others at their next command (imap_mbox.c, which keeps
 * EXPUNGE out of FETCH, STORE and SEARCH); the events queued are read
 * before each command, so a session that is not stale has nothing to
 * look for.  A lost event queue (IN_Q_OVERFLOW) marks every session.
 * IDLE still looks every IMAP_IDLE_SAFETY seconds, and every
 * IMAP_IDLE_POLL when the folder cannot be watched (a file system
 * without inotify, the watch limit reached), where every command checks
 * the folder's directories' mtimes too.
 *
 * This role parses the network and reads mailboxes: it runs as the
 * mailboxes' owner chrooted into mail-dir, and holds no password or
 * secret: lookup checks them.  It trusts lookup's answers and nothing
 * the client sends.
 */
#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "conn.h"
#include "conn_limit.h"
#include "imap_junk.h"
#include "imap_mbox.h"
#include "imap_session.h"
#include "ipc.h"
#include "keyproxy.h"
#include "log.h"
#include "lookup/lookup_login.h"
#include "mailbox.h"
#include "mime_decode.h"
#include "proc.h"
#include "store/maildir.h"
#include "store/mda.h"
#include "tls.h"
#include "util.h"

#define IMAP_FEED_MAX		(64 * 1024)	/* bytes per input() call */
#define IMAP_IDLE_POLL		1	/* seconds between looks, unwatched */
#define IMAP_IDLE_SAFETY	30	/* the same, watched: lost events */
#define IMAP_WATCH_BUF		(64 * 1024)	/* events read at once */
#define IMAP_WATCH_READS	16	/* reads per wake-up, then the loop */
/* Events of a folder checked one by one per read; past it all look. */
#define IMAP_WATCH_CHECK_MAX	64
/* A folder's directories: entries made, removed, renamed in or out. */
#define IMAP_WATCH_MASK		(IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
				 IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW | \
				 IN_EXCL_UNLINK)

enum imap_kind { IMAP_KIND_IMAP, IMAP_KIND_IMAPS };

/* The directories watched per folder: its own (the uidlist), new, cur. */
enum { IMAP_WATCH_ROOT, IMAP_WATCH_NEW, IMAP_WATCH_CUR, IMAP_WATCH_DIRS };

struct imap_conn;

/* A selected folder and the sessions on it. */
struct imap_watch {
	TAILQ_ENTRY(imap_watch)	 entry;
	char			*path;		/* imap_mbox_folder()'s */
	int			 wd[IMAP_WATCH_DIRS];	/* -1: not watched */
	TAILQ_HEAD(, imap_conn)	 conns;
	size_t			 refs;
	size_t			 nevents;	/* in this read */
	bool			 pending;	/* a session to wake */
	struct timespec		 mtim[IMAP_WATCH_DIRS];	/* at the last look */
};

struct imap_conn {
	struct imap_role	*role;
	struct conn		*conn;
	const char		*sid;
	struct imap_session	*session;
	bool			 greeted;
	bool			 feeding;
	struct lookup_login	 login;
	char			*owner;		/* the address as stored */
	struct imap_mbox	*mbox;		/* once logged in */
	struct event		*ev_idle;
	struct imap_watch	*watch;		/* the selected folder's */
	TAILQ_ENTRY(imap_conn)	 wentry;
	bool			 woken;		/* news in this read */
};

struct imap_role {
	struct proc_self	*self;
	struct conf		*conf;
	struct tls_ctx		*tls[CONF_TLS_PROFILES];
	struct conn_server	 srv;
	int			 ifd;		/* inotify; -1: none */
	struct event		*ev_watch;
	char			*watch_buf;	/* IMAP_WATCH_BUF */
	TAILQ_HEAD(, imap_watch) watches;
	struct imap_junk	*junk;		/* Junk moves to learn */
};

static void	imap_feed(struct imap_conn *);
static void	imap_watch_attach(struct imap_conn *, const char *);
static void	imap_watch_detach(struct imap_conn *);
static void	imap_watch_follow(struct imap_conn *);
static void	imap_idle_arm(struct imap_conn *);
static bool	imap_watch_live(const struct imap_watch *);
static bool	imap_watch_moved(struct imap_watch *);
static void	imap_watch_all(struct imap_watch *);
static void	imap_watch_wake(struct imap_role *);
static void	imap_watch_read(evutil_socket_t, short, void *);
static void	imap_watch_drain(struct imap_conn *);

/* --- session ops --- */

static void
imap_op_reply(void *arg, const char *p, size_t len)
{
	struct imap_conn	*c = arg;

	conn_write(c->conn, p, len);
}

static void
imap_op_starttls(void *arg)
{
	struct imap_conn	*c = arg;

	/* RFC 9051 §11.1: conn drops what came before the handshake. */
	conn_starttls(c->conn);
}

static void
imap_op_auth(void *arg, const char *user, const char *pass)
{
	struct imap_conn	*c = arg;

	if (lookup_login_auth(c->role->self, &c->login, c->conn, user,
	    pass) == -1)
		imap_session_auth_result(c->session, IMAP_AUTH_TEMPFAIL);
}

static void
imap_op_scram_salt(void *arg, const char *user)
{
	struct imap_conn	*c = arg;

	if (lookup_login_salt(c->role->self, &c->login, c->conn, user) == -1)
		imap_session_scram_challenge(c->session, IMAP_AUTH_TEMPFAIL,
		    NULL);
}

static void
imap_op_scram_proof(void *arg, const char *user, struct span auth_message,
    const unsigned char *proof)
{
	struct imap_conn	*c = arg;

	if (lookup_login_proof(c->role->self, &c->login, c->conn, user,
	    auth_message, proof) == -1)
		imap_session_scram_result(c->session, IMAP_AUTH_TEMPFAIL,
		    NULL);
}

/* The client took our ServerSignature: on to the mailbox. */
static void
imap_op_scram_done(void *arg)
{
	struct imap_conn	*c = arg;

	if (lookup_login_scram_done(c->role->self, &c->login, c->conn) == -1)
		imap_session_auth_result(c->session, IMAP_AUTH_TEMPFAIL);
}

static ssize_t
imap_op_cbind(void *arg, enum sasl_cb type, unsigned char *out,
    size_t outsz)
{
	struct imap_conn	*c = arg;

	return conn_channel_binding(c->conn, type, out, outsz);
}

static void
imap_op_command(void *arg, const struct imap_cmd *cmd)
{
	struct imap_conn	*c = arg;
	char			 path[PATH_MAX];
	struct msg		*m;
	uint64_t		 bytes = 0;

	if (c->mbox == NULL)
		fatalx("imap: a mailbox command before login");
	/*
	 * Watch the folder before SELECT lists it, so that nothing done
	 * between the listing and the watch goes unseen.
	 */
	if ((cmd->name == IMAP_CMD_SELECT || cmd->name == IMAP_CMD_EXAMINE) &&
	    imap_mbox_folder_of(c->mbox, cmd->mailbox, path,
	    sizeof(path)) == 0) {
		imap_watch_detach(c);
		imap_mbox_select_prepare(c->mbox, c->session, cmd, path);
		imap_watch_attach(c, path);
	}
	imap_watch_drain(c);
	imap_mbox_command(c->mbox, c->session, cmd);
	imap_junk_take(c->role->junk, c->mbox, c->owner);
	imap_watch_follow(c);
	/* Lookup keeps mailbox sizes for quotas at RCPT (as pop3 does). */
	if (c->owner != NULL && imap_mbox_usage_changed(c->mbox, &bytes)) {
		m = msg_new(MSG_LOOKUP_USAGE);
		msg_put_str(m, c->owner);
		msg_put_u64(m, bytes);
		(void)proc_send(c->role->self, PROC_LOOKUP, m);
	}
}

/*
 * The safety look of an idling session: events may have been lost (a
 * network file system).  A watched folder whose directories kept their
 * mtimes since the last look is not listed again: 1,000 idle sessions
 * on large folders would otherwise relist one every 30 ms.
 */
static void
imap_idle_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct imap_conn	*c = arg;

	if (imap_session_idling(c->session) && c->mbox != NULL) {
		if (c->watch == NULL || !imap_watch_live(c->watch))
			imap_mbox_poll(c->mbox, c->session);
		else if (imap_watch_moved(c->watch)) {
			imap_watch_all(c->watch);
			imap_watch_wake(c->role);
		}
		imap_idle_arm(c);
	}
	if (imap_session_closing(c->session))
		conn_close(c->conn);
}

/* The next safety look: soon when the folder is not watched. */
static void
imap_idle_arm(struct imap_conn *c)
{
	struct timeval	tv = { IMAP_IDLE_SAFETY, 0 };
	size_t		i;

	if (c->watch != NULL)	/* NULL: no folder selected */
		for (i = 0; i < IMAP_WATCH_DIRS; i++)
			if (c->watch->wd[i] == -1)
				tv.tv_sec = IMAP_IDLE_POLL;
	if (c->ev_idle == NULL &&
	    (c->ev_idle = evtimer_new(c->role->self->base, imap_idle_tick,
	    c)) == NULL)
		fatalx("imap: event_new");
	if (evtimer_add(c->ev_idle, &tv) == -1)
		fatalx("imap: event_add");
}

static void
imap_op_idle(void *arg, bool on)
{
	struct imap_conn	*c = arg;

	if (!on) {
		if (c->ev_idle != NULL)
			evtimer_del(c->ev_idle);
		return;
	}
	imap_idle_arm(c);
	/* RFC 2177 §3: changes so far at once, the rest as they come. */
	imap_watch_drain(c);
	if (c->mbox != NULL)
		imap_mbox_sync(c->mbox, c->session);
}

static void
imap_op_close(void *arg)
{
	struct imap_conn	*c = arg;

	conn_close(c->conn);
}

static const struct imap_session_ops imap_ops = {
	.reply = imap_op_reply,
	.starttls = imap_op_starttls,
	.auth = imap_op_auth,
	.scram_salt = imap_op_scram_salt,
	.scram_proof = imap_op_scram_proof,
	.scram_done = imap_op_scram_done,
	.cbind = imap_op_cbind,
	.command = imap_op_command,
	.idle = imap_op_idle,
	.close = imap_op_close,
};

/* --- connections --- */

static void
imap_feed(struct imap_conn *c)
{
	const char	*p;
	size_t		 len, n;

	if (c->feeding)
		return;
	c->feeding = true;
	for (;;) {
		/* a FETCH answers a message at a time as the output drains */
		while (c->mbox != NULL && imap_mbox_busy(c->mbox) &&
		    conn_can_feed(c->conn)) {
			conn_set_timeout(c->conn, IMAP_SESSION_IDLE_TIMEOUT);
			imap_mbox_resume(c->mbox, c->session);
		}
		if (!conn_can_feed(c->conn) ||
		    imap_session_waiting(c->session) ||
		    imap_session_closing(c->session))
			break;
		if ((p = conn_peek(c->conn, IMAP_FEED_MAX, &len)) == NULL)
			break;
		n = imap_session_input(c->session, p, len);
		/* After STARTTLS conn dropped the input already. */
		conn_consume(c->conn, n);
		if (n == 0)
			break;
	}
	c->feeding = false;
	if (imap_session_closing(c->session))
		conn_close(c->conn);
}

/* --- watching the selected folders (inotify(7)) --- */

static const char *const imap_watch_dirs[IMAP_WATCH_DIRS] = {
	NULL, "new", "cur"
};

static bool
imap_watch_live(const struct imap_watch *w)
{
	size_t	i;

	for (i = 0; i < IMAP_WATCH_DIRS; i++)
		if (w->wd[i] == -1)
			return false;
	return true;
}

static struct imap_watch *
imap_watch_by_wd(struct imap_role *r, int wd, size_t *dir_out)
{
	struct imap_watch	*w;
	size_t			 i;

	TAILQ_FOREACH(w, &r->watches, entry)
		for (i = 0; i < IMAP_WATCH_DIRS; i++)
			if (w->wd[i] == wd) {
				*dir_out = i;
				return w;
			}
	return NULL;
}

/* The watch of a folder, made (its three directories) or shared. */
static struct imap_watch *
imap_watch_get(struct imap_role *r, const char *path)
{
	struct imap_watch	*w;
	char			 dir[PATH_MAX];
	size_t			 i, k;
	int			 wd;

	TAILQ_FOREACH(w, &r->watches, entry)
		if (strcmp(w->path, path) == 0) {
			w->refs++;
			return w;
		}
	w = xcalloc(1, sizeof(*w));
	w->path = xstrdup(path);
	w->refs = 1;
	TAILQ_INIT(&w->conns);
	for (i = 0; i < IMAP_WATCH_DIRS; i++) {
		w->wd[i] = -1;
		if (r->ifd == -1)
			continue;
		if (imap_watch_dirs[i] == NULL)
			(void)str_copy(dir, sizeof(dir), path);
		else if (path_join(dir, sizeof(dir), path,
		    imap_watch_dirs[i]) == -1)
			continue;
		if ((wd = inotify_add_watch(r->ifd, dir, IMAP_WATCH_MASK)) ==
		    -1) {
			/*
			 * ENOENT: a SELECT of no folder, refused next;
			 * ENOSPC: the watch limit, the safety looks stay.
			 */
			if (errno != ENOENT)
				log_warn("imap: inotify_add_watch %s", dir);
			continue;
		}
		/* One directory under two names: its first watch keeps it. */
		if (imap_watch_by_wd(r, wd, &k) != NULL)
			continue;
		w->wd[i] = wd;
	}
	TAILQ_INSERT_TAIL(&r->watches, w, entry);
	return w;
}

/* Did a directory of the folder change since the last safety look? */
static bool
imap_watch_moved(struct imap_watch *w)
{
	struct stat	st;
	char		dir[PATH_MAX];
	size_t		i;
	bool		moved = false;

	for (i = 0; i < IMAP_WATCH_DIRS; i++) {
		if (imap_watch_dirs[i] == NULL)
			(void)str_copy(dir, sizeof(dir), w->path);
		else if (path_join(dir, sizeof(dir), w->path,
		    imap_watch_dirs[i]) == -1)
			return true;
		if (stat(dir, &st) == -1)
			return true;
		if (st.st_mtim.tv_sec != w->mtim[i].tv_sec ||
		    st.st_mtim.tv_nsec != w->mtim[i].tv_nsec)
			moved = true;
		w->mtim[i] = st.st_mtim;
	}
	return moved;
}

static void
imap_watch_put(struct imap_role *r, struct imap_watch *w)
{
	size_t	i;

	if (--w->refs > 0)
		return;
	for (i = 0; i < IMAP_WATCH_DIRS; i++)
		if (w->wd[i] != -1)
			(void)inotify_rm_watch(r->ifd, w->wd[i]);
	TAILQ_REMOVE(&r->watches, w, entry);
	free(w->path);
	free(w);
}

static void
imap_watch_attach(struct imap_conn *c, const char *path)
{
	struct imap_watch	*w;

	w = imap_watch_get(c->role, path);
	c->watch = w;
	TAILQ_INSERT_TAIL(&w->conns, c, wentry);
	imap_mbox_watched(c->mbox, imap_watch_live(w));
}

static void
imap_watch_detach(struct imap_conn *c)
{
	if (c->watch == NULL)
		return;
	TAILQ_REMOVE(&c->watch->conns, c, wentry);
	imap_watch_put(c->role, c->watch);
	c->watch = NULL;
	if (c->mbox != NULL)
		imap_mbox_watched(c->mbox, false);
}

/* After a command: watch the folder now selected, if any. */
static void
imap_watch_follow(struct imap_conn *c)
{
	const char	*path;

	path = c->mbox != NULL ? imap_mbox_folder(c->mbox) : NULL;
	if (c->watch != NULL && path != NULL &&
	    strcmp(c->watch->path, path) == 0)
		return;
	imap_watch_detach(c);
	if (path != NULL)
		imap_watch_attach(c, path);
}

/* Every session on the folder looks again. */
static void
imap_watch_all(struct imap_watch *w)
{
	struct imap_conn	*c;

	w->pending = true;
	TAILQ_FOREACH(c, &w->conns, wentry) {
		imap_mbox_changed(c->mbox);
		c->woken = true;
	}
}

/*
 * Is the event news to a session, or its own doing?  A name that left
 * is news when the session's view still has it, a name that came when
 * the view lacks it: a session's own STORE, EXPUNGE or SELECT (which
 * moves new/ to cur/) updated its view before the event is read, so it
 * does not look again for what it did itself.
 */
static bool
imap_watch_news(struct imap_conn *c, size_t dir,
    const struct inotify_event *e)
{
	bool	known;

	if (e->mask & IN_ISDIR)
		return true;
	known = imap_mbox_knows(c->mbox, dir == IMAP_WATCH_NEW, e->name,
	    strnlen(e->name, e->len));
	return (e->mask & (IN_DELETE | IN_MOVED_FROM)) ? known : !known;
}

static void
imap_watch_event(struct imap_role *r, const struct inotify_event *e)
{
	struct imap_watch	*w;
	struct imap_conn	*c;
	size_t			 dir;

	if (e->mask & IN_Q_OVERFLOW) {
		/* inotify(7): events were dropped; everyone looks again */
		log_warnx("imap: inotify queue overflow");
		TAILQ_FOREACH(w, &r->watches, entry)
			imap_watch_all(w);
		return;
	}
	if ((w = imap_watch_by_wd(r, e->wd, &dir)) == NULL)
		return;		/* a watch removed since */
	if (e->mask & IN_IGNORED) {
		/* the directory went (DELETE, RENAME by another session) */
		w->wd[dir] = -1;
		imap_watch_all(w);
		TAILQ_FOREACH(c, &w->conns, wentry)
			imap_mbox_watched(c->mbox, false);
		return;
	}
	if (dir == IMAP_WATCH_ROOT) {
		/*
		 * In the folder's own directory only the uidlist's removal
		 * counts (UIDVALIDITY starts again); it is rewritten by
		 * rename whenever the files changed, which new/ and cur/
		 * report themselves.
		 */
		if ((e->mask & (IN_DELETE | IN_MOVED_FROM)) &&
		    strnlen(e->name, e->len) == sizeof(MAILDIR_UIDLIST) - 1 &&
		    memcmp(e->name, MAILDIR_UIDLIST,
		    sizeof(MAILDIR_UIDLIST) - 1) == 0)
			imap_watch_all(w);
		return;
	}
	/* Many events at once (STORE 1:*): one look costs less. */
	if (++w->nevents > IMAP_WATCH_CHECK_MAX) {
		imap_watch_all(w);
		return;
	}
	TAILQ_FOREACH(c, &w->conns, wentry) {
		if (c->woken || !imap_watch_news(c, dir, e))
			continue;
		imap_mbox_changed(c->mbox);
		c->woken = true;
		w->pending = true;
	}
}

/* Hand the events on: idling sessions told at once. */
static void
imap_watch_wake(struct imap_role *r)
{
	struct imap_watch	*w;
	struct imap_conn	*c;

	TAILQ_FOREACH(w, &r->watches, entry) {
		w->nevents = 0;
		if (!w->pending)
			continue;
		w->pending = false;
		TAILQ_FOREACH(c, &w->conns, wentry) {
			if (!c->woken)
				continue;
			c->woken = false;
			if (!imap_session_idling(c->session) ||
			    imap_mbox_busy(c->mbox))
				continue;
			imap_mbox_sync(c->mbox, c->session);
			/* conn_close() frees later, from the loop */
			if (imap_session_closing(c->session))
				conn_close(c->conn);
		}
	}
}

static void
imap_watch_read(evutil_socket_t fd, short ev, void *arg)
{
	struct imap_role		*r = arg;
	const struct inotify_event	*e;
	ssize_t				 n;
	size_t				 o, i;

	for (i = 0; i < IMAP_WATCH_READS; i++) {
		if ((n = read(r->ifd, r->watch_buf, IMAP_WATCH_BUF)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("imap: inotify read");
			break;
		}
		for (o = 0; o + sizeof(*e) <= (size_t)n; ) {
			e = (const struct inotify_event *)(void *)
			    (r->watch_buf + o);
			if (e->len > (size_t)n - o - sizeof(*e))
				fatalx("imap: inotify event past the read");
			imap_watch_event(r, e);
			o += sizeof(*e) + e->len;
		}
		if ((size_t)n < IMAP_WATCH_BUF / 2)
			break;	/* drained, most likely */
	}
	imap_watch_wake(r);
}

/*
 * Before a command on a watched folder: read the events the kernel
 * queued but the loop has not handed on yet (a delivery just before
 * the command, whose event would otherwise wait for the next turn of
 * the loop).  A watched session that is not stale then has nothing to
 * look for, and a NOOP costs this one read instead of a listing.
 */
static void
imap_watch_drain(struct imap_conn *c)
{
	if (c->watch != NULL && c->role->ifd != -1)
		imap_watch_read(c->role->ifd, EV_READ, c->role);
}

/* One descriptor for the worker; without it sessions look for themselves. */
static void
imap_watch_init(struct imap_role *r)
{
	TAILQ_INIT(&r->watches);
#ifdef CACHET_TEST_HOOKS
	/* the tests' way to the fallback (no watch: a full inotify) */
	if (getenv("CACHET_TEST_NO_INOTIFY") != NULL) {
		r->ifd = -1;
		log_info("imap: no inotify (CACHET_TEST_NO_INOTIFY); folders "
		    "are looked at by their mtimes");
		return;
	}
#endif
	if ((r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("imap: inotify_init1; folders are looked at by "
		    "every command");
		return;
	}
	r->watch_buf = xmalloc(IMAP_WATCH_BUF);
	if ((r->ev_watch = event_new(r->self->base, r->ifd,
	    EV_READ | EV_PERSIST, imap_watch_read, r)) == NULL ||
	    event_add(r->ev_watch, NULL) == -1)
		fatalx("imap: inotify event");
}

static void
imap_on_input(struct conn *cn, void *arg)
{
	imap_feed(arg);
}

static void
imap_on_tls(struct conn *cn, void *arg, const char *version,
    const char *cipher)
{
	struct imap_conn	*c = arg;

	imap_session_tls_started(c->session);
	if (!c->greeted) {
		c->greeted = true;
		imap_session_start(c->session);
	}
}

static void
imap_on_timeout(struct conn *cn, void *arg)
{
	struct imap_conn	*c = arg;

	/* RFC 9051 §5.4: autologout */
	imap_session_timeout(c->session);
	conn_close(c->conn);
}

static void
imap_on_gone(struct conn *cn, void *arg)
{
	struct imap_conn	*c = arg;

	if (c->ev_idle != NULL)
		event_free(c->ev_idle);
	imap_watch_detach(c);
	imap_session_free(c->session);
	imap_mbox_free(c->mbox);
	log_info("sid=%s event=logout user=%s", c->sid,
	    c->owner != NULL ? c->owner : "-");
	lookup_login_free(&c->login);
	free(c->owner);
	free(c);
}

static const struct conn_ops imap_conn_ops = {
	.input = imap_on_input,
	.tls_up = imap_on_tls,
	.timeout = imap_on_timeout,
	.gone = imap_on_gone,
};

static void
imap_accepted(struct conn *cn, void *arg, int kind)
{
	struct imap_role	*r = arg;
	struct imap_conn	*c;
	struct imap_params	 params;

	c = xcalloc(1, sizeof(*c));
	c->role = r;
	c->conn = cn;
	c->sid = conn_sid(cn);
	memset(&params, 0, sizeof(params));
	params.hostname = r->conf->hostname;
	params.tls_available = conn_tls_available(cn);
	params.plaintext_auth = r->conf->plaintext_auth_loopback &&
	    conn_is_loopback(cn);
	c->session = imap_session_new(&params, &imap_ops, c);
	conn_setup(cn, &imap_conn_ops, c, IMAP_SESSION_LOGIN_TIMEOUT);
	conn_set_nodelay(cn);
	log_info("sid=%s event=session listener=%s", c->sid,
	    kind == IMAP_KIND_IMAPS ? "imaps" : "imap");
	if (kind != IMAP_KIND_IMAPS) {
		c->greeted = true;
		imap_session_start(c->session);
	}
}

/* --- answers from lookup --- */

static struct lookup_login *
imap_login_state(void *arg)
{
	struct imap_conn	*c = arg;

	return &c->login;
}

static bool
imap_login_closing(void *arg)
{
	struct imap_conn	*c = arg;

	return imap_session_closing(c->session);
}

static void
imap_login_auth(void *arg, uint32_t status)
{
	struct imap_conn	*c = arg;

	imap_session_auth_result(c->session, status == 1 ? IMAP_AUTH_FAIL :
	    IMAP_AUTH_TEMPFAIL);
}

static void
imap_login_salt(void *arg, uint32_t status,
    const struct sasl_scram_challenge *ch)
{
	struct imap_conn	*c = arg;

	imap_session_scram_challenge(c->session, status == 0 ? IMAP_AUTH_OK :
	    IMAP_AUTH_TEMPFAIL, ch);
}

static void
imap_login_proof(void *arg, uint32_t status, const unsigned char *sig)
{
	struct imap_conn	*c = arg;

	imap_session_scram_result(c->session, status == 0 ? IMAP_AUTH_OK :
	    status == 1 ? IMAP_AUTH_FAIL : IMAP_AUTH_TEMPFAIL, sig);
}

static void
imap_login_mailbox(void *arg, uint32_t status, const char *owner,
    const char *mailbox, uint32_t format, uint64_t quota)
{
	struct imap_conn	*c = arg;
	const char		*err = NULL;

	if (status != 0) {
		log_warnx("sid=%s imap: no mailbox for a user who just "
		    "logged in", c->sid);
		imap_session_auth_result(c->session, IMAP_AUTH_TEMPFAIL);
		return;
	}
	if (format != MAILBOX_FORMAT_MAILDIR) {
		/* IMAP serves Maildir only; an mbox user is refused. */
		log_info("sid=%s event=login-refused user=%s reason=mbox",
		    c->sid, owner);
		imap_session_auth_result(c->session, IMAP_AUTH_FAIL);
		return;
	}
	if (!mda_mailbox_valid(mailbox, MAILBOX_FORMAT_MAILDIR))
		fatalx("imap: lookup named mailbox %s", mailbox);
	/*
	 * A Maildir never delivered to is made, as the mda makes it, and
	 * the standard folders one lacks (made by another MDA) are added.
	 */
	if (maildir_create(mailbox, &err) == -1) {
		log_warn("sid=%s imap: create %s: %s", c->sid, mailbox, err);
		imap_session_auth_result(c->session, IMAP_AUTH_TEMPFAIL);
		return;
	}
	free(c->owner);
	c->owner = xstrdup(owner);
	imap_mbox_free(c->mbox);
	c->mbox = imap_mbox_new(mailbox, c->sid);
	imap_mbox_set_quota(c->mbox, quota);
	log_info("sid=%s event=login user=%s mailbox=%s", c->sid, owner,
	    mailbox);
	conn_set_timeout(c->conn, IMAP_SESSION_IDLE_TIMEOUT);
	imap_session_auth_result(c->session, IMAP_AUTH_OK);
}

static const struct lookup_login_ops imap_login_ops = {
	.state = imap_login_state,
	.closing = imap_login_closing,
	.auth = imap_login_auth,
	.salt = imap_login_salt,
	.proof = imap_login_proof,
	.mailbox = imap_login_mailbox,
};

static void
imap_dispatch(struct proc_self *self, struct proc_peer peer, struct msg *m)
{
	struct imap_role	*r = self->role;
	struct imap_conn	*c;

	/* A new certificate from lookup, for the next handshakes. */
	if (m->type == MSG_KEYPROXY_CHAIN && peer.id == PROC_LOOKUP) {
		keyproxy_chain_update(self, m);
		msg_free(m);
		return;
	}
	if ((c = lookup_login_dispatch(self, &r->srv, peer, m,
	    &imap_login_ops)) != NULL)
		imap_feed(c);
}

static void
imap_feed_one(struct conn *cn, void *arg, void *ctx)
{
	imap_feed(arg);
}

/* Lookup died: every login waiting on it fails for now. */
static void
imap_peer_down(struct proc_self *self, struct proc_peer p)
{
	struct imap_role	*r = self->role;

	if (p.id != PROC_LOOKUP)
		return;
	lookup_login_peer_down(&r->srv, &imap_login_ops);
	conn_foreach(&r->srv, imap_feed_one, NULL);
}

void
imap_main(struct proc_self *self)
{
	struct imap_role	*r;
	enum conf_listen_kind	 lkind;
	const char		*errstr;
	bool			 imaps;
	size_t			 i;

	r = xcalloc(1, sizeof(*r));
	r->self = self;
	r->conf = self->conf;
	self->role = r;
	self->dispatch = imap_dispatch;
	self->peer_down = imap_peer_down;
	self->peer_up = keyproxy_peer_up;

	/* The certificate now; the private key stays in lookup. */
	keyproxy_server_contexts(self, r->tls);

	if ((r->srv.limit = conn_limit_open(self->conn_table_fd, self->worker,
	    self->nworkers, &errstr)) == NULL)
		fatalx("imap: %s", errstr);

	/* iconv's modules cannot be loaded in the chroot: SEARCH decodes */
	log_debug("imap: %zu charsets preloaded", mime_charset_preload());
	proc_drop(self);
	imap_watch_init(r);
	r->junk = imap_junk_new(self);

	r->srv.base = self->base;
	r->srv.name = "imap";
	r->srv.spread = true;	/* sessions last long */
	r->srv.max_conns = r->conf->limits.connections;
	r->srv.max_per_ip = r->conf->limits.connections_per_ip;
	/* RFC 9051 §7.1.5: BYE at connection, and why. */
	r->srv.refuse_total = "* BYE [UNAVAILABLE] Too many connections, "
	    "try again later\r\n";
	r->srv.refuse_per_ip = "* BYE [UNAVAILABLE] Too many connections "
	    "from your address, try again later\r\n";
	r->srv.accepted = imap_accepted;
	r->srv.arg = r;
	for (i = 0; i < r->conf->nlistens; i++) {
		if (self->listen_fds[i] == -1)
			continue;
		lkind = r->conf->listens[i].kind;
		imaps = lkind == CONF_LISTEN_IMAPS;
		conn_listen(&r->srv, self->listen_fds[i],
		    imaps ? IMAP_KIND_IMAPS : IMAP_KIND_IMAP,
		    r->tls[conf_listen_tls_profile(lkind)], imaps, false);
		conn_listen_metrics(&r->srv, (unsigned)i);
	}
	proc_run(self);
}
