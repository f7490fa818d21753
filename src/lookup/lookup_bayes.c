/*
 * lookup_bayes: the token database of the Bayesian filter
 * (lookup_bayes.h), in the lookup role.
 *
 * bayes.db (SQLite, WAL) is the truth:
 *
 *	bayes_users  (uid, name, nspam, nham)	uid 0 is the server ("")
 *	bayes_tokens (uid, h, spam, ham, day)	h: 64-bit FNV-1a of the
 *						token, day: last learnt
 *	bayes_learnt (uid, id, spam, day)	learn once, move class
 *
 * Every token row is also held in memory, in an open-addressing table
 * loaded at open, so that classifying a message is a few hundred hash
 * probes and no SQL but two rows of totals.  Learning updates the table
 * and remembers which entries changed; the commit writes those rows,
 * the learnt rows and the totals in one transaction, so a message is
 * learnt or not (a kill -9 before the commit loses the whole batch,
 * never half of it; synchronous=NORMAL in WAL keeps that across a
 * crash of the process).  A failed transaction is rolled back and the
 * table reloaded from the file.
 *
 * Only the lookup role opens bayes.db; it trusts its own file and
 * nothing that reaches it: tokens come from smtp, imap or cachetctl,
 * bounded by spam_features_get().
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "bayes.h"
#include "conf.h"
#include "log.h"
#include "lookup_bayes.h"
#include "util.h"

/* Messages of each class learnt before there is an opinion. */
#define LOOKUP_BAYES_MIN_LEARNT	20
/* Expiry keeps this share of spam-bayes-max-tokens (per cent). */
#define LOOKUP_BAYES_KEEP_PCT	90
/*
 * Expiry's grace: a token counted in 2^k messages is treated as if
 * learnt k * LOOKUP_BAYES_GRACE_DAYS days later than it was.
 */
#define LOOKUP_BAYES_GRACE_DAYS	30
#define LOOKUP_BAYES_ID_MAX	998	/* bytes of a message's id */
#define LOOKUP_BAYES_USER_MAX	320	/* bytes of a user name */
#define LOOKUP_BAYES_BUSY_MS	2000

#define LOOKUP_BAYES_DIRTY	0x01
#define LOOKUP_BAYES_USED	0x02

struct lookup_bayes_ent {
	uint64_t	h;
	uint32_t	uid;
	uint32_t	spam;
	uint32_t	ham;
	uint32_t	day;
	uint32_t	flags;
};

struct lookup_bayes_key {
	uint64_t	h;
	uint32_t	uid;
};

struct lookup_bayes {
	sqlite3			*db;
	struct bayes_params	 bp;
	bool			 per_user;
	uint64_t		 max_tokens;
	int64_t			 now;		/* 0: the clock */

	struct lookup_bayes_ent	*tab;		/* cap slots, power of 2 */
	size_t			 cap;
	size_t			 n;

	struct lookup_bayes_key	*dirty;		/* changed since commit */
	size_t			 ndirty;
	size_t			 dirtycap;

	bool			 in_tx;
	bool			 tx_failed;

	sqlite3_stmt		*st_user_get;
	sqlite3_stmt		*st_user_add;
	sqlite3_stmt		*st_totals;
	sqlite3_stmt		*st_learnt_get;
	sqlite3_stmt		*st_learnt_put;
	sqlite3_stmt		*st_tok_put;
	sqlite3_stmt		*st_tok_del;

	double			 f[SPAM_TOKENS_MAX];
};

static const char lookup_bayes_schema[] =
    "CREATE TABLE IF NOT EXISTS bayes_users ("
    " uid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " nspam INTEGER NOT NULL DEFAULT 0, nham INTEGER NOT NULL DEFAULT 0);"
    "INSERT OR IGNORE INTO bayes_users (uid, name) VALUES (0, '');"
    "CREATE TABLE IF NOT EXISTS bayes_tokens ("
    " uid INTEGER NOT NULL, h INTEGER NOT NULL, spam INTEGER NOT NULL,"
    " ham INTEGER NOT NULL, day INTEGER NOT NULL,"
    " PRIMARY KEY (uid, h)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS bayes_learnt ("
    " uid INTEGER NOT NULL, id TEXT NOT NULL, spam INTEGER NOT NULL,"
    " day INTEGER NOT NULL, PRIMARY KEY (uid, id)) WITHOUT ROWID;";

/* --- the table ------------------------------------------------------ */

/* The slot of (uid, h): splitmix64's finaliser spreads FNV's bits. */
static size_t
lookup_bayes_slot(const struct lookup_bayes *b, uint32_t uid, uint64_t h)
{
	uint64_t	x = h ^ ((uint64_t)uid * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x & (b->cap - 1);
}

static struct lookup_bayes_ent *
lookup_bayes_find(const struct lookup_bayes *b, uint32_t uid, uint64_t h)
{
	size_t	i = lookup_bayes_slot(b, uid, h);

	while (b->tab[i].flags & LOOKUP_BAYES_USED) {
		if (b->tab[i].h == h && b->tab[i].uid == uid)
			return &b->tab[i];
		i = (i + 1) & (b->cap - 1);
	}
	return NULL;
}

static void	lookup_bayes_grow(struct lookup_bayes *);

/* The entry of (uid, h), a new zeroed one when there is none. */
static struct lookup_bayes_ent *
lookup_bayes_get(struct lookup_bayes *b, uint32_t uid, uint64_t h)
{
	size_t	i;

	if ((b->n + 1) * 2 > b->cap)
		lookup_bayes_grow(b);
	i = lookup_bayes_slot(b, uid, h);
	while (b->tab[i].flags & LOOKUP_BAYES_USED) {
		if (b->tab[i].h == h && b->tab[i].uid == uid)
			return &b->tab[i];
		i = (i + 1) & (b->cap - 1);
	}
	memset(&b->tab[i], 0, sizeof(b->tab[i]));
	b->tab[i].h = h;
	b->tab[i].uid = uid;
	b->tab[i].flags = LOOKUP_BAYES_USED;
	b->n++;
	return &b->tab[i];
}

static void
lookup_bayes_grow(struct lookup_bayes *b)
{
	struct lookup_bayes_ent	*old = b->tab, *e;
	size_t			 oldcap = b->cap, i, j;

	b->cap = oldcap == 0 ? 1024 : oldcap * 2;
	b->tab = xcalloc(b->cap, sizeof(*b->tab));
	for (i = 0; i < oldcap; i++) {
		if (!(old[i].flags & LOOKUP_BAYES_USED))
			continue;
		j = lookup_bayes_slot(b, old[i].uid, old[i].h);
		while (b->tab[j].flags & LOOKUP_BAYES_USED)
			j = (j + 1) & (b->cap - 1);
		e = &b->tab[j];
		*e = old[i];
	}
	free(old);
}

/*
 * Remove e, moving later entries of its probe run back into the hole
 * (deletion without tombstones for linear probing).
 */
static void
lookup_bayes_remove(struct lookup_bayes *b, struct lookup_bayes_ent *e)
{
	size_t	hole = (size_t)(e - b->tab), i = hole, home;

	for (;;) {
		i = (i + 1) & (b->cap - 1);
		if (!(b->tab[i].flags & LOOKUP_BAYES_USED))
			break;
		home = lookup_bayes_slot(b, b->tab[i].uid, b->tab[i].h);
		/* i may fill the hole unless its home lies in (hole, i] */
		if (((i - home) & (b->cap - 1)) >=
		    ((i - hole) & (b->cap - 1))) {
			b->tab[hole] = b->tab[i];
			hole = i;
		}
	}
	memset(&b->tab[hole], 0, sizeof(b->tab[hole]));
	b->n--;
}

static void
lookup_bayes_touch(struct lookup_bayes *b, struct lookup_bayes_ent *e)
{
	if (e->flags & LOOKUP_BAYES_DIRTY)
		return;
	e->flags |= LOOKUP_BAYES_DIRTY;
	if (b->ndirty == b->dirtycap) {
		b->dirtycap = b->dirtycap == 0 ? 4096 : b->dirtycap * 2;
		b->dirty = xrealloc(b->dirty, b->dirtycap * sizeof(*b->dirty));
	}
	b->dirty[b->ndirty].h = e->h;
	b->dirty[b->ndirty].uid = e->uid;
	b->ndirty++;
}

static void
lookup_bayes_clear(struct lookup_bayes *b)
{
	free(b->tab);
	b->tab = NULL;
	b->cap = b->n = 0;
	b->ndirty = 0;
	lookup_bayes_grow(b);
}

/* (Re)load the table from the file. */
static int
lookup_bayes_load(struct lookup_bayes *b)
{
	sqlite3_stmt		*st = NULL;
	struct lookup_bayes_ent	*e;
	int			 rc;

	lookup_bayes_clear(b);
	if (sqlite3_prepare_v2(b->db, "SELECT uid, h, spam, ham, day FROM "
	    "bayes_tokens", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e = lookup_bayes_get(b, (uint32_t)sqlite3_column_int64(st, 0),
		    (uint64_t)sqlite3_column_int64(st, 1));
		e->spam = (uint32_t)sqlite3_column_int64(st, 2);
		e->ham = (uint32_t)sqlite3_column_int64(st, 3);
		e->day = (uint32_t)sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* --- SQL ------------------------------------------------------------ */

static uint32_t
lookup_bayes_today(const struct lookup_bayes *b)
{
	int64_t	now = b->now != 0 ? b->now : (int64_t)time(NULL);

	return now > 0 ? (uint32_t)(now / 86400) : 0;
}

/* Step a prepared statement to its end and reset it; 0 or -1. */
static int
lookup_bayes_run(struct lookup_bayes *b, sqlite3_stmt *st)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_warnx("lookup: bayes: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	return 0;
}

/*
 * The uid of user and its totals: 1 found, 0 not there (created when
 * create is set: then 1), -1 error.
 */
static int
lookup_bayes_user(struct lookup_bayes *b, const char *user, bool create,
    uint32_t *uid, uint64_t *nspam, uint64_t *nham)
{
	sqlite3_stmt	*st = b->st_user_get;
	int		 rc;

	*uid = 0;
	*nspam = *nham = 0;
	if (strlen(user) > LOOKUP_BAYES_USER_MAX)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*uid = (uint32_t)sqlite3_column_int64(st, 0);
		*nspam = (uint64_t)sqlite3_column_int64(st, 1);
		*nham = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE) {
		log_warnx("lookup: bayes: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	if (!create)
		return 0;
	sqlite3_bind_text(b->st_user_add, 1, user, -1, SQLITE_STATIC);
	if (lookup_bayes_run(b, b->st_user_add) == -1)
		return -1;
	*uid = (uint32_t)sqlite3_last_insert_rowid(b->db);
	return 1;
}

static int
lookup_bayes_totals(struct lookup_bayes *b, uint32_t uid, bool spam,
    int delta)
{
	sqlite3_bind_int(b->st_totals, 1, spam ? delta : 0);
	sqlite3_bind_int(b->st_totals, 2, spam ? 0 : delta);
	sqlite3_bind_int64(b->st_totals, 3, uid);
	return lookup_bayes_run(b, b->st_totals);
}

/* The class id was learnt as for uid: 1 spam, 0 ham, -2 none, -1 error. */
static int
lookup_bayes_learnt(struct lookup_bayes *b, uint32_t uid, const char *id)
{
	sqlite3_stmt	*st = b->st_learnt_get;
	int		 rc, cls = -2;

	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		cls = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("lookup: bayes: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	return cls;
}

/* --- open, close ---------------------------------------------------- */

static int
lookup_bayes_prepare(struct lookup_bayes *b, sqlite3_stmt **st,
    const char *sql)
{
	return sqlite3_prepare_v3(b->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    st, NULL) == SQLITE_OK ? 0 : -1;
}

struct lookup_bayes *
lookup_bayes_open(const struct conf *conf, const char *path, char *err,
    size_t errsz)
{
	struct lookup_bayes	*b = xcalloc(1, sizeof(*b));
	int			 flags = SQLITE_OPEN_READWRITE |
				    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

	bayes_params_default(&b->bp);
	b->per_user = conf != NULL && conf->spam_bayes_per_user;
	b->max_tokens = conf != NULL ? conf->spam_bayes_max_tokens :
	    CONF_BAYES_MAX_TOKENS;
	if (sqlite3_open_v2(path, &b->db, flags, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(b->db, LOOKUP_BAYES_BUSY_MS);
	sqlite3_db_config(b->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(b->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/*
	 * WAL with synchronous=NORMAL: a committed batch survives the
	 * process being killed, and the file is never torn; a power cut
	 * may lose the last batches, which are learnt again.
	 */
	if (sqlite3_exec(b->db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(b->db, lookup_bayes_schema, NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	if (lookup_bayes_prepare(b, &b->st_user_get, "SELECT uid, nspam, "
	    "nham FROM bayes_users WHERE name = ?") == -1 ||
	    lookup_bayes_prepare(b, &b->st_user_add, "INSERT INTO "
	    "bayes_users (name) VALUES (?)") == -1 ||
	    lookup_bayes_prepare(b, &b->st_totals, "UPDATE bayes_users SET "
	    "nspam = max(0, nspam + ?1), nham = max(0, nham + ?2) "
	    "WHERE uid = ?3") == -1 ||
	    lookup_bayes_prepare(b, &b->st_learnt_get, "SELECT spam FROM "
	    "bayes_learnt WHERE uid = ? AND id = ?") == -1 ||
	    lookup_bayes_prepare(b, &b->st_learnt_put, "INSERT OR REPLACE "
	    "INTO bayes_learnt (uid, id, spam, day) VALUES (?, ?, ?, ?)") ==
	    -1 ||
	    lookup_bayes_prepare(b, &b->st_tok_put, "INSERT OR REPLACE INTO "
	    "bayes_tokens (uid, h, spam, ham, day) VALUES (?, ?, ?, ?, ?)") ==
	    -1 ||
	    lookup_bayes_prepare(b, &b->st_tok_del, "DELETE FROM "
	    "bayes_tokens WHERE uid = ? AND h = ?") == -1 ||
	    lookup_bayes_load(b) == -1)
		goto fail;
	return b;
fail:
	(void)snprintf(err, errsz, "%s", b->db != NULL ?
	    sqlite3_errmsg(b->db) : "out of memory");
	lookup_bayes_close(b);
	return NULL;
}

void
lookup_bayes_close(struct lookup_bayes *b)
{
	if (b == NULL)
		return;
	if (b->in_tx)
		(void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_finalize(b->st_user_get);
	sqlite3_finalize(b->st_user_add);
	sqlite3_finalize(b->st_totals);
	sqlite3_finalize(b->st_learnt_get);
	sqlite3_finalize(b->st_learnt_put);
	sqlite3_finalize(b->st_tok_put);
	sqlite3_finalize(b->st_tok_del);
	sqlite3_close(b->db);
	free(b->tab);
	free(b->dirty);
	free(b);
}

void
lookup_bayes_set_clock(struct lookup_bayes *b, int64_t now)
{
	b->now = now;
}

/* --- classify ------------------------------------------------------- */

int
lookup_bayes_classify(struct lookup_bayes *b, const char *user,
    const struct spam_tokens *t, double *p)
{
	const struct lookup_bayes_ent	*e;
	const char			*tok;
	uint64_t			 nspam, nham, us, uh, h, s, g;
	uint32_t			 uid = 0;
	size_t				 off = 0, n = 0;

	*p = 0.5;
	if (lookup_bayes_user(b, "", false, &uid, &nspam, &nham) != 1)
		return -1;
	if (user[0] != '\0' && b->per_user) {
		if (lookup_bayes_user(b, user, false, &uid, &us, &uh) == -1)
			return -1;
		/* the user's layer counts on top of the server's */
		nspam += us;
		nham += uh;
	}
	if (nspam < LOOKUP_BAYES_MIN_LEARNT || nham < LOOKUP_BAYES_MIN_LEARNT)
		return -1;
	while ((tok = spam_tokens_next(t, &off)) != NULL &&
	    n < SPAM_TOKENS_MAX) {
		h = bayes_hash(tok, strlen(tok));
		s = g = 0;
		if ((e = lookup_bayes_find(b, 0, h)) != NULL) {
			s = e->spam;
			g = e->ham;
		}
		if (uid != 0 && (e = lookup_bayes_find(b, uid, h)) != NULL) {
			s += e->spam;
			g += e->ham;
		}
		/* a token never seen is x, which min_dev leaves out */
		if (s + g == 0)
			continue;
		b->f[n++] = bayes_token_prob(&b->bp, s, g, nspam, nham);
	}
	*p = bayes_combine(&b->bp, b->f, n, NULL);
	return 0;
}

/* --- learn ---------------------------------------------------------- */

/* Count (delta +1) or uncount (-1) the tokens for uid in one class. */
static void
lookup_bayes_count(struct lookup_bayes *b, uint32_t uid,
    const struct spam_tokens *t, bool spam, int delta, uint32_t day)
{
	struct lookup_bayes_ent	*e;
	const char		*tok;
	uint32_t		*c;
	size_t			 off = 0;
	uint64_t		 h;

	while ((tok = spam_tokens_next(t, &off)) != NULL) {
		h = bayes_hash(tok, strlen(tok));
		if (delta < 0) {
			if ((e = lookup_bayes_find(b, uid, h)) == NULL)
				continue;
		} else
			e = lookup_bayes_get(b, uid, h);
		c = spam ? &e->spam : &e->ham;
		if (delta > 0) {
			if (*c < UINT32_MAX)
				(*c)++;
			e->day = day;
		} else if (*c > 0)
			(*c)--;
		if (e->spam == 0 && e->ham == 0) {
			/* the key stays listed: the commit deletes the row */
			lookup_bayes_touch(b, e);
			lookup_bayes_remove(b, e);
			continue;
		}
		lookup_bayes_touch(b, e);
	}
}

/* Learn id for one layer: 1 learnt, 0 already so, -1 error. */
static int
lookup_bayes_learn(struct lookup_bayes *b, uint32_t uid, const char *id,
    const struct spam_tokens *t, bool spam, uint32_t day)
{
	int	cls;

	if ((cls = lookup_bayes_learnt(b, uid, id)) == -1)
		return -1;
	if (cls == (spam ? 1 : 0))
		return 0;
	if (cls >= 0) {
		/* learnt as the other class: unlearn that first */
		lookup_bayes_count(b, uid, t, !spam, -1, day);
		if (lookup_bayes_totals(b, uid, !spam, -1) == -1)
			return -1;
	}
	lookup_bayes_count(b, uid, t, spam, 1, day);
	if (lookup_bayes_totals(b, uid, spam, 1) == -1)
		return -1;
	sqlite3_bind_int64(b->st_learnt_put, 1, uid);
	sqlite3_bind_text(b->st_learnt_put, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(b->st_learnt_put, 3, spam ? 1 : 0);
	sqlite3_bind_int64(b->st_learnt_put, 4, day);
	if (lookup_bayes_run(b, b->st_learnt_put) == -1)
		return -1;
	return 1;
}

int
lookup_bayes_train(struct lookup_bayes *b, const char *user, const char *id,
    const struct spam_tokens *t, bool spam)
{
	uint64_t	ns, nh;
	uint32_t	uid, day = lookup_bayes_today(b);
	bool		own = !b->in_tx;
	int		r, ru = 0;

	if (id[0] == '\0' || strlen(id) > LOOKUP_BAYES_ID_MAX)
		return -1;
	if (own && lookup_bayes_begin(b) == -1)
		return -1;
	r = lookup_bayes_learn(b, 0, id, t, spam, day);
	if (r != -1 && user[0] != '\0' && b->per_user) {
		if (lookup_bayes_user(b, user, true, &uid, &ns, &nh) != 1)
			ru = -1;
		else
			ru = lookup_bayes_learn(b, uid, id, t, spam, day);
	}
	if (r == -1 || ru == -1) {
		/* nothing of this batch is kept: the commit rolls back */
		b->tx_failed = true;
		r = -1;
	} else if (ru == 1)
		r = 1;
	if (own && lookup_bayes_commit(b) == -1)
		return -1;
	return r;
}

int
lookup_bayes_begin(struct lookup_bayes *b)
{
	if (b->in_tx)
		return 0;
	if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		log_warnx("lookup: bayes: begin: %s", sqlite3_errmsg(b->db));
		return -1;
	}
	b->in_tx = true;
	b->tx_failed = false;
	return 0;
}

/* Write the rows of the entries that changed. */
static int
lookup_bayes_flush(struct lookup_bayes *b)
{
	struct lookup_bayes_ent	*e;
	size_t			 i;

	for (i = 0; i < b->ndirty; i++) {
		e = lookup_bayes_find(b, b->dirty[i].uid, b->dirty[i].h);
		if (e == NULL) {
			sqlite3_bind_int64(b->st_tok_del, 1, b->dirty[i].uid);
			sqlite3_bind_int64(b->st_tok_del, 2,
			    (sqlite3_int64)b->dirty[i].h);
			if (lookup_bayes_run(b, b->st_tok_del) == -1)
				return -1;
			continue;
		}
		if (!(e->flags & LOOKUP_BAYES_DIRTY))
			continue;
		sqlite3_bind_int64(b->st_tok_put, 1, e->uid);
		sqlite3_bind_int64(b->st_tok_put, 2, (sqlite3_int64)e->h);
		sqlite3_bind_int64(b->st_tok_put, 3, e->spam);
		sqlite3_bind_int64(b->st_tok_put, 4, e->ham);
		sqlite3_bind_int64(b->st_tok_put, 5, e->day);
		if (lookup_bayes_run(b, b->st_tok_put) == -1)
			return -1;
		e->flags &= ~LOOKUP_BAYES_DIRTY;
	}
	b->ndirty = 0;
	return 0;
}

/* Expiry's order: the day, plus grace for every doubling of the count. */
struct lookup_bayes_age {
	uint64_t			age;
	struct lookup_bayes_key		key;
};

static int
lookup_bayes_cmp_age(const void *a, const void *b)
{
	uint64_t	x = ((const struct lookup_bayes_age *)a)->age;
	uint64_t	y = ((const struct lookup_bayes_age *)b)->age;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * Over spam-bayes-max-tokens: drop the tokens learnt longest ago, a
 * token counted often kept longer (LOOKUP_BAYES_GRACE_DAYS per
 * doubling), down to LOOKUP_BAYES_KEEP_PCT of the maximum.
 */
static int
lookup_bayes_expire(struct lookup_bayes *b)
{
	struct lookup_bayes_age	*v;
	struct lookup_bayes_ent	*e;
	size_t			 i, k = 0, drop;
	uint64_t		 c, keep;
	int			 rc = 0;

	if (b->n <= b->max_tokens)
		return 0;
	keep = b->max_tokens * LOOKUP_BAYES_KEEP_PCT / 100;
	drop = b->n - (size_t)keep;
	v = xcalloc(b->n, sizeof(*v));
	for (i = 0; i < b->cap; i++) {
		e = &b->tab[i];
		if (!(e->flags & LOOKUP_BAYES_USED))
			continue;
		c = (uint64_t)e->spam + e->ham;
		v[k].age = e->day;
		while (c > 1) {
			v[k].age += LOOKUP_BAYES_GRACE_DAYS;
			c /= 2;
		}
		v[k].key.h = e->h;
		v[k].key.uid = e->uid;
		k++;
	}
	qsort(v, k, sizeof(*v), lookup_bayes_cmp_age);
	for (i = 0; i < drop && i < k; i++) {
		if ((e = lookup_bayes_find(b, v[i].key.uid, v[i].key.h)) !=
		    NULL)
			lookup_bayes_remove(b, e);
		sqlite3_bind_int64(b->st_tok_del, 1, v[i].key.uid);
		sqlite3_bind_int64(b->st_tok_del, 2,
		    (sqlite3_int64)v[i].key.h);
		if ((rc = lookup_bayes_run(b, b->st_tok_del)) == -1)
			break;
	}
	log_info("lookup: bayes: expired tokens=%zu kept=%zu", i, b->n);
	free(v);
	return rc;
}

int
lookup_bayes_commit(struct lookup_bayes *b)
{
	if (!b->in_tx)
		return 0;
	b->in_tx = false;
	if (!b->tx_failed && lookup_bayes_flush(b) == 0 &&
	    lookup_bayes_expire(b) == 0 &&
	    sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	log_warnx("lookup: bayes: commit: %s; batch not learnt",
	    b->tx_failed ? "a message failed" : sqlite3_errmsg(b->db));
	(void)sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
	b->tx_failed = false;
	/* the table learnt what the file did not: read the file again */
	if (lookup_bayes_load(b) == -1)
		log_warnx("lookup: bayes: reload: %s", sqlite3_errmsg(b->db));
	return -1;
}

int
lookup_bayes_stats(struct lookup_bayes *b, const char *user, uint64_t *nspam,
    uint64_t *nham, uint64_t *ntokens)
{
	uint32_t	uid;
	size_t		i;
	int		r;

	*nspam = *nham = *ntokens = 0;
	if ((r = lookup_bayes_user(b, user, false, &uid, nspam, nham)) != 1)
		return r == 0 ? 0 : -1;
	for (i = 0; i < b->cap; i++)
		if ((b->tab[i].flags & LOOKUP_BAYES_USED) &&
		    b->tab[i].uid == uid)
			(*ntokens)++;
	return 0;
}

int
lookup_bayes_token(struct lookup_bayes *b, const char *user,
    const char *token, uint64_t *spam, uint64_t *ham)
{
	const struct lookup_bayes_ent	*e;
	uint64_t			 ns, nh;
	uint32_t			 uid;
	int				 r;

	*spam = *ham = 0;
	if ((r = lookup_bayes_user(b, user, false, &uid, &ns, &nh)) != 1)
		return r == 0 ? 0 : -1;
	e = lookup_bayes_find(b, uid, bayes_hash(token,
	    strlen(token)));
	if (e != NULL) {
		*spam = e->spam;
		*ham = e->ham;
	}
	return 0;
}
