/*
 * lookup_arc: ARC (RFC 8617, msgauth.h) in the lookup role.  Verify
 * parses the chain of the message smtp sent (arc.c), fetches the keys of
 * its seals and of its newest ARC-Message-Signature through lookup's DNS,
 * and fills m->arc; the chain is trusted when the newest seal's d= is an
 * `arc-trusted-sealer`.  Seal adds an ARC set over our Authentication-
 * Results when one of the recipients is an alias of ours that forwards
 * out of our domains, with the RSA key the DKIM signer keeps for that
 * domain; the RSA signatures are made on a worker thread.
 *
 * Trust: the header section is hostile (arc.c bounds it); DNS answers
 * are parsed by dns.c and judged here; the private key never leaves this
 * process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "arc.h"
#include "conf.h"
#include "log.h"
#include "lookup/resolve.h"
#include "lookup/users.h"
#include "msgauth.h"
#include "pool.h"
#include "util.h"

#define ARC_KEYS_MAX	8	/* distinct selectors fetched for a chain */
#define ARC_RCPTS_LOOK	100	/* recipients resolved to decide sealing */
#define ARC_DB		"cachet.db"	/* lookup's, relative after proc_drop */

/*
 * What an AMS signs when we seal (RFC 8617 §4.1.2 refers to RFC 6376
 * §5.4.1): the fields present among these, DKIM-Signature included as
 * §4.1.2 recommends; never an ARC-Seal, never Authentication-Results.
 */
static const char *const arc_sign_fields[] = {
	"from", "to", "cc", "subject", "date", "message-id", "reply-to",
	"in-reply-to", "references", "mime-version", "content-type",
	"content-transfer-encoding", "list-id", "dkim-signature",
};

struct lookup_arc {
	struct proc_self	*self;
	const struct conf	*conf;
	struct dns		*dns;
	struct lookup_dkimsign	*keys;
	struct users		*db;
	struct pool		*pool;
};

struct arc_verify_req;

struct arc_key {
	struct arc_verify_req	*req;
	char		 d[DNS_NAME_MAX + 1];
	char		 s[DNS_LABEL_MAX + 1];
	EVP_PKEY	*pkey;
	bool		 temp;
};

struct arc_verify_req {
	struct lookup_arc	*la;
	struct msgauth		*m;
	msgauth_done_cb		 done;
	struct arc_chain	*c;
	struct arc_key		 keys[ARC_KEYS_MAX];
	size_t			 nkeys;
	size_t			 pending;
};

struct arc_seal_job {
	struct pool_job		 job;	/* first: the pool hands it back */
	struct lookup_arc	*la;
	struct msgauth		*m;
	msgauth_done_cb		 done;
	char			 domain[DNS_NAME_MAX + 1];
	char			 selector[DNS_LABEL_MAX + 1];
	char			 h[ARC_H_MAX + 1];
	unsigned char		 bh[DKIM_DIGEST_MAX];
	struct span		 ar;	/* in a copy of m->prepend's A-R */
	char			*ar_copy;
	enum arc_cv		 cv;
	uint64_t		 t;
	EVP_PKEY		*pkey;	/* our reference */
	struct buf		 out;
	const char		*err;
	int			 rc;
};

struct lookup_arc *
lookup_arc_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns, struct lookup_dkimsign *keys)
{
	struct lookup_arc	*la = xcalloc(1, sizeof(*la));
	const char		*err;

	la->self = self;
	la->conf = conf;
	la->dns = dns;
	la->keys = keys;
	/* Our own connection, for the alias lookups of sealing. */
	if ((la->db = users_open(ARC_DB, false, &err)) == NULL)
		log_warnx("lookup: arc: %s: %s (nothing is sealed)", ARC_DB,
		    err);
	la->pool = pool_start(self->base, "arc", 1, NULL, NULL);
	return la;
}

/* --- verifying ---------------------------------------------------------- */

static int
arc_req_bh(void *arg, enum dkim_canon canon, uint64_t limit,
    unsigned char *out)
{
	struct arc_verify_req	*r = arg;
	const struct msgauth_bh	*bh;

	bh = msgauth_bh_find(r->m, canon, DKIM_HASH_SHA256, limit);
	if (bh == NULL || bh->digestlen != DKIM_DIGEST_MAX ||
	    (limit != DKIM_BH_NOLIMIT && bh->hashed < limit))
		return -1;
	memcpy(out, bh->digest, DKIM_DIGEST_MAX);
	return 0;
}

static EVP_PKEY *
arc_req_key(void *arg, const char *d, const char *s, bool *temp)
{
	struct arc_verify_req	*r = arg;
	size_t			 i;

	for (i = 0; i < r->nkeys; i++)
		if (strcasecmp(r->keys[i].d, d) == 0 &&
		    strcasecmp(r->keys[i].s, s) == 0) {
			*temp = r->keys[i].temp;
			return r->keys[i].pkey;
		}
	*temp = false;
	return NULL;
}

static void
arc_req_finish(struct arc_verify_req *r)
{
	struct msgauth		*m = r->m;
	struct arc_chain	*c = r->c;
	struct arc_verify_ops	 ops = { arc_req_bh, arc_req_key, r };
	msgauth_done_cb		 done = r->done;
	const char		*sealer;
	size_t			 i;

	arc_chain_verify(c, span_make(m->hdrs, m->hdrlen), &ops);
	m->arc.result = c->result == ARC_CV_PASS ? MSGAUTH_ARC_PASS :
	    c->result == ARC_CV_FAIL ? MSGAUTH_ARC_FAIL : MSGAUTH_ARC_NONE;
	m->arc.instance = c->n;
	m->arc.nsealers = 0;
	for (i = 0; i < c->n && m->arc.nsealers < 8; i++)
		if (c->set[i].have_as)
			(void)snprintf(m->arc.sealers[m->arc.nsealers++],
			    sizeof(m->arc.sealers[0]), "%s", c->set[i].as.d);
	m->arc.trusted = false;
	if (c->result == ARC_CV_PASS) {
		sealer = c->set[c->n - 1].as.d;
		for (i = 0; i < r->la->conf->narc_trusted; i++)
			if (strcasecmp(r->la->conf->arc_trusted[i],
			    sealer) == 0)
				m->arc.trusted = true;
	}
	/* no chain needs no reason in Authentication-Results */
	(void)snprintf(m->arc.reason, sizeof(m->arc.reason), "%s",
	    c->result == ARC_CV_NONE ? "" : c->reason);
	if (c->n > 0 || c->result != ARC_CV_NONE)
		log_info("lookup: event=arc result=%s instance=%u sealer=%s "
		    "trusted=%s qid=%s reason=\"%s\"", c->result == ARC_CV_PASS ?
		    "pass" : "fail", c->n, c->n > 0 && c->set[c->n - 1].have_as ?
		    c->set[c->n - 1].as.d : "-", m->arc.trusted ?
		    "yes" : "no", m->queue_id, c->reason);
	for (i = 0; i < r->nkeys; i++)
		EVP_PKEY_free(r->keys[i].pkey);
	free(c);
	free(r);
	done(m);
}

static void
arc_key_answer(void *arg, const struct dns_result *res)
{
	struct arc_key		*k = arg;
	struct arc_verify_req	*r = k->req;
	const char		*err = "no key record";
	size_t			 i;

	if (res->status == DNS_TEMPFAIL)
		k->temp = true;
	else if (res->status == DNS_OK)
		for (i = 0; i < res->nrrs && k->pkey == NULL; i++)
			if (res->rrs[i].type == DNS_T_TXT)
				k->pkey = arc_key_parse(span_make(
				    res->rrs[i].u.txt.data,
				    res->rrs[i].u.txt.len), &err);
	if (k->pkey == NULL)
		log_debug("lookup: event=arc-key key=%s._domainkey.%s "
		    "result=%s reason=\"%s\"", k->s, k->d, k->temp ?
		    "temperror" : "none", k->temp ? res->why : err);
	if (--r->pending == 0)
		arc_req_finish(r);
}

/* Note that (d, s) is needed; false when there are too many. */
static bool
arc_req_want(struct arc_verify_req *r, const char *d, const char *s)
{
	for (size_t i = 0; i < r->nkeys; i++)
		if (strcasecmp(r->keys[i].d, d) == 0 &&
		    strcasecmp(r->keys[i].s, s) == 0)
			return true;
	if (r->nkeys == ARC_KEYS_MAX)
		return false;
	r->keys[r->nkeys].req = r;
	(void)snprintf(r->keys[r->nkeys].d, sizeof(r->keys[0].d), "%s", d);
	(void)snprintf(r->keys[r->nkeys].s, sizeof(r->keys[0].s), "%s", s);
	r->nkeys++;
	return true;
}

void
lookup_arc_verify(struct lookup_arc *la, struct msgauth *m,
    msgauth_done_cb done)
{
	struct arc_verify_req	*r = xcalloc(1, sizeof(*r));
	struct arc_chain	*c = xcalloc(1, sizeof(*c));
	char			 name[DNS_LABEL_MAX + DNS_NAME_MAX + 16];
	const char		*err;
	size_t			 i;
	bool			 ok;

	r->la = la;
	r->m = m;
	r->done = done;
	r->c = c;
	arc_chain_parse(span_make(m->hdrs, m->hdrlen), c);
	if (c->result == ARC_CV_PASS) {
		/*
		 * §5.2: the keys of the newest AMS and of every seal; the
		 * older AMSs count for oldest-pass only where they share one.
		 */
		ok = arc_req_want(r, c->set[c->n - 1].ams.d,
		    c->set[c->n - 1].ams.s);
		for (i = 0; ok && i < c->n; i++)
			ok = arc_req_want(r, c->set[i].as.d, c->set[i].as.s);
		if (!ok) {
			c->result = ARC_CV_FAIL;
			c->reason = "ARC chain names too many keys";
			r->nkeys = 0;
		}
	}
	if (c->result != ARC_CV_PASS || r->nkeys == 0) {
		arc_req_finish(r);
		return;
	}
	/* every callback comes later, so counting first is safe */
	r->pending = r->nkeys;
	for (i = 0; i < r->nkeys; i++) {
		(void)snprintf(name, sizeof(name), "%s._domainkey.%s",
		    r->keys[i].s, r->keys[i].d);
		if (dns_query(la->dns, name, DNS_T_TXT, arc_key_answer,
		    &r->keys[i], &err) == NULL) {
			/* a name DNS refuses has no key */
			log_debug("lookup: event=arc-key key=%s result=none "
			    "reason=\"%s\"", name, err);
			if (--r->pending == 0) {
				arc_req_finish(r);
				return;
			}
		}
	}
}

/* --- sealing ------------------------------------------------------------ */

/*
 * The domain of the first recipient that is an address of ours whose
 * resolution reaches a remote destination (an alias forwarding out),
 * into domain; false when there is none.
 */
static bool
arc_forwarded(struct lookup_arc *la, const struct msgauth *m, char *domain,
    size_t domainsz)
{
	struct resolve_result	 res;
	const char		*at;
	size_t			 i, j;
	bool			 found = false;

	if (la->db == NULL)
		return false;
	for (i = 0; i < m->nrcpts && i < ARC_RCPTS_LOOK && !found; i++) {
		if ((at = strrchr(m->rcpts[i], '@')) == NULL)
			continue;
		if (resolve_address(la->db, la->conf, m->rcpts[i], 0,
		    &res) == -1)
			continue;
		if (res.status == RESOLVE_OK)
			for (j = 0; j < res.ndests && !found; j++)
				/* not a recipient elsewhere we relay for */
				if (res.dests[j].kind == RESOLVE_REMOTE &&
				    strcasecmp(res.dests[j].addr,
				    m->rcpts[i]) != 0) {
					(void)snprintf(domain, domainsz, "%s",
					    at + 1);
					found = true;
				}
		resolve_result_free(&res);
	}
	return found;
}

/* The value of the first Authentication-Results field in fields. */
static bool
arc_our_ar(const struct buf *fields, struct span *value)
{
	struct span	 field, name;
	const char	*colon;
	size_t		 pos = 0;

	while (dkim_header_next(span_make(fields->data, fields->len), &pos,
	    &field, &name) == 1)
		if (span_caseeq(name, "Authentication-Results")) {
			colon = memchr(field.ptr, ':', field.len);
			*value = span_make(colon + 1, field.len - (size_t)(colon +
			    1 - field.ptr));
			return true;
		}
	return false;
}

/* The h= list: the fields of arc_sign_fields the message has. */
static void
arc_h_list(const struct msgauth *m, char *h, size_t hsz)
{
	struct span	 hdrs = span_make(m->hdrs, m->hdrlen), field, name;
	size_t		 i, pos, len = 0;
	int		 n;

	h[0] = '\0';
	for (i = 0; i < sizeof(arc_sign_fields) / sizeof(arc_sign_fields[0]);
	    i++) {
		/* once per instance present (DKIM-Signature may repeat) */
		for (pos = 0; dkim_header_next(hdrs, &pos, &field,
		    &name) == 1;) {
			if (!span_caseeq(name, arc_sign_fields[i]))
				continue;
			n = snprintf(h + len, hsz - len, "%s%s", len > 0 ?
			    ":" : "", arc_sign_fields[i]);
			if (n < 0 || (size_t)n >= hsz - len) {
				h[len] = '\0';
				return;
			}
			len += (size_t)n;
		}
	}
}

static void
arc_seal_run(struct pool_job *job, void *local)
{
	struct arc_seal_job	*j = (struct arc_seal_job *)job;
	struct arc_chain	*c = xcalloc(1, sizeof(*c));
	struct span		 hdrs = span_make(j->m->hdrs, j->m->hdrlen);
	struct arc_seal_args	 a = {
		.ar = j->ar, .cv = j->cv, .d = j->domain, .s = j->selector,
		.h = j->h, .t = j->t, .key = j->pkey, .bh = j->bh,
	};

	(void)local;
	/* the message is not touched by anyone while the job runs */
	arc_chain_parse(hdrs, c);
	j->rc = arc_seal(hdrs, c, &a, &j->out, &j->err);
	free(c);
}

static void
arc_seal_done(struct pool_job *job)
{
	struct arc_seal_job	*j = (struct arc_seal_job *)job;
	struct msgauth		*m = j->m;
	msgauth_done_cb		 done = j->done;
	struct buf		 all;

	if (j->rc == -1)
		log_warnx("lookup: event=arc-seal qid=%s domain=%s "
		    "result=error reason=\"%s\"", m->queue_id, j->domain,
		    j->err);
	else if (j->out.len > 0) {
		/* the set goes on top of what is prepended (§5.1) */
		buf_init(&all, m->prepend.max);
		if (buf_append(&all, j->out.data, j->out.len) == -1 ||
		    buf_append(&all, m->prepend.data, m->prepend.len) == -1)
			log_warnx("lookup: event=arc-seal qid=%s result=error "
			    "reason=\"header fields too large\"",
			    m->queue_id);
		else {
			buf_free(&m->prepend);
			m->prepend = all;
			all.data = NULL;
			log_info("lookup: event=arc-seal qid=%s domain=%s "
			    "selector=%s instance=%u cv=%s", m->queue_id,
			    j->domain, j->selector, m->arc.instance + 1,
			    j->cv == ARC_CV_PASS ? "pass" : j->cv ==
			    ARC_CV_FAIL ? "fail" : "none");
		}
		buf_free(&all);
	}
	EVP_PKEY_free(j->pkey);
	buf_free(&j->out);
	free(j->ar_copy);
	free(j);
	done(m);
}

void
lookup_arc_seal(struct lookup_arc *la, struct msgauth *m,
    msgauth_done_cb done)
{
	struct arc_seal_job	*j;
	const struct msgauth_bh	*bh;
	struct span		 ar;
	char			 domain[DNS_NAME_MAX + 1];
	char			 selector[DNS_LABEL_MAX + 1];
	EVP_PKEY		*pkey;

	/*
	 * Only mail that came in on port 25 and that an alias of ours
	 * sends on (RFC 8617 §1: ARC is for intermediaries), with our
	 * Authentication-Results to seal and a key of the forwarding
	 * domain to seal with.
	 */
	if (m->kind != MSGAUTH_MX || m->hdrs_truncated ||
	    !arc_forwarded(la, m, domain, sizeof(domain)) ||
	    !arc_our_ar(&m->prepend, &ar) ||
	    (bh = msgauth_bh_find(m, DKIM_CANON_RELAXED, DKIM_HASH_SHA256,
	    DKIM_BH_NOLIMIT)) == NULL || bh->digestlen != DKIM_DIGEST_MAX ||
	    (pkey = lookup_dkimsign_rsa_key(la->keys, domain,
	    selector)) == NULL) {
		done(m);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->job.run = arc_seal_run;
	j->job.done = arc_seal_done;
	j->la = la;
	j->m = m;
	j->done = done;
	(void)snprintf(j->domain, sizeof(j->domain), "%s", domain);
	(void)snprintf(j->selector, sizeof(j->selector), "%s", selector);
	arc_h_list(m, j->h, sizeof(j->h));
	memcpy(j->bh, bh->digest, DKIM_DIGEST_MAX);
	/* m->prepend is not to be read from the worker: a copy */
	j->ar_copy = xmalloc(ar.len + 1);
	memcpy(j->ar_copy, ar.ptr, ar.len);
	j->ar = span_make(j->ar_copy, ar.len);
	j->cv = m->arc.result == MSGAUTH_ARC_PASS ? ARC_CV_PASS :
	    m->arc.result == MSGAUTH_ARC_FAIL ? ARC_CV_FAIL : ARC_CV_NONE;
	j->t = (uint64_t)time(NULL);
	/* the module's key lives until the next loop turn: a reference */
	if (EVP_PKEY_up_ref(pkey) != 1)
		fatalx("lookup: arc: EVP_PKEY_up_ref");
	j->pkey = pkey;
	buf_init(&j->out, MSGAUTH_PREPEND_MAX);
	pool_submit(la->pool, &j->job);
}
