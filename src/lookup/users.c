/*
 * users: domains, users and aliases in SQLite under state-dir.
 *
 * Run by the lookup role (and cachetctl), the only processes that may read
 * password hashes.  Its inputs are our own framed messages and the admin's
 * command line, but an address may have come from an SMTP peer, so every
 * string is bounded with strnlen() and checked before it reaches SQL.  All
 * SQL is static text with bound parameters, prepared once per connection.
 *
 * One struct users per thread: SQLite is opened without its own mutexes
 * and the crypt(3) work area lives in the handle.  Statements are reset
 * after every call, so no read transaction stays open and a change made by
 * another connection is visible to the next call (WAL readers see the
 * latest commit when their transaction starts).
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "sasl.h"
#include "users.h"
#include "util.h"

/* 2: the SCRAM columns of users (added to a version 1 file at open). */
#define USERS_SCHEMA_VERSION	2
#define USERS_BUSY_TIMEOUT_MS	5000
/* yescrypt, the default of Debian's libxcrypt and of crypt(5) */
#define USERS_HASH_PREFIX	"$y$"

enum users_stmt {
	USERS_STMT_DOMAIN_ADD,
	USERS_STMT_DOMAIN_DEL,
	USERS_STMT_DOMAIN_EXISTS,
	USERS_STMT_DOMAIN_LIST,
	USERS_STMT_USER_ADD,
	USERS_STMT_USER_DEL,
	USERS_STMT_USER_PASSWD,
	USERS_STMT_USER_EXISTS,
	USERS_STMT_USER_HASH,
	USERS_STMT_USER_LIST,
	USERS_STMT_USER_GET,
	USERS_STMT_USER_QUOTA,
	USERS_STMT_USER_FORMAT,
	USERS_STMT_USER_FIRST,
	USERS_STMT_USER_SCRAM,
	USERS_STMT_ALIAS_ADD,
	USERS_STMT_ALIAS_DEL,
	USERS_STMT_ALIAS_LIST,
	USERS_STMT_ALIAS_LIST_ALL,
	USERS_STMT_ALIAS_MATCH,
	USERS_STMT_COUNT
};

static const char *const users_sql[USERS_STMT_COUNT] = {
	[USERS_STMT_DOMAIN_ADD] =
	    "INSERT INTO domains (name) VALUES (?1)",
	[USERS_STMT_DOMAIN_DEL] =
	    "DELETE FROM domains WHERE name = ?1",
	[USERS_STMT_DOMAIN_EXISTS] =
	    "SELECT 1 FROM domains WHERE name = ?1",
	[USERS_STMT_DOMAIN_LIST] =
	    "SELECT name FROM domains ORDER BY name",
	[USERS_STMT_USER_ADD] =
	    "INSERT INTO users (address, domain, hash, created, scram_iter, "
	    "scram_salt, scram_stored, scram_server) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[USERS_STMT_USER_DEL] =
	    "DELETE FROM users WHERE address = ?1",
	[USERS_STMT_USER_PASSWD] =
	    "UPDATE users SET hash = ?2, scram_iter = ?3, scram_salt = ?4, "
	    "scram_stored = ?5, scram_server = ?6 WHERE address = ?1",
	[USERS_STMT_USER_EXISTS] =
	    "SELECT 1 FROM users WHERE address = ?1",
	[USERS_STMT_USER_HASH] =
	    "SELECT hash FROM users WHERE address = ?1",
	[USERS_STMT_USER_LIST] =
	    "SELECT address, created, quota, mailbox_format, "
	    "scram_stored IS NOT NULL FROM users ORDER BY address",
	[USERS_STMT_USER_GET] =
	    "SELECT address, quota, mailbox_format, "
	    "scram_stored IS NOT NULL FROM users WHERE address = ?1",
	[USERS_STMT_USER_QUOTA] =
	    "UPDATE users SET quota = ?2 WHERE address = ?1",
	[USERS_STMT_USER_FORMAT] =
	    "UPDATE users SET mailbox_format = ?2 WHERE address = ?1",
	[USERS_STMT_USER_FIRST] =
	    "SELECT address FROM users ORDER BY address LIMIT 1",
	[USERS_STMT_USER_SCRAM] =
	    "SELECT scram_iter, scram_salt, scram_stored, scram_server "
	    "FROM users WHERE address = ?1",
	[USERS_STMT_ALIAS_ADD] =
	    "INSERT INTO aliases (source, target, domain) VALUES (?1, ?2, ?3)",
	[USERS_STMT_ALIAS_DEL] =
	    "DELETE FROM aliases WHERE source = ?1 AND target = ?2",
	[USERS_STMT_ALIAS_LIST] =
	    "SELECT source, target FROM aliases WHERE source = ?1 "
	    "ORDER BY target",
	[USERS_STMT_ALIAS_LIST_ALL] =
	    "SELECT source, target FROM aliases ORDER BY source, target",
	[USERS_STMT_ALIAS_MATCH] =
	    "SELECT 1 FROM aliases WHERE source = ?1 AND target = ?2",
};

/*
 * The domain columns of users and aliases tie rows to a domain: a domain
 * with users cannot be removed by mistake (NO ACTION, checked at the end
 * of the statement; RESTRICT would report a trigger error instead of a
 * foreign key one), and its aliases go with it.
 * Domains are stored lower-cased, so NOCASE there only guards against a
 * hand-edited row.  users.apop_secret, quota and mailbox_format are for
 * the POP3 and IMAP roles to come.  The scram_* columns hold the
 * SCRAM-SHA-256 keys (RFC 5802 §3) of the password, NULL for a user whose
 * password was set before they existed (schema 1) or cannot be used with
 * SCRAM (users_scram_password_ok()).
 */
static const char users_schema[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS domains ("
	"  name TEXT PRIMARY KEY COLLATE NOCASE);"
	"CREATE TABLE IF NOT EXISTS users ("
	"  address TEXT PRIMARY KEY COLLATE NOCASE,"
	"  domain TEXT NOT NULL COLLATE NOCASE"
	"    REFERENCES domains(name),"
	"  hash TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  apop_secret TEXT NULL,"
	"  quota INTEGER NULL,"
	"  mailbox_format TEXT NOT NULL DEFAULT 'maildir',"
	"  scram_iter INTEGER NULL,"
	"  scram_salt BLOB NULL,"
	"  scram_stored BLOB NULL,"
	"  scram_server BLOB NULL);"
	"CREATE INDEX IF NOT EXISTS users_domain ON users(domain);"
	"CREATE TABLE IF NOT EXISTS aliases ("
	"  source TEXT NOT NULL COLLATE NOCASE,"
	"  target TEXT NOT NULL COLLATE NOCASE,"
	"  domain TEXT NOT NULL COLLATE NOCASE"
	"    REFERENCES domains(name) ON DELETE CASCADE,"
	"  PRIMARY KEY (source, target));"
	"CREATE INDEX IF NOT EXISTS aliases_target ON aliases(target);"
	"CREATE INDEX IF NOT EXISTS aliases_domain ON aliases(domain);";

/* Schema 1 to 2: the users made before keep their hash, without keys. */
static const char users_migrate_2[] =
	"ALTER TABLE users ADD COLUMN scram_iter INTEGER NULL;"
	"ALTER TABLE users ADD COLUMN scram_salt BLOB NULL;"
	"ALTER TABLE users ADD COLUMN scram_stored BLOB NULL;"
	"ALTER TABLE users ADD COLUMN scram_server BLOB NULL;"
	"UPDATE meta SET value = '2' WHERE key = 'schema_version';";

/* The key of the made-up salts for unknown users (users_scram_salt()). */
#define USERS_SCRAM_SECRET_LEN	32

/* A user's SCRAM keys as stored. */
struct users_scram_keys {
	bool		set;
	uint32_t	iterations;
	unsigned char	salt[SASL_SCRAM_SALT_MAX];
	size_t		saltlen;
	unsigned char	stored[SASL_SCRAM_HASH_LEN];
	unsigned char	server[SASL_SCRAM_HASH_LEN];
};

struct users {
	sqlite3			*db;
	sqlite3_stmt		*stmt[USERS_STMT_COUNT];
	unsigned char		 scram_secret[USERS_SCRAM_SECRET_LEN];
	/* a yescrypt setting of default cost, hashed for unknown users */
	char			 dummy_setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data	 cd;
	char			 err[256];
};

static _Thread_local char	users_thread_err[256];

static const char *
users_err(struct users *u, const char *what)
{
	(void)snprintf(u->err, sizeof(u->err), "%s: %s", what,
	    sqlite3_errmsg(u->db));
	return u->err;
}

static void
users_set_err(const char **errstr_out, const char *msg)
{
	if (errstr_out != NULL)
		*errstr_out = msg;
}

static int
users_domain_normalize(const char *domain, char *out, const char **errstr_out)
{
	size_t	len;

	len = strnlen(domain, MAILBOX_DOMAIN_MAX + 1);
	if (!mailbox_domain_canon(domain, len, out)) {
		users_set_err(errstr_out, "invalid domain name");
		return -1;
	}
	return 0;
}

/* The domain part of an address made by mailbox_addr_normalize(). */
static const char *
users_addr_domain(const char *canon)
{
	return strchr(canon, '@') + 1;
}

/*
 * An alias source: an address, or "@domain" for a catch-all.  out holds
 * MAILBOX_ADDR_MAX + 1 bytes.
 */
static int
users_source_normalize(const char *source, char *out,
    const char **errstr_out)
{
	size_t	len;

	if (source[0] != '@')
		return mailbox_addr_normalize(source, out, MAILBOX_ADDR_MAX + 1,
		    errstr_out);
	len = strnlen(source + 1, MAILBOX_DOMAIN_MAX + 1);
	if (!mailbox_domain_canon(source + 1, len, out + 1)) {
		users_set_err(errstr_out, "invalid address");
		return -1;
	}
	out[0] = '@';
	return 0;
}

static sqlite3_stmt *
users_stmt(struct users *u, enum users_stmt id)
{
	return u->stmt[id];
}

/* Make a statement ready for the next call and end its read transaction. */
static void
users_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int
users_bind(struct users *u, sqlite3_stmt *st, int idx, const char *s,
    const char **errstr_out)
{
	if (sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC) != SQLITE_OK) {
		users_set_err(errstr_out, users_err(u, "bind"));
		return -1;
	}
	return 0;
}

/*
 * Run a statement that changes rows.  Constraint failures are mapped to
 * the messages in dup (primary key) and fk (foreign key); zero rows
 * changed is an error with message none when none is not NULL.
 */
static int
users_write(struct users *u, sqlite3_stmt *st, const char *dup,
    const char *fk, const char *none, const char **errstr_out)
{
	int	rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		users_done(st);
		if (none != NULL && sqlite3_changes(u->db) == 0) {
			users_set_err(errstr_out, none);
			return -1;
		}
		return 0;
	}
	if ((rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    rc == SQLITE_CONSTRAINT_UNIQUE) && dup != NULL)
		users_set_err(errstr_out, dup);
	else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY && fk != NULL)
		users_set_err(errstr_out, fk);
	else
		users_set_err(errstr_out, users_err(u, "write"));
	users_done(st);
	return -1;
}

/* Run a "SELECT 1 ..." and tell whether it found a row. */
static int
users_probe(struct users *u, sqlite3_stmt *st, bool *found_out,
    const char **errstr_out)
{
	int	rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		*found_out = rc == SQLITE_ROW;
		users_done(st);
		return 0;
	}
	users_set_err(errstr_out, users_err(u, "read"));
	users_done(st);
	return -1;
}

/* The end of a listing loop: rc is the last step's result. */
static int
users_list_end(struct users *u, sqlite3_stmt *st, int rc, bool stopped,
    const char **errstr_out)
{
	if (stopped) {
		users_done(st);
		users_set_err(errstr_out, "listing stopped");
		return -1;
	}
	if (rc != SQLITE_DONE) {
		users_set_err(errstr_out, users_err(u, "read"));
		users_done(st);
		return -1;
	}
	users_done(st);
	return 0;
}

static const char *
users_col(sqlite3_stmt *st, int col)
{
	const unsigned char	*s;

	s = sqlite3_column_text(st, col);
	return s == NULL ? "" : (const char *)s;
}

static int
users_exec(sqlite3 *db, const char *sql, const char **errstr_out)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		(void)snprintf(users_thread_err, sizeof(users_thread_err),
		    "%s", sqlite3_errmsg(db));
		users_set_err(errstr_out, users_thread_err);
		return -1;
	}
	return 0;
}

/* A lower-case hex digit's value, or -1. */
static int
users_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The key of the salts made up for users without SCRAM keys: random, made
 * once per database and kept in meta, so that the same name gets the same
 * salt across restarts (a salt that changed would tell that no user has
 * it).  Called inside users_setup()'s transaction.
 */
static int
users_scram_secret_load(struct users *u, const char **errstr_out)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 r[USERS_SCRAM_SECRET_LEN];
	char			 txt[2 * USERS_SCRAM_SECRET_LEN + 1];
	const char		*v;
	sqlite3_stmt		*st = NULL;
	size_t			 i;
	int			 hi, lo, ret = -1;

	if (RAND_bytes(r, sizeof(r)) != 1) {
		users_set_err(errstr_out, "RAND_bytes failed");
		return -1;
	}
	for (i = 0; i < sizeof(r); i++) {
		txt[2 * i] = hex[r[i] >> 4];
		txt[2 * i + 1] = hex[r[i] & 0xf];
	}
	txt[sizeof(txt) - 1] = '\0';
	if (sqlite3_prepare_v2(u->db, "INSERT OR IGNORE INTO meta (key, value)"
	    " VALUES ('scram_secret', ?1)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, txt, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(u->db, "SELECT value FROM meta WHERE key = "
	    "'scram_secret'", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto sqlfail;
	v = (const char *)sqlite3_column_text(st, 0);
	if (v == NULL || sqlite3_column_bytes(st, 0) != (int)sizeof(txt) - 1) {
		users_set_err(errstr_out, "malformed scram_secret in meta");
		goto out;
	}
	for (i = 0; i < sizeof(r); i++) {
		hi = users_hexval(v[2 * i]);
		lo = users_hexval(v[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			users_set_err(errstr_out,
			    "malformed scram_secret in meta");
			goto out;
		}
		u->scram_secret[i] = (unsigned char)(hi << 4 | lo);
	}
	ret = 0;
	goto out;
sqlfail:
	snprintf(users_thread_err, sizeof(users_thread_err), "%s",
	    sqlite3_errmsg(u->db));
	users_set_err(errstr_out, users_thread_err);
out:
	sqlite3_finalize(st);
	explicit_bzero(r, sizeof(r));
	explicit_bzero(txt, sizeof(txt));
	return ret;
}

static int
users_setup(struct users *u, const char **errstr_out)
{
	sqlite3_stmt	*st = NULL;
	const char	*mode;
	int		 version;

	sqlite3_busy_timeout(u->db, USERS_BUSY_TIMEOUT_MS);
	/* Refuse what a tampered file could smuggle into our queries. */
	sqlite3_db_config(u->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(u->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (sqlite3_prepare_v2(u->db, "PRAGMA journal_mode=WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto sqlfail;
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		users_set_err(errstr_out, "cannot switch to WAL journal mode");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* Overwrite freed pages: a deleted hash should not linger. */
	if (users_exec(u->db, "PRAGMA foreign_keys=ON;"
	    "PRAGMA secure_delete=ON", errstr_out) == -1)
		return -1;

	/* Two processes may start on a fresh file at once: one writer. */
	if (users_exec(u->db, "BEGIN IMMEDIATE", errstr_out) == -1)
		return -1;
	if (users_exec(u->db, users_schema, errstr_out) == -1)
		goto rollback;
	if (sqlite3_prepare_v2(u->db, "INSERT OR IGNORE INTO meta (key, value)"
	    " VALUES ('schema_version', ?1)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_int(st, 1, USERS_SCHEMA_VERSION) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto sqlrollback;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(u->db,
	    "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto sqlrollback;
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version == 1) {
		if (users_exec(u->db, users_migrate_2, errstr_out) == -1)
			goto rollback;
		version = 2;
	}
	if (version == USERS_SCHEMA_VERSION &&
	    users_scram_secret_load(u, errstr_out) == -1)
		goto rollback;
	if (users_exec(u->db, "COMMIT", errstr_out) == -1)
		goto rollback;
	if (version != USERS_SCHEMA_VERSION) {
		users_set_err(errstr_out, version > USERS_SCHEMA_VERSION ?
		    "database schema is newer than this program" :
		    "unknown database schema version");
		return -1;
	}
	return 0;
sqlrollback:
	snprintf(users_thread_err, sizeof(users_thread_err), "%s",
	    sqlite3_errmsg(u->db));
	users_set_err(errstr_out, users_thread_err);
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
sqlfail:
	snprintf(users_thread_err, sizeof(users_thread_err), "%s",
	    sqlite3_errmsg(u->db));
	users_set_err(errstr_out, users_thread_err);
fail:
	sqlite3_finalize(st);
	return -1;
}

struct users *
users_open(const char *path, bool create, const char **errstr_out)
{
	struct users	*u;
	int		 fd, flags, i;

	if (create) {
		/* SQLite would create it 0644; the file holds hashes. */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd == -1) {
			(void)snprintf(users_thread_err,
			    sizeof(users_thread_err), "%s: %s", path,
			    strerror(errno));
			users_set_err(errstr_out, users_thread_err);
			return NULL;
		}
		close(fd);
	}

	u = xcalloc(1, sizeof(*u));
	/* One thread per connection, so SQLite's own mutexes are not needed. */
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	    SQLITE_OPEN_EXRESCODE;
	if (sqlite3_open_v2(path, &u->db, flags, NULL) != SQLITE_OK) {
		(void)snprintf(users_thread_err, sizeof(users_thread_err),
		    "%s: %s", path, u->db != NULL ? sqlite3_errmsg(u->db) :
		    "out of memory");
		users_set_err(errstr_out, users_thread_err);
		goto fail;
	}
	if (users_setup(u, errstr_out) == -1)
		goto fail;
	for (i = 0; i < USERS_STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(u->db, users_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &u->stmt[i], NULL) !=
		    SQLITE_OK) {
			(void)snprintf(users_thread_err,
			    sizeof(users_thread_err), "prepare: %s",
			    sqlite3_errmsg(u->db));
			users_set_err(errstr_out, users_thread_err);
			goto fail;
		}
	}
	if (crypt_gensalt_rn(USERS_HASH_PREFIX, 0, NULL, 0, u->dummy_setting,
	    sizeof(u->dummy_setting)) == NULL) {
		users_set_err(errstr_out, "crypt_gensalt: cannot make a salt");
		goto fail;
	}
	return u;
fail:
	users_close(u);
	return NULL;
}

void
users_close(struct users *u)
{
	int	i;

	if (u == NULL)
		return;
	for (i = 0; i < USERS_STMT_COUNT; i++)
		sqlite3_finalize(u->stmt[i]);
	sqlite3_close_v2(u->db);
	explicit_bzero(&u->cd, sizeof(u->cd));
	free(u);
}

int
users_domain_add(struct users *u, const char *domain, const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_DOMAIN_ADD);
	char		 name[MAILBOX_DOMAIN_MAX + 1];

	if (users_domain_normalize(domain, name, errstr_out) == -1 ||
	    users_bind(u, st, 1, name, errstr_out) == -1)
		return -1;
	return users_write(u, st, "domain exists", NULL, NULL, errstr_out);
}

int
users_domain_del(struct users *u, const char *domain, const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_DOMAIN_DEL);
	char		 name[MAILBOX_DOMAIN_MAX + 1];

	if (users_domain_normalize(domain, name, errstr_out) == -1 ||
	    users_bind(u, st, 1, name, errstr_out) == -1)
		return -1;
	return users_write(u, st, NULL, "domain still has users",
	    "no such domain", errstr_out);
}

int
users_domain_exists(struct users *u, const char *domain, bool *exists_out,
    const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_DOMAIN_EXISTS);
	char		 name[MAILBOX_DOMAIN_MAX + 1];

	*exists_out = false;
	if (users_domain_normalize(domain, name, NULL) == -1)
		return 0;
	if (users_bind(u, st, 1, name, errstr_out) == -1)
		return -1;
	return users_probe(u, st, exists_out, errstr_out);
}

int
users_domain_list(struct users *u, int (*cb)(const char *, void *), void *arg,
    const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_DOMAIN_LIST);
	bool		 stopped = false;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(users_col(st, 0), arg) != 0) {
			stopped = true;
			break;
		}
	}
	return users_list_end(u, st, rc, stopped, errstr_out);
}

static int
users_check_new_password(const char *password, const char **errstr_out)
{
	size_t	len;

	len = strnlen(password, USERS_PASSWORD_MAX + 1);
	if (len == 0) {
		users_set_err(errstr_out, "empty password");
		return -1;
	}
	if (len > USERS_PASSWORD_MAX) {
		users_set_err(errstr_out, "password too long");
		return -1;
	}
	return 0;
}

/* --- SCRAM-SHA-256 keys (RFC 5802 §3, RFC 7677) --- */

bool
users_scram_password_ok(const char *password)
{
	size_t	i, len;

	/*
	 * SCRAM hashes the password after SASLprep (RFC 4013), which we do
	 * not implement; for printable ASCII it changes nothing (no
	 * mapping or prohibition of RFC 4013 §2 touches 0x20-0x7e), so
	 * keys made from such a password match any client's.
	 */
	len = strnlen(password, USERS_PASSWORD_MAX + 1);
	if (len == 0 || len > USERS_PASSWORD_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (password[i] < 0x20 || password[i] > 0x7e)
			return false;
	return true;
}

/*
 * The keys of a password with a fresh random salt, or none (set false)
 * when the password cannot be used with SCRAM.  Slow by design, like the
 * crypt(3) hash beside it.
 */
static int
users_scram_make(const char *password, struct users_scram_keys *k,
    const char **errstr_out)
{
	memset(k, 0, sizeof(*k));
	if (!users_scram_password_ok(password))
		return 0;
	k->iterations = USERS_SCRAM_ITERATIONS;
	k->saltlen = USERS_SCRAM_SALT_LEN;
	if (RAND_bytes(k->salt, (int)k->saltlen) != 1 ||
	    sasl_scram_derive(password, strlen(password), k->salt, k->saltlen,
	    k->iterations, k->stored, k->server) == -1) {
		users_set_err(errstr_out, "SCRAM key derivation failed");
		explicit_bzero(k, sizeof(*k));
		return -1;
	}
	k->set = true;
	return 0;
}

/* Bind keys (or NULLs) to four parameters from idx on. */
static int
users_bind_scram(struct users *u, sqlite3_stmt *st, int idx,
    const struct users_scram_keys *k, const char **errstr_out)
{
	int	rc = SQLITE_OK, i;

	if (!k->set) {
		for (i = 0; i < 4 && rc == SQLITE_OK; i++)
			rc = sqlite3_bind_null(st, idx + i);
	} else if ((rc = sqlite3_bind_int64(st, idx,
	    (sqlite3_int64)k->iterations)) == SQLITE_OK &&
	    (rc = sqlite3_bind_blob(st, idx + 1, k->salt, (int)k->saltlen,
	    SQLITE_STATIC)) == SQLITE_OK &&
	    (rc = sqlite3_bind_blob(st, idx + 2, k->stored,
	    (int)sizeof(k->stored), SQLITE_STATIC)) == SQLITE_OK)
		rc = sqlite3_bind_blob(st, idx + 3, k->server,
		    (int)sizeof(k->server), SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		users_set_err(errstr_out, users_err(u, "bind"));
		return -1;
	}
	return 0;
}

/*
 * The keys stored for addr into k; k->set is false for an unknown user,
 * one without keys, or a row whose keys are out of their bounds (a
 * hand-edited file: refused rather than trusted).  -1 when the store
 * failed.
 */
static int
users_scram_get(struct users *u, const char *addr, struct users_scram_keys *k)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_USER_SCRAM);
	char		 canon[MAILBOX_ADDR_MAX + 1];
	const void	*salt, *stored, *server;
	sqlite3_int64	 iter;
	size_t		 saltlen;
	int		 rc;

	memset(k, 0, sizeof(*k));
	if (mailbox_addr_normalize(addr, canon, sizeof(canon), NULL) == -1)
		return 0;
	if (sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC) != SQLITE_OK) {
		users_done(st);
		return -1;
	}
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		users_done(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	iter = sqlite3_column_int64(st, 0);
	salt = sqlite3_column_blob(st, 1);
	saltlen = (size_t)sqlite3_column_bytes(st, 1);
	stored = sqlite3_column_blob(st, 2);
	server = sqlite3_column_blob(st, 3);
	if (sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
	    iter >= SASL_SCRAM_ITER_MIN && iter <= SASL_SCRAM_ITER_MAX &&
	    salt != NULL && saltlen >= SASL_SCRAM_SALT_MIN &&
	    saltlen <= SASL_SCRAM_SALT_MAX && stored != NULL &&
	    sqlite3_column_bytes(st, 2) == SASL_SCRAM_HASH_LEN &&
	    server != NULL &&
	    sqlite3_column_bytes(st, 3) == SASL_SCRAM_HASH_LEN) {
		k->iterations = (uint32_t)iter;
		memcpy(k->salt, salt, saltlen);
		k->saltlen = saltlen;
		memcpy(k->stored, stored, SASL_SCRAM_HASH_LEN);
		memcpy(k->server, server, SASL_SCRAM_HASH_LEN);
		k->set = true;
	}
	users_done(st);
	return 0;
}

/*
 * Keys made up for a name that has none: an HMAC of the name (ASCII
 * lower-cased, as the store compares names) under the database's
 * secret, so that the same name always gets the same salt and count,
 * as a real user does (RFC 5802 §9: the exchange must not tell who
 * exists).  Nobody can log in with them: callers check set is false.
 */
static void
users_scram_fake(struct users *u, const char *name,
    struct users_scram_keys *k)
{
	unsigned char	mac[SASL_SCRAM_HASH_LEN];
	char		low[MAILBOX_ADDR_MAX + 8];
	size_t		i, n;
	unsigned int	len = 0;

	memset(k, 0, sizeof(*k));
	n = strnlen(name, MAILBOX_ADDR_MAX);
	memcpy(low, "salt:", 5);
	for (i = 0; i < n; i++)
		low[5 + i] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	if (HMAC(EVP_sha256(), u->scram_secret, sizeof(u->scram_secret),
	    (const unsigned char *)low, 5 + n, mac, &len) == NULL)
		memset(mac, 0, sizeof(mac));
	k->iterations = USERS_SCRAM_ITERATIONS;
	k->saltlen = USERS_SCRAM_SALT_LEN;
	memcpy(k->salt, mac, USERS_SCRAM_SALT_LEN);
	/* Keys to compute with, so that a check costs what a real one does. */
	memcpy(k->stored, mac, sizeof(k->stored));
	memcpy(k->server, mac, sizeof(k->server));
	k->stored[0] ^= 0x5c;
	k->set = false;
	explicit_bzero(mac, sizeof(mac));
}

int
users_scram_salt(struct users *u, const char *addr, unsigned char *salt_out,
    size_t *saltlen_out, uint32_t *iterations_out, const char **errstr_out)
{
	struct users_scram_keys	k, fake;
	int			ret = 0;

	/* The made-up keys always, so both answers cost the same. */
	users_scram_fake(u, addr, &fake);
	if (users_scram_get(u, addr, &k) == -1) {
		users_set_err(errstr_out, users_err(u, "read"));
		ret = -1;
	}
	if (!k.set)
		k = fake;
	memcpy(salt_out, k.salt, k.saltlen);
	*saltlen_out = k.saltlen;
	*iterations_out = k.iterations;
	explicit_bzero(&k, sizeof(k));
	explicit_bzero(&fake, sizeof(fake));
	return ret;
}

enum users_auth
users_check_scram(struct users *u, const char *addr, const char *authmsg,
    size_t len, const unsigned char *proof, unsigned char *sig_out)
{
	struct users_scram_keys	k, fake;
	enum users_auth		ret = USERS_AUTH_FAIL;
	bool			ok;

	users_scram_fake(u, addr, &fake);
	if (users_scram_get(u, addr, &k) == -1)
		ret = USERS_AUTH_TEMPFAIL;
	/* An unknown user and one without keys cost the same HMACs. */
	ok = sasl_scram_verify(k.set ? k.stored : fake.stored,
	    k.set ? k.server : fake.server, authmsg, len, proof, sig_out);
	if (ok && k.set && ret != USERS_AUTH_TEMPFAIL)
		ret = USERS_AUTH_OK;
	if (ret != USERS_AUTH_OK)
		explicit_bzero(sig_out, SASL_SCRAM_HASH_LEN);
	explicit_bzero(&k, sizeof(k));
	explicit_bzero(&fake, sizeof(fake));
	return ret;
}

/*
 * What setting a password stores: the canonical address (canon, of
 * MAILBOX_ADDR_MAX + 1), the crypt(3) hash (hash, of USERS_HASH_SIZE) and
 * the SCRAM keys.  The caller wipes hash and k.
 */
static int
users_password_prepare(const char *addr, const char *password, char *canon,
    char *hash, struct users_scram_keys *k, const char **errstr_out)
{
	memset(k, 0, sizeof(*k));
	hash[0] = '\0';
	if (mailbox_addr_normalize(addr, canon, MAILBOX_ADDR_MAX + 1,
	    errstr_out) == -1 ||
	    users_hash_password(password, hash, USERS_HASH_SIZE,
	    errstr_out) == -1 ||
	    users_scram_make(password, k, errstr_out) == -1)
		return -1;
	return 0;
}

int
users_user_add(struct users *u, const char *addr, const char *password,
    const char **errstr_out)
{
	sqlite3_stmt		*st = users_stmt(u, USERS_STMT_USER_ADD);
	struct users_scram_keys	 k;
	char			 canon[MAILBOX_ADDR_MAX + 1];
	char			 hash[USERS_HASH_SIZE];
	int			 ret = -1;

	if (users_password_prepare(addr, password, canon, hash, &k,
	    errstr_out) == -1)
		goto out;
	if (users_bind(u, st, 1, canon, errstr_out) == -1 ||
	    users_bind(u, st, 2, users_addr_domain(canon), errstr_out) == -1 ||
	    users_bind(u, st, 3, hash, errstr_out) == -1 ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL)) !=
	    SQLITE_OK || users_bind_scram(u, st, 5, &k, errstr_out) == -1) {
		users_done(st);
		goto out;
	}
	ret = users_write(u, st, "user exists", "domain not found", NULL,
	    errstr_out);
out:
	explicit_bzero(hash, sizeof(hash));
	explicit_bzero(&k, sizeof(k));
	return ret;
}

int
users_user_del(struct users *u, const char *addr, const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_USER_DEL);
	char		 canon[MAILBOX_ADDR_MAX + 1];

	if (mailbox_addr_normalize(addr, canon, sizeof(canon),
	    errstr_out) == -1 ||
	    users_bind(u, st, 1, canon, errstr_out) == -1)
		return -1;
	return users_write(u, st, NULL, NULL, "no such user", errstr_out);
}

int
users_user_passwd(struct users *u, const char *addr, const char *password,
    const char **errstr_out)
{
	sqlite3_stmt		*st = users_stmt(u, USERS_STMT_USER_PASSWD);
	struct users_scram_keys	 k;
	char			 canon[MAILBOX_ADDR_MAX + 1];
	char			 hash[USERS_HASH_SIZE];
	int			 ret = -1;

	if (users_password_prepare(addr, password, canon, hash, &k,
	    errstr_out) == -1)
		goto out;
	/* The old keys go with the old password, also when none are made. */
	if (users_bind(u, st, 1, canon, errstr_out) == -1 ||
	    users_bind(u, st, 2, hash, errstr_out) == -1 ||
	    users_bind_scram(u, st, 3, &k, errstr_out) == -1) {
		users_done(st);
		goto out;
	}
	ret = users_write(u, st, NULL, NULL, "no such user", errstr_out);
out:
	explicit_bzero(hash, sizeof(hash));
	explicit_bzero(&k, sizeof(k));
	return ret;
}

int
users_user_exists(struct users *u, const char *addr, bool *exists_out,
    const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_USER_EXISTS);
	char		 canon[MAILBOX_ADDR_MAX + 1];

	*exists_out = false;
	if (mailbox_addr_normalize(addr, canon, sizeof(canon), NULL) == -1)
		return 0;
	if (users_bind(u, st, 1, canon, errstr_out) == -1)
		return -1;
	return users_probe(u, st, exists_out, errstr_out);
}

int
users_user_list(struct users *u, int (*cb)(const struct users_user_info *,
    void *), void *arg, const char **errstr_out)
{
	sqlite3_stmt		*st = users_stmt(u, USERS_STMT_USER_LIST);
	struct users_user_info	 info;
	bool			 stopped = false;
	int			 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		info.address = users_col(st, 0);
		info.created = sqlite3_column_int64(st, 1);
		info.quota = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 2);
		info.mailbox_format = users_col(st, 3);
		info.scram = sqlite3_column_int(st, 4) != 0;
		if (cb(&info, arg) != 0) {
			stopped = true;
			break;
		}
	}
	return users_list_end(u, st, rc, stopped, errstr_out);
}


int
users_user_get(struct users *u, const char *addr, struct users_user_rec *out,
    bool *found_out, const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_USER_GET);
	char		 canon[MAILBOX_ADDR_MAX + 1];
	int		 rc;

	*found_out = false;
	memset(out, 0, sizeof(*out));
	if (mailbox_addr_normalize(addr, canon, sizeof(canon), NULL) == -1)
		return 0;
	if (users_bind(u, st, 1, canon, errstr_out) == -1)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		users_done(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		users_set_err(errstr_out, users_err(u, "read"));
		users_done(st);
		return -1;
	}
	/* A hand-edited row that does not fit is the store's failure. */
	if (str_copy(out->address, sizeof(out->address),
	    users_col(st, 0)) == -1 ||
	    mailbox_format_parse(users_col(st, 2), &out->format) == -1) {
		users_set_err(errstr_out, "malformed user row");
		users_done(st);
		return -1;
	}
	out->quota = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 1);
	if (out->quota < -1)
		out->quota = 0;
	out->scram = sqlite3_column_int(st, 3) != 0;
	users_done(st);
	*found_out = true;
	return 0;
}

int
users_first_user(struct users *u, char *out, bool *found_out,
    const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_USER_FIRST);
	int		 rc;

	*found_out = false;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW &&
	    str_copy(out, MAILBOX_ADDR_MAX + 1, users_col(st, 0)) == 0)
		*found_out = true;
	else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		users_set_err(errstr_out, users_err(u, "read"));
		users_done(st);
		return -1;
	}
	users_done(st);
	return 0;
}

int
users_user_set_quota(struct users *u, const char *addr, int64_t quota,
    const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_USER_QUOTA);
	char		 canon[MAILBOX_ADDR_MAX + 1];
	int		 rc;

	if (mailbox_addr_normalize(addr, canon, sizeof(canon),
	    errstr_out) == -1 ||
	    users_bind(u, st, 1, canon, errstr_out) == -1)
		return -1;
	if (quota < 0)
		rc = sqlite3_bind_null(st, 2);
	else
		rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)quota);
	if (rc != SQLITE_OK) {
		users_set_err(errstr_out, users_err(u, "bind"));
		users_done(st);
		return -1;
	}
	return users_write(u, st, NULL, NULL, "no such user", errstr_out);
}

int
users_user_set_format(struct users *u, const char *addr,
    enum mailbox_format format, const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_USER_FORMAT);
	char		 canon[MAILBOX_ADDR_MAX + 1];

	if (mailbox_addr_normalize(addr, canon, sizeof(canon),
	    errstr_out) == -1 ||
	    users_bind(u, st, 1, canon, errstr_out) == -1 ||
	    users_bind(u, st, 2, mailbox_format_name(format), errstr_out) == -1)
		return -1;
	return users_write(u, st, NULL, NULL, "no such user", errstr_out);
}

int
users_hash_password(const char *pass, char *out, size_t outsz,
    const char **errstr_out)
{
	struct crypt_data	*cd;
	char			 setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char		*h;
	size_t			 len;
	int			 ret = -1;

	if (users_check_new_password(pass, errstr_out) == -1)
		return -1;
	/* 32 KB of work area: too much for a worker thread's stack. */
	cd = xcalloc(1, sizeof(*cd));
	if (crypt_gensalt_rn(USERS_HASH_PREFIX, 0, NULL, 0, setting,
	    sizeof(setting)) == NULL) {
		users_set_err(errstr_out, "crypt_gensalt: cannot make a salt");
		goto out;
	}
	if ((h = crypt_rn(pass, setting, cd, (int)sizeof(*cd))) == NULL) {
		users_set_err(errstr_out, "crypt: hashing failed");
		goto out;
	}
	len = strlen(h);
	if (len >= outsz) {
		users_set_err(errstr_out, "crypt: hash too long");
		goto out;
	}
	memcpy(out, h, len + 1);
	ret = 0;
out:
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}

enum users_auth
users_check_password(struct users *u, const char *addr, const char *pass)
{
	sqlite3_stmt		*st = users_stmt(u, USERS_STMT_USER_HASH);
	char			 canon[MAILBOX_ADDR_MAX + 1];
	char			 stored[USERS_HASH_SIZE];
	const unsigned char	*col;
	const char		*h, *setting;
	size_t			 plen, slen = 0, hlen;
	enum users_auth		 ret = USERS_AUTH_FAIL;
	bool			 known = false;
	int			 rc;

	/* Refused before any lookup, so this says nothing about the user. */
	plen = strnlen(pass, USERS_PASSWORD_MAX + 1);
	if (plen == 0 || plen > USERS_PASSWORD_MAX)
		return USERS_AUTH_FAIL;

	if (mailbox_addr_normalize(addr, canon, sizeof(canon), NULL) == 0) {
		if (sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC) !=
		    SQLITE_OK) {
			users_done(st);
			return USERS_AUTH_TEMPFAIL;
		}
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			col = sqlite3_column_text(st, 0);
			slen = (size_t)sqlite3_column_bytes(st, 0);
			if (col != NULL && slen > 0 && slen < sizeof(stored)) {
				memcpy(stored, col, slen);
				stored[slen] = '\0';
				known = true;
			}
		} else if (rc != SQLITE_DONE) {
			users_done(st);
			return USERS_AUTH_TEMPFAIL;
		}
		users_done(st);
	}

	setting = known ? stored : u->dummy_setting;
	memset(&u->cd, 0, sizeof(u->cd));
	h = crypt_rn(pass, setting, &u->cd, (int)sizeof(u->cd));
	if (h == NULL && known) {
		/*
		 * A locked account ("!...") or a method this libxcrypt lacks:
		 * refuse, after the same work as for anyone else.
		 */
		memset(&u->cd, 0, sizeof(u->cd));
		(void)crypt_rn(pass, u->dummy_setting, &u->cd,
		    (int)sizeof(u->cd));
		goto out;
	}
	if (h == NULL) {
		ret = USERS_AUTH_TEMPFAIL;
		goto out;
	}
	if (!known)
		goto out;
	/* The length is public (it follows from the method); the bytes not. */
	hlen = strlen(h);
	if (hlen == slen && CRYPTO_memcmp(h, stored, slen) == 0)
		ret = USERS_AUTH_OK;
out:
	explicit_bzero(&u->cd, sizeof(u->cd));
	explicit_bzero(stored, sizeof(stored));
	return ret;
}

int
users_alias_add(struct users *u, const char *source, const char *target,
    const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_ALIAS_ADD);
	char		 src[MAILBOX_ADDR_MAX + 1], dst[MAILBOX_ADDR_MAX + 1];

	if (users_source_normalize(source, src, errstr_out) == -1 ||
	    mailbox_addr_normalize(target, dst, sizeof(dst), errstr_out) == -1)
		return -1;
	if (users_bind(u, st, 1, src, errstr_out) == -1 ||
	    users_bind(u, st, 2, dst, errstr_out) == -1 ||
	    users_bind(u, st, 3, users_addr_domain(src), errstr_out) == -1) {
		users_done(st);
		return -1;
	}
	return users_write(u, st, "alias exists", "domain not found", NULL,
	    errstr_out);
}

int
users_alias_add_list(struct users *u, const char *source,
    char *const *targets, size_t n, size_t *bad_out,
    const char **errstr_out)
{
	size_t	i;

	if (users_exec(u->db, "BEGIN IMMEDIATE", errstr_out) == -1) {
		*bad_out = n;
		return -1;
	}
	/* A target named twice meets the primary key: "alias exists". */
	for (i = 0; i < n; i++)
		if (users_alias_add(u, source, targets[i], errstr_out) == -1)
			goto rollback;
	if (users_exec(u->db, "COMMIT", errstr_out) == -1)
		goto rollback;
	return 0;
rollback:
	*bad_out = i;
	sqlite3_exec(u->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
users_alias_del(struct users *u, const char *source, const char *target,
    const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_ALIAS_DEL);
	char		 src[MAILBOX_ADDR_MAX + 1], dst[MAILBOX_ADDR_MAX + 1];

	if (users_source_normalize(source, src, errstr_out) == -1 ||
	    mailbox_addr_normalize(target, dst, sizeof(dst), errstr_out) == -1)
		return -1;
	if (users_bind(u, st, 1, src, errstr_out) == -1 ||
	    users_bind(u, st, 2, dst, errstr_out) == -1) {
		users_done(st);
		return -1;
	}
	return users_write(u, st, NULL, NULL, "no such alias", errstr_out);
}

int
users_alias_list(struct users *u, const char *source,
    int (*cb)(const char *, const char *, void *), void *arg,
    const char **errstr_out)
{
	sqlite3_stmt	*st;
	char		 src[MAILBOX_ADDR_MAX + 1];
	bool		 stopped = false;
	int		 rc;

	if (source == NULL)
		st = users_stmt(u, USERS_STMT_ALIAS_LIST_ALL);
	else {
		st = users_stmt(u, USERS_STMT_ALIAS_LIST);
		if (users_source_normalize(source, src, errstr_out) == -1 ||
		    users_bind(u, st, 1, src, errstr_out) == -1)
			return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(users_col(st, 0), users_col(st, 1), arg) != 0) {
			stopped = true;
			break;
		}
	}
	return users_list_end(u, st, rc, stopped, errstr_out);
}

int
users_sender_allowed(struct users *u, const char *user, const char *from,
    bool *allowed_out, const char **errstr_out)
{
	sqlite3_stmt	*st = users_stmt(u, USERS_STMT_ALIAS_MATCH);
	char		 cu[MAILBOX_ADDR_MAX + 1], cf[MAILBOX_ADDR_MAX + 1];

	*allowed_out = false;
	if (mailbox_addr_normalize(user, cu, sizeof(cu), NULL) == -1 ||
	    mailbox_addr_normalize(from, cf, sizeof(cf), NULL) == -1)
		return 0;
	/* Both are canonical ASCII, so this is the NOCASE comparison. */
	if (strcasecmp(cu, cf) == 0) {
		*allowed_out = true;
		return 0;
	}
	if (users_bind(u, st, 1, cf, errstr_out) == -1 ||
	    users_bind(u, st, 2, cu, errstr_out) == -1) {
		users_done(st);
		return -1;
	}
	return users_probe(u, st, allowed_out, errstr_out);
}

/* --- APOP (RFC 1939 §7) --- */

/* 32 hex digits of MD5, RFC 1939 §7 */
#define USERS_APOP_DIGEST_LEN	32
#define USERS_APOP_STAMP_MAX	255

/* APOP is rare next to mail: its statements are prepared per call. */
static sqlite3_stmt *
users_prepare_once(struct users *u, const char *sql, const char **errstr_out)
{
	sqlite3_stmt	*st = NULL;

	if (sqlite3_prepare_v2(u->db, sql, -1, &st, NULL) != SQLITE_OK) {
		users_set_err(errstr_out, users_err(u, "prepare"));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int
users_user_set_apop(struct users *u, const char *addr, const char *secret,
    const char **errstr_out)
{
	sqlite3_stmt	*st;
	char		 canon[MAILBOX_ADDR_MAX + 1];
	size_t		 len = 0;
	int		 rc, ret = -1;

	if (mailbox_addr_normalize(addr, canon, sizeof(canon), errstr_out) == -1)
		return -1;
	if (secret != NULL) {
		len = strnlen(secret, USERS_PASSWORD_MAX + 1);
		if (len == 0 || len > USERS_PASSWORD_MAX) {
			users_set_err(errstr_out, len == 0 ? "empty secret" :
			    "secret too long");
			return -1;
		}
	}
	if ((st = users_prepare_once(u, "UPDATE users SET apop_secret = ?2 "
	    "WHERE address = ?1", errstr_out)) == NULL)
		return -1;
	if (users_bind(u, st, 1, canon, errstr_out) == -1)
		goto out;
	rc = secret != NULL ? sqlite3_bind_text(st, 2, secret, (int)len,
	    SQLITE_STATIC) : sqlite3_bind_null(st, 2);
	if (rc != SQLITE_OK) {
		users_set_err(errstr_out, users_err(u, "bind"));
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		users_set_err(errstr_out, users_err(u, "write"));
		goto out;
	}
	if (sqlite3_changes(u->db) == 0) {
		users_set_err(errstr_out, "no such user");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static bool
users_apop_digest_valid(const char *d)
{
	size_t	i;

	for (i = 0; i < USERS_APOP_DIGEST_LEN; i++)
		if (!((d[i] >= '0' && d[i] <= '9') ||
		    (d[i] >= 'a' && d[i] <= 'f')))
			return false;
	return d[USERS_APOP_DIGEST_LEN] == '\0';
}

enum users_auth
users_check_apop(struct users *u, const char *addr, const char *timestamp,
    const char *digest)
{
	static const char	 hex[] = "0123456789abcdef";
	sqlite3_stmt		*st;
	EVP_MD_CTX		*ctx = NULL;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	char			 secret[USERS_PASSWORD_MAX + 1];
	char			 mine[USERS_APOP_DIGEST_LEN + 1];
	char			 canon[MAILBOX_ADDR_MAX + 1];
	const unsigned char	*col;
	enum users_auth		 ret = USERS_AUTH_FAIL;
	size_t			 tlen, slen = 0, i;
	unsigned		 mdlen = 0;
	bool			 known = false;
	int			 rc;

	tlen = strnlen(timestamp, USERS_APOP_STAMP_MAX + 1);
	if (tlen == 0 || tlen > USERS_APOP_STAMP_MAX ||
	    strnlen(digest, USERS_APOP_DIGEST_LEN + 1) !=
	    USERS_APOP_DIGEST_LEN || !users_apop_digest_valid(digest))
		return USERS_AUTH_FAIL;
	if (mailbox_addr_normalize(addr, canon, sizeof(canon), NULL) == 0) {
		if ((st = users_prepare_once(u, "SELECT apop_secret FROM "
		    "users WHERE address = ?1", NULL)) == NULL)
			return USERS_AUTH_TEMPFAIL;
		if (sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC) !=
		    SQLITE_OK) {
			sqlite3_finalize(st);
			return USERS_AUTH_TEMPFAIL;
		}
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW &&
		    (col = sqlite3_column_text(st, 0)) != NULL) {
			slen = (size_t)sqlite3_column_bytes(st, 0);
			if (slen > 0 && slen <= USERS_PASSWORD_MAX) {
				memcpy(secret, col, slen);
				known = true;
			} else
				slen = 0;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return USERS_AUTH_TEMPFAIL;
	}
	/* Unknown users cost the same digest (of the timestamp alone). */
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, timestamp, tlen) != 1 ||
	    EVP_DigestUpdate(ctx, secret, slen) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 16) {
		ret = USERS_AUTH_TEMPFAIL;
		goto out;
	}
	for (i = 0; i < 16; i++) {
		mine[2 * i] = hex[md[i] >> 4];
		mine[2 * i + 1] = hex[md[i] & 0xf];
	}
	mine[USERS_APOP_DIGEST_LEN] = '\0';
	if (CRYPTO_memcmp(mine, digest, USERS_APOP_DIGEST_LEN) == 0 && known)
		ret = USERS_AUTH_OK;
out:
	EVP_MD_CTX_free(ctx);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(md, sizeof(md));
	explicit_bzero(mine, sizeof(mine));
	return ret;
}
