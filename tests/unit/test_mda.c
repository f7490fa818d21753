/*
 * Unit tests for the pure parts of mda.c: which mailbox paths a request
 * may name, the headers put in front of a message, what an errno means
 * for the sender, and the quota arithmetic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "mda.h"
#include "users.h"

static void
test_mailbox_valid(void **state)
{
	static const struct {
		const char		*path;
		enum mailbox_format	 fmt;
		bool			 ok;
	} cases[] = {
		{ "example.org/alice", MAILBOX_FORMAT_MAILDIR, true },
		{ "example.org/Alice.Smith", MAILBOX_FORMAT_MAILDIR, true },
		{ "example.org/alice%2F.Sent", MAILBOX_FORMAT_MAILDIR, true },
		{ "mail-1.example.org/a+b", MAILBOX_FORMAT_MAILDIR, true },
		{ "example.org/bob/mbox", MAILBOX_FORMAT_MBOX, true },
		/* the format decides the shape */
		{ "example.org/bob/mbox", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org/bob", MAILBOX_FORMAT_MBOX, false },
		{ "example.org/bob/other", MAILBOX_FORMAT_MBOX, false },
		/* nothing outside mail-dir, nothing but a mailbox in it */
		{ "", MAILBOX_FORMAT_MAILDIR, false },
		{ "/etc/passwd", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org/", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org/..", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org/.", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org/.Sent", MAILBOX_FORMAT_MAILDIR, false },
		{ "../example.org/alice", MAILBOX_FORMAT_MAILDIR, false },
		{ "../x", MAILBOX_FORMAT_MAILDIR, false },
		{ "..example.org/a", MAILBOX_FORMAT_MAILDIR, false },
		{ "example..org/a", MAILBOX_FORMAT_MAILDIR, false },
		{ ".example.org/a", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org./a", MAILBOX_FORMAT_MAILDIR, false },
		{ "Example.org/a", MAILBOX_FORMAT_MAILDIR, false },
		{ "exa_mple.org/a", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org/alice/new", MAILBOX_FORMAT_MAILDIR, false },
		{ "example.org//mbox", MAILBOX_FORMAT_MBOX, false },
		{ "example.org/../mbox", MAILBOX_FORMAT_MBOX, false },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (mda_mailbox_valid(cases[i].path, cases[i].fmt) !=
		    cases[i].ok)
			fail_msg("\"%s\" (format %d): want %s", cases[i].path,
			    cases[i].fmt, cases[i].ok ? "valid" : "refused");
}

static void
test_mailbox_valid_length(void **state)
{
	char	path[1200];

	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	memcpy(path, "example.org/", 12);
	assert_false(mda_mailbox_valid(path, MAILBOX_FORMAT_MAILDIR));
}

static void
test_prepend(void **state)
{
	char	out[MDA_PREPEND_MAX];
	size_t	n;

	n = mda_prepend(out, sizeof(out), "s@example.net",
	    "alice+x@example.org");
	assert_string_equal(out, "Return-Path: <s@example.net>\n"
	    "Delivered-To: alice+x@example.org\n");
	assert_int_equal(n, strlen(out));
	/* the null sender */
	(void)mda_prepend(out, sizeof(out), "", "a@b");
	assert_string_equal(out, "Return-Path: <>\nDelivered-To: a@b\n");
}

static void
test_prepend_controls_cannot_end_a_line(void **state)
{
	char	out[MDA_PREPEND_MAX];

	(void)mda_prepend(out, sizeof(out), "a\r\nX-Evil: 1@b",
	    "c\nd\x7f@e");
	assert_string_equal(out, "Return-Path: <a??X-Evil: 1@b>\n"
	    "Delivered-To: c?d?@e\n");
	/* 8-bit (SMTPUTF8) addresses pass unchanged */
	(void)mda_prepend(out, sizeof(out), "j\xc3\xb6rg@x", "a@b");
	assert_string_equal(out, "Return-Path: <j\xc3\xb6rg@x>\n"
	    "Delivered-To: a@b\n");
}

static void
test_prepend_too_small(void **state)
{
	char	out[64];

	assert_int_equal(mda_prepend(out, 40, "s@example.net",
	    "alice@example.org"), 0);
	/* exactly enough: both lines (37 bytes) and the NUL */
	assert_int_equal(mda_prepend(out, 38, "s@x", "a@b"), 37);
	assert_int_equal(mda_prepend(out, 37, "s@x", "a@b"), 0);
}

static void
test_errno_result(void **state)
{
	static const struct {
		int		 err;
		const char	*enh;
	} cases[] = {
		{ ENOSPC, "4.3.1" }, { EDQUOT, "4.2.2" }, { EAGAIN, "4.2.0" },
		{ ETIMEDOUT, "4.2.0" }, { EIO, "4.3.0" }, { EACCES, "4.3.0" },
		{ 0, "4.3.0" },
	};
	const char	*enh, *text;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enh = text = NULL;
		mda_errno_result(cases[i].err, &enh, &text);
		assert_string_equal(enh, cases[i].enh);
		/* always temporary: never lose mail to a full disk */
		assert_int_equal(enh[0], '4');
		assert_non_null(text);
	}
}

static void
test_quota_fits(void **state)
{
	assert_true(mda_quota_fits(-1, UINT64_MAX, UINT64_MAX));
	assert_true(mda_quota_fits(100, 60, 40));
	assert_false(mda_quota_fits(100, 60, 41));
	assert_false(mda_quota_fits(0, 0, 1));
	assert_true(mda_quota_fits(0, 0, 0));
	assert_false(mda_quota_fits(INT64_MAX, UINT64_MAX, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailbox_valid),
		cmocka_unit_test(test_mailbox_valid_length),
		cmocka_unit_test(test_prepend),
		cmocka_unit_test(test_prepend_controls_cannot_end_a_line),
		cmocka_unit_test(test_prepend_too_small),
		cmocka_unit_test(test_errno_result),
		cmocka_unit_test(test_quota_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
