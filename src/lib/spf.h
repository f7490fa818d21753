/*
 * spf: the Sender Policy Framework (RFC 7208).  The results (§2.6) are
 * shared with every module; the evaluator below is pure: record and
 * macro parser and check_host() (§4) over an abstract, asynchronous DNS.
 * The caller (lookup_spf.c, the unit tests) owns the resolver:
 *
 *	s = spf_new(&req);
 *	while (spf_eval(s, &qname, &qtype) == SPF_STEP_QUERY)
 *		... ask DNS, later: spf_answer(s, qtype, qname, status, rrs, n);
 *	spf_result(s), spf_reason(s), spf_explanation(s)
 *
 * spf_eval() runs check_host() from the start over the answers it has
 * (kept in the evaluation, keyed by name and type) and stops at the
 * first one it lacks.  Replaying is cheap and keeps the evaluator a
 * plain recursive function; what bounds the work is the number of
 * distinct queries (SPF_QUERIES_MAX) besides the RFC's own limits (10
 * DNS terms, 2 void lookups, 10 MX and PTR names, §4.6.4).  The caller
 * bounds the wall time (lookup_spf.c: SPF_TIME_MAX_SEC, then temperror).
 *
 * Domain names handed out for queries are the raw octets of the
 * expanded domain-spec (§7.3: a macro may put any octet of a local-part
 * there), at most 253 of them, never empty labels; lookup_spf.c writes
 * them for dns.c with RFC 1035 §5.1 escapes.
 */
#ifndef CACHET_SPF_H
#define CACHET_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dns.h"

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};
#define SPF_RESULT_COUNT	7

/* "none", "neutral", "pass", ... as RFC 7208 §2.6 and RFC 8601 name them. */
const char	*spf_result_name(enum spf_result);

/* §4.6.4: terms that query DNS (include a mx ptr exists redirect) */
#define SPF_TERMS_DNS_MAX	10
#define SPF_VOID_MAX		2	/* §4.6.4: void lookups */
#define SPF_NAMES_MAX		10	/* §4.6.4: MX and PTR names used */
#define SPF_QUERIES_MAX		160	/* distinct queries of one evaluation */
#define SPF_RECORD_MAX		4096	/* one TXT record kept (octets) */
#define SPF_ADDRS_MAX		128	/* addresses kept from one answer */
#define SPF_EXPAND_MAX		2048	/* one macro expansion (§7.3) */
#define SPF_EXPLAIN_MAX		512	/* explanation kept */
#define SPF_REASON_MAX		200
#define SPF_DOMAIN_MAX		253	/* §4.3, after macro expansion */

struct spf_request {
	int		 af;		/* AF_INET or AF_INET6 */
	uint8_t		 ip[16];	/* 4 or 16 octets; mapped v4 is v4 */
	const char	*helo;		/* as the client gave it */
	/* MAIL FROM without brackets; "" for the null path (§2.4) */
	const char	*sender;
	/* domain to check: sender's domain, or helo; NULL: derived */
	const char	*domain;
	const char	*rcvhost;	/* %{r}, our host name */
	time_t		 now;		/* %{t} */
	/*
	 * Check the HELO identity first (§2.3) when it is a domain: its
	 * fail is the result (identity "helo"), anything else goes on to
	 * MAIL FROM.  Off: check_host() of the one identity, as the
	 * OpenSPF suites define it.
	 */
	bool		 check_helo;
};

enum spf_step {
	SPF_STEP_DONE,
	SPF_STEP_QUERY,
};

struct spf;

/* A new evaluation of check_host() for req (strings copied, bounded). */
struct spf	*spf_new(const struct spf_request *);
void		 spf_free(struct spf *);

/*
 * Run check_host() as far as the answers go.  SPF_STEP_QUERY: *qname
 * (valid until the next call) and *qtype are a query to ask and answer
 * with spf_answer() before the next spf_eval(); SPF_STEP_DONE: the
 * result is in.
 */
enum spf_step	 spf_eval(struct spf *, const char **qname,
		    enum dns_type *qtype);

/*
 * The answer to a query (TXT, A, AAAA, MX or PTR records in rrs[0..n)
 * when status is DNS_OK).  Records beyond the kept bounds are dropped
 * (TXT over SPF_RECORD_MAX is kept as too long: permerror if it is an
 * SPF record).
 */
void		 spf_answer(struct spf *, enum dns_type, const char *qname,
		    enum dns_status, const struct dns_rr *rrs, size_t n);

/* After SPF_STEP_DONE. */
enum spf_result	 spf_result(const struct spf *);
/* Printable reason ("matched ip4:192.0.2.0/24 in example.org", ...). */
const char	*spf_reason(const struct spf *);
/* The explanation for a fail (§6.2, printable), "" otherwise. */
const char	*spf_explanation(const struct spf *);
/* The domain whose result it is. */
const char	*spf_domain(const struct spf *);
/* "mailfrom", or "helo" (null path, or a HELO fail with check_helo). */
const char	*spf_identity(const struct spf *);
/* Queries asked so far (the figure for logs). */
size_t		 spf_queries(const struct spf *);

/*
 * The parts, exposed for tests and the fuzzers.
 * spf_record_check: 0 when rec[0..len) is a syntactically valid SPF
 * record (§4.6.1, §12), else -1 with *errstr.
 * spf_macro_expand: expand macro-string in[0..len) for s (its current
 * domain: req's), into out (size outsz), exp true for the explanation
 * letters c r t; 0, -1 with *errstr on a syntax error, 1 when a %{p}
 * needs DNS answers not yet in (not from the fuzzers' spf_new()).
 */
int		 spf_record_check(const char *rec, size_t len,
		    const char **errstr);
int		 spf_macro_expand(struct spf *, const char *in, size_t len,
		    bool exp, char *out, size_t outsz, const char **errstr);

#endif
