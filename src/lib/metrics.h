/*
 * metrics: the daemon's counters and gauges, kept in one table of shared
 * memory and served by the http role on `listen metrics` in the
 * Prometheus text format (version 0.0.4).
 *
 * The parent makes the table (a sealed memfd of fixed size) and hands
 * every role process a descriptor of it with the number of its slot;
 * the process maps it with metrics_attach().  Each process writes only
 * its own slot, with relaxed atomics: the one-line calls below, made
 * where things happen (a connection accepted, a message queued, a
 * recipient delivered).  A slot outlives its process, so a restarted
 * role counts on from where the dead one stopped; the parent clears
 * only the gauges of a dead process (metrics_clear_gauges()).
 *
 * The http role sums every slot and renders them (metrics_sum(),
 * metrics_render()).  The table holds numbers only, no pointer, length
 * or string: a compromised role can falsify counters (any slot is
 * writable to every role), never make the renderer read out of bounds,
 * and every label value comes from the renderer's own config and
 * tables.  Before metrics_attach() (a unit test, cachetctl) every call
 * is a no-op.
 */
#ifndef CACHET_METRICS_H
#define CACHET_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "proc.h"

/* The families; the label each takes is after the semicolon. */
enum metrics_id {
	METRICS_CONNECTIONS,	/* counter; index in conf->listens */
	METRICS_SESSIONS,	/* gauge; index in conf->listens */
	METRICS_RECEIVED,	/* counter; enum metrics_source */
	METRICS_DELIVERED,	/* counter, recipients; enum metrics_dest */
	METRICS_BOUNCED,	/* counter, recipients failed for good */
	METRICS_DEFERRED,	/* counter, temporary failures */
	METRICS_QUEUE_MESSAGES,	/* gauge */
	METRICS_QUEUE_OLDEST,	/* gauge: unix time the oldest came, 0 */
	METRICS_LATENCY,	/* histogram: metrics_observe_latency() */
	METRICS_TLS,		/* counter; metrics_tls() */
	METRICS_TLS_VERIFY,	/* counter; enum metrics_verify */
	METRICS_AUTH_FAILURES,	/* counter; metrics_auth_label() */
	METRICS_SPAM,		/* counter; enum spam_verdict */
	METRICS_RESTARTS,	/* counter; enum proc_id */
	METRICS_START_TIME,	/* gauge: unix time the parent started */
	METRICS_FAMILIES
};

/* How a message came in: in the order of smtp's enum smtp_kind. */
enum metrics_source {
	METRICS_SOURCE_SMTP,
	METRICS_SOURCE_SUBMISSION,
	METRICS_SOURCE_SUBMISSIONS,
	METRICS_SOURCE_LOCAL,		/* cachet-sendmail */
	METRICS_SOURCES
};

enum metrics_dest {
	METRICS_DEST_LOCAL,		/* a mailbox here (mda) */
	METRICS_DEST_REMOTE,		/* another server took it (mta) */
	METRICS_DESTS
};

/* How the mta checked the server it sent to over TLS. */
enum metrics_verify {
	METRICS_VERIFY_NONE,		/* opportunistic: no check asked */
	METRICS_VERIFY_DANE,		/* TLSA records matched (RFC 7672) */
	METRICS_VERIFY_MTA_STS,		/* MTA-STS enforce (RFC 8461) */
	METRICS_VERIFY_PKIX,		/* a relay's `tls verify` */
	METRICS_VERIFY_FAILED,		/* a check asked for, not passed */
	METRICS_VERIFIES
};

enum metrics_dir {
	METRICS_DIR_IN,			/* our listeners */
	METRICS_DIR_OUT,		/* the mta's connections */
	METRICS_DIRS
};

/* Histogram bounds of the delivery latency, seconds (METRICS_LATENCY). */
#define METRICS_LATENCY_BOUNDS	{ 1, 5, 10, 30, 60, 300, 900, 3600, \
				  14400, 86400 }
#define METRICS_LATENCY_NBOUNDS	10

/* The counts of one process, or their sum: a cell per label value. */
size_t	metrics_cells(void);

/*
 * Parent: a new, zeroed table of nslots slots; its descriptor
 * (close-on-exec), or -1 with errno.  The parent maps it too, as slot
 * `slot` (its own counts: restarts, start time).
 */
int	metrics_create(unsigned nslots, unsigned slot);
/* Parent: zero the gauges of a dead process's slot. */
void	metrics_clear_gauges(unsigned slot);

/*
 * A role process: map the table on fd (closed here) and count in slot.
 * -1 with *errstr_out when fd is no table or slot is not in it.
 */
int	metrics_attach(int fd, unsigned slot, const char **errstr_out);
bool	metrics_attached(void);

/* Add n to a counter, or to a gauge (n may be negative). */
void	metrics_add(enum metrics_id, unsigned label, int64_t n);
/* Count one. */
void	metrics_inc(enum metrics_id, unsigned label);
/* Set a gauge of this process. */
void	metrics_set(enum metrics_id, unsigned label, int64_t v);
/* One delivery, ms after the message came: METRICS_LATENCY. */
void	metrics_observe_latency(uint64_t ms);
/* One TLS session, dir, of version ("TLSv1.3", as OpenSSL names it). */
void	metrics_tls(enum metrics_dir, const char *version);
/* A role's name in labels: proc_name()'s, without linking proc.c. */
const char	*metrics_role_name(enum proc_id);
/* The label of a role's authentication failures (smtp, imap, pop3). */
unsigned	metrics_auth_label(enum proc_id);

/*
 * http: the sum of every slot into cells (metrics_cells() of them).
 * 0, or -1 when not attached.
 */
int	metrics_sum(uint64_t *cells);

/*
 * The page for cells (a sum, or any numbers at all: every value is
 * rendered within bounds): the families in the Prometheus text format,
 * with the listeners of conf as labels and now (unix seconds) for the
 * ages.  -1 when out grows past its maximum.
 */
int	metrics_render(const uint64_t *cells, const struct conf *conf,
	    int64_t now, struct buf *out);

#endif
