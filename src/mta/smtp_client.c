/*
 * smtp_client: the outbound SMTP client state machine (RFC 5321, 3207,
 * 4954/4616, 2920, 1870, 6152, 6531, 3461, 2034/3463).  Run by the mta
 * role, one per connection, and driven directly by the unit tests and
 * the fuzzer.  It trusts its params, its ops and the messages it is given
 * (they come from our own roles and config); it trusts nothing the server
 * says: every reply line is bounded, every reply is parsed strictly, and
 * what is kept of a reply is bounded before it is stored.  Pure: no
 * sockets, no clock, no globals.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "sasl.h"
#include "smtp_client.h"
#include "util.h"

#define CLIENT_HELO_MAX		255	/* a domain, §4.5.3.1.2 */
#define CLIENT_SERVER_MAX	63	/* greeting name kept for logs */
#define CLIENT_SASL_FIELD_MAX	255	/* RFC 4616 §2 */
#define CLIENT_ENVID_MAX	100	/* RFC 3461 §4.4 */
#define CLIENT_ORCPT_MAX	500	/* RFC 3461 §4.2 */
#define CLIENT_CMD_MAX		1024	/* a MAIL or RCPT line we build */
#define CLIENT_CHUNK		8192	/* content octets per ops->read */
/* reply text kept for one recipient; the whole reply goes to close */
#define CLIENT_RESULT_TEXT_MAX	4096
#define CLIENT_REPLY_MAX \
	(SMTP_CLIENT_REPLY_LINE_MAX * SMTP_CLIENT_REPLY_LINES_MAX)
#define CLIENT_OUT_MAX \
	((SMTP_CLIENT_RCPTS_MAX + 4) * CLIENT_CMD_MAX + 2 * CLIENT_CHUNK)
#define CLIENT_LOCAL_MAX	300	/* a local reply's text */

/* RFC 5321 §4.5.3.2, in seconds */
#define CLIENT_TIMEOUT_GREETING	300	/* §4.5.3.2.1 */
#define CLIENT_TIMEOUT_COMMAND	300	/* MAIL §4.5.3.2.2, RCPT .3 */
#define CLIENT_TIMEOUT_DATA	120	/* §4.5.3.2.4 */
#define CLIENT_TIMEOUT_BLOCK	180	/* §4.5.3.2.5 */
#define CLIENT_TIMEOUT_DOT	600	/* §4.5.3.2.6 */

enum client_state {
	CLIENT_ST_GREETING,
	CLIENT_ST_EHLO,
	CLIENT_ST_HELO,
	CLIENT_ST_STARTTLS,
	CLIENT_ST_TLS_WAIT,
	CLIENT_ST_AUTH,
	CLIENT_ST_READY,
	CLIENT_ST_TXN,		/* RSET, MAIL, RCPT, DATA replies due */
	CLIENT_ST_BODY,
	CLIENT_ST_DOT,
	CLIENT_ST_QUIT,
	CLIENT_ST_CLOSED,
};

/* A reply we expect inside a transaction. */
struct client_pend {
	enum smtp_client_stage	 kind;	/* RSET, MAIL, RCPT or DATA */
	size_t			 rcpt;
};

/* The outcome of one recipient, kept until the transaction ends. */
struct client_result {
	bool			 done;		/* has its outcome */
	bool			 accepted;	/* 2xx to RCPT, awaiting "." */
	int			 code;
	char			 enh[SMTP_CLIENT_ENH_MAX];
	char			*text;
	size_t			 len;
	enum smtp_client_stage	 stage;
	bool			 local;
};

struct smtp_client {
	const struct smtp_client_ops	*ops;
	void				*arg;

	char			 helo[CLIENT_HELO_MAX + 1];
	enum smtp_client_tls	 tls;
	bool			 tls_on;
	bool			 tls_verified;	/* params' */
	bool			 tls_tried;
	char			*auth_user;
	char			*auth_pass;
	bool			 auth_plaintext;

	enum client_state	 state;
	unsigned		 ext;
	uint64_t		 size_limit;
	char			 server[CLIENT_SERVER_MAX + 1];

	/* the reply being read */
	struct buf		 reply;
	size_t			 reply_lines;
	int			 reply_code;
	char			 reply_enh[SMTP_CLIENT_ENH_MAX];

	struct buf		 out;

	/* the transaction */
	const struct smtp_client_msg *msg;
	struct client_result	*res;
	struct client_pend	*pend;
	size_t			 npend, nsent, nrecv;
	bool			 pipelining;
	bool			 mail_failed;
	bool			 utf8;		/* MAIL gets SMTPUTF8 */
	struct client_result	 mailres;
	size_t			 accepted;
	bool			 dot_ignore;	/* "." only to end DATA */
	size_t			 messages;	/* started on this session */

	/* content */
	bool			 line_start;
	bool			 pending_cr;
	char			*chunk;
};

static void	client_after_hello(struct smtp_client *);

const char *
smtp_client_stage_name(enum smtp_client_stage s)
{
	static const char *const names[] = {
		"greeting", "ehlo", "helo", "starttls", "tls", "auth",
		"ready", "rset", "mail", "rcpt", "data", "body", "dot",
		"quit", "closed",
	};

	if ((size_t)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "?";
}

/* Output */

static void
client_flush(struct smtp_client *c)
{
	if (c->out.len == 0)
		return;
	c->ops->send(c->arg, c->out.data, c->out.len);
	buf_reset(&c->out);
}

static void
client_cmd(struct smtp_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append one command line of ours (CRLF added); sent by client_flush(). */
static void
client_cmd(struct smtp_client *c, const char *fmt, ...)
{
	char	line[CLIENT_CMD_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		fatalx("smtp_client: command too long");
	line[n++] = '\r';
	line[n++] = '\n';
	if (buf_append(&c->out, line, (size_t)n) == -1)
		fatalx("smtp_client: output full");
}

/* Reply parsing */

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/*
 * One reply line without its CRLF: "DDD", "DDD text" or "DDD-text"
 * (§4.2).  The first digit is 2-5, the second 0-5 (§4.2.1; 1xx and 3xx
 * other than 334/354 are allowed by the grammar, and 3xx is used).
 * *last is true for the final line.
 */
static int
client_parse_line(const char *p, size_t len, int *code, bool *last)
{
	size_t	i;

	if (len < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' ||
	    !is_digit(p[2]))
		return -1;
	if (len == 3 || p[3] == ' ')
		*last = true;
	else if (p[3] == '-')
		*last = false;
	else
		return -1;
	for (i = 3; i < len; i++)
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
			return -1;
	*code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	return 0;
}

/*
 * An enhanced status code at the start of the text of a line (RFC 2034
 * §4, RFC 3463 §2): class "." subject "." detail, the class the same as
 * the reply's first digit, subject and detail of 1-3 digits, then a
 * space or the end.
 */
static void
client_parse_enh(const char *p, size_t len, int code,
    char out[SMTP_CLIENT_ENH_MAX])
{
	size_t	i = 4, part, n;

	out[0] = '\0';
	if (len < 9 || p[4] != (char)('0' + code / 100))
		return;
	i = 5;
	for (part = 0; part < 2; part++) {
		if (i >= len || p[i] != '.')
			return;
		i++;
		for (n = 0; i < len && is_digit(p[i]) && n < 4; n++)
			i++;
		if (n == 0 || n > 3)
			return;
	}
	if (i < len && p[i] != ' ')
		return;
	if (i - 4 >= SMTP_CLIENT_ENH_MAX)
		return;
	memcpy(out, p + 4, i - 4);
	out[i - 4] = '\0';
}

int
smtp_client_parse_reply(const char *p, size_t len, int *code_out,
    char enh_out[SMTP_CLIENT_ENH_MAX])
{
	size_t	off = 0, lines = 0, l;
	int	code, first = 0;
	bool	last = false;
	const char *lf;

	enh_out[0] = '\0';
	while (off < len) {
		if (last)
			return -1;	/* bytes after the final line */
		l = len - off;
		if (l > SMTP_CLIENT_REPLY_LINE_MAX)
			l = SMTP_CLIENT_REPLY_LINE_MAX;
		if ((lf = memchr(p + off, '\n', l)) == NULL)
			return -1;
		l = (size_t)(lf - (p + off)) + 1;
		if (l < 2 || p[off + l - 2] != '\r')
			return -1;
		if (client_parse_line(p + off, l - 2, &code, &last) == -1)
			return -1;
		if (lines == 0) {
			first = code;
			client_parse_enh(p + off, l - 2, code, enh_out);
		} else if (code != first)
			return -1;
		if (++lines > SMTP_CLIENT_REPLY_LINES_MAX)
			return -1;
		off += l;
	}
	if (!last)
		return -1;
	*code_out = first;
	return 0;
}

/* Results */

static void
client_result_set(struct client_result *r, const struct smtp_client_reply *rp)
{
	size_t	n = rp->len;

	free(r->text);
	r->done = true;
	r->accepted = false;
	r->code = rp->code;
	memcpy(r->enh, rp->enhanced, sizeof(r->enh));
	r->stage = rp->stage;
	r->local = rp->local;
	if (n > CLIENT_RESULT_TEXT_MAX) {
		/* cut, and say so: never silently */
		r->text = xmalloc(CLIENT_RESULT_TEXT_MAX + 4);
		memcpy(r->text, rp->text, CLIENT_RESULT_TEXT_MAX);
		memcpy(r->text + CLIENT_RESULT_TEXT_MAX, "...", 4);
		r->len = CLIENT_RESULT_TEXT_MAX + 3;
	} else {
		r->text = xmalloc(n + 1);
		memcpy(r->text, rp->text, n);
		r->text[n] = '\0';
		r->len = n;
	}
}

static void
client_result_reply(const struct client_result *r,
    struct smtp_client_reply *rp)
{
	rp->code = r->code;
	memcpy(rp->enhanced, r->enh, sizeof(rp->enhanced));
	rp->text = r->text;
	rp->len = r->len;
	rp->stage = r->stage;
	rp->local = r->local;
}

/* A reply of ours: "451 4.4.2 why".  text must hold CLIENT_LOCAL_MAX. */
static void
client_local(struct smtp_client_reply *rp, char *text, int code,
    const char *enh, enum smtp_client_stage stage, const char *why)
{
	char	pwhy[CLIENT_LOCAL_MAX - 20];
	int	n;

	printable(why, strlen(why), pwhy, sizeof(pwhy));
	n = snprintf(text, CLIENT_LOCAL_MAX, "%03d %s %s", code, enh, pwhy);
	if (n < 0)
		n = 0;
	if ((size_t)n >= CLIENT_LOCAL_MAX)
		n = CLIENT_LOCAL_MAX - 1;
	rp->code = code;
	(void)str_copy(rp->enhanced, sizeof(rp->enhanced), enh);
	rp->text = text;
	rp->len = (size_t)n;
	rp->stage = stage;
	rp->local = true;
}

static void
client_txn_free(struct smtp_client *c)
{
	size_t	i;

	if (c->res != NULL && c->msg != NULL)
		for (i = 0; i < c->msg->nrcpts; i++)
			free(c->res[i].text);
	free(c->res);
	free(c->pend);
	free(c->mailres.text);
	c->res = NULL;
	c->pend = NULL;
	c->msg = NULL;
	memset(&c->mailres, 0, sizeof(c->mailres));
	c->npend = c->nsent = c->nrecv = 0;
	c->accepted = 0;
	c->mail_failed = false;
	c->utf8 = false;
	c->dot_ignore = false;
}

/*
 * Give every recipient its outcome, in order, then done.  Results are
 * detached first, so the callbacks see a client with no transaction.
 */
static void
client_report(struct smtp_client *c)
{
	const struct smtp_client_msg	*msg = c->msg;
	struct client_result		*res = c->res;
	struct smtp_client_reply	 rp;
	size_t				 i;

	c->res = NULL;
	c->msg = NULL;
	for (i = 0; i < msg->nrcpts; i++) {
		if (!res[i].done)
			fatalx("smtp_client: recipient %zu without outcome", i);
		client_result_reply(&res[i], &rp);
		c->ops->rcpt_done(c->arg, i, &rp);
	}
	for (i = 0; i < msg->nrcpts; i++)
		free(res[i].text);
	free(res);
	client_txn_free(c);
	c->ops->done(c->arg);
}

/* Every recipient still open gets rp. */
static void
client_settle(struct smtp_client *c, const struct smtp_client_reply *rp)
{
	size_t	i;

	if (c->msg == NULL)
		return;
	for (i = 0; i < c->msg->nrcpts; i++)
		if (!c->res[i].done)
			client_result_set(&c->res[i], rp);
}

static enum smtp_client_stage
client_stage_of(const struct smtp_client *c)
{
	switch (c->state) {
	case CLIENT_ST_GREETING:
		return SMTP_CLIENT_STAGE_GREETING;
	case CLIENT_ST_EHLO:
		return SMTP_CLIENT_STAGE_EHLO;
	case CLIENT_ST_HELO:
		return SMTP_CLIENT_STAGE_HELO;
	case CLIENT_ST_STARTTLS:
		return SMTP_CLIENT_STAGE_STARTTLS;
	case CLIENT_ST_TLS_WAIT:
		return SMTP_CLIENT_STAGE_TLS;
	case CLIENT_ST_AUTH:
		return SMTP_CLIENT_STAGE_AUTH;
	case CLIENT_ST_READY:
		return SMTP_CLIENT_STAGE_READY;
	case CLIENT_ST_TXN:
		if (c->nrecv < c->npend)
			return c->pend[c->nrecv].kind;
		return SMTP_CLIENT_STAGE_DATA;
	case CLIENT_ST_BODY:
		return SMTP_CLIENT_STAGE_BODY;
	case CLIENT_ST_DOT:
		return SMTP_CLIENT_STAGE_DOT;
	case CLIENT_ST_QUIT:
		return SMTP_CLIENT_STAGE_QUIT;
	case CLIENT_ST_CLOSED:
		break;
	}
	return SMTP_CLIENT_STAGE_CLOSED;
}

/* The session ends with rp: open recipients get it, then close. */
static void
client_close(struct smtp_client *c, const struct smtp_client_reply *rp)
{
	if (c->state == CLIENT_ST_CLOSED)
		return;
	if (c->msg != NULL) {
		client_settle(c, rp);
		client_report(c);
	}
	c->state = CLIENT_ST_CLOSED;
	c->ops->close(c->arg, rp);
}

static void
client_close_local(struct smtp_client *c, int code, const char *enh,
    const char *why)
{
	struct smtp_client_reply	rp;
	char				text[CLIENT_LOCAL_MAX];

	client_local(&rp, text, code, enh, client_stage_of(c), why);
	client_close(c, &rp);
}

static void
client_protocol_error(struct smtp_client *c, const char *what)
{
	char	why[CLIENT_LOCAL_MAX - 40];

	(void)snprintf(why, sizeof(why), "protocol error: %s", what);
	client_close_local(c, 451, "4.5.0", why);
}

/* Session setup */

static void
client_ehlo(struct smtp_client *c)
{
	client_cmd(c, "EHLO %s", c->helo);
	client_flush(c);
	c->state = CLIENT_ST_EHLO;
}

static void
client_ready(struct smtp_client *c)
{
	c->state = CLIENT_ST_READY;
	c->ops->ready(c->arg);
}

/* Server name from the greeting's first line, for logs. */
static void
client_server_name(struct smtp_client *c)
{
	const char	*t = c->reply.data;
	size_t		 i, n = 0;

	if (c->reply.len <= 4)
		return;
	for (i = 4; i < c->reply.len && n < CLIENT_SERVER_MAX; i++) {
		if (t[i] == ' ' || t[i] == '\n')
			break;
		c->server[n++] = (t[i] > 0x20 && t[i] < 0x7f) ? t[i] : '?';
	}
	c->server[n] = '\0';
}

static bool
client_word_eq(const char *p, size_t len, const char *w)
{
	size_t	n = strlen(w);

	return len == n && strncasecmp(p, w, n) == 0;
}

/* The keywords of one EHLO line (RFC 5321 §4.1.1.1, ehlo-line). */
static void
client_ehlo_line(struct smtp_client *c, const char *p, size_t len)
{
	size_t		 k = 0, s, e;
	uint64_t	 v = 0;
	bool		 ok = true;

	while (k < len && p[k] != ' ' && p[k] != '=')
		k++;
	if (client_word_eq(p, k, "STARTTLS"))
		c->ext |= SMTP_CLIENT_EXT_STARTTLS;
	else if (client_word_eq(p, k, "PIPELINING"))
		c->ext |= SMTP_CLIENT_EXT_PIPELINING;
	else if (client_word_eq(p, k, "8BITMIME"))
		c->ext |= SMTP_CLIENT_EXT_8BITMIME;
	else if (client_word_eq(p, k, "SMTPUTF8"))
		c->ext |= SMTP_CLIENT_EXT_SMTPUTF8;
	else if (client_word_eq(p, k, "REQUIRETLS"))
		c->ext |= SMTP_CLIENT_EXT_REQUIRETLS;
	else if (client_word_eq(p, k, "DSN"))
		c->ext |= SMTP_CLIENT_EXT_DSN;
	else if (client_word_eq(p, k, "CHUNKING"))
		c->ext |= SMTP_CLIENT_EXT_CHUNKING;
	else if (client_word_eq(p, k, "BINARYMIME"))
		c->ext |= SMTP_CLIENT_EXT_BINARYMIME;
	else if (client_word_eq(p, k, "ENHANCEDSTATUSCODES"))
		c->ext |= SMTP_CLIENT_EXT_ENHANCED;
	else if (client_word_eq(p, k, "SIZE")) {
		/* RFC 1870 §4: "SIZE" [SP number]; 0 or none: no limit */
		c->ext |= SMTP_CLIENT_EXT_SIZE;
		s = k + 1;
		if (k >= len || p[k] != ' ' || s >= len)
			return;
		for (e = s; e < len && ok; e++) {
			if (!is_digit(p[e]) || e - s >= 20 ||
			    __builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, (uint64_t)(p[e] - '0'),
			    &v))
				ok = false;
		}
		c->size_limit = ok ? v : 0;
	} else if (client_word_eq(p, k, "AUTH")) {
		/* "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN" */
		c->ext |= SMTP_CLIENT_EXT_AUTH;
		s = k;
		while (s < len) {
			while (s < len && (p[s] == ' ' || p[s] == '='))
				s++;
			for (e = s; e < len && p[e] != ' '; e++)
				;
			if (client_word_eq(p + s, e - s, "PLAIN"))
				c->ext |= SMTP_CLIENT_EXT_AUTH_PLAIN;
			else if (client_word_eq(p + s, e - s, "LOGIN"))
				c->ext |= SMTP_CLIENT_EXT_AUTH_LOGIN;
			s = e;
		}
	}
}

/* The reply held in c->reply is a 250 to EHLO: learn the extensions. */
static void
client_parse_ehlo(struct smtp_client *c)
{
	const char	*p = c->reply.data, *nl;
	size_t		 len = c->reply.len, off, l;

	c->ext = 0;
	c->size_limit = 0;
	/* the first line is the greeting name; keywords follow */
	if ((nl = memchr(p, '\n', len)) == NULL)
		return;
	off = (size_t)(nl - p) + 1;
	while (off < len) {
		nl = memchr(p + off, '\n', len - off);
		l = nl ? (size_t)(nl - (p + off)) : len - off;
		if (l > 4)
			client_ehlo_line(c, p + off + 4, l - 4);
		off += l + 1;
	}
}

/* AUTH PLAIN with the initial response (RFC 4954 §4, RFC 4616 §2). */
static void
client_auth(struct smtp_client *c)
{
	unsigned char	msg[2 * CLIENT_SASL_FIELD_MAX + 2];
	char		b64[(sizeof(msg) + 2) / 3 * 4 + 1];
	char		line[sizeof(b64) + 16];
	size_t		ul, pl, n;
	int		len;

	ul = strlen(c->auth_user);
	pl = strlen(c->auth_pass);
	if (ul == 0 || ul > CLIENT_SASL_FIELD_MAX || pl == 0 ||
	    pl > CLIENT_SASL_FIELD_MAX) {
		client_close_local(c, 451, "4.7.0",
		    "AUTH user or password empty or too long");
		return;
	}
	msg[0] = '\0';
	memcpy(msg + 1, c->auth_user, ul);
	msg[1 + ul] = '\0';
	memcpy(msg + 2 + ul, c->auth_pass, pl);
	n = 2 + ul + pl;
	(void)sasl_b64_encode(msg, n, b64);
	len = snprintf(line, sizeof(line), "AUTH PLAIN %s\r\n", b64);
	if (len < 0 || (size_t)len >= sizeof(line))
		fatalx("smtp_client: AUTH line");
	c->state = CLIENT_ST_AUTH;
	c->ops->send(c->arg, line, (size_t)len);
	explicit_bzero(msg, sizeof(msg));
	explicit_bzero(b64, sizeof(b64));
	explicit_bzero(line, sizeof(line));
}

/* After EHLO or HELO: STARTTLS, AUTH, or ready. */
static void
client_after_hello(struct smtp_client *c)
{
	if (!c->tls_on && !c->tls_tried && c->tls != SMTP_CLIENT_TLS_NO &&
	    (c->ext & SMTP_CLIENT_EXT_STARTTLS)) {
		client_cmd(c, "STARTTLS");
		client_flush(c);
		c->state = CLIENT_ST_STARTTLS;
		return;
	}
	if (!c->tls_on && c->tls == SMTP_CLIENT_TLS_MUST) {
		client_close_local(c, 451, "4.7.0",
		    "TLS is required but the server does not offer STARTTLS");
		return;
	}
	if (c->auth_user != NULL) {
		if (!c->tls_on && !c->auth_plaintext) {
			client_close_local(c, 451, "4.7.0",
			    "AUTH is configured but TLS is not up");
			return;
		}
		if (!(c->ext & SMTP_CLIENT_EXT_AUTH_PLAIN)) {
			client_close_local(c, 451, "4.7.0",
			    "AUTH is configured but the server offers no "
			    "AUTH PLAIN");
			return;
		}
		client_auth(c);
		return;
	}
	client_ready(c);
}

/* Transactions */

static bool
client_is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* A path we can put between < and > (a local sanity check, §4.1.2). */
static bool
client_addr_ok(const char *s, bool allow_empty)
{
	size_t	i, len;

	len = strnlen(s, SMTP_CLIENT_ADDR_MAX + 1);
	if (len > SMTP_CLIENT_ADDR_MAX || (len == 0 && !allow_empty))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch == 0x7f || ch == '<' || ch == '>')
			return false;
	}
	return true;
}

/* xtext (RFC 3461 §4) of s into out; -1 if more than max octets. */
static int
client_xtext(const char *s, char *out, size_t max)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			o = 0;
	unsigned char		ch;

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (ch >= 0x21 && ch <= 0x7e && ch != '+' && ch != '=') {
			if (o + 1 > max)
				return -1;
			out[o++] = (char)ch;
		} else {
			if (o + 3 > max)
				return -1;
			out[o++] = '+';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static void
client_mail_cmd(struct smtp_client *c)
{
	const struct smtp_client_msg	*m = c->msg;
	struct buf			 params;
	char				 envid[CLIENT_ENVID_MAX + 1];
	int				 rc = 0;

	buf_init(&params, CLIENT_CMD_MAX / 2);
	/* RFC 1870 §6, RFC 6152 §2, RFC 6531 §3.4, RFC 3461 §4.3-4.4 */
	if ((c->ext & SMTP_CLIENT_EXT_SIZE) && m->size > 0)
		rc |= buf_printf(&params, " SIZE=%" PRIu64, m->size);
	if ((c->ext & SMTP_CLIENT_EXT_8BITMIME) &&
	    m->body == SMTP_CLIENT_BODY_8BITMIME)
		rc |= buf_append_str(&params, " BODY=8BITMIME");
	if (c->utf8)
		rc |= buf_append_str(&params, " SMTPUTF8");
	if (m->requiretls)
		rc |= buf_append_str(&params, " REQUIRETLS");
	if ((c->ext & SMTP_CLIENT_EXT_DSN) && m->ret != SMTP_CLIENT_RET_UNSET)
		rc |= buf_append_str(&params, m->ret == SMTP_CLIENT_RET_FULL ?
		    " RET=FULL" : " RET=HDRS");
	/* an ENVID too long to pass on is dropped, not cut */
	if ((c->ext & SMTP_CLIENT_EXT_DSN) && m->envid != NULL &&
	    m->envid[0] != '\0' &&
	    client_xtext(m->envid, envid, CLIENT_ENVID_MAX) == 0)
		rc |= buf_printf(&params, " ENVID=%s", envid);
	if (rc != 0)
		fatalx("smtp_client: MAIL parameters");
	client_cmd(c, "MAIL FROM:<%s>%s", m->from,
	    params.len > 0 ? params.data : "");
	buf_free(&params);
}

static void
client_rcpt_cmd(struct smtp_client *c, size_t i)
{
	const struct smtp_client_rcpt	*r = &c->msg->rcpts[i];
	static const struct {
		unsigned	 bit;
		const char	*name;
	} words[] = {
		{ SMTP_CLIENT_NOTIFY_SUCCESS, "SUCCESS" },
		{ SMTP_CLIENT_NOTIFY_FAILURE, "FAILURE" },
		{ SMTP_CLIENT_NOTIFY_DELAY, "DELAY" },
	};
	char				 notify[40];
	char				 orcpt[CLIENT_ORCPT_MAX + 16];
	char				 xt[CLIENT_ORCPT_MAX + 1];
	const char			*semi;
	size_t				 tl, k, o;

	notify[0] = '\0';
	orcpt[0] = '\0';
	/* RFC 3461 §4.1: NEVER alone, or a list of the others */
	if ((c->ext & SMTP_CLIENT_EXT_DSN) && (r->notify &
	    (SMTP_CLIENT_NOTIFY_SUCCESS | SMTP_CLIENT_NOTIFY_FAILURE |
	    SMTP_CLIENT_NOTIFY_DELAY | SMTP_CLIENT_NOTIFY_NEVER)) != 0) {
		if (r->notify & SMTP_CLIENT_NOTIFY_NEVER)
			(void)str_copy(notify, sizeof(notify), " NOTIFY=NEVER");
		else {
			o = (size_t)snprintf(notify, sizeof(notify),
			    " NOTIFY=");
			for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
				if (!(r->notify & words[k].bit))
					continue;
				o += (size_t)snprintf(notify + o,
				    sizeof(notify) - o, "%s%s",
				    notify[o - 1] == '=' ? "" : ",",
				    words[k].name);
			}
		}
	}
	/*
	 * ORCPT=addr-type ";" xtext (RFC 3461 §4.2): the type is an atom,
	 * the address is xtext-encoded again; one too long is dropped.
	 */
	if ((c->ext & SMTP_CLIENT_EXT_DSN) && r->orcpt != NULL &&
	    (semi = strchr(r->orcpt, ';')) != NULL) {
		tl = (size_t)(semi - r->orcpt);
		if (tl > 0 && tl < 32 && client_xtext(semi + 1, xt,
		    CLIENT_ORCPT_MAX - tl - 1) == 0 && xt[0] != '\0')
			(void)snprintf(orcpt, sizeof(orcpt), " ORCPT=%.*s;%s",
			    (int)tl, r->orcpt, xt);
	}
	client_cmd(c, "RCPT TO:<%s>%s%s", r->addr, notify, orcpt);
}

static void
client_send_pend(struct smtp_client *c, size_t k)
{
	switch (c->pend[k].kind) {
	case SMTP_CLIENT_STAGE_RSET:
		client_cmd(c, "RSET");
		break;
	case SMTP_CLIENT_STAGE_MAIL:
		client_mail_cmd(c);
		break;
	case SMTP_CLIENT_STAGE_RCPT:
		client_rcpt_cmd(c, c->pend[k].rcpt);
		break;
	case SMTP_CLIENT_STAGE_DATA:
		client_cmd(c, "DATA");
		break;
	default:
		fatalx("smtp_client: bad pending command");
	}
}

/* The transaction is over: outcomes, then ready again. */
static void
client_txn_end(struct smtp_client *c)
{
	client_report(c);
	if (c->state != CLIENT_ST_CLOSED)
		client_ready(c);
}

/* Refuse msg before sending anything: every recipient gets rp. */
static int
client_refuse(struct smtp_client *c, int code, const char *enh,
    const char *why)
{
	struct smtp_client_reply	rp;
	char				text[CLIENT_LOCAL_MAX];

	client_local(&rp, text, code, enh, SMTP_CLIENT_STAGE_MAIL, why);
	client_settle(c, &rp);
	client_report(c);
	return -1;
}

int
smtp_client_mail(struct smtp_client *c, const struct smtp_client_msg *msg)
{
	struct smtp_client_reply	 rp;
	char				 text[CLIENT_LOCAL_MAX];
	char				 why[CLIENT_LOCAL_MAX - 40];
	size_t				 i, valid = 0;
	bool				 utf8;

	if (c->state != CLIENT_ST_READY || c->msg != NULL)
		fatalx("smtp_client: message while not ready");
	if (msg->nrcpts == 0 || msg->nrcpts > SMTP_CLIENT_RCPTS_MAX)
		fatalx("smtp_client: %zu recipients", msg->nrcpts);
	c->msg = msg;
	c->res = xcalloc(msg->nrcpts, sizeof(*c->res));

	utf8 = msg->smtputf8 || !client_is_ascii(msg->from);
	for (i = 0; i < msg->nrcpts; i++)
		if (!client_is_ascii(msg->rcpts[i].addr))
			utf8 = true;
	if ((c->ext & SMTP_CLIENT_EXT_SIZE) && c->size_limit > 0 &&
	    msg->size > c->size_limit) {
		/* RFC 1870 §6.1: do not send what the server will refuse */
		(void)snprintf(why, sizeof(why), "message of %" PRIu64
		    " octets exceeds the server's limit of %" PRIu64,
		    msg->size, c->size_limit);
		return client_refuse(c, 552, "5.3.4", why);
	}
	c->utf8 = utf8;
	if (utf8 && !(c->ext & SMTP_CLIENT_EXT_SMTPUTF8))
		/* RFC 6531 §3.2: no SMTPUTF8, no such message */
		return client_refuse(c, 553, "5.6.7",
		    "the message needs SMTPUTF8, which the server does not "
		    "support");
	/* RFC 8689 §4.2.1, §5: 5.7.30 */
	if (msg->requiretls && !c->tls_verified)
		return client_refuse(c, 550, "5.7.30",
		    "REQUIRETLS: neither DANE nor an MTA-STS policy makes TLS "
		    "to this server mandatory and verified");
	if (msg->requiretls && !c->tls_on)
		return client_refuse(c, 550, "5.7.30",
		    "REQUIRETLS: the server did not give us TLS");
	if (msg->requiretls && !(c->ext & SMTP_CLIENT_EXT_REQUIRETLS))
		return client_refuse(c, 550, "5.7.30",
		    "REQUIRETLS support required, which the server does not "
		    "announce");
	if (msg->body == SMTP_CLIENT_BODY_BINARYMIME)
		return client_refuse(c, 554, "5.6.3",
		    "binary content needs BDAT, which we do not send");
	if (!client_addr_ok(msg->from, true))
		return client_refuse(c, 501, "5.1.7", "bad sender address");

	client_local(&rp, text, 501, "5.1.3", SMTP_CLIENT_STAGE_RCPT,
	    "bad recipient address");
	c->pend = xcalloc(msg->nrcpts + 3, sizeof(*c->pend));
	if (c->messages > 0)
		c->pend[c->npend++].kind = SMTP_CLIENT_STAGE_RSET;
	c->pend[c->npend++].kind = SMTP_CLIENT_STAGE_MAIL;
	for (i = 0; i < msg->nrcpts; i++) {
		if (!client_addr_ok(msg->rcpts[i].addr, false)) {
			client_result_set(&c->res[i], &rp);
			continue;
		}
		c->pend[c->npend].kind = SMTP_CLIENT_STAGE_RCPT;
		c->pend[c->npend++].rcpt = i;
		valid++;
	}
	if (valid == 0) {
		client_report(c);
		return -1;
	}
	c->pend[c->npend++].kind = SMTP_CLIENT_STAGE_DATA;
	c->messages++;
	c->state = CLIENT_ST_TXN;
	/* RFC 2920 §3.1: MAIL, RCPT and DATA may go in one group */
	c->pipelining = (c->ext & SMTP_CLIENT_EXT_PIPELINING) != 0;
	if (c->pipelining) {
		for (i = 0; i < c->npend; i++)
			client_send_pend(c, i);
		c->nsent = c->npend;
	} else {
		client_send_pend(c, 0);
		c->nsent = 1;
	}
	client_flush(c);
	return 0;
}

/* The 354 came: send the content (pumped), or just "." when none. */
static void
client_data_go(struct smtp_client *c)
{
	if (c->mail_failed || c->accepted == 0) {
		/* RFC 2920 §3.1: a 354 with no recipient still needs "." */
		client_cmd(c, ".");
		client_flush(c);
		c->dot_ignore = true;
		c->state = CLIENT_ST_DOT;
		return;
	}
	c->line_start = true;
	c->pending_cr = false;
	c->state = CLIENT_ST_BODY;
}

static void
client_txn_reply(struct smtp_client *c, const struct smtp_client_reply *rp)
{
	struct client_pend	*p;
	struct client_result	*r;
	size_t			 i;
	int			 cls = rp->code / 100;

	if (c->nrecv >= c->nsent) {
		client_protocol_error(c, "reply to no command");
		return;
	}
	/* nrecv moves on after the reply is taken, so stage names it */
	p = &c->pend[c->nrecv];
	switch (p->kind) {
	case SMTP_CLIENT_STAGE_RSET:
		/*
		 * A refused RSET says nothing of the recipients: a 5xx here
		 * must not bounce them, so it becomes our 4xx.
		 */
		if (cls == 4)
			client_close(c, rp);
		else if (cls != 2)
			client_close_local(c, 451, "4.5.0",
			    "the server refused RSET");
		if (cls != 2)
			return;
		break;
	case SMTP_CLIENT_STAGE_MAIL:
		if (cls == 2)
			break;
		if (cls == 3) {
			client_protocol_error(c, "3xx reply to MAIL");
			return;
		}
		c->mail_failed = true;
		client_result_set(&c->mailres, rp);
		if (!c->pipelining) {
			c->nrecv++;
			client_settle(c, rp);
			client_txn_end(c);
			return;
		}
		break;
	case SMTP_CLIENT_STAGE_RCPT:
		r = &c->res[p->rcpt];
		if (cls == 3) {
			client_protocol_error(c, "3xx reply to RCPT");
			return;
		}
		if (c->mail_failed) {
			/* the RCPT replies say "503 need MAIL": less useful */
			struct smtp_client_reply mr;

			client_result_reply(&c->mailres, &mr);
			client_result_set(r, &mr);
		} else if (cls == 2) {
			r->accepted = true;
			c->accepted++;
		} else
			client_result_set(r, rp);
		break;
	case SMTP_CLIENT_STAGE_DATA:
		c->nrecv++;
		if (rp->code == 354) {
			client_data_go(c);
			return;
		}
		if (cls == 2 || cls == 3) {
			client_protocol_error(c, "unexpected reply to DATA");
			return;
		}
		for (i = 0; i < c->msg->nrcpts; i++)
			if (c->res[i].accepted)
				client_result_set(&c->res[i], rp);
		if (c->mail_failed)
			for (i = 0; i < c->msg->nrcpts; i++)
				if (!c->res[i].done) {
					struct smtp_client_reply mr;

					client_result_reply(&c->mailres, &mr);
					client_result_set(&c->res[i], &mr);
				}
		client_txn_end(c);
		return;
	default:
		fatalx("smtp_client: bad pending kind");
	}
	c->nrecv++;
	if (c->pipelining || c->nrecv < c->nsent)
		return;
	/* one command at a time: the next, or the end without DATA */
	if (c->pend[c->nsent].kind == SMTP_CLIENT_STAGE_DATA &&
	    c->accepted == 0) {
		client_txn_end(c);
		return;
	}
	client_send_pend(c, c->nsent++);
	client_flush(c);
}

static void
client_dot_reply(struct smtp_client *c, const struct smtp_client_reply *rp)
{
	size_t	i;

	if (!c->dot_ignore) {
		if (rp->code / 100 == 3) {
			client_protocol_error(c, "3xx reply after the content");
			return;
		}
		for (i = 0; i < c->msg->nrcpts; i++)
			if (c->res[i].accepted)
				client_result_set(&c->res[i], rp);
	}
	client_txn_end(c);
}

/* A whole reply is in c->reply; more: input follows it in this feed. */
static void
client_dispatch(struct smtp_client *c, bool more)
{
	struct smtp_client_reply	rp;
	int				cls;

	rp.code = c->reply_code;
	memcpy(rp.enhanced, c->reply_enh, sizeof(rp.enhanced));
	rp.text = c->reply.data;
	rp.len = c->reply.len;
	rp.stage = client_stage_of(c);
	rp.local = false;
	cls = rp.code / 100;

	if (c->state == CLIENT_ST_QUIT) {
		client_close(c, &rp);
		return;
	}
	/* §3.8: 421 at any moment means the server is going away */
	if (rp.code == 421) {
		client_close(c, &rp);
		return;
	}
	switch (c->state) {
	case CLIENT_ST_GREETING:
		client_server_name(c);
		if (rp.code == 220)
			client_ehlo(c);
		else if (cls == 4 || cls == 5)
			client_close(c, &rp);	/* §3.1: 554, next host */
		else
			client_protocol_error(c, "bad greeting code");
		break;
	case CLIENT_ST_EHLO:
		if (cls == 2) {
			client_parse_ehlo(c);
			client_after_hello(c);
		} else if (cls == 5) {
			/* §4.1.4: an old server; try HELO */
			client_cmd(c, "HELO %s", c->helo);
			client_flush(c);
			c->state = CLIENT_ST_HELO;
		} else
			client_close(c, &rp);
		break;
	case CLIENT_ST_HELO:
		if (cls == 2) {
			c->ext = 0;
			c->size_limit = 0;
			client_after_hello(c);
		} else
			client_close(c, &rp);
		break;
	case CLIENT_ST_STARTTLS:
		c->tls_tried = true;
		if (rp.code == 220) {
			if (more) {
				/* plaintext injected before the handshake */
				client_protocol_error(c,
				    "data after the STARTTLS reply");
				return;
			}
			c->state = CLIENT_ST_TLS_WAIT;
			c->ops->starttls(c->arg);
		} else if (c->tls == SMTP_CLIENT_TLS_MUST)
			client_close(c, &rp);
		else
			client_after_hello(c);	/* RFC 3207 §4: go on */
		break;
	case CLIENT_ST_AUTH:
		if (rp.code == 235)
			client_ready(c);
		else
			client_close(c, &rp);
		break;
	case CLIENT_ST_TXN:
		client_txn_reply(c, &rp);
		break;
	case CLIENT_ST_DOT:
		client_dot_reply(c, &rp);
		break;
	case CLIENT_ST_READY:
	case CLIENT_ST_BODY:
		/* a reply no command asked for */
		if (cls == 4 || cls == 5)
			client_close(c, &rp);
		else
			client_protocol_error(c, "unexpected reply");
		break;
	case CLIENT_ST_TLS_WAIT:
		client_protocol_error(c, "data after the STARTTLS reply");
		break;
	case CLIENT_ST_QUIT:
	case CLIENT_ST_CLOSED:
		break;
	}
}

size_t
smtp_client_input(struct smtp_client *c, const char *p, size_t len)
{
	size_t		 off = 0, l, i;
	const char	*lf;
	int		 code;
	bool		 last;

	while (off < len) {
		if (c->state == CLIENT_ST_CLOSED)
			return len;
		if (c->state == CLIENT_ST_TLS_WAIT) {
			client_protocol_error(c,
			    "data after the STARTTLS reply");
			return len;
		}
		l = len - off;
		if (l > SMTP_CLIENT_REPLY_LINE_MAX)
			l = SMTP_CLIENT_REPLY_LINE_MAX;
		if ((lf = memchr(p + off, '\n', l)) == NULL) {
			if (l == SMTP_CLIENT_REPLY_LINE_MAX) {
				client_protocol_error(c, "reply line too long");
				return len;
			}
			return off;
		}
		l = (size_t)(lf - (p + off)) + 1;
		if (l < 2 || p[off + l - 2] != '\r') {
			client_protocol_error(c, "reply line without CRLF");
			return len;
		}
		if (client_parse_line(p + off, l - 2, &code, &last) == -1) {
			client_protocol_error(c, "malformed reply line");
			return len;
		}
		if (c->reply_lines == 0) {
			c->reply_code = code;
			client_parse_enh(p + off, l - 2, code, c->reply_enh);
		} else if (code != c->reply_code) {
			client_protocol_error(c,
			    "reply lines with mixed codes");
			return len;
		}
		if (++c->reply_lines > SMTP_CLIENT_REPLY_LINES_MAX) {
			client_protocol_error(c, "reply of too many lines");
			return len;
		}
		if (c->reply.len > 0 && buf_append_char(&c->reply, '\n') == -1)
			fatalx("smtp_client: reply buffer");
		for (i = 0; i < l - 2; i++) {
			unsigned char ch = (unsigned char)p[off + i];

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				ch = '?';
			if (buf_append_char(&c->reply, (char)ch) == -1)
				fatalx("smtp_client: reply buffer");
		}
		off += l;
		if (!last)
			continue;
		client_dispatch(c, off < len);
		c->reply_lines = 0;
		buf_reset(&c->reply);
	}
	return off;
}

void
smtp_client_tls_started(struct smtp_client *c)
{
	if (c->state != CLIENT_ST_TLS_WAIT)
		fatalx("smtp_client: TLS started while not waiting for it");
	/* RFC 3207 §4.2: forget what the server said, ask again */
	c->tls_on = true;
	c->ext = 0;
	c->size_limit = 0;
	client_ehlo(c);
}

bool
smtp_client_wants_body(const struct smtp_client *c)
{
	return c->state == CLIENT_ST_BODY;
}

/*
 * Content into c->out: lines end in CRLF whatever they ended in, and a
 * line that starts with "." gets one more (RFC 5321 §4.5.2).
 */
static void
client_stuff(struct smtp_client *c, const char *p, size_t n)
{
	size_t	i, start = 0;
	char	ch;

	for (i = 0; i < n; i++) {
		ch = p[i];
		if (c->pending_cr) {
			c->pending_cr = false;
			if (buf_append(&c->out, "\r\n", 2) == -1)
				goto full;
			c->line_start = true;
			if (ch == '\n') {
				start = i + 1;
				continue;
			}
		}
		if (ch == '\r' || ch == '\n') {
			if (buf_append(&c->out, p + start, i - start) == -1)
				goto full;
			start = i + 1;
			if (ch == '\r')
				c->pending_cr = true;
			else {
				if (buf_append(&c->out, "\r\n", 2) == -1)
					goto full;
				c->line_start = true;
			}
			continue;
		}
		if (c->line_start) {
			c->line_start = false;
			if (ch == '.') {
				if (buf_append(&c->out, p + start, i - start) ==
				    -1 || buf_append_char(&c->out, '.') == -1)
					goto full;
				start = i;
			}
		}
	}
	if (buf_append(&c->out, p + start, n - start) == -1)
		goto full;
	return;
full:
	fatalx("smtp_client: output full");
}

void
smtp_client_pump(struct smtp_client *c, size_t budget)
{
	ssize_t	n;
	size_t	want;

	while (c->state == CLIENT_ST_BODY && budget > 0) {
		want = budget < CLIENT_CHUNK ? budget : CLIENT_CHUNK;
		n = c->ops->read(c->arg, c->chunk, want);
		if (n < 0) {
			client_close_local(c, 451, "4.3.0",
			    "cannot read the message");
			return;
		}
		if ((size_t)n > want)
			fatalx("smtp_client: read returned too much");
		if (n == 0) {
			if (c->pending_cr) {
				c->pending_cr = false;
				c->line_start = true;
				if (buf_append(&c->out, "\r\n", 2) == -1)
					fatalx("smtp_client: output full");
			}
			/* §4.1.1.4: the content ends with CRLF "." CRLF */
			if (!c->line_start &&
			    buf_append(&c->out, "\r\n", 2) == -1)
				fatalx("smtp_client: output full");
			if (buf_append(&c->out, ".\r\n", 3) == -1)
				fatalx("smtp_client: output full");
			client_flush(c);
			c->state = CLIENT_ST_DOT;
			return;
		}
		client_stuff(c, c->chunk, (size_t)n);
		client_flush(c);
		budget -= (size_t)n;
	}
}

void
smtp_client_quit(struct smtp_client *c)
{
	if (c->state != CLIENT_ST_READY)
		fatalx("smtp_client: QUIT while not ready");
	client_cmd(c, "QUIT");
	client_flush(c);
	c->state = CLIENT_ST_QUIT;
}

void
smtp_client_fail(struct smtp_client *c, const char *why)
{
	struct smtp_client_reply	rp;
	char				text[CLIENT_LOCAL_MAX];

	if (c->state == CLIENT_ST_CLOSED)
		return;
	if (c->state == CLIENT_ST_QUIT) {
		client_local(&rp, text, 221, "2.0.0", SMTP_CLIENT_STAGE_QUIT,
		    why);
		client_close(c, &rp);
		return;
	}
	/* §4.4.2 "bad connection"; after "." the message may have gone */
	client_close_local(c, 421, "4.4.2", why);
}

unsigned
smtp_client_timeout(const struct smtp_client *c)
{
	switch (c->state) {
	/* NOLINTNEXTLINE(bugprone-branch-clone): two RFC timeouts, both 300 */
	case CLIENT_ST_GREETING:
		return CLIENT_TIMEOUT_GREETING;
	case CLIENT_ST_EHLO:
	case CLIENT_ST_HELO:
	case CLIENT_ST_STARTTLS:
	case CLIENT_ST_TLS_WAIT:
	case CLIENT_ST_AUTH:
	case CLIENT_ST_QUIT:
		return CLIENT_TIMEOUT_COMMAND;
	case CLIENT_ST_TXN:
		return client_stage_of(c) == SMTP_CLIENT_STAGE_DATA ?
		    CLIENT_TIMEOUT_DATA : CLIENT_TIMEOUT_COMMAND;
	case CLIENT_ST_BODY:
		return CLIENT_TIMEOUT_BLOCK;
	case CLIENT_ST_DOT:
		return CLIENT_TIMEOUT_DOT;
	case CLIENT_ST_READY:
	case CLIENT_ST_CLOSED:
		break;
	}
	return 0;
}

enum smtp_client_stage
smtp_client_stage(const struct smtp_client *c)
{
	return client_stage_of(c);
}

unsigned
smtp_client_extensions(const struct smtp_client *c)
{
	return c->ext;
}

uint64_t
smtp_client_size_limit(const struct smtp_client *c)
{
	return c->size_limit;
}

bool
smtp_client_tls_on(const struct smtp_client *c)
{
	return c->tls_on;
}

const char *
smtp_client_server_name(const struct smtp_client *c)
{
	return c->server;
}

struct smtp_client *
smtp_client_new(const struct smtp_client_params *params,
    const struct smtp_client_ops *ops, void *arg)
{
	struct smtp_client	*c;

	c = xcalloc(1, sizeof(*c));
	c->ops = ops;
	c->arg = arg;
	if (str_copy(c->helo, sizeof(c->helo), params->helo) == -1)
		fatalx("smtp_client: helo name too long");
	c->tls = params->tls;
	c->tls_on = params->tls_on;
	c->tls_verified = params->tls_verified;
	if (params->auth_user != NULL && params->auth_pass != NULL) {
		c->auth_user = xstrdup(params->auth_user);
		c->auth_pass = xstrdup(params->auth_pass);
	}
	c->auth_plaintext = params->auth_plaintext;
	c->state = CLIENT_ST_GREETING;
	buf_init(&c->reply, CLIENT_REPLY_MAX);
	buf_init(&c->out, CLIENT_OUT_MAX);
	c->chunk = xmalloc(CLIENT_CHUNK);
	return c;
}

void
smtp_client_free(struct smtp_client *c)
{
	if (c == NULL)
		return;
	client_txn_free(c);
	if (c->auth_pass != NULL) {
		explicit_bzero(c->auth_pass, strlen(c->auth_pass));
		free(c->auth_pass);
	}
	free(c->auth_user);
	buf_free(&c->reply);
	buf_free(&c->out);
	free(c->chunk);
	free(c);
}
