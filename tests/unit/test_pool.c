/*
 * Unit tests for pool.c: every job runs once in a worker and comes back
 * once to the loop thread, workers really run side by side, each worker
 * has its own local state, a done callback may submit again, and
 * pool_stop() joins everything.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "pool.h"

struct tjob {
	struct pool_job	 pj;		/* first */
	pthread_t	 ran_in;
	void		*local;
	int		 runs;
	int		 dones;
	int		 again;		/* times done submits it again */
	struct pool	*pool;
	bool		 done_in_loop;
};

static pthread_t	 loop_thread;
static size_t		 done_total;
static struct event_base *base;

/* A meeting point: run by several workers at once or never finishes. */
static pthread_mutex_t	 meet_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 meet_cond = PTHREAD_COND_INITIALIZER;
static size_t		 meet_count, meet_want;
static bool		 meet_timed_out;

static void
tjob_run(struct pool_job *pj, void *local)
{
	struct tjob	*j = (struct tjob *)pj;

	j->ran_in = pthread_self();
	j->local = local;
	j->runs++;
}

static void
tjob_done(struct pool_job *pj)
{
	struct tjob	*j = (struct tjob *)pj;

	j->dones++;
	j->done_in_loop = pthread_equal(pthread_self(), loop_thread);
	done_total++;
	if (j->again > 0) {
		j->again--;
		pool_submit(j->pool, &j->pj);
	}
}

static void
meet_run(struct pool_job *pj, void *local)
{
	struct timespec	 until;

	tjob_run(pj, local);
	(void)clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&meet_mtx);
	meet_count++;
	pthread_cond_broadcast(&meet_cond);
	while (meet_count < meet_want)
		if (pthread_cond_timedwait(&meet_cond, &meet_mtx,
		    &until) == ETIMEDOUT) {
			meet_timed_out = true;
			break;
		}
	pthread_mutex_unlock(&meet_mtx);
}

static void *
local_of(size_t i, void *arg)
{
	return (char *)arg + i;
}

/* Run the loop until want done callbacks ran (or 20 s passed). */
static void
loop_until(size_t want)
{
	struct timeval	tv = { 0, 10000 };
	int		i;

	for (i = 0; i < 2000 && done_total < want; i++) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(done_total, want);
}

static int
setup(void **state)
{
	(void)state;
	loop_thread = pthread_self();
	done_total = 0;
	base = event_base_new();
	return base == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	event_base_free(base);
	return 0;
}

static void
test_every_job_once(void **state)
{
	static char	 locals[4];
	struct pool	*p;
	struct tjob	*jobs;
	size_t		 i, n = 1000;

	(void)state;
	p = pool_start(base, "test", 4, local_of, locals);
	assert_int_equal(pool_size(p), 4);
	jobs = calloc(n, sizeof(*jobs));
	assert_non_null(jobs);
	for (i = 0; i < n; i++) {
		jobs[i].pj.run = tjob_run;
		jobs[i].pj.done = tjob_done;
		pool_submit(p, &jobs[i].pj);
	}
	assert_int_equal(pool_pending(p), n);
	loop_until(n);
	assert_int_equal(pool_pending(p), 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(jobs[i].runs, 1);
		assert_int_equal(jobs[i].dones, 1);
		assert_true(jobs[i].done_in_loop);
		assert_false(pthread_equal(jobs[i].ran_in, loop_thread));
		/* Its worker's own local state, one of the four. */
		assert_true((char *)jobs[i].local >= locals &&
		    (char *)jobs[i].local < locals + 4);
	}
	pool_stop(p);
	free(jobs);
}

static void
test_workers_run_side_by_side(void **state)
{
	struct pool	*p;
	struct tjob	 jobs[4];
	size_t		 i, k;

	(void)state;
	memset(jobs, 0, sizeof(jobs));
	meet_count = 0;
	meet_want = 4;
	meet_timed_out = false;
	p = pool_start(base, "test", 4, NULL, NULL);
	for (i = 0; i < 4; i++) {
		jobs[i].pj.run = meet_run;
		jobs[i].pj.done = tjob_done;
		pool_submit(p, &jobs[i].pj);
	}
	loop_until(4);
	/* Each waited for all four to be running at once. */
	assert_false(meet_timed_out);
	for (i = 0; i < 4; i++)
		for (k = i + 1; k < 4; k++)
			assert_false(pthread_equal(jobs[i].ran_in,
			    jobs[k].ran_in));
	assert_null(jobs[0].local);
	pool_stop(p);
}

static void
test_done_may_submit_again(void **state)
{
	struct pool	*p;
	struct tjob	 job;

	(void)state;
	memset(&job, 0, sizeof(job));
	p = pool_start(base, "test", 1, NULL, NULL);
	job.pj.run = tjob_run;
	job.pj.done = tjob_done;
	job.again = 5;
	job.pool = p;
	pool_submit(p, &job.pj);
	loop_until(6);
	assert_int_equal(job.runs, 6);
	assert_int_equal(job.dones, 6);
	assert_int_equal(pool_pending(p), 0);
	pool_stop(p);
}

static void
test_stop_idle_and_null(void **state)
{
	(void)state;
	pool_stop(pool_start(base, "test", POOL_WORKERS_MAX, NULL, NULL));
	pool_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_job_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_workers_run_side_by_side,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_may_submit_again,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_idle_and_null,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
