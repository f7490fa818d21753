/*
 * tls-sink: an SMTP sink with STARTTLS, for bench/smtp-outbound --secure
 * (Postfix's smtp-sink has no TLS).  It listens on ADDR:PORT, answers
 * 250 to everything (EHLO announces PIPELINING and, before TLS,
 * STARTTLS), takes STARTTLS with the certificate and key given, reads
 * DATA to its end and throws it away, and prints "mesg=N" (the running
 * count) on standard output after each message.  One thread per
 * connection, at most 256 at once.  Loopback benchmarks only.
 *
 * Build (the script does):
 *     cc -O2 -pthread -o tls-sink bench/tls_sink.c -lssl -lcrypto
 * Run: tls-sink ADDR PORT CERT KEY
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define LINE_MAX_	4096
#define CONNS_MAX	256

static SSL_CTX		*ctx;
static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long	 messages;
static int		 conns;

struct conn {
	int	 fd;
	SSL	*ssl;
	char	 buf[16384];
	size_t	 len, pos;
};

static int
conn_read(struct conn *c)
{
	ssize_t	n;

	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == sizeof(c->buf))
		return -1;
	if (c->ssl != NULL)
		n = SSL_read(c->ssl, c->buf + c->len,
		    (int)(sizeof(c->buf) - c->len));
	else
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	return 0;
}

/* The next line with its CRLF into line; -1 at the end or on error. */
static int
conn_line(struct conn *c, char *line, size_t linesz)
{
	char	*lf;
	size_t	 n;

	for (;;) {
		lf = memchr(c->buf + c->pos, '\n', c->len - c->pos);
		if (lf != NULL)
			break;
		if (conn_read(c) == -1)
			return -1;
	}
	n = (size_t)(lf - (c->buf + c->pos)) + 1;
	if (n >= linesz)
		return -1;
	memcpy(line, c->buf + c->pos, n);
	line[n] = '\0';
	c->pos += n;
	return 0;
}

static int
conn_write(struct conn *c, const char *s)
{
	size_t	n = strlen(s);

	if (c->ssl != NULL)
		return SSL_write(c->ssl, s, (int)n) == (int)n ? 0 : -1;
	return write(c->fd, s, n) == (ssize_t)n ? 0 : -1;
}

static void
session(struct conn *c)
{
	char	 line[LINE_MAX_];
	bool	 data = false;

	if (conn_write(c, "220 tls-sink ESMTP\r\n") == -1)
		return;
	while (conn_line(c, line, sizeof(line)) == 0) {
		if (data) {
			if (strcmp(line, ".\r\n") != 0)
				continue;
			data = false;
			pthread_mutex_lock(&lock);
			printf("mesg=%lu\n", ++messages);
			fflush(stdout);
			pthread_mutex_unlock(&lock);
			if (conn_write(c, "250 2.0.0 Ok\r\n") == -1)
				return;
		} else if (strncasecmp(line, "EHLO", 4) == 0) {
			if (conn_write(c, c->ssl == NULL ?
			    "250-tls-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
			    "250 STARTTLS\r\n" : "250-tls-sink\r\n"
			    "250-PIPELINING\r\n250 8BITMIME\r\n") == -1)
				return;
		} else if (strncasecmp(line, "STARTTLS", 8) == 0 &&
		    c->ssl == NULL) {
			if (conn_write(c, "220 2.0.0 Go ahead\r\n") == -1)
				return;
			/* Nothing may be pipelined past STARTTLS. */
			c->len = c->pos = 0;
			if ((c->ssl = SSL_new(ctx)) == NULL ||
			    SSL_set_fd(c->ssl, c->fd) != 1 ||
			    SSL_accept(c->ssl) != 1)
				return;
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			data = true;
			if (conn_write(c, "354 End with .\r\n") == -1)
				return;
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			(void)conn_write(c, "221 2.0.0 Bye\r\n");
			return;
		} else if (conn_write(c, "250 2.0.0 Ok\r\n") == -1)
			return;
	}
}

static void *
run(void *arg)
{
	struct conn	*c = arg;

	session(c);
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	free(c);
	pthread_mutex_lock(&lock);
	conns--;
	pthread_mutex_unlock(&lock);
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct conn		*c;
	pthread_attr_t		 attr;
	pthread_t		 t;
	int			 s, fd, on = 1;

	/* A client that goes away must not take the sink with it. */
	signal(SIGPIPE, SIG_IGN);
	if (argc != 5) {
		fprintf(stderr, "usage: tls-sink ADDR PORT CERT KEY\n");
		return 2;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, argv[3]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "tls-sink: bad address %s\n", argv[1]);
		return 2;
	}
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 512) == -1) {
		perror("tls-sink");
		return 1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		if ((fd = accept(s, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("tls-sink: accept");
			return 1;
		}
		pthread_mutex_lock(&lock);
		if (conns >= CONNS_MAX) {
			pthread_mutex_unlock(&lock);
			close(fd);
			continue;
		}
		conns++;
		pthread_mutex_unlock(&lock);
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return 1;
		c->fd = fd;
		if (pthread_create(&t, &attr, run, c) != 0) {
			close(fd);
			free(c);
			pthread_mutex_lock(&lock);
			conns--;
			pthread_mutex_unlock(&lock);
		}
	}
}
