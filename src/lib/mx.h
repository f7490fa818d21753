/*
 * mx: where to deliver the mail of one domain (RFC 5321 §5.1, RFC 7505).
 * Pure routing logic: the caller asks DNS, mx decides.  Run by the lookup
 * role (for MSG_LOOKUP_MX) or the mta; no I/O, no clock, randomness only
 * through a function the caller passes (tests fix it).
 *
 * The three steps, each a function:
 *
 *   mx_plan()       the config's `relay` directives decide what to look
 *                   up: the domain's MX (the default), a relay host's MX,
 *                   or nothing (a [host] or an address literal);
 *   mx_route()      the MX answer (or its absence) becomes an ordered
 *                   list of host names to try, or a temporary or
 *                   permanent failure;
 *   mx_addresses()  the A and AAAA answers of those hosts become an
 *                   ordered list of addresses to connect to.
 *
 * A DNS temporary failure always gives MX_TEMPFAIL ("try later"): it is
 * never read as "no MX" (RFC 5321 §5.1 applies the implicit MX only when
 * the MX query succeeded with an empty answer).
 */
#ifndef CACHET_MX_H
#define CACHET_MX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf.h"
#include "dns.h"

#define MX_HOSTS_MAX	16	/* MX hosts kept, most preferred first */
#define MX_ADDRS_MAX	32	/* addresses to try, over all hosts */
#define MX_PORT		25	/* RFC 5321 §4.5.4.2 */

enum mx_status {
	MX_OK,		/* hosts (or addresses) to try, in order */
	MX_TEMPFAIL,	/* try the whole route again later */
	MX_PERMFAIL,	/* no delivery is possible: bounce */
};

/* What to look up for a domain, from the config. */
struct mx_plan {
	/* the name to ask MX for, or the host to connect to (lower case) */
	char		 name[DNS_NAME_MAX + 1];
	uint16_t	 port;
	bool		 lookup_mx;	/* ask MX for name, then mx_route() */
	bool		 literal;	/* name is an IP address: no DNS */
	bool		 relay;		/* a `relay` directive chose this */
	int		 relay_line;	/* its config line, 0 when none */
};

struct mx_host {
	char		 name[DNS_NAME_MAX + 1];	/* or an IP literal */
	uint16_t	 pref;
	uint16_t	 port;
	bool		 literal;	/* name is an IP address */
	bool		 implicit;	/* §5.1: no MX, the domain itself */
};

struct mx_route {
	enum mx_status	 status;
	/* for MX_TEMPFAIL and MX_PERMFAIL: the reason, static text */
	const char	*reason;
	const char	*enhanced;	/* RFC 3463 code for the failure */
	struct mx_host	 hosts[MX_HOSTS_MAX];
	size_t		 nhosts;
	size_t		 skipped;	/* MX names refused (literal, bad) */
};

/* One address to connect to. */
struct mx_addr {
	struct sockaddr_storage	 ss;	/* port set */
	socklen_t		 sslen;
	size_t			 host;	/* index in route->hosts */
};

/*
 * Decide what to look up for domain (a recipient's domain, or an address
 * literal "[192.0.2.1]" / "[IPv6:2001:db8::1]").  The relay for domain
 * (compared without regard to case) wins, else relay "*", else the domain
 * itself on port 25: an address literal is connected to directly (RFC
 * 5321 §5.1 "an address literal ... the host"), a name gets an MX
 * lookup.  A relay with mx false (a [host] or an IP) is connected to
 * directly; one with mx true has its MX looked up.  Returns 0, or -1
 * with *errstr for a domain that is neither a host name nor a valid
 * address literal.
 */
int	mx_plan(const struct conf_relay *relays, size_t nrelays,
	    const char *domain, struct mx_plan *out, const char **errstr);

/*
 * Turn the MX answer for plan->name into the hosts to try.  For a plan
 * without lookup_mx, res is ignored (NULL is fine) and the one host is
 * plan->name.  Otherwise, by res->status:
 *
 *   DNS_TEMPFAIL  MX_TEMPFAIL, 4.4.3
 *   DNS_NXDOMAIN  MX_PERMFAIL, 5.1.2 (the domain does not exist); for a
 *                 relay host it is our configuration that is wrong, so
 *                 MX_TEMPFAIL instead, which an operator can fix
 *   DNS_NODATA    the implicit MX: the name itself, preference 0 (§5.1)
 *   DNS_OK        the MX records, sorted by preference, equal preferences
 *                 shuffled with rnd (§5.1 "randomize them"), duplicates
 *                 dropped.  A single MX whose exchange is the root is a
 *                 null MX: MX_PERMFAIL 5.1.10 (RFC 7505 §3, §4.1).  A
 *                 root exchange among other MX records (which RFC 7505
 *                 §3 forbids) is no host and is skipped like an
 *                 exchange that is an IP address or not a host name
 *                 (RFC 5321 §5.1, RFC 2181 §10.3): none left is
 *                 MX_PERMFAIL 5.4.4.
 *
 * self, when not NULL, is our own host name: if it is one of the MX
 * hosts, only more preferred hosts are kept (§5.1, to avoid loops); none
 * left is MX_PERMFAIL 5.4.6 (mail loops back to us).  At most
 * MX_HOSTS_MAX hosts are kept, the most preferred.  rnd(arg) returns a
 * random 32-bit value; it is called only to order equal preferences.
 */
void	mx_route(const struct mx_plan *plan, const struct dns_result *res,
	    const char *self, uint32_t (*rnd)(void *), void *rndarg,
	    struct mx_route *out);

/*
 * The addresses to connect to, in order: for each host of route in turn,
 * its IPv6 addresses then its IPv4 addresses (each in the order of the
 * answer), duplicates dropped, at most max (and MX_ADDRS_MAX).  a[i] and
 * aaaa[i] are the A and AAAA answers for route->hosts[i] (either may be
 * NULL when not asked; both are ignored for a literal host).  An
 * unspecified address (0.0.0.0, ::) is skipped.
 *
 * Returns MX_OK when there is at least one address (a host that does not
 * resolve is skipped: "an MX name that does not resolve"); otherwise
 * MX_TEMPFAIL (4.4.3) when any lookup failed temporarily, else
 * MX_PERMFAIL 5.4.4 ("no address for any host").  *reason and
 * *enhanced are set on failure.
 */
enum mx_status	mx_addresses(const struct mx_route *route,
		    const struct dns_result *const *a,
		    const struct dns_result *const *aaaa,
		    struct mx_addr *out, size_t max, size_t *nout,
		    const char **reason, const char **enhanced);

const char	*mx_status_name(enum mx_status);

#endif
