/*
 * pop3-load: the client side of bench/pop3.  N threads, one per user,
 * each logs in (USER/PASS in the clear, loopback only), reads STAT, sends
 * RETR for every message and reads each answer to its final ".", then
 * QUIT.  With --window W it keeps up to W RETRs in flight (RFC 2449
 * PIPELINING); with 1 it waits for each message, as fetchmail and poplib
 * do.  Logging in (a password hash each) is not what is measured: once
 * every client is logged in it prints "ready" and waits for a line on
 * its standard input (the script samples the servers' CPU time then),
 * and the clock runs from there to the last QUIT.  Prints one line:
 * messages, octets received, the seconds the logins took, the seconds
 * of the retrieval, and a checksum of every message's bytes, so the
 * script can tell that two servers sent the same thing.
 *
 * Build (the script does): cc -O2 -pthread -o pop3-load bench/pop3_load.c
 * Run: pop3-load HOST PORT PASSWORD WINDOW USER... (then a line in)
 * Exits 1 on any protocol error, with the reason on stderr.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOAD_BUF	(256 * 1024)
#define LOAD_USERS_MAX	256

struct load_client {
	pthread_t	 tid;
	const char	*user;
	int		 fd;
	char		*buf;
	size_t		 len;		/* bytes in buf */
	size_t		 off;		/* parse position */
	uint64_t	 messages;
	uint64_t	 octets;
	uint64_t	 sum;		/* order-independent checksum */
	bool		 passed_ready;
	char		 err[256];
};

static const char	*load_host, *load_pass;
static int		 load_port, load_window;
static pthread_barrier_t load_barrier;	/* all started */
static pthread_barrier_t load_ready;	/* all logged in */
static pthread_barrier_t load_go;	/* the script said go */

static int
load_fail(struct load_client *c, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int
load_fill(struct load_client *c)
{
	ssize_t	n;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == LOAD_BUF)
		return load_fail(c, "line longer than the buffer");
	do
		n = read(c->fd, c->buf + c->len, LOAD_BUF - c->len);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return load_fail(c, "read: %s", n == 0 ? "connection closed" :
		    strerror(errno));
	c->len += (size_t)n;
	return 0;
}

/* The next line, without its CRLF, into *line (valid until next read). */
static int
load_line(struct load_client *c, const char **line, size_t *linelen)
{
	char	*lf;

	while ((lf = memchr(c->buf + c->off, '\n', c->len - c->off)) == NULL)
		if (load_fill(c) == -1)
			return -1;
	*line = c->buf + c->off;
	*linelen = (size_t)(lf - (c->buf + c->off));
	if (*linelen > 0 && lf[-1] == '\r')
		(*linelen)--;
	c->off = (size_t)(lf - c->buf) + 1;
	return 0;
}

static int
load_send(struct load_client *c, const char *s, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(c->fd, s, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return load_fail(c, "write: %s", strerror(errno));
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
load_ok(struct load_client *c, const char *what)
{
	const char	*line;
	size_t		 len;

	if (load_line(c, &line, &len) == -1)
		return -1;
	if (len < 3 || memcmp(line, "+OK", 3) != 0)
		return load_fail(c, "%s: %.*s", what, (int)len, line);
	return 0;
}

/*
 * A line into the running hash, eight bytes at a time (FNV-1a's step on
 * 64-bit words, then the tail a byte at a time).  The client must cost
 * far less than the servers it measures: at window 16 both servers and
 * the clients share this machine's cores, and a byte-at-a-time hash
 * made the clients the bottleneck for both.
 */
static uint64_t
load_hash(uint64_t h, const char *p, size_t len)
{
	uint64_t	w;
	size_t		i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 1099511628211ULL;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return (h ^ '\n') * 1099511628211ULL;
}

/* One multi-line message body up to ".", checksummed. */
static int
load_body(struct load_client *c)
{
	const char	*line;
	size_t		 len;
	uint64_t	 h = 1469598103934665603ULL;

	for (;;) {
		if (load_line(c, &line, &len) == -1)
			return -1;
		if (len == 1 && line[0] == '.')
			break;
		c->octets += len + 2;
		h = load_hash(h, line, len);
	}
	c->sum += h;
	c->messages++;
	return 0;
}

static int
load_run(struct load_client *c)
{
	struct sockaddr_in	 sin;
	char			 cmd[600];
	const char		*line;
	size_t			 len;
	unsigned long		 count, sent = 0, done = 0;
	int			 n, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)load_port);
	if (inet_pton(AF_INET, load_host, &sin.sin_addr) != 1)
		return load_fail(c, "bad host %s", load_host);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return load_fail(c, "connect: %s", strerror(errno));
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (load_ok(c, "greeting") == -1)
		return -1;
	n = snprintf(cmd, sizeof(cmd), "USER %s\r\n", c->user);
	if (load_send(c, cmd, (size_t)n) == -1 || load_ok(c, "USER") == -1)
		return -1;
	n = snprintf(cmd, sizeof(cmd), "PASS %s\r\n", load_pass);
	if (load_send(c, cmd, (size_t)n) == -1 || load_ok(c, "PASS") == -1)
		return -1;
	if (load_send(c, "STAT\r\n", 6) == -1 ||
	    load_line(c, &line, &len) == -1)
		return -1;
	if (len < 5 || memcmp(line, "+OK ", 4) != 0 ||
	    sscanf(line + 4, "%lu", &count) != 1)
		return load_fail(c, "STAT: %.*s", (int)len, line);
	c->passed_ready = true;
	pthread_barrier_wait(&load_ready);
	pthread_barrier_wait(&load_go);
	while (done < count) {
		while (sent < count &&
		    sent - done < (unsigned long)load_window) {
			n = snprintf(cmd, sizeof(cmd), "RETR %lu\r\n",
			    sent + 1);
			if (load_send(c, cmd, (size_t)n) == -1)
				return -1;
			sent++;
		}
		if (load_ok(c, "RETR") == -1 || load_body(c) == -1)
			return -1;
		done++;
	}
	if (load_send(c, "QUIT\r\n", 6) == -1 || load_ok(c, "QUIT") == -1)
		return -1;
	(void)close(c->fd);
	return 0;
}

static void *
load_thread(void *arg)
{
	struct load_client	*c = arg;

	pthread_barrier_wait(&load_barrier);
	if (load_run(c) == -1) {
		if (c->err[0] == '\0')
			(void)snprintf(c->err, sizeof(c->err), "failed");
		/* A client that failed to log in must not hang the rest. */
		if (!c->passed_ready) {
			pthread_barrier_wait(&load_ready);
			pthread_barrier_wait(&load_go);
		}
	}
	return NULL;
}

static double
load_seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

int
main(int argc, char *argv[])
{
	struct load_client	*cl;
	struct timespec		 t0, t1, t2, t3;
	char			 go[16];
	uint64_t		 messages = 0, octets = 0, sum = 0;
	int			 i, n, bad = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: pop3-load HOST PORT PASSWORD WINDOW "
		    "USER...\n");
		return 2;
	}
	load_host = argv[1];
	load_port = atoi(argv[2]);
	load_pass = argv[3];
	load_window = atoi(argv[4]);
	n = argc - 5;
	if (load_port <= 0 || load_window <= 0 || n > LOAD_USERS_MAX) {
		fprintf(stderr, "pop3-load: bad arguments\n");
		return 2;
	}
	cl = calloc((size_t)n, sizeof(*cl));
	if (cl == NULL || pthread_barrier_init(&load_barrier, NULL,
	    (unsigned)n + 1) != 0 || pthread_barrier_init(&load_ready, NULL,
	    (unsigned)n + 1) != 0 || pthread_barrier_init(&load_go, NULL,
	    (unsigned)n + 1) != 0)
		return 1;
	for (i = 0; i < n; i++) {
		cl[i].user = argv[5 + i];
		cl[i].fd = -1;
		if ((cl[i].buf = malloc(LOAD_BUF)) == NULL ||
		    pthread_create(&cl[i].tid, NULL, load_thread, &cl[i]) != 0)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_barrier_wait(&load_barrier);
	pthread_barrier_wait(&load_ready);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("ready\n");
	fflush(stdout);
	if (fgets(go, sizeof(go), stdin) == NULL)
		go[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t2);
	pthread_barrier_wait(&load_go);
	for (i = 0; i < n; i++) {
		pthread_join(cl[i].tid, NULL);
		if (cl[i].err[0] != '\0') {
			fprintf(stderr, "pop3-load: %s: %s\n", cl[i].user,
			    cl[i].err);
			bad = 1;
		}
		messages += cl[i].messages;
		octets += cl[i].octets;
		sum += cl[i].sum;
	}
	clock_gettime(CLOCK_MONOTONIC, &t3);
	printf("messages %" PRIu64 " octets %" PRIu64 " login %.6f "
	    "seconds %.6f sum %016" PRIx64 "\n", messages, octets,
	    load_seconds(&t0, &t1), load_seconds(&t2, &t3), sum);
	return bad;
}
