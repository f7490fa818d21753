/*
 * spf: see spf.h.  check_host() (RFC 7208 §4) as a recursive function
 * replayed over the DNS answers gathered so far; a missing answer stops
 * the run (R_NEED) and becomes the next query.  Records come from DNS,
 * sender and helo from the SMTP client: all hostile, all bounded.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "spf.h"
#include "log.h"
#include "util.h"

#define SPF_HELO_MAX	255
#define SPF_SENDER_MAX	512
#define SPF_DEPTH_MAX	(SPF_TERMS_DNS_MAX + 2)

/* Outcomes of the internal steps besides enum spf_result (>= 0). */
#define R_NEED		(-1)	/* a DNS answer is missing */
#define M_NOMATCH	(-2)	/* a mechanism did not match */
#define M_MATCH		(-3)

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[SPF_RESULT_COUNT] = {
		[SPF_NONE] = "none",
		[SPF_NEUTRAL] = "neutral",
		[SPF_PASS] = "pass",
		[SPF_FAIL] = "fail",
		[SPF_SOFTFAIL] = "softfail",
		[SPF_TEMPERROR] = "temperror",
		[SPF_PERMERROR] = "permerror",
	};

	if ((unsigned)r >= SPF_RESULT_COUNT)
		return "permerror";
	return names[r];
}

/* One DNS answer kept for the replays. */
struct spf_ans {
	enum dns_type	 type;
	char		*name;
	enum dns_status	 status;
	char		**strs;		/* TXT data (NUL-ended), MX/PTR names */
	size_t		*lens;		/* TXT lengths; SIZE_MAX: too long */
	size_t		 nstrs;
	size_t		 total;		/* records in the answer */
	uint8_t		(*addrs)[16];
	size_t		 naddrs;
};

enum spf_mech {
	SPF_M_ALL,
	SPF_M_INCLUDE,
	SPF_M_A,
	SPF_M_MX,
	SPF_M_PTR,
	SPF_M_IP4,
	SPF_M_IP6,
	SPF_M_EXISTS,
	SPF_M_REDIRECT,
	SPF_M_EXP,
	SPF_M_UNKNOWN,		/* an unknown modifier */
};

struct spf_term {
	enum spf_mech	 mech;
	enum spf_result	 qual;
	const char	*text;		/* the whole term, for reasons */
	size_t		 textlen;
	const char	*spec;		/* domain-spec, macro-string or NULL */
	size_t		 speclen;
	int		 cidr4, cidr6;	/* -1: none given */
	uint8_t		 net[16];
};

struct spf_record {
	struct spf_term	*terms;
	size_t		 nterms;
	const struct spf_term *redirect, *exp;
};

struct spf {
	int		 af;
	uint8_t		 ip[16];
	char		 helo[SPF_HELO_MAX + 1];
	char		 sender[SPF_SENDER_MAX + 1];	/* %{s} */
	char		 local[SPF_SENDER_MAX + 1];	/* %{l} */
	char		 sdomain[SPF_SENDER_MAX + 1];	/* %{o} */
	char		 domain[SPF_SENDER_MAX + 1];	/* check_host's */
	char		 rcvhost[SPF_HELO_MAX + 1];
	time_t		 now;
	bool		 check_helo;	/* a HELO phase first (§2.3) */
	bool		 helo_done;	/* it ended, not with fail */
	bool		 is_helo;	/* the result is the HELO identity's */
	bool		 helo_only;	/* null path: postmaster@HELO (§2.4) */

	struct spf_ans	 ans[SPF_QUERIES_MAX];
	size_t		 nans;

	/* the run */
	unsigned	 nterms_dns;
	unsigned	 nvoid;
	char		 qname[SPF_DOMAIN_MAX + 1];
	enum dns_type	 qtype;
	bool		 overflow;

	bool		 done;
	enum spf_result	 result;
	char		 reason[SPF_REASON_MAX];
	char		 explain[SPF_EXPLAIN_MAX];
};

/* Names and addresses */

static bool
spf_name_eq(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	/* a trailing dot means the same name (RFC 1034 §3.1) */
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* name is zone or under it. */
static bool
spf_name_under(const char *name, const char *zone)
{
	size_t	ln = strlen(name), lz = strlen(zone);

	if (ln > 0 && name[ln - 1] == '.')
		ln--;
	if (lz > 0 && zone[lz - 1] == '.')
		lz--;
	if (ln == lz)
		return strncasecmp(name, zone, ln) == 0;
	return ln > lz && name[ln - lz - 1] == '.' &&
	    strncasecmp(name + ln - lz, zone, lz) == 0;
}

/*
 * §4.3: a domain check_host() can start on: labels of 1-63 octets,
 * at most 253 octets, more than one label, not a domain literal and
 * not all-numeric at the top.
 */
static bool
spf_domain_ok(const char *d)
{
	size_t	 len = strlen(d), i, start = 0, labels = 0;
	bool	 digits = true;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_DOMAIN_MAX || d[0] == '[')
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (i == start || i - start > DNS_LABEL_MAX)
				return false;
			labels++;
			if (i < len) {
				start = i + 1;
				digits = true;
			}
			continue;
		}
		if ((unsigned char)d[i] <= ' ' || (unsigned char)d[i] >= 0x7f)
			return false;
		if (!isdigit((unsigned char)d[i]))
			digits = false;
	}
	return labels > 1 && !digits;
}

/* A name we may query: labels of 1-63 octets, at most 253. */
static bool
spf_qname_ok(const char *d)
{
	size_t	 len = strlen(d), i, start = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_DOMAIN_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (i == start || i - start > DNS_LABEL_MAX)
				return false;
			start = i + 1;
		}
	}
	return true;
}

static size_t
spf_iplen(int af)
{
	return af == AF_INET ? 4 : 16;
}

static bool
spf_cidr_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int	 full = bits / 8, rest = bits % 8;
	uint8_t	 mask;

	if (memcmp(a, b, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* The reverse name of the client for PTR (§5.5) or %{i} in nibbles. */
static void
spf_ip_reverse(const struct spf *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 o = 0;
	int	 i;

	if (s->af == AF_INET) {
		(void)snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa",
		    s->ip[3], s->ip[2], s->ip[1], s->ip[0]);
		return;
	}
	for (i = 15; i >= 0 && o + 4 < outsz; i--) {
		out[o++] = hex[s->ip[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[s->ip[i] >> 4];
		out[o++] = '.';
	}
	out[o] = '\0';
	(void)snprintf(out + o, outsz - o, "ip6.arpa");
}

/* DNS answers */

static void
spf_ans_clear(struct spf_ans *a)
{
	size_t	i;

	free(a->name);
	for (i = 0; i < a->nstrs; i++)
		free(a->strs[i]);
	free(a->strs);
	free(a->lens);
	free(a->addrs);
	memset(a, 0, sizeof(*a));
}

static const struct spf_ans *
spf_ans_find(const struct spf *s, enum dns_type t, const char *name)
{
	size_t	i;

	for (i = 0; i < s->nans; i++)
		if (s->ans[i].type == t && spf_name_eq(s->ans[i].name, name))
			return &s->ans[i];
	return NULL;
}

/*
 * The answer for (t, name), or NULL after noting it as the query to ask
 * (or as one too many: s->overflow).
 */
static const struct spf_ans *
spf_lookup(struct spf *s, enum dns_type t, const char *name)
{
	const struct spf_ans	*a;

	if ((a = spf_ans_find(s, t, name)) != NULL)
		return a;
	if (s->nans >= SPF_QUERIES_MAX) {
		s->overflow = true;
		return NULL;
	}
	if (str_copy(s->qname, sizeof(s->qname), name) == -1)
		s->overflow = true;
	s->qtype = t;
	return NULL;
}

/* MX records by preference, then name (qsort of record pointers). */
static int
spf_rr_cmp(const void *pa, const void *pb)
{
	const struct dns_rr	*a = *(const struct dns_rr *const *)pa;
	const struct dns_rr	*b = *(const struct dns_rr *const *)pb;

	if (a->u.mx.pref != b->u.mx.pref)
		return a->u.mx.pref < b->u.mx.pref ? -1 : 1;
	return strcasecmp(a->u.mx.name, b->u.mx.name);
}

void
spf_answer(struct spf *s, enum dns_type t, const char *qname,
    enum dns_status st, const struct dns_rr *rrs, size_t n)
{
	struct spf_ans		*a;
	const struct dns_rr	**order;
	size_t			 i, keep, no;

	if (s->nans >= SPF_QUERIES_MAX || spf_ans_find(s, t, qname) != NULL)
		return;
	a = &s->ans[s->nans++];
	a->type = t;
	a->name = xstrdup(qname);
	a->status = st;
	if (st != DNS_OK)
		return;
	/* a DNS_OK without records of the type is NODATA */
	for (i = 0, keep = 0; i < n; i++)
		if (rrs[i].type == t)
			keep++;
	if (keep == 0) {
		a->status = DNS_NODATA;
		return;
	}
	a->total = keep;
	switch (t) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (keep > SPF_ADDRS_MAX)
			keep = SPF_ADDRS_MAX;
		a->addrs = xcalloc(keep, sizeof(*a->addrs));
		for (i = 0; i < n && a->naddrs < keep; i++) {
			if (rrs[i].type != t)
				continue;
			if (t == DNS_T_A)
				memcpy(a->addrs[a->naddrs++], &rrs[i].u.a, 4);
			else
				memcpy(a->addrs[a->naddrs++], &rrs[i].u.aaaa,
				    16);
		}
		break;
	case DNS_T_TXT:
	case DNS_T_MX:
	case DNS_T_PTR:
		/* TXT: every record (two SPF ones are an error); names: 11 */
		if (t != DNS_T_TXT && keep > SPF_NAMES_MAX + 1)
			keep = SPF_NAMES_MAX + 1;
		if (t == DNS_T_TXT && keep > SPF_ADDRS_MAX)
			keep = SPF_ADDRS_MAX;
		a->strs = xcalloc(keep, sizeof(*a->strs));
		a->lens = xcalloc(keep, sizeof(*a->lens));
		/* NOLINTBEGIN(bugprone-sizeof-expression): pointers */
		order = xcalloc(a->total, sizeof(*order));
		for (i = 0, no = 0; i < n; i++)
			if (rrs[i].type == t)
				order[no++] = &rrs[i];
		/*
		 * An RRset has no order (RFC 2181 §5): MX by preference
		 * makes "the first 10" of §4.6.4 the same on every query;
		 * PTR names stay in the order of the answer, as the suites
		 * expect.
		 */
		if (t == DNS_T_MX)
			qsort(order, no, sizeof(*order), spf_rr_cmp);
		/* NOLINTEND(bugprone-sizeof-expression) */
		for (i = 0; i < no && a->nstrs < keep; i++) {
			const char	*p;
			size_t		 l;

			if (t == DNS_T_TXT) {
				p = order[i]->u.txt.data;
				l = order[i]->u.txt.len;
			} else {
				p = t == DNS_T_MX ? order[i]->u.mx.name :
				    order[i]->u.ptr.name;
				l = strlen(p);
			}
			if (l > SPF_RECORD_MAX) {
				/* kept as its first octets, marked */
				a->strs[a->nstrs] = xstrndup(p, 16);
				a->lens[a->nstrs++] = SIZE_MAX;
				continue;
			}
			a->strs[a->nstrs] = xmalloc(l + 1);
			memcpy(a->strs[a->nstrs], p, l);
			a->strs[a->nstrs][l] = '\0';
			a->lens[a->nstrs++] = l;
		}
		free(order);
		break;
	default:
		break;
	}
}

/* Reasons */

static void	spf_why(struct spf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Set the reason, made printable (names may hold any octet). */
static void
spf_why(struct spf *s, const char *fmt, ...)
{
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	if (vsnprintf(s->reason, sizeof(s->reason), fmt, ap) < 0)
		s->reason[0] = '\0';
	va_end(ap);
	for (i = 0; s->reason[i] != '\0'; i++)
		if ((unsigned char)s->reason[i] < 0x20 ||
		    (unsigned char)s->reason[i] > 0x7e)
			s->reason[i] = '?';
}

/* Macros (§7) */

static bool
spf_delim(char c)
{
	return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' ||
	    c == '_' || c == '=';
}

static bool
spf_unreserved(unsigned char c)
{
	/* RFC 3986 §2.3 */
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/*
 * Walk macro-string in[0..len): check its syntax (§7.1) and, when out is
 * not NULL, expand it.  sp: SP allowed (explain-string, §6.2).
 */
struct spf_mx {
	struct spf	*s;
	const char	*domain;	/* %{d} */
	bool		 exp;		/* c r t allowed */
	char		*out;
	size_t		 outsz, o;
	bool		 full;
	bool		 last_macro;	/* the string ends in a macro-expand */
};

static int spf_validated(struct spf *, const char *domain, char *out,
    size_t outsz);

static void
spf_mx_put(struct spf_mx *x, const char *p, size_t l)
{
	if (x->out == NULL)
		return;
	if (l >= x->outsz - x->o) {
		x->full = true;
		return;
	}
	memcpy(x->out + x->o, p, l);
	x->o += l;
	x->out[x->o] = '\0';
}

/* The value of a macro letter; 1 when DNS answers are missing. */
static int
spf_mx_value(struct spf_mx *x, char letter, char *v, size_t vsz)
{
	struct spf	*s = x->s;
	char		 a[INET6_ADDRSTRLEN];
	int		 i, o = 0;

	switch (letter) {
	case 's':
		(void)str_copy(v, vsz, s->sender);
		break;
	case 'l':
		(void)str_copy(v, vsz, s->local);
		break;
	case 'o':
		(void)str_copy(v, vsz, s->sdomain);
		break;
	case 'd':
		(void)str_copy(v, vsz, x->domain);
		break;
	case 'h':
		(void)str_copy(v, vsz, s->helo);
		break;
	case 'v':
		(void)str_copy(v, vsz, s->af == AF_INET ? "in-addr" : "ip6");
		break;
	case 'i':
		if (s->af == AF_INET) {
			(void)snprintf(v, vsz, "%u.%u.%u.%u", s->ip[0],
			    s->ip[1], s->ip[2], s->ip[3]);
			break;
		}
		/* §7.3: dot-separated nibbles */
		for (i = 0; i < 16 && (size_t)o + 4 < vsz; i++)
			o += snprintf(v + o, vsz - (size_t)o, "%s%x.%x",
			    i ? "." : "", s->ip[i] >> 4, s->ip[i] & 0xf);
		break;
	case 'c':
		if (inet_ntop(s->af, s->ip, a, sizeof(a)) == NULL)
			a[0] = '\0';
		(void)str_copy(v, vsz, a);
		break;
	case 'r':
		(void)str_copy(v, vsz, s->rcvhost[0] ? s->rcvhost :
		    "unknown");
		break;
	case 't':
		(void)snprintf(v, vsz, "%lld", (long long)s->now);
		break;
	case 'p':
		return spf_validated(s, x->domain, v, vsz);
	}
	return 0;
}

/*
 * Apply transformers (§7.3): split v on delims (default '.'), reverse
 * if rev, keep the rightmost ndigits parts (0: all), join with '.'.
 */
static void
spf_mx_transform(const char *v, size_t ndigits, bool rev, const char *delims,
    size_t ndelims, char *out, size_t outsz)
{
	const char	*parts[SPF_EXPAND_MAX / 2 + 1];
	size_t		 lens[SPF_EXPAND_MAX / 2 + 1];
	size_t		 n = 0, i, start = 0, len = strlen(v), o = 0, first;

	for (i = 0; i <= len && n < sizeof(parts) / sizeof(parts[0]); i++) {
		/*
		 * A delimiter, or the end of v, ends a part.  v is a C
		 * string (the analyzer loses that across spf_mx_value()).
		 */
		/* NOLINTBEGIN(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		if (i < len && !(ndelims ? memchr(delims, v[i], ndelims) !=
		    NULL : v[i] == '.'))
			continue;
		/* NOLINTEND(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		parts[n] = v + start;
		lens[n++] = i - start;
		start = i + 1;
	}
	if (rev)
		for (i = 0; i < n / 2; i++) {
			const char	*tp = parts[i];
			size_t		 tl = lens[i];

			parts[i] = parts[n - 1 - i];
			lens[i] = lens[n - 1 - i];
			parts[n - 1 - i] = tp;
			lens[n - 1 - i] = tl;
		}
	first = ndigits && ndigits < n ? n - ndigits : 0;
	out[0] = '\0';
	for (i = first; i < n; i++) {
		if (o + lens[i] + 2 > outsz)
			break;
		if (i > first)
			out[o++] = '.';
		memcpy(out + o, parts[i], lens[i]);
		o += lens[i];
		out[o] = '\0';
	}
}

/* 0, -1 syntax (errstr), 1 DNS answers missing. */
static int
spf_mx_run(struct spf_mx *x, const char *in, size_t len, bool sp,
    const char **errstr)
{
	size_t	 i = 0;
	char	 v[SPF_EXPAND_MAX], t[SPF_EXPAND_MAX];

	while (i < len) {
		unsigned char	 c = (unsigned char)in[i];
		char		 letter, delims[8];
		size_t		 ndigits = 0, ndelims = 0, j;
		bool		 rev = false, upper;
		int		 r;

		x->last_macro = c == '%';
		if (c != '%') {
			if ((c < 0x21 || c > 0x7e) && !(sp && c == ' ')) {
				*errstr = "octet not allowed in macro-string";
				return -1;
			}
			spf_mx_put(x, in + i, 1);
			i++;
			continue;
		}
		if (++i >= len) {
			*errstr = "'%' at the end of a macro-string";
			return -1;
		}
		switch (in[i]) {
		case '%':
			spf_mx_put(x, "%", 1);
			i++;
			continue;
		case '_':
			spf_mx_put(x, " ", 1);
			i++;
			continue;
		case '-':
			spf_mx_put(x, "%20", 3);
			i++;
			continue;
		case '{':
			break;
		default:
			*errstr = "'%' not followed by '{', '%', '_' or '-'";
			return -1;
		}
		if (++i >= len) {
			*errstr = "unterminated macro";
			return -1;
		}
		letter = (char)tolower((unsigned char)in[i]);
		upper = isupper((unsigned char)in[i]);
		if (strchr("slodiphvcrt", letter) == NULL || letter == '\0') {
			*errstr = "unknown macro letter";
			return -1;
		}
		if (!x->exp && strchr("crt", letter) != NULL) {
			*errstr = "macro letter c, r or t outside exp";
			return -1;
		}
		i++;
		while (i < len && isdigit((unsigned char)in[i])) {
			/* more parts than a name can have are all of them */
			if (ndigits < 1000)
				ndigits = ndigits * 10 +
				    (size_t)(in[i] - '0');
			i++;
		}
		if (i > 0 && isdigit((unsigned char)in[i - 1]) &&
		    ndigits == 0) {
			*errstr = "macro transformer digits of zero";
			return -1;
		}
		if (i < len && (in[i] == 'r' || in[i] == 'R')) {
			rev = true;
			i++;
		}
		while (i < len && spf_delim(in[i])) {
			if (ndelims < sizeof(delims) &&
			    memchr(delims, in[i], ndelims) == NULL)
				delims[ndelims++] = in[i];
			i++;
		}
		if (i >= len || in[i] != '}') {
			*errstr = "bad macro transformer or delimiter";
			return -1;
		}
		i++;
		if (x->out == NULL)
			continue;
		v[0] = '\0';
		if ((r = spf_mx_value(x, letter, v, sizeof(v))) != 0)
			return r;
		spf_mx_transform(v, ndigits, rev, delims, ndelims, t,
		    sizeof(t));
		if (!upper) {
			spf_mx_put(x, t, strlen(t));
			continue;
		}
		/* §7.3: upper-case letters URL-escape (RFC 3986) */
		for (j = 0; t[j] != '\0'; j++) {
			char	e[4];

			if (spf_unreserved((unsigned char)t[j])) {
				spf_mx_put(x, t + j, 1);
				continue;
			}
			(void)snprintf(e, sizeof(e), "%%%02X",
			    (unsigned char)t[j]);
			spf_mx_put(x, e, 3);
		}
	}
	if (x->full) {
		*errstr = "macro expansion too long";
		return -1;
	}
	return 0;
}

int
spf_macro_expand(struct spf *s, const char *in, size_t len, bool exp,
    char *out, size_t outsz, const char **errstr)
{
	struct spf_mx	x = { s, s->domain, exp, out, outsz, 0, false, false };

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	return spf_mx_run(&x, in, len, exp, errstr);
}

/*
 * §4.8 and §7.1 domain-spec: a macro-string that ends in a macro-expand
 * or in "." toplabel ["."].
 */
static int
spf_domain_spec_check(const char *p, size_t len, const char **errstr)
{
	struct spf_mx	 x = { NULL, NULL, false, NULL, 0, 0, false, false };
	size_t		 end = len, dot, i;
	bool		 digits = true;

	if (len == 0) {
		*errstr = "empty domain-spec";
		return -1;
	}
	if (spf_mx_run(&x, p, len, false, errstr) == -1)
		return -1;
	if (x.last_macro)
		return 0;
	if (p[end - 1] == '.')
		end--;
	for (dot = end; dot > 0 && p[dot - 1] != '.'; dot--)
		;
	if (dot == 0 || dot == end) {
		*errstr = "domain-spec does not end in a top label";
		return -1;
	}
	for (i = dot; i < end; i++) {
		if (!isalnum((unsigned char)p[i]) && p[i] != '-') {
			*errstr = "bad top label in domain-spec";
			return -1;
		}
		if (!isdigit((unsigned char)p[i]))
			digits = false;
	}
	if (digits || p[dot] == '-' || p[end - 1] == '-') {
		*errstr = "bad top label in domain-spec";
		return -1;
	}
	return 0;
}

/* Records (§4.5, §4.6, §12) */

static bool
spf_is_record(const char *p, size_t len)
{
	return len >= 6 && strncasecmp(p, "v=spf1", 6) == 0 &&
	    (len == 6 || p[6] == ' ');
}

/* "/NN" at the end of p[0..*len): the value, or -1 none, -2 bad. */
static int
spf_cidr_tail(const char *p, size_t *len, int max, bool dbl)
{
	size_t	 i = *len, d;
	int	 v = 0;

	while (i > 0 && isdigit((unsigned char)p[i - 1]))
		i--;
	d = *len - i;
	if (i == 0 || p[i - 1] != '/')
		return -1;
	if (dbl && (i < 2 || p[i - 2] != '/'))
		return -1;
	if (d == 0 || d > 3 || (d > 1 && p[i] == '0'))
		return -2;
	for (; i < *len; i++)
		v = v * 10 + (p[i] - '0');
	if (v > max)
		return -2;
	*len -= d + (dbl ? 2 : 1);
	return v;
}

static int
spf_term_parse(const char *p, size_t len, struct spf_term *t,
    const char **errstr)
{
	static const struct {
		const char	*name;
		enum spf_mech	 mech;
	} mechs[] = {
		{ "all", SPF_M_ALL }, { "include", SPF_M_INCLUDE },
		{ "a", SPF_M_A }, { "mx", SPF_M_MX }, { "ptr", SPF_M_PTR },
		{ "ip4", SPF_M_IP4 }, { "ip6", SPF_M_IP6 },
		{ "exists", SPF_M_EXISTS },
	};
	struct spf_mx	 x = { NULL, NULL, false, NULL, 0, 0, false, false };
	size_t		 n, i, rest;
	char		 ipbuf[INET6_ADDRSTRLEN + 1];

	memset(t, 0, sizeof(*t));
	t->text = p;
	t->textlen = len;
	t->cidr4 = t->cidr6 = -1;
	t->qual = SPF_PASS;
	/* modifier: name "=" before any ':' or '/' (§4.6.1, §12) */
	for (n = 0; n < len && p[n] != '=' && p[n] != ':' && p[n] != '/'; n++)
		;
	if (n < len && p[n] == '=') {
		if (n == 0 || !isalpha((unsigned char)p[0])) {
			*errstr = "bad modifier name";
			return -1;
		}
		for (i = 1; i < n; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '-' &&
			    p[i] != '_' && p[i] != '.') {
				*errstr = "bad modifier name";
				return -1;
			}
		t->spec = p + n + 1;
		t->speclen = len - n - 1;
		if (n == 8 && strncasecmp(p, "redirect", 8) == 0)
			t->mech = SPF_M_REDIRECT;
		else if (n == 3 && strncasecmp(p, "exp", 3) == 0)
			t->mech = SPF_M_EXP;
		else {
			/* §12: unknown-modifier = name "=" macro-string */
			t->mech = SPF_M_UNKNOWN;
			return spf_mx_run(&x, t->spec, t->speclen, false,
			    errstr);
		}
		return spf_domain_spec_check(t->spec, t->speclen, errstr);
	}
	switch (p[0]) {
	case '+':
		t->qual = SPF_PASS;
		p++, len--;
		break;
	case '-':
		t->qual = SPF_FAIL;
		p++, len--;
		break;
	case '~':
		t->qual = SPF_SOFTFAIL;
		p++, len--;
		break;
	case '?':
		t->qual = SPF_NEUTRAL;
		p++, len--;
		break;
	}
	for (n = 0; n < len && p[n] != ':' && p[n] != '/'; n++)
		;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == n &&
		    strncasecmp(p, mechs[i].name, n) == 0)
			break;
	if (i == sizeof(mechs) / sizeof(mechs[0])) {
		*errstr = "unknown mechanism";
		return -1;
	}
	t->mech = mechs[i].mech;
	p += n;
	rest = len - n;
	switch (t->mech) {
	case SPF_M_ALL:
		if (rest != 0) {
			*errstr = "'all' takes no argument";
			return -1;
		}
		return 0;
	case SPF_M_A:
	case SPF_M_MX:
		if ((t->cidr6 = spf_cidr_tail(p, &rest, 128, true)) == -2 ||
		    (t->cidr4 = spf_cidr_tail(p, &rest, 32, false)) == -2) {
			*errstr = "bad CIDR length";
			return -1;
		}
		/* FALLTHROUGH */
	case SPF_M_PTR:
		if (rest == 0)
			return 0;
		/* FALLTHROUGH */
	case SPF_M_INCLUDE:
	case SPF_M_EXISTS:
		if (rest < 1 || p[0] != ':') {
			*errstr = "mechanism needs ':' domain-spec";
			return -1;
		}
		t->spec = p + 1;
		t->speclen = rest - 1;
		return spf_domain_spec_check(t->spec, t->speclen, errstr);
	case SPF_M_IP4:
	case SPF_M_IP6:
		if (rest < 1 || p[0] != ':') {
			*errstr = "ip4/ip6 needs ':' network";
			return -1;
		}
		if ((t->mech == SPF_M_IP4 &&
		    (t->cidr4 = spf_cidr_tail(p, &rest, 32, false)) == -2) ||
		    (t->mech == SPF_M_IP6 &&
		    (t->cidr6 = spf_cidr_tail(p, &rest, 128, false)) == -2)) {
			*errstr = "bad CIDR length";
			return -1;
		}
		if (rest - 1 == 0 || rest - 1 >= sizeof(ipbuf)) {
			*errstr = "bad IP network";
			return -1;
		}
		memcpy(ipbuf, p + 1, rest - 1);
		ipbuf[rest - 1] = '\0';
		if (inet_pton(t->mech == SPF_M_IP4 ? AF_INET : AF_INET6,
		    ipbuf, t->net) != 1) {
			*errstr = "bad IP network";
			return -1;
		}
		/* §5.6: ip6 takes an IPv6 address, never dotted v4 alone */
		return 0;
	default:
		break;
	}
	*errstr = "unknown mechanism";
	return -1;
}

static void
spf_record_free(struct spf_record *r)
{
	free(r->terms);
	memset(r, 0, sizeof(*r));
}

/* rec[0..len) starts with "v=spf1" (checked). */
static int
spf_record_parse(const char *rec, size_t len, struct spf_record *r,
    const char **errstr)
{
	size_t	 i, n = 0, start;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)rec[i];

		/* §4.6.1: terms are separated by SP, ASCII only (§3.1) */
		if (c < 0x20 || c > 0x7e) {
			*errstr = "control or non-ASCII octet in record";
			return -1;
		}
		if (c == ' ' && i + 1 < len && rec[i + 1] != ' ')
			n++;
	}
	r->terms = xcalloc(n + 1, sizeof(*r->terms));
	for (i = 6; i < len; ) {
		while (i < len && rec[i] == ' ')
			i++;
		if (i == len)
			break;
		for (start = i; i < len && rec[i] != ' '; i++)
			;
		if (r->nterms >= n + 1)
			fatalx("spf: term count");
		if (spf_term_parse(rec + start, i - start,
		    &r->terms[r->nterms], errstr) == -1) {
			spf_record_free(r);
			return -1;
		}
		switch (r->terms[r->nterms].mech) {
		case SPF_M_REDIRECT:
			if (r->redirect != NULL) {
				*errstr = "two redirect= modifiers";
				spf_record_free(r);
				return -1;
			}
			r->redirect = &r->terms[r->nterms];
			break;
		case SPF_M_EXP:
			if (r->exp != NULL) {
				*errstr = "two exp= modifiers";
				spf_record_free(r);
				return -1;
			}
			r->exp = &r->terms[r->nterms];
			break;
		default:
			break;
		}
		r->nterms++;
	}
	return 0;
}

int
spf_record_check(const char *rec, size_t len, const char **errstr)
{
	struct spf_record	r;

	if (!spf_is_record(rec, len)) {
		*errstr = "not an SPF record";
		return -1;
	}
	if (spf_record_parse(rec, len, &r, errstr) == -1)
		return -1;
	spf_record_free(&r);
	return 0;
}

/* check_host() */

static int spf_check_host(struct spf *, const char *domain, int depth,
    bool inc);

/*
 * Expand a term's domain-spec (or use domain when there is none) into
 * out, left labels removed past 253 octets (§7.3).  0, -1 permerror
 * (reason set), R_NEED.
 */
static int
spf_target(struct spf *s, const char *domain, const struct spf_term *t,
    char *out, size_t outsz)
{
	struct spf_mx	 x = { s, domain, false, NULL, 0, 0, false, false };
	char		 buf[SPF_EXPAND_MAX];
	const char	*errstr = NULL, *p;
	int		 r;

	if (t->spec == NULL)
		return str_copy(out, outsz, domain) == -1 ? -1 : 0;
	x.out = buf;
	x.outsz = sizeof(buf);
	buf[0] = '\0';
	if ((r = spf_mx_run(&x, t->spec, t->speclen, false, &errstr)) == 1)
		return R_NEED;
	if (r == -1) {
		spf_why(s, "%s in %s", errstr, domain);
		return -1;
	}
	p = buf;
	while (strlen(p) > SPF_DOMAIN_MAX) {
		const char	*dot = strchr(p, '.');

		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (str_copy(out, outsz, p) == -1) {
		spf_why(s, "%s in %s", "target name too long", domain);
		return -1;
	}
	return 0;
}

/*
 * §4.6.4: one more DNS-querying term (void false) or void lookup (void
 * true) for name; SPF_PERMERROR past its limit, else 0.
 */
static int
spf_count(struct spf *s, bool isvoid, const char *name)
{
	unsigned	*n = isvoid ? &s->nvoid : &s->nterms_dns;

	if (++*n > (isvoid ? SPF_VOID_MAX : SPF_TERMS_DNS_MAX)) {
		spf_why(s, "more than %u %s (%s)", isvoid ? SPF_VOID_MAX :
		    SPF_TERMS_DNS_MAX, isvoid ? "void lookups" :
		    "DNS-querying terms", name);
		return SPF_PERMERROR;
	}
	return 0;
}

/* Does an address answer hold the client's address within bits? */
static bool
spf_ans_match(const struct spf *s, const struct spf_ans *a, int bits)
{
	size_t	i;

	for (i = 0; i < a->naddrs; i++)
		if (spf_cidr_match(a->addrs[i], s->ip, bits))
			return true;
	return false;
}

/*
 * A mechanism's query of type for name: 0 with *out set when there are
 * records; else M_NOMATCH (none: a void lookup when voidcount, §4.6.4),
 * R_NEED, SPF_TEMPERROR or SPF_PERMERROR.
 */
static int
spf_mech_query(struct spf *s, enum dns_type t, const char *name,
    bool voidcount, const struct spf_ans **out)
{
	const struct spf_ans	*a;

	/* a name that cannot exist is a void lookup without asking */
	if (spf_qname_ok(name)) {
		if ((a = spf_lookup(s, t, name)) == NULL)
			return R_NEED;
		if (a->status == DNS_OK) {
			*out = a;
			return 0;
		}
		if (a->status == DNS_TEMPFAIL) {
			spf_why(s, "DNS error on %s", name);
			return SPF_TEMPERROR;
		}
	}
	if (voidcount && spf_count(s, true, name) != 0)
		return SPF_PERMERROR;
	return M_NOMATCH;
}

/*
 * The address records of name for the client's family: M_MATCH,
 * M_NOMATCH, R_NEED or an error result.
 */
static int
spf_addr_match(struct spf *s, const char *name, int cidr4, int cidr6,
    bool voidcount)
{
	const struct spf_ans	*a;
	int			 r, bits;

	if ((r = spf_mech_query(s, s->af == AF_INET ? DNS_T_A : DNS_T_AAAA,
	    name, voidcount, &a)) != 0)
		return r;
	if (s->af == AF_INET)
		bits = cidr4 < 0 ? 32 : cidr4;
	else
		bits = cidr6 < 0 ? 128 : cidr6;
	return spf_ans_match(s, a, bits) ? M_MATCH : M_NOMATCH;
}

/*
 * §5.5 validated names of the client: each PTR name (the first 10)
 * whose addresses include the client's.  calls cb(arg, name) for each
 * until it returns true.  0, R_NEED; DNS errors skip (§5.5).
 */
static int
spf_ptr_names(struct spf *s, bool (*cb)(void *, const char *), void *arg,
    bool *found)
{
	const struct spf_ans	*p, *a;
	enum dns_type		 t = s->af == AF_INET ? DNS_T_A : DNS_T_AAAA;
	char			 rev[80];
	size_t			 i;

	*found = false;
	spf_ip_reverse(s, rev, sizeof(rev));
	if ((p = spf_lookup(s, DNS_T_PTR, rev)) == NULL)
		return R_NEED;
	if (p->status != DNS_OK)
		return 0;
	for (i = 0; i < p->nstrs && i < SPF_NAMES_MAX; i++) {
		if (!spf_qname_ok(p->strs[i]))
			continue;
		if ((a = spf_lookup(s, t, p->strs[i])) == NULL)
			return R_NEED;
		if (a->status != DNS_OK ||
		    !spf_ans_match(s, a, s->af == AF_INET ? 32 : 128))
			continue;
		if (cb(arg, p->strs[i])) {
			*found = true;
			return 0;
		}
	}
	return 0;
}

struct spf_ptrpick {
	const char	*domain;
	int		 pass;		/* 0 equal, 1 under, 2 any */
	char		*out;
	size_t		 outsz;
};

static bool
spf_ptr_pick(void *arg, const char *name)
{
	struct spf_ptrpick	*pp = arg;

	if ((pp->pass == 0 && spf_name_eq(name, pp->domain)) ||
	    (pp->pass == 1 && spf_name_under(name, pp->domain)) ||
	    pp->pass == 2) {
		(void)str_copy(pp->out, pp->outsz, name);
		return true;
	}
	return false;
}

/* %{p} (§7.3): 0 with out set ("unknown" when none), or 1 (R_NEED). */
static int
spf_validated(struct spf *s, const char *domain, char *out, size_t outsz)
{
	struct spf_ptrpick	 pp = { domain, 0, out, outsz };
	bool			 found;

	for (pp.pass = 0; pp.pass < 3; pp.pass++) {
		if (spf_ptr_names(s, spf_ptr_pick, &pp, &found) == R_NEED)
			return 1;
		if (found) {
			size_t	l = strlen(out);

			if (l > 0 && out[l - 1] == '.')
				out[l - 1] = '\0';
			return 0;
		}
	}
	(void)str_copy(out, outsz, "unknown");
	return 0;
}

static bool
spf_ptr_under(void *arg, const char *name)
{
	return spf_name_under(name, arg);
}

/* NOLINTBEGIN(misc-no-recursion): include/redirect, SPF_DEPTH_MAX deep */
/* One mechanism: M_MATCH, M_NOMATCH, R_NEED or an error result. */
static int
spf_mech(struct spf *s, const char *domain, const struct spf_term *t,
    int depth)
{
	char			 target[SPF_DOMAIN_MAX + 1];
	const struct spf_ans	*a;
	size_t			 i;
	int			 r;
	bool			 found;

	switch (t->mech) {
	case SPF_M_ALL:
		return M_MATCH;
	case SPF_M_IP4:
		if (s->af != AF_INET)
			return M_NOMATCH;
		return spf_cidr_match(t->net, s->ip, t->cidr4 < 0 ? 32 :
		    t->cidr4) ? M_MATCH : M_NOMATCH;
	case SPF_M_IP6:
		if (s->af != AF_INET6)
			return M_NOMATCH;
		return spf_cidr_match(t->net, s->ip, t->cidr6 < 0 ? 128 :
		    t->cidr6) ? M_MATCH : M_NOMATCH;
	default:
		break;
	}
	if ((r = spf_count(s, false, domain)) != 0)
		return r;
	if ((r = spf_target(s, domain, t, target, sizeof(target))) == R_NEED)
		return R_NEED;
	/* cppcheck-suppress knownConditionTrueFalse ; spf_target() fails -1 */
	if (r == -1)
		return SPF_PERMERROR;
	switch (t->mech) {
	case SPF_M_INCLUDE:
		r = spf_check_host(s, target, depth + 1, true);
		switch (r) {
		case R_NEED:
			return R_NEED;
		case SPF_PASS:
			return M_MATCH;
		case SPF_FAIL:
		case SPF_SOFTFAIL:
		case SPF_NEUTRAL:
			return M_NOMATCH;
		case SPF_TEMPERROR:
			return SPF_TEMPERROR;
		case SPF_NONE:
			spf_why(s, "include:%s has no SPF record", target);
			return SPF_PERMERROR;
		default:
			return SPF_PERMERROR;
		}
	case SPF_M_A:
		return spf_addr_match(s, target, t->cidr4, t->cidr6, true);
	case SPF_M_EXISTS:
		/* §5.7: always an A query, whatever the client's family */
		r = spf_mech_query(s, DNS_T_A, target, true, &a);
		return r == 0 ? M_MATCH : r;
	case SPF_M_MX:
		if ((r = spf_mech_query(s, DNS_T_MX, target, true, &a)) != 0)
			return r;
		for (i = 0; i < a->nstrs; i++) {
			/*
			 * §4.6.4: querying the addresses of an 11th name
			 * is a permerror; a match before it stands.
			 */
			if (i >= SPF_NAMES_MAX) {
				spf_why(s, "more than 10 MX names for %s",
				    target);
				return SPF_PERMERROR;
			}
			/* a null MX (RFC 7505) has no address */
			if (a->strs[i][0] == '\0')
				continue;
			r = spf_addr_match(s, a->strs[i], t->cidr4, t->cidr6,
			    false);
			if (r != M_NOMATCH)
				return r;
		}
		return M_NOMATCH;
	case SPF_M_PTR:
		if (spf_ptr_names(s, spf_ptr_under, target, &found) == R_NEED)
			return R_NEED;
		return found ? M_MATCH : M_NOMATCH;
	default:
		break;
	}
	return SPF_PERMERROR;
}

/* §6.2: the explanation for a fail from the record's exp=. */
static int
spf_explain(struct spf *s, const char *domain, const struct spf_term *exp)
{
	char			 target[SPF_DOMAIN_MAX + 1];
	const struct spf_ans	*a;
	struct spf_mx		 x = { s, domain, true, s->explain,
	    sizeof(s->explain), 0, false, false };
	const char		*errstr;
	char			 save[SPF_REASON_MAX];
	size_t			 i;
	int			 r;

	s->explain[0] = '\0';
	(void)str_copy(save, sizeof(save), s->reason);
	r = spf_target(s, domain, exp, target, sizeof(target));
	(void)str_copy(s->reason, sizeof(s->reason), save);
	if (r == R_NEED)
		return R_NEED;
	/* cppcheck-suppress knownConditionTrueFalse ; spf_target() fails -1 */
	if (r == -1 || !spf_qname_ok(target))
		return 0;
	if ((a = spf_lookup(s, DNS_T_TXT, target)) == NULL)
		return s->overflow ? 0 : R_NEED;
	/* exactly one record, or no explanation */
	if (a->status != DNS_OK || a->nstrs != 1 || a->lens[0] == SIZE_MAX)
		return 0;
	for (i = 0; i < a->lens[0]; i++)
		if ((unsigned char)a->strs[0][i] > 0x7e)
			return 0;
	r = spf_mx_run(&x, a->strs[0], a->lens[0], true, &errstr);
	if (r == 1)
		return R_NEED;
	if (r == -1)
		s->explain[0] = '\0';
	return 0;
}

/*
 * check_host() (§4): a result, or R_NEED.  inc: inside an include (its
 * exp= is not used, §6.2).
 */
static int
spf_check_host(struct spf *s, const char *domain, int depth, bool inc)
{
	const struct spf_ans	*a;
	const char		*rec = NULL, *errstr = NULL;
	struct spf_record	 r;
	size_t			 i, reclen = 0, n = 0;
	int			 m, res;

	if (depth > SPF_DEPTH_MAX) {
		spf_why(s, "nested too deep at %s", domain);
		return SPF_PERMERROR;
	}
	if (!spf_domain_ok(domain)) {
		spf_why(s, "%s is not a domain SPF can check", domain);
		return SPF_NONE;
	}
	if ((a = spf_lookup(s, DNS_T_TXT, domain)) == NULL)
		return R_NEED;
	if (a->status == DNS_TEMPFAIL) {
		spf_why(s, "DNS error looking up the record of %s", domain);
		return SPF_TEMPERROR;
	}
	for (i = 0; i < a->nstrs; i++) {
		if (a->lens[i] == SIZE_MAX) {
			if (spf_is_record(a->strs[i], strlen(a->strs[i]))) {
				spf_why(s, "SPF record of %s too long", domain);
				return SPF_PERMERROR;
			}
			continue;
		}
		if (spf_is_record(a->strs[i], a->lens[i])) {
			rec = a->strs[i];
			reclen = a->lens[i];
			n++;
		}
	}
	if (n == 0) {
		spf_why(s, "no SPF record at %s", domain);
		return SPF_NONE;
	}
	if (n > 1) {
		/* §4.5 */
		spf_why(s, "more than one SPF record at %s", domain);
		return SPF_PERMERROR;
	}
	if (spf_record_parse(rec, reclen, &r, &errstr) == -1) {
		char	why[SPF_REASON_MAX];

		(void)snprintf(why, sizeof(why), "syntax error (%s) in the "
		    "record of", errstr);
		spf_why(s, "%s %s", why, domain);
		return SPF_PERMERROR;
	}
	res = -100;
	for (i = 0; i < r.nterms; i++) {
		const struct spf_term	*t = &r.terms[i];

		if (t->mech >= SPF_M_REDIRECT)
			continue;
		m = spf_mech(s, domain, t, depth);
		if (m == M_NOMATCH)
			continue;
		if (m == M_MATCH) {
			res = (int)t->qual;
			spf_why(s, "matched %.*s in %s", (int)t->textlen,
			    t->text, domain);
		} else
			res = m;
		break;
	}
	if (res == -100 && r.redirect != NULL) {
		/* §6.1: only when no mechanism matched */
		char	target[SPF_DOMAIN_MAX + 1];

		if ((m = spf_count(s, false, domain)) != 0)
			res = m;
		else if ((m = spf_target(s, domain, r.redirect, target,
		    sizeof(target))) == R_NEED)
			res = R_NEED;
		/* cppcheck-suppress knownConditionTrueFalse ; it fails -1 */
		else if (m == -1)
			res = SPF_PERMERROR;
		else {
			res = spf_check_host(s, target, depth + 1, inc);
			if (res == SPF_NONE) {
				spf_why(s, "redirect=%s has no SPF record",
				    target);
				res = SPF_PERMERROR;
			}
		}
		spf_record_free(&r);
		return res;
	}
	if (res == -100) {
		/* §4.7 */
		spf_why(s, "no mechanism matched in %s", domain);
		res = SPF_NEUTRAL;
	}
	if (res == SPF_FAIL && !inc && r.exp != NULL &&
	    spf_explain(s, domain, r.exp) == R_NEED)
		res = R_NEED;
	spf_record_free(&r);
	return res;
}
/* NOLINTEND(misc-no-recursion) */

/* The evaluation */

struct spf *
spf_new(const struct spf_request *req)
{
	struct spf	*s = xcalloc(1, sizeof(*s));
	const char	*sender = req->sender ? req->sender : "";
	const char	*at;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	s->af = req->af;
	memcpy(s->ip, req->ip, spf_iplen(req->af));
	/* §5: an IPv4-mapped IPv6 client is an IPv4 client */
	if (s->af == AF_INET6 && memcmp(s->ip, mapped, 12) == 0) {
		s->af = AF_INET;
		memmove(s->ip, s->ip + 12, 4);
		memset(s->ip + 4, 0, 12);
	}
	(void)str_copy(s->helo, sizeof(s->helo), req->helo ? req->helo : "");
	(void)str_copy(s->rcvhost, sizeof(s->rcvhost),
	    req->rcvhost ? req->rcvhost : "");
	s->now = req->now;
	s->helo_only = sender[0] == '\0';
	/* the null path is the HELO identity already */
	s->check_helo = req->check_helo && !s->helo_only &&
	    req->domain == NULL && spf_domain_ok(s->helo);
	/* §2.4: the null path is checked as postmaster@HELO */
	if (sender[0] == '\0') {
		(void)str_copy(s->local, sizeof(s->local), "postmaster");
		(void)str_copy(s->sdomain, sizeof(s->sdomain), s->helo);
	} else if ((at = strrchr(sender, '@')) == NULL) {
		/* a bare domain, as pyspf takes it */
		(void)str_copy(s->local, sizeof(s->local), "postmaster");
		(void)str_copy(s->sdomain, sizeof(s->sdomain), sender);
	} else {
		size_t	ll = (size_t)(at - sender);

		if (ll >= sizeof(s->local))
			ll = sizeof(s->local) - 1;
		memcpy(s->local, sender, ll);
		s->local[ll] = '\0';
		/* §4.3: no local-part is "postmaster" */
		if (ll == 0)
			(void)str_copy(s->local, sizeof(s->local),
			    "postmaster");
		(void)str_copy(s->sdomain, sizeof(s->sdomain), at + 1);
	}
	if (snprintf(s->sender, sizeof(s->sender), "%s@%s", s->local,
	    s->sdomain) >= (int)sizeof(s->sender))
		s->sender[0] = '\0';
	(void)str_copy(s->domain, sizeof(s->domain),
	    req->domain ? req->domain : s->sdomain);
	return s;
}

void
spf_free(struct spf *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nans; i++)
		spf_ans_clear(&s->ans[i]);
	free(s);
}

/*
 * One check_host() of domain with the identity's %{s} %{l} %{o}: a
 * result or R_NEED.
 */
static int
spf_run(struct spf *s, const char *domain)
{
	s->nterms_dns = 0;
	s->nvoid = 0;
	s->overflow = false;
	s->reason[0] = '\0';
	s->explain[0] = '\0';
	return spf_check_host(s, domain, 0, false);
}

enum spf_step
spf_eval(struct spf *s, const char **qname, enum dns_type *qtype)
{
	char	 sender[sizeof(s->sender)], local[sizeof(s->local)];
	char	 sdomain[sizeof(s->sdomain)];
	int	 r = R_NEED;

	if (s->done)
		return SPF_STEP_DONE;
	if (s->check_helo && !s->helo_done) {
		/*
		 * §2.3: HELO first, as postmaster@HELO; a fail there is
		 * the answer, anything else goes on to MAIL FROM.
		 */
		memcpy(sender, s->sender, sizeof(sender));
		memcpy(local, s->local, sizeof(local));
		memcpy(sdomain, s->sdomain, sizeof(sdomain));
		(void)str_copy(s->local, sizeof(s->local), "postmaster");
		(void)str_copy(s->sdomain, sizeof(s->sdomain), s->helo);
		if (snprintf(s->sender, sizeof(s->sender), "postmaster@%s",
		    s->helo) >= (int)sizeof(s->sender))
			s->sender[0] = '\0';
		r = spf_run(s, s->helo);
		memcpy(s->sender, sender, sizeof(sender));
		memcpy(s->local, local, sizeof(local));
		memcpy(s->sdomain, sdomain, sizeof(sdomain));
		if (r == SPF_FAIL)
			s->is_helo = true;
		else if (r != R_NEED || s->overflow)
			s->helo_done = true;
	}
	if (!s->check_helo || (s->helo_done && !s->is_helo))
		r = spf_run(s, s->domain);
	if (r == R_NEED && !s->overflow) {
		*qname = s->qname;
		*qtype = s->qtype;
		return SPF_STEP_QUERY;
	}
	if (r == R_NEED) {
		(void)str_copy(s->reason, sizeof(s->reason),
		    "too many DNS queries");
		r = SPF_PERMERROR;
	}
	if (r != SPF_FAIL)
		s->explain[0] = '\0';
	s->result = (enum spf_result)r;
	s->done = true;
	return SPF_STEP_DONE;
}

enum spf_result
spf_result(const struct spf *s)
{
	return s->result;
}

const char *
spf_reason(const struct spf *s)
{
	return s->reason;
}

const char *
spf_explanation(const struct spf *s)
{
	return s->explain;
}

const char *
spf_domain(const struct spf *s)
{
	return s->is_helo ? s->helo : s->domain;
}

const char *
spf_identity(const struct spf *s)
{
	return s->is_helo || s->helo_only ? "helo" : "mailfrom";
}

size_t
spf_queries(const struct spf *s)
{
	return s->nans;
}
