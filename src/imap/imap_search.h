/*
 * imap_search: the SEARCH keys of RFC 3501/RFC 9051 §6.4.4 (and MODSEQ of
 * RFC 7162 §3.1.5) evaluated against one message, the ESEARCH response of
 * RFC 4731 and the SEARCHRES saved result of RFC 5182.
 *
 * Pure: no I/O.  The imap role parses the command (imap_parse.h gives a
 * struct imap_search), prepares it once here, then asks about each
 * message through a struct imap_search_msg it fills: the cheap facts
 * (sequence number, UID, flags, keywords, size, dates, MODSEQ) directly,
 * the parsed message through a callback that is called only when a
 * header or text key still decides the answer.  Keys are evaluated in
 * three rounds, cheapest first (flags, numbers and dates; then header
 * fields; then the decoded text of the body), and a round runs only when
 * the ones before left the answer open.
 *
 * Text matching (BCC, BODY, CC, FROM, HEADER, SUBJECT, TEXT, TO) is a
 * case-insensitive substring search over UTF-8: both sides are decoded
 * to UTF-8 (RFC 2047 words in headers, transfer encodings and charsets
 * in bodies through mime_text(), HTML as its text) and case-folded by a
 * simple one-to-one table (ASCII, Latin-1, Latin Extended-A, Greek,
 * Cyrillic; no locale, no normalisation, "ß" stays itself).  Address
 * fields are matched as the text "Name <local@domain>, ..." with the
 * display name decoded.  The message is hostile: the decoded text is
 * capped (IMAP_SEARCH_TEXT_MAX) and what lies past the cap is not
 * searched.
 */
#ifndef CACHET_IMAP_SEARCH_H
#define CACHET_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_parse.h"
#include "mime.h"

/* Decoded body text searched per message (the rest is not). */
#define IMAP_SEARCH_TEXT_MAX	(32 * 1024 * 1024)
/* The response code for a CHARSET we refuse (RFC 9051 §6.4.4). */
#define IMAP_SEARCH_BADCHARSET	"[BADCHARSET (UTF-8 US-ASCII)]"

/*
 * What the role knows of a message.  message() gives the parsed message
 * (valid until the next imap_search_match() call) or -1 when it cannot
 * be read; it is called at most once per imap_search_match().
 */
struct imap_search_msg {
	uint32_t		 seq;
	uint32_t		 uid;
	unsigned		 flags;		/* IMAP_FLAG_*, RECENT too */
	const struct span	*kw;		/* keywords set on it */
	size_t			 nkw;
	uint64_t		 size;		/* RFC822.SIZE (CRLF form) */
	int64_t			 internaldate;	/* seconds since the epoch */
	int			 internal_zone;	/* its zone, minutes east */
	uint64_t		 modseq;
	struct span		 emailid;	/* RFC 8474; empty: none */
	int			(*message)(void *arg,
				    const struct mime_msg **msg_out);
	void			*arg;
};

struct imap_search_ctx {
	const struct imap_search *se;
	uint32_t		 max_seq;	/* what "*" means */
	uint32_t		 max_uid;
	const uint32_t		*saved;		/* "$": UIDs, ascending */
	size_t			 nsaved;
	/* prepared per node */
	uint16_t		*parent;
	uint8_t			*cost;		/* round that decides it */
	struct buf		*needle;	/* folded search text */
	char			**field;	/* HEADER name, NUL-ended */
	/* per message, reused */
	uint8_t			*val;
	struct buf		 hdr_text;	/* folded header section */
	struct buf		 body_text;	/* folded body text */
	struct buf		 tmp, tmp2;
	bool			 have_hdr, have_body;
};

/* Is this a CHARSET we search in (empty: none given, US-ASCII, UTF-8)? */
bool	imap_search_charset_ok(struct span charset);

/*
 * Prepare se (which must outlive ctx) for a mailbox whose highest
 * sequence number and UID are max_seq and max_uid, with saved the
 * SEARCHRES result (UIDs, ascending; NULL/0 when none).  -1 with
 * *err_out the text for a tagged NO when the charset is refused
 * (IMAP_SEARCH_BADCHARSET leads it).
 */
int	imap_search_prepare(struct imap_search_ctx *ctx,
	    const struct imap_search *se, uint32_t max_seq, uint32_t max_uid,
	    const uint32_t *saved, size_t nsaved, const char **err_out);
void	imap_search_ctx_free(struct imap_search_ctx *ctx);

/* Does the message match?  1 yes, 0 no, -1 when message() failed. */
int	imap_search_match(struct imap_search_ctx *ctx,
	    const struct imap_search_msg *m);

/* Does the search need message() at all (header or text keys)? */
bool	imap_search_needs_message(const struct imap_search_ctx *ctx);

/*
 * Case-fold UTF-8 text (the table above) and append it to out; invalid
 * bytes are copied as they are.  -1 with EMSGSIZE at out's ceiling.
 */
int	imap_search_fold(struct span in, struct buf *out);

/*
 * Append a sequence set for v[0..n) (no duplicates) to out, ascending
 * runs compressed ("1:3,7,9:10"); numbers stay in the order given, as
 * ESORT's ALL needs (RFC 5267 §3.2: "5,1:2,4").  -1 with EMSGSIZE.
 */
int	imap_search_seqset(struct buf *out, const uint32_t *v, size_t n);

/*
 * Append the ESEARCH response of RFC 4731 §3.1 for the matches v[0..n)
 * (sequence numbers, or UIDs when uid; ascending, or in the sort order
 * for ESORT, where MIN and MAX are the first and last) and the RETURN
 * options
 * ret (IMAP_SRET_*), "* ESEARCH (TAG "t") UID MIN 1 ... \r\n".  Nothing
 * is appended when SAVE is the only option (RFC 5182 §2.4).  -1 with
 * EMSGSIZE.
 */
int	imap_search_esearch(struct buf *out, struct span tag, bool uid,
	    unsigned ret, const uint32_t *v, size_t n);

/*
 * SEARCHRES (RFC 5182 §2.4): which of the matching UIDs uids[0..n)
 * (ascending) the "$" result keeps: with MIN and/or MAX but neither ALL
 * nor COUNT, only those; otherwise all.  Written to saved_out (room for
 * n), their count returned.
 */
size_t	imap_search_save(unsigned ret, const uint32_t *uids, size_t n,
	    uint32_t *saved_out);

#endif
