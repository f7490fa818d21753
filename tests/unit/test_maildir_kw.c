/*
 * Unit tests for maildir_kw: the "dovecot-keywords" text (parse, format,
 * the lines a damaged file loses), names matched without case and
 * shown as written, letters given by maildir_kw_define() (stable, all
 * or nothing, ERANGE when the 26 are taken, never a letter a file
 * carries), the file made whole by a listing (letters without a name
 * get "unknown-N", bad lines go, the system flags of the files
 * untouched), maildir_move_flags(), and keyword letters kept by
 * maildir_set_flags() as the pop3 role calls it.  Each file test runs
 * in a fresh mkdtemp directory under /var/tmp.
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
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "buf.h"
#include "maildir.h"
#include "maildir_kw.h"
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
	    "/var/tmp/test_maildir_kw.XXXXXX");
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
put(const char *dir, const char *sub, const char *name, const char *text)
{
	char	p[PATH_MAX];
	int	fd;

	if (sub != NULL)
		(void)snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
	else
		(void)snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, text, strlen(text)), 0);
	assert_int_equal(close(fd), 0);
}

/* The keywords file as text ("" when missing). */
static void
slurp_kw(const char *mb, struct buf *b)
{
	char	p[PATH_MAX], chunk[4096];
	ssize_t	n;
	int	fd;

	buf_init(b, 1 << 20);
	(void)snprintf(p, sizeof(p), "%s/%s", mb, MAILDIR_KW_FILE);
	if ((fd = open(p, O_RDONLY)) == -1)
		return;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(b, chunk, (size_t)n), 0);
	(void)close(fd);
}

/* --- the text ----------------------------------------------------------- */

static void
test_parse_and_format(void **state)
{
	static const char text[] = "0 $Junk\n1 $Label1\n3 NonJunk\n";
	struct maildir_kw	kw;
	struct buf		b;

	(void)state;
	assert_int_equal(maildir_kw_parse(text, sizeof(text) - 1, &kw), 0);
	assert_string_equal(kw.name[0], "$Junk");
	assert_string_equal(kw.name[1], "$Label1");
	assert_null(kw.name[2]);
	assert_string_equal(kw.name[3], "NonJunk");
	assert_int_equal(maildir_kw_free_count(&kw), 23);
	buf_init(&b, 4096);
	assert_int_equal(maildir_kw_format(&kw, &b), 0);
	assert_int_equal(b.len, sizeof(text) - 1);
	assert_memory_equal(b.data, text, b.len);
	buf_free(&b);
	maildir_kw_free(&kw);
}

static void
test_parse_drops_bad_lines(void **state)
{
	/* Each bad line is one count; the good ones stay. */
	static const char text[] =
	    "0 $Junk\n"
	    "26 TooHigh\n"		/* past 'z' */
	    "01 Zero\n"			/* leading zero */
	    "x Word\n"			/* no index */
	    "2\n"			/* no name */
	    "4 two words\n"		/* not an atom */
	    "5 a(b\n"			/* atom-special */
	    "6 \\Seen\n"		/* a system flag */
	    "0 Again\n"			/* the letter named twice */
	    "7 caf\xc3\xa9\n"		/* 8-bit */
	    "\n"			/* empty: skipped, not counted */
	    "9 $Last";			/* no LF at the end: kept */
	struct maildir_kw	kw;

	(void)state;
	assert_int_equal(maildir_kw_parse(text, sizeof(text) - 1, &kw), 9);
	assert_string_equal(kw.name[0], "$Junk");
	assert_string_equal(kw.name[9], "$Last");
	assert_int_equal(maildir_kw_free_count(&kw), 24);
	maildir_kw_free(&kw);
}

static void
test_find_ignores_case_and_folds_duplicates(void **state)
{
	static const char text[] = "0 $Label1\n2 $junk\n4 $JUNK\n";
	struct maildir_kw	kw;

	(void)state;
	assert_int_equal(maildir_kw_parse(text, sizeof(text) - 1, &kw), 0);
	assert_int_equal(maildir_kw_find(&kw, "$LABEL1", 7), 0);
	assert_int_equal(maildir_kw_find(&kw, "$Junk", 5), 2);
	assert_int_equal(maildir_kw_find(&kw, "$Label", 6), -1);
	/* 'e' names the same keyword as 'c': both fold onto 'c'. */
	assert_int_equal(kw.canon[4], 2);
	assert_int_equal(maildir_kw_canon_mask(&kw, maildir_kw_mask("ae")),
	    (1u << 0) | (1u << 2));
	assert_int_equal(maildir_kw_mask("FSaz"), (1u << 0) | (1u << 25));
	maildir_kw_free(&kw);
}

static void
test_name_ok(void **state)
{
	char	longname[MAILDIR_KW_NAME_MAX + 2];

	(void)state;
	assert_true(maildir_kw_name_ok("$Forwarded", 10));
	assert_true(maildir_kw_name_ok("a[b", 3));
	assert_false(maildir_kw_name_ok("", 0));
	assert_false(maildir_kw_name_ok("a]b", 3));
	assert_false(maildir_kw_name_ok("\\Seen", 5));
	assert_false(maildir_kw_name_ok("a\x01", 2));
	memset(longname, 'k', sizeof(longname));
	assert_true(maildir_kw_name_ok(longname, MAILDIR_KW_NAME_MAX));
	assert_false(maildir_kw_name_ok(longname, MAILDIR_KW_NAME_MAX + 1));
}

/* --- the file ----------------------------------------------------------- */

static void
test_define_gives_stable_letters(void **state)
{
	struct fx		*f = *state;
	struct maildir_kw	 kw;
	struct span		 n1[2] = { { "$Junk", 5 },
				       { "$Label1", 7 } };
	struct span		 n2[2] = { { "$label1", 7 }, { "Work", 4 } };
	char			 l[2];
	struct buf		 b;

	assert_int_equal(maildir_kw_define(f->mb, n1, 2, l, NULL, NULL), 0);
	assert_int_equal(l[0], 'a');
	assert_int_equal(l[1], 'b');
	/* A known name (any case) keeps its letter, a new one the next. */
	assert_int_equal(maildir_kw_define(f->mb, n2, 2, l, &kw, NULL), 0);
	assert_int_equal(l[0], 'b');
	assert_int_equal(l[1], 'c');
	/* As first written. */
	assert_string_equal(kw.name[1], "$Label1");
	maildir_kw_free(&kw);
	slurp_kw(f->mb, &b);
	assert_string_equal(b.data, "0 $Junk\n1 $Label1\n2 Work\n");
	buf_free(&b);
}

static void
test_define_full_is_erange_and_defines_nothing(void **state)
{
	struct fx		*f = *state;
	struct span		 one;
	struct span		 two[2] = { { "Old", 3 }, { "Brand", 5 } };
	char			 name[8], l[2];
	struct buf		 before, after;
	const char		*err = NULL;
	size_t			 i;

	for (i = 0; i < MAILDIR_KW_MAX - 1; i++) {
		(void)snprintf(name, sizeof(name), "k%zu", i);
		one = span_str(name);
		assert_int_equal(maildir_kw_define(f->mb, &one, 1, l, NULL,
		    NULL), 0);
		assert_int_equal(l[0], 'a' + (int)i);
	}
	/* One letter left, two new names asked for: neither is defined. */
	slurp_kw(f->mb, &before);
	two[0] = span_str("New1");
	two[1] = span_str("New2");
	assert_int_equal(maildir_kw_define(f->mb, two, 2, l, NULL, &err), -1);
	assert_int_equal(errno, ERANGE);
	assert_non_null(err);
	slurp_kw(f->mb, &after);
	assert_string_equal(before.data, after.data);
	/* One fits. */
	one = span_str("Last");
	assert_int_equal(maildir_kw_define(f->mb, &one, 1, l, NULL, NULL), 0);
	assert_int_equal(l[0], 'z');
	one = span_str("More");
	assert_int_equal(maildir_kw_define(f->mb, &one, 1, l, NULL, NULL), -1);
	assert_int_equal(errno, ERANGE);
	/* A bad name is EINVAL before anything. */
	one = span_str("a b");
	assert_int_equal(maildir_kw_define(f->mb, &one, 1, l, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);
	buf_free(&before);
	buf_free(&after);
}

static void
test_list_names_letters_and_repairs_file(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	struct buf		 b;
	size_t			 i;

	/*
	 * A damaged file: line 1 is garbage, 'c' is named but 'b' and 'e'
	 * that the messages carry are not.
	 */
	put(f->mb, NULL, MAILDIR_KW_FILE, "0 $Junk\n#!garbage\n2 Work\n");
	put(f->mb, "cur", "1.a.host:2,RSab", "x\n");
	put(f->mb, "cur", "2.b.host:2,Fce", "y\n");
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	assert_int_equal(l.nentries, 2);
	assert_string_equal(l.kw.name[0], "$Junk");
	assert_string_equal(l.kw.name[1], "unknown-1");
	assert_string_equal(l.kw.name[2], "Work");
	assert_string_equal(l.kw.name[4], "unknown-4");
	/* The files and their system flags are untouched. */
	for (i = 0; i < l.nentries; i++)
		assert_true(strcmp(l.entries[i].flags, "RSab") == 0 ||
		    strcmp(l.entries[i].flags, "Fce") == 0);
	maildir_list_free(&l);
	slurp_kw(f->mb, &b);
	assert_string_equal(b.data,
	    "0 $Junk\n1 unknown-1\n2 Work\n4 unknown-4\n");
	buf_free(&b);
	/* A new keyword never takes a letter the files carry. */
	{
		struct span	n = { "Fresh", 5 };
		char		letter;

		assert_int_equal(maildir_kw_define(f->mb, &n, 1, &letter,
		    NULL, NULL), 0);
		assert_int_equal(letter, 'd');
	}
}

static void
test_define_skips_letters_files_carry(void **state)
{
	struct fx	*f = *state;
	struct span	 n = { "$New", 4 };
	char		 letter;
	struct buf	 b;

	/* Never listed, no keywords file: the files' letters still count. */
	put(f->mb, "cur", "1.a.host:2,Sa", "x\n");
	put(f->mb, "cur", "2.b.host:2,c", "x\n");
	assert_int_equal(maildir_kw_define(f->mb, &n, 1, &letter, NULL,
	    NULL), 0);
	assert_int_equal(letter, 'b');
	slurp_kw(f->mb, &b);
	assert_string_equal(b.data, "0 unknown-0\n1 $New\n2 unknown-2\n");
	buf_free(&b);
}

static void
test_set_flags_keeps_keyword_letters(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	struct maildir_entry	 e;
	char			 flags[40];

	put(f->mb, "new", "1.a.host", "x\n");
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	e = l.entries[0];
	maildir_list_free(&l);
	assert_int_equal(maildir_set_flags(f->mb, &e, "Fbd", NULL), 0);
	/* What pop3_mark_seen() does: the flags it has, plus S. */
	(void)snprintf(flags, sizeof(flags), "%sS", e.flags);
	assert_int_equal(maildir_set_flags(f->mb, &e, flags, NULL), 0);
	assert_string_equal(e.name, "1.a.host:2,FSbd");
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	assert_string_equal(l.entries[0].flags, "FSbd");
	maildir_list_free(&l);
}

static void
test_move_flags_renames_into_cur(void **state)
{
	struct fx		*f = *state;
	struct maildir_list	 l;
	char			 to[PATH_MAX], name[MAILDIR_NAME_MAX + 1];
	char			 p[PATH_MAX];

	put(f->mb, "new", "1.a.host", "x\n");
	memset(&l, 0, sizeof(l));
	assert_int_equal(maildir_list(f->mb, &l, NULL), 0);
	(void)snprintf(to, sizeof(to), "%s/.Junk", f->mb);
	assert_int_equal(maildir_move_flags(f->mb, &l.entries[0], to, "Sca",
	    name, sizeof(name), NULL), 0);
	maildir_list_free(&l);
	assert_string_equal(name, "1.a.host:2,Sac");
	(void)snprintf(p, sizeof(p), "%s/cur/%s", to, name);
	assert_int_equal(access(p, F_OK), 0);
	(void)snprintf(p, sizeof(p), "%s/new/1.a.host", f->mb);
	assert_int_equal(access(p, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(n)	cmocka_unit_test_setup_teardown(n, fx_setup, fx_teardown)
		cmocka_unit_test(test_parse_and_format),
		cmocka_unit_test(test_parse_drops_bad_lines),
		cmocka_unit_test(test_find_ignores_case_and_folds_duplicates),
		cmocka_unit_test(test_name_ok),
		T(test_define_gives_stable_letters),
		T(test_define_full_is_erange_and_defines_nothing),
		T(test_list_names_letters_and_repairs_file),
		T(test_define_skips_letters_files_carry),
		T(test_set_flags_keeps_keyword_letters),
		T(test_move_flags_renames_into_cur),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
