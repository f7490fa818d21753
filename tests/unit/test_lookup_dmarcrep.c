/*
 * Unit tests for lookup_dmarcrep.c: rows recorded from struct msgauth
 * filled by hand (the dmarc module's part), batched (what a second
 * connection sees before and after the commit), the cost of a thousand
 * rows, and `dmarc send` with the queue and the parent on socketpairs:
 * the MSG_QUEUE_INJECT mail read back with dmarcrep.c, its counts those
 * recorded, §7.1's refusal of an unverified external destination (no
 * resolver here), the rows forgotten afterwards; `dmarc reports` on a
 * report mail received.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "conf.h"
#include "dmarcrep.h"
#include "ipc.h"
#include "lookup_dmarcrep.h"
#include "msgauth.h"
#include "proc.h"
#include "util.h"

#define MSGS_MAX	16

struct side {
	struct msg	*msgs[MSGS_MAX];
	size_t		 n;
};

struct fixture {
	char			 dir[64];
	int			 cwd;
	struct event_base	*base;
	struct conf		*conf;
	struct proc_self	 self;
	struct ipc_chan		*far[2];	/* the queue's, the parent's */
	struct side		 queue, parent;
	struct lookup_dmarcrep	*lr;
};

static void
on_msg(struct ipc_chan *c, struct msg *m, void *arg)
{
	struct side	*s = arg;

	(void)c;
	if (s->n < MSGS_MAX)
		s->msgs[s->n++] = m;
	else
		msg_free(m);
}

static void
on_close(struct ipc_chan *c, void *arg)
{
	(void)c;
	(void)arg;
}

static void
side_clear(struct side *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		msg_free(s->msgs[i]);
	s->n = 0;
}

static int
setup(void **state)
{
	struct fixture	*f = xcalloc(1, sizeof(*f));
	int		 sv[2][2], i;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/test_dmarcrep.XXXXXX");
	if (mkdtemp(f->dir) == NULL || (f->cwd = open(".", O_RDONLY)) == -1 ||
	    chdir(f->dir) == -1) {
		free(f);
		return -1;
	}
	f->base = event_base_new();
	f->conf = conf_default();
	(void)str_copy(f->conf->hostname, sizeof(f->conf->hostname),
	    "mx.example.net");
	f->self.base = f->base;
	f->self.conf = f->conf;
	(void)str_copy(f->self.dir_path, sizeof(f->self.dir_path), f->dir);
	for (i = 0; i < 2; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) == -1)
			return -1;
		f->far[i] = ipc_chan_new(f->base, sv[i][1], i == 0 ? "queue" :
		    "parent", on_msg, on_close, i == 0 ? &f->queue :
		    &f->parent);
	}
	f->self.peer[PROC_QUEUE][0] = ipc_chan_new(f->base, sv[0][0],
	    "lookup-queue", on_msg, on_close, NULL);
	f->self.peer[PROC_PARENT][0] = ipc_chan_new(f->base, sv[1][0],
	    "lookup-parent", on_msg, on_close, NULL);
	f->lr = lookup_dmarcrep_new(&f->self, f->conf, NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 path[128];
	static const char *const files[] = { "dmarc.db", "dmarc.db-wal",
	    "dmarc.db-shm" };
	size_t		 i;

	lookup_dmarcrep_flush(f->lr);
	side_clear(&f->queue);
	side_clear(&f->parent);
	ipc_chan_free(f->self.peer[PROC_QUEUE][0]);
	ipc_chan_free(f->self.peer[PROC_PARENT][0]);
	ipc_chan_free(f->far[0]);
	ipc_chan_free(f->far[1]);
	for (i = 0; i < 3; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		(void)unlink(path);
	}
	if (fchdir(f->cwd) == -1)
		return -1;
	(void)close(f->cwd);
	(void)rmdir(f->dir);
	lookup_dmarcrep_free(f->lr);
	event_base_free(f->base);
	conf_free(f->conf);
	free(f);
	return 0;
}

/* Turn the loop until the parent has the answer's end (bounded). */
static void
pump(struct fixture *f, bool want_end)
{
	size_t	i, k;

	for (i = 0; i < 200; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		for (k = 0; want_end && k < f->parent.n; k++)
			if (f->parent.msgs[k]->type == MSG_CTL_END)
				return;
		if (!want_end && i > 20)
			return;
		(void)nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	if (want_end)
		fail_msg("no MSG_CTL_END");
}

static char *rcpts[] = { "bob@example.net" };

/* A message from example.org evaluated as the dmarc module would. */
static void
fill(struct msgauth *m, const char *ip, bool pass)
{
	memset(m, 0, sizeof(*m));
	m->kind = MSGAUTH_MX;
	(void)str_copy(m->ip, sizeof(m->ip), ip);
	(void)str_copy(m->mailfrom, sizeof(m->mailfrom),
	    "bounce@mail.example.org");
	m->rcpts = rcpts;
	m->nrcpts = 1;
	m->spf = pass ? SPF_PASS : SPF_FAIL;
	(void)str_copy(m->spf_identity, sizeof(m->spf_identity), "mailfrom");
	(void)str_copy(m->spf_domain, sizeof(m->spf_domain),
	    "mail.example.org");
	m->ndkim = 1;
	m->dkim[0].result = pass ? MSGAUTH_DKIM_PASS : MSGAUTH_DKIM_FAIL;
	(void)str_copy(m->dkim[0].domain, sizeof(m->dkim[0].domain),
	    "example.org");
	(void)str_copy(m->dkim[0].selector, sizeof(m->dkim[0].selector),
	    "sel1");
	m->dmarc.result = pass ? MSGAUTH_DMARC_PASS : MSGAUTH_DMARC_FAIL;
	(void)str_copy(m->dmarc.from_domain, sizeof(m->dmarc.from_domain),
	    "example.org");
	(void)str_copy(m->dmarc.org_domain, sizeof(m->dmarc.org_domain),
	    "example.org");
	(void)str_copy(m->dmarc.policy_domain,
	    sizeof(m->dmarc.policy_domain), "example.org");
	m->dmarc.policy = MSGAUTH_POLICY_REJECT;
	m->dmarc.spf_aligned = pass;
	m->dmarc.dkim_aligned = pass;
	/* report-only: a failure was not rejected (local_policy) */
	m->dmarc.disposition = MSGAUTH_POLICY_NONE;
	(void)str_copy(m->dmarc.rua, sizeof(m->dmarc.rua),
	    "mailto:dmarc@reports.example.org!10m, "
	    "mailto:agg@thirdparty.example");
}

/* Rows committed, as another connection (a restart) would find them. */
static int64_t
committed(struct fixture *f)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	(void)f;
	assert_int_equal(sqlite3_open_v2("dmarc.db", &db,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM rows",
	    -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
test_record_batches(void **state)
{
	struct fixture	*f = *state;
	struct msgauth	 m;
	size_t		 i;

	fill(&m, "192.0.2.1", true);
	for (i = 0; i < 10; i++)
		lookup_dmarcrep_record(f->lr, &m);
	/* no DMARC record, or none to report to: no row */
	m.dmarc.result = MSGAUTH_DMARC_NONE;
	lookup_dmarcrep_record(f->lr, &m);
	fill(&m, "192.0.2.1", true);
	m.dmarc.rua[0] = '\0';
	lookup_dmarcrep_record(f->lr, &m);
	/* the open batch is not on disk yet: a kill -9 now loses it */
	assert_int_equal(committed(f), 0);
	lookup_dmarcrep_flush(f->lr);
	assert_int_equal(committed(f), 10);
	/* a full batch commits by itself */
	fill(&m, "192.0.2.1", true);
	for (i = 0; i < LOOKUP_DMARCREP_BATCH; i++)
		lookup_dmarcrep_record(f->lr, &m);
	assert_int_equal(committed(f), 10 + LOOKUP_DMARCREP_BATCH);
	/* and so does the timer, after LOOKUP_DMARCREP_FLUSH_MS */
	lookup_dmarcrep_record(f->lr, &m);
	assert_int_equal(committed(f), 10 + LOOKUP_DMARCREP_BATCH);
	for (i = 0; i < 30 && committed(f) == 10 + LOOKUP_DMARCREP_BATCH;
	    i++) {
		(void)nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	assert_int_equal(committed(f), 11 + LOOKUP_DMARCREP_BATCH);
}

static void
test_thousand_and_send(void **state)
{
	struct fixture		*f = *state;
	struct msgauth		 m;
	struct dmarcrep_summary	*s = xcalloc(1, sizeof(*s));
	struct buf		 xml;
	struct timespec		 t0, t1;
	struct span		 data;
	char			 from[400], to[400], line[1024];
	const char		*err;
	char			*argv[] = { "dmarc", "send" };
	size_t			 i, nctl = 0;
	double			 ms;
	bool			 summary = false;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 1000; i++) {
		/* 3 sources; every fifth message fails */
		fill(&m, i % 3 == 0 ? "192.0.2.1" : i % 3 == 1 ?
		    "192.0.2.2" : "2001:db8::7", i % 5 != 0);
		lookup_dmarcrep_record(f->lr, &m);
	}
	lookup_dmarcrep_flush(f->lr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("1000 rows recorded in %.1f ms (%.1f us a row)\n", ms,
	    ms);
	assert_int_equal(committed(f), 1000);

	lookup_dmarcrep_ctl(f->lr, 7, 2, argv);
	pump(f, true);
	/* one mail: the external destination is not verified (§7.1) */
	assert_int_equal(f->queue.n, 1);
	assert_int_equal(f->queue.msgs[0]->type, MSG_QUEUE_INJECT);
	assert_int_equal(msg_get_str(f->queue.msgs[0], from, sizeof(from)),
	    0);
	assert_int_equal(msg_get_str(f->queue.msgs[0], to, sizeof(to)), 0);
	assert_int_equal(msg_get_span(f->queue.msgs[0], &data), 0);
	/* dmarc-report-from's default: postmaster@ the first domain */
	assert_true(f->conf->ndomains > 0);
	assert_int_equal(strncmp(from, "postmaster@", 11), 0);
	assert_string_equal(from + 11, f->conf->domains[0]);
	assert_string_equal(to, "dmarc@reports.example.org");
	buf_init(&xml, DMARCREP_XML_MAX);
	assert_int_equal(dmarcrep_extract(data.ptr, data.len, &xml, &err), 0);
	assert_int_equal(dmarcrep_parse(xml.data, xml.len, s, &err), 0);
	assert_string_equal(s->org, "mx.example.net");
	assert_string_equal(s->domain, "example.org");
	assert_int_equal(s->messages, 1000);
	assert_int_equal(s->fail, 200);
	assert_int_equal(s->pass, 800);
	/* 3 sources x pass/fail */
	assert_int_equal(s->nrecords, 6);
	assert_int_equal(s->nsources, 3);
	assert_non_null(strstr(xml.data, "<type>local_policy</type>"));
	assert_non_null(strstr(xml.data, "<selector>sel1</selector>"));
	assert_non_null(strstr(xml.data, "<envelope_to>example.net"
	    "</envelope_to>"));
	/* the answer names what was sent and what was refused */
	for (i = 0; i < f->parent.n; i++) {
		if (f->parent.msgs[i]->type != MSG_CTL_LINE)
			continue;
		uint64_t	reqid;

		assert_int_equal(msg_get_u64(f->parent.msgs[i], &reqid), 0);
		assert_int_equal(msg_get_str(f->parent.msgs[i], line,
		    sizeof(line)), 0);
		nctl++;
		if (strcmp(line, "1 report queued, 1 destination not "
		    "authorised (RFC 7489 §7.1), 0 too large, 0 failed") == 0)
			summary = true;
	}
	assert_int_equal(nctl, 3);	/* sent, refused, the summary */
	assert_true(summary);
	/* sent rows are forgotten */
	assert_int_equal(committed(f), 0);
	buf_free(&xml);
	free(s);
}

static void
test_received(void **state)
{
	struct fixture	*f = *state;
	char		*argv[] = { "dmarc", "reports", "indemed.com" };
	char		 line[2048], path[256], *data;
	FILE		*fp = NULL;
	size_t		 len, i;
	uint64_t	 reqid;
	bool		 found = false;

	(void)snprintf(path, sizeof(path), "%s/%s", getenv("CACHET_TESTDATA")
	    != NULL ? getenv("CACHET_TESTDATA") : "tests/data",
	    "dmarc/parsedmarc-samples/aggregate/"
	    "fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz");
	/* the fixture moved into its directory: the data is the repo's */
	if (fchdir(f->cwd) == -1 || (fp = fopen(path, "r")) == NULL)
		fail_msg("%s", path);
	if (chdir(f->dir) == -1)
		fail();
	data = xmalloc(1 << 20);
	len = fread(data, 1, 1 << 20, fp);
	(void)fclose(fp);
	assert_int_equal(lookup_dmarcrep_mail(f->lr, data, len), 0);
	assert_int_equal(lookup_dmarcrep_mail(f->lr, "hello", 5), -1);
	free(data);
	lookup_dmarcrep_ctl(f->lr, 9, 3, argv);
	pump(f, true);
	for (i = 0; i < f->parent.n; i++) {
		if (f->parent.msgs[i]->type != MSG_CTL_LINE)
			continue;
		assert_int_equal(msg_get_u64(f->parent.msgs[i], &reqid), 0);
		assert_int_equal(msg_get_str(f->parent.msgs[i], line,
		    sizeof(line)), 0);
		if (strcmp(line, "aggregate org=\"FastMail Pty Ltd\" "
		    "day=2018-01-16 domains=indemed.com reports=1 messages=1 "
		    "pass=0 fail=1 failing=104.195.80.20:1") == 0)
			found = true;
		else
			print_message("%s\n", line);
	}
	assert_true(found);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_batches, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_thousand_and_send, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_received, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
