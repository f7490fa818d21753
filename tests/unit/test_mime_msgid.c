/*
 * Unit tests for mime_msgid.c, the msg-id lists of Message-ID,
 * In-Reply-To and References (RFC 5322 §3.6.4, §4.5.4): Stalwart's
 * id.json, every vector; ids among obsolete phrases, with CFWS inside,
 * quoted and literal halves; what is not an id; where a result points;
 * the MIME_MSGIDS_MAX cap and hostile values of a megabyte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime_hdr.h"
#include "mime_vectors.h"

static struct span
sp(const char *s)
{
	return span_make(s, strlen(s));
}

/* The ids of v, joined by one space, into out. */
static int
ids_of(struct span v, char *out, size_t outsz)
{
	struct mime_msgids	ids;
	size_t			i, o = 0;
	int			rc;

	memset(&ids, 0, sizeof(ids));
	rc = mime_hdr_msgids(v, &ids);
	out[0] = '\0';
	for (i = 0; i < ids.n; i++) {
		assert_true(o + ids.v[i].len + 2 < outsz);
		if (i > 0)
			out[o++] = ' ';
		memcpy(out + o, ids.v[i].ptr, ids.v[i].len);
		o += ids.v[i].len;
		out[o] = '\0';
	}
	assert_int_equal(rc, ids.n > 0 ? 0 : -1);
	mime_msgids_free(&ids);
	return rc;
}

static void
expect_ids(const char *v, const char *want)
{
	char	got[1024];

	(void)ids_of(sp(v), got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("\"%s\": \"%s\", want \"%s\"", v, got, want);
}

/* Where our answer differs from id.json's on purpose. */
static const struct mime_vectors_diff id_differences[] = {
	{ 6, "<1234@local.machine.example>", "obs-id-left/obs-id-right "
	    "(RFC 5322 §4.5.4) allow CFWS, which is not part of the id: it "
	    "is removed, as Dovecot removes it for THREAD" },
	{ 8, "", "no angle brackets: §3.6.4 msg-id is \"<\" id-left \"@\" "
	    "id-right \">\"; words between ids are an obsolete phrase and "
	    "skipped (the contract, and Dovecot's message_id_get_next)" },
	{ 9, "", "no angle brackets, as [8]" },
	{ 10, "", "no angle brackets and no '@', as [8]" },
};

static void
test_stalwart_id_vectors(void **state)
{
	const struct mime_vectors_diff	*d;
	json_t				*root, *vec, *e, *id;
	char				 got[1024], want[1024];
	size_t				 i, j, o, agree = 0, documented = 0;

	(void)state;
	root = mime_vectors_load("id.json");
	json_array_foreach(root, i, vec) {
		(void)ids_of(mime_vectors_field(json_object_get(vec,
		    "header")), got, sizeof(got));
		if ((d = mime_vectors_diff(id_differences,
		    sizeof(id_differences) / sizeof(id_differences[0]),
		    i)) != NULL) {
			if (strcmp(got, d->ours) != 0)
				fail_msg("id.json[%zu]: \"%s\", want \"%s\" (%s)",
				    i, got, d->ours, d->why);
			documented++;
			continue;
		}
		/* theirs are without the brackets */
		e = json_object_get(vec, "expected");
		o = 0;
		want[0] = '\0';
		json_array_foreach(e, j, id) {
			o += (size_t)snprintf(want + o, sizeof(want) - o,
			    "%s<%s>", j > 0 ? " " : "", json_string_value(id));
			assert_true(o < sizeof(want));
		}
		if (strcmp(got, want) != 0)
			fail_msg("id.json[%zu]: \"%s\", want \"%s\"", i, got,
			    want);
		agree++;
	}
	mime_vectors_tally("id.json", root, 11, agree, documented);
	json_decref(root);
}

static void
test_ids_among_phrases(void **state)
{
	(void)state;
	/* RFC 5322 §A.6.3-style In-Reply-To with an obsolete phrase */
	expect_ids("\"Your message of Mon, 1 Jul\" <a.1@x.example> (a "
	    "comment)\r\n <b@y.example>", "<a.1@x.example> <b@y.example>");
	expect_ids("Message from John Doe of 1 Jul <c@z>", "<c@z>");
	/* folded References */
	expect_ids("<1@a>\r\n\t<2@b>\r\n <3@c>", "<1@a> <2@b> <3@c>");
	/* no whitespace between ids */
	expect_ids("<1@a><2@b>", "<1@a> <2@b>");
	/* a quoted id-left (kept with its quotes), a literal id-right */
	expect_ids("<\"a b\"@c> <x@[10.0.0.1]>", "<\"a b\"@c> <x@[10.0.0.1]>");
	expect_ids("<\"a\\\"b\"@c>", "<\"a\\\"b\"@c>");
	/* CFWS inside is not part of the id (§4.5.4) */
	expect_ids("< a.b (c) @ (d(e)) example . org >",
	    "<a.b@example.org>");
	expect_ids("<\"a\r\n b\"@c>", "<\"a b\"@c>");
	/* '@' in a quoted id-left does not split it */
	expect_ids("<\"a@b\"@c>", "<\"a@b\"@c>");
}

static void
test_not_ids(void **state)
{
	char	got[64];

	(void)state;
	expect_ids("<>", "");
	expect_ids("<abc>", "");
	expect_ids("<@b> <a@>", "");
	expect_ids("<a@b", "");
	expect_ids("a@b", "");
	expect_ids("<a(@)b>", "");			/* '@' in a comment */
	expect_ids("<\"a@b\">", "");			/* and in quotes */
	expect_ids("<a(b>c)@d>", "");			/* '>' in a comment */
	/* a '<' inside starts again there */
	expect_ids("<a<b@c>", "<b@c>");
	expect_ids("<a \"b <c@d>", "<c@d>");
	assert_int_equal(ids_of(sp(""), got, sizeof(got)), -1);
	assert_int_equal(ids_of(sp("   (nothing) "), got, sizeof(got)), -1);
}

static void
test_spans_point_into_value_or_store(void **state)
{
	struct mime_msgids	ids;
	const char		*v = "<a@b> < c@d >";

	(void)state;
	memset(&ids, 0, sizeof(ids));
	assert_int_equal(mime_hdr_msgids(sp(v), &ids), 0);
	assert_int_equal(ids.n, 2);
	/* as written: into the value */
	assert_ptr_equal(ids.v[0].ptr, v);
	assert_int_equal(ids.v[0].len, 5);
	/* rewritten: into the store */
	assert_true(ids.v[1].ptr >= ids.store.data &&
	    ids.v[1].ptr + ids.v[1].len <= ids.store.data + ids.store.len);
	assert_memory_equal(ids.v[1].ptr, "<c@d>", 5);
	/* parsing again frees what was there */
	assert_int_equal(mime_hdr_msgids(sp("nothing"), &ids), -1);
	assert_int_equal(ids.n, 0);
	assert_null(ids.v);
	mime_msgids_free(&ids);
	mime_msgids_free(NULL);
}

static void
test_cap_and_hostile_values(void **state)
{
	struct mime_msgids	ids;
	struct buf		b;
	size_t			i;
	char			*p;

	(void)state;
	memset(&ids, 0, sizeof(ids));
	/* 1,500 ids, some with CFWS: the first MIME_MSGIDS_MAX are kept */
	buf_init(&b, 4u << 20);
	for (i = 0; i < 1500; i++)
		assert_int_equal(buf_printf(&b, i % 3 ? "<%zu@x> " :
		    "< %zu @ x > ", i), 0);
	assert_int_equal(mime_hdr_msgids(span_make(b.data, b.len), &ids), 0);
	assert_int_equal(ids.n, MIME_MSGIDS_MAX);
	assert_int_equal(ids.v[999].len, 7);
	assert_memory_equal(ids.v[999].ptr, "<999@x>", 7);
	assert_memory_equal(ids.v[0].ptr, "<0@x>", 5);

	/* a megabyte of '<', of "<(", of '"' inside one id: none, quickly */
	buf_reset(&b);
	for (i = 0; i < (1u << 20); i++)
		assert_int_equal(buf_append_char(&b, '<'), 0);
	assert_int_equal(mime_hdr_msgids(span_make(b.data, b.len), &ids), -1);
	for (i = 0; i < b.len; i++)
		b.data[i] = i % 2 ? '(' : '<';
	assert_int_equal(mime_hdr_msgids(span_make(b.data, b.len), &ids), -1);
	b.data[0] = '<';
	for (i = 1; i < b.len; i++)
		b.data[i] = i % 2 ? '"' : '(';
	assert_int_equal(mime_hdr_msgids(span_make(b.data, b.len), &ids), -1);
	/* one id of a megabyte with deep comments inside */
	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "<a"), 0);
	for (i = 0; i < 300000; i++)
		assert_int_equal(buf_append_char(&b, '('), 0);
	for (i = 0; i < 300000; i++)
		assert_int_equal(buf_append_char(&b, ')'), 0);
	assert_int_equal(buf_append_str(&b, "@b>"), 0);
	assert_int_equal(mime_hdr_msgids(span_make(b.data, b.len), &ids), 0);
	assert_int_equal(ids.n, 1);
	assert_int_equal(ids.v[0].len, 5);
	assert_memory_equal(ids.v[0].ptr, "<a@b>", 5);
	mime_msgids_free(&ids);
	buf_free(&b);

	/* nothing past the span is read: a heap copy of exactly its size */
	p = malloc(5);
	assert_non_null(p);
	memcpy(p, "<a@b>", 5);
	assert_int_equal(mime_hdr_msgids(span_make(p, 4), &ids), -1);
	assert_int_equal(mime_hdr_msgids(span_make(p, 5), &ids), 0);
	mime_msgids_free(&ids);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalwart_id_vectors),
		cmocka_unit_test(test_ids_among_phrases),
		cmocka_unit_test(test_not_ids),
		cmocka_unit_test(test_spans_point_into_value_or_store),
		cmocka_unit_test(test_cap_and_hostile_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
