/*
 * ctl_quickstart: see ctl_quickstart.h.  Runs in cachetctl, with no
 * daemon: it writes the config, the lookup role's users database and
 * DKIM key store (secrets it makes, never reads back), then prints.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ctl_quickstart.h"
#include "dnsrec.h"
#include "http_policy.h"
#include "lookup/dkimkey.h"
#include "lookup/users.h"
#include "mailaddr.h"
#include "proc.h"
#include "util.h"

#define CTL_QUICKSTART_CONF_MAX	(64 * 1024)
#define CTL_QUICKSTART_ACME	"https://acme-v02.api.letsencrypt.org/directory"

/*
 * The listeners.  Port 25 takes mail from other servers (RFC 5321);
 * clients submit on 465 (implicit TLS, which RFC 8314 §3.3 prefers) and
 * 587 (STARTTLS, RFC 6409: what many clients still try first) and read
 * on 993 and 995 (implicit TLS, RFC 8314 §3.2).  The cleartext 143 and
 * 110 are left out: every current client speaks TLS from the first
 * byte, and a port without it only invites a password sent before
 * STARTTLS.  443 serves the MTA-STS policy and client autoconfig, 80
 * the ACME http-01 challenges (RFC 8555 §8.3 asks on port 80), and the
 * metrics stay on loopback for a local Prometheus.
 */
static const struct {
	enum conf_listen_kind	 kind;
	uint16_t		 port;
	bool			 loopback;
	const char		*why;
} ctl_quickstart_listens[CTL_QUICKSTART_NLISTEN] = {
	{ CONF_LISTEN_SMTP, 25, false, "mail from other servers, STARTTLS" },
	{ CONF_LISTEN_SUBMISSION, 587, false,
	    "your mail clients, STARTTLS (RFC 6409)" },
	{ CONF_LISTEN_SUBMISSIONS, 465, false,
	    "your mail clients, TLS (RFC 8314)" },
	{ CONF_LISTEN_IMAPS, 993, false, "IMAP over TLS" },
	{ CONF_LISTEN_POP3S, 995, false, "POP3 over TLS" },
	{ CONF_LISTEN_HTTPS, 443, false, "MTA-STS policy, autoconfig" },
	{ CONF_LISTEN_HTTP, 80, false, "ACME http-01 challenges" },
	{ CONF_LISTEN_METRICS, 9187, true, "Prometheus, no auth: loopback" },
};

/* 32 characters: lower case and digits without 0, 1, l and o. */
static const char ctl_quickstart_alphabet[] =
    "23456789abcdefghijkmnpqrstuvwxyz";
_Static_assert(sizeof(ctl_quickstart_alphabet) == 32 + 1, "32 characters");

#define CTL_QUICKSTART_USAGE \
	"usage: cachetctl -f FILE quickstart ADDRESS [--hostname NAME]\n" \
	"       [--state-dir PATH] [--mail-dir PATH] " \
	"[--listen-address ADDR]\n" \
	"       [--port KIND=PORT ...] [--acme URL] [--resolver ADDR[:PORT]]\n"

/* --- the pure parts --- */

void
ctl_quickstart_password(const uint8_t rnd[CTL_QUICKSTART_PASSWORD_LEN],
    char out[CTL_QUICKSTART_PASSWORD_SIZE])
{
	size_t	i, j = 0;

	for (i = 0; i < CTL_QUICKSTART_PASSWORD_LEN; i++) {
		if (i > 0 && i % 5 == 0)
			out[j++] = '-';
		/* 256 is a multiple of 32: every character equally likely. */
		out[j++] = ctl_quickstart_alphabet[rnd[i] & 31];
	}
	out[j] = '\0';
}

/*
 * A value that is one bare word of the config (cachet.conf.md
 * "Syntax"): printable ASCII without space, quote, backslash, braces or
 * '#', which would start a comment.
 */
static bool
ctl_quickstart_word_ok(const char *s, size_t max)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] <= ' ' || s[i] > '~' || s[i] == '#' ||
		    s[i] == '"' || s[i] == '\\' || s[i] == '{' || s[i] == '}')
			return false;
	return i > 0;
}

static void
ctl_quickstart_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ADDRESS: a dot-atom local part (as users.h stores) at a host name. */
static int
ctl_quickstart_address(struct ctl_quickstart_opts *o, const char *s,
    char *err, size_t errsz)
{
	struct mailaddr	a;
	size_t		i, len = strnlen(s, MAILBOX_ADDR_MAX + 1);

	if (len > MAILBOX_ADDR_MAX ||
	    mailaddr_parse(s, len, false, &a) != MAILADDR_OK ||
	    a.is_literal || a.domain[0] == '\0') {
		(void)snprintf(err, errsz, "not an address: %.64s", s);
		return -1;
	}
	/*
	 * A dot-atom (RFC 5322 §3.2.3) without '#' and braces, which the
	 * config's syntax would read as a comment or a block.
	 */
	for (i = 0; a.local[i] != '\0'; i++)
		if (!isalnum((unsigned char)a.local[i]) &&
		    strchr("!$%&'*+-/=?^_`|~.", a.local[i]) == NULL) {
			(void)snprintf(err, errsz, "%.64s: the local part must "
			    "be letters, digits and !$%%&'*+-/=?^_`|~.", s);
			return -1;
		}
	if (!dns_hostname_ok(a.domain, strlen(a.domain)) ||
	    strlen(a.domain) > DNS_NAME_MAX) {
		(void)snprintf(err, errsz, "%.64s: the domain is not a host "
		    "name", s);
		return -1;
	}
	ctl_quickstart_lower(a.domain);
	(void)str_copy(o->domain, sizeof(o->domain), a.domain);
	(void)snprintf(o->address, sizeof(o->address), "%s@%s", a.local,
	    a.domain);
	return 0;
}

/* ADDR of --listen-address: "*", an IPv4 literal or [IPv6]. */
static bool
ctl_quickstart_addr_ok(const char *s)
{
	unsigned char	 in6[16];
	char		 v6[INET6_ADDRSTRLEN];
	size_t		 len = strlen(s);

	if (strcmp(s, "*") == 0 || inet_pton(AF_INET, s, in6) == 1)
		return true;
	if (len < 3 || len - 2 >= sizeof(v6) || s[0] != '[' ||
	    s[len - 1] != ']')
		return false;
	memcpy(v6, s + 1, len - 2);
	v6[len - 2] = '\0';
	return inet_pton(AF_INET6, v6, in6) == 1;
}

/* --port KIND=PORT. */
static int
ctl_quickstart_port(struct ctl_quickstart_opts *o, const char *v, char *err,
    size_t errsz)
{
	const char	*eq = strchr(v, '=');
	char		*end;
	unsigned long	 port;
	size_t		 i, klen;

	if (eq == NULL) {
		(void)snprintf(err, errsz, "--port %.64s: not KIND=PORT", v);
		return -1;
	}
	klen = (size_t)(eq - v);
	for (i = 0; i < CTL_QUICKSTART_NLISTEN; i++) {
		const char *name = conf_listen_kind_name(
		    ctl_quickstart_listens[i].kind);

		if (strlen(name) == klen && strncmp(name, v, klen) == 0)
			break;
	}
	if (i == CTL_QUICKSTART_NLISTEN) {
		(void)snprintf(err, errsz, "--port %.64s: KIND is one of smtp, "
		    "submission, submissions, imaps, pop3s, https, http, "
		    "metrics", v);
		return -1;
	}
	errno = 0;
	port = strtoul(eq + 1, &end, 10);
	if (!isdigit((unsigned char)eq[1]) || *end != '\0' || errno != 0 ||
	    port == 0 || port > 65535) {
		(void)snprintf(err, errsz, "--port %.64s: PORT is 1 to 65535",
		    v);
		return -1;
	}
	o->ports[i] = (uint16_t)port;
	return 0;
}

int
ctl_quickstart_args(int argc, char **argv, struct ctl_quickstart_opts *o,
    char *err, size_t errsz)
{
	const char	*opt, *v;
	bool		 have_addr = false, have_host = false;
	int		 i;

	memset(o, 0, sizeof(*o));
	(void)str_copy(o->state_dir, sizeof(o->state_dir), "/var/lib/cachet");
	(void)str_copy(o->mail_dir, sizeof(o->mail_dir), "/var/mail/cachet");
	(void)str_copy(o->listen_address, sizeof(o->listen_address), "*");
	(void)str_copy(o->acme_url, sizeof(o->acme_url), CTL_QUICKSTART_ACME);
	for (i = 0; i < CTL_QUICKSTART_NLISTEN; i++)
		o->ports[i] = ctl_quickstart_listens[i].port;

	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			if (have_addr) {
				(void)snprintf(err, errsz, "one ADDRESS only");
				return -1;
			}
			if (ctl_quickstart_address(o, argv[i], err, errsz) ==
			    -1)
				return -1;
			have_addr = true;
			continue;
		}
		opt = argv[i];
		if (i + 1 == argc) {
			(void)snprintf(err, errsz, "%.32s needs a value", opt);
			return -1;
		}
		v = argv[++i];
		if (!ctl_quickstart_word_ok(v, CTL_QUICKSTART_VALUE_MAX)) {
			(void)snprintf(err, errsz, "%.32s: the value must be "
			    "printable ASCII without spaces, quotes, "
			    "backslashes, braces or '#'", opt);
			return -1;
		}
		if (strcmp(opt, "--hostname") == 0) {
			if (!dns_hostname_ok(v, strlen(v)) ||
			    str_copy(o->hostname, sizeof(o->hostname), v) ==
			    -1) {
				(void)snprintf(err, errsz, "--hostname %.64s: "
				    "not a host name", v);
				return -1;
			}
			ctl_quickstart_lower(o->hostname);
			have_host = true;
		} else if (strcmp(opt, "--state-dir") == 0 ||
		    strcmp(opt, "--mail-dir") == 0) {
			if (v[0] != '/' || str_copy(opt[2] == 's' ?
			    o->state_dir : o->mail_dir, CONF_PATH_MAX, v) ==
			    -1) {
				(void)snprintf(err, errsz, "%s: an absolute "
				    "path, shorter than %d octets", opt,
				    CONF_PATH_MAX);
				return -1;
			}
		} else if (strcmp(opt, "--listen-address") == 0) {
			if (!ctl_quickstart_addr_ok(v) ||
			    str_copy(o->listen_address,
			    sizeof(o->listen_address), v) == -1) {
				(void)snprintf(err, errsz, "--listen-address "
				    "%.64s: *, an IPv4 address or [IPv6]", v);
				return -1;
			}
		} else if (strcmp(opt, "--port") == 0) {
			if (ctl_quickstart_port(o, v, err, errsz) == -1)
				return -1;
		} else if (strcmp(opt, "--acme") == 0) {
			/* RFC 8555 §6.1: the directory is over HTTPS. */
			if (strncasecmp(v, "https://", 8) != 0 ||
			    v[8] == '\0' || str_copy(o->acme_url,
			    sizeof(o->acme_url), v) == -1) {
				(void)snprintf(err, errsz, "--acme: an "
				    "https:// URL of at most %d octets",
				    CONF_URL_MAX);
				return -1;
			}
		} else if (strcmp(opt, "--resolver") == 0) {
			if (str_copy(o->resolver, sizeof(o->resolver), v) ==
			    -1) {
				(void)snprintf(err, errsz, "--resolver: too "
				    "long");
				return -1;
			}
		} else {
			(void)snprintf(err, errsz, "unknown option %.32s", opt);
			return -1;
		}
	}
	if (!have_addr) {
		(void)snprintf(err, errsz, "the first user's ADDRESS is "
		    "missing");
		return -1;
	}
	if (!have_host && snprintf(o->hostname, sizeof(o->hostname),
	    "mail.%s", o->domain) >= (int)sizeof(o->hostname)) {
		(void)snprintf(err, errsz, "mail.DOMAIN would be too long "
		    "for a host name: give --hostname");
		return -1;
	}
	if (!dns_hostname_ok(o->hostname, strlen(o->hostname))) {
		(void)snprintf(err, errsz, "mail.DOMAIN is not a host name: "
		    "give --hostname");
		return -1;
	}
	return 0;
}

int
ctl_quickstart_conf(const struct ctl_quickstart_opts *o, const char *date,
    struct buf *out)
{
	const char	*d = o->domain, *addr;
	char		 where[96];
	size_t		 i;
	int		 rc = 0;

	rc |= buf_printf(out,
	    "# cachet.conf for %s, written by `cachetctl quickstart` on %s.\n"
	    "# Each directive is explained in docs/cachet.conf.md (man 5 "
	    "cachet.conf);\n"
	    "# check the file after each edit with `cachetd -n -f FILE`, "
	    "then apply it\n"
	    "# with `cachetctl reload`.  Settings not named here keep their "
	    "defaults\n"
	    "# (spam filter, greylisting, limits, retries): see that page.\n"
	    "\n", d, date);

	rc |= buf_printf(out,
	    "# The name this server gives itself: SMTP greeting, Received:, "
	    "its\n"
	    "# certificate.  It needs an A (and AAAA) record pointing here, "
	    "and the\n"
	    "# reverse DNS (PTR) of those addresses should name it.\n"
	    "hostname %s\n"
	    "\n"
	    "# The domain we take mail for: mail to its addresses goes to a "
	    "user or an\n"
	    "# alias (`cachetctl user add`, `cachetctl alias add`).  Its DKIM "
	    "keys\n"
	    "# (ed25519 and rsa-2048) were made with this file; another "
	    "domain gets\n"
	    "# its own at the next start (`cachetctl dns DOMAIN` prints its "
	    "records).\n"
	    "domain %s\n"
	    "\n"
	    "# The queue, the users database, DKIM keys and certificates; "
	    "the mailboxes\n"
	    "# (a Maildir per user).  Back both up.\n"
	    "state-dir %s\n"
	    "mail-dir  %s\n"
	    "\n", o->hostname, d, o->state_dir, o->mail_dir);

	rc |= buf_printf(out,
	    "# Certificates from an ACME server (RFC 8555), Let's Encrypt by "
	    "default, for\n"
	    "# hostname and the mta-sts. and autoconfig. names of each "
	    "domain, renewed\n"
	    "# 30 days before they expire.  The challenge is answered on "
	    "port 80\n"
	    "# (listen http below), which must be reachable from the "
	    "Internet.  Until\n"
	    "# the first certificate arrives, a self-signed one is used.\n"
	    "tls {\n"
	    "\tacme    %s\n"
	    "\tcontact mailto:postmaster@%s\n"
	    "}\n"
	    "\n", o->acme_url, d);

	rc |= buf_printf(out,
	    "# Listeners.  Clients use implicit TLS (993, 995, 465; RFC "
	    "8314), so no\n"
	    "# cleartext IMAP (143) or POP3 (110): add `listen imap *:143` "
	    "only for an\n"
	    "# old client.  With IPv6, add each listener on [::] too (e.g. "
	    "listen smtp\n"
	    "# [::]:25) and publish an AAAA record for hostname.\n");
	for (i = 0; i < CTL_QUICKSTART_NLISTEN; i++) {
		addr = ctl_quickstart_listens[i].loopback ? "127.0.0.1" :
		    o->listen_address;
		(void)snprintf(where, sizeof(where), "%s:%u", addr,
		    (unsigned)o->ports[i]);
		rc |= buf_printf(out, "listen %-11s %-18s # %s\n",
		    conf_listen_kind_name(ctl_quickstart_listens[i].kind),
		    where, ctl_quickstart_listens[i].why);
	}
	rc |= buf_append_str(out, "\n");

	rc |= buf_printf(out,
	    "# MTA-STS (RFC 8461): senders are asked to reach hostname over "
	    "verified\n"
	    "# TLS.  In testing mode they deliver anyway and report failures "
	    "(TLS-RPT,\n"
	    "# below).  After a few weeks of clean reports (`cachetctl "
	    "tlsrpt received`),\n"
	    "# say `enforce`, `cachetctl reload`, and publish the new "
	    "_mta-sts record\n"
	    "# that `cachetctl dns %s` prints.\n"
	    "mta-sts-policy testing\n"
	    "\n"
	    "# TLS reports (RFC 8460) from other servers about their "
	    "connections to us.\n"
	    "%stlsrpt-rua mailto:postmaster@%s\n"
	    "\n"
	    "# postmaster@ and abuse@ of each domain (RFC 5321 §4.5.1, RFC "
	    "2142), and\n"
	    "# with them the TLS and DMARC reports other servers send us, go "
	    "to the\n"
	    "# first user.  Our own DMARC reports to other domains (RFC 7489 "
	    "§7.2) are\n"
	    "# sent from postmaster@%s.\n"
	    "postmaster %s\n"
	    "dmarc-report-from postmaster@%s\n"
	    "\n", d,
	    /* Too long for the directive: the same default, left implicit. */
	    strlen(d) + 18 > CONF_RUA_MAX ? "# (the default) " : "", d, d,
	    o->address, d);

	if (o->resolver[0] != '\0')
		rc |= buf_printf(out,
		    "# DNS questions go to this resolver.  It should validate "
		    "DNSSEC (DANE,\n"
		    "# RFC 7672, relies on it) or be on loopback.\n"
		    "resolver %s\n", o->resolver);
	else
		rc |= buf_printf(out,
		    "# DNS: the resolvers of /etc/resolv.conf.  DANE (RFC "
		    "7672) needs one that\n"
		    "# validates DNSSEC; a local unbound is best:\n"
		    "# resolver 127.0.0.1\n");
	return rc == 0 ? 0 : -1;
}

/* --- the command --- */

/* Does path exist (anything, a dangling link included)? */
static bool
ctl_quickstart_exists(const char *path)
{
	struct stat	st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

/* Give path (when it exists) to pw's user: lookup must open it. */
static int
ctl_quickstart_chown(const char *path, const struct passwd *pw)
{
	if (chown(path, pw->pw_uid, pw->pw_gid) == -1 && errno != ENOENT) {
		fprintf(stderr, "cachetctl: chown %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The database at path with SQLite's companions. */
static const char *const ctl_quickstart_sqlite_ext[] = {
	"", "-wal", "-shm", "-journal",
};
#define CTL_QUICKSTART_NEXT	(sizeof(ctl_quickstart_sqlite_ext) / \
	sizeof(ctl_quickstart_sqlite_ext[0]))

/*
 * Give the database at path and its companions to pw's user, or with pw
 * NULL remove them (an install that failed half-way).
 */
static int
ctl_quickstart_db_files(const char *path, const struct passwd *pw)
{
	char	p[CONF_PATH_MAX + 16];
	size_t	i;

	for (i = 0; i < CTL_QUICKSTART_NEXT; i++) {
		(void)snprintf(p, sizeof(p), "%s%s", path,
		    ctl_quickstart_sqlite_ext[i]);
		if (pw == NULL)
			(void)unlink(p);
		else if (ctl_quickstart_chown(p, pw) == -1)
			return -1;
	}
	return 0;
}

/*
 * Write the config: a new file only (O_EXCL), synced, its directory
 * made when missing (/etc/cachet on a fresh system).
 */
static int
ctl_quickstart_write(const char *file, const struct buf *text)
{
	char	dir[CONF_PATH_MAX], *slash;
	int	fd;

	if (str_copy(dir, sizeof(dir), file) == 0 &&
	    (slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0755) == -1) {
			fprintf(stderr, "cachetctl: %s: %s\n", dir,
			    strerror(errno));
			return -1;
		}
	}
	if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1) {
		fprintf(stderr, "cachetctl: %s: %s\n", file, strerror(errno));
		return -1;
	}
	if (write_full(fd, text->data, text->len) == -1 || fsync(fd) == -1) {
		fprintf(stderr, "cachetctl: %s: %s\n", file, strerror(errno));
		close(fd);
		(void)unlink(file);
		return -1;
	}
	close(fd);
	return 0;
}

/* A new store: no selector is taken. */
static bool
ctl_quickstart_untaken(const char *selector, void *arg)
{
	return false;
}

/*
 * The two keys lookup_dkimsign_autokeys() would make at the first
 * start, made now so that their records can be printed with the rest;
 * lookup then finds the domain has keys and makes none.
 */
static int
ctl_quickstart_dkim(const char *domain, struct dkimkey keys[2])
{
	struct tm	 tm;
	time_t		 now = time(NULL);
	const char	*err = NULL;
	size_t		 i;

	if (gmtime_r(&now, &tm) == NULL)
		return -1;
	for (i = 0; i < 2; i++) {
		memset(&keys[i], 0, sizeof(keys[i]));
		keys[i].alg = i == 0 ? DKIMKEY_ED25519 : DKIMKEY_RSA;
		keys[i].bits = i == 0 ? 256 : DKIMKEY_RSA_DEFAULT;
		keys[i].active = true;
		keys[i].created = (int64_t)now;
		(void)str_copy(keys[i].domain, sizeof(keys[i].domain), domain);
		if (dkimkey_selector(keys[i].alg, tm.tm_year + 1900,
		    ctl_quickstart_untaken, NULL, keys[i].selector,
		    sizeof(keys[i].selector)) == -1 ||
		    dkimkey_generate(&keys[i], &err) == -1) {
			fprintf(stderr, "cachetctl: DKIM key: %s\n",
			    err != NULL ? err : "no selector");
			if (i == 1)
				dkimkey_release(keys, 1);
			return -1;
		}
	}
	return 0;
}

/* The users database and the key store, made new in lookup's directory. */
static int
ctl_quickstart_stores(const struct ctl_quickstart_opts *o,
    const char *pass, const char *udb, const char *kdb,
    const struct dkimkey keys[2])
{
	struct users		*u;
	struct dkimkey_db	*kd;
	const char		*err = NULL;
	size_t			 i;

	if ((u = users_open(udb, true, &err)) == NULL) {
		fprintf(stderr, "cachetctl: %s: %s\n", udb, err);
		return -1;
	}
	if (users_domain_add(u, o->domain, &err) == -1 ||
	    users_user_add(u, o->address, pass, &err) == -1) {
		fprintf(stderr, "cachetctl: %s: %s\n", udb, err);
		users_close(u);
		return -1;
	}
	users_close(u);
	if ((kd = dkimkey_open(kdb, &err)) == NULL) {
		fprintf(stderr, "cachetctl: %s: %s\n", kdb, err);
		return -1;
	}
	for (i = 0; i < 2; i++)
		if (dkimkey_add(kd, &keys[i], &err) == -1) {
			fprintf(stderr, "cachetctl: %s: %s\n", kdb, err);
			dkimkey_close(kd);
			return -1;
		}
	dkimkey_close(kd);
	return 0;
}

/* The records of the domain, in zone-file lines, into out. */
static int
ctl_quickstart_records(const struct conf *conf,
    const struct ctl_quickstart_opts *o, const struct dkimkey keys[2],
    struct buf *out)
{
	struct dnsrec_in	 in;
	struct dnsrec		*recs;
	struct buf		 pol;
	char			 id[HTTP_POLICY_ID_LEN + 1];
	char			 txt[2][DKIMKEY_PUB_MAX + 32];
	size_t			 i, n;
	int			 rc = -1;

	memset(&in, 0, sizeof(in));
	in.conf = conf;
	in.domain = o->domain;
	buf_init(&pol, HTTP_POLICY_MAX);
	if (http_policy_text(&conf->sts_policy, &pol) == -1)
		goto done;
	http_policy_id(pol.data != NULL ? pol.data : "", pol.len, id);
	in.sts_id = id;
	for (i = 0; i < 2; i++) {
		(void)str_copy(in.dkim[i].selector,
		    sizeof(in.dkim[i].selector), keys[i].selector);
		if (dkimkey_record(&keys[i], txt[i], sizeof(txt[i])) == -1)
			goto done;
		in.dkim[i].txt = txt[i];
	}
	in.ndkim = 2;
	/* No TLSA yet: the key of the first certificate is not made. */
	in.ntlsa = 0;
	recs = xcalloc(DNSREC_MAX, sizeof(*recs));
	/* The notes say why no TLSA record is printed yet. */
	if (dnsrec_build(&in, recs, DNSREC_MAX, &n) == 0 &&
	    dnsrec_zone(recs, n, out) == 0 && dnsrec_notes(&in, out) == 0)
		rc = 0;
	free(recs);
done:
	buf_free(&pol);
	return rc;
}

static void
ctl_quickstart_print(const char *file, const struct ctl_quickstart_opts *o,
    const char *pass, const struct buf *zone)
{
	printf("Wrote %s for %s (hostname %s).\n\n", file, o->domain,
	    o->hostname);
	printf("The first user, shown this once (change it with "
	    "`cachetctl user passwd`):\n"
	    "  address:  %s\n"
	    "  password: %s\n\n", o->address, pass);
	printf("DNS records to publish for %s:\n\n%.*s\n", o->domain,
	    (int)zone->len, zone->data != NULL ? zone->data : "");
	printf("The TLSA records of _25._tcp.%s (DANE) come with the first\n"
	    "certificate: `cachetctl -f %s dns %s` prints them then,\n"
	    "with the rest.\n\n", o->hostname, file, o->domain);
	printf("Next:\n"
	    "  1. Give %s an A (and AAAA) record pointing at this server,\n"
	    "     and ask your provider for reverse DNS (PTR) naming it.  Open "
	    "the\n"
	    "     ports 25, 80, 443, 465, 587, 993 and 995.\n"
	    "  2. Publish the records above.\n"
	    "  3. Start the server, as root: cachetd -f %s\n"
	    "     (installed by `make install`, with this file as\n"
	    "     /etc/cachet/cachet.conf: systemctl enable --now cachetd).\n"
	    "  4. Check the DNS: cachetctl -f %s dns check %s\n"
	    "  5. Log in from your mail client as %s with the password above:\n"
	    "     IMAP %s port 993 (TLS), SMTP port 465 (TLS) or 587 "
	    "(STARTTLS).\n"
	    "  6. After a few weeks of clean TLS reports, set "
	    "`mta-sts-policy enforce`.\n",
	    o->hostname, file, file, o->domain, o->address, o->hostname);
}

int
ctl_quickstart(const char *file, int argc, char **argv)
{
	struct ctl_quickstart_opts	 o;
	struct conf			*conf = NULL;
	struct dkimkey			 keys[2];
	struct passwd			*pw = NULL;
	struct buf			 text, zone;
	struct tm			 tm;
	time_t				 now = time(NULL);
	uint8_t				 rnd[CTL_QUICKSTART_PASSWORD_LEN];
	char				 err[256], errs[4096], date[16];
	char				 pass[CTL_QUICKSTART_PASSWORD_SIZE];
	char				 dir[CONF_PATH_MAX], user[64];
	char				 udb[CONF_PATH_MAX + 16];
	char				 kdb[CONF_PATH_MAX + 16];
	bool				 keys_made = false, wrote = false;
	int				 code = 1;

	if (file == NULL) {
		fprintf(stderr, "cachetctl: quickstart: name the file to "
		    "write with -f FILE\n" CTL_QUICKSTART_USAGE);
		return 2;
	}
	if (ctl_quickstart_args(argc, argv, &o, err, sizeof(err)) == -1) {
		fprintf(stderr, "cachetctl: quickstart: %s\n"
		    CTL_QUICKSTART_USAGE, err);
		return 2;
	}
	if (ctl_quickstart_exists(file)) {
		fprintf(stderr, "cachetctl: quickstart: %s exists: it is "
		    "never overwritten (move it away or edit it)\n", file);
		return 1;
	}
	buf_init(&text, CTL_QUICKSTART_CONF_MAX);
	buf_init(&zone, DNSREC_MAX * (DNSREC_VALUE_MAX + DNS_NAME_MAX + 32));
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		(void)str_copy(date, sizeof(date), "?");
	if (ctl_quickstart_conf(&o, date, &text) == -1) {
		fprintf(stderr, "cachetctl: quickstart: config too long\n");
		goto done;
	}
	/* What cachetd -n will say of it, before anything is written. */
	if ((conf = conf_parse(file, text.data, text.len, errs,
	    sizeof(errs))) == NULL) {
		fprintf(stderr, "cachetctl: quickstart: the config made from "
		    "these options does not parse:\n%s", errs);
		code = 2;
		goto done;
	}
	proc_dir_path(conf, PROC_LOOKUP, dir, sizeof(dir));
	if (path_join(udb, sizeof(udb), dir, USERS_DB_NAME) == -1 ||
	    path_join(kdb, sizeof(kdb), dir, DKIMKEY_DB) == -1) {
		fprintf(stderr, "cachetctl: quickstart: state-dir too long\n");
		goto done;
	}
	if (ctl_quickstart_exists(udb) || ctl_quickstart_exists(kdb)) {
		fprintf(stderr, "cachetctl: quickstart: %s already holds "
		    "users or DKIM keys: quickstart makes a new install (add "
		    "to this one with `cachetctl user add` and `domain add`)\n",
		    dir);
		goto done;
	}

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		fprintf(stderr, "cachetctl: getrandom: %s\n", strerror(errno));
		goto done;
	}
	ctl_quickstart_password(rnd, pass);
	explicit_bzero(rnd, sizeof(rnd));
	if (ctl_quickstart_dkim(o.domain, keys) == -1)
		goto done;
	keys_made = true;

	/*
	 * lookup's directory as the parent makes it; as root, owned by
	 * lookup's user (made now if missing), so that the role can open
	 * what is written into it.
	 */
	if (geteuid() == 0) {
		proc_user(conf, PROC_LOOKUP, user, sizeof(user));
		proc_ensure_user(user);
		if ((pw = getpwnam(user)) == NULL) {
			fprintf(stderr, "cachetctl: no user %s\n", user);
			goto done;
		}
	}
	if (mkdir_p(conf->state_dir, 0755) == -1 || mkdir_p(dir, 0700) == -1 ||
	    chmod(dir, 0700) == -1) {
		fprintf(stderr, "cachetctl: %s: %s\n", dir, strerror(errno));
		goto done;
	}
	if (pw != NULL && ctl_quickstart_chown(dir, pw) == -1)
		goto done;

	if (ctl_quickstart_write(file, &text) == -1)
		goto done;
	wrote = true;
	if (ctl_quickstart_stores(&o, pass, udb, kdb, keys) == -1 ||
	    (pw != NULL && (ctl_quickstart_db_files(udb, pw) == -1 ||
	    ctl_quickstart_db_files(kdb, pw) == -1))) {
		(void)ctl_quickstart_db_files(udb, NULL);
		(void)ctl_quickstart_db_files(kdb, NULL);
		goto done;
	}
	if (ctl_quickstart_records(conf, &o, keys, &zone) == -1) {
		/* Written and usable: `cachetctl dns` prints them later. */
		fprintf(stderr, "cachetctl: quickstart: the DNS records do "
		    "not fit: see `cachetctl dns %s` once started\n",
		    o.domain);
		buf_reset(&zone);
	}
	ctl_quickstart_print(file, &o, pass, &zone);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		/* The password was not seen: nothing may stay behind. */
		fprintf(stderr, "cachetctl: output: %s\n", strerror(errno));
		(void)ctl_quickstart_db_files(udb, NULL);
		(void)ctl_quickstart_db_files(kdb, NULL);
		goto done;
	}
	code = 0;
done:
	if (code != 0 && wrote)
		(void)unlink(file);
	explicit_bzero(pass, sizeof(pass));
	if (keys_made)
		dkimkey_release(keys, 2);
	buf_free(&zone);
	buf_free(&text);
	conf_free(conf);
	return code;
}
