/*
 * Unit tests for bounce.c: reports checked line by line (every line ends
 * in CRLF and stays within 998 octets, hostile strings never make a new
 * header), field by field, and once more by Python's email package,
 * which must parse each sample as multipart/report with the right
 * Status, Action and Diagnostic-Code (the test writes the sample and a
 * small checker to a temporary directory and runs /usr/bin/python3).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bounce.h"
#include "buf.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define NOW		1700000000	/* Tue, 14 Nov 2023 22:13:20 +0000 */
#define ARRIVAL		1699990000
#define RANDOM		0x0123456789abcdefULL
#define BOUNDARY	"=_cachet_0a1b2c3d4e5f6789_0123456789abcdef"

static const char original[] =
    "Received: from client (client [192.0.2.1])\r\n"
    "\tby mail.example.org with ESMTPSA id 0a1b2c3d4e5f6789\r\n"
    "From: Alice <alice@example.org>\r\n"
    "To: Bob <bob@example.net>\r\n"
    "Subject: lunch\r\n"
    "Message-ID: <m1@example.org>\r\n"
    "\r\n"
    "Shall we have lunch?\r\n"
    ".\r\n"
    "Not --" BOUNDARY " at the start of a line\r\n";

struct reader {
	const char	*p;
	size_t		 len, pos;
	size_t		 step;	/* octets per read, 0 all */
	bool		 fail;
};

static ssize_t
rd(void *arg, char *buf, size_t len)
{
	struct reader	*r = arg;
	size_t		 n = r->len - r->pos;

	if (r->fail)
		return -1;
	if (n > len)
		n = len;
	if (r->step > 0 && n > r->step)
		n = r->step;
	memcpy(buf, r->p + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

static struct bounce_rcpt rcpts_fail[] = {
	{ "bob@example.net", "rfc822;Bob@Example.NET", BOUNCE_ACTION_FAILED,
	    "5.1.1", "mx.example.net",
	    "550-5.1.1 The email account that you tried to reach does not "
	    "exist.\n550 5.1.1 Please check the address.", false, NOW - 60,
	    0 },
	{ "carol@example.net", NULL, BOUNCE_ACTION_FAILED, "5.1.10", NULL,
	    "556 5.1.10 domain does not accept mail (null MX)", true,
	    NOW - 30, 0 },
};

static void
params_init(struct bounce_params *p, struct reader *r)
{
	memset(p, 0, sizeof(*p));
	memset(r, 0, sizeof(*r));
	r->p = original;
	r->len = sizeof(original) - 1;
	p->hostname = "mail.example.org";
	p->sender = "alice@example.org";
	p->queue_id = "0a1b2c3d4e5f6789";
	p->arrival = ARRIVAL;
	p->now = NOW;
	p->kind = BOUNCE_FAILURE;
	p->ret = BOUNCE_RET_UNSET;
	p->random = RANDOM;
	p->message_size = sizeof(original) - 1;
	p->rcpts = rcpts_fail;
	p->nrcpts = NELEM(rcpts_fail);
	p->read = rd;
	p->read_arg = r;
}

/* Every line ends in CRLF, no bare CR or LF, none over 998 octets. */
static void
check_lines(const struct buf *b)
{
	size_t	i, start = 0;

	assert_true(b->len >= 2);
	assert_memory_equal(b->data + b->len - 2, "\r\n", 2);
	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\r') {
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
			continue;
		}
		if (b->data[i] == '\n') {
			assert_true(i > 0 && b->data[i - 1] == '\r');
			if (i - 1 - start > 998)
				fail_msg("line of %zu octets at %zu",
				    i - 1 - start, start);
			start = i + 1;
		}
	}
}

/* True when a line of b is exactly line. */
static bool
has_line(const struct buf *b, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p = b->data;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == b->data || p[-1] == '\n') && p[n] == '\r' &&
		    p[n + 1] == '\n')
			return true;
		p++;
	}
	return false;
}

static void
compose(struct bounce_params *p, struct buf *out)
{
	const char	*errstr = NULL;

	buf_init(out, 1 << 20);
	if (bounce_compose(p, out, &errstr) == -1)
		fail_msg("bounce_compose: %s", errstr);
	assert_null(errstr);
	check_lines(out);
}

/* Python */

static const char checker[] =
    "import sys, email\n"
    "from email import policy\n"
    "m = email.message_from_binary_file(open(sys.argv[1], 'rb'),\n"
    "    policy=policy.compat32)\n"
    "assert m.get_content_type() == 'multipart/report', m.get_content_type()\n"
    "assert m.get_param('report-type') == 'delivery-status'\n"
    "assert m['Auto-Submitted'] == 'auto-replied'\n"
    "assert not m.defects, m.defects\n"
    "parts = m.get_payload()\n"
    "assert len(parts) == 3, len(parts)\n"
    "assert parts[0].get_content_type() == 'text/plain'\n"
    "assert parts[1].get_content_type() == 'message/delivery-status'\n"
    "assert parts[2].get_content_type() == sys.argv[2], "
    "parts[2].get_content_type()\n"
    "blocks = parts[1].get_payload()\n"
    "assert blocks[0]['Reporting-MTA'] == 'dns; mail.example.org'\n"
    "want = [w.split('|') for w in sys.argv[3:]]\n"
    "assert len(blocks) == 1 + len(want), len(blocks)\n"
    "for b, (action, status, diag) in zip(blocks[1:], want):\n"
    "    assert b['Action'] == action, b['Action']\n"
    "    assert b['Status'] == status, b['Status']\n"
    "    got = ' '.join((b['Diagnostic-Code'] or '').split())\n"
    "    assert diag == '*' or got == diag, (got, diag)\n"
    "if sys.argv[2] == 'message/rfc822':\n"
    "    inner = parts[2].get_payload()[0]\n"
    "    assert inner['Subject'] == 'lunch'\n"
    "    assert 'Shall we have lunch?' in inner.get_payload()\n";

static void
python_check(const struct buf *b, const char *third, const char *want1,
    const char *want2)
{
	char	dir[] = "/tmp/test_bounce.XXXXXX";
	char	msg[128], py[128], cmd[2048];
	int	fd, rc;

	if (access("/usr/bin/python3", X_OK) == -1)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(msg, sizeof(msg), "%s/report.eml", dir);
	snprintf(py, sizeof(py), "%s/check.py", dir);
	fd = open(msg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, b->data, b->len), 0);
	close(fd);
	fd = open(py, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, checker, sizeof(checker) - 1), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s '%s' '%s'%s%s%s",
	    py, msg, third, want1, want2 ? " '" : "", want2 ? want2 : "",
	    want2 ? "'" : "");
	rc = system(cmd);
	unlink(msg);
	unlink(py);
	rmdir(dir);
	assert_int_equal(rc, 0);
}

/* Tests */

static void
test_failure_headers_only(void **state)
{
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	compose(&p, &out);
	assert_true(has_line(&out, "From: Mail Delivery System "
	    "<MAILER-DAEMON@mail.example.org>"));
	assert_true(has_line(&out, "To: <alice@example.org>"));
	assert_true(has_line(&out, "Subject: Undelivered Mail Returned to "
	    "Sender"));
	assert_true(has_line(&out, "Date: Tue, 14 Nov 2023 22:13:20 +0000"));
	assert_true(has_line(&out, "Auto-Submitted: auto-replied"));
	assert_true(has_line(&out, "MIME-Version: 1.0"));
	assert_true(has_line(&out, "Content-Type: multipart/report; "
	    "report-type=delivery-status;"));
	assert_true(has_line(&out, "\tboundary=\"" BOUNDARY "\""));
	assert_true(has_line(&out, "Content-Transfer-Encoding: 7bit"));
	assert_true(has_line(&out, "Message-ID: "
	    "<0a1b2c3d4e5f6789.0123456789abcdef.dsn@mail.example.org>"));
	assert_true(has_line(&out, "--" BOUNDARY));
	assert_true(has_line(&out, "--" BOUNDARY "--"));
	assert_true(has_line(&out, "Content-Type: message/delivery-status"));
	assert_true(has_line(&out, "Content-Type: text/rfc822-headers"));
	assert_true(has_line(&out, "Reporting-MTA: dns; mail.example.org"));
	assert_true(has_line(&out, "Arrival-Date: Tue, 14 Nov 2023 19:26:40 "
	    "+0000"));
	assert_true(has_line(&out, "X-Cachet-Queue-ID: 0a1b2c3d4e5f6789"));
	assert_true(has_line(&out, "Original-Recipient: rfc822; "
	    "Bob@Example.NET"));
	assert_true(has_line(&out, "Final-Recipient: rfc822; bob@example.net"));
	assert_true(has_line(&out, "Action: failed"));
	assert_true(has_line(&out, "Status: 5.1.1"));
	assert_true(has_line(&out, "Status: 5.1.10"));
	assert_true(has_line(&out, "Remote-MTA: dns; mx.example.net"));
	assert_true(has_line(&out, "Diagnostic-Code: smtp; 550-5.1.1 The "
	    "email account that you tried to reach"));
	assert_true(has_line(&out, "Diagnostic-Code: X-Cachet; 556 5.1.10 "
	    "domain does not accept mail (null MX)"));
	assert_true(has_line(&out, "Last-Attempt-Date: Tue, 14 Nov 2023 "
	    "22:12:20 +0000"));
	assert_null(strstr(out.data, "Will-Retry-Until"));
	assert_null(strstr(out.data, "Original-Envelope-Id"));
	/* the headers of the original, not its body */
	assert_true(has_line(&out, "Subject: lunch"));
	assert_true(has_line(&out, "\tby mail.example.org with ESMTPSA id "
	    "0a1b2c3d4e5f6789"));
	assert_null(strstr(out.data, "Shall we have lunch?"));
	assert_true(has_line(&out, "The headers of your message are "
	    "attached."));
	python_check(&out, "text/rfc822-headers",
	    "failed|5.1.1|smtp; 550-5.1.1 The email account that you tried "
	    "to reach does not exist. 550 5.1.1 Please check the address.",
	    "failed|5.1.10|X-Cachet; 556 5.1.10 domain does not accept mail "
	    "(null MX)");
	buf_free(&out);
}

static void
test_failure_full_message(void **state)
{
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	p.ret = BOUNCE_RET_FULL;
	r.step = 7;
	compose(&p, &out);
	assert_true(has_line(&out, "Content-Type: message/rfc822"));
	assert_true(has_line(&out, "Content-Description: Undelivered "
	    "Message"));
	assert_true(has_line(&out, "Shall we have lunch?"));
	/* copied as it is: a lone dot stays a lone dot */
	assert_true(has_line(&out, "."));
	assert_true(has_line(&out, "Your message is attached."));
	python_check(&out, "message/rfc822",
	    "failed|5.1.1|smtp; 550-5.1.1 The email account that you tried "
	    "to reach does not exist. 550 5.1.1 Please check the address.",
	    "failed|5.1.10|X-Cachet; 556 5.1.10 domain does not accept mail "
	    "(null MX)");
	buf_free(&out);
}

static void
test_failure_full_too_big_sends_headers(void **state)
{
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	p.ret = BOUNCE_RET_FULL;
	p.full_max = 100;
	compose(&p, &out);
	assert_true(has_line(&out, "Content-Type: text/rfc822-headers"));
	assert_null(strstr(out.data, "Shall we have lunch?"));
	assert_true(has_line(&out, "The message was too large to return "
	    "whole; its headers are attached."));
	buf_free(&out);
}

/* One recipient still being retried. */
static struct bounce_rcpt delayed_rcpt[] = {
	{ "bob@example.net", NULL, BOUNCE_ACTION_DELAYED, "4.4.1",
	    "mx.example.net", "421 4.4.1 connection timed out",
	    false, NOW - 10, NOW + 4 * 86400 },
};

static void
test_delay_report(void **state)
{
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	p.kind = BOUNCE_DELAY;
	p.ret = BOUNCE_RET_FULL;	/* only for failures: headers */
	p.rcpts = delayed_rcpt;
	p.nrcpts = 1;
	p.envid = "QQ314159";
	compose(&p, &out);
	assert_true(has_line(&out, "Subject: Delayed Mail (still being "
	    "retried)"));
	assert_true(has_line(&out, "Action: delayed"));
	assert_true(has_line(&out, "Status: 4.4.1"));
	assert_true(has_line(&out, "Will-Retry-Until: Sat, 18 Nov 2023 "
	    "22:13:20 +0000"));
	assert_true(has_line(&out, "Original-Envelope-Id: QQ314159"));
	assert_true(has_line(&out, "Content-Type: text/rfc822-headers"));
	assert_null(strstr(out.data, "Shall we have lunch?"));
	assert_non_null(strstr(out.data, "will retry until Sat, 18 Nov 2023"));
	python_check(&out, "text/rfc822-headers",
	    "delayed|4.4.1|smtp; 421 4.4.1 connection timed out", NULL);
	buf_free(&out);
}

/* Recipients left out of a large report are counted in the human part. */
static void
test_omitted_recipients_counted(void **state)
{
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	p.kind = BOUNCE_DELAY;
	p.rcpts = delayed_rcpt;
	p.nrcpts = 1;
	p.omitted = 1;
	compose(&p, &out);
	assert_true(has_line(&out, "1 more recipient of this message is "
	    "delayed too; it is not listed, to keep this report small."));
	python_check(&out, "text/rfc822-headers",
	    "delayed|4.4.1|smtp; 421 4.4.1 connection timed out", NULL);
	buf_free(&out);

	params_init(&p, &r);
	p.omitted = 41;
	compose(&p, &out);
	assert_true(has_line(&out, "41 more recipients of this message "
	    "failed too; they are not listed, to keep this report small."));
	buf_free(&out);
}

static void
test_success_report(void **state)
{
	static struct bounce_rcpt rc[] = {
		{ "bob@example.net", NULL, BOUNCE_ACTION_DELIVERED, NULL,
		    "mx.example.net", "250 2.0.0 Ok: queued as 4Xyz", false,
		    NOW, 0 },
	};
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	p.kind = BOUNCE_SUCCESS;
	p.rcpts = rc;
	p.nrcpts = 1;
	compose(&p, &out);
	assert_true(has_line(&out, "Subject: Successful Mail Delivery "
	    "Report"));
	assert_true(has_line(&out, "Action: delivered"));
	assert_true(has_line(&out, "Status: 2.0.0"));
	python_check(&out, "text/rfc822-headers",
	    "delivered|2.0.0|smtp; 250 2.0.0 Ok: queued as 4Xyz", NULL);
	buf_free(&out);
}

struct status_case {
	const char		*in;
	enum bounce_action	 action;
	const char		*out;
};

static const struct status_case status_cases[] = {
	{ "5.7.1", BOUNCE_ACTION_FAILED, "5.7.1" },
	{ "4.123.456", BOUNCE_ACTION_DELAYED, "4.123.456" },
	{ NULL, BOUNCE_ACTION_FAILED, "5.0.0" },
	{ NULL, BOUNCE_ACTION_DELAYED, "4.0.0" },
	{ NULL, BOUNCE_ACTION_DELIVERED, "2.0.0" },
	{ "5.1.1x", BOUNCE_ACTION_FAILED, "5.0.0" },
	{ "5.1234.1", BOUNCE_ACTION_FAILED, "5.0.0" },
	{ "3.1.1", BOUNCE_ACTION_FAILED, "5.0.0" },
	{ "5.1.", BOUNCE_ACTION_FAILED, "5.0.0" },
	{ "5..1", BOUNCE_ACTION_FAILED, "5.0.0" },
	{ "5.1.1\r\nX: y", BOUNCE_ACTION_FAILED, "5.0.0" },
};

static void
test_status(void **state)
{
	const struct status_case	*c = *state;
	struct bounce_rcpt		 rc = { "bob@example.net", NULL,
					    c->action, c->in, NULL, NULL,
					    false, 0, 0 };
	struct bounce_params		 p;
	struct reader			 r;
	struct buf			 out;
	char				 want[64];

	params_init(&p, &r);
	p.rcpts = &rc;
	p.nrcpts = 1;
	compose(&p, &out);
	snprintf(want, sizeof(want), "Status: %s", c->out);
	assert_true(has_line(&out, want));
	buf_free(&out);
}

/* A reply that tries to start a header of its own stays one field. */
static void
test_hostile_strings_stay_inside_their_field(void **state)
{
	static struct bounce_rcpt rc[] = {
		{ "bob@example.net\r\nBcc: x@evil.example",
		    "rfc822;a\r\nBcc: y@evil.example", BOUNCE_ACTION_FAILED,
		    "5.1.1", "mx.example.net\r\nBcc: z@evil.example",
		    "550 no\r\nBcc: w@evil.example\n\n--" BOUNDARY "--\r\n\x01"
		    "\x1b[1m\xc3\xa9", false, NOW, 0 },
	};
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	p.rcpts = rc;
	p.nrcpts = 1;
	p.envid = "id\r\nBcc: v@evil.example";
	p.sender = "alice@example.org>\r\nBcc: u@evil.example";
	compose(&p, &out);
	assert_null(strstr(out.data, "\nBcc:"));
	assert_null(strstr(out.data, "\n Bcc:"));
	assert_non_null(strstr(out.data, "\r\nDiagnostic-Code: smtp; 550 no "
	    "Bcc: w@evil.example\r\n --" BOUNDARY "-- ??[1m??\r\n"));
	/* the one boundary end line is ours, at the very end */
	assert_non_null(strstr(out.data, "\r\n--" BOUNDARY "--\r\n"));
	assert_int_equal((size_t)(strstr(out.data, "\r\n--" BOUNDARY
	    "--\r\n") - out.data) + strlen("\r\n--" BOUNDARY "--\r\n"),
	    out.len);
	buf_free(&out);
}

static void
test_long_diagnostic_folded(void **state)
{
	static char		 diag[6000];
	static struct bounce_rcpt rc[] = {
		{ "bob@example.net", NULL, BOUNCE_ACTION_FAILED, "5.0.0",
		    "mx.example.net", diag, false, NOW, 0 },
	};
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;
	size_t			i;

	/* a long word, then many short ones */
	memcpy(diag, "550 ", 4);
	memset(diag + 4, 'w', 2500);
	for (i = 2504; i + 2 < sizeof(diag) - 1; i += 2)
		memcpy(diag + i, " w", 2);
	diag[i] = '\0';
	params_init(&p, &r);
	p.rcpts = rc;
	p.nrcpts = 1;
	compose(&p, &out);	/* check_lines: no line over 998 */
	assert_non_null(strstr(out.data, "Diagnostic-Code: smtp; 550\r\n "
	    "wwww"));
	python_check(&out, "text/rfc822-headers", "failed|5.0.0|*", NULL);
	buf_free(&out);
}

static void
test_original_long_line_broken(void **state)
{
	static const char	 tail[] =
	    "\r\nSubject: s\nBare: lf\r\nBare: cr\rNext: x\r\n\r\nbody\r\n";
	struct bounce_params	 p;
	struct reader		 r;
	struct buf		 out;
	char			*big;
	const char		*p0;
	size_t			 n = 2500;

	big = malloc(n + sizeof(tail));
	assert_non_null(big);
	memcpy(big, "X-Long: ", 8);
	memset(big + 8, 'y', n - 8);
	memcpy(big + n, tail, sizeof(tail));
	params_init(&p, &r);
	r.p = big;
	r.len = n + sizeof(tail) - 1;
	r.step = 100;
	compose(&p, &out);
	assert_true(has_line(&out, "Subject: s"));
	assert_true(has_line(&out, "Bare: lf"));
	assert_true(has_line(&out, "Bare: cr"));
	assert_true(has_line(&out, "Next: x"));
	assert_null(strstr(out.data, "body"));
	/* 2500 octets: lines of 998, 998 and 504 */
	p0 = strstr(out.data, "X-Long: ");
	assert_non_null(p0);
	assert_memory_equal(p0 + 998, "\r\nyyy", 5);
	assert_memory_equal(p0 + 998 + 2 + 998, "\r\nyyy", 5);
	assert_memory_equal(p0 + 2 * 1000 + 504, "\r\nSubject: s", 12);
	buf_free(&out);
	free(big);
}

/* A CR in the 999th place that ends the line does not break it. */
static void
test_original_998_octet_line_kept(void **state)
{
	struct bounce_params	 p;
	struct reader		 r;
	struct buf		 out;
	char			 line[1100], want[1000];

	memset(line, 'z', 998);
	memcpy(line + 998, "\r\n\r\n", 4);
	memcpy(want, line, 998);
	want[998] = '\0';
	params_init(&p, &r);
	r.p = line;
	r.len = 1002;
	r.step = 1;
	compose(&p, &out);
	assert_true(has_line(&out, want));
	buf_free(&out);
}

static void
test_boundary_in_original_refused(void **state)
{
	static const char evil[] =
	    "Subject: x\r\n--" BOUNDARY "--\r\n\r\n";
	struct bounce_params	 p;
	struct reader		 r;
	struct buf		 out;
	const char		*errstr = NULL;

	params_init(&p, &r);
	r.p = evil;
	r.len = sizeof(evil) - 1;
	buf_init(&out, 1 << 20);
	assert_int_equal(bounce_compose(&p, &out, &errstr), -1);
	assert_string_equal(errstr, "the original holds our MIME boundary");
	assert_int_equal(out.len, 0);
	/* another random, another boundary: fine */
	p.random = 42;
	r.pos = 0;
	assert_int_equal(bounce_compose(&p, &out, &errstr), 0);
	buf_free(&out);
}

static void
test_eight_bit_original_declared(void **state)
{
	static const char utf[] = "Subject: caf\xc3\xa9\r\n\r\nbody\r\n";
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	r.p = utf;
	r.len = sizeof(utf) - 1;
	compose(&p, &out);
	assert_true(has_line(&out, "Content-Transfer-Encoding: 8bit"));
	assert_null(strstr(out.data, "7bit"));
	buf_free(&out);
}

static void
test_utf8_recipient_global(void **state)
{
	static struct bounce_rcpt rc[] = {
		{ "j\xc3\xb6rg@example.net", NULL, BOUNCE_ACTION_FAILED,
		    "5.1.1", NULL, NULL, false, 0, 0 },
	};
	struct bounce_params	p;
	struct reader		r;
	struct buf		out;

	params_init(&p, &r);
	p.rcpts = rc;
	p.nrcpts = 1;
	compose(&p, &out);
	assert_true(has_line(&out, "Content-Type: "
	    "message/global-delivery-status"));
	assert_true(has_line(&out, "Final-Recipient: utf-8; "
	    "j\xc3\xb6rg@example.net"));
	/* the human part stays us-ascii */
	assert_non_null(strstr(out.data, "<j??rg@example.net>: failed "
	    "(status 5.1.1)"));
	buf_free(&out);
}

static void
test_refusals(void **state)
{
	struct bounce_params	 p;
	struct reader		 r;
	struct buf		 out;
	const char		*errstr;

	buf_init(&out, 1 << 20);
	params_init(&p, &r);
	p.sender = "";
	assert_int_equal(bounce_compose(&p, &out, &errstr), -1);
	assert_string_equal(errstr, "no sender to report to");
	params_init(&p, &r);
	p.nrcpts = 0;
	assert_int_equal(bounce_compose(&p, &out, &errstr), -1);
	assert_string_equal(errstr, "no recipient to report on");
	params_init(&p, &r);
	r.fail = true;
	assert_int_equal(bounce_compose(&p, &out, &errstr), -1);
	assert_string_equal(errstr, "cannot read the original message");
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

/* Too small an output: -1, EMSGSIZE, and out as it was. */
static void
test_out_too_small(void **state)
{
	struct bounce_params	 p;
	struct reader		 r;
	struct buf		 out;
	const char		*errstr;

	buf_init(&out, 2000);
	assert_int_equal(buf_append_str(&out, "kept"), 0);
	params_init(&p, &r);
	errno = 0;
	assert_int_equal(bounce_compose(&p, &out, &errstr), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_string_equal(errstr, "report too large");
	assert_int_equal(out.len, 4);
	assert_string_equal(out.data, "kept");
	buf_free(&out);
}

struct date_case {
	int64_t		 t;
	const char	*s;
};

static const struct date_case date_cases[] = {
	{ 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
	{ NOW, "Tue, 14 Nov 2023 22:13:20 +0000" },
	{ 951782400, "Tue, 29 Feb 2000 00:00:00 +0000" },
	{ 4102444799, "Thu, 31 Dec 2099 23:59:59 +0000" },
};

static void
test_dates(void **state)
{
	char	out[32];
	size_t	i;

	for (i = 0; i < NELEM(date_cases); i++) {
		bounce_date(date_cases[i].t, out);
		assert_string_equal(out, date_cases[i].s);
	}
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

static const struct CMUnitTest fixed_tests[] = {
	cmocka_unit_test(test_failure_headers_only),
	cmocka_unit_test(test_failure_full_message),
	cmocka_unit_test(test_failure_full_too_big_sends_headers),
	cmocka_unit_test(test_delay_report),
	cmocka_unit_test(test_omitted_recipients_counted),
	cmocka_unit_test(test_success_report),
	cmocka_unit_test(test_hostile_strings_stay_inside_their_field),
	cmocka_unit_test(test_long_diagnostic_folded),
	cmocka_unit_test(test_original_long_line_broken),
	cmocka_unit_test(test_original_998_octet_line_kept),
	cmocka_unit_test(test_boundary_in_original_refused),
	cmocka_unit_test(test_eight_bit_original_declared),
	cmocka_unit_test(test_utf8_recipient_global),
	cmocka_unit_test(test_refusals),
	cmocka_unit_test(test_out_too_small),
	cmocka_unit_test(test_dates),
};

int
main(void)
{
	struct CMUnitTest	*tests;
	size_t			 i, n = 0, total;
	int			 rc;

	total = NELEM(status_cases) + NELEM(fixed_tests);
	tests = calloc(total, sizeof(*tests));
	assert_non_null(tests);
	for (i = 0; i < NELEM(status_cases); i++) {
		char row[32];

		snprintf(row, sizeof(row), "row %zu", i);
		tests[n].name = test_name("status: ", row);
		tests[n].test_func = test_status;
		tests[n].initial_state =
		    (void *)(uintptr_t)&status_cases[i];
		n++;
	}
	for (i = 0; i < NELEM(fixed_tests); i++)
		tests[n++] = fixed_tests[i];
	rc = _cmocka_run_group_tests("bounce", tests, n, NULL, NULL);
	for (i = 0; i < NELEM(status_cases); i++)
		free((char *)(uintptr_t)tests[i].name);
	free(tests);
	return rc;
}
