/*
 * lookup_sql: the SQLite helpers the lookup role's small databases share
 * (tlsrpt.db, dmarc.db): open in WAL mode with the schema, prepare with
 * bound arguments (never assembled), run to the end.  Errors are logged
 * with the caller's tag.
 */
#ifndef CACHET_LOOKUP_SQL_H
#define CACHET_LOOKUP_SQL_H

#include <stdarg.h>

#include <sqlite3.h>

#include "proc.h"

/*
 * Open (create) file in the current directory (lookup's, after
 * proc_drop), WAL, defensive, and run schema; NULL (logged, with what is
 * lost) on failure.
 */
sqlite3		*lookup_sql_open(struct proc_self *, const char *file,
		    const char *schema, const char *lost);

/*
 * Prepare sql and bind the arguments fmt names ('t' a string, 'i' a
 * uint64_t), in order; NULL (logged) on failure or when db is NULL.
 */
sqlite3_stmt	*lookup_sql_vstmt(sqlite3 *db, const char *tag,
		    const char *sql, const char *fmt, va_list ap);

/* Run st to its end and finalize it: 0, or -1 (logged; st NULL too). */
int		 lookup_sql_run(sqlite3 *db, const char *tag,
		    sqlite3_stmt *st);

/* Column i as text, "" for NULL. */
const char	*lookup_sql_col(sqlite3_stmt *st, int i);

#endif
