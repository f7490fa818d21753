/*
 * lookup_dkim: DKIM verification of an inbound message (msgauth.h,
 * RFC 6376 §6), in the lookup role.  For each DKIM-Signature field of
 * the header section smtp sent (the first MSGAUTH_SIGS_MAX of them, top
 * down), it parses the field, finds the body hash smtp computed for the
 * signature's c=, a= and l=, asks DNS for SELECTOR._domainkey.DOMAIN TXT
 * (all signatures' queries at once) and verifies with lib/dkim.c,
 * filling m->dkim[] in field order.  done(m) is called once, when the
 * last answer is in.
 *
 * Trust: the header section is hostile and re-parsed here; DNS answers
 * are parsed by dns.c and the key record by dkim_key_parse().  Results
 * follow RFC 8601 §2.7.1: a key we cannot get for now is temperror
 * (SERVFAIL, timeout), a key that is not there or cannot serve is
 * permerror (NXDOMAIN, no TXT, several records, revoked, RFC 8301).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim.h"
#include "log.h"
#include "msgauth.h"
#include "util.h"

struct lookup_dkim {
	struct proc_self	*self;
	struct dns		*dns;
};

struct dkim_job;

/* One signature waiting for its key. */
struct dkim_pending {
	struct dkim_job		*job;
	size_t			 idx;		/* in m->dkim[] */
	struct span		 field;		/* in m->hdrs */
	struct dkim_sig		 sig;
	struct dns_query	*q;
};

struct dkim_job {
	struct msgauth		*m;
	msgauth_done_cb		 done;
	size_t			 pending;
	struct dkim_pending	 sigs[MSGAUTH_SIGS_MAX];
};

struct lookup_dkim *
lookup_dkim_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_dkim	*ld = xcalloc(1, sizeof(*ld));

	(void)conf;
	ld->self = self;
	ld->dns = dns;
	if (dns == NULL)
		log_warnx("dkim: no resolver, every signature is temperror");
	return ld;
}

static void
dkim_set(struct msgauth_dkim *r, enum msgauth_dkim_result res,
    const char *reason)
{
	r->result = res;
	(void)snprintf(r->reason, sizeof(r->reason), "%s",
	    reason == NULL ? "" : reason);
}

static void
dkim_job_end(struct dkim_job *job)
{
	struct msgauth	*m = job->m;
	msgauth_done_cb	 done = job->done;
	size_t		 i;

	for (i = 0; i < m->ndkim; i++)
		log_debug("dkim: qid=%s d=%s s=%s a=%s result=%s reason=\"%s\"",
		    m->queue_id, m->dkim[i].domain, m->dkim[i].selector,
		    m->dkim[i].algo,
		    dkim_result_name((enum dkim_result)m->dkim[i].result),
		    m->dkim[i].reason);
	free(job);
	done(m);
}

/* The key record's answer for one signature (§6.1.2). */
static void
dkim_key_cb(void *arg, const struct dns_result *res)
{
	struct dkim_pending	*p = arg;
	struct dkim_job		*job = p->job;
	struct msgauth		*m = job->m;
	struct msgauth_dkim	*r = &m->dkim[p->idx];
	const struct msgauth_bh	*bh;
	struct dkim_bh_spec	 spec;
	struct dkim_key		 key;
	const char		*why = NULL;
	char			 text[MSGAUTH_REASON_MAX];
	enum dkim_result	 vr;

	p->q = NULL;
	if (res->status == DNS_TEMPFAIL) {
		(void)snprintf(text, sizeof(text), "key lookup failed: %.150s",
		    res->why);
		dkim_set(r, MSGAUTH_DKIM_TEMPERROR, text);
	} else if (res->status != DNS_OK || res->nrrs == 0)
		dkim_set(r, MSGAUTH_DKIM_PERMERROR, "no key");
	else if (res->nrrs > 1)
		/* §3.6.2.2 leaves the choice open; we take none of them */
		dkim_set(r, MSGAUTH_DKIM_PERMERROR, "several key records");
	else if (dkim_key_parse(span_make(res->rrs[0].u.txt.data,
	    res->rrs[0].u.txt.len), &key, &why) == -1)
		dkim_set(r, MSGAUTH_DKIM_PERMERROR, why);
	else {
		r->testing = key.testing;
		dkim_sig_bh_spec(&p->sig, &spec);
		bh = msgauth_bh_find(m, spec.canon, spec.hash, spec.limit);
		vr = dkim_verify_sig(&p->sig, span_make(m->hdrs, m->hdrlen),
		    p->field, bh->digest, bh->digestlen, bh->hashed, &key,
		    (uint64_t)time(NULL), &why);
		dkim_set(r, (enum msgauth_dkim_result)vr, why);
		dkim_key_clear(&key);
	}
	if (--job->pending == 0)
		dkim_job_end(job);
}

/* Parse one signature field and ask for its key, or settle it now. */
static void
dkim_start(struct lookup_dkim *ld, struct dkim_job *job, struct span field)
{
	struct msgauth		*m = job->m;
	struct dkim_pending	*p = &job->sigs[m->ndkim];
	struct msgauth_dkim	*r = &m->dkim[m->ndkim];
	struct dkim_bh_spec	 spec;
	const char		*colon, *why;
	char			 name[DNS_NAME_MAX + 2];
	int			 n;

	memset(r, 0, sizeof(*r));
	p->job = job;
	p->idx = m->ndkim++;
	p->field = field;
	colon = memchr(field.ptr, ':', field.len);
	if (dkim_sig_parse(span_make(colon + 1, field.len -
	    (size_t)(colon + 1 - field.ptr)), 0, &p->sig, &why) == -1) {
		dkim_set(r, MSGAUTH_DKIM_PERMERROR, why);
		return;
	}
	(void)snprintf(r->domain, sizeof(r->domain), "%s", p->sig.domain);
	(void)snprintf(r->selector, sizeof(r->selector), "%s",
	    p->sig.selector);
	(void)snprintf(r->algo, sizeof(r->algo), "%s", p->sig.a);
	(void)snprintf(r->b, sizeof(r->b), "%s", p->sig.bprefix);
	/* RFC 8301 §3.1: no key can make rsa-sha1 valid, ask for none */
	if (p->sig.algo == DKIM_ALGO_RSA_SHA1) {
		dkim_set(r, MSGAUTH_DKIM_PERMERROR,
		    "rsa-sha1 is not accepted (RFC 8301)");
		return;
	}
	dkim_sig_bh_spec(&p->sig, &spec);
	if (msgauth_bh_find(m, spec.canon, spec.hash, spec.limit) == NULL) {
		/* smtp hashes a bounded number of ways (MSGAUTH_BH_MAX) */
		dkim_set(r, MSGAUTH_DKIM_NEUTRAL, "body hash not computed");
		return;
	}
	n = snprintf(name, sizeof(name), "%s._domainkey.%s", p->sig.selector,
	    p->sig.domain);
	if (n < 0 || (size_t)n > DNS_NAME_MAX) {
		dkim_set(r, MSGAUTH_DKIM_PERMERROR, "key name too long");
		return;
	}
	if (ld->dns == NULL) {
		dkim_set(r, MSGAUTH_DKIM_TEMPERROR, "no resolver");
		return;
	}
	job->pending++;
	if ((p->q = dns_query(ld->dns, name, DNS_T_TXT, dkim_key_cb, p,
	    &why)) == NULL) {
		job->pending--;
		dkim_set(r, MSGAUTH_DKIM_TEMPERROR, why);
	}
}

void
lookup_dkim_verify(struct lookup_dkim *ld, struct msgauth *m,
    msgauth_done_cb done)
{
	struct dkim_job	*job = xcalloc(1, sizeof(*job));
	struct span	 hdrs = span_make(m->hdrs, m->hdrlen), field, name;
	size_t		 pos = 0;

	job->m = m;
	job->done = done;
	m->ndkim = 0;
	/* One extra hold so that an answer cannot end the job midway. */
	job->pending = 1;
	while (m->ndkim < MSGAUTH_SIGS_MAX &&
	    dkim_header_next(hdrs, &pos, &field, &name) == 1)
		if (span_caseeq(name, "DKIM-Signature"))
			dkim_start(ld, job, field);
	if (--job->pending == 0)
		dkim_job_end(job);
}
