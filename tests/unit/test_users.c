/*
 * Unit tests for users.c: the SQLite store of domains, users and aliases.
 * Each test gets a fresh database in its own mkdtemp() directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sasl.h"
#include "scram_client.h"
#include "users.h"

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct users	*u;
};

static int
setup(void **state)
{
	struct fixture	*f;
	const char	*err = NULL;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_users.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/users.db", f->dir);
	f->u = users_open(f->path, true, &err);
	if (f->u == NULL)
		fail_msg("users_open: %s", err);
	assert_int_equal(users_domain_add(f->u, "example.org", &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 p[160];
	static const char *const suffixes[] = { "", "-wal", "-shm",
	    "-journal" };
	size_t		 i;

	users_close(f->u);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Run one SQL statement on a side connection; returns the first column. */
static int
side_sql(const char *path, const char *sql, char *out, size_t outsz)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 rc;

	if (out != NULL && outsz > 0)
		out[0] = '\0';
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && out != NULL)
		snprintf(out, outsz, "%s",
		    (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

static void
add_user(struct users *u, const char *addr, const char *pass)
{
	const char	*err = NULL;

	if (users_user_add(u, addr, pass, &err) != 0)
		fail_msg("users_user_add %s: %s", addr, err);
}

/* Collects a listing into one comma-separated string. */
struct collect {
	char	text[1024];
	size_t	n;
	size_t	stop_after;	/* 0: never stop */
};

static void
collect_add(struct collect *c, const char *s)
{
	size_t	len = strlen(c->text);

	snprintf(c->text + len, sizeof(c->text) - len, "%s%s",
	    len > 0 ? "," : "", s);
	c->n++;
}

static int
collect_domain(const char *domain, void *arg)
{
	struct collect	*c = arg;

	collect_add(c, domain);
	return c->stop_after != 0 && c->n >= c->stop_after ? 1 : 0;
}

static int
collect_user(const struct users_user_info *info, void *arg)
{
	struct collect	*c = arg;

	assert_true(info->created > 0);
	assert_int_equal(info->quota, -1);
	assert_string_equal(info->mailbox_format, "maildir");
	collect_add(c, info->address);
	return 0;
}

static int
collect_alias(const char *source, const char *target, void *arg)
{
	struct collect	*c = arg;
	char		 pair[700];

	snprintf(pair, sizeof(pair), "%s>%s", source, target);
	collect_add(c, pair);
	return 0;
}

static void
test_open_creates_schema(void **state)
{
	struct fixture	*f = *state;
	char		 v[64];
	static const char *const tables[] = { "meta", "domains", "users",
	    "aliases" };
	char		 sql[128];
	size_t		 i;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT name FROM sqlite_master "
		    "WHERE type = 'table' AND name = '%s'", tables[i]);
		assert_int_equal(side_sql(f->path, sql, v, sizeof(v)),
		    SQLITE_ROW);
		assert_string_equal(v, tables[i]);
	}
	assert_int_equal(side_sql(f->path, "SELECT value FROM meta WHERE "
	    "key = 'schema_version'", v, sizeof(v)), SQLITE_ROW);
	assert_string_equal(v, "2");
	assert_int_equal(side_sql(f->path, "PRAGMA journal_mode", v,
	    sizeof(v)), SQLITE_ROW);
	assert_string_equal(v, "wal");
}

static void
test_open_file_mode_0600(void **state)
{
	struct fixture	*f = *state;
	struct stat	 sb;

	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
}

static void
test_open_reopen_keeps_data(void **state)
{
	struct fixture	*f = *state;
	struct users	*u2;
	const char	*err = NULL;
	bool		 exists;

	add_user(f->u, "alice@example.org", "secret one");
	users_close(f->u);
	f->u = users_open(f->path, false, &err);
	assert_non_null(f->u);
	assert_int_equal(users_user_exists(f->u, "alice@example.org",
	    &exists, &err), 0);
	assert_true(exists);
	u2 = users_open(f->path, true, &err);
	assert_non_null(u2);
	assert_int_equal(users_check_password(u2, "alice@example.org",
	    "secret one"), USERS_AUTH_OK);
	users_close(u2);
}

static void
test_open_missing_without_create_fails(void **state)
{
	struct fixture	*f = *state;
	char		 p[160];
	const char	*err = NULL;

	snprintf(p, sizeof(p), "%s/absent.db", f->dir);
	assert_null(users_open(p, false, &err));
	assert_non_null(err);
	assert_int_equal(access(p, F_OK), -1);
}

static void
test_open_newer_schema_refused(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;

	users_close(f->u);
	f->u = NULL;
	assert_int_equal(side_sql(f->path, "UPDATE meta SET value = '99' "
	    "WHERE key = 'schema_version'", NULL, 0), SQLITE_DONE);
	assert_null(users_open(f->path, false, &err));
	assert_non_null(strstr(err, "newer"));
	f->u = NULL;
}

static void
test_domain_add_list_del(void **state)
{
	struct fixture	*f = *state;
	struct collect	 c = { .n = 0 };
	const char	*err = NULL;
	bool		 exists;

	assert_int_equal(users_domain_add(f->u, "Mail.Example.NET", &err), 0);
	assert_int_equal(users_domain_add(f->u, "a.example", &err), 0);
	assert_int_equal(users_domain_list(f->u, collect_domain, &c, &err), 0);
	assert_string_equal(c.text, "a.example,example.org,mail.example.net");

	assert_int_equal(users_domain_exists(f->u, "MAIL.example.net",
	    &exists, &err), 0);
	assert_true(exists);
	assert_int_equal(users_domain_del(f->u, "mail.example.NET", &err), 0);
	assert_int_equal(users_domain_exists(f->u, "mail.example.net",
	    &exists, &err), 0);
	assert_false(exists);
}

static void
test_domain_add_duplicate_refused(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;

	assert_int_equal(users_domain_add(f->u, "EXAMPLE.org", &err), -1);
	assert_string_equal(err, "domain exists");
}

static void
test_domain_del_unknown_refused(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;

	assert_int_equal(users_domain_del(f->u, "example.com", &err), -1);
	assert_string_equal(err, "no such domain");
}

static void
test_domain_del_with_users_refused(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;
	bool		 exists;

	add_user(f->u, "alice@example.org", "pw");
	assert_int_equal(users_domain_del(f->u, "example.org", &err), -1);
	assert_string_equal(err, "domain still has users");
	assert_int_equal(users_domain_exists(f->u, "example.org", &exists,
	    &err), 0);
	assert_true(exists);
}

static void
test_domain_del_removes_aliases(void **state)
{
	struct fixture	*f = *state;
	struct collect	 c = { .n = 0 };
	const char	*err = NULL;

	assert_int_equal(users_domain_add(f->u, "example.net", &err), 0);
	assert_int_equal(users_alias_add(f->u, "info@example.net",
	    "bob@elsewhere.example", &err), 0);
	assert_int_equal(users_domain_del(f->u, "example.net", &err), 0);
	assert_int_equal(users_alias_list(f->u, NULL, collect_alias, &c,
	    &err), 0);
	assert_int_equal(c.n, 0);
}

static void
test_domain_list_stop(void **state)
{
	struct fixture	*f = *state;
	struct collect	 c = { .n = 0, .stop_after = 1 };
	const char	*err = NULL;

	assert_int_equal(users_domain_add(f->u, "example.net", &err), 0);
	assert_int_equal(users_domain_list(f->u, collect_domain, &c, &err), -1);
	assert_int_equal(c.n, 1);
	/* The statement was reset: the next call works. */
	c.n = 0;
	c.stop_after = 0;
	c.text[0] = '\0';
	assert_int_equal(users_domain_list(f->u, collect_domain, &c, &err), 0);
	assert_int_equal(c.n, 2);
}

static void
test_domain_invalid_refused(void **state)
{
	struct fixture	*f = *state;
	static const char *const bad[] = {
		"", ".", "example..org", ".example.org", "example.org.",
		"-example.org", "example-.org", "exa_mple.org", "exa mple.org",
		"[192.0.2.1]", "ex\xc3\xa4mple.org",
		/* a 64-octet label */
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example"),
	};
	const char	*err;
	bool		 exists;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (users_domain_add(f->u, bad[i], &err) != -1)
			fail_msg("accepted domain \"%s\"", bad[i]);
		assert_string_equal(err, "invalid domain name");
		assert_int_equal(users_domain_exists(f->u, bad[i], &exists,
		    &err), 0);
		assert_false(exists);
	}
}

static void
test_domain_too_long_refused(void **state)
{
	struct fixture	*f = *state;
	char		 name[300];
	const char	*err = NULL;
	size_t		 i;

	/* 256 octets of "a.a.a...": every label is fine, the whole is not. */
	for (i = 0; i < 256; i++)
		name[i] = i % 2 == 0 ? 'a' : '.';
	name[255] = 'a';
	name[256] = '\0';
	assert_int_equal(users_domain_add(f->u, name, &err), -1);
	name[255] = '\0';
	name[254] = 'a';
	assert_int_equal(users_domain_add(f->u, name, &err), 0);
}

static void
test_user_check_password(void **state)
{
	struct fixture	*f = *state;

	add_user(f->u, "alice@example.org", "correct horse");
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "correct horse"), USERS_AUTH_OK);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "correct hors"), USERS_AUTH_FAIL);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "correct horse "), USERS_AUTH_FAIL);
	assert_int_equal(users_check_password(f->u, "alice@example.org", ""),
	    USERS_AUTH_FAIL);
	assert_int_equal(users_check_password(f->u, "mallory@example.org",
	    "correct horse"), USERS_AUTH_FAIL);
	assert_int_equal(users_check_password(f->u, "not an address",
	    "correct horse"), USERS_AUTH_FAIL);
}

static void
test_user_add_unknown_domain_refused(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;
	bool		 exists;

	assert_int_equal(users_user_add(f->u, "alice@example.com", "pw",
	    &err), -1);
	assert_string_equal(err, "domain not found");
	assert_int_equal(users_user_exists(f->u, "alice@example.com", &exists,
	    &err), 0);
	assert_false(exists);
}

static void
test_user_add_duplicate_refused(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;

	add_user(f->u, "alice@example.org", "pw");
	assert_int_equal(users_user_add(f->u, "ALICE@example.org", "pw2",
	    &err), -1);
	assert_string_equal(err, "user exists");
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "pw"), USERS_AUTH_OK);
}

static void
test_user_bad_password_refused(void **state)
{
	struct fixture	*f = *state;
	char		 longpw[USERS_PASSWORD_MAX + 2];
	const char	*err = NULL;

	assert_int_equal(users_user_add(f->u, "alice@example.org", "", &err),
	    -1);
	assert_string_equal(err, "empty password");
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(users_user_add(f->u, "alice@example.org", longpw,
	    &err), -1);
	assert_string_equal(err, "password too long");
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    longpw), USERS_AUTH_FAIL);
	/* The longest allowed one works end to end. */
	longpw[USERS_PASSWORD_MAX] = '\0';
	add_user(f->u, "alice@example.org", longpw);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    longpw), USERS_AUTH_OK);
}

static void
test_user_passwd(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;

	add_user(f->u, "alice@example.org", "old password");
	assert_int_equal(users_user_passwd(f->u, "Alice@EXAMPLE.org",
	    "new password", &err), 0);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "old password"), USERS_AUTH_FAIL);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "new password"), USERS_AUTH_OK);
	assert_int_equal(users_user_passwd(f->u, "bob@example.org", "x",
	    &err), -1);
	assert_string_equal(err, "no such user");
}

static void
test_user_del(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;
	bool		 exists;

	add_user(f->u, "alice@example.org", "pw");
	assert_int_equal(users_user_del(f->u, "ALICE@example.org", &err), 0);
	assert_int_equal(users_user_exists(f->u, "alice@example.org", &exists,
	    &err), 0);
	assert_false(exists);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "pw"), USERS_AUTH_FAIL);
	assert_int_equal(users_user_del(f->u, "alice@example.org", &err), -1);
	assert_string_equal(err, "no such user");
	/* The domain is empty again and may go. */
	assert_int_equal(users_domain_del(f->u, "example.org", &err), 0);
}

static void
test_user_list(void **state)
{
	struct fixture	*f = *state;
	struct collect	 c = { .n = 0 };
	const char	*err = NULL;

	add_user(f->u, "bob@example.org", "pw");
	add_user(f->u, "alice@EXAMPLE.ORG", "pw");
	assert_int_equal(users_user_list(f->u, collect_user, &c, &err), 0);
	assert_string_equal(c.text, "alice@example.org,bob@example.org");
}

static void
test_hash_is_yescrypt(void **state)
{
	struct fixture	*f = *state;
	char		 h1[USERS_HASH_SIZE], h2[USERS_HASH_SIZE];
	char		 stored[USERS_HASH_SIZE];
	const char	*err = NULL;

	assert_int_equal(users_hash_password("pw", h1, sizeof(h1), &err), 0);
	assert_int_equal(users_hash_password("pw", h2, sizeof(h2), &err), 0);
	assert_true(strncmp(h1, "$y$", 3) == 0);
	/* A fresh salt each time. */
	assert_string_not_equal(h1, h2);

	/*
	 * The password holds a space and a '-', which crypt(3)'s alphabet
	 * (./0-9A-Za-z$) never writes, so finding it in the stored text
	 * would mean it was stored; a short one like "pw" turns up in a
	 * random hash about one time in seventy.
	 */
	add_user(f->u, "alice@example.org", "not stored-anywhere");
	assert_int_equal(side_sql(f->path, "SELECT hash FROM users",
	    stored, sizeof(stored)), SQLITE_ROW);
	assert_true(strncmp(stored, "$y$", 3) == 0);
	assert_null(strstr(stored, "not stored-anywhere"));
	assert_null(strstr(stored, " "));
}

static void
test_hash_small_buffer_refused(void **state)
{
	char		 out[16];
	const char	*err = NULL;

	assert_int_equal(users_hash_password("pw", out, sizeof(out), &err),
	    -1);
	assert_non_null(err);
}

static void
test_locked_account_fails(void **state)
{
	struct fixture	*f = *state;

	add_user(f->u, "alice@example.org", "pw");
	assert_int_equal(side_sql(f->path, "UPDATE users SET hash = '!' || "
	    "hash", NULL, 0), SQLITE_DONE);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "pw"), USERS_AUTH_FAIL);
}

static void
test_other_crypt_methods_accepted(void **state)
{
	struct fixture	*f = *state;

	add_user(f->u, "alice@example.org", "pw");
	/* sha512-crypt of "password" with salt "saltsalt" */
	assert_int_equal(side_sql(f->path, "UPDATE users SET hash = "
	    "'$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
	    "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/'", NULL, 0),
	    SQLITE_DONE);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "password"), USERS_AUTH_OK);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "passwore"), USERS_AUTH_FAIL);
}

static double
elapsed(struct timespec a, struct timespec b)
{
	return (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void
test_unknown_user_costs_a_hash(void **state)
{
	struct fixture	*f = *state;
	struct timespec	 t0, t1, t2;
	double		 known, unknown;
	int		 i;

	add_user(f->u, "alice@example.org", "pw");
	/*
	 * CPU time of this thread, not the wall clock: a hash is CPU work,
	 * and on a loaded machine the wall clock also counts the time other
	 * processes ran (this test failed that way with the load at 16).
	 */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	for (i = 0; i < 3; i++)
		assert_int_equal(users_check_password(f->u,
		    "alice@example.org", "wrong"), USERS_AUTH_FAIL);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	for (i = 0; i < 3; i++)
		assert_int_equal(users_check_password(f->u,
		    "nobody@example.org", "wrong"), USERS_AUTH_FAIL);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t2);
	known = elapsed(t0, t1);
	unknown = elapsed(t1, t2);
	/* Loose on purpose: only "a hash was computed", not a benchmark. */
	if (unknown < known / 3)
		fail_msg("unknown user %.4fs vs known %.4fs", unknown, known);
}

static void
test_case_insensitive_addresses(void **state)
{
	struct fixture	*f = *state;
	static const char *const spellings[] = {
		"alice@example.org", "ALICE@EXAMPLE.ORG", "Alice@Example.Org",
		"aLiCe@eXaMpLe.OrG",
	};
	const char	*err = NULL;
	bool		 exists;
	size_t		 i;

	add_user(f->u, "Alice@example.org", "pw");
	for (i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		assert_int_equal(users_user_exists(f->u, spellings[i], &exists,
		    &err), 0);
		if (!exists)
			fail_msg("%s not found", spellings[i]);
		assert_int_equal(users_check_password(f->u, spellings[i],
		    "pw"), USERS_AUTH_OK);
	}
	/* Passwords are not case-insensitive. */
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "PW"), USERS_AUTH_FAIL);
}

static void
test_addr_normalize(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "alice@example.org", "alice@example.org" },
		{ "Alice@EXAMPLE.Org", "Alice@example.org" },
		{ "a.b+tag@sub.Example.org", "a.b+tag@sub.example.org" },
		{ "!#$%&'*+-/=?^_`{|}~@x", "!#$%&'*+-/=?^_`{|}~@x" },
		{ "u@xn--bcher-kva.example", "u@xn--bcher-kva.example" },
	};
	char		 out[MAILBOX_ADDR_MAX + 1];
	const char	*err = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mailbox_addr_normalize(cases[i].in, out, sizeof(out),
		    &err) != 0)
			fail_msg("refused %s", cases[i].in);
		assert_string_equal(out, cases[i].out);
	}
}

static void
test_invalid_addresses_refused(void **state)
{
	struct fixture	*f = *state;
	static const char *const bad[] = {
		"", "alice", "@example.org", "alice@", "alice@@example.org",
		"al ice@example.org", ".alice@example.org",
		"alice.@example.org", "al..ice@example.org",
		"\"alice\"@example.org", "alice@[192.0.2.1]",
		"alice@example..org", "alice@-example.org",
		"alice@example.org.", "alice@exa_mple.org",
		"al\303\257ce@example.org", "alice@example.org\n",
		"a(b)@example.org", "a,b@example.org", "a<b>@example.org",
		/* 65 octets of local part (RFC 5321 §4.5.3.1.1) */
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org"),
	};
	char		 out[MAILBOX_ADDR_MAX + 1];
	const char	*err;
	bool		 b;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (mailbox_addr_normalize(bad[i], out, sizeof(out), &err) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(err, "invalid address");
		assert_int_equal(users_user_add(f->u, bad[i], "pw", &err), -1);
		assert_string_equal(err, "invalid address");
		/* "@example.org" is a valid source: the catch-all. */
		if (strcmp(bad[i], "@example.org") != 0)
			assert_int_equal(users_alias_add(f->u, bad[i],
			    "alice@example.org", &err), -1);
		assert_int_equal(users_alias_add(f->u, "alice@example.org",
		    bad[i], &err), -1);
		assert_int_equal(users_user_exists(f->u, bad[i], &b, &err), 0);
		assert_false(b);
	}
}

static void
test_addr_64_octet_local_accepted(void **state)
{
	struct fixture	*f = *state;

	add_user(f->u, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org", "pw");
}

static void
test_alias_add_list_del(void **state)
{
	struct fixture	*f = *state;
	struct collect	 c = { .n = 0 };
	const char	*err = NULL;

	assert_int_equal(users_alias_add(f->u, "postmaster@example.org",
	    "alice@example.org", &err), 0);
	assert_int_equal(users_alias_add(f->u, "postmaster@example.org",
	    "bob@elsewhere.example", &err), 0);
	assert_int_equal(users_alias_add(f->u, "info@example.org",
	    "alice@example.org", &err), 0);
	assert_int_equal(users_alias_add(f->u, "POSTMASTER@example.org",
	    "Alice@EXAMPLE.org", &err), -1);
	assert_string_equal(err, "alias exists");

	assert_int_equal(users_alias_list(f->u, "Postmaster@Example.org",
	    collect_alias, &c, &err), 0);
	assert_string_equal(c.text, "postmaster@example.org>alice@example.org,"
	    "postmaster@example.org>bob@elsewhere.example");

	assert_int_equal(users_alias_del(f->u, "postmaster@example.org",
	    "bob@elsewhere.example", &err), 0);
	assert_int_equal(users_alias_del(f->u, "postmaster@example.org",
	    "bob@elsewhere.example", &err), -1);
	assert_string_equal(err, "no such alias");

	memset(&c, 0, sizeof(c));
	assert_int_equal(users_alias_list(f->u, NULL, collect_alias, &c,
	    &err), 0);
	assert_string_equal(c.text, "info@example.org>alice@example.org,"
	    "postmaster@example.org>alice@example.org");
}

static void
test_alias_source_domain_must_be_ours(void **state)
{
	struct fixture	*f = *state;
	const char	*err = NULL;

	assert_int_equal(users_alias_add(f->u, "info@example.com",
	    "alice@example.org", &err), -1);
	assert_string_equal(err, "domain not found");
}

static void
test_sender_allowed(void **state)
{
	struct fixture	*f = *state;
	static const struct {
		const char	*user;
		const char	*from;
		bool		 allowed;
	} cases[] = {
		{ "alice@example.org", "alice@example.org", true },
		{ "alice@example.org", "ALICE@Example.ORG", true },
		{ "Alice@example.org", "alice@example.org", true },
		{ "alice@example.org", "postmaster@example.org", true },
		{ "alice@example.org", "PostMaster@EXAMPLE.org", true },
		{ "ALICE@EXAMPLE.ORG", "postmaster@example.org", true },
		{ "bob@example.org", "postmaster@example.org", false },
		{ "alice@example.org", "bob@example.org", false },
		{ "alice@example.org", "info@example.org", false },
		{ "alice@example.org", "", false },
		{ "alice@example.org", "alice", false },
		{ "alice@example.org", "alice@example.org.evil", false },
		{ "", "alice@example.org", false },
	};
	const char	*err = NULL;
	bool		 allowed;
	size_t		 i;

	add_user(f->u, "alice@example.org", "pw");
	add_user(f->u, "bob@example.org", "pw");
	assert_int_equal(users_alias_add(f->u, "postmaster@example.org",
	    "alice@example.org", &err), 0);
	/* An alias the other way round gives alice nothing. */
	assert_int_equal(users_alias_add(f->u, "info@example.org",
	    "bob@example.org", &err), 0);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(users_sender_allowed(f->u, cases[i].user,
		    cases[i].from, &allowed, &err), 0);
		if (allowed != cases[i].allowed)
			fail_msg("user %s from %s: got %d", cases[i].user,
			    cases[i].from, allowed);
	}
}

static void
test_two_connections_see_changes(void **state)
{
	struct fixture	*f = *state;
	struct users	*u2;
	const char	*err = NULL;
	bool		 b;

	u2 = users_open(f->path, false, &err);
	assert_non_null(u2);

	/* Read first, so a stale snapshot would show. */
	assert_int_equal(users_domain_exists(u2, "example.net", &b, &err), 0);
	assert_false(b);
	assert_int_equal(users_user_exists(u2, "alice@example.org", &b, &err),
	    0);
	assert_false(b);

	assert_int_equal(users_domain_add(f->u, "example.net", &err), 0);
	add_user(f->u, "alice@example.org", "first");
	assert_int_equal(users_domain_exists(u2, "example.net", &b, &err), 0);
	assert_true(b);
	assert_int_equal(users_check_password(u2, "alice@example.org",
	    "first"), USERS_AUTH_OK);

	assert_int_equal(users_user_passwd(u2, "alice@example.org", "second",
	    &err), 0);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "first"), USERS_AUTH_FAIL);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "second"), USERS_AUTH_OK);

	assert_int_equal(users_alias_add(u2, "abuse@example.net",
	    "alice@example.org", &err), 0);
	assert_int_equal(users_sender_allowed(f->u, "alice@example.org",
	    "abuse@example.net", &b, &err), 0);
	assert_true(b);

	assert_int_equal(users_user_del(u2, "alice@example.org", &err), 0);
	assert_int_equal(users_user_exists(f->u, "alice@example.org", &b,
	    &err), 0);
	assert_false(b);
	users_close(u2);
}

struct worker {
	const char	*path;
	int		 id;
	int		 ok;
};

static void *
worker_run(void *arg)
{
	struct worker	*w = arg;
	struct users	*u;
	char		 dom[32];
	int		 i;

	if ((u = users_open(w->path, false, NULL)) == NULL)
		return NULL;
	snprintf(dom, sizeof(dom), "t%d.example", w->id);
	if (users_domain_add(u, dom, NULL) != 0)
		goto out;
	for (i = 0; i < 3; i++)
		if (users_check_password(u, "alice@example.org", "pw") !=
		    USERS_AUTH_OK)
			goto out;
	w->ok = 1;
out:
	users_close(u);
	return NULL;
}

static void
test_threads_own_connections(void **state)
{
	struct fixture	*f = *state;
	struct worker	 w[4];
	pthread_t	 t[4];
	struct collect	 c = { .n = 0 };
	const char	*err = NULL;
	int		 i;

	add_user(f->u, "alice@example.org", "pw");
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .path = f->path, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].ok, 1);
	}
	assert_int_equal(users_domain_list(f->u, collect_domain, &c, &err), 0);
	assert_string_equal(c.text,
	    "example.org,t0.example,t1.example,t2.example,t3.example");
}

static void
test_close_null(void **state)
{
	users_close(NULL);
}

static void
test_catchall_alias_add_list_del(void **state)
{
	struct fixture	*f = *state;
	struct collect	 c = { .n = 0 };
	const char	*err = NULL;

	assert_int_equal(users_alias_add(f->u, "@Example.ORG",
	    "alice@example.org", &err), 0);
	assert_int_equal(users_alias_add(f->u, "info@example.org",
	    "bob@example.org", &err), 0);
	/* Listing "@domain" gives the catch-all only, not every source. */
	assert_int_equal(users_alias_list(f->u, "@example.org",
	    collect_alias, &c, &err), 0);
	assert_string_equal(c.text, "@example.org>alice@example.org");
	assert_int_equal(users_alias_del(f->u, "@example.org",
	    "alice@example.org", &err), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(users_alias_list(f->u, NULL, collect_alias, &c,
	    &err), 0);
	assert_string_equal(c.text, "info@example.org>bob@example.org");
}

static void
test_catchall_alias_bad_forms_refused(void **state)
{
	struct fixture	*f = *state;
	static const char *const bad[] = { "@", "@@example.org",
	    "@exa_mple.org", "@example.org.", "@-example.org" };
	const char	*err = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(users_alias_add(f->u, bad[i],
		    "alice@example.org", &err), -1);
		assert_string_equal(err, "invalid address");
	}
	/* A target is an address, never a catch-all. */
	assert_int_equal(users_alias_add(f->u, "info@example.org",
	    "@example.org", &err), -1);
	assert_int_equal(users_alias_add(f->u, "@example.com",
	    "alice@example.org", &err), -1);
	assert_string_equal(err, "domain not found");
}

static void
test_user_get_and_settings(void **state)
{
	struct fixture		*f = *state;
	struct users_user_rec	 rec;
	const char		*err = NULL;
	bool			 found = true;

	add_user(f->u, "Alice@example.org", "pw");
	assert_int_equal(users_user_get(f->u, "ALICE@Example.Org", &rec,
	    &found, &err), 0);
	assert_true(found);
	assert_string_equal(rec.address, "Alice@example.org");
	assert_int_equal(rec.quota, -1);
	assert_int_equal(rec.format, MAILBOX_FORMAT_MAILDIR);

	assert_int_equal(users_user_set_quota(f->u, "alice@example.org",
	    1048576, &err), 0);
	assert_int_equal(users_user_set_format(f->u, "alice@example.org",
	    MAILBOX_FORMAT_MBOX, &err), 0);
	assert_int_equal(users_user_get(f->u, "alice@example.org", &rec,
	    &found, &err), 0);
	assert_int_equal(rec.quota, 1048576);
	assert_int_equal(rec.format, MAILBOX_FORMAT_MBOX);
	assert_int_equal(users_user_set_quota(f->u, "alice@example.org", -1,
	    &err), 0);
	assert_int_equal(users_user_get(f->u, "alice@example.org", &rec,
	    &found, &err), 0);
	assert_int_equal(rec.quota, -1);

	assert_int_equal(users_user_set_quota(f->u, "nobody@example.org", 1,
	    &err), -1);
	assert_string_equal(err, "no such user");
	assert_int_equal(users_user_set_format(f->u, "nobody@example.org",
	    MAILBOX_FORMAT_MBOX, &err), -1);
	assert_string_equal(err, "no such user");
	assert_int_equal(users_user_get(f->u, "nobody@example.org", &rec,
	    &found, &err), 0);
	assert_false(found);
	assert_int_equal(users_user_get(f->u, "not an address", &rec,
	    &found, &err), 0);
	assert_false(found);
}

static void
test_format_names(void **state)
{
	enum mailbox_format	fmt;

	assert_string_equal(mailbox_format_name(MAILBOX_FORMAT_MAILDIR),
	    "maildir");
	assert_string_equal(mailbox_format_name(MAILBOX_FORMAT_MBOX), "mbox");
	assert_int_equal(mailbox_format_parse("mbox", &fmt), 0);
	assert_int_equal(fmt, MAILBOX_FORMAT_MBOX);
	assert_int_equal(mailbox_format_parse("maildir", &fmt), 0);
	assert_int_equal(fmt, MAILBOX_FORMAT_MAILDIR);
	assert_int_equal(mailbox_format_parse("MBOX", &fmt), -1);
	assert_int_equal(mailbox_format_parse("mh", &fmt), -1);
}

static void
test_mailbox_path(void **state)
{
	static const struct {
		const char		*addr;
		enum mailbox_format	 fmt;
		const char		*want;	/* NULL: refused */
	} cases[] = {
		{ "alice@Example.ORG", MAILBOX_FORMAT_MAILDIR,
		    "example.org/alice" },
		{ "Alice.Smith@example.org", MAILBOX_FORMAT_MAILDIR,
		    "example.org/Alice.Smith" },
		{ "bob@example.org", MAILBOX_FORMAT_MBOX,
		    "example.org/bob/mbox" },
		/* No way into another directory or a Maildir++ folder. */
		{ "alice/.Sent@example.org", MAILBOX_FORMAT_MAILDIR,
		    "example.org/alice%2F.Sent" },
		{ "a%2F@example.org", MAILBOX_FORMAT_MAILDIR,
		    "example.org/a%252F" },
		{ "../x@example.org", MAILBOX_FORMAT_MAILDIR, NULL },
		{ "x@../etc", MAILBOX_FORMAT_MAILDIR, NULL },
		{ "nodomain", MAILBOX_FORMAT_MAILDIR, NULL },
	};
	char	out[MAILBOX_ADDR_MAX * 3 + 16];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].want == NULL) {
			assert_int_equal(mailbox_path(cases[i].addr,
			    cases[i].fmt, out, sizeof(out)), -1);
			continue;
		}
		assert_int_equal(mailbox_path(cases[i].addr,
		    cases[i].fmt, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].want);
	}
	/* Too small a buffer is refused, never cut. */
	assert_int_equal(mailbox_path("alice@example.org",
	    MAILBOX_FORMAT_MBOX, out, 22), -1);
	assert_int_equal(mailbox_path("alice@example.org",
	    MAILBOX_FORMAT_MBOX, out, 23), 0);
}

/* --- SCRAM keys --- */

/*
 * A whole SCRAM-SHA-256 exchange for addr with password: sasl.c's server
 * side, the client computed in scram_client.h, users.c as key holder.
 */
static enum users_auth
scram_login(struct users *u, const char *addr, const char *password)
{
	struct sasl_scram		*sc;
	struct sasl_scram_challenge	 ch;
	struct span			 sf, am;
	unsigned char			 expect[32], sig[32];
	char				 first[400], sftext[400], final[600];
	const char			*err = NULL;
	enum users_auth			 r;

	snprintf(first, sizeof(first), "n,,n=%s,r=clientnonce", addr);
	sc = sasl_scram_new(false, false);
	assert_int_equal(sasl_scram_client_first(sc, first, strlen(first),
	    NULL), SASL_SCRAM_OK);
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(users_scram_salt(u, addr, ch.salt, &ch.saltlen,
	    &ch.iterations, &err), 0);
	strcpy(ch.snonce, "servernonce");
	assert_int_equal(sasl_scram_server_first(sc, &ch, &sf), 0);
	snprintf(sftext, sizeof(sftext), "%.*s", (int)sf.len, sf.ptr);
	scram_client_final("n,,", NULL, 0, first + 3, sftext, password, final,
	    sizeof(final), expect);
	assert_int_equal(sasl_scram_client_final(sc, final, strlen(final),
	    NULL), SASL_SCRAM_OK);
	am = sasl_scram_auth_message(sc);
	r = users_check_scram(u, addr, am.ptr, am.len, sasl_scram_proof(sc),
	    sig);
	if (r != USERS_AUTH_OK)
		memset(expect, 0, sizeof(expect));
	assert_memory_equal(sig, expect, 32);
	sasl_scram_free(sc);
	return r;
}

static void
test_scram_keys_made(void **state)
{
	struct fixture		*f = *state;
	struct users_user_rec	 rec;
	unsigned char		 salt[SASL_SCRAM_SALT_MAX];
	size_t			 saltlen;
	uint32_t		 iter;
	const char		*err = NULL;
	bool			 found;
	char			 v[64];

	add_user(f->u, "alice@example.org", "pencil");
	assert_int_equal(users_user_get(f->u, "alice@example.org", &rec,
	    &found, &err), 0);
	assert_true(found && rec.scram);
	assert_int_equal(users_scram_salt(f->u, "alice@example.org", salt,
	    &saltlen, &iter, &err), 0);
	assert_int_equal(saltlen, USERS_SCRAM_SALT_LEN);
	assert_int_equal(iter, USERS_SCRAM_ITERATIONS);
	/* what is stored is the keys, never the password */
	assert_int_equal(side_sql(f->path, "SELECT length(scram_stored) || "
	    "',' || length(scram_server) || ',' || scram_iter FROM users",
	    v, sizeof(v)), SQLITE_ROW);
	assert_string_equal(v, "32,32,65536");
	assert_int_equal(scram_login(f->u, "alice@example.org", "pencil"),
	    USERS_AUTH_OK);
	/* names compare without case, as for PLAIN */
	assert_int_equal(scram_login(f->u, "Alice@Example.ORG", "pencil"),
	    USERS_AUTH_OK);
	assert_int_equal(scram_login(f->u, "alice@example.org", "pencil "),
	    USERS_AUTH_FAIL);
	assert_int_equal(scram_login(f->u, "nobody@example.org", "pencil"),
	    USERS_AUTH_FAIL);
}

static void
test_scram_passwd_changes_keys(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 s1[SASL_SCRAM_SALT_MAX], s2[SASL_SCRAM_SALT_MAX];
	size_t		 l1, l2;
	uint32_t	 i1, i2;
	const char	*err = NULL;

	add_user(f->u, "alice@example.org", "old one");
	assert_int_equal(users_scram_salt(f->u, "alice@example.org", s1, &l1,
	    &i1, &err), 0);
	assert_int_equal(users_user_passwd(f->u, "alice@example.org",
	    "new one", &err), 0);
	assert_int_equal(users_scram_salt(f->u, "alice@example.org", s2, &l2,
	    &i2, &err), 0);
	assert_int_equal(l1, l2);
	assert_memory_not_equal(s1, s2, l1);	/* a fresh salt */
	assert_int_equal(scram_login(f->u, "alice@example.org", "old one"),
	    USERS_AUTH_FAIL);
	assert_int_equal(scram_login(f->u, "alice@example.org", "new one"),
	    USERS_AUTH_OK);
}

/*
 * Unknown users get a salt and count that look like a user's: the same
 * at every call, after reopening, for every spelling of the name; other
 * names get other salts.
 */
static void
test_scram_fake_salt_stable(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[SASL_SCRAM_SALT_MAX], b[SASL_SCRAM_SALT_MAX];
	unsigned char	 c[SASL_SCRAM_SALT_MAX];
	size_t		 la, lb, lc;
	uint32_t	 ia, ib, ic;
	const char	*err = NULL;

	assert_int_equal(users_scram_salt(f->u, "ghost@example.org", a, &la,
	    &ia, &err), 0);
	assert_int_equal(la, USERS_SCRAM_SALT_LEN);
	assert_int_equal(ia, USERS_SCRAM_ITERATIONS);
	users_close(f->u);
	f->u = users_open(f->path, false, &err);
	assert_non_null(f->u);
	assert_int_equal(users_scram_salt(f->u, "GHOST@example.org", b, &lb,
	    &ib, &err), 0);
	assert_int_equal(lb, la);
	assert_memory_equal(a, b, la);
	assert_int_equal(users_scram_salt(f->u, "ghost2@example.org", c, &lc,
	    &ic, &err), 0);
	assert_memory_not_equal(a, c, la);
	/* a name that is no address at all answers the same way */
	assert_int_equal(users_scram_salt(f->u, "not an address", c, &lc,
	    &ic, &err), 0);
	assert_int_equal(lc, USERS_SCRAM_SALT_LEN);
	assert_int_equal(scram_login(f->u, "ghost@example.org", "x"),
	    USERS_AUTH_FAIL);
}

/* Passwords SASLprep could change get no keys; PLAIN still works. */
static void
test_scram_non_ascii_password(void **state)
{
	struct fixture		*f = *state;
	struct users_user_rec	 rec;
	const char		*err = NULL;
	bool			 found;

	assert_true(users_scram_password_ok("pencil"));
	assert_true(users_scram_password_ok(" ~ "));
	assert_false(users_scram_password_ok("p\xc3\xa4ss"));
	assert_false(users_scram_password_ok("tab\there"));
	add_user(f->u, "alice@example.org", "p\xc3\xa4ss");
	assert_int_equal(users_user_get(f->u, "alice@example.org", &rec,
	    &found, &err), 0);
	assert_true(found);
	assert_false(rec.scram);
	assert_int_equal(users_check_password(f->u, "alice@example.org",
	    "p\xc3\xa4ss"), USERS_AUTH_OK);
	/* an ASCII password makes keys, a later non-ASCII one drops them */
	assert_int_equal(users_user_passwd(f->u, "alice@example.org",
	    "ascii", &err), 0);
	assert_int_equal(scram_login(f->u, "alice@example.org", "ascii"),
	    USERS_AUTH_OK);
	assert_int_equal(users_user_passwd(f->u, "alice@example.org",
	    "\xc3\xa4scii", &err), 0);
	assert_int_equal(users_user_get(f->u, "alice@example.org", &rec,
	    &found, &err), 0);
	assert_false(rec.scram);
	assert_int_equal(scram_login(f->u, "alice@example.org", "ascii"),
	    USERS_AUTH_FAIL);
}

/* Keys out of their bounds in a hand-edited row are not trusted. */
static void
test_scram_bad_row_refused(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 salt[SASL_SCRAM_SALT_MAX];
	size_t		 saltlen;
	uint32_t	 iter;
	const char	*err = NULL;

	add_user(f->u, "alice@example.org", "pencil");
	assert_int_equal(side_sql(f->path, "UPDATE users SET scram_iter = 1",
	    NULL, 0), SQLITE_DONE);
	assert_int_equal(users_scram_salt(f->u, "alice@example.org", salt,
	    &saltlen, &iter, &err), 0);
	assert_int_equal(iter, USERS_SCRAM_ITERATIONS);	/* made up */
	assert_int_equal(scram_login(f->u, "alice@example.org", "pencil"),
	    USERS_AUTH_FAIL);
}

/*
 * A database of schema 1 (before SCRAM): opening it adds the columns;
 * its users keep logging in with their password and have no keys until
 * the password is set again.
 */
static void
test_scram_migration_from_1(void **state)
{
	struct fixture		*f = *state;
	struct users_user_rec	 rec;
	const char		*err = NULL;
	char			 hash[USERS_HASH_SIZE], sql[700], v[64];
	bool			 found;

	assert_int_equal(users_hash_password("old secret", hash, sizeof(hash),
	    &err), 0);
	users_close(f->u);
	f->u = NULL;
	assert_int_equal(unlink(f->path), 0);
	static const char *const v1[] = {
		"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
		"CREATE TABLE domains (name TEXT PRIMARY KEY COLLATE NOCASE)",
		"CREATE TABLE users (address TEXT PRIMARY KEY COLLATE NOCASE,"
		" domain TEXT NOT NULL COLLATE NOCASE REFERENCES domains(name),"
		" hash TEXT NOT NULL, created INTEGER NOT NULL,"
		" apop_secret TEXT NULL, quota INTEGER NULL,"
		" mailbox_format TEXT NOT NULL DEFAULT 'maildir')",
		"CREATE TABLE aliases (source TEXT NOT NULL COLLATE NOCASE,"
		" target TEXT NOT NULL COLLATE NOCASE, domain TEXT NOT NULL"
		" COLLATE NOCASE REFERENCES domains(name) ON DELETE CASCADE,"
		" PRIMARY KEY (source, target))",
		"INSERT INTO meta VALUES ('schema_version', '1')",
		"INSERT INTO domains VALUES ('example.org')",
	};
	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++)
		assert_int_equal(side_sql(f->path, v1[i], NULL, 0),
		    SQLITE_DONE);
	snprintf(sql, sizeof(sql), "INSERT INTO users (address, domain, hash,"
	    " created) VALUES ('old@example.org', 'example.org', '%s', 1)",
	    hash);
	assert_int_equal(side_sql(f->path, sql, NULL, 0), SQLITE_DONE);

	f->u = users_open(f->path, false, &err);
	if (f->u == NULL)
		fail_msg("users_open: %s", err);
	assert_int_equal(side_sql(f->path, "SELECT value FROM meta WHERE "
	    "key = 'schema_version'", v, sizeof(v)), SQLITE_ROW);
	assert_string_equal(v, "2");
	assert_int_equal(users_user_get(f->u, "old@example.org", &rec,
	    &found, &err), 0);
	assert_true(found);
	assert_false(rec.scram);
	assert_int_equal(users_check_password(f->u, "old@example.org",
	    "old secret"), USERS_AUTH_OK);
	assert_int_equal(scram_login(f->u, "old@example.org", "old secret"),
	    USERS_AUTH_FAIL);
	/* a second open finds version 2 and changes nothing */
	users_close(f->u);
	f->u = users_open(f->path, false, &err);
	assert_non_null(f->u);
	assert_int_equal(users_user_passwd(f->u, "old@example.org",
	    "old secret", &err), 0);
	assert_int_equal(scram_login(f->u, "old@example.org", "old secret"),
	    USERS_AUTH_OK);
	add_user(f->u, "new@example.org", "pencil");
	assert_int_equal(scram_login(f->u, "new@example.org", "pencil"),
	    USERS_AUTH_OK);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_creates_schema),
		T(test_open_file_mode_0600),
		T(test_open_reopen_keeps_data),
		T(test_open_missing_without_create_fails),
		T(test_open_newer_schema_refused),
		T(test_domain_add_list_del),
		T(test_domain_add_duplicate_refused),
		T(test_domain_del_unknown_refused),
		T(test_domain_del_with_users_refused),
		T(test_domain_del_removes_aliases),
		T(test_domain_list_stop),
		T(test_domain_invalid_refused),
		T(test_domain_too_long_refused),
		T(test_user_check_password),
		T(test_user_add_unknown_domain_refused),
		T(test_user_add_duplicate_refused),
		T(test_user_bad_password_refused),
		T(test_user_passwd),
		T(test_user_del),
		T(test_user_list),
		T(test_hash_is_yescrypt),
		T(test_hash_small_buffer_refused),
		T(test_locked_account_fails),
		T(test_other_crypt_methods_accepted),
		T(test_unknown_user_costs_a_hash),
		T(test_case_insensitive_addresses),
		T(test_addr_normalize),
		T(test_invalid_addresses_refused),
		T(test_addr_64_octet_local_accepted),
		T(test_alias_add_list_del),
		T(test_alias_source_domain_must_be_ours),
		T(test_catchall_alias_add_list_del),
		T(test_catchall_alias_bad_forms_refused),
		T(test_user_get_and_settings),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_mailbox_path),
		T(test_sender_allowed),
		T(test_two_connections_see_changes),
		T(test_threads_own_connections),
		cmocka_unit_test(test_close_null),
		T(test_scram_keys_made),
		T(test_scram_passwd_changes_keys),
		T(test_scram_fake_salt_stable),
		T(test_scram_non_ascii_password),
		T(test_scram_bad_row_refused),
		T(test_scram_migration_from_1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
