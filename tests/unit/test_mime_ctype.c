/*
 * Unit tests for mime_ctype.c: Content-Type and Content-Disposition
 * values with their parameters.  Every vector of Stalwart's mail-parser
 * corpus (tests/data/mime/stalwart-mail-parser/content_type.json,
 * read from the repository root) is run: type, subtype and each
 * parameter's decoded value compared.  Where Stalwart's expectation is
 * wrong by the RFCs (or follows a choice Dovecot, our reference for
 * IMAP, does not make) the vector is listed in ctype_differs[] with the
 * reason, and the test checks that it does differ, so the list stays
 * true.  Then RFC 2231 and Dovecot's IMAP forms, one behaviour each.
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
#include <strings.h>

#include "buf.h"
#include "mime_hdr.h"

#define CTYPE_VECTORS	"mime/stalwart-mail-parser/content_type.json"

/* Stalwart's vectors we read differently, by index in the file. */
static const struct {
	size_t		 idx;
	const char	*why;
} ctype_differs[] = {
	{ 12, "boundary=gc0pJq0M:08jU534c0p unquoted: ':' is a tspecial "
	    "(RFC 2045 §5.1), the token ends before it, as Dovecot reads "
	    "it (and Dovecot's boundary decides the structure)" },
	{ 23, "no ';' before server=: RFC 2045 §5.1 separates parameters "
	    "with ';', the rest is junk (Dovecot drops it too)" },
	{ 30, "RFC 2231's own example omits the ';' after the type (an "
	    "erratum): without it there is no parameter (as Dovecot)" },
	{ 31, "the same missing ';'; and filename*1*, *2* repeat "
	    "\"iso-8859-1'\", which RFC 2231 §4.1 allows only in the "
	    "first section" },
	{ 34, "RFC 2047 §6.2: whitespace between adjacent encoded words is "
	    "dropped; Stalwart keeps it inside quotes" },
	{ 35, "name==?..?= =?..?= unquoted: the value ends at the first "
	    "space (Dovecot's '=' work-around stops there too), the other "
	    "words are junk" },
	{ 47, "'=' is a tspecial, not a type (RFC 2045 §5.1)" },
	{ 48, "'name=value' is no type: the token ends at '='" },
	{ 49, "'name=' without a value is kept with an empty value, as "
	    "Dovecot serves it" },
	{ 58, "'name=value' is no type: the token ends at '='" },
	{ 59, "'*=test' is read as Dovecot reads it, an RFC 2231 "
	    "parameter with an empty name, so there is one more" },
	{ 61, "names like 4*** are not RFC 2231 section names (§3: name*N "
	    "or name*N*): kept as written, as Dovecot does" },
	{ 76, "text/plain/format: '/' is a tspecial, the subtype is "
	    "'plain' (Dovecot's too)" },
	{ 77, "text/plain/format: '/' is a tspecial, the subtype is "
	    "'plain'" },
	{ 78, "text/plain/format: '/' is a tspecial, the subtype is "
	    "'plain'" },
};

static bool
ctype_documented(size_t idx, const char **why_out)
{
	size_t	i;

	for (i = 0; i < sizeof(ctype_differs) / sizeof(ctype_differs[0]);
	    i++)
		if (ctype_differs[i].idx == idx) {
			*why_out = ctype_differs[i].why;
			return true;
		}
	return false;
}

static bool
span_is(struct span s, const char *p, size_t n)
{
	return s.len == n && (n == 0 || memcmp(s.ptr, p, n) == 0);
}

static bool
span_is_case(struct span s, const char *p, size_t n)
{
	return s.len == n && (n == 0 || strncasecmp(s.ptr, p, n) == 0);
}

/* The language of an extended value as served to IMAP: "cs'LANG'..." */
static struct span
ctype_lang(const struct mime_param *p)
{
	struct span	v = p->imap_value;
	size_t		q1, q2;

	for (q1 = 0; q1 < v.len && v.ptr[q1] != '\''; q1++)
		;
	for (q2 = q1 + 1; q2 < v.len && v.ptr[q2] != '\''; q2++)
		;
	if (q2 >= v.len)
		return span_make("", 0);
	return span_make(v.ptr + q1 + 1, q2 - q1 - 1);
}

/*
 * Compare one vector; NULL when it agrees, else what differs (into
 * why, for the message).
 */
static const char *
ctype_compare(const json_t *vec, struct mime_ctype *ct, char *why,
    size_t whylen)
{
	const json_t		*hdr, *exp, *t, *st, *attrs, *a;
	const struct mime_param	*p;
	const char		*name, *val;
	size_t			 i, nlen, vlen, nexp = 0, ndistinct = 0, k;
	struct span		 base;

	hdr = json_object_get(vec, "header");
	exp = json_object_get(vec, "expected");
	(void)mime_hdr_ctype(span_make(json_string_value(hdr),
	    json_string_length(hdr)), ct);
	if (json_is_null(exp)) {
		if (ct->type.len != 0) {
			snprintf(why, whylen, "expected invalid, got type");
			return why;
		}
		return NULL;
	}
	t = json_object_get(exp, "c_type");
	st = json_object_get(exp, "c_subtype");
	if (!span_is_case(ct->type, json_string_value(t),
	    json_string_length(t))) {
		snprintf(why, whylen, "type '%.*s'", (int)ct->type.len,
		    ct->type.ptr);
		return why;
	}
	if (json_is_null(st) ? ct->subtype.len != 0 :
	    !span_is_case(ct->subtype, json_string_value(st),
	    json_string_length(st))) {
		snprintf(why, whylen, "subtype '%.*s'", (int)ct->subtype.len,
		    ct->subtype.ptr);
		return why;
	}
	attrs = json_object_get(exp, "attributes");
	for (i = 0; i < json_array_size(attrs); i++) {
		a = json_array_get(attrs, i);
		name = json_string_value(json_array_get(a, 0));
		nlen = json_string_length(json_array_get(a, 0));
		val = json_string_value(json_array_get(a, 1));
		vlen = json_string_length(json_array_get(a, 1));
		if (nlen > 9 && strcmp(name + nlen - 9, "-language") == 0) {
			/* Stalwart's pseudo-parameter: the RFC 2231 language */
			char	base_name[128];

			snprintf(base_name, sizeof(base_name), "%.*s",
			    (int)(nlen - 9), name);
			if ((p = mime_ctype_param(ct, base_name)) == NULL ||
			    !span_is(ctype_lang(p), val, vlen)) {
				snprintf(why, whylen, "language of %s",
				    base_name);
				return why;
			}
			continue;
		}
		nexp++;
		if ((p = mime_ctype_param(ct, name)) == NULL) {
			snprintf(why, whylen, "no parameter %s", name);
			return why;
		}
		if (!span_is(p->value, val, vlen)) {
			snprintf(why, whylen, "%s = '%.*s'", name,
			    (int)p->value.len, p->value.ptr);
			return why;
		}
	}
	/* distinct names: a gapped RFC 2231 group has one per section */
	for (i = 0; i < ct->nparams; i++) {
		base = ct->params[i].name;
		for (k = 0; k < i; k++)
			if (span_is_case(ct->params[k].name, base.ptr,
			    base.len))
				break;
		ndistinct += k == i;
	}
	if (ndistinct != nexp) {
		snprintf(why, whylen, "%zu parameters", ndistinct);
		return why;
	}
	return NULL;
}

static void
test_stalwart_vectors(void **state)
{
	json_t			*all;
	json_error_t		 err;
	struct mime_ctype	 ct;
	const char		*diff, *doc;
	char			 why[256], path[512];
	size_t			 i, agree = 0, documented = 0, wrong = 0;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/" CTYPE_VECTORS,
	    getenv("CACHET_TESTDATA") != NULL ? getenv("CACHET_TESTDATA") :
	    "tests/data");
	all = json_load_file(path, JSON_ALLOW_NUL, &err);
	if (all == NULL)
		fail_msg("%s: %s", path, err.text);
	assert_true(json_array_size(all) > 100);
	memset(&ct, 0, sizeof(ct));
	for (i = 0; i < json_array_size(all); i++) {
		diff = ctype_compare(json_array_get(all, i), &ct, why,
		    sizeof(why));
		if (diff == NULL && !ctype_documented(i, &doc)) {
			agree++;
			continue;
		}
		if (diff != NULL && ctype_documented(i, &doc)) {
			documented++;
			continue;
		}
		wrong++;
		print_error("vector %zu %s: %s\n", i,
		    diff == NULL ? "agrees but is listed as differing" :
		    "differs", diff == NULL ? doc : diff);
	}
	mime_ctype_free(&ct);
	print_message("content_type.json: %zu agree, %zu documented "
	    "differences, of %zu\n", agree, documented,
	    json_array_size(all));
	json_decref(all);
	assert_int_equal(wrong, 0);
}

static struct mime_ctype
ctype_of(const char *v, int want)
{
	struct mime_ctype	ct;

	memset(&ct, 0, sizeof(ct));
	assert_int_equal(mime_hdr_ctype(span_make(v, strlen(v)), &ct), want);
	return ct;
}

static void
assert_span(struct span s, const char *want)
{
	if (!span_is(s, want, strlen(want)))
		fail_msg("'%.*s' != '%s'", (int)s.len, s.ptr, want);
}

static void
test_rfc2231_joined_and_imap_form(void **state)
{
	struct mime_ctype	 ct;
	const struct mime_param	*p;

	(void)state;
	ct = ctype_of("application/x-stuff; title*1=\" x%\"; "
	    "title*0*=us-ascii'en'This%20is; a=b", 0);
	assert_int_equal(ct.nparams, 2);
	/* plain parameters first, then the RFC 2231 groups (Dovecot) */
	assert_span(ct.params[0].imap_name, "a");
	p = mime_ctype_param(&ct, "TITLE");
	assert_non_null(p);
	assert_ptr_equal(p, &ct.params[1]);
	assert_span(p->name, "title");
	assert_span(p->value, "This is x%");
	assert_span(p->imap_name, "title*");
	/* a plain section's '%' is escaped inside an extended value */
	assert_span(p->imap_value, "us-ascii'en'This%20is x%25");
	mime_ctype_free(&ct);
}

static void
test_rfc2231_plain_first_section(void **state)
{
	struct mime_ctype	 ct;
	const struct mime_param	*p;

	(void)state;
	ct = ctype_of("a/b; key*0=a; key*1*=b%25%e9", 0);
	p = mime_ctype_param(&ct, "key");
	assert_non_null(p);
	/* no charset: the bytes are not UTF-8, so read as Latin-1 */
	assert_span(p->value, "ab%\xc3\xa9");
	assert_span(p->imap_name, "key*");
	assert_span(p->imap_value, "''ab%25%e9");
	mime_ctype_free(&ct);
}

static void
test_rfc2231_charset_decoded(void **state)
{
	struct mime_ctype	 ct;

	(void)state;
	ct = ctype_of("text/plain; name*=\"iso-8859-1''Fr%F6sche.txt\"", 0);
	assert_span(mime_ctype_param(&ct, "name")->value,
	    "Fr\xc3\xb6sche.txt");
	assert_span(mime_ctype_param(&ct, "name")->imap_value,
	    "iso-8859-1''Fr%F6sche.txt");
	mime_ctype_free(&ct);
}

static void
test_rfc2231_gap_served_by_section(void **state)
{
	struct mime_ctype	ct;

	(void)state;
	ct = ctype_of("a/b; n*2=c; n*0=a", 0);
	assert_int_equal(ct.nparams, 2);
	assert_span(ct.params[0].imap_name, "n*0");
	assert_span(ct.params[0].imap_value, "a");
	assert_span(ct.params[1].imap_name, "n*2");
	assert_span(ct.params[1].imap_value, "c");
	/* the meaning is still the sections in order, on the first */
	assert_span(ct.params[0].value, "ac");
	assert_span(ct.params[1].value, "");
	mime_ctype_free(&ct);
}

static void
test_encoded_words_in_quoted_value(void **state)
{
	struct mime_ctype	ct;

	(void)state;
	memset(&ct, 0, sizeof(ct));
	assert_int_equal(mime_hdr_disposition(span_str(
	    "attachment;\r\n filename=\"=?utf-8?B?w6k=?=.pdf\"; size=12"),
	    &ct), 0);
	assert_span(ct.type, "attachment");
	assert_int_equal(ct.subtype.len, 0);
	assert_span(mime_ctype_param(&ct, "filename")->value,
	    "\xc3\xa9.pdf");
	/* IMAP gets it as written: clients decode */
	assert_span(mime_ctype_param(&ct, "filename")->imap_value,
	    "=?utf-8?B?w6k=?=.pdf");
	assert_span(mime_ctype_param(&ct, "size")->value, "12");
	mime_ctype_free(&ct);
}

static void
test_quoted_pairs_and_comments(void **state)
{
	struct mime_ctype	ct;

	(void)state;
	ct = ctype_of(" (c) multipart (x) / (y) mixed (z) ; boundary=\"a\\\"b\"",
	    0);
	assert_span(ct.type, "multipart");
	assert_span(ct.subtype, "mixed");
	assert_span(mime_ctype_param(&ct, "boundary")->value, "a\"b");
	assert_span(mime_ctype_param(&ct, "boundary")->imap_value, "a\"b");
	mime_ctype_free(&ct);
}

static void
test_invalid_type_still_has_parameters(void **state)
{
	struct mime_ctype	ct;

	(void)state;
	ct = ctype_of("text; charset=utf-8", -1);
	assert_span(ct.type, "text");
	assert_int_equal(ct.subtype.len, 0);
	assert_span(mime_ctype_param(&ct, "charset")->value, "utf-8");
	assert_null(mime_ctype_param(&ct, "name"));
	mime_ctype_free(&ct);
	/* empty and hostile values leave a valid, empty result */
	ct = ctype_of("", -1);
	assert_int_equal(ct.nparams, 0);
	mime_ctype_free(&ct);
	ct = ctype_of("((((((((((", -1);
	assert_int_equal(ct.nparams, 0);
	mime_ctype_free(&ct);
}

static void
test_parameters_capped(void **state)
{
	struct mime_ctype	ct;
	struct buf		v;
	int			i;

	(void)state;
	buf_init(&v, 1 << 20);
	assert_int_equal(buf_append_str(&v, "a/b"), 0);
	for (i = 0; i < 300; i++)
		assert_int_equal(buf_printf(&v, "; p%d=%d", i, i), 0);
	ct = ctype_of(v.data, 0);
	assert_int_equal(ct.nparams, MIME_PARAMS_MAX);
	assert_true(ct.params_capped);
	assert_span(ct.params[MIME_PARAMS_MAX - 1].value, "63");
	mime_ctype_free(&ct);
	/* more sections than MIME_PARAM_SECTIONS_MAX: the rest dropped */
	buf_reset(&v);
	assert_int_equal(buf_append_str(&v, "a/b"), 0);
	for (i = 0; i < 150; i++)
		assert_int_equal(buf_printf(&v, "; n*%d=x", i), 0);
	ct = ctype_of(v.data, 0);
	assert_int_equal(ct.nparams, 1);
	assert_int_equal(ct.params[0].value.len, MIME_PARAM_SECTIONS_MAX);
	assert_true(ct.params_capped);
	mime_ctype_free(&ct);
	buf_free(&v);
}

/*
 * The IMAP forms Dovecot 2.3's BODYSTRUCTURE gave for the same value (a
 * private dovecot-imapd over a Maildir).  Dovecot also carries the
 * section number of the last RFC 2231 parameter over to a following
 * "name*" (e*=zz after c*2 comes out as "e*2*"), a slip we do not copy:
 * e* is served as "e*".
 */
static void
test_imap_params_as_dovecot(void **state)
{
	static const char	*want[][2] = {
		{ "d", "=?utf-8?q?x?=" }, { "a*", "utf-8%27%27x%25" },
		{ "b*", "''1%41" }, { "c*0", "x" }, { "c*2", "z" },
		{ "e*", "zz" },
	};
	struct mime_ctype	ct;
	size_t			i;

	(void)state;
	ct = ctype_of("text/plain; a*=utf-8%27%27x%25; b*0=1; b*1*=%41; "
	    "c*0=x; c*2=z; d=\"=?utf-8?q?x?=\"; e*=zz", 0);
	assert_int_equal(ct.nparams, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < ct.nparams; i++) {
		assert_span(ct.params[i].imap_name, want[i][0]);
		assert_span(ct.params[i].imap_value, want[i][1]);
	}
	/* the meanings: a* had no charset'lang' prefix, so %XX only */
	assert_span(mime_ctype_param(&ct, "a")->value, "utf-8''x%");
	assert_span(mime_ctype_param(&ct, "b")->value, "1A");
	assert_span(mime_ctype_param(&ct, "d")->value, "x");
	mime_ctype_free(&ct);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalwart_vectors),
		cmocka_unit_test(test_rfc2231_joined_and_imap_form),
		cmocka_unit_test(test_rfc2231_plain_first_section),
		cmocka_unit_test(test_rfc2231_charset_decoded),
		cmocka_unit_test(test_rfc2231_gap_served_by_section),
		cmocka_unit_test(test_encoded_words_in_quoted_value),
		cmocka_unit_test(test_quoted_pairs_and_comments),
		cmocka_unit_test(test_invalid_type_still_has_parameters),
		cmocka_unit_test(test_parameters_capped),
		cmocka_unit_test(test_imap_params_as_dovecot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
