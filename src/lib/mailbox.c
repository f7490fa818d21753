/*
 * mailbox: the vocabulary of addresses and mailboxes that every role
 * shares.  An address of ours is "local@domain" (an RFC 5322 dot-atom
 * local part of ASCII characters, compared case-insensitively, and a host
 * name stored lower-cased); a mailbox is where its mail lives under
 * mail-dir, a Maildir or an mbox file.  The lookup role's user store
 * (lookup/users.c), the queue, the mda, pop3 and the config parser all
 * speak it.  Pure functions: no I/O, no allocation, no global state.
 */
#include <stdio.h>
#include <string.h>

#include "mailbox.h"

/*
 * RFC 5322 §3.2.3 atext.  No quoted local parts: they would make the same
 * mailbox spellable in several ways, which the NOCASE key cannot see.
 */
static bool
mailbox_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* dot-atom-text (RFC 5322 §3.2.3), at most 64 octets (RFC 5321 §4.5.3.1.1) */
static bool
mailbox_local_valid(const char *p, size_t len)
{
	size_t	i;

	if (len == 0 || len > MAILBOX_LOCAL_MAX || p[0] == '.' ||
	    p[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (p[i - 1] == '.')
				return false;
		} else if (!mailbox_atext((unsigned char)p[i]))
			return false;
	}
	return true;
}

/*
 * A host name (RFC 1123 §2.1, RFC 5321 §4.1.2 Domain): labels of letters,
 * digits and hyphens, 1-63 octets, no hyphen at either end; internationalised
 * names come as A-labels.  Copies it lower-cased into out (len + 1 bytes).
 */
bool
mailbox_domain_canon(const char *p, size_t len, char *out)
{
	size_t		i, label = 0;
	unsigned char	c;

	if (len == 0 || len > MAILBOX_DOMAIN_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		if (c == '.') {
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-') {
			if (c == '-' && label == 0)
				return false;
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			c = (unsigned char)(c - 'A' + 'a');
			label++;
		} else
			return false;
		if (label > 63)
			return false;
		out[i] = (char)c;
	}
	if (label == 0 || p[len - 1] == '-')
		return false;
	out[len] = '\0';
	return true;
}

int
mailbox_addr_normalize(const char *addr, char *out, size_t outsz,
    const char **errstr_out)
{
	const char	*at;
	size_t		 len, llen;

	len = strnlen(addr, MAILBOX_ADDR_MAX + 1);
	if (len > MAILBOX_ADDR_MAX || len >= outsz ||
	    (at = memchr(addr, '@', len)) == NULL)
		goto bad;
	llen = (size_t)(at - addr);
	if (!mailbox_local_valid(addr, llen) ||
	    !mailbox_domain_canon(at + 1, len - llen - 1, out + llen + 1))
		goto bad;
	memcpy(out, addr, llen);
	out[llen] = '@';
	return 0;
bad:
	if (errstr_out != NULL)
		*errstr_out = "invalid address";
	return -1;
}


static const char *const mailbox_format_names[] = {
	[MAILBOX_FORMAT_MAILDIR] = "maildir",
	[MAILBOX_FORMAT_MBOX] = "mbox",
};

const char *
mailbox_format_name(enum mailbox_format f)
{
	return (size_t)f < sizeof(mailbox_format_names) /
	    sizeof(mailbox_format_names[0]) ? mailbox_format_names[f] : "maildir";
}

int
mailbox_format_parse(const char *name, enum mailbox_format *out)
{
	size_t	i;

	for (i = 0; i < sizeof(mailbox_format_names) /
	    sizeof(mailbox_format_names[0]); i++)
		if (strcmp(name, mailbox_format_names[i]) == 0) {
			*out = (enum mailbox_format)i;
			return 0;
		}
	return -1;
}

int
mailbox_path(const char *addr, enum mailbox_format format, char *out,
    size_t outsz)
{
	char		 canon[MAILBOX_ADDR_MAX + 1];
	const char	*at;
	size_t		 o = 0, i;
	int		 n;

	if (mailbox_addr_normalize(addr, canon, sizeof(canon), NULL) == -1)
		return -1;
	at = strchr(canon, '@');
	n = snprintf(out, outsz, "%s/", at + 1);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	o = (size_t)n;
	for (i = 0; canon + i < at; i++) {
		if (canon[i] == '/' || canon[i] == '%')
			n = snprintf(out + o, outsz - o, "%%%02X",
			    (unsigned char)canon[i]);
		else
			n = snprintf(out + o, outsz - o, "%c", canon[i]);
		if (n < 0 || (size_t)n >= outsz - o)
			return -1;
		o += (size_t)n;
	}
	if (format == MAILBOX_FORMAT_MBOX) {
		n = snprintf(out + o, outsz - o, "/mbox");
		if (n < 0 || (size_t)n >= outsz - o)
			return -1;
	}
	return 0;
}

