/*
 * imap_objectid: EMAILID from a Maildir base name (contract in
 * imap_objectid.h).  SHA-256 so that ids of different names do not
 * collide in practice; 96 bits of it are plenty for one account.
 */
#include <string.h>

#include <openssl/evp.h>

#include "imap_objectid.h"
#include "log.h"

void
imap_objectid_email(const char *name, char out[IMAP_OBJECTID_EMAIL_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	  md[EVP_MAX_MD_SIZE];
	unsigned int	  mdlen = 0;
	size_t		  i, baselen = strcspn(name, ":");

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
