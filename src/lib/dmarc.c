/*
 * dmarc: the DMARC record, the From: domain, alignment and policy
 * selection (dmarc.h).  Pure; every input is hostile.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim.h"
#include "dmarc.h"
#include "mime_hdr.h"

/* Tags seen, so that the first of a repeated tag wins. */
enum dmarc_tag {
	DMARC_T_P = 1 << 0,
	DMARC_T_SP = 1 << 1,
	DMARC_T_NP = 1 << 2,
	DMARC_T_PCT = 1 << 3,
	DMARC_T_ADKIM = 1 << 4,
	DMARC_T_ASPF = 1 << 5,
	DMARC_T_RUA = 1 << 6,
	DMARC_T_RUF = 1 << 7,
	DMARC_T_FO = 1 << 8,
	DMARC_T_RF = 1 << 9,
	DMARC_T_RI = 1 << 10,
	DMARC_T_T = 1 << 11,
};

static bool
dmarc_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct span
dmarc_trim(struct span s)
{
	while (s.len > 0 && dmarc_fws(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && dmarc_fws(s.ptr[s.len - 1]))
		s.len--;
	return s;
}

static bool
dmarc_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
dmarc_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The next "tag=value" of the record, from *pos: 1 with both trimmed, 0
 * at the end; a part without '=' or with a tag that is not ALPHA
 * *(ALPHA / DIGIT / "_") comes back with an empty tag (ignored, §6.3).
 */
static int
dmarc_next(struct span rec, size_t *pos, struct span *tag,
    struct span *value)
{
	struct span	 part;
	const char	*semi, *eq;
	size_t		 i;

	for (;;) {
		if (*pos >= rec.len)
			return 0;
		semi = memchr(rec.ptr + *pos, ';', rec.len - *pos);
		part = span_make(rec.ptr + *pos, semi == NULL ?
		    rec.len - *pos : (size_t)(semi - (rec.ptr + *pos)));
		*pos += part.len + 1;
		part = dmarc_trim(part);
		if (part.len > 0)
			break;
	}
	*tag = span_make(NULL, 0);
	*value = span_make(NULL, 0);
	if ((eq = memchr(part.ptr, '=', part.len)) == NULL)
		return 1;
	*tag = dmarc_trim(span_make(part.ptr, (size_t)(eq - part.ptr)));
	*value = dmarc_trim(span_make(eq + 1,
	    part.len - (size_t)(eq - part.ptr) - 1));
	for (i = 0; i < tag->len; i++)
		if (!dmarc_alpha(tag->ptr[i]) && (i == 0 ||
		    (!dmarc_digit(tag->ptr[i]) && tag->ptr[i] != '_')))
			break;
	if (tag->len == 0 || i < tag->len)
		*tag = span_make(NULL, 0);
	return 1;
}

bool
dmarc_record_is_dmarc(const char *txt, size_t len)
{
	struct span	tag, value;
	size_t		pos = 0;

	if (dmarc_next(span_make(txt, len), &pos, &tag, &value) != 1)
		return false;
	/* §6.4: "v" is a literal (any case), "DMARC1" is %x44.4d.41.52.43.31 */
	return span_caseeq(tag, "v") && value.len == 6 &&
	    memcmp(value.ptr, "DMARC1", 6) == 0;
}

static int
dmarc_policy_parse(struct span v, enum dmarc_policy *out)
{
	if (span_caseeq(v, "none"))
		*out = DMARC_POLICY_NONE;
	else if (span_caseeq(v, "quarantine"))
		*out = DMARC_POLICY_QUARANTINE;
	else if (span_caseeq(v, "reject"))
		*out = DMARC_POLICY_REJECT;
	else
		return -1;
	return 0;
}

static int
dmarc_uint(struct span v, uint32_t max, uint32_t *out)
{
	uint64_t	n = 0;
	size_t		i;

	if (v.len == 0 || v.len > 10)
		return -1;
	for (i = 0; i < v.len; i++) {
		if (!dmarc_digit(v.ptr[i]))
			return -1;
		n = n * 10 + (uint64_t)(v.ptr[i] - '0');
	}
	if (n > max)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

/*
 * One DMARC URI (§6.4: URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]):
 * a scheme (RFC 3986 §3.1) and a ':' with something after it, no
 * white space or control inside.
 */
static bool
dmarc_uri_ok(struct span u)
{
	size_t	i;

	if (u.len < 3 || !dmarc_alpha(u.ptr[0]))
		return false;
	for (i = 1; i < u.len && u.ptr[i] != ':'; i++)
		if (!dmarc_alpha(u.ptr[i]) && !dmarc_digit(u.ptr[i]) &&
		    u.ptr[i] != '+' && u.ptr[i] != '-' && u.ptr[i] != '.')
			return false;
	if (i + 1 >= u.len)
		return false;
	for (; i < u.len; i++)
		if ((unsigned char)u.ptr[i] <= 0x20 || u.ptr[i] == 0x7f)
			return false;
	return true;
}

/*
 * rua=/ruf=: the valid URIs of the comma-separated list, as written,
 * joined by ',' into out (as many whole ones as fit).  -1 when none.
 */
static int
dmarc_uris(struct span v, char *out, size_t outsz)
{
	struct span	 u;
	const char	*comma;
	size_t		 o = 0, n = 0;

	while (v.len > 0) {
		comma = memchr(v.ptr, ',', v.len);
		u = span_make(v.ptr, comma == NULL ? v.len :
		    (size_t)(comma - v.ptr));
		v.ptr += u.len;
		v.len -= u.len;
		if (comma != NULL) {
			v.ptr++;
			v.len--;
		}
		u = dmarc_trim(u);
		if (!dmarc_uri_ok(u))
			continue;
		n++;
		if (o + (o > 0) + u.len + 1 > outsz)
			continue;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, u.ptr, u.len);
		o += u.len;
	}
	out[o] = '\0';
	return n > 0 && o > 0 ? 0 : -1;
}

/*
 * fo= (§6.3: "0", "1", "d", "s" separated by ':') and rf= (keywords:
 * ALPHA *(ALPHA / DIGIT / "-"), separated by ':') as written into out.
 */
static int
dmarc_list(struct span v, bool fo, char *out, size_t outsz)
{
	size_t	i, wlen = 0;
	char	c;

	if (v.len == 0 || v.len >= outsz)
		return -1;
	for (i = 0; i <= v.len; i++) {
		if (i == v.len || v.ptr[i] == ':') {
			if (wlen == 0)
				return -1;
			wlen = 0;
			continue;
		}
		c = v.ptr[i];
		if (fo ? wlen > 0 || strchr("01dsDS", c) == NULL || c == 0 :
		    wlen == 0 ? !dmarc_alpha(c) :
		    !dmarc_alpha(c) && !dmarc_digit(c) && c != '-')
			return -1;
		wlen++;
	}
	memcpy(out, v.ptr, v.len);
	out[v.len] = '\0';
	return 0;
}

static bool
dmarc_first(unsigned *seen, unsigned t)
{
	if (*seen & t)
		return false;
	*seen |= t;
	return true;
}

int
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r,
    const char **why)
{
	struct span	 rec = span_make(txt, len), tag, v;
	size_t		 pos = 0;
	unsigned	 seen = 0;
	uint32_t	 n;
	bool		 p_ok = false, sp_bad = false;

	memset(r, 0, sizeof(*r));
	r->pct = 100;
	r->ri = DMARC_RI_DEFAULT;
	(void)strcpy(r->fo, "0");
	(void)strcpy(r->rf, "afrf");
	if (len > DMARC_RECORD_MAX) {
		*why = "record too long";
		return -1;
	}
	if (!dmarc_record_is_dmarc(txt, len)) {
		*why = "not v=DMARC1";
		return -1;
	}
	(void)dmarc_next(rec, &pos, &tag, &v);		/* v=DMARC1 */
	while (dmarc_next(rec, &pos, &tag, &v) == 1) {
		/* §6.3: an unknown tag, or one that does not parse, is ignored */
		if (span_caseeq(tag, "p") && dmarc_first(&seen, DMARC_T_P))
			p_ok = dmarc_policy_parse(v, &r->p) == 0;
		else if (span_caseeq(tag, "sp") &&
		    dmarc_first(&seen, DMARC_T_SP)) {
			r->has_sp = dmarc_policy_parse(v, &r->sp) == 0;
			sp_bad = !r->has_sp;
		} else if (span_caseeq(tag, "np") &&
		    dmarc_first(&seen, DMARC_T_NP))
			r->has_np = dmarc_policy_parse(v, &r->np) == 0;
		else if (span_caseeq(tag, "pct") &&
		    dmarc_first(&seen, DMARC_T_PCT)) {
			if (dmarc_uint(v, 100, &n) == 0)
				r->pct = n;
		} else if (span_caseeq(tag, "adkim") &&
		    dmarc_first(&seen, DMARC_T_ADKIM)) {
			if (span_caseeq(v, "s") || span_caseeq(v, "r"))
				r->adkim_strict = span_caseeq(v, "s");
		} else if (span_caseeq(tag, "aspf") &&
		    dmarc_first(&seen, DMARC_T_ASPF)) {
			if (span_caseeq(v, "s") || span_caseeq(v, "r"))
				r->aspf_strict = span_caseeq(v, "s");
		} else if (span_caseeq(tag, "rua") &&
		    dmarc_first(&seen, DMARC_T_RUA))
			(void)dmarc_uris(v, r->rua, sizeof(r->rua));
		else if (span_caseeq(tag, "ruf") &&
		    dmarc_first(&seen, DMARC_T_RUF))
			(void)dmarc_uris(v, r->ruf, sizeof(r->ruf));
		else if (span_caseeq(tag, "fo") &&
		    dmarc_first(&seen, DMARC_T_FO))
			(void)dmarc_list(v, true, r->fo, sizeof(r->fo));
		else if (span_caseeq(tag, "rf") &&
		    dmarc_first(&seen, DMARC_T_RF))
			(void)dmarc_list(v, false, r->rf, sizeof(r->rf));
		else if (span_caseeq(tag, "ri") &&
		    dmarc_first(&seen, DMARC_T_RI)) {
			if (dmarc_uint(v, UINT32_MAX, &n) == 0)
				r->ri = n;
		} else if (span_caseeq(tag, "t") &&
		    dmarc_first(&seen, DMARC_T_T)) {
			if (span_caseeq(v, "y") || span_caseeq(v, "n"))
				r->testing = span_caseeq(v, "y");
		}
	}
	/*
	 * §6.6.3: no valid p= or an invalid sp=: with a usable rua= act
	 * as if p=none were there, else apply no DMARC processing.
	 */
	if (!p_ok || sp_bad) {
		if (r->rua[0] == '\0') {
			*why = p_ok ? "invalid sp= and no rua=" :
			    "no valid p= and no rua=";
			return -1;
		}
		r->p_implied = true;
		r->p = DMARC_POLICY_NONE;
		if (!r->has_sp)
			r->sp = DMARC_POLICY_NONE;
	}
	if (!r->has_sp)
		r->sp = r->p;
	if (!r->has_np)
		r->np = r->sp;
	*why = "";
	return 0;
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_QUARANTINE:
		return "quarantine";
	case DMARC_POLICY_REJECT:
		return "reject";
	case DMARC_POLICY_NONE:
		break;
	}
	return "none";
}

/*
 * A From: domain as DMARC reads it: lower case, a trailing dot dropped,
 * LDH labels (or UTF-8 ones, RFC 6531) with '_' allowed, at most
 * DMARC_NAME_MAX; a domain literal is none.
 */
static int
dmarc_domain(struct span d, char *out, size_t outsz)
{
	size_t	i, label = 0;
	char	c;

	if (d.len > 0 && d.ptr[d.len - 1] == '.')
		d.len--;
	if (d.len == 0 || d.len > DMARC_NAME_MAX || d.len >= outsz)
		return -1;
	for (i = 0; i < d.len; i++) {
		c = d.ptr[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (dmarc_alpha(c) || dmarc_digit(c) || c == '-' ||
		    c == '_' || (unsigned char)c >= 0x80)
			label++;
		else
			return -1;
		out[i] = c;
	}
	if (label == 0)
		return -1;		/* "a.." */
	out[d.len] = '\0';
	return 0;
}

enum dmarc_from
dmarc_from_domain(struct span hdrs, char *out, size_t outsz,
    const char **why)
{
	struct mime_addrlist	 al;
	struct span		 field, name, value;
	const char		*lf, *colon;
	char			 d[DMARC_NAME_MAX + 1];
	size_t			 pos = 0, nfrom = 0, naddr = 0, i;
	enum dmarc_from		 res;
	int			 rc;

	memset(&al, 0, sizeof(al));
	out[0] = '\0';
	value = span_make(NULL, 0);
	while ((rc = dkim_header_next(hdrs, &pos, &field, &name)) != 0) {
		if (rc == -1) {
			/* A line that is no field: look past it, not stop. */
			lf = memchr(hdrs.ptr + pos, '\n', hdrs.len - pos);
			if (lf == NULL)
				break;
			pos = (size_t)(lf - hdrs.ptr) + 1;
			continue;
		}
		if (!span_caseeq(name, "from"))
			continue;
		if (++nfrom > 1)
			break;
		colon = memchr(field.ptr, ':', field.len);
		value = span_make(colon + 1,
		    field.len - (size_t)(colon + 1 - field.ptr));
	}
	if (nfrom == 0) {
		*why = "no From: field";
		return DMARC_FROM_NONE;
	}
	if (nfrom > 1) {
		/* RFC 7489 §6.6.1: RFC 5322 allows one; no policy to pick. */
		*why = "several From: fields";
		return DMARC_FROM_MULTIPLE;
	}
	res = DMARC_FROM_BAD;
	*why = "no address with a domain in From:";
	if (mime_hdr_addrs(value, &al) == 0) {
		for (i = 0; i < al.n; i++) {
			if (al.v[i].kind != MIME_ADDR_MAILBOX ||
			    al.v[i].bad_syntax || al.v[i].bad_route ||
			    dmarc_domain(al.v[i].domain, d, sizeof(d)) == -1)
				continue;
			if (naddr++ == 0) {
				(void)snprintf(out, outsz, "%s", d);
				res = DMARC_FROM_OK;
				*why = "";
			} else if (strcmp(out, d) != 0) {
				/* RFC 7489 §6.6.1: which one would apply? */
				res = DMARC_FROM_ADDRS;
				*why = "From: addresses of several domains";
				out[0] = '\0';
				break;
			}
		}
	}
	mime_addrlist_free(&al);
	return res;
}

bool
dmarc_aligned(const char *a, const char *b, const char *org_a,
    const char *org_b, bool strict)
{
	if (a == NULL || b == NULL || a[0] == '\0')
		return false;
	if (strcasecmp(a, b) == 0)
		return true;
	if (strict || org_a == NULL || org_b == NULL || org_a[0] == '\0')
		return false;
	return strcasecmp(org_a, org_b) == 0;
}

enum dmarc_policy
dmarc_policy_for(const struct dmarc_record *r, const char *from_domain,
    const char *policy_domain, bool nonexistent)
{
	if (strcasecmp(from_domain, policy_domain) == 0)
		return r->p;
	if (nonexistent)
		return r->np;
	return r->sp;
}

enum dmarc_policy
dmarc_sample(const struct dmarc_record *r, enum dmarc_policy p,
    unsigned roll, bool *sampled_out)
{
	unsigned	pct = r->testing ? 0 : r->pct;

	*sampled_out = true;
	if (p == DMARC_POLICY_NONE || roll < pct)
		return p;
	*sampled_out = false;
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE :
	    DMARC_POLICY_NONE;
}
