/*
 * lookup_dnsrec: `cachetctl dns` and `cachetctl dns check` in the lookup
 * role (lookup_dnsrec.h).  The request comes from the parent (trusted
 * framing, the operator's words); the check's answers come from the
 * resolver, and go through dns.c's parsers and dnsrec_compare(), both
 * bounded.  A check runs every query at once, then those that need the
 * first answers (the addresses of hostname: their PTR records, and the
 * A/AAAA of a name that is not a CNAME); a timer ends it after
 * LOOKUP_DNSREC_DEADLINE_S whatever is still in flight.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "buf.h"
#include "dns.h"
#include "dnsrec.h"
#include "http_policy.h"
#include "log.h"
#include "lookup/dkimkey.h"
#include "lookup/lookup_acme.h"
#include "lookup/lookup_dkimsign.h"
#include "lookup/lookup_dnsrec.h"
#include "lookup/lookup_tls.h"
#include "util.h"

#define LOOKUP_DNSREC_DEADLINE_S	25	/* a whole check: under 30 s */
#define LOOKUP_DNSREC_CHECKS_MAX	4	/* checks in flight */
#define LOOKUP_DNSREC_ADDRS_MAX		8	/* of hostname, per family */
#define LOOKUP_DNSREC_ZONE_MAX		(DNSREC_MAX * (DNSREC_VALUE_MAX + \
	DNS_NAME_MAX + 32))
#define LOOKUP_DNSREC_FOUND_MAX		8192	/* found: text of one record */
/* each record, hostname's A and AAAA, two more per CNAME, the PTRs */
#define LOOKUP_DNSREC_QUERIES		(DNSREC_MAX * 3 + 2 + \
	2 * LOOKUP_DNSREC_ADDRS_MAX)

enum lookup_dnsrec_qkind {
	LOOKUP_DNSREC_Q_REC,	/* a record of ours, idx: its index */
	LOOKUP_DNSREC_Q_HOST,	/* A or AAAA of hostname */
	LOOKUP_DNSREC_Q_ALT,	/* A or AAAA of a name that is no CNAME */
	LOOKUP_DNSREC_Q_PTR,	/* idx: the address, A ones first */
};

struct lookup_dnsrec_check;

struct lookup_dnsrec_q {
	struct lookup_dnsrec_check	*c;
	enum lookup_dnsrec_qkind	 kind;
	enum dns_type			 type;
	size_t				 idx;
	struct dns_query		*q;	/* NULL: answered or none */
};

/* The addresses of a name, both families. */
struct lookup_dnsrec_addrs {
	struct in_addr	a[LOOKUP_DNSREC_ADDRS_MAX];
	size_t		na;
	struct in6_addr	aaaa[LOOKUP_DNSREC_ADDRS_MAX];
	size_t		naaaa;
	size_t		more;		/* beyond the arrays: not kept */
	bool		tempfail;
	char		why[DNS_WHY_MAX];
};

struct lookup_dnsrec_item {
	enum dnsrec_state	 state;
	bool			 done;
	bool			 alt;	/* a CNAME name holding A/AAAA */
	size_t			 alt_wait;	/* its A/AAAA queries out */
	struct lookup_dnsrec_addrs alt_addrs;
	char			*found;	/* NULL: nothing to say */
};

struct lookup_dnsrec_check {
	TAILQ_ENTRY(lookup_dnsrec_check) entry;
	struct lookup_dnsrec	*ld;
	uint64_t		 reqid;
	struct dnsrec		*recs;
	size_t			 nrecs;
	struct lookup_dnsrec_item items[DNSREC_MAX];
	struct lookup_dnsrec_addrs host;
	size_t			 host_wait;	/* A, AAAA of hostname out */
	enum dnsrec_state	 ptr_state[2 * LOOKUP_DNSREC_ADDRS_MAX];
	char			*ptr_found[2 * LOOKUP_DNSREC_ADDRS_MAX];
	bool			 ptr_done[2 * LOOKUP_DNSREC_ADDRS_MAX];
	struct lookup_dnsrec_q	 qs[LOOKUP_DNSREC_QUERIES];
	size_t			 nqs;
	size_t			 pending;
	struct event		*deadline;
};

TAILQ_HEAD(lookup_dnsrec_checks, lookup_dnsrec_check);

struct lookup_dnsrec {
	struct proc_self		*self;
	const struct conf		*conf;
	struct dns			*dns;
	struct lookup_dkimsign		*dkimsign;
	struct lookup_tls		*tls;
	struct lookup_acme		*acme;
	struct lookup_dnsrec_checks	 checks;
	size_t				 nchecks;
};

/* What the records of a domain are made of, with room for the texts. */
struct lookup_dnsrec_input {
	struct dnsrec_in	in;
	char			sts_id[HTTP_POLICY_ID_LEN + 1];
	char			dkim[DNSREC_DKIM_MAX][DNSREC_VALUE_MAX + 1];
};

struct lookup_dnsrec *
lookup_dnsrec_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns, struct lookup_dkimsign *dkimsign,
    struct lookup_tls *tls, struct lookup_acme *acme)
{
	struct lookup_dnsrec	*ld;

	ld = xcalloc(1, sizeof(*ld));
	ld->self = self;
	ld->conf = conf;
	ld->dns = dns;
	ld->dkimsign = dkimsign;
	ld->tls = tls;
	ld->acme = acme;
	TAILQ_INIT(&ld->checks);
	return ld;
}

/* domain's inputs: its keys, the policy's id, our key and the next. */
static void
lookup_dnsrec_input(struct lookup_dnsrec *ld, const char *domain,
    struct lookup_dnsrec_input *li)
{
	const struct dkimkey	*keys[DNSREC_DKIM_MAX];
	struct dnsrec_in	*in = &li->in;
	struct buf		 policy;
	size_t			 i, n;

	memset(li, 0, sizeof(*li));
	in->conf = ld->conf;
	in->domain = domain;
	if (ld->conf->sts_policy.set) {
		/* the text the http role serves, so the id it serves */
		buf_init(&policy, HTTP_POLICY_MAX);
		if (http_policy_text(&ld->conf->sts_policy, &policy) == -1)
			fatalx("lookup: MTA-STS policy longer than %d octets",
			    HTTP_POLICY_MAX);
		http_policy_id(policy.data, policy.len, li->sts_id);
		buf_free(&policy);
		in->sts_id = li->sts_id;
	}
	n = ld->dkimsign != NULL ? lookup_dkimsign_published(ld->dkimsign,
	    domain, keys, DNSREC_DKIM_MAX) : 0;
	for (i = 0; i < n; i++) {
		if (str_copy(in->dkim[in->ndkim].selector,
		    sizeof(in->dkim[in->ndkim].selector),
		    keys[i]->selector) == -1 ||
		    dkimkey_record(keys[i], li->dkim[in->ndkim],
		    sizeof(li->dkim[in->ndkim])) == -1)
			continue;
		in->dkim[in->ndkim].txt = li->dkim[in->ndkim];
		in->ndkim++;
	}
	if (lookup_tls_spki_sha256(ld->tls, in->tlsa[0]) == 0)
		in->ntlsa = 1;
	if (lookup_acme_next_spki(ld->acme, in->tlsa[in->ntlsa]) == 0 &&
	    (in->ntlsa == 0 || memcmp(in->tlsa[0], in->tlsa[1],
	    sizeof(in->tlsa[0])) != 0))
		in->ntlsa++;
}

/* Lines of text, each sent as one ctl line. */
static void
lookup_dnsrec_lines(struct lookup_dnsrec *ld, uint64_t reqid,
    const struct buf *b)
{
	const char	*p, *nl;
	char		*line;

	if (b->data == NULL)
		return;
	for (p = b->data; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		line = xstrndup(p, (size_t)(nl - p));
		proc_ctl_line(ld->self, reqid, line);
		free(line);
	}
}

/* `dns DOMAIN` */
static void
lookup_dnsrec_print(struct lookup_dnsrec *ld, uint64_t reqid,
    const char *domain)
{
	struct lookup_dnsrec_input	*li;
	struct dnsrec			*recs;
	struct buf			 out;
	size_t				 n;

	li = xmalloc(sizeof(*li));
	recs = xcalloc(DNSREC_MAX, sizeof(*recs));
	lookup_dnsrec_input(ld, domain, li);
	buf_init(&out, LOOKUP_DNSREC_ZONE_MAX);
	if (dnsrec_build(&li->in, recs, DNSREC_MAX, &n) == -1 ||
	    dnsrec_zone(recs, n, &out) == -1 ||
	    dnsrec_notes(&li->in, &out) == -1) {
		proc_ctl_end(ld->self, reqid, 1, "the records do not fit "
		    "(a name too long?)");
		goto done;
	}
	lookup_dnsrec_lines(ld, reqid, &out);
	proc_ctl_end(ld->self, reqid, 0, NULL);
done:
	buf_free(&out);
	free(recs);
	free(li);
}

/* --- dns check --- */

static void	lookup_dnsrec_answer(void *, const struct dns_result *);
static void	lookup_dnsrec_refused(struct lookup_dnsrec_q *, const char *);

static void
lookup_dnsrec_ask(struct lookup_dnsrec_check *c, const char *name,
    enum dns_type type, enum lookup_dnsrec_qkind kind, size_t idx)
{
	struct lookup_dnsrec_q	*q;
	const char		*err = NULL;

	if (c->nqs == LOOKUP_DNSREC_QUERIES)
		fatalx("lookup: dns check: more queries than counted");
	q = &c->qs[c->nqs++];
	q->c = c;
	q->kind = kind;
	q->type = type;
	q->idx = idx;
	if ((q->q = dns_query(c->ld->dns, name, type, lookup_dnsrec_answer,
	    q, &err)) == NULL) {
		lookup_dnsrec_refused(q, err);
		return;
	}
	c->pending++;
}

/* "(no answer: why)" or "" for a result that is not a failure. */
static char *
lookup_dnsrec_tempfail(const struct dns_result *res)
{
	char	text[DNS_WHY_MAX + 32];

	(void)snprintf(text, sizeof(text), "(no answer: %s)",
	    res->why[0] != '\0' ? res->why : "temporary failure");
	return xstrdup(text);
}

static void
lookup_dnsrec_addrs_add(struct lookup_dnsrec_addrs *a,
    const struct dns_result *res)
{
	size_t	i;

	if (res->status == DNS_TEMPFAIL) {
		a->tempfail = true;
		(void)str_copy(a->why, sizeof(a->why), res->why);
		return;
	}
	if (res->status != DNS_OK)
		return;
	for (i = 0; i < res->nrrs; i++) {
		if (res->rrs[i].type == DNS_T_A &&
		    a->na < LOOKUP_DNSREC_ADDRS_MAX)
			a->a[a->na++] = res->rrs[i].u.a;
		else if (res->rrs[i].type == DNS_T_AAAA &&
		    a->naaaa < LOOKUP_DNSREC_ADDRS_MAX)
			a->aaaa[a->naaaa++] = res->rrs[i].u.aaaa;
		else
			a->more++;
	}
}

static bool
lookup_dnsrec_has(const struct lookup_dnsrec_addrs *set, int af,
    const void *addr)
{
	size_t	i;

	if (af == AF_INET) {
		for (i = 0; i < set->na; i++)
			if (memcmp(&set->a[i], addr, sizeof(set->a[i])) == 0)
				return true;
		return false;
	}
	for (i = 0; i < set->naaaa; i++)
		if (memcmp(&set->aaaa[i], addr, sizeof(set->aaaa[i])) == 0)
			return true;
	return false;
}

/* A name that is no CNAME: present when it has hostname's addresses. */
static void
lookup_dnsrec_alt_done(struct lookup_dnsrec_check *c,
    struct lookup_dnsrec_item *it)
{
	const struct lookup_dnsrec_addrs *a = &it->alt_addrs;
	struct buf	 found;
	char		 text[INET6_ADDRSTRLEN];
	size_t		 i;
	bool		 same = true;

	it->done = true;
	if (a->na + a->naaaa == 0) {
		it->state = DNSREC_MISSING;
		return;
	}
	buf_init(&found, LOOKUP_DNSREC_FOUND_MAX);
	for (i = 0; i < a->na; i++) {
		same = same && lookup_dnsrec_has(&c->host, AF_INET, &a->a[i]);
		(void)buf_printf(&found, "%sA %s", found.len > 0 ? "; " : "",
		    inet_ntop(AF_INET, &a->a[i], text, sizeof(text)));
	}
	for (i = 0; i < a->naaaa; i++) {
		same = same && lookup_dnsrec_has(&c->host, AF_INET6,
		    &a->aaaa[i]);
		(void)buf_printf(&found, "%sAAAA %s", found.len > 0 ? "; " :
		    "", inet_ntop(AF_INET6, &a->aaaa[i], text, sizeof(text)));
	}
	it->state = same && a->more == 0 ? DNSREC_PRESENT : DNSREC_DIFFERENT;
	if (it->state == DNSREC_DIFFERENT)
		it->found = xstrdup(found.data);
	buf_free(&found);
}

/* The A and AAAA of a name that holds no CNAME (hostname's are known). */
static void
lookup_dnsrec_alt(struct lookup_dnsrec_check *c, size_t idx)
{
	char	name[DNS_NAME_MAX + 2];

	c->items[idx].alt_wait = 2;
	(void)str_copy(name, sizeof(name), c->recs[idx].name);
	lookup_dnsrec_ask(c, name, DNS_T_A, LOOKUP_DNSREC_Q_ALT, idx);
	lookup_dnsrec_ask(c, name, DNS_T_AAAA, LOOKUP_DNSREC_Q_ALT, idx);
}

/* hostname's addresses are known: their PTRs, the names that wait. */
static void
lookup_dnsrec_second(struct lookup_dnsrec_check *c)
{
	char	name[DNS_NAME_MAX + 1];
	size_t	i;

	for (i = 0; i < c->nrecs; i++)
		if (c->items[i].alt && !c->items[i].done)
			lookup_dnsrec_alt(c, i);
	for (i = 0; i < c->host.na; i++)
		if (dnsrec_ptr_name(AF_INET, &c->host.a[i], name,
		    sizeof(name)) == 0)
			lookup_dnsrec_ask(c, name, DNS_T_PTR,
			    LOOKUP_DNSREC_Q_PTR, i);
	for (i = 0; i < c->host.naaaa; i++)
		if (dnsrec_ptr_name(AF_INET6, &c->host.aaaa[i], name,
		    sizeof(name)) == 0)
			lookup_dnsrec_ask(c, name, DNS_T_PTR,
			    LOOKUP_DNSREC_Q_PTR, LOOKUP_DNSREC_ADDRS_MAX + i);
}

static void
lookup_dnsrec_rec(struct lookup_dnsrec_check *c, size_t idx,
    const struct dns_result *res)
{
	struct lookup_dnsrec_item	*it = &c->items[idx];
	struct buf			 found;

	if (res->status == DNS_TEMPFAIL) {
		it->state = DNSREC_MISSING;
		it->found = lookup_dnsrec_tempfail(res);
		it->done = true;
		return;
	}
	/*
	 * A name we would point at hostname with a CNAME may hold its
	 * addresses instead: the name exists, without a CNAME (NODATA).
	 */
	if (c->recs[idx].type == DNSREC_CNAME && res->status == DNS_NODATA) {
		it->alt = true;
		if (c->host_wait == 0)
			lookup_dnsrec_alt(c, idx);
		return;
	}
	buf_init(&found, LOOKUP_DNSREC_FOUND_MAX);
	it->state = dnsrec_compare(&c->recs[idx], res->rrs,
	    res->status == DNS_OK ? res->nrrs : 0, &found);
	if (it->state == DNSREC_DIFFERENT && found.data != NULL)
		it->found = xstrdup(found.data);
	buf_free(&found);
	it->done = true;
}

static void
lookup_dnsrec_ptr(struct lookup_dnsrec_check *c, size_t idx,
    const struct dns_result *res)
{
	const char	*h = c->ld->conf->hostname;
	struct buf	 found;
	char		 show[DNS_NAME_MAX + 4];
	size_t		 i;
	bool		 same = false;

	c->ptr_done[idx] = true;
	if (res->status == DNS_TEMPFAIL) {
		c->ptr_state[idx] = DNSREC_MISSING;
		c->ptr_found[idx] = lookup_dnsrec_tempfail(res);
		return;
	}
	if (res->status != DNS_OK) {
		c->ptr_state[idx] = DNSREC_MISSING;
		return;
	}
	buf_init(&found, LOOKUP_DNSREC_FOUND_MAX);
	for (i = 0; i < res->nrrs; i++) {
		if (res->rrs[i].type != DNS_T_PTR)
			continue;
		if (strcasecmp(res->rrs[i].u.ptr.name, h) == 0)
			same = true;
		(void)buf_printf(&found, "%s%s.", found.len > 0 ? "; " : "",
		    printable(res->rrs[i].u.ptr.name,
		    strlen(res->rrs[i].u.ptr.name), show, sizeof(show)));
	}
	/* RFC 1912 §2.1: one PTR, hostname's, is what receivers check */
	c->ptr_state[idx] = same ? DNSREC_PRESENT : DNSREC_DIFFERENT;
	if (!same && found.data != NULL)
		c->ptr_found[idx] = xstrdup(found.data);
	buf_free(&found);
}

static void
lookup_dnsrec_line(struct lookup_dnsrec_check *c, enum dnsrec_state st,
    const char *name, const char *type, const char *found, size_t *bad)
{
	struct buf	line;

	if (st != DNSREC_PRESENT)
		(*bad)++;
	buf_init(&line, LOOKUP_DNSREC_FOUND_MAX + DNS_NAME_MAX + 64);
	(void)buf_printf(&line, "%s %s %s", dnsrec_state_name(st), name,
	    type);
	if (found != NULL && found[0] == '(')
		(void)buf_printf(&line, " %s", found);
	else if (found != NULL)
		(void)buf_printf(&line, " found: %s", found);
	proc_ctl_line(c->ld->self, c->reqid, line.data);
	buf_free(&line);
}

static void
lookup_dnsrec_check_free(struct lookup_dnsrec_check *c)
{
	size_t	i;

	for (i = 0; i < c->nqs; i++)
		if (c->qs[i].q != NULL)
			dns_cancel(c->qs[i].q);
	for (i = 0; i < DNSREC_MAX; i++)
		free(c->items[i].found);
	for (i = 0; i < 2 * LOOKUP_DNSREC_ADDRS_MAX; i++)
		free(c->ptr_found[i]);
	if (c->deadline != NULL)
		event_free(c->deadline);
	TAILQ_REMOVE(&c->ld->checks, c, entry);
	c->ld->nchecks--;
	free(c->recs);
	free(c);
}

/* Every answer is in, or the time is up: the report. */
static void
lookup_dnsrec_report(struct lookup_dnsrec_check *c)
{
	const char	*h = c->ld->conf->hostname;
	char		 name[CONF_NAME_MAX + 2], ptr[DNS_NAME_MAX + 1];
	char		 err[64];
	const char	*type;
	size_t		 i, bad = 0, all = 0;

	for (i = 0; i < c->nrecs; i++, all++) {
		type = dnsrec_type_name(c->recs[i].type);
		if (c->items[i].alt && c->items[i].done)
			type = "A/AAAA";
		lookup_dnsrec_line(c, c->items[i].done ? c->items[i].state :
		    DNSREC_MISSING, c->recs[i].name, type, c->items[i].done ?
		    c->items[i].found : "(no answer in time)", &bad);
	}
	(void)snprintf(name, sizeof(name), "%s.", h);
	if (c->host.na > 0)
		lookup_dnsrec_line(c, DNSREC_PRESENT, name, "A", NULL, &bad);
	if (c->host.naaaa > 0)
		lookup_dnsrec_line(c, DNSREC_PRESENT, name, "AAAA", NULL,
		    &bad);
	if (c->host.na + c->host.naaaa == 0)
		lookup_dnsrec_line(c, DNSREC_MISSING, name, "A/AAAA",
		    c->host_wait > 0 ? "(no answer in time)" :
		    c->host.tempfail ? "(no answer)" : NULL, &bad);
	all++;
	for (i = 0; i < 2 * LOOKUP_DNSREC_ADDRS_MAX; i++) {
		bool v4 = i < LOOKUP_DNSREC_ADDRS_MAX;
		size_t k = v4 ? i : i - LOOKUP_DNSREC_ADDRS_MAX;

		if (k >= (v4 ? c->host.na : c->host.naaaa) ||
		    dnsrec_ptr_name(v4 ? AF_INET : AF_INET6, v4 ?
		    (const void *)&c->host.a[k] : (const void *)&c->host.aaaa[k],
		    ptr, sizeof(ptr)) == -1)
			continue;
		(void)snprintf(name, sizeof(name), "%s.", ptr);
		all++;
		lookup_dnsrec_line(c, c->ptr_done[i] ? c->ptr_state[i] :
		    DNSREC_MISSING, name, "PTR", c->ptr_done[i] ?
		    c->ptr_found[i] : "(no answer in time)", &bad);
	}
	if (bad == 0)
		proc_ctl_end(c->ld->self, c->reqid, 0, NULL);
	else {
		(void)snprintf(err, sizeof(err), "%zu of %zu records are not "
		    "as they should be", bad, all);
		proc_ctl_end(c->ld->self, c->reqid, 1, err);
	}
	lookup_dnsrec_check_free(c);
}

static void
lookup_dnsrec_answer(void *arg, const struct dns_result *res)
{
	struct lookup_dnsrec_q		*q = arg;
	struct lookup_dnsrec_check	*c = q->c;
	struct lookup_dnsrec_item	*it;

	/*
	 * This answer stays counted in pending until its end, so that the
	 * queries the steps below ask (or that are refused at once) cannot
	 * end the check and free it under our feet.
	 */
	q->q = NULL;
	switch (q->kind) {
	case LOOKUP_DNSREC_Q_REC:
		lookup_dnsrec_rec(c, q->idx, res);
		break;
	case LOOKUP_DNSREC_Q_HOST:
		lookup_dnsrec_addrs_add(&c->host, res);
		if (--c->host_wait == 0)
			lookup_dnsrec_second(c);
		break;
	case LOOKUP_DNSREC_Q_ALT:
		it = &c->items[q->idx];
		lookup_dnsrec_addrs_add(&it->alt_addrs, res);
		if (--it->alt_wait == 0)
			lookup_dnsrec_alt_done(c, it);
		break;
	case LOOKUP_DNSREC_Q_PTR:
		lookup_dnsrec_ptr(c, q->idx, res);
		break;
	}
	if (--c->pending == 0)
		lookup_dnsrec_report(c);
}

/*
 * A query dns_query() refused (a name it will not send, libunbound
 * failing): recorded as an answer that did not come, without moving the
 * check on, since that is the caller's (no query is asked from here).
 */
static void
lookup_dnsrec_refused(struct lookup_dnsrec_q *q, const char *err)
{
	struct lookup_dnsrec_check	*c = q->c;
	struct lookup_dnsrec_item	*it;
	struct dns_result		 res;

	memset(&res, 0, sizeof(res));
	res.status = DNS_TEMPFAIL;
	res.type = q->type;
	res.rcode = -1;
	(void)snprintf(res.why, sizeof(res.why), "%s", err);
	switch (q->kind) {
	case LOOKUP_DNSREC_Q_REC:
		it = &c->items[q->idx];
		it->state = DNSREC_MISSING;
		it->found = lookup_dnsrec_tempfail(&res);
		it->done = true;
		break;
	case LOOKUP_DNSREC_Q_HOST:
		lookup_dnsrec_addrs_add(&c->host, &res);
		c->host_wait--;
		break;
	case LOOKUP_DNSREC_Q_ALT:
		it = &c->items[q->idx];
		lookup_dnsrec_addrs_add(&it->alt_addrs, &res);
		if (--it->alt_wait == 0)
			lookup_dnsrec_alt_done(c, it);
		break;
	case LOOKUP_DNSREC_Q_PTR:
		lookup_dnsrec_ptr(c, q->idx, &res);
		break;
	}
}

static void
lookup_dnsrec_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct lookup_dnsrec_check	*c = arg;

	log_info("event=dns-check reqid=%llu result=timeout pending=%zu",
	    (unsigned long long)c->reqid, c->pending);
	lookup_dnsrec_report(c);
}

/* `dns check DOMAIN` */
static void
lookup_dnsrec_check(struct lookup_dnsrec *ld, uint64_t reqid,
    const char *domain)
{
	struct lookup_dnsrec_input	*li;
	struct lookup_dnsrec_check	*c;
	struct timeval			 tv = { LOOKUP_DNSREC_DEADLINE_S, 0 };
	char				 name[DNS_NAME_MAX + 2];
	size_t				 i;

	if (ld->dns == NULL) {
		proc_ctl_end(ld->self, reqid, 1, "no resolver");
		return;
	}
	if (ld->nchecks == LOOKUP_DNSREC_CHECKS_MAX) {
		proc_ctl_end(ld->self, reqid, 1, "too many checks running; "
		    "try again");
		return;
	}
	li = xmalloc(sizeof(*li));
	lookup_dnsrec_input(ld, domain, li);
	c = xcalloc(1, sizeof(*c));
	c->ld = ld;
	c->reqid = reqid;
	c->recs = xcalloc(DNSREC_MAX, sizeof(*c->recs));
	if (dnsrec_build(&li->in, c->recs, DNSREC_MAX, &c->nrecs) == -1) {
		free(li);
		free(c->recs);
		free(c);
		proc_ctl_end(ld->self, reqid, 1, "the records do not fit "
		    "(a name too long?)");
		return;
	}
	free(li);
	TAILQ_INSERT_TAIL(&ld->checks, c, entry);
	ld->nchecks++;
	if ((c->deadline = evtimer_new(ld->self->base, lookup_dnsrec_deadline,
	    c)) == NULL)
		fatalx("lookup: evtimer_new");
	evtimer_add(c->deadline, &tv);
	/*
	 * One more in pending until every query is out, so that the
	 * report cannot come first.
	 */
	c->pending++;
	c->host_wait = 2;
	(void)str_copy(name, sizeof(name), ld->conf->hostname);
	lookup_dnsrec_ask(c, name, DNS_T_A, LOOKUP_DNSREC_Q_HOST, 0);
	lookup_dnsrec_ask(c, name, DNS_T_AAAA, LOOKUP_DNSREC_Q_HOST, 0);
	if (c->host_wait == 0)
		lookup_dnsrec_second(c);	/* both refused */
	for (i = 0; i < c->nrecs; i++)
		lookup_dnsrec_ask(c, c->recs[i].name,
		    dnsrec_dns_type(c->recs[i].type), LOOKUP_DNSREC_Q_REC, i);
	if (--c->pending == 0)
		lookup_dnsrec_report(c);
}

/* A domain as given: lower case, one trailing dot dropped. */
static int
lookup_dnsrec_domain(const char *in, char *out, size_t outsz)
{
	size_t	i, len = strlen(in);

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len >= outsz)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
	return dns_hostname_ok(out, len) ? 0 : -1;
}

#define LOOKUP_DNSREC_USAGE	"usage: dns DOMAIN, dns check DOMAIN"

void
lookup_dnsrec_ctl(struct lookup_dnsrec *ld, uint64_t reqid, size_t argc,
    char **argv, bool (*ours)(const char *, void *), void *arg)
{
	char	domain[DNS_NAME_MAX + 1];
	bool	check = argc == 3 && strcmp(argv[1], "check") == 0;

	/* "dns check" alone is a check without its domain */
	if ((argc != 2 && !check) || (argc == 2 &&
	    strcmp(argv[1], "check") == 0) ||
	    lookup_dnsrec_domain(argv[argc - 1], domain,
	    sizeof(domain)) == -1) {
		proc_ctl_end(ld->self, reqid, 2, LOOKUP_DNSREC_USAGE);
		return;
	}
	if (!ours(domain, arg)) {
		proc_ctl_end(ld->self, reqid, 1, "not one of our domains");
		return;
	}
	if (check)
		lookup_dnsrec_check(ld, reqid, domain);
	else
		lookup_dnsrec_print(ld, reqid, domain);
}

void
lookup_dnsrec_free(struct lookup_dnsrec *ld)
{
	if (ld == NULL)
		return;
	while (!TAILQ_EMPTY(&ld->checks))
		lookup_dnsrec_check_free(TAILQ_FIRST(&ld->checks));
	free(ld);
}
