/*
 * mta_sts: MTA-STS policies for the mta (mta_sts.h has the contract):
 * a question to lookup, a fetch with libcurl's multi interface on the
 * role's event loop (lib/httpc.h, shared with lookup's ACME client) when
 * lookup says so, the answer to the caller.
 *
 * Why curl multi on libevent and not a fetch thread: the mta's sandbox
 * allows no threads (httpc.c says more).  curl resolves nothing itself (CURLOPT_RESOLVE gives it lookup's addresses),
 * so its resolver thread is never started.
 *
 * Trust: see mta_sts.h.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "dns.h"
#include "httpc.h"
#include "ipc.h"
#include "log.h"
#include "lookup/lookup_sts.h"
#include "mta_sts.h"
#include "mtasts.h"
#include "proc.h"
#include "util.h"

#define MTA_STS_PATH		"/.well-known/mta-sts.txt"	/* §3.3 */

struct mta_sts;

struct mta_sts_req {
	TAILQ_ENTRY(mta_sts_req) entry;
	struct mta_sts		*s;
	uint64_t		 handle;
	uint64_t		 lookup_reqid;	/* waiting for lookup; 0 not */
	char			 domain[DNS_NAME_MAX + 1];
	mta_sts_cb		 cb;
	void			*arg;
	/* lookup's answer */
	char			 id[MTASTS_ID_MAX + 1];
	char			 reason[LOOKUP_STS_REASON_MAX];
	struct buf		 cached;	/* empty: none */
	char			 cached_id[MTASTS_ID_MAX + 1];
	/* the fetch */
	CURL			*easy;
	struct curl_slist	*resolve;
	/* a POST (mta_sts_post()) instead of a policy fetch */
	mta_sts_post_cb		 post_cb;
	struct curl_slist	*headers;
	char			*post;
	size_t			 postlen;
	struct buf		 body;
	bool			 too_big;
	char			 err[CURL_ERROR_SIZE];
};
TAILQ_HEAD(mta_sts_reqs, mta_sts_req);

struct mta_sts {
	struct proc_self	*self;
	struct httpc		*http;		/* curl on our loop */
	struct mta_sts_reqs	 reqs;
	uint64_t		 next_handle;
	uint64_t		 next_reqid;
	size_t			 nfetches;
};

static void	mta_sts_done(void *, CURL *, CURLcode);

bool
mta_sts_content_type_ok(const char *ct)
{
	size_t	n = strlen("text/plain");

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "text/plain", n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* --- requests --- */

static void
mta_sts_req_free(struct mta_sts_req *r)
{
	struct mta_sts	*s = r->s;

	if (r->easy != NULL) {
		httpc_cancel(s->http, r->easy);
		curl_easy_cleanup(r->easy);
		s->nfetches--;
	}
	curl_slist_free_all(r->resolve);
	curl_slist_free_all(r->headers);
	free(r->post);
	buf_free(&r->body);
	buf_free(&r->cached);
	TAILQ_REMOVE(&s->reqs, r, entry);
	free(r);
}

/* Give the caller its answer and forget the request. */
static void
mta_sts_finish(struct mta_sts_req *r, struct mta_sts_result *res)
{
	mta_sts_cb	 cb = r->cb;
	void		*arg = r->arg;

	mta_sts_req_free(r);
	cb(arg, res);
}

/* The cached policy, if lookup sent one that parses, or none; why. */
static void
mta_sts_fallback(struct mta_sts_req *r, const char *why)
{
	struct mta_sts_result	 res;
	const char		*err;

	memset(&res, 0, sizeof(res));
	res.source = "none";
	(void)str_copy(res.why, sizeof(res.why), why);
	if (r->cached.len > 0 && mtasts_policy_parse(r->cached.data,
	    r->cached.len, &res.pol, &err) == 0 &&
	    res.pol.mode != MTASTS_MODE_NONE) {
		res.policy = true;
		res.source = "cached";
		(void)str_copy(res.id, sizeof(res.id), r->cached_id);
	}
	mta_sts_finish(r, &res);
}

static void
mta_sts_send_lookup(struct mta_sts_req *r)
{
	struct msg	*m;

	r->lookup_reqid = ++r->s->next_reqid;
	m = msg_new(MSG_LOOKUP_STS);
	msg_put_u64(m, r->lookup_reqid);
	msg_put_str(m, r->domain);
	/* Without lookup the question goes again when it comes back. */
	(void)proc_send(r->s->self, PROC_LOOKUP, m);
}

uint64_t
mta_sts_ask(struct mta_sts *s, const char *domain, mta_sts_cb cb, void *arg)
{
	struct mta_sts_req	*r;

	r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->handle = ++s->next_handle;
	r->cb = cb;
	r->arg = arg;
	(void)str_copy(r->domain, sizeof(r->domain), domain);
	buf_init(&r->cached, MTASTS_POLICY_MAX);
	buf_init(&r->body, MTASTS_POLICY_MAX);
	TAILQ_INSERT_TAIL(&s->reqs, r, entry);
	mta_sts_send_lookup(r);
	return r->handle;
}

void
mta_sts_cancel(struct mta_sts *s, uint64_t handle)
{
	struct mta_sts_req	*r;

	if (handle == 0)
		return;
	TAILQ_FOREACH(r, &s->reqs, entry) {
		if (r->handle == handle) {
			mta_sts_req_free(r);
			return;
		}
	}
}

void
mta_sts_lookup_changed(struct mta_sts *s)
{
	struct mta_sts_req	*r;

	TAILQ_FOREACH(r, &s->reqs, entry)
		if (r->lookup_reqid != 0)
			mta_sts_send_lookup(r);
}

/* --- the fetch --- */

static size_t
mta_sts_write(char *p, size_t size, size_t n, void *arg)
{
	struct mta_sts_req	*r = arg;

	/* curl promises size 1; the body is capped before it is kept */
	if (size != 1 || buf_append(&r->body, p, n) == -1) {
		r->too_big = true;
		return 0;
	}
	return n;
}

/*
 * Start r's HTTPS request to url, whose host is host, at port 443 of
 * ips[0..nips): what a policy fetch and a TLS-RPT POST share.
 */
static int
mta_sts_easy(struct mta_sts_req *r, const char *url, const char *host,
    char (*ips)[INET6_ADDRSTRLEN], size_t nips)
{
	struct mta_sts		*s = r->s;
	char			 entry[DNS_NAME_MAX + 32 +
				    LOOKUP_STS_ADDRS_MAX * (INET6_ADDRSTRLEN + 3)];
	size_t			 i, o;
	int			 n;

	if (s->nfetches >= MTA_STS_FETCHES_MAX)
		return -1;
	/* "HOST:443:ADDR,[ADDR6]": curl asks no resolver */
	n = snprintf(entry, sizeof(entry), "%s:443:", host);
	o = n < 0 ? 0 : (size_t)n;
	for (i = 0; i < nips && o < sizeof(entry); i++) {
		n = snprintf(entry + o, sizeof(entry) - o, strchr(ips[i],
		    ':') != NULL ? "%s[%s]" : "%s%s", i > 0 ? "," : "",
		    ips[i]);
		o += n < 0 ? 0 : (size_t)n;
	}
	/*
	 * httpc_easy(): https only, verified against tls-ca, no proxy, and
	 * no redirects (§3.3: "senders MUST NOT follow redirects").
	 */
	if (o >= sizeof(entry) || (r->resolve = curl_slist_append(NULL,
	    entry)) == NULL || (r->easy = httpc_easy(s->http, url,
	    r->err)) == NULL)
		return -1;
	s->nfetches++;
	if (curl_easy_setopt(r->easy, CURLOPT_RESOLVE, r->resolve) !=
	    CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, (long)MTA_STS_TIMEOUT_S)
	    != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT,
	    (long)MTA_STS_CONNECT_S) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)MTASTS_POLICY_MAX) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, mta_sts_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	    (r->post != NULL && (curl_easy_setopt(r->easy,
	    CURLOPT_POSTFIELDS, r->post) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)r->postlen) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers) !=
	    CURLE_OK)) ||
	    httpc_start(s->http, r->easy, mta_sts_done, r) == -1)
		return -1;
	log_debug("mta: event=https url=%s addrs=%s", url, entry);
	return 0;
}

static int
mta_sts_fetch(struct mta_sts_req *r, char (*ips)[INET6_ADDRSTRLEN],
    size_t nips)
{
	char	url[DNS_NAME_MAX + 64], host[DNS_NAME_MAX + 16];

	(void)snprintf(url, sizeof(url), "https://mta-sts.%s" MTA_STS_PATH,
	    r->domain);
	(void)snprintf(host, sizeof(host), "mta-sts.%s", r->domain);
	return mta_sts_easy(r, url, host, ips, nips);
}

/* A POST ended with cres: the caller learns how. */
static void
mta_sts_posted(struct mta_sts_req *r, CURLcode cres)
{
	mta_sts_post_cb	 cb = r->post_cb;
	void		*arg = r->arg;
	char		 why[MTA_STS_WHY_MAX];
	long		 code = 0;

	why[0] = '\0';
	(void)curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	if (cres != CURLE_OK)
		(void)snprintf(why, sizeof(why), "%s", r->err[0] != '\0' ?
		    r->err : curl_easy_strerror(cres));
	else if (code < 200 || code > 299)
		(void)snprintf(why, sizeof(why), "HTTP %ld", code);
	mta_sts_req_free(r);
	cb(arg, why[0] == '\0', why);
}

int
mta_sts_post(struct mta_sts *s, const char *url, const char *host,
    char (*ips)[INET6_ADDRSTRLEN], size_t nips, const char *ctype,
    const void *data, size_t len, mta_sts_post_cb cb, void *arg)
{
	struct mta_sts_req	*r;
	char			 h[128];

	r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->handle = ++s->next_handle;
	r->post_cb = cb;
	r->arg = arg;
	r->post = xmalloc(len > 0 ? len : 1);
	memcpy(r->post, data, len);
	r->postlen = len;
	(void)str_copy(r->domain, sizeof(r->domain), host);
	buf_init(&r->cached, 0);
	buf_init(&r->body, MTASTS_POLICY_MAX);
	TAILQ_INSERT_TAIL(&s->reqs, r, entry);
	(void)snprintf(h, sizeof(h), "Content-Type: %s", ctype);
	if ((r->headers = curl_slist_append(NULL, h)) == NULL ||
	    mta_sts_easy(r, url, host, ips, nips) == -1) {
		mta_sts_req_free(r);
		return -1;
	}
	return 0;
}

/* A fetch ended with cres: judge what came, answer. */
static void
mta_sts_fetched(struct mta_sts_req *r, CURLcode cres)
{
	struct mta_sts_result	 res;
	struct msg		*m;
	const char		*err = NULL;
	char			*ct = NULL;
	char			 why[MTA_STS_WHY_MAX], show[128];
	long			 code = 0;

	why[0] = '\0';
	(void)curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	(void)curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
	if (r->too_big || cres == CURLE_FILESIZE_EXCEEDED)
		(void)snprintf(why, sizeof(why), "policy larger than %d KiB",
		    MTASTS_POLICY_MAX / 1024);
	else if (cres != CURLE_OK)
		(void)snprintf(why, sizeof(why), "%s", r->err[0] != '\0' ?
		    r->err : curl_easy_strerror(cres));
	else if (code >= 300 && code < 400)
		(void)snprintf(why, sizeof(why), "HTTP %ld: a redirect, not "
		    "followed (RFC 8461 §3.3)", code);
	else if (code != 200)
		(void)snprintf(why, sizeof(why), "HTTP %ld", code);
	else if (!mta_sts_content_type_ok(ct))
		(void)snprintf(why, sizeof(why), "Content-Type \"%s\", not "
		    "text/plain", ct == NULL ? "" : printable(ct, strnlen(ct,
		    100), show, sizeof(show)));
	memset(&res, 0, sizeof(res));
	if (why[0] == '\0' && mtasts_policy_parse(r->body.data, r->body.len,
	    &res.pol, &err) == -1)
		(void)snprintf(why, sizeof(why), "invalid policy: %s", err);
	if (why[0] != '\0') {
		log_info("mta: event=mta-sts-fetch domain=%s result=error "
		    "reason=\"https://mta-sts.%s" MTA_STS_PATH ": %s\"",
		    r->domain, r->domain, why);
		(void)snprintf(res.why, sizeof(res.why), "MTA-STS policy "
		    "fetch for %s failed: %s", r->domain, why);
		mta_sts_fallback(r, res.why);
		return;
	}
	log_info("mta: event=mta-sts-fetch domain=%s result=ok id=%s mode=%s "
	    "max_age=%u mx=%zu", r->domain, r->id,
	    mtasts_mode_name(res.pol.mode), res.pol.max_age, res.pol.nmx);
	m = msg_new(MSG_LOOKUP_STS_STORE);
	msg_put_str(m, r->domain);
	msg_put_str(m, r->id);
	msg_put_data(m, r->body.data, r->body.len);
	(void)proc_send(r->s->self, PROC_LOOKUP, m);
	(void)str_copy(res.id, sizeof(res.id), r->id);
	res.source = "fetched";
	res.policy = res.pol.mode != MTASTS_MODE_NONE;
	if (!res.policy)
		(void)snprintf(res.why, sizeof(res.why), "the policy of %s "
		    "has mode none", r->domain);
	mta_sts_finish(r, &res);
}

/* httpc: a fetch or a POST of r ended with res. */
static void
mta_sts_done(void *arg, CURL *easy, CURLcode res)
{
	struct mta_sts_req	*r = arg;

	if (r->post_cb != NULL)
		mta_sts_posted(r, res);
	else
		mta_sts_fetched(r, res);
}

/* --- lookup's answer --- */

static void __attribute__((noreturn))
mta_sts_bad(struct msg *m, const char *why)
{
	fatalx("mta: bad %s from lookup: %s", msg_name(m->type), why);
}

void
mta_sts_lookup_result(struct mta_sts *s, struct msg *m)
{
	struct mta_sts_req	*r;
	struct span		 pol;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	char			 id[MTASTS_ID_MAX + 1], cid[MTASTS_ID_MAX + 1];
	char			 reason[LOOKUP_STS_REASON_MAX];
	char			 ips[LOOKUP_STS_ADDRS_MAX][INET6_ADDRSTRLEN];
	char			 why[MTA_STS_WHY_MAX];
	uint64_t		 reqid, fetched, expires;
	uint32_t		 act, n, i;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_u32(m, &act) == -1 ||
	    act > LOOKUP_STS_FETCH ||
	    msg_get_str(m, id, sizeof(id)) == -1 ||
	    msg_get_str(m, reason, sizeof(reason)) == -1 ||
	    msg_get_span(m, &pol) == -1 || pol.len > MTASTS_POLICY_MAX ||
	    msg_get_str(m, cid, sizeof(cid)) == -1 ||
	    (cid[0] == '\0') != (pol.len == 0) ||
	    msg_get_u64(m, &fetched) == -1 || msg_get_u64(m, &expires) == -1 ||
	    msg_get_u32(m, &n) == -1 || n > LOOKUP_STS_ADDRS_MAX ||
	    (n > 0) != (act == LOOKUP_STS_FETCH) ||
	    (act == LOOKUP_STS_FETCH && id[0] == '\0') ||
	    (act == LOOKUP_STS_CACHED && pol.len == 0))
		mta_sts_bad(m, "fields");
	for (i = 0; i < n; i++)
		if (msg_get_str(m, ips[i], sizeof(ips[i])) == -1 ||
		    (inet_pton(AF_INET, ips[i], &a4) != 1 &&
		    inet_pton(AF_INET6, ips[i], &a6) != 1))
			mta_sts_bad(m, "address");
	if (msg_end(m) == -1)
		mta_sts_bad(m, "trailing bytes");
	TAILQ_FOREACH(r, &s->reqs, entry)
		if (r->lookup_reqid == reqid)
			break;
	if (r == NULL)
		return;		/* cancelled */
	r->lookup_reqid = 0;
	(void)str_copy(r->id, sizeof(r->id), id);
	(void)str_copy(r->reason, sizeof(r->reason), reason);
	(void)str_copy(r->cached_id, sizeof(r->cached_id), cid);
	if (pol.len > 0 && buf_append(&r->cached, pol.ptr, pol.len) == -1)
		mta_sts_bad(m, "policy");
	if (act != LOOKUP_STS_FETCH) {
		mta_sts_fallback(r, reason);
		return;
	}
	if (mta_sts_fetch(r, ips, n) == -1) {
		(void)snprintf(why, sizeof(why), "MTA-STS policy fetch for %s "
		    "failed: cannot start it", r->domain);
		if (r->easy != NULL) {
			httpc_cancel(s->http, r->easy);
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
			s->nfetches--;
		}
		mta_sts_fallback(r, why);
	}
}

/* --- set-up --- */

struct mta_sts *
mta_sts_new(struct proc_self *self, const char *ca_file,
    const char **errstr_out)
{
	struct mta_sts	*s;

	s = xcalloc(1, sizeof(*s));
	s->self = self;
	TAILQ_INIT(&s->reqs);
	if ((s->http = httpc_new(self->base, ca_file, "mta",
	    errstr_out)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}
