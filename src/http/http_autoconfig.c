/*
 * http_autoconfig: client configuration documents (http_autoconfig.h).
 * Run by the http role; the query and the Autodiscover body are a
 * peer's, everything else is our config.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "http/http_autoconfig.h"
#include "log.h"
#include "mailaddr.h"
#include "util.h"

#define AC_REQ_SCHEMA	"http://schemas.microsoft.com/exchange/autodiscover/" \
	"outlook/responseschema/2006a"
#define AC_RESP_NS	"http://schemas.microsoft.com/exchange/autodiscover/" \
	"responseschema/2006"
#define AC_PARAM	"emailaddress"
#define AC_UUID_LEN	36	/* 8-4-4-4-12 hex digits */

/* What each published listener is; indexed by enum http_autoconfig_srv. */
static const struct {
	enum conf_listen_kind	 kind;
	const char		*tb_type;	/* Thunderbird's type= */
	const char		*ms_type;	/* Autodiscover's <Type> */
	bool			 incoming;
	bool			 implicit;	/* TLS from the first byte */
} ac_srv[HTTP_AC_SERVERS] = {
	[HTTP_AC_IMAPS] = { CONF_LISTEN_IMAPS, "imap", "IMAP", true, true },
	[HTTP_AC_IMAP] = { CONF_LISTEN_IMAP, "imap", "IMAP", true, false },
	[HTTP_AC_POP3S] = { CONF_LISTEN_POP3S, "pop3", "POP3", true, true },
	[HTTP_AC_POP3] = { CONF_LISTEN_POP3, "pop3", "POP3", true, false },
	[HTTP_AC_SUBMISSIONS] = { CONF_LISTEN_SUBMISSIONS, "smtp", "SMTP",
	    false, true },
	[HTTP_AC_SUBMISSION] = { CONF_LISTEN_SUBMISSION, "smtp", "SMTP",
	    false, false },
};

static uint16_t
ac_port(const struct conf_listen *l)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (l->addr.ss_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)&l->addr;
		return ntohs(sin6->sin6_port);
	}
	sin = (const struct sockaddr_in *)&l->addr;
	return ntohs(sin->sin_port);
}

void
http_autoconfig_init(struct http_autoconfig *ac, const struct conf *c)
{
	size_t	i, k;

	memset(ac, 0, sizeof(*ac));
	(void)str_copy(ac->hostname, sizeof(ac->hostname), c->hostname);
	for (i = c->nlistens; i-- > 0; )
		for (k = 0; k < HTTP_AC_SERVERS; k++)
			if (c->listens[i].kind == ac_srv[k].kind)
				ac->port[k] = ac_port(&c->listens[i]);
}

/* The first published server among first..last, or HTTP_AC_SERVERS. */
static enum http_autoconfig_srv
ac_first(const struct http_autoconfig *ac, enum http_autoconfig_srv first,
    enum http_autoconfig_srv last)
{
	enum http_autoconfig_srv	k;

	for (k = first; k <= last; k++)
		if (ac->port[k] != 0)
			return k;
	return HTTP_AC_SERVERS;
}

bool
http_autoconfig_usable(const struct http_autoconfig *ac)
{
	return ac_first(ac, HTTP_AC_IMAPS, HTTP_AC_POP3) != HTTP_AC_SERVERS &&
	    ac_first(ac, HTTP_AC_SUBMISSIONS, HTTP_AC_SUBMISSION) !=
	    HTTP_AC_SERVERS;
}

int
http_autoconfig_xml_esc(struct buf *b, const char *s, size_t len)
{
	const char	*ent;
	size_t		 i, from = 0;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&apos;";
			break;
		default:
			/* XML 1.0 §2.2: Char has no other C0 control. */
			if ((unsigned char)s[i] < 0x20 && s[i] != '\t' &&
			    s[i] != '\n' && s[i] != '\r')
				return -1;
			continue;
		}
		if (buf_append(b, s + from, i - from) == -1 ||
		    buf_append_str(b, ent) == -1)
			return -1;
		from = i + 1;
	}
	return buf_append(b, s + from, len - from);
}

/* "<name>value</name>\n" at depth levels of two spaces, value escaped. */
static int
ac_elem(struct buf *b, int depth, const char *name, const char *value)
{
	if (buf_printf(b, "%*s<%s>", depth * 2, "", name) == -1 ||
	    http_autoconfig_xml_esc(b, value, strlen(value)) == -1)
		return -1;
	return buf_printf(b, "</%s>\n", name);
}

/* Is domain (NUL-terminated, ours to read) one of domains? */
static bool
ac_ours(const char *domain, const char (*domains)[CONF_NAME_MAX + 1],
    size_t ndomains)
{
	size_t	i;

	for (i = 0; i < ndomains; i++)
		if (strcasecmp(domain, domains[i]) == 0)
			return true;
	return false;
}

/*
 * A mailbox of ours: 0 with it in addr_out, -1 when it is not a mailbox,
 * 1 when its domain is not ours.
 */
static int
ac_address(const char *p, size_t len, const char (*domains)[CONF_NAME_MAX + 1],
    size_t ndomains, char addr_out[CONF_ADDR_MAX + 1])
{
	struct mailaddr	a;

	addr_out[0] = '\0';
	if (len > CONF_ADDR_MAX ||
	    mailaddr_parse(p, len, true, &a) != MAILADDR_OK)
		return -1;
	if (a.is_literal || !ac_ours(a.domain, domains, ndomains))
		return 1;
	memcpy(addr_out, p, len);
	addr_out[len] = '\0';
	return 0;
}

int
http_autoconfig_query(struct span q, bool required,
    const char (*domains)[CONF_NAME_MAX + 1], size_t ndomains,
    char addr_out[CONF_ADDR_MAX + 1])
{
	char		 dec[CONF_ADDR_MAX + 1];
	const char	*p = q.ptr, *end = q.ptr + q.len, *amp, *eq;
	size_t		 n = 0, i;
	bool		 seen = false;
	int		 hi, lo;

	addr_out[0] = '\0';
	while (p < end) {
		for (amp = p; amp < end && *amp != '&'; amp++)
			;
		for (eq = p; eq < amp && *eq != '='; eq++)
			;
		if ((size_t)(eq - p) != sizeof(AC_PARAM) - 1 ||
		    memcmp(p, AC_PARAM, sizeof(AC_PARAM) - 1) != 0) {
			p = amp + (amp < end);
			continue;
		}
		if (seen)
			return 400;	/* which one would be meant? */
		seen = true;
		/* RFC 3986 §2.1: "%" HEXDIG HEXDIG is one octet. */
		for (i = (size_t)(eq - p) + (eq < amp); p + i < amp; i++) {
			if (n == CONF_ADDR_MAX)
				return 400;
			if (p[i] != '%') {
				dec[n++] = p[i];
				continue;
			}
			if (amp - (p + i) < 3 || (hi = hex_digit(p[i + 1])) ==
			    -1 || (lo = hex_digit(p[i + 2])) == -1)
				return 400;
			dec[n++] = (char)(hi << 4 | lo);
			i += 2;
		}
		p = amp + (amp < end);
	}
	if (!seen)
		return required ? 400 : 200;
	switch (ac_address(dec, n, domains, ndomains, addr_out)) {
	case 0:
		return 200;
	case 1:
		return 404;
	default:
		return 400;
	}
}

/* The only child element of parent named name, or NULL (none, or two). */
static xmlNodePtr
ac_child(xmlNodePtr parent, const char *name, bool *twice_out)
{
	xmlNodePtr	n, found = NULL;

	*twice_out = false;
	for (n = parent->children; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)n->name, name) != 0)
			continue;
		if (found != NULL) {
			*twice_out = true;
			return NULL;
		}
		found = n;
	}
	return found;
}

static bool
ac_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The text of an element that holds text alone (character data, CDATA),
 * without the white space around it (XML 1.0 §2.3 S), into out
 * (NUL-terminated, at most outsz - 1 octets); -1 otherwise.  libxml2's
 * strings end in a NUL, and a well-formed document holds none.
 */
static int
ac_text(xmlNodePtr e, char *out, size_t outsz)
{
	xmlNodePtr	 n;
	size_t		 len = 0, l, from = 0;

	for (n = e->children; n != NULL; n = n->next) {
		if (n->type != XML_TEXT_NODE &&
		    n->type != XML_CDATA_SECTION_NODE)
			return -1;
		l = strnlen((const char *)n->content, outsz);
		if (l >= outsz - len)
			return -1;
		memcpy(out + len, n->content, l);
		len += l;
	}
	while (len > 0 && ac_space(out[len - 1]))
		len--;
	while (from < len && ac_space(out[from]))
		from++;
	memmove(out, out + from, len - from);
	out[len - from] = '\0';
	return 0;
}

int
http_autoconfig_autodiscover_req(const char *body, size_t len,
    const char (*domains)[CONF_NAME_MAX + 1], size_t ndomains,
    char addr_out[CONF_ADDR_MAX + 1])
{
	/* An address and its entities, or a schema URI, fit in this. */
	char		 text[HTTP_AUTOCONFIG_BODY_MAX];
	xmlDocPtr	 doc;
	xmlNodePtr	 root, req, email, schema;
	bool		 twice;
	int		 rc = HTTP_AC_ERR_REQUEST;

	addr_out[0] = '\0';
	if (len == 0 || len > HTTP_AUTOCONFIG_BODY_MAX)
		return HTTP_AC_ERR_REQUEST;
	/*
	 * No network, no entity substitution, the encoding UTF-8 whatever
	 * the declaration says: a converter would be loaded from a file,
	 * and this role opens none.
	 */
	if ((doc = xmlReadMemory(body, (int)len, NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
	    XML_PARSE_IGNORE_ENC)) == NULL)
		return HTTP_AC_ERR_REQUEST;
	/* A DTD could declare entities: none is wanted, none is read. */
	if (doc->intSubset != NULL || doc->extSubset != NULL ||
	    (root = xmlDocGetRootElement(doc)) == NULL ||
	    strcmp((const char *)root->name, "Autodiscover") != 0 ||
	    (req = ac_child(root, "Request", &twice)) == NULL ||
	    (email = ac_child(req, "EMailAddress", &twice)) == NULL)
		goto done;
	schema = ac_child(req, "AcceptableResponseSchema", &twice);
	if (twice)
		goto done;
	if (schema != NULL) {
		if (ac_text(schema, text, sizeof(text)) == -1)
			goto done;
		if (strcmp(text, AC_REQ_SCHEMA) != 0) {
			rc = HTTP_AC_ERR_SCHEMA;
			goto done;
		}
	}
	if (ac_text(email, text, sizeof(text)) == -1)
		goto done;
	switch (ac_address(text, strlen(text), domains, ndomains, addr_out)) {
	case 0:
		rc = 0;
		break;
	case 1:
		rc = HTTP_AC_ERR_ADDRESS;
		break;
	default:
		break;
	}
done:
	xmlFreeDoc(doc);
	return rc;
}

int
http_autoconfig_thunderbird(const struct http_autoconfig *ac,
    const char *domain, struct buf *b)
{
	enum http_autoconfig_srv	 k;
	char				 port[8];

	buf_reset(b);
	if (buf_append_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<clientConfig version=\"1.1\">\n  <emailProvider id=\"") == -1 ||
	    http_autoconfig_xml_esc(b, domain, strlen(domain)) == -1 ||
	    buf_append_str(b, "\">\n") == -1 ||
	    ac_elem(b, 2, "domain", domain) == -1 ||
	    ac_elem(b, 2, "displayName", domain) == -1 ||
	    ac_elem(b, 2, "displayShortName", domain) == -1)
		return -1;
	/* The first of each type is the one Thunderbird proposes. */
	for (k = 0; k < HTTP_AC_SERVERS; k++) {
		if (ac->port[k] == 0)
			continue;
		(void)snprintf(port, sizeof(port), "%u", ac->port[k]);
		if (buf_printf(b, "    <%s type=\"%s\">\n", ac_srv[k].incoming ?
		    "incomingServer" : "outgoingServer", ac_srv[k].tb_type) ==
		    -1 || ac_elem(b, 3, "hostname", ac->hostname) == -1 ||
		    ac_elem(b, 3, "port", port) == -1 ||
		    ac_elem(b, 3, "socketType", ac_srv[k].implicit ? "SSL" :
		    "STARTTLS") == -1 ||
		    ac_elem(b, 3, "username", "%EMAILADDRESS%") == -1 ||
		    /* AUTH PLAIN or LOGIN, inside TLS. */
		    ac_elem(b, 3, "authentication", "password-cleartext") ==
		    -1 || buf_printf(b, "    </%s>\n", ac_srv[k].incoming ?
		    "incomingServer" : "outgoingServer") == -1)
			return -1;
	}
	return buf_append_str(b, "  </emailProvider>\n</clientConfig>\n");
}

/* One <Protocol> of the Outlook schema for server k. */
static int
ac_ms_protocol(const struct http_autoconfig *ac, enum http_autoconfig_srv k,
    const char *addr, struct buf *b)
{
	char	port[8];

	if (k == HTTP_AC_SERVERS)
		return 0;
	(void)snprintf(port, sizeof(port), "%u", ac->port[k]);
	if (buf_append_str(b, "      <Protocol>\n") == -1 ||
	    ac_elem(b, 4, "Type", ac_srv[k].ms_type) == -1 ||
	    ac_elem(b, 4, "Server", ac->hostname) == -1 ||
	    ac_elem(b, 4, "Port", port) == -1 ||
	    ac_elem(b, 4, "DomainRequired", "off") == -1 ||
	    ac_elem(b, 4, "LoginName", addr) == -1 ||
	    ac_elem(b, 4, "SPA", "off") == -1 ||
	    ac_elem(b, 4, "SSL", "on") == -1 ||
	    /* Encryption overrides SSL: TLS is STARTTLS. */
	    ac_elem(b, 4, "Encryption", ac_srv[k].implicit ? "SSL" : "TLS") ==
	    -1 || ac_elem(b, 4, "AuthRequired", "on") == -1)
		return -1;
	return buf_append_str(b, "      </Protocol>\n");
}

int
http_autoconfig_autodiscover(const struct http_autoconfig *ac,
    const char *addr, struct buf *b)
{
	buf_reset(b);
	if (buf_append_str(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<Autodiscover xmlns=\"" AC_RESP_NS "\">\n"
	    "  <Response xmlns=\"" AC_REQ_SCHEMA "\">\n"
	    "    <Account>\n"
	    "      <AccountType>email</AccountType>\n"
	    "      <Action>settings</Action>\n") == -1 ||
	    ac_ms_protocol(ac, ac_first(ac, HTTP_AC_IMAPS, HTTP_AC_IMAP), addr,
	    b) == -1 ||
	    ac_ms_protocol(ac, ac_first(ac, HTTP_AC_POP3S, HTTP_AC_POP3), addr,
	    b) == -1 ||
	    ac_ms_protocol(ac, ac_first(ac, HTTP_AC_SUBMISSIONS,
	    HTTP_AC_SUBMISSION), addr, b) == -1)
		return -1;
	return buf_append_str(b, "    </Account>\n  </Response>\n"
	    "</Autodiscover>\n");
}

int
http_autoconfig_autodiscover_error(int code, struct buf *b)
{
	const char	*msg;

	switch (code) {
	case HTTP_AC_ERR_ADDRESS:
		msg = "The email address cannot be found.";
		break;
	case HTTP_AC_ERR_SCHEMA:
		msg = "Provider is not available.";
		break;
	default:
		code = HTTP_AC_ERR_REQUEST;
		msg = "Invalid Request";
		break;
	}
	/* The error is in the Response of the outer namespace. */
	buf_reset(b);
	return buf_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<Autodiscover xmlns=\"" AC_RESP_NS "\">\n"
	    "  <Response>\n"
	    "    <Error>\n"
	    "      <ErrorCode>%d</ErrorCode>\n"
	    "      <Message>%s</Message>\n"
	    "      <DebugData />\n"
	    "    </Error>\n"
	    "  </Response>\n"
	    "</Autodiscover>\n", code, msg);
}

/*
 * A UUID (RFC 9562 §5.8, version 8) named by what, the hostname and
 * addr: the same profile for the same user each time, so installing it
 * again replaces the one installed.
 */
static void
ac_uuid(const char *what, const char *hostname, const char *addr,
    char out[AC_UUID_LEN + 1])
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	EVP_MD_CTX		*ctx;
	size_t			 i, o = 0;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, "cachet autoconfig", 18) != 1 ||
	    EVP_DigestUpdate(ctx, what, strlen(what) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, hostname, strlen(hostname) + 1) != 1 ||
	    EVP_DigestUpdate(ctx, addr, strlen(addr)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 16)
		fatalx("http: SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x80);	/* version 8 */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);	/* variant 10 */
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[md[i] >> 4];
		out[o++] = hex[md[i] & 0xf];
	}
	out[o] = '\0';
}

/* "<key>key</key><string>value</string>" at depth. */
static int
ac_pl_string(struct buf *b, int depth, const char *key, const char *value)
{
	return ac_elem(b, depth, "key", key) == -1 ||
	    ac_elem(b, depth, "string", value) == -1 ? -1 : 0;
}

static int
ac_pl_int(struct buf *b, int depth, const char *key, unsigned v)
{
	if (ac_elem(b, depth, "key", key) == -1)
		return -1;
	return buf_printf(b, "%*s<integer>%u</integer>\n", depth * 2, "", v);
}

static int
ac_pl_bool(struct buf *b, int depth, const char *key, bool v)
{
	if (ac_elem(b, depth, "key", key) == -1)
		return -1;
	return buf_printf(b, "%*s<%s/>\n", depth * 2, "", v ? "true" : "false");
}

/* hostname's labels in reverse order, "." between: the identifier's root. */
static int
ac_reverse_dns(struct buf *b, const char *name)
{
	const char	*end = name + strlen(name), *dot;

	while (end > name) {
		for (dot = end; dot > name && dot[-1] != '.'; dot--)
			;
		if (buf_append(b, dot, (size_t)(end - dot)) == -1 ||
		    (dot > name && buf_append_char(b, '.') == -1))
			return -1;
		end = dot > name ? dot - 1 : name;
	}
	return 0;
}

int
http_autoconfig_mobileconfig(const struct http_autoconfig *ac,
    const char *addr, struct buf *b)
{
	enum http_autoconfig_srv	 in, out;
	struct buf			 id;
	char				 puuid[AC_UUID_LEN + 1];
	char				 auuid[AC_UUID_LEN + 1];
	int				 rc = -1;

	/* IMAP first: a POP3 account leaves the mail on one device. */
	if ((in = ac_first(ac, HTTP_AC_IMAPS, HTTP_AC_IMAP)) == HTTP_AC_SERVERS)
		in = ac_first(ac, HTTP_AC_POP3S, HTTP_AC_POP3);
	out = ac_first(ac, HTTP_AC_SUBMISSIONS, HTTP_AC_SUBMISSION);
	if (in == HTTP_AC_SERVERS || out == HTTP_AC_SERVERS)
		return -1;
	ac_uuid("profile", ac->hostname, addr, puuid);
	ac_uuid("account", ac->hostname, addr, auuid);
	buf_init(&id, CONF_NAME_MAX + 64);
	if (ac_reverse_dns(&id, ac->hostname) == -1 ||
	    buf_printf(&id, ".mail.%s", puuid) == -1)
		goto done;
	buf_reset(b);
	if (buf_append_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
	    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
	    "<plist version=\"1.0\">\n<dict>\n"
	    "  <key>PayloadContent</key>\n  <array>\n    <dict>\n") == -1 ||
	    ac_pl_string(b, 3, "EmailAccountDescription", addr) == -1 ||
	    ac_pl_string(b, 3, "EmailAccountType", ac_srv[in].ms_type[0] ==
	    'I' ? "EmailTypeIMAP" : "EmailTypePOP") == -1 ||
	    ac_pl_string(b, 3, "EmailAddress", addr) == -1 ||
	    ac_pl_string(b, 3, "IncomingMailServerAuthentication",
	    "EmailAuthPassword") == -1 ||
	    ac_pl_string(b, 3, "IncomingMailServerHostName", ac->hostname) ==
	    -1 ||
	    ac_pl_int(b, 3, "IncomingMailServerPortNumber", ac->port[in]) ==
	    -1 ||
	    /* Apple's "SSL" is TLS: implicit on 993, STARTTLS on 143. */
	    ac_pl_bool(b, 3, "IncomingMailServerUseSSL", true) == -1 ||
	    ac_pl_string(b, 3, "IncomingMailServerUsername", addr) == -1 ||
	    ac_pl_string(b, 3, "OutgoingMailServerAuthentication",
	    "EmailAuthPassword") == -1 ||
	    ac_pl_string(b, 3, "OutgoingMailServerHostName", ac->hostname) ==
	    -1 ||
	    ac_pl_int(b, 3, "OutgoingMailServerPortNumber", ac->port[out]) ==
	    -1 ||
	    ac_pl_bool(b, 3, "OutgoingMailServerUseSSL", true) == -1 ||
	    ac_pl_string(b, 3, "OutgoingMailServerUsername", addr) == -1 ||
	    ac_pl_bool(b, 3, "OutgoingPasswordSameAsIncomingPassword", true) ==
	    -1 ||
	    ac_pl_string(b, 3, "PayloadDescription", "Mail account") == -1 ||
	    ac_pl_string(b, 3, "PayloadDisplayName", addr) == -1 ||
	    ac_elem(b, 3, "key", "PayloadIdentifier") == -1 ||
	    buf_printf(b, "      <string>%s.account</string>\n", id.data) ==
	    -1 ||
	    ac_pl_string(b, 3, "PayloadType", "com.apple.mail.managed") ==
	    -1 ||
	    ac_pl_string(b, 3, "PayloadUUID", auuid) == -1 ||
	    ac_pl_int(b, 3, "PayloadVersion", 1) == -1 ||
	    buf_append_str(b, "    </dict>\n  </array>\n") == -1 ||
	    ac_pl_string(b, 1, "PayloadDescription", "Mail account") == -1 ||
	    ac_pl_string(b, 1, "PayloadDisplayName", addr) == -1 ||
	    ac_pl_string(b, 1, "PayloadIdentifier", id.data) == -1 ||
	    ac_pl_string(b, 1, "PayloadOrganization", ac->hostname) == -1 ||
	    ac_pl_bool(b, 1, "PayloadRemovalDisallowed", false) == -1 ||
	    ac_pl_string(b, 1, "PayloadType", "Configuration") == -1 ||
	    ac_pl_string(b, 1, "PayloadUUID", puuid) == -1 ||
	    ac_pl_int(b, 1, "PayloadVersion", 1) == -1 ||
	    buf_append_str(b, "</dict>\n</plist>\n") == -1)
		goto done;
	rc = 0;
done:
	buf_free(&id);
	return rc;
}
