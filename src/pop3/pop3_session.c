/*
 * pop3_session: the POP3 server state machine (RFC 1939, with CAPA and
 * response codes of RFC 2449 and RFC 3206, STLS of RFC 2595, AUTH PLAIN and
 * SCRAM-SHA-256(-PLUS) of RFC 5034, RFC 4616, RFC 5802 and RFC 7677), and
 * the conversion of Maildir content to the
 * POP3 wire form.  Run by the pop3 role, one per connection, and driven
 * directly by the unit tests and the fuzzer.  It trusts its params and
 * the answers its ops deliver (they come from our own role); it trusts
 * nothing in the bytes it is fed: every line, number and name is bounded
 * here before it is used or stored.  Pure: no sockets, no files, no
 * clock, no globals.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "pop3_session.h"
#include "sasl.h"
#include "sasl_server.h"
#include "util.h"

#define POP3_HOST_MAX		255	/* our name, RFC 1035 §2.3.4 */
#define POP3_EXPIRE_MAX		31	/* "NEVER", a number, "USER" form */
#define POP3_DIGEST_LEN		32	/* MD5 in hex, RFC 1939 §7 */
#define POP3_NUMBER_DIGITS	20	/* a message number or TOP count */
#define POP3_TOO_MANY		"-ERR Too many errors, closing connection\r\n"
/* A multi-line answer is handed to ops->reply in pieces of this size. */
#define POP3_MULTI_CHUNK	(16 * 1024)

enum pop3_state {
	POP3_STATE_AUTHORIZATION,	/* RFC 1939 §4 */
	POP3_STATE_TRANSACTION,		/* RFC 1939 §5 */
};

/* What the session waits for before it reads another line. */
enum pop3_wait {
	POP3_WAIT_NONE,
	POP3_WAIT_TLS,		/* ops->stls: tls_started() */
	POP3_WAIT_AUTH,		/* ops->auth or ops->apop: auth_result() */
	POP3_WAIT_SEND,		/* ops->retr: send_done() */
};

/* The mechanism of an AUTH exchange (RFC 5034 §4). */
enum pop3_sasl_step {
	POP3_SASL_PLAIN,		/* waiting for the PLAIN message */
	POP3_SASL_SCRAM,		/* SCRAM, in s->sx */
};

/* One message of the maildrop. */
struct pop3_entry {
	uint64_t	size;
	uint32_t	uidl_off;	/* into uidls */
	uint8_t		uidl_len;
	bool		deleted;
};

struct pop3_session {
	const struct pop3_session_ops	*ops;
	void				*arg;

	/* params, copied and made printable */
	char		 hostname[POP3_HOST_MAX + 1];
	char		*timestamp;	/* NULL: no APOP */
	char		 expire[POP3_EXPIRE_MAX + 1];
	unsigned	 login_delay;
	bool		 tls_available;
	bool		 plaintext_auth;
	size_t		 max_errors;

	/* input */
	enum pop3_state	 state;
	enum pop3_wait	 wait;
	bool		 closing;
	bool		 stop_input;	/* STLS: consume nothing more */
	bool		 discarding;	/* inside an overlong line */
	bool		 sasl;		/* the next line answers "+ " */
	enum pop3_sasl_step sasl_step;
	struct sasl_server sx;		/* a SCRAM exchange */
	size_t		 errors;
	bool		 tls;

	/* AUTHORIZATION */
	char		*user;		/* USER given, waiting for PASS */
	size_t		 user_len;
	char		*pending;	/* the name being checked */
	char		*auth_user;	/* logged in as */

	/* TRANSACTION: the maildrop as listed at login */
	struct pop3_entry *msgs;
	size_t		 nmsgs;
	char		*uidls;
	size_t		 nlive;		/* not marked deleted */
	uint64_t	 live_octets;
};

struct pop3_command {
	const char	*verb;
	void		(*fn)(struct pop3_session *, struct span);
	bool		 in_auth;	/* valid in AUTHORIZATION */
	bool		 in_trans;	/* valid in TRANSACTION */
};

static void	cmd_user(struct pop3_session *, struct span);
static void	cmd_pass(struct pop3_session *, struct span);
static void	cmd_apop(struct pop3_session *, struct span);
static void	cmd_auth(struct pop3_session *, struct span);
static void	cmd_stls(struct pop3_session *, struct span);
static void	cmd_capa(struct pop3_session *, struct span);
static void	cmd_quit(struct pop3_session *, struct span);
static void	cmd_stat(struct pop3_session *, struct span);
static void	cmd_list(struct pop3_session *, struct span);
static void	cmd_uidl(struct pop3_session *, struct span);
static void	cmd_retr(struct pop3_session *, struct span);
static void	cmd_top(struct pop3_session *, struct span);
static void	cmd_dele(struct pop3_session *, struct span);
static void	cmd_noop(struct pop3_session *, struct span);
static void	cmd_rset(struct pop3_session *, struct span);

static const struct pop3_command pop3_commands[] = {
	{ "USER",	cmd_user,	true,	false },
	{ "PASS",	cmd_pass,	true,	false },
	{ "APOP",	cmd_apop,	true,	false },
	{ "AUTH",	cmd_auth,	true,	false },
	{ "STLS",	cmd_stls,	true,	false },
	{ "CAPA",	cmd_capa,	true,	true },
	{ "QUIT",	cmd_quit,	true,	true },
	{ "STAT",	cmd_stat,	false,	true },
	{ "LIST",	cmd_list,	false,	true },
	{ "UIDL",	cmd_uidl,	false,	true },
	{ "RETR",	cmd_retr,	false,	true },
	{ "TOP",	cmd_top,	false,	true },
	{ "DELE",	cmd_dele,	false,	true },
	{ "NOOP",	cmd_noop,	false,	true },
	{ "RSET",	cmd_rset,	false,	true },
};

/* Replies */

static void
session_send(struct pop3_session *s, const char *p, size_t len)
{
	/* After the goodbye nothing more may be said. */
	if (s->closing)
		return;
	s->ops->reply(s->arg, p, len);
}

static void
session_close(struct pop3_session *s)
{
	if (s->closing)
		return;
	s->closing = true;
	s->wait = POP3_WAIT_NONE;
	s->sasl = false;
	s->ops->close(s->arg);
}

/* One response line: "+OK text" or "-ERR text".  fmt is always ours. */
static void
session_vline(struct pop3_session *, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
session_vline(struct pop3_session *s, const char *status, const char *fmt,
    va_list ap)
{
	char	line[POP3_REPLY_MAX];
	int	n, m;

	n = snprintf(line, sizeof(line), "%s", status);
	if (n < 0 || (size_t)n >= sizeof(line) - 3)
		fatalx("pop3_session: reply prefix too long");
	if (fmt != NULL && fmt[0] != '\0') {
		line[n++] = ' ';
		m = vsnprintf(line + n, sizeof(line) - 2 - (size_t)n, fmt, ap);
		if (m < 0)
			m = 0;
		n += m;
		if ((size_t)n > sizeof(line) - 3)
			n = sizeof(line) - 3;
	}
	line[n++] = '\r';
	line[n++] = '\n';
	session_send(s, line, (size_t)n);
}

static void
reply_ok(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	session_vline(s, "+OK", fmt, ap);
	va_end(ap);
}

/*
 * Every -ERR counts toward max_errors; at the limit the session says so
 * and closes, which stops a client that probes (password guessing) or is
 * lost.  Nothing is removed: closing is not QUIT.
 */
static void
reply_err(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply_err(struct pop3_session *s, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	session_vline(s, "-ERR", fmt, ap);
	va_end(ap);
	s->errors++;
	if (s->max_errors > 0 && s->errors >= s->max_errors) {
		session_send(s, POP3_TOO_MANY, sizeof(POP3_TOO_MANY) - 1);
		session_close(s);
	}
}

/* A multi-line answer (RFC 1939 §3) is gathered, then sent in pieces. */
static void
multi_flush(struct pop3_session *s, struct buf *b, bool last)
{
	if (!last && b->len < POP3_MULTI_CHUNK)
		return;
	if (b->len > 0)
		session_send(s, b->data, b->len);
	buf_reset(b);
}

static void
multi_line(struct pop3_session *s, struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
multi_line(struct pop3_session *s, struct buf *b, const char *fmt, ...)
{
	char	line[POP3_REPLY_MAX];
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
	if (buf_append(b, line, (size_t)n) == -1)
		fatalx("pop3_session: multi-line buffer");
	multi_flush(s, b, false);
}

static void
multi_end(struct pop3_session *s, struct buf *b)
{
	if (buf_append(b, ".\r\n", 3) == -1)
		fatalx("pop3_session: multi-line buffer");
	multi_flush(s, b, true);
	buf_free(b);
}

/* Small parsers */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1*DIGIT, at most POP3_NUMBER_DIGITS of them, into *out. */
static int
parse_number(struct span v, uint64_t *out)
{
	bool	overflow;

	if (v.len > POP3_NUMBER_DIGITS ||
	    span_to_u64(v, out, &overflow) == -1 || overflow)
		return -1;
	return 0;
}

/* Exactly n words in arg (n <= 2). */
static bool
split_args(struct span arg, struct span *w, size_t n)
{
	struct span	extra;
	size_t		i;

	for (i = 0; i < n; i++)
		if (!span_next_word(&arg, &w[i]))
			return false;
	return !span_next_word(&arg, &extra);
}

/*
 * A login name: valid UTF-8 without controls (SASL names are UTF-8,
 * RFC 4616 §2; USER and APOP names are ASCII words), at most
 * POP3_USER_MAX octets.
 */
static bool
user_valid(struct span u)
{
	return u.len <= POP3_USER_MAX && sasl_user_valid(u);
}

/* State */

static bool
auth_allowed(const struct pop3_session *s)
{
	/* RFC 2595 §2.2 and RFC 8314 §5: no password in the clear. */
	return s->tls || s->plaintext_auth;
}

static bool
stls_offered(const struct pop3_session *s)
{
	return s->tls_available && !s->tls;
}

/* An AUTH exchange ends (done, failed or cancelled). */
static void
sasl_end(struct pop3_session *s)
{
	s->sasl = false;
	sasl_server_end(&s->sx);
}

static void
auth_forget(struct pop3_session *s)
{
	free(s->user);
	s->user = NULL;
	s->user_len = 0;
	free(s->pending);
	s->pending = NULL;
	sasl_end(s);
}

/* SCRAM-SHA-256-PLUS is offered over TLS with binding data (sasl.h). */
static bool
cb_offered(const struct pop3_session *s)
{
	return s->tls && sasl_cb_available(s->ops->cbind, s->arg);
}

static void
drop_free(struct pop3_session *s)
{
	free(s->msgs);
	s->msgs = NULL;
	free(s->uidls);
	s->uidls = NULL;
	s->nmsgs = 0;
	s->nlive = 0;
	s->live_octets = 0;
}

/*
 * Hand a name and password to the server; the password copy is wiped.
 * user is copied first: it may point into s->user.
 */
static void
auth_check(struct pop3_session *s, struct span user, struct span pass)
{
	char	pbuf[POP3_AUTH_LINE_MAX + 1];
	char	*u;

	u = xstrndup(user.ptr, user.len);
	auth_forget(s);
	s->pending = u;
	memcpy(pbuf, pass.ptr, pass.len);
	pbuf[pass.len] = '\0';
	s->wait = POP3_WAIT_AUTH;
	s->ops->auth(s->arg, s->pending, pbuf);
	explicit_bzero(pbuf, pass.len + 1);
}

/* Message number argument: 1-based, of a message not marked deleted. */
static int
msg_arg(struct pop3_session *s, struct span w, size_t *idx_out)
{
	uint64_t	n;

	if (parse_number(w, &n) == -1) {
		reply_err(s, "Invalid message number");
		return -1;
	}
	if (n == 0 || n > s->nmsgs) {
		reply_err(s, "No such message");
		return -1;
	}
	if (s->msgs[n - 1].deleted) {
		reply_err(s, "Message %" PRIu64 " already deleted", n);
		return -1;
	}
	*idx_out = (size_t)(n - 1);
	return 0;
}

/* Commands of the AUTHORIZATION state (RFC 1939 §4, §7) */

static void
cmd_user(struct pop3_session *s, struct span arg)
{
	struct span	w[1];

	if (!auth_allowed(s)) {
		reply_err(s, "Plaintext authentication disallowed without "
		    "TLS, use STLS");
		return;
	}
	if (!split_args(arg, w, 1) || !user_valid(w[0])) {
		reply_err(s, "Syntax: USER name");
		return;
	}
	auth_forget(s);
	s->user = xstrndup(w[0].ptr, w[0].len);
	s->user_len = w[0].len;
	/* Says nothing on whether the name exists (RFC 1939 §13). */
	reply_ok(s, "Send your password");
}

/*
 * RFC 1939 §7: PASS has one argument, which may hold spaces; the rest of
 * the line after "PASS " is the password, as it is.
 */
static void
cmd_pass(struct pop3_session *s, struct span arg)
{
	if (!auth_allowed(s)) {
		reply_err(s, "Plaintext authentication disallowed without "
		    "TLS, use STLS");
		return;
	}
	if (s->user == NULL) {
		reply_err(s, "Send USER first");
		return;
	}
	if (arg.len == 0 || memchr(arg.ptr, '\0', arg.len) != NULL) {
		auth_forget(s);
		reply_err(s, "Syntax: PASS password");
		return;
	}
	auth_check(s, span_make(s->user, s->user_len), arg);
}

static void
cmd_apop(struct pop3_session *s, struct span arg)
{
	struct span	w[2];
	char		digest[POP3_DIGEST_LEN + 1];
	size_t		i;
	char		c;

	if (s->timestamp == NULL) {
		reply_err(s, "APOP not available");
		return;
	}
	if (!split_args(arg, w, 2) || !user_valid(w[0]) ||
	    w[1].len != POP3_DIGEST_LEN) {
		reply_err(s, "Syntax: APOP name digest");
		return;
	}
	/* §7: lower-case hex; upper case is taken too. */
	for (i = 0; i < POP3_DIGEST_LEN; i++) {
		c = w[1].ptr[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		else if (!is_digit(c) && (c < 'a' || c > 'f')) {
			reply_err(s, "Syntax: APOP name digest");
			return;
		}
		digest[i] = c;
	}
	digest[POP3_DIGEST_LEN] = '\0';
	auth_forget(s);
	s->pending = xstrndup(w[0].ptr, w[0].len);
	s->wait = POP3_WAIT_AUTH;
	s->ops->apop(s->arg, s->pending, digest);
}

/* RFC 4616 §2: [authzid] NUL authcid NUL passwd */
static void
auth_plain(struct pop3_session *s, const char *p, size_t len)
{
	struct span	authc, pass;

	switch (sasl_plain_parse(p, len, &authc, &pass)) {
	case SASL_PLAIN_OK:
		if (!user_valid(authc))
			break;
		auth_check(s, authc, pass);
		return;
	case SASL_PLAIN_AUTHZID:
		reply_err(s, "[AUTH] Authentication failed");
		return;
	case SASL_PLAIN_MALFORMED:
		break;
	}
	reply_err(s, "Malformed PLAIN response");
}

/* SCRAM-SHA-256 (RFC 5802, RFC 7677) */

/* "+ " and base64 of a server message (RFC 5034 §4), built by sx. */
static void
scram_send(struct pop3_session *s, const char *line, size_t len)
{
	s->sasl = true;
	session_send(s, line, len);
}

static void
scram_step(struct pop3_session *s, struct span d)
{
	const char	*why;

	switch (sasl_server_scram_input(&s->sx, d, s->ops->cbind, s->arg,
	    &why)) {
	case SASL_SERVER_ASK_SALT:
		free(s->pending);
		s->pending = xstrdup(sasl_server_user(&s->sx));
		s->wait = POP3_WAIT_AUTH;
		s->ops->scram_salt(s->arg, s->pending);
		break;
	case SASL_SERVER_ASK_PROOF:
		s->wait = POP3_WAIT_AUTH;
		s->ops->scram_proof(s->arg, s->pending,
		    sasl_server_auth_message(&s->sx),
		    sasl_server_proof(&s->sx));
		break;
	case SASL_SERVER_LOGGED_IN:
		/* Now the maildrop, as after a password. */
		sasl_end(s);
		s->wait = POP3_WAIT_AUTH;
		s->ops->scram_done(s->arg);
		break;
	case SASL_SERVER_MALFORMED:
		auth_forget(s);
		reply_err(s, "Malformed SCRAM message: %s", why);
		break;
	case SASL_SERVER_REFUSED:
		auth_forget(s);
		reply_err(s, "[AUTH] Authentication failed: %s", why);
		break;
	case SASL_SERVER_FAILED:
		auth_forget(s);
		reply_err(s, "[AUTH] Authentication failed");
		break;
	}
}

/* The client's answer to "+ ", or an initial response (RFC 5034 §4). */
static void
auth_response(struct pop3_session *s, struct span resp)
{
	unsigned char	*dec = NULL;
	size_t		 declen = 0;

	s->sasl = false;
	switch (sasl_server_decode(resp, &dec, &declen)) {
	case SASL_SERVER_RESP_CANCEL:
		auth_forget(s);
		reply_err(s, "Authentication cancelled");
		return;
	case SASL_SERVER_RESP_BAD:
		auth_forget(s);
		reply_err(s, "Invalid base64 data");
		return;
	case SASL_SERVER_RESP_DATA:
		break;
	}
	if (s->sasl_step == POP3_SASL_PLAIN)
		auth_plain(s, (const char *)dec, declen);
	else
		scram_step(s, span_make((const char *)dec, declen));
	sasl_server_resp_free(dec, declen);
}

static void
cmd_auth(struct pop3_session *s, struct span arg)
{
	struct span	mech, ir, more;
	bool		has_ir, plus;

	if (!span_next_word(&arg, &mech)) {
		/*
		 * "AUTH" alone lists the mechanisms, as RFC 1734 servers
		 * did and some clients still ask; CAPA is the standard way.
		 */
		reply_ok(s, "Mechanisms follow");
		if (auth_allowed(s)) {
			if (cb_offered(s))
				session_send(s, "SCRAM-SHA-256-PLUS\r\n", 20);
			session_send(s, "SCRAM-SHA-256\r\nPLAIN\r\n", 22);
		}
		session_send(s, ".\r\n", 3);
		return;
	}
	if (!auth_allowed(s)) {
		reply_err(s, "Plaintext authentication disallowed without "
		    "TLS, use STLS");
		return;
	}
	has_ir = span_next_word(&arg, &ir);
	if (has_ir && span_next_word(&arg, &more)) {
		reply_err(s, "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	auth_forget(s);
	if (span_caseeq(mech, "PLAIN"))
		s->sasl_step = POP3_SASL_PLAIN;
	else if ((plus = span_caseeq(mech, "SCRAM-SHA-256-PLUS") &&
	    cb_offered(s)) || span_caseeq(mech, "SCRAM-SHA-256")) {
		s->sasl_step = POP3_SASL_SCRAM;
		sasl_server_scram_begin(&s->sx, plus, cb_offered(s));
	} else {
		reply_err(s, "Unsupported authentication mechanism");
		return;
	}
	if (has_ir) {
		auth_response(s, ir);
		return;
	}
	s->sasl = true;
	session_send(s, "+ \r\n", 4);
}

static void
cmd_stls(struct pop3_session *s, struct span arg)
{
	if (arg.len > 0) {
		reply_err(s, "Syntax: STLS");
		return;
	}
	if (s->tls) {
		reply_err(s, "TLS already active");
		return;
	}
	if (!s->tls_available) {
		reply_err(s, "TLS not available");
		return;
	}
	reply_ok(s, "Begin TLS negotiation");
	/*
	 * Nothing the client sent after STLS in the clear may be read as
	 * if it came over TLS (RFC 2595 §4, CVE-2011-0411): input stops
	 * here and the server discards what it holds.
	 */
	s->wait = POP3_WAIT_TLS;
	s->stop_input = true;
	s->ops->stls(s->arg);
}

/* Commands of both states */

/*
 * RFC 2449 §5: the same list in both states, since what is available in
 * AUTHORIZATION must be announced in both.
 */
static void
cmd_capa(struct pop3_session *s, struct span arg)
{
	struct buf	b;

	if (arg.len > 0) {
		reply_err(s, "Syntax: CAPA");
		return;
	}
	buf_init(&b, SIZE_MAX);
	reply_ok(s, "Capability list follows");
	multi_line(s, &b, "TOP");
	multi_line(s, &b, "UIDL");
	if (auth_allowed(s)) {
		multi_line(s, &b, "USER");
		multi_line(s, &b, "SASL %sSCRAM-SHA-256 PLAIN", cb_offered(s) ?
		    "SCRAM-SHA-256-PLUS " : "");
	}
	if (stls_offered(s))
		multi_line(s, &b, "STLS");
	multi_line(s, &b, "RESP-CODES");
	multi_line(s, &b, "AUTH-RESP-CODE");
	multi_line(s, &b, "PIPELINING");
	multi_line(s, &b, "EXPIRE %s", s->expire);
	if (s->login_delay > 0)
		multi_line(s, &b, "LOGIN-DELAY %u", s->login_delay);
	multi_line(s, &b, "IMPLEMENTATION cachet");
	multi_end(s, &b);
}

static void
cmd_quit(struct pop3_session *s, struct span arg)
{
	size_t	left;

	if (s->state == POP3_STATE_AUTHORIZATION) {
		reply_ok(s, "%s POP3 server signing off", s->hostname);
		session_close(s);
		return;
	}
	/* RFC 1939 §6: the UPDATE state removes what was marked. */
	left = s->nlive;
	if (s->ops->update(s->arg) == -1)
		reply_err(s, "[SYS/TEMP] Some deleted messages not removed");
	else
		reply_ok(s, "%s POP3 server signing off (%zu messages left)",
		    s->hostname, left);
	session_close(s);
}

/* Commands of the TRANSACTION state (RFC 1939 §5, §7) */

static void
cmd_stat(struct pop3_session *s, struct span arg)
{
	if (arg.len > 0) {
		reply_err(s, "Syntax: STAT");
		return;
	}
	reply_ok(s, "%zu %" PRIu64, s->nlive, s->live_octets);
}

static void
cmd_list(struct pop3_session *s, struct span arg)
{
	struct span	w[1];
	struct buf	b;
	size_t		i;

	if (arg.len > 0) {
		if (!split_args(arg, w, 1)) {
			reply_err(s, "Syntax: LIST [message]");
			return;
		}
		if (msg_arg(s, w[0], &i) == -1)
			return;
		reply_ok(s, "%zu %" PRIu64, i + 1, s->msgs[i].size);
		return;
	}
	buf_init(&b, SIZE_MAX);
	reply_ok(s, "%zu messages (%" PRIu64 " octets)", s->nlive,
	    s->live_octets);
	for (i = 0; i < s->nmsgs; i++)
		if (!s->msgs[i].deleted)
			multi_line(s, &b, "%zu %" PRIu64, i + 1,
			    s->msgs[i].size);
	multi_end(s, &b);
}

static void
cmd_uidl(struct pop3_session *s, struct span arg)
{
	struct span		 w[1];
	struct buf		 b;
	struct pop3_entry	*e;
	size_t			 i;

	if (arg.len > 0) {
		if (!split_args(arg, w, 1)) {
			reply_err(s, "Syntax: UIDL [message]");
			return;
		}
		if (msg_arg(s, w[0], &i) == -1)
			return;
		e = &s->msgs[i];
		reply_ok(s, "%zu %.*s", i + 1, (int)e->uidl_len,
		    s->uidls + e->uidl_off);
		return;
	}
	buf_init(&b, SIZE_MAX);
	reply_ok(s, "Unique-id listing follows");
	for (i = 0; i < s->nmsgs; i++) {
		e = &s->msgs[i];
		if (!e->deleted)
			multi_line(s, &b, "%zu %.*s", i + 1,
			    (int)e->uidl_len, s->uidls + e->uidl_off);
	}
	multi_end(s, &b);
}

static void
send_message(struct pop3_session *s, size_t idx, int64_t top)
{
	if (s->ops->retr(s->arg, idx, top) == -1) {
		reply_err(s, "[SYS/TEMP] Message %zu cannot be read", idx + 1);
		return;
	}
	if (top < 0)
		reply_ok(s, "%" PRIu64 " octets", s->msgs[idx].size);
	else
		reply_ok(s, "Top of message follows");
	s->wait = POP3_WAIT_SEND;
}

static void
cmd_retr(struct pop3_session *s, struct span arg)
{
	struct span	w[1];
	size_t		idx;

	if (!split_args(arg, w, 1)) {
		reply_err(s, "Syntax: RETR message");
		return;
	}
	if (msg_arg(s, w[0], &idx) == -1)
		return;
	send_message(s, idx, -1);
}

static void
cmd_top(struct pop3_session *s, struct span arg)
{
	struct span	w[2];
	uint64_t	lines;
	size_t		idx;

	if (!split_args(arg, w, 2) || parse_number(w[1], &lines) == -1) {
		reply_err(s, "Syntax: TOP message lines");
		return;
	}
	if (msg_arg(s, w[0], &idx) == -1)
		return;
	if (lines > INT64_MAX)
		lines = INT64_MAX;
	send_message(s, idx, (int64_t)lines);
}

static void
cmd_dele(struct pop3_session *s, struct span arg)
{
	struct span	w[1];
	size_t		idx;

	if (!split_args(arg, w, 1)) {
		reply_err(s, "Syntax: DELE message");
		return;
	}
	if (msg_arg(s, w[0], &idx) == -1)
		return;
	s->msgs[idx].deleted = true;
	s->nlive--;
	s->live_octets -= s->msgs[idx].size;
	reply_ok(s, "Message %zu deleted", idx + 1);
}

static void
cmd_noop(struct pop3_session *s, struct span arg)
{
	if (arg.len > 0) {
		reply_err(s, "Syntax: NOOP");
		return;
	}
	session_send(s, "+OK\r\n", 5);
}

static void
cmd_rset(struct pop3_session *s, struct span arg)
{
	size_t	i;

	if (arg.len > 0) {
		reply_err(s, "Syntax: RSET");
		return;
	}
	for (i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].deleted) {
			s->msgs[i].deleted = false;
			s->nlive++;
			s->live_octets += s->msgs[i].size;
		}
	}
	reply_ok(s, "Maildrop has %zu messages (%" PRIu64 " octets)",
	    s->nlive, s->live_octets);
}

/* Lines */

/* A line ends in CRLF and holds no other CR or LF and no NUL. */
static bool
line_strict(const char *p, size_t n)
{
	return n >= 2 && p[n - 2] == '\r' && memchr(p, '\r', n - 2) == NULL;
}

static void
command_line(struct pop3_session *s, const char *p, size_t n)
{
	const struct pop3_command	*c;
	struct span			 line, verb, arg;
	const char			*sp;
	size_t				 i;
	bool				 sasl = s->sasl;

	/* A bad line in a SASL exchange ends the exchange too. */
	s->sasl = false;
	if (!line_strict(p, n)) {
		sasl_end(s);
		reply_err(s, "Line must end with CRLF");
		return;
	}
	line = span_make(p, n - 2);
	if (memchr(line.ptr, '\0', line.len) != NULL) {
		sasl_end(s);
		reply_err(s, "NUL in command");
		return;
	}
	if (sasl) {
		auth_response(s, line);
		return;
	}
	if ((sp = memchr(line.ptr, ' ', line.len)) == NULL) {
		verb = line;
		arg = span_make("", 0);
	} else {
		verb = span_make(line.ptr, (size_t)(sp - line.ptr));
		arg = span_make(sp + 1, line.len - verb.len - 1);
	}
	for (i = 0; i < sizeof(pop3_commands) / sizeof(pop3_commands[0]);
	    i++) {
		c = &pop3_commands[i];
		if (!span_caseeq(verb, c->verb))
			continue;
		if (s->state == POP3_STATE_AUTHORIZATION && !c->in_auth) {
			reply_err(s, "Not logged in");
			return;
		}
		if (s->state == POP3_STATE_TRANSACTION && !c->in_trans) {
			reply_err(s, "Already logged in");
			return;
		}
		/* PASS keeps its argument whole; the rest trim it. */
		if (c->fn != cmd_pass)
			arg = span_trim(arg);
		c->fn(s, arg);
		return;
	}
	reply_err(s, "Unknown command");
}

/* The longest line allowed where p starts one. */
static size_t
line_limit(const struct pop3_session *s, const char *p, size_t len)
{
	if (s->sasl)
		return POP3_AUTH_LINE_MAX;
	if (len >= 5 && strncasecmp(p, "AUTH ", 5) == 0)
		return POP3_AUTH_LINE_MAX;
	if (len >= 5 && strncasecmp(p, "PASS ", 5) == 0)
		return POP3_PASS_LINE_MAX;
	return POP3_LINE_MAX;
}

/* The end of an overlong line was found: say so once. */
static void
overlong_done(struct pop3_session *s)
{
	if (s->sasl) {
		sasl_end(s);
		reply_err(s, "Line too long, authentication cancelled");
		return;
	}
	reply_err(s, "Line too long");
}

/*
 * Consume one line, or part of an overlong one.  Returns 0 when p holds
 * only the start of a line that may still fit.
 */
static size_t
line_input(struct pop3_session *s, const char *p, size_t len)
{
	size_t	limit, n;

	limit = s->discarding ? 1 : line_limit(s, p, len);
	switch (span_line_next(&s->discarding, p, len, limit, &n)) {
	case SPAN_LINE_MORE:
	case SPAN_LINE_LONG:
		break;
	case SPAN_LINE_WHOLE:
		command_line(s, p, n);
		break;
	case SPAN_LINE_LONG_END:
		overlong_done(s);
		break;
	}
	return n;
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

struct pop3_session *
pop3_session_new(const struct pop3_params *params,
    const struct pop3_session_ops *ops, void *arg)
{
	struct pop3_session	*s;
	char			 ts[POP3_TIMESTAMP_MAX + 1];

	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->arg = arg;
	copy_printable(s->hostname, sizeof(s->hostname), params->hostname);
	if (params->timestamp != NULL) {
		copy_printable(ts, sizeof(ts), params->timestamp);
		s->timestamp = xstrdup(ts);
	}
	copy_printable(s->expire, sizeof(s->expire),
	    params->expire != NULL ? params->expire : "NEVER");
	s->login_delay = params->login_delay;
	s->tls_available = params->tls_available;
	s->plaintext_auth = params->plaintext_auth;
	s->max_errors = params->max_errors;
	s->state = POP3_STATE_AUTHORIZATION;
	return s;
}

void
pop3_session_start(struct pop3_session *s)
{
	/* RFC 1939 §7: the timestamp is the banner's last word for APOP. */
	if (s->timestamp != NULL)
		reply_ok(s, "%s POP3 cachet ready %s", s->hostname,
		    s->timestamp);
	else
		reply_ok(s, "%s POP3 cachet ready", s->hostname);
}

void
pop3_session_free(struct pop3_session *s)
{
	if (s == NULL)
		return;
	auth_forget(s);
	free(s->auth_user);
	free(s->timestamp);
	drop_free(s);
	free(s);
}

size_t
pop3_session_input(struct pop3_session *s, const char *p, size_t len)
{
	size_t	off = 0, n;

	while (off < len && !s->closing && s->wait == POP3_WAIT_NONE &&
	    !s->stop_input) {
		n = line_input(s, p + off, len - off);
		if (n == 0)
			break;
		off += n;
	}
	s->stop_input = false;
	return s->closing ? len : off;
}

bool
pop3_session_waiting(const struct pop3_session *s)
{
	return s->wait != POP3_WAIT_NONE;
}

bool
pop3_session_closing(const struct pop3_session *s)
{
	return s->closing;
}

void
pop3_session_tls_started(struct pop3_session *s)
{
	if (s->closing)
		return;
	if (s->wait != POP3_WAIT_NONE && s->wait != POP3_WAIT_TLS)
		fatalx("pop3_session: TLS started while waiting");
	s->wait = POP3_WAIT_NONE;
	/* RFC 2595 §4: what was said before TLS is forgotten. */
	auth_forget(s);
	s->tls = true;
}

/* Copy the maildrop; the uidls are checked since they go on the wire. */
static void
drop_set(struct pop3_session *s, const struct pop3_msg *msgs, size_t n)
{
	size_t	i, j, len, total = 0, off = 0;

	for (i = 0; i < n; i++) {
		len = strnlen(msgs[i].uidl, POP3_UIDL_MAX + 1);
		if (len == 0 || len > POP3_UIDL_MAX)
			fatalx("pop3_session: bad unique-id");
		for (j = 0; j < len; j++)
			if (msgs[i].uidl[j] < 0x21 || msgs[i].uidl[j] > 0x7e)
				fatalx("pop3_session: bad unique-id");
		total += len;	/* n * 70 cannot overflow a size_t */
	}
	if (total > UINT32_MAX)
		fatalx("pop3_session: maildrop too large");
	s->msgs = n > 0 ? xcalloc(n, sizeof(*s->msgs)) : NULL;
	s->uidls = xmalloc(total + 1);
	for (i = 0; i < n; i++) {
		len = strlen(msgs[i].uidl);
		memcpy(s->uidls + off, msgs[i].uidl, len);
		s->msgs[i].size = msgs[i].size;
		s->msgs[i].uidl_off = (uint32_t)off;
		s->msgs[i].uidl_len = (uint8_t)len;
		off += len;
		if (__builtin_add_overflow(s->live_octets, msgs[i].size,
		    &s->live_octets))
			fatalx("pop3_session: maildrop size overflows");
	}
	s->nmsgs = n;
	s->nlive = n;
}

/* A login that did not succeed, with its response code. */
static void
auth_refused(struct pop3_session *s, enum pop3_auth_result r)
{
	auth_forget(s);
	switch (r) {
	case POP3_AUTH_IN_USE:
		/* RFC 2449 §8.1.1 */
		reply_err(s, "[IN-USE] Maildrop is locked by another session");
		break;
	case POP3_AUTH_SYS_PERM:
		/* RFC 3206 §4 */
		reply_err(s, "[SYS/PERM] Maildrop not available over POP3");
		break;
	case POP3_AUTH_TEMPFAIL:
		/* RFC 3206 §4 */
		reply_err(s, "[SYS/TEMP] Temporary failure, try again later");
		break;
	default:
		/* RFC 3206 §5 */
		reply_err(s, "[AUTH] Authentication failed");
		break;
	}
}

void
pop3_session_auth_result(struct pop3_session *s, enum pop3_auth_result r,
    const struct pop3_msg *msgs, size_t nmsgs)
{
	if (s->closing)
		return;
	if (s->wait != POP3_WAIT_AUTH || s->sx.step != SASL_SERVER_IDLE)
		fatalx("pop3_session: unexpected login result");
	s->wait = POP3_WAIT_NONE;
	if (r != POP3_AUTH_OK) {
		auth_refused(s, r);
		return;
	}
	drop_set(s, msgs, nmsgs);
	s->auth_user = s->pending;
	s->pending = NULL;
	auth_forget(s);
	s->state = POP3_STATE_TRANSACTION;
	reply_ok(s, "Logged in, %zu messages (%" PRIu64 " octets)",
	    s->nlive, s->live_octets);
}

void
pop3_session_scram_challenge(struct pop3_session *s,
    enum pop3_auth_result r, const struct sasl_scram_challenge *ch)
{
	char	line[SASL_CHALLENGE_LINE_MAX];
	size_t	len;

	if (s->closing)
		return;
	if (s->wait != POP3_WAIT_AUTH || !sasl_server_waiting_salt(&s->sx))
		fatalx("pop3_session: unexpected SCRAM challenge");
	s->wait = POP3_WAIT_NONE;
	if (r != POP3_AUTH_OK) {
		auth_refused(s, POP3_AUTH_TEMPFAIL);
		return;
	}
	if ((len = sasl_server_scram_challenge(&s->sx, ch, "+ ", line)) == 0)
		fatalx("pop3_session: SCRAM challenge out of bounds");
	scram_send(s, line, len);
}

void
pop3_session_scram_result(struct pop3_session *s, enum pop3_auth_result r,
    const unsigned char *sig)
{
	char	line[SASL_CHALLENGE_LINE_MAX];
	size_t	len;

	if (s->closing)
		return;
	if (s->wait != POP3_WAIT_AUTH || !sasl_server_waiting_proof(&s->sx))
		fatalx("pop3_session: unexpected SCRAM result");
	s->wait = POP3_WAIT_NONE;
	if (r != POP3_AUTH_OK) {
		auth_refused(s, r);
		return;
	}
	len = sasl_server_scram_signature(&s->sx, sig, "+ ", line);
	scram_send(s, line, len);
}

void
pop3_session_send_done(struct pop3_session *s)
{
	if (s->closing)
		return;
	if (s->wait != POP3_WAIT_SEND)
		fatalx("pop3_session: unexpected end of a message");
	s->wait = POP3_WAIT_NONE;
}

void
pop3_session_timeout(struct pop3_session *s)
{
	/* RFC 1939 §3: no UPDATE, no response. */
	session_close(s);
}

const char *
pop3_session_user(const struct pop3_session *s)
{
	return s->auth_user;
}

size_t
pop3_session_count(const struct pop3_session *s)
{
	return s->nmsgs;
}

bool
pop3_session_deleted(const struct pop3_session *s, size_t idx)
{
	return idx < s->nmsgs && s->msgs[idx].deleted;
}

/* Content on the wire (RFC 1939 §3) */

void
pop3_session_stuff_init(struct pop3_session_stuffer *st, int64_t top)
{
	memset(st, 0, sizeof(*st));
	st->top = top;
	st->in_header = true;
	st->bol = true;
}

/* A line ended (its LF was copied): count it for TOP. */
static void
stuff_line_end(struct pop3_session_stuffer *st)
{
	bool	empty;

	/* "\n" or "\r\n" alone is the empty line after the header. */
	empty = st->linelen == 0 || (st->linelen == 1 && st->prev_cr);
	if (st->in_header) {
		if (empty) {
			st->in_header = false;
			if (st->top == 0)
				st->done = true;
		}
	} else if (st->top > 0 && --st->top == 0)
		st->done = true;
	st->bol = true;
	st->linelen = 0;
	st->prev_cr = false;
}

size_t
pop3_session_stuff(struct pop3_session_stuffer *st, const char *in,
    size_t len, char *out)
{
	const char	*lf;
	size_t		 o = 0, i = 0, run;

	while (i < len && !st->done) {
		if (st->bol && in[i] == '.')
			out[o++] = '.';		/* byte-stuffing, §3 */
		st->bol = false;
		/* Copy up to the line's end in one go. */
		lf = memchr(in + i, '\n', len - i);
		run = lf != NULL ? (size_t)(lf - (in + i)) : len - i;
		if (run > 0) {
			memcpy(out + o, in + i, run);
			o += run;
			st->linelen += run;
			st->prev_cr = in[i + run - 1] == '\r';
			i += run;
		}
		if (lf == NULL)
			break;
		/* A CRLF in the file stays one; a bare LF becomes CRLF. */
		if (!st->prev_cr)
			out[o++] = '\r';
		out[o++] = '\n';
		i++;
		stuff_line_end(st);
	}
	return o;
}

size_t
pop3_session_stuff_end(struct pop3_session_stuffer *st, char *out)
{
	size_t	o = 0;

	if (!st->bol) {
		/* The file's last line had no LF: end it. */
		if (!st->prev_cr)
			out[o++] = '\r';
		out[o++] = '\n';
		st->bol = true;
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}
