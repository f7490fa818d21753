/*
 * Unit tests for dovecot_uidlist: the version 3 and version 1 texts
 * Dovecot writes (extension fields, ":2," in names, gaps in the UIDs),
 * what a damaged text loses (a record dropped and counted, never a
 * guess; a bad header refused), and the adoption by maildir_list(): a
 * folder with a dovecot-uidlist and no cachet-uidlist keeps Dovecot's
 * UIDVALIDITY, UIDs and next UID, files Dovecot did not list get UIDs
 * after, and only at the first contact (a folder that had a
 * cachet-uidlist is never adopted again).  File tests run in a fresh
 * mkdtemp directory.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "buf.h"
#include "dovecot_uidlist.h"
#include "maildir.h"
#include "util.h"

struct fx {
	char	dir[64];
	char	mb[128];
};

static int
fx_setup(void **state)
{
	struct fx	*f = xcalloc(1, sizeof(*f));

	(void)str_copy(f->dir, sizeof(f->dir),
	    "/var/tmp/test_dovecot_uidlist.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	(void)snprintf(f->mb, sizeof(f->mb), "%s/example.org/bob", f->dir);
	if (maildir_create(f->mb, NULL) == -1) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	testutil_rmtree(f->dir);
	free(f);
	return 0;
}

static void
put(const char *dir, const char *sub, const char *name, const char *text,
    time_t mtime)
{
	char		p[PATH_MAX];
	struct timespec	ts[2];
	int		fd;

	if (sub != NULL)
		(void)snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
	else
		(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, text, strlen(text)), 0);
	assert_int_equal(close(fd), 0);
	if (mtime != 0) {
		ts[0].tv_sec = ts[1].tv_sec = mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	}
}

static void
parse_ok(const char *text, struct maildir_uidlist *ul, size_t *nbad)
{
	const char	*err = NULL;

	if (dovecot_uidlist_parse(text, strlen(text), ul, nbad, &err) != 0)
		fail_msg("parse: %s", err);
}

/* --- the text ----------------------------------------------------------- */

static void
test_parse_v3(void **state)
{
	static const char text[] =
	    "3 V1733000000 N9 G0123456789abcdef0123456789abcdef\n"
	    "1 :1733000001.M1P2.host,S=10,W=12:2,S\n"
	    "4 W12 S10 G00ff :1733000004.M4P2.host,S=10,W=12\n"
	    "7 S5 :1733000007.M7P2.host:2,FSa\n";
	struct maildir_uidlist	ul;
	size_t			nbad = 99;

	(void)state;
	parse_ok(text, &ul, &nbad);
	assert_int_equal(nbad, 0);
	assert_int_equal(ul.uidvalidity, 1733000000u);
	assert_int_equal(ul.uidnext, 9);
	assert_int_equal(ul.nrecs, 3);
	assert_int_equal(ul.recs[0].uid, 1);
	assert_string_equal(ul.recs[0].base, "1733000001.M1P2.host,S=10,W=12");
	/* No S and W fields: unknown. */
	assert_int_equal(ul.recs[0].size, UINT64_MAX);
	assert_int_equal(ul.recs[1].uid, 4);
	assert_int_equal(ul.recs[1].size, 10);
	assert_int_equal(ul.recs[1].size_crlf, 12);
	assert_int_equal(ul.recs[2].uid, 7);
	assert_string_equal(ul.recs[2].base, "1733000007.M7P2.host");
	assert_int_equal(ul.recs[2].size, UINT64_MAX);	/* S without W */
	maildir_uidlist_free(&ul);
}

static void
test_parse_v1(void **state)
{
	static const char text[] = "1 1200000000 6\n2 a.host\n5 b.host:2,S\n";
	struct maildir_uidlist	ul;

	(void)state;
	parse_ok(text, &ul, NULL);
	assert_int_equal(ul.uidvalidity, 1200000000u);
	assert_int_equal(ul.uidnext, 6);
	assert_int_equal(ul.nrecs, 2);
	assert_string_equal(ul.recs[1].base, "b.host");
	assert_int_equal(ul.recs[1].uid, 5);
	maildir_uidlist_free(&ul);
}

static void
test_parse_drops_bad_records(void **state)
{
	static const char text[] =
	    "3 V7 N4\n"
	    "1 :good.1\n"
	    "0 :zero.uid\n"
	    "x :no.uid\n"
	    "3 s5 :lowercase.key\n"
	    "3 S99999999999999999999999 :huge.size\n"
	    "3 :.hidden\n"
	    "3 :a/b\n"
	    "3 no.colon\n"
	    "2 :\n"
	    "1 :not.above.previous\n"
	    "4294967295 :uid.too.high\n"
	    "5 :good.5\n"
	    "9 :good.1\n";		/* again: the higher UID wins */
	struct maildir_uidlist	ul;
	size_t			nbad = 0;

	(void)state;
	parse_ok(text, &ul, &nbad);
	assert_int_equal(nbad, 11);
	assert_int_equal(ul.nrecs, 2);
	assert_int_equal(ul.recs[0].uid, 5);
	assert_string_equal(ul.recs[0].base, "good.5");
	assert_int_equal(ul.recs[1].uid, 9);
	assert_string_equal(ul.recs[1].base, "good.1");
	/* uidnext grows past the highest UID kept. */
	assert_int_equal(ul.uidnext, 10);
	maildir_uidlist_free(&ul);
}

static void
test_parse_refuses_bad_headers(void **state)
{
	static const char *const bad[] = {
		"",
		"3\n",
		"3 N5\n1 :a\n",			/* no UIDVALIDITY */
		"3 V5\n",			/* no next UID */
		"3 V0 N5\n",
		"3 V4294967296 N5\n",		/* over 32 bits */
		"3 Vx N5\n",
		"2 V1 N5\n",			/* version 2: not read */
		"1 5\n",
		"1 5 6 7\n",
		"cachet-uidlist 1 5 6\n",
	};
	struct maildir_uidlist	ul;
	const char		*err;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		assert_int_equal(dovecot_uidlist_parse(bad[i], strlen(bad[i]),
		    &ul, NULL, &err), -1);
		assert_non_null(err);
		assert_null(ul.recs);
		assert_null(ul.text);
	}
}

/* --- adoption ----------------------------------------------------------- */

static void
test_list_adopts_dovecot_uids(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	size_t			 i;
	char			 p[PATH_MAX];

	put(f->mb, "cur", "100.a.host,S=2,W=3:2,S", "x\n", 1000);
	put(f->mb, "cur", "200.b.host:2,Fa", "yy\n", 2000);
	put(f->mb, "new", "300.c.host", "z\n", 3000);
	/* Delivered after Dovecot last looked, older than the others. */
	put(f->mb, "new", "50.late.host", "w\n", 500);
	put(f->mb, NULL, "dovecot-uidlist",
	    "3 V1733000000 N12 Gabc\n"
	    "3 S2 W3 :100.a.host,S=2,W=3:2,S\n"
	    "8 :200.b.host\n"
	    "9 :300.c.host\n"
	    "10 :expunged.host\n", 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	assert_int_equal(l.uidvalidity, 1733000000u);
	assert_int_equal(l.nentries, 4);
	assert_int_equal(l.entries[0].uid, 3);
	assert_int_equal(l.entries[1].uid, 8);
	assert_int_equal(l.entries[2].uid, 9);
	/* The file Dovecot never listed: the next UID Dovecot would give. */
	assert_int_equal(l.entries[3].uid, 12);
	assert_string_equal(l.entries[3].name, "50.late.host");
	assert_int_equal(l.uidnext, 13);
	for (i = 0; i < l.nentries; i++)
		assert_true(l.entries[i].size_crlf > l.entries[i].size);
	maildir_list_free(&l);
	/* The cachet-uidlist was written: the same answer again. */
	(void)snprintf(p, sizeof(p), "%s/cachet-uidlist", f->mb);
	assert_int_equal(access(p, F_OK), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	assert_int_equal(l.uidvalidity, 1733000000u);
	assert_int_equal(l.entries[1].uid, 8);
	assert_int_equal(l.uidnext, 13);
	maildir_list_free(&l);
}

static void
test_list_ignores_a_broken_dovecot_uidlist(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;

	put(f->mb, "cur", "100.a.host:2,S", "x\n", 1000);
	put(f->mb, NULL, "dovecot-uidlist", "3 N12\n5 :100.a.host\n", 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	assert_int_equal(l.nentries, 1);
	assert_int_equal(l.entries[0].uid, 1);
	assert_true(l.uidvalidity > 1000);
	maildir_list_free(&l);
}

static void
test_cachet_uidlist_wins_over_dovecot(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	uint32_t		 uv;

	put(f->mb, "cur", "100.a.host:2,S", "x\n", 1000);
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	uv = l.uidvalidity;
	maildir_list_free(&l);
	/* Dovecot's file appearing later changes nothing. */
	put(f->mb, NULL, "dovecot-uidlist", "3 V77 N12\n5 :100.a.host\n", 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	assert_int_equal(l.uidvalidity, uv);
	assert_int_equal(l.entries[0].uid, 1);
	maildir_list_free(&l);
}

static void
test_adopted_once_only(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 p[PATH_MAX];

	put(f->mb, "cur", "100.a.host:2,S", "x\n", 1000);
	put(f->mb, NULL, "dovecot-uidlist", "3 V77 N12\n5 :100.a.host\n", 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	assert_int_equal(l.uidvalidity, 77);
	assert_int_equal(l.entries[0].uid, 5);
	maildir_list_free(&l);
	/*
	 * The cachet-uidlist lost: cachet may have given UIDs since, so
	 * Dovecot's old ones are not taken again; a new UIDVALIDITY.
	 */
	(void)snprintf(p, sizeof(p), "%s/cachet-uidlist", f->mb);
	assert_int_equal(unlink(p), 0);
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	assert_true(l.uidvalidity > 77);
	assert_int_equal(l.entries[0].uid, 1);
	maildir_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n)	cmocka_unit_test_setup_teardown(n, fx_setup, fx_teardown)
		cmocka_unit_test(test_parse_v3),
		cmocka_unit_test(test_parse_v1),
		cmocka_unit_test(test_parse_drops_bad_records),
		cmocka_unit_test(test_parse_refuses_bad_headers),
		T(test_list_adopts_dovecot_uids),
		T(test_list_ignores_a_broken_dovecot_uidlist),
		T(test_cachet_uidlist_wins_over_dovecot),
		T(test_adopted_once_only),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
