/*
 * Unit tests for sender authentication on the smtp side (issue 14):
 * smtp_msgauth, the header filter and body hasher, fed in pieces of every
 * size; and smtp_session's msgauth step at the end of DATA (the verdict
 * commits or refuses, the spool is aborted on refusal).  The header
 * section kept and the spooled bytes are compared with what the client
 * sent: Authentication-Results claiming our hostname (any case, comments,
 * folded) are gone, others stay.
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
#include "dkim.h"
#include "smtp_msgauth.h"
#include "smtp_session.h"
#include "util.h"

#define HOST	"mx.example.org"

/* --- smtp_msgauth alone ------------------------------------------------ */

static void
spool(void *arg, const char *p, size_t len)
{
	assert_int_equal(buf_append(arg, p, len), 0);
}

/* Feed msg in pieces of step octets (0: all at once); spooled into out. */
static struct smtp_msgauth *
run(const char *msg, size_t len, size_t step, bool verify, struct buf *out)
{
	struct smtp_msgauth	*a;
	size_t			 i, n;

	buf_init(out, 4 * 1024 * 1024);
	a = smtp_msgauth_new(HOST, verify, spool, out);
	if (step == 0)
		step = len > 0 ? len : 1;
	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		smtp_msgauth_input(a, msg + i, n);
	}
	smtp_msgauth_end(a);
	return a;
}

/* Every piece size gives the same spool, section kept and hashes. */
static void
expect(const char *msg, const char *spooled, const char *kept,
    size_t removed)
{
	struct smtp_msgauth	*a;
	struct smtp_msgauth_info info;
	struct buf		 out;
	unsigned char		 first[DKIM_DIGEST_MAX];
	size_t			 steps[] = { 0, 1, 2, 3, 7, 64 }, i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		a = run(msg, strlen(msg), steps[i], true, &out);
		smtp_msgauth_info(a, &info);
		assert_int_equal(out.len, strlen(spooled));
		assert_memory_equal(out.data, spooled, out.len);
		assert_int_equal(info.hdrs.len, strlen(kept));
		if (info.hdrs.len > 0)
			assert_memory_equal(info.hdrs.ptr, kept,
			    info.hdrs.len);
		assert_int_equal(info.removed, removed);
		assert_false(info.truncated);
		assert_true(info.nbh >= 1);
		if (i == 0)
			memcpy(first, info.bh[0].digest, sizeof(first));
		else
			assert_memory_equal(first, info.bh[0].digest,
			    info.bh[0].digestlen);
		smtp_msgauth_free(a);
		buf_free(&out);
	}
}

static void
test_plain_message_passes(void **state)
{
	const char	*m = "From: a@b.example\r\nSubject: hi\r\n"
	    "\r\nbody\r\n";

	(void)state;
	expect(m, m, "From: a@b.example\r\nSubject: hi\r\n", 0);
}

static void
test_ours_removed(void **state)
{
	(void)state;
	expect("Authentication-Results: mx.example.org; spf=pass\r\n"
	    "From: a@b.example\r\n\r\nbody\r\n",
	    "From: a@b.example\r\n\r\nbody\r\n", "From: a@b.example\r\n", 1);
	/* in any case, after a comment, folded onto the next line */
	expect("From: a@b.example\r\n"
	    "AUTHENTICATION-RESULTS: (x) MX.EXAMPLE.ORG;\r\n\tdkim=pass\r\n"
	    "authentication-results:\r\n mx.example.org; none\r\n"
	    "To: c@d.example\r\n\r\nbody\r\n",
	    "From: a@b.example\r\nTo: c@d.example\r\n\r\nbody\r\n",
	    "From: a@b.example\r\nTo: c@d.example\r\n", 2);
}

static void
test_others_kept(void **state)
{
	const char	*m = "Authentication-Results: mx.example.net; "
	    "spf=pass\r\nAuthentication-Results: (mx.example.org) other;\r\n"
	    " none\r\nARC-Authentication-Results: i=1; mx.example.org;\r\n"
	    " none\r\n\r\nAuthentication-Results: mx.example.org; body\r\n";

	(void)state;
	/* another authserv-id, and our name in the body, stay */
	expect(m, m, "Authentication-Results: mx.example.net; spf=pass\r\n"
	    "Authentication-Results: (mx.example.org) other;\r\n none\r\n"
	    "ARC-Authentication-Results: i=1; mx.example.org;\r\n none\r\n",
	    0);
}

static void
test_last_field_without_body(void **state)
{
	(void)state;
	/* the header section ends with the message: still decided */
	expect("Subject: x\r\nAuthentication-Results: mx.example.org; "
	    "none\r\n", "Subject: x\r\n", "Subject: x\r\n", 1);
	expect("Subject: x\r\n", "Subject: x\r\n", "Subject: x\r\n", 0);
	expect("", "", "", 0);
	expect("\r\nbody only\r\n", "\r\nbody only\r\n", "", 0);
}

static void
test_header_bound(void **state)
{
	struct smtp_msgauth	*a;
	struct smtp_msgauth_info info;
	struct buf		 msg, out;
	size_t			 n = 0;

	(void)state;
	/* fields of 100 octets past MSGAUTH_HDRS_MAX */
	buf_init(&msg, 8 * 1024 * 1024);
	while (msg.len < MSGAUTH_HDRS_MAX + 5000) {
		assert_int_equal(buf_printf(&msg, "X-Pad-%06zu: %084d\r\n",
		    n++, 0), 0);
	}
	assert_int_equal(buf_append_str(&msg, "Authentication-Results: "
	    HOST "; none\r\n\r\nbody\r\n"), 0);
	a = run(msg.data, msg.len, 4096, true, &out);
	smtp_msgauth_info(a, &info);
	assert_true(info.truncated);
	/* kept up to a field boundary, each field whole */
	assert_true(info.hdrs.len <= MSGAUTH_HDRS_MAX);
	assert_int_equal(info.hdrs.len % 100, 0);
	assert_memory_equal(info.hdrs.ptr, msg.data, info.hdrs.len);
	/* still filtered past the bound, and the body still hashed */
	assert_int_equal(info.removed, 1);
	assert_int_equal(out.len, msg.len - strlen("Authentication-Results: "
	    HOST "; none\r\n"));
	assert_int_equal(info.bodylen, 6);
	smtp_msgauth_free(a);
	buf_free(&out);
	buf_free(&msg);
}

static void
test_long_field_streamed(void **state)
{
	struct smtp_msgauth	*a;
	struct smtp_msgauth_info info;
	struct buf		 msg, out;
	size_t			 i;

	(void)state;
	/* one field over the hold bound: ours is dropped whole */
	buf_init(&msg, 1024 * 1024);
	assert_int_equal(buf_append_str(&msg, "Subject: s\r\n"
	    "Authentication-Results: " HOST ";\r\n"), 0);
	for (i = 0; i < 400; i++)
		assert_int_equal(buf_append_str(&msg, " dkim=pass "
		    "header.d=example.org header.s=sel header.b=AbCd\r\n"), 0);
	assert_int_equal(buf_append_str(&msg, "To: t@x.example\r\n\r\nb\r\n"),
	    0);
	a = run(msg.data, msg.len, 1000, true, &out);
	smtp_msgauth_info(a, &info);
	assert_int_equal(info.removed, 1);
	assert_true(info.truncated);
	assert_string_equal(out.data, "Subject: s\r\nTo: t@x.example\r\n"
	    "\r\nb\r\n");
	smtp_msgauth_free(a);
	buf_free(&out);

	/* another's is written whole */
	memcpy(strstr(msg.data, HOST), "mx.example.net", strlen(HOST));
	a = run(msg.data, msg.len, 1000, true, &out);
	smtp_msgauth_info(a, &info);
	assert_int_equal(info.removed, 0);
	assert_int_equal(out.len, msg.len);
	assert_memory_equal(out.data, msg.data, msg.len);
	smtp_msgauth_free(a);
	buf_free(&out);
	buf_free(&msg);
}

static void
test_xspam_removed_on_port_25(void **state)
{
	struct smtp_msgauth	*a;
	struct smtp_msgauth_info info;
	struct buf		 out, msg;
	const char		*m = "X-Spam-Status: No, score=-9.0\r\n"
	    "From: a@b.example\r\nx-spam-score:\r\n -9.0\r\n"
	    "X-Spamassassin: kept\r\nX-Spam: kept\r\n\r\n"
	    "X-Spam-Status: in the body\r\n";
	size_t			 i;

	(void)state;
	/* port 25: gone from the spool, kept for the DKIM verifier */
	expect(m, "From: a@b.example\r\nX-Spamassassin: kept\r\n"
	    "X-Spam: kept\r\n\r\nX-Spam-Status: in the body\r\n",
	    "X-Spam-Status: No, score=-9.0\r\nFrom: a@b.example\r\n"
	    "x-spam-score:\r\n -9.0\r\nX-Spamassassin: kept\r\n"
	    "X-Spam: kept\r\n", 0);
	/* submission (no verify): the user's own message, untouched */
	a = run(m, strlen(m), 5, false, &out);
	assert_int_equal(out.len, strlen(m));
	assert_memory_equal(out.data, m, out.len);
	smtp_msgauth_free(a);
	buf_free(&out);

	/* one too long to hold is dropped whole too */
	buf_init(&msg, 1024 * 1024);
	assert_int_equal(buf_append_str(&msg, "Subject: s\r\n"
	    "X-Spam-Status: Yes, tests=\r\n"), 0);
	for (i = 0; i < 400; i++)
		assert_int_equal(buf_append_str(&msg, "\tA_RATHER_LONG_NAME=1"
		    ",ANOTHER_LONG_NAME=2,YET_ANOTHER=3\r\n"), 0);
	assert_int_equal(buf_append_str(&msg, "To: t@x.example\r\n\r\nb\r\n"),
	    0);
	a = run(msg.data, msg.len, 1000, true, &out);
	smtp_msgauth_info(a, &info);
	assert_string_equal(out.data, "Subject: s\r\nTo: t@x.example\r\n"
	    "\r\nb\r\n");
	smtp_msgauth_free(a);
	buf_free(&out);
	buf_free(&msg);
}

static void
test_body_hashes(void **state)
{
	struct smtp_msgauth	*a;
	struct smtp_msgauth_info info;
	struct dkim_bh		*h;
	struct dkim_bh_spec	 spec = { DKIM_CANON_RELAXED, DKIM_HASH_SHA256,
	    DKIM_BH_NOLIMIT };
	struct buf		 out;
	unsigned char		 want[DKIM_DIGEST_MAX];
	uint64_t		 hashed;
	size_t			 wantlen;
	const char		*body = "Hello  \r\nworld\r\n\r\n\r\n";
	const char		*msg = "DKIM-Signature: v=1; a=rsa-sha256; "
	    "c=simple/simple; d=example.org; s=s; h=from; l=5; bh=x; b=y\r\n"
	    "From: a@example.org\r\n\r\nHello  \r\nworld\r\n\r\n\r\n";

	(void)state;
	h = dkim_bh_new(&spec);
	dkim_bh_update(h, body, strlen(body));
	wantlen = dkim_bh_final(h, want, &hashed);
	dkim_bh_free(h);

	a = run(msg, strlen(msg), 5, true, &out);
	smtp_msgauth_info(a, &info);
	/* relaxed/sha256 first, then the signature's simple, l=5 */
	assert_int_equal(info.nbh, 2);
	assert_int_equal(info.bh[0].canon, DKIM_CANON_RELAXED);
	assert_int_equal(info.bh[0].digestlen, wantlen);
	assert_memory_equal(info.bh[0].digest, want, wantlen);
	assert_int_equal(info.bh[1].canon, DKIM_CANON_SIMPLE);
	assert_int_equal(info.bh[1].limit, 5);
	assert_int_equal(info.bh[1].hashed, 5);
	assert_int_equal(info.bodylen, strlen(body));
	smtp_msgauth_free(a);
	buf_free(&out);

	/* not verifying (submission): relaxed/sha256 only */
	a = run(msg, strlen(msg), 0, false, &out);
	smtp_msgauth_info(a, &info);
	assert_int_equal(info.nbh, 1);
	assert_memory_equal(info.bh[0].digest, want, wantlen);
	smtp_msgauth_free(a);
	buf_free(&out);
}

/* --- the session's msgauth step ------------------------------------------ */

struct mock {
	struct smtp_session	*s;
	struct buf		 out;
	struct buf		 data;
	bool			 asked;
	bool			 committed;
	bool			 aborted;
	char			 hdrs[4096];
	size_t			 removed;
	size_t			 nbh;
};

static void
m_reply(void *arg, const char *p, size_t len)
{
	struct mock	*m = arg;

	assert_int_equal(buf_append(&m->out, p, len), 0);
}

static void
m_mail(void *arg, const struct smtp_envelope *env)
{
	struct mock	*m = arg;

	(void)env;
	smtp_session_mail_result(m->s, 250, NULL, NULL);
}

static void
m_rcpt(void *arg, const struct smtp_envelope *env,
    const struct smtp_rcpt *r)
{
	struct mock	*m = arg;

	(void)env;
	(void)r;
	smtp_session_rcpt_result(m->s, 250, NULL, NULL);
}

static void
m_open(void *arg)
{
	struct mock	*m = arg;

	smtp_session_data_open_result(m->s, true, "Q1");
}

static void
m_write(void *arg, const char *p, size_t len)
{
	struct mock	*m = arg;

	assert_int_equal(buf_append(&m->data, p, len), 0);
}

static void
m_msgauth(void *arg, const struct smtp_envelope *env,
    const struct smtp_msgauth_info *info)
{
	struct mock	*m = arg;

	assert_non_null(env);
	assert_true(info->hdrs.len < sizeof(m->hdrs));
	memcpy(m->hdrs, info->hdrs.ptr, info->hdrs.len);
	m->hdrs[info->hdrs.len] = '\0';
	m->removed = info->removed;
	m->nbh = info->nbh;
	m->asked = true;
}

static void
m_commit(void *arg, const struct smtp_envelope *env)
{
	struct mock	*m = arg;

	(void)env;
	m->committed = true;
	smtp_session_commit_result(m->s, 250, NULL, NULL);
}

static void
m_abort(void *arg)
{
	struct mock	*m = arg;

	m->aborted = true;
}

static void
m_close(void *arg)
{
	(void)arg;
}

static const struct smtp_session_ops mock_ops = {
	.reply = m_reply,
	.mail = m_mail,
	.rcpt = m_rcpt,
	.data_open = m_open,
	.data_write = m_write,
	.msgauth = m_msgauth,
	.data_commit = m_commit,
	.data_abort = m_abort,
	.close = m_close,
};

static void
mock_start(struct mock *m, enum smtp_kind kind)
{
	struct smtp_params	p;

	memset(m, 0, sizeof(*m));
	memset(&p, 0, sizeof(p));
	p.hostname = HOST;
	p.kind = kind;
	p.client_ip = "127.0.0.2";
	p.local_user = "carol";
	p.now = 1700000000;
	buf_init(&m->out, 1024 * 1024);
	buf_init(&m->data, 1024 * 1024);
	m->s = smtp_session_new(&p, &mock_ops, m);
	smtp_session_start(m->s);
}

static void
mock_input(struct mock *m, const char *text)
{
	size_t	n = strlen(text);

	assert_int_equal(smtp_session_input(m->s, text, n), n);
}

static void
mock_end(struct mock *m)
{
	smtp_session_free(m->s);
	buf_free(&m->out);
	buf_free(&m->data);
}

#define DIALOGUE	"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\n" \
	"RCPT TO:<u@example.org>\r\nDATA\r\n" \
	"authentication-results: Mx.Example.Org; dkim=pass\r\n" \
	"Authentication-Results: other.example; dkim=fail\r\n" \
	"Subject: t\r\n\r\n..dot\r\n.\r\n"

static void
test_session_accept(void **state)
{
	struct mock	m;

	(void)state;
	mock_start(&m, SMTP_KIND_MX);
	mock_input(&m, DIALOGUE);
	/* waiting for the verdict: nothing committed, no 250 yet */
	assert_true(m.asked);
	assert_false(m.committed);
	assert_true(smtp_session_waiting(m.s));
	assert_null(strstr(m.out.data, "queued"));
	assert_string_equal(m.hdrs, "Authentication-Results: "
	    "other.example; dkim=fail\r\nSubject: t\r\n");
	assert_int_equal(m.removed, 1);
	/* the spool: our Received, then the filtered, unstuffed message */
	assert_non_null(strstr(m.data.data, "Received: from client.example"));
	assert_null(strstr(m.data.data, "Mx.Example.Org"));
	assert_non_null(strstr(m.data.data, "\r\nAuthentication-Results: "
	    "other.example; dkim=fail\r\nSubject: t\r\n\r\n.dot\r\n"));
	smtp_session_msgauth_result(m.s, 250, NULL, NULL);
	assert_true(m.committed);
	assert_false(m.aborted);
	assert_non_null(strstr(m.out.data, "250 2.0.0 Ok: queued as Q1"));
	mock_end(&m);
}

static void
test_session_refuse(void **state)
{
	struct mock	m;

	(void)state;
	mock_start(&m, SMTP_KIND_MX);
	mock_input(&m, DIALOGUE);
	assert_true(m.asked);
	smtp_session_msgauth_result(m.s, 550, "5.7.1",
	    "Rejected by the DMARC policy of b.example");
	assert_false(m.committed);
	assert_true(m.aborted);
	assert_non_null(strstr(m.out.data, "550 5.7.1 Rejected by the DMARC "
	    "policy of b.example\r\n"));
	/* the transaction is over: a new one may start */
	assert_false(smtp_session_waiting(m.s));
	mock_input(&m, "MAIL FROM:<x@y.example>\r\n");
	assert_non_null(strstr(m.out.data, "250 2.1.0 Ok\r\n"));
	mock_end(&m);
}

static void
test_session_submission_hashes_once(void **state)
{
	struct mock	m;

	(void)state;
	mock_start(&m, SMTP_KIND_LOCAL);
	mock_input(&m, "EHLO x\r\nMAIL FROM:<carol@example.org>\r\n"
	    "RCPT TO:<u@example.net>\r\nDATA\r\nDKIM-Signature: v=1; "
	    "a=rsa-sha256; c=simple/simple; d=x; s=s; h=from; bh=x; b=y\r\n"
	    "\r\nb\r\n.\r\n");
	assert_true(m.asked);
	/* a submission is signed, not verified: relaxed/sha256 only */
	assert_int_equal(m.nbh, 1);
	smtp_session_msgauth_result(m.s, 250, NULL, NULL);
	assert_true(m.committed);
	mock_end(&m);
}

static void
test_session_free_while_waiting(void **state)
{
	struct mock	m;

	(void)state;
	mock_start(&m, SMTP_KIND_MX);
	mock_input(&m, DIALOGUE);
	assert_true(m.asked);
	/* the client leaves before the verdict: the spool file goes */
	smtp_session_free(m.s);
	assert_true(m.aborted);
	buf_free(&m.out);
	buf_free(&m.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_message_passes),
		cmocka_unit_test(test_ours_removed),
		cmocka_unit_test(test_others_kept),
		cmocka_unit_test(test_last_field_without_body),
		cmocka_unit_test(test_xspam_removed_on_port_25),
		cmocka_unit_test(test_header_bound),
		cmocka_unit_test(test_long_field_streamed),
		cmocka_unit_test(test_body_hashes),
		cmocka_unit_test(test_session_accept),
		cmocka_unit_test(test_session_refuse),
		cmocka_unit_test(test_session_submission_hashes_once),
		cmocka_unit_test(test_session_free_while_waiting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
