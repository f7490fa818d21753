/*
 * cachetctl: the admin command.  Talks to the parent over the control
 * socket in state-dir with framed messages; the parent answers status,
 * stop and reload itself and forwards queue, user, domain, alias,
 * tls-policy, dns and dkim verbs to the role that owns that data.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "conf.h"
#include "ctl_quickstart.h"
#include "ctl_spam.h"
#include "ipc.h"
#include "log.h"
#include "util.h"

#define CTL_PASS_MAX	1024

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: cachetctl [-f file] [-s socket] command [args]\n"
	    "commands:\n"
	    "  quickstart ADDRESS [--hostname NAME] [--state-dir PATH]\n"
	    "             [--mail-dir PATH] [--listen-address ADDR] "
	    "[--port KIND=PORT]\n"
	    "             [--acme URL] [--resolver ADDR]\n"
	    "                         write a new config to the -f FILE, "
	    "make the first\n"
	    "                         user and DKIM keys, print the DNS "
	    "records\n"
	    "  status                 roles, pids, uptime, listeners\n"
	    "  stop                   stop the daemon\n"
	    "  reload                 reload the config (as SIGHUP)\n"
	    "  queue                  list the queue, with each deferred "
	    "recipient's\n"
	    "                         last error and next try\n"
	    "  queue show|cat|delete ID\n"
	    "  queue flush [ID|DOMAIN]  try deferred recipients now\n"
	    "  queue hold|release|bounce ID\n"
	    "  user add|del|passwd ADDRESS   (password from stdin/prompt)\n"
	    "  user apop ADDRESS      set the APOP secret (stdin/prompt)\n"
	    "  user noapop ADDRESS    turn APOP off\n"
	    "  user list\n"
	    "  domain add|del NAME, domain list\n"
	    "  alias add SOURCE TARGET...  (all or none)\n"
	    "  alias del SOURCE TARGET, alias list\n"
	    "  tls reload             read the tls { } certificate and key "
	    "again and\n"
	    "                         use them for every new connection\n"
	    "  tls status             the certificate in use; with tls { acme }"
	    ": its names,\n"
	    "                         validity, next renewal, last ACME error\n"
	    "  tls renew              renew the ACME certificate now\n"
	    "  tls-policy DOMAIN      MX hosts, DNSSEC, TLSA records and the "
	    "TLS\n"
	    "                         decision for each (DANE)\n"
	    "  dns DOMAIN             every DNS record DOMAIN needs, "
	    "zone-file lines\n"
	    "                         (MX, SPF, DKIM, DMARC, MTA-STS, "
	    "TLS-RPT, TLSA,\n"
	    "                         SRV, CNAME)\n"
	    "  dns check DOMAIN       ask the resolver for each: present, "
	    "missing\n"
	    "                         or different; the reverse DNS of "
	    "hostname\n"
	    "  dkim keygen DOMAIN [--selector S] [--algorithm ed25519|rsa] "
	    "[--bits N]\n"
	    "                         make a signing key, print its TXT "
	    "record\n"
	    "  dkim list [DOMAIN]     the signing keys\n"
	    "  dkim retire|activate DOMAIN SELECTOR\n"
	    "  tlsrpt show [DOMAIN]   the TLS-RPT reports (RFC 8460) as they "
	    "would be\n"
	    "                         sent now, JSON\n"
	    "  tlsrpt send            send every report now, today's too\n"
	    "  tlsrpt received        reports received, per organisation and "
	    "day\n"
	    "  dmarc send             send the DMARC aggregate reports now "
	    "(RFC 7489)\n"
	    "  dmarc reports [DOMAIN] DMARC reports received, per reporter and "
	    "day\n"
	    "  spf check IP HELO SENDER  the SPF result (RFC 7208) for a "
	    "client,\n"
	    "                         with the reason (SENDER \"<>\": the "
	    "null path)\n"
	    "  prescreen check IP [HELO [DOMAIN]]  the DNS lists' and DNS "
	    "checks'\n"
	    "                         answer for a port 25 client\n"
	    "  spam check FILE [USER] the spam score, verdict and reasons of "
	    "a message\n"
	    "  spam train [--user USER] spam|ham PATH...  learn messages "
	    "(files, Maildirs,\n"
	    "                         mboxes)\n"
	    "  spam stats [USER]      what the Bayes database has learnt\n"
	    "  greylist list          greylisted triplets and whitelisted "
	    "clients\n"
	    "                         and domains (RFC 6647)\n"
	    "  greylist flush         forget them all\n");
	exit(2);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) == -1) {
		fprintf(stderr, "cachetctl: socket path too long\n");
		exit(1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "cachetctl: %s: %s (is cachetd running?)\n",
		    path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* Read a password: from a terminal with echo off and twice, else a line. */
static int
ctl_read_password(char *out, size_t outsz)
{
	struct termios	 t, saved;
	char		 again[CTL_PASS_MAX];
	bool		 tty = isatty(STDIN_FILENO);
	size_t		 n;

	if (tty) {
		fprintf(stderr, "Password: ");
		tcgetattr(STDIN_FILENO, &saved);
		t = saved;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	}
	if (fgets(out, (int)outsz, stdin) == NULL)
		out[0] = '\0';
	if (tty) {
		fprintf(stderr, "\nAgain: ");
		if (fgets(again, sizeof(again), stdin) == NULL)
			again[0] = '\0';
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fprintf(stderr, "\n");
		if (strcmp(out, again) != 0) {
			explicit_bzero(again, sizeof(again));
			fprintf(stderr, "cachetctl: passwords differ\n");
			return -1;
		}
		explicit_bzero(again, sizeof(again));
	}
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "cachetctl: empty password\n");
		return -1;
	}
	return 0;
}

static bool
ctl_needs_password(int argc, char **argv)
{
	return argc == 3 && strcmp(argv[0], "user") == 0 &&
	    (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "passwd") == 0 ||
	    strcmp(argv[1], "apop") == 0);
}

/*
 * Send m, print the answer's lines (or append them to lines when not
 * NULL) and data; the exit code it ends with.
 */
static int
ctl_exchange(int fd, struct msg *m, struct buf *lines)
{
	struct span	 s;
	char		 err[1024];
	uint64_t	 reqid;
	uint32_t	 code;

	if (ipc_write_blocking(fd, m) == -1) {
		fprintf(stderr, "cachetctl: send: %s\n", strerror(errno));
		exit(1);
	}
	for (;;) {
		if ((m = ipc_read_blocking(fd)) == NULL) {
			fprintf(stderr, "cachetctl: connection closed%s%s\n",
			    errno ? ": " : "", errno ? strerror(errno) : "");
			exit(1);
		}
		if (msg_get_u64(m, &reqid) == -1)
			fatalx("malformed reply");
		switch (m->type) {
		case MSG_CTL_LINE:
			if (msg_get_span(m, &s) == -1)
				fatalx("malformed reply");
			if (lines != NULL) {
				if (buf_append_span(lines, s) == -1 ||
				    buf_append_char(lines, '\n') == -1)
					fatalx("reply too long");
				break;
			}
			fwrite(s.ptr, 1, s.len, stdout);
			fputc('\n', stdout);
			break;
		case MSG_CTL_DATA:
			if (msg_get_span(m, &s) == -1)
				fatalx("malformed reply");
			fwrite(s.ptr, 1, s.len, stdout);
			break;
		case MSG_CTL_END:
			if (msg_get_u32(m, &code) == -1 ||
			    msg_get_str(m, err, sizeof(err)) == -1)
				fatalx("malformed reply");
			/*
			 * Errors on stdout are sticky: this one check covers
			 * every fwrite() above (a full disk, a closed pipe).
			 */
			if (fflush(stdout) == EOF || ferror(stdout)) {
				fprintf(stderr, "cachetctl: output: %s\n",
				    strerror(errno));
				if (code == 0)
					code = 1;
			}
			if (err[0] != '\0')
				fprintf(stderr, "cachetctl: %s\n", err);
			msg_free(m);
			return (int)code;
		default:
			fatalx("unexpected %s", msg_name(m->type));
		}
		msg_free(m);
	}
}

/* ctl_spam.h's exchange: one connection per request. */
static int
ctl_spam_exchange(void *arg, struct msg *m)
{
	struct ctl_spam_conn	*sc = arg;
	int			 fd, code;

	fd = ctl_connect(sc->sock);
	code = ctl_exchange(fd, m, sc->lines);
	close(fd);
	return code;
}

int
main(int argc, char *argv[])
{
	struct conf	*conf = NULL;
	struct msg	*m;
	const char	*file = NULL, *sock = NULL;
	char		 path[CONF_PATH_MAX + 32], errs[4096];
	char		 pass[CTL_PASS_MAX];
	int		 ch, fd, i, code;

	log_init(true, false);
	log_setproc("cachetctl");
	while ((ch = getopt(argc, argv, "+f:s:")) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	/* Before any daemon or config: -f names the file it writes. */
	if (strcmp(argv[0], "quickstart") == 0)
		return ctl_quickstart(file, argc, argv);
	/* -f with -s: the socket from -s, the rest (spam-rules) from -f */
	if (sock == NULL || file != NULL) {
		conf = file ? conf_load(file, errs, sizeof(errs)) :
		    conf_default();
		if (conf == NULL) {
			fputs(errs, stderr);
			exit(1);
		}
	}
	if (sock == NULL) {
		if (path_join(path, sizeof(path), conf->state_dir,
		    "control.sock") == -1) {
			fprintf(stderr, "cachetctl: state-dir too long\n");
			exit(1);
		}
		sock = path;
	}
	if (strcmp(argv[0], "spam") == 0) {
		code = ctl_spam(conf, argc, argv, ctl_spam_exchange,
		    &(struct ctl_spam_conn){ .sock = sock, .lines = NULL });
		conf_free(conf);
		return code;
	}
	fd = ctl_connect(sock);

	if (strcmp(argv[0], "status") == 0 && argc == 1)
		m = msg_new(MSG_CTL_STATUS);
	else if (strcmp(argv[0], "stop") == 0 && argc == 1)
		m = msg_new(MSG_CTL_STOP);
	else if (strcmp(argv[0], "reload") == 0 && argc == 1)
		m = msg_new(MSG_CTL_RELOAD);
	else if (strcmp(argv[0], "user") == 0 && argc > 3 &&
	    (strcmp(argv[1], "add") == 0 || strcmp(argv[1], "passwd") == 0 ||
	    strcmp(argv[1], "apop") == 0)) {
		/* A password in argv would show in ps(1): never take one. */
		fprintf(stderr, "cachetctl: usage: user %s ADDRESS (the "
		    "%s is read from standard input)\n", argv[1],
		    strcmp(argv[1], "apop") == 0 ? "secret" : "password");
		exit(2);
	} else if (strcmp(argv[0], "queue") == 0 ||
	    strcmp(argv[0], "user") == 0 || strcmp(argv[0], "domain") == 0 ||
	    strcmp(argv[0], "alias") == 0 ||
	    strcmp(argv[0], "tls-policy") == 0 ||
	    strcmp(argv[0], "dns") == 0 ||
	    strcmp(argv[0], "tlsrpt") == 0 ||
	    strcmp(argv[0], "dmarc") == 0 ||
	    strcmp(argv[0], "dkim") == 0 ||
	    strcmp(argv[0], "spf") == 0 ||
	    strcmp(argv[0], "prescreen") == 0 ||
	    strcmp(argv[0], "greylist") == 0 ||
	    strcmp(argv[0], "tls") == 0
#ifdef CACHET_TEST_HOOKS
	    /* Test builds only: make a role break its sandbox. */
	    || strcmp(argv[0], "sandbox-test") == 0
#endif
	    ) {
		m = msg_new(MSG_CTL_REQUEST);
		msg_put_u64(m, 1);
		if (ctl_needs_password(argc, argv)) {
			if (ctl_read_password(pass, sizeof(pass)) == -1)
				exit(1);
			msg_put_u32(m, (uint32_t)argc + 1);
		} else
			msg_put_u32(m, (uint32_t)argc);
		for (i = 0; i < argc; i++)
			msg_put_str(m, argv[i]);
		if (ctl_needs_password(argc, argv)) {
			msg_put_str(m, pass);
			explicit_bzero(pass, sizeof(pass));
		}
	} else
		usage();
	code = ctl_exchange(fd, m, NULL);
	close(fd);
	conf_free(conf);
	return code;
}

