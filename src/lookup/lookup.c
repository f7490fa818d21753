/*
 * lookup: the lookup role, the only holder of secrets.  It owns the users
 * database (state-dir/lookup/cachet.db) and answers the smtp role's
 * questions (AUTH password checks, may this user send as that sender, is
 * this recipient ours), the queue's (where does this recipient's mail go:
 * resolve.c) and the user, domain and alias verbs of cachetctl that the
 * parent forwards.  It keeps the mailbox sizes the mda reports, to refuse
 * a recipient over quota at RCPT.
 *
 * It trusts the parent; smtp is a sibling whose framing we trust but whose
 * strings came from the network, so every string is bounded and made
 * printable before it is logged.  Password hashing (yescrypt, tens of
 * milliseconds) runs on a small fixed pool of worker threads (pool.c),
 * each with its own database connection; a worker touches only its job
 * and its connection: no libevent, no logging.  The quick
 * indexed queries (RCPT, MAIL, listings) run in the loop thread on a third
 * connection.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "ipc.h"
#include "keyproxy.h"
#include "log.h"
#include "metrics.h"
#include "lookup_bayes.h"
#include "lookup_dmarc.h"
#include "lookup_greylist.h"
#include "lookup/lookup_acme.h"
#include "lookup/lookup_tls.h"
#include "lookup_mx.h"
#include "lookup_prescreen.h"
#include "lookup_spam.h"
#include "lookup_spamtrain.h"
#include "lookup_sts.h"
#include "lookup_dkimsign.h"
#include "lookup_dnsrec.h"
#include "lookup_dmarcrep.h"
#include "lookup_msgauth.h"
#include "lookup_spf.h"
#include "lookup_srs.h"
#include "lookup_tlsrpt.h"
#include "msgauth.h"
#include "mime_decode.h"
#include "pool.h"
#include "proc.h"
#include "resolve.h"
#include "sasl.h"
#include "tls.h"
#include "users.h"
#include "util.h"

#define LOOKUP_DB		USERS_DB_NAME	/* relative: after proc_drop */
#define LOOKUP_BAYES_DB		"bayes.db"	/* spam tokens */
#define LOOKUP_WORKERS		2
#define LOOKUP_JOBS_MAX		512	/* waiting, hashing or delayed */
#define LOOKUP_IP_MAX		64	/* INET6_ADDRSTRLEN and then some */
/* Longest AUTH name we look up; longer ones fail (after a dummy hash). */
#define LOOKUP_AUTH_NAME_MAX	MAILBOX_ADDR_MAX
/* "local@domain" as smtp formats it (RFC 5321 §4.5.3.1.1, §4.5.3.1.2) */
#define LOOKUP_ADDR_MAX		(64 + 1 + 255)
/* A reverse-path as the spool keeps it (QUEUE_FS_STR_MAX) */
#define LOOKUP_SENDER_MAX	1000
/* smtp reads reply text into 256 bytes; stay well under. */
#define LOOKUP_TEXT_MAX		240
#define LOOKUP_SHOW_MAX		160	/* a peer string inside reply text */
#define LOOKUP_LOGNAME_MAX	100	/* a peer string in a log line */
#define LOOKUP_ERR_MAX		256
#define LOOKUP_REPORT_MAIL_MAX	(10 * 1024 * 1024) /* a TLS-RPT, DMARC report */
/* Failed AUTH per client IP: a bounded table, entries expire. */
#define LOOKUP_FAIL_SLOTS	1024
#define LOOKUP_FAIL_EXPIRE_MS	(15 * 60 * 1000)
#define LOOKUP_FAIL_FREE	2	/* failures answered without delay */
#define LOOKUP_DELAY_MAX	15	/* seconds */
/* cachetctl verbs; alias add takes as many targets as an aliases line */
#define LOOKUP_ALIAS_TARGETS_MAX	100
#define LOOKUP_CTL_ARGC_MAX	(3 + LOOKUP_ALIAS_TARGETS_MAX)
#define LOOKUP_CTL_ARG_MAX	1024
/* Mailbox sizes reported by the mda, for quotas at RCPT. */
#define LOOKUP_USAGE_SLOTS	4096
#define LOOKUP_QUOTA_MAX	(INT64_C(1) << 50)	/* a petabyte */
/*
 * The worst MSG_LOOKUP_RESOLVE_RESULT: every field of every destination
 * at its longest must fit one frame.
 */
_Static_assert(16 + 4 + SRS_ADDR_MAX + (RESOLVE_DESTS_MAX + 1) * (4 + 3 * 4 +
    MAILBOX_ADDR_MAX * 2 + RESOLVE_MAILBOX_MAX + 4 + 8 + 4 + 8 + 4 + 64 + 4) <=
    IPC_PAYLOAD_MAX,
    "a resolve result may not fit a frame");

enum lookup_job_kind {
	LOOKUP_JOB_AUTH,
	LOOKUP_JOB_APOP,	/* checked in the loop thread, answered as AUTH */
	LOOKUP_JOB_SCRAM,	/* the same */
	LOOKUP_JOB_USER_ADD,
	LOOKUP_JOB_USER_PASSWD,
};

struct lookup_role;

/*
 * One piece of work for the pool.  The loop thread fills it, a worker runs
 * it and writes the results, the loop thread answers and frees it.
 */
struct lookup_job {
	struct pool_job		 pj;	/* first: the pool's view of it */
	struct lookup_role	*role;
	enum lookup_job_kind	 kind;
	struct proc_peer	 from;
	uint64_t		 gen;	/* of the channel to from */
	uint64_t		 reqid;
	char			 ip[LOOKUP_IP_MAX];
	char			 logname[LOOKUP_LOGNAME_MAX];
	char			*user;	/* AUTH name or ctl address */
	char			*pass;	/* wiped and freed by the worker */
	size_t			 passlen;
	/* results, written by the worker */
	enum users_auth		 auth;
	unsigned char		 sig[SASL_SCRAM_HASH_LEN]; /* SCRAM */
	bool			 scram;		/* keys made (ctl) */
	int			 rc;
	char			 err[LOOKUP_ERR_MAX];
	/* an AUTH answer held back after repeated failures */
	struct event		*ev_delay;
	uint32_t		 answer;
};

struct lookup_fail {
	char		ip[LOOKUP_IP_MAX];	/* lookup_fail_key(); "" free */
	unsigned	count;
	uint64_t	last_ms;
};

/* The last size reported for a user's mailbox (MSG_LOOKUP_USAGE). */
struct lookup_usage {
	char		owner[MAILBOX_ADDR_MAX + 1];	/* "" free */
	uint64_t	bytes;
	uint64_t	when_ms;
};

struct lookup_role {
	struct proc_self	*self;
	struct conf		*conf;
	struct users		*db;	/* the loop thread's connection */
	/* Bumped when a peer comes or goes: late answers are dropped. */
	uint64_t		 gen[PROC_COUNT][PROC_WORKERS_MAX];

	struct pool		*pool;		/* AUTH hashing, ctl */
	struct lookup_tls	*tls;		/* the TLS key and its changes */
	struct lookup_acme	*acme;		/* NULL: no tls { acme } */
	struct lookup_dnsrec	*dnsrec;	/* cachetctl dns */
	size_t			 njobs;		/* alive, incl. delayed */

	struct lookup_fail	 fails[LOOKUP_FAIL_SLOTS];
	struct lookup_usage	*usage;		/* LOOKUP_USAGE_SLOTS */
	struct lookup_mx	*mx;		/* DNS for the mta */
	struct lookup_sts	*sts;		/* MTA-STS cache for the mta */
	struct lookup_tlsrpt	*tlsrpt;	/* TLS-RPT counts, reports */
	struct lookup_spf	*spf;		/* SPF for smtp */
	struct lookup_srs	*srs;		/* SRS secrets */
	struct msgauth_modules	 auth;		/* DKIM, ARC, DMARC */
	struct lookup_msgauth	*msgauth;	/* end of DATA, signing */
	struct lookup_prescreen	*prescreen;	/* DNSBL, DNS checks */
	struct lookup_greylist	*greylist;
	struct lookup_bayes	*bayes;		/* spam tokens */
	char			 err[LOOKUP_ERR_MAX];
};

/* What a cachetctl verb did. */
enum lookup_ctl_rc {
	LOOKUP_CTL_FAIL = -1,	/* END 1 with the error */
	LOOKUP_CTL_DONE = 0,	/* END 0 */
	LOOKUP_CTL_PENDING = 1,	/* a worker answers later */
};

struct lookup_verb {
	const char	*noun;
	const char	*verb;
	size_t		 argc;	/* noun and verb included */
	enum lookup_ctl_rc (*run)(struct lookup_role *, uint64_t reqid,
			    char **argv, const char **errstr_out);
};

/* --- answering --- */

static void
lookup_result(struct lookup_role *r, struct proc_peer to, uint64_t reqid,
    uint32_t code, const char *enh, const char *text)
{
	struct msg	*m;

	m = msg_new(MSG_LOOKUP_RESULT);
	msg_put_u64(m, reqid);
	msg_put_u32(m, code);
	msg_put_str(m, enh);
	msg_put_str(m, text);
	(void)proc_send_peer(r->self, to, m);
}

static void
lookup_ctl_line(struct lookup_role *r, uint64_t reqid, const char *line)
{
	proc_ctl_line(r->self, reqid, line);
}

static void
lookup_ctl_end(struct lookup_role *r, uint64_t reqid, uint32_t code,
    const char *err)
{
	proc_ctl_end(r->self, reqid, code, err);
}

/* --- the worker pool --- */

static void
lookup_job_free(struct lookup_job *job)
{
	if (job == NULL)
		return;
	if (job->pass != NULL) {
		explicit_bzero(job->pass, job->passlen);
		free(job->pass);
	}
	free(job->user);
	if (job->ev_delay != NULL)
		event_free(job->ev_delay);
	explicit_bzero(job->sig, sizeof(job->sig));
	job->role->njobs--;
	free(job);
}

static struct lookup_job *
lookup_job_new(struct lookup_role *r, enum lookup_job_kind kind,
    struct proc_peer from, uint64_t reqid)
{
	struct lookup_job	*job;

	job = xcalloc(1, sizeof(*job));
	job->role = r;
	job->kind = kind;
	job->from = from;
	job->gen = r->gen[from.id][from.worker];
	job->reqid = reqid;
	r->njobs++;
	return job;
}

/* Copy a password the worker will wipe; bytes, so it may hold anything. */
static void
lookup_job_set_pass(struct lookup_job *job, const char *p, size_t len)
{
	job->pass = xmalloc(len + 1);
	memcpy(job->pass, p, len);
	job->pass[len] = '\0';
	job->passlen = len + 1;
}

static void
lookup_copy_err(char *out, const char *err)
{
	(void)snprintf(out, LOOKUP_ERR_MAX, "%s",
	    err != NULL ? err : "unknown error");
}

/* In a worker thread: the slow part, with this thread's connection. */
static void
lookup_job_run(struct users *db, struct lookup_job *job)
{
	const char	*err = NULL;

	switch (job->kind) {
	case LOOKUP_JOB_AUTH:
		job->auth = users_check_password(db, job->user, job->pass);
		break;
	case LOOKUP_JOB_APOP:
	case LOOKUP_JOB_SCRAM:
		break;
	case LOOKUP_JOB_USER_ADD:
	case LOOKUP_JOB_USER_PASSWD:
		job->scram = users_scram_password_ok(job->pass);
		if (job->kind == LOOKUP_JOB_USER_ADD)
			job->rc = users_user_add(db, job->user, job->pass,
			    &err);
		else
			job->rc = users_user_passwd(db, job->user, job->pass,
			    &err);
		if (job->rc == -1)
			lookup_copy_err(job->err, err);
		break;
	}
	/* The password is not needed past this point. */
	explicit_bzero(job->pass, job->passlen);
	free(job->pass);
	job->pass = NULL;
	job->passlen = 0;
}

static void	lookup_auth_done(struct lookup_role *, struct lookup_job *);
static void	lookup_ctl_job_done(struct lookup_role *, struct lookup_job *);

static void
lookup_job_run_pool(struct pool_job *pj, void *local)
{
	lookup_job_run(local, (struct lookup_job *)pj);
}

static void
lookup_job_done_pool(struct pool_job *pj)
{
	struct lookup_job	*job = (struct lookup_job *)pj;

	if (job->kind == LOOKUP_JOB_AUTH)
		lookup_auth_done(job->role, job);
	else
		lookup_ctl_job_done(job->role, job);
}

/* Hand a job to the pool; -1 when too much is already waiting. */
static int
lookup_pool_submit(struct lookup_role *r, struct lookup_job *job)
{
	if (r->njobs > LOOKUP_JOBS_MAX)
		return -1;
	job->pj.run = lookup_job_run_pool;
	job->pj.done = lookup_job_done_pool;
	pool_submit(r->pool, &job->pj);
	return 0;
}

/* Each worker's own connection, opened here, used only by that worker. */
static void *
lookup_worker_db(size_t i, void *arg)
{
	struct users	*db;
	const char	*err = NULL;

	(void)i;
	(void)arg;
	if ((db = users_open(LOOKUP_DB, true, &err)) == NULL)
		fatalx("lookup: %s: %s", LOOKUP_DB, err);
	return db;
}

/* --- failed AUTH per client IP --- */

/*
 * The key of a client: its IPv4 address, or the /64 of an IPv6 one,
 * since one IPv6 site usually holds a whole /64 (RFC 6177) and could
 * otherwise guess from each of its addresses in turn.
 */
static void
lookup_fail_key(const char *ip, char *key, size_t keysz)
{
	unsigned char	a[16];
	char		txt[INET6_ADDRSTRLEN];

	if (strchr(ip, ':') != NULL && inet_pton(AF_INET6, ip, a) == 1) {
		memset(a + 8, 0, 8);
		if (inet_ntop(AF_INET6, a, txt, sizeof(txt)) != NULL) {
			(void)snprintf(key, keysz, "%s/64", txt);
			return;
		}
	}
	(void)str_copy(key, keysz, ip);
}

/*
 * The entry for ip, made when create is set (reusing a free or expired
 * slot, else the least recently used one).  NULL when absent.
 */
static struct lookup_fail *
lookup_fail_get(struct lookup_role *r, const char *ip, bool create)
{
	struct lookup_fail	*f, *empty = NULL, *oldest = NULL, *slot;
	char			 key[LOOKUP_IP_MAX];
	uint64_t		 now = now_ms();
	size_t			 i;

	lookup_fail_key(ip, key, sizeof(key));
	for (i = 0; i < LOOKUP_FAIL_SLOTS; i++) {
		f = &r->fails[i];
		if (f->ip[0] != '\0' &&
		    now - f->last_ms >= LOOKUP_FAIL_EXPIRE_MS) {
			f->ip[0] = '\0';
			f->count = 0;
		}
		if (f->ip[0] == '\0') {
			if (empty == NULL)
				empty = f;
		} else if (strcmp(f->ip, key) == 0)
			return f;
		else if (oldest == NULL || f->last_ms < oldest->last_ms)
			oldest = f;
	}
	if (!create)
		return NULL;
	slot = empty != NULL ? empty : oldest;
	(void)str_copy(slot->ip, sizeof(slot->ip), key);
	slot->count = 0;
	slot->last_ms = now;
	return slot;
}

/* Seconds to hold an answer back after count recent failures. */
static unsigned
lookup_fail_delay(unsigned count)
{
	unsigned	n;

	if (count <= LOOKUP_FAIL_FREE)
		return 0;
	n = count - LOOKUP_FAIL_FREE - 1;	/* 0, 1, 2, ...: 1s, 2s, 4s */
	if (n >= 4)
		return LOOKUP_DELAY_MAX;
	return (1u << n) < LOOKUP_DELAY_MAX ? 1u << n : LOOKUP_DELAY_MAX;
}

/* --- AUTH --- */

static void
lookup_auth_answer(struct lookup_role *r, struct lookup_job *job)
{
	struct msg	*m;

	if (job->gen != r->gen[job->from.id][job->from.worker]) {
		log_debug("lookup: AUTH answer for a gone %s dropped",
		    proc_name(job->from.id));
		return;
	}
	switch (job->kind) {
	case LOOKUP_JOB_APOP:
		m = msg_new(MSG_LOOKUP_APOP_RESULT);
		break;
	case LOOKUP_JOB_SCRAM:
		m = msg_new(MSG_LOOKUP_SCRAM_PROOF_RESULT);
		break;
	default:
		m = msg_new(MSG_LOOKUP_AUTH_RESULT);
		break;
	}
	msg_put_u64(m, job->reqid);
	msg_put_u32(m, job->answer);
	if (job->kind == LOOKUP_JOB_SCRAM)
		/* The ServerSignature proves we know the keys: only on OK. */
		msg_put_data(m, job->sig, job->answer == 0 ? sizeof(job->sig) :
		    0);
	(void)proc_send_peer(r->self, job->from, m);
}

static void
lookup_auth_delayed(evutil_socket_t fd, short what, void *arg)
{
	struct lookup_job	*job = arg;

	lookup_auth_answer(job->role, job);
	lookup_job_free(job);
}

/* For the log: how the client proved who it is. */
static const char *
lookup_auth_mech(const struct lookup_job *job)
{
	switch (job->kind) {
	case LOOKUP_JOB_APOP:
		return "apop";
	case LOOKUP_JOB_SCRAM:
		return "scram";
	default:
		return "password";
	}
}

static void
lookup_auth_done(struct lookup_role *r, struct lookup_job *job)
{
	struct lookup_fail	*f;
	struct timeval		 tv;
	unsigned		 delay = 0;

	switch (job->auth) {
	case USERS_AUTH_OK:
		job->answer = 0;
		/*
		 * A guesser's right answer is held back as long as its
		 * wrong ones, so the timing does not give it away early.
		 */
		if ((f = lookup_fail_get(r, job->ip, false)) != NULL)
			delay = lookup_fail_delay(f->count);
		log_info("event=auth user=%s ip=%s mech=%s", job->logname,
		    job->ip, lookup_auth_mech(job));
		break;
	case USERS_AUTH_FAIL:
		job->answer = 1;
		f = lookup_fail_get(r, job->ip, true);
		if (f->count < UINT32_MAX)
			f->count++;
		f->last_ms = now_ms();
		delay = lookup_fail_delay(f->count);
		metrics_inc(METRICS_AUTH_FAILURES,
		    metrics_auth_label(job->from.id));
		log_info("event=auth-failed ip=%s user=%s failures=%u "
		    "delay=%us mech=%s", job->ip, job->logname, f->count,
		    delay, lookup_auth_mech(job));
		break;
	case USERS_AUTH_TEMPFAIL:
	default:
		job->answer = 2;
		log_warnx("event=auth-tempfail ip=%s user=%s", job->ip,
		    job->logname);
		break;
	}
	if (delay == 0) {
		lookup_auth_answer(r, job);
		lookup_job_free(job);
		return;
	}
	if ((job->ev_delay = evtimer_new(r->self->base, lookup_auth_delayed,
	    job)) == NULL)
		fatalx("lookup: evtimer_new");
	tv.tv_sec = delay;
	tv.tv_usec = 0;
	evtimer_add(job->ev_delay, &tv);
}

/* A name to look up: "" for one that cannot be ours (it fails anyway). */
static char *
lookup_auth_name(struct span user)
{
	if (user.len <= LOOKUP_AUTH_NAME_MAX &&
	    memchr(user.ptr, '\0', user.len) == NULL)
		return xstrndup(user.ptr, user.len);
	return xstrdup("");
}

/* MSG_LOOKUP_AUTH: u64 reqid, str client ip, str user, str pass */
static void
lookup_auth(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	struct lookup_job	*job;
	struct msg		*a;
	struct span		 user, pass;
	char			 ip[LOOKUP_IP_MAX];
	uint64_t		 reqid;

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, ip, sizeof(ip)) == -1 ||
	    msg_get_span(m, &user) == -1 || msg_get_span(m, &pass) == -1 ||
	    msg_end(m) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	job = lookup_job_new(r, LOOKUP_JOB_AUTH, from, reqid);
	(void)str_copy(job->ip, sizeof(job->ip), ip);
	(void)printable(user.ptr, user.len, job->logname,
	    sizeof(job->logname));
	/*
	 * A name that cannot be one of ours costs the same hash as an
	 * unknown user (users_check_password); a password that cannot be
	 * one fails at once.  Either counts as a failure.
	 */
	job->user = lookup_auth_name(user);
	if (pass.len <= USERS_PASSWORD_MAX &&
	    memchr(pass.ptr, '\0', pass.len) == NULL)
		lookup_job_set_pass(job, pass.ptr, pass.len);
	else
		lookup_job_set_pass(job, "", 0);
	if (lookup_pool_submit(r, job) == -1) {
		log_warnx("event=auth-tempfail ip=%s user=%s reason=busy",
		    job->ip, job->logname);
		a = msg_new(MSG_LOOKUP_AUTH_RESULT);
		msg_put_u64(a, reqid);
		msg_put_u32(a, 2);
		(void)proc_send_peer(r->self, from, a);
		lookup_job_free(job);
	}
}

/* --- POP3: APOP and the mailbox of a user --- */

/*
 * MSG_LOOKUP_APOP: u64 reqid, str client ip, str user, str timestamp (the
 * pop3 banner's), str digest (32 lower-case hex digits).  Answered with
 * MSG_LOOKUP_APOP_RESULT: u64 reqid, u32 0 ok / 1 fail / 2 tempfail,
 * after the same per-IP delays as AUTH.  The APOP secret never leaves
 * this role: the digest is computed and compared here (users.c).
 */
static void
lookup_apop(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	struct lookup_job	*job;
	struct span		 user;
	char			 ip[LOOKUP_IP_MAX], ts[256], digest[33];
	char			*name;
	uint64_t		 reqid;

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, ip, sizeof(ip)) == -1 ||
	    msg_get_span(m, &user) == -1 ||
	    msg_get_str(m, ts, sizeof(ts)) == -1 ||
	    msg_get_str(m, digest, sizeof(digest)) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	job = lookup_job_new(r, LOOKUP_JOB_APOP, from, reqid);
	(void)str_copy(job->ip, sizeof(job->ip), ip);
	(void)printable(user.ptr, user.len, job->logname,
	    sizeof(job->logname));
	/* A name that cannot be ours fails as an unknown one does. */
	name = lookup_auth_name(user);
	job->auth = users_check_apop(r->db, name, ts, digest);
	free(name);
	explicit_bzero(digest, sizeof(digest));
	lookup_auth_done(r, job);
}

/* --- SCRAM-SHA-256 (RFC 5802, RFC 7677): the keys never leave --- */

/*
 * MSG_LOOKUP_SCRAM_SALT: u64 reqid, str user.  Answered at once with
 * MSG_LOOKUP_SCRAM_SALT_RESULT: u64 reqid, u32 0 ok / 2 tempfail, data
 * salt, u32 iterations.  A name without keys gets a made-up salt that
 * stays the same (users_scram_salt()), so this tells nobody who exists.
 */
static void
lookup_scram_salt(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	struct msg	*a;
	struct span	 user;
	unsigned char	 salt[SASL_SCRAM_SALT_MAX];
	char		 show[LOOKUP_LOGNAME_MAX];
	char		*name;
	const char	*err = NULL;
	size_t		 saltlen = 0;
	uint64_t	 reqid;
	uint32_t	 iter = 0, status = 0;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_span(m, &user) == -1 ||
	    msg_end(m) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	name = lookup_auth_name(user);
	if (users_scram_salt(r->db, name, salt, &saltlen, &iter,
	    &err) == -1) {
		log_warnx("event=auth-tempfail user=%s reason=\"%s\"",
		    printable(user.ptr, user.len, show, sizeof(show)), err);
		status = 2;
	}
	free(name);
	a = msg_new(MSG_LOOKUP_SCRAM_SALT_RESULT);
	msg_put_u64(a, reqid);
	msg_put_u32(a, status);
	msg_put_data(a, salt, saltlen);
	msg_put_u32(a, iter);
	(void)proc_send_peer(r->self, from, a);
}

/*
 * MSG_LOOKUP_SCRAM_PROOF: u64 reqid, str client ip, str user, data
 * AuthMessage, data ClientProof.  The network role built and checked the
 * messages (nonce, channel binding); here the proof is checked with the
 * StoredKey and answered, after the same per-IP delays as PLAIN, with
 * MSG_LOOKUP_SCRAM_PROOF_RESULT: u64 reqid, u32 0 ok / 1 fail / 2
 * tempfail, data ServerSignature (empty unless ok).
 */
static void
lookup_scram_proof(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	struct lookup_job	*job;
	struct span		 user, am, proof;
	char			 ip[LOOKUP_IP_MAX];
	char			*name;
	uint64_t		 reqid;

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, ip, sizeof(ip)) == -1 ||
	    msg_get_span(m, &user) == -1 || msg_get_span(m, &am) == -1 ||
	    msg_get_span(m, &proof) == -1 || msg_end(m) == -1 ||
	    am.len == 0 || am.len > SASL_SCRAM_AUTHMSG_MAX ||
	    proof.len != SASL_SCRAM_HASH_LEN)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	job = lookup_job_new(r, LOOKUP_JOB_SCRAM, from, reqid);
	(void)str_copy(job->ip, sizeof(job->ip), ip);
	(void)printable(user.ptr, user.len, job->logname,
	    sizeof(job->logname));
	name = lookup_auth_name(user);
	job->auth = users_check_scram(r->db, name, am.ptr, am.len,
	    (const unsigned char *)proof.ptr, job->sig);
	free(name);
	lookup_auth_done(r, job);
}

/*
 * MSG_LOOKUP_MAILBOX: u64 reqid, str user (a name that just logged in).
 * MSG_LOOKUP_MAILBOX_RESULT: u64 reqid, u32 0 ok / 1 no such user /
 * 2 tempfail, str owner (the address as stored, for MSG_LOOKUP_USAGE),
 * str mailbox (relative to mail-dir, mailbox_path(): the same path
 * the mda delivers to), u32 format (enum mailbox_format), u64 quota in
 * bytes (UINT64_MAX: none; IMAP's QUOTA shows it, RFC 9208); "", "", 0
 * and UINT64_MAX unless ok.
 */
static void
lookup_mailbox(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	struct users_user_rec	 rec;
	struct msg		*a;
	struct span		 user;
	char			 name[LOOKUP_AUTH_NAME_MAX + 1];
	char			 path[RESOLVE_MAILBOX_MAX + 1];
	char			 show[LOOKUP_SHOW_MAX];
	const char		*err = NULL;
	uint64_t		 reqid;
	uint32_t		 status = 1;
	bool			 found = false;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_span(m, &user) == -1 ||
	    msg_end(m) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	(void)printable(user.ptr, user.len, show, sizeof(show));
	path[0] = '\0';
	memset(&rec, 0, sizeof(rec));
	if (user.len <= LOOKUP_AUTH_NAME_MAX &&
	    memchr(user.ptr, '\0', user.len) == NULL) {
		memcpy(name, user.ptr, user.len);
		name[user.len] = '\0';
		if (users_user_get(r->db, name, &rec, &found, &err) == -1) {
			log_warnx("lookup: mailbox of %s: %s", show, err);
			status = 2;
		} else if (found && mailbox_path(rec.address,
		    rec.format, path, sizeof(path)) == 0)
			status = 0;
	}
	if (status != 0) {
		rec.address[0] = '\0';
		path[0] = '\0';
	}
	a = msg_new(MSG_LOOKUP_MAILBOX_RESULT);
	msg_put_u64(a, reqid);
	msg_put_u32(a, status);
	msg_put_str(a, rec.address);
	msg_put_str(a, path);
	msg_put_u32(a, status == 0 ? (uint32_t)rec.format : 0);
	msg_put_u64(a, status == 0 && rec.quota >= 0 ? (uint64_t)rec.quota :
	    UINT64_MAX);
	(void)proc_send_peer(r->self, from, a);
}

/* --- MAIL (submission sender check) and RCPT --- */

/* MSG_LOOKUP_MAIL: u64 reqid, str auth user, str from */
static void
lookup_mail(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	struct span	 su, sf;
	char		 user[LOOKUP_ADDR_MAX + 1], sender[LOOKUP_ADDR_MAX + 1];
	char		 show[LOOKUP_SHOW_MAX], show2[LOOKUP_SHOW_MAX];
	char		 text[LOOKUP_TEXT_MAX];
	const char	*err = NULL;
	uint64_t	 reqid;
	bool		 allowed = false;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_span(m, &su) == -1 ||
	    msg_get_span(m, &sf) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	/* RFC 5321 §4.5.5: the null reverse-path is anyone's. */
	if (sf.len == 0) {
		lookup_result(r, from, reqid, 250, "2.1.0", "Ok");
		return;
	}
	(void)printable(su.ptr, su.len, show, sizeof(show));
	(void)printable(sf.ptr, sf.len, show2, sizeof(show2));
	/* What cannot be an address of ours is simply not allowed. */
	if (su.len <= LOOKUP_ADDR_MAX && sf.len <= LOOKUP_ADDR_MAX &&
	    memchr(su.ptr, '\0', su.len) == NULL &&
	    memchr(sf.ptr, '\0', sf.len) == NULL) {
		memcpy(user, su.ptr, su.len);
		user[su.len] = '\0';
		memcpy(sender, sf.ptr, sf.len);
		sender[sf.len] = '\0';
		if (users_sender_allowed(r->db, user, sender, &allowed,
		    &err) == -1) {
			log_warnx("lookup: sender check user=%s from=%s: %s",
			    show, show2, err);
			lookup_result(r, from, reqid, 451, "4.3.0",
			    "Temporary lookup failure");
			return;
		}
	}
	if (allowed) {
		lookup_result(r, from, reqid, 250, "2.1.0", "Ok");
		return;
	}
	log_info("event=sender-rejected user=%s from=%s", show, show2);
	(void)snprintf(text, sizeof(text),
	    "Sender address rejected: not owned by user %s", show);
	lookup_result(r, from, reqid, 553, "5.7.1", text);
}

/* Is the local part (len bytes at p) name, ignoring ASCII case? */
static bool
lookup_local_is(const char *p, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(p, name, len) == 0;
}

/* --- mailbox sizes, for quotas at RCPT --- */

static struct lookup_usage *
lookup_usage_find(struct lookup_role *r, const char *owner, bool create)
{
	struct lookup_usage	*u, *oldest = NULL, *empty = NULL;
	size_t			 i;

	for (i = 0; i < LOOKUP_USAGE_SLOTS; i++) {
		u = &r->usage[i];
		if (u->owner[0] == '\0') {
			if (empty == NULL)
				empty = u;
			continue;
		}
		if (strcasecmp(u->owner, owner) == 0)
			return u;
		if (oldest == NULL || u->when_ms < oldest->when_ms)
			oldest = u;
	}
	if (!create)
		return NULL;
	/* Full: forget the oldest report; its next delivery tells again. */
	u = empty != NULL ? empty : oldest;
	(void)str_copy(u->owner, sizeof(u->owner), owner);
	return u;
}

/*
 * MSG_LOOKUP_USAGE: str owner (the user's address as stored), u64 bytes
 * of its mailbox now.  From the mda after a delivery to a user with a
 * quota (and from pop3/imap after they remove messages).  No answer.
 */
static void
lookup_usage_report(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	struct lookup_usage	*u;
	char			 owner[MAILBOX_ADDR_MAX + 1];
	uint64_t		 bytes;

	if (msg_get_str(m, owner, sizeof(owner)) == -1 ||
	    msg_get_u64(m, &bytes) == -1 || msg_end(m) == -1 ||
	    owner[0] == '\0')
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	u = lookup_usage_find(r, owner, true);
	u->bytes = bytes;
	u->when_ms = now_ms();
	log_debug("event=usage user=%s bytes=%llu", owner,
	    (unsigned long long)bytes);
}

/*
 * Is this local destination over its quota, by the last size the mda
 * reported?  Unknown sizes are not: the mda checks again at delivery.
 */
static bool
lookup_over_quota(struct lookup_role *r, const struct resolve_dest *d)
{
	struct lookup_usage	*u;

	if (d->kind != RESOLVE_LOCAL || d->quota < 0)
		return false;
	if ((u = lookup_usage_find(r, d->owner, false)) == NULL)
		return false;
	return u->bytes >= (uint64_t)d->quota;
}

/*
 * Is domain one of ours (the config's or the store's)?  -1 with *err
 * when the store fails.  An address literal would need a check that it
 * is ours: not yet, so it is not.
 */
static int
lookup_domain_ours(struct lookup_role *r, const char *domain, bool *ours,
    const char **err)
{
	*ours = false;
	if (domain[0] == '[')
		return 0;
	if (conf_is_local_domain(r->conf, domain)) {
		*ours = true;
		return 0;
	}
	return users_domain_exists(r->db, domain, ours, err);
}

/*
 * A recipient SRS0=...@ or SRS1=...@ one of our domains: a bounce to a
 * reverse-path we wrote (lookup_srs.h).  Accepted whatever the sender
 * (auto-replies come from real addresses, and the hash is the guard, as
 * with postsrsd) when it decodes; refused as an unknown user otherwise,
 * 550 5.1.1 as Postfix answers when postsrsd gives no mapping back.
 */
static uint32_t
lookup_rcpt_srs(struct lookup_role *r, const char *rcpt, size_t len,
    const char **enh_out, char *text, size_t textsz)
{
	char		 orig[SRS_ADDR_MAX + 1], show[LOOKUP_SHOW_MAX];
	char		 to[LOOKUP_SHOW_MAX];
	enum srs_error	 e;

	(void)printable(rcpt, len, show, sizeof(show));
	if (lookup_srs_reverse(r->srs, rcpt, len, (int64_t)time(NULL), orig,
	    sizeof(orig), &e) == 0) {
		log_info("event=rcpt-srs rcpt=%s to=%s", show, printable(orig,
		    strlen(orig), to, sizeof(to)));
		return 250;
	}
	log_info("event=rcpt-srs-refused rcpt=%s reason=\"%s\"", show,
	    srs_strerror(e));
	*enh_out = "5.1.1";
	(void)snprintf(text, textsz,
	    "<%s>: Recipient address rejected: User unknown", show);
	return 550;
}

/*
 * Decide on a recipient: rcpt holds len bytes and a NUL, no other NUL.
 * Returns the reply code and fills *enh_out and text for every code.
 * The same rules as the queue's resolution (resolve.c), so that what is
 * accepted here can be delivered.
 */
static uint32_t
lookup_rcpt_check(struct lookup_role *r, uint32_t flags, const char *rcpt,
    size_t len, const char **enh_out, char *text, size_t textsz)
{
	struct resolve_result	 res;
	const struct resolve_dest *d, *failed = NULL;
	char			 show[LOOKUP_SHOW_MAX];
	const char		*at, *domain, *err = NULL;
	size_t			 llen, i;
	uint32_t		 code = 250;
	bool			 local = false, deliverable = false;

	*enh_out = "2.1.5";
	(void)str_copy(text, textsz, "Ok");
	if ((at = memrchr(rcpt, '@', len)) == NULL) {
		/* RFC 5321 §4.1.1.3: <Postmaster> with no domain is ours. */
		if (lookup_local_is(rcpt, len, "postmaster"))
			return 250;
		*enh_out = "5.1.3";
		(void)str_copy(text, textsz, "Bad recipient address syntax");
		return 501;
	}
	domain = at + 1;
	llen = (size_t)(at - rcpt);
	if (lookup_domain_ours(r, domain, &local, &err) == -1)
		goto tempfail;
	if (!local) {
		if (flags & MSG_RCPT_F_RELAY_OK)
			return 250;
		*enh_out = "5.7.1";
		(void)str_copy(text, textsz, "Relay access denied");
		return 550;
	}
	if (lookup_srs_enabled(r->srs) && srs_is_srs(rcpt, llen))
		return lookup_rcpt_srs(r, rcpt, len, enh_out, text, textsz);
	/*
	 * RFC 5321 §4.5.1: postmaster at every domain of ours; RFC 2142
	 * §2: abuse too.  Accepted whatever the store says; the queue
	 * holds the message if there is nowhere to deliver it yet.
	 */
	if (lookup_local_is(rcpt, llen, "postmaster") ||
	    lookup_local_is(rcpt, llen, "abuse"))
		return 250;
	(void)printable(rcpt, len, show, sizeof(show));
	if (resolve_address(r->db, r->conf, rcpt, 0, &res) == -1)
		res.status = RESOLVE_UNKNOWN;
	switch (res.status) {
	case RESOLVE_TEMPFAIL:
		err = res.err;
		resolve_result_free(&res);
		goto tempfail;
	case RESOLVE_UNKNOWN:
		*enh_out = "5.1.1";
		(void)snprintf(text, textsz,
		    "<%s>: Recipient address rejected: User unknown", show);
		resolve_result_free(&res);
		return 550;
	case RESOLVE_OK:
		break;
	}
	for (i = 0; i < res.ndests; i++) {
		d = &res.dests[i];
		if (d->kind == RESOLVE_FAILED) {
			if (failed == NULL)
				failed = d;
		} else
			deliverable = true;
	}
	if (!deliverable && failed != NULL) {
		/* Every branch fails (an alias loop): say so now. */
		*enh_out = failed->enh;
		(void)snprintf(text, textsz,
		    "<%s>: Recipient address rejected: %s", show,
		    failed->text);
		code = 550;
	} else if (res.ndests == 1 && lookup_over_quota(r, &res.dests[0])) {
		/* RFC 3463 §3.3: X.2.2 mailbox full. */
		log_info("event=rcpt-over-quota rcpt=%s user=%s", show,
		    res.dests[0].owner);
		if (r->conf->delivery.quota_exceeded == CONF_QUOTA_REJECT) {
			*enh_out = "5.2.2";
			code = 552;
		} else {
			*enh_out = "4.2.2";
			code = 452;
		}
		(void)snprintf(text, textsz, "<%s>: Mailbox full", show);
	}
	resolve_result_free(&res);
	return code;
tempfail:
	(void)printable(rcpt, len, show, sizeof(show));
	log_warnx("lookup: recipient %s: %s", show, err);
	*enh_out = "4.3.0";
	(void)str_copy(text, textsz, "Temporary lookup failure");
	return 451;
}

/*
 * The SRS side of a resolution (lookup_srs.h).  A recipient SRS0=/SRS1=
 * at one of our domains (not a child: those are final) is replaced by
 * the address it decodes to, in target, or refused (-1: unknown); 0
 * otherwise.  Then, after resolve_address(), the reverse-path for the
 * destinations an alias sends to another domain: srs_out holds it ("" =
 * none: SRS off, null sender, a sender of ours already, too long).
 */
static int
lookup_resolve_srs_in(struct lookup_role *r, const char *rcpt,
    uint32_t flags, char *target, size_t targetsz)
{
	const char	*at = strrchr(rcpt, '@'), *err = NULL;
	char		 show[LOOKUP_SHOW_MAX];
	enum srs_error	 e;
	bool		 ours;

	(void)str_copy(target, targetsz, rcpt);
	if ((flags & RESOLVE_F_FINAL) || at == NULL ||
	    !lookup_srs_enabled(r->srs) ||
	    !srs_is_srs(rcpt, (size_t)(at - rcpt)) ||
	    lookup_domain_ours(r, at + 1, &ours, &err) == -1 || !ours)
		return 0;
	if (lookup_srs_reverse(r->srs, rcpt, strlen(rcpt),
	    (int64_t)time(NULL), target, targetsz, &e) == 0)
		return 0;
	log_info("event=resolve-srs-refused rcpt=%s reason=\"%s\"",
	    printable(rcpt, strlen(rcpt), show, sizeof(show)),
	    srs_strerror(e));
	(void)str_copy(target, targetsz, rcpt);
	return -1;
}

static void
lookup_resolve_srs_out(struct lookup_role *r, const char *sender,
    const char *rcpt, uint32_t flags, const struct resolve_result *res,
    char *srs_out, size_t srs_outsz)
{
	const char	*at, *err = NULL;
	size_t		 i;
	bool		 ours, away = false;

	srs_out[0] = '\0';
	if ((flags & RESOLVE_F_FINAL) || sender[0] == '\0' ||
	    !lookup_srs_enabled(r->srs))
		return;
	for (i = 0; i < res->ndests; i++)
		if (res->dests[i].kind == RESOLVE_REMOTE &&
		    strcasecmp(res->dests[i].addr, rcpt) != 0)
			away = true;
	if (!away)
		return;
	/* Our own users' mail passes SPF for our domains as it is. */
	if ((at = strrchr(sender, '@')) == NULL ||
	    lookup_domain_ours(r, at + 1, &ours, &err) == -1 || ours)
		return;
	(void)lookup_srs_forward(r->srs, sender, rcpt, (int64_t)time(NULL),
	    srs_out, srs_outsz);
}

/*
 * MSG_LOOKUP_RESOLVE: u64 reqid, u32 flags (RESOLVE_F_*), str rcpt,
 * str sender (the reverse-path the recipient has now, "" for <>).
 * From the queue, for a recipient it is about to deliver.
 * MSG_LOOKUP_RESOLVE_RESULT: u64 reqid, u32 status (RESOLVE_OK, _UNKNOWN,
 * _TEMPFAIL), str reason (for TEMPFAIL), str srs (the SRS reverse-path
 * for the destinations flagged below, "" none), u32 n, then n times:
 * u32 kind (RESOLVE_LOCAL, _REMOTE, _FAILED), str addr, str owner,
 * str mailbox, u32 format (mailbox_format), u64 quota (UINT64_MAX:
 * none), str enh, str text (the last four for FAILED; "" otherwise),
 * u32 1 when this destination (REMOTE, sent there by an alias) leaves
 * with srs as its reverse-path, else 0.  One srs string for all, not
 * one per destination, so that the largest answer still fits a frame.
 */
static void
lookup_resolve(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	struct resolve_result	 res;
	const struct resolve_dest *d;
	struct msg		*a;
	char			 rcpt[MAILBOX_ADDR_MAX + 1];
	char			 target[MAILBOX_ADDR_MAX + 1];
	char			 sender[LOOKUP_SENDER_MAX + 1];
	char			 srs[SRS_ADDR_MAX + 1];
	char			 show[LOOKUP_SHOW_MAX];
	uint64_t		 reqid;
	uint32_t		 flags;
	size_t			 i;

	/* The queue only sends what the spool holds: an address we took. */
	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &flags) == -1 ||
	    (flags & ~(uint32_t)RESOLVE_F_FINAL) != 0 ||
	    msg_get_str(m, rcpt, sizeof(rcpt)) == -1 ||
	    msg_get_str(m, sender, sizeof(sender)) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	srs[0] = '\0';
	if (lookup_resolve_srs_in(r, rcpt, flags, target,
	    sizeof(target)) == -1) {
		memset(&res, 0, sizeof(res));
		res.status = RESOLVE_UNKNOWN;
	} else if (resolve_address(r->db, r->conf, target, flags, &res) == -1)
		res.status = RESOLVE_UNKNOWN;
	else if (res.status == RESOLVE_OK && strcmp(target, rcpt) == 0)
		lookup_resolve_srs_out(r, sender, rcpt, flags, &res, srs,
		    sizeof(srs));
	a = msg_new(MSG_LOOKUP_RESOLVE_RESULT);
	msg_put_u64(a, reqid);
	msg_put_u32(a, (uint32_t)res.status);
	msg_put_str(a, res.status == RESOLVE_TEMPFAIL ? res.err : "");
	msg_put_str(a, srs);
	msg_put_u32(a, (uint32_t)res.ndests);
	for (i = 0; i < res.ndests; i++) {
		d = &res.dests[i];
		msg_put_u32(a, (uint32_t)d->kind);
		msg_put_str(a, d->addr);
		msg_put_str(a, d->owner);
		msg_put_str(a, d->mailbox);
		msg_put_u32(a, (uint32_t)d->format);
		msg_put_u64(a, d->quota < 0 ? UINT64_MAX : (uint64_t)d->quota);
		msg_put_str(a, d->kind == RESOLVE_FAILED ? d->enh : "");
		msg_put_str(a, d->kind == RESOLVE_FAILED ? d->text : "");
		msg_put_u32(a, srs[0] != '\0' && d->kind == RESOLVE_REMOTE &&
		    strcasecmp(d->addr, rcpt) != 0 ? 1 : 0);
	}
	if (res.status == RESOLVE_TEMPFAIL)
		log_warnx("lookup: resolve %s: %s", printable(rcpt,
		    strlen(rcpt), show, sizeof(show)), res.err);
	resolve_result_free(&res);
	(void)proc_send_peer(r->self, from, a);
}

/* MSG_LOOKUP_RCPT: u64 reqid, u32 flags, str rcpt */
static void
lookup_rcpt(struct lookup_role *r, struct proc_peer from, struct msg *m)
{
	char		 rcpt[LOOKUP_ADDR_MAX + 1], text[LOOKUP_TEXT_MAX];
	struct span	 s;
	const char	*enh;
	uint64_t	 reqid;
	uint32_t	 flags, code;

	/* smtp formats the address it parsed: longer is a broken sibling. */
	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &flags) == -1 ||
	    msg_get_span(m, &s) == -1 || msg_end(m) == -1 ||
	    s.len > LOOKUP_ADDR_MAX || memchr(s.ptr, '\0', s.len) != NULL)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	memcpy(rcpt, s.ptr, s.len);
	rcpt[s.len] = '\0';
	code = lookup_rcpt_check(r, flags, rcpt, s.len, &enh, text,
	    sizeof(text));
	lookup_result(r, from, reqid, code, enh, text);
}

/* --- cachetctl verbs --- */

struct lookup_list_ctx {
	struct lookup_role	*role;
	uint64_t		 reqid;
};

/*
 * Check an address given to a verb; the canonical form goes to canon
 * (MAILBOX_ADDR_MAX + 1 bytes).
 */
static int
lookup_ctl_addr(struct lookup_role *r, const char *addr, char *canon,
    const char **errstr_out)
{
	char	show[LOOKUP_SHOW_MAX];

	if (mailbox_addr_normalize(addr, canon, MAILBOX_ADDR_MAX + 1,
	    NULL) == 0)
		return 0;
	(void)printable(addr, strlen(addr), show, sizeof(show));
	(void)snprintf(r->err, sizeof(r->err), "invalid address: %s", show);
	*errstr_out = r->err;
	return -1;
}

/*
 * An alias source given to a verb: an address, or "@domain" for the
 * domain's catch-all.  Canonical form into canon as for lookup_ctl_addr.
 */
static int
lookup_ctl_source(struct lookup_role *r, const char *src, char *canon,
    const char **errstr_out)
{
	char	probe[MAILBOX_ADDR_MAX + 1];

	if (src[0] != '@')
		return lookup_ctl_addr(r, src, canon, errstr_out);
	/* "x@domain" checks the domain the way users.c will. */
	(void)snprintf(probe, sizeof(probe), "x%s", src);
	if (strlen(src) < sizeof(probe) - 1 &&
	    lookup_ctl_addr(r, probe, canon, errstr_out) == 0) {
		memmove(canon, canon + 1, strlen(canon));
		return 0;
	}
	return lookup_ctl_addr(r, src, canon, errstr_out);
}

/*
 * Make sure the domain of canon is in the database: a domain named in
 * the config is added on demand, any other one is an error.
 */
static int
lookup_ensure_domain(struct lookup_role *r, const char *canon,
    const char **errstr_out)
{
	const char	*domain = strrchr(canon, '@') + 1;
	bool		 exists = false;

	if (users_domain_exists(r->db, domain, &exists, errstr_out) == -1)
		return -1;
	if (exists)
		return 0;
	if (!conf_is_local_domain(r->conf, domain)) {
		(void)snprintf(r->err, sizeof(r->err), "no such domain %s "
		    "(add it with: cachetctl domain add %s)", domain, domain);
		*errstr_out = r->err;
		return -1;
	}
	if (users_domain_add(r->db, domain, errstr_out) == -1)
		return -1;
	log_info("event=domain-added domain=%s source=config", domain);
	return 0;
}

static enum lookup_ctl_rc
lookup_ctl_user_set(struct lookup_role *r, uint64_t reqid, char **argv,
    enum lookup_job_kind kind, const char **errstr_out)
{
	struct proc_peer	 parent = { PROC_PARENT, 0 };
	struct lookup_job	*job;
	char			 canon[MAILBOX_ADDR_MAX + 1];
	bool			 exists = false;

	if (lookup_ctl_addr(r, argv[2], canon, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	if (argv[3][0] == '\0') {
		*errstr_out = "empty password";
		return LOOKUP_CTL_FAIL;
	}
	if (strlen(argv[3]) > USERS_PASSWORD_MAX) {
		*errstr_out = "password too long";
		return LOOKUP_CTL_FAIL;
	}
	if (kind == LOOKUP_JOB_USER_ADD &&
	    lookup_ensure_domain(r, canon, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	/* Cheap answers before a hash is spent (the worker checks again). */
	if (users_user_exists(r->db, canon, &exists, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	if (kind == LOOKUP_JOB_USER_ADD && exists) {
		*errstr_out = "user exists";
		return LOOKUP_CTL_FAIL;
	}
	if (kind == LOOKUP_JOB_USER_PASSWD && !exists) {
		*errstr_out = "no such user";
		return LOOKUP_CTL_FAIL;
	}
	job = lookup_job_new(r, kind, parent, reqid);
	job->user = xstrdup(canon);
	lookup_job_set_pass(job, argv[3], strlen(argv[3]));
	if (lookup_pool_submit(r, job) == -1) {
		lookup_job_free(job);
		*errstr_out = "busy, try again";
		return LOOKUP_CTL_FAIL;
	}
	return LOOKUP_CTL_PENDING;
}

static enum lookup_ctl_rc
lookup_ctl_user_add(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	return lookup_ctl_user_set(r, reqid, argv, LOOKUP_JOB_USER_ADD,
	    errstr_out);
}

static enum lookup_ctl_rc
lookup_ctl_user_passwd(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	return lookup_ctl_user_set(r, reqid, argv, LOOKUP_JOB_USER_PASSWD,
	    errstr_out);
}

static void
lookup_ctl_job_done(struct lookup_role *r, struct lookup_job *job)
{
	const char	*what;

	what = job->kind == LOOKUP_JOB_USER_ADD ? "user-added" :
	    "user-passwd";
	if (job->rc == 0) {
		log_info("event=%s user=%s scram=%s", what, job->user,
		    job->scram ? "yes" : "no");
		if (!job->scram)
			lookup_ctl_line(r, job->reqid, "note: no SCRAM keys "
			    "(the password is not printable ASCII): PLAIN "
			    "and LOGIN only");
		lookup_ctl_end(r, job->reqid, 0, NULL);
	} else
		lookup_ctl_end(r, job->reqid, 1, job->err);
	lookup_job_free(job);
}

static enum lookup_ctl_rc
lookup_ctl_user_del(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	char	canon[MAILBOX_ADDR_MAX + 1];

	if (lookup_ctl_addr(r, argv[2], canon, errstr_out) == -1 ||
	    users_user_del(r->db, canon, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	log_info("event=user-deleted user=%s", canon);
	return LOOKUP_CTL_DONE;
}

static int
lookup_ctl_user_line(const struct users_user_info *info, void *arg)
{
	struct lookup_list_ctx	*ctx = arg;
	char			 line[MAILBOX_ADDR_MAX + 32];

	/* Users whose password predates SCRAM have no keys until passwd. */
	(void)snprintf(line, sizeof(line), "%s%s", info->address,
	    info->scram ? "" : " (no SCRAM keys)");
	lookup_ctl_line(ctx->role, ctx->reqid, line);
	return 0;
}

static enum lookup_ctl_rc
lookup_ctl_user_list(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	struct lookup_list_ctx	ctx = { r, reqid };

	if (users_user_list(r->db, lookup_ctl_user_line, &ctx,
	    errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	return LOOKUP_CTL_DONE;
}

/*
 * A quota: digits with an optional K, M or G (powers of 1024), at most
 * LOOKUP_QUOTA_MAX; "none" is -1.
 */
static int
lookup_parse_quota(const char *s, int64_t *out)
{
	uint64_t	v = 0, mul = 1;
	size_t		len = strlen(s), i;

	if (strcmp(s, "none") == 0) {
		*out = -1;
		return 0;
	}
	if (len > 0 && strchr("KkMmGg", s[len - 1]) != NULL) {
		mul = s[len - 1] == 'K' || s[len - 1] == 'k' ? 1024 :
		    s[len - 1] == 'M' || s[len - 1] == 'm' ? 1024 * 1024 :
		    1024 * 1024 * 1024;
		len--;
	}
	if (len == 0 || len > 16)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (__builtin_mul_overflow(v, mul, &v) ||
	    v > (uint64_t)LOOKUP_QUOTA_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* user set ADDRESS quota SIZE|none, user set ADDRESS format maildir|mbox */
static enum lookup_ctl_rc
lookup_ctl_user_setting(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	char			canon[MAILBOX_ADDR_MAX + 1];
	enum mailbox_format	format;
	int64_t			quota;

	if (lookup_ctl_addr(r, argv[2], canon, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	if (strcmp(argv[3], "quota") == 0) {
		if (lookup_parse_quota(argv[4], &quota) == -1) {
			*errstr_out = "quota: expected a size (digits, then "
			    "K, M or G) or none";
			return LOOKUP_CTL_FAIL;
		}
		if (users_user_set_quota(r->db, canon, quota,
		    errstr_out) == -1)
			return LOOKUP_CTL_FAIL;
		log_info("event=user-quota user=%s quota=%lld", canon,
		    (long long)quota);
		return LOOKUP_CTL_DONE;
	}
	if (strcmp(argv[3], "format") == 0) {
		if (mailbox_format_parse(argv[4], &format) == -1) {
			*errstr_out = "format: expected maildir or mbox";
			return LOOKUP_CTL_FAIL;
		}
		if (users_user_set_format(r->db, canon, format,
		    errstr_out) == -1)
			return LOOKUP_CTL_FAIL;
		log_info("event=user-format user=%s format=%s", canon,
		    argv[4]);
		return LOOKUP_CTL_DONE;
	}
	*errstr_out = "usage: user set ADDRESS quota SIZE|none, "
	    "user set ADDRESS format maildir|mbox";
	return LOOKUP_CTL_FAIL;
}

/* user show ADDRESS: the settings, the mailbox, the last size known. */
static enum lookup_ctl_rc
lookup_ctl_user_show(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	struct users_user_rec	 rec;
	struct lookup_usage	*u;
	char			 canon[MAILBOX_ADDR_MAX + 1];
	char			 line[CONF_PATH_MAX + RESOLVE_MAILBOX_MAX + 32];
	char			 mailbox[RESOLVE_MAILBOX_MAX + 1];
	bool			 found = false;

	if (lookup_ctl_addr(r, argv[2], canon, errstr_out) == -1 ||
	    users_user_get(r->db, canon, &rec, &found, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	if (!found) {
		*errstr_out = "no such user";
		return LOOKUP_CTL_FAIL;
	}
	(void)snprintf(line, sizeof(line), "address: %s", rec.address);
	lookup_ctl_line(r, reqid, line);
	if (rec.quota < 0)
		(void)snprintf(line, sizeof(line), "quota: none");
	else
		(void)snprintf(line, sizeof(line), "quota: %lld",
		    (long long)rec.quota);
	lookup_ctl_line(r, reqid, line);
	(void)snprintf(line, sizeof(line), "format: %s",
	    mailbox_format_name(rec.format));
	lookup_ctl_line(r, reqid, line);
	lookup_ctl_line(r, reqid, rec.scram ? "scram: yes" : "scram: no");
	if (mailbox_path(rec.address, rec.format, mailbox,
	    sizeof(mailbox)) == 0) {
		(void)snprintf(line, sizeof(line), "mailbox: %s/%s",
		    r->conf->mail_dir, mailbox);
		lookup_ctl_line(r, reqid, line);
	}
	if ((u = lookup_usage_find(r, rec.address, false)) != NULL)
		(void)snprintf(line, sizeof(line), "usage: %llu",
		    (unsigned long long)u->bytes);
	else
		(void)snprintf(line, sizeof(line), "usage: unknown");
	lookup_ctl_line(r, reqid, line);
	return LOOKUP_CTL_DONE;
}

static enum lookup_ctl_rc
lookup_ctl_domain_add(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	char	show[LOOKUP_SHOW_MAX];

	if (users_domain_add(r->db, argv[2], errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	log_info("event=domain-added domain=%s",
	    printable(argv[2], strlen(argv[2]), show, sizeof(show)));
	return LOOKUP_CTL_DONE;
}

static enum lookup_ctl_rc
lookup_ctl_domain_del(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	char	show[LOOKUP_SHOW_MAX];

	(void)printable(argv[2], strlen(argv[2]), show, sizeof(show));
	/* It would come back at the next start: the config is the truth. */
	if (conf_is_local_domain(r->conf, argv[2])) {
		(void)snprintf(r->err, sizeof(r->err), "%s is a domain of "
		    "the config file; remove it there first", show);
		*errstr_out = r->err;
		return LOOKUP_CTL_FAIL;
	}
	if (users_domain_del(r->db, argv[2], errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	log_info("event=domain-deleted domain=%s",
	    printable(argv[2], strlen(argv[2]), show, sizeof(show)));
	return LOOKUP_CTL_DONE;
}

static int
lookup_ctl_domain_line(const char *domain, void *arg)
{
	struct lookup_list_ctx	*ctx = arg;
	char			 line[MAILBOX_DOMAIN_MAX + 16];

	(void)snprintf(line, sizeof(line), "%s%s", domain,
	    conf_is_local_domain(ctx->role->conf, domain) ? " (config)" : "");
	lookup_ctl_line(ctx->role, ctx->reqid, line);
	return 0;
}

static enum lookup_ctl_rc
lookup_ctl_domain_list(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	struct lookup_list_ctx	 ctx = { r, reqid };
	char			 line[CONF_NAME_MAX + 16];
	size_t			 i;
	bool			 exists;

	if (users_domain_list(r->db, lookup_ctl_domain_line, &ctx,
	    errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	/* Config domains the database could not take are still ours. */
	for (i = 0; i < r->conf->ndomains; i++) {
		if (users_domain_exists(r->db, r->conf->domains[i], &exists,
		    errstr_out) == -1)
			return LOOKUP_CTL_FAIL;
		if (exists)
			continue;
		(void)snprintf(line, sizeof(line), "%s (config)",
		    r->conf->domains[i]);
		lookup_ctl_line(r, reqid, line);
	}
	return LOOKUP_CTL_DONE;
}

/*
 * alias add SOURCE TARGET...: every target or none (an aliases file
 * line's worth, LOOKUP_ALIAS_TARGETS_MAX): each is checked first, a
 * target named twice is an error, and the store adds them in one
 * transaction, refusing all when one exists already.
 */
static enum lookup_ctl_rc
lookup_ctl_alias_add(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	char	  src[MAILBOX_ADDR_MAX + 1], why[LOOKUP_ERR_MAX];
	char	(*dst)[MAILBOX_ADDR_MAX + 1];
	char	 *targets[LOOKUP_ALIAS_TARGETS_MAX];
	size_t	  n, i, j, bad;
	enum lookup_ctl_rc rc = LOOKUP_CTL_FAIL;

	for (n = 0; argv[3 + n] != NULL; n++)
		;
	if (lookup_ctl_source(r, argv[2], src, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	dst = xcalloc(n, sizeof(*dst));
	for (i = 0; i < n; i++) {
		if (lookup_ctl_addr(r, argv[3 + i], dst[i], errstr_out) == -1)
			goto done;
		targets[i] = dst[i];
		for (j = 0; j < i; j++)
			if (strcasecmp(dst[j], dst[i]) == 0) {
				(void)snprintf(r->err, sizeof(r->err),
				    "target %.120s named twice", dst[i]);
				*errstr_out = r->err;
				goto done;
			}
	}
	if (lookup_ensure_domain(r, src, errstr_out) == -1)
		goto done;
	if (users_alias_add_list(r->db, src, targets, n, &bad,
	    errstr_out) == -1) {
		if (n > 1 && bad < n) {
			(void)snprintf(r->err, sizeof(r->err), "target %.120s: "
			    "%.100s", dst[bad], *errstr_out);
			*errstr_out = r->err;
		}
		goto done;
	}
	for (i = 0; i < n; i++)
		log_info("event=alias-added source=%s target=%s", src, dst[i]);
	rc = LOOKUP_CTL_DONE;
done:
	if (rc == LOOKUP_CTL_FAIL && n > 1) {
		(void)snprintf(why, sizeof(why), "%.200s: nothing added",
		    *errstr_out != NULL ? *errstr_out : "failed");
		(void)str_copy(r->err, sizeof(r->err), why);
		*errstr_out = r->err;
	}
	free(dst);
	return rc;
}

static enum lookup_ctl_rc
lookup_ctl_alias_del(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	char	src[MAILBOX_ADDR_MAX + 1], dst[MAILBOX_ADDR_MAX + 1];

	if (lookup_ctl_source(r, argv[2], src, errstr_out) == -1 ||
	    lookup_ctl_addr(r, argv[3], dst, errstr_out) == -1 ||
	    users_alias_del(r->db, src, dst, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	log_info("event=alias-deleted source=%s target=%s", src, dst);
	return LOOKUP_CTL_DONE;
}

static int
lookup_ctl_alias_line(const char *source, const char *target, void *arg)
{
	struct lookup_list_ctx	*ctx = arg;
	char			 line[2 * MAILBOX_ADDR_MAX + 8];

	(void)snprintf(line, sizeof(line), "%s -> %s", source, target);
	lookup_ctl_line(ctx->role, ctx->reqid, line);
	return 0;
}

static enum lookup_ctl_rc
lookup_ctl_alias_list(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	struct lookup_list_ctx	ctx = { r, reqid };

	if (users_alias_list(r->db, NULL, lookup_ctl_alias_line, &ctx,
	    errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	return LOOKUP_CTL_DONE;
}

/*
 * user apop ADDRESS SECRET: set the user's APOP secret (RFC 1939 §7),
 * which turns APOP on for them; user noapop ADDRESS turns it off.
 */
static enum lookup_ctl_rc
lookup_ctl_user_apop(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	char	canon[MAILBOX_ADDR_MAX + 1];

	if (lookup_ctl_addr(r, argv[2], canon, errstr_out) == -1 ||
	    users_user_set_apop(r->db, canon, argv[3], errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	log_info("event=user-apop user=%s apop=on", canon);
	return LOOKUP_CTL_DONE;
}

static enum lookup_ctl_rc
lookup_ctl_user_noapop(struct lookup_role *r, uint64_t reqid, char **argv,
    const char **errstr_out)
{
	char	canon[MAILBOX_ADDR_MAX + 1];

	if (lookup_ctl_addr(r, argv[2], canon, errstr_out) == -1 ||
	    users_user_set_apop(r->db, canon, NULL, errstr_out) == -1)
		return LOOKUP_CTL_FAIL;
	log_info("event=user-apop user=%s apop=off", canon);
	return LOOKUP_CTL_DONE;
}

/*
 * The verbs.  cachetctl appends the password it read (stdin or prompt)
 * as the last argument of user add and user passwd, and the secret of
 * user apop.
 */
static const struct lookup_verb lookup_verbs[] = {
	{ "user", "add", 4, lookup_ctl_user_add },
	{ "user", "passwd", 4, lookup_ctl_user_passwd },
	{ "user", "del", 3, lookup_ctl_user_del },
	{ "user", "list", 2, lookup_ctl_user_list },
	{ "user", "set", 5, lookup_ctl_user_setting },
	{ "user", "show", 3, lookup_ctl_user_show },
	{ "user", "apop", 4, lookup_ctl_user_apop },
	{ "user", "noapop", 3, lookup_ctl_user_noapop },
	{ "domain", "add", 3, lookup_ctl_domain_add },
	{ "domain", "del", 3, lookup_ctl_domain_del },
	{ "domain", "list", 2, lookup_ctl_domain_list },
	{ "alias", "add", 4, lookup_ctl_alias_add },
	{ "alias", "del", 4, lookup_ctl_alias_del },
	{ "alias", "list", 2, lookup_ctl_alias_list },
};

static const struct {
	const char	*noun;
	const char	*usage;
} lookup_usages[] = {
	{ "user", "usage: user add|passwd ADDRESS, user del ADDRESS, "
	    "user list, user show ADDRESS, "
	    "user set ADDRESS quota SIZE|none, "
	    "user set ADDRESS format maildir|mbox, "
	    "user apop|noapop ADDRESS" },
	{ "domain", "usage: domain add|del NAME, domain list" },
	{ "alias", "usage: alias add SOURCE TARGET... (at most 100), "
	    "alias del SOURCE TARGET, alias list "
	    "(SOURCE @DOMAIN: the domain's catch-all)" },
};

/*
 * Does v take argc words?  Exactly its count, but alias add takes its
 * targets to the end of the line (argv ends in NULL), as an aliases
 * file line does.
 */
static bool
lookup_verb_takes(const struct lookup_verb *v, size_t argc)
{
	if (v->run == lookup_ctl_alias_add)
		return argc >= v->argc && argc <= LOOKUP_CTL_ARGC_MAX;
	return argc == v->argc;
}

static void
lookup_ctl_run(struct lookup_role *r, uint64_t reqid, size_t argc,
    char **argv)
{
	const struct lookup_verb	*v;
	const char			*err = NULL;
	enum lookup_ctl_rc		 rc;
	size_t				 i;

	for (i = 0; i < sizeof(lookup_verbs) / sizeof(lookup_verbs[0]);
	    i++) {
		v = &lookup_verbs[i];
		if (argc < 2 || !lookup_verb_takes(v, argc) ||
		    strcmp(argv[0], v->noun) != 0 ||
		    strcmp(argv[1], v->verb) != 0)
			continue;
		rc = v->run(r, reqid, argv, &err);
		if (rc == LOOKUP_CTL_DONE)
			lookup_ctl_end(r, reqid, 0, NULL);
		else if (rc == LOOKUP_CTL_FAIL)
			lookup_ctl_end(r, reqid, 1,
			    err != NULL ? err : "failed");
		return;
	}
	for (i = 0; i < sizeof(lookup_usages) / sizeof(lookup_usages[0]);
	    i++)
		if (strcmp(argv[0], lookup_usages[i].noun) == 0) {
			lookup_ctl_end(r, reqid, 2, lookup_usages[i].usage);
			return;
		}
	lookup_ctl_end(r, reqid, 2, "unknown command");
}

/* Keys are made for our domains only: the config's and the database's. */
static bool
lookup_dkim_domain_ours(const char *domain, void *arg)
{
	const char	*err = NULL;
	bool		 ours = false;

	return lookup_domain_ours(arg, domain, &ours, &err) == 0 && ours;
}

/*
 * MSG_CTL_REQUEST: u64 reqid, u32 argc, str argv[argc].  The reqid is the
 * parent's; the rest is cachetctl's as the parent forwarded it, so a
 * malformed rest is an answer, not a fatal error.
 */
static void
lookup_ctl(struct lookup_role *r, struct msg *m)
{
	char		*argv[LOOKUP_CTL_ARGC_MAX + 1];
	struct span	 s;
	uint64_t	 reqid;
	uint32_t	 argc;
	size_t		 n = 0, i;
	const char	*err = NULL;
	bool		 too_many = false;

	if (msg_get_u64(m, &reqid) == -1)
		fatalx("lookup: bad %s from parent", msg_name(m->type));
	if (msg_get_u32(m, &argc) == -1) {
		lookup_ctl_end(r, reqid, 2, "malformed request");
		return;
	}
	for (i = 0; i < argc; i++) {
		if (msg_get_span(m, &s) == -1) {
			err = "malformed request";
			break;
		}
		if (s.len > LOOKUP_CTL_ARG_MAX ||
		    memchr(s.ptr, '\0', s.len) != NULL) {
			err = "argument too long or holds a NUL";
			break;
		}
		if (n < LOOKUP_CTL_ARGC_MAX)
			argv[n++] = xstrndup(s.ptr, s.len);
		else
			too_many = true;
	}
	/* spam check|train: the message's features follow the words */
	if (err == NULL && n >= 2 && !too_many &&
	    strcmp(argv[0], "spam") == 0) {
		if (strcmp(argv[1], "check") == 0)
			lookup_spam_ctl(r->auth.spam, reqid, n, argv, m);
		else
			lookup_spamtrain_ctl(r->self, r->bayes, reqid, n,
			    argv, m);
		goto out;
	}
	if (err == NULL && msg_end(m) == -1)
		err = "malformed request";
	if (err != NULL)
		lookup_ctl_end(r, reqid, 2, err);
	else if (n == 0)
		lookup_ctl_end(r, reqid, 2, "unknown command");
	else if (strcmp(argv[0], "tlsrpt") == 0)
		lookup_tlsrpt_ctl(r->tlsrpt, reqid, n, argv);
	else if (strcmp(argv[0], "spf") == 0)
		lookup_spf_ctl(r->spf, reqid, n, argv);
	else if (strcmp(argv[0], "prescreen") == 0)
		lookup_prescreen_ctl(r->prescreen, reqid, n, argv);
	else if (strcmp(argv[0], "dkim") == 0)
		lookup_dkimsign_ctl(r->auth.dkimsign, reqid, n, argv,
		    lookup_dkim_domain_ours, r);
	else if (strcmp(argv[0], "dns") == 0)
		lookup_dnsrec_ctl(r->dnsrec, reqid, n, argv,
		    lookup_dkim_domain_ours, r);
	else if (strcmp(argv[0], "dmarc") == 0)
		lookup_dmarcrep_ctl(r->auth.dmarcrep, reqid, n, argv);
	else if (strcmp(argv[0], "greylist") == 0)
		lookup_greylist_ctl(r->greylist, reqid, n, argv);
	else if (strcmp(argv[0], "tls") == 0)
		lookup_acme_ctl(r->acme, r->self, reqid, n, argv);
	else {
		argv[n] = NULL;
		/* Too many words match no verb: the noun's usage. */
		lookup_ctl_run(r, reqid, too_many ? LOOKUP_CTL_ARGC_MAX + 1 : n,
		    argv);
	}
out:
	/* Any of them may be a password. */
	for (i = 0; i < n; i++) {
		explicit_bzero(argv[i], strlen(argv[i]));
		free(argv[i]);
	}
}

/*
 * MSG_LOOKUP_TLSRPT_MAIL from the mda: a delivered message (its fd) that
 * may be a report for one of our domains, read (at most
 * LOOKUP_REPORT_MAIL_MAX octets) and offered to the TLS-RPT reader,
 * then to the DMARC one; what neither takes is logged and dropped.
 */
static void
lookup_report_mail(struct lookup_role *r, enum proc_id from, struct msg *m)
{
	uint64_t	 len;
	char		*data = NULL;
	int		 fd;

	if (msg_get_u64(m, &len) == -1 || msg_end(m) == -1 ||
	    (fd = msg_take_fd(m)) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from));
	if (len == 0 || len > LOOKUP_REPORT_MAIL_MAX) {
		log_info("lookup: event=report-received result=ignored "
		    "reason=\"message too large\"");
		goto done;
	}
	data = xmalloc(len);
	if (pread(fd, data, len, 0) != (ssize_t)len) {
		log_warn("lookup: event=report-received result=ignored "
		    "reason=\"cannot read the message\"");
		goto done;
	}
	if (lookup_tlsrpt_mail(r->tlsrpt, data, len) == -1)
		(void)lookup_dmarcrep_mail(r->auth.dmarcrep, data, len);
done:
	free(data);
	close(fd);
}

/* --- the role --- */

static void
lookup_dispatch(struct proc_self *self, struct proc_peer from, struct msg *m)
{
	struct lookup_role	*r = self->role;
	int			 fd;

	switch (m->type) {
	case MSG_LOOKUP_AUTH:
		if (from.id != PROC_SMTP && from.id != PROC_IMAP &&
		    from.id != PROC_POP3)
			goto bad;
		lookup_auth(r, from, m);
		break;
	case MSG_LOOKUP_MAIL:
		if (from.id != PROC_SMTP)
			goto bad;
		lookup_mail(r, from, m);
		break;
	case MSG_LOOKUP_RCPT:
		if (from.id != PROC_SMTP)
			goto bad;
		lookup_rcpt(r, from, m);
		break;
	case MSG_LOOKUP_RESOLVE:
		if (from.id != PROC_QUEUE)
			goto bad;
		lookup_resolve(r, from, m);
		break;
	case MSG_LOOKUP_APOP:
		if (from.id != PROC_POP3)
			goto bad;
		lookup_apop(r, from, m);
		break;
	case MSG_LOOKUP_MAILBOX:
		if (from.id != PROC_POP3 && from.id != PROC_IMAP)
			goto bad;
		lookup_mailbox(r, from, m);
		break;
	case MSG_LOOKUP_SCRAM_SALT:
	case MSG_LOOKUP_SCRAM_PROOF:
		if (from.id != PROC_SMTP && from.id != PROC_IMAP &&
		    from.id != PROC_POP3)
			goto bad;
		if (m->type == MSG_LOOKUP_SCRAM_SALT)
			lookup_scram_salt(r, from, m);
		else
			lookup_scram_proof(r, from, m);
		break;
	case MSG_LOOKUP_USAGE:
		if (from.id != PROC_MDA && from.id != PROC_IMAP &&
		    from.id != PROC_POP3)
			goto bad;
		lookup_usage_report(r, from, m);
		break;
	case MSG_CTL_REQUEST:
		if (from.id != PROC_PARENT)
			goto bad;
		lookup_ctl(r, m);
		break;
	case MSG_LOOKUP_KEY_CHANNEL:
		if ((from.id != PROC_SMTP && from.id != PROC_POP3 &&
		    from.id != PROC_IMAP && from.id != PROC_HTTP) ||
		    msg_end(m) == -1 ||
		    (fd = msg_take_fd(m)) == -1)
			goto bad;
		lookup_tls_channel(r->tls, from, fd);
		break;
	case MSG_LOOKUP_TLS_RELOAD:
		if (from.id != PROC_PARENT)
			goto bad;
		lookup_tls_reload(r->tls, m);
		break;
	case MSG_LOOKUP_MX:
		if (from.id != PROC_MTA)
			goto bad;
		lookup_mx_request(r->mx, from.id, m);
		break;
	case MSG_LOOKUP_TLSRPT:
		if (from.id != PROC_MTA)
			goto bad;
		lookup_tlsrpt_record(r->tlsrpt, from.id, m);
		break;
	case MSG_LOOKUP_TLSRPT_RUA:
		if (from.id != PROC_MTA)
			goto bad;
		lookup_tlsrpt_rua(r->tlsrpt, from.id, m);
		break;
	case MSG_LOOKUP_TLSRPT_MAIL:
		if (from.id != PROC_MDA)
			goto bad;
		lookup_report_mail(r, from.id, m);
		break;
	case MSG_LOOKUP_SPF:
		if (from.id != PROC_SMTP)
			goto bad;
		lookup_spf_request(r->spf, from, m);
		break;
	case MSG_LOOKUP_MESSAGE:
		if (from.id != PROC_SMTP)
			goto bad;
		lookup_msgauth_request(r->msgauth, from, m);
		break;
	case MSG_LOOKUP_SIGN:
		if (from.id != PROC_QUEUE)
			goto bad;
		lookup_msgauth_sign(r->msgauth, from, m);
		break;
	case MSG_LOOKUP_PRESCREEN:
		if (from.id != PROC_SMTP)
			goto bad;
		lookup_prescreen_request(r->prescreen, from, m);
		break;
	case MSG_LOOKUP_GREYLIST:
		if (from.id != PROC_SMTP)
			goto bad;
		lookup_greylist_request(r->greylist, from, m);
		break;
	case MSG_LOOKUP_SPAM_TRAIN:
		if (from.id != PROC_IMAP)
			goto bad;
		lookup_spamtrain_imap(r->bayes, from, m);
		break;
	case MSG_LOOKUP_STS:
	case MSG_LOOKUP_STS_STORE:
		if (from.id != PROC_MTA)
			goto bad;
		if (m->type == MSG_LOOKUP_STS)
			lookup_sts_request(r->sts, from.id, m);
		else
			lookup_sts_store(r->sts, from.id, m);
		break;
	default:
		goto bad;
	}
	/* Passwords ride in AUTH and ctl messages: leave no copy behind. */
	if (m->data.data != NULL)
		explicit_bzero(m->data.data, m->data.len);
	msg_free(m);
	return;
bad:
	fatalx("lookup: unexpected %s from %s", msg_name(m->type),
	    proc_name(from.id));
}

/* A peer came or went: answers to its old requests are not for the new. */
static void
lookup_peer_change(struct proc_self *self, struct proc_peer p)
{
	struct lookup_role	*r = self->role;

	r->gen[p.id][p.worker]++;
	if (r->mx != NULL)
		lookup_mx_peer_change(r->mx, p.id);
	lookup_sts_peer_change(r->sts, p.id);
	lookup_spf_peer_change(r->spf, p);
	lookup_msgauth_peer_change(r->msgauth, p);
	lookup_acme_peer_change(r->acme, p);
}

/* The embedded demo comes with a user to try things with. */
static void
lookup_demo_user(struct lookup_role *r)
{
	const char	*err = NULL;
	bool		 exists;

	if (r->conf->demo_user[0] == '\0')
		return;
	if (users_user_exists(r->db, r->conf->demo_user, &exists, &err) == -1)
		log_warnx("lookup: demo user: %s", err);
	else if (!exists && users_user_add(r->db, r->conf->demo_user,
	    r->conf->demo_password, &err) == -1)
		log_warnx("lookup: demo user %s: %s", r->conf->demo_user, err);
	else if (!exists)
		log_info("event=demo-user-created user=%s",
		    r->conf->demo_user);
}

/* Make the database agree with the config: every domain there is ours. */
static void
lookup_sync_domains(struct lookup_role *r)
{
	const char	*err = NULL;
	size_t		 i;
	bool		 exists;

	for (i = 0; i < r->conf->ndomains; i++) {
		if (users_domain_exists(r->db, r->conf->domains[i], &exists,
		    &err) == -1) {
			log_warnx("lookup: domain %s: %s",
			    r->conf->domains[i], err);
			continue;
		}
		if (exists)
			continue;
		if (users_domain_add(r->db, r->conf->domains[i], &err) == -1)
			log_warnx("lookup: cannot add domain %s: %s",
			    r->conf->domains[i], err);
		else
			log_info("event=domain-added domain=%s source=config",
			    r->conf->domains[i]);
	}
	lookup_demo_user(r);
}

void
lookup_main(struct proc_self *self)
{
	struct lookup_role	*r;
	const char		*err = NULL;
	char			 cert[CONF_PATH_MAX], key[CONF_PATH_MAX];
	struct psl		*psl;
	struct tls_key		*tlskey;

	r = xcalloc(1, sizeof(*r));
	r->self = self;
	r->conf = self->conf;
	r->usage = xcalloc(LOOKUP_USAGE_SLOTS, sizeof(*r->usage));
	self->role = r;
	self->dispatch = lookup_dispatch;
	self->peer_up = lookup_peer_change;
	self->peer_down = lookup_peer_change;

	/* It reads /etc/resolv.conf and the relay passwords: before chroot. */
	r->mx = lookup_mx_new(self);
	/*
	 * The TLS private key, which only we hold: smtp and pop3 send
	 * their handshakes' signatures here (keyproxy.h).  Without it
	 * their handshakes fail, each with a log line; the rest works.
	 */
	proc_tls_paths(r->conf, cert, key, sizeof(cert));
	if ((tlskey = tls_key_load(cert, key, &err)) == NULL)
		log_warnx("lookup: tls: %s", err);
	r->tls = lookup_tls_new(self, tlskey);
	/* iconv's modules cannot be loaded in the chroot: the filters */
	log_debug("lookup: %zu charsets preloaded", mime_charset_preload());
	/* DMARC's Public Suffix List lives outside the chroot. */
	psl = lookup_dmarc_psl_load(r->conf);
	/* ACME reads its CA bundle now, its files after the drop. */
	r->acme = lookup_acme_new(self, r->conf, r->tls, lookup_mx_dns(r->mx));
	proc_drop(self);
	/* After proc_drop the role's directory is the current one. */
	if ((r->db = users_open(LOOKUP_DB, true, &err)) == NULL)
		fatalx("lookup: %s/%s: %s", self->dir_path, LOOKUP_DB, err);
	lookup_sync_domains(r);
	r->srs = lookup_srs_new(r->conf);
	r->sts = lookup_sts_new(self, lookup_mx_dns(r->mx));
	r->tlsrpt = lookup_tlsrpt_new(self, r->conf, lookup_mx_dns(r->mx));
	r->spf = lookup_spf_new(self, r->conf, lookup_mx_dns(r->mx));
	r->auth.dkim = lookup_dkim_new(self, r->conf, lookup_mx_dns(r->mx));
	r->auth.dkimsign = lookup_dkimsign_new(self, r->conf);
	lookup_tlsrpt_set_signer(r->tlsrpt, r->auth.dkimsign);
	r->auth.arc = lookup_arc_new(self, r->conf, lookup_mx_dns(r->mx),
	    r->auth.dkimsign);
	r->auth.dmarc = lookup_dmarc_new(self, r->conf, lookup_mx_dns(r->mx));
	lookup_dmarc_set_psl(r->auth.dmarc, psl);
	r->auth.dmarcrep = lookup_dmarcrep_new(self, r->conf,
	    lookup_mx_dns(r->mx));
	lookup_dmarcrep_set_signer(r->auth.dmarcrep, r->auth.dkimsign);
	if ((r->bayes = lookup_bayes_open(r->conf, LOOKUP_BAYES_DB, r->err,
	    sizeof(r->err))) == NULL)
		fatalx("lookup: %s/%s: %s", self->dir_path, LOOKUP_BAYES_DB,
		    r->err);
	r->auth.spam = lookup_spam_new(self, r->conf, r->bayes);
	r->prescreen = lookup_prescreen_new(self, r->conf,
	    lookup_mx_dns(r->mx));
	r->greylist = lookup_greylist_new(self, r->conf);
	r->msgauth = lookup_msgauth_new(self, r->conf, &r->auth);
	r->dnsrec = lookup_dnsrec_new(self, r->conf, lookup_mx_dns(r->mx),
	    r->auth.dkimsign, r->tls, r->acme);
	r->pool = pool_start(self->base, "lookup", LOOKUP_WORKERS,
	    lookup_worker_db, NULL);
	log_debug("lookup: ready db=%s/%s workers=%d", self->dir_path,
	    LOOKUP_DB, LOOKUP_WORKERS);
	proc_run(self);
}
