/*
 * Unit tests for http_autoconfig.c: the servers taken from a config's
 * listen lines, XML escaping, the emailaddress of a query, the
 * Autodiscover request, and the three documents, parsed back with
 * libxml2 and checked field by field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "http/http_autoconfig.h"

static const char	domains[][CONF_NAME_MAX + 1] = {
	"example.org", "example.net",
};

#define ALL_LISTENS	"listen smtp 127.0.0.1:25\n" \
	"listen submission *:587\n" \
	"listen submissions [::1]:465\n" \
	"listen imap 127.0.0.1:143\n" \
	"listen imaps 0.0.0.0:993\n" \
	"listen pop3 127.0.0.1:110\n" \
	"listen pop3s 127.0.0.1:995\n" \
	"listen imaps 127.0.0.2:1993\n"

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

static void
autoconfig_of(const char *text, struct http_autoconfig *ac)
{
	struct conf	*c = parse(text);

	http_autoconfig_init(ac, c);
	conf_free(c);
}

static void
test_servers_from_listen_lines(void **state)
{
	struct http_autoconfig	ac;

	(void)state;
	autoconfig_of("hostname mail.example.org\n" ALL_LISTENS, &ac);
	assert_string_equal(ac.hostname, "mail.example.org");
	/* The first line of a kind, whatever its address. */
	assert_int_equal(ac.port[HTTP_AC_IMAPS], 993);
	assert_int_equal(ac.port[HTTP_AC_IMAP], 143);
	assert_int_equal(ac.port[HTTP_AC_POP3S], 995);
	assert_int_equal(ac.port[HTTP_AC_POP3], 110);
	assert_int_equal(ac.port[HTTP_AC_SUBMISSIONS], 465);
	assert_int_equal(ac.port[HTTP_AC_SUBMISSION], 587);
	assert_true(http_autoconfig_usable(&ac));

	autoconfig_of("hostname h.example\nlisten imap 127.0.0.1:143\n", &ac);
	assert_false(http_autoconfig_usable(&ac));
	autoconfig_of("hostname h.example\nlisten submission *:587\n", &ac);
	assert_false(http_autoconfig_usable(&ac));
	autoconfig_of("hostname h.example\nlisten pop3s *:995\n"
	    "listen submission *:587\n", &ac);
	assert_true(http_autoconfig_usable(&ac));
}

static void
test_xml_escape(void **state)
{
	static const char	in[] = "a&b<c>d\"e'f\tg\r\nh\xc3\xa9";
	struct buf		b;

	(void)state;
	buf_init(&b, 256);
	assert_int_equal(http_autoconfig_xml_esc(&b, in, sizeof(in) - 1), 0);
	assert_string_equal(b.data,
	    "a&amp;b&lt;c&gt;d&quot;e&apos;f\tg\r\nh\xc3\xa9");
	buf_reset(&b);
	assert_int_equal(http_autoconfig_xml_esc(&b, "a\0b", 3), -1);
	buf_reset(&b);
	assert_int_equal(http_autoconfig_xml_esc(&b, "a\x1b", 2), -1);
	buf_free(&b);
	/* Full: an error, not a shorter text. */
	buf_init(&b, 8);
	assert_int_equal(http_autoconfig_xml_esc(&b, "<<<", 3), -1);
	buf_free(&b);
}

/* A heap copy of s of exactly its length: no NUL to lean on. */
static char *
dup_bytes(const char *s, size_t *len)
{
	char	*p;

	*len = strlen(s);
	p = malloc(*len > 0 ? *len : 1);
	assert_non_null(p);
	memcpy(p, s, *len);
	return p;
}

static int
query(const char *q, bool required, char addr[CONF_ADDR_MAX + 1])
{
	size_t	 n;
	char	*p = dup_bytes(q, &n);
	int	 rc;

	rc = http_autoconfig_query(span_make(p, n), required, domains, 2,
	    addr);
	free(p);
	return rc;
}

static void
test_query(void **state)
{
	static const struct {
		const char	*q;
		bool		 required;
		int		 status;
		const char	*addr;
	} cases[] = {
		{ "emailaddress=alice%40example.org", true, 200,
		    "alice@example.org" },
		{ "emailaddress=alice@EXAMPLE.NET", true, 200,
		    "alice@EXAMPLE.NET" },
		{ "x=1&emailaddress=a+b%2bc%40example.org&y", true, 200,
		    "a+b+c@example.org" },
		{ "emailaddress=o%27neil%26co%40example.org", false, 200,
		    "o'neil&co@example.org" },
		{ "", false, 200, "" },
		{ "emailaddressx=a%40example.org", false, 200, "" },
		{ "EmailAddress=a%40example.org", false, 200, "" },
		{ "", true, 400, "" },
		{ "other=1", true, 400, "" },
		{ "emailaddress", true, 400, "" },
		{ "emailaddress=", true, 400, "" },
		{ "emailaddress=alice", true, 400, "" },
		{ "emailaddress=alice%4", true, 400, "" },
		{ "emailaddress=alice%4g%40example.org", true, 400, "" },
		{ "emailaddress=a%00b%40example.org", true, 400, "" },
		{ "emailaddress=a%0d%0ab%40example.org", true, 400, "" },
		{ "emailaddress=%3Ca%40example.org%3E", true, 400, "" },
		{ "emailaddress=a%40example.org&emailaddress=a%40example.org",
		    true, 400, "" },
		{ "emailaddress=a%40[127.0.0.1]", true, 404, "" },
		{ "emailaddress=a%40example.com", true, 404, "" },
		{ "emailaddress=a%40mx.example.org", true, 404, "" },
	};
	char	addr[CONF_ADDR_MAX + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(query(cases[i].q, cases[i].required, addr),
		    cases[i].status);
		assert_string_equal(addr, cases[i].addr);
	}
}

static void
test_query_length(void **state)
{
	char	q[4 * CONF_ADDR_MAX], addr[CONF_ADDR_MAX + 1];
	int	n;

	(void)state;
	/* 64 octets of local part: the longest a mailbox has. */
	n = snprintf(q, sizeof(q), "emailaddress=%.*s%%40example.org", 64,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_true(n > 0);
	assert_int_equal(query(q, true, addr), 200);
	assert_int_equal(strlen(addr), 64 + 12);
	/* 65: not a mailbox. */
	n = snprintf(q, sizeof(q), "emailaddress=b%.*s%%40example.org", 64,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_true(n > 0);
	assert_int_equal(query(q, true, addr), 400);
	/* Past CONF_ADDR_MAX decoded: refused before it is parsed. */
	memset(q, 'a', sizeof(q));
	memcpy(q, "emailaddress=", 13);
	q[sizeof(q) - 1] = '\0';
	assert_int_equal(query(q, true, addr), 400);
}

#define REQ_NS	"http://schemas.microsoft.com/exchange/autodiscover/" \
	"outlook/requestschema/2006"
#define OUTLOOK	"http://schemas.microsoft.com/exchange/autodiscover/" \
	"outlook/responseschema/2006a"

static int
ad_req(const char *body, char addr[CONF_ADDR_MAX + 1])
{
	size_t	 n;
	char	*p = dup_bytes(body, &n);
	int	 rc;

	rc = http_autoconfig_autodiscover_req(p, n, domains, 2, addr);
	free(p);
	return rc;
}

static void
test_autodiscover_request(void **state)
{
	static const struct {
		const char	*body;
		int		 rc;
		const char	*addr;
	} cases[] = {
		{ "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
		    "<Autodiscover xmlns=\"" REQ_NS "\">\r\n <Request>\r\n"
		    "  <EMailAddress>alice@example.org</EMailAddress>\r\n"
		    "  <AcceptableResponseSchema>" OUTLOOK
		    "</AcceptableResponseSchema>\r\n </Request>\r\n"
		    "</Autodiscover>\r\n", 0, "alice@example.org" },
		/* No schema: Outlook's; white space and entities. */
		{ "<Autodiscover><Request><EMailAddress>\n o&apos;neil&#38;co"
		    "@example.net\t</EMailAddress></Request></Autodiscover>",
		    0, "o'neil&co@example.net" },
		{ "<a:Autodiscover xmlns:a=\"" REQ_NS "\"><a:Request>"
		    "<a:EMailAddress><![CDATA[bob@example.org]]>"
		    "</a:EMailAddress></a:Request></a:Autodiscover>", 0,
		    "bob@example.org" },
		{ "<Autodiscover><Request><EMailAddress>bob@example.com"
		    "</EMailAddress></Request></Autodiscover>",
		    HTTP_AC_ERR_ADDRESS, "" },
		{ "<Autodiscover><Request><EMailAddress>bob@example.org"
		    "</EMailAddress><AcceptableResponseSchema>http://schemas."
		    "microsoft.com/exchange/autodiscover/mobilesync/"
		    "responseschema/2006</AcceptableResponseSchema></Request>"
		    "</Autodiscover>", HTTP_AC_ERR_SCHEMA, "" },
		{ "", HTTP_AC_ERR_REQUEST, "" },
		{ "<Autodiscover><Request>", HTTP_AC_ERR_REQUEST, "" },
		{ "<Autodiscover><Request><EMailAddress>bob</EMailAddress>"
		    "</Request></Autodiscover>", HTTP_AC_ERR_REQUEST, "" },
		{ "<Autodiscover><Request><EMailAddress><b>bob@example.org"
		    "</b></EMailAddress></Request></Autodiscover>",
		    HTTP_AC_ERR_REQUEST, "" },
		{ "<Autodiscover><Request/><Request><EMailAddress>"
		    "bob@example.org</EMailAddress></Request></Autodiscover>",
		    HTTP_AC_ERR_REQUEST, "" },
		{ "<Other><Request><EMailAddress>bob@example.org"
		    "</EMailAddress></Request></Other>", HTTP_AC_ERR_REQUEST,
		    "" },
		{ "<Autodiscover><Request><EMailAddress>bob@example.org"
		    "</EMailAddress><AcceptableResponseSchema/>"
		    "<AcceptableResponseSchema/></Request></Autodiscover>",
		    HTTP_AC_ERR_REQUEST, "" },
		/* A DTD, internal or external, is refused unread. */
		{ "<!DOCTYPE Autodiscover [<!ENTITY e \"bob@example.org\">]>"
		    "<Autodiscover><Request><EMailAddress>&e;</EMailAddress>"
		    "</Request></Autodiscover>", HTTP_AC_ERR_REQUEST, "" },
		{ "<!DOCTYPE Autodiscover SYSTEM \"file:///etc/passwd\">"
		    "<Autodiscover><Request><EMailAddress>bob@example.org"
		    "</EMailAddress></Request></Autodiscover>",
		    HTTP_AC_ERR_REQUEST, "" },
		{ "<Autodiscover><Request><EMailAddress>&e;</EMailAddress>"
		    "</Request></Autodiscover>", HTTP_AC_ERR_REQUEST, "" },
		/* The declared encoding is not loaded: read as UTF-8. */
		{ "<?xml version=\"1.0\" encoding=\"EBCDIC-US\"?>"
		    "<Autodiscover><Request><EMailAddress>bob@example.org"
		    "</EMailAddress></Request></Autodiscover>", 0,
		    "bob@example.org" },
	};
	char	addr[CONF_ADDR_MAX + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ad_req(cases[i].body, addr), cases[i].rc);
		assert_string_equal(addr, cases[i].addr);
	}
}

/*
 * The largest request Outlook would send for a mailbox of ours: the
 * longest mailbox, a LegacyDN, CRLF and indentation: the figure
 * HTTP_AUTOCONFIG_BODY_MAX is chosen from.
 */
static void
test_autodiscover_request_longest(void **state)
{
	char	long_domains[1][CONF_NAME_MAX + 1], mailbox[255];
	char	body[HTTP_AUTOCONFIG_BODY_MAX + 1];
	char	addr[CONF_ADDR_MAX + 1];
	int	n;

	(void)state;
	/* 64 + "@" + 189 = 254 octets: 3 labels of 62 and "org". */
	memset(mailbox, 'a', 64);
	mailbox[64] = '@';
	memset(mailbox + 65, 'd', 189);
	mailbox[65 + 62] = mailbox[65 + 125] = mailbox[65 + 185] = '.';
	memcpy(mailbox + 65 + 186, "org", 3);
	mailbox[254] = '\0';
	(void)snprintf(long_domains[0], sizeof(long_domains[0]), "%s",
	    mailbox + 65);
	n = snprintf(body, sizeof(body),
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
	    "<Autodiscover xmlns=\"" REQ_NS "\">\r\n"
	    "  <Request>\r\n"
	    "    <EMailAddress>%s</EMailAddress>\r\n"
	    "    <LegacyDN>/o=First Organization/ou=Exchange Administrative "
	    "Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=0123456789abcdef0123456"
	    "789abcdef-user</LegacyDN>\r\n"
	    "    <AcceptableResponseSchema>" OUTLOOK
	    "</AcceptableResponseSchema>\r\n"
	    "  </Request>\r\n"
	    "</Autodiscover>\r\n", mailbox);
	/* 767 octets: 1 KiB would leave 257 for entities, 2 KiB 1281. */
	assert_int_equal(n, 767);
	assert_int_equal(http_autoconfig_autodiscover_req(body, (size_t)n,
	    (const char (*)[CONF_NAME_MAX + 1])long_domains, 1, addr), 0);
	assert_string_equal(addr, mailbox);
}

static void
test_autodiscover_request_size(void **state)
{
	static const char	head[] = "<Autodiscover><Request><EMailAddress>"
				    "bob@example.org</EMailAddress></Request>"
				    "</Autodiscover>";
	char			body[HTTP_AUTOCONFIG_BODY_MAX + 1];
	char			addr[CONF_ADDR_MAX + 1];

	(void)state;
	memset(body, ' ', sizeof(body));
	memcpy(body, head, sizeof(head) - 1);
	assert_int_equal(http_autoconfig_autodiscover_req(body,
	    HTTP_AUTOCONFIG_BODY_MAX, domains, 2, addr), 0);
	assert_int_equal(http_autoconfig_autodiscover_req(body,
	    HTTP_AUTOCONFIG_BODY_MAX + 1, domains, 2, addr),
	    HTTP_AC_ERR_REQUEST);
}

/* The text of the one node xpath finds in doc, or NULL (none, several). */
static char *
xp(xmlDocPtr doc, const char *xpath)
{
	xmlXPathContextPtr	 ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr	 o;
	char			*s = NULL;

	assert_non_null(ctx);
	assert_int_equal(xmlXPathRegisterNs(ctx, BAD_CAST "r", BAD_CAST
	    "http://schemas.microsoft.com/exchange/autodiscover/"
	    "responseschema/2006"), 0);
	assert_int_equal(xmlXPathRegisterNs(ctx, BAD_CAST "o",
	    BAD_CAST OUTLOOK), 0);
	o = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	assert_non_null(o);
	if (o->nodesetval != NULL && o->nodesetval->nodeNr == 1)
		s = (char *)xmlNodeGetContent(o->nodesetval->nodeTab[0]);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return s;
}

static void
assert_xp(xmlDocPtr doc, const char *xpath, const char *want)
{
	char	*got = xp(doc, xpath);

	if (got == NULL) {
		fail_msg("%s: not one node", xpath);
		return;
	}
	if (strcmp(got, want) != 0)
		fail_msg("%s: \"%s\", not \"%s\"", xpath, got, want);
	xmlFree(got);
}

static double
xp_count(xmlDocPtr doc, const char *xpath)
{
	xmlXPathContextPtr	ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr	o;
	double			n;

	assert_non_null(ctx);
	o = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
	assert_non_null(o);
	n = o->floatval;
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return n;
}

static xmlDocPtr
read_doc(const struct buf *b)
{
	xmlDocPtr	doc;

	doc = xmlReadMemory(b->data, (int)b->len, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	return doc;
}

static void
test_thunderbird(void **state)
{
	struct http_autoconfig	ac;
	struct buf		b;
	xmlDocPtr		doc;

	(void)state;
	autoconfig_of("hostname mail.example.org\n" ALL_LISTENS, &ac);
	buf_init(&b, HTTP_AUTOCONFIG_MAX);
	assert_int_equal(http_autoconfig_thunderbird(&ac, "example.net", &b),
	    0);
	doc = read_doc(&b);
	assert_xp(doc, "/clientConfig/@version", "1.1");
	assert_xp(doc, "/clientConfig/emailProvider/@id", "example.net");
	assert_xp(doc, "/clientConfig/emailProvider/domain", "example.net");
	assert_xp(doc, "/clientConfig/emailProvider/displayName",
	    "example.net");
	assert_int_equal(xp_count(doc, "count(//incomingServer)"), 4);
	assert_int_equal(xp_count(doc, "count(//outgoingServer)"), 2);
	assert_int_equal(xp_count(doc, "count(//*[hostname!='mail.example.org'"
	    " or username!='%EMAILADDRESS%' or "
	    "authentication!='password-cleartext'][hostname])"), 0);
	assert_xp(doc, "//incomingServer[1]/@type", "imap");
	assert_xp(doc, "//incomingServer[1]/port", "993");
	assert_xp(doc, "//incomingServer[1]/socketType", "SSL");
	assert_xp(doc, "//incomingServer[2]/@type", "imap");
	assert_xp(doc, "//incomingServer[2]/port", "143");
	assert_xp(doc, "//incomingServer[2]/socketType", "STARTTLS");
	assert_xp(doc, "//incomingServer[3]/@type", "pop3");
	assert_xp(doc, "//incomingServer[3]/port", "995");
	assert_xp(doc, "//incomingServer[3]/socketType", "SSL");
	assert_xp(doc, "//incomingServer[4]/@type", "pop3");
	assert_xp(doc, "//incomingServer[4]/port", "110");
	assert_xp(doc, "//incomingServer[4]/socketType", "STARTTLS");
	assert_xp(doc, "//outgoingServer[1]/@type", "smtp");
	assert_xp(doc, "//outgoingServer[1]/port", "465");
	assert_xp(doc, "//outgoingServer[1]/socketType", "SSL");
	assert_xp(doc, "//outgoingServer[2]/port", "587");
	assert_xp(doc, "//outgoingServer[2]/socketType", "STARTTLS");
	xmlFreeDoc(doc);

	/* Only the listeners there are. */
	autoconfig_of("hostname h.example\nlisten imap *:143\n"
	    "listen submission *:587\n", &ac);
	assert_int_equal(http_autoconfig_thunderbird(&ac, "example.org", &b),
	    0);
	doc = read_doc(&b);
	assert_int_equal(xp_count(doc, "count(//incomingServer)"), 1);
	assert_int_equal(xp_count(doc, "count(//outgoingServer)"), 1);
	assert_xp(doc, "//incomingServer/socketType", "STARTTLS");
	assert_xp(doc, "//outgoingServer/hostname", "h.example");
	xmlFreeDoc(doc);

	/* Too small a buffer is an error. */
	buf_free(&b);
	buf_init(&b, 200);
	assert_int_equal(http_autoconfig_thunderbird(&ac, "example.org", &b),
	    -1);
	buf_free(&b);
}

static void
test_autodiscover(void **state)
{
	struct http_autoconfig	ac;
	struct buf		b;
	xmlDocPtr		doc;

	(void)state;
	autoconfig_of("hostname mail.example.org\n" ALL_LISTENS, &ac);
	buf_init(&b, HTTP_AUTOCONFIG_MAX);
	assert_int_equal(http_autoconfig_autodiscover(&ac,
	    "o'neil&co<x>@example.org", &b), 0);
	doc = read_doc(&b);
	assert_xp(doc, "/r:Autodiscover/o:Response/o:Account/o:AccountType",
	    "email");
	assert_xp(doc, "//o:Account/o:Action", "settings");
	assert_int_equal(xp_count(doc, "count(//*[local-name()='Protocol'])"),
	    3);
	assert_xp(doc, "//o:Protocol[1]/o:Type", "IMAP");
	assert_xp(doc, "//o:Protocol[1]/o:Port", "993");
	assert_xp(doc, "//o:Protocol[1]/o:Encryption", "SSL");
	assert_xp(doc, "//o:Protocol[1]/o:LoginName",
	    "o'neil&co<x>@example.org");
	assert_xp(doc, "//o:Protocol[1]/o:Server", "mail.example.org");
	assert_xp(doc, "//o:Protocol[2]/o:Type", "POP3");
	assert_xp(doc, "//o:Protocol[2]/o:Port", "995");
	assert_xp(doc, "//o:Protocol[3]/o:Type", "SMTP");
	assert_xp(doc, "//o:Protocol[3]/o:Port", "465");
	assert_xp(doc, "//o:Protocol[3]/o:SSL", "on");
	assert_xp(doc, "//o:Protocol[3]/o:AuthRequired", "on");
	xmlFreeDoc(doc);

	/* STARTTLS only: Encryption TLS; no POP3 listener, no POP3. */
	autoconfig_of("hostname h.example\nlisten imap *:143\n"
	    "listen submission *:587\n", &ac);
	assert_int_equal(http_autoconfig_autodiscover(&ac, "a@example.org",
	    &b), 0);
	doc = read_doc(&b);
	assert_int_equal(xp_count(doc, "count(//*[local-name()='Protocol'])"),
	    2);
	assert_xp(doc, "//o:Protocol[1]/o:Port", "143");
	assert_xp(doc, "//o:Protocol[1]/o:Encryption", "TLS");
	assert_xp(doc, "//o:Protocol[2]/o:Type", "SMTP");
	assert_xp(doc, "//o:Protocol[2]/o:Encryption", "TLS");
	xmlFreeDoc(doc);

	assert_int_equal(http_autoconfig_autodiscover_error(HTTP_AC_ERR_SCHEMA,
	    &b), 0);
	doc = read_doc(&b);
	assert_xp(doc, "/r:Autodiscover/r:Response/r:Error/r:ErrorCode",
	    "601");
	xmlFreeDoc(doc);
	assert_int_equal(http_autoconfig_autodiscover_error(12345, &b), 0);
	doc = read_doc(&b);
	assert_xp(doc, "//r:ErrorCode", "600");
	xmlFreeDoc(doc);
	buf_free(&b);
}

/* The string after <key>key</key> in the dict at path (plist XML). */
static void
assert_key(xmlDocPtr doc, const char *dict, const char *key,
    const char *want)
{
	char	path[512];

	(void)snprintf(path, sizeof(path), "%s/key[.='%s']/"
	    "following-sibling::*[1]", dict, key);
	assert_xp(doc, path, want);
}

static void
test_mobileconfig(void **state)
{
	static const char	pay[] = "/plist/dict/array/dict";
	struct http_autoconfig	ac;
	struct buf		b, again;
	xmlDocPtr		doc;
	char			*id;

	(void)state;
	autoconfig_of("hostname mail.example.org\n" ALL_LISTENS, &ac);
	buf_init(&b, HTTP_AUTOCONFIG_MAX);
	buf_init(&again, HTTP_AUTOCONFIG_MAX);
	assert_int_equal(http_autoconfig_mobileconfig(&ac, "a&b@example.org",
	    &b), 0);
	doc = read_doc(&b);
	assert_xp(doc, "/plist/@version", "1.0");
	assert_key(doc, "/plist/dict", "PayloadType", "Configuration");
	assert_key(doc, "/plist/dict", "PayloadVersion", "1");
	id = xp(doc, "/plist/dict/key[.='PayloadIdentifier']/"
	    "following-sibling::*[1]");
	assert_non_null(id);
	assert_true(strncmp(id, "org.example.mail.mail.", 22) == 0);
	assert_int_equal(strlen(id), 22 + 36);
	xmlFree(id);
	assert_key(doc, pay, "PayloadType", "com.apple.mail.managed");
	assert_key(doc, pay, "EmailAccountType", "EmailTypeIMAP");
	assert_key(doc, pay, "EmailAddress", "a&b@example.org");
	assert_key(doc, pay, "IncomingMailServerHostName", "mail.example.org");
	assert_key(doc, pay, "IncomingMailServerPortNumber", "993");
	assert_key(doc, pay, "IncomingMailServerUsername", "a&b@example.org");
	assert_key(doc, pay, "OutgoingMailServerPortNumber", "465");
	assert_key(doc, pay, "OutgoingMailServerUsername", "a&b@example.org");
	assert_int_equal(xp_count(doc, "count(/plist/dict/array/dict/"
	    "key[.='IncomingMailServerUseSSL']/following-sibling::*[1]"
	    "[self::true])"), 1);
	xmlFreeDoc(doc);
	/* The same profile for the same user: its UUIDs do not change. */
	assert_int_equal(http_autoconfig_mobileconfig(&ac, "a&b@example.org",
	    &again), 0);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	assert_int_equal(http_autoconfig_mobileconfig(&ac, "c@example.org",
	    &again), 0);
	doc = read_doc(&again);
	id = xp(doc, "/plist/dict/key[.='PayloadUUID']/"
	    "following-sibling::*[1]");
	assert_non_null(id);
	assert_null(strstr(b.data, id));
	assert_int_equal(id[14], '8');	/* RFC 9562 version 8 */
	xmlFree(id);
	xmlFreeDoc(doc);

	/* POP3 when there is no IMAP; nothing without SMTP. */
	autoconfig_of("hostname h.example\nlisten pop3 *:110\n"
	    "listen submission *:587\n", &ac);
	assert_int_equal(http_autoconfig_mobileconfig(&ac, "a@example.org",
	    &b), 0);
	doc = read_doc(&b);
	assert_key(doc, pay, "EmailAccountType", "EmailTypePOP");
	assert_key(doc, pay, "IncomingMailServerPortNumber", "110");
	assert_key(doc, pay, "OutgoingMailServerPortNumber", "587");
	xmlFreeDoc(doc);
	autoconfig_of("hostname h.example\nlisten imap *:143\n", &ac);
	assert_int_equal(http_autoconfig_mobileconfig(&ac, "a@example.org",
	    &b), -1);
	buf_free(&b);
	buf_free(&again);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_servers_from_listen_lines),
		cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_length),
		cmocka_unit_test(test_autodiscover_request),
		cmocka_unit_test(test_autodiscover_request_longest),
		cmocka_unit_test(test_autodiscover_request_size),
		cmocka_unit_test(test_thunderbird),
		cmocka_unit_test(test_autodiscover),
		cmocka_unit_test(test_mobileconfig),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
