/*
 * Unit tests for pop3_session: POP3 dialogues as transcripts, and the
 * conversion of Maildir content to the wire form.  A mock server records
 * every reply and request; it holds unconsumed input as the real server
 * does and answers each request after pop3_session_input() returns (as
 * the lookup role's answers arrive later).  The mock maildrop holds three
 * messages of 100, 200 and 300 octets; RETR and TOP "send" one line
 * naming the message and the count, then the final dot.  Transcript rows
 * are table-driven, one cmocka test per row; what needs more than lines
 * in and replies out follows as fixed tests.
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
#include "pop3_session.h"
#include "sasl.h"
#include "scram_client.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define TS		"<1234.1.1700000000@mx.example.org>"
#define GOOD_DIGEST	"c4c9334bac560ecc979e58001b3e22fb"

enum cfg {
	CFG_PLAIN,	/* STLS available, USER/PASS allowed in the clear */
	CFG_TLSREQ,	/* STLS available, login only after it */
	CFG_NOTLS,	/* no certificate, no login in the clear */
	CFG_TLS,	/* implicit TLS (pop3s) */
	CFG_NOAPOP,	/* as CFG_PLAIN without an APOP timestamp */
	CFG_ERR3,	/* as CFG_PLAIN, closing after three errors */
	CFG_DELAY,	/* as CFG_PLAIN with LOGIN-DELAY 60, EXPIRE 30 */
};

enum req { REQ_NONE, REQ_AUTH, REQ_APOP, REQ_RETR, REQ_SCRAM_SALT,
    REQ_SCRAM_PROOF, REQ_SCRAM_DONE };

struct mock {
	struct pop3_session	*s;
	struct pop3_params	 params;
	struct buf		 out;	/* replies */
	struct buf		 log;	/* requests, one a line */
	struct buf		 in;	/* input the session did not take */
	enum req		 pending;
	enum pop3_auth_result	 answer;
	bool			 autoanswer;
	bool			 stls;
	bool			 closed;
	bool			 update_fails;
	size_t			 retr_idx;
	int64_t			 retr_top;
	/* SCRAM: binding data (cb_len 0: none) and the request */
	unsigned char		 cb[32];
	size_t			 cb_len;
	char			 user[300];
	char			 authmsg[SASL_SCRAM_AUTHMSG_MAX + 1];
	unsigned char		 proof[SASL_SCRAM_HASH_LEN];
};

static const struct pop3_msg mock_drop[] = {
	{ 100, "1700000000.1" },
	{ 200, "1700000000.2" },
	{ 300, "1700000000.3" },
};

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
	assert_true(len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n');
	assert_int_equal(buf_append(&m->out, p, len), 0);
}

static void
m_stls(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "stls\n");
	m->stls = true;
}

/* alice/secret is good, "busy" is locked, "later" cannot be checked. */
static void
m_auth(void *arg, const char *user, const char *pass)
{
	struct mock	*m = arg;

	logf_(m, "auth %s %s\n", user, pass);
	m->pending = REQ_AUTH;
	if (strcmp(user, "alice") == 0 && (strcmp(pass, "secret") == 0 ||
	    strcmp(pass, " my secret ") == 0))
		m->answer = POP3_AUTH_OK;
	else if (strcmp(user, "busy") == 0)
		m->answer = POP3_AUTH_IN_USE;
	else if (strcmp(user, "later") == 0)
		m->answer = POP3_AUTH_TEMPFAIL;
	else if (strcmp(user, "mbox") == 0)
		m->answer = POP3_AUTH_SYS_PERM;
	else
		m->answer = POP3_AUTH_FAIL;
}

static void
m_apop(void *arg, const char *user, const char *digest)
{
	struct mock	*m = arg;

	logf_(m, "apop %s %s\n", user, digest);
	m->pending = REQ_APOP;
	m->answer = strcmp(user, "alice") == 0 &&
	    strcmp(digest, GOOD_DIGEST) == 0 ? POP3_AUTH_OK : POP3_AUTH_FAIL;
}

/* Message 3 (idx 2) "cannot be read" when asked with TOP 7. */
static int
m_retr(void *arg, size_t idx, int64_t top)
{
	struct mock	*m = arg;

	logf_(m, "retr %zu %lld\n", idx, (long long)top);
	if (idx == 2 && top == 7)
		return -1;
	m->pending = REQ_RETR;
	m->retr_idx = idx;
	m->retr_top = top;
	return 0;
}

static int
m_update(void *arg)
{
	struct mock	*m = arg;
	size_t		 i;

	logf_(m, "update");
	for (i = 0; i < pop3_session_count(m->s); i++)
		if (pop3_session_deleted(m->s, i))
			logf_(m, " %zu", i);
	logf_(m, "\n");
	return m->update_fails ? -1 : 0;
}

static void
m_close(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "close\n");
	m->closed = true;
}

static void
m_scram_salt(void *arg, const char *user)
{
	struct mock	*m = arg;

	logf_(m, "scram-salt %s\n", user);
	assert_int_equal(str_copy(m->user, sizeof(m->user), user), 0);
	m->pending = REQ_SCRAM_SALT;
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
}

/* The maildrop of the user whose proof was right; "busy" is locked. */
static void
m_scram_done(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "scram-done\n");
	m->pending = REQ_SCRAM_DONE;
}

static ssize_t
m_cbind(void *arg, enum sasl_cb type, unsigned char *out, size_t outsz)
{
	struct mock	*m = arg;

	if (m->cb_len == 0 || type != SASL_CB_TLS_SERVER_END_POINT ||
	    outsz < m->cb_len)
		return -1;
	memcpy(out, m->cb, m->cb_len);
	return (ssize_t)m->cb_len;
}

/* The key holder: password "pencil" for every user, RFC 7677's salt. */
#define M_SALT_B64	"W22ZaJ0SNY7soEsUEjb6gQ=="
#define M_SNONCE	"SRVnonce"

static void
mock_challenge(struct sasl_scram_challenge *ch)
{
	memset(ch, 0, sizeof(*ch));
	assert_int_equal(sasl_b64_decode(span_str(M_SALT_B64), ch->salt,
	    &ch->saltlen), 0);
	ch->iterations = 4096;
	strcpy(ch->snonce, M_SNONCE);
}

static void
mock_scram_proof(struct mock *m)
{
	struct sasl_scram_challenge	ch;
	unsigned char			stored[32], server[32], sig[32];

	mock_challenge(&ch);
	assert_int_equal(sasl_scram_derive("pencil", 6, ch.salt, ch.saltlen,
	    4096, stored, server), 0);
	if (sasl_scram_verify(stored, server, m->authmsg, strlen(m->authmsg),
	    m->proof, sig))
		pop3_session_scram_result(m->s, POP3_AUTH_OK, sig);
	else
		pop3_session_scram_result(m->s, strcmp(m->user, "later") == 0 ?
		    POP3_AUTH_TEMPFAIL : POP3_AUTH_FAIL, NULL);
}

static const struct pop3_session_ops mock_ops = {
	.reply = m_reply,
	.stls = m_stls,
	.auth = m_auth,
	.apop = m_apop,
	.scram_salt = m_scram_salt,
	.scram_proof = m_scram_proof,
	.scram_done = m_scram_done,
	.cbind = m_cbind,
	.retr = m_retr,
	.update = m_update,
	.close = m_close,
};

static void
mock_answer(struct mock *m)
{
	struct sasl_scram_challenge	 ch;
	char				 line[80];
	enum req			 r = m->pending;

	m->pending = REQ_NONE;
	switch (r) {
	case REQ_AUTH:
	case REQ_APOP:
		pop3_session_auth_result(m->s, m->answer, mock_drop,
		    NELEM(mock_drop));
		break;
	case REQ_RETR:
		/* What the server sends after the +OK. */
		(void)snprintf(line, sizeof(line),
		    "[msg %zu top %lld]\r\n.\r\n", m->retr_idx + 1,
		    (long long)m->retr_top);
		assert_int_equal(buf_append_str(&m->out, line), 0);
		pop3_session_send_done(m->s);
		break;
	case REQ_SCRAM_SALT:
		mock_challenge(&ch);
		pop3_session_scram_challenge(m->s, POP3_AUTH_OK, &ch);
		break;
	case REQ_SCRAM_PROOF:
		mock_scram_proof(m);
		break;
	case REQ_SCRAM_DONE:
		pop3_session_auth_result(m->s, strcmp(m->user, "busy") == 0 ?
		    POP3_AUTH_IN_USE : POP3_AUTH_OK, mock_drop,
		    NELEM(mock_drop));
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
	buf_init(&m->in, 1 << 20);
	m->autoanswer = true;
	m->params.hostname = "mx.example.org";
	m->params.timestamp = TS;
	m->params.tls_available = true;
	m->params.plaintext_auth = true;
	m->params.max_errors = 20;
	switch (cfg) {
	case CFG_PLAIN:
	case CFG_TLS:
		break;
	case CFG_TLSREQ:
		m->params.plaintext_auth = false;
		break;
	case CFG_NOTLS:
		m->params.tls_available = false;
		m->params.plaintext_auth = false;
		break;
	case CFG_NOAPOP:
		m->params.timestamp = NULL;
		break;
	case CFG_ERR3:
		m->params.max_errors = 3;
		break;
	case CFG_DELAY:
		m->params.login_delay = 60;
		m->params.expire = "30";
		break;
	}
}

/* Create the session and swallow the greeting. */
static void
mock_start(struct mock *m, enum cfg cfg)
{
	m->s = pop3_session_new(&m->params, &mock_ops, m);
	if (cfg == CFG_TLS)
		pop3_session_tls_started(m->s);
	pop3_session_start(m->s);
	if (m->params.timestamp != NULL)
		assert_string_equal(m->out.data,
		    "+OK mx.example.org POP3 cachet ready " TS "\r\n");
	else
		assert_string_equal(m->out.data,
		    "+OK mx.example.org POP3 cachet ready\r\n");
	buf_reset(&m->out);
}

static void
mock_free(struct mock *m)
{
	pop3_session_free(m->s);
	buf_free(&m->out);
	buf_free(&m->log);
	buf_free(&m->in);
}

/*
 * Feed bytes as the server does: keep what the session leaves, answer
 * what it asks, feed again; stop at STLS (the test decides what happens
 * to the bytes held then) or when nothing moves.
 */
static void
mock_feed(struct mock *m, const char *p, size_t len)
{
	size_t	n;

	assert_int_equal(buf_append(&m->in, p, len), 0);
	for (;;) {
		n = 0;
		if (m->in.len > 0) {
			n = pop3_session_input(m->s, m->in.data, m->in.len);
			assert_true(n <= m->in.len);
			buf_consume(&m->in, n);
		}
		if (m->stls)
			break;
		if (pop3_session_waiting(m->s)) {
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

static void
mock_expect(struct mock *m, const char *want)
{
	assert_string_equal(m->out.data != NULL ? m->out.data : "", want);
	buf_reset(&m->out);
}

static void
mock_expect_log(struct mock *m, const char *want)
{
	assert_string_equal(m->log.data != NULL ? m->log.data : "", want);
	buf_reset(&m->log);
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
	const char		*log;	/* requests made, or NULL: unchecked */
};

#define END		{ NULL, NULL }
#define LOGIN		{ "USER alice\r\nPASS secret\r\n", "+OK Send your " \
			  "password\r\n+OK Logged in, 3 messages (600 " \
			  "octets)\r\n" }
#define LOGIN_LOG	"auth alice secret\n"
#define BYE		"+OK mx.example.org POP3 server signing off\r\n"
#define CAPA_HEAD	"+OK Capability list follows\r\nTOP\r\nUIDL\r\n"
#define CAPA_TAIL	"RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n" \
			"EXPIRE NEVER\r\nIMPLEMENTATION cachet\r\n.\r\n"
#define PLAINTEXT_REFUSED "-ERR Plaintext authentication disallowed " \
			"without TLS, use STLS\r\n"
/* base64 of "\0alice\0secret", "alice\0alice\0secret", "bob\0alice\0s" */
#define PLAIN_ALICE	"AGFsaWNlAHNlY3JldA=="
#define PLAIN_AUTHZ	"YWxpY2UAYWxpY2UAc2VjcmV0"
#define PLAIN_OTHER	"Ym9iAGFsaWNlAHM="

static const struct step t_quit_before_login[] = {
	{ "QUIT\r\n", BYE },
	END
};

static const struct step t_capa_plaintext_allowed[] = {
	{ "CAPA\r\n", CAPA_HEAD "USER\r\nSASL SCRAM-SHA-256 PLAIN\r\nSTLS\r\n" CAPA_TAIL },
	END
};

static const struct step t_capa_tls_required[] = {
	{ "CAPA\r\n", CAPA_HEAD "STLS\r\n" CAPA_TAIL },
	END
};

static const struct step t_capa_no_tls_at_all[] = {
	{ "CAPA\r\n", CAPA_HEAD CAPA_TAIL },
	END
};

static const struct step t_capa_over_tls[] = {
	{ "CAPA\r\n", CAPA_HEAD "USER\r\nSASL SCRAM-SHA-256 PLAIN\r\n" CAPA_TAIL },
	END
};

static const struct step t_capa_same_after_login[] = {
	LOGIN,
	{ "CAPA\r\n", CAPA_HEAD "USER\r\nSASL SCRAM-SHA-256 PLAIN\r\nSTLS\r\n" CAPA_TAIL },
	END
};

static const struct step t_capa_login_delay_expire[] = {
	{ "CAPA\r\n", CAPA_HEAD "USER\r\nSASL SCRAM-SHA-256 PLAIN\r\nSTLS\r\nRESP-CODES\r\n"
	  "AUTH-RESP-CODE\r\nPIPELINING\r\nEXPIRE 30\r\nLOGIN-DELAY 60\r\n"
	  "IMPLEMENTATION cachet\r\n.\r\n" },
	END
};

static const struct step t_capa_with_argument[] = {
	{ "CAPA x\r\n", "-ERR Syntax: CAPA\r\n" },
	END
};

static const struct step t_user_pass_stat[] = {
	LOGIN,
	{ "STAT\r\n", "+OK 3 600\r\n" },
	END
};

static const struct step t_commands_any_case[] = {
	{ "user alice\r\npAsS secret\r\n", "+OK Send your password\r\n"
	  "+OK Logged in, 3 messages (600 octets)\r\n" },
	{ "stat\r\nNoOp\r\n", "+OK 3 600\r\n+OK\r\n" },
	END
};

static const struct step t_pass_keeps_spaces[] = {
	{ "USER alice\r\nPASS  my secret \r\n", "+OK Send your password\r\n"
	  "+OK Logged in, 3 messages (600 octets)\r\n" },
	END
};

static const struct step t_pass_without_user[] = {
	{ "PASS secret\r\n", "-ERR Send USER first\r\n" },
	END
};

static const struct step t_pass_empty[] = {
	{ "USER alice\r\n", "+OK Send your password\r\n" },
	{ "PASS\r\n", "-ERR Syntax: PASS password\r\n" },
	{ "PASS secret\r\n", "-ERR Send USER first\r\n" },
	END
};

static const struct step t_user_without_name[] = {
	{ "USER\r\n", "-ERR Syntax: USER name\r\n" },
	{ "USER a b\r\n", "-ERR Syntax: USER name\r\n" },
	END
};

static const struct step t_user_refused_without_tls[] = {
	{ "USER alice\r\n", PLAINTEXT_REFUSED },
	{ "PASS secret\r\n", PLAINTEXT_REFUSED },
	{ "AUTH PLAIN " PLAIN_ALICE "\r\n", PLAINTEXT_REFUSED },
	END
};

static const struct step t_user_over_tls[] = {
	LOGIN,
	END
};

static const struct step t_wrong_password[] = {
	{ "USER alice\r\nPASS wrong\r\n", "+OK Send your password\r\n"
	  "-ERR [AUTH] Authentication failed\r\n" },
	{ "PASS secret\r\n", "-ERR Send USER first\r\n" },
	LOGIN,
	END
};

static const struct step t_maildrop_in_use[] = {
	{ "USER busy\r\nPASS x\r\n", "+OK Send your password\r\n"
	  "-ERR [IN-USE] Maildrop is locked by another session\r\n" },
	{ "STAT\r\n", "-ERR Not logged in\r\n" },
	END
};

static const struct step t_login_tempfail[] = {
	{ "USER later\r\nPASS x\r\n", "+OK Send your password\r\n"
	  "-ERR [SYS/TEMP] Temporary failure, try again later\r\n" },
	END
};

static const struct step t_maildrop_not_servable[] = {
	{ "USER mbox\r\nPASS x\r\n", "+OK Send your password\r\n"
	  "-ERR [SYS/PERM] Maildrop not available over POP3\r\n" },
	END
};

static const struct step t_transaction_commands_need_login[] = {
	{ "STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 1 1\r\nDELE 1\r\nNOOP\r\n"
	  "RSET\r\n", "-ERR Not logged in\r\n-ERR Not logged in\r\n"
	  "-ERR Not logged in\r\n-ERR Not logged in\r\n"
	  "-ERR Not logged in\r\n-ERR Not logged in\r\n"
	  "-ERR Not logged in\r\n-ERR Not logged in\r\n" },
	END
};

static const struct step t_login_commands_after_login[] = {
	LOGIN,
	{ "USER bob\r\nPASS x\r\nAPOP a b\r\nAUTH PLAIN\r\nSTLS\r\n",
	  "-ERR Already logged in\r\n-ERR Already logged in\r\n"
	  "-ERR Already logged in\r\n-ERR Already logged in\r\n"
	  "-ERR Already logged in\r\n" },
	END
};

static const struct step t_unknown_command[] = {
	{ "LAST\r\n", "-ERR Unknown command\r\n" },
	{ "XTND XMIT\r\n", "-ERR Unknown command\r\n" },
	END
};

static const struct step t_empty_line[] = {
	{ "\r\n", "-ERR Unknown command\r\n" },
	END
};

static const struct step t_bare_lf_refused[] = {
	{ "CAPA\n", "-ERR Line must end with CRLF\r\n" },
	{ "NO\rOP\r\n", "-ERR Line must end with CRLF\r\n" },
	END
};

static const struct step t_list_all[] = {
	LOGIN,
	{ "LIST\r\n", "+OK 3 messages (600 octets)\r\n1 100\r\n2 200\r\n"
	  "3 300\r\n.\r\n" },
	END
};

static const struct step t_list_one[] = {
	LOGIN,
	{ "LIST 2\r\n", "+OK 2 200\r\n" },
	{ "LIST 002\r\n", "+OK 2 200\r\n" },
	END
};

static const struct step t_list_bad_numbers[] = {
	LOGIN,
	{ "LIST 4\r\n", "-ERR No such message\r\n" },
	{ "LIST 0\r\n", "-ERR No such message\r\n" },
	{ "LIST -1\r\n", "-ERR Invalid message number\r\n" },
	{ "LIST +1\r\n", "-ERR Invalid message number\r\n" },
	{ "LIST x\r\n", "-ERR Invalid message number\r\n" },
	{ "LIST 99999999999999999999999\r\n",
	  "-ERR Invalid message number\r\n" },
	{ "LIST 18446744073709551617\r\n",
	  "-ERR Invalid message number\r\n" },
	{ "LIST 1 2\r\n", "-ERR Syntax: LIST [message]\r\n" },
	END
};

static const struct step t_uidl_all_and_one[] = {
	LOGIN,
	{ "UIDL\r\n", "+OK Unique-id listing follows\r\n1 1700000000.1\r\n"
	  "2 1700000000.2\r\n3 1700000000.3\r\n.\r\n" },
	{ "UIDL 3\r\n", "+OK 3 1700000000.3\r\n" },
	{ "UIDL 4\r\n", "-ERR No such message\r\n" },
	END
};

static const struct step t_dele_hides_message[] = {
	LOGIN,
	{ "DELE 2\r\n", "+OK Message 2 deleted\r\n" },
	{ "STAT\r\n", "+OK 2 400\r\n" },
	{ "LIST\r\n", "+OK 2 messages (400 octets)\r\n1 100\r\n3 300\r\n"
	  ".\r\n" },
	{ "UIDL\r\n", "+OK Unique-id listing follows\r\n1 1700000000.1\r\n"
	  "3 1700000000.3\r\n.\r\n" },
	{ "LIST 2\r\n", "-ERR Message 2 already deleted\r\n" },
	{ "RETR 2\r\n", "-ERR Message 2 already deleted\r\n" },
	{ "DELE 2\r\n", "-ERR Message 2 already deleted\r\n" },
	END
};

static const struct step t_rset_unmarks[] = {
	LOGIN,
	{ "DELE 1\r\nDELE 3\r\n", "+OK Message 1 deleted\r\n"
	  "+OK Message 3 deleted\r\n" },
	{ "RSET\r\n", "+OK Maildrop has 3 messages (600 octets)\r\n" },
	{ "STAT\r\n", "+OK 3 600\r\n" },
	{ "QUIT\r\n", "+OK mx.example.org POP3 server signing off "
	  "(3 messages left)\r\n" },
	END
};

static const struct step t_quit_updates[] = {
	LOGIN,
	{ "DELE 1\r\nDELE 3\r\n", "+OK Message 1 deleted\r\n"
	  "+OK Message 3 deleted\r\n" },
	{ "QUIT\r\n", "+OK mx.example.org POP3 server signing off "
	  "(1 messages left)\r\n" },
	END
};

static const struct step t_retr[] = {
	LOGIN,
	{ "RETR 1\r\n", "+OK 100 octets\r\n[msg 1 top -1]\r\n.\r\n" },
	{ "RETR 4\r\n", "-ERR No such message\r\n" },
	{ "RETR\r\n", "-ERR Syntax: RETR message\r\n" },
	END
};

static const struct step t_top[] = {
	LOGIN,
	{ "TOP 2 0\r\n", "+OK Top of message follows\r\n[msg 2 top 0]\r\n"
	  ".\r\n" },
	{ "TOP 2 18446744073709551615\r\n", "+OK Top of message follows\r\n"
	  "[msg 2 top 9223372036854775807]\r\n.\r\n" },
	{ "TOP 2\r\n", "-ERR Syntax: TOP message lines\r\n" },
	{ "TOP 2 -1\r\n", "-ERR Syntax: TOP message lines\r\n" },
	{ "TOP 3 7\r\n", "-ERR [SYS/TEMP] Message 3 cannot be read\r\n" },
	END
};

static const struct step t_apop_right_digest[] = {
	{ "APOP alice " GOOD_DIGEST "\r\n",
	  "+OK Logged in, 3 messages (600 octets)\r\n" },
	END
};

static const struct step t_apop_upper_case_digest[] = {
	{ "APOP alice C4C9334BAC560ECC979E58001B3E22FB\r\n",
	  "+OK Logged in, 3 messages (600 octets)\r\n" },
	END
};

static const struct step t_apop_wrong_digest[] = {
	{ "APOP alice 00000000000000000000000000000000\r\n",
	  "-ERR [AUTH] Authentication failed\r\n" },
	END
};

static const struct step t_apop_bad_syntax[] = {
	{ "APOP alice\r\n", "-ERR Syntax: APOP name digest\r\n" },
	{ "APOP alice c4c9\r\n", "-ERR Syntax: APOP name digest\r\n" },
	{ "APOP alice g4c9334bac560ecc979e58001b3e22fb\r\n",
	  "-ERR Syntax: APOP name digest\r\n" },
	{ "APOP alice " GOOD_DIGEST " x\r\n",
	  "-ERR Syntax: APOP name digest\r\n" },
	END
};

static const struct step t_apop_not_offered[] = {
	{ "APOP alice " GOOD_DIGEST "\r\n", "-ERR APOP not available\r\n" },
	END
};

static const struct step t_apop_allowed_without_tls[] = {
	{ "APOP alice " GOOD_DIGEST "\r\n",
	  "+OK Logged in, 3 messages (600 octets)\r\n" },
	END
};

static const struct step t_auth_plain_initial_response[] = {
	{ "AUTH PLAIN " PLAIN_ALICE "\r\n",
	  "+OK Logged in, 3 messages (600 octets)\r\n" },
	END
};

static const struct step t_auth_plain_continuation[] = {
	{ "AUTH plain\r\n", "+ \r\n" },
	{ PLAIN_AUTHZ "\r\n", "+OK Logged in, 3 messages (600 octets)\r\n" },
	END
};

static const struct step t_auth_cancelled[] = {
	{ "AUTH PLAIN\r\n", "+ \r\n" },
	{ "*\r\n", "-ERR Authentication cancelled\r\n" },
	{ "STAT\r\n", "-ERR Not logged in\r\n" },
	END
};

static const struct step t_auth_bad_base64[] = {
	{ "AUTH PLAIN AGFsaWNlAHNlY3JldA=\r\n",
	  "-ERR Invalid base64 data\r\n" },
	{ "AUTH PLAIN\r\n", "+ \r\n" },
	{ "!!!!\r\n", "-ERR Invalid base64 data\r\n" },
	END
};

static const struct step t_auth_bad_line_ends_exchange[] = {
	{ "AUTH PLAIN\r\n", "+ \r\n" },
	{ PLAIN_ALICE "\n", "-ERR Line must end with CRLF\r\n" },
	{ "CAPA x\r\n", "-ERR Syntax: CAPA\r\n" },
	END
};

static const struct step t_auth_empty_response[] = {
	{ "AUTH PLAIN =\r\n", "-ERR Malformed PLAIN response\r\n" },
	END
};

static const struct step t_auth_other_authzid[] = {
	{ "AUTH PLAIN " PLAIN_OTHER "\r\n",
	  "-ERR [AUTH] Authentication failed\r\n" },
	END
};

static const struct step t_auth_unknown_mechanism[] = {
	{ "AUTH CRAM-MD5\r\n",
	  "-ERR Unsupported authentication mechanism\r\n" },
	{ "AUTH PLAIN a b\r\n",
	  "-ERR Syntax: AUTH mechanism [initial-response]\r\n" },
	END
};

static const struct step t_auth_lists_mechanisms[] = {
	{ "AUTH\r\n", "+OK Mechanisms follow\r\nSCRAM-SHA-256\r\nPLAIN\r\n"
	  ".\r\n" },
	END
};

static const struct step t_auth_lists_nothing_without_tls[] = {
	{ "AUTH\r\n", "+OK Mechanisms follow\r\n.\r\n" },
	END
};

static const struct step t_stls_refused[] = {
	{ "STLS\r\n", "-ERR TLS not available\r\n" },
	{ "STLS now\r\n", "-ERR Syntax: STLS\r\n" },
	END
};

static const struct step t_stls_over_tls[] = {
	{ "STLS\r\n", "-ERR TLS already active\r\n" },
	END
};

static const struct step t_too_many_errors[] = {
	{ "X\r\nY\r\n", "-ERR Unknown command\r\n-ERR Unknown command\r\n" },
	{ "Z\r\nQUIT\r\n", "-ERR Unknown command\r\n"
	  "-ERR Too many errors, closing connection\r\n" },
	END
};

static const struct step t_pipelined_session[] = {
	{ "CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST 1\r\nRETR 2\r\n"
	  "DELE 2\r\nUIDL 1\r\nQUIT\r\n",
	  CAPA_HEAD "USER\r\nSASL SCRAM-SHA-256 PLAIN\r\nSTLS\r\n" CAPA_TAIL
	  "+OK Send your password\r\n"
	  "+OK Logged in, 3 messages (600 octets)\r\n+OK 3 600\r\n"
	  "+OK 1 100\r\n+OK 200 octets\r\n[msg 2 top -1]\r\n.\r\n"
	  "+OK Message 2 deleted\r\n+OK 1 1700000000.1\r\n"
	  "+OK mx.example.org POP3 server signing off (2 messages left)\r\n" },
	{ "NOOP\r\n", "" },
	END
};

static const struct step t_overlong_line_then_goes_on[] = {
	{ "NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nCAPA x\r\n",
	  "-ERR Line too long\r\n-ERR Syntax: CAPA\r\n" },
	END
};

static const struct step t_line_of_255_accepted[] = {
	/* "USER " + 248 octets + CRLF: 255 octets in all, RFC 2449 §4 */
	{ "USER aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
	  "+OK Send your password\r\n" },
	END
};

static const struct step t_noop_and_arguments[] = {
	LOGIN,
	{ "NOOP\r\n", "+OK\r\n" },
	{ "NOOP 1\r\n", "-ERR Syntax: NOOP\r\n" },
	{ "STAT 1\r\n", "-ERR Syntax: STAT\r\n" },
	{ "RSET 1\r\n", "-ERR Syntax: RSET\r\n" },
	{ "DELE\r\n", "-ERR Syntax: DELE message\r\n" },
	END
};

static const struct step t_user_name_utf8[] = {
	{ "USER j\xc3\xb6rg\r\n", "+OK Send your password\r\n" },
	{ "USER j\xc3rg\r\n", "-ERR Syntax: USER name\r\n" },
	{ "USER \xed\xa0\x80\r\n", "-ERR Syntax: USER name\r\n" },
	END
};

#define T(name, cfg, log)	{ #name, cfg, t_##name, log }

static const struct transcript transcripts[] = {
	T(quit_before_login, CFG_PLAIN, "close\n"),
	T(capa_plaintext_allowed, CFG_PLAIN, ""),
	T(capa_tls_required, CFG_TLSREQ, ""),
	T(capa_no_tls_at_all, CFG_NOTLS, ""),
	T(capa_over_tls, CFG_TLS, ""),
	T(capa_same_after_login, CFG_PLAIN, LOGIN_LOG),
	T(capa_login_delay_expire, CFG_DELAY, ""),
	T(capa_with_argument, CFG_PLAIN, ""),
	T(user_pass_stat, CFG_PLAIN, LOGIN_LOG),
	T(commands_any_case, CFG_PLAIN, LOGIN_LOG),
	T(pass_keeps_spaces, CFG_PLAIN, "auth alice  my secret \n"),
	T(pass_without_user, CFG_PLAIN, ""),
	T(pass_empty, CFG_PLAIN, ""),
	T(user_without_name, CFG_PLAIN, ""),
	T(user_refused_without_tls, CFG_TLSREQ, ""),
	T(user_over_tls, CFG_TLS, LOGIN_LOG),
	T(wrong_password, CFG_PLAIN, "auth alice wrong\n" LOGIN_LOG),
	T(maildrop_in_use, CFG_PLAIN, "auth busy x\n"),
	T(login_tempfail, CFG_PLAIN, "auth later x\n"),
	T(maildrop_not_servable, CFG_PLAIN, "auth mbox x\n"),
	T(transaction_commands_need_login, CFG_PLAIN, ""),
	T(login_commands_after_login, CFG_PLAIN, LOGIN_LOG),
	T(unknown_command, CFG_PLAIN, ""),
	T(empty_line, CFG_PLAIN, ""),
	T(bare_lf_refused, CFG_PLAIN, ""),
	T(list_all, CFG_PLAIN, NULL),
	T(list_one, CFG_PLAIN, NULL),
	T(list_bad_numbers, CFG_PLAIN, NULL),
	T(uidl_all_and_one, CFG_PLAIN, NULL),
	T(dele_hides_message, CFG_PLAIN, LOGIN_LOG),
	T(rset_unmarks, CFG_PLAIN, LOGIN_LOG "update\nclose\n"),
	T(quit_updates, CFG_PLAIN, LOGIN_LOG "update 0 2\nclose\n"),
	T(retr, CFG_PLAIN, LOGIN_LOG "retr 0 -1\n"),
	T(top, CFG_PLAIN, LOGIN_LOG "retr 1 0\nretr 1 9223372036854775807\n"
	    "retr 2 7\n"),
	T(apop_right_digest, CFG_PLAIN, "apop alice " GOOD_DIGEST "\n"),
	T(apop_upper_case_digest, CFG_PLAIN, "apop alice " GOOD_DIGEST "\n"),
	T(apop_wrong_digest, CFG_PLAIN, NULL),
	T(apop_bad_syntax, CFG_PLAIN, ""),
	T(apop_not_offered, CFG_NOAPOP, ""),
	T(apop_allowed_without_tls, CFG_TLSREQ, NULL),
	T(auth_plain_initial_response, CFG_PLAIN, LOGIN_LOG),
	T(auth_plain_continuation, CFG_PLAIN, LOGIN_LOG),
	T(auth_cancelled, CFG_PLAIN, ""),
	T(auth_bad_base64, CFG_PLAIN, ""),
	T(auth_bad_line_ends_exchange, CFG_PLAIN, ""),
	T(auth_empty_response, CFG_PLAIN, ""),
	T(auth_other_authzid, CFG_PLAIN, ""),
	T(auth_unknown_mechanism, CFG_PLAIN, ""),
	T(auth_lists_mechanisms, CFG_PLAIN, ""),
	T(auth_lists_nothing_without_tls, CFG_TLSREQ, ""),
	T(stls_refused, CFG_NOTLS, ""),
	T(stls_over_tls, CFG_TLS, ""),
	T(too_many_errors, CFG_ERR3, "close\n"),
	T(pipelined_session, CFG_PLAIN, LOGIN_LOG "retr 1 -1\nupdate 1\n"
	    "close\n"),
	T(overlong_line_then_goes_on, CFG_PLAIN, ""),
	T(line_of_255_accepted, CFG_PLAIN, ""),
	T(noop_and_arguments, CFG_PLAIN, LOGIN_LOG),
	T(user_name_utf8, CFG_PLAIN, ""),
};

static void
run_transcript(void **state)
{
	const struct transcript	*t = *state;
	const struct step	*st;
	struct mock		 m;

	mock_config(&m, t->cfg);
	mock_start(&m, t->cfg);
	for (st = t->steps; st->c != NULL; st++) {
		mock_send(&m, st->c);
		mock_expect(&m, st->s);
	}
	if (t->log != NULL)
		mock_expect_log(&m, t->log);
	mock_free(&m);
}

/* Fixed tests */

static void
test_greeting_with_and_without_apop(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	mock_free(&m);
	mock_config(&m, CFG_NOAPOP);
	mock_start(&m, CFG_NOAPOP);
	mock_free(&m);
}

static void
test_stls_discards_what_follows(void **state)
{
	struct mock	m;
	size_t		n;
	const char	*in = "STLS\r\nUSER alice\r\nPASS secret\r\n";

	mock_config(&m, CFG_TLSREQ);
	mock_start(&m, CFG_TLSREQ);
	n = pop3_session_input(m.s, in, strlen(in));
	/* Only the STLS line was taken; the server drops the rest. */
	assert_int_equal(n, 6);
	assert_true(m.stls);
	assert_true(pop3_session_waiting(m.s));
	mock_expect(&m, "+OK Begin TLS negotiation\r\n");
	assert_int_equal(pop3_session_input(m.s, "CAPA\r\n", 6), 0);
	pop3_session_tls_started(m.s);
	m.stls = false;
	assert_false(pop3_session_waiting(m.s));
	mock_send(&m, "CAPA\r\n");
	mock_expect(&m, CAPA_HEAD "USER\r\nSASL SCRAM-SHA-256 PLAIN\r\n" CAPA_TAIL);
	mock_send(&m, "STLS\r\n");
	mock_expect(&m, "-ERR TLS already active\r\n");
	mock_free(&m);
}

static void
test_stls_forgets_user(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	mock_send(&m, "USER alice\r\nSTLS\r\n");
	mock_expect(&m, "+OK Send your password\r\n"
	    "+OK Begin TLS negotiation\r\n");
	pop3_session_tls_started(m.s);
	m.stls = false;
	mock_send(&m, "PASS secret\r\n");
	mock_expect(&m, "-ERR Send USER first\r\n");
	mock_free(&m);
}

static void
test_nul_refused(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	mock_feed(&m, "US\0R a\r\nNOOP\r\n", 14);
	mock_expect(&m, "-ERR NUL in command\r\n-ERR Not logged in\r\n");
	mock_free(&m);
}

static void
test_partial_line_left_for_later(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	assert_int_equal(pop3_session_input(m.s, "CAP", 3), 0);
	assert_int_equal(pop3_session_input(m.s, "CAPA\r", 5), 0);
	assert_int_equal(m.out.len, 0);
	mock_send(&m, "NO");
	mock_send(&m, "OP\r");
	mock_send(&m, "\n");
	mock_expect(&m, "-ERR Not logged in\r\n");
	mock_free(&m);
}

static void
test_byte_by_byte_session(void **state)
{
	struct mock	 m;
	const char	*in = "USER alice\r\nPASS secret\r\nRETR 3\r\nQUIT\r\n";
	size_t		 i;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	for (i = 0; in[i] != '\0'; i++)
		mock_feed(&m, in + i, 1);
	mock_expect(&m, "+OK Send your password\r\n"
	    "+OK Logged in, 3 messages (600 octets)\r\n"
	    "+OK 300 octets\r\n[msg 3 top -1]\r\n.\r\n"
	    "+OK mx.example.org POP3 server signing off (3 messages left)\r\n");
	mock_free(&m);
}

static void
test_waits_while_sending(void **state)
{
	struct mock	 m;
	const char	*in = "RETR 1\r\nSTAT\r\n";
	size_t		 n;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	mock_send(&m, "USER alice\r\nPASS secret\r\n");
	buf_reset(&m.out);
	n = pop3_session_input(m.s, in, strlen(in));
	assert_int_equal(n, 8);
	assert_true(pop3_session_waiting(m.s));
	/* Nothing more is read until the message is sent. */
	assert_int_equal(pop3_session_input(m.s, in + n, strlen(in) - n), 0);
	mock_expect(&m, "+OK 100 octets\r\n");
	pop3_session_send_done(m.s);
	assert_int_equal(pop3_session_input(m.s, in + n, strlen(in) - n), 6);
	mock_expect(&m, "+OK 3 600\r\n");
	mock_free(&m);
}

static void
test_waits_for_login_answer(void **state)
{
	struct mock	 m;
	const char	*in = "USER alice\r\nPASS secret\r\nSTAT\r\n";
	size_t		 n;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	n = pop3_session_input(m.s, in, strlen(in));
	assert_int_equal(n, strlen("USER alice\r\nPASS secret\r\n"));
	assert_true(pop3_session_waiting(m.s));
	pop3_session_auth_result(m.s, POP3_AUTH_OK, NULL, 0);
	assert_int_equal(pop3_session_input(m.s, in + n, strlen(in) - n), 6);
	mock_expect(&m, "+OK Send your password\r\n"
	    "+OK Logged in, 0 messages (0 octets)\r\n+OK 0 0\r\n");
	assert_string_equal(pop3_session_user(m.s), "alice");
	mock_free(&m);
}

static void
test_empty_maildrop(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	m.autoanswer = false;
	mock_send(&m, "APOP alice " GOOD_DIGEST "\r\n");
	pop3_session_auth_result(m.s, POP3_AUTH_OK, NULL, 0);
	mock_send(&m, "LIST\r\nUIDL\r\nRETR 1\r\nQUIT\r\n");
	mock_expect(&m, "+OK Logged in, 0 messages (0 octets)\r\n"
	    "+OK 0 messages (0 octets)\r\n.\r\n"
	    "+OK Unique-id listing follows\r\n.\r\n"
	    "-ERR No such message\r\n"
	    "+OK mx.example.org POP3 server signing off (0 messages left)\r\n");
	mock_free(&m);
}

static void
test_quit_update_fails(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	m.update_fails = true;
	mock_send(&m, "USER alice\r\nPASS secret\r\nDELE 1\r\nQUIT\r\n");
	mock_expect(&m, "+OK Send your password\r\n"
	    "+OK Logged in, 3 messages (600 octets)\r\n"
	    "+OK Message 1 deleted\r\n"
	    "-ERR [SYS/TEMP] Some deleted messages not removed\r\n");
	assert_true(m.closed);
	mock_free(&m);
}

static void
test_timeout_closes_without_update(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	mock_send(&m, "USER alice\r\nPASS secret\r\nDELE 1\r\n");
	buf_reset(&m.out);
	buf_reset(&m.log);
	pop3_session_timeout(m.s);
	/* RFC 1939 §3: no response, no UPDATE. */
	mock_expect(&m, "");
	mock_expect_log(&m, "close\n");
	assert_true(pop3_session_closing(m.s));
	assert_int_equal(pop3_session_input(m.s, "QUIT\r\n", 6), 6);
	mock_expect(&m, "");
	mock_free(&m);
}

static void
test_free_while_waiting(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	m.autoanswer = false;
	mock_send(&m, "USER alice\r\nPASS secret\r\n");
	assert_true(pop3_session_waiting(m.s));
	mock_free(&m);
}

static void
test_answer_after_close_ignored(void **state)
{
	struct mock	m;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	m.autoanswer = false;
	mock_send(&m, "USER alice\r\nPASS secret\r\n");
	pop3_session_timeout(m.s);
	pop3_session_auth_result(m.s, POP3_AUTH_OK, mock_drop,
	    NELEM(mock_drop));
	assert_null(pop3_session_user(m.s));
	mock_free(&m);
}

static void
test_overlong_auth_response(void **state)
{
	struct mock	 m;
	char		*line;

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	mock_send(&m, "AUTH PLAIN\r\n");
	mock_expect(&m, "+ \r\n");
	line = xmalloc(POP3_AUTH_LINE_MAX + 3);
	memset(line, 'A', POP3_AUTH_LINE_MAX);
	memcpy(line + POP3_AUTH_LINE_MAX, "\r\n", 3);
	mock_send(&m, line);
	mock_expect(&m, "-ERR Line too long, authentication cancelled\r\n");
	mock_send(&m, "CAPA x\r\n");
	mock_expect(&m, "-ERR Syntax: CAPA\r\n");
	free(line);
	mock_free(&m);
}

static void
test_long_pass_line(void **state)
{
	struct mock	m;
	char		line[POP3_PASS_LINE_MAX + 1];

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	mock_send(&m, "USER bob\r\n");
	buf_reset(&m.out);
	/* "PASS " + 511 octets + CRLF fits. */
	memcpy(line, "PASS ", 5);
	memset(line + 5, 'p', 511);
	memcpy(line + 516, "\r\n", 3);
	mock_send(&m, line);
	mock_expect(&m, "-ERR [AUTH] Authentication failed\r\n");
	mock_free(&m);
}

/* Stuffing */

static void
stuff_all(int64_t top, const char *in, size_t len, size_t chunk,
    struct buf *out)
{
	struct pop3_session_stuffer	 st;
	char				*o;
	size_t				 off = 0, n, w;

	pop3_session_stuff_init(&st, top);
	o = xmalloc(2 * len + 8);
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		w = pop3_session_stuff(&st, in + off, n, o);
		assert_true(w <= 2 * n);
		assert_int_equal(buf_append(out, o, w), 0);
		off += n;
	}
	w = pop3_session_stuff_end(&st, o);
	assert_true(w <= 5);
	assert_int_equal(buf_append(out, o, w), 0);
	free(o);
}

struct stuff_case {
	const char	*name;
	int64_t		 top;
	const char	*in;
	const char	*want;
};

static const struct stuff_case stuff_cases[] = {
	{ "stuff_lf_to_crlf", -1, "A: b\n\nbody\n",
	  "A: b\r\n\r\nbody\r\n.\r\n" },
	{ "stuff_crlf_kept", -1, "A: b\r\n\r\nx\r\n",
	  "A: b\r\n\r\nx\r\n.\r\n" },
	{ "stuff_dots_doubled", -1, "A: b\n\n.\n..x\n.y.\n",
	  "A: b\r\n\r\n..\r\n...x\r\n..y.\r\n.\r\n" },
	{ "stuff_no_final_lf", -1, "A: b\n\nlast",
	  "A: b\r\n\r\nlast\r\n.\r\n" },
	{ "stuff_final_cr", -1, "A: b\n\nlast\r", "A: b\r\n\r\nlast\r\n.\r\n" },
	{ "stuff_bare_cr_kept", -1, "A: b\n\nx\ry\n",
	  "A: b\r\n\r\nx\ry\r\n.\r\n" },
	{ "stuff_empty_file", -1, "", ".\r\n" },
	{ "stuff_top_0", 0, "A: b\nC: d\n\nl1\nl2\n",
	  "A: b\r\nC: d\r\n\r\n.\r\n" },
	{ "stuff_top_2", 2, "A: b\n\nl1\n.l2\nl3\nl4\n",
	  "A: b\r\n\r\nl1\r\n..l2\r\n.\r\n" },
	{ "stuff_top_more_than_body", 9, "A: b\n\nl1\n",
	  "A: b\r\n\r\nl1\r\n.\r\n" },
	{ "stuff_top_crlf_blank_line", 1, "A: b\r\n\r\nl1\r\nl2\r\n",
	  "A: b\r\n\r\nl1\r\n.\r\n" },
	{ "stuff_top_header_only", 3, "A: b\nC: d\n", "A: b\r\nC: d\r\n.\r\n" },
	{ "stuff_top_dot_in_header", 0, ".A: b\n\nx\n", "..A: b\r\n\r\n.\r\n" },
};

static void
run_stuff_case(void **state)
{
	const struct stuff_case	*c = *state;
	struct buf		 out;
	size_t			 chunk, len = strlen(c->in);

	/* Whole, then in every chunk size up to 7: the same bytes. */
	for (chunk = 0; chunk <= 7; chunk++) {
		buf_init(&out, 1 << 16);
		stuff_all(c->top, c->in, len, chunk == 0 ? len + 1 : chunk,
		    &out);
		assert_string_equal(out.data, c->want);
		buf_free(&out);
	}
}

static void
test_stuff_worst_case_doubles(void **state)
{
	struct pop3_session_stuffer	st;
	char				in[64], out[128];
	size_t				i, w;

	for (i = 0; i < sizeof(in); i += 2) {
		in[i] = '.';
		in[i + 1] = '\n';
	}
	pop3_session_stuff_init(&st, -1);
	w = pop3_session_stuff(&st, in, sizeof(in), out);
	assert_int_equal(w, 2 * sizeof(in));
}

/* --- SCRAM-SHA-256 --- */

/* The decoded payload of the one "+ " line in the replies. */
static void
challenge_of(struct mock *m, char *out, size_t outsz)
{
	size_t	n;

	assert_non_null(m->out.data);
	if (strncmp(m->out.data, "+ ", 2) != 0 || m->out.len < 4 ||
	    memchr(m->out.data, '\n', m->out.len) !=
	    m->out.data + m->out.len - 1)
		fail_msg("not a challenge: %s", m->out.data);
	assert_true((m->out.len - 4) / 4 * 3 < outsz);
	assert_int_equal(sasl_b64_decode(span_make(m->out.data + 2,
	    m->out.len - 4), (unsigned char *)out, &n), 0);
	out[n] = '\0';
	buf_reset(&m->out);
}

/*
 * A client logging in as user through AUTH mech (initial response on
 * the AUTH line), with the GS2 header gs2, the binding data it saw and
 * its password, up to and including its client-final.  want_sig gets
 * the ServerSignature a right server sends.
 */
static void
scram_client(struct mock *m, const char *user, const char *mech,
    const char *gs2, const unsigned char *cb, size_t cblen,
    const char *pass, unsigned char want_sig[32])
{
	char	first[128], sf[512], final[512], line[1200];

	snprintf(first, sizeof(first), "%sn=%s,r=CLI", gs2, user);
	snprintf(line, sizeof(line), "AUTH %s %s\r\n", mech,
	    scram_b64(first, strlen(first)));
	mock_send(m, line);
	challenge_of(m, sf, sizeof(sf));
	assert_string_equal(sf, "r=CLI" M_SNONCE ",s=" M_SALT_B64 ",i=4096");
	scram_client_final(gs2, cb, cblen, first + strlen(gs2), sf, pass,
	    final, sizeof(final), want_sig);
	snprintf(line, sizeof(line), "%s\r\n",
	    scram_b64(final, strlen(final)));
	mock_send(m, line);
}

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

	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	scram_client(&m, "alice", "SCRAM-SHA-256", "n,,", NULL, 0, "pencil",
	    sig);
	expect_server_final(&m, sig);
	/* the maildrop is opened only once the client took our proof */
	mock_expect_log(&m, "scram-salt alice\nscram-proof alice\n");
	assert_null(pop3_session_user(m.s));
	mock_send(&m, "\r\n");
	mock_expect_log(&m, "scram-done\n");
	mock_expect(&m, "+OK Logged in, 3 messages (600 octets)\r\n");
	assert_string_equal(pop3_session_user(m.s), "alice");
	mock_send(&m, "STAT\r\n");
	mock_expect(&m, "+OK 3 600\r\n");
	mock_free(&m);
}

static void
test_scram_plus_login(void **state)
{
	struct mock	m;
	unsigned char	sig[32], other[32];

	/* over TLS with tls-server-end-point data: -PLUS is offered */
	mock_config(&m, CFG_TLS);
	memset(m.cb, 0x42, sizeof(m.cb));
	m.cb_len = sizeof(m.cb);
	mock_start(&m, CFG_TLS);
	mock_send(&m, "CAPA\r\n");
	mock_expect(&m, CAPA_HEAD "USER\r\nSASL SCRAM-SHA-256-PLUS "
	    "SCRAM-SHA-256 PLAIN\r\n" CAPA_TAIL);
	mock_send(&m, "AUTH\r\n");
	mock_expect(&m, "+OK Mechanisms follow\r\nSCRAM-SHA-256-PLUS\r\n"
	    "SCRAM-SHA-256\r\nPLAIN\r\n.\r\n");
	scram_client(&m, "alice", "SCRAM-SHA-256-PLUS",
	    "p=tls-server-end-point,,", m.cb, m.cb_len, "pencil", sig);
	expect_server_final(&m, sig);
	mock_send(&m, "\r\n");
	mock_expect(&m, "+OK Logged in, 3 messages (600 octets)\r\n");
	mock_free(&m);

	/* binding data the client saw differ: refused before lookup */
	mock_config(&m, CFG_TLS);
	memset(m.cb, 0x42, sizeof(m.cb));
	m.cb_len = sizeof(m.cb);
	memset(other, 0x43, sizeof(other));
	mock_start(&m, CFG_TLS);
	scram_client(&m, "alice", "SCRAM-SHA-256-PLUS",
	    "p=tls-server-end-point,,", other, sizeof(other), "pencil", sig);
	mock_expect(&m, "-ERR [AUTH] Authentication failed: channel binding "
	    "mismatch\r\n");
	mock_expect_log(&m, "scram-salt alice\n");
	assert_null(pop3_session_user(m.s));
	mock_free(&m);
}

static void
test_scram_failures(void **state)
{
	struct mock	m;
	unsigned char	sig[32];

	/* wrong password */
	mock_config(&m, CFG_PLAIN);
	mock_start(&m, CFG_PLAIN);
	scram_client(&m, "alice", "SCRAM-SHA-256", "n,,", NULL, 0, "pencil2",
	    sig);
	mock_expect(&m, "-ERR [AUTH] Authentication failed\r\n");
	/* the lookup cannot say */
	scram_client(&m, "later", "SCRAM-SHA-256", "n,,", NULL, 0, "x", sig);
	mock_expect(&m, "-ERR [SYS/TEMP] Temporary failure, try again "
	    "later\r\n");
	/* right, but the maildrop is locked */
	scram_client(&m, "busy", "SCRAM-SHA-256", "n,,", NULL, 0, "pencil",
	    sig);
	expect_server_final(&m, sig);
	mock_send(&m, "\r\n");
	mock_expect(&m, "-ERR [IN-USE] Maildrop is locked by another "
	    "session\r\n");
	/* right, and the client refuses our signature */
	scram_client(&m, "alice", "SCRAM-SHA-256", "n,,", NULL, 0, "pencil",
	    sig);
	expect_server_final(&m, sig);
	mock_send(&m, "*\r\n");
	mock_expect(&m, "-ERR Authentication cancelled\r\n");
	/* -PLUS is not offered in the clear */
	mock_send(&m, "AUTH SCRAM-SHA-256-PLUS\r\n");
	mock_expect(&m, "-ERR Unsupported authentication mechanism\r\n");
	/* "n,,r=x" */
	mock_send(&m, "AUTH SCRAM-SHA-256 biwscj14\r\n");
	mock_expect(&m, "-ERR Malformed SCRAM message: bad user name\r\n");
	/* a bare LF in the exchange ends it */
	mock_send(&m, "AUTH SCRAM-SHA-256\r\n");
	mock_expect(&m, "+ \r\n");
	mock_send(&m, "biwsbj1hbGljZSxyPXg=\n");
	mock_expect(&m, "-ERR Line must end with CRLF\r\n");
	assert_null(pop3_session_user(m.s));
	/* and after all that a login still works */
	mock_send(&m, "AUTH PLAIN " PLAIN_ALICE "\r\n");
	mock_expect(&m, "+OK Logged in, 3 messages (600 octets)\r\n");
	mock_free(&m);
}

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_scram_login),
	cmocka_unit_test(test_scram_plus_login),
	cmocka_unit_test(test_scram_failures),
	cmocka_unit_test(test_greeting_with_and_without_apop),
	cmocka_unit_test(test_stls_discards_what_follows),
	cmocka_unit_test(test_stls_forgets_user),
	cmocka_unit_test(test_nul_refused),
	cmocka_unit_test(test_partial_line_left_for_later),
	cmocka_unit_test(test_byte_by_byte_session),
	cmocka_unit_test(test_waits_while_sending),
	cmocka_unit_test(test_waits_for_login_answer),
	cmocka_unit_test(test_empty_maildrop),
	cmocka_unit_test(test_quit_update_fails),
	cmocka_unit_test(test_timeout_closes_without_update),
	cmocka_unit_test(test_free_while_waiting),
	cmocka_unit_test(test_answer_after_close_ignored),
	cmocka_unit_test(test_overlong_auth_response),
	cmocka_unit_test(test_long_pass_line),
	cmocka_unit_test(test_stuff_worst_case_doubles),
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

	tests = xcalloc(NELEM(transcripts) + NELEM(stuff_cases) +
	    NELEM(fixed_tests), sizeof(*tests));
	for (i = 0; i < NELEM(transcripts); i++)
		add_test(tests, &n, transcripts[i].name, run_transcript,
		    &transcripts[i]);
	for (i = 0; i < NELEM(stuff_cases); i++)
		add_test(tests, &n, stuff_cases[i].name, run_stuff_case,
		    &stuff_cases[i]);
	for (i = 0; i < NELEM(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	rc = _cmocka_run_group_tests("pop3_session", tests, n, NULL, NULL);
	free(tests);
	return rc;
}
