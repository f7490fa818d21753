/*
 * libFuzzer target for http_autoconfig: the query of a Thunderbird or
 * Apple request (the first byte's low bit: emailaddress required) and
 * the body of an Autodiscover POST, both from the same bytes after the
 * first.  Broken invariants abort(): a status is 200, 400 or 404, an
 * address taken is a NUL-terminated mailbox of one of our domains within
 * CONF_ADDR_MAX, and every document made with it is well-formed XML
 * (the echo never breaks out of its element).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "http/http_autoconfig.h"

static const char	fz_domains[][CONF_NAME_MAX + 1] = {
	"example.org", "a.example",
};

/* The servers of a config with every kind of client listener. */
static const struct http_autoconfig	fz_ac = {
	"mail.example.org", { 993, 143, 995, 110, 465, 587 },
};

static void
fz_well_formed(const struct buf *b)
{
	xmlDocPtr	doc;

	if ((doc = xmlReadMemory(b->data, (int)b->len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)) ==
	    NULL)
		abort();
	xmlFreeDoc(doc);
}

/* A taken address: ours, bounded; the documents made with it parse. */
static void
fz_address(const char *addr)
{
	struct buf	 b;
	const char	*at;
	size_t		 len = strnlen(addr, CONF_ADDR_MAX + 1), i;

	if (len == 0 || len > CONF_ADDR_MAX ||
	    (at = strrchr(addr, '@')) == NULL)
		abort();
	for (i = 0; i < 2; i++)
		if (strcasecmp(at + 1, fz_domains[i]) == 0)
			break;
	if (i == 2)
		abort();
	buf_init(&b, HTTP_AUTOCONFIG_MAX);
	if (http_autoconfig_autodiscover(&fz_ac, addr, &b) == -1)
		abort();
	fz_well_formed(&b);
	if (http_autoconfig_mobileconfig(&fz_ac, addr, &b) == -1)
		abort();
	fz_well_formed(&b);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 addr[CONF_ADDR_MAX + 1];
	char	*p;
	int	 rc;

	if (size < 1)
		return 0;
	/* A heap copy of exactly the bytes: no NUL after them. */
	if ((p = malloc(size - 1 > 0 ? size - 1 : 1)) == NULL)
		abort();
	memcpy(p, data + 1, size - 1);

	rc = http_autoconfig_query(span_make(p, size - 1), (data[0] & 1) != 0,
	    fz_domains, 2, addr);
	if (rc != 200 && rc != 400 && rc != 404)
		abort();
	if (rc == 200 && addr[0] != '\0')
		fz_address(addr);
	else if (addr[0] != '\0')
		abort();

	rc = http_autoconfig_autodiscover_req(p, size - 1, fz_domains, 2,
	    addr);
	if (rc != 0 && rc != HTTP_AC_ERR_ADDRESS && rc != HTTP_AC_ERR_REQUEST &&
	    rc != HTTP_AC_ERR_SCHEMA)
		abort();
	if (rc == 0)
		fz_address(addr);
	else if (addr[0] != '\0')
		abort();
	free(p);
	return 0;
}
