/*
 * Unit tests for conn_limit.c: the limits hold across the workers of a
 * role (each a view of one table), a local connection counts in the
 * total only, clearing a dead worker's slot gives its places back, a
 * busier worker is told so, bad arguments are refused, and processes
 * racing for the last places stay within the limit (a smoke test: the
 * argument that they always do is in conn_limit.h; the window it closes
 * is too narrow to hit at will).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn_limit.h"

#define RACE_WORKERS	4
#define RACE_ROUNDS	20000
#define RACE_MAX	3

/* Worker w of n over the table on fd (fd stays open for the test). */
static struct conn_limit *
view(int fd, unsigned w, unsigned n)
{
	struct conn_limit	*l;
	const char		*errstr = NULL;

	l = conn_limit_open(fd == -1 ? -1 : dup(fd), w, n, &errstr);
	assert_non_null(l);
	return l;
}

static void
test_total_across_workers(void **state)
{
	int			 fd = conn_limit_create();
	struct conn_limit	*a, *b;

	(void)state;
	assert_true(fd >= 0);
	a = view(fd, 0, 2);
	b = view(fd, 1, 2);
	assert_int_equal(conn_limit_take(a, 1, 3, 100), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(b, 2, 3, 100), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(a, 3, 3, 100), CONN_LIMIT_OK);
	/* Three in the role: the fourth is refused, by either worker. */
	assert_int_equal(conn_limit_take(b, 4, 3, 100), CONN_LIMIT_TOTAL);
	assert_int_equal(conn_limit_take(a, 4, 3, 100), CONN_LIMIT_TOTAL);
	assert_int_equal(conn_limit_total(a), 3);
	assert_int_equal(conn_limit_total(b), 3);
	assert_int_equal(conn_limit_mine(a), 2);
	assert_int_equal(conn_limit_mine(b), 1);
	/* One goes: a place again. */
	conn_limit_give(a, 1);
	assert_int_equal(conn_limit_take(b, 4, 3, 100), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_total(a), 3);
	conn_limit_free(a);
	conn_limit_free(b);
	close(fd);
}

static void
test_per_ip_across_workers(void **state)
{
	int			 fd = conn_limit_create();
	struct conn_limit	*a, *b;

	(void)state;
	a = view(fd, 0, 2);
	b = view(fd, 1, 2);
	assert_int_equal(conn_limit_take(a, 42, 100, 2), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(b, 42, 100, 2), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(a, 42, 100, 2), CONN_LIMIT_PER_IP);
	assert_int_equal(conn_limit_take(b, 42, 100, 2), CONN_LIMIT_PER_IP);
	/* Another address is not affected. */
	assert_int_equal(conn_limit_take(b, 43, 100, 2), CONN_LIMIT_OK);
	/* A refused take leaves nothing behind. */
	assert_int_equal(conn_limit_total(a), 3);
	conn_limit_give(b, 42);
	assert_int_equal(conn_limit_take(a, 42, 100, 2), CONN_LIMIT_OK);
	conn_limit_free(a);
	conn_limit_free(b);
	close(fd);
}

static void
test_local_counts_in_total_only(void **state)
{
	struct conn_limit	*l = view(-1, 0, 1);

	(void)state;
	assert_int_equal(conn_limit_take(l, -1, 2, 1), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(l, -1, 2, 1), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(l, -1, 2, 1), CONN_LIMIT_TOTAL);
	conn_limit_give(l, -1);
	assert_int_equal(conn_limit_take(l, 5, 2, 1), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_total(l), 2);
	conn_limit_free(l);
}

static void
test_reset_gives_back_a_dead_workers_places(void **state)
{
	int			 fd = conn_limit_create();
	struct conn_limit	*a, *b;
	int			 i;

	(void)state;
	a = view(fd, 0, 2);
	b = view(fd, 1, 2);
	for (i = 0; i < 3; i++)
		assert_int_equal(conn_limit_take(b, 9, 4, 3), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(a, 10, 4, 3), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(a, 9, 4, 3), CONN_LIMIT_TOTAL);
	/* Worker 1 died: the parent clears its slot, worker 0's stays. */
	conn_limit_free(b);
	assert_int_equal(conn_limit_reset(fd, 1), 0);
	assert_int_equal(conn_limit_total(a), 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(conn_limit_take(a, 9, 4, 3), CONN_LIMIT_OK);
	assert_int_equal(conn_limit_take(a, 9, 5, 3), CONN_LIMIT_PER_IP);
	assert_int_equal(conn_limit_mine(a), 4);
	assert_int_equal(conn_limit_reset(fd, CONN_LIMIT_WORKERS), -1);
	assert_int_equal(errno, EINVAL);
	conn_limit_free(a);
	close(fd);
}

static void
test_busier_than_an_accepting_sibling(void **state)
{
	int			 fd = conn_limit_create();
	struct conn_limit	*a, *b;

	(void)state;
	a = view(fd, 0, 2);
	b = view(fd, 1, 2);
	conn_limit_accepting(a);
	assert_int_equal(conn_limit_take(a, 1, 10, 10), CONN_LIMIT_OK);
	/* b does not accept (yet): a is not "busier" than it. */
	assert_false(conn_limit_busier(a));
	conn_limit_accepting(b);
	assert_true(conn_limit_busier(a));
	assert_false(conn_limit_busier(b));
	assert_int_equal(conn_limit_take(b, 2, 10, 10), CONN_LIMIT_OK);
	assert_false(conn_limit_busier(a));
	assert_false(conn_limit_busier(b));
	/* A dead worker's mark goes with its slot. */
	assert_int_equal(conn_limit_reset(fd, 1), 0);
	assert_false(conn_limit_busier(a));
	conn_limit_free(a);
	conn_limit_free(b);
	close(fd);
}

static void
test_open_refuses_bad_arguments(void **state)
{
	const char	*errstr = NULL;
	int		 fd;

	(void)state;
	assert_null(conn_limit_open(-1, 0, 0, &errstr));
	assert_non_null(errstr);
	assert_null(conn_limit_open(-1, 2, 2, &errstr));
	assert_null(conn_limit_open(-1, 0, CONN_LIMIT_WORKERS + 1, &errstr));
	/* A descriptor that is not such a table. */
	fd = memfd_create("t", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	errstr = NULL;
	assert_null(conn_limit_open(fd, 0, 1, &errstr));
	assert_non_null(errstr);
	/* The table cannot be shrunk by a worker. */
	fd = conn_limit_create();
	assert_int_equal(ftruncate(fd, 4096), -1);
	close(fd);
}

/*
 * Processes race for RACE_MAX places; each one it gets it holds a moment,
 * counting itself in a shared "admitted" that must never pass RACE_MAX.
 */
static void
test_processes_racing_never_pass_the_limit(void **state)
{
	_Atomic int		*shared;
	struct conn_limit	*l;
	int			 fd = conn_limit_create(), status, i, r;
	unsigned		 w;
	pid_t			 pids[RACE_WORKERS];

	(void)state;
	shared = mmap(NULL, 3 * sizeof(*shared), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shared != MAP_FAILED);
	shared[0] = 0;	/* admitted now */
	shared[1] = 0;	/* over the limit, seen */
	shared[2] = 0;	/* places taken in all */
	for (w = 0; w < RACE_WORKERS; w++) {
		if ((pids[w] = fork()) == 0) {
			l = view(fd, w, RACE_WORKERS);
			for (i = 0; i < RACE_ROUNDS; i++) {
				r = conn_limit_take(l, (int)(i % 2), RACE_MAX,
				    RACE_MAX);
				if (r != CONN_LIMIT_OK)
					continue;
				if (atomic_fetch_add(&shared[0], 1) + 1 >
				    RACE_MAX)
					atomic_fetch_add(&shared[1], 1);
				atomic_fetch_add(&shared[2], 1);
				atomic_fetch_sub(&shared[0], 1);
				conn_limit_give(l, (int)(i % 2));
			}
			_exit(0);
		}
		assert_true(pids[w] > 0);
	}
	for (w = 0; w < RACE_WORKERS; w++) {
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(shared[1], 0);
	/* They did get places, most of the time. */
	assert_true(shared[2] > RACE_WORKERS * RACE_ROUNDS / 4);
	l = view(fd, 0, RACE_WORKERS);
	assert_int_equal(conn_limit_total(l), 0);
	conn_limit_free(l);
	munmap(shared, 3 * sizeof(*shared));
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_total_across_workers),
		cmocka_unit_test(test_per_ip_across_workers),
		cmocka_unit_test(test_local_counts_in_total_only),
		cmocka_unit_test(test_reset_gives_back_a_dead_workers_places),
		cmocka_unit_test(test_busier_than_an_accepting_sibling),
		cmocka_unit_test(test_open_refuses_bad_arguments),
		cmocka_unit_test(test_processes_racing_never_pass_the_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
