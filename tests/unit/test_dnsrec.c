/*
 * Unit tests for dnsrec.c: every record of a domain byte for byte (MX,
 * SPF, DKIM cut into 255-octet strings, DMARC, MTA-STS, TLS-RPT, TLSA
 * for two keys, the six SRV of RFC 6186/8314, the two CNAMEs), the notes
 * for what is left out, the refusal when the records do not fit, the
 * comparison of each kind with what a resolver could answer (present,
 * different, missing), and the PTR names of addresses.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnsrec.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define CONF_FULL \
	"hostname mx.example.org\n" \
	"state-dir /tmp/cachet-test-dnsrec\n" \
	"listen smtp 0.0.0.0:25\n" \
	"listen submission 0.0.0.0:587\n" \
	"listen submissions 0.0.0.0:465\n" \
	"listen imaps [::]:993\n" \
	"listen pop3s 0.0.0.0:995\n" \
	"listen pop3 0.0.0.0:110\n" \
	"listen imap 0.0.0.0:143\n" \
	"domain example.org\n"

#define CONF_SMALL \
	"hostname mail.example.net\n" \
	"state-dir /tmp/cachet-test-dnsrec\n" \
	"listen smtp 0.0.0.0:25\n" \
	"listen imaps 0.0.0.0:993\n" \
	"domain example.org\n" \
	"tlsrpt-rua mailto:tls@example.net https://r.example/\n"

static struct conf *
parse(const char *text)
{
	struct conf	*c;
	char		 errs[1024];

	c = conf_parse("t.conf", text, strlen(text), errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	return c;
}

/* 297 characters of key: the DKIM text is 315, two strings. */
#define KEY297 \
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAw0123456789abcdefghij" \
	"klmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl" \
	"mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmn" \
	"opqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnop" \
	"qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"

static void
full_in(struct dnsrec_in *in, const struct conf *c)
{
	size_t	i;

	memset(in, 0, sizeof(*in));
	in->conf = c;
	in->domain = "example.org";
	in->sts_id = "0123456789abcdef0123";
	(void)str_copy(in->dkim[0].selector, sizeof(in->dkim[0].selector),
	    "ed1");
	in->dkim[0].txt = "v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	(void)str_copy(in->dkim[1].selector, sizeof(in->dkim[1].selector),
	    "rsa1");
	in->dkim[1].txt = "v=DKIM1; k=rsa; p=" KEY297;
	in->ndkim = 2;
	for (i = 0; i < 32; i++) {
		in->tlsa[0][i] = (uint8_t)i;
		in->tlsa[1][i] = (uint8_t)(0xff - i);
	}
	in->ntlsa = 2;
}

static const char full_zone[] =
    "example.org. 3600 IN MX 10 mx.example.org.\n"
    "example.org. 3600 IN TXT \"v=spf1 mx -all\"\n"
    "ed1._domainkey.example.org. 3600 IN TXT \"v=DKIM1; k=ed25519; "
    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"\n"
    "rsa1._domainkey.example.org. 3600 IN TXT \"v=DKIM1; k=rsa; p="
    /* 255 octets: the key's first 237, then the rest */
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAw0123456789abcdefghi"
    "jklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijk"
    "lmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm"
    "nopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    "\" \""
    "6789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123"
    "\"\n"
    "_dmarc.example.org. 3600 IN TXT \"v=DMARC1; p=quarantine; "
    "rua=mailto:postmaster@example.org\"\n"
    "_mta-sts.example.org. 3600 IN TXT \"v=STSv1; "
    "id=0123456789abcdef0123\"\n"
    "_smtp._tls.example.org. 3600 IN TXT \"v=TLSRPTv1; "
    "rua=mailto:postmaster@example.org\"\n"
    "_25._tcp.mx.example.org. 3600 IN TLSA 3 1 1 "
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "_25._tcp.mx.example.org. 3600 IN TLSA 3 1 1 "
    "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0\n"
    "_submissions._tcp.example.org. 3600 IN SRV 0 1 465 mx.example.org.\n"
    "_imaps._tcp.example.org. 3600 IN SRV 0 1 993 mx.example.org.\n"
    "_pop3s._tcp.example.org. 3600 IN SRV 0 1 995 mx.example.org.\n"
    "_submission._tcp.example.org. 3600 IN SRV 10 1 587 mx.example.org.\n"
    "_imap._tcp.example.org. 3600 IN SRV 10 1 143 mx.example.org.\n"
    "_pop3._tcp.example.org. 3600 IN SRV 10 1 110 mx.example.org.\n"
    "autoconfig.example.org. 3600 IN CNAME mx.example.org.\n"
    "autodiscover.example.org. 3600 IN CNAME mx.example.org.\n"
    "mta-sts.example.org. 3600 IN CNAME mx.example.org.\n";

static void
test_every_record(void **state)
{
	static const char *const what[] = {
		"mx", "spf", "dkim", "dkim", "dmarc", "mta-sts", "tls-rpt",
		"tlsa", "tlsa", "srv", "srv", "srv", "srv", "srv", "srv",
		"autoconfig", "autodiscover", "mta-sts",
	};
	struct conf	*c = parse(CONF_FULL);
	struct dnsrec_in in;
	struct dnsrec	*recs;
	struct buf	 b;
	size_t		 n, i;

	(void)state;
	full_in(&in, c);
	recs = calloc(DNSREC_MAX, sizeof(*recs));
	assert_non_null(recs);
	assert_int_equal(dnsrec_build(&in, recs, DNSREC_MAX, &n), 0);
	assert_int_equal(n, NELEM(what));
	for (i = 0; i < n; i++)
		assert_string_equal(recs[i].what, what[i]);
	assert_int_equal(recs[0].type, DNSREC_MX);
	assert_int_equal(recs[7].type, DNSREC_TLSA);
	assert_int_equal(recs[9].type, DNSREC_SRV);
	assert_int_equal(recs[16].type, DNSREC_CNAME);
	buf_init(&b, 64 * 1024);
	assert_int_equal(dnsrec_zone(recs, n, &b), 0);
	assert_string_equal(b.data, full_zone);
	/* nothing is left out: no notes */
	buf_reset(&b);
	assert_int_equal(dnsrec_notes(&in, &b), 0);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	free(recs);
	conf_free(c);
}

static void
test_without_keys_policy_or_services(void **state)
{
	struct conf	*c = parse(CONF_SMALL);
	struct dnsrec_in in;
	struct dnsrec	*recs;
	struct buf	 b;
	size_t		 n;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.conf = c;
	in.domain = "example.org";
	recs = calloc(DNSREC_MAX, sizeof(*recs));
	assert_non_null(recs);
	assert_int_equal(dnsrec_build(&in, recs, DNSREC_MAX, &n), 0);
	buf_init(&b, 64 * 1024);
	assert_int_equal(dnsrec_zone(recs, n, &b), 0);
	assert_string_equal(b.data,
	    "example.org. 3600 IN MX 10 mail.example.net.\n"
	    "example.org. 3600 IN TXT \"v=spf1 mx -all\"\n"
	    "_dmarc.example.org. 3600 IN TXT \"v=DMARC1; p=quarantine; "
	    "rua=mailto:postmaster@example.org\"\n"
	    "_smtp._tls.example.org. 3600 IN TXT \"v=TLSRPTv1; "
	    "rua=mailto:tls@example.net,https://r.example/\"\n"
	    "_submissions._tcp.example.org. 3600 IN SRV 0 0 0 .\n"
	    "_imaps._tcp.example.org. 3600 IN SRV 0 1 993 "
	    "mail.example.net.\n"
	    "_pop3s._tcp.example.org. 3600 IN SRV 0 0 0 .\n"
	    "_submission._tcp.example.org. 3600 IN SRV 0 0 0 .\n"
	    "_imap._tcp.example.org. 3600 IN SRV 0 0 0 .\n"
	    "_pop3._tcp.example.org. 3600 IN SRV 0 0 0 .\n"
	    "autoconfig.example.org. 3600 IN CNAME mail.example.net.\n"
	    "autodiscover.example.org. 3600 IN CNAME mail.example.net.\n"
	    "mta-sts.example.org. 3600 IN CNAME mail.example.net.\n");
	buf_reset(&b);
	assert_int_equal(dnsrec_notes(&in, &b), 0);
	assert_string_equal(b.data,
	    "; no active DKIM key for example.org (make one with: cachetctl "
	    "dkim keygen example.org)\n"
	    "; no mta-sts-policy in the config: no _mta-sts.example.org. "
	    "record\n"
	    "; no TLS key: no TLSA record for _25._tcp.mail.example.net.\n");
	buf_free(&b);
	free(recs);
	conf_free(c);
}

/* Too little room: -1, and n_out says how many were made. */
static void
test_too_many_records(void **state)
{
	struct conf	*c = parse(CONF_FULL);
	struct dnsrec_in in;
	struct dnsrec	 recs[5];
	size_t		 n;

	(void)state;
	full_in(&in, c);
	assert_int_equal(dnsrec_build(&in, recs, NELEM(recs), &n), -1);
	assert_int_equal(n, NELEM(recs));
	assert_string_equal(recs[4].name, "_dmarc.example.org.");
	conf_free(c);
}

/* A name over 253 octets is refused, not cut. */
static void
test_name_too_long(void **state)
{
	struct conf	*c = parse(CONF_FULL);
	struct dnsrec_in in;
	struct dnsrec	*recs;
	char		 sel[DNSREC_SELECTOR_MAX + 1];
	char		 dom[240];
	size_t		 n;

	(void)state;
	full_in(&in, c);
	memset(sel, 'a', sizeof(sel) - 1);
	sel[sizeof(sel) - 1] = '\0';
	memset(dom, 'b', sizeof(dom) - 1);
	dom[sizeof(dom) - 1] = '\0';
	dom[100] = '.';
	dom[200] = '.';
	in.domain = dom;
	(void)str_copy(in.dkim[0].selector, sizeof(in.dkim[0].selector), sel);
	recs = calloc(DNSREC_MAX, sizeof(*recs));
	assert_non_null(recs);
	assert_int_equal(dnsrec_build(&in, recs, DNSREC_MAX, &n), -1);
	/* MX and SPF fit; the DKIM name does not */
	assert_int_equal(n, 2);
	free(recs);
	conf_free(c);
}

/* TXT text with a quote, a backslash and a control octet. */
static void
test_txt_escaped(void **state)
{
	struct conf	*c = parse(CONF_FULL);
	struct dnsrec_in in;
	struct dnsrec	*recs;
	struct dns_rr	 rr;
	char		 raw[] = "v=DKIM1; n=a\"b\\c\td; p=xyz";
	size_t		 n;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.conf = c;
	in.domain = "example.org";
	(void)str_copy(in.dkim[0].selector, sizeof(in.dkim[0].selector), "s");
	in.dkim[0].txt = raw;
	in.ndkim = 1;
	recs = calloc(DNSREC_MAX, sizeof(*recs));
	assert_non_null(recs);
	assert_int_equal(dnsrec_build(&in, recs, DNSREC_MAX, &n), 0);
	assert_string_equal(recs[2].value,
	    "\"v=DKIM1; n=a\\\"b\\\\c\\009d; p=xyz\"");
	/* and read back: the same text found is present */
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_T_TXT;
	rr.u.txt.data = raw;
	rr.u.txt.len = strlen(raw);
	assert_int_equal(dnsrec_compare(&recs[2], &rr, 1, NULL),
	    DNSREC_PRESENT);
	free(recs);
	conf_free(c);
}

static void
test_ptr_names(void **state)
{
	struct in_addr	 a;
	struct in6_addr	 a6;
	char		 out[DNS_NAME_MAX + 1];

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.25", &a), 1);
	assert_int_equal(dnsrec_ptr_name(AF_INET, &a, out, sizeof(out)), 0);
	assert_string_equal(out, "25.2.0.192.in-addr.arpa");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::567:89ab", &a6), 1);
	assert_int_equal(dnsrec_ptr_name(AF_INET6, &a6, out, sizeof(out)), 0);
	/* RFC 3596 §2.5's example form */
	assert_string_equal(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(dnsrec_ptr_name(AF_INET6, &a6, out, 40), -1);
	assert_int_equal(dnsrec_ptr_name(AF_INET, &a, out, 10), -1);
	assert_int_equal(dnsrec_ptr_name(AF_UNIX, &a, out, sizeof(out)), -1);
}

/* --- comparing with answers --- */

/* "N N N rest": the three numbers into v, rest returned. */
static const char *
numbers(const char *text, unsigned long v[3])
{
	char	*end;
	size_t	 i;

	for (i = 0; i < 3; i++) {
		v[i] = strtoul(text, &end, 10);
		assert_true(end != text && *end == ' ');
		text = end + 1;
	}
	return text;
}

/* One answer record from its presentation-ish form. */
static void
rr_make(struct dns_rr *rr, enum dns_type type, const char *text)
{
	const char	*sp;
	char		*end;
	unsigned long	 v[3];
	size_t		 i;

	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	switch (type) {
	case DNS_T_TXT:
		rr->u.txt.len = strlen(text);
		rr->u.txt.data = xstrdup(text);
		break;
	case DNS_T_MX:
		sp = strchr(text, ' ');
		rr->u.mx.pref = (uint16_t)strtoul(text, &end, 10);
		assert_ptr_equal(end, sp);
		rr->u.mx.name = xstrdup(sp + 1);
		break;
	case DNS_T_CNAME:
		rr->u.cname.name = xstrdup(text);
		break;
	case DNS_T_SRV:
		sp = numbers(text, v);
		rr->u.srv.prio = (uint16_t)v[0];
		rr->u.srv.weight = (uint16_t)v[1];
		rr->u.srv.port = (uint16_t)v[2];
		rr->u.srv.target = xstrdup(sp);
		break;
	case DNS_T_TLSA:
		sp = numbers(text, v);
		rr->u.tlsa.usage = (uint8_t)v[0];
		rr->u.tlsa.selector = (uint8_t)v[1];
		rr->u.tlsa.mtype = (uint8_t)v[2];
		rr->u.tlsa.len = strlen(sp) / 2;
		rr->u.tlsa.data = xmalloc(rr->u.tlsa.len);
		for (i = 0; i < rr->u.tlsa.len; i++)
			rr->u.tlsa.data[i] = (uint8_t)(hex_digit(sp[2 * i])
			    << 4 | hex_digit(sp[2 * i + 1]));
		break;
	default:
		fail();
	}
}

struct cmp_case {
	const char		*name;
	size_t			 rec;	/* index in the full list */
	enum dns_type		 type;
	const char		*found[3];	/* NULL-ended */
	enum dnsrec_state	 state;
	const char		*shown;	/* what found says */
};

#define T40 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static const struct cmp_case cmp_cases[] = {
	{ "MX ours among others, case aside", 0, DNS_T_MX,
	    { "20 backup.example.net", "10 MX.Example.ORG", NULL },
	    DNSREC_PRESENT, "20 backup.example.net.; 10 MX.Example.ORG." },
	{ "MX another host", 0, DNS_T_MX, { "10 mail.example.net", NULL },
	    DNSREC_DIFFERENT, "10 mail.example.net." },
	{ "MX another preference", 0, DNS_T_MX, { "20 mx.example.org", NULL },
	    DNSREC_DIFFERENT, "20 mx.example.org." },
	{ "MX none", 0, DNS_T_MX, { NULL }, DNSREC_MISSING, "" },
	{ "SPF blanks and case aside", 1, DNS_T_TXT,
	    { "google-site-verification=abc", "v=spf1  MX   -all", NULL },
	    DNSREC_PRESENT, "\"v=spf1  MX   -all\"" },
	{ "SPF another", 1, DNS_T_TXT, { "v=spf1 a mx ~all", NULL },
	    DNSREC_DIFFERENT, "\"v=spf1 a mx ~all\"" },
	{ "SPF none among other TXT", 1, DNS_T_TXT,
	    { "google-site-verification=abc", "v=spf10 mx -all", NULL },
	    DNSREC_MISSING, "" },
	{ "DKIM tags reordered, blanks in p=", 2, DNS_T_TXT,
	    { "k=ed25519;v=DKIM1;p=11qYAYKxCrfVS/7TyWQH Og7hcvPapiMlrwIaaPcHURo=;",
	    NULL }, DNSREC_PRESENT, NULL },
	{ "DKIM p= cut short", 2, DNS_T_TXT,
	    { "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHU",
	    NULL }, DNSREC_DIFFERENT,
	    "\"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHU\"" },
	{ "DKIM a tag more", 2, DNS_T_TXT,
	    { "v=DKIM1; k=ed25519; t=y; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", NULL },
	    DNSREC_DIFFERENT, NULL },
	{ "DKIM key split in strings (joined)", 3, DNS_T_TXT,
	    { "v=DKIM1; k=rsa; p=" KEY297, NULL }, DNSREC_PRESENT, NULL },
	{ "DKIM with a NUL", 2, DNS_T_TXT, { NULL }, DNSREC_DIFFERENT,
	    NULL },
	{ "DMARC without blanks", 4, DNS_T_TXT,
	    { "v=DMARC1;p=quarantine;rua=mailto:postmaster@example.org",
	    NULL }, DNSREC_PRESENT, NULL },
	{ "DMARC p=none", 4, DNS_T_TXT,
	    { "v=DMARC1; p=none; rua=mailto:postmaster@example.org", NULL },
	    DNSREC_DIFFERENT,
	    "\"v=DMARC1; p=none; rua=mailto:postmaster@example.org\"" },
	{ "MTA-STS an old id", 5, DNS_T_TXT, { "v=STSv1; id=1", NULL },
	    DNSREC_DIFFERENT, "\"v=STSv1; id=1\"" },
	{ "TLS-RPT present", 6, DNS_T_TXT,
	    { "v=TLSRPTv1;rua=mailto:postmaster@example.org", NULL },
	    DNSREC_PRESENT, NULL },
	{ "TLSA current key among two", 7, DNS_T_TLSA,
	    { "3 1 1 aaaa", "3 1 1 " T40, NULL }, DNSREC_PRESENT, NULL },
	{ "TLSA another usage", 7, DNS_T_TLSA, { "2 1 1 " T40, NULL },
	    DNSREC_DIFFERENT, "2 1 1 " T40 },
	{ "TLSA next key not there", 8, DNS_T_TLSA, { "3 1 1 " T40, NULL },
	    DNSREC_DIFFERENT, "3 1 1 " T40 },
	{ "SRV present", 9, DNS_T_SRV, { "0 1 465 mx.example.org", NULL },
	    DNSREC_PRESENT, NULL },
	{ "SRV another port", 9, DNS_T_SRV, { "0 1 466 mx.example.org", NULL },
	    DNSREC_DIFFERENT, "0 1 466 mx.example.org." },
	{ "SRV no service where one is", 9, DNS_T_SRV, { "0 0 0 ", NULL },
	    DNSREC_DIFFERENT, "0 0 0 ." },
	{ "CNAME present", 15, DNS_T_CNAME, { "mx.EXAMPLE.org", NULL },
	    DNSREC_PRESENT, NULL },
	{ "CNAME elsewhere", 16, DNS_T_CNAME, { "web.example.org", NULL },
	    DNSREC_DIFFERENT, "web.example.org." },
};

static void
test_compare(void **state)
{
	const struct cmp_case	*k = *state;
	struct conf		*c = parse(CONF_FULL);
	struct dnsrec_in	 in;
	struct dnsrec		*recs;
	struct dns_rr		 rrs[3];
	struct buf		 found;
	size_t			 n, i, nrr = 0;

	full_in(&in, c);
	recs = calloc(DNSREC_MAX, sizeof(*recs));
	assert_non_null(recs);
	assert_int_equal(dnsrec_build(&in, recs, DNSREC_MAX, &n), 0);
	for (i = 0; k->found[i] != NULL; i++)
		rr_make(&rrs[nrr++], k->type, k->found[i]);
	if (strcmp(k->name, "DKIM with a NUL") == 0) {
		/* the right text, and a NUL after it */
		rr_make(&rrs[nrr], DNS_T_TXT, "v=DKIM1; k=ed25519; "
		    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=x");
		rrs[nrr].u.txt.data[rrs[nrr].u.txt.len - 1] = '\0';
		nrr++;
	}
	buf_init(&found, 8192);
	assert_int_equal(dnsrec_compare(&recs[k->rec], rrs, nrr, &found),
	    k->state);
	if (k->shown != NULL)
		assert_string_equal(found.data != NULL ? found.data : "",
		    k->shown);
	/* without a buffer, the same verdict */
	assert_int_equal(dnsrec_compare(&recs[k->rec], rrs, nrr, NULL),
	    k->state);
	for (i = 0; i < nrr; i++)
		dns_rr_clear(&rrs[i]);
	buf_free(&found);
	free(recs);
	conf_free(c);
}

static void
test_compare_ignores_other_types(void **state)
{
	struct conf	*c = parse(CONF_FULL);
	struct dnsrec_in in;
	struct dnsrec	*recs;
	struct dns_rr	 rr;
	size_t		 n;

	(void)state;
	full_in(&in, c);
	recs = calloc(DNSREC_MAX, sizeof(*recs));
	assert_non_null(recs);
	assert_int_equal(dnsrec_build(&in, recs, DNSREC_MAX, &n), 0);
	/* a CNAME handed in for the MX: not an MX of any kind */
	rr_make(&rr, DNS_T_CNAME, "mx.example.org");
	assert_int_equal(dnsrec_compare(&recs[0], &rr, 1, NULL),
	    DNSREC_MISSING);
	dns_rr_clear(&rr);
	free(recs);
	conf_free(c);
}

int
main(void)
{
	struct CMUnitTest	 tests[NELEM(cmp_cases) + 8];
	size_t			 i, n = 0;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_every_record);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_without_keys_policy_or_services);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_too_many_records);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_name_too_long);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_txt_escaped);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ptr_names);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_compare_ignores_other_types);
	for (i = 0; i < NELEM(cmp_cases); i++) {
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(
		    test_compare, (void *)(uintptr_t)&cmp_cases[i]);
		tests[n++].name = cmp_cases[i].name;
	}
	return _cmocka_run_group_tests("dnsrec", tests, n, NULL, NULL);
}
