/*
 * dmarcrep: the pure parts of DMARC reporting (RFC 7489 §7): the
 * aggregate report's XML (Appendix C) built from counted rows and parsed
 * from what other servers send, the report mail of §7.2.1.1, the report
 * found in a mail (plain XML, gzip or zip, attached or whole), and the
 * failure reports of RFC 6591 (ARF, RFC 5965).  No I/O, no clock: lookup
 * builds and keeps, the unit tests and the fuzzers run the same code.
 *
 * Trust: reports and mails to parse came from the network.  XML is
 * libxml2's with no network, no entity substitution, no DTD loading
 * (no XXE) and its size and depth limits kept; sizes and counts are
 * bounded before anything is kept, and a value outside the RFC's
 * vocabulary (a "Pass" for "pass") refuses the report with a reason.
 */
#ifndef CACHET_DMARCREP_H
#define CACHET_DMARCREP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DMARCREP_XML_MAX	(8 * 1024 * 1024)	/* a report, unzipped */
#define DMARCREP_DEPTH_MAX	16	/* element nesting in a report */
#define DMARCREP_RECORDS_MAX	100000	/* <record>s of a report parsed */
#define DMARCREP_SOURCES_MAX	16	/* failing sources kept per report */
#define DMARCREP_TEXT_MAX	256	/* org, email, report id, domains */
#define DMARCREP_IP_MAX		46	/* INET6_ADDRSTRLEN */
#define DMARCREP_DKIM_MAX	8	/* DKIM results per record built */
#define DMARCREP_REASONS_MAX	4	/* override reasons per record */

/* The §6.3 p=/sp= values and a record's disposition */
enum dmarcrep_disposition {
	DMARCREP_NONE,
	DMARCREP_QUARANTINE,
	DMARCREP_REJECT,
};

/* "none", "quarantine", "reject"; NULL out of range. */
const char	*dmarcrep_disposition_name(uint32_t);

/* One DKIM result of a record (Appendix C DKIMAuthResultType). */
struct dmarcrep_dkim {
	const char	*domain;
	const char	*selector;	/* "" none */
	const char	*result;	/* RFC 8601 name: pass, fail, ... */
};

/* One <record>: messages alike, counted. */
struct dmarcrep_record {
	const char		*source_ip;
	uint64_t		 count;
	uint32_t		 disposition;	/* enum dmarcrep_disposition */
	bool			 dkim_pass;	/* aligned DKIM passed */
	bool			 spf_pass;	/* aligned SPF passed */
	/* PolicyOverrideType names: local_policy, trusted_forwarder, ... */
	const char		*reasons[DMARCREP_REASONS_MAX];
	size_t			 nreasons;
	const char		*header_from;
	const char		*envelope_to;	/* "" none */
	struct dmarcrep_dkim	 dkim[DMARCREP_DKIM_MAX];
	size_t			 ndkim;
	const char		*spf_domain;
	const char		*spf_scope;	/* "mfrom" or "helo" */
	const char		*spf_result;	/* RFC 7208 name */
};

/* An aggregate report to build; begin and end in Unix seconds. */
struct dmarcrep_report {
	const char			*org_name;
	const char			*email;
	const char			*report_id;
	uint64_t			 begin, end;
	/* policy_published */
	const char			*domain;
	char				 adkim, aspf;	/* 'r' or 's' */
	uint32_t			 p, sp;	/* enum dmarcrep_disposition */
	uint32_t			 pct;
	const char			*fo;
	const struct dmarcrep_record	*records;
	size_t				 nrecords;
};

/*
 * The Appendix C XML of r appended to out (UTF-8, no namespace, as the
 * large reporters write it).  -1 with a reason when a value is out of
 * range or out is full.
 */
int	dmarcrep_build(const struct dmarcrep_report *r, struct buf *out,
	    const char **errstr_out);

/* What lookup keeps of an aggregate report received: a summary. */
struct dmarcrep_source {
	char		 ip[DMARCREP_IP_MAX];
	uint64_t	 count;
};

struct dmarcrep_summary {
	char			 org[DMARCREP_TEXT_MAX + 1];
	char			 email[DMARCREP_TEXT_MAX + 1];
	char			 report_id[DMARCREP_TEXT_MAX + 1];
	uint64_t		 begin, end;
	char			 domain[DMARCREP_TEXT_MAX + 1];
	uint32_t		 p;	/* policy published */
	size_t			 nrecords;
	uint64_t		 messages;
	/* DMARC pass: the aligned DKIM or SPF result passed (§4.2) */
	uint64_t		 pass, fail;
	/* the sources of failing messages, the largest counts first */
	struct dmarcrep_source	 sources[DMARCREP_SOURCES_MAX];
	size_t			 nsources;
};

/*
 * Parse an aggregate report p[0..len) (Appendix C, and the RFC 9990
 * namespace's, which keeps the same names): <feedback> with
 * report_metadata (org_name, report_id, date_range), policy_published
 * (domain, p), and records (row: source_ip, count, policy_evaluated:
 * disposition, dkim, spf).  Unknown elements are ignored; values of the
 * enumerations must be the schema's exactly (lower case).  -1 with a
 * static reason for what is not such a report.
 */
int	dmarcrep_parse(const char *p, size_t len,
	    struct dmarcrep_summary *out, const char **errstr_out);

/*
 * The aggregate report XML carried by data[0..len) into out (empty
 * before): data is a report itself (XML, gzip, zip) or a mail with one
 * attached (§7.2.1.1: application/gzip, application/zip, text/xml or
 * application/xml, or application/octet-stream named *.xml, *.xml.gz,
 * *.zip), the first one found, at most DMARCREP_XML_MAX octets unpacked.
 * -1 with a static reason when there is none or it does not unpack.
 */
int	dmarcrep_extract(const char *data, size_t len, struct buf *out,
	    const char **errstr_out);

/* A failure report (RFC 6591 over RFC 5965 §3.1), the fields kept. */
struct dmarcrep_arf {
	char		 feedback_type[32];
	char		 user_agent[DMARCREP_TEXT_MAX + 1];
	uint32_t	 version;
	char		 source_ip[DMARCREP_IP_MAX];
	char		 original_mail_from[DMARCREP_TEXT_MAX + 1];
	char		 original_rcpt_to[DMARCREP_TEXT_MAX + 1];
	char		 arrival_date[64];
	char		 reported_domain[DMARCREP_TEXT_MAX + 1];
	char		 auth_failure[32];	/* RFC 6591 §3.2.2 */
	char		 delivery_result[32];
	char		 identity_alignment[64];
	uint64_t	 incidents;	/* 1 when absent */
};

/*
 * Parse a failure report mail msg[0..len): a multipart/report whose
 * message/feedback-report part holds "Name: value" fields (RFC 5965
 * §3.1); Feedback-Type must be there.  A field over its size is cut
 * (they are kept for display only).  -1 with a static reason for a mail
 * that is not such a report.
 */
int	dmarcrep_arf_parse(const char *msg, size_t len,
	    struct dmarcrep_arf *out, const char **errstr_out);

/* The aggregate report by mail (§7.2.1.1): what goes into it. */
struct dmarcrep_mail {
	const char	*from;		/* dmarc-report-from */
	const char	*to;		/* the rua's address */
	const char	*domain;	/* the policy domain */
	const char	*submitter;	/* our host name */
	const char	*report_id;
	uint64_t	 begin, end;
	uint64_t	 now;		/* Date: */
	const char	*boundary;
	const void	*gz;		/* the gzip'ed XML */
	size_t		 gzlen;
};

/*
 * The message of §7.2.1.1 appended to out, CRLF line ends: Subject
 * "Report Domain: D Submitter: S Report-ID: <ID>", multipart/mixed with
 * a text/plain part and the application/gzip attachment, base64, named
 * "submitter!domain!begin!end.xml.gz".  -1 on a CR, LF or NUL in a
 * field, a bad boundary or out full.
 */
int	dmarcrep_mail_compose(const struct dmarcrep_mail *m, struct buf *out);

/*
 * One DMARC rua URI (§6.2: "mailto:ADDR[!SIZE[k|m|g|t]]"): the address,
 * %-decoded, into addr and the size limit in octets into limit_out (0:
 * none).  -1 for another scheme or an unusable address.
 */
int	dmarcrep_uri_parse(const char *uri, size_t len, char *addr,
	    size_t addrsz, uint64_t *limit_out);

#endif
