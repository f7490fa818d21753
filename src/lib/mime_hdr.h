/*
 * mime_hdr: parsers for the values of structured header fields, part of
 * the message parser family (mime.h finds the fields, this reads them):
 * the RFC 5322 lexical tokens, Content-Type and Content-Disposition with
 * their parameters (RFC 2045 §5.1, RFC 2183, RFC 2231 continuations and
 * charsets), address lists (RFC 5322 §3.4 with groups, comments and the
 * obsolete syntax of §4.4), dates (§3.3 and §4.3) and msg-id lists
 * (§3.6.4).
 *
 * Pure: no I/O, no logging.  Values are hostile: every loop is bounded by
 * the value's length and every list by a cap; nothing calls strlen() on
 * them.  A value that does not parse gives -1 and leaves a valid, empty
 * result; parsers are as forgiving as real mail needs (Dovecot, Python's
 * email and Stalwart's mail-parser are the references) and never read
 * past the span.
 *
 * Results hold spans.  A span points either into the value the caller
 * passed (which must outlive the result) or into the result's own store,
 * which is complete and not reallocated once the call returns.
 */
#ifndef CACHET_MIME_HDR_H
#define CACHET_MIME_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Lexical primitives (RFC 5322 §3.2), each working on *s and advancing
 * it past what it consumed.  Folding (CRLF/LF + WSP) counts as
 * whitespace everywhere.
 */
/* Skip whitespace, folding and comments (nested, with quoted-pairs). */
void	mime_lex_cfws(struct span *s);
/*
 * A quoted-string at the start of *s: its content, quoted-pairs
 * resolved and folding removed, appended to out; false (nothing
 * consumed) when *s does not start with '"'.  An unterminated string
 * runs to the end of the value.
 */
bool	mime_lex_quoted(struct span *s, struct buf *out);
/* An RFC 2045 token (no CTLs, spaces or tspecials); false when empty. */
bool	mime_lex_token(struct span *s, struct span *tok_out);
/* An atom (dot == false) or dot-atom (dot == true); false when empty. */
bool	mime_lex_atom(struct span *s, bool dot, struct span *atom_out);

#define MIME_PARAMS_MAX		64	/* parameters kept per field */
#define MIME_PARAM_SECTIONS_MAX	100	/* RFC 2231 continuations joined */

/*
 * A parameter.  name is as written without an RFC 2231 "*N" or "*"
 * suffix; value is its meaning in UTF-8: continuations joined in section
 * order, %XX and the charset of an extended value decoded, RFC 2047
 * encoded words (which RFC 2047 §5 forbids here and Outlook writes
 * anyway) decoded.  imap_name and imap_value are what IMAP BODYSTRUCTURE
 * serves, the way Dovecot serves it: continuations joined, an extended
 * value left as "charset'lang'%XX..." under the name with one '*'.
 */
struct mime_param {
	struct span	name;
	struct span	value;
	struct span	imap_name;
	struct span	imap_value;
};

/*
 * Content-Type (type "/" subtype *(";" parameter)) or, with subtype
 * left empty, Content-Disposition (disposition-type *(";" parameter)).
 */
struct mime_ctype {
	struct span		type;
	struct span		subtype;
	struct mime_param	params[MIME_PARAMS_MAX];
	size_t			nparams;
	bool			params_capped;
	struct buf		store;
};

/*
 * Parse a Content-Type value into out (previous contents freed).  -1
 * when there is no valid "type/subtype" (the caller applies the RFC 2045
 * §5.2 default); parameters are parsed as far as they go either way, a
 * broken one skipped to the next ';'.
 */
int	mime_hdr_ctype(struct span value, struct mime_ctype *out);
/* The same for Content-Disposition: type is the disposition. */
int	mime_hdr_disposition(struct span value, struct mime_ctype *out);
void	mime_ctype_free(struct mime_ctype *);
/* A parameter by name (case-insensitive), or NULL. */
const struct mime_param	*mime_ctype_param(const struct mime_ctype *,
			    const char *name);

#define MIME_ADDRS_MAX		1000	/* entries kept per address list */

enum mime_addr_kind {
	MIME_ADDR_MAILBOX,
	MIME_ADDR_GROUP,	/* start of a group: name is its display name */
	MIME_ADDR_GROUP_END,	/* end of the group started last */
};

/*
 * One entry of an address list.  name is the display name with quotes,
 * quoted-pairs and comments resolved and runs of whitespace made one
 * space, encoded words left encoded (IMAP ENVELOPE sends them so;
 * mime_decode_words() decodes).  When a mailbox has no display name but
 * a trailing comment ("a@b (Name)"), the comment's text is the name.
 * route is an obsolete source route ("@a,@b", without the ':') or empty;
 * local is the local part unquoted; domain is empty when the address
 * had none.
 */
struct mime_addr {
	enum mime_addr_kind	kind;
	struct span		name;
	struct span		route;
	struct span		local;
	struct span		domain;
};

struct mime_addrlist {
	struct mime_addr	*v;
	size_t			 n;
	bool			 capped;
	struct buf		 store;
};

/*
 * Parse an address-list (From:, To:, Cc:, Reply-To:, ...) into out
 * (previous contents freed).  Entries that do not parse are skipped to
 * the next ',' (an entry that is only a word becomes a mailbox with
 * that local part and no domain, as Dovecot's ENVELOPE shows it).  -1
 * only when nothing at all parsed.
 */
int	mime_hdr_addrs(struct span value, struct mime_addrlist *out);
void	mime_addrlist_free(struct mime_addrlist *);

/*
 * An RFC 5322 date-time (§3.3, and the obsolete forms of §4.3: two-digit
 * years, alphabetic zones, missing seconds or day of week, comments)
 * into seconds since the epoch (UTC) and the zone's offset in minutes
 * east of UTC.  -1 when it is not a date.
 */
int	mime_hdr_date(struct span value, int64_t *time_out, int *zone_min_out);

#define MIME_MSGIDS_MAX		1000

/*
 * The msg-ids of a Message-ID, In-Reply-To or References value, each as
 * a span "<left@right>" (angle brackets included; into the value, or
 * into out's store when CFWS inside had to be removed), in order, at
 * most MIME_MSGIDS_MAX; words between them (obsolete phrases) skipped.
 * Previous contents of out are freed (a zeroed one is fresh); -1 when
 * there is no id.
 */
struct mime_msgids {
	struct span	*v;
	size_t		 n;
	struct buf	 store;
};
int	mime_hdr_msgids(struct span value, struct mime_msgids *out);
void	mime_msgids_free(struct mime_msgids *);

#endif
