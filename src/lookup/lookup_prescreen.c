/*
 * lookup_prescreen: see lookup_prescreen.h.  Run by the lookup role.
 * One job per question (an smtp worker's MSG_LOOKUP_PRESCREEN or a
 * `cachetctl prescreen check`); its DNS queries go out at once, in
 * parallel, over lookup's resolver, and one timer (`dnsbl-timeout`)
 * bounds the whole job: what has not answered by then is "no answer",
 * logged, and never held against the client.
 *
 * What it trusts: nothing of the question but its shape (the smtp
 * worker may be compromised: every string is bounded and re-checked
 * here), and of the answers only what the rules below allow.  Only a
 * definite answer (NXDOMAIN, or no record of the type) ever costs the
 * client points or a refusal; SERVFAIL and timeouts never do.
 *
 * The lists (RFC 5782): an A answer within the list's `returns` (by
 * default any of 127.0.0.0/8) is a listing; 127.255.255.0/24 are the
 * lists' error codes (logged, not a listing); an address outside
 * 127.0.0.0/8 is logged and ignored.  A refusing list's TXT record is
 * asked for once it lists the client, and repeated in the reply when it
 * is short and printable.  Answers, positive and negative, are kept per
 * list (lib/dnsbl.h) for their TTL within DNSBL_TTL_MIN..MAX.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf.h"
#include "dns.h"
#include "dnsbl.h"
#include "log.h"
#include "lookup_prescreen.h"
#include "msgauth.h"
#include "spam.h"
#include "util.h"

#define PRESCREEN_JOBS_MAX	4096	/* questions in flight */
#define PRESCREEN_PTR_MAX	4	/* PTR names checked forward */
#define PRESCREEN_HELO_MAX	512	/* a HELO argument we read */
#define PRESCREEN_TEXT_MAX	400	/* a refusal's text, RFC 5321
					   §4.5.3.1.5 allows 512 a line */
#define PRESCREEN_Q_MAX		(CONF_DNSBLS_MAX * 2 + 1 + \
				    PRESCREEN_PTR_MAX + 2 + 3)

/*
 * Points of the DNS checks, small: each alone is common in legitimate
 * mail from badly kept servers (the junk line is about 5).
 */
#define PRESCREEN_RDNS_NONE		(1 * SPAM_MILLI)
#define PRESCREEN_RDNS_NOT_CONFIRMED	(SPAM_MILLI / 2)
#define PRESCREEN_HELO_BAD_SYNTAX	(1 * SPAM_MILLI)
#define PRESCREEN_HELO_NO_DNS		(SPAM_MILLI / 2)
#define PRESCREEN_HELO_IP_MISMATCH	(SPAM_MILLI * 3 / 10)
#define PRESCREEN_SENDER_NO_DNS		(2 * SPAM_MILLI)

#define PRESCREEN_DO_CLIENT	(1u << PRESCREEN_CLIENT)
#define PRESCREEN_DO_HELO	(1u << PRESCREEN_HELO)
#define PRESCREEN_DO_SENDER	(1u << PRESCREEN_SENDER)

enum prescreen_qkind {
	PRESCREEN_Q_LIST,	/* A of a dnsbl or dnswl */
	PRESCREEN_Q_TXT,	/* TXT of a refusing dnsbl */
	PRESCREEN_Q_PTR,	/* the client's PTR */
	PRESCREEN_Q_FWD,	/* A or AAAA of a PTR name */
	PRESCREEN_Q_HELO,	/* A and AAAA of the HELO name */
	PRESCREEN_Q_SENDER,	/* MX, A and AAAA of the sender domain */
};

struct prescreen_job;

struct prescreen_q {
	struct prescreen_job	*j;
	struct dns_query	*q;
	enum prescreen_qkind	 kind;
	enum dns_type		 type;
	size_t			 list;		/* LIST, TXT */
	bool			 done;
	enum dns_status		 status;
	bool			 match;		/* FWD, HELO: the client */
	bool			 nullmx;	/* SENDER MX: RFC 7505 */
};

struct prescreen_job {
	TAILQ_ENTRY(prescreen_job) entry;
	struct lookup_prescreen	*p;
	bool			 ctl;
	struct proc_peer	 from;
	uint64_t		 reqid;
	unsigned		 what;		/* PRESCREEN_DO_* */
	char			 ip[MSGAUTH_IP_MAX];
	char			 helo[PRESCREEN_HELO_MAX + 1];
	char			 domain[DNS_NAME_MAX + 1];
	int			 af;
	uint8_t			 addr[16];
	struct prescreen_q	 qs[PRESCREEN_Q_MAX];
	size_t			 nq;
	size_t			 pending;
	struct event		*timer;
	uint64_t		 started;	/* ms */
	/* per list, in conf order: a listing, its answer and TXT */
	bool			 listed[CONF_DNSBLS_MAX];
	uint32_t		 answer[CONF_DNSBLS_MAX];
	char			 txt[CONF_DNSBLS_MAX][DNSBL_TXT_MAX + 1];
	bool			 ptr_unusable;	/* no PTR name to ask */
	struct spam_score	 score;
};

struct lookup_prescreen {
	struct proc_self	*self;
	const struct conf	*conf;
	struct dns		*dns;	/* NULL: no resolver, nothing asked */
	struct dnsbl_cache	*cache[CONF_DNSBLS_MAX];
	TAILQ_HEAD(, prescreen_job) jobs;
	size_t			 njobs;
};

struct lookup_prescreen *
lookup_prescreen_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_prescreen	*p = xcalloc(1, sizeof(*p));
	size_t			 i;

	p->self = self;
	p->conf = conf;
	p->dns = dns;
	for (i = 0; i < conf->ndnsbls; i++)
		p->cache[i] = dnsbl_cache_new(DNSBL_CACHE_MAX);
	TAILQ_INIT(&p->jobs);
	return p;
}

static void
prescreen_job_free(struct prescreen_job *j)
{
	size_t	i;

	for (i = 0; i < j->nq; i++)
		if (j->qs[i].q != NULL)
			dns_cancel(j->qs[i].q);
	if (j->timer != NULL)
		event_free(j->timer);
	TAILQ_REMOVE(&j->p->jobs, j, entry);
	j->p->njobs--;
	free(j);
}

/* "DNSBL_" or "DNSWL_" and the zone, as a reason's name. */
static void
prescreen_list_name(const struct conf_dnsbl *l, char *out, size_t outsz)
{
	size_t	i, o;

	o = (size_t)snprintf(out, outsz, "%s_", l->allow ? "DNSWL" :
	    "DNSBL");
	for (i = 0; l->zone[i] != '\0' && o + 1 < outsz; i++)
		out[o++] = isalnum((unsigned char)l->zone[i]) ?
		    (char)toupper((unsigned char)l->zone[i]) : '_';
	out[o] = '\0';
}

static void
prescreen_addr_text(uint32_t a, char *out, size_t outsz)
{
	(void)snprintf(out, outsz, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
	    (a >> 8) & 0xff, a & 0xff);
}

/*
 * The verdict of a finished (or timed-out) job: the points of every
 * check that had a definite answer, and the first refusal.
 */
static void
prescreen_judge(struct prescreen_job *j, uint32_t *code, char *enh,
    size_t enhsz, char *text, size_t textsz, uint32_t *flags)
{
	const struct conf	*conf = j->p->conf;
	const struct conf_dnsbl	*l;
	struct prescreen_q	*q;
	char			 name[SPAM_NAME_MAX], a[16], desc[SPAM_DESC_MAX];
	size_t			 i, nptr = 0, nfwd = 0, nfwd_def = 0;
	size_t			 nhelo = 0, nhelo_def = 0, nsnd = 0, nsnd_def = 0;
	bool			 ptr_def = false, fwd_ok = false, helo_ok = false;
	bool			 helo_addr = false, nullmx = false, snd_any = false;

	for (i = 0; i < conf->ndnsbls; i++) {
		l = &conf->dnsbls[i];
		if (!j->listed[i])
			continue;
		prescreen_addr_text(j->answer[i], a, sizeof(a));
		prescreen_list_name(l, name, sizeof(name));
		/* a description: cut when the zone is long */
		if (snprintf(desc, sizeof(desc), "%s lists %s (%s)", l->zone,
		    j->ip, a) >= (int)sizeof(desc))
			desc[sizeof(desc) - 1] = '\0';
		if (l->allow) {
			spam_score_add(&j->score, name, -l->weight, desc);
			*flags |= PRESCREEN_F_DNSWL;
		} else if (l->weighted)
			spam_score_add(&j->score, name, l->weight, desc);
		else if (*code == 0) {
			/* as Postfix words it; the list's own text after */
			*code = 554;
			(void)str_copy(enh, enhsz, "5.7.1");
			/* the list's TXT only when the reply has room */
			if (snprintf(text, textsz, "Service unavailable; "
			    "client [%s] blocked using %s%s%s", j->ip, l->zone,
			    j->txt[i][0] ? "; " : "", j->txt[i]) >=
			    (int)textsz && snprintf(text, textsz, "Service "
			    "unavailable; client [%s] blocked using %s",
			    j->ip, l->zone) >= (int)textsz)
				text[textsz - 1] = '\0';
		}
	}
	for (i = 0; i < j->nq; i++) {
		q = &j->qs[i];
		switch (q->kind) {
		case PRESCREEN_Q_PTR:
			nptr++;
			ptr_def = q->done && (q->status == DNS_NXDOMAIN ||
			    q->status == DNS_NODATA);
			break;
		case PRESCREEN_Q_FWD:
			nfwd++;
			if (q->done && q->status != DNS_TEMPFAIL)
				nfwd_def++;
			fwd_ok |= q->match;
			break;
		case PRESCREEN_Q_HELO:
			nhelo++;
			if (q->done && q->status != DNS_TEMPFAIL)
				nhelo_def++;
			helo_ok |= q->match;
			helo_addr |= q->done && q->status == DNS_OK;
			break;
		case PRESCREEN_Q_SENDER:
			nsnd++;
			if (q->done && q->status != DNS_TEMPFAIL)
				nsnd_def++;
			nullmx |= q->nullmx;
			snd_any |= q->done && q->status == DNS_OK &&
			    !q->nullmx;
			break;
		default:
			break;
		}
	}
	/* forward-confirmed reverse DNS (FCrDNS) */
	if (nptr > 0 && ptr_def)
		spam_score_add(&j->score, "RDNS_NONE", PRESCREEN_RDNS_NONE,
		    "the client address has no PTR record");
	else if ((nfwd > 0 && !fwd_ok && nfwd_def == nfwd) ||
	    j->ptr_unusable)
		spam_score_add(&j->score, "RDNS_NOT_CONFIRMED",
		    PRESCREEN_RDNS_NOT_CONFIRMED, "no name of the client's "
		    "PTR records resolves back to it");
	/* the HELO name resolves, to the client when it can */
	if (nhelo > 0 && nhelo_def == nhelo) {
		if (!helo_addr)
			spam_score_add(&j->score, "HELO_NO_DNS",
			    PRESCREEN_HELO_NO_DNS, "the HELO name has no A "
			    "or AAAA record");
		else if (!helo_ok)
			spam_score_add(&j->score, "HELO_IP_MISMATCH",
			    PRESCREEN_HELO_IP_MISMATCH, "the HELO name does "
			    "not resolve to the client");
	}
	/* RFC 7505 §4.2 for a null MX; Postfix's 5.1.8 for no domain */
	if (nsnd > 0 && nsnd_def == nsnd && !snd_any) {
		if (conf->sender_domain_check != CONF_SENDER_CHECK_REJECT)
			spam_score_add(&j->score, nullmx ?
			    "SENDER_DOMAIN_NULL_MX" : "SENDER_DOMAIN_NO_DNS",
			    PRESCREEN_SENDER_NO_DNS, nullmx ? "the sender "
			    "domain accepts no mail (null MX)" : "the sender "
			    "domain has no MX, A or AAAA record");
		else if (*code == 0) {
			*code = 550;
			(void)str_copy(enh, enhsz, nullmx ? "5.7.27" :
			    "5.1.8");
			(void)snprintf(text, textsz, "Sender address "
			    "rejected: %s", nullmx ? "Domain does not accept "
			    "mail (null MX)" : "Domain not found");
		}
	}
}

/* Answer whoever asked and forget the job. */
static void
prescreen_finish(struct prescreen_job *j)
{
	struct lookup_prescreen	*p = j->p;
	struct msg		*a;
	struct buf		 reasons;
	char			 enh[8] = "", text[PRESCREEN_TEXT_MAX] = "";
	char			 pts[16], line[PRESCREEN_TEXT_MAX + 32];
	uint32_t		 code = 0, flags = 0;

	prescreen_judge(j, &code, enh, sizeof(enh), text, sizeof(text),
	    &flags);
	buf_init(&reasons, 4096);
	(void)spam_score_format(&j->score, &reasons);
	spam_points_text(j->score.total, pts, sizeof(pts));
	log_info("event=prescreen ip=%s what=%s%s%s code=%u points=%s "
	    "reasons=%s ms=%llu", j->ip,
	    j->what & PRESCREEN_DO_CLIENT ? "client," : "",
	    j->what & PRESCREEN_DO_HELO ? "helo," : "",
	    j->what & PRESCREEN_DO_SENDER ? "sender" : "", code, pts,
	    reasons.len ? reasons.data : "-",
	    (unsigned long long)(now_ms() - j->started));
	if (j->ctl) {
		(void)snprintf(line, sizeof(line), "reply: %u %s %s", code,
		    enh, text);
		proc_ctl_line(p->self, j->reqid, code ? line : "reply: none");
		(void)snprintf(line, sizeof(line), "score: %s", pts);
		proc_ctl_line(p->self, j->reqid, line);
		(void)snprintf(line, sizeof(line), "dnswl: %s",
		    flags & PRESCREEN_F_DNSWL ? "yes" : "no");
		proc_ctl_line(p->self, j->reqid, line);
		(void)snprintf(line, sizeof(line), "reasons: %s",
		    reasons.len ? reasons.data : "none");
		proc_ctl_line(p->self, j->reqid, line);
		proc_ctl_end(p->self, j->reqid, 0, NULL);
	} else {
		a = msg_new(MSG_LOOKUP_PRESCREEN_RESULT);
		msg_put_u64(a, j->reqid);
		msg_put_u32(a, code);
		msg_put_str(a, enh);
		msg_put_str(a, text);
		msg_put_u32(a, flags);
		spam_score_put(a, &j->score);
		(void)proc_send_peer(p->self, j->from, a);
	}
	buf_free(&reasons);
	prescreen_job_free(j);
}

static void	prescreen_answer(void *, const struct dns_result *);

/* Ask name/type for the job; false when the query could not start. */
static bool
prescreen_ask(struct prescreen_job *j, enum prescreen_qkind kind,
    const char *name, enum dns_type type, size_t list)
{
	struct prescreen_q	*q;
	const char		*errstr;

	if (j->nq == PRESCREEN_Q_MAX)
		fatalx("lookup: prescreen: too many queries");
	q = &j->qs[j->nq];
	memset(q, 0, sizeof(*q));
	q->j = j;
	q->kind = kind;
	q->type = type;
	q->list = list;
	if ((q->q = dns_query(j->p->dns, name, type, prescreen_answer, q,
	    &errstr)) == NULL) {
		log_debug("lookup: prescreen: %s %s: %s", name,
		    dns_type_name(type), errstr);
		return false;
	}
	j->nq++;
	j->pending++;
	return true;
}

/* A blocklist's answer for the client: listed, not, or an error. */
static void
prescreen_list_answer(struct prescreen_job *j, struct prescreen_q *q,
    const struct dns_result *res)
{
	struct lookup_prescreen	*p = j->p;
	const struct conf_dnsbl	*l = &p->conf->dnsbls[q->list];
	struct dnsbl_hit	 hit;
	char			 a[16], name[DNS_NAME_MAX + 1];
	uint32_t		 v;
	size_t			 i;
	bool			 errcode = false;

	if (res->status == DNS_TEMPFAIL) {
		log_warnx("event=dnsbl zone=%s ip=%s result=tempfail "
		    "why=\"%s\"", l->zone, j->ip, res->why);
		return;
	}
	memset(&hit, 0, sizeof(hit));
	for (i = 0; res->status == DNS_OK && i < res->nrrs; i++) {
		if (res->rrs[i].type != DNS_T_A)
			continue;
		v = ntohl(res->rrs[i].u.a.s_addr);
		prescreen_addr_text(v, a, sizeof(a));
		if (dnsbl_is_error(v)) {
			/* RFC 5782 §2.3: the list's answer, not ours */
			log_warnx("event=dnsbl zone=%s ip=%s result=error "
			    "answer=%s", l->zone, j->ip, a);
			errcode = true;
		} else if ((v >> 24) != 127)
			log_warnx("event=dnsbl zone=%s ip=%s result=ignored "
			    "answer=%s reason=\"outside 127.0.0.0/8\"",
			    l->zone, j->ip, a);
		else if (!hit.listed && dnsbl_returns_match(&l->returns, v)) {
			hit.listed = true;
			hit.code = v;
		}
	}
	if (errcode && !hit.listed)
		return;		/* not an answer: not cached */
	j->listed[q->list] = hit.listed;
	j->answer[q->list] = hit.code;
	if (hit.listed) {
		prescreen_addr_text(hit.code, a, sizeof(a));
		log_info("event=dnsbl zone=%s ip=%s result=listed answer=%s",
		    l->zone, j->ip, a);
	}
	/* a refusal names the list; its TXT says why, if it is short */
	if (hit.listed && !l->allow && !l->weighted &&
	    dnsbl_query_name(j->ip, l->zone, name, sizeof(name)) == 0 &&
	    prescreen_ask(j, PRESCREEN_Q_TXT, name, DNS_T_TXT, q->list))
		return;		/* cached with the TXT */
	dnsbl_cache_put(p->cache[q->list], j->af, j->addr, &hit, res->ttl,
	    now_ms() / 1000);
}

/* The refusing list's TXT: into the reply (when fit) and the cache. */
static void
prescreen_txt_answer(struct prescreen_job *j, struct prescreen_q *q,
    const struct dns_result *res)
{
	struct dnsbl_hit	hit;

	memset(&hit, 0, sizeof(hit));
	hit.listed = true;
	hit.code = j->answer[q->list];
	if (res->status == DNS_OK && res->nrrs > 0 &&
	    res->rrs[0].type == DNS_T_TXT)
		(void)dnsbl_txt_text(res->rrs[0].u.txt.data,
		    res->rrs[0].u.txt.len, hit.txt, sizeof(hit.txt));
	memcpy(j->txt[q->list], hit.txt, sizeof(hit.txt));
	dnsbl_cache_put(j->p->cache[q->list], j->af, j->addr, &hit,
	    res->ttl, now_ms() / 1000);
}

/* True when an A or AAAA answer holds the client's address. */
static bool
prescreen_has_client(const struct prescreen_job *j,
    const struct dns_result *res)
{
	size_t	i;

	for (i = 0; res->status == DNS_OK && i < res->nrrs; i++) {
		if (j->af == AF_INET && res->rrs[i].type == DNS_T_A &&
		    memcmp(&res->rrs[i].u.a, j->addr, 4) == 0)
			return true;
		if (j->af == AF_INET6 && res->rrs[i].type == DNS_T_AAAA &&
		    memcmp(&res->rrs[i].u.aaaa, j->addr, 16) == 0)
			return true;
	}
	return false;
}

/* The client's PTR names, each looked up forward (FCrDNS). */
static void
prescreen_ptr_answer(struct prescreen_job *j, const struct dns_result *res)
{
	const char	*name;
	size_t		 i, n = 0;

	for (i = 0; res->status == DNS_OK && i < res->nrrs &&
	    n < PRESCREEN_PTR_MAX; i++) {
		if (res->rrs[i].type != DNS_T_PTR)
			continue;
		name = res->rrs[i].u.ptr.name;
		if (!dns_hostname_ok(name, strlen(name)))
			continue;
		if (prescreen_ask(j, PRESCREEN_Q_FWD, name, j->af == AF_INET ?
		    DNS_T_A : DNS_T_AAAA, 0))
			n++;
	}
	/* only names that cannot be looked up: none confirms */
	j->ptr_unusable = res->status == DNS_OK && n == 0;
}

static void
prescreen_answer(void *arg, const struct dns_result *res)
{
	struct prescreen_q	*q = arg;
	struct prescreen_job	*j = q->j;
	size_t			 i;

	q->q = NULL;
	q->done = true;
	q->status = res->status;
	j->pending--;
	switch (q->kind) {
	case PRESCREEN_Q_LIST:
		prescreen_list_answer(j, q, res);
		break;
	case PRESCREEN_Q_TXT:
		prescreen_txt_answer(j, q, res);
		break;
	case PRESCREEN_Q_PTR:
		prescreen_ptr_answer(j, res);
		break;
	case PRESCREEN_Q_FWD:
	case PRESCREEN_Q_HELO:
		q->match = prescreen_has_client(j, res);
		break;
	case PRESCREEN_Q_SENDER:
		/* RFC 7505 §3: one MX of preference 0 and name "." */
		if (res->status == DNS_OK && res->type == DNS_T_MX) {
			q->nullmx = true;
			for (i = 0; i < res->nrrs; i++)
				if (res->rrs[i].type != DNS_T_MX ||
				    res->rrs[i].u.mx.name[0] != '\0')
					q->nullmx = false;
		}
		break;
	}
	if (j->pending == 0)
		prescreen_finish(j);
}

static void
prescreen_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct prescreen_job	*j = arg;
	struct prescreen_q	*q;
	size_t			 i;

	(void)fd;
	(void)ev;
	for (i = 0; i < j->nq; i++) {
		q = &j->qs[i];
		if (q->done)
			continue;
		dns_cancel(q->q);
		q->q = NULL;
		q->status = DNS_TEMPFAIL;
		if (q->kind == PRESCREEN_Q_LIST || q->kind == PRESCREEN_Q_TXT)
			log_warnx("event=dnsbl zone=%s ip=%s result=timeout "
			    "query=%s", j->p->conf->dnsbls[q->list].zone,
			    j->ip, dns_type_name(q->type));
	}
	j->pending = 0;
	prescreen_finish(j);
}

/* Each list: a cached answer, or a query. */
static void
prescreen_client(struct prescreen_job *j)
{
	struct lookup_prescreen	*p = j->p;
	const struct dnsbl_hit	*hit;
	char			 name[DNS_NAME_MAX + 1];
	size_t			 i;
	uint64_t		 now = now_ms() / 1000;

	for (i = 0; i < p->conf->ndnsbls; i++) {
		hit = dnsbl_cache_get(p->cache[i], j->af, j->addr, now);
		if (hit != NULL) {
			j->listed[i] = hit->listed;
			j->answer[i] = hit->code;
			memcpy(j->txt[i], hit->txt, sizeof(j->txt[i]));
			continue;
		}
		if (dnsbl_query_name(j->ip, p->conf->dnsbls[i].zone, name,
		    sizeof(name)) == 0)
			(void)prescreen_ask(j, PRESCREEN_Q_LIST, name,
			    DNS_T_A, i);
	}
	/* the PTR name of the address: the same nibbles, another zone */
	if (dnsbl_query_name(j->ip, j->af == AF_INET ? "in-addr.arpa" :
	    "ip6.arpa", name, sizeof(name)) == 0)
		(void)prescreen_ask(j, PRESCREEN_Q_PTR, name, DNS_T_PTR, 0);
}

/*
 * RFC 5321 §4.1.1.1: a domain (a host name with a dot) or an address
 * literal, §4.1.3; a literal must be the client's own address.
 */
static void
prescreen_helo(struct prescreen_job *j)
{
	const char	*h = j->helo;
	size_t		 len = strlen(h);
	char		 lit[PRESCREEN_HELO_MAX + 1];
	uint8_t		 a[16];
	int		 af;

	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		memcpy(lit, h + 1, len - 2);
		lit[len - 2] = '\0';
		if (strncasecmp(lit, "IPv6:", 5) == 0)
			memmove(lit, lit + 5, strlen(lit + 5) + 1);
		else if (strchr(lit, ':') != NULL)
			lit[0] = '\0';	/* an IPv6 literal needs its tag */
		if (dnsbl_addr(lit, &af, a) == -1)
			spam_score_add(&j->score, "HELO_BAD_SYNTAX",
			    PRESCREEN_HELO_BAD_SYNTAX, "the HELO address "
			    "literal is not an address");
		else if (af != j->af || memcmp(a, j->addr, 16) != 0)
			spam_score_add(&j->score, "HELO_IP_MISMATCH",
			    PRESCREEN_HELO_IP_MISMATCH, "the HELO address "
			    "literal is not the client's");
		return;
	}
	if (len > DNS_NAME_MAX || !dns_hostname_ok(h, len) ||
	    strchr(h, '.') == NULL) {
		spam_score_add(&j->score, "HELO_BAD_SYNTAX",
		    PRESCREEN_HELO_BAD_SYNTAX, "the HELO name is neither a "
		    "domain nor an address literal");
		return;
	}
	(void)prescreen_ask(j, PRESCREEN_Q_HELO, h, DNS_T_A, 0);
	(void)prescreen_ask(j, PRESCREEN_Q_HELO, h, DNS_T_AAAA, 0);
}

static void
prescreen_sender(struct prescreen_job *j)
{
	const char	*d = j->domain;

	/* the null path, a literal, or a name no DNS can hold: not ours */
	if (d[0] == '\0' || d[0] == '[' ||
	    !dns_hostname_ok(d, strlen(d)) ||
	    j->p->conf->sender_domain_check == CONF_SENDER_CHECK_OFF)
		return;
	(void)prescreen_ask(j, PRESCREEN_Q_SENDER, d, DNS_T_MX, 0);
	(void)prescreen_ask(j, PRESCREEN_Q_SENDER, d, DNS_T_A, 0);
	(void)prescreen_ask(j, PRESCREEN_Q_SENDER, d, DNS_T_AAAA, 0);
}

static void
prescreen_start(struct lookup_prescreen *p, bool ctl, struct proc_peer from,
    uint64_t reqid, unsigned what, const char *ip, const char *helo,
    const char *domain)
{
	struct prescreen_job	*j = xcalloc(1, sizeof(*j));
	struct timeval		 tv = { (time_t)p->conf->dnsbl_timeout, 0 };

	j->p = p;
	j->ctl = ctl;
	j->from = from;
	j->reqid = reqid;
	j->what = what;
	j->started = now_ms();
	(void)printable(ip, strlen(ip), j->ip, sizeof(j->ip));
	(void)str_copy(j->helo, sizeof(j->helo), helo);
	(void)str_copy(j->domain, sizeof(j->domain), domain);
	TAILQ_INSERT_TAIL(&p->jobs, j, entry);
	p->njobs++;
	/* without an address, a resolver or room, nothing is held against */
	if (dnsbl_addr(ip, &j->af, j->addr) == -1 || p->dns == NULL ||
	    p->njobs > PRESCREEN_JOBS_MAX) {
		if (p->njobs > PRESCREEN_JOBS_MAX)
			log_warnx("lookup: prescreen: too many at once");
		prescreen_finish(j);
		return;
	}
	if (what & PRESCREEN_DO_CLIENT)
		prescreen_client(j);
	if (what & PRESCREEN_DO_HELO)
		prescreen_helo(j);
	if (what & PRESCREEN_DO_SENDER)
		prescreen_sender(j);
	if (j->pending == 0) {
		prescreen_finish(j);
		return;
	}
	if ((j->timer = evtimer_new(p->self->base, prescreen_timeout,
	    j)) == NULL)
		fatalx("lookup: evtimer_new");
	evtimer_add(j->timer, &tv);
}

void
lookup_prescreen_request(struct lookup_prescreen *p, struct proc_peer from,
    struct msg *m)
{
	char		 ip[MSGAUTH_IP_MAX], helo[PRESCREEN_HELO_MAX + 1];
	char		 domain[DNS_NAME_MAX + 1];
	uint64_t	 reqid;
	uint32_t	 what;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &what) == -1 ||
	    what >= PRESCREEN_WHAT_COUNT ||
	    msg_get_str(m, ip, sizeof(ip)) == -1 ||
	    msg_get_str(m, helo, sizeof(helo)) == -1 ||
	    msg_get_str(m, domain, sizeof(domain)) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s", msg_name(m->type));
	prescreen_start(p, false, from, reqid, 1u << what, ip, helo, domain);
}

void
lookup_prescreen_ctl(struct lookup_prescreen *p, uint64_t reqid,
    size_t argc, char **argv)
{
	struct proc_peer	 none = { PROC_PARENT, 0 };
	const char		*helo = argc > 3 ? argv[3] : "";
	const char		*domain = argc > 4 ? argv[4] : "";
	unsigned		 what = PRESCREEN_DO_CLIENT;

	if (argc < 3 || argc > 5 || strcmp(argv[1], "check") != 0) {
		proc_ctl_end(p->self, reqid, 2, "usage: prescreen check IP "
		    "[HELO [SENDER-DOMAIN]]");
		return;
	}
	if (strlen(argv[2]) >= MSGAUTH_IP_MAX ||
	    strlen(helo) > PRESCREEN_HELO_MAX ||
	    strlen(domain) > DNS_NAME_MAX) {
		proc_ctl_end(p->self, reqid, 2, "IP, HELO or SENDER-DOMAIN "
		    "too long");
		return;
	}
	if (helo[0] != '\0')
		what |= PRESCREEN_DO_HELO;
	if (domain[0] != '\0')
		what |= PRESCREEN_DO_SENDER;
	prescreen_start(p, true, none, reqid, what, argv[2], helo, domain);
}
