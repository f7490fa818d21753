/*
 * The DKIM vectors from outside the project (tests/data/dkim, see its
 * SOURCE.md) through dkim.c's verifier, with DNS faked from the data
 * sets' own key tables:
 *
 * - dkimpy's RFC 6376 / RFC 8463 messages: each with its expected result;
 * - Perl Mail::DKIM's verifier corpus: every message of EXPECTED.tsv in
 *   scope "dkim" or "time" (the "domainkeys" ones are RFC 4870
 *   DomainKeys, which is not DKIM, and the "skipped-upstream" ones are
 *   drafts before RFC 4871), its keys from FAKE_DNS.dat; the message's
 *   result is its best signature's (pass, fail, then the rest, which
 *   Mail::DKIM calls "invalid");
 * - Stalwart mail-auth's signed messages: the last signature of each
 *   passes at the time the suite names.
 *
 * Where our result is not the expected one, mail_dkim_diffs[] says why
 * by the RFCs; a difference not in it, or a listed one that went away,
 * fails the test.  The counts are printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dkim.h"
#include "dkim_testmsg.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define FAKE_MAX	64
#define SIGS_MAX	8

/* One owner of the fake DNS: a TXT record, NXDOMAIN, or an error. */
struct fake_rr {
	char	 name[DKIM_DOMAIN_MAX + 1];
	int	 kind;		/* 0 TXT, 1 NXDOMAIN, 2 temporary error */
	char	*txt;
};

struct fake_dns {
	struct fake_rr	rr[FAKE_MAX];
	size_t		n;
};

static void
fake_add(struct fake_dns *d, const char *name, size_t nlen, const char *txt,
    size_t tlen)
{
	struct fake_rr	*r;
	size_t		 i;

	assert_true(d->n < FAKE_MAX && nlen <= DKIM_DOMAIN_MAX);
	r = &d->rr[d->n++];
	for (i = 0; i < nlen; i++)
		r->name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] - 'A' + 'a' : name[i]);
	r->name[nlen] = '\0';
	r->kind = 0;
	if (tlen == 8 && memcmp(txt, "NXDOMAIN", 8) == 0)
		r->kind = 1;
	else if (tlen >= 2 && memcmp(txt, "~~", 2) == 0)
		r->kind = 2;	/* FAKE_DNS.dat's "~~why~~": timeout, SERVFAIL */
	r->txt = xmalloc(tlen + 1);
	memcpy(r->txt, txt, tlen);
	r->txt[tlen] = '\0';
}

/*
 * "owner TXT" lines, '#' comments; with stop, until an empty line
 * (returning where the rest starts), else empty lines are skipped.
 */
static size_t
fake_load(struct fake_dns *d, const char *p, size_t len, bool stop)
{
	size_t		 i = 0, e, sp;

	while (i < len) {
		for (e = i; e < len && p[e] != '\n'; e++)
			;
		sp = e;
		if (sp > i && p[sp - 1] == '\r')
			sp--;
		if (sp == i && stop)
			return e + 1;	/* the empty line */
		if (sp > i && p[i] != '#') {
			const char	*s = memchr(p + i, ' ', sp - i);
			size_t		 nl, t;

			assert_non_null(s);
			nl = (size_t)(s - (p + i));
			for (t = nl; i + t < sp && p[i + t] == ' '; t++)
				;
			fake_add(d, p + i, nl, p + i + t, sp - i - t);
		}
		i = e + 1;
	}
	return len;
}

static void
fake_free(struct fake_dns *d)
{
	size_t	i;

	for (i = 0; i < d->n; i++)
		free(d->rr[i].txt);
	d->n = 0;
}

/*
 * Verify every DKIM-Signature of msg (CRLF) against the fake DNS, as
 * lookup_dkim.c does against real DNS; the results in res[], reasons in
 * why[]; returns how many.
 */
static size_t
verify_all(struct span msg, const struct fake_dns *d, uint64_t now,
    enum dkim_result *res, const char **why)
{
	struct dkim_sig		*s = xcalloc(1, sizeof(*s));
	struct dkim_bh_spec	 spec;
	struct dkim_key		 key;
	struct span		 hdrs, body, f, name;
	unsigned char		 bh[DKIM_DIGEST_MAX];
	char			 q[2 * DKIM_DOMAIN_MAX + 16];
	const char		*colon;
	uint64_t		 hashed;
	size_t			 pos = 0, n = 0, i, bhlen;

	testmsg_split(msg, &hdrs, &body);
	while (n < SIGS_MAX && dkim_header_next(hdrs, &pos, &f, &name) == 1) {
		if (!span_caseeq(name, "DKIM-Signature"))
			continue;
		colon = memchr(f.ptr, ':', f.len);
		if (dkim_sig_parse(span_make(colon + 1, f.len - (size_t)(colon +
		    1 - f.ptr)), 0, s, &why[n]) == -1) {
			res[n++] = DKIM_PERMERROR;
			continue;
		}
		(void)snprintf(q, sizeof(q), "%s._domainkey.%s", s->selector,
		    s->domain);
		for (i = 0; i < d->n && strcmp(d->rr[i].name, q) != 0; i++)
			;
		if (i == d->n || d->rr[i].kind == 1) {
			res[n] = DKIM_PERMERROR;
			why[n++] = "no key";
			continue;
		}
		if (d->rr[i].kind == 2) {
			res[n] = DKIM_TEMPERROR;
			why[n++] = "key lookup failed";
			continue;
		}
		if (dkim_key_parse(span_str(d->rr[i].txt), &key,
		    &why[n]) == -1) {
			res[n++] = DKIM_PERMERROR;
			continue;
		}
		dkim_sig_bh_spec(s, &spec);
		bhlen = testmsg_bh(body, &spec, bh, &hashed);
		res[n] = dkim_verify_sig(s, hdrs, f, bh, bhlen, hashed, &key,
		    now, &why[n]);
		if (why[n] == NULL)
			why[n] = "";
		n++;
		dkim_key_clear(&key);
	}
	free(s);
	return n;
}

static size_t
verify_file(const char *rel, const struct fake_dns *d, uint64_t now,
    size_t skip_dns, enum dkim_result *res, const char **why)
{
	struct buf	 msg;
	char		*raw;
	size_t		 len, n;

	raw = testmsg_read(rel, &len);
	if (raw == NULL)
		fail_msg("cannot read %s", rel);
	buf_init(&msg, TESTMSG_MAX * 2);
	testmsg_crlf(raw + skip_dns, len - skip_dns, &msg);
	n = verify_all(span_make(msg.data, msg.len), d, now, res, why);
	buf_free(&msg);
	free(raw);
	return n;
}

/* dkimpy's messages with their keys (as its own tests publish them). */
static void
test_dkimpy(void **state)
{
	struct fake_dns		 d = { .n = 0 };
	enum dkim_result	 res[SIGS_MAX];
	const char		*why[SIGS_MAX];
	char			*t;
	size_t			 n;

	(void)state;
	t = testmsg_read_line("dkim/dkimpy/test.txt");
	fake_add(&d, "test._domainkey.football.example.com", 36, t,
	    strlen(t));
	fake_add(&d, "test._domainkey.legitimate.com(.attacker.com", 44, t,
	    strlen(t));
	free(t);
	t = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	fake_add(&d, "brisbane._domainkey.football.example.com", 40, t,
	    strlen(t));
	t = testmsg_read_line("dkim/dkimpy/eximtest.dns");
	fake_add(&d, "sed._domainkey.test.ex", 22, t, strlen(t));
	free(t);

	/* RFC 8463 §A: ed25519-sha256 and rsa-sha256, both pass */
	n = verify_file("dkim/dkimpy/rfc6376.signed.msg", &d, 1528637909, 0,
	    res, why);
	assert_int_equal(n, 2);
	assert_int_equal(res[0], DKIM_PASS);
	assert_int_equal(res[1], DKIM_PASS);
	n = verify_file("dkim/dkimpy/rfc6376.signed.rsa.msg", &d, 1528637909,
	    0, res, why);
	assert_int_equal(n, 1);
	assert_int_equal(res[0], DKIM_PASS);
	/* Exim's ed25519 signature (relaxed, d=test.ex) */
	n = verify_file("dkim/dkimpy/ed25519test2.msg", &d, 1528637909, 0,
	    res, why);
	assert_int_equal(n, 1);
	assert_int_equal(res[0], DKIM_PASS);
	/* d=legitimate.com(.attacker.com is no domain: never looked up */
	n = verify_file("dkim/dkimpy/test.message.baddomain", &d, 1528637909,
	    0, res, why);
	assert_int_equal(n, 1);
	assert_int_equal(res[0], DKIM_PERMERROR);
	assert_string_equal(why[0], "bad d=");
	fake_free(&d);
	/*
	 * Not run: test2.message and message.mbox are signed by gmail.com
	 * and kitterman.com keys that dkimpy's data set does not carry.
	 */
}

/* Best first: pass, fail, then what Mail::DKIM calls "invalid". */
static const char *
mail_dkim_word(const enum dkim_result *res, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (res[i] == DKIM_PASS)
			return "pass";
	for (i = 0; i < n; i++)
		if (res[i] == DKIM_FAIL)
			return "fail";
	return n == 0 ? "none" : "invalid";
}

struct diff {
	const char	*file;
	const char	*ours;		/* our word and first reason */
	const char	*why;
};

#define SHA1	"RFC 8301 §3.1: rsa-sha1 MUST NOT be considered valid " \
		"(a fail expectation is refused earlier, as permerror)"
#define NOV	"RFC 6376 §3.5, §6.1.1: v= is REQUIRED; these are " \
		"pre-RFC 4871 draft signatures without it (PERMFAIL)"
#define V05	"RFC 6376 §6.1.1: v=0.5 (a draft) is not 1: PERMFAIL " \
		"incompatible version (and a=rsa-sha1, RFC 8301 §3.1)"
#define MULTI2	"RFC 6376 §3.5: c=foobar is no canonicalisation; the " \
		"other three signatures are rsa-sha1 (RFC 8301 §3.1)"

/*
 * Where Mail::DKIM's expectation is not what RFC 6376 and RFC 8301 give:
 * the file, our result word and the first signature's reason, and why.
 * Mail::DKIM predates RFC 8301 and accepts draft-era signatures; most of
 * its corpus is rsa-sha1 from 2006.  Its "invalid" covers our permerror,
 * temperror and neutral.
 */
static const struct diff mail_dkim_diffs[] = {
	{ "bad_1.txt",
	    "invalid a required tag is missing", NOV },
	{ "bad_ietf01_1.txt",
	    "invalid a required tag is missing", NOV },
	{ "bad_ietf01_2.txt",
	    "invalid a required tag is missing", NOV },
	{ "bad_ietf01_3.txt",
	    "invalid a required tag is missing", NOV },
	{ "good_ietf01_1.txt",
	    "invalid a required tag is missing", NOV },
	{ "good_ietf01_2.txt",
	    "invalid a required tag is missing", NOV },
	{ "mine_ietf01_1.txt",
	    "invalid a required tag is missing", NOV },
	{ "mine_ietf01_2.txt",
	    "invalid a required tag is missing", NOV },
	{ "mine_ietf01_3.txt",
	    "invalid a required tag is missing", NOV },
	{ "mine_ietf01_4.txt",
	    "invalid a required tag is missing", NOV },
	{ "multiple_1.txt",
	    "invalid a required tag is missing", NOV },
	{ "bad_1878954.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "good_1878523.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "good_83176.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "good_qp_1.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "good_qp_2.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "good_qp_3.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "good_rfc4871_3.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "good_rfc4871_4.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "goodkey_1.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "goodkey_2.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "goodkey_3.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "goodkey_4.txt",
	    "invalid rsa-sha1 is not accepted (RFC 8301)", SHA1 },
	{ "multiple_2.txt",
	    "invalid unknown c=", MULTI2 },
	{ "mine_ietf05_1.txt",
	    "invalid unknown v=", V05 },
	{ "no_body_1.txt",
	    "invalid unknown v=", V05 },
	{ "no_body_2.txt",
	    "invalid unknown v=", V05 },
	{ "no_body_3.txt",
	    "invalid unknown v=", V05 },
	{ NULL, NULL, NULL },
};

/*
 * Files where we agree with Mail::DKIM's word but an earlier check
 * decides (v=0.5 drafts, rsa-sha1), not the one the file was made to
 * test: our exact result, and what the file tests.  The key checks they
 * aim at are tested in test_dkim_sig.c.
 */
static const struct diff mail_dkim_earlier[] = {
	{ "ignore_1.txt", "invalid unknown v=",
	    "tests v=5 itself" },
	{ "ignore_2.txt", "invalid unknown v=",
	    "a=rsa-md5, behind v=0.5" },
	{ "ignore_3.txt", "invalid unknown v=",
	    "a=dsa-sha1, behind v=0.5" },
	{ "ignore_4.txt", "invalid unknown v=",
	    "c=future, behind v=0.5" },
	{ "ignore_7.txt", "invalid rsa-sha1 is not accepted (RFC 8301)",
	    "x= expiry, behind rsa-sha1" },
	{ "badkey_1.txt", "invalid unknown v=",
	    "NXDOMAIN, behind v=0.5" },
	{ "badkey_2.txt", "invalid unknown v=",
	    "revoked key, behind v=0.5" },
	{ "badkey_3.txt", "invalid unknown v=",
	    "key v=DKIM3, behind v=0.5" },
	{ "badkey_4.txt", "invalid unknown v=",
	    "key syntax, behind v=0.5" },
	{ "badkey_5.txt", "invalid unknown v=",
	    "key k=foobar, behind v=0.5" },
	{ "badkey_6.txt", "invalid unknown v=",
	    "key s=chat, behind v=0.5" },
	{ "badkey_7.txt", "invalid unknown v=",
	    "key h=bad, behind v=0.5" },
	{ "badkey_8.txt", "invalid rsa-sha1 is not accepted (RFC 8301)",
	    "g= (RFC 4871 only), behind rsa-sha1" },
	{ "badkey_9.txt", "invalid rsa-sha1 is not accepted (RFC 8301)",
	    "g= (RFC 4871 only), behind rsa-sha1" },
	{ "badkey_10.txt", "invalid rsa-sha1 is not accepted (RFC 8301)",
	    "key t=s, behind rsa-sha1" },
	{ "badkey_12.txt", "invalid rsa-sha1 is not accepted (RFC 8301)",
	    "g= case, behind rsa-sha1" },
	{ "badkey_13.txt", "invalid rsa-sha1 is not accepted (RFC 8301)",
	    "behind rsa-sha1" },
	{ NULL, NULL, NULL },
};

static const struct diff *
diff_find(const struct diff *t, const char *file)
{
	size_t	i;

	for (i = 0; t[i].file != NULL; i++)
		if (strcmp(t[i].file, file) == 0)
			return &t[i];
	return NULL;
}

static void
test_mail_dkim(void **state)
{
	struct fake_dns		 d = { .n = 0 };
	enum dkim_result	 res[SIGS_MAX];
	const char		*why[SIGS_MAX], *word;
	const struct diff	*df;
	char			*tsv, *line, *next, *f[4], rel[256], ours[256];
	size_t			 len, n, k, agree = 0, documented = 0, wrong = 0;
	size_t			 skipped = 0, earlier = 0;
	const struct diff	*ef;
	uint64_t		 now = (uint64_t)time(NULL);

	(void)state;
	tsv = testmsg_read("dkim/mail-dkim/FAKE_DNS.dat", &len);
	assert_non_null(tsv);
	fake_load(&d, tsv, len, false);
	free(tsv);
	assert_true(d.n > 20);
	tsv = testmsg_read("dkim/mail-dkim/EXPECTED.tsv", &len);
	assert_non_null(tsv);
	for (line = tsv; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#')
			continue;
		for (k = 0; k < 4; k++) {
			f[k] = line;
			line = strchr(line, '\t');
			if (line != NULL)
				*line++ = '\0';
			else
				line = "";
		}
		if (strcmp(f[2], "dkim") != 0 && strcmp(f[2], "time") != 0) {
			skipped++;
			continue;
		}
		(void)snprintf(rel, sizeof(rel), "dkim/mail-dkim/corpus/%s",
		    f[0]);
		n = verify_file(rel, &d, now, 0, res, why);
		word = mail_dkim_word(res, n);
		(void)snprintf(ours, sizeof(ours), "%s %s", word,
		    n > 0 && why[0] != NULL ? why[0] : "");
		df = diff_find(mail_dkim_diffs, f[0]);
		ef = diff_find(mail_dkim_earlier, f[0]);
		if (strcmp(word, f[1]) == 0 && df == NULL && (ef == NULL ||
		    strcmp(ours, ef->ours) == 0)) {
			if (ef != NULL)
				earlier++;
			else
				agree++;
			continue;
		}
		if (df != NULL && strcmp(ours, df->ours) == 0) {
			documented++;
			continue;
		}
		wrong++;
		print_error("%s: expected %s, ours \"%s\"%s\n", f[0], f[1],
		    ours, df != NULL ? " (listed as differing)" : "");
	}
	free(tsv);
	fake_free(&d);
	print_message("Mail::DKIM corpus: %zu agree (%zu more by an earlier "
	    "check), %zu documented differences, %zu wrong, %zu not DKIM "
	    "(DomainKeys, drafts)\n", agree, earlier, documented, wrong,
	    skipped);
	assert_int_equal(wrong, 0);
	assert_true(agree > 0);
}

/* Stalwart: the DNS lines, an empty line, the message; the last passes. */
static void
test_stalwart(void **state)
{
	struct fake_dns		 d = { .n = 0 };
	enum dkim_result	 res[SIGS_MAX];
	const char		*why[SIGS_MAX];
	char			 rel[256], *raw;
	size_t			 i, len, skip, n, pass = 0;

	(void)state;
	for (i = 1; i <= 6; i++) {
		(void)snprintf(rel, sizeof(rel),
		    "dkim/stalwart-mail-auth/%03zu.txt", i);
		raw = testmsg_read(rel, &len);
		assert_non_null(raw);
		skip = fake_load(&d, raw, len, true);
		free(raw);
		/*
		 * 004 is signed (t=1667862801) 5.3 hours after the time the
		 * suite checks at; a signature from the future beyond
		 * DKIM_CLOCK_SKEW is permerror here (RFC 6376 §3.5 t= lets a
		 * verifier ignore it), so 004 is checked at its own t= too.
		 */
		n = verify_file(rel, &d, 1667843664, skip, res, why);
		assert_true(n >= 1);
		if (i == 4) {
			assert_int_equal(res[n - 1], DKIM_PERMERROR);
			assert_string_equal(why[n - 1],
			    "signature from the future");
			n = verify_file(rel, &d, 1667862801, skip, res, why);
		}
		if (res[n - 1] != DKIM_PASS)
			fail_msg("%s: last signature %s: %s", rel,
			    dkim_result_name(res[n - 1]), why[n - 1]);
		pass++;
		fake_free(&d);
	}
	print_message("Stalwart: %zu of 6 pass\n", pass);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dkimpy),
		cmocka_unit_test(test_mail_dkim),
		cmocka_unit_test(test_stalwart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
