/*
 * dnsrec: the DNS records of one of our domains (dnsrec.h).
 *
 * STAND-IN: MX and SPF only; the dns helper makes the whole list.
 */
#include <stdio.h>
#include <string.h>

#include "dnsrec.h"

const char *
dnsrec_type_name(enum dnsrec_type t)
{
	switch (t) {
	case DNSREC_MX:
		return "MX";
	case DNSREC_TXT:
		return "TXT";
	case DNSREC_TLSA:
		return "TLSA";
	case DNSREC_SRV:
		return "SRV";
	case DNSREC_CNAME:
		return "CNAME";
	}
	return "?";
}

static int
dnsrec_add(struct dnsrec *out, size_t max, size_t *n, const char *what,
    const char *name, enum dnsrec_type type, const char *value)
{
	struct dnsrec	*r;

	if (*n == max)
		return -1;
	r = &out[(*n)++];
	memset(r, 0, sizeof(*r));
	(void)snprintf(r->name, sizeof(r->name), "%s.", name);
	r->type = type;
	(void)snprintf(r->value, sizeof(r->value), "%s", value);
	r->what = what;
	return 0;
}

int
dnsrec_build(const struct dnsrec_in *in, struct dnsrec *out, size_t max,
    size_t *n_out)
{
	char	v[DNSREC_VALUE_MAX + 1];

	*n_out = 0;
	(void)snprintf(v, sizeof(v), "10 %s.", in->conf->hostname);
	if (dnsrec_add(out, max, n_out, "mx", in->domain, DNSREC_MX, v) == -1)
		return -1;
	if (dnsrec_add(out, max, n_out, "spf", in->domain, DNSREC_TXT,
	    "\"v=spf1 mx -all\"") == -1)
		return -1;
	return 0;
}

int
dnsrec_zone(const struct dnsrec *recs, size_t n, struct buf *out)
{
	char	line[DNS_NAME_MAX + DNSREC_VALUE_MAX + 32];
	size_t	i;

	for (i = 0; i < n; i++) {
		(void)snprintf(line, sizeof(line), "%s 3600 IN %s %s\n",
		    recs[i].name, dnsrec_type_name(recs[i].type),
		    recs[i].value);
		if (buf_append_str(out, line) == -1)
			return -1;
	}
	return 0;
}
