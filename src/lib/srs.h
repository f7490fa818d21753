/*
 * srs: the Sender Rewriting Scheme, in the form libsrs2 and postsrsd use
 * (Shevek, "Sender Rewriting Scheme", 2004; the "guarded" scheme of
 * libsrs2).  Mail that an alias of ours forwards to another domain
 * leaves with a return path at our domain, so that the next hop's SPF
 * check (RFC 7208 §2.4) looks at our addresses, not the original
 * sender's; a bounce to that return path comes back here and is routed
 * to the original sender.
 *
 *   SRS0=HHHHHHHH=TT=orig-domain=orig-local@our-domain
 *   SRS1=HHHHHHHH=first-domain==HHHHHHHH=TT=orig-domain=orig-local@ours
 *
 * SRS0 rewrites a plain sender.  SRS1 rewrites a sender that is an SRS0
 * (or SRS1) address of another forwarder: it names that forwarder's
 * domain and keeps its opaque part, so that a bounce goes back through
 * it rather than straight to the original sender, whose hash we could
 * not check.
 *
 * HHHHHHHH is HMAC-SHA256 under the secret over the other fields
 * (ASCII-lower-cased, since MTAs on the way may fold the case of a local
 * part), its first 40 bits in RFC 4648 base32: 8 characters.  Base32
 * because its alphabet does not care about case (base64 folded to lower
 * case would lose bits and verify nothing); 40 bits because a forger
 * who can only try addresses over SMTP needs ~5e11 attempts for an even
 * chance, while the 17 characters "SRS0=" hash "=TT=" cost leave 47 of
 * the 64 octets of a local part (RFC 5321 §4.5.3.1.1) to the original
 * address.  TT is the day (unix days modulo 1024) in two base32
 * characters, as the scheme defines; an SRS0 address older than the
 * maximum age does not decode (SRS1 has no timestamp of its own: the
 * forwarder it names checks the SRS0 part it made).
 *
 * A rewritten address whose local part would exceed 64 octets is not
 * made (srs_forward() fails with SRS_ETOOLONG): the caller keeps the
 * original sender rather than send an address the next hop may refuse.
 *
 * Pure: no clock (the day is an argument), no globals, no I/O.  The
 * reverse path parses addresses from any SMTP client; every length is
 * bounded and nothing is allocated.
 */
#ifndef CACHET_SRS_H
#define CACHET_SRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailbox.h"

#define SRS_HASH_LEN		8	/* base32 characters: 40 bits */
#define SRS_SECRET_MAX		256	/* bytes of one secret */
#define SRS_SECRETS_MAX		8	/* the signing one and older ones */
#define SRS_DAY_MODULO		1024	/* two base32 characters */
#define SRS_MAX_AGE_DEFAULT	21	/* days */
#define SRS_ADDR_MAX		MAILBOX_ADDR_MAX

/* Why srs_forward() or srs_reverse() failed (their errstr_out too). */
enum srs_error {
	SRS_OK,
	SRS_ENOTSRS,	/* reverse: the local part is not SRS0=/SRS1= */
	SRS_ESYNTAX,	/* malformed address or fields */
	SRS_ETOOLONG,	/* forward: the local part would pass 64 octets */
	SRS_EHASH,	/* reverse: no secret made this hash */
	SRS_EEXPIRED,	/* reverse: the timestamp is too old, or future */
};

struct srs_secret {
	uint8_t		 key[SRS_SECRET_MAX];
	size_t		 len;		/* 1 .. SRS_SECRET_MAX */
};

/* The signing secret first; every one of them verifies. */
struct srs_keys {
	struct srs_secret	 secret[SRS_SECRETS_MAX];
	size_t			 n;
};

/* Days since the epoch of unix time t (floor), for the timestamp. */
int64_t	srs_day(int64_t t);

/* True when the local part of addr[0..len) starts SRS0= or SRS1=. */
bool	srs_is_srs(const char *addr, size_t len);

/*
 * Rewrite the envelope sender sender[0..len) ("local@domain", not empty)
 * to an address at domain (our domain: host name characters), on day
 * `day` (srs_day()), signed with keys->secret[0].  An SRS0 or SRS1
 * sender becomes SRS1 (the forwarder it names is kept); any other
 * becomes SRS0.  The result, NUL-terminated, goes into out (outsz bytes,
 * SRS_ADDR_MAX + 1 is always enough).  0, or -1 with *err_out.
 */
int	srs_forward(const struct srs_keys *keys, const char *sender,
	    size_t len, const char *domain, int64_t day, char *out,
	    size_t outsz, enum srs_error *err_out);

/*
 * Undo a rewrite: addr[0..len) is a recipient at one of our domains
 * (the caller checked the domain).  The hash must be one of keys' (any
 * case) and, for SRS0, the timestamp at most max_age days old.  SRS0
 * gives the original sender, SRS1 the SRS0 address at the first
 * forwarder ("SRS0=...@first-domain"), in out.  0, or -1 with *err_out
 * (SRS_ENOTSRS when the local part is no SRS address at all).
 */
int	srs_reverse(const struct srs_keys *keys, const char *addr,
	    size_t len, int64_t day, unsigned max_age, char *out,
	    size_t outsz, enum srs_error *err_out);

/* A short English reason for log lines and replies. */
const char	*srs_strerror(enum srs_error);

#endif
