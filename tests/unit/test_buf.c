/*
 * Unit tests for buf.c's line splitter, span_line_next(): whole lines,
 * a line still coming, an overlong line handed over in pieces and its
 * end, the limit counted with the LF, and a session's worth of input
 * fed one byte at a time giving the same lines as fed at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"

static void
test_whole_line_and_more(void **state)
{
	bool	disc = false;
	size_t	n = 99;

	(void)state;
	assert_int_equal(span_line_next(&disc, "NOOP\r\nQUIT\r\n", 12, 10,
	    &n), SPAN_LINE_WHOLE);
	assert_int_equal(n, 6);
	assert_false(disc);
	/* No LF yet, and shorter than the limit: wait for more. */
	assert_int_equal(span_line_next(&disc, "NOO", 3, 10, &n),
	    SPAN_LINE_MORE);
	assert_int_equal(n, 0);
	assert_false(disc);
	/* A bare LF is a line to the splitter; the caller judges it. */
	assert_int_equal(span_line_next(&disc, "\n", 1, 10, &n),
	    SPAN_LINE_WHOLE);
	assert_int_equal(n, 1);
}

static void
test_limit_counts_the_lf(void **state)
{
	bool	disc = false;
	size_t	n;

	(void)state;
	/* 9 bytes and the LF: exactly the limit of 10. */
	assert_int_equal(span_line_next(&disc, "123456789\nX", 11, 10, &n),
	    SPAN_LINE_WHOLE);
	assert_int_equal(n, 10);
	/* 10 bytes before the LF: one too many. */
	assert_int_equal(span_line_next(&disc, "1234567890\n", 11, 10, &n),
	    SPAN_LINE_LONG);
	assert_int_equal(n, 10);
	assert_true(disc);
	assert_int_equal(span_line_next(&disc, "\nNEXT\n", 6, 10, &n),
	    SPAN_LINE_LONG_END);
	assert_int_equal(n, 1);
	assert_false(disc);
	assert_int_equal(span_line_next(&disc, "NEXT\n", 5, 10, &n),
	    SPAN_LINE_WHOLE);
	assert_int_equal(n, 5);
}

static void
test_overlong_in_pieces(void **state)
{
	char	big[100];
	bool	disc = false;
	size_t	n;

	(void)state;
	memset(big, 'x', sizeof(big));
	/* No LF in 100 bytes with a limit of 8: a first piece of 8. */
	assert_int_equal(span_line_next(&disc, big, sizeof(big), 8, &n),
	    SPAN_LINE_LONG);
	assert_int_equal(n, 8);
	assert_true(disc);
	/* Then everything up to the LF, however long; limit unused. */
	assert_int_equal(span_line_next(&disc, big, sizeof(big), 8, &n),
	    SPAN_LINE_LONG);
	assert_int_equal(n, sizeof(big));
	assert_true(disc);
	big[40] = '\n';
	assert_int_equal(span_line_next(&disc, big, sizeof(big), 1, &n),
	    SPAN_LINE_LONG_END);
	assert_int_equal(n, 41);
	assert_false(disc);
}

/* Feed input in chunks of step bytes; write what came out into out. */
static void
split_all(const char *in, size_t len, size_t step, size_t limit, char *out,
    size_t outsz)
{
	char	pending[256];
	size_t	plen = 0, o = 0, n, off, take;
	bool	disc = false;

	out[0] = '\0';
	for (off = 0; off < len; off += take) {
		take = len - off < step ? len - off : step;
		assert_true(plen + take <= sizeof(pending));
		memcpy(pending + plen, in + off, take);
		plen += take;
		while (plen > 0) {
			switch (span_line_next(&disc, pending, plen, limit,
			    &n)) {
			case SPAN_LINE_MORE:
				break;
			case SPAN_LINE_WHOLE:
				o += (size_t)snprintf(out + o, outsz - o,
				    "[%.*s]", (int)n - 1, pending);
				break;
			case SPAN_LINE_LONG:
				break;
			case SPAN_LINE_LONG_END:
				o += (size_t)snprintf(out + o, outsz - o,
				    "[too long]");
				break;
			}
			if (n == 0)
				break;
			memmove(pending, pending + n, plen - n);
			plen -= n;
		}
	}
}

static void
test_byte_at_a_time_same_as_at_once(void **state)
{
	static const char	in[] = "EHLO a\nLONGLONGLONGLONG\nok\n"
	    "1234567\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\nend\n";
	char			a[512], b[512];
	size_t			step;

	(void)state;
	split_all(in, sizeof(in) - 1, sizeof(in), 8, a, sizeof(a));
	assert_string_equal(a, "[EHLO a][too long][ok][1234567][too long][]"
	    "[end]");
	for (step = 1; step < 12; step++) {
		split_all(in, sizeof(in) - 1, step, 8, b, sizeof(b));
		assert_string_equal(a, b);
	}
}

/* buf_append_utf8: each length of UTF-8, at its edges */
static void
test_append_utf8(void **state)
{
	static const struct {
		uint32_t	 cp;
		const char	*utf8;
	} t[] = {
		{ 0x41, "A" }, { 0x7f, "\x7f" }, { 0x80, "\xc2\x80" },
		{ 0x7ff, "\xdf\xbf" }, { 0x800, "\xe0\xa0\x80" },
		{ 0xffff, "\xef\xbf\xbf" }, { 0x10000, "\xf0\x90\x80\x80" },
		{ 0x10ffff, "\xf4\x8f\xbf\xbf" },
	};
	struct buf	b;
	size_t		i;

	(void)state;
	buf_init(&b, 16);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		assert_int_equal(buf_append_utf8(&b, t[i].cp), 0);
		assert_int_equal(b.len, strlen(t[i].utf8));
		assert_memory_equal(b.data, t[i].utf8, b.len);
	}
	buf_free(&b);
	buf_init(&b, 2);
	assert_int_equal(buf_append_utf8(&b, 0x800), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_line_and_more),
		cmocka_unit_test(test_limit_counts_the_lf),
		cmocka_unit_test(test_overlong_in_pieces),
		cmocka_unit_test(test_byte_at_a_time_same_as_at_once),
		cmocka_unit_test(test_append_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
