/*
 * pool: worker threads beside an event loop (pool.h).  Two lists under
 * one mutex: todo (submitted, not yet taken by a worker) and done (run,
 * waiting for the loop thread).  A worker that finishes a job writes to
 * an eventfd; the loop thread empties the done list and calls each
 * job's done callback.
 */
#include <sys/types.h>
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "pool.h"
#include "util.h"

struct pool_worker {
	struct pool	*pool;
	void		*local;
	pthread_t	 tid;
};

struct pool {
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	struct pool_job		*todo_head, *todo_tail;	/* under mtx */
	struct pool_job		*done_head, *done_tail;	/* under mtx */
	bool			 stop;			/* under mtx */
	int			 efd;
	struct event		*ev_done;
	size_t			 pending;	/* loop thread only */
	size_t			 nworkers;
	struct pool_worker	 workers[];
};

static void
pool_append(struct pool_job **head, struct pool_job **tail,
    struct pool_job *job)
{
	job->next = NULL;
	if (*tail != NULL)
		(*tail)->next = job;
	else
		*head = job;
	*tail = job;
}

static void *
pool_worker_main(void *arg)
{
	struct pool_worker	*w = arg;
	struct pool		*p = w->pool;
	struct pool_job		*job;
	uint64_t		 one = 1;

	for (;;) {
		pthread_mutex_lock(&p->mtx);
		while (p->todo_head == NULL && !p->stop)
			pthread_cond_wait(&p->cond, &p->mtx);
		if (p->stop) {
			pthread_mutex_unlock(&p->mtx);
			return NULL;
		}
		job = p->todo_head;
		if ((p->todo_head = job->next) == NULL)
			p->todo_tail = NULL;
		pthread_mutex_unlock(&p->mtx);

		job->run(job, w->local);

		pthread_mutex_lock(&p->mtx);
		pool_append(&p->done_head, &p->done_tail, job);
		pthread_mutex_unlock(&p->mtx);
		/*
		 * Wake the loop.  A full counter (EAGAIN) still means a
		 * wakeup is pending, which is all that is needed.
		 */
		(void)write_full(p->efd, &one, sizeof(one));
	}
}

static void
pool_wake(evutil_socket_t fd, short what, void *arg)
{
	struct pool	*p = arg;
	struct pool_job	*list, *job;
	uint64_t	 v;

	(void)what;
	if (read(fd, &v, sizeof(v)) == -1 && errno != EAGAIN)
		log_warn("pool: eventfd read");
	pthread_mutex_lock(&p->mtx);
	list = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mtx);
	while ((job = list) != NULL) {
		list = job->next;
		job->next = NULL;
		p->pending--;
		/* done may free job, or submit it again. */
		job->done(job);
	}
}

struct pool *
pool_start(struct event_base *base, const char *name, size_t nworkers,
    void *(*local_init)(size_t, void *), void *arg)
{
	struct pool	*p;
	sigset_t	 all, saved;
	size_t		 i;
	int		 e;

	if (nworkers == 0 || nworkers > POOL_WORKERS_MAX)
		fatalx("%s: %zu workers", name, nworkers);
	p = xcalloc(1, sizeof(*p) + nworkers * sizeof(p->workers[0]));
	p->nworkers = nworkers;
	if ((p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("%s: eventfd", name);
	if ((p->ev_done = event_new(base, p->efd, EV_READ | EV_PERSIST,
	    pool_wake, p)) == NULL || event_add(p->ev_done, NULL) == -1)
		fatalx("%s: event_new", name);
	if ((e = pthread_mutex_init(&p->mtx, NULL)) != 0 ||
	    (e = pthread_cond_init(&p->cond, NULL)) != 0) {
		errno = e;
		fatal("%s: pthread init", name);
	}
	/* Signals belong to the loop thread; workers block them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	for (i = 0; i < nworkers; i++) {
		p->workers[i].pool = p;
		p->workers[i].local = local_init != NULL ?
		    local_init(i, arg) : NULL;
		if ((e = pthread_create(&p->workers[i].tid, NULL,
		    pool_worker_main, &p->workers[i])) != 0) {
			errno = e;
			fatal("%s: pthread_create", name);
		}
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return p;
}

void
pool_submit(struct pool *p, struct pool_job *job)
{
	p->pending++;
	pthread_mutex_lock(&p->mtx);
	pool_append(&p->todo_head, &p->todo_tail, job);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mtx);
}

size_t
pool_pending(const struct pool *p)
{
	return p->pending;
}

size_t
pool_size(const struct pool *p)
{
	return p->nworkers;
}

void
pool_stop(struct pool *p)
{
	size_t	i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mtx);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mtx);
	for (i = 0; i < p->nworkers; i++)
		(void)pthread_join(p->workers[i].tid, NULL);
	event_free(p->ev_done);
	close(p->efd);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mtx);
	free(p);
}
