/*
 * conf: the configuration file parser and the embedded default.
 *
 * Run by the parent alone, before it forks the roles, which inherit the
 * parsed struct conf.  The file is the administrator's, not a peer's, but
 * it is bounded like any input (file size, line length, words per
 * directive, number of listeners, domains and relays) so that a truncated
 * or binary file gives errors, never a crash or a silent truncation.
 *
 * A hand-written lexer turns bytes into words, braces and line ends; the
 * collector groups them into one directive (its words, then the words of
 * its block, if any); a table maps the first word to a parser.  Every
 * error is collected as "file:line: message" and parsing goes on with the
 * next directive, so that one run reports them all.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "pool.h"
#include "spam.h"
#include "mailbox.h"
#include "spamrules.h"
#include "tls.h"
#include "util.h"

#define CONF_SHOW_MAX		64	/* bytes of a value shown in an error */
#define CONF_USER_MAX		32	/* useradd(8)'s limit on Linux */
#define CONF_DNSNAME_MAX	253	/* RFC 1035 §2.3.4, in text form */
#define CONF_LABEL_MAX		63	/* RFC 1035 §2.3.4 */
#define CONF_DIRECTIVES_MAX	96	/* size of the seen[] table */
#define CONF_DURATION_MAX	(10u * 365 * 86400)	/* ten years, seconds */
/* smtp-greet-delay, ms: clients wait 5 minutes for it (RFC 5321 §4.5.3.2.1) */
#define CONF_GREET_DELAY_MAX	(60u * 1000)
_Static_assert(CONF_WORDS_MAX == 32, "fix the \"too many words\" message");
_Static_assert(CONF_CIPHERS_MAX == TLS_CIPHERS_MAX, "one limit for a list");

#define CONF_ADDR_WILD		0x01	/* "*" and "localhost" allowed */
#define CONF_ADDR_PORTOPT	0x02	/* the port may be left out */

enum conf_tok {
	CONF_TOK_WORD,
	CONF_TOK_LBRACE,
	CONF_TOK_RBRACE,
	CONF_TOK_EOL,
	CONF_TOK_EOF,
	CONF_TOK_ERROR,		/* reported already; the line is skipped */
};

struct conf_word {
	char	*text;
	size_t	 len;
	int	 line;
};

/* One directive: w[0] is its keyword, w[nargs..nwords) its block. */
struct conf_stmt {
	struct conf_word	 w[CONF_WORDS_MAX];
	size_t			 nwords;
	size_t			 nargs;
	bool			 block;
	int			 block_line;
	bool			 bad;	/* an error was reported; skip it */
};

struct conf_parser {
	struct conf	*conf;
	const char	*name;
	const char	*p;
	const char	*end;
	int		 line;
	int		 tokline;
	bool		 line_start;
	char		 tok[CONF_LINE_MAX + 1];
	size_t		 toklen;
	char		*errs;
	size_t		 errsz;
	size_t		 errlen;
	int		 nerrors;
	bool		 unterminated;	/* a block swallowed the rest */
	int		 seen[CONF_DIRECTIVES_MAX];	/* line of first use */
	int		 domain_line[CONF_DOMAINS_MAX];
};

struct conf_directive;
typedef void	(*conf_parse_fn)(struct conf_parser *,
		    const struct conf_directive *, struct conf_stmt *);

struct conf_directive {
	const char	*name;
	const char	*usage;
	conf_parse_fn	 parse;
	size_t		 args;	/* words after the keyword, block excluded */
	bool		 block;
	bool		 multi;	/* may appear more than once */
	size_t		 off;	/* field of struct conf for generic parsers */
	size_t		 size;
};

static const char *const conf_kind_names[] = {
	[CONF_LISTEN_SMTP] = "smtp",
	[CONF_LISTEN_SUBMISSION] = "submission",
	[CONF_LISTEN_SUBMISSIONS] = "submissions",
	[CONF_LISTEN_IMAP] = "imap",
	[CONF_LISTEN_IMAPS] = "imaps",
	[CONF_LISTEN_POP3] = "pop3",
	[CONF_LISTEN_POP3S] = "pop3s",
	[CONF_LISTEN_HTTPS] = "https",
	[CONF_LISTEN_HTTP] = "http",
	[CONF_LISTEN_METRICS] = "metrics",
};
#define CONF_NKINDS	(sizeof(conf_kind_names) / sizeof(conf_kind_names[0]))

static const char conf_default_conf[] =
    "# cachet's embedded default: a demo on loopback, state and mail\n"
    "# under ./var, a self-signed certificate made at start.\n"
    "hostname   localhost\n"
    "state-dir  ./var/state\n"
    "mail-dir   ./var/mail\n"
    "domain     demo.cachet.test\n"
    "\n"
    "listen smtp         127.0.0.1:2525\n"
    "listen submission   127.0.0.1:2587\n"
    "listen submissions  127.0.0.1:2465\n"
    "listen imap         127.0.0.1:2143\n"
    "listen imaps        127.0.0.1:2993\n"
    "listen pop3         127.0.0.1:2110\n"
    "listen pop3s        127.0.0.1:2995\n"
    "listen https        127.0.0.1:2443\n"
    "# Prometheus metrics, without authentication: keep it on loopback.\n"
    "listen metrics      127.0.0.1:2999\n"
    "\n"
    "# Our MTA-STS policy, at https://mta-sts.demo.cachet.test:2443/...\n"
    "mta-sts-policy testing\n"
    "\n"
    "# Local test clients may log in without TLS on loopback.\n"
    "plaintext-auth-loopback yes\n"
    "\n"
    "# A user to try things with (never on a real server).\n"
    "demo-user  demo@demo.cachet.test demo\n";

static void	conf_err(struct conf_parser *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Append to errs, cutting at its end; errs stays NUL-terminated. */
static void __attribute__((format(printf, 4, 0)))
conf_errs_vadd(char *errs, size_t errsz, size_t *errlen, const char *fmt,
    va_list ap)
{
	int	n;

	if (errs == NULL || errsz == 0 || *errlen + 1 >= errsz)
		return;
	n = vsnprintf(errs + *errlen, errsz - *errlen, fmt, ap);
	if (n < 0)
		errs[*errlen] = '\0';
	else if ((size_t)n >= errsz - *errlen)
		*errlen = errsz - 1;
	else
		*errlen += (size_t)n;
}

static void __attribute__((format(printf, 4, 5)))
conf_errs_add(char *errs, size_t errsz, size_t *errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_errs_vadd(errs, errsz, errlen, fmt, ap);
	va_end(ap);
}

/* Record one error; line 0 means the file as a whole. */
static void
conf_err(struct conf_parser *ps, int line, const char *fmt, ...)
{
	va_list	ap;

	if (++ps->nerrors > CONF_ERRORS_MAX)
		return;
	if (line > 0)
		conf_errs_add(ps->errs, ps->errsz, &ps->errlen, "%s:%d: ",
		    ps->name, line);
	else
		conf_errs_add(ps->errs, ps->errsz, &ps->errlen, "%s: ",
		    ps->name);
	va_start(ap, fmt);
	conf_errs_vadd(ps->errs, ps->errsz, &ps->errlen, fmt, ap);
	va_end(ap);
	conf_errs_add(ps->errs, ps->errsz, &ps->errlen, "\n");
}

static const char *
conf_show(const struct conf_word *w, char *buf, size_t bufsz)
{
	return printable(w->text, w->len, buf, bufsz);
}

/*
 * The lexer.  Words do not span lines, so a line that fits CONF_LINE_MAX
 * bounds every word; lines are checked for length and NUL bytes when the
 * lexer enters them.  On an error the rest of the line is skipped.
 */
static void
conf_skip_line(struct conf_parser *ps)
{
	const char	*nl;

	nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
	ps->p = nl != NULL ? nl : ps->end;
}

static bool
conf_is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static enum conf_tok
conf_lex_quoted(struct conf_parser *ps)
{
	unsigned char	c;

	ps->p++;
	for (;;) {
		if (ps->p == ps->end || *ps->p == '\n') {
			conf_err(ps, ps->tokline, "unterminated quoted string");
			return CONF_TOK_ERROR;
		}
		c = (unsigned char)*ps->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (ps->p == ps->end || (*ps->p != '"' &&
			    *ps->p != '\\')) {
				conf_err(ps, ps->line, "bad escape in quoted "
				    "string (only \\\" and \\\\)");
				conf_skip_line(ps);
				return CONF_TOK_ERROR;
			}
			c = (unsigned char)*ps->p++;
		} else if (conf_is_ctl(c)) {
			conf_err(ps, ps->line, "control character in quoted "
			    "string");
			conf_skip_line(ps);
			return CONF_TOK_ERROR;
		}
		ps->tok[ps->toklen++] = (char)c;
	}
	ps->tok[ps->toklen] = '\0';
	return CONF_TOK_WORD;
}

static enum conf_tok
conf_lex_bare(struct conf_parser *ps)
{
	unsigned char	c;

	while (ps->p < ps->end) {
		c = (unsigned char)*ps->p;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == '{' || c == '}' || c == '"' || c == '#')
			break;
		if (conf_is_ctl(c)) {
			conf_err(ps, ps->line, "control character in line");
			conf_skip_line(ps);
			return CONF_TOK_ERROR;
		}
		ps->tok[ps->toklen++] = (char)c;
		ps->p++;
	}
	ps->tok[ps->toklen] = '\0';
	return CONF_TOK_WORD;
}

static enum conf_tok
conf_lex(struct conf_parser *ps)
{
	const char	*nl;
	size_t		 n;

	for (;;) {
		if (ps->line_start) {
			ps->line_start = false;
			nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
			n = (size_t)((nl != NULL ? nl : ps->end) - ps->p);
			if (n > CONF_LINE_MAX) {
				conf_err(ps, ps->line, "line too long (more "
				    "than %d bytes)", CONF_LINE_MAX);
				ps->p += n;
				return CONF_TOK_ERROR;
			}
			if (memchr(ps->p, '\0', n) != NULL) {
				conf_err(ps, ps->line, "NUL byte in line");
				ps->p += n;
				return CONF_TOK_ERROR;
			}
		}
		while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
		    *ps->p == '\r'))
			ps->p++;
		if (ps->p == ps->end)
			return CONF_TOK_EOF;
		if (*ps->p != '#')
			break;
		conf_skip_line(ps);
	}
	ps->tokline = ps->line;
	ps->toklen = 0;
	switch (*ps->p) {
	case '\n':
		ps->p++;
		ps->line++;
		ps->line_start = true;
		return CONF_TOK_EOL;
	case '{':
		ps->p++;
		return CONF_TOK_LBRACE;
	case '}':
		ps->p++;
		return CONF_TOK_RBRACE;
	case '"':
		return conf_lex_quoted(ps);
	default:
		return conf_lex_bare(ps);
	}
}

/* One error per directive: after the first, the rest is noise. */
static void
conf_stmt_err(struct conf_parser *ps, struct conf_stmt *st, const char *msg)
{
	if (!st->bad)
		conf_err(ps, ps->tokline, "%s", msg);
	st->bad = true;
}

/*
 * Gather one directive: words up to the end of the line, and when a `{`
 * comes, every word up to the matching `}` whatever the lines between.
 * Returns false at the end of the input (st may still hold a directive).
 */
static bool
conf_collect(struct conf_parser *ps, struct conf_stmt *st)
{
	struct conf_word	*w;
	bool			 inblock = false, closed = false;

	st->nwords = st->nargs = 0;
	st->block = st->bad = false;
	st->block_line = 0;
	for (;;) {
		switch (conf_lex(ps)) {
		case CONF_TOK_EOF:
			if (inblock) {
				conf_err(ps, st->block_line,
				    "unterminated block (missing })");
				st->bad = true;
				ps->unterminated = true;
			}
			return false;
		case CONF_TOK_EOL:
			if (inblock || (st->nwords == 0 && !st->block &&
			    !st->bad))
				continue;
			return true;
		case CONF_TOK_ERROR:
			st->bad = true;
			continue;
		case CONF_TOK_WORD:
			if (closed)
				conf_stmt_err(ps, st, "unexpected word after }");
			else if (st->nwords == CONF_WORDS_MAX)
				conf_stmt_err(ps, st, "too many words in one "
				    "directive (at most 32)");
			else {
				w = &st->w[st->nwords++];
				w->text = xstrndup(ps->tok, ps->toklen);
				w->len = ps->toklen;
				w->line = ps->tokline;
			}
			continue;
		case CONF_TOK_LBRACE:
			if (inblock || closed) {
				conf_stmt_err(ps, st, "unexpected {");
				continue;
			}
			inblock = st->block = true;
			st->block_line = ps->tokline;
			st->nargs = st->nwords;
			continue;
		case CONF_TOK_RBRACE:
			if (!inblock)
				conf_stmt_err(ps, st, "unexpected }");
			else {
				inblock = false;
				closed = true;
			}
			continue;
		}
	}
}

static void
conf_stmt_clear(struct conf_stmt *st)
{
	size_t	i;

	for (i = 0; i < st->nwords; i++)
		free(st->w[i].text);
	st->nwords = 0;
}

/* Helpers for values. */

/* A host name as RFC 1123 §2.1 allows: LDH labels of 1-63, no end dot. */
static bool
conf_dnsname_ok(const char *s, size_t len)
{
	size_t	i, label = 0;
	char	c;

	if (len == 0 || len > CONF_DNSNAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (label == 0 && c == '-')
			return false;
		if (++label > CONF_LABEL_MAX)
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

static void
conf_lower(char *dst, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) :
		    s[i];
	dst[len] = '\0';
}

static bool
conf_all_digits(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

static int
conf_port(const char *s, size_t len, uint16_t *out, const char **errstr)
{
	unsigned	v = 0;
	size_t		i;

	if (len == 0) {
		*errstr = "missing port";
		return -1;
	}
	if (!conf_all_digits(s, len)) {
		*errstr = "bad port";
		return -1;
	}
	/* Five digits cannot overflow an unsigned; more cannot be a port. */
	for (i = 0; i < len && i < 6; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (len > 5 || v == 0 || v > 65535) {
		*errstr = "port out of range";
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

struct conf_hostport {
	char		host[CONF_NAME_MAX + 1];
	size_t		hlen;
	bool		bracket;
	bool		has_port;
	uint16_t	port;
};

/*
 * Split "[host]:port", "[host]", "host:port" or "host".  A bare host with
 * several colons is an IPv6 literal that cannot carry a port; it is taken
 * only when bare_v6 is set.
 */
static int
conf_split(const char *s, size_t len, bool bare_v6, struct conf_hostport *hp,
    const char **errstr)
{
	const char	*h = s, *port = NULL, *rb, *colon;
	size_t		 hlen = len;

	memset(hp, 0, sizeof(*hp));
	*errstr = "bad address";
	colon = memchr(s, ':', len);
	if (len > 0 && s[0] == '[') {
		if ((rb = memchr(s, ']', len)) == NULL) {
			*errstr = "missing ]";
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(rb - h);
		hp->bracket = true;
		if (rb + 1 < s + len) {
			if (rb[1] != ':')
				return -1;
			port = rb + 2;
		}
	} else if (colon != NULL &&
	    memchr(colon + 1, ':', (size_t)(s + len - colon - 1)) != NULL) {
		if (!bare_v6) {
			*errstr = "IPv6 address needs brackets";
			return -1;
		}
	} else if (colon != NULL) {
		hlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (port != NULL) {
		if (conf_port(port, (size_t)(s + len - port), &hp->port,
		    errstr) == -1)
			return -1;
		hp->has_port = true;
	}
	*errstr = "bad address";
	if (hlen == 0 || hlen >= sizeof(hp->host))
		return -1;
	memcpy(hp->host, h, hlen);
	hp->host[hlen] = '\0';
	hp->hlen = hlen;
	return 0;
}

/*
 * An address literal with a port: "192.0.2.1:25", "[2001:db8::1]:25",
 * with CONF_ADDR_WILD also "*:25" and "localhost:25".  Never DNS: the
 * parent must not depend on a resolver to read its own config.
 */
static int
conf_addr(const char *s, size_t len, int flags, uint16_t defport,
    struct sockaddr_storage *ss, socklen_t *sslen, const char **errstr)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	struct conf_hostport	 hp;
	uint16_t		 port;

	if (conf_split(s, len, flags & CONF_ADDR_PORTOPT, &hp, errstr) == -1)
		return -1;
	if (!hp.has_port && !(flags & CONF_ADDR_PORTOPT)) {
		*errstr = "missing port";
		return -1;
	}
	port = hp.has_port ? hp.port : defport;
	*errstr = "bad address";
	memset(ss, 0, sizeof(*ss));
	if (hp.bracket || memchr(hp.host, ':', hp.hlen) != NULL) {
		if (inet_pton(AF_INET6, hp.host, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	if ((flags & CONF_ADDR_WILD) && strcmp(hp.host, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if ((flags & CONF_ADDR_WILD) && strcmp(hp.host, "localhost") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, hp.host, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	*sslen = sizeof(*sin);
	return 0;
}

/* Would binding both fail?  Same port, and same address or a wildcard. */
static bool
conf_addr_clash(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return a4->sin_port == b4->sin_port &&
		    (a4->sin_addr.s_addr == b4->sin_addr.s_addr ||
		    a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    b4->sin_addr.s_addr == htonl(INADDR_ANY));
	}
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	return a6->sin6_port == b6->sin6_port &&
	    (IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
	    IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr));
}

/*
 * A positive decimal number, with K, M or G (powers of 1024) when suffix
 * is set.  strtoull alone would take "-1", " 1" and "0x10".
 */
static int
conf_number(const struct conf_word *w, bool suffix, unsigned long long max,
    unsigned long long *out, const char **errstr)
{
	char			 digits[24];
	unsigned long long	 v, mul = 1;
	size_t			 len = w->len;

	if (suffix && len > 0) {
		switch (w->text[len - 1]) {
		case 'K': case 'k':
			mul = 1024ULL;
			break;
		case 'M': case 'm':
			mul = 1024ULL * 1024;
			break;
		case 'G': case 'g':
			mul = 1024ULL * 1024 * 1024;
			break;
		}
		if (mul > 1)
			len--;
	}
	if (!conf_all_digits(w->text, len)) {
		*errstr = "is not a number";
		return -1;
	}
	*errstr = "is too large";
	if (len >= sizeof(digits))
		return -1;
	memcpy(digits, w->text, len);
	digits[len] = '\0';
	errno = 0;
	v = strtoull(digits, NULL, 10);
	if (errno == ERANGE || __builtin_mul_overflow(v, mul, &v) || v > max)
		return -1;
	if (v == 0) {
		*errstr = "must be at least 1";
		return -1;
	}
	*out = v;
	return 0;
}

/* The directive parsers; arity was checked by conf_dispatch(). */

static void
conf_p_hostname(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];

	if (!conf_dnsname_ok(w->text, w->len)) {
		conf_err(ps, w->line, "hostname: bad DNS name \"%s\"",
		    conf_show(w, sb, sizeof(sb)));
		return;
	}
	memcpy(ps->conf->hostname, w->text, w->len + 1);
}

static void
conf_p_path(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];

	if (w->len == 0)
		conf_err(ps, w->line, "%s: empty path", d->name);
	else if (w->len >= d->size)
		conf_err(ps, w->line, "%s: path too long (at most %zu bytes)",
		    d->name, d->size - 1);
	else
		memcpy((char *)ps->conf + d->off, w->text, w->len + 1);
}

static void
conf_p_user(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];
	size_t			 i;
	char			 c;
	bool			 ok;

	ok = w->len > 0 && w->len <= CONF_USER_MAX && w->text[0] != '-';
	for (i = 0; ok && i < w->len; i++) {
		c = w->text[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
	}
	if (!ok) {
		conf_err(ps, w->line, "user: bad user name \"%s\"",
		    conf_show(w, sb, sizeof(sb)));
		return;
	}
	memcpy(ps->conf->user, w->text, w->len + 1);
}

/* demo-user ADDRESS PASSWORD: for the embedded demo only. */
static void
conf_p_demo_user(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*a = &st->w[1], *pw = &st->w[2];
	char			 sb[CONF_SHOW_MAX];

	if (a->len == 0 || a->len >= sizeof(ps->conf->demo_user) ||
	    memchr(a->text, '@', a->len) == NULL) {
		conf_err(ps, a->line, "demo-user: bad address \"%s\"",
		    conf_show(a, sb, sizeof(sb)));
		return;
	}
	if (pw->len == 0 || pw->len >= sizeof(ps->conf->demo_password)) {
		conf_err(ps, pw->line, "demo-user: bad password");
		return;
	}
	memcpy(ps->conf->demo_user, a->text, a->len + 1);
	memcpy(ps->conf->demo_password, pw->text, pw->len + 1);
}

/*
 * One of two words: 0 for the first, 1 for the second, -1 after an
 * error that names both.
 */
static int
conf_two_words(struct conf_parser *ps, const struct conf_directive *d,
    const struct conf_stmt *st, const char *first, const char *second)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];

	if (strcmp(w->text, first) == 0)
		return 0;
	if (strcmp(w->text, second) == 0)
		return 1;
	conf_err(ps, w->line, "%s: expected %s or %s, not \"%s\"", d->name,
	    first, second, conf_show(w, sb, sizeof(sb)));
	return -1;
}

static void
conf_p_yesno(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	bool	*field = (bool *)((char *)ps->conf + d->off);
	int	 i = conf_two_words(ps, d, st, "yes", "no");

	if (i != -1)
		*field = i == 0;
}

/*
 * A number into the directive's unsigned or size_t field, at most max;
 * range, when not NULL, is said after an error ("(1 to 64)").
 */
static void
conf_number_into(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st, unsigned long long max, const char *range)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];
	unsigned long long	 v;
	const char		*errstr;
	bool			 suffix = strcmp(d->name, "message-size") == 0;
	size_t			 sz;
	unsigned		 u;

	if (conf_number(w, suffix, max, &v, &errstr) == -1) {
		conf_err(ps, w->line, "%s: \"%s\" %s%s%s", d->name,
		    conf_show(w, sb, sizeof(sb)), errstr,
		    range != NULL ? " " : "", range != NULL ? range : "");
		return;
	}
	if (d->size == sizeof(size_t)) {
		sz = (size_t)v;
		memcpy((char *)ps->conf + d->off, &sz, sizeof(sz));
	} else {
		u = (unsigned)v;
		memcpy((char *)ps->conf + d->off, &u, sizeof(u));
	}
}

static void
conf_p_number(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	conf_number_into(ps, d, st, d->size == sizeof(size_t) ? SIZE_MAX :
	    UINT_MAX, NULL);
}

/* A count of threads (delivery-workers). */
static void
conf_p_threads(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	_Static_assert(POOL_WORKERS_MAX == 64, "the error below says 64");
	conf_number_into(ps, d, st, POOL_WORKERS_MAX, "(1 to 64)");
}

/* Processes of a role (smtp-workers): a count, or auto (0). */
static void
conf_p_procs(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	unsigned	zero = 0;

	_Static_assert(CONF_WORKERS_MAX == 64, "the error below says 64");
	if (strcmp(st->w[1].text, "auto") == 0) {
		memcpy((char *)ps->conf + d->off, &zero, sizeof(zero));
		return;
	}
	conf_number_into(ps, d, st, CONF_WORKERS_MAX, "(1 to 64, or auto)");
}

/* Opened, not only access(2)ed: root passes access() for any file. */
static int
conf_file_ok(struct conf_parser *ps, const char *dir, const char *what,
    const struct conf_word *w)
{
	char		sb[CONF_SHOW_MAX];
	struct stat	stb;
	int		fd;

	if (w->len >= CONF_PATH_MAX) {
		conf_err(ps, w->line, "%s: %s: path too long (at most %d "
		    "bytes)", dir, what, CONF_PATH_MAX - 1);
		return -1;
	}
	fd = open(w->text, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		conf_err(ps, w->line, "%s: %s \"%s\": %s", dir, what,
		    conf_show(w, sb, sizeof(sb)), strerror(errno));
		return -1;
	}
	if (fstat(fd, &stb) == -1 || !S_ISREG(stb.st_mode)) {
		close(fd);
		conf_err(ps, w->line, "%s: %s \"%s\": not a regular file",
		    dir, what, conf_show(w, sb, sizeof(sb)));
		return -1;
	}
	close(fd);
	return 0;
}

/* A path to a file that must open now (tls-ca). */
static void
conf_p_file(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	if (conf_file_ok(ps, d->name, "file", &st->w[1]) == 0)
		conf_p_path(ps, d, st);
}

/*
 * spam-rules FILE: parsed here too, so that a broken rules file is an
 * error of cachetd -n and of the start, not a silently empty set.
 */
static void
conf_p_spam_rules(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct spam_rules	*r;
	char			 err[512];

	if (conf_file_ok(ps, d->name, "file", &st->w[1]) == -1)
		return;
	if ((r = spam_rules_load(st->w[1].text, err, sizeof(err))) == NULL) {
		conf_err(ps, st->w[1].line, "%s: %s", d->name, err);
		return;
	}
	spam_rules_free(r);
	conf_p_path(ps, d, st);
}

enum conf_tls_value {
	CONF_TLS_FILE,		/* a file that must open */
	CONF_TLS_LIST12,	/* a TLS 1.2 cipher list */
	CONF_TLS_LIST13,	/* TLS 1.3 ciphersuites */
	CONF_TLS_URL,		/* acme: an https:// URL */
	CONF_TLS_MAILTO,	/* contact: mailto:ADDRESS or ADDRESS */
};

/* One setting of the tls block: "NAME VALUE". */
static int
conf_tls_setting(struct conf_parser *ps, const char *name, char *dst,
    enum conf_tls_value kind, const struct conf_word *v)
{
	const char	*errstr;

	if (kind == CONF_TLS_FILE) {
		if (conf_file_ok(ps, "tls", name, v) == -1)
			return -1;
		memcpy(dst, v->text, v->len + 1);
		return 0;
	}
	if (kind == CONF_TLS_URL) {
		/* RFC 8555 §6.1: the directory is reached over HTTPS only. */
		if (v->len > CONF_URL_MAX ||
		    strncasecmp(v->text, "https://", 8) != 0 || v->len == 8 ||
		    strpbrk(v->text, " \t\"<>\\") != NULL) {
			conf_err(ps, v->line, "tls: %s: not an https:// URL of "
			    "at most %d octets", name, CONF_URL_MAX);
			return -1;
		}
		memcpy(dst, v->text, v->len + 1);
		return 0;
	}
	if (kind == CONF_TLS_MAILTO) {
		/* RFC 8555 §7.3: the account's contact, a mailto: URL. */
		const char *a = v->text;

		if (strncasecmp(a, "mailto:", 7) == 0)
			a += 7;
		if (strlen(a) > CONF_ADDR_MAX || strchr(a, '@') == NULL ||
		    strpbrk(a, " \t\"<>,") != NULL) {
			conf_err(ps, v->line, "tls: %s: not an address",
			    name);
			return -1;
		}
		memcpy(dst, a, strlen(a) + 1);
		return 0;
	}
	/* Checked by OpenSSL now, so that cachetd -n reports a bad list. */
	if (v->len > CONF_CIPHERS_MAX) {
		conf_err(ps, v->line, "tls: %s: longer than %d octets", name,
		    CONF_CIPHERS_MAX);
		return -1;
	}
	if (tls_ciphers_check(v->text, kind == CONF_TLS_LIST13,
	    &errstr) == -1) {
		conf_err(ps, v->line, "tls: %s: %s", name, errstr);
		return -1;
	}
	memcpy(dst, v->text, v->len + 1);
	return 0;
}

static void
conf_p_tls(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct conf		*c = ps->conf;
	struct {
		const char		*name;
		char			*dst;
		enum conf_tls_value	 kind;
		bool			 seen;
	} set[] = {
		{ "certificate", c->tls_cert, CONF_TLS_FILE, false },
		{ "key", c->tls_key, CONF_TLS_FILE, false },
		{ "ciphers", c->tls_ciphers[CONF_TLS_CLIENTS],
		    CONF_TLS_LIST12, false },
		{ "smtp-ciphers", c->tls_ciphers[CONF_TLS_MX],
		    CONF_TLS_LIST12, false },
		{ "ciphersuites", c->tls_ciphersuites, CONF_TLS_LIST13,
		    false },
		{ "acme", c->acme_url, CONF_TLS_URL, false },
		{ "contact", c->acme_contact, CONF_TLS_MAILTO, false },
	};
	const size_t		 nset = sizeof(set) / sizeof(set[0]);
	const struct conf_word	*k;
	char			 sb[CONF_SHOW_MAX];
	size_t			 i, j;
	bool			 bad = false, lists = false;

	for (i = st->nargs; i < st->nwords; i += 2) {
		k = &st->w[i];
		for (j = 0; j < nset; j++)
			if (strcmp(k->text, set[j].name) == 0)
				break;
		if (j == nset) {
			conf_err(ps, k->line, "tls: unknown setting \"%s\" "
			    "(usage: %s)", conf_show(k, sb, sizeof(sb)),
			    d->usage);
			return;
		}
		if (i + 1 == st->nwords) {
			conf_err(ps, k->line, "tls: %s: missing argument",
			    k->text);
			return;
		}
		if (set[j].seen) {
			conf_err(ps, k->line, "tls: duplicate %s", k->text);
			bad = true;
			continue;
		}
		set[j].seen = true;
		lists |= set[j].kind == CONF_TLS_LIST12 ||
		    set[j].kind == CONF_TLS_LIST13;
		if (conf_tls_setting(ps, set[j].name, set[j].dst, set[j].kind,
		    &st->w[i + 1]) == -1)
			bad = true;
	}
	if (bad)
		return;
	/*
	 * acme replaces certificate and key (its own are kept in
	 * state-dir); contact belongs to it.
	 */
	if (set[5].seen) {
		if (set[0].seen || set[1].seen)
			conf_err(ps, st->w[0].line, "tls: acme replaces "
			    "certificate and key: not both");
		return;
	}
	if (set[6].seen) {
		conf_err(ps, st->w[0].line, "tls: contact without acme");
		return;
	}
	/*
	 * A certificate comes with its key.  A block of cipher lists alone
	 * keeps the self-signed certificate made at start.
	 */
	if (lists && !set[0].seen && !set[1].seen)
		return;
	if (!set[0].seen)
		conf_err(ps, st->w[0].line, "tls: missing certificate");
	if (!set[1].seen)
		conf_err(ps, st->w[0].line, "tls: missing key");
}

static void
conf_p_listen(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct conf		*c = ps->conf;
	const struct conf_word	*kw = &st->w[1], *aw = &st->w[2];
	struct conf_listen	*l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 sb[CONF_SHOW_MAX];
	const char		*errstr;
	size_t			 k, i;

	for (k = 0; k < CONF_NKINDS; k++)
		if (strcmp(kw->text, conf_kind_names[k]) == 0)
			break;
	if (k == CONF_NKINDS) {
		conf_err(ps, kw->line, "listen: unknown kind \"%s\" (smtp, "
		    "submission, submissions, imap, imaps, pop3, pop3s, "
		    "https, http or metrics)",
		    conf_show(kw, sb, sizeof(sb)));
		return;
	}
	if (conf_addr(aw->text, aw->len, CONF_ADDR_WILD, 0, &ss, &sslen,
	    &errstr) == -1) {
		conf_err(ps, aw->line, "listen: %s in \"%s\"", errstr,
		    conf_show(aw, sb, sizeof(sb)));
		return;
	}
	if (aw->len >= sizeof(l->text)) {
		conf_err(ps, aw->line, "listen: address too long");
		return;
	}
	for (i = 0; i < c->nlistens; i++) {
		if (conf_addr_clash(&c->listens[i].addr, &ss)) {
			conf_err(ps, aw->line, "listen: address %s already "
			    "used on line %d", aw->text, c->listens[i].line);
			return;
		}
	}
	if (c->nlistens == CONF_LISTENS_MAX) {
		conf_err(ps, st->w[0].line, "listen: too many listen "
		    "directives (at most %d)", CONF_LISTENS_MAX);
		return;
	}
	c->listens = xrealloc(c->listens, (c->nlistens + 1) *
	    sizeof(*c->listens));
	l = &c->listens[c->nlistens++];
	memset(l, 0, sizeof(*l));
	l->kind = (enum conf_listen_kind)k;
	l->addr = ss;
	l->addrlen = sslen;
	memcpy(l->text, aw->text, aw->len + 1);
	l->line = st->w[0].line;
}

/*
 * The DNS name in w, lower-cased into name (CONF_NAME_MAX + 1); -1 with
 * the error reported when it is not one.
 */
static int
conf_dnsname_word(struct conf_parser *ps, const struct conf_directive *d,
    const struct conf_word *w, char *name)
{
	char	sb[CONF_SHOW_MAX];

	if (!conf_dnsname_ok(w->text, w->len)) {
		conf_err(ps, w->line, "%s: bad DNS name \"%s\"", d->name,
		    conf_show(w, sb, sizeof(sb)));
		return -1;
	}
	conf_lower(name, w->text, w->len);
	return 0;
}

/*
 * arc-trusted-sealer DOMAIN: an ARC sealer (the d= of a chain's newest
 * ARC-Seal, RFC 8617 §7.2) whose passing chain may override a DMARC
 * failure.  Repeatable; a duplicate is harmless and kept once.
 */
static void
conf_p_arc_trusted(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct conf		*c = ps->conf;
	const struct conf_word	*w = &st->w[1];
	char			 name[CONF_NAME_MAX + 1];
	size_t			 i;

	if (conf_dnsname_word(ps, d, w, name) == -1)
		return;
	for (i = 0; i < c->narc_trusted; i++)
		if (strcmp(c->arc_trusted[i], name) == 0)
			return;
	if (c->narc_trusted == CONF_ARC_TRUSTED_MAX) {
		conf_err(ps, w->line, "%s: at most %d", d->name,
		    CONF_ARC_TRUSTED_MAX);
		return;
	}
	c->arc_trusted = xrealloc(c->arc_trusted, (c->narc_trusted + 1) *
	    sizeof(*c->arc_trusted));
	memcpy(c->arc_trusted[c->narc_trusted++], name, w->len + 1);
}

static void
conf_p_domain(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct conf		*c = ps->conf;
	const struct conf_word	*w = &st->w[1];
	char			 name[CONF_NAME_MAX + 1];
	size_t			 i;

	if (conf_dnsname_word(ps, d, w, name) == -1)
		return;
	for (i = 0; i < c->ndomains; i++) {
		if (strcmp(c->domains[i], name) == 0) {
			conf_err(ps, w->line, "domain: duplicate %s (first on "
			    "line %d)", name, ps->domain_line[i]);
			return;
		}
	}
	if (c->ndomains == CONF_DOMAINS_MAX) {
		conf_err(ps, w->line, "domain: too many domain directives "
		    "(at most %d)", CONF_DOMAINS_MAX);
		return;
	}
	c->domains = xrealloc(c->domains, (c->ndomains + 1) *
	    sizeof(*c->domains));
	memcpy(c->domains[c->ndomains], name, w->len + 1);
	ps->domain_line[c->ndomains++] = w->line;
}

static void
conf_p_resolver(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct conf		*c = ps->conf;
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];
	const char		*errstr;

	if (conf_addr(w->text, w->len, CONF_ADDR_PORTOPT, 53, &c->resolver,
	    &c->resolverlen, &errstr) == -1) {
		conf_err(ps, w->line, "resolver: %s in \"%s\"", errstr,
		    conf_show(w, sb, sizeof(sb)));
		return;
	}
	if (w->len >= sizeof(c->resolver_text)) {
		conf_err(ps, w->line, "resolver: address too long");
		return;
	}
	memcpy(c->resolver_text, w->text, w->len + 1);
	c->has_resolver = true;
}

/*
 * Brackets mean no MX lookup (as Postfix's relayhost); so does a bare IPv4
 * literal, for which an MX lookup would be meaningless.
 */
static int
conf_relay_host(const struct conf_word *w, struct conf_relay *r,
    const char **errstr)
{
	struct conf_hostport	hp;
	struct in6_addr		a6;
	struct in_addr		a4;

	if (conf_split(w->text, w->len, false, &hp, errstr) == -1)
		return -1;
	r->port = hp.has_port ? hp.port : 25;
	r->mx = !hp.bracket;
	*errstr = "bad host";
	if (inet_pton(AF_INET, hp.host, &a4) == 1)
		r->mx = false;
	else if (!conf_dnsname_ok(hp.host, hp.hlen) &&
	    !(hp.bracket && inet_pton(AF_INET6, hp.host, &a6) == 1))
		return -1;
	memcpy(r->host, hp.host, hp.hlen + 1);
	return 0;
}

/*
 * The words after "relay DOMAIN via HOST": "tls may|required|verify" and
 * "auth USER PASSWORD-FILE", each at most once, in any order.  The file
 * is checked now (as root, like the certificates) so that a typo shows
 * at `cachetd -n`, not at the first delivery.
 */
static int
conf_relay_options(struct conf_parser *ps, struct conf_stmt *st,
    struct conf_relay *r)
{
	const struct conf_word	*w;
	char			 sb[CONF_SHOW_MAX];
	size_t			 i;
	bool			 tls = false;

	for (i = 4; i < st->nwords; i++) {
		w = &st->w[i];
		if (strcmp(w->text, "tls") == 0 && !tls) {
			tls = true;
			if (++i == st->nwords) {
				conf_err(ps, w->line, "relay: tls: expected "
				    "may, required or verify");
				return -1;
			}
			w = &st->w[i];
			if (strcmp(w->text, "may") == 0)
				r->tls = CONF_RELAY_TLS_MAY;
			else if (strcmp(w->text, "required") == 0)
				r->tls = CONF_RELAY_TLS_REQUIRED;
			else if (strcmp(w->text, "verify") == 0)
				r->tls = CONF_RELAY_TLS_VERIFY;
			else {
				conf_err(ps, w->line, "relay: tls: expected "
				    "may, required or verify, not \"%s\"",
				    conf_show(w, sb, sizeof(sb)));
				return -1;
			}
		} else if (strcmp(w->text, "auth") == 0 &&
		    r->auth_user[0] == '\0') {
			if (i + 2 >= st->nwords) {
				conf_err(ps, w->line, "relay: auth: expected "
				    "USER PASSWORD-FILE");
				return -1;
			}
			w = &st->w[++i];
			if (w->len == 0 || w->len > CONF_ADDR_MAX ||
			    memchr(w->text, '\0', w->len) != NULL) {
				conf_err(ps, w->line, "relay: auth: bad user "
				    "name \"%s\"", conf_show(w, sb,
				    sizeof(sb)));
				return -1;
			}
			memcpy(r->auth_user, w->text, w->len + 1);
			w = &st->w[++i];
			if (conf_file_ok(ps, "relay", "auth password file",
			    w) == -1)
				return -1;
			memcpy(r->auth_file, w->text, w->len + 1);
		} else {
			conf_err(ps, w->line, "relay: unexpected \"%s\" "
			    "(usage: relay DOMAIN via HOST[:PORT] [tls "
			    "may|required|verify] [auth USER PASSWORD-FILE])",
			    conf_show(w, sb, sizeof(sb)));
			return -1;
		}
	}
	return 0;
}

static void
conf_p_relay(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct conf		*c = ps->conf;
	const struct conf_word	*dw = &st->w[1], *vw = &st->w[2];
	const struct conf_word	*hw = &st->w[3];
	struct conf_relay	 r;
	char			 sb[CONF_SHOW_MAX];
	const char		*errstr;
	size_t			 i;

	memset(&r, 0, sizeof(r));
	if (strcmp(vw->text, "via") != 0) {
		conf_err(ps, vw->line, "relay: expected \"via\", not \"%s\" "
		    "(usage: %s)", conf_show(vw, sb, sizeof(sb)), d->usage);
		return;
	}
	if (strcmp(dw->text, "*") != 0 &&
	    !conf_dnsname_ok(dw->text, dw->len)) {
		conf_err(ps, dw->line, "relay: bad domain \"%s\"",
		    conf_show(dw, sb, sizeof(sb)));
		return;
	}
	conf_lower(r.domain, dw->text, dw->len);
	if (conf_relay_host(hw, &r, &errstr) == -1) {
		conf_err(ps, hw->line, "relay: %s in \"%s\"", errstr,
		    conf_show(hw, sb, sizeof(sb)));
		return;
	}
	for (i = 0; i < c->nrelays; i++) {
		if (strcmp(c->relays[i].domain, r.domain) == 0) {
			conf_err(ps, dw->line, "relay: duplicate relay for %s "
			    "(first on line %d)", r.domain, c->relays[i].line);
			return;
		}
	}
	if (c->nrelays == CONF_RELAYS_MAX) {
		conf_err(ps, dw->line, "relay: too many relay directives (at "
		    "most %d)", CONF_RELAYS_MAX);
		return;
	}
	if (conf_relay_options(ps, st, &r) == -1)
		return;
	r.line = st->w[0].line;
	c->relays = xrealloc(c->relays, (c->nrelays + 1) *
	    sizeof(*c->relays));
	c->relays[c->nrelays++] = r;
}

/* An address, as users.c accepts one (dot-atom local part, host name). */
static void
conf_p_address(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	char			 canon[MAILBOX_ADDR_MAX + 1], sb[CONF_SHOW_MAX];

	_Static_assert(MAILBOX_ADDR_MAX <= CONF_ADDR_MAX, "address size");
	if (w->len > MAILBOX_ADDR_MAX || mailbox_addr_normalize(w->text, canon,
	    sizeof(canon), NULL) == -1) {
		conf_err(ps, w->line, "%s: bad address \"%s\" "
		    "(local@domain)", d->name, conf_show(w, sb, sizeof(sb)));
		return;
	}
	(void)str_copy((char *)ps->conf + d->off, d->size, canon);
}

/*
 * Characters that may start a tag: the specials of RFC 5322 §3.2.3
 * atext, so that user+tag stays a valid dot-atom.  Not "." (it separates
 * atoms) and no letters or digits (they would split ordinary names).
 */
static void
conf_p_delimiter(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];
	size_t			 i;

	if (strcmp(w->text, "none") == 0) {
		ps->conf->delivery.delimiters[0] = '\0';
		return;
	}
	if (w->len == 0 || w->len > CONF_DELIMS_MAX) {
		conf_err(ps, w->line, "recipient-delimiter: expected 1 to %d "
		    "characters or none", CONF_DELIMS_MAX);
		return;
	}
	for (i = 0; i < w->len; i++)
		if (strchr("!#$%&'*+-/=?^_`{|}~", w->text[i]) == NULL ||
		    w->text[i] == '\0') {
			conf_err(ps, w->line, "recipient-delimiter: \"%s\": "
			    "only characters of !#$%%&'*+-/=?^_`{|}~",
			    conf_show(w, sb, sizeof(sb)));
			return;
		}
	memcpy(ps->conf->delivery.delimiters, w->text, w->len + 1);
}

static void
conf_p_case(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	int	i = conf_two_words(ps, d, st, "insensitive", "sensitive");

	if (i != -1)
		ps->conf->delivery.case_sensitive = i == 1;
}

static void
conf_p_spf_fail(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	int	i = conf_two_words(ps, d, st, "reject", "mark");

	if (i != -1)
		ps->conf->spf_fail_reject = i == 0;
}

static void
conf_p_quota_exceeded(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	int	i = conf_two_words(ps, d, st, "defer", "reject");

	if (i != -1)
		ps->conf->delivery.quota_exceeded = i == 0 ?
		    CONF_QUOTA_DEFER : CONF_QUOTA_REJECT;
}

static void
conf_p_dmarc_policy(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	int	i = conf_two_words(ps, d, st, "enforce", "report-only");

	if (i != -1)
		ps->conf->dmarc_policy = i == 0 ? CONF_DMARC_ENFORCE :
		    CONF_DMARC_REPORT_ONLY;
}

/*
 * spam-junk SCORE, spam-reject SCORE|none: points with at most three
 * decimals ("5", "4.5", "12.25"), above 0 and at most 1000, into the
 * int32_t field in milli-points; "none" (spam-reject) never refuses.
 */
static void
conf_p_spam_score(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	int32_t			*field = (int32_t *)((char *)ps->conf + d->off);
	char			 sb[CONF_SHOW_MAX];
	const char		*dot;
	size_t			 ilen, flen, i;
	int64_t			 v = 0, frac = 0;

	if (strcmp(d->name, "spam-reject") == 0 &&
	    strcmp(w->text, "none") == 0) {
		*field = CONF_SPAM_NEVER;
		return;
	}
	dot = memchr(w->text, '.', w->len);
	ilen = dot != NULL ? (size_t)(dot - w->text) : w->len;
	flen = dot != NULL ? w->len - ilen - 1 : 0;
	if (ilen == 0 || ilen > 4 || !conf_all_digits(w->text, ilen) ||
	    (dot != NULL && (flen == 0 || flen > 3 ||
	    !conf_all_digits(dot + 1, flen)))) {
		conf_err(ps, w->line, "%s: \"%s\" is not a score (points "
		    "with at most three decimals, such as 5 or 4.5)", d->name,
		    conf_show(w, sb, sizeof(sb)));
		return;
	}
	for (i = 0; i < ilen; i++)
		v = v * 10 + (w->text[i] - '0');
	for (i = 0; i < 3; i++)
		frac = frac * 10 + (i < flen ? dot[1 + i] - '0' : 0);
	v = v * 1000 + frac;
	if (v <= 0 || v > CONF_SPAM_SCORE_MAX) {
		conf_err(ps, w->line, "%s: \"%s\" is out of range (above 0, "
		    "at most %d)", d->name, conf_show(w, sb, sizeof(sb)),
		    CONF_SPAM_SCORE_MAX / 1000);
		return;
	}
	*field = (int32_t)v;
}

/*
 * A duration: decimal digits with an optional unit, s (the default), m,
 * h or d; at least one second, at most CONF_DURATION_MAX.
 */
static int
conf_duration(const struct conf_word *w, unsigned *out, const char **errstr)
{
	unsigned long long	 v = 0, mul = 1;
	size_t			 len = w->len, i;

	*errstr = "is not a duration (N, Ns, Nm, Nh or Nd)";
	if (len > 0) {
		switch (w->text[len - 1]) {
		case 's':
			len--;
			break;
		case 'm':
			mul = 60;
			len--;
			break;
		case 'h':
			mul = 3600;
			len--;
			break;
		case 'd':
			mul = 86400;
			len--;
			break;
		}
	}
	if (!conf_all_digits(w->text, len))
		return -1;
	*errstr = "is too long";
	for (i = 0; i < len; i++) {
		v = v * 10 + (unsigned)(w->text[i] - '0');
		if (v > CONF_DURATION_MAX)
			return -1;
	}
	if (v * mul > CONF_DURATION_MAX)
		return -1;
	if (v == 0) {
		*errstr = "must be at least 1s";
		return -1;
	}
	*out = (unsigned)(v * mul);
	return 0;
}

static void
conf_p_duration(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];
	const char		*errstr;
	unsigned		 v;

	/* delay-warning none: never warn (a duration of 0 would read odd) */
	if (strcmp(d->name, "delay-warning") == 0 &&
	    strcmp(w->text, "none") == 0) {
		v = 0;
		memcpy((char *)ps->conf + d->off, &v, sizeof(v));
		return;
	}
	if (conf_duration(w, &v, &errstr) == -1) {
		conf_err(ps, w->line, "%s: \"%s\" %s", d->name,
		    conf_show(w, sb, sizeof(sb)), errstr);
		return;
	}
	memcpy((char *)ps->conf + d->off, &v, sizeof(v));
}

/*
 * smtp-greet-delay DURATION: 0, or N with ms or s (the default), at most
 * CONF_GREET_DELAY_MAX; kept in milliseconds.
 */
static void
conf_p_greet_delay(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];
	unsigned long long	 v = 0, mul = 1000;
	size_t			 len = w->len, i;

	if (len > 2 && strcmp(w->text + len - 2, "ms") == 0) {
		mul = 1;
		len -= 2;
	} else if (len > 1 && w->text[len - 1] == 's')
		len--;
	if (!conf_all_digits(w->text, len) || len > 9) {
		conf_err(ps, w->line, "%s: \"%s\" is not a duration (0, N, "
		    "Ns or Nms)", d->name, conf_show(w, sb, sizeof(sb)));
		return;
	}
	for (i = 0; i < len; i++)
		v = v * 10 + (unsigned)(w->text[i] - '0');
	if (v * mul > CONF_GREET_DELAY_MAX) {
		conf_err(ps, w->line, "%s: \"%s\" is more than %us", d->name,
		    conf_show(w, sb, sizeof(sb)), CONF_GREET_DELAY_MAX / 1000);
		return;
	}
	ps->conf->smtp_greet_delay = (unsigned)(v * mul);
}

/* srs-domain DOMAIN: the domain of the addresses SRS writes. */
static void
conf_p_srs_domain(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];

	if (!conf_dnsname_ok(w->text, w->len) ||
	    w->len >= sizeof(ps->conf->srs_domain)) {
		conf_err(ps, w->line, "%s: bad DNS name \"%s\"", d->name,
		    conf_show(w, sb, sizeof(sb)));
		return;
	}
	memcpy(ps->conf->srs_domain, w->text, w->len + 1);
}

/*
 * srs-max-age DAYS: 1 to 1000, under the 1024 days after which the
 * scheme's two-character timestamp comes round again.
 */
static void
conf_p_srs_max_age(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	conf_number_into(ps, d, st, 1000, "(1 to 1000 days)");
}

/* retry FIRST MAX: the first wait, doubled after each try up to MAX. */
static void
conf_p_retry(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*fw = &st->w[1], *mw = &st->w[2];
	char			 sb[CONF_SHOW_MAX];
	const char		*errstr;
	unsigned		 first, max;

	if (conf_duration(fw, &first, &errstr) == -1) {
		conf_err(ps, fw->line, "retry: \"%s\" %s",
		    conf_show(fw, sb, sizeof(sb)), errstr);
		return;
	}
	if (conf_duration(mw, &max, &errstr) == -1) {
		conf_err(ps, mw->line, "retry: \"%s\" %s",
		    conf_show(mw, sb, sizeof(sb)), errstr);
		return;
	}
	if (max < first) {
		conf_err(ps, mw->line, "retry: the longest wait (%us) is "
		    "shorter than the first (%us)", max, first);
		return;
	}
	ps->conf->outbound.retry_first = first;
	ps->conf->outbound.retry_max = max;
}

/* One mx PATTERN of mta-sts-policy, added to p. */
static int
conf_sts_mx(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_sts_policy *p, const struct conf_word *w)
{
	char	sb[CONF_SHOW_MAX];
	size_t	j, off;

	off = w->len > 2 && w->text[0] == '*' && w->text[1] == '.' ? 2 : 0;
	if (!conf_dnsname_ok(w->text + off, w->len - off)) {
		conf_err(ps, w->line, "%s: mx: bad pattern \"%s\" (a host "
		    "name, or *. and one)", d->name,
		    conf_show(w, sb, sizeof(sb)));
		return -1;
	}
	if (p->nmx == CONF_STS_MX_MAX) {
		conf_err(ps, w->line, "%s: too many mx patterns (at most %d)",
		    d->name, CONF_STS_MX_MAX);
		return -1;
	}
	conf_lower(p->mx[p->nmx], w->text, w->len);
	for (j = 0; j < p->nmx; j++)
		if (strcmp(p->mx[j], p->mx[p->nmx]) == 0) {
			conf_err(ps, w->line, "%s: duplicate mx %s", d->name,
			    p->mx[j]);
			return -1;
		}
	p->nmx++;
	return 0;
}

/*
 * mta-sts-policy MODE [max-age DURATION] [mx PATTERN ...]: the policy we
 * serve (RFC 8461 §3.2).  A pattern is a host name, or "*." and one: the
 * wildcard stands for the leftmost label alone (§4.1).  Without mx, the
 * hostname (conf_parse() fills it in once the hostname is known).
 */
static void
conf_p_sts_policy(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct conf_sts_policy	*p = &ps->conf->sts_policy;
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];
	const char		*errstr;
	size_t			 i;
	bool			 age = false;

	memset(p, 0, sizeof(*p));
	p->max_age = CONF_STS_MAX_AGE_DEFAULT;
	if (strcmp(w->text, "enforce") == 0)
		p->mode = CONF_STS_ENFORCE;
	else if (strcmp(w->text, "testing") == 0)
		p->mode = CONF_STS_TESTING;
	else if (strcmp(w->text, "none") == 0)
		p->mode = CONF_STS_NONE;
	else {
		conf_err(ps, w->line, "%s: expected enforce, testing or none, "
		    "not \"%s\"", d->name, conf_show(w, sb, sizeof(sb)));
		return;
	}
	for (i = 2; i < st->nwords; i++) {
		w = &st->w[i];
		if (i + 1 == st->nwords && (strcmp(w->text, "max-age") == 0 ||
		    strcmp(w->text, "mx") == 0)) {
			conf_err(ps, w->line, "%s: %s: missing argument "
			    "(usage: %s)", d->name, w->text, d->usage);
			return;
		}
		if (strcmp(w->text, "max-age") == 0 && !age) {
			age = true;
			w = &st->w[++i];
			if (conf_duration(w, &p->max_age, &errstr) == -1) {
				conf_err(ps, w->line, "%s: max-age: \"%s\" %s",
				    d->name, conf_show(w, sb, sizeof(sb)),
				    errstr);
				return;
			}
			if (p->max_age > CONF_STS_MAX_AGE_MAX) {
				conf_err(ps, w->line, "%s: max-age: \"%s\" is "
				    "more than %us (RFC 8461 §3.2)", d->name,
				    conf_show(w, sb, sizeof(sb)),
				    CONF_STS_MAX_AGE_MAX);
				return;
			}
		} else if (strcmp(w->text, "mx") == 0) {
			if (conf_sts_mx(ps, d, p, &st->w[++i]) == -1)
				return;
		} else {
			conf_err(ps, w->line, "%s: unexpected \"%s\" (usage: "
			    "%s)", d->name, conf_show(w, sb, sizeof(sb)),
			    d->usage);
			return;
		}
	}
	p->set = true;
}

/*
 * tlsrpt-rua URI ...: where reports on our domains go (RFC 8460 §3),
 * mailto:ADDRESS or https://..., kept joined by commas as the record
 * writes them.  No URI may hold what would end it there or break the
 * TXT string (",", ";", quotes, a backslash, space, non-ASCII).
 */
static void
conf_p_tlsrpt_rua(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w;
	char			 rua[CONF_RUA_MAX + 1];
	char			 canon[MAILBOX_ADDR_MAX + 1], sb[CONF_SHOW_MAX];
	size_t			 i, j, len = 0, n;
	bool			 ok;

	for (i = 1; i < st->nwords; i++) {
		w = &st->w[i];
		ok = true;
		for (j = 0; j < w->len; j++)
			if (w->text[j] <= ' ' || w->text[j] > '~' ||
			    strchr(",;\"\\", w->text[j]) != NULL)
				ok = false;
		if (ok && strncmp(w->text, "mailto:", 7) == 0)
			ok = w->len - 7 <= MAILBOX_ADDR_MAX &&
			    mailbox_addr_normalize(w->text + 7, canon,
			    sizeof(canon), NULL) == 0;
		else if (ok)
			ok = strncmp(w->text, "https://", 8) == 0 &&
			    w->len > 8;
		if (!ok) {
			conf_err(ps, w->line, "%s: bad URI \"%s\" (mailto:"
			    "ADDRESS or https://...)", d->name,
			    conf_show(w, sb, sizeof(sb)));
			return;
		}
		n = w->len + (i > 1 ? 1 : 0);
		if (len + n > CONF_RUA_MAX) {
			conf_err(ps, w->line, "%s: longer than %d octets in "
			    "all", d->name, CONF_RUA_MAX);
			return;
		}
		if (i > 1)
			rua[len++] = ',';
		memcpy(rua + len, w->text, w->len);
		len += w->len;
	}
	rua[len] = '\0';
	memcpy(ps->conf->tlsrpt_rua, rua, len + 1);
}

/*
 * Points as written in the file: digits with up to three decimals, at
 * most CONF_DNSBL_WEIGHT_MAX, into milli-points.
 */
static int
conf_points(const struct conf_word *w, int32_t *out)
{
	int32_t	v = 0, frac = 0, scale = SPAM_MILLI;
	size_t	i = 0;

	for (; i < w->len && w->text[i] >= '0' && w->text[i] <= '9'; i++) {
		v = v * 10 + (w->text[i] - '0');
		if (v > CONF_DNSBL_WEIGHT_MAX)
			return -1;
	}
	if (i == 0)
		return -1;
	if (i < w->len) {
		if (w->text[i++] != '.' || i == w->len || w->len - i > 3)
			return -1;
		for (; i < w->len; i++) {
			if (w->text[i] < '0' || w->text[i] > '9')
				return -1;
			scale /= 10;
			frac += (w->text[i] - '0') * scale;
		}
	}
	if (v == CONF_DNSBL_WEIGHT_MAX && frac > 0)
		return -1;
	*out = v * SPAM_MILLI + frac;
	return 0;
}

/*
 * dnsbl ZONE [weight N] [returns LIST], dnswl ZONE [weight N] [returns
 * LIST]: repeatable, in the order given, each zone once.
 */
static void
conf_p_dnsbl(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	struct conf		*c = ps->conf;
	struct conf_dnsbl	 l;
	const struct conf_word	*w = &st->w[1], *o;
	char			 sb[CONF_SHOW_MAX];
	const char		*errstr;
	size_t			 i, nargs = (st->block ? st->nargs : st->nwords);
	bool			 seen_w = false, seen_r = false;

	memset(&l, 0, sizeof(l));
	l.allow = strcmp(d->name, "dnswl") == 0;
	l.line = w->line;
	if (l.allow)
		l.weight = CONF_DNSWL_WEIGHT_DEFAULT * SPAM_MILLI;
	if (conf_dnsname_word(ps, d, w, l.zone) == -1)
		return;
	for (i = 2; i < nargs; i += 2) {
		o = &st->w[i];
		if (i + 1 >= nargs || (strcmp(o->text, "weight") != 0 &&
		    strcmp(o->text, "returns") != 0) ||
		    (o->text[0] == 'w' && seen_w) ||
		    (o->text[0] == 'r' && seen_r)) {
			conf_err(ps, o->line, "%s: unexpected \"%s\" (usage: "
			    "%s)", d->name, conf_show(o, sb, sizeof(sb)),
			    d->usage);
			return;
		}
		if (o->text[0] == 'w') {
			seen_w = true;
			l.weighted = true;
			if (conf_points(&st->w[i + 1], &l.weight) == -1) {
				conf_err(ps, o->line, "%s: weight \"%s\" is "
				    "not a number of points from 0 to %d",
				    d->name, conf_show(&st->w[i + 1], sb,
				    sizeof(sb)), CONF_DNSBL_WEIGHT_MAX);
				return;
			}
		} else {
			seen_r = true;
			if (dnsbl_returns_parse(st->w[i + 1].text,
			    st->w[i + 1].len, &l.returns, &errstr) == -1) {
				conf_err(ps, o->line, "%s: returns \"%s\" %s",
				    d->name, conf_show(&st->w[i + 1], sb,
				    sizeof(sb)), errstr);
				return;
			}
		}
	}
	for (i = 0; i < c->ndnsbls; i++) {
		if (strcmp(c->dnsbls[i].zone, l.zone) == 0) {
			conf_err(ps, w->line, "%s: duplicate %s (first on "
			    "line %d)", d->name, l.zone, c->dnsbls[i].line);
			return;
		}
	}
	if (c->ndnsbls == CONF_DNSBLS_MAX) {
		conf_err(ps, w->line, "%s: at most %d dnsbl and dnswl "
		    "directives", d->name, CONF_DNSBLS_MAX);
		return;
	}
	c->dnsbls = xrealloc(c->dnsbls, (c->ndnsbls + 1) *
	    sizeof(*c->dnsbls));
	c->dnsbls[c->ndnsbls++] = l;
}

static void
conf_p_sender_check(struct conf_parser *ps, const struct conf_directive *d,
    struct conf_stmt *st)
{
	const struct conf_word	*w = &st->w[1];
	char			 sb[CONF_SHOW_MAX];

	if (strcmp(w->text, "score") == 0)
		ps->conf->sender_domain_check = CONF_SENDER_CHECK_SCORE;
	else if (strcmp(w->text, "reject") == 0)
		ps->conf->sender_domain_check = CONF_SENDER_CHECK_REJECT;
	else if (strcmp(w->text, "off") == 0)
		ps->conf->sender_domain_check = CONF_SENDER_CHECK_OFF;
	else
		conf_err(ps, w->line, "%s: \"%s\" is not reject, score or "
		    "off", d->name, conf_show(w, sb, sizeof(sb)));
}

#define CONF_FIELD(f)	offsetof(struct conf, f), sizeof(((struct conf *)0)->f)

static const struct conf_directive conf_directives[] = {
	{ "hostname", "hostname NAME", conf_p_hostname, 1, false, false,
	    0, 0 },
	{ "state-dir", "state-dir PATH", conf_p_path, 1, false, false,
	    CONF_FIELD(state_dir) },
	{ "mail-dir", "mail-dir PATH", conf_p_path, 1, false, false,
	    CONF_FIELD(mail_dir) },
	{ "user", "user NAME", conf_p_user, 1, false, false, 0, 0 },
	{ "demo-user", "demo-user ADDRESS PASSWORD", conf_p_demo_user, 2,
	    false, false, 0, 0 },
	{ "tls", "tls { [certificate FILE key FILE | acme URL "
	    "[contact MAILTO]] [ciphers LIST] [smtp-ciphers LIST] "
	    "[ciphersuites LIST] }", conf_p_tls, 0, true,
	    false, 0, 0 },
	{ "listen", "listen KIND ADDRESS:PORT", conf_p_listen, 2, false,
	    true, 0, 0 },
	{ "domain", "domain NAME", conf_p_domain, 1, false, true, 0, 0 },
	{ "arc-trusted-sealer", "arc-trusted-sealer DOMAIN", conf_p_arc_trusted,
	    1, false, true, 0, 0 },
	{ "mta-sts-policy", "mta-sts-policy enforce|testing|none "
	    "[max-age DURATION] [mx PATTERN ...]", conf_p_sts_policy, 1,
	    false, false, 0, 0 },
	{ "tlsrpt-rua", "tlsrpt-rua URI ...", conf_p_tlsrpt_rua, 1, false,
	    false, 0, 0 },
	{ "resolver", "resolver ADDRESS[:PORT]", conf_p_resolver, 1, false,
	    false, 0, 0 },
	{ "dnssec-trust-anchor", "dnssec-trust-anchor FILE|none",
	    conf_p_path, 1, false, false, CONF_FIELD(trust_anchor) },
	{ "dane", "dane yes|no", conf_p_yesno, 1, false, false,
	    CONF_FIELD(dane) },
	{ "mta-sts", "mta-sts yes|no", conf_p_yesno, 1, false, false,
	    CONF_FIELD(mta_sts) },
	{ "tls-ca", "tls-ca FILE", conf_p_file, 1, false, false,
	    CONF_FIELD(tls_ca) },
	{ "tlsrpt-interval", "tlsrpt-interval DURATION", conf_p_duration, 1,
	    false, false, CONF_FIELD(tlsrpt_interval) },
	{ "tlsrpt-from", "tlsrpt-from ADDRESS", conf_p_address, 1, false,
	    false, CONF_FIELD(tlsrpt_from) },
	{ "dmarc-report-interval", "dmarc-report-interval DURATION",
	    conf_p_duration, 1, false, false,
	    CONF_FIELD(dmarc_report_interval) },
	{ "dmarc-report-from", "dmarc-report-from ADDRESS", conf_p_address, 1,
	    false, false, CONF_FIELD(dmarc_report_from) },
	{ "relay", "relay DOMAIN via HOST[:PORT] [tls may|required|verify] "
	    "[auth USER PASSWORD-FILE]", conf_p_relay, 3, false, true, 0, 0 },
	{ "plaintext-auth-loopback", "plaintext-auth-loopback yes|no",
	    conf_p_yesno, 1, false, false,
	    CONF_FIELD(plaintext_auth_loopback) },
	/* Its first name, from when only SMTP had AUTH: still read. */
	{ "smtp-plaintext-auth-loopback",
	    "smtp-plaintext-auth-loopback yes|no", conf_p_yesno, 1, false,
	    false, CONF_FIELD(plaintext_auth_loopback) },
	{ "submission-sender-check", "submission-sender-check yes|no",
	    conf_p_yesno, 1, false, false,
	    CONF_FIELD(submission_sender_check) },
	{ "spf-fail", "spf-fail reject|mark", conf_p_spf_fail, 1, false,
	    false, 0, 0 },
	{ "message-size", "message-size SIZE", conf_p_number, 1, false, false,
	    CONF_FIELD(limits.message_size) },
	{ "max-recipients", "max-recipients N", conf_p_number, 1, false,
	    false, CONF_FIELD(limits.recipients) },
	{ "max-errors", "max-errors N", conf_p_number, 1, false, false,
	    CONF_FIELD(limits.errors) },
	{ "smtp-timeout", "smtp-timeout SECONDS", conf_p_number, 1, false,
	    false, CONF_FIELD(limits.smtp_timeout) },
	{ "data-timeout", "data-timeout SECONDS", conf_p_number, 1, false,
	    false, CONF_FIELD(limits.data_timeout) },
	{ "max-connections", "max-connections N", conf_p_number, 1, false,
	    false, CONF_FIELD(limits.connections) },
	{ "max-connections-per-ip", "max-connections-per-ip N",
	    conf_p_number, 1, false, false,
	    CONF_FIELD(limits.connections_per_ip) },
	{ "postmaster", "postmaster ADDRESS", conf_p_address, 1, false,
	    false, CONF_FIELD(delivery.postmaster) },
	{ "recipient-delimiter", "recipient-delimiter CHARACTERS|none",
	    conf_p_delimiter, 1, false, false, 0, 0 },
	{ "local-part-case", "local-part-case insensitive|sensitive",
	    conf_p_case, 1, false, false, 0, 0 },
	{ "quota-exceeded", "quota-exceeded defer|reject",
	    conf_p_quota_exceeded, 1, false, false, 0, 0 },
	{ "delivery-hold", "delivery-hold yes|no", conf_p_yesno, 1, false,
	    false, CONF_FIELD(delivery.hold) },
	{ "delivery-workers", "delivery-workers N", conf_p_threads, 1, false,
	    false, CONF_FIELD(delivery.workers) },
	{ "retry", "retry FIRST MAX", conf_p_retry, 2, false, false, 0, 0 },
	{ "queue-lifetime", "queue-lifetime DURATION", conf_p_duration, 1,
	    false, false, CONF_FIELD(outbound.lifetime) },
	{ "delay-warning", "delay-warning DURATION|none", conf_p_duration, 1,
	    false, false, CONF_FIELD(outbound.delay_warning) },
	{ "max-outbound-connections", "max-outbound-connections N",
	    conf_p_number, 1, false, false,
	    CONF_FIELD(outbound.connections) },
	{ "max-outbound-per-destination", "max-outbound-per-destination N",
	    conf_p_number, 1, false, false,
	    CONF_FIELD(outbound.per_destination) },
	{ "sandbox", "sandbox yes|no", conf_p_yesno, 1, false, false,
	    CONF_FIELD(sandbox) },
	{ "srs", "srs yes|no", conf_p_yesno, 1, false, false,
	    CONF_FIELD(srs) },
	{ "srs-domain", "srs-domain DOMAIN", conf_p_srs_domain, 1, false,
	    false, 0, 0 },
	{ "srs-max-age", "srs-max-age DAYS", conf_p_srs_max_age, 1, false,
	    false, CONF_FIELD(srs_max_age) },
	{ "smtp-workers", "smtp-workers N|auto", conf_p_procs, 1, false,
	    false, CONF_FIELD(workers.smtp) },
	{ "pop3-workers", "pop3-workers N|auto", conf_p_procs, 1, false,
	    false, CONF_FIELD(workers.pop3) },
	{ "imap-workers", "imap-workers N|auto", conf_p_procs, 1, false,
	    false, CONF_FIELD(workers.imap) },
	{ "dmarc-policy", "dmarc-policy enforce|report-only",
	    conf_p_dmarc_policy, 1, false, false, 0, 0 },
	{ "public-suffix-list", "public-suffix-list FILE", conf_p_file, 1,
	    false, false, CONF_FIELD(public_suffix_list) },
	{ "spam", "spam yes|no", conf_p_yesno, 1, false, false,
	    CONF_FIELD(spam) },
	{ "spam-junk", "spam-junk SCORE", conf_p_spam_score, 1, false, false,
	    CONF_FIELD(spam_junk) },
	{ "spam-reject", "spam-reject SCORE|none", conf_p_spam_score, 1,
	    false, false, CONF_FIELD(spam_reject) },
	{ "spam-rules", "spam-rules FILE", conf_p_spam_rules, 1, false,
	    false, CONF_FIELD(spam_rules) },
	{ "spam-bayes-per-user", "spam-bayes-per-user yes|no", conf_p_yesno,
	    1, false, false, CONF_FIELD(spam_bayes_per_user) },
	{ "spam-bayes-max-tokens", "spam-bayes-max-tokens N", conf_p_number,
	    1, false, false, CONF_FIELD(spam_bayes_max_tokens) },
	{ "greylist", "greylist yes|no", conf_p_yesno, 1, false, false,
	    CONF_FIELD(greylist) },
	{ "greylist-delay", "greylist-delay DURATION", conf_p_duration, 1,
	    false, false, CONF_FIELD(greylist_delay) },
	{ "greylist-window", "greylist-window DURATION", conf_p_duration, 1,
	    false, false, CONF_FIELD(greylist_window) },
	{ "greylist-whitelist", "greylist-whitelist DURATION", conf_p_duration,
	    1, false, false, CONF_FIELD(greylist_whitelist) },
	{ "smtp-greet-delay", "smtp-greet-delay DURATION", conf_p_greet_delay,
	    1, false, false, 0, 0 },
	{ "dnsbl", "dnsbl ZONE [weight POINTS] [returns LIST]", conf_p_dnsbl,
	    1, false, true, 0, 0 },
	{ "dnswl", "dnswl ZONE [weight POINTS] [returns LIST]", conf_p_dnsbl,
	    1, false, true, 0, 0 },
	{ "dnsbl-timeout", "dnsbl-timeout DURATION", conf_p_duration, 1,
	    false, false, CONF_FIELD(dnsbl_timeout) },
	{ "sender-domain-check", "sender-domain-check reject|score|off",
	    conf_p_sender_check, 1, false, false, 0, 0 },
};
#define CONF_NDIRECTIVES	(sizeof(conf_directives) / \
				    sizeof(conf_directives[0]))
_Static_assert(CONF_NDIRECTIVES <= CONF_DIRECTIVES_MAX, "seen[] too small");

/* Directives whose parser reads a list of words of its own. */
static bool
conf_varargs(const struct conf_directive *d)
{
	return d->parse == conf_p_sts_policy || d->parse == conf_p_tlsrpt_rua ||
	    d->parse == conf_p_dnsbl;
}

static const struct conf_directive *
conf_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CONF_NDIRECTIVES; i++)
		if (strcmp(conf_directives[i].name, name) == 0)
			return &conf_directives[i];
	return NULL;
}

static void
conf_dispatch(struct conf_parser *ps, struct conf_stmt *st)
{
	const struct conf_directive	*d;
	const struct conf_word		*kw = &st->w[0];
	char				 sb[CONF_SHOW_MAX];
	size_t				 idx, nargs;

	if (st->bad || (st->nwords == 0 && !st->block))
		return;
	if (st->nargs == 0 && st->block) {
		conf_err(ps, st->block_line, "block without a directive");
		return;
	}
	if ((d = conf_find(kw->text)) == NULL) {
		conf_err(ps, kw->line, "unknown directive \"%s\"",
		    conf_show(kw, sb, sizeof(sb)));
		return;
	}
	idx = (size_t)(d - conf_directives);
	if (ps->seen[idx] != 0 && !d->multi) {
		conf_err(ps, kw->line, "duplicate %s (first on line %d)",
		    d->name, ps->seen[idx]);
		return;
	}
	if (ps->seen[idx] == 0)
		ps->seen[idx] = kw->line;
	nargs = (st->block ? st->nargs : st->nwords) - 1;
	if (d->block && !st->block) {
		conf_err(ps, kw->line, "%s: missing { block } on the same "
		    "line (usage: %s)", d->name, d->usage);
		return;
	}
	if (!d->block && st->block) {
		conf_err(ps, st->block_line, "%s: unexpected block (usage: "
		    "%s)", d->name, d->usage);
		return;
	}
	if (nargs < d->args) {
		conf_err(ps, st->w[nargs].line, "%s: missing argument "
		    "(usage: %s)", d->name, d->usage);
		return;
	}
	/* relay takes options after its three words; it checks them */
	if (nargs > d->args && d->parse != conf_p_relay &&
	    !conf_varargs(d)) {
		conf_err(ps, st->w[d->args + 1].line, "%s: extra argument "
		    "\"%s\" (usage: %s)", d->name,
		    conf_show(&st->w[d->args + 1], sb, sizeof(sb)), d->usage);
		return;
	}
	d->parse(ps, d, st);
}

/* Checks on the file as a whole, and defaults that need the system. */
static void
conf_finish(struct conf_parser *ps)
{
	struct conf	*c = ps->conf;
	char		 hn[CONF_NAME_MAX + 1], sb[CONF_SHOW_MAX];
	size_t		 len;

	if (ps->seen[conf_find("listen") - conf_directives] == 0 &&
	    !ps->unterminated)
		conf_err(ps, 0, "no listen directive");
	/* RFC 6647 §2.2: a retry must be able to fall inside the window */
	if (c->greylist_window <= c->greylist_delay)
		conf_err(ps, 0, "greylist-window (%us) must be longer than "
		    "greylist-delay (%us)", c->greylist_window,
		    c->greylist_delay);
	if (ps->seen[conf_find("hostname") - conf_directives] != 0)
		return;
	memset(hn, 0, sizeof(hn));
	if (gethostname(hn, sizeof(hn) - 1) == -1) {
		conf_err(ps, 0, "no hostname directive, and gethostname: %s",
		    strerror(errno));
		return;
	}
	len = strnlen(hn, sizeof(hn) - 1);
	if (!conf_dnsname_ok(hn, len)) {
		conf_err(ps, 0, "no hostname directive, and the system's "
		    "host name \"%s\" is not a DNS name",
		    printable(hn, len, sb, sizeof(sb)));
		return;
	}
	memcpy(c->hostname, hn, len + 1);
}

/* Milli-points as the file writes them: "5", "4.5", "12.25". */
static void
conf_score_text(int32_t milli, char *out, size_t outsz)
{
	int32_t	frac = milli % 1000;
	int	digits = 3;

	while (digits > 0 && frac % 10 == 0 && frac != 0) {
		frac /= 10;
		digits--;
	}
	if (frac == 0)
		(void)snprintf(out, outsz, "%d", (int)(milli / 1000));
	else
		(void)snprintf(out, outsz, "%d.%0*d", (int)(milli / 1000),
		    digits, (int)frac);
}

/* The spam lines: Junk must come before refusal. */
static void
conf_spam_finish(struct conf_parser *ps)
{
	struct conf	*c = ps->conf;
	char		 junk[32], reject[32];
	int		 line;

	if (c->spam_reject == CONF_SPAM_NEVER || c->spam_junk < c->spam_reject)
		return;
	line = ps->seen[conf_find("spam-reject") - conf_directives];
	if (line == 0)
		line = ps->seen[conf_find("spam-junk") - conf_directives];
	conf_score_text(c->spam_junk, junk, sizeof(junk));
	conf_score_text(c->spam_reject, reject, sizeof(reject));
	conf_err(ps, line, "spam-junk %s must be below spam-reject %s", junk,
	    reject);
}

/* mta-sts-policy without mx: the hostname is the MX. */
static void
conf_sts_finish(struct conf *c)
{
	struct conf_sts_policy	*p = &c->sts_policy;

	if (!p->set || p->nmx > 0 || c->hostname[0] == '\0')
		return;
	conf_lower(p->mx[0], c->hostname, strlen(c->hostname));
	p->nmx = 1;
}

struct conf *
conf_parse(const char *name, const char *text, size_t len, char *errs,
    size_t errsz)
{
	struct conf_parser	*ps;
	struct conf_stmt	 st;
	struct conf		*c;
	bool			 more = true;

	if (errs != NULL && errsz > 0)
		errs[0] = '\0';
	c = xcalloc(1, sizeof(*c));
	ps = xcalloc(1, sizeof(*ps));
	ps->conf = c;
	ps->name = name;
	ps->errs = errs;
	ps->errsz = errsz;
	ps->p = text != NULL ? text : "";
	ps->end = ps->p + (text != NULL ? len : 0);
	ps->line = 1;
	ps->line_start = true;

	if (str_copy(c->file, sizeof(c->file), name) == -1)
		conf_err(ps, 0, "file name too long");
	(void)str_copy(c->state_dir, sizeof(c->state_dir), "/var/lib/cachet");
	(void)str_copy(c->mail_dir, sizeof(c->mail_dir), "/var/mail/cachet");
	(void)str_copy(c->user, sizeof(c->user), "_cachet");
	c->submission_sender_check = true;
	(void)str_copy(c->tls_ciphers[CONF_TLS_CLIENTS],
	    sizeof(c->tls_ciphers[0]), TLS_CIPHERS_CLIENTS);
	(void)str_copy(c->tls_ciphers[CONF_TLS_MX], sizeof(c->tls_ciphers[0]),
	    TLS_CIPHERS_MX);
	c->sandbox = true;
	c->dane = true;
	c->mta_sts = true;
	c->tlsrpt_interval = 86400;
	c->srs = true;
	c->srs_max_age = 21;
	c->dmarc_report_interval = 86400;
	c->spam = true;
	c->spam_junk = CONF_SPAM_JUNK_DEFAULT;
	c->spam_reject = CONF_SPAM_REJECT_DEFAULT;
	c->spam_bayes_max_tokens = CONF_BAYES_MAX_TOKENS;
	c->dnsbl_timeout = CONF_DNSBL_TIMEOUT_DEFAULT;
	c->greylist_delay = 300;
	c->greylist_window = 2 * 86400;
	c->greylist_whitelist = 35 * 86400;
	(void)str_copy(c->trust_anchor, sizeof(c->trust_anchor),
	    CONF_TRUST_ANCHOR_DEFAULT);
	c->limits.message_size = 35 * 1024 * 1024;
	c->limits.recipients = 1000;
	c->limits.errors = 10;
	c->limits.smtp_timeout = 300;
	c->limits.data_timeout = 600;
	c->limits.connections = 1000;
	c->limits.connections_per_ip = 20;
	(void)str_copy(c->delivery.delimiters, sizeof(c->delivery.delimiters),
	    "+");
	c->delivery.quota_exceeded = CONF_QUOTA_DEFER;
	c->delivery.workers = 4;
	c->outbound.retry_first = 5 * 60;
	c->outbound.retry_max = 2 * 3600;
	c->outbound.lifetime = 5 * 86400;
	c->outbound.delay_warning = 4 * 3600;
	c->outbound.connections = 100;
	c->outbound.per_destination = 20;

	if (len > CONF_FILE_MAX) {
		conf_err(ps, 0, "file too large (more than %d bytes)",
		    CONF_FILE_MAX);
		more = false;
	}
	while (more) {
		more = conf_collect(ps, &st);
		conf_dispatch(ps, &st);
		conf_stmt_clear(&st);
	}
	if (len <= CONF_FILE_MAX) {
		conf_finish(ps);
		conf_spam_finish(ps);
	}
	conf_sts_finish(c);
	if (ps->nerrors > CONF_ERRORS_MAX)
		conf_errs_add(errs, errsz, &ps->errlen, "%s: %d more errors "
		    "not shown\n", name, ps->nerrors - CONF_ERRORS_MAX);
	if (ps->nerrors > 0) {
		conf_free(c);
		c = NULL;
	}
	free(ps);
	return c;
}

struct conf *
conf_load(const char *path, char *errs, size_t errsz)
{
	struct conf	*c;
	char		*text;
	ssize_t		 n;
	size_t		 errlen = 0;
	int		 fd, saved;

	if (errs != NULL && errsz > 0)
		errs[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1) {
		conf_errs_add(errs, errsz, &errlen, "%s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	/* One byte more than allowed tells a full file from a large one. */
	text = xmalloc(CONF_FILE_MAX + 1);
	n = read_full(fd, text, CONF_FILE_MAX + 1);
	saved = errno;
	close(fd);
	if (n == -1) {
		conf_errs_add(errs, errsz, &errlen, "%s: %s\n", path,
		    strerror(saved));
		free(text);
		return NULL;
	}
	c = conf_parse(path, text, (size_t)n, errs, errsz);
	free(text);
	return c;
}

const char *
conf_default_text(void)
{
	return conf_default_conf;
}

struct conf *
conf_default(void)
{
	struct conf	*c;
	char		 errs[1024];

	c = conf_parse("(default)", conf_default_conf,
	    sizeof(conf_default_conf) - 1, errs, sizeof(errs));
	if (c == NULL)
		fatalx("conf: the embedded default does not parse: %s", errs);
	return c;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->listens);
	free(c->domains);
	free(c->relays);
	free(c->arc_trusted);
	free(c->dnsbls);
	free(c);
}

const char *
conf_listen_kind_name(enum conf_listen_kind kind)
{
	if ((size_t)kind >= CONF_NKINDS)
		return "unknown";
	return conf_kind_names[kind];
}

bool
conf_listen_implicit_tls(enum conf_listen_kind kind)
{
	/* RFC 8314 §3.3 (submissions), §4.1 (imaps, pop3s). */
	return kind == CONF_LISTEN_SUBMISSIONS || kind == CONF_LISTEN_IMAPS ||
	    kind == CONF_LISTEN_POP3S || kind == CONF_LISTEN_HTTPS;
}

enum conf_tls_profile
conf_listen_tls_profile(enum conf_listen_kind kind)
{
	/* Port 25 is opportunistic TLS with any server (RFC 7435). */
	return kind == CONF_LISTEN_SMTP ? CONF_TLS_MX : CONF_TLS_CLIENTS;
}

const char *
conf_sts_mode_name(enum conf_sts_mode mode)
{
	switch (mode) {
	case CONF_STS_ENFORCE:
		return "enforce";
	case CONF_STS_TESTING:
		return "testing";
	case CONF_STS_NONE:
	default:
		return "none";
	}
}

bool
conf_is_local_domain(const struct conf *c, const char *name)
{
	const char	*a, *b;
	size_t		 i;
	char		 ca, cb;

	for (i = 0; i < c->ndomains; i++) {
		/* Stops at the first difference, so never reads past name. */
		for (a = c->domains[i], b = name;; a++, b++) {
			ca = *a;
			cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
			if (ca != cb)
				break;
			if (ca == '\0')
				return true;
		}
	}
	return false;
}
