/*
 * lookup_greylist: greylisting in the lookup role (RFC 6647; the
 * contract and the decision are in lookup_greylist.h).  smtp sends the
 * client address, the sender and the recipient of each RCPT it would
 * accept; we key them, consult greylist.db and answer pass or 450.
 *
 * Trust: smtp faces the network.  Its strings are bounded by the ipc
 * readers, the address must parse, and everything reaches SQLite through
 * bound parameters.  A malformed message is fatal (a sibling's bug).
 */
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "log.h"
#include "lookup_greylist.h"
#include "lookup_sql.h"
#include "util.h"

/* RFC 5321 §4.5.3.1.3: a path is at most 256 octets; room for more. */
#define LOOKUP_GREYLIST_ADDR_MAX	512
#define LOOKUP_GREYLIST_IP_MAX		64

/* whitelist kinds: a client network, a sender domain */
#define LOOKUP_GREYLIST_KNOWN_NET	0
#define LOOKUP_GREYLIST_KNOWN_DOMAIN	1

static const char lookup_greylist_schema[] =
    "CREATE TABLE IF NOT EXISTS triplet ("
    " net TEXT NOT NULL, sender TEXT NOT NULL, rcpt TEXT NOT NULL,"
    " first INTEGER NOT NULL, last INTEGER NOT NULL, tries INTEGER NOT NULL,"
    " PRIMARY KEY (net, sender, rcpt));"
    "CREATE INDEX IF NOT EXISTS triplet_last ON triplet (last);"
    "CREATE TABLE IF NOT EXISTS known ("
    " kind INTEGER NOT NULL, name TEXT NOT NULL, seen INTEGER NOT NULL,"
    " passed INTEGER NOT NULL, PRIMARY KEY (kind, name));"
    "CREATE INDEX IF NOT EXISTS known_seen ON known (seen);";

struct lookup_greylist {
	struct proc_self		*self;	/* NULL in the core's tests */
	bool				 on;
	sqlite3				*db;
	struct lookup_greylist_policy	 pol;
	uint64_t			 next_sweep;
	uint64_t			 adds;	/* rows added since the sweep */
};

static const char *const lookup_greylist_names[] = {
	[LOOKUP_GREYLIST_NEW] = "defer-new",
	[LOOKUP_GREYLIST_EARLY] = "defer-early",
	[LOOKUP_GREYLIST_RETRIED] = "pass-retried",
	[LOOKUP_GREYLIST_CLIENT] = "pass-client",
	[LOOKUP_GREYLIST_DOMAIN] = "pass-domain",
	[LOOKUP_GREYLIST_ERROR] = "pass-error",
};

/* --- keys --- */

int
lookup_greylist_net(const char *ip, char *out, size_t outsz)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		 t[INET6_ADDRSTRLEN];
	int		 n;

	if (inet_pton(AF_INET, ip, &a4) == 1) {
		((unsigned char *)&a4)[3] = 0;
		goto v4;
	}
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
		((unsigned char *)&a4)[3] = 0;
		goto v4;
	}
	memset(&a6.s6_addr[8], 0, 8);
	if (inet_ntop(AF_INET6, &a6, t, sizeof(t)) == NULL)
		return -1;
	n = snprintf(out, outsz, "%s/64", t);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
v4:
	if (inet_ntop(AF_INET, &a4, t, sizeof(t)) == NULL)
		return -1;
	n = snprintf(out, outsz, "%s/24", t);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/* s lower-cased (ASCII) into out; -1 when it does not fit. */
static int
lookup_greylist_lower(const char *s, char *out, size_t outsz)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= outsz)
			return -1;
		out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') :
		    s[i];
	}
	out[i] = '\0';
	return 0;
}

/* --- the database --- */

static sqlite3_stmt *
lookup_greylist_stmt(struct lookup_greylist *g, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;

	va_start(ap, fmt);
	st = lookup_sql_vstmt(g->db, "greylist", sql, fmt, ap);
	va_end(ap);
	return st;
}

static int
lookup_greylist_run(struct lookup_greylist *g, sqlite3_stmt *st)
{
	return lookup_sql_run(g->db, "greylist", st);
}

static int
lookup_greylist_exec(struct lookup_greylist *g, const char *sql)
{
	return lookup_greylist_run(g, lookup_greylist_stmt(g, sql, ""));
}

/*
 * The first column of the first row of st (finalized here) in *out: 1,
 * 0 when there is no row, -1 on an error (logged).
 */
static int
lookup_greylist_int(struct lookup_greylist *g, sqlite3_stmt *st,
    uint64_t *out)
{
	int	rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	log_warnx("lookup: greylist: %s", sqlite3_errmsg(g->db));
	return -1;
}

/*
 * A whitelist entry of kind for name seen within the whitelist period:
 * seen again now, 1; 0 when there is none; -1 on an error.
 */
static int
lookup_greylist_known(struct lookup_greylist *g, int kind, const char *name,
    uint64_t now)
{
	uint64_t	seen;
	int		rc;

	rc = lookup_greylist_int(g, lookup_greylist_stmt(g, "SELECT seen "
	    "FROM known WHERE kind = ? AND name = ?", "it", (uint64_t)kind,
	    name), &seen);
	if (rc != 1)
		return rc;
	if (seen > now || now - seen > g->pol.whitelist)
		return 0;
	return lookup_greylist_run(g, lookup_greylist_stmt(g, "UPDATE known "
	    "SET seen = ? WHERE kind = ? AND name = ?", "iit", now,
	    (uint64_t)kind, name)) == -1 ? -1 : 1;
}

/* Whitelist name (of kind) from now: it got a triplet past. */
static int
lookup_greylist_learn(struct lookup_greylist *g, int kind, const char *name,
    uint64_t now)
{
	g->adds++;
	return lookup_greylist_run(g, lookup_greylist_stmt(g, "INSERT INTO "
	    "known (kind, name, seen, passed) VALUES (?, ?, ?, 1) ON CONFLICT "
	    "(kind, name) DO UPDATE SET seen = excluded.seen, passed = "
	    "passed + 1", "iti", (uint64_t)kind, name, now));
}

/* The decision on the triplet itself, inside the transaction. */
static enum lookup_greylist_result
lookup_greylist_triplet(struct lookup_greylist *g, const char *net,
    const char *sender, const char *domain, const char *rcpt, uint64_t now,
    uint64_t *wait_out)
{
	uint64_t	first = 0;
	int		rc;

	rc = lookup_greylist_int(g, lookup_greylist_stmt(g, "SELECT first "
	    "FROM triplet WHERE net = ? AND sender = ? AND rcpt = ?", "ttt",
	    net, sender, rcpt), &first);
	if (rc == -1)
		return LOOKUP_GREYLIST_ERROR;
	/*
	 * New, or its window closed (§2.2: a retry that late is not the
	 * same attempt), or a clock that went back: start over.
	 */
	if (rc == 0 || first > now || now - first > g->pol.window) {
		g->adds++;
		if (lookup_greylist_run(g, lookup_greylist_stmt(g, "INSERT "
		    "OR REPLACE INTO triplet (net, sender, rcpt, first, last, "
		    "tries) VALUES (?, ?, ?, ?, ?, 1)", "tttii", net, sender,
		    rcpt, now, now)) == -1)
			return LOOKUP_GREYLIST_ERROR;
		*wait_out = g->pol.delay;
		return LOOKUP_GREYLIST_NEW;
	}
	if (now - first < g->pol.delay) {
		if (lookup_greylist_run(g, lookup_greylist_stmt(g, "UPDATE "
		    "triplet SET last = ?, tries = tries + 1 WHERE net = ? AND "
		    "sender = ? AND rcpt = ?", "ittt", now, net, sender,
		    rcpt)) == -1)
			return LOOKUP_GREYLIST_ERROR;
		*wait_out = first + g->pol.delay - now;
		return LOOKUP_GREYLIST_EARLY;
	}
	/* §2.1: it came back as an MTA does; its network is one */
	if (lookup_greylist_run(g, lookup_greylist_stmt(g, "DELETE FROM "
	    "triplet WHERE net = ? AND sender = ? AND rcpt = ?", "ttt", net,
	    sender, rcpt)) == -1 ||
	    lookup_greylist_learn(g, LOOKUP_GREYLIST_KNOWN_NET, net,
	    now) == -1 ||
	    (domain[0] != '\0' && lookup_greylist_learn(g,
	    LOOKUP_GREYLIST_KNOWN_DOMAIN, domain, now) == -1))
		return LOOKUP_GREYLIST_ERROR;
	return LOOKUP_GREYLIST_RETRIED;
}

enum lookup_greylist_result
lookup_greylist_decide(struct lookup_greylist *g, const char *net,
    const char *sender_in, const char *rcpt_in, uint32_t flags, uint64_t now,
    uint64_t *wait_out)
{
	enum lookup_greylist_result	 res;
	char				 sender[LOOKUP_GREYLIST_ADDR_MAX];
	char				 rcpt[LOOKUP_GREYLIST_ADDR_MAX];
	const char			*at, *domain = "";
	int				 rc;

	*wait_out = 0;
	if (g->db == NULL)
		return LOOKUP_GREYLIST_ERROR;
	/* the request's buffers are no larger: only a caller's bug */
	if (lookup_greylist_lower(sender_in, sender, sizeof(sender)) == -1 ||
	    lookup_greylist_lower(rcpt_in, rcpt, sizeof(rcpt)) == -1) {
		log_warnx("lookup: greylist: address too long");
		return LOOKUP_GREYLIST_ERROR;
	}
	if ((at = strrchr(sender, '@')) != NULL)
		domain = at + 1;
	if (now >= g->next_sweep || g->adds >= LOOKUP_GREYLIST_SWEEP_ADDS)
		(void)lookup_greylist_sweep(g, now);
	if (lookup_greylist_exec(g, "BEGIN IMMEDIATE") == -1)
		return LOOKUP_GREYLIST_ERROR;
	rc = lookup_greylist_known(g, LOOKUP_GREYLIST_KNOWN_NET, net, now);
	if (rc == 1)
		res = LOOKUP_GREYLIST_CLIENT;
	else if (rc == 0 && (flags & GREYLIST_F_SPF_PASS) &&
	    domain[0] != '\0' && (rc = lookup_greylist_known(g,
	    LOOKUP_GREYLIST_KNOWN_DOMAIN, domain, now)) == 1)
		res = LOOKUP_GREYLIST_DOMAIN;
	else if (rc == 0)
		res = lookup_greylist_triplet(g, net, sender, domain, rcpt,
		    now, wait_out);
	else
		res = LOOKUP_GREYLIST_ERROR;
	if (lookup_greylist_exec(g, res == LOOKUP_GREYLIST_ERROR ?
	    "ROLLBACK" : "COMMIT") == -1) {
		(void)lookup_greylist_exec(g, "ROLLBACK");
		res = LOOKUP_GREYLIST_ERROR;
	}
	if (res == LOOKUP_GREYLIST_ERROR)
		*wait_out = 0;
	return res;
}

/* Delete the oldest rows of table (by column age) past rows_max. */
static int
lookup_greylist_cut(struct lookup_greylist *g, const char *sql)
{
	return lookup_greylist_run(g, lookup_greylist_stmt(g, sql, "i",
	    g->pol.rows_max));
}

int
lookup_greylist_sweep(struct lookup_greylist *g, uint64_t now)
{
	uint64_t	old_triplet, old_known;
	int		rc = 0;

	g->next_sweep = now + LOOKUP_GREYLIST_SWEEP;
	g->adds = 0;
	if (g->db == NULL)
		return -1;
	old_triplet = now > g->pol.window ? now - g->pol.window : 0;
	old_known = now > g->pol.whitelist ? now - g->pol.whitelist : 0;
	if (lookup_greylist_run(g, lookup_greylist_stmt(g, "DELETE FROM "
	    "triplet WHERE first < ?", "i", old_triplet)) == -1 ||
	    lookup_greylist_run(g, lookup_greylist_stmt(g, "DELETE FROM "
	    "known WHERE seen < ?", "i", old_known)) == -1 ||
	    lookup_greylist_cut(g, "DELETE FROM triplet WHERE rowid IN "
	    "(SELECT rowid FROM triplet ORDER BY last DESC LIMIT -1 "
	    "OFFSET ?)") == -1 ||
	    lookup_greylist_cut(g, "DELETE FROM known WHERE rowid IN "
	    "(SELECT rowid FROM known ORDER BY seen DESC LIMIT -1 "
	    "OFFSET ?)") == -1)
		rc = -1;
	return rc;
}

int
lookup_greylist_count(struct lookup_greylist *g, uint64_t *triplets_out,
    uint64_t *known_out)
{
	if (lookup_greylist_int(g, lookup_greylist_stmt(g, "SELECT count(*) "
	    "FROM triplet", ""), triplets_out) != 1 ||
	    lookup_greylist_int(g, lookup_greylist_stmt(g, "SELECT count(*) "
	    "FROM known", ""), known_out) != 1)
		return -1;
	return 0;
}

struct lookup_greylist *
lookup_greylist_core(sqlite3 *db, const struct lookup_greylist_policy *pol)
{
	struct lookup_greylist	*g;

	g = xcalloc(1, sizeof(*g));
	g->pol = *pol;
	g->on = true;
	if (db == NULL)
		return g;
	/*
	 * synchronous=NORMAL in WAL mode: a kill -9 loses nothing, a power
	 * loss at most the last commits, which greylists a triplet again.
	 */
	if (sqlite3_exec(db, lookup_greylist_schema, NULL, NULL, NULL) !=
	    SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		log_warnx("lookup: greylist: %s", sqlite3_errmsg(db));
		sqlite3_close(db);
		free(g);
		return NULL;
	}
	g->db = db;
	return g;
}

void
lookup_greylist_free(struct lookup_greylist *g)
{
	if (g == NULL)
		return;
	sqlite3_close(g->db);
	free(g);
}

/* --- the role's side --- */

struct lookup_greylist *
lookup_greylist_new(struct proc_self *self, const struct conf *conf)
{
	struct lookup_greylist		*g;
	struct lookup_greylist_policy	 pol;
	sqlite3				*db;

	pol.delay = conf->greylist_delay;
	pol.window = conf->greylist_window;
	pol.whitelist = conf->greylist_whitelist;
	pol.rows_max = LOOKUP_GREYLIST_ROWS_MAX;
	db = lookup_sql_open(self, LOOKUP_GREYLIST_DB, lookup_greylist_schema,
	    "greylisting passes every message");
	if ((g = lookup_greylist_core(db, &pol)) == NULL)
		g = lookup_greylist_core(NULL, &pol);
	g->self = self;
	g->on = conf->greylist;
	return g;
}

void
lookup_greylist_request(struct lookup_greylist *g, struct proc_peer from,
    struct msg *m)
{
	struct msg			*a;
	enum lookup_greylist_result	 res = LOOKUP_GREYLIST_ERROR;
	char				 ip[LOOKUP_GREYLIST_IP_MAX];
	char				 sender[LOOKUP_GREYLIST_ADDR_MAX];
	char				 rcpt[LOOKUP_GREYLIST_ADDR_MAX];
	char				 net[LOOKUP_GREYLIST_NET_MAX];
	char				 text[160], ps[128], pr[128];
	uint64_t			 reqid, wait = 0;
	uint32_t			 flags;

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, ip, sizeof(ip)) == -1 ||
	    msg_get_str(m, sender, sizeof(sender)) == -1 ||
	    msg_get_str(m, rcpt, sizeof(rcpt)) == -1 ||
	    msg_get_u32(m, &flags) == -1 || msg_end(m) == -1 ||
	    lookup_greylist_net(ip, net, sizeof(net)) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from.id));
	/* smtp asks only when greylisting is on; an old worker may not */
	if (g->on)
		res = lookup_greylist_decide(g, net, sender, rcpt, flags,
		    (uint64_t)time(NULL), &wait);
	a = msg_new(MSG_LOOKUP_GREYLIST_RESULT);
	msg_put_u64(a, reqid);
	if (res == LOOKUP_GREYLIST_NEW || res == LOOKUP_GREYLIST_EARLY) {
		(void)snprintf(text, sizeof(text), "Greylisted: please try "
		    "again in %llu seconds (RFC 6647)",
		    (unsigned long long)wait);
		msg_put_u32(a, 450);
		msg_put_str(a, "4.7.1");
		msg_put_str(a, text);
	} else {
		msg_put_u32(a, 0);
		msg_put_str(a, "");
		msg_put_str(a, "");
	}
	if (g->on)
		log_info("event=greylist net=%s from=<%s> to=<%s> result=%s "
		    "wait=%llu", net, printable(sender, strnlen(sender,
		    sizeof(sender)), ps, sizeof(ps)), printable(rcpt,
		    strnlen(rcpt, sizeof(rcpt)), pr, sizeof(pr)),
		    lookup_greylist_names[res], (unsigned long long)wait);
	(void)proc_send_peer(g->self, from, a);
}

/* `greylist list`: the triplets waiting, then the whitelist. */
static void
lookup_greylist_list(struct lookup_greylist *g, uint64_t reqid)
{
	sqlite3_stmt	*st;
	char		 line[1024], a[128], b[128], c[128];
	const char	*s;

	if ((st = lookup_greylist_stmt(g, "SELECT net, sender, rcpt, first, "
	    "last, tries FROM triplet ORDER BY first", "")) == NULL) {
		proc_ctl_end(g->self, reqid, 1, "no greylist database");
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		s = lookup_sql_col(st, 1);
		(void)snprintf(line, sizeof(line), "triplet net=%s from=<%s> "
		    "to=<%s> first=%lld last=%lld tries=%lld",
		    printable(lookup_sql_col(st, 0), strlen(lookup_sql_col(st,
		    0)), a, sizeof(a)), printable(s, strlen(s), b, sizeof(b)),
		    printable(lookup_sql_col(st, 2), strlen(lookup_sql_col(st,
		    2)), c, sizeof(c)), (long long)sqlite3_column_int64(st, 3),
		    (long long)sqlite3_column_int64(st, 4),
		    (long long)sqlite3_column_int64(st, 5));
		proc_ctl_line(g->self, reqid, line);
	}
	sqlite3_finalize(st);
	if ((st = lookup_greylist_stmt(g, "SELECT kind, name, seen, passed "
	    "FROM known ORDER BY kind, name", "")) == NULL) {
		proc_ctl_end(g->self, reqid, 1, "no greylist database");
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		s = lookup_sql_col(st, 1);
		(void)snprintf(line, sizeof(line), "%s %s seen=%lld passed=%lld",
		    sqlite3_column_int64(st, 0) == LOOKUP_GREYLIST_KNOWN_NET ?
		    "client" : "domain", printable(s, strlen(s), a, sizeof(a)),
		    (long long)sqlite3_column_int64(st, 2),
		    (long long)sqlite3_column_int64(st, 3));
		proc_ctl_line(g->self, reqid, line);
	}
	sqlite3_finalize(st);
	proc_ctl_end(g->self, reqid, 0, NULL);
}

void
lookup_greylist_ctl(struct lookup_greylist *g, uint64_t reqid, size_t argc,
    char **argv)
{
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		lookup_greylist_list(g, reqid);
	else if (argc == 2 && strcmp(argv[1], "flush") == 0) {
		if (g->db == NULL || lookup_greylist_exec(g, "DELETE FROM "
		    "triplet") == -1 || lookup_greylist_exec(g, "DELETE FROM "
		    "known") == -1)
			proc_ctl_end(g->self, reqid, 1, "cannot flush the "
			    "greylist database");
		else {
			log_info("event=greylist-flush");
			proc_ctl_end(g->self, reqid, 0, NULL);
		}
	} else
		proc_ctl_end(g->self, reqid, 2, "usage: greylist list | "
		    "greylist flush");
}
