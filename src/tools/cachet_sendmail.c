/*
 * cachet-sendmail: the sendmail(8)-compatible submission command for cron,
 * scripts and MUAs that pipe a message.  It reads a message on standard
 * input and hands it to the running daemon over the local submission
 * socket (state-dir/submit.sock) with SMTP, exactly as a network client
 * would; it never writes the spool.  Runs as the invoking user with no
 * privilege; the daemon learns the uid from the socket (SO_PEERCRED).
 *
 * Exit codes are those of sysexits.h, as sendmail's callers expect.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "util.h"

#define SM_CONF_DEFAULT	"/etc/cachet/cachet.conf"
#define SM_LINE_MAX	(64 * 1024)	/* one input line, generous */
#define SM_HEADER_MAX	(1024 * 1024)	/* the header section */
#define SM_RCPTS_MAX	10000
#define SM_ADDR_MAX	256		/* RFC 5321 §4.5.3.1.3 */

struct sm {
	FILE		*in;		/* replies from the daemon */
	int		 fd;
	char		*rcpts[SM_RCPTS_MAX];
	size_t		 nrcpts;
	char		 reply[1024];
	bool		 verbose;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: cachet-sendmail [-t] [-i] [-f from] "
	    "[-C config] [-v] [recipient ...]\n");
	exit(EX_USAGE);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "cachet-sendmail: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Read one reply (all its lines); return its code. */
static int
sm_reply(struct sm *sm)
{
	char	line[1024];
	size_t	n;

	for (;;) {
		if (fgets(line, sizeof(line), sm->in) == NULL)
			die(EX_TEMPFAIL, "connection to cachetd lost");
		n = strlen(line);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (sm->verbose)
			fprintf(stderr, "<<< %s\n", line);
		if (n < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]))
			die(EX_PROTOCOL, "bad reply from cachetd: %s", line);
		if (n == 3 || line[3] == ' ') {
			(void)str_copy(sm->reply, sizeof(sm->reply), line);
			return (line[0] - '0') * 100 + (line[1] - '0') * 10 +
			    (line[2] - '0');
		}
	}
}

static void
sm_send(struct sm *sm, const char *p, size_t len)
{
	if (write_full(sm->fd, p, len) == -1)
		die(EX_TEMPFAIL, "write to cachetd: %s", strerror(errno));
}

static int
sm_cmd(struct sm *sm, const char *cmd, const char *arg)
{
	char	*line;

	line = xasprintf("%s%s\r\n", cmd, arg);
	if (sm->verbose)
		fprintf(stderr, ">>> %s%s\n", cmd, arg);
	sm_send(sm, line, strlen(line));
	free(line);
	return sm_reply(sm);
}

static int
sm_exit_for(int code)
{
	return code >= 500 ? EX_UNAVAILABLE : EX_TEMPFAIL;
}

static void
sm_add_rcpt(struct sm *sm, const char *addr, size_t len)
{
	while (len > 0 && isspace((unsigned char)*addr)) {
		addr++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)addr[len - 1]))
		len--;
	if (len == 0)
		return;
	if (len > SM_ADDR_MAX)
		die(EX_DATAERR, "recipient address too long");
	if (memchr(addr, '\r', len) || memchr(addr, '\n', len) ||
	    memchr(addr, '<', len) || memchr(addr, '>', len))
		die(EX_DATAERR, "bad recipient address");
	if (sm->nrcpts == SM_RCPTS_MAX)
		die(EX_DATAERR, "too many recipients");
	sm->rcpts[sm->nrcpts++] = xstrndup(addr, len);
}

/*
 * Take the addresses of an address-list header value (RFC 5322 §3.4):
 * "Name <a@b>, c@d, group: e@f;".  Commas inside quotes, comments and
 * angle brackets do not split.
 */
static void
sm_header_rcpts(struct sm *sm, const char *v, size_t len)
{
	size_t	 i, start = 0, lt = 0;
	int	 depth = 0;
	bool	 quote = false, angle = false;

	for (i = 0; i <= len; i++) {
		char	c = i < len ? v[i] : ',';

		if (quote) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				quote = false;
			continue;
		}
		if (c == '"')
			quote = true;
		else if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (depth > 0)
			continue;
		else if (c == '<') {
			angle = true;
			lt = i + 1;
		} else if (c == '>' && angle) {
			sm_add_rcpt(sm, v + lt, i - lt);
			angle = false;
			start = i + 1;
			while (i + 1 < len && v[i + 1] != ',' &&
			    v[i + 1] != ';')
				i++;
		} else if (c == ':' && !angle)
			start = i + 1;	/* group name */
		else if ((c == ',' || c == ';') && !angle) {
			if (i > start && memchr(v + start, '@',
			    i - start) != NULL)
				sm_add_rcpt(sm, v + start, i - start);
			start = i + 1;
		}
	}
}

/* Is this header line (name included) an address header for -t? */
static bool
sm_is_rcpt_header(const char *line, size_t len, bool *bcc_out)
{
	*bcc_out = len >= 4 && strncasecmp(line, "bcc:", 4) == 0;
	return *bcc_out || (len >= 3 && strncasecmp(line, "to:", 3) == 0) ||
	    (len >= 3 && strncasecmp(line, "cc:", 3) == 0);
}

static bool
sm_has_header(const struct buf *h, const char *name)
{
	size_t	n = strlen(name), i;

	for (i = 0; i + n <= h->len; i++) {
		if ((i == 0 || h->data[i - 1] == '\n') &&
		    strncasecmp(h->data + i, name, n) == 0)
			return true;
	}
	return false;
}

/* Read one line of stdin into b (without the LF); false at EOF. */
static bool
sm_getline(struct buf *b)
{
	int	c;

	buf_reset(b);
	while ((c = getchar()) != EOF) {
		if (c == '\n')
			return true;
		if (buf_append_char(b, (char)c) == -1)
			die(EX_DATAERR, "input line too long");
	}
	return b->len > 0;
}

int
main(int argc, char *argv[])
{
	struct sm		 sm;
	struct sockaddr_un	 sun;
	struct conf		*conf;
	struct passwd		*pw;
	struct tm		 tm;
	struct buf		 line, headers, cur;
	const char		*from = NULL, *cfile = NULL, *sock;
	char			 errs[4096], path[CONF_PATH_MAX + 16];
	char			 date[64], *s;
	bool			 opt_t = false, opt_i = false, bcc, in_rcpt;
	bool			 skipping = false, eof = false;
	size_t			 i;
	time_t			 now;
	int			 ch, code;

	memset(&sm, 0, sizeof(sm));
	/* sendmail takes -oi and -o options: accept and ignore the rest. */
	while ((ch = getopt(argc, argv, "tif:F:C:o:B:N:R:vbm")) != -1) {
		switch (ch) {
		case 't':
			opt_t = true;
			break;
		case 'i':
			opt_i = true;
			break;
		case 'f':
			from = optarg;
			break;
		case 'C':
			cfile = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "i") == 0)
				opt_i = true;
			break;
		case 'v':
			sm.verbose = true;
			break;
		case 'F': case 'B': case 'N': case 'R': case 'b': case 'm':
			break;
		default:
			usage();
		}
	}
	for (i = (size_t)optind; i < (size_t)argc; i++)
		sm_header_rcpts(&sm, argv[i], strlen(argv[i]));

	if ((sock = getenv("CACHET_SUBMIT_SOCKET")) == NULL) {
		if (cfile == NULL && access(SM_CONF_DEFAULT, R_OK) == 0)
			cfile = SM_CONF_DEFAULT;
		conf = cfile ? conf_load(cfile, errs, sizeof(errs)) :
		    conf_default();
		if (conf == NULL)
			die(EX_CONFIG, "config: %s", errs);
		if (path_join(path, sizeof(path), conf->state_dir,
		    "submit.sock") == -1)
			die(EX_CONFIG, "state-dir too long");
		sock = path;
	} else
		conf = conf_default();

	if ((pw = getpwuid(getuid())) == NULL)
		die(EX_NOUSER, "who are you?");
	s = NULL;
	if (from == NULL) {
		s = xasprintf("%s@%s", pw->pw_name, conf->hostname);
		from = s;
	}
	if (strlen(from) > SM_ADDR_MAX || strpbrk(from, "<>\r\n") != NULL)
		die(EX_DATAERR, "bad sender address");

	/* Headers first: -t needs the recipients before RCPT. */
	buf_init(&line, SM_LINE_MAX);
	buf_init(&headers, SM_HEADER_MAX);
	buf_init(&cur, SM_HEADER_MAX);
	in_rcpt = false;
	for (;;) {
		if (!sm_getline(&line)) {
			eof = true;
			break;
		}
		if (line.len > 0 && line.data[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0)
			break;
		if (!opt_i && line.len == 1 && line.data[0] == '.') {
			eof = true;
			break;
		}
		if (line.data[0] == ' ' || line.data[0] == '\t') {
			/* continuation of the previous field */
			if (in_rcpt && opt_t && buf_append(&cur, line.data,
			    line.len) == -1)
				die(EX_DATAERR, "header too long");
		} else {
			if (in_rcpt && opt_t)
				sm_header_rcpts(&sm, cur.data, cur.len);
			in_rcpt = sm_is_rcpt_header(line.data, line.len,
			    &bcc);
			buf_reset(&cur);
			if (in_rcpt) {
				s = memchr(line.data, ':', line.len);
				(void)buf_append(&cur, s + 1,
				    line.len - (size_t)(s + 1 - line.data));
			}
			/* With -t, Bcc: is removed (RFC 5322 §3.6.3). */
			skipping = in_rcpt && bcc && opt_t;
		}
		if (skipping)
			continue;
		if (buf_append(&headers, line.data, line.len) == -1 ||
		    buf_append(&headers, "\r\n", 2) == -1)
			die(EX_DATAERR, "header section too large");
	}
	if (in_rcpt && opt_t)
		sm_header_rcpts(&sm, cur.data, cur.len);
	if (sm.nrcpts == 0)
		die(EX_USAGE, "no recipients");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_copy(sun.sun_path, sizeof(sun.sun_path), sock) == -1)
		die(EX_CONFIG, "socket path too long");
	if ((sm.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(sm.fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		die(EX_UNAVAILABLE, "cannot reach cachetd at %s: %s", sock,
		    strerror(errno));
	if ((sm.in = fdopen(dup(sm.fd), "r")) == NULL)
		die(EX_OSERR, "fdopen");

	if ((code = sm_reply(&sm)) != 220)
		die(sm_exit_for(code), "cachetd: %s", sm.reply);
	if ((code = sm_cmd(&sm, "EHLO ", "localhost")) != 250)
		die(sm_exit_for(code), "EHLO: %s", sm.reply);
	s = xasprintf("<%s>", from);
	if ((code = sm_cmd(&sm, "MAIL FROM:", s)) != 250)
		die(sm_exit_for(code), "sender: %s", sm.reply);
	free(s);
	for (i = 0; i < sm.nrcpts; i++) {
		s = xasprintf("<%s>", sm.rcpts[i]);
		if ((code = sm_cmd(&sm, "RCPT TO:", s)) != 250)
			die(code >= 500 ? EX_NOUSER : EX_TEMPFAIL,
			    "recipient %s: %s", sm.rcpts[i], sm.reply);
		free(s);
	}
	if ((code = sm_cmd(&sm, "DATA", "")) != 354)
		die(sm_exit_for(code), "DATA: %s", sm.reply);

	/* Fields a message must have (RFC 5322 §3.6) if the caller left
	 * them out, as sendmail does. */
	now = time(NULL);
	if (!sm_has_header(&headers, "From:")) {
		s = xasprintf("From: %s\r\n", from);
		sm_send(&sm, s, strlen(s));
		free(s);
	}
	if (!sm_has_header(&headers, "Date:")) {
		if (gmtime_r(&now, &tm) == NULL ||
		    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
		    &tm) == 0)
			die(EX_OSERR, "cannot format the date");
		s = xasprintf("Date: %s\r\n", date);
		sm_send(&sm, s, strlen(s));
		free(s);
	}
	if (!sm_has_header(&headers, "Message-ID:")) {
		s = xasprintf("Message-ID: <%lld.%d@%s>\r\n", (long long)now,
		    (int)getpid(), conf->hostname);
		sm_send(&sm, s, strlen(s));
		free(s);
	}
	/* Header lines never start with '.', except continuations. */
	for (i = 0; i < headers.len; i++) {
		if ((i == 0 || headers.data[i - 1] == '\n') &&
		    headers.data[i] == '.')
			sm_send(&sm, ".", 1);
		sm_send(&sm, headers.data + i, 1);
	}
	sm_send(&sm, "\r\n", 2);
	while (!eof && sm_getline(&line)) {
		if (line.len > 0 && line.data[line.len - 1] == '\r')
			line.len--;
		if (!opt_i && line.len == 1 && line.data[0] == '.')
			break;
		/* Dot-stuffing, RFC 5321 §4.5.2. */
		if (line.len > 0 && line.data[0] == '.')
			sm_send(&sm, ".", 1);
		sm_send(&sm, line.data, line.len);
		sm_send(&sm, "\r\n", 2);
	}
	if ((code = sm_cmd(&sm, ".", "")) != 250)
		die(sm_exit_for(code), "message refused: %s", sm.reply);
	if (sm.verbose)
		fprintf(stderr, "cachet-sendmail: %s\n", sm.reply);
	(void)sm_cmd(&sm, "QUIT", "");
	return EX_OK;
}
