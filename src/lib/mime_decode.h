/*
 * mime_decode: the decoders of the message parser family.  Transfer
 * encodings (RFC 2045 §6.7 quoted-printable, §6.8 base64) as streaming
 * decoders that take a body in pieces, RFC 2047 encoded words ("Q" and
 * "B"), charset conversion to UTF-8 through glibc's iconv, and a plain
 * text view of HTML for SEARCH and the spam filter.
 *
 * Pure and used by every role that reads message content (imap, lookup's
 * filters, the mda's sieve-like filing): no I/O, no logging.  Input is
 * hostile message bytes: decoders are tolerant of real-world breakage
 * (they never fail on bad input, they skip or keep what they cannot
 * decode, as Dovecot's and Thunderbird's do), output goes into a
 * caller's struct buf whose max is the only ceiling, and the only error
 * is -1 with errno EMSGSIZE when that ceiling is passed.  No strlen() on
 * message bytes.
 */
#ifndef CACHET_MIME_DECODE_H
#define CACHET_MIME_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Streaming base64: bytes outside the alphabet (line ends, spaces,
 * junk) are skipped; '=' ends a quantum; a partial last quantum yields
 * the whole bytes it holds.  Feed any split of the input; the output
 * does not depend on where the pieces were cut.
 */
struct mime_b64 {
	uint32_t	acc;
	unsigned	nbits;
	bool		done;	/* padding seen: the rest is ignored */
};
void	mime_b64_init(struct mime_b64 *);
int	mime_b64_feed(struct mime_b64 *, const char *in, size_t len,
	    struct buf *out);
int	mime_b64_end(struct mime_b64 *, struct buf *out);

/*
 * Streaming quoted-printable: "=XX" (either case of hex), soft line
 * breaks "=\r\n" and "=\n" (with transport padding before the line end),
 * trailing spaces on a line dropped (§6.7 rule 3), a bad "=" sequence
 * kept literally.  Line ends come out as they went in.
 */
struct mime_qp {
	char	pend[80];	/* a tail that may still become "=XX" or
				   a soft break: held to the next piece */
	size_t	npend;
};
void	mime_qp_init(struct mime_qp *);
int	mime_qp_feed(struct mime_qp *, const char *in, size_t len,
	    struct buf *out);
int	mime_qp_end(struct mime_qp *, struct buf *out);

/*
 * The transfer encodings a part can carry.  Anything else
 * (x-uuencode, x-gzip64, a typo) is MIME_CTE_OTHER and is served as it
 * is, the way Dovecot does.
 */
enum mime_cte {
	MIME_CTE_7BIT,
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_OTHER,
};

/* A Content-Transfer-Encoding value (trimmed, any case) to its enum. */
enum mime_cte	mime_cte_parse(struct span value);

/* Decode a whole body in one call (the streaming decoders above). */
int	mime_decode_body(enum mime_cte, struct span in, struct buf *out);

/*
 * Convert in (text in charset) to UTF-8, appended to out.  The charset
 * name is matched case-insensitively with the aliases real mail uses
 * (latin1, utf8, "ks_c_5601-1987", "x-mac-roman", "unicode-1-1-utf-7",
 * windows-125x, gb2312 read as GB18030, ...).  Invalid sequences become
 * U+FFFD and conversion goes on.  An empty charset means US-ASCII (RFC
 * 2045 §5.2); a charset iconv does not know returns 1 with nothing
 * appended, so that the caller can fall back (keep the bytes when they
 * are valid UTF-8, else treat as Latin-1).  0 when converted.
 * iconv descriptors are cached per process.
 */
int	mime_charset_to_utf8(struct span charset, struct span in,
	    struct buf *out);

/*
 * Open the converters of the charsets real mail uses (gconv modules)
 * and keep them for the life of the process: call before chroot and the
 * sandbox, where glibc cannot load a module; later conversions use
 * them.  Idempotent.  The number iconv opened.
 */
size_t	mime_charset_preload(void);

/* true when the bytes are well-formed UTF-8 (no overlongs, surrogates). */
bool	mime_utf8_valid(struct span s);

/*
 * Decode an unstructured header value (RFC 5322 §3.2.5 text, already
 * unfolded or not: CRLF/LF followed by WSP is unfolded here) to UTF-8:
 * RFC 2047 encoded words "=?charset[*lang]?B|Q?text?=" decoded and
 * converted, whitespace between two adjacent encoded words dropped
 * (§6.2), encoded words not separated from text by whitespace decoded
 * anyway (as real mail needs), malformed words left as they are, raw
 * 8-bit bytes kept when valid UTF-8 and read as Latin-1 otherwise.
 */
int	mime_decode_words(struct span value, struct buf *out);

/*
 * A plain-text view of an HTML document (already in UTF-8): tags,
 * comments, <script> and <style> contents dropped; block elements (p,
 * br, div, li, tr, h1-6, ...) become line breaks; entities decoded
 * (named ones of HTML 4 and the common HTML5 ones, &#NNN; and &#xHH;);
 * runs of whitespace collapsed.  When links_out is not NULL the href of
 * every <a> and src of every <img> goes there, one per line, as written
 * (entities decoded), for the spam filter's URL checks.
 */
int	mime_html_text(struct span html, struct buf *text_out,
	    struct buf *links_out);

#endif
