/*
 * mta: the mta role (mta.h has the messages).  It runs as an unprivileged
 * user chrooted in state-dir/empty and speaks SMTP to the world.
 *
 * Work is kept per destination: a recipient domain, or a relay host when
 * a `relay` directive sends the domain there (then every domain relayed
 * to it shares it).  A destination has a route (the addresses lookup
 * gave, kept for the DNS TTL, at most 5 minutes), a queue of jobs (one
 * MSG_MTA_DELIVER each: one message, its recipients of that domain) and
 * its connections (mta_conn.c), at most max-outbound-per-destination of
 * them and max-outbound-connections in all.  A connection that is ready
 * takes the next job of its destination; with none it idles a few
 * seconds, then says QUIT.  When a new connection cannot reach any
 * address, the jobs waiting behind it fail temporarily with the same
 * reason, as long as no other connection to that destination works.
 *
 * Trust: the queue is a sibling that owns the spool; its requests are
 * bounded and checked, a malformed one is fatal.  Route answers from
 * lookup likewise.  Servers are the network: smtp_client parses them.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "lookup/lookup_mx.h"
#include "mta.h"
#include "mta_conn.h"
#include "mta_sts.h"
#include "mta_tlsrpt.h"
#include "mtasts.h"
#include "mx.h"
#include "proc.h"
#include "qid.h"
#include "smtp_client.h"
#include "tls.h"
#include "util.h"

#define MTA_BUCKETS		256	/* destination hash */
#define MTA_KEY_MAX		(DNS_NAME_MAX + 16)	/* "relay:host:port" */
#define MTA_JOBS_MAX		8192	/* messages held at once */
#define MTA_IDLE_SECONDS	5	/* a ready connection waits this */
#define MTA_REUSE_MAX		1000	/* messages on one connection */
#define MTA_GC_SECONDS		60	/* forget unused destinations */
#define MTA_ROUTE_MIN		2	/* seconds a route is kept at least */
#define MTA_LOG_TEXT_MAX	400	/* a reply in a log line */
#define MTA_LOG_ADDR_MAX	300
#define MTA_CTL_MAX		16	/* tls-policy requests at once */
#define MTA_CTL_LINE_MAX	1024
#define MTA_CTL_HEX_MAX		64	/* TLSA data shown in full up to this */

struct mta_dest;
struct mta_link;

/* One MSG_MTA_DELIVER: a message to some recipients of one domain. */
struct mta_job {
	TAILQ_ENTRY(mta_job)	 entry;		/* dest->jobs */
	struct mta_dest		*dest;
	uint64_t		 reqid;
	uint64_t		 gen;		/* of the queue channel */
	char			 id[QID_SIZE];
	uint64_t		 created_ms;
	char			*sender;
	char			*envid;
	char			*prepend;	/* header fields for the top */
	bool			 tls_optional;	/* TLS-Required: No */
	uint64_t		 msglen;
	int			 fd;
	struct smtp_client_msg	 msg;
	struct smtp_client_rcpt	*rcpts;
	size_t			 nrcpts;
	/* results, per recipient */
	uint32_t		*result;
	uint32_t		*flags;
	char			**enh;
	char			**text;
	char			**remote;
	bool			*done;
};
TAILQ_HEAD(mta_jobs, mta_job);

/* One connection, as the role sees it. */
struct mta_link {
	TAILQ_ENTRY(mta_link)	 entry;		/* dest->links */
	TAILQ_ENTRY(mta_link)	 ientry;	/* dest->idle */
	struct mta_dest		*dest;
	struct mta_conn		*conn;
	struct mta_job		*job;		/* assigned or in flight */
	bool			 sent;		/* job given to the conn */
	bool			 ready;		/* reached a server */
	bool			 idle;
	struct event		*ev_idle;
};
TAILQ_HEAD(mta_links, mta_link);

struct mta_dest {
	struct mta_dest		*next;		/* bucket chain */
	char			 key[MTA_KEY_MAX];
	char			 domain[MTA_DOMAIN_MAX + 1];	/* to route */
	/* its jobs are TLS-Required: No (RFC 8689 §5): its own links */
	bool			 tls_optional;
	/* the route */
	bool			 has_route;
	uint64_t		 route_until;	/* monotonic ms */
	struct mta_conn_addr	*addrs;
	size_t			 naddrs;
	char			*auth_user;
	char			*auth_pass;
	struct mta_dane		*dane;		/* per MX host of the route */
	size_t			 ndane;
	uint64_t		 lookup_reqid;	/* 0: none in flight */
	/* MTA-STS (mta_sts.h), asked with each route */
	uint64_t		 sts_handle;	/* 0: none in flight */
	struct mtasts_policy	*sts;		/* NULL: no policy */
	/* work */
	struct mta_jobs		 jobs;
	size_t			 njobs;
	struct mta_links	 links;
	size_t			 nlinks;
	struct mta_links	 idle;
	uint64_t		 used_ms;	/* last activity */
};

/*
 * A `cachetctl tls-policy DOMAIN`: first its MTA-STS policy, then
 * lookup's route.
 */
struct mta_ctl {
	bool			 busy;
	uint64_t		 ctl_reqid;	/* the parent's */
	uint64_t		 sts_handle;	/* 0: not waiting for it */
	uint64_t		 lookup_reqid;	/* 0: not waiting for it */
	char			 domain[MTA_DOMAIN_MAX + 1];
	struct mta_sts_result	 sts;
	uint64_t		 rua_reqid;	/* 0: not waiting for it */
	char			 rua[MTA_CTL_LINE_MAX - 16];	/* TLS-RPT */
};

struct mta_role {
	struct proc_self	*self;
	const struct conf	*conf;
	struct tls_ctx		*tls;
	struct mta_sts		*sts;
	struct mta_dest		*buckets[MTA_BUCKETS];
	size_t			 ndests;
	size_t			 nlinks;
	size_t			 njobs;
	uint64_t		 next_reqid;
	uint64_t		 queue_gen;
	struct event		*ev_gc;
	uint64_t		 sent, deferred, bounced;
	struct mta_ctl		 ctl[MTA_CTL_MAX];
};

static struct mta_role	*mta;

static void	mta_dest_run(struct mta_dest *);
static void	mta_run_all(void);

/* --- pure parts (mta.h) --- */

bool
mta_tlsa_usable(const struct dns_tlsa *t)
{
	/*
	 * RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP;
	 * RFC 6698 §2.1.2, §2.1.3: selectors 0-1, matching types 0-2, and a
	 * digest must have its length.
	 */
	if (t->usage != 2 && t->usage != 3)
		return false;
	if (t->selector > 1 || t->len == 0)
		return false;
	switch (t->mtype) {
	case 0:
		return true;
	case 1:
		return t->len == 32;	/* SHA2-256 */
	case 2:
		return t->len == 64;	/* SHA2-512 */
	}
	return false;
}

/* RFC 8461 §4.2, §5: what an MTA-STS policy says of host. */
static void
mta_tls_policy_sts(const char *domain, const char *host,
    const struct mtasts_policy *sts, struct mta_tls_policy *out)
{
	char	mx[256];

	(void)snprintf(out->label, sizeof(out->label), "MTA-STS policy for "
	    "%s (%s)", domain, mtasts_mode_name(sts->mode));
	if (host != NULL && mtasts_policy_match(sts, host)) {
		if (sts->mode == MTASTS_MODE_TESTING) {
			out->source = "mta-sts-testing";
			return;
		}
		/* §4.2: TLS, a certificate valid for the MX name */
		out->tls = SMTP_CLIENT_TLS_MUST;
		out->verify = true;
		out->source = "mta-sts";
		return;
	}
	mtasts_policy_mx_list(sts, mx, sizeof(mx));
	(void)snprintf(out->whybuf, sizeof(out->whybuf), "%s allows mx %s; "
	    "%s does not match", out->label, mx, host != NULL ? host :
	    "(no host)");
	out->why = out->whybuf;
	if (sts->mode == MTASTS_MODE_TESTING) {
		/* §5: testing delivers anyway; the mismatch is reported */
		out->source = "mta-sts-testing";
		return;
	}
	out->source = "mta-sts";
	out->tls = SMTP_CLIENT_TLS_MUST;
	out->skip = true;
}

void
mta_tls_policy(const struct conf *conf, const char *domain, const char *host,
    const struct mta_dane *dane, const struct mtasts_policy *sts,
    struct mta_tls_policy *out)
{
	struct mx_plan		 plan;
	const struct conf_relay	*r = NULL;
	const char		*err;
	size_t			 i, usable = 0;

	out->tls = SMTP_CLIENT_TLS_MAY;
	out->verify = false;
	out->dane = false;
	out->skip = false;
	out->source = "opportunistic";
	out->why = "";
	out->label[0] = '\0';
	out->whybuf[0] = '\0';
	if (host == NULL && dane != NULL)
		host = dane->host;
	if (mx_plan(conf->relays, conf->nrelays, domain, &plan, &err) == 0 &&
	    plan.relay) {
		for (i = 0; i < conf->nrelays; i++)
			if (conf->relays[i].line == plan.relay_line)
				r = &conf->relays[i];
	}
	if (r != NULL) {
		out->source = "relay";
		switch (r->tls) {
		case CONF_RELAY_TLS_VERIFY:
			out->verify = true;
			/* FALLTHROUGH */
		case CONF_RELAY_TLS_REQUIRED:
			out->tls = SMTP_CLIENT_TLS_MUST;
			break;
		case CONF_RELAY_TLS_MAY:
			break;
		}
		/*
		 * A password goes over TLS only (RFC 4954 §4): smtp_client
		 * sees to it, refusing AUTH in clear with 4.7.0.
		 */
		return;
	}
	if (!conf->mta_sts || (sts != NULL && sts->mode == MTASTS_MODE_NONE))
		sts = NULL;
	if (dane == NULL || !conf->dane)
		goto sts;
	switch (dane->state) {
	case LOOKUP_MX_DANE_NONE:
	case LOOKUP_MX_DANE_NO_TLSA:
		goto sts;
	case LOOKUP_MX_DANE_FAILED:
		/* RFC 7672 §2.2: try later, never in clear */
		out->skip = true;
		out->tls = SMTP_CLIENT_TLS_MUST;
		out->source = "dane";
		out->why = dane->reason;
		return;
	case LOOKUP_MX_DANE_RECORDS:
		break;
	}
	for (i = 0; i < dane->nrrs; i++)
		if (mta_tlsa_usable(&dane->rrs[i]))
			usable++;
	if (usable == 0) {
		out->source = "dane-unusable";
		goto sts;
	}
	/* RFC 7672 §2.2: usable records make TLS mandatory, checked by them */
	out->tls = SMTP_CLIENT_TLS_MUST;
	out->dane = true;
	out->source = "dane";
	return;
sts:
	/* RFC 8461 §2: DANE wins where it applies; MTA-STS elsewhere */
	if (sts != NULL)
		mta_tls_policy_sts(domain, host, sts, out);
}

void
mta_tls_policy_optional(struct mta_tls_policy *p)
{
	if (strcmp(p->source, "relay") == 0 ||
	    strcmp(p->source, "opportunistic") == 0)
		return;
	p->tls = SMTP_CLIENT_TLS_MAY;
	p->verify = false;
	p->dane = false;
	p->skip = false;
	p->source = "tls-required-no";
	p->why = "";
	(void)str_copy(p->label, sizeof(p->label), "TLS-Required: No "
	    "(RFC 8689)");
}

void
mta_dane_copy(const struct mta_dane *in, size_t n, struct mta_dane **out,
    size_t *nout)
{
	size_t	i, j;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return;
	*out = xcalloc(n, sizeof(**out));
	for (i = 0; i < n; i++) {
		(*out)[i] = in[i];
		(*out)[i].rrs = NULL;
		if (in[i].nrrs == 0)
			continue;
		(*out)[i].rrs = xcalloc(in[i].nrrs, sizeof(*in[i].rrs));
		for (j = 0; j < in[i].nrrs; j++) {
			(*out)[i].rrs[j] = in[i].rrs[j];
			(*out)[i].rrs[j].data = xmalloc(in[i].rrs[j].len);
			memcpy((*out)[i].rrs[j].data, in[i].rrs[j].data,
			    in[i].rrs[j].len);
		}
	}
	*nout = n;
}

void
mta_dane_free(struct mta_dane *d, size_t n)
{
	size_t	i, j;

	for (i = 0; d != NULL && i < n; i++) {
		for (j = 0; j < d[i].nrrs; j++)
			free(d[i].rrs[j].data);
		free(d[i].rrs);
	}
	free(d);
}

enum mta_result
mta_result_of(int code)
{
	if (code >= 200 && code < 300)
		return MTA_DELIVERED;
	if (code >= 500 && code < 600)
		return MTA_PERMFAIL;
	return MTA_TEMPFAIL;
}

/* --- small helpers --- */

static uint64_t
mta_wall_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A reply for a log line: one line, printable, bounded. */
static void
mta_log_text(const char *text, char *out, size_t outsz)
{
	size_t	i, o = 0;

	for (i = 0; text[i] != '\0' && o + 4 < outsz; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n')
			out[o++] = ' ';
		else if (c == '"' || c == '\\')
			out[o++] = '\'';
		else if (c < 0x20 || c >= 0x7f)
			out[o++] = '?';
		else
			out[o++] = (char)c;
		if (o + 4 >= outsz && text[i + 1] != '\0') {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
	}
	out[o] = '\0';
}

static uint32_t
mta_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* --- jobs --- */

static void
mta_job_free(struct mta_job *job)
{
	size_t	i;

	if (job->fd != -1)
		close(job->fd);
	for (i = 0; i < job->nrcpts; i++) {
		free((char *)job->rcpts[i].addr);
		free((char *)job->rcpts[i].orcpt);
		free(job->enh[i]);
		free(job->text[i]);
		free(job->remote[i]);
	}
	free(job->rcpts);
	free(job->result);
	free(job->flags);
	free(job->enh);
	free(job->text);
	free(job->remote);
	free(job->done);
	free(job->sender);
	free(job->envid);
	free(job->prepend);
	free(job);
	mta->njobs--;
}

/*
 * The outcome of recipient i, logged as one line: who, through which
 * server, with what TLS, how long after the message arrived, what the
 * server said.
 */
static void
mta_job_set(struct mta_job *job, size_t i, enum mta_result res,
    uint32_t flags, const char *enh, const char *text,
    const struct mta_conn *conn, bool server_reply)
{
	const struct mta_conn_addr	*peer = NULL;
	const char			*version = "", *cipher = "";
	const char			*status;
	char				 relay[DNS_NAME_MAX + 80];
	char				 tls[160], show[MTA_LOG_TEXT_MAX];
	char				 to[MTA_LOG_ADDR_MAX], dsn[16];
	uint64_t			 now = mta_wall_ms(), delay;
	size_t				 len;
	bool				 verified = false, tls_on = false;
	bool				 by_dane = false;

	if (job->done[i])
		return;
	job->done[i] = true;
	job->result[i] = (uint32_t)res;
	job->flags[i] = flags;
	if (enh == NULL || enh[0] == '\0')
		(void)snprintf(dsn, sizeof(dsn), "%c.0.0",
		    res == MTA_DELIVERED ? '2' : res == MTA_TEMPFAIL ? '4' :
		    '5');
	else
		(void)str_copy(dsn, sizeof(dsn), enh);
	job->enh[i] = xstrdup(dsn);
	len = strnlen(text, MTA_TEXT_MAX);
	job->text[i] = xstrndup(text, len);
	if (conn != NULL) {
		peer = mta_conn_peer(conn);
		tls_on = mta_conn_tls(conn, &version, &cipher, &verified,
		    &by_dane);
		/* remote names the server only when text is its reply */
		job->remote[i] = server_reply ? xasprintf("%s[%s]",
		    peer->host, peer->ip) : xstrdup("");
		(void)snprintf(relay, sizeof(relay), "%s[%s]:%u", peer->host,
		    peer->ip, peer->port);
	} else {
		job->remote[i] = xstrdup("");
		(void)str_copy(relay, sizeof(relay), "none");
	}
	if (tls_on)
		(void)snprintf(tls, sizeof(tls), "%s/%s", version, cipher);
	else
		(void)str_copy(tls, sizeof(tls), "no");
	switch (res) {
	case MTA_DELIVERED:
		status = "sent";
		mta->sent++;
		break;
	case MTA_TEMPFAIL:
		status = "deferred";
		mta->deferred++;
		break;
	default:
		status = "bounced";
		mta->bounced++;
		break;
	}
	delay = now > job->created_ms ? now - job->created_ms : 0;
	mta_log_text(text, show, sizeof(show));
	log_info("id=%s to=<%s> relay=%s tls=%s verified=%s delay=%llu.%01llus "
	    "dsn=%s status=%s reply=\"%s\"", job->id,
	    printable(job->rcpts[i].addr, strnlen(job->rcpts[i].addr,
	    MTA_TEXT_MAX), to, sizeof(to)), relay, tls,
	    tls_on && verified ? (by_dane ? "dane" : "yes") : "no",
	    (unsigned long long)(delay / 1000),
	    (unsigned long long)(delay % 1000 / 100), dsn, status, show);
}

/* The reply of a connection that never carried the message. */
static void
mta_job_fail_all(struct mta_job *job, enum mta_result res, const char *enh,
    const char *text)
{
	size_t	i;

	for (i = 0; i < job->nrcpts; i++)
		mta_job_set(job, i, res, 0, enh, text, NULL, false);
}

/* Every recipient has its outcome: tell the queue, forget the job. */
static void
mta_job_finish(struct mta_job *job)
{
	struct msg	*m;
	size_t		 i;

	for (i = 0; i < job->nrcpts; i++)
		if (!job->done[i])
			mta_job_set(job, i, MTA_TEMPFAIL, 0, "4.3.0",
			    "no outcome (internal error)", NULL, false);
	if (job->gen == mta->queue_gen) {
		m = msg_new(MSG_MTA_RESULT);
		msg_put_u64(m, job->reqid);
		msg_put_u32(m, (uint32_t)job->nrcpts);
		for (i = 0; i < job->nrcpts; i++) {
			msg_put_u32(m, job->result[i]);
			msg_put_u32(m, job->flags[i]);
			msg_put_str(m, job->enh[i]);
			msg_put_str(m, job->text[i]);
			msg_put_str(m, job->remote[i]);
		}
		(void)proc_send(mta->self, PROC_QUEUE, m);
	} else
		log_info("id=%s event=result-dropped reason=\"the queue "
		    "restarted\"", job->id);
	mta_job_free(job);
}

/* --- destinations --- */

static struct mta_dest *
mta_dest_find(const char *key)
{
	struct mta_dest	*d;

	for (d = mta->buckets[mta_hash(key) % MTA_BUCKETS]; d != NULL;
	    d = d->next)
		if (strcmp(d->key, key) == 0)
			return d;
	return NULL;
}

static struct mta_dest *
mta_dest_get(const char *key, const char *domain)
{
	struct mta_dest	*d;
	uint32_t	 b;

	if ((d = mta_dest_find(key)) != NULL)
		return d;
	d = xcalloc(1, sizeof(*d));
	(void)str_copy(d->key, sizeof(d->key), key);
	(void)str_copy(d->domain, sizeof(d->domain), domain);
	TAILQ_INIT(&d->jobs);
	TAILQ_INIT(&d->links);
	TAILQ_INIT(&d->idle);
	b = mta_hash(key) % MTA_BUCKETS;
	d->next = mta->buckets[b];
	mta->buckets[b] = d;
	mta->ndests++;
	return d;
}

static void
mta_dest_forget_route(struct mta_dest *d)
{
	free(d->addrs);
	d->addrs = NULL;
	d->naddrs = 0;
	mta_dane_free(d->dane, d->ndane);
	d->dane = NULL;
	d->ndane = 0;
	free(d->auth_user);
	if (d->auth_pass != NULL) {
		explicit_bzero(d->auth_pass, strlen(d->auth_pass));
		free(d->auth_pass);
	}
	d->auth_user = d->auth_pass = NULL;
	d->has_route = false;
}

/* MTA-STS is asked for a domain reached through its MX (not a relay). */
static bool
mta_sts_applies(const char *domain)
{
	struct mx_plan	 plan;
	const char	*err;

	return mta->conf->mta_sts && domain[0] != '[' &&
	    mx_plan(mta->conf->relays, mta->conf->nrelays, domain, &plan,
	    &err) == 0 && !plan.relay;
}

/* Unused and its route expired: drop it (from the GC timer only). */
static void
mta_dest_free(struct mta_dest *d)
{
	struct mta_dest	**pp;

	for (pp = &mta->buckets[mta_hash(d->key) % MTA_BUCKETS]; *pp != d;
	    pp = &(*pp)->next)
		;
	*pp = d->next;
	mta_dest_forget_route(d);
	free(d->sts);
	free(d);
	mta->ndests--;
}

/* Every job waiting at d fails with the same reason. */
static void
mta_dest_fail_jobs(struct mta_dest *d, enum mta_result res, const char *enh,
    const char *text)
{
	struct mta_job	*job;

	while ((job = TAILQ_FIRST(&d->jobs)) != NULL) {
		TAILQ_REMOVE(&d->jobs, job, entry);
		d->njobs--;
		mta_job_fail_all(job, res, enh, text);
		mta_job_finish(job);
	}
}

static void	mta_route_policy(struct mta_dest *);

/* The destination's MTA-STS policy is in: go on once the route is too. */
static void
mta_dest_sts_done(void *arg, const struct mta_sts_result *res)
{
	struct mta_dest	*d = arg;

	d->sts_handle = 0;
	free(d->sts);
	d->sts = NULL;
	if (res->policy) {
		d->sts = xmalloc(sizeof(*d->sts));
		*d->sts = res->pol;
	}
	log_info("mta: event=mta-sts domain=%s policy=%s source=%s%s%s%s",
	    d->domain, res->policy ? mtasts_mode_name(res->pol.mode) : "none",
	    res->source, res->why[0] != '\0' ? " reason=\"" : "", res->why,
	    res->why[0] != '\0' ? "\"" : "");
	mta_tlsrpt_sts_fetch(mta->self, d->domain, res);
	if (d->lookup_reqid != 0 || !d->has_route)
		return;
	/*
	 * A fetch may outlast a short route: the jobs that waited for both
	 * are still served with them, as a TTL of 0 would be.
	 */
	if (d->route_until < now_ms() + MTA_ROUTE_MIN * 1000)
		d->route_until = now_ms() + MTA_ROUTE_MIN * 1000;
	mta_route_policy(d);
	mta_dest_run(d);
}

static void
mta_route_ask(struct mta_dest *d)
{
	struct msg	*m;

	if (d->lookup_reqid != 0)
		return;
	d->lookup_reqid = ++mta->next_reqid;
	m = msg_new(MSG_LOOKUP_MX);
	msg_put_u64(m, d->lookup_reqid);
	msg_put_str(m, d->domain);
	/* Without lookup the ask is made again when it comes back. */
	(void)proc_send(mta->self, PROC_LOOKUP, m);
	/* The policy is asked again with every route (RFC 8461 §5.1). */
	if (d->sts_handle == 0 && mta_sts_applies(d->domain))
		d->sts_handle = mta_sts_ask(mta->sts, d->domain,
		    mta_dest_sts_done, d);
}

/* --- connections --- */

static void	mta_link_work(struct mta_link *);

static void
mta_link_idle_fire(evutil_socket_t fd, short what, void *arg)
{
	struct mta_link	*l = arg;

	if (!l->idle)
		return;
	TAILQ_REMOVE(&l->dest->idle, l, ientry);
	l->idle = false;
	mta_conn_quit(l->conn);
}

static void
mta_link_set_idle(struct mta_link *l)
{
	struct timeval	tv = { MTA_IDLE_SECONDS, 0 };

	if (l->idle)
		return;
	l->idle = true;
	TAILQ_INSERT_TAIL(&l->dest->idle, l, ientry);
	evtimer_add(l->ev_idle, &tv);
}

static void
mta_link_unidle(struct mta_link *l)
{
	if (!l->idle)
		return;
	TAILQ_REMOVE(&l->dest->idle, l, ientry);
	l->idle = false;
	evtimer_del(l->ev_idle);
}

static void
mta_op_ready(struct mta_conn *conn, void *arg)
{
	struct mta_link	*l = arg;

	l->ready = true;
	mta_link_work(l);
}

static void
mta_op_rcpt_done(struct mta_conn *conn, void *arg, size_t i,
    const struct smtp_client_reply *r)
{
	struct mta_link	*l = arg;
	struct mta_job	*job = l->job;
	const char	*text;
	size_t		 n, elen;
	uint32_t	 flags = 0;
	enum mta_result	 res;

	if (job == NULL || i >= job->nrcpts)
		fatalx("mta: a result for no recipient");
	res = mta_result_of(r->code);
	/*
	 * Our own words come as "421 4.4.2 connection lost": the queue
	 * keeps them after the code, as for every local reason.
	 */
	text = r->text;
	n = r->len;
	if (r->local) {
		if (n > 4 && text[3] == ' ') {
			text += 4;
			n -= 4;
		}
		elen = strnlen(r->enhanced, sizeof(r->enhanced));
		if (elen > 0 && n > elen && memcmp(text, r->enhanced, elen) ==
		    0 && text[elen] == ' ')
			text += elen + 1;
	}
	/* RFC 3461 §5.2.2: relayed to a server that will not report */
	if (res == MTA_DELIVERED &&
	    (mta_conn_extensions(conn) & SMTP_CLIENT_EXT_DSN) == 0)
		flags |= MTA_F_RELAYED;
	mta_job_set(job, i, res, flags, r->enhanced, text, conn, !r->local);
}

static void
mta_op_done(struct mta_conn *conn, void *arg)
{
	struct mta_link	*l = arg;
	struct mta_job	*job = l->job;

	l->job = NULL;
	l->sent = false;
	if (job != NULL)
		mta_job_finish(job);
}

static void
mta_op_gone(struct mta_conn *conn, void *arg, bool reached, const char *why,
    const char *enh)
{
	struct mta_link	*l = arg;
	struct mta_dest	*d = l->dest;
	struct mta_link	*o;
	struct mta_job	*job;
	char		 tenh[SMTP_CLIENT_ENH_MAX];
	bool		 working = false;

	mta_link_unidle(l);
	TAILQ_REMOVE(&d->links, l, entry);
	d->nlinks--;
	mta->nlinks--;
	event_free(l->ev_idle);
	/* A greeting's 5xx is the server's, not the recipient's: retry. */
	(void)str_copy(tenh, sizeof(tenh), enh);
	tenh[0] = '4';
	if ((job = l->job) != NULL) {
		l->job = NULL;
		mta_job_fail_all(job, MTA_TEMPFAIL, tenh, why[0] != '\0' ?
		    why : "connection closed");
		mta_job_finish(job);
	}
	free(l);
	if (!reached) {
		TAILQ_FOREACH(o, &d->links, entry)
			if (o->ready)
				working = true;
		/* Postfix's "dead destination": do not try each in turn. */
		if (!working)
			mta_dest_fail_jobs(d, MTA_TEMPFAIL, tenh,
			    why[0] != '\0' ? why : "connection failed");
	}
	d->used_ms = now_ms();
	mta_dest_run(d);
	mta_run_all();
}

static const struct mta_dane *mta_dest_dane(const struct mta_dest *,
		    const char *);

/* A session's TLS outcome, counted by lookup for TLS-RPT (RFC 8460). */
static void
mta_op_tls_result(struct mta_conn *conn, void *arg,
    const struct mta_conn_addr *a, enum mta_conn_tls_event ev,
    const char *why, const char *local_ip)
{
	struct mta_link		*l = arg;
	struct mta_dest		*d = l->dest;
	const struct mta_dane	*dn = mta_dest_dane(d, a->host);
	struct mta_tls_policy	 pol;

	mta_tls_policy(mta->conf, d->domain, a->host, dn, d->sts, &pol);
	/* RFC 8689 §5: the sender set the policy aside; nothing to report */
	if (d->tls_optional)
		return;
	/* RFC 8460 §4.3: testing reports what enforce would have refused */
	if (strcmp(pol.source, "mta-sts-testing") == 0 && pol.why[0] != '\0' &&
	    ev != MTA_CONN_TLS_NOT_OFFERED && ev != MTA_CONN_TLS_FAILED) {
		ev = MTA_CONN_TLS_SKIPPED;
		why = pol.why;
	}
	mta_tlsrpt_send(mta->self, d->domain, pol.source, dn, d->sts, a, ev,
	    why, local_ip);
}

static const struct mta_conn_ops mta_conn_ops = {
	.ready = mta_op_ready,
	.rcpt_done = mta_op_rcpt_done,
	.done = mta_op_done,
	.gone = mta_op_gone,
	.tls_result = mta_op_tls_result,
};

/*
 * A ready connection: send its job, or the next one waiting at its
 * destination, or idle.  A message the client refuses before sending
 * (too big, needs SMTPUTF8) is done at once and the next one goes.
 */
static void
mta_link_work(struct mta_link *l)
{
	struct mta_dest	*d = l->dest;
	struct mta_job	*job;

	for (;;) {
		if ((job = l->job) == NULL) {
			if (mta_conn_messages(l->conn) >= MTA_REUSE_MAX) {
				mta_link_unidle(l);
				mta_conn_quit(l->conn);
				return;
			}
			if ((job = TAILQ_FIRST(&d->jobs)) == NULL) {
				mta_link_set_idle(l);
				return;
			}
			TAILQ_REMOVE(&d->jobs, job, entry);
			d->njobs--;
			l->job = job;
		}
		mta_link_unidle(l);
		l->sent = true;
		d->used_ms = now_ms();
		if (mta_conn_send(l->conn, &job->msg, job->prepend, job->fd,
		    job->msglen) == 0)
			return;
		/* refused before sending: done has finished the job */
	}
}

static void
mta_link_new(struct mta_dest *d, struct mta_job *job)
{
	struct mta_link		*l;
	struct mta_conn_params	 p;

	l = xcalloc(1, sizeof(*l));
	l->dest = d;
	l->job = job;
	if ((l->ev_idle = evtimer_new(mta->self->base, mta_link_idle_fire,
	    l)) == NULL)
		fatalx("mta: evtimer_new");
	TAILQ_INSERT_TAIL(&d->links, l, entry);
	d->nlinks++;
	mta->nlinks++;
	memset(&p, 0, sizeof(p));
	p.helo = mta->conf->hostname;
	p.dane = d->dane;
	p.ndane = d->ndane;
	p.auth_user = d->auth_user;
	p.auth_pass = d->auth_pass;
	l->conn = mta_conn_new(mta->self->base, mta->tls, &p, d->addrs,
	    d->naddrs, &mta_conn_ops, l);
}

/* Give d's waiting jobs to idle connections, or to new ones. */
static void
mta_dest_run(struct mta_dest *d)
{
	struct mta_link	*l;
	struct mta_job	*job;

	while ((job = TAILQ_FIRST(&d->jobs)) != NULL) {
		if ((l = TAILQ_FIRST(&d->idle)) != NULL) {
			mta_link_work(l);
			continue;
		}
		if (d->lookup_reqid != 0 || d->sts_handle != 0)
			return;		/* the route or its policy is coming */
		if (!d->has_route || now_ms() >= d->route_until) {
			mta_route_ask(d);
			return;
		}
		if (d->nlinks >= mta->conf->outbound.per_destination ||
		    mta->nlinks >= mta->conf->outbound.connections)
			return;
		TAILQ_REMOVE(&d->jobs, job, entry);
		d->njobs--;
		mta_link_new(d, job);
	}
}

/* A connection slot came free: destinations that wait for one go on. */
static void
mta_run_all(void)
{
	struct mta_dest	*d;
	size_t		 b;

	for (b = 0; b < MTA_BUCKETS; b++) {
		for (d = mta->buckets[b]; d != NULL; d = d->next) {
			if (mta->nlinks >= mta->conf->outbound.connections)
				return;
			if (d->njobs > 0 && d->lookup_reqid == 0 &&
			    d->sts_handle == 0)
				mta_dest_run(d);
		}
	}
}

static void
mta_gc(evutil_socket_t fd, short what, void *arg)
{
	struct timeval	 tv = { MTA_GC_SECONDS, 0 };
	struct mta_dest	*d, *next;
	uint64_t	 now = now_ms();
	size_t		 b;

	for (b = 0; b < MTA_BUCKETS; b++) {
		for (d = mta->buckets[b]; d != NULL; d = next) {
			next = d->next;
			if (d->njobs == 0 && d->nlinks == 0 &&
			    d->lookup_reqid == 0 && d->sts_handle == 0 &&
			    now >= d->route_until &&
			    now - d->used_ms >= MTA_GC_SECONDS * 1000)
				mta_dest_free(d);
		}
	}
	evtimer_add(mta->ev_gc, &tv);
}

/* --- requests --- */

static void __attribute__((noreturn))
mta_bad(struct msg *m, enum proc_id from, const char *why)
{
	fatalx("mta: bad %s from %s: %s", msg_name(m->type), proc_name(from),
	    why);
}

static char *
mta_get_str(struct msg *m, enum proc_id from, const char *what)
{
	char	*s;

	if (msg_get_strdup(m, MTA_TEXT_MAX, &s) == -1)
		mta_bad(m, from, what);
	return s;
}

/* MSG_MTA_DELIVER: mta.h has the layout. */
static void
mta_deliver(enum proc_id from, struct msg *m)
{
	struct mta_job		*job;
	struct mta_dest		*d;
	struct mx_plan		 plan;
	char			 id[QID_SIZE + 1];
	char			 domain[MTA_DOMAIN_MAX + 1];
	char			 key[MTA_KEY_MAX];
	const char		*err;
	uint64_t		 reqid, msglen;
	uint32_t		 body, utf8, ret, n, notify, i;
	char			*s;

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, id, sizeof(id)) == -1 || !qid_valid(id))
		mta_bad(m, from, "id");
	job = xcalloc(1, sizeof(*job));
	mta->njobs++;
	job->fd = msg_take_fd(m);
	job->reqid = reqid;
	job->gen = mta->queue_gen;
	(void)str_copy(job->id, sizeof(job->id), id);
	job->created_ms = qid_time(id);
	job->sender = mta_get_str(m, from, "sender");
	if (msg_get_u64(m, &msglen) == -1 || msg_get_u32(m, &body) == -1 ||
	    body > MTA_BODY_BINARYMIME || msg_get_u32(m, &utf8) == -1 ||
	    (utf8 & ~MSG_ENV_ALL) != 0 || msg_get_u32(m, &ret) == -1 ||
	    ret > MTA_RET_HDRS)
		mta_bad(m, from, "fields");
	job->msglen = msglen;
	job->envid = mta_get_str(m, from, "envid");
	if (msg_get_str(m, domain, sizeof(domain)) == -1 ||
	    domain[0] == '\0')
		mta_bad(m, from, "domain");
	if (msg_get_u32(m, &n) == -1 || n == 0 || n > MTA_RCPTS_MAX)
		mta_bad(m, from, "recipient count");
	if (job->fd == -1)
		mta_bad(m, from, "no descriptor");
	job->nrcpts = n;
	job->rcpts = xcalloc(n, sizeof(*job->rcpts));
	job->result = xcalloc(n, sizeof(*job->result));
	job->flags = xcalloc(n, sizeof(*job->flags));
	job->enh = xcalloc(n, sizeof(*job->enh));
	job->text = xcalloc(n, sizeof(*job->text));
	job->remote = xcalloc(n, sizeof(*job->remote));
	job->done = xcalloc(n, sizeof(*job->done));
	for (i = 0; i < n; i++) {
		s = mta_get_str(m, from, "recipient");
		if (s[0] == '\0')
			mta_bad(m, from, "empty recipient");
		job->rcpts[i].addr = s;
		if (msg_get_u32(m, &notify) == -1 ||
		    (notify & ~(uint32_t)0xf) != 0)
			mta_bad(m, from, "notify");
		job->rcpts[i].notify = notify;
		s = mta_get_str(m, from, "orcpt");
		if (s[0] == '\0') {
			free(s);
			s = NULL;
		}
		job->rcpts[i].orcpt = s;
	}
	if (msg_get_strdup(m, MSG_PREPEND_MAX, &job->prepend) == -1)
		mta_bad(m, from, "prepend");
	if (msg_end(m) == -1)
		mta_bad(m, from, "trailing bytes");

	job->msg.from = job->sender;
	/* RFC 1870: the size the next hop gets, our header fields too */
	job->msg.size = msglen + strlen(job->prepend);
	job->msg.body = body == MTA_BODY_8BITMIME ?
	    SMTP_CLIENT_BODY_8BITMIME : body == MTA_BODY_BINARYMIME ?
	    SMTP_CLIENT_BODY_BINARYMIME : SMTP_CLIENT_BODY_7BIT;
	job->msg.smtputf8 = (utf8 & MSG_ENV_SMTPUTF8) != 0;
	job->msg.requiretls = (utf8 & MSG_ENV_REQUIRETLS) != 0;
	job->tls_optional = !job->msg.requiretls &&
	    (utf8 & MSG_ENV_TLS_OPTIONAL) != 0;
	job->msg.ret = ret == MTA_RET_FULL ? SMTP_CLIENT_RET_FULL :
	    ret == MTA_RET_HDRS ? SMTP_CLIENT_RET_HDRS :
	    SMTP_CLIENT_RET_UNSET;
	job->msg.envid = job->envid[0] != '\0' ? job->envid : NULL;
	job->msg.rcpts = job->rcpts;
	job->msg.nrcpts = job->nrcpts;

	if (mta->njobs > MTA_JOBS_MAX) {
		mta_job_fail_all(job, MTA_TEMPFAIL, "4.3.0",
		    "too many messages in the mta; try later");
		mta_job_finish(job);
		return;
	}
	if (mx_plan(mta->conf->relays, mta->conf->nrelays, domain, &plan,
	    &err) == -1) {
		mta_job_fail_all(job, MTA_PERMFAIL, "5.1.2", err);
		mta_job_finish(job);
		return;
	}
	/* Everything relayed to one host shares its connections. */
	if (plan.relay)
		(void)snprintf(key, sizeof(key), "relay:%s:%u", plan.name,
		    plan.port);
	else
		(void)snprintf(key, sizeof(key), "%s%s", job->tls_optional ?
		    "tls-optional:" : "", plan.name);
	d = mta_dest_get(key, domain);
	d->tls_optional = job->tls_optional && !plan.relay;
	job->dest = d;
	TAILQ_INSERT_TAIL(&d->jobs, job, entry);
	d->njobs++;
	d->used_ms = now_ms();
	mta_dest_run(d);
}

static struct mta_dest *
mta_dest_by_lookup(uint64_t reqid)
{
	struct mta_dest	*d;
	size_t		 b;

	for (b = 0; b < MTA_BUCKETS; b++)
		for (d = mta->buckets[b]; d != NULL; d = d->next)
			if (d->lookup_reqid == reqid)
				return d;
	return NULL;
}

/* The host section of MSG_LOOKUP_MX_RESULT (lookup_mx.h). */
static void
mta_route_hosts(struct msg *m, enum proc_id from, struct mta_dane **out,
    size_t *nout)
{
	struct mta_dane	*dn;
	struct dns_tlsa	*t;
	struct span	 data;
	uint32_t	 n, i, j, v, r, usage, sel, mtype;

	if (msg_get_u32(m, &n) == -1 || n > MX_HOSTS_MAX)
		mta_bad(m, from, "route hosts");
	*out = n > 0 ? xcalloc(n, sizeof(**out)) : NULL;
	*nout = n;
	for (i = 0; i < n; i++) {
		dn = &(*out)[i];
		if (msg_get_str(m, dn->host, sizeof(dn->host)) == -1 ||
		    msg_get_u32(m, &v) == -1 || v > 1)
			mta_bad(m, from, "route host");
		dn->dnssec = v == 1;
		if (msg_get_u32(m, &v) == -1 || v > LOOKUP_MX_DANE_FAILED ||
		    msg_get_str(m, dn->reason, sizeof(dn->reason)) == -1 ||
		    msg_get_u32(m, &r) == -1 || r > LOOKUP_MX_TLSA_MAX ||
		    (r > 0) != (v == LOOKUP_MX_DANE_RECORDS))
			mta_bad(m, from, "route host DANE");
		dn->state = (enum lookup_mx_dane)v;
		if (r > 0)
			dn->rrs = xcalloc(r, sizeof(*dn->rrs));
		for (j = 0; j < r; j++) {
			t = &dn->rrs[j];
			if (msg_get_u32(m, &usage) == -1 || usage > 255 ||
			    msg_get_u32(m, &sel) == -1 || sel > 255 ||
			    msg_get_u32(m, &mtype) == -1 || mtype > 255 ||
			    msg_get_span(m, &data) == -1 || data.len == 0 ||
			    data.len > LOOKUP_MX_TLSA_DATA_MAX)
				mta_bad(m, from, "route TLSA");
			t->usage = (uint8_t)usage;
			t->selector = (uint8_t)sel;
			t->mtype = (uint8_t)mtype;
			t->data = xmalloc(data.len);
			memcpy(t->data, data.ptr, data.len);
			t->len = data.len;
			dn->nrrs++;
		}
	}
}

/* The DANE answer of d's MX host, or NULL. */
static const struct mta_dane *
mta_dest_dane(const struct mta_dest *d, const char *host)
{
	size_t	j;

	for (j = 0; j < d->ndane; j++)
		if (strcasecmp(d->dane[j].host, host) == 0)
			return &d->dane[j];
	return NULL;
}

/* Each address gets the TLS policy of its host. */
static void
mta_route_policy(struct mta_dest *d)
{
	struct mta_tls_policy	 pol;
	struct mta_conn_addr	*a;
	const struct mta_dane	*dn;
	size_t			 i;

	for (i = 0; i < d->naddrs; i++) {
		a = &d->addrs[i];
		dn = mta_dest_dane(d, a->host);
		mta_tls_policy(mta->conf, d->domain, a->host, dn, d->sts, &pol);
		if (d->tls_optional)
			mta_tls_policy_optional(&pol);
		a->tls = pol.tls;
		a->verify = pol.verify;
		a->skip = pol.skip;
		a->dane = dn != NULL && pol.dane ? (int)(dn - d->dane) : -1;
		(void)str_copy(a->label, sizeof(a->label), pol.label);
		(void)str_copy(a->why, sizeof(a->why), pol.why);
		if (i > 0 && strcasecmp(a->host, d->addrs[i - 1].host) == 0)
			continue;
		log_debug("mta: event=tls-policy domain=%s mx=%s policy=%s "
		    "tls=%s%s%s%s", d->domain, a->host, pol.source, pol.skip ?
		    "skip" : pol.tls == SMTP_CLIENT_TLS_MUST ? "must" : "may",
		    pol.why[0] != '\0' ? " reason=\"" : "", pol.why,
		    pol.why[0] != '\0' ? "\"" : "");
		/* RFC 8461 §5: testing delivers, and says what enforce would */
		if (!pol.skip && pol.why[0] != '\0' &&
		    strcmp(pol.source, "mta-sts-testing") == 0)
			log_info("mta: event=mta-sts-testing domain=%s mx=%s "
			    "result=would-defer reason=\"%s\"", d->domain,
			    a->host, pol.why);
	}
}

/* --- cachetctl tls-policy --- */

static void
mta_ctl_line(uint64_t reqid, const char *line)
{
	proc_ctl_line(mta->self, reqid, line);
}

static void
mta_ctl_end(uint64_t reqid, uint32_t code, const char *err)
{
	proc_ctl_end(mta->self, reqid, code, err);
}

/*
 * MSG_CTL_REQUEST: u64 reqid, u32 argc, str argv[] (the parent forwards
 * cachetctl's words: a malformed request is an answer, not fatal).  Only
 * "tls-policy DOMAIN": the route is asked of lookup as for mail.
 */
static void
mta_ctl_ask_route(struct mta_ctl *c)
{
	struct msg	*q;

	c->lookup_reqid = ++mta->next_reqid;
	q = msg_new(MSG_LOOKUP_MX);
	msg_put_u64(q, c->lookup_reqid);
	msg_put_str(q, c->domain);
	if (proc_send(mta->self, PROC_LOOKUP, q) == -1) {
		c->lookup_reqid = 0;
		c->busy = false;
		mta_ctl_end(c->ctl_reqid, 1, "lookup is not running");
	}
}

/* Where TLS-RPT reports for the domain go (RFC 8460 §3), then the route. */
static void
mta_ctl_ask_rua(struct mta_ctl *c)
{
	struct msg	*q;

	c->rua_reqid = ++mta->next_reqid;
	q = msg_new(MSG_LOOKUP_TLSRPT_RUA);
	msg_put_u64(q, c->rua_reqid);
	msg_put_str(q, c->domain);
	if (proc_send(mta->self, PROC_LOOKUP, q) == -1) {
		c->rua_reqid = 0;
		c->busy = false;
		mta_ctl_end(c->ctl_reqid, 1, "lookup is not running");
	}
}

/* MSG_LOOKUP_TLSRPT_RUA_RESULT: u64 reqid, str rua or "none: WHY". */
static void
mta_ctl_rua(struct msg *m)
{
	struct mta_ctl	*c = NULL;
	char		 rua[MTA_CTL_LINE_MAX];
	uint64_t	 reqid;
	size_t		 i;

	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, rua, sizeof(rua)) == -1 || msg_end(m) == -1)
		fatalx("mta: bad %s from lookup", msg_name(m->type));
	for (i = 0; i < MTA_CTL_MAX && c == NULL; i++)
		if (mta->ctl[i].busy && mta->ctl[i].rua_reqid == reqid)
			c = &mta->ctl[i];
	if (c == NULL)
		return;
	c->rua_reqid = 0;
	(void)str_copy(c->rua, sizeof(c->rua), rua);
	mta_ctl_ask_route(c);
}

static void
mta_ctl_sts_done(void *arg, const struct mta_sts_result *res)
{
	struct mta_ctl	*c = arg;

	c->sts_handle = 0;
	c->sts = *res;
	mta_ctl_ask_rua(c);
}

static void
mta_ctl_request(struct msg *m)
{
	struct mx_plan	 plan;
	struct mta_ctl	*c = NULL;
	char		 verb[16], domain[MTA_DOMAIN_MAX + 1];
	const char	*err;
	uint64_t	 reqid;
	uint32_t	 argc;
	size_t		 i;

	if (msg_get_u64(m, &reqid) == -1)
		fatalx("mta: bad %s from parent", msg_name(m->type));
	if (msg_get_u32(m, &argc) == -1 || argc != 2 ||
	    msg_get_str(m, verb, sizeof(verb)) == -1 ||
	    strcmp(verb, "tls-policy") != 0 ||
	    msg_get_str(m, domain, sizeof(domain)) == -1 ||
	    msg_end(m) == -1) {
		mta_ctl_end(reqid, 2, "usage: tls-policy DOMAIN");
		return;
	}
	if (mx_plan(mta->conf->relays, mta->conf->nrelays, domain, &plan,
	    &err) == -1) {
		mta_ctl_end(reqid, 1, err);
		return;
	}
	for (i = 0; i < MTA_CTL_MAX && c == NULL; i++)
		if (!mta->ctl[i].busy)
			c = &mta->ctl[i];
	if (c == NULL) {
		mta_ctl_end(reqid, 1, "too many requests; try again");
		return;
	}
	memset(c, 0, sizeof(*c));
	c->busy = true;
	c->ctl_reqid = reqid;
	(void)str_copy(c->domain, sizeof(c->domain), domain);
	c->sts.source = "none";
	if (!mta_sts_applies(domain)) {
		(void)str_copy(c->sts.why, sizeof(c->sts.why),
		    mta->conf->mta_sts ? "not asked (a relay or an address)" :
		    "not asked (mta-sts no)");
		mta_ctl_ask_rua(c);
		return;
	}
	/* the policy first (fetched if need be, as for mail), then the route */
	c->sts_handle = mta_sts_ask(mta->sts, domain, mta_ctl_sts_done, c);
}

/* One TLSA record as "3 1 1 HEX (usable)". */
static void
mta_ctl_tlsa(uint64_t reqid, const struct dns_tlsa *t)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 data[MTA_CTL_HEX_MAX * 2 + 4];
	char			 line[MTA_CTL_LINE_MAX];
	size_t			 i, o = 0;

	for (i = 0; i < t->len; i++) {
		if (i == MTA_CTL_HEX_MAX) {
			memcpy(data + o, "...", 3);
			o += 3;
			break;
		}
		data[o++] = hex[t->data[i] >> 4];
		data[o++] = hex[t->data[i] & 0xf];
	}
	data[o] = '\0';
	(void)snprintf(line, sizeof(line), "  tlsa: %u %u %u %s (%s)",
	    t->usage, t->selector, t->mtype, data,
	    mta_tlsa_usable(t) ? "usable" : "unusable");
	mta_ctl_line(reqid, line);
}

/* The MTA-STS part of a tls-policy answer. */
static void
mta_ctl_sts_lines(const struct mta_ctl *c)
{
	const struct mta_sts_result	*r = &c->sts;
	char				 line[MTA_CTL_LINE_MAX];
	char				 mx[MTA_CTL_LINE_MAX / 2];

	if (!r->policy) {
		(void)snprintf(line, sizeof(line), "mta-sts: none%s%s",
		    r->why[0] != '\0' ? ": " : "", r->why);
		mta_ctl_line(c->ctl_reqid, line);
		return;
	}
	mtasts_policy_mx_list(&r->pol, mx, sizeof(mx));
	(void)snprintf(line, sizeof(line), "mta-sts: %s id=%s mode=%s "
	    "max_age=%u mx=%s", r->source, r->id[0] != '\0' ? r->id : "-",
	    mtasts_mode_name(r->pol.mode), r->pol.max_age, mx);
	mta_ctl_line(c->ctl_reqid, line);
	if (r->why[0] != '\0') {
		(void)snprintf(line, sizeof(line), "  note: %s", r->why);
		mta_ctl_line(c->ctl_reqid, line);
	}
}

/* The answer to a tls-policy request: per MX host, what and why. */
static void
mta_ctl_route(uint64_t reqid, uint32_t status, const char *enh,
    const char *reason, const struct mta_conn_addr *addrs, size_t n,
    const struct mta_dane *dane, size_t ndane)
{
	struct mta_tls_policy	 pol;
	struct mta_ctl		*c = NULL;
	char			 line[MTA_CTL_LINE_MAX];
	size_t			 i, j, o;
	int			 w;

	for (i = 0; i < MTA_CTL_MAX && c == NULL; i++)
		if (mta->ctl[i].busy && mta->ctl[i].lookup_reqid == reqid)
			c = &mta->ctl[i];
	if (c == NULL)
		return;
	c->lookup_reqid = 0;
	c->busy = false;
	(void)snprintf(line, sizeof(line), "domain: %s", c->domain);
	mta_ctl_line(c->ctl_reqid, line);
	mta_ctl_sts_lines(c);
	(void)snprintf(line, sizeof(line), "tls-rpt: %s", c->rua);
	mta_ctl_line(c->ctl_reqid, line);
	if (status != MX_OK) {
		(void)snprintf(line, sizeof(line), "route: %s %s %s",
		    mx_status_name((enum mx_status)status), enh, reason);
		mta_ctl_line(c->ctl_reqid, line);
		mta_ctl_end(c->ctl_reqid, 1, "no route");
		return;
	}
	mta_ctl_line(c->ctl_reqid, mta->conf->dane ? "dane: yes" :
	    "dane: no");
	/* hosts in route order; with no host section (a relay), each address */
	for (i = 0; i < (ndane > 0 ? ndane : n); i++) {
		const struct mta_dane	*dn = ndane > 0 ? &dane[i] : NULL;
		const char		*host = dn != NULL ? dn->host :
					    addrs[i].host;

		w = snprintf(line, sizeof(line), "mx: %s dnssec=%s addresses=",
		    host, dn != NULL && dn->dnssec ? "secure" : "insecure");
		o = w < 0 ? 0 : (size_t)w;
		for (j = 0; j < n && o < sizeof(line); j++) {
			if (strcasecmp(addrs[j].host, host) != 0 ||
			    (dn == NULL && j != i))
				continue;
			w = snprintf(line + o, sizeof(line) - o, "%s%s:%u",
			    line[o - 1] == '=' ? "" : ",", addrs[j].ip,
			    addrs[j].port);
			o += w < 0 ? 0 : (size_t)w;
		}
		mta_ctl_line(c->ctl_reqid, line);
		if (dn == NULL || dn->state == LOOKUP_MX_DANE_NONE)
			mta_ctl_line(c->ctl_reqid, "  tlsa: not asked");
		else if (dn->state == LOOKUP_MX_DANE_NO_TLSA)
			mta_ctl_line(c->ctl_reqid, "  tlsa: none");
		else if (dn->state == LOOKUP_MX_DANE_FAILED) {
			(void)snprintf(line, sizeof(line), "  tlsa: failed: "
			    "%s", dn->reason);
			mta_ctl_line(c->ctl_reqid, line);
		}
		for (j = 0; dn != NULL && j < dn->nrrs; j++)
			mta_ctl_tlsa(c->ctl_reqid, &dn->rrs[j]);
		mta_tls_policy(mta->conf, c->domain, host, dn,
		    c->sts.policy ? &c->sts.pol : NULL, &pol);
		(void)snprintf(line, sizeof(line), "  policy: %s: %s%s%s",
		    pol.source, pol.skip ? "host not used, mail deferred" :
		    pol.dane ? "TLS required, certificate checked against "
		    "TLSA" : pol.verify ? "TLS required, certificate verified" :
		    pol.tls == SMTP_CLIENT_TLS_MUST ? "TLS required" :
		    "STARTTLS when offered", pol.why[0] != '\0' &&
		    !pol.dane ? ": " : "", pol.dane ? "" : pol.why);
		mta_ctl_line(c->ctl_reqid, line);
	}
	mta_ctl_end(c->ctl_reqid, 0, NULL);
}

/* lookup went away: the requests waiting for it end. */
static void
mta_ctl_fail_all(void)
{
	size_t	i;

	for (i = 0; i < MTA_CTL_MAX; i++) {
		if (!mta->ctl[i].busy)
			continue;
		mta_sts_cancel(mta->sts, mta->ctl[i].sts_handle);
		mta->ctl[i].sts_handle = mta->ctl[i].lookup_reqid = 0;
		mta->ctl[i].rua_reqid = 0;
		mta->ctl[i].busy = false;
		mta_ctl_end(mta->ctl[i].ctl_reqid, 1, "lookup restarted");
	}
}

/* MSG_LOOKUP_MX_RESULT: lookup_mx.h has the layout. */
static void
mta_route_result(enum proc_id from, struct msg *m)
{
	struct mta_dest		*d;
	struct mta_conn_addr	*addrs = NULL;
	char			 enh[SMTP_CLIENT_ENH_MAX], reason[256];
	char			 host[DNS_NAME_MAX + 1], ip[MTA_CONN_IP_MAX];
	char			*user = NULL, *pass = NULL;
	struct mta_dane		*dane;
	size_t			 ndane;
	uint64_t		 reqid;
	uint32_t		 status, ttl, n, port, i;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &status) == -1 ||
	    status > MX_PERMFAIL ||
	    msg_get_str(m, enh, sizeof(enh)) == -1 ||
	    msg_get_str(m, reason, sizeof(reason)) == -1 ||
	    msg_get_u32(m, &ttl) == -1 ||
	    msg_get_strdup(m, CONF_ADDR_MAX, &user) == -1 ||
	    msg_get_strdup(m, 1024, &pass) == -1 ||
	    msg_get_u32(m, &n) == -1 || n > MTA_CONN_ADDRS_MAX ||
	    (status == MX_OK) != (n > 0))
		mta_bad(m, from, "route");
	if (n > 0)
		addrs = xcalloc(n, sizeof(*addrs));
	for (i = 0; i < n; i++) {
		if (msg_get_str(m, host, sizeof(host)) == -1 ||
		    msg_get_str(m, ip, sizeof(ip)) == -1 ||
		    msg_get_u32(m, &port) == -1 || port > 65535 ||
		    mta_conn_addr_make(&addrs[i], host, ip, (uint16_t)port) ==
		    -1)
			mta_bad(m, from, "route address");
	}
	mta_route_hosts(m, from, &dane, &ndane);
	if (msg_end(m) == -1)
		mta_bad(m, from, "route");
	if ((d = mta_dest_by_lookup(reqid)) == NULL) {
		mta_ctl_route(reqid, status, enh, reason, addrs, n, dane,
		    ndane);
		mta_dane_free(dane, ndane);
		free(addrs);
		explicit_bzero(pass, strlen(pass));
		free(pass);
		free(user);
		return;
	}
	d->lookup_reqid = 0;
	if (status != MX_OK) {
		mta_dane_free(dane, ndane);
		free(user);
		free(pass);
		log_info("mta: event=route-failed domain=%s status=%s "
		    "reason=\"%s %s\"", d->domain,
		    mx_status_name((enum mx_status)status), enh, reason);
		mta_dest_fail_jobs(d, status == MX_PERMFAIL ? MTA_PERMFAIL :
		    MTA_TEMPFAIL, enh, reason);
		return;
	}
	mta_dest_forget_route(d);
	d->addrs = addrs;
	d->naddrs = n;
	d->dane = dane;
	d->ndane = ndane;
	if (user[0] != '\0') {
		d->auth_user = user;
		d->auth_pass = pass;
	} else {
		free(user);
		free(pass);
	}
	d->has_route = true;
	/* A TTL of 0 still serves the jobs waiting now. */
	if (ttl > LOOKUP_MX_TTL_MAX)
		ttl = LOOKUP_MX_TTL_MAX;
	if (ttl < MTA_ROUTE_MIN)
		ttl = MTA_ROUTE_MIN;
	d->route_until = now_ms() + (uint64_t)ttl * 1000;
	if (d->sts_handle != 0)
		return;		/* mta_dest_sts_done goes on */
	mta_route_policy(d);
	mta_dest_run(d);
}

/* lookup came back (or changed): routes asked of the old one again. */
static void
mta_lookup_changed(void)
{
	struct mta_dest	*d;
	size_t		 b;

	for (b = 0; b < MTA_BUCKETS; b++) {
		for (d = mta->buckets[b]; d != NULL; d = d->next) {
			if (d->lookup_reqid == 0)
				continue;
			d->lookup_reqid = 0;
			mta_route_ask(d);
		}
	}
}

static void
mta_dispatch(struct proc_self *self, struct proc_peer peer, struct msg *m)
{
	enum proc_id	from = peer.id;

	switch (m->type) {
	case MSG_MTA_DELIVER:
		if (from != PROC_QUEUE)
			mta_bad(m, from, "not from the queue");
		mta_deliver(from, m);
		break;
	case MSG_LOOKUP_TLSRPT_RUA_RESULT:
		if (from != PROC_LOOKUP)
			mta_bad(m, from, "not from lookup");
		mta_ctl_rua(m);
		break;
	case MSG_LOOKUP_MX_RESULT:
		if (from != PROC_LOOKUP)
			mta_bad(m, from, "not from lookup");
		mta_route_result(from, m);
		break;
	case MSG_CTL_REQUEST:
		if (from != PROC_PARENT)
			mta_bad(m, from, "not from the parent");
		mta_ctl_request(m);
		break;
	case MSG_LOOKUP_STS_RESULT:
		if (from != PROC_LOOKUP)
			mta_bad(m, from, "not from lookup");
		mta_sts_lookup_result(mta->sts, m);
		break;
	case MSG_MTA_TLSRPT_POST:
		if (from != PROC_LOOKUP)
			mta_bad(m, from, "not from lookup");
		mta_tlsrpt_post(mta->sts, m);
		break;
	default:
		mta_bad(m, from, "unexpected");
	}
	if (m->data.data != NULL)
		explicit_bzero(m->data.data, m->data.len);
	msg_free(m);
}

static void
mta_peer_change(struct proc_self *self, struct proc_peer p)
{
	enum proc_id	id = p.id;

	/*
	 * Results for the old queue would carry request ids it never made;
	 * the new one sends its work again.
	 */
	if (id == PROC_QUEUE)
		mta->queue_gen++;
	else if (id == PROC_LOOKUP) {
		mta_ctl_fail_all();
		mta_lookup_changed();
		mta_sts_lookup_changed(mta->sts);
	}
}

void
mta_main(struct proc_self *self)
{
	static struct mta_role	 role;
	struct timeval		 tv = { MTA_GC_SECONDS, 0 };
	const char		*err = NULL;

	mta = &role;
	mta->self = self;
	mta->conf = self->conf;
	/* The system's CA bundle is read now, before chroot. */
	if ((mta->tls = tls_client_new(&err)) == NULL)
		fatalx("mta: TLS client context: %s", err);
	/* tls-ca: the servers' certificates are verified against it alone */
	if (mta->conf->tls_ca[0] != '\0' && tls_client_use_ca(mta->tls,
	    mta->conf->tls_ca, &err) == -1)
		fatalx("mta: tls-ca: %s", err);
	/* curl and the policy hosts' CA bundle, also before chroot */
	if ((mta->sts = mta_sts_new(self, mta->conf->tls_ca, &err)) == NULL)
		fatalx("mta: MTA-STS: %s", err);
	self->role = mta;
	self->dispatch = mta_dispatch;
	self->peer_up = mta_peer_change;
	self->peer_down = mta_peer_change;
	proc_drop(self);
	if ((mta->ev_gc = evtimer_new(self->base, mta_gc, NULL)) == NULL)
		fatalx("mta: evtimer_new");
	evtimer_add(mta->ev_gc, &tv);
	log_debug("mta: ready connections=%zu per-destination=%zu",
	    mta->conf->outbound.connections,
	    mta->conf->outbound.per_destination);
	proc_run(self);
}
