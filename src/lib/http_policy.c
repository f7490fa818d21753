/*
 * http_policy: the text of our MTA-STS policy and its id (http_policy.h).
 * Run by the http role (which serves it) and lookup (which prints the
 * id in `cachetctl dns`), from their config; nothing here comes from
 * the network.
 */
#include <string.h>

#include <openssl/evp.h>

#include "http_policy.h"
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
