/*
 * imap_struct: IMAP's views of a parsed message (lib/mime.h): the
 * ENVELOPE, BODY and BODYSTRUCTURE of RFC 3501 §7.4.2 (RFC 9051 §7.5.2),
 * and the mapping of a section spec of BODY[...] (RFC 3501 §6.4.5) to a
 * part and a region of its bytes.
 *
 * Pure: no I/O; run by the imap role on messages from the store.  The
 * message is hostile; its parse is bounded by mime.h's caps, and the
 * writers here recurse at most MIME_DEPTH_MAX levels.  Sizes and line
 * counts are those of the message served with CRLF line ends (the store
 * holds LF files): bytes + bare LFs.
 *
 * Where RFC 3501 leaves a choice (quoted string or literal, what a
 * broken field becomes) the output is Dovecot's, so that clients see what
 * they see from the reference server: a string goes out quoted unless it
 * holds CR, LF, 8-bit bytes or more than four '"' and '\', then as a
 * literal "{n}\r\n..."; a subject or display name is cleaned for humans
 * (tabs and runs of spaces made one space, line ends dropped, trimmed)
 * and goes out as a literal when that changed anything; a missing
 * mailbox or domain is "MISSING_MAILBOX" / "MISSING_DOMAIN".
 */
#ifndef CACHET_IMAP_STRUCT_H
#define CACHET_IMAP_STRUCT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "mime.h"

/*
 * Append the ENVELOPE of a message, "(date subject from sender reply-to
 * to cc bcc in-reply-to message-id)", to out.  part is a part whose
 * header is a message header: 0, or the child of a message/rfc822 part.
 * -1 with errno EMSGSIZE when out's ceiling was hit.
 */
int	imap_struct_envelope(struct buf *out, const struct mime_msg *,
	    uint32_t part);

/*
 * Append the body structure of part (0: the whole message) to out, in
 * parentheses: BODY's form (extended false) or BODYSTRUCTURE's with the
 * extension data (extended true).  A message/rfc822 part carries its
 * message's envelope and structure.  -1 with EMSGSIZE as above.
 */
int	imap_struct_bodystructure(struct buf *out, const struct mime_msg *,
	    uint32_t part, bool extended);

/*
 * Both forms of part at once, in one walk of the tree: what
 * imap_struct_bodystructure() appends with extended true to
 * bodystructure and with extended false to body.  -1 with EMSGSIZE when
 * either ceiling was hit.
 */
int	imap_struct_bodies(struct buf *bodystructure, struct buf *body,
	    const struct mime_msg *, uint32_t part);

/* What a section spec names, of the part imap_struct_section() gives. */
enum imap_struct_region {
	IMAP_STRUCT_ALL,	/* BODY[]: the whole message */
	IMAP_STRUCT_PART,	/* BODY[1.2]: the part's body (for a
				   message/rfc822 part, its message) */
	IMAP_STRUCT_HEADER,	/* [HEADER], [2.HEADER]: a message header */
	IMAP_STRUCT_FIELDS,	/* [HEADER.FIELDS (...)] of that header */
	IMAP_STRUCT_FIELDS_NOT,	/* [HEADER.FIELDS.NOT (...)] */
	IMAP_STRUCT_TEXT,	/* [TEXT], [2.TEXT]: a message's body */
	IMAP_STRUCT_MIME,	/* [1.MIME]: the part's own header */
};

/*
 * Map a section spec (what is between "BODY[" and "]", e.g. "", "TEXT",
 * "1.2", "2.HEADER", "3.MIME", "HEADER.FIELDS (From To)") to a part of
 * msg and a region of it, by RFC 3501 §6.4.5: part numbers count the
 * body parts of a multipart; a message that is not multipart has one
 * part, 1, its body; HEADER, TEXT and HEADER.FIELDS after a part number
 * need a message/rfc822 part and name its message's header and body.
 * For the FIELDS regions *fields_out is what follows the keyword (" (From
 * To)"), for the caller's list parser; otherwise it is empty.  -1 when
 * the spec is malformed or names a part the message does not have.
 */
int	imap_struct_section(const struct mime_msg *, struct span spec,
	    uint32_t *part_out, enum imap_struct_region *region_out,
	    struct span *fields_out);

/*
 * The bytes of a region of part (as imap_struct_section() gave them)
 * into *out, and their size served with CRLF line ends into
 * *crlf_size_out (NULL: not wanted).  FIELDS regions give the whole
 * header: the caller picks the fields.
 */
void	imap_struct_region(const struct mime_msg *, uint32_t part,
	    enum imap_struct_region, struct span *out,
	    uint64_t *crlf_size_out);

#endif
