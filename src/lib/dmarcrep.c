/*
 * dmarcrep: DMARC aggregate and failure reports, built and parsed
 * (dmarcrep.h).  libxml2 for the XML both ways, zlib (through tlsrpt.c's
 * gzip) and libzip for what reporters wrap it in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <zip.h>

#include "dmarcrep.h"
#include "mime.h"
#include "mime_decode.h"
#include "tlsrpt.h"

#define DMARCREP_ZIP_CHUNK	16384
#define DMARCREP_ARF_MAX	(64 * 1024)	/* a feedback-report part */

static const char *const dmarcrep_dispositions[] = {
	"none", "quarantine", "reject",
};

const char *
dmarcrep_disposition_name(uint32_t d)
{
	if (d >= sizeof(dmarcrep_dispositions) /
	    sizeof(dmarcrep_dispositions[0]))
		return NULL;
	return dmarcrep_dispositions[d];
}

static int
dmarcrep_disposition_from(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(dmarcrep_dispositions) /
	    sizeof(dmarcrep_dispositions[0]); i++)
		if (strcmp(s, dmarcrep_dispositions[i]) == 0)
			return (int)i;
	return -1;
}

/* --- building (Appendix C) --- */

static int
dmarcrep_elem(xmlTextWriterPtr w, const char *name, const char *value)
{
	return xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST value) <
	    0 ? -1 : 0;
}

static int
dmarcrep_elem_u64(xmlTextWriterPtr w, const char *name, uint64_t v)
{
	char	num[24];

	(void)snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return dmarcrep_elem(w, name, num);
}

static int
dmarcrep_open(xmlTextWriterPtr w, const char *name)
{
	return xmlTextWriterStartElement(w, BAD_CAST name) < 0 ? -1 : 0;
}

/* End the n innermost open elements. */
static int
dmarcrep_close(xmlTextWriterPtr w, int n)
{
	while (n-- > 0)
		if (xmlTextWriterEndElement(w) < 0)
			return -1;
	return 0;
}

static bool
dmarcrep_text_ok(const char *s)
{
	return s != NULL && strlen(s) <= DMARCREP_TEXT_MAX;
}

static int
dmarcrep_build_record(xmlTextWriterPtr w, const struct dmarcrep_record *r)
{
	size_t	i;

	if (!dmarcrep_text_ok(r->source_ip) ||
	    !dmarcrep_text_ok(r->header_from) ||
	    dmarcrep_disposition_name(r->disposition) == NULL ||
	    r->ndkim > DMARCREP_DKIM_MAX ||
	    r->nreasons > DMARCREP_REASONS_MAX)
		return -1;
	if (dmarcrep_open(w, "record") == -1 || dmarcrep_open(w, "row") == -1 ||
	    dmarcrep_elem(w, "source_ip", r->source_ip) == -1 ||
	    dmarcrep_elem_u64(w, "count", r->count) == -1 ||
	    dmarcrep_open(w, "policy_evaluated") == -1 ||
	    dmarcrep_elem(w, "disposition",
	    dmarcrep_disposition_name(r->disposition)) == -1 ||
	    dmarcrep_elem(w, "dkim", r->dkim_pass ? "pass" : "fail") == -1 ||
	    dmarcrep_elem(w, "spf", r->spf_pass ? "pass" : "fail") == -1)
		return -1;
	for (i = 0; i < r->nreasons; i++)
		if (dmarcrep_open(w, "reason") == -1 ||
		    dmarcrep_elem(w, "type", r->reasons[i]) == -1 ||
		    dmarcrep_close(w, 1) == -1)
			return -1;
	if (dmarcrep_close(w, 2) == -1 ||
	    dmarcrep_open(w, "identifiers") == -1 ||
	    (r->envelope_to != NULL && r->envelope_to[0] != '\0' &&
	    dmarcrep_elem(w, "envelope_to", r->envelope_to) == -1) ||
	    dmarcrep_elem(w, "header_from", r->header_from) == -1 ||
	    dmarcrep_close(w, 1) == -1 || dmarcrep_open(w, "auth_results") == -1)
		return -1;
	for (i = 0; i < r->ndkim; i++) {
		if (dmarcrep_open(w, "dkim") == -1 ||
		    dmarcrep_elem(w, "domain", r->dkim[i].domain) == -1 ||
		    (r->dkim[i].selector[0] != '\0' &&
		    dmarcrep_elem(w, "selector", r->dkim[i].selector) == -1) ||
		    dmarcrep_elem(w, "result", r->dkim[i].result) == -1 ||
		    dmarcrep_close(w, 1) == -1)
			return -1;
	}
	/* Appendix C: "There will always be at least one SPF result." */
	if (dmarcrep_open(w, "spf") == -1 ||
	    dmarcrep_elem(w, "domain", r->spf_domain) == -1 ||
	    dmarcrep_elem(w, "scope", r->spf_scope) == -1 ||
	    dmarcrep_elem(w, "result", r->spf_result) == -1 ||
	    dmarcrep_close(w, 3) == -1)
		return -1;
	return 0;
}

int
dmarcrep_build(const struct dmarcrep_report *r, struct buf *out,
    const char **errstr_out)
{
	xmlBufferPtr		 xb;
	xmlTextWriterPtr	 w = NULL;
	char			 pct[16], adkim[2] = { r->adkim, '\0' },
				 aspf[2] = { r->aspf, '\0' };
	size_t			 i;
	int			 rc = -1;

	*errstr_out = "a value is out of range";
	if (!dmarcrep_text_ok(r->org_name) || !dmarcrep_text_ok(r->email) ||
	    !dmarcrep_text_ok(r->report_id) || !dmarcrep_text_ok(r->domain) ||
	    dmarcrep_disposition_name(r->p) == NULL ||
	    dmarcrep_disposition_name(r->sp) == NULL || r->pct > 100 ||
	    (r->adkim != 'r' && r->adkim != 's') ||
	    (r->aspf != 'r' && r->aspf != 's') || r->nrecords == 0 ||
	    r->begin > r->end)
		return -1;
	if ((xb = xmlBufferCreate()) == NULL ||
	    (w = xmlNewTextWriterMemory(xb, 0)) == NULL)
		goto done;
	(void)snprintf(pct, sizeof(pct), "%u", r->pct);
	(void)xmlTextWriterSetIndent(w, 1);
	if (xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0 ||
	    dmarcrep_open(w, "feedback") == -1 ||
	    dmarcrep_open(w, "report_metadata") == -1 ||
	    dmarcrep_elem(w, "org_name", r->org_name) == -1 ||
	    dmarcrep_elem(w, "email", r->email) == -1 ||
	    dmarcrep_elem(w, "report_id", r->report_id) == -1 ||
	    dmarcrep_open(w, "date_range") == -1 ||
	    dmarcrep_elem_u64(w, "begin", r->begin) == -1 ||
	    dmarcrep_elem_u64(w, "end", r->end) == -1 ||
	    dmarcrep_close(w, 2) == -1 ||
	    dmarcrep_open(w, "policy_published") == -1 ||
	    dmarcrep_elem(w, "domain", r->domain) == -1 ||
	    dmarcrep_elem(w, "adkim", adkim) == -1 ||
	    dmarcrep_elem(w, "aspf", aspf) == -1 ||
	    dmarcrep_elem(w, "p", dmarcrep_disposition_name(r->p)) == -1 ||
	    dmarcrep_elem(w, "sp", dmarcrep_disposition_name(r->sp)) == -1 ||
	    dmarcrep_elem(w, "pct", pct) == -1 ||
	    /* the Appendix C schema requires fo (§6.3 default "0") */
	    dmarcrep_elem(w, "fo", r->fo != NULL && r->fo[0] != '\0' ?
	    r->fo : "0") == -1 || dmarcrep_close(w, 1) == -1)
		goto done;
	for (i = 0; i < r->nrecords; i++)
		if (dmarcrep_build_record(w, &r->records[i]) == -1)
			goto done;
	if (dmarcrep_close(w, 1) == -1 || xmlTextWriterEndDocument(w) < 0)
		goto done;
	xmlFreeTextWriter(w);
	w = NULL;
	*errstr_out = "the report is too large";
	if (buf_append(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb))
	    == -1)
		goto done;
	rc = 0;
done:
	if (w != NULL)
		xmlFreeTextWriter(w);
	if (xb != NULL)
		xmlBufferFree(xb);
	return rc;
}

/* --- parsing aggregate reports --- */

/* The first child element of n named name (any namespace), or NULL. */
static xmlNodePtr
dmarcrep_child(xmlNodePtr n, const char *name)
{
	xmlNodePtr	c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The trimmed text of the path's element into out; -1 when absent. */
static int
dmarcrep_text(xmlNodePtr n, const char *name, char *out, size_t outsz)
{
	xmlChar		*t;
	const char	*s, *e;
	size_t		 len;

	out[0] = '\0';
	if ((n = dmarcrep_child(n, name)) == NULL ||
	    (t = xmlNodeGetContent(n)) == NULL)
		return -1;
	s = (const char *)t;
	s += strspn(s, " \t\r\n");
	len = strlen(s);
	for (e = s + len; e > s && strchr(" \t\r\n", e[-1]) != NULL; e--)
		;
	len = (size_t)(e - s);
	if (len >= outsz)
		len = outsz - 1;	/* kept for display: cut, not refused */
	memcpy(out, s, len);
	out[len] = '\0';
	xmlFree(t);
	return 0;
}

static int
dmarcrep_u64(xmlNodePtr n, const char *name, uint64_t *out)
{
	char	v[32];
	bool	ovf;

	if (dmarcrep_text(n, name, v, sizeof(v)) == -1 ||
	    span_to_u64(span_str(v), out, &ovf) == -1 || ovf)
		return -1;
	return 0;
}

/* Keep ip's failing count among the largest DMARCREP_SOURCES_MAX. */
static void
dmarcrep_source_add(struct dmarcrep_summary *s, const char *ip,
    uint64_t count)
{
	size_t	i, j;

	for (i = 0; i < s->nsources; i++)
		if (strcmp(s->sources[i].ip, ip) == 0) {
			s->sources[i].count += count;
			goto sort;
		}
	if (s->nsources < DMARCREP_SOURCES_MAX)
		i = s->nsources++;
	else if (s->sources[DMARCREP_SOURCES_MAX - 1].count < count)
		i = DMARCREP_SOURCES_MAX - 1;
	else
		return;
	(void)snprintf(s->sources[i].ip, sizeof(s->sources[i].ip), "%s", ip);
	s->sources[i].count = count;
sort:
	for (j = i; j > 0 && s->sources[j - 1].count < s->sources[j].count;
	    j--) {
		struct dmarcrep_source	t = s->sources[j];

		s->sources[j] = s->sources[j - 1];
		s->sources[j - 1] = t;
	}
}

static int
dmarcrep_parse_record(xmlNodePtr rec, struct dmarcrep_summary *s,
    const char **errstr_out)
{
	xmlNodePtr	row, pe;
	char		ip[DMARCREP_IP_MAX], v[32];
	uint64_t	count;
	bool		pass = false;

	*errstr_out = "a record without row, source_ip, count or "
	    "policy_evaluated";
	if ((row = dmarcrep_child(rec, "row")) == NULL ||
	    dmarcrep_text(row, "source_ip", ip, sizeof(ip)) == -1 ||
	    dmarcrep_u64(row, "count", &count) == -1 ||
	    (pe = dmarcrep_child(row, "policy_evaluated")) == NULL)
		return -1;
	/* RFC 9990 adds "pass" to the dispositions */
	*errstr_out = "a policy_evaluated value outside the schema's";
	if (dmarcrep_text(pe, "disposition", v, sizeof(v)) == -1 ||
	    (dmarcrep_disposition_from(v) == -1 && strcmp(v, "pass") != 0))
		return -1;
	if (dmarcrep_text(pe, "dkim", v, sizeof(v)) == 0) {
		if (strcmp(v, "pass") != 0 && strcmp(v, "fail") != 0)
			return -1;
		pass = strcmp(v, "pass") == 0;
	}
	if (dmarcrep_text(pe, "spf", v, sizeof(v)) == 0) {
		if (strcmp(v, "pass") != 0 && strcmp(v, "fail") != 0)
			return -1;
		pass = pass || strcmp(v, "pass") == 0;
	}
	*errstr_out = "the counts overflow";
	if (__builtin_add_overflow(s->messages, count, &s->messages))
		return -1;
	if (pass)
		s->pass += count;
	else {
		s->fail += count;
		dmarcrep_source_add(s, ip, count);
	}
	s->nrecords++;
	return 0;
}

int
dmarcrep_parse(const char *p, size_t len, struct dmarcrep_summary *out,
    const char **errstr_out)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root, md, dr, pp, c;
	char		 v[32];
	int		 rc = -1, d;

	memset(out, 0, sizeof(*out));
	*errstr_out = "empty or too large";
	if (len == 0 || len > DMARCREP_XML_MAX)
		return -1;
	/*
	 * No network, no DTD, no entity substitution (XXE); recover from
	 * broken markup as reporters' XML often is (parsedmarc's
	 * invalid_xml.xml): what matters is checked below.
	 */
	*errstr_out = "not XML";
	if ((doc = xmlReadMemory(p, (int)len, NULL, NULL, XML_PARSE_NONET |
	    XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER |
	    XML_PARSE_NOCDATA)) == NULL)
		return -1;
	*errstr_out = "no <feedback> with report_metadata and "
	    "policy_published";
	/*
	 * Some reporters wrap the report in a stray element (parsedmarc's
	 * ikea.com sample opens an xs:schema first): one level is looked
	 * into.
	 */
	if ((root = xmlDocGetRootElement(doc)) != NULL &&
	    strcmp((const char *)root->name, "feedback") != 0)
		root = dmarcrep_child(root, "feedback");
	if (root == NULL ||
	    (md = dmarcrep_child(root, "report_metadata")) == NULL ||
	    (pp = dmarcrep_child(root, "policy_published")) == NULL ||
	    (dr = dmarcrep_child(md, "date_range")) == NULL)
		goto done;
	*errstr_out = "report_metadata lacks org_name, report_id or the "
	    "date_range";
	if (dmarcrep_text(md, "org_name", out->org, sizeof(out->org)) == -1 ||
	    dmarcrep_text(md, "report_id", out->report_id,
	    sizeof(out->report_id)) == -1 || out->report_id[0] == '\0' ||
	    dmarcrep_u64(dr, "begin", &out->begin) == -1 ||
	    dmarcrep_u64(dr, "end", &out->end) == -1)
		goto done;
	(void)dmarcrep_text(md, "email", out->email, sizeof(out->email));
	*errstr_out = "policy_published lacks domain or p";
	if (dmarcrep_text(pp, "domain", out->domain, sizeof(out->domain)) ==
	    -1 || dmarcrep_text(pp, "p", v, sizeof(v)) == -1 ||
	    (d = dmarcrep_disposition_from(v)) == -1)
		goto done;
	out->p = (uint32_t)d;
	for (c = root->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)c->name, "record") != 0)
			continue;
		if (out->nrecords == DMARCREP_RECORDS_MAX) {
			*errstr_out = "too many records";
			goto done;
		}
		if (dmarcrep_parse_record(c, out, errstr_out) == -1)
			goto done;
	}
	*errstr_out = "no record";
	if (out->nrecords == 0)
		goto done;
	rc = 0;
done:
	xmlFreeDoc(doc);
	return rc;
}

/* --- finding the report --- */

static bool
dmarcrep_is_gzip(const char *p, size_t len)
{
	return len >= 2 && (unsigned char)p[0] == 0x1f &&
	    (unsigned char)p[1] == 0x8b;
}

static bool
dmarcrep_is_zip(const char *p, size_t len)
{
	return len >= 4 && memcmp(p, "PK\003\004", 4) == 0;
}

static bool
dmarcrep_is_xml(const char *p, size_t len)
{
	size_t	i = 0;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && strchr(" \t\r\n", p[i]) != NULL && p[i] != '\0')
		i++;
	return i < len && p[i] == '<';
}

/* The first file of a zip archive, at most DMARCREP_XML_MAX octets. */
static int
dmarcrep_unzip(const char *p, size_t len, struct buf *out)
{
	zip_source_t	*src;
	zip_t		*za;
	zip_file_t	*zf = NULL;
	zip_error_t	 ze;
	char		 chunk[DMARCREP_ZIP_CHUNK];
	zip_int64_t	 n, i, nent;
	const char	*name;
	size_t		 total = 0;
	int		 rc = -1;

	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(p, len, 0, &ze)) == NULL)
		goto fail;
	if ((za = zip_open_from_source(src, ZIP_RDONLY, &ze)) == NULL) {
		zip_source_free(src);
		goto fail;
	}
	/* the first entry that is a file (names end in .xml, mostly) */
	nent = zip_get_num_entries(za, 0);
	for (i = 0; i < nent && i < 16; i++)
		if ((name = zip_get_name(za, (zip_uint64_t)i, 0)) != NULL &&
		    name[0] != '\0' && name[strlen(name) - 1] != '/')
			break;
	if (i == nent || i == 16 ||
	    (zf = zip_fopen_index(za, (zip_uint64_t)i, 0)) == NULL)
		goto done;
	while ((n = zip_fread(zf, chunk, sizeof(chunk))) > 0) {
		if ((size_t)n > DMARCREP_XML_MAX - total ||
		    buf_append(out, chunk, (size_t)n) == -1)
			goto done;
		total += (size_t)n;
	}
	if (n == 0)
		rc = 0;
done:
	if (zf != NULL)
		zip_fclose(zf);
	zip_discard(za);
fail:
	zip_error_fini(&ze);
	return rc;
}

/* data is a report itself: unpack it into out. */
static int
dmarcrep_unpack(const char *p, size_t len, struct buf *out,
    const char **errstr_out)
{
	if (dmarcrep_is_gzip(p, len)) {
		*errstr_out = "the report does not gunzip";
		return tlsrpt_gunzip(p, len, DMARCREP_XML_MAX, out);
	}
	if (dmarcrep_is_zip(p, len)) {
		*errstr_out = "the report does not unzip";
		return dmarcrep_unzip(p, len, out);
	}
	*errstr_out = "the report is too large";
	return len <= DMARCREP_XML_MAX ? buf_append(out, p, len) : -1;
}

/* §7.2.1.1 types reporters use for the report, and the usual others. */
static bool
dmarcrep_report_type(const struct mime_part *p)
{
	static const char *const app[] = { "gzip", "x-gzip", "zip",
	    "x-zip", "x-zip-compressed", "xml", "octet-stream" };
	size_t	i;

	if (span_caseeq(p->type, "text") && span_caseeq(p->subtype, "xml"))
		return true;
	if (!span_caseeq(p->type, "application"))
		return false;
	for (i = 0; i < sizeof(app) / sizeof(app[0]); i++)
		if (span_caseeq(p->subtype, app[i]))
			return true;
	return false;
}

int
dmarcrep_extract(const char *data, size_t len, struct buf *out,
    const char **errstr_out)
{
	struct mime_msg		 mm;
	const struct mime_part	*p;
	struct buf		 raw;
	uint32_t		 i;
	int			 rc = -1;

	if (dmarcrep_is_gzip(data, len) || dmarcrep_is_zip(data, len) ||
	    dmarcrep_is_xml(data, len))
		return dmarcrep_unpack(data, len, out, errstr_out);
	memset(&mm, 0, sizeof(mm));
	mime_parse(&mm, data, len);
	buf_init(&raw, DMARCREP_XML_MAX);
	*errstr_out = "no report attached";
	for (i = 0; i < mm.nparts; i++) {
		p = &mm.parts[i];
		if (p->kind != MIME_KIND_LEAF || !dmarcrep_report_type(p))
			continue;
		buf_reset(&raw);
		if (mime_decode_body(p->cte, mime_part_body(&mm, i), &raw) ==
		    -1)
			continue;
		/* the magic decides, not the name (octet-stream, x-gzip) */
		if (!dmarcrep_is_gzip(raw.data, raw.len) &&
		    !dmarcrep_is_zip(raw.data, raw.len) &&
		    !dmarcrep_is_xml(raw.data, raw.len))
			continue;
		rc = dmarcrep_unpack(raw.data, raw.len, out, errstr_out);
		break;
	}
	buf_free(&raw);
	mime_msg_free(&mm);
	return rc;
}

/* --- failure reports (RFC 6591, RFC 5965) --- */

/* The unfolded value of field name of part 0 of mm into out, cut. */
static int
dmarcrep_arf_field(const struct mime_msg *mm, const char *name, char *out,
    size_t outsz)
{
	const struct mime_field	*f;
	struct buf		 v;
	size_t			 n;

	out[0] = '\0';
	if ((f = mime_part_field(mm, 0, name, NULL)) == NULL)
		return -1;
	buf_init(&v, DMARCREP_ARF_MAX);
	if (mime_unfold(mime_field_value(mm, f), &v) == -1) {
		buf_free(&v);
		return -1;
	}
	n = v.len < outsz - 1 ? v.len : outsz - 1;
	if (n > 0)
		memcpy(out, v.data, n);
	out[n] = '\0';
	/* kept for display: control characters out */
	for (; n > 0; n--)
		if ((unsigned char)out[n - 1] < 0x20 || out[n - 1] == 0x7f)
			out[n - 1] = ' ';
	buf_free(&v);
	return 0;
}

int
dmarcrep_arf_parse(const char *msg, size_t len, struct dmarcrep_arf *out,
    const char **errstr_out)
{
	struct mime_msg		 mm, fr;
	const struct mime_part	*p;
	struct buf		 body;
	char			 num[24];
	uint32_t		 i;
	uint64_t		 v;
	bool			 ovf;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&mm, 0, sizeof(mm));
	memset(&fr, 0, sizeof(fr));
	buf_init(&body, DMARCREP_ARF_MAX);
	mime_parse(&mm, msg, len);
	*errstr_out = "no message/feedback-report part";
	for (i = 0; i < mm.nparts; i++) {
		p = &mm.parts[i];
		if (p->kind == MIME_KIND_LEAF &&
		    span_caseeq(p->type, "message") &&
		    span_caseeq(p->subtype, "feedback-report"))
			break;
	}
	if (i == mm.nparts)
		goto done;
	*errstr_out = "the feedback-report part does not decode";
	if (mime_decode_body(mm.parts[i].cte, mime_part_body(&mm, i), &body) ==
	    -1)
		goto done;
	/* RFC 5965 §3.1: the part is a header section of its own */
	mime_parse(&fr, body.data, body.len);
	*errstr_out = "no Feedback-Type";
	if (dmarcrep_arf_field(&fr, "Feedback-Type", out->feedback_type,
	    sizeof(out->feedback_type)) == -1 || out->feedback_type[0] == '\0')
		goto done;
	(void)dmarcrep_arf_field(&fr, "User-Agent", out->user_agent,
	    sizeof(out->user_agent));
	if (dmarcrep_arf_field(&fr, "Version", num, sizeof(num)) == 0 &&
	    span_to_u64(span_str(num), &v, &ovf) == 0 && !ovf &&
	    v <= UINT32_MAX)
		out->version = (uint32_t)v;
	(void)dmarcrep_arf_field(&fr, "Source-IP", out->source_ip,
	    sizeof(out->source_ip));
	(void)dmarcrep_arf_field(&fr, "Original-Mail-From",
	    out->original_mail_from, sizeof(out->original_mail_from));
	(void)dmarcrep_arf_field(&fr, "Original-Rcpt-To",
	    out->original_rcpt_to, sizeof(out->original_rcpt_to));
	(void)dmarcrep_arf_field(&fr, "Arrival-Date", out->arrival_date,
	    sizeof(out->arrival_date));
	(void)dmarcrep_arf_field(&fr, "Reported-Domain",
	    out->reported_domain, sizeof(out->reported_domain));
	(void)dmarcrep_arf_field(&fr, "Auth-Failure", out->auth_failure,
	    sizeof(out->auth_failure));
	(void)dmarcrep_arf_field(&fr, "Delivery-Result",
	    out->delivery_result, sizeof(out->delivery_result));
	(void)dmarcrep_arf_field(&fr, "Identity-Alignment",
	    out->identity_alignment, sizeof(out->identity_alignment));
	out->incidents = 1;
	if (dmarcrep_arf_field(&fr, "Incidents", num, sizeof(num)) == 0 &&
	    span_to_u64(span_str(num), &v, &ovf) == 0 && !ovf)
		out->incidents = v;
	rc = 0;
done:
	buf_free(&body);
	mime_msg_free(&fr);
	mime_msg_free(&mm);
	return rc;
}

/* --- the report by mail (§7.2.1.1) --- */

int
dmarcrep_mail_compose(const struct dmarcrep_mail *m, struct buf *out)
{
	const char	*fields[] = { m->from, m->to, m->domain, m->submitter,
			    m->report_id };
	char		 date[64];

	if (tlsrpt_mail_head(fields, sizeof(fields) / sizeof(fields[0]),
	    m->boundary, m->now, date, sizeof(date)) == -1)
		return -1;
	if (buf_printf(out, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
	    "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n"
	    "Message-ID: <%s>\r\nAuto-Submitted: auto-generated\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed;\r\n\tboundary=\"%s\"\r\n\r\n"
	    "This is a multipart message in MIME format.\r\n\r\n"
	    "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "This is a DMARC aggregate report from %s (RFC 7489) for %s.\r\n"
	    "\r\n--%s\r\nContent-Type: application/gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment;\r\n"
	    "\tfilename=\"%s!%s!%llu!%llu.xml.gz\"\r\n\r\n",
	    m->from, m->to, date, m->domain, m->submitter, m->report_id,
	    m->report_id, m->boundary, m->boundary, m->submitter, m->domain,
	    m->boundary, m->submitter, m->domain,
	    (unsigned long long)m->begin, (unsigned long long)m->end) == -1 ||
	    tlsrpt_b64_lines(m->gz, m->gzlen, out) == -1)
		return -1;
	return buf_printf(out, "\r\n--%s--\r\n", m->boundary);
}

int
dmarcrep_uri_parse(const char *uri, size_t len, char *addr, size_t addrsz,
    uint64_t *limit_out)
{
	char		 tmp[DMARCREP_TEXT_MAX * 2 + 1];
	const char	*bang;
	uint64_t	 n;
	size_t		 alen = len;
	bool		 ovf;
	int		 shift = 0;

	*limit_out = 0;
	if (len < 8 || len >= sizeof(tmp) || strncasecmp(uri, "mailto:", 7) !=
	    0 || memchr(uri, '\0', len) != NULL)
		return -1;
	/* §6.2: "!" size ("k" "m" "g" "t": powers of two) ends the URI */
	if ((bang = memchr(uri, '!', len)) != NULL) {
		alen = (size_t)(bang - uri);
		len -= alen + 1;
		bang++;
		if (len > 0 && strchr("kmgtKMGT", bang[len - 1]) != NULL) {
			shift = 10 * (int)(strchr("kmgt", bang[len - 1] | 0x20)
			    - "kmgt" + 1);
			len--;
		}
		if (span_to_u64(span_make(bang, len), &n, &ovf) == -1 || ovf ||
		    n > (UINT64_MAX >> shift))
			return -1;
		*limit_out = n << shift;
	}
	memcpy(tmp, "mailto:", 7);
	memcpy(tmp + 7, uri + 7, alen - 7);
	tmp[alen] = '\0';
	return tlsrpt_mailto(tmp, addr, addrsz);
}
