/*
 * httpc: HTTPS requests with libcurl's multi interface driven by a
 * role's libevent loop (CURLMOPT_SOCKETFUNCTION and
 * CURLMOPT_TIMERFUNCTION), so that no request blocks the loop and no
 * thread is started.  The glue the mta's MTA-STS fetches (mta/mta_sts.c)
 * and lookup's ACME client (lookup/lookup_acme.c) share: one multi
 * handle per role, the CA bundle read into memory before the chroot
 * (`tls-ca`, or the system's), and easy handles made with the options
 * both need (https only, the peer verified, no proxy, no redirects).
 * The caller sets the rest (body, headers, limits) on the easy handle.
 *
 * Trust: what comes back is the network's; callers bound and parse it.
 */
#ifndef CACHET_HTTPC_H
#define CACHET_HTTPC_H

#include <curl/curl.h>

#define HTTPC_SYSTEM_CA		"/etc/ssl/certs/ca-certificates.crt"
#define HTTPC_CA_MAX		(4 * 1024 * 1024)

struct event_base;
struct httpc;

/* A transfer ended with res (the response code is the easy handle's). */
typedef void	(*httpc_done_fn)(void *arg, CURL *easy, CURLcode res);

/*
 * curl on base with the CA bundle ca_file ("" or NULL: the system's),
 * read now: call before the chroot.  who names the role in log lines.
 * NULL with *errstr_out when ca_file was named and cannot be read, or
 * curl cannot be set up; without a system bundle every request fails
 * verification (logged once here).
 */
struct httpc	*httpc_new(struct event_base *base, const char *ca_file,
		    const char *who, const char **errstr_out);

/*
 * An easy handle for url with the shared options: https only, the peer
 * and its name verified against the bundle, no proxy, no redirects, no
 * connection reuse, errors into errbuf (CURL_ERROR_SIZE).  NULL when
 * curl refuses.
 */
CURL		*httpc_easy(struct httpc *, const char *url, char *errbuf);

/*
 * Run easy (from httpc_easy(), its options set): done is called once,
 * later, from the loop, unless httpc_cancel() comes first; the caller
 * then still owns easy (curl_easy_cleanup() it).  -1 when curl refuses.
 */
int		 httpc_start(struct httpc *, CURL *easy, httpc_done_fn done,
		    void *arg);

/* Stop a started transfer without its callback; easy stays the caller's. */
void		 httpc_cancel(struct httpc *, CURL *easy);

/* Transfers running now. */
size_t		 httpc_running(const struct httpc *);

#endif
