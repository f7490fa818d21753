/*
 * dkimkey: the DKIM signing keys of our domains (issue 14), in the lookup
 * role only, which alone reads them.  Keys live in an SQLite file of
 * lookup's directory (DKIMKEY_DB, mode 0600): domain, selector,
 * algorithm, bits, active or retired, when made, and the private key as
 * PKCS#8 PEM.  This file also makes keys, writes the TXT record to
 * publish (RFC 6376 §3.6.1, RFC 8463 §4) and signs a header section
 * (RFC 6376 §5, RFC 8463 §3); lookup_dkimsign.c runs the slow parts
 * (key generation, signatures) on a worker thread.
 *
 * What it trusts: its own database; the header section to sign is
 * hostile (a user wrote it) and is walked with dkim_header_next().
 */
#ifndef CACHET_DKIMKEY_H
#define CACHET_DKIMKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "dns.h"

#define DKIMKEY_DB		"dkim.db"
#define DKIMKEY_SELECTOR_MAX	DNS_LABEL_MAX	/* one label */
#define DKIMKEY_RSA_MIN		1024	/* RFC 8301 §3.2 */
#define DKIMKEY_RSA_MAX		4096
#define DKIMKEY_RSA_DEFAULT	2048
#define DKIMKEY_MAX		64	/* keys kept in memory, all domains */
#define DKIMKEY_PUB_MAX		1024	/* base64 of a 4096-bit SPKI: 736 */

enum dkimkey_alg {
	DKIMKEY_ED25519,	/* ed25519-sha256, RFC 8463 */
	DKIMKEY_RSA,		/* rsa-sha256, RFC 6376 §3.3.1 */
};

struct evp_pkey_st;

struct dkimkey {
	char			 domain[DNS_NAME_MAX + 1];	/* lower case */
	char			 selector[DKIMKEY_SELECTOR_MAX + 1];
	enum dkimkey_alg	 alg;
	unsigned		 bits;		/* 256 for ed25519 */
	bool			 active;
	int64_t			 created;	/* Unix time */
	struct evp_pkey_st	*pkey;		/* NULL: did not load */
	char			 pub[DKIMKEY_PUB_MAX];	/* p= value */
};

struct dkimkey_db;

/* Open (create, 0600) the key file at path; NULL with *errstr_out. */
struct dkimkey_db	*dkimkey_open(const char *path,
			    const char **errstr_out);
void			 dkimkey_close(struct dkimkey_db *);

/*
 * Every key, private keys parsed, in the order made, at most max into
 * keys (each to be released with dkimkey_release()); the count, or -1.
 * A key that does not parse is listed with pkey NULL and logged.
 */
ssize_t			 dkimkey_load(struct dkimkey_db *, struct dkimkey *keys,
			    size_t max, const char **errstr_out);
void			 dkimkey_release(struct dkimkey *keys, size_t n);

/* Store a new key (k->pkey its private key); -1 when it exists. */
int			 dkimkey_add(struct dkimkey_db *,
			    const struct dkimkey *k, const char **errstr_out);

/* Mark domain's selector active or retired; -1 when there is none. */
int			 dkimkey_set_active(struct dkimkey_db *,
			    const char *domain, const char *selector,
			    bool active, const char **errstr_out);

/*
 * Make a key: ed25519, or RSA of bits (DKIMKEY_RSA_MIN..MAX) bits.  Slow
 * for RSA (a second or more at 4096): call it off the event loop.  Fills
 * k->pkey, k->bits and k->pub; 0 or -1.
 */
int			 dkimkey_generate(struct dkimkey *k,
			    const char **errstr_out);

/* "ed25519" or "rsa" (the k= of the key record). */
const char		*dkimkey_alg_name(enum dkimkey_alg);
/* Parse one; -1 when it is neither. */
int			 dkimkey_alg_parse(const char *, enum dkimkey_alg *);

/*
 * The selector made when none is given: "c" YEAR LETTER "-ed" or "-rsa"
 * (c2026a-ed), the first letter a..z that taken() does not claim for
 * domain; -1 when all 26 are.
 */
int			 dkimkey_selector(enum dkimkey_alg, int year,
			    bool (*taken)(const char *selector, void *arg),
			    void *arg, char *out, size_t outsz);

/*
 * The text of k's TXT record, "v=DKIM1; k=ALG; p=KEY" (RFC 6376
 * §3.6.1), into out; 0, or -1 when outsz is too small.
 */
int			 dkimkey_record(const struct dkimkey *k, char *out,
			    size_t outsz);

/*
 * The TXT record of k in zone-file form, one line:
 * `S._domainkey.D. IN TXT ( "v=DKIM1; k=...; p=..." "..." )`, the text
 * cut into strings of at most 255 octets (RFC 1035 §3.3.14).
 */
int			 dkimkey_txt(const struct dkimkey *k, struct buf *out);

/*
 * Sign hdrs (a header section, fields ending in CRLF) with k: one
 * DKIM-Signature field, relaxed/relaxed, over the recommended fields of
 * RFC 6376 §5.4.1 present in hdrs, each named once more than it
 * appears (so none can be added after), with bh (the relaxed/sha256
 * body hash, bhlen octets) and t=now, appended to out with its CRLF.
 * Thread-safe (a worker calls it).  0, or -1 with *errstr_out.
 */
int			 dkimkey_sign(const struct dkimkey *k, struct span hdrs,
			    const unsigned char *bh, size_t bhlen, int64_t now,
			    struct buf *out, const char **errstr_out);

/*
 * The domain of the one From: of hdrs with one address, lower case into
 * out (DNS_NAME_MAX + 1); -1 when there is no such From: (none, two,
 * a list, no domain).
 */
int			 dkimkey_from_domain(struct span hdrs, char *out,
			    size_t outsz);

#endif
