/*
 * imap-load: the client side of bench/imap's first sync and download.
 * Python parsing 10,000 FETCH lines (a regex per line) took longer than
 * either server took to send them, and ten Python download processes
 * competed with the servers for this machine's two cores; this client
 * costs a small fraction of what it measures.
 *
 * Two modes, both over plain IMAP on loopback (LOGIN in the clear):
 *
 * sync: one connection logs in and prints "ready"; on a line from its
 * standard input it sends SELECT INBOX, then UID FETCH 1:* (UID FLAGS
 * INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE), each timed, reads
 * the whole answer (ENVELOPE strings may come as {N} literals, skipped
 * by their count), counts the "* N FETCH" responses, which must match
 * the SELECT's EXISTS, and prints one line:
 *	messages M literals L octets O login S select S fetch S cpu S
 * Then it waits for another line before LOGOUT, so that the script can
 * read the server's CPU time with nothing but the sync in it.
 *
 * download (COUNT instead of "sync"): one thread per USER argument
 * (the same user may be given many times), each logs in and selects
 * INBOX; once all have, it prints "ready" and waits for a line, then
 * client k fetches messages k * COUNT + 1 to (k + 1) * COUNT with FETCH
 * n BODY.PEEK[], one at a time (the next once the last one's tagged OK
 * is in), checksums each BODY[] literal, and logs out.  Prints
 *	messages M octets O login S seconds S sum X cpu S
 * as bench/pop3's loader does, so that bench/pop3's load() runs both.
 * The sum adds a hash of each literal, so it does not depend on which
 * client fetched what or in which order: two servers that sent the same
 * messages give the same sum.  "cpu" is this process's own CPU time
 * (user + system, all threads) from "go" to the end.
 *
 * Everything is bounded: a line (between literals) fits in LOAD_BUF, a
 * literal is at most LOAD_LITERAL_MAX, a response has at most
 * LOAD_LITERALS_MAX literals, and every read and write waits at most
 * LOAD_TIMEOUT_MS.  Anything unexpected (a NO or BAD, tagged or not, a
 * BYE before LOGOUT, a closed connection, a wrong count) ends the run
 * with exit 1 and the reason on stderr.
 *
 * Build (the script does): cc -O2 -pthread -o imap-load bench/imap_load.c
 * Run: imap-load HOST PORT PASSWORD sync USER
 *      imap-load HOST PORT PASSWORD COUNT USER...
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOAD_BUF		(1024 * 1024)	/* longest line + room */
#define LOAD_LITERAL_MAX	(64 * 1024 * 1024)
#define LOAD_LITERALS_MAX	10000	/* per response */
#ifndef LOAD_TIMEOUT_MS		/* -D for a test of the timeout */
#define LOAD_TIMEOUT_MS		(300 * 1000)
#endif
#define LOAD_CLIENTS_MAX	256
#define LOAD_ARG_MAX		200

#define LOAD_FNV_BASIS		1469598103934665603ULL
#define LOAD_FNV_PRIME		1099511628211ULL

/* A running hash of one literal, fed in whatever pieces read() gives. */
struct load_hash {
	uint64_t	 h;
	uint64_t	 len;
	unsigned char	 tail[8];	/* bytes of a word not yet full */
	size_t		 ntail;
};

/* What one response held. */
struct load_resp {
	bool		 tagged;
	bool		 fetch;		/* "* N FETCH" */
	bool		 exists;	/* "* N EXISTS" */
	unsigned long	 num;		/* the N of either */
	size_t		 literals;
	uint64_t	 octets;	/* in the literals */
	uint64_t	 sum;		/* of the literals' hashes */
};

struct load_client {
	pthread_t	 tid;
	const char	*user;
	int		 fd;
	char		*buf;
	size_t		 len;		/* bytes in buf */
	size_t		 off;		/* parse position */
	size_t		 scan;		/* no LF in buf[off..scan) */
	unsigned long	 tag;
	char		 tagstr[24];	/* "aN " of the command in flight */
	size_t		 taglen;
	bool		 hash;		/* checksum literals, or just skip */
	bool		 logout;	/* a BYE is expected now */
	unsigned long	 first, count;	/* download: the messages */
	unsigned long	 exists;	/* from SELECT */
	uint64_t	 messages;
	uint64_t	 literals;
	uint64_t	 octets;
	uint64_t	 sum;		/* order-independent checksum */
	bool		 passed_ready;
	char		 err[256];
};

static const char	*load_host, *load_pass;
static int		 load_port;
static pthread_barrier_t load_ready;	/* all logged in and selected */
static pthread_barrier_t load_go;	/* the script said go */

static int
load_fail(struct load_client *c, const char *fmt, ...)
{
	va_list	ap;

	if (c->err[0] != '\0')		/* the first reason is the one */
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int
load_wait(struct load_client *c, short events)
{
	struct pollfd	pfd;
	int		n;

	pfd.fd = c->fd;
	pfd.events = events;
	do
		n = poll(&pfd, 1, LOAD_TIMEOUT_MS);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return load_fail(c, "poll: %s", strerror(errno));
	if (n == 0)
		return load_fail(c, "no answer in %d s",
		    LOAD_TIMEOUT_MS / 1000);
	return 0;
}

/* More bytes at the end of buf, after moving what is unread to its start. */
static int
load_fill(struct load_client *c)
{
	ssize_t	n;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->scan -= c->off;
		c->off = 0;
	}
	if (c->len == LOAD_BUF)
		return load_fail(c, "line longer than %d bytes", LOAD_BUF);
	if (load_wait(c, POLLIN) == -1)
		return -1;
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

	if (c->scan < c->off)
		c->scan = c->off;
	while ((lf = memchr(c->buf + c->scan, '\n', c->len - c->scan)) ==
	    NULL) {
		c->scan = c->len;	/* a long line is searched once */
		if (load_fill(c) == -1)
			return -1;
	}
	*line = c->buf + c->off;
	*linelen = (size_t)(lf - (c->buf + c->off));
	if (*linelen > 0 && lf[-1] == '\r')
		(*linelen)--;
	c->off = (size_t)(lf - c->buf) + 1;
	c->scan = c->off;
	return 0;
}

static int
load_send(struct load_client *c, const char *s, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if (load_wait(c, POLLOUT) == -1)
			return -1;
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

/* "aN " + the command + CRLF; remembers the tag for load_response(). */
static int
load_cmd(struct load_client *c, const char *fmt, ...)
{
	char	cmd[512];
	va_list	ap;
	int	n, m;

	c->tag++;
	n = snprintf(c->tagstr, sizeof(c->tagstr), "a%lu ", c->tag);
	c->taglen = (size_t)n;
	memcpy(cmd, c->tagstr, c->taglen);
	va_start(ap, fmt);
	m = vsnprintf(cmd + n, sizeof(cmd) - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= sizeof(cmd) - (size_t)n - 2)
		return load_fail(c, "command too long");
	memcpy(cmd + n + m, "\r\n", 2);
	return load_send(c, cmd, (size_t)(n + m + 2));
}

/*
 * FNV-1a's step on 64-bit words rather than bytes (as pop3_load.c does):
 * a byte at a time, the ten clients' hashing would cost as much CPU as
 * the server spends sending them the messages.  Pieces that split a word
 * are carried in tail, so the hash does not depend on how the bytes
 * arrived.
 */
static void
load_hash_add(struct load_hash *lh, const char *p, size_t len)
{
	uint64_t	w, h = lh->h;
	size_t		i = 0;

	lh->len += len;
	if (lh->ntail > 0) {
		while (lh->ntail < 8 && i < len)
			lh->tail[lh->ntail++] = (unsigned char)p[i++];
		if (lh->ntail < 8)
			return;
		memcpy(&w, lh->tail, 8);
		h = (h ^ w) * LOAD_FNV_PRIME;
		lh->ntail = 0;
	}
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * LOAD_FNV_PRIME;
	}
	memcpy(lh->tail, p + i, len - i);
	lh->ntail = len - i;
	lh->h = h;
}

static uint64_t
load_hash_end(struct load_hash *lh)
{
	uint64_t	h = lh->h;
	size_t		i;

	for (i = 0; i < lh->ntail; i++)
		h = (h ^ lh->tail[i]) * LOAD_FNV_PRIME;
	return (h ^ lh->len) * LOAD_FNV_PRIME;
}

/* The N of a line ending in "{N}" (or "~{N}", RFC 3516), or -1. */
static long
load_literal_len(const char *line, size_t len)
{
	size_t	i, digits;
	long	n = 0;

	if (len < 3 || line[len - 1] != '}')
		return -1;
	for (i = len - 1; i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9';
	    i--)
		;
	digits = len - 1 - i;
	if (i == 0 || line[i - 1] != '{' || digits == 0 || digits > 9)
		return -1;
	for (; i < len - 1; i++)
		n = n * 10 + (line[i] - '0');
	return n;
}

/* Take n literal octets off the connection, hashing them if asked. */
static int
load_literal(struct load_client *c, size_t n, struct load_resp *r)
{
	struct load_hash	lh = { LOAD_FNV_BASIS, 0, { 0 }, 0 };
	size_t			take;

	r->literals++;
	r->octets += n;
	while (n > 0) {
		if (c->off == c->len) {
			c->off = c->len = c->scan = 0;
			if (load_fill(c) == -1)
				return -1;
		}
		take = c->len - c->off;
		if (take > n)
			take = n;
		if (c->hash)
			load_hash_add(&lh, c->buf + c->off, take);
		c->off += take;
		n -= take;
	}
	c->scan = c->off;
	if (c->hash)
		r->sum += load_hash_end(&lh);
	return 0;
}

static bool
load_word(const char *p, size_t len, const char *w)
{
	size_t	wl = strlen(w);

	return len >= wl && memcmp(p, w, wl) == 0 &&
	    (len == wl || p[wl] == ' ');
}

/*
 * One whole response: its first line, and while a line ends in a
 * literal's {N}, the N octets and the line that goes on after them.
 * Only the first line is looked at (RFC 3501 7: tagged status, or an
 * untagged status or data); a tagged answer that is not OK fails.
 */
static int
load_response(struct load_client *c, struct load_resp *r)
{
	const char	*line, *p;
	size_t		 len, rest;
	unsigned long	 num = 0;
	long		 lit;

	memset(r, 0, sizeof(*r));
	if (load_line(c, &line, &len) == -1)
		return -1;
	if (len >= c->taglen && memcmp(line, c->tagstr, c->taglen) == 0) {
		r->tagged = true;
		p = line + c->taglen;
		rest = len - c->taglen;
		if (!load_word(p, rest, "OK"))
			return load_fail(c, "%.*s", (int)(len > 200 ? 200 :
			    len), line);
		return 0;
	}
	if (len < 2 || memcmp(line, "* ", 2) != 0)
		return load_fail(c, "unexpected: %.*s", (int)(len > 200 ? 200 :
		    len), line);
	p = line + 2;
	rest = len - 2;
	if (load_word(p, rest, "NO") || load_word(p, rest, "BAD") ||
	    (load_word(p, rest, "BYE") && !c->logout))
		return load_fail(c, "%.*s", (int)(len > 200 ? 200 : len),
		    line);
	if (rest > 0 && *p >= '0' && *p <= '9') {
		while (rest > 0 && *p >= '0' && *p <= '9') {
			if (num > (ULONG_MAX - 9) / 10)
				return load_fail(c, "number too long");
			num = num * 10 + (unsigned long)(*p - '0');
			p++;
			rest--;
		}
		if (rest > 0 && *p == ' ') {
			r->num = num;
			r->fetch = load_word(p + 1, rest - 1, "FETCH");
			r->exists = load_word(p + 1, rest - 1, "EXISTS");
		}
	}
	while ((lit = load_literal_len(line, len)) != -1) {
		if (lit > LOAD_LITERAL_MAX)
			return load_fail(c, "literal of %ld octets", lit);
		if (r->literals == LOAD_LITERALS_MAX)
			return load_fail(c, "over %d literals in a response",
			    LOAD_LITERALS_MAX);
		if (load_literal(c, (size_t)lit, r) == -1 ||
		    load_line(c, &line, &len) == -1)
			return -1;
	}
	return 0;
}

/* Every response up to the command's tagged OK, counting nothing. */
static int
load_done(struct load_client *c)
{
	struct load_resp	r;

	do {
		if (load_response(c, &r) == -1)
			return -1;
		if (r.exists)
			c->exists = r.num;
	} while (!r.tagged);
	return 0;
}

static int
load_login(struct load_client *c)
{
	struct sockaddr_in	sin;
	const char		*line;
	size_t			 len;
	int			 one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)load_port);
	if (inet_pton(AF_INET, load_host, &sin.sin_addr) != 1)
		return load_fail(c, "bad host %s", load_host);
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		return load_fail(c, "connect: %s", strerror(errno));
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (load_line(c, &line, &len) == -1)
		return -1;
	if (!load_word(line, len, "* OK"))
		return load_fail(c, "greeting: %.*s", (int)(len > 200 ? 200 :
		    len), line);
	/* Quoted strings: main() let no '"' or '\\' through. */
	if (load_cmd(c, "LOGIN \"%s\" \"%s\"", c->user, load_pass) == -1 ||
	    load_done(c) == -1)
		return -1;
	return 0;
}

static int
load_logout(struct load_client *c)
{
	c->logout = true;
	if (load_cmd(c, "LOGOUT") == -1 || load_done(c) == -1)
		return -1;
	(void)close(c->fd);
	c->fd = -1;
	return 0;
}

static double
load_seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static double
load_cpu(void)
{
	struct rusage	ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void
load_wait_line(void)
{
	char	go[16];

	/* End of input counts as a line: the script may just close it. */
	if (fgets(go, sizeof(go), stdin) == NULL)
		go[0] = '\0';
}

/* The first-sync mode: one client, two timed commands. */
static int
load_sync(struct load_client *c)
{
	struct timespec		 t0, t1, t2, t3, t4;
	struct load_resp	 r;
	double			 cpu0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (load_login(c) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("ready\n");
	fflush(stdout);
	load_wait_line();
	cpu0 = load_cpu();
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (load_cmd(c, "SELECT INBOX") == -1 || load_done(c) == -1)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t3);
	if (load_cmd(c, "UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE "
	    "ENVELOPE BODYSTRUCTURE)") == -1)
		return -1;
	do {
		if (load_response(c, &r) == -1)
			return -1;
		if (r.fetch)
			c->messages++;
		c->literals += r.literals;
		c->octets += r.octets;
	} while (!r.tagged);
	clock_gettime(CLOCK_MONOTONIC, &t4);
	if (c->messages != c->exists)
		return load_fail(c, "%" PRIu64 " FETCH responses, %lu EXISTS",
		    c->messages, c->exists);
	printf("messages %" PRIu64 " literals %" PRIu64 " octets %" PRIu64
	    " login %.6f select %.6f fetch %.6f cpu %.6f\n", c->messages,
	    c->literals, c->octets, load_seconds(&t0, &t1),
	    load_seconds(&t2, &t3), load_seconds(&t3, &t4),
	    load_cpu() - cpu0);
	fflush(stdout);
	/* The script reads the server's CPU time before the LOGOUT. */
	load_wait_line();
	return load_logout(c);
}

/* One download client: its own messages, one FETCH at a time. */
static int
load_download(struct load_client *c)
{
	struct load_resp	r;
	unsigned long		n;
	size_t			got;

	for (n = c->first; n < c->first + c->count; n++) {
		if (load_cmd(c, "FETCH %lu BODY.PEEK[]", n) == -1)
			return -1;
		got = 0;
		do {
			if (load_response(c, &r) == -1)
				return -1;
			/*
			 * Another FETCH (a flag change) may come unasked;
			 * the message is the literal of FETCH n.
			 */
			if (!r.fetch || r.num != n)
				continue;
			got += r.literals;
			c->octets += r.octets;
			c->sum += r.sum;
		} while (!r.tagged);
		if (got != 1)
			return load_fail(c, "FETCH %lu: %zu literals", n, got);
		c->messages++;
	}
	return 0;
}

static void *
load_thread(void *arg)
{
	struct load_client	*c = arg;

	if (load_login(c) == -1 || load_cmd(c, "SELECT INBOX") == -1 ||
	    load_done(c) == -1)
		goto fail;
	if (c->exists < c->first + c->count - 1) {
		load_fail(c, "INBOX has %lu messages, not %lu", c->exists,
		    c->first + c->count - 1);
		goto fail;
	}
	c->passed_ready = true;
	pthread_barrier_wait(&load_ready);
	pthread_barrier_wait(&load_go);
	if (load_download(c) == -1 || load_logout(c) == -1)
		goto fail;
	return NULL;

fail:
	if (c->err[0] == '\0')
		(void)snprintf(c->err, sizeof(c->err), "failed");
	/* A client that failed to log in must not hang the rest. */
	if (!c->passed_ready) {
		pthread_barrier_wait(&load_ready);
		pthread_barrier_wait(&load_go);
	}
	return NULL;
}

static bool
load_arg_ok(const char *s)
{
	size_t	len = strnlen(s, LOAD_ARG_MAX + 1);

	return len > 0 && len <= LOAD_ARG_MAX && strpbrk(s, "\"\\\r\n") ==
	    NULL;
}

int
main(int argc, char *argv[])
{
	struct load_client	*cl;
	struct timespec		 t0, t1, t2, t3;
	uint64_t		 messages = 0, octets = 0, sum = 0;
	unsigned long		 count = 0;
	char			*end;
	double			 cpu0;
	int			 i, n, bad = 0;

	if (argc < 6 || (strcmp(argv[4], "sync") == 0 && argc != 6)) {
		fprintf(stderr, "usage: imap-load HOST PORT PASSWORD sync "
		    "USER\n"
		    "       imap-load HOST PORT PASSWORD COUNT USER...\n");
		return 2;
	}
	load_host = argv[1];
	load_port = atoi(argv[2]);
	load_pass = argv[3];
	n = argc - 5;
	if (strcmp(argv[4], "sync") != 0) {
		errno = 0;
		count = strtoul(argv[4], &end, 10);
		if (errno != 0 || *end != '\0' || count == 0 ||
		    count > 10000000)
			n = -1;
	}
	if (load_port <= 0 || load_port > 65535 || n <= 0 ||
	    n > LOAD_CLIENTS_MAX || !load_arg_ok(load_pass)) {
		fprintf(stderr, "imap-load: bad arguments\n");
		return 2;
	}
	cl = calloc((size_t)n, sizeof(*cl));
	if (cl == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if (!load_arg_ok(argv[5 + i])) {
			fprintf(stderr, "imap-load: bad user\n");
			return 2;
		}
		cl[i].user = argv[5 + i];
		cl[i].fd = -1;
		cl[i].first = (unsigned long)i * count + 1;
		cl[i].count = count;
		cl[i].hash = true;
		if ((cl[i].buf = malloc(LOAD_BUF)) == NULL)
			return 1;
	}

	if (count == 0) {
		cl[0].hash = false;	/* ENVELOPE literals: just skipped */
		if (load_sync(&cl[0]) == -1) {
			fprintf(stderr, "imap-load: %s: %s\n", cl[0].user,
			    cl[0].err);
			return 1;
		}
		return 0;
	}

	if (pthread_barrier_init(&load_ready, NULL, (unsigned)n + 1) != 0 ||
	    pthread_barrier_init(&load_go, NULL, (unsigned)n + 1) != 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		if (pthread_create(&cl[i].tid, NULL, load_thread, &cl[i]) != 0)
			return 1;
	pthread_barrier_wait(&load_ready);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("ready\n");
	fflush(stdout);
	load_wait_line();
	cpu0 = load_cpu();
	clock_gettime(CLOCK_MONOTONIC, &t2);
	pthread_barrier_wait(&load_go);
	for (i = 0; i < n; i++) {
		pthread_join(cl[i].tid, NULL);
		if (cl[i].err[0] != '\0') {
			fprintf(stderr, "imap-load: client %d (%s, messages "
			    "%lu-%lu): %s\n", i, cl[i].user, cl[i].first,
			    cl[i].first + count - 1, cl[i].err);
			bad = 1;
		}
		messages += cl[i].messages;
		octets += cl[i].octets;
		sum += cl[i].sum;
	}
	clock_gettime(CLOCK_MONOTONIC, &t3);
	printf("messages %" PRIu64 " octets %" PRIu64 " login %.6f "
	    "seconds %.6f sum %016" PRIx64 " cpu %.6f\n", messages, octets,
	    load_seconds(&t0, &t1), load_seconds(&t2, &t3), sum,
	    load_cpu() - cpu0);
	return bad;
}
