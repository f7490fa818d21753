/*
 * sasl: strict base64, the PLAIN message and SCRAM-SHA-256(-PLUS), shared
 * by the protocol state machines of the server roles.  Everything the
 * parsers see is peer input; the SCRAM key functions run in lookup.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "log.h"
#include "mailaddr.h"
#include "sasl.h"
#include "util.h"

static const char sasl_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
sasl_b64_value(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(sasl_b64, c)) == NULL)
		return -1;
	return (int)(p - sasl_b64);
}

int
sasl_b64_decode(struct span in, unsigned char *out, size_t *outlen)
{
	size_t		i, o = 0, pad = 0;
	int		v[4], k;
	uint32_t	q;

	if (in.len % 4 != 0)
		return -1;
	for (i = 0; i < in.len; i += 4) {
		for (k = 0; k < 4; k++) {
			if (in.ptr[i + k] == '=' && i + 4 == in.len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 ||
			    (v[k] = sasl_b64_value(in.ptr[i + k])) < 0)
				return -1;
		}
		q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if ((pad == 1 && (q & 0xff) != 0) ||
		    (pad == 2 && (q & 0xffff) != 0))
			return -1;
		out[o++] = (unsigned char)(q >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(q >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)q;
	}
	*outlen = o;
	return 0;
}

size_t
sasl_b64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t		i, o = 0;
	uint32_t	v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = sasl_b64[v >> 18 & 63];
		out[o++] = sasl_b64[v >> 12 & 63];
		out[o++] = sasl_b64[v >> 6 & 63];
		out[o++] = sasl_b64[v & 63];
	}
	if (len - i > 0) {
		v = (uint32_t)in[i] << 16;
		if (len - i == 2)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = sasl_b64[v >> 18 & 63];
		out[o++] = sasl_b64[v >> 12 & 63];
		out[o++] = len - i == 2 ? sasl_b64[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

bool
sasl_user_valid(struct span u)
{
	size_t	i;

	/* SASL names are UTF-8 (RFC 4616 §2). */
	if (u.len == 0 || u.len > SASL_FIELD_MAX ||
	    !mailaddr_utf8_valid(u.ptr, u.len))
		return false;
	for (i = 0; i < u.len; i++)
		if ((unsigned char)u.ptr[i] < 0x20 || u.ptr[i] == 0x7f)
			return false;
	return true;
}

bool
sasl_pass_valid(struct span p)
{
	return p.len > 0 && p.len <= SASL_FIELD_MAX &&
	    memchr(p.ptr, '\0', p.len) == NULL;
}

enum sasl_plain
sasl_plain_parse(const char *p, size_t len, struct span *user_out,
    struct span *pass_out)
{
	const char	*nul1, *nul2;
	struct span	 authz;

	if ((nul1 = memchr(p, '\0', len)) == NULL ||
	    (nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 - p) - 1)) ==
	    NULL)
		return SASL_PLAIN_MALFORMED;
	authz = span_make(p, (size_t)(nul1 - p));
	*user_out = span_make(nul1 + 1, (size_t)(nul2 - nul1 - 1));
	*pass_out = span_make(nul2 + 1, len - (size_t)(nul2 - p) - 1);
	if (!sasl_user_valid(*user_out) || !sasl_pass_valid(*pass_out))
		return SASL_PLAIN_MALFORMED;
	if (authz.len > 0 && (authz.len != user_out->len ||
	    memcmp(authz.ptr, user_out->ptr, user_out->len) != 0))
		return SASL_PLAIN_AUTHZID;
	return SASL_PLAIN_OK;
}

/* --- SCRAM-SHA-256 (RFC 5802, RFC 7677) --- */

/* The longest GS2 header: "p=" cb-name "," "a=" escaped authzid ",". */
#define SASL_SCRAM_GS2_MAX	(2 + 32 + 1 + 2 + 3 * SASL_FIELD_MAX + 1)
#define SASL_SCRAM_CBNAME_MAX	32

enum sasl_scram_step {
	SASL_SCRAM_STEP_START,		/* waiting for client-first */
	SASL_SCRAM_STEP_FIRST,		/* client-first taken */
	SASL_SCRAM_STEP_SERVER_FIRST,	/* server-first made */
	SASL_SCRAM_STEP_FINAL,		/* client-final taken */
};

struct sasl_scram {
	enum sasl_scram_step	 step;
	bool			 plus;
	bool			 cb_offered;
	enum sasl_cb		 cb;
	bool			 cb_set;
	unsigned char		 cb_data[SASL_CB_DATA_MAX];
	size_t			 cb_len;
	char			 user[SASL_FIELD_MAX + 1];
	struct buf		 gs2;	/* GS2 header, ',' included */
	struct buf		 bare;	/* client-first-message-bare */
	size_t			 cnonce_off;	/* nonce in bare */
	size_t			 cnonce_len;
	struct buf		 server_first;
	size_t			 nonce_len;	/* after "r=" in it */
	struct buf		 auth_message;
	unsigned char		 proof[SASL_SCRAM_HASH_LEN];
	char			 server_final[2 +
				    SASL_B64_LEN(SASL_SCRAM_HASH_LEN) + 1];
};

static const struct {
	enum sasl_cb	 type;
	const char	*name;
} sasl_cb_names[] = {
	{ SASL_CB_TLS_EXPORTER, "tls-exporter" },
	{ SASL_CB_TLS_SERVER_END_POINT, "tls-server-end-point" },
};

size_t
sasl_challenge_line(const char *prefix, struct span msg, char *out)
{
	size_t	n;

	n = strnlen(prefix, 8);
	if (n > 7 || msg.len > SASL_SCRAM_MSG_MAX)
		fatalx("sasl: challenge too long");
	memcpy(out, prefix, n);
	n += sasl_b64_encode((const unsigned char *)msg.ptr, msg.len, out + n);
	out[n++] = '\r';
	out[n++] = '\n';
	return n;
}

const char *
sasl_cb_name(enum sasl_cb cb)
{
	size_t	i;

	for (i = 0; i < sizeof(sasl_cb_names) / sizeof(sasl_cb_names[0]); i++)
		if (sasl_cb_names[i].type == cb)
			return sasl_cb_names[i].name;
	return "";
}

struct sasl_scram *
sasl_scram_new(bool plus, bool cb_offered)
{
	struct sasl_scram	*sc;

	sc = xcalloc(1, sizeof(*sc));
	sc->plus = plus;
	sc->cb_offered = cb_offered;
	buf_init(&sc->gs2, SASL_SCRAM_GS2_MAX);
	buf_init(&sc->bare, SASL_SCRAM_MSG_MAX);
	buf_init(&sc->server_first, SASL_SCRAM_MSG_MAX);
	buf_init(&sc->auth_message, SASL_SCRAM_AUTHMSG_MAX);
	return sc;
}

static void
sasl_buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_free(b);
}

void
sasl_scram_free(struct sasl_scram *sc)
{
	if (sc == NULL)
		return;
	sasl_buf_wipe(&sc->gs2);
	sasl_buf_wipe(&sc->bare);
	sasl_buf_wipe(&sc->server_first);
	sasl_buf_wipe(&sc->auth_message);
	explicit_bzero(sc, sizeof(*sc));
	free(sc);
}

/*
 * Take the next field off *rest, up to a ',' or the end (RFC 5802 §7:
 * attributes are separated by commas, and no value holds one).  rest's
 * ptr is NULL once the last field was taken; false then.
 */
static bool
scram_field(struct span *rest, struct span *f)
{
	const char	*c;

	if (rest->ptr == NULL)
		return false;
	if ((c = memchr(rest->ptr, ',', rest->len)) == NULL) {
		*f = *rest;
		*rest = span_make(NULL, 0);
		return true;
	}
	*f = span_make(rest->ptr, (size_t)(c - rest->ptr));
	*rest = span_make(c + 1, rest->len - f->len - 1);
	return true;
}

/* f is "name=value": the value into *val. */
static bool
scram_attr(struct span f, char name, struct span *val)
{
	if (f.len < 2 || f.ptr[0] != name || f.ptr[1] != '=')
		return false;
	*val = span_make(f.ptr + 2, f.len - 2);
	return true;
}

/* attr-val: ALPHA "=" 1*value-char (UTF-8 but NUL and ','), §7. */
static bool
scram_ext_valid(struct span f)
{
	char	c;

	if (f.len < 3 || f.ptr[1] != '=')
		return false;
	c = f.ptr[0];
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		return false;
	return mailaddr_utf8_valid(f.ptr + 2, f.len - 2);
}

/*
 * saslname (§5.1): ',' and '=' come as "=2C" and "=3D", and '=' may
 * start nothing else.  Into out (NUL-terminated, at most outsz - 1).
 */
static int
scram_unescape(struct span in, char *out, size_t outsz, size_t *len_out)
{
	size_t	i, o = 0;
	char	c;

	for (i = 0; i < in.len; i++) {
		c = in.ptr[i];
		if (c == '=') {
			if (in.len - i < 3)
				return -1;
			if (in.ptr[i + 1] == '2' && in.ptr[i + 2] == 'C')
				c = ',';
			else if (in.ptr[i + 1] == '3' && in.ptr[i + 2] == 'D')
				c = '=';
			else
				return -1;
			i += 2;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	*len_out = o;
	return 0;
}

/* A nonce: printable ASCII but ',' (§7). */
static bool
scram_nonce_valid(struct span n, size_t max)
{
	size_t	i;

	if (n.len == 0 || n.len > max)
		return false;
	for (i = 0; i < n.len; i++)
		if (n.ptr[i] < 0x21 || n.ptr[i] > 0x7e || n.ptr[i] == ',')
			return false;
	return true;
}

/* cb-name = 1*(ALPHA / DIGIT / "." / "-"), RFC 5056 §7 via §7 here. */
static bool
scram_cbname_valid(struct span n)
{
	size_t	i;
	char	c;

	if (n.len == 0 || n.len > SASL_SCRAM_CBNAME_MAX)
		return false;
	for (i = 0; i < n.len; i++) {
		c = n.ptr[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static enum sasl_scram_rc
scram_fail(enum sasl_scram_rc rc, const char *why, const char **why_out)
{
	if (why_out != NULL)
		*why_out = why;
	return rc;
}

enum sasl_scram_rc
sasl_scram_client_first(struct sasl_scram *sc, const char *p, size_t len,
    const char **why_out)
{
	struct span	 rest, f, v, bare;
	char		 authz[SASL_FIELD_MAX + 1];
	size_t		 authzlen = 0, ulen, i;
	char		 flag;
	bool		 cb_known = true;

	if (sc->step != SASL_SCRAM_STEP_START)
		fatalx("sasl: client-first out of turn");
	if (len == 0 || len > SASL_SCRAM_MSG_MAX)
		return scram_fail(SASL_SCRAM_MALFORMED, "bad length", why_out);
	if (memchr(p, '\0', len) != NULL)
		return scram_fail(SASL_SCRAM_MALFORMED, "NUL", why_out);
	rest = span_make(p, len);

	/* gs2-cbind-flag: "n", "y" or "p=" cb-name (§7) */
	if (!scram_field(&rest, &f))
		return scram_fail(SASL_SCRAM_MALFORMED, "empty", why_out);
	if (span_eq(f, "n") || span_eq(f, "y"))
		flag = f.ptr[0];
	else if (scram_attr(f, 'p', &v) && scram_cbname_valid(v)) {
		flag = 'p';
		sc->cb = SASL_CB_NONE;
		for (i = 0; i < sizeof(sasl_cb_names) /
		    sizeof(sasl_cb_names[0]); i++)
			if (span_eq(v, sasl_cb_names[i].name))
				sc->cb = sasl_cb_names[i].type;
		cb_known = sc->cb != SASL_CB_NONE;
	} else
		return scram_fail(SASL_SCRAM_MALFORMED, "bad GS2 header",
		    why_out);

	/* [ "a=" saslname ] "," */
	if (!scram_field(&rest, &f) || rest.ptr == NULL)
		return scram_fail(SASL_SCRAM_MALFORMED, "bad GS2 header",
		    why_out);
	if (f.len > 0 && (!scram_attr(f, 'a', &v) ||
	    scram_unescape(v, authz, sizeof(authz), &authzlen) == -1 ||
	    !sasl_user_valid(span_make(authz, authzlen))))
		return scram_fail(SASL_SCRAM_MALFORMED, "bad authzid",
		    why_out);
	bare = rest;
	if (buf_append(&sc->gs2, p, (size_t)(bare.ptr - p)) == -1)
		return scram_fail(SASL_SCRAM_MALFORMED, "bad GS2 header",
		    why_out);

	/* [reserved-mext ","] username "," nonce ["," extensions] (§7) */
	if (!scram_field(&rest, &f))
		return scram_fail(SASL_SCRAM_MALFORMED, "no user", why_out);
	if (scram_attr(f, 'm', &v))
		/* §5.1: a mandatory extension we do not know fails. */
		return scram_fail(SASL_SCRAM_REFUSED,
		    "extensions not supported", why_out);
	if (!scram_attr(f, 'n', &v) ||
	    scram_unescape(v, sc->user, sizeof(sc->user), &ulen) == -1 ||
	    !sasl_user_valid(span_make(sc->user, ulen)))
		return scram_fail(SASL_SCRAM_MALFORMED, "bad user name",
		    why_out);
	if (!scram_field(&rest, &f) || !scram_attr(f, 'r', &v) ||
	    !scram_nonce_valid(v, SASL_SCRAM_NONCE_MAX))
		return scram_fail(SASL_SCRAM_MALFORMED, "bad nonce", why_out);
	sc->cnonce_off = (size_t)(v.ptr - bare.ptr);
	sc->cnonce_len = v.len;
	/* §5.1: other extensions "MUST be ignored" when not understood. */
	while (scram_field(&rest, &f))
		if (!scram_ext_valid(f))
			return scram_fail(SASL_SCRAM_MALFORMED,
			    "bad extension", why_out);
	if (buf_append(&sc->bare, bare.ptr, bare.len) == -1)
		return scram_fail(SASL_SCRAM_MALFORMED, "too long", why_out);

	/* §6: the flag must fit the mechanism and what we offered. */
	if (sc->plus && flag != 'p')
		return scram_fail(SASL_SCRAM_REFUSED,
		    "SCRAM-SHA-256-PLUS needs channel binding", why_out);
	if (!sc->plus && flag == 'p')
		return scram_fail(SASL_SCRAM_REFUSED,
		    "channel binding needs SCRAM-SHA-256-PLUS", why_out);
	if (flag == 'y' && sc->cb_offered)
		/* The client could bind, and we offered: a downgrade. */
		return scram_fail(SASL_SCRAM_REFUSED,
		    "channel binding was offered", why_out);
	if (!cb_known)
		return scram_fail(SASL_SCRAM_REFUSED,
		    "unsupported channel binding type", why_out);
	/* We act for nobody else (as for PLAIN). */
	if (authzlen > 0 && (authzlen != ulen ||
	    memcmp(authz, sc->user, ulen) != 0))
		return scram_fail(SASL_SCRAM_REFUSED,
		    "authorization identity not allowed", why_out);
	sc->step = SASL_SCRAM_STEP_FIRST;
	return SASL_SCRAM_OK;
}

bool
sasl_cb_available(sasl_cbind_fn cbind, void *arg)
{
	unsigned char	cb[SASL_CB_DATA_MAX];

	return cbind != NULL &&
	    (cbind(arg, SASL_CB_TLS_EXPORTER, cb, sizeof(cb)) > 0 ||
	    cbind(arg, SASL_CB_TLS_SERVER_END_POINT, cb, sizeof(cb)) > 0);
}

enum sasl_scram_rc
sasl_scram_start(struct sasl_scram *sc, const char *p, size_t len,
    sasl_cbind_fn cbind, void *arg, const char **why_out)
{
	unsigned char		cb[SASL_CB_DATA_MAX];
	enum sasl_scram_rc	rc;
	ssize_t			n;

	if ((rc = sasl_scram_client_first(sc, p, len, why_out)) !=
	    SASL_SCRAM_OK || sc->cb == SASL_CB_NONE)
		return rc;
	n = cbind != NULL ? cbind(arg, sc->cb, cb, sizeof(cb)) : -1;
	if (n <= 0 || (size_t)n > sizeof(cb))
		return scram_fail(SASL_SCRAM_REFUSED,
		    "channel binding type not available", why_out);
	sasl_scram_set_cb_data(sc, cb, (size_t)n);
	return SASL_SCRAM_OK;
}

const char *
sasl_scram_user(const struct sasl_scram *sc)
{
	return sc->user;
}

enum sasl_cb
sasl_scram_cb(const struct sasl_scram *sc)
{
	return sc->cb;
}

void
sasl_scram_set_cb_data(struct sasl_scram *sc, const unsigned char *data,
    size_t len)
{
	if (len == 0 || len > sizeof(sc->cb_data))
		fatalx("sasl: channel binding data of %zu octets", len);
	memcpy(sc->cb_data, data, len);
	sc->cb_len = len;
	sc->cb_set = true;
}

int
sasl_scram_server_first(struct sasl_scram *sc,
    const struct sasl_scram_challenge *ch, struct span *out)
{
	char	b64[SASL_B64_LEN(SASL_SCRAM_SALT_MAX) + 1];
	size_t	snlen;
	int	rc = 0;

	if (sc->step != SASL_SCRAM_STEP_FIRST ||
	    (sc->cb != SASL_CB_NONE && !sc->cb_set))
		fatalx("sasl: server-first out of turn");
	snlen = strnlen(ch->snonce, sizeof(ch->snonce));
	if (ch->saltlen < 1 || ch->saltlen > SASL_SCRAM_SALT_MAX ||
	    ch->iterations < 1 || ch->iterations > SASL_SCRAM_ITER_MAX ||
	    !scram_nonce_valid(span_make(ch->snonce, snlen),
	    SASL_SCRAM_SNONCE_MAX))
		return -1;
	(void)sasl_b64_encode(ch->salt, ch->saltlen, b64);
	/* "r=" c-nonce s-nonce ",s=" salt ",i=" iteration-count (§7) */
	rc |= buf_append_str(&sc->server_first, "r=");
	rc |= buf_append(&sc->server_first, sc->bare.data + sc->cnonce_off,
	    sc->cnonce_len);
	rc |= buf_append(&sc->server_first, ch->snonce, snlen);
	rc |= buf_printf(&sc->server_first, ",s=%s,i=%u", b64,
	    (unsigned)ch->iterations);
	if (rc != 0)
		fatalx("sasl: server-first too long");
	sc->nonce_len = sc->cnonce_len + snlen;
	sc->step = SASL_SCRAM_STEP_SERVER_FIRST;
	*out = span_make(sc->server_first.data, sc->server_first.len);
	return 0;
}

enum sasl_scram_rc
sasl_scram_client_final(struct sasl_scram *sc, const char *p, size_t len,
    const char **why_out)
{
	unsigned char	 cbind[SASL_SCRAM_MSG_MAX];
	unsigned char	 proof[SASL_SCRAM_MSG_MAX];
	struct span	 rest, f, c, r, pv = { NULL, 0 };
	size_t		 cblen, prooflen = 0;
	int		 rc = 0;

	if (sc->step != SASL_SCRAM_STEP_SERVER_FIRST)
		fatalx("sasl: client-final out of turn");
	if (len == 0 || len > SASL_SCRAM_MSG_MAX)
		return scram_fail(SASL_SCRAM_MALFORMED, "bad length", why_out);
	if (memchr(p, '\0', len) != NULL)
		return scram_fail(SASL_SCRAM_MALFORMED, "NUL", why_out);
	rest = span_make(p, len);
	/* "c=" base64 "," "r=" nonce ["," extensions] "," "p=" base64 */
	if (!scram_field(&rest, &f) || !scram_attr(f, 'c', &c) ||
	    c.len > SASL_B64_LEN(sizeof(cbind)) ||
	    sasl_b64_decode(c, cbind, &cblen) == -1)
		return scram_fail(SASL_SCRAM_MALFORMED, "bad channel binding",
		    why_out);
	if (!scram_field(&rest, &f) || !scram_attr(f, 'r', &r) ||
	    !scram_nonce_valid(r, SASL_SCRAM_NONCE_MAX +
	    SASL_SCRAM_SNONCE_MAX))
		return scram_fail(SASL_SCRAM_MALFORMED, "bad nonce", why_out);
	while (scram_field(&rest, &f)) {
		if (scram_attr(f, 'p', &pv))
			break;
		if (!scram_ext_valid(f))
			return scram_fail(SASL_SCRAM_MALFORMED,
			    "bad extension", why_out);
	}
	/* The proof is last (§7) and is one SHA-256 output. */
	if (pv.ptr == NULL || rest.ptr != NULL ||
	    pv.len != SASL_B64_LEN(SASL_SCRAM_HASH_LEN) ||
	    sasl_b64_decode(pv, proof, &prooflen) == -1 ||
	    prooflen != SASL_SCRAM_HASH_LEN)
		return scram_fail(SASL_SCRAM_MALFORMED, "bad proof", why_out);

	/* §6: c= is the GS2 header and, with "p=", the binding data. */
	if (cblen != sc->gs2.len + sc->cb_len ||
	    memcmp(cbind, sc->gs2.data, sc->gs2.len) != 0 ||
	    (sc->cb_len > 0 && memcmp(cbind + sc->gs2.len, sc->cb_data,
	    sc->cb_len) != 0))
		return scram_fail(SASL_SCRAM_REFUSED,
		    "channel binding mismatch", why_out);
	if (r.len != sc->nonce_len ||
	    memcmp(r.ptr, sc->server_first.data + 2, r.len) != 0)
		return scram_fail(SASL_SCRAM_REFUSED, "nonce mismatch",
		    why_out);
	memcpy(sc->proof, proof, sizeof(sc->proof));
	/* AuthMessage (§3): bare "," server-first "," final-without-proof */
	rc |= buf_append(&sc->auth_message, sc->bare.data, sc->bare.len);
	rc |= buf_append_char(&sc->auth_message, ',');
	rc |= buf_append(&sc->auth_message, sc->server_first.data,
	    sc->server_first.len);
	rc |= buf_append_char(&sc->auth_message, ',');
	rc |= buf_append(&sc->auth_message, p,
	    (size_t)(pv.ptr - 3 - p));
	if (rc != 0)
		fatalx("sasl: AuthMessage too long");
	sc->step = SASL_SCRAM_STEP_FINAL;
	return SASL_SCRAM_OK;
}

struct span
sasl_scram_auth_message(const struct sasl_scram *sc)
{
	if (sc->step != SASL_SCRAM_STEP_FINAL)
		fatalx("sasl: no AuthMessage yet");
	return span_make(sc->auth_message.data, sc->auth_message.len);
}

const unsigned char *
sasl_scram_proof(const struct sasl_scram *sc)
{
	if (sc->step != SASL_SCRAM_STEP_FINAL)
		fatalx("sasl: no proof yet");
	return sc->proof;
}

struct span
sasl_scram_server_final(struct sasl_scram *sc,
    const unsigned char sig[SASL_SCRAM_HASH_LEN])
{
	size_t	n;

	if (sc->step != SASL_SCRAM_STEP_FINAL)
		fatalx("sasl: server-final out of turn");
	memcpy(sc->server_final, "v=", 2);
	n = sasl_b64_encode(sig, SASL_SCRAM_HASH_LEN, sc->server_final + 2);
	return span_make(sc->server_final, n + 2);
}

int
sasl_scram_derive(const char *password, size_t passlen,
    const unsigned char *salt, size_t saltlen, uint32_t iterations,
    unsigned char stored_key[SASL_SCRAM_HASH_LEN],
    unsigned char server_key[SASL_SCRAM_HASH_LEN])
{
	unsigned char	salted[SASL_SCRAM_HASH_LEN];
	unsigned char	client_key[SASL_SCRAM_HASH_LEN];
	unsigned int	n = 0;
	int		ret = -1;

	if (passlen > INT_MAX || saltlen == 0 || saltlen > INT_MAX ||
	    iterations == 0 || iterations > INT_MAX)
		return -1;
	/* Hi() of §2.2 is PBKDF2 with HMAC as the PRF (RFC 8018 §5.2). */
	if (PKCS5_PBKDF2_HMAC(password, (int)passlen, salt, (int)saltlen,
	    (int)iterations, EVP_sha256(), (int)sizeof(salted), salted) != 1)
		goto out;
	if (HMAC(EVP_sha256(), salted, sizeof(salted),
	    (const unsigned char *)"Client Key", 10, client_key, &n) == NULL ||
	    n != SASL_SCRAM_HASH_LEN)
		goto out;
	if (SHA256(client_key, sizeof(client_key), stored_key) == NULL)
		goto out;
	if (HMAC(EVP_sha256(), salted, sizeof(salted),
	    (const unsigned char *)"Server Key", 10, server_key, &n) == NULL ||
	    n != SASL_SCRAM_HASH_LEN)
		goto out;
	ret = 0;
out:
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(client_key, sizeof(client_key));
	return ret;
}

bool
sasl_scram_verify(const unsigned char stored_key[SASL_SCRAM_HASH_LEN],
    const unsigned char server_key[SASL_SCRAM_HASH_LEN],
    const char *auth_message, size_t len,
    const unsigned char proof[SASL_SCRAM_HASH_LEN],
    unsigned char sig_out[SASL_SCRAM_HASH_LEN])
{
	unsigned char	csig[SASL_SCRAM_HASH_LEN];
	unsigned char	client_key[SASL_SCRAM_HASH_LEN];
	unsigned char	h[SASL_SCRAM_HASH_LEN];
	unsigned int	n = 0, m = 0;
	size_t		i;
	bool		ok;

	ok = HMAC(EVP_sha256(), stored_key, SASL_SCRAM_HASH_LEN,
	    (const unsigned char *)auth_message, len, csig, &n) != NULL &&
	    n == SASL_SCRAM_HASH_LEN;
	for (i = 0; i < SASL_SCRAM_HASH_LEN; i++)
		client_key[i] = proof[i] ^ csig[i];
	ok = SHA256(client_key, sizeof(client_key), h) != NULL && ok &&
	    CRYPTO_memcmp(h, stored_key, SASL_SCRAM_HASH_LEN) == 0;
	if (HMAC(EVP_sha256(), server_key, SASL_SCRAM_HASH_LEN,
	    (const unsigned char *)auth_message, len, sig_out, &m) == NULL ||
	    m != SASL_SCRAM_HASH_LEN) {
		explicit_bzero(sig_out, SASL_SCRAM_HASH_LEN);
		ok = false;
	}
	explicit_bzero(csig, sizeof(csig));
	explicit_bzero(client_key, sizeof(client_key));
	explicit_bzero(h, sizeof(h));
	return ok;
}
