/*
 * pop3: the pop3 role.  Serves the pop3 (STLS) and pop3s (implicit TLS)
 * listeners through conn.c, and drives one pop3_session per connection.
 * Logins go to lookup (MSG_LOOKUP_AUTH for USER/PASS and AUTH PLAIN,
 * MSG_LOOKUP_APOP for APOP, MSG_LOOKUP_SCRAM_SALT and _PROOF for AUTH
 * SCRAM-SHA-256(-PLUS), sasl_ipc.h), which also names the user's mailbox
 * (MSG_LOOKUP_MAILBOX), the same path the mda delivers to.  The maildrop
 * is then locked (an OFD lock on "cachet-pop3.lock" in the Maildir, so a
 * second session of the same user, in this process or another, is told
 * [IN-USE]) and listed through maildir.c, which gives each message the
 * UID that IMAP will show too.
 *
 * The unique-id of a message (UIDL, RFC 1939 §7) is "<uidvalidity>.<uid>"
 * of its folder's uidlist: stable across sessions and restarts, the same
 * message IMAP names by that UID, and new only if the uidlist must be
 * rebuilt (a new UIDVALIDITY), when clients download again rather than
 * miss anything.
 *
 * RETR and TOP stream the file through pop3_session_stuff() (LF to CRLF,
 * dot-stuffing) into the connection's output, a chunk at a time, stopping
 * while the client does not read.  A message sent by RETR moves to cur/
 * with the S flag, as other servers do.  Messages marked by DELE are
 * removed only at QUIT (RFC 1939 §6); a dropped connection or a timeout
 * removes nothing.
 *
 * This role parses the network and reads mailboxes: it runs as the
 * mailboxes' owner chrooted into mail-dir, and holds no password or
 * secret: lookup checks them.  It trusts lookup's answers and nothing
 * the client sends.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "conn_limit.h"
#include "ipc.h"
#include "keyproxy.h"
#include "log.h"
#include "store/maildir.h"
#include "store/mda.h"
#include "pop3_session.h"
#include "proc.h"
#include "lookup/lookup_login.h"
#include "tls.h"
#include "mailbox.h"
#include "util.h"

#define POP3_FEED_MAX		(16 * 1024)	/* bytes per input() call */
#define POP3_READ_CHUNK		(64 * 1024)	/* message bytes per read() */
#define POP3_SEEN_BATCH		64	/* retrieved messages flagged at once */
#define POP3_LOCK_FILE		"cachet-pop3.lock"
/* "<uidvalidity>.<uid>": two 10-digit numbers and a dot */
#define POP3_UIDL_LEN		22

enum pop3_kind { POP3_KIND_POP3, POP3_KIND_POP3S };

/*
 * A message of the maildrop: what maildir.c needs to find it again, and
 * no more (a listing entry is ten times larger; a session holds one of
 * these per message for its whole life).  The flags are the name's
 * ":2," part.
 */
struct pop3_file {
	char		*name;
	uint64_t	 size;		/* bytes on disk */
	bool		 in_new;
};

struct pop3_conn {
	struct pop3_role	*role;
	struct conn		*conn;
	const char		*sid;		/* conn's, for logs */
	struct pop3_session	*session;
	bool			 greeted;
	bool			 feeding;
	struct lookup_login	 login;
	char			*timestamp;	/* of the greeting, for APOP */

	/* the maildrop, once logged in */
	char			*mailbox;	/* relative to mail-dir */
	char			*owner;		/* the address as stored */
	int			 lockfd;
	struct maildir_dirs	 dirs;		/* its new/ and cur/, open */
	struct pop3_file	*files;		/* as listed at login */
	size_t			 nfiles;
	size_t			 retrieved;
	size_t			 removed;
	size_t			*seen;		/* retrieved, not yet flagged */
	size_t			 nseen;

	/* the message being sent */
	int			 msgfd;
	size_t			 msgidx;
	bool			 msg_retr;	/* RETR: mark seen after */
	uint64_t		 msgleft;	/* bytes still to read */
	struct pop3_session_stuffer st;
};

struct pop3_role {
	struct proc_self	*self;
	struct conf		*conf;
	struct tls_ctx		*tls[CONF_TLS_PROFILES];
	struct conn_server	 srv;
	uint64_t		 greetings;	/* for unique APOP timestamps */
	char			 rbuf[POP3_READ_CHUNK];
	char			 wbuf[2 * POP3_READ_CHUNK];
};

static void	pop3_feed(struct pop3_conn *);
static void	pop3_seen_flush(struct pop3_conn *);

/* --- the maildrop --- */

static void
pop3_drop_close(struct pop3_conn *c)
{
	size_t	i;

	if (c->msgfd != -1)
		(void)close(c->msgfd);
	c->msgfd = -1;
	pop3_seen_flush(c);
	free(c->seen);
	c->seen = NULL;
	for (i = 0; i < c->nfiles; i++)
		free(c->files[i].name);
	free(c->files);
	c->files = NULL;
	c->nfiles = 0;
	maildir_dirs_close(&c->dirs);
	/* Closing the descriptor releases the OFD lock. */
	if (c->lockfd != -1)
		(void)close(c->lockfd);
	c->lockfd = -1;
}

/*
 * Lock the maildrop for this session.  An OFD lock (fcntl F_OFD_SETLK)
 * belongs to the open file, not the process, so two sessions of one
 * process exclude each other as two processes do.
 */
static enum pop3_auth_result
pop3_drop_lock(struct pop3_conn *c)
{
	struct flock	fl;
	char		path[PATH_MAX];

	if (path_join(path, sizeof(path), c->mailbox, POP3_LOCK_FILE) == -1)
		return POP3_AUTH_TEMPFAIL;
	if ((c->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		log_warn("sid=%s pop3: %s", c->sid, path);
		return POP3_AUTH_TEMPFAIL;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(c->lockfd, F_OFD_SETLK, &fl) == -1) {
		if (errno == EAGAIN || errno == EACCES)
			return POP3_AUTH_IN_USE;
		log_warn("sid=%s pop3: lock %s", c->sid, path);
		return POP3_AUTH_TEMPFAIL;
	}
	return POP3_AUTH_OK;
}

/*
 * Open, lock and list the maildrop of c->mailbox, and answer the session.
 * A mailbox that was never delivered to is made empty, as the mda makes
 * it at the first delivery, so that it can be locked.
 */
static void
pop3_drop_open(struct pop3_conn *c)
{
	struct pop3_msg		*msgs = NULL;
	struct maildir_list	 list;
	struct maildir_entry	*e;
	struct stat		 sb;
	enum pop3_auth_result	 res;
	const char		*err = NULL;
	char			*uidls = NULL;
	uint64_t		 octets = 0;
	size_t			 i;

	memset(&list, 0, sizeof(list));
	if (stat(c->mailbox, &sb) == -1 && errno == ENOENT &&
	    maildir_create(c->mailbox, &err) == -1) {
		log_warn("sid=%s pop3: create %s: %s", c->sid, c->mailbox, err);
		res = POP3_AUTH_TEMPFAIL;
		goto done;
	}
	if ((res = pop3_drop_lock(c)) != POP3_AUTH_OK)
		goto done;
	if (maildir_list(c->mailbox, &list, &err) == -1) {
		log_warn("sid=%s pop3: list %s: %s", c->sid, c->mailbox, err);
		res = POP3_AUTH_TEMPFAIL;
		goto done;
	}
	/* RETR and its flag by name in them (the paths when that fails) */
	if (maildir_dirs_open(c->mailbox, &c->dirs) == -1)
		log_warn("sid=%s pop3: open %s/new, cur", c->sid, c->mailbox);
	msgs = xcalloc(list.nentries + 1, sizeof(*msgs));
	uidls = xcalloc(list.nentries + 1, POP3_UIDL_LEN + 1);
	c->files = xcalloc(list.nentries + 1, sizeof(*c->files));
	for (i = 0; i < list.nentries; i++) {
		e = &list.entries[i];
		/* No UID on disk, no stable unique-id: not now. */
		if (e->uid == 0 || list.uidvalidity == 0) {
			log_warnx("sid=%s pop3: %s: messages without a UID",
			    c->sid, c->mailbox);
			res = POP3_AUTH_TEMPFAIL;
			goto done;
		}
		(void)snprintf(uidls + i * (POP3_UIDL_LEN + 1),
		    POP3_UIDL_LEN + 1, "%" PRIu32 ".%" PRIu32,
		    list.uidvalidity, e->uid);
		msgs[i].uidl = uidls + i * (POP3_UIDL_LEN + 1);
		msgs[i].size = e->size_crlf;
		octets += e->size_crlf;
		c->files[i].name = xstrdup(e->name);
		c->files[i].size = e->size;
		c->files[i].in_new = e->in_new;
		c->nfiles++;
	}
	log_info("sid=%s event=login user=%s mailbox=%s messages=%zu "
	    "octets=%" PRIu64, c->sid, c->owner, c->mailbox, c->nfiles,
	    octets);
done:
	maildir_list_free(&list);
	if (res != POP3_AUTH_OK)
		pop3_drop_close(c);
	pop3_session_auth_result(c->session, res, msgs,
	    res == POP3_AUTH_OK ? c->nfiles : 0);
	free(msgs);
	free(uidls);
}

/* The listing entry maildir.c wants for the message f. */
static void
pop3_file_entry(const struct pop3_file *f, struct maildir_entry *e)
{
	const char	*fl;

	memset(e, 0, sizeof(*e));
	(void)str_copy(e->name, sizeof(e->name), f->name);
	e->in_new = f->in_new;
	e->size = f->size;
	if ((fl = strstr(f->name, ":2,")) != NULL)
		(void)str_copy(e->flags, sizeof(e->flags), fl + 3);
}

/* --- session ops --- */

static void
pop3_op_reply(void *arg, const char *p, size_t len)
{
	struct pop3_conn	*c = arg;

	conn_write(c->conn, p, len);
}

static void
pop3_op_stls(void *arg)
{
	struct pop3_conn	*c = arg;

	/* RFC 2595 §4: conn drops what came before the handshake. */
	conn_starttls(c->conn);
}

static void
pop3_op_auth(void *arg, const char *user, const char *pass)
{
	struct pop3_conn	*c = arg;

	if (lookup_login_auth(c->role->self, &c->login, c->conn, user,
	    pass) == -1)
		pop3_session_auth_result(c->session, POP3_AUTH_TEMPFAIL,
		    NULL, 0);
}

static void
pop3_op_apop(void *arg, const char *user, const char *digest)
{
	struct pop3_conn	*c = arg;
	struct msg		*m;

	free(c->login.user);
	c->login.user = xstrdup(user);
	m = msg_new(MSG_LOOKUP_APOP);
	msg_put_u64(m, conn_reqid(c->conn));
	msg_put_str(m, conn_ip(c->conn));
	msg_put_str(m, user);
	msg_put_str(m, c->timestamp);
	msg_put_str(m, digest);
	if (lookup_login_ask(c->role->self, &c->login, m,
	    LOOKUP_LOGIN_AUTH) == -1)
		pop3_session_auth_result(c->session, POP3_AUTH_TEMPFAIL,
		    NULL, 0);
}

static void
pop3_op_scram_salt(void *arg, const char *user)
{
	struct pop3_conn	*c = arg;

	if (lookup_login_salt(c->role->self, &c->login, c->conn, user) == -1)
		pop3_session_scram_challenge(c->session, POP3_AUTH_TEMPFAIL,
		    NULL);
}

static void
pop3_op_scram_proof(void *arg, const char *user, struct span auth_message,
    const unsigned char *proof)
{
	struct pop3_conn	*c = arg;

	if (lookup_login_proof(c->role->self, &c->login, c->conn, user,
	    auth_message, proof) == -1)
		pop3_session_scram_result(c->session, POP3_AUTH_TEMPFAIL,
		    NULL);
}

/* The client took our ServerSignature: on to the maildrop. */
static void
pop3_op_scram_done(void *arg)
{
	struct pop3_conn	*c = arg;

	if (lookup_login_scram_done(c->role->self, &c->login, c->conn) == -1)
		pop3_session_auth_result(c->session, POP3_AUTH_TEMPFAIL,
		    NULL, 0);
}

static ssize_t
pop3_op_cbind(void *arg, enum sasl_cb type, unsigned char *out,
    size_t outsz)
{
	struct pop3_conn	*c = arg;

	return conn_channel_binding(c->conn, type, out, outsz);
}

static int
pop3_op_retr(void *arg, size_t idx, int64_t top)
{
	struct pop3_conn	*c = arg;
	struct maildir_entry	 e;
	const char		*err = NULL;

	if (idx >= c->nfiles || c->msgfd != -1)
		fatalx("pop3: message %zu asked out of turn", idx);
	pop3_file_entry(&c->files[idx], &e);
	if (maildir_open_in(&c->dirs, c->mailbox, &e, &c->msgfd,
	    &err) == -1) {
		log_warn("sid=%s pop3: open %s/%s: %s", c->sid, c->mailbox,
		    e.name, err);
		c->msgfd = -1;
		return -1;
	}
	c->msgidx = idx;
	c->msg_retr = top < 0;
	c->msgleft = e.size;
	pop3_session_stuff_init(&c->st, top);
	return 0;
}

static int
pop3_op_update(void *arg)
{
	struct pop3_conn	*c = arg;
	struct maildir_entry	 e;
	struct msg		*m;
	const char		*err = NULL;
	uint64_t		 bytes;
	size_t			 i, failed = 0;

	pop3_seen_flush(c);	/* its names first: DELE may follow RETR */
	for (i = 0; i < c->nfiles; i++) {
		if (!pop3_session_deleted(c->session, i))
			continue;
		pop3_file_entry(&c->files[i], &e);
		if (maildir_remove(c->mailbox, &e, &err) == -1) {
			log_warn("sid=%s pop3: remove %s/%s: %s", c->sid,
			    c->mailbox, e.name, err);
			failed++;
		} else
			c->removed++;
	}
	/* Lookup keeps mailbox sizes for quotas at RCPT. */
	if (c->removed > 0 && c->owner != NULL &&
	    maildir_usage(c->mailbox, &bytes, &err) == 0) {
		m = msg_new(MSG_LOOKUP_USAGE);
		msg_put_str(m, c->owner);
		msg_put_u64(m, bytes);
		(void)proc_send(c->role->self, PROC_LOOKUP, m);
	}
	log_info("sid=%s event=update user=%s retrieved=%zu removed=%zu "
	    "failed=%zu", c->sid, c->owner, c->retrieved, c->removed, failed);
	return failed > 0 ? -1 : 0;
}

static void
pop3_op_close(void *arg)
{
	struct pop3_conn	*c = arg;

	/*
	 * Unlock now, before the goodbye leaves: a client that logs in
	 * again as soon as it reads "+OK" must not find the drop locked.
	 */
	pop3_drop_close(c);
	conn_close(c->conn);
}

static const struct pop3_session_ops pop3_ops = {
	.reply = pop3_op_reply,
	.stls = pop3_op_stls,
	.auth = pop3_op_auth,
	.apop = pop3_op_apop,
	.scram_salt = pop3_op_scram_salt,
	.scram_proof = pop3_op_scram_proof,
	.scram_done = pop3_op_scram_done,
	.cbind = pop3_op_cbind,
	.retr = pop3_op_retr,
	.update = pop3_op_update,
	.close = pop3_op_close,
};

/* --- sending a message --- */

/*
 * RETR sent it: move it to cur/ with the S flag (seen), as others do,
 * with the folder's lock held (pop3_seen_flush()).
 */
static void
pop3_mark_seen(struct pop3_conn *c, struct pop3_file *f)
{
	struct maildir_entry	 e;
	char			 flags[sizeof(e.flags) + 1];
	const char		*err = NULL;
	size_t			 n;

	pop3_file_entry(f, &e);
	if (!e.in_new && strchr(e.flags, 'S') != NULL)
		return;
	n = strnlen(e.flags, sizeof(e.flags));
	memcpy(flags, e.flags, n);
	if (strchr(e.flags, 'S') == NULL)
		flags[n++] = 'S';
	flags[n] = '\0';
	if (maildir_set_flags_in(&c->dirs, c->mailbox, &e, flags,
	    &err) == -1) {
		log_warn("sid=%s pop3: flag %s/%s: %s", c->sid, c->mailbox,
		    e.name, err);
		return;
	}
	free(f->name);
	f->name = xstrdup(e.name);
	f->in_new = e.in_new;
}

/*
 * Flag what was retrieved since the last time, under one lock of the
 * folder rather than one each.  Called when POP3_SEEN_BATCH are due,
 * before UPDATE and when the drop closes (QUIT, a timeout or a dropped
 * connection): another reader sees the flags at the latest then, as
 * with Dovecot, which flags at QUIT.  A message whose flag a crash
 * loses stays unseen, nothing worse.
 */
static void
pop3_seen_flush(struct pop3_conn *c)
{
	size_t	i;
	int	lockfd;

	if (c->nseen == 0)
		return;
	if ((lockfd = maildir_lock_folder(c->mailbox)) == -1)
		log_warn("sid=%s pop3: lock %s", c->sid, c->mailbox);
	else {
		for (i = 0; i < c->nseen; i++)
			pop3_mark_seen(c, &c->files[c->seen[i]]);
		maildir_unlock_folder(lockfd);
	}
	c->nseen = 0;
}

static void
pop3_send_end(struct pop3_conn *c)
{
	char	tail[8];
	size_t	n;

	n = pop3_session_stuff_end(&c->st, tail);
	conn_write(c->conn, tail, n);
	(void)close(c->msgfd);
	c->msgfd = -1;
	if (c->msg_retr) {
		c->retrieved++;
		if (c->seen == NULL)
			c->seen = xcalloc(POP3_SEEN_BATCH, sizeof(*c->seen));
		c->seen[c->nseen++] = c->msgidx;
		if (c->nseen == POP3_SEEN_BATCH)
			pop3_seen_flush(c);
	}
	pop3_session_send_done(c->session);
}

/*
 * Move the message being sent into the output, a chunk at a time, until
 * it is all there or the output is full (conn calls again once it
 * drained).  Returns -1 when the connection must be dropped: a
 * multi-line answer cannot be taken back halfway.
 */
static int
pop3_send_pump(struct pop3_conn *c)
{
	struct pop3_role	*r = c->role;
	size_t			 want;
	ssize_t			 n;

	/*
	 * The client sends nothing while it reads a message: each chunk it
	 * took restarts the idle timer, so a slow download of a large
	 * message is not cut off, and a client that stopped reading is.
	 */
	conn_set_timeout(c->conn, POP3_IDLE_TIMEOUT);
	while (c->msgfd != -1 && conn_can_feed(c->conn)) {
		if (c->msgleft == 0 || c->st.done) {
			pop3_send_end(c);
			return 0;
		}
		want = c->msgleft < POP3_READ_CHUNK ? (size_t)c->msgleft :
		    POP3_READ_CHUNK;
		n = read(c->msgfd, r->rbuf, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("sid=%s pop3: read %s/%s", c->sid, c->mailbox,
			    c->files[c->msgidx].name);
			return -1;
		}
		if (n == 0) {
			/* Shorter than listed: end it cleanly anyway. */
			c->msgleft = 0;
			continue;
		}
		c->msgleft -= (uint64_t)n;
		conn_write(c->conn, r->wbuf, pop3_session_stuff(&c->st,
		    r->rbuf, (size_t)n, r->wbuf));
	}
	return 0;
}

/* --- connections --- */

/*
 * Send what a message still needs, then hand buffered input to the
 * session until it waits, asks to close, holds part of a line, or
 * answers back up (conn.h).
 */
static void
pop3_feed(struct pop3_conn *c)
{
	const char	*p;
	size_t		 len, n;

	if (c->feeding)
		return;
	c->feeding = true;
	for (;;) {
		if (c->msgfd != -1) {
			if (pop3_send_pump(c) == -1) {
				pop3_drop_close(c);
				conn_close(c->conn);
				break;
			}
			if (c->msgfd != -1)
				break;	/* the output is full */
		}
		if (!conn_can_feed(c->conn) ||
		    pop3_session_waiting(c->session) ||
		    pop3_session_closing(c->session))
			break;
		if ((p = conn_peek(c->conn, POP3_FEED_MAX, &len)) == NULL)
			break;
		n = pop3_session_input(c->session, p, len);
		/* After STLS conn dropped the input already. */
		conn_consume(c->conn, n);
		if (n == 0 && c->msgfd == -1)
			break;	/* a partial line: wait for more */
	}
	c->feeding = false;
	if (pop3_session_closing(c->session))
		conn_close(c->conn);
}

static void
pop3_on_input(struct conn *cn, void *arg)
{
	pop3_feed(arg);
}

static void
pop3_on_tls(struct conn *cn, void *arg, const char *version,
    const char *cipher)
{
	struct pop3_conn	*c = arg;

	pop3_session_tls_started(c->session);
	/* With implicit TLS the greeting waited for the handshake. */
	if (!c->greeted) {
		c->greeted = true;
		pop3_session_start(c->session);
	}
}

static void
pop3_on_timeout(struct conn *cn, void *arg)
{
	struct pop3_conn	*c = arg;

	/* RFC 1939 §3: autologout, no UPDATE, no answer. */
	pop3_session_timeout(c->session);
}

static void
pop3_on_gone(struct conn *cn, void *arg)
{
	struct pop3_conn	*c = arg;

	/* A dropped connection removes nothing (RFC 1939 §6). */
	pop3_drop_close(c);
	pop3_session_free(c->session);
	log_info("sid=%s event=logout user=%s retrieved=%zu removed=%zu",
	    c->sid, c->owner != NULL ? c->owner : "-", c->retrieved,
	    c->removed);
	lookup_login_free(&c->login);
	free(c->timestamp);
	free(c->mailbox);
	free(c->owner);
	free(c);
}

static const struct conn_ops pop3_conn_ops = {
	.input = pop3_on_input,
	.tls_up = pop3_on_tls,
	.timeout = pop3_on_timeout,
	.gone = pop3_on_gone,
};

static void
pop3_accepted(struct conn *cn, void *arg, int kind)
{
	struct pop3_role	*r = arg;
	struct pop3_conn	*c;
	struct pop3_params	 params;

	c = xcalloc(1, sizeof(*c));
	c->role = r;
	c->conn = cn;
	c->sid = conn_sid(cn);
	c->lockfd = -1;
	c->dirs.newfd = c->dirs.curfd = -1;
	c->msgfd = -1;
	/* RFC 1939 §7: unique per greeting: pid, counter, time. */
	r->greetings++;
	c->timestamp = xasprintf("<%d.%" PRIu64 ".%lld@%s>", (int)getpid(),
	    r->greetings, (long long)time(NULL), r->conf->hostname);

	memset(&params, 0, sizeof(params));
	params.hostname = r->conf->hostname;
	params.timestamp = c->timestamp;
	params.tls_available = conn_tls_available(cn);
	params.plaintext_auth = r->conf->plaintext_auth_loopback &&
	    conn_is_loopback(cn);
	params.max_errors = r->conf->limits.errors;
	c->session = pop3_session_new(&params, &pop3_ops, c);
	conn_setup(cn, &pop3_conn_ops, c, POP3_IDLE_TIMEOUT);
	conn_set_nodelay(cn);
	log_info("sid=%s event=session listener=%s", c->sid,
	    kind == POP3_KIND_POP3S ? "pop3s" : "pop3");
	if (kind != POP3_KIND_POP3S) {
		c->greeted = true;
		pop3_session_start(c->session);
	}
}

/* --- answers from lookup --- */

static struct lookup_login *
pop3_login_state(void *arg)
{
	struct pop3_conn	*c = arg;

	return &c->login;
}

static bool
pop3_login_closing(void *arg)
{
	struct pop3_conn	*c = arg;

	return pop3_session_closing(c->session);
}

static void
pop3_login_auth(void *arg, uint32_t status)
{
	struct pop3_conn	*c = arg;

	pop3_session_auth_result(c->session, status == 1 ? POP3_AUTH_FAIL :
	    POP3_AUTH_TEMPFAIL, NULL, 0);
}

static void
pop3_login_salt(void *arg, uint32_t status,
    const struct sasl_scram_challenge *ch)
{
	struct pop3_conn	*c = arg;

	pop3_session_scram_challenge(c->session, status == 0 ? POP3_AUTH_OK :
	    POP3_AUTH_TEMPFAIL, ch);
}

static void
pop3_login_proof(void *arg, uint32_t status, const unsigned char *sig)
{
	struct pop3_conn	*c = arg;

	pop3_session_scram_result(c->session, status == 0 ? POP3_AUTH_OK :
	    status == 1 ? POP3_AUTH_FAIL : POP3_AUTH_TEMPFAIL, sig);
}

static void
pop3_login_mailbox(void *arg, uint32_t status, const char *owner,
    const char *mailbox, uint32_t format, uint64_t quota)
{
	struct pop3_conn	*c = arg;

	(void)quota;	/* POP3 has no word for it */
	if (status != 0) {
		/* The login was right a moment ago: try again later. */
		log_warnx("sid=%s pop3: no mailbox for a user who just "
		    "logged in", c->sid);
		pop3_session_auth_result(c->session, POP3_AUTH_TEMPFAIL, NULL,
		    0);
		return;
	}
	if (format != MAILBOX_FORMAT_MAILDIR) {
		log_info("sid=%s event=login-refused user=%s reason=mbox",
		    c->sid, owner);
		pop3_session_auth_result(c->session, POP3_AUTH_SYS_PERM, NULL,
		    0);
		return;
	}
	if (!mda_mailbox_valid(mailbox, MAILBOX_FORMAT_MAILDIR))
		fatalx("pop3: lookup named mailbox %s", mailbox);
	/* A login refused [IN-USE] may be tried again. */
	free(c->owner);
	free(c->mailbox);
	c->owner = xstrdup(owner);
	c->mailbox = xstrdup(mailbox);
	pop3_drop_open(c);
}

static const struct lookup_login_ops pop3_login_ops = {
	.state = pop3_login_state,
	.closing = pop3_login_closing,
	.auth = pop3_login_auth,
	.salt = pop3_login_salt,
	.proof = pop3_login_proof,
	.mailbox = pop3_login_mailbox,
};

static void
pop3_dispatch(struct proc_self *self, struct proc_peer peer, struct msg *m)
{
	struct pop3_role	*r = self->role;
	struct pop3_conn	*c;

	/* A new certificate from lookup, for the next handshakes. */
	if (m->type == MSG_KEYPROXY_CHAIN && peer.id == PROC_LOOKUP) {
		keyproxy_chain_update(self, m);
		msg_free(m);
		return;
	}
	if ((c = lookup_login_dispatch(self, &r->srv, peer, m,
	    &pop3_login_ops)) != NULL)
		pop3_feed(c);
}

static void
pop3_feed_one(struct conn *cn, void *arg, void *ctx)
{
	pop3_feed(arg);
}

/* Lookup died: every login waiting on it fails for now. */
static void
pop3_peer_down(struct proc_self *self, struct proc_peer p)
{
	struct pop3_role	*r = self->role;

	if (p.id != PROC_LOOKUP)
		return;
	lookup_login_peer_down(&r->srv, &pop3_login_ops);
	conn_foreach(&r->srv, pop3_feed_one, NULL);
}

void
pop3_main(struct proc_self *self)
{
	struct pop3_role	*r;
	enum conf_listen_kind	 lkind;
	const char		*errstr;
	bool			 pop3s;
	size_t			 i;

	r = xcalloc(1, sizeof(*r));
	r->self = self;
	r->conf = self->conf;
	self->role = r;
	self->dispatch = pop3_dispatch;
	self->peer_down = pop3_peer_down;
	self->peer_up = keyproxy_peer_up;

	/*
	 * The certificate is read before giving up the right to read it;
	 * the private key stays in lookup, which signs for us (keyproxy.h).
	 */
	keyproxy_server_contexts(self, r->tls);

	if ((r->srv.limit = conn_limit_open(self->conn_table_fd, self->worker,
	    self->nworkers, &errstr)) == NULL)
		fatalx("pop3: %s", errstr);

	proc_drop(self);

	r->srv.base = self->base;
	r->srv.name = "pop3";
	r->srv.spread = true;	/* a session lasts a whole download */
	r->srv.max_conns = r->conf->limits.connections;
	r->srv.max_per_ip = r->conf->limits.connections_per_ip;
	/* RFC 2449 §8.1.2: a temporary condition. */
	r->srv.refuse_total =
	    "-ERR [SYS/TEMP] Too many connections, try again later\r\n";
	r->srv.refuse_per_ip = "-ERR [SYS/TEMP] Too many connections from "
	    "your address, try again later\r\n";
	r->srv.accepted = pop3_accepted;
	r->srv.arg = r;
	for (i = 0; i < r->conf->nlistens; i++) {
		if (self->listen_fds[i] == -1)
			continue;
		lkind = r->conf->listens[i].kind;
		pop3s = lkind == CONF_LISTEN_POP3S;
		conn_listen(&r->srv, self->listen_fds[i],
		    pop3s ? POP3_KIND_POP3S : POP3_KIND_POP3,
		    r->tls[conf_listen_tls_profile(lkind)], pop3s, false);
		conn_listen_metrics(&r->srv, (unsigned)i);
	}
	proc_run(self);
}
