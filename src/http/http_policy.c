/*
 * http_policy: the text of our MTA-STS policy, its id and the DNS records
 * that announce it (http_policy.h).  Run by the http role, from its own
 * config; nothing here comes from the network.
 */
#include <string.h>

#include <openssl/evp.h>

#include "http/http_policy.h"
#include "log.h"

int
http_policy_text(const struct conf_sts_policy *p, struct buf *b)
{
	size_t	i;

	buf_reset(b);
	/* RFC 8461 §3.2: "version" first, then any order; CRLF ends. */
	if (buf_printf(b, "version: STSv1\r\nmode: %s\r\n",
	    conf_sts_mode_name(p->mode)) == -1)
		return -1;
	for (i = 0; i < p->nmx; i++)
		if (buf_printf(b, "mx: %s\r\n", p->mx[i]) == -1)
			return -1;
	return buf_printf(b, "max_age: %u\r\n", p->max_age);
}

void
http_policy_id(const char *text, size_t len, char out[HTTP_POLICY_ID_LEN + 1])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;
	size_t			 i;

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen * 2 < HTTP_POLICY_ID_LEN)
		fatalx("http: SHA-256 failed");
	for (i = 0; i < HTTP_POLICY_ID_LEN; i++)
		out[i] = hex[(md[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0xf];
	out[HTTP_POLICY_ID_LEN] = '\0';
}

int
http_policy_dns(const struct conf *c, const char *domain, const char *id,
    struct buf *b)
{
	buf_reset(b);
	if (c->sts_policy.set) {
		if (buf_printf(b, "_mta-sts.%s. IN TXT \"v=STSv1; id=%s\"\n",
		    domain, id) == -1)
			return -1;
	} else if (buf_printf(b, "; no mta-sts-policy in the config: no "
	    "_mta-sts.%s. record\n", domain) == -1)
		return -1;
	/* RFC 8460 §3: every report address of ours; postmaster is one. */
	if (c->tlsrpt_rua[0] != '\0')
		return buf_printf(b, "_smtp._tls.%s. IN TXT \"v=TLSRPTv1; "
		    "rua=%s\"\n", domain, c->tlsrpt_rua);
	return buf_printf(b, "_smtp._tls.%s. IN TXT \"v=TLSRPTv1; "
	    "rua=mailto:postmaster@%s\"\n", domain, domain);
}
