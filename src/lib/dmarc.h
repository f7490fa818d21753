/*
 * dmarc: the pure parts of DMARC (RFC 7489; DMARCbis, draft-ietf-dmarc-
 * dmarcbis, where it adds np=): the policy record, the From: domain of a
 * header section, identifier alignment and which policy applies.  The
 * lookup role asks DNS and decides (lookup/lookup_dmarc.c).
 *
 * Everything here reads hostile input (TXT records from any domain, the
 * header section of a message) with bounded sizes; no I/O, no clock, no
 * randomness (pct= sampling takes the die's roll as an argument).
 */
#ifndef CACHET_DMARC_H
#define CACHET_DMARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DMARC_RECORD_MAX	4096	/* longer TXT records are not ours */
#define DMARC_URIS_MAX		511	/* rua=, ruf= kept as written */
#define DMARC_NAME_MAX		253	/* RFC 1035 §2.3.4 */
#define DMARC_RI_DEFAULT	86400	/* RFC 7489 §6.3 */

enum dmarc_policy {
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

struct dmarc_record {
	enum dmarc_policy p;
	enum dmarc_policy sp;		/* = p when absent */
	enum dmarc_policy np;		/* = sp when absent (DMARCbis) */
	bool		 has_sp;
	bool		 has_np;
	/* p= missing or invalid, read as none for a valid rua (§6.6.3) */
	bool		 p_implied;
	unsigned	 pct;		/* 0..100, default 100 */
	bool		 testing;	/* DMARCbis t=y */
	bool		 adkim_strict;	/* default relaxed */
	bool		 aspf_strict;
	char		 rua[DMARC_URIS_MAX + 1];	/* "" none */
	char		 ruf[DMARC_URIS_MAX + 1];
	char		 fo[16];	/* default "0" */
	char		 rf[16];	/* default "afrf" */
	uint32_t	 ri;		/* default DMARC_RI_DEFAULT */
};

/*
 * Whether a TXT record is a DMARC record at all: it starts with the tag
 * "v=DMARC1" (RFC 7489 §6.6.3: other records at _dmarc are discarded).
 */
bool		 dmarc_record_is_dmarc(const char *txt, size_t len);

/*
 * Parse a DMARC record (RFC 7489 §6.3, §6.4).  v=DMARC1 must come first.
 * Unknown tags, and tags whose value does not parse, are ignored and
 * their defaults kept (§6.3); but a missing or invalid p= (or an
 * invalid sp=) makes the record one with p=none when rua= holds a
 * syntactically valid URI, and no record otherwise (§6.6.3).  0, or -1
 * with *why (static text) when the text is no usable DMARC record.
 */
int		 dmarc_record_parse(const char *txt, size_t len,
		    struct dmarc_record *r, const char **why);

const char	*dmarc_policy_name(enum dmarc_policy);

enum dmarc_from {
	DMARC_FROM_OK,
	DMARC_FROM_NONE,	/* no From: field */
	DMARC_FROM_MULTIPLE,	/* several From: fields */
	DMARC_FROM_ADDRS,	/* several addresses of different domains */
	DMARC_FROM_BAD,		/* no address with a domain in it */
};

/*
 * The RFC5322.From domain of a header section (fields with their line
 * ends, as msgauth.h carries it) into out (outsz >= DMARC_NAME_MAX + 1),
 * lower-cased, a trailing dot dropped.  RFC 7489 §6.6.1: exactly one
 * From: field, with one address; several addresses of the same domain
 * are that domain (DMARCbis §4.4), of different domains DMARC_FROM_ADDRS.
 * *why is printable text for the result's reason.
 */
enum dmarc_from	 dmarc_from_domain(struct span hdrs, char *out, size_t outsz,
		    const char **why);

/*
 * Identifier alignment (RFC 7489 §3.1): strict wants the same name
 * (without case), relaxed the same organisational domain (org_a and
 * org_b are the callers', from psl_org_domain; NULL or "" when a name
 * has none, which aligns only strictly).
 */
bool		 dmarc_aligned(const char *a, const char *b, const char *org_a,
		    const char *org_b, bool strict);

/*
 * The policy that applies to a failing message whose From: domain is
 * from_domain under the record found at policy_domain (RFC 7489 §6.6.3:
 * p= for the domain itself, sp= for its subdomains; DMARCbis: np= for a
 * subdomain that does not exist, nonexistent telling).
 */
enum dmarc_policy dmarc_policy_for(const struct dmarc_record *,
		    const char *from_domain, const char *policy_domain,
		    bool nonexistent);

/*
 * pct= sampling (RFC 7489 §6.6.4): roll is uniform in [0, 100).  A
 * message is sampled when roll < pct; a message left out gets the next
 * lower policy (reject -> quarantine -> none).  DMARCbis' t=y is pct=0.
 * Returns the policy to apply; *sampled_out false when it was lowered.
 */
enum dmarc_policy dmarc_sample(const struct dmarc_record *,
		    enum dmarc_policy, unsigned roll, bool *sampled_out);

#endif
