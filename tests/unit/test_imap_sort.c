/*
 * Unit tests for imap_sort: the base subject of RFC 5256 §2.1 (its
 * grammar's cases, encoded words first), the SORT and THREAD argument
 * parse, and the order of small mailboxes written here for every sort
 * key, REVERSE, and ties by sequence number.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "imap/imap_sort.h"
#include "mime.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct subj_case {
	const char	*raw;
	const char	*base;
	bool		 reply;
};

static const struct subj_case subj_cases[] = {
	{ "Hello", "Hello", false },
	{ "Re: Hello", "Hello", true },
	{ "RE: re: Fwd: FW: hello", "hello", true },
	{ "Re[2]: Hello", "Hello", true },
	{ "Re [list]: Hello", "Hello", true },
	{ "[list] Re: Hello", "Hello", true },
	{ "[list] Hello", "Hello", false },
	{ "[a][b] [c] Re: [d] Hello", "Hello", true },
	{ "[only a blob]", "[only a blob]", false },
	{ "Re: [only a blob]", "[only a blob]", true },
	{ "Hello (fwd)", "Hello", true },
	{ "Hello (FWD) (fwd)  ", "Hello", true },
	{ "[Fwd: Hello]", "Hello", true },
	{ "[fwd: Re: Hello (fwd)]", "Hello", true },
	{ "Re Hello", "Re Hello", false },
	{ "Reply: Hello", "Reply: Hello", false },
	{ "Fwd Hello", "Fwd Hello", false },
	{ "  \t Hello\t  world  ", "Hello world", false },
	{ "Hello\n\tworld", "Hello world", false },
	{ "=?utf-8?q?Re=3A_caf=C3=A9?=", "caf\xc3\xa9", true },
	{ "Re: =?iso-8859-1?q?na=EFve?= (fwd)", "na\xc3\xafve", true },
	{ "", "", false },
	{ "Re:", "", true },
	{ "[", "[", false },
	{ "[fwd:", "[fwd:", false },
};

static void
test_base_subject(void **state)
{
	struct buf	b;
	size_t		i;
	bool		reply;

	(void)state;
	buf_init(&b, 4096);
	for (i = 0; i < NELEM(subj_cases); i++) {
		buf_reset(&b);
		reply = !subj_cases[i].reply;
		assert_int_equal(imap_sort_base_subject(
		    span_str(subj_cases[i].raw), &b, &reply), 0);
		if (b.len != strlen(subj_cases[i].base) || (b.len > 0 &&
		    memcmp(b.data, subj_cases[i].base, b.len) != 0))
			fail_msg("\"%s\": got \"%.*s\", want \"%s\"",
			    subj_cases[i].raw, (int)b.len, b.data != NULL ?
			    b.data : "", subj_cases[i].base);
		if (reply != subj_cases[i].reply)
			fail_msg("\"%s\": reply %d", subj_cases[i].raw, reply);
	}
	buf_free(&b);
}

static void
test_parse(void **state)
{
	struct imap_sort_args	 a;
	const char		*err = NULL;
	size_t			 used;
	static const char	 s1[] = "(REVERSE DATE subject DISPLAYFROM) "
	    "UTF-8 UNSEEN SINCE 1-Jan-2024";
	static const char	 s2[] = "REFERENCES \"us-ascii\" ALL";
	static const char	 s3[] = "orderedsubject UTF-8 ALL";

	(void)state;
	assert_int_equal(imap_sort_parse(span_str(s1), false, &a, &used,
	    &err), 0);
	assert_int_equal(a.ncrit, 3);
	assert_int_equal(a.crit[0].key, IMAP_SORT_DATE);
	assert_true(a.crit[0].reverse);
	assert_int_equal(a.crit[1].key, IMAP_SORT_SUBJECT);
	assert_false(a.crit[1].reverse);
	assert_int_equal(a.crit[2].key, IMAP_SORT_DISPLAYFROM);
	assert_true(span_eq(a.charset, "UTF-8"));
	assert_string_equal(s1 + used, "UNSEEN SINCE 1-Jan-2024");

	assert_int_equal(imap_sort_parse(span_str(s2), true, &a, &used,
	    &err), 0);
	assert_int_equal(a.alg, IMAP_THREAD_REFERENCES);
	assert_true(span_eq(a.charset, "us-ascii"));
	assert_string_equal(s2 + used, "ALL");
	assert_int_equal(imap_sort_parse(span_str(s3), true, &a, &used,
	    &err), 0);
	assert_int_equal(a.alg, IMAP_THREAD_ORDEREDSUBJECT);
}

static void
test_parse_errors(void **state)
{
	static const char *const	sorts[] = {
		"", "DATE UTF-8 ALL", "() UTF-8 ALL", "(DATE", "(DATE)",
		"(DATE) UTF-8", "(DATE) UTF-8 ", "(REVERSE) UTF-8 ALL",
		"(REVERSE REVERSE DATE) UTF-8 ALL", "(FOO) UTF-8 ALL",
		"(DATE  SIZE) UTF-8 ALL", "(DATE) \"UTF-8 ALL",
		"(DATE) \"a\\\"b\" ALL", "(DATE) {5}\r\nUTF-8 ALL",
		("(DATE SIZE DATE SIZE DATE SIZE DATE SIZE DATE SIZE DATE SIZE "
		"DATE SIZE DATE SIZE DATE) UTF-8 ALL"),
	};
	static const char *const	threads[] = {
		"", "FOO UTF-8 ALL", "REFERENCES", "REFERENCES UTF-8",
		"(REFERENCES) UTF-8 ALL",
	};
	struct imap_sort_args		 a;
	const char			*err;
	size_t				 used, i;

	(void)state;
	for (i = 0; i < NELEM(sorts); i++) {
		err = NULL;
		if (imap_sort_parse(span_str(sorts[i]), false, &a, &used,
		    &err) != -1)
			fail_msg("SORT %s accepted", sorts[i]);
		assert_non_null(err);
	}
	for (i = 0; i < NELEM(threads); i++) {
		err = NULL;
		if (imap_sort_parse(span_str(threads[i]), true, &a, &used,
		    &err) != -1)
			fail_msg("THREAD %s accepted", threads[i]);
		assert_non_null(err);
	}
}

/* A small mailbox: seq i+1, size and internal date per message. */
struct tmsg {
	const char	*text;
	uint64_t	 size;
	int64_t		 arrival;
};

static const struct tmsg box[] = {
	{ "From: Zed <a@x>\nTo: Mia <m@x>\nCc: b@x\n"
	  "Subject: Re: beta\nDate: Tue, 2 Jan 2024 10:00:00 +0000\n\n",
	  300, 1000 },
	{ "From: \"Bob\" <z@x>\nTo: c@x\n"
	  "Subject: alpha\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n",
	  100, 3000 },
	{ "From: c@x\nTo: =?utf-8?q?=C3=84nne?= <a@x>\nCc: a@x\n"
	  "Subject: [list] Beta\n"
	  "Date: Mon, 1 Jan 2024 12:00:00 +0300\n\n",
	  200, 2000 },
	{ "From: B@x\nSubject: Alpha (fwd)\n\n", 200, 500 },
};

static void
sorted_is(const char *crit, const char *want)
{
	struct imap_sort_args	 a;
	struct imap_sort_keys	 k[NELEM(box)];
	struct mime_msg		 msg;
	struct buf		 got, line;
	const char		*err = NULL;
	char			*copy;
	size_t			 used, i, len;

	buf_init(&line, 1024);
	assert_int_equal(buf_printf(&line, "%s UTF-8 ALL", crit), 0);
	assert_int_equal(imap_sort_parse(span_make(line.data, line.len),
	    false, &a, &used, &err), 0);
	for (i = 0; i < NELEM(box); i++) {
		len = strlen(box[i].text);
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, box[i].text, len);
		memset(&msg, 0, sizeof(msg));
		mime_parse(&msg, copy, len);
		imap_sort_keys_make(&a, &k[i], (uint32_t)i + 1,
		    (uint32_t)i + 101, box[i].size, box[i].arrival,
		    imap_sort_needs_message(&a) ? &msg : NULL);
		mime_msg_free(&msg);
		free(copy);
	}
	imap_sort_run(&a, k, NELEM(box));
	buf_init(&got, 1024);
	for (i = 0; i < NELEM(box); i++) {
		assert_int_equal(k[i].uid, k[i].seq + 100);
		assert_int_equal(buf_printf(&got, "%s%u", i ? " " : "",
		    (unsigned)k[i].seq), 0);
		imap_sort_keys_free(&k[i]);
	}
	if (strcmp(got.data, want) != 0)
		fail_msg("SORT %s: got %s, want %s", crit, got.data, want);
	buf_free(&got);
	buf_free(&line);
}

static void
test_sort(void **state)
{
	(void)state;
	sorted_is("(ARRIVAL)", "4 1 3 2");
	sorted_is("(REVERSE ARRIVAL)", "2 3 1 4");
	sorted_is("(SIZE)", "2 3 4 1");		/* 3, 4 tie: by seq */
	sorted_is("(REVERSE SIZE)", "1 3 4 2");	/* ties stay by seq */
	sorted_is("(SIZE REVERSE ARRIVAL)", "2 3 4 1");
	/* DATE: 3 is 09:00 UTC; 4 has no Date: its arrival (500) */
	sorted_is("(DATE)", "4 3 2 1");
	/* SUBJECT: base subjects alpha, alpha, beta, beta; then seq */
	sorted_is("(SUBJECT)", "2 4 1 3");
	sorted_is("(SUBJECT REVERSE DATE)", "2 4 1 3");
	sorted_is("(SUBJECT REVERSE ARRIVAL)", "2 4 3 1");
	/* FROM: mailbox a, z, c, B (case-insensitive) */
	sorted_is("(FROM)", "1 4 3 2");
	/* DISPLAYFROM: Zed, Bob, c@x, B@x: "b@x" < "bob" < "c@x" < "zed" */
	sorted_is("(DISPLAYFROM)", "4 2 3 1");
	/* TO: m, c, a, none (empty first) */
	sorted_is("(TO)", "4 3 2 1");
	/* DISPLAYTO: Mia, c@x, Änne (decoded, after ASCII), none */
	sorted_is("(DISPLAYTO)", "4 2 1 3");
	/* CC: b, none, a, none */
	sorted_is("(CC)", "2 4 3 1");
	sorted_is("(REVERSE CC SIZE)", "1 3 2 4");
}

static void
test_strcmp(void **state)
{
	(void)state;
	/* i;ascii-casemap: '_' (0x5f) sorts after the letters as capitals */
	assert_true(imap_sort_strcmp("a", "_") < 0);
	assert_true(imap_sort_strcmp("abc", "ABC") == 0);
	assert_true(imap_sort_strcmp("ab", "abc") < 0);
	assert_true(imap_sort_strcmp("z", "\xc3\xa4") < 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_base_subject),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_strcmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
