/*
 * srs: SRS0/SRS1 rewriting and its reverse (srs.h has the scheme and
 * why the hash is 8 base32 characters).  Run by the lookup role, which
 * alone holds the secrets; the reverse parses recipient addresses from
 * any SMTP client, bounded by SRS_ADDR_MAX before anything is read.
 */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "srs.h"

/* RFC 4648 §6: the base32 alphabet, upper case as written. */
static const char srs_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* The bytes one hash covers: a type, then at most two addresses. */
#define SRS_HASH_INPUT_MAX	(4 + 2 * SRS_ADDR_MAX)

/* The fields of an address, spans into the caller's string. */
struct srs_fields {
	const char	*hash;		/* SRS_HASH_LEN characters */
	const char	*ts;		/* SRS0: 2 characters */
	const char	*dom;		/* SRS0: orig-domain; SRS1: first */
	size_t		 domlen;
	const char	*rest;		/* SRS0: orig-local; SRS1: "=..." */
	size_t		 restlen;
};

int64_t
srs_day(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static int
srs_b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

static bool
srs_prefix(const char *p, size_t len, char version)
{
	return len >= 5 && (p[0] == 'S' || p[0] == 's') &&
	    (p[1] == 'R' || p[1] == 'r') && (p[2] == 'S' || p[2] == 's') &&
	    p[3] == version && p[4] == '=';
}

bool
srs_is_srs(const char *addr, size_t len)
{
	return srs_prefix(addr, len, '0') || srs_prefix(addr, len, '1');
}

/* The day as the scheme writes it: 10 bits, two base32 characters. */
static void
srs_ts_make(int64_t day, char out[2])
{
	uint32_t	 d;

	d = (uint32_t)(((day % SRS_DAY_MODULO) + SRS_DAY_MODULO) %
	    SRS_DAY_MODULO);
	out[0] = srs_b32[(d >> 5) & 31];
	out[1] = srs_b32[d & 31];
}

static void
srs_lower_append(char *buf, size_t *pos, const char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		buf[(*pos)++] = (p[i] >= 'A' && p[i] <= 'Z') ?
		    (char)(p[i] - 'A' + 'a') : p[i];
}

/*
 * The hash of an address's fields under one secret: HMAC-SHA256 over the
 * version, the timestamp (SRS0), the domain and the rest, lower-cased
 * and joined by '=' (no domain holds one, so the split is unambiguous),
 * its first 40 bits in base32.
 */
static void
srs_hash(const struct srs_secret *s, char version, const char *ts,
    const struct srs_fields *f, char out[SRS_HASH_LEN])
{
	char		 in[SRS_HASH_INPUT_MAX];
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	uint64_t	 bits;
	size_t		 pos = 0, i;

	in[pos++] = version;
	in[pos++] = '=';
	if (ts != NULL) {
		srs_lower_append(in, &pos, ts, 2);
		in[pos++] = '=';
	}
	srs_lower_append(in, &pos, f->dom, f->domlen);
	in[pos++] = '=';
	srs_lower_append(in, &pos, f->rest, f->restlen);
	if (HMAC(EVP_sha256(), s->key, (int)s->len, (unsigned char *)in, pos,
	    mac, &maclen) == NULL || maclen < 5)
		memset(mac, 0, 5);	/* verifies nothing: no key is zero */
	bits = 0;
	for (i = 0; i < 5; i++)
		bits = (bits << 8) | mac[i];
	for (i = 0; i < SRS_HASH_LEN; i++)
		out[i] = srs_b32[(bits >> (35 - 5 * i)) & 31];
	explicit_bzero(in, sizeof(in));
}

/* Is the hash in the address one of these secrets', in any case? */
static bool
srs_hash_ok(const struct srs_keys *keys, char version,
    const struct srs_fields *f)
{
	char	 want[SRS_HASH_LEN], got[SRS_HASH_LEN];
	size_t	 i;
	bool	 ok = false;

	for (i = 0; i < SRS_HASH_LEN; i++)
		got[i] = (f->hash[i] >= 'a' && f->hash[i] <= 'z') ?
		    (char)(f->hash[i] - 'a' + 'A') : f->hash[i];
	/* Every secret is tried, so that the time says nothing of which. */
	for (i = 0; i < keys->n; i++) {
		srs_hash(&keys->secret[i], version, version == '0' ? f->ts :
		    NULL, f, want);
		if (CRYPTO_memcmp(want, got, SRS_HASH_LEN) == 0)
			ok = true;
	}
	return ok;
}

/* Find c in p[0..len); the offset, or len when absent. */
static size_t
srs_find(const char *p, size_t len, char c)
{
	const char	*q = memchr(p, c, len);

	return q != NULL ? (size_t)(q - p) : len;
}

/*
 * Split an SRS local part (prefix checked) into its fields:
 * SRS0: hash=TT=domain=local; SRS1: hash=domain=rest, rest not empty.
 */
static int
srs_split(const char *local, size_t len, char version, struct srs_fields *f)
{
	const char	*p = local + 5;
	size_t		 left = len - 5, n;

	memset(f, 0, sizeof(*f));
	if (left < SRS_HASH_LEN + 1 || p[SRS_HASH_LEN] != '=')
		return -1;
	f->hash = p;
	p += SRS_HASH_LEN + 1;
	left -= SRS_HASH_LEN + 1;
	if (version == '0') {
		if (left < 3 || p[2] != '=' || srs_b32_value(p[0]) < 0 ||
		    srs_b32_value(p[1]) < 0)
			return -1;
		f->ts = p;
		p += 3;
		left -= 3;
	}
	n = srs_find(p, left, '=');
	if (n == 0 || n == left || n > MAILBOX_DOMAIN_MAX)
		return -1;
	f->dom = p;
	f->domlen = n;
	f->rest = p + n + 1;
	f->restlen = left - n - 1;
	if (f->restlen == 0)
		return -1;
	return 0;
}

/* Append p[0..len) to out at *pos; false when it would not fit. */
static bool
srs_put(char *out, size_t outsz, size_t *pos, const char *p, size_t len)
{
	if (len >= outsz - *pos)
		return false;
	memcpy(out + *pos, p, len);
	*pos += len;
	out[*pos] = '\0';
	return true;
}

static int
srs_fail(enum srs_error e, enum srs_error *err_out, char *out, size_t outsz)
{
	if (outsz > 0)
		out[0] = '\0';
	*err_out = e;
	return -1;
}

int
srs_forward(const struct srs_keys *keys, const char *sender, size_t len,
    const char *domain, int64_t day, char *out, size_t outsz,
    enum srs_error *err_out)
{
	struct srs_fields	 f;
	char			 hash[SRS_HASH_LEN], ts[2], version;
	const char		*at;
	size_t			 llen, dlen, pos = 0, need;

	*err_out = SRS_OK;
	memset(&f, 0, sizeof(f));
	if (keys->n == 0 || len == 0 || len > SRS_ADDR_MAX || outsz == 0)
		return srs_fail(SRS_ESYNTAX, err_out, out, outsz);
	dlen = strnlen(domain, MAILBOX_DOMAIN_MAX + 1);
	if (dlen == 0 || dlen > MAILBOX_DOMAIN_MAX ||
	    (at = memrchr(sender, '@', len)) == NULL)
		return srs_fail(SRS_ESYNTAX, err_out, out, outsz);
	llen = (size_t)(at - sender);
	if (llen == 0 || llen + 1 == len ||
	    memchr(at + 1, '=', len - llen - 1) != NULL)
		return srs_fail(SRS_ESYNTAX, err_out, out, outsz);
	if (srs_prefix(sender, llen, '1')) {
		/* Another forwarder's SRS1: keep its first domain and rest. */
		if (srs_split(sender, llen, '1', &f) == -1)
			return srs_fail(SRS_ESYNTAX, err_out, out, outsz);
		version = '1';
	} else if (srs_prefix(sender, llen, '0')) {
		/* Its SRS0: name its domain, keep all after "SRS0". */
		f.dom = at + 1;
		f.domlen = len - llen - 1;
		f.rest = sender + 4;
		f.restlen = llen - 4;
		version = '1';
	} else {
		f.dom = at + 1;
		f.domlen = len - llen - 1;
		f.rest = sender;
		f.restlen = llen;
		version = '0';
	}
	/* "SRSn=" hash "=" [TT "="] domain "=" rest */
	need = 5 + SRS_HASH_LEN + 1 + (version == '0' ? 3 : 0) + f.domlen +
	    1 + f.restlen;
	if (need > MAILBOX_LOCAL_MAX)
		return srs_fail(SRS_ETOOLONG, err_out, out, outsz);
	srs_ts_make(day, ts);
	srs_hash(&keys->secret[0], version, version == '0' ? ts : NULL, &f,
	    hash);
	out[0] = '\0';
	if (!srs_put(out, outsz, &pos, version == '0' ? "SRS0=" : "SRS1=",
	    5) || !srs_put(out, outsz, &pos, hash, SRS_HASH_LEN) ||
	    !srs_put(out, outsz, &pos, "=", 1) ||
	    (version == '0' && (!srs_put(out, outsz, &pos, ts, 2) ||
	    !srs_put(out, outsz, &pos, "=", 1))) ||
	    !srs_put(out, outsz, &pos, f.dom, f.domlen) ||
	    !srs_put(out, outsz, &pos, "=", 1) ||
	    !srs_put(out, outsz, &pos, f.rest, f.restlen) ||
	    !srs_put(out, outsz, &pos, "@", 1) ||
	    !srs_put(out, outsz, &pos, domain, dlen))
		return srs_fail(SRS_ETOOLONG, err_out, out, outsz);
	return 0;
}

int
srs_reverse(const struct srs_keys *keys, const char *addr, size_t len,
    int64_t day, unsigned max_age, char *out, size_t outsz,
    enum srs_error *err_out)
{
	struct srs_fields	 f;
	const char		*at;
	char			 version;
	size_t			 llen, pos = 0;
	int64_t			 now, then, age;

	*err_out = SRS_OK;
	if (outsz == 0)
		return srs_fail(SRS_ESYNTAX, err_out, out, outsz);
	if (len > SRS_ADDR_MAX || (at = memrchr(addr, '@', len)) == NULL)
		return srs_fail(srs_is_srs(addr, len) ? SRS_ESYNTAX :
		    SRS_ENOTSRS, err_out, out, outsz);
	llen = (size_t)(at - addr);
	if (!srs_is_srs(addr, llen))
		return srs_fail(SRS_ENOTSRS, err_out, out, outsz);
	version = addr[3];
	if (srs_split(addr, llen, version, &f) == -1)
		return srs_fail(SRS_ESYNTAX, err_out, out, outsz);
	if (!srs_hash_ok(keys, version, &f))
		return srs_fail(SRS_EHASH, err_out, out, outsz);
	if (version == '0') {
		now = ((day % SRS_DAY_MODULO) + SRS_DAY_MODULO) %
		    SRS_DAY_MODULO;
		then = srs_b32_value(f.ts[0]) * 32 + srs_b32_value(f.ts[1]);
		/* The day wraps every 1024: a "future" day is an old one. */
		age = (now - then + SRS_DAY_MODULO) % SRS_DAY_MODULO;
		if (age > (int64_t)max_age)
			return srs_fail(SRS_EEXPIRED, err_out, out, outsz);
	}
	out[0] = '\0';
	if (version == '0') {
		if (!srs_put(out, outsz, &pos, f.rest, f.restlen) ||
		    !srs_put(out, outsz, &pos, "@", 1) ||
		    !srs_put(out, outsz, &pos, f.dom, f.domlen))
			return srs_fail(SRS_ESYNTAX, err_out, out, outsz);
	} else if (!srs_put(out, outsz, &pos, "SRS0", 4) ||
	    !srs_put(out, outsz, &pos, f.rest, f.restlen) ||
	    !srs_put(out, outsz, &pos, "@", 1) ||
	    !srs_put(out, outsz, &pos, f.dom, f.domlen))
		return srs_fail(SRS_ESYNTAX, err_out, out, outsz);
	return 0;
}

const char *
srs_strerror(enum srs_error e)
{
	switch (e) {
	case SRS_OK:
		return "ok";
	case SRS_ENOTSRS:
		return "not an SRS address";
	case SRS_ESYNTAX:
		return "malformed SRS address";
	case SRS_ETOOLONG:
		return "rewritten address too long";
	case SRS_EHASH:
		return "SRS hash does not verify";
	case SRS_EEXPIRED:
		return "SRS address expired";
	}
	return "unknown SRS error";
}
