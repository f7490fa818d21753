/*
 * Unit tests for the spam verdict (lookup_spam.h, issue 15): the points
 * for the SPF, DKIM, DMARC and ARC results, the Bayes buckets and the
 * rules' hits in the content score, the thresholds (and `spam no`), the
 * X-Spam-Score / X-Spam-Status fields (folded under 78 columns,
 * printable, "tests=none"), the text of the refusal, and the directives
 * spam, spam-junk and spam-reject as conf.c reads and checks them.
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
#include "conf.h"
#include "lookup_spam.h"
#include "msgauth.h"
#include "spam.h"
#include "util.h"

#define CONF_HEAD	"hostname mx.example.org\nlisten smtp 127.0.0.1:2525\n"

static struct conf *
conf_with(const char *extra, char *errs, size_t errsz)
{
	char	text[1024];

	(void)snprintf(text, sizeof(text), "%s%s\n", CONF_HEAD, extra);
	return conf_parse("t.conf", text, strlen(text), errs, errsz);
}

static struct conf *
conf_ok(const char *extra)
{
	char		 errs[1024];
	struct conf	*c = conf_with(extra, errs, sizeof(errs));

	if (c == NULL)
		fail_msg("%s", errs);
	return c;
}

/* The points of the hit called name in s, or fail. */
static int32_t
hit(const struct spam_score *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->nhits; i++)
		if (strcmp(s->hits[i].name, name) == 0)
			return s->hits[i].score;
	fail_msg("no hit %s", name);
	return 0;
}

static bool
has(const struct spam_score *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->nhits; i++)
		if (strcmp(s->hits[i].name, name) == 0)
			return true;
	return false;
}

static struct msgauth *
mx_message(void)
{
	struct msgauth	*m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->kind = MSGAUTH_MX;
	m->spf = SPF_NONE;
	(void)str_copy(m->dmarc.from_domain, sizeof(m->dmarc.from_domain),
	    "news.example.com");
	(void)str_copy(m->dmarc.org_domain, sizeof(m->dmarc.org_domain),
	    "example.com");
	return m;
}

/* --- authentication points --------------------------------------------- */

static void
test_auth_nothing_known_scores_nothing(void **state)
{
	struct msgauth		*m = mx_message();
	struct spam_score	 s = { 0 };

	(void)state;
	lookup_spam_auth(m, &s);
	assert_int_equal(s.nhits, 0);
	assert_int_equal(s.total, 0);
	free(m);
}

static void
test_auth_spf(void **state)
{
	struct msgauth		*m = mx_message();
	struct spam_score	 fail = { 0 }, soft = { 0 }, perm = { 0 },
				 pass = { 0 };

	(void)state;
	m->spf = SPF_FAIL;
	lookup_spam_auth(m, &fail);
	m->spf = SPF_SOFTFAIL;
	lookup_spam_auth(m, &soft);
	m->spf = SPF_PERMERROR;
	lookup_spam_auth(m, &perm);
	m->spf = SPF_PASS;
	lookup_spam_auth(m, &pass);
	/* a hard fail weighs more than a soft one, both add */
	assert_true(hit(&fail, "SPF_FAIL") > hit(&soft, "SPF_SOFTFAIL"));
	assert_true(hit(&soft, "SPF_SOFTFAIL") > 0);
	assert_true(hit(&perm, "SPF_PERMERROR") > 0);
	assert_int_equal(fail.total, hit(&fail, "SPF_FAIL"));
	/* a pass alone says nothing: spammers publish SPF too */
	assert_int_equal(pass.nhits, 0);
	/* modest: an SPF fail alone does not reach the default Junk line */
	assert_true(fail.total < CONF_SPAM_JUNK_DEFAULT);
	free(m);
}

static void
test_auth_dkim_aligned_and_not(void **state)
{
	struct msgauth		*m = mx_message();
	struct spam_score	 s;
	const char		*aligned[] = { "news.example.com",
				    "example.com", "mail.example.com",
				    "NEWS.Example.COM" };
	size_t			 i;

	(void)state;
	m->ndkim = 1;
	m->dkim[0].result = MSGAUTH_DKIM_PASS;
	for (i = 0; i < sizeof(aligned) / sizeof(aligned[0]); i++) {
		memset(&s, 0, sizeof(s));
		(void)str_copy(m->dkim[0].domain, sizeof(m->dkim[0].domain),
		    aligned[i]);
		lookup_spam_auth(m, &s);
		assert_true(hit(&s, "DKIM_VALID_AU") < 0);
	}
	/* a pass for another domain is neither aligned nor invalid */
	memset(&s, 0, sizeof(s));
	(void)str_copy(m->dkim[0].domain, sizeof(m->dkim[0].domain),
	    "badexample.com");
	lookup_spam_auth(m, &s);
	assert_int_equal(s.nhits, 0);
	/* signed, nothing verifies */
	memset(&s, 0, sizeof(s));
	m->dkim[0].result = MSGAUTH_DKIM_FAIL;
	m->ndkim = 2;
	m->dkim[1].result = MSGAUTH_DKIM_PERMERROR;
	lookup_spam_auth(m, &s);
	assert_true(hit(&s, "DKIM_INVALID") > 0);
	/* one failing, one aligned passing: the pass counts */
	memset(&s, 0, sizeof(s));
	m->dkim[1].result = MSGAUTH_DKIM_PASS;
	(void)str_copy(m->dkim[1].domain, sizeof(m->dkim[1].domain),
	    "example.com");
	lookup_spam_auth(m, &s);
	assert_false(has(&s, "DKIM_INVALID"));
	assert_true(has(&s, "DKIM_VALID_AU"));
	free(m);
}

static void
test_auth_dmarc(void **state)
{
	struct msgauth		*m = mx_message();
	struct spam_score	 s = { 0 };

	(void)state;
	m->dmarc.result = MSGAUTH_DMARC_PASS;
	lookup_spam_auth(m, &s);
	assert_true(hit(&s, "DMARC_PASS") < 0);

	/* a p=reject fail let through by report-only or pct= */
	memset(&s, 0, sizeof(s));
	m->dmarc.result = MSGAUTH_DMARC_FAIL;
	m->dmarc.policy = MSGAUTH_POLICY_REJECT;
	m->dmarc.disposition = MSGAUTH_POLICY_NONE;
	lookup_spam_auth(m, &s);
	assert_true(hit(&s, "DMARC_REJECT_NOT_ENFORCED") > 0);
	assert_true(s.total < CONF_SPAM_JUNK_DEFAULT);

	memset(&s, 0, sizeof(s));
	m->dmarc.policy = MSGAUTH_POLICY_QUARANTINE;
	lookup_spam_auth(m, &s);
	assert_true(hit(&s, "DMARC_QUARANTINE_NOT_ENFORCED") > 0);

	/* enforced: the disposition acts, the score does not add to it */
	memset(&s, 0, sizeof(s));
	m->dmarc.disposition = MSGAUTH_POLICY_QUARANTINE;
	lookup_spam_auth(m, &s);
	assert_int_equal(s.nhits, 0);

	/* p=none fails, and a trusted ARC chain's override: nothing */
	memset(&s, 0, sizeof(s));
	m->dmarc.policy = MSGAUTH_POLICY_NONE;
	m->dmarc.disposition = MSGAUTH_POLICY_NONE;
	lookup_spam_auth(m, &s);
	assert_int_equal(s.nhits, 0);
	m->dmarc.policy = MSGAUTH_POLICY_REJECT;
	m->dmarc.arc_override = true;
	lookup_spam_auth(m, &s);
	assert_false(has(&s, "DMARC_REJECT_NOT_ENFORCED"));
	free(m);
}

static void
test_auth_arc(void **state)
{
	struct msgauth		*m = mx_message();
	struct spam_score	 s = { 0 };

	(void)state;
	m->arc.result = MSGAUTH_ARC_PASS;
	lookup_spam_auth(m, &s);
	assert_int_equal(s.nhits, 0);	/* anyone can seal */
	m->arc.trusted = true;
	lookup_spam_auth(m, &s);
	assert_true(hit(&s, "ARC_TRUSTED") < 0);
	memset(&s, 0, sizeof(s));
	m->arc.result = MSGAUTH_ARC_FAIL;
	lookup_spam_auth(m, &s);
	assert_true(hit(&s, "ARC_INVALID") > 0);
	free(m);
}

/* --- content: rules and Bayes ------------------------------------------ */

static void
test_content_rules_only_when_untrained(void **state)
{
	struct conf		*c = conf_ok("");
	struct spam_features	 f;
	struct spam_score	 s = { 0 };

	(void)state;
	spam_features_init(&f);
	spam_score_add(&f.rules, "SUBJ_ALL_CAPS", 1500, "Subject in capitals");
	spam_score_add(&f.rules, "HTML_ONLY", 700, "HTML, no text part");
	lookup_spam_content(c, &f, -1, &s);
	assert_int_equal(s.nhits, 2);
	assert_int_equal(s.total, 2200);
	assert_string_equal(s.hits[0].desc, "Subject in capitals");
	/* NaN or out of range: no opinion either */
	memset(&s, 0, sizeof(s));
	lookup_spam_content(c, &f, 1.5, &s);
	assert_int_equal(s.nhits, 2);
	spam_features_free(&f);
	conf_free(c);
}

static void
test_content_saturated_rules_stay_saturated(void **state)
{
	struct conf		*c = conf_ok("");
	struct spam_features	 f;
	struct spam_score	 s = { 0 };
	char			 name[32];
	size_t			 i;

	(void)state;
	spam_features_init(&f);
	/* GTUBE and more: the total stays at the bound, not under it */
	spam_score_add(&f.rules, "GTUBE", 1000 * SPAM_MILLI, "gtube");
	spam_score_add(&f.rules, "SUBJ_ALL_CAPS", 1000, "caps");
	assert_int_equal(f.rules.total, SPAM_POINTS_MAX);
	lookup_spam_content(c, &f, -1, &s);
	assert_int_equal(s.total, SPAM_POINTS_MAX);
	spam_features_free(&f);

	/* more hits than kept: the points of those left out still count */
	spam_features_init(&f);
	for (i = 0; i < SPAM_HITS_MAX + 4; i++) {
		(void)snprintf(name, sizeof(name), "R%zu", i);
		spam_score_add(&f.rules, name, 100, "r");
	}
	memset(&s, 0, sizeof(s));
	lookup_spam_content(c, &f, -1, &s);
	assert_int_equal(s.nhits, SPAM_HITS_MAX);
	assert_int_equal(s.total, (SPAM_HITS_MAX + 4) * 100);
	spam_features_free(&f);
	conf_free(c);
}

static void
test_content_bayes_buckets(void **state)
{
	struct conf		*c = conf_ok("");
	struct spam_features	 f;
	struct spam_score	 s;
	const struct {
		double		 p;
		const char	*name;
	} cases[] = {
		{ 0.0, "BAYES_00" }, { 0.0099, "BAYES_00" },
		{ 0.01, "BAYES_05" }, { 0.1, "BAYES_20" },
		{ 0.3, "BAYES_40" }, { 0.45, "BAYES_45" },
		{ 0.5, "BAYES_50" }, { 0.55, "BAYES_55" },
		{ 0.7, "BAYES_60" }, { 0.9, "BAYES_80" },
		{ 0.97, "BAYES_95" }, { 0.995, "BAYES_99" },
		{ 0.9995, "BAYES_999" }, { 1.0, "BAYES_999" },
	};
	int32_t			 prev = INT32_MIN;
	size_t			 i;

	(void)state;
	spam_features_init(&f);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0, sizeof(s));
		lookup_spam_content(c, &f, cases[i].p, &s);
		assert_int_equal(s.nhits, 1);
		assert_string_equal(s.hits[0].name, cases[i].name);
		/* never decreasing with p */
		assert_true(s.total >= prev);
		prev = s.total;
	}
	/* strongly negative at one end, alone over Junk at the other */
	memset(&s, 0, sizeof(s));
	lookup_spam_content(c, &f, 0.0, &s);
	assert_true(s.total <= -2000);
	memset(&s, 0, sizeof(s));
	lookup_spam_content(c, &f, 1.0, &s);
	assert_true(s.total >= CONF_SPAM_JUNK_DEFAULT);
	spam_features_free(&f);
	conf_free(c);
}

/* --- the verdict -------------------------------------------------------- */

static void
test_decide_default_thresholds(void **state)
{
	struct conf	*c = conf_ok("");

	(void)state;
	assert_int_equal(lookup_spam_decide(c, -3000), SPAM_INBOX);
	assert_int_equal(lookup_spam_decide(c, 4999), SPAM_INBOX);
	assert_int_equal(lookup_spam_decide(c, 5000), SPAM_JUNK);
	assert_int_equal(lookup_spam_decide(c, 14999), SPAM_JUNK);
	assert_int_equal(lookup_spam_decide(c, 15000), SPAM_REJECT);
	assert_int_equal(lookup_spam_decide(c, SPAM_POINTS_MAX), SPAM_REJECT);
	conf_free(c);
}

static void
test_decide_configured(void **state)
{
	struct conf	*c = conf_ok("spam-junk 2.5\nspam-reject 7.25");

	(void)state;
	assert_int_equal(c->spam_junk, 2500);
	assert_int_equal(c->spam_reject, 7250);
	assert_int_equal(lookup_spam_decide(c, 2499), SPAM_INBOX);
	assert_int_equal(lookup_spam_decide(c, 2500), SPAM_JUNK);
	assert_int_equal(lookup_spam_decide(c, 7250), SPAM_REJECT);
	conf_free(c);
	c = conf_ok("spam-reject none");
	assert_int_equal(lookup_spam_decide(c, SPAM_POINTS_MAX), SPAM_JUNK);
	conf_free(c);
	c = conf_ok("spam no");
	assert_false(c->spam);
	assert_int_equal(lookup_spam_decide(c, SPAM_POINTS_MAX), SPAM_INBOX);
	conf_free(c);
}

static void
test_conf_spam_defaults(void **state)
{
	struct conf	*c = conf_ok("");

	(void)state;
	assert_true(c->spam);
	assert_int_equal(c->spam_junk, 5000);
	assert_int_equal(c->spam_reject, 15000);
	conf_free(c);
}

static void
test_conf_spam_refused(void **state)
{
	const struct {
		const char	*extra;
		const char	*err;
	} cases[] = {
		{ "spam-junk 20", "t.conf:3: spam-junk 20 must be below "
		    "spam-reject 15" },
		{ "spam-junk 6\nspam-reject 5.5", "t.conf:4: spam-junk 6 must "
		    "be below spam-reject 5.5" },
		{ "spam-reject 5", "t.conf:3: spam-junk 5 must be below "
		    "spam-reject 5" },
		{ "spam-junk 0", "t.conf:3: spam-junk: \"0\" is out of range" },
		{ "spam-junk 1001", "t.conf:3: spam-junk: \"1001\" is out of "
		    "range" },
		{ "spam-junk -1", "t.conf:3: spam-junk: \"-1\" is not a score" },
		{ "spam-junk 1.2345", "t.conf:3: spam-junk: \"1.2345\" is not "
		    "a score" },
		{ "spam-junk 5.", "is not a score" },
		{ "spam-junk .5", "is not a score" },
		{ "spam-junk 5e1", "is not a score" },
		{ "spam-junk none", "is not a score" },
		{ "spam maybe", "spam: expected yes or no" },
		{ "spam-junk 4\nspam-junk 5", "duplicate spam-junk" },
	};
	char			 errs[1024];
	struct conf		*c;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = conf_with(cases[i].extra, errs, sizeof(errs));
		if (c != NULL)
			fail_msg("accepted: %s", cases[i].extra);
		if (strstr(errs, cases[i].err) == NULL)
			fail_msg("%s: got \"%s\"", cases[i].extra, errs);
	}
}

/* --- the fields ---------------------------------------------------------- */

/* Every line under 78 columns, printable, continuations start with WSP. */
static void
check_fields(const char *s)
{
	const char	*p = s, *e, *q;

	while ((e = strstr(p, "\r\n")) != NULL) {
		assert_true(e - p < 78);
		for (q = p; q < e; q++)
			assert_true((*q >= 0x20 && *q < 0x7f) || *q == '\t');
		p = e + 2;
		if (*p != '\0' && strncmp(p, "X-Spam-", 7) != 0)
			assert_true(*p == '\t' || *p == ' ');
	}
	assert_string_equal(p, "");
}

static void
test_fields_no_tests(void **state)
{
	struct conf		*c = conf_ok("");
	struct spam_score	 s = { 0 };
	struct buf		 b;

	(void)state;
	buf_init(&b, MSGAUTH_PREPEND_MAX);
	assert_int_equal(lookup_spam_fields(c, &s, SPAM_INBOX, &b), 0);
	assert_string_equal(b.data, "X-Spam-Score: 0.0\r\n"
	    "X-Spam-Status: No, score=0.0 required=5.0 tests=none\r\n");
	buf_free(&b);
	conf_free(c);
}

static void
test_fields_folded(void **state)
{
	struct conf		*c = conf_ok("spam-junk 4.5");
	struct spam_score	 s = { 0 };
	struct buf		 b;
	char			 name[32];
	size_t			 i;

	(void)state;
	spam_score_add(&s, "SPF_FAIL", 2000, "x");
	spam_score_add(&s, "BAYES_99", 4500, "y\x01\xff");
	buf_init(&b, MSGAUTH_PREPEND_MAX);
	assert_int_equal(lookup_spam_fields(c, &s, SPAM_JUNK, &b), 0);
	assert_string_equal(b.data, "X-Spam-Score: 6.5\r\n"
	    "X-Spam-Status: Yes, score=6.5 required=4.5 tests=SPF_FAIL=2.0,"
	    "BAYES_99=4.5\r\n");
	buf_free(&b);

	/* many long names: folded at the commas, nothing lost */
	for (i = 0; i < SPAM_HITS_MAX; i++) {
		(void)snprintf(name, sizeof(name), "A_RATHER_LONG_RULE_NAME_%zu",
		    i);
		spam_score_add(&s, name, -1250, "z");
	}
	buf_init(&b, MSGAUTH_PREPEND_MAX);
	assert_int_equal(lookup_spam_fields(c, &s, SPAM_INBOX, &b), 0);
	check_fields(b.data);
	assert_non_null(strstr(b.data, "X-Spam-Status: No, score="));
	assert_non_null(strstr(b.data, "\tA_RATHER_LONG_RULE_NAME_"));
	for (i = 0; i < s.nhits; i++) {
		(void)snprintf(name, sizeof(name), "%s=", s.hits[i].name);
		assert_non_null(strstr(b.data, name));
	}
	buf_free(&b);

	/* no room: -1, not a cut field */
	buf_init(&b, 40);
	assert_int_equal(lookup_spam_fields(c, &s, SPAM_INBOX, &b), -1);
	buf_free(&b);
	conf_free(c);
}

static void
test_refusal_names_top_tests(void **state)
{
	struct conf		*c = conf_ok("");
	struct spam_score	 s = { 0 };
	char			 text[256], small[20];

	(void)state;
	spam_score_add(&s, "DKIM_VALID_AU", -500, "");
	spam_score_add(&s, "SPF_FAIL", 2000, "");
	spam_score_add(&s, "GTUBE", 1000000, "");
	spam_score_add(&s, "URI_SHORTENER", 800, "");
	spam_score_add(&s, "BAYES_999", 5500, "");
	lookup_spam_refusal(c, &s, text, sizeof(text));
	assert_string_equal(text, "Message refused as spam (score 1000.0, "
	    "limit 15.0: GTUBE, BAYES_999, SPF_FAIL)");
	/* a small buffer: cut, terminated */
	lookup_spam_refusal(c, &s, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	memset(&s, 0, sizeof(s));
	spam_score_add(&s, "BLOCKLISTED", 16000, "");
	lookup_spam_refusal(c, &s, text, sizeof(text));
	assert_string_equal(text, "Message refused as spam (score 16.0, "
	    "limit 15.0: BLOCKLISTED)");
	conf_free(c);
}

static void
test_user_for_per_user_bayes(void **state)
{
	struct conf	*off = conf_ok("domain example.org");
	struct conf	*on = conf_ok("domain example.org\n"
			    "spam-bayes-per-user yes");
	struct conf	*cs = conf_ok("domain example.org\n"
			    "spam-bayes-per-user yes\nlocal-part-case "
			    "sensitive\nrecipient-delimiter +-");
	struct msgauth	*m = mx_message();
	char		*rcpts[2], user[MSGAUTH_USER_MAX + 1], small[8];
	const struct {
		const char	*rcpt;
		const char	*user;
	} cases[] = {
		{ "alice@example.org", "alice@example.org" },
		{ "Alice+Lists@EXAMPLE.org", "alice@example.org" },
		{ "+tag@example.org", "+tag@example.org" },
		{ "bob@example.net", "" },
		{ "no-domain", "" },
		{ "@example.org", "" },
	};
	size_t		 i;

	(void)state;
	m->rcpts = rcpts;
	m->nrcpts = 1;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rcpts[0] = (char *)cases[i].rcpt;
		lookup_spam_user(on, m, user, sizeof(user));
		assert_string_equal(user, cases[i].user);
		/* off: always the server's */
		lookup_spam_user(off, m, user, sizeof(user));
		assert_string_equal(user, "");
	}
	rcpts[0] = "Alice-x@Example.ORG";
	lookup_spam_user(cs, m, user, sizeof(user));
	assert_string_equal(user, "Alice@example.org");
	/* no room: none rather than a cut name */
	lookup_spam_user(cs, m, small, sizeof(small));
	assert_string_equal(small, "");
	/* two recipients: the server's */
	rcpts[1] = "bob@example.org";
	m->nrcpts = 2;
	lookup_spam_user(on, m, user, sizeof(user));
	assert_string_equal(user, "");
	free(m);
	conf_free(off);
	conf_free(on);
	conf_free(cs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_nothing_known_scores_nothing),
		cmocka_unit_test(test_auth_spf),
		cmocka_unit_test(test_auth_dkim_aligned_and_not),
		cmocka_unit_test(test_auth_dmarc),
		cmocka_unit_test(test_auth_arc),
		cmocka_unit_test(test_content_rules_only_when_untrained),
		cmocka_unit_test(test_content_saturated_rules_stay_saturated),
		cmocka_unit_test(test_content_bayes_buckets),
		cmocka_unit_test(test_decide_default_thresholds),
		cmocka_unit_test(test_decide_configured),
		cmocka_unit_test(test_conf_spam_defaults),
		cmocka_unit_test(test_conf_spam_refused),
		cmocka_unit_test(test_fields_no_tests),
		cmocka_unit_test(test_fields_folded),
		cmocka_unit_test(test_refusal_names_top_tests),
		cmocka_unit_test(test_user_for_per_user_bayes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
