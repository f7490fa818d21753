/*
 * conn_limit: connection counts shared by the workers of one role
 * (conn_limit.h).  The table is a sealed memfd: a page of per-worker
 * totals, "accepting" marks and counts of connections taken, then one
 * page-aligned array of per-address counts per worker.  Only worker w
 * writes slot w while it lives; the parent clears slot w with pwrite()
 * once worker w is dead.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn_limit.h"
#include "util.h"

#define CONN_LIMIT_PAGE		4096

struct conn_limit_head {
	_Atomic uint32_t	total[CONN_LIMIT_WORKERS];
	_Atomic uint32_t	accepting[CONN_LIMIT_WORKERS];
	_Atomic uint32_t	taken[CONN_LIMIT_WORKERS];	/* wraps */
};

struct conn_limit_slot {
	_Atomic uint32_t	per_ip[CONN_LIMIT_IP_SLOTS];
};

_Static_assert(sizeof(struct conn_limit_head) <= CONN_LIMIT_PAGE,
    "the head fits its page");
_Static_assert(sizeof(struct conn_limit_slot) % CONN_LIMIT_PAGE == 0,
    "slots are page-aligned");

#define CONN_LIMIT_SIZE	(CONN_LIMIT_PAGE + \
	    CONN_LIMIT_WORKERS * sizeof(struct conn_limit_slot))

struct conn_limit {
	void			*map;
	struct conn_limit_head	*head;
	struct conn_limit_slot	*slots;
	unsigned		 worker;
	unsigned		 nworkers;
};

int
conn_limit_create(void)
{
	int	fd, save;

	if ((fd = memfd_create("cachet-conn", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	/* A worker must not be able to shrink it under its siblings. */
	if (ftruncate(fd, (off_t)CONN_LIMIT_SIZE) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) == -1) {
		save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	return fd;
}

int
conn_limit_reset(int fd, unsigned worker)
{
	static const char	zero[sizeof(struct conn_limit_slot)];
	off_t			off;

	if (worker >= CONN_LIMIT_WORKERS) {
		errno = EINVAL;
		return -1;
	}
	off = (off_t)(offsetof(struct conn_limit_head, total) +
	    worker * sizeof(uint32_t));
	if (pwrite(fd, zero, sizeof(uint32_t), off) != sizeof(uint32_t))
		return -1;
	off = (off_t)(offsetof(struct conn_limit_head, accepting) +
	    worker * sizeof(uint32_t));
	if (pwrite(fd, zero, sizeof(uint32_t), off) != sizeof(uint32_t))
		return -1;
	off = (off_t)(offsetof(struct conn_limit_head, taken) +
	    worker * sizeof(uint32_t));
	if (pwrite(fd, zero, sizeof(uint32_t), off) != sizeof(uint32_t))
		return -1;
	off = (off_t)(CONN_LIMIT_PAGE + worker * sizeof(zero));
	if (pwrite(fd, zero, sizeof(zero), off) != (ssize_t)sizeof(zero))
		return -1;
	return 0;
}

struct conn_limit *
conn_limit_open(int fd, unsigned worker, unsigned nworkers,
    const char **errstr_out)
{
	struct conn_limit	*l;
	struct stat		 st;
	void			*map;

	if (nworkers == 0 || nworkers > CONN_LIMIT_WORKERS ||
	    worker >= nworkers) {
		*errstr_out = "bad worker number";
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (fd == -1)
		map = mmap(NULL, CONN_LIMIT_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	else if (fstat(fd, &st) == -1 ||
	    (size_t)st.st_size != CONN_LIMIT_SIZE) {
		*errstr_out = "connection table of the wrong size";
		close(fd);
		return NULL;
	} else {
		map = mmap(NULL, CONN_LIMIT_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
		close(fd);
	}
	if (map == MAP_FAILED) {
		*errstr_out = "cannot map the connection table";
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->map = map;
	l->head = map;
	l->slots = (struct conn_limit_slot *)((char *)map + CONN_LIMIT_PAGE);
	l->worker = worker;
	l->nworkers = nworkers;
	return l;
}

void
conn_limit_free(struct conn_limit *l)
{
	if (l == NULL)
		return;
	(void)munmap(l->map, CONN_LIMIT_SIZE);
	free(l);
}

size_t
conn_limit_total(const struct conn_limit *l)
{
	size_t		n = 0;
	unsigned	w;

	for (w = 0; w < l->nworkers; w++)
		n += atomic_load(&l->head->total[w]);
	return n;
}

size_t
conn_limit_mine(const struct conn_limit *l)
{
	return atomic_load(&l->head->total[l->worker]);
}

static size_t
conn_limit_per_ip(const struct conn_limit *l, int ip_slot)
{
	size_t		n = 0;
	unsigned	w;

	for (w = 0; w < l->nworkers; w++)
		n += atomic_load(&l->slots[w].per_ip[ip_slot]);
	return n;
}

enum conn_limit_refusal
conn_limit_take(struct conn_limit *l, int ip_slot, size_t max_total,
    size_t max_per_ip)
{
	_Atomic uint32_t	*mine = &l->head->total[l->worker];
	_Atomic uint32_t	*mine_ip = NULL;

	if (ip_slot >= CONN_LIMIT_IP_SLOTS)
		ip_slot = -1;	/* a caller's bug: count it as local */
	atomic_fetch_add(&l->head->taken[l->worker], 1);
	/* Reserve first, then look: see conn_limit.h. */
	atomic_fetch_add(mine, 1);
	if (ip_slot >= 0) {
		mine_ip = &l->slots[l->worker].per_ip[ip_slot];
		atomic_fetch_add(mine_ip, 1);
	}
	if (conn_limit_total(l) > max_total) {
		conn_limit_give(l, ip_slot);
		return CONN_LIMIT_TOTAL;
	}
	if (mine_ip != NULL && conn_limit_per_ip(l, ip_slot) > max_per_ip) {
		conn_limit_give(l, ip_slot);
		return CONN_LIMIT_PER_IP;
	}
	return CONN_LIMIT_OK;
}

void
conn_limit_give(struct conn_limit *l, int ip_slot)
{
	_Atomic uint32_t	*c;

	if (ip_slot >= CONN_LIMIT_IP_SLOTS)
		ip_slot = -1;
	c = &l->head->total[l->worker];
	if (atomic_load(c) > 0)
		atomic_fetch_sub(c, 1);
	if (ip_slot < 0)
		return;
	c = &l->slots[l->worker].per_ip[ip_slot];
	if (atomic_load(c) > 0)
		atomic_fetch_sub(c, 1);
}

uint32_t
conn_limit_progress(const struct conn_limit *l)
{
	uint32_t	n = 0;
	unsigned	w;

	for (w = 0; w < l->nworkers; w++)
		if (w != l->worker)
			n += atomic_load(&l->head->taken[w]);
	return n;
}

void
conn_limit_accepting(struct conn_limit *l)
{
	atomic_store(&l->head->accepting[l->worker], 1);
}

bool
conn_limit_busier(const struct conn_limit *l)
{
	uint32_t	mine = atomic_load(&l->head->total[l->worker]);
	unsigned	w;

	for (w = 0; w < l->nworkers; w++)
		if (w != l->worker && atomic_load(&l->head->accepting[w]) &&
		    atomic_load(&l->head->total[w]) < mine)
			return true;
	return false;
}
