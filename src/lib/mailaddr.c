/*
 * mailaddr: parse the paths of MAIL FROM and RCPT TO (RFC 5321 §4.1.2) and
 * bare mailbox addresses, with the SMTPUTF8 extension of RFC 6531 §3.3.
 * The smtp role runs it on peer bytes it does not trust; the parent and
 * cachetctl run it on configuration.  Input is a pointer and a length: it
 * may hold NULs, is not NUL-terminated and is never read past len.  The
 * whole syntax is checked first over the input in place, then the
 * lengths, and only then is anything copied into the fixed-size fields,
 * so a copy can never overflow.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "mailaddr.h"

/* RFC 1035 §2.3.4: a DNS label is at most 63 octets. */
#define MAILADDR_LABEL_MAX	63
/* Longest text inet_pton() reads, without the NUL (RFC 4291 §2.2). */
#define MAILADDR_IP6_TEXT_MAX	(INET6_ADDRSTRLEN - 1)
#define MAILADDR_IP4_TEXT_MAX	(INET_ADDRSTRLEN - 1)
/* A bare mailbox must still fit in a path once "<" and ">" are added. */
#define MAILADDR_MAILBOX_MAX	(MAILADDR_PATH_MAX - 2)
/* RFC 5321 §4.1.1.3: "RCPT TO:<Postmaster>" without a domain. */
#define MAILADDR_POSTMASTER	"Postmaster"

/* A cursor over the input. */
struct mailaddr_scan {
	const unsigned char	*p;
	size_t			 len;
	size_t			 pos;
	bool			 utf8;	/* SMTPUTF8 is in effect */
};

/* Where the parts of a mailbox lie in the input. */
struct mailaddr_parts {
	size_t	local_off;
	size_t	local_len;
	size_t	domain_off;
	size_t	domain_len;
	bool	literal;
};

static int
mailaddr_peek(const struct mailaddr_scan *sc)
{
	if (sc->pos >= sc->len)
		return -1;
	return sc->p[sc->pos];
}

static bool
mailaddr_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
mailaddr_is_letdig(int c)
{
	return mailaddr_is_alpha(c) || (c >= '0' && c <= '9');
}

/* RFC 5322 §3.2.3 atext, as RFC 5321 §4.1.2 uses it. */
static bool
mailaddr_is_atext(int c)
{
	if (mailaddr_is_letdig(c))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
mailaddr_lower(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	return c;
}

/* Compare n octets of p with the ASCII string s, ignoring ASCII case. */
static bool
mailaddr_caseeq(const unsigned char *p, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (mailaddr_lower(p[i]) != mailaddr_lower((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * Length of the well-formed UTF-8 sequence of two to four octets that
 * starts at s (RFC 3629 §4), or 0.  C0, C1 and F5-FF never start one;
 * the narrower second-octet ranges after E0, ED, F0 and F4 refuse the
 * overlong forms, the surrogates U+D800-DFFF and anything past U+10FFFF.
 */
static size_t
mailaddr_utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		i, n;

	if (avail == 0)
		return 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

bool
mailaddr_utf8_valid(const char *p, size_t len)
{
	const unsigned char	*s = (const unsigned char *)p;
	size_t			 i = 0, n;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = mailaddr_utf8_seq(s + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/*
 * A non-ASCII octet where the grammar has none even under SMTPUTF8 (an
 * address literal, a quoted-pair): still "needs SMTPUTF8" when that is
 * off, so a client learns the same thing for every 8-bit address.
 */
static enum mailaddr_error
mailaddr_refuse_8bit(const struct mailaddr_scan *sc)
{
	return sc->utf8 ? MAILADDR_ESYNTAX : MAILADDR_EUTF8;
}

/*
 * Step over one UTF8-non-ascii character where RFC 6531 §3.3 admits one
 * (atext, qtextSMTP, U-label).  Without SMTPUTF8 any octet above 0x7f is
 * refused as such; with it the octets must be well-formed UTF-8.
 */
static enum mailaddr_error
mailaddr_scan_utf8(struct mailaddr_scan *sc)
{
	size_t	n;

	if (!sc->utf8)
		return MAILADDR_EUTF8;
	n = mailaddr_utf8_seq(sc->p + sc->pos, sc->len - sc->pos);
	if (n == 0)
		return MAILADDR_ESYNTAX;
	sc->pos += n;
	return MAILADDR_OK;
}

/* Dot-string = Atom *("." Atom), Atom = 1*atext (RFC 5321 §4.1.2). */
static enum mailaddr_error
mailaddr_scan_dot_string(struct mailaddr_scan *sc)
{
	enum mailaddr_error	err;
	size_t			start;
	int			c;

	for (;;) {
		start = sc->pos;
		while ((c = mailaddr_peek(sc)) != -1) {
			if (c >= 0x80) {
				err = mailaddr_scan_utf8(sc);
				if (err != MAILADDR_OK)
					return err;
			} else if (mailaddr_is_atext(c))
				sc->pos++;
			else
				break;
		}
		/* An empty atom: leading, trailing or doubled dot. */
		if (sc->pos == start)
			return MAILADDR_ESYNTAX;
		if (mailaddr_peek(sc) != '.')
			return MAILADDR_OK;
		sc->pos++;
	}
}

/*
 * Quoted-string = DQUOTE *QcontentSMTP DQUOTE (RFC 5321 §4.1.2), with
 * qtextSMTP = %d32-33 / %d35-91 / %d93-126 and quoted-pairSMTP = "\"
 * %d32-126.  RFC 6531 §3.3 adds UTF8-non-ascii to qtextSMTP only.
 */
static enum mailaddr_error
mailaddr_scan_quoted(struct mailaddr_scan *sc)
{
	enum mailaddr_error	err;
	int			c;

	sc->pos++;
	for (;;) {
		if ((c = mailaddr_peek(sc)) == -1)
			return MAILADDR_ESYNTAX;
		if (c == '"') {
			sc->pos++;
			return MAILADDR_OK;
		}
		if (c >= 0x80) {
			if ((err = mailaddr_scan_utf8(sc)) != MAILADDR_OK)
				return err;
			continue;
		}
		if (c == '\\') {
			sc->pos++;
			if ((c = mailaddr_peek(sc)) == -1)
				return MAILADDR_ESYNTAX;
			if (c >= 0x80)
				return mailaddr_refuse_8bit(sc);
		}
		if (c < 32 || c > 126)
			return MAILADDR_ESYNTAX;
		sc->pos++;
	}
}

/*
 * Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str]
 * (RFC 5321 §4.1.2): no empty label (so no trailing dot), no hyphen at
 * either end.  Under SMTPUTF8 a label may be a U-label (RFC 6531 §3.3),
 * where a non-ASCII character counts as a Let-dig.  An all-ASCII label
 * longer than 63 octets can never resolve and is refused; a U-label is
 * not held to it, its A-label form may be shorter or longer.
 */
static enum mailaddr_error
mailaddr_scan_domain(struct mailaddr_scan *sc)
{
	enum mailaddr_error	err;
	size_t			start;
	bool			ascii;
	int			c, last;

	for (;;) {
		start = sc->pos;
		ascii = true;
		last = -1;
		while ((c = mailaddr_peek(sc)) != -1) {
			if (c >= 0x80) {
				err = mailaddr_scan_utf8(sc);
				if (err != MAILADDR_OK)
					return err;
				ascii = false;
				last = 'a';
			} else if (mailaddr_is_letdig(c) || c == '-') {
				if (c == '-' && sc->pos == start)
					return MAILADDR_ESYNTAX;
				sc->pos++;
				last = c;
			} else
				break;
		}
		if (sc->pos == start || last == '-')
			return MAILADDR_ESYNTAX;
		if (ascii && sc->pos - start > MAILADDR_LABEL_MAX)
			return MAILADDR_ESYNTAX;
		if (mailaddr_peek(sc) != '.')
			return MAILADDR_OK;
		sc->pos++;
	}
}

/*
 * address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 * General-address-literal ) "]" (RFC 5321 §4.1.3).  IPv4 and "IPv6:"
 * (case-insensitive, RFC 5234 §2.3) are checked with inet_pton(); no
 * General-address-literal tag is registered that we could route, so one
 * is refused.
 */
static enum mailaddr_error
mailaddr_scan_literal(struct mailaddr_scan *sc)
{
	char			 text[INET6_ADDRSTRLEN];
	unsigned char		 bin[sizeof(struct in6_addr)];
	const unsigned char	*v;
	size_t			 start, n;
	int			 c, af;

	sc->pos++;
	start = sc->pos;
	for (;;) {
		if ((c = mailaddr_peek(sc)) == -1)
			return MAILADDR_ESYNTAX;
		if (c == ']')
			break;
		if (c >= 0x80)
			return mailaddr_refuse_8bit(sc);
		/* dcontent = %d33-90 / %d94-126 */
		if (c < 33 || c > 126 || c == '[' || c == '\\')
			return MAILADDR_ESYNTAX;
		sc->pos++;
	}
	v = sc->p + start;
	n = sc->pos - start;
	sc->pos++;

	if (n >= 5 && mailaddr_caseeq(v, "IPv6:", 5)) {
		af = AF_INET6;
		v += 5;
		n -= 5;
		if (n > MAILADDR_IP6_TEXT_MAX)
			return MAILADDR_ESYNTAX;
	} else {
		if (memchr(v, ':', n) != NULL)
			return MAILADDR_ESYNTAX;
		af = AF_INET;
		if (n > MAILADDR_IP4_TEXT_MAX)
			return MAILADDR_ESYNTAX;
	}
	if (n == 0)
		return MAILADDR_ESYNTAX;
	memcpy(text, v, n);
	text[n] = '\0';
	if (inet_pton(af, text, bin) != 1)
		return MAILADDR_ESYNTAX;
	return MAILADDR_OK;
}

/*
 * A-d-l = At-domain *( "," At-domain ), At-domain = "@" Domain, then ":"
 * (RFC 5321 §4.1.2).  Checked and dropped: §3.3 and Appendix C let a
 * server ignore the route.
 */
static enum mailaddr_error
mailaddr_scan_adl(struct mailaddr_scan *sc)
{
	enum mailaddr_error	err;

	for (;;) {
		if (mailaddr_peek(sc) != '@')
			return MAILADDR_ESYNTAX;
		sc->pos++;
		if ((err = mailaddr_scan_domain(sc)) != MAILADDR_OK)
			return err;
		switch (mailaddr_peek(sc)) {
		case ',':
			sc->pos++;
			break;
		case ':':
			sc->pos++;
			return MAILADDR_OK;
		default:
			return MAILADDR_ESYNTAX;
		}
	}
}

/* Mailbox = Local-part "@" ( Domain / address-literal ) */
static enum mailaddr_error
mailaddr_scan_mailbox(struct mailaddr_scan *sc, struct mailaddr_parts *mp)
{
	enum mailaddr_error	err;

	mp->local_off = sc->pos;
	if (mailaddr_peek(sc) == '"')
		err = mailaddr_scan_quoted(sc);
	else
		err = mailaddr_scan_dot_string(sc);
	if (err != MAILADDR_OK)
		return err;
	mp->local_len = sc->pos - mp->local_off;
	if (mailaddr_peek(sc) != '@')
		return MAILADDR_ESYNTAX;
	sc->pos++;
	mp->domain_off = sc->pos;
	if (mailaddr_peek(sc) == '[') {
		mp->literal = true;
		err = mailaddr_scan_literal(sc);
	} else
		err = mailaddr_scan_domain(sc);
	if (err != MAILADDR_OK)
		return err;
	mp->domain_len = sc->pos - mp->domain_off;
	return MAILADDR_OK;
}

/* RFC 5321 §4.5.3.1.1 and §4.5.3.1.2, once the syntax is known good. */
static enum mailaddr_error
mailaddr_check_parts(const struct mailaddr_parts *mp)
{
	if (mp->local_len > MAILADDR_LOCAL_MAX)
		return MAILADDR_ELOCAL_TOO_LONG;
	if (mp->domain_len > MAILADDR_DOMAIN_MAX)
		return MAILADDR_EDOMAIN_TOO_LONG;
	return MAILADDR_OK;
}

static bool
mailaddr_has_8bit(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}

/* Copy checked parts; mailaddr_check_parts() has bounded both lengths. */
static void
mailaddr_fill(const unsigned char *p, const struct mailaddr_parts *mp,
    struct mailaddr *out)
{
	memcpy(out->local, p + mp->local_off, mp->local_len);
	out->local[mp->local_len] = '\0';
	memcpy(out->domain, p + mp->domain_off, mp->domain_len);
	out->domain[mp->domain_len] = '\0';
	out->is_null = false;
	out->is_literal = mp->literal;
	out->utf8 = mailaddr_has_8bit(out->local, mp->local_len) ||
	    mailaddr_has_8bit(out->domain, mp->domain_len);
}

/*
 * RFC 5321 §4.1.1.3 makes "RCPT TO:<Postmaster>" valid with no domain,
 * and §2.4 makes "Postmaster" case-insensitive.
 */
static bool
mailaddr_scan_postmaster(struct mailaddr_scan *sc)
{
	size_t	n = sizeof(MAILADDR_POSTMASTER) - 1;

	if (sc->len - sc->pos < n + 1 ||
	    !mailaddr_caseeq(sc->p + sc->pos, MAILADDR_POSTMASTER, n) ||
	    sc->p[sc->pos + n] != '>')
		return false;
	sc->pos += n + 1;
	return true;
}

enum mailaddr_error
mailaddr_parse_path(const char *p, size_t len, bool allow_null, bool utf8,
    struct mailaddr *out, size_t *consumed_out)
{
	struct mailaddr_scan	sc;
	struct mailaddr_parts	mp;
	enum mailaddr_error	err;

	memset(out, 0, sizeof(*out));
	memset(&mp, 0, sizeof(mp));
	if (consumed_out != NULL)
		*consumed_out = 0;
	sc.p = (const unsigned char *)p;
	sc.len = len;
	sc.pos = 0;
	sc.utf8 = utf8;

	if (mailaddr_peek(&sc) != '<')
		return MAILADDR_ESYNTAX;
	sc.pos++;
	if (mailaddr_peek(&sc) == '>') {
		if (!allow_null)
			return MAILADDR_ENULL;
		sc.pos++;
		out->is_null = true;
		goto done;
	}
	if (mailaddr_scan_postmaster(&sc)) {
		memcpy(out->local, MAILADDR_POSTMASTER,
		    sizeof(MAILADDR_POSTMASTER));
		goto done;
	}
	if (mailaddr_peek(&sc) == '@' &&
	    (err = mailaddr_scan_adl(&sc)) != MAILADDR_OK)
		return err;
	if ((err = mailaddr_scan_mailbox(&sc, &mp)) != MAILADDR_OK)
		return err;
	if (mailaddr_peek(&sc) != '>')
		return MAILADDR_ESYNTAX;
	sc.pos++;
	if ((err = mailaddr_check_parts(&mp)) != MAILADDR_OK)
		return err;
	/* RFC 5321 §4.5.3.1.3, the source route and brackets included. */
	if (sc.pos > MAILADDR_PATH_MAX)
		return MAILADDR_EPATH_TOO_LONG;
	mailaddr_fill(sc.p, &mp, out);
done:
	if (consumed_out != NULL)
		*consumed_out = sc.pos;
	return MAILADDR_OK;
}

enum mailaddr_error
mailaddr_parse(const char *p, size_t len, bool utf8, struct mailaddr *out)
{
	struct mailaddr_scan	sc;
	struct mailaddr_parts	mp;
	enum mailaddr_error	err;

	memset(out, 0, sizeof(*out));
	memset(&mp, 0, sizeof(mp));
	sc.p = (const unsigned char *)p;
	sc.len = len;
	sc.pos = 0;
	sc.utf8 = utf8;

	if ((err = mailaddr_scan_mailbox(&sc, &mp)) != MAILADDR_OK)
		return err;
	if (sc.pos != len)
		return MAILADDR_ESYNTAX;
	if ((err = mailaddr_check_parts(&mp)) != MAILADDR_OK)
		return err;
	if (len > MAILADDR_MAILBOX_MAX)
		return MAILADDR_EPATH_TOO_LONG;
	mailaddr_fill(sc.p, &mp, out);
	return MAILADDR_OK;
}

const char *
mailaddr_strerror(enum mailaddr_error err)
{
	switch (err) {
	case MAILADDR_OK:
		return "Address ok";
	case MAILADDR_ESYNTAX:
		return "Syntax error in mailbox address";
	case MAILADDR_ELOCAL_TOO_LONG:
		return "Local part too long (64 octets max)";
	case MAILADDR_EDOMAIN_TOO_LONG:
		return "Domain too long (255 octets max)";
	case MAILADDR_EPATH_TOO_LONG:
		return "Path too long (256 octets max)";
	case MAILADDR_EUTF8:
		return "Non-ASCII address requires SMTPUTF8";
	case MAILADDR_ENULL:
		return "Null path not allowed here";
	}
	return "Unknown address error";
}

int
mailaddr_format(const struct mailaddr *a, char *out, size_t outsz)
{
	size_t	llen, dlen, need;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	if (a->is_null)
		return 0;
	llen = strnlen(a->local, sizeof(a->local));
	dlen = strnlen(a->domain, sizeof(a->domain));
	if (llen == sizeof(a->local) || dlen == sizeof(a->domain))
		return -1;
	/* The bare <Postmaster> has no domain and is written without "@". */
	need = llen + (dlen > 0 ? 1 + dlen : 0);
	if (need >= outsz)
		return -1;
	memcpy(out, a->local, llen);
	if (dlen > 0) {
		out[llen] = '@';
		memcpy(out + llen + 1, a->domain, dlen);
	}
	out[need] = '\0';
	return 0;
}
