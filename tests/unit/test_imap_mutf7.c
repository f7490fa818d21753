/*
 * Unit tests for imap_mutf7: names both ways (RFC 3501 §5.1.3's own
 * example among them), and every way a modified UTF-7 or UTF-8 name
 * can be malformed, each refused.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "imap/imap_mutf7.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*utf8;
	const char	*mutf7;
} pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "a&b", "a&-b" },
	{ "&&", "&-&-" },
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
	{ "\xc3\xa9", "&AOk-" },
	{ "\xc3\xa9\xc3\xa9", "&AOkA6Q-" },
	{ "\xc3\xa9&\xc3\xa9", "&AOk-&-&AOk-" },
	/* RFC 3501 §5.1.3 */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	/* U+1F600, a surrogate pair */
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
	{ "x\xf0\x9f\x98\x80y", "x&2D3eAA-y" },
	{ "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
	    "&BB8EQAQ4BDIENQRC-" },
};

static const char *const bad_mutf7[] = {
	"&",		/* no "-" */
	"&AOk",
	"a&AOk-&AOk-",	/* two shifts in a row */
	"&AGE-",	/* "a" must be written directly */
	"&AOl-",	/* leftover bits not zero */
	"&AOkA-",	/* 6 or more leftover bits */
	"&2D0-",	/* a high surrogate alone */
	"&3gA-",	/* a low surrogate alone */
	"&2D3YPQ-",	/* high then high */
	"&AAA-",	/* U+0000 */
	"&AB8-",	/* U+001F */
	"&*-",		/* not base64 */
	"&A-",		/* too short for a unit */
	"a\xc3\xa9",	/* 8-bit */
	"a\tb",		/* a control character */
	"a\x7f",
};

static const char *const bad_utf8[] = {
	"\xc3",			/* cut short */
	"\xc0\xaf",		/* overlong "/" */
	"\xe0\x80\xaf",
	"\xed\xa0\x80",		/* a surrogate */
	"\xf4\x90\x80\x80",	/* above U+10FFFF */
	"\xff",
	"\x80",
	"a\x01",		/* control characters */
	"\x7f",
	"\xc3\xa9\x01",
};

static void
test_pairs(void **state)
{
	struct buf	b;
	size_t		i;

	(void)state;
	buf_init(&b, 1024);
	for (i = 0; i < NELEM(pairs); i++) {
		buf_reset(&b);
		assert_int_equal(imap_mutf7_encode(span_str(pairs[i].utf8),
		    &b), 0);
		if (b.len != strlen(pairs[i].mutf7) ||
		    (b.len > 0 && memcmp(b.data, pairs[i].mutf7, b.len) != 0))
			fail_msg("encode %s: got %.*s", pairs[i].mutf7,
			    (int)b.len, b.data);
		buf_reset(&b);
		assert_int_equal(imap_mutf7_decode(span_str(pairs[i].mutf7),
		    &b), 0);
		if (b.len != strlen(pairs[i].utf8) ||
		    (b.len > 0 && memcmp(b.data, pairs[i].utf8, b.len) != 0))
			fail_msg("decode %s", pairs[i].mutf7);
		assert_true(imap_mutf7_valid(span_str(pairs[i].mutf7)));
	}
	buf_free(&b);
}

static void
test_refused(void **state)
{
	struct buf	b;
	size_t		i;

	(void)state;
	buf_init(&b, 1024);
	for (i = 0; i < NELEM(bad_mutf7); i++) {
		buf_reset(&b);
		if (imap_mutf7_decode(span_str(bad_mutf7[i]), &b) != -1)
			fail_msg("decoded %s", bad_mutf7[i]);
		assert_false(imap_mutf7_valid(span_str(bad_mutf7[i])));
	}
	for (i = 0; i < NELEM(bad_utf8); i++) {
		buf_reset(&b);
		if (imap_mutf7_encode(span_str(bad_utf8[i]), &b) != -1)
			fail_msg("encoded bad UTF-8 #%zu", i);
	}
	/* a full output buffer is an error too */
	buf_free(&b);
	buf_init(&b, 3);
	assert_int_equal(imap_mutf7_encode(span_str("\xc3\xa9"), &b), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
