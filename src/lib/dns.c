/*
 * dns: asynchronous DNS through libunbound inside a libevent loop.  Run by
 * the lookup role.  It trusts the caller and libunbound's bookkeeping; it
 * trusts nothing in the answer data, which is what remote servers said:
 * every rdata is parsed against its type's exact format with bounded
 * lengths, and a record that does not parse is dropped and counted.
 *
 * libunbound runs its resolver on a thread of its own (ub_ctx_async(1):
 * a forked helper would be a process our parent does not supervise) and
 * signals results on ub_fd(); ub_process() then runs our callbacks in
 * the loop's thread.  libunbound retries servers for up to minutes, so
 * each query also has a timer of ours; when it fires the query is
 * cancelled in libunbound and reported as a temporary failure.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <unbound.h>

#include "dns.h"
#include "log.h"
#include "util.h"

#define DNS_CLASS_IN		1	/* RFC 1035 §3.2.4 */
#define DNS_RCODE_NXDOMAIN	3	/* RFC 1035 §4.1.1 */
#define DNS_FWD_MAX		80	/* "IPv6@port" for ub_ctx_set_fwd */
#define DNS_TA_FILE_MAX		(64 * 1024)	/* a trust anchor file */
#define DNS_TA_RECORD_MAX	4096	/* one DS or DNSKEY record as text */
#define DNS_TA_RECORDS_MAX	64	/* records in a trust anchor file */

struct dns_query {
	TAILQ_ENTRY(dns_query)	 entry;
	struct dns		*dns;
	int			 async_id;
	enum dns_type		 type;
	char			 name[DNS_NAME_TEXT_MAX + 2];
	struct event		*timer;
	void			(*cb)(void *, const struct dns_result *);
	void			*arg;
};

struct dns {
	struct ub_ctx		*ctx;
	struct event		*ev;
	unsigned		 timeout_ms;
	bool			 started;	/* a query was made */
	size_t			 npending;
	TAILQ_HEAD(, dns_query)	 queries;
};

static const char *
dns_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED"
	};

	if (rcode >= 0 && (size_t)rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	return "rcode";
}

const char *
dns_type_name(enum dns_type t)
{
	switch (t) {
	case DNS_T_A:
		return "A";
	case DNS_T_MX:
		return "MX";
	case DNS_T_PTR:
		return "PTR";
	case DNS_T_TXT:
		return "TXT";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_TLSA:
		return "TLSA";
	case DNS_T_CNAME:
		return "CNAME";
	case DNS_T_SRV:
		return "SRV";
	}
	return "?";
}

const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK:
		return "ok";
	case DNS_NODATA:
		return "nodata";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

/* Names and rdata */

static bool
dns_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

int
dns_parse_name(const uint8_t *p, size_t len, char *out, size_t outsz,
    size_t *used)
{
	size_t		i = 0, o = 0, wire = 0, k;
	unsigned	l;
	int		n;

	if (outsz == 0)
		return -1;
	for (;;) {
		if (i >= len)
			return -1;
		l = p[i++];
		/* 1 octet of length and the final root label count too */
		wire += 1 + l;
		if (wire > DNS_WIRE_NAME_MAX)
			return -1;
		if (l == 0)
			break;
		/*
		 * 0xc0 is a compression pointer (RFC 1035 §4.1.4), which
		 * libunbound has already expanded in rdata; 0x40 and 0x80
		 * are the obsolete extended labels (RFC 6891 §5).
		 */
		if (l > DNS_LABEL_MAX)
			return -1;
		if (l > len - i)
			return -1;
		if (o > 0) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
		}
		for (k = 0; k < l; k++) {
			unsigned char c = p[i + k];

			if (dns_ldh(c) || c == '_') {
				if (o + 1 >= outsz)
					return -1;
				out[o++] = (char)c;
				continue;
			}
			/* RFC 1035 §5.1: \DDD for any other octet */
			if (o + 4 >= outsz)
				return -1;
			n = snprintf(out + o, outsz - o, "\\%03u", c);
			if (n != 4)
				return -1;
			o += 4;
		}
		i += l;
	}
	out[o] = '\0';
	*used = i;
	return 0;
}

void
dns_rr_clear(struct dns_rr *rr)
{
	switch (rr->type) {
	case DNS_T_MX:
		free(rr->u.mx.name);
		break;
	case DNS_T_PTR:
		free(rr->u.ptr.name);
		break;
	case DNS_T_TXT:
		free(rr->u.txt.data);
		break;
	case DNS_T_TLSA:
		free(rr->u.tlsa.data);
		break;
	case DNS_T_CNAME:
		free(rr->u.cname.name);
		break;
	case DNS_T_SRV:
		free(rr->u.srv.target);
		break;
	case DNS_T_A:
	case DNS_T_AAAA:
		break;
	}
	memset(rr, 0, sizeof(*rr));
}

static int
dns_parse_mx(const uint8_t *p, size_t len, struct dns_rr *rr)
{
	char	name[DNS_NAME_TEXT_MAX + 1];
	size_t	used;

	/* RFC 1035 §3.3.9: PREFERENCE (16 bits) then EXCHANGE */
	if (len < 3)
		return -1;
	if (dns_parse_name(p + 2, len - 2, name, sizeof(name), &used) == -1 ||
	    used != len - 2)
		return -1;
	rr->u.mx.pref = (uint16_t)(p[0] << 8 | p[1]);
	rr->u.mx.name = xstrdup(name);
	return 0;
}

/*
 * rdata that is one name and nothing else: PTRDNAME (RFC 1035 §3.3.12),
 * CNAME (§3.3.1).  The text form, allocated, or NULL.
 */
static char *
dns_parse_only_name(const uint8_t *p, size_t len)
{
	char	name[DNS_NAME_TEXT_MAX + 1];
	size_t	used;

	if (dns_parse_name(p, len, name, sizeof(name), &used) == -1 ||
	    used != len)
		return NULL;
	return xstrdup(name);
}

static int
dns_parse_srv(const uint8_t *p, size_t len, struct dns_rr *rr)
{
	char	name[DNS_NAME_TEXT_MAX + 1];
	size_t	used;

	/*
	 * RFC 2782: Priority, Weight, Port (16 bits each), then Target,
	 * "not compressed"
	 */
	if (len < 7)
		return -1;
	if (dns_parse_name(p + 6, len - 6, name, sizeof(name), &used) == -1 ||
	    used != len - 6)
		return -1;
	rr->u.srv.prio = (uint16_t)(p[0] << 8 | p[1]);
	rr->u.srv.weight = (uint16_t)(p[2] << 8 | p[3]);
	rr->u.srv.port = (uint16_t)(p[4] << 8 | p[5]);
	rr->u.srv.target = xstrdup(name);
	return 0;
}

static int
dns_parse_txt(const uint8_t *p, size_t len, struct dns_rr *rr)
{
	size_t	i = 0, o = 0, l;
	char	*d;

	/* RFC 1035 §3.3.14: one or more <character-string> */
	if (len == 0)
		return -1;
	d = xmalloc(len + 1);
	while (i < len) {
		l = p[i++];
		if (l > len - i) {
			free(d);
			return -1;
		}
		memcpy(d + o, p + i, l);
		o += l;
		i += l;
	}
	d[o] = '\0';
	rr->u.txt.data = d;
	rr->u.txt.len = o;
	return 0;
}

static int
dns_parse_tlsa(const uint8_t *p, size_t len, struct dns_rr *rr)
{
	/* RFC 6698 §2.1: usage, selector, matching type, data (1+ octets) */
	if (len < 4)
		return -1;
	rr->u.tlsa.usage = p[0];
	rr->u.tlsa.selector = p[1];
	rr->u.tlsa.mtype = p[2];
	rr->u.tlsa.len = len - 3;
	rr->u.tlsa.data = xmalloc(len - 3);
	memcpy(rr->u.tlsa.data, p + 3, len - 3);
	return 0;
}

int
dns_parse_rdata(enum dns_type type, const uint8_t *p, size_t len,
    struct dns_rr *rr)
{
	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	switch (type) {
	case DNS_T_A:
		if (len != 4)
			return -1;
		memcpy(&rr->u.a, p, 4);
		return 0;
	case DNS_T_AAAA:
		if (len != 16)
			return -1;
		memcpy(&rr->u.aaaa, p, 16);
		return 0;
	case DNS_T_MX:
		return dns_parse_mx(p, len, rr);
	case DNS_T_PTR:
		return (rr->u.ptr.name = dns_parse_only_name(p, len)) != NULL ?
		    0 : -1;
	case DNS_T_TXT:
		return dns_parse_txt(p, len, rr);
	case DNS_T_TLSA:
		return dns_parse_tlsa(p, len, rr);
	case DNS_T_CNAME:
		return (rr->u.cname.name = dns_parse_only_name(p, len)) !=
		    NULL ? 0 : -1;
	case DNS_T_SRV:
		return dns_parse_srv(p, len, rr);
	}
	return -1;
}

bool
dns_hostname_ok(const char *name, size_t len)
{
	size_t	i, label, start = 0;
	bool	alldigits = true;

	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			label = i - start;
			if (label == 0 || label > DNS_LABEL_MAX ||
			    name[start] == '-' || name[i - 1] == '-')
				return false;
			if (i < len) {
				start = i + 1;
				alldigits = true;
			}
			continue;
		}
		if (!dns_ldh((unsigned char)name[i]))
			return false;
		if (name[i] < '0' || name[i] > '9')
			alldigits = false;
	}
	/* RFC 3696 §2: a top-level label is never all-numeric */
	return !alldigits;
}

/* A name we are willing to send to libunbound as text. */
static bool
dns_qname_ok(const char *name)
{
	size_t	i, len, label = 0, octets = 0;

	len = strnlen(name, DNS_NAME_TEXT_MAX + 2);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_TEXT_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			octets++;
			continue;
		}
		/* RFC 1035 §5.1 "\DDD" stands for one octet */
		if (name[i] == '\\') {
			if (len - i < 4 ||
			    !isdigit((unsigned char)name[i + 1]) ||
			    !isdigit((unsigned char)name[i + 2]) ||
			    !isdigit((unsigned char)name[i + 3]) ||
			    (name[i + 1] - '0') * 100 +
			    (name[i + 2] - '0') * 10 +
			    (name[i + 3] - '0') > 255)
				return false;
			i += 3;
		} else if (!dns_ldh((unsigned char)name[i]) && name[i] != '_')
			return false;
		if (++label > DNS_LABEL_MAX)
			return false;
		if (++octets > DNS_NAME_MAX)
			return false;
	}
	return label > 0;
}

/*
 * "IP", "IP:PORT", "[IPv6]:PORT", "[IPv6]" or a bare IPv6 address into
 * libunbound's "IP@PORT".
 */
static int
dns_resolver_fwd(const char *text, char *out, size_t outsz)
{
	char		 host[64];
	const char	*port = NULL, *end, *colon;
	struct in6_addr	 a6;
	struct in_addr	 a4;
	unsigned long	 pv = 53;
	char		*ep;
	size_t		 hlen;
	int		 n;

	if (text[0] == '[') {
		if ((end = strchr(text, ']')) == NULL)
			return -1;
		hlen = (size_t)(end - text - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
		if (hlen >= sizeof(host))
			return -1;
		memcpy(host, text + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
	} else {
		colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* two colons or more: a bare IPv6 address */
			if (str_copy(host, sizeof(host), text) == -1 ||
			    inet_pton(AF_INET6, host, &a6) != 1)
				return -1;
		} else {
			hlen = colon ? (size_t)(colon - text) : strlen(text);
			if (hlen >= sizeof(host))
				return -1;
			memcpy(host, text, hlen);
			host[hlen] = '\0';
			if (inet_pton(AF_INET, host, &a4) != 1)
				return -1;
			if (colon != NULL)
				port = colon + 1;
		}
	}
	if (port != NULL) {
		if (port[0] < '0' || port[0] > '9')
			return -1;
		errno = 0;
		pv = strtoul(port, &ep, 10);
		if (errno != 0 || *ep != '\0' || pv == 0 || pv > 65535)
			return -1;
	}
	n = snprintf(out, outsz, "%s@%lu", host, pv);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	return 0;
}

/* The loop side */

static void
dns_readable(evutil_socket_t fd, short ev, void *arg)
{
	struct dns	*d = arg;
	int		 r;

	if ((r = ub_process(d->ctx)) != 0)
		log_warnx("dns: ub_process: %s", ub_strerror(r));
}

static void
dns_query_free(struct dns_query *q)
{
	struct dns	*d = q->dns;

	TAILQ_REMOVE(&d->queries, q, entry);
	d->npending--;
	event_free(q->timer);
	free(q);
}

/* res->why = a (ours) followed by b (anyone's) made printable. */
static void
dns_why(struct dns_result *res, const char *a, const char *b)
{
	size_t	alen;

	alen = strnlen(a, sizeof(res->why) / 2);
	memcpy(res->why, a, alen);
	res->why[alen] = '\0';
	if (b != NULL && b[0] != '\0')
		printable(b, strnlen(b, DNS_WHY_MAX), res->why + alen,
		    sizeof(res->why) - alen);
}

/* Fill res from libunbound's answer; res->rrs is allocated. */
static void
dns_result_fill(struct dns_result *res, int err, struct ub_result *ub)
{
	struct dns_rr	 rr;
	size_t		 i, n = 0;

	if (err != 0 || ub == NULL) {
		res->status = DNS_TEMPFAIL;
		dns_why(res, "resolver: ", ub_strerror(err));
		return;
	}
	res->rcode = ub->rcode;
	res->secure = ub->secure != 0;
	res->bogus = ub->bogus != 0;
	res->ttl = ub->ttl > 0 ? (uint32_t)ub->ttl : 0;
	if (res->bogus) {
		/* RFC 4035 §5.5: a bogus answer is no answer */
		res->status = DNS_TEMPFAIL;
		dns_why(res, "DNSSEC validation failed: ", ub->why_bogus);
		return;
	}
	if (ub->rcode == DNS_RCODE_NXDOMAIN ||
	    (!ub->havedata && ub->nxdomain)) {
		res->status = DNS_NXDOMAIN;
		return;
	}
	if (ub->rcode != 0) {
		res->status = DNS_TEMPFAIL;
		dns_why(res, "server said ", dns_rcode_name(ub->rcode));
		return;
	}
	if (!ub->havedata || ub->data == NULL || ub->data[0] == NULL) {
		res->status = DNS_NODATA;
		return;
	}
	while (n < DNS_RRS_MAX && ub->data[n] != NULL)
		n++;
	res->rrs = xcalloc(n, sizeof(*res->rrs));
	for (i = 0; i < n; i++) {
		if (ub->len[i] < 0 || dns_parse_rdata(res->type,
		    (const uint8_t *)ub->data[i], (size_t)ub->len[i],
		    &rr) == -1) {
			res->malformed++;
			continue;
		}
		res->rrs[res->nrrs++] = rr;
	}
	if (res->nrrs == 0) {
		res->status = DNS_TEMPFAIL;
		dns_why(res, "malformed answer", NULL);
		return;
	}
	res->status = DNS_OK;
}

static void
dns_result_release(struct dns_result *res)
{
	size_t	i;

	for (i = 0; i < res->nrrs; i++)
		dns_rr_clear(&res->rrs[i]);
	free(res->rrs);
	res->rrs = NULL;
	res->nrrs = 0;
}

static void
dns_result_init(struct dns_result *res, const struct dns_query *q)
{
	memset(res, 0, sizeof(*res));
	res->type = q->type;
	res->qname = q->name;
	res->rcode = -1;
}

static void
dns_answer(void *mydata, int err, struct ub_result *ub)
{
	struct dns_query	*q = mydata;
	struct dns_result	 res;
	void			(*cb)(void *, const struct dns_result *);
	void			*arg;
	char			 name[DNS_NAME_TEXT_MAX + 2];

	dns_result_init(&res, q);
	dns_result_fill(&res, err, ub);
	if (ub != NULL)
		ub_resolve_free(ub);
	cb = q->cb;
	arg = q->arg;
	memcpy(name, q->name, sizeof(name));
	res.qname = name;
	/* Gone before the callback, which may cancel or start queries. */
	dns_query_free(q);
	cb(arg, &res);
	dns_result_release(&res);
}

static void
dns_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct dns_query	*q = arg;
	struct dns_result	 res;
	void			(*cb)(void *, const struct dns_result *);
	void			*cbarg;
	char			 name[DNS_NAME_TEXT_MAX + 2];

	(void)ub_cancel(q->dns->ctx, q->async_id);
	dns_result_init(&res, q);
	res.status = DNS_TEMPFAIL;
	res.timeout = true;
	dns_why(&res, "timeout", NULL);
	cb = q->cb;
	cbarg = q->arg;
	memcpy(name, q->name, sizeof(name));
	res.qname = name;
	dns_query_free(q);
	cb(cbarg, &res);
}

/* The API */

/* Reverse zones of the documentation networks, left to the resolver. */
static const char *const dns_doc_zones[] = {
	"2.0.192.in-addr.arpa. transparent",
	"100.51.198.in-addr.arpa. transparent",
	"113.0.203.in-addr.arpa. transparent",
	"8.b.d.0.1.0.0.2.ip6.arpa. transparent",
};

static int
dns_opt(struct ub_ctx *ctx, const char *opt, const char *val)
{
	return ub_ctx_set_option(ctx, opt, val) == 0 ? 0 : -1;
}

struct dns *
dns_new(struct event_base *base, const char *resolver, const char **errstr)
{
	struct dns	*d;
	char		 fwd[DNS_FWD_MAX];
	int		 fd;
	size_t		 i;

	if (resolver != NULL &&
	    dns_resolver_fwd(resolver, fwd, sizeof(fwd)) == -1) {
		*errstr = "bad resolver address";
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	TAILQ_INIT(&d->queries);
	d->timeout_ms = DNS_TIMEOUT_MS_DEFAULT;
	if ((d->ctx = ub_ctx_create()) == NULL) {
		*errstr = "cannot create a libunbound context";
		free(d);
		return NULL;
	}
	*errstr = "cannot configure libunbound";
	if (ub_ctx_async(d->ctx, 1) != 0)
		goto fail;
	/*
	 * The resolver is the operator's choice, often on loopback (a local
	 * validating unbound, or the tests' server).  Without a trust anchor
	 * the validator could only say "insecure", so it is left out.
	 */
	if (dns_opt(d->ctx, "do-not-query-localhost:", "no") == -1 ||
	    dns_opt(d->ctx, "module-config:", "iterator") == -1)
		goto fail;
	/*
	 * libunbound answers names under "test." NXDOMAIN by itself (RFC
	 * 6761 §6.2); test networks serve exactly those names, so the
	 * resolver gets to answer them.
	 */
	if (dns_opt(d->ctx, "local-zone:", "test. transparent") == -1)
		goto fail;
	/*
	 * Likewise the reverse zones of private and documentation networks
	 * (RFC 6303, RFC 5737, RFC 3849), which it would answer itself:
	 * SPF's ptr and %{p} (RFC 7208 §5.5) ask the operator's resolver,
	 * which knows its own networks.
	 */
	/*
	 * Records in the order the resolver gave them, not rotated: SPF's
	 * "first 10" PTR names (RFC 7208 §4.6.4) are then the server's.
	 */
	if (dns_opt(d->ctx, "rrset-roundrobin:", "no") == -1 ||
	    dns_opt(d->ctx, "unblock-lan-zones:", "yes") == -1 ||
	    dns_opt(d->ctx, "insecure-lan-zones:", "yes") == -1)
		goto fail;
	for (i = 0; i < sizeof(dns_doc_zones) / sizeof(dns_doc_zones[0]); i++)
		if (dns_opt(d->ctx, "local-zone:", dns_doc_zones[i]) == -1)
			goto fail;
	if (resolver != NULL) {
		if (ub_ctx_set_fwd(d->ctx, fwd) != 0) {
			*errstr = "libunbound refused the resolver address";
			goto fail;
		}
	} else if (ub_ctx_resolvconf(d->ctx, NULL) != 0) {
		*errstr = "cannot read /etc/resolv.conf";
		goto fail;
	}
	if ((fd = ub_fd(d->ctx)) == -1) {
		*errstr = "libunbound has no descriptor";
		goto fail;
	}
	if ((d->ev = event_new(base, fd, EV_READ | EV_PERSIST, dns_readable,
	    d)) == NULL || event_add(d->ev, NULL) == -1) {
		*errstr = "cannot watch the libunbound descriptor";
		goto fail;
	}
	*errstr = NULL;
	return d;
fail:
	if (d->ev != NULL)
		event_free(d->ev);
	ub_ctx_delete(d->ctx);
	free(d);
	return NULL;
}

/*
 * One trust anchor record: parentheses joined (RFC 1035 §5.1), blanks
 * squeezed, comments already blanked.  It must be a DS or a DNSKEY
 * record (class IN implied or said).
 */
static int
dns_ta_record(const char *rec, size_t len,
    int (*cb)(void *, const char *), void *arg)
{
	char	 text[DNS_TA_RECORD_MAX];
	size_t	 i, o = 0;
	bool	 blank = true;

	for (i = 0; i < len; i++) {
		char c = rec[i];

		if (c == '(' || c == ')' || c == '\t' || c == '\r' ||
		    c == '\n')
			c = ' ';
		if (c == ' ' && blank)
			continue;
		blank = c == ' ';
		if (o + 1 >= sizeof(text))
			return -1;
		text[o++] = c;
	}
	while (o > 0 && text[o - 1] == ' ')
		o--;
	text[o] = '\0';
	if (memchr(rec, '\0', len) != NULL ||
	    (strstr(text, " DS ") == NULL && strstr(text, " DNSKEY ") == NULL))
		return -1;
	return cb(arg, text);
}

int
dns_ta_parse(char *buf, size_t len, int (*cb)(void *, const char *),
    void *arg, const char **errstr)
{
	char	*rec = NULL;
	size_t	 i, depth = 0, nrec = 0;
	bool	 comment = false;

	*errstr = "trust anchor: not a DS or DNSKEY record";
	for (i = 0; i <= len; i++) {
		char c = i < len ? buf[i] : '\n';

		if (comment) {
			if (c != '\n') {
				buf[i] = ' ';
				continue;
			}
			comment = false;
		}
		if (c == ';') {
			comment = true;
			buf[i] = ' ';
			continue;
		}
		if (rec == NULL && c != '\n' && c != ' ' && c != '\t' &&
		    c != '\r')
			rec = buf + i;
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (c == '\n' && depth == 0 && rec != NULL) {
			if (nrec == DNS_TA_RECORDS_MAX) {
				*errstr = "trust anchor: too many records";
				return -1;
			}
			if (dns_ta_record(rec, (size_t)(buf + i - rec), cb,
			    arg) == -1)
				return -1;
			rec = NULL;
			nrec++;
		}
	}
	if (depth != 0) {
		*errstr = "trust anchor: unbalanced parentheses";
		return -1;
	}
	if (nrec == 0) {
		*errstr = "trust anchor: no record";
		return -1;
	}
	*errstr = NULL;
	return 0;
}

static int
dns_ta_add(void *arg, const char *text)
{
	struct dns	*d = arg;

	return ub_ctx_add_ta(d->ctx, text) == 0 ? 0 : -1;
}

int
dns_set_trust_anchor(struct dns *d, const char *path, const char **errstr)
{
	char		*buf;
	ssize_t		 n;
	int		 fd, rc = -1;

	if (d->started) {
		*errstr = "trust anchor set after the first query";
		return -1;
	}
	/*
	 * Read now (the role chroots later; libunbound would open a file
	 * named with ub_ctx_add_ta_file only at its first query).
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*errstr = "cannot open the trust anchor file";
		return -1;
	}
	buf = xmalloc(DNS_TA_FILE_MAX + 1);
	n = read_full(fd, buf, DNS_TA_FILE_MAX + 1);
	close(fd);
	*errstr = "cannot read the trust anchor file";
	if (n == -1)
		goto out;
	*errstr = "trust anchor file too large";
	if ((size_t)n > DNS_TA_FILE_MAX)
		goto out;
	if (dns_ta_parse(buf, (size_t)n, dns_ta_add, d, errstr) == -1)
		goto out;
	/*
	 * Names under "test." (RFC 6761 §6.2) are the tests' and have no
	 * chain from the root: insecure, unless an anchor of their own is
	 * given (then that anchor wins, as unbound.conf(5) says).
	 */
	*errstr = "cannot enable the validator";
	if (dns_opt(d->ctx, "module-config:", "validator iterator") == -1 ||
	    dns_opt(d->ctx, "domain-insecure:", "test.") == -1)
		goto out;
	*errstr = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

void
dns_set_timeout(struct dns *d, unsigned ms)
{
	d->timeout_ms = ms ? ms : DNS_TIMEOUT_MS_DEFAULT;
}

struct dns_query *
dns_query(struct dns *d, const char *name, enum dns_type type,
    void (*cb)(void *, const struct dns_result *), void *arg,
    const char **errstr)
{
	struct dns_query	*q;
	struct timeval		 tv;
	int			 r;

	if (!dns_qname_ok(name)) {
		*errstr = "not a domain name";
		return NULL;
	}
	switch (type) {
	case DNS_T_A:
	case DNS_T_MX:
	case DNS_T_PTR:
	case DNS_T_TXT:
	case DNS_T_AAAA:
	case DNS_T_TLSA:
	case DNS_T_CNAME:
	case DNS_T_SRV:
		break;
	default:
		*errstr = "unsupported type";
		return NULL;
	}
	q = xcalloc(1, sizeof(*q));
	q->dns = d;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	if (str_copy(q->name, sizeof(q->name), name) == -1)
		fatalx("dns: checked name does not fit");
	if ((q->timer = evtimer_new(event_get_base(d->ev), dns_timeout,
	    q)) == NULL)
		fatalx("dns: evtimer_new");
	d->started = true;
	r = ub_resolve_async(d->ctx, q->name, (int)type, DNS_CLASS_IN, q,
	    dns_answer, &q->async_id);
	if (r != 0) {
		*errstr = ub_strerror(r);
		event_free(q->timer);
		free(q);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&d->queries, q, entry);
	d->npending++;
	tv.tv_sec = d->timeout_ms / 1000;
	tv.tv_usec = (d->timeout_ms % 1000) * 1000;
	evtimer_add(q->timer, &tv);
	return q;
}

void
dns_cancel(struct dns_query *q)
{
	(void)ub_cancel(q->dns->ctx, q->async_id);
	dns_query_free(q);
}

size_t
dns_pending(const struct dns *d)
{
	return d->npending;
}

void
dns_free(struct dns *d)
{
	struct dns_query	*q, *next;

	if (d == NULL)
		return;
	for (q = TAILQ_FIRST(&d->queries); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		dns_cancel(q);
	}
	event_free(d->ev);
	ub_ctx_delete(d->ctx);
	free(d);
}
