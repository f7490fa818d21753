/*
 * Unit tests for smtp_client: dialogues with a scripted server, one
 * cmocka test per transcript.  A script is lines:
 *
 *   S text     the server sends "text" CRLF
 *   R text     the server sends raw text (\r, \n, \t, \\ and \xHH escapes)
 *   C text     the client must have sent the line "text" CRLF next
 *   B text     the client must have sent these raw octets next (escapes)
 *   E event    the next callback must be this (see ev_*)
 *   ! action   mail, pump, pump1 (one octet at a time), quit, tls,
 *              fail WHY, mailfail (smtp_client_mail must return -1)
 *   T n        smtp_client_timeout() must be n now
 *
 * At the end every octet the client sent and every callback must have
 * been matched.  Events read "ready", "starttls", "done",
 * "rcpt I CODE ENH [local ]TEXT" and "close CODE ENH STAGE [local ]TEXT",
 * with the lines of a reply joined by "/".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "smtp_client.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

enum pcfg {
	P_PLAIN,	/* no TLS */
	P_MAY,		/* opportunistic STARTTLS */
	P_MUST,		/* TLS required */
	P_AUTH,		/* AUTH PLAIN, allowed in the clear */
	P_AUTH_TLS,	/* AUTH PLAIN, TLS required for it */
	P_TLS_ON,	/* implicit TLS, AUTH */
	P_VERIFIED,	/* implicit TLS, verified (DANE or MTA-STS) */
};

enum mcfg {
	M_ONE,		/* one recipient */
	M_TWO,		/* two recipients */
	M_THREE,	/* three recipients */
	M_DSN,		/* NOTIFY, ORCPT, ENVID, RET, 8BITMIME, SIZE */
	M_UTF8,		/* needs SMTPUTF8 */
	M_UTF8_ADDR,	/* a non-ASCII recipient, flag unset */
	M_BIG,		/* 100000 octets */
	M_BIN,		/* BINARYMIME */
	M_BADRCPT,	/* one bad recipient among good ones */
	M_ALLBAD,	/* only bad recipients */
	M_NULLFROM,	/* a bounce, from <> */
	M_NOTIFY,	/* NOTIFY variants */
	M_REQUIRETLS,	/* RFC 8689 */
};

struct mock {
	struct smtp_client	*c;
	struct buf		 in;	/* unconsumed server bytes */
	struct buf		 out;	/* what the client sent */
	size_t			 outpos;
	struct buf		 ev;	/* callbacks, one a line */
	size_t			 evpos;
	struct smtp_client_msg	 msg;
	const char		*body;
	size_t			 bodylen, bodypos;
	size_t			 readmax;	/* per read, 0 no limit */
	bool			 readfail;
	bool			 closed;
	bool			 in_txn;
	size_t			 rcpts_done;
};

static void
ev(struct mock *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ev(struct mock *m, const char *fmt, ...)
{
	char	line[8192];
	va_list	ap;
	size_t	i;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(line));
	for (i = 0; i < (size_t)n; i++)
		if (line[i] == '\n')
			line[i] = '/';
	assert_int_equal(buf_append(&m->ev, line, (size_t)n), 0);
	assert_int_equal(buf_append_char(&m->ev, '\n'), 0);
}

static void
m_send(void *arg, const char *p, size_t len)
{
	struct mock	*m = arg;

	assert_false(m->closed);
	assert_true(len > 0);
	assert_int_equal(buf_append(&m->out, p, len), 0);
}

static void
m_starttls(void *arg)
{
	ev(arg, "starttls");
}

static void
m_ready(void *arg)
{
	struct mock	*m = arg;

	assert_false(m->in_txn);
	ev(m, "ready");
}

static ssize_t
m_read(void *arg, char *buf, size_t len)
{
	struct mock	*m = arg;
	size_t		 n;

	assert_true(m->in_txn);
	if (m->readfail)
		return -1;
	n = m->bodylen - m->bodypos;
	if (n > len)
		n = len;
	if (m->readmax > 0 && n > m->readmax)
		n = m->readmax;
	memcpy(buf, m->body + m->bodypos, n);
	m->bodypos += n;
	return (ssize_t)n;
}

static void
m_rcpt_done(void *arg, size_t i, const struct smtp_client_reply *r)
{
	struct mock	*m = arg;

	assert_true(m->in_txn);
	assert_int_equal(i, m->rcpts_done);
	m->rcpts_done++;
	assert_int_equal(strlen(r->text), r->len);
	ev(m, "rcpt %zu %d %s %s%s", i, r->code,
	    r->enhanced[0] ? r->enhanced : "-", r->local ? "local " : "",
	    r->text);
}

static void
m_done(void *arg)
{
	struct mock	*m = arg;

	assert_true(m->in_txn);
	assert_int_equal(m->rcpts_done, m->msg.nrcpts);
	m->in_txn = false;
	ev(m, "done");
}

static void
m_close(void *arg, const struct smtp_client_reply *r)
{
	struct mock	*m = arg;

	assert_false(m->closed);
	assert_false(m->in_txn);
	m->closed = true;
	ev(m, "close %d %s %s %s%s", r->code,
	    r->enhanced[0] ? r->enhanced : "-",
	    smtp_client_stage_name(r->stage), r->local ? "local " : "",
	    r->text);
}

static const struct smtp_client_ops mock_ops = {
	.send = m_send,
	.starttls = m_starttls,
	.ready = m_ready,
	.read = m_read,
	.rcpt_done = m_rcpt_done,
	.done = m_done,
	.close = m_close,
};

/* Messages */

static const char body_simple[] =
    "Subject: hello\r\n\r\nHello.\r\n";

static const struct smtp_client_rcpt rc_one[] = {
	{ "bob@example.net", 0, NULL },
};
static const struct smtp_client_rcpt rc_two[] = {
	{ "bob@example.net", 0, NULL },
	{ "carol@example.net", 0, NULL },
};
static const struct smtp_client_rcpt rc_three[] = {
	{ "a@example.net", 0, NULL },
	{ "b@example.net", 0, NULL },
	{ "c@example.net", 0, NULL },
};
static const struct smtp_client_rcpt rc_dsn[] = {
	{ "bob@example.net", SMTP_CLIENT_NOTIFY_SUCCESS |
	    SMTP_CLIENT_NOTIFY_FAILURE, "rfc822;Bob+x=y@example.net" },
	{ "carol@example.net", SMTP_CLIENT_NOTIFY_NEVER, NULL },
};
static const struct smtp_client_rcpt rc_utf8[] = {
	{ "j\xc3\xb6rg@example.net", 0, NULL },
};
static const struct smtp_client_rcpt rc_bad[] = {
	{ "bob@example.net", 0, NULL },
	{ "bad address@example.net", 0, NULL },
	{ "carol@example.net", 0, NULL },
};
static const struct smtp_client_rcpt rc_allbad[] = {
	{ "<x>@example.net", 0, NULL },
	{ "", 0, NULL },
};
static const struct smtp_client_rcpt rc_notify[] = {
	{ "a@example.net", SMTP_CLIENT_NOTIFY_DELAY, NULL },
	{ "b@example.net", SMTP_CLIENT_NOTIFY_FAILURE |
	    SMTP_CLIENT_NOTIFY_DELAY, "utf-8;caf\xc3\xa9@example.net" },
	{ "c@example.net", SMTP_CLIENT_NOTIFY_SUCCESS |
	    SMTP_CLIENT_NOTIFY_FAILURE | SMTP_CLIENT_NOTIFY_DELAY, "bad" },
};

static void
mock_msg(struct mock *m, enum mcfg mc)
{
	memset(&m->msg, 0, sizeof(m->msg));
	m->msg.from = "alice@example.org";
	m->msg.size = sizeof(body_simple) - 1;
	m->msg.rcpts = rc_one;
	m->msg.nrcpts = 1;
	m->body = body_simple;
	m->bodylen = sizeof(body_simple) - 1;
	switch (mc) {
	case M_ONE:
		break;
	case M_TWO:
		m->msg.rcpts = rc_two;
		m->msg.nrcpts = 2;
		break;
	case M_THREE:
		m->msg.rcpts = rc_three;
		m->msg.nrcpts = 3;
		break;
	case M_DSN:
		m->msg.rcpts = rc_dsn;
		m->msg.nrcpts = 2;
		m->msg.body = SMTP_CLIENT_BODY_8BITMIME;
		m->msg.ret = SMTP_CLIENT_RET_HDRS;
		m->msg.envid = "QID+1=2";
		break;
	case M_UTF8:
		m->msg.smtputf8 = true;
		break;
	case M_UTF8_ADDR:
		m->msg.rcpts = rc_utf8;
		break;
	case M_BIG:
		m->msg.size = 100000;
		break;
	case M_BIN:
		m->msg.body = SMTP_CLIENT_BODY_BINARYMIME;
		break;
	case M_BADRCPT:
		m->msg.rcpts = rc_bad;
		m->msg.nrcpts = 3;
		break;
	case M_ALLBAD:
		m->msg.rcpts = rc_allbad;
		m->msg.nrcpts = 2;
		break;
	case M_NULLFROM:
		m->msg.from = "";
		break;
	case M_NOTIFY:
		m->msg.rcpts = rc_notify;
		m->msg.nrcpts = 3;
		m->msg.ret = SMTP_CLIENT_RET_FULL;
		break;
	case M_REQUIRETLS:
		m->msg.requiretls = true;
		break;
	}
}

static void
mock_init(struct mock *m, enum pcfg pc, enum mcfg mc)
{
	struct smtp_client_params	p;

	memset(m, 0, sizeof(*m));
	buf_init(&m->in, 1 << 20);
	buf_init(&m->out, 1 << 24);
	buf_init(&m->ev, 1 << 20);
	memset(&p, 0, sizeof(p));
	p.helo = "me.example.org";
	switch (pc) {
	case P_PLAIN:
		p.tls = SMTP_CLIENT_TLS_NO;
		break;
	case P_MAY:
		p.tls = SMTP_CLIENT_TLS_MAY;
		break;
	case P_MUST:
		p.tls = SMTP_CLIENT_TLS_MUST;
		break;
	case P_AUTH:
		p.tls = SMTP_CLIENT_TLS_NO;
		p.auth_user = "alice";
		p.auth_pass = "secret";
		p.auth_plaintext = true;
		break;
	case P_AUTH_TLS:
		p.tls = SMTP_CLIENT_TLS_MAY;
		p.auth_user = "alice";
		p.auth_pass = "secret";
		break;
	case P_TLS_ON:
		p.tls = SMTP_CLIENT_TLS_MUST;
		p.tls_on = true;
		p.auth_user = "alice";
		p.auth_pass = "secret";
		break;
	case P_VERIFIED:
		p.tls = SMTP_CLIENT_TLS_MUST;
		p.tls_on = true;
		p.tls_verified = true;
		break;
	}
	mock_msg(m, mc);
	m->c = smtp_client_new(&p, &mock_ops, m);
}

static void
mock_free(struct mock *m)
{
	smtp_client_free(m->c);
	buf_free(&m->in);
	buf_free(&m->out);
	buf_free(&m->ev);
}

static void
feed(struct mock *m, const char *p, size_t len)
{
	size_t	n;

	assert_int_equal(buf_append(&m->in, p, len), 0);
	n = smtp_client_input(m->c, m->in.data, m->in.len);
	assert_true(n <= m->in.len);
	buf_consume(&m->in, n);
}

static size_t
unescape(const char *s, char *out)
{
	size_t	o = 0;
	char	hex[3];

	while (*s != '\0') {
		if (*s != '\\') {
			out[o++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r':
			out[o++] = '\r';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'x':
			hex[0] = s[1];
			hex[1] = s[2];
			hex[2] = '\0';
			out[o++] = (char)strtoul(hex, NULL, 16);
			s += 2;
			break;
		default:
			out[o++] = *s;
			break;
		}
		s++;
	}
	return o;
}

static void
expect_out(struct mock *m, const char *p, size_t len)
{
	size_t	have = m->out.len - m->outpos;

	if (have < len || memcmp(m->out.data + m->outpos, p, len) != 0)
		fail_msg("client sent \"%.*s\", expected \"%.*s\"",
		    (int)(have < len + 40 ? have : len + 40),
		    m->out.data + m->outpos, (int)len, p);
	m->outpos += len;
}

static void
expect_event(struct mock *m, const char *want)
{
	const char	*p = m->ev.data + m->evpos, *nl;
	size_t		 l;

	if (m->evpos >= m->ev.len)
		fail_msg("no event, expected \"%s\"", want);
	nl = memchr(p, '\n', m->ev.len - m->evpos);
	assert_non_null(nl);
	l = (size_t)(nl - p);
	if (l != strlen(want) || memcmp(p, want, l) != 0)
		fail_msg("event \"%.*s\", expected \"%s\"", (int)l, p, want);
	m->evpos += l + 1;
}

static void
action(struct mock *m, const char *a)
{
	if (strcmp(a, "mail") == 0) {
		m->in_txn = true;
		m->rcpts_done = 0;
		m->bodypos = 0;
		assert_int_equal(smtp_client_mail(m->c, &m->msg), 0);
	} else if (strcmp(a, "mailfail") == 0) {
		m->in_txn = true;
		m->rcpts_done = 0;
		assert_int_equal(smtp_client_mail(m->c, &m->msg), -1);
		assert_false(m->in_txn);
	} else if (strcmp(a, "pump") == 0) {
		assert_true(smtp_client_wants_body(m->c));
		while (smtp_client_wants_body(m->c))
			smtp_client_pump(m->c, 65536);
	} else if (strcmp(a, "pump1") == 0) {
		m->readmax = 1;
		while (smtp_client_wants_body(m->c))
			smtp_client_pump(m->c, 1);
		m->readmax = 0;
	} else if (strcmp(a, "readfail") == 0) {
		m->readfail = true;
		smtp_client_pump(m->c, 65536);
	} else if (strcmp(a, "quit") == 0)
		smtp_client_quit(m->c);
	else if (strcmp(a, "tls") == 0)
		smtp_client_tls_started(m->c);
	else if (strncmp(a, "fail ", 5) == 0)
		smtp_client_fail(m->c, a + 5);
	else
		fail_msg("unknown action %s", a);
}

static void
run_script(struct mock *m, const char *script)
{
	const char	*p = script, *nl;
	char		 line[4096], raw[4096];
	size_t		 l, n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		l = nl ? (size_t)(nl - p) : strlen(p);
		assert_true(l < sizeof(line));
		memcpy(line, p, l);
		line[l] = '\0';
		p += l + (nl ? 1 : 0);
		if (l == 0 || line[0] == '#')
			continue;
		assert_true(l >= 2 && line[1] == ' ');
		switch (line[0]) {
		case 'S':
			n = (size_t)snprintf(raw, sizeof(raw), "%s\r\n",
			    line + 2);
			feed(m, raw, n);
			break;
		case 'R':
			n = unescape(line + 2, raw);
			feed(m, raw, n);
			break;
		case 'C':
			n = (size_t)snprintf(raw, sizeof(raw), "%s\r\n",
			    line + 2);
			expect_out(m, raw, n);
			break;
		case 'B':
			n = unescape(line + 2, raw);
			expect_out(m, raw, n);
			break;
		case 'E':
			expect_event(m, line + 2);
			break;
		case '!':
			action(m, line + 2);
			break;
		case 'T':
			assert_int_equal(smtp_client_timeout(m->c),
			    strtoul(line + 2, NULL, 10));
			break;
		default:
			fail_msg("bad script line %s", line);
		}
	}
	if (m->outpos != m->out.len)
		fail_msg("client also sent \"%.*s\"",
		    (int)(m->out.len - m->outpos), m->out.data + m->outpos);
	if (m->evpos != m->ev.len)
		fail_msg("unexpected events \"%.*s\"",
		    (int)(m->ev.len - m->evpos), m->ev.data + m->evpos);
}

/* Common openings */
#define HELLO \
	"S 220 mx.example.net ESMTP\n" \
	"C EHLO me.example.org\n"
#define EHLO_BASIC \
	"S 250-mx.example.net\n" \
	"S 250-8BITMIME\n" \
	"S 250-ENHANCEDSTATUSCODES\n" \
	"S 250 SIZE 10000\n" \
	"E ready\n"
#define EHLO_PIPE \
	"S 250-mx.example.net\n" \
	"S 250-PIPELINING\n" \
	"S 250-8BITMIME\n" \
	"S 250-ENHANCEDSTATUSCODES\n" \
	"S 250 SIZE 10000\n" \
	"E ready\n"
#define SEND_BODY \
	"B Subject: hello\\r\\n\\r\\nHello.\\r\\n.\\r\\n\n"

struct script_case {
	const char	*name;
	enum pcfg	 pc;
	enum mcfg	 mc;
	const char	*script;
};

static const struct script_case script_cases[] = {
	{ "one message, one recipient, no pipelining", P_PLAIN, M_ONE,
	    "T 300\n" HELLO "T 300\n" EHLO_BASIC
	    "T 0\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "T 300\n"
	    "S 250 2.1.0 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 250 2.1.5 Ok\n"
	    "C DATA\n"
	    "T 120\n"
	    "S 354 End data with <CR><LF>.<CR><LF>\n"
	    "T 180\n"
	    "! pump\n" SEND_BODY
	    "T 600\n"
	    "S 250 2.0.0 Ok: queued as 4Xyz\n"
	    "E rcpt 0 250 2.0.0 250 2.0.0 Ok: queued as 4Xyz\n"
	    "E done\n"
	    "E ready\n"
	    "T 0\n"
	    "! quit\n"
	    "C QUIT\n"
	    "S 221 2.0.0 Bye\n"
	    "E close 221 2.0.0 quit 221 2.0.0 Bye\n"
	    "T 0\n" },
	{ "pipelining sends MAIL, RCPTs and DATA at once", P_PLAIN, M_TWO,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C RCPT TO:<carol@example.net>\n"
	    "C DATA\n"
	    "S 250 2.1.0 Ok\n"
	    "S 250 2.1.5 Ok\n"
	    "S 550 5.1.1 <carol@example.net>: Recipient address rejected\n"
	    "S 354 Go ahead\n"
	    "! pump\n" SEND_BODY
	    "S 250 2.0.0 Ok: queued\n"
	    "E rcpt 0 250 2.0.0 250 2.0.0 Ok: queued\n"
	    "E rcpt 1 550 5.1.1 550 5.1.1 <carol@example.net>: Recipient "
	    "address rejected\n"
	    "E done\n"
	    "E ready\n" },
	{ "pipelined replies in one packet", P_PLAIN, M_ONE,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C DATA\n"
	    "R 250 2.1.0 Ok\\r\\n250 2.1.5 Ok\\r\\n354 Go\\r\\n\n"
	    "! pump\n" SEND_BODY
	    "S 250 2.0.0 Ok\n"
	    "E rcpt 0 250 2.0.0 250 2.0.0 Ok\n"
	    "E done\n"
	    "E ready\n" },
	{ "pipelining, every recipient refused: DATA 554", P_PLAIN, M_TWO,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C RCPT TO:<carol@example.net>\n"
	    "C DATA\n"
	    "S 250 2.1.0 Ok\n"
	    "S 550 5.1.1 no bob\n"
	    "S 450 4.2.0 carol greylisted\n"
	    "S 554 5.5.1 Error: no valid recipients\n"
	    "E rcpt 0 550 5.1.1 550 5.1.1 no bob\n"
	    "E rcpt 1 450 4.2.0 450 4.2.0 carol greylisted\n"
	    "E done\n"
	    "E ready\n" },
	{ "pipelining, every recipient refused but DATA 354: just a dot",
	    P_PLAIN, M_ONE,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C DATA\n"
	    "S 250 2.1.0 Ok\n"
	    "S 550 5.1.1 no bob\n"
	    "S 354 Go ahead anyway\n"
	    "C .\n"
	    "T 600\n"
	    "S 554 5.5.1 no recipients\n"
	    "E rcpt 0 550 5.1.1 550 5.1.1 no bob\n"
	    "E done\n"
	    "E ready\n" },
	{ "pipelining, MAIL refused: recipients get the MAIL reply", P_PLAIN,
	    M_TWO,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C RCPT TO:<carol@example.net>\n"
	    "C DATA\n"
	    "S 553 5.7.1 <alice@example.org>: Sender address rejected\n"
	    "S 503 5.5.1 Error: need MAIL command\n"
	    "S 503 5.5.1 Error: need MAIL command\n"
	    "S 503 5.5.1 Error: need MAIL command\n"
	    "E rcpt 0 553 5.7.1 553 5.7.1 <alice@example.org>: Sender "
	    "address rejected\n"
	    "E rcpt 1 553 5.7.1 553 5.7.1 <alice@example.org>: Sender "
	    "address rejected\n"
	    "E done\n"
	    "E ready\n" },
	{ "no pipelining, MAIL refused: no RCPT sent", P_PLAIN, M_TWO,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 451 4.3.0 try later\n"
	    "E rcpt 0 451 4.3.0 451 4.3.0 try later\n"
	    "E rcpt 1 451 4.3.0 451 4.3.0 try later\n"
	    "E done\n"
	    "E ready\n" },
	{ "no pipelining, every recipient refused: no DATA sent", P_PLAIN,
	    M_TWO,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 2.1.0 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 550 5.1.1 no bob\n"
	    "C RCPT TO:<carol@example.net>\n"
	    "S 550 5.1.1 no carol\n"
	    "E rcpt 0 550 5.1.1 550 5.1.1 no bob\n"
	    "E rcpt 1 550 5.1.1 550 5.1.1 no carol\n"
	    "E done\n"
	    "E ready\n" },
	{ "DATA refused: accepted recipients get its reply", P_PLAIN, M_TWO,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 2.1.0 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 250 2.1.5 Ok\n"
	    "C RCPT TO:<carol@example.net>\n"
	    "S 550 5.1.1 no carol\n"
	    "C DATA\n"
	    "S 451 4.3.0 queue full\n"
	    "E rcpt 0 451 4.3.0 451 4.3.0 queue full\n"
	    "E rcpt 1 550 5.1.1 550 5.1.1 no carol\n"
	    "E done\n"
	    "E ready\n" },
	{ "reply after the dot: 5xx for every accepted recipient", P_PLAIN,
	    M_TWO,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C RCPT TO:<carol@example.net>\n"
	    "C DATA\n"
	    "S 250 2.1.0 Ok\n"
	    "S 250 2.1.5 Ok\n"
	    "S 250 2.1.5 Ok\n"
	    "S 354 Go\n"
	    "! pump\n" SEND_BODY
	    "S 554-5.7.1 Message rejected as spam\n"
	    "S 554 5.7.1 see https://example.net/why\n"
	    "E rcpt 0 554 5.7.1 554-5.7.1 Message rejected as spam/554 5.7.1 "
	    "see https://example.net/why\n"
	    "E rcpt 1 554 5.7.1 554-5.7.1 Message rejected as spam/554 5.7.1 "
	    "see https://example.net/why\n"
	    "E done\n"
	    "E ready\n" },
	{ "second message on the connection starts with RSET", P_PLAIN,
	    M_ONE,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C DATA\n"
	    "S 250 2.1.0 Ok\n"
	    "S 250 2.1.5 Ok\n"
	    "S 354 Go\n"
	    "! pump\n" SEND_BODY
	    "S 250 2.0.0 Ok: one\n"
	    "E rcpt 0 250 2.0.0 250 2.0.0 Ok: one\n"
	    "E done\n"
	    "E ready\n"
	    "! mail\n"
	    "C RSET\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C DATA\n"
	    "S 250 2.0.0 Ok\n"
	    "S 250 2.1.0 Ok\n"
	    "S 250 2.1.5 Ok\n"
	    "S 354 Go\n"
	    "! pump\n" SEND_BODY
	    "S 250 2.0.0 Ok: two\n"
	    "E rcpt 0 250 2.0.0 250 2.0.0 Ok: two\n"
	    "E done\n"
	    "E ready\n"
	    "! quit\n"
	    "C QUIT\n"
	    "! fail connection closed\n"
	    "E close 221 2.0.0 quit local 221 2.0.0 connection closed\n" },
	{ "RSET refused ends the session", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 2.1.0 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 550 5.1.1 no\n"
	    "E rcpt 0 550 5.1.1 550 5.1.1 no\n"
	    "E done\n"
	    "E ready\n"
	    "! mail\n"
	    "C RSET\n"
	    "S 452 4.3.1 nope\n"
	    "E rcpt 0 452 4.3.1 452 4.3.1 nope\n"
	    "E done\n"
	    "E close 452 4.3.1 rset 452 4.3.1 nope\n" },
	{ "RSET refused with 5xx: recipients deferred, not bounced",
	    P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 2.1.0 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 550 5.1.1 no\n"
	    "E rcpt 0 550 5.1.1 550 5.1.1 no\n"
	    "E done\n"
	    "E ready\n"
	    "! mail\n"
	    "C RSET\n"
	    "S 502 5.5.1 RSET not implemented\n"
	    "E rcpt 0 451 4.5.0 local 451 4.5.0 the server refused RSET\n"
	    "E done\n"
	    "E close 451 4.5.0 rset local 451 4.5.0 the server refused RSET\n"
	},
	{ "DSN parameters when DSN is offered", P_PLAIN, M_DSN,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250-DSN\n"
	    "S 250-8BITMIME\n"
	    "S 250 SIZE\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26 BODY=8BITMIME RET=HDRS "
	    "ENVID=QID+2B1+3D2\n"
	    "S 250 2.1.0 Ok\n"
	    "C RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;Bob+2Bx+3Dy@example.net\n"
	    "S 250 2.1.5 Ok\n"
	    "C RCPT TO:<carol@example.net> NOTIFY=NEVER\n"
	    "S 250 2.1.5 Ok\n"
	    "C DATA\n"
	    "S 354 Go\n"
	    "! pump\n" SEND_BODY
	    "S 250 2.0.0 Ok\n"
	    "E rcpt 0 250 2.0.0 250 2.0.0 Ok\n"
	    "E rcpt 1 250 2.0.0 250 2.0.0 Ok\n"
	    "E done\n"
	    "E ready\n" },
	{ "no DSN parameters without DSN, no BODY without 8BITMIME",
	    P_PLAIN, M_DSN,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 PIPELINING\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org>\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C RCPT TO:<carol@example.net>\n"
	    "C DATA\n" },
	{ "NOTIFY lists and ORCPT types", P_PLAIN, M_NOTIFY,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250-PIPELINING\n"
	    "S 250 DSN\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> RET=FULL\n"
	    "C RCPT TO:<a@example.net> NOTIFY=DELAY\n"
	    "C RCPT TO:<b@example.net> NOTIFY=FAILURE,DELAY "
	    "ORCPT=utf-8;caf+C3+A9@example.net\n"
	    "C RCPT TO:<c@example.net> NOTIFY=SUCCESS,FAILURE,DELAY\n"
	    "C DATA\n" },
	{ "null sender", P_PLAIN, M_NULLFROM,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<> SIZE=26\n" },
	{ "too large for SIZE: refused without sending", P_PLAIN, M_BIG,
	    HELLO EHLO_BASIC
	    "! mailfail\n"
	    "E rcpt 0 552 5.3.4 local 552 5.3.4 message of 100000 octets "
	    "exceeds the server's limit of 10000\n"
	    "E done\n"
	    "! quit\n"
	    "C QUIT\n" },
	{ "SIZE without a number: no limit", P_PLAIN, M_BIG,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 SIZE\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=100000\n" },
	{ "SIZE 0: no limit", P_PLAIN, M_BIG,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 SIZE 0\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=100000\n" },
	{ "SIZE absurd: no limit", P_PLAIN, M_BIG,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 SIZE 999999999999999999999999\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=100000\n" },
	{ "SMTPUTF8 needed, server without it: refused", P_PLAIN, M_UTF8,
	    HELLO EHLO_BASIC
	    "! mailfail\n"
	    "E rcpt 0 553 5.6.7 local 553 5.6.7 the message needs SMTPUTF8, "
	    "which the server does not support\n"
	    "E done\n" },
	{ "non-ASCII recipient needs SMTPUTF8", P_PLAIN, M_UTF8_ADDR,
	    HELLO EHLO_BASIC
	    "! mailfail\n"
	    "E rcpt 0 553 5.6.7 local 553 5.6.7 the message needs SMTPUTF8, "
	    "which the server does not support\n"
	    "E done\n" },
	{ "SMTPUTF8 given when needed and offered", P_PLAIN, M_UTF8_ADDR,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 SMTPUTF8\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SMTPUTF8\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<j\xc3\xb6rg@example.net>\n" },
	{ "REQUIRETLS without verified TLS: refused", P_PLAIN, M_REQUIRETLS,
	    HELLO EHLO_BASIC
	    "! mailfail\n"
	    "E rcpt 0 550 5.7.30 local 550 5.7.30 REQUIRETLS: neither DANE "
	    "nor an MTA-STS policy makes TLS to this server mandatory and "
	    "verified\n"
	    "E done\n" },
	{ "REQUIRETLS, server without it: refused", P_VERIFIED, M_REQUIRETLS,
	    HELLO EHLO_BASIC
	    "! mailfail\n"
	    "E rcpt 0 550 5.7.30 local 550 5.7.30 REQUIRETLS support "
	    "required, which the server does not announce\n"
	    "E done\n" },
	{ "REQUIRETLS passed on", P_VERIFIED, M_REQUIRETLS,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 REQUIRETLS\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> REQUIRETLS\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<bob@example.net>\n" },
	{ "binary content refused", P_PLAIN, M_BIN,
	    HELLO EHLO_BASIC
	    "! mailfail\n"
	    "E rcpt 0 554 5.6.3 local 554 5.6.3 binary content needs BDAT, "
	    "which we do not send\n"
	    "E done\n" },
	{ "a bad recipient is refused locally, the others go", P_PLAIN,
	    M_BADRCPT,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C RCPT TO:<carol@example.net>\n"
	    "C DATA\n"
	    "S 250 Ok\n"
	    "S 250 Ok\n"
	    "S 250 Ok\n"
	    "S 354 Go\n"
	    "! pump\n" SEND_BODY
	    "S 250 Ok\n"
	    "E rcpt 0 250 - 250 Ok\n"
	    "E rcpt 1 501 5.1.3 local 501 5.1.3 bad recipient address\n"
	    "E rcpt 2 250 - 250 Ok\n"
	    "E done\n"
	    "E ready\n" },
	{ "only bad recipients: nothing sent", P_PLAIN, M_ALLBAD,
	    HELLO EHLO_PIPE
	    "! mailfail\n"
	    "E rcpt 0 501 5.1.3 local 501 5.1.3 bad recipient address\n"
	    "E rcpt 1 501 5.1.3 local 501 5.1.3 bad recipient address\n"
	    "E done\n" },
	{ "4xx greeting: next host", P_PLAIN, M_ONE,
	    "S 421 4.3.2 mx.example.net busy, try later\n"
	    "E close 421 4.3.2 greeting 421 4.3.2 mx.example.net busy, try "
	    "later\n" },
	{ "554 greeting: next host", P_PLAIN, M_ONE,
	    "S 554-mx.example.net no SMTP service here\n"
	    "S 554 go away\n"
	    "E close 554 - greeting 554-mx.example.net no SMTP service "
	    "here/554 go away\n" },
	{ "greeting with a strange code", P_PLAIN, M_ONE,
	    "S 250 hello\n"
	    "E close 451 4.5.0 greeting local 451 4.5.0 protocol error: bad "
	    "greeting code\n" },
	{ "EHLO 5xx: HELO, no extensions", P_PLAIN, M_ONE,
	    HELLO
	    "S 502 5.5.2 Error: command not recognized\n"
	    "C HELO me.example.org\n"
	    "S 250 mx.example.net\n"
	    "E ready\n"
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org>\n" },
	{ "EHLO 4xx: next host", P_PLAIN, M_ONE,
	    HELLO
	    "S 450 4.7.1 slow down\n"
	    "E close 450 4.7.1 ehlo 450 4.7.1 slow down\n" },
	{ "HELO refused: next host", P_PLAIN, M_ONE,
	    HELLO
	    "S 500 what\n"
	    "C HELO me.example.org\n"
	    "S 550 no\n"
	    "E close 550 - helo 550 no\n" },
	{ "STARTTLS when offered, EHLO again after", P_MAY, M_ONE,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250-PIPELINING\n"
	    "S 250 STARTTLS\n"
	    "C STARTTLS\n"
	    "S 220 2.0.0 Ready to start TLS\n"
	    "E starttls\n"
	    "T 300\n"
	    "! tls\n"
	    "C EHLO me.example.org\n"
	    "S 250-mx.example.net\n"
	    "S 250-STARTTLS\n"
	    "S 250 SIZE 5\n"
	    "E ready\n"
	    "! mailfail\n"
	    "E rcpt 0 552 5.3.4 local 552 5.3.4 message of 26 octets exceeds "
	    "the server's limit of 5\n"
	    "E done\n" },
	{ "no STARTTLS with tls no", P_PLAIN, M_ONE,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 STARTTLS\n"
	    "E ready\n" },
	{ "STARTTLS refused, opportunistic: go on in clear", P_MAY, M_ONE,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 STARTTLS\n"
	    "C STARTTLS\n"
	    "S 454 4.7.0 TLS not available\n"
	    "E ready\n" },
	{ "STARTTLS refused, required: next host", P_MUST, M_ONE,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 STARTTLS\n"
	    "C STARTTLS\n"
	    "S 454 4.7.0 TLS not available\n"
	    "E close 454 4.7.0 starttls 454 4.7.0 TLS not available\n" },
	{ "STARTTLS not offered, required: next host", P_MUST, M_ONE,
	    HELLO
	    "S 250 mx.example.net\n"
	    "E close 451 4.7.0 ehlo local 451 4.7.0 TLS is required but the "
	    "server does not offer STARTTLS\n" },
	{ "reply injected after the 220 to STARTTLS", P_MAY, M_ONE,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 STARTTLS\n"
	    "C STARTTLS\n"
	    "R 220 Go\\r\\n250 fake\\r\\n\n"
	    "E close 451 4.5.0 starttls local 451 4.5.0 protocol error: data "
	    "after the STARTTLS reply\n" },
	{ "bytes before the handshake is done", P_MAY, M_ONE,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 STARTTLS\n"
	    "C STARTTLS\n"
	    "S 220 Go\n"
	    "E starttls\n"
	    "S 250 fake\n"
	    "E close 451 4.5.0 tls local 451 4.5.0 protocol error: data "
	    "after the STARTTLS reply\n" },
	{ "TLS handshake fails", P_MAY, M_ONE,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 250 STARTTLS\n"
	    "C STARTTLS\n"
	    "S 220 Go\n"
	    "E starttls\n"
	    "! fail TLS handshake failed\n"
	    "E close 421 4.4.2 tls local 421 4.4.2 TLS handshake failed\n" },
	{ "AUTH PLAIN to a smarthost", P_AUTH, M_ONE,
	    HELLO
	    "S 250-smart.example\n"
	    "S 250 AUTH LOGIN PLAIN\n"
	    "C AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
	    "S 235 2.7.0 Authentication successful\n"
	    "E ready\n" },
	{ "AUTH= old form", P_AUTH, M_ONE,
	    HELLO
	    "S 250-smart.example\n"
	    "S 250 AUTH=PLAIN\n"
	    "C AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
	    "S 235 ok\n"
	    "E ready\n" },
	{ "AUTH refused: session over", P_AUTH, M_ONE,
	    HELLO
	    "S 250-smart.example\n"
	    "S 250 AUTH PLAIN\n"
	    "C AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
	    "S 535 5.7.8 Error: authentication failed\n"
	    "E close 535 5.7.8 auth 535 5.7.8 Error: authentication failed\n"
	},
	{ "AUTH without PLAIN offered", P_AUTH, M_ONE,
	    HELLO
	    "S 250-smart.example\n"
	    "S 250 AUTH LOGIN CRAM-MD5\n"
	    "E close 451 4.7.0 ehlo local 451 4.7.0 AUTH is configured but "
	    "the server offers no AUTH PLAIN\n" },
	{ "AUTH not in the clear", P_AUTH_TLS, M_ONE,
	    HELLO
	    "S 250-smart.example\n"
	    "S 250 AUTH PLAIN\n"
	    "E close 451 4.7.0 ehlo local 451 4.7.0 AUTH is configured but "
	    "TLS is not up\n" },
	{ "AUTH after STARTTLS", P_AUTH_TLS, M_ONE,
	    HELLO
	    "S 250-smart.example\n"
	    "S 250 STARTTLS\n"
	    "C STARTTLS\n"
	    "S 220 Go\n"
	    "E starttls\n"
	    "! tls\n"
	    "C EHLO me.example.org\n"
	    "S 250-smart.example\n"
	    "S 250 AUTH PLAIN\n"
	    "C AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
	    "S 235 ok\n"
	    "E ready\n" },
	{ "implicit TLS: no STARTTLS, AUTH at once", P_TLS_ON, M_ONE,
	    HELLO
	    "S 250-smart.example\n"
	    "S 250-STARTTLS\n"
	    "S 250 AUTH PLAIN\n"
	    "C AUTH PLAIN AGFsaWNlAHNlY3JldA==\n"
	    "S 235 ok\n"
	    "E ready\n" },
	{ "421 during RCPT: open recipients deferred", P_PLAIN, M_THREE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<a@example.net>\n"
	    "S 550 5.1.1 no a\n"
	    "C RCPT TO:<b@example.net>\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<c@example.net>\n"
	    "S 421 4.4.2 timeout, closing\n"
	    "E rcpt 0 550 5.1.1 550 5.1.1 no a\n"
	    "E rcpt 1 421 4.4.2 421 4.4.2 timeout, closing\n"
	    "E rcpt 2 421 4.4.2 421 4.4.2 timeout, closing\n"
	    "E done\n"
	    "E close 421 4.4.2 rcpt 421 4.4.2 timeout, closing\n" },
	{ "452 too many recipients is per recipient", P_PLAIN, M_THREE,
	    HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<a@example.net>\n"
	    "C RCPT TO:<b@example.net>\n"
	    "C RCPT TO:<c@example.net>\n"
	    "C DATA\n"
	    "S 250 Ok\n"
	    "S 250 Ok\n"
	    "S 452 4.5.3 Too many recipients\n"
	    "S 452 4.5.3 Too many recipients\n"
	    "S 354 Go\n"
	    "! pump\n" SEND_BODY
	    "S 250 2.0.0 Ok\n"
	    "E rcpt 0 250 2.0.0 250 2.0.0 Ok\n"
	    "E rcpt 1 452 4.5.3 452 4.5.3 Too many recipients\n"
	    "E rcpt 2 452 4.5.3 452 4.5.3 Too many recipients\n"
	    "E done\n"
	    "E ready\n" },
	{ "connection lost after the dot: deferred", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 250 Ok\n"
	    "C DATA\n"
	    "S 354 Go\n"
	    "! pump\n" SEND_BODY
	    "! fail connection reset by peer\n"
	    "E rcpt 0 421 4.4.2 local 421 4.4.2 connection reset by peer\n"
	    "E done\n"
	    "E close 421 4.4.2 dot local 421 4.4.2 connection reset by peer\n"
	},
	{ "timeout while ready", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! fail idle\n"
	    "E close 421 4.4.2 ready local 421 4.4.2 idle\n" },
	{ "421 while idle", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "S 421 4.4.2 idle too long\n"
	    "E close 421 4.4.2 ready 421 4.4.2 idle too long\n" },
	{ "a reply while sending content ends the session", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 250 Ok\n"
	    "C DATA\n"
	    "S 354 Go\n"
	    "S 554 5.3.0 stop\n"
	    "E rcpt 0 554 5.3.0 554 5.3.0 stop\n"
	    "E done\n"
	    "E close 554 5.3.0 body 554 5.3.0 stop\n" },
	{ "message cannot be read: session ends", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 250 Ok\n"
	    "C DATA\n"
	    "S 354 Go\n"
	    "! readfail\n"
	    "E rcpt 0 451 4.3.0 local 451 4.3.0 cannot read the message\n"
	    "E done\n"
	    "E close 451 4.3.0 body local 451 4.3.0 cannot read the message\n"
	},
	{ "unsolicited 250 while idle", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "S 250 what\n"
	    "E close 451 4.5.0 ready local 451 4.5.0 protocol error: "
	    "unexpected reply\n" },
	{ "a reply line split over reads", P_PLAIN, M_ONE,
	    "R 22\n"
	    "R 0 mx.exa\n"
	    "R mple ESMTP\\r\n"
	    "R \\n\n"
	    "C EHLO me.example.org\n" },
	{ "reply line without CR", P_PLAIN, M_ONE,
	    "R 220 mx\\n\n"
	    "E close 451 4.5.0 greeting local 451 4.5.0 protocol error: reply "
	    "line without CRLF\n" },
	{ "reply with mixed codes", P_PLAIN, M_ONE,
	    HELLO
	    "S 250-mx.example.net\n"
	    "S 251 PIPELINING\n"
	    "E close 451 4.5.0 ehlo local 451 4.5.0 protocol error: reply "
	    "lines with mixed codes\n" },
	{ "reply code out of range", P_PLAIN, M_ONE,
	    "S 620 hello\n"
	    "E close 451 4.5.0 greeting local 451 4.5.0 protocol error: "
	    "malformed reply line\n" },
	{ "reply code then junk", P_PLAIN, M_ONE,
	    "S 220xmx\n"
	    "E close 451 4.5.0 greeting local 451 4.5.0 protocol error: "
	    "malformed reply line\n" },
	{ "bare reply code", P_PLAIN, M_ONE,
	    "S 220\n"
	    "C EHLO me.example.org\n" },
	{ "controls in reply text made harmless", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "R 550 5.7.1 bad\\x01\\x1b[31m\\tthing\\r\\n\n"
	    "E rcpt 0 550 5.7.1 550 5.7.1 bad??[31m\tthing\n"
	    "E done\n"
	    "E ready\n" },
	{ "enhanced code of another class ignored", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 550 4.1.1 odd\n"
	    "E rcpt 0 550 - 550 4.1.1 odd\n"
	    "E done\n"
	    "E ready\n" },
	{ "not an enhanced code", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 550 5.1.1234 odd\n"
	    "E rcpt 0 550 - 550 5.1.1234 odd\n"
	    "E done\n"
	    "E ready\n" },
	{ "3xx to RCPT is a protocol error", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 354 what\n"
	    "E rcpt 0 451 4.5.0 local 451 4.5.0 protocol error: 3xx reply to "
	    "RCPT\n"
	    "E done\n"
	    "E close 451 4.5.0 rcpt local 451 4.5.0 protocol error: 3xx reply "
	    "to RCPT\n" },
	{ "250 to DATA is a protocol error", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "S 250 Ok\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "S 250 Ok\n"
	    "C DATA\n"
	    "S 250 Ok\n"
	    "E rcpt 0 451 4.5.0 local 451 4.5.0 protocol error: unexpected "
	    "reply to DATA\n"
	    "E done\n"
	    "E close 451 4.5.0 data local 451 4.5.0 protocol error: "
	    "unexpected reply to DATA\n" },
	{ "QUIT reply ends the session", P_PLAIN, M_ONE,
	    HELLO EHLO_BASIC
	    "! quit\n"
	    "C QUIT\n"
	    "T 300\n"
	    "S 221 Bye\n"
	    "E close 221 - quit 221 Bye\n"
	    "S 250 more after close\n"
	    "T 0\n" },
};

static void
test_script(void **state)
{
	const struct script_case	*c = *state;
	struct mock			 m;

	mock_init(&m, c->pc, c->mc);
	run_script(&m, c->script);
	mock_free(&m);
}

/* Content: dot-stuffing and line ends, in chunks of every size */

struct body_case {
	const char	*name;
	const char	*in;
	const char	*out;	/* what goes on the wire after 354 */
};

static const struct body_case body_cases[] = {
	{ "plain", "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
	{ "leading dot doubled", ".\r\n..x\r\n.y\r\n",
	    "..\r\n...x\r\n..y\r\n.\r\n" },
	{ "dot inside a line kept", "a.b\r\n x.\r\n", "a.b\r\n x.\r\n.\r\n" },
	{ "dot on the first line", ".hidden\r\n", "..hidden\r\n.\r\n" },
	{ "no final CRLF gets one", "a\r\nlast", "a\r\nlast\r\n.\r\n" },
	{ "dot at the end without CRLF", "a\r\n.", "a\r\n..\r\n.\r\n" },
	{ "empty message", "", ".\r\n" },
	{ "bare LF becomes CRLF", "a\nb\n.c\n", "a\r\nb\r\n..c\r\n.\r\n" },
	{ "bare CR becomes CRLF", "a\rb\r\r\n", "a\r\nb\r\n\r\n.\r\n" },
	{ "CR at the end", "a\r", "a\r\n.\r\n" },
	{ "smuggling attempt neutralised", "a\r\n.\r\nMAIL FROM:<x>\r\n",
	    "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n" },
	{ "bare LF dot", "a\n.\n", "a\r\n..\r\n.\r\n" },
	{ "NUL and 8-bit kept", "\xc3\xa9\0x\r\n", "\xc3\xa9\0x\r\n.\r\n" },
};

static size_t
body_len(const char *s)
{
	/* the "NUL kept" row holds one NUL */
	return strlen(s) + (strncmp(s, "\xc3\xa9", 2) == 0 ?
	    1 + strlen(s + strlen(s) + 1) : 0);
}

static void
test_body(void **state)
{
	const struct body_case	*c = *state;
	static const size_t	 sizes[] = { 1, 2, 3, 5, 8192 };
	struct mock		 m;
	size_t			 k, inlen = body_len(c->in);
	size_t			 outlen = body_len(c->out);

	for (k = 0; k < NELEM(sizes); k++) {
		mock_init(&m, P_PLAIN, M_ONE);
		run_script(&m, HELLO EHLO_BASIC
		    "! mail\n"
		    "C MAIL FROM:<alice@example.org> SIZE=26\n"
		    "S 250 Ok\n"
		    "C RCPT TO:<bob@example.net>\n"
		    "S 250 Ok\n"
		    "C DATA\n"
		    "S 354 Go\n");
		m.body = c->in;
		m.bodylen = inlen;
		m.readmax = sizes[k];
		while (smtp_client_wants_body(m.c))
			smtp_client_pump(m.c, sizes[k]);
		expect_out(&m, c->out, outlen);
		assert_int_equal(m.outpos, m.out.len);
		mock_free(&m);
	}
}

/* A large message goes out in pieces no larger than the budget asks. */
static void
test_pump_budget(void **state)
{
	struct mock	 m;
	char		*big;
	size_t		 n = 100000, calls = 0, before;

	big = malloc(n);
	assert_non_null(big);
	memset(big, 'x', n);
	big[n - 2] = '\r';
	big[n - 1] = '\n';
	mock_init(&m, P_PLAIN, M_ONE);
	run_script(&m, HELLO EHLO_PIPE
	    "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n"
	    "C RCPT TO:<bob@example.net>\n"
	    "C DATA\n"
	    "R 250 Ok\\r\\n250 Ok\\r\\n354 Go\\r\\n\n");
	m.body = big;
	m.bodylen = n;
	while (smtp_client_wants_body(m.c)) {
		before = m.out.len;
		smtp_client_pump(m.c, 4096);
		assert_true(m.out.len - before <= 4096 + 5);
		calls++;
	}
	assert_true(calls >= n / 4096);
	assert_int_equal(m.out.len - m.outpos, n + 3);
	smtp_client_pump(m.c, 4096);	/* nothing more */
	assert_int_equal(m.out.len - m.outpos, n + 3);
	m.outpos = m.out.len;
	run_script(&m, "S 250 Ok\n"
	    "E rcpt 0 250 - 250 Ok\n"
	    "E done\n"
	    "E ready\n");
	mock_free(&m);
	free(big);
}

/* Limits on replies */

static void
test_reply_line_512_ok_513_not(void **state)
{
	struct mock	m;
	char		line[600];

	mock_init(&m, P_PLAIN, M_ONE);
	/* 510 octets and CRLF: 512, the most §4.5.3.1.5 allows */
	memset(line, 'a', sizeof(line));
	memcpy(line, "220 ", 4);
	memcpy(line + 510, "\r\n", 2);
	feed(&m, line, 512);
	expect_out(&m, "EHLO me.example.org\r\n", 21);
	mock_free(&m);

	mock_init(&m, P_PLAIN, M_ONE);
	memset(line, 'a', sizeof(line));
	memcpy(line, "220 ", 4);
	memcpy(line + 511, "\r\n", 2);
	feed(&m, line, 513);
	run_script(&m, "E close 451 4.5.0 greeting local 451 4.5.0 protocol "
	    "error: reply line too long\n");
	mock_free(&m);
}

/* A long line arriving in pieces is refused once 512 octets pass. */
static void
test_reply_line_too_long_in_pieces(void **state)
{
	struct mock	m;
	char		line[100];
	size_t		i;

	mock_init(&m, P_PLAIN, M_ONE);
	memset(line, 'a', sizeof(line));
	memcpy(line, "220 ", 4);
	feed(&m, line, sizeof(line));
	memcpy(line, "aaaa", 4);
	for (i = 0; i < 4; i++)
		feed(&m, line, sizeof(line));
	assert_false(m.closed);
	feed(&m, line, sizeof(line));
	assert_true(m.closed);
	mock_free(&m);
}

static void
test_reply_100_lines_ok_101_not(void **state)
{
	struct mock	m;
	size_t		i;

	mock_init(&m, P_PLAIN, M_ONE);
	for (i = 0; i < 99; i++)
		feed(&m, "220-x\r\n", 7);
	feed(&m, "220 x\r\n", 7);
	expect_out(&m, "EHLO me.example.org\r\n", 21);
	mock_free(&m);

	mock_init(&m, P_PLAIN, M_ONE);
	for (i = 0; i < 100; i++)
		feed(&m, "220-x\r\n", 7);
	assert_false(m.closed);
	feed(&m, "220 x\r\n", 7);
	run_script(&m, "E close 451 4.5.0 greeting local 451 4.5.0 protocol "
	    "error: reply of too many lines\n");
	mock_free(&m);
}

/* What is kept for a recipient is bounded and says it was cut. */
static void
test_long_reply_kept_bounded(void **state)
{
	struct mock	 m;
	char		 line[512];
	size_t		 i, at;
	const char	*p;

	mock_init(&m, P_PLAIN, M_ONE);
	run_script(&m, HELLO EHLO_BASIC "! mail\n"
	    "C MAIL FROM:<alice@example.org> SIZE=26\n");
	memset(line, 'z', sizeof(line));
	memcpy(line, "550-", 4);
	memcpy(line + 508, "\r\n", 2);
	for (i = 0; i < 20; i++)
		feed(&m, line, 510);
	feed(&m, "550 end\r\n", 9);
	p = strstr(m.ev.data, "rcpt 0 550 - ");
	assert_non_null(p);
	at = (size_t)(strchr(p, '\n') - p);
	assert_int_equal(at, strlen("rcpt 0 550 - ") + 4096 + 3);
	assert_memory_equal(p + at - 3, "...", 3);
	mock_free(&m);
}

struct ehlo_case {
	const char	*name;
	const char	*lines;		/* the keyword lines, ";" apart */
	unsigned	 ext;
	uint64_t	 size;
};

static const struct ehlo_case ehlo_cases[] = {
	{ "every keyword",
	    "STARTTLS;PIPELINING;SIZE 35882577;8BITMIME;SMTPUTF8;DSN;"
	    "CHUNKING;BINARYMIME;ENHANCEDSTATUSCODES;AUTH PLAIN LOGIN",
	    SMTP_CLIENT_EXT_STARTTLS | SMTP_CLIENT_EXT_PIPELINING |
	    SMTP_CLIENT_EXT_SIZE | SMTP_CLIENT_EXT_8BITMIME |
	    SMTP_CLIENT_EXT_SMTPUTF8 | SMTP_CLIENT_EXT_DSN |
	    SMTP_CLIENT_EXT_CHUNKING | SMTP_CLIENT_EXT_BINARYMIME |
	    SMTP_CLIENT_EXT_ENHANCED | SMTP_CLIENT_EXT_AUTH |
	    SMTP_CLIENT_EXT_AUTH_PLAIN | SMTP_CLIENT_EXT_AUTH_LOGIN,
	    35882577 },
	{ "lower case", "pipelining;size 100;starttls",
	    SMTP_CLIENT_EXT_PIPELINING | SMTP_CLIENT_EXT_SIZE |
	    SMTP_CLIENT_EXT_STARTTLS, 100 },
	{ "unknown keywords ignored", "X-EXPS GSSAPI;VRFY;ETRN;XCLIENT",
	    0, 0 },
	{ "prefixes are not keywords", "PIPELININGX;STARTTLS2;DSNX", 0, 0 },
	{ "SIZE with junk", "SIZE 12x", SMTP_CLIENT_EXT_SIZE, 0 },
	{ "AUTH without mechanisms", "AUTH", SMTP_CLIENT_EXT_AUTH, 0 },
	{ "AUTH mechanisms case-insensitive", "AUTH login Plain",
	    SMTP_CLIENT_EXT_AUTH | SMTP_CLIENT_EXT_AUTH_PLAIN |
	    SMTP_CLIENT_EXT_AUTH_LOGIN, 0 },
	{ "the greeting line is no keyword", "", 0, 0 },
};

static void
test_ehlo(void **state)
{
	const struct ehlo_case	*c = *state;
	struct mock		 m;
	char			 line[600];
	const char		*p = c->lines, *semi;
	size_t			 n;

	mock_init(&m, P_PLAIN, M_ONE);
	feed(&m, "220 x\r\n", 7);
	feed(&m, "250-PIPELINING hello\r\n", 22);
	while (*p != '\0') {
		semi = strchr(p, ';');
		n = semi ? (size_t)(semi - p) : strlen(p);
		snprintf(line, sizeof(line), "250-%.*s\r\n", (int)n, p);
		feed(&m, line, strlen(line));
		p += n + (semi ? 1 : 0);
	}
	feed(&m, "250 \r\n", 6);
	assert_false(m.closed);
	assert_int_equal(smtp_client_extensions(m.c), c->ext);
	assert_int_equal(smtp_client_size_limit(m.c), c->size);
	assert_string_equal(smtp_client_server_name(m.c), "x");
	mock_free(&m);
}

struct parse_case {
	const char	*name;
	const char	*reply;
	int		 rc;
	int		 code;
	const char	*enh;
};

static const struct parse_case parse_cases[] = {
	{ "simple", "250 ok\r\n", 0, 250, "" },
	{ "enhanced", "550 5.1.1 no\r\n", 0, 550, "5.1.1" },
	{ "enhanced alone", "550 5.1.1\r\n", 0, 550, "5.1.1" },
	{ "enhanced 3 digits", "451 4.123.456 x\r\n", 0, 451, "4.123.456" },
	{ "enhanced glued to text", "550 5.1.1x\r\n", 0, 550, "" },
	{ "multi-line", "250-a\r\n250-b\r\n250 c\r\n", 0, 250, "" },
	{ "bare code", "250\r\n", 0, 250, "" },
	{ "missing final line", "250-a\r\n", -1, 0, NULL },
	{ "bytes after the final line", "250 a\r\n250 b\r\n", -1, 0, NULL },
	{ "mixed codes", "250-a\r\n251 b\r\n", -1, 0, NULL },
	{ "LF only", "250 a\n", -1, 0, NULL },
	{ "no line end", "250 a", -1, 0, NULL },
	{ "two digits", "25 a\r\n", -1, 0, NULL },
	{ "1xx", "150 a\r\n", -1, 0, NULL },
	{ "6xx", "650 a\r\n", -1, 0, NULL },
	{ "second digit 6", "260 a\r\n", -1, 0, NULL },
	{ "tab after code", "250\ta\r\n", -1, 0, NULL },
	{ "CR inside", "250 a\rb\r\n", -1, 0, NULL },
	{ "empty", "", -1, 0, NULL },
};

static void
test_parse(void **state)
{
	const struct parse_case	*c = *state;
	char			 enh[SMTP_CLIENT_ENH_MAX];
	int			 code = 0;

	assert_int_equal(smtp_client_parse_reply(c->reply, strlen(c->reply),
	    &code, enh), c->rc);
	if (c->rc == 0) {
		assert_int_equal(code, c->code);
		assert_string_equal(enh, c->enh);
	}
}

static void
test_stage_names(void **state)
{
	assert_string_equal(smtp_client_stage_name(SMTP_CLIENT_STAGE_RCPT),
	    "rcpt");
	assert_string_equal(smtp_client_stage_name(SMTP_CLIENT_STAGE_CLOSED),
	    "closed");
	smtp_client_free(NULL);
}

static char *
test_name(const char *prefix, const char *name)
{
	char	*s;
	size_t	 n;

	n = strlen(prefix) + strlen(name) + 1;
	s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "%s%s", prefix, name);
	return s;
}

static void
add_test(struct CMUnitTest *t, size_t *n, const char *name,
    CMUnitTestFunction fn, const void *row)
{
	t[*n].name = name;
	t[*n].test_func = fn;
	t[*n].setup_func = NULL;
	t[*n].teardown_func = NULL;
	t[*n].initial_state = (void *)(uintptr_t)row;
	(*n)++;
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_pump_budget),
	cmocka_unit_test(test_reply_line_512_ok_513_not),
	cmocka_unit_test(test_reply_line_too_long_in_pieces),
	cmocka_unit_test(test_reply_100_lines_ok_101_not),
	cmocka_unit_test(test_long_reply_kept_bounded),
	cmocka_unit_test(test_stage_names),
};

int
main(void)
{
	struct CMUnitTest	*tests;
	size_t			 i, n = 0, total;
	int			 rc;

	total = NELEM(script_cases) + NELEM(body_cases) + NELEM(ehlo_cases) +
	    NELEM(parse_cases) + NELEM(fixed_tests);
	tests = calloc(total, sizeof(*tests));
	assert_non_null(tests);
	for (i = 0; i < NELEM(script_cases); i++)
		add_test(tests, &n, test_name("dialogue: ",
		    script_cases[i].name), test_script, &script_cases[i]);
	for (i = 0; i < NELEM(body_cases); i++)
		add_test(tests, &n, test_name("content: ", body_cases[i].name),
		    test_body, &body_cases[i]);
	for (i = 0; i < NELEM(ehlo_cases); i++)
		add_test(tests, &n, test_name("ehlo: ", ehlo_cases[i].name),
		    test_ehlo, &ehlo_cases[i]);
	for (i = 0; i < NELEM(parse_cases); i++)
		add_test(tests, &n, test_name("reply: ", parse_cases[i].name),
		    test_parse, &parse_cases[i]);
	for (i = 0; i < NELEM(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	rc = _cmocka_run_group_tests("smtp_client", tests, n, NULL, NULL);
	for (i = 0; i < n - NELEM(fixed_tests); i++)
		free((char *)(uintptr_t)tests[i].name);
	free(tests);
	return rc;
}
