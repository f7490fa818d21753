/*
 * httpc: libcurl's multi interface on a libevent loop (httpc.h has the
 * contract).
 *
 * Why curl multi on libevent and not a fetch thread: the roles that use
 * it (mta, lookup) already wait on sockets in their loop, the mta's
 * sandbox allows no threads, and curl's socket and timer callbacks map
 * one to one onto libevent events.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "buf.h"
#include "httpc.h"
#include "log.h"
#include "util.h"

/* A socket curl asked us to watch. */
struct httpc_sock {
	struct httpc		*h;
	curl_socket_t		 fd;
	struct event		*ev;
};

/* A running transfer: whom to tell. */
struct httpc_xfer {
	httpc_done_fn		 done;
	void			*arg;
};

struct httpc {
	struct event_base	*base;
	const char		*who;
	CURLM			*multi;
	struct event		*timer;
	char			*ca;		/* the PEM bundle, or NULL */
	size_t			 calen;
	size_t			 running;
};

static void
httpc_check_done(struct httpc *h)
{
	struct httpc_xfer	*x;
	CURLMsg			*cm;
	CURL			*easy;
	CURLcode		 res;
	char			*priv;
	int			 left;

	while ((cm = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (cm->msg != CURLMSG_DONE)
			continue;
		easy = cm->easy_handle;
		res = cm->data.result;
		priv = NULL;
		(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		if ((x = (struct httpc_xfer *)(void *)priv) == NULL)
			fatalx("%s: a transfer without its caller", h->who);
		(void)curl_multi_remove_handle(h->multi, easy);
		(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		h->running--;
		/* The callback may start or cancel others: cm is dead now. */
		x->done(x->arg, easy, res);
		free(x);
	}
}

static void
httpc_on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct httpc_sock	*k = arg;
	struct httpc		*h = k->h;
	int			 flags = 0, running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	(void)curl_multi_socket_action(h->multi, fd, flags, &running);
	httpc_check_done(h);
}

static void
httpc_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct httpc	*h = arg;
	int		 running;

	(void)curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	httpc_check_done(h);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants. */
static int
httpc_sockfn(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct httpc		*h = arg;
	struct httpc_sock	*k = sockp;
	short			 kind = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (k != NULL) {
			event_free(k->ev);
			free(k);
		}
		(void)curl_multi_assign(h->multi, fd, NULL);
		return 0;
	}
	if (k == NULL) {
		k = xcalloc(1, sizeof(*k));
		k->h = h;
		k->fd = fd;
		(void)curl_multi_assign(h->multi, fd, k);
	} else
		event_free(k->ev);
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if ((k->ev = event_new(h->base, fd, kind, httpc_on_sock, k)) == NULL)
		fatalx("%s: event_new", h->who);
	event_add(k->ev, NULL);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: call back in ms (-1: never). */
static int
httpc_timerfn(CURLM *multi, long ms, void *arg)
{
	struct httpc	*h = arg;
	struct timeval	 tv;

	if (ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(h->timer, &tv);
	return 0;
}

/* The whole CA bundle at path into memory (before chroot). */
static int
httpc_read_ca(struct httpc *h, const char *path)
{
	struct buf	b;
	char		chunk[16384];
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	buf_init(&b, HTTPC_CA_MAX);
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
	h->ca = b.data;
	h->calen = b.len;
	return 0;
}

struct httpc *
httpc_new(struct event_base *base, const char *ca_file, const char *who,
    const char **errstr_out)
{
	struct httpc	*h;
	const char	*path;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*errstr_out = "curl_global_init failed";
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->base = base;
	h->who = who;
	path = ca_file != NULL && ca_file[0] != '\0' ? ca_file :
	    HTTPC_SYSTEM_CA;
	if (httpc_read_ca(h, path) == -1) {
		if (ca_file != NULL && ca_file[0] != '\0') {
			*errstr_out = "cannot read the tls-ca file";
			free(h);
			return NULL;
		}
		/* No bundle: every request fails verification (logged). */
		log_warn("%s: https: %s", who, path);
	}
	if ((h->multi = curl_multi_init()) == NULL ||
	    (h->timer = evtimer_new(base, httpc_on_timer, h)) == NULL ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION,
	    httpc_sockfn) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION,
	    httpc_timerfn) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
		*errstr_out = "cannot set up curl";
		return NULL;
	}
	return h;
}

CURL *
httpc_easy(struct httpc *h, const char *url, char *errbuf)
{
	struct curl_blob	 blob;
	CURL			*easy;

	if ((easy = curl_easy_init()) == NULL)
		return NULL;
	errbuf[0] = '\0';
	blob.data = h->ca;
	blob.len = h->calen;
	blob.flags = CURL_BLOB_NOCOPY;
	if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https") !=
	    CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*") != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_CAPATH, NULL) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_CAINFO, NULL) != CURLE_OK ||
	    (h->ca != NULL && curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB,
	    &blob) != CURLE_OK) ||
	    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_USERAGENT, "cachet") != CURLE_OK) {
		curl_easy_cleanup(easy);
		return NULL;
	}
	return easy;
}

int
httpc_start(struct httpc *h, CURL *easy, httpc_done_fn done, void *arg)
{
	struct httpc_xfer	*x;

	x = xcalloc(1, sizeof(*x));
	x->done = done;
	x->arg = arg;
	if (curl_easy_setopt(easy, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_multi_add_handle(h->multi, easy) != CURLM_OK) {
		(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return -1;
	}
	h->running++;
	return 0;
}

void
httpc_cancel(struct httpc *h, CURL *easy)
{
	char	*priv = NULL;

	if (easy == NULL)
		return;
	(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	if (priv == NULL)
		return;		/* not running */
	(void)curl_multi_remove_handle(h->multi, easy);
	(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(priv);
	h->running--;
}

size_t
httpc_running(const struct httpc *h)
{
	return h->running;
}
