/*
 * imap_session: the IMAP server state machine (RFC 3501, RFC 9051): the
 * states, login (LOGIN, AUTHENTICATE with SASL-IR, STARTTLS), the
 * commands of any state, and the hand-off of mailbox commands to the
 * server.  Run by the imap role, one per connection, and driven directly
 * by the unit tests and the fuzzer.  It trusts its params and the
 * answers its ops deliver (they come from our own role); every byte it
 * is fed goes through imap_parse's bounded reader and grammar.  Pure: no
 * sockets, no files, no clock, no globals.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_parse.h"
#include "imap_session.h"
#include "log.h"
#include "sasl.h"
#include "sasl_server.h"
#include "util.h"

#define IMAP_HOST_MAX		255	/* our name, RFC 1035 §2.3.4 */
/* A quoted string in a response is kept short; longer is a literal. */
#define IMAP_QUOTED_MAX		1024
/* APPENDLIMIT when the params give none (RFC 7889). */
#define IMAP_APPENDLIMIT_DEFAULT (32 * 1024 * 1024)

enum imap_state {
	IMAP_STATE_NOT_AUTH,	/* RFC 9051 §3.1 */
	IMAP_STATE_AUTH,	/* §3.2 */
	IMAP_STATE_SELECTED,	/* §3.3 */
	IMAP_STATE_LOGOUT,	/* §3.4 */
};

enum imap_wait {
	IMAP_WAIT_NONE,
	IMAP_WAIT_TLS,		/* ops->starttls: tls_started() */
	IMAP_WAIT_AUTH,		/* ops->auth, scram_*: the answers */
	IMAP_WAIT_COMMAND,	/* ops->command: done() */
};

enum imap_sasl_mech {
	IMAP_SASL_NONE,
	IMAP_SASL_PLAIN,
	IMAP_SASL_SCRAM,	/* its steps in sx */
};

struct imap_session {
	const struct imap_session_ops	*ops;
	void				*arg;

	char		 hostname[IMAP_HOST_MAX + 1];
	bool		 tls_available;
	bool		 plaintext_auth;
	uint64_t	 appendlimit;
	size_t		 max_bad;

	enum imap_state	 state;
	enum imap_wait	 wait;
	bool		 closing;
	bool		 stop_input;	/* STARTTLS: take nothing more */
	bool		 tls;
	bool		 idling;
	unsigned	 enabled;	/* IMAP_EXT_* */
	size_t		 bad;		/* BADs in a row */

	struct imap_reader rd;
	struct imap_cmd	 cmd;		/* the command being done */
	bool		 have_cmd;
	char		 tag[IMAP_TAG_MAX + 1];	/* its tag */

	/* an AUTHENTICATE exchange in line mode */
	enum imap_sasl_mech mech;
	bool		 sasl;		/* the next line answers "+ " */
	struct sasl_server sx;

	char		*pending;	/* the user being checked */
	char		*user;		/* logged in as */
};

/* Output */

void
imap_session_send(struct imap_session *s, const char *p, size_t len)
{
	/* After the goodbye nothing more may be said. */
	if (s->closing || len == 0)
		return;
	s->ops->reply(s->arg, p, len);
}

static void
session_close(struct imap_session *s)
{
	if (s->closing)
		return;
	s->closing = true;
	s->state = IMAP_STATE_LOGOUT;
	s->wait = IMAP_WAIT_NONE;
	s->ops->close(s->arg);
}

/* One line: prefix (a tag, "*", "+"), a space, fmt's text, CRLF. */
static void
session_vline(struct imap_session *, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
session_vline(struct imap_session *s, const char *prefix, const char *fmt,
    va_list ap)
{
	char	text[IMAP_SESSION_REPLY_MAX];
	int	n, m;

	n = snprintf(text, sizeof(text), "%s ", prefix);
	if (n < 0 || (size_t)n >= sizeof(text) - 3)
		fatalx("imap_session: reply prefix too long");
	m = vsnprintf(text + n, sizeof(text) - 2 - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(text) - 3)
		n = sizeof(text) - 3;
	text[n++] = '\r';
	text[n++] = '\n';
	imap_session_send(s, text, (size_t)n);
}

static void
session_line(struct imap_session *s, const char *prefix, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
session_line(struct imap_session *s, const char *prefix, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	session_vline(s, prefix, fmt, ap);
	va_end(ap);
}

void
imap_session_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	session_vline(s, "*", fmt, ap);
	va_end(ap);
}

static void
bye(struct imap_session *s, const char *text)
{
	session_line(s, "*", "BYE %s", text);
	session_close(s);
}

/*
 * A tagged BAD.  A client that sends nothing but bad commands is lost
 * or probing: after max_bad in a row the session ends (as Dovecot does
 * after 20), and the role goes on.
 */
static void
reply_bad(struct imap_session *s, const char *tag, const char *text)
{
	session_line(s, tag[0] != '\0' ? tag : "*", "BAD %s", text);
	if (++s->bad >= s->max_bad)
		bye(s, "Too many invalid commands");
}

static void
reply(struct imap_session *s, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reply(struct imap_session *s, const char *status, const char *fmt, ...)
{
	char	prefix[IMAP_TAG_MAX + 8];
	va_list	ap;

	(void)snprintf(prefix, sizeof(prefix), "%s %s", s->tag, status);
	va_start(ap, fmt);
	session_vline(s, prefix, fmt, ap);
	va_end(ap);
}

/* Capabilities (RFC 9051 §7.2.2), announced only when they work. */

static bool
auth_allowed(const struct imap_session *s)
{
	/* RFC 9051 §11.1, RFC 8314 §5: no password in the clear. */
	return s->tls || s->plaintext_auth;
}

/* SCRAM-SHA-256-PLUS is offered over TLS with binding data. */
static bool
cb_offered(const struct imap_session *s)
{
	return s->tls && sasl_cb_available(s->ops->cbind, s->arg);
}

/*
 * What a logged-in session is told, one capability a line (RFC 9051
 * §7.2.2): only what works is announced.
 */
static const char *const caps_auth[] = {
	"IMAP4rev1",
	"IMAP4rev2",
	"SASL-IR",
	"LITERAL-",
	"ID",
	"ENABLE",
	"IDLE",
	"NAMESPACE",
	"UNSELECT",
	"CHILDREN",
	"SPECIAL-USE",
	"MOVE",
	"UIDPLUS",
	"BINARY",
	"CONDSTORE",
	"QRESYNC",
	"ESEARCH",
	"SEARCHRES",
	"SORT",
	"ESORT",
	"SORT=DISPLAY",
	"THREAD=ORDEREDSUBJECT",
	"THREAD=REFERENCES",
	"LIST-EXTENDED",
	"LIST-STATUS",
	"STATUS=SIZE",
	"CREATE-SPECIAL-USE",
	"MULTIAPPEND",
	"QUOTA",
	"QUOTA=RES-STORAGE",
	"OBJECTID",
	"UTF8=ACCEPT",
};

static void
caps(const struct imap_session *s, char *out, size_t outsz)
{
	size_t	i, n;
	int	r;

	if (s->state == IMAP_STATE_NOT_AUTH) {
		(void)snprintf(out, outsz,
		    "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL- ID ENABLE%s%s",
		    s->tls_available && !s->tls ? " STARTTLS" : "",
		    !auth_allowed(s) ? " LOGINDISABLED" : cb_offered(s) ?
		    " AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256 AUTH=PLAIN" :
		    " AUTH=SCRAM-SHA-256 AUTH=PLAIN");
		return;
	}
	n = 0;
	out[0] = '\0';
	for (i = 0; i < sizeof(caps_auth) / sizeof(caps_auth[0]); i++) {
		r = snprintf(out + n, outsz - n, "%s ", caps_auth[i]);
		if (r < 0 || (size_t)r >= outsz - n)
			fatalx("imap: capabilities do not fit");
		n += (size_t)r;
	}
	r = snprintf(out + n, outsz - n, "APPENDLIMIT=%llu",
	    (unsigned long long)s->appendlimit);
	if (r < 0 || (size_t)r >= outsz - n)
		fatalx("imap: capabilities do not fit");
}

/* The exchange */

static void
auth_forget(struct imap_session *s)
{
	free(s->pending);
	s->pending = NULL;
	s->sasl = false;
	s->mech = IMAP_SASL_NONE;
	sasl_server_end(&s->sx);
	imap_reader_line_mode(&s->rd, false);
}

static void
auth_check(struct imap_session *s, struct span user, struct span pass)
{
	char	pbuf[SASL_FIELD_MAX + 1];
	char	*u;

	if (!sasl_user_valid(user) || !sasl_pass_valid(pass)) {
		auth_forget(s);
		reply(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
		return;
	}
	u = xstrndup(user.ptr, user.len);
	auth_forget(s);
	s->pending = u;
	memcpy(pbuf, pass.ptr, pass.len);
	pbuf[pass.len] = '\0';
	s->wait = IMAP_WAIT_AUTH;
	s->ops->auth(s->arg, s->pending, pbuf);
	explicit_bzero(pbuf, sizeof(pbuf));
}

/* A continuation line with a challenge (RFC 9051 §7.5). */
static void
sasl_continue(struct imap_session *s, const char *line, size_t len)
{
	s->sasl = true;
	imap_reader_line_mode(&s->rd, true);
	imap_session_send(s, line, len);
}

static void
scram_step(struct imap_session *s, struct span d)
{
	const char	*why;

	switch (sasl_server_scram_input(&s->sx, d, s->ops->cbind, s->arg,
	    &why)) {
	case SASL_SERVER_ASK_SALT:
		free(s->pending);
		s->pending = xstrdup(sasl_server_user(&s->sx));
		s->wait = IMAP_WAIT_AUTH;
		s->ops->scram_salt(s->arg, s->pending);
		break;
	case SASL_SERVER_ASK_PROOF:
		s->wait = IMAP_WAIT_AUTH;
		s->ops->scram_proof(s->arg, s->pending,
		    sasl_server_auth_message(&s->sx),
		    sasl_server_proof(&s->sx));
		break;
	case SASL_SERVER_LOGGED_IN:
		sasl_server_end(&s->sx);
		s->mech = IMAP_SASL_NONE;
		s->wait = IMAP_WAIT_AUTH;
		s->ops->scram_done(s->arg);
		break;
	case SASL_SERVER_MALFORMED:
		auth_forget(s);
		reply(s, "BAD", "Malformed SCRAM message: %s", why);
		break;
	case SASL_SERVER_REFUSED:
		auth_forget(s);
		reply(s, "NO", "[AUTHENTICATIONFAILED] Authentication "
		    "failed: %s", why);
		break;
	case SASL_SERVER_FAILED:
		auth_forget(s);
		reply(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
		break;
	}
}

/* A response to "+ ", or an initial response (RFC 4959 §3). */
static void
auth_response(struct imap_session *s, struct span resp)
{
	struct span	 authc, pass;
	unsigned char	*dec = NULL;
	size_t		 declen = 0;

	s->sasl = false;
	imap_reader_line_mode(&s->rd, false);
	switch (sasl_server_decode(resp, &dec, &declen)) {
	case SASL_SERVER_RESP_CANCEL:
		/* RFC 9051 §6.2.2: a tagged BAD */
		auth_forget(s);
		reply(s, "BAD", "Authentication cancelled");
		return;
	case SASL_SERVER_RESP_BAD:
		auth_forget(s);
		reply(s, "BAD", "Invalid base64 data");
		return;
	case SASL_SERVER_RESP_DATA:
		break;
	}
	if (s->mech == IMAP_SASL_SCRAM)
		scram_step(s, span_make((const char *)dec, declen));
	else {
		switch (sasl_plain_parse((const char *)dec, declen, &authc,
		    &pass)) {
		case SASL_PLAIN_OK:
			auth_check(s, authc, pass);
			break;
		case SASL_PLAIN_AUTHZID:
			auth_forget(s);
			reply(s, "NO", "[AUTHORIZATIONFAILED] Authorization "
			    "failed");
			break;
		case SASL_PLAIN_MALFORMED:
			auth_forget(s);
			reply(s, "BAD", "Malformed PLAIN response");
			break;
		}
	}
	sasl_server_resp_free(dec, declen);
}

static bool
refuse_cleartext(struct imap_session *s)
{
	if (auth_allowed(s))
		return false;
	/* RFC 5530 §3 PRIVACYREQUIRED; RFC 9051 §6.2.3 LOGINDISABLED */
	reply(s, "NO", "[PRIVACYREQUIRED] Plaintext authentication "
	    "disallowed without TLS, use STARTTLS");
	return true;
}

/* Commands of the NOT AUTHENTICATED state (RFC 9051 §6.2) */

static void
cmd_login(struct imap_session *s, const struct imap_cmd *c)
{
	if (refuse_cleartext(s))
		return;
	auth_check(s, c->user, c->pass);
}

static void
cmd_authenticate(struct imap_session *s, const struct imap_cmd *c)
{
	bool	plus;

	if (refuse_cleartext(s))
		return;
	auth_forget(s);
	if (span_caseeq(c->user, "PLAIN"))
		s->mech = IMAP_SASL_PLAIN;
	else if ((plus = span_caseeq(c->user, "SCRAM-SHA-256-PLUS") &&
	    cb_offered(s)) || span_caseeq(c->user, "SCRAM-SHA-256")) {
		s->mech = IMAP_SASL_SCRAM;
		sasl_server_scram_begin(&s->sx, plus, cb_offered(s));
	} else {
		reply(s, "NO", "Unsupported authentication mechanism");
		return;
	}
	if (c->has_ir) {
		auth_response(s, c->pass);
		return;
	}
	sasl_continue(s, "+ \r\n", 4);
}

static void
cmd_starttls(struct imap_session *s)
{
	if (s->tls || !s->tls_available) {
		reply(s, "BAD", s->tls ? "TLS already active" :
		    "TLS not available");
		return;
	}
	reply(s, "OK", "Begin TLS negotiation now");
	/*
	 * Nothing the client sent after STARTTLS in the clear may be read
	 * as if it came over TLS (RFC 9051 §11.1, CVE-2011-0411): input
	 * stops here and the server discards what it holds.
	 */
	s->wait = IMAP_WAIT_TLS;
	s->stop_input = true;
	s->ops->starttls(s->arg);
}

/* Commands of any state (RFC 9051 §6.1) */

static void
cmd_capability(struct imap_session *s)
{
	char	c[IMAP_CAPS_MAX];

	caps(s, c, sizeof(c));
	imap_session_untagged(s, "CAPABILITY %s", c);
	reply(s, "OK", "CAPABILITY completed");
}

static void
cmd_logout(struct imap_session *s)
{
	imap_session_untagged(s, "BYE %s IMAP server logging out",
	    s->hostname);
	reply(s, "OK", "LOGOUT completed");
	session_close(s);
}

/* RFC 2971 §3.3: our name, and nothing on what the client said. */
static void
cmd_id(struct imap_session *s)
{
	imap_session_untagged(s, "ID (\"name\" \"cachet\")");
	reply(s, "OK", "ID completed");
}

/* The ENABLE names (RFC 5161 §4 and the extensions' own sections). */
static const struct {
	const char	*name;
	unsigned	 bit;
} enable_names[] = {
	{ "CONDSTORE",	IMAP_EXT_CONDSTORE },
	{ "QRESYNC",	IMAP_EXT_QRESYNC | IMAP_EXT_CONDSTORE },
	{ "IMAP4rev2",	IMAP_EXT_REV2 },
	{ "UTF8=ACCEPT", IMAP_EXT_UTF8 },
};

/*
 * RFC 5161 §3.1: in the AUTHENTICATED state only.  ENABLED lists what
 * this command turned on that was not on before; names we do not
 * support, or do not support yet, are ignored (§3.2).
 */
static void
cmd_enable(struct imap_session *s)
{
	const struct imap_cmd	*c = &s->cmd;
	char			 resp[IMAP_SESSION_REPLY_MAX];
	size_t			 i, j, n;
	unsigned		 bit;
	int			 r;

	n = (size_t)snprintf(resp, sizeof(resp), "ENABLED");
	for (i = 0; i < c->nenable; i++) {
		for (j = 0; j < sizeof(enable_names) /
		    sizeof(enable_names[0]); j++)
			if (span_caseeq(c->enable[i], enable_names[j].name))
				break;
		if (j == sizeof(enable_names) / sizeof(enable_names[0]))
			continue;
		bit = enable_names[j].bit;
		if ((bit & IMAP_EXT_SUPPORTED) != bit ||
		    (s->enabled & bit) == bit)
			continue;
		s->enabled |= bit;
		r = snprintf(resp + n, sizeof(resp) - n, " %s",
		    enable_names[j].name);
		if (r > 0 && (size_t)r < sizeof(resp) - n)
			n += (size_t)r;
	}
	imap_session_untagged(s, "%s", resp);
	reply(s, "OK", "ENABLE completed");
}

unsigned
imap_session_enabled(const struct imap_session *s)
{
	return s->enabled;
}

void
imap_session_enable(struct imap_session *s, unsigned bits)
{
	s->enabled |= bits;
}

/* RFC 2342 §5: one personal namespace, Maildir++'s "." delimiter. */
static void
cmd_namespace(struct imap_session *s)
{
	imap_session_untagged(s, "NAMESPACE ((\"\" \".\")) NIL NIL");
	reply(s, "OK", "NAMESPACE completed");
}

static void
cmd_idle(struct imap_session *s)
{
	/* RFC 2177 §3: "+" and then updates until DONE */
	s->idling = true;
	imap_reader_line_mode(&s->rd, true);
	imap_session_send(s, "+ idling\r\n", 10);
	s->ops->idle(s->arg, true);
}

static void
idle_line(struct imap_session *s, struct span line)
{
	s->idling = false;
	imap_reader_line_mode(&s->rd, false);
	s->ops->idle(s->arg, false);
	if (!span_caseeq(line, "DONE")) {
		reply_bad(s, s->tag, "Expected DONE");
		return;
	}
	reply(s, "OK", "IDLE terminated");
}

static void
cmd_end(struct imap_session *s)
{
	if (s->have_cmd) {
		imap_cmd_free(&s->cmd);
		s->have_cmd = false;
	}
}

/* Which state a command needs. */
static bool
command_allowed(struct imap_session *s, const struct imap_cmd *c)
{
	switch (c->name) {
	case IMAP_CMD_CAPABILITY:
	case IMAP_CMD_NOOP:
	case IMAP_CMD_LOGOUT:
	case IMAP_CMD_ID:
		return true;
	case IMAP_CMD_STARTTLS:
	case IMAP_CMD_AUTHENTICATE:
	case IMAP_CMD_LOGIN:
		if (s->state == IMAP_STATE_NOT_AUTH)
			return true;
		reply_bad(s, s->tag, "Already logged in");
		return false;
	case IMAP_CMD_CHECK:
	case IMAP_CMD_CLOSE:
	case IMAP_CMD_UNSELECT:
	case IMAP_CMD_EXPUNGE:
	case IMAP_CMD_SEARCH:
	case IMAP_CMD_FETCH:
	case IMAP_CMD_STORE:
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
	case IMAP_CMD_SORT:
	case IMAP_CMD_THREAD:
		if (s->state == IMAP_STATE_SELECTED)
			return true;
		reply_bad(s, s->tag, s->state == IMAP_STATE_NOT_AUTH ?
		    "Log in first" : "No mailbox selected");
		return false;
	case IMAP_CMD_ENABLE:
		if (s->state == IMAP_STATE_AUTH)
			return true;
		reply_bad(s, s->tag, s->state == IMAP_STATE_NOT_AUTH ?
		    "Log in first" : "ENABLE is not allowed with a mailbox "
		    "selected");
		return false;
	default:
		if (s->state != IMAP_STATE_NOT_AUTH)
			return true;
		reply_bad(s, s->tag, "Log in first");
		return false;
	}
}

static void
command(struct imap_session *s, struct span data)
{
	struct imap_cmd	*c = &s->cmd;
	const char	*err = NULL;

	cmd_end(s);
	if (imap_parse_command(data.ptr, data.len, c, &err) == -1) {
		if (c->tag.len > 0)
			memcpy(s->tag, c->tag.ptr, c->tag.len);
		s->tag[c->tag.len] = '\0';
		imap_cmd_free(c);
		reply_bad(s, s->tag, err);
		return;
	}
	memcpy(s->tag, c->tag.ptr, c->tag.len);
	s->tag[c->tag.len] = '\0';
	s->have_cmd = true;
	if (!command_allowed(s, c))
		goto done;
	s->bad = 0;
	switch (c->name) {
	case IMAP_CMD_CAPABILITY:
		cmd_capability(s);
		break;
	case IMAP_CMD_LOGOUT:
		cmd_logout(s);
		break;
	case IMAP_CMD_ID:
		cmd_id(s);
		break;
	case IMAP_CMD_STARTTLS:
		cmd_starttls(s);
		break;
	case IMAP_CMD_LOGIN:
		cmd_login(s, c);
		break;
	case IMAP_CMD_AUTHENTICATE:
		cmd_authenticate(s, c);
		break;
	case IMAP_CMD_NOOP:
		if (s->state == IMAP_STATE_NOT_AUTH) {
			reply(s, "OK", "NOOP completed");
			break;
		}
		goto server;
	case IMAP_CMD_ENABLE:
		cmd_enable(s);
		break;
	case IMAP_CMD_NAMESPACE:
		cmd_namespace(s);
		break;
	case IMAP_CMD_IDLE:
		cmd_idle(s);
		break;
	default:
	server:
		/* The command is the server's until imap_session_done(). */
		s->wait = IMAP_WAIT_COMMAND;
		s->ops->command(s->arg, c);
		return;
	}
done:
	imap_cmd_free(c);
	s->have_cmd = false;
}

static void
line(struct imap_session *s, struct span data)
{
	if (s->idling)
		idle_line(s, data);
	else if (s->sasl)
		auth_response(s, data);
	else
		fatalx("imap_session: a line nobody asked for");
}

/* The interface */

struct imap_session *
imap_session_new(const struct imap_params *params,
    const struct imap_session_ops *ops, void *arg)
{
	struct imap_session	*s;

	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->arg = arg;
	if (params->hostname != NULL)
		printable(params->hostname, strnlen(params->hostname,
		    IMAP_HOST_MAX), s->hostname, sizeof(s->hostname));
	s->tls_available = params->tls_available;
	s->plaintext_auth = params->plaintext_auth;
	s->appendlimit = params->appendlimit > 0 ? params->appendlimit :
	    IMAP_APPENDLIMIT_DEFAULT;
	s->max_bad = params->max_bad > 0 ? params->max_bad :
	    IMAP_SESSION_BAD_MAX;
	s->state = IMAP_STATE_NOT_AUTH;
	imap_reader_init(&s->rd, s->appendlimit);
	return s;
}

void
imap_session_start(struct imap_session *s)
{
	char	c[IMAP_CAPS_MAX];

	/* RFC 9051 §7.1: the capabilities in the greeting save a trip. */
	caps(s, c, sizeof(c));
	imap_session_untagged(s, "OK [CAPABILITY %s] %s IMAP cachet ready", c,
	    s->hostname);
}

void
imap_session_free(struct imap_session *s)
{
	if (s == NULL)
		return;
	auth_forget(s);
	if (s->have_cmd)
		imap_cmd_free(&s->cmd);
	imap_reader_free(&s->rd);
	free(s->user);
	free(s);
}

size_t
imap_session_input(struct imap_session *s, const char *p, size_t len)
{
	size_t		off = 0, used;
	enum imap_read	rc;

	while (off < len && !s->closing && s->wait == IMAP_WAIT_NONE &&
	    !s->stop_input) {
		rc = imap_reader_input(&s->rd, p + off, len - off, &used);
		off += used;
		switch (rc) {
		case IMAP_READ_MORE:
			break;
		case IMAP_READ_COMMAND:
			command(s, imap_reader_data(&s->rd));
			break;
		case IMAP_READ_LINE:
			line(s, imap_reader_data(&s->rd));
			break;
		case IMAP_READ_CONTINUE:
			/* RFC 9051 §7.5: ready for the literal */
			imap_session_send(s, "+ Ready for literal data\r\n", 26);
			break;
		case IMAP_READ_REFUSE:
			if (imap_reader_refuse_no(&s->rd))
				session_line(s, imap_reader_tag(&s->rd),
				    "NO %s", imap_reader_error(&s->rd));
			else
				reply_bad(s, imap_reader_tag(&s->rd),
				    imap_reader_error(&s->rd));
			break;
		case IMAP_READ_CLOSE:
			if (strcmp(imap_reader_tag(&s->rd), "*") != 0)
				session_line(s, imap_reader_tag(&s->rd),
				    "BAD %s", imap_reader_error(&s->rd));
			bye(s, imap_reader_error(&s->rd));
			break;
		}
	}
	s->stop_input = false;
	return s->closing ? len : off;
}

bool
imap_session_waiting(const struct imap_session *s)
{
	return s->wait != IMAP_WAIT_NONE;
}

bool
imap_session_closing(const struct imap_session *s)
{
	return s->closing;
}

bool
imap_session_idling(const struct imap_session *s)
{
	return s->idling;
}

bool
imap_session_authenticated(const struct imap_session *s)
{
	return s->state == IMAP_STATE_AUTH || s->state == IMAP_STATE_SELECTED;
}

void
imap_session_tls_started(struct imap_session *s)
{
	if (s->closing)
		return;
	/* After STARTTLS, or before the greeting for implicit TLS. */
	if (s->wait != IMAP_WAIT_TLS && s->wait != IMAP_WAIT_NONE)
		fatalx("imap_session: TLS started while waiting");
	s->wait = IMAP_WAIT_NONE;
	/* RFC 9051 §6.2.1: what was learnt before TLS is forgotten. */
	auth_forget(s);
	s->tls = true;
}

static void
auth_refused(struct imap_session *s, enum imap_auth_result r)
{
	auth_forget(s);
	if (r == IMAP_AUTH_TEMPFAIL)
		/* RFC 5530 §3 */
		reply(s, "NO", "[UNAVAILABLE] Temporary failure, try again "
		    "later");
	else
		reply(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
}

void
imap_session_auth_result(struct imap_session *s, enum imap_auth_result r)
{
	char	c[IMAP_CAPS_MAX];

	if (s->closing)
		return;
	if (s->wait != IMAP_WAIT_AUTH || s->sx.step != SASL_SERVER_IDLE ||
	    s->pending == NULL)
		fatalx("imap_session: unexpected login result");
	s->wait = IMAP_WAIT_NONE;
	if (r != IMAP_AUTH_OK) {
		auth_refused(s, r);
		cmd_end(s);
		return;
	}
	free(s->user);
	s->user = s->pending;
	s->pending = NULL;
	auth_forget(s);
	s->state = IMAP_STATE_AUTH;
	/* RFC 9051 §6.2.3: the new capabilities in the OK */
	caps(s, c, sizeof(c));
	reply(s, "OK", "[CAPABILITY %s] Logged in", c);
	cmd_end(s);
}

void
imap_session_scram_challenge(struct imap_session *s, enum imap_auth_result r,
    const struct sasl_scram_challenge *ch)
{
	char	line_[SASL_CHALLENGE_LINE_MAX];
	size_t	len;

	if (s->closing)
		return;
	if (s->wait != IMAP_WAIT_AUTH || !sasl_server_waiting_salt(&s->sx))
		fatalx("imap_session: unexpected SCRAM challenge");
	s->wait = IMAP_WAIT_NONE;
	if (r != IMAP_AUTH_OK) {
		auth_refused(s, IMAP_AUTH_TEMPFAIL);
		cmd_end(s);
		return;
	}
	if ((len = sasl_server_scram_challenge(&s->sx, ch, "+ ", line_)) == 0)
		fatalx("imap_session: SCRAM challenge out of bounds");
	sasl_continue(s, line_, len);
}

void
imap_session_scram_result(struct imap_session *s, enum imap_auth_result r,
    const unsigned char *sig)
{
	char	line_[SASL_CHALLENGE_LINE_MAX];

	if (s->closing)
		return;
	if (s->wait != IMAP_WAIT_AUTH || !sasl_server_waiting_proof(&s->sx))
		fatalx("imap_session: unexpected SCRAM result");
	s->wait = IMAP_WAIT_NONE;
	if (r != IMAP_AUTH_OK) {
		auth_refused(s, r);
		cmd_end(s);
		return;
	}
	sasl_continue(s, line_, sasl_server_scram_signature(&s->sx, sig, "+ ",
	    line_));
}

void
imap_session_done(struct imap_session *s, enum imap_status st,
    const char *fmt, ...)
{
	char	prefix[IMAP_TAG_MAX + 8];
	va_list	ap;

	if (s->closing)
		return;
	if (s->wait != IMAP_WAIT_COMMAND)
		fatalx("imap_session: a command ends that did not begin");
	s->wait = IMAP_WAIT_NONE;
	(void)snprintf(prefix, sizeof(prefix), "%s %s", s->tag, st == IMAP_OK ?
	    "OK" : st == IMAP_NO ? "NO" : "BAD");
	va_start(ap, fmt);
	session_vline(s, prefix, fmt, ap);
	va_end(ap);
	cmd_end(s);
	if (st == IMAP_BAD && ++s->bad >= s->max_bad)
		bye(s, "Too many invalid commands");
}

void
imap_session_set_selected(struct imap_session *s, bool selected)
{
	if (s->state == IMAP_STATE_AUTH || s->state == IMAP_STATE_SELECTED)
		s->state = selected ? IMAP_STATE_SELECTED : IMAP_STATE_AUTH;
}

bool
imap_session_selected(const struct imap_session *s)
{
	return s->state == IMAP_STATE_SELECTED;
}

void
imap_session_timeout(struct imap_session *s)
{
	bye(s, "Autologout; idle for too long");
}

void
imap_session_bye(struct imap_session *s, const char *text)
{
	bye(s, text);
}

const char *
imap_session_user(const struct imap_session *s)
{
	return s->user;
}

uint64_t
imap_session_appendlimit(const struct imap_session *s)
{
	return s->appendlimit;
}

/* Strings on the wire (RFC 9051 §4.3) */

int
imap_session_buf_string(struct buf *b, struct span str)
{
	size_t	i;
	bool	quoted = str.len <= IMAP_QUOTED_MAX;

	for (i = 0; i < str.len && quoted; i++) {
		unsigned char	c = (unsigned char)str.ptr[i];

		if (c < 0x20 || c >= 0x7f)
			quoted = false;
	}
	if (!quoted)
		return buf_printf(b, "{%zu}\r\n", str.len) == -1 ||
		    buf_append(b, str.ptr, str.len) == -1 ? -1 : 0;
	if (buf_append_char(b, '"') == -1)
		return -1;
	for (i = 0; i < str.len; i++) {
		if ((str.ptr[i] == '"' || str.ptr[i] == '\\') &&
		    buf_append_char(b, '\\') == -1)
			return -1;
		if (buf_append_char(b, str.ptr[i]) == -1)
			return -1;
	}
	return buf_append_char(b, '"');
}

int
imap_session_buf_nstring(struct buf *b, struct span str)
{
	if (str.ptr == NULL)
		return buf_append_str(b, "NIL");
	return imap_session_buf_string(b, str);
}
