/*
 * tlsrpt: RFC 8460 reports, records and gzip, pure (tlsrpt.h).  Runs in
 * lookup (building our reports, parsing those we receive), the unit tests
 * and the fuzzer.  Input to the parsers is hostile: bounded, and walked
 * only through jansson's checked accessors.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <zlib.h>

#include "mime.h"
#include "mime_decode.h"
#include "sasl.h"
#include "tlsrpt.h"

/* 2^53: the largest count a JSON reader may be trusted to keep exact */
#define TLSRPT_COUNT_MAX	9007199254740992ULL
#define TLSRPT_GZ_CHUNK		16384
#define TLSRPT_B64_LINE		57	/* octets a 76-column line */
#define TLSRPT_BOUNDARY_MAX	60

static const char *const tlsrpt_policy_names[TLSRPT_POLICY_TYPE_COUNT] = {
	[TLSRPT_POLICY_STS] = "sts",
	[TLSRPT_POLICY_TLSA] = "tlsa",
	[TLSRPT_POLICY_NONE] = "no-policy-found",
};

static const char *const tlsrpt_result_names[TLSRPT_RESULT_COUNT] = {
	[TLSRPT_OK] = "success",
	/* §4.3.1 negotiation failures */
	[TLSRPT_STARTTLS_NOT_SUPPORTED] = "starttls-not-supported",
	[TLSRPT_CERTIFICATE_HOST_MISMATCH] = "certificate-host-mismatch",
	[TLSRPT_CERTIFICATE_EXPIRED] = "certificate-expired",
	[TLSRPT_CERTIFICATE_NOT_TRUSTED] = "certificate-not-trusted",
	[TLSRPT_VALIDATION_FAILURE] = "validation-failure",
	/* §4.3.2.1 DANE */
	[TLSRPT_TLSA_INVALID] = "tlsa-invalid",
	[TLSRPT_DNSSEC_INVALID] = "dnssec-invalid",
	[TLSRPT_DANE_REQUIRED] = "dane-required",
	/* §4.3.2.2 MTA-STS */
	[TLSRPT_STS_POLICY_FETCH_ERROR] = "sts-policy-fetch-error",
	[TLSRPT_STS_POLICY_INVALID] = "sts-policy-invalid",
	[TLSRPT_STS_WEBPKI_INVALID] = "sts-webpki-invalid",
};

const char *
tlsrpt_policy_type_name(uint32_t t)
{
	return t < TLSRPT_POLICY_TYPE_COUNT ? tlsrpt_policy_names[t] : NULL;
}

const char *
tlsrpt_result_name(uint32_t r)
{
	return r < TLSRPT_RESULT_COUNT ? tlsrpt_result_names[r] : NULL;
}

int
tlsrpt_result_from_name(const char *s)
{
	int	i;

	for (i = 1; i < TLSRPT_RESULT_COUNT; i++)
		if (strcmp(s, tlsrpt_result_names[i]) == 0)
			return i;
	return -1;
}

int
tlsrpt_policy_type_from_name(const char *s)
{
	int	i;

	for (i = 0; i < TLSRPT_POLICY_TYPE_COUNT; i++)
		if (strcmp(s, tlsrpt_policy_names[i]) == 0)
			return i;
	return -1;
}

/* --- building (§4.4) --- */

static int
tlsrpt_datetime(uint64_t t, char *out, size_t outsz)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t > 253402300799ULL || gmtime_r(&tt, &tm) == NULL)
		return -1;
	/* RFC 3339 §5.6 date-time in UTC, as the RFC's example writes it */
	if (strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return 0;
}

/* A JSON array of the "\n"-separated lines of s (none for ""). */
static json_t *
tlsrpt_lines(const char *s)
{
	json_t		*a;
	const char	*nl;

	if ((a = json_array()) == NULL)
		return NULL;
	while (*s != '\0') {
		nl = strchr(s, '\n');
		if (json_array_append_new(a, json_stringn(s, nl != NULL ?
		    (size_t)(nl - s) : strlen(s))) == -1) {
			json_decref(a);
			return NULL;
		}
		if (nl == NULL)
			break;
		s = nl + 1;
	}
	return a;
}

static int
tlsrpt_set_str(json_t *o, const char *key, const char *v)
{
	if (v == NULL || *v == '\0')
		return 0;
	return json_object_set_new(o, key, json_string(v));
}

static json_t *
tlsrpt_build_failure(const struct tlsrpt_failure *f)
{
	json_t		*o;
	const char	*name;

	if (f->result == TLSRPT_OK ||
	    (name = tlsrpt_result_name(f->result)) == NULL ||
	    f->count > TLSRPT_COUNT_MAX || (o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "result-type", json_string(name)) == -1 ||
	    tlsrpt_set_str(o, "sending-mta-ip", f->sending_ip) == -1 ||
	    tlsrpt_set_str(o, "receiving-mx-hostname", f->receiving_mx) ==
	    -1 ||
	    tlsrpt_set_str(o, "receiving-ip", f->receiving_ip) == -1 ||
	    json_object_set_new(o, "failed-session-count",
	    json_integer((json_int_t)f->count)) == -1 ||
	    tlsrpt_set_str(o, "additional-information", f->info) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
tlsrpt_build_policy(const struct tlsrpt_policy *p)
{
	json_t		*o, *pol, *sum, *fd, *f;
	const char	*name;
	size_t		 i;

	if ((name = tlsrpt_policy_type_name(p->type)) == NULL ||
	    p->domain == NULL || p->ok > TLSRPT_COUNT_MAX ||
	    p->fail > TLSRPT_COUNT_MAX)
		return NULL;
	o = json_object();
	pol = json_object();
	sum = json_object();
	fd = json_array();
	if (o == NULL || pol == NULL || sum == NULL || fd == NULL)
		goto fail;
	if (json_object_set_new(pol, "policy-type", json_string(name)) ==
	    -1 ||
	    json_object_set_new(pol, "policy-domain",
	    json_string(p->domain)) == -1)
		goto fail;
	/* §4.4: no policy string or MX host for no-policy-found */
	if (p->type != TLSRPT_POLICY_NONE &&
	    (json_object_set_new(pol, "policy-string",
	    tlsrpt_lines(p->strings != NULL ? p->strings : "")) == -1 ||
	    (p->mx_hosts != NULL && *p->mx_hosts != '\0' &&
	    json_object_set_new(pol, "mx-host",
	    tlsrpt_lines(p->mx_hosts)) == -1)))
		goto fail;
	if (json_object_set_new(sum, "total-successful-session-count",
	    json_integer((json_int_t)p->ok)) == -1 ||
	    json_object_set_new(sum, "total-failure-session-count",
	    json_integer((json_int_t)p->fail)) == -1)
		goto fail;
	for (i = 0; i < p->nfailures; i++) {
		if ((f = tlsrpt_build_failure(&p->failures[i])) == NULL ||
		    json_array_append_new(fd, f) == -1)
			goto fail;
	}
	if (json_object_set_new(o, "policy", pol) == -1) {
		pol = NULL;
		goto fail;
	}
	pol = NULL;
	if (json_object_set_new(o, "summary", sum) == -1) {
		sum = NULL;
		goto fail;
	}
	sum = NULL;
	if (json_object_set_new(o, "failure-details", fd) == -1) {
		fd = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(fd);
	json_decref(sum);
	json_decref(pol);
	json_decref(o);
	return NULL;
}

char *
tlsrpt_build(const struct tlsrpt_report *r, bool pretty,
    const char **errstr_out)
{
	json_t	*o = NULL, *dr, *pols, *p;
	char	 start[32], end[32], *s;
	size_t	 i;

	*errstr_out = "out of memory";
	/* §4.4: whole days; end-datetime is the last second of the range */
	if (r->end <= r->start || tlsrpt_datetime(r->start, start,
	    sizeof(start)) == -1 || tlsrpt_datetime(r->end - 1, end,
	    sizeof(end)) == -1) {
		*errstr_out = "bad date range";
		return NULL;
	}
	if (r->org == NULL || r->contact == NULL || r->report_id == NULL) {
		*errstr_out = "missing organization, contact or report id";
		return NULL;
	}
	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "organization-name",
	    json_string(r->org)) == -1)
		goto fail;
	if ((dr = json_object()) == NULL ||
	    json_object_set_new(o, "date-range", dr) == -1 ||
	    json_object_set_new(dr, "start-datetime", json_string(start)) ==
	    -1 ||
	    json_object_set_new(dr, "end-datetime", json_string(end)) == -1)
		goto fail;
	if (json_object_set_new(o, "contact-info", json_string(r->contact)) ==
	    -1 ||
	    json_object_set_new(o, "report-id", json_string(r->report_id)) ==
	    -1)
		goto fail;
	if ((pols = json_array()) == NULL ||
	    json_object_set_new(o, "policies", pols) == -1)
		goto fail;
	for (i = 0; i < r->npolicies; i++) {
		if ((p = tlsrpt_build_policy(&r->policies[i])) == NULL) {
			*errstr_out = "bad policy";
			goto fail;
		}
		if (json_array_append_new(pols, p) == -1)
			goto fail;
	}
	s = json_dumps(o, JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) :
	    JSON_COMPACT));
	json_decref(o);
	return s;
fail:
	json_decref(o);
	return NULL;
}

/* --- parsing --- */

static int
tlsrpt_digits(const char *s, size_t n, unsigned *out)
{
	size_t		i;
	unsigned	v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
tlsrpt_datetime_parse(const char *s, size_t len, uint64_t *out)
{
	struct tm	tm;
	unsigned	y, mo, d, h, mi, sec, oh, om;
	size_t		i = 19;
	time_t		t;
	long		off = 0;

	/* RFC 3339 §5.6: full-date "T" partial-time time-offset */
	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    tlsrpt_digits(s, 4, &y) == -1 ||
	    tlsrpt_digits(s + 5, 2, &mo) == -1 ||
	    tlsrpt_digits(s + 8, 2, &d) == -1 ||
	    tlsrpt_digits(s + 11, 2, &h) == -1 ||
	    tlsrpt_digits(s + 14, 2, &mi) == -1 ||
	    tlsrpt_digits(s + 17, 2, &sec) == -1)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (s[i] == '.') {
		/* time-secfrac: dropped */
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == 20)
			return -1;
	}
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z'))
		;
	else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':' && tlsrpt_digits(s + i + 1, 2, &oh) == 0 &&
	    tlsrpt_digits(s + i + 4, 2, &om) == 0 && oh < 24 && om < 60)
		off = (s[i] == '+' ? 1 : -1) * (long)(oh * 3600 + om * 60);
	else
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)(sec == 60 ? 59 : sec);
	if ((t = timegm(&tm)) == (time_t)-1 || (long)t - off < 0)
		return -1;
	*out = (uint64_t)((long)t - off);
	return 0;
}

/* A string member of at most max octets (no NUL), copied to out. */
static int
tlsrpt_get_str(const json_t *o, const char *key, char *out, size_t max,
    bool required)
{
	const json_t	*v;
	size_t		 n;

	out[0] = '\0';
	if ((v = json_object_get(o, key)) == NULL)
		return required ? -1 : 0;
	if (!json_is_string(v))
		return -1;
	n = json_string_length(v);
	if (n > max || memchr(json_string_value(v), '\0', n) != NULL)
		return -1;
	memcpy(out, json_string_value(v), n);
	out[n] = '\0';
	return 0;
}

static int
tlsrpt_get_count(const json_t *o, const char *key, uint64_t *out)
{
	const json_t	*v;
	json_int_t	 n;

	*out = 0;
	if ((v = json_object_get(o, key)) == NULL)
		return 0;
	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n > TLSRPT_COUNT_MAX)
		return -1;
	*out = (uint64_t)n;
	return 0;
}

static int
tlsrpt_parse_policy(const json_t *e, struct tlsrpt_summary *out,
    const char **errstr_out)
{
	const json_t	*pol, *sum, *fd, *f;
	char		 type[32], dom[TLSRPT_NAME_MAX + 1];
	uint64_t	 ok, fail;
	size_t		 i;

	if (!json_is_object(e) ||
	    (pol = json_object_get(e, "policy")) == NULL ||
	    !json_is_object(pol) ||
	    (sum = json_object_get(e, "summary")) == NULL ||
	    !json_is_object(sum)) {
		*errstr_out = "a policy without policy or summary";
		return -1;
	}
	/*
	 * §4.4 makes policy-domain and both counts required; reporters
	 * leave them out (Stalwart's rpt03.json), so a missing one is ""
	 * or 0, and only a wrong type or size refuses the report.
	 */
	if (tlsrpt_get_str(pol, "policy-type", type, sizeof(type) - 1,
	    true) == -1 ||
	    tlsrpt_get_str(pol, "policy-domain", dom, sizeof(dom) - 1,
	    false) == -1) {
		*errstr_out = "bad policy-type or policy-domain";
		return -1;
	}
	if (tlsrpt_get_count(sum, "total-successful-session-count", &ok) ==
	    -1 ||
	    tlsrpt_get_count(sum, "total-failure-session-count", &fail) ==
	    -1) {
		*errstr_out = "bad summary counts";
		return -1;
	}
	if ((fd = json_object_get(e, "failure-details")) != NULL) {
		if (!json_is_array(fd) ||
		    json_array_size(fd) > TLSRPT_FAILURES_MAX) {
			*errstr_out = "bad failure-details";
			return -1;
		}
		json_array_foreach(fd, i, f) {
			if (!json_is_object(f) ||
			    !json_is_string(json_object_get(f,
			    "result-type"))) {
				*errstr_out = "a failure without result-type";
				return -1;
			}
		}
	}
	if (out->npolicies == 0)
		memcpy(out->domain, dom, sizeof(out->domain));
	if (__builtin_add_overflow(out->ok, ok, &out->ok) ||
	    __builtin_add_overflow(out->fail, fail, &out->fail)) {
		*errstr_out = "counts overflow";
		return -1;
	}
	out->npolicies++;
	return 0;
}

int
tlsrpt_parse(const char *p, size_t len, struct tlsrpt_summary *out,
    const char **errstr_out)
{
	json_error_t	 jerr;
	json_t		*o, *dr, *pols, *e;
	char		 t[64];
	size_t		 i;
	int		 rc = -1;

	memset(out, 0, sizeof(*out));
	if (len > TLSRPT_JSON_MAX) {
		*errstr_out = "report too large";
		return -1;
	}
	o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		*errstr_out = "not JSON";
		return -1;
	}
	if (!json_is_object(o)) {
		*errstr_out = "not a JSON object";
		goto done;
	}
	*errstr_out = "bad organization-name, contact-info or report-id";
	if (tlsrpt_get_str(o, "organization-name", out->org, TLSRPT_TEXT_MAX,
	    true) == -1 ||
	    tlsrpt_get_str(o, "report-id", out->report_id, TLSRPT_TEXT_MAX,
	    true) == -1 ||
	    tlsrpt_get_str(o, "contact-info", out->contact, TLSRPT_TEXT_MAX,
	    false) == -1)
		goto done;
	*errstr_out = "bad date-range";
	if ((dr = json_object_get(o, "date-range")) == NULL ||
	    !json_is_object(dr) ||
	    tlsrpt_get_str(dr, "start-datetime", t, sizeof(t) - 1, true) ==
	    -1 || tlsrpt_datetime_parse(t, strlen(t), &out->start) == -1 ||
	    tlsrpt_get_str(dr, "end-datetime", t, sizeof(t) - 1, true) ==
	    -1 || tlsrpt_datetime_parse(t, strlen(t), &out->end) == -1 ||
	    out->end < out->start)
		goto done;
	if ((pols = json_object_get(o, "policies")) == NULL ||
	    !json_is_array(pols)) {
		*errstr_out = "no policies";
		goto done;
	}
	if (json_array_size(pols) > TLSRPT_POLICIES_MAX) {
		*errstr_out = "too many policies";
		goto done;
	}
	json_array_foreach(pols, i, e) {
		if (tlsrpt_parse_policy(e, out, errstr_out) == -1)
			goto done;
	}
	rc = 0;
done:
	json_decref(o);
	return rc;
}

/* --- the TXT record (§3) --- */

static bool
tlsrpt_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* One rua URI u[0..n): kept if mailto: or https: (§3 "rua"). */
static int
tlsrpt_record_uri(const char *u, size_t n, struct tlsrpt_record *out)
{
	size_t	i;

	while (n > 0 && tlsrpt_wsp(*u)) {
		u++;
		n--;
	}
	while (n > 0 && tlsrpt_wsp(u[n - 1]))
		n--;
	if (n == 0 || n > TLSRPT_URI_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return -1;
	if ((n > 7 && strncasecmp(u, "mailto:", 7) == 0) ||
	    (n > 8 && strncasecmp(u, "https://", 8) == 0)) {
		if (out->nrua == TLSRPT_RUA_MAX)
			return 0;
		memcpy(out->rua[out->nrua], u, n);
		out->rua[out->nrua][n] = '\0';
		out->nrua++;
	}
	return 0;
}

int
tlsrpt_record_parse(const char *p, size_t len, struct tlsrpt_record *out,
    const char **errstr_out)
{
	const char	*end = p + len, *f, *fe, *eq, *u, *c;
	bool		 first = true, rua = false;

	memset(out, 0, sizeof(*out));
	if (len > TLSRPT_TXT_MAX || memchr(p, '\0', len) != NULL) {
		*errstr_out = "record too long or holds a NUL";
		return -1;
	}
	while (p < end) {
		/* tlsrpt-field-delim = *WSP ";" *WSP */
		while (p < end && tlsrpt_wsp(*p))
			p++;
		if (p == end)
			break;
		f = p;
		if ((fe = memchr(p, ';', (size_t)(end - p))) == NULL)
			fe = end;
		p = fe < end ? fe + 1 : end;
		while (fe > f && tlsrpt_wsp(fe[-1]))
			fe--;
		if (fe == f) {
			if (first)
				break;
			continue;
		}
		if ((eq = memchr(f, '=', (size_t)(fe - f))) == NULL) {
			*errstr_out = "a field without '='";
			return -1;
		}
		if (first) {
			/* §3: "v=TLSRPTv1" is first, exactly */
			if (fe - f != 10 || memcmp(f, "v=TLSRPTv1", 10) != 0) {
				*errstr_out = "not v=TLSRPTv1";
				return -1;
			}
			first = false;
			continue;
		}
		if (eq - f != 3 || memcmp(f, "rua", 3) != 0)
			continue;	/* an extension: ignored */
		if (rua) {
			*errstr_out = "more than one rua";
			return -1;
		}
		rua = true;
		for (u = eq + 1; u <= fe; u = c + 1) {
			if ((c = memchr(u, ',', (size_t)(fe - u))) == NULL)
				c = fe;
			if (tlsrpt_record_uri(u, (size_t)(c - u), out) == -1) {
				*errstr_out = "bad rua URI";
				return -1;
			}
		}
	}
	if (first) {
		*errstr_out = "not v=TLSRPTv1";
		return -1;
	}
	if (!rua || out->nrua == 0) {
		*errstr_out = "no mailto: or https: rua";
		return -1;
	}
	return 0;
}

int
tlsrpt_https_host(const char *uri, char *host, size_t hostsz)
{
	const char	*p;
	size_t		 n = 0;

	if (strncasecmp(uri, "https://", 8) != 0)
		return -1;
	for (p = uri + 8; *p != '\0' && strchr(":/?#", *p) == NULL; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.') ||
		    n + 1 >= hostsz || n + 1 > TLSRPT_NAME_MAX)
			return -1;
		host[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	}
	host[n] = '\0';
	if (*p == ':') {
		if (strncmp(p, ":443", 4) != 0)
			return -1;
		p += 4;
	}
	if (n == 0 || host[0] == '.' || host[0] == '-' ||
	    (*p != '\0' && strchr("/?#", *p) == NULL))
		return -1;
	return 0;
}

/* --- the report by mail (§5.3) --- */

static bool
tlsrpt_header_safe(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL &&
	    strlen(s) <= TLSRPT_URI_MAX;
}

static bool
tlsrpt_boundary_ok(const char *b)
{
	size_t	n = strspn(b, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
		    "WXYZ0123456789._-");

	return n > 0 && n <= TLSRPT_BOUNDARY_MAX && b[n] == '\0';
}

int
tlsrpt_mail_head(const char *const fields[], size_t nfields,
    const char *boundary, uint64_t now, char *date, size_t datesz)
{
	struct tm	tm;
	time_t		t = (time_t)now;
	size_t		i;

	for (i = 0; i < nfields; i++)
		if (!tlsrpt_header_safe(fields[i]))
			return -1;
	if (!tlsrpt_boundary_ok(boundary) || gmtime_r(&t, &tm) == NULL ||
	    strftime(date, datesz, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return -1;
	return 0;
}

int
tlsrpt_mail_compose(const struct tlsrpt_mail *m, struct buf *out)
{
	const char	*fields[] = { m->from, m->to, m->domain, m->submitter,
			    m->report_id };
	char		 date[64];

	if (tlsrpt_mail_head(fields, sizeof(fields) / sizeof(fields[0]),
	    m->boundary, m->now, date, sizeof(date)) == -1)
		return -1;
	if (buf_printf(out, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
	    "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n"
	    "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n"
	    "Message-ID: <%s>\r\nAuto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	    "\tboundary=\"%s\"\r\n\r\n"
	    "This is a multipart message in MIME format.\r\n\r\n"
	    "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "This is an aggregate TLS report from %s (RFC 8460).\r\n\r\n"
	    "--%s\r\nContent-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n"
	    "\tfilename=\"%s!%s!%llu!%llu!%s.json.gz\"\r\n\r\n",
	    m->from, m->to, date, m->domain, m->submitter, m->report_id,
	    m->domain, m->submitter, m->report_id, m->boundary, m->boundary,
	    m->submitter, m->boundary, m->submitter, m->domain,
	    (unsigned long long)m->start, (unsigned long long)m->end,
	    m->report_id) == -1)
		return -1;
	if (tlsrpt_b64_lines(m->gz, m->gzlen, out) == -1)
		return -1;
	return buf_printf(out, "\r\n--%s--\r\n", m->boundary);
}

int
tlsrpt_b64_lines(const void *data, size_t len, struct buf *out)
{
	const unsigned char	*p = data;
	char			 line[80];
	size_t			 i, n;

	for (i = 0; i < len; i += n) {
		n = len - i < TLSRPT_B64_LINE ? len - i : TLSRPT_B64_LINE;
		(void)sasl_b64_encode(p + i, n, line);
		if (buf_append_str(out, line) == -1 ||
		    buf_append(out, "\r\n", 2) == -1)
			return -1;
	}
	return 0;
}

int
tlsrpt_mailto(const char *uri, char *out, size_t outsz)
{
	static const char	 hex[] = "0123456789abcdef";
	const char		*p = uri + 7, *h1, *h2;
	size_t			 o = 0;

	for (; *p != '\0' && *p != '?'; p++) {
		if (o + 1 >= outsz)
			return -1;
		/* RFC 3986 §2.1: %XX, either case; %00 is refused below */
		if (*p == '%' && p[1] != '\0' && p[2] != '\0' &&
		    (h1 = strchr(hex, p[1] | 0x20)) != NULL &&
		    (h2 = strchr(hex, p[2] | 0x20)) != NULL) {
			out[o++] = (char)((h1 - hex) * 16 + (h2 - hex));
			if (out[o - 1] == '\0')
				return -1;
			p += 2;
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
	if (o == 0 || strchr(out, '@') == NULL ||
	    strpbrk(out, " \t\r\n<>\"") != NULL)
		return -1;
	for (p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			return -1;
	return 0;
}

int
tlsrpt_mail_extract(const char *msg, size_t len, struct buf *out,
    const char **errstr_out)
{
	struct mime_msg		 mm;
	const struct mime_part	*p;
	struct buf		 raw;
	uint32_t		 i;
	int			 rc = -1;
	bool			 gz;

	memset(&mm, 0, sizeof(mm));
	mime_parse(&mm, msg, len);
	buf_init(&raw, TLSRPT_JSON_MAX);
	*errstr_out = "no application/tlsrpt+json or +gzip part";
	for (i = 0; i < mm.nparts; i++) {
		p = &mm.parts[i];
		if (p->kind != MIME_KIND_LEAF ||
		    !span_caseeq(p->type, "application"))
			continue;
		/*
		 * §6.4, §6.5 register tlsrpt+json and tlsrpt+gzip; some
		 * senders write plain "tlsrpt" (Stalwart's rpt02.eml), so
		 * that is taken too, and the gzip magic decides (RFC 1952
		 * §2.3.1) rather than the name.
		 */
		if (!span_caseeq(p->subtype, "tlsrpt+gzip") &&
		    !span_caseeq(p->subtype, "tlsrpt+json") &&
		    !span_caseeq(p->subtype, "tlsrpt"))
			continue;
		*errstr_out = "the report does not decode";
		if (mime_decode_body(p->cte, mime_part_body(&mm, i), &raw) ==
		    -1)
			break;
		gz = raw.len >= 2 && (unsigned char)raw.data[0] == 0x1f &&
		    (unsigned char)raw.data[1] == 0x8b;
		if (!gz && buf_append(out, raw.data, raw.len) == -1)
			break;
		if (gz && tlsrpt_gunzip(raw.data, raw.len, TLSRPT_JSON_MAX,
		    out) == -1) {
			*errstr_out = "the report does not gunzip";
			break;
		}
		rc = 0;
		break;
	}
	buf_free(&raw);
	mime_msg_free(&mm);
	return rc;
}

/* --- gzip (§5.3: application/tlsrpt+gzip) --- */

int
tlsrpt_gzip(const void *p, size_t len, struct buf *out)
{
	z_stream	z;
	unsigned char	chunk[TLSRPT_GZ_CHUNK];
	int		rc;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header and trailer around the deflate stream */
	if (len > UINT32_MAX || deflateInit2(&z, Z_BEST_COMPRESSION,
	    Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		if (rc == Z_STREAM_ERROR || buf_append(out, chunk,
		    sizeof(chunk) - z.avail_out) == -1) {
			deflateEnd(&z);
			return -1;
		}
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
	return 0;
}

int
tlsrpt_gunzip(const void *p, size_t len, size_t max, struct buf *out)
{
	z_stream	z;
	unsigned char	chunk[TLSRPT_GZ_CHUNK];
	size_t		n, total = 0;
	int		rc;

	memset(&z, 0, sizeof(z));
	if (len > UINT32_MAX || inflateInit2(&z, 15 + 16) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END)
			goto fail;
		n = sizeof(chunk) - z.avail_out;
		if (n > max - total || buf_append(out, chunk, n) == -1)
			goto fail;
		total += n;
		/* no progress with input left: truncated */
		if (rc == Z_OK && n == 0 && z.avail_in == 0)
			goto fail;
	} while (rc != Z_STREAM_END);
	inflateEnd(&z);
	return 0;
fail:
	inflateEnd(&z);
	return -1;
}
