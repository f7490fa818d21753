/*
 * Unit tests for imap_search: every SEARCH key against messages written
 * here (parsed by imap_parse from a real command line), the cheap-first
 * rounds (the message is not parsed when flags decide), text keys on
 * decoded headers and on base64, quoted-printable and HTML bodies,
 * SENT* in the sender's zone, the case fold, CHARSET, ESEARCH and
 * SEARCHRES.  Messages are copied into heap blocks of exactly their
 * length, so AddressSanitizer sees a read past the end.
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
#include "imap/imap_parse.h"
#include "imap/imap_search.h"
#include "mime.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char m_plain[] =
    "From: Alice Example <alice@example.org>\n"
    "To: bob@example.net, \"Carol C.\" <carol@example.com>\n"
    "Cc: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\n"
    "Subject: =?utf-8?b?0J/RgNC40LLQtdGCINCc0LjRgA==?= and more\n"
    "Date: Mon, 1 Jan 2024 23:30:00 -0500\n"
    "X-Empty:\n"
    "Message-ID: <1@example.org>\n"
    "\n"
    "Plain body with a Needle in it.\n";

static const char m_multi[] =
    "From: dave@example.org\n"
    "Subject: =?iso-8859-7?q?=D3=E5=EB=DF=E4=E1?=\n"
    "Date: Tue, 2 Jan 2024 01:00:00 +0200\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Caf=E9 cr=C8me br=FBl=E9e\n"
    "--b\n"
    "Content-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "PHA+PGI+R3LDvMOfZTwvYj4gYXVzIEvDtmxuICZhbXA7IFNUUkHDn0U8L3A+Cg==\n"
    "--b\n"
    "Content-Type: application/octet-stream\n"
    "Content-Disposition: attachment; filename=x.bin\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "c2VjcmV0d29yZA==\n"
    "--b--\n";

static const char m_nodate[] =
    "Subject: no date here\n"
    "\n"
    "x\n";

struct tmsg {
	const char	*text;
	char		*copy;
	struct mime_msg	 msg;
	int		 loads;
	bool		 fail;
};

static int
load(void *arg, const struct mime_msg **msg_out)
{
	struct tmsg	*t = arg;
	size_t		 len = strlen(t->text);

	t->loads++;
	if (t->fail)
		return -1;
	if (t->copy == NULL) {
		t->copy = malloc(len);
		assert_non_null(t->copy);
		memcpy(t->copy, t->text, len);
		memset(&t->msg, 0, sizeof(t->msg));
		mime_parse(&t->msg, t->copy, len);
	}
	*msg_out = &t->msg;
	return 0;
}

static void
tmsg_free(struct tmsg *t)
{
	if (t->copy != NULL) {
		mime_msg_free(&t->msg);
		free(t->copy);
	}
	t->copy = NULL;
}

static const struct span	kw_set[] = {
	{ "$Label1", 7 }, { "Work", 4 },
};

/* A message's facts: seq 3 of 5, UID 30 of 50, 1000 octets. */
static void
facts(struct imap_search_msg *m, struct tmsg *t, unsigned flags)
{
	memset(m, 0, sizeof(*m));
	m->seq = 3;
	m->uid = 30;
	m->flags = flags;
	m->kw = kw_set;
	m->nkw = NELEM(kw_set);
	m->size = 1000;
	/* 2024-01-02 00:30:00 +0100: 1 January in UTC, 2 in its zone */
	m->internaldate = 1704151800;
	m->internal_zone = 60;
	m->modseq = 77;
	m->message = load;
	m->arg = t;
}

/* Run "A SEARCH <args>" on one message: 1, 0, or -1. */
static int
search_full(const char *args, struct tmsg *t, unsigned flags,
    const uint32_t *saved, size_t nsaved)
{
	struct imap_cmd		 cmd;
	struct imap_search_ctx	 ctx;
	struct imap_search_msg	 m;
	struct buf		 line;
	const char		*err = NULL;
	int			 r;

	buf_init(&line, 65536);
	assert_int_equal(buf_printf(&line, "A SEARCH %s\r\n", args), 0);
	if (imap_parse_command(line.data, line.len, &cmd, &err) != 0)
		fail_msg("parse %s: %s", args, err);
	assert_int_equal(imap_search_prepare(&ctx, &cmd.search, 5, 50, saved,
	    nsaved, &err), 0);
	facts(&m, t, flags);
	r = imap_search_match(&ctx, &m);
	imap_search_ctx_free(&ctx);
	imap_cmd_free(&cmd);
	buf_free(&line);
	return r;
}

static int
search(const char *args, const char *text, unsigned flags)
{
	struct tmsg	t = { .text = text };
	int		r = search_full(args, &t, flags, NULL, 0);

	tmsg_free(&t);
	return r;
}

struct case_ {
	const char	*args;
	const char	*msg;
	unsigned	 flags;
	int		 want;
};

#define SEEN	IMAP_FLAG_SEEN
#define RECENT	IMAP_FLAG_RECENT

static const struct case_ cases[] = {
	/* flags, keywords, numbers */
	{ "ALL", m_plain, 0, 1 },
	{ "SEEN", m_plain, SEEN, 1 },
	{ "SEEN", m_plain, 0, 0 },
	{ "UNSEEN", m_plain, 0, 1 },
	{ "ANSWERED", m_plain, IMAP_FLAG_ANSWERED, 1 },
	{ "UNFLAGGED", m_plain, IMAP_FLAG_FLAGGED, 0 },
	{ "DELETED UNDRAFT", m_plain, IMAP_FLAG_DELETED, 1 },
	{ "RECENT", m_plain, RECENT, 1 },
	{ "NEW", m_plain, RECENT, 1 },
	{ "NEW", m_plain, RECENT | SEEN, 0 },
	{ "OLD", m_plain, RECENT, 0 },
	{ "OLD", m_plain, SEEN, 1 },
	{ "KEYWORD work", m_plain, 0, 1 },
	{ "KEYWORD $Label2", m_plain, 0, 0 },
	{ "UNKEYWORD $label1", m_plain, 0, 0 },
	{ "UNKEYWORD $Junk", m_plain, 0, 1 },
	{ "3", m_plain, 0, 1 },
	{ "1:2,4:*", m_plain, 0, 0 },
	{ "*:3", m_plain, 0, 1 },
	{ "UID 30", m_plain, 0, 1 },
	{ "UID 31:*", m_plain, 0, 0 },
	{ "UID 1:*", m_plain, 0, 1 },
	{ "LARGER 999", m_plain, 0, 1 },
	{ "LARGER 1000", m_plain, 0, 0 },
	{ "SMALLER 1001", m_plain, 0, 1 },
	{ "SMALLER 1000", m_plain, 0, 0 },
	{ "MODSEQ 77", m_plain, 0, 1 },
	{ "MODSEQ 78", m_plain, 0, 0 },
	/* the internal date in its own zone (+0100): 2-Jan-2024 */
	{ "ON 2-Jan-2024", m_plain, 0, 1 },
	{ "ON 1-Jan-2024", m_plain, 0, 0 },
	{ "BEFORE 2-Jan-2024", m_plain, 0, 0 },
	{ "BEFORE 3-Jan-2024", m_plain, 0, 1 },
	{ "SINCE 2-Jan-2024", m_plain, 0, 1 },
	{ "SINCE \"3-Jan-2024\"", m_plain, 0, 0 },
	/* logic */
	{ "NOT SEEN", m_plain, 0, 1 },
	{ "NOT NOT SEEN", m_plain, 0, 0 },
	{ "OR SEEN FLAGGED", m_plain, IMAP_FLAG_FLAGGED, 1 },
	{ "OR SEEN FLAGGED", m_plain, 0, 0 },
	{ "(SEEN FLAGGED)", m_plain, SEEN, 0 },
	{ "OR (SEEN FLAGGED) NOT (LARGER 5 SMALLER 10)", m_plain, 0, 1 },
	{ "NOT OR SEEN UID 30", m_plain, 0, 0 },
	{ "OR SUBJECT nothing OR FROM nobody BODY needle", m_plain, 0, 1 },
	{ "NOT (SUBJECT nothing OR FROM nobody BODY zzz)", m_plain, 0, 1 },
	/* headers: decoded, case-insensitive over UTF-8 */
	{ "SUBJECT \"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\"",
	    m_plain, 0, 1 },			/* привет vs Привет */
	{ "SUBJECT \"\xd0\x9c\xd0\x98\xd0\xa0\"", m_plain, 0, 1 }, /* МИР */
	{ "SUBJECT \"AND MORE\"", m_plain, 0, 1 },
	{ "SUBJECT utf-8", m_plain, 0, 0 },	/* not the encoded form */
	{ "SUBJECT \"\xcf\x83\xce\xb5\xce\xbb\xce\xaf\"", m_multi, 0, 1 },
	{ "SUBJECT \"\xce\xa3\xce\x95\xce\x9b\"", m_multi, 0, 1 },
	{ "FROM \"alice example <alice@\"", m_plain, 0, 1 },
	{ "FROM EXAMPLE.ORG", m_plain, 0, 1 },
	{ "FROM bob", m_plain, 0, 0 },
	{ "TO \"carol c. <carol@example.com>\"", m_plain, 0, 1 },
	{ "TO \"bob@example.net, \"", m_plain, 0, 1 },
	{ "CC \"j\xc3\x96rg <\"", m_plain, 0, 1 },
	{ "CC \"J\xc3\xb6rg\"", m_plain, 0, 1 },
	{ "BCC x", m_plain, 0, 0 },
	{ "HEADER Message-ID \"<1@EXAMPLE\"", m_plain, 0, 1 },
	{ "HEADER X-Empty \"\"", m_plain, 0, 1 },
	{ "HEADER x-empty \"\"", m_plain, 0, 1 },
	{ "HEADER X-Missing \"\"", m_plain, 0, 0 },
	{ "HEADER Subject \"\"", m_nodate, 0, 1 },
	/* SENT*: the Date: as written, in the sender's zone */
	{ "SENTON 1-Jan-2024", m_plain, 0, 1 },
	{ "SENTON 2-Jan-2024", m_plain, 0, 0 },
	{ "SENTBEFORE 2-Jan-2024", m_plain, 0, 1 },
	{ "SENTSINCE 2-Jan-2024", m_plain, 0, 0 },
	{ "SENTON 2-Jan-2024", m_multi, 0, 1 },
	/* no Date: the epoch, as Dovecot */
	{ "SENTBEFORE 1-Jan-2100", m_nodate, 0, 1 },
	{ "SENTON 1-Jan-1970", m_nodate, 0, 1 },
	{ "SENTSINCE 2-Jan-1970", m_nodate, 0, 0 },
	/* body text of every text part, decoded */
	{ "BODY needle", m_plain, 0, 1 },
	{ "BODY alice", m_plain, 0, 0 },	/* not in the body */
	{ "TEXT alice", m_plain, 0, 1 },	/* in the header */
	{ "TEXT \"\xd0\xbc\xd0\xb8\xd1\x80\"", m_plain, 0, 1 },
	{ "BODY \"CAF\xc3\x89 CR\xc3\x88ME\"", m_multi, 0, 1 },	/* QP */
	{ "BODY \"gr\xc3\xbc\xc3\x9f" "e aus k\xc3\xb6ln\"", m_multi, 0, 1 },
	{ "BODY \"& stra\xc3\x9f" "e\"", m_multi, 0, 1 },	/* HTML text */
	{ "BODY \"<b>\"", m_multi, 0, 0 },	/* tags are not text */
	{ "BODY secretword", m_multi, 0, 0 },	/* attachment */
	{ "CHARSET UTF-8 BODY needle", m_plain, 0, 1 },
	{ "CHARSET us-ascii SUBJECT more", m_plain, 0, 1 },
	{ "BODY \"\"", m_nodate, 0, 1 },
};

static void
test_keys(void **state)
{
	size_t	i;
	int	r;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		r = search(cases[i].args, cases[i].msg, cases[i].flags);
		if (r != cases[i].want)
			fail_msg("SEARCH %s: got %d, want %d", cases[i].args,
			    r, cases[i].want);
	}
}

/* Flags, sizes and numbers decide without parsing the message. */
static void
test_cheap_first(void **state)
{
	struct tmsg	t = { .text = m_plain };

	(void)state;
	assert_int_equal(search_full("SUBJECT more SEEN", &t, 0, NULL, 0), 0);
	assert_int_equal(t.loads, 0);
	assert_int_equal(search_full("OR LARGER 5 BODY needle", &t, 0, NULL,
	    0), 1);
	assert_int_equal(t.loads, 0);
	assert_int_equal(search_full("BODY zzz SUBJECT zzz", &t, 0, NULL,
	    0), 0);
	assert_int_equal(t.loads, 1);
	/* a header key that decides leaves the body undecoded: the load
	 * happens once per match either way */
	assert_int_equal(search_full("SUBJECT more BODY needle", &t, 0, NULL,
	    0), 1);
	assert_int_equal(t.loads, 2);
	tmsg_free(&t);
	t.fail = true;
	assert_int_equal(search_full("BODY x", &t, 0, NULL, 0), -1);
	assert_int_equal(search_full("SEEN BODY x", &t, 0, NULL, 0), 0);
}

static void
test_needs_message(void **state)
{
	struct imap_cmd		 cmd;
	struct imap_search_ctx	 ctx;
	const char		*err;
	static const char	 a[] = "A SEARCH SEEN UID 1:*\r\n";
	static const char	 b[] = "A SEARCH OR SEEN HEADER X y\r\n";

	(void)state;
	assert_int_equal(imap_parse_command(a, sizeof(a) - 1, &cmd, &err), 0);
	assert_int_equal(imap_search_prepare(&ctx, &cmd.search, 1, 1, NULL, 0,
	    &err), 0);
	assert_false(imap_search_needs_message(&ctx));
	imap_search_ctx_free(&ctx);
	imap_cmd_free(&cmd);
	assert_int_equal(imap_parse_command(b, sizeof(b) - 1, &cmd, &err), 0);
	assert_int_equal(imap_search_prepare(&ctx, &cmd.search, 1, 1, NULL, 0,
	    &err), 0);
	assert_true(imap_search_needs_message(&ctx));
	imap_search_ctx_free(&ctx);
	imap_cmd_free(&cmd);
}

static void
test_charset(void **state)
{
	struct imap_cmd		 cmd;
	struct imap_search_ctx	 ctx;
	const char		*err = NULL;
	static const char	 c[] = "A SEARCH CHARSET ISO-8859-1 ALL\r\n";

	(void)state;
	assert_true(imap_search_charset_ok(span_str("")));
	assert_true(imap_search_charset_ok(span_str("utf-8")));
	assert_true(imap_search_charset_ok(span_str("US-ASCII")));
	assert_false(imap_search_charset_ok(span_str("UTF-16")));
	assert_int_equal(imap_parse_command(c, sizeof(c) - 1, &cmd, &err), 0);
	assert_int_equal(imap_search_prepare(&ctx, &cmd.search, 1, 1, NULL, 0,
	    &err), -1);
	assert_non_null(strstr(err, "[BADCHARSET (UTF-8 US-ASCII)]"));
	imap_cmd_free(&cmd);
}

static void
test_searchres(void **state)
{
	struct tmsg		t = { .text = m_plain };
	static const uint32_t	with[] = { 7, 30, 41 };
	static const uint32_t	without[] = { 7, 29, 31 };

	(void)state;
	assert_int_equal(search_full("$", &t, 0, with, 3), 1);
	assert_int_equal(search_full("$", &t, 0, without, 3), 0);
	assert_int_equal(search_full("UID $", &t, 0, with, 3), 1);
	assert_int_equal(search_full("NOT $", &t, 0, NULL, 0), 1);
	assert_int_equal(search_full("$ SEEN", &t, SEEN, with, 3), 1);
	tmsg_free(&t);
}

static void
fold_is(const char *in, const char *want)
{
	struct buf	b;

	buf_init(&b, 1024);
	assert_int_equal(imap_search_fold(span_str(in), &b), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void
test_fold(void **state)
{
	(void)state;
	fold_is("Hello WORLD 123", "hello world 123");
	fold_is("\xc3\x80\xc3\x89\xc3\x8e\xc3\x9e\xc3\x97",	/* ÀÉÎÞ× */
	    "\xc3\xa0\xc3\xa9\xc3\xae\xc3\xbe\xc3\x97");
	fold_is("\xc5\x81\xc3\xb3\xc5\xbb", "\xc5\x82\xc3\xb3\xc5\xbc");
	fold_is("\xc5\xb8", "\xc3\xbf");			/* Ÿ -> ÿ */
	fold_is("\xce\xa3\xcf\x82\xce\x86", "\xcf\x83\xcf\x83\xce\xac");
	fold_is("\xd0\x81\xd0\xaf\xd1\x97\xd0\x87",		/* ЁЯїЇ */
	    "\xd1\x91\xd1\x8f\xd1\x97\xd1\x97");
	fold_is("\xc3\x9f", "\xc3\x9f");			/* ß stays */
	fold_is("a\xff" "B\xc3", "a\xff" "b\xc3");		/* bad bytes */
	fold_is("\xe2\x82\xac", "\xe2\x82\xac");		/* € */
}

static void
test_seqset(void **state)
{
	static const uint32_t	v[] = { 1, 2, 3, 5, 7, 8, 10, 4294967295u };
	struct buf		b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(imap_search_seqset(&b, v, NELEM(v)), 0);
	assert_string_equal(b.data, "1:3,5,7:8,10,4294967295");
	buf_reset(&b);
	assert_int_equal(imap_search_seqset(&b, v, 1), 0);
	assert_string_equal(b.data, "1");
	buf_free(&b);
}

static void
esearch_is(unsigned ret, bool uid, const uint32_t *v, size_t n,
    const char *want)
{
	struct buf	b;

	buf_init(&b, 1024);
	assert_int_equal(imap_search_esearch(&b, span_str("A282"), uid, ret,
	    v, n), 0);
	assert_int_equal(b.len, strlen(want));
	if (b.len > 0)
		assert_string_equal(b.data, want);
	buf_free(&b);
}

static void
test_esearch(void **state)
{
	static const uint32_t	v[] = { 2, 10, 11, 12, 43 };

	(void)state;
	/* RFC 4731 §3.1's examples */
	esearch_is(IMAP_SRET_MIN | IMAP_SRET_COUNT, false, v, NELEM(v),
	    "* ESEARCH (TAG \"A282\") MIN 2 COUNT 5\r\n");
	esearch_is(IMAP_SRET_ALL, false, v, NELEM(v),
	    "* ESEARCH (TAG \"A282\") ALL 2,10:12,43\r\n");
	esearch_is(IMAP_SRET_MIN | IMAP_SRET_MAX | IMAP_SRET_ALL |
	    IMAP_SRET_COUNT, true, v, NELEM(v),
	    "* ESEARCH (TAG \"A282\") UID MIN 2 MAX 43 ALL 2,10:12,43 "
	    "COUNT 5\r\n");
	esearch_is(IMAP_SRET_MIN | IMAP_SRET_MAX | IMAP_SRET_ALL |
	    IMAP_SRET_COUNT, true, v, 0,
	    "* ESEARCH (TAG \"A282\") UID COUNT 0\r\n");
	esearch_is(IMAP_SRET_MIN, false, v, 0, "* ESEARCH (TAG \"A282\")\r\n");
	/* ESORT (RFC 5267 §3.2): the sort's order kept, MIN and MAX its
	 * first and last, only ascending runs compressed */
	{
		static const uint32_t	o[] = { 11, 2, 3, 4, 43, 12, 10 };

		esearch_is(IMAP_SRET_MIN | IMAP_SRET_MAX | IMAP_SRET_ALL,
		    false, o, NELEM(o),
		    "* ESEARCH (TAG \"A282\") MIN 11 MAX 10 ALL 11,2:4,43,"
		    "12,10\r\n");
	}
	/* RFC 5182 §2.4: SAVE alone, no ESEARCH */
	esearch_is(IMAP_SRET_SAVE, true, v, NELEM(v), "");
	esearch_is(IMAP_SRET_SAVE | IMAP_SRET_COUNT, false, v, NELEM(v),
	    "* ESEARCH (TAG \"A282\") COUNT 5\r\n");
}

static void
test_save(void **state)
{
	static const uint32_t	v[] = { 2, 10, 11 };
	uint32_t		out[3];

	(void)state;
	assert_int_equal(imap_search_save(IMAP_SRET_SAVE, v, 3, out), 3);
	assert_int_equal(out[2], 11);
	assert_int_equal(imap_search_save(IMAP_SRET_SAVE | IMAP_SRET_MIN, v,
	    3, out), 1);
	assert_int_equal(out[0], 2);
	assert_int_equal(imap_search_save(IMAP_SRET_SAVE | IMAP_SRET_MIN |
	    IMAP_SRET_MAX, v, 3, out), 2);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 11);
	assert_int_equal(imap_search_save(IMAP_SRET_SAVE | IMAP_SRET_MAX, v,
	    1, out), 1);
	assert_int_equal(imap_search_save(IMAP_SRET_SAVE | IMAP_SRET_MIN |
	    IMAP_SRET_COUNT, v, 3, out), 3);
	assert_int_equal(imap_search_save(IMAP_SRET_SAVE, v, 0, out), 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_cheap_first),
		cmocka_unit_test(test_needs_message),
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_searchres),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_esearch),
		cmocka_unit_test(test_save),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
