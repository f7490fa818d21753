/*
 * dkimkey: see dkimkey.h.  Runs in the lookup role: the store and the
 * record text in its loop thread, dkimkey_generate() and dkimkey_sign()
 * in its worker threads (they touch only their arguments).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "dkim.h"
#include "dkimkey.h"
#include "log.h"
#include "mime_hdr.h"
#include "sasl.h"
#include "util.h"

#define DKIMKEY_BUSY_MS		5000
#define DKIMKEY_PEM_MAX		(8 * 1024)	/* a 4096-bit PKCS#8 PEM: 3.3k */
#define DKIMKEY_TXT_CHUNK	255		/* RFC 1035 §3.3.14 */

struct dkimkey_db {
	sqlite3		*db;
};

static __thread char	dkimkey_err[256];

static const char *
dkimkey_sqlerr(sqlite3 *db, const char *what)
{
	(void)snprintf(dkimkey_err, sizeof(dkimkey_err), "%s: %s", what,
	    sqlite3_errmsg(db));
	return dkimkey_err;
}

/* --- the store --- */

struct dkimkey_db *
dkimkey_open(const char *path, const char **errstr_out)
{
	struct dkimkey_db	*kd;
	int			 fd;
	char			*msg = NULL;

	/* SQLite would make it 0644: it holds private keys. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		(void)snprintf(dkimkey_err, sizeof(dkimkey_err), "%s: %s",
		    path, strerror(errno));
		*errstr_out = dkimkey_err;
		return NULL;
	}
	close(fd);
	kd = xcalloc(1, sizeof(*kd));
	if (sqlite3_open_v2(path, &kd->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*errstr_out = kd->db != NULL ? dkimkey_sqlerr(kd->db, path) :
		    "out of memory";
		goto fail;
	}
	sqlite3_busy_timeout(kd->db, DKIMKEY_BUSY_MS);
	sqlite3_db_config(kd->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(kd->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (sqlite3_exec(kd->db, "CREATE TABLE IF NOT EXISTS dkim_keys ("
	    "domain TEXT NOT NULL, selector TEXT NOT NULL, "
	    "algorithm TEXT NOT NULL, bits INTEGER NOT NULL, "
	    "active INTEGER NOT NULL, created INTEGER NOT NULL, "
	    "private TEXT NOT NULL, PRIMARY KEY (domain, selector))",
	    NULL, NULL, &msg) != SQLITE_OK) {
		(void)snprintf(dkimkey_err, sizeof(dkimkey_err), "%s: %s",
		    path, msg != NULL ? msg : "cannot create the table");
		sqlite3_free(msg);
		*errstr_out = dkimkey_err;
		goto fail;
	}
	return kd;
fail:
	dkimkey_close(kd);
	return NULL;
}

void
dkimkey_close(struct dkimkey_db *kd)
{
	if (kd == NULL)
		return;
	sqlite3_close(kd->db);
	free(kd);
}

const char *
dkimkey_alg_name(enum dkimkey_alg alg)
{
	return alg == DKIMKEY_ED25519 ? "ed25519" : "rsa";
}

int
dkimkey_alg_parse(const char *s, enum dkimkey_alg *out)
{
	if (strcmp(s, "ed25519") == 0)
		*out = DKIMKEY_ED25519;
	else if (strcmp(s, "rsa") == 0)
		*out = DKIMKEY_RSA;
	else
		return -1;
	return 0;
}

/* The p= value of pkey: SubjectPublicKeyInfo for RSA, raw for ed25519. */
static int
dkimkey_pub(struct dkimkey *k)
{
	unsigned char	 raw[DKIMKEY_PUB_MAX / 4 * 3], *p = raw;
	size_t		 len = sizeof(raw);
	int		 n;

	if (k->alg == DKIMKEY_ED25519) {
		/* RFC 8463 §4.2: the 32 octets of the key, base64 */
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) != 1)
			return -1;
	} else {
		if ((n = i2d_PUBKEY(k->pkey, NULL)) <= 0 ||
		    (size_t)n > sizeof(raw) || i2d_PUBKEY(k->pkey, &p) != n)
			return -1;
		len = (size_t)n;
	}
	if (SASL_B64_LEN(len) + 1 > sizeof(k->pub))
		return -1;
	(void)sasl_b64_encode(raw, len, k->pub);
	return 0;
}

/* k takes pkey (freed on failure) with its size and public key record. */
static int
dkimkey_adopt(struct dkimkey *k, EVP_PKEY *pkey)
{
	k->pkey = pkey;
	k->bits = (unsigned)EVP_PKEY_get_bits(pkey);
	if (dkimkey_pub(k) == -1) {
		EVP_PKEY_free(pkey);
		k->pkey = NULL;
		return -1;
	}
	return 0;
}

/* Parse a stored private key into k (alg set); -1 when it does not fit. */
static int
dkimkey_parse_private(struct dkimkey *k, const char *pem, size_t len)
{
	BIO		*bio;
	EVP_PKEY	*pkey;
	int		 want;

	if (len > DKIMKEY_PEM_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return -1;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		return -1;
	want = k->alg == DKIMKEY_ED25519 ? EVP_PKEY_ED25519 : EVP_PKEY_RSA;
	if (EVP_PKEY_get_base_id(pkey) != want) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	return dkimkey_adopt(k, pkey);
}

ssize_t
dkimkey_load(struct dkimkey_db *kd, struct dkimkey *keys, size_t max,
    const char **errstr_out)
{
	sqlite3_stmt	*st = NULL;
	struct dkimkey	*k;
	const char	*dom, *sel, *alg, *pem;
	size_t		 n = 0;
	int		 rc;

	if (sqlite3_prepare_v2(kd->db, "SELECT domain, selector, algorithm, "
	    "active, created, private FROM dkim_keys ORDER BY created, rowid",
	    -1, &st, NULL) != SQLITE_OK) {
		*errstr_out = dkimkey_sqlerr(kd->db, "load");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		k = &keys[n];
		memset(k, 0, sizeof(*k));
		dom = (const char *)sqlite3_column_text(st, 0);
		sel = (const char *)sqlite3_column_text(st, 1);
		alg = (const char *)sqlite3_column_text(st, 2);
		pem = (const char *)sqlite3_column_text(st, 5);
		if (dom == NULL || sel == NULL || alg == NULL || pem == NULL ||
		    str_copy(k->domain, sizeof(k->domain), dom) == -1 ||
		    str_copy(k->selector, sizeof(k->selector), sel) == -1 ||
		    dkimkey_alg_parse(alg, &k->alg) == -1) {
			log_warnx("dkim: a key row of %s does not parse",
			    DKIMKEY_DB);
			continue;
		}
		k->active = sqlite3_column_int(st, 3) != 0;
		k->created = sqlite3_column_int64(st, 4);
		if (dkimkey_parse_private(k, pem,
		    (size_t)sqlite3_column_bytes(st, 5)) == -1)
			log_warnx("dkim: key %s of %s does not load: it "
			    "does not sign", k->selector, k->domain);
		n++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*errstr_out = dkimkey_sqlerr(kd->db, "load");
		sqlite3_finalize(st);
		dkimkey_release(keys, n);
		return -1;
	}
	if (rc == SQLITE_ROW)
		log_warnx("dkim: more than %zu keys: the later ones are "
		    "not used", max);
	sqlite3_finalize(st);
	return (ssize_t)n;
}

void
dkimkey_release(struct dkimkey *keys, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		EVP_PKEY_free(keys[i].pkey);
		keys[i].pkey = NULL;
	}
}

int
dkimkey_add(struct dkimkey_db *kd, const struct dkimkey *k,
    const char **errstr_out)
{
	sqlite3_stmt	*st = NULL;
	BIO		*bio;
	char		*pem;
	long		 len;
	int		 rc;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || (len = BIO_get_mem_data(bio, &pem)) <= 0) {
		BIO_free(bio);
		*errstr_out = "cannot write the key";
		return -1;
	}
	if (sqlite3_prepare_v2(kd->db, "INSERT INTO dkim_keys (domain, "
	    "selector, algorithm, bits, active, created, private) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
		*errstr_out = dkimkey_sqlerr(kd->db, "add");
		goto done;
	}
	sqlite3_bind_text(st, 1, k->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->selector, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, dkimkey_alg_name(k->alg), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)k->bits);
	sqlite3_bind_int(st, 5, k->active ? 1 : 0);
	sqlite3_bind_int64(st, 6, k->created);
	sqlite3_bind_text(st, 7, pem, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT ||
	    sqlite3_extended_errcode(kd->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
		*errstr_out = "that selector exists for the domain";
		rc = -1;
	} else if (rc != SQLITE_DONE) {
		*errstr_out = dkimkey_sqlerr(kd->db, "add");
		rc = -1;
	} else
		rc = 0;
	sqlite3_finalize(st);
	/* The PEM was the private key in the clear. */
	explicit_bzero(pem, (size_t)len);
	BIO_free(bio);
	return rc;
done:
	explicit_bzero(pem, (size_t)len);
	BIO_free(bio);
	return -1;
}

int
dkimkey_set_active(struct dkimkey_db *kd, const char *domain,
    const char *selector, bool active, const char **errstr_out)
{
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if (sqlite3_prepare_v2(kd->db, "UPDATE dkim_keys SET active = ? "
	    "WHERE domain = ? AND selector = ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		*errstr_out = dkimkey_sqlerr(kd->db, "update");
		return -1;
	}
	sqlite3_bind_int(st, 1, active ? 1 : 0);
	sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, selector, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*errstr_out = dkimkey_sqlerr(kd->db, "update");
		return -1;
	}
	if (sqlite3_changes(kd->db) == 0) {
		*errstr_out = "no such key";
		return -1;
	}
	return 0;
}

/* --- making keys --- */

int
dkimkey_generate(struct dkimkey *k, const char **errstr_out)
{
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pkey = NULL;

	if (k->alg == DKIMKEY_RSA &&
	    (k->bits < DKIMKEY_RSA_MIN || k->bits > DKIMKEY_RSA_MAX)) {
		*errstr_out = "RSA keys have 1024 to 4096 bits";
		return -1;
	}
	ctx = EVP_PKEY_CTX_new_id(k->alg == DKIMKEY_ED25519 ?
	    EVP_PKEY_ED25519 : EVP_PKEY_RSA, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    (k->alg == DKIMKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)k->bits) != 1) ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1) {
		EVP_PKEY_CTX_free(ctx);
		*errstr_out = "key generation failed";
		return -1;
	}
	EVP_PKEY_CTX_free(ctx);
	if (dkimkey_adopt(k, pkey) == -1) {
		*errstr_out = "cannot write the public key";
		return -1;
	}
	return 0;
}

int
dkimkey_selector(enum dkimkey_alg alg, int year,
    bool (*taken)(const char *, void *), void *arg, char *out,
    size_t outsz)
{
	int	c;

	for (c = 'a'; c <= 'z'; c++) {
		if (snprintf(out, outsz, "c%04d%c-%s", year, (char)c,
		    alg == DKIMKEY_ED25519 ? "ed" : "rsa") >= (int)outsz)
			return -1;
		if (!taken(out, arg))
			return 0;
	}
	return -1;
}

int
dkimkey_record(const struct dkimkey *k, char *out, size_t outsz)
{
	int	l;

	l = snprintf(out, outsz, "v=DKIM1; k=%s; p=%s",
	    dkimkey_alg_name(k->alg), k->pub);
	return l < 0 || (size_t)l >= outsz ? -1 : 0;
}

int
dkimkey_txt(const struct dkimkey *k, struct buf *out)
{
	char	 text[DKIMKEY_PUB_MAX + 64];
	size_t	 len, off, n;

	if (dkimkey_record(k, text, sizeof(text)) == -1)
		return -1;
	len = strlen(text);
	if (buf_printf(out, "%s._domainkey.%s. IN "
	    "TXT (", k->selector, k->domain) == -1)
		return -1;
	for (off = 0; off < len; off += n) {
		n = len - off < DKIMKEY_TXT_CHUNK ? len - off :
		    DKIMKEY_TXT_CHUNK;
		if (buf_printf(out, " \"%.*s\"", (int)n, text + off) == -1)
			return -1;
	}
	return buf_append_str(out, " )");
}

/* --- signing --- */

/*
 * RFC 6376 §5.4.1: the fields that SHOULD be signed when present (From
 * is required), and those that carry the message's meaning besides
 * (its id, MIME structure), as large signers do.
 */
static const char *const dkimkey_fields[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Resent-Date",
	"Resent-From", "Resent-To", "Resent-Cc", "In-Reply-To", "References",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Subscribe",
	"List-Post", "List-Owner", "List-Archive", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
};
#define DKIMKEY_NFIELDS	(sizeof(dkimkey_fields) / sizeof(dkimkey_fields[0]))

static size_t
dkimkey_count(struct span hdrs, const char *name)
{
	struct span	field, fname;
	size_t		pos = 0, n = 0;

	while (dkim_header_next(hdrs, &pos, &field, &fname) == 1)
		if (span_caseeq(fname, name))
			n++;
	return n;
}

int
dkimkey_sign(const struct dkimkey *k, struct span hdrs,
    const unsigned char *bh, size_t bhlen, int64_t now, struct buf *out,
    const char **errstr_out)
{
	struct dkim_sign_req	 req;
	const char		*names[DKIMKEY_NFIELDS];
	size_t			 i, n = 0;

	if (k->pkey == NULL) {
		*errstr_out = "no key";
		return -1;
	}
	/*
	 * The fields present (From always, §5.4), each signed once more
	 * than it appears, so that one added later breaks the signature
	 * (§8.15); dkim_sign_field() bounds h= (DKIM_SIG_H_MAX names).
	 */
	for (i = 0; i < DKIMKEY_NFIELDS; i++)
		if (i == 0 || dkimkey_count(hdrs, dkimkey_fields[i]) > 0)
			names[n++] = dkimkey_fields[i];
	memset(&req, 0, sizeof(req));
	req.domain = k->domain;
	req.selector = k->selector;
	req.algo = k->alg == DKIMKEY_RSA ? DKIM_ALGO_RSA_SHA256 :
	    DKIM_ALGO_ED25519_SHA256;
	req.key = k->pkey;
	req.hdrs = hdrs;
	req.names = names;
	req.nnames = n;
	req.oversign = true;
	req.bh = bh;
	req.bhlen = bhlen;
	req.t = now > 0 ? (uint64_t)now : 0;
	return dkim_sign_field(&req, out, errstr_out);
}

int
dkimkey_from_domain(struct span hdrs, char *out, size_t outsz)
{
	struct mime_addrlist	 al;
	struct span		 field, name, value = { NULL, 0 };
	size_t			 pos = 0, nfrom = 0, i;
	const char		*colon;
	int			 rc = -1;

	while (dkim_header_next(hdrs, &pos, &field, &name) == 1)
		if (span_caseeq(name, "From")) {
			nfrom++;
			colon = memchr(field.ptr, ':', field.len);
			value = span_make(colon + 1,
			    field.len - (size_t)(colon + 1 - field.ptr));
		}
	if (nfrom != 1)
		return -1;
	memset(&al, 0, sizeof(al));
	if (mime_hdr_addrs(value, &al) == -1)
		goto done;
	if (al.n != 1 || al.v[0].kind != MIME_ADDR_MAILBOX ||
	    al.v[0].bad_syntax || al.v[0].domain.len == 0 ||
	    al.v[0].domain.len >= outsz)
		goto done;
	for (i = 0; i < al.v[0].domain.len; i++)
		out[i] = (char)tolower((unsigned char)al.v[0].domain.ptr[i]);
	out[i] = '\0';
	rc = 0;
done:
	mime_addrlist_free(&al);
	return rc;
}
