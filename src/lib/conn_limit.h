/*
 * conn_limit: the connection counts of a role that runs several worker
 * processes (smtp, pop3, imap), kept in one table of shared memory so
 * that max-connections and max-connections-per-ip hold for the role as a
 * whole, not per process.
 *
 * The parent makes the table (a memfd) and hands every worker of the
 * role a descriptor of it; each worker maps it.  Each worker counts in a
 * slot of its own (its connections in total and per client address hash)
 * and reads every worker's slot to decide, so that when a worker dies the
 * parent clears that one slot before it starts the worker again and no
 * count outlives the connections it counted (they died with the process).
 *
 * Taking a place is "add to my slot, then sum all slots, and give it back
 * when the sum is over the limit": with sequentially consistent atomics
 * the last of any max+1 concurrent takers sees all of them, so the limit
 * is never passed; two takers racing for the last place may both be
 * refused (the next connection gets it).
 *
 * Runs in the worker roles (take, give) and the parent (create, reset);
 * the parent never reads the table, so a worker that scribbles on it
 * can only spoil its own role's limits.
 */
#ifndef CACHET_CONN_LIMIT_H
#define CACHET_CONN_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_LIMIT_WORKERS	64	/* slots: workers of one role */
#define CONN_LIMIT_IP_SLOTS	4096	/* client address hashes */

struct conn_limit;

/* Why conn_limit_take() refused. */
enum conn_limit_refusal {
	CONN_LIMIT_OK,
	CONN_LIMIT_TOTAL,	/* the role has max connections */
	CONN_LIMIT_PER_IP,	/* the address has its maximum */
};

/*
 * Parent: a new, zeroed table; returns its descriptor (close-on-exec),
 * or -1 with errno.
 */
int	conn_limit_create(void);
/*
 * Parent: clear worker's slot of the table on fd (the worker is dead and
 * its connections with it).  Returns 0, or -1 with errno.
 */
int	conn_limit_reset(int fd, unsigned worker);

/*
 * Worker: map the table on fd (the descriptor is closed) as worker
 * `worker` of `nworkers`.  fd -1 gives a table of this process alone
 * (one worker).  NULL with *errstr_out on failure.
 */
struct conn_limit	*conn_limit_open(int fd, unsigned worker,
			    unsigned nworkers, const char **errstr_out);
void			 conn_limit_free(struct conn_limit *);

/*
 * Take a place for a connection from the address hashed to ip_slot (<
 * CONN_LIMIT_IP_SLOTS), or from a local socket (ip_slot < 0: counted in
 * the total only), within max_total and max_per_ip for the whole role.
 * CONN_LIMIT_OK means taken: give it back with conn_limit_give().
 */
enum conn_limit_refusal	 conn_limit_take(struct conn_limit *,
			    int ip_slot, size_t max_total, size_t max_per_ip);
void			 conn_limit_give(struct conn_limit *, int ip_slot);

/* The role's connections now, all workers (a moment's sum). */
size_t			 conn_limit_total(const struct conn_limit *);
/* This worker's connections now. */
size_t			 conn_limit_mine(const struct conn_limit *);
/*
 * True when this worker holds more connections than another worker that
 * is accepting: a new connection is better served there (conn.c leaves
 * it to that worker for a moment).  Workers mark themselves accepting
 * with conn_limit_accepting(); a dead worker's mark goes with its slot.
 */
bool			 conn_limit_busier(const struct conn_limit *);
void			 conn_limit_accepting(struct conn_limit *);
/*
 * How many connections the other workers have taken off the listeners
 * (a counter that wraps): when it moves, they are taking what this
 * worker left to them.
 */
uint32_t		 conn_limit_progress(const struct conn_limit *);

#endif
