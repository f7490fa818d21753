/*
 * Unit tests for tls.c: self-signed certificates, server and client
 * contexts, and real handshakes between them over an in-memory BIO pair.
 * The tests may call OpenSSL directly to inspect what tls.c made.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "testutil.h"
#include "tls.h"

#define HOST	"mail.example.org"

struct fixture {
	char	dir[64];
	char	cert[128];
	char	key[128];
};

static int
setup(void **state)
{
	struct fixture	*f;
	const char	*err = NULL;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_tls.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	if (tls_selfsigned_create(HOST, f->cert, f->key, &err) != 0)
		fail_msg("tls_selfsigned_create: %s", err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	testutil_rmtree(f->dir);
	free(f);
	ERR_clear_error();
	return 0;
}

static X509 *
read_cert(const char *path)
{
	FILE	*fp;
	X509	*x;

	fp = fopen(path, "r");
	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	(void)fclose(fp);
	assert_non_null(x);
	return x;
}

static size_t
count_entries(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * Drive both ends of a handshake over a BIO pair until both are done or
 * one fails.  Returns 0 when both completed.
 */
static int
handshake(SSL *c, SSL *s)
{
	BIO	*bc, *bs;
	bool	 cdone = false, sdone = false;
	int	 i, rc, e;

	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	for (i = 0; i < 50 && !(cdone && sdone); i++) {
		if (!cdone) {
			if ((rc = SSL_do_handshake(c)) == 1)
				cdone = true;
			else if ((e = SSL_get_error(c, rc)) !=
			    SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				return -1;
		}
		if (!sdone) {
			if ((rc = SSL_do_handshake(s)) == 1)
				sdone = true;
			else if ((e = SSL_get_error(s, rc)) !=
			    SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				return -1;
		}
	}
	return cdone && sdone ? 0 : -1;
}

/* A server and a client trusting the fixture's certificate. */
struct pair {
	struct tls_ctx	*sctx;
	struct tls_ctx	*cctx;
	SSL		*s;
	SSL		*c;
};

static void
pair_open(struct fixture *f, struct pair *p, const char *servername,
    bool trust)
{
	const char	*err = NULL;

	p->sctx = tls_server_new(f->cert, f->key, &err);
	if (p->sctx == NULL)
		fail_msg("tls_server_new: %s", err);
	p->cctx = tls_client_new(&err);
	if (p->cctx == NULL)
		fail_msg("tls_client_new: %s", err);
	if (trust && tls_client_load_ca(p->cctx, f->cert, &err) != 0)
		fail_msg("tls_client_load_ca: %s", err);
	p->s = tls_server_ssl_new(p->sctx);
	p->c = tls_client_ssl_new(p->cctx, servername);
	assert_non_null(p->s);
	assert_non_null(p->c);
}

static void
pair_close(struct pair *p)
{
	tls_ssl_free(p->c);
	tls_ssl_free(p->s);
	tls_ctx_free(p->cctx);
	tls_ctx_free(p->sctx);
}

static void
test_selfsigned_file_modes(void **state)
{
	struct fixture	*f = *state;
	struct stat	 sb;

	assert_int_equal(stat(f->key, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(stat(f->cert, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0644);
}

static void
test_selfsigned_no_temporaries_left(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(count_entries(f->dir), 2);
}

static void
test_selfsigned_san_is_hostname(void **state)
{
	struct fixture	*f = *state;
	X509		*x = read_cert(f->cert);
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*gn;
	int		 crit = -1;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gens);
	assert_int_equal(crit, 0);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
	gn = sk_GENERAL_NAME_value(gens, 0);
	assert_int_equal(gn->type, GEN_DNS);
	assert_int_equal(ASN1_STRING_length(gn->d.dNSName), strlen(HOST));
	assert_memory_equal(ASN1_STRING_get0_data(gn->d.dNSName), HOST,
	    strlen(HOST));
	assert_int_equal(X509_check_host(x, HOST, 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "other.example.org", 0, 0, NULL),
	    0);
	GENERAL_NAMES_free(gens);
	X509_free(x);
}

static void
test_selfsigned_subject_cn(void **state)
{
	struct fixture	*f = *state;
	X509		*x = read_cert(f->cert);
	char		 cn[128];

	assert_int_equal(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)), (int)strlen(HOST));
	assert_string_equal(cn, HOST);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x),
	    X509_get_issuer_name(x)), 0);
	X509_free(x);
}

static void
test_selfsigned_is_v3_end_entity(void **state)
{
	struct fixture	*f = *state;
	X509		*x = read_cert(f->cert);

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0),
	    1);
	assert_true(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	assert_non_null(X509_get0_subject_key_id(x));
	X509_free(x);
}

static void
test_selfsigned_signature_and_key(void **state)
{
	struct fixture	*f = *state;
	X509		*x = read_cert(f->cert);
	EVP_PKEY	*pub = X509_get0_pubkey(x);
	char		 group[64];
	size_t		 glen;

	assert_non_null(pub);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_group_name(pub, group, sizeof(group),
	    &glen), 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	X509_free(x);
}

static void
test_selfsigned_validity_ten_years(void **state)
{
	struct fixture	*f = *state;
	X509		*x = read_cert(f->cert);
	int		 days, secs;

	/* Valid now... */
	assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
	assert_true(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
	/* ...until TLS_SELFSIGNED_DAYS from now. */
	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL,
	    X509_get0_notAfter(x)), 1);
	assert_true(days == TLS_SELFSIGNED_DAYS ||
	    days == TLS_SELFSIGNED_DAYS - 1);
	X509_free(x);
}

static void
test_selfsigned_serial_random(void **state)
{
	struct fixture	*f = *state;
	X509		*x1 = read_cert(f->cert), *x2;
	const char	*err = NULL;
	BIGNUM		*b1, *b2;

	assert_int_equal(tls_selfsigned_create(HOST, f->cert, f->key, &err),
	    0);
	x2 = read_cert(f->cert);
	b1 = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x1), NULL);
	b2 = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x2), NULL);
	assert_false(BN_is_negative(b1));
	assert_false(BN_is_zero(b1));
	assert_true(BN_num_bits(b1) >= 64);
	assert_int_not_equal(BN_cmp(b1, b2), 0);
	BN_free(b1);
	BN_free(b2);
	X509_free(x1);
	X509_free(x2);
}

static void
test_selfsigned_replaces_pair(void **state)
{
	struct fixture	*f = *state;
	struct tls_ctx	*t;
	const char	*err = NULL;

	assert_int_equal(tls_selfsigned_create("other.example", f->cert,
	    f->key, &err), 0);
	assert_int_equal(count_entries(f->dir), 2);
	t = tls_server_new(f->cert, f->key, &err);
	assert_non_null(t);
	tls_ctx_free(t);
}

static void
test_selfsigned_invalid_hostname_refused(void **state)
{
	struct fixture	*f = *state;
	static const char *const bad[] = {
		"", ".", "-mail.example.org", "mail-.example.org",
		"mail..example.org", "mail example.org",
		"mail.example.org,DNS:evil.example", "mail.example.org.",
		"m\xc3\xa4il.example.org", "*.example.org", "[192.0.2.1]",
	};
	char		 cert[160], key[160];
	const char	*err;
	size_t		 i;

	snprintf(cert, sizeof(cert), "%s/bad-cert.pem", f->dir);
	snprintf(key, sizeof(key), "%s/bad-key.pem", f->dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		if (tls_selfsigned_create(bad[i], cert, key, &err) != -1)
			fail_msg("accepted host name \"%s\"", bad[i]);
		assert_non_null(err);
	}
	assert_int_equal(count_entries(f->dir), 2);
}

static void
test_selfsigned_long_hostname(void **state)
{
	struct fixture	*f = *state;
	/* 70 octets: longer than a CN may be, fine for a dNSName. */
	static const char host[] = "aaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaa.mail.example.org";
	const char	*err = NULL;
	X509		*x;

	assert_int_equal(tls_selfsigned_create(host, f->cert, f->key, &err),
	    0);
	x = read_cert(f->cert);
	assert_int_equal(X509_check_host(x, host, 0, 0, NULL), 1);
	X509_free(x);
}

static void
test_selfsigned_unwritable_refused(void **state)
{
	struct fixture	*f = *state;
	char		 cert[160], key[160];
	const char	*err = NULL;

	snprintf(cert, sizeof(cert), "%s/missing/cert.pem", f->dir);
	snprintf(key, sizeof(key), "%s/missing/key.pem", f->dir);
	assert_int_equal(tls_selfsigned_create(HOST, cert, key, &err), -1);
	assert_non_null(strstr(err, "missing/key.pem"));
}

static void
test_server_new_loads_pair(void **state)
{
	struct fixture	*f = *state;
	struct tls_ctx	*t;
	const char	*err = NULL;

	t = tls_server_new(f->cert, f->key, &err);
	if (t == NULL)
		fail_msg("tls_server_new: %s", err);
	assert_int_equal(ERR_peek_error(), 0);
	tls_ctx_free(t);
}

static void
test_server_new_mismatch_refused(void **state)
{
	struct fixture	*f = *state;
	char		 cert2[160], key2[160];
	const char	*err = NULL;

	snprintf(cert2, sizeof(cert2), "%s/cert2.pem", f->dir);
	snprintf(key2, sizeof(key2), "%s/key2.pem", f->dir);
	assert_int_equal(tls_selfsigned_create(HOST, cert2, key2, &err), 0);
	assert_null(tls_server_new(f->cert, key2, &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "mismatch"));
	assert_null(tls_server_new(cert2, f->key, &err));
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_server_new_missing_cert_refused(void **state)
{
	struct fixture	*f = *state;
	char		 p[160];
	const char	*err = NULL;

	snprintf(p, sizeof(p), "%s/absent.pem", f->dir);
	assert_null(tls_server_new(p, f->key, &err));
	assert_non_null(strstr(err, "absent.pem"));
	assert_non_null(strstr(err, "certificate"));
}

static void
test_server_new_missing_key_refused(void **state)
{
	struct fixture	*f = *state;
	char		 p[160];
	const char	*err = NULL;

	snprintf(p, sizeof(p), "%s/absent.pem", f->dir);
	assert_null(tls_server_new(f->cert, p, &err));
	assert_non_null(strstr(err, "absent.pem"));
	assert_non_null(strstr(err, "key"));
}

static void
test_server_new_garbage_refused(void **state)
{
	struct fixture	*f = *state;
	char		 p[160];
	const char	*err = NULL;
	FILE		*fp;

	snprintf(p, sizeof(p), "%s/junk.pem", f->dir);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
	    "-----END CERTIFICATE-----\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_null(tls_server_new(p, f->key, &err));
	assert_null(tls_server_new(f->cert, p, &err));
	/* The certificate where the key should be is no key either. */
	assert_null(tls_server_new(f->cert, f->cert, &err));
}

static void
test_server_options(void **state)
{
	struct fixture	*f = *state;
	struct tls_ctx	*t;
	SSL		*s;
	uint64_t	 o;

	t = tls_server_new(f->cert, f->key, NULL);
	assert_non_null(t);
	s = tls_server_ssl_new(t);
	assert_non_null(s);
	o = SSL_get_options(s);
	assert_true(o & SSL_OP_NO_COMPRESSION);
	assert_true(o & SSL_OP_NO_RENEGOTIATION);
	assert_true(o & SSL_OP_CIPHER_SERVER_PREFERENCE);
	assert_int_equal(SSL_get_min_proto_version(s), TLS1_2_VERSION);
	assert_true(SSL_is_server(s));
	tls_ssl_free(s);
	tls_ctx_free(t);
}

static void
test_server_ciphers_forward_secret(void **state)
{
	struct fixture		*f = *state;
	struct tls_ctx		*t;
	SSL			*s;
	STACK_OF(SSL_CIPHER)	*sk;
	const SSL_CIPHER	*c;
	int			 i, kx;

	t = tls_server_new(f->cert, f->key, NULL);
	s = tls_server_ssl_new(t);
	sk = SSL_get_ciphers(s);
	assert_true(sk_SSL_CIPHER_num(sk) > 0);
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		c = sk_SSL_CIPHER_value(sk, i);
		kx = SSL_CIPHER_get_kx_nid(c);
		/* TLS 1.3 suites name no key exchange: it is always (EC)DHE. */
		if (kx != NID_kx_ecdhe && kx != NID_kx_any)
			fail_msg("cipher %s", SSL_CIPHER_get_name(c));
		assert_int_not_equal(SSL_CIPHER_get_cipher_nid(c), NID_undef);
		assert_true(SSL_CIPHER_get_bits(c, NULL) >= 128);
		/* A new context offers the clients' list: AEAD only. */
		assert_true(SSL_CIPHER_is_aead(c));
	}
	tls_ssl_free(s);
	tls_ctx_free(t);
}

static void	make_rsa_pair(struct fixture *, char *, char *, size_t);

/* Every TLS 1.2 suite of s is ECDHE with AEAD (aead) or not; the count. */
static int
count_tls12(SSL *s, int *naead)
{
	STACK_OF(SSL_CIPHER)	*sk = SSL_get_ciphers(s);
	const SSL_CIPHER	*c;
	int			 i, n = 0;

	*naead = 0;
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		c = sk_SSL_CIPHER_value(sk, i);
		if (SSL_CIPHER_get_kx_nid(c) == NID_kx_any)
			continue;
		assert_int_equal(SSL_CIPHER_get_kx_nid(c), NID_kx_ecdhe);
		n++;
		if (SSL_CIPHER_is_aead(c))
			(*naead)++;
	}
	return n;
}

static void
test_server_mx_ciphers_add_cbc(void **state)
{
	struct fixture		*f = *state;
	struct tls_ctx		*t;
	SSL			*s;
	STACK_OF(SSL_CIPHER)	*sk;
	const SSL_CIPHER	*c;
	const char		*err = NULL;
	int			 i, n, naead, nclients, nclients_aead;
	bool			 cbc = false;

	t = tls_server_new(f->cert, f->key, NULL);
	s = tls_server_ssl_new(t);
	nclients = count_tls12(s, &nclients_aead);
	tls_ssl_free(s);
	if (tls_ctx_set_ciphers(t, TLS_CIPHERS_MX, NULL, &err) != 0)
		fail_msg("tls_ctx_set_ciphers: %s", err);
	s = tls_server_ssl_new(t);
	n = count_tls12(s, &naead);
	/* The same AEAD suites, then CBC ones, still all ECDHE. */
	assert_int_equal(naead, nclients_aead);
	assert_int_equal(nclients, nclients_aead);
	assert_true(n > naead);
	/* AEAD first: after the first CBC suite comes no AEAD one. */
	sk = SSL_get_ciphers(s);
	for (i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		c = sk_SSL_CIPHER_value(sk, i);
		if (!SSL_CIPHER_is_aead(c))
			cbc = true;
		else if (cbc)
			fail_msg("%s after CBC", SSL_CIPHER_get_name(c));
	}
	assert_true(cbc);
	tls_ssl_free(s);
	tls_ctx_free(t);
}

/* A TLS 1.2 client offering only the suite want against a server ctx. */
static int
handshake_only(struct fixture *f, struct tls_ctx *sctx, const char *want)
{
	struct tls_ctx	*cctx;
	SSL		*s, *c;
	const char	*err = NULL;
	int		 rc;

	if ((cctx = tls_client_new(&err)) == NULL)
		fail_msg("tls_client_new: %s", err);
	s = tls_server_ssl_new(sctx);
	c = tls_client_ssl_new(cctx, HOST);
	assert_int_equal(SSL_set_max_proto_version(c, TLS1_2_VERSION), 1);
	assert_int_equal(SSL_set_cipher_list(c, want), 1);
	rc = handshake(c, s);
	if (rc == 0)
		assert_string_equal(tls_cipher(s), want);
	tls_ssl_free(c);
	tls_ssl_free(s);
	tls_ctx_free(cctx);
	ERR_clear_error();
	return rc;
}

static void
test_handshake_cbc_only_on_mx_list(void **state)
{
	struct fixture	*f = *state;
	struct tls_ctx	*t;
	const char	*err = NULL;

	/* An old MTA that has only ECDHE with AES-CBC... */
	t = tls_server_new(f->cert, f->key, NULL);
	assert_int_equal(handshake_only(f, t, "ECDHE-ECDSA-AES128-SHA"), -1);
	/* ...gets TLS on port 25's list, rather than cleartext. */
	if (tls_ctx_set_ciphers(t, TLS_CIPHERS_MX, NULL, &err) != 0)
		fail_msg("tls_ctx_set_ciphers: %s", err);
	assert_int_equal(handshake_only(f, t, "ECDHE-ECDSA-AES128-SHA"), 0);
	assert_int_equal(handshake_only(f, t,
	    "ECDHE-ECDSA-CHACHA20-POLY1305"), 0);
	tls_ctx_free(t);
}

static void
test_handshake_configured_lists(void **state)
{
	struct fixture	*f = *state;
	struct tls_ctx	*t;
	struct pair	 p;
	const char	*err = NULL;

	t = tls_server_new(f->cert, f->key, NULL);
	if (tls_ctx_set_ciphers(t, "ECDHE-ECDSA-CHACHA20-POLY1305",
	    "TLS_CHACHA20_POLY1305_SHA256", &err) != 0)
		fail_msg("tls_ctx_set_ciphers: %s", err);
	assert_int_equal(handshake_only(f, t,
	    "ECDHE-ECDSA-AES128-GCM-SHA256"), -1);
	assert_int_equal(handshake_only(f, t,
	    "ECDHE-ECDSA-CHACHA20-POLY1305"), 0);
	/* TLS 1.3 takes the configured suite over the client's first. */
	pair_open(f, &p, HOST, true);
	tls_ssl_free(p.s);
	p.s = tls_server_ssl_new(t);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_string_equal(tls_version(p.s), "TLSv1.3");
	assert_string_equal(tls_cipher(p.s), "TLS_CHACHA20_POLY1305_SHA256");
	pair_close(&p);
	/* "" is OpenSSL's default again. */
	assert_int_equal(tls_ctx_set_ciphers(t, TLS_CIPHERS_CLIENTS, "",
	    &err), 0);
	pair_open(f, &p, HOST, true);
	tls_ssl_free(p.s);
	p.s = tls_server_ssl_new(t);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_string_equal(tls_cipher(p.s), "TLS_AES_256_GCM_SHA384");
	pair_close(&p);
	/* What OpenSSL refuses is an error, with OpenSSL's reason. */
	assert_int_equal(tls_ctx_set_ciphers(t, "NOPE", NULL, &err), -1);
	assert_non_null(strstr(err, "TLS 1.2 cipher list"));
	tls_ctx_free(t);
}

/* A DHE suite, when configured, works: OpenSSL picks the group. */
static void
test_handshake_dhe_when_configured(void **state)
{
	struct fixture	*f = *state;
	struct tls_ctx	*t;
	char		 cert[256], key[256];
	const char	*err = NULL;

	make_rsa_pair(f, cert, key, sizeof(cert));
	t = tls_server_new(cert, key, NULL);
	assert_non_null(t);
	assert_int_equal(handshake_only(f, t, "DHE-RSA-AES128-GCM-SHA256"),
	    -1);
	assert_int_equal(tls_ciphers_check(TLS_CIPHERS_CLIENTS
	    ":DHE-RSA-AES128-GCM-SHA256", false, &err), 0);
	assert_int_equal(tls_ctx_set_ciphers(t, TLS_CIPHERS_CLIENTS
	    ":DHE-RSA-AES128-GCM-SHA256", NULL, &err), 0);
	assert_int_equal(handshake_only(f, t, "DHE-RSA-AES128-GCM-SHA256"),
	    0);
	tls_ctx_free(t);
}

static void
test_ciphers_check(void **state)
{
	char		 longlist[TLS_CIPHERS_MAX + 2];
	const char	*err = NULL;

	/* What we offer by default passes our own check. */
	assert_int_equal(tls_ciphers_check(TLS_CIPHERS_CLIENTS, false, &err),
	    0);
	assert_int_equal(tls_ciphers_check(TLS_CIPHERS_MX, false, &err), 0);
	assert_int_equal(tls_ciphers_check(OSSL_default_ciphersuites(), true,
	    &err), 0);
	assert_int_equal(ERR_peek_error(), 0);
	/* A category that pulls in static RSA is refused. */
	assert_int_equal(tls_ciphers_check("HIGH", false, &err), -1);
	assert_non_null(strstr(err, "selects "));
	assert_int_equal(tls_ciphers_check("ECDHE+AESGCM:!aECDSA:!aRSA", false,
	    &err), -1);
	assert_string_equal(err, "selects no TLS 1.2 cipher suite");
	assert_int_equal(tls_ciphers_check("", true, &err), -1);
	assert_string_equal(err, "empty list");
	memset(longlist, ':', sizeof(longlist) - 1);
	longlist[sizeof(longlist) - 1] = '\0';
	assert_int_equal(tls_ciphers_check(longlist, false, &err), -1);
	assert_string_equal(err, "longer than 2048 octets");
	/* Separators only: no item, nothing selected. */
	longlist[TLS_CIPHERS_MAX] = '\0';
	assert_int_equal(tls_ciphers_check(longlist, false, &err), -1);
	assert_string_equal(err, "selects no TLS 1.2 cipher suite");
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_handshake_verified(void **state)
{
	struct fixture	*f = *state;
	struct pair	 p;
	const char	*err = NULL;
	const char	*v;
	char		 buf[16];

	pair_open(f, &p, HOST, true);
	assert_int_equal(handshake(p.c, p.s), 0);
	v = tls_version(p.s);
	if (strcmp(v, "TLSv1.2") != 0 && strcmp(v, "TLSv1.3") != 0)
		fail_msg("version %s", v);
	assert_string_equal(tls_version(p.c), v);
	assert_string_not_equal(tls_cipher(p.s), "(NONE)");
	assert_string_equal(tls_cipher(p.c), tls_cipher(p.s));
	if (tls_peer_verified(p.c, &err) != 0)
		fail_msg("tls_peer_verified: %s", err);
	assert_string_equal(SSL_get_servername(p.s, TLSEXT_NAMETYPE_host_name),
	    HOST);

	/* Application data flows both ways. */
	assert_int_equal(SSL_write(p.c, "EHLO x\r\n", 8), 8);
	assert_int_equal(SSL_read(p.s, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "EHLO x\r\n", 8);
	assert_int_equal(SSL_write(p.s, "250 ok\r\n", 8), 8);
	assert_int_equal(SSL_read(p.c, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "250 ok\r\n", 8);
	pair_close(&p);
}

static void
test_handshake_tls12_aead(void **state)
{
	struct fixture	*f = *state;
	struct pair	 p;
	const char	*err = NULL;

	pair_open(f, &p, HOST, true);
	assert_int_equal(SSL_set_max_proto_version(p.c, TLS1_2_VERSION), 1);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_string_equal(tls_version(p.s), "TLSv1.2");
	/* Our order wins: the first suite of the list. */
	assert_string_equal(tls_cipher(p.s), "ECDHE-ECDSA-AES256-GCM-SHA384");
	assert_int_equal(tls_peer_verified(p.c, &err), 0);
	pair_close(&p);
}

static void
test_handshake_server_order_wins(void **state)
{
	struct fixture	*f = *state;
	struct pair	 p;

	pair_open(f, &p, HOST, true);
	assert_int_equal(SSL_set_max_proto_version(p.c, TLS1_2_VERSION), 1);
	/* The client prefers CBC; the server still picks GCM. */
	assert_int_equal(SSL_set_cipher_list(p.c, "ECDHE-ECDSA-AES128-SHA:"
	    "ECDHE-ECDSA-AES128-GCM-SHA256"), 1);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_string_equal(tls_cipher(p.s), "ECDHE-ECDSA-AES128-GCM-SHA256");
	pair_close(&p);
}

static void
test_handshake_wrong_name_not_verified(void **state)
{
	struct fixture	*f = *state;
	struct pair	 p;
	const char	*err = NULL;

	pair_open(f, &p, "other.example.org", true);
	/* Opportunistic: the handshake completes, the verdict is recorded. */
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_int_equal(tls_peer_verified(p.c, &err), -1);
	assert_non_null(strstr(err, "mismatch"));
	pair_close(&p);
}

static void
test_handshake_untrusted_not_verified(void **state)
{
	struct fixture	*f = *state;
	struct pair	 p;
	const char	*err = NULL;

	pair_open(f, &p, HOST, false);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_int_equal(tls_peer_verified(p.c, &err), -1);
	assert_non_null(strstr(err, "self-signed"));
	pair_close(&p);
}

static void
test_handshake_tls11_refused(void **state)
{
	struct fixture	*f = *state;
	struct tls_ctx	*t;
	SSL_CTX		*cctx;
	SSL		*s, *c;

	t = tls_server_new(f->cert, f->key, NULL);
	s = tls_server_ssl_new(t);
	/* An old client, built by hand: tls.c will not make one. */
	cctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(cctx);
	SSL_CTX_set_security_level(cctx, 0);
	assert_int_equal(SSL_CTX_set_min_proto_version(cctx, TLS1_VERSION),
	    1);
	assert_int_equal(SSL_CTX_set_max_proto_version(cctx, TLS1_1_VERSION),
	    1);
	assert_int_equal(SSL_CTX_set_cipher_list(cctx, "ALL:@SECLEVEL=0"), 1);
	c = SSL_new(cctx);
	SSL_set_connect_state(c);
	assert_int_equal(handshake(c, s), -1);
	assert_string_not_equal(tls_errstr(), "no OpenSSL error reported");
	SSL_free(c);
	SSL_CTX_free(cctx);
	tls_ssl_free(s);
	tls_ctx_free(t);
}

static void
test_client_sni_not_for_literals(void **state)
{
	struct tls_ctx	*t;
	SSL		*c;
	static const struct {
		const char	*name;
		const char	*sni;
	} cases[] = {
		{ "mx.example.net", "mx.example.net" },
		{ "192.0.2.1", NULL },
		{ "2001:db8::1", NULL },
		{ NULL, NULL },
	};
	const char	*got;
	size_t		 i;

	t = tls_client_new(NULL);
	assert_non_null(t);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = tls_client_ssl_new(t, cases[i].name);
		assert_non_null(c);
		assert_false(SSL_is_server(c));
		got = SSL_get_servername(c, TLSEXT_NAMETYPE_host_name);
		if (cases[i].sni == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].sni);
		tls_ssl_free(c);
	}
	tls_ctx_free(t);
}

static void
test_client_min_version(void **state)
{
	struct tls_ctx	*t;
	SSL		*c;

	t = tls_client_new(NULL);
	c = tls_client_ssl_new(t, NULL);
	assert_int_equal(SSL_get_min_proto_version(c), TLS1_2_VERSION);
	assert_true(SSL_get_options(c) & SSL_OP_NO_COMPRESSION);
	tls_ssl_free(c);
	tls_ctx_free(t);
}

static void
test_client_load_ca_missing_refused(void **state)
{
	struct fixture	*f = *state;
	struct tls_ctx	*t;
	char		 p[160];
	const char	*err = NULL;

	snprintf(p, sizeof(p), "%s/absent.pem", f->dir);
	t = tls_client_new(NULL);
	assert_int_equal(tls_client_load_ca(t, p, &err), -1);
	assert_non_null(strstr(err, "absent.pem"));
	tls_ctx_free(t);
}

static void
test_errstr_drains_queue(void **state)
{
	ERR_clear_error();
	assert_string_equal(tls_errstr(), "no OpenSSL error reported");
	ERR_raise_data(ERR_LIB_SSL, SSL_R_NO_CIPHER_MATCH, "detail %d", 42);
	ERR_raise(ERR_LIB_SSL, SSL_R_NO_SHARED_CIPHER);
	{
		const char	*s = tls_errstr();

		assert_non_null(strstr(s, "no cipher match (detail 42)"));
		assert_non_null(strstr(s, "; "));
		assert_non_null(strstr(s, "no shared cipher"));
	}
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_ctx_free_null(void **state)
{
	tls_ctx_free(NULL);
	tls_ssl_free(NULL);
}

/* --- a private key held elsewhere: tls_server_new_remote() --- */

struct remote {
	struct tls_key	*key;
	int		 calls;
	bool		 fail;
};

static ssize_t
remote_fn(void *arg, const uint8_t *spki, enum tls_key_op op, int padding,
    const unsigned char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	struct remote	*r = arg;

	r->calls++;
	/* The stand-in names the key of its certificate. */
	assert_memory_equal(spki, tls_key_spki(r->key), TLS_SPKI_LEN);
	if (r->fail)
		return -1;
	return tls_key_op(r->key, op, padding, in, inlen, out, outsz);
}

/* An RSA certificate and key in the fixture's directory. */
static void
make_rsa_pair(struct fixture *f, char *cert, char *key, size_t sz)
{
	char	cmd[1024];

	snprintf(cert, sz, "%s/rsa-cert.pem", f->dir);
	snprintf(key, sz, "%s/rsa-key.pem", f->dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 "
	    "-nodes -keyout %s -out %s -days 2 -subj /CN=%s "
	    "-addext subjectAltName=DNS:%s >/dev/null 2>&1", key, cert, HOST,
	    HOST);
	assert_int_equal(system(cmd), 0);
}

/* Handshakes at max_version against a server whose key is remote. */
static void
remote_handshake(const char *cert, const char *key, int max_version,
    const char *want_cipher)
{
	struct remote	 r = { 0 };
	struct tls_ctx	*sctx, *cctx;
	SSL		*s, *c;
	const char	*err = NULL;

	if ((r.key = tls_key_load(cert, key, &err)) == NULL)
		fail_msg("tls_key_load: %s", err);
	if ((sctx = tls_server_new_remote(cert, remote_fn, &r, &err)) == NULL)
		fail_msg("tls_server_new_remote: %s", err);
	if ((cctx = tls_client_new(&err)) == NULL ||
	    tls_client_load_ca(cctx, cert, &err) != 0)
		fail_msg("client: %s", err);
	s = tls_server_ssl_new(sctx);
	c = tls_client_ssl_new(cctx, HOST);
	assert_int_equal(SSL_set_max_proto_version(c, max_version), 1);
	assert_int_equal(handshake(c, s), 0);
	/* The signature was made by the holder, and it verifies. */
	assert_true(r.calls >= 1);
	assert_int_equal(tls_peer_verified(c, &err), 0);
	if (want_cipher != NULL)
		assert_string_equal(tls_cipher(s), want_cipher);
	tls_ssl_free(c);
	tls_ssl_free(s);

	/* A holder that cannot sign fails the handshake, nothing else. */
	r.fail = true;
	r.calls = 0;
	s = tls_server_ssl_new(sctx);
	c = tls_client_ssl_new(cctx, HOST);
	assert_int_equal(SSL_set_max_proto_version(c, max_version), 1);
	assert_int_equal(handshake(c, s), -1);
	assert_true(r.calls >= 1);
	tls_ssl_free(c);
	tls_ssl_free(s);
	ERR_clear_error();
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
	tls_key_free(r.key);
}

static void
test_remote_key_ec(void **state)
{
	struct fixture	*f = *state;

	remote_handshake(f->cert, f->key, TLS1_3_VERSION, NULL);
	remote_handshake(f->cert, f->key, TLS1_2_VERSION,
	    "ECDHE-ECDSA-AES256-GCM-SHA384");
}

static void
test_remote_key_rsa(void **state)
{
	struct fixture	*f = *state;
	char		 cert[256], key[256];

	make_rsa_pair(f, cert, key, sizeof(cert));
	/* TLS 1.3: RSA-PSS, raw RSA after our own encoding. */
	remote_handshake(cert, key, TLS1_3_VERSION, NULL);
	remote_handshake(cert, key, TLS1_2_VERSION,
	    "ECDHE-RSA-AES256-GCM-SHA384");
}

static void
test_key_op_refuses_what_tls_never_asks(void **state)
{
	struct fixture	*f = *state;
	struct tls_key	*ec, *rsa;
	unsigned char	 in[TLS_KEY_IO_MAX + 1], out[TLS_KEY_IO_MAX];
	char		 cert[256], key[256];
	const char	*err = NULL;

	memset(in, 1, sizeof(in));
	make_rsa_pair(f, cert, key, sizeof(cert));
	assert_non_null(ec = tls_key_load(f->cert, f->key, &err));
	assert_non_null(rsa = tls_key_load(cert, key, &err));
	/* A digest signed by each, with the op of its kind. */
	assert_true(tls_key_op(ec, TLS_KEY_ECDSA_SIGN, 0, in, 32, out,
	    sizeof(out)) > 0);
	assert_int_equal(tls_key_op(rsa, TLS_KEY_RSA_SIGN, RSA_PKCS1_PADDING,
	    in, 36, out, sizeof(out)), 256);
	/* The wrong kind, padding, op or size. */
	assert_int_equal(tls_key_op(ec, TLS_KEY_RSA_SIGN, RSA_PKCS1_PADDING,
	    in, 36, out, sizeof(out)), -1);
	assert_int_equal(tls_key_op(rsa, TLS_KEY_ECDSA_SIGN, 0, in, 32, out,
	    sizeof(out)), -1);
	assert_int_equal(tls_key_op(rsa, TLS_KEY_RSA_SIGN,
	    RSA_PKCS1_OAEP_PADDING, in, 36, out, sizeof(out)), -1);
	assert_int_equal(tls_key_op(rsa, (enum tls_key_op)99, 0, in, 36, out,
	    sizeof(out)), -1);
	assert_int_equal(tls_key_op(ec, TLS_KEY_ECDSA_SIGN, 0, in,
	    sizeof(in), out, sizeof(out)), -1);
	assert_int_equal(tls_key_op(rsa, TLS_KEY_RSA_SIGN, RSA_PKCS1_PADDING,
	    in, 36, out, 100), -1);
	/* A key that does not match the certificate is not loaded. */
	assert_null(tls_key_load(cert, f->key, &err));
	assert_non_null(err);
	tls_key_free(ec);
	tls_key_free(rsa);
	tls_key_free(NULL);
	ERR_clear_error();
}

/* --- a new certificate while running: PEM in memory, tls_ctx_replace() --- */

/* Two keys, each signing for the certificate that names it. */
struct holder {
	struct tls_key	*keys[2];
	int		 calls[2];
};

static ssize_t
holder_fn(void *arg, const uint8_t *spki, enum tls_key_op op, int padding,
    const unsigned char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	struct holder	*h = arg;
	int		 i;

	for (i = 0; i < 2; i++)
		if (memcmp(tls_key_spki(h->keys[i]), spki, TLS_SPKI_LEN) == 0) {
			h->calls[i]++;
			return tls_key_op(h->keys[i], op, padding, in, inlen,
			    out, outsz);
		}
	return -1;
}

static void
read_pem_file(const char *path, char **out, size_t *len)
{
	const char	*err = NULL;

	if (tls_pem_read(path, out, len, &err) == -1)
		fail_msg("tls_pem_read: %s", err);
}

static void
test_key_new_pem(void **state)
{
	struct fixture	*f = *state;
	struct tls_key	*k;
	char		 cert[256], key[256], cmd[1024], path[256];
	char		*ec, *eckey, *rsa, *rsakey, *both;
	size_t		 eclen, eckeylen, rsalen, rsakeylen, len;
	const char	*chain, *err = NULL;
	uint8_t		 want[TLS_SPKI_LEN];
	FILE		*fp;
	static const char bad[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";

	make_rsa_pair(f, cert, key, sizeof(cert));
	read_pem_file(f->cert, &ec, &eclen);
	read_pem_file(f->key, &eckey, &eckeylen);
	read_pem_file(cert, &rsa, &rsalen);
	read_pem_file(key, &rsakey, &rsakeylen);

	/* A chain (any second certificate stands for an issuer) and its key */
	both = malloc(eclen + rsalen + sizeof(bad));
	assert_non_null(both);
	memcpy(both, ec, eclen);
	memcpy(both + eclen, rsa, rsalen);
	assert_non_null(k = tls_key_new_pem(both, eclen + rsalen, eckey,
	    eckeylen, &err));
	chain = tls_key_chain(k, &len);
	assert_int_equal(len, eclen + rsalen);
	assert_memory_equal(chain, both, len);
	/* Named by its SPKI's SHA-256, as openssl(1) computes it. */
	snprintf(path, sizeof(path), "%s/spki", f->dir);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s -pubkey -noout | "
	    "openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary "
	    "> %s", f->cert, path);
	assert_int_equal(system(cmd), 0);
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fread(want, 1, sizeof(want), fp), sizeof(want));
	(void)fclose(fp);
	assert_memory_equal(tls_key_spki(k), want, TLS_SPKI_LEN);
	tls_key_free(k);

	/* Refused: the key of another leaf, a broken issuer, no key, */
	assert_null(tls_key_new_pem(ec, eclen, rsakey, rsakeylen, &err));
	assert_non_null(strstr(err, "does not match"));
	memcpy(both + eclen, bad, sizeof(bad) - 1);
	assert_null(tls_key_new_pem(both, eclen + sizeof(bad) - 1, eckey,
	    eckeylen, &err));
	assert_null(tls_key_new_pem(ec, eclen, ec, eclen, &err));
	assert_non_null(strstr(err, "private key"));
	/* no certificate, or too much of one */
	assert_null(tls_key_new_pem(eckey, eckeylen, eckey, eckeylen, &err));
	assert_null(tls_key_new_pem(ec, 0, eckey, eckeylen, &err));
	assert_null(tls_key_new_pem(ec, TLS_PEM_MAX + 1, eckey, eckeylen,
	    &err));
	free(both);
	free(ec);
	free(rsa);
	free(eckey);
	free(rsakey);
	ERR_clear_error();
}

static void
test_pem_read_bounds(void **state)
{
	struct fixture	*f = *state;
	char		 path[256], *p = NULL;
	size_t		 len;
	const char	*err = NULL;
	FILE		*fp;
	int		 i;

	snprintf(path, sizeof(path), "%s/big.pem", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	for (i = 0; i < TLS_PEM_MAX; i++)
		(void)fputc('A', fp);
	(void)fclose(fp);
	/* exactly the bound: read whole */
	assert_int_equal(tls_pem_read(path, &p, &len, &err), 0);
	assert_int_equal(len, TLS_PEM_MAX);
	assert_int_equal(p[len], '\0');
	free(p);
	/* one octet more: refused */
	assert_non_null(fp = fopen(path, "a"));
	(void)fputc('A', fp);
	(void)fclose(fp);
	assert_int_equal(tls_pem_read(path, &p, &len, &err), -1);
	assert_non_null(strstr(err, "longer than"));
	/* empty, and missing */
	assert_non_null(fp = fopen(path, "w"));
	(void)fclose(fp);
	assert_int_equal(tls_pem_read(path, &p, &len, &err), -1);
	unlink(path);
	assert_int_equal(tls_pem_read(path, &p, &len, &err), -1);
	assert_non_null(strstr(err, path));
}

/* The leaf a client was shown equals the first certificate of path. */
static void
assert_presented(SSL *c, const char *path)
{
	X509	*want;

	want = read_cert(path);
	assert_int_equal(X509_cmp(SSL_get0_peer_certificate(c), want), 0);
	X509_free(want);
}

static void
test_ctx_replace_for_new_connections(void **state)
{
	struct fixture	*f = *state;
	struct holder	 h = { 0 };
	struct tls_ctx	*sctx, *next, *cctx;
	SSL		*s_old, *s_new, *c_old, *c_new;
	char		 cert[256], key[256], *pem;
	size_t		 len;
	const char	*err = NULL;

	make_rsa_pair(f, cert, key, sizeof(cert));
	assert_non_null(h.keys[0] = tls_key_load(f->cert, f->key, &err));
	assert_non_null(h.keys[1] = tls_key_load(cert, key, &err));
	read_pem_file(f->cert, &pem, &len);
	assert_non_null(sctx = tls_server_new_remote_pem(pem, len, holder_fn,
	    &h, &err));
	free(pem);
	assert_non_null(cctx = tls_client_new(&err));
	assert_int_equal(tls_client_load_ca(cctx, f->cert, &err), 0);
	assert_int_equal(tls_client_load_ca(cctx, cert, &err), 0);

	/* A connection accepted before the change, its handshake not done */
	assert_non_null(s_old = tls_server_ssl_new(sctx));
	read_pem_file(cert, &pem, &len);
	assert_non_null(next = tls_server_new_remote_pem(pem, len, holder_fn,
	    &h, &err));
	free(pem);
	tls_ctx_replace(sctx, next);
	assert_non_null(s_new = tls_server_ssl_new(sctx));

	/* The old one finishes with the old pair, the new one has the new. */
	c_old = tls_client_ssl_new(cctx, HOST);
	c_new = tls_client_ssl_new(cctx, HOST);
	assert_int_equal(handshake(c_old, s_old), 0);
	assert_int_equal(handshake(c_new, s_new), 0);
	assert_presented(c_old, f->cert);
	assert_presented(c_new, cert);
	assert_int_equal(tls_peer_verified(c_old, &err), 0);
	assert_int_equal(tls_peer_verified(c_new, &err), 0);
	/* each signed by the key its certificate names */
	assert_true(h.calls[0] >= 1 && h.calls[1] >= 1);
	tls_ssl_free(c_old);
	tls_ssl_free(s_old);
	tls_ssl_free(c_new);
	tls_ssl_free(s_new);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
	tls_key_free(h.keys[0]);
	tls_key_free(h.keys[1]);
	ERR_clear_error();
}

/*
 * Channel binding for SCRAM-PLUS: tls-exporter is what the client
 * exports with RFC 9266's label, tls-server-end-point the SHA-256 of our
 * certificate (RFC 5929 §4.1: ecdsa-with-SHA256 names SHA-256).
 */
static void
test_channel_binding_tls13(void **state)
{
	struct fixture	*f = *state;
	struct pair	 p;
	unsigned char	 cb[64], want[64];
	unsigned int	 n;
	X509		*x;

	pair_open(f, &p, HOST, true);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_string_equal(tls_version(p.s), "TLSv1.3");
	assert_int_equal(tls_channel_binding(p.s, TLS_CB_EXPORTER, cb,
	    sizeof(cb)), 32);
	assert_int_equal(SSL_export_keying_material(p.c, want, 32,
	    "EXPORTER-Channel-Binding", 24, NULL, 0, 0), 1);
	assert_memory_equal(cb, want, 32);
	/* too small a buffer is refused, not cut */
	assert_int_equal(tls_channel_binding(p.s, TLS_CB_EXPORTER, cb, 31),
	    -1);

	assert_int_equal(tls_channel_binding(p.s, TLS_CB_SERVER_END_POINT, cb,
	    sizeof(cb)), 32);
	x = read_cert(f->cert);
	assert_int_equal(X509_digest(x, EVP_sha256(), want, &n), 1);
	assert_int_equal(n, 32);
	assert_memory_equal(cb, want, 32);
	X509_free(x);
	pair_close(&p);
}

/* RFC 9266 §3: on TLS 1.2 only with the extended master secret. */
static void
test_channel_binding_tls12_needs_ems(void **state)
{
	struct fixture	*f = *state;
	struct pair	 p;
	unsigned char	 cb[64], want[64];

	pair_open(f, &p, HOST, true);
	assert_int_equal(SSL_set_max_proto_version(p.c, TLS1_2_VERSION), 1);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_int_equal(SSL_get_extms_support(p.s), 1);
	assert_int_equal(tls_channel_binding(p.s, TLS_CB_EXPORTER, cb,
	    sizeof(cb)), 32);
	assert_int_equal(SSL_export_keying_material(p.c, want, 32,
	    "EXPORTER-Channel-Binding", 24, NULL, 0, 0), 1);
	assert_memory_equal(cb, want, 32);
	pair_close(&p);

	pair_open(f, &p, HOST, true);
	assert_int_equal(SSL_set_max_proto_version(p.c, TLS1_2_VERSION), 1);
	SSL_set_options(p.c, SSL_OP_NO_EXTENDED_MASTER_SECRET);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_int_equal(SSL_get_extms_support(p.s), 0);
	assert_int_equal(tls_channel_binding(p.s, TLS_CB_EXPORTER, cb,
	    sizeof(cb)), -1);
	/* the certificate's hash does not depend on the session */
	assert_int_equal(tls_channel_binding(p.s, TLS_CB_SERVER_END_POINT, cb,
	    sizeof(cb)), 32);
	pair_close(&p);
}

static void
count_free(void *arg)
{
	(*(int *)arg)++;
}

/* tls_ssl_on_free(): once per SSL, called when it is freed, not before. */
static void
test_ssl_on_free(void **state)
{
	struct fixture	*f = *state;
	struct pair	 p;
	int		 freed = 0, other = 0;

	pair_open(f, &p, "localhost", true);
	assert_int_equal(tls_ssl_on_free(p.s, count_free, &freed), 0);
	assert_int_equal(tls_ssl_on_free(p.s, count_free, &other), -1);
	assert_int_equal(handshake(p.c, p.s), 0);
	assert_int_equal(freed, 0);
	pair_close(&p);
	assert_int_equal(freed, 1);
	assert_int_equal(other, 0);
}

#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_selfsigned_file_modes),
		T(test_selfsigned_no_temporaries_left),
		T(test_selfsigned_san_is_hostname),
		T(test_selfsigned_subject_cn),
		T(test_selfsigned_is_v3_end_entity),
		T(test_selfsigned_signature_and_key),
		T(test_selfsigned_validity_ten_years),
		T(test_selfsigned_serial_random),
		T(test_selfsigned_replaces_pair),
		T(test_selfsigned_invalid_hostname_refused),
		T(test_selfsigned_long_hostname),
		T(test_selfsigned_unwritable_refused),
		T(test_server_new_loads_pair),
		T(test_server_new_mismatch_refused),
		T(test_server_new_missing_cert_refused),
		T(test_server_new_missing_key_refused),
		T(test_server_new_garbage_refused),
		T(test_server_options),
		T(test_server_ciphers_forward_secret),
		T(test_server_mx_ciphers_add_cbc),
		T(test_handshake_cbc_only_on_mx_list),
		T(test_handshake_configured_lists),
		T(test_handshake_dhe_when_configured),
		T(test_ciphers_check),
		T(test_handshake_verified),
		T(test_handshake_tls12_aead),
		T(test_channel_binding_tls13),
		T(test_channel_binding_tls12_needs_ems),
		T(test_handshake_server_order_wins),
		T(test_handshake_wrong_name_not_verified),
		T(test_handshake_untrusted_not_verified),
		T(test_handshake_tls11_refused),
		T(test_client_sni_not_for_literals),
		T(test_client_min_version),
		T(test_client_load_ca_missing_refused),
		T(test_remote_key_ec),
		T(test_remote_key_rsa),
		T(test_key_op_refuses_what_tls_never_asks),
		T(test_key_new_pem),
		T(test_pem_read_bounds),
		T(test_ctx_replace_for_new_connections),
		T(test_ssl_on_free),
		cmocka_unit_test(test_errstr_drains_queue),
		cmocka_unit_test(test_ctx_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
