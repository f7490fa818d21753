/*
 * lookup_dmarcrep: DMARC aggregate reports sent and reports received
 * (RFC 7489 §7; msgauth.h, lookup_dmarcrep.h), in the lookup role.
 * SQLite in WAL mode under lookup's directory; every statement bound,
 * never assembled.
 *
 * Rows are written in batches: the first row opens a transaction that
 * is committed after LOOKUP_DMARCREP_BATCH rows or LOOKUP_DMARCREP_FLUSH_MS,
 * whichever comes first, and before anything reads the rows.  A kill -9
 * loses the open batch (at most 63 rows or a second's worth); WAL keeps
 * the committed ones.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "conf.h"
#include "dmarcrep.h"
#include "log.h"
#include "lookup_dkimsign.h"
#include "lookup_sql.h"
#include "lookup_dmarcrep.h"
#include "tlsrpt.h"
#include "util.h"

#define LOOKUP_DMARCREP_DAY		86400
#define LOOKUP_DMARCREP_INTERVAL_MIN	60	/* seconds */
#define LOOKUP_DMARCREP_GROUPS_MAX	1000	/* reports in one round */
#define LOOKUP_DMARCREP_RECORDS_MAX	10000	/* <record>s in a report */
#define LOOKUP_DMARCREP_URIS_MAX	8	/* rua URIs used */
#define LOOKUP_DMARCREP_DKIM_TEXT	(MSGAUTH_SIGS_MAX * \
					    (2 * DNS_NAME_MAX + 16))
/* a mailed report must fit one ipc message to the queue */
#define LOOKUP_DMARCREP_MAIL_MAX	(IPC_PAYLOAD_MAX - 4096)

static const char lookup_dmarcrep_schema[] =
    "CREATE TABLE IF NOT EXISTS rows ("
    " t INTEGER NOT NULL, policy_domain TEXT NOT NULL,"
    " org_domain TEXT NOT NULL, rua TEXT NOT NULL, source_ip TEXT NOT NULL,"
    " header_from TEXT NOT NULL, envelope_from TEXT NOT NULL,"
    " envelope_to TEXT NOT NULL, spf_domain TEXT NOT NULL,"
    " spf_scope TEXT NOT NULL, spf_result TEXT NOT NULL,"
    " dkim TEXT NOT NULL, dkim_pass INTEGER NOT NULL,"
    " spf_pass INTEGER NOT NULL, disposition INTEGER NOT NULL,"
    " policy INTEGER NOT NULL, reasons TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS rows_dom ON rows (policy_domain, rua, t);"
    "CREATE TABLE IF NOT EXISTS meta ("
    " k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS received ("
    " org TEXT NOT NULL, report_id TEXT NOT NULL, domain TEXT NOT NULL,"
    " begin INTEGER NOT NULL, end INTEGER NOT NULL,"
    " records INTEGER NOT NULL, messages INTEGER NOT NULL,"
    " pass INTEGER NOT NULL, fail INTEGER NOT NULL,"
    " sources TEXT NOT NULL, received INTEGER NOT NULL,"
    " PRIMARY KEY (org, report_id));"
    "CREATE TABLE IF NOT EXISTS failures ("
    " reporter TEXT NOT NULL, feedback_type TEXT NOT NULL,"
    " domain TEXT NOT NULL, source_ip TEXT NOT NULL,"
    " mail_from TEXT NOT NULL, auth_failure TEXT NOT NULL,"
    " arrival TEXT NOT NULL, incidents INTEGER NOT NULL,"
    " received INTEGER NOT NULL);";

static const char lookup_dmarcrep_insert[] =
    "INSERT INTO rows (t, policy_domain, org_domain, rua, source_ip,"
    " header_from, envelope_from, envelope_to, spf_domain, spf_scope,"
    " spf_result, dkim, dkim_pass, spf_pass, disposition, policy, reasons)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
    " ?15, ?16, ?17)";

struct lookup_dmarcrep {
	struct proc_self	*self;
	const struct conf	*conf;
	struct dns		*dns;
	sqlite3			*db;	/* NULL: rows are dropped */
	sqlite3_stmt		*ins;	/* lookup_dmarcrep_insert */
	size_t			 batch;	/* rows in the open transaction */
	struct event		*ev_flush;
	struct event		*ev_send;	/* every dmarc-report-interval */
	struct lookup_dkimsign	*dkimsign;	/* signs the reports */
};

/* One round of sending: a `cachetctl dmarc send`, or the timer's. */
struct lookup_dmarcrep_round {
	struct lookup_dmarcrep	*lr;
	bool			 ctl;
	uint64_t		 reqid;
	size_t			 pending;	/* jobs out */
	size_t			 sent, refused, toolarge, failed;
};

/* One rua URI of a report. */
struct lookup_dmarcrep_dest {
	char		 addr[CONF_ADDR_MAX + 1];
	uint64_t	 limit;		/* octets, 0 none */
	bool		 external;	/* §7.1: another organisation's */
	int		 verified;	/* -1 no, 0 asking, 1 yes */
};

/* One (policy domain, rua) report of a round. */
struct lookup_dmarcrep_job {
	struct lookup_dmarcrep_round	*r;
	char				 domain[DNS_NAME_MAX + 1];
	char				 org[DNS_NAME_MAX + 1];
	char				 rua[512];
	uint64_t			 cutoff;	/* the report's end */
	uint64_t			 maxrow;	/* rows up to it */
	/* policy_published, from the record now (its defaults else) */
	char				 adkim, aspf;
	uint32_t			 p, sp, pct;
	char				 fo[32];
	struct lookup_dmarcrep_dest	 dest[LOOKUP_DMARCREP_URIS_MAX];
	size_t				 ndest;
	size_t				 pending;	/* TXT lookups out */
};

/* The verification query of one external destination. */
struct lookup_dmarcrep_verify {
	struct lookup_dmarcrep_job	*j;
	size_t				 i;
};

static void lookup_dmarcrep_job_done(struct lookup_dmarcrep_job *);

/* --- the database --- */

static int
lookup_dmarcrep_db_open(struct lookup_dmarcrep *lr)
{
	if ((lr->db = lookup_sql_open(lr->self, LOOKUP_DMARCREP_DB,
	    lookup_dmarcrep_schema, "DMARC report rows are not kept")) == NULL)
		return -1;
	/* a row's commit need not wait for the disk: WAL keeps it whole */
	if (sqlite3_exec(lr->db, "PRAGMA synchronous=NORMAL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(lr->db, lookup_dmarcrep_insert, -1, &lr->ins,
	    NULL) != SQLITE_OK) {
		log_warnx("lookup: dmarc: %s", sqlite3_errmsg(lr->db));
		sqlite3_close(lr->db);
		lr->db = NULL;
		return -1;
	}
	return 0;
}

/* lookup_sql_vstmt() on our database. */
static sqlite3_stmt *
lookup_dmarcrep_stmt(struct lookup_dmarcrep *lr, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, fmt);
	st = lookup_sql_vstmt(lr->db, "dmarc", sql, fmt, ap);
	va_end(ap);
	return st;
}

static int
lookup_dmarcrep_run(struct lookup_dmarcrep *lr, sqlite3_stmt *st)
{
	return lookup_sql_run(lr->db, "dmarc", st);
}


/* --- recording --- */

void
lookup_dmarcrep_flush(struct lookup_dmarcrep *lr)
{
	if (lr->db == NULL || lr->batch == 0)
		return;
	if (sqlite3_exec(lr->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("lookup: event=dmarc-rows-lost rows=%zu reason=\"%s\"",
		    lr->batch, sqlite3_errmsg(lr->db));
		(void)sqlite3_exec(lr->db, "ROLLBACK", NULL, NULL, NULL);
	}
	lr->batch = 0;
	evtimer_del(lr->ev_flush);
}

static void
lookup_dmarcrep_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	lookup_dmarcrep_flush(arg);
}

static const char *
lookup_dmarcrep_dkim_name(enum msgauth_dkim_result r)
{
	switch (r) {
	case MSGAUTH_DKIM_PASS:
		return "pass";
	case MSGAUTH_DKIM_FAIL:
		return "fail";
	case MSGAUTH_DKIM_NEUTRAL:
		return "neutral";
	case MSGAUTH_DKIM_POLICY:
		return "policy";
	case MSGAUTH_DKIM_TEMPERROR:
		return "temperror";
	default:
		return "permerror";
	}
}

/* A name as it goes into the rows: printable, no blank. */
static bool
lookup_dmarcrep_word(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* The domain of an address ("" none), as the row keeps it. */
static const char *
lookup_dmarcrep_domain_of(const char *addr)
{
	const char	*at = strrchr(addr, '@');

	return at != NULL && lookup_dmarcrep_word(at + 1) ? at + 1 : "";
}

_Static_assert(DMARCREP_DKIM_MAX <= MSGAUTH_SIGS_MAX, "m->dkim[] bound");

/* The DKIM results of m, one "domain selector result" line each. */
static void
lookup_dmarcrep_dkim_text(const struct msgauth *m, char *out, size_t outsz)
{
	const struct msgauth_dkim	*d;
	size_t				 i, o = 0;
	int				 n;

	out[0] = '\0';
	for (i = 0; i < m->ndkim && i < DMARCREP_DKIM_MAX; i++) {
		d = &m->dkim[i];
		if (d->domain[0] == '\0' || !lookup_dmarcrep_word(d->domain) ||
		    !lookup_dmarcrep_word(d->selector))
			continue;
		n = snprintf(out + o, outsz - o, "%s%s %s %s", o > 0 ? "\n" :
		    "", d->domain, d->selector[0] != '\0' ? d->selector : "-",
		    lookup_dmarcrep_dkim_name(d->result));
		if (n < 0 || (size_t)n >= outsz - o) {
			out[o] = '\0';
			break;
		}
		o += (size_t)n;
	}
}

void
lookup_dmarcrep_record(struct lookup_dmarcrep *lr, const struct msgauth *m)
{
	const struct msgauth_dmarc	*d = &m->dmarc;
	char				 dkim[LOOKUP_DMARCREP_DKIM_TEXT];
	char				 reasons[64];
	struct timeval			 tv;
	sqlite3_stmt			*st = lr->ins;
	const char			*spfdom;
	int				 rc = SQLITE_OK;

	/*
	 * §7.2: a row for each message whose From: domain had a DMARC
	 * record with somewhere to report to; the others have no reader.
	 */
	if (lr->db == NULL || d->result == MSGAUTH_DMARC_NONE ||
	    d->policy_domain[0] == '\0' || d->rua[0] == '\0' ||
	    !lookup_dmarcrep_word(d->policy_domain))
		return;
	lookup_dmarcrep_dkim_text(m, dkim, sizeof(dkim));
	/* Appendix C PolicyOverrideType: why the disposition is not p= */
	(void)snprintf(reasons, sizeof(reasons), "%s%s%s",
	    d->sampled_out ? "sampled_out " : "",
	    d->arc_override ? "trusted_forwarder " : "",
	    d->result == MSGAUTH_DMARC_FAIL && !d->sampled_out &&
	    !d->arc_override && d->disposition != d->policy ?
	    "local_policy" : "");
	spfdom = m->spf_domain[0] != '\0' ? m->spf_domain :
	    lookup_dmarcrep_domain_of(m->mailfrom);
	if (lr->batch == 0) {
		if (sqlite3_exec(lr->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto fail;
		tv.tv_sec = LOOKUP_DMARCREP_FLUSH_MS / 1000;
		tv.tv_usec = (LOOKUP_DMARCREP_FLUSH_MS % 1000) * 1000;
		evtimer_add(lr->ev_flush, &tv);
	}
	lr->batch++;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
#define BIND_T(i, v) if (rc == SQLITE_OK) \
		rc = sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)
#define BIND_I(i, v) if (rc == SQLITE_OK) \
		rc = sqlite3_bind_int64(st, i, (sqlite3_int64)(v))
	BIND_I(1, time(NULL));
	BIND_T(2, d->policy_domain);
	BIND_T(3, d->org_domain);
	BIND_T(4, d->rua);
	BIND_T(5, m->ip);
	BIND_T(6, d->from_domain);
	BIND_T(7, lookup_dmarcrep_domain_of(m->mailfrom));
	BIND_T(8, m->nrcpts > 0 ? lookup_dmarcrep_domain_of(m->rcpts[0]) :
	    "");
	BIND_T(9, spfdom);
	BIND_T(10, strcmp(m->spf_identity, "helo") == 0 ? "helo" : "mfrom");
	BIND_T(11, spf_result_name(m->spf));
	BIND_T(12, dkim);
	BIND_I(13, d->dkim_aligned);
	BIND_I(14, d->spf_aligned);
	BIND_I(15, d->disposition);
	BIND_I(16, d->policy);
	BIND_T(17, reasons);
#undef BIND_T
#undef BIND_I
	if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_reset(st);
	if (lr->batch >= LOOKUP_DMARCREP_BATCH)
		lookup_dmarcrep_flush(lr);
	return;
fail:
	sqlite3_reset(st);
	log_warnx("lookup: event=dmarc-row-lost domain=%s reason=\"%s\"",
	    d->policy_domain, sqlite3_errmsg(lr->db));
}

/* --- building a report --- */

/* One grouped record with the strings it points to. */
struct lookup_dmarcrep_rec {
	struct dmarcrep_record	 r;
	char			*strs[8];	/* owned */
};

static void
lookup_dmarcrep_recs_free(struct lookup_dmarcrep_rec *recs, size_t n)
{
	size_t	i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < 8; k++)
			free(recs[i].strs[k]);
	free(recs);
}

/* Split the rows' dkim text (owned by rec) into rec->r.dkim[]. */
static void
lookup_dmarcrep_rec_dkim(struct lookup_dmarcrep_rec *rec, char *text)
{
	struct dmarcrep_dkim	*d;
	char			*line, *next, *sel, *res;

	for (line = text; line != NULL && *line != '\0' &&
	    rec->r.ndkim < DMARCREP_DKIM_MAX; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((sel = strchr(line, ' ')) == NULL ||
		    (res = strchr(sel + 1, ' ')) == NULL)
			continue;
		*sel++ = '\0';
		*res++ = '\0';
		d = &rec->r.dkim[rec->r.ndkim++];
		d->domain = line;
		d->selector = strcmp(sel, "-") == 0 ? "" : sel;
		d->result = res;
	}
}

/* The override reasons ("a b") owned by rec, into rec->r.reasons[]. */
static void
lookup_dmarcrep_rec_reasons(struct lookup_dmarcrep_rec *rec, char *text)
{
	char	*w;

	while ((w = strsep(&text, " ")) != NULL &&
	    rec->r.nreasons < DMARCREP_REASONS_MAX)
		if (*w != '\0')
			rec->r.reasons[rec->r.nreasons++] = w;
}

/* The report of job j's rows, XML appended to xml; -1 none or error. */
static int
lookup_dmarcrep_build(struct lookup_dmarcrep_job *j, const char *from,
    const char *report_id, uint64_t *begin_out, struct buf *xml)
{
	struct lookup_dmarcrep	*lr = j->r->lr;
	struct lookup_dmarcrep_rec *recs;
	struct dmarcrep_record	*flat;
	struct dmarcrep_report	 rep;
	sqlite3_stmt		*st;
	const char		*err;
	uint64_t		 begin = j->cutoff;
	size_t			 n = 0, i;
	int			 rc = -1;

	if ((st = lookup_dmarcrep_stmt(lr, "SELECT source_ip, disposition, "
	    "dkim_pass, spf_pass, header_from, envelope_to, spf_domain, "
	    "spf_scope, spf_result, dkim, reasons, count(*), min(t) FROM rows "
	    "WHERE policy_domain = ?1 AND rua = ?2 AND rowid <= ?3 GROUP BY "
	    "source_ip, disposition, dkim_pass, spf_pass, header_from, "
	    "envelope_to, spf_domain, spf_scope, spf_result, dkim, reasons "
	    "ORDER BY count(*) DESC, source_ip LIMIT ?4", "ttii", j->domain,
	    j->rua, j->maxrow, (uint64_t)LOOKUP_DMARCREP_RECORDS_MAX)) ==
	    NULL)
		return -1;
	recs = xcalloc(LOOKUP_DMARCREP_RECORDS_MAX, sizeof(*recs));
	while (n < LOOKUP_DMARCREP_RECORDS_MAX &&
	    sqlite3_step(st) == SQLITE_ROW) {
		struct lookup_dmarcrep_rec	*rec = &recs[n++];

		for (i = 0; i < 8; i++)
			rec->strs[i] = xstrdup(lookup_sql_col(st,
			    i < 2 ? 0 : (int)i + 2));
		/* strs: ip, -, header_from, envelope_to, spf_domain, ... */
		rec->r.source_ip = rec->strs[0];
		rec->r.disposition = (uint32_t)sqlite3_column_int64(st, 1);
		rec->r.dkim_pass = sqlite3_column_int64(st, 2) != 0;
		rec->r.spf_pass = sqlite3_column_int64(st, 3) != 0;
		rec->r.header_from = rec->strs[2];
		rec->r.envelope_to = rec->strs[3];
		rec->r.spf_domain = rec->strs[4];
		rec->r.spf_scope = rec->strs[5];
		rec->r.spf_result = rec->strs[6];
		lookup_dmarcrep_rec_dkim(rec, rec->strs[7]);
		free(rec->strs[1]);
		rec->strs[1] = xstrdup(lookup_sql_col(st, 10));
		lookup_dmarcrep_rec_reasons(rec, rec->strs[1]);
		rec->r.count = (uint64_t)sqlite3_column_int64(st, 11);
		if ((uint64_t)sqlite3_column_int64(st, 12) < begin)
			begin = (uint64_t)sqlite3_column_int64(st, 12);
	}
	sqlite3_finalize(st);
	if (n == 0)
		goto done;
	flat = xcalloc(n, sizeof(*flat));
	for (i = 0; i < n; i++)
		flat[i] = recs[i].r;
	memset(&rep, 0, sizeof(rep));
	rep.org_name = lr->conf->hostname;
	rep.email = from;
	rep.report_id = report_id;
	rep.begin = begin;
	rep.end = j->cutoff;
	rep.domain = j->domain;
	rep.adkim = j->adkim;
	rep.aspf = j->aspf;
	rep.p = j->p;
	rep.sp = j->sp;
	rep.pct = j->pct;
	rep.fo = j->fo;
	rep.records = flat;
	rep.nrecords = n;
	if ((rc = dmarcrep_build(&rep, xml, &err)) == -1)
		log_warnx("lookup: dmarc: report for %s: %s", j->domain, err);
	*begin_out = begin;
	free(flat);
done:
	lookup_dmarcrep_recs_free(recs, n);
	return rc;
}

/* --- sending (§7.2) --- */

/* The address our reports come from: dmarc-report-from, or postmaster. */
static void
lookup_dmarcrep_from(const struct lookup_dmarcrep *lr, char *out,
    size_t outsz)
{
	const struct conf	*c = lr->conf;

	if (c->dmarc_report_from[0] != '\0')
		(void)str_copy(out, outsz, c->dmarc_report_from);
	else
		(void)snprintf(out, outsz, "postmaster@%s", c->ndomains > 0 ?
		    c->domains[0] : c->hostname);
}

static void
lookup_dmarcrep_round_done(struct lookup_dmarcrep_round *r)
{
	char	line[200];

	if (r->pending > 0)
		return;
	if (r->ctl) {
		(void)snprintf(line, sizeof(line), "%zu report%s queued, %zu "
		    "destination%s not authorised (RFC 7489 §7.1), %zu too "
		    "large, %zu failed", r->sent, r->sent == 1 ? "" : "s",
		    r->refused, r->refused == 1 ? "" : "s", r->toolarge,
		    r->failed);
		proc_ctl_line(r->lr->self, r->reqid, line);
		proc_ctl_end(r->lr->self, r->reqid, r->failed > 0 ? 1 : 0,
		    r->failed > 0 ? "some reports were not sent" : NULL);
	}
	free(r);
}

/* A report mailed out, while it is being signed. */
struct lookup_dmarcrep_out {
	struct lookup_dmarcrep	*lr;
	char			 from[CONF_ADDR_MAX + 1];
	char			 to[CONF_ADDR_MAX + 1];
	char			 domain[DNS_NAME_MAX + 1];
	char			 report_id[DNS_NAME_MAX + 64];
	struct buf		 msg;
};

/* The report, signed when our keys could (lookup_dkimsign.h): queue it. */
static void
lookup_dmarcrep_inject(void *arg, struct buf *msg)
{
	struct lookup_dmarcrep_out	*o = arg;
	struct msg			*m;

	m = msg_new(MSG_QUEUE_INJECT);
	msg_put_str(m, o->from);
	msg_put_str(m, o->to);
	msg_put_data(m, msg->data, msg->len);
	if (proc_send(o->lr->self, PROC_QUEUE, m) == -1)
		log_warnx("lookup: event=dmarc-report-failed domain=%s to=<%s> "
		    "reason=\"cannot queue the report\"", o->domain, o->to);
	else
		log_info("lookup: event=dmarc-report-sent domain=%s to=<%s> "
		    "report_id=%s size=%zu", o->domain, o->to, o->report_id,
		    msg->len);
	buf_free(&o->msg);
	free(o);
}

/* Mail the report to one destination; counts in the round. */
static void
lookup_dmarcrep_mail_out(struct lookup_dmarcrep_job *j,
    const struct lookup_dmarcrep_dest *d, const char *from,
    const char *report_id, uint64_t begin, const struct buf *gz)
{
	struct lookup_dmarcrep		*lr = j->r->lr;
	struct lookup_dmarcrep_out	*o;
	struct dmarcrep_mail		 dm;
	char				 bnd[40], line[700];

	o = xcalloc(1, sizeof(*o));
	o->lr = lr;
	(void)str_copy(o->from, sizeof(o->from), from);
	(void)str_copy(o->to, sizeof(o->to), d->addr);
	(void)str_copy(o->domain, sizeof(o->domain), j->domain);
	(void)str_copy(o->report_id, sizeof(o->report_id), report_id);
	(void)snprintf(bnd, sizeof(bnd), "dmarc.%08x%08x", arc4random(),
	    arc4random());
	buf_init(&o->msg, LOOKUP_DMARCREP_MAIL_MAX);
	memset(&dm, 0, sizeof(dm));
	dm.from = from;
	dm.to = d->addr;
	dm.domain = j->domain;
	dm.submitter = lr->conf->hostname;
	dm.report_id = report_id;
	dm.begin = begin;
	dm.end = j->cutoff;
	dm.now = (uint64_t)time(NULL);
	dm.boundary = bnd;
	dm.gz = gz->data;
	dm.gzlen = gz->len;
	if (dmarcrep_mail_compose(&dm, &o->msg) == -1) {
		log_warnx("lookup: event=dmarc-report-failed domain=%s to=<%s> "
		    "reason=\"cannot compose the report\"", j->domain, d->addr);
		j->r->failed++;
		goto fail;
	}
	/*
	 * §6.2: a size limit on the URI; past it the report is not sent.
	 * (The DKIM signatures added below are not counted.)
	 */
	if (d->limit != 0 && o->msg.len > d->limit) {
		log_warnx("lookup: event=dmarc-report-skipped domain=%s "
		    "to=<%s> reason=\"%zu octets over the rua limit %llu\"",
		    j->domain, d->addr, o->msg.len,
		    (unsigned long long)d->limit);
		j->r->toolarge++;
		goto fail;
	}
	j->r->sent++;
	if (j->r->ctl) {
		(void)snprintf(line, sizeof(line), "sent domain=%s to=<%s> "
		    "report-id=%s size=%zu", j->domain, d->addr, report_id,
		    o->msg.len);
		proc_ctl_line(lr->self, j->r->reqid, line);
	}
	/* Signed (when From: is ours) before it is queued, then sent. */
	if (lr->dkimsign != NULL)
		lookup_dkimsign_message(lr->dkimsign, &o->msg,
		    lookup_dmarcrep_inject, o);
	else
		lookup_dmarcrep_inject(o, &o->msg);
	return;
fail:
	buf_free(&o->msg);
	free(o);
}

/* Every lookup of j answered: build, send, forget the rows. */
static void
lookup_dmarcrep_job_done(struct lookup_dmarcrep_job *j)
{
	struct lookup_dmarcrep		*lr = j->r->lr;
	struct lookup_dmarcrep_round	*r = j->r;
	struct buf			 xml, gz;
	char				 from[CONF_ADDR_MAX + 1], id[DNS_NAME_MAX + 64];
	char				 line[700];
	uint64_t			 begin = j->cutoff;
	size_t				 i;

	if (j->pending > 0)
		return;
	lookup_dmarcrep_from(lr, from, sizeof(from));
	/* §7.2.1.1 report id: unique per report (the domain is alongside) */
	(void)snprintf(id, sizeof(id), "%llu.%08x@%s",
	    (unsigned long long)j->cutoff, arc4random(), lr->conf->hostname);
	buf_init(&xml, DMARCREP_XML_MAX);
	buf_init(&gz, LOOKUP_DMARCREP_MAIL_MAX);
	if (lookup_dmarcrep_build(j, from, id, &begin, &xml) == -1 ||
	    tlsrpt_gzip(xml.data, xml.len, &gz) == -1) {
		r->failed++;
		goto forget;
	}
	for (i = 0; i < j->ndest; i++) {
		if (j->dest[i].verified != 1) {
			r->refused++;
			log_warnx("lookup: event=dmarc-report-skipped domain=%s "
			    "to=<%s> reason=\"no %s._report._dmarc record "
			    "(RFC 7489 §7.1)\"", j->domain, j->dest[i].addr,
			    j->domain);
			if (r->ctl) {
				(void)snprintf(line, sizeof(line), "refused "
				    "domain=%s to=<%s> reason=\"not authorised "
				    "by the destination (RFC 7489 §7.1)\"",
				    j->domain, j->dest[i].addr);
				proc_ctl_line(lr->self, r->reqid, line);
			}
			continue;
		}
		lookup_dmarcrep_mail_out(j, &j->dest[i], from, id, begin, &gz);
	}
forget:
	(void)lookup_dmarcrep_run(lr, lookup_dmarcrep_stmt(lr, "DELETE FROM "
	    "rows WHERE policy_domain = ?1 AND rua = ?2 AND rowid <= ?3", "tti",
	    j->domain, j->rua, j->maxrow));
	buf_free(&xml);
	buf_free(&gz);
	free(j);
	r->pending--;
	lookup_dmarcrep_round_done(r);
}

/* "v=DMARC1" first (§6.4), exactly as the record must start. */
static bool
lookup_dmarcrep_is_dmarc(const struct dns_txt *t)
{
	return t->len >= 8 && memcmp(t->data, "v=DMARC1", 8) == 0 &&
	    (t->len == 8 || t->data[8] == ';' || t->data[8] == ' ' ||
	    t->data[8] == '\t');
}

/* policy_published from the record's tags (§6.3; defaults kept). */
static void
lookup_dmarcrep_policy(struct lookup_dmarcrep_job *j,
    const struct dns_txt *t)
{
	struct span	tag, v;
	size_t		pos = 0;
	uint64_t	n;
	bool		ovf, sp = false;
	int		d;

	while (dkim_tag_next(span_make(t->data, t->len), &pos, &tag, &v) ==
	    1) {
		if (span_eq(tag, "p") || span_eq(tag, "sp")) {
			d = span_eq(v, "none") ? DMARCREP_NONE :
			    span_eq(v, "quarantine") ? DMARCREP_QUARANTINE :
			    span_eq(v, "reject") ? DMARCREP_REJECT : -1;
			if (d == -1)
				continue;
			if (span_eq(tag, "p"))
				j->p = (uint32_t)d;
			else {
				j->sp = (uint32_t)d;
				sp = true;
			}
		} else if ((span_eq(tag, "adkim") || span_eq(tag, "aspf")) &&
		    v.len == 1 && (v.ptr[0] == 'r' || v.ptr[0] == 's'))
			*(span_eq(tag, "adkim") ? &j->adkim : &j->aspf) =
			    v.ptr[0];
		else if (span_eq(tag, "pct") && span_to_u64(v, &n, &ovf) ==
		    0 && !ovf && n <= 100)
			j->pct = (uint32_t)n;
		else if (span_eq(tag, "fo") && v.len > 0 &&
		    v.len < sizeof(j->fo) && memchr(v.ptr, '\0', v.len) ==
		    NULL) {
			memcpy(j->fo, v.ptr, v.len);
			j->fo[v.len] = '\0';
		}
	}
	if (!sp)
		j->sp = j->p;
}

static void
lookup_dmarcrep_policy_cb(void *arg, const struct dns_result *res)
{
	struct lookup_dmarcrep_job	*j = arg;
	size_t				 i;

	for (i = 0; res->status == DNS_OK && i < res->nrrs; i++)
		if (res->rrs[i].type == DNS_T_TXT &&
		    lookup_dmarcrep_is_dmarc(&res->rrs[i].u.txt)) {
			lookup_dmarcrep_policy(j, &res->rrs[i].u.txt);
			break;
		}
	j->pending--;
	lookup_dmarcrep_job_done(j);
}

static void
lookup_dmarcrep_verify_cb(void *arg, const struct dns_result *res)
{
	struct lookup_dmarcrep_verify	*v = arg;
	struct lookup_dmarcrep_job	*j = v->j;
	size_t				 i;

	/* §7.1: a TXT record there that starts with v=DMARC1 says yes */
	j->dest[v->i].verified = -1;
	for (i = 0; res->status == DNS_OK && i < res->nrrs; i++)
		if (res->rrs[i].type == DNS_T_TXT &&
		    lookup_dmarcrep_is_dmarc(&res->rrs[i].u.txt))
			j->dest[v->i].verified = 1;
	free(v);
	j->pending--;
	lookup_dmarcrep_job_done(j);
}

/* dom is org or under it: the same organisational domain (§3.2). */
static bool
lookup_dmarcrep_same_org(const char *dom, const char *org)
{
	size_t	dl = strlen(dom), ol = strlen(org);

	if (ol == 0)
		return false;
	if (dl == ol)
		return strcasecmp(dom, org) == 0;
	return dl > ol && dom[dl - ol - 1] == '.' &&
	    strcasecmp(dom + dl - ol, org) == 0;
}

/* Ask what job j needs: the policy record, each §7.1 authorisation. */
static void
lookup_dmarcrep_job_start(struct lookup_dmarcrep_job *j)
{
	struct lookup_dmarcrep		*lr = j->r->lr;
	struct lookup_dmarcrep_verify	*v;
	char				 name[DNS_NAME_TEXT_MAX + 1], *uri,
					*rest, list[sizeof(j->rua)];
	const char			*err, *org, *rdom;
	size_t				 i;

	j->adkim = j->aspf = 'r';
	j->pct = 100;
	(void)str_copy(j->fo, sizeof(j->fo), "0");
	(void)str_copy(list, sizeof(list), j->rua);
	rest = list;
	/* §6.4: rua is a comma-separated list of URIs */
	while ((uri = strsep(&rest, ",")) != NULL &&
	    j->ndest < LOOKUP_DMARCREP_URIS_MAX) {
		uri += strspn(uri, " \t");
		uri[strcspn(uri, " \t")] = '\0';
		if (dmarcrep_uri_parse(uri, strlen(uri), j->dest[j->ndest].addr,
		    sizeof(j->dest[0].addr), &j->dest[j->ndest].limit) == -1)
			continue;
		j->ndest++;
	}
	org = j->org[0] != '\0' ? j->org : j->domain;
	j->pending = 1;		/* until every query is out */
	if (lr->dns != NULL && snprintf(name, sizeof(name), "_dmarc.%s",
	    j->domain) < (int)sizeof(name) && dns_query(lr->dns, name,
	    DNS_T_TXT, lookup_dmarcrep_policy_cb, j, &err) != NULL)
		j->pending++;
	for (i = 0; i < j->ndest; i++) {
		rdom = strrchr(j->dest[i].addr, '@') + 1;
		if (lookup_dmarcrep_same_org(rdom, org)) {
			j->dest[i].verified = 1;
			continue;
		}
		j->dest[i].external = true;
		j->dest[i].verified = -1;
		v = xcalloc(1, sizeof(*v));
		v->j = j;
		v->i = i;
		if (lr->dns == NULL || snprintf(name, sizeof(name),
		    "%s._report._dmarc.%s", j->domain, rdom) >=
		    (int)sizeof(name) || dns_query(lr->dns, name, DNS_T_TXT,
		    lookup_dmarcrep_verify_cb, v, &err) == NULL) {
			free(v);
			continue;
		}
		j->dest[i].verified = 0;
		j->pending++;
	}
	j->pending--;
	lookup_dmarcrep_job_done(j);
}

/* A round: every (policy domain, rua) with rows up to now. */
static void
lookup_dmarcrep_send_all(struct lookup_dmarcrep *lr, bool ctl,
    uint64_t reqid)
{
	struct lookup_dmarcrep_round	*r;
	struct lookup_dmarcrep_job	*j, **jobs;
	sqlite3_stmt			*st;
	uint64_t			 now = (uint64_t)time(NULL), maxrow = 0;
	size_t				 n = 0, i;

	lookup_dmarcrep_flush(lr);
	r = xcalloc(1, sizeof(*r));
	r->lr = lr;
	r->ctl = ctl;
	r->reqid = reqid;
	r->pending = 1;		/* until every job is started */
	(void)lookup_dmarcrep_run(lr, lookup_dmarcrep_stmt(lr, "INSERT INTO "
	    "meta (k, v) VALUES ('last_sent', ?1) ON CONFLICT DO UPDATE SET "
	    "v = ?1", "i", now));
	/*
	 * Rows up to the last one now: those recorded while the round's
	 * lookups are out wait for the next round.
	 */
	if ((st = lookup_dmarcrep_stmt(lr, "SELECT max(rowid) FROM rows",
	    "")) != NULL) {
		if (sqlite3_step(st) == SQLITE_ROW)
			maxrow = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	jobs = xcalloc(LOOKUP_DMARCREP_GROUPS_MAX,
	    sizeof(struct lookup_dmarcrep_job *));
	if ((st = lookup_dmarcrep_stmt(lr, "SELECT policy_domain, "
	    "max(org_domain), rua FROM rows WHERE rowid <= ?1 GROUP BY "
	    "policy_domain, rua ORDER BY policy_domain LIMIT ?2", "ii", maxrow,
	    (uint64_t)LOOKUP_DMARCREP_GROUPS_MAX)) == NULL)
		r->failed++;
	while (st != NULL && n < LOOKUP_DMARCREP_GROUPS_MAX &&
	    sqlite3_step(st) == SQLITE_ROW) {
		j = xcalloc(1, sizeof(*j));
		j->r = r;
		j->cutoff = now;
		j->maxrow = maxrow;
		if (str_copy(j->domain, sizeof(j->domain),
		    lookup_sql_col(st, 0)) == -1 ||
		    str_copy(j->org, sizeof(j->org),
		    lookup_sql_col(st, 1)) == -1 ||
		    str_copy(j->rua, sizeof(j->rua),
		    lookup_sql_col(st, 2)) == -1) {
			free(j);
			r->failed++;
			continue;
		}
		jobs[n++] = j;
	}
	sqlite3_finalize(st);
	/* the statement is done before a job's callback may write */
	r->pending += n;
	for (i = 0; i < n; i++)
		lookup_dmarcrep_job_start(jobs[i]);
	free(jobs);
	r->pending--;
	lookup_dmarcrep_round_done(r);
}

static unsigned
lookup_dmarcrep_interval(const struct lookup_dmarcrep *lr)
{
	return lr->conf->dmarc_report_interval < LOOKUP_DMARCREP_INTERVAL_MIN ?
	    LOOKUP_DMARCREP_INTERVAL_MIN : lr->conf->dmarc_report_interval;
}

static void
lookup_dmarcrep_timer(evutil_socket_t fd, short what, void *arg)
{
	struct lookup_dmarcrep	*lr = arg;
	struct timeval		 tv = { 0, 0 };

	lookup_dmarcrep_send_all(lr, false, 0);
	tv.tv_sec = lookup_dmarcrep_interval(lr);
	evtimer_add(lr->ev_send, &tv);
}

/*
 * The first round one interval after the last one, kept in the
 * database, so that restarts (a reload restarts us) do not put it off.
 */
static void
lookup_dmarcrep_schedule(struct lookup_dmarcrep *lr)
{
	struct timeval	 tv = { 0, 0 };
	sqlite3_stmt	*st;
	uint64_t	 now = (uint64_t)time(NULL), last = now;

	if ((st = lookup_dmarcrep_stmt(lr, "SELECT v FROM meta WHERE k = "
	    "'last_sent'", "")) != NULL) {
		if (sqlite3_step(st) == SQLITE_ROW)
			last = (uint64_t)sqlite3_column_int64(st, 0);
		else
			(void)lookup_dmarcrep_run(lr, lookup_dmarcrep_stmt(lr,
			    "INSERT INTO meta (k, v) VALUES ('last_sent', ?1)",
			    "i", now));
		sqlite3_finalize(st);
	}
	if (last > now)
		last = now;
	tv.tv_sec = last + lookup_dmarcrep_interval(lr) > now ?
	    (time_t)(last + lookup_dmarcrep_interval(lr) - now) : 1;
	evtimer_add(lr->ev_send, &tv);
}

/* --- reports received --- */

static int
lookup_dmarcrep_keep_aggregate(struct lookup_dmarcrep *lr,
    const struct dmarcrep_summary *s)
{
	char	sources[DMARCREP_SOURCES_MAX * (DMARCREP_IP_MAX + 24)];
	size_t	i, o = 0;
	int	n;

	sources[0] = '\0';
	for (i = 0; i < s->nsources; i++) {
		n = snprintf(sources + o, sizeof(sources) - o, "%s%s:%llu",
		    o > 0 ? " " : "", s->sources[i].ip,
		    (unsigned long long)s->sources[i].count);
		if (n < 0 || (size_t)n >= sizeof(sources) - o)
			break;
		o += (size_t)n;
	}
	/* bounded: past the cap the oldest received go first */
	(void)lookup_dmarcrep_run(lr, lookup_dmarcrep_stmt(lr, "DELETE FROM "
	    "received WHERE rowid IN (SELECT rowid FROM received ORDER BY "
	    "received LIMIT max(0, (SELECT count(*) FROM received) - ?1 + 1))",
	    "i", (uint64_t)LOOKUP_DMARCREP_RECEIVED_MAX));
	return lookup_dmarcrep_run(lr, lookup_dmarcrep_stmt(lr, "INSERT OR "
	    "IGNORE INTO received (org, report_id, domain, begin, end, "
	    "records, messages, pass, fail, sources, received) VALUES (?1, ?2, "
	    "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", "tttiiiiiiti", s->org,
	    s->report_id, s->domain, s->begin, s->end, (uint64_t)s->nrecords,
	    s->messages, s->pass, s->fail, sources, (uint64_t)time(NULL)));
}

static int
lookup_dmarcrep_keep_failure(struct lookup_dmarcrep *lr,
    struct dmarcrep_arf *a)
{
	/* RFC 6591 §3.1: "Source-IP: 192.0.2.1 (a comment)" */
	a->source_ip[strcspn(a->source_ip, " \t(")] = '\0';
	(void)lookup_dmarcrep_run(lr, lookup_dmarcrep_stmt(lr, "DELETE FROM "
	    "failures WHERE rowid IN (SELECT rowid FROM failures ORDER BY "
	    "received LIMIT max(0, (SELECT count(*) FROM failures) - ?1 + 1))",
	    "i", (uint64_t)LOOKUP_DMARCREP_RECEIVED_MAX));
	return lookup_dmarcrep_run(lr, lookup_dmarcrep_stmt(lr, "INSERT INTO "
	    "failures (reporter, feedback_type, domain, source_ip, mail_from, "
	    "auth_failure, arrival, incidents, received) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9)", "tttttttii", a->user_agent,
	    a->feedback_type, a->reported_domain, a->source_ip,
	    a->original_mail_from, a->auth_failure, a->arrival_date,
	    a->incidents, (uint64_t)time(NULL)));
}

int
lookup_dmarcrep_mail(struct lookup_dmarcrep *lr, const char *data,
    size_t len)
{
	struct dmarcrep_summary	*s;
	struct dmarcrep_arf	 a;
	struct buf		 xml;
	const char		*err = NULL, *aerr;
	char			 show[DMARCREP_TEXT_MAX * 4 + 1];
	int			 rc = -1;

	s = xcalloc(1, sizeof(*s));
	buf_init(&xml, DMARCREP_XML_MAX);
	if (dmarcrep_extract(data, len, &xml, &err) == 0 &&
	    dmarcrep_parse(xml.data, xml.len, s, &err) == 0) {
		if (lookup_dmarcrep_keep_aggregate(lr, s) == -1) {
			err = "cannot store it";
			goto done;
		}
		log_info("lookup: event=dmarc-report-received org=\"%s\" "
		    "domain=%s messages=%llu pass=%llu fail=%llu",
		    printable(s->org, strlen(s->org), show, sizeof(show)),
		    s->domain, (unsigned long long)s->messages,
		    (unsigned long long)s->pass, (unsigned long long)s->fail);
		rc = 0;
		goto done;
	}
	if (dmarcrep_arf_parse(data, len, &a, &aerr) == 0) {
		if (lookup_dmarcrep_keep_failure(lr, &a) == -1) {
			err = "cannot store it";
			goto done;
		}
		log_info("lookup: event=dmarc-failure-received type=%s "
		    "domain=%s source=%s", printable(a.feedback_type,
		    strlen(a.feedback_type), show, sizeof(show)),
		    a.reported_domain, a.source_ip);
		rc = 0;
	}
done:
	if (rc == -1)
		log_info("lookup: event=dmarc-report-received result=ignored "
		    "reason=\"%s\"", err != NULL ? err : "not a report");
	buf_free(&xml);
	free(s);
	return rc;
}

/* --- cachetctl --- */

/* A Unix day as YYYY-MM-DD. */
static int
lookup_dmarcrep_day(int64_t days, char *out, size_t outsz)
{
	time_t		t = (time_t)days * LOOKUP_DMARCREP_DAY;
	struct tm	tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%d", &tm) == 0)
		return -1;
	return 0;
}

static void
lookup_dmarcrep_reports(struct lookup_dmarcrep *lr, uint64_t reqid,
    const char *domain)
{
	sqlite3_stmt	*st;
	char		 line[2048], day[16], org[DMARCREP_TEXT_MAX * 4 + 1];
	bool		 any = domain != NULL;

	if ((st = lookup_dmarcrep_stmt(lr, "SELECT org, begin / 86400, "
	    "group_concat(DISTINCT domain), count(*), sum(messages), "
	    "sum(pass), sum(fail), group_concat(NULLIF(sources, ''), ' ') "
	    "FROM received WHERE ?1 = 0 OR domain = ?2 COLLATE NOCASE "
	    "GROUP BY org, begin / 86400 ORDER BY org, begin / 86400", "it",
	    (uint64_t)any, any ? domain : "")) == NULL) {
		proc_ctl_end(lr->self, reqid, 1, "no DMARC database");
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (lookup_dmarcrep_day(sqlite3_column_int64(st, 1), day,
		    sizeof(day)) == -1)
			continue;
		(void)snprintf(line, sizeof(line), "aggregate org=\"%s\" "
		    "day=%s domains=%s reports=%lld messages=%lld pass=%lld "
		    "fail=%lld failing=%s", printable(lookup_sql_col(st,
		    0), strlen(lookup_sql_col(st, 0)), org, sizeof(org)),
		    day, lookup_sql_col(st, 2),
		    (long long)sqlite3_column_int64(st, 3),
		    (long long)sqlite3_column_int64(st, 4),
		    (long long)sqlite3_column_int64(st, 5),
		    (long long)sqlite3_column_int64(st, 6),
		    lookup_sql_col(st, 7)[0] != '\0' ?
		    lookup_sql_col(st, 7) : "-");
		proc_ctl_line(lr->self, reqid, line);
	}
	sqlite3_finalize(st);
	if ((st = lookup_dmarcrep_stmt(lr, "SELECT reporter, received / 86400, "
	    "domain, count(*), sum(incidents), group_concat(DISTINCT "
	    "source_ip), group_concat(DISTINCT auth_failure) FROM failures "
	    "WHERE ?1 = 0 OR domain = ?2 COLLATE NOCASE GROUP BY reporter, "
	    "received / 86400, domain ORDER BY reporter, received / 86400",
	    "it", (uint64_t)any, any ? domain : "")) == NULL) {
		proc_ctl_end(lr->self, reqid, 1, "no DMARC database");
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (lookup_dmarcrep_day(sqlite3_column_int64(st, 1), day,
		    sizeof(day)) == -1)
			continue;
		(void)snprintf(line, sizeof(line), "failure reporter=\"%s\" "
		    "day=%s domain=%s reports=%lld incidents=%lld sources=%s "
		    "auth-failure=%s", printable(lookup_sql_col(st, 0),
		    strlen(lookup_sql_col(st, 0)), org, sizeof(org)), day,
		    lookup_sql_col(st, 2),
		    (long long)sqlite3_column_int64(st, 3),
		    (long long)sqlite3_column_int64(st, 4),
		    lookup_sql_col(st, 5)[0] != '\0' ?
		    lookup_sql_col(st, 5) : "-",
		    lookup_sql_col(st, 6)[0] != '\0' ?
		    lookup_sql_col(st, 6) : "-");
		proc_ctl_line(lr->self, reqid, line);
	}
	sqlite3_finalize(st);
	proc_ctl_end(lr->self, reqid, 0, NULL);
}

void
lookup_dmarcrep_ctl(struct lookup_dmarcrep *lr, uint64_t reqid, size_t argc,
    char **argv)
{
	if (argc == 2 && strcmp(argv[1], "send") == 0)
		lookup_dmarcrep_send_all(lr, true, reqid);
	else if (argc >= 2 && argc <= 3 && strcmp(argv[1], "reports") == 0)
		lookup_dmarcrep_reports(lr, reqid, argc == 3 ? argv[2] : NULL);
	else
		proc_ctl_end(lr->self, reqid, 2, "usage: dmarc send | dmarc "
		    "reports [DOMAIN]");
}

struct lookup_dmarcrep *
lookup_dmarcrep_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_dmarcrep	*lr;

	lr = xcalloc(1, sizeof(*lr));
	lr->self = self;
	lr->conf = conf;
	lr->dns = dns;
	if ((lr->ev_flush = evtimer_new(self->base, lookup_dmarcrep_flush_cb,
	    lr)) == NULL ||
	    (lr->ev_send = evtimer_new(self->base, lookup_dmarcrep_timer,
	    lr)) == NULL)
		fatalx("lookup: evtimer_new");
	if (lookup_dmarcrep_db_open(lr) == 0)
		lookup_dmarcrep_schedule(lr);
	return lr;
}

void
lookup_dmarcrep_set_signer(struct lookup_dmarcrep *lr,
    struct lookup_dkimsign *ls)
{
	lr->dkimsign = ls;
}

void
lookup_dmarcrep_free(struct lookup_dmarcrep *lr)
{
	if (lr == NULL)
		return;
	lookup_dmarcrep_flush(lr);
	sqlite3_finalize(lr->ins);
	sqlite3_close(lr->db);
	event_free(lr->ev_flush);
	event_free(lr->ev_send);
	free(lr);
}
