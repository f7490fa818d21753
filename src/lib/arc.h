/*
 * arc: Authenticated Received Chain (RFC 8617), the parts that need no
 * network: parsing the ARC sets of a header section, validating the
 * chain once the caller has the keys, and sealing (a new set on top).
 * The lookup role runs it (lookup_arc.c), which alone fetches the keys
 * and holds the private one; unit tests and the fuzz target run it with
 * keys of their own.
 *
 * The header section is hostile input: every count and length is
 * bounded, a field that does not parse fails the chain (§5.2 step 2),
 * never a guess.  ARC signs with rsa-sha256 only (§4.1.3, §4.1.2: the
 * algorithms of RFC 6376 as RFC 8301 restricts them).
 */
#ifndef CACHET_ARC_H
#define CACHET_ARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dkim.h"
#include "dns.h"

#define ARC_INSTANCE_MAX	50	/* i= 1..50, RFC 8617 §4.2.1 */
#define ARC_SIG_MAX		512	/* b= octets: RSA-4096 */
#define ARC_KEY_BITS_MIN	1024	/* RFC 8301 §3.2 */
#define ARC_KEY_BITS_MAX	4096
#define ARC_H_MAX		1024	/* octets of an AMS h= list */

enum arc_cv {
	ARC_CV_NONE,
	ARC_CV_PASS,
	ARC_CV_FAIL,
};

/* One ARC-Message-Signature or ARC-Seal, parsed. */
struct arc_sig {
	struct span	 field;		/* the whole field with its CRLF */
	unsigned	 instance;
	char		 d[DNS_NAME_MAX + 1];
	char		 s[DNS_LABEL_MAX + 1];
	unsigned char	 b[ARC_SIG_MAX];
	size_t		 blen;
	/* ARC-Message-Signature only */
	enum dkim_canon	 hcanon;
	enum dkim_canon	 bcanon;
	uint64_t	 limit;		/* l=, or DKIM_BH_NOLIMIT */
	struct span	 h;		/* h= as written */
	unsigned char	 bh[DKIM_DIGEST_MAX];
	/* ARC-Seal only */
	enum arc_cv	 cv;
};

/* The three fields of instance i (set[i - 1]); spans into the section. */
struct arc_set {
	struct span	 aar;		/* ARC-Authentication-Results */
	struct arc_sig	 ams;
	struct arc_sig	 as;
	bool		 have_aar, have_ams, have_as;
};

struct arc_chain {
	enum arc_cv	 result;	/* none, pass, fail (RFC 8601 arc=) */
	unsigned	 n;		/* the highest instance, 0 none */
	unsigned	 oldest_pass;	/* §5.2 step 6; 0 none fails */
	const char	*reason;	/* static text */
	struct arc_set	 set[ARC_INSTANCE_MAX];
};

/*
 * Collect and check the ARC sets of hdrs (§5.2 steps 1-4): c->result is
 * ARC_CV_NONE when there are none, ARC_CV_FAIL (with c->reason) when a
 * set is missing, doubled, does not parse, or the newest seal says
 * cv=fail, else ARC_CV_PASS pending arc_chain_verify().  hdrs must
 * outlive c.
 */
void	arc_chain_parse(struct span hdrs, struct arc_chain *c);

/*
 * What arc_chain_verify() asks its caller.  bh: the body hash of the
 * message for (canon, sha256, limit) into out (DKIM_DIGEST_MAX), 0 or -1
 * when it was not computed.  key: the public key of s._domainkey.d
 * (an EVP_PKEY the caller keeps), or NULL when there is none (*temp set
 * when that is a DNS failure).
 */
struct evp_pkey_st;
struct arc_verify_ops {
	int	(*bh)(void *arg, enum dkim_canon canon, uint64_t limit,
		    unsigned char *out);
	struct evp_pkey_st *(*key)(void *arg, const char *d, const char *s,
		    bool *temp);
	void	*arg;
};

/*
 * The cryptographic steps of §5.2 (5-7) over a chain that parsed to
 * ARC_CV_PASS: the newest AMS over the message and its body hash, the
 * older ones for the oldest pass, every seal over the sets below it.
 * Sets c->result (ARC_CV_PASS or ARC_CV_FAIL with c->reason) and
 * c->oldest_pass.  Does nothing to a chain that is none or fail.
 */
void	arc_chain_verify(struct arc_chain *c, struct span hdrs,
	    const struct arc_verify_ops *);

/*
 * The key record of a DKIM/ARC selector (RFC 6376 §3.6.1) as an RSA
 * public key of ARC_KEY_BITS_MIN..ARC_KEY_BITS_MAX bits, or NULL with
 * *errstr (a revoked key, another k=, a record that does not parse).
 */
struct evp_pkey_st *arc_key_parse(struct span record, const char **errstr);

/* What sealing needs (§5.1). */
struct arc_seal_args {
	struct span	 ar;		/* our A-R's value: authserv-id; ... */
	enum arc_cv	 cv;		/* the chain as we found it */
	const char	*d;		/* the sealing domain */
	const char	*s;		/* its selector */
	const char	*h;		/* the AMS h= list, "from:to:..." */
	uint64_t	 t;		/* the signing time (t=) */
	struct evp_pkey_st *key;	/* RSA private key */
	/* the relaxed/sha256 body hash of the message */
	const unsigned char *bh;
};

/*
 * Seal a message whose header section is hdrs and whose chain parsed
 * into c: append ARC-Seal, ARC-Message-Signature and ARC-Authentication-
 * Results of instance c->n + 1 (in that order, to go on top of the
 * message) to out, each ending in CRLF.  A failed chain is not sealed
 * again (§5.1.2: no new set after cv=fail); on cv=fail the seal covers
 * only its own set.  Returns 0, or -1 with *errstr.
 */
int	arc_seal(struct span hdrs, const struct arc_chain *c,
	    const struct arc_seal_args *, struct buf *out,
	    const char **errstr);

#endif
