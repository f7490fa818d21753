/*
 * lookup_greylist: greylisting (RFC 6647, issue 15), asked by smtp at
 * each accepted RCPT on port 25 when `greylist yes`, for clients that
 * have not authenticated and are not on a DNS whitelist (smtp skips
 * those).  The triplet is the client network (IPv4 /24, IPv6 /64), the
 * envelope sender and the recipient; state in SQLite (greylist.db in
 * lookup's directory) with expiry.
 *
 * MSG_LOOKUP_GREYLIST (smtp -> lookup): u64 reqid, str client ip, str
 * sender (the address, "" for the null path), str recipient, u32
 * GREYLIST_F_*.
 * MSG_LOOKUP_GREYLIST_RESULT (lookup -> smtp): u64 reqid, u32 code (0:
 * pass; 450: defer), str enh, str text (the explanation).  smtp drops
 * an answer whose reqid matches no question it still has.
 *
 * The decision (RFC 6647 §2.1, §2.2):
 *   - a client network that got a triplet past greylisting before, and
 *     was seen within greylist-whitelist since, passes at once (one
 *     correct retry is enough: a sender that queues and retries is an
 *     MTA, which is all greylisting tests);
 *   - with GREYLIST_F_SPF_PASS, so does a sender domain that got a
 *     triplet past before (from any network: its other outbound hosts);
 *   - a triplet not seen before, or first seen longer than
 *     greylist-window ago, starts over: 450, retry in greylist-delay;
 *   - a retry before greylist-delay has passed since the first attempt:
 *     450 with the seconds left;
 *   - a retry inside the window passes, and whitelists its network and
 *     its sender's domain.
 * Sender and recipient are compared lower-cased.  When the database
 * cannot be read or written, everything passes (logged): greylisting
 * delays mail, it must never be what loses it.  A write lost to a crash
 * at worst greylists a triplet again.
 *
 * Expiry and size: triplets older than the window and whitelist entries
 * not seen for greylist-whitelist are deleted, and each table is cut to
 * its newest LOOKUP_GREYLIST_ROWS_MAX rows, every LOOKUP_GREYLIST_SWEEP
 * seconds or LOOKUP_GREYLIST_SWEEP_ADDS new rows, whichever comes first.
 */
#ifndef CACHET_LOOKUP_GREYLIST_H
#define CACHET_LOOKUP_GREYLIST_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "ipc.h"
#include "proc.h"

/* SPF passed for the sender's domain (smtp had the result by RCPT). */
#define GREYLIST_F_SPF_PASS	0x1u

#define LOOKUP_GREYLIST_DB	"greylist.db"	/* in lookup's directory */
#define LOOKUP_GREYLIST_ROWS_MAX	200000	/* per table, after a sweep */
#define LOOKUP_GREYLIST_SWEEP	600	/* seconds between sweeps, at most */
#define LOOKUP_GREYLIST_SWEEP_ADDS	1000	/* new rows between sweeps */
/* "ffff:ffff:ffff:ffff::/64" and its NUL, with room */
#define LOOKUP_GREYLIST_NET_MAX	48

struct conf;
struct lookup_greylist;

/* What one triplet got, for the log and the tests. */
enum lookup_greylist_result {
	LOOKUP_GREYLIST_NEW,		/* 450: first seen (or seen too long ago) */
	LOOKUP_GREYLIST_EARLY,		/* 450: retried before the delay */
	LOOKUP_GREYLIST_RETRIED,	/* pass: retried inside the window */
	LOOKUP_GREYLIST_CLIENT,		/* pass: the network is whitelisted */
	LOOKUP_GREYLIST_DOMAIN,		/* pass: SPF-pass, domain known */
	LOOKUP_GREYLIST_ERROR,		/* pass: the database failed */
};

/* Seconds, and the sizes the sweep keeps (tests make them small). */
struct lookup_greylist_policy {
	uint64_t	 delay;
	uint64_t	 window;
	uint64_t	 whitelist;
	uint64_t	 rows_max;
};

struct lookup_greylist	*lookup_greylist_new(struct proc_self *,
			    const struct conf *);
/* MSG_LOOKUP_GREYLIST from an smtp worker; answered at once or later. */
void			 lookup_greylist_request(struct lookup_greylist *,
			    struct proc_peer from, struct msg *);
/*
 * A cachetctl request whose argv[0] is "greylist": `greylist list`
 * (every triplet waiting and every whitelisted network and domain) or
 * `greylist flush` (forget them all); answered with lines, then the end.
 */
void			 lookup_greylist_ctl(struct lookup_greylist *,
			    uint64_t reqid, size_t argc, char **argv);

/*
 * The pure core, with its clock and database given (the unit tests use
 * an in-memory one).  core takes db (NULL: every triplet passes, as
 * LOOKUP_GREYLIST_ERROR), creates the schema, and returns NULL when that
 * fails (db closed, logged).
 */
struct lookup_greylist	*lookup_greylist_core(sqlite3 *db,
			    const struct lookup_greylist_policy *);
void			 lookup_greylist_free(struct lookup_greylist *);
/*
 * Decide for the triplet of net (lookup_greylist_net()), sender ("" for
 * the null path) and rcpt at time now, with GREYLIST_F_* flags; on a
 * 450 *wait_out is the seconds until a retry can pass, else 0.
 */
enum lookup_greylist_result
			 lookup_greylist_decide(struct lookup_greylist *,
			    const char *net, const char *sender,
			    const char *rcpt, uint32_t flags, uint64_t now,
			    uint64_t *wait_out);
/* Delete what expired and cut the tables to rows_max; 0 or -1. */
int			 lookup_greylist_sweep(struct lookup_greylist *,
			    uint64_t now);
/* Rows of the triplet table and of the whitelist, or -1 (tests, list). */
int			 lookup_greylist_count(struct lookup_greylist *,
			    uint64_t *triplets_out, uint64_t *known_out);

/*
 * The network of an address as greylisting keys it: IPv4 /24
 * ("192.0.2.0/24"), IPv6 /64 ("2001:db8:1:2::/64"), an IPv4-mapped IPv6
 * address as IPv4.  -1 when ip is not an address or out is too small.
 */
int			 lookup_greylist_net(const char *ip, char *out,
			    size_t outsz);

#endif
