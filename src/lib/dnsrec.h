/*
 * dnsrec: the DNS records one of our domains needs (pure: no sockets,
 * no files).  `cachetctl dns DOMAIN` prints them in zone-file syntax,
 * `cachetctl dns check DOMAIN` compares them with what the resolver
 * answers, and `cachetctl quickstart` prints them for a new install.
 *
 * The records: MX; SPF (RFC 7208); DKIM, one TXT per active selector
 * (RFC 6376 §3.6.2); DMARC (RFC 7489 §6.1); _mta-sts (RFC 8461 §3.1)
 * and _smtp._tls (RFC 8460 §3) TXT; TLSA 3 1 1 for the current and the
 * next key of hostname (RFC 7671 §8.1, RFC 7672 §3.1.1) on
 * _25._tcp.HOSTNAME; SRV for submissions, imaps, pop3s (RFC 6186, RFC
 * 8314 §5.1) and "no service" for the plain ones; autoconfig and
 * mta-sts names pointing at hostname (CNAME).
 *
 * `dns check` compares each record with what the resolver found at its
 * name (dnsrec_compare()): that comparison reads DNS answers, which came
 * from the network, so it is bounded and fuzzed (fuzz_dnsrec.c).
 */
#ifndef CACHET_DNSREC_H
#define CACHET_DNSREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"

#define DNSREC_MAX		48	/* records of one domain */
#define DNSREC_VALUE_MAX	2048	/* rdata as text (a DKIM key: 1 KiB+) */
#define DNSREC_DKIM_MAX		8	/* active selectors of one domain */
#define DNSREC_SELECTOR_MAX	63

enum dnsrec_type {
	DNSREC_MX,
	DNSREC_TXT,
	DNSREC_TLSA,
	DNSREC_SRV,
	DNSREC_CNAME,
};

/* One record: NAME. IN TYPE VALUE, as a zone file writes it. */
struct dnsrec {
	char			 name[DNS_NAME_MAX + 2];	/* with the dot */
	enum dnsrec_type	 type;
	char			 value[DNSREC_VALUE_MAX + 1];
	const char		*what;	/* "mx", "spf", "dkim", "dmarc",
					   "mta-sts" (TXT and CNAME),
					   "tls-rpt", "tlsa", "srv",
					   "autoconfig" */
};

/* What the records are made from, besides the config. */
struct dnsrec_in {
	const struct conf	*conf;
	const char		*domain;	/* one of conf's domains */
	/* the id of the MTA-STS policy served (http_policy_id()); NULL:
	   no _mta-sts record (no mta-sts-policy) */
	const char		*sts_id;
	struct {
		char		 selector[DNSREC_SELECTOR_MAX + 1];
		const char	*txt;	/* "v=DKIM1; k=...; p=..." */
	} dkim[DNSREC_DKIM_MAX];
	size_t			 ndkim;
	/* SHA-256 of the SubjectPublicKeyInfo: [0] current, [1] next */
	uint8_t			 tlsa[2][32];
	size_t			 ntlsa;	/* 0, 1 or 2 */
};

/*
 * Fill out[] (room for max) with in's records, *n_out of them, in the
 * order above.  -1 when they do not fit (*n_out then says how many did).
 */
int	dnsrec_build(const struct dnsrec_in *in, struct dnsrec *out,
	    size_t max, size_t *n_out);

/* The records as zone-file lines ("NAME. 3600 IN TYPE VALUE\n"). */
int	dnsrec_zone(const struct dnsrec *recs, size_t n, struct buf *out);

/*
 * Comment lines ("; ...\n") for what in lacks, so that the operator
 * knows why a record is not printed: no active DKIM key, no MTA-STS
 * policy, no TLS key to pin.  0 or -1 (out full).
 */
int	dnsrec_notes(const struct dnsrec_in *in, struct buf *out);

const char	*dnsrec_type_name(enum dnsrec_type);
/* The type to ask the resolver for. */
enum dns_type	 dnsrec_dns_type(enum dnsrec_type);

/* What `dns check` says of one record. */
enum dnsrec_state {
	DNSREC_PRESENT,		/* one of the records found is ours */
	DNSREC_MISSING,		/* nothing of the kind at the name */
	DNSREC_DIFFERENT,	/* records of the kind, none ours */
};

/* "present", "missing", "different". */
const char	*dnsrec_state_name(enum dnsrec_state);

/*
 * Compare rec with the records of its type the resolver found at its
 * name (rrs[0..n), n 0 when none; each of rec's type).  Records "of the
 * kind": any MX, TLSA, SRV or CNAME; for a TXT, those that start as ours
 * does ("v=spf1", "v=DMARC1", "v=STSv1", "v=TLSRPTv1"; any TXT at a DKIM
 * selector's name).  The same record: MX preference and host, SRV
 * priority, weight, port and target, CNAME target (names without case);
 * TLSA usage, selector, matching type and data; SPF the same terms;
 * DKIM, DMARC, MTA-STS, TLS-RPT the same tags with the same values
 * (blanks around ';' and '=' ignored, and inside DKIM's p=, which is
 * compared whole).  The records of the kind found are written to found
 * (made printable, "; "-separated) when it is not NULL.
 */
enum dnsrec_state dnsrec_compare(const struct dnsrec *rec,
	    const struct dns_rr *rrs, size_t n, struct buf *found);

/*
 * The name of the PTR record of an address (af AF_INET or AF_INET6,
 * addr an in_addr or in6_addr): "4.3.2.1.in-addr.arpa" or the 32
 * nibbles of ip6.arpa (RFC 1035 §3.5, RFC 3596 §2.5).  0 or -1.
 */
int	dnsrec_ptr_name(int af, const void *addr, char *out, size_t outsz);

#endif
