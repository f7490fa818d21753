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

/* --- signatures and keys (§3.5, §3.6.1, RFC 8301, RFC 8463) ----------- */

#define DKIM_FIELD_MAX		(16 * 1024)	/* a signature field */
#define DKIM_SIG_B_MAX		512	/* b= octets: RSA-4096 */
#define DKIM_SIG_H_MAX		64	/* names in h= */
#define DKIM_HNAME_MAX		64	/* one h= name, with its NUL */
#define DKIM_DOMAIN_MAX		253	/* d=, s= (RFC 1035 §2.3.4) */
#define DKIM_AUID_MAX		320	/* i= */
#define DKIM_BPREFIX_MAX	15	/* header.b (RFC 6008 §4) */
#define DKIM_KEY_RECORD_MAX	(8 * 1024)	/* a key TXT record */
#define DKIM_KEY_DER_MAX	1024	/* p= octets: RSA-4096 SPKI is 550 */
#define DKIM_RSA_BITS_MIN	1024	/* RFC 8301 §3.2 */
#define DKIM_RSA_BITS_MAX	4096	/* RFC 8301 §3.2: what we must verify */
#define DKIM_HDATA_MAX		(256 * 1024)	/* data a header hash covers */
#define DKIM_CLOCK_SKEW		300	/* seconds a t= may lie ahead */

enum dkim_algo {
	DKIM_ALGO_RSA_SHA256,
	DKIM_ALGO_RSA_SHA1,		/* parsed, never valid (RFC 8301) */
	DKIM_ALGO_ED25519_SHA256,	/* RFC 8463 */
};

enum dkim_keytype {
	DKIM_KEY_RSA,
	DKIM_KEY_ED25519,
};

/* dkim_sig_parse() flags */
#define DKIM_SIG_AMS	0x1u	/* ARC-Message-Signature (RFC 8617 §4.1.2):
				   no v=, i= is the instance number */

/* A parsed DKIM-Signature (or ARC-Message-Signature) field. */
struct dkim_sig {
	enum dkim_algo	 algo;
	char		 a[32];		/* a= as written (lower-cased) */
	enum dkim_canon	 hcanon;
	enum dkim_canon	 bcanon;
	char		 domain[DKIM_DOMAIN_MAX + 1];	/* d= */
	char		 selector[DKIM_DOMAIN_MAX + 1];	/* s= */
	char		 auid[DKIM_AUID_MAX + 1];	/* i=, "@d" if none */
	unsigned	 instance;	/* DKIM_SIG_AMS: i= */
	char		 h[DKIM_SIG_H_MAX][DKIM_HNAME_MAX];
	size_t		 nh;
	unsigned char	 b[DKIM_SIG_B_MAX];
	size_t		 blen;
	char		 bprefix[DKIM_BPREFIX_MAX + 1];	/* b= text, no FWS */
	unsigned char	 bh[DKIM_DIGEST_MAX];
	size_t		 bhlen;
	uint64_t	 limit;		/* l=, DKIM_BH_NOLIMIT if none */
	bool		 has_t;
	uint64_t	 t;
	bool		 has_x;
	uint64_t	 x;
};

/*
 * Parse the value of a signature field (what follows the colon, folded
 * as in the message).  Checks (§3.5, §6.1.1): every required tag once
 * (v=1 a b bh d h s; for DKIM_SIG_AMS i a b bh d h s), no tag twice,
 * a known a= (rsa-sha1 parses; dkim_verify_sig() refuses it), c=, q=
 * including dns/txt, h= naming From, i= in d= or a subdomain of it, l=,
 * t=, x= numbers with x >= t, base64 (FWS allowed inside) of sizes that
 * fit.  Returns 0, or -1 with *errstr (static text).
 */
int		 dkim_sig_parse(struct span value, unsigned flags,
		    struct dkim_sig *out, const char **errstr);

/* The body hash the signature asks for. */
void		 dkim_sig_bh_spec(const struct dkim_sig *,
		    struct dkim_bh_spec *out);

struct evp_pkey_st;

/* A parsed key record (§3.6.1). */
struct dkim_key {
	enum dkim_keytype	 type;		/* k= */
	bool			 revoked;	/* p= empty */
	bool			 testing;	/* t=y */
	bool			 strict;	/* t=s: i= domain must be d= */
	bool			 sha256_ok;	/* h= allows (none: all) */
	bool			 sha1_ok;
	bool			 email_ok;	/* s= * or email */
	unsigned		 bits;		/* RSA modulus size */
	struct evp_pkey_st	*pkey;		/* NULL when revoked */
};

/*
 * Parse a key record (the TXT strings joined).  v= must be DKIM1 and
 * first if present; k= rsa or ed25519; p= the key (SubjectPublicKeyInfo
 * or RSAPublicKey DER for rsa, the 32 raw octets for ed25519, RFC 8463
 * §4.2), empty for a revoked key.  Returns 0 (free with
 * dkim_key_clear()), or -1 with *errstr and nothing to free.
 */
int		 dkim_key_parse(struct span record, struct dkim_key *out,
		    const char **errstr);
void		 dkim_key_clear(struct dkim_key *);

/*
 * The data a header signature covers (§3.7), appended to out: the
 * fields named in names[0..n-1] (case-insensitive), each name taking
 * the last not yet taken instance of its field, bottom up (§5.4.2); a
 * name with no instance left adds nothing (over-signing); then sigfield
 * (the signature's own field, which is never selected by a name), its
 * b= value removed, without a CRLF.  The same walk serves ARC-Message-
 * Signature (RFC 8617 §4.1.2).  Returns 0, -1 when out is full or
 * a field does not parse.
 */
int		 dkim_header_data(enum dkim_canon, struct span hdrs,
		    const char (*names)[DKIM_HNAME_MAX], size_t n,
		    struct span sigfield, struct buf *out);

/*
 * field (a whole signature field as in the message) canonicalised, with
 * the value of its b= tag removed (§3.5 b=, §3.7), no CRLF, appended to
 * out; ARC-Seal (RFC 8617 §5.1.1) uses it for its own field too.
 */
int		 dkim_canon_sig_field(enum dkim_canon, struct span field,
		    struct buf *out);

/*
 * Sign data (the header data above) with algo: rsa-sha256 is RSASSA-
 * PKCS1-v1_5 with SHA-256, ed25519-sha256 is PureEd25519 over the
 * SHA-256 of data (RFC 8463 §3).  sig has room for *siglen octets (at
 * least DKIM_SIG_B_MAX); *siglen becomes the length.  rsa-sha1 is never
 * made.  Returns 0 or -1.
 */
int		 dkim_sign_data(enum dkim_algo, struct evp_pkey_st *,
		    const void *data, size_t len, unsigned char *sig,
		    size_t *siglen);
/* 0 when sig is a valid signature of data by key, else -1. */
int		 dkim_verify_data(enum dkim_algo, struct evp_pkey_st *,
		    const void *data, size_t len, const unsigned char *sig,
		    size_t siglen);

/* What dkim_sign_field() makes. */
struct dkim_sign_req {
	const char		*domain;	/* d= */
	const char		*selector;	/* s= */
	enum dkim_algo		 algo;		/* rsa-sha256, ed25519 */
	struct evp_pkey_st	*key;		/* private */
	struct span		 hdrs;		/* the message's */
	const char *const	*names;		/* header names to sign */
	size_t			 nnames;
	bool			 oversign;	/* each name once more */
	const unsigned char	*bh;		/* relaxed/sha256 body hash */
	size_t			 bhlen;
	uint64_t		 t;		/* signing time */
	uint64_t		 x;		/* expiry, 0 none */
};

/*
 * The complete DKIM-Signature field for req (c=relaxed/relaxed), folded
 * at 78 columns and ending in CRLF, appended to out.  Each name signs as
 * many instances as hdrs holds, plus one with oversign (so none can be
 * added, §8.15).  Returns 0, or -1 with *errstr.
 */
int		 dkim_sign_field(const struct dkim_sign_req *,
		    struct buf *out, const char **errstr);

/* --- verification (§6.1, RFC 8301, RFC 8601 §2.7.1) ------------------ */

enum dkim_result {
	DKIM_PASS,
	DKIM_FAIL,
	DKIM_NEUTRAL,
	DKIM_POLICY,
	DKIM_TEMPERROR,
	DKIM_PERMERROR,
};

/*
 * Verify one parsed signature: sigfield is its whole field in hdrs,
 * bh/bhlen/hashed the body hash computed for dkim_sig_bh_spec() and the
 * octets that went in, key its key record, now the time.  *reason is
 * set to a static text for anything but a pass.
 */
enum dkim_result dkim_verify_sig(const struct dkim_sig *, struct span hdrs,
		    struct span sigfield, const unsigned char *bh,
		    size_t bhlen, uint64_t hashed, const struct dkim_key *,
		    uint64_t now, const char **reason);

const char	*dkim_result_name(enum dkim_result);

#endif
