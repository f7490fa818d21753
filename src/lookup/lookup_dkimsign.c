/*
 * lookup_dkimsign: DKIM signing (msgauth.h, lookup_dkimsign.h) in the
 * lookup role, which alone reads the keys (dkimkey.h: dkim.db in its
 * directory, 0600).  The keys are held in memory and read again after
 * each change a cachetctl verb makes, so a new key signs from the next
 * message on.  Key generation and every private-key operation run on
 * this module's own worker threads (pool.h): an RSA-2048 signature costs
 * about a millisecond and a 4096-bit keygen seconds, neither of which
 * the event loop may wait for.
 *
 * A domain of the config that has no key at all when lookup starts gets
 * two, ed25519 and rsa-2048 (dual signatures, RFC 8463 §1 suggests
 * signing with both while verifiers catch up), as mox does: mail leaves
 * signed from the first start, and `cachetctl dns` prints what to
 * publish.  A domain added later with `cachetctl domain add` gets its
 * keys with `cachetctl dkim keygen`.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "conf.h"
#include "dkim.h"
#include "dkimkey.h"
#include "log.h"
#include "lookup_dkimsign.h"
#include "msgauth.h"
#include "pool.h"
#include "proc.h"
#include "util.h"

#define LOOKUP_DKIMSIGN_WORKERS	2
/* Signing jobs waiting at most; more are sent on unsigned (logged). */
#define LOOKUP_DKIMSIGN_JOBS_MAX 256
#define LOOKUP_DKIMSIGN_SIGS_MAX 4	/* active keys used per message */
#define LOOKUP_DKIMSIGN_OUT_MAX	(16 * 1024)
#define LOOKUP_DKIMSIGN_MSG_MAX	(64 * 1024 * 1024)

struct lookup_dkimsign {
	struct proc_self	*self;
	const struct conf	*conf;
	struct dkimkey_db	*db;	/* NULL: nothing signs */
	struct dkimkey		 keys[DKIMKEY_MAX];
	size_t			 nkeys;
	struct pool		*pool;
	size_t			 njobs;
};

enum lookup_dkimsign_kind {
	LOOKUP_DKIMSIGN_KEYGEN,		/* ctl (reqid) or at start */
	LOOKUP_DKIMSIGN_MSGAUTH,	/* msgauth step */
	LOOKUP_DKIMSIGN_MESSAGE,	/* lookup_dkimsign_message() */
};

struct lookup_dkimsign_job {
	struct pool_job		 pj;	/* first: the pool's view */
	struct lookup_dkimsign	*ls;
	enum lookup_dkimsign_kind kind;
	/* keygen */
	bool			 ctl;
	uint64_t		 reqid;
	struct dkimkey		 key;
	/* signing: copies of the keys, each pkey referenced */
	struct dkimkey		*keys;
	size_t			 nkeys;
	char			*hdrs;
	size_t			 hdrlen;
	unsigned char		 bh[DKIM_DIGEST_MAX];
	size_t			 bhlen;
	int64_t			 now;
	struct buf		 out;	/* the fields made */
	/* results */
	int			 rc;
	const char		*err;
	/* whom to tell */
	struct msgauth		*m;
	msgauth_done_cb		 m_done;
	struct buf		*msg;
	void			(*msg_done)(void *, struct buf *);
	void			*arg;
};

/* --- keys in memory --- */

static void
lookup_dkimsign_reload(struct lookup_dkimsign *ls)
{
	const char	*err = NULL;
	ssize_t		 n;

	dkimkey_release(ls->keys, ls->nkeys);
	ls->nkeys = 0;
	if (ls->db == NULL)
		return;
	if ((n = dkimkey_load(ls->db, ls->keys, DKIMKEY_MAX, &err)) == -1) {
		log_warnx("dkim: %s: %s: nothing signs", DKIMKEY_DB, err);
		return;
	}
	ls->nkeys = (size_t)n;
}

struct lookup_dkimsign_taken_ctx {
	struct lookup_dkimsign	*ls;
	const char		*domain;
};

static bool
lookup_dkimsign_taken(const char *selector, void *arg)
{
	struct lookup_dkimsign_taken_ctx	*ctx = arg;
	struct lookup_dkimsign			*ls = ctx->ls;
	size_t					 i;

	for (i = 0; i < ls->nkeys; i++)
		if (strcmp(ls->keys[i].domain, ctx->domain) == 0 &&
		    strcmp(ls->keys[i].selector, selector) == 0)
			return true;
	return false;
}

/* The active keys of domain that loaded, at most max into out. */
static size_t
lookup_dkimsign_active(struct lookup_dkimsign *ls, const char *domain,
    struct dkimkey *out, size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < ls->nkeys && n < max; i++) {
		if (!ls->keys[i].active || ls->keys[i].pkey == NULL ||
		    strcmp(ls->keys[i].domain, domain) != 0)
			continue;
		if (out != NULL) {
			out[n] = ls->keys[i];
			EVP_PKEY_up_ref(out[n].pkey);
		}
		n++;
	}
	return n;
}

/* --- the worker threads --- */

static void
lookup_dkimsign_run(struct pool_job *pj, void *local)
{
	struct lookup_dkimsign_job	*job = (struct lookup_dkimsign_job *)pj;
	size_t				 i;

	(void)local;
	job->rc = 0;
	if (job->kind == LOOKUP_DKIMSIGN_KEYGEN) {
		job->rc = dkimkey_generate(&job->key, &job->err);
		return;
	}
	for (i = 0; i < job->nkeys; i++)
		if (dkimkey_sign(&job->keys[i], span_make(job->hdrs,
		    job->hdrlen), job->bh, job->bhlen, job->now, &job->out,
		    &job->err) == -1)
			job->rc = -1;
}

static void
lookup_dkimsign_job_free(struct lookup_dkimsign_job *job)
{
	dkimkey_release(&job->key, 1);
	if (job->keys != NULL)
		dkimkey_release(job->keys, job->nkeys);
	free(job->keys);
	free(job->hdrs);
	buf_free(&job->out);
	free(job);
}

static void
lookup_dkimsign_keygen_done(struct lookup_dkimsign *ls,
    struct lookup_dkimsign_job *job)
{
	struct buf	 txt;
	const char	*err = job->err;

	if (job->rc == 0 && (ls->db == NULL || dkimkey_add(ls->db, &job->key,
	    &err) == -1))
		job->rc = -1;
	if (job->rc == -1) {
		log_warnx("dkim: key %s for %s: %s", job->key.selector,
		    job->key.domain, err != NULL ? err : "no key store");
		if (job->ctl)
			proc_ctl_end(ls->self, job->reqid, 1,
			    err != NULL ? err : "no key store");
		return;
	}
	log_info("event=dkim-key-created domain=%s selector=%s algorithm=%s "
	    "bits=%u source=%s", job->key.domain, job->key.selector,
	    dkimkey_alg_name(job->key.alg), job->key.bits,
	    job->ctl ? "ctl" : "start");
	lookup_dkimsign_reload(ls);
	if (!job->ctl)
		return;
	buf_init(&txt, DKIMKEY_PUB_MAX * 2);
	if (dkimkey_txt(&job->key, &txt) == 0)
		proc_ctl_line(ls->self, job->reqid, txt.data);
	buf_free(&txt);
	proc_ctl_end(ls->self, job->reqid, 0, NULL);
}

/* Put the fields made on top of the whole message. */
static void
lookup_dkimsign_prepend_msg(struct lookup_dkimsign_job *job)
{
	struct buf	nb;

	if (job->out.len == 0)
		return;
	buf_init(&nb, job->msg->max + job->out.len);
	if (buf_append(&nb, job->out.data, job->out.len) == -1 ||
	    buf_append(&nb, job->msg->data, job->msg->len) == -1) {
		buf_free(&nb);
		return;
	}
	buf_free(job->msg);
	*job->msg = nb;
}

static void
lookup_dkimsign_done(struct pool_job *pj)
{
	struct lookup_dkimsign_job	*job = (struct lookup_dkimsign_job *)pj;
	struct lookup_dkimsign		*ls = job->ls;

	ls->njobs--;
	switch (job->kind) {
	case LOOKUP_DKIMSIGN_KEYGEN:
		lookup_dkimsign_keygen_done(ls, job);
		break;
	case LOOKUP_DKIMSIGN_MSGAUTH:
		if (job->rc == -1)
			log_warnx("dkim: queue_id=%s: %s", job->m->queue_id,
			    job->err);
		if (buf_append(&job->m->prepend, job->out.data,
		    job->out.len) == -1)
			log_warnx("dkim: queue_id=%s: no room for the "
			    "signatures", job->m->queue_id);
		job->m_done(job->m);
		break;
	case LOOKUP_DKIMSIGN_MESSAGE:
		if (job->rc == -1)
			log_warnx("dkim: report: %s", job->err);
		lookup_dkimsign_prepend_msg(job);
		job->msg_done(job->arg, job->msg);
		break;
	}
	lookup_dkimsign_job_free(job);
}

static struct lookup_dkimsign_job *
lookup_dkimsign_job_new(struct lookup_dkimsign *ls,
    enum lookup_dkimsign_kind kind)
{
	struct lookup_dkimsign_job	*job = xcalloc(1, sizeof(*job));

	job->ls = ls;
	job->kind = kind;
	job->pj.run = lookup_dkimsign_run;
	job->pj.done = lookup_dkimsign_done;
	buf_init(&job->out, LOOKUP_DKIMSIGN_OUT_MAX);
	return job;
}

static void
lookup_dkimsign_submit(struct lookup_dkimsign *ls,
    struct lookup_dkimsign_job *job)
{
	ls->njobs++;
	pool_submit(ls->pool, &job->pj);
}

/*
 * A signing job for hdrs when its From: domain, or the nearest domain
 * above it, has active keys; NULL (nothing to sign) otherwise.  Mail
 * from a host name of ours (MAILER-DAEMON@mx.example.org: bounces,
 * reports) is signed d=example.org, which DMARC's relaxed alignment
 * takes (RFC 7489 §3.1.1).
 */
static struct lookup_dkimsign_job *
lookup_dkimsign_prepare(struct lookup_dkimsign *ls,
    enum lookup_dkimsign_kind kind, struct span hdrs,
    const unsigned char *bh, size_t bhlen)
{
	struct lookup_dkimsign_job	*job;
	struct dkimkey			 keys[LOOKUP_DKIMSIGN_SIGS_MAX];
	char				 from[DNS_NAME_MAX + 1];
	const char			*domain;
	size_t				 n;

	if (dkimkey_from_domain(hdrs, from, sizeof(from)) == -1)
		return NULL;
	for (domain = from; (n = lookup_dkimsign_active(ls, domain, NULL,
	    LOOKUP_DKIMSIGN_SIGS_MAX)) == 0; domain++) {
		/* Up one label, while two are left. */
		if ((domain = strchr(domain, '.')) == NULL ||
		    strchr(domain + 1, '.') == NULL)
			return NULL;
	}
	if (ls->njobs >= LOOKUP_DKIMSIGN_JOBS_MAX) {
		log_warnx("dkim: %zu signatures waiting: a message from %s "
		    "leaves unsigned", ls->njobs, domain);
		return NULL;
	}
	job = lookup_dkimsign_job_new(ls, kind);
	n = lookup_dkimsign_active(ls, domain, keys, n);
	job->keys = xcalloc(n, sizeof(*job->keys));
	memcpy(job->keys, keys, n * sizeof(*keys));
	job->nkeys = n;
	job->hdrs = xmalloc(hdrs.len + 1);
	memcpy(job->hdrs, hdrs.ptr, hdrs.len);
	job->hdrlen = hdrs.len;
	memcpy(job->bh, bh, bhlen);
	job->bhlen = bhlen;
	job->now = (int64_t)time(NULL);
	return job;
}

/* --- the msgauth step, whole messages --- */

void
lookup_dkimsign_sign(struct lookup_dkimsign *ls, struct msgauth *m,
    msgauth_done_cb done)
{
	struct lookup_dkimsign_job	*job;
	const struct msgauth_bh		*bh;

	if (m->hdrs == NULL || (bh = msgauth_bh_find(m, DKIM_CANON_RELAXED,
	    DKIM_HASH_SHA256, DKIM_BH_NOLIMIT)) == NULL ||
	    bh->digestlen > DKIM_DIGEST_MAX) {
		done(m);
		return;
	}
	if ((job = lookup_dkimsign_prepare(ls, LOOKUP_DKIMSIGN_MSGAUTH,
	    span_make(m->hdrs, m->hdrlen), bh->digest,
	    bh->digestlen)) == NULL) {
		done(m);
		return;
	}
	job->m = m;
	job->m_done = done;
	lookup_dkimsign_submit(ls, job);
}

void
lookup_dkimsign_message(struct lookup_dkimsign *ls, struct buf *msg,
    void (*done)(void *, struct buf *), void *arg)
{
	struct lookup_dkimsign_job	*job;
	struct dkim_bh_spec		 spec = { DKIM_CANON_RELAXED,
					    DKIM_HASH_SHA256,
					    DKIM_BH_NOLIMIT };
	struct dkim_bh			*bh;
	unsigned char			 digest[DKIM_DIGEST_MAX];
	const char			*end;
	size_t				 hlen, blen, dlen;
	uint64_t			 hashed;

	/* The header section ends at the first empty line (RFC 5322 §2.1). */
	if (msg->len < 2) {
		done(arg, msg);
		return;
	}
	if (memcmp(msg->data, "\r\n", 2) == 0)
		end = msg->data;
	else if ((end = memmem(msg->data, msg->len, "\r\n\r\n", 4)) != NULL)
		end += 2;
	if (end == NULL || msg->len > LOOKUP_DKIMSIGN_MSG_MAX) {
		done(arg, msg);
		return;
	}
	hlen = (size_t)(end - msg->data);
	blen = msg->len - hlen - 2;
	bh = dkim_bh_new(&spec);
	dkim_bh_update(bh, end + 2, blen);
	dlen = dkim_bh_final(bh, digest, &hashed);
	dkim_bh_free(bh);
	if ((job = lookup_dkimsign_prepare(ls, LOOKUP_DKIMSIGN_MESSAGE,
	    span_make(msg->data, hlen), digest, dlen)) == NULL) {
		done(arg, msg);
		return;
	}
	job->msg = msg;
	job->msg_done = done;
	job->arg = arg;
	lookup_dkimsign_submit(ls, job);
}

struct evp_pkey_st *
lookup_dkimsign_rsa_key(struct lookup_dkimsign *ls, const char *domain,
    char *selector)
{
	size_t	i;

	selector[0] = '\0';
	for (i = 0; i < ls->nkeys; i++)
		if (ls->keys[i].active && ls->keys[i].pkey != NULL &&
		    ls->keys[i].alg == DKIMKEY_RSA &&
		    strcasecmp(ls->keys[i].domain, domain) == 0) {
			(void)str_copy(selector, DNS_LABEL_MAX + 1,
			    ls->keys[i].selector);
			return ls->keys[i].pkey;
		}
	return NULL;
}

/* --- making keys --- */

/*
 * Start making a key for domain (lower case): selector "" takes the
 * default.  -1 with *errstr_out when it cannot start.
 */
static int
lookup_dkimsign_keygen(struct lookup_dkimsign *ls, bool ctl, uint64_t reqid,
    const char *domain, const char *selector, enum dkimkey_alg alg,
    unsigned bits, const char **errstr_out)
{
	struct lookup_dkimsign_job	*job;
	struct dkimkey			 k;
	struct lookup_dkimsign_taken_ctx taken = { ls, domain };
	struct tm			 tm;
	time_t				 now = time(NULL);

	if (ls->db == NULL) {
		*errstr_out = "the key store could not be opened (see the log)";
		return -1;
	}
	memset(&k, 0, sizeof(k));
	k.alg = alg;
	k.bits = alg == DKIMKEY_RSA ? bits : 256;
	k.active = true;
	k.created = (int64_t)now;
	if (str_copy(k.domain, sizeof(k.domain), domain) == -1) {
		*errstr_out = "domain too long";
		return -1;
	}
	if (selector[0] != '\0') {
		if (lookup_dkimsign_taken(selector, &taken)) {
			*errstr_out = "that selector exists for the domain";
			return -1;
		}
		(void)str_copy(k.selector, sizeof(k.selector), selector);
	} else if (gmtime_r(&now, &tm) == NULL ||
	    dkimkey_selector(alg, tm.tm_year + 1900, lookup_dkimsign_taken,
	    &taken, k.selector, sizeof(k.selector)) == -1) {
		*errstr_out = "no default selector left this year: give one";
		return -1;
	}
	job = lookup_dkimsign_job_new(ls, LOOKUP_DKIMSIGN_KEYGEN);
	job->ctl = ctl;
	job->reqid = reqid;
	job->key = k;
	lookup_dkimsign_submit(ls, job);
	return 0;
}

/* Config domains without any key get the default pair (see the top). */
static void
lookup_dkimsign_autokeys(struct lookup_dkimsign *ls)
{
	const char	*err = NULL;
	char		 domain[DNS_NAME_MAX + 1];
	size_t		 i, j;
	bool		 has;

	for (i = 0; i < ls->conf->ndomains; i++) {
		if (str_copy(domain, sizeof(domain), ls->conf->domains[i]) ==
		    -1)
			continue;
		for (j = 0; domain[j] != '\0'; j++)
			domain[j] = (char)tolower((unsigned char)domain[j]);
		for (has = false, j = 0; j < ls->nkeys; j++)
			if (strcmp(ls->keys[j].domain, domain) == 0)
				has = true;
		if (has)
			continue;
		if (lookup_dkimsign_keygen(ls, false, 0, domain, "",
		    DKIMKEY_ED25519, 256, &err) == -1 ||
		    lookup_dkimsign_keygen(ls, false, 0, domain, "",
		    DKIMKEY_RSA, DKIMKEY_RSA_DEFAULT, &err) == -1)
			log_warnx("dkim: keys for %s: %s", domain, err);
	}
}

struct lookup_dkimsign *
lookup_dkimsign_new(struct proc_self *self, const struct conf *conf)
{
	struct lookup_dkimsign	*ls = xcalloc(1, sizeof(*ls));
	const char		*err = NULL;

	ls->self = self;
	ls->conf = conf;
	if ((ls->db = dkimkey_open(DKIMKEY_DB, &err)) == NULL)
		log_warnx("dkim: %s/%s: %s: nothing signs", self->dir_path,
		    DKIMKEY_DB, err);
	lookup_dkimsign_reload(ls);
	ls->pool = pool_start(self->base, "dkim", LOOKUP_DKIMSIGN_WORKERS,
	    NULL, NULL);
	lookup_dkimsign_autokeys(ls);
	return ls;
}

/* --- cachetctl dkim --- */

#define LOOKUP_DKIMSIGN_USAGE	"usage: dkim keygen DOMAIN [--selector S] " \
	"[--algorithm ed25519|rsa] [--bits N], dkim list [DOMAIN], " \
	"dkim retire|activate DOMAIN SELECTOR"

/* A domain or selector as given: lower case, DNS characters only. */
static int
lookup_dkimsign_name(const char *in, char *out, size_t outsz)
{
	size_t	i;

	for (i = 0; in[i] != '\0'; i++) {
		if (i + 1 >= outsz || (!isalnum((unsigned char)in[i]) &&
		    in[i] != '-' && in[i] != '.' && in[i] != '_'))
			return -1;
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[i] = '\0';
	return i > 0 && in[0] != '.' && in[i - 1] != '.' ? 0 : -1;
}

static void
lookup_dkimsign_list(struct lookup_dkimsign *ls, uint64_t reqid,
    const char *domain)
{
	const struct dkimkey	*k;
	struct tm		 tm;
	time_t			 t;
	char			 line[512], when[32];
	size_t			 i;

	for (i = 0; i < ls->nkeys; i++) {
		k = &ls->keys[i];
		if (domain != NULL && strcmp(k->domain, domain) != 0)
			continue;
		t = (time_t)k->created;
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		    &tm) == 0)
			(void)str_copy(when, sizeof(when), "-");
		(void)snprintf(line, sizeof(line), "%s %s %s %u %s %s%s",
		    k->domain, k->selector, dkimkey_alg_name(k->alg), k->bits,
		    k->active ? "active" : "retired", when,
		    k->pkey == NULL ? " (does not load)" : "");
		proc_ctl_line(ls->self, reqid, line);
	}
	proc_ctl_end(ls->self, reqid, 0, NULL);
}

size_t
lookup_dkimsign_published(struct lookup_dkimsign *ls, const char *domain,
    const struct dkimkey **out, size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < ls->nkeys && n < max; i++)
		if (ls->keys[i].active && ls->keys[i].pkey != NULL &&
		    strcmp(ls->keys[i].domain, domain) == 0)
			out[n++] = &ls->keys[i];
	return n;
}

/* dkim keygen DOMAIN [--selector S] [--algorithm A] [--bits N] */
static int
lookup_dkimsign_ctl_keygen(struct lookup_dkimsign *ls, uint64_t reqid,
    size_t argc, char **argv, const char *domain, const char **errstr_out)
{
	char			 selector[DKIMKEY_SELECTOR_MAX + 1] = "";
	enum dkimkey_alg	 alg = DKIMKEY_RSA;
	unsigned long		 bits = DKIMKEY_RSA_DEFAULT;
	bool			 bitsset = false;
	char			*end;
	size_t			 i;

	for (i = 3; i < argc; i += 2) {
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--selector") == 0) {
			if (lookup_dkimsign_name(argv[i + 1], selector,
			    sizeof(selector)) == -1) {
				*errstr_out = "invalid selector";
				return -1;
			}
		} else if (strcmp(argv[i], "--algorithm") == 0) {
			if (dkimkey_alg_parse(argv[i + 1], &alg) == -1) {
				*errstr_out = "algorithm: ed25519 or rsa";
				return -1;
			}
		} else if (strcmp(argv[i], "--bits") == 0) {
			bits = strtoul(argv[i + 1], &end, 10);
			if (*end != '\0' || bits < DKIMKEY_RSA_MIN ||
			    bits > DKIMKEY_RSA_MAX) {
				*errstr_out = "bits: 1024 to 4096";
				return -1;
			}
			bitsset = true;
		} else
			return -1;
	}
	/* RFC 8463 keys have one size */
	if (alg == DKIMKEY_ED25519 && bitsset) {
		*errstr_out = "--bits is for RSA keys";
		return -1;
	}
	return lookup_dkimsign_keygen(ls, true, reqid, domain, selector, alg,
	    (unsigned)bits, errstr_out);
}

void
lookup_dkimsign_ctl(struct lookup_dkimsign *ls, uint64_t reqid, size_t argc,
    char **argv, bool (*ours)(const char *, void *), void *arg)
{
	char		 domain[DNS_NAME_MAX + 1];
	char		 selector[DKIMKEY_SELECTOR_MAX + 1];
	const char	*err = NULL, *verb;
	bool		 active;

	if (argc < 2)
		goto usage;
	verb = argv[1];
	if (strcmp(verb, "list") == 0 && argc <= 3) {
		if (argc == 3 && lookup_dkimsign_name(argv[2], domain,
		    sizeof(domain)) == -1)
			goto usage;
		lookup_dkimsign_list(ls, reqid, argc == 3 ? domain : NULL);
		return;
	}
	if (argc < 3 || lookup_dkimsign_name(argv[2], domain,
	    sizeof(domain)) == -1)
		goto usage;
	if (!ours(domain, arg)) {
		proc_ctl_end(ls->self, reqid, 1, "not one of our domains");
		return;
	}
	if (strcmp(verb, "keygen") == 0 && argc % 2 == 1 && argc <= 9) {
		if (lookup_dkimsign_ctl_keygen(ls, reqid, argc, argv, domain,
		    &err) == 0)
			return;
		if (err == NULL)
			goto usage;
		proc_ctl_end(ls->self, reqid, 1, err);
		return;
	}
	if ((strcmp(verb, "retire") == 0 || strcmp(verb, "activate") == 0) &&
	    argc == 4) {
		active = strcmp(verb, "activate") == 0;
		if (lookup_dkimsign_name(argv[3], selector,
		    sizeof(selector)) == -1)
			goto usage;
		if (ls->db == NULL || dkimkey_set_active(ls->db, domain,
		    selector, active, &err) == -1) {
			proc_ctl_end(ls->self, reqid, 1,
			    err != NULL ? err : "no key store");
			return;
		}
		log_info("event=dkim-key-%s domain=%s selector=%s",
		    active ? "activated" : "retired", domain, selector);
		lookup_dkimsign_reload(ls);
		proc_ctl_end(ls->self, reqid, 0, NULL);
		return;
	}
usage:
	proc_ctl_end(ls->self, reqid, 2, LOOKUP_DKIMSIGN_USAGE);
}
