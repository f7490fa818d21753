/*
 * lookup_acme: the ACME client (RFC 8555) in the lookup role
 * (lookup_acme.h has the contract).
 *
 * Why in lookup and not in the mta: the keys never leave lookup, and
 * every request is signed with the account key, so a client in the mta
 * would ask lookup to sign each request, make the CSR and store the
 * chain: three message types and a second state machine.  Here the
 * protocol runs where the keys are, on lookup's loop with curl's multi
 * interface (lib/httpc.h, the glue the mta's MTA-STS fetches use), the
 * server's name resolved through our resolver (CURLOPT_RESOLVE: curl
 * never resolves), and every URL the server hands us must be on the
 * directory's host and port.  The JSON the server sends is parsed by
 * lib/acme.c (pure, fuzzed) under ACME_JSON_MAX.
 *
 * One run (§7.1 steps): directory, a nonce (HEAD newNonce), newAccount
 * (with the key's JWK; an existing account is found again, §7.3.1),
 * newOrder for our names, each authorization: its http-01 challenge
 * token to the http role, the challenge POSTed, the authorization
 * polled until valid; then finalize with a CSR for next-key.pem, the
 * order polled until valid, the chain fetched, stored and installed.
 * A failure ends the run: the next one starts after a backoff that
 * doubles from ACME_RETRY_S to a day, from the directory again.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme.h"
#include "buf.h"
#include "dns.h"
#include "httpc.h"
#include "ipc.h"
#include "log.h"
#include "lookup/lookup_acme.h"
#include "lookup/lookup_tls.h"
#include "util.h"

#define ACME_F_ACCOUNT	LOOKUP_ACME_DIR "/account.pem"
#define ACME_F_KEY	LOOKUP_ACME_DIR "/key.pem"
#define ACME_F_CERT	LOOKUP_ACME_DIR "/cert.pem"
#define ACME_F_NEXT	LOOKUP_ACME_DIR "/next-key.pem"
#define ACME_FILE_MAX	(64 * 1024)	/* a key or a chain we read */
#define ACME_TIMEOUT_S	30		/* one request */
#define ACME_CONNECT_S	10
#define ACME_POLL_S	1		/* between polls (§7.5.1) */
#define ACME_POLLS_MAX	60		/* of one authorization or order */
#define ACME_NONCE_TRIES 3		/* §6.5: badNonce, try again */
#define ACME_NONCE_MAX	128
#define ACME_RETRY_MAX_S 86400		/* the backoff's ceiling */
#define ACME_ERR_MAX	400
#ifdef CACHET_TEST_HOOKS
#define ACME_RETRY_S	3		/* test builds: black-box tests wait */
#else
#define ACME_RETRY_S	60		/* the first retry after a failure */
#endif

enum acme_step {
	ACME_IDLE,
	ACME_RESOLVE,
	ACME_DIRECTORY,
	ACME_ACCOUNT,
	ACME_ORDER,
	ACME_AUTHZ,
	ACME_CHALLENGE,
	ACME_POLL_AUTHZ,
	ACME_FINALIZE,
	ACME_POLL_ORDER,
	ACME_CERT,
};

static const char *const acme_step_names[] = {
	"idle", "resolve", "directory", "account", "order",
	"authorization", "challenge", "poll-authorization", "finalize",
	"poll-order", "certificate",
};

struct lookup_acme {
	struct proc_self	*self;
	const struct conf	*conf;
	struct lookup_tls	*tls;
	struct dns		*dns;
	struct httpc		*http;
	struct event		*timer;

	char			 host[DNS_NAME_MAX + 3];	/* of the URL */
	long			 port;
	bool			 host_is_ip;
	struct curl_slist	*resolve;	/* HOST:PORT:ADDRS, or NULL */
	struct dns_query	*q[2];		/* A, AAAA */
	char			 addrs[512];

	char			 names[ACME_AUTHZ_MAX][ACME_NAME_MAX + 1];
	size_t			 nnames;

	EVP_PKEY		*account;
	struct buf		 jwk;		/* canonical, RFC 7638 */
	char			 thumb[ACME_THUMB_LEN + 1];
	EVP_PKEY		*next;		/* next-key.pem */

	/* the certificate in use, when it is ours (acme/cert.pem) */
	bool			 have_cert;
	int64_t			 not_before, not_after, renew_at;
	char			 cert_names[512];
	char			 issuer[128];

	/* the run */
	enum acme_step		 step;
	bool			 started;	/* files read, first run set */
	int64_t			 next_run;
	unsigned		 failures;
	char			 last_error[ACME_ERR_MAX];
	int64_t			 last_error_at;
	struct acme_directory	 dir;
	char			 nonce[ACME_NONCE_MAX + 1];
	char			 kid[ACME_URL_MAX + 1];
	char			 order_url[ACME_URL_MAX + 1];
	struct acme_order	 order;
	size_t			 authz_i;
	unsigned		 polls;
	char			 tokens[ACME_AUTHZ_MAX][ACME_TOKEN_MAX + 1];
	size_t			 ntokens;

	/* the request in flight */
	CURL			*easy;
	struct curl_slist	*headers;
	char			 req_url[ACME_URL_MAX + 1];
	char			*req_payload;	/* NULL: POST-as-GET */
	bool			 req_post;
	bool			 nonce_fetch;	/* HEAD newNonce first */
	unsigned		 nonce_tries;
	struct buf		 post;
	struct buf		 body;
	bool			 too_big;
	char			 location[ACME_URL_MAX + 1];
	char			 errbuf[CURL_ERROR_SIZE];
};

static void	acme_fail(struct lookup_acme *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

static int64_t
acme_now(void)
{
	return (int64_t)time(NULL);
}

static void
acme_fmt_time(int64_t t, char *out, size_t outsz)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(out, outsz, "%lld", (long long)t);
}

/* --- files and keys --- */

/* The whole of path (at most ACME_FILE_MAX) into b. */
static int
acme_read_file(const char *path, struct buf *b)
{
	char	chunk[8192];
	ssize_t	n;
	int	fd;

	buf_init(b, ACME_FILE_MAX);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)n) == -1) {
			n = -1;
			errno = EFBIG;
			break;
		}
	close(fd);
	if (n == -1) {
		buf_free(b);
		return -1;
	}
	return 0;
}

/* Write p[0..len) to path: a temporary file, fsync, rename, fsync dir. */
static int
acme_write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	char	tmp[CONF_PATH_MAX];
	int	fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) == -1)
		return -1;
	if (write_full(fd, p, len) == -1 || fsync(fd) == -1) {
		close(fd);
		(void)unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return -1;
	}
	if ((dfd = open(LOOKUP_ACME_DIR, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int
acme_key_pem(EVP_PKEY *k, struct buf *out)
{
	BIO	*bio;
	char	*pem;
	long	 len;
	int	 rc = -1;

	buf_init(out, ACME_FILE_MAX);
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return -1;
	if (PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (len = BIO_get_mem_data(bio, &pem)) > 0)
		rc = buf_append(out, pem, (size_t)len);
	BIO_free(bio);
	return rc;
}

/* The P-256 key at path, made and written (0600) when there is none. */
static EVP_PKEY *
acme_key_load(const char *path, const char **errstr_out)
{
	struct buf	 b;
	EVP_PKEY	*k = NULL;
	BIO		*bio;

	if (acme_read_file(path, &b) == 0) {
		if ((bio = BIO_new_mem_buf(b.data, (int)b.len)) != NULL) {
			k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
			BIO_free(bio);
		}
		explicit_bzero(b.data, b.len);
		buf_free(&b);
		if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) {
			EVP_PKEY_free(k);
			*errstr_out = "a key file holds no EC key";
			return NULL;
		}
		return k;
	}
	if (errno != ENOENT) {
		*errstr_out = "cannot read a key file";
		return NULL;
	}
	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		*errstr_out = "cannot make a P-256 key";
		return NULL;
	}
	if (acme_key_pem(k, &b) == -1 ||
	    acme_write_file(path, b.data, b.len, 0600) == -1) {
		if (b.data != NULL)
			explicit_bzero(b.data, b.len);
		buf_free(&b);
		EVP_PKEY_free(k);
		*errstr_out = "cannot write a key file";
		return NULL;
	}
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	log_info("lookup: event=acme-key-made file=%s", path);
	return k;
}

static int
acme_make_jwk(struct lookup_acme *a)
{
	BIGNUM		*x = NULL, *y = NULL;
	uint8_t		 xb[32], yb[32];
	int		 rc = -1;

	if (EVP_PKEY_get_bn_param(a->account, OSSL_PKEY_PARAM_EC_PUB_X,
	    &x) == 1 && EVP_PKEY_get_bn_param(a->account,
	    OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
	    BN_bn2binpad(x, xb, 32) == 32 && BN_bn2binpad(y, yb, 32) == 32) {
		buf_init(&a->jwk, 512);
		if (acme_jwk_ec(xb, yb, &a->jwk) == 0) {
			acme_thumbprint(a->jwk.data, a->jwk.len, a->thumb);
			rc = 0;
		}
	}
	BN_free(x);
	BN_free(y);
	return rc;
}

/* Does key.pem hold the private key of the leaf x? */
static bool
acme_key_matches(X509 *x)
{
	struct buf	 b;
	EVP_PKEY	*k = NULL;
	BIO		*bio;
	bool		 ok;

	if (acme_read_file(ACME_F_KEY, &b) == -1)
		return false;
	if ((bio = BIO_new_mem_buf(b.data, (int)b.len)) != NULL) {
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	ok = k != NULL && X509_check_private_key(x, k) == 1;
	EVP_PKEY_free(k);
	return ok;
}

/* What the stored certificate says: its life, names and issuer. */
static void
acme_cert_info(struct lookup_acme *a)
{
	STACK_OF(GENERAL_NAME)	*sans;
	const GENERAL_NAME	*gn;
	struct tm		 tm;
	struct buf		 b;
	X509			*x = NULL;
	BIO			*bio;
	size_t			 o = 0;
	int			 i, n;

	a->have_cert = false;
	a->cert_names[0] = '\0';
	a->issuer[0] = '\0';
	if (acme_read_file(ACME_F_CERT, &b) == -1)
		return;
	if ((bio = BIO_new_mem_buf(b.data, (int)b.len)) != NULL) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	buf_free(&b);
	if (x == NULL)
		return;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1)
		a->not_before = (int64_t)timegm(&tm);
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		a->not_after = (int64_t)timegm(&tm);
	(void)X509_NAME_get_text_by_NID(X509_get_issuer_name(x),
	    NID_commonName, a->issuer, sizeof(a->issuer));
	if ((sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL)) != NULL) {
		for (i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
			gn = sk_GENERAL_NAME_value(sans, i);
			if (gn->type != GEN_DNS)
				continue;
			n = snprintf(a->cert_names + o, sizeof(a->cert_names) -
			    o, "%s%.*s", o > 0 ? " " : "",
			    ASN1_STRING_length(gn->d.dNSName),
			    (const char *)ASN1_STRING_get0_data(gn->d.dNSName));
			if (n < 0 || (size_t)n >= sizeof(a->cert_names) - o)
				break;
			o += (size_t)n;
		}
		GENERAL_NAMES_free(sans);
	}
	a->have_cert = true;
	a->renew_at = acme_renew_at(a->not_before, a->not_after);
	if (!acme_key_matches(x)) {
		log_warnx("lookup: acme: %s and %s do not match: renewing now",
		    ACME_F_CERT, ACME_F_KEY);
		a->renew_at = acme_now();
	}
	X509_free(x);
}

/* Does the stored certificate name every name we want? */
static bool
acme_cert_covers(const struct lookup_acme *a)
{
	const char	*p;
	size_t		 i, len;

	for (i = 0; i < a->nnames; i++) {
		len = strlen(a->names[i]);
		for (p = a->cert_names; (p = strstr(p, a->names[i])) != NULL;
		    p += len)
			if ((p == a->cert_names || p[-1] == ' ') &&
			    (p[len] == ' ' || p[len] == '\0'))
				break;
		if (p == NULL)
			return false;
	}
	return true;
}

/*
 * hostname, then mta-sts.D, autoconfig.D and autodiscover.D for each of
 * our domains (the names the https listener answers for).
 */
static void
acme_add_name(struct lookup_acme *a, const char *prefix, const char *name)
{
	char	n[ACME_NAME_MAX + 1];
	size_t	i;

	if (snprintf(n, sizeof(n), "%s%s", prefix, name) >= (int)sizeof(n)) {
		log_warnx("lookup: acme: %s%s: name too long", prefix, name);
		return;
	}
	for (i = 0; i < a->nnames; i++)
		if (strcasecmp(a->names[i], n) == 0)
			return;
	if (a->nnames == ACME_AUTHZ_MAX) {
		log_warnx("lookup: acme: more than %d names: %s left out",
		    ACME_AUTHZ_MAX, n);
		return;
	}
	(void)str_copy(a->names[a->nnames++], sizeof(a->names[0]), n);
}

/* --- the http role's tokens --- */

static void
acme_push_tokens(struct lookup_acme *a)
{
	struct msg	*m;
	size_t		 i;

	m = msg_new(MSG_HTTP_ACME_TOKENS);
	msg_put_str(m, a->thumb);
	msg_put_u32(m, (uint32_t)a->ntokens);
	for (i = 0; i < a->ntokens; i++)
		msg_put_str(m, a->tokens[i]);
	(void)proc_send(a->self, PROC_HTTP, m);
}

static void
acme_token_add(struct lookup_acme *a, const char *token)
{
	size_t	i;

	for (i = 0; i < a->ntokens; i++)
		if (strcmp(a->tokens[i], token) == 0)
			return;
	if (a->ntokens == ACME_AUTHZ_MAX)
		return;
	(void)str_copy(a->tokens[a->ntokens++], sizeof(a->tokens[0]), token);
	acme_push_tokens(a);
}

static void
acme_tokens_clear(struct lookup_acme *a)
{
	if (a->ntokens == 0)
		return;
	a->ntokens = 0;
	acme_push_tokens(a);
}

void
lookup_acme_peer_change(struct lookup_acme *a, struct proc_peer p)
{
	if (a != NULL && p.id == PROC_HTTP && a->ntokens > 0)
		acme_push_tokens(a);
}

/* --- requests --- */

static void
acme_req_clear(struct lookup_acme *a)
{
	if (a->easy != NULL) {
		httpc_cancel(a->http, a->easy);
		curl_easy_cleanup(a->easy);
		a->easy = NULL;
	}
	curl_slist_free_all(a->headers);
	a->headers = NULL;
}

static size_t
acme_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct lookup_acme	*a = arg;

	if (size != 1 || buf_append(&a->body, p, n) == -1) {
		a->too_big = true;
		return 0;
	}
	return n;
}

/* The headers we read: Replay-Nonce (§6.5) and Location (§7.3, §7.4). */
static size_t
acme_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct lookup_acme	*a = arg;
	struct span		 line, v;
	char			*dst;
	size_t			 dstsz, i;

	if (size != 1)
		return 0;
	line = span_make(p, n);
	/* curl hands each header line with its CRLF */
	while (line.len > 0 && (line.ptr[line.len - 1] == '\n' ||
	    line.ptr[line.len - 1] == '\r'))
		line.len--;
	line = span_trim(line);
	if (span_startswith_case(line, "replay-nonce:")) {
		v = span_trim(span_make(line.ptr + 13, line.len - 13));
		dst = a->nonce;
		dstsz = sizeof(a->nonce);
		/* §6.5.1: base64url; anything else is no nonce */
		for (i = 0; i < v.len; i++)
			if (!acme_token_ok(v.ptr + i, 1))
				return n;
	} else if (span_startswith_case(line, "location:")) {
		v = span_trim(span_make(line.ptr + 9, line.len - 9));
		dst = a->location;
		dstsz = sizeof(a->location);
	} else
		return n;
	if (v.len == 0 || v.len >= dstsz || memchr(v.ptr, '\0', v.len) !=
	    NULL)
		return n;	/* too long: as if absent */
	memcpy(dst, v.ptr, v.len);
	dst[v.len] = '\0';
	return n;
}

/* Is url on the directory's host and port (and https)? */
static bool
acme_same_origin(struct lookup_acme *a, const char *url)
{
	CURLU	*u;
	char	*host = NULL, *port = NULL, *scheme = NULL;
	bool	 ok = false;

	if ((u = curl_url()) == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK)
		ok = strcasecmp(scheme, "https") == 0 &&
		    strcasecmp(host, a->host) == 0 && strtol(port, NULL, 10) ==
		    a->port;
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

static void	acme_done(void *arg, CURL *easy, CURLcode res);

/* Sign input with the account key: ES256 (RFC 7518 §3.4). */
static int
acme_sign(struct lookup_acme *a, const struct buf *input,
    uint8_t sig[ACME_SIG_LEN])
{
	EVP_MD_CTX	*ctx;
	unsigned char	 der[128];
	size_t		 len = sizeof(der);
	int		 rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    a->account) == 1 && EVP_DigestSign(ctx, der, &len,
	    (const unsigned char *)input->data, input->len) == 1 &&
	    acme_sig_raw(der, len, sig) == 0)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * Send the request in a->req_*: a GET or HEAD, or a POST of the JWS of
 * req_payload (NULL: POST-as-GET, §6.3) signed with the current nonce.
 */
static void
acme_send(struct lookup_acme *a)
{
	struct buf	 input;
	uint8_t		 sig[ACME_SIG_LEN];
	bool		 use_jwk;

	const char	*url = a->req_url;
	bool		 post = a->req_post;

	acme_req_clear(a);
	if (post && a->nonce[0] == '\0') {
		/* No nonce yet: HEAD newNonce (§7.2), then this POST. */
		a->nonce_fetch = true;
		url = a->dir.new_nonce;
		post = false;
	}
	if (!acme_same_origin(a, url)) {
		acme_fail(a, "the server sent a URL on another host: %.200s",
		    url);
		return;
	}
	buf_reset(&a->body);
	a->too_big = false;
	a->location[0] = '\0';
	if (post) {
		/* §6.2: jwk for newAccount, kid for everything after */
		use_jwk = a->step == ACME_ACCOUNT;
		buf_init(&input, ACME_JSON_MAX);
		if (acme_jws_input(use_jwk ? a->jwk.data : NULL,
		    use_jwk ? NULL : a->kid, a->nonce, a->req_url,
		    a->req_payload, &input) == -1 ||
		    acme_sign(a, &input, sig) == -1 ||
		    acme_jws_body(&input, sig, &a->post) == -1) {
			buf_free(&input);
			acme_fail(a, "cannot sign a request");
			return;
		}
		buf_free(&input);
		/* §6.5: a nonce is used once */
		a->nonce[0] = '\0';
	}
	if ((a->easy = httpc_easy(a->http, url, a->errbuf)) == NULL ||
	    (a->resolve != NULL && curl_easy_setopt(a->easy, CURLOPT_RESOLVE,
	    a->resolve) != CURLE_OK) ||
	    curl_easy_setopt(a->easy, CURLOPT_TIMEOUT, (long)ACME_TIMEOUT_S) !=
	    CURLE_OK ||
	    curl_easy_setopt(a->easy, CURLOPT_CONNECTTIMEOUT,
	    (long)ACME_CONNECT_S) != CURLE_OK ||
	    curl_easy_setopt(a->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)ACME_JSON_MAX) != CURLE_OK ||
	    curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, acme_write_cb) !=
	    CURLE_OK ||
	    curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, a) != CURLE_OK ||
	    curl_easy_setopt(a->easy, CURLOPT_HEADERFUNCTION, acme_header_cb) !=
	    CURLE_OK ||
	    curl_easy_setopt(a->easy, CURLOPT_HEADERDATA, a) != CURLE_OK ||
	    (a->nonce_fetch && curl_easy_setopt(a->easy, CURLOPT_NOBODY, 1L) !=
	    CURLE_OK)) {
		acme_fail(a, "cannot set up a request");
		return;
	}
	if (post) {
		if ((a->headers = curl_slist_append(NULL,
		    "Content-Type: application/jose+json")) == NULL ||
		    curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, a->headers) !=
		    CURLE_OK ||
		    curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, a->post.data) !=
		    CURLE_OK ||
		    curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)a->post.len) != CURLE_OK) {
			acme_fail(a, "cannot set up a request");
			return;
		}
	}
	if (httpc_start(a->http, a->easy, acme_done, a) == -1) {
		acme_fail(a, "cannot start a request");
		return;
	}
	log_debug("lookup: event=acme-request step=%s url=%s",
	    a->nonce_fetch ? "nonce" : acme_step_names[a->step], url);
}

static void
acme_request(struct lookup_acme *a, enum acme_step step, const char *url,
    bool post, const char *payload)
{
	a->step = step;
	(void)str_copy(a->req_url, sizeof(a->req_url), url);
	free(a->req_payload);
	a->req_payload = payload != NULL ? xstrdup(payload) : NULL;
	a->req_post = post;
	a->nonce_tries = 0;
	acme_send(a);
}

/* --- the run --- */

static void
acme_schedule(struct lookup_acme *a, int64_t when)
{
	struct timeval	tv;
	int64_t		now = acme_now();

	a->next_run = when;
	tv.tv_sec = when > now ? (time_t)(when - now) : 0;
	tv.tv_usec = 0;
	evtimer_add(a->timer, &tv);
}

static void
acme_end_run(struct lookup_acme *a)
{
	acme_req_clear(a);
	acme_tokens_clear(a);
	a->nonce_fetch = false;
	free(a->req_payload);
	a->req_payload = NULL;
	a->step = ACME_IDLE;
	a->nonce[0] = '\0';
	a->kid[0] = '\0';
}

static void
acme_fail(struct lookup_acme *a, const char *fmt, ...)
{
	va_list		ap;
	int64_t		delay = ACME_RETRY_S;
	unsigned	i;
	char		when[32];

	va_start(ap, fmt);
	(void)vsnprintf(a->last_error, sizeof(a->last_error), fmt, ap);
	va_end(ap);
	a->last_error_at = acme_now();
	a->failures++;
	for (i = 1; i < a->failures && delay < ACME_RETRY_MAX_S; i++)
		delay *= 2;
	if (delay > ACME_RETRY_MAX_S)
		delay = ACME_RETRY_MAX_S;
	acme_end_run(a);
	acme_schedule(a, a->last_error_at + delay);
	acme_fmt_time(a->next_run, when, sizeof(when));
	log_warnx("lookup: event=acme result=error failures=%u retry=%s "
	    "reason=\"%s\"", a->failures, when, a->last_error);
}

/* Start a run: resolve the server's name unless it is an address. */
static void	acme_resolved(void *arg, const struct dns_result *res);

static void
acme_start(struct lookup_acme *a)
{
	static const enum dns_type	 types[2] = { DNS_T_A, DNS_T_AAAA };
	const char			*err = NULL;
	size_t				 i;

	if (a->step != ACME_IDLE)
		return;
	evtimer_del(a->timer);
	log_info("lookup: event=acme-start url=%s names=%zu",
	    a->conf->acme_url, a->nnames);
	memset(&a->order, 0, sizeof(a->order));
	a->order_url[0] = '\0';
	if (a->host_is_ip) {
		acme_request(a, ACME_DIRECTORY, a->conf->acme_url, false, NULL);
		return;
	}
	if (a->dns == NULL) {
		acme_fail(a, "no DNS resolver for %s", a->host);
		return;
	}
	a->step = ACME_RESOLVE;
	a->addrs[0] = '\0';
	for (i = 0; i < 2; i++)
		if ((a->q[i] = dns_query(a->dns, a->host, types[i],
		    acme_resolved, a, &err)) == NULL) {
			if (i == 1)
				dns_cancel(a->q[0]);
			a->q[0] = a->q[1] = NULL;
			acme_fail(a, "cannot resolve %s: %s", a->host,
			    err != NULL ? err : "refused");
			return;
		}
}

static void
acme_resolved(void *arg, const struct dns_result *res)
{
	struct lookup_acme	*a = arg;
	char			 ip[INET6_ADDRSTRLEN], entry[DNS_NAME_MAX + 600];
	size_t			 i, o = strlen(a->addrs);
	int			 n;

	if (a->q[0] != NULL && strcmp(res->qname, a->host) == 0 &&
	    res->type == DNS_T_A)
		a->q[0] = NULL;
	else
		a->q[1] = NULL;
	for (i = 0; res->status == DNS_OK && i < res->nrrs && i < 8; i++) {
		if (res->rrs[i].type == DNS_T_A)
			(void)inet_ntop(AF_INET, &res->rrs[i].u.a, ip,
			    sizeof(ip));
		else if (res->rrs[i].type == DNS_T_AAAA) {
			char	six[INET6_ADDRSTRLEN];

			(void)inet_ntop(AF_INET6, &res->rrs[i].u.aaaa, six,
			    sizeof(six));
			(void)snprintf(ip, sizeof(ip), "[%.*s]",
			    (int)sizeof(ip) - 3, six);
		} else
			continue;
		n = snprintf(a->addrs + o, sizeof(a->addrs) - o, "%s%s",
		    o > 0 ? "," : "", ip);
		if (n < 0 || (size_t)n >= sizeof(a->addrs) - o) {
			a->addrs[o] = '\0';
			break;
		}
		o += (size_t)n;
	}
	if (a->q[0] != NULL || a->q[1] != NULL)
		return;
	if (a->addrs[0] == '\0') {
		acme_fail(a, "%s has no address (%s)", a->host,
		    res->why[0] != '\0' ? res->why : "no A or AAAA record");
		return;
	}
	curl_slist_free_all(a->resolve);
	(void)snprintf(entry, sizeof(entry), "%s:%ld:%s", a->host, a->port,
	    a->addrs);
	if ((a->resolve = curl_slist_append(NULL, entry)) == NULL) {
		acme_fail(a, "out of memory");
		return;
	}
	acme_request(a, ACME_DIRECTORY, a->conf->acme_url, false, NULL);
}

/* The next authorization to see to, or finalize when all are valid. */
static void	acme_finalize(struct lookup_acme *);

static void
acme_next_authz(struct lookup_acme *a)
{
	if (a->authz_i >= a->order.nauthz) {
		acme_finalize(a);
		return;
	}
	a->polls = 0;
	acme_request(a, ACME_AUTHZ, a->order.authz[a->authz_i], true, NULL);
}

static void
acme_poll_later(struct lookup_acme *a, enum acme_step step)
{
	struct timeval	tv = { ACME_POLL_S, 0 };

	if (++a->polls > ACME_POLLS_MAX) {
		acme_fail(a, "gave up waiting (%s, %d polls)",
		    acme_step_names[step], ACME_POLLS_MAX);
		return;
	}
	acme_req_clear(a);
	a->step = step;
	evtimer_add(a->timer, &tv);
}

/* A CSR for our names with the next key, DER (RFC 2986, §7.4). */
static int
acme_csr(struct lookup_acme *a, struct buf *out)
{
	STACK_OF(X509_EXTENSION)	*exts = NULL;
	X509_EXTENSION			*ext = NULL;
	X509_NAME			*subj;
	X509_REQ			*req;
	struct buf			 sans;
	unsigned char			*der = NULL;
	size_t				 i;
	int				 len, rc = -1;

	buf_init(&sans, 16384);
	for (i = 0; i < a->nnames; i++)
		if (buf_printf(&sans, "%sDNS:%s", i > 0 ? "," : "",
		    a->names[i]) == -1)
			goto done;
	if ((req = X509_REQ_new()) == NULL)
		goto done;
	subj = X509_REQ_get_subject_name(req);
	if (X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
	    (const unsigned char *)a->names[0], -1, -1, 0) != 1 ||
	    X509_REQ_set_pubkey(req, a->next) != 1 ||
	    (ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	    sans.data)) == NULL || (exts = sk_X509_EXTENSION_new_null()) ==
	    NULL || sk_X509_EXTENSION_push(exts, ext) == 0)
		goto free;
	ext = NULL;
	if (X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, a->next, EVP_sha256()) <= 0 ||
	    (len = i2d_X509_REQ(req, &der)) <= 0)
		goto free;
	buf_reset(out);
	if (acme_b64url(der, (size_t)len, out) == 0)
		rc = 0;
	OPENSSL_free(der);
free:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
done:
	buf_free(&sans);
	return rc;
}

static void
acme_finalize(struct lookup_acme *a)
{
	struct buf	 csr;
	json_t		*o;
	char		*payload;

	buf_init(&csr, ACME_JSON_MAX);
	if (acme_csr(a, &csr) == -1) {
		buf_free(&csr);
		acme_fail(a, "cannot make the CSR");
		return;
	}
	o = json_pack("{s:s}", "csr", csr.data);
	buf_free(&csr);
	if (o == NULL || (payload = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		acme_fail(a, "out of memory");
		return;
	}
	json_decref(o);
	a->polls = 0;
	log_info("lookup: event=acme-finalize order=%s", a->order_url);
	acme_request(a, ACME_FINALIZE, a->order.finalize, true, payload);
	free(payload);
}

/* The chain came: store it with the key it is for, install, rotate. */
static void
acme_issued(struct lookup_acme *a)
{
	struct buf	 key;
	EVP_PKEY	*k;
	const char	*err = NULL;
	char		 when[32];

	if (a->body.len == 0 || memmem(a->body.data, a->body.len,
	    "-----BEGIN CERTIFICATE-----", 27) == NULL) {
		acme_fail(a, "the certificate is not PEM");
		return;
	}
	if (acme_key_pem(a->next, &key) == -1) {
		acme_fail(a, "cannot write the key");
		return;
	}
	/* Checked and in use first (the key matches the leaf), then kept. */
	if (lookup_tls_install(a->tls, a->body.data, a->body.len, key.data,
	    key.len, &err) == -1) {
		explicit_bzero(key.data, key.len);
		buf_free(&key);
		acme_fail(a, "the issued certificate was refused: %s", err);
		return;
	}
	/*
	 * The key, then the chain: a crash between the two leaves a pair
	 * that does not match, which acme_first() sees at the next start
	 * and renews at once.
	 */
	if (acme_write_file(ACME_F_KEY, key.data, key.len, 0600) == -1 ||
	    acme_write_file(ACME_F_CERT, a->body.data, a->body.len, 0644) ==
	    -1) {
		explicit_bzero(key.data, key.len);
		buf_free(&key);
		acme_fail(a, "cannot store the certificate: %s",
		    strerror(errno));
		return;
	}
	explicit_bzero(key.data, key.len);
	buf_free(&key);
	/* The next key becomes the key; a new next key is made ahead. */
	(void)unlink(ACME_F_NEXT);
	if ((k = acme_key_load(ACME_F_NEXT, &err)) == NULL)
		log_warnx("lookup: acme: next key: %s", err);
	else {
		EVP_PKEY_free(a->next);
		a->next = k;
	}
	a->failures = 0;
	a->last_error[0] = '\0';
	acme_end_run(a);
	acme_cert_info(a);
	acme_fmt_time(a->not_after, when, sizeof(when));
	log_info("lookup: event=acme-issued names=\"%s\" issuer=\"%s\" "
	    "not_after=%s", a->cert_names, a->issuer, when);
	acme_schedule(a, a->renew_at);
}

/* A non-2xx answer, or a transport error: why, in one line. */
static void
acme_http_error(struct lookup_acme *a, CURLcode res, long code)
{
	char	problem[ACME_DETAIL_MAX];

	if (res != CURLE_OK) {
		acme_fail(a, "%s %s: %s", acme_step_names[a->step], a->req_url,
		    a->too_big ? "response too large" : a->errbuf[0] != '\0' ?
		    a->errbuf : curl_easy_strerror(res));
		return;
	}
	acme_problem(a->body.data != NULL ? a->body.data : "", a->body.len,
	    problem, sizeof(problem));
	acme_fail(a, "%s %s: HTTP %ld: %s", acme_step_names[a->step],
	    a->req_url, code, problem);
}

static void
acme_on_order(struct lookup_acme *a)
{
	const char	*err;

	if (acme_parse_order(a->body.data, a->body.len, &a->order,
	    &err) == -1) {
		acme_fail(a, "%s: %s", acme_step_names[a->step], err);
		return;
	}
	switch (a->order.status) {
	case ACME_S_VALID:
		if (a->order.certificate[0] == '\0') {
			acme_fail(a, "a valid order without a certificate");
			return;
		}
		acme_request(a, ACME_CERT, a->order.certificate, true, NULL);
		return;
	case ACME_S_PROCESSING:
	case ACME_S_READY:
		if (a->step == ACME_FINALIZE || a->step == ACME_POLL_ORDER) {
			acme_poll_later(a, ACME_POLL_ORDER);
			return;
		}
		acme_finalize(a);
		return;
	case ACME_S_PENDING:
		if (a->step == ACME_ORDER) {
			a->authz_i = 0;
			acme_next_authz(a);
			return;
		}
		acme_fail(a, "the order is still pending after finalize");
		return;
	default:
		acme_fail(a, "order %s: %s", acme_status_name(a->order.status),
		    a->order.error[0] != '\0' ? a->order.error : "no reason");
		return;
	}
}

static void
acme_on_authz(struct lookup_acme *a)
{
	struct acme_authz	 az;
	const char		*err;

	if (acme_parse_authz(a->body.data, a->body.len, &az, &err) == -1) {
		acme_fail(a, "%s: %s", acme_step_names[a->step], err);
		return;
	}
	switch (az.status) {
	case ACME_S_VALID:
		log_info("lookup: event=acme-authorized name=%s", az.name);
		a->authz_i++;
		acme_next_authz(a);
		return;
	case ACME_S_PENDING:
		if (!az.has_http01) {
			acme_fail(a, "%s: no http-01 challenge offered",
			    az.name);
			return;
		}
		if (a->step == ACME_AUTHZ && az.chall_status ==
		    ACME_S_PENDING) {
			acme_token_add(a, az.token);
			log_info("lookup: event=acme-challenge name=%s "
			    "type=http-01", az.name);
			/* §7.5.1: an empty object says "go" */
			acme_request(a, ACME_CHALLENGE, az.chall_url, true,
			    "{}");
			return;
		}
		acme_poll_later(a, ACME_POLL_AUTHZ);
		return;
	default:
		acme_fail(a, "authorization for %s %s: %s", az.name,
		    acme_status_name(az.status), az.error[0] != '\0' ?
		    az.error : "no reason given");
		return;
	}
}

static void
acme_done(void *arg, CURL *easy, CURLcode res)
{
	struct lookup_acme	*a = arg;
	json_t			*o;
	char			*payload = NULL;
	long			 code = 0;
	const char		*err;

	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(a->easy);
	a->easy = NULL;
	curl_slist_free_all(a->headers);
	a->headers = NULL;
	if (a->nonce_fetch) {
		/* §7.2: the nonce the put-off POST waited for */
		a->nonce_fetch = false;
		if (res != CURLE_OK || code < 200 || code > 299) {
			acme_http_error(a, res, code);
			return;
		}
		if (a->nonce[0] == '\0') {
			acme_fail(a, "newNonce gave no Replay-Nonce");
			return;
		}
		acme_send(a);
		return;
	}
	if (res == CURLE_OK && code == 400 && a->req_post &&
	    ++a->nonce_tries < ACME_NONCE_TRIES &&
	    acme_problem_bad_nonce(a->body.data, a->body.len)) {
		/* §6.5: badNonce carries a fresh nonce; try again with it */
		acme_send(a);
		return;
	}
	if (res != CURLE_OK || code < 200 || code > 299) {
		acme_http_error(a, res, code);
		return;
	}
	switch (a->step) {
	case ACME_DIRECTORY:
		if (acme_parse_directory(a->body.data, a->body.len, &a->dir,
		    &err) == -1) {
			acme_fail(a, "directory %s: %s", a->req_url, err);
			return;
		}
		/* §7.3: newAccount finds the account of the key again */
		o = json_pack("{s:b}", "termsOfServiceAgreed", 1);
		if (o != NULL && a->conf->acme_contact[0] != '\0') {
			char	mailto[CONF_ADDR_MAX + 8];

			(void)snprintf(mailto, sizeof(mailto), "mailto:%s",
			    a->conf->acme_contact);
			(void)json_object_set_new(o, "contact",
			    json_pack("[s]", mailto));
		}
		if (o == NULL || (payload = json_dumps(o, JSON_COMPACT)) ==
		    NULL) {
			json_decref(o);
			acme_fail(a, "out of memory");
			return;
		}
		json_decref(o);
		acme_request(a, ACME_ACCOUNT, a->dir.new_account, true,
		    payload);
		free(payload);
		return;
	case ACME_ACCOUNT:
		if (a->location[0] == '\0') {
			acme_fail(a, "newAccount gave no Location");
			return;
		}
		(void)str_copy(a->kid, sizeof(a->kid), a->location);
		o = json_array();
		for (size_t i = 0; o != NULL && i < a->nnames; i++)
			(void)json_array_append_new(o, json_pack("{s:s,s:s}",
			    "type", "dns", "value", a->names[i]));
		if (o == NULL || (o = json_pack("{s:o}", "identifiers", o)) ==
		    NULL || (payload = json_dumps(o, JSON_COMPACT)) == NULL) {
			json_decref(o);
			acme_fail(a, "out of memory");
			return;
		}
		json_decref(o);
		acme_request(a, ACME_ORDER, a->dir.new_order, true, payload);
		free(payload);
		return;
	case ACME_ORDER:
		if (a->location[0] == '\0' ||
		    !acme_same_origin(a, a->location)) {
			acme_fail(a, "newOrder gave no usable Location");
			return;
		}
		(void)str_copy(a->order_url, sizeof(a->order_url),
		    a->location);
		log_info("lookup: event=acme-order url=%s", a->order_url);
		acme_on_order(a);
		return;
	case ACME_AUTHZ:
	case ACME_POLL_AUTHZ:
		acme_on_authz(a);
		return;
	case ACME_CHALLENGE:
		a->polls = 0;
		acme_poll_later(a, ACME_POLL_AUTHZ);
		return;
	case ACME_FINALIZE:
	case ACME_POLL_ORDER:
		acme_on_order(a);
		return;
	case ACME_CERT:
		acme_issued(a);
		return;
	default:
		fatalx("lookup: acme: an answer in step %s",
		    acme_step_names[a->step]);
	}
}

/* The timer: the first look at the files, a run, or a poll. */
static void
acme_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct lookup_acme	*a = arg;

	switch (a->step) {
	case ACME_POLL_AUTHZ:
		acme_request(a, ACME_POLL_AUTHZ, a->order.authz[a->authz_i],
		    true, NULL);
		return;
	case ACME_POLL_ORDER:
		acme_request(a, ACME_POLL_ORDER, a->order_url, true, NULL);
		return;
	case ACME_IDLE:
		acme_start(a);
		return;
	default:
		return;
	}
}

/* --- set-up --- */

static void
acme_first(struct lookup_acme *a)
{
	const char	*err = NULL;
	char		 when[32];

	if (mkdir(LOOKUP_ACME_DIR, 0700) == -1 && errno != EEXIST) {
		log_warn("lookup: acme: %s", LOOKUP_ACME_DIR);
		return;
	}
	if ((a->account = acme_key_load(ACME_F_ACCOUNT, &err)) == NULL ||
	    acme_make_jwk(a) == -1 ||
	    (a->next = acme_key_load(ACME_F_NEXT, &err)) == NULL) {
		log_warnx("lookup: acme: %s: no certificates from %s",
		    err != NULL ? err : "the account key", a->conf->acme_url);
		return;
	}
	acme_cert_info(a);
	if (!a->have_cert || !acme_cert_covers(a))
		a->renew_at = acme_now();
	acme_fmt_time(a->renew_at, when, sizeof(when));
	log_info("lookup: event=acme-ready url=%s names=%zu renew=%s",
	    a->conf->acme_url, a->nnames, when);
	a->started = true;
	acme_schedule(a, a->renew_at);
}

static void
acme_on_first(evutil_socket_t fd, short what, void *arg)
{
	acme_first(arg);
}

struct lookup_acme *
lookup_acme_new(struct proc_self *self, const struct conf *conf,
    struct lookup_tls *tls, struct dns *dns)
{
	struct lookup_acme	*a;
	struct timeval		 tv = { 0, 0 };
	const char		*err = NULL;
	CURLU			*u;
	char			*host = NULL, *port = NULL;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	size_t			 i;

	if (conf->acme_url[0] == '\0')
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->self = self;
	a->conf = conf;
	a->tls = tls;
	a->dns = dns;
	buf_init(&a->body, ACME_JSON_MAX);
	buf_init(&a->post, 2 * ACME_JSON_MAX);
	if ((u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, conf->acme_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK || str_copy(a->host, sizeof(a->host), host) == -1) {
		log_warnx("lookup: acme: %s: not a URL curl takes",
		    conf->acme_url);
		curl_free(host);
		curl_free(port);
		curl_url_cleanup(u);
		free(a);
		return NULL;
	}
	a->port = strtol(port, NULL, 10);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	if (a->host[0] == '[') {
		char	inner[sizeof(a->host)];

		(void)snprintf(inner, sizeof(inner), "%.*s",
		    (int)strlen(a->host) - 2, a->host + 1);
		a->host_is_ip = inet_pton(AF_INET6, inner, &a6) == 1;
	} else
		a->host_is_ip = inet_pton(AF_INET, a->host, &a4) == 1;
	/* The CA bundle is read now, before the chroot. */
	if ((a->http = httpc_new(self->base, conf->tls_ca, "lookup",
	    &err)) == NULL) {
		log_warnx("lookup: acme: %s: no certificates from %s", err,
		    conf->acme_url);
		free(a);
		return NULL;
	}
	acme_add_name(a, "", conf->hostname);
	for (i = 0; i < conf->ndomains; i++) {
		acme_add_name(a, "mta-sts.", conf->domains[i]);
		acme_add_name(a, "autoconfig.", conf->domains[i]);
		acme_add_name(a, "autodiscover.", conf->domains[i]);
	}
	if ((a->timer = evtimer_new(self->base, acme_on_timer, a)) == NULL)
		fatalx("lookup: evtimer_new");
	/* The files are ours to read once the loop runs (after the drop). */
	if (event_base_once(self->base, -1, EV_TIMEOUT, acme_on_first, a,
	    &tv) == -1)
		fatalx("lookup: event_base_once");
	return a;
}

int
lookup_acme_next_spki(struct lookup_acme *a, uint8_t out[32])
{
	unsigned char	*der = NULL;
	int		 len;

	if (a == NULL || a->next == NULL ||
	    (len = i2d_PUBKEY(a->next, &der)) <= 0)
		return -1;
	(void)SHA256(der, (size_t)len, out);
	OPENSSL_free(der);
	return 0;
}

void
lookup_acme_ctl(struct lookup_acme *a, struct proc_self *self,
    uint64_t reqid, size_t argc, char **argv)
{
	char	line[ACME_ERR_MAX + CONF_URL_MAX + 64], t1[32], t2[32];
	size_t	i, o;

	if (argc != 2 || (strcmp(argv[1], "status") != 0 &&
	    strcmp(argv[1], "renew") != 0)) {
		proc_ctl_end(self, reqid, 2, "usage: tls status|renew|reload");
		return;
	}
	if (a == NULL) {
		if (strcmp(argv[1], "renew") == 0) {
			proc_ctl_end(self, reqid, 1, "no tls { acme } in the "
			    "configuration");
			return;
		}
		proc_ctl_line(self, reqid, "acme: none");
		proc_ctl_end(self, reqid, 0, NULL);
		return;
	}
	if (strcmp(argv[1], "renew") == 0) {
		if (!a->started) {
			proc_ctl_end(self, reqid, 1, "the ACME keys could not "
			    "be read or made (see the log)");
			return;
		}
		if (a->step != ACME_IDLE) {
			proc_ctl_line(self, reqid, "a renewal is running");
			proc_ctl_end(self, reqid, 0, NULL);
			return;
		}
		a->failures = 0;
		acme_start(a);
		proc_ctl_line(self, reqid, "renewal started");
		proc_ctl_end(self, reqid, 0, NULL);
		return;
	}
	(void)snprintf(line, sizeof(line), "acme: %s", a->conf->acme_url);
	proc_ctl_line(self, reqid, line);
	o = (size_t)snprintf(line, sizeof(line), "names:");
	for (i = 0; i < a->nnames && o < sizeof(line); i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %s",
		    a->names[i]);
	proc_ctl_line(self, reqid, line);
	if (a->have_cert) {
		acme_fmt_time(a->not_before, t1, sizeof(t1));
		acme_fmt_time(a->not_after, t2, sizeof(t2));
		(void)snprintf(line, sizeof(line), "certificate: %s",
		    a->cert_names);
		proc_ctl_line(self, reqid, line);
		(void)snprintf(line, sizeof(line), "issuer: %s", a->issuer);
		proc_ctl_line(self, reqid, line);
		(void)snprintf(line, sizeof(line), "valid: %s to %s", t1, t2);
		proc_ctl_line(self, reqid, line);
	} else
		proc_ctl_line(self, reqid, "certificate: none from ACME yet "
		    "(self-signed in use)");
	if (a->step != ACME_IDLE)
		(void)snprintf(line, sizeof(line), "renewal: running (%s)",
		    acme_step_names[a->step]);
	else if (!a->started)
		(void)snprintf(line, sizeof(line), "renewal: off (no keys)");
	else {
		acme_fmt_time(a->next_run, t1, sizeof(t1));
		(void)snprintf(line, sizeof(line), "next renewal: %s", t1);
	}
	proc_ctl_line(self, reqid, line);
	if (a->last_error[0] != '\0') {
		acme_fmt_time(a->last_error_at, t1, sizeof(t1));
		(void)snprintf(line, sizeof(line), "last error: %s (%s, "
		    "failures %u)", a->last_error, t1, a->failures);
	} else
		(void)snprintf(line, sizeof(line), "last error: none");
	proc_ctl_line(self, reqid, line);
	proc_ctl_end(self, reqid, 0, NULL);
}

void
lookup_acme_free(struct lookup_acme *a)
{
	if (a == NULL)
		return;
	acme_req_clear(a);
	if (a->q[0] != NULL)
		dns_cancel(a->q[0]);
	if (a->q[1] != NULL)
		dns_cancel(a->q[1]);
	if (a->timer != NULL)
		event_free(a->timer);
	curl_slist_free_all(a->resolve);
	EVP_PKEY_free(a->account);
	EVP_PKEY_free(a->next);
	buf_free(&a->jwk);
	buf_free(&a->body);
	buf_free(&a->post);
	free(a->req_payload);
	free(a);
}
