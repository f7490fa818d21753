/*
 * authres: what the smtp role needs to know of an Authentication-Results
 * header field (RFC 8601) a client sent: its authserv-id, so that one
 * claiming our own name is removed before the message is spooled (§5: a
 * forger must not pre-fill our results).  Pure and bounded: the field is
 * hostile input.
 */
#ifndef CACHET_AUTHRES_H
#define CACHET_AUTHRES_H

#include <stdbool.h>

#include "buf.h"

/*
 * The authserv-id of an Authentication-Results value (what follows the
 * colon, folding included): after CFWS (RFC 5322 §3.2.2, nested comments
 * and quoted-pairs), a token or a quoted-string (RFC 8601 §2.2 "value",
 * RFC 2045 §5.1).  *id gets the token, or the quoted-string's content
 * without its quotes (quoted-pairs still in it; *quoted_out set).  whole:
 * value is the whole value (a token may run to its end); else it may be
 * a prefix, and an id not seen to end is not complete.  Returns 1, 0
 * when value ends before the id is complete, -1 when it does not parse.
 */
int	authres_authserv_id(struct span value, bool whole, struct span *id,
	    bool *quoted_out);

/*
 * Is field (a whole header field: name, colon, value) an Authentication-
 * Results field whose authserv-id equals hostname, ASCII case-
 * insensitively?  A quoted id compares after its quoted-pairs are undone.
 */
bool	authres_is_ours(struct span field, const char *hostname);

#endif
