/*
 * acme: the pure parts of the ACME client (acme.h has the contract).
 * JSON goes through jansson both ways; the few strings we keep are
 * checked for length and octets before they are copied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/sha.h>

#include "acme.h"
#include "buf.h"
#include "log.h"
#include "sasl.h"
#include "util.h"

#define ACME_URN	"urn:ietf:params:acme:error:"	/* RFC 8555 §6.7 */

static const struct {
	const char		*name;
	enum acme_status	 st;
} acme_statuses[] = {
	{ "pending", ACME_S_PENDING },
	{ "ready", ACME_S_READY },
	{ "processing", ACME_S_PROCESSING },
	{ "valid", ACME_S_VALID },
	{ "invalid", ACME_S_INVALID },
	{ "deactivated", ACME_S_DEACTIVATED },
	{ "expired", ACME_S_EXPIRED },
	{ "revoked", ACME_S_REVOKED },
};

const char *
acme_status_name(enum acme_status st)
{
	size_t	i;

	for (i = 0; i < sizeof(acme_statuses) / sizeof(acme_statuses[0]); i++)
		if (acme_statuses[i].st == st)
			return acme_statuses[i].name;
	return "unknown";
}

int
acme_b64url(const void *p, size_t len, struct buf *out)
{
	char	*tmp;
	size_t	 n, i;
	int	 rc;

	if (len > SIZE_MAX / 2)
		return -1;
	tmp = xmalloc(len / 3 * 4 + 8);
	n = sasl_b64_encode(p, len, tmp);
	/* RFC 4648 §5: "-" and "_" for "+" and "/", no padding */
	while (n > 0 && tmp[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		if (tmp[i] == '+')
			tmp[i] = '-';
		else if (tmp[i] == '/')
			tmp[i] = '_';
	}
	rc = buf_append(out, tmp, n);
	free(tmp);
	return rc;
}

bool
acme_token_ok(const char *t, size_t len)
{
	size_t	i;
	char	c;

	if (len == 0 || len > ACME_TOKEN_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

int
acme_jwk_ec(const uint8_t x[32], const uint8_t y[32], struct buf *out)
{
	/* RFC 7638 §3.2: the required members, sorted, no blanks */
	if (buf_append_str(out, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"")
	    == -1 || acme_b64url(x, 32, out) == -1 ||
	    buf_append_str(out, "\",\"y\":\"") == -1 ||
	    acme_b64url(y, 32, out) == -1 || buf_append_str(out, "\"}") == -1)
		return -1;
	return 0;
}

void
acme_thumbprint(const char *jwk, size_t len, char out[ACME_THUMB_LEN + 1])
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	struct buf	b;

	(void)SHA256((const unsigned char *)jwk, len, md);
	buf_init(&b, ACME_THUMB_LEN + 1);
	if (acme_b64url(md, sizeof(md), &b) == -1 || b.len != ACME_THUMB_LEN)
		fatalx("acme: thumbprint");
	memcpy(out, b.data, ACME_THUMB_LEN + 1);
	buf_free(&b);
}

/* Append the base64url of a JSON value's compact text. */
static int
acme_b64_json(json_t *v, struct buf *out)
{
	char	*text;
	int	 rc;

	if ((text = json_dumps(v, JSON_COMPACT)) == NULL)
		return -1;
	rc = acme_b64url(text, strlen(text), out);
	free(text);
	return rc;
}

int
acme_jws_input(const char *jwk, const char *kid, const char *nonce,
    const char *url, const char *payload, struct buf *input)
{
	json_t	*prot, *key = NULL;
	int	 rc = -1;

	buf_reset(input);
	if ((prot = json_object()) == NULL)
		return -1;
	if (jwk != NULL && (key = json_loads(jwk, 0, NULL)) == NULL)
		goto done;
	if (json_object_set_new(prot, "alg", json_string("ES256")) == -1 ||
	    (key != NULL && json_object_set(prot, "jwk", key) == -1) ||
	    (kid != NULL && json_object_set_new(prot, "kid",
	    json_string(kid)) == -1) ||
	    json_object_set_new(prot, "nonce", json_string(nonce)) == -1 ||
	    json_object_set_new(prot, "url", json_string(url)) == -1)
		goto done;
	if (acme_b64_json(prot, input) == -1 || buf_append_char(input, '.') ==
	    -1 || (payload != NULL && acme_b64url(payload, strlen(payload),
	    input) == -1))
		goto done;
	rc = 0;
done:
	json_decref(key);
	json_decref(prot);
	return rc;
}

int
acme_jws_body(const struct buf *input, const uint8_t sig[ACME_SIG_LEN],
    struct buf *body)
{
	const char	*dot;
	struct buf	 s;
	json_t		*o;
	char		*text;
	int		 rc = -1;

	buf_reset(body);
	if ((dot = memchr(input->data, '.', input->len)) == NULL)
		return -1;
	buf_init(&s, 128);
	if (acme_b64url(sig, ACME_SIG_LEN, &s) == -1) {
		buf_free(&s);
		return -1;
	}
	o = json_pack("{s:s%, s:s%, s:s%}",
	    "protected", input->data, (size_t)(dot - input->data),
	    "payload", dot + 1, input->len - (size_t)(dot - input->data) - 1,
	    "signature", s.data, s.len);
	buf_free(&s);
	if (o == NULL)
		return -1;
	if ((text = json_dumps(o, JSON_COMPACT)) != NULL) {
		rc = buf_append_str(body, text);
		free(text);
	}
	json_decref(o);
	return rc;
}

int
acme_sig_raw(const uint8_t *der, size_t len, uint8_t out[ACME_SIG_LEN])
{
	const unsigned char	*p = der;
	const BIGNUM		*r, *s;
	ECDSA_SIG		*sig;
	int			 rc = -1;

	if (len > 1024 || (sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	if (p == der + len && BN_bn2binpad(r, out, 32) == 32 &&
	    BN_bn2binpad(s, out + 32, 32) == 32)
		rc = 0;
	ECDSA_SIG_free(sig);
	return rc;
}

/* --- parsing --- */

static json_t *
acme_load(const char *json, size_t len, const char **errstr_out)
{
	json_t	*root;

	if (len > ACME_JSON_MAX) {
		*errstr_out = "response too large";
		return NULL;
	}
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL) {
		*errstr_out = "response is not JSON";
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*errstr_out = "response is not a JSON object";
		return NULL;
	}
	return root;
}

/*
 * Copy string member key of o into out[outsz]: -1 when it is missing
 * (and required), not a string, holds a NUL or a control octet, or does
 * not fit.  A missing optional member leaves out "".
 */
static int
acme_str(json_t *o, const char *key, bool required, char *out, size_t outsz)
{
	json_t		*v;
	const char	*s;
	size_t		 len, i;

	out[0] = '\0';
	if ((v = json_object_get(o, key)) == NULL)
		return required ? -1 : 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len >= outsz)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static int
acme_url(json_t *o, const char *key, bool required, char *out)
{
	if (acme_str(o, key, required, out, ACME_URL_MAX + 1) == -1)
		return -1;
	/* Every URL the server hands us is https (RFC 8555 §6.1). */
	if (out[0] != '\0' && strncmp(out, "https://", 8) != 0)
		return -1;
	return 0;
}

static enum acme_status
acme_status_of(json_t *o)
{
	json_t		*v;
	size_t		 i;

	if ((v = json_object_get(o, "status")) == NULL || !json_is_string(v))
		return ACME_S_UNKNOWN;
	for (i = 0; i < sizeof(acme_statuses) / sizeof(acme_statuses[0]); i++)
		if (strcmp(json_string_value(v), acme_statuses[i].name) == 0)
			return acme_statuses[i].st;
	return ACME_S_UNKNOWN;
}

/* An embedded error object (an order's or a challenge's) as one line. */
static void
acme_problem_obj(json_t *p, char *out, size_t outsz)
{
	const char	*type = "", *detail = "";
	char		 tb[ACME_DETAIL_MAX], db[ACME_DETAIL_MAX];
	json_t		*v;

	out[0] = '\0';
	if (!json_is_object(p))
		return;
	if ((v = json_object_get(p, "type")) != NULL && json_is_string(v))
		type = json_string_value(v);
	if (strncmp(type, ACME_URN, strlen(ACME_URN)) == 0)
		type += strlen(ACME_URN);
	if ((v = json_object_get(p, "detail")) != NULL && json_is_string(v))
		detail = json_string_value(v);
	(void)snprintf(out, outsz, "%s: %s",
	    printable(type, strnlen(type, 100), tb, sizeof(tb)),
	    printable(detail, strnlen(detail, 250), db, sizeof(db)));
}

int
acme_parse_directory(const char *json, size_t len,
    struct acme_directory *out, const char **errstr_out)
{
	json_t	*root;
	int	 rc = 0;

	memset(out, 0, sizeof(*out));
	if ((root = acme_load(json, len, errstr_out)) == NULL)
		return -1;
	/* §7.1.1: the three resources we use must be there */
	if (acme_url(root, "newNonce", true, out->new_nonce) == -1 ||
	    acme_url(root, "newAccount", true, out->new_account) == -1 ||
	    acme_url(root, "newOrder", true, out->new_order) == -1) {
		*errstr_out = "directory lacks newNonce, newAccount or "
		    "newOrder, or one is not an https URL";
		rc = -1;
	}
	json_decref(root);
	return rc;
}

int
acme_parse_order(const char *json, size_t len, struct acme_order *out,
    const char **errstr_out)
{
	json_t	*root, *a, *v;
	size_t	 i;
	int	 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = acme_load(json, len, errstr_out)) == NULL)
		return -1;
	*errstr_out = "order malformed";
	if ((out->status = acme_status_of(root)) == ACME_S_UNKNOWN ||
	    acme_url(root, "finalize", true, out->finalize) == -1 ||
	    acme_url(root, "certificate", false, out->certificate) == -1)
		goto done;
	if ((a = json_object_get(root, "authorizations")) == NULL ||
	    !json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > ACME_AUTHZ_MAX) {
		*errstr_out = "order has no authorizations, or too many";
		goto done;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || json_string_length(v) > ACME_URL_MAX ||
		    strncmp(json_string_value(v), "https://", 8) != 0 ||
		    strlen(json_string_value(v)) != json_string_length(v))
			goto done;
		memcpy(out->authz[i], json_string_value(v),
		    json_string_length(v) + 1);
	}
	out->nauthz = json_array_size(a);
	acme_problem_obj(json_object_get(root, "error"), out->error,
	    sizeof(out->error));
	rc = 0;
done:
	json_decref(root);
	return rc;
}

int
acme_parse_authz(const char *json, size_t len, struct acme_authz *out,
    const char **errstr_out)
{
	json_t		*root, *id, *ch, *c;
	char		 type[32];
	size_t		 i;
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = acme_load(json, len, errstr_out)) == NULL)
		return -1;
	*errstr_out = "authorization malformed";
	if ((out->status = acme_status_of(root)) == ACME_S_UNKNOWN ||
	    (id = json_object_get(root, "identifier")) == NULL ||
	    !json_is_object(id) ||
	    acme_str(id, "type", true, type, sizeof(type)) == -1 ||
	    strcmp(type, "dns") != 0 ||
	    acme_str(id, "value", true, out->name, sizeof(out->name)) == -1 ||
	    (ch = json_object_get(root, "challenges")) == NULL ||
	    !json_is_array(ch) || json_array_size(ch) > 16)
		goto done;
	json_array_foreach(ch, i, c) {
		if (!json_is_object(c) ||
		    acme_str(c, "type", true, type, sizeof(type)) == -1)
			goto done;
		if (strcmp(type, "http-01") != 0 || out->has_http01)
			continue;
		/* §8.3: the token is base64url; ours are at most 64 */
		if (acme_url(c, "url", true, out->chall_url) == -1 ||
		    acme_str(c, "token", true, out->token,
		    sizeof(out->token)) == -1 ||
		    !acme_token_ok(out->token, strlen(out->token)) ||
		    (out->chall_status = acme_status_of(c)) ==
		    ACME_S_UNKNOWN) {
			*errstr_out = "http-01 challenge malformed";
			goto done;
		}
		acme_problem_obj(json_object_get(c, "error"), out->error,
		    sizeof(out->error));
		out->has_http01 = true;
	}
	rc = 0;
done:
	json_decref(root);
	return rc;
}

void
acme_problem(const char *json, size_t len, char *out, size_t outsz)
{
	const char	*err;
	json_t		*root;

	out[0] = '\0';
	if ((root = acme_load(json, len, &err)) != NULL) {
		acme_problem_obj(root, out, outsz);
		json_decref(root);
	}
	if (out[0] == '\0' || strcmp(out, ": ") == 0)
		(void)printable(json, len < 200 ? len : 200, out, outsz);
}

bool
acme_problem_bad_nonce(const char *json, size_t len)
{
	const char	*err;
	json_t		*root, *v;
	bool		 bad = false;

	if ((root = acme_load(json, len, &err)) == NULL)
		return false;
	if ((v = json_object_get(root, "type")) != NULL && json_is_string(v))
		bad = strcmp(json_string_value(v), ACME_URN "badNonce") == 0;
	json_decref(root);
	return bad;
}

int64_t
acme_renew_at(int64_t not_before, int64_t not_after)
{
	int64_t	life, a, b;

	if (not_after <= not_before)
		return not_before;
	life = not_after - not_before;
	a = not_after - 30 * 86400;
	b = not_before + life / 3 * 2;
	return a > b ? a : b;
}
