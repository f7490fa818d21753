/*
 * Unit tests for smtp_session: SMTP dialogues as transcripts.  A mock
 * server records every reply and request; it holds unconsumed input as
 * the real server does and, unless a test answers by hand, answers each
 * request after smtp_session_input() returns (as answers from other roles
 * arrive later).  Transcript rows are table-driven, one cmocka test per
 * row; dialogues that need more than lines in and replies out are fixed
 * tests below the table.
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
#include "sasl.h"
#include "scram_client.h"
#include "smtp_session.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define NOW		1700000000	/* Tue, 14 Nov 2023 22:13:20 +0000 */
#define DATE		"Tue, 14 Nov 2023 22:13:20 +0000"

enum cfg {
	CFG_MX,		/* port 25, STARTTLS available */
	CFG_MX_PLAIN,	/* port 25, AUTH allowed in the clear */
	CFG_NOTLS,	/* port 25, no certificate */
	CFG_SUB,	/* 587, AUTH allowed in the clear (to test AUTH) */
	CFG_SUB_TLS,	/* 587, AUTH only after STARTTLS */
	CFG_SUBS,	/* 465, implicit TLS */
	CFG_LOCAL,	/* cachet-sendmail as "carol" */
	CFG_ERR3,	/* port 25, 421 after three errors */
	CFG_SMALL,	/* port 25, 100-octet messages */
};

enum req { REQ_NONE, REQ_MAIL, REQ_RCPT, REQ_AUTH, REQ_OPEN, REQ_COMMIT,
    REQ_SCRAM_SALT, REQ_SCRAM_PROOF };

struct mock {
	struct smtp_session	*s;
	struct smtp_params	 params;
	struct buf		 out;	/* replies */
	struct buf		 log;	/* requests, one a line */
	struct buf		 data;	/* data_write bytes */
	struct buf		 in;	/* input the session did not take */
	enum req		 pending;
	bool			 autoanswer;
	bool			 sync;	/* answer inside the callbacks */
	bool			 starttls;
	bool			 closed;
	bool			 open_ok;
	int			 commit_code;
	size_t			 hdr_start;	/* our Received: in data */
	size_t			 hdr_end;
	char			 user[300];
	/* SCRAM: binding data (cb_len 0: none), the request to answer */
	unsigned char		 cb[32];
	size_t			 cb_len;
	bool			 scram_tempfail;
	char			 authmsg[SASL_SCRAM_AUTHMSG_MAX + 1];
	unsigned char		 proof[SASL_SCRAM_HASH_LEN];
	const struct smtp_envelope *env;
	const struct smtp_rcpt	*rcpt;
};

static void	mock_answer(struct mock *);

static void
logf_(struct mock *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
logf_(struct mock *m, const char *fmt, ...)
{
	char	line[600];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_int_equal(buf_append_str(&m->log, line), 0);
}

static void
m_reply(void *arg, const char *p, size_t len)
{
	struct mock	*m = arg;

	assert_false(m->closed);
	assert_int_equal(buf_append(&m->out, p, len), 0);
}

static void
m_starttls(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "starttls\n");
	m->starttls = true;
}

static void
m_auth(void *arg, const char *user, const char *pass)
{
	struct mock	*m = arg;

	logf_(m, "auth %s %s\n", user, pass);
	assert_int_equal(str_copy(m->user, sizeof(m->user), user), 0);
	m->pending = REQ_AUTH;
	/* The password is valid only during the call. */
	if (strcmp(user, "alice") == 0 && strcmp(pass, "secret") == 0)
		m->user[0] = '+';
	else if (strcmp(user, "tempfail") == 0)
		m->user[0] = '?';
	else
		m->user[0] = '-';
	if (m->sync)
		mock_answer(m);
}

static void
m_scram_salt(void *arg, const char *user)
{
	struct mock	*m = arg;

	logf_(m, "scram-salt %s\n", user);
	assert_int_equal(str_copy(m->user, sizeof(m->user), user), 0);
	m->pending = REQ_SCRAM_SALT;
	if (m->sync)
		mock_answer(m);
}

static void
m_scram_proof(void *arg, const char *user, struct span am,
    const unsigned char *proof)
{
	struct mock	*m = arg;

	logf_(m, "scram-proof %s\n", user);
	assert_true(am.len < sizeof(m->authmsg));
	memcpy(m->authmsg, am.ptr, am.len);
	m->authmsg[am.len] = '\0';
	memcpy(m->proof, proof, sizeof(m->proof));
	m->pending = REQ_SCRAM_PROOF;
	if (m->sync)
		mock_answer(m);
}

static ssize_t
m_cbind(void *arg, enum sasl_cb type, unsigned char *out, size_t outsz)
{
	struct mock	*m = arg;

	/* only tls-exporter, as on TLS 1.3 with a certificate we cannot hash */
	if (m->cb_len == 0 || type != SASL_CB_TLS_EXPORTER ||
	    outsz < m->cb_len)
		return -1;
	memcpy(out, m->cb, m->cb_len);
	return (ssize_t)m->cb_len;
}

static void
m_mail(void *arg, const struct smtp_envelope *env)
{
	struct mock	*m = arg;
	char		 a[400];

	assert_int_equal(mailaddr_format(&env->from, a, sizeof(a)), 0);
	logf_(m, "mail <%s>\n", a);
	m->env = env;
	m->pending = REQ_MAIL;
	if (m->sync)
		mock_answer(m);
}

static void
m_rcpt(void *arg, const struct smtp_envelope *env,
    const struct smtp_rcpt *rcpt)
{
	struct mock	*m = arg;
	char		 a[400];

	assert_int_equal(mailaddr_format(&rcpt->addr, a, sizeof(a)), 0);
	logf_(m, "rcpt <%s>\n", a);
	m->env = env;
	m->rcpt = rcpt;
	m->pending = REQ_RCPT;
	if (m->sync)
		mock_answer(m);
}

static void
m_data_open(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "open\n");
	m->pending = REQ_OPEN;
	if (m->sync)
		mock_answer(m);
}

static void
m_data_write(void *arg, const char *p, size_t len)
{
	struct mock	*m = arg;

	assert_int_equal(buf_append(&m->data, p, len), 0);
}

static void
m_data_commit(void *arg, const struct smtp_envelope *env)
{
	struct mock	*m = arg;

	logf_(m, "commit\n");
	m->env = env;
	m->pending = REQ_COMMIT;
	if (m->sync)
		mock_answer(m);
}

static void
m_data_abort(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "abort\n");
}

static void
m_close(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "close\n");
	m->closed = true;
}

static void
m_helo(void *arg, const char *name)
{
	struct mock	*m = arg;

	logf_(m, "helo %s\n", name);
}

static const struct smtp_session_ops mock_ops = {
	.reply = m_reply,
	.helo = m_helo,
	.starttls = m_starttls,
	.auth = m_auth,
	.scram_salt = m_scram_salt,
	.scram_proof = m_scram_proof,
	.cbind = m_cbind,
	.mail = m_mail,
	.rcpt = m_rcpt,
	.data_open = m_data_open,
	.data_write = m_data_write,
	.data_commit = m_data_commit,
	.data_abort = m_data_abort,
	.close = m_close,
};

/* The key holder: "alice" has password "pencil", salt and count of RFC 7677. */
#define M_SALT_B64	"W22ZaJ0SNY7soEsUEjb6gQ=="
#define M_ITER		4096
#define M_SNONCE	"SRVnonce"

static void
mock_challenge(struct sasl_scram_challenge *ch)
{
	memset(ch, 0, sizeof(*ch));
	assert_int_equal(sasl_b64_decode(span_str(M_SALT_B64), ch->salt,
	    &ch->saltlen), 0);
	ch->iterations = M_ITER;
	strcpy(ch->snonce, M_SNONCE);
}

static void
mock_scram_salt(struct mock *m)
{
	struct sasl_scram_challenge	ch;

	mock_challenge(&ch);
	smtp_session_scram_challenge(m->s, m->scram_tempfail ?
	    SMTP_AUTH_TEMPFAIL : SMTP_AUTH_OK, m->scram_tempfail ? NULL : &ch);
}

static void
mock_scram_proof(struct mock *m)
{
	struct sasl_scram_challenge	ch;
	unsigned char			stored[32], server[32], sig[32];

	mock_challenge(&ch);
	assert_int_equal(sasl_scram_derive("pencil", 6, ch.salt, ch.saltlen,
	    M_ITER, stored, server), 0);
	if (strcmp(m->user, "alice") == 0 && sasl_scram_verify(stored, server,
	    m->authmsg, strlen(m->authmsg), m->proof, sig))
		smtp_session_scram_result(m->s, SMTP_AUTH_OK, sig);
	else
		smtp_session_scram_result(m->s, SMTP_AUTH_FAIL, NULL);
}

/*
 * The other roles' answers: senders "refused@..." and recipients
 * "unknown@..." and "later@..." are refused, the login alice/secret is
 * good and user "tempfail" cannot be checked.
 */
static void
mock_answer(struct mock *m)
{
	enum req	r = m->pending;

	m->pending = REQ_NONE;
	switch (r) {
	case REQ_MAIL:
		if (strcmp(m->env->from.local, "refused") == 0)
			smtp_session_mail_result(m->s, 550, "5.7.1",
			    "Sender refused by policy");
		else
			smtp_session_mail_result(m->s, 250, NULL, NULL);
		break;
	case REQ_RCPT:
		if (strcmp(m->rcpt->addr.local, "unknown") == 0)
			smtp_session_rcpt_result(m->s, 550, "5.1.1",
			    "No such user\r\nhere");
		else if (strcmp(m->rcpt->addr.local, "later") == 0)
			smtp_session_rcpt_result(m->s, 450, "4.2.0",
			    "Greylisted");
		else
			smtp_session_rcpt_result(m->s, 250, NULL, NULL);
		break;
	case REQ_AUTH:
		smtp_session_auth_result(m->s, m->user[0] == '+' ?
		    SMTP_AUTH_OK : m->user[0] == '?' ? SMTP_AUTH_TEMPFAIL :
		    SMTP_AUTH_FAIL);
		break;
	case REQ_OPEN:
		m->hdr_start = m->data.len;
		smtp_session_data_open_result(m->s, m->open_ok, "Q1");
		m->hdr_end = m->data.len;
		break;
	case REQ_COMMIT:
		if (m->commit_code == 250)
			smtp_session_commit_result(m->s, 250, NULL, NULL);
		else
			smtp_session_commit_result(m->s, m->commit_code,
			    "4.3.1", "Insufficient system storage");
		break;
	case REQ_SCRAM_SALT:
		mock_scram_salt(m);
		break;
	case REQ_SCRAM_PROOF:
		mock_scram_proof(m);
		break;
	case REQ_NONE:
		fail_msg("no request to answer");
	}
}

static void
mock_config(struct mock *m, enum cfg cfg)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->out, 1 << 20);
	buf_init(&m->log, 1 << 20);
	buf_init(&m->data, 1 << 22);
	buf_init(&m->in, 1 << 22);
	m->autoanswer = true;
	m->open_ok = true;
	m->commit_code = 250;
	m->params.hostname = "mx.example.org";
	m->params.kind = SMTP_KIND_MX;
	m->params.client_ip = "192.0.2.1";
	m->params.client_name = "mail.client.example";
	m->params.tls_available = true;
	m->params.max_size = 100000;
	m->params.max_rcpts = 3;
	m->params.max_errors = 20;
	m->params.now = NOW;
	switch (cfg) {
	case CFG_MX:
		break;
	case CFG_MX_PLAIN:
		m->params.plaintext_auth = true;
		break;
	case CFG_NOTLS:
		m->params.tls_available = false;
		break;
	case CFG_SUB:
		m->params.kind = SMTP_KIND_SUBMISSION;
		m->params.plaintext_auth = true;
		break;
	case CFG_SUB_TLS:
		m->params.kind = SMTP_KIND_SUBMISSION;
		break;
	case CFG_SUBS:
		m->params.kind = SMTP_KIND_SUBMISSIONS;
		break;
	case CFG_LOCAL:
		m->params.kind = SMTP_KIND_LOCAL;
		m->params.client_ip = "local";
		m->params.client_name = NULL;
		m->params.tls_available = false;
		m->params.local_user = "carol";
		break;
	case CFG_ERR3:
		m->params.max_errors = 3;
		break;
	case CFG_SMALL:
		m->params.max_size = 100;
		break;
	}
}

/* Create the session and swallow the greeting. */
static void
mock_start(struct mock *m)
{
	m->s = smtp_session_new(&m->params, &mock_ops, m);
	if (m->params.kind == SMTP_KIND_SUBMISSIONS)
		smtp_session_tls_started(m->s, "TLSv1.3",
		    "TLS_AES_256_GCM_SHA384");
	smtp_session_start(m->s);
	assert_string_equal(m->out.data, "220 mx.example.org ESMTP cachet\r\n");
	buf_reset(&m->out);
}

static void
mock_free(struct mock *m)
{
	smtp_session_free(m->s);
	buf_free(&m->out);
	buf_free(&m->log);
	buf_free(&m->data);
	buf_free(&m->in);
}

/*
 * Feed bytes as the server does: keep what the session leaves, answer
 * what it asks, feed again; stop at STARTTLS (the test decides what
 * happens to the bytes held then) or when nothing moves.
 */
static void
mock_feed(struct mock *m, const char *p, size_t len)
{
	size_t	n;

	assert_int_equal(buf_append(&m->in, p, len), 0);
	for (;;) {
		n = 0;
		if (m->in.len > 0) {
			n = smtp_session_input(m->s, m->in.data, m->in.len);
			assert_true(n <= m->in.len);
			buf_consume(&m->in, n);
		}
		if (m->starttls)
			break;
		if (smtp_session_waiting(m->s)) {
			if (!m->autoanswer || m->pending == REQ_NONE)
				break;
			mock_answer(m);
			continue;
		}
		if (n == 0)
			break;
	}
}

static void
mock_send(struct mock *m, const char *s)
{
	mock_feed(m, s, strlen(s));
}

/* The replies since the last call must be exactly want. */
static void
mock_expect(struct mock *m, const char *want)
{
	assert_string_equal(m->out.data != NULL ? m->out.data : "", want);
	buf_reset(&m->out);
}

/* The message bytes after our Received: header. */
static const char *
mock_body(struct mock *m)
{
	assert_true(m->hdr_end <= m->data.len);
	return m->data.data + m->hdr_end;
}

static bool
mock_logged(struct mock *m, const char *line)
{
	return m->log.data != NULL && strstr(m->log.data, line) != NULL;
}

/* Transcripts */

struct step {
	const char	*c;	/* what the client sends */
	const char	*s;	/* every reply that must follow */
};

struct transcript {
	const char		*name;
	enum cfg		 cfg;
	const struct step	*steps;
};

#define END		{ NULL, NULL }
#define EHLO_BASE	"250-mx.example.org\r\n250-PIPELINING\r\n" \
			"250-SIZE 100000\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n" \
			"250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n"
#define EHLO_MX		EHLO_BASE "250-DSN\r\n250 STARTTLS\r\n"
#define EHLO_PLAIN	EHLO_BASE "250-DSN\r\n250-STARTTLS\r\n" \
			"250 AUTH SCRAM-SHA-256 PLAIN LOGIN\r\n"
#define EHLO_TLS	EHLO_BASE "250-DSN\r\n250-REQUIRETLS\r\n" \
			"250 AUTH SCRAM-SHA-256 PLAIN LOGIN\r\n"
#define EHLO_BARE	EHLO_BASE "250 DSN\r\n"
/* over TLS and logged in: nothing to offer but REQUIRETLS (RFC 8689) */
#define EHLO_TLS_AUTHED	EHLO_BASE "250-DSN\r\n250 REQUIRETLS\r\n"
#define OK		"250 2.0.0 Ok\r\n"
#define OK_MAIL		"250 2.1.0 Ok\r\n"
#define OK_RCPT		"250 2.1.5 Ok\r\n"
#define GO_AHEAD	"354 End data with <CR><LF>.<CR><LF>\r\n"
#define QUEUED		"250 2.0.0 Ok: queued as Q1\r\n"
#define SEQ		"503 5.5.1 "
#define S_EHLO		{ "EHLO client.example\r\n", EHLO_MX }
#define S_EHLO_PLAIN	{ "EHLO client.example\r\n", EHLO_PLAIN }
#define S_MAIL		{ "MAIL FROM:<alice@example.net>\r\n", OK_MAIL }
#define S_RCPT		{ "RCPT TO:<bob@example.org>\r\n", OK_RCPT }
#define AUTH_OK		"235 2.7.0 Authentication successful\r\n"
#define AUTH_BAD	"535 5.7.8 Authentication credentials invalid\r\n"
/* "\0alice\0secret" */
#define PLAIN_GOOD	"AGFsaWNlAHNlY3JldA=="

static const struct transcript transcripts[] = {
	/* EHLO and HELO */
	{ "ehlo on mx offers starttls not auth", CFG_MX,
	    (const struct step[]){ S_EHLO, END } },
	{ "ehlo with plaintext auth offers auth", CFG_MX_PLAIN,
	    (const struct step[]){ S_EHLO_PLAIN, END } },
	{ "ehlo without certificate offers no starttls", CFG_NOTLS,
	    (const struct step[]){
		{ "EHLO client.example\r\n", EHLO_BARE }, END } },
	{ "ehlo on submissions offers auth not starttls", CFG_SUBS,
	    (const struct step[]){
		{ "EHLO client.example\r\n", EHLO_TLS }, END } },
	{ "ehlo on local offers neither starttls nor auth", CFG_LOCAL,
	    (const struct step[]){
		{ "EHLO localhost\r\n", EHLO_BARE }, END } },
	{ "ehlo without argument", CFG_MX, (const struct step[]){
		{ "EHLO\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n" },
		{ "EHLO   \r\n", "501 5.5.4 Syntax: EHLO hostname\r\n" },
		END } },
	{ "ehlo with control character refused", CFG_MX,
	    (const struct step[]){
		{ "EHLO a\tb\r\n", "501 5.5.4 Syntax: EHLO hostname\r\n" },
		END } },
	{ "helo gives plain 250", CFG_MX, (const struct step[]){
		{ "HELO client.example\r\n", "250 mx.example.org\r\n" },
		S_MAIL, END } },
	{ "helo without argument", CFG_MX, (const struct step[]){
		{ "HELO\r\n", "501 5.5.4 Syntax: HELO hostname\r\n" }, END } },
	{ "verbs are case-insensitive", CFG_MX, (const struct step[]){
		{ "ehlo client.example\r\n", EHLO_MX },
		{ "mail from:<alice@example.net>\r\n", OK_MAIL },
		{ "rCpT tO:<bob@example.org>\r\n", OK_RCPT },
		{ "rset\r\n", OK }, { "Noop\r\n", OK }, END } },
	{ "ehlo resets the transaction", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, S_EHLO, S_MAIL, END } },

	/* MAIL */
	{ "mail before helo", CFG_MX, (const struct step[]){
		{ "MAIL FROM:<alice@example.net>\r\n",
		    SEQ "Send HELO/EHLO first\r\n" }, END } },
	{ "mail accepted and null sender", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<>\r\n", OK_MAIL }, END } },
	{ "mail with space after colon", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM: <alice@example.net>\r\n", OK_MAIL },
		END } },
	{ "nested mail", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL,
		{ "MAIL FROM:<alice@example.net>\r\n",
		    SEQ "Nested MAIL command\r\n" }, END } },
	{ "mail without from", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL alice@example.net\r\n",
		    "501 5.5.2 Syntax: MAIL FROM:<address>\r\n" }, END } },
	{ "mail with bad address", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<alice@@example.net>\r\n", NULL },
		END } },
	{ "mail with junk after the path", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<alice@example.net>x\r\n",
		    "501 5.5.2 Syntax: MAIL FROM:<address>\r\n" }, END } },
	{ "mail from bare postmaster refused", CFG_MX,
	    (const struct step[]){ S_EHLO, { "MAIL FROM:<Postmaster>\r\n",
		"501 5.1.7 Bad sender address syntax\r\n" }, END } },
	{ "mail non-ascii without smtputf8", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<j\xc3\xb8rn@example.net>\r\n",
		    "553 5.6.7 Non-ASCII address needs SMTPUTF8 "
		    "(RFC 6531)\r\n" }, END } },
	{ "mail non-ascii with smtputf8", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<j\xc3\xb8rn@example.net> SMTPUTF8\r\n",
		    OK_MAIL },
		{ "RCPT TO:<\xc3\xa5se@example.org>\r\n", OK_RCPT }, END } },
	{ "rcpt non-ascii without smtputf8", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, { "RCPT TO:<\xc3\xa5se@example.org>\r\n",
		    "553 5.6.7 Non-ASCII address needs SMTPUTF8 "
		    "(RFC 6531)\r\n" }, END } },
	{ "mail refused by the server", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<refused@example.net>\r\n",
		    "550 5.7.1 Sender refused by policy\r\n" },
		S_MAIL, END } },
	{ "mail size within limit", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<alice@example.net> SIZE=100000\r\n",
		    OK_MAIL }, END } },
	{ "mail size too big", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<alice@example.net> SIZE=100001\r\n",
		    "552 5.3.4 Message size exceeds fixed maximum message "
		    "size\r\n" },
		{ "MAIL FROM:<alice@example.net> "
		    "SIZE=99999999999999999999999999\r\n",
		    "552 5.3.4 Message size exceeds fixed maximum message "
		    "size\r\n" }, END } },
	{ "mail size not a number", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<alice@example.net> SIZE=12k\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "MAIL FROM:<alice@example.net> SIZE\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" }, END } },
	{ "mail unknown parameter", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<alice@example.net> FOO=BAR\r\n",
		    "555 5.5.4 Unsupported parameter\r\n" },
		{ "MAIL FROM:<alice@example.net> NOTIFY=NEVER\r\n",
		    "555 5.5.4 Unsupported parameter\r\n" }, END } },
	{ "mail duplicate parameter", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<alice@example.net> SIZE=1 size=2\r\n",
		    "501 5.5.4 Duplicate parameter\r\n" }, END } },
	{ "mail body types", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<a@example.net> BODY=BINARYMIME\r\n",
		    "555 5.5.4 BINARYMIME not supported\r\n" },
		{ "MAIL FROM:<a@example.net> BODY=9BIT\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "MAIL FROM:<a@example.net> BODY=8bitmime\r\n", OK_MAIL },
		{ "RSET\r\n", OK },
		{ "MAIL FROM:<a@example.net> BODY=7BIT\r\n", OK_MAIL },
		END } },
	{ "mail requiretls refused in the clear", CFG_MX,
	    (const struct step[]){ S_EHLO,
		{ "MAIL FROM:<a@example.net> REQUIRETLS\r\n",
		    "530 5.7.10 REQUIRETLS needs a TLS session\r\n" },
		END } },
	{ "mail smtputf8 takes no value", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<a@example.net> SMTPUTF8=yes\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" }, END } },
	{ "mail dsn parameter values checked", CFG_MX, (const struct step[]){
		S_EHLO, { "MAIL FROM:<a@example.net> RET=ALL\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "MAIL FROM:<a@example.net> ENVID=a+4\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "MAIL FROM:<a@example.net> ENVID=a+00\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "MAIL FROM:<a@example.net> ENVID=\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "MAIL FROM:<a@example.net> ENVID=" "0123456789"
		    "0123456789012345678901234567890123456789012345678901234"
		    "5678901234567890123456789012345678901\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "MAIL FROM:<a@example.net> =x\r\n",
		    "501 5.5.4 Invalid parameter\r\n" },
		END } },

	/* RCPT */
	{ "rcpt before mail", CFG_MX, (const struct step[]){
		S_EHLO, { "RCPT TO:<bob@example.org>\r\n",
		    SEQ "Need MAIL command\r\n" }, END } },
	{ "rcpt without to", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, { "RCPT bob@example.org\r\n",
		    "501 5.5.2 Syntax: RCPT TO:<address>\r\n" }, END } },
	{ "rcpt bad address", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, { "RCPT TO:<bob@>\r\n", NULL },
		{ "RCPT TO:<>\r\n", NULL }, END } },
	{ "rcpt unknown user refused with server text", CFG_MX,
	    (const struct step[]){ S_EHLO, S_MAIL,
		{ "RCPT TO:<unknown@example.org>\r\n",
		    "550 5.1.1 No such user??here\r\n" },
		S_RCPT, END } },
	{ "rcpt to bare postmaster", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, { "RCPT TO:<postmaster>\r\n", OK_RCPT }, END } },
	{ "rcpt notify values", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL,
		{ "RCPT TO:<b@example.org> NOTIFY=NEVER,SUCCESS\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "RCPT TO:<b@example.org> NOTIFY=SOMETIMES\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "RCPT TO:<b@example.org> NOTIFY=SUCCESS,\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "RCPT TO:<b@example.org> NOTIFY=never\r\n", OK_RCPT },
		{ "RCPT TO:<c@example.org> NOTIFY=SUCCESS,FAILURE,DELAY\r\n",
		    OK_RCPT }, END } },
	{ "rcpt orcpt values", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL,
		{ "RCPT TO:<b@example.org> ORCPT=rfc822\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "RCPT TO:<b@example.org> ORCPT=;b@example.org\r\n",
		    "501 5.5.4 Invalid parameter value\r\n" },
		{ "RCPT TO:<b@example.org> ORCPT=rfc822;b@x ORCPT=rfc822;b@x"
		    "\r\n", "501 5.5.4 Duplicate parameter\r\n" },
		{ "RCPT TO:<b@example.org> ORCPT=rfc822;b+40example.org\r\n",
		    OK_RCPT }, END } },
	{ "rcpt unknown parameter", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, { "RCPT TO:<b@example.org> SIZE=10\r\n",
		    "555 5.5.4 Unsupported parameter\r\n" }, END } },
	{ "too many recipients", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL,
		{ "RCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
		    "RCPT TO:<unknown@example.org>\r\n"
		    "RCPT TO:<c@example.org>\r\n",
		    OK_RCPT OK_RCPT "550 5.1.1 No such user??here\r\n"
		    OK_RCPT },
		{ "RCPT TO:<d@example.org>\r\n",
		    "452 4.5.3 Too many recipients\r\n" }, END } },

	/* DATA */
	{ "data before mail", CFG_MX, (const struct step[]){
		S_EHLO, { "DATA\r\n", SEQ "Need MAIL command\r\n" }, END } },
	{ "data before rcpt", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, { "DATA\r\n", SEQ "Need RCPT command\r\n" },
		END } },
	{ "data when every rcpt was refused", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL,
		{ "RCPT TO:<later@example.org>\r\n",
		    "450 4.2.0 Greylisted\r\n" },
		{ "DATA\r\n", "554 5.5.1 No valid recipients\r\n" }, END } },
	{ "data with an argument", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, S_RCPT,
		{ "DATA now\r\n", "501 5.5.4 Syntax: DATA\r\n" }, END } },
	{ "data accepted and queued", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, S_RCPT, { "DATA\r\n", GO_AHEAD },
		{ "Subject: hi\r\n\r\nHello.\r\n.\r\n", QUEUED },
		S_MAIL, END } },

	/* BDAT */
	{ "bdat before mail swallows the chunk", CFG_MX,
	    (const struct step[]){ S_EHLO,
		{ "BDAT 6\r\nRSET\r\n", SEQ "Need MAIL command\r\n" },
		{ "BDAT 6 LAST\r\nRSET\r\n", SEQ "Need MAIL command\r\n" },
		END } },
	{ "bdat syntax", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, S_RCPT,
		{ "BDAT\r\n", "501 5.5.4 Syntax: BDAT size [LAST]\r\n" },
		{ "BDAT -1\r\n", "501 5.5.4 Syntax: BDAT size [LAST]\r\n" },
		{ "BDAT 1 FIRST\r\n",
		    "501 5.5.4 Syntax: BDAT size [LAST]\r\n" },
		{ "BDAT 1 LAST x\r\n",
		    "501 5.5.4 Syntax: BDAT size [LAST]\r\n" },
		END } },
	{ "data after bdat", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, S_RCPT,
		{ "BDAT 4\r\nab\r\n", "250 2.0.0 4 octets received\r\n" },
		{ "DATA\r\n", SEQ "DATA after BDAT\r\n" },
		{ "BDAT 0 LAST\r\n", QUEUED }, END } },
	{ "bdat zero last alone", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, S_RCPT, { "BDAT 0 LAST\r\n", QUEUED }, END } },

	/* Other commands */
	{ "rset", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL, { "RSET\r\n", OK }, S_MAIL,
		{ "RSET now\r\n", "501 5.5.4 Syntax: RSET\r\n" }, END } },
	{ "noop", CFG_MX, (const struct step[]){
		{ "NOOP\r\n", OK }, { "NOOP anything\r\n", OK }, END } },
	{ "help", CFG_MX, (const struct step[]){
		{ "HELP\r\n", "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA "
		    "BDAT RSET NOOP QUIT HELP VRFY STARTTLS AUTH\r\n" },
		END } },
	{ "vrfy neither confirms nor denies", CFG_MX, (const struct step[]){
		{ "VRFY root\r\n", "252 2.5.2 Cannot VRFY user, but will "
		    "accept message and attempt delivery\r\n" },
		{ "VRFY\r\n", "501 5.5.4 Syntax: VRFY address\r\n" }, END } },
	{ "expn refused", CFG_MX, (const struct step[]){
		{ "EXPN staff\r\n", "502 5.5.1 EXPN not available\r\n" },
		END } },
	{ "unknown command", CFG_MX, (const struct step[]){
		{ "FOO bar\r\n", "500 5.5.1 Command unrecognized\r\n" },
		{ "\r\n", "500 5.5.2 Syntax error\r\n" },
		{ "MAILFROM:<a@example.net>\r\n",
		    "500 5.5.1 Command unrecognized\r\n" }, END } },
	{ "bare lf or cr in a command", CFG_MX, (const struct step[]){
		{ "NOOP\n", "500 5.5.2 Bare CR or LF in command\r\n" },
		{ "NO\rOP\r\n", "500 5.5.2 Bare CR or LF in command\r\n" },
		{ "NOOP\r\r\n", "500 5.5.2 Bare CR or LF in command\r\n" },
		{ "NOOP\r\n", OK }, END } },
	{ "quit", CFG_MX, (const struct step[]){
		{ "QUIT\r\nNOOP\r\n", "221 2.0.0 Bye\r\n" }, END } },

	/* STARTTLS */
	{ "starttls on local not available", CFG_LOCAL, (const struct step[]){
		{ "EHLO localhost\r\n", EHLO_BARE },
		{ "STARTTLS\r\n", "454 4.7.0 TLS not available\r\n" }, END } },
	{ "starttls without certificate", CFG_NOTLS, (const struct step[]){
		{ "EHLO client.example\r\n", EHLO_BARE },
		{ "STARTTLS\r\n", "454 4.7.0 TLS not available\r\n" }, END } },
	{ "starttls on submissions already tls", CFG_SUBS,
	    (const struct step[]){
		{ "EHLO client.example\r\n", EHLO_TLS },
		{ "STARTTLS\r\n", SEQ "TLS already active\r\n" }, END } },
	{ "starttls before ehlo", CFG_MX, (const struct step[]){
		{ "STARTTLS\r\n", SEQ "Send EHLO first\r\n" }, END } },
	{ "starttls in a transaction", CFG_MX, (const struct step[]){
		S_EHLO, S_MAIL,
		{ "STARTTLS\r\n", SEQ "Mail transaction in progress\r\n" },
		END } },
	{ "starttls with an argument", CFG_MX, (const struct step[]){
		S_EHLO, { "STARTTLS now\r\n", "501 5.5.4 Syntax: STARTTLS\r\n" },
		END } },

	/* AUTH */
	{ "auth plain with initial response", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH PLAIN " PLAIN_GOOD "\r\n", AUTH_OK },
		END } },
	{ "auth plain after challenge", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH PLAIN\r\n", "334 \r\n" },
		{ PLAIN_GOOD "\r\n", AUTH_OK }, END } },
	{ "auth plain with authzid equal to authcid", CFG_SUB,
	    (const struct step[]){ S_EHLO_PLAIN,
		{ "AUTH PLAIN YWxpY2UAYWxpY2UAc2VjcmV0\r\n", AUTH_OK },
		END } },
	{ "auth plain with another authzid", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN,
		{ "AUTH PLAIN Ym9iAGFsaWNlAHNlY3JldA==\r\n", AUTH_BAD },
		END } },
	{ "auth plain wrong password", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH PLAIN AGFsaWNlAHdyb25n\r\n", AUTH_BAD },
		{ "AUTH PLAIN " PLAIN_GOOD "\r\n", AUTH_OK }, END } },
	{ "auth plain malformed", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH PLAIN AGFsaWNl\r\n",
		    "501 5.5.2 Malformed PLAIN response\r\n" },
		{ "AUTH PLAIN =\r\n",
		    "501 5.5.2 Malformed PLAIN response\r\n" }, END } },
	{ "auth plain bad base64", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN,
		{ "AUTH PLAIN AGFsaWNlAHNlY3JldA=\r\n",
		    "501 5.5.2 Invalid base64 data\r\n" },
		{ "AUTH PLAIN AGFsaWNlAHNlY3JldA=a\r\n",
		    "501 5.5.2 Invalid base64 data\r\n" },
		{ "AUTH PLAIN AGFsaW*lAHNlY3JldA==\r\n",
		    "501 5.5.2 Invalid base64 data\r\n" },
		{ "AUTH PLAIN YQ=\r\n", "501 5.5.2 Invalid base64 data\r\n" },
		/* "YR==" decodes like "YQ==" but with stray bits */
		{ "AUTH PLAIN YR==\r\n", "501 5.5.2 Invalid base64 data\r\n" },
		{ "AUTH PLAIN\r\n", "334 \r\n" },
		{ "!!!!\r\n", "501 5.5.2 Invalid base64 data\r\n" },
		{ "NOOP\r\n", OK }, END } },
	{ "auth cancelled", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH PLAIN\r\n", "334 \r\n" },
		{ "*\r\n", "501 5.0.0 Authentication cancelled\r\n" },
		{ "AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n" },
		{ "YWxpY2U=\r\n", "334 UGFzc3dvcmQ6\r\n" },
		{ "*\r\n", "501 5.0.0 Authentication cancelled\r\n" },
		{ "NOOP\r\n", OK }, END } },
	{ "auth login", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n" },
		{ "YWxpY2U=\r\n", "334 UGFzc3dvcmQ6\r\n" },
		{ "c2VjcmV0\r\n", AUTH_OK }, END } },
	{ "auth login with initial response", CFG_SUB,
	    (const struct step[]){ S_EHLO_PLAIN,
		{ "auth login YWxpY2U=\r\n", "334 UGFzc3dvcmQ6\r\n" },
		{ "c2VjcmV0\r\n", AUTH_OK }, END } },
	{ "auth login wrong password", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH LOGIN YWxpY2U=\r\n",
		    "334 UGFzc3dvcmQ6\r\n" },
		{ "d3Jvbmc=\r\n", AUTH_BAD }, END } },
	{ "auth tempfail", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH PLAIN AHRlbXBmYWlsAHg=\r\n",
		    "454 4.7.0 Temporary authentication failure\r\n" },
		END } },
	{ "auth unknown mechanism", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH CRAM-MD5\r\n",
		    "504 5.5.4 Unrecognized authentication type\r\n" },
		{ "AUTH\r\n", "501 5.5.4 Syntax: AUTH mechanism "
		    "[initial-response]\r\n" },
		{ "AUTH PLAIN a b\r\n", "501 5.5.4 Syntax: AUTH mechanism "
		    "[initial-response]\r\n" }, END } },
	{ "auth before starttls refused", CFG_SUB_TLS, (const struct step[]){
		S_EHLO, { "AUTH PLAIN " PLAIN_GOOD "\r\n",
		    "530 5.7.0 Must issue a STARTTLS command first\r\n" },
		END } },
	{ "auth twice", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "AUTH PLAIN " PLAIN_GOOD "\r\n", AUTH_OK },
		{ "EHLO client.example\r\n", EHLO_BASE "250-DSN\r\n"
		    "250 STARTTLS\r\n" },
		{ "AUTH PLAIN " PLAIN_GOOD "\r\n",
		    SEQ "Already authenticated\r\n" }, END } },
	{ "auth before ehlo", CFG_SUB, (const struct step[]){
		{ "HELO client.example\r\n", "250 mx.example.org\r\n" },
		{ "AUTH PLAIN " PLAIN_GOOD "\r\n", SEQ "Send EHLO first\r\n" },
		END } },
	{ "auth in a mail transaction", CFG_MX_PLAIN, (const struct step[]){
		S_EHLO_PLAIN, S_MAIL, { "AUTH PLAIN " PLAIN_GOOD "\r\n",
		    SEQ "AUTH not allowed during a mail transaction\r\n" },
		END } },
	{ "auth on local", CFG_LOCAL, (const struct step[]){
		{ "EHLO localhost\r\n", EHLO_BARE },
		{ "AUTH PLAIN " PLAIN_GOOD "\r\n",
		    SEQ "Already authenticated\r\n" }, END } },

	/* Submission */
	{ "submission requires auth", CFG_SUB, (const struct step[]){
		S_EHLO_PLAIN, { "MAIL FROM:<alice@example.net>\r\n",
		    "530 5.7.0 Authentication required\r\n" },
		{ "AUTH PLAIN " PLAIN_GOOD "\r\n", AUTH_OK }, S_MAIL, S_RCPT,
		END } },
	{ "submissions requires auth", CFG_SUBS, (const struct step[]){
		{ "EHLO client.example\r\n", EHLO_TLS },
		{ "MAIL FROM:<alice@example.net>\r\n",
		    "530 5.7.0 Authentication required\r\n" },
		{ "AUTH PLAIN " PLAIN_GOOD "\r\n", AUTH_OK }, S_MAIL, END } },
	{ "local needs no auth", CFG_LOCAL, (const struct step[]){
		{ "HELO localhost\r\n", "250 mx.example.org\r\n" }, S_MAIL,
		S_RCPT, END } },

	/* Errors */
	{ "too many errors", CFG_ERR3, (const struct step[]){
		{ "FOO\r\n", "500 5.5.1 Command unrecognized\r\n" },
		{ "NOOP\r\n", OK },
		{ "MAIL FROM:<a@example.net>\r\n",
		    SEQ "Send HELO/EHLO first\r\n" },
		{ "BAR\r\nNOOP\r\n", "500 5.5.1 Command unrecognized\r\n"
		    "421 4.7.0 mx.example.org Too many errors\r\n" },
		{ "NOOP\r\n", "" }, END } },
	{ "refused recipients count as errors", CFG_ERR3,
	    (const struct step[]){ S_EHLO, S_MAIL,
		{ "RCPT TO:<unknown@example.org>\r\n"
		    "RCPT TO:<unknown@example.org>\r\n"
		    "RCPT TO:<unknown@example.org>\r\n"
		    "RCPT TO:<bob@example.org>\r\n",
		    "550 5.1.1 No such user??here\r\n"
		    "550 5.1.1 No such user??here\r\n"
		    "550 5.1.1 No such user??here\r\n"
		    "421 4.7.0 mx.example.org Too many errors\r\n" }, END } },

	/* Pipelining (RFC 2920): one write, answers in order */
	{ "pipelined dialogue in one write", CFG_MX, (const struct step[]){
		{ "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
		    "RCPT TO:<bob@example.org>\r\n"
		    "RCPT TO:<unknown@example.org>\r\n"
		    "RCPT TO:<carol@example.org>\r\nDATA\r\n"
		    "Subject: x\r\n\r\nbody\r\n.\r\n"
		    "MAIL FROM:<>\r\nRCPT TO:<bob@example.org>\r\n"
		    "BDAT 6 LAST\r\nhello\nQUIT\r\n",
		    EHLO_MX OK_MAIL OK_RCPT "550 5.1.1 No such user??here\r\n"
		    OK_RCPT GO_AHEAD QUEUED OK_MAIL OK_RCPT
		    "554 5.6.0 Message contains bare CR or LF (RFC 5321 "
		    "section 2.3.8)\r\n" "221 2.0.0 Bye\r\n" }, END } },
};

static void
run_transcript(void **state)
{
	const struct transcript	*t = *state;
	const struct step	*st;
	struct mock		 m;

	mock_config(&m, t->cfg);
	mock_start(&m);
	for (st = t->steps; st->c != NULL; st++) {
		mock_send(&m, st->c);
		if (st->s != NULL)
			mock_expect(&m, st->s);
		else {
			/* a refusal whose text comes from mailaddr */
			assert_true(m.out.len > 4);
			assert_true(m.out.data[0] == '5');
			buf_reset(&m.out);
		}
	}
	mock_free(&m);
}

/* Fixed tests */

static void
test_greeting(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_free(&m);
}

/* EHLO up to an open DATA for bob@example.org. */
static void
start_data(struct mock *m, enum cfg cfg)
{
	mock_config(m, cfg);
	mock_start(m);
	mock_send(m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nDATA\r\n");
	assert_non_null(strstr(m->out.data, GO_AHEAD));
	buf_reset(&m->out);
}

static void
test_bad_address_codes(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	buf_reset(&m.out);
	mock_send(&m, "MAIL FROM:<alice@@example.net>\r\n");
	assert_memory_equal(m.out.data, "501 5.1.7 ", 10);
	buf_reset(&m.out);
	mock_send(&m, "MAIL FROM:alice@example.net\r\n");
	assert_memory_equal(m.out.data, "501 5.1.7 ", 10);
	buf_reset(&m.out);
	mock_send(&m, "MAIL FROM:<alice@example.net>\r\n");
	buf_reset(&m.out);
	mock_send(&m, "RCPT TO:<bob@>\r\n");
	assert_memory_equal(m.out.data, "501 5.1.3 ", 10);
	buf_reset(&m.out);
	mock_send(&m, "RCPT TO:<>\r\n");
	assert_memory_equal(m.out.data, "501 5.1.3 ", 10);
	buf_reset(&m.out);
	mock_send(&m, "RCPT TO:<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa@example.org>\r\n");
	assert_memory_equal(m.out.data, "501 5.5.4 ", 10);
	mock_free(&m);
}

static void
test_received_header(void **state)
{
	struct mock	m;

	start_data(&m, CFG_MX);
	assert_string_equal(m.data.data + m.hdr_start,
	    "Received: from client.example (mail.client.example "
	    "[192.0.2.1])\r\n"
	    "\tby mx.example.org (cachet) with ESMTP id Q1\r\n"
	    "\tfor <bob@example.org>; " DATE "\r\n");
	mock_free(&m);
}

static void
test_received_header_tls_auth_many_rcpts(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_SUBS);
	m.params.client_name = NULL;
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nAUTH PLAIN " PLAIN_GOOD "\r\n"
	    "MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
	    "RCPT TO:<carol@example.org>\r\nDATA\r\n");
	assert_non_null(strstr(m.out.data, GO_AHEAD));
	assert_string_equal(m.data.data + m.hdr_start,
	    "Received: from client.example (unknown [192.0.2.1])\r\n"
	    "\tby mx.example.org (cachet) with ESMTPSA id Q1\r\n"
	    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384);\r\n"
	    "\t" DATE "\r\n");
	/* the password appears nowhere in what is stored */
	assert_null(strstr(m.data.data, "secret"));
	assert_null(strstr(m.data.data, "alice "));
	assert_string_equal(smtp_session_auth_user(m.s), "alice");
	mock_free(&m);
}

static void
test_received_header_smtputf8_local(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_LOCAL);
	mock_start(&m);
	mock_send(&m, "EHLO localhost\r\nMAIL FROM:<carol@example.org> "
	    "SMTPUTF8\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
	assert_string_equal(m.data.data + m.hdr_start,
	    "Received: from localhost (unknown [local])\r\n"
	    "\tby mx.example.org (cachet) with UTF8SMTPA id Q1\r\n"
	    "\tfor <bob@example.org>; " DATE "\r\n");
	assert_string_equal(smtp_session_auth_user(m.s), "carol");
	mock_free(&m);
}

static void
test_received_header_helo(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "HELO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nDATA\r\n");
	assert_non_null(strstr(m.data.data + m.hdr_start,
	    "\tby mx.example.org (cachet) with SMTP id Q1\r\n"));
	mock_free(&m);
}

/* DATA content: what is stored, or which refusal comes at the end */
struct data_case {
	const char	*name;
	const char	*in;	/* after DATA, up to and past the end */
	const char	*reply;
	const char	*stored;	/* NULL: refused, nothing committed */
};

#define BARE	"554 5.6.0 Message contains bare CR or LF (RFC 5321 " \
		"section 2.3.8)\r\n"

static const struct data_case data_cases[] = {
	{ "data plain message", "Subject: a\r\n\r\nb\r\n.\r\n", QUEUED,
	    "Subject: a\r\n\r\nb\r\n" },
	{ "data empty message", ".\r\n", QUEUED, "" },
	{ "data dot unstuffing", "..a\r\n..\r\n...\r\n.b\r\n\r\n.\r\n",
	    QUEUED, ".a\r\n.\r\n..\r\nb\r\n\r\n" },
	{ "data dot inside a line kept", "a.\r\n a\r\n.\r\n", QUEUED,
	    "a.\r\n a\r\n" },
	{ "data bare lf in a line", "a\nb\r\n.\r\n", BARE, NULL },
	{ "data bare cr in a line", "a\rb\r\n.\r\n", BARE, NULL },
	{ "data cr cr lf", "a\r\r\n.\r\n", BARE, NULL },
	{ "data lf dot lf does not end", "a\r\n\n.\nNOOP\r\n.\r\n", BARE,
	    NULL },
	{ "data lf dot crlf does not end", "a\n.\r\nNOOP\r\n.\r\n", BARE,
	    NULL },
	{ "data cr dot cr does not end", "a\r.\rNOOP\r\n.\r\n", BARE, NULL },
	{ "data crlf dot lf does not end", "a\r\n.\nNOOP\r\n.\r\n", BARE,
	    NULL },
	{ "data crlf dot cr does not end", "a\r\n.\r.\r\n.\r\n", BARE, NULL },
	{ "data bare lf line", "\n.\r\n.\r\n", BARE, NULL },
	{ "data received after the header not counted",
	    "Subject: x\r\n\r\nReceived: x\r\n.\r\n", QUEUED,
	    "Subject: x\r\n\r\nReceived: x\r\n" },
};

static void
run_data_case(void **state)
{
	const struct data_case	*c = *state;
	struct mock		 m;

	start_data(&m, CFG_MX);
	mock_send(&m, c->in);
	if (c->stored != NULL) {
		mock_expect(&m, c->reply);
		assert_true(mock_logged(&m, "commit\n"));
		assert_string_equal(mock_body(&m), c->stored);
	} else {
		/* one reply, and what followed the fake ends was not run */
		mock_expect(&m, c->reply);
		assert_false(mock_logged(&m, "commit\n"));
		assert_true(mock_logged(&m, "abort\n"));
	}
	/* the transaction is over either way */
	mock_send(&m, "RCPT TO:<bob@example.org>\r\n");
	mock_expect(&m, SEQ "Need MAIL command\r\n");
	mock_free(&m);
}

static void
test_data_fed_byte_by_byte(void **state)
{
	struct mock	 m;
	const char	*in = "Subject: a\r\n\r\n..b\r\nc\r\n.\r\nNOOP\r\n";
	size_t		 i;

	start_data(&m, CFG_MX);
	for (i = 0; in[i] != '\0'; i++)
		mock_feed(&m, in + i, 1);
	mock_expect(&m, QUEUED OK);
	assert_string_equal(mock_body(&m), "Subject: a\r\n\r\n.b\r\nc\r\n");
	mock_free(&m);
}

/* Build n lines "Received: ..." then a short message and the end. */
static char *
received_message(size_t n, const char *before)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, 1 << 20);
	assert_int_equal(buf_append_str(&b, before), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_printf(&b, "%s: from h%zu by mx; " DATE
		    "\r\n", i % 2 ? "RECEIVED" : "Received", i), 0);
	assert_int_equal(buf_append_str(&b, "Subject: t\r\n\r\nb\r\n.\r\n"),
	    0);
	return b.data;
}

static void
test_data_100_received_accepted(void **state)
{
	struct mock	 m;
	char		*msg = received_message(100, "");

	start_data(&m, CFG_MX);
	mock_send(&m, msg);
	mock_expect(&m, QUEUED);
	free(msg);
	mock_free(&m);
}

static void
test_data_101_received_refused(void **state)
{
	struct mock	 m;
	char		*msg = received_message(101, "");

	start_data(&m, CFG_MX);
	mock_send(&m, msg);
	mock_expect(&m, "554 5.4.6 Too many Received headers: mail loop\r\n");
	assert_true(mock_logged(&m, "abort\n"));
	free(msg);
	mock_free(&m);
}

static void
test_data_received_with_space_counted(void **state)
{
	struct mock	 m;
	char		*msg = received_message(100, "Received : x\r\n");

	start_data(&m, CFG_MX);
	mock_send(&m, msg);
	mock_expect(&m, "554 5.4.6 Too many Received headers: mail loop\r\n");
	free(msg);
	mock_free(&m);
}

/* A text line of len octets with its CRLF, starting with first. */
static char *
long_line(size_t len, char first)
{
	char	*p = xmalloc(len + 1);

	memset(p, 'x', len - 2);
	p[0] = first;
	p[len - 2] = '\r';
	p[len - 1] = '\n';
	p[len] = '\0';
	return p;
}

#define LONG	"554 5.6.0 Line too long (1000 octets max, RFC 5321 " \
		"section 4.5.3.1.6)\r\n"

static void
test_data_line_1000_accepted(void **state)
{
	struct mock	 m;
	char		*l = long_line(1000, 'x');

	start_data(&m, CFG_MX);
	mock_send(&m, l);
	mock_send(&m, ".\r\n");
	mock_expect(&m, QUEUED);
	assert_string_equal(mock_body(&m), l);
	free(l);
	mock_free(&m);
}

static void
test_data_stuffed_line_1001_accepted(void **state)
{
	struct mock	 m;
	char		*l = long_line(1001, '.');

	start_data(&m, CFG_MX);
	mock_send(&m, l);
	mock_send(&m, ".\r\n");
	mock_expect(&m, QUEUED);
	assert_string_equal(mock_body(&m), l + 1);
	free(l);
	mock_free(&m);
}

static void
test_data_line_1001_refused(void **state)
{
	struct mock	 m;
	char		*l = long_line(1001, 'x');

	start_data(&m, CFG_MX);
	mock_send(&m, l);
	mock_send(&m, "after\r\n.\r\n");
	mock_expect(&m, LONG);
	assert_true(mock_logged(&m, "abort\n"));
	free(l);
	mock_free(&m);
}

static void
test_data_overlong_line_in_pieces(void **state)
{
	struct mock	 m;
	char		*l = long_line(50000, 'x');
	size_t		 i;

	start_data(&m, CFG_MX);
	/* the session consumes it without waiting for its end */
	for (i = 0; i < 50000; i += 700)
		mock_feed(&m, l + i, 50000 - i < 700 ? 50000 - i : 700);
	assert_int_equal(m.in.len, 0);
	mock_expect(&m, "");
	mock_send(&m, ".\r\nNOOP\r\n");
	mock_expect(&m, LONG OK);
	free(l);
	mock_free(&m);
}

static void
test_data_too_big_at_end(void **state)
{
	struct mock	 m;
	char		*l = long_line(60, 'x');

	start_data(&m, CFG_SMALL);
	mock_send(&m, l);
	mock_send(&m, l);
	mock_send(&m, ".\r\n");
	mock_expect(&m, "552 5.3.4 Message size exceeds fixed maximum message "
	    "size\r\n");
	assert_true(mock_logged(&m, "abort\n"));
	free(l);
	mock_free(&m);
}

static void
test_data_open_fails(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	m.open_ok = false;
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nDATA\r\n");
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT
	    "451 4.3.0 Local error in processing\r\n");
	mock_free(&m);
}

static void
test_data_commit_fails(void **state)
{
	struct mock	m;

	start_data(&m, CFG_MX);
	m.commit_code = 452;
	mock_send(&m, "a\r\n.\r\n");
	mock_expect(&m, "452 4.3.1 Insufficient system storage\r\n");
	assert_false(mock_logged(&m, "abort\n"));
	mock_free(&m);
}

static void
test_overlong_command_then_goes_on(void **state)
{
	struct mock	 m;
	char		*l = long_line(5000, 'N');

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, l);
	mock_send(&m, "NOOP\r\n");
	mock_expect(&m, "500 5.5.2 Line too long\r\n" OK);
	free(l);
	mock_free(&m);
}

static void
test_command_line_512_limit(void **state)
{
	struct mock	 m;
	char		*l512 = long_line(512, 'N');
	char		*l513 = long_line(513, 'N');

	memcpy(l512, "NOOP ", 5);
	memcpy(l513, "NOOP ", 5);
	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, l512);
	mock_expect(&m, OK);
	mock_send(&m, l513);
	mock_expect(&m, "500 5.5.2 Line too long\r\n");
	free(l512);
	free(l513);
	mock_free(&m);
}

/* ORCPT may be 500 octets, so RCPT lines pass 512 (RFC 3461 §4.2). */
static void
test_rcpt_line_with_long_orcpt(void **state)
{
	struct mock	m;
	struct buf	b;

	mock_config(&m, CFG_MX);
	m.autoanswer = false;
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>"
	    "\r\n");
	mock_answer(&m);
	buf_init(&b, 4096);
	assert_int_equal(buf_append_str(&b, "RCPT TO:<bob@example.org> "
	    "NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;"), 0);
	while (b.len < 561)
		assert_int_equal(buf_append_char(&b, 'a'), 0);
	assert_int_equal(buf_append_str(&b, "\r\n"), 0);
	mock_send(&m, b.data);
	assert_int_equal(m.pending, REQ_RCPT);
	assert_int_equal(strlen(m.rcpt->orcpt), 500);
	mock_answer(&m);
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT);
	/* one octet more is over the ORCPT limit */
	buf_reset(&b);
	assert_int_equal(buf_append_str(&b, "RCPT TO:<bob@example.org> "
	    "NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;"), 0);
	while (b.len < 562)
		assert_int_equal(buf_append_char(&b, 'a'), 0);
	assert_int_equal(buf_append_str(&b, "\r\n"), 0);
	mock_send(&m, b.data);
	mock_expect(&m, "501 5.5.4 Invalid parameter value\r\n");
	buf_free(&b);
	mock_free(&m);
}

static void
test_mail_line_too_long(void **state)
{
	struct mock	 m;
	char		*l = long_line(2000, 'M');

	memcpy(l, "MAIL FROM:<a@example.net> X=", 28);
	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	buf_reset(&m.out);
	mock_send(&m, l);
	mock_expect(&m, "500 5.5.2 Line too long\r\n");
	assert_false(mock_logged(&m, "mail"));
	free(l);
	mock_free(&m);
}

static void
test_nul_in_command(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_feed(&m, "NOOP\0x\r\n", 8);
	mock_expect(&m, "500 5.5.2 NUL in command\r\n");
	mock_free(&m);
}

static void
test_partial_line_left_for_later(void **state)
{
	struct mock	m;
	size_t		n;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	n = smtp_session_input(m.s, "NOOP\r\nNO", 8);
	assert_int_equal(n, 6);
	mock_expect(&m, OK);
	n = smtp_session_input(m.s, "NO", 2);
	assert_int_equal(n, 0);
	mock_free(&m);
}

static void
test_pipelined_waits_for_answers(void **state)
{
	struct mock	 m;
	const char	*in = "EHLO client.example\r\n"
	    "MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
	    "NOOP\r\n";
	size_t		 n, off;

	mock_config(&m, CFG_MX);
	m.autoanswer = false;
	mock_start(&m);
	n = smtp_session_input(m.s, in, strlen(in));
	/* stopped after MAIL: RCPT must not be answered before it */
	off = strlen("EHLO client.example\r\nMAIL FROM:<alice@example.net>"
	    "\r\n");
	assert_int_equal(n, off);
	assert_true(smtp_session_waiting(m.s));
	assert_int_equal(smtp_session_input(m.s, in + off, strlen(in) - off),
	    0);
	mock_expect(&m, EHLO_MX);
	smtp_session_mail_result(m.s, 250, NULL, NULL);
	assert_false(smtp_session_waiting(m.s));
	n = smtp_session_input(m.s, in + off, strlen(in) - off);
	off += strlen("RCPT TO:<bob@example.org>\r\n");
	assert_int_equal(n, strlen("RCPT TO:<bob@example.org>\r\n"));
	smtp_session_rcpt_result(m.s, 250, NULL, NULL);
	n = smtp_session_input(m.s, in + off, strlen(in) - off);
	assert_int_equal(n, strlen("NOOP\r\n"));
	mock_expect(&m, OK_MAIL OK_RCPT OK);
	mock_free(&m);
}

static void
test_answers_inside_callbacks(void **state)
{
	struct mock	 m;
	const char	*in = "EHLO client.example\r\n"
	    "MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
	    "DATA\r\nx\r\n.\r\nQUIT\r\n";

	mock_config(&m, CFG_MX);
	m.sync = true;
	mock_start(&m);
	assert_int_equal(smtp_session_input(m.s, in, strlen(in)), strlen(in));
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT GO_AHEAD QUEUED
	    "221 2.0.0 Bye\r\n");
	assert_string_equal(mock_body(&m), "x\r\n");
	mock_free(&m);
}

static void
test_bdat_chunks_and_last(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nBDAT 12\r\nSubject: x\r\n");
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT
	    "250 2.0.0 12 octets received\r\n");
	assert_true(mock_logged(&m, "open\n"));
	/* a chunk need not end a line, and dots are not unstuffed */
	mock_send(&m, "BDAT 8\r\n\r\n.body.");
	mock_expect(&m, "250 2.0.0 8 octets received\r\n");
	mock_send(&m, "BDAT 2 LAST\r\n\r\n");
	mock_expect(&m, QUEUED);
	assert_string_equal(mock_body(&m), "Subject: x\r\n\r\n.body.\r\n");
	assert_non_null(strstr(m.data.data + m.hdr_start, "Received: from "));
	mock_free(&m);
}

static void
test_bdat_split_crlf(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nBDAT 2\r\na\rBDAT 2 LAST\r\n\nb");
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT
	    "250 2.0.0 2 octets received\r\n" QUEUED);
	/* the spool holds whole lines: b gets its CRLF */
	assert_string_equal(mock_body(&m), "a\r\nb\r\n");
	mock_free(&m);
}

static void
test_bdat_bare_lf_refused(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nBDAT 3\r\na\nbBDAT 1 LAST\r\nc");
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT
	    "250 2.0.0 3 octets received\r\n" BARE);
	assert_true(mock_logged(&m, "abort\n"));
	mock_free(&m);
}

static void
test_bdat_trailing_cr_refused(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nBDAT 2 LAST\r\na\r");
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT BARE);
	mock_free(&m);
}

static void
test_bdat_byte_by_byte(void **state)
{
	struct mock	 m;
	const char	*in = "BDAT 5\r\nab\r\nxBDAT 3 LAST\r\nyz\nNOOP\r\n";
	size_t		 i;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\n");
	buf_reset(&m.out);
	for (i = 0; in[i] != '\0'; i++)
		mock_feed(&m, in + i, 1);
	mock_expect(&m, "250 2.0.0 5 octets received\r\n" BARE OK);
	mock_free(&m);
}

static void
test_bdat_too_big_swallowed(void **state)
{
	struct mock	 m;
	char		*l = long_line(150, 'x');

	mock_config(&m, CFG_SMALL);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nBDAT 80\r\n");
	mock_send(&m, l + 70);
	assert_non_null(strstr(m.out.data, OK_RCPT
	    "250 2.0.0 80 octets received\r\n"));
	buf_reset(&m.out);
	/* 80 + 150 > 100: the chunk is read, not taken as commands */
	mock_send(&m, "BDAT 150 LAST\r\n");
	mock_send(&m, l);
	mock_expect(&m, "552 5.3.4 Message size exceeds fixed maximum "
	    "message size\r\n");
	assert_true(mock_logged(&m, "abort\n"));
	/* the transaction is gone */
	mock_send(&m, "BDAT 4 LAST\r\nNOOP");
	mock_expect(&m, SEQ "Need MAIL command\r\n");
	free(l);
	mock_free(&m);
}

static void
test_bdat_open_fails(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	m.open_ok = false;
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nBDAT 6\r\nNOOP\r\nNOOP\r\n");
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT
	    "451 4.3.0 Local error in processing\r\n" OK);
	mock_free(&m);
}

static void
test_rset_aborts_open_message(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nBDAT 3\r\nabcRSET\r\n");
	assert_true(mock_logged(&m, "open\nabort\n"));
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT
	    "250 2.0.0 3 octets received\r\n" OK);
	mock_free(&m);
}

static void
test_starttls(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nSTARTTLS\r\n"
	    "MAIL FROM:<evil@example.net>\r\n");
	mock_expect(&m, EHLO_MX "220 2.0.0 Ready to start TLS\r\n");
	assert_true(m.starttls);
	assert_true(smtp_session_waiting(m.s));
	/* what came after STARTTLS in the clear was not taken */
	assert_string_equal(m.in.data, "MAIL FROM:<evil@example.net>\r\n");
	assert_false(mock_logged(&m, "mail"));
	/* the server discards it and starts TLS */
	buf_reset(&m.in);
	m.starttls = false;
	smtp_session_tls_started(m.s, "TLSv1.3", "TLS_AES_128_GCM_SHA256");
	assert_false(smtp_session_waiting(m.s));
	/* everything is forgotten, EHLO included (RFC 3207 §4.2) */
	mock_send(&m, "MAIL FROM:<alice@example.net>\r\n");
	mock_expect(&m, SEQ "Send HELO/EHLO first\r\n");
	mock_send(&m, "EHLO client.example\r\n");
	mock_expect(&m, EHLO_TLS);
	mock_send(&m, "STARTTLS\r\n");
	mock_expect(&m, SEQ "TLS already active\r\n");
	mock_send(&m, "AUTH PLAIN " PLAIN_GOOD "\r\nEHLO client.example\r\n");
	mock_expect(&m, AUTH_OK EHLO_TLS_AUTHED);
	/* RFC 8689 §3: a keyword without a value, kept in the envelope */
	mock_send(&m, "MAIL FROM:<a@example.net> REQUIRETLS=yes\r\n");
	mock_expect(&m, "501 5.5.4 Invalid parameter value\r\n");
	m.autoanswer = false;
	mock_send(&m, "MAIL FROM:<a@example.net> REQUIRETLS\r\n");
	assert_int_equal(m.pending, REQ_MAIL);
	assert_true(m.env->requiretls);
	assert_false(m.env->smtputf8);
	mock_answer(&m);
	mock_free(&m);
}

static void
test_starttls_then_auth_on_submission(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_SUB_TLS);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	mock_expect(&m, EHLO_MX);
	mock_send(&m, "STARTTLS\r\n");
	mock_expect(&m, "220 2.0.0 Ready to start TLS\r\n");
	m.starttls = false;
	smtp_session_tls_started(m.s, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256");
	mock_send(&m, "EHLO client.example\r\nAUTH LOGIN\r\nYWxpY2U=\r\n"
	    "c2VjcmV0\r\nMAIL FROM:<alice@example.net>\r\n");
	mock_expect(&m, EHLO_TLS "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"
	    AUTH_OK OK_MAIL);
	assert_true(mock_logged(&m, "auth alice secret\n"));
	mock_free(&m);
}

static void
test_auth_long_initial_response(void **state)
{
	struct mock	 m;
	char		*l = long_line(2000, 'A');

	/* AUTH lines may pass 512 octets (RFC 4954 §4) */
	memcpy(l, "AUTH PLAIN ", 11);
	memset(l + 11, 'Q', 2000 - 13);
	/* 1987 base64 characters is not a multiple of 4 */
	mock_config(&m, CFG_SUB);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	buf_reset(&m.out);
	mock_send(&m, l);
	mock_expect(&m, "501 5.5.2 Invalid base64 data\r\n");
	free(l);
	mock_free(&m);
}

static void
test_auth_user_unset_before_auth(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_SUB);
	mock_start(&m);
	assert_null(smtp_session_auth_user(m.s));
	mock_send(&m, "EHLO client.example\r\nAUTH PLAIN AGFsaWNlAHdyb25n\r\n");
	assert_null(smtp_session_auth_user(m.s));
	mock_free(&m);
}

static void
test_dsn_params_in_envelope(void **state)
{
	struct mock			 m;
	const struct smtp_envelope	*env;

	mock_config(&m, CFG_MX);
	m.autoanswer = false;
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<alice@example.net> "
	    "RET=HDRS ENVID=QQ+2B1+3Dx BODY=8BITMIME SIZE=1234 "
	    "AUTH=alice+40example.net\r\n");
	assert_int_equal(m.pending, REQ_MAIL);
	env = m.env;
	assert_int_equal(env->ret, SMTP_RET_HDRS);
	assert_string_equal(env->envid, "QQ+1=x");
	assert_int_equal(env->body, SMTP_BODY_8BITMIME);
	assert_int_equal(env->size, 1234);
	assert_false(env->smtputf8);
	/* RFC 4954 §5: an unauthenticated client's AUTH= is <> */
	assert_string_equal(env->auth, "<>");
	mock_answer(&m);
	mock_send(&m, "RCPT TO:<bob@example.org> NOTIFY=SUCCESS,DELAY "
	    "ORCPT=rfc822;Bob+40example.org\r\n");
	mock_answer(&m);
	mock_send(&m, "RCPT TO:<carol@example.org> NOTIFY=NEVER\r\n");
	mock_answer(&m);
	mock_send(&m, "RCPT TO:<dave@example.org>\r\n");
	mock_answer(&m);
	mock_expect(&m, EHLO_MX OK_MAIL OK_RCPT OK_RCPT OK_RCPT);
	mock_send(&m, "DATA\r\n");
	mock_answer(&m);
	mock_send(&m, "x\r\n.\r\n");
	assert_int_equal(m.pending, REQ_COMMIT);
	env = m.env;
	assert_int_equal(env->nrcpts, 3);
	assert_string_equal(env->rcpts[0].addr.local, "bob");
	assert_int_equal(env->rcpts[0].notify,
	    SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY);
	assert_string_equal(env->rcpts[0].orcpt, "rfc822;Bob@example.org");
	assert_int_equal(env->rcpts[1].notify, SMTP_NOTIFY_NEVER);
	assert_null(env->rcpts[1].orcpt);
	assert_int_equal(env->rcpts[2].notify, 0);
	mock_answer(&m);
	mock_expect(&m, GO_AHEAD QUEUED);
	mock_free(&m);
}

static void
test_mail_auth_param_when_authenticated(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_SUB);
	m.autoanswer = false;
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\nAUTH PLAIN " PLAIN_GOOD "\r\n");
	mock_answer(&m);
	mock_send(&m, "MAIL FROM:<alice@example.net> AUTH=alice+40example.net"
	    "\r\n");
	assert_int_equal(m.pending, REQ_MAIL);
	assert_string_equal(m.env->auth, "alice@example.net");
	mock_answer(&m);
	mock_free(&m);
}

static void
test_timeout(void **state)
{
	struct mock	m;

	start_data(&m, CFG_MX);
	mock_send(&m, "partial\r\n");
	smtp_session_timeout(m.s);
	mock_expect(&m, "421 4.4.2 mx.example.org Error: timeout exceeded\r\n");
	assert_true(mock_logged(&m, "abort\nclose\n"));
	assert_true(smtp_session_closing(m.s));
	/* input after closing is ignored */
	assert_int_equal(smtp_session_input(m.s, "NOOP\r\n", 6), 6);
	mock_expect(&m, "");
	mock_free(&m);
}

static void
test_timeout_while_waiting(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	m.autoanswer = false;
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n"
	    "MAIL FROM:<alice@example.net>\r\n");
	smtp_session_timeout(m.s);
	/* a late answer is dropped */
	smtp_session_mail_result(m.s, 250, NULL, NULL);
	mock_expect(&m, EHLO_MX
	    "421 4.4.2 mx.example.org Error: timeout exceeded\r\n");
	mock_free(&m);
}

static void
test_quit_closes(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "QUIT\r\n");
	mock_expect(&m, "221 2.0.0 Bye\r\n");
	assert_true(m.closed);
	assert_true(smtp_session_closing(m.s));
	mock_free(&m);
}

static void
test_free_aborts_open_message(void **state)
{
	struct mock	m;

	start_data(&m, CFG_MX);
	mock_send(&m, "half a message\r\n");
	smtp_session_free(m.s);
	m.s = NULL;
	assert_true(mock_logged(&m, "abort\n"));
	mock_free(&m);
}

/* --- SCRAM-SHA-256 (RFC 5802, RFC 7677) --- */

/* The decoded payload of the one "334 " line the replies hold. */
static void
challenge_of(struct mock *m, char *out, size_t outsz)
{
	size_t	n;

	assert_non_null(m->out.data);
	if (strncmp(m->out.data, "334 ", 4) != 0 || m->out.len < 6 ||
	    memcmp(m->out.data + m->out.len - 2, "\r\n", 2) != 0)
		fail_msg("not a challenge: %s", m->out.data);
	assert_true((m->out.len - 6) / 4 * 3 < outsz);
	assert_int_equal(sasl_b64_decode(span_make(m->out.data + 4,
	    m->out.len - 6), (unsigned char *)out, &n), 0);
	out[n] = '\0';
	buf_reset(&m->out);
}

/*
 * A client logging in as alice: the GS2 header gs2, the binding data it
 * saw (cb, cblen), its password; the initial response on the AUTH line
 * when ir.  Leaves the replies to client-final in m->out and the
 * ServerSignature a right server must send in want_sig.
 */
static void
scram_client(struct mock *m, const char *mech, const char *gs2,
    const unsigned char *cb, size_t cblen, const char *pass, bool ir,
    unsigned char want_sig[32])
{
	char	first[128], sf[512], final[512], line[1200];

	snprintf(first, sizeof(first), "%sn=alice,r=CLInonce", gs2);
	if (ir) {
		snprintf(line, sizeof(line), "AUTH %s %s\r\n", mech,
		    scram_b64(first, strlen(first)));
		mock_send(m, line);
	} else {
		snprintf(line, sizeof(line), "AUTH %s\r\n", mech);
		mock_send(m, line);
		mock_expect(m, "334 \r\n");
		snprintf(line, sizeof(line), "%s\r\n",
		    scram_b64(first, strlen(first)));
		mock_send(m, line);
	}
	assert_true(mock_logged(m, "scram-salt alice\n"));
	challenge_of(m, sf, sizeof(sf));
	assert_string_equal(sf, "r=CLInonce" M_SNONCE ",s=" M_SALT_B64
	    ",i=4096");
	scram_client_final(gs2, cb, cblen, first + strlen(gs2), sf, pass,
	    final, sizeof(final), want_sig);
	snprintf(line, sizeof(line), "%s\r\n",
	    scram_b64(final, strlen(final)));
	mock_send(m, line);
}

/* What the client must see after client-final: v= with the signature. */
static void
expect_server_final(struct mock *m, const unsigned char sig[32])
{
	char	v[128], want[128];

	challenge_of(m, v, sizeof(v));
	snprintf(want, sizeof(want), "v=%s", scram_b64(sig, 32));
	assert_string_equal(v, want);
}

static void
test_scram_login(void **state)
{
	struct mock	m;
	unsigned char	sig[32];

	mock_config(&m, CFG_SUB);	/* in the clear: no -PLUS */
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	mock_expect(&m, EHLO_PLAIN);
	scram_client(&m, "SCRAM-SHA-256", "n,,", NULL, 0, "pencil", false,
	    sig);
	expect_server_final(&m, sig);
	assert_null(smtp_session_auth_user(m.s));	/* not before "" */
	mock_send(&m, "\r\n");
	mock_expect(&m, AUTH_OK);
	assert_string_equal(smtp_session_auth_user(m.s), "alice");
	mock_free(&m);
}

static void
test_scram_plus_login(void **state)
{
	struct mock	m;
	unsigned char	sig[32];

	mock_config(&m, CFG_SUBS);
	memset(m.cb, 0xab, sizeof(m.cb));
	m.cb_len = sizeof(m.cb);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	mock_expect(&m, EHLO_BASE "250-DSN\r\n250-REQUIRETLS\r\n"
	    "250 AUTH SCRAM-SHA-256-PLUS "
	    "SCRAM-SHA-256 PLAIN LOGIN\r\n");
	scram_client(&m, "SCRAM-SHA-256-PLUS", "p=tls-exporter,,", m.cb,
	    m.cb_len, "pencil", true, sig);
	expect_server_final(&m, sig);
	mock_send(&m, "\r\n");
	mock_expect(&m, AUTH_OK);
	mock_free(&m);
}

/* The client saw other binding data: a man in the middle. */
static void
test_scram_plus_mismatch(void **state)
{
	struct mock	m;
	unsigned char	sig[32], other[32];

	mock_config(&m, CFG_SUBS);
	memset(m.cb, 0xab, sizeof(m.cb));
	m.cb_len = sizeof(m.cb);
	memset(other, 0xcd, sizeof(other));
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	buf_reset(&m.out);
	scram_client(&m, "SCRAM-SHA-256-PLUS", "p=tls-exporter,,", other,
	    sizeof(other), "pencil", true, sig);
	mock_expect(&m, "535 5.7.8 Authentication failed: channel binding "
	    "mismatch\r\n");
	assert_false(mock_logged(&m, "scram-proof"));
	assert_null(smtp_session_auth_user(m.s));
	mock_free(&m);
}

static void
test_scram_wrong_password(void **state)
{
	struct mock	m;
	unsigned char	sig[32];

	mock_config(&m, CFG_SUB);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	buf_reset(&m.out);
	scram_client(&m, "SCRAM-SHA-256", "n,,", NULL, 0, "pencil2", true,
	    sig);
	assert_true(mock_logged(&m, "scram-proof alice\n"));
	mock_expect(&m, AUTH_BAD);
	assert_null(smtp_session_auth_user(m.s));
	mock_free(&m);
}

/* Everything that ends an exchange before success. */
static void
test_scram_refusals(void **state)
{
	static const struct {
		enum cfg	 cfg;
		size_t		 cb_len;
		const char	*auth;		/* AUTH line, first included */
		const char	*reply;
	} c[] = {
		/* -PLUS only where binding is offered */
		{ CFG_SUB, 0, "AUTH SCRAM-SHA-256-PLUS\r\n",
		    "504 5.5.4 Unrecognized authentication type\r\n" },
		{ CFG_SUBS, 0, "AUTH SCRAM-SHA-256-PLUS\r\n",
		    "504 5.5.4 Unrecognized authentication type\r\n" },
		/* "y,,n=alice,r=x" where we offered binding: a downgrade */
		{ CFG_SUBS, 32, "AUTH SCRAM-SHA-256 eSwsbj1hbGljZSxyPXg=\r\n",
		    "535 5.7.8 Authentication failed: channel binding was "
		    "offered\r\n" },
		/* "p=tls-server-end-point,,n=alice,r=x": not on this one */
		{ CFG_SUBS, 32, "AUTH SCRAM-SHA-256-PLUS cD10bHMtc2VydmVyLWVu"
		    "ZC1wb2ludCwsbj1hbGljZSxyPXg=\r\n",
		    "535 5.7.8 Authentication failed: channel binding type "
		    "not available\r\n" },
		/* "n,a=bob,n=alice,r=x": acting for someone else */
		{ CFG_SUB, 0, "AUTH SCRAM-SHA-256 bixhPWJvYixuPWFsaWNlLHI9eA==\r\n",
		    "535 5.7.8 Authentication failed: authorization identity "
		    "not allowed\r\n" },
		/* "n,,m=x,n=alice,r=x" */
		{ CFG_SUB, 0, "AUTH SCRAM-SHA-256 biwsbT14LG49YWxpY2Uscj14\r\n",
		    "535 5.7.8 Authentication failed: extensions not "
		    "supported\r\n" },
		/* "n,,r=x" */
		{ CFG_SUB, 0, "AUTH SCRAM-SHA-256 biwscj14\r\n",
		    "501 5.5.2 Malformed SCRAM message: bad user name\r\n" },
		{ CFG_SUB, 0, "AUTH SCRAM-SHA-256 =\r\n",
		    "501 5.5.2 Malformed SCRAM message: bad length\r\n" },
		{ CFG_SUB, 0, "AUTH SCRAM-SHA-256 !!!!\r\n",
		    "501 5.5.2 Invalid base64 data\r\n" },
		/* in the clear without the loopback setting: no AUTH */
		{ CFG_SUB_TLS, 0, "AUTH SCRAM-SHA-256\r\n",
		    "530 5.7.0 Must issue a STARTTLS command first\r\n" },
	};
	struct mock	m;
	size_t		i;

	for (i = 0; i < NELEM(c); i++) {
		mock_config(&m, c[i].cfg);
		memset(m.cb, 0xab, sizeof(m.cb));
		m.cb_len = c[i].cb_len;
		mock_start(&m);
		mock_send(&m, "EHLO client.example\r\n");
		buf_reset(&m.out);
		mock_send(&m, c[i].auth);
		if (strcmp(m.out.data, c[i].reply) != 0)
			fail_msg("case %zu: %s", i, m.out.data);
		buf_reset(&m.out);
		assert_false(mock_logged(&m, "scram-salt"));
		/* the session goes on: a PLAIN login still works */
		if (c[i].cfg == CFG_SUB) {
			mock_send(&m, "AUTH PLAIN " PLAIN_GOOD "\r\n");
			mock_expect(&m, AUTH_OK);
		}
		mock_free(&m);
	}
}

/* A session past EHLO, replies cleared. */
static void
scram_session(struct mock *m, enum cfg cfg)
{
	mock_config(m, cfg);
	mock_start(m);
	mock_send(m, "EHLO client.example\r\n");
	buf_reset(&m->out);
}

/* "*" at any step, a bad final answer, and lookup failing. */
static void
test_scram_cancel_and_tempfail(void **state)
{
	struct mock	m;
	unsigned char	sig[32];
	char		sf[512];

	/* cancelled after server-first */
	scram_session(&m, CFG_SUB);
	mock_send(&m, "AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPXg=\r\n");
	challenge_of(&m, sf, sizeof(sf));
	mock_send(&m, "*\r\n");
	mock_expect(&m, "501 5.0.0 Authentication cancelled\r\n");
	mock_free(&m);

	/* the client does not accept our signature ("*"), or answers
	 * something else than the empty response */
	scram_session(&m, CFG_SUB);
	scram_client(&m, "SCRAM-SHA-256", "n,,", NULL, 0, "pencil", true,
	    sig);
	expect_server_final(&m, sig);
	mock_send(&m, "*\r\n");
	mock_expect(&m, "501 5.0.0 Authentication cancelled\r\n");
	scram_client(&m, "SCRAM-SHA-256", "n,,", NULL, 0, "pencil", true,
	    sig);
	expect_server_final(&m, sig);
	mock_send(&m, "eA==\r\n");
	mock_expect(&m, AUTH_BAD);
	assert_null(smtp_session_auth_user(m.s));
	mock_free(&m);

	/* the key holder cannot answer */
	scram_session(&m, CFG_SUB);
	m.scram_tempfail = true;
	mock_send(&m, "AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPXg=\r\n");
	mock_expect(&m, "454 4.7.0 Temporary authentication failure\r\n");
	mock_free(&m);
}


/* Pipelining abuse (RFC 2920 §3.1) and the greeting delay (issue 15) */

/* Each piece fed on its own, as a client that waits for every reply. */
static void
feed_pieces(struct mock *m, const char *const *pieces)
{
	for (; *pieces != NULL; pieces++)
		mock_send(m, *pieces);
}

static void
test_pipelining_allowed_groups_not_abuse(void **state)
{
	static const char *const pieces[] = {
		"EHLO client.example\r\n",
		"MAIL FROM:<alice@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
		    "RCPT TO:<carol@example.org>\r\nDATA\r\n",
		"Subject: x\r\n\r\nhi\r\n.\r\n",
		"RSET\r\nMAIL FROM:<a@example.net>\r\n"
		    "RCPT TO:<bob@example.org>\r\n",
		"NOOP\r\n",
		"QUIT\r\n",
		NULL,
	};
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	feed_pieces(&m, pieces);
	assert_null(smtp_session_pipelining_abuse(m.s));
	assert_true(mock_logged(&m, "helo client.example\n"));
	mock_free(&m);
}

static void
test_pipelining_after_ehlo_is_abuse(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n"
	    "MAIL FROM:<alice@example.net>\r\n");
	assert_string_equal(smtp_session_pipelining_abuse(m.s), "EHLO");
	/* the replies come as always, in order */
	assert_true(strncmp(m.out.data, "250-mx.example.org\r\n", 20) == 0);
	assert_true(m.out.len > strlen(OK_MAIL));
	assert_string_equal(m.out.data + m.out.len - strlen(OK_MAIL), OK_MAIL);
	mock_free(&m);
}

static void
test_pipelining_after_data_is_abuse(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	mock_send(&m, "MAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n"
	    ".\r\n");
	assert_string_equal(smtp_session_pipelining_abuse(m.s), "DATA");
	/* the message still went through: points, not a refusal */
	assert_non_null(strstr(m.out.data, "354 "));
	assert_non_null(strstr(m.out.data, "250 2.0.0 Ok: queued as Q1"));
	mock_free(&m);
}

static void
test_pipelining_by_helo_client_is_abuse(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "HELO client.example\r\n");
	mock_send(&m, "MAIL FROM:<alice@example.net>\r\n");
	assert_null(smtp_session_pipelining_abuse(m.s));
	mock_send(&m, "RCPT TO:<bob@example.org>\r\n"
	    "RCPT TO:<c@example.org>\r\n");
	assert_string_equal(smtp_session_pipelining_abuse(m.s), "RCPT");
	assert_true(mock_logged(&m, "helo client.example\n"));
	mock_free(&m);
}

static void
test_pipelining_before_any_greeting_is_abuse(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "NOOP\r\nNOOP\r\n");
	assert_string_equal(smtp_session_pipelining_abuse(m.s), "NOOP");
	mock_free(&m);
}

/* The first verb stays; a partial next line counts as sent too. */
static void
test_pipelining_first_verb_kept(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	mock_send(&m, "MAIL FROM:<alice@example.net>\r\n"
	    "RCPT TO:<bob@example.org>\r\nDATA\r\nSubj");
	assert_string_equal(smtp_session_pipelining_abuse(m.s), "DATA");
	mock_send(&m, "ect: x\r\n\r\n.\r\nHELO again.example\r\nNOOP\r\n");
	assert_string_equal(smtp_session_pipelining_abuse(m.s), "DATA");
	mock_free(&m);
}

/* STARTTLS drops what follows (CVE-2011-0411): nothing to score. */
static void
test_pipelining_starttls_not_scored(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	mock_start(&m);
	mock_send(&m, "EHLO client.example\r\n");
	mock_send(&m, "STARTTLS\r\nMAIL FROM:<a@example.net>\r\n");
	assert_true(m.starttls);
	assert_null(smtp_session_pipelining_abuse(m.s));
	mock_free(&m);
}

static void
test_greet_paused_then_done(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	m.s = smtp_session_new(&m.params, &mock_ops, &m);
	smtp_session_start_paused(m.s);
	mock_expect(&m, "220-mx.example.org ESMTP cachet\r\n");
	smtp_session_start(m.s);
	mock_expect(&m, "220 mx.example.org ESMTP cachet\r\n");
	mock_send(&m, "EHLO client.example\r\n");
	assert_non_null(strstr(m.out.data, "250-mx.example.org\r\n"));
	assert_false(smtp_session_pregreeted(m.s));
	assert_false(m.closed);
	mock_free(&m);
}

static void
test_greet_early_talker_refused(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_MX);
	m.s = smtp_session_new(&m.params, &mock_ops, &m);
	smtp_session_start_paused(m.s);
	buf_reset(&m.out);
	mock_send(&m, "EHLO client.example\r\nMAIL FROM:<a@example.net>\r\n");
	mock_expect(&m, "554 5.7.1 mx.example.org Protocol error: you talked "
	    "before the greeting\r\n");
	assert_true(smtp_session_pregreeted(m.s));
	assert_true(m.closed);
	assert_true(smtp_session_closing(m.s));
	/* nothing was asked for: no HELO, no MAIL */
	assert_false(mock_logged(&m, "helo "));
	assert_false(mock_logged(&m, "mail "));
	mock_free(&m);
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_greeting),
	cmocka_unit_test(test_scram_login),
	cmocka_unit_test(test_scram_plus_login),
	cmocka_unit_test(test_scram_plus_mismatch),
	cmocka_unit_test(test_scram_wrong_password),
	cmocka_unit_test(test_scram_refusals),
	cmocka_unit_test(test_scram_cancel_and_tempfail),
	cmocka_unit_test(test_bad_address_codes),
	cmocka_unit_test(test_received_header),
	cmocka_unit_test(test_received_header_tls_auth_many_rcpts),
	cmocka_unit_test(test_received_header_smtputf8_local),
	cmocka_unit_test(test_received_header_helo),
	cmocka_unit_test(test_data_fed_byte_by_byte),
	cmocka_unit_test(test_data_100_received_accepted),
	cmocka_unit_test(test_data_101_received_refused),
	cmocka_unit_test(test_data_received_with_space_counted),
	cmocka_unit_test(test_data_line_1000_accepted),
	cmocka_unit_test(test_data_stuffed_line_1001_accepted),
	cmocka_unit_test(test_data_line_1001_refused),
	cmocka_unit_test(test_data_overlong_line_in_pieces),
	cmocka_unit_test(test_data_too_big_at_end),
	cmocka_unit_test(test_data_open_fails),
	cmocka_unit_test(test_data_commit_fails),
	cmocka_unit_test(test_overlong_command_then_goes_on),
	cmocka_unit_test(test_command_line_512_limit),
	cmocka_unit_test(test_rcpt_line_with_long_orcpt),
	cmocka_unit_test(test_mail_line_too_long),
	cmocka_unit_test(test_nul_in_command),
	cmocka_unit_test(test_partial_line_left_for_later),
	cmocka_unit_test(test_pipelined_waits_for_answers),
	cmocka_unit_test(test_answers_inside_callbacks),
	cmocka_unit_test(test_bdat_chunks_and_last),
	cmocka_unit_test(test_bdat_split_crlf),
	cmocka_unit_test(test_bdat_bare_lf_refused),
	cmocka_unit_test(test_bdat_trailing_cr_refused),
	cmocka_unit_test(test_bdat_byte_by_byte),
	cmocka_unit_test(test_bdat_too_big_swallowed),
	cmocka_unit_test(test_bdat_open_fails),
	cmocka_unit_test(test_rset_aborts_open_message),
	cmocka_unit_test(test_starttls),
	cmocka_unit_test(test_starttls_then_auth_on_submission),
	cmocka_unit_test(test_auth_long_initial_response),
	cmocka_unit_test(test_auth_user_unset_before_auth),
	cmocka_unit_test(test_dsn_params_in_envelope),
	cmocka_unit_test(test_mail_auth_param_when_authenticated),
	cmocka_unit_test(test_timeout),
	cmocka_unit_test(test_timeout_while_waiting),
	cmocka_unit_test(test_quit_closes),
	cmocka_unit_test(test_free_aborts_open_message),
	cmocka_unit_test(test_pipelining_allowed_groups_not_abuse),
	cmocka_unit_test(test_pipelining_after_ehlo_is_abuse),
	cmocka_unit_test(test_pipelining_after_data_is_abuse),
	cmocka_unit_test(test_pipelining_by_helo_client_is_abuse),
	cmocka_unit_test(test_pipelining_before_any_greeting_is_abuse),
	cmocka_unit_test(test_pipelining_first_verb_kept),
	cmocka_unit_test(test_pipelining_starttls_not_scored),
	cmocka_unit_test(test_greet_paused_then_done),
	cmocka_unit_test(test_greet_early_talker_refused),
};

static void
add_test(struct CMUnitTest *t, size_t *n, const char *name,
    CMUnitTestFunction fn, const void *row)
{
	memset(&t[*n], 0, sizeof(t[*n]));
	t[*n].name = name;
	t[*n].test_func = fn;
	t[*n].initial_state = (void *)(uintptr_t)row;
	(*n)++;
}

int
main(void)
{
	struct CMUnitTest	*tests;
	size_t			 i, n = 0;
	int			 rc;

	tests = xcalloc(NELEM(transcripts) + NELEM(data_cases) +
	    NELEM(fixed_tests), sizeof(*tests));
	for (i = 0; i < NELEM(transcripts); i++)
		add_test(tests, &n, transcripts[i].name, run_transcript,
		    &transcripts[i]);
	for (i = 0; i < NELEM(data_cases); i++)
		add_test(tests, &n, data_cases[i].name, run_data_case,
		    &data_cases[i]);
	for (i = 0; i < NELEM(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	rc = _cmocka_run_group_tests("smtp_session", tests, n, NULL, NULL);
	free(tests);
	return rc;
}
