/*
 * dkim: DomainKeys Identified Mail (RFC 6376, 8301, 8463), the parts the
 * smtp role, the lookup role and ARC (RFC 8617) share.
 *
 * This first part is the streaming one: canonicalisation (§3.4) and the
 * body hash (§3.7), which the smtp role computes as the message passes,
 * one hasher per (canonicalisation, hash, l=) a signature in the header
 * section asks for, plus relaxed/sha256 for signing and sealing.  The
 * signature and key record parsers, the header hash and the signature
 * checks follow below it.
 *
 * Input is hostile: every length is bounded, a tag list that does not
 * parse is an error, never a guess.
 */
#ifndef CACHET_DKIM_H
#define CACHET_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DKIM_DIGEST_MAX		32		/* SHA-256 */
#define DKIM_BH_NOLIMIT		UINT64_MAX	/* no l= */

enum dkim_canon {
	DKIM_CANON_SIMPLE,
	DKIM_CANON_RELAXED,
};

enum dkim_hash {
	DKIM_HASH_SHA256,
	DKIM_HASH_SHA1,		/* verified only to fail it (RFC 8301 §3.1) */
};

/* One way of hashing the body. */
struct dkim_bh_spec {
	enum dkim_canon	 canon;
	enum dkim_hash	 hash;
	uint64_t	 limit;		/* l=, or DKIM_BH_NOLIMIT */
};

/* --- the body hash (§3.4.3, §3.4.4, §3.7) ---------------------------- */

struct dkim_bh;

struct dkim_bh	*dkim_bh_new(const struct dkim_bh_spec *);
/*
 * Body octets as they are in the message (lines end in CRLF), in pieces
 * of any size; the hasher keeps what canonicalisation must hold back
 * (trailing empty lines, white space, a CR that may start a CRLF).
 */
void		 dkim_bh_update(struct dkim_bh *, const char *p, size_t n);
/*
 * End of the body: the digest into out (DKIM_DIGEST_MAX octets room),
 * its length returned; *hashed: canonical octets that went in (at most
 * the limit).  The hasher may not be updated after.
 */
size_t		 dkim_bh_final(struct dkim_bh *, unsigned char *out,
		    uint64_t *hashed);
void		 dkim_bh_free(struct dkim_bh *);

/* --- header fields (§3.4.1, §3.4.2) ----------------------------------- */

/*
 * Append field (one header field as in the message: name, colon, value
 * with its folding, ending in CRLF or not) to out in canonical form,
 * ending in CRLF when crlf is set (the signature's own field is hashed
 * without it, §3.7).  Returns 0, or -1 when field has no colon.
 */
int		 dkim_canon_header(enum dkim_canon, struct span field,
		    bool crlf, struct buf *out);

/*
 * Walk a header section (fields ending in CRLF, continuation lines
 * starting with WSP; it ends at its end or at an empty line).  *pos
 * starts at 0.  Returns 1 with *field (the whole field with its CRLF)
 * and *name (up to the colon, trailing WSP removed), 0 at the end, -1
 * when a line is not a field (no colon in its first line).
 */
int		 dkim_header_next(struct span hdrs, size_t *pos,
		    struct span *field, struct span *name);

/* --- tag lists (§3.2) ------------------------------------------------- */

/*
 * The next "tag=value" of a tag-list, white space (FWS) around tags and
 * values removed.  *pos starts at 0.  Returns 1 with *tag and *value,
 * 0 at the end, -1 when the list does not parse (no '=', a tag that is
 * not ALPHA *(ALPHA / DIGIT / "_")).
 */
int		 dkim_tag_next(struct span list, size_t *pos,
		    struct span *tag, struct span *value);

/*
 * The body hashes that the DKIM-Signature and ARC-Message-Signature
 * fields of a header section ask for, each once, at most max, after
 * the ones already in out[0..n-1] (the caller's own, e.g. relaxed/
 * sha256 for signing).  Fields that do not parse ask for nothing.
 * Returns the new count.
 */
size_t		 dkim_bh_specs(struct span hdrs, struct dkim_bh_spec *out,
		    size_t n, size_t max);

#endif
