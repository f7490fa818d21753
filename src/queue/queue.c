/*
 * queue: the queue role, owner of the spool (state-dir/queue, see
 * docs/spool.md and queue_fs.h).  It hands the smtp role one open file per
 * incoming message, commits what smtp reports complete (group commit: the
 * commits of one event-loop turn share one directory fsync), keeps the
 * list of queued messages in memory, rebuilt from disk at start, and
 * serves `cachetctl queue ...` forwarded by the parent.
 *
 * It also schedules deliveries (docs/architecture.md "Delivering a
 * message"): each pending recipient is resolved by lookup
 * (MSG_LOOKUP_RESOLVE); an alias, catch-all or postmaster@ becomes new
 * recipients in the envelope, written to state/ before any of them is
 * delivered; a local mailbox goes to the mda (MSG_MDA_DELIVER, with a
 * fresh read-only descriptor of the message), at most QUEUE_DELIVER_MAX
 * at a time; the recipients of another domain go to the mta, grouped per
 * domain, one MSG_MTA_DELIVER per message and domain, at most
 * QUEUE_MTA_MAX at a time.  Temporary failures are retried on the
 * `retry` backoff (a timer) until `queue-lifetime` has passed; permanent
 * failures and expiry make a bounce, a long delay a warning, and
 * NOTIFY=SUCCESS a success report (queue_dsn.c), each queued as a new
 * message from <>.  A message leaves the spool when every recipient is
 * done.
 *
 * Trust: the parent is trusted; the smtp role is a sibling that parses
 * the network, so every field of its requests is bounded and checked and
 * a malformed request is fatal (the parent restarts us).  lookup's, the
 * mda's and the mta's answers are bounded and checked the same way (the
 * mta's carry remote servers' replies: stored as text, shown escaped).
 * The files we read back are our own but still validated by queue_fs.  No
 * protocol is parsed here.
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

#include "bounce.h"
#include "buf.h"
#include "conf.h"
#include "dkim.h"
#include "ipc.h"
#include "log.h"
#include "metrics.h"
#include "store/mda.h"
#include "mta/mta.h"
#include "proc.h"
#include "queue_dedupe.h"
#include "queue_dsn.h"
#include "queue_fs.h"
#include "lookup/msgauth.h"
#include "lookup/resolve.h"
#include "mailbox.h"
#include "util.h"

/* MSG_MTA_DELIVER carries the spool's values as they are. */
_Static_assert(MTA_BODY_7BIT == QUEUE_FS_BODY_7BIT &&
    MTA_BODY_8BITMIME == QUEUE_FS_BODY_8BITMIME &&
    MTA_BODY_BINARYMIME == QUEUE_FS_BODY_BINARYMIME, "body values");
_Static_assert(MTA_RET_UNSET == QUEUE_FS_RET_UNSET &&
    MTA_RET_FULL == QUEUE_FS_RET_FULL && MTA_RET_HDRS == QUEUE_FS_RET_HDRS,
    "ret values");
/* NOLINTNEXTLINE(misc-redundant-expression): the same bound, by name */
_Static_assert(QUEUE_FS_PREPEND_MAX == MSG_PREPEND_MAX, "prepend bound");

#define QUEUE_INCOMING_MAX	4096	/* files handed out, not committed */
#define QUEUE_CTL_ARGC_MAX	8	/* words of a cachetctl request */
#define QUEUE_CTL_ARG_MAX	256	/* bytes of one word */
#define QUEUE_CTL_LINE_MAX	(64 * 1024)	/* longer lines go as data */
#define QUEUE_CAT_CHUNK		(64 * 1024)	/* bytes per MSG_CTL_DATA */
#define QUEUE_CAT_PENDING_MAX	(1024 * 1024)	/* unsent bytes to parent */
#define QUEUE_CAT_RETRY_MS	5
#define QUEUE_SHOW_HEADER_MAX	(64 * 1024)	/* header bytes shown */
#define QUEUE_LOG_ADDR_MAX	300	/* a path is at most 256 octets */

#define QUEUE_RESOLVE_MAX	32	/* MSG_LOOKUP_RESOLVE in flight */
#define QUEUE_DELIVER_MAX	64	/* MSG_MDA_DELIVER in flight */
#define QUEUE_REQS_MAX		(QUEUE_RESOLVE_MAX + QUEUE_DELIVER_MAX)
#define QUEUE_MTA_MAX		256	/* MSG_MTA_DELIVER in flight */
#define QUEUE_SAVE_RETRY	60	/* after a state or DSN write failed */
#define QUEUE_ENH_MAX		16	/* "5.1.1" and then some */
#define QUEUE_TEXT_MAX		200	/* a reason from lookup or the mda */
#define QUEUE_REMOTE_MAX	300	/* "host[ip]" from the mta */
#define QUEUE_CANCELLED		"Message returned by the administrator"
#define QUEUE_NONE		UINT32_MAX	/* no recipient (rider links) */

#define QUEUE_USAGE	"usage: cachetctl queue [show ID | cat ID | " \
			"delete ID | flush [ID|DOMAIN] | hold ID | " \
			"release ID | bounce ID]"

/* What the queue is doing with one recipient now (never on disk). */
enum queue_run {
	QUEUE_RUN_IDLE,		/* nothing in flight */
	QUEUE_RUN_RESOLVING,	/* MSG_LOOKUP_RESOLVE sent */
	QUEUE_RUN_WAITING,	/* resolved to a mailbox, awaiting a slot */
	QUEUE_RUN_DELIVERING,	/* MSG_MDA_DELIVER sent */
	QUEUE_RUN_REMOTE,	/* resolved to another domain: for the mta */
	QUEUE_RUN_SENDING,	/* MSG_MTA_DELIVER sent */
	QUEUE_RUN_SAME,		/* its destination is another recipient's,
				   whose delivery it shares ("duplicates") */
};

/* A report owed for a recipient, made when its message settles. */
enum queue_dsn_owed {
	QUEUE_DSN_NONE,
	QUEUE_DSN_DELIVERED,	/* NOTIFY=SUCCESS, delivered here */
	QUEUE_DSN_RELAYED,	/* NOTIFY=SUCCESS, next hop without DSN */
	QUEUE_DSN_DELAYED,	/* delay-warning passed, NOTIFY allows */
};

/* Per recipient, beside the envelope's: the delivery in progress. */
struct queue_rt {
	enum queue_run		 run;
	/* the local destination the resolution gave (WAITING, DELIVERING) */
	char			*to;		/* Delivered-To */
	char			*owner;
	char			*mailbox;
	enum mailbox_format	 format;
	int64_t			 quota;
	enum queue_dsn_owed	 dsn;
	/*
	 * Duplicates: the destination this recipient was last resolved to
	 * (queue_dedupe.h; kept once it is delivered), how its delivery is
	 * reported to those who share it, and the riders: a recipient in
	 * QUEUE_RUN_SAME names in same the one it shares with and links
	 * to the next rider of that one in next; first heads the list.
	 */
	char			*key;
	enum queue_dsn_owed	 success;
	uint32_t		 same;
	uint32_t		 next;
	uint32_t		 first;
};

/*
 * A queued (committed) message.  The envelope is the queue's own copy,
 * authoritative over what is on disk; dirty says it changed since it was
 * last written.
 */
struct queue_msg {
	TAILQ_ENTRY(queue_msg)	 entry;		/* sorted by id */
	TAILQ_ENTRY(queue_msg)	 ready;		/* recipients due now */
	TAILQ_ENTRY(queue_msg)	 waiting;	/* resolved, to deliver */
	TAILQ_ENTRY(queue_msg)	 out;		/* remote, for the mta */
	bool			 in_ready;
	bool			 in_waiting;
	bool			 in_out;
	struct queue_fs_envelope env;
	uint64_t		 msglen;
	struct queue_rt		*rt;		/* env.nrcpts of them */
	size_t			 nrt;
	size_t			 busy;		/* rt[i].run != IDLE */
	bool			 dirty;
	struct queue_dedupe	*dd;		/* its destinations, or NULL */
	bool			 dd_full;	/* QUEUE_DEDUPE_MAX reached */
};
TAILQ_HEAD(queue_msgs, queue_msg);

/* A request to lookup or the mda awaiting its answer. */
struct queue_req {
	uint64_t		 reqid;		/* 0: the slot is free */
	uint32_t		 type;		/* what was sent */
	struct queue_msg	*qm;		/* NULL: message gone */
	size_t			 rcpt;
};

/* A MSG_MTA_DELIVER awaiting its MSG_MTA_RESULT. */
struct queue_mreq {
	uint64_t		 reqid;		/* 0: the slot is free */
	struct queue_msg	*qm;		/* NULL: message gone */
	size_t			 n;
	uint32_t		 idx[MTA_RCPTS_MAX];	/* envelope indexes */
};

/* A file handed to smtp and not committed yet. */
struct queue_incoming {
	char			 id[QID_SIZE];
	int			 fd;		/* ours; smtp has a copy */
	bool			 committing;	/* in the batch */
	bool			 orphan;	/* its smtp process is gone */
	struct proc_peer	 from;		/* the smtp worker writing it */
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
	const struct conf	*conf;
	struct queue_fs		*fs;
	struct queue_msgs	 msgs;
	size_t			 nmsgs;
	/* delivery */
	bool			 hold;		/* delivery-hold yes */
	struct queue_msgs	 ready;		/* TAILQ on queue_msg.ready */
	struct queue_msgs	 waitq;		/* TAILQ on queue_msg.waiting */
	struct queue_msgs	 outq;		/* TAILQ on queue_msg.out */
	struct queue_req	 reqs[QUEUE_REQS_MAX];
	struct queue_mreq	 mreqs[QUEUE_MTA_MAX];
	size_t			 nmta;
	size_t			 nresolve;
	size_t			 ndeliver;
	uint64_t		 next_reqid;
	struct event		*ev_run;
	struct event		*ev_wake;
	int64_t			 wake_at;	/* INT64_MAX: no timer */
	uint64_t		 ndelivered;
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

/*
 * Is recipient rc finished, as far as this message's life goes?  A
 * failed one is, unless a bounce is owed for it and not queued yet (a
 * failed recipient becomes "bounced" once it is): no bounce is owed to
 * the null sender (RFC 5321 §4.5.5) nor against NOTIFY=NEVER or a NOTIFY
 * without FAILURE (RFC 3461 §4.1).
 */
static bool
queue_rcpt_finished(const struct queue_fs_envelope *env,
    const struct queue_fs_rcpt *rc)
{
	switch (rc->state) {
	case QUEUE_FS_RCPT_PENDING:
		return false;
	case QUEUE_FS_RCPT_FAILED:
		return env->sender[0] == '\0' ||
		    (rc->notify != 0 &&
		    (rc->notify & QUEUE_FS_NOTIFY_FAILURE) == 0);
	default:
		return true;
	}
}

/*
 * The one-word state of a message for `cachetctl queue`: held (by
 * delivery-hold or `queue hold`), active (a recipient in flight), queued
 * (one due now), deferred (waiting for a retry) or failed (nothing left
 * to try, a bounce owed and not queued yet).
 */
static const char *
queue_msg_state(const struct queue_role *q, const struct queue_msg *qm,
    int64_t now)
{
	const struct queue_fs_rcpt	*rc;
	size_t				 i;
	bool				 pending = false, due = false;

	if (qm->busy > 0)
		return "active";
	for (i = 0; i < qm->env.nrcpts; i++) {
		rc = &qm->env.rcpts[i];
		if (rc->state != QUEUE_FS_RCPT_PENDING)
			continue;
		pending = true;
		if (rc->next_try <= now)
			due = true;
	}
	if (pending && (q->hold || qm->env.held))
		return "held";
	if (due)
		return "queued";
	return pending ? "deferred" : "failed";
}

/* --- the list of queued messages --- */

/* The message as its readers see it: the prepend on top (msgauth.h). */
static uint64_t
queue_msg_size(const struct queue_msg *qm)
{
	return qm->msglen + (qm->env.prepend != NULL ?
	    strlen(qm->env.prepend) : 0);
}

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

/*
 * The queue's gauges (metrics.h): how many messages, and when the oldest
 * came (ids grow with time, so the first in id order).
 */
static void
queue_gauges(const struct queue_role *q)
{
	const struct queue_msg	*qm = TAILQ_FIRST(&q->msgs);

	metrics_set(METRICS_QUEUE_MESSAGES, 0, (int64_t)q->nmsgs);
	metrics_set(METRICS_QUEUE_OLDEST, 0, qm != NULL ? qm->env.created : 0);
}

/* A delivery made (metrics.h): where to, and how long after arrival. */
static void
queue_delivered_metrics(const struct queue_msg *qm, enum metrics_dest dest)
{
	uint64_t	now = queue_wall_ms();
	uint64_t	came = qm->env.created > 0 ?
			    (uint64_t)qm->env.created * 1000 : now;

	metrics_inc(METRICS_DELIVERED, dest);
	metrics_observe_latency(now > came ? now - came : 0);
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
	queue_gauges(q);
}

/* Drop the delivery in progress (not what the duplicate check keeps). */
static void
queue_rt_clear(struct queue_rt *rt)
{
	free(rt->to);
	free(rt->owner);
	free(rt->mailbox);
	rt->to = rt->owner = rt->mailbox = NULL;
	rt->format = MAILBOX_FORMAT_MAILDIR;
	rt->quota = 0;
	rt->dsn = QUEUE_DSN_NONE;
	rt->run = QUEUE_RUN_IDLE;
}

/* Forget a message: off every list, its requests' answers ignored. */
static void
queue_msg_free(struct queue_role *q, struct queue_msg *qm)
{
	size_t	i;

	for (i = 0; i < QUEUE_REQS_MAX; i++)
		if (q->reqs[i].reqid != 0 && q->reqs[i].qm == qm)
			q->reqs[i].qm = NULL;
	for (i = 0; i < QUEUE_MTA_MAX; i++)
		if (q->mreqs[i].reqid != 0 && q->mreqs[i].qm == qm)
			q->mreqs[i].qm = NULL;
	if (qm->in_out)
		TAILQ_REMOVE(&q->outq, qm, out);
	if (qm->in_ready)
		TAILQ_REMOVE(&q->ready, qm, ready);
	if (qm->in_waiting)
		TAILQ_REMOVE(&q->waitq, qm, waiting);
	for (i = 0; i < qm->nrt; i++) {
		queue_rt_clear(&qm->rt[i]);
		free(qm->rt[i].key);
	}
	free(qm->rt);
	queue_dedupe_free(qm->dd);
	TAILQ_REMOVE(&q->msgs, qm, entry);
	q->nmsgs--;
	queue_fs_envelope_free(&qm->env);
	free(qm);
	queue_gauges(q);
}

/* Make rt as long as the envelope's recipients (which only grow). */
static void
queue_rt_grow(struct queue_msg *qm)
{
	size_t	i;

	if (qm->nrt >= qm->env.nrcpts)
		return;
	qm->rt = xrealloc(qm->rt, qm->env.nrcpts * sizeof(*qm->rt));
	for (i = qm->nrt; i < qm->env.nrcpts; i++) {
		memset(&qm->rt[i], 0, sizeof(qm->rt[i]));
		qm->rt[i].run = QUEUE_RUN_IDLE;
		qm->rt[i].same = qm->rt[i].next = QUEUE_NONE;
		qm->rt[i].first = QUEUE_NONE;
	}
	qm->nrt = qm->env.nrcpts;
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

/* --- delivery: scheduling --- */

static void	queue_msg_settle(struct queue_role *, struct queue_msg *);

/*
 * Seconds before try number attempts + 1: the config's `retry FIRST MAX`,
 * FIRST doubled after each try, at most MAX (default 5 minutes up to 2
 * hours; RFC 5321 §4.5.4.1 asks for at least 30 minutes, but a first
 * retry after a few minutes gets past greylisting, RFC 6647 §2.1).
 */
static int64_t
queue_backoff(const struct queue_role *q, uint32_t attempts)
{
	int64_t	d = q->conf->outbound.retry_first;
	int64_t	max = q->conf->outbound.retry_max;
	uint32_t i;

	for (i = 1; i < attempts && d < max; i++)
		d *= 2;
	return d < max ? d : max;
}

/* Run the scheduler after this turn of the event loop. */
static void
queue_kick(struct queue_role *q)
{
	struct timeval	tv = { 0, 0 };

	if (q->ev_run != NULL && !evtimer_pending(q->ev_run, NULL))
		evtimer_add(q->ev_run, &tv);
}

/* Wake up at t (unix seconds) unless a wakeup comes before. */
static void
queue_wake_at(struct queue_role *q, int64_t t)
{
	struct timeval	tv;
	int64_t		now = (int64_t)time(NULL);

	if (t >= q->wake_at || q->ev_wake == NULL)
		return;
	q->wake_at = t;
	tv.tv_sec = t > now ? (time_t)(t - now) : 0;
	tv.tv_usec = 0;
	evtimer_add(q->ev_wake, &tv);
}

/* Has qm a recipient to try now? */
static bool
queue_msg_due(const struct queue_msg *qm, int64_t now)
{
	const struct queue_fs_rcpt	*rc;
	size_t				 i;

	if (qm->env.held)
		return false;
	for (i = 0; i < qm->env.nrcpts; i++) {
		rc = &qm->env.rcpts[i];
		if (rc->state == QUEUE_FS_RCPT_PENDING &&
		    qm->rt[i].run == QUEUE_RUN_IDLE && rc->next_try <= now)
			return true;
	}
	return false;
}

/*
 * Put qm on the ready list when it has a recipient due now, else make
 * sure the timer comes back for its earliest one.
 */
static void
queue_msg_schedule(struct queue_role *q, struct queue_msg *qm)
{
	const struct queue_fs_rcpt	*rc;
	int64_t				 now = (int64_t)time(NULL);
	size_t				 i;

	queue_rt_grow(qm);
	if (q->hold || qm->env.held)
		return;
	if (queue_msg_due(qm, now)) {
		if (!qm->in_ready) {
			TAILQ_INSERT_TAIL(&q->ready, qm, ready);
			qm->in_ready = true;
		}
		queue_kick(q);
		return;
	}
	for (i = 0; i < qm->env.nrcpts; i++) {
		rc = &qm->env.rcpts[i];
		if (rc->state == QUEUE_FS_RCPT_PENDING &&
		    qm->rt[i].run == QUEUE_RUN_IDLE)
			queue_wake_at(q, rc->next_try);
	}
}

/* The timer: every message with a retry due now goes on the ready list. */
static bool	queue_msg_owes_bounce(const struct queue_msg *);

static void
queue_wake_run(evutil_socket_t fd, short what, void *arg)
{
	struct queue_role	*q = arg;
	struct queue_msg	*qm, *next;

	q->wake_at = INT64_MAX;
	for (qm = TAILQ_FIRST(&q->msgs); qm != NULL; qm = next) {
		next = TAILQ_NEXT(qm, entry);
		/* a bounce that could not be written: try again */
		if (qm->busy == 0 && queue_msg_owes_bounce(qm))
			queue_msg_settle(q, qm);
		else
			queue_msg_schedule(q, qm);
	}
}

/* Forget a recipient's last error (it was delivered, or is tried anew). */
static void
queue_rcpt_clear_error(struct queue_fs_rcpt *rc)
{
	free(rc->error);
	free(rc->remote);
	rc->error = NULL;
	rc->remote = NULL;
}

/*
 * The last error of a recipient.  With remote ("host[ip]"), text is that
 * server's reply and is kept as it is; otherwise it is our own words
 * after the RFC 3463 code enh.  Both stay within the spool's limit.
 */
static void
queue_rcpt_set_error(struct queue_fs_rcpt *rc, const char *enh,
    const char *text, const char *remote)
{
	queue_rcpt_clear_error(rc);
	if (remote != NULL && remote[0] != '\0') {
		rc->error = xstrndup(text, strnlen(text, QUEUE_FS_STR_MAX));
		rc->remote = xstrndup(remote, strnlen(remote,
		    QUEUE_FS_STR_MAX));
		return;
	}
	rc->error = xasprintf("%s%s%.*s", enh != NULL ? enh : "",
	    enh != NULL && enh[0] != '\0' ? " " : "", QUEUE_FS_STR_MAX - 20,
	    text);
}

static const char *
queue_show_addr(const char *addr, char *out, size_t outsz)
{
	return printable(addr, strnlen(addr, QUEUE_FS_STR_MAX), out, outsz);
}

/* A permanent failure: the recipient is done, a bounce may be owed. */
static void
queue_rcpt_fail(struct queue_msg *qm, size_t i, const char *enh,
    const char *text, const char *remote)
{
	struct queue_fs_rcpt	*rc = &qm->env.rcpts[i];
	char			 show[QUEUE_LOG_ADDR_MAX], why[200];

	rc->state = QUEUE_FS_RCPT_FAILED;
	queue_rcpt_set_error(rc, enh, text, remote);
	qm->dirty = true;
	metrics_inc(METRICS_BOUNCED, 0);
	log_info("id=%s event=failed to=<%s> reason=\"%s\"", qm->env.id,
	    queue_show_addr(rc->addr, show, sizeof(show)),
	    printable(rc->error, strnlen(rc->error, QUEUE_FS_STR_MAX), why,
	    sizeof(why)));
}

/* May the sender hear of recipient rc's delay (RFC 3461 §4.1)? */
static bool
queue_warn_allowed(const struct queue_msg *qm, const struct queue_fs_rcpt *rc)
{
	/* NOTIFY absent: "FAILURE,DELAY" is ours to choose; we do */
	return qm->env.sender[0] != '\0' && rc->warned == 0 &&
	    (rc->notify == 0 || (rc->notify & QUEUE_FS_NOTIFY_DELAY) != 0);
}

/*
 * A temporary failure: try again after the backoff, unless the message
 * has been queued for queue-lifetime, which makes it a failure (RFC 5321
 * §4.5.4.1: "give up ... after 4-5 days").  Past delay-warning, a delay
 * report is owed once.
 */
static void
queue_rcpt_defer(struct queue_role *q, struct queue_msg *qm, size_t i,
    const char *enh, const char *text, const char *remote)
{
	struct queue_fs_rcpt	*rc = &qm->env.rcpts[i];
	const struct conf_outbound *ob = &q->conf->outbound;
	char			 show[QUEUE_LOG_ADDR_MAX], why[200];
	int64_t			 now = (int64_t)time(NULL), until;

	if (rc->attempts < UINT32_MAX)
		rc->attempts++;
	queue_rcpt_set_error(rc, enh, text, remote);
	qm->dirty = true;
	until = qm->env.created + (int64_t)ob->lifetime;
	if (now >= until) {
		rc->state = QUEUE_FS_RCPT_FAILED;
		metrics_inc(METRICS_BOUNCED, 0);
		log_info("id=%s event=expired to=<%s> attempts=%lu "
		    "reason=\"%s\"", qm->env.id,
		    queue_show_addr(rc->addr, show, sizeof(show)),
		    (unsigned long)rc->attempts, printable(rc->error,
		    strnlen(rc->error, QUEUE_FS_STR_MAX), why, sizeof(why)));
		return;
	}
	rc->next_try = now + queue_backoff(q, rc->attempts);
	/* the last try comes when the time is up, not a backoff later */
	if (rc->next_try > until)
		rc->next_try = until;
	if (ob->delay_warning > 0 && queue_warn_allowed(qm, rc) &&
	    now - qm->env.created >= (int64_t)ob->delay_warning)
		qm->rt[i].dsn = QUEUE_DSN_DELAYED;
	metrics_inc(METRICS_DEFERRED, 0);
	log_info("id=%s event=deferred to=<%s> attempts=%lu reason=\"%s\"",
	    qm->env.id, queue_show_addr(rc->addr, show, sizeof(show)),
	    (unsigned long)rc->attempts, printable(rc->error,
	    strnlen(rc->error, QUEUE_FS_STR_MAX), why, sizeof(why)));
}

/*
 * --- delivery: duplicates ---
 *
 * A message goes once to each final destination, whichever of its
 * recipients lead there (queue_dedupe.h).  The recipients all stay in
 * the envelope with their own state, NOTIFY and ORCPT: the first one
 * resolved to a destination is delivered; one resolved to it while that
 * delivery is under way rides on it (QUEUE_RUN_SAME) and gets its
 * outcome, and one resolved to it after it was delivered is delivered at
 * once.  So every recipient still gets its own success, delay or
 * failure report (RFC 3461 §4.1), and a failure reaches every recipient
 * that led to the mailbox.
 */

enum queue_outcome {
	QUEUE_OUT_DELIVERED,
	QUEUE_OUT_TEMPFAIL,
	QUEUE_OUT_PERMFAIL,
};

/* Is rt's delivery under way, so that another may share it? */
static bool
queue_rt_in_flight(const struct queue_rt *rt)
{
	return rt->run == QUEUE_RUN_WAITING ||
	    rt->run == QUEUE_RUN_DELIVERING || rt->run == QUEUE_RUN_REMOTE ||
	    rt->run == QUEUE_RUN_SENDING;
}

/*
 * Recipient i delivered; success is the report its NOTIFY=SUCCESS asks
 * for (RFC 3461 §4.1): "delivered" here, "relayed" to a next hop without
 * DSN (§5.2.2), none when the next hop took the request.
 */
static void
queue_rcpt_delivered(struct queue_msg *qm, size_t i,
    enum queue_dsn_owed success)
{
	struct queue_fs_rcpt	*rc = &qm->env.rcpts[i];

	rc->state = QUEUE_FS_RCPT_DELIVERED;
	if (rc->attempts < UINT32_MAX)
		rc->attempts++;
	queue_rcpt_clear_error(rc);
	qm->dirty = true;
	qm->rt[i].success = success;
	if ((rc->notify & QUEUE_FS_NOTIFY_SUCCESS) != 0 &&
	    qm->env.sender[0] != '\0')
		qm->rt[i].dsn = success;
}

/*
 * The report a recipient k sharing recipient j's delivery gets.  A next
 * hop that took j's NOTIFY and ORCPT reports on j; that covers k only
 * when k asked the same, else k's request went no further and we say
 * "relayed" for it.  local: j's destination is a mailbox here (what is
 * known of it after a restart of the queue).
 */
static enum queue_dsn_owed
queue_share_success(const struct queue_msg *qm, size_t j, size_t k,
    bool local)
{
	const struct queue_fs_rcpt	*a = &qm->env.rcpts[j];
	const struct queue_fs_rcpt	*b = &qm->env.rcpts[k];

	if (qm->rt[j].success != QUEUE_DSN_NONE)
		return qm->rt[j].success;
	if (qm->rt[j].key == NULL)
		return local ? QUEUE_DSN_DELIVERED : QUEUE_DSN_RELAYED;
	if (a->notify == b->notify && strcmp(a->orcpt != NULL ? a->orcpt :
	    "", b->orcpt != NULL ? b->orcpt : "") == 0)
		return QUEUE_DSN_NONE;
	return QUEUE_DSN_RELAYED;
}

static void
queue_log_duplicate(const struct queue_msg *qm, size_t i, size_t j,
    const char *how)
{
	char	show[QUEUE_LOG_ADDR_MAX], same[QUEUE_LOG_ADDR_MAX];

	log_info("id=%s event=duplicate to=<%s> same=<%s> %s", qm->env.id,
	    queue_show_addr(qm->env.rcpts[i].addr, show, sizeof(show)),
	    queue_show_addr(qm->env.rcpts[j].addr, same, sizeof(same)), how);
}

static void
queue_rcpt_apply(struct queue_role *q, struct queue_msg *qm, size_t i,
    enum queue_outcome how, enum queue_dsn_owed success, const char *enh,
    const char *text, const char *remote)
{
	switch (how) {
	case QUEUE_OUT_DELIVERED:
		queue_rcpt_delivered(qm, i, success);
		break;
	case QUEUE_OUT_TEMPFAIL:
		queue_rcpt_defer(q, qm, i, enh, text, remote);
		break;
	default:
		queue_rcpt_fail(qm, i, enh, text, remote);
		break;
	}
}

/*
 * Recipient i (resolved, not in flight) has the outcome how; so has each
 * recipient riding on it, with its own attempts, reports and log line.
 * success as for queue_rcpt_delivered(); enh, text and remote as for
 * queue_rcpt_defer() and queue_rcpt_fail().
 */
static void
queue_rcpt_outcome(struct queue_role *q, struct queue_msg *qm, size_t i,
    enum queue_outcome how, enum queue_dsn_owed success, const char *enh,
    const char *text, const char *remote)
{
	uint32_t	k, next;

	queue_rcpt_apply(q, qm, i, how, success, enh, text, remote);
	for (k = qm->rt[i].first; k != QUEUE_NONE; k = next) {
		if (k >= qm->nrt || qm->rt[k].run != QUEUE_RUN_SAME ||
		    qm->rt[k].same != i)
			fatalx("queue: id=%s rider list broken", qm->env.id);
		next = qm->rt[k].next;
		qm->rt[k].run = QUEUE_RUN_IDLE;
		qm->rt[k].same = qm->rt[k].next = QUEUE_NONE;
		qm->busy--;
		queue_rcpt_apply(q, qm, k, how, queue_share_success(qm, i, k,
		    true), enh, text, remote);
		if (how == QUEUE_OUT_DELIVERED)
			queue_log_duplicate(qm, k, i, "result=delivered");
	}
	qm->rt[i].first = QUEUE_NONE;
}

/*
 * Recipient i was resolved to the destination key (NULL: none that can
 * be compared; rt[i] keeps it).  When that destination already has the
 * message, i is delivered now; when it failed for good, i fails with
 * the same error; when its delivery is under way, i rides on it; in
 * each case true.  Otherwise (none yet, or a try that is to be made
 * again) false: i's delivery is to be made, and later recipients with
 * that destination will share it.
 */
static bool
queue_rcpt_duplicate(struct queue_msg *qm, size_t i, char *key)
{
	struct queue_rt	*rt = &qm->rt[i];
	char		*akey;
	uint32_t	 j;
	bool		 hit;

	free(rt->key);
	rt->key = key;
	rt->success = QUEUE_DSN_NONE;
	/* One recipient (most messages) has nobody to share with. */
	if (key == NULL || qm->env.nrcpts < 2)
		return false;
	if (qm->dd == NULL)
		qm->dd = queue_dedupe_new();
	if (queue_dedupe_get(qm->dd, key, &j) && j != i &&
	    j < qm->env.nrcpts) {
		if (queue_rt_in_flight(&qm->rt[j])) {
			rt->run = QUEUE_RUN_SAME;
			rt->same = j;
			rt->next = qm->rt[j].first;
			qm->rt[j].first = (uint32_t)i;
			qm->busy++;
			queue_log_duplicate(qm, i, j, "result=shared");
			return true;
		}
		if (qm->env.rcpts[j].state == QUEUE_FS_RCPT_DELIVERED) {
			queue_rcpt_delivered(qm, i, queue_share_success(qm,
			    j, i, key[0] == 'L'));
			queue_log_duplicate(qm, i, j, "result=delivered");
			return true;
		}
		if ((qm->env.rcpts[j].state == QUEUE_FS_RCPT_FAILED ||
		    qm->env.rcpts[j].state == QUEUE_FS_RCPT_BOUNCED) &&
		    qm->env.rcpts[j].error != NULL) {
			/*
			 * The error as stored: a reply with its server, or
			 * our code and words.
			 */
			queue_rcpt_fail(qm, i, NULL, qm->env.rcpts[j].error,
			    qm->env.rcpts[j].remote);
			queue_log_duplicate(qm, i, j, "result=failed");
			return true;
		}
	}
	/* What was delivered before a restart is known by its address. */
	if ((akey = queue_dedupe_key_addr(qm->env.rcpts[i].addr)) != NULL) {
		hit = queue_dedupe_get(qm->dd, akey, &j) && j != i &&
		    j < qm->env.nrcpts &&
		    qm->env.rcpts[j].state == QUEUE_FS_RCPT_DELIVERED;
		free(akey);
		if (hit) {
			queue_rcpt_delivered(qm, i, queue_share_success(qm,
			    j, i, key[0] == 'L'));
			queue_log_duplicate(qm, i, j, "result=delivered");
			return true;
		}
	}
	if (queue_dedupe_put(qm->dd, key, (uint32_t)i) == -1 &&
	    !qm->dd_full) {
		qm->dd_full = true;
		log_warnx("id=%s event=dedupe-full destinations=%zu: more "
		    "destinations are delivered without the duplicate check",
		    qm->env.id, queue_dedupe_count(qm->dd));
	}
	return false;
}

/*
 * A message read from the spool at start: its delivered recipients are
 * known by address (their mailboxes are not), so that a recipient still
 * pending that turns out to be one of them is not delivered again.
 */
static void
queue_dedupe_load(struct queue_msg *qm)
{
	char	*akey;
	size_t	 i;
	bool	 pending = false;

	for (i = 0; i < qm->env.nrcpts; i++)
		if (qm->env.rcpts[i].state == QUEUE_FS_RCPT_PENDING)
			pending = true;
	if (!pending)
		return;
	for (i = 0; i < qm->env.nrcpts; i++) {
		if (qm->env.rcpts[i].state != QUEUE_FS_RCPT_DELIVERED ||
		    (akey = queue_dedupe_key_addr(qm->env.rcpts[i].addr)) ==
		    NULL)
			continue;
		if (qm->dd == NULL)
			qm->dd = queue_dedupe_new();
		(void)queue_dedupe_put(qm->dd, akey, (uint32_t)i);
		free(akey);
	}
}

/* --- delivery: requests in flight --- */

static struct queue_req *
queue_req_new(struct queue_role *q, uint32_t type, struct queue_msg *qm,
    size_t rcpt)
{
	struct queue_req	*r;
	size_t			 i;

	for (i = 0; i < QUEUE_REQS_MAX; i++) {
		r = &q->reqs[i];
		if (r->reqid != 0)
			continue;
		r->reqid = ++q->next_reqid;
		r->type = type;
		r->qm = qm;
		r->rcpt = rcpt;
		if (type == MSG_LOOKUP_RESOLVE || type == MSG_LOOKUP_SIGN)
			q->nresolve++;
		else
			q->ndeliver++;
		return r;
	}
	fatalx("queue: no request slot (resolve=%zu deliver=%zu)",
	    q->nresolve, q->ndeliver);
}

/* The slot of an answer; NULL when nothing of that kind was asked. */
static struct queue_req *
queue_req_find(struct queue_role *q, uint32_t type, uint64_t reqid)
{
	size_t	i;

	for (i = 0; i < QUEUE_REQS_MAX; i++)
		if (reqid != 0 && q->reqs[i].reqid == reqid &&
		    q->reqs[i].type == type)
			return &q->reqs[i];
	return NULL;
}

static void
queue_req_done(struct queue_role *q, struct queue_req *r)
{
	if (r->type == MSG_LOOKUP_RESOLVE || r->type == MSG_LOOKUP_SIGN)
		q->nresolve--;
	else
		q->ndeliver--;
	memset(r, 0, sizeof(*r));
}

/*
 * The reverse-path recipient i leaves with: its own (an SRS address,
 * lib/srs.h) or the envelope's.
 */
static const char *
queue_rcpt_sender(const struct queue_fs_envelope *env, size_t i)
{
	return env->rcpts[i].sender != NULL ? env->rcpts[i].sender :
	    env->sender;
}

static void
queue_send_resolve(struct queue_role *q, struct queue_msg *qm, size_t i)
{
	struct queue_fs_rcpt	*rc = &qm->env.rcpts[i];
	struct queue_req	*r;
	struct msg		*m;

	/* lookup takes an address of ours only; a longer one cannot be. */
	if (strnlen(rc->addr, MAILBOX_ADDR_MAX + 1) > MAILBOX_ADDR_MAX) {
		queue_rcpt_fail(qm, i, "5.1.3", "Bad recipient address "
		    "syntax", NULL);
		return;
	}
	r = queue_req_new(q, MSG_LOOKUP_RESOLVE, qm, i);
	m = msg_new(MSG_LOOKUP_RESOLVE);
	msg_put_u64(m, r->reqid);
	msg_put_u32(m, rc->has_parent ? RESOLVE_F_FINAL : 0);
	msg_put_str(m, rc->addr);
	msg_put_str(m, queue_rcpt_sender(&qm->env, i));
	qm->rt[i].run = QUEUE_RUN_RESOLVING;
	qm->busy++;
	(void)proc_send(q->self, PROC_LOOKUP, m);
}

static void
queue_send_deliver(struct queue_role *q, struct queue_msg *qm, size_t i)
{
	struct queue_rt		*rt = &qm->rt[i];
	struct queue_req	*r;
	struct msg		*m;
	uint64_t		 msglen;
	char			 err[128];
	int			 fd;

	if (queue_fs_open_message(q->fs, qm->env.id, &fd, &msglen) == -1) {
		log_warn("id=%s event=deliver step=open", qm->env.id);
		(void)snprintf(err, sizeof(err), "cannot read the spool "
		    "file: %s", strerror(errno));
		queue_rt_clear(rt);
		qm->busy--;
		queue_rcpt_outcome(q, qm, i, QUEUE_OUT_TEMPFAIL,
		    QUEUE_DSN_NONE, "4.3.0", err, NULL);
		return;
	}
	r = queue_req_new(q, MSG_MDA_DELIVER, qm, i);
	m = msg_new(MSG_MDA_DELIVER);
	msg_put_u64(m, r->reqid);
	msg_put_str(m, qm->env.id);
	msg_put_str(m, qm->env.sender);
	msg_put_str(m, rt->to);
	msg_put_str(m, rt->owner);
	msg_put_str(m, rt->mailbox);
	msg_put_u32(m, (uint32_t)rt->format);
	msg_put_u64(m, rt->quota < 0 ? UINT64_MAX : (uint64_t)rt->quota);
	msg_put_u64(m, msglen);
	msg_put_str(m, qm->env.prepend);
	msg_put_u32(m, qm->env.junk ? MSG_COMMIT_F_JUNK : 0);
	msg_put_fd(m, fd);
	rt->run = QUEUE_RUN_DELIVERING;
	(void)proc_send(q->self, PROC_MDA, m);
}

/* The domain of an address: after its last '@', or NULL. */
static const char *
queue_domain(const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

static struct queue_mreq *
queue_mreq_find(struct queue_role *q, uint64_t reqid)
{
	size_t	i;

	for (i = 0; i < QUEUE_MTA_MAX; i++)
		if (reqid != 0 && q->mreqs[i].reqid == reqid)
			return &q->mreqs[i];
	return NULL;
}

static void
queue_mreq_done(struct queue_role *q, struct queue_mreq *r)
{
	memset(r, 0, sizeof(*r));
	q->nmta--;
}

/*
 * One MSG_MTA_DELIVER: the recipients of qm waiting for the mta whose
 * domain is that of recipient first (ASCII case-insensitive), at most
 * MTA_RCPTS_MAX of them, with a fresh descriptor of the message.
 */
static void
queue_send_mta(struct queue_role *q, struct queue_msg *qm, size_t first)
{
	struct queue_fs_envelope	*env = &qm->env;
	struct queue_mreq		*r = NULL;
	struct queue_fs_rcpt		*rc;
	struct msg			*m;
	const char			*domain, *d, *sender;
	uint64_t			 msglen;
	char				 err[128];
	size_t				 i, n = 0;
	int				 fd;

	domain = queue_domain(env->rcpts[first].addr);
	/* One transaction, one MAIL FROM: recipients of one sender. */
	sender = queue_rcpt_sender(env, first);
	for (i = 0; i < QUEUE_MTA_MAX; i++)
		if (q->mreqs[i].reqid == 0) {
			r = &q->mreqs[i];
			break;
		}
	if (r == NULL)
		fatalx("queue: no mta request slot (%zu)", q->nmta);
	for (i = first; i < env->nrcpts && n < MTA_RCPTS_MAX; i++) {
		if (qm->rt[i].run != QUEUE_RUN_REMOTE)
			continue;
		d = queue_domain(env->rcpts[i].addr);
		if (strcasecmp(d, domain) == 0 &&
		    strcmp(queue_rcpt_sender(env, i), sender) == 0)
			r->idx[n++] = (uint32_t)i;
	}
	if (queue_fs_open_message(q->fs, env->id, &fd, &msglen) == -1) {
		log_warn("id=%s event=deliver step=open", env->id);
		(void)snprintf(err, sizeof(err), "cannot read the spool "
		    "file: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			qm->rt[r->idx[i]].run = QUEUE_RUN_IDLE;
			qm->busy--;
			queue_rcpt_outcome(q, qm, r->idx[i],
			    QUEUE_OUT_TEMPFAIL, QUEUE_DSN_NONE, "4.3.0", err,
			    NULL);
		}
		return;
	}
	r->reqid = ++q->next_reqid;
	r->qm = qm;
	r->n = n;
	q->nmta++;
	m = msg_new(MSG_MTA_DELIVER);
	msg_put_u64(m, r->reqid);
	msg_put_str(m, env->id);
	msg_put_str(m, sender);
	msg_put_u64(m, msglen);
	msg_put_u32(m, (uint32_t)env->body);
	msg_put_u32(m, (env->smtputf8 ? MSG_ENV_SMTPUTF8 : 0) |
	    (env->requiretls ? MSG_ENV_REQUIRETLS : 0) |
	    (env->tls_optional ? MSG_ENV_TLS_OPTIONAL : 0));
	msg_put_u32(m, (uint32_t)env->ret);
	msg_put_str(m, env->envid != NULL ? env->envid : "");
	msg_put_str(m, domain);
	msg_put_u32(m, (uint32_t)n);
	for (i = 0; i < n; i++) {
		rc = &env->rcpts[r->idx[i]];
		msg_put_str(m, rc->addr);
		msg_put_u32(m, rc->notify);
		msg_put_str(m, rc->orcpt != NULL ? rc->orcpt : "");
		qm->rt[r->idx[i]].run = QUEUE_RUN_SENDING;
	}
	msg_put_str(m, env->prepend);
	msg_put_fd(m, fd);
	log_debug("id=%s event=to-mta domain=%s rcpts=%zu", env->id, domain,
	    n);
	(void)proc_send(q->self, PROC_MTA, m);
}

/*
 * Hand the recipients waiting for the mta to it, message by message.  A
 * message whose recipients are still being resolved waits, so that one
 * transaction carries all its recipients of a domain.
 */
static void
queue_run_mta(struct queue_role *q)
{
	struct queue_msg	*qm, *next;
	size_t			 i;
	bool			 resolving, left;

	for (qm = TAILQ_FIRST(&q->outq); qm != NULL; qm = next) {
		next = TAILQ_NEXT(qm, out);
		resolving = left = false;
		for (i = 0; i < qm->env.nrcpts; i++)
			if (qm->rt[i].run == QUEUE_RUN_RESOLVING)
				resolving = true;
		if (resolving)
			continue;
		for (i = 0; i < qm->env.nrcpts; i++) {
			if (qm->rt[i].run != QUEUE_RUN_REMOTE)
				continue;
			if (q->nmta == QUEUE_MTA_MAX) {
				left = true;
				break;
			}
			queue_send_mta(q, qm, i);
		}
		if (left)
			return;
		TAILQ_REMOVE(&q->outq, qm, out);
		qm->in_out = false;
		if (qm->busy == 0)
			queue_msg_settle(q, qm);
	}
}

/*
 * The scheduler, after each turn that changed something: resolve the
 * recipients due on the ready messages, then hand resolved ones to the
 * mda and the mta, each within its limit of requests in flight.
 */
static void
queue_run(evutil_socket_t fd, short what, void *arg)
{
	struct queue_role	*q = arg;
	struct queue_msg	*qm;
	struct queue_fs_rcpt	*rc;
	int64_t			 now = (int64_t)time(NULL);
	size_t			 i;
	bool			 all;

	while (!q->hold && q->self->peer[PROC_LOOKUP][0] != NULL &&
	    q->nresolve < QUEUE_RESOLVE_MAX &&
	    (qm = TAILQ_FIRST(&q->ready)) != NULL) {
		if (qm->env.held) {
			/* held after it became due: not tried */
			TAILQ_REMOVE(&q->ready, qm, ready);
			qm->in_ready = false;
			continue;
		}
		all = true;
		for (i = 0; i < qm->env.nrcpts; i++) {
			rc = &qm->env.rcpts[i];
			if (rc->state != QUEUE_FS_RCPT_PENDING ||
			    qm->rt[i].run != QUEUE_RUN_IDLE ||
			    rc->next_try > now)
				continue;
			if (q->nresolve == QUEUE_RESOLVE_MAX) {
				all = false;
				break;
			}
			queue_send_resolve(q, qm, i);
		}
		if (!all)
			break;
		TAILQ_REMOVE(&q->ready, qm, ready);
		qm->in_ready = false;
		/* Every recipient may have failed before being asked. */
		if (qm->busy == 0)
			queue_msg_settle(q, qm);
	}
	while (q->self->peer[PROC_MDA][0] != NULL &&
	    q->ndeliver < QUEUE_DELIVER_MAX &&
	    (qm = TAILQ_FIRST(&q->waitq)) != NULL) {
		all = true;
		for (i = 0; i < qm->env.nrcpts; i++) {
			if (qm->rt[i].run != QUEUE_RUN_WAITING)
				continue;
			if (q->ndeliver == QUEUE_DELIVER_MAX) {
				all = false;
				break;
			}
			queue_send_deliver(q, qm, i);
		}
		if (!all)
			break;
		TAILQ_REMOVE(&q->waitq, qm, waiting);
		qm->in_waiting = false;
		if (qm->busy == 0)
			queue_msg_settle(q, qm);
	}
	if (q->self->peer[PROC_MTA][0] != NULL)
		queue_run_mta(q);
}

/* A recipient of another domain: for the mta, batched per domain. */
static void
queue_rcpt_remote(struct queue_role *q, struct queue_msg *qm, size_t i)
{
	const char	*d = queue_domain(qm->env.rcpts[i].addr);

	if (d == NULL || strnlen(d, MTA_DOMAIN_MAX + 1) > MTA_DOMAIN_MAX) {
		queue_rcpt_fail(qm, i, "5.1.3", "Bad recipient address syntax",
		    NULL);
		return;
	}
	queue_rt_clear(&qm->rt[i]);
	if (queue_rcpt_duplicate(qm, i,
	    queue_dedupe_key_remote(qm->env.rcpts[i].addr)))
		return;
	qm->rt[i].run = QUEUE_RUN_REMOTE;
	qm->busy++;
	if (!qm->in_out) {
		TAILQ_INSERT_TAIL(&q->outq, qm, out);
		qm->in_out = true;
	}
	queue_kick(q);
}

/* A recipient resolved to a mailbox: deliver when a slot is free. */
static void
queue_rcpt_wait(struct queue_role *q, struct queue_msg *qm, size_t i,
    const char *to, const char *owner, const char *mailbox,
    enum mailbox_format format, int64_t quota)
{
	struct queue_rt	*rt = &qm->rt[i];

	queue_rt_clear(rt);
	if (queue_rcpt_duplicate(qm, i, queue_dedupe_key_local(mailbox)))
		return;
	rt->run = QUEUE_RUN_WAITING;
	rt->to = xstrdup(to);
	rt->owner = xstrdup(owner);
	rt->mailbox = xstrdup(mailbox);
	rt->format = format;
	rt->quota = quota;
	qm->busy++;
	if (!qm->in_waiting) {
		TAILQ_INSERT_TAIL(&q->waitq, qm, waiting);
		qm->in_waiting = true;
	}
	queue_kick(q);
}

/* Does qm hold a failed recipient whose bounce is not queued yet? */
static bool
queue_msg_owes_bounce(const struct queue_msg *qm)
{
	size_t	i;

	for (i = 0; i < qm->env.nrcpts; i++)
		if (qm->env.rcpts[i].state == QUEUE_FS_RCPT_FAILED &&
		    !queue_rcpt_finished(&qm->env, &qm->env.rcpts[i]))
			return true;
	return false;
}

static void __attribute__((noreturn))
queue_bad(struct msg *m, enum proc_id from, const char *why);

/*
 * A report the queue made is signed by lookup before it goes (issue 14;
 * msgauth.h, MSG_LOOKUP_SIGN): its header section and relaxed/sha256
 * body hash, read back from the spool, go to lookup, and the
 * DKIM-Signature fields that come back ride in its envelope's prepend,
 * written on top by whoever reads it.  The report waits (busy) until
 * then.  With lookup busy or gone it leaves unsigned; a crash before
 * the answer, likewise.
 */
static void
queue_sign_send(struct queue_role *q, struct queue_msg *qm)
{
	struct dkim_bh_spec	 spec = { DKIM_CANON_RELAXED,
				    DKIM_HASH_SHA256, DKIM_BH_NOLIMIT };
	struct dkim_bh		*bh;
	struct queue_req	*r;
	struct msg		*m;
	unsigned char		 digest[DKIM_DIGEST_MAX];
	char			*data = NULL;
	const char		*end;
	uint64_t		 len, hashed;
	size_t			 dlen, hlen;
	int			 fd;

	if (q->nresolve >= QUEUE_RESOLVE_MAX ||
	    queue_fs_open_message(q->fs, qm->env.id, &fd, &len) == -1)
		goto unsigned_;
	if (len > QUEUE_DSN_MAX) {
		close(fd);
		goto unsigned_;
	}
	data = xmalloc(len + 1);
	if (read_full(fd, data, len) != (ssize_t)len) {
		close(fd);
		goto unsigned_;
	}
	close(fd);
	if ((end = memmem(data, len, "\r\n\r\n", 4)) == NULL ||
	    (hlen = (size_t)(end - data) + 2) > MSGAUTH_HDRS_MAX)
		goto unsigned_;
	bh = dkim_bh_new(&spec);
	dkim_bh_update(bh, end + 4, len - hlen - 2);
	dlen = dkim_bh_final(bh, digest, &hashed);
	dkim_bh_free(bh);
	r = queue_req_new(q, MSG_LOOKUP_SIGN, qm, 0);
	m = msg_new(MSG_LOOKUP_SIGN);
	msg_put_u64(m, r->reqid);
	msg_put_str(m, qm->env.sender);
	msg_put_data(m, data, hlen);
	msg_put_u64(m, len - hlen - 2);
	msg_put_data(m, digest, dlen);
	qm->busy++;
	(void)proc_send(q->self, PROC_LOOKUP, m);
	free(data);
	return;
unsigned_:
	log_warnx("id=%s event=dsn-unsigned", qm->env.id);
	free(data);
	queue_msg_schedule(q, qm);
}

/* MSG_LOOKUP_SIGN_RESULT: u64 reqid, data header fields ("": none). */
static void
queue_sign_result(struct queue_role *q, struct msg *m)
{
	struct queue_req	*r;
	struct queue_msg	*qm;
	struct span		 fields;
	uint64_t		 reqid;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_span(m, &fields) == -1 ||
	    msg_end(m) == -1 || fields.len > QUEUE_FS_PREPEND_MAX ||
	    memchr(fields.ptr, '\0', fields.len) != NULL)
		queue_bad(m, PROC_LOOKUP, "malformed");
	/* An answer from before lookup restarted: already sent unsigned. */
	if ((r = queue_req_find(q, MSG_LOOKUP_SIGN, reqid)) == NULL)
		return;
	qm = r->qm;
	queue_req_done(q, r);
	if (qm == NULL)
		return;
	qm->busy--;
	if (fields.len > 0) {
		free(qm->env.prepend);
		qm->env.prepend = xstrndup(fields.ptr, fields.len);
		if (queue_fs_state_write(q->fs, &qm->env) == -1)
			log_warn("id=%s event=state-write", qm->env.id);
		log_info("id=%s event=signed size=%zu", qm->env.id,
		    fields.len);
	}
	queue_msg_schedule(q, qm);
}

/*
 * A report the queue made: a message like any other from now on, once
 * signed when sign is set.
 */
static void
queue_dsn_queued(struct queue_role *q, struct queue_fs_envelope *env,
    uint64_t len, bool sign)
{
	struct queue_msg	*qm;

	qm = xcalloc(1, sizeof(*qm));
	qm->env = *env;
	memset(env, 0, sizeof(*env));
	qm->msglen = len;
	queue_msg_insert(q, qm);
	if (sign)
		queue_sign_send(q, qm);
	else
		queue_msg_schedule(q, qm);
}

/*
 * Make one report of kind about the recipients of qm for which want()
 * says so.  0 when there was none to make or it is queued; -1 when it
 * could not be written (the caller tries again later).
 */
static int
queue_msg_report(struct queue_role *q, struct queue_msg *qm,
    enum bounce_kind kind, struct queue_dsn_rcpt *list, size_t n)
{
	struct queue_fs_envelope	 dsn;
	uint64_t			 len;
	int64_t				 now = (int64_t)time(NULL);

	if (n == 0)
		return 0;
	if (queue_dsn_make(q->fs, q->conf->hostname, &qm->env, qm->msglen,
	    kind, list, n, now, qm->env.created +
	    (int64_t)q->conf->outbound.lifetime, &dsn, &len) == -1) {
		log_warn("id=%s event=dsn-failed kind=%s", qm->env.id,
		    kind == BOUNCE_FAILURE ? "failure" : kind == BOUNCE_DELAY ?
		    "delay" : "success");
		return -1;
	}
	queue_dsn_queued(q, &dsn, len, true);
	return 0;
}

/*
 * The reports qm owes, made when nothing of it is in flight: one bounce
 * for its recipients that failed (RFC 3464; RFC 3461 §4.1 NOTIFY), one
 * delay warning for those past delay-warning, one success report for
 * NOTIFY=SUCCESS.  Each is committed before the state that records it
 * is written: a crash in between sends it twice, never not at all.
 */
static void
queue_msg_reports(struct queue_role *q, struct queue_msg *qm)
{
	struct queue_fs_envelope	*env = &qm->env;
	struct queue_dsn_rcpt		*list;
	size_t				 i, n;
	int64_t				 now = (int64_t)time(NULL);

	list = xcalloc(env->nrcpts, sizeof(*list));
	for (i = 0, n = 0; i < env->nrcpts; i++) {
		if (env->rcpts[i].state != QUEUE_FS_RCPT_FAILED ||
		    queue_rcpt_finished(env, &env->rcpts[i]))
			continue;
		list[n].idx = i;
		list[n++].action = BOUNCE_ACTION_FAILED;
	}
	if (queue_msg_report(q, qm, BOUNCE_FAILURE, list, n) == 0) {
		for (i = 0; i < n; i++)
			env->rcpts[list[i].idx].state =
			    QUEUE_FS_RCPT_BOUNCED;
		if (n > 0)
			qm->dirty = true;
	} else
		queue_wake_at(q, now + QUEUE_SAVE_RETRY);

	for (i = 0, n = 0; i < env->nrcpts; i++) {
		if (qm->rt[i].dsn != QUEUE_DSN_DELAYED)
			continue;
		qm->rt[i].dsn = QUEUE_DSN_NONE;
		if (env->rcpts[i].state != QUEUE_FS_RCPT_PENDING)
			continue;
		list[n].idx = i;
		list[n++].action = BOUNCE_ACTION_DELAYED;
	}
	if (queue_msg_report(q, qm, BOUNCE_DELAY, list, n) == 0) {
		for (i = 0; i < n; i++)
			env->rcpts[list[i].idx].warned = now;
		if (n > 0)
			qm->dirty = true;
	}

	for (i = 0, n = 0; i < env->nrcpts; i++) {
		if (qm->rt[i].dsn != QUEUE_DSN_DELIVERED &&
		    qm->rt[i].dsn != QUEUE_DSN_RELAYED)
			continue;
		list[n].idx = i;
		list[n++].action = qm->rt[i].dsn == QUEUE_DSN_DELIVERED ?
		    BOUNCE_ACTION_DELIVERED : BOUNCE_ACTION_RELAYED;
		qm->rt[i].dsn = QUEUE_DSN_NONE;
	}
	/* A success report that cannot be written is not worth a retry. */
	(void)queue_msg_report(q, qm, BOUNCE_SUCCESS, list, n);
	free(list);
}

/*
 * A message with nothing in flight: its reports made, then removed when
 * every recipient is done, else its envelope written if it changed, and
 * its next try set.
 */
static void
queue_msg_settle(struct queue_role *q, struct queue_msg *qm)
{
	const struct queue_fs_rcpt	*rc;
	size_t				 i, delivered = 0, failed = 0;
	bool				 done = true;

	if (qm->busy > 0)
		return;
	queue_msg_reports(q, qm);
	for (i = 0; i < qm->env.nrcpts; i++) {
		rc = &qm->env.rcpts[i];
		if (!queue_rcpt_finished(&qm->env, rc))
			done = false;
		if (rc->state == QUEUE_FS_RCPT_DELIVERED)
			delivered++;
		else if (rc->state == QUEUE_FS_RCPT_FAILED ||
		    rc->state == QUEUE_FS_RCPT_BOUNCED)
			failed++;
	}
	if (done) {
		/*
		 * Without a state file nothing is synced: a crash soon after
		 * may bring the message back, delivered twice, never lost.
		 */
		if (queue_fs_remove(q->fs, qm->env.id) == -1)
			log_warn("id=%s event=remove", qm->env.id);
		else
			log_info("id=%s event=removed delivered=%zu "
			    "failed=%zu", qm->env.id, delivered, failed);
		queue_msg_free(q, qm);
		return;
	}
	if (qm->dirty) {
		if (queue_fs_state_write(q->fs, &qm->env) == -1)
			/* The old envelope stays: a retry, at worst twice. */
			log_warn("id=%s event=state-write", qm->env.id);
		else
			qm->dirty = false;
	}
	queue_msg_schedule(q, qm);
}

/* --- delivery: answers --- */

/* One destination of a MSG_LOOKUP_RESOLVE_RESULT, as read. */
struct queue_dest {
	uint32_t		 kind;
	char			 addr[MAILBOX_ADDR_MAX + 1];
	char			 owner[MAILBOX_ADDR_MAX + 1];
	char			 mailbox[RESOLVE_MAILBOX_MAX + 1];
	uint32_t		 format;
	int64_t			 quota;
	char			 enh[QUEUE_ENH_MAX];
	char			 text[QUEUE_TEXT_MAX];
	uint32_t		 srs;	/* leaves with the result's sender */
};

/*
 * Recipient i resolved into something other than itself: it becomes
 * EXPANDED and each destination a new recipient with i as parent, the
 * ORCPT of the original carried over (RFC 3461 §4.2, for the DSN), or
 * made from its address.  The envelope is written before any of them
 * is delivered, so that a crash cannot deliver a child and then forget
 * it.  On a failed write the expansion is undone and tried again later.
 */
static void
queue_expand(struct queue_role *q, struct queue_msg *qm, size_t i,
    const struct queue_dest *d, size_t n, const char *srs)
{
	struct queue_fs_envelope	*env = &qm->env;
	struct queue_fs_rcpt		*rc, *nr;
	size_t				 old = env->nrcpts, j, k;
	char				 show[QUEUE_LOG_ADDR_MAX];

	if (old + n > QUEUE_FS_RCPTS_MAX) {
		queue_rcpt_fail(qm, i, "5.2.4", "Alias expands to too many "
		    "recipients for one message", NULL);
		return;
	}
	env->rcpts = xrealloc(env->rcpts, (old + n) * sizeof(*env->rcpts));
	rc = &env->rcpts[i];
	rc->state = QUEUE_FS_RCPT_EXPANDED;
	for (j = 0; j < n; j++) {
		/* One destination named by several: "duplicates" above. */
		nr = &env->rcpts[env->nrcpts];
		memset(nr, 0, sizeof(*nr));
		nr->addr = xstrdup(d[j].addr);
		nr->notify = rc->notify;
		nr->orcpt = rc->orcpt != NULL ? xstrdup(rc->orcpt) :
		    xasprintf("rfc822;%s", rc->addr);
		nr->has_parent = true;
		nr->parent = (uint32_t)i;
		/* An alias forwarding elsewhere: lookup's SRS address. */
		if (d[j].srs)
			nr->sender = xstrdup(srs);
		else if (rc->sender != NULL)
			nr->sender = xstrdup(rc->sender);
		nr->state = QUEUE_FS_RCPT_PENDING;
		env->nrcpts++;
		if (d[j].kind == RESOLVE_FAILED) {
			nr->state = QUEUE_FS_RCPT_FAILED;
			queue_rcpt_set_error(nr, d[j].enh, d[j].text, NULL);
		}
	}
	queue_rt_grow(qm);
	if (queue_fs_state_write(q->fs, env) == -1) {
		log_warn("id=%s event=state-write step=expand", env->id);
		for (k = old; k < env->nrcpts; k++) {
			free(env->rcpts[k].addr);
			free(env->rcpts[k].orcpt);
			free(env->rcpts[k].sender);
			free(env->rcpts[k].error);
		}
		env->nrcpts = old;
		rc = &env->rcpts[i];
		rc->state = QUEUE_FS_RCPT_PENDING;
		rc->next_try = (int64_t)time(NULL) + QUEUE_SAVE_RETRY;
		return;
	}
	qm->dirty = false;
	log_info("id=%s event=expanded rcpt=<%s> into=%zu", env->id,
	    printable(rc->addr, strnlen(rc->addr, QUEUE_FS_STR_MAX), show,
	    sizeof(show)), env->nrcpts - old);
	for (k = old; k < env->nrcpts; k++) {
		nr = &env->rcpts[k];
		if (nr->state != QUEUE_FS_RCPT_PENDING || nr->attempts != 0)
			continue;
		for (j = 0; j < n; j++)
			if (d[j].kind != RESOLVE_FAILED &&
			    strcmp(d[j].addr, nr->addr) == 0)
				break;
		if (j == n)
			continue;
		if (d[j].kind == RESOLVE_LOCAL)
			queue_rcpt_wait(q, qm, k, d[j].addr, d[j].owner,
			    d[j].mailbox, (enum mailbox_format)d[j].format,
			    d[j].quota);
	}
	for (k = old; k < env->nrcpts; k++) {
		nr = &env->rcpts[k];
		if (nr->state != QUEUE_FS_RCPT_PENDING || nr->attempts != 0 ||
		    qm->rt[k].run != QUEUE_RUN_IDLE)
			continue;
		for (j = 0; j < n; j++)
			if (d[j].kind == RESOLVE_REMOTE &&
			    strcmp(d[j].addr, nr->addr) == 0)
				break;
		if (j < n)
			queue_rcpt_remote(q, qm, k);
	}
}

/*
 * MSG_QUEUE_INJECT: a message lookup made (TLS-RPT, RFC 8460 §5.3),
 * queued as any other.  A sibling's bad shape is fatal; a spool that
 * cannot take it is logged (lookup sends the report again next time).
 */
static void
queue_inject(struct queue_role *q, struct msg *m)
{
	struct queue_fs_envelope	 env;
	char				 sender[QUEUE_FS_STR_MAX + 1];
	char				 rcpt[QUEUE_FS_STR_MAX + 1];
	struct span			 data;
	uint64_t			 len;

	if (msg_get_str(m, sender, sizeof(sender)) == -1 ||
	    msg_get_str(m, rcpt, sizeof(rcpt)) == -1 ||
	    msg_get_span(m, &data) == -1 || msg_end(m) == -1 ||
	    rcpt[0] == '\0' || data.len == 0)
		queue_bad(m, PROC_LOOKUP, "malformed");
	if (queue_dsn_inject(q->fs, q->conf->hostname, sender, rcpt,
	    data.ptr, data.len, (int64_t)time(NULL), &env, &len) == -1) {
		log_warn("queue: event=inject-failed to=<%s>", rcpt);
		return;
	}
	log_info("id=%s event=queued from=<%s> size=%llu nrcpt=1 "
	    "source=tlsrpt", env.id, sender, (unsigned long long)len);
	/* lookup signed it already (lookup_dkimsign_message()) */
	queue_dsn_queued(q, &env, len, false);
}

/* MSG_LOOKUP_RESOLVE_RESULT: ipc.h has the layout. */
static void
queue_resolve_result(struct queue_role *q, enum proc_id from, struct msg *m)
{
	struct queue_req	*r;
	struct queue_msg	*qm;
	struct queue_dest	*d = NULL;
	struct queue_fs_rcpt	*rc;
	char			 reason[RESOLVE_TEXT_MAX];
	char			 srs[MAILBOX_ADDR_MAX + 1];
	uint64_t		 reqid, quota;
	uint32_t		 status, n, j;
	size_t			 i;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &status) == -1 ||
	    status > RESOLVE_TEMPFAIL ||
	    msg_get_str(m, reason, sizeof(reason)) == -1 ||
	    msg_get_str(m, srs, sizeof(srs)) == -1 ||
	    msg_get_u32(m, &n) == -1 || n > RESOLVE_DESTS_MAX + 1 ||
	    (status == RESOLVE_OK) != (n > 0))
		queue_bad(m, from, "resolve result");
	if (n > 0)
		d = xcalloc(n, sizeof(*d));
	for (j = 0; j < n; j++) {
		if (msg_get_u32(m, &d[j].kind) == -1 ||
		    d[j].kind > RESOLVE_FAILED ||
		    msg_get_str(m, d[j].addr, sizeof(d[j].addr)) == -1 ||
		    d[j].addr[0] == '\0' ||
		    msg_get_str(m, d[j].owner, sizeof(d[j].owner)) == -1 ||
		    msg_get_str(m, d[j].mailbox, sizeof(d[j].mailbox)) == -1 ||
		    msg_get_u32(m, &d[j].format) == -1 ||
		    d[j].format > MAILBOX_FORMAT_MBOX ||
		    msg_get_u64(m, &quota) == -1 ||
		    (quota != UINT64_MAX && quota > INT64_MAX) ||
		    msg_get_str(m, d[j].enh, sizeof(d[j].enh)) == -1 ||
		    msg_get_str(m, d[j].text, sizeof(d[j].text)) == -1 ||
		    msg_get_u32(m, &d[j].srs) == -1 || d[j].srs > 1 ||
		    (d[j].srs && (d[j].kind != RESOLVE_REMOTE ||
		    srs[0] == '\0')))
			queue_bad(m, from, "resolve destination");
		d[j].quota = quota == UINT64_MAX ? -1 : (int64_t)quota;
		if (d[j].kind == RESOLVE_LOCAL && (d[j].owner[0] == '\0' ||
		    d[j].mailbox[0] == '\0'))
			queue_bad(m, from, "resolve destination");
	}
	if (msg_end(m) == -1)
		queue_bad(m, from, "resolve result");
	if ((r = queue_req_find(q, MSG_LOOKUP_RESOLVE, reqid)) == NULL) {
		/* An answer from a lookup we gave up on (it restarted). */
		free(d);
		return;
	}
	qm = r->qm;
	i = r->rcpt;
	queue_req_done(q, r);
	if (qm == NULL) {
		free(d);
		return;
	}
	qm->rt[i].run = QUEUE_RUN_IDLE;
	qm->busy--;
	rc = &qm->env.rcpts[i];
	if (status == RESOLVE_TEMPFAIL)
		queue_rcpt_defer(q, qm, i, "4.3.0", reason, NULL);
	else if (status == RESOLVE_UNKNOWN)
		queue_rcpt_fail(qm, i, "5.1.1", "User unknown", NULL);
	else if (n == 1 && d[0].kind == RESOLVE_LOCAL &&
	    strcasecmp(d[0].addr, rc->addr) == 0)
		/* The recipient is a mailbox of its own: deliver it. */
		queue_rcpt_wait(q, qm, i, d[0].addr, d[0].owner, d[0].mailbox,
		    (enum mailbox_format)d[0].format, d[0].quota);
	else if (n == 1 && d[0].kind == RESOLVE_REMOTE &&
	    strcasecmp(d[0].addr, rc->addr) == 0)
		/* Of another domain: the mta delivers it as it is. */
		queue_rcpt_remote(q, qm, i);
	else
		queue_expand(q, qm, i, d, n, srs);
	free(d);
	queue_msg_settle(q, qm);
	queue_kick(q);
}

/* MSG_MDA_RESULT: u64 reqid, u32 enum mda_result, str enh, str text. */
static void
queue_mda_result(struct queue_role *q, enum proc_id from, struct msg *m)
{
	struct queue_req	*r;
	struct queue_msg	*qm;
	struct queue_fs_rcpt	*rc;
	char			 enh[QUEUE_ENH_MAX], text[QUEUE_TEXT_MAX];
	char			 show[QUEUE_LOG_ADDR_MAX];
	uint64_t		 reqid;
	uint32_t		 result;
	size_t			 i;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &result) == -1 ||
	    result > MDA_PERMFAIL ||
	    msg_get_str(m, enh, sizeof(enh)) == -1 ||
	    msg_get_str(m, text, sizeof(text)) == -1 || msg_end(m) == -1)
		queue_bad(m, from, "mda result");
	if ((r = queue_req_find(q, MSG_MDA_DELIVER, reqid)) == NULL)
		return;
	qm = r->qm;
	i = r->rcpt;
	queue_req_done(q, r);
	if (qm == NULL)
		return;
	rc = &qm->env.rcpts[i];
	queue_rt_clear(&qm->rt[i]);
	qm->busy--;
	switch (result) {
	case MDA_DELIVERED:
		/* RFC 3461 §4.1: the final delivery reports NOTIFY=SUCCESS */
		queue_rcpt_outcome(q, qm, i, QUEUE_OUT_DELIVERED,
		    QUEUE_DSN_DELIVERED, NULL, NULL, NULL);
		q->ndelivered++;
		queue_delivered_metrics(qm, METRICS_DEST_LOCAL);
		log_debug("id=%s event=rcpt-delivered to=<%s>", qm->env.id,
		    printable(rc->addr, strnlen(rc->addr, QUEUE_FS_STR_MAX),
		    show, sizeof(show)));
		break;
	case MDA_TEMPFAIL:
		queue_rcpt_outcome(q, qm, i, QUEUE_OUT_TEMPFAIL,
		    QUEUE_DSN_NONE, enh, text, NULL);
		break;
	default:
		queue_rcpt_outcome(q, qm, i, QUEUE_OUT_PERMFAIL,
		    QUEUE_DSN_NONE, enh, text, NULL);
		break;
	}
	queue_msg_settle(q, qm);
	queue_kick(q);
}

/* MSG_MTA_RESULT: mta.h has the layout. */
static void
queue_mta_result(struct queue_role *q, enum proc_id from, struct msg *m)
{
	struct queue_mreq	*r;
	struct queue_msg	*qm;
	struct queue_fs_rcpt	*rc;
	char			 enh[QUEUE_ENH_MAX], remote[QUEUE_REMOTE_MAX];
	char			 show[QUEUE_LOG_ADDR_MAX];
	char			*text;
	uint64_t		 reqid;
	uint32_t		 n, j, result, flags;
	size_t			 i;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &n) == -1 ||
	    n == 0 || n > MTA_RCPTS_MAX)
		queue_bad(m, from, "mta result");
	r = queue_mreq_find(q, reqid);
	if (r != NULL && r->n != n)
		queue_bad(m, from, "mta result count");
	qm = r != NULL ? r->qm : NULL;
	for (j = 0; j < n; j++) {
		if (msg_get_u32(m, &result) == -1 || result > MTA_PERMFAIL ||
		    msg_get_u32(m, &flags) == -1 ||
		    msg_get_str(m, enh, sizeof(enh)) == -1 ||
		    msg_get_strdup(m, QUEUE_FS_STR_MAX, &text) == -1 ||
		    msg_get_str(m, remote, sizeof(remote)) == -1)
			queue_bad(m, from, "mta result");
		if (qm == NULL) {
			free(text);
			continue;
		}
		i = r->idx[j];
		rc = &qm->env.rcpts[i];
		if (qm->rt[i].run != QUEUE_RUN_SENDING)
			fatalx("queue: mta result for a recipient not sent");
		qm->rt[i].run = QUEUE_RUN_IDLE;
		qm->busy--;
		switch (result) {
		case MTA_DELIVERED:
			/*
			 * RFC 3461 §5.2.2: a server without DSN took it, so
			 * the "relayed" report is ours to send.
			 */
			queue_rcpt_outcome(q, qm, i, QUEUE_OUT_DELIVERED,
			    (flags & MTA_F_RELAYED) != 0 ? QUEUE_DSN_RELAYED :
			    QUEUE_DSN_NONE, NULL, NULL, NULL);
			q->ndelivered++;
			queue_delivered_metrics(qm, METRICS_DEST_REMOTE);
			log_debug("id=%s event=rcpt-sent to=<%s>", qm->env.id,
			    queue_show_addr(rc->addr, show, sizeof(show)));
			break;
		case MTA_TEMPFAIL:
			queue_rcpt_outcome(q, qm, i, QUEUE_OUT_TEMPFAIL,
			    QUEUE_DSN_NONE, enh, text, remote);
			break;
		default:
			queue_rcpt_outcome(q, qm, i, QUEUE_OUT_PERMFAIL,
			    QUEUE_DSN_NONE, enh, text, remote);
			break;
		}
		free(text);
	}
	if (msg_end(m) == -1)
		queue_bad(m, from, "mta result");
	if (r == NULL)
		return;
	queue_mreq_done(q, r);
	if (qm != NULL)
		queue_msg_settle(q, qm);
	queue_kick(q);
}

/*
 * lookup or the mda went away (or was replaced): what was asked of it
 * will not be answered.  Those recipients go back to where they were,
 * without counting an attempt: resolved ones wait for the new mda,
 * others are resolved again.  A delivery the mda finished but did not
 * report is made again (the documented at-least-once window).
 */
static void
queue_peer_lost(struct queue_role *q, enum proc_id id)
{
	struct queue_req	*r;
	struct queue_msg	*qm;
	size_t			 i, n = 0;
	uint32_t		 type;

	if (id == PROC_MTA) {
		for (i = 0; i < QUEUE_MTA_MAX; i++) {
			struct queue_mreq *mr = &q->mreqs[i];
			size_t		   k;

			if (mr->reqid == 0)
				continue;
			if ((qm = mr->qm) != NULL) {
				for (k = 0; k < mr->n; k++)
					qm->rt[mr->idx[k]].run =
					    QUEUE_RUN_REMOTE;
				if (!qm->in_out) {
					TAILQ_INSERT_TAIL(&q->outq, qm, out);
					qm->in_out = true;
				}
			}
			queue_mreq_done(q, mr);
			n++;
		}
		if (n > 0)
			log_info("queue: mta went away, %zu messages to send "
			    "again", n);
		queue_kick(q);
		return;
	}
	type = id == PROC_LOOKUP ? MSG_LOOKUP_RESOLVE : MSG_MDA_DELIVER;
	/* Reports waiting for their signature leave without. */
	for (i = 0; id == PROC_LOOKUP && i < QUEUE_REQS_MAX; i++) {
		r = &q->reqs[i];
		if (r->reqid == 0 || r->type != MSG_LOOKUP_SIGN)
			continue;
		if ((qm = r->qm) != NULL) {
			qm->busy--;
			log_warnx("id=%s event=dsn-unsigned", qm->env.id);
			queue_msg_schedule(q, qm);
		}
		queue_req_done(q, r);
	}
	for (i = 0; i < QUEUE_REQS_MAX; i++) {
		r = &q->reqs[i];
		if (r->reqid == 0 || r->type != type)
			continue;
		if ((qm = r->qm) != NULL) {
			if (type == MSG_LOOKUP_RESOLVE) {
				qm->rt[r->rcpt].run = QUEUE_RUN_IDLE;
				qm->busy--;
				queue_msg_schedule(q, qm);
			} else {
				qm->rt[r->rcpt].run = QUEUE_RUN_WAITING;
				if (!qm->in_waiting) {
					TAILQ_INSERT_TAIL(&q->waitq, qm,
					    waiting);
					qm->in_waiting = true;
				}
			}
		}
		queue_req_done(q, r);
		n++;
	}
	if (n > 0)
		log_info("queue: %s went away, %zu requests to send again",
		    proc_name(id), n);
	queue_kick(q);
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
queue_create(struct queue_role *q, struct proc_peer from, uint64_t reqid)
{
	struct queue_incoming	*in;
	struct msg		*r;
	char			 id[QID_SIZE];
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
	in->from = from;
	q->incoming[q->nincoming++] = in;
	msg_put_u32(r, 1);
	msg_put_str(r, id);
	msg_put_fd(r, copy);
	log_debug("id=%s event=create", id);
	if (proc_send_peer(q->self, from, r) == -1)
		queue_incoming_abort(q, in);
	return;
fail:
	msg_put_u32(r, 0);
	msg_put_str(r, "");
	(void)proc_send_peer(q->self, from, r);
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
	(void)proc_send_peer(q->self, in->from, r);
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
	queue_msg_schedule(q, qm);
	log_info("id=%s event=queued from=<%s> size=%llu nrcpt=%zu",
	    qm->env.id, printable(qm->env.sender,
	    strnlen(qm->env.sender, QUEUE_FS_STR_MAX), from, sizeof(from)),
	    (unsigned long long)queue_msg_size(qm), qm->env.nrcpts);
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
	if (utf8 & ~MSG_ENV_ALL)
		queue_bad(m, from, "flags");
	env->smtputf8 = (utf8 & MSG_ENV_SMTPUTF8) != 0;
	env->requiretls = (utf8 & MSG_ENV_REQUIRETLS) != 0;
	env->tls_optional = (utf8 & MSG_ENV_TLS_OPTIONAL) != 0;
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
	/* msgauth.h: the header fields for the top, and the verdict */
	if (msg_get_strdup(m, QUEUE_FS_PREPEND_MAX, &s) == -1)
		queue_bad(m, from, "prepend");
	if (s[0] == '\0')
		free(s);
	else
		env->prepend = s;
	if (msg_get_u32(m, &utf8) == -1 || (utf8 & ~MSG_COMMIT_F_ALL) != 0)
		queue_bad(m, from, "msgauth flags");
	env->junk = (utf8 & MSG_COMMIT_F_JUNK) != 0;
}

static void
queue_commit(struct queue_role *q, struct proc_peer peer, struct msg *m)
{
	enum proc_id		 from = peer.id;
	struct queue_incoming	*in;
	struct queue_fs_envelope env;
	struct msg		*r;
	uint64_t		 reqid, msglen;
	char			 id[QID_SIZE + 1];

	memset(&env, 0, sizeof(env));
	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, id, sizeof(id)) == -1 || !qid_valid(id) ||
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
		(void)proc_send_peer(q->self, peer, r);
		return;
	}
	if (in->committing)
		queue_bad(m, from, "second commit");
	if (in->from.worker != peer.worker)
		queue_bad(m, from, "another worker's file");
	(void)str_copy(env.id, sizeof(env.id), id);
	env.created = (int64_t)time(NULL);
	in->env = env;
	in->reqid = reqid;
	in->msglen = msglen;
	queue_batch_add(q, in);
}

static void
queue_abort(struct queue_role *q, struct proc_peer peer, struct msg *m)
{
	enum proc_id		 from = peer.id;
	struct queue_incoming	*in;
	char			 id[QID_SIZE + 1];

	if (msg_get_str(m, id, sizeof(id)) == -1 || msg_end(m) == -1 ||
	    !qid_valid(id))
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
	if (in->from.worker != peer.worker)
		queue_bad(m, from, "another worker's file");
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
	proc_ctl_end(q->self, reqid, code, err);
}

/*
 * Under a message's line, one indented line per recipient that has been
 * tried or has failed: its state, attempts, next try and last error, so
 * that an admin sees why mail waits without `queue show`.
 */
static void
queue_ctl_rcpt_lines(struct queue_role *q, uint64_t reqid, struct buf *b,
    const struct queue_msg *qm)
{
	const struct queue_fs_rcpt	*rc;
	char				 t[64];
	size_t				 i;

	for (i = 0; i < qm->env.nrcpts; i++) {
		rc = &qm->env.rcpts[i];
		if ((rc->state != QUEUE_FS_RCPT_PENDING &&
		    rc->state != QUEUE_FS_RCPT_FAILED) ||
		    (rc->attempts == 0 && rc->error == NULL))
			continue;
		buf_append_str(b, "    to=<");
		queue_escape(b, rc->addr, false, "");
		buf_printf(b, "> state=%s attempts=%lu",
		    rc->state == QUEUE_FS_RCPT_PENDING ? "pending" : "failed",
		    (unsigned long)rc->attempts);
		if (rc->state == QUEUE_FS_RCPT_PENDING) {
			if (rc->next_try == 0)
				(void)str_copy(t, sizeof(t), "now");
			else
				queue_time(t, sizeof(t), rc->next_try);
			buf_printf(b, " next=\"%s\"", t);
		}
		if (rc->error != NULL) {
			buf_append_str(b, " error=\"");
			queue_escape(b, rc->error, true, "\"");
			buf_append_char(b, '"');
		}
		if (rc->remote != NULL) {
			buf_append_str(b, " remote=");
			queue_escape(b, rc->remote, false, "");
		}
		queue_ctl_buf(q, reqid, b);
	}
}

static void
queue_ctl_list(struct queue_role *q, uint64_t reqid)
{
	struct queue_msg	*qm;
	struct buf		 b;
	char			 age[32];
	int64_t			 now = (int64_t)time(NULL);
	size_t			 i, n;

	buf_init(&b, SIZE_MAX);
	buf_append_str(&b, "ID               AGE     SIZE SENDER RECIPIENTS "
	    "STATE");
	queue_ctl_buf(q, reqid, &b);
	TAILQ_FOREACH(qm, &q->msgs, entry) {
		queue_age(age, sizeof(age), qm->env.created, now);
		if (buf_printf(&b, "%-16s %3s %8llu ", qm->env.id, age,
		    (unsigned long long)queue_msg_size(qm)) == -1)
			fatalx("queue: output buffer");
		if (qm->env.sender[0] == '\0')
			buf_append_str(&b, "<>");
		else
			queue_escape(&b, qm->env.sender, false, "");
		buf_append_char(&b, ' ');
		/* The recipients the sender named, not their expansions. */
		for (i = 0, n = 0; i < qm->env.nrcpts; i++) {
			if (qm->env.rcpts[i].has_parent)
				continue;
			if (n++ > 0)
				buf_append_char(&b, ',');
			queue_escape(&b, qm->env.rcpts[i].addr, false, ",");
		}
		buf_append_char(&b, ' ');
		buf_append_str(&b, queue_msg_state(q, qm, now));
		queue_ctl_buf(q, reqid, &b);
		queue_ctl_rcpt_lines(q, reqid, &b, qm);
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
	case QUEUE_FS_RCPT_EXPANDED:
		return "expanded";
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
	buf_printf(b, "size: %llu", (unsigned long long)queue_msg_size(qm));
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
	buf_printf(b, "requiretls: %s", env->requiretls ? "yes" : "no");
	queue_ctl_buf(q, reqid, b);
	if (env->tls_optional) {
		buf_printf(b, "tls-required: no");
		queue_ctl_buf(q, reqid, b);
	}
	buf_printf(b, "ret: %s", queue_ret_name(env->ret));
	queue_ctl_buf(q, reqid, b);
	queue_show_field(q, reqid, b, "envid", env->envid);
	queue_show_field(q, reqid, b, "auth", env->auth);
	queue_show_field(q, reqid, b, "helo", env->helo);
	queue_show_field(q, reqid, b, "client", env->ip);
	queue_show_field(q, reqid, b, "user", env->user);
	if (env->held) {
		buf_append_str(b, "held: yes");
		queue_ctl_buf(q, reqid, b);
	}
	buf_printf(b, "recipients: %zu", env->nrcpts);
	queue_ctl_buf(q, reqid, b);
	for (i = 0; i < env->nrcpts; i++) {
		rc = &env->rcpts[i];
		buf_append_str(b, "recipient: <");
		queue_escape(b, rc->addr, false, "");
		buf_append_char(b, '>');
		queue_ctl_buf(q, reqid, b);
		if (rc->state == QUEUE_FS_RCPT_PENDING &&
		    rc - env->rcpts < (ptrdiff_t)qm->nrt &&
		    qm->rt[rc - env->rcpts].run != QUEUE_RUN_IDLE)
			buf_printf(b, "  state: pending (active)");
		else
			buf_printf(b, "  state: %s",
			    queue_rcpt_state_name(rc->state));
		queue_ctl_buf(q, reqid, b);
		if (rc - env->rcpts < (ptrdiff_t)qm->nrt &&
		    qm->rt[rc - env->rcpts].run == QUEUE_RUN_SAME) {
			buf_append_str(b, "  same delivery as: <");
			queue_escape(b, env->rcpts[qm->rt[rc -
			    env->rcpts].same].addr, false, "");
			buf_append_char(b, '>');
			queue_ctl_buf(q, reqid, b);
		}
		buf_append_str(b, "  notify: ");
		queue_notify_names(b, rc->notify);
		queue_ctl_buf(q, reqid, b);
		queue_show_field(q, reqid, b, "  orcpt", rc->orcpt);
		queue_show_field(q, reqid, b, "  sender", rc->sender);
		if (rc->has_parent) {
			buf_append_str(b, "  parent: <");
			queue_escape(b, env->rcpts[rc->parent].addr, false, "");
			buf_append_char(b, '>');
			queue_ctl_buf(q, reqid, b);
		}
		buf_printf(b, "  attempts: %lu", (unsigned long)rc->attempts);
		queue_ctl_buf(q, reqid, b);
		if (rc->next_try == 0)
			(void)str_copy(t, sizeof(t), "now");
		else
			queue_time(t, sizeof(t), rc->next_try);
		buf_printf(b, "  next try: %s", t);
		queue_ctl_buf(q, reqid, b);
		queue_show_field(q, reqid, b, "  last error", rc->error);
		queue_show_field(q, reqid, b, "  remote", rc->remote);
		if (rc->warned > 0) {
			queue_time(t, sizeof(t), rc->warned);
			buf_printf(b, "  delay warning sent: %s", t);
			queue_ctl_buf(q, reqid, b);
		}
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

	if (!qid_valid(id) || (qm = queue_msg_find(q, id)) == NULL) {
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

	if ((chan = q->self->peer[PROC_PARENT][0]) == NULL)
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
	struct queue_msg	*qm;
	struct msg		*m;
	struct timeval		 tv = { 0, 0 };
	uint64_t		 msglen;
	char			 err[128];
	int			 fd;

	if (!qid_valid(id) || (qm = queue_msg_find(q, id)) == NULL) {
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
	/* The header fields for the top first, as every reader does. */
	if (qm->env.prepend != NULL) {
		m = msg_new(MSG_CTL_DATA);
		msg_put_u64(m, reqid);
		msg_put_str(m, qm->env.prepend);
		(void)proc_send(q->self, PROC_PARENT, m);
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

	if (!qid_valid(id) || (qm = queue_msg_find(q, id)) == NULL) {
		queue_ctl_end(q, reqid, 1, "no such message");
		return;
	}
	/* An answer in flight for it is dropped (queue_msg_free). */
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
 * queue flush [ID|DOMAIN]: every deferred recipient (of message ID, or
 * whose address is at DOMAIN) is tried again now.
 */
static void
queue_ctl_flush(struct queue_role *q, uint64_t reqid, const char *what)
{
	struct queue_msg	*qm;
	struct queue_fs_rcpt	*rc;
	const char		*d;
	char			 line[64];
	size_t			 i, n = 0;
	bool			 id, hit;

	if (q->hold) {
		queue_ctl_end(q, reqid, 1, "delivery is held (delivery-hold "
		    "yes in the config)");
		return;
	}
	id = what != NULL && qid_valid(what);
	if (id && queue_msg_find(q, what) == NULL) {
		queue_ctl_end(q, reqid, 1, "no such message");
		return;
	}
	TAILQ_FOREACH(qm, &q->msgs, entry) {
		/* a held message waits for its release, flushed or not */
		if ((id && strcmp(qm->env.id, what) != 0) || qm->env.held)
			continue;
		hit = false;
		for (i = 0; i < qm->env.nrcpts; i++) {
			rc = &qm->env.rcpts[i];
			if (rc->state != QUEUE_FS_RCPT_PENDING)
				continue;
			if (what != NULL && !id && ((d = queue_domain(
			    rc->addr)) == NULL || strcasecmp(d, what) != 0))
				continue;
			hit = true;
			if (rc->next_try != 0) {
				rc->next_try = 0;
				qm->dirty = true;
			}
		}
		if (hit && queue_msg_due(qm, (int64_t)time(NULL))) {
			n++;
			queue_msg_schedule(q, qm);
		}
	}
	log_info("event=flush what=%s messages=%zu", what != NULL ? what :
	    "all", n);
	(void)snprintf(line, sizeof(line), "%zu messages to try now", n);
	queue_ctl_line(q, reqid, line, strlen(line));
	queue_ctl_end(q, reqid, 0, "");
}

/*
 * queue hold ID / release ID: a held message is never tried (what is in
 * flight finishes); the mark is in the envelope, so it lasts through a
 * restart.
 */
static void
queue_ctl_hold(struct queue_role *q, uint64_t reqid, const char *id,
    bool hold)
{
	struct queue_msg	*qm;
	char			 err[128];

	if (!qid_valid(id) || (qm = queue_msg_find(q, id)) == NULL) {
		queue_ctl_end(q, reqid, 1, "no such message");
		return;
	}
	if (qm->env.held != hold) {
		qm->env.held = hold;
		if (queue_fs_state_write(q->fs, &qm->env) == -1) {
			log_warn("id=%s event=state-write step=%s", id,
			    hold ? "hold" : "release");
			qm->env.held = !hold;
			(void)snprintf(err, sizeof(err), "cannot write the "
			    "envelope: %s", strerror(errno));
			queue_ctl_end(q, reqid, 1, err);
			return;
		}
		qm->dirty = false;
		log_info("id=%s event=%s", id, hold ? "held" : "released");
	}
	if (!hold)
		queue_msg_schedule(q, qm);
	queue_ctl_end(q, reqid, 0, "");
}

/*
 * queue bounce ID: give up on every recipient still pending; the sender
 * gets a bounce as for any failure (RFC 3464), unless none is owed.
 */
static void
queue_ctl_bounce(struct queue_role *q, uint64_t reqid, const char *id)
{
	struct queue_msg	*qm;
	size_t			 i, n = 0;

	if (!qid_valid(id) || (qm = queue_msg_find(q, id)) == NULL) {
		queue_ctl_end(q, reqid, 1, "no such message");
		return;
	}
	if (qm->busy > 0) {
		queue_ctl_end(q, reqid, 1, "a delivery of the message is in "
		    "progress; try again in a moment");
		return;
	}
	for (i = 0; i < qm->env.nrcpts; i++) {
		if (qm->env.rcpts[i].state != QUEUE_FS_RCPT_PENDING)
			continue;
		queue_rcpt_fail(qm, i, "5.0.0", QUEUE_CANCELLED, NULL);
		n++;
	}
	log_info("id=%s event=bounced-by-admin rcpts=%zu", id, n);
	queue_msg_settle(q, qm);
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
	else if (argc == 2 && strcmp(argv[1], "flush") == 0)
		queue_ctl_flush(q, reqid, NULL);
	else if (argc == 3 && strcmp(argv[1], "flush") == 0)
		queue_ctl_flush(q, reqid, argv[2]);
	else if (argc == 3 && strcmp(argv[1], "hold") == 0)
		queue_ctl_hold(q, reqid, argv[2], true);
	else if (argc == 3 && strcmp(argv[1], "release") == 0)
		queue_ctl_hold(q, reqid, argv[2], false);
	else if (argc == 3 && strcmp(argv[1], "bounce") == 0)
		queue_ctl_bounce(q, reqid, argv[2]);
	else
		queue_ctl_end(q, reqid, 2, QUEUE_USAGE);
}

/* --- wiring --- */

static void
queue_dispatch(struct proc_self *self, struct proc_peer peer, struct msg *m)
{
	enum proc_id		 from = peer.id;
	struct queue_role	*q = self->role;
	uint64_t		 reqid;

	switch (m->type) {
	case MSG_QUEUE_CREATE:
		if (from != PROC_SMTP || msg_get_u64(m, &reqid) == -1 ||
		    msg_end(m) == -1)
			queue_bad(m, from, "malformed");
		queue_create(q, peer, reqid);
		break;
	case MSG_QUEUE_COMMIT:
		if (from != PROC_SMTP)
			queue_bad(m, from, "not from smtp");
		queue_commit(q, peer, m);
		break;
	case MSG_QUEUE_ABORT:
		if (from != PROC_SMTP)
			queue_bad(m, from, "not from smtp");
		queue_abort(q, peer, m);
		break;
	case MSG_LOOKUP_RESOLVE_RESULT:
		if (from != PROC_LOOKUP)
			queue_bad(m, from, "not from lookup");
		queue_resolve_result(q, from, m);
		break;
	case MSG_LOOKUP_SIGN_RESULT:
		if (from != PROC_LOOKUP)
			queue_bad(m, from, "not from lookup");
		queue_sign_result(q, m);
		break;
	case MSG_QUEUE_INJECT:
		if (from != PROC_LOOKUP)
			queue_bad(m, from, "not from lookup");
		queue_inject(q, m);
		break;
	case MSG_MDA_RESULT:
		if (from != PROC_MDA)
			queue_bad(m, from, "not from mda");
		queue_mda_result(q, from, m);
		break;
	case MSG_MTA_RESULT:
		if (from != PROC_MTA)
			queue_bad(m, from, "not from mta");
		queue_mta_result(q, from, m);
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
 * The smtp worker that held some of our in-flight files is gone: nobody
 * will commit them.  Commits already in the batch still complete (the
 * client got no 250 and may send again: a duplicate at worst, never a
 * loss).  Other workers' files are theirs still.
 */
static void
queue_smtp_gone(struct queue_role *q, unsigned worker)
{
	struct queue_incoming	*in;
	size_t			 i, n = 0;

	i = 0;
	while (i < q->nincoming) {
		in = q->incoming[i];
		if (in->from.worker != worker) {
			i++;
			continue;
		}
		if (in->committing) {
			in->orphan = true;
			i++;
			continue;
		}
		queue_incoming_abort(q, in);	/* moves the last into i */
		n++;
	}
	if (n > 0)
		log_info("queue: smtp/%u went away, %zu files aborted", worker,
		    n);
}

static void
queue_peer_down(struct proc_self *self, struct proc_peer p)
{
	if (p.id == PROC_SMTP)
		queue_smtp_gone(self->role, p.worker);
	else if (p.id == PROC_LOOKUP || p.id == PROC_MDA || p.id == PROC_MTA)
		queue_peer_lost(self->role, p.id);
}

/*
 * A channel to an smtp worker given at run time means a new process for
 * that worker; the parent may hand it over before we read the old
 * channel's end, and the old channel is then dropped without a peer_down.
 */
static void
queue_peer_up(struct proc_self *self, struct proc_peer p)
{
	if (p.id == PROC_SMTP)
		queue_smtp_gone(self->role, p.worker);
	else if (p.id == PROC_LOOKUP || p.id == PROC_MDA || p.id == PROC_MTA)
		queue_peer_lost(self->role, p.id);
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
	struct queue_msg		*qm, *next;

	q->self = self;
	q->conf = self->conf;
	q->hold = self->conf->delivery.hold;
	q->wake_at = INT64_MAX;
	/*
	 * Request ids that a restarted queue will not make again, so that a
	 * late answer meant for the previous process matches nothing.
	 */
	q->next_reqid = queue_wall_ms() << 16;
	TAILQ_INIT(&q->msgs);
	TAILQ_INIT(&q->ready);
	TAILQ_INIT(&q->waitq);
	TAILQ_INIT(&q->outq);
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
	    NULL || (q->ev_run = evtimer_new(self->base, queue_run, q)) ==
	    NULL || (q->ev_wake = evtimer_new(self->base, queue_wake_run, q)) ==
	    NULL)
		fatalx("queue: evtimer_new");
	/*
	 * What the spool held at start is tried again now; a bounce owed
	 * (a crash came between a failure and its bounce) is made now.
	 */
	for (qm = TAILQ_FIRST(&q->msgs); qm != NULL; qm = next) {
		next = TAILQ_NEXT(qm, entry);
		queue_rt_grow(qm);
		queue_dedupe_load(qm);
		if (queue_msg_owes_bounce(qm))
			queue_msg_settle(q, qm);
		else
			queue_msg_schedule(q, qm);
	}
	if (q->hold)
		log_info("queue: delivery-hold: nothing is delivered");
	self->role = q;
	self->dispatch = queue_dispatch;
	self->peer_up = queue_peer_up;
	self->peer_down = queue_peer_down;
	proc_run(self);
}
