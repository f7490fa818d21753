/*
 * Unit tests for spamtrain.c: the learn-once id of a message (its
 * Message-ID normalised, else a digest of its header section that CR LF
 * and LF agree on) and the mbox reader (separators, mboxrd unquoting,
 * the cap, what lies before the first separator).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spamtrain.h"

static void
id_of(const char *msg, char out[SPAMTRAIN_ID_MAX])
{
	char	*copy;
	size_t	 len = strlen(msg);

	/* a heap copy of exactly its length: a read past it trips ASan */
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, msg, len);
	spamtrain_id(copy, len, out);
	free(copy);
}

static bool
is_digest(const char *id)
{
	size_t	i;

	if (strncmp(id, "sha256:", 7) != 0 || strlen(id) != 7 + 64)
		return false;
	for (i = 7; id[i] != '\0'; i++)
		if (strchr("0123456789abcdef", id[i]) == NULL)
			return false;
	return true;
}

static void
test_id_message_id(void **state)
{
	char	id[SPAMTRAIN_ID_MAX];

	id_of("From: a@b.example\nMessage-ID: <Ab.C$1@Mail.EXAMPLE.org>\n"
	    "\nbody\n", id);
	assert_string_equal(id, "<Ab.C$1@mail.example.org>");
	/* folded, a comment and CFWS inside; the field name's case */
	id_of("message-id:\r\n <x.Y (c) @ Host.Example>\r\nSubject: s\r\n"
	    "\r\nbody\r\n", id);
	assert_string_equal(id, "<x.Y@host.example>");
	/* only the header section counts: a Message-ID in the body not */
	id_of("Subject: s\n\nMessage-ID: <in@body>\n", id);
	assert_true(is_digest(id));
	/* the first of two */
	id_of("Message-ID: <one@a>\nMessage-ID: <two@a>\n\n", id);
	assert_string_equal(id, "<one@a>");
}

static void
test_id_digest(void **state)
{
	char	lf[SPAMTRAIN_ID_MAX], crlf[SPAMTRAIN_ID_MAX];
	char	other[SPAMTRAIN_ID_MAX], body[SPAMTRAIN_ID_MAX];
	char	noid[SPAMTRAIN_ID_MAX], big[600];

	id_of("From: a@b\nSubject: hello\n\nbody one\n", lf);
	id_of("From: a@b\r\nSubject: hello\r\n\r\nbody one\r\n", crlf);
	id_of("From: a@b\nSubject: hello!\n\nbody one\n", other);
	id_of("From: a@b\nSubject: hello\n\nanother body\n", body);
	assert_true(is_digest(lf));
	assert_string_equal(lf, crlf);
	assert_string_not_equal(lf, other);
	/* the header section names the message, the body does not */
	assert_string_equal(lf, body);
	/* a Message-ID without an '@' is no id: the digest */
	id_of("Message-ID: <no-at-sign>\n\n", noid);
	assert_true(is_digest(noid));
	/* a quoted left side with a space, or 8-bit: the digest */
	id_of("Message-ID: <\"a b\"@h>\n\n", noid);
	assert_true(is_digest(noid));
	id_of("Message-ID: <caf\xc3\xa9@h>\n\n", noid);
	assert_true(is_digest(noid));
	id_of("Message-ID: <\"ab\"@h>\n\n", noid);
	assert_string_equal(noid, "<\"ab\"@h>");
	/* one too long for the database: the digest */
	memset(big, 'x', sizeof(big));
	memcpy(big, "Message-ID: <", 13);
	memcpy(big + 400, "@h>\n\n", 6);
	id_of(big, noid);
	assert_true(is_digest(noid));
	/* empty and header-only input */
	id_of("", noid);
	assert_true(is_digest(noid));
	id_of("Subject: x", noid);
	assert_true(is_digest(noid));
}

/* Every message of mbox, unquoted, joined with "|". */
static void
mbox_all(const char *mbox, char *out, size_t outsz, size_t *n_out)
{
	struct span	rest = span_make(mbox, strlen(mbox)), msg;
	struct buf	b;

	buf_init(&b, 1024);
	out[0] = '\0';
	*n_out = 0;
	while (spamtrain_mbox_next(&rest, &msg)) {
		buf_reset(&b);
		assert_int_equal(spamtrain_mbox_unquote(msg, &b), 0);
		if (*n_out > 0)
			(void)strncat(out, "|", outsz - strlen(out) - 1);
		(void)strncat(out, b.data != NULL ? b.data : "",
		    outsz - strlen(out) - 1);
		(*n_out)++;
	}
	assert_int_equal(rest.len, 0);
	buf_free(&b);
}

static void
test_mbox_split(void **state)
{
	char	out[1024];
	size_t	n;

	mbox_all("From a@b Sat Jan  3 01:05:34 1996\n"
	    "From: a@b\nSubject: one\n\nhello\n>From the start\n"
	    ">>From two levels\n> From not quoted\n\n"
	    "From c@d Sat Jan  3 01:05:35 1996\n"
	    "Subject: two\n\nbye", out, sizeof(out), &n);
	assert_int_equal(n, 2);
	assert_string_equal(out, "From: a@b\nSubject: one\n\nhello\n"
	    "From the start\n>From two levels\n> From not quoted\n\n|"
	    "Subject: two\n\nbye");
	/* CRLF lines; a header "From:" is no separator */
	mbox_all("From x\r\nFrom: y\r\n\r\nz\r\nFrom w\r\n\r\n", out,
	    sizeof(out), &n);
	assert_int_equal(n, 2);
	assert_string_equal(out, "From: y\r\n\r\nz\r\n|\r\n");
	/* what precedes the first separator is skipped; a bare one */
	mbox_all("junk\nmore\nFrom a\nm\nFrom b", out, sizeof(out), &n);
	assert_int_equal(n, 2);
	assert_string_equal(out, "m\n|");
	mbox_all("no separator at all\n", out, sizeof(out), &n);
	assert_int_equal(n, 0);
	mbox_all("", out, sizeof(out), &n);
	assert_int_equal(n, 0);

	assert_true(spamtrain_is_mbox("From a@b x\n", 11));
	assert_false(spamtrain_is_mbox("From: a@b\n", 10));
	assert_false(spamtrain_is_mbox("From", 4));
	assert_false(spamtrain_is_mbox(">From a", 7));
}

static void
test_mbox_unquote_cap(void **state)
{
	struct buf	b;
	const char	*m = "line one\nline two\n>From x\n";

	buf_init(&b, 12);
	assert_int_equal(spamtrain_mbox_unquote(span_make(m, strlen(m)), &b),
	    -1);
	/* cut at a line: what fit is kept */
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "line one\n", 9);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_message_id),
		cmocka_unit_test(test_id_digest),
		cmocka_unit_test(test_mbox_split),
		cmocka_unit_test(test_mbox_unquote_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
