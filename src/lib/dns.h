/*
 * dns: asynchronous DNS queries through libunbound, for one libevent loop.
 * Run by the lookup role (MX, A, AAAA for the mta; TXT for SPF, DKIM and
 * MTA-STS; TLSA for DANE).  libunbound resolves on its own thread; its
 * results arrive on ub_fd(), which the loop watches, and every callback
 * runs in the loop's thread.
 *
 * The answer data come from the network (through a resolver we chose, but
 * a resolver forwards what authoritative servers say), so every record is
 * parsed here with bounded lengths, names are checked label by label, and
 * a record that does not parse is dropped and counted, never guessed at.
 * libunbound hands us the rdata of the answer RRset of the type asked
 * (after CNAMEs), already decompressed.
 *
 * Statuses, as the mail code needs them (RFC 5321 §5.1, RFC 7505):
 *   DNS_OK        at least one record of the type asked
 *   DNS_NODATA    the name exists, no record of that type (§5.1 implicit MX)
 *   DNS_NXDOMAIN  the name does not exist (RFC 1035 rcode 3)
 *   DNS_TEMPFAIL  SERVFAIL, REFUSED, timeout, a DNSSEC-bogus answer, an
 *                 answer none of whose records parse, a local error: the
 *                 caller must try later and never read it as "no MX"
 */
#ifndef CACHET_DNS_H
#define CACHET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define DNS_NAME_MAX		253	/* as text, RFC 1035 §2.3.4 */
#define DNS_WIRE_NAME_MAX	255	/* wire form, RFC 1035 §3.1 */
#define DNS_LABEL_MAX		63	/* RFC 1035 §2.3.4 */
/*
 * A name as text: each octet of a label that is not a letter, digit, '-'
 * or '_' is written "\DDD" (RFC 1035 §5.1), so 4 text octets per wire
 * octet at worst.  Routing code then refuses names that are not host
 * names (dns_hostname_ok).
 */
#define DNS_NAME_TEXT_MAX	(DNS_WIRE_NAME_MAX * 4)
#define DNS_RRS_MAX		1024	/* records kept from one answer */
#define DNS_TIMEOUT_MS_DEFAULT	20000	/* per query, our own timer */
#define DNS_WHY_MAX		200	/* a reason text, bogus or error */

/*
 * RR types asked for, RFC 1035 §3.2.2, RFC 3596, RFC 6698 §7.1, RFC 2782
 * (SRV).
 */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_CNAME = 5,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_TLSA = 52,
};

enum dns_status {
	DNS_OK,
	DNS_NODATA,
	DNS_NXDOMAIN,
	DNS_TEMPFAIL,
};

struct dns_mx {
	uint16_t	 pref;
	/* text form without the final dot; "" for the root (null MX) */
	char		*name;
};

struct dns_ptr {
	/* text form without the final dot (RFC 1035 §3.3.12) */
	char		*name;
};

struct dns_cname {
	/* text form without the final dot (RFC 1035 §3.3.1) */
	char		*name;
};

struct dns_srv {
	uint16_t	 prio;		/* RFC 2782 "Priority" */
	uint16_t	 weight;
	uint16_t	 port;
	/* text form without the final dot; "" for "." (no service) */
	char		*target;
};

struct dns_tlsa {
	uint8_t		 usage;		/* RFC 6698 §2.1.1 */
	uint8_t		 selector;	/* §2.1.2 */
	uint8_t		 mtype;		/* §2.1.3 */
	uint8_t		*data;		/* certificate association data */
	size_t		 len;
};

struct dns_txt {
	/*
	 * The character-strings of one record joined without separator
	 * (RFC 7208 §3.3, RFC 6376 §3.6.2.2); may hold any octet, NUL too;
	 * a NUL follows len for convenience.
	 */
	char		*data;
	size_t		 len;
};

struct dns_rr {
	enum dns_type	 type;
	union {
		struct dns_mx	 mx;
		struct dns_ptr	 ptr;
		struct dns_cname cname;
		struct dns_srv	 srv;
		struct in_addr	 a;
		struct in6_addr	 aaaa;
		struct dns_txt	 txt;
		struct dns_tlsa	 tlsa;
	}		 u;
};

struct dns_result {
	enum dns_status	 status;
	enum dns_type	 type;		/* as asked */
	const char	*qname;		/* as asked */
	int		 rcode;		/* DNS rcode, -1 when none came */
	bool		 secure;	/* DNSSEC validated (RFC 4033 §5) */
	bool		 bogus;		/* validation failed: TEMPFAIL */
	bool		 timeout;	/* our timer fired: TEMPFAIL */
	uint32_t	 ttl;
	/* why TEMPFAIL (or the bogus reason); printable, "" when OK */
	char		 why[DNS_WHY_MAX];
	struct dns_rr	*rrs;		/* status DNS_OK: nrrs >= 1 */
	size_t		 nrrs;
	size_t		 malformed;	/* records dropped as unparsable */
};

struct event_base;
struct dns;
struct dns_query;

/*
 * Create a resolver on base.  resolver is "IP", "IP:PORT", "[IPv6]:PORT"
 * or a bare IPv6 address: all queries are forwarded to that server (it
 * must recurse).  NULL forwards to the nameservers of /etc/resolv.conf,
 * read now (call this before chroot).  DNSSEC validation is off until a
 * trust anchor is set with dns_set_trust_anchor(): then "secure" means
 * something and DANE may rely on it.  Loopback resolvers are allowed.
 * Returns NULL with *errstr set (a static string) on failure.
 */
struct dns	*dns_new(struct event_base *base, const char *resolver,
		    const char **errstr);

/*
 * Turn DNSSEC validation on with the trust anchor file at path (a zone
 * file of DS or DNSKEY records, as Debian's dns-root-data or ldns-keygen
 * write them; comments and parentheses allowed), read now (before
 * chroot).  It replaces the root's anchor: names outside it are
 * insecure, and so are names under "test." unless the file anchors
 * one of them.  Only before the first query.  0, or -1 with *errstr.
 */
int		 dns_set_trust_anchor(struct dns *, const char *path,
		    const char **errstr);

/*
 * Split a trust anchor file's text buf[0..len) (modified: comments are
 * blanked) into records, comments after ';' dropped and records inside
 * parentheses joined, and give each, blanks squeezed, to cb (which
 * returns 0 or -1).  Every record must be DS or DNSKEY; at most 64, each
 * at most 4 KiB of text.  0, or -1 with *errstr (cb's -1 too).
 */
int		 dns_ta_parse(char *buf, size_t len,
		    int (*cb)(void *arg, const char *record), void *arg,
		    const char **errstr);

/* Our own limit on each query from now on; 0 restores the default. */
void		 dns_set_timeout(struct dns *, unsigned ms);

/*
 * Ask for records of type for name ("mx.example.org", a trailing dot is
 * allowed; letters, digits, '-', '_' and dots, and any other octet
 * written "\DDD" as RFC 1035 §5.1 does (SPF names made by macros, RFC
 * 7208 §7.3, may hold any octet); labels of 1-63 octets, at most
 * DNS_NAME_MAX octets).
 * cb is called exactly once, later, from the loop (never from inside
 * this call), unless the query is cancelled.  res and everything it
 * points to are valid only during the call (copy what you keep).  The
 * callback may start new queries and cancel others, but must not call
 * dns_free().  Returns a handle valid until the callback returns or
 * dns_cancel(); NULL with *errstr when the name is not acceptable or
 * libunbound refuses the query.
 */
struct dns_query *dns_query(struct dns *, const char *name, enum dns_type type,
		    void (*cb)(void *arg, const struct dns_result *res),
		    void *arg, const char **errstr);

/* Forget a query: its callback will not be called. */
void		 dns_cancel(struct dns_query *);

/* Queries in flight. */
size_t		 dns_pending(const struct dns *);

/* Cancel every query (no callbacks), stop libunbound, free; NULL no-op. */
void		 dns_free(struct dns *);

/*
 * Parse rdata of one record of type into rr (pure: used on every answer,
 * and by the unit tests and the fuzzer).  0, or -1 when the rdata do not
 * match the type's format exactly (a wrong length, a name running past
 * its rdata, a compression pointer, a label or name over its limit).
 * Storage in rr is allocated: release it with dns_rr_clear().
 */
int		 dns_parse_rdata(enum dns_type type, const uint8_t *p,
		    size_t len, struct dns_rr *rr);
void		 dns_rr_clear(struct dns_rr *);

/*
 * Parse a wire-form name from p[0..len) (uncompressed).  Writes the text
 * form into out (at least DNS_NAME_TEXT_MAX + 1 octets) and the octets
 * used into *used.  0 or -1.
 */
int		 dns_parse_name(const uint8_t *p, size_t len, char *out,
		    size_t outsz, size_t *used);

/*
 * True when name (len octets) is a host name a mailer may connect to:
 * LDH labels of 1-63 octets not starting or ending with '-' (RFC 1123
 * §2.1, RFC 5321 §2.3.5), at most DNS_NAME_MAX, no trailing dot, and not
 * all-numeric at the top (so "192.0.2.1" is not a host name).
 */
bool		 dns_hostname_ok(const char *name, size_t len);

/* "MX", "A", ... */
const char	*dns_type_name(enum dns_type);
/* "ok", "nodata", "nxdomain", "tempfail" */
const char	*dns_status_name(enum dns_status);

#endif
