/*
 * imap_mutf7: mailbox names in modified UTF-7 (RFC 3501 §5.1.3, RFC
 * 9051 §5.1.3), the form IMAP4rev1 clients send and receive and the
 * form the names have on disk (Maildir++ folders, as Dovecot keeps
 * them), and UTF-8, the form of a session that enabled UTF8=ACCEPT
 * (RFC 6855 §3).  Pure and checked both ways; the imap role converts
 * at the edge, and every name it keeps is modified UTF-7.
 *
 * Modified UTF-7: printable US-ASCII (0x20-0x7e) but "&" stands for
 * itself, "&" is "&-", anything else is UTF-16 in modified BASE64
 * ("," for "/", no "=") between "&" and "-".  A decoder that accepts
 * only the one way to write each name is what lets names compare as
 * octets: so we refuse a shift that encodes printable ASCII, two
 * shifts in a row, a shift that is empty or has leftover bits that are
 * not zero (or 6 or more of them), broken surrogate pairs, and control
 * characters (in either form).
 */
#ifndef CACHET_IMAP_MUTF7_H
#define CACHET_IMAP_MUTF7_H

#include <stdbool.h>

#include "buf.h"

/*
 * Append the modified UTF-7 form of a UTF-8 name to out.  -1 when the
 * input is not valid UTF-8 (overlong forms, surrogates, above
 * U+10FFFF), holds a control character, or out is full.
 */
int	imap_mutf7_encode(struct span utf8, struct buf *out);

/*
 * Append the UTF-8 form of a modified UTF-7 name to out.  -1 when the
 * input is not modified UTF-7 as above, or out is full.
 */
int	imap_mutf7_decode(struct span mutf7, struct buf *out);

/* Is this valid modified UTF-7 (imap_mutf7_decode() would take it)? */
bool	imap_mutf7_valid(struct span mutf7);

#endif
