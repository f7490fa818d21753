/*
 * Unit tests for ctl_quickstart.c's pure parts: the generated password,
 * the checks of the command's arguments, and the config text, which is
 * read back with the daemon's own parser (conf_parse) and compared
 * directive by directive.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/ctl_quickstart.h"

#define ARGV_MAX	24

/* Split a command line on spaces into argv (words point into line). */
static int
split(char *line, char **argv)
{
	int	argc = 0;
	char	*p = line;

	while (*p != '\0' && argc < ARGV_MAX) {
		argv[argc++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
		while (*p == ' ')
			*p++ = '\0';
	}
	return argc;
}

/* Parse a command line; its return value, and err. */
static int
args(const char *cmd, struct ctl_quickstart_opts *o, char *err,
    size_t errsz)
{
	char	 line[1024], *argv[ARGV_MAX];
	int	 argc;

	assert_true(strlen(cmd) < sizeof(line));
	memcpy(line, cmd, strlen(cmd) + 1);
	argc = split(line, argv);
	err[0] = '\0';
	return ctl_quickstart_args(argc, argv, o, err, errsz);
}

static uint16_t
port_of(const struct conf_listen *l)
{
	if (l->addr.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&l->addr)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&l->addr)->sin6_port);
}

/* The config of a command line, parsed back; the caller frees. */
static struct conf *
conf_of(const char *cmd, struct buf *text)
{
	struct ctl_quickstart_opts	 o;
	struct conf			*c;
	char				 err[256], errs[4096];

	assert_int_equal(args(cmd, &o, err, sizeof(err)), 0);
	buf_init(text, 64 * 1024);
	assert_int_equal(ctl_quickstart_conf(&o, "2026-12-06", text), 0);
	c = conf_parse("qs.conf", text->data, text->len, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("does not parse: %s\n%s", errs, text->data);
	return c;
}

static void
test_password_form(void **state)
{
	uint8_t		rnd[CTL_QUICKSTART_PASSWORD_LEN];
	char		pw[CTL_QUICKSTART_PASSWORD_SIZE];
	size_t		i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(i * 37 + k * 101);
		ctl_quickstart_password(rnd, pw);
		assert_int_equal(strlen(pw), 23);
		for (i = 0; i < 23; i++) {
			if (i == 5 || i == 11 || i == 17)
				assert_int_equal(pw[i], '-');
			else
				assert_non_null(strchr(
				    "23456789abcdefghijkmnpqrstuvwxyz", pw[i]));
		}
	}
	memset(rnd, 0, sizeof(rnd));
	ctl_quickstart_password(rnd, pw);
	assert_string_equal(pw, "22222-22222-22222-22222");
	memset(rnd, 0xff, sizeof(rnd));
	ctl_quickstart_password(rnd, pw);
	assert_string_equal(pw, "zzzzz-zzzzz-zzzzz-zzzzz");
}

/*
 * Each of the 32 values of the low five bits gives its own character,
 * none of them a look-alike, and the high bits do not matter: every
 * character is equally likely from uniform octets.
 */
static void
test_password_alphabet(void **state)
{
	uint8_t		rnd[CTL_QUICKSTART_PASSWORD_LEN];
	char		pw[CTL_QUICKSTART_PASSWORD_SIZE];
	char		high[CTL_QUICKSTART_PASSWORD_SIZE], chars[32];
	size_t		i, j;

	(void)state;
	for (i = 0; i < 32; i++) {
		memset(rnd, (int)i, sizeof(rnd));
		ctl_quickstart_password(rnd, pw);
		memset(rnd, (int)(i | 0xe0), sizeof(rnd));
		ctl_quickstart_password(rnd, high);
		assert_string_equal(pw, high);
		assert_null(strchr("01lo-", pw[0]));
		for (j = 0; j < i; j++)
			assert_int_not_equal(chars[j], pw[0]);
		chars[i] = pw[0];
	}
}

static void
test_args_defaults(void **state)
{
	struct ctl_quickstart_opts	o;
	char				err[256];
	static const uint16_t		ports[] = {
		25, 587, 465, 993, 995, 443, 80, 9187,
	};

	(void)state;
	assert_int_equal(args("quickstart alice@Example.ORG", &o, err,
	    sizeof(err)), 0);
	assert_string_equal(o.address, "alice@example.org");
	assert_string_equal(o.domain, "example.org");
	assert_string_equal(o.hostname, "mail.example.org");
	assert_string_equal(o.state_dir, "/var/lib/cachet");
	assert_string_equal(o.mail_dir, "/var/mail/cachet");
	assert_string_equal(o.listen_address, "*");
	assert_string_equal(o.acme_url,
	    "https://acme-v02.api.letsencrypt.org/directory");
	assert_string_equal(o.resolver, "");
	assert_memory_equal(o.ports, ports, sizeof(ports));
}

static void
test_args_options(void **state)
{
	struct ctl_quickstart_opts	o;
	char				err[256];

	(void)state;
	assert_int_equal(args("quickstart --hostname MX1.Example.net "
	    "--state-dir /srv/cachet/state --mail-dir /srv/cachet/mail "
	    "--listen-address [2001:db8::1] --port smtp=2525 --port "
	    "metrics=9100 --acme https://acme.example/dir --resolver "
	    "127.0.0.1:5353 bob.b+x@example.net", &o, err, sizeof(err)), 0);
	assert_string_equal(o.address, "bob.b+x@example.net");
	assert_string_equal(o.hostname, "mx1.example.net");
	assert_string_equal(o.state_dir, "/srv/cachet/state");
	assert_string_equal(o.mail_dir, "/srv/cachet/mail");
	assert_string_equal(o.listen_address, "[2001:db8::1]");
	assert_int_equal(o.ports[0], 2525);
	assert_int_equal(o.ports[1], 587);
	assert_int_equal(o.ports[7], 9100);
	assert_string_equal(o.acme_url, "https://acme.example/dir");
	assert_string_equal(o.resolver, "127.0.0.1:5353");
}

static void
test_args_refused(void **state)
{
	static const struct {
		const char	*cmd;
		const char	*err;	/* a part of the message */
	} bad[] = {
		{ "quickstart", "ADDRESS is missing" },
		{ "quickstart --hostname mail.example.org", "missing" },
		{ "quickstart alice", "not an address" },
		{ "quickstart alice@", "not an address" },
		{ "quickstart @example.org", "not an address" },
		{ "quickstart a@b@example.org", "not an address" },
		{ "quickstart alice@[192.0.2.1]", "not an address" },
		{ "quickstart \"a\"@example.org", "local part" },
		/* found by fuzz_ctl_quickstart: '#' starts a comment */
		{ "quickstart le#e@x", "local part" },
		{ "quickstart a{b}@example.org", "local part" },
		{ "quickstart alice@-bad.example", "not an address" },
		{ "quickstart alice@192.0.2.1", "not a host name" },
		{ "quickstart alice@example.org bob@example.org",
		    "one ADDRESS" },
		{ "quickstart alice@example.org --hostname", "needs a value" },
		{ "quickstart alice@example.org --hostname -mx.example.org",
		    "not a host name" },
		{ "quickstart alice@example.org --hostname a..b",
		    "not a host name" },
		{ "quickstart alice@example.org --hostname 192.0.2.1",
		    "not a host name" },
		{ "quickstart alice@example.org --state-dir var/state",
		    "absolute" },
		{ "quickstart alice@example.org --mail-dir /a#b", "'#'" },
		{ "quickstart alice@example.org --mail-dir /a{b", "braces" },
		{ "quickstart alice@example.org --listen-address localhost",
		    "IPv4" },
		{ "quickstart alice@example.org --listen-address 2001:db8::1",
		    "IPv4" },
		{ "quickstart alice@example.org --listen-address 300.1.1.1",
		    "IPv4" },
		{ "quickstart alice@example.org --port smtp", "KIND=PORT" },
		{ "quickstart alice@example.org --port imap=143", "KIND is" },
		{ "quickstart alice@example.org --port smtp=0", "1 to 65535" },
		{ "quickstart alice@example.org --port smtp=65536",
		    "1 to 65535" },
		{ "quickstart alice@example.org --port smtp=+25",
		    "1 to 65535" },
		{ "quickstart alice@example.org --port smtp=25x",
		    "1 to 65535" },
		{ "quickstart alice@example.org --acme http://x.example/",
		    "https://" },
		{ "quickstart alice@example.org --acme https://", "https://" },
		{ "quickstart alice@example.org --listen 127.0.0.1",
		    "unknown option" },
	};
	struct ctl_quickstart_opts	o;
	char				err[256];
	size_t				i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (args(bad[i].cmd, &o, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i].cmd);
		if (strstr(err, bad[i].err) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].cmd,
			    err, bad[i].err);
	}
}

/* A domain of 250 octets: mail.DOMAIN is too long, --hostname helps. */
static void
test_args_long_domain(void **state)
{
	struct ctl_quickstart_opts	o;
	struct conf			*c;
	struct buf			 text;
	char				cmd[512], err[256];
	size_t				n;

	(void)state;
	n = (size_t)snprintf(cmd, sizeof(cmd), "quickstart a@");
	memset(cmd + n, 'a', 63);
	cmd[n + 63] = '.';
	memset(cmd + n + 64, 'b', 63);
	cmd[n + 127] = '.';
	memset(cmd + n + 128, 'c', 63);
	cmd[n + 191] = '.';
	memset(cmd + n + 192, 'd', 54);
	(void)snprintf(cmd + n + 246, sizeof(cmd) - n - 246, ".org");
	assert_int_equal(strlen(cmd) - n, 250);
	assert_int_equal(args(cmd, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "give --hostname"));
	n = strlen(cmd);
	(void)snprintf(cmd + n, sizeof(cmd) - n, " --hostname mx.example");
	assert_int_equal(args(cmd, &o, err, sizeof(err)), 0);
	assert_string_equal(o.hostname, "mx.example");
	/*
	 * Found by fuzz_ctl_quickstart: its tlsrpt-rua would pass
	 * CONF_RUA_MAX, so it is left to the default (the same address).
	 */
	c = conf_of(cmd, &text);
	assert_string_equal(c->tlsrpt_rua, "");
	assert_int_equal(strlen(c->domains[0]), 250);
	conf_free(c);
	buf_free(&text);
}

/* The defaults, as the daemon reads them. */
static void
test_conf_defaults(void **state)
{
	static const struct {
		enum conf_listen_kind	 kind;
		const char		*text;
		uint16_t		 port;
	} want[] = {
		{ CONF_LISTEN_SMTP, "*:25", 25 },
		{ CONF_LISTEN_SUBMISSION, "*:587", 587 },
		{ CONF_LISTEN_SUBMISSIONS, "*:465", 465 },
		{ CONF_LISTEN_IMAPS, "*:993", 993 },
		{ CONF_LISTEN_POP3S, "*:995", 995 },
		{ CONF_LISTEN_HTTPS, "*:443", 443 },
		{ CONF_LISTEN_HTTP, "*:80", 80 },
		{ CONF_LISTEN_METRICS, "127.0.0.1:9187", 9187 },
	};
	struct conf	*c;
	struct buf	 text;
	size_t		 i;

	(void)state;
	c = conf_of("quickstart alice@example.org", &text);
	assert_string_equal(c->hostname, "mail.example.org");
	assert_int_equal(c->ndomains, 1);
	assert_string_equal(c->domains[0], "example.org");
	assert_string_equal(c->state_dir, "/var/lib/cachet");
	assert_string_equal(c->mail_dir, "/var/mail/cachet");
	assert_string_equal(c->tls_cert, "");
	assert_string_equal(c->acme_url,
	    "https://acme-v02.api.letsencrypt.org/directory");
	assert_string_equal(c->acme_contact, "postmaster@example.org");
	assert_true(c->sts_policy.set);
	assert_int_equal(c->sts_policy.mode, CONF_STS_TESTING);
	assert_string_equal(c->tlsrpt_rua, "mailto:postmaster@example.org");
	assert_string_equal(c->delivery.postmaster, "alice@example.org");
	assert_string_equal(c->dmarc_report_from, "postmaster@example.org");
	assert_false(c->plaintext_auth_loopback);
	assert_false(c->has_resolver);
	assert_int_equal(c->nlistens, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < c->nlistens; i++) {
		assert_int_equal(c->listens[i].kind, want[i].kind);
		assert_string_equal(c->listens[i].text, want[i].text);
		assert_int_equal(port_of(&c->listens[i]), want[i].port);
	}
	/* No cleartext IMAP or POP3 (see ctl_quickstart.c). */
	for (i = 0; i < c->nlistens; i++)
		assert_true(c->listens[i].kind != CONF_LISTEN_IMAP &&
		    c->listens[i].kind != CONF_LISTEN_POP3);
	conf_free(c);
	buf_free(&text);
}

static void
test_conf_options(void **state)
{
	struct conf	*c;
	struct buf	 text;
	size_t		 i;

	(void)state;
	c = conf_of("quickstart bob@example.net --hostname mx.example.net "
	    "--state-dir /srv/s --mail-dir /srv/m --listen-address 127.0.0.2 "
	    "--port imaps=2993 --port metrics=9100 --acme "
	    "https://127.0.0.1:14000/dir --resolver 127.0.0.1:5353", &text);
	assert_string_equal(c->hostname, "mx.example.net");
	assert_string_equal(c->state_dir, "/srv/s");
	assert_string_equal(c->mail_dir, "/srv/m");
	assert_string_equal(c->acme_url, "https://127.0.0.1:14000/dir");
	assert_string_equal(c->acme_contact, "postmaster@example.net");
	assert_true(c->has_resolver);
	assert_string_equal(c->resolver_text, "127.0.0.1:5353");
	for (i = 0; i < c->nlistens; i++) {
		if (c->listens[i].kind == CONF_LISTEN_IMAPS)
			assert_string_equal(c->listens[i].text,
			    "127.0.0.2:2993");
		else if (c->listens[i].kind == CONF_LISTEN_METRICS)
			/* --listen-address leaves metrics on loopback */
			assert_string_equal(c->listens[i].text,
			    "127.0.0.1:9100");
		else
			assert_non_null(strstr(c->listens[i].text,
			    "127.0.0.2:"));
	}
	conf_free(c);
	buf_free(&text);
}

/*
 * The file is what newcomers read: it opens pointing at the manual,
 * and each paragraph with a directive starts with a comment.
 */
static void
test_conf_commented(void **state)
{
	struct conf	*c;
	struct buf	 text;
	const char	*p, *nl;
	bool		 para_start = true, para_commented = false;
	size_t		 ndirectives = 0;

	(void)state;
	c = conf_of("quickstart alice@example.org", &text);
	assert_true(strncmp(text.data, "# cachet.conf for example.org", 29) ==
	    0);
	assert_non_null(strstr(text.data, "docs/cachet.conf.md"));
	for (p = text.data; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (nl == p) {
			para_start = true;
			continue;
		}
		if (para_start)
			para_commented = *p == '#';
		para_start = false;
		if (*p != '#' && *p != '\t' && *p != '}') {
			ndirectives++;
			if (!para_commented)
				fail_msg("uncommented: %.*s", (int)(nl - p), p);
		}
	}
	/* hostname .. dmarc-report-from: 8 listeners and 9 others */
	assert_int_equal(ndirectives, 17);
	conf_free(c);
	buf_free(&text);
}

static void
test_conf_too_long(void **state)
{
	struct ctl_quickstart_opts	o;
	struct buf			text;
	char				err[256];

	(void)state;
	assert_int_equal(args("quickstart alice@example.org", &o, err,
	    sizeof(err)), 0);
	buf_init(&text, 512);
	assert_int_equal(ctl_quickstart_conf(&o, "2026-12-06", &text), -1);
	buf_free(&text);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_form),
		cmocka_unit_test(test_password_alphabet),
		cmocka_unit_test(test_args_defaults),
		cmocka_unit_test(test_args_options),
		cmocka_unit_test(test_args_refused),
		cmocka_unit_test(test_args_long_domain),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_options),
		cmocka_unit_test(test_conf_commented),
		cmocka_unit_test(test_conf_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
