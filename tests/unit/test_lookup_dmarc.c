/*
 * Unit tests for lookup_dmarc.c: the whole evaluation of a message over
 * a fake resolver.  This file defines dns_query() itself, so the module
 * links against it instead of dns.c's (nothing here may use another
 * function of dns.c, or the linker would pull dns.o in beside it): each
 * query is answered from the zone below, later (as the real one does),
 * when the test runs the queue.  What is checked: policy discovery (RFC
 * 7489 §6.6.3: the From domain, then the organisational domain; several
 * records; a transient error), alignment of SPF and DKIM (relaxed and
 * strict), p=, sp= and DMARCbis np= (with the A/AAAA/MX existence test),
 * pct= sampling, a trusted ARC chain, `dmarc-policy report-only`, the
 * From: rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "dns.h"
#include "lookup/lookup_dmarc.h"
#include "lookup/msgauth.h"
#include "psl.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct zone_rr {
	const char	*name;
	enum dns_type	 type;
	enum dns_status	 status;	/* DNS_OK: txt (may be NULL for A) */
	const char	*txt;
};

static const struct zone_rr zone[] = {
	{ "_dmarc.reject.example", DNS_T_TXT, DNS_OK,
	    "v=DMARC1; p=reject; sp=quarantine; np=none; "
	    "rua=mailto:agg@reject.example" },
	{ "_dmarc.quar.example", DNS_T_TXT, DNS_OK,
	    "v=DMARC1; p=quarantine; adkim=s; aspf=s" },
	{ "_dmarc.half.example", DNS_T_TXT, DNS_OK,
	    "v=DMARC1; p=reject; pct=0" },
	{ "_dmarc.two.example", DNS_T_TXT, DNS_OK, "v=DMARC1; p=reject" },
	{ "_dmarc.two.example", DNS_T_TXT, DNS_OK, "v=DMARC1; p=none" },
	/* an SPF record beside it is no DMARC record (§6.6.3 step 3) */
	{ "_dmarc.mixed.example", DNS_T_TXT, DNS_OK, "v=spf1 -all" },
	{ "_dmarc.mixed.example", DNS_T_TXT, DNS_OK, "v=DMARC1; p=reject" },
	{ "_dmarc.broken.example", DNS_T_TXT, DNS_OK, "v=DMARC1; p=maybe" },
	{ "_dmarc.sub.none.example", DNS_T_TXT, DNS_OK, "v=DMARC1; p=none" },
	{ "_dmarc.none.example", DNS_T_TXT, DNS_OK, "v=DMARC1; p=reject" },
	{ "_dmarc.fail.example", DNS_T_TXT, DNS_TEMPFAIL, NULL },
	{ "_dmarc.b.co.test", DNS_T_TXT, DNS_OK, "v=DMARC1; p=reject" },
	/* reject.example subdomains: "live" exists, "gone" does not */
	{ "live.reject.example", DNS_T_TXT, DNS_NODATA, NULL },
	{ "live.reject.example", DNS_T_A, DNS_NODATA, NULL },
	{ "live.reject.example", DNS_T_AAAA, DNS_NODATA, NULL },
	{ "live.reject.example", DNS_T_MX, DNS_OK, NULL },
	{ "empty.reject.example", DNS_T_A, DNS_NODATA, NULL },
	{ "empty.reject.example", DNS_T_AAAA, DNS_NODATA, NULL },
	{ "empty.reject.example", DNS_T_MX, DNS_NODATA, NULL },
};

struct fake_q {
	char		 name[300];
	enum dns_type	 type;
	void		(*cb)(void *, const struct dns_result *);
	void		*arg;
};

static struct fake_q	queue[16];
static size_t		nqueue;
static char		asked[32][300];
static size_t		nasked;

struct dns_query *
dns_query(struct dns *dns, const char *name, enum dns_type type,
    void (*cb)(void *arg, const struct dns_result *res), void *arg,
    const char **errstr)
{
	(void)dns;
	assert_true(nqueue < NELEM(queue));
	if (strlen(name) > DNS_NAME_MAX) {
		*errstr = "name too long";
		return NULL;
	}
	(void)snprintf(queue[nqueue].name, sizeof(queue[0].name), "%s",
	    name);
	queue[nqueue].type = type;
	queue[nqueue].cb = cb;
	queue[nqueue].arg = arg;
	nqueue++;
	if (nasked < NELEM(asked))
		(void)snprintf(asked[nasked++], sizeof(asked[0]), "%s/%s",
		    name, type == DNS_T_TXT ? "TXT" : type == DNS_T_A ? "A" :
		    type == DNS_T_AAAA ? "AAAA" : "MX");
	return (struct dns_query *)&queue[nqueue - 1];
}

/* Answer the queries, in order, until none is left. */
static void
run_queries(void)
{
	struct fake_q		 q;
	struct dns_result	 res;
	struct dns_rr		 rrs[4];
	size_t			 i, n;

	while (nqueue > 0) {
		q = queue[0];
		memmove(queue, queue + 1, --nqueue * sizeof(queue[0]));
		memset(&res, 0, sizeof(res));
		res.qname = q.name;
		res.type = q.type;
		res.status = DNS_NXDOMAIN;
		res.rrs = rrs;
		for (i = n = 0; i < NELEM(zone); i++) {
			if (strcmp(zone[i].name, q.name) != 0)
				continue;
			if (zone[i].type != q.type) {
				if (res.status == DNS_NXDOMAIN)
					res.status = DNS_NODATA;
				continue;
			}
			res.status = zone[i].status;
			if (zone[i].status != DNS_OK || n == NELEM(rrs))
				continue;
			memset(&rrs[n], 0, sizeof(rrs[n]));
			rrs[n].type = q.type;
			if (zone[i].txt != NULL) {
				rrs[n].u.txt.data = (char *)zone[i].txt;
				rrs[n].u.txt.len = strlen(zone[i].txt);
			}
			n++;
		}
		if (res.status == DNS_TEMPFAIL)
			(void)snprintf(res.why, sizeof(res.why), "SERVFAIL");
		res.nrrs = res.status == DNS_OK ? n : 0;
		q.cb(q.arg, &res);
	}
}

static struct conf		 conf;
static struct lookup_dmarc	*ld;
static int			 ndone;

static const char small_psl[] =
    "example\n"
    "test\n"
    "co.test\n";

static int
setup(void **state)
{
	struct psl	*psl = psl_new();
	const char	*err;

	(void)state;
	assert_int_equal(psl_parse(psl, small_psl, sizeof(small_psl) - 1,
	    NULL, &err), 0);
	memset(&conf, 0, sizeof(conf));
	ld = lookup_dmarc_new(NULL, &conf, NULL);
	lookup_dmarc_set_psl(ld, psl);
	return 0;
}

static void
done_cb(struct msgauth *m)
{
	(void)m;
	ndone++;
}

/* A message from `from` with SPF and one DKIM signature as given. */
static void
evaluate(struct msgauth *m, const char *from, enum spf_result spf,
    const char *spf_domain, enum msgauth_dkim_result dkim,
    const char *dkim_domain)
{
	static char	hdrs[512];

	memset(m, 0, sizeof(*m));
	(void)snprintf(hdrs, sizeof(hdrs), "Subject: hi\r\nFrom: %s\r\n"
	    "To: bob@ours.example\r\n", from);
	m->hdrs = hdrs;
	m->hdrlen = strlen(hdrs);
	m->kind = MSGAUTH_MX;
	(void)snprintf(m->queue_id, sizeof(m->queue_id), "q1");
	m->spf = spf;
	(void)snprintf(m->spf_domain, sizeof(m->spf_domain), "%s",
	    spf_domain);
	if (dkim_domain != NULL) {
		m->ndkim = 1;
		m->dkim[0].result = dkim;
		(void)snprintf(m->dkim[0].domain, sizeof(m->dkim[0].domain),
		    "%s", dkim_domain);
	}
	ndone = 0;
	nasked = 0;
	lookup_dmarc_evaluate(ld, m, done_cb);
	run_queries();
	assert_int_equal(ndone, 1);
}

static void
test_discovery(void **state)
{
	struct msgauth	m;

	(void)state;
	/* the From domain's own record, p= */
	evaluate(&m, "<a@reject.example>", SPF_FAIL, "evil.example",
	    MSGAUTH_DKIM_FAIL, "reject.example");
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	assert_string_equal(m.dmarc.from_domain, "reject.example");
	assert_string_equal(m.dmarc.org_domain, "reject.example");
	assert_string_equal(m.dmarc.policy_domain, "reject.example");
	assert_int_equal(m.dmarc.policy, MSGAUTH_POLICY_REJECT);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_REJECT);
	assert_string_equal(m.dmarc.rua, "mailto:agg@reject.example");
	assert_int_equal(nasked, 1);
	/* §6.6.3: no record at the subdomain, the org domain's sp= */
	evaluate(&m, "a@live.reject.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	assert_string_equal(m.dmarc.policy_domain, "reject.example");
	assert_int_equal(m.dmarc.policy, MSGAUTH_POLICY_QUARANTINE);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_QUARANTINE);
	assert_string_equal(asked[0], "_dmarc.live.reject.example/TXT");
	assert_string_equal(asked[1], "_dmarc.reject.example/TXT");
	/* DMARCbis np=: A, AAAA and MX all empty: non-existent */
	evaluate(&m, "a@empty.reject.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.policy, MSGAUTH_POLICY_NONE);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_NONE);
	assert_int_equal(nasked, 5);
	evaluate(&m, "a@gone.reject.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.policy, MSGAUTH_POLICY_NONE);
	assert_int_equal(nasked, 3);		/* NXDOMAIN at A is enough */
	/* a subdomain's own record wins over the org domain's */
	evaluate(&m, "a@sub.none.example", SPF_NONE, "", 0, NULL);
	assert_string_equal(m.dmarc.policy_domain, "sub.none.example");
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_NONE);
	/* several DMARC records: no policy (§6.6.3 step 5) */
	evaluate(&m, "a@two.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_NONE);
	assert_non_null(strstr(m.dmarc.reason, "2 DMARC records"));
	/* ... but an SPF record beside one is not counted */
	evaluate(&m, "a@mixed.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	/* a record that applies no processing */
	evaluate(&m, "a@broken.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_NONE);
	/* no record anywhere */
	evaluate(&m, "a@nothing.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_NONE);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_NONE);
	/* DNS failure: temperror, never "no record" */
	evaluate(&m, "a@fail.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_TEMPERROR);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_NONE);
	/* the org domain under a two-label public suffix */
	evaluate(&m, "a@x.b.co.test", SPF_NONE, "", 0, NULL);
	assert_string_equal(m.dmarc.org_domain, "b.co.test");
	assert_string_equal(m.dmarc.policy_domain, "b.co.test");
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	/* a public suffix has no org domain: one query only */
	evaluate(&m, "a@co.test", SPF_NONE, "", 0, NULL);
	assert_int_equal(nasked, 1);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_NONE);
}

static void
test_alignment(void **state)
{
	struct msgauth	m;

	(void)state;
	/* relaxed: SPF of a subdomain aligns */
	evaluate(&m, "a@reject.example", SPF_PASS, "bounce.reject.example",
	    MSGAUTH_DKIM_FAIL, "reject.example");
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_PASS);
	assert_true(m.dmarc.spf_aligned);
	assert_false(m.dmarc.dkim_aligned);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_NONE);
	/* SPF that did not pass does not count */
	evaluate(&m, "a@reject.example", SPF_SOFTFAIL, "reject.example",
	    MSGAUTH_DKIM_FAIL, "reject.example");
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	/* DKIM relaxed, another org domain does not align */
	evaluate(&m, "a@reject.example", SPF_PASS, "other.example",
	    MSGAUTH_DKIM_PASS, "Mail.Reject.Example");
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_PASS);
	assert_false(m.dmarc.spf_aligned);
	assert_true(m.dmarc.dkim_aligned);
	evaluate(&m, "a@reject.example", SPF_PASS, "other.example",
	    MSGAUTH_DKIM_PASS, "other.example");
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	/* strict (quar.example: adkim=s aspf=s) wants the same name */
	evaluate(&m, "a@quar.example", SPF_PASS, "mail.quar.example",
	    MSGAUTH_DKIM_PASS, "mail.quar.example");
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_QUARANTINE);
	evaluate(&m, "a@quar.example", SPF_PASS, "QUAR.example",
	    MSGAUTH_DKIM_FAIL, "x.example");
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_PASS);
}

static void
test_disposition(void **state)
{
	struct msgauth	m;

	(void)state;
	/* pct=0: never sampled, reject becomes quarantine */
	evaluate(&m, "a@half.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	assert_int_equal(m.dmarc.policy, MSGAUTH_POLICY_REJECT);
	assert_true(m.dmarc.sampled_out);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_QUARANTINE);
	/* a trusted ARC chain: local_policy, none */
	memset(&m, 0, sizeof(m));
	evaluate(&m, "a@reject.example", SPF_NONE, "", 0, NULL);
	assert_false(m.dmarc.arc_override);
	/* evaluate() clears m: set ARC through a second, direct run */
	m.arc.result = MSGAUTH_ARC_PASS;
	m.arc.trusted = true;
	ndone = 0;
	lookup_dmarc_evaluate(ld, &m, done_cb);
	run_queries();
	assert_int_equal(ndone, 1);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	assert_true(m.dmarc.arc_override);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_NONE);
	/* an untrusted one changes nothing */
	m.arc.trusted = false;
	lookup_dmarc_evaluate(ld, &m, done_cb);
	run_queries();
	assert_false(m.dmarc.arc_override);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_REJECT);
	/* report-only: the result stays, nothing is done */
	conf.dmarc_policy = CONF_DMARC_REPORT_ONLY;
	evaluate(&m, "a@reject.example", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_FAIL);
	assert_int_equal(m.dmarc.policy, MSGAUTH_POLICY_REJECT);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_NONE);
	conf.dmarc_policy = CONF_DMARC_ENFORCE;
}

static void
test_from(void **state)
{
	struct msgauth	m;

	(void)state;
	/* §6.6.1: two authors' domains, no policy: permerror, no query */
	evaluate(&m, "a@reject.example, b@quar.example", SPF_NONE, "", 0,
	    NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_PERMERROR);
	assert_int_equal(m.dmarc.disposition, MSGAUTH_POLICY_NONE);
	assert_int_equal(nasked, 0);
	evaluate(&m, "undisclosed:;", SPF_NONE, "", 0, NULL);
	assert_int_equal(m.dmarc.result, MSGAUTH_DMARC_PERMERROR);
	/* an IDNA From: domain is asked for in A-labels */
	evaluate(&m, "a@b\xc3\xbc" "cher.example", SPF_NONE, "", 0, NULL);
	assert_string_equal(asked[0], "_dmarc.xn--bcher-kva.example/TXT");
	assert_string_equal(m.dmarc.from_domain, "xn--bcher-kva.example");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_disposition),
		cmocka_unit_test(test_from),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
