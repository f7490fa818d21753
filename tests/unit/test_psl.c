/*
 * Unit tests for psl.c.  The first table is the Public Suffix List
 * project's own test list (checkPublicSuffix() in its tests/test_psl.txt:
 * a name and its registrable domain, or none), run against the list
 * Debian ships (scripts/install-deps installs publicsuffix); the rest is
 * ours, on a small list written here: sections, wildcards, exceptions,
 * Punycode (RFC 3492 §7.1's sample strings), malformed lines and names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psl.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct org_case {
	const char	*name;
	const char	*org;	/* NULL: a public suffix, or invalid */
};

/* The PSL project's checkPublicSuffix() cases. */
static const struct org_case psl_cases[] = {
	/* Mixed case. */
	{ "COM", NULL },
	{ "example.COM", "example.COM" },
	{ "WwW.example.COM", "example.COM" },
	/* Leading dot. */
	{ ".com", NULL },
	{ ".example", NULL },
	{ ".example.com", NULL },
	{ ".example.example", NULL },
	/* Unlisted TLD. */
	{ "example", NULL },
	{ "example.example", "example.example" },
	{ "b.example.example", "example.example" },
	{ "a.b.example.example", "example.example" },
	/* TLD with only 1 rule. */
	{ "biz", NULL },
	{ "domain.biz", "domain.biz" },
	{ "b.domain.biz", "domain.biz" },
	{ "a.b.domain.biz", "domain.biz" },
	/* TLD with some 2-level rules. */
	{ "com", NULL },
	{ "example.com", "example.com" },
	{ "b.example.com", "example.com" },
	{ "a.b.example.com", "example.com" },
	{ "uk.com", NULL },
	{ "example.uk.com", "example.uk.com" },
	{ "b.example.uk.com", "example.uk.com" },
	{ "a.b.example.uk.com", "example.uk.com" },
	{ "test.ac", "test.ac" },
	/* TLD with only 1 (wildcard) rule. */
	{ "mm", NULL },
	{ "c.mm", NULL },
	{ "b.c.mm", "b.c.mm" },
	{ "a.b.c.mm", "b.c.mm" },
	/* More complex TLD. */
	{ "jp", NULL },
	{ "test.jp", "test.jp" },
	{ "www.test.jp", "test.jp" },
	{ "ac.jp", NULL },
	{ "test.ac.jp", "test.ac.jp" },
	{ "www.test.ac.jp", "test.ac.jp" },
	{ "kyoto.jp", NULL },
	{ "test.kyoto.jp", "test.kyoto.jp" },
	{ "ide.kyoto.jp", NULL },
	{ "b.ide.kyoto.jp", "b.ide.kyoto.jp" },
	{ "a.b.ide.kyoto.jp", "b.ide.kyoto.jp" },
	{ "c.kobe.jp", NULL },
	{ "b.c.kobe.jp", "b.c.kobe.jp" },
	{ "a.b.c.kobe.jp", "b.c.kobe.jp" },
	{ "city.kobe.jp", "city.kobe.jp" },
	{ "www.city.kobe.jp", "city.kobe.jp" },
	/* TLD with a wildcard rule and exceptions. */
	{ "ck", NULL },
	{ "test.ck", NULL },
	{ "b.test.ck", "b.test.ck" },
	{ "a.b.test.ck", "b.test.ck" },
	{ "www.ck", "www.ck" },
	{ "www.www.ck", "www.ck" },
	/* US K12. */
	{ "us", NULL },
	{ "test.us", "test.us" },
	{ "www.test.us", "test.us" },
	{ "ak.us", NULL },
	{ "test.ak.us", "test.ak.us" },
	{ "www.test.ak.us", "test.ak.us" },
	{ "k12.ak.us", NULL },
	{ "test.k12.ak.us", "test.k12.ak.us" },
	{ "www.test.k12.ak.us", "test.k12.ak.us" },
	/* IDN labels. */
	{ "食狮.com.cn", "食狮.com.cn" },
	{ "食狮.公司.cn", "食狮.公司.cn" },
	{ "www.食狮.公司.cn", "食狮.公司.cn" },
	{ "shishi.公司.cn", "shishi.公司.cn" },
	{ "公司.cn", NULL },
	{ "食狮.中国", "食狮.中国" },
	{ "www.食狮.中国", "食狮.中国" },
	{ "shishi.中国", "shishi.中国" },
	{ "中国", NULL },
	/* Same as above, but punycoded. */
	{ "xn--85x722f.com.cn", "xn--85x722f.com.cn" },
	{ "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
	{ "www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
	{ "shishi.xn--55qx5d.cn", "shishi.xn--55qx5d.cn" },
	{ "xn--55qx5d.cn", NULL },
	{ "xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s" },
	{ "www.xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s" },
	{ "shishi.xn--fiqs8s", "shishi.xn--fiqs8s" },
	{ "xn--fiqs8s", NULL },
};

static void
check_org(const struct psl *psl, unsigned sections, const char *name,
    const char *want)
{
	const char	*org;
	size_t		 orglen;
	int		 rc;

	rc = psl_org_domain(psl, name, strlen(name), sections, &org, &orglen);
	if (want == NULL) {
		if (rc != -1)
			fail_msg("%s: got \"%.*s\", want none", name,
			    (int)orglen, org);
		return;
	}
	if (rc != 0)
		fail_msg("%s: got none, want %s", name, want);
	if (orglen != strlen(want) || memcmp(org, want, orglen) != 0)
		fail_msg("%s: got \"%.*s\", want %s", name, (int)orglen, org,
		    want);
}

static void
test_psl_project_cases(void **state)
{
	struct psl	*psl = psl_new();
	const char	*err = NULL;
	size_t		 i, skipped = 99;

	(void)state;
	if (psl_load(psl, PSL_FILE_DEFAULT, &skipped, &err) == -1)
		fail_msg("%s: %s", PSL_FILE_DEFAULT, err);
	/* Debian's file: thousands of rules, every line a rule we read. */
	assert_true(psl_count(psl) > 5000);
	assert_int_equal(skipped, 0);
	for (i = 0; i < NELEM(psl_cases); i++)
		check_org(psl, PSL_ALL, psl_cases[i].name, psl_cases[i].org);
	/* "uk.com" is a PRIVATE rule (CentralNic): ICANN alone stops at com. */
	check_org(psl, PSL_ICANN, "a.example.uk.com", "uk.com");
	psl_free(psl);
}

static const char small_list[] =
    "// a comment line\n"
    "// ===BEGIN ICANN DOMAINS===\n"
    "test\n"
    "co.test   trailing words are ignored\r\n"
    "*.wild.test\n"
    "!keep.wild.test\n"
    "\n"
    "bad..test\n"
    "a*b.test\n"
    "// ===END ICANN DOMAINS===\n"
    "// ===BEGIN PRIVATE DOMAINS===\n"
    "pages.test\n"
    "*.cloud.test\n"
    "// ===END PRIVATE DOMAINS===\n";

static void
test_psl_sections(void **state)
{
	struct psl	*psl = psl_new();
	const char	*err = NULL;
	size_t		 skipped = 0;

	(void)state;
	assert_int_equal(psl_parse(psl, small_list, sizeof(small_list) - 1,
	    &skipped, &err), 0);
	assert_int_equal(skipped, 2);		/* bad..test, a*b.test */
	assert_int_equal(psl_count(psl), 6);	/* wild.test, keep.wild.test */

	check_org(psl, PSL_ALL, "x.y.co.test", "y.co.test");
	check_org(psl, PSL_ALL, "co.test", NULL);
	check_org(psl, PSL_ALL, "a.b.wild.test", "a.b.wild.test");
	check_org(psl, PSL_ALL, "b.wild.test", NULL);
	check_org(psl, PSL_ALL, "x.keep.wild.test", "keep.wild.test");
	/* The wildcard parent itself is no rule: *.test's "test" is. */
	check_org(psl, PSL_ALL, "wild.test", "wild.test");

	check_org(psl, PSL_ALL, "me.pages.test", "me.pages.test");
	check_org(psl, PSL_ICANN, "me.pages.test", "pages.test");
	check_org(psl, PSL_PRIVATE, "me.pages.test", "me.pages.test");
	check_org(psl, PSL_ALL, "x.y.z.cloud.test", "y.z.cloud.test");
	check_org(psl, PSL_ICANN, "x.y.z.cloud.test", "cloud.test");

	/* Trailing dot: accepted and left out of the answer. */
	check_org(psl, PSL_ALL, "mail.example.test.", "example.test");
	assert_int_equal(psl_suffix_labels(psl, "a.co.test", 9, PSL_ALL), 2);
	/* Not names. */
	check_org(psl, PSL_ALL, "", NULL);
	check_org(psl, PSL_ALL, "a..example.test", NULL);
	check_org(psl, PSL_ALL, "a b.example.test", NULL);
	check_org(psl, PSL_ALL, "\xff.example.test", NULL);
	/* An empty list has only "*". */
	psl_free(psl);
	psl = psl_new();
	check_org(psl, PSL_ALL, "a.b.c.example", "c.example");
	check_org(psl, PSL_ALL, "example", NULL);
	psl_free(psl);
}

struct puny_case {
	const char	*utf8;
	const char	*alabel;
};

/* RFC 3492 §7.1 samples (lower-cased, as names are compared). */
static const struct puny_case puny_cases[] = {
	/* (A) Arabic (Egyptian) */
	{ "\u0644\u064a\u0647\u0645\u0627\u0628\u062a\u0643\u0644\u0645"
	  "\u0648\u0634\u0639\u0631\u0628\u064a\u061f",
	  "xn--egbpdaj6bu4bxfgehfvwxn" },
	/* (B) Chinese (simplified) */
	{ "\u4ed6\u4eec\u4e3a\u4ec0\u4e48\u4e0d\u8bf4\u4e2d\u6587",
	  "xn--ihqwcrb4cv8a8dqg056pqjye" },
	/* (L) 3<nen>B<gumi><kinpachi><sensei> */
	{ "3\u5e74B\u7d44\u91d1\u516b\u5148\u751f",
	  "xn--3b-ww4c5e180e575a65lsy2b" },
	/* (P) Maji<de>Koi<suru>5<byou><mae> */
	{ "Maji\u3067Koi\u3059\u308b5\u79d2\u524d",
	  "xn--majikoi5-783gue6qz075azm5e" },
	{ "b\u00fccher.example", "xn--bcher-kva.example" },
	{ "EXAMPLE.Org", "example.org" },
};

static void
test_psl_punycode(void **state)
{
	char	out[PSL_NAME_MAX + 1];
	size_t	i;
	char	longl[80];

	(void)state;
	for (i = 0; i < NELEM(puny_cases); i++) {
		if (psl_alabel(puny_cases[i].utf8, strlen(puny_cases[i].utf8),
		    out, sizeof(out)) == -1)
			fail_msg("case %zu: -1", i);
		assert_string_equal(out, puny_cases[i].alabel);
	}
	/* Overlong, surrogate and truncated UTF-8 are not names. */
	assert_int_equal(psl_alabel("\xc0\xaf.x", 4, out, sizeof(out)), -1);
	assert_int_equal(psl_alabel("\xed\xa0\x80.x", 5, out, sizeof(out)),
	    -1);
	assert_int_equal(psl_alabel("a\xe4\xbb", 3, out, sizeof(out)), -1);
	/* A label of 64 octets is too long (RFC 1035 §2.3.4). */
	memset(longl, 'a', 64);
	assert_int_equal(psl_alabel(longl, 64, out, sizeof(out)), -1);
	assert_int_equal(psl_alabel(longl, 63, out, sizeof(out)), 0);
	/* A small output buffer is refused, not overrun. */
	assert_int_equal(psl_alabel("abc.def", 7, out, 4), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psl_project_cases),
		cmocka_unit_test(test_psl_sections),
		cmocka_unit_test(test_psl_punycode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
