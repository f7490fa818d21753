/*
 * http_policy: our MTA-STS policy as the http role serves it (RFC 8461
 * §3.2) and its id (§3.1).  Pure: the config in, text out.  One
 * function makes the id, from the policy text, so the id changes
 * exactly when the policy does; the http role serves the text and
 * lookup prints the id in the _mta-sts record (dnsrec.h), both from
 * the same config, so the record names the policy served.
 */
#ifndef CACHET_HTTP_POLICY_H
#define CACHET_HTTP_POLICY_H

#include "buf.h"
#include "conf.h"

/* The id: hex digits of the policy's SHA-256 (§3.1 allows 1-32). */
#define HTTP_POLICY_ID_LEN	20
/* The policy at most: 16 mx lines of a 255-octet name and the rest. */
#define HTTP_POLICY_MAX		8192

/*
 * The policy text of p into b (emptied first): "version: STSv1", mode,
 * one "mx:" line per pattern, "max_age", each line ended by CRLF.  0, or
 * -1 when b's max is too small.
 */
int	http_policy_text(const struct conf_sts_policy *p, struct buf *b);

/* The id of a policy text: HTTP_POLICY_ID_LEN hex digits and a NUL. */
void	http_policy_id(const char *text, size_t len,
	    char out[HTTP_POLICY_ID_LEN + 1]);

#endif
