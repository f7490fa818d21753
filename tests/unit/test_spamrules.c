/*
 * Unit tests for spamrules.c and spamnorm.c: the rules parser (accepts
 * the shipped set, refuses each kind of mistake naming file:line, keeps
 * its bounds), each test type over a message, meta rules and helpers,
 * GTUBE, and the normaliser's forms of obfuscation one by one.
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
#include "spam.h"
#include "spamnorm.h"
#include "spamrules.h"

#define GTUBE_STR \
    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

static struct spam_rules *
parse(const char *text, char *err, size_t errsz)
{
	return spam_rules_parse(text, strlen(text), "t.rules", err, errsz);
}

/* The score of msg under rules (which must parse). */
static struct spam_score
run(const char *rules, const char *msg)
{
	struct spam_rules	*r;
	struct spam_score	 sc;
	struct spam_msg		 sm;
	char			 err[256];

	r = parse(rules, err, sizeof(err));
	if (r == NULL)
		fail_msg("%s", err);
	memset(&sc, 0, sizeof(sc));
	spam_msg_parse(&sm, msg, strlen(msg));
	spam_rules_check(r, &sm, &sc);
	spam_msg_free(&sm);
	spam_rules_free(r);
	return sc;
}

static bool
hit(const struct spam_score *sc, const char *name)
{
	size_t	i;

	for (i = 0; i < sc->nhits; i++)
		if (strcmp(sc->hits[i].name, name) == 0)
			return true;
	return false;
}

static void
test_default_set_parses(void **state)
{
	struct spam_rules	*r;
	char			 err[256] = "";

	(void)state;
	r = spam_rules_load(NULL, err, sizeof(err));
	assert_non_null(r);
	assert_true(spam_rules_count(r) > 40);
	spam_rules_free(r);
}

static void
test_refused_with_line(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "# c\n\nbogus X 1 /a/ \"d\"\n", "t.rules:3: unknown rule type" },
		{ "body A 1 /a(/ \"d\"\n", "t.rules:1: pattern:" },
		{ "body A 1 /a/q \"d\"\n", "t.rules:1: unknown pattern flag" },
		{ "body A 1 a \"d\"\n", "t.rules:1: expected /pattern/flags" },
		{ "body A x /a/ \"d\"\n", "t.rules:1: score:" },
		{ "body A 101 /a/ \"d\"\n", "t.rules:1: score:" },
		{ "body A 1.2345 /a/ \"d\"\n", "t.rules:1: score:" },
		{ "body A 1 /a/\n", "t.rules:1: expected a \"description\"" },
		{ "body a 1 /a/ \"d\"\n", "t.rules:1: rule name" },
		{ "body A 1 /a/ \"d\"\nbody A 1 /b/ \"d\"\n",
		    "t.rules:2: rule A defined twice" },
		{ "body GTUBE 1 /a/ \"d\"\n", "t.rules:1: GTUBE is built in" },
		{ "meta M 1 A && B \"d\"\n", "t.rules:1: meta: 'A' is not" },
		{ "body A 1 /a/ \"d\"\nmeta M 1 (A \"d\"\n",
		    "t.rules:2: meta: expected ')'" },
		{ "body A 1 /a/ \"d\"\nmeta M 1 A B \"d\"\n",
		    "t.rules:2: meta: unexpected 'B'" },
		{ "header H 1 Subject ~ /a/ \"d\"\n", "t.rules:1: header:" },
		{ "header H 1 Subject:foo =~ /a/ \"d\"\n",
		    "t.rules:1: unknown field view" },
		{ "keyword K 1 vi-agra \"d\"\n", "t.rules:1: keyword:" },
		{ "check C 1 nonesuch \"d\"\n", "t.rules:1: check: unknown" },
		{ "check C 1 recipients \"d\"\n", "t.rules:1: check: recipients" },
		{ "body A 1 /a/ \"d\xff\"\n", "t.rules:1: description:" },
	};
	struct spam_rules	*r;
	char			 err[256];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		r = parse(cases[i].text, err, sizeof(err));
		if (r != NULL || strncmp(err, cases[i].want,
		    strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s...\"", i,
			    err, cases[i].want);
	}
}

static void
test_bounds(void **state)
{
	struct spam_rules	*r;
	struct buf		 b;
	char			 err[256];
	size_t			 i;

	(void)state;
	/* a pattern one byte too long */
	buf_init(&b, 1 << 20);
	(void)buf_append_str(&b, "body A 1 /");
	for (i = 0; i < SPAM_RULES_PATTERN_MAX + 1; i++)
		(void)buf_append_char(&b, 'a');
	(void)buf_append_str(&b, "/ \"d\"\n");
	assert_null(spam_rules_parse(b.data, b.len, "t", err, sizeof(err)));
	assert_non_null(strstr(err, "t:1: pattern longer"));
	/* one rule too many */
	buf_reset(&b);
	for (i = 0; i <= SPAM_RULES_MAX; i++)
		(void)buf_printf(&b, "body R%zu 1 /a/ \"d\"\n", i);
	assert_null(spam_rules_parse(b.data, b.len, "t", err, sizeof(err)));
	assert_non_null(strstr(err, "more than 500 rules"));
	/* exactly the maximum is fine */
	buf_reset(&b);
	for (i = 0; i < SPAM_RULES_MAX; i++)
		(void)buf_printf(&b, "body R%zu 1 /a/ \"d\"\n", i);
	r = spam_rules_parse(b.data, b.len, "t", err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(spam_rules_count(r), SPAM_RULES_MAX + 1);
	spam_rules_free(r);
	/* a line too long, and a file too large */
	buf_reset(&b);
	for (i = 0; i < SPAM_RULES_LINE_MAX + 1; i++)
		(void)buf_append_char(&b, '#');
	assert_null(spam_rules_parse(b.data, b.len, "t", err, sizeof(err)));
	assert_non_null(strstr(err, "t:1: line longer"));
	assert_null(spam_rules_parse(b.data, SPAM_RULES_FILE_MAX + 1, "t",
	    err, sizeof(err)));
	assert_non_null(strstr(err, "larger than"));
	buf_free(&b);
}

static const char plain_msg[] =
    "Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n"
    "\tby mail.example.org; Tue, 1 Oct 2024 10:00:00 +0000\r\n"
    "From: \"Bob Example\" <bob@example.net>\r\n"
    "To: alice@example.org, carol@example.org\r\n"
    "Subject: =?utf-8?q?Lunch_on_Tuesday?=\r\n"
    "Date: Tue, 1 Oct 2024 09:59:00 +0000\r\n"
    "Message-ID: <1@example.net>\r\n"
    "\r\n"
    "Hello Alice, see http://www.example.com/menu. for the menu.\r\n";

static void
test_header_tests(void **state)
{
	struct spam_score	sc;

	(void)state;
	sc = run("header S 1 Subject =~ /^Lunch on/ \"decoded\"\n"
	    "header SR 1 Subject:raw =~ /=\\?utf-8\\?q\\?/ \"raw\"\n"
	    "header N 1 Subject !~ /Lunch/ \"not\"\n"
	    "header NC 1 Subject !~ /dinner/ \"not, hits\"\n"
	    "header NM 1 X-None !~ /x/ \"missing field\"\n"
	    "header E 1 exists Message-ID \"e\"\n"
	    "header NE 1 !exists In-Reply-To \"ne\"\n"
	    "header A 1 From:addr =~ /^bob@example\\.net$/m \"addr\"\n"
	    "header NAME 1 From:name =~ /^Bob Example$/m \"name\"\n"
	    "header ALLH 1 ALL =~ /^to: .*carol/mi \"all\"\n", plain_msg);
	assert_true(hit(&sc, "S"));
	assert_true(hit(&sc, "SR"));
	assert_false(hit(&sc, "N"));
	assert_true(hit(&sc, "NC"));
	assert_false(hit(&sc, "NM"));
	assert_true(hit(&sc, "E"));
	assert_true(hit(&sc, "NE"));
	assert_true(hit(&sc, "A"));
	assert_true(hit(&sc, "NAME"));
	assert_true(hit(&sc, "ALLH"));
	assert_int_equal(sc.total, 8 * SPAM_MILLI);
}

static const char html_msg[] =
    "From: a@example.net\r\n"
    "Subject: offer\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<html><body><p>Cheap V1agra=21</p>\r\n"
    "<a href=3D\"http://198.51.100.7/x\">www.paypal.com</a>\r\n"
    "<font size=3D0>hidden</font> b<!-- x -->uy\r\n"
    "</body></html>\r\n";

static void
test_body_rawbody_uri(void **state)
{
	struct spam_score	sc;

	(void)state;
	sc = run("body B 1 /Cheap V1agra!/ \"text, qp decoded, tags gone\"\n"
	    "body BT 1 /<p>/ \"no tags in body\"\n"
	    "body BS 1 /^offer$/m \"subject is body too\"\n"
	    "rawbody R 1 /<font size=0>/ \"html source\"\n"
	    "rawbody RC 1 /[a-z]<!--[^>]*-->[a-z]/ \"comment in word\"\n"
	    "uri U 1 /^http:\\/\\/\\d+\\.\\d+\\.\\d+\\.\\d+\\// \"ip link\"\n"
	    "uri UT 1 /example\\.com\\/menu$/ \"url in text, . dropped\"\n",
	    html_msg);
	assert_true(hit(&sc, "B"));
	assert_false(hit(&sc, "BT"));
	assert_true(hit(&sc, "BS"));
	assert_true(hit(&sc, "R"));
	assert_true(hit(&sc, "RC"));
	assert_true(hit(&sc, "U"));
	assert_false(hit(&sc, "UT"));
	sc = run("uri UT 1 /example\\.com\\/menu$/ \"url in text\"\n",
	    plain_msg);
	assert_true(hit(&sc, "UT"));
}

static void
test_keyword(void **state)
{
	struct spam_score	sc;

	(void)state;
	sc = run("keyword K 2 viagra \"pharma\"\n"
	    "keyword P 1 pay* \"prefix\"\n"
	    "keyword TWO 1 menu_for \"two words\"\n"
	    "keyword NOT 1 via \"whole words only\"\n", html_msg);
	assert_true(hit(&sc, "K"));
	assert_false(hit(&sc, "NOT"));
	sc = run("keyword TWO 1 the_menu \"two words\"\n"
	    "keyword SPEC 1 cialis \"not inside specialist\"\n",
	    "Subject: a specialist\r\n\r\nsee the  menu\r\n");
	assert_true(hit(&sc, "TWO"));
	assert_false(hit(&sc, "SPEC"));
	/* first and last words, after a mark, in a word with a digit */
	sc = run("keyword K 1 cialis \"k\"\n", "Subject: cialis\r\n\r\nhi\r\n");
	assert_true(hit(&sc, "K"));
	sc = run("keyword K 1 cialis \"k\"\n", "Subject: hi\r\n\r\ncialis");
	assert_true(hit(&sc, "K"));
	sc = run("keyword K 1 cialis \"k\"\n",
	    "Subject: hi\r\n\r\n(cialis)\r\n");
	assert_true(hit(&sc, "K"));
	sc = run("keyword K 1 cialis \"k\"\n", "Subject: 2cialis\r\n\r\n"
	    "cialis2 x\r\n");
	assert_false(hit(&sc, "K"));
}

static void
test_checks(void **state)
{
	struct spam_score	sc;

	(void)state;
	sc = run("check HO 1 html_only \"html only\"\n"
	    "check LM 1 link_mismatch \"link text\"\n"
	    "check RC 1 recipients 1 \"more than one\"\n", html_msg);
	assert_true(hit(&sc, "HO"));
	assert_true(hit(&sc, "LM"));
	assert_false(hit(&sc, "RC"));
	sc = run("check HO 1 html_only \"html only\"\n"
	    "check RC 1 recipients 1 \"more than one\"\n"
	    "check RC2 1 recipients 2 \"more than two\"\n"
	    "check DF 1 date_future 1 \"future\"\n"
	    "check DP 1 date_past 1 \"past\"\n"
	    "check FN 1 from_name_addr \"name\"\n", plain_msg);
	assert_false(hit(&sc, "HO"));
	assert_true(hit(&sc, "RC"));
	assert_false(hit(&sc, "RC2"));
	assert_false(hit(&sc, "DF"));
	assert_false(hit(&sc, "DP"));
	assert_false(hit(&sc, "FN"));
	sc = run("check DF 1 date_future 12 \"future\"\n"
	    "check DI 1 date_invalid \"invalid\"\n"
	    "check FN 1 from_name_addr \"name\"\n",
	    "Received: from x by y; Tue, 1 Oct 2024 10:00:00 +0000\r\n"
	    "Date: Sat, 1 Mar 2025 10:00:00 +0000\r\n"
	    "From: \"service@paypal.com\" <x@198-51-100-7.example.ru>\r\n"
	    "\r\nhi\r\n");
	assert_true(hit(&sc, "DF"));
	assert_false(hit(&sc, "DI"));
	assert_true(hit(&sc, "FN"));
	sc = run("check DI 1 date_invalid \"invalid\"\n",
	    "Date: yesterday\r\n\r\nhi\r\n");
	assert_true(hit(&sc, "DI"));
}

static void
test_meta_and_helpers(void **state)
{
	struct spam_score	sc;

	(void)state;
	sc = run("header __A 0 exists Subject \"a\"\n"
	    "header __B 0 exists In-Reply-To \"b\"\n"
	    "meta M 1.5 __A && !__B \"reply without reply\"\n"
	    "meta M2 1 (__A || __B) && __B \"needs b\"\n", plain_msg);
	assert_true(hit(&sc, "M"));
	assert_false(hit(&sc, "M2"));
	assert_false(hit(&sc, "__A"));
	assert_int_equal(sc.total, 1500);
}

static void
test_gtube_always(void **state)
{
	struct spam_score	sc;
	char			msg[256];

	(void)state;
	(void)snprintf(msg, sizeof(msg), "Subject: t\r\n\r\n%s\r\n",
	    GTUBE_STR);
	/* an empty file: GTUBE is still there */
	sc = run("# nothing\n", msg);
	assert_true(hit(&sc, "GTUBE"));
	assert_true(sc.total >= 1000 * SPAM_MILLI);
	/* and negative rules cannot pull it under a reject line */
	sc = run("body N1 -100 /t/ \"n\"\nheader N2 -100 exists Subject "
	    "\"n\"\n", msg);
	assert_true(sc.total >= 800 * SPAM_MILLI);
	sc = run("# nothing\n", plain_msg);
	assert_false(hit(&sc, "GTUBE"));
}

/*
 * The link and image checks find their tags in any case, wherever they
 * are in a long text, and nowhere else.
 */
static void
test_checks_find_tags(void **state)
{
	static const char	 rules[] =
	    "check LM 1 link_mismatch \"link text\"\n"
	    "check HI 1 html_image 200 \"image\"\n";
	struct spam_score	 sc;
	struct buf		 m;
	size_t			 i;

	(void)state;
	buf_init(&m, 1 << 20);
	(void)buf_append_str(&m, "Content-Type: text/html\r\n\r\n");
	/* tags that start like the ones looked for, and a long text */
	(void)buf_append_str(&m, "<abbr>x</abbr> <area href=x> <hr> <i>\r\n");
	for (i = 0; i < 2000; i++)
		(void)buf_append_str(&m, "<b>HREF</b> ");
	(void)buf_append_str(&m, "\r\n<A\tHrEf=\"http://evil.example/\">"
	    "www.bank.example</a>\r\n<IMG SRC=x>\r\n");
	sc = run(rules, m.data);
	assert_true(hit(&sc, "LM"));
	assert_false(hit(&sc, "HI"));	/* far more than 200 visible */
	sc = run(rules, "Content-Type: text/html\r\n\r\n<p>hi<ImG src=x>"
	    "</p>\r\n");
	assert_true(hit(&sc, "HI"));
	sc = run(rules, "Content-Type: text/html\r\n\r\n<p>hi<imgx src=x>"
	    "<a href=\"http://a.example/\">www.a.example</a>\r\n");
	assert_true(hit(&sc, "HI"));	/* "<img" anywhere, as before */
	assert_false(hit(&sc, "LM"));
	sc = run(rules, "Content-Type: text/plain\r\n\r\nhi <img src=x>\r\n");
	assert_false(hit(&sc, "HI"));	/* no HTML */
	buf_free(&m);
}

/* tok is among the Bayes tokens of msg. */
static bool
has_token(const char *msg, const char *tok)
{
	struct spam_features	 f;
	const char		*t;
	size_t			 off = 0;
	bool			 found = false;

	spam_features_init(&f);
	spam_features_extract(&f, NULL, msg, strlen(msg));
	while (!found && (t = spam_tokens_next(&f.tokens, &off)) != NULL)
		found = strcmp(t, tok) == 0;
	spam_features_free(&f);
	return found;
}

/*
 * Body, keyword and uri rules read SPAM_RULES_PART_TEXT_MAX bytes of a
 * part's text; rawbody rules and the Bayes tokens read all of it.
 */
static void
test_part_text_bound(void **state)
{
	static const char	 rules[] =
	    "body B 1 /cheap pills/ \"body\"\n"
	    "keyword K 1 viagra \"keyword\"\n"
	    "uri U 1 /late\\.example/ \"uri\"\n"
	    "rawbody R 1 /cheap pills/ \"rawbody\"\n";
	static const char	 words[] =
	    "cheap pills viagra http://late.example/\r\n";
	struct spam_score	 sc;
	struct buf		 m;

	(void)state;
	buf_init(&m, 1 << 20);
	(void)buf_append_str(&m, "Subject: hello\r\n\r\n");
	while (m.len < SPAM_RULES_PART_TEXT_MAX - 100)
		(void)buf_append_str(&m, "plain words of a long letter\r\n");
	(void)buf_append_str(&m, words);
	sc = run(rules, m.data);
	assert_true(hit(&sc, "B"));
	assert_true(hit(&sc, "K"));
	assert_true(hit(&sc, "U"));
	assert_true(hit(&sc, "R"));
	/* the same words past the bound (CRs may go from the text) */
	buf_reset(&m);
	(void)buf_append_str(&m, "Subject: hello\r\n\r\n");
	while (m.len < SPAM_RULES_PART_TEXT_MAX + 3000)
		(void)buf_append_str(&m, "plain words of a long letter\r\n");
	(void)buf_append_str(&m, words);
	sc = run(rules, m.data);
	assert_false(hit(&sc, "B"));
	assert_false(hit(&sc, "K"));
	assert_false(hit(&sc, "U"));
	assert_true(hit(&sc, "R"));
	assert_true(has_token(m.data, "pills"));
	/* a second part is read from its start */
	buf_reset(&m);
	(void)buf_append_str(&m, "Content-Type: multipart/mixed; boundary=b"
	    "\r\n\r\n--b\r\n\r\n");
	while (m.len < SPAM_RULES_PART_TEXT_MAX + 3000)
		(void)buf_append_str(&m, "plain words of a long letter\r\n");
	(void)buf_append_str(&m, "--b\r\n\r\n");
	(void)buf_append_str(&m, words);
	(void)buf_append_str(&m, "--b--\r\n");
	sc = run(rules, m.data);
	assert_true(hit(&sc, "B"));
	assert_true(hit(&sc, "K"));
	assert_true(hit(&sc, "U"));
	buf_free(&m);
}

/* norm(in) holds " word " for every word of want (space-separated). */
static void
assert_norm(const char *in, const char *want)
{
	struct buf	out;
	char		w[80];
	const char	*p = want, *e;

	buf_init(&out, 1 << 20);
	assert_int_equal(spam_norm(in, strlen(in), &out), 0);
	(void)buf_append_char(&out, ' ');
	while (*p != '\0') {
		e = strchr(p, ' ');
		if (e == NULL)
			e = p + strlen(p);
		(void)snprintf(w, sizeof(w), " %.*s ", (int)(e - p), p);
		if (strstr(out.data, w) == NULL)
			fail_msg("norm(\"%s\") = \"%s\": no \"%s\"", in,
			    out.data, w);
		p = *e != '\0' ? e + 1 : e;
	}
	buf_free(&out);
}

static void
test_norm_case_and_leet(void **state)
{
	(void)state;
	assert_norm("Buy VIAGRA now", "buy viagra now");
	assert_norm("V1agra", "viagra");
	assert_norm("v!agra and c1al1s", "viagra and cialis");
	assert_norm("\\/iagra", "viagra");
	assert_norm("VI@GR@", "viagra");
	assert_norm("$ave money!!!", "save money");
	assert_norm("100 dollars in 2024", "100 dollars in 2024");
}

static void
test_norm_spacing(void **state)
{
	(void)state;
	assert_norm("buy v.i.a.g.r.a today", "buy viagra today");
	assert_norm("buy v i a g r a today", "buy viagra today");
	assert_norm("V-I-A-G-R-A", "viagra");
	assert_norm("k.1.w.i", "kiwi");
	assert_norm("a k.1.w.i", "a kiwi");
	assert_norm("1 2 3", "123");
	assert_norm("v. i. a. g. r. a.", "viagra");
	assert_norm("vi-agra", "vi agra viagra");
	assert_norm("buy-cialis", "buy cialis");
}

static void
test_norm_unicode(void **state)
{
	(void)state;
	/* Cyrillic а (U+0430) and Greek ι (U+03B9) in a Latin word */
	assert_norm("Vi\xd0\xb0gra", "viagra");
	assert_norm("V\xce\xb9\x61gra", "viagra");
	/* fullwidth Ｖｉａｇｒａ */
	assert_norm("\xef\xbc\xb6\xef\xbd\x89\xef\xbd\x81\xef\xbd\x87"
	    "\xef\xbd\x92\xef\xbd\x81", "viagra");
	/* zero-width space, joiner, word joiner, BOM, soft hyphen */
	assert_norm("vi\xe2\x80\x8b\x61gra", "viagra");
	assert_norm("vi\xe2\x80\x8d\x61g\xe2\x81\xa0ra", "viagra");
	assert_norm("v\xef\xbb\xbfiag\xc2\xadra", "viagra");
	/* diacritics */
	assert_norm("V\xc3\xaf" "agr\xc3\xa0", "viagra");
	/* a word of letters with no Latin twin stays unreadable */
	assert_norm("\xd0\xb4\xd0\xb0", "~a");
	/* invalid UTF-8 does not stop the rest */
	assert_norm("\xff\xfe viagra", "viagra");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_set_parses),
		cmocka_unit_test(test_refused_with_line),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_header_tests),
		cmocka_unit_test(test_body_rawbody_uri),
		cmocka_unit_test(test_keyword),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_checks_find_tags),
		cmocka_unit_test(test_part_text_bound),
		cmocka_unit_test(test_meta_and_helpers),
		cmocka_unit_test(test_gtube_always),
		cmocka_unit_test(test_norm_case_and_leet),
		cmocka_unit_test(test_norm_spacing),
		cmocka_unit_test(test_norm_unicode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
