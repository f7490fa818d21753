/*
 * dnsrec: the DNS records of one of our domains (dnsrec.h), and their
 * comparison with what a resolver found.  Pure: the config and the keys
 * in, records out; DNS answers in, a verdict out.  The answers came from
 * the network: every loop over them is bounded by their counts and
 * lengths, nothing is copied without a limit.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dnsrec.h"
#include "util.h"

#define DNSREC_TTL		3600
#define DNSREC_TXT_CHUNK	255	/* RFC 1035 §3.3: <character-string> */
#define DNSREC_TAGS_MAX		32	/* tags of one tag=value list */
#define DNSREC_FOUND_SHOW	1024	/* octets of one found record shown */
/* RFC 8314 §5.1: implicit TLS before STARTTLS (lower is preferred) */
#define DNSREC_SRV_PRIO_TLS	0
#define DNSREC_SRV_PRIO_PLAIN	10

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

enum dns_type
dnsrec_dns_type(enum dnsrec_type t)
{
	switch (t) {
	case DNSREC_MX:
		return DNS_T_MX;
	case DNSREC_TXT:
		return DNS_T_TXT;
	case DNSREC_TLSA:
		return DNS_T_TLSA;
	case DNSREC_SRV:
		return DNS_T_SRV;
	case DNSREC_CNAME:
		return DNS_T_CNAME;
	}
	return DNS_T_TXT;
}

const char *
dnsrec_state_name(enum dnsrec_state s)
{
	switch (s) {
	case DNSREC_PRESENT:
		return "present";
	case DNSREC_MISSING:
		return "missing";
	case DNSREC_DIFFERENT:
		return "different";
	}
	return "?";
}

/* --- building --- */

static int
dnsrec_add(struct dnsrec *out, size_t max, size_t *n, const char *what,
    const char *name, enum dnsrec_type type, const char *value)
{
	struct dnsrec	*r;
	int		 l;

	if (*n == max)
		return -1;
	r = &out[*n];
	memset(r, 0, sizeof(*r));
	l = snprintf(r->name, sizeof(r->name), "%s.", name);
	/* a name of more than DNS_NAME_MAX octets is no name */
	if (l < 0 || (size_t)l > DNS_NAME_MAX + 1 ||
	    str_copy(r->value, sizeof(r->value), value) == -1)
		return -1;
	r->type = type;
	r->what = what;
	(*n)++;
	return 0;
}

/*
 * text as a TXT record's value in zone-file syntax: quoted strings of at
 * most 255 octets each, '"' and '\' escaped, other octets outside the
 * printable ASCII range as \DDD (RFC 1035 §5.1).
 */
static int
dnsrec_txt_value(const char *text, char *out, size_t outsz)
{
	size_t		i, o = 0, inchunk = 0;
	unsigned char	c;
	int		l;

	if (outsz < 3)
		return -1;
	out[o++] = '"';
	for (i = 0; text[i] != '\0'; i++) {
		if (inchunk == DNSREC_TXT_CHUNK) {
			if (o + 3 >= outsz)
				return -1;
			memcpy(out + o, "\" \"", 3);
			o += 3;
			inchunk = 0;
		}
		c = (unsigned char)text[i];
		if (c == '"' || c == '\\') {
			if (o + 2 >= outsz)
				return -1;
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c > 0x7e) {
			if (o + 4 >= outsz)
				return -1;
			l = snprintf(out + o, outsz - o, "\\%03u", c);
			if (l != 4)
				return -1;
			o += 4;
		} else {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
		}
		inchunk++;
	}
	if (o + 2 > outsz - 1)
		return -1;
	out[o++] = '"';
	out[o] = '\0';
	return 0;
}

static int
dnsrec_add_txt(struct dnsrec *out, size_t max, size_t *n, const char *what,
    const char *name, const char *text)
{
	char	v[DNSREC_VALUE_MAX + 1];

	if (dnsrec_txt_value(text, v, sizeof(v)) == -1)
		return -1;
	return dnsrec_add(out, max, n, what, name, DNSREC_TXT, v);
}

/* The port of the first listener of kind; 0 when there is none. */
static unsigned
dnsrec_port(const struct conf *c, enum conf_listen_kind kind)
{
	const struct sockaddr_storage	*ss;
	size_t				 i;

	for (i = 0; i < c->nlistens; i++) {
		if (c->listens[i].kind != kind)
			continue;
		ss = &c->listens[i].addr;
		if (ss->ss_family == AF_INET)
			return ntohs(((const struct sockaddr_in *)
			    (const void *)ss)->sin_port);
		if (ss->ss_family == AF_INET6)
			return ntohs(((const struct sockaddr_in6 *)
			    (const void *)ss)->sin6_port);
	}
	return 0;
}

/*
 * RFC 6186 §3: _SERVICE._tcp.DOMAIN SRV PRIO WEIGHT PORT HOSTNAME; §4:
 * "0 0 0 ." says the service is not offered, so that a client does not
 * guess it on another name.
 */
static int
dnsrec_add_srv(struct dnsrec *out, size_t max, size_t *n,
    const struct dnsrec_in *in, const char *service,
    enum conf_listen_kind kind, unsigned prio)
{
	char		name[DNS_NAME_MAX + 2], v[DNSREC_VALUE_MAX + 1];
	unsigned	port;
	int		l;

	l = snprintf(name, sizeof(name), "_%s._tcp.%s", service, in->domain);
	if (l < 0 || (size_t)l >= sizeof(name))
		return -1;
	if ((port = dnsrec_port(in->conf, kind)) == 0)
		(void)str_copy(v, sizeof(v), "0 0 0 .");
	else
		(void)snprintf(v, sizeof(v), "%u 1 %u %s.", prio, port,
		    in->conf->hostname);
	return dnsrec_add(out, max, n, "srv", name, DNSREC_SRV, v);
}

int
dnsrec_build(const struct dnsrec_in *in, struct dnsrec *out, size_t max,
    size_t *n_out)
{
	static const struct {
		const char		*service;
		enum conf_listen_kind	 kind;
		unsigned		 prio;
	} srv[] = {
		/* RFC 8314 §5.1, RFC 6186 §3.1 and §3.2 */
		{ "submissions", CONF_LISTEN_SUBMISSIONS, DNSREC_SRV_PRIO_TLS },
		{ "imaps", CONF_LISTEN_IMAPS, DNSREC_SRV_PRIO_TLS },
		{ "pop3s", CONF_LISTEN_POP3S, DNSREC_SRV_PRIO_TLS },
		{ "submission", CONF_LISTEN_SUBMISSION, DNSREC_SRV_PRIO_PLAIN },
		{ "imap", CONF_LISTEN_IMAP, DNSREC_SRV_PRIO_PLAIN },
		{ "pop3", CONF_LISTEN_POP3, DNSREC_SRV_PRIO_PLAIN },
	};
	static const char	 hex[] = "0123456789abcdef";
	const struct conf	*c = in->conf;
	const char		*d = in->domain, *h = c->hostname;
	char			 name[DNS_NAME_MAX + 2];
	char			 v[DNSREC_VALUE_MAX + 1];
	size_t			 i, k;
	int			 l;

	*n_out = 0;
	/* MX: our hostname, alone (RFC 5321 §5.1) */
	(void)snprintf(v, sizeof(v), "10 %s.", h);
	if (dnsrec_add(out, max, n_out, "mx", d, DNSREC_MX, v) == -1)
		return -1;
	/* SPF, RFC 7208 §5.4: the hosts of our MX, nothing else */
	if (dnsrec_add_txt(out, max, n_out, "spf", d, "v=spf1 mx -all") == -1)
		return -1;
	/* DKIM, RFC 6376 §3.6.2.1: SELECTOR._domainkey.DOMAIN */
	for (i = 0; i < in->ndkim && i < DNSREC_DKIM_MAX; i++) {
		l = snprintf(name, sizeof(name), "%s._domainkey.%s",
		    in->dkim[i].selector, d);
		if (l < 0 || (size_t)l >= sizeof(name) ||
		    dnsrec_add_txt(out, max, n_out, "dkim", name,
		    in->dkim[i].txt) == -1)
			return -1;
	}
	/*
	 * DMARC, RFC 7489 §6.3: quarantine from the start (everything we
	 * send is DKIM-signed and from our MX), not reject, so that a
	 * signature broken on the way (a list) costs a Junk folder, not a
	 * bounce; aggregate reports to postmaster, which we accept and
	 * read (lookup_dmarcrep.c).
	 */
	l = snprintf(name, sizeof(name), "_dmarc.%s", d);
	(void)snprintf(v, sizeof(v), "v=DMARC1; p=quarantine; "
	    "rua=mailto:postmaster@%s", d);
	if (l < 0 || (size_t)l >= sizeof(name) ||
	    dnsrec_add_txt(out, max, n_out, "dmarc", name, v) == -1)
		return -1;
	/* MTA-STS, RFC 8461 §3.1: the id of the policy served */
	if (in->sts_id != NULL) {
		l = snprintf(name, sizeof(name), "_mta-sts.%s", d);
		(void)snprintf(v, sizeof(v), "v=STSv1; id=%s", in->sts_id);
		if (l < 0 || (size_t)l >= sizeof(name) ||
		    dnsrec_add_txt(out, max, n_out, "mta-sts", name, v) == -1)
			return -1;
	}
	/* TLS-RPT, RFC 8460 §3: tlsrpt-rua, or our postmaster */
	l = snprintf(name, sizeof(name), "_smtp._tls.%s", d);
	if (c->tlsrpt_rua[0] != '\0')
		(void)snprintf(v, sizeof(v), "v=TLSRPTv1; rua=%s",
		    c->tlsrpt_rua);
	else
		(void)snprintf(v, sizeof(v), "v=TLSRPTv1; "
		    "rua=mailto:postmaster@%s", d);
	if (l < 0 || (size_t)l >= sizeof(name) ||
	    dnsrec_add_txt(out, max, n_out, "tls-rpt", name, v) == -1)
		return -1;
	/*
	 * DANE, RFC 7672 §3.1.1 and RFC 7671 §8.1: DANE-EE(3) SPKI(1)
	 * SHA2-256(1) of our key, and of the next one before it is used,
	 * on port 25 of our MX host.
	 */
	l = snprintf(name, sizeof(name), "_25._tcp.%s", h);
	if (l < 0 || (size_t)l >= sizeof(name))
		return -1;
	for (i = 0; i < in->ntlsa && i < 2; i++) {
		(void)str_copy(v, sizeof(v), "3 1 1 ");
		for (k = 0; k < 32; k++) {
			v[6 + 2 * k] = hex[in->tlsa[i][k] >> 4];
			v[6 + 2 * k + 1] = hex[in->tlsa[i][k] & 0xf];
		}
		v[6 + 64] = '\0';
		if (dnsrec_add(out, max, n_out, "tlsa", name, DNSREC_TLSA,
		    v) == -1)
			return -1;
	}
	for (i = 0; i < sizeof(srv) / sizeof(srv[0]); i++)
		if (dnsrec_add_srv(out, max, n_out, in, srv[i].service,
		    srv[i].kind, srv[i].prio) == -1)
			return -1;
	/* the names our certificate and our https listener answer for */
	(void)snprintf(v, sizeof(v), "%s.", h);
	l = snprintf(name, sizeof(name), "autoconfig.%s", d);
	if (l < 0 || (size_t)l >= sizeof(name) ||
	    dnsrec_add(out, max, n_out, "autoconfig", name, DNSREC_CNAME,
	    v) == -1)
		return -1;
	/* Outlook's Autodiscover asks autodiscover.DOMAIN (http_autoconfig) */
	l = snprintf(name, sizeof(name), "autodiscover.%s", d);
	if (l < 0 || (size_t)l >= sizeof(name) ||
	    dnsrec_add(out, max, n_out, "autodiscover", name, DNSREC_CNAME,
	    v) == -1)
		return -1;
	l = snprintf(name, sizeof(name), "mta-sts.%s", d);
	if (l < 0 || (size_t)l >= sizeof(name) ||
	    dnsrec_add(out, max, n_out, "mta-sts", name, DNSREC_CNAME,
	    v) == -1)
		return -1;
	return 0;
}

int
dnsrec_zone(const struct dnsrec *recs, size_t n, struct buf *out)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (buf_printf(out, "%s %d IN %s %s\n", recs[i].name,
		    DNSREC_TTL, dnsrec_type_name(recs[i].type),
		    recs[i].value) == -1)
			return -1;
	return 0;
}

int
dnsrec_notes(const struct dnsrec_in *in, struct buf *out)
{
	if (in->ndkim == 0 && buf_printf(out, "; no active DKIM key for %s "
	    "(make one with: cachetctl dkim keygen %s)\n", in->domain,
	    in->domain) == -1)
		return -1;
	if (in->sts_id == NULL && buf_printf(out, "; no mta-sts-policy in "
	    "the config: no _mta-sts.%s. record\n", in->domain) == -1)
		return -1;
	if (in->ntlsa == 0 && buf_printf(out, "; no TLS key: no TLSA record "
	    "for _25._tcp.%s.\n", in->conf->hostname) == -1)
		return -1;
	return 0;
}

/* --- comparing --- */

/* Our name want ("host." or "." for the root) is got, case aside. */
static bool
dnsrec_name_eq(struct span want, const char *got)
{
	if (want.len > 0 && want.ptr[want.len - 1] == '.')
		want.len--;
	return strlen(got) == want.len && (want.len == 0 ||
	    strncasecmp(want.ptr, got, want.len) == 0);
}

static bool
dnsrec_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Our own value's text back from zone-file syntax: the quoted strings
 * joined, escapes undone (what dnsrec_txt_value() wrote).
 */
static int
dnsrec_txt_text(const char *value, char *out, size_t outsz)
{
	size_t	i, o = 0;
	bool	inq = false;

	for (i = 0; value[i] != '\0'; i++) {
		if (value[i] == '"') {
			inq = !inq;
			continue;
		}
		if (!inq)
			continue;
		if (value[i] == '\\' && dnsrec_digit(value[i + 1])) {
			if (!dnsrec_digit(value[i + 2]) ||
			    !dnsrec_digit(value[i + 3]))
				return -1;
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)((value[i + 1] - '0') * 100 +
			    (value[i + 2] - '0') * 10 + (value[i + 3] - '0'));
			i += 3;
			continue;
		}
		if (value[i] == '\\')
			i++;
		if (value[i] == '\0' || o + 1 >= outsz)
			return -1;
		out[o++] = value[i];
	}
	out[o] = '\0';
	return 0;
}

struct dnsrec_tag {
	struct span	name;
	struct span	value;
};

static bool
dnsrec_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * A tag list (RFC 6376 §3.2, RFC 7489 §6.4, RFC 8461 §3.1, RFC 8460 §3):
 * "name=value" separated by ';', blanks around each part.  -1 when a
 * part has no '=' or there are more than DNSREC_TAGS_MAX.
 */
static int
dnsrec_tags(const char *p, size_t len, struct dnsrec_tag *tags,
    size_t *n_out)
{
	struct span	part;
	size_t		start = 0, i, eq;

	*n_out = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != ';')
			continue;
		part = span_make(p + start, i - start);
		start = i + 1;
		while (part.len > 0 && dnsrec_blank(part.ptr[0])) {
			part.ptr++;
			part.len--;
		}
		while (part.len > 0 && dnsrec_blank(part.ptr[part.len - 1]))
			part.len--;
		if (part.len == 0)
			continue;	/* the optional ';' at the end */
		for (eq = 0; eq < part.len && part.ptr[eq] != '='; eq++)
			;
		if (eq == part.len || *n_out == DNSREC_TAGS_MAX)
			return -1;
		tags[*n_out].name = span_make(part.ptr, eq);
		tags[*n_out].value = span_make(part.ptr + eq + 1,
		    part.len - eq - 1);
		tags[*n_out].name = span_trim(tags[*n_out].name);
		tags[*n_out].value = span_trim(tags[*n_out].value);
		(*n_out)++;
	}
	return 0;
}

/* Two tag values, blanks inside ignored (DKIM's p= may be folded). */
static bool
dnsrec_value_eq(struct span a, struct span b, bool squeeze)
{
	size_t	i = 0, j = 0;

	if (!squeeze)
		return a.len == b.len && (a.len == 0 ||
		    memcmp(a.ptr, b.ptr, a.len) == 0);
	for (;;) {
		while (i < a.len && dnsrec_blank(a.ptr[i]))
			i++;
		while (j < b.len && dnsrec_blank(b.ptr[j]))
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		if (a.ptr[i++] != b.ptr[j++])
			return false;
	}
}

/* The same tags with the same values, in any order. */
static bool
dnsrec_tags_eq(const char *want, size_t wlen, const char *got, size_t glen,
    bool dkim)
{
	struct dnsrec_tag	w[DNSREC_TAGS_MAX], g[DNSREC_TAGS_MAX];
	size_t			nw, ng, i, j;

	if (dnsrec_tags(want, wlen, w, &nw) == -1 ||
	    dnsrec_tags(got, glen, g, &ng) == -1 || nw != ng)
		return false;
	for (i = 0; i < nw; i++) {
		for (j = 0; j < ng; j++)
			if (w[i].name.len == g[j].name.len &&
			    memcmp(w[i].name.ptr, g[j].name.ptr,
			    w[i].name.len) == 0)
				break;
		if (j == ng || !dnsrec_value_eq(w[i].value, g[j].value,
		    dkim && span_eq(w[i].name, "p")))
			return false;
	}
	return true;
}

/* SPF (RFC 7208 §4.6.1): the same terms, blanks and case aside. */
static bool
dnsrec_spf_eq(const char *want, size_t wlen, const char *got, size_t glen)
{
	struct span	wr = span_make(want, wlen), gr = span_make(got, glen);
	struct span	a, b;
	bool		more_w, more_g;

	for (;;) {
		more_w = span_next_word(&wr, &a);
		more_g = span_next_word(&gr, &b);
		if (!more_w || !more_g)
			return !more_w && !more_g;
		if (a.len != b.len || strncasecmp(a.ptr, b.ptr, a.len) != 0)
			return false;
	}
}

/*
 * The version tag a TXT of ours starts with ("v=spf1"), up to its first
 * ';' or blank; "" for DKIM, where any TXT at the name is of the kind.
 */
static size_t
dnsrec_txt_prefix(const struct dnsrec *rec, const char *text)
{
	size_t	i;

	if (strcmp(rec->what, "dkim") == 0)
		return 0;
	for (i = 0; text[i] != '\0' && text[i] != ';' && text[i] != ' ';
	    i++)
		;
	return i;
}

/* A found TXT is of the kind: it starts with our version tag. */
static bool
dnsrec_txt_kind(const char *want, size_t plen, const struct dns_txt *t)
{
	if (plen == 0)
		return true;
	if (t->len < plen || strncasecmp(t->data, want, plen) != 0)
		return false;
	/* "v=spf1" and not "v=spf10" (RFC 7208 §4.5) */
	return t->len == plen || t->data[plen] == ';' ||
	    dnsrec_blank(t->data[plen]);
}

static bool
dnsrec_txt_eq(const struct dnsrec *rec, const char *want,
    const struct dns_txt *t)
{
	size_t	wlen = strlen(want);

	/* a NUL in an answer is never ours */
	if (memchr(t->data, '\0', t->len) != NULL)
		return false;
	if (strcmp(rec->what, "spf") == 0)
		return dnsrec_spf_eq(want, wlen, t->data, t->len);
	return dnsrec_tags_eq(want, wlen, t->data, t->len,
	    strcmp(rec->what, "dkim") == 0);
}

/* Our value as numbers and a name: "10 host." or "0 1 993 host." */
static int
dnsrec_words(const char *value, uint64_t *num, size_t nnum,
    struct span *rest_out)
{
	struct span	rest = span_str(value), w;
	bool		over;
	size_t		i;

	for (i = 0; i < nnum; i++)
		if (!span_next_word(&rest, &w) ||
		    span_to_u64(w, &num[i], &over) == -1 || over)
			return -1;
	*rest_out = span_trim(rest);
	return 0;
}

static int
dnsrec_tlsa_want(const char *value, uint64_t num[3], uint8_t data[32])
{
	struct span	rest;
	size_t		i;
	int		hi, lo;

	if (dnsrec_words(value, num, 3, &rest) == -1 || rest.len != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if ((hi = hex_digit(rest.ptr[2 * i])) == -1 ||
		    (lo = hex_digit(rest.ptr[2 * i + 1])) == -1)
			return -1;
		data[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* One found record as text, printable and cut, for the report. */
static void
dnsrec_found(struct buf *found, const struct dns_rr *rr)
{
	char		 show[DNSREC_FOUND_SHOW + 4];
	const char	*sep;
	size_t		 i;

	if (found == NULL)
		return;
	sep = found->len > 0 ? "; " : "";
	switch (rr->type) {
	case DNS_T_MX:
		(void)buf_printf(found, "%s%u %s.", sep, rr->u.mx.pref,
		    printable(rr->u.mx.name, strlen(rr->u.mx.name), show,
		    sizeof(show)));
		break;
	case DNS_T_SRV:
		(void)buf_printf(found, "%s%u %u %u %s.", sep, rr->u.srv.prio,
		    rr->u.srv.weight, rr->u.srv.port,
		    printable(rr->u.srv.target, strlen(rr->u.srv.target),
		    show, sizeof(show)));
		break;
	case DNS_T_CNAME:
		(void)buf_printf(found, "%s%s.", sep,
		    printable(rr->u.cname.name, strlen(rr->u.cname.name),
		    show, sizeof(show)));
		break;
	case DNS_T_TXT:
		(void)buf_printf(found, "%s\"%s\"", sep,
		    printable(rr->u.txt.data, rr->u.txt.len, show,
		    sizeof(show)));
		break;
	case DNS_T_TLSA:
		(void)buf_printf(found, "%s%u %u %u ", sep, rr->u.tlsa.usage,
		    rr->u.tlsa.selector, rr->u.tlsa.mtype);
		for (i = 0; i < rr->u.tlsa.len && i < DNSREC_FOUND_SHOW / 2;
		    i++)
			(void)buf_printf(found, "%02x", rr->u.tlsa.data[i]);
		break;
	case DNS_T_A:
	case DNS_T_AAAA:
	case DNS_T_PTR:
		break;
	}
}

enum dnsrec_state
dnsrec_compare(const struct dnsrec *rec, const struct dns_rr *rrs, size_t n,
    struct buf *found)
{
	char		 want[DNSREC_VALUE_MAX + 1] = "";
	uint64_t	 num[3] = { 0, 0, 0 };
	uint8_t		 data[32] = { 0 };
	struct span	 host = { NULL, 0 };
	size_t		 i, plen = 0, kind = 0;
	bool		 same = false;
	enum dns_type	 type = dnsrec_dns_type(rec->type);

	switch (rec->type) {
	case DNSREC_TXT:
		if (dnsrec_txt_text(rec->value, want, sizeof(want)) == -1)
			return DNSREC_MISSING;
		plen = dnsrec_txt_prefix(rec, want);
		break;
	case DNSREC_MX:
		if (dnsrec_words(rec->value, num, 1, &host) == -1)
			return DNSREC_MISSING;
		break;
	case DNSREC_SRV:
		if (dnsrec_words(rec->value, num, 3, &host) == -1)
			return DNSREC_MISSING;
		break;
	case DNSREC_TLSA:
		if (dnsrec_tlsa_want(rec->value, num, data) == -1)
			return DNSREC_MISSING;
		break;
	case DNSREC_CNAME:
		host = span_str(rec->value);
		break;
	}
	for (i = 0; i < n; i++) {
		const struct dns_rr *rr = &rrs[i];
		bool eq = false;

		if (rr->type != type)
			continue;
		switch (rr->type) {
		case DNS_T_TXT:
			if (!dnsrec_txt_kind(want, plen, &rr->u.txt))
				continue;
			eq = dnsrec_txt_eq(rec, want, &rr->u.txt);
			break;
		case DNS_T_MX:
			eq = rr->u.mx.pref == num[0] &&
			    dnsrec_name_eq(host, rr->u.mx.name);
			break;
		case DNS_T_SRV:
			eq = rr->u.srv.prio == num[0] &&
			    rr->u.srv.weight == num[1] &&
			    rr->u.srv.port == num[2] &&
			    dnsrec_name_eq(host, rr->u.srv.target);
			break;
		case DNS_T_CNAME:
			eq = dnsrec_name_eq(host, rr->u.cname.name);
			break;
		case DNS_T_TLSA:
			eq = rr->u.tlsa.usage == num[0] &&
			    rr->u.tlsa.selector == num[1] &&
			    rr->u.tlsa.mtype == num[2] &&
			    rr->u.tlsa.len == sizeof(data) &&
			    memcmp(rr->u.tlsa.data, data, sizeof(data)) == 0;
			break;
		case DNS_T_A:
		case DNS_T_AAAA:
		case DNS_T_PTR:
			continue;
		}
		kind++;
		same = same || eq;
		dnsrec_found(found, rr);
	}
	if (same)
		return DNSREC_PRESENT;
	return kind > 0 ? DNSREC_DIFFERENT : DNSREC_MISSING;
}

int
dnsrec_ptr_name(int af, const void *addr, char *out, size_t outsz)
{
	static const char	 hex[] = "0123456789abcdef";
	const uint8_t		*a = addr;
	size_t			 o = 0;
	int			 i, l;

	if (af == AF_INET) {
		l = snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", a[3],
		    a[2], a[1], a[0]);
		return l < 0 || (size_t)l >= outsz ? -1 : 0;
	}
	if (af != AF_INET6 || outsz < 16 * 4 + sizeof("ip6.arpa"))
		return -1;
	for (i = 15; i >= 0; i--) {
		out[o++] = hex[a[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	(void)str_copy(out + o, outsz - o, "ip6.arpa");
	return 0;
}
