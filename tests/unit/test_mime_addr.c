/*
 * Unit tests for mime_addr.c, RFC 5322 address lists: Stalwart's
 * address.json, every vector, in that library's data model (display
 * names decoded with mime_decode_words(), as it decodes them); inputs
 * checked against Dovecot 2.3.19's ENVELOPE (a private imap process over
 * a Maildir, FETCH ENVELOPE), where we agree and where we differ on
 * purpose; the obsolete syntax of §4.4; the MIME_ADDRS_MAX cap; hostile
 * values (deep and unbalanced comments, quotes and brackets, a megabyte)
 * within a time bound.
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
#include "mime_decode.h"
#include "mime_hdr.h"
#include "mime_vectors.h"
#include "util.h"

static struct span
sp(const char *s)
{
	return span_make(s, strlen(s));
}

/*
 * A list as the tests write it: "M(name|route|local|domain)" for a
 * mailbox, "G(name)" for a group's start, "E" for its end, joined by
 * one space.
 */
static void
dump(const struct mime_addrlist *l, struct buf *out)
{
	const struct mime_addr	*a;
	size_t			 i;

	buf_reset(out);
	for (i = 0; i < l->n; i++) {
		a = &l->v[i];
		if (i > 0)
			assert_int_equal(buf_append_char(out, ' '), 0);
		if (a->kind == MIME_ADDR_GROUP_END)
			assert_int_equal(buf_append_str(out, "E"), 0);
		else if (a->kind == MIME_ADDR_GROUP)
			assert_int_equal(buf_printf(out, "G(%.*s)",
			    (int)a->name.len, a->name.ptr), 0);
		else
			assert_int_equal(buf_printf(out, "M(%.*s|%.*s|%.*s|%.*s)",
			    (int)a->name.len, a->name.ptr, (int)a->route.len,
			    a->route.ptr, (int)a->local.len, a->local.ptr,
			    (int)a->domain.len, a->domain.ptr), 0);
	}
	if (out->data == NULL)
		assert_int_equal(buf_append_str(out, ""), 0);
}

static void
expect_addrs(const char *v, const char *want)
{
	struct mime_addrlist	l;
	struct buf		out;
	int			rc;

	memset(&l, 0, sizeof(l));
	buf_init(&out, 1 << 16);
	rc = mime_hdr_addrs(sp(v), &l);
	dump(&l, &out);
	if (strcmp(out.data, want) != 0)
		fail_msg("\"%s\":\n   got  %s\n   want %s", v, out.data, want);
	assert_int_equal(rc, l.n > 0 ? 0 : -1);
	assert_false(l.capped);
	mime_addrlist_free(&l);
	buf_free(&out);
}

/* A display name decoded, as the library of address.json gives it. */
static json_t *
their_name(struct span name)
{
	struct buf	dec;
	json_t		*j;

	if (name.len == 0)
		return json_null();
	buf_init(&dec, 1 << 16);
	assert_int_equal(mime_decode_words(name, &dec), 0);
	j = json_stringn(dec.data, dec.len);
	buf_free(&dec);
	return j;
}

/* route ":" local "@" domain, the parts there are; null when none */
static json_t *
their_address(const struct mime_addr *a)
{
	struct buf	b;
	json_t		*j;

	if (a->local.len == 0 && a->domain.len == 0)
		return json_null();
	buf_init(&b, 1 << 16);
	if (a->route.len > 0)
		assert_int_equal(buf_printf(&b, "%.*s:", (int)a->route.len,
		    a->route.ptr), 0);
	assert_int_equal(buf_append_span(&b, a->local), 0);
	if (a->domain.len > 0)
		assert_int_equal(buf_printf(&b, "@%.*s", (int)a->domain.len,
		    a->domain.ptr), 0);
	j = json_stringn(b.data, b.len);
	buf_free(&b);
	return j;
}

/*
 * Our list in that library's model: {"List": [{name, address}...]}
 * without groups; with them {"Group": [{name, addresses}...]}, where
 * mailboxes outside a group gather in groups with a null name.
 */
static json_t *
their_model(const struct mime_addrlist *l)
{
	json_t	*list, *groups, *cur = NULL, *g;
	size_t	 i;
	bool	 any_group = false;

	for (i = 0; i < l->n; i++)
		any_group |= l->v[i].kind == MIME_ADDR_GROUP;
	list = json_array();
	groups = json_array();
	for (i = 0; i < l->n; i++) {
		switch (l->v[i].kind) {
		case MIME_ADDR_GROUP:
			g = json_pack("{s:o,s:[]}", "name",
			    their_name(l->v[i].name), "addresses");
			json_array_append_new(groups, g);
			cur = json_object_get(g, "addresses");
			break;
		case MIME_ADDR_GROUP_END:
			cur = NULL;
			break;
		case MIME_ADDR_MAILBOX:
			if (any_group && cur == NULL) {
				g = json_pack("{s:n,s:[]}", "name",
				    "addresses");
				json_array_append_new(groups, g);
				cur = json_object_get(g, "addresses");
			}
			json_array_append_new(any_group ? cur : list,
			    json_pack("{s:o,s:o}", "name",
			    their_name(l->v[i].name), "address",
			    their_address(&l->v[i])));
			break;
		}
	}
	if (any_group) {
		json_decref(list);
		return json_pack("{s:o}", "Group", groups);
	}
	json_decref(groups);
	return json_pack("{s:o}", "List", list);
}

/*
 * Where our answer differs from address.json's on purpose.  Most are
 * one difference of model: that library appends comments to the
 * display name, while RFC 5322 §3.2.2 comments are CFWS, not part of
 * the name, and Dovecot's ENVELOPE (our reference, the contract) drops
 * them; a lone comment names only an addr-spec.
 */
static const struct mime_vectors_diff addr_differences[] = {
	{ 8, "M(Pete||pete|silly.test)", "comments are not the name" },
	{ 9, "M(Pete chap)||pete|silly.test)", "after unfolding (§2.2.3) "
	    "\"\\\\\\n )\" is the quoted-pair \"\\\\ \" then ')' closing the "
	    "comment; \"chap)\" is then part of the phrase (Dovecot loses "
	    "the address here)" },
	{ 10, "G(A Group) M(Chris Jones||c|public.example) "
	    "M(||joe|example.org) M(John||jdoe|one.test) E",
	    "comments are not names; \"(the end of the group)\" after ';' is "
	    "CFWS of §3.4 group, not a mailbox" },
	{ 11, "G(Hidden recipients) E", "\"(nobody(that I know))\" is the "
	    "CFWS of an empty group (§3.4), not a member" },
	{ 13, "M(Mary Smith|@node.test|mary|example.net) "
	    "M(||jdoe|test.example)", "the CFWS of obs-domain (§4.4) is not "
	    "part of the domain" },
	{ 14, "M(John Doe||jdoe|machine.example)", "a comment inside the "
	    "address is not the name; obs-domain's CFWS goes (§4.4)" },
	{ 22, "M(Nathaniel Borenstein||nsb|thumper.bellcore.com)",
	    "the comment after the address is not the name" },
	{ 33, "M(James Smythe||james|example.com) G(Friends) "
	    "M(||jane|example.com) M(=?UTF-8?Q?John_Sm=C3=AEth?=||john|"
	    "example.com) E", "display names have whitespace runs made one "
	    "space and trimmed, as Dovecot shows them" },
	{ 37, "M(||http|)", "a URL in angle brackets (RFC 2369 List-*) is "
	    "not an address: as From: Dovecot reads its scheme as the local "
	    "part (and SYNTAX_ERROR as the domain); the comment after an "
	    "angle address is no name" },
	{ 38, "M(||mailto|)", "a URL, as [37]" },
	{ 39, "M(||mailto|)", "a URL, as [37]" },
	{ 40, "M(||mailto|)", "a URL, as [37]; a comment before it is no "
	    "name either" },
	{ 41, "M(||http|) M(||mailto|)", "URLs, as [37]" },
	{ 43, "M(||ftp|) M(||mailto|)", "URLs, as [37]" },
	{ 44, "M(||http|) M(||mailto|)", "URLs, as [37]" },
	{ 45, "M(||mailto|)", "a URL, as [40]" },
	{ 46, "M(||http|) M(||mailto|)", "URLs, as [37]" },
	{ 47, "M(||mailto|)", "a URL, as [37]" },
	{ 55, "M(||a|b.com)", "words after an angle address are not its "
	    "display name (§3.4 name-addr puts it before); Dovecot drops "
	    "them too" },
	{ 56, "M(Name =?utf-8?q?Doe?=||a|b.com)", "the comment is not part "
	    "of the name" },
};

static void
test_stalwart_address_vectors(void **state)
{
	const struct mime_vectors_diff	*d;
	struct mime_addrlist		 l;
	struct buf			 out;
	json_t				*root, *vec, *ours;
	char				*a, *b;
	size_t				 i, agree = 0, documented = 0;

	(void)state;
	memset(&l, 0, sizeof(l));
	buf_init(&out, 1 << 16);
	root = mime_vectors_load("address.json");
	json_array_foreach(root, i, vec) {
		assert_int_equal(mime_hdr_addrs(mime_vectors_field(
		    json_object_get(vec, "header")), &l), 0);
		if ((d = mime_vectors_diff(addr_differences,
		    sizeof(addr_differences) / sizeof(addr_differences[0]),
		    i)) != NULL) {
			dump(&l, &out);
			if (strcmp(out.data, d->ours) != 0)
				fail_msg("address.json[%zu]:\n   got  %s\n   "
				    "want %s\n   (%s)", i, out.data, d->ours,
				    d->why);
			documented++;
			continue;
		}
		ours = their_model(&l);
		if (!json_equal(ours, json_object_get(vec, "expected"))) {
			a = json_dumps(ours, JSON_COMPACT);
			b = json_dumps(json_object_get(vec, "expected"),
			    JSON_COMPACT);
			fail_msg("address.json[%zu]:\n   got  %s\n   want %s", i,
			    a, b);
		}
		json_decref(ours);
		agree++;
	}
	mime_vectors_tally("address.json", root, 60, agree, documented);
	json_decref(root);
	mime_addrlist_free(&l);
	buf_free(&out);
}

/*
 * Inputs run through Dovecot 2.3.19 (FETCH ENVELOPE of a From: field);
 * where our answer is Dovecot's, note is NULL, else it says why not.
 * Dovecot's MISSING_MAILBOX, MISSING_DOMAIN and SYNTAX_ERROR are empty
 * parts here.
 */
static const struct {
	const char	*in;
	const char	*want;
	const char	*note;
} addr_dovecot[] = {
	{ "\"a   b\" <x@y>", "M(a b||x|y)", NULL },
	{ "\"  a \" <x@y>", "M(a||x|y)", NULL },
	{ "\"a\" \"b\" <x@y>", "M(a b||x|y)", NULL },
	{ "\"John\"\"Doe\" <x@y>", "M(John Doe||x|y)", NULL },
	{ "a.b <x@y>", "M(a.b||x|y)", NULL },
	{ "a . b <x@y>", "M(a . b||x|y)", NULL },
	{ "John \"Q\" Public <x@y>", "M(John Q Public||x|y)", NULL },
	{ "John Q. Public <x@y>", "M(John Q. Public||x|y)", NULL },
	{ "a@b (Name)", "M(Name||a|b)", NULL },
	{ "a(x)@b(y)", "M(y||a|b)", NULL },
	{ "(c1) a@b (c2)", "M(c2||a|b)", NULL },
	{ "<a@b> (Name)", "M(||a|b)", NULL },
	{ "<>", "M(|||)", NULL },
	{ "Name <>", "M(Name|||)", NULL },
	{ "\"a b\"@example.com (Com)", "M(Com||a b|example.com)", NULL },
	{ "<\"a b\"@example.com>", "M(||a b|example.com)", NULL },
	{ "a@[1.2.3.4]", "M(||a|[1.2.3.4])", NULL },
	{ "Name <a@[IPv6:::1]>", "M(Name||a|[IPv6:::1])", NULL },
	{ "<@a,@b:c@d>", "M(|@a,@b|c|d)", NULL },
	{ "<@a, @b:c@d>", "M(|@a,@b|c|d)", NULL },
	{ "<@a,,@b:c@d>", "M(|@a,@b|c|d)", NULL },
	{ "a.b.@c", "M(||a.b.|c)", NULL },
	{ ".a@c", "M(||.a|c)", NULL },
	{ "a..b@c", "M(||a..b|c)", NULL },
	{ "word", "M(||word|)", NULL },
	{ "two words", "M(two words|||)", NULL },
	{ "g: ;", "G(g) E", NULL },
	{ "g: a@b, c@d", "G(g) M(||a|b) M(||c|d) E", NULL },
	{ "g: a@b", "G(g) M(||a|b) E", NULL },
	{ "Undisclosed recipients:", "G(Undisclosed recipients) E", NULL },
	{ "a:b@c", "G(a) M(||b|c) E", NULL },
	{ "a@b,", "M(||a|b)", NULL },
	{ "a@b;", "M(||a|b)", NULL },
	{ "<a>", "M(||a|)", NULL },
	{ "a <b>", "M(a||b|)", NULL },
	{ "A\xc3\xa9 <a@b>", "M(A\xc3\xa9||a|b)", NULL },
	{ "\"A\\\xc3\xa9\" <a@b>", "M(A\xc3\xa9||a|b)", NULL },
	{ "Name (comment) <a@b>", "M(Name||a|b)", NULL },
	{ "(comment) Name <a@b>", "M(Name||a|b)", NULL },
	{ "Na(x)me <a@b>", "M(Na me||a|b)", NULL },
	{ "<a(x)@(y)b>", "M(||a|b)", NULL },
	{ "\"\" <a@b>", "M(||a|b)", NULL },
	{ "<a@b>, Name", "M(||a|b) M(||Name|)", NULL },
	{ "= <a@b>", "M(=||a|b)", NULL },
	{ "a@(c)", "M(c||a|)", NULL },
	{ "@b", "M(|||b)", NULL },
	{ "\"a\\\"b\" <x@y>", "M(a\"b||x|y)", NULL },
	{ "\"a\\\\b\" <x@y>", "M(a\\b||x|y)", NULL },
	{ "\"x\r\n\ty\" <x@y>", "M(x y||x|y)", NULL },
	{ "a@b (Na\"me)", "M(Na\"me||a|b)", NULL },
	{ "a@b (Na(nest)me)", "M(Na(nest)me||a|b)", NULL },
	{ "a@b (Na\\)me)", "M(Na)me||a|b)", NULL },
	{ "a\r\n @\r\n b", "M(||a|b)", NULL },
	{ "a@b\r\n (c)", "M(c||a|b)", NULL },
	{ "<a@b>>", "M(||a|b)", NULL },
	/* differences on purpose */
	{ "a@b, , c@d", "M(||a|b) M(||c|d)", "an empty member (§4.4 "
	    "obs-addr-list) is nothing; Dovecot shows an empty mailbox" },
	{ ",a@b", "M(||a|b)", "as above" },
	{ "; a@b", "M(||a|b)", "a stray ';' outside a group is skipped; "
	    "Dovecot stops there" },
	{ "a@b c@d", "M(||a|b) M(||c|d)", "a missing comma: Dovecot keeps "
	    "the first address only" },
	{ "<a@b> <c@d>", "M(||a|b) M(||c|d)", "as above" },
	{ "a@b; c@d", "M(||a|b) M(||c|d)", "as above" },
	{ "g: a@b; c@d", "G(g) M(||a|b) E M(||c|d)", "as above" },
	{ "List 1: a@b; List 2: c@d", "G(List 1) M(||a|b) E G(List 2) "
	    "M(||c|d) E", "groups without a comma between them" },
	{ "g: h: a@b;;", "G(g) E G(h) M(||a|b) E", "§3.4 has no nested "
	    "group: a second one ends the first" },
	{ "a@b <c@d>", "M(a@b||c|d)", "'@' in an unquoted display name "
	    "(real mail); Dovecot takes a@b and drops the rest" },
	{ "phil@example.com <phil@example.com>",
	    "M(phil@example.com||phil|example.com)", "as above" },
	{ "Name a@b", "M(Name||a|b)", "words before an addr-spec without "
	    "angle brackets are its display name; Dovecot shows a name "
	    "\"Name a\" without address" },
	{ "John Smith john@example.org",
	    "M(John Smith||john|example.org)", "as above" },
	{ "a . b @ c . d", "M(||a.b|c.d)", "obs-local-part and obs-domain "
	    "(§4.4): CFWS around the dots" },
	{ "Name <a@b", "M(Name||a|b)", "an unclosed '<' ends at the end; "
	    "Dovecot gives SYNTAX_ERROR as the domain" },
	{ "\"Name <a@b>", "M(Name||a|b)", "an unbalanced '\"' is dropped, "
	    "the rest read; Dovecot reads nothing" },
	{ "Name (Work <a@b>", "M(Name (Work||a|b)", "an unclosed '(' is "
	    "text" },
	{ "Name [Work <a@b>", "M(Name [Work||a|b)", "an unclosed '[' is "
	    "text" },
	{ "<a@b@c>", "M(||a|b)", "junk before '>' is skipped; Dovecot: "
	    "SYNTAX_ERROR as the domain" },
	{ "<a@b c>", "M(||a|b)", "as above" },
	{ "<a b@c>", "M(||a|)", "as above" },
	{ "a@b@c", "M(||a|b)", NULL },
	{ "<@a c@d>", "M(|@a|c|d)", "a route without its ':'; Dovecot: "
	    "INVALID_ROUTE" },
	{ "<@b>", "M(|||b)", "an empty local part, not a route; Dovecot: "
	    "INVALID_ROUTE and nothing else" },
	{ "a@b.com.", "M(||a|b.com.)", "a trailing dot is kept; Dovecot: "
	    "MISSING_DOMAIN" },
	{ "\"\" a@b", "M(||a|b)", "an empty quoted word is no name; "
	    "Dovecot: name \"a\", no address" },
};

static void
test_dovecot_envelope_cases(void **state)
{
	size_t	i, same = 0;

	(void)state;
	for (i = 0; i < sizeof(addr_dovecot) / sizeof(addr_dovecot[0]); i++) {
		expect_addrs(addr_dovecot[i].in, addr_dovecot[i].want);
		same += addr_dovecot[i].note == NULL;
	}
	printf("Dovecot ENVELOPE cases: %zu, %zu the same, %zu differ on "
	    "purpose\n", i, same, i - same);
}

static void
test_obsolete_and_real_world(void **state)
{
	(void)state;
	/* RFC 5322 §A.1.2, §A.1.3, §A.5 */
	expect_addrs("Pete(A nice \\) chap) <pete(his account)@silly.test(his "
	    "host)>", "M(Pete||pete|silly.test)");
	expect_addrs("A Group(Some people)\r\n     :Chris Jones <c@(Chris's "
	    "host.)public.example>,\r\n         joe@example.org,\r\n  John "
	    "<jdoe@one.test> (my dear friend); (the end of the group)",
	    "G(A Group) M(Chris Jones||c|public.example) "
	    "M(||joe|example.org) M(John||jdoe|one.test) E");
	expect_addrs("(Empty list)(start)Hidden recipients  :(nobody(that I "
	    "know))  ;", "G(Hidden recipients) E");
	/* RFC 5322 §A.6.1-3: obsolete forms */
	expect_addrs("Joe Q. Public <john.q.public@example.com>",
	    "M(Joe Q. Public||john.q.public|example.com)");
	expect_addrs("Mary Smith <@node.test:mary@example.net>, , jdoe@test "
	    " . example", "M(Mary Smith|@node.test|mary|example.net) "
	    "M(||jdoe|test.example)");
	expect_addrs("John Doe <jdoe@machine(comment).  example>",
	    "M(John Doe||jdoe|machine.example)");
	expect_addrs("Mary Smith\r\n    \r\n\t<mary@example.net>",
	    "M(Mary Smith||mary|example.net)");
	/* a quoted local part keeps its spaces; 8-bit stays as it is */
	expect_addrs("\"a  b\"@c", "M(||a  b|c)");
	expect_addrs("J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc.example>",
	    "M(J\xc3\xb6rg||j\xc3\xb6rg|b\xc3\xbc.example)");
	/* encoded words stay encoded */
	expect_addrs("=?utf-8?q?J=C3=B6rg?= <j@b>",
	    "M(=?utf-8?q?J=C3=B6rg?=||j|b)");
	/* control bytes in a name are blanks; NUL too */
	expect_addrs("A\x01 B <a@b>", "M(A B||a|b)");
	/* nothing at all */
	expect_addrs("", "");
	expect_addrs("  , ,; (only comments) ", "");
}

static void
test_nul_in_value(void **state)
{
	struct mime_addrlist	l;
	static const char	v[] = "A\0B <a@b>";

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(mime_hdr_addrs(span_make(v, sizeof(v) - 1), &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].name.len, 3);
	assert_memory_equal(l.v[0].name.ptr, "A B", 3);
	mime_addrlist_free(&l);
}

static void
test_spans_and_reuse(void **state)
{
	struct mime_addrlist	l;
	size_t			i;

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(mime_hdr_addrs(sp("G: \"A B\" <a@b>, c@d;"), &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[0].kind, MIME_ADDR_GROUP);
	assert_int_equal(l.v[3].kind, MIME_ADDR_GROUP_END);
	/* every non-empty span is in the store, which does not move */
	for (i = 0; i < l.n; i++) {
		if (l.v[i].name.len > 0)
			assert_true(l.v[i].name.ptr >= l.store.data &&
			    l.v[i].name.ptr + l.v[i].name.len <=
			    l.store.data + l.store.len);
		if (l.v[i].local.len > 0)
			assert_true(l.v[i].local.ptr >= l.store.data &&
			    l.v[i].local.ptr + l.v[i].local.len <=
			    l.store.data + l.store.len);
		/* empty spans still point somewhere readable */
		assert_non_null(l.v[i].route.ptr);
	}
	/* a second parse frees the first; nothing parses: -1, empty */
	assert_int_equal(mime_hdr_addrs(sp(" (x) "), &l), -1);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	assert_false(l.capped);
	mime_addrlist_free(&l);
	mime_addrlist_free(NULL);
}

static void
test_cap(void **state)
{
	struct mime_addrlist	l;
	struct buf		b;
	size_t			i;

	(void)state;
	memset(&l, 0, sizeof(l));
	buf_init(&b, 1 << 20);
	for (i = 0; i < 1500; i++)
		assert_int_equal(buf_printf(&b, "u%zu@example.org, ", i), 0);
	assert_int_equal(mime_hdr_addrs(span_make(b.data, b.len), &l), 0);
	assert_int_equal(l.n, MIME_ADDRS_MAX);
	assert_true(l.capped);
	assert_int_equal(l.v[999].local.len, 4);
	assert_memory_equal(l.v[999].local.ptr, "u999", 4);

	/* a group open at the cap still ends: G, 998 mailboxes, E */
	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "g: "), 0);
	for (i = 0; i < 1500; i++)
		assert_int_equal(buf_printf(&b, "u%zu@example.org, ", i), 0);
	assert_int_equal(mime_hdr_addrs(span_make(b.data, b.len), &l), 0);
	assert_int_equal(l.n, MIME_ADDRS_MAX);
	assert_true(l.capped);
	assert_int_equal(l.v[0].kind, MIME_ADDR_GROUP);
	assert_int_equal(l.v[998].kind, MIME_ADDR_MAILBOX);
	assert_int_equal(l.v[999].kind, MIME_ADDR_GROUP_END);

	/* exactly MIME_ADDRS_MAX entries fit, not capped */
	buf_reset(&b);
	for (i = 0; i < MIME_ADDRS_MAX; i++)
		assert_int_equal(buf_printf(&b, "u%zu@x,", i), 0);
	assert_int_equal(mime_hdr_addrs(span_make(b.data, b.len), &l), 0);
	assert_int_equal(l.n, MIME_ADDRS_MAX);
	assert_false(l.capped);
	/* one group start more does not fit without its end */
	assert_int_equal(buf_append_str(&b, "g:"), 0);
	assert_int_equal(mime_hdr_addrs(span_make(b.data, b.len), &l), 0);
	assert_int_equal(l.n, MIME_ADDRS_MAX);
	assert_true(l.capped);
	assert_int_equal(l.v[999].kind, MIME_ADDR_MAILBOX);
	mime_addrlist_free(&l);
	buf_free(&b);
}

/* Fill b with n copies of s. */
static void
repeat(struct buf *b, const char *s, size_t n)
{
	size_t	i;

	buf_reset(b);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_append_str(b, s), 0);
}

static void
test_hostile_values(void **state)
{
	static const char *const units[] = {
		"(", ")", "\"", "\\", "<", ">", "[", "]", ",", ";", ":", "@",
		".", "a", " ", "\r\n ", "(\"", "\"(", "<(", "[(", "a@", "<a",
		"\"\\", "(\\", "a b ", "<@a,", "g:", "@a.", "a.b ",
	};
	struct mime_addrlist	l;
	struct buf		b;
	uint64_t		t0;
	size_t			i, mb = 1 << 20;
	char			*p;

	(void)state;
	memset(&l, 0, sizeof(l));
	buf_init(&b, 2 * mb);
	/* 300,000 nested comments, closed, then an address */
	repeat(&b, "(", 300000);
	for (i = 0; i < 300000; i++)
		assert_int_equal(buf_append_char(&b, ')'), 0);
	assert_int_equal(buf_append_str(&b, " Name <a@b>"), 0);
	assert_int_equal(mime_hdr_addrs(span_make(b.data, b.len), &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].name.len, 4);
	assert_memory_equal(l.v[0].domain.ptr, "b", 1);
	/* the same never closed: the '(' are text of the name */
	repeat(&b, "(", 300000);
	assert_int_equal(buf_append_str(&b, " Name <a@b>"), 0);
	assert_int_equal(mime_hdr_addrs(span_make(b.data, b.len), &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].name.len, 300005);
	assert_memory_equal(l.v[0].local.ptr, "a", 1);

	/* a megabyte of each unit: bounded work, and a sane result */
	t0 = now_ms();
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		repeat(&b, units[i], mb / strlen(units[i]));
		(void)mime_hdr_addrs(span_make(b.data, b.len), &l);
		assert_true(l.n <= MIME_ADDRS_MAX);
		assert_true(l.store.len <= 2 * b.len + 16);
	}
	/* quadratic work on any of them would take hours */
	assert_true(now_ms() - t0 < 60000);

	/* a megabyte of addresses: capped */
	repeat(&b, "Some Name <some.one@example.org>, ", mb / 34);
	assert_int_equal(mime_hdr_addrs(span_make(b.data, b.len), &l), 0);
	assert_true(l.capped);
	assert_int_equal(l.n, MIME_ADDRS_MAX);
	mime_addrlist_free(&l);
	buf_free(&b);

	/* nothing past the span is read: a heap copy of exactly its size */
	p = malloc(5);
	assert_non_null(p);
	memcpy(p, "<a@b>", 5);
	assert_int_equal(mime_hdr_addrs(span_make(p, 4), &l), 0);
	assert_int_equal(l.v[0].domain.len, 1);
	mime_addrlist_free(&l);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalwart_address_vectors),
		cmocka_unit_test(test_dovecot_envelope_cases),
		cmocka_unit_test(test_obsolete_and_real_world),
		cmocka_unit_test(test_nul_in_value),
		cmocka_unit_test(test_spans_and_reuse),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_hostile_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
