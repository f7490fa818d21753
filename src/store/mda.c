/*
 * mda: the mda role, local delivery.  It runs as the owner of the
 * mailboxes, chrooted in mail-dir (chdir'ed there when cachetd is not
 * root), so every path it uses is relative: "<domain>/<local>" for a
 * Maildir, "<domain>/<local>/mbox" for an mbox (mailbox_path()).
 *
 * For each MSG_MDA_DELIVER from the queue it checks the quota, creates
 * the Maildir and its standard folders on the first delivery, writes the
 * message with Return-Path: and Delivered-To: in front (maildir.c:
 * tmp/, fsync, rename into new/, fsync new/; mbox.c: locked append,
 * fsync, truncated back on failure), and answers MSG_MDA_RESULT.  It
 * says "delivered" only after the data and its name are on disk.  The
 * requests that arrive together are delivered together, so that one
 * fsync of a new/ covers all of them, and the writes and fsyncs run on
 * a pool of delivery-workers threads (mda_batch_run()).  The
 * size of a mailbox with a quota goes to lookup (MSG_LOOKUP_USAGE), which
 * then refuses recipients over quota at RCPT.
 *
 * Trust: the queue is a sibling that owns no mailbox; every field of its
 * request is bounded and the mailbox path checked against the form
 * lookup makes (mda_mailbox_valid()).  A malformed request is fatal (the
 * parent restarts us).  The message bytes are the queue's file, read
 * through the descriptor that came with the request.  No program is run
 * for any recipient: there is no delivery to a pipe.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "maildir.h"
#include "mbox.h"
#include "mda.h"
#include "pool.h"
#include "proc.h"
#include "qid.h"
#include "lookup/resolve.h"
#include "mailbox.h"
#include "util.h"

#define MDA_USAGE_SLOTS		256	/* mailboxes whose size we cache */
/*
 * A cached size is trusted this long; after that the mailbox is measured
 * again, which also sees what pop3 and imap removed in between.
 */
#define MDA_USAGE_TTL_MS	(60 * 1000)
#define MDA_ADDR_MAX		1000	/* sender, rcpt: the spool's string bound */
#define MDA_TLSRPT_PEEK		16384	/* header octets for TLS-RPT */

struct mda_usage {
	char		mailbox[RESOLVE_MAILBOX_MAX + 1];	/* "" free */
	uint64_t	bytes;
	uint64_t	when_ms;
};

struct mda_role;

/* One MSG_MDA_DELIVER, as read, and how far its delivery got. */
struct mda_job {
	struct pool_job		 pj;	/* first: the pool's view of it */
	struct mda_role		*role;
	TAILQ_ENTRY(mda_job)	 entry;
	uint64_t		 reqid;
	char			 id[QID_SIZE];
	char			*sender;
	char			*rcpt;
	char			 owner[MAILBOX_ADDR_MAX + 1];
	char			 mailbox[RESOLVE_MAILBOX_MAX + 1];
	enum mailbox_format	 format;
	int64_t			 quota;		/* -1 none */
	uint64_t		 msglen;
	int			 fd;
	uint64_t		 t0;		/* ms, for delay_ms */
	size_t			 plen;		/* prepended bytes */
	char			 show[MDA_ADDR_MAX / 4]; /* rcpt */
	bool			 answered;
	bool			 reserved;	/* size added to usage */
	bool			 synced;	/* its new/ was fsync'ed */
	bool			 leader;	/* syncs new/ for the batch */
	struct maildir_pending	*pd;		/* Maildir, under way */
	/* MSG_MDA_DELIVER's header fields for the top (msgauth.h) */
	char			*authhdrs;
	size_t			 authlen;
	bool			 junk;		/* into the Junk folder */
	char			 target[RESOLVE_MAILBOX_MAX + 8];
	char			 prepend[MDA_PREPEND_MAX + MSG_PREPEND_MAX];
	/* What a worker's step did: rc, errno and the error string. */
	int			 rc;
	int			 err_no;
	const char		*err;
};
TAILQ_HEAD(mda_jobs, mda_job);

/* Where the batch under way is (mda_batch_run()). */
enum mda_phase {
	MDA_PHASE_IDLE,
	MDA_PHASE_PREPARE,	/* workers write+fsync in tmp/ */
	MDA_PHASE_SYNC,		/* workers fsync each new/ */
};

struct mda_role {
	struct proc_self	*self;
	const struct conf	*conf;
	struct mda_usage	 usage[MDA_USAGE_SLOTS];
	uint64_t		 delivered;
	struct mda_jobs		 pending;	/* not yet in a batch */
	struct mda_jobs		 batch;		/* under way */
	enum mda_phase		 phase;
	struct event		*ev_batch;
	struct pool		*pool;
};

/* --- the pure parts (mda.h) --- */

static bool
mda_domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.';
}

bool
mda_mailbox_valid(const char *mailbox, enum mailbox_format format)
{
	const char	*slash, *local, *end;
	size_t		 len, i;

	len = strnlen(mailbox, RESOLVE_MAILBOX_MAX + 1);
	if (len == 0 || len > RESOLVE_MAILBOX_MAX)
		return false;
	if ((slash = strchr(mailbox, '/')) == NULL || slash == mailbox)
		return false;
	/* The domain: lower-case LDH labels, as users.c stores it. */
	for (i = 0; mailbox + i < slash; i++)
		if (!mda_domain_char(mailbox[i]))
			return false;
	if (mailbox[0] == '.' || slash[-1] == '.' ||
	    strstr(mailbox, "..") != NULL)
		return false;
	local = slash + 1;
	end = strchr(local, '/');
	if (format == MAILBOX_FORMAT_MBOX) {
		if (end == NULL || strcmp(end, "/mbox") != 0)
			return false;
	} else if (end != NULL)
		return false;
	if (end == NULL)
		end = mailbox + len;
	/* A dot-atom cannot start with '.', so neither "." nor "..". */
	if (end == local || local[0] == '.')
		return false;
	return true;
}

static void
mda_copy_clean(char *out, size_t *o, size_t outsz, const char *s)
{
	unsigned char	c;

	for (; *s != '\0' && *o + 1 < outsz; s++) {
		c = (unsigned char)*s;
		out[(*o)++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
}

size_t
mda_prepend(char *out, size_t outsz, const char *sender, const char *rcpt)
{
	size_t	o = 0, need;

	need = strlen("Return-Path: <>\nDelivered-To: \n") + strlen(sender) +
	    strlen(rcpt);
	if (need >= outsz)
		return 0;
	memcpy(out, "Return-Path: <", 14);
	o = 14;
	mda_copy_clean(out, &o, outsz, sender);
	memcpy(out + o, ">\nDelivered-To: ", 16);
	o += 16;
	mda_copy_clean(out, &o, outsz, rcpt);
	out[o++] = '\n';
	out[o] = '\0';
	return o;
}

void
mda_errno_result(int err, const char **enh_out, const char **text_out)
{
	switch (err) {
	case ENOSPC:
		/* RFC 3463 §3.4: X.3.1 mail system full. */
		*enh_out = "4.3.1";
		*text_out = "Insufficient system storage";
		break;
	case EDQUOT:
		/* The file system's quota of the mailboxes' owner. */
		*enh_out = "4.2.2";
		*text_out = "Mailbox full (file system quota)";
		break;
	case EAGAIN:
	case ETIMEDOUT:
		/* mbox.c's lock timeout: X.2.0, the mailbox is busy. */
		*enh_out = "4.2.0";
		*text_out = "Mailbox locked, try again later";
		break;
	default:
		*enh_out = "4.3.0";
		*text_out = "Local delivery failed";
		break;
	}
}

bool
mda_quota_fits(int64_t quota, uint64_t usage, uint64_t msglen)
{
	uint64_t	total;

	if (quota < 0)
		return true;
	if (__builtin_add_overflow(usage, msglen, &total))
		return false;
	return total <= (uint64_t)quota;
}

/* --- mailbox sizes --- */

static struct mda_usage *
mda_usage_slot(struct mda_role *m, const char *mailbox)
{
	struct mda_usage	*u, *empty = NULL, *oldest = NULL, *victim;
	size_t			 i;

	for (i = 0; i < MDA_USAGE_SLOTS; i++) {
		u = &m->usage[i];
		if (u->mailbox[0] == '\0') {
			if (empty == NULL)
				empty = u;
		} else if (strcmp(u->mailbox, mailbox) == 0)
			return u;
		else if (oldest == NULL || u->when_ms < oldest->when_ms)
			oldest = u;
	}
	victim = empty != NULL ? empty : oldest;
	(void)str_copy(victim->mailbox, sizeof(victim->mailbox), mailbox);
	victim->when_ms = 0;	/* not measured yet */
	victim->bytes = 0;
	return victim;
}

/*
 * The size of a mailbox in bytes: the cached figure while fresh, else
 * measured.  A mailbox that does not exist yet holds 0 bytes.
 */
static int
mda_usage_get(struct mda_role *m, const struct mda_job *job,
    uint64_t *bytes_out)
{
	struct mda_usage	*u;
	struct stat		 st;
	const char		*err = NULL;
	char			 sub[RESOLVE_MAILBOX_MAX + 8];
	uint64_t		 now = now_ms(), bytes = 0;

	u = mda_usage_slot(m, job->mailbox);
	if (u->when_ms != 0 && now - u->when_ms < MDA_USAGE_TTL_MS) {
		*bytes_out = u->bytes;
		return 0;
	}
	if (job->format == MAILBOX_FORMAT_MBOX) {
		if (stat(job->mailbox, &st) == 0)
			bytes = (uint64_t)st.st_size;
		else if (errno != ENOENT)
			return -1;
	} else {
		(void)snprintf(sub, sizeof(sub), "%s/new", job->mailbox);
		if (stat(sub, &st) == 0) {
			if (maildir_usage(job->mailbox, &bytes, &err) == -1) {
				log_warn("mda: usage of %s: %s", job->mailbox,
				    err != NULL ? err : "failed");
				return -1;
			}
		} else if (errno != ENOENT)
			return -1;
	}
	u->bytes = bytes;
	u->when_ms = now;
	*bytes_out = bytes;
	return 0;
}

static void
mda_usage_add(struct mda_role *m, const struct mda_job *job, uint64_t n)
{
	struct mda_usage	*u = mda_usage_slot(m, job->mailbox);

	if (u->when_ms != 0)
		u->bytes += n;
}

/* Take back what mda_usage_add() counted for a delivery that failed. */
static void
mda_usage_sub(struct mda_role *m, const struct mda_job *job, uint64_t n)
{
	struct mda_usage	*u = mda_usage_slot(m, job->mailbox);

	if (u->when_ms != 0)
		u->bytes = u->bytes > n ? u->bytes - n : 0;
}

static void
mda_usage_report(struct mda_role *m, const struct mda_job *job)
{
	struct mda_usage	*u = mda_usage_slot(m, job->mailbox);
	struct msg		*r;

	if (u->when_ms == 0)
		return;
	r = msg_new(MSG_LOOKUP_USAGE);
	msg_put_str(r, job->owner);
	msg_put_u64(r, u->bytes);
	(void)proc_send(m->self, PROC_LOOKUP, r);
}

/* --- delivery --- */

/* fsync a directory, so that a name just made in it survives a crash. */
static int
mda_sync_dir(const char *path)
{
	int	fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Make the directories of a new mailbox durable: the mailbox itself, its
 * domain and mail-dir, each of which may have just got a new entry.
 */
static int
mda_sync_parents(const char *dir)
{
	char	path[RESOLVE_MAILBOX_MAX + 1], *slash;

	if (str_copy(path, sizeof(path), dir) == -1)
		return -1;
	for (;;) {
		if (mda_sync_dir(path) == -1)
			return -1;
		if ((slash = strrchr(path, '/')) == NULL)
			break;
		*slash = '\0';
	}
	return mda_sync_dir(".");
}

/*
 * Before a Maildir delivery goes to a worker: the first one makes the
 * Maildir and its folders, in the loop thread, so that two workers never
 * race to make the same one.
 */
static int
mda_make_maildir(struct mda_job *job, const char **errstr_out)
{
	struct stat	st;
	char		sub[RESOLVE_MAILBOX_MAX + 8];

	(void)snprintf(sub, sizeof(sub), "%s/new", job->mailbox);
	if (stat(sub, &st) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (maildir_create(job->mailbox, errstr_out) == -1)
		return -1;
	if (mda_sync_parents(job->mailbox) == -1) {
		*errstr_out = "sync of the new mailbox";
		return -1;
	}
	log_info("event=mailbox-created mailbox=%s format=maildir",
	    job->mailbox);
	return 0;
}

static int
mda_deliver_mbox(const struct mda_job *job, const char **errstr_out)
{
	struct stat	st;
	char		dir[RESOLVE_MAILBOX_MAX + 1], *slash;

	(void)str_copy(dir, sizeof(dir), job->mailbox);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || mkdir_p(dir, 0700) == -1 ||
		    mda_sync_parents(dir) == -1) {
			*errstr_out = "cannot make the mailbox directory";
			return -1;
		}
		log_info("event=mailbox-created mailbox=%s format=mbox",
		    job->mailbox);
	}
	if (mbox_deliver(job->mailbox, job->sender, time(NULL), job->prepend,
	    job->plen, job->fd, job->msglen, errstr_out) == -1)
		return -1;
	return 0;
}

static void
mda_answer(struct mda_role *m, struct mda_job *job, enum mda_result result,
    const char *enh, const char *text)
{
	struct msg	*r;

	r = msg_new(MSG_MDA_RESULT);
	msg_put_u64(r, job->reqid);
	msg_put_u32(r, (uint32_t)result);
	msg_put_str(r, enh);
	msg_put_str(r, text);
	(void)proc_send(m->self, PROC_QUEUE, r);
	job->answered = true;
}

/*
 * A delivery failed with errno saved (0 when there is none to tell):
 * whatever of it is on disk goes, and the queue hears a temporary
 * failure.
 */
static void
mda_fail(struct mda_role *m, struct mda_job *job, int saved, const char *err)
{
	const char	*enh, *text;
	char		 reply[256];

	if (job->pd != NULL)
		maildir_abort(job->pd);
	if (job->reserved) {
		mda_usage_sub(m, job, job->msglen + job->plen);
		job->reserved = false;
	}
	mda_errno_result(saved, &enh, &text);
	log_warnx("id=%s event=deferred to=<%s> mailbox=%s "
	    "reason=\"%s%s%s\"", job->id, job->show, job->mailbox,
	    err != NULL ? err : "failed", saved != 0 ? ": " : "",
	    saved != 0 ? strerror(saved) : "");
	(void)snprintf(reply, sizeof(reply), "%s%s%s", text,
	    saved != 0 ? ": " : "", saved != 0 ? strerror(saved) : "");
	mda_answer(m, job, MDA_TEMPFAIL, enh, reply);
}

/* Delivered: the data and its name are on disk. */
/*
 * RFC 8460 §5.3: a report mailed to one of our rua addresses is a
 * multipart/report with report-type=tlsrpt; a DMARC aggregate report
 * (RFC 7489 §7.2.1.1) has a Subject of "Report Domain: ..." and a
 * failure report (RFC 6591) is a multipart/report with
 * report-type=feedback-report.  We parse nothing here (a privileged
 * role): a message whose header section (its first MDA_TLSRPT_PEEK
 * octets) mentions "tlsrpt", "dmarc", "Report Domain" or
 * "feedback-report" anywhere goes to lookup, which parses it
 * (lookup_tlsrpt.h, lookup_dmarcrep.h) and drops what is not a report.
 */
static void
mda_tlsrpt_offer(struct mda_role *m, const struct mda_job *job)
{
	char		 head[MDA_TLSRPT_PEEK + 1], *end;
	struct msg	*r;
	ssize_t		 n;
	int		 fd;

	if ((n = pread(job->fd, head, sizeof(head) - 1, 0)) <= 0)
		return;
	head[n] = '\0';
	if ((end = strstr(head, "\n\r\n")) != NULL ||
	    (end = strstr(head, "\n\n")) != NULL)
		*end = '\0';
	if (strcasestr(head, "tlsrpt") == NULL &&
	    strcasestr(head, "dmarc") == NULL &&
	    strcasestr(head, "report domain") == NULL &&
	    strcasestr(head, "feedback-report") == NULL)
		return;
	if ((fd = dup(job->fd)) == -1)
		return;
	r = msg_new(MSG_LOOKUP_TLSRPT_MAIL);
	msg_put_u64(r, job->msglen);
	msg_put_fd(r, fd);
	(void)proc_send(m->self, PROC_LOOKUP, r);
}

static void
mda_done(struct mda_role *m, struct mda_job *job)
{
	m->delivered++;
	if (job->pd != NULL)
		log_debug("id=%s event=maildir-file mailbox=%s file=new/%s",
		    job->id, job->mailbox, job->pd->name);
	log_info("id=%s event=delivered to=<%s> mailbox=%s format=%s "
	    "size=%llu delay_ms=%llu", job->id, job->show, job->mailbox,
	    mailbox_format_name(job->format), (unsigned long long)job->msglen,
	    (unsigned long long)(now_ms() - job->t0));
	if (job->quota >= 0) {
		if (!job->reserved)
			mda_usage_add(m, job, job->msglen + job->plen);
		mda_usage_report(m, job);
	}
	mda_tlsrpt_offer(m, job);
	mda_answer(m, job, MDA_DELIVERED, "2.0.0", "Delivered");
}

/*
 * The first part of a delivery, in the loop thread: the quota, then an
 * mbox delivery whole (one at a time, under its lock: fcntl locks are
 * the process's, so two threads would not exclude each other), or a
 * Maildir made ready for a worker.  Whatever ends here is answered here.
 */
static void
mda_begin(struct mda_role *m, struct mda_job *job)
{
	const char	*err = NULL, *enh, *text;
	uint64_t	 usage = 0;
	int		 rc, saved;

	(void)printable(job->rcpt, strlen(job->rcpt), job->show,
	    sizeof(job->show));
	if (job->quota >= 0) {
		if (mda_usage_get(m, job, &usage) == -1) {
			saved = errno;
			log_warnx("id=%s event=deferred to=<%s> reason=\"usage "
			    "of %s: %s\"", job->id, job->show, job->mailbox,
			    strerror(saved));
			mda_errno_result(saved, &enh, &text);
			mda_answer(m, job, MDA_TEMPFAIL, enh, text);
			return;
		}
		if (!mda_quota_fits(job->quota, usage,
		    job->msglen + job->authlen)) {
			mda_usage_report(m, job);
			log_info("id=%s event=over-quota to=<%s> user=%s "
			    "usage=%llu quota=%lld size=%llu", job->id,
			    job->show, job->owner, (unsigned long long)usage,
			    (long long)job->quota,
			    (unsigned long long)job->msglen + job->authlen);
			/* RFC 3463 §3.3: X.2.2 mailbox full. */
			if (m->conf->delivery.quota_exceeded ==
			    CONF_QUOTA_REJECT)
				mda_answer(m, job, MDA_PERMFAIL, "5.2.2",
				    "Mailbox full");
			else
				mda_answer(m, job, MDA_TEMPFAIL, "4.2.2",
				    "Mailbox full");
			return;
		}
	}
	if ((job->plen = mda_prepend(job->prepend, MDA_PREPEND_MAX,
	    job->sender, job->rcpt)) == 0)
		fatalx("mda: envelope strings longer than checked");
	/* Then the Authentication-Results and signatures (msgauth.h). */
	memcpy(job->prepend + job->plen, job->authhdrs, job->authlen);
	job->plen += job->authlen;
	/*
	 * DMARC quarantine: the Junk folder the mailbox was made with
	 * (maildir.h); an mbox has no folders and takes it as it is.
	 */
	(void)snprintf(job->target, sizeof(job->target), "%s%s",
	    job->mailbox, job->junk && job->format == MAILBOX_FORMAT_MAILDIR ?
	    "/.Junk" : "");
	errno = 0;
	if (job->format == MAILBOX_FORMAT_MBOX)
		rc = mda_deliver_mbox(job, &err);
	else
		rc = mda_make_maildir(job, &err);
	if (rc == -1) {
		mda_fail(m, job, errno, err);
		return;
	}
	if (job->format == MAILBOX_FORMAT_MBOX) {
		mda_done(m, job);
		return;
	}
	/*
	 * Counted now, so that the next message of the batch for this
	 * mailbox sees it as today a message delivered before would be.
	 */
	if (job->quota >= 0) {
		mda_usage_add(m, job, job->msglen + job->plen);
		job->reserved = true;
	}
}

/*
 * Group delivery, as the queue's group commit (queue.c).  The requests
 * that arrived since the last batch form the next one, in three steps:
 * the pool's workers write and fsync each Maildir message in tmp/ (in
 * parallel: these fsyncs are most of the cost of a delivery); the loop
 * thread renames each into new/; the workers fsync each distinct new/
 * once, which covers every rename into it.  Nobody hears "delivered"
 * before that fsync returned 0; a failure fails only the messages it
 * touches, each of which is taken back and answered on its own.  One
 * batch is under way at a time; what arrives meanwhile waits for the
 * next.
 */
static void	mda_batch_prepared(struct mda_role *);
static void	mda_batch_synced(struct mda_role *);

/* In a worker: the message written and fsync'ed in tmp/. */
static void
mda_prepare_run(struct pool_job *pj, void *local)
{
	struct mda_job	*job = (struct mda_job *)pj;

	(void)local;
	errno = 0;
	job->err = NULL;
	job->rc = maildir_prepare(job->target, job->prepend, job->plen,
	    job->fd, job->msglen, job->pd, &job->err);
	job->err_no = errno;
}

/* In a worker: one fsync of new/ for the batch's renames into it. */
static void
mda_sync_run(struct pool_job *pj, void *local)
{
	struct mda_job	*job = (struct mda_job *)pj;

	(void)local;
	errno = 0;
	job->err = NULL;
	job->rc = maildir_sync_new(job->target, &job->err);
	job->err_no = errno;
}

static void
mda_step_done(struct pool_job *pj)
{
	struct mda_role	*m = ((struct mda_job *)pj)->role;

	/* The pool counts this one done already: wait for the rest. */
	if (pool_pending(m->pool) > 0)
		return;
	if (m->phase == MDA_PHASE_PREPARE)
		mda_batch_prepared(m);
	else
		mda_batch_synced(m);
}

static void
mda_submit(struct mda_role *m, struct mda_job *job,
    void (*run)(struct pool_job *, void *))
{
	job->pj.run = run;
	job->pj.done = mda_step_done;
	pool_submit(m->pool, &job->pj);
}

static void
mda_batch_run(evutil_socket_t fd, short what, void *arg)
{
	struct mda_role	*m = arg;
	struct mda_job	*job;

	(void)fd;
	(void)what;
	if (m->phase != MDA_PHASE_IDLE || TAILQ_EMPTY(&m->pending))
		return;
	TAILQ_CONCAT(&m->batch, &m->pending, entry);
	m->phase = MDA_PHASE_PREPARE;
	TAILQ_FOREACH(job, &m->batch, entry) {
		mda_begin(m, job);
		if (job->answered)
			continue;
		job->pd = xcalloc(1, sizeof(*job->pd));
		mda_submit(m, job, mda_prepare_run);
	}
	if (pool_pending(m->pool) == 0)
		mda_batch_prepared(m);
}

/* Every prepare is back: rename each into new/, then sync each new/. */
static void
mda_batch_prepared(struct mda_role *m)
{
	struct mda_job	*job, *o;
	const char	*err;

	TAILQ_FOREACH(job, &m->batch, entry) {
		if (job->answered)
			continue;
		if (job->rc == -1) {
			mda_fail(m, job, job->err_no, job->err);
			continue;
		}
		err = NULL;
		if (maildir_commit(job->pd, &err) == -1)
			mda_fail(m, job, errno, err);
	}
	m->phase = MDA_PHASE_SYNC;
	TAILQ_FOREACH(job, &m->batch, entry) {
		if (job->answered || job->synced)
			continue;
		/* The first message of each Maildir syncs it for all. */
		for (o = job; o != NULL; o = TAILQ_NEXT(o, entry))
			if (!o->answered && strcmp(o->target,
			    job->target) == 0)
				o->synced = true;
		job->leader = true;
		mda_submit(m, job, mda_sync_run);
	}
	if (pool_pending(m->pool) == 0)
		mda_batch_synced(m);
}

static void
mda_batch_synced(struct mda_role *m)
{
	struct timeval	 tv = { 0, 0 };
	struct mda_job	*job, *o;
	size_t		 n = 0, syncs = 0;

	TAILQ_FOREACH(job, &m->batch, entry) {
		n++;
		if (!job->leader)
			continue;
		syncs++;
		for (o = job; o != NULL; o = TAILQ_NEXT(o, entry)) {
			if (o->answered || strcmp(o->target,
			    job->target) != 0)
				continue;
			/*
			 * A failed directory fsync may be reported once only,
			 * so a later success proves nothing: none of the
			 * renames it covered may stay.
			 */
			if (job->rc == -1)
				mda_fail(m, o, job->err_no, job->err);
			else
				mda_done(m, o);
		}
	}
	log_debug("mda: batch deliveries=%zu syncs=%zu", n, syncs);
	while ((job = TAILQ_FIRST(&m->batch)) != NULL) {
		TAILQ_REMOVE(&m->batch, job, entry);
		if (!job->answered)
			fatalx("mda: a delivery left unanswered");
		close(job->fd);
		free(job->pd);
		free(job->sender);
		free(job->rcpt);
		free(job->authhdrs);
		free(job);
	}
	m->phase = MDA_PHASE_IDLE;
	/* What came in meanwhile is the next batch. */
	if (!TAILQ_EMPTY(&m->pending) && !evtimer_pending(m->ev_batch, NULL))
		evtimer_add(m->ev_batch, &tv);
}

static struct mda_role	*mda_self;	/* for mda_atexit() */

/*
 * An exit in the middle of a batch (fatalx() on a sibling's bad
 * message, the parent gone): the messages renamed into new/ but not
 * answered are taken back, so that the queue's retry does not deliver
 * them twice.  Only while syncing: then no worker touches a pd.
 */
static void
mda_atexit(void)
{
	struct mda_job	*job;

	if (mda_self == NULL || mda_self->phase != MDA_PHASE_SYNC)
		return;
	TAILQ_FOREACH(job, &mda_self->batch, entry)
		if (!job->answered && job->pd != NULL)
			maildir_abort(job->pd);
}

static void __attribute__((noreturn))
mda_bad(struct msg *msg, enum proc_id from, const char *why)
{
	fatalx("mda: bad %s from %s: %s", msg_name(msg->type),
	    proc_name(from), why);
}

/* MSG_MDA_DELIVER, ipc.h has the layout. */
static void
mda_get_job(struct msg *msg, enum proc_id from, struct mda_job *job)
{
	uint64_t	quota;
	uint32_t	format, flags;

	if (msg_get_u64(msg, &job->reqid) == -1 ||
	    msg_get_str(msg, job->id, sizeof(job->id)) == -1 ||
	    !qid_valid(job->id))
		mda_bad(msg, from, "id");
	if (msg_get_strdup(msg, MDA_ADDR_MAX, &job->sender) == -1 ||
	    msg_get_strdup(msg, MDA_ADDR_MAX, &job->rcpt) == -1 ||
	    job->rcpt[0] == '\0')
		mda_bad(msg, from, "addresses");
	if (msg_get_str(msg, job->owner, sizeof(job->owner)) == -1 ||
	    msg_get_str(msg, job->mailbox, sizeof(job->mailbox)) == -1 ||
	    msg_get_u32(msg, &format) == -1 || format > MAILBOX_FORMAT_MBOX)
		mda_bad(msg, from, "mailbox");
	job->format = (enum mailbox_format)format;
	if (!mda_mailbox_valid(job->mailbox, job->format))
		mda_bad(msg, from, "mailbox path");
	if (msg_get_u64(msg, &quota) == -1 ||
	    (quota != UINT64_MAX && quota > INT64_MAX) ||
	    msg_get_u64(msg, &job->msglen) == -1 ||
	    msg_get_strdup(msg, MSG_PREPEND_MAX, &job->authhdrs) == -1 ||
	    msg_get_u32(msg, &flags) == -1 ||
	    (flags & ~MSG_COMMIT_F_ALL) != 0 || msg_end(msg) == -1)
		mda_bad(msg, from, "short");
	job->authlen = strlen(job->authhdrs);
	job->junk = (flags & MSG_COMMIT_F_JUNK) != 0;
	job->quota = quota == UINT64_MAX ? -1 : (int64_t)quota;
	if ((job->fd = msg_take_fd(msg)) == -1)
		mda_bad(msg, from, "no message descriptor");
}

static void
mda_dispatch(struct proc_self *self, struct proc_peer peer, struct msg *msg)
{
	enum proc_id	 from = peer.id;
	struct mda_role	*m = self->role;
	struct mda_job	*job;
	struct timeval	 tv = { 0, 0 };

	switch (msg->type) {
	case MSG_MDA_DELIVER:
		if (from != PROC_QUEUE)
			mda_bad(msg, from, "not from queue");
		job = xcalloc(1, sizeof(*job));
		job->role = m;
		job->fd = -1;
		job->t0 = now_ms();
		mda_get_job(msg, from, job);
		TAILQ_INSERT_TAIL(&m->pending, job, entry);
		/*
		 * A zero timeout runs the batch after this turn's events,
		 * so that the deliveries that came together share the
		 * fsync of their new/.  A batch under way starts the next
		 * when it ends.
		 */
		if (m->phase == MDA_PHASE_IDLE &&
		    !evtimer_pending(m->ev_batch, NULL))
			evtimer_add(m->ev_batch, &tv);
		break;
	default:
		mda_bad(msg, from, "unexpected");
	}
	msg_free(msg);
}

void
mda_main(struct proc_self *self)
{
	static struct mda_role	role;

	role.self = self;
	role.conf = self->conf;
	self->role = &role;
	self->dispatch = mda_dispatch;
	TAILQ_INIT(&role.pending);
	TAILQ_INIT(&role.batch);
	if ((role.ev_batch = evtimer_new(self->base, mda_batch_run,
	    &role)) == NULL)
		fatalx("mda: evtimer_new");
	/* Mailboxes are the user's alone: 0700 directories, 0600 files. */
	umask(077);
	proc_drop(self);
	mda_self = &role;
	if (atexit(mda_atexit) != 0)
		fatalx("mda: atexit");
	role.pool = pool_start(self->base, "mda",
	    self->conf->delivery.workers, NULL, NULL);
	log_debug("mda: ready mail-dir=%s workers=%u", self->dir_path,
	    self->conf->delivery.workers);
	proc_run(self);
}
