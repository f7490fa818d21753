/*
 * Unit tests for spamtok.c: the tokens of a message's text, header
 * fields, links and structure; uniqueness and the bounds on hostile
 * input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spam.h"
#include "spamtok.h"
#include "util.h"

static void
tokenize(const char *msg, struct spam_tokens *t)
{
	struct spam_msg	sm;

	spam_tokens_init(t);
	spam_msg_parse(&sm, msg, strlen(msg));
	spam_tokenize(&sm, t);
	spam_msg_free(&sm);
}

static bool
has(const struct spam_tokens *t, const char *want)
{
	const char	*s;
	size_t		 off = 0;

	while ((s = spam_tokens_next(t, &off)) != NULL)
		if (strcmp(s, want) == 0)
			return true;
	return false;
}

static size_t
count_prefix(const struct spam_tokens *t, const char *prefix)
{
	const char	*s;
	size_t		 off = 0, n = 0;

	while ((s = spam_tokens_next(t, &off)) != NULL)
		if (strncmp(s, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static void
test_body_words(void **state)
{
	struct spam_tokens	t;

	(void)state;
	tokenize("Subject: hi\r\n\r\nCheap MEDS, cheap meds! Buy now "
	    "at ok.\r\n", &t);
	assert_true(has(&t, "cheap"));
	assert_true(has(&t, "meds"));
	/* punctuation at the end is kept when it says something */
	assert_true(has(&t, "meds!"));
	assert_true(has(&t, "buy"));
	assert_true(has(&t, "now"));
	/* under three characters: nothing */
	assert_false(has(&t, "at"));
	assert_false(has(&t, "ok"));
	assert_false(has(&t, "ok."));
	/* a set: "cheap" twice is one token */
	assert_int_equal(count_prefix(&t, "cheap"), 1);
	spam_tokens_free(&t);
}

static void
test_long_words_and_numbers(void **state)
{
	struct spam_tokens	t;

	(void)state;
	tokenize("\r\nsupercalifragilisticexpialidocious costs $1,234.56 "
	    "call 555-1234 now\r\n", &t);
	/* 34 characters: the first one and the length in tens */
	assert_true(has(&t, "skip:s 30"));
	assert_false(has(&t, "supercalifragilisticexpialidocious"));
	/* numbers by shape */
	assert_true(has(&t, "$9,999.99"));
	assert_true(has(&t, "999-9999"));
	assert_false(has(&t, "555-1234"));
	spam_tokens_free(&t);
}

static void
test_utf8_lower_and_invisible(void **state)
{
	struct spam_tokens	t;

	(void)state;
	tokenize("Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "\xc3\x89" "COLE \xd0\x9f\xd0\xa0\xd0\x98\xd0\x92\xd0\x95\xd0\xa2 "
	    "V\xe2\x80\x8b" "i\xe2\x80\x8b" "a\xe2\x80\x8b" "gra\r\n", &t);
	assert_true(has(&t, "\xc3\xa9" "cole"));
	assert_true(has(&t, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1"
	    "\x82"));
	/* zero-width spaces inside a word do not split it */
	assert_true(has(&t, "viagra"));
	assert_true(has(&t, "charset:utf-8"));
	spam_tokens_free(&t);
}

static void
test_header_fields(void **state)
{
	struct spam_tokens	t;

	(void)state;
	tokenize("Received: from relay.mail.example.net (relay.mail.example"
	    ".net [192.0.2.17])\r\n\tby mx.example.org with ESMTP id 1\r\n"
	    "From: \"Lucky Winner\" <Prize@Lottery.Example.COM>\r\n"
	    "To: a@example.org, b@example.org\r\n"
	    "Subject: =?utf-8?q?You_WON?= big\r\n"
	    "Message-ID: <abc.123@bulk.example.com>\r\n"
	    "X-Mailer: Mass Sender 5.0\r\n"
	    "X-Spam-Status: Yes, score=99\r\n"
	    "\r\nbody\r\n", &t);
	assert_true(has(&t, "received:relay.mail.example.net"));
	assert_true(has(&t, "received:example.net"));
	assert_true(has(&t, "received:ip:192.0.2"));
	assert_true(has(&t, "received:with:esmtp"));
	assert_true(has(&t, "from:name:lucky"));
	assert_true(has(&t, "from:name:winner"));
	assert_true(has(&t, "from:local:prize"));
	assert_true(has(&t, "from:dom:lottery.example.com"));
	assert_true(has(&t, "from:dom:example.com"));
	assert_true(has(&t, "to:dom:example.org"));
	assert_true(has(&t, "to:count:2"));
	/* the encoded word is decoded before its words are taken */
	assert_true(has(&t, "subject:won"));
	assert_true(has(&t, "subject:big"));
	assert_true(has(&t, "subject:encoded"));
	assert_true(has(&t, "msgid:bulk.example.com"));
	assert_true(has(&t, "x-mailer:mass"));
	assert_true(has(&t, "x-mailer:sender"));
	assert_true(has(&t, "hdr:x-mailer"));
	assert_true(has(&t, "date:none"));
	/* another filter's verdict is not a feature */
	assert_false(has(&t, "hdr:x-spam-status"));
	assert_int_equal(count_prefix(&t, "x-spam"), 0);
	spam_tokens_free(&t);
}

static void
test_urls_and_structure(void **state)
{
	struct spam_tokens	t;

	(void)state;
	tokenize("MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n"
	    "<p>Click <a href=\"http://WWW.Pills.Example.biz:8080/buy/cheap"
	    "?id=7\">here</a></p>\r\n"
	    "--b\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Disposition: attachment; filename=\"setup.EXE\"\r\n"
	    "\r\nAAAA\r\n--b--\r\n", &t);
	assert_true(has(&t, "url:scheme:http"));
	assert_true(has(&t, "url:www.pills.example.biz"));
	assert_true(has(&t, "url:example.biz"));
	assert_true(has(&t, "url:port"));
	assert_true(has(&t, "url:path:buy"));
	assert_true(has(&t, "url:path:cheap"));
	assert_true(has(&t, "ctype:multipart/mixed"));
	assert_true(has(&t, "ctype:text/html"));
	assert_true(has(&t, "charset:iso-8859-1"));
	assert_true(has(&t, "attach:application/octet-stream"));
	assert_true(has(&t, "attach:ext:exe"));
	assert_true(has(&t, "mime:html-only"));
	assert_true(has(&t, "mime:parts:2"));
	assert_true(has(&t, "click"));
	spam_tokens_free(&t);
}

static void
test_text_urls_and_addresses(void **state)
{
	struct spam_tokens	t;

	(void)state;
	tokenize("\r\nsee https://shop.example.info/deal or write to "
	    "sales@offers.example.net today\r\n", &t);
	assert_true(has(&t, "url:scheme:https"));
	assert_true(has(&t, "url:shop.example.info"));
	assert_true(has(&t, "url:path:deal"));
	assert_true(has(&t, "email:dom:offers.example.net"));
	assert_true(has(&t, "email:dom:example.net"));
	assert_false(has(&t, "sales@offers.example.net"));
	spam_tokens_free(&t);
}

static void
test_bounds_hostile(void **state)
{
	struct spam_tokens	 t;
	struct spam_msg		 sm;
	struct buf		 b;
	const char		*s, *u;
	size_t			 i, off = 0, off2, n = 0;

	(void)state;
	/* 20,000 distinct words and one enormous one */
	buf_init(&b, 1 << 22);
	assert_int_equal(buf_append_str(&b, "Subject: x\r\n\r\n"), 0);
	for (i = 0; i < 20000; i++)
		assert_int_equal(buf_printf(&b, "w%zux ", i), 0);
	for (i = 0; i < 5000; i++)
		assert_int_equal(buf_append_char(&b, 'q'), 0);
	spam_tokens_init(&t);
	spam_msg_parse(&sm, b.data, b.len);
	spam_tokenize(&sm, &t);
	spam_msg_free(&sm);
	assert_int_equal(t.n, SPAM_TOKENS_MAX);
	while ((s = spam_tokens_next(&t, &off)) != NULL) {
		n++;
		assert_true(strlen(s) >= 1 && strlen(s) <= SPAM_TOKEN_MAX);
		/* unique */
		off2 = off;
		while ((u = spam_tokens_next(&t, &off2)) != NULL)
			assert_true(strcmp(s, u) != 0);
	}
	assert_int_equal(n, t.n);
	spam_tokens_free(&t);
	buf_free(&b);
}

static void
test_long_token_cut_on_char(void **state)
{
	struct spam_tokens	 t;
	const char		*s;
	size_t			 off = 0;

	(void)state;
	/* a 90-byte host under a prefix: cut to SPAM_TOKEN_MAX bytes */
	tokenize("From: <a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com>\r\n\r\nx\r\n", &t);
	while ((s = spam_tokens_next(&t, &off)) != NULL)
		assert_true(strlen(s) <= SPAM_TOKEN_MAX);
	assert_true(has(&t, "from:dom:example.com"));
	spam_tokens_free(&t);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_body_words),
		cmocka_unit_test(test_long_words_and_numbers),
		cmocka_unit_test(test_utf8_lower_and_invisible),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_urls_and_structure),
		cmocka_unit_test(test_text_urls_and_addresses),
		cmocka_unit_test(test_bounds_hostile),
		cmocka_unit_test(test_long_token_cut_on_char),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
