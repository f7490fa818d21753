/*
 * mta_sts: MTA-STS policies for the mta (mta_sts.h has the contract):
 * a question to lookup, a fetch with libcurl's multi interface on the
 * role's event loop when lookup says so, the answer to the caller.
 *
 * Why curl multi on libevent and not a fetch thread: the mta's sandbox
 * allows no threads, the loop already waits on sockets, and curl's
 * socket and timer callbacks map one to one onto libevent events.  curl
 * resolves nothing itself (CURLOPT_RESOLVE gives it lookup's addresses),
 * so its resolver thread is never started.
 *
 * Trust: see mta_sts.h.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "buf.h"
#include "dns.h"
#include "ipc.h"
#include "log.h"
#include "lookup/lookup_sts.h"
#include "mta_sts.h"
#include "mtasts.h"
#include "proc.h"
#include "util.h"

/* Debian's ca-certificates bundle: the system's, when tls-ca is unset */
#define MTA_STS_SYSTEM_CA	"/etc/ssl/certs/ca-certificates.crt"
#define MTA_STS_CA_MAX		(4 * 1024 * 1024)
#define MTA_STS_PATH		"/.well-known/mta-sts.txt"	/* §3.3 */

struct mta_sts;

/* A socket curl asked us to watch. */
struct mta_sts_sock {
	struct mta_sts		*s;
	curl_socket_t		 fd;
	struct event		*ev;
};

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
	CURLM			*multi;
	struct event		*timer;
	char			*ca;		/* the PEM bundle, or NULL */
	size_t			 calen;
	struct mta_sts_reqs	 reqs;
	uint64_t		 next_handle;
	uint64_t		 next_reqid;
	size_t			 nfetches;
};

static void	mta_sts_check_done(struct mta_sts *);

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
		(void)curl_multi_remove_handle(s->multi, r->easy);
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
	struct curl_blob	 blob;
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
	if (o >= sizeof(entry) || (r->resolve = curl_slist_append(NULL,
	    entry)) == NULL || (r->easy = curl_easy_init()) == NULL)
		return -1;
	s->nfetches++;
	r->err[0] = '\0';
	blob.data = s->ca;
	blob.len = s->calen;
	blob.flags = CURL_BLOB_NOCOPY;
	if (curl_easy_setopt(r->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_RESOLVE, r->resolve) !=
	    CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "https") !=
	    CURLE_OK ||
	    /* §3.3: "senders MUST NOT follow redirects" */
	    curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_CAPATH, NULL) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_CAINFO, NULL) != CURLE_OK ||
	    (s->ca != NULL && curl_easy_setopt(r->easy, CURLOPT_CAINFO_BLOB,
	    &blob) != CURLE_OK) ||
	    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, (long)MTA_STS_TIMEOUT_S)
	    != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT,
	    (long)MTA_STS_CONNECT_S) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)MTASTS_POLICY_MAX) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, mta_sts_write) !=
	    CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->err) !=
	    CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "cachet") !=
	    CURLE_OK ||
	    (r->post != NULL && (curl_easy_setopt(r->easy,
	    CURLOPT_POSTFIELDS, r->post) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)r->postlen) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers) !=
	    CURLE_OK)) ||
	    curl_multi_add_handle(s->multi, r->easy) != CURLM_OK)
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

static void
mta_sts_check_done(struct mta_sts *s)
{
	struct mta_sts_req	*r;
	CURLMsg			*cm;
	char			*priv;
	int			 left;

	while ((cm = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (cm->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		(void)curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE,
		    &priv);
		if ((r = (struct mta_sts_req *)(void *)priv) == NULL)
			fatalx("mta: a fetch without its request");
		if (r->post_cb != NULL)
			mta_sts_posted(r, cm->data.result);
		else
			mta_sts_fetched(r, cm->data.result);
	}
}

static void
mta_sts_on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct mta_sts_sock	*k = arg;
	struct mta_sts		*s = k->s;
	int			 flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	(void)curl_multi_socket_action(s->multi, fd, flags, &running);
	mta_sts_check_done(s);
}

static void
mta_sts_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct mta_sts	*s = arg;
	int		 running;

	(void)curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	mta_sts_check_done(s);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants. */
static int
mta_sts_sockfn(CURL *easy, curl_socket_t fd, int what, void *arg,
    void *sockp)
{
	struct mta_sts		*s = arg;
	struct mta_sts_sock	*k = sockp;
	short			 kind = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (k != NULL) {
			event_free(k->ev);
			free(k);
		}
		(void)curl_multi_assign(s->multi, fd, NULL);
		return 0;
	}
	if (k == NULL) {
		k = xcalloc(1, sizeof(*k));
		k->s = s;
		k->fd = fd;
		(void)curl_multi_assign(s->multi, fd, k);
	} else
		event_free(k->ev);
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if ((k->ev = event_new(s->self->base, fd, kind, mta_sts_on_sock,
	    k)) == NULL)
		fatalx("mta: event_new");
	event_add(k->ev, NULL);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: call back in ms (-1: never). */
static int
mta_sts_timerfn(CURLM *multi, long ms, void *arg)
{
	struct mta_sts	*s = arg;
	struct timeval	 tv;

	if (ms < 0) {
		evtimer_del(s->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->timer, &tv);
	return 0;
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
			curl_easy_cleanup(r->easy);
			r->easy = NULL;
			s->nfetches--;
		}
		mta_sts_fallback(r, why);
	}
}

/* --- set-up --- */

/* The whole CA bundle at path into memory (before chroot). */
static int
mta_sts_read_ca(struct mta_sts *s, const char *path)
{
	struct buf	b;
	char		chunk[16384];
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	buf_init(&b, MTA_STS_CA_MAX);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&b, chunk, (size_t)n) == -1) {
			n = -1;
			break;
		}
	close(fd);
	if (n == -1 || b.len == 0) {
		buf_free(&b);
		if (n != -1)
			errno = EINVAL;
		return -1;
	}
	s->ca = b.data;
	s->calen = b.len;
	return 0;
}

struct mta_sts *
mta_sts_new(struct proc_self *self, const char *ca_file,
    const char **errstr_out)
{
	struct mta_sts	*s;
	const char	*path;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*errstr_out = "curl_global_init failed";
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->self = self;
	TAILQ_INIT(&s->reqs);
	path = ca_file != NULL && ca_file[0] != '\0' ? ca_file :
	    MTA_STS_SYSTEM_CA;
	if (mta_sts_read_ca(s, path) == -1) {
		if (ca_file != NULL && ca_file[0] != '\0') {
			*errstr_out = "cannot read the tls-ca file";
			free(s);
			return NULL;
		}
		/* No bundle: every fetch fails verification (logged). */
		log_warn("mta: MTA-STS: %s", path);
	}
	if ((s->multi = curl_multi_init()) == NULL ||
	    (s->timer = evtimer_new(self->base, mta_sts_on_timer, s)) ==
	    NULL ||
	    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION,
	    mta_sts_sockfn) != CURLM_OK ||
	    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s) != CURLM_OK ||
	    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION,
	    mta_sts_timerfn) != CURLM_OK ||
	    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s) != CURLM_OK) {
		*errstr_out = "cannot set up curl";
		return NULL;
	}
	return s;
}
