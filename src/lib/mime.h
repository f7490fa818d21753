/*
 * mime: the message parser.  One pass over a message in memory (RFC 5322
 * header sections, RFC 2045-2049 structure) gives the tree of parts, each
 * with its offsets into the original bytes and an index of its header
 * fields, so that IMAP can serve BODY[2.1.HEADER] or BODY[3]<0.1024>
 * without a copy and DKIM, DMARC, the spam filter and bounces read the
 * same parse.  The field value parsers are in mime_hdr.h, the decoders in
 * mime_decode.h.
 *
 * Pure: no I/O, no logging; used by imap, lookup (filters) and the mda.
 * The message is hostile.  Malformed structure (a missing or never-seen
 * boundary, bad nesting, an unterminated last part, 8-bit or NUL bytes in
 * headers, a header without the blank line) is never refused: it is
 * parsed the way Dovecot parses it and noted in msg->flags.  Nesting,
 * part count and indexed header fields are capped; past a cap the rest
 * is kept as the body of the deepest part reached (as Dovecot does) and
 * the cap is noted, so that a caller that must refuse (SMTP DATA) can,
 * with mime_strerror().  Time is linear in the message size and memory
 * linear in parts + fields, whatever the input.
 *
 * Line ends: the input may use CRLF or bare LF (Maildir files hold LF).
 * Offsets are into the bytes as given; each region also counts its bare
 * LFs so that a caller serving CRLF (IMAP) knows every size in that form:
 * crlf size = bytes + bare LFs.
 */
#ifndef CACHET_MIME_H
#define CACHET_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mime_decode.h"

#define MIME_DEPTH_MAX		100	/* nested multipart/message levels */
#define MIME_PARTS_MAX		10000	/* parts in one message */
#define MIME_FIELDS_MAX		100000	/* header fields indexed, all parts */
/*
 * A longer boundary= is cut to its first MIME_BOUNDARY_MAX characters, as
 * Dovecot does (70 of RFC 2046 §5.1.1 plus 10): a delimiter line needs to
 * start with "--" and those, so a longer boundary still works, and
 * boundaries that differ only past the cut are the same boundary.  A
 * boundary test stops at the first mismatch, so it costs at most this
 * much per boundary on the stack, per line.
 */
#define MIME_BOUNDARY_MAX	80
#define MIME_NONE		UINT32_MAX	/* no such part / field */

/* msg->flags: what was malformed or capped. */
#define MIME_F_DEPTH		0x0001	/* MIME_DEPTH_MAX reached */
#define MIME_F_PARTS		0x0002	/* MIME_PARTS_MAX reached */
#define MIME_F_FIELDS		0x0004	/* MIME_FIELDS_MAX reached */
#define MIME_F_CAPPED		(MIME_F_DEPTH | MIME_F_PARTS | MIME_F_FIELDS)
#define MIME_F_NO_BOUNDARY	0x0010	/* multipart without boundary= */
#define MIME_F_BOUNDARY_UNSEEN	0x0020	/* a boundary never appeared */
#define MIME_F_UNTERMINATED	0x0040	/* a multipart lacks its close
					   delimiter */
#define MIME_F_HDR_8BIT		0x0080	/* 8-bit bytes in a header */
#define MIME_F_HDR_NUL		0x0100	/* NUL in a header */
#define MIME_F_HDR_BAD		0x0200	/* a header line that is not a
					   field (no colon, bad name) */
#define MIME_F_HDR_UNTERM	0x0400	/* header section without the
					   blank line before EOF */
#define MIME_F_BODY_NUL		0x0800	/* NUL in a body */

/*
 * A header field: name and raw value (still folded, with its line ends)
 * as offsets into the message.  value starts after the colon (leading
 * whitespace included) and ends before the field's last line end; end
 * is past that line end.
 */
struct mime_field {
	size_t		name_off;
	size_t		value_off;
	size_t		value_end;
	size_t		end;
	uint32_t	name_len;
	uint32_t	bare_lf;	/* bare LFs from name_off to end */
};

/* part->kind: how the parser treated the part's body. */
enum mime_kind {
	MIME_KIND_LEAF,		/* a body of bytes */
	MIME_KIND_MULTIPART,	/* children are its body parts */
	MIME_KIND_MESSAGE,	/* message/rfc822 (and message/global):
				   one child, the encapsulated message */
};

/*
 * A part.  The message itself is part 0 (its header is the message
 * header).  Children of a multipart are its body parts in order; the
 * one child of a message/rfc822 part is the encapsulated message, whose
 * own header starts at the child's hdr_start.  For the bodies of a
 * multipart: end is before the line end that belongs to the next
 * delimiter (RFC 2046 §5.1.1), so BODY[n] does not carry it.
 */
struct mime_part {
	size_t		hdr_start;	/* first byte of the header section */
	size_t		body_start;	/* first byte after the blank line */
	size_t		end;		/* one past the body's last byte */
	uint64_t	hdr_bare_lf;	/* bare LFs in [hdr_start, body_start) */
	uint64_t	body_bare_lf;	/* bare LFs in [body_start, end) */
	uint64_t	body_lines;	/* lines of the body (IMAP's count) */
	uint32_t	parent;		/* MIME_NONE for part 0 */
	uint32_t	first_child;	/* MIME_NONE when none */
	uint32_t	next;		/* next sibling, MIME_NONE when last */
	uint32_t	nchildren;
	uint32_t	field_first;	/* this header's fields are */
	uint32_t	nfields;	/* msg->fields[first, first+n) */
	uint16_t	depth;		/* 0 for part 0 */
	enum mime_kind	kind;
	enum mime_cte	cte;		/* Content-Transfer-Encoding */
	/*
	 * Content-Type's type and subtype as written (spans into the
	 * message; compare case-insensitively).  The defaults of RFC 2045
	 * §5.2 (text/plain) and RFC 2046 §5.1.5 (message/rfc822 inside
	 * multipart/digest) apply when the field is missing or invalid;
	 * then the spans point to static strings and ctype_default is true.
	 */
	struct span	type;
	struct span	subtype;
	bool		ctype_default;
	/*
	 * multipart only: the boundary (unquoted), a span into the message,
	 * or into msg->store when quoted-pairs or RFC 2231 sections had to
	 * be resolved
	 */
	struct span	boundary;
};

struct mime_msg {
	const char		*data;	/* the message, not owned */
	size_t			 len;
	struct mime_part	*parts;
	uint32_t		 nparts;
	struct mime_field	*fields;
	uint32_t		 nfields;
	uint32_t		 flags;	/* MIME_F_* */
	struct buf		 store;	/* boundaries that had to be
					   unquoted or joined */
};

/*
 * Parse data[0..len) into msg (any previous contents are freed first
 * when msg was parsed before; a zeroed msg is a fresh one).  Never fails
 * on input: the result is always a tree of at least one part.  data must
 * stay valid and unchanged while msg is used.
 */
void	mime_parse(struct mime_msg *msg, const char *data, size_t len);

/* Release what mime_parse() allocated; msg may be parsed again. */
void	mime_msg_free(struct mime_msg *msg);

/* For a caller that must refuse: NULL, or why (a cap that was hit). */
const char	*mime_strerror(const struct mime_msg *msg);

/* A field's name and its raw (folded) value, as spans into the message. */
struct span	mime_field_name(const struct mime_msg *,
		    const struct mime_field *);
struct span	mime_field_value(const struct mime_msg *,
		    const struct mime_field *);

/*
 * The first field of the part's header named name (case-insensitive), or
 * NULL; after the one given by *from when from is not NULL and *from is
 * not NULL (iterate with the same pointer).
 */
const struct mime_field	*mime_part_field(const struct mime_msg *,
			    uint32_t part, const char *name,
			    const struct mime_field *from);

/*
 * Unfold a raw value into out: each line end followed by WSP removed
 * (RFC 5322 §2.2.3), the CR of a CRLF too; leading and trailing
 * whitespace trimmed.
 */
int	mime_unfold(struct span value, struct buf *out);

/* part's body, its header section, and the whole part, as spans. */
struct span	mime_part_body(const struct mime_msg *, uint32_t part);
struct span	mime_part_header(const struct mime_msg *, uint32_t part);

/*
 * Every text part's content as UTF-8, in order: text/plain (and other
 * text/ subtypes but html) decoded from its transfer encoding and
 * charset; text/html turned into text by mime_html_text() with its links
 * appended to links_out (NULL: dropped); parts are separated by a blank
 * line.  Attachments (Content-Disposition: attachment with a non-text
 * type) are skipped.  For SEARCH BODY/TEXT and the filter.
 */
int	mime_text(const struct mime_msg *, struct buf *out,
	    struct buf *links_out);

#define MIME_TEXT_CUT_BACK	64	/* bytes looked back for white space */

/*
 * mime_text() with each part's text (after decoding, HTML as text) cut
 * to at most part_max bytes, for checks that need not read a long text
 * to its end (the spam filter).  The cut is at white space within the
 * last MIME_TEXT_CUT_BACK bytes before the bound, else on a character
 * boundary, so that it makes no word or character that the part did
 * not have.  The links of an HTML part are all kept.
 */
int	mime_text_max(const struct mime_msg *, struct buf *out,
	    struct buf *links_out, size_t part_max);

#endif
