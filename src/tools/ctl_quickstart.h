/*
 * ctl_quickstart: `cachetctl -f FILE quickstart ADDRESS [options]`
 * (issue 16), run before the daemon ever starts.  It writes FILE, a
 * commented production config for ADDRESS's domain; makes the users
 * database in state-dir/lookup with ADDRESS as its first user and a
 * generated password, and the domain's two DKIM keys (so that their
 * records can be printed now); and prints the password once, the DNS
 * records to publish and the next steps.  As root, the files it makes
 * for the lookup role are given to lookup's user (created if missing,
 * as the parent does).  It never overwrites: an existing FILE or a
 * state-dir that already holds users or DKIM keys is refused.
 *
 * What it trusts: its arguments are checked here (an address, a host
 * name, absolute paths, values that cannot break the config's syntax);
 * the text it writes is parsed by conf_parse() before it is written.
 * The parts below the last prototype are pure (no files, no clock, no
 * randomness of their own) for the unit tests.
 */
#ifndef CACHET_CTL_QUICKSTART_H
#define CACHET_CTL_QUICKSTART_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"
#include "mailbox.h"

/*
 * The password: 20 characters of a 32-letter alphabet without look-
 * alikes (no 0/o, 1/l), 100 bits from getrandom(2), written in four
 * groups of five joined by '-' (printable ASCII: it gets SCRAM keys).
 */
#define CTL_QUICKSTART_PASSWORD_LEN	20
#define CTL_QUICKSTART_PASSWORD_SIZE	(CTL_QUICKSTART_PASSWORD_LEN + 3 + 1)

/* The listeners written, in this order (ctl_quickstart.c says why). */
#define CTL_QUICKSTART_NLISTEN	8
#define CTL_QUICKSTART_VALUE_MAX	CONF_URL_MAX	/* one option's value */

struct ctl_quickstart_opts {
	char		 address[MAILBOX_ADDR_MAX + 1];	/* domain lower-cased */
	char		 domain[DNS_NAME_MAX + 1];
	char		 hostname[DNS_NAME_MAX + 1];	/* or mail.DOMAIN */
	char		 state_dir[CONF_PATH_MAX];	/* absolute */
	char		 mail_dir[CONF_PATH_MAX];
	char		 listen_address[64];		/* default "*" */
	char		 acme_url[CONF_URL_MAX + 1];	/* Let's Encrypt */
	char		 resolver[64];		/* "" = /etc/resolv.conf */
	uint16_t	 ports[CTL_QUICKSTART_NLISTEN];
};

/*
 * `cachetctl -f FILE quickstart ...`: argv[0] is "quickstart".  The
 * exit code: 0, 1 when something failed (FILE exists, a file could not
 * be written), 2 for bad arguments.
 */
int	ctl_quickstart(const char *file, int argc, char **argv);

/*
 * Parse argv (argv[0] "quickstart"; the address and the options in any
 * order) into *o, defaults first.  0, or -1 with a message in err.
 */
int	ctl_quickstart_args(int argc, char **argv,
	    struct ctl_quickstart_opts *o, char *err, size_t errsz);

/*
 * The password made of rnd (each octet gives one character, uniformly:
 * its low five bits) into out.
 */
void	ctl_quickstart_password(const uint8_t rnd[CTL_QUICKSTART_PASSWORD_LEN],
	    char out[CTL_QUICKSTART_PASSWORD_SIZE]);

/*
 * The config text of o into out; date ("2026-12-06") names the day in
 * its first comment.  0, or -1 when out's max is too small.
 */
int	ctl_quickstart_conf(const struct ctl_quickstart_opts *o,
	    const char *date, struct buf *out);

#endif
