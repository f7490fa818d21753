/*
 * commit-rate: how many durable queue commits per second this disk
 * gives, with queue_fs exactly as the queue role uses it: create
 * incoming/<id>, write a small message through a copy of the fd (as the
 * smtp role does), then commit one at a time (fdatasync, rename, fsync
 * queue/) or in batches that share one directory fsync.  Also times
 * queue_fs_remove() of everything.  Run it on the disk that will hold
 * the spool, never on tmpfs (check `df DIR`).
 *
 * Build and run (from the top of the tree):
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Isrc/lib -Isrc/queue -o build/commit-rate \
 *       bench/commit_rate.c src/queue/queue_fs.c src/lib/qid.c src/lib/buf.c \
 *       src/lib/util.c src/lib/log.c
 *   ./build/commit-rate /var/tmp/cachet-bench [messages] [message-bytes]
 *
 * Each mode works in a fresh subdirectory of DIR, removed afterwards.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "queue_fs.h"
#include "util.h"

static uint64_t
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double
mono_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
env_fill(struct queue_fs_envelope *e, const char *id)
{
	static struct queue_fs_rcpt	r;

	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, QID_SIZE);
	e->created = (int64_t)(wall_ms() / 1000);
	e->sender = "alice@example.org";
	e->body = QUEUE_FS_BODY_8BITMIME;
	e->helo = "client.example.org";
	e->ip = "192.0.2.1";
	r.addr = "bob@example.net";
	e->rcpts = &r;
	e->nrcpts = 1;
}

/* Create and fill one message the way the smtp role would. */
static int
receive(struct queue_fs *q, const char *msg, size_t len,
    char id[QID_SIZE], int *fd_out)
{
	int	fd, smtpfd;

	if (queue_fs_create(q, wall_ms(), id, &fd) == -1)
		return -1;
	if ((smtpfd = dup(fd)) == -1 || write_full(smtpfd, msg, len) == -1)
		fatal("write");
	close(smtpfd);
	*fd_out = fd;
	return 0;
}

/* Commit n messages in batches of batch (1: queue_fs_commit each). */
static void
run(const char *dir, const char *mode, size_t n, size_t batch,
    const char *msg, size_t len)
{
	struct queue_fs			*q;
	struct queue_fs_envelope	 e;
	struct queue_fs_stats		 st;
	char				 path[1024];
	char				(*ids)[QID_SIZE];
	int				*fds;
	size_t				 i, j, k;
	double				 t0, t1, t2;

	snprintf(path, sizeof(path), "%s/%s", dir, mode);
	if ((q = queue_fs_open(path)) == NULL)
		fatal("queue_fs_open %s", path);
	ids = xcalloc(n, sizeof(*ids));
	fds = xcalloc(batch, sizeof(*fds));
	t0 = mono_s();
	for (i = 0; i < n; i += batch) {
		k = n - i < batch ? n - i : batch;
		for (j = 0; j < k; j++)
			if (receive(q, msg, len, ids[i + j], &fds[j]) == -1)
				fatal("create");
		if (batch == 1) {
			env_fill(&e, ids[i]);
			if (queue_fs_commit(q, fds[0], len, &e) == -1)
				fatal("commit");
			close(fds[0]);
			continue;
		}
		for (j = 0; j < k; j++) {
			env_fill(&e, ids[i + j]);
			if (queue_fs_commit_prepare(q, fds[j], len, &e) == -1)
				fatal("prepare");
		}
		for (j = 0; j < k; j++) {
			if (queue_fs_commit_rename(q, ids[i + j]) == -1)
				fatal("rename");
			close(fds[j]);
		}
		if (queue_fs_sync_dirs(q) == -1)
			fatal("sync");
	}
	t1 = mono_s();
	queue_fs_stats(q, &st);
	for (i = 0; i < n; i++)
		if (queue_fs_remove(q, ids[i]) == -1)
			fatal("remove");
	t2 = mono_s();
	printf("mode=%-8s messages=%zu bytes=%zu batch=%zu commit_s=%.2f "
	    "commits_per_s=%.0f dir_syncs=%llu remove_per_s=%.0f\n", mode, n,
	    len, batch, t1 - t0, (double)n / (t1 - t0),
	    (unsigned long long)st.dir_syncs, (double)n / (t2 - t1));
	fflush(stdout);
	queue_fs_close(q);
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(ids);
	free(fds);
}

int
main(int argc, char *argv[])
{
	static const size_t	 batches[] = { 1, 5, 20, 50 };
	char			*msg, mode[32];
	size_t			 n = 2000, len = 2048, i;

	log_init(true, false);
	log_setproc("commit-rate");
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: commit-rate DIR [messages] [bytes]\n");
		return 2;
	}
	if (argc > 2)
		n = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		len = strtoul(argv[3], NULL, 10);
	if (n == 0 || len == 0)
		fatalx("messages and bytes must be positive");
	if (mkdir_p(argv[1], 0700) == -1)
		fatal("mkdir %s", argv[1]);
	msg = xmalloc(len);
	for (i = 0; i < len; i++)
		msg[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' :
		    (char)('a' + i % 26);
	for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		if (batches[i] == 1)
			snprintf(mode, sizeof(mode), "single");
		else
			snprintf(mode, sizeof(mode), "batch%zu", batches[i]);
		run(argv[1], mode, n, batches[i], msg, len);
	}
	free(msg);
	return 0;
}
