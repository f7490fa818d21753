/*
 * Unit tests for mime.c, the structure parser: offsets of header, body
 * and end for each part, bare-LF and line counts, the field index,
 * defaults, nesting, Dovecot's way with malformed structure (outer
 * boundaries ending inner parts, a boundary never seen, a boundary in a
 * header, trailing junk after a delimiter), the caps with their flags,
 * the same tree from CRLF and LF input, and mime_text().
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
#include "mime.h"

static size_t
off_of(const char *msg, const char *needle)
{
	const char	*p = strstr(msg, needle);

	assert_non_null(p);
	return (size_t)(p - msg);
}

static void
assert_span_str(struct span s, const char *want)
{
	if (s.len != strlen(want) || memcmp(s.ptr, want, s.len) != 0)
		fail_msg("'%.*s' != '%s'", (int)s.len, s.ptr, want);
}

/*
 * The tree in one line: "type/subtype[children]" with each part's body
 * in CRLF octets and lines, "{oct,lines}".
 */
/* NOLINTBEGIN(misc-no-recursion): MIME_DEPTH_MAX deep at most */
static void
tree(const struct mime_msg *m, uint32_t i, struct buf *out)
{
	const struct mime_part	*p = &m->parts[i];
	uint32_t		 c;

	assert_int_equal(buf_printf(out, "%.*s/%.*s{%llu,%llu}",
	    (int)p->type.len, p->type.ptr, (int)p->subtype.len,
	    p->subtype.ptr, (unsigned long long)(p->end - p->body_start +
	    p->body_bare_lf), (unsigned long long)p->body_lines), 0);
	if (p->first_child == MIME_NONE)
		return;
	assert_int_equal(buf_append_char(out, '['), 0);
	for (c = p->first_child; c != MIME_NONE; c = m->parts[c].next) {
		tree(m, c, out);
		if (m->parts[c].next != MIME_NONE)
			assert_int_equal(buf_append_char(out, ' '), 0);
	}
	assert_int_equal(buf_append_char(out, ']'), 0);
}
/* NOLINTEND(misc-no-recursion) */

static void
assert_tree(const char *msg, const char *want, uint32_t flags)
{
	struct mime_msg	m;
	struct buf	out;

	memset(&m, 0, sizeof(m));
	buf_init(&out, 1 << 16);
	mime_parse(&m, msg, strlen(msg));
	tree(&m, 0, &out);
	assert_string_equal(out.data, want);
	assert_int_equal(m.flags, flags);
	buf_free(&out);
	mime_msg_free(&m);
}

/* LF to CRLF (the whole message). */
static char *
crlf(const char *lf)
{
	size_t	n = strlen(lf), i, j = 0;
	char	*out = malloc(2 * n + 1);

	assert_non_null(out);
	for (i = 0; i < n; i++) {
		if (lf[i] == '\n')
			out[j++] = '\r';
		out[j++] = lf[i];
	}
	out[j] = '\0';
	return out;
}

static const char	msg_multi[] =
    "From: a@example.org\n"
    "Subject: folded\n"
    " twice\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed;\n"
    " boundary=\"=_b1\"\n"
    "\n"
    "preamble\n"
    "--=_b1\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "one\n"
    "two\n"
    "--=_b1\n"
    "\n"
    "default\n"
    "--=_b1--\n"
    "epilogue\n";

static void
test_simple_offsets_lf(void **state)
{
	static const char	 msg[] = "Subject: hi\nTo: b@x\n\nline1\nline2";
	struct mime_msg		 m;
	const struct mime_field	*f;

	(void)state;
	memset(&m, 0, sizeof(m));
	mime_parse(&m, msg, sizeof(msg) - 1);
	assert_int_equal(m.nparts, 1);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.parts[0].hdr_start, 0);
	assert_int_equal(m.parts[0].body_start, off_of(msg, "line1"));
	assert_int_equal(m.parts[0].end, sizeof(msg) - 1);
	/* "Subject: hi\n", "To: b@x\n", "\n": three bare LFs */
	assert_int_equal(m.parts[0].hdr_bare_lf, 3);
	assert_int_equal(m.parts[0].body_bare_lf, 1);
	/* IMAP counts line ends: the last line has none */
	assert_int_equal(m.parts[0].body_lines, 1);
	assert_true(m.parts[0].ctype_default);
	assert_span_str(m.parts[0].type, "text");
	assert_span_str(m.parts[0].subtype, "plain");
	assert_int_equal(m.nfields, 2);
	f = mime_part_field(&m, 0, "subject", NULL);
	assert_non_null(f);
	assert_span_str(mime_field_name(&m, f), "Subject");
	assert_span_str(mime_field_value(&m, f), " hi");
	assert_int_equal(f->end, off_of(msg, "To:"));
	assert_int_equal(f->bare_lf, 1);
	assert_null(mime_part_field(&m, 0, "Subject", f));
	assert_null(mime_part_field(&m, 0, "Cc", NULL));
	assert_null(mime_strerror(&m));
	mime_msg_free(&m);
}

static void
test_multipart_offsets(void **state)
{
	struct mime_msg		 m;
	const struct mime_part	*p;
	struct buf		 v;

	(void)state;
	memset(&m, 0, sizeof(m));
	mime_parse(&m, msg_multi, sizeof(msg_multi) - 1);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.nparts, 3);
	p = &m.parts[0];
	assert_int_equal(p->kind, MIME_KIND_MULTIPART);
	assert_span_str(p->boundary, "=_b1");
	assert_int_equal(p->nchildren, 2);
	assert_int_equal(p->body_start, off_of(msg_multi, "preamble"));
	assert_int_equal(p->end, sizeof(msg_multi) - 1);
	p = &m.parts[1];
	assert_int_equal(p->parent, 0);
	assert_int_equal(p->depth, 1);
	assert_int_equal(p->hdr_start, off_of(msg_multi, "Content-Type: text"));
	assert_int_equal(p->body_start, off_of(msg_multi, "one"));
	/* the LF before "--=_b1" belongs to the delimiter (RFC 2046 §5.1.1) */
	assert_span_str(mime_part_body(&m, 1), "one\ntwo");
	assert_int_equal(p->body_lines, 1);
	assert_int_equal(p->nfields, 1);
	assert_int_equal(p->next, 2);
	assert_span_str(mime_part_header(&m, 2), "\n");
	assert_span_str(mime_part_body(&m, 2), "default");
	assert_true(m.parts[2].ctype_default);
	assert_int_equal(m.parts[2].next, MIME_NONE);
	/* the folded Subject, unfolded */
	buf_init(&v, 1024);
	assert_int_equal(mime_unfold(mime_field_value(&m,
	    mime_part_field(&m, 0, "Subject", NULL)), &v), 0);
	assert_string_equal(v.data, "folded twice");
	buf_free(&v);
	mime_msg_free(&m);
}

static void
test_crlf_and_lf_same_tree(void **state)
{
	struct mime_msg	a, b;
	struct buf	ta, tb;
	char		*c = crlf(msg_multi);
	uint32_t	i;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	buf_init(&ta, 4096);
	buf_init(&tb, 4096);
	mime_parse(&a, msg_multi, strlen(msg_multi));
	mime_parse(&b, c, strlen(c));
	tree(&a, 0, &ta);
	tree(&b, 0, &tb);
	assert_string_equal(ta.data, tb.data);
	assert_string_equal(ta.data, "multipart/mixed{113,11}[text/plain{8,1} "
	    "text/plain{7,0}]");
	assert_int_equal(a.nparts, b.nparts);
	for (i = 0; i < a.nparts; i++) {
		/* in CRLF form every region has the same size */
		assert_int_equal(a.parts[i].body_start - a.parts[i].hdr_start +
		    a.parts[i].hdr_bare_lf, b.parts[i].body_start -
		    b.parts[i].hdr_start);
		assert_int_equal(b.parts[i].hdr_bare_lf, 0);
		assert_int_equal(b.parts[i].body_bare_lf, 0);
		assert_int_equal(a.parts[i].nfields, b.parts[i].nfields);
	}
	assert_int_equal(a.flags, b.flags);
	buf_free(&ta);
	buf_free(&tb);
	mime_msg_free(&a);
	mime_msg_free(&b);
	free(c);
}

static void
test_outer_boundary_ends_inner(void **state)
{
	(void)state;
	/* the inner multipart never closes: the outer delimiter ends it */
	assert_tree("Content-Type: multipart/mixed; boundary=out\n\n"
	    "--out\n"
	    "Content-Type: multipart/alternative; boundary=in\n\n"
	    "--in\n\nA\n"
	    "--out\n\nB\n"
	    "--out--\n",
	    "multipart/mixed{91,10}[multipart/alternative{9,2}[text/plain{1,0}] "
	    "text/plain{1,0}]", MIME_F_UNTERMINATED);
}

static void
test_boundary_never_seen(void **state)
{
	(void)state;
	/* no delimiter at all: the whole body is the preamble, no parts */
	assert_tree("Content-Type: multipart/mixed; boundary=zz\n\n"
	    "text\n--not it\n",
	    "multipart/mixed{16,2}",
	    MIME_F_UNTERMINATED | MIME_F_BOUNDARY_UNSEEN);
	assert_tree("Content-Type: multipart/mixed\n\nbody\n",
	    "multipart/mixed{6,1}", MIME_F_NO_BOUNDARY);
}

static void
test_delimiter_with_trailing_junk(void **state)
{
	(void)state;
	/* RFC 2046 §5.1.1 allows trailing whitespace; Dovecot any suffix */
	assert_tree("Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b  \t\n\nx\n--b-- trailing\nepilogue\n",
	    "multipart/mixed{39,5}[text/plain{1,0}]", 0);
	/*
	 * the longest prefix wins: "--bb" is the inner one's; the line end
	 * of "--bb--" stays in the inner multipart (Dovecot)
	 */
	assert_tree("Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: multipart/mixed; boundary=bb\n\n"
	    "--bb\n\nin\n--bb--\n--b--\n",
	    "multipart/mixed{78,8}[multipart/mixed{20,4}[text/plain{2,0}]]",
	    0);
}

static void
test_unterminated_last_part(void **state)
{
	(void)state;
	assert_tree("Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\n\nno close\n",
	    "multipart/mixed{17,3}[text/plain{10,1}]", MIME_F_UNTERMINATED);
}

static void
test_message_rfc822_recursed(void **state)
{
	static const char	msg[] =
	    "Content-Type: message/rfc822\n\n"
	    "Subject: inner\n"
	    "Content-Type: multipart/mixed; boundary=q\n\n"
	    "--q\n\nhello\n--q--\n";
	struct mime_msg		m;

	(void)state;
	memset(&m, 0, sizeof(m));
	mime_parse(&m, msg, sizeof(msg) - 1);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.nparts, 3);
	assert_int_equal(m.parts[0].kind, MIME_KIND_MESSAGE);
	assert_int_equal(m.parts[0].nchildren, 1);
	assert_int_equal(m.parts[1].hdr_start, m.parts[0].body_start);
	assert_int_equal(m.parts[1].end, m.parts[0].end);
	assert_int_equal(m.parts[1].kind, MIME_KIND_MULTIPART);
	assert_non_null(mime_part_field(&m, 1, "subject", NULL));
	assert_null(mime_part_field(&m, 0, "subject", NULL));
	assert_int_equal(m.parts[2].depth, 2);
	assert_span_str(mime_part_body(&m, 2), "hello");
	mime_msg_free(&m);
}

static void
test_digest_default_is_message(void **state)
{
	(void)state;
	assert_tree("Content-Type: multipart/digest; boundary=d\n\n"
	    "--d\n\nSubject: m1\n\nbody1\n"
	    "--d\nContent-Type: text/plain\n\nnot a message\n"
	    "--d--\n",
	    "multipart/digest{84,10}[message/rfc822{20,2}[text/plain{5,0}] "
	    "text/plain{13,0}]", 0);
}

static void
test_boundary_inside_header(void **state)
{
	static const char	msg[] =
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nX-A: 1\n--b\nX-B: 2\n\nbody\n--b--\n";
	struct mime_msg		m;

	(void)state;
	memset(&m, 0, sizeof(m));
	mime_parse(&m, msg, sizeof(msg) - 1);
	assert_int_equal(m.nparts, 3);
	/* the header ends where the delimiter starts, its LF excluded */
	assert_span_str(mime_part_header(&m, 1), "X-A: 1");
	assert_int_equal(m.parts[1].end, m.parts[1].body_start);
	assert_int_equal(m.parts[1].nfields, 1);
	assert_span_str(mime_field_value(&m, &m.fields[m.parts[1].field_first]),
	    " 1");
	assert_span_str(mime_part_body(&m, 2), "body");
	assert_int_equal(m.flags, 0);
	mime_msg_free(&m);
}

static void
test_malformed_headers_flagged(void **state)
{
	static const char	msg[] =
	    " leading fold\nno colon here\nX-\xe9: v\xff\nA: \0\n: empty\n";
	struct mime_msg		m;

	(void)state;
	memset(&m, 0, sizeof(m));
	mime_parse(&m, msg, sizeof(msg) - 1);
	assert_int_equal(m.nparts, 1);
	assert_int_equal(m.flags, MIME_F_HDR_BAD | MIME_F_HDR_8BIT |
	    MIME_F_HDR_NUL | MIME_F_HDR_UNTERM);
	/* only "A:" is a field: names are printable ASCII */
	assert_int_equal(m.nfields, 1);
	assert_int_equal(m.parts[0].body_start, sizeof(msg) - 1);
	assert_int_equal(m.parts[0].end, sizeof(msg) - 1);
	mime_msg_free(&m);
	/* an empty message is one empty text/plain part, nothing flagged */
	memset(&m, 0, sizeof(m));
	mime_parse(&m, "", 0);
	assert_int_equal(m.nparts, 1);
	assert_int_equal(m.flags, 0);
	mime_msg_free(&m);
}

static void
test_parts_capped_linear(void **state)
{
	static const char	head[] =
	    "Content-Type: multipart/mixed; boundary=x\n\n";
	struct mime_msg		m;
	struct buf		b;
	size_t			i;

	(void)state;
	buf_init(&b, 1 << 24);
	assert_int_equal(buf_append_str(&b, head), 0);
	/* 100,000 empty parts: every line a delimiter */
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_append_str(&b, "--x\n"), 0);
	assert_int_equal(buf_append_str(&b, "--x--\n"), 0);
	memset(&m, 0, sizeof(m));
	mime_parse(&m, b.data, b.len);
	assert_int_equal(m.nparts, MIME_PARTS_MAX);
	assert_true(m.flags & MIME_F_PARTS);
	assert_non_null(mime_strerror(&m));
	/* past the cap the rest is the body of the last part reached */
	assert_int_equal(m.parts[MIME_PARTS_MAX - 1].end, b.len);
	assert_int_equal(m.parts[0].nchildren, MIME_PARTS_MAX - 1);
	mime_msg_free(&m);
	buf_free(&b);
}

static void
test_depth_capped(void **state)
{
	struct mime_msg	m;
	struct buf	b;
	int		i;

	(void)state;
	buf_init(&b, 1 << 20);
	/* same-length names: none is a prefix of another */
	for (i = 0; i < MIME_DEPTH_MAX + 50; i++)
		assert_int_equal(buf_printf(&b, "Content-Type: multipart/mixed;"
		    " boundary=d%03d\n\n--d%03d\n", i, i), 0);
	assert_int_equal(buf_append_str(&b, "\ninnermost\n"), 0);
	memset(&m, 0, sizeof(m));
	mime_parse(&m, b.data, b.len);
	assert_true(m.flags & MIME_F_DEPTH);
	assert_int_equal(m.nparts, MIME_DEPTH_MAX + 1);
	assert_int_equal(m.parts[m.nparts - 1].depth, MIME_DEPTH_MAX);
	/* the deepest part is a leaf holding the rest */
	assert_int_equal(m.parts[m.nparts - 1].kind, MIME_KIND_LEAF);
	assert_int_equal(m.parts[m.nparts - 1].end, b.len);
	assert_string_equal(mime_strerror(&m), "MIME parts nested too deeply");
	mime_msg_free(&m);
	/* and message/rfc822 the same */
	buf_reset(&b);
	for (i = 0; i < MIME_DEPTH_MAX + 50; i++)
		assert_int_equal(buf_append_str(&b,
		    "Content-Type: message/rfc822\n\n"), 0);
	mime_parse(&m, b.data, b.len);
	assert_true(m.flags & MIME_F_DEPTH);
	assert_int_equal(m.nparts, MIME_DEPTH_MAX + 1);
	mime_msg_free(&m);
	buf_free(&b);
}

static void
test_fields_capped(void **state)
{
	struct mime_msg	m;
	struct buf	b;
	int		i;

	(void)state;
	buf_init(&b, 1 << 24);
	for (i = 0; i < MIME_FIELDS_MAX + 10; i++)
		assert_int_equal(buf_append_str(&b, "X: y\n"), 0);
	assert_int_equal(buf_append_str(&b, "\nbody\n"), 0);
	memset(&m, 0, sizeof(m));
	mime_parse(&m, b.data, b.len);
	assert_int_equal(m.nfields, MIME_FIELDS_MAX);
	assert_true(m.flags & MIME_F_FIELDS);
	/* the header still ends at its blank line */
	assert_span_str(mime_part_body(&m, 0), "body\n");
	mime_msg_free(&m);
	buf_free(&b);
}

static void
test_large_message_linear(void **state)
{
	static const char	line[] = "0123456789012345678901234567890123"
	    "456789012345678901234567890123456789012\r\n";
	struct mime_msg		m;
	struct buf		b;
	size_t			n = 0;

	(void)state;
	/*
	 * 50 MB in one part of a multipart, every other line starting
	 * with "--" and most of the boundary, to be tested and refused
	 */
	buf_init(&b, 64 << 20);
	assert_int_equal(buf_append_str(&b, "Content-Type: multipart/mixed; "
	    "boundary=\"0123456789x\"\r\n\r\n--0123456789x\r\n\r\n"),
	    0);
	while (b.len < 50u << 20) {
		assert_int_equal(buf_append_str(&b, n % 2 ? "--" : ""), 0);
		assert_int_equal(buf_append_str(&b, line), 0);
		n++;
	}
	assert_int_equal(buf_append_str(&b, "--0123456789x--\r\n"), 0);
	memset(&m, 0, sizeof(m));
	mime_parse(&m, b.data, b.len);
	assert_int_equal(m.nparts, 2);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.parts[1].body_lines, n - 1);
	mime_msg_free(&m);
	buf_free(&b);
}

static void
test_reparse_frees(void **state)
{
	struct mime_msg	m;

	(void)state;
	memset(&m, 0, sizeof(m));
	mime_parse(&m, msg_multi, sizeof(msg_multi) - 1);
	mime_parse(&m, "a: b\n\nc", 7);
	assert_int_equal(m.nparts, 1);
	assert_int_equal(m.nfields, 1);
	mime_msg_free(&m);
	mime_msg_free(&m);
}

static void
test_text_of_every_text_part(void **state)
{
	static const char	msg[] =
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	    "--b\r\n"
	    "Content-Type: text/plain; charset=iso-8859-1\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "caf=E9 au=\r\n lait\r\n"
	    "--b\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n"
	    /* <p>Hello <a href="http://x.example/">world</a></p> */
	    "PHA+SGVsbG8gPGEgaHJlZj0iaHR0cDovL3guZXhhbXBsZS8iPndvcmxkPC9hPjwvcD4=\r\n"
	    "--b\r\n"
	    "Content-Type: image/png\r\n"
	    "Content-Disposition: attachment; filename=x.png\r\n\r\n"
	    "SECRETPNGBYTES\r\n"
	    "--b\r\n\r\n"
	    "undeclared \xe9t\xe9\r\n"
	    "--b--\r\n";
	struct mime_msg		m;
	struct buf		text, links;

	(void)state;
	memset(&m, 0, sizeof(m));
	buf_init(&text, 1 << 16);
	buf_init(&links, 1 << 16);
	mime_parse(&m, msg, sizeof(msg) - 1);
	assert_int_equal(m.nparts, 5);
	assert_int_equal(mime_text(&m, &text, &links), 0);
	assert_non_null(strstr(text.data, "caf\xc3\xa9 au lait"));
	assert_non_null(strstr(text.data, "Hello world"));
	assert_null(strstr(text.data, "<a"));
	assert_null(strstr(text.data, "SECRETPNG"));
	/* 8-bit text with no charset: not UTF-8, so Latin-1 */
	assert_non_null(strstr(text.data, "undeclared \xc3\xa9t\xc3\xa9"));
	/* in order, a blank line between parts */
	assert_true(strstr(text.data, "lait") < strstr(text.data, "Hello"));
	assert_non_null(strstr(text.data, "lait\n\nHello"));
	assert_non_null(strstr(links.data, "http://x.example/"));
	/* the ceiling is the caller's */
	buf_free(&text);
	buf_init(&text, 8);
	assert_int_equal(mime_text(&m, &text, NULL), -1);
	buf_free(&text);
	buf_free(&links);
	mime_msg_free(&m);
}

/*
 * mime_text_max() cuts each part's text at white space before the
 * bound, else on a character boundary; later parts and the links of
 * HTML past the cut are still there; mime_text() cuts nothing.
 */
static void
test_text_part_max(void **state)
{
	struct mime_msg		 m;
	struct buf		 msg, text, links;
	size_t			 i;

	(void)state;
	buf_init(&msg, 1 << 20);
	(void)buf_append_str(&msg, "Content-Type: multipart/mixed; "
	    "boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\n\r\n");
	for (i = 0; i < 30; i++)
		(void)buf_append_str(&msg, "abcd ");	/* 150 bytes */
	(void)buf_append_str(&msg, "\r\n--b\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\n\r\n");
	for (i = 0; i < 100; i++)			/* é, no spaces */
		(void)buf_append_str(&msg, "\xc3\xa9");
	(void)buf_append_str(&msg, "\r\n--b\r\nContent-Type: text/html"
	    "\r\n\r\n<p>first words here</p>"
	    "<a href=\"http://late.example/\">late</a>\r\n--b--\r\n");
	memset(&m, 0, sizeof(m));
	mime_parse(&m, msg.data, msg.len);
	buf_init(&text, 1 << 16);
	buf_init(&links, 1 << 16);
	assert_int_equal(mime_text_max(&m, &text, &links, 13), 0);
	/* "abcd abcd abc" cut back to its last space; "é" x 6 and a half */
	assert_string_equal(text.data, "abcd abcd\n\n\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\n\nfirst words");
	assert_non_null(strstr(links.data, "http://late.example/"));
	buf_reset(&text);
	assert_int_equal(mime_text(&m, &text, NULL), 0);
	assert_true(text.len > 300);
	buf_free(&text);
	buf_free(&links);
	buf_free(&msg);
	mime_msg_free(&m);
}

/*
 * Cases checked against Dovecot 2.3's BODYSTRUCTURE (a private
 * dovecot-imapd over a Maildir): the same parts, sizes and lines.
 */
static void
test_as_dovecot_serves_them(void **state)
{
	(void)state;
	/* a message/rfc822 header cut by a delimiter: empty, with a child */
	assert_tree("Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: message/rfc822\n--b\n\nafter\n--b--\n",
	    "multipart/mixed{56,6}[message/rfc822{0,0}[text/plain{0,0}] "
	    "text/plain{5,0}]", 0);
	/*
	 * an encapsulated message's header cut by a delimiter: the line
	 * end before it is the message/rfc822 part's (malformed/022)
	 */
	assert_tree("Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: message/rfc822\n\nnot a header\n--b--\n",
	    "multipart/mixed{58,5}[message/rfc822{14,1}[text/plain{0,0}]]",
	    MIME_F_HDR_BAD);
	/* the same one level deeper: every part up to the delimiter's */
	assert_tree("Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: multipart/mixed; boundary=c\n\n"
	    "--c\nContent-Type: message/rfc822\n\nnot a header\n--b--\n",
	    "multipart/mixed{108,8}[multipart/mixed{51,4}"
	    "[message/rfc822{14,1}[text/plain{0,0}]]]",
	    MIME_F_UNTERMINATED | MIME_F_HDR_BAD);
	/* boundary="" is a boundary: every "--" line is a delimiter */
	assert_tree("Content-Type: multipart/mixed; boundary=\"\"\n\n"
	    "pre\n--\n\nq\n----\n",
	    "multipart/mixed{20,5}[text/plain{1,0}]", 0);
	/* quoted-pairs and RFC 2231 sections in a boundary */
	assert_tree("Content-Type: multipart/mixed; boundary=\"a\\\"b\"\n\n"
	    "--a\"b\n\nq\n--a\"b--\n",
	    "multipart/mixed{21,4}[text/plain{1,0}]", 0);
	assert_tree("Content-Type: multipart/mixed; boundary*0=ab; "
	    "boundary*1=cd\n\n--abcd\n\nq\n--abcd--\n",
	    "multipart/mixed{23,4}[text/plain{1,0}]", 0);
}

/*
 * A boundary longer than MIME_BOUNDARY_MAX is cut there (Dovecot): long
 * boundaries work, and those that share their first MIME_BOUNDARY_MAX
 * characters are one boundary, the innermost's.
 */
static void
test_long_boundary_cut(void **state)
{
	struct buf	msg, b;
	size_t		i;

	(void)state;
	buf_init(&b, 1 << 16);
	buf_init(&msg, 1 << 16);
	for (i = 0; i < 700; i++)
		assert_int_equal(buf_append_char(&b, (char)('a' + i % 26)), 0);
	/* 700 characters: "--b--" is "--" the first 80, then junk */
	assert_int_equal(buf_printf(&msg, "Content-Type: multipart/mixed; "
	    "boundary=\"%s\"\n\n--%s\n\nA\n--%s\n\nB\n--%s--\n", b.data, b.data,
	    b.data, b.data), 0);
	assert_tree(msg.data, "multipart/mixed{2124,7}[text/plain{1,0} "
	    "text/plain{1,0} text/plain{0,0}]", MIME_F_UNTERMINATED);
	/* 82, 81 and 80 characters sharing 80: the innermost takes all */
	buf_reset(&msg);
	assert_int_equal(buf_printf(&msg,
	    "Content-Type: multipart/mixed; boundary=\"%.82s\"\n\n--%.82s\n"
	    "Content-Type: multipart/mixed; boundary=\"%.81s\"\n\n--%.81s\n"
	    "Content-Type: multipart/mixed; boundary=\"%.80s\"\n\n--%.80s\n"
	    "\n1\n--%.82s\n\n22\n--%.81s\n\n333\n--%.80s--\n",
	    b.data, b.data, b.data, b.data, b.data, b.data, b.data, b.data,
	    b.data), 0);
	assert_tree(msg.data, "multipart/mixed{783,16}[multipart/mixed{570,13}"
	    "[multipart/mixed{359,10}[text/plain{1,0} text/plain{2,0} "
	    "text/plain{3,0}]]]", MIME_F_UNTERMINATED);
	buf_free(&msg);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_offsets_lf),
		cmocka_unit_test(test_multipart_offsets),
		cmocka_unit_test(test_crlf_and_lf_same_tree),
		cmocka_unit_test(test_outer_boundary_ends_inner),
		cmocka_unit_test(test_boundary_never_seen),
		cmocka_unit_test(test_delimiter_with_trailing_junk),
		cmocka_unit_test(test_unterminated_last_part),
		cmocka_unit_test(test_message_rfc822_recursed),
		cmocka_unit_test(test_digest_default_is_message),
		cmocka_unit_test(test_boundary_inside_header),
		cmocka_unit_test(test_malformed_headers_flagged),
		cmocka_unit_test(test_parts_capped_linear),
		cmocka_unit_test(test_depth_capped),
		cmocka_unit_test(test_fields_capped),
		cmocka_unit_test(test_large_message_linear),
		cmocka_unit_test(test_reparse_frees),
		cmocka_unit_test(test_as_dovecot_serves_them),
		cmocka_unit_test(test_long_boundary_cut),
		cmocka_unit_test(test_text_of_every_text_part),
		cmocka_unit_test(test_text_part_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
