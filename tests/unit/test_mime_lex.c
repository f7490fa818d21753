/*
 * Unit tests for mime_lex.c, the RFC 5322 / RFC 2045 lexical primitives:
 * CFWS with nested comments and folding, quoted strings with
 * quoted-pairs and folding, tokens stopping at tspecials, atoms and
 * dot-atoms, and each one stopping at the end of its span.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "mime_hdr.h"

static struct span
sp(const char *s)
{
	return span_make(s, strlen(s));
}

static void
test_cfws_nested_comments_and_folding(void **state)
{
	struct span	s = sp(" \t(a (nested \\) still) b)\r\n (x)\n\tword");

	(void)state;
	mime_lex_cfws(&s);
	assert_int_equal(s.len, 4);
	assert_memory_equal(s.ptr, "word", 4);
	/* An unterminated comment runs to the end of the value. */
	s = sp("(open (deeper) never closed");
	mime_lex_cfws(&s);
	assert_int_equal(s.len, 0);
	/* Nothing to skip: nothing moves. */
	s = sp("x (y)");
	mime_lex_cfws(&s);
	assert_int_equal(s.len, 5);
}

static void
test_quoted_pairs_and_folding(void **state)
{
	struct buf	out;
	struct span	s = sp("\"a \\\"b\\\\\r\n c\" rest");

	(void)state;
	buf_init(&out, 1024);
	assert_true(mime_lex_quoted(&s, &out));
	assert_string_equal(out.data, "a \"b\\ c");
	assert_int_equal(s.len, 5);
	assert_memory_equal(s.ptr, " rest", 5);
	/* Not a quoted string: false, nothing consumed or appended. */
	buf_reset(&out);
	s = sp("abc");
	assert_false(mime_lex_quoted(&s, &out));
	assert_int_equal(s.len, 3);
	assert_int_equal(out.len, 0);
	/* Unterminated: to the end; a trailing backslash is kept. */
	s = sp("\"abc\\");
	assert_true(mime_lex_quoted(&s, &out));
	assert_string_equal(out.data, "abc\\");
	assert_int_equal(s.len, 0);
	buf_free(&out);
}

static void
test_token_stops_at_tspecials(void **state)
{
	struct span	s = sp("multipart/mixed"), tok;

	(void)state;
	assert_true(mime_lex_token(&s, &tok));
	assert_int_equal(tok.len, 9);
	assert_memory_equal(tok.ptr, "multipart", 9);
	assert_int_equal(s.ptr[0], '/');
	assert_false(mime_lex_token(&s, &tok));
	assert_int_equal(tok.len, 0);
	s = sp("x-b\xc3\xa9.1=2");
	assert_true(mime_lex_token(&s, &tok));
	assert_int_equal(tok.len, 7);
	assert_int_equal(s.len, 2);
	/* The span's end, not a NUL, ends the token. */
	s = span_make("abcdef", 3);
	assert_true(mime_lex_token(&s, &tok));
	assert_int_equal(tok.len, 3);
	assert_int_equal(s.len, 0);
}

static void
test_atom_and_dot_atom(void **state)
{
	struct span	s = sp("john.doe@example"), a;

	(void)state;
	assert_true(mime_lex_atom(&s, false, &a));
	assert_int_equal(a.len, 4);
	s = sp("john..doe.@example");
	assert_true(mime_lex_atom(&s, true, &a));
	assert_int_equal(a.len, 10);
	assert_int_equal(s.ptr[0], '@');
	s = sp("<x>");
	assert_false(mime_lex_atom(&s, true, &a));
	assert_int_equal(s.len, 3);
	s = sp("a/b=c?d e");
	assert_true(mime_lex_atom(&s, false, &a));
	assert_int_equal(a.len, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfws_nested_comments_and_folding),
		cmocka_unit_test(test_quoted_pairs_and_folding),
		cmocka_unit_test(test_token_stops_at_tspecials),
		cmocka_unit_test(test_atom_and_dot_atom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
