/*
 * Unit tests for imap_struct: ENVELOPE, BODY and BODYSTRUCTURE of small
 * messages, and BODY[section] addressing.  Every expected string below
 * is what Dovecot 2.3.19 answered to FETCH (ENVELOPE BODYSTRUCTURE BODY)
 * for the same message (the quoting rules, literals for 8-bit text and
 * for subjects or names that needed cleaning, MISSING_DOMAIN, the empty
 * part of a multipart without parts).  Messages are copied into heap
 * blocks of exactly their length, so AddressSanitizer sees a read past
 * the end.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "imap/imap_struct.h"
#include "mime.h"

#define IN(s)	(s), sizeof(s) - 1
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char m_simple[] =
    "From: Alice Example <alice@example.org>\n"
    "To: bob@example.net\n"
    "Subject: Hello\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
    "Message-ID: <1@example.org>\n"
    "\n"
    "line one\n"
    "line two\n";

static const char m_multi[] =
    "From: a@b.c\r\n"
    "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "Content-Language: en, de\r\n"
    "\r\n"
    "caf=C3=A9\r\n"
    "--XX\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: inline\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "From: \"Carol \\\"C\\\"\" <carol@d.e>\r\n"
    "\r\n"
    "inner body\r\n"
    "--XX\r\n"
    "Content-Type: application/octet-stream; name=\"f.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: attachment; filename=\"f.bin\"\r\n"
    "Content-ID: <f@x>\r\n"
    "Content-Description: a file\r\n"
    "Content-Location: http://x/f.bin\r\n"
    "\r\n"
    "AAEC\r\n"
    "--XX--\r\n";

static const char m_human[] =
    "From: Whomever\n"
    "To: undisclosed-recipients:;\n"
    "Cc: \"Jo\xc3\xabl\" <j@x.y>, <@r1,@r2:k@z.w>\n"
    "Subject:  two  spaces \n"
    "In-Reply-To: <a@b>\n"
    " <c@d>\n"
    "\n"
    "x";

static const char m_subject8[] =
    "Subject: caf\xc3\xa9\tx\n"
    "Content-Type: text/html\n"
    "Content-Disposition: inline\n"
    "\n"
    "<p>x</p>\n";

/* Two Cc: fields and two Dates, as in CPython's msg_20.txt */
static const char m_repeat[] =
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
    "To: a@b.c\n"
    "Cc: c@d.e\n"
    "Date: Tue, 2 Jan 2024 10:00:00 +0000\n"
    "Cc: f@g.h, i@j.k\n"
    "\n";

/* Broken angle addresses, as Dovecot 2.3 marks them in ENVELOPE */
static const char m_badaddr[] =
    "From: Joe <joe@example.org\n"
    "To: Ann <@a.example ann@example.org>, <b@>\n"
    "\n";

static const char m_emptymp[] =
    "Content-Type: multipart/alternative; boundary=b\n"
    "\n"
    "--b--\n";

enum what { ENVELOPE, BODY, BODYSTRUCTURE };

struct struct_case {
	const char	*name;
	const char	*msg;
	size_t		 msglen;
	enum what	 what;
	const char	*want;
};

#define INNER_FROM	"(({9}\r\nCarol \"C\" NIL \"carol\" \"d.e\"))"
#define INNER_ENV	"(NIL \"inner\" " INNER_FROM " " INNER_FROM " " \
			INNER_FROM " NIL NIL NIL NIL NIL)"

static const struct struct_case struct_cases[] = {
	{ "envelope of a plain message", IN(m_simple), ENVELOPE,
	    "(\"Mon, 1 Jan 2024 10:00:00 +0000\" \"Hello\" "
	    "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
	    "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
	    "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
	    "((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL "
	    "\"<1@example.org>\")" },
	{ "bodystructure: sizes and lines in CRLF form", IN(m_simple),
	    BODYSTRUCTURE, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") "
	    "NIL NIL \"7bit\" 20 2 NIL NIL NIL NIL)" },
	{ "body of a plain message", IN(m_simple), BODY,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 20 2)" },
	{ "envelope: encoded words stay encoded", IN(m_multi), ENVELOPE,
	    "(NIL \"=?utf-8?q?caf=C3=A9?=\" ((NIL NIL \"a\" \"b.c\")) "
	    "((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) "
	    "NIL NIL NIL NIL NIL)" },
	{ "bodystructure of a multipart with message/rfc822",
	    IN(m_multi), BODYSTRUCTURE,
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL "
	    "\"quoted-printable\" 9 0 NIL NIL (\"en\" \"de\") NIL)"
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 61 " INNER_ENV
	    " (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 10 0 NIL NIL NIL NIL) 3 NIL (\"inline\" NIL) NIL NIL)"
	    "(\"application\" \"octet-stream\" (\"name\" \"f.bin\") "
	    "\"<f@x>\" \"a file\" \"base64\" 4 NIL (\"attachment\" "
	    "(\"filename\" \"f.bin\")) NIL \"http://x/f.bin\") "
	    "\"mixed\" (\"boundary\" \"XX\") NIL NIL NIL)" },
	{ "body of a multipart with message/rfc822", IN(m_multi), BODY,
	    "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL "
	    "\"quoted-printable\" 9 0)"
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 61 " INNER_ENV
	    " (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 10 0) 3)"
	    "(\"application\" \"octet-stream\" (\"name\" \"f.bin\") "
	    "\"<f@x>\" \"a file\" \"base64\" 4) \"mixed\")" },
	{ "envelope: cleaned subject and 8-bit name as literals, "
	    "MISSING_DOMAIN, group, route, folded in-reply-to",
	    IN(m_human), ENVELOPE,
	    "(NIL {10}\r\ntwo spaces "
	    "((NIL NIL \"Whomever\" \"MISSING_DOMAIN\")) "
	    "((NIL NIL \"Whomever\" \"MISSING_DOMAIN\")) "
	    "((NIL NIL \"Whomever\" \"MISSING_DOMAIN\")) "
	    "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	    "(({5}\r\nJo\xc3\xabl NIL \"j\" \"x.y\")"
	    "(NIL \"@r1,@r2\" \"k\" \"z.w\")) NIL \"<a@b> <c@d>\" NIL)" },
	{ "bodystructure: last line without a line end", IN(m_human),
	    BODYSTRUCTURE, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") "
	    "NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL)" },
	{ "envelope: 8-bit subject with a tab", IN(m_subject8), ENVELOPE,
	    "(NIL {7}\r\ncaf\xc3\xa9 x NIL NIL NIL NIL NIL NIL NIL NIL)" },
	{ "bodystructure: default charset for text/html, disposition "
	    "without parameters", IN(m_subject8), BODYSTRUCTURE,
	    "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
	    "10 1 NIL (\"inline\" NIL) NIL NIL)" },
	{ "envelope: repeated address fields joined, the last Date",
	    IN(m_repeat), ENVELOPE,
	    "(\"Tue, 2 Jan 2024 10:00:00 +0000\" NIL NIL NIL NIL "
	    "((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"c\" \"d.e\")"
	    "(NIL NIL \"f\" \"g.h\")(NIL NIL \"i\" \"j.k\")) NIL NIL NIL)" },
	{ "envelope: SYNTAX_ERROR and INVALID_ROUTE markers",
	    IN(m_badaddr), ENVELOPE,
	    "(NIL NIL ((\"Joe\" NIL \"joe\" \"SYNTAX_ERROR\")) "
	    "((\"Joe\" NIL \"joe\" \"SYNTAX_ERROR\")) "
	    "((\"Joe\" NIL \"joe\" \"SYNTAX_ERROR\")) "
	    "((\"Ann\" \"INVALID_ROUTE\" \"ann\" \"example.org\")"
	    "(NIL NIL \"b\" \"SYNTAX_ERROR\")) NIL NIL NIL NIL)" },
	{ "bodystructure: a multipart without parts", IN(m_emptymp),
	    BODYSTRUCTURE, "((\"text\" \"plain\" (\"charset\" \"us-ascii\") "
	    "NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) \"alternative\" "
	    "(\"boundary\" \"b\") NIL NIL NIL)" },
	{ "body: a multipart without parts", IN(m_emptymp), BODY,
	    "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
	    "\"7bit\" 0 0) \"alternative\")" },
};

/* The message in a heap block of exactly its length. */
static char *
dup_msg(const char *msg, size_t len, struct mime_msg *m)
{
	char	*p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, msg, len);
	memset(m, 0, sizeof(*m));
	mime_parse(m, p, len);
	return p;
}

static void
test_struct(void **state)
{
	const struct struct_case	*c = *state;
	struct mime_msg			 m;
	struct buf			 out;
	char				*p;
	int				 rc;

	p = dup_msg(c->msg, c->msglen, &m);
	buf_init(&out, 1 << 20);
	if (c->what == ENVELOPE)
		rc = imap_struct_envelope(&out, &m, 0);
	else
		rc = imap_struct_bodystructure(&out, &m, 0,
		    c->what == BODYSTRUCTURE);
	assert_int_equal(rc, 0);
	assert_int_equal(out.len, strlen(c->want));
	assert_memory_equal(out.data, c->want, out.len);
	if (c->what != ENVELOPE) {
		/* both forms from one walk: each as the one asked alone */
		struct buf	bs, body, *got;

		buf_init(&bs, 1 << 20);
		buf_init(&body, 1 << 20);
		assert_int_equal(imap_struct_bodies(&bs, &body, &m, 0), 0);
		got = c->what == BODYSTRUCTURE ? &bs : &body;
		assert_int_equal(got->len, strlen(c->want));
		assert_memory_equal(got->data, c->want, got->len);
		buf_free(&bs);
		buf_free(&body);
	}
	buf_free(&out);
	mime_msg_free(&m);
	free(p);
}

/* The n-th (1-based) child of part, by the tree links. */
static uint32_t
child(const struct mime_msg *m, uint32_t part, unsigned n)
{
	uint32_t	ch = m->parts[part].first_child;

	while (ch != MIME_NONE && --n > 0)
		ch = m->parts[ch].next;
	assert_true(ch != MIME_NONE);
	return ch;
}

/* A path of child numbers from part 0; 0 ends it. */
struct section_case {
	const char		*name;
	const char		*msg;
	size_t			 msglen;
	const char		*spec;
	int			 rc;
	unsigned		 path[3];
	enum imap_struct_region	 region;
	const char		*fields;
};

static const struct section_case section_cases[] = {
	{ "empty: the whole message", IN(m_multi), "", 0, { 0 },
	    IMAP_STRUCT_ALL, NULL },
	{ "HEADER of the message", IN(m_multi), "HEADER", 0, { 0 },
	    IMAP_STRUCT_HEADER, NULL },
	{ "keywords in any case", IN(m_multi), "header", 0, { 0 },
	    IMAP_STRUCT_HEADER, NULL },
	{ "TEXT of the message", IN(m_multi), "TEXT", 0, { 0 },
	    IMAP_STRUCT_TEXT, NULL },
	{ "HEADER.FIELDS with its list", IN(m_multi),
	    "HEADER.FIELDS (From To)", 0, { 0 }, IMAP_STRUCT_FIELDS,
	    " (From To)" },
	{ "a body part", IN(m_multi), "1", 0, { 1 }, IMAP_STRUCT_PART,
	    NULL },
	{ "a part's MIME header", IN(m_multi), "1.MIME", 0, { 1 },
	    IMAP_STRUCT_MIME, NULL },
	{ "a message/rfc822 part", IN(m_multi), "2", 0, { 2 },
	    IMAP_STRUCT_PART, NULL },
	{ "HEADER of a message/rfc822 part", IN(m_multi), "2.HEADER", 0,
	    { 2, 1 }, IMAP_STRUCT_HEADER, NULL },
	{ "TEXT of a message/rfc822 part", IN(m_multi), "2.TEXT", 0,
	    { 2, 1 }, IMAP_STRUCT_TEXT, NULL },
	{ "HEADER.FIELDS.NOT of a message/rfc822 part", IN(m_multi),
	    "2.HEADER.FIELDS.NOT (Subject)", 0, { 2, 1 },
	    IMAP_STRUCT_FIELDS_NOT, " (Subject)" },
	{ "part 1 of a single-part message inside", IN(m_multi), "2.1", 0,
	    { 2, 1 }, IMAP_STRUCT_PART, NULL },
	{ "MIME of part 1 of a single-part message inside", IN(m_multi),
	    "2.1.MIME", 0, { 2, 1 }, IMAP_STRUCT_MIME, NULL },
	{ "the last part", IN(m_multi), "3", 0, { 3 }, IMAP_STRUCT_PART,
	    NULL },
	{ "single-part message: part 1 is its body", IN(m_simple), "1", 0,
	    { 0 }, IMAP_STRUCT_PART, NULL },
	{ "single-part message: TEXT", IN(m_simple), "TEXT", 0, { 0 },
	    IMAP_STRUCT_TEXT, NULL },
	{ "no part 4", IN(m_multi), "4", -1, { 0 }, 0, NULL },
	{ "no part 2 of a single-part message inside", IN(m_multi), "2.2",
	    -1, { 0 }, 0, NULL },
	{ "HEADER of a text part", IN(m_multi), "1.HEADER", -1, { 0 }, 0,
	    NULL },
	{ "a part of a text part", IN(m_multi), "1.1", -1, { 0 }, 0, NULL },
	{ "part 0", IN(m_multi), "0", -1, { 0 }, 0, NULL },
	{ "a leading zero", IN(m_multi), "01", -1, { 0 }, 0, NULL },
	{ "a trailing dot", IN(m_multi), "1.", -1, { 0 }, 0, NULL },
	{ "MIME of the message", IN(m_multi), "MIME", -1, { 0 }, 0, NULL },
	{ "junk after TEXT", IN(m_multi), "TEXTX", -1, { 0 }, 0, NULL },
	{ "HEADER.FIELDS without a list", IN(m_multi), "HEADER.FIELDS",
	    -1, { 0 }, 0, NULL },
	{ "a huge part number", IN(m_multi), "99999999999999999999", -1,
	    { 0 }, 0, NULL },
	{ "part 2 of a single-part message", IN(m_simple), "2", -1, { 0 },
	    0, NULL },
};

static void
test_section(void **state)
{
	const struct section_case	*c = *state;
	struct mime_msg			 m;
	enum imap_struct_region		 region;
	struct span			 fields;
	uint32_t			 part, want = 0;
	char				*p;
	size_t				 i;
	int				 rc;

	p = dup_msg(c->msg, c->msglen, &m);
	rc = imap_struct_section(&m, span_make(c->spec, strlen(c->spec)),
	    &part, &region, &fields);
	assert_int_equal(rc, c->rc);
	if (rc == 0) {
		for (i = 0; i < NELEM(c->path) && c->path[i] != 0; i++)
			want = child(&m, want, c->path[i]);
		assert_int_equal(part, want);
		assert_int_equal(region, c->region);
		if (c->fields == NULL)
			assert_int_equal(fields.len, 0);
		else {
			assert_int_equal(fields.len, strlen(c->fields));
			assert_memory_equal(fields.ptr, c->fields, fields.len);
		}
	}
	mime_msg_free(&m);
	free(p);
}

/* Regions and their sizes served with CRLF, from an LF message. */
static void
test_region_sizes(void **state)
{
	struct mime_msg	m;
	struct span	s;
	uint64_t	size;
	char		*p;

	(void)state;
	p = dup_msg(IN(m_simple), &m);
	imap_struct_region(&m, 0, IMAP_STRUCT_PART, &s, &size);
	assert_int_equal(s.len, 18);
	assert_memory_equal(s.ptr, "line one\nline two\n", 18);
	assert_int_equal(size, 20);
	imap_struct_region(&m, 0, IMAP_STRUCT_ALL, &s, &size);
	assert_int_equal(s.len, sizeof(m_simple) - 1);
	assert_int_equal(size, sizeof(m_simple) - 1 + 8);
	imap_struct_region(&m, 0, IMAP_STRUCT_HEADER, &s, &size);
	assert_int_equal(s.len, sizeof(m_simple) - 1 - 18);
	assert_int_equal(size, sizeof(m_simple) - 1 - 18 + 6);
	mime_msg_free(&m);
	free(p);
}

/* A ceiling on the output is an error, not a truncated answer. */
static void
test_out_ceiling(void **state)
{
	struct mime_msg	m;
	struct buf	out, small;
	char		*p;

	(void)state;
	p = dup_msg(IN(m_multi), &m);
	buf_init(&out, 100);
	errno = 0;
	assert_int_equal(imap_struct_bodystructure(&out, &m, 0, true), -1);
	assert_int_equal(errno, EMSGSIZE);
	buf_reset(&out);
	out.max = 20;
	errno = 0;
	assert_int_equal(imap_struct_envelope(&out, &m, 0), -1);
	assert_int_equal(errno, EMSGSIZE);
	buf_free(&out);
	/* a ceiling of either output of imap_struct_bodies() */
	buf_init(&out, 1 << 16);
	buf_init(&small, 100);
	errno = 0;
	assert_int_equal(imap_struct_bodies(&out, &small, &m, 0), -1);
	assert_int_equal(errno, EMSGSIZE);
	buf_reset(&out);
	buf_reset(&small);
	errno = 0;
	assert_int_equal(imap_struct_bodies(&small, &out, &m, 0), -1);
	assert_int_equal(errno, EMSGSIZE);
	buf_free(&small);
	buf_free(&out);
	mime_msg_free(&m);
	free(p);
}

/* The structure of an inner part alone: the message/rfc822's message. */
static void
test_inner_part(void **state)
{
	static const char	 want[] = "(\"text\" \"plain\" (\"charset\" "
	    "\"us-ascii\") NIL NIL \"7bit\" 10 0)";
	struct mime_msg		 m;
	struct buf		 out;
	char			*p;
	uint32_t		 inner;

	(void)state;
	p = dup_msg(IN(m_multi), &m);
	inner = child(&m, child(&m, 0, 2), 1);
	buf_init(&out, 1 << 16);
	assert_int_equal(imap_struct_bodystructure(&out, &m, inner, false),
	    0);
	assert_int_equal(out.len, sizeof(want) - 1);
	assert_memory_equal(out.data, want, out.len);
	buf_reset(&out);
	assert_int_equal(imap_struct_envelope(&out, &m, inner), 0);
	assert_int_equal(out.len, strlen(INNER_ENV));
	assert_memory_equal(out.data, INNER_ENV, out.len);
	buf_free(&out);
	mime_msg_free(&m);
	free(p);
}

static void
add_test(struct CMUnitTest *tests, size_t *n, const char *name,
    CMUnitTestFunction fn, const void *arg)
{
	tests[*n].name = name;
	tests[*n].test_func = fn;
	tests[*n].setup_func = NULL;
	tests[*n].teardown_func = NULL;
	tests[*n].initial_state = (void *)(uintptr_t)arg;
	(*n)++;
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_region_sizes),
		cmocka_unit_test(test_out_ceiling),
		cmocka_unit_test(test_inner_part),
	};
	struct CMUnitTest	tests[NELEM(struct_cases) +
				    NELEM(section_cases) + NELEM(fixed)];
	size_t			i, n = 0;

	for (i = 0; i < NELEM(struct_cases); i++)
		add_test(tests, &n, struct_cases[i].name, test_struct,
		    &struct_cases[i]);
	for (i = 0; i < NELEM(section_cases); i++)
		add_test(tests, &n, section_cases[i].name, test_section,
		    &section_cases[i]);
	for (i = 0; i < NELEM(fixed); i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("imap_struct", tests, n, NULL, NULL);
}
