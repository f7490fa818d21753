/*
 * libFuzzer target for dnsrec.c's comparison of our records with DNS
 * answers (`cachetctl dns check`): the first byte picks one of a
 * domain's records, the rest is a list of rdata (a length octet, then
 * that many octets) of the record's type, parsed by dns.c as the
 * resolver's answers would be and compared.  Broken invariants call
 * abort(): a verdict out of range, "present" with nothing found, found
 * text that is not printable.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsrec.h"
#include "util.h"

#define FUZZ_RRS_MAX	16

static const char conf_text[] =
	"hostname mx.example.org\n"
	"state-dir /tmp/cachet-fuzz-dnsrec\n"
	"listen smtp 0.0.0.0:25\n"
	"listen submissions 0.0.0.0:465\n"
	"listen imaps 0.0.0.0:993\n"
	"domain example.org\n"
	"mta-sts-policy testing mx mx.example.org\n";

static struct dnsrec	*recs;
static size_t		 nrecs;

static void
fuzz_init(void)
{
	static struct conf	*conf;
	struct dnsrec_in	 in;
	char			 errs[256];

	conf = conf_parse("fuzz.conf", conf_text, sizeof(conf_text) - 1,
	    errs, sizeof(errs));
	if (conf == NULL) {
		fprintf(stderr, "fuzz_dnsrec: %s\n", errs);
		abort();
	}
	memset(&in, 0, sizeof(in));
	in.conf = conf;
	in.domain = "example.org";
	in.sts_id = "0123456789abcdef0123";
	(void)str_copy(in.dkim[0].selector, sizeof(in.dkim[0].selector),
	    "s1");
	in.dkim[0].txt = "v=DKIM1; k=ed25519; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	in.ndkim = 1;
	memset(in.tlsa[0], 0xab, sizeof(in.tlsa[0]));
	in.ntlsa = 1;
	if ((recs = calloc(DNSREC_MAX, sizeof(*recs))) == NULL ||
	    dnsrec_build(&in, recs, DNSREC_MAX, &nrecs) == -1 || nrecs == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_rr		 rrs[FUZZ_RRS_MAX];
	const struct dnsrec	*rec;
	enum dnsrec_state	 st;
	struct buf		 found;
	size_t			 n = 0, i = 1, l;

	if (recs == NULL)
		fuzz_init();
	if (size < 1)
		return 0;
	rec = &recs[data[0] % nrecs];
	while (i < size && n < FUZZ_RRS_MAX) {
		l = data[i++];
		if (l > size - i)
			break;
		if (dns_parse_rdata(dnsrec_dns_type(rec->type), data + i, l,
		    &rrs[n]) == 0)
			n++;
		else
			dns_rr_clear(&rrs[n]);
		i += l;
	}
	buf_init(&found, 4096);
	st = dnsrec_compare(rec, rrs, n, &found);
	if (st != DNSREC_PRESENT && st != DNSREC_MISSING &&
	    st != DNSREC_DIFFERENT)
		abort();
	if (st == DNSREC_PRESENT && n == 0)
		abort();
	for (l = 0; l < found.len; l++)
		if ((unsigned char)found.data[l] < 0x20 ||
		    (unsigned char)found.data[l] > 0x7e)
			abort();
	if (dnsrec_compare(rec, rrs, n, NULL) != st)
		abort();
	buf_free(&found);
	for (l = 0; l < n; l++)
		dns_rr_clear(&rrs[l]);
	return 0;
}
