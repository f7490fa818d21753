/*
 * lookup_tlsrpt: TLS-RPT counts, reports and received reports in the
 * lookup role (lookup_tlsrpt.h).  SQLite in WAL mode under lookup's
 * directory; every statement bound, never assembled.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "dns.h"
#include "log.h"
#include "lookup_dkimsign.h"
#include "lookup_sql.h"
#include "lookup_tlsrpt.h"
#include "util.h"

#define LOOKUP_TLSRPT_DAY	86400
#define LOOKUP_TLSRPT_IP_MAX	TLSRPT_IP_MAX
#define LOOKUP_TLSRPT_INFO_MAX	256
#define LOOKUP_TLSRPT_DOMAINS_MAX	1000	/* reported in one round */
#define LOOKUP_TLSRPT_ADDRS_MAX	8	/* MTA_TLSRPT_ADDRS_MAX */
#define LOOKUP_TLSRPT_INTERVAL_MIN	60	/* seconds */
#define LOOKUP_TLSRPT_FIRST		10	/* seconds after start */
/* a mailed report must fit one ipc message to the queue */
#define LOOKUP_TLSRPT_MAIL_MAX	(IPC_PAYLOAD_MAX - 4096)

static const char lookup_tlsrpt_schema[] =
    "CREATE TABLE IF NOT EXISTS sessions ("
    " day INTEGER NOT NULL, domain TEXT NOT NULL, ptype INTEGER NOT NULL,"
    " policy TEXT NOT NULL, mx TEXT NOT NULL,"
    " ok INTEGER NOT NULL DEFAULT 0, fail INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (day, domain, ptype, policy, mx));"
    "CREATE TABLE IF NOT EXISTS failures ("
    " day INTEGER NOT NULL, domain TEXT NOT NULL, ptype INTEGER NOT NULL,"
    " policy TEXT NOT NULL, mx TEXT NOT NULL, result INTEGER NOT NULL,"
    " sip TEXT NOT NULL, rmx TEXT NOT NULL, rip TEXT NOT NULL,"
    " info TEXT NOT NULL, count INTEGER NOT NULL,"
    " PRIMARY KEY (day, domain, ptype, policy, mx, result, sip, rmx, rip));"
    "CREATE TABLE IF NOT EXISTS received ("
    " org TEXT NOT NULL, report_id TEXT NOT NULL, domain TEXT NOT NULL,"
    " start INTEGER NOT NULL, end INTEGER NOT NULL,"
    " policies INTEGER NOT NULL, ok INTEGER NOT NULL,"
    " fail INTEGER NOT NULL, received INTEGER NOT NULL,"
    " PRIMARY KEY (org, report_id));";

struct lookup_tlsrpt {
	struct proc_self	*self;
	const struct conf	*conf;
	struct dns		*dns;
	sqlite3			*db;	/* NULL: results are dropped */
	struct event		*ev_send;	/* every tlsrpt-interval */
	struct lookup_dkimsign	*dkimsign;	/* signs the reports */
};

/* One round of sending: a `cachetctl tlsrpt send`, or the timer's. */
struct lookup_tlsrpt_batch {
	struct lookup_tlsrpt	*lt;
	bool			 ctl;
	uint64_t		 reqid;
	size_t			 pending;	/* TXT lookups out */
	size_t			 sent;		/* reports queued */
	size_t			 posted;	/* handed to the mta */
	size_t			 norecord;	/* domains without a record */
	size_t			 failed;
};

/* The TXT lookup of one domain in a round. */
struct lookup_tlsrpt_job {
	struct lookup_tlsrpt_batch	*b;
	char				 domain[TLSRPT_NAME_MAX + 1];
	uint64_t			 maxday;	/* days up to it */
};

/* One sessions row, with its failure details, owned strings. */
struct lookup_tlsrpt_row {
	uint32_t		 ptype;
	char			*policy, *mx;
	uint64_t		 ok, fail;
	struct tlsrpt_failure	*fd;
	size_t			 nfd;
};

/* --- the database --- */

static int
lookup_tlsrpt_db_open(struct lookup_tlsrpt *lt)
{
	lt->db = lookup_sql_open(lt->self, LOOKUP_TLSRPT_DB,
	    lookup_tlsrpt_schema, "TLS-RPT results are not kept");
	return lt->db != NULL ? 0 : -1;
}

/* lookup_sql_vstmt() on our database. */
static sqlite3_stmt *
lookup_tlsrpt_stmt(struct lookup_tlsrpt *lt, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, fmt);
	st = lookup_sql_vstmt(lt->db, "tlsrpt", sql, fmt, ap);
	va_end(ap);
	return st;
}

static int
lookup_tlsrpt_run(struct lookup_tlsrpt *lt, sqlite3_stmt *st)
{
	return lookup_sql_run(lt->db, "tlsrpt", st);
}


/* --- recording (RFC 8460 §4) --- */

struct lookup_tlsrpt_result {
	char		 domain[TLSRPT_NAME_MAX + 1];
	uint32_t	 ptype;
	char		 policy[LOOKUP_TLSRPT_STR_MAX + 1];
	char		 mx[LOOKUP_TLSRPT_STR_MAX + 1];
	uint32_t	 result;
	char		 sip[LOOKUP_TLSRPT_IP_MAX];
	char		 rmx[TLSRPT_NAME_MAX + 1];
	char		 rip[LOOKUP_TLSRPT_IP_MAX];
	char		 info[LOOKUP_TLSRPT_INFO_MAX + 1];
};

static int
lookup_tlsrpt_write(struct lookup_tlsrpt *lt,
    const struct lookup_tlsrpt_result *r, uint64_t day)
{
	sqlite3_stmt	*st;
	bool		 ok = r->result == TLSRPT_OK;
	int64_t		 n = 0;

	if (lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "BEGIN IMMEDIATE",
	    "")) == -1)
		return -1;
	if (lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "INSERT INTO "
	    "sessions (day, domain, ptype, policy, mx, ok, fail) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO UPDATE SET "
	    "ok = ok + ?6, fail = fail + ?7", "itittii", day, r->domain,
	    (uint64_t)r->ptype, r->policy, r->mx, (uint64_t)ok,
	    (uint64_t)!ok)) == -1)
		goto fail;
	if (ok)
		goto commit;
	/* a detail row per kind of failure, at most DETAILS_MAX of them */
	if ((st = lookup_tlsrpt_stmt(lt, "UPDATE failures SET count = "
	    "count + 1 WHERE day = ?1 AND domain = ?2 AND ptype = ?3 AND "
	    "policy = ?4 AND mx = ?5 AND result = ?6 AND sip = ?7 AND "
	    "rmx = ?8 AND rip = ?9", "itittittt", day, r->domain,
	    (uint64_t)r->ptype, r->policy, r->mx, (uint64_t)r->result,
	    r->sip, r->rmx, r->rip)) == NULL ||
	    lookup_tlsrpt_run(lt, st) == -1)
		goto fail;
	if (sqlite3_changes(lt->db) > 0)
		goto commit;
	if ((st = lookup_tlsrpt_stmt(lt, "SELECT count(*) FROM failures "
	    "WHERE day = ?1 AND domain = ?2 AND ptype = ?3 AND policy = ?4 "
	    "AND mx = ?5", "ititt", day, r->domain, (uint64_t)r->ptype,
	    r->policy, r->mx)) == NULL)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n < LOOKUP_TLSRPT_DETAILS_MAX &&
	    lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "INSERT INTO "
	    "failures (day, domain, ptype, policy, mx, result, sip, rmx, rip, "
	    "info, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1)",
	    "itittitttt", day, r->domain, (uint64_t)r->ptype, r->policy,
	    r->mx, (uint64_t)r->result, r->sip, r->rmx, r->rip, r->info)) ==
	    -1)
		goto fail;
commit:
	if (lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "COMMIT", "")) == -1)
		goto fail;
	return 0;
fail:
	(void)sqlite3_exec(lt->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

void
lookup_tlsrpt_record(struct lookup_tlsrpt *lt, enum proc_id from,
    struct msg *m)
{
	struct lookup_tlsrpt_result	 r;

	memset(&r, 0, sizeof(r));
	if (msg_get_str(m, r.domain, sizeof(r.domain)) == -1 ||
	    msg_get_u32(m, &r.ptype) == -1 ||
	    msg_get_str(m, r.policy, sizeof(r.policy)) == -1 ||
	    msg_get_str(m, r.mx, sizeof(r.mx)) == -1 ||
	    msg_get_u32(m, &r.result) == -1 ||
	    msg_get_str(m, r.sip, sizeof(r.sip)) == -1 ||
	    msg_get_str(m, r.rmx, sizeof(r.rmx)) == -1 ||
	    msg_get_str(m, r.rip, sizeof(r.rip)) == -1 ||
	    msg_get_str(m, r.info, sizeof(r.info)) == -1 ||
	    msg_end(m) == -1 || r.domain[0] == '\0' ||
	    r.ptype >= TLSRPT_POLICY_TYPE_COUNT ||
	    r.result >= TLSRPT_RESULT_COUNT)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from));
	if (lt->db == NULL)
		return;
	if (lookup_tlsrpt_write(lt, &r, (uint64_t)time(NULL) /
	    LOOKUP_TLSRPT_DAY) == -1)
		log_warnx("lookup: event=tlsrpt-lost domain=%s", r.domain);
}

/* --- reports received (§5.3) --- */

int
lookup_tlsrpt_mail(struct lookup_tlsrpt *lt, const char *data, size_t len)
{
	struct tlsrpt_summary	 sum;
	struct buf		 json;
	const char		*err = NULL;
	char			 show[TLSRPT_TEXT_MAX + 1];
	int			 rc = 0;

	memset(&sum, 0, sizeof(sum));
	buf_init(&json, TLSRPT_JSON_MAX);
	if (tlsrpt_mail_extract(data, len, &json, &err) == -1) {
		/* not a TLS-RPT report: the DMARC reader's turn */
		rc = -1;
		goto log;
	}
	if (tlsrpt_parse(json.data, json.len, &sum, &err) == -1)
		goto log;
	err = NULL;
	/* bounded: past the cap the oldest received go first */
	(void)lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "DELETE FROM "
	    "received WHERE rowid IN (SELECT rowid FROM received ORDER BY "
	    "received LIMIT max(0, (SELECT count(*) FROM received) - ?1 + 1))",
	    "i", (uint64_t)LOOKUP_TLSRPT_RECEIVED_MAX));
	if (lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "INSERT OR IGNORE "
	    "INTO received (org, report_id, domain, start, end, policies, ok, "
	    "fail, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	    "tttiiiiii", sum.org, sum.report_id, sum.domain, sum.start,
	    sum.end, (uint64_t)sum.npolicies, sum.ok, sum.fail,
	    (uint64_t)time(NULL))) == -1)
		err = "cannot store it";
log:
	if (err != NULL)
		log_info("lookup: event=tlsrpt-received result=ignored "
		    "reason=\"%s\"", err);
	else
		log_info("lookup: event=tlsrpt-received org=\"%s\" domain=%s "
		    "success=%llu failure=%llu", printable(sum.org,
		    strnlen(sum.org, sizeof(sum.org)), show, sizeof(show)),
		    sum.domain, (unsigned long long)sum.ok,
		    (unsigned long long)sum.fail);
	buf_free(&json);
	return rc;
}

/* --- reports (§4.4) --- */

/* The address our reports come from: tlsrpt-from, or one of hostname. */
static void
lookup_tlsrpt_from(const struct lookup_tlsrpt *lt, char *out, size_t outsz)
{
	if (lt->conf->tlsrpt_from[0] != '\0')
		(void)str_copy(out, outsz, lt->conf->tlsrpt_from);
	else
		(void)snprintf(out, outsz, "noreply-tlsrpt@%s",
		    lt->conf->hostname);
}

static void
lookup_tlsrpt_rows_free(struct lookup_tlsrpt_row *rows, size_t n)
{
	size_t	i, j;

	for (i = 0; i < n; i++) {
		free(rows[i].policy);
		free(rows[i].mx);
		for (j = 0; j < rows[i].nfd; j++) {
			free((char *)rows[i].fd[j].sending_ip);
			free((char *)rows[i].fd[j].receiving_mx);
			free((char *)rows[i].fd[j].receiving_ip);
			free((char *)rows[i].fd[j].info);
		}
		free(rows[i].fd);
	}
	free(rows);
}

static int
lookup_tlsrpt_details(struct lookup_tlsrpt *lt, uint64_t day,
    const char *domain, struct lookup_tlsrpt_row *row)
{
	struct tlsrpt_failure	*f;
	sqlite3_stmt		*st;
	int			 rc;

	if ((st = lookup_tlsrpt_stmt(lt, "SELECT result, sip, rmx, rip, info, "
	    "count FROM failures WHERE day = ?1 AND domain = ?2 AND ptype = ?3 "
	    "AND policy = ?4 AND mx = ?5 ORDER BY result, rmx, rip, sip "
	    "LIMIT ?6", "ititti", day, domain, (uint64_t)row->ptype,
	    row->policy, row->mx, (uint64_t)LOOKUP_TLSRPT_DETAILS_MAX)) == NULL)
		return -1;
	row->fd = xcalloc(LOOKUP_TLSRPT_DETAILS_MAX, sizeof(*row->fd));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	    row->nfd < LOOKUP_TLSRPT_DETAILS_MAX) {
		f = &row->fd[row->nfd++];
		f->result = (uint32_t)sqlite3_column_int64(st, 0);
		f->sending_ip = xstrdup(lookup_sql_col(st, 1));
		f->receiving_mx = xstrdup(lookup_sql_col(st, 2));
		f->receiving_ip = xstrdup(lookup_sql_col(st, 3));
		f->info = xstrdup(lookup_sql_col(st, 4));
		f->count = (uint64_t)sqlite3_column_int64(st, 5);
		/* a database edited by hand must not make a bad report */
		if (f->result == TLSRPT_OK || f->result >= TLSRPT_RESULT_COUNT)
			f->result = TLSRPT_VALIDATION_FAILURE;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The report for domain's day (Unix days), as JSON to free(); NULL when
 * nothing was recorded or on error (logged).
 */
static char *
lookup_tlsrpt_report(struct lookup_tlsrpt *lt, const char *domain,
    uint64_t day, bool pretty)
{
	struct lookup_tlsrpt_row	*rows;
	struct tlsrpt_policy		*pol;
	struct tlsrpt_report		 rep;
	sqlite3_stmt			*st;
	char				 from[CONF_ADDR_MAX + 1], id[600];
	char				*json = NULL;
	const char			*err;
	size_t				 n = 0, i;

	if ((st = lookup_tlsrpt_stmt(lt, "SELECT ptype, policy, mx, ok, fail "
	    "FROM sessions WHERE day = ?1 AND domain = ?2 ORDER BY ptype, "
	    "policy, mx LIMIT ?3", "iti", day, domain,
	    (uint64_t)LOOKUP_TLSRPT_POLICIES_MAX)) == NULL)
		return NULL;
	rows = xcalloc(LOOKUP_TLSRPT_POLICIES_MAX, sizeof(*rows));
	while (sqlite3_step(st) == SQLITE_ROW &&
	    n < LOOKUP_TLSRPT_POLICIES_MAX) {
		rows[n].ptype = (uint32_t)sqlite3_column_int64(st, 0);
		rows[n].policy = xstrdup(lookup_sql_col(st, 1));
		rows[n].mx = xstrdup(lookup_sql_col(st, 2));
		rows[n].ok = (uint64_t)sqlite3_column_int64(st, 3);
		rows[n].fail = (uint64_t)sqlite3_column_int64(st, 4);
		n++;
	}
	sqlite3_finalize(st);
	pol = xcalloc(n + 1, sizeof(*pol));
	for (i = 0; i < n; i++) {
		if (lookup_tlsrpt_details(lt, day, domain, &rows[i]) == -1)
			goto done;
		pol[i].type = rows[i].ptype;
		pol[i].domain = domain;
		pol[i].strings = rows[i].policy;
		pol[i].mx_hosts = rows[i].mx;
		pol[i].ok = rows[i].ok;
		pol[i].fail = rows[i].fail;
		pol[i].failures = rows[i].fd;
		pol[i].nfailures = rows[i].nfd;
	}
	if (n == 0)
		goto done;
	lookup_tlsrpt_from(lt, from, sizeof(from));
	/* §4.4 report-id: unique per report; day, domain and who we are */
	(void)snprintf(id, sizeof(id), "%llu.%s@%s",
	    (unsigned long long)day, domain, lt->conf->hostname);
	rep.org = lt->conf->hostname;
	rep.contact = from;
	rep.report_id = id;
	rep.start = day * LOOKUP_TLSRPT_DAY;
	rep.end = rep.start + LOOKUP_TLSRPT_DAY;
	rep.policies = pol;
	rep.npolicies = n;
	if ((json = tlsrpt_build(&rep, pretty, &err)) == NULL)
		log_warnx("lookup: tlsrpt: report for %s: %s", domain, err);
done:
	free(pol);
	lookup_tlsrpt_rows_free(rows, n);
	return json;
}

/* --- sending (§3, §5.3) --- */

/* A report mailed out, while it is being signed. */
struct lookup_tlsrpt_out {
	struct lookup_tlsrpt	*lt;
	char			 from[CONF_ADDR_MAX + 1];
	char			 to[CONF_ADDR_MAX + 1];
	char			 domain[TLSRPT_NAME_MAX + 1];
	uint64_t		 day;
	struct buf		 msg;
};

/* The report, signed when our keys could (lookup_dkimsign.h): queue it. */
static void
lookup_tlsrpt_inject(void *arg, struct buf *msg)
{
	struct lookup_tlsrpt_out	*o = arg;
	struct msg			*m;

	m = msg_new(MSG_QUEUE_INJECT);
	msg_put_str(m, o->from);
	msg_put_str(m, o->to);
	msg_put_data(m, msg->data, msg->len);
	if (proc_send(o->lt->self, PROC_QUEUE, m) == -1)
		log_warnx("lookup: event=tlsrpt-failed domain=%s to=<%s> "
		    "reason=\"cannot queue the report\"", o->domain, o->to);
	else
		log_info("lookup: event=tlsrpt-sent domain=%s day=%llu "
		    "to=<%s> size=%zu", o->domain, (unsigned long long)o->day,
		    o->to, msg->len);
	buf_free(&o->msg);
	free(o);
}

/* Mail the report json of domain's day to the address to. */
static int
lookup_tlsrpt_mail_out(struct lookup_tlsrpt *lt, const char *domain,
    uint64_t day, const char *json, const char *to)
{
	struct tlsrpt_mail		 tm;
	struct lookup_tlsrpt_out	*o;
	struct buf			 gz;
	char				 id[600], bnd[40];
	int				 rc = -1;

	o = xcalloc(1, sizeof(*o));
	o->lt = lt;
	o->day = day;
	lookup_tlsrpt_from(lt, o->from, sizeof(o->from));
	(void)str_copy(o->to, sizeof(o->to), to);
	(void)str_copy(o->domain, sizeof(o->domain), domain);
	(void)snprintf(id, sizeof(id), "%llu.%s@%s", (unsigned long long)day,
	    domain, lt->conf->hostname);
	(void)snprintf(bnd, sizeof(bnd), "tlsrpt.%08x%08x", arc4random(),
	    arc4random());
	buf_init(&gz, LOOKUP_TLSRPT_MAIL_MAX);
	buf_init(&o->msg, LOOKUP_TLSRPT_MAIL_MAX);
	if (tlsrpt_gzip(json, strlen(json), &gz) == -1)
		goto done;
	memset(&tm, 0, sizeof(tm));
	tm.from = o->from;
	tm.to = to;
	tm.domain = domain;
	tm.submitter = lt->conf->hostname;
	tm.report_id = id;
	tm.start = day * LOOKUP_TLSRPT_DAY;
	tm.end = tm.start + LOOKUP_TLSRPT_DAY;
	tm.now = (uint64_t)time(NULL);
	tm.boundary = bnd;
	tm.gz = gz.data;
	tm.gzlen = gz.len;
	if (tlsrpt_mail_compose(&tm, &o->msg) == -1)
		goto done;
	rc = 0;
	/* Signed (when From: is ours) before it is queued, then sent. */
	if (lt->dkimsign != NULL)
		lookup_dkimsign_message(lt->dkimsign, &o->msg,
		    lookup_tlsrpt_inject, o);
	else
		lookup_tlsrpt_inject(o, &o->msg);
done:
	if (rc == -1) {
		log_warnx("lookup: event=tlsrpt-failed domain=%s to=<%s> "
		    "reason=\"cannot compose the report\"", domain, to);
		buf_free(&o->msg);
		free(o);
	}
	buf_free(&gz);
	return rc;
}

/* An https: rua's report while its host's addresses are asked. */
struct lookup_tlsrpt_post {
	struct lookup_tlsrpt	*lt;
	char			 url[TLSRPT_URI_MAX + 1];
	char			 host[TLSRPT_NAME_MAX + 1];
	struct buf		 gz;
	char			 ips[LOOKUP_TLSRPT_ADDRS_MAX][INET6_ADDRSTRLEN];
	size_t			 nips;
	int			 pending;
};

static void
lookup_tlsrpt_post_cb(void *arg, const struct dns_result *res)
{
	struct lookup_tlsrpt_post	*p = arg;
	struct msg			*m;
	size_t				 i;

	for (i = 0; res->status == DNS_OK && i < res->nrrs &&
	    p->nips < LOOKUP_TLSRPT_ADDRS_MAX; i++) {
		if (res->rrs[i].type == DNS_T_A)
			(void)inet_ntop(AF_INET, &res->rrs[i].u.a,
			    p->ips[p->nips++], INET6_ADDRSTRLEN);
		else if (res->rrs[i].type == DNS_T_AAAA)
			(void)inet_ntop(AF_INET6, &res->rrs[i].u.aaaa,
			    p->ips[p->nips++], INET6_ADDRSTRLEN);
	}
	if (--p->pending > 0)
		return;
	if (p->nips == 0)
		log_warnx("lookup: event=tlsrpt-failed url=%s reason=\"no "
		    "address for %s\"", p->url, p->host);
	else {
		/* RFC 8460 §5.4: POST, application/tlsrpt+gzip */
		m = msg_new(MSG_MTA_TLSRPT_POST);
		msg_put_str(m, p->url);
		msg_put_str(m, p->host);
		msg_put_u32(m, (uint32_t)p->nips);
		for (i = 0; i < p->nips; i++)
			msg_put_str(m, p->ips[i]);
		msg_put_data(m, p->gz.data, p->gz.len);
		(void)proc_send(p->lt->self, PROC_MTA, m);
	}
	buf_free(&p->gz);
	free(p);
}

/* Hand the report json to the mta to POST to the https: rua url. */
static int
lookup_tlsrpt_post(struct lookup_tlsrpt *lt, const char *url,
    const char *json)
{
	static const enum dns_type	 types[2] = { DNS_T_A, DNS_T_AAAA };
	struct lookup_tlsrpt_post	*p;
	const char			*err;
	size_t				 i;

	p = xcalloc(1, sizeof(*p));
	p->lt = lt;
	buf_init(&p->gz, LOOKUP_TLSRPT_MAIL_MAX);
	if (str_copy(p->url, sizeof(p->url), url) == -1 ||
	    tlsrpt_https_host(url, p->host, sizeof(p->host)) == -1 ||
	    tlsrpt_gzip(json, strlen(json), &p->gz) == -1 || lt->dns == NULL) {
		buf_free(&p->gz);
		free(p);
		return -1;
	}
	/* both queries first: a callback never runs inside dns_query() */
	for (i = 0; i < 2; i++)
		if (dns_query(lt->dns, p->host, types[i], lookup_tlsrpt_post_cb,
		    p, &err) != NULL)
			p->pending++;
	if (p->pending == 0) {
		buf_free(&p->gz);
		free(p);
		return -1;
	}
	return 0;
}

/*
 * §3: of the TXT records, those that start with "v=TLSRPTv1"; exactly
 * one must, else the domain has none.
 */
static int
lookup_tlsrpt_pick(const struct dns_result *res, struct tlsrpt_record *rec)
{
	const struct dns_txt	*t, *found = NULL;
	const char		*err;
	size_t			 i;

	if (res->status != DNS_OK)
		return -1;
	for (i = 0; i < res->nrrs; i++) {
		t = &res->rrs[i].u.txt;
		if (res->rrs[i].type != DNS_T_TXT || t->len < 10 ||
		    memcmp(t->data, "v=TLSRPTv1", 10) != 0)
			continue;
		if (found != NULL)
			return -1;
		found = t;
	}
	if (found == NULL ||
	    tlsrpt_record_parse(found->data, found->len, rec, &err) == -1)
		return -1;
	return 0;
}

static void
lookup_tlsrpt_batch_done(struct lookup_tlsrpt_batch *b)
{
	char	line[160];

	if (b->pending > 0)
		return;
	if (b->ctl) {
		(void)snprintf(line, sizeof(line), "%zu report%s queued, %zu "
		    "posted, %zu domain%s without a TLS-RPT record, %zu failed",
		    b->sent, b->sent == 1 ? "" : "s", b->posted, b->norecord,
		    b->norecord == 1 ? "" : "s", b->failed);
		proc_ctl_line(b->lt->self, b->reqid, line);
		proc_ctl_end(b->lt->self, b->reqid, b->failed > 0 ? 1 : 0,
		    b->failed > 0 ? "some reports were not sent" : NULL);
	}
	free(b);
}

/* Send each day of the job's domain to each mailto: rua of rec. */
static void
lookup_tlsrpt_send_domain(struct lookup_tlsrpt_job *j,
    const struct tlsrpt_record *rec)
{
	struct lookup_tlsrpt	*lt = j->b->lt;
	sqlite3_stmt		*st;
	char			 to[TLSRPT_URI_MAX + 1], *json;
	uint64_t		 day;
	size_t			 i;

	if ((st = lookup_tlsrpt_stmt(lt, "SELECT DISTINCT day FROM sessions "
	    "WHERE domain = ?1 AND day <= ?2 ORDER BY day", "ti", j->domain,
	    j->maxday)) == NULL) {
		j->b->failed++;
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		day = (uint64_t)sqlite3_column_int64(st, 0);
		if ((json = lookup_tlsrpt_report(lt, j->domain, day,
		    false)) == NULL) {
			j->b->failed++;
			continue;
		}
		for (i = 0; i < rec->nrua; i++) {
			if (strncasecmp(rec->rua[i], "https:", 6) == 0) {
				if (lookup_tlsrpt_post(lt, rec->rua[i],
				    json) == -1) {
					log_warnx("lookup: event=tlsrpt-failed "
					    "domain=%s url=%s", j->domain,
					    rec->rua[i]);
					j->b->failed++;
				} else
					j->b->posted++;
				continue;
			}
			if (tlsrpt_mailto(rec->rua[i], to,
			    sizeof(to)) == -1 ||
			    lookup_tlsrpt_mail_out(lt, j->domain, day, json,
			    to) == -1)
				j->b->failed++;
			else
				j->b->sent++;
		}
		free(json);
	}
	sqlite3_finalize(st);
}

/* The counts of a domain's days up to maxday are reported: forget them. */
static void
lookup_tlsrpt_forget(struct lookup_tlsrpt *lt, const char *domain,
    uint64_t maxday)
{
	if (lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "BEGIN IMMEDIATE",
	    "")) == -1)
		return;
	if (lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "DELETE FROM "
	    "sessions WHERE domain = ?1 AND day <= ?2", "ti", domain,
	    maxday)) == -1 ||
	    lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "DELETE FROM "
	    "failures WHERE domain = ?1 AND day <= ?2", "ti", domain,
	    maxday)) == -1 ||
	    lookup_tlsrpt_run(lt, lookup_tlsrpt_stmt(lt, "COMMIT", "")) == -1)
		(void)sqlite3_exec(lt->db, "ROLLBACK", NULL, NULL, NULL);
}

static void
lookup_tlsrpt_txt_cb(void *arg, const struct dns_result *res)
{
	struct lookup_tlsrpt_job	*j = arg;
	struct lookup_tlsrpt_batch	*b = j->b;
	struct tlsrpt_record		 rec;

	if (res->status == DNS_TEMPFAIL) {
		/* try again next round; nothing is forgotten */
		log_warnx("lookup: event=tlsrpt-failed domain=%s reason=\"TXT "
		    "lookup: %s\"", j->domain, res->why);
		b->failed++;
	} else {
		if (lookup_tlsrpt_pick(res, &rec) == 0)
			lookup_tlsrpt_send_domain(j, &rec);
		else {
			log_debug("lookup: event=tlsrpt-norecord domain=%s",
			    j->domain);
			b->norecord++;
		}
		lookup_tlsrpt_forget(b->lt, j->domain, j->maxday);
	}
	free(j);
	b->pending--;
	lookup_tlsrpt_batch_done(b);
}

/*
 * A round: every domain with counts up to today (ctl: today included,
 * RFC 8460 §4.1 leaves the period to us) gets its TXT record asked.
 */
static void
lookup_tlsrpt_send_all(struct lookup_tlsrpt *lt, bool ctl, uint64_t reqid)
{
	struct lookup_tlsrpt_batch	*b;
	struct lookup_tlsrpt_job	*j;
	sqlite3_stmt			*st;
	char				 name[DNS_NAME_MAX + 1];
	const char			*err;
	uint64_t			 today = (uint64_t)time(NULL) /
					    LOOKUP_TLSRPT_DAY;

	b = xcalloc(1, sizeof(*b));
	b->lt = lt;
	b->ctl = ctl;
	b->reqid = reqid;
	b->pending = 1;		/* until every query is out */
	if ((st = lookup_tlsrpt_stmt(lt, "SELECT DISTINCT domain FROM sessions "
	    "WHERE day <= ?1 ORDER BY domain LIMIT ?2", "ii", ctl ? today :
	    today - 1, (uint64_t)LOOKUP_TLSRPT_DOMAINS_MAX)) == NULL)
		b->failed++;
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		j = xcalloc(1, sizeof(*j));
		j->b = b;
		j->maxday = ctl ? today : today - 1;
		if (str_copy(j->domain, sizeof(j->domain),
		    lookup_sql_col(st, 0)) == -1 ||
		    snprintf(name, sizeof(name), "_smtp._tls.%s", j->domain) >=
		    (int)sizeof(name) || lt->dns == NULL ||
		    dns_query(lt->dns, name, DNS_T_TXT, lookup_tlsrpt_txt_cb, j,
		    &err) == NULL) {
			b->failed++;
			free(j);
			continue;
		}
		b->pending++;
	}
	sqlite3_finalize(st);
	b->pending--;
	lookup_tlsrpt_batch_done(b);
}

/* --- the rua for cachetctl tls-policy --- */

struct lookup_tlsrpt_rua {
	struct lookup_tlsrpt	*lt;
	enum proc_id		 to;
	uint64_t		 reqid;
};

static void
lookup_tlsrpt_rua_answer(struct lookup_tlsrpt_rua *q, const char *text)
{
	struct msg	*m = msg_new(MSG_LOOKUP_TLSRPT_RUA_RESULT);

	msg_put_u64(m, q->reqid);
	msg_put_str(m, text);
	(void)proc_send(q->lt->self, q->to, m);
	free(q);
}

static void
lookup_tlsrpt_rua_cb(void *arg, const struct dns_result *res)
{
	struct lookup_tlsrpt_rua	*q = arg;
	struct tlsrpt_record		 rec;
	struct buf			 b;
	size_t				 i;

	if (res->status == DNS_TEMPFAIL) {
		buf_init(&b, 512);
		(void)buf_printf(&b, "none: the TXT lookup failed: %s",
		    res->why);
	} else if (lookup_tlsrpt_pick(res, &rec) == -1) {
		lookup_tlsrpt_rua_answer(q, "none: no usable _smtp._tls "
		    "record");
		return;
	} else {
		buf_init(&b, TLSRPT_RUA_MAX * (TLSRPT_URI_MAX + 2) + 1);
		for (i = 0; i < rec.nrua; i++)
			(void)buf_printf(&b, "%s%s", i > 0 ? "," : "",
			    rec.rua[i]);
	}
	lookup_tlsrpt_rua_answer(q, b.data != NULL ? b.data : "none");
	buf_free(&b);
}

void
lookup_tlsrpt_rua(struct lookup_tlsrpt *lt, enum proc_id from,
    struct msg *m)
{
	struct lookup_tlsrpt_rua	*q;
	char				 domain[TLSRPT_NAME_MAX + 1];
	char				 name[DNS_NAME_MAX + 1];
	const char			*err = NULL;
	uint64_t			 reqid;

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, domain, sizeof(domain)) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s", msg_name(m->type));
	q = xcalloc(1, sizeof(*q));
	q->lt = lt;
	q->to = from;
	q->reqid = reqid;
	if (snprintf(name, sizeof(name), "_smtp._tls.%s", domain) >=
	    (int)sizeof(name)) {
		lookup_tlsrpt_rua_answer(q, "none: the domain is too long");
		return;
	}
	if (lt->dns == NULL || dns_query(lt->dns, name, DNS_T_TXT,
	    lookup_tlsrpt_rua_cb, q, &err) == NULL)
		lookup_tlsrpt_rua_answer(q, "none: no resolver");
}

/*
 * The first round soon after start, so that whole days recorded
 * before a restart (a reload restarts us) go out; then every interval.
 */
static void
lookup_tlsrpt_timer(evutil_socket_t fd, short what, void *arg)
{
	struct lookup_tlsrpt	*lt = arg;
	struct timeval		 tv = { 0, 0 };

	lookup_tlsrpt_send_all(lt, false, 0);
	tv.tv_sec = lt->conf->tlsrpt_interval < LOOKUP_TLSRPT_INTERVAL_MIN ?
	    LOOKUP_TLSRPT_INTERVAL_MIN : lt->conf->tlsrpt_interval;
	evtimer_add(lt->ev_send, &tv);
}

/* --- cachetctl --- */

/* Print a text of several lines, one ctl line each. */
static void
lookup_tlsrpt_ctl_text(struct lookup_tlsrpt *lt, uint64_t reqid,
    char *text)
{
	char	*nl;

	while (text != NULL && *text != '\0') {
		if ((nl = strchr(text, '\n')) != NULL)
			*nl = '\0';
		proc_ctl_line(lt->self, reqid, text);
		text = nl != NULL ? nl + 1 : NULL;
	}
}

static void
lookup_tlsrpt_show(struct lookup_tlsrpt *lt, uint64_t reqid,
    const char *domain)
{
	sqlite3_stmt	*st;
	char		 dom[TLSRPT_NAME_MAX + 1], *json;
	uint64_t	 day;

	if (domain != NULL)
		st = lookup_tlsrpt_stmt(lt, "SELECT DISTINCT domain, day FROM "
		    "sessions WHERE domain = ?1 ORDER BY domain, day", "t",
		    domain);
	else
		st = lookup_tlsrpt_stmt(lt, "SELECT DISTINCT domain, day FROM "
		    "sessions ORDER BY domain, day", "");
	if (st == NULL) {
		proc_ctl_end(lt->self, reqid, 1, "no TLS-RPT database");
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		(void)str_copy(dom, sizeof(dom), lookup_sql_col(st, 0));
		day = (uint64_t)sqlite3_column_int64(st, 1);
		if ((json = lookup_tlsrpt_report(lt, dom, day, true)) == NULL)
			continue;
		lookup_tlsrpt_ctl_text(lt, reqid, json);
		free(json);
	}
	sqlite3_finalize(st);
	proc_ctl_end(lt->self, reqid, 0, NULL);
}

static void
lookup_tlsrpt_received(struct lookup_tlsrpt *lt, uint64_t reqid)
{
	sqlite3_stmt	*st;
	char		 line[1024], day[16], org[TLSRPT_TEXT_MAX + 1];
	time_t		 t;
	struct tm	 tm;

	if ((st = lookup_tlsrpt_stmt(lt, "SELECT org, start / 86400, "
	    "group_concat(DISTINCT domain), count(*), sum(ok), sum(fail) FROM "
	    "received GROUP BY org, start / 86400 ORDER BY org, "
	    "start / 86400", "")) == NULL) {
		proc_ctl_end(lt->self, reqid, 1, "no TLS-RPT database");
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		t = (time_t)sqlite3_column_int64(st, 1) * LOOKUP_TLSRPT_DAY;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
			continue;
		(void)snprintf(line, sizeof(line), "org=\"%s\" day=%s "
		    "domains=%s reports=%lld success=%lld failure=%lld",
		    printable(lookup_sql_col(st, 0), strnlen(
		    lookup_sql_col(st, 0), TLSRPT_TEXT_MAX), org,
		    sizeof(org)), day, lookup_sql_col(st, 2),
		    (long long)sqlite3_column_int64(st, 3),
		    (long long)sqlite3_column_int64(st, 4),
		    (long long)sqlite3_column_int64(st, 5));
		proc_ctl_line(lt->self, reqid, line);
	}
	sqlite3_finalize(st);
	proc_ctl_end(lt->self, reqid, 0, NULL);
}

void
lookup_tlsrpt_ctl(struct lookup_tlsrpt *lt, uint64_t reqid, size_t argc,
    char **argv)
{
	if (argc >= 2 && argc <= 3 && strcmp(argv[1], "show") == 0)
		lookup_tlsrpt_show(lt, reqid, argc == 3 ? argv[2] : NULL);
	else if (argc == 2 && strcmp(argv[1], "send") == 0)
		lookup_tlsrpt_send_all(lt, true, reqid);
	else if (argc == 2 && strcmp(argv[1], "received") == 0)
		lookup_tlsrpt_received(lt, reqid);
	else
		proc_ctl_end(lt->self, reqid, 2, "usage: tlsrpt show "
		    "[DOMAIN] | tlsrpt send | tlsrpt received");
}

void
lookup_tlsrpt_set_signer(struct lookup_tlsrpt *lt, struct lookup_dkimsign *ls)
{
	lt->dkimsign = ls;
}

struct lookup_tlsrpt *
lookup_tlsrpt_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_tlsrpt	*lt;
	struct timeval		 tv = { 0, 0 };

	lt = xcalloc(1, sizeof(*lt));
	lt->self = self;
	lt->conf = conf;
	lt->dns = dns;
	(void)lookup_tlsrpt_db_open(lt);
	tv.tv_sec = LOOKUP_TLSRPT_FIRST;
	if ((lt->ev_send = evtimer_new(self->base, lookup_tlsrpt_timer,
	    lt)) == NULL)
		fatalx("lookup: evtimer_new");
	evtimer_add(lt->ev_send, &tv);
	return lt;
}
