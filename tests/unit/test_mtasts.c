/*
 * Unit tests for mtasts.c (RFC 8461): the policy text (§3.2), the TXT
 * record (§3.1) and the MX match (§4.1).  Tables of our own cases from
 * the RFC's grammar, then the vectors of postfix-mta-sts-resolver's test
 * set (tests/data/mta-sts/postfix-mta-sts-resolver: the policies its
 * nginx.conf serves and the records of its dnsmasq.conf.appendix), read
 * from the files, each with the outcome its name promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mtasts.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define VECTORS		"mta-sts/postfix-mta-sts-resolver"

/* --- policy text --- */

struct policy_case {
	const char		*name;
	const char		*text;
	int			 ok;
	enum mtasts_mode	 mode;
	uint32_t		 max_age;
	size_t			 nmx;
	const char		*mx0;
};

static const struct policy_case policy_cases[] = {
	{ "rfc example, CRLF", "version: STSv1\r\nmode: enforce\r\n"
	    "mx: mail.example.com\r\nmx: *.example.net\r\n"
	    "mx: backupmx.example.com\r\nmax_age: 604800\r\n", 0,
	    MTASTS_MODE_ENFORCE, 604800, 3, "mail.example.com" },
	{ "LF, no final line end", "version: STSv1\nmode: testing\n"
	    "mx: mx.example.org\nmax_age: 86400", 0, MTASTS_MODE_TESTING,
	    86400, 1, "mx.example.org" },
	{ "blanks after colon and at end", "version:STSv1 \nmode:\t enforce"
	    "\t\nmx:  MX.Example.ORG  \nmax_age: 1\n", 0,
	    MTASTS_MODE_ENFORCE, 1, 1, "mx.example.org" },
	{ "unknown keys ignored", "version: STSv1\nmode: enforce\n"
	    "colour: blue and green\nmx: a.example\nmax_age: 5\n"
	    "x-y.z_1: 1\n", 0, MTASTS_MODE_ENFORCE, 5, 1, "a.example" },
	{ "UTF-8 in an extension value", "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\nnote: gr\xc3\xbc\xc3\x9f" "e\n", 0,
	    MTASTS_MODE_ENFORCE, 5, 1, "a.example" },
	{ "DEL in a value", "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\nnote: a\x7f\n", -1, 0, 0, 0, NULL },
	{ "none without mx", "version: STSv1\nmode: none\nmax_age: 86400\n",
	    0, MTASTS_MODE_NONE, 86400, 0, NULL },
	{ "max_age capped", "version: STSv1\nmode: enforce\nmx: a.example\n"
	    "max_age: 9999999999\n", 0, MTASTS_MODE_ENFORCE,
	    MTASTS_MAX_AGE_MAX, 1, "a.example" },
	{ "max_age 0", "version: STSv1\nmode: enforce\nmx: a.example\n"
	    "max_age: 0\n", 0, MTASTS_MODE_ENFORCE, 0, 1, "a.example" },
	{ "blank line tolerated", "version: STSv1\n\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\n\n", 0, MTASTS_MODE_ENFORCE, 5, 1,
	    "a.example" },
	{ "wildcard", "version: STSv1\nmode: enforce\nmx: *.example.org\n"
	    "max_age: 5\n", 0, MTASTS_MODE_ENFORCE, 5, 1, "*.example.org" },
	{ "empty", "", -1, 0, 0, 0, NULL },
	{ "no version", "mode: enforce\nmx: a.example\nmax_age: 5\n", -1,
	    0, 0, 0, NULL },
	{ "version STSv2", "version: STSv2\nmode: enforce\nmx: a.example\n"
	    "max_age: 5\n", -1, 0, 0, 0, NULL },
	{ "keys are case-sensitive", "Version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\n", -1, 0, 0, 0, NULL },
	{ "mode value case-sensitive", "version: STSv1\nmode: Enforce\n"
	    "mx: a.example\nmax_age: 5\n", -1, 0, 0, 0, NULL },
	{ "no max_age", "version: STSv1\nmode: enforce\nmx: a.example\n",
	    -1, 0, 0, 0, NULL },
	{ "max_age 11 digits", "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 12345678901\n", -1, 0, 0, 0, NULL },
	{ "max_age negative", "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: -5\n", -1, 0, 0, 0, NULL },
	{ "enforce without mx", "version: STSv1\nmode: enforce\n"
	    "max_age: 5\n", -1, 0, 0, 0, NULL },
	{ "mode twice", "version: STSv1\nmode: enforce\nmode: none\n"
	    "mx: a.example\nmax_age: 5\n", -1, 0, 0, 0, NULL },
	{ "mx with a port", "version: STSv1\nmode: enforce\n"
	    "mx: a.example:25\nmax_age: 5\n", -1, 0, 0, 0, NULL },
	{ "mx wildcard inside", "version: STSv1\nmode: enforce\n"
	    "mx: a.*.example\nmax_age: 5\n", -1, 0, 0, 0, NULL },
	{ "mx bare star", "version: STSv1\nmode: enforce\nmx: *\n"
	    "max_age: 5\n", -1, 0, 0, 0, NULL },
	{ "line without colon", "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\ngarbage\n", -1, 0, 0, 0, NULL },
	{ "control character", "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\nx: a\001b\n", -1, 0, 0, 0, NULL },
	{ "bare CR inside", "version: STSv1\rmode: enforce\n"
	    "mx: a.example\nmax_age: 5\n", -1, 0, 0, 0, NULL },
	{ "field without value", "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\nfoo:\n", -1, 0, 0, 0, NULL },
};

static void
test_policy_table(void **state)
{
	struct mtasts_policy	 pol;
	const char		*err;
	size_t			 i;
	int			 r;

	(void)state;
	for (i = 0; i < NELEM(policy_cases); i++) {
		const struct policy_case *c = &policy_cases[i];

		err = NULL;
		r = mtasts_policy_parse(c->text, strlen(c->text), &pol, &err);
		if (r != c->ok)
			fail_msg("%s: got %d (%s)", c->name, r,
			    err != NULL ? err : "");
		if (r == -1) {
			assert_non_null(err);
			continue;
		}
		assert_int_equal(pol.mode, c->mode);
		assert_int_equal(pol.max_age, c->max_age);
		assert_int_equal(pol.nmx, c->nmx);
		if (c->mx0 != NULL)
			assert_string_equal(pol.mx[0], c->mx0);
	}
}

static void
test_policy_with_nul(void **state)
{
	static const char	 text[] = "version: STSv1\nmode: enforce\n"
	    "mx: a.example\0\nmax_age: 5\n";
	struct mtasts_policy	 pol;
	const char		*err;

	(void)state;
	assert_int_equal(mtasts_policy_parse(text, sizeof(text) - 1, &pol,
	    &err), -1);
}

static void
test_policy_size_bound(void **state)
{
	static const char	 head[] = "version: STSv1\nmode: enforce\n"
	    "mx: a.example\nmax_age: 5\n";
	struct mtasts_policy	 pol;
	const char		*err;
	char			*big;
	size_t			 n;

	(void)state;
	/* padding in an extension field, just at and just over the limit */
	big = xmalloc(MTASTS_POLICY_MAX + 2);
	memcpy(big, head, sizeof(head) - 1);
	n = sizeof(head) - 1;
	memcpy(big + n, "pad: ", 5);
	n += 5;
	memset(big + n, 'x', MTASTS_POLICY_MAX - n - 1);
	big[MTASTS_POLICY_MAX - 1] = '\n';
	assert_int_equal(mtasts_policy_parse(big, MTASTS_POLICY_MAX, &pol,
	    &err), 0);
	big[MTASTS_POLICY_MAX - 1] = 'x';
	big[MTASTS_POLICY_MAX] = '\n';
	assert_int_equal(mtasts_policy_parse(big, MTASTS_POLICY_MAX + 1,
	    &pol, &err), -1);
	assert_string_equal(err, "policy larger than 64 KiB");
	free(big);
}

static void
test_policy_mx_count_bound(void **state)
{
	struct mtasts_policy	 pol;
	const char		*err;
	char			 text[4096];
	size_t			 i, o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "version: STSv1\n"
	    "mode: enforce\nmax_age: 5\n");
	for (i = 0; i < MTASTS_MX_MAX; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o,
		    "mx: mx%zu.example\n", i);
	assert_int_equal(mtasts_policy_parse(text, o, &pol, &err), 0);
	assert_int_equal(pol.nmx, MTASTS_MX_MAX);
	assert_string_equal(pol.mx[MTASTS_MX_MAX - 1], "mx31.example");
	o += (size_t)snprintf(text + o, sizeof(text) - o, "mx: one.more\n");
	assert_int_equal(mtasts_policy_parse(text, o, &pol, &err), -1);
	assert_string_equal(err, "too many mx lines");
}

/* --- TXT record --- */

struct txt_case {
	const char	*text;
	int		 ok;
	const char	*id;
};

static const struct txt_case txt_cases[] = {
	{ "v=STSv1; id=20160831085700Z;", 0, "20160831085700Z" },
	{ "v=STSv1;id=abc", 0, "abc" },
	{ "v=STSv1 ; id=abc ; ", 0, "abc" },
	{ "v=STSv1; id=abc; ext.1=some-value", 0, "abc" },
	{ "v=STSv1; ext=v; id=x1", 0, "x1" },
	{ "v=STSv1; id=12345678901234567890123456789012", 0,
	    "12345678901234567890123456789012" },
	{ "v=STSv1; id=123456789012345678901234567890123", -1, NULL },
	{ "v=STSv1; id=", -1, NULL },
	{ "v=STSv1; id=a-b", -1, NULL },
	{ "v=STSv1;", -1, NULL },
	{ "v=STSv1", -1, NULL },
	{ "v=STSv1; id=a; id=b", -1, NULL },
	{ "v=STSv12; id=a", -1, NULL },
	{ "v=stsv1; id=a", -1, NULL },
	{ "id=a; v=STSv1", -1, NULL },
	{ "v=STSv1; id=a; =x", -1, NULL },
	{ "v=STSv1; id=a; e=", -1, NULL },
	{ "v=STSv1; id=a; e=x=y", -1, NULL },
	{ "v=STSv1 id=a", -1, NULL },
};

static void
test_txt_table(void **state)
{
	char		 id[MTASTS_ID_MAX + 1];
	const char	*err;
	size_t		 i;
	int		 r;

	(void)state;
	for (i = 0; i < NELEM(txt_cases); i++) {
		const struct txt_case *c = &txt_cases[i];

		err = NULL;
		r = mtasts_txt_parse(c->text, strlen(c->text), id, &err);
		if (r != c->ok)
			fail_msg("\"%s\": got %d (%s)", c->text, r,
			    err != NULL ? err : "");
		if (r == 0)
			assert_string_equal(id, c->id);
	}
}

static void
test_txt_pick(void **state)
{
	struct dns_txt	 t[3];
	char		 id[MTASTS_ID_MAX + 1];
	const char	*err;

	(void)state;
	t[0].data = (char *)"v=spf1 -all";
	t[0].len = strlen(t[0].data);
	t[1].data = (char *)"v=STSv1; id=one";
	t[1].len = strlen(t[1].data);
	t[2].data = (char *)"v=STSv1; id=two";
	t[2].len = strlen(t[2].data);
	assert_int_equal(mtasts_txt_pick(t, 0, id, &err), 0);
	assert_int_equal(mtasts_txt_pick(t, 1, id, &err), 0);
	assert_int_equal(mtasts_txt_pick(t, 2, id, &err), 1);
	assert_string_equal(id, "one");
	/* §3.1: two records left: no policy */
	assert_int_equal(mtasts_txt_pick(t, 3, id, &err), -1);
	assert_string_equal(err, "more than one v=STSv1 TXT record");
	t[1].data = (char *)"v=STSv1; id=bad!";
	t[1].len = strlen(t[1].data);
	assert_int_equal(mtasts_txt_pick(t, 2, id, &err), -1);
}

/* --- MX match --- */

struct match_case {
	const char	*pattern;
	const char	*host;
	bool		 match;
};

static const struct match_case match_cases[] = {
	{ "mail.example.com", "mail.example.com", true },
	{ "mail.example.com", "MAIL.Example.COM", true },
	{ "mail.example.com", "mail.example.com.", true },
	{ "mail.example.com", "mail2.example.com", false },
	{ "mail.example.com", "example.com", false },
	{ "mail.example.com", "xmail.example.com", false },
	/* §4.1: the wildcard stands for one label, the left-most */
	{ "*.example.com", "mx.example.com", true },
	{ "*.example.com", "MX.EXAMPLE.com.", true },
	{ "*.example.com", "example.com", false },
	{ "*.example.com", "a.b.example.com", false },
	{ "*.example.com", ".example.com", false },
	{ "*.example.com", "mx.example.net", false },
	{ "*.example.com", "mxexample.com", false },
};

static void
test_mx_match(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(match_cases); i++)
		if (mtasts_mx_match(match_cases[i].pattern,
		    match_cases[i].host) != match_cases[i].match)
			fail_msg("%s against %s: expected %s",
			    match_cases[i].host, match_cases[i].pattern,
			    match_cases[i].match ? "match" : "no match");
}

static void
test_mx_list(void **state)
{
	struct mtasts_policy	 pol;
	const char		*err, *text = "version: STSv1\nmode: enforce\n"
	    "mx: *.example.org\nmx: mx1.other.net\nmax_age: 60\n";
	char			 out[64], small[20];

	(void)state;
	assert_int_equal(mtasts_policy_parse(text, strlen(text), &pol, &err),
	    0);
	mtasts_policy_mx_list(&pol, out, sizeof(out));
	assert_string_equal(out, "*.example.org, mx1.other.net");
	mtasts_policy_mx_list(&pol, small, sizeof(small));
	assert_string_equal(small, "*.example.org...");
	assert_true(mtasts_policy_match(&pol, "a.example.org"));
	assert_true(mtasts_policy_match(&pol, "mx1.other.net"));
	assert_false(mtasts_policy_match(&pol, "mx2.other.net"));
	assert_string_equal(mtasts_mode_name(pol.mode), "enforce");
}

/* --- the postfix-mta-sts-resolver vectors --- */

static char *
read_vector(const char *name, size_t *len_out)
{
	char	 path[512];
	FILE	*f;
	char	*buf;
	size_t	 n;

	(void)snprintf(path, sizeof(path), "%s/" VECTORS "/%s",
	    getenv("CACHET_TESTDATA") != NULL ? getenv("CACHET_TESTDATA") :
	    "tests/data", name);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot open", path);
	buf = xmalloc(64 * 1024);
	n = fread(buf, 1, 64 * 1024 - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	*len_out = n;
	return buf;
}

/*
 * Each `return 200 "..."` in nginx.conf, with the server_name above it,
 * unescaped ("\n").  The two over-long policies are made by Lua there;
 * test_policy_overlength builds them the same way.
 */
struct served {
	char	host[64];
	int	status;
	char	body[256];
};

static size_t
nginx_policies(struct served *out, size_t max)
{
	char		*conf, *p, *e;
	size_t		 len, n = 0, o;
	char		 host[64] = "";

	conf = read_vector("nginx.conf", &len);
	for (p = conf; (p = strstr(p, "    ")) != NULL && n < max; p++) {
		if (strncmp(p, "    server_name ", 16) == 0) {
			e = strchr(p + 16, ';');
			assert_non_null(e);
			(void)snprintf(host, sizeof(host), "%.*s",
			    (int)(e - p - 16), p + 16);
			continue;
		}
		if (strncmp(p, "    return ", 11) != 0 ||
		    strchr(p + 11, '"') == NULL ||
		    strchr(p + 11, '"') > strchr(p + 11, '\n'))
			continue;
		(void)str_copy(out[n].host, sizeof(out[n].host), host);
		out[n].status = (int)strtol(p + 11, NULL, 10);
		p = strchr(p + 11, '"') + 1;
		for (o = 0; *p != '"' && o + 1 < sizeof(out[n].body); p++) {
			if (p[0] == '\\' && p[1] == 'n') {
				out[n].body[o++] = '\n';
				p++;
			} else
				out[n].body[o++] = *p;
		}
		out[n].body[o] = '\0';
		n++;
	}
	free(conf);
	return n;
}

/*
 * What each policy's text must give, by the name upstream gave it.  The
 * ones named bad for reasons outside the text (bad-policy3: served as
 * text/html, bad-policy4: HTTP 404, bad-cert*: certificates) are valid
 * text: the fetch refuses them (tests/blackbox/test_mta_sts.py).
 */
struct expect {
	const char		*host;
	int			 ok;
	enum mtasts_mode	 mode;
	uint32_t		 max_age;
};

static const struct expect nginx_expect[] = {
	{ "mta-sts.good.loc", 0, MTASTS_MODE_ENFORCE, 86400 },
	{ "mta-sts.bad-policy1.loc", -1, 0, 0 },	/* "garbage" */
	{ "mta-sts.bad-policy2.loc", -1, 0, 0 },	/* no mx */
	{ "mta-sts.bad-policy3.loc", 0, MTASTS_MODE_ENFORCE, 86400 },
	{ "mta-sts.bad-policy4.loc", 0, MTASTS_MODE_ENFORCE, 86400 },
	{ "mta-sts.bad-policy5.loc", -1, 0, 0 },	/* max_age: xxx */
	/*
	 * max_age: 31557601.  Upstream calls it bad; RFC 8461 §3.2 gives
	 * the field as 1*10(DIGIT) with "a maximum value of 31557600" and
	 * says nothing of refusing a larger one, so we read it as that
	 * maximum (as the issue asks: "capped at a year").  Documented
	 * difference, not an error in either.
	 */
	{ "mta-sts.bad-policy6.loc", 0, MTASTS_MODE_ENFORCE,
	    MTASTS_MAX_AGE_MAX },
	{ "mta-sts.bad-policy7.loc", -1, 0, 0 },	/* no mode */
	{ "mta-sts.bad-policy8.loc", -1, 0, 0 },	/* mode: doubt */
	{ "mta-sts.bad-cert1.loc", 0, MTASTS_MODE_ENFORCE, 86400 },
	{ "mta-sts.bad-cert2.loc", 0, MTASTS_MODE_ENFORCE, 86400 },
	{ "mta-sts.valid-none.loc", 0, MTASTS_MODE_NONE, 86400 },
	{ "mta-sts.testing.loc", 0, MTASTS_MODE_TESTING, 86400 },
	{ "mta-sts.fast-expire.loc", 0, MTASTS_MODE_ENFORCE, 1 },
};

static void
test_vectors_policies(void **state)
{
	struct served		 s[32];
	struct mtasts_policy	 pol;
	const struct expect	*x;
	const char		*err;
	size_t			 n, i, j, checked = 0;
	int			 r;

	(void)state;
	n = nginx_policies(s, NELEM(s));
	for (i = 0; i < n; i++) {
		x = NULL;
		for (j = 0; j < NELEM(nginx_expect) && x == NULL; j++)
			if (strcmp(nginx_expect[j].host, s[i].host) == 0)
				x = &nginx_expect[j];
		if (x == NULL)
			fail_msg("%s: a policy with no expectation",
			    s[i].host);
		assert_non_null(x);
		r = mtasts_policy_parse(s[i].body, strlen(s[i].body), &pol,
		    &err);
		if (r != x->ok)
			fail_msg("%s: got %d (%s)", s[i].host, r,
			    r == -1 ? err : "valid");
		checked++;
		if (r == -1)
			continue;
		assert_int_equal(pol.mode, x->mode);
		assert_int_equal(pol.max_age, x->max_age);
		if (pol.mode != MTASTS_MODE_NONE) {
			assert_int_equal(pol.nmx, 1);
			assert_string_equal(pol.mx[0], "mail.loc");
			assert_true(mtasts_policy_match(&pol, "mail.loc"));
			assert_false(mtasts_policy_match(&pol,
			    "mx.mail.loc"));
		}
	}
	assert_int_equal(checked, NELEM(nginx_expect));
}

/* static-overlength and chunked-overlength: 4 lines, then 129 KiB */
static void
test_vectors_overlength(void **state)
{
	struct mtasts_policy	 pol;
	const char		*err;
	char			*big;
	size_t			 n, i;

	(void)state;
	big = xmalloc(200 * 1024);
	n = (size_t)snprintf(big, 200 * 1024, "version: STSv1\n"
	    "mode: enforce\nmax_age: 86400\nmx: mail.loc\n");
	for (i = 0; i <= 2048; i++, n += 64)
		memset(big + n, 'a', 64);
	assert_int_equal(mtasts_policy_parse(big, n, &pol, &err), -1);
	assert_string_equal(err, "policy larger than 64 KiB");
	free(big);
}

static void
test_vectors_records(void **state)
{
	static const struct {
		const char	*name;
		int		 pick;	/* mtasts_txt_pick() */
	} expect[] = {
		{ "_mta-sts.good.loc", 1 },
		/* v= not first, garbage, "v=STSv12": discarded (§3.1) */
		{ "_mta-sts.bad-record1.loc", 0 },
		{ "_mta-sts.bad-record2.loc", 0 },
		{ "_mta-sts.bad-record3.loc", 0 },
	};
	struct dns_txt	 t;
	char		*conf, *p, *e, id[MTASTS_ID_MAX + 1], name[64];
	const char	*err;
	size_t		 len, i, seen = 0;
	int		 r;

	(void)state;
	conf = read_vector("dnsmasq.conf.appendix", &len);
	for (p = conf; (p = strstr(p, "txt-record=")) != NULL; p = e) {
		p += 11;
		e = strchr(p, ',');
		assert_non_null(e);
		(void)snprintf(name, sizeof(name), "%.*s", (int)(e - p), p);
		p = e + 2;
		e = strchr(p, '"');
		assert_non_null(e);
		t.data = p;
		t.len = (size_t)(e - p);
		r = mtasts_txt_pick(&t, 1, id, &err);
		for (i = 0; i < NELEM(expect); i++) {
			if (strcmp(expect[i].name, name) != 0)
				continue;
			seen++;
			if (r != expect[i].pick)
				fail_msg("%s: got %d", name, r);
		}
		/* every other domain publishes the good record */
		if (strncmp(name, "_mta-sts.bad-record", 19) != 0) {
			assert_int_equal(r, 1);
			assert_string_equal(id, "20180907T090909");
		}
	}
	assert_int_equal(seen, NELEM(expect));
	free(conf);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_policy_table),
	cmocka_unit_test(test_policy_with_nul),
	cmocka_unit_test(test_policy_size_bound),
	cmocka_unit_test(test_policy_mx_count_bound),
	cmocka_unit_test(test_txt_table),
	cmocka_unit_test(test_txt_pick),
	cmocka_unit_test(test_mx_match),
	cmocka_unit_test(test_mx_list),
	cmocka_unit_test(test_vectors_policies),
	cmocka_unit_test(test_vectors_overlength),
	cmocka_unit_test(test_vectors_records),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
