/*
 * qid: queue ids, the name every role uses for a message in the spool
 * (the queue makes them; the mda, the mta and cachetctl carry and check
 * them).  Pure apart from the per-process generator state below.
 */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "qid.h"

#define QID_MS_BITS	44
#define QID_MS_MASK	((UINT64_C(1) << QID_MS_BITS) - 1)
#define QID_SEQ_MAX	0xfff	/* 12-bit sequence */

/*
 * Id generator state.  One per process by nature (the tag must differ
 * between processes), so it lives here rather than in struct queue_fs.
 */
static struct {
	pid_t		pid;
	uint32_t	tag;
	uint64_t	last_ms;
	uint32_t	seq;
} qid_gen;

static void
qid_gen_seed(pid_t pid)
{
	uint32_t	r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)time(NULL) ^ (uint32_t)(uintptr_t)&r;
	r ^= (uint32_t)pid ^ ((uint32_t)pid >> 8) ^ ((uint32_t)pid >> 16);
	qid_gen.tag = r & 0xff;
	qid_gen.pid = pid;
}

void
qid_new(uint64_t now, char out[QID_SIZE])
{
	static const char	 hex[] = "0123456789abcdef";
	pid_t			 pid = getpid();
	uint64_t		 ms, v;
	int			 i;

	/* A forked child must not share its parent's tag. */
	if (qid_gen.pid != pid)
		qid_gen_seed(pid);
	ms = now > QID_MS_MASK ? QID_MS_MASK : now;
	if (ms > qid_gen.last_ms) {
		qid_gen.last_ms = ms;
		qid_gen.seq = 0;
	} else if (++qid_gen.seq > QID_SEQ_MAX) {
		/* Same or earlier millisecond, sequence used up: borrow. */
		qid_gen.last_ms++;
		qid_gen.seq = 0;
	}
	v = (qid_gen.last_ms & QID_MS_MASK) << 20 |
	    (uint64_t)qid_gen.tag << 12 | qid_gen.seq;
	for (i = 0; i < QID_LEN; i++)
		out[i] = hex[(v >> (60 - 4 * i)) & 0xf];
	out[QID_LEN] = '\0';
}

static int
qid_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
qid_valid(const char *s)
{
	int	i;

	if (s == NULL)
		return false;
	/* The scan stops at a NUL, which is not a hex digit. */
	for (i = 0; i < QID_LEN; i++)
		if (qid_hexval(s[i]) == -1)
			return false;
	return s[QID_LEN] == '\0';
}

uint64_t
qid_time(const char *id)
{
	uint64_t	v = 0;
	int		i;

	if (!qid_valid(id))
		return 0;
	for (i = 0; i < QID_LEN; i++)
		v = v << 4 | (uint64_t)qid_hexval(id[i]);
	return v >> 20;
}

