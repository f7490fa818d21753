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
					   "mta-sts", "tls-rpt", "tlsa",
					   "srv", "autoconfig" */
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

const char	*dnsrec_type_name(enum dnsrec_type);

#endif
