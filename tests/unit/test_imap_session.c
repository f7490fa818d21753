/*
 * Unit tests for imap_session: IMAP dialogues as transcripts.  A mock
 * server records every response and request, holds unconsumed input as
 * the real server does and answers each request after
 * imap_session_input() returns (as lookup's answers arrive later).  The
 * key holder knows every user with the password "pencil"; "later" gets a
 * temporary failure.  Mailbox commands are answered by the mock with one
 * untagged line and a tagged OK naming the command.
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
#include "imap_session.h"
#include "sasl.h"
#include "scram_client.h"
#include "util.h"

#define M_SALT_B64	"W22ZaJ0SNY7soEsUEjb6gQ=="
#define M_SNONCE	"SRVnonce"
#define CAPS_AUTH	"IMAP4rev1 IMAP4rev2 SASL-IR LITERAL- ID ENABLE IDLE " \
			"NAMESPACE UNSELECT CHILDREN SPECIAL-USE MOVE UIDPLUS " \
			"BINARY CONDSTORE QRESYNC ESEARCH SEARCHRES SORT ESORT " \
			"SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES " \
			"LIST-EXTENDED LIST-STATUS STATUS=SIZE " \
			"CREATE-SPECIAL-USE MULTIAPPEND QUOTA " \
			"QUOTA=RES-STORAGE OBJECTID UTF8=ACCEPT " \
			"APPENDLIMIT=1000"

enum req { REQ_NONE, REQ_AUTH, REQ_SALT, REQ_PROOF, REQ_DONE, REQ_CMD };

struct mock {
	struct imap_session	*s;
	struct buf		 out;
	struct buf		 log;
	struct buf		 in;
	enum req		 pending;
	bool			 closed;
	bool			 tls_started;
	bool			 manual;	/* the test answers commands */
	char			 user[300];
	char			 pass[300];
	char			 authmsg[SASL_SCRAM_AUTHMSG_MAX + 1];
	unsigned char		 proof[SASL_SCRAM_HASH_LEN];
	enum imap_cmd_name	 cmd;
	bool			 cmd_uid;
};

static void
logf_(struct mock *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
logf_(struct mock *m, const char *fmt, ...)
{
	char	line[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
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
	/* The server drops what it buffered (RFC 9051 §11.1). */
	buf_reset(&m->in);
}

static void
m_auth(void *arg, const char *user, const char *pass)
{
	struct mock	*m = arg;

	logf_(m, "auth %s\n", user);
	snprintf(m->user, sizeof(m->user), "%s", user);
	snprintf(m->pass, sizeof(m->pass), "%s", pass);
	m->pending = REQ_AUTH;
}

static void
m_scram_salt(void *arg, const char *user)
{
	struct mock	*m = arg;

	logf_(m, "scram-salt %s\n", user);
	snprintf(m->user, sizeof(m->user), "%s", user);
	m->pending = REQ_SALT;
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
	memcpy(m->proof, proof, SASL_SCRAM_HASH_LEN);
	m->pending = REQ_PROOF;
}

static void
m_scram_done(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "scram-done\n");
	m->pending = REQ_DONE;
}

static ssize_t
m_cbind(void *arg, enum sasl_cb type, unsigned char *out, size_t outsz)
{
	if (type != SASL_CB_TLS_EXPORTER || outsz < 32)
		return -1;
	memset(out, 0x42, 32);
	return 32;
}

static void
m_command(void *arg, const struct imap_cmd *c)
{
	struct mock	*m = arg;

	logf_(m, "command %s\n", imap_cmd_label(c));
	m->cmd = c->name;
	m->cmd_uid = c->uid;
	m->pending = REQ_CMD;
}

static void
m_idle(void *arg, bool on)
{
	struct mock	*m = arg;

	logf_(m, "idle %s\n", on ? "on" : "off");
}

static void
m_close(void *arg)
{
	struct mock	*m = arg;

	logf_(m, "close\n");
	m->closed = true;
}

static const struct imap_session_ops mock_ops = {
	.reply = m_reply,
	.starttls = m_starttls,
	.auth = m_auth,
	.scram_salt = m_scram_salt,
	.scram_proof = m_scram_proof,
	.scram_done = m_scram_done,
	.cbind = m_cbind,
	.command = m_command,
	.idle = m_idle,
	.close = m_close,
};

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
mock_answer(struct mock *m)
{
	struct sasl_scram_challenge	ch;
	unsigned char			stored[32], server[32], sig[32];
	enum req			r = m->pending;

	m->pending = REQ_NONE;
	switch (r) {
	case REQ_AUTH:
		imap_session_auth_result(m->s, strcmp(m->user, "later") == 0 ?
		    IMAP_AUTH_TEMPFAIL : strcmp(m->pass, "pencil") == 0 ?
		    IMAP_AUTH_OK : IMAP_AUTH_FAIL);
		break;
	case REQ_SALT:
		mock_challenge(&ch);
		imap_session_scram_challenge(m->s, IMAP_AUTH_OK, &ch);
		break;
	case REQ_PROOF:
		mock_challenge(&ch);
		assert_int_equal(sasl_scram_derive("pencil", 6, ch.salt,
		    ch.saltlen, 4096, stored, server), 0);
		if (sasl_scram_verify(stored, server, m->authmsg,
		    strlen(m->authmsg), m->proof, sig))
			imap_session_scram_result(m->s, IMAP_AUTH_OK, sig);
		else
			imap_session_scram_result(m->s, IMAP_AUTH_FAIL, NULL);
		break;
	case REQ_DONE:
		imap_session_auth_result(m->s, IMAP_AUTH_OK);
		break;
	case REQ_CMD:
		if (m->manual) {
			m->pending = REQ_CMD;
			return;
		}
		if (m->cmd == IMAP_CMD_SELECT)
			imap_session_set_selected(m->s, true);
		if (m->cmd == IMAP_CMD_CLOSE)
			imap_session_set_selected(m->s, false);
		imap_session_untagged(m->s, "%d EXISTS", (int)m->cmd);
		imap_session_done(m->s, IMAP_OK, "done");
		break;
	case REQ_NONE:
		break;
	}
}

/* Feed what the test sends, answering requests as they come. */
static void
mock_feed(struct mock *m)
{
	size_t	n;

	while (m->in.len > 0 && !m->closed) {
		n = imap_session_input(m->s, m->in.data, m->in.len);
		buf_consume(&m->in, n);
		if (m->pending == REQ_NONE || (m->manual &&
		    m->pending == REQ_CMD))
			break;
		mock_answer(m);
		if (m->tls_started) {
			m->tls_started = false;
		}
	}
	if (m->pending != REQ_NONE && !(m->manual && m->pending == REQ_CMD))
		mock_answer(m);
}

static void
mock_send(struct mock *m, const char *s)
{
	assert_int_equal(buf_append_str(&m->in, s), 0);
	mock_feed(m);
}

static void
mock_expect(struct mock *m, const char *want)
{
	const char	*got = m->out.data != NULL ? m->out.data : "";

	if (strcmp(got, want) != 0)
		fail_msg("got:\n%s\nwant:\n%s", got, want);
	buf_reset(&m->out);
}

static void
mock_expect_log(struct mock *m, const char *want)
{
	const char	*got = m->log.data != NULL ? m->log.data : "";

	if (strcmp(got, want) != 0)
		fail_msg("log got:\n%s\nwant:\n%s", got, want);
	buf_reset(&m->log);
}

static void
mock_start(struct mock *m, bool tls_available, bool plaintext)
{
	struct imap_params	p;

	memset(m, 0, sizeof(*m));
	buf_init(&m->out, SIZE_MAX);
	buf_init(&m->log, SIZE_MAX);
	buf_init(&m->in, SIZE_MAX);
	memset(&p, 0, sizeof(p));
	p.hostname = "mx.example.org";
	p.tls_available = tls_available;
	p.plaintext_auth = plaintext;
	p.appendlimit = 1000;
	m->s = imap_session_new(&p, &mock_ops, m);
	imap_session_start(m->s);
}

static void
mock_free(struct mock *m)
{
	imap_session_free(m->s);
	buf_free(&m->out);
	buf_free(&m->log);
	buf_free(&m->in);
}

static void
mock_login(struct mock *m)
{
	buf_reset(&m->out);	/* the greeting, when not checked */
	mock_send(m, "L LOGIN alice pencil\r\n");
	mock_expect(m, "L OK [CAPABILITY " CAPS_AUTH "] Logged in\r\n");
	mock_expect_log(m, "auth alice\n");
}

static void
test_greeting_and_any_state(void **state)
{
	struct mock	m;

	mock_start(&m, true, true);
	mock_expect(&m, "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL- ID "
	    "ENABLE STARTTLS AUTH=SCRAM-SHA-256 AUTH=PLAIN] mx.example.org "
	    "IMAP cachet ready\r\n");
	mock_send(&m, "a1 CAPABILITY\r\na2 noop\r\na3 ID (\"name\" "
	    "\"test\")\r\n");
	mock_expect(&m, "* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL- ID ENABLE "
	    "STARTTLS AUTH=SCRAM-SHA-256 AUTH=PLAIN\r\n"
	    "a1 OK CAPABILITY completed\r\n"
	    "a2 OK NOOP completed\r\n"
	    "* ID (\"name\" \"cachet\")\r\na3 OK ID completed\r\n");
	mock_send(&m, "z LOGOUT\r\nnever NOOP\r\n");
	mock_expect(&m, "* BYE mx.example.org IMAP server logging out\r\n"
	    "z OK LOGOUT completed\r\n");
	mock_expect_log(&m, "close\n");
	mock_free(&m);
}

static void
test_state_checks(void **state)
{
	struct mock	m;

	mock_start(&m, false, true);
	buf_reset(&m.out);
	mock_send(&m, "a SELECT INBOX\r\nb FETCH 1 FLAGS\r\nc ENABLE X\r\n"
	    "d NAMESPACE\r\n");
	mock_expect(&m, "a BAD Log in first\r\nb BAD Log in first\r\n"
	    "c BAD Log in first\r\nd BAD Log in first\r\n");
	mock_login(&m);
	mock_send(&m, "e FETCH 1 FLAGS\r\nf LOGIN a b\r\ng NAMESPACE\r\n"
	    "h ENABLE IMAP4rev2 CONDSTORE\r\n");
	mock_expect(&m, "e BAD No mailbox selected\r\n"
	    "f BAD Already logged in\r\n"
	    "* NAMESPACE ((\"\" \".\")) NIL NIL\r\ng OK NAMESPACE completed\r\n"
	    "* ENABLED IMAP4rev2 CONDSTORE\r\nh OK ENABLE completed\r\n");
	/* mailbox commands go to the server, in turn */
	mock_send(&m, "i SELECT INBOX\r\nj UID FETCH 1 UID\r\nk ENABLE X\r\n"
	    "l NOOP\r\n");
	mock_expect(&m, "* 10 EXISTS\r\ni OK done\r\n* 27 EXISTS\r\nj OK done\r\n"
	    "k BAD ENABLE is not allowed with a mailbox selected\r\n"
	    "* 2 EXISTS\r\nl OK done\r\n");
	mock_expect_log(&m, "command SELECT\ncommand UID FETCH\n"
	    "command NOOP\n");
	mock_free(&m);
}

static void
test_login_failures(void **state)
{
	struct mock	m;

	mock_start(&m, true, true);
	buf_reset(&m.out);
	mock_send(&m, "a LOGIN alice wrong\r\nb LOGIN later pencil\r\n");
	mock_expect(&m, "a NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
	    "b NO [UNAVAILABLE] Temporary failure, try again later\r\n");
	mock_expect_log(&m, "auth alice\nauth later\n");
	/* a password with spaces, in a literal */
	mock_send(&m, "c LOGIN \"alice\" {6}\r\n");
	mock_expect(&m, "+ Ready for literal data\r\n");
	mock_send(&m, "pencil\r\n");
	mock_expect(&m, "c OK [CAPABILITY " CAPS_AUTH "] Logged in\r\n");
	assert_string_equal(imap_session_user(m.s), "alice");
	mock_free(&m);
}

static void
test_cleartext_refused(void **state)
{
	struct mock	m;

	mock_start(&m, true, false);
	mock_expect(&m, "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL- ID "
	    "ENABLE STARTTLS LOGINDISABLED] mx.example.org IMAP cachet "
	    "ready\r\n");
	mock_send(&m, "a LOGIN alice pencil\r\n"
	    "b AUTHENTICATE PLAIN AGFsaWNlAHBlbmNpbA==\r\n");
	mock_expect(&m, "a NO [PRIVACYREQUIRED] Plaintext authentication "
	    "disallowed without TLS, use STARTTLS\r\n"
	    "b NO [PRIVACYREQUIRED] Plaintext authentication "
	    "disallowed without TLS, use STARTTLS\r\n");
	mock_expect_log(&m, "");
	/* STARTTLS: what follows in the same packet is dropped */
	mock_send(&m, "c STARTTLS\r\nd LOGIN alice pencil\r\n");
	mock_expect(&m, "c OK Begin TLS negotiation now\r\n");
	mock_expect_log(&m, "starttls\n");
	assert_true(imap_session_waiting(m.s));
	imap_session_tls_started(m.s);
	mock_send(&m, "e CAPABILITY\r\n");
	mock_expect(&m, "* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL- ID ENABLE "
	    "AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256 AUTH=PLAIN\r\n"
	    "e OK CAPABILITY completed\r\n");
	mock_send(&m, "f STARTTLS\r\n");
	mock_expect(&m, "f BAD TLS already active\r\n");
	mock_login(&m);
	mock_free(&m);
}

static void
test_authenticate_plain(void **state)
{
	struct mock	m;

	mock_start(&m, false, true);
	buf_reset(&m.out);
	/* SASL-IR (RFC 4959) */
	mock_send(&m, "a AUTHENTICATE PLAIN AGFsaWNlAHBlbmNpbA==\r\n");
	mock_expect(&m, "a OK [CAPABILITY " CAPS_AUTH "] Logged in\r\n");
	mock_expect_log(&m, "auth alice\n");
	mock_free(&m);

	mock_start(&m, false, true);
	buf_reset(&m.out);
	mock_send(&m, "b AUTHENTICATE plain\r\n");
	mock_expect(&m, "+ \r\n");
	mock_send(&m, "*\r\n");
	mock_expect(&m, "b BAD Authentication cancelled\r\n");
	mock_send(&m, "c AUTHENTICATE PLAIN\r\n!!!!\r\n");
	mock_expect(&m, "+ \r\nc BAD Invalid base64 data\r\n");
	mock_send(&m, "d AUTHENTICATE CRAM-MD5\r\n");
	mock_expect(&m, "d NO Unsupported authentication mechanism\r\n");
	/* authzid other than the user */
	mock_send(&m, "e AUTHENTICATE PLAIN Ym9iAGFsaWNlAHBlbmNpbA==\r\n");
	mock_expect(&m, "e NO [AUTHORIZATIONFAILED] Authorization failed\r\n");
	mock_send(&m, "f AUTHENTICATE PLAIN\r\nAGFsaWNlAHBlbmNpbA==\r\n");
	mock_expect(&m, "+ \r\nf OK [CAPABILITY " CAPS_AUTH "] Logged in\r\n");
	mock_free(&m);
}

static void
challenge_of(struct mock *m, char *out, size_t outsz)
{
	size_t	len;

	assert_true(m->out.len > 4);
	assert_memory_equal(m->out.data, "+ ", 2);
	assert_memory_equal(m->out.data + m->out.len - 2, "\r\n", 2);
	assert_int_equal(sasl_b64_decode(span_make(m->out.data + 2,
	    m->out.len - 4), (unsigned char *)out, &len), 0);
	assert_true(len < outsz);
	out[len] = '\0';
	buf_reset(&m->out);
}

static void
test_scram(void **state)
{
	struct mock	m;
	unsigned char	sig[32], cb[32];
	char		first[128], sf[512], final[512], line[1200], v[128];
	const char	*gs2 = "p=tls-exporter,,";

	mock_start(&m, true, false);
	imap_session_tls_started(m.s);	/* as after imaps' handshake */
	buf_reset(&m.out);
	snprintf(first, sizeof(first), "%sn=alice,r=CLI", gs2);
	snprintf(line, sizeof(line), "a AUTHENTICATE SCRAM-SHA-256-PLUS %s\r\n",
	    scram_b64(first, strlen(first)));
	mock_send(&m, line);
	challenge_of(&m, sf, sizeof(sf));
	assert_string_equal(sf, "r=CLI" M_SNONCE ",s=" M_SALT_B64 ",i=4096");
	memset(cb, 0x42, sizeof(cb));
	scram_client_final(gs2, cb, sizeof(cb), first + strlen(gs2), sf,
	    "pencil", final, sizeof(final), sig);
	snprintf(line, sizeof(line), "%s\r\n", scram_b64(final,
	    strlen(final)));
	mock_send(&m, line);
	challenge_of(&m, v, sizeof(v));
	snprintf(line, sizeof(line), "v=%s", scram_b64(sig, 32));
	assert_string_equal(v, line);
	mock_expect_log(&m, "scram-salt alice\nscram-proof alice\n");
	assert_null(imap_session_user(m.s));
	mock_send(&m, "\r\n");
	mock_expect_log(&m, "scram-done\n");
	mock_expect(&m, "a OK [CAPABILITY " CAPS_AUTH "] Logged in\r\n");
	assert_string_equal(imap_session_user(m.s), "alice");
	mock_free(&m);

	/* a wrong password */
	mock_start(&m, false, true);
	buf_reset(&m.out);
	snprintf(first, sizeof(first), "n,,n=bob,r=CLI");
	snprintf(line, sizeof(line), "b AUTHENTICATE SCRAM-SHA-256\r\n");
	mock_send(&m, line);
	mock_expect(&m, "+ \r\n");
	snprintf(line, sizeof(line), "%s\r\n", scram_b64(first,
	    strlen(first)));
	mock_send(&m, line);
	challenge_of(&m, sf, sizeof(sf));
	scram_client_final("n,,", NULL, 0, first + 3, sf, "wrong", final,
	    sizeof(final), sig);
	snprintf(line, sizeof(line), "%s\r\n", scram_b64(final,
	    strlen(final)));
	mock_send(&m, line);
	mock_expect(&m, "b NO [AUTHENTICATIONFAILED] Authentication "
	    "failed\r\n");
	/* a malformed client-first */
	mock_send(&m, "c AUTHENTICATE SCRAM-SHA-256 eHl6\r\n");
	assert_true(strncmp(m.out.data, "c BAD Malformed SCRAM message: ",
	    31) == 0);
	mock_free(&m);
}

static void
test_bad_flood(void **state)
{
	struct mock	m;
	size_t		i;

	mock_start(&m, false, true);
	buf_reset(&m.out);
	mock_send(&m, "a FROB\r\nb NOOP\r\n");
	mock_expect(&m, "a BAD Unknown command\r\nb OK NOOP completed\r\n");
	for (i = 0; i < IMAP_SESSION_BAD_MAX - 1; i++)
		mock_send(&m, "x FROB\r\n");
	assert_false(m.closed);
	mock_send(&m, "\r\n");
	assert_true(m.closed);
	assert_non_null(strstr(m.out.data, "* BAD Missing tag or command\r\n"
	    "* BYE Too many invalid commands\r\n"));
	mock_free(&m);
}

static void
test_reader_refusals(void **state)
{
	struct mock	m;
	char		line[128];

	mock_start(&m, false, true);
	mock_login(&m);
	/* an APPEND over APPENDLIMIT is refused before any "+" */
	mock_send(&m, "a APPEND INBOX {1001}\r\n");
	mock_expect(&m, "a NO [TOOBIG] Message larger than APPENDLIMIT\r\n");
	snprintf(line, sizeof(line), "b LOGIN {%d}\r\n", IMAP_LITERAL_MAX + 1);
	mock_send(&m, line);
	mock_expect(&m, "b BAD [TOOBIG] Literal too large\r\n");
	mock_send(&m, "c LOGIN {4097+}\r\n");
	mock_expect(&m, "c BAD [TOOBIG] Non-synchronizing literal over 4096 "
	    "octets\r\n* BYE [TOOBIG] Non-synchronizing literal over 4096 "
	    "octets\r\n");
	assert_true(m.closed);
	mock_free(&m);
}

static void
test_waits_for_the_server(void **state)
{
	struct mock	m;

	mock_start(&m, false, true);
	mock_login(&m);
	m.manual = true;
	mock_send(&m, "a SELECT INBOX\r\nb NOOP\r\n");
	mock_expect_log(&m, "command SELECT\n");
	assert_true(imap_session_waiting(m.s));
	/* the second command waits in the server's buffer */
	assert_string_equal(m.in.data, "b NOOP\r\n");
	imap_session_set_selected(m.s, true);
	imap_session_untagged(m.s, "3 EXISTS");
	imap_session_done(m.s, IMAP_OK, "[READ-WRITE] SELECT completed");
	m.pending = REQ_NONE;
	mock_expect(&m, "* 3 EXISTS\r\na OK [READ-WRITE] SELECT completed\r\n");
	assert_true(imap_session_selected(m.s));
	m.manual = false;
	mock_feed(&m);
	mock_expect(&m, "* 2 EXISTS\r\nb OK done\r\n");
	mock_free(&m);
}

static void
test_idle(void **state)
{
	struct mock	m;

	mock_start(&m, false, true);
	mock_login(&m);
	mock_send(&m, "a IDLE\r\n");
	mock_expect(&m, "+ idling\r\n");
	assert_true(imap_session_idling(m.s));
	imap_session_untagged(m.s, "4 EXISTS");
	mock_send(&m, "done\r\n");
	mock_expect(&m, "* 4 EXISTS\r\na OK IDLE terminated\r\n");
	mock_send(&m, "b IDLE\r\nc NOOP\r\n");
	mock_expect(&m, "+ idling\r\nb BAD Expected DONE\r\n");
	assert_false(imap_session_idling(m.s));
	mock_expect_log(&m, "idle on\nidle off\nidle on\nidle off\n");
	mock_free(&m);
}

static void
test_strings(void **state)
{
	struct buf	b;

	buf_init(&b, SIZE_MAX);
	assert_int_equal(imap_session_buf_string(&b, span_str("a \"b\" \\")),
	    0);
	assert_string_equal(b.data, "\"a \\\"b\\\" \\\\\"");
	buf_reset(&b);
	assert_int_equal(imap_session_buf_string(&b, span_str("x\r\ny")), 0);
	assert_string_equal(b.data, "{4}\r\nx\r\ny");
	buf_reset(&b);
	assert_int_equal(imap_session_buf_string(&b,
	    span_str("J\xc3\xb6rg")), 0);
	assert_string_equal(b.data, "{5}\r\nJ\xc3\xb6rg");
	buf_reset(&b);
	assert_int_equal(imap_session_buf_nstring(&b, span_make(NULL, 0)), 0);
	assert_string_equal(b.data, "NIL");
	buf_free(&b);
}

static void
test_timeout(void **state)
{
	struct mock	m;

	mock_start(&m, false, true);
	buf_reset(&m.out);
	imap_session_timeout(m.s);
	mock_expect(&m, "* BYE Autologout; idle for too long\r\n");
	assert_true(imap_session_closing(m.s));
	mock_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_and_any_state),
		cmocka_unit_test(test_state_checks),
		cmocka_unit_test(test_login_failures),
		cmocka_unit_test(test_cleartext_refused),
		cmocka_unit_test(test_authenticate_plain),
		cmocka_unit_test(test_scram),
		cmocka_unit_test(test_bad_flood),
		cmocka_unit_test(test_reader_refusals),
		cmocka_unit_test(test_waits_for_the_server),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
