/*
 * pool: a fixed set of worker threads beside a role's event loop, for
 * work that blocks (password hashing in lookup, write+fsync of messages
 * in mda).  The loop thread hands jobs over with pool_submit(); a worker
 * runs job->run, then the loop thread is woken through an eventfd and
 * runs job->done.  Jobs finish in any order.
 *
 * Workers touch only their job and their own local state (what
 * local_init returned for them): no libevent, no logging, no role
 * state.  Everything else stays in the loop thread.
 */
#ifndef CACHET_POOL_H
#define CACHET_POOL_H

#include <stddef.h>

struct event_base;

struct pool_job {
	struct pool_job	*next;		/* the pool's list */
	/* In a worker thread, with that worker's local state. */
	void		(*run)(struct pool_job *job, void *local);
	/* Back in the loop thread, once run has returned. */
	void		(*done)(struct pool_job *job);
};

#define POOL_WORKERS_MAX	64

struct pool;

/*
 * Start nworkers threads (1..POOL_WORKERS_MAX) serving base's loop.
 * local_init (may be NULL) runs in the calling thread once per worker,
 * i from 0, before that worker starts; what it returns is the worker's
 * local state.  Workers block every signal.  Failure is fatal: a role
 * cannot work without its pool.  name is for the fatal message.
 */
struct pool	*pool_start(struct event_base *base, const char *name,
		    size_t nworkers, void *(*local_init)(size_t i, void *arg),
		    void *arg);

/* Queue job for the next free worker; the caller keeps owning job. */
void		 pool_submit(struct pool *pool, struct pool_job *job);

/*
 * Jobs submitted whose done has not been called yet (loop thread only);
 * inside a done callback, that job no longer counts.
 */
size_t		 pool_pending(const struct pool *pool);

/* Workers in the pool. */
size_t		 pool_size(const struct pool *pool);

/*
 * Stop the workers (each finishes the job it runs; jobs still waiting
 * are not run, and no done runs any more) and free the pool.  For tests
 * and orderly exits; NULL is a no-op.
 */
void		 pool_stop(struct pool *pool);

#endif
