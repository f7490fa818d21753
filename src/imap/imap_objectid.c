/*
 * imap_objectid: EMAILID from a Maildir base name (contract in
 * imap_objectid.h).  SHA-256 so that ids of different names do not
 * collide in practice; 96 bits of it are plenty for one account.  A
 * copy's name carries the id of what it copies (",E=<24 hex>").
 */
#include <string.h>

#include <openssl/evp.h>

#include "imap_objectid.h"
#include "log.h"

/* The id a COPY's ",E=<24 hex>" field carries, or NULL. */
static const char *
copied_id(const char *name, size_t baselen)
{
	const char	*p = name, *end = name + baselen, *c;
	size_t		 i, n = IMAP_OBJECTID_EMAIL_LEN - 1;

	while ((c = memchr(p, ',', (size_t)(end - p))) != NULL) {
		p = c + 1;
		if ((size_t)(end - c) < 3 + n || c[1] != 'E' || c[2] != '=')
			continue;
		for (i = 0; i < n; i++)
			if (strchr("0123456789abcdef", c[3 + i]) == NULL)
				break;
		if (i == n && (c + 3 + n == end || c[3 + n] == ','))
			return c + 3;
	}
	return NULL;
}

void
imap_objectid_email(const char *name, char out[IMAP_OBJECTID_EMAIL_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  md[EVP_MAX_MD_SIZE];
	unsigned int	  mdlen = 0;
	size_t		  i, baselen = strcspn(name, ":");
	const char	 *id;

	if ((id = copied_id(name, baselen)) != NULL) {
		out[0] = 'M';
		memcpy(out + 1, id, IMAP_OBJECTID_EMAIL_LEN - 1);
		out[IMAP_OBJECTID_EMAIL_LEN] = '\0';
		return;
	}

	if (EVP_Digest(name, baselen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < (IMAP_OBJECTID_EMAIL_LEN - 1) / 2)
		fatalx("imap_objectid: SHA-256 failed");
	out[0] = 'M';
	for (i = 0; i < (IMAP_OBJECTID_EMAIL_LEN - 1) / 2; i++) {
		out[1 + 2 * i] = hex[md[i] >> 4];
		out[2 + 2 * i] = hex[md[i] & 0x0f];
	}
	out[IMAP_OBJECTID_EMAIL_LEN] = '\0';
}
