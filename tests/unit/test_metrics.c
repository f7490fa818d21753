/*
 * Unit tests for metrics.c: the shared table (a process's own slot,
 * another slot written behind its back, gauges cleared, labels out of
 * range ignored) and the Prometheus rendering (families with HELP and
 * TYPE, listener labels from the config, the latency histogram, and
 * hostile cells that still give a well-formed page).  The table is
 * process-wide, so the tests run in order and look at differences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "conf.h"
#include "metrics.h"
#include "proc.h"
#include "spam.h"

#define PAGE_MAX	(512 * 1024)
#define SLOTS		4

static int	table_fd = -1;

/* The sum of every slot, freshly allocated; caller frees. */
static uint64_t *
sum(void)
{
	uint64_t	*cells = calloc(metrics_cells(), sizeof(uint64_t));

	assert_non_null(cells);
	assert_int_equal(metrics_sum(cells), 0);
	return cells;
}

/* The page for cells under the embedded default config; caller frees. */
static char *
render(const uint64_t *cells, int64_t now)
{
	struct conf	*c = conf_default();
	struct buf	 out;
	char		*s;

	assert_non_null(c);
	buf_init(&out, PAGE_MAX);
	assert_int_equal(metrics_render(cells, c, now, &out), 0);
	s = strndup(out.data, out.len);
	assert_non_null(s);
	buf_free(&out);
	conf_free(c);
	return s;
}

/* The value of the sample line that starts with `name{labels} `. */
static const char *
sample(const char *page, const char *series)
{
	static char	 val[64];
	char		 key[512];
	const char	*p, *e;

	(void)snprintf(key, sizeof(key), "\n%s ", series);
	p = strstr(page, key);
	if (p == NULL)
		return NULL;
	p += strlen(key);
	e = strchr(p, '\n');
	assert_non_null(e);
	assert_true((size_t)(e - p) < sizeof(val));
	memcpy(val, p, (size_t)(e - p));
	val[e - p] = '\0';
	return val;
}

static void
calls_before_a_table_do_nothing(void **state)
{
	uint64_t	cells[1];

	(void)state;
	assert_false(metrics_attached());
	metrics_inc(METRICS_BOUNCED, 0);
	metrics_observe_latency(5);
	assert_int_equal(metrics_sum(cells), -1);
}

static void
own_slot_counts_and_sums(void **state)
{
	uint64_t	*cells;
	char		*page;

	(void)state;
	table_fd = metrics_create(SLOTS, 1);
	assert_true(table_fd >= 0);
	assert_true(metrics_attached());
	metrics_inc(METRICS_CONNECTIONS, 0);
	metrics_inc(METRICS_CONNECTIONS, 0);
	metrics_add(METRICS_SESSIONS, 0, 1);
	metrics_inc(METRICS_RECEIVED, METRICS_SOURCE_SUBMISSION);
	metrics_inc(METRICS_DELIVERED, METRICS_DEST_REMOTE);
	metrics_inc(METRICS_AUTH_FAILURES, metrics_auth_label(PROC_POP3));
	metrics_inc(METRICS_SPAM, SPAM_JUNK);
	metrics_inc(METRICS_RESTARTS, PROC_MTA);
	cells = sum();
	page = render(cells, 0);
	assert_string_equal(sample(page, "cachet_connections_accepted_total"
	    "{kind=\"smtp\",address=\"127.0.0.1:2525\"}"), "2");
	assert_string_equal(sample(page, "cachet_connections_accepted_total"
	    "{kind=\"submission\",address=\"127.0.0.1:2587\"}"), "0");
	assert_string_equal(sample(page, "cachet_sessions_open"
	    "{kind=\"smtp\",address=\"127.0.0.1:2525\"}"), "1");
	assert_string_equal(sample(page, "cachet_messages_received_total"
	    "{listener=\"submission\"}"), "1");
	assert_string_equal(sample(page, "cachet_messages_received_total"
	    "{listener=\"smtp\"}"), "0");
	assert_string_equal(sample(page, "cachet_deliveries_total"
	    "{destination=\"remote\"}"), "1");
	assert_string_equal(sample(page, "cachet_auth_failures_total"
	    "{protocol=\"pop3\"}"), "1");
	assert_string_equal(sample(page, "cachet_spam_verdicts_total"
	    "{verdict=\"junk\"}"), "1");
	assert_string_equal(sample(page, "cachet_role_restarts_total"
	    "{role=\"mta\"}"), "1");
	free(page);
	free(cells);
}

static void
other_slots_are_summed_and_gauges_cleared(void **state)
{
	uint64_t	*before, *after, v = 40;
	char		*page;
	size_t		 i, changed = 0;

	(void)state;
	before = sum();
	/* slot 3, cell 0 (connections of listener 0), as its owner would */
	assert_int_equal(pwrite(table_fd, &v, sizeof(v),
	    (off_t)(3 * metrics_cells() * sizeof(uint64_t))), sizeof(v));
	after = sum();
	assert_int_equal(after[0], before[0] + 40);
	for (i = 0; i < metrics_cells(); i++)
		if (after[i] != before[i])
			changed++;
	assert_int_equal(changed, 1);
	free(after);

	/* our own session gauge goes, our counters stay */
	metrics_clear_gauges(1);
	after = sum();
	assert_int_equal(after[0], before[0] + 40);
	free(before);
	page = render(after, 0);
	assert_string_equal(sample(page, "cachet_sessions_open"
	    "{kind=\"smtp\",address=\"127.0.0.1:2525\"}"), "0");
	free(page);
	free(after);
}

static void
labels_out_of_range_are_ignored(void **state)
{
	uint64_t	*before, *after;

	(void)state;
	before = sum();
	metrics_inc(METRICS_CONNECTIONS, CONF_LISTENS_MAX);
	metrics_inc(METRICS_RECEIVED, METRICS_SOURCES);
	metrics_inc(METRICS_AUTH_FAILURES, metrics_auth_label(PROC_QUEUE));
	metrics_inc(METRICS_FAMILIES, 0);
	after = sum();
	assert_memory_equal(before, after, metrics_cells() * sizeof(uint64_t));
	free(before);
	free(after);
}

static void
tls_versions_have_their_labels(void **state)
{
	uint64_t	*cells;
	char		*page;

	(void)state;
	metrics_tls(METRICS_DIR_IN, "TLSv1.3");
	metrics_tls(METRICS_DIR_IN, "TLSv1.3");
	metrics_tls(METRICS_DIR_OUT, "TLSv1.2");
	metrics_tls(METRICS_DIR_OUT, "SSLv3");
	metrics_tls(METRICS_DIR_OUT, NULL);
	metrics_inc(METRICS_TLS_VERIFY, METRICS_VERIFY_DANE);
	cells = sum();
	page = render(cells, 0);
	assert_string_equal(sample(page, "cachet_tls_sessions_total"
	    "{direction=\"in\",version=\"TLSv1.3\"}"), "2");
	assert_string_equal(sample(page, "cachet_tls_sessions_total"
	    "{direction=\"in\",version=\"TLSv1.2\"}"), "0");
	assert_string_equal(sample(page, "cachet_tls_sessions_total"
	    "{direction=\"out\",version=\"TLSv1.2\"}"), "1");
	assert_string_equal(sample(page, "cachet_tls_sessions_total"
	    "{direction=\"out\",version=\"other\"}"), "2");
	assert_string_equal(sample(page,
	    "cachet_tls_outbound_verification_total{outcome=\"dane\"}"), "1");
	assert_string_equal(sample(page,
	    "cachet_tls_outbound_verification_total{outcome=\"mta-sts\"}"),
	    "0");
	free(page);
	free(cells);
}

static void
latency_histogram_is_cumulative(void **state)
{
	uint64_t	*cells;
	char		*page;

	(void)state;
	metrics_observe_latency(500);		/* le 1 */
	metrics_observe_latency(1000);		/* le 1: bounds are inclusive */
	metrics_observe_latency(3000);		/* le 5 */
	metrics_observe_latency(100000000);	/* past 86400: +Inf only */
	cells = sum();
	page = render(cells, 0);
	assert_string_equal(sample(page,
	    "cachet_delivery_latency_seconds_bucket{le=\"1\"}"), "2");
	assert_string_equal(sample(page,
	    "cachet_delivery_latency_seconds_bucket{le=\"5\"}"), "3");
	assert_string_equal(sample(page,
	    "cachet_delivery_latency_seconds_bucket{le=\"86400\"}"), "3");
	assert_string_equal(sample(page,
	    "cachet_delivery_latency_seconds_bucket{le=\"+Inf\"}"), "4");
	assert_string_equal(sample(page,
	    "cachet_delivery_latency_seconds_count"), "4");
	assert_string_equal(sample(page,
	    "cachet_delivery_latency_seconds_sum"), "100004.500");
	free(page);
	free(cells);
}

static void
queue_gauges_and_ages(void **state)
{
	uint64_t	*cells;
	char		*page;

	(void)state;
	metrics_set(METRICS_QUEUE_MESSAGES, 0, 7);
	metrics_set(METRICS_QUEUE_OLDEST, 0, 1000);
	metrics_set(METRICS_START_TIME, 0, 900);
	cells = sum();
	page = render(cells, 1060);
	assert_string_equal(sample(page, "cachet_queue_messages"), "7");
	assert_string_equal(sample(page,
	    "cachet_queue_oldest_message_age_seconds"), "60");
	assert_string_equal(sample(page, "cachet_start_time_seconds"), "900");
	assert_string_equal(sample(page, "cachet_uptime_seconds"), "160");
	free(page);
	/* a clock behind the times says 0, not a huge number */
	page = render(cells, 500);
	assert_string_equal(sample(page,
	    "cachet_queue_oldest_message_age_seconds"), "0");
	free(page);
	metrics_set(METRICS_QUEUE_OLDEST, 0, 0);
	free(cells);
	cells = sum();
	page = render(cells, 1060);
	assert_string_equal(sample(page,
	    "cachet_queue_oldest_message_age_seconds"), "0");
	free(page);
	free(cells);
}

/* Every family has HELP then TYPE, once, before its samples. */
static void
every_family_is_described(void **state)
{
	static const char *const fams[][2] = {
		{ "cachet_connections_accepted_total", "counter" },
		{ "cachet_sessions_open", "gauge" },
		{ "cachet_messages_received_total", "counter" },
		{ "cachet_deliveries_total", "counter" },
		{ "cachet_recipients_bounced_total", "counter" },
		{ "cachet_recipients_deferred_total", "counter" },
		{ "cachet_queue_messages", "gauge" },
		{ "cachet_queue_oldest_message_age_seconds", "gauge" },
		{ "cachet_delivery_latency_seconds", "histogram" },
		{ "cachet_tls_sessions_total", "counter" },
		{ "cachet_tls_outbound_verification_total", "counter" },
		{ "cachet_auth_failures_total", "counter" },
		{ "cachet_spam_verdicts_total", "counter" },
		{ "cachet_role_restarts_total", "counter" },
		{ "cachet_start_time_seconds", "gauge" },
		{ "cachet_uptime_seconds", "gauge" },
	};
	uint64_t	*cells = calloc(metrics_cells(), sizeof(uint64_t));
	char		*page, key[256];
	const char	*help, *type, *first;
	size_t		 i;

	(void)state;
	assert_non_null(cells);
	page = render(cells, 0);
	assert_true(strncmp(page, "# HELP ", 7) == 0);
	assert_int_equal(page[strlen(page) - 1], '\n');
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		(void)snprintf(key, sizeof(key), "# HELP %s ", fams[i][0]);
		help = strstr(page, key);
		assert_non_null(help);
		assert_null(strstr(help + 1, key));
		(void)snprintf(key, sizeof(key), "\n# TYPE %s %s\n",
		    fams[i][0], fams[i][1]);
		type = strstr(page, key);
		assert_non_null(type);
		assert_true(type > help);
		(void)snprintf(key, sizeof(key), "\n%s", fams[i][0]);
		first = strstr(type + 1, key);
		assert_non_null(first);
	}
	/* the http role's own listeners have no connection counts */
	assert_null(strstr(page, "kind=\"https\""));
	assert_null(strstr(page, "kind=\"metrics\""));
	free(page);
	free(cells);
}

/*
 * Whatever a compromised role wrote: numbers, buckets that never go
 * down, and nothing else.
 */
static void
hostile_cells_render_well_formed(void **state)
{
	uint64_t	*cells = malloc(metrics_cells() * sizeof(uint64_t));
	char		*page, key[128];
	const char	*v;
	unsigned long long prev = 0, n;
	static const char *const les[] = { "1", "5", "10", "30", "60", "300",
	    "900", "3600", "14400", "86400", "+Inf" };
	size_t		 i;

	(void)state;
	assert_non_null(cells);
	memset(cells, 0xff, metrics_cells() * sizeof(uint64_t));
	cells[0] = 0x7fffffffffffffffull;
	page = render(cells, 100);
	for (i = 0; i < sizeof(les) / sizeof(les[0]); i++) {
		(void)snprintf(key, sizeof(key), "cachet_delivery_latency_"
		    "seconds_bucket{le=\"%s\"}", les[i]);
		v = sample(page, key);
		assert_non_null(v);
		n = strtoull(v, NULL, 10);
		assert_true(n >= prev);
		prev = n;
	}
	assert_string_equal(sample(page, "cachet_connections_accepted_total"
	    "{kind=\"smtp\",address=\"127.0.0.1:2525\"}"),
	    "9223372036854775807");
	assert_string_equal(sample(page, "cachet_sessions_open"
	    "{kind=\"smtp\",address=\"127.0.0.1:2525\"}"), "-1");
	assert_string_equal(sample(page, "cachet_uptime_seconds"), "0");
	free(page);
	free(cells);
}

static void
listener_addresses_are_escaped(void **state)
{
	struct conf	*c = conf_default();
	uint64_t	*cells = calloc(metrics_cells(), sizeof(uint64_t));
	struct buf	 out;

	(void)state;
	assert_non_null(c);
	assert_non_null(cells);
	(void)snprintf(c->listens[0].text, sizeof(c->listens[0].text),
	    "a\"b\\c\nd");
	buf_init(&out, PAGE_MAX);
	assert_int_equal(metrics_render(cells, c, 0, &out), 0);
	assert_non_null(strstr(out.data,
	    "{kind=\"smtp\",address=\"a\\\"b\\\\c\\nd\"} 0\n"));
	buf_free(&out);
	conf_free(c);
	free(cells);
}

static void
too_small_a_buffer_is_an_error(void **state)
{
	struct conf	*c = conf_default();
	uint64_t	*cells = calloc(metrics_cells(), sizeof(uint64_t));
	struct buf	 out;

	(void)state;
	assert_non_null(cells);
	buf_init(&out, 512);
	assert_int_equal(metrics_render(cells, c, 0, &out), -1);
	buf_free(&out);
	conf_free(c);
	free(cells);
}

static void
role_names_are_proc_names(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < PROC_COUNT; i++)
		assert_string_equal(metrics_role_name((enum proc_id)i),
		    proc_name((enum proc_id)i));
	assert_string_equal(metrics_role_name(PROC_COUNT), "unknown");
}

static void
a_table_is_refused_twice_and_checked(void **state)
{
	const char	*errstr = NULL;
	int		 fd;

	(void)state;
	assert_true((fd = dup(table_fd)) >= 0);
	assert_int_equal(metrics_attach(fd, 0, &errstr), -1);
	assert_non_null(errstr);
	assert_int_equal(metrics_create(2, 2), -1);
	assert_int_equal(metrics_create(0, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(calls_before_a_table_do_nothing),
		cmocka_unit_test(own_slot_counts_and_sums),
		cmocka_unit_test(other_slots_are_summed_and_gauges_cleared),
		cmocka_unit_test(labels_out_of_range_are_ignored),
		cmocka_unit_test(tls_versions_have_their_labels),
		cmocka_unit_test(latency_histogram_is_cumulative),
		cmocka_unit_test(queue_gauges_and_ages),
		cmocka_unit_test(every_family_is_described),
		cmocka_unit_test(hostile_cells_render_well_formed),
		cmocka_unit_test(listener_addresses_are_escaped),
		cmocka_unit_test(too_small_a_buffer_is_an_error),
		cmocka_unit_test(role_names_are_proc_names),
		cmocka_unit_test(a_table_is_refused_twice_and_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
