/*
 * queue: the queue role, owner of the spool (state-dir/queue, see
 * docs/spool.md and queue_fs.h).  It hands the smtp role one open file per
 * incoming message, commits what smtp reports complete (group commit: the
 * commits of one event-loop turn share one directory fsync), keeps the
 * list of queued messages in memory, rebuilt from disk at start, and
 * serves `cachetctl queue ...` forwarded by the parent.
 *
 * Trust: the parent is trusted; the smtp role is a sibling that parses
 * the network, so every field of its requests is bounded and checked and
 * a malformed request is fatal (the parent restarts us).  The files we
 * read back are our own but still validated by queue_fs.  No protocol is
 * parsed here.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "queue_fs.h"
#include "util.h"

#define QUEUE_INCOMING_MAX	4096	/* files handed out, not committed */
#define QUEUE_CTL_ARGC_MAX	8	/* words of a cachetctl request */
#define QUEUE_CTL_ARG_MAX	256	/* bytes of one word */
#define QUEUE_CTL_LINE_MAX	(64 * 1024)	/* longer lines go as data */
#define QUEUE_CAT_CHUNK		(64 * 1024)	/* bytes per MSG_CTL_DATA */
#define QUEUE_CAT_PENDING_MAX	(1024 * 1024)	/* unsent bytes to parent */
#define QUEUE_CAT_RETRY_MS	5
#define QUEUE_SHOW_HEADER_MAX	(64 * 1024)	/* header bytes shown */
#define QUEUE_LOG_ADDR_MAX	300	/* a path is at most 256 octets */

#define QUEUE_USAGE	"usage: cachetctl queue [show ID | cat ID | delete ID]"

/*
 * A queued (committed) message.  The envelope is the queue's own copy,
 * authoritative over what is on disk.  Later work (scheduling, delivery)
 * adds its fields here.
 */
struct queue_msg {
	TAILQ_ENTRY(queue_msg)	 entry;		/* sorted by id */
	struct queue_fs_envelope env;
	uint64_t		 msglen;
};
TAILQ_HEAD(queue_msgs, queue_msg);

/* A file handed to smtp and not committed yet. */
struct queue_incoming {
	char			 id[QUEUE_FS_ID_SIZE];
	int			 fd;		/* ours; smtp has a copy */
	bool			 committing;	/* in the batch */
	bool			 orphan;	/* its smtp process is gone */
	uint64_t		 reqid;		/* of the COMMIT */
	uint64_t		 msglen;
	struct queue_fs_envelope env;
	bool			 renamed;	/* in queue/, not durable */
	int			 error;		/* errno of a failed step */
	TAILQ_ENTRY(queue_incoming) batch;
};
TAILQ_HEAD(queue_batch, queue_incoming);

/* A `queue cat` being streamed to the parent. */
struct queue_cat {
	TAILQ_ENTRY(queue_cat)	 entry;
	uint64_t		 reqid;
	int			 fd;
	uint64_t		 off;
	uint64_t		 len;
};
TAILQ_HEAD(queue_cats, queue_cat);

struct queue_role {
	struct proc_self	*self;
	struct queue_fs		*fs;
	struct queue_msgs	 msgs;
	size_t			 nmsgs;
	struct queue_incoming	*incoming[QUEUE_INCOMING_MAX];
	size_t			 nincoming;
	struct queue_batch	 batch;
	struct event		*ev_batch;
	struct queue_cats	 cats;
	struct event		*ev_cat;
};

/* --- small helpers --- */

static uint64_t
queue_wall_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Append s to out for cachetctl output, one line whatever s holds: bytes
 * outside printable ASCII (space too unless allow_space), and any byte in
 * extra, become %XX.  UTF-8 is escaped too: a terminal must never get a
 * control sequence from a peer's string.
 */
static void
queue_escape(struct buf *out, const char *s, bool allow_space,
    const char *extra)
{
	unsigned char	c;
	size_t		i, n;

	n = strnlen(s, QUEUE_FS_STR_MAX + 1);
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c > 0x20 && c < 0x7f && strchr(extra, c) == NULL) ||
		    (c == ' ' && allow_space)) {
			if (buf_append_char(out, (char)c) == -1)
				fatalx("queue: output buffer");
		} else if (buf_printf(out, "%%%02X", c) == -1)
			fatalx("queue: output buffer");
	}
}

static void
queue_age(char *out, size_t outsz, int64_t created, int64_t now)
{
	int64_t	age = now > created ? now - created : 0;

	if (age < 60)
		(void)snprintf(out, outsz, "%llds", (long long)age);
	else if (age < 3600)
		(void)snprintf(out, outsz, "%lldm", (long long)(age / 60));
	else if (age < 86400)
		(void)snprintf(out, outsz, "%lldh", (long long)(age / 3600));
	else
		(void)snprintf(out, outsz, "%lldd", (long long)(age / 86400));
}

static void
queue_time(char *out, size_t outsz, int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		(void)snprintf(out, outsz, "%lld", (long long)t);
}

/* The one-word state of a message for `cachetctl queue`. */
static const char *
queue_msg_state(const struct queue_msg *qm)
{
	return "queued";
}

/* --- the list of queued messages --- */

static struct queue_msg *
queue_msg_find(struct queue_role *q, const char *id)
{
	struct queue_msg	*qm;

	/* Recent messages are the likely ones: search from the tail. */
	TAILQ_FOREACH_REVERSE(qm, &q->msgs, queue_msgs, entry)
		if (strcmp(qm->env.id, id) == 0)
			return qm;
	return NULL;
}

/* Insert keeping id order; new ids are the largest, so look from the end. */
static void
queue_msg_insert(struct queue_role *q, struct queue_msg *qm)
{
	struct queue_msg	*at;

	TAILQ_FOREACH_REVERSE(at, &q->msgs, queue_msgs, entry)
		if (strcmp(at->env.id, qm->env.id) < 0)
			break;
	if (at == NULL)
		TAILQ_INSERT_HEAD(&q->msgs, qm, entry);
	else
		TAILQ_INSERT_AFTER(&q->msgs, at, qm, entry);
	q->nmsgs++;
}

static void
queue_msg_free(struct queue_role *q, struct queue_msg *qm)
{
	TAILQ_REMOVE(&q->msgs, qm, entry);
	q->nmsgs--;
	queue_fs_envelope_free(&qm->env);
	free(qm);
}

static int
queue_scan_cb(void *arg, struct queue_fs_envelope *env, uint64_t msglen)
{
	struct queue_role	*q = arg;
	struct queue_msg	*qm;

	qm = xcalloc(1, sizeof(*qm));
	qm->env = *env;
	memset(env, 0, sizeof(*env));
	qm->msglen = msglen;
	queue_msg_insert(q, qm);
	return 0;
}

/* --- files in flight --- */

static struct queue_incoming *
queue_incoming_find(struct queue_role *q, const char *id)
{
	size_t	i;

	for (i = 0; i < q->nincoming; i++)
		if (strcmp(q->incoming[i]->id, id) == 0)
			return q->incoming[i];
	return NULL;
}

/* Forget an in-flight file: close our fd, drop it from the table. */
static void
queue_incoming_free(struct queue_role *q, struct queue_incoming *in)
{
	size_t	i;

	for (i = 0; i < q->nincoming; i++)
		if (q->incoming[i] == in)
			break;
	if (i == q->nincoming)
		fatalx("queue: in-flight %s not in the table", in->id);
	q->incoming[i] = q->incoming[--q->nincoming];
	q->incoming[q->nincoming] = NULL;
	if (in->fd != -1)
		close(in->fd);
	queue_fs_envelope_free(&in->env);
	free(in);
}

static void
queue_incoming_abort(struct queue_role *q, struct queue_incoming *in)
{
	if (queue_fs_abort(q->fs, in->id) == -1)
		log_warn("id=%s event=abort", in->id);
	else
		log_debug("id=%s event=aborted", in->id);
	queue_incoming_free(q, in);
}

/* --- smtp: create --- */

static void
queue_create(struct queue_role *q, uint64_t reqid)
{
	struct queue_incoming	*in;
	struct msg		*r;
	char			 id[QUEUE_FS_ID_SIZE];
	int			 fd, copy;

	r = msg_new(MSG_QUEUE_CREATE_RESULT);
	msg_put_u64(r, reqid);
	if (q->nincoming >= QUEUE_INCOMING_MAX) {
		log_warnx("queue: %d messages in flight, create refused",
		    QUEUE_INCOMING_MAX);
		goto fail;
	}
	if (queue_fs_create(q->fs, queue_wall_ms(), id, &fd) == -1) {
		log_warn("queue: cannot create a spool file");
		goto fail;
	}
	if ((copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("queue: dup");
		(void)queue_fs_abort(q->fs, id);
		close(fd);
		goto fail;
	}
	in = xcalloc(1, sizeof(*in));
	(void)str_copy(in->id, sizeof(in->id), id);
	in->fd = fd;
	q->incoming[q->nincoming++] = in;
	msg_put_u32(r, 1);
	msg_put_str(r, id);
	msg_put_fd(r, copy);
	log_debug("id=%s event=create", id);
	if (proc_send(q->self, PROC_SMTP, r) == -1)
		queue_incoming_abort(q, in);
	return;
fail:
	msg_put_u32(r, 0);
	msg_put_str(r, "");
	(void)proc_send(q->self, PROC_SMTP, r);
}

/* --- smtp: commit --- */

static void
queue_commit_reply(struct queue_role *q, struct queue_incoming *in,
    uint32_t code, const char *enh, const char *text)
{
	struct msg	*r;

	/* A new smtp process must not get an answer meant for the old. */
	if (in->orphan)
		return;
	r = msg_new(MSG_QUEUE_COMMIT_RESULT);
	msg_put_u64(r, in->reqid);
	msg_put_u32(r, code);
	msg_put_str(r, enh);
	msg_put_str(r, text);
	(void)proc_send(q->self, PROC_SMTP, r);
}

static void
queue_commit_fail_reply(struct queue_role *q, struct queue_incoming *in)
{
	/* RFC 3463 §3.4: X.3.1 mail system full. */
	if (in->error == ENOSPC || in->error == EDQUOT)
		queue_commit_reply(q, in, 452, "4.3.1",
		    "Insufficient system storage");
	else
		queue_commit_reply(q, in, 451, "4.3.0",
		    "Local error in processing");
}

static void
queue_commit_done(struct queue_role *q, struct queue_incoming *in)
{
	struct queue_msg	*qm;
	char			 text[64], from[QUEUE_LOG_ADDR_MAX];

	qm = xcalloc(1, sizeof(*qm));
	qm->env = in->env;
	memset(&in->env, 0, sizeof(in->env));
	qm->msglen = in->msglen;
	queue_msg_insert(q, qm);
	log_info("id=%s event=queued from=<%s> size=%llu nrcpt=%zu",
	    qm->env.id, printable(qm->env.sender,
	    strnlen(qm->env.sender, QUEUE_FS_STR_MAX), from, sizeof(from)),
	    (unsigned long long)qm->msglen, qm->env.nrcpts);
	(void)snprintf(text, sizeof(text), "Ok: queued as %s", qm->env.id);
	queue_commit_reply(q, in, 250, "2.0.0", text);
}

/*
 * Group commit: every commit received in one turn of the event loop is
 * made durable here together.  Each file is completed and fdatasync'ed,
 * each is renamed into queue/, then one fsync of the directory covers all
 * renames (docs/spool.md "Speed").  Nobody hears 250 before that fsync
 * returned 0 (RFC 5321 §4.1.1.4, RFC 1123 §5.3.3).
 */
static void
queue_batch_run(evutil_socket_t fd, short what, void *arg)
{
	struct queue_role	*q = arg;
	struct queue_incoming	*in;
	size_t			 n = 0, renamed = 0;
	int			 saved;

	TAILQ_FOREACH(in, &q->batch, batch) {
		n++;
		if (queue_fs_commit_prepare(q->fs, in->fd, in->msglen,
		    &in->env) == 0)
			continue;
		in->error = errno;
		log_warn("id=%s event=commit-failed step=prepare", in->id);
		/*
		 * ESTALE: incoming/<id> is not this file any more, so the
		 * name is not ours to remove (queue_fs.h).
		 */
		if (in->error != ESTALE && queue_fs_abort(q->fs, in->id) == -1)
			log_warn("id=%s event=abort", in->id);
	}
	TAILQ_FOREACH(in, &q->batch, batch) {
		if (in->error != 0)
			continue;
		if (queue_fs_commit_rename(q->fs, in->id) == 0) {
			in->renamed = true;
			renamed++;
			continue;
		}
		in->error = errno;
		log_warn("id=%s event=commit-failed step=rename", in->id);
		if (queue_fs_abort(q->fs, in->id) == -1)
			log_warn("id=%s event=abort", in->id);
	}
	if (renamed > 0 && queue_fs_sync_dirs(q->fs) == -1) {
		/*
		 * A failed directory fsync may be reported once only, so a
		 * later success proves nothing: none of the batch may stay.
		 */
		saved = errno;
		log_warn("queue: spool directory sync failed, %zu commits "
		    "dropped", renamed);
		TAILQ_FOREACH(in, &q->batch, batch) {
			if (!in->renamed)
				continue;
			in->error = saved;
			if (queue_fs_remove(q->fs, in->id) == -1)
				log_warn("id=%s event=remove", in->id);
		}
	}
	log_debug("queue: batch commits=%zu renamed=%zu", n, renamed);
	while ((in = TAILQ_FIRST(&q->batch)) != NULL) {
		TAILQ_REMOVE(&q->batch, in, batch);
		if (in->error == 0)
			queue_commit_done(q, in);
		else
			queue_commit_fail_reply(q, in);
		queue_incoming_free(q, in);
	}
}

static void
queue_batch_add(struct queue_role *q, struct queue_incoming *in)
{
	struct timeval	tv = { 0, 0 };

	in->committing = true;
	TAILQ_INSERT_TAIL(&q->batch, in, batch);
	/*
	 * A zero timeout runs the batch after this turn's events, and
	 * after one more look at the channels, so that commits arriving
	 * together share the directory fsync.
	 */
	if (!evtimer_pending(q->ev_batch, NULL))
		evtimer_add(q->ev_batch, &tv);
}

static void __attribute__((noreturn))
queue_bad(struct msg *m, enum proc_id from, const char *why)
{
	fatalx("queue: bad %s from %s: %s", msg_name(m->type),
	    proc_name(from), why);
}

/* A string field of a request: "" means none (NULL). */
static char *
queue_get_opt(struct msg *m, enum proc_id from, const char *what)
{
	char	*s;

	if (msg_get_strdup(m, QUEUE_FS_STR_MAX, &s) == -1)
		queue_bad(m, from, what);
	if (s[0] == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * Read the envelope of MSG_QUEUE_COMMIT into env (ipc.h has the layout).
 * Every field is checked here against the spool's limits, so that a
 * message that passes can be encoded.
 */
static void
queue_get_envelope(struct msg *m, enum proc_id from,
    struct queue_fs_envelope *env)
{
	uint32_t	body, utf8, ret, nrcpt, notify, i;
	char		*s;

	if (msg_get_strdup(m, QUEUE_FS_STR_MAX, &env->sender) == -1)
		queue_bad(m, from, "sender");
	if (msg_get_u32(m, &body) == -1 || msg_get_u32(m, &utf8) == -1 ||
	    msg_get_u32(m, &ret) == -1)
		queue_bad(m, from, "short");
	switch (body) {
	case 0:
		env->body = QUEUE_FS_BODY_7BIT;
		break;
	case 1:
		env->body = QUEUE_FS_BODY_8BITMIME;
		break;
	case 2:
		env->body = QUEUE_FS_BODY_BINARYMIME;
		break;
	default:
		queue_bad(m, from, "body");
	}
	if (utf8 > 1)
		queue_bad(m, from, "smtputf8");
	env->smtputf8 = utf8 == 1;
	switch (ret) {
	case 0:
		env->ret = QUEUE_FS_RET_UNSET;
		break;
	case 1:
		env->ret = QUEUE_FS_RET_FULL;
		break;
	case 2:
		env->ret = QUEUE_FS_RET_HDRS;
		break;
	default:
		queue_bad(m, from, "ret");
	}
	env->envid = queue_get_opt(m, from, "envid");
	env->auth = queue_get_opt(m, from, "auth");
	env->ip = queue_get_opt(m, from, "ip");
	env->user = queue_get_opt(m, from, "user");
	if (msg_get_u32(m, &nrcpt) == -1 || nrcpt == 0 ||
	    nrcpt > QUEUE_FS_RCPTS_MAX)
		queue_bad(m, from, "recipient count");
	/* Each recipient takes at least 12 bytes: bound before allocating. */
	if (nrcpt > (m->data.len - m->pos) / 12)
		queue_bad(m, from, "recipient count");
	env->rcpts = xcalloc(nrcpt, sizeof(*env->rcpts));
	env->nrcpts = nrcpt;
	for (i = 0; i < nrcpt; i++) {
		if (msg_get_strdup(m, QUEUE_FS_STR_MAX, &s) == -1 ||
		    s[0] == '\0') {
			free(s);
			queue_bad(m, from, "recipient");
		}
		env->rcpts[i].addr = s;
		if (msg_get_u32(m, &notify) == -1)
			queue_bad(m, from, "short");
		/* RFC 3461 §4.1: NEVER stands alone. */
		if ((notify & ~(uint32_t)(QUEUE_FS_NOTIFY_SUCCESS |
		    QUEUE_FS_NOTIFY_FAILURE | QUEUE_FS_NOTIFY_DELAY |
		    QUEUE_FS_NOTIFY_NEVER)) != 0 ||
		    ((notify & QUEUE_FS_NOTIFY_NEVER) != 0 &&
		    notify != QUEUE_FS_NOTIFY_NEVER))
			queue_bad(m, from, "notify");
		env->rcpts[i].notify = notify;
		env->rcpts[i].orcpt = queue_get_opt(m, from, "orcpt");
		env->rcpts[i].state = QUEUE_FS_RCPT_PENDING;
	}
}

static void
queue_commit(struct queue_role *q, enum proc_id from, struct msg *m)
{
	struct queue_incoming	*in;
	struct queue_fs_envelope env;
	struct msg		*r;
	uint64_t		 reqid, msglen;
	char			 id[QUEUE_FS_ID_SIZE + 1];

	memset(&env, 0, sizeof(env));
	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, id, sizeof(id)) == -1 || !queue_fs_id_valid(id) ||
	    msg_get_u64(m, &msglen) == -1)
		queue_bad(m, from, "id");
	queue_get_envelope(m, from, &env);
	if (msg_end(m) == -1)
		queue_bad(m, from, "trailing bytes");

	if ((in = queue_incoming_find(q, id)) == NULL) {
		/*
		 * Not malformed: a file handed out by a queue process that
		 * has since restarted (its incoming/ was cleared at start).
		 */
		log_warnx("id=%s event=commit-refused reason=\"unknown id\"",
		    id);
		queue_fs_envelope_free(&env);
		r = msg_new(MSG_QUEUE_COMMIT_RESULT);
		msg_put_u64(r, reqid);
		msg_put_u32(r, 451);
		msg_put_str(r, "4.3.0");
		msg_put_str(r, "Local error in processing");
		(void)proc_send(q->self, PROC_SMTP, r);
		return;
	}
	if (in->committing)
		queue_bad(m, from, "second commit");
	(void)str_copy(env.id, sizeof(env.id), id);
	env.created = (int64_t)time(NULL);
	in->env = env;
	in->reqid = reqid;
	in->msglen = msglen;
	queue_batch_add(q, in);
}

static void
queue_abort(struct queue_role *q, enum proc_id from, struct msg *m)
{
	struct queue_incoming	*in;
	char			 id[QUEUE_FS_ID_SIZE + 1];

	if (msg_get_str(m, id, sizeof(id)) == -1 || msg_end(m) == -1 ||
	    !queue_fs_id_valid(id))
		queue_bad(m, from, "id");
	/*
	 * An abort may cross our answer to its commit: then the message is
	 * gone from the table (queued or refused) and the abort is moot.
	 */
	if ((in = queue_incoming_find(q, id)) == NULL) {
		log_debug("id=%s event=abort-ignored reason=\"not in flight\"",
		    id);
		return;
	}
	if (in->committing) {
		log_debug("id=%s event=abort-ignored reason=committing", id);
		return;
	}
	queue_incoming_abort(q, in);
}

/* --- cachetctl --- */

static void
queue_ctl_line(struct queue_role *q, uint64_t reqid, const char *p,
    size_t len)
{
	struct msg	*m;
	size_t		 n;

	if (len <= QUEUE_CTL_LINE_MAX) {
		m = msg_new(MSG_CTL_LINE);
		msg_put_u64(m, reqid);
		msg_put_data(m, p, len);
		(void)proc_send(q->self, PROC_PARENT, m);
		return;
	}
	/* A very long line (thousands of recipients) goes out in pieces. */
	while (len > 0) {
		n = len < QUEUE_CAT_CHUNK ? len : QUEUE_CAT_CHUNK;
		m = msg_new(MSG_CTL_DATA);
		msg_put_u64(m, reqid);
		msg_put_data(m, p, n);
		(void)proc_send(q->self, PROC_PARENT, m);
		p += n;
		len -= n;
	}
	m = msg_new(MSG_CTL_DATA);
	msg_put_u64(m, reqid);
	msg_put_data(m, "\n", 1);
	(void)proc_send(q->self, PROC_PARENT, m);
}

static void
queue_ctl_buf(struct queue_role *q, uint64_t reqid, struct buf *b)
{
	queue_ctl_line(q, reqid, b->data, b->len);
	buf_reset(b);
}

static void
queue_ctl_end(struct queue_role *q, uint64_t reqid, uint32_t code,
    const char *err)
{
	struct msg	*m;

	m = msg_new(MSG_CTL_END);
	msg_put_u64(m, reqid);
	msg_put_u32(m, code);
	msg_put_str(m, err);
	(void)proc_send(q->self, PROC_PARENT, m);
}

static void
queue_ctl_list(struct queue_role *q, uint64_t reqid)
{
	struct queue_msg	*qm;
	struct buf		 b;
	char			 age[32];
	int64_t			 now = (int64_t)time(NULL);
	size_t			 i;

	buf_init(&b, SIZE_MAX);
	buf_append_str(&b, "ID               AGE     SIZE SENDER RECIPIENTS "
	    "STATE");
	queue_ctl_buf(q, reqid, &b);
	TAILQ_FOREACH(qm, &q->msgs, entry) {
		queue_age(age, sizeof(age), qm->env.created, now);
		if (buf_printf(&b, "%-16s %3s %8llu ", qm->env.id, age,
		    (unsigned long long)qm->msglen) == -1)
			fatalx("queue: output buffer");
		if (qm->env.sender[0] == '\0')
			buf_append_str(&b, "<>");
		else
			queue_escape(&b, qm->env.sender, false, "");
		buf_append_char(&b, ' ');
		for (i = 0; i < qm->env.nrcpts; i++) {
			if (i > 0)
				buf_append_char(&b, ',');
			queue_escape(&b, qm->env.rcpts[i].addr, false, ",");
		}
		buf_append_char(&b, ' ');
		buf_append_str(&b, queue_msg_state(qm));
		queue_ctl_buf(q, reqid, &b);
	}
	buf_free(&b);
	queue_ctl_end(q, reqid, 0, "");
}

static const char *
queue_body_name(enum queue_fs_body body)
{
	switch (body) {
	case QUEUE_FS_BODY_8BITMIME:
		return "8bitmime";
	case QUEUE_FS_BODY_BINARYMIME:
		return "binarymime";
	default:
		return "7bit";
	}
}

static const char *
queue_ret_name(enum queue_fs_ret ret)
{
	switch (ret) {
	case QUEUE_FS_RET_FULL:
		return "full";
	case QUEUE_FS_RET_HDRS:
		return "hdrs";
	default:
		return "unset";
	}
}

static const char *
queue_rcpt_state_name(enum queue_fs_rcpt_state st)
{
	switch (st) {
	case QUEUE_FS_RCPT_DELIVERED:
		return "delivered";
	case QUEUE_FS_RCPT_FAILED:
		return "failed";
	case QUEUE_FS_RCPT_BOUNCED:
		return "bounced";
	default:
		return "pending";
	}
}

static void
queue_notify_names(struct buf *b, unsigned notify)
{
	bool	first = true;

	if (notify == 0) {
		buf_append_str(b, "unset");
		return;
	}
	if (notify & QUEUE_FS_NOTIFY_NEVER) {
		buf_append_str(b, "never");
		return;
	}
	if (notify & QUEUE_FS_NOTIFY_SUCCESS) {
		buf_append_str(b, "success");
		first = false;
	}
	if (notify & QUEUE_FS_NOTIFY_FAILURE) {
		buf_append_str(b, first ? "failure" : ",failure");
		first = false;
	}
	if (notify & QUEUE_FS_NOTIFY_DELAY)
		buf_append_str(b, first ? "delay" : ",delay");
}

/* "key: value" with value escaped; skipped when value is NULL. */
static void
queue_show_field(struct queue_role *q, uint64_t reqid, struct buf *b,
    const char *key, const char *value)
{
	if (value == NULL)
		return;
	buf_append_str(b, key);
	buf_append_str(b, ": ");
	queue_escape(b, value, true, "");
	queue_ctl_buf(q, reqid, b);
}

static void
queue_show_envelope(struct queue_role *q, uint64_t reqid, struct buf *b,
    const struct queue_msg *qm)
{
	const struct queue_fs_envelope	*env = &qm->env;
	const struct queue_fs_rcpt	*rc;
	char				 t[64], age[32];
	size_t				 i;

	queue_time(t, sizeof(t), env->created);
	queue_age(age, sizeof(age), env->created, (int64_t)time(NULL));
	buf_printf(b, "id: %s", env->id);
	queue_ctl_buf(q, reqid, b);
	buf_printf(b, "created: %s (%s ago)", t, age);
	queue_ctl_buf(q, reqid, b);
	buf_printf(b, "size: %llu", (unsigned long long)qm->msglen);
	queue_ctl_buf(q, reqid, b);
	buf_append_str(b, "sender: <");
	queue_escape(b, env->sender, false, "");
	buf_append_char(b, '>');
	queue_ctl_buf(q, reqid, b);
	if (env->size != 0) {
		buf_printf(b, "declared-size: %llu",
		    (unsigned long long)env->size);
		queue_ctl_buf(q, reqid, b);
	}
	buf_printf(b, "body: %s", queue_body_name(env->body));
	queue_ctl_buf(q, reqid, b);
	buf_printf(b, "smtputf8: %s", env->smtputf8 ? "yes" : "no");
	queue_ctl_buf(q, reqid, b);
	buf_printf(b, "ret: %s", queue_ret_name(env->ret));
	queue_ctl_buf(q, reqid, b);
	queue_show_field(q, reqid, b, "envid", env->envid);
	queue_show_field(q, reqid, b, "auth", env->auth);
	queue_show_field(q, reqid, b, "helo", env->helo);
	queue_show_field(q, reqid, b, "client", env->ip);
	queue_show_field(q, reqid, b, "user", env->user);
	buf_printf(b, "recipients: %zu", env->nrcpts);
	queue_ctl_buf(q, reqid, b);
	for (i = 0; i < env->nrcpts; i++) {
		rc = &env->rcpts[i];
		buf_append_str(b, "recipient: <");
		queue_escape(b, rc->addr, false, "");
		buf_append_char(b, '>');
		queue_ctl_buf(q, reqid, b);
		buf_printf(b, "  state: %s", queue_rcpt_state_name(rc->state));
		queue_ctl_buf(q, reqid, b);
		buf_append_str(b, "  notify: ");
		queue_notify_names(b, rc->notify);
		queue_ctl_buf(q, reqid, b);
		queue_show_field(q, reqid, b, "  orcpt", rc->orcpt);
		buf_printf(b, "  attempts: %lu", (unsigned long)rc->attempts);
		queue_ctl_buf(q, reqid, b);
		if (rc->next_try == 0)
			(void)str_copy(t, sizeof(t), "now");
		else
			queue_time(t, sizeof(t), rc->next_try);
		buf_printf(b, "  next try: %s", t);
		queue_ctl_buf(q, reqid, b);
		queue_show_field(q, reqid, b, "  last error", rc->error);
	}
}

/*
 * The header section (RFC 5322 §2.1: up to the first empty line), at
 * most QUEUE_SHOW_HEADER_MAX bytes, one output line per line.  Controls
 * are shown as '?' so that the terminal sees text; 8-bit bytes pass.
 */
static int
queue_show_headers(struct queue_role *q, uint64_t reqid, struct buf *b,
    const char *id)
{
	char		*p, *eol;
	uint64_t	 msglen;
	size_t		 want, len, pos, n, m, i;
	ssize_t		 got;
	int		 fd;

	if (queue_fs_open_message(q->fs, id, &fd, &msglen) == -1)
		return -1;
	want = msglen < QUEUE_SHOW_HEADER_MAX ? (size_t)msglen :
	    QUEUE_SHOW_HEADER_MAX;
	p = xmalloc(want + 1);
	got = pread(fd, p, want, 0);
	close(fd);
	if (got == -1) {
		free(p);
		return -1;
	}
	len = (size_t)got;
	for (pos = 0; pos < len; pos += n + 1) {
		if ((eol = memchr(p + pos, '\n', len - pos)) == NULL) {
			/* A line cut by the limit is not shown. */
			if ((uint64_t)len < msglen)
				break;
			eol = p + len;
		}
		n = (size_t)(eol - (p + pos));
		m = n > 0 && p[pos + n - 1] == '\r' ? n - 1 : n;
		if (m == 0)
			break;	/* the empty line ends the header section */
		for (i = pos; i < pos + m; i++)
			if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
			    p[i] == 0x7f)
				p[i] = '?';
		buf_append(b, p + pos, m);
		queue_ctl_buf(q, reqid, b);
	}
	free(p);
	return 0;
}

static void
queue_ctl_show(struct queue_role *q, uint64_t reqid, const char *id)
{
	struct queue_msg	*qm;
	struct buf		 b;
	char			 err[128];

	if (!queue_fs_id_valid(id) || (qm = queue_msg_find(q, id)) == NULL) {
		queue_ctl_end(q, reqid, 1, "no such message");
		return;
	}
	buf_init(&b, SIZE_MAX);
	queue_show_envelope(q, reqid, &b, qm);
	queue_ctl_line(q, reqid, "", 0);
	if (queue_show_headers(q, reqid, &b, id) == -1) {
		log_warn("id=%s event=show", id);
		(void)snprintf(err, sizeof(err), "cannot read message: %s",
		    strerror(errno));
		buf_free(&b);
		queue_ctl_end(q, reqid, 1, err);
		return;
	}
	buf_free(&b);
	queue_ctl_end(q, reqid, 0, "");
}

static void
queue_cat_free(struct queue_role *q, struct queue_cat *c)
{
	TAILQ_REMOVE(&q->cats, c, entry);
	close(c->fd);
	free(c);
}

/*
 * Stream the messages being cat'ed, as long as the channel to the parent
 * is not backed up: a big message must not sit whole in our memory.
 */
static void
queue_cat_run(evutil_socket_t fd, short what, void *arg)
{
	struct queue_role	*q = arg;
	struct queue_cat	*c, *next;
	struct ipc_chan		*chan;
	struct msg		*m;
	struct timeval		 tv = { 0, QUEUE_CAT_RETRY_MS * 1000 };
	char			*chunk, err[128];
	size_t			 n;
	ssize_t			 got;

	if ((chan = q->self->peer[PROC_PARENT]) == NULL)
		return;
	chunk = xmalloc(QUEUE_CAT_CHUNK);
	for (c = TAILQ_FIRST(&q->cats); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		while (c->off < c->len &&
		    ipc_pending(chan) < QUEUE_CAT_PENDING_MAX) {
			n = c->len - c->off < QUEUE_CAT_CHUNK ?
			    (size_t)(c->len - c->off) : QUEUE_CAT_CHUNK;
			got = pread(c->fd, chunk, n, (off_t)c->off);
			if (got <= 0) {
				if (got == 0)
					errno = EIO;
				(void)snprintf(err, sizeof(err),
				    "read error: %s", strerror(errno));
				queue_ctl_end(q, c->reqid, 1, err);
				c->off = UINT64_MAX;
				break;
			}
			m = msg_new(MSG_CTL_DATA);
			msg_put_u64(m, c->reqid);
			msg_put_data(m, chunk, (size_t)got);
			ipc_send(chan, m);
			c->off += (uint64_t)got;
		}
		if (c->off == UINT64_MAX) {
			queue_cat_free(q, c);
		} else if (c->off == c->len) {
			queue_ctl_end(q, c->reqid, 0, "");
			queue_cat_free(q, c);
		}
	}
	free(chunk);
	if (!TAILQ_EMPTY(&q->cats))
		evtimer_add(q->ev_cat, &tv);
}

static void
queue_ctl_cat(struct queue_role *q, uint64_t reqid, const char *id)
{
	struct queue_cat	*c;
	struct timeval		 tv = { 0, 0 };
	uint64_t		 msglen;
	char			 err[128];
	int			 fd;

	if (!queue_fs_id_valid(id) || queue_msg_find(q, id) == NULL) {
		queue_ctl_end(q, reqid, 1, "no such message");
		return;
	}
	if (queue_fs_open_message(q->fs, id, &fd, &msglen) == -1) {
		log_warn("id=%s event=cat", id);
		(void)snprintf(err, sizeof(err), "cannot read message: %s",
		    strerror(errno));
		queue_ctl_end(q, reqid, 1, err);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->reqid = reqid;
	c->fd = fd;
	c->len = msglen;
	TAILQ_INSERT_TAIL(&q->cats, c, entry);
	if (!evtimer_pending(q->ev_cat, NULL))
		evtimer_add(q->ev_cat, &tv);
}

static void
queue_ctl_delete(struct queue_role *q, uint64_t reqid, const char *id)
{
	struct queue_msg	*qm;
	char			 err[128];

	if (!queue_fs_id_valid(id) || (qm = queue_msg_find(q, id)) == NULL) {
		queue_ctl_end(q, reqid, 1, "no such message");
		return;
	}
	if (queue_fs_remove(q->fs, id) == -1) {
		log_warn("id=%s event=delete", id);
		(void)snprintf(err, sizeof(err), "cannot delete: %s",
		    strerror(errno));
		queue_ctl_end(q, reqid, 1, err);
		return;
	}
	log_info("id=%s event=deleted", id);
	queue_msg_free(q, qm);
	queue_ctl_end(q, reqid, 0, "");
}

/*
 * A request from cachetctl, forwarded by the parent: u64 reqid, u32
 * argc, str argv[] with argv[0] "queue".  The words come from a local
 * admin tool, not from a sibling, so a bad request is answered, not
 * fatal.
 */
static void
queue_ctl(struct queue_role *q, struct msg *m)
{
	char		 argv[QUEUE_CTL_ARGC_MAX][QUEUE_CTL_ARG_MAX];
	uint64_t	 reqid;
	uint32_t	 argc, i;

	if (msg_get_u64(m, &reqid) == -1)
		fatalx("queue: bad %s from parent", msg_name(m->type));
	if (msg_get_u32(m, &argc) == -1 || argc == 0 ||
	    argc > QUEUE_CTL_ARGC_MAX) {
		queue_ctl_end(q, reqid, 2, QUEUE_USAGE);
		return;
	}
	for (i = 0; i < argc; i++)
		if (msg_get_str(m, argv[i], sizeof(argv[i])) == -1) {
			queue_ctl_end(q, reqid, 2, QUEUE_USAGE);
			return;
		}
	if (msg_end(m) == -1 || strcmp(argv[0], "queue") != 0) {
		queue_ctl_end(q, reqid, 2, QUEUE_USAGE);
		return;
	}
	if (argc == 1)
		queue_ctl_list(q, reqid);
	else if (argc == 3 && strcmp(argv[1], "show") == 0)
		queue_ctl_show(q, reqid, argv[2]);
	else if (argc == 3 && strcmp(argv[1], "cat") == 0)
		queue_ctl_cat(q, reqid, argv[2]);
	else if (argc == 3 && strcmp(argv[1], "delete") == 0)
		queue_ctl_delete(q, reqid, argv[2]);
	else
		queue_ctl_end(q, reqid, 2, QUEUE_USAGE);
}

/* --- wiring --- */

static void
queue_dispatch(struct proc_self *self, enum proc_id from, struct msg *m)
{
	struct queue_role	*q = self->role;
	uint64_t		 reqid;

	switch (m->type) {
	case MSG_QUEUE_CREATE:
		if (from != PROC_SMTP || msg_get_u64(m, &reqid) == -1 ||
		    msg_end(m) == -1)
			queue_bad(m, from, "malformed");
		queue_create(q, reqid);
		break;
	case MSG_QUEUE_COMMIT:
		if (from != PROC_SMTP)
			queue_bad(m, from, "not from smtp");
		queue_commit(q, from, m);
		break;
	case MSG_QUEUE_ABORT:
		if (from != PROC_SMTP)
			queue_bad(m, from, "not from smtp");
		queue_abort(q, from, m);
		break;
	case MSG_CTL_REQUEST:
		if (from != PROC_PARENT)
			queue_bad(m, from, "not from parent");
		queue_ctl(q, m);
		break;
	default:
		queue_bad(m, from, "unexpected");
	}
	msg_free(m);
}

/*
 * The smtp process that held our in-flight files is gone: nobody will
 * commit them.  Commits already in the batch still complete (the client
 * got no 250 and may send again: a duplicate at worst, never a loss).
 */
static void
queue_smtp_gone(struct queue_role *q)
{
	struct queue_incoming	*in;
	size_t			 i, n = 0;

	i = 0;
	while (i < q->nincoming) {
		in = q->incoming[i];
		if (in->committing) {
			in->orphan = true;
			i++;
			continue;
		}
		queue_incoming_abort(q, in);	/* moves the last into i */
		n++;
	}
	if (n > 0)
		log_info("queue: smtp went away, %zu files aborted", n);
}

static void
queue_peer_down(struct proc_self *self, enum proc_id id)
{
	if (id == PROC_SMTP)
		queue_smtp_gone(self->role);
}

/*
 * A channel to smtp given at run time means a new smtp process; the
 * parent may hand it over before we read the old channel's end, and the
 * old channel is then dropped without a peer_down.
 */
static void
queue_peer_up(struct proc_self *self, enum proc_id id)
{
	if (id == PROC_SMTP)
		queue_smtp_gone(self->role);
}

/* Room for QUEUE_INCOMING_MAX open files and their copies in flight. */
static void
queue_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("queue: setrlimit");
	}
}

void
queue_main(struct proc_self *self)
{
	static struct queue_role	 role;
	struct queue_role		*q = &role;

	q->self = self;
	TAILQ_INIT(&q->msgs);
	TAILQ_INIT(&q->batch);
	TAILQ_INIT(&q->cats);
	queue_raise_nofile();
	proc_drop(self);

	/* Our cwd is the spool root now, chrooted or not. */
	if ((q->fs = queue_fs_open(".")) == NULL)
		fatal("queue: cannot open the spool %s", self->dir_path);
	if (queue_fs_scan(q->fs, queue_scan_cb, q) == -1)
		fatal("queue: spool scan");
	log_info("event=scan messages=%zu", q->nmsgs);

	if ((q->ev_batch = evtimer_new(self->base, queue_batch_run, q)) ==
	    NULL || (q->ev_cat = evtimer_new(self->base, queue_cat_run, q)) ==
	    NULL)
		fatalx("queue: evtimer_new");
	self->role = q;
	self->dispatch = queue_dispatch;
	self->peer_up = queue_peer_up;
	self->peer_down = queue_peer_down;
	proc_run(self);
}
