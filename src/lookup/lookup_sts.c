/*
 * lookup_sts: MTA-STS in the lookup role (lookup_sts.h has the contract
 * and the messages).  One request runs three DNS queries at once (the
 * "_mta-sts" TXT record, A and AAAA of "mta-sts.DOMAIN"), reads the
 * cached row and answers when the last query is in.  The cache is its
 * own SQLite file, used from the loop's thread only; each write is one
 * statement, so one transaction: a crash leaves the old row or the new.
 *
 * Trust: see lookup_sts.h.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"
#include "ipc.h"
#include "log.h"
#include "lookup_sts.h"
#include "mtasts.h"
#include "proc.h"
#include "util.h"

#define LOOKUP_STS_REQS_MAX	1024	/* requests in flight */
#define LOOKUP_STS_BUSY_MS	2000

static const char lookup_sts_schema[] =
    "CREATE TABLE IF NOT EXISTS sts ("
    " domain TEXT PRIMARY KEY,"
    " id TEXT NOT NULL,"
    " policy TEXT NOT NULL,"
    " fetched INTEGER NOT NULL,"
    " expires INTEGER NOT NULL)";

struct lookup_sts_req;

struct lookup_sts_slot {
	struct lookup_sts_req	*req;
	int			 which;		/* 0 TXT, 1 A, 2 AAAA */
};

struct lookup_sts_req {
	TAILQ_ENTRY(lookup_sts_req)	 entry;
	struct lookup_sts		*ls;
	enum proc_id			 from;
	uint64_t			 gen;
	uint64_t			 reqid;
	char				 domain[DNS_NAME_MAX + 1];
	struct dns_query		*q[3];
	struct lookup_sts_slot		 slot[3];
	size_t				 pending;
	/* the TXT answer */
	bool				 have_id;
	char				 id[MTASTS_ID_MAX + 1];
	char				 reason[LOOKUP_STS_REASON_MAX];
	/* addresses of mta-sts.DOMAIN */
	char				 ips[LOOKUP_STS_ADDRS_MAX]
					    [INET6_ADDRSTRLEN];
	size_t				 nips;
};
TAILQ_HEAD(lookup_sts_reqs, lookup_sts_req);

struct lookup_sts {
	struct proc_self	*self;
	struct dns		*dns;
	sqlite3			*db;	/* NULL: nothing cached */
	sqlite3_stmt		*get, *put, *del;
	uint64_t		 gen[PROC_COUNT];
	struct lookup_sts_reqs	 reqs;
	size_t			 nreqs;
};

static uint64_t
lookup_sts_now(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec;
}

enum lookup_sts_action
lookup_sts_decide(uint64_t fetched, uint64_t expires, const char *cached_id,
    const char *txt_id, uint64_t now)
{
	uint64_t	half;
	bool		cached = expires > now;

	if (txt_id == NULL)
		return cached ? LOOKUP_STS_CACHED : LOOKUP_STS_NONE;
	if (!cached || strcmp(cached_id, txt_id) != 0)
		return LOOKUP_STS_FETCH;
	/* §5.1: refresh before it expires, at least daily */
	half = (expires - fetched) / 2;
	if (half > LOOKUP_STS_REFRESH_MAX)
		half = LOOKUP_STS_REFRESH_MAX;
	return now >= fetched + half ? LOOKUP_STS_FETCH : LOOKUP_STS_CACHED;
}

/* --- the cache --- */

static void
lookup_sts_db_close(struct lookup_sts *ls)
{
	sqlite3_finalize(ls->get);
	sqlite3_finalize(ls->put);
	sqlite3_finalize(ls->del);
	ls->get = ls->put = ls->del = NULL;
	if (ls->db != NULL)
		sqlite3_close(ls->db);
	ls->db = NULL;
}

static int
lookup_sts_db_open(struct lookup_sts *ls)
{
	int	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;

	if (sqlite3_open_v2(LOOKUP_STS_DB, &ls->db, flags, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(ls->db, LOOKUP_STS_BUSY_MS);
	sqlite3_db_config(ls->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(ls->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (sqlite3_exec(ls->db, "PRAGMA journal_mode=WAL", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(ls->db, lookup_sts_schema, NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(ls->db, "SELECT id, policy, fetched, expires "
	    "FROM sts WHERE domain = ?1", -1, &ls->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ls->db, "INSERT OR REPLACE INTO sts (domain, "
	    "id, policy, fetched, expires) VALUES (?1, ?2, ?3, ?4, ?5)", -1,
	    &ls->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ls->db, "DELETE FROM sts WHERE domain = ?1",
	    -1, &ls->del, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	log_warnx("lookup: %s/%s: %s (MTA-STS policies are not cached)",
	    ls->self->dir_path, LOOKUP_STS_DB, ls->db != NULL ?
	    sqlite3_errmsg(ls->db) : "out of memory");
	lookup_sts_db_close(ls);
	return -1;
}

/* One statement on domain; 0 or -1 (logged). */
static int
lookup_sts_db_step(struct lookup_sts *ls, sqlite3_stmt *st,
    const char *domain)
{
	int	rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_warnx("lookup: MTA-STS cache for %s: %s", domain,
		    sqlite3_errmsg(ls->db));
		return -1;
	}
	return rc == SQLITE_ROW ? 1 : 0;
}

static void
lookup_sts_db_delete(struct lookup_sts *ls, const char *domain)
{
	if (ls->db == NULL)
		return;
	if (sqlite3_bind_text(ls->del, 1, domain, -1, SQLITE_STATIC) ==
	    SQLITE_OK)
		(void)lookup_sts_db_step(ls, ls->del, domain);
	sqlite3_reset(ls->del);
	sqlite3_clear_bindings(ls->del);
}

/*
 * The cached row of domain into *pol (text), id, fetched, expires; an
 * expired row is removed.  true when one is there.
 */
static bool
lookup_sts_db_get(struct lookup_sts *ls, const char *domain, uint64_t now,
    struct buf *pol, char *id, uint64_t *fetched, uint64_t *expires)
{
	const unsigned char	*t;
	const void		*p;
	sqlite3_int64		 f, e;
	int			 n;
	bool			 found = false, expired = false;

	*fetched = *expires = 0;
	id[0] = '\0';
	if (ls->db == NULL)
		return false;
	if (sqlite3_bind_text(ls->get, 1, domain, -1, SQLITE_STATIC) !=
	    SQLITE_OK || lookup_sts_db_step(ls, ls->get, domain) != 1)
		goto done;
	t = sqlite3_column_text(ls->get, 0);
	p = sqlite3_column_blob(ls->get, 1);
	n = sqlite3_column_bytes(ls->get, 1);
	f = sqlite3_column_int64(ls->get, 2);
	e = sqlite3_column_int64(ls->get, 3);
	if (t == NULL || p == NULL || n <= 0 || n > MTASTS_POLICY_MAX ||
	    f < 0 || e < 0 || str_copy(id, MTASTS_ID_MAX + 1,
	    (const char *)t) == -1) {
		/* Not what we write: forget it. */
		expired = true;
		goto done;
	}
	if ((uint64_t)e <= now) {
		expired = true;
		goto done;
	}
	buf_reset(pol);
	if (buf_append(pol, p, (size_t)n) == -1)
		goto done;
	*fetched = (uint64_t)f;
	*expires = (uint64_t)e;
	found = true;
done:
	sqlite3_reset(ls->get);
	sqlite3_clear_bindings(ls->get);
	if (expired) {
		id[0] = '\0';
		lookup_sts_db_delete(ls, domain);
		log_info("lookup: event=mta-sts-expired domain=%s", domain);
	}
	return found;
}

static void
lookup_sts_db_put(struct lookup_sts *ls, const char *domain, const char *id,
    struct span pol, uint64_t fetched, uint64_t expires)
{
	if (ls->db == NULL)
		return;
	if (sqlite3_bind_text(ls->put, 1, domain, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_text(ls->put, 2, id, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_text(ls->put, 3, pol.ptr, (int)pol.len,
	    SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_int64(ls->put, 4, (sqlite3_int64)fetched) ==
	    SQLITE_OK &&
	    sqlite3_bind_int64(ls->put, 5, (sqlite3_int64)expires) ==
	    SQLITE_OK)
		(void)lookup_sts_db_step(ls, ls->put, domain);
	sqlite3_reset(ls->put);
	sqlite3_clear_bindings(ls->put);
}

/* --- requests --- */

static void
lookup_sts_req_free(struct lookup_sts_req *req)
{
	size_t	i;

	for (i = 0; i < 3; i++)
		if (req->q[i] != NULL)
			dns_cancel(req->q[i]);
	TAILQ_REMOVE(&req->ls->reqs, req, entry);
	req->ls->nreqs--;
	free(req);
}

static void
lookup_sts_answer(struct lookup_sts_req *req)
{
	struct lookup_sts	*ls = req->ls;
	struct msg		*m;
	struct buf		 pol;
	enum lookup_sts_action	 act;
	char			 cid[MTASTS_ID_MAX + 1];
	uint64_t		 now = lookup_sts_now(), fetched, expires;
	size_t			 i;
	bool			 cached;

	if (req->gen != ls->gen[req->from]) {
		lookup_sts_req_free(req);
		return;
	}
	buf_init(&pol, MTASTS_POLICY_MAX);
	cached = lookup_sts_db_get(ls, req->domain, now, &pol, cid, &fetched,
	    &expires);
	act = lookup_sts_decide(fetched, expires, cid, req->have_id ?
	    req->id : NULL, now);
	if (act == LOOKUP_STS_FETCH && req->nips == 0) {
		/* nothing to fetch from: a fetch error (§3.3) */
		(void)snprintf(req->reason, sizeof(req->reason), "no address "
		    "for mta-sts.%s", req->domain);
		act = cached ? LOOKUP_STS_CACHED : LOOKUP_STS_NONE;
	}
	m = msg_new(MSG_LOOKUP_STS_RESULT);
	msg_put_u64(m, req->reqid);
	msg_put_u32(m, (uint32_t)act);
	msg_put_str(m, req->have_id ? req->id : "");
	msg_put_str(m, req->reason);
	msg_put_data(m, cached ? pol.data : "", cached ? pol.len : 0);
	msg_put_str(m, cached ? cid : "");
	msg_put_u64(m, cached ? fetched : 0);
	msg_put_u64(m, cached ? expires : 0);
	msg_put_u32(m, act == LOOKUP_STS_FETCH ? (uint32_t)req->nips : 0);
	for (i = 0; act == LOOKUP_STS_FETCH && i < req->nips; i++)
		msg_put_str(m, req->ips[i]);
	log_debug("lookup: event=mta-sts domain=%s id=%s cached=%s action=%s%s"
	    "%s%s", req->domain, req->have_id ? req->id : "-",
	    cached ? cid : "-", act == LOOKUP_STS_FETCH ? "fetch" :
	    act == LOOKUP_STS_CACHED ? "cached" : "none",
	    req->reason[0] != '\0' ? " reason=\"" : "", req->reason,
	    req->reason[0] != '\0' ? "\"" : "");
	(void)proc_send(ls->self, req->from, m);
	buf_free(&pol);
	lookup_sts_req_free(req);
}

static void
lookup_sts_txt(struct lookup_sts_req *req, const struct dns_result *res)
{
	struct dns_txt	 txts[16];
	const char	*err = NULL;
	size_t		 i, n = 0;
	int		 r;

	if (res->status == DNS_NODATA || res->status == DNS_NXDOMAIN)
		return;		/* no policy published: not a failure */
	if (res->status != DNS_OK) {
		(void)snprintf(req->reason, sizeof(req->reason), "TXT lookup "
		    "for _mta-sts.%s failed: %s", req->domain, res->why);
		return;
	}
	for (i = 0; i < res->nrrs && n < sizeof(txts) / sizeof(txts[0]); i++)
		if (res->rrs[i].type == DNS_T_TXT)
			txts[n++] = res->rrs[i].u.txt;
	r = mtasts_txt_pick(txts, n, req->id, &err);
	if (r == 1)
		req->have_id = true;
	else if (r == -1)
		(void)snprintf(req->reason, sizeof(req->reason), "TXT record "
		    "_mta-sts.%s: %s", req->domain, err);
}

static void
lookup_sts_cb(void *arg, const struct dns_result *res)
{
	struct lookup_sts_slot	*slot = arg;
	struct lookup_sts_req	*req = slot->req;
	const void		*a;
	size_t			 i;
	int			 af;

	req->q[slot->which] = NULL;
	if (slot->which == 0)
		lookup_sts_txt(req, res);
	else if (res->status == DNS_OK) {
		for (i = 0; i < res->nrrs && req->nips <
		    LOOKUP_STS_ADDRS_MAX; i++) {
			if (res->rrs[i].type == DNS_T_A) {
				af = AF_INET;
				a = &res->rrs[i].u.a;
			} else if (res->rrs[i].type == DNS_T_AAAA) {
				af = AF_INET6;
				a = &res->rrs[i].u.aaaa;
			} else
				continue;
			if (inet_ntop(af, a, req->ips[req->nips],
			    sizeof(req->ips[0])) != NULL)
				req->nips++;
		}
	}
	if (--req->pending == 0)
		lookup_sts_answer(req);
}

void
lookup_sts_request(struct lookup_sts *ls, enum proc_id from, struct msg *m)
{
	static const enum dns_type types[3] = {
		DNS_T_TXT, DNS_T_A, DNS_T_AAAA,
	};
	struct lookup_sts_req	*req;
	char			 name[DNS_NAME_MAX + 16];
	const char		*err;
	uint64_t		 reqid;
	size_t			 i, len;

	req = xcalloc(1, sizeof(*req));
	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, req->domain, sizeof(req->domain)) == -1 ||
	    msg_end(m) == -1 || (len = strlen(req->domain)) == 0 ||
	    !dns_hostname_ok(req->domain, len))
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from));
	req->ls = ls;
	req->from = from;
	req->gen = ls->gen[from];
	req->reqid = reqid;
	TAILQ_INSERT_TAIL(&ls->reqs, req, entry);
	ls->nreqs++;
	if (ls->dns == NULL || ls->nreqs > LOOKUP_STS_REQS_MAX) {
		(void)str_copy(req->reason, sizeof(req->reason), ls->dns ==
		    NULL ? "no DNS resolver" : "too many MTA-STS lookups");
		lookup_sts_answer(req);
		return;
	}
	for (i = 0; i < 3; i++) {
		(void)snprintf(name, sizeof(name), "%s.%s", i == 0 ?
		    "_mta-sts" : "mta-sts", req->domain);
		req->slot[i].req = req;
		req->slot[i].which = (int)i;
		if ((req->q[i] = dns_query(ls->dns, name, types[i],
		    lookup_sts_cb, &req->slot[i], &err)) != NULL)
			req->pending++;
		else if (i == 0)
			(void)snprintf(req->reason, sizeof(req->reason),
			    "TXT lookup for _mta-sts.%s failed: %s",
			    req->domain, err);
	}
	if (req->pending == 0)
		lookup_sts_answer(req);
}

void
lookup_sts_store(struct lookup_sts *ls, enum proc_id from, struct msg *m)
{
	struct mtasts_policy	 pol;
	struct span		 text;
	char			 domain[DNS_NAME_MAX + 1];
	char			 id[MTASTS_ID_MAX + 1];
	const char		*err;
	uint64_t		 now = lookup_sts_now();
	size_t			 i, len;

	if (msg_get_str(m, domain, sizeof(domain)) == -1 ||
	    (len = strlen(domain)) == 0 || !dns_hostname_ok(domain, len) ||
	    msg_get_str(m, id, sizeof(id)) == -1 || id[0] == '\0' ||
	    msg_get_span(m, &text) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from));
	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' &&
		    id[i] <= 'Z') || (id[i] >= '0' && id[i] <= '9')))
			fatalx("lookup: bad %s from %s: id", msg_name(m->type),
			    proc_name(from));
	if (mtasts_policy_parse(text.ptr, text.len, &pol, &err) == -1)
		fatalx("lookup: bad %s from %s: policy: %s",
		    msg_name(m->type), proc_name(from), err);
	if (pol.mode == MTASTS_MODE_NONE) {
		/* §5: "none" withdraws the policy: forget it */
		lookup_sts_db_delete(ls, domain);
		log_info("lookup: event=mta-sts-dropped domain=%s id=%s "
		    "reason=\"mode none\"", domain, id);
		return;
	}
	lookup_sts_db_put(ls, domain, id, text, now, now + pol.max_age);
	log_info("lookup: event=mta-sts-cached domain=%s id=%s mode=%s "
	    "max_age=%u", domain, id, mtasts_mode_name(pol.mode),
	    pol.max_age);
}

void
lookup_sts_peer_change(struct lookup_sts *ls, enum proc_id id)
{
	if (ls != NULL && id < PROC_COUNT)
		ls->gen[id]++;
}

struct lookup_sts *
lookup_sts_new(struct proc_self *self, struct dns *dns)
{
	struct lookup_sts	*ls;

	ls = xcalloc(1, sizeof(*ls));
	ls->self = self;
	ls->dns = dns;
	TAILQ_INIT(&ls->reqs);
	(void)lookup_sts_db_open(ls);
	return ls;
}
