/*
 * tls: OpenSSL contexts and connections for every role that speaks TLS
 * (smtp, imap and pop3 as servers, mta as a client), and the self-signed
 * certificate the parent makes when none is configured.  The only file
 * that calls SSL_*; it trusts its caller's paths and host names (they come
 * from the configuration) and trusts nothing a peer sends: OpenSSL parses
 * that.
 *
 * The roles that face the network hold no private key: their server
 * context's key is a stand-in made from the certificate's public key,
 * whose private operations (an RSA or ECDSA signature in the handshake)
 * a callback hands to the key's holder, the lookup role
 * (tls_server_new_remote(), tls_key_op()).  OpenSSL 3 keeps a key with
 * its own RSA_METHOD or EC_KEY_METHOD on its legacy path, which is what
 * this uses (as OpenSMTPD's ca process does); those functions are
 * deprecated in favour of providers, which would take far more code for
 * the same two operations, hence OPENSSL_SUPPRESS_DEPRECATED.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dns.h"
#include "log.h"
#include "tls.h"
#include "util.h"

/* RFC 1035 §2.3.4: 255 octets on the wire, 253 as text. */
#define TLS_HOSTNAME_MAX	253
/* X.520 ub-common-name (RFC 5280 Appendix A.1) */
#define TLS_CN_MAX		64
#define TLS_SERIAL_BYTES	16
#define TLS_ERR_MAX		1024

struct tls_ctx {
	SSL_CTX	*ctx;
};

static _Thread_local char	tls_errbuf[TLS_ERR_MAX];
static _Thread_local char	tls_msgbuf[TLS_ERR_MAX + 512];

const char *
tls_errstr(void)
{
	unsigned long	 e;
	const char	*data;
	char		 one[256];
	size_t		 len = 0;
	bool		 detail;
	int		 flags, n;

	tls_errbuf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		/* Once full, keep draining: the first errors are the cause. */
		if (len + 1 >= sizeof(tls_errbuf))
			continue;
		ERR_error_string_n(e, one, sizeof(one));
		detail = (flags & ERR_TXT_STRING) && data[0] != '\0';
		n = snprintf(tls_errbuf + len, sizeof(tls_errbuf) - len,
		    "%s%s%s%s%s", len > 0 ? "; " : "", one,
		    detail ? " (" : "", detail ? data : "", detail ? ")" : "");
		if (n < 0)
			break;
		len += (size_t)n;
		if (len >= sizeof(tls_errbuf))
			len = sizeof(tls_errbuf) - 1;
	}
	if (len == 0)
		return "no OpenSSL error reported";
	return tls_errbuf;
}

/* Set *errstr_out to "what: <OpenSSL's errors>". */
static void
tls_fail(const char **errstr_out, const char *what)
{
	(void)snprintf(tls_msgbuf, sizeof(tls_msgbuf), "%s: %s", what,
	    tls_errstr());
	if (errstr_out != NULL)
		*errstr_out = tls_msgbuf;
}

/* As tls_failx(), the message made from fmt. */
static void __attribute__((format(printf, 2, 3)))
tls_failf(const char **errstr_out, const char *fmt, ...)
{
	va_list	ap;

	ERR_clear_error();
	va_start(ap, fmt);
	(void)vsnprintf(tls_msgbuf, sizeof(tls_msgbuf), fmt, ap);
	va_end(ap);
	if (errstr_out != NULL)
		*errstr_out = tls_msgbuf;
}

/* Set *errstr_out to a message of ours; OpenSSL's queue is emptied. */
static void
tls_failx(const char **errstr_out, const char *msg)
{
	ERR_clear_error();
	(void)snprintf(tls_msgbuf, sizeof(tls_msgbuf), "%s", msg);
	if (errstr_out != NULL)
		*errstr_out = tls_msgbuf;
}

static SSL_CTX *
tls_ctx_base(const SSL_METHOD *method, const char **errstr_out)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(method)) == NULL) {
		tls_fail(errstr_out, "SSL_CTX_new");
		return NULL;
	}
	/* RFC 8996 retired TLS 1.0 and 1.1; RFC 9325 §3.1.1. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		tls_fail(errstr_out, "minimum TLS version");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * Compression: CRIME (RFC 9325 §3.3).  Renegotiation: a client could
	 * make us redo handshakes at will, and nothing of ours needs it.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	/*
	 * Give idle connections' buffers back (an idle IMAP session should
	 * cost kilobytes); libevent may retry a write from another address.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

/* A server context without a certificate yet. */
static SSL_CTX *
tls_server_empty(const char **errstr_out)
{
	SSL_CTX	*ctx;

	ERR_clear_error();
	if ((ctx = tls_ctx_base(TLS_server_method(), errstr_out)) == NULL)
		return NULL;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_CLIENTS) != 1) {
		tls_fail(errstr_out, "cipher list");
		goto fail;
	}
	/*
	 * DHE suites are offered only when configured; then OpenSSL picks
	 * an RFC 7919 group as strong as the certificate's key.
	 */
	if (SSL_CTX_set_dh_auto(ctx, 1) != 1) {
		tls_fail(errstr_out, "DH parameters");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* A server context with cert_file's chain, without its private key. */
static SSL_CTX *
tls_server_base(const char *cert_file, const char **errstr_out)
{
	SSL_CTX	*ctx;
	char	 what[512];

	if ((ctx = tls_server_empty(errstr_out)) == NULL)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		(void)snprintf(what, sizeof(what), "certificate %s", cert_file);
		tls_fail(errstr_out, what);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* No PEM we read is encrypted: never prompt for a passphrase. */
static int
tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	(void)u;
	if (size > 0)
		buf[0] = '\0';
	return -1;
}

/*
 * Put the PEM chain (leaf first, then its issuers) into ctx, as
 * SSL_CTX_use_certificate_chain_file() does with a file.
 */
static int
tls_use_chain_pem(SSL_CTX *ctx, const char *pem, size_t len,
    const char **errstr_out)
{
	BIO		*bio;
	X509		*x;
	unsigned long	 e;
	int		 ret = -1;

	if (len == 0 || len > TLS_PEM_MAX) {
		tls_failx(errstr_out, "certificate chain: empty or too long");
		return -1;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		tls_fail(errstr_out, "BIO_new_mem_buf");
		return -1;
	}
	if ((x = PEM_read_bio_X509_AUX(bio, NULL, tls_no_passphrase,
	    NULL)) == NULL) {
		tls_fail(errstr_out, "certificate chain: no certificate");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, x) != 1) {
		X509_free(x);
		tls_fail(errstr_out, "certificate");
		goto out;
	}
	X509_free(x);
	if (SSL_CTX_clear_chain_certs(ctx) != 1) {
		tls_fail(errstr_out, "certificate chain");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, tls_no_passphrase,
	    NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			tls_fail(errstr_out, "certificate chain");
			goto out;
		}
	/* The end of the text ends the loop; anything else is an error. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		tls_fail(errstr_out, "certificate chain");
		goto out;
	}
	ERR_clear_error();
	ret = 0;
out:
	BIO_free(bio);
	return ret;
}

/* The SHA-256 of leaf's SubjectPublicKeyInfo into out. */
static int
tls_leaf_spki(X509 *leaf, uint8_t out[TLS_SPKI_LEN])
{
	unsigned char	*der = NULL;
	unsigned int	 mdlen = 0;
	int		 n, ok;

	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der)) <= 0)
		return -1;
	ok = EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == TLS_SPKI_LEN;
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

static struct tls_ctx *
tls_ctx_wrap(SSL_CTX *ctx)
{
	struct tls_ctx	*t;

	t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	return t;
}

struct tls_ctx *
tls_server_new(const char *cert_file, const char *key_file,
    const char **errstr_out)
{
	SSL_CTX		*ctx;
	char		 what[512];

	if ((ctx = tls_server_base(cert_file, errstr_out)) == NULL)
		return NULL;
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) !=
	    1) {
		(void)snprintf(what, sizeof(what), "key %s", key_file);
		tls_fail(errstr_out, what);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		(void)snprintf(what, sizeof(what), "key %s does not match "
		    "certificate %s", key_file, cert_file);
		tls_fail(errstr_out, what);
		goto fail;
	}
	return tls_ctx_wrap(ctx);
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* --- a private key held elsewhere --- */

static tls_key_remote_fn	 tls_remote_fn;
static void			*tls_remote_arg;
static RSA_METHOD		*tls_remote_rsa;
static EC_KEY_METHOD		*tls_remote_ec;
/* Each stand-in carries the name of its key (ex_data): a copy of spki. */
static int			 tls_remote_rsa_idx = -1;
static int			 tls_remote_ec_idx = -1;

static void
tls_remote_name_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

/* RSA_private_encrypt() of the stand-in: a signature, made remotely. */
static int
tls_remote_rsa_sign(int flen, const unsigned char *from, unsigned char *to,
    RSA *rsa, int padding)
{
	const uint8_t	*spki;
	ssize_t		 n;

	if (flen < 0 || (spki = RSA_get_ex_data(rsa,
	    tls_remote_rsa_idx)) == NULL)
		return -1;
	n = tls_remote_fn(tls_remote_arg, spki, TLS_KEY_RSA_SIGN, padding,
	    from, (size_t)flen, to, (size_t)RSA_size(rsa));
	return n < 0 ? -1 : (int)n;
}

static ECDSA_SIG *
tls_remote_ec_sign_sig(const unsigned char *dgst, int dlen,
    const BIGNUM *kinv, const BIGNUM *r, EC_KEY *eckey)
{
	unsigned char		 der[TLS_KEY_IO_MAX];
	const unsigned char	*p = der;
	const uint8_t		*spki;
	ssize_t			 n;

	(void)kinv;
	(void)r;
	if (dlen < 0 || (spki = EC_KEY_get_ex_data(eckey,
	    tls_remote_ec_idx)) == NULL)
		return NULL;
	n = tls_remote_fn(tls_remote_arg, spki, TLS_KEY_ECDSA_SIGN, 0, dgst,
	    (size_t)dlen, der, sizeof(der));
	if (n <= 0)
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)n);
}

static int
tls_remote_ec_sign(int type, const unsigned char *dgst, int dlen,
    unsigned char *sig, unsigned int *siglen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *eckey)
{
	ECDSA_SIG	*s;
	unsigned char	*p = sig;
	int		 n;

	(void)type;
	if ((s = tls_remote_ec_sign_sig(dgst, dlen, kinv, r, eckey)) == NULL)
		return 0;
	/* sig has room for ECDSA_size(eckey), as for the built-in sign. */
	n = i2d_ECDSA_SIG(s, &p);
	ECDSA_SIG_free(s);
	if (n <= 0)
		return 0;
	*siglen = (unsigned)n;
	return 1;
}

/*
 * The stand-in for pub: its public half, our methods for the private,
 * named spki.
 */
static EVP_PKEY *
tls_remote_standin(EVP_PKEY *pub, const uint8_t spki[TLS_SPKI_LEN],
    const char **errstr_out)
{
	EVP_PKEY	*k;
	uint8_t		*name;
	RSA		*rsa;
	EC_KEY		*ec;
	const RSA	*pr;
	int		(*sign)(int, const unsigned char *, int,
			    unsigned char *, unsigned int *, const BIGNUM *,
			    const BIGNUM *, EC_KEY *);
	int		(*setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **);
	ECDSA_SIG	*(*sig)(const unsigned char *, int, const BIGNUM *,
			    const BIGNUM *, EC_KEY *);

	if ((k = EVP_PKEY_new()) == NULL)
		fatalx("tls: EVP_PKEY_new");
	name = xmalloc(TLS_SPKI_LEN);
	memcpy(name, spki, TLS_SPKI_LEN);
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_RSA:
		if (tls_remote_rsa_idx == -1 && (tls_remote_rsa_idx =
		    RSA_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_remote_name_free)) == -1)
			fatalx("tls: RSA ex_data");
		if (tls_remote_rsa == NULL) {
			if ((tls_remote_rsa = RSA_meth_dup(
			    RSA_get_default_method())) == NULL ||
			    RSA_meth_set1_name(tls_remote_rsa,
			    "cachet remote") != 1 ||
			    RSA_meth_set_priv_enc(tls_remote_rsa,
			    tls_remote_rsa_sign) != 1)
				fatalx("tls: RSA_METHOD");
		}
		pr = EVP_PKEY_get0_RSA(pub);
		if ((rsa = RSA_new()) == NULL ||
		    RSA_set0_key(rsa, BN_dup(RSA_get0_n(pr)),
		    BN_dup(RSA_get0_e(pr)), NULL) != 1 ||
		    RSA_set_method(rsa, tls_remote_rsa) != 1 ||
		    RSA_set_ex_data(rsa, tls_remote_rsa_idx, name) != 1 ||
		    EVP_PKEY_assign_RSA(k, rsa) != 1)
			fatalx("tls: RSA stand-in");
		return k;
	case EVP_PKEY_EC:
		if (tls_remote_ec_idx == -1 && (tls_remote_ec_idx =
		    EC_KEY_get_ex_new_index(0, NULL, NULL, NULL,
		    tls_remote_name_free)) == -1)
			fatalx("tls: EC_KEY ex_data");
		if (tls_remote_ec == NULL) {
			if ((tls_remote_ec = EC_KEY_METHOD_new(
			    EC_KEY_get_default_method())) == NULL)
				fatalx("tls: EC_KEY_METHOD");
			EC_KEY_METHOD_get_sign(tls_remote_ec, &sign, &setup,
			    &sig);
			EC_KEY_METHOD_set_sign(tls_remote_ec,
			    tls_remote_ec_sign, setup, tls_remote_ec_sign_sig);
		}
		if ((ec = EC_KEY_dup(EVP_PKEY_get0_EC_KEY(pub))) == NULL ||
		    EC_KEY_set_method(ec, tls_remote_ec) != 1 ||
		    EC_KEY_set_ex_data(ec, tls_remote_ec_idx, name) != 1 ||
		    EVP_PKEY_assign_EC_KEY(k, ec) != 1)
			fatalx("tls: EC stand-in");
		return k;
	default:
		free(name);
		EVP_PKEY_free(k);
		*errstr_out = "certificate key is neither RSA nor EC";
		return NULL;
	}
}

/* ctx, with its chain, gets a stand-in for its leaf's key. */
static struct tls_ctx *
tls_remote_finish(SSL_CTX *ctx, tls_key_remote_fn fn, void *arg,
    const char **errstr_out)
{
	X509		*leaf;
	EVP_PKEY	*pub, *k;
	uint8_t		 spki[TLS_SPKI_LEN];

	if ((leaf = SSL_CTX_get0_certificate(ctx)) == NULL ||
	    (pub = X509_get0_pubkey(leaf)) == NULL ||
	    tls_leaf_spki(leaf, spki) == -1) {
		tls_fail(errstr_out, "certificate public key");
		goto fail;
	}
	if ((k = tls_remote_standin(pub, spki, errstr_out)) == NULL)
		goto fail;
	tls_remote_fn = fn;
	tls_remote_arg = arg;
	if (SSL_CTX_use_PrivateKey(ctx, k) != 1) {
		EVP_PKEY_free(k);
		tls_fail(errstr_out, "key stand-in");
		goto fail;
	}
	EVP_PKEY_free(k);	/* the context holds its own reference */
	return tls_ctx_wrap(ctx);
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls_ctx *
tls_server_new_remote(const char *cert_file, tls_key_remote_fn fn,
    void *arg, const char **errstr_out)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_server_base(cert_file, errstr_out)) == NULL)
		return NULL;
	return tls_remote_finish(ctx, fn, arg, errstr_out);
}

struct tls_ctx *
tls_server_new_remote_pem(const char *chain, size_t len,
    tls_key_remote_fn fn, void *arg, const char **errstr_out)
{
	SSL_CTX	*ctx;

	if ((ctx = tls_server_empty(errstr_out)) == NULL)
		return NULL;
	if (tls_use_chain_pem(ctx, chain, len, errstr_out) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return tls_remote_finish(ctx, fn, arg, errstr_out);
}

void
tls_ctx_replace(struct tls_ctx *t, struct tls_ctx *with)
{
	SSL_CTX_free(t->ctx);	/* its connections hold references */
	t->ctx = with->ctx;
	free(with);
}

int
tls_pem_read_fd(int fd, char **out, size_t *len_out,
    const char **errstr_out)
{
	char	*p;
	ssize_t	 n;

	/* One octet more than allowed tells a file that is too long. */
	p = xmalloc(TLS_PEM_MAX + 2);
	if ((n = read_full(fd, p, TLS_PEM_MAX + 1)) == -1) {
		tls_failf(errstr_out, "read: %s", strerror(errno));
		explicit_bzero(p, TLS_PEM_MAX + 2);	/* part of a key */
		free(p);
		return -1;
	}
	if (n == 0 || n > TLS_PEM_MAX) {
		explicit_bzero(p, TLS_PEM_MAX + 2);
		free(p);
		if (n == 0)
			tls_failx(errstr_out, "empty");
		else
			tls_failf(errstr_out, "longer than %d octets",
			    TLS_PEM_MAX);
		return -1;
	}
	p[n] = '\0';
	*out = p;
	*len_out = (size_t)n;
	return 0;
}

int
tls_pem_read(const char *path, char **out, size_t *len_out,
    const char **errstr_out)
{
	const char	*err;
	char		 why[256];
	int		 fd, ret;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		tls_failf(errstr_out, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = tls_pem_read_fd(fd, out, len_out, &err);
	close(fd);
	if (ret == -1) {
		/* err is in tls_msgbuf: copy it out before formatting */
		(void)snprintf(why, sizeof(why), "%s", err);
		tls_failf(errstr_out, "%s: %s", path, why);
	}
	return ret;
}

struct tls_key {
	EVP_PKEY	*pkey;
	char		*chain;		/* PEM, NUL-terminated */
	size_t		 chain_len;
	uint8_t		 spki[TLS_SPKI_LEN];
};

struct tls_key *
tls_key_new_pem(const char *chain, size_t chain_len, const char *key,
    size_t key_len, const char **errstr_out)
{
	struct tls_key	*k;
	SSL_CTX		*ctx;
	EVP_PKEY	*pkey = NULL;
	BIO		*bio = NULL;
	X509		*leaf;

	/* The same checks as tls_server_new(), then only the key is kept. */
	if ((ctx = tls_server_empty(errstr_out)) == NULL)
		return NULL;
	if (tls_use_chain_pem(ctx, chain, chain_len, errstr_out) == -1)
		goto fail;
	if (key_len == 0 || key_len > TLS_PEM_MAX ||
	    (bio = BIO_new_mem_buf(key, (int)key_len)) == NULL) {
		tls_failx(errstr_out, "private key: empty or too long");
		goto fail;
	}
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase,
	    NULL)) == NULL) {
		tls_fail(errstr_out, "private key (PEM, not encrypted)");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_fail(errstr_out, "the private key does not match the "
		    "certificate");
		goto fail;
	}
	if ((leaf = SSL_CTX_get0_certificate(ctx)) == NULL) {
		tls_fail(errstr_out, "certificate");
		goto fail;
	}
	k = xcalloc(1, sizeof(*k));
	if (tls_leaf_spki(leaf, k->spki) == -1) {
		free(k);
		tls_fail(errstr_out, "certificate public key");
		goto fail;
	}
	k->pkey = pkey;
	k->chain = xmalloc(chain_len + 1);
	memcpy(k->chain, chain, chain_len);
	k->chain[chain_len] = '\0';
	k->chain_len = chain_len;
	BIO_free(bio);
	SSL_CTX_free(ctx);
	return k;
fail:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls_key *
tls_key_load(const char *cert_file, const char *key_file,
    const char **errstr_out)
{
	struct tls_key	*k = NULL;
	char		*chain = NULL, *key = NULL, why[TLS_ERR_MAX];
	size_t		 chain_len, key_len;
	const char	*err;

	if (tls_pem_read(cert_file, &chain, &chain_len, errstr_out) == -1)
		return NULL;
	if (tls_pem_read(key_file, &key, &key_len, errstr_out) == -1)
		goto out;
	if ((k = tls_key_new_pem(chain, chain_len, key, key_len,
	    &err)) == NULL) {
		(void)snprintf(why, sizeof(why), "%s", err);
		tls_failf(errstr_out, "certificate %s, key %s: %s", cert_file,
		    key_file, why);
	}
	explicit_bzero(key, key_len);
	free(key);
out:
	free(chain);
	return k;
}

const char *
tls_key_chain(const struct tls_key *k, size_t *len_out)
{
	*len_out = k->chain_len;
	return k->chain;
}

const uint8_t *
tls_key_spki(const struct tls_key *k)
{
	return k->spki;
}

ssize_t
tls_key_op(struct tls_key *k, enum tls_key_op op, int padding,
    const unsigned char *in, size_t inlen, unsigned char *out,
    size_t outsz)
{
	EVP_PKEY_CTX	*c;
	size_t		 outlen = outsz;
	int		 id, ok;

	if (inlen > TLS_KEY_IO_MAX)
		return -1;
	id = EVP_PKEY_get_base_id(k->pkey);
	switch (op) {
	case TLS_KEY_RSA_SIGN:
		/* PKCS #1 v1.5 type 1 (TLS 1.2), or raw for RSA-PSS. */
		if (id != EVP_PKEY_RSA || (padding != RSA_PKCS1_PADDING &&
		    padding != RSA_NO_PADDING))
			return -1;
		break;
	case TLS_KEY_ECDSA_SIGN:
		if (id != EVP_PKEY_EC || padding != 0)
			return -1;
		break;
	default:
		return -1;
	}
	if ((size_t)EVP_PKEY_get_size(k->pkey) > outsz)
		return -1;
	ERR_clear_error();
	if ((c = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL)
		return -1;
	ok = EVP_PKEY_sign_init(c) == 1 && (op != TLS_KEY_RSA_SIGN ||
	    EVP_PKEY_CTX_set_rsa_padding(c, padding) == 1) &&
	    EVP_PKEY_sign(c, out, &outlen, in, inlen) == 1;
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return ok ? (ssize_t)outlen : -1;
}

void
tls_key_free(struct tls_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->chain);
	free(k);
}

struct tls_ctx *
tls_client_new(const char **errstr_out)
{
	struct tls_ctx	*t;
	SSL_CTX		*ctx;

	ERR_clear_error();
	if ((ctx = tls_ctx_base(TLS_client_method(), errstr_out)) == NULL)
		return NULL;
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_fail(errstr_out, "system CA store");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* The chain is still checked and the result kept for later. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* OpenSSL's digests for TLSA matching types 1 and 2 (RFC 6698) */
	if (SSL_CTX_dane_enable(ctx) <= 0) {
		tls_fail(errstr_out, "DANE");
		SSL_CTX_free(ctx);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	return t;
}

int
tls_client_load_ca(struct tls_ctx *t, const char *ca_file,
    const char **errstr_out)
{
	char	what[512];

	ERR_clear_error();
	if (SSL_CTX_load_verify_file(t->ctx, ca_file) != 1) {
		(void)snprintf(what, sizeof(what), "CA file %s", ca_file);
		tls_fail(errstr_out, what);
		return -1;
	}
	return 0;
}

int
tls_client_use_ca(struct tls_ctx *t, const char *ca_file,
    const char **errstr_out)
{
	X509_STORE	*st;

	ERR_clear_error();
	if ((st = X509_STORE_new()) == NULL) {
		tls_fail(errstr_out, "CA store");
		return -1;
	}
	/* the context frees the store it had */
	SSL_CTX_set_cert_store(t->ctx, st);
	return tls_client_load_ca(t, ca_file, errstr_out);
}

int
tls_ctx_set_ciphers(struct tls_ctx *t, const char *ciphers,
    const char *ciphersuites, const char **errstr_out)
{
	ERR_clear_error();
	if (SSL_CTX_set_cipher_list(t->ctx, ciphers) != 1) {
		tls_fail(errstr_out, "TLS 1.2 cipher list");
		return -1;
	}
	if (ciphersuites == NULL || ciphersuites[0] == '\0')
		ciphersuites = OSSL_default_ciphersuites();
	if (SSL_CTX_set_ciphersuites(t->ctx, ciphersuites) != 1) {
		tls_fail(errstr_out, "TLS 1.3 ciphersuites");
		return -1;
	}
	return 0;
}

/* --- checking a configured cipher list --- */

/* What OpenSSL takes between the items of a list (ssl/ssl_ciph.c). */
#define TLS_CIPHERS_SEP		":, ;"
#define TLS_SUITES_SEP		":"

/* The TLS 1.3 suites of ctx's list: they have no key exchange of their own. */
static int
tls_count_13(SSL_CTX *ctx)
{
	STACK_OF(SSL_CIPHER)	*sk;
	int			 i, n = 0;

	if ((sk = SSL_CTX_get_ciphers(ctx)) == NULL)
		return 0;
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++)
		if (SSL_CIPHER_get_kx_nid(sk_SSL_CIPHER_value(sk, i)) ==
		    NID_kx_any)
			n++;
	return n;
}

/* Why a TLS 1.2 suite is not fit to offer, or NULL. */
static const char *
tls_cipher_unfit(const SSL_CIPHER *c)
{
	static const int	good[] = {
		NID_aes_128_gcm, NID_aes_256_gcm, NID_aes_128_ccm,
		NID_aes_256_ccm, NID_chacha20_poly1305, NID_aria_128_gcm,
		NID_aria_256_gcm, NID_aes_128_cbc, NID_aes_256_cbc,
		NID_camellia_128_cbc, NID_camellia_256_cbc,
	};
	int			kx, au, nid;
	size_t			i;

	kx = SSL_CIPHER_get_kx_nid(c);
	au = SSL_CIPHER_get_auth_nid(c);
	if (kx == NID_kx_any)
		return NULL;	/* TLS 1.3: AEAD and (EC)DHE, always */
	if (kx != NID_kx_ecdhe && kx != NID_kx_dhe)
		return "its key exchange is not ECDHE or DHE (no forward "
		    "secrecy, RFC 9325 §4.1)";
	if (au != NID_auth_rsa && au != NID_auth_ecdsa)
		return "it is not authenticated by an RSA or ECDSA "
		    "certificate";
	nid = SSL_CIPHER_get_cipher_nid(c);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (nid == good[i])
			return NULL;
	return "its cipher is not AES, CAMELLIA, ARIA or ChaCha20-Poly1305 "
	    "(RFC 9325 §4.1)";
}

int
tls_ciphers_check(const char *list, bool tls13, const char **errstr_out)
{
	STACK_OF(SSL_CIPHER)	*sk;
	const SSL_CIPHER	*c;
	const char		*sep, *why;
	SSL_CTX			*ctx;
	char			 item[TLS_CIPHERS_MAX + 1];
	size_t			 len, i, n;
	int			 k, ret = -1;

	len = strnlen(list, TLS_CIPHERS_MAX + 1);
	if (len > TLS_CIPHERS_MAX) {
		tls_failf(errstr_out, "longer than %d octets", TLS_CIPHERS_MAX);
		return -1;
	}
	if (len == 0) {
		tls_failx(errstr_out, "empty list");
		return -1;
	}
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_fail(errstr_out, "SSL_CTX_new");
		return -1;
	}
	/*
	 * Each item on its own first: a name or category must select at
	 * least one suite.  Items that remove, move or sort (!, -, +, @)
	 * select nothing by themselves.
	 */
	sep = tls13 ? TLS_SUITES_SEP : TLS_CIPHERS_SEP;
	for (i = 0; i < len; i += n) {
		if ((n = strcspn(list + i, sep)) == 0) {
			n = 1;
			continue;
		}
		memcpy(item, list + i, n);
		item[n] = '\0';
		if (!tls13 && strchr("!-+@", item[0]) != NULL)
			continue;
		if (tls13 ? SSL_CTX_set_ciphersuites(ctx, item) != 1 ||
		    tls_count_13(ctx) == 0 :
		    SSL_CTX_set_cipher_list(ctx, item) != 1) {
			tls_failf(errstr_out, "\"%s\" names no %s", item,
			    tls13 ? "TLS 1.3 ciphersuite" :
			    "TLS 1.2 cipher suite");
			goto out;
		}
	}
	if (tls13) {
		if (SSL_CTX_set_ciphersuites(ctx, list) != 1 ||
		    tls_count_13(ctx) == 0) {
			tls_failx(errstr_out, "selects no TLS 1.3 ciphersuite");
			goto out;
		}
		ret = 0;
		goto out;
	}
	if (SSL_CTX_set_cipher_list(ctx, list) != 1 ||
	    (sk = SSL_CTX_get_ciphers(ctx)) == NULL ||
	    sk_SSL_CIPHER_num(sk) == tls_count_13(ctx)) {
		tls_failx(errstr_out, "selects no TLS 1.2 cipher suite");
		goto out;
	}
	for (k = 0; k < sk_SSL_CIPHER_num(sk); k++) {
		c = sk_SSL_CIPHER_value(sk, k);
		if ((why = tls_cipher_unfit(c)) != NULL) {
			tls_failf(errstr_out, "selects %s, but %s",
			    SSL_CIPHER_get_name(c), why);
			goto out;
		}
	}
	ret = 0;
out:
	SSL_CTX_free(ctx);
	if (ret == 0)
		ERR_clear_error();
	return ret;
}

void
tls_ctx_free(struct tls_ctx *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

SSL *
tls_server_ssl_new(struct tls_ctx *t)
{
	SSL	*ssl;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		return NULL;
	SSL_set_accept_state(ssl);
	return ssl;
}

SSL *
tls_client_ssl_new(struct tls_ctx *t, const char *servername)
{
	SSL		*ssl;
	unsigned char	 addr[16];
	bool		 literal;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		return NULL;
	SSL_set_connect_state(ssl);
	if (servername == NULL)
		return ssl;
	/* RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted". */
	literal = inet_pton(AF_INET, servername, addr) == 1 ||
	    inet_pton(AF_INET6, servername, addr) == 1;
	if (!literal && SSL_set_tlsext_host_name(ssl, servername) != 1)
		goto fail;
	/* RFC 6125 §7.2: a wildcard stands for one whole left-most label. */
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, servername) != 1)
		goto fail;
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

SSL *
tls_client_ssl_new_dane(struct tls_ctx *t, const char *servername,
    const struct dns_tlsa *rrs, size_t n)
{
	SSL	*ssl;
	size_t	 i, usable = 0;
	int	 r;

	if ((ssl = SSL_new(t->ctx)) == NULL)
		return NULL;
	SSL_set_connect_state(ssl);
	if (SSL_set_tlsext_host_name(ssl, servername) != 1)
		goto fail;
	/*
	 * The TLSA base domain is the MX host (no CNAME is followed): it is
	 * the reference identifier for DANE-TA (RFC 7672 §3.2.2).
	 */
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_dane_enable(ssl, servername) <= 0)
		goto fail;
	/* §3.2.1: DANE-EE ignores names (and validity dates) */
	(void)SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < n; i++) {
		r = SSL_dane_tlsa_add(ssl, rrs[i].usage, rrs[i].selector,
		    rrs[i].mtype, rrs[i].data, rrs[i].len);
		if (r > 0)
			usable++;
	}
	ERR_clear_error();
	if (usable == 0)
		goto fail;
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

int
tls_dane_verified(SSL *ssl, const char **errstr_out)
{
	/* the chain as verification left it (with DANE on), then a match */
	if (tls_peer_verified(ssl, errstr_out) == -1)
		return -1;
	if (SSL_get0_dane_authority(ssl, NULL, NULL) < 0) {
		tls_failx(errstr_out, "no TLSA record matched");
		return -1;
	}
	return 0;
}

struct tls_on_free {
	void	(*fn)(void *);
	void	*arg;
};

static int	tls_on_free_idx = -1;

/* OpenSSL's CRYPTO_EX_free: called at SSL_free() for every SSL. */
static void
tls_on_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct tls_on_free	*f = ptr;

	if (f == NULL)
		return;
	f->fn(f->arg);
	free(f);
}

int
tls_ssl_on_free(SSL *ssl, void (*fn)(void *), void *arg)
{
	struct tls_on_free	*f;

	if (tls_on_free_idx == -1 && (tls_on_free_idx =
	    SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_on_free_cb)) == -1)
		return -1;
	if (SSL_get_ex_data(ssl, tls_on_free_idx) != NULL)
		return -1;
	f = xmalloc(sizeof(*f));
	f->fn = fn;
	f->arg = arg;
	if (SSL_set_ex_data(ssl, tls_on_free_idx, f) != 1) {
		free(f);
		return -1;
	}
	return 0;
}

void
tls_ssl_free(SSL *ssl)
{
	SSL_free(ssl);
}

int
tls_peer_verified(SSL *ssl, const char **errstr_out)
{
	long	res;

	if (SSL_get0_peer_certificate(ssl) == NULL) {
		tls_failx(errstr_out, "no peer certificate");
		return -1;
	}
	if ((res = SSL_get_verify_result(ssl)) != X509_V_OK) {
		tls_failx(errstr_out, X509_verify_cert_error_string(res));
		return -1;
	}
	return 0;
}

const char *
tls_version(SSL *ssl)
{
	return SSL_get_version(ssl);
}

const char *
tls_cipher(SSL *ssl)
{
	return SSL_get_cipher_name(ssl);
}

ssize_t
tls_channel_binding(SSL *ssl, enum tls_cb type, unsigned char *out,
    size_t outsz)
{
	static const char	 label[] = "EXPORTER-Channel-Binding";
	const EVP_MD		*md;
	X509			*cert;
	unsigned int		 n = 0;
	int			 mdnid = NID_undef;

	switch (type) {
	case TLS_CB_EXPORTER:
		/*
		 * RFC 9266 §2: defined only where the master secret is
		 * unique to the connection: TLS 1.3, or TLS 1.2 with the
		 * extended master secret (RFC 7627); §3 tells TLS 1.2 users
		 * without it to use another binding.  Renegotiation, which
		 * would make it ambiguous, is off in our server context.
		 */
		if (SSL_version(ssl) != TLS1_3_VERSION &&
		    (SSL_version(ssl) != TLS1_2_VERSION ||
		    SSL_get_extms_support(ssl) != 1))
			return -1;
		if (outsz < TLS_CB_EXPORTER_LEN ||
		    SSL_export_keying_material(ssl, out, TLS_CB_EXPORTER_LEN,
		    label, sizeof(label) - 1, NULL, 0, 0) != 1) {
			ERR_clear_error();
			return -1;
		}
		return TLS_CB_EXPORTER_LEN;
	case TLS_CB_SERVER_END_POINT:
		/*
		 * RFC 5929 §4.1: our certificate hashed with the hash of its
		 * signature algorithm, SHA-256 instead of MD5 or SHA-1; a
		 * signature without one hash (Ed25519) has no binding.
		 */
		if ((cert = SSL_get_certificate(ssl)) == NULL ||
		    X509_get_signature_info(cert, &mdnid, NULL, NULL,
		    NULL) != 1 || mdnid == NID_undef) {
			ERR_clear_error();
			return -1;
		}
		if (mdnid == NID_md5 || mdnid == NID_sha1)
			mdnid = NID_sha256;
		if ((md = EVP_get_digestbynid(mdnid)) == NULL ||
		    (size_t)EVP_MD_get_size(md) > outsz ||
		    X509_digest(cert, md, out, &n) != 1) {
			ERR_clear_error();
			return -1;
		}
		return (ssize_t)n;
	}
	return -1;
}

/* RFC 1123 §2.1 host name: letter-digit-hyphen labels of 1-63 octets. */
static bool
tls_hostname_valid(const char *h)
{
	size_t	i, len, label = 0;
	char	c;

	len = strnlen(h, TLS_HOSTNAME_MAX + 1);
	if (len == 0 || len > TLS_HOSTNAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = h[i];
		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && label > 0)))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && h[len - 1] != '-';
}

/* An extension from OpenSSL's text form; value is ours, never a peer's. */
static int
tls_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;
	int		 ok;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* subjectAltName dNSName built directly, so no name is parsed as config. */
static int
tls_add_san(X509 *x, const char *hostname)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*gn;
	ASN1_IA5STRING	*ia5;
	int		 ret = -1;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
		return -1;
	if ((gn = GENERAL_NAME_new()) == NULL)
		goto out;
	if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(ia5, hostname, -1) != 1) {
		ASN1_IA5STRING_free(ia5);
		GENERAL_NAME_free(gn);
		goto out;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
		GENERAL_NAME_free(gn);
		goto out;
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) == 1)
		ret = 0;
out:
	GENERAL_NAMES_free(gens);
	return ret;
}

static int
tls_set_serial(X509 *x)
{
	unsigned char	 r[TLS_SERIAL_BYTES];
	BIGNUM		*bn;
	int		 ret = -1;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	/* Positive (RFC 5280 §4.1.2.2) and never zero. */
	r[0] &= 0x7f;
	r[0] |= 0x40;
	if ((bn = BN_bin2bn(r, sizeof(r), NULL)) == NULL)
		return -1;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		ret = 0;
	BN_free(bn);
	return ret;
}

static X509 *
tls_make_cert(const char *hostname, EVP_PKEY *pkey)
{
	X509		*x;
	X509_NAME	*name;
	char		 cn[TLS_CN_MAX + 1];
	size_t		 len;

	if ((x = X509_new()) == NULL)
		return NULL;
	/* The CN is for people reading it; verifiers use the SAN. */
	len = strlen(hostname);
	if (len > TLS_CN_MAX)
		len = strcspn(hostname, ".");
	memcpy(cn, hostname, len);
	cn[len] = '\0';

	name = X509_get_subject_name(x);
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    tls_set_serial(x) == -1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), TLS_SELFSIGNED_DAYS, 0,
	    NULL) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, pkey) != 1)
		goto fail;
	/*
	 * An end-entity certificate (CA:FALSE): browsers and mail clients
	 * refuse a CA certificate as a server's even when the user accepts
	 * it, and a peer that pins it needs nothing more.
	 */
	if (tls_add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == -1 ||
	    tls_add_ext(x, NID_key_usage, "critical,digitalSignature") == -1 ||
	    tls_add_ext(x, NID_ext_key_usage, "serverAuth") == -1 ||
	    tls_add_ext(x, NID_subject_key_identifier, "hash") == -1 ||
	    tls_add_san(x, hostname) == -1)
		goto fail;
	if (X509_sign(x, pkey, EVP_sha256()) == 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

static void
tls_fail_errno(const char **errstr_out, const char *path, int err)
{
	(void)snprintf(tls_msgbuf, sizeof(tls_msgbuf), "%s: %s", path,
	    strerror(err));
	if (errstr_out != NULL)
		*errstr_out = tls_msgbuf;
}

/*
 * Write a memory BIO's contents with mode into a new temporary file next
 * to path (mkostemp: O_CREAT|O_EXCL) and fsync it.  Returns the temporary
 * name, to be renamed over path, or NULL.
 */
static char *
tls_write_tmp(const char *path, BIO *b, mode_t mode, const char **errstr_out)
{
	char	*tmp, *data;
	long	 len;
	int	 fd, saved;

	len = BIO_get_mem_data(b, &data);
	if (len <= 0) {
		tls_failx(errstr_out, "nothing to write");
		return NULL;
	}
	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		tls_fail_errno(errstr_out, path, errno);
		free(tmp);
		return NULL;
	}
	if (fchmod(fd, mode) == -1 ||
	    write_full(fd, data, (size_t)len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		saved = errno;
		goto fail;
	}
	return tmp;
fail:
	unlink(tmp);
	free(tmp);
	tls_fail_errno(errstr_out, path, saved);
	return NULL;
}

/* fsync the directory holding path, so that a rename in it is durable. */
static int
tls_sync_dir(const char *path, const char **errstr_out)
{
	char	*dir, *slash;
	int	 fd, ret = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else
		slash[slash == dir ? 1 : 0] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		tls_fail_errno(errstr_out, dir, errno);
		ret = -1;
	}
	if (fd != -1)
		close(fd);
	free(dir);
	return ret;
}

int
tls_selfsigned_create(const char *hostname, const char *cert_path,
    const char *key_path, const char **errstr_out)
{
	EVP_PKEY	*pkey = NULL;
	X509		*x = NULL;
	BIO		*kb = NULL, *cb = NULL;
	char		*ktmp = NULL, *ctmp = NULL;
	int		 ret = -1;

	ERR_clear_error();
	if (!tls_hostname_valid(hostname)) {
		tls_failx(errstr_out, "invalid host name for a certificate");
		return -1;
	}
	/* Named curve, uncompressed points: what every stack accepts. */
	if ((pkey = EVP_EC_gen("P-256")) == NULL) {
		tls_fail(errstr_out, "EC key generation");
		goto out;
	}
	if ((x = tls_make_cert(hostname, pkey)) == NULL) {
		tls_fail(errstr_out, "certificate");
		goto out;
	}
	/* A secure-heap BIO is wiped when freed. */
	if ((kb = BIO_new(BIO_s_secmem())) == NULL ||
	    (cb = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 ||
	    PEM_write_bio_X509(cb, x) != 1) {
		tls_fail(errstr_out, "PEM encoding");
		goto out;
	}
	/*
	 * Both files complete on disk before either is renamed, and the key
	 * first: a certificate on disk has its key beside it, except for the
	 * moment between two renames when replacing an older pair.
	 */
	if ((ktmp = tls_write_tmp(key_path, kb, 0600, errstr_out)) == NULL ||
	    (ctmp = tls_write_tmp(cert_path, cb, 0644, errstr_out)) == NULL)
		goto out;
	if (rename(ktmp, key_path) == -1) {
		tls_fail_errno(errstr_out, key_path, errno);
		goto out;
	}
	free(ktmp);
	ktmp = NULL;
	if (rename(ctmp, cert_path) == -1) {
		tls_fail_errno(errstr_out, cert_path, errno);
		goto out;
	}
	free(ctmp);
	ctmp = NULL;
	if (tls_sync_dir(key_path, errstr_out) == -1 ||
	    tls_sync_dir(cert_path, errstr_out) == -1)
		goto out;
	ret = 0;
out:
	if (ktmp != NULL) {
		unlink(ktmp);
		free(ktmp);
	}
	if (ctmp != NULL) {
		unlink(ctmp);
		free(ctmp);
	}
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ret;
}

const char *
tls_error_reason(unsigned long e)
{
	const char	*s;

	s = ERR_reason_error_string(e);
	return s != NULL ? s : "unknown TLS error";
}
