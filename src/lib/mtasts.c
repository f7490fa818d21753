/*
 * mtasts: MTA-STS policy text, TXT record and MX match (RFC 8461).
 * mtasts.h has the contract.  Pure: run by the mta on what a policy host
 * sent, by lookup on what it cached, and by the fuzzer.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"

#define MTASTS_KEY_MAX		32	/* §3.2: 1 + *31 name octets */

static bool
mtasts_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static bool
mtasts_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* §3.1, §3.2: (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static bool
mtasts_name_ok(const char *p, size_t len)
{
	size_t	i;

	if (len == 0 || len > MTASTS_KEY_MAX || !mtasts_alnum(p[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!mtasts_alnum(p[i]) && p[i] != '_' && p[i] != '-' &&
		    p[i] != '.')
			return false;
	return true;
}

static bool
mtasts_eq(const char *p, size_t len, const char *s)
{
	size_t	n = strlen(s);

	return len == n && memcmp(p, s, n) == 0;
}

const char *
mtasts_mode_name(enum mtasts_mode m)
{
	switch (m) {
	case MTASTS_MODE_NONE:
		return "none";
	case MTASTS_MODE_TESTING:
		return "testing";
	case MTASTS_MODE_ENFORCE:
		return "enforce";
	}
	return "?";
}

/* An mx value: ["*."] Domain (§3.2), kept in lower case. */
static int
mtasts_mx_value(const char *v, size_t len, char *out)
{
	size_t	i, skip = 0;

	if (len >= 2 && v[0] == '*' && v[1] == '.')
		skip = 2;
	if (len - skip > DNS_NAME_MAX || !dns_hostname_ok(v + skip,
	    len - skip))
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (v[i] >= 'A' && v[i] <= 'Z') ? (char)(v[i] + 32) :
		    v[i];
	out[len] = '\0';
	return 0;
}

/* One "key: value" line (no line end); 0 or -1 with the reason. */
static int
mtasts_policy_line(const char *p, size_t len, struct mtasts_policy *out,
    unsigned *seen, const char **errstr_out)
{
	const char	*colon, *v;
	size_t		 klen, vlen, i;
	uint64_t	 age = 0;

	if ((colon = memchr(p, ':', len)) == NULL) {
		*errstr_out = "a line without \"key:\"";
		return -1;
	}
	klen = (size_t)(colon - p);
	if (!mtasts_name_ok(p, klen)) {
		*errstr_out = "a key that is not a field name";
		return -1;
	}
	/* sts-policy-field-delim = ":" *WSP; the value may end in *WSP */
	v = colon + 1;
	vlen = len - klen - 1;
	while (vlen > 0 && mtasts_wsp((unsigned char)v[0])) {
		v++;
		vlen--;
	}
	while (vlen > 0 && mtasts_wsp((unsigned char)v[vlen - 1]))
		vlen--;
	if (vlen == 0) {
		*errstr_out = "a field without a value";
		return -1;
	}
	/* sts-policy-vchar: %x21-7E and UTF-8 (not checked further) */
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!mtasts_wsp(c) && (c < 0x21 || c == 0x7f)) {
			*errstr_out = "a value with a control character";
			return -1;
		}
	}
	if (mtasts_eq(p, klen, "version")) {
		if (*seen & 1) {
			*errstr_out = "version given twice";
			return -1;
		}
		*seen |= 1;
		if (!mtasts_eq(v, vlen, "STSv1")) {
			*errstr_out = "version is not STSv1";
			return -1;
		}
	} else if (mtasts_eq(p, klen, "mode")) {
		if (*seen & 2) {
			*errstr_out = "mode given twice";
			return -1;
		}
		*seen |= 2;
		if (mtasts_eq(v, vlen, "enforce"))
			out->mode = MTASTS_MODE_ENFORCE;
		else if (mtasts_eq(v, vlen, "testing"))
			out->mode = MTASTS_MODE_TESTING;
		else if (mtasts_eq(v, vlen, "none"))
			out->mode = MTASTS_MODE_NONE;
		else {
			*errstr_out = "mode is not enforce, testing or none";
			return -1;
		}
	} else if (mtasts_eq(p, klen, "max_age")) {
		if (*seen & 4) {
			*errstr_out = "max_age given twice";
			return -1;
		}
		*seen |= 4;
		/* 1*10(DIGIT); "maximum value of 31557600" */
		if (vlen > 10) {
			*errstr_out = "max_age has more than 10 digits";
			return -1;
		}
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9') {
				*errstr_out = "max_age is not a number";
				return -1;
			}
			age = age * 10 + (uint64_t)(v[i] - '0');
		}
		out->max_age = age > MTASTS_MAX_AGE_MAX ? MTASTS_MAX_AGE_MAX :
		    (uint32_t)age;
	} else if (mtasts_eq(p, klen, "mx")) {
		if (out->nmx == MTASTS_MX_MAX) {
			*errstr_out = "too many mx lines";
			return -1;
		}
		if (mtasts_mx_value(v, vlen, out->mx[out->nmx]) == -1) {
			*errstr_out = "an mx that is not a host name or "
			    "\"*.\" and one";
			return -1;
		}
		out->nmx++;
	}
	/* §3.2: other fields are extensions, ignored */
	return 0;
}

int
mtasts_policy_parse(const char *p, size_t len, struct mtasts_policy *out,
    const char **errstr_out)
{
	const char	*lf;
	size_t		 n;
	unsigned	 seen = 0;

	memset(out, 0, sizeof(*out));
	if (len > MTASTS_POLICY_MAX) {
		*errstr_out = "policy larger than 64 KiB";
		return -1;
	}
	if (memchr(p, '\0', len) != NULL) {
		*errstr_out = "a NUL in the policy";
		return -1;
	}
	while (len > 0) {
		/* sts-policy-term = LF / CRLF; the last one is optional */
		lf = memchr(p, '\n', len);
		n = lf != NULL ? (size_t)(lf - p) : len;
		if (lf != NULL) {
			len -= n + 1;
		} else
			len = 0;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		/* a blank line carries nothing: tolerated */
		if (n > 0 && mtasts_policy_line(p, n, out, &seen,
		    errstr_out) == -1)
			return -1;
		p = lf != NULL ? lf + 1 : p + n;
	}
	if ((seen & 1) == 0) {
		*errstr_out = "no version";
		return -1;
	}
	if ((seen & 2) == 0) {
		*errstr_out = "no mode";
		return -1;
	}
	if ((seen & 4) == 0) {
		*errstr_out = "no max_age";
		return -1;
	}
	/* A policy that withdraws (mode none) needs no MX to allow. */
	if (out->nmx == 0 && out->mode != MTASTS_MODE_NONE) {
		*errstr_out = "no mx";
		return -1;
	}
	return 0;
}

int
mtasts_txt_parse(const char *p, size_t len, char *id_out,
    const char **errstr_out)
{
	const char	*name;
	size_t		 i = 7, k, s, nlen, vlen;
	bool		 have_id = false;

	/* sts-version = %s"v=STSv1", first */
	if (len < 7 || memcmp(p, "v=STSv1", 7) != 0) {
		*errstr_out = "does not start with v=STSv1";
		return -1;
	}
	if (len > MTASTS_TXT_MAX) {
		*errstr_out = "record too long";
		return -1;
	}
	for (;;) {
		/* sts-sep = *WSP %x3B *WSP */
		while (i < len && mtasts_wsp((unsigned char)p[i]))
			i++;
		if (i == len)
			break;
		if (p[i] != ';') {
			*errstr_out = "fields not separated by ';'";
			return -1;
		}
		i++;
		while (i < len && mtasts_wsp((unsigned char)p[i]))
			i++;
		if (i == len)
			break;		/* [sts-sep] at the end */
		name = p + i;
		while (i < len && p[i] != '=')
			i++;
		nlen = (size_t)(p + i - name);
		if (i == len || !mtasts_name_ok(name, nlen)) {
			*errstr_out = "a field that is not name=value";
			return -1;
		}
		s = ++i;
		while (i < len && p[i] != ';' && !mtasts_wsp((unsigned char)
		    p[i]))
			i++;
		vlen = i - s;
		if (mtasts_eq(name, nlen, "id")) {
			if (have_id) {
				*errstr_out = "id given twice";
				return -1;
			}
			if (vlen == 0 || vlen > MTASTS_ID_MAX) {
				*errstr_out = "id is not 1-32 letters and "
				    "digits";
				return -1;
			}
			for (k = 0; k < vlen; k++)
				if (!mtasts_alnum((unsigned char)p[s + k])) {
					*errstr_out = "id is not 1-32 letters "
					    "and digits";
					return -1;
				}
			memcpy(id_out, p + s, vlen);
			id_out[vlen] = '\0';
			have_id = true;
			continue;
		}
		/* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
		if (vlen == 0) {
			*errstr_out = "an extension without a value";
			return -1;
		}
		for (k = 0; k < vlen; k++) {
			unsigned char c = (unsigned char)p[s + k];

			if (c < 0x21 || c > 0x7e || c == '=') {
				*errstr_out = "an extension value with a "
				    "character not allowed";
				return -1;
			}
		}
	}
	if (!have_id) {
		*errstr_out = "no id";
		return -1;
	}
	return 0;
}

int
mtasts_txt_pick(const struct dns_txt *txts, size_t n, char *id_out,
    const char **errstr_out)
{
	const struct dns_txt	*one = NULL;
	size_t			 i, kept = 0;

	for (i = 0; i < n; i++) {
		const struct dns_txt *t = &txts[i];

		/*
		 * §3.1: records that do not begin with "v=STSv1;" are
		 * discarded (blanks before the ';' as sts-sep allows).
		 */
		if (t->len < 8 || memcmp(t->data, "v=STSv1", 7) != 0 ||
		    (t->data[7] != ';' && !mtasts_wsp((unsigned char)
		    t->data[7])))
			continue;
		kept++;
		one = t;
	}
	if (kept == 0)
		return 0;
	if (kept > 1) {
		*errstr_out = "more than one v=STSv1 TXT record";
		return -1;
	}
	if (mtasts_txt_parse(one->data, one->len, id_out, errstr_out) == -1)
		return -1;
	return 1;
}

bool
mtasts_mx_match(const char *pattern, const char *host)
{
	size_t	plen = strlen(pattern), hlen = strlen(host);
	size_t	i;

	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* exactly one label, not empty, left of the rest */
		plen -= 1;	/* ".example.org" */
		if (hlen <= plen)
			return false;
		for (i = 0; i < hlen - plen; i++)
			if (host[i] == '.')
				return false;
		return strncasecmp(host + (hlen - plen), pattern + 1, plen) ==
		    0;
	}
	return plen == hlen && strncasecmp(host, pattern, hlen) == 0;
}

bool
mtasts_policy_match(const struct mtasts_policy *pol, const char *host)
{
	size_t	i;

	for (i = 0; i < pol->nmx; i++)
		if (mtasts_mx_match(pol->mx[i], host))
			return true;
	return false;
}

void
mtasts_policy_mx_list(const struct mtasts_policy *pol, char *out,
    size_t outsz)
{
	size_t	i, o = 0, n;

	if (outsz == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < pol->nmx; i++) {
		n = strlen(pol->mx[i]);
		if (o + n + 2 + 4 >= outsz) {
			if (o + 4 < outsz)
				(void)snprintf(out + o, outsz - o, "...");
			return;
		}
		(void)snprintf(out + o, outsz - o, "%s%s", i > 0 ? ", " : "",
		    pol->mx[i]);
		o += n + (i > 0 ? 2 : 0);
	}
}
