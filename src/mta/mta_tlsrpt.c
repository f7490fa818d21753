/*
 * mta_tlsrpt: the mta's side of TLS-RPT (RFC 8460), see mta_tlsrpt.h.
 * Runs in the mta; what it sends lookup is its own view of a session,
 * made printable and bounded here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "mta_sts.h"
#include "mta_tlsrpt.h"
#include "util.h"

enum tlsrpt_result
mta_tlsrpt_result(enum tlsrpt_policy_type ptype, enum mta_conn_tls_event ev,
    const char *why)
{
	switch (ev) {
	case MTA_CONN_TLS_VERIFIED:
		return TLSRPT_OK;
	case MTA_CONN_TLS_NOT_OFFERED:
		return TLSRPT_STARTTLS_NOT_SUPPORTED;
	case MTA_CONN_TLS_FAILED:
		return TLSRPT_VALIDATION_FAILURE;
	case MTA_CONN_TLS_SKIPPED:
		if (ptype != TLSRPT_POLICY_TLSA)
			/* §4.3.1: an MX the policy does not list */
			return TLSRPT_VALIDATION_FAILURE;
		return strstr(why, "bogus") != NULL ||
		    strstr(why, "DNSSEC") != NULL ? TLSRPT_DNSSEC_INVALID :
		    TLSRPT_TLSA_INVALID;
	case MTA_CONN_TLS_UNVERIFIED:
		break;
	}
	switch (ptype) {
	case TLSRPT_POLICY_NONE:
	case TLSRPT_POLICY_TYPE_COUNT:
		return TLSRPT_OK;
	case TLSRPT_POLICY_TLSA:
		/* RFC 7672 §2.2: no record matched the certificate */
		return TLSRPT_VALIDATION_FAILURE;
	case TLSRPT_POLICY_STS:
		break;
	}
	/* OpenSSL's X509_verify_cert_error_string() texts */
	if (strstr(why, "expired") != NULL ||
	    strstr(why, "not yet valid") != NULL)
		return TLSRPT_CERTIFICATE_EXPIRED;
	if (strstr(why, "hostname mismatch") != NULL)
		return TLSRPT_CERTIFICATE_HOST_MISMATCH;
	if (strstr(why, "self-signed") != NULL ||
	    strstr(why, "self signed") != NULL ||
	    strstr(why, "issuer") != NULL || strstr(why, "untrusted") != NULL ||
	    strstr(why, "no peer certificate") != NULL)
		return TLSRPT_CERTIFICATE_NOT_TRUSTED;
	return TLSRPT_VALIDATION_FAILURE;
}

/* §4.4 policy-string of an MTA-STS policy: its lines, as §3.2 has them. */
static void
mta_tlsrpt_sts_text(const struct mtasts_policy *sts, struct buf *text,
    struct buf *mx)
{
	size_t	i;

	(void)buf_printf(text, "version: STSv1\nmode: %s\n",
	    mtasts_mode_name(sts->mode));
	for (i = 0; i < sts->nmx; i++) {
		(void)buf_printf(text, "mx: %s\n", sts->mx[i]);
		(void)buf_printf(mx, "%s%s", i > 0 ? "\n" : "", sts->mx[i]);
	}
	(void)buf_printf(text, "max_age: %u", sts->max_age);
}

/* The TLSA records as RFC 6698 §2.2 presents them, one a line. */
static void
mta_tlsrpt_tlsa_text(const struct mta_dane *dn, struct buf *text)
{
	size_t	i, j;

	for (i = 0; i < dn->nrrs; i++) {
		(void)buf_printf(text, "%s%u %u %u ", i > 0 ? "\n" : "",
		    dn->rrs[i].usage, dn->rrs[i].selector, dn->rrs[i].mtype);
		for (j = 0; j < dn->rrs[i].len; j++)
			(void)buf_printf(text, "%02x", dn->rrs[i].data[j]);
	}
}

/* One MSG_LOOKUP_TLSRPT (layout in mta_tlsrpt.h). */
static void
mta_tlsrpt_msg(struct proc_self *self, const char *domain, uint32_t ptype,
    const struct buf *text, const struct buf *mx, uint32_t result,
    const char *sip, const char *rmx, const char *rip, const char *info)
{
	struct msg	*m;

	m = msg_new(MSG_LOOKUP_TLSRPT);
	msg_put_str(m, domain);
	msg_put_u32(m, ptype);
	msg_put_str(m, text->data != NULL ? text->data : "");
	msg_put_str(m, mx->data != NULL ? mx->data : "");
	msg_put_u32(m, result);
	msg_put_str(m, sip);
	msg_put_str(m, rmx);
	msg_put_str(m, rip);
	msg_put_str(m, info);
	(void)proc_send(self, PROC_LOOKUP, m);
}

void
mta_tlsrpt_send(struct proc_self *self, const char *domain, const char *src,
    const struct mta_dane *dn, const struct mtasts_policy *sts,
    const struct mta_conn_addr *a, enum mta_conn_tls_event ev,
    const char *why, const char *local_ip)
{
	enum tlsrpt_policy_type	 ptype;
	enum tlsrpt_result	 res;
	struct buf		 text, mx;
	char			 info[MTA_TLSRPT_INFO_MAX + 1];

	if (strcmp(src, "relay") == 0)
		return;
	if (strcmp(src, "dane") == 0)
		ptype = TLSRPT_POLICY_TLSA;
	else if (strncmp(src, "mta-sts", 7) == 0 && sts != NULL)
		ptype = TLSRPT_POLICY_STS;
	else
		ptype = TLSRPT_POLICY_NONE;
	res = mta_tlsrpt_result(ptype, ev, why);
	buf_init(&text, MTA_TLSRPT_POLICY_MAX);
	buf_init(&mx, MTA_TLSRPT_POLICY_MAX);
	if (ptype == TLSRPT_POLICY_STS)
		mta_tlsrpt_sts_text(sts, &text, &mx);
	else if (ptype == TLSRPT_POLICY_TLSA) {
		if (dn != NULL)
			mta_tlsrpt_tlsa_text(dn, &text);
		(void)buf_append_str(&mx, a->host);
	}
	(void)printable(why, strnlen(why, MTA_TLSRPT_INFO_MAX), info,
	    sizeof(info));
	mta_tlsrpt_msg(self, domain, ptype, &text, &mx, res, local_ip, a->host,
	    ev == MTA_CONN_TLS_SKIPPED ? "" : a->ip, res == TLSRPT_OK ? "" :
	    info);
	log_debug("mta: event=tlsrpt domain=%s policy=%s mx=%s result=%s",
	    domain, tlsrpt_policy_type_name(ptype), a->host,
	    tlsrpt_result_name(res));
	buf_free(&text);
	buf_free(&mx);
}

/* --- MTA-STS policy fetches (§4.3.2.2) --- */

enum tlsrpt_result
mta_tlsrpt_fetch_result(const char *why)
{
	const char	*p;

	if (strncmp(why, "MTA-STS policy fetch for ", 25) != 0 ||
	    (p = strstr(why, " failed: ")) == NULL)
		return TLSRPT_OK;
	p += 9;
	if (strncmp(p, "invalid policy", 14) == 0)
		return TLSRPT_STS_POLICY_INVALID;
	/* curl's texts for a chain or a name OpenSSL refused */
	if (strstr(p, "SSL certificate problem") != NULL ||
	    strstr(p, "certificate subject name") != NULL ||
	    strstr(p, "SSL peer certificate") != NULL)
		return TLSRPT_STS_WEBPKI_INVALID;
	return TLSRPT_STS_POLICY_FETCH_ERROR;
}

void
mta_tlsrpt_sts_fetch(struct proc_self *self, const char *domain,
    const struct mta_sts_result *res)
{
	enum tlsrpt_result	 r = mta_tlsrpt_fetch_result(res->why);
	struct buf		 text, mx;
	char			 info[MTA_TLSRPT_INFO_MAX + 1];

	if (r == TLSRPT_OK)
		return;
	buf_init(&text, MTA_TLSRPT_POLICY_MAX);
	buf_init(&mx, MTA_TLSRPT_POLICY_MAX);
	if (res->policy)
		mta_tlsrpt_sts_text(&res->pol, &text, &mx);
	(void)printable(res->why, strnlen(res->why, MTA_TLSRPT_INFO_MAX),
	    info, sizeof(info));
	mta_tlsrpt_msg(self, domain, TLSRPT_POLICY_STS, &text, &mx, r, "", "",
	    "", info);
	buf_free(&text);
	buf_free(&mx);
}

/* --- POST to an https: rua (RFC 8460 §5.4) --- */

static void
mta_tlsrpt_posted(void *arg, bool ok, const char *why)
{
	char	*url = arg;

	if (ok)
		log_info("mta: event=tlsrpt-post url=%s result=ok", url);
	else
		log_warnx("mta: event=tlsrpt-post url=%s result=error "
		    "reason=\"%s\"", url, why);
	free(url);
}

void
mta_tlsrpt_post(struct mta_sts *sts, struct msg *m)
{
	char		 url[TLSRPT_URI_MAX + 1], host[TLSRPT_NAME_MAX + 1];
	char		 ips[MTA_TLSRPT_ADDRS_MAX][INET6_ADDRSTRLEN];
	struct span	 body;
	uint32_t	 n, i;
	char		*copy;

	if (msg_get_str(m, url, sizeof(url)) == -1 ||
	    msg_get_str(m, host, sizeof(host)) == -1 ||
	    msg_get_u32(m, &n) == -1 || n == 0 || n > MTA_TLSRPT_ADDRS_MAX)
		fatalx("mta: bad %s from lookup", msg_name(m->type));
	for (i = 0; i < n; i++)
		if (msg_get_str(m, ips[i], sizeof(ips[i])) == -1)
			fatalx("mta: bad %s from lookup", msg_name(m->type));
	if (msg_get_span(m, &body) == -1 || msg_end(m) == -1 ||
	    strncmp(url, "https://", 8) != 0)
		fatalx("mta: bad %s from lookup", msg_name(m->type));
	copy = xstrdup(url);
	if (sts == NULL || mta_sts_post(sts, url, host, ips, n,
	    "application/tlsrpt+gzip", body.ptr, body.len, mta_tlsrpt_posted,
	    copy) == -1)
		mta_tlsrpt_posted(copy, false, "cannot start the request");
}
