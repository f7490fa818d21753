/*
 * mtasts: the pure parts of MTA-STS (RFC 8461): the policy text served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt (§3.2), the
 * "_mta-sts.DOMAIN" TXT record (§3.1) and the match of an MX host name
 * against the policy's patterns (§4.1).  No I/O, no clock: the mta runs
 * the parser on what it fetched, lookup on what it caches, the unit tests
 * and the fuzzer on anything.
 *
 * Trust: everything given here came from the network (a policy host, a
 * DNS answer); sizes and counts are bounded, nothing is guessed: text
 * that does not follow the grammar is refused with a reason.
 */
#ifndef CACHET_MTASTS_H
#define CACHET_MTASTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define MTASTS_POLICY_MAX	(64 * 1024)	/* octets (§3.3: "64 KiB") */
#define MTASTS_MX_MAX		32	/* mx lines kept; more: invalid */
#define MTASTS_MAX_AGE_MAX	31557600	/* §3.2: about a year */
#define MTASTS_ID_MAX		32	/* §3.1: 1*32(ALPHA / DIGIT) */
#define MTASTS_TXT_MAX		1024	/* a TXT record we look at */
/* "*." and a host name */
#define MTASTS_PATTERN_MAX	(DNS_NAME_MAX + 2)

enum mtasts_mode {
	MTASTS_MODE_NONE,	/* §5: the domain withdraws its policy */
	MTASTS_MODE_TESTING,	/* deliver anyway, report */
	MTASTS_MODE_ENFORCE,	/* only matching MX, verified TLS */
};

struct mtasts_policy {
	enum mtasts_mode	 mode;
	uint32_t		 max_age;	/* seconds, capped */
	/* patterns as written, lower case: "mx.example.org", "*.example.org" */
	char			 mx[MTASTS_MX_MAX][MTASTS_PATTERN_MAX + 1];
	size_t			 nmx;
};

/*
 * Parse the policy text p[0..len) (§3.2): lines ending in LF or CRLF,
 * "key: value" with optional blanks after the colon and at the end; keys
 * are case-sensitive; version must be "STSv1", mode one of "enforce",
 * "testing", "none", max_age 1-10 digits (a value above
 * MTASTS_MAX_AGE_MAX is capped to it), each mx a host name with an
 * optional leading "*." (at least one unless the mode is none); every
 * other key is ignored (§3.2 "unknown fields"); a repeated version, mode
 * or max_age, a line without a colon, a value with a control character
 * (octets of 0x80 and up are allowed: UTF-8 in extension values), a
 * NUL, more than MTASTS_MX_MAX mx lines or more than MTASTS_POLICY_MAX
 * octets make it invalid.  0, or -1 with a static reason in *errstr_out.
 */
int	mtasts_policy_parse(const char *p, size_t len,
	    struct mtasts_policy *out, const char **errstr_out);

/*
 * Parse one "_mta-sts" TXT record p[0..len) (§3.1): "v=STSv1" first,
 * then ";"-separated fields with optional blanks around the ';', one
 * "id=" of 1-32 letters and digits, extensions "name=value" ignored, an
 * optional final ';'.  The id goes into id_out (MTASTS_ID_MAX + 1
 * octets).  0, or -1 with a reason.
 */
int	mtasts_txt_parse(const char *p, size_t len, char *id_out,
	    const char **errstr_out);

/*
 * §3.1: of the TXT records of "_mta-sts.DOMAIN", those that do not start
 * with "v=STSv1;" are discarded; exactly one must remain and parse.
 * 1 with the id, 0 when no record is left (no policy), -1 with a reason
 * when more than one is left or the one left is invalid (also no policy:
 * the caller says why).
 */
int	mtasts_txt_pick(const struct dns_txt *txts, size_t n, char *id_out,
	    const char **errstr_out);

/*
 * §4.1: does MX host name host (a trailing dot is ignored, case is not
 * significant) match pattern?  "*.example.org" matches exactly one more
 * label to the left: "mx.example.org", not "example.org" nor
 * "a.b.example.org".
 */
bool	mtasts_mx_match(const char *pattern, const char *host);

/* Does host match any of the policy's patterns? */
bool	mtasts_policy_match(const struct mtasts_policy *, const char *host);

/* The patterns joined by ", " into out (cut with "..." when too long). */
void	mtasts_policy_mx_list(const struct mtasts_policy *, char *out,
	    size_t outsz);

/* "enforce", "testing", "none" */
const char	*mtasts_mode_name(enum mtasts_mode);

#endif
