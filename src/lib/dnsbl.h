/*
 * dnsbl: the pure parts of DNS blocklists and allowlists (RFC 5782),
 * used by the lookup role's prescreen (lookup/lookup_prescreen.c), by
 * conf (the `returns` list of `dnsbl` and `dnswl`), by the unit tests and
 * by the fuzzer: the name to ask for an address, which answers are a
 * listing, which are the lists' error codes, and a bounded cache of
 * answers per list whose clock is an argument.
 *
 * The answers come from the network: an address outside 127.0.0.0/8 is
 * never a listing (a resolver that rewrites NXDOMAIN answers with its
 * own address must not block the world), nor is one in 127.255.255.0/24,
 * where lists put their error codes (RFC 5782 §2.3 leaves the values to
 * the list; Spamhaus answers 127.255.255.252-255 for "typo in the zone",
 * "query through a public resolver", "over quota").
 */
#ifndef CACHET_DNSBL_H
#define CACHET_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSBL_RETURNS_MAX	16	/* ranges of one `returns` list */
#define DNSBL_RETURNS_TEXT_MAX	512	/* its text, bytes */
#define DNSBL_TXT_MAX		160	/* a list's TXT text we repeat */
#define DNSBL_CACHE_MAX		4096	/* answers kept per list */
#define DNSBL_TTL_MIN		30	/* seconds an answer is kept, floor */
#define DNSBL_TTL_MAX		3600	/* and ceiling */

/*
 * Which A answers count as a listing: inclusive ranges of addresses in
 * host order, each within 127.0.0.0/8.  n == 0 means every address of
 * 127.0.0.0/8 that is not an error code.
 */
struct dnsbl_returns {
	size_t		 n;
	uint32_t	 lo[DNSBL_RETURNS_MAX];
	uint32_t	 hi[DNSBL_RETURNS_MAX];
};

/*
 * Parse a `returns` list s[0..len): items separated by commas, each
 * "A.B.C.D", "A.B.C.D-E.F.G.H" or "A.B.C.D-N" (N the last octet of the
 * range's end: "127.0.0.4-11"), every address in 127.0.0.0/8 and each
 * range's start not after its end.  0, or -1 with *errstr (static).
 */
int		 dnsbl_returns_parse(const char *s, size_t len,
		    struct dnsbl_returns *out, const char **errstr);

/* True when a (host order) in an A answer is a listing for r. */
bool		 dnsbl_returns_match(const struct dnsbl_returns *r,
		    uint32_t a);

/* True when a (host order) is one of the lists' error codes. */
bool		 dnsbl_is_error(uint32_t a);

/*
 * The address as a binary key: af AF_INET or AF_INET6, addr[16] (an
 * IPv4-mapped IPv6 address is taken as the IPv4 address).  0, or -1
 * when ip is not an address.
 */
int		 dnsbl_addr(const char *ip, int *af_out, uint8_t addr_out[16]);

/*
 * The name to ask for ip in zone (RFC 5782 §2.1 and §2.4): the IPv4
 * octets reversed, or the 32 nibbles of the IPv6 address reversed, then
 * the zone.  0, or -1 when ip is no address or the name would be longer
 * than outsz - 1 or DNS_NAME_MAX.
 */
int		 dnsbl_query_name(const char *ip, const char *zone, char *out,
		    size_t outsz);

/*
 * A list's TXT record made safe to repeat in an SMTP reply: printable
 * ASCII only, at most DNSBL_TXT_MAX bytes; "" (and -1) when it is not
 * short and printable, so that it is left out rather than cut.
 */
int		 dnsbl_txt_text(const char *txt, size_t len, char *out,
		    size_t outsz);

/* One cached answer of a list for one address. */
struct dnsbl_hit {
	bool		 listed;
	uint32_t	 code;		/* the answer that listed, host order */
	char		 txt[DNSBL_TXT_MAX + 1];	/* "" when none */
};

struct dnsbl_cache;

/* A cache of at most max answers (max >= 1). */
struct dnsbl_cache	*dnsbl_cache_new(size_t max);
void			 dnsbl_cache_free(struct dnsbl_cache *);

/*
 * The answer kept for the address (dnsbl_addr's form), or NULL when none
 * or it expired (now and expiry in seconds).  Valid until the next put.
 */
const struct dnsbl_hit	*dnsbl_cache_get(struct dnsbl_cache *, int af,
			    const uint8_t addr[16], uint64_t now);

/*
 * Keep an answer for ttl seconds, clamped to DNSBL_TTL_MIN..MAX (an
 * address already held is updated); a full cache drops its oldest entry.
 */
void			 dnsbl_cache_put(struct dnsbl_cache *, int af,
			    const uint8_t addr[16], const struct dnsbl_hit *,
			    uint32_t ttl, uint64_t now);

/* Entries held (expired ones included until they are dropped). */
size_t			 dnsbl_cache_count(const struct dnsbl_cache *);

#endif
