/*
 * Unit tests for imap_kw: a message's keyword names from its letters
 * (each once, a duplicate letter folded), the FLAGS and PERMANENTFLAGS
 * lists ("\*" only while a letter is free), what STORE leaves of the
 * letters (system letters untouched), the translation of letters for
 * COPY/MOVE, and which user actions the spam filter will hear of.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "imap_kw.h"
#include "maildir_kw.h"

static void
table(struct maildir_kw *kw, const char *text)
{
	assert_int_equal(maildir_kw_parse(text, strlen(text), kw), 0);
}

static void
test_names_fold_duplicates(void **state)
{
	struct maildir_kw	kw;
	struct buf		b;
	struct span		sp[MAILDIR_KW_MAX];

	(void)state;
	/* 'c' is a second letter for $Junk; 'd' has no name. */
	table(&kw, "0 $Junk\n1 $Label1\n2 $JUNK\n");
	buf_init(&b, 1024);
	assert_int_equal(imap_kw_names(&kw, "FSabcd", &b), 0);
	assert_string_equal(b.data, " $Junk $Label1");
	buf_reset(&b);
	assert_int_equal(imap_kw_names(&kw, "c", &b), 0);
	assert_string_equal(b.data, " $Junk");
	assert_int_equal(imap_kw_spans(&kw, "bc", sp), 2);
	assert_int_equal(sp[0].len, 5);
	assert_memory_equal(sp[0].ptr, "$Junk", 5);
	assert_memory_equal(sp[1].ptr, "$Label1", 7);
	buf_free(&b);
	maildir_kw_free(&kw);
}

static void
test_flags_lists(void **state)
{
	struct maildir_kw	kw;
	struct buf		b;
	char			text[1024];
	size_t			i, o = 0;

	(void)state;
	table(&kw, "1 $Label1\n0 $Junk\n3 $junk\n");
	buf_init(&b, 4096);
	assert_int_equal(imap_kw_flags_list(&kw, false, &b), 0);
	assert_string_equal(b.data, "\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft $Junk $Label1");
	buf_reset(&b);
	assert_int_equal(imap_kw_flags_list(&kw, true, &b), 0);
	assert_string_equal(b.data, "\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft $Junk $Label1 \\*");
	maildir_kw_free(&kw);
	/* All 26 taken: no "\*". */
	for (i = 0; i < MAILDIR_KW_MAX; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "%zu k%zu\n",
		    i, i);
	table(&kw, text);
	buf_reset(&b);
	assert_int_equal(imap_kw_flags_list(&kw, true, &b), 0);
	assert_null(strstr(b.data, "\\*"));
	assert_non_null(strstr(b.data, " k25"));
	buf_free(&b);
	maildir_kw_free(&kw);
}

static void
test_store_ops(void **state)
{
	struct maildir_kw	kw;
	char			fl[32];

	(void)state;
	table(&kw, "0 $Junk\n1 $Label1\n2 $junk\n");
	(void)strcpy(fl, "FSa");
	imap_kw_store(&kw, IMAP_STORE_ADD, 1u << 1, fl);
	assert_string_equal(fl, "FSab");
	/* Removing $Junk takes both of its letters. */
	(void)strcpy(fl, "Sabc");
	imap_kw_store(&kw, IMAP_STORE_REMOVE, 1u << 0, fl);
	assert_string_equal(fl, "Sb");
	(void)strcpy(fl, "RSac");
	imap_kw_store(&kw, IMAP_STORE_SET, 1u << 1, fl);
	assert_string_equal(fl, "RSb");
	imap_kw_store(NULL, IMAP_STORE_SET, 0, fl);
	assert_string_equal(fl, "RS");
	maildir_kw_free(&kw);
}

static void
test_translate(void **state)
{
	char	map[MAILDIR_KW_MAX] = { 0 };
	char	out[32];

	(void)state;
	map[0] = 'c';
	map[1] = 'a';
	/* 'd' has no letter there: dropped. */
	imap_kw_translate("FSabd", map, out);
	assert_string_equal(out, "FSac");
	imap_kw_translate("T", map, out);
	assert_string_equal(out, "T");
}

static void
test_junk_verdicts(void **state)
{
	struct maildir_kw	kw;

	(void)state;
	assert_int_equal(imap_kw_junk_move("INBOX", "Junk"),
	    IMAP_KW_JUNK_SPAM);
	assert_int_equal(imap_kw_junk_move("Junk", "INBOX"),
	    IMAP_KW_JUNK_HAM);
	assert_int_equal(imap_kw_junk_move("Junk", "Trash"),
	    IMAP_KW_JUNK_NONE);
	assert_int_equal(imap_kw_junk_move("INBOX", "Archive"),
	    IMAP_KW_JUNK_NONE);
	assert_int_equal(imap_kw_junk_move("Junk", "Junk"),
	    IMAP_KW_JUNK_NONE);
	table(&kw, "0 $Label1\n1 $junk\n2 $NotJunk\n");
	assert_int_equal(imap_kw_junk_store(&kw, "S", "Sb"),
	    IMAP_KW_JUNK_SPAM);
	assert_int_equal(imap_kw_junk_store(&kw, "Sb", "Sb"),
	    IMAP_KW_JUNK_NONE);
	assert_int_equal(imap_kw_junk_store(&kw, "b", "c"),
	    IMAP_KW_JUNK_HAM);
	assert_int_equal(imap_kw_junk_store(&kw, "", "a"),
	    IMAP_KW_JUNK_NONE);
	maildir_kw_free(&kw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_fold_duplicates),
		cmocka_unit_test(test_flags_lists),
		cmocka_unit_test(test_store_ops),
		cmocka_unit_test(test_translate),
		cmocka_unit_test(test_junk_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
