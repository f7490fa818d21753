/*
 * tlsrpt: the pure parts of SMTP TLS Reporting (RFC 8460): the names of
 * policy types and result types (§4.3), the JSON report (§4.4) built from
 * counts and parsed from what other servers send, the
 * "_smtp._tls.DOMAIN" TXT record (§3) and the gzip wrapping of §5.3.  No
 * I/O, no clock: lookup builds reports from its counts and parses the
 * reports it receives, the unit tests and the fuzzer run the same code.
 *
 * Trust: a report to parse and a TXT record came from the network; sizes
 * and counts are bounded before anything is kept, and text that does not
 * follow the RFC's shape is refused with a reason.  JSON is jansson's
 * (strict, duplicate keys refused); we only walk its tree.
 */
#ifndef CACHET_TLSRPT_H
#define CACHET_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TLSRPT_JSON_MAX		(1024 * 1024)	/* a report, unzipped */
#define TLSRPT_POLICIES_MAX	256	/* policies[] of a report parsed */
#define TLSRPT_FAILURES_MAX	256	/* failure-details[] per policy */
#define TLSRPT_RUA_MAX		8	/* URIs of a TXT record kept */
#define TLSRPT_URI_MAX		512	/* one rua URI */
#define TLSRPT_TXT_MAX		1024	/* a TXT record we look at */
#define TLSRPT_NAME_MAX		255	/* a domain or host name */
#define TLSRPT_TEXT_MAX		256	/* org, report id, contact */
#define TLSRPT_IP_MAX		46	/* INET6_ADDRSTRLEN */

/* §4.3 "policy-type" */
enum tlsrpt_policy_type {
	TLSRPT_POLICY_STS,		/* "sts" */
	TLSRPT_POLICY_TLSA,		/* "tlsa" */
	TLSRPT_POLICY_NONE,		/* "no-policy-found" */
	TLSRPT_POLICY_TYPE_COUNT
};

/* §4.3.1-§4.3.2.2 "result-type"; TLSRPT_OK is a successful session */
enum tlsrpt_result {
	TLSRPT_OK,
	TLSRPT_STARTTLS_NOT_SUPPORTED,
	TLSRPT_CERTIFICATE_HOST_MISMATCH,
	TLSRPT_CERTIFICATE_EXPIRED,
	TLSRPT_CERTIFICATE_NOT_TRUSTED,
	TLSRPT_VALIDATION_FAILURE,
	TLSRPT_TLSA_INVALID,
	TLSRPT_DNSSEC_INVALID,
	TLSRPT_DANE_REQUIRED,
	TLSRPT_STS_POLICY_FETCH_ERROR,
	TLSRPT_STS_POLICY_INVALID,
	TLSRPT_STS_WEBPKI_INVALID,
	TLSRPT_RESULT_COUNT
};

/* The RFC's name ("sts", "certificate-expired"); NULL when out of range. */
const char	*tlsrpt_policy_type_name(uint32_t);
const char	*tlsrpt_result_name(uint32_t);
/* The enum value of a name; -1 when it is none of the RFC's. */
int		 tlsrpt_result_from_name(const char *);
int		 tlsrpt_policy_type_from_name(const char *);

/* One failure-details entry (§4.4); "" for an absent string. */
struct tlsrpt_failure {
	uint32_t	 result;		/* enum tlsrpt_result, not OK */
	const char	*sending_ip;
	const char	*receiving_mx;
	const char	*receiving_ip;
	const char	*info;			/* additional-information */
	uint64_t	 count;
};

/* One entry of policies[] (§4.4). */
struct tlsrpt_policy {
	uint32_t			 type;	/* enum tlsrpt_policy_type */
	const char			*domain;
	/* policy-string and mx-host: lines separated by "\n", "" for none */
	const char			*strings;
	const char			*mx_hosts;
	uint64_t			 ok, fail;
	const struct tlsrpt_failure	*failures;
	size_t				 nfailures;
};

/* A report to build: start and end in Unix seconds, end exclusive. */
struct tlsrpt_report {
	const char			*org;
	const char			*contact;
	const char			*report_id;
	uint64_t			 start, end;
	const struct tlsrpt_policy	*policies;
	size_t				 npolicies;
};

/*
 * The RFC 8460 §4.4 JSON of r (date-time in RFC 3339 UTC, end-datetime
 * one second before end), indented when pretty; a NUL-terminated string
 * to free(), or NULL (with a reason) when a field is out of range.
 */
char	*tlsrpt_build(const struct tlsrpt_report *r, bool pretty,
	    const char **errstr_out);

/* What lookup keeps of a report received: a summary. */
struct tlsrpt_summary {
	char		 org[TLSRPT_TEXT_MAX + 1];
	char		 report_id[TLSRPT_TEXT_MAX + 1];
	char		 contact[TLSRPT_TEXT_MAX + 1];
	uint64_t	 start, end;	/* Unix seconds, as written */
	size_t		 npolicies;
	uint64_t	 ok, fail;	/* summed over the policies */
	/* the first policy's domain (reports are usually for one) */
	char		 domain[TLSRPT_NAME_MAX + 1];
};

/*
 * Parse a report p[0..len) (§4.4): an object with organization-name,
 * date-range (start-datetime, end-datetime), contact-info, report-id and
 * policies[], each with policy (policy-type, policy-domain) and summary
 * (the two counts, integers from 0 to 2^53; an absent count is 0 and an
 * absent policy-domain "", as some reporters write); failure-details, if
 * there, an array of at most TLSRPT_FAILURES_MAX objects with a
 * result-type.  Unknown members are ignored (§4.4 allows extensions); an
 * unknown policy-type or result-type is accepted as text.  More than
 * TLSRPT_JSON_MAX octets, more than TLSRPT_POLICIES_MAX policies, a
 * string over its field's size, a missing member or a wrong type: -1 with
 * a static reason.
 */
int	tlsrpt_parse(const char *p, size_t len, struct tlsrpt_summary *out,
	    const char **errstr_out);

/* RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" to Unix seconds. */
int	tlsrpt_datetime_parse(const char *s, size_t len, uint64_t *out);

/* The rua URIs of a "_smtp._tls" TXT record (§3). */
struct tlsrpt_record {
	char	 rua[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1];
	size_t	 nrua;
};

/*
 * Parse one TXT record p[0..len) (§3): "v=TLSRPTv1" first, then fields
 * "name=value" separated by ";" with optional blanks, exactly one "rua"
 * whose value is a comma-separated list of "mailto:" or "https:" URIs
 * (other schemes skipped, at least one must remain); unknown fields are
 * ignored.  -1 with a static reason when it is not a usable record.
 */
int	tlsrpt_record_parse(const char *p, size_t len,
	    struct tlsrpt_record *out, const char **errstr_out);

/*
 * The host of an https: rua (§3, RFC 9110 §4.2.2): "https://HOST" then
 * "/", "?", "#" or the end, an optional ":443" only; HOST a DNS name
 * (letters, digits, '-', '.'; no IP literal, no userinfo), lower-cased
 * into host.  -1 when it is not such a URI.
 */
int	tlsrpt_https_host(const char *uri, char *host, size_t hostsz);

/* A report by mail (§5.3): what goes into it. */
struct tlsrpt_mail {
	const char	*from;		/* our address (tlsrpt-from) */
	const char	*to;		/* the rua's address */
	const char	*domain;	/* the policy domain */
	const char	*submitter;	/* our host name */
	const char	*report_id;
	uint64_t	 start, end;	/* the date range, Unix seconds */
	uint64_t	 now;		/* Date: */
	const char	*boundary;	/* 1-60 of [0-9A-Za-z._-] */
	const void	*gz;		/* the gzip'ed JSON */
	size_t		 gzlen;
};

/*
 * The message of §5.3 appended to out, CRLF line ends: From, To, Date,
 * Subject ("Report Domain: D Submitter: S Report-ID: <ID>"),
 * TLS-Report-Domain, TLS-Report-Submitter, Message-ID, MIME-Version,
 * "multipart/report; report-type=tlsrpt" (RFC 6522) with a text/plain
 * part and the application/tlsrpt+gzip part in base64, named as §5.3
 * says (submitter!domain!start!end!id.json.gz).  -1 when a field holds a
 * CR, LF or NUL, the boundary is not one, or out is full.
 */
int	tlsrpt_mail_compose(const struct tlsrpt_mail *m, struct buf *out);

/*
 * The report a mail msg[0..len) carries (§5.3): the first part of type
 * application/tlsrpt+json, application/tlsrpt+gzip or application/tlsrpt
 * (any depth, as mime.c parses it), decoded from its transfer encoding
 * and gunzipped when it is gzip, at most TLSRPT_JSON_MAX octets, into
 * out (empty before).
 * -1 with a static reason when there is no such part or it does not
 * decode.
 */
int	tlsrpt_mail_extract(const char *msg, size_t len, struct buf *out,
	    const char **errstr_out);

/*
 * Helpers the DMARC reports (dmarcrep.c) share: data in base64 lines of
 * 76 columns with CRLF; the address of a "mailto:" URI (RFC 6068: up to
 * "?", %XX decoded, printable ASCII with an "@"), -1 when unusable.
 */
int	tlsrpt_b64_lines(const void *data, size_t len, struct buf *out);
int	tlsrpt_mailto(const char *uri, char *out, size_t outsz);
/*
 * A report mail's head checked: each of fields[] without CR or LF and
 * not too long, the boundary 1-60 of [0-9A-Za-z._-], and the Date: of now (RFC 5322 §3.3, UTC) into date;
 * -1 when not.
 */
int	tlsrpt_mail_head(const char *const fields[], size_t nfields,
	    const char *boundary, uint64_t now, char *date, size_t datesz);

/* gzip (RFC 1952) of p[0..len) appended to out. */
int	tlsrpt_gzip(const void *p, size_t len, struct buf *out);

/*
 * The content of gzip data p[0..len), at most max octets, appended to
 * out; -1 when it is not gzip, is truncated or would exceed max.
 */
int	tlsrpt_gunzip(const void *p, size_t len, size_t max, struct buf *out);

#endif
