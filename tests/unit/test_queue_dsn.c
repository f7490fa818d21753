/*
 * Unit tests for queue_dsn.c: the status code found in an error text, the
 * host of a remote, and reports made from a real spool in a temporary
 * directory: what the report says per recipient, and the envelope of the
 * new message (from <>, to the original sender).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "bounce.h"
#include "queue_dsn.h"
#include "queue_fs.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MSG	"Received: from x\r\nSubject: hello\r\n\r\nbody line\r\n"

struct fx {
	char		 dir[64];
	struct queue_fs	*q;
	char		 id[QID_SIZE];
	struct queue_fs_envelope env;
};

static int
setup(void **state)
{
	struct fx	*f = xcalloc(1, sizeof(*f));
	int		 fd = -1;

	(void)str_copy(f->dir, sizeof(f->dir), "/tmp/test_queue_dsn.XXXXXX");
	if (mkdtemp(f->dir) == NULL || (f->q = queue_fs_open(f->dir)) == NULL)
		goto fail;
	if (queue_fs_create(f->q, 1700000000000ULL, f->id, &fd) == -1 ||
	    write_full(fd, MSG, sizeof(MSG) - 1) == -1)
		goto fail;
	(void)str_copy(f->env.id, sizeof(f->env.id), f->id);
	f->env.created = 1700000000;
	f->env.sender = xstrdup("alice@example.org");
	f->env.envid = xstrdup("ENV-1");
	f->env.rcpts = xcalloc(3, sizeof(*f->env.rcpts));
	f->env.nrcpts = 3;
	f->env.rcpts[0].addr = xstrdup("bob@example.net");
	f->env.rcpts[0].state = QUEUE_FS_RCPT_FAILED;
	f->env.rcpts[0].attempts = 1;
	f->env.rcpts[0].error = xstrdup("550 5.1.1 <bob@example.net>: no "
	    "such user");
	f->env.rcpts[0].remote = xstrdup("mx1.example.net[192.0.2.5]");
	f->env.rcpts[1].addr = xstrdup("carol@example.net");
	f->env.rcpts[1].state = QUEUE_FS_RCPT_FAILED;
	f->env.rcpts[1].attempts = 9;
	f->env.rcpts[1].error = xstrdup("451 4.3.0 try later");
	f->env.rcpts[1].remote = xstrdup("mx1.example.net[192.0.2.5]");
	f->env.rcpts[2].addr = xstrdup("dan@example.org");
	f->env.rcpts[2].orcpt = xstrdup("rfc822;team@example.org");
	f->env.rcpts[2].state = QUEUE_FS_RCPT_FAILED;
	f->env.rcpts[2].error = xstrdup("5.2.2 Mailbox full");
	if (queue_fs_commit(f->q, fd, sizeof(MSG) - 1, &f->env) == -1)
		goto fail;
	close(fd);
	*state = f;
	return 0;
fail:
	if (fd != -1)
		close(fd);
	queue_fs_envelope_free(&f->env);
	queue_fs_close(f->q);
	testutil_rmtree(f->dir);
	free(f);
	return -1;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	queue_fs_envelope_free(&f->env);
	queue_fs_close(f->q);
	testutil_rmtree(f->dir);
	free(f);
	return 0;
}

/* The bytes of message id. */
static char *
slurp(struct fx *f, const char *id)
{
	uint64_t	 len;
	char		*p;
	int		 fd;

	assert_int_equal(queue_fs_open_message(f->q, id, &fd, &len), 0);
	p = xmalloc(len + 1);
	assert_int_equal(read_full(fd, p, len), (ssize_t)len);
	p[len] = '\0';
	close(fd);
	return p;
}

static void
test_status_from_error_texts(void **state)
{
	static const struct {
		const char	*error;
		const char	*want;	/* NULL: none */
	} cases[] = {
		{ "550 5.1.1 no such user", "5.1.1" },
		{ "550-5.1.1 first line\n550 5.1.1 second", "5.1.1" },
		{ "451 4.7.1 greylisted", "4.7.1" },
		{ "5.4.6 Alias loop", "5.4.6" },
		{ "4.4.3 temporary DNS failure", "4.4.3" },
		{ "5.1.10 null MX", "5.1.10" },
		{ "2.0.0", "2.0.0" },
		{ "550 no enhanced code here", NULL },
		{ "550 5.1 short", NULL },
		{ "550 5.1.1234 too long a part", NULL },
		{ "550 6.1.1 bad class", NULL },
		{ "5.1.1x glued", NULL },
		{ "", NULL },
		{ "55", NULL },
	};
	char	out[16];
	size_t	i;

	for (i = 0; i < NELEM(cases); i++) {
		if (cases[i].want == NULL) {
			assert_false(queue_dsn_status(cases[i].error, out));
			continue;
		}
		assert_true(queue_dsn_status(cases[i].error, out));
		assert_string_equal(out, cases[i].want);
	}
	assert_false(queue_dsn_status(NULL, out));
}

static void
test_remote_host(void **state)
{
	char	out[64];

	queue_dsn_remote_host("mx.example.net[192.0.2.1]", out, sizeof(out));
	assert_string_equal(out, "mx.example.net");
	queue_dsn_remote_host("plain", out, sizeof(out));
	assert_string_equal(out, "plain");
	queue_dsn_remote_host("averyveryverylonghostname[1]", out, 5);
	assert_string_equal(out, "aver");
}

static void
test_failure_report(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 out;
	struct queue_dsn_rcpt		 r[3] = {
		{ 0, BOUNCE_ACTION_FAILED, NULL },
		{ 1, BOUNCE_ACTION_FAILED, NULL },
		{ 2, BOUNCE_ACTION_FAILED, NULL },
	};
	uint64_t			 len;
	char				*m;

	assert_int_equal(queue_dsn_make(f->q, "mx.example.org", &f->env,
	    sizeof(MSG) - 1, BOUNCE_FAILURE, r, 3, 1700000100, 0, &out, &len),
	    0);
	/* from <> to the sender, as a message of its own */
	assert_string_equal(out.sender, "");
	assert_int_equal(out.nrcpts, 1);
	assert_string_equal(out.rcpts[0].addr, "alice@example.org");
	assert_int_equal(out.rcpts[0].state, QUEUE_FS_RCPT_PENDING);
	assert_int_equal(out.created, 1700000100);
	m = slurp(f, out.id);
	assert_int_equal(strlen(m), len);
	assert_true(strncmp(m, "Received: by mx.example.org (cachet) id ",
	    40) == 0);
	assert_non_null(strstr(m, "Content-Type: multipart/report; "
	    "report-type=delivery-status;"));
	assert_non_null(strstr(m, "Original-Envelope-Id: ENV-1\r\n"));
	assert_non_null(strstr(m, "Final-Recipient: rfc822; "
	    "bob@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
	    "Remote-MTA: dns; mx1.example.net\r\nDiagnostic-Code: smtp; 550 "
	    "5.1.1 <bob@example.net>: no such user\r\n"));
	/* a temporary error that ran out of time: X.4.7 */
	assert_non_null(strstr(m, "Final-Recipient: rfc822; "
	    "carol@example.net\r\nAction: failed\r\nStatus: 4.4.7\r\n"));
	/* our own words */
	assert_non_null(strstr(m, "Status: 5.2.2\r\nDiagnostic-Code: "
	    "X-Cachet; 5.2.2 Mailbox full\r\n"));
	assert_non_null(strstr(m, "Original-Recipient: rfc822; "
	    "team@example.org\r\n"));
	assert_non_null(strstr(m, "Subject: hello\r\n"));
	free(m);
	queue_fs_envelope_free(&out);
}

static void
test_success_and_delay_reports(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 out;
	struct queue_dsn_rcpt		 r = { 1, BOUNCE_ACTION_DELAYED, NULL };
	struct queue_dsn_rcpt		 s = { 0, BOUNCE_ACTION_RELAYED, NULL };
	uint64_t			 len;
	char				*m;

	assert_int_equal(queue_dsn_make(f->q, "mx.example.org", &f->env,
	    sizeof(MSG) - 1, BOUNCE_DELAY, &r, 1, 1700014400, 1700432000,
	    &out, &len), 0);
	m = slurp(f, out.id);
	assert_non_null(strstr(m, "Action: delayed\r\nStatus: 4.3.0\r\n"));
	assert_non_null(strstr(m, "Will-Retry-Until: "));
	free(m);
	queue_fs_envelope_free(&out);

	assert_int_equal(queue_dsn_make(f->q, "mx.example.org", &f->env,
	    sizeof(MSG) - 1, BOUNCE_SUCCESS, &s, 1, 1700000100, 0, &out, &len),
	    0);
	m = slurp(f, out.id);
	assert_non_null(strstr(m, "Action: relayed\r\nStatus: 2.0.0\r\n"));
	assert_null(strstr(m, "Diagnostic-Code"));
	free(m);
	queue_fs_envelope_free(&out);
}

static void
test_no_report_to_the_null_sender(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 out;
	struct queue_dsn_rcpt		 r = { 0, BOUNCE_ACTION_FAILED, NULL };
	uint64_t			 len;

	free(f->env.sender);
	f->env.sender = xstrdup("");
	assert_int_equal(queue_dsn_make(f->q, "mx.example.org", &f->env,
	    sizeof(MSG) - 1, BOUNCE_FAILURE, &r, 1, 1700000100, 0, &out,
	    &len), -1);
	assert_null(out.sender);
}

/*
 * A report that would pass QUEUE_DSN_MAX lists fewer recipients and
 * says how many more there were, rather than failing (and being tried
 * again and again).
 */
static void
test_huge_report_lists_fewer(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 out;
	struct queue_dsn_rcpt		*r;
	struct queue_fs_rcpt		*rc;
	const size_t			 n = 600;
	size_t				 i, listed = 0;
	uint64_t			 len;
	char				*m, *p, err[7100], want[128];

	(void)snprintf(err, sizeof(err), "550 5.1.1 ");
	memset(err + 10, 'e', 7000);
	err[7010] = '\0';
	rc = realloc(f->env.rcpts, n * sizeof(*rc));
	assert_non_null(rc);
	memset(rc + f->env.nrcpts, 0, (n - f->env.nrcpts) * sizeof(*rc));
	f->env.rcpts = rc;
	r = xcalloc(n, sizeof(*r));
	for (i = 0; i < n; i++) {
		if (i >= f->env.nrcpts) {
			(void)snprintf(want, sizeof(want), "u%zu@example.net",
			    i);
			rc[i].addr = xstrdup(want);
			rc[i].state = QUEUE_FS_RCPT_FAILED;
		}
		free(rc[i].error);
		rc[i].error = xstrdup(err);
		r[i].idx = i;
		r[i].action = BOUNCE_ACTION_FAILED;
	}
	f->env.nrcpts = n;
	assert_int_equal(queue_dsn_make(f->q, "mx.example.org", &f->env,
	    sizeof(MSG) - 1, BOUNCE_FAILURE, r, n, 1700000100, 0, &out, &len),
	    0);
	assert_true(len <= QUEUE_DSN_MAX + 1024);
	m = slurp(f, out.id);
	for (p = m; (p = strstr(p, "Final-Recipient: ")) != NULL; p++)
		listed++;
	assert_true(listed > 0 && listed < n);
	(void)snprintf(want, sizeof(want), "%zu more recipients of this "
	    "message failed too; they are not listed", n - listed);
	assert_non_null(strstr(m, want));
	/* The first ones are those listed. */
	assert_non_null(strstr(m, "Final-Recipient: rfc822; "
	    "bob@example.net\r\n"));
	free(m);
	free(r);
	queue_fs_envelope_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_from_error_texts),
		cmocka_unit_test(test_remote_host),
		cmocka_unit_test_setup_teardown(test_failure_report, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_success_and_delay_reports,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_no_report_to_the_null_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_report_lists_fewer,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
