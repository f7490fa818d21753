/*
 * lookup_sql: SQLite helpers of the lookup role's small databases
 * (lookup_sql.h).
 */
#include <stdint.h>

#include "log.h"
#include "lookup_sql.h"

#define LOOKUP_SQL_BUSY_MS	2000

sqlite3 *
lookup_sql_open(struct proc_self *self, const char *file,
    const char *schema, const char *lost)
{
	sqlite3	*db = NULL;
	int	 flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;

	if (sqlite3_open_v2(file, &db, flags, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db, LOOKUP_SQL_BUSY_MS);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* WAL: a commit is durable and a crash never tears the file */
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) !=
	    SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return db;
fail:
	log_warnx("lookup: %s/%s: %s (%s)", self->dir_path, file,
	    db != NULL ? sqlite3_errmsg(db) : "out of memory", lost);
	sqlite3_close(db);
	return NULL;
}

sqlite3_stmt *
lookup_sql_vstmt(sqlite3 *db, const char *tag, const char *sql,
    const char *fmt, va_list ap)
{
	sqlite3_stmt	*st = NULL;
	int		 i, rc = SQLITE_OK;

	if (db == NULL)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; fmt[i] != '\0' && rc == SQLITE_OK; i++) {
		if (fmt[i] == 't')
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap,
			    const char *), -1, SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_int64(st, i + 1, (sqlite3_int64)
			    va_arg(ap, uint64_t));
	}
	if (rc != SQLITE_OK)
		goto fail;
	return st;
fail:
	log_warnx("lookup: %s: %s", tag, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return NULL;
}

int
lookup_sql_run(sqlite3 *db, const char *tag, sqlite3_stmt *st)
{
	int	rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("lookup: %s: %s", tag, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

const char *
lookup_sql_col(sqlite3_stmt *st, int i)
{
	const unsigned char	*t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}
