/*
 * Unit tests for dmarcrep.c (RFC 7489 §7): every parsedmarc aggregate
 * sample (plain, gzip, zip, in mail) against counts taken from the files
 * by another reader (xmllint --recover and Python's ElementTree, when
 * the table was written), Stalwart's aggregate samples against their
 * expected parses (NNN.json, read with jansson), the refusals
 * (aggregate_invalid's upper-case "Pass", empty and non-reports), the
 * failure reports (parsedmarc's and Stalwart's ARF samples against
 * NNN.json), the XML builder read back by our parser, rua URIs and the
 * report mail.  Data in tests/data/dmarc, copied verbatim from
 * ../shared/testdata/dmarc.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "dmarcrep.h"
#include "tlsrpt.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define DATA_MAX	(4 * 1024 * 1024)

static char *
read_data(const char *name, size_t *len_out)
{
	const char	*dir = getenv("CACHET_TESTDATA");
	char		 path[1024];
	FILE		*f;
	char		*buf;
	size_t		 n;

	(void)snprintf(path, sizeof(path), "%s/dmarc/%s", dir != NULL ? dir :
	    "tests/data", name);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot open", path);
	buf = xmalloc(DATA_MAX);
	n = fread(buf, 1, DATA_MAX - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	*len_out = n;
	return buf;
}

/* Extract and parse a sample; -1 and the reason when refused. */
static int
parse_sample(const char *name, struct dmarcrep_summary *s,
    const char **err)
{
	struct buf	 xml;
	char		*data;
	size_t		 len;
	int		 rc;

	data = read_data(name, &len);
	buf_init(&xml, DMARCREP_XML_MAX);
	rc = dmarcrep_extract(data, len, &xml, err);
	if (rc == 0)
		rc = dmarcrep_parse(xml.data, xml.len, s, err);
	buf_free(&xml);
	free(data);
	return rc;
}

/* --- parsedmarc's aggregate samples --- */

struct agg {
	const char	*file;
	const char	*org;
	const char	*report_id;
	size_t		 nrecords;
	uint64_t	 messages, pass;
};

static const struct agg aggs[] = {
	{ "!example.com!1538204542!1538463818.xml", "",
	    "example.com:1538463741", 1, 1, 0 },
	{ "!large-example.com!1711897200!1711983600.xml", "",
	    "example.com:1711897200", 2286, 2286, 0 },
	{ "addisonfoods.com!example.com!1536105600!1536191999.xml",
	    "addisonfoods.com", "3ceb5548498640beaeb47327e202b0b9", 1, 1, 0 },
	{ "empty_reason.xml", "example.org", "20240125141224705995", 1, 2, 2 },
	{ "estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!"
	    "2940.xml.zip", "XYZ Corporation", "2940", 1, 1, 0 },
	{ "example.net!example.com!1529366400!1529452799.xml", "example.net",
	    "b043f0e264cf4ea995e93765242f6dfb", 1, 1, 0 },
	{ "fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz",
	    "FastMail Pty Ltd", "102675056", 1, 1, 0 },
	{ "google-report-borschow.com.eml", "google.com",
	    "949348866075514174", 1, 1, 0 },
	/* wrapped in an unclosed xs:schema element */
	{ "ikea.com!example.de!1538690400!1538776800.xml", "ikea.com",
	    "aggr_report_2018_10_05_5bc7e9b4f3e8a", 1, 1, 0 },
	/* a byte that is not UTF-8 in header_from: recovered */
	{ "invalid_utf_8.xml", "", "example.com:1538463741", 1, 1, 0 },
	/* "<bad-xml@...>" as markup in email: recovered */
	{ "invalid_xml.xml", "veeam.com", "sonexushealth.com:1530233361", 1,
	    1, 0 },
	/* gzip followed by stray bytes */
	{ "mimecast-weird-gzip.eml", "Mimecast",
	    "157a5fe30ec76f4bc0d8bccfc96c118a167a1280fee7c7465af5115e73082e5e",
	    1, 1, 1 },
	{ "old_draft_from_wiki.xml", "acme.com", "9391651994964116463", 1, 2,
	    2 },
	{ "protection.outlook.com!example.com!1711756800!1711843200.xml",
	    "Outlook.com", "cfeafefe4129445e8c81018bd9177197", 1, 1, 0 },
	/* the RFC 9990 namespace: same names */
	{ "rfc9990-example.net!example.com!1700000000!1700086399.xml",
	    "example.net", "dmarcbis-test-report-001", 2, 7, 5 },
	{ "rfc9990-sample.xml", "Sample Reporter", "3v98abbp8ya9n3va8yr8oa3ya",
	    1, 123, 123 },
	{ "twilight.eml", "google.com", "1627703331531660819", 1, 1, 1 },
	{ "usssa.com!example.com!1538784000!1538870399.xml", "usssa.com",
	    "8953b4d4a4ee4218b6ac0e2cb2667ee1", 2, 2, 0 },
	{ "veeam.com!example.com!1530133200!1530219600.xml", "veeam.com",
	    "sonexushealth.com:1530233361", 1, 1, 0 },
};

static void
check_agg(const char *dir, const struct agg *a)
{
	struct dmarcrep_summary	*s = xcalloc(1, sizeof(*s));
	char			 name[512];
	const char		*err = NULL;

	(void)snprintf(name, sizeof(name), "%s/%s", dir, a->file);
	if (parse_sample(name, s, &err) == -1)
		fail_msg("%s: refused: %s", a->file, err);
	assert_string_equal(s->org, a->org);
	assert_string_equal(s->report_id, a->report_id);
	assert_int_equal(s->nrecords, a->nrecords);
	assert_int_equal(s->messages, a->messages);
	assert_int_equal(s->pass, a->pass);
	assert_int_equal(s->fail, a->messages - a->pass);
	/* every failing message is one of the sources kept (or past 16) */
	if (s->fail > 0)
		assert_true(s->nsources > 0);
	free(s);
}

static void
test_parsedmarc_aggregate(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(aggs); i++)
		check_agg("parsedmarc-samples/aggregate", &aggs[i]);
}

static void
test_parsedmarc_extract(void **state)
{
	static const char *const files[] = { "nice-input.xml",
	    "nice-input.xml.gz", "nice-input.xml.zip" };
	struct agg	a = { NULL, "google.com", "11038226378739404135", 20,
			    3047, 3047 };
	struct agg	changed = { "changed-input.xml", "fred.com",
			    "11038226378739404135", 20, 3047, 3047 };
	size_t		i;

	(void)state;
	for (i = 0; i < NELEM(files); i++) {
		a.file = files[i];
		check_agg("parsedmarc-samples/extract_report", &a);
	}
	check_agg("parsedmarc-samples/extract_report", &changed);
}

#define SMALL	"<feedback><report_metadata><org_name>o</org_name>" \
	"<report_id>1</report_id><date_range><begin>1</begin><end>2</end>" \
	"</date_range></report_metadata><policy_published><domain>d" \
	"</domain><p>none</p></policy_published>%s</feedback>"

static void
test_refuses(void **state)
{
	struct dmarcrep_summary	*s = xcalloc(1, sizeof(*s));
	const char		*err = NULL;
	char			 doc[1024];

	(void)state;
	/* the schema's values are lower case: "Pass" is not one */
	assert_int_equal(parse_sample("parsedmarc-samples/aggregate_invalid/"
	    "report_with_upper_cased_pass.xml", s, &err), -1);
	assert_string_equal(err, "a policy_evaluated value outside the "
	    "schema's");
	err = NULL;
	assert_int_equal(parse_sample("parsedmarc-samples/empty.xml", s,
	    &err), -1);
	assert_non_null(err);
	/* a failure report is no aggregate one */
	assert_int_equal(parse_sample("parsedmarc-samples/failure/"
	    "dmarc_ruf_report_linkedin.eml", s, &err), -1);
	(void)snprintf(doc, sizeof(doc), SMALL, "");
	assert_int_equal(dmarcrep_parse(doc, strlen(doc), s, &err), -1);
	assert_string_equal(err, "no record");
	(void)snprintf(doc, sizeof(doc), SMALL, "<record><row><source_ip>"
	    "192.0.2.1</source_ip><count>18446744073709551616</count>"
	    "<policy_evaluated><disposition>none</disposition></"
	    "policy_evaluated></row></record>");
	assert_int_equal(dmarcrep_parse(doc, strlen(doc), s, &err), -1);
	(void)snprintf(doc, sizeof(doc), SMALL, "<record><row><source_ip>"
	    "192.0.2.1</source_ip><count>1</count><policy_evaluated>"
	    "<disposition>drop</disposition></policy_evaluated></row>"
	    "</record>");
	assert_int_equal(dmarcrep_parse(doc, strlen(doc), s, &err), -1);
	/* an external entity is neither fetched nor expanded (no XXE) */
	(void)snprintf(doc, sizeof(doc), "<!DOCTYPE feedback [<!ENTITY x "
	    "SYSTEM \"file:///etc/passwd\">]><feedback><report_metadata>"
	    "<org_name>o</org_name><report_id>1</report_id><date_range>"
	    "<begin>1</begin><end>2</end></date_range></report_metadata>"
	    "<policy_published><domain>d</domain><p>none</p>"
	    "</policy_published><record><row><source_ip>&x;</source_ip>"
	    "<count>1</count><policy_evaluated><disposition>none"
	    "</disposition><dkim>fail</dkim><spf>fail</spf>"
	    "</policy_evaluated></row></record></feedback>");
	assert_int_equal(dmarcrep_parse(doc, strlen(doc), s, &err), 0);
	assert_int_equal(s->nsources, 1);
	assert_string_equal(s->sources[0].ip, "");
	free(s);
}

/* --- Stalwart's aggregate samples with their expected parses --- */

static const char *
jstr(json_t *o, const char *a, const char *b)
{
	json_t	*v = json_object_get(json_object_get(o, a), b);

	return json_is_string(v) ? json_string_value(v) : "";
}

static const char *
jtext(json_t *o, const char *k)
{
	json_t	*v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : "";
}

static void
check_stalwart(const char *name, const char *jname)
{
	struct dmarcrep_summary	*s = xcalloc(1, sizeof(*s));
	json_t			*root, *jrecs, *r, *pe;
	json_error_t		 jerr;
	char			 path[1024];
	const char		*dir = getenv("CACHET_TESTDATA"), *err = NULL;
	uint64_t		 messages = 0, pass = 0, n;
	size_t			 i;

	(void)snprintf(path, sizeof(path), "%s/dmarc/stalwart-mail-auth-"
	    "feedback/%s", dir != NULL ? dir : "tests/data", jname);
	if ((root = json_load_file(path, 0, &jerr)) == NULL)
		fail_msg("%s: %s", path, jerr.text);
	(void)snprintf(path, sizeof(path), "stalwart-mail-auth-feedback/%s",
	    name);
	if (parse_sample(path, s, &err) == -1)
		fail_msg("%s: refused: %s", name, err);
	assert_string_equal(s->org, jstr(root, "report_metadata",
	    "org_name"));
	assert_string_equal(s->report_id, jstr(root, "report_metadata",
	    "report_id"));
	assert_string_equal(s->domain, jstr(root, "policy_published",
	    "domain"));
	/* the JSON's enum names are Stalwart's: "Quarantine" for ours */
	assert_int_equal(strcasecmp(dmarcrep_disposition_name(s->p),
	    jstr(root, "policy_published", "p")), 0);
	assert_int_equal(s->begin, json_integer_value(json_object_get(
	    json_object_get(json_object_get(root, "report_metadata"),
	    "date_range"), "begin")));
	assert_int_equal(s->end, json_integer_value(json_object_get(
	    json_object_get(json_object_get(root, "report_metadata"),
	    "date_range"), "end")));
	jrecs = json_object_get(root, "record");
	assert_int_equal(s->nrecords, json_array_size(jrecs));
	json_array_foreach(jrecs, i, r) {
		n = (uint64_t)json_integer_value(json_object_get(
		    json_object_get(r, "row"), "count"));
		pe = json_object_get(json_object_get(r, "row"),
		    "policy_evaluated");
		messages += n;
		if (strcmp(jtext(pe, "dkim"), "Pass") == 0 ||
		    strcmp(jtext(pe, "spf"), "Pass") == 0)
			pass += n;
	}
	assert_int_equal(s->messages, messages);
	assert_int_equal(s->pass, pass);
	json_decref(root);
	free(s);
}

static void
test_stalwart_aggregate(void **state)
{
	static const char *const names[] = { "001", "002", "003", "004",
	    "005" };
	char	x[16], j[16];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(names); i++) {
		(void)snprintf(x, sizeof(x), "%s.xml", names[i]);
		(void)snprintf(j, sizeof(j), "%s.json", names[i]);
		check_stalwart(x, j);
	}
	/* a Google report mail with the zip attached */
	check_stalwart("100.eml", "100.json");
}

/* --- failure reports --- */

/* "auth-failure" and Stalwart's "AuthFailure" are the same name. */
static bool
same_name(const char *ours, const char *theirs)
{
	while (*ours != '\0' || *theirs != '\0') {
		if (*ours == '-') {
			ours++;
			continue;
		}
		if (tolower((unsigned char)*ours) !=
		    tolower((unsigned char)*theirs))
			return false;
		ours++;
		theirs++;
	}
	return true;
}

static void
test_stalwart_arf(void **state)
{
	struct dmarcrep_arf	 a;
	json_t			*root, *rd;
	json_error_t		 jerr;
	char			 path[1024], name[64], *data, ip[64];
	const char		*dir = getenv("CACHET_TESTDATA"), *err;
	size_t			 len, i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		(void)snprintf(path, sizeof(path), "%s/dmarc/stalwart-mail-auth-"
		    "arf/%03zu.json", dir != NULL ? dir : "tests/data", i);
		if ((root = json_load_file(path, 0, &jerr)) == NULL)
			fail_msg("%s: %s", path, jerr.text);
		(void)snprintf(name, sizeof(name), "stalwart-mail-auth-arf/"
		    "%03zu.eml", i);
		data = read_data(name, &len);
		if (dmarcrep_arf_parse(data, len, &a, &err) == -1)
			fail_msg("%s: %s", name, err);
		assert_true(same_name(a.feedback_type, jtext(root,
		    "feedback_type")));
		assert_string_equal(a.user_agent, jtext(root, "user_agent"));
		assert_int_equal(a.version, json_integer_value(
		    json_object_get(root, "version")));
		/* Stalwart drops the comment after the address */
		(void)snprintf(ip, sizeof(ip), "%s", a.source_ip);
		ip[strcspn(ip, " (")] = '\0';
		assert_string_equal(ip, jtext(root, "source_ip"));
		assert_string_equal(a.original_mail_from, jtext(root,
		    "original_mail_from"));
		assert_string_equal(a.original_rcpt_to, jtext(root,
		    "original_rcpt_to"));
		rd = json_array_get(json_object_get(root, "reported_domain"),
		    0);
		assert_string_equal(a.reported_domain, rd != NULL ?
		    json_string_value(rd) : "");
		assert_int_equal(a.incidents, json_integer_value(
		    json_object_get(root, "incidents")));
		if (strcmp(jtext(root, "auth_failure"), "Unspecified") != 0)
			assert_true(same_name(a.auth_failure, jtext(root,
			    "auth_failure")));
		else
			assert_string_equal(a.auth_failure, "");
		json_decref(root);
		free(data);
	}
}

static void
test_parsedmarc_failure(void **state)
{
	static const struct {
		const char	*file;
		const char	*domain;
		const char	*ip;
	} ok[] = {
		{ "dmarc_ruf_report_linkedin.eml", "example.com",
		    "10.10.10.10" },
		{ "dmarc_ruf_report_linkedin.crlf.eml", "example.com",
		    "10.10.10.10" },
		{ "failure-report-domain.de.eml", "domain.de", "10.10.10.10" },
	};
	struct dmarcrep_arf	 a;
	char			 name[256], *data;
	const char		*err;
	size_t			 len, i;

	(void)state;
	for (i = 0; i < NELEM(ok); i++) {
		(void)snprintf(name, sizeof(name), "parsedmarc-samples/failure/"
		    "%s", ok[i].file);
		data = read_data(name, &len);
		if (dmarcrep_arf_parse(data, len, &a, &err) == -1)
			fail_msg("%s: %s", ok[i].file, err);
		assert_string_equal(a.feedback_type, "auth-failure");
		assert_string_equal(a.auth_failure, "dmarc");
		assert_string_equal(a.reported_domain, ok[i].domain);
		assert_string_equal(a.source_ip, ok[i].ip);
		free(data);
	}
	/* Exim's plain-text notice has no ARF part: refused cleanly */
	data = read_data("parsedmarc-samples/failure/exim_plain_text_only_no_"
	    "arf_part.eml", &len);
	assert_int_equal(dmarcrep_arf_parse(data, len, &a, &err), -1);
	assert_string_equal(err, "no message/feedback-report part");
	free(data);
	/* NetEase's: the ARF part in base64 inside multipart/mixed */
	data = read_data("parsedmarc-samples/failure/netease-failure-"
	    "report.eml", &len);
	assert_int_equal(dmarcrep_arf_parse(data, len, &a, &err), 0);
	assert_string_equal(a.feedback_type, "auth-failure");
	assert_string_equal(a.user_agent, "NtesDmarcReporter/1.0");
	assert_string_equal(a.source_ip, "167.89.69.24");
	assert_string_equal(a.reported_domain, "cardinal.com");
	assert_string_equal(a.delivery_result, "delivered");
	assert_string_equal(a.identity_alignment, "spf,dkim");
	free(data);
}

/* --- building --- */

static const struct dmarcrep_record recs[] = {
	{ "192.0.2.1", 7, DMARCREP_NONE, true, true, { NULL }, 0,
	    "example.org", "example.net", { { "example.org", "s1", "pass" } },
	    1, "example.org", "mfrom", "pass" },
	{ "2001:db8::5", 3, DMARCREP_QUARANTINE, false, false,
	    { "local_policy" }, 1, "example.org", "",
	    { { "evil.example", "", "fail" }, { "example.org", "s2",
	    "permerror" } }, 2, "evil.example", "helo", "softfail" },
};

static void
test_build_parse_back(void **state)
{
	struct dmarcrep_report	 r;
	struct dmarcrep_summary	*s = xcalloc(1, sizeof(*s));
	struct buf		 out;
	const char		*err;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.org_name = "mx.example.net <&>";
	r.email = "postmaster@example.net";
	r.report_id = "1700000000.abc@mx.example.net";
	r.begin = 1700000000;
	r.end = 1700086400;
	r.domain = "example.org";
	r.adkim = 'r';
	r.aspf = 's';
	r.p = DMARCREP_REJECT;
	r.sp = DMARCREP_QUARANTINE;
	r.pct = 50;
	r.fo = "1";
	r.records = recs;
	r.nrecords = NELEM(recs);
	buf_init(&out, DMARCREP_XML_MAX);
	assert_int_equal(dmarcrep_build(&r, &out, &err), 0);
	/* the markup characters of a value are escaped */
	assert_non_null(strstr(out.data, "<org_name>mx.example.net &lt;&amp;"
	    "&gt;</org_name>"));
	assert_non_null(strstr(out.data, "<reason>"));
	assert_non_null(strstr(out.data, "<type>local_policy</type>"));
	assert_non_null(strstr(out.data, "<scope>helo</scope>"));
	assert_int_equal(dmarcrep_parse(out.data, out.len, s, &err), 0);
	assert_string_equal(s->org, "mx.example.net <&>");
	assert_string_equal(s->report_id, r.report_id);
	assert_string_equal(s->domain, "example.org");
	assert_int_equal(s->p, DMARCREP_REJECT);
	assert_int_equal(s->begin, r.begin);
	assert_int_equal(s->end, r.end);
	assert_int_equal(s->nrecords, 2);
	assert_int_equal(s->messages, 10);
	assert_int_equal(s->pass, 7);
	assert_int_equal(s->fail, 3);
	assert_int_equal(s->nsources, 1);
	assert_string_equal(s->sources[0].ip, "2001:db8::5");
	/* out of range: refused */
	buf_reset(&out);
	r.pct = 101;
	assert_int_equal(dmarcrep_build(&r, &out, &err), -1);
	r.pct = 100;
	r.nrecords = 0;
	assert_int_equal(dmarcrep_build(&r, &out, &err), -1);
	buf_free(&out);
	free(s);
}

/* --- rua URIs and the mail --- */

static void
test_uri(void **state)
{
	char		addr[320];
	uint64_t	lim;

	(void)state;
	assert_int_equal(dmarcrep_uri_parse("mailto:a@example.org", 20, addr,
	    sizeof(addr), &lim), 0);
	assert_string_equal(addr, "a@example.org");
	assert_int_equal(lim, 0);
	assert_int_equal(dmarcrep_uri_parse("mailto:a@example.org!10m", 24,
	    addr, sizeof(addr), &lim), 0);
	assert_string_equal(addr, "a@example.org");
	assert_int_equal(lim, 10ULL << 20);
	assert_int_equal(dmarcrep_uri_parse("MAILTO:r%2Bx@example.org!500",
	    28, addr, sizeof(addr), &lim), 0);
	assert_string_equal(addr, "r+x@example.org");
	assert_int_equal(lim, 500);
	assert_int_equal(dmarcrep_uri_parse("mailto:a@example.org!1k", 23,
	    addr, sizeof(addr), &lim), 0);
	assert_int_equal(lim, 1024);
	assert_int_equal(dmarcrep_uri_parse("https://example.org/", 20, addr,
	    sizeof(addr), &lim), -1);
	assert_int_equal(dmarcrep_uri_parse("mailto:a@example.org!x", 22,
	    addr, sizeof(addr), &lim), -1);
	assert_int_equal(dmarcrep_uri_parse("mailto:nobody", 13, addr,
	    sizeof(addr), &lim), -1);
	assert_int_equal(dmarcrep_uri_parse("mailto:a@b!99999999999999999999t",
	    32, addr, sizeof(addr), &lim), -1);
}

static void
test_mail(void **state)
{
	struct dmarcrep_mail	 m;
	struct dmarcrep_summary	*s = xcalloc(1, sizeof(*s));
	struct dmarcrep_report	 r;
	struct buf		 xml, gz, out, back;
	const char		*err;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.org_name = "mx.example.net";
	r.email = "postmaster@example.net";
	r.report_id = "42@mx.example.net";
	r.begin = 1700000000;
	r.end = 1700086400;
	r.domain = "example.org";
	r.adkim = r.aspf = 'r';
	r.pct = 100;
	r.records = recs;
	r.nrecords = NELEM(recs);
	buf_init(&xml, DMARCREP_XML_MAX);
	buf_init(&gz, DMARCREP_XML_MAX);
	buf_init(&out, DMARCREP_XML_MAX);
	buf_init(&back, DMARCREP_XML_MAX);
	assert_int_equal(dmarcrep_build(&r, &xml, &err), 0);
	assert_int_equal(tlsrpt_gzip(xml.data, xml.len, &gz), 0);
	memset(&m, 0, sizeof(m));
	m.from = "postmaster@example.net";
	m.to = "dmarc@example.org";
	m.domain = "example.org";
	m.submitter = "mx.example.net";
	m.report_id = "42@mx.example.net";
	m.begin = r.begin;
	m.end = r.end;
	m.now = r.end;
	m.boundary = "b0";
	m.gz = gz.data;
	m.gzlen = gz.len;
	assert_int_equal(dmarcrep_mail_compose(&m, &out), 0);
	assert_non_null(strstr(out.data, "\r\nSubject: Report Domain: "
	    "example.org Submitter: mx.example.net Report-ID: "
	    "<42@mx.example.net>\r\n"));
	assert_non_null(strstr(out.data, "Content-Type: application/gzip\r\n"));
	assert_non_null(strstr(out.data, "filename=\"mx.example.net!"
	    "example.org!1700000000!1700086400.xml.gz\""));
	/* what we send, we read back as a report received */
	assert_int_equal(dmarcrep_extract(out.data, out.len, &back, &err), 0);
	assert_int_equal(back.len, xml.len);
	assert_memory_equal(back.data, xml.data, xml.len);
	assert_int_equal(dmarcrep_parse(back.data, back.len, s, &err), 0);
	assert_int_equal(s->messages, 10);
	/* a header field cannot be split */
	m.to = "a@b\r\nBcc: x@y";
	buf_reset(&out);
	assert_int_equal(dmarcrep_mail_compose(&m, &out), -1);
	buf_free(&xml);
	buf_free(&gz);
	buf_free(&out);
	buf_free(&back);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsedmarc_aggregate),
		cmocka_unit_test(test_parsedmarc_extract),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_stalwart_aggregate),
		cmocka_unit_test(test_stalwart_arf),
		cmocka_unit_test(test_parsedmarc_failure),
		cmocka_unit_test(test_build_parse_back),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_mail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
