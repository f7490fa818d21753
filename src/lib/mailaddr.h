/*
 * mailaddr: parse RFC 5321 paths (the <...> of MAIL FROM and RCPT TO) and
 * mailbox addresses.  Pure: bytes in, a result or a precise error out.
 * Used by the smtp role on peer input, so every length is bounded.
 */
#ifndef CACHET_MAILADDR_H
#define CACHET_MAILADDR_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 5321 §4.5.3.1 */
#define MAILADDR_LOCAL_MAX	64
#define MAILADDR_DOMAIN_MAX	255
#define MAILADDR_PATH_MAX	256	/* including the angle brackets */

struct mailaddr {
	/* local-part as received: a quoted local-part keeps its quotes */
	char	local[MAILADDR_LOCAL_MAX + 1];
	/*
	 * domain, or an address literal with its brackets "[192.0.2.1]";
	 * "" only for the bare <Postmaster> and the null path
	 */
	char	domain[MAILADDR_DOMAIN_MAX + 1];
	bool	is_null;	/* the null path <> */
	bool	is_literal;	/* domain is an address literal */
	bool	utf8;		/* local or domain holds non-ASCII UTF-8 */
};

enum mailaddr_error {
	MAILADDR_OK = 0,
	MAILADDR_ESYNTAX,	/* 501 5.1.7 / 5.1.3 */
	MAILADDR_ELOCAL_TOO_LONG,	/* 501 5.5.4 (RFC 5321 §4.5.3.1.1) */
	MAILADDR_EDOMAIN_TOO_LONG,	/* 501 5.5.4 (§4.5.3.1.2) */
	MAILADDR_EPATH_TOO_LONG,	/* 501 5.5.4 (§4.5.3.1.3) */
	MAILADDR_EUTF8,		/* non-ASCII without SMTPUTF8: 553 5.6.7 */
	MAILADDR_ENULL,		/* <> where not allowed */
};

/*
 * Parse a Reverse-path or Forward-path: "<" [A-d-l ":"] Mailbox ">" or
 * "<>" (only when allow_null).  A source route is accepted and dropped
 * (RFC 5321 §4.1.2, Appendix C).  Non-ASCII UTF-8 is allowed only when
 * utf8 is true (RFC 6531) and must be valid UTF-8.  On success fills out
 * and sets *consumed_out to the bytes used (the caller parses ESMTP
 * parameters after it).  Returns MAILADDR_OK or an error code.
 *
 * p holds len bytes, may hold NULs and need not be NUL-terminated; no
 * byte past len is read.  Parsing stops right after the ">", so
 * *consumed_out is the offset where parameters (" SIZE=100") begin.
 * consumed_out may be NULL.  On error *out is zeroed and *consumed_out
 * is 0.
 *
 * Accepted beyond the Mailbox grammar, as RFC 5321 §4.1.1.3 requires:
 * the bare "<Postmaster>" (any case), returned as local "Postmaster" and
 * domain "" (is_null false).  It is only valid as a Forward-path, so a
 * caller parsing MAIL FROM must refuse a result whose domain is empty.
 *
 * Refused: a domain with an empty label (so "a.example." with its
 * trailing dot), a label that starts or ends with "-", an all-ASCII label
 * over 63 octets (RFC 1035 §2.3.4), an address literal that is neither a
 * valid IPv4 address nor "IPv6:" and a valid IPv6 address (General-
 * address-literals are ESYNTAX), a source route holding an address
 * literal, NUL and other controls anywhere.
 *
 * Errors, first found first: ESYNTAX for anything off the grammar, ENULL
 * for "<>" without allow_null, EUTF8 for any octet >= 0x80 without utf8
 * (with utf8, ill-formed UTF-8 - overlongs, surrogates, past U+10FFFF,
 * truncated - and 8-bit octets where RFC 6531 allows none, inside an
 * address literal or after a backslash, are ESYNTAX).  Once the syntax
 * is good the lengths are checked in this order: ELOCAL_TOO_LONG (> 64
 * octets), EDOMAIN_TOO_LONG (> 255 octets, brackets of a literal
 * included), EPATH_TOO_LONG (> 256 octets from "<" to ">").
 */
enum mailaddr_error	mailaddr_parse_path(const char *p, size_t len,
			    bool allow_null, bool utf8, struct mailaddr *out,
			    size_t *consumed_out);

/*
 * Parse "local@domain" with no brackets (config, cachetctl, headers).
 * The same rules and errors as mailaddr_parse_path() for a Mailbox, all
 * of p[0..len) must be used, and neither a source route, "<>" nor the
 * bare "Postmaster" is accepted (ESYNTAX).  A mailbox longer than 254
 * octets, which would not fit in a 256-octet path, is EPATH_TOO_LONG.
 */
enum mailaddr_error	mailaddr_parse(const char *p, size_t len, bool utf8,
			    struct mailaddr *out);

/* A short human message for an error, for SMTP reply text. */
const char	*mailaddr_strerror(enum mailaddr_error);

/*
 * Write "local@domain" (or "" for the null path, and "Postmaster" alone
 * for the bare <Postmaster>) NUL-terminated into out.  Returns 0, or -1
 * if it does not fit in outsz (out is then "" when outsz > 0).
 */
int	mailaddr_format(const struct mailaddr *, char *out, size_t outsz);

/* Valid UTF-8 (no overlongs, no surrogates), bounded by len. */
bool	mailaddr_utf8_valid(const char *p, size_t len);

#endif
