/*
 * lookup_spf: see lookup_spf.h.  One job per question (an smtp worker's
 * MSG_LOOKUP_SPF or a `cachetctl spf check`), each an spf.c evaluation
 * whose queries go one at a time to lookup's resolver.  What the
 * evaluator asks is raw octets (a macro may put any octet of a
 * local-part into a name); dns.c takes them written with RFC 1035 §5.1
 * escapes, and the names it hands back (MX, PTR) are unescaped again.
 *
 * Bounds: LOOKUP_SPF_JOBS_MAX evaluations at once (more are answered
 * temperror at once: a flood must not queue without end), each given
 * LOOKUP_SPF_TIME_MAX_SEC of wall time (RFC 7208 §4.6.4 asks for at
 * least 20 seconds) and at most SPF_QUERIES_MAX queries (spf.h).
 *
 * The HELO identity (RFC 7208 §2.3) is checked first when it is a
 * domain: a fail there is the answer (identity "helo"); otherwise the
 * MAIL FROM identity's result is, or postmaster@HELO's for the null
 * path (§2.4).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "conf.h"
#include "dns.h"
#include "log.h"
#include "lookup_spf.h"
#include "mailaddr.h"
#include "msgauth.h"
#include "spf.h"
#include "util.h"

#define LOOKUP_SPF_JOBS_MAX	4096	/* evaluations in flight */
#define LOOKUP_SPF_TIME_MAX_SEC	20	/* RFC 7208 §4.6.4 */
#define LOOKUP_SPF_HELO_MAX	DNS_NAME_TEXT_MAX

struct lookup_spf_job {
	TAILQ_ENTRY(lookup_spf_job) entry;
	struct lookup_spf	*ls;
	bool			 ctl;	/* a cachetctl request */
	struct proc_peer	 from;	/* smtp's, unless ctl */
	uint64_t		 reqid;
	struct spf		*spf;
	struct dns_query	*q;
	/* the query out, as the evaluator wrote it */
	char			 qname[SPF_DOMAIN_MAX + 1];
	enum dns_type		 qtype;
	struct event		*timer;
	uint64_t		 started;	/* ms */
	char			 ip[MSGAUTH_IP_MAX];
};

struct lookup_spf {
	struct proc_self	*self;
	const struct conf	*conf;
	struct dns		*dns;	/* NULL: no resolver, temperror */
	TAILQ_HEAD(, lookup_spf_job) jobs;
	size_t			 njobs;
};

struct lookup_spf *
lookup_spf_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_spf	*ls = xcalloc(1, sizeof(*ls));

	ls->self = self;
	ls->conf = conf;
	ls->dns = dns;
	TAILQ_INIT(&ls->jobs);
	return ls;
}

static void
lookup_spf_job_free(struct lookup_spf_job *j)
{
	if (j->q != NULL)
		dns_cancel(j->q);
	if (j->timer != NULL)
		event_free(j->timer);
	spf_free(j->spf);
	TAILQ_REMOVE(&j->ls->jobs, j, entry);
	j->ls->njobs--;
	free(j);
}

/* Answer whoever asked and forget the job. */
static void
lookup_spf_finish(struct lookup_spf_job *j, enum spf_result res,
    const char *identity, const char *domain, const char *reason,
    const char *explain)
{
	struct lookup_spf	*ls = j->ls;
	struct msg		*a;
	char			 pd[DNS_NAME_MAX + 1], line[512];

	(void)printable(domain, strlen(domain), pd, sizeof(pd));
	log_info("event=spf ip=%s identity=%s domain=%s result=%s "
	    "queries=%zu ms=%llu reason=\"%s\"", j->ip, identity, pd,
	    spf_result_name(res), j->spf ? spf_queries(j->spf) : 0,
	    (unsigned long long)(now_ms() - j->started), reason);
	if (j->ctl) {
		proc_ctl_line(ls->self, j->reqid, spf_result_name(res));
		(void)snprintf(line, sizeof(line), "identity: %s", identity);
		proc_ctl_line(ls->self, j->reqid, line);
		(void)snprintf(line, sizeof(line), "domain: %s", pd);
		proc_ctl_line(ls->self, j->reqid, line);
		(void)snprintf(line, sizeof(line), "reason: %s", reason);
		proc_ctl_line(ls->self, j->reqid, line);
		if (res == SPF_FAIL) {
			/* §6.2: the domain's own words, or ours */
			(void)snprintf(line, sizeof(line), "explanation: %s",
			    explain[0] ? explain : "the domain's SPF record "
			    "does not designate this host");
			proc_ctl_line(ls->self, j->reqid, line);
		}
		proc_ctl_end(ls->self, j->reqid, 0, NULL);
	} else {
		a = msg_new(MSG_LOOKUP_SPF_RESULT);
		msg_put_u64(a, j->reqid);
		msg_put_u32(a, (uint32_t)res);
		msg_put_str(a, identity);
		msg_put_str(a, pd);
		msg_put_str(a, reason);
		(void)proc_send_peer(ls->self, j->from, a);
	}
	lookup_spf_job_free(j);
}

static void
lookup_spf_done(struct lookup_spf_job *j)
{
	struct spf	*s = j->spf;

	lookup_spf_finish(j, spf_result(s), spf_identity(s), spf_domain(s),
	    spf_reason(s), spf_explanation(s));
}

/*
 * Raw octets into dns.c's text form (letters, digits, '-', '_' as they
 * are, any other octet "\DDD", RFC 1035 §5.1): through the wire form,
 * whose parser writes exactly that.
 */
static int
lookup_spf_escape(const char *name, char *out, size_t outsz)
{
	uint8_t		 wire[DNS_WIRE_NAME_MAX + 1];
	size_t		 i, o = 0, start = 0, len = strlen(name), used;

	if (len > 0 && name[len - 1] == '.')
		len--;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if (i - start == 0 || i - start > DNS_LABEL_MAX ||
		    o + 1 + (i - start) + 1 > sizeof(wire))
			return -1;
		wire[o++] = (uint8_t)(i - start);
		memcpy(wire + o, name + start, i - start);
		o += i - start;
		start = i + 1;
	}
	wire[o++] = 0;
	return dns_parse_name(wire, o, out, outsz, &used);
}

/*
 * dns.c's text form back into octets; -1 when an escape stands for a
 * dot or a NUL inside a label (such a name is skipped: the evaluator
 * cannot tell it from two labels).
 */
static int
lookup_spf_unescape(const char *name, char *out, size_t outsz)
{
	size_t	i, o = 0;
	int	v;

	for (i = 0; name[i] != '\0'; i++) {
		if (o + 1 >= outsz)
			return -1;
		if (name[i] != '\\') {
			out[o++] = name[i];
			continue;
		}
		if (!isdigit((unsigned char)name[i + 1]) ||
		    !isdigit((unsigned char)name[i + 2]) ||
		    !isdigit((unsigned char)name[i + 3]))
			return -1;
		v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 +
		    (name[i + 3] - '0');
		if (v == 0 || v == '.' || v > 255)
			return -1;
		out[o++] = (char)v;
		i += 3;
	}
	out[o] = '\0';
	return 0;
}

static void	lookup_spf_step(struct lookup_spf_job *);

static void
lookup_spf_answer(void *arg, const struct dns_result *res)
{
	struct lookup_spf_job	*j = arg;
	struct dns_rr		*rrs = NULL;
	size_t			 i, n = 0;
	char			 name[DNS_NAME_MAX + 1];

	j->q = NULL;
	if (res->status == DNS_OK && (res->type == DNS_T_MX ||
	    res->type == DNS_T_PTR)) {
		rrs = xcalloc(res->nrrs, sizeof(*rrs));
		for (i = 0; i < res->nrrs; i++) {
			const char	*t = res->type == DNS_T_MX ?
			    res->rrs[i].u.mx.name : res->rrs[i].u.ptr.name;

			if (res->rrs[i].type != res->type ||
			    lookup_spf_unescape(t, name, sizeof(name)) == -1)
				continue;
			rrs[n] = res->rrs[i];
			if (res->type == DNS_T_MX)
				rrs[n].u.mx.name = xstrdup(name);
			else
				rrs[n].u.ptr.name = xstrdup(name);
			n++;
		}
		spf_answer(j->spf, j->qtype, j->qname, n ? DNS_OK :
		    DNS_NODATA, rrs, n);
		for (i = 0; i < n; i++)
			free(res->type == DNS_T_MX ? rrs[i].u.mx.name :
			    rrs[i].u.ptr.name);
		free(rrs);
	} else
		spf_answer(j->spf, j->qtype, j->qname, res->status, res->rrs,
		    res->nrrs);
	lookup_spf_step(j);
}

/* Run the evaluator on; ask its next query or answer. */
static void
lookup_spf_step(struct lookup_spf_job *j)
{
	const char	*qname, *errstr;
	char		 text[DNS_NAME_TEXT_MAX + 1];
	enum dns_type	 qtype;

	while (spf_eval(j->spf, &qname, &qtype) == SPF_STEP_QUERY) {
		(void)str_copy(j->qname, sizeof(j->qname), qname);
		j->qtype = qtype;
		if (lookup_spf_escape(qname, text, sizeof(text)) == 0 &&
		    (j->q = dns_query(j->ls->dns, text, qtype,
		    lookup_spf_answer, j, &errstr)) != NULL)
			return;
		/* a name the resolver will not take cannot exist */
		spf_answer(j->spf, qtype, j->qname, DNS_NXDOMAIN, NULL, 0);
	}
	lookup_spf_done(j);
}

static void
lookup_spf_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct lookup_spf_job	*j = arg;

	(void)fd;
	(void)ev;
	lookup_spf_finish(j, SPF_TEMPERROR, spf_identity(j->spf),
	    spf_domain(j->spf), "time budget spent", "");
}

/* Start an evaluation for a job whose answer goes to from or ctl. */
static void
lookup_spf_start(struct lookup_spf *ls, bool ctl, struct proc_peer from,
    uint64_t reqid, const char *ip, const char *helo, const char *sender)
{
	struct lookup_spf_job	*j = xcalloc(1, sizeof(*j));
	struct spf_request	 req;
	struct timeval		 tv = { LOOKUP_SPF_TIME_MAX_SEC, 0 };

	j->ls = ls;
	j->ctl = ctl;
	j->from = from;
	j->reqid = reqid;
	j->started = now_ms();
	(void)printable(ip, strlen(ip), j->ip, sizeof(j->ip));
	TAILQ_INSERT_TAIL(&ls->jobs, j, entry);
	ls->njobs++;

	memset(&req, 0, sizeof(req));
	req.helo = helo;
	req.sender = sender;
	req.rcvhost = ls->conf->hostname;
	req.now = time(NULL);
	req.check_helo = true;
	if (inet_pton(AF_INET, ip, req.ip) == 1)
		req.af = AF_INET;
	else if (inet_pton(AF_INET6, ip, req.ip) == 1)
		req.af = AF_INET6;
	else {
		lookup_spf_finish(j, SPF_NONE, sender[0] ? "mailfrom" :
		    "helo", "", "no client IP address", "");
		return;
	}
	j->spf = spf_new(&req);
	if (ls->dns == NULL || ls->njobs > LOOKUP_SPF_JOBS_MAX) {
		lookup_spf_finish(j, SPF_TEMPERROR, spf_identity(j->spf),
		    spf_domain(j->spf), ls->dns == NULL ? "no resolver" :
		    "too many SPF checks at once", "");
		return;
	}
	if ((j->timer = evtimer_new(ls->self->base, lookup_spf_timeout,
	    j)) == NULL)
		fatalx("lookup: evtimer_new");
	evtimer_add(j->timer, &tv);
	lookup_spf_step(j);
}

void
lookup_spf_request(struct lookup_spf *ls, struct proc_peer from,
    struct msg *m)
{
	uint64_t	 reqid;
	char		 ip[MSGAUTH_IP_MAX], helo[LOOKUP_SPF_HELO_MAX + 1];
	char		 sender[MAILADDR_PATH_MAX + 1];

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, ip, sizeof(ip)) == -1 ||
	    msg_get_str(m, helo, sizeof(helo)) == -1 ||
	    msg_get_str(m, sender, sizeof(sender)) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s", msg_name(m->type));
	lookup_spf_start(ls, false, from, reqid, ip, helo, sender);
}

void
lookup_spf_ctl(struct lookup_spf *ls, uint64_t reqid, size_t argc,
    char **argv)
{
	struct proc_peer	 none = { PROC_PARENT, 0 };
	const char		*sender;

	if (argc != 5 || strcmp(argv[1], "check") != 0) {
		proc_ctl_end(ls->self, reqid, 2, "usage: spf check IP HELO "
		    "SENDER (\"<>\" or \"\" for the null path)");
		return;
	}
	sender = argv[4];
	if (strcmp(sender, "<>") == 0)
		sender = "";
	if (strlen(argv[3]) > LOOKUP_SPF_HELO_MAX ||
	    strlen(sender) > MAILADDR_PATH_MAX) {
		proc_ctl_end(ls->self, reqid, 2, "HELO or SENDER too long");
		return;
	}
	lookup_spf_start(ls, true, none, reqid, argv[2], argv[3], sender);
}

void
lookup_spf_peer_change(struct lookup_spf *ls, struct proc_peer p)
{
	struct lookup_spf_job	*j, *next;

	/* the worker that asked is gone: nobody waits for these */
	for (j = TAILQ_FIRST(&ls->jobs); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (!j->ctl && j->from.id == p.id &&
		    j->from.worker == p.worker)
			lookup_spf_job_free(j);
	}
}
