/*
 * arc: Authenticated Received Chain (RFC 8617) parsing, validation and
 * sealing, pure (no network, no clock: the caller passes keys and the
 * time).  Run in the lookup role over the header section smtp sends; see
 * arc.h for the contract.
 */
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "arc.h"
#include "sasl.h"

#define ARC_FIELDS_MAX	(3 * ARC_INSTANCE_MAX)	/* ARC fields looked at */
#define ARC_TAGS_MAX	32	/* tags in one signature */
#define ARC_HASHED_MAX	(512 * 1024)	/* header octets one hash covers */

enum arc_kind {
	ARC_AMS,
	ARC_AS,
};

static bool
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The value of a field: what follows its colon. */
static struct span
field_value(struct span field)
{
	const char	*colon = memchr(field.ptr, ':', field.len);

	if (colon == NULL)
		return span_make(field.ptr + field.len, 0);
	return span_make(colon + 1, field.len - (size_t)(colon + 1 -
	    field.ptr));
}

/* i= of any of the three fields: 1..ARC_INSTANCE_MAX (§4.2.1). */
static int
parse_instance(struct span v, unsigned *out)
{
	unsigned	n = 0;
	size_t		i;

	if (v.len == 0 || v.len > 2)
		return -1;
	for (i = 0; i < v.len; i++) {
		if (!is_digit(v.ptr[i]))
			return -1;
		n = n * 10 + (unsigned)(v.ptr[i] - '0');
	}
	if (n < 1 || n > ARC_INSTANCE_MAX)
		return -1;
	*out = n;
	return 0;
}

/*
 * dkim_tag_next() with RFC 6376 §3.2's grammar held to the letter:
 * "a=1;; b=2" and a list opening with ';' have an empty tag-spec, which
 * tag-list does not allow (the suite's *_format_tags_sc).
 */
static int
tag_next(struct span l, size_t *pos, struct span *tag, struct span *value)
{
	size_t	i = *pos;

	while (i < l.len && is_fws(l.ptr[i]))
		i++;
	if (i < l.len && l.ptr[i] == ';')
		return -1;
	return dkim_tag_next(l, pos, tag, value);
}

/* A domain name as d= writes it: LDH labels (RFC 6376 §3.5, §3.6.1). */
static int
copy_domain(struct span v, char *out, size_t outsz, bool selector)
{
	size_t	i, label = 0;

	if (v.len == 0 || v.len >= outsz)
		return -1;
	for (i = 0; i < v.len; i++) {
		char	c = v.ptr[i];

		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    is_digit(c) || c == '-' || (selector && c == '_')) {
			if (++label > DNS_LABEL_MAX)
				return -1;
		} else
			return -1;
		out[i] = c;
	}
	if (label == 0)
		return -1;
	out[v.len] = '\0';
	return 0;
}

static int
parse_canon(struct span v, enum dkim_canon *h, enum dkim_canon *b)
{
	const char	*slash = memchr(v.ptr, '/', v.len);
	struct span	 hs = v, bs = span_make("simple", 6);

	if (slash != NULL) {
		hs = span_make(v.ptr, (size_t)(slash - v.ptr));
		bs = span_make(slash + 1, v.len - hs.len - 1);
	}
	if (span_eq(hs, "simple"))
		*h = DKIM_CANON_SIMPLE;
	else if (span_eq(hs, "relaxed"))
		*h = DKIM_CANON_RELAXED;
	else
		return -1;
	if (span_eq(bs, "simple"))
		*b = DKIM_CANON_SIMPLE;
	else if (span_eq(bs, "relaxed"))
		*b = DKIM_CANON_RELAXED;
	else
		return -1;
	return 0;
}

static int
parse_u64(struct span v, uint64_t *out)
{
	bool	overflow;
	size_t	i;

	if (v.len == 0 || v.len > 20)
		return -1;
	for (i = 0; i < v.len; i++)
		if (!is_digit(v.ptr[i]))
			return -1;
	if (span_to_u64(v, out, &overflow) == -1 || overflow)
		return -1;
	return 0;
}

/*
 * An ARC-Message-Signature (§4.1.2: DKIM-Signature's tags without v=,
 * i= the instance) or an ARC-Seal (§4.1.3: i a b cv d s t, no h=).
 */
static int
parse_sig(enum arc_kind kind, struct span field, struct arc_sig *sig,
    const char **reason)
{
	struct span	 list = field_value(field), tag, value;
	struct span	 seen[ARC_TAGS_MAX];
	size_t		 nseen = 0, pos = 0, k, len;
	unsigned	 have = 0;
	int		 rc;
	enum { T_I = 1, T_A = 2, T_B = 4, T_BH = 8, T_C = 16, T_D = 32,
	    T_H = 64, T_S = 128, T_CV = 256 };

	memset(sig, 0, sizeof(*sig));
	sig->field = field;
	sig->hcanon = sig->bcanon = DKIM_CANON_SIMPLE;	/* RFC 6376 §3.5 */
	sig->limit = DKIM_BH_NOLIMIT;
	*reason = kind == ARC_AMS ? "AMS does not parse" :
	    "ARC-Seal does not parse";
	while ((rc = tag_next(list, &pos, &tag, &value)) == 1) {
		/* §3.2: a tag appears once */
		if (nseen == ARC_TAGS_MAX)
			return -1;
		for (k = 0; k < nseen; k++)
			if (seen[k].len == tag.len &&
			    memcmp(seen[k].ptr, tag.ptr, tag.len) == 0)
				return -1;
		seen[nseen++] = tag;

		if (span_eq(tag, "i")) {
			if (parse_instance(value, &sig->instance) == -1)
				return -1;
			have |= T_I;
		} else if (span_eq(tag, "a")) {
			/* §4.1.2, §4.1.3: rsa-sha256, case as written */
			if (!span_eq(value, "rsa-sha256")) {
				*reason = "algorithm is not rsa-sha256";
				return -1;
			}
			have |= T_A;
		} else if (span_eq(tag, "b")) {
			if (dkim_b64_decode(value, sig->b, sizeof(sig->b),
			    &sig->blen, NULL) == -1 || sig->blen == 0)
				return -1;
			have |= T_B;
		} else if (span_eq(tag, "d")) {
			if (copy_domain(value, sig->d, sizeof(sig->d),
			    false) == -1)
				return -1;
			have |= T_D;
		} else if (span_eq(tag, "s")) {
			if (copy_domain(value, sig->s, sizeof(sig->s),
			    true) == -1)
				return -1;
			have |= T_S;
		} else if (span_eq(tag, "t")) {
			uint64_t	t;

			if (parse_u64(value, &t) == -1)
				return -1;
		} else if (kind == ARC_AMS && span_eq(tag, "bh")) {
			if (dkim_b64_decode(value, sig->bh, sizeof(sig->bh),
			    &len, NULL) == -1 || len != DKIM_DIGEST_MAX)
				return -1;
			have |= T_BH;
		} else if (kind == ARC_AMS && span_eq(tag, "c")) {
			if (parse_canon(value, &sig->hcanon,
			    &sig->bcanon) == -1)
				return -1;
			have |= T_C;
		} else if (kind == ARC_AMS && span_eq(tag, "h")) {
			if (value.len > ARC_H_MAX)
				return -1;
			sig->h = value;
			have |= T_H;
		} else if (kind == ARC_AMS && span_eq(tag, "l")) {
			if (parse_u64(value, &sig->limit) == -1)
				return -1;
		} else if (kind == ARC_AS && span_eq(tag, "cv")) {
			/* §4.1.3: none, fail, pass */
			if (span_eq(value, "none"))
				sig->cv = ARC_CV_NONE;
			else if (span_eq(value, "pass"))
				sig->cv = ARC_CV_PASS;
			else if (span_eq(value, "fail"))
				sig->cv = ARC_CV_FAIL;
			else
				return -1;
			have |= T_CV;
		} else if (kind == ARC_AS && span_eq(tag, "h")) {
			/* §4.1.3: the seal covers the ARC sets, nothing else */
			*reason = "ARC-Seal has h=";
			return -1;
		}
		/* other tags are ignored (RFC 6376 §3.2) */
	}
	if (rc == -1)
		return -1;
	if (kind == ARC_AMS &&
	    (have & (T_I | T_A | T_B | T_BH | T_D | T_H | T_S)) !=
	    (T_I | T_A | T_B | T_BH | T_D | T_H | T_S)) {
		*reason = "AMS lacks a required tag";
		return -1;
	}
	if (kind == ARC_AS && (have & (T_I | T_A | T_B | T_CV | T_D | T_S)) !=
	    (T_I | T_A | T_B | T_CV | T_D | T_S)) {
		*reason = "ARC-Seal lacks a required tag";
		return -1;
	}
	return 0;
}

/* ARC-Authentication-Results: "i=" instance ";" first (§4.1.1). */
static int
parse_aar(struct span field, unsigned *instance)
{
	struct span	v = field_value(field);
	size_t		i = 0, d0;

	while (i < v.len && is_fws(v.ptr[i]))
		i++;
	if (i >= v.len || v.ptr[i++] != 'i')
		return -1;
	while (i < v.len && is_fws(v.ptr[i]))
		i++;
	if (i >= v.len || v.ptr[i++] != '=')
		return -1;
	while (i < v.len && is_fws(v.ptr[i]))
		i++;
	d0 = i;
	while (i < v.len && is_digit(v.ptr[i]))
		i++;
	if (parse_instance(span_make(v.ptr + d0, i - d0), instance) == -1)
		return -1;
	while (i < v.len && is_fws(v.ptr[i]))
		i++;
	if (i >= v.len || v.ptr[i] != ';')
		return -1;
	return 0;
}

/* The instance of an AMS or AS before it is parsed whole. */
static int
sig_instance(struct span field, unsigned *instance)
{
	struct span	list = field_value(field), tag, value;
	size_t		pos = 0;

	while (tag_next(list, &pos, &tag, &value) == 1)
		if (span_eq(tag, "i"))
			return parse_instance(value, instance);
	return -1;
}

static void
chain_fail(struct arc_chain *c, const char *reason)
{
	c->result = ARC_CV_FAIL;
	c->reason = reason;
}

void
arc_chain_parse(struct span hdrs, struct arc_chain *c)
{
	struct span	 field, name;
	struct arc_set	*set;
	size_t		 pos = 0, nfields = 0;
	unsigned	 i, inst;
	const char	*reason;

	memset(c, 0, sizeof(*c));
	c->result = ARC_CV_NONE;
	c->reason = "no ARC sets";
	/* §5.2 step 1: collect the sets */
	while (dkim_header_next(hdrs, &pos, &field, &name) == 1) {
		bool	aar = span_caseeq(name, "ARC-Authentication-Results");
		bool	ams = span_caseeq(name, "ARC-Message-Signature");
		bool	as = span_caseeq(name, "ARC-Seal");

		if (!aar && !ams && !as)
			continue;
		if (++nfields > ARC_FIELDS_MAX) {
			chain_fail(c, "too many ARC fields");
			return;
		}
		if ((aar ? parse_aar(field, &inst) :
		    sig_instance(field, &inst)) == -1) {
			chain_fail(c, "an ARC field has no valid i=");
			return;
		}
		set = &c->set[inst - 1];
		if ((aar && set->have_aar) || (ams && set->have_ams) ||
		    (as && set->have_as)) {
			chain_fail(c, "two ARC fields of one instance");
			return;
		}
		if (aar) {
			set->aar = field;
			set->have_aar = true;
		} else if (parse_sig(ams ? ARC_AMS : ARC_AS, field,
		    ams ? &set->ams : &set->as, &reason) == -1) {
			chain_fail(c, reason);
			return;
		} else if (ams)
			set->have_ams = true;
		else
			set->have_as = true;
		if (inst > c->n)
			c->n = inst;
	}
	if (nfields == 0)
		return;
	/* step 2: every set whole, none missing below the newest */
	for (i = 0; i < c->n; i++)
		if (!c->set[i].have_aar || !c->set[i].have_ams ||
		    !c->set[i].have_as) {
			chain_fail(c, "an ARC set is incomplete or missing");
			return;
		}
	/* step 3: the newest seal may say the chain failed already */
	if (c->set[c->n - 1].as.cv == ARC_CV_FAIL) {
		chain_fail(c, "the newest ARC-Seal has cv=fail");
		return;
	}
	/* step 4: cv=none on i=1 only, cv=pass above (§4.1.3, §5.1.1) */
	for (i = 0; i < c->n; i++)
		if (c->set[i].as.cv != (i == 0 ? ARC_CV_NONE : ARC_CV_PASS)) {
			chain_fail(c, "an ARC-Seal has the wrong cv=");
			return;
		}
	c->result = ARC_CV_PASS;
	c->reason = "chain pending verification";
}

static int
canon_field(enum dkim_canon canon, struct span field, bool sig,
    struct buf *out)
{
	if (sig)
		return dkim_canon_sig_field(canon, field, out);
	return dkim_canon_header(canon, field, true, out);
}

/*
 * The header part of an AMS hash (RFC 6376 §3.7, §5.4.2): the fields h=
 * names, each name taking its instances from the bottom up, then the
 * AMS itself (ams, whose b= is emptied) without CRLF.
 */
static int
ams_headers(struct span hdrs, struct span h, enum dkim_canon canon,
    struct span ams, struct buf *out)
{
	char		names[DKIM_SIG_H_MAX][DKIM_HNAME_MAX];
	struct span	want;
	size_t		n = 0, i, k, start;

	for (i = 0; i <= h.len; i = k + 1) {
		for (k = i; k < h.len && h.ptr[k] != ':'; k++)
			;
		start = i;
		while (start < k && is_fws(h.ptr[start]))
			start++;
		want = span_make(h.ptr + start, k - start);
		while (want.len > 0 && is_fws(want.ptr[want.len - 1]))
			want.len--;
		if (want.len == 0)
			continue;
		/* §4.1.2: the AMS must not sign the seals */
		if (span_caseeq(want, "ARC-Seal") || n == DKIM_SIG_H_MAX ||
		    want.len >= DKIM_HNAME_MAX)
			return -1;
		memcpy(names[n], want.ptr, want.len);
		names[n++][want.len] = '\0';
	}
	return dkim_header_data(canon, hdrs, (const char (*)[DKIM_HNAME_MAX])
	    names, n, ams, out);
}

static bool
rsa_verify(EVP_PKEY *key, const unsigned char *sig, size_t siglen,
    const struct buf *data)
{
	return dkim_verify_data(DKIM_ALGO_RSA_SHA256, key, data->data,
	    data->len, sig, siglen) == 0;
}

static bool
key_usable(EVP_PKEY *key)
{
	return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
	    EVP_PKEY_get_bits(key) >= ARC_KEY_BITS_MIN &&
	    EVP_PKEY_get_bits(key) <= ARC_KEY_BITS_MAX;
}

static bool
ams_verify(struct span hdrs, const struct arc_sig *ams,
    const struct arc_verify_ops *ops)
{
	unsigned char	 bh[DKIM_DIGEST_MAX];
	struct buf	 data;
	EVP_PKEY	*key;
	bool		 temp = false, ok;

	if (ops->bh(ops->arg, ams->bcanon, ams->limit, bh) == -1 ||
	    memcmp(bh, ams->bh, sizeof(bh)) != 0)
		return false;
	if ((key = ops->key(ops->arg, ams->d, ams->s, &temp)) == NULL ||
	    !key_usable(key))
		return false;
	buf_init(&data, ARC_HASHED_MAX);
	ok = ams_headers(hdrs, ams->h, ams->hcanon, ams->field, &data) == 0 &&
	    rsa_verify(key, ams->b, ams->blen, &data);
	buf_free(&data);
	return ok;
}

/*
 * The data an ARC-Seal of instance n signs (§5.1.1): the sets 1..n in
 * order, AAR, AMS, AS each, relaxed, the last seal with b= empty and
 * without CRLF; with only_last (cv=fail) just set n.
 */
static int
seal_data(const struct arc_chain *c, unsigned n, bool only_last,
    struct span aar, struct span ams, struct span as, struct buf *out)
{
	unsigned	i;
	int		rc = 0;

	for (i = only_last ? n : 1; i < n; i++) {
		rc |= canon_field(DKIM_CANON_RELAXED, c->set[i - 1].aar, false,
		    out);
		rc |= canon_field(DKIM_CANON_RELAXED, c->set[i - 1].ams.field,
		    false, out);
		rc |= canon_field(DKIM_CANON_RELAXED, c->set[i - 1].as.field,
		    false, out);
	}
	rc |= canon_field(DKIM_CANON_RELAXED, aar, false, out);
	rc |= canon_field(DKIM_CANON_RELAXED, ams, false, out);
	rc |= canon_field(DKIM_CANON_RELAXED, as, true, out);
	return rc == 0 ? 0 : -1;
}

static bool
as_verify(const struct arc_chain *c, unsigned n,
    const struct arc_verify_ops *ops)
{
	const struct arc_set	*set = &c->set[n - 1];
	struct buf		 data;
	EVP_PKEY		*key;
	bool			 temp = false, ok;

	if ((key = ops->key(ops->arg, set->as.d, set->as.s, &temp)) == NULL ||
	    !key_usable(key))
		return false;
	buf_init(&data, ARC_HASHED_MAX);
	ok = seal_data(c, n, false, set->aar, set->ams.field, set->as.field,
	    &data) == 0 && rsa_verify(key, set->as.b, set->as.blen, &data);
	buf_free(&data);
	return ok;
}

void
arc_chain_verify(struct arc_chain *c, struct span hdrs,
    const struct arc_verify_ops *ops)
{
	unsigned	i;

	if (c->result != ARC_CV_PASS)
		return;
	/* §5.2 step 5: the newest AMS */
	if (!ams_verify(hdrs, &c->set[c->n - 1].ams, ops)) {
		chain_fail(c, "the newest ARC-Message-Signature fails");
		return;
	}
	/* step 6: the oldest AMS that still passes */
	c->oldest_pass = 0;
	for (i = c->n - 1; i >= 1; i--)
		if (!ams_verify(hdrs, &c->set[i - 1].ams, ops)) {
			c->oldest_pass = i + 1;
			break;
		}
	/* step 7: every seal, newest first */
	for (i = c->n; i >= 1; i--)
		if (!as_verify(c, i, ops)) {
			chain_fail(c, "an ARC-Seal fails");
			return;
		}
	c->reason = "chain verified";
}

EVP_PKEY *
arc_key_parse(struct span record, const char **errstr)
{
	struct dkim_key	 k;
	EVP_PKEY	*key;

	if (dkim_key_parse(record, &k, errstr) == -1)
		return NULL;
	if (k.revoked || k.type != DKIM_KEY_RSA || !k.sha256_ok ||
	    !key_usable(k.pkey)) {
		*errstr = k.revoked ? "key revoked" :
		    "key is not RSA of 1024 to 4096 bits for sha256";
		dkim_key_clear(&k);
		return NULL;
	}
	key = k.pkey;
	k.pkey = NULL;
	dkim_key_clear(&k);
	return key;
}

static int
rsa_sign(EVP_PKEY *key, const struct buf *data, unsigned char *sig,
    size_t *siglen)
{
	*siglen = ARC_SIG_MAX;
	return dkim_sign_data(DKIM_ALGO_RSA_SHA256, key, data->data,
	    data->len, sig, siglen);
}

/* Put sig as the b= value of the field in tmpl ("...b=;..."), folded. */
static int
put_b(struct span tmpl, const unsigned char *sig, size_t siglen,
    struct buf *out)
{
	char		 b64[SASL_B64_LEN(ARC_SIG_MAX) + 1];
	const char	*at = NULL;
	size_t		 n, i, off;
	int		 rc = 0;

	for (i = 0; i + 3 <= tmpl.len; i++)
		if ((i == 0 || tmpl.ptr[i - 1] == '\t' ||
		    tmpl.ptr[i - 1] == ' ') && memcmp(tmpl.ptr + i, "b=;",
		    3) == 0) {
			at = tmpl.ptr + i + 2;
			break;
		}
	if (at == NULL)
		return -1;
	n = sasl_b64_encode(sig, siglen, b64);
	off = (size_t)(at - tmpl.ptr);
	rc |= buf_append(out, tmpl.ptr, off);
	/*
	 * b= on a line of its own, unbroken: folding inside it would show
	 * in the next seal's relaxed input as spaces, and the suite's
	 * "standardized" signer (its README) writes none there either.
	 */
	rc |= buf_append(out, b64, n);
	rc |= buf_append(out, tmpl.ptr + off, tmpl.len - off);
	return rc == 0 ? 0 : -1;
}

/*
 * v without the FWS around it, into *out; -1 when what is left is not a
 * folded field value (a CR or LF not in a CRLF that WSP follows would
 * end the field, or the header section, early).
 */
static int
fws_trim(struct span v, struct span *out)
{
	size_t	i;

	while (v.len > 0 && is_fws(v.ptr[0])) {
		v.ptr++;
		v.len--;
	}
	while (v.len > 0 && is_fws(v.ptr[v.len - 1]))
		v.len--;
	for (i = 0; i < v.len; i++)
		if ((v.ptr[i] == '\r' && (i + 2 >= v.len ||
		    v.ptr[i + 1] != '\n' || (v.ptr[i + 2] != ' ' &&
		    v.ptr[i + 2] != '\t'))) || (v.ptr[i] == '\n' &&
		    (i == 0 || v.ptr[i - 1] != '\r')))
			return -1;
	*out = v;
	return 0;
}

int
arc_seal(struct span hdrs, const struct arc_chain *c,
    const struct arc_seal_args *a, struct buf *out, const char **errstr)
{
	static const char *cvs[] = { "none", "pass", "fail" };
	char		 bh[SASL_B64_LEN(DKIM_DIGEST_MAX) + 1];
	unsigned char	 sig[ARC_SIG_MAX];
	struct buf	 aar, amst, ams, ast, as, data;
	struct span	 ar;
	size_t		 siglen;
	unsigned	 n = c->n + 1;
	int		 rc = -1;

	/* §5.1.2: a chain whose newest seal says fail is not added to */
	if (c->n > 0 && c->set[c->n - 1].have_as &&
	    c->set[c->n - 1].as.cv == ARC_CV_FAIL)
		return 0;
	if (n > ARC_INSTANCE_MAX) {
		*errstr = "ARC chain at its 50 instances";
		return -1;
	}
	if (!key_usable(a->key)) {
		*errstr = "sealing key is not RSA of 1024 to 4096 bits";
		return -1;
	}
	buf_init(&aar, ARC_HASHED_MAX);
	buf_init(&amst, ARC_HASHED_MAX);
	buf_init(&ams, ARC_HASHED_MAX);
	buf_init(&ast, ARC_HASHED_MAX);
	buf_init(&as, ARC_HASHED_MAX);
	buf_init(&data, ARC_HASHED_MAX);
	/* §4.1.1: the AAR is our A-R's content under i= */
	if (fws_trim(a->ar, &ar) == -1) {
		*errstr = "A-R to seal is not one folded field value";
		goto done;
	}
	*errstr = "ARC set too large";
	if (buf_printf(&aar, "ARC-Authentication-Results: i=%u; ", n) == -1 ||
	    buf_append_span(&aar, ar) == -1 ||
	    buf_append(&aar, "\r\n", 2) == -1)
		goto done;

	/*
	 * §4.1.2: the AMS, relaxed/relaxed.  Tags in the order the suite's
	 * reference signer writes them, so that its b= values compare.
	 * " i=N;" with a space before it: dkimpy finds the AMS of an
	 * instance by that text.
	 */
	sasl_b64_encode(a->bh, DKIM_DIGEST_MAX, bh);
	if (buf_printf(&amst, "ARC-Message-Signature: a=rsa-sha256;\r\n"
	    "\tb=;\r\n\tbh=%s; c=relaxed/relaxed;\r\n\td=%s; h=%s; i=%u;\r\n"
	    "\ts=%s; t=%llu\r\n", bh, a->d, a->h, n, a->s,
	    (unsigned long long)a->t) == -1)
		goto done;
	/* the new AAR is on top of the message as the AMS hashes it */
	{
		struct buf	all;

		buf_init(&all, ARC_HASHED_MAX * 2);
		if (buf_append(&all, aar.data, aar.len) == -1 ||
		    buf_append(&all, hdrs.ptr, hdrs.len) == -1 ||
		    ams_headers(span_make(all.data, all.len), span_str(a->h),
		    DKIM_CANON_RELAXED, span_make(amst.data, amst.len),
		    &data) == -1) {
			buf_free(&all);
			*errstr = "AMS h= cannot be signed";
			goto done;
		}
		buf_free(&all);
	}
	if (rsa_sign(a->key, &data, sig, &siglen) == -1) {
		*errstr = "RSA signing failed";
		goto done;
	}
	if (put_b(span_make(amst.data, amst.len), sig, siglen, &ams) == -1)
		goto done;

	/* §4.1.3, §5.1.1: the seal over the sets, ours last */
	if (buf_printf(&ast, "ARC-Seal: a=rsa-sha256;\r\n\tb=;\r\n"
	    "\tcv=%s; d=%s; i=%u; s=%s;\r\n\tt=%llu\r\n", cvs[a->cv], a->d, n,
	    a->s, (unsigned long long)a->t) == -1)
		goto done;
	buf_reset(&data);
	if (seal_data(c, n, a->cv == ARC_CV_FAIL, span_make(aar.data,
	    aar.len), span_make(ams.data, ams.len), span_make(ast.data,
	    ast.len), &data) == -1)
		goto done;
	if (rsa_sign(a->key, &data, sig, &siglen) == -1) {
		*errstr = "RSA signing failed";
		goto done;
	}
	if (put_b(span_make(ast.data, ast.len), sig, siglen, &as) == -1)
		goto done;
	if (buf_append(out, as.data, as.len) == -1 ||
	    buf_append(out, ams.data, ams.len) == -1 ||
	    buf_append(out, aar.data, aar.len) == -1)
		goto done;
	rc = 0;
done:
	buf_free(&aar);
	buf_free(&amst);
	buf_free(&ams);
	buf_free(&ast);
	buf_free(&as);
	buf_free(&data);
	return rc;
}
