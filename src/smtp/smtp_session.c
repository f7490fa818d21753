/*
 * smtp_session: the SMTP server state machine (RFC 5321 with STARTTLS,
 * AUTH, PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES,
 * CHUNKING and DSN).  Run by the smtp role, one per connection, and
 * driven directly by the unit tests and fuzzers.  It trusts its params
 * and the answers its ops deliver (they come from our own roles); it
 * trusts nothing in the bytes it is fed: every line, size and count from
 * the peer is bounded here before it is used or stored.  Pure: no
 * sockets, no clock (params->now), no globals.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "mailaddr.h"
#include "sasl.h"
#include "sasl_server.h"
#include "smtp_msgauth.h"
#include "smtp_session.h"
#include "util.h"

#define SMTP_REPLY_MAX		512	/* reply line incl. CRLF, §4.5.3.1.5 */
#define SMTP_HELO_MAX		255	/* a domain, §4.5.3.1.2 */
#define SMTP_CLIENT_IP_MAX	63	/* "IPv6:" and a full IPv6 text fit */
#define SMTP_TLS_NAME_MAX	127	/* TLS version and cipher names */
#define SMTP_QUEUE_ID_MAX	63	/* the queue's id for a message */
#define SMTP_AUTH_PARAM_MAX	500	/* MAIL AUTH=xtext, RFC 4954 §5 */
#define SMTP_SIZE_DIGITS	20	/* SIZE= and BDAT sizes, in digits */
/*
 * MAIL and RCPT lines: §4.5.3.1.4 lets extensions raise the 512 octets,
 * and ORCPT (500), AUTH= (500), ENVID (100) each do.
 */
#define SMTP_PARAM_LINE_MAX	(SMTP_LINE_MAX + 1024)
#define SMTP_RCPTS_DEFAULT	100	/* max_rcpts 0: §4.5.3.1.8 minimum */
#define SMTP_HEADER_PREFIX	16	/* of each line, to spot "Received:" */
#define SMTP_RECEIVED_BUF	4096	/* our Received: header */

/* What the next input bytes are. */
enum smtp_mode {
	SMTP_MODE_COMMAND,
	SMTP_MODE_AUTH,		/* a SASL response line, RFC 4954 §4 */
	SMTP_MODE_DATA,		/* DATA content lines, §4.1.1.4 */
	SMTP_MODE_BDAT,		/* the octets of a BDAT chunk, RFC 3030 §2 */
};

/* Which *_result() call the session waits for. */
enum smtp_wait {
	SMTP_WAIT_NONE,
	SMTP_WAIT_TLS,
	SMTP_WAIT_AUTH,
	SMTP_WAIT_MAIL,
	SMTP_WAIT_RCPT,
	SMTP_WAIT_DATA_OPEN,
	SMTP_WAIT_MSGAUTH,
	SMTP_WAIT_COMMIT,
};

enum smtp_helo { SMTP_HELO_NONE, SMTP_HELO_HELO, SMTP_HELO_EHLO };

enum smtp_auth_step {
	SMTP_AUTH_STEP_NONE,
	SMTP_AUTH_STEP_PLAIN,		/* waiting for the PLAIN message */
	SMTP_AUTH_STEP_LOGIN_USER,	/* waiting for the user name */
	SMTP_AUTH_STEP_LOGIN_PASS,	/* waiting for the password */
	SMTP_AUTH_STEP_SCRAM,		/* SCRAM, its steps in s->sx */
};

/* Why a message will be refused at its end; the first reason found wins. */
enum smtp_refusal {
	SMTP_REFUSE_NONE,
	SMTP_REFUSE_BARE,	/* bare CR or LF, §2.3.8 */
	SMTP_REFUSE_LONG,	/* text line over 1000 octets, §4.5.3.1.6 */
	SMTP_REFUSE_LOOP,	/* too many Received:, §6.3 */
	SMTP_REFUSE_SIZE,	/* over max_size, RFC 1870 §6.3 */
};

/* Checks over the content of one message, fed in pieces of any size. */
struct smtp_msgcheck {
	size_t			 size;		/* content octets seen */
	size_t			 received;	/* the client's Received: */
	size_t			 linelen;	/* octets of the line, no LF */
	char			 prefix[SMTP_HEADER_PREFIX];
	bool			 in_header;	/* before the empty line */
	bool			 prev_cr;	/* the last octet was CR */
	bool			 line_crlf;	/* last line ended in CRLF */
	enum smtp_refusal	 refusal;
};

/* A reply decided before a BDAT chunk is read, sent after it. */
struct smtp_canned {
	int		 code;		/* 0: none */
	const char	*enh;
	const char	*text;
};

struct smtp_session {
	const struct smtp_session_ops	*ops;
	void				*arg;

	/* params, with the strings copied and made printable */
	enum smtp_kind	 kind;
	char		 hostname[SMTP_HELO_MAX + 1];
	char		 client_ip[SMTP_CLIENT_IP_MAX + 1];
	char		 client_name[SMTP_HELO_MAX + 1];	/* "" unknown */
	char		*local_user;
	bool		 tls_available;
	bool		 plaintext_auth;
	size_t		 max_size;	/* 0: no limit (RFC 1870 "SIZE 0") */
	size_t		 max_rcpts;
	size_t		 max_errors;	/* 0: no limit */
	int64_t		 now;

	/* input */
	enum smtp_mode	 mode;
	enum smtp_wait	 wait;
	bool		 closing;
	bool		 stop_input;	/* STARTTLS: consume nothing more */
	bool		 discarding;	/* inside an overlong line */
	size_t		 errors;
	/*
	 * RFC 2920 §3.1: the command just run must be the last of a group
	 * (its verb), and the first such command input followed
	 * regardless: the client did not wait for the reply.
	 */
	const char	*group_end;
	const char	*pipelined_after;
	bool		 greet_pending;	/* "220-" sent, the pause runs */
	bool		 pregreeted;	/* refused for talking during it */

	/* connection state, forgotten at STARTTLS (RFC 3207 §4.2) */
	enum smtp_helo	 helo;
	char		 helo_name[SMTP_HELO_MAX + 1];
	bool		 tls;
	char		 tls_version[SMTP_TLS_NAME_MAX + 1];
	char		 tls_cipher[SMTP_TLS_NAME_MAX + 1];
	bool		 authenticated;
	char		*auth_user;

	/* an AUTH exchange in progress */
	enum smtp_auth_step auth_step;
	char		*auth_pending;	/* user name being checked */
	size_t		 auth_pending_len;
	struct sasl_server sx;		/* a SCRAM exchange */

	/* the mail transaction */
	bool		 mail_done;
	struct smtp_envelope env;
	size_t		 rcpts_cap;
	struct smtp_rcpt rcpt;		/* the RCPT being checked */
	size_t		 rcpts_refused;
	bool		 spool_open;
	char		 queue_id[SMTP_QUEUE_ID_MAX + 1];
	struct smtp_msgcheck msg;
	struct smtp_msgauth *auth;	/* header fields, body hashes */
	bool		 data_prev_crlf;	/* DATA: at a line after CRLF */
	bool		 data_strip_dot;	/* DATA: drop a dot first */

	/* BDAT (RFC 3030) */
	bool		 bdat_used;
	bool		 bdat_pending;	/* data_open asked for BDAT */
	uint64_t	 bdat_remaining;
	uint64_t	 bdat_size;
	bool		 bdat_last;
	bool		 bdat_discard;
	struct smtp_canned bdat_error;
};

struct smtp_command {
	const char	*verb;
	void		(*fn)(struct smtp_session *, struct span);
};

static void	cmd_ehlo(struct smtp_session *, struct span);
static void	cmd_helo(struct smtp_session *, struct span);
static void	cmd_mail(struct smtp_session *, struct span);
static void	cmd_rcpt(struct smtp_session *, struct span);
static void	cmd_data(struct smtp_session *, struct span);
static void	cmd_bdat(struct smtp_session *, struct span);
static void	cmd_rset(struct smtp_session *, struct span);
static void	cmd_noop(struct smtp_session *, struct span);
static void	cmd_quit(struct smtp_session *, struct span);
static void	cmd_help(struct smtp_session *, struct span);
static void	cmd_vrfy(struct smtp_session *, struct span);
static void	cmd_expn(struct smtp_session *, struct span);
static void	cmd_starttls(struct smtp_session *, struct span);
static void	cmd_auth(struct smtp_session *, struct span);

static const struct smtp_command smtp_commands[] = {
	{ "EHLO",	cmd_ehlo },
	{ "HELO",	cmd_helo },
	{ "MAIL",	cmd_mail },
	{ "RCPT",	cmd_rcpt },
	{ "DATA",	cmd_data },
	{ "BDAT",	cmd_bdat },
	{ "RSET",	cmd_rset },
	{ "NOOP",	cmd_noop },
	{ "QUIT",	cmd_quit },
	{ "HELP",	cmd_help },
	{ "VRFY",	cmd_vrfy },
	{ "EXPN",	cmd_expn },
	{ "STARTTLS",	cmd_starttls },
	{ "AUTH",	cmd_auth },
};

/* Replies */

static void
session_send(struct smtp_session *s, const char *p, size_t len)
{
	/* After 221 or 421 nothing more may be said. */
	if (s->closing)
		return;
	s->ops->reply(s->arg, p, len);
}

static void
session_close(struct smtp_session *s)
{
	if (s->closing)
		return;
	if (s->spool_open) {
		s->spool_open = false;
		s->ops->data_abort(s->arg);
	}
	s->closing = true;
	s->wait = SMTP_WAIT_NONE;
	s->ops->close(s->arg);
}

/* A reply that is not counted and ends the session: 221 or 421. */
static void
session_final(struct smtp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
session_final(struct smtp_session *s, const char *fmt, ...)
{
	char	line[SMTP_REPLY_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	session_send(s, line, (size_t)n);
	session_close(s);
}

/*
 * Every 4xx and 5xx counts toward max_errors; at the limit the session
 * says 421 and closes, which stops a client that probes (RCPT harvesting,
 * AUTH guessing) or is lost.
 */
static void
session_count_error(struct smtp_session *s)
{
	s->errors++;
	if (s->max_errors > 0 && s->errors >= s->max_errors)
		session_final(s, "421 4.7.0 %s Too many errors", s->hostname);
}

/* Send "CODE ENH TEXT", enh may be NULL.  fmt is always our own. */
static void
session_reply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
session_reply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, ...)
{
	char	line[SMTP_REPLY_MAX];
	va_list	ap;
	int	n, m;

	if (enh != NULL && enh[0] != '\0')
		n = snprintf(line, sizeof(line), "%03d %s ", code, enh);
	else
		n = snprintf(line, sizeof(line), "%03d ", code);
	if (n < 0 || (size_t)n >= sizeof(line) - 3)
		fatalx("smtp_session: reply prefix too long");
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - 2 - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	session_send(s, line, (size_t)n);
	if (code >= 400)
		session_count_error(s);
}

/* A refusal decided by another role; code, enh and text are the server's. */
static void
session_reply_result(struct smtp_session *s, int code, const char *enh,
    const char *text, const char *deftext)
{
	char	ebuf[32], tbuf[400];

	if (code < 400 || code > 599)
		fatalx("smtp_session: refusal with code %d", code);
	if (text == NULL || text[0] == '\0')
		text = deftext;
	printable(text, strlen(text), tbuf, sizeof(tbuf));
	if (enh != NULL && enh[0] != '\0') {
		printable(enh, strlen(enh), ebuf, sizeof(ebuf));
		session_reply(s, code, ebuf, "%s", tbuf);
	} else
		session_reply(s, code, NULL, "%s", tbuf);
}

/* Small parsers */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Decode xtext (RFC 3461 §4): xchar is "!" to "~" but "+" and "=", and
 * "+HH" encodes any octet.  The decoded value must be printable ASCII
 * (the ENVID and ORCPT grammars of §4.2 and §4.4 allow nothing else), so
 * it fits a C string.  out gets at most in.len octets and a NUL.
 */
static int
xtext_decode(struct span in, char *out, size_t outsz)
{
	size_t	i, o = 0;
	int	hi, lo;
	char	c;

	if (in.len == 0 || in.len >= outsz)
		return -1;
	for (i = 0; i < in.len; i++) {
		c = in.ptr[i];
		if (c == '+') {
			if (in.len - i < 3)
				return -1;
			hi = hex_digit(in.ptr[i + 1]);
			lo = hex_digit(in.ptr[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
			if (c < 0x20 || c > 0x7e)
				return -1;
		} else if (c < 0x21 || c > 0x7e || c == '=')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Take the next ESMTP parameter "keyword[=value]" (§4.1.2) off *rest.
 * Returns 1 with a parameter, 0 at the end.
 */
static int
next_param(struct span *rest, struct span *key, struct span *val,
    bool *has_val)
{
	struct span	 w;
	const char	*eq;

	if (!span_next_word(rest, &w))
		return 0;
	if ((eq = memchr(w.ptr, '=', w.len)) == NULL) {
		*key = w;
		*val = span_make("", 0);
		*has_val = false;
	} else {
		*key = span_make(w.ptr, (size_t)(eq - w.ptr));
		*val = span_make(eq + 1, w.len - key->len - 1);
		*has_val = true;
	}
	return 1;
}

/* The transaction */

static void
rcpt_clear(struct smtp_rcpt *r)
{
	free(r->orcpt);
	memset(r, 0, sizeof(*r));
}

static void
msg_reset(struct smtp_msgcheck *m)
{
	memset(m, 0, sizeof(*m));
	m->in_header = true;
	m->line_crlf = true;
}

/* Forget the transaction (RSET, EHLO, end of a message), §4.1.1.5. */
static void
txn_reset(struct smtp_session *s)
{
	size_t	i;

	if (s->spool_open) {
		s->spool_open = false;
		s->ops->data_abort(s->arg);
	}
	for (i = 0; i < s->env.nrcpts; i++)
		rcpt_clear(&s->env.rcpts[i]);
	free(s->env.rcpts);
	free(s->env.envid);
	free(s->env.auth);
	memset(&s->env, 0, sizeof(s->env));
	s->rcpts_cap = 0;
	rcpt_clear(&s->rcpt);
	s->mail_done = false;
	s->rcpts_refused = 0;
	s->queue_id[0] = '\0';
	msg_reset(&s->msg);
	smtp_msgauth_free(s->auth);
	s->auth = NULL;
	s->data_prev_crlf = true;
	s->bdat_used = false;
	s->bdat_pending = false;
	s->bdat_size = 0;
}

static void
auth_abort(struct smtp_session *s)
{
	s->auth_step = SMTP_AUTH_STEP_NONE;
	sasl_server_end(&s->sx);
	free(s->auth_pending);
	s->auth_pending = NULL;
	s->auth_pending_len = 0;
	if (s->mode == SMTP_MODE_AUTH)
		s->mode = SMTP_MODE_COMMAND;
}

/* Back to the state of a new connection (RFC 3207 §4.2 after STARTTLS). */
static void
session_reset(struct smtp_session *s)
{
	txn_reset(s);
	auth_abort(s);
	s->mode = SMTP_MODE_COMMAND;
	s->discarding = false;
	s->helo = SMTP_HELO_NONE;
	s->helo_name[0] = '\0';
	free(s->auth_user);
	s->auth_user = NULL;
	s->authenticated = false;
	if (s->kind == SMTP_KIND_LOCAL) {
		/* The socket's peer credentials already name the user. */
		s->authenticated = true;
		if (s->local_user != NULL)
			s->auth_user = xstrdup(s->local_user);
	}
}

static size_t
max_rcpts(const struct smtp_session *s)
{
	return s->max_rcpts > 0 ? s->max_rcpts : SMTP_RCPTS_DEFAULT;
}

static bool
needs_auth(const struct smtp_session *s)
{
	/* RFC 6409 §4.3: submission takes mail only from known users. */
	return (s->kind == SMTP_KIND_SUBMISSION ||
	    s->kind == SMTP_KIND_SUBMISSIONS) && !s->authenticated;
}

static bool
auth_offered(const struct smtp_session *s)
{
	if (s->kind == SMTP_KIND_LOCAL || s->authenticated)
		return false;
	return s->tls || s->plaintext_auth;
}

/*
 * Channel binding, and with it SCRAM-SHA-256-PLUS, is offered over TLS
 * when the connection has binding data of a type we know.
 */
static bool
cb_offered(const struct smtp_session *s)
{
	return s->tls && sasl_cb_available(s->ops->cbind, s->arg);
}

static bool
starttls_offered(const struct smtp_session *s)
{
	return s->tls_available && !s->tls &&
	    s->kind != SMTP_KIND_SUBMISSIONS && s->kind != SMTP_KIND_LOCAL;
}

static void
path_error(struct smtp_session *s, enum mailaddr_error err,
    const char *syntax_enh)
{
	switch (err) {
	case MAILADDR_EUTF8:
		session_reply(s, 553, "5.6.7",
		    "Non-ASCII address needs SMTPUTF8 (RFC 6531)");
		break;
	case MAILADDR_ELOCAL_TOO_LONG:
	case MAILADDR_EDOMAIN_TOO_LONG:
	case MAILADDR_EPATH_TOO_LONG:
		session_reply(s, 501, "5.5.4", "%s", mailaddr_strerror(err));
		break;
	default:
		session_reply(s, 501, syntax_enh, "%s", mailaddr_strerror(err));
		break;
	}
}

/* Skip "FROM:" or "TO:" and the spaces some clients put after it. */
static bool
skip_keyword(struct span *arg, const char *kw)
{
	size_t	n = strlen(kw);

	if (!span_startswith_case(*arg, kw))
		return false;
	arg->ptr += n;
	arg->len -= n;
	while (arg->len > 0 && arg->ptr[0] == ' ') {
		arg->ptr++;
		arg->len--;
	}
	return true;
}

/* Message content checks, shared by DATA and BDAT */

static void
msg_refuse(struct smtp_msgcheck *m, enum smtp_refusal why)
{
	if (m->refusal == SMTP_REFUSE_NONE)
		m->refusal = why;
}

/* "Received" [WSP] ":" at the start of a line, any case (RFC 5322 §3.6.7). */
static bool
is_received(const char *p, size_t len)
{
	size_t	i;

	if (len < 9 || strncasecmp(p, "received", 8) != 0)
		return false;
	for (i = 8; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i < len && p[i] == ':';
}

static void
msg_line_end(struct smtp_msgcheck *m)
{
	size_t	n;

	if (!m->in_header)
		return;
	/* The header section ends at the first empty line (RFC 5322 §2.1). */
	if (m->linelen == 0 || (m->linelen == 1 && m->prefix[0] == '\r')) {
		m->in_header = false;
		return;
	}
	n = m->linelen < sizeof(m->prefix) ? m->linelen : sizeof(m->prefix);
	if (is_received(m->prefix, n) && ++m->received > SMTP_RECEIVED_MAX)
		msg_refuse(m, SMTP_REFUSE_LOOP);
}

/*
 * Check content octets.  Only CRLF ends a line: a CR not followed by LF
 * or an LF not preceded by CR is refused (§2.3.8), since a receiver that
 * treats them differently from the next hop is how SMTP smuggling works.
 */
/* One octet of content. */
static void
msg_scan_octet(struct smtp_msgcheck *m, char c)
{
	if (m->prev_cr && c != '\n')
		msg_refuse(m, SMTP_REFUSE_BARE);
	if (c == '\n') {
		if (!m->prev_cr)
			msg_refuse(m, SMTP_REFUSE_BARE);
		m->line_crlf = m->prev_cr;
		msg_line_end(m);
		m->linelen = 0;
	} else {
		if (m->linelen < sizeof(m->prefix))
			m->prefix[m->linelen] = c;
		if (m->linelen < SIZE_MAX)
			m->linelen++;
		/* §4.5.3.1.6: 1000 octets with the CRLF */
		if (m->linelen >= SMTP_TEXT_LINE_MAX)
			msg_refuse(m, SMTP_REFUSE_LONG);
	}
	m->prev_cr = c == '\r';
}

/*
 * A run of n octets, none of them CR or LF, not after a CR: what
 * msg_scan_octet() would do with each, at once.
 */
static void
msg_scan_run(struct smtp_msgcheck *m, const char *p, size_t n)
{
	size_t	keep;

	if (m->linelen < sizeof(m->prefix)) {
		keep = sizeof(m->prefix) - m->linelen;
		memcpy(m->prefix + m->linelen, p, n < keep ? n : keep);
	}
	if (__builtin_add_overflow(m->linelen, n, &m->linelen))
		m->linelen = SIZE_MAX;
	if (m->linelen >= SMTP_TEXT_LINE_MAX)
		msg_refuse(m, SMTP_REFUSE_LONG);
}

static void
msg_scan(struct smtp_session *s, const char *p, size_t len)
{
	struct smtp_msgcheck	*m = &s->msg;
	const char		*lf, *cr;
	size_t			 i = 0, end;

	if (__builtin_add_overflow(m->size, len, &m->size)) {
		m->size = SIZE_MAX;
		msg_refuse(m, SMTP_REFUSE_SIZE);
	}
	if (s->max_size > 0 && m->size > s->max_size)
		msg_refuse(m, SMTP_REFUSE_SIZE);
	while (i < len) {
		/* The octet after a CR is the one that matters. */
		if (m->prev_cr) {
			msg_scan_octet(m, p[i++]);
			continue;
		}
		/* Up to the next CR or LF, with memchr's speed. */
		lf = memchr(p + i, '\n', len - i);
		end = lf != NULL ? (size_t)(lf - p) : len;
		if ((cr = memchr(p + i, '\r', end - i)) != NULL)
			end = (size_t)(cr - p);
		if (end > i)
			msg_scan_run(m, p + i, end - i);
		if (end < len)
			msg_scan_octet(m, p[end++]);
		i = end;
	}
}

static void
msg_write(struct smtp_session *s, const char *p, size_t len)
{
	msg_scan(s, p, len);
	/* A refused message is swallowed, not stored. */
	if (s->msg.refusal == SMTP_REFUSE_NONE && len > 0)
		smtp_msgauth_input(s->auth, p, len);
}

/* The spool's writer, for smtp_msgauth. */
static void
msg_spool(void *arg, const char *p, size_t len)
{
	struct smtp_session	*s = arg;

	s->ops->data_write(s->arg, p, len);
}

static const char *
received_protocol(const struct smtp_session *s)
{
	/* RFC 3848 §3 and RFC 6531 §3.7.3 "with" protocol types */
	static const char *const esmtp[] = {
		"ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA"
	};
	static const char *const utf8[] = {
		"UTF8SMTP", "UTF8SMTPA", "UTF8SMTPS", "UTF8SMTPSA"
	};
	int	i = (s->authenticated ? 1 : 0) + (s->tls ? 2 : 0);

	if (s->helo != SMTP_HELO_EHLO)
		return "SMTP";
	return s->env.smtputf8 ? utf8[i] : esmtp[i];
}

/* RFC 5322 §3.3 date-time in UTC, from params->now. */
static void
received_date(int64_t now, char *out, size_t outsz)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	tm;
	time_t		t = (time_t)now;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_year > 8099) {
		t = 0;
		(void)gmtime_r(&t, &tm);
	}
	(void)snprintf(out, outsz, "%s, %d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A formatted recipient fit for a header, or false. */
static bool
received_for(const struct smtp_session *s, char *out, size_t outsz)
{
	size_t	i;

	if (s->env.nrcpts != 1 ||
	    mailaddr_format(&s->env.rcpts[0].addr, out, outsz) == -1)
		return false;
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return false;
	return true;
}

/*
 * Our trace header (§4.4).  Every part is bounded (helo and names 255,
 * id 63, TLS names 127, the path 256) and each sits on its own folded
 * line, so no line comes near the 998 octets of RFC 5322 §2.1.1.  It
 * names no user, authenticated or not.
 */
static void
write_received(struct smtp_session *s)
{
	struct buf	b;
	char		date[64], rcpt[MAILADDR_PATH_MAX + 8];
	int		rc = 0;

	received_date(s->now, date, sizeof(date));
	buf_init(&b, SMTP_RECEIVED_BUF);
	rc |= buf_printf(&b, "Received: from %s (%s [%s])\r\n", s->helo_name,
	    s->client_name[0] != '\0' ? s->client_name : "unknown",
	    s->client_ip);
	rc |= buf_printf(&b, "\tby %s (cachet) with %s id %s", s->hostname,
	    received_protocol(s), s->queue_id);
	if (s->tls)
		rc |= buf_printf(&b, "\r\n\t(using %s with cipher %s)",
		    s->tls_version, s->tls_cipher);
	if (received_for(s, rcpt, sizeof(rcpt)))
		rc |= buf_printf(&b, "\r\n\tfor <%s>; %s\r\n", rcpt, date);
	else
		rc |= buf_printf(&b, ";\r\n\t%s\r\n", date);
	if (rc != 0)
		fatalx("smtp_session: Received header too long");
	s->ops->data_write(s->arg, b.data, b.len);
	buf_free(&b);
}

/*
 * The end of a message, by DATA's "." or BDAT LAST: refuse it with the
 * first reason found, or hand it to the queue.
 */
static void
message_end(struct smtp_session *s)
{
	struct smtp_msgcheck	*m = &s->msg;
	struct smtp_msgauth_info info;
	enum smtp_refusal	 why;

	s->mode = SMTP_MODE_COMMAND;
	if (m->prev_cr)
		msg_refuse(m, SMTP_REFUSE_BARE);
	else if (m->linelen > 0 && m->refusal == SMTP_REFUSE_NONE) {
		/* BDAT may end inside a line; the spool holds whole lines. */
		smtp_msgauth_input(s->auth, "\r\n", 2);
	}
	why = m->refusal;
	if (why != SMTP_REFUSE_NONE) {
		txn_reset(s);
		switch (why) {
		case SMTP_REFUSE_BARE:
			session_reply(s, 554, "5.6.0", "Message contains bare "
			    "CR or LF (RFC 5321 section 2.3.8)");
			break;
		case SMTP_REFUSE_LONG:
			session_reply(s, 554, "5.6.0", "Line too long (1000 "
			    "octets max, RFC 5321 section 4.5.3.1.6)");
			break;
		case SMTP_REFUSE_LOOP:
			session_reply(s, 554, "5.4.6",
			    "Too many Received headers: mail loop");
			break;
		default:
			session_reply(s, 552, "5.3.4", "Message size exceeds "
			    "fixed maximum message size");
			break;
		}
		return;
	}
	smtp_msgauth_end(s->auth);
	if (s->ops->msgauth != NULL) {
		/* The spool stays open: a refusal aborts it. */
		smtp_msgauth_info(s->auth, &info);
		s->wait = SMTP_WAIT_MSGAUTH;
		s->ops->msgauth(s->arg, &s->env, &info);
		return;
	}
	s->spool_open = false;
	s->wait = SMTP_WAIT_COMMIT;
	s->ops->data_commit(s->arg, &s->env);
}

/* DATA content */

static void
data_line(struct smtp_session *s, const char *p, size_t n)
{
	/* §4.1.1.4: only CRLF "." CRLF ends the data, never LF "." LF. */
	if (s->data_prev_crlf && n == 3 && memcmp(p, ".\r\n", 3) == 0) {
		message_end(s);
		return;
	}
	/* §4.5.2: drop the dot the client added to a line starting with one */
	if (p[0] == '.') {
		p++;
		n--;
	}
	msg_write(s, p, n);
	s->data_prev_crlf = s->msg.line_crlf;
}

/* BDAT chunks */

static void
bdat_chunk_done(struct smtp_session *s)
{
	struct smtp_canned	e = s->bdat_error;
	uint64_t		n = s->bdat_size;

	s->mode = SMTP_MODE_COMMAND;
	s->bdat_discard = false;
	memset(&s->bdat_error, 0, sizeof(s->bdat_error));
	if (e.code != 0) {
		session_reply(s, e.code, e.enh, "%s", e.text);
		return;
	}
	if (s->bdat_last)
		message_end(s);
	else
		session_reply(s, 250, "2.0.0", "%" PRIu64 " octets received",
		    n);
}

/* Read the chunk's octets; they need not end a line (RFC 3030 §2). */
static size_t
bdat_input(struct smtp_session *s, const char *p, size_t len)
{
	size_t	n = len;

	if (n > s->bdat_remaining)
		n = (size_t)s->bdat_remaining;
	if (!s->bdat_discard)
		msg_write(s, p, n);
	s->bdat_remaining -= n;
	if (s->bdat_remaining == 0)
		bdat_chunk_done(s);
	return n;
}

/* Command and AUTH lines */

/* A line must end in CRLF and hold no other CR (§2.3.8). */
static bool
line_strict(const char *p, size_t n)
{
	return n >= 2 && p[n - 2] == '\r' && memchr(p, '\r', n - 2) == NULL;
}

/*
 * Whether the client must wait for this command's reply before sending
 * more: RFC 2920 §3.1 ends a group with EHLO and DATA (HELO too), and a
 * client never offered PIPELINING (HELO, or no greeting yet) may not
 * pipeline at all.  QUIT, NOOP, VRFY and EXPN also end a group, but the
 * clients that bunch them are harmless; STARTTLS input is dropped.
 */
static bool
pipelining_stops(const struct smtp_session *s,
    /* cppcheck-suppress constParameter ; a command handler's pointer */
    void (*fn)(struct smtp_session *, struct span))
{
	if (fn == cmd_ehlo || fn == cmd_helo || fn == cmd_data)
		return true;
	return s->helo != SMTP_HELO_EHLO && fn != cmd_starttls &&
	    fn != cmd_quit;
}

static void
command_line(struct smtp_session *s, const char *p, size_t n)
{
	struct span	 line, verb, arg;
	const char	*sp;
	size_t		 i;

	if (!line_strict(p, n)) {
		session_reply(s, 500, "5.5.2", "Bare CR or LF in command");
		return;
	}
	line = span_make(p, n - 2);
	if (memchr(line.ptr, '\0', line.len) != NULL) {
		session_reply(s, 500, "5.5.2", "NUL in command");
		return;
	}
	if ((sp = memchr(line.ptr, ' ', line.len)) == NULL) {
		verb = line;
		arg = span_make("", 0);
	} else {
		verb = span_make(line.ptr, (size_t)(sp - line.ptr));
		arg = span_trim(span_make(sp + 1, line.len - verb.len - 1));
	}
	for (i = 0; i < sizeof(smtp_commands) / sizeof(smtp_commands[0]);
	    i++) {
		if (span_caseeq(verb, smtp_commands[i].verb)) {
			if (pipelining_stops(s, smtp_commands[i].fn))
				s->group_end = smtp_commands[i].verb;
			smtp_commands[i].fn(s, arg);
			return;
		}
	}
	if (verb.len == 0)
		session_reply(s, 500, "5.5.2", "Syntax error");
	else
		session_reply(s, 500, "5.5.1", "Command unrecognized");
}

static void	auth_response(struct smtp_session *, struct span);
static void	auth_success(struct smtp_session *);

static void
auth_line(struct smtp_session *s, const char *p, size_t n)
{
	s->mode = SMTP_MODE_COMMAND;
	if (!line_strict(p, n)) {
		auth_abort(s);
		session_reply(s, 501, "5.5.2", "Bare CR or LF in response");
		return;
	}
	auth_response(s, span_make(p, n - 2));
}

/* The longest line allowed where p starts one. */
static size_t
line_limit(const struct smtp_session *s, const char *p, size_t len)
{
	switch (s->mode) {
	case SMTP_MODE_AUTH:
		return SMTP_AUTH_LINE_MAX;
	case SMTP_MODE_DATA:
		/* §4.5.3.1.6: the stuffed dot does not count */
		return p[0] == '.' ? SMTP_TEXT_LINE_MAX + 1 :
		    SMTP_TEXT_LINE_MAX;
	default:
		/* RFC 4954 §4: AUTH with an initial response is longer. */
		if (len >= 5 && strncasecmp(p, "AUTH ", 5) == 0)
			return SMTP_AUTH_LINE_MAX;
		if (len >= 5 && (strncasecmp(p, "MAIL ", 5) == 0 ||
		    strncasecmp(p, "RCPT ", 5) == 0))
			return SMTP_PARAM_LINE_MAX;
		return SMTP_LINE_MAX;
	}
}

/* The end of an overlong line was found: say so once. */
static void
overlong_done(struct smtp_session *s)
{
	switch (s->mode) {
	case SMTP_MODE_DATA:
		/* msg_scan marked the message; the reply comes at its end */
		s->data_prev_crlf = s->msg.line_crlf;
		break;
	case SMTP_MODE_AUTH:
		auth_abort(s);
		session_reply(s, 500, "5.5.2", "Line too long");
		break;
	default:
		session_reply(s, 500, "5.5.2", "Line too long");
		break;
	}
}

/* In DATA an overlong line still goes through the checks, unstored. */
static void
overlong_data(struct smtp_session *s, const char *p, size_t n)
{
	if (s->mode != SMTP_MODE_DATA)
		return;
	if (s->data_strip_dot && n > 0 && p[0] == '.') {
		p++;
		n--;
	}
	s->data_strip_dot = false;
	msg_scan(s, p, n);
}

/*
 * Consume one line, or part of an overlong one.  Returns 0 when p holds
 * only the start of a line that may still fit: the caller feeds it again
 * with more bytes.
 */
static size_t
line_input(struct smtp_session *s, const char *p, size_t len)
{
	size_t	limit, n;
	bool	was_discarding = s->discarding;

	limit = s->discarding ? 1 : line_limit(s, p, len);
	switch (span_line_next(&s->discarding, p, len, limit, &n)) {
	case SPAN_LINE_MORE:
		break;
	case SPAN_LINE_LONG:
		/*
		 * Too long to ever be valid: it cannot be held until its
		 * end, so it is swallowed up to its LF and answered then.
		 * Its first piece may start with a stuffed dot.
		 */
		if (!was_discarding)
			s->data_strip_dot = true;
		overlong_data(s, p, n);
		break;
	case SPAN_LINE_LONG_END:
		overlong_data(s, p, n);
		overlong_done(s);
		break;
	case SPAN_LINE_WHOLE:
		switch (s->mode) {
		case SMTP_MODE_AUTH:
			auth_line(s, p, n);
			break;
		case SMTP_MODE_DATA:
			data_line(s, p, n);
			break;
		default:
			command_line(s, p, n);
			break;
		}
		break;
	}
	return n;
}

/* Commands */

static bool
helo_valid(struct span name)
{
	size_t	i;

	if (name.len == 0 || name.len > SMTP_HELO_MAX)
		return false;
	for (i = 0; i < name.len; i++)
		if (name.ptr[i] < 0x21 || name.ptr[i] > 0x7e)
			return false;
	return true;
}

static void
helo_common(struct smtp_session *s, struct span arg, bool esmtp)
{
	struct buf	 b;
	const char	*kw[12];
	char		 size[40];
	size_t		 nkw = 0, i;
	int		 rc = 0;

	if (!helo_valid(arg)) {
		session_reply(s, 501, "5.5.4", "Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		return;
	}
	/* §4.1.4: EHLO and HELO also reset the transaction */
	txn_reset(s);
	memcpy(s->helo_name, arg.ptr, arg.len);
	s->helo_name[arg.len] = '\0';
	s->helo = esmtp ? SMTP_HELO_EHLO : SMTP_HELO_HELO;
	if (s->ops->helo != NULL)
		s->ops->helo(s->arg, s->helo_name);
	if (!esmtp) {
		session_reply(s, 250, NULL, "%s", s->hostname);
		return;
	}
	(void)snprintf(size, sizeof(size), "SIZE %zu", s->max_size);
	kw[nkw++] = s->hostname;
	kw[nkw++] = "PIPELINING";
	kw[nkw++] = size;
	kw[nkw++] = "8BITMIME";
	kw[nkw++] = "SMTPUTF8";
	kw[nkw++] = "ENHANCEDSTATUSCODES";
	kw[nkw++] = "CHUNKING";
	kw[nkw++] = "DSN";
	if (starttls_offered(s))
		kw[nkw++] = "STARTTLS";
	/* RFC 8689 §3: over TLS only (never in the clear, nor locally) */
	if (s->tls)
		kw[nkw++] = "REQUIRETLS";
	if (auth_offered(s))
		kw[nkw++] = cb_offered(s) ?
		    "AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN LOGIN" :
		    "AUTH SCRAM-SHA-256 PLAIN LOGIN";
	buf_init(&b, SMTP_REPLY_MAX * nkw);
	for (i = 0; i < nkw; i++)
		rc |= buf_printf(&b, "250%c%s\r\n", i + 1 < nkw ? '-' : ' ',
		    kw[i]);
	if (rc != 0)
		fatalx("smtp_session: EHLO reply too long");
	session_send(s, b.data, b.len);
	buf_free(&b);
}

static void
cmd_ehlo(struct smtp_session *s, struct span arg)
{
	helo_common(s, arg, true);
}

static void
cmd_helo(struct smtp_session *s, struct span arg)
{
	helo_common(s, arg, false);
}

/* MAIL parameters as parsed, before they go into the envelope. */
struct mail_params {
	unsigned	seen;
	uint64_t	size;
	enum smtp_body	body;
	bool		smtputf8;
	bool		requiretls;
	enum smtp_ret	ret;
	char		envid[SMTP_ENVID_MAX + 1];
	char		auth[SMTP_AUTH_PARAM_MAX + 1];
};

enum {
	MAIL_P_SIZE = 1 << 0,
	MAIL_P_BODY = 1 << 1,
	MAIL_P_SMTPUTF8 = 1 << 2,
	MAIL_P_RET = 1 << 3,
	MAIL_P_ENVID = 1 << 4,
	MAIL_P_AUTH = 1 << 5,
	MAIL_P_REQUIRETLS = 1 << 6,
};

/* One MAIL parameter; replies and returns -1 when it is refused. */
static int
mail_param(struct smtp_session *s, struct mail_params *mp, struct span key,
    struct span val, bool has_val)
{
	unsigned	bit;
	bool		overflow;

	if (key.len == 0) {
		session_reply(s, 501, "5.5.4", "Invalid parameter");
		return -1;
	}
	if (span_caseeq(key, "SIZE"))
		bit = MAIL_P_SIZE;
	else if (span_caseeq(key, "BODY"))
		bit = MAIL_P_BODY;
	else if (span_caseeq(key, "SMTPUTF8"))
		bit = MAIL_P_SMTPUTF8;
	else if (span_caseeq(key, "RET"))
		bit = MAIL_P_RET;
	else if (span_caseeq(key, "ENVID"))
		bit = MAIL_P_ENVID;
	else if (span_caseeq(key, "AUTH"))
		bit = MAIL_P_AUTH;
	else if (span_caseeq(key, "REQUIRETLS") && s->tls)
		bit = MAIL_P_REQUIRETLS;
	else if (span_caseeq(key, "REQUIRETLS")) {
		/* RFC 8689 §4.1: only on a session that TLS protects */
		session_reply(s, 530, "5.7.10", "REQUIRETLS needs a TLS "
		    "session");
		return -1;
	} else {
		session_reply(s, 555, "5.5.4", "Unsupported parameter");
		return -1;
	}
	if (mp->seen & bit) {
		session_reply(s, 501, "5.5.4", "Duplicate parameter");
		return -1;
	}
	mp->seen |= bit;
	if (bit != MAIL_P_SMTPUTF8 && bit != MAIL_P_REQUIRETLS && !has_val)
		goto bad;
	switch (bit) {
	case MAIL_P_SIZE:
		/* RFC 1870 §6: refuse at once what cannot be taken */
		if (span_to_u64(val, &mp->size, &overflow) == -1)
			goto bad;
		if (overflow ||
		    (s->max_size > 0 && mp->size > (uint64_t)s->max_size)) {
			session_reply(s, 552, "5.3.4", "Message size exceeds "
			    "fixed maximum message size");
			return -1;
		}
		break;
	case MAIL_P_BODY:
		if (span_caseeq(val, "7BIT"))
			mp->body = SMTP_BODY_7BIT;
		else if (span_caseeq(val, "8BITMIME"))
			mp->body = SMTP_BODY_8BITMIME;
		else if (span_caseeq(val, "BINARYMIME")) {
			/* RFC 3030 §3: needs BINARYMIME, which we lack */
			session_reply(s, 555, "5.5.4",
			    "BINARYMIME not supported");
			return -1;
		} else
			goto bad;
		break;
	case MAIL_P_SMTPUTF8:
		/* RFC 6531 §3.4: no value */
		if (has_val)
			goto bad;
		mp->smtputf8 = true;
		break;
	case MAIL_P_REQUIRETLS:
		/* RFC 8689 §3: no value */
		if (has_val)
			goto bad;
		mp->requiretls = true;
		break;
	case MAIL_P_RET:
		if (span_caseeq(val, "FULL"))
			mp->ret = SMTP_RET_FULL;
		else if (span_caseeq(val, "HDRS"))
			mp->ret = SMTP_RET_HDRS;
		else
			goto bad;
		break;
	case MAIL_P_ENVID:
		/* RFC 3461 §4.4: at most 100 characters */
		if (val.len > SMTP_ENVID_MAX ||
		    xtext_decode(val, mp->envid, sizeof(mp->envid)) == -1)
			goto bad;
		break;
	case MAIL_P_AUTH:
		if (val.len > SMTP_AUTH_PARAM_MAX ||
		    xtext_decode(val, mp->auth, sizeof(mp->auth)) == -1)
			goto bad;
		break;
	}
	return 0;
bad:
	session_reply(s, 501, "5.5.4", "Invalid parameter value");
	return -1;
}

static void
cmd_mail(struct smtp_session *s, struct span arg)
{
	struct mail_params	mp;
	struct mailaddr		from;
	struct span		path, rest, key, val;
	enum mailaddr_error	err;
	size_t			used;
	bool			has_val;

	if (s->helo == SMTP_HELO_NONE) {
		session_reply(s, 503, "5.5.1", "Send HELO/EHLO first");
		return;
	}
	if (s->mail_done) {
		session_reply(s, 503, "5.5.1", "Nested MAIL command");
		return;
	}
	if (needs_auth(s)) {
		session_reply(s, 530, "5.7.0", "Authentication required");
		return;
	}
	if (!skip_keyword(&arg, "FROM:")) {
		session_reply(s, 501, "5.5.2", "Syntax: MAIL FROM:<address>");
		return;
	}
	path = arg;
	/* Find where the path ends first: SMTPUTF8 may come after it. */
	err = mailaddr_parse_path(path.ptr, path.len, true, true, &from,
	    &used);
	if (err != MAILADDR_OK) {
		path_error(s, err, "5.1.7");
		return;
	}
	/* <Postmaster> without a domain is only a Forward-path (§4.1.1.3) */
	if (!from.is_null && from.domain[0] == '\0') {
		session_reply(s, 501, "5.1.7", "Bad sender address syntax");
		return;
	}
	rest = span_make(path.ptr + used, path.len - used);
	if (rest.len > 0 && rest.ptr[0] != ' ') {
		session_reply(s, 501, "5.5.2", "Syntax: MAIL FROM:<address>");
		return;
	}
	memset(&mp, 0, sizeof(mp));
	while (next_param(&rest, &key, &val, &has_val) == 1)
		if (mail_param(s, &mp, key, val, has_val) == -1)
			return;
	if (!mp.smtputf8) {
		err = mailaddr_parse_path(path.ptr, path.len, true, false,
		    &from, &used);
		if (err != MAILADDR_OK) {
			path_error(s, err, "5.1.7");
			return;
		}
	}
	s->env.from = from;
	s->env.size = mp.size > SIZE_MAX ? SIZE_MAX : (size_t)mp.size;
	s->env.body = mp.body;
	s->env.smtputf8 = mp.smtputf8;
	s->env.requiretls = mp.requiretls;
	s->env.ret = mp.ret;
	if (mp.seen & MAIL_P_ENVID)
		s->env.envid = xstrdup(mp.envid);
	/*
	 * RFC 4954 §5: from a client we have not authenticated the value
	 * cannot be trusted, and we must act as if AUTH=<> was given.
	 */
	if (mp.seen & MAIL_P_AUTH)
		s->env.auth = xstrdup(s->authenticated ? mp.auth : "<>");
	s->wait = SMTP_WAIT_MAIL;
	s->ops->mail(s->arg, &s->env);
}

/* NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY (RFC 3461 §4.1). */
static int
parse_notify(struct span val, unsigned *out)
{
	struct span	 item;
	const char	*comma;
	unsigned	 bits = 0;

	for (;;) {
		comma = memchr(val.ptr, ',', val.len);
		item = span_make(val.ptr,
		    comma ? (size_t)(comma - val.ptr) : val.len);
		if (span_caseeq(item, "NEVER"))
			bits |= SMTP_NOTIFY_NEVER;
		else if (span_caseeq(item, "SUCCESS"))
			bits |= SMTP_NOTIFY_SUCCESS;
		else if (span_caseeq(item, "FAILURE"))
			bits |= SMTP_NOTIFY_FAILURE;
		else if (span_caseeq(item, "DELAY"))
			bits |= SMTP_NOTIFY_DELAY;
		else
			return -1;
		if (comma == NULL)
			break;
		val = span_make(comma + 1, val.len - item.len - 1);
	}
	if ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER)
		return -1;
	*out = bits;
	return 0;
}

/* ORCPT=addr-type;xtext (RFC 3461 §4.2), kept as "type;decoded". */
static int
parse_orcpt(struct span val, char **out)
{
	char		 buf[SMTP_ORCPT_MAX + 1];
	const char	*semi;
	size_t		 tlen, i;

	if (val.len > SMTP_ORCPT_MAX ||
	    (semi = memchr(val.ptr, ';', val.len)) == NULL)
		return -1;
	tlen = (size_t)(semi - val.ptr);
	if (tlen == 0)
		return -1;
	for (i = 0; i < tlen; i++)
		if (!(is_digit(val.ptr[i]) || val.ptr[i] == '-' ||
		    (val.ptr[i] >= 'a' && val.ptr[i] <= 'z') ||
		    (val.ptr[i] >= 'A' && val.ptr[i] <= 'Z')))
			return -1;
	memcpy(buf, val.ptr, tlen + 1);
	if (xtext_decode(span_make(semi + 1, val.len - tlen - 1),
	    buf + tlen + 1, sizeof(buf) - tlen - 1) == -1)
		return -1;
	*out = xstrdup(buf);
	return 0;
}

static void
cmd_rcpt(struct smtp_session *s, struct span arg)
{
	struct smtp_rcpt	r;
	struct span		rest, key, val;
	enum mailaddr_error	err;
	size_t			used;
	bool			has_val, seen_notify = false;

	if (!s->mail_done) {
		session_reply(s, 503, "5.5.1", "Need MAIL command");
		return;
	}
	if (!skip_keyword(&arg, "TO:")) {
		session_reply(s, 501, "5.5.2", "Syntax: RCPT TO:<address>");
		return;
	}
	memset(&r, 0, sizeof(r));
	err = mailaddr_parse_path(arg.ptr, arg.len, false, s->env.smtputf8,
	    &r.addr, &used);
	if (err != MAILADDR_OK) {
		path_error(s, err, "5.1.3");
		return;
	}
	rest = span_make(arg.ptr + used, arg.len - used);
	if (rest.len > 0 && rest.ptr[0] != ' ') {
		session_reply(s, 501, "5.5.2", "Syntax: RCPT TO:<address>");
		return;
	}
	while (next_param(&rest, &key, &val, &has_val) == 1) {
		if (key.len == 0)
			goto bad;
		if (span_caseeq(key, "NOTIFY")) {
			if (seen_notify)
				goto duplicate;
			seen_notify = true;
			if (!has_val || parse_notify(val, &r.notify) == -1)
				goto bad;
		} else if (span_caseeq(key, "ORCPT")) {
			if (r.orcpt != NULL)
				goto duplicate;
			if (!has_val || parse_orcpt(val, &r.orcpt) == -1)
				goto bad;
		} else {
			rcpt_clear(&r);
			session_reply(s, 555, "5.5.4", "Unsupported parameter");
			return;
		}
	}
	if (s->env.nrcpts >= max_rcpts(s)) {
		rcpt_clear(&r);
		/* §4.5.3.1.10: the client sends the rest in a new message */
		session_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	s->rcpt = r;
	s->wait = SMTP_WAIT_RCPT;
	s->ops->rcpt(s->arg, &s->env, &s->rcpt);
	return;
duplicate:
	rcpt_clear(&r);
	session_reply(s, 501, "5.5.4", "Duplicate parameter");
	return;
bad:
	rcpt_clear(&r);
	session_reply(s, 501, "5.5.4", "Invalid parameter value");
}

/* The checks DATA and BDAT share; replies and returns -1 on failure. */
static int
data_ready(struct smtp_session *s, struct smtp_canned *e)
{
	if (!s->mail_done) {
		*e = (struct smtp_canned){ 503, "5.5.1", "Need MAIL command" };
		return -1;
	}
	if (s->env.nrcpts == 0) {
		if (s->rcpts_refused > 0)
			*e = (struct smtp_canned){ 554, "5.5.1",
			    "No valid recipients" };
		else
			*e = (struct smtp_canned){ 503, "5.5.1",
			    "Need RCPT command" };
		return -1;
	}
	return 0;
}

static void
cmd_data(struct smtp_session *s, struct span arg)
{
	struct smtp_canned	e;

	if (arg.len > 0) {
		session_reply(s, 501, "5.5.4", "Syntax: DATA");
		return;
	}
	if (data_ready(s, &e) == -1) {
		session_reply(s, e.code, e.enh, "%s", e.text);
		return;
	}
	if (s->bdat_used) {
		/* RFC 3030 §2: DATA and BDAT do not mix in a transaction */
		session_reply(s, 503, "5.5.1", "DATA after BDAT");
		return;
	}
	s->bdat_pending = false;
	s->wait = SMTP_WAIT_DATA_OPEN;
	s->ops->data_open(s->arg);
}

/* Read the chunk now and send e after it. */
static void
bdat_refuse(struct smtp_session *s, const struct smtp_canned *e)
{
	s->bdat_error = *e;
	s->bdat_discard = true;
	s->mode = SMTP_MODE_BDAT;
	if (s->bdat_remaining == 0)
		bdat_chunk_done(s);
}

static void
cmd_bdat(struct smtp_session *s, struct span arg)
{
	struct smtp_canned	 e;
	struct span		 wsize, wlast, wmore;
	uint64_t		 n, total;
	bool			 overflow, last = false;

	if (!span_next_word(&arg, &wsize) ||
	    span_to_u64(wsize, &n, &overflow) == -1 || overflow)
		goto syntax;
	if (span_next_word(&arg, &wlast)) {
		if (!span_caseeq(wlast, "LAST") || span_next_word(&arg, &wmore))
			goto syntax;
		last = true;
	}
	/*
	 * From here the size is known, so the chunk is read whatever the
	 * answer: its octets must never be taken for commands (RFC 3030 §2).
	 */
	s->bdat_remaining = n;
	s->bdat_size = n;
	s->bdat_last = last;
	if (data_ready(s, &e) == -1) {
		bdat_refuse(s, &e);
		return;
	}
	if (__builtin_add_overflow((uint64_t)s->msg.size, n, &total) ||
	    (s->max_size > 0 && total > (uint64_t)s->max_size)) {
		txn_reset(s);
		e = (struct smtp_canned){ 552, "5.3.4",
		    "Message size exceeds fixed maximum message size" };
		bdat_refuse(s, &e);
		return;
	}
	s->bdat_used = true;
	if (!s->spool_open) {
		s->bdat_pending = true;
		s->wait = SMTP_WAIT_DATA_OPEN;
		s->ops->data_open(s->arg);
		return;
	}
	s->bdat_discard = false;
	s->mode = SMTP_MODE_BDAT;
	if (n == 0)
		bdat_chunk_done(s);
	return;
syntax:
	/* Without a size nothing can be skipped; the rest reads as commands. */
	session_reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
}

static void
cmd_rset(struct smtp_session *s, struct span arg)
{
	if (arg.len > 0) {
		session_reply(s, 501, "5.5.4", "Syntax: RSET");
		return;
	}
	txn_reset(s);
	session_reply(s, 250, "2.0.0", "Ok");
}

static void
cmd_noop(struct smtp_session *s, struct span arg)
{
	session_reply(s, 250, "2.0.0", "Ok");
}

static void
cmd_quit(struct smtp_session *s, struct span arg)
{
	session_final(s, "221 2.0.0 Bye");
}

static void
cmd_help(struct smtp_session *s, struct span arg)
{
	session_reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA "
	    "BDAT RSET NOOP QUIT HELP VRFY STARTTLS AUTH");
}

static void
cmd_vrfy(struct smtp_session *s, struct span arg)
{
	if (arg.len == 0) {
		session_reply(s, 501, "5.5.4", "Syntax: VRFY address");
		return;
	}
	/* §3.5.3: neither confirm nor deny, so users cannot be harvested */
	session_reply(s, 252, "2.5.2",
	    "Cannot VRFY user, but will accept message and attempt delivery");
}

static void
cmd_expn(struct smtp_session *s, struct span arg)
{
	session_reply(s, 502, "5.5.1", "EXPN not available");
}

static void
cmd_starttls(struct smtp_session *s, struct span arg)
{
	if (arg.len > 0) {
		session_reply(s, 501, "5.5.4", "Syntax: STARTTLS");
		return;
	}
	if (s->tls) {
		session_reply(s, 503, "5.5.1", "TLS already active");
		return;
	}
	if (!starttls_offered(s)) {
		session_reply(s, 454, "4.7.0", "TLS not available");
		return;
	}
	if (s->helo != SMTP_HELO_EHLO) {
		session_reply(s, 503, "5.5.1", "Send EHLO first");
		return;
	}
	if (s->mail_done) {
		session_reply(s, 503, "5.5.1", "Mail transaction in progress");
		return;
	}
	session_reply(s, 220, "2.0.0", "Ready to start TLS");
	/*
	 * Nothing the client sent after STARTTLS in the clear may be read
	 * as if it came over TLS (RFC 3207 §5, CVE-2011-0411): input stops
	 * here and the server discards what it holds.
	 */
	s->wait = SMTP_WAIT_TLS;
	s->stop_input = true;
	s->ops->starttls(s->arg);
}

/* Hand user and password to the lookup role; the copy is wiped after. */
static void
auth_check(struct smtp_session *s, struct span user, struct span pass)
{
	char	 pbuf[SASL_FIELD_MAX + 1];
	char	*u;


	/* user may point into auth_pending: copy before freeing */
	u = xstrndup(user.ptr, user.len);
	s->auth_step = SMTP_AUTH_STEP_NONE;
	free(s->auth_pending);
	s->auth_pending = u;
	s->auth_pending_len = user.len;
	memcpy(pbuf, pass.ptr, pass.len);
	pbuf[pass.len] = '\0';
	s->wait = SMTP_WAIT_AUTH;
	s->ops->auth(s->arg, s->auth_pending, pbuf);
	explicit_bzero(pbuf, sizeof(pbuf));
}

/* SCRAM-SHA-256 (RFC 5802, RFC 7677): the steps between the lines. */

/* "334 " and base64 of a server message (RFC 4954 §4), built by sx. */
static void
scram_send(struct smtp_session *s, const char *line, size_t len)
{
	s->mode = SMTP_MODE_AUTH;
	session_send(s, line, len);
}

static void
scram_step(struct smtp_session *s, struct span d)
{
	const char	*why;

	switch (sasl_server_scram_input(&s->sx, d, s->ops->cbind, s->arg,
	    &why)) {
	case SASL_SERVER_ASK_SALT:
		free(s->auth_pending);
		s->auth_pending = xstrdup(sasl_server_user(&s->sx));
		s->auth_pending_len = strlen(s->auth_pending);
		s->wait = SMTP_WAIT_AUTH;
		s->ops->scram_salt(s->arg, s->auth_pending);
		break;
	case SASL_SERVER_ASK_PROOF:
		s->wait = SMTP_WAIT_AUTH;
		s->ops->scram_proof(s->arg, s->auth_pending,
		    sasl_server_auth_message(&s->sx),
		    sasl_server_proof(&s->sx));
		break;
	case SASL_SERVER_LOGGED_IN:
		auth_success(s);
		break;
	case SASL_SERVER_MALFORMED:
		/* 501 malformed, 535 refused */
		auth_abort(s);
		session_reply(s, 501, "5.5.2", "Malformed SCRAM message: %s",
		    why);
		break;
	case SASL_SERVER_REFUSED:
		auth_abort(s);
		session_reply(s, 535, "5.7.8", "Authentication failed: %s",
		    why);
		break;
	case SASL_SERVER_FAILED:
		auth_abort(s);
		session_reply(s, 535, "5.7.8",
		    "Authentication credentials invalid");
		break;
	}
}

/* RFC 4616 §2: [authzid] NUL authcid NUL passwd */
static void
auth_plain(struct smtp_session *s, const char *p, size_t len)
{
	struct span	authc, pass;

	switch (sasl_plain_parse(p, len, &authc, &pass)) {
	case SASL_PLAIN_OK:
		auth_check(s, authc, pass);
		return;
	case SASL_PLAIN_AUTHZID:
		auth_abort(s);
		session_reply(s, 535, "5.7.8",
		    "Authentication credentials invalid");
		return;
	case SASL_PLAIN_MALFORMED:
		break;
	}
	auth_abort(s);
	session_reply(s, 501, "5.5.2", "Malformed PLAIN response");
}

static void
auth_response(struct smtp_session *s, struct span resp)
{
	unsigned char	*dec = NULL;
	size_t		 declen = 0;
	struct span	 d;

	switch (sasl_server_decode(resp, &dec, &declen)) {
	case SASL_SERVER_RESP_CANCEL:
		/* RFC 4954 §4 */
		auth_abort(s);
		session_reply(s, 501, "5.0.0", "Authentication cancelled");
		return;
	case SASL_SERVER_RESP_BAD:
		auth_abort(s);
		session_reply(s, 501, "5.5.2", "Invalid base64 data");
		return;
	case SASL_SERVER_RESP_DATA:
		break;
	}
	d = span_make((const char *)dec, declen);
	switch (s->auth_step) {
	case SMTP_AUTH_STEP_PLAIN:
		auth_plain(s, d.ptr, d.len);
		break;
	case SMTP_AUTH_STEP_LOGIN_USER:
		if (!sasl_user_valid(d)) {
			auth_abort(s);
			session_reply(s, 501, "5.5.2", "Invalid user name");
			break;
		}
		free(s->auth_pending);
		s->auth_pending = xstrndup(d.ptr, d.len);
		s->auth_pending_len = d.len;
		s->auth_step = SMTP_AUTH_STEP_LOGIN_PASS;
		s->mode = SMTP_MODE_AUTH;
		/* "Password:" */
		session_send(s, "334 UGFzc3dvcmQ6\r\n", 18);
		break;
	case SMTP_AUTH_STEP_LOGIN_PASS:
		if (!sasl_pass_valid(d)) {
			auth_abort(s);
			session_reply(s, 501, "5.5.2", "Invalid password");
			break;
		}
		auth_check(s, span_make(s->auth_pending,
		    s->auth_pending_len), d);
		break;
	case SMTP_AUTH_STEP_SCRAM:
		scram_step(s, d);
		break;
	default:
		fatalx("smtp_session: AUTH response without exchange");
	}
	sasl_server_resp_free(dec, declen);
}

static void
cmd_auth(struct smtp_session *s, struct span arg)
{
	struct span	mech, ir, more;
	bool		has_ir, plus;

	if (s->kind == SMTP_KIND_LOCAL || s->authenticated) {
		session_reply(s, 503, "5.5.1", "Already authenticated");
		return;
	}
	if (s->helo != SMTP_HELO_EHLO) {
		session_reply(s, 503, "5.5.1", "Send EHLO first");
		return;
	}
	if (s->mail_done) {
		/* RFC 4954 §4: not during a mail transaction */
		session_reply(s, 503, "5.5.1",
		    "AUTH not allowed during a mail transaction");
		return;
	}
	if (!s->tls && !s->plaintext_auth) {
		/* RFC 4954 §4 and §14: no password in the clear */
		session_reply(s, 530, "5.7.0",
		    "Must issue a STARTTLS command first");
		return;
	}
	if (!span_next_word(&arg, &mech)) {
		session_reply(s, 501, "5.5.4",
		    "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	has_ir = span_next_word(&arg, &ir);
	if (has_ir && span_next_word(&arg, &more)) {
		session_reply(s, 501, "5.5.4",
		    "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (span_caseeq(mech, "PLAIN"))
		s->auth_step = SMTP_AUTH_STEP_PLAIN;
	else if (span_caseeq(mech, "LOGIN"))
		s->auth_step = SMTP_AUTH_STEP_LOGIN_USER;
	else if ((plus = span_caseeq(mech, "SCRAM-SHA-256-PLUS") &&
	    cb_offered(s)) || span_caseeq(mech, "SCRAM-SHA-256")) {
		s->auth_step = SMTP_AUTH_STEP_SCRAM;
		sasl_server_scram_begin(&s->sx, plus, cb_offered(s));
	} else {
		session_reply(s, 504, "5.5.4",
		    "Unrecognized authentication type");
		return;
	}
	if (has_ir) {
		auth_response(s, ir);
		return;
	}
	s->mode = SMTP_MODE_AUTH;
	if (s->auth_step == SMTP_AUTH_STEP_PLAIN ||
	    s->auth_step == SMTP_AUTH_STEP_SCRAM)
		session_send(s, "334 \r\n", 6);
	else	/* "Username:" */
		session_send(s, "334 VXNlcm5hbWU6\r\n", 18);
}

/* The interface */

static void
copy_printable(char *dst, size_t dstsz, const char *src)
{
	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	printable(src, strnlen(src, dstsz * 2), dst, dstsz);
}

struct smtp_session *
smtp_session_new(const struct smtp_params *params,
    const struct smtp_session_ops *ops, void *arg)
{
	struct smtp_session	*s;

	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->arg = arg;
	s->kind = params->kind;
	copy_printable(s->hostname, sizeof(s->hostname), params->hostname);
	copy_printable(s->client_ip, sizeof(s->client_ip), params->client_ip);
	copy_printable(s->client_name, sizeof(s->client_name),
	    params->client_name);
	if (params->local_user != NULL)
		s->local_user = xstrdup(params->local_user);
	s->tls_available = params->tls_available;
	s->plaintext_auth = params->plaintext_auth;
	s->max_size = params->max_size;
	s->max_rcpts = params->max_rcpts;
	s->max_errors = params->max_errors;
	s->now = params->now;
	session_reset(s);
	return s;
}

void
smtp_session_start(struct smtp_session *s)
{
	s->greet_pending = false;
	session_reply(s, 220, NULL, "%s ESMTP cachet", s->hostname);
}

void
smtp_session_start_paused(struct smtp_session *s)
{
	char	line[SMTP_REPLY_MAX];
	int	n;

	n = snprintf(line, sizeof(line), "220-%s ESMTP cachet\r\n",
	    s->hostname);
	if (n < 0 || (size_t)n >= sizeof(line))
		fatalx("smtp_session: greeting too long");
	session_send(s, line, (size_t)n);
	s->greet_pending = true;
}

void
smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	/* A message in progress is dropped with the connection. */
	txn_reset(s);
	auth_abort(s);
	free(s->auth_user);
	free(s->local_user);
	free(s);
}

size_t
smtp_session_input(struct smtp_session *s, const char *p, size_t len)
{
	size_t	off = 0, n;

	/*
	 * §3.1: the client waits for the greeting.  One that talks first
	 * is a spam engine that does not read (Postfix postscreen's
	 * pregreet test); 554 is the refusal at connection time (§4.3.2).
	 */
	if (s->greet_pending && len > 0 && !s->closing) {
		s->pregreeted = true;
		session_final(s, "554 5.7.1 %s Protocol error: you talked "
		    "before the greeting", s->hostname);
		return len;
	}
	while (off < len && !s->closing && s->wait == SMTP_WAIT_NONE &&
	    !s->stop_input) {
		if (s->mode == SMTP_MODE_BDAT)
			n = bdat_input(s, p + off, len - off);
		else
			n = line_input(s, p + off, len - off);
		/* more input already here: sent before the reply */
		if (s->group_end != NULL && off + n < len && !s->closing &&
		    !s->stop_input && s->pipelined_after == NULL)
			s->pipelined_after = s->group_end;
		s->group_end = NULL;
		if (n == 0)
			break;
		off += n;
	}
	s->stop_input = false;
	/* Once closing, input is ignored: say it was taken. */
	return s->closing ? len : off;
}

bool
smtp_session_waiting(const struct smtp_session *s)
{
	return s->wait != SMTP_WAIT_NONE;
}

bool
smtp_session_closing(const struct smtp_session *s)
{
	return s->closing;
}

bool
smtp_session_in_data(const struct smtp_session *s)
{
	return s->mode == SMTP_MODE_DATA || s->mode == SMTP_MODE_BDAT;
}

void
smtp_session_tls_started(struct smtp_session *s, const char *version,
    const char *cipher)
{
	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_NONE && s->wait != SMTP_WAIT_TLS)
		fatalx("smtp_session: TLS started while waiting");
	s->wait = SMTP_WAIT_NONE;
	/* RFC 3207 §4.2: discard all knowledge obtained from the client */
	session_reset(s);
	s->tls = true;
	copy_printable(s->tls_version, sizeof(s->tls_version), version);
	copy_printable(s->tls_cipher, sizeof(s->tls_cipher), cipher);
}

static void
auth_success(struct smtp_session *s)
{
	s->authenticated = true;
	free(s->auth_user);
	s->auth_user = s->auth_pending;
	s->auth_pending = NULL;
	s->auth_pending_len = 0;
	auth_abort(s);
	session_reply(s, 235, "2.7.0", "Authentication successful");
}

/* A SCRAM answer that is not OK. */
static void
scram_failed(struct smtp_session *s, enum smtp_auth_result r)
{
	auth_abort(s);
	if (r == SMTP_AUTH_TEMPFAIL)
		session_reply(s, 454, "4.7.0",
		    "Temporary authentication failure");
	else
		session_reply(s, 535, "5.7.8",
		    "Authentication credentials invalid");
}

void
smtp_session_scram_challenge(struct smtp_session *s, enum smtp_auth_result r,
    const struct sasl_scram_challenge *ch)
{
	char	line[SASL_CHALLENGE_LINE_MAX];
	size_t	len;

	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_AUTH || !sasl_server_waiting_salt(&s->sx))
		fatalx("smtp_session: unexpected SCRAM challenge");
	s->wait = SMTP_WAIT_NONE;
	if (r != SMTP_AUTH_OK) {
		scram_failed(s, SMTP_AUTH_TEMPFAIL);
		return;
	}
	if ((len = sasl_server_scram_challenge(&s->sx, ch, "334 ",
	    line)) == 0)
		fatalx("smtp_session: SCRAM challenge out of bounds");
	scram_send(s, line, len);
}

void
smtp_session_scram_result(struct smtp_session *s, enum smtp_auth_result r,
    const unsigned char *sig)
{
	char	line[SASL_CHALLENGE_LINE_MAX];

	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_AUTH || !sasl_server_waiting_proof(&s->sx))
		fatalx("smtp_session: unexpected SCRAM result");
	s->wait = SMTP_WAIT_NONE;
	if (r != SMTP_AUTH_OK) {
		scram_failed(s, r);
		return;
	}
	scram_send(s, line, sasl_server_scram_signature(&s->sx, sig, "334 ",
	    line));
}

void
smtp_session_auth_result(struct smtp_session *s, enum smtp_auth_result r)
{
	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_AUTH || s->auth_step != SMTP_AUTH_STEP_NONE)
		fatalx("smtp_session: unexpected AUTH result");
	s->wait = SMTP_WAIT_NONE;
	switch (r) {
	case SMTP_AUTH_OK:
		auth_success(s);
		break;
	case SMTP_AUTH_TEMPFAIL:
		auth_abort(s);
		session_reply(s, 454, "4.7.0",
		    "Temporary authentication failure");
		break;
	default:
		auth_abort(s);
		session_reply(s, 535, "5.7.8",
		    "Authentication credentials invalid");
		break;
	}
}

void
smtp_session_mail_result(struct smtp_session *s, int code,
    const char *enhanced, const char *text)
{
	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_MAIL)
		fatalx("smtp_session: unexpected MAIL result");
	s->wait = SMTP_WAIT_NONE;
	if (code == 250) {
		s->mail_done = true;
		session_reply(s, 250, "2.1.0", "Ok");
		return;
	}
	txn_reset(s);
	session_reply_result(s, code, enhanced, text, "Sender refused");
}

void
smtp_session_rcpt_result(struct smtp_session *s, int code,
    const char *enhanced, const char *text)
{
	size_t	ncap;

	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_RCPT)
		fatalx("smtp_session: unexpected RCPT result");
	s->wait = SMTP_WAIT_NONE;
	if (code != 250) {
		rcpt_clear(&s->rcpt);
		s->rcpts_refused++;
		session_reply_result(s, code, enhanced, text,
		    "Recipient refused");
		return;
	}
	if (s->env.nrcpts == s->rcpts_cap) {
		/* bounded by max_rcpts, checked before asking */
		ncap = s->rcpts_cap > 0 ? s->rcpts_cap * 2 : 4;
		if (ncap > max_rcpts(s))
			ncap = max_rcpts(s);
		s->env.rcpts = xrealloc(s->env.rcpts,
		    ncap * sizeof(*s->env.rcpts));
		s->rcpts_cap = ncap;
	}
	s->env.rcpts[s->env.nrcpts++] = s->rcpt;
	memset(&s->rcpt, 0, sizeof(s->rcpt));
	session_reply(s, 250, "2.1.5", "Ok");
}

void
smtp_session_data_open_result(struct smtp_session *s, bool ok,
    const char *id)
{
	struct smtp_canned	e;

	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_DATA_OPEN)
		fatalx("smtp_session: unexpected data_open result");
	s->wait = SMTP_WAIT_NONE;
	if (!ok) {
		e = (struct smtp_canned){ 451, "4.3.0",
		    "Local error in processing" };
		if (s->bdat_pending) {
			txn_reset(s);
			bdat_refuse(s, &e);
		} else
			session_reply(s, e.code, e.enh, "%s", e.text);
		return;
	}
	s->spool_open = true;
	copy_printable(s->queue_id, sizeof(s->queue_id), id);
	msg_reset(&s->msg);
	write_received(s);
	s->auth = smtp_msgauth_new(s->hostname, s->kind == SMTP_KIND_MX &&
	    !s->authenticated, msg_spool, s);
	if (s->bdat_pending) {
		s->bdat_pending = false;
		s->bdat_discard = false;
		s->mode = SMTP_MODE_BDAT;
		if (s->bdat_remaining == 0)
			bdat_chunk_done(s);
		return;
	}
	s->data_prev_crlf = true;
	s->mode = SMTP_MODE_DATA;
	session_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

void
smtp_session_commit_result(struct smtp_session *s, int code,
    const char *enhanced, const char *text)
{
	char	id[SMTP_QUEUE_ID_MAX + 1];

	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_COMMIT)
		fatalx("smtp_session: unexpected commit result");
	s->wait = SMTP_WAIT_NONE;
	memcpy(id, s->queue_id, sizeof(id));
	/* §4.1.1.4: the transaction ends here whatever the outcome */
	txn_reset(s);
	if (code == 250)
		session_reply(s, 250, "2.0.0", "Ok: queued as %s", id);
	else
		session_reply_result(s, code, enhanced, text,
		    "Local error in processing");
}

void
smtp_session_msgauth_result(struct smtp_session *s, int code,
    const char *enhanced, const char *text)
{
	if (s->closing)
		return;
	if (s->wait != SMTP_WAIT_MSGAUTH)
		fatalx("smtp_session: unexpected msgauth result");
	s->wait = SMTP_WAIT_NONE;
	if (code == 250) {
		s->spool_open = false;
		s->wait = SMTP_WAIT_COMMIT;
		s->ops->data_commit(s->arg, &s->env);
		return;
	}
	/* §4.1.1.4: the transaction ends; the spool file is dropped */
	txn_reset(s);
	session_reply_result(s, code, enhanced, text, "Message refused");
}

void
smtp_session_timeout(struct smtp_session *s)
{
	if (s->closing)
		return;
	session_final(s, "421 4.4.2 %s Error: timeout exceeded", s->hostname);
}

const char *
smtp_session_helo(const struct smtp_session *s)
{
	return s->helo_name;
}

bool
smtp_session_pregreeted(const struct smtp_session *s)
{
	return s->pregreeted;
}

const char *
smtp_session_pipelining_abuse(const struct smtp_session *s)
{
	return s->pipelined_after;
}

const char *
smtp_session_auth_user(const struct smtp_session *s)
{
	return s->authenticated ? s->auth_user : NULL;
}
