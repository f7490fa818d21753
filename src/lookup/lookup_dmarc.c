/*
 * lookup_dmarc: DMARC evaluation (RFC 7489; msgauth.h) in the lookup
 * role, after DKIM, SPF (from smtp) and ARC are in.  It takes the From:
 * domain of the header section (hostile: lib/dmarc.c parses it), finds
 * the policy record in DNS (answers are judged here, by lib/dmarc.c),
 * computes identifier alignment, picks p=, sp= or np= and the
 * disposition (`dmarc-policy`, pct=, a trusted ARC chain), and fills
 * m->dmarc.  The verdict step turns the disposition into 550 5.7.1 or
 * the Junk flag.
 *
 * Policy discovery is RFC 7489 §6.6.3's: _dmarc.<From domain>, and when
 * that holds no DMARC record, _dmarc.<organisational domain> from the
 * Public Suffix List (both sections: see docs/architecture.md).  The
 * DMARCbis tree walk is not done (architecture.md says why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dmarc.h"
#include "log.h"
#include "lookup_dmarc.h"
#include "msgauth.h"
#include "psl.h"
#include "util.h"

/* The sections of the list DMARC uses (architecture.md, lookup_dmarc). */
#define LOOKUP_DMARC_PSL	PSL_ALL
/* "_dmarc." + a name of DNS_NAME_MAX */
#define LOOKUP_DMARC_QNAME_MAX	(7 + DNS_NAME_MAX)

struct lookup_dmarc {
	struct proc_self	*self;
	const struct conf	*conf;
	struct dns		*dns;
	struct psl		*psl;
};

enum lookup_dmarc_step {
	LD_FROM,	/* _dmarc.<From domain> */
	LD_ORG,		/* _dmarc.<organisational domain> */
	LD_EXIST_A,	/* np=: does the From domain exist? */
	LD_EXIST_AAAA,
	LD_EXIST_MX,
};

/* One message's evaluation, while its queries are out. */
struct lookup_dmarc_eval {
	struct lookup_dmarc	*ld;
	struct msgauth		*m;
	msgauth_done_cb		 done;
	enum lookup_dmarc_step	 step;
	struct dmarc_record	 rec;
	bool			 exists;
};

struct psl *
lookup_dmarc_psl_load(const struct conf *conf)
{
	struct psl	*psl = psl_new();
	const char	*path, *err = NULL;
	size_t		 skipped = 0;

	path = conf->public_suffix_list[0] != '\0' ?
	    conf->public_suffix_list : PSL_FILE_DEFAULT;
	if (psl_load(psl, path, &skipped, &err) == -1)
		log_warnx("lookup: dmarc: public suffix list %s: %s; "
		    "organisational domains are the last two labels", path,
		    err);
	else
		log_debug("lookup: dmarc: %s: %zu rules, %zu lines skipped",
		    path, psl_count(psl), skipped);
	return psl;
}

struct lookup_dmarc *
lookup_dmarc_new(struct proc_self *self, const struct conf *conf,
    struct dns *dns)
{
	struct lookup_dmarc	*ld = xcalloc(1, sizeof(*ld));

	ld->self = self;
	ld->conf = conf;
	ld->dns = dns;
	ld->psl = psl_new();
	return ld;
}

void
lookup_dmarc_set_psl(struct lookup_dmarc *ld, struct psl *psl)
{
	psl_free(ld->psl);
	ld->psl = psl;
}

static enum msgauth_dmarc_policy
lookup_dmarc_pol(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_QUARANTINE:
		return MSGAUTH_POLICY_QUARANTINE;
	case DMARC_POLICY_REJECT:
		return MSGAUTH_POLICY_REJECT;
	case DMARC_POLICY_NONE:
		break;
	}
	return MSGAUTH_POLICY_NONE;
}

static const char *
lookup_dmarc_result_name(enum msgauth_dmarc_result r)
{
	switch (r) {
	case MSGAUTH_DMARC_PASS:
		return "pass";
	case MSGAUTH_DMARC_FAIL:
		return "fail";
	case MSGAUTH_DMARC_TEMPERROR:
		return "temperror";
	case MSGAUTH_DMARC_PERMERROR:
		return "permerror";
	case MSGAUTH_DMARC_NONE:
		break;
	}
	return "none";
}

static void
lookup_dmarc_finish(struct lookup_dmarc_eval *e,
    enum msgauth_dmarc_result result, const char *reason)
{
	struct msgauth		*m = e->m;
	struct msgauth_dmarc	*d = &m->dmarc;
	msgauth_done_cb		 done = e->done;

	d->result = result;
	if (d->reason[0] == '\0')
		(void)snprintf(d->reason, sizeof(d->reason), "%s", reason);
	log_info("event=dmarc qid=%s from=%s result=%s policy_domain=%s "
	    "policy=%s spf_aligned=%d dkim_aligned=%d disposition=%s%s%s",
	    m->queue_id, d->from_domain[0] != '\0' ? d->from_domain : "-",
	    lookup_dmarc_result_name(result),
	    d->policy_domain[0] != '\0' ? d->policy_domain : "-",
	    dmarc_policy_name((enum dmarc_policy)d->policy), d->spf_aligned,
	    d->dkim_aligned,
	    dmarc_policy_name((enum dmarc_policy)d->disposition),
	    d->sampled_out ? " sampled_out=1" : "",
	    d->arc_override ? " arc_override=1" : "");
	free(e);
	done(m);
}

/* The organisational domain of name into out ("" when none). */
static void
lookup_dmarc_org(const struct lookup_dmarc *ld, const char *name, char *out,
    size_t outsz)
{
	const char	*org;
	size_t		 len;

	out[0] = '\0';
	if (psl_org_domain(ld->psl, name, strlen(name), LOOKUP_DMARC_PSL,
	    &org, &len) == 0 && len < outsz) {
		memcpy(out, org, len);
		out[len] = '\0';
	}
}

/* Whether an authenticated domain is aligned with the From: domain. */
static bool
lookup_dmarc_aligned(const struct lookup_dmarc *ld, const char *from,
    const char *from_org, const char *domain, bool strict)
{
	char	a[PSL_NAME_MAX + 1], org[PSL_NAME_MAX + 1];

	if (psl_alabel(domain, strlen(domain), a, sizeof(a)) == -1)
		return false;
	lookup_dmarc_org(ld, a, org, sizeof(org));
	return dmarc_aligned(from, a, from_org, org, strict);
}

/*
 * The record is known: alignment, the result and the disposition
 * (RFC 7489 §6.6.2, §6.6.4, §7.2.1's local_policy for ARC).
 */
static void
lookup_dmarc_decide(struct lookup_dmarc_eval *e)
{
	struct lookup_dmarc	*ld = e->ld;
	struct msgauth		*m = e->m;
	struct msgauth_dmarc	*d = &m->dmarc;
	enum dmarc_policy	 p;
	size_t			 i;
	bool			 sampled;

	/* §3.1.2, §4.2: SPF counts only when it passed, for its domain. */
	d->spf_aligned = m->spf == SPF_PASS && lookup_dmarc_aligned(ld,
	    d->from_domain, d->org_domain, m->spf_domain, e->rec.aspf_strict);
	/* §3.1.1: any passing signature whose d= aligns. */
	for (i = 0; i < m->ndkim && i < MSGAUTH_SIGS_MAX; i++)
		if (m->dkim[i].result == MSGAUTH_DKIM_PASS &&
		    lookup_dmarc_aligned(ld, d->from_domain, d->org_domain,
		    m->dkim[i].domain, e->rec.adkim_strict))
			d->dkim_aligned = true;
	p = dmarc_policy_for(&e->rec, d->from_domain, d->policy_domain,
	    !e->exists);
	d->policy = lookup_dmarc_pol(p);
	d->disposition = MSGAUTH_POLICY_NONE;
	if (d->spf_aligned || d->dkim_aligned) {
		lookup_dmarc_finish(e, MSGAUTH_DMARC_PASS, d->spf_aligned ?
		    "aligned SPF pass" : "aligned DKIM pass");
		return;
	}
	/* §6.6.4: a message pct= leaves out gets the next lower policy. */
	p = dmarc_sample(&e->rec, p, arc4random_uniform(100), &sampled);
	d->sampled_out = !sampled;
	if (m->arc.result == MSGAUTH_ARC_PASS && m->arc.trusted &&
	    p != DMARC_POLICY_NONE) {
		/* §7.2.1 local_policy: a sealer we trust vouches for it. */
		d->arc_override = true;
		p = DMARC_POLICY_NONE;
	}
	if (ld->conf->dmarc_policy == CONF_DMARC_REPORT_ONLY)
		p = DMARC_POLICY_NONE;
	d->disposition = lookup_dmarc_pol(p);
	lookup_dmarc_finish(e, MSGAUTH_DMARC_FAIL, d->arc_override ?
	    "no aligned pass; trusted ARC chain" : "no aligned pass");
}

static void lookup_dmarc_answer(void *, const struct dns_result *);

/* Ask for the step's name; -1 when dns refuses it. */
static int
lookup_dmarc_ask(struct lookup_dmarc_eval *e, enum lookup_dmarc_step step)
{
	struct msgauth_dmarc	*d = &e->m->dmarc;
	char			 q[LOOKUP_DMARC_QNAME_MAX + 1];
	const char		*err = NULL;
	enum dns_type		 type = DNS_T_TXT;

	e->step = step;
	switch (step) {
	case LD_FROM:
	case LD_ORG:
		(void)snprintf(q, sizeof(q), "_dmarc.%s", step == LD_FROM ?
		    d->from_domain : d->org_domain);
		break;
	case LD_EXIST_A:
	case LD_EXIST_AAAA:
	case LD_EXIST_MX:
		(void)snprintf(q, sizeof(q), "%s", d->from_domain);
		type = step == LD_EXIST_A ? DNS_T_A : step == LD_EXIST_AAAA ?
		    DNS_T_AAAA : DNS_T_MX;
		break;
	}
	if (dns_query(e->ld->dns, q, type, lookup_dmarc_answer, e,
	    &err) == NULL) {
		log_debug("lookup: dmarc: %s: %s", q, err);
		return -1;
	}
	return 0;
}

/*
 * The DMARC records of a TXT answer (§6.6.3 steps 3 and 5): 1 with the
 * record parsed into e->rec, 0 when there is none (look further), -1
 * when discovery ends with no policy (several records, or one that
 * applies no DMARC processing), its reason in d->reason.
 */
static int
lookup_dmarc_records(struct lookup_dmarc_eval *e, const struct dns_result *res)
{
	struct msgauth_dmarc	*d = &e->m->dmarc;
	const struct dns_txt	*one = NULL;
	const char		*why;
	size_t			 i, n = 0;

	if (res->status != DNS_OK)
		return 0;
	for (i = 0; i < res->nrrs; i++) {
		if (res->rrs[i].type != DNS_T_TXT ||
		    !dmarc_record_is_dmarc(res->rrs[i].u.txt.data,
		    res->rrs[i].u.txt.len))
			continue;
		one = &res->rrs[i].u.txt;
		n++;
	}
	if (n == 0)
		return 0;
	if (n > 1) {
		(void)snprintf(d->reason, sizeof(d->reason),
		    "%zu DMARC records at _dmarc.%s", n, res->qname + 7);
		return -1;
	}
	if (dmarc_record_parse(one->data, one->len, &e->rec, &why) == -1) {
		(void)snprintf(d->reason, sizeof(d->reason),
		    "DMARC record of %s: %s", res->qname + 7, why);
		return -1;
	}
	return 1;
}

static void
lookup_dmarc_answer(void *arg, const struct dns_result *res)
{
	struct lookup_dmarc_eval *e = arg;
	struct msgauth_dmarc	*d = &e->m->dmarc;
	int			 rc;

	switch (e->step) {
	case LD_FROM:
	case LD_ORG:
		if (res->status == DNS_TEMPFAIL) {
			/* §6.6.3: a transient error is not "no record". */
			(void)snprintf(d->reason, sizeof(d->reason),
			    "DNS: %.150s", res->why);
			lookup_dmarc_finish(e, MSGAUTH_DMARC_TEMPERROR, "");
			return;
		}
		if ((rc = lookup_dmarc_records(e, res)) == -1) {
			lookup_dmarc_finish(e, MSGAUTH_DMARC_NONE, "");
			return;
		}
		if (rc == 0) {
			/* §6.6.3 step 4: then the organisational domain. */
			if (e->step == LD_FROM && d->org_domain[0] != '\0' &&
			    strcmp(d->org_domain, d->from_domain) != 0 &&
			    lookup_dmarc_ask(e, LD_ORG) == 0)
				return;
			lookup_dmarc_finish(e, MSGAUTH_DMARC_NONE,
			    "no DMARC record");
			return;
		}
		(void)snprintf(d->policy_domain, sizeof(d->policy_domain),
		    "%s", e->step == LD_FROM ? d->from_domain : d->org_domain);
		(void)snprintf(d->rua, sizeof(d->rua), "%s", e->rec.rua);
		e->exists = true;
		/*
		 * DMARCbis np=: only for a subdomain of the record's domain,
		 * and only worth three queries when np= says something else.
		 */
		if (e->step == LD_ORG && e->rec.has_np &&
		    e->rec.np != e->rec.sp && lookup_dmarc_ask(e,
		    LD_EXIST_A) == 0)
			return;
		lookup_dmarc_decide(e);
		return;
	case LD_EXIST_A:
	case LD_EXIST_AAAA:
	case LD_EXIST_MX:
		/*
		 * DMARCbis: a name is non-existent when A, AAAA and MX all
		 * answer NXDOMAIN or NODATA; any record, or an error, and it
		 * exists (the milder sp= applies).
		 */
		if (res->status == DNS_OK || res->status == DNS_TEMPFAIL) {
			lookup_dmarc_decide(e);
			return;
		}
		/* NXDOMAIN for one type is NXDOMAIN for all. */
		if (res->status == DNS_NXDOMAIN) {
			e->exists = false;
			lookup_dmarc_decide(e);
			return;
		}
		if (e->step != LD_EXIST_MX && lookup_dmarc_ask(e,
		    e->step + 1) == 0)
			return;
		e->exists = e->step != LD_EXIST_MX;
		lookup_dmarc_decide(e);
		return;
	}
}

void
lookup_dmarc_evaluate(struct lookup_dmarc *ld, struct msgauth *m,
    msgauth_done_cb done)
{
	struct lookup_dmarc_eval *e;
	struct msgauth_dmarc	*d = &m->dmarc;
	char			 from[DMARC_NAME_MAX + 1];
	const char		*why = "";

	memset(d, 0, sizeof(*d));
	e = xcalloc(1, sizeof(*e));
	e->ld = ld;
	e->m = m;
	e->done = done;
	/*
	 * RFC 7489 §6.6.1: one From: field with one author domain, else
	 * no policy can be chosen: permerror (RFC 8601 §2.7.1's "a
	 * permanent error ... the message is malformed" reading).
	 */
	if (dmarc_from_domain(span_make(m->hdrs, m->hdrlen), from,
	    sizeof(from), &why) != DMARC_FROM_OK) {
		lookup_dmarc_finish(e, MSGAUTH_DMARC_PERMERROR, why);
		return;
	}
	/* A-labels for DNS and for comparing with SPF and DKIM domains. */
	if (psl_alabel(from, strlen(from), d->from_domain,
	    sizeof(d->from_domain)) == -1) {
		(void)snprintf(d->from_domain, sizeof(d->from_domain), "%s",
		    from);
		lookup_dmarc_finish(e, MSGAUTH_DMARC_PERMERROR,
		    "From: domain is no DNS name");
		return;
	}
	lookup_dmarc_org(ld, d->from_domain, d->org_domain,
	    sizeof(d->org_domain));
	if (lookup_dmarc_ask(e, LD_FROM) == -1)
		lookup_dmarc_finish(e, MSGAUTH_DMARC_PERMERROR,
		    "From: domain is no DNS name");
}
