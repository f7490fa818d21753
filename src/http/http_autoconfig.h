/*
 * http_autoconfig: the documents that set up a mail client for one of
 * our domains, as the http role serves them: Thunderbird's
 * config-v1.1.xml (Mozilla's "clientConfig" format), Microsoft's POX
 * Autodiscover (Outlook's requestschema/2006 in, responseschema/2006a
 * out) and an Apple configuration profile (a plist with one
 * com.apple.mail.managed payload, unsigned).  The servers named are
 * `hostname` with the ports of the config's listen lines, TLS always:
 * implicit where that listener exists, STARTTLS next, never plain.
 *
 * Pure: the config and the request in, a status and text out.  The
 * query string and the Autodiscover body come from the network: each
 * is bounded, the address in it must be a mailbox of one of our
 * domains before it is echoed, and every value written into XML goes
 * through http_autoconfig_xml_esc().  The Autodiscover body is read by
 * libxml2 without network, DTD or entities, as UTF-8 whatever it says.
 */
#ifndef CACHET_HTTP_AUTOCONFIG_H
#define CACHET_HTTP_AUTOCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"

/* A document at most: the longest address, escaped, a few times over. */
#define HTTP_AUTOCONFIG_MAX	16384
/*
 * An Autodiscover request at most.  Outlook's is about 350 octets with
 * a short address; with the longest mailbox (254 octets, RFC 5321
 * §4.5.3.1.3), a LegacyDN and CRLF indentation it is 767 octets
 * (test_http_autoconfig.c): 1 KiB would leave 257 octets for characters
 * written as entities ("&amp;" is 5 for 1) and longer LegacyDNs, 2 KiB
 * leaves 1281.
 */
#define HTTP_AUTOCONFIG_BODY_MAX	2048

/* The client listeners published, in the order clients prefer them. */
enum http_autoconfig_srv {
	HTTP_AC_IMAPS,		/* imap, implicit TLS (RFC 8314 §3.3) */
	HTTP_AC_IMAP,		/* imap, STARTTLS (RFC 9051 §6.2.1) */
	HTTP_AC_POP3S,		/* pop3, implicit TLS */
	HTTP_AC_POP3,		/* pop3, STLS (RFC 2595 §4) */
	HTTP_AC_SUBMISSIONS,	/* smtp, implicit TLS (RFC 8314 §3.3) */
	HTTP_AC_SUBMISSION,	/* smtp, STARTTLS (RFC 6409, 3207) */
	HTTP_AC_SERVERS
};

/* What the documents say, taken from the config once. */
struct http_autoconfig {
	char		hostname[CONF_NAME_MAX + 1];
	uint16_t	port[HTTP_AC_SERVERS];	/* 0: no such listener */
};

/*
 * The servers of c: hostname, and for each kind the port of its first
 * listen line (whatever its address: a wildcard or loopback listener
 * still publishes hostname).
 */
void	http_autoconfig_init(struct http_autoconfig *, const struct conf *c);

/* Is there at least one incoming and one outgoing server to publish? */
bool	http_autoconfig_usable(const struct http_autoconfig *);

/*
 * s[0..len) into b as XML character data or an attribute value: & < >
 * " ' as entities.  -1 on an octet XML 1.0 cannot carry (a control
 * other than tab, LF, CR; §2.2) or when b is full.
 */
int	http_autoconfig_xml_esc(struct buf *b, const char *s, size_t len);

/*
 * The address a query asks about: emailaddress=ADDR (RFC 3986 §2.1
 * percent-encoding undone, "+" kept as it is), other parameters
 * ignored.  Returns 200 with it in addr_out ("" when the query names
 * none and it is not required), 400 when it is required and missing,
 * given twice, badly encoded, longer than CONF_ADDR_MAX or not a
 * mailbox (RFC 5321 §4.1.2, no brackets), 404 when its domain is none
 * of domains (compared without regard to ASCII case).
 */
int	http_autoconfig_query(struct span query, bool required,
	    const char (*domains)[CONF_NAME_MAX + 1], size_t ndomains,
	    char addr_out[CONF_ADDR_MAX + 1]);

/* Autodiscover's error codes (POX ErrorCode). */
#define HTTP_AC_ERR_ADDRESS	500	/* the address cannot be found */
#define HTTP_AC_ERR_REQUEST	600	/* invalid request */
#define HTTP_AC_ERR_SCHEMA	601	/* no provider for that schema */

/*
 * An Autodiscover request body: <Autodiscover><Request> with one
 * <EMailAddress> and at most one <AcceptableResponseSchema>, which
 * must be Outlook's responseschema/2006a when given (elements matched
 * by local name).  0 with the address in addr_out, or an error code:
 * HTTP_AC_ERR_REQUEST for a body over HTTP_AUTOCONFIG_BODY_MAX, not
 * well-formed, with a DTD, or without that shape or a valid mailbox;
 * HTTP_AC_ERR_SCHEMA for another schema; HTTP_AC_ERR_ADDRESS for an
 * address outside domains.
 */
int	http_autoconfig_autodiscover_req(const char *body, size_t len,
	    const char (*domains)[CONF_NAME_MAX + 1], size_t ndomains,
	    char addr_out[CONF_ADDR_MAX + 1]);

/*
 * The documents, into b (emptied first; its max at least
 * HTTP_AUTOCONFIG_MAX).  domain is one of ours, lower case; addr a
 * checked address.  0, or -1 when b is too small.
 */
int	http_autoconfig_thunderbird(const struct http_autoconfig *,
	    const char *domain, struct buf *b);
int	http_autoconfig_autodiscover(const struct http_autoconfig *,
	    const char *addr, struct buf *b);
int	http_autoconfig_autodiscover_error(int code, struct buf *b);
int	http_autoconfig_mobileconfig(const struct http_autoconfig *,
	    const char *addr, struct buf *b);

#endif
