/*
 * metrics: the shared counter table and its Prometheus rendering
 * (metrics.h).  The table is a sealed memfd of slots, one per role
 * process, each an array of 64-bit cells; the cells of a family follow
 * each other, one per label value (METRICS_OFF_*).  Only the owner of
 * a slot writes it while it lives, the parent clears a dead owner's
 * gauges.  Counters wrap as unsigned numbers do; gauges are two's
 * complement.  The renderer trusts no cell: any value is a number it
 * prints, and a histogram's buckets are summed with saturation so that
 * they never go down.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "spam.h"

#define METRICS_TLS_VERSIONS	3	/* TLSv1.2, TLSv1.3, other */
#define METRICS_AUTH_PROTOS	3	/* smtp, imap, pop3 */
#define METRICS_LINE		64	/* a cell's text (value, NUL) */
#define METRICS_LABEL_MAX	256	/* one label set, escaped */

/* Where each family's cells start in a slot. */
enum {
	METRICS_OFF_CONNECTIONS = 0,
	METRICS_OFF_SESSIONS = METRICS_OFF_CONNECTIONS + CONF_LISTENS_MAX,
	METRICS_OFF_RECEIVED = METRICS_OFF_SESSIONS + CONF_LISTENS_MAX,
	METRICS_OFF_DELIVERED = METRICS_OFF_RECEIVED + METRICS_SOURCES,
	METRICS_OFF_BOUNCED = METRICS_OFF_DELIVERED + METRICS_DESTS,
	METRICS_OFF_DEFERRED = METRICS_OFF_BOUNCED + 1,
	METRICS_OFF_QUEUE_MESSAGES = METRICS_OFF_DEFERRED + 1,
	METRICS_OFF_QUEUE_OLDEST = METRICS_OFF_QUEUE_MESSAGES + 1,
	/* a cell per bound, one past the last, then the sum in ms */
	METRICS_OFF_LATENCY = METRICS_OFF_QUEUE_OLDEST + 1,
	METRICS_OFF_TLS = METRICS_OFF_LATENCY + METRICS_LATENCY_NBOUNDS + 2,
	METRICS_OFF_TLS_VERIFY = METRICS_OFF_TLS +
	    METRICS_DIRS * METRICS_TLS_VERSIONS,
	METRICS_OFF_AUTH = METRICS_OFF_TLS_VERIFY + METRICS_VERIFIES,
	METRICS_OFF_SPAM = METRICS_OFF_AUTH + METRICS_AUTH_PROTOS,
	METRICS_OFF_RESTARTS = METRICS_OFF_SPAM + SPAM_REJECT + 1,
	METRICS_OFF_START_TIME = METRICS_OFF_RESTARTS + PROC_COUNT,
	METRICS_OFF_END = METRICS_OFF_START_TIME + 1
};

/* A slot in whole cache lines: no two processes write one line. */
#define METRICS_SLOT_CELLS	((METRICS_OFF_END + 7) / 8 * 8)
#define METRICS_SLOT_SIZE	(METRICS_SLOT_CELLS * sizeof(uint64_t))

/* Each family: its first cell and how many. */
static const struct {
	unsigned	off;
	unsigned	n;
	bool		gauge;
} metrics_fam[METRICS_FAMILIES] = {
	[METRICS_CONNECTIONS] = { METRICS_OFF_CONNECTIONS, CONF_LISTENS_MAX,
	    false },
	[METRICS_SESSIONS] = { METRICS_OFF_SESSIONS, CONF_LISTENS_MAX, true },
	[METRICS_RECEIVED] = { METRICS_OFF_RECEIVED, METRICS_SOURCES, false },
	[METRICS_DELIVERED] = { METRICS_OFF_DELIVERED, METRICS_DESTS, false },
	[METRICS_BOUNCED] = { METRICS_OFF_BOUNCED, 1, false },
	[METRICS_DEFERRED] = { METRICS_OFF_DEFERRED, 1, false },
	[METRICS_QUEUE_MESSAGES] = { METRICS_OFF_QUEUE_MESSAGES, 1, true },
	[METRICS_QUEUE_OLDEST] = { METRICS_OFF_QUEUE_OLDEST, 1, true },
	[METRICS_LATENCY] = { METRICS_OFF_LATENCY,
	    METRICS_LATENCY_NBOUNDS + 2, false },
	[METRICS_TLS] = { METRICS_OFF_TLS,
	    METRICS_DIRS * METRICS_TLS_VERSIONS, false },
	[METRICS_TLS_VERIFY] = { METRICS_OFF_TLS_VERIFY, METRICS_VERIFIES,
	    false },
	[METRICS_AUTH_FAILURES] = { METRICS_OFF_AUTH, METRICS_AUTH_PROTOS,
	    false },
	[METRICS_SPAM] = { METRICS_OFF_SPAM, SPAM_REJECT + 1, false },
	[METRICS_RESTARTS] = { METRICS_OFF_RESTARTS, PROC_COUNT, false },
	[METRICS_START_TIME] = { METRICS_OFF_START_TIME, 1, true },
};

static const uint64_t	metrics_bounds[METRICS_LATENCY_NBOUNDS] =
			    METRICS_LATENCY_BOUNDS;
static const char *const metrics_sources[METRICS_SOURCES] = {
	"smtp", "submission", "submissions", "local",
};
static const char *const metrics_dests[METRICS_DESTS] = {
	"local", "remote",
};
static const char *const metrics_verifies[METRICS_VERIFIES] = {
	"none", "dane", "mta-sts", "pkix", "failed",
};
static const char *const metrics_dirs[METRICS_DIRS] = { "in", "out" };
static const char *const metrics_versions[METRICS_TLS_VERSIONS] = {
	"TLSv1.2", "TLSv1.3", "other",
};
static const char *const metrics_protos[METRICS_AUTH_PROTOS] = {
	"smtp", "imap", "pop3",
};
static const char *const metrics_verdicts[SPAM_REJECT + 1] = {
	[SPAM_INBOX] = "ham", [SPAM_JUNK] = "junk", [SPAM_REJECT] = "reject",
};
/*
 * proc_name()'s, kept here so that the renderer (and its fuzz target)
 * does not pull in proc.c and with it every role; test_metrics.c
 * checks that the two agree.
 */
static const char *const metrics_roles[PROC_COUNT] = {
	[PROC_PARENT] = "parent", [PROC_SMTP] = "smtp",
	[PROC_LOOKUP] = "lookup", [PROC_QUEUE] = "queue", [PROC_MDA] = "mda",
	[PROC_MTA] = "mta", [PROC_IMAP] = "imap", [PROC_POP3] = "pop3",
	[PROC_HTTP] = "http",
};

/* This process's view of the table (one per process, as log.c's). */
static struct {
	void			*map;
	size_t			 size;
	unsigned		 nslots;
	_Atomic uint64_t	*mine;	/* NULL: not attached */
} metrics;

size_t
metrics_cells(void)
{
	return METRICS_SLOT_CELLS;
}

static int
metrics_map(int fd, unsigned slot)
{
	struct stat	 st;
	void		*map;

	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    (size_t)st.st_size % METRICS_SLOT_SIZE != 0 ||
	    (size_t)st.st_size / METRICS_SLOT_SIZE <= slot) {
		errno = EINVAL;
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	metrics.map = map;
	metrics.size = (size_t)st.st_size;
	metrics.nslots = (unsigned)(metrics.size / METRICS_SLOT_SIZE);
	metrics.mine = (_Atomic uint64_t *)map + (size_t)slot *
	    METRICS_SLOT_CELLS;
	return 0;
}

int
metrics_create(unsigned nslots, unsigned slot)
{
	int	fd, save;

	if (nslots == 0 || slot >= nslots) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = memfd_create("cachet-metrics", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	/* No role may resize it under the others. */
	if (ftruncate(fd, (off_t)(nslots * METRICS_SLOT_SIZE)) == -1 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) == -1 || metrics_map(fd, slot) == -1) {
		save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	return fd;
}

void
metrics_clear_gauges(unsigned slot)
{
	_Atomic uint64_t	*cells;
	size_t			 f, i;

	if (metrics.map == NULL || slot >= metrics.nslots)
		return;
	cells = (_Atomic uint64_t *)metrics.map + (size_t)slot *
	    METRICS_SLOT_CELLS;
	for (f = 0; f < METRICS_FAMILIES; f++)
		if (metrics_fam[f].gauge)
			for (i = 0; i < metrics_fam[f].n; i++)
				atomic_store_explicit(
				    &cells[metrics_fam[f].off + i], 0,
				    memory_order_relaxed);
}

int
metrics_attach(int fd, unsigned slot, const char **errstr_out)
{
	int	rc;

	if (metrics.map != NULL) {
		close(fd);
		*errstr_out = "metrics table mapped twice";
		return -1;
	}
	rc = metrics_map(fd, slot);
	close(fd);
	if (rc == -1) {
		*errstr_out = errno == EINVAL ? "metrics table of the wrong "
		    "size" : "cannot map the metrics table";
		return -1;
	}
	return 0;
}

bool
metrics_attached(void)
{
	return metrics.mine != NULL;
}

/* This process's cell of family id for label; NULL: none, not counted. */
static _Atomic uint64_t *
metrics_cell(enum metrics_id id, unsigned label)
{
	if (metrics.mine == NULL || (unsigned)id >= METRICS_FAMILIES ||
	    label >= metrics_fam[id].n)
		return NULL;
	return &metrics.mine[metrics_fam[id].off + label];
}

void
metrics_add(enum metrics_id id, unsigned label, int64_t n)
{
	_Atomic uint64_t	*c;

	/* Two's complement: a negative n takes off what a positive added. */
	if ((c = metrics_cell(id, label)) != NULL)
		atomic_fetch_add_explicit(c, (uint64_t)n, memory_order_relaxed);
}

void
metrics_inc(enum metrics_id id, unsigned label)
{
	metrics_add(id, label, 1);
}

void
metrics_set(enum metrics_id id, unsigned label, int64_t v)
{
	_Atomic uint64_t	*c;

	if ((c = metrics_cell(id, label)) != NULL)
		atomic_store_explicit(c, (uint64_t)v, memory_order_relaxed);
}

void
metrics_observe_latency(uint64_t ms)
{
	unsigned	b;

	for (b = 0; b < METRICS_LATENCY_NBOUNDS; b++)
		if (ms <= metrics_bounds[b] * 1000)
			break;
	metrics_add(METRICS_LATENCY, b, 1);
	metrics_add(METRICS_LATENCY, METRICS_LATENCY_NBOUNDS + 1,
	    (int64_t)(ms > INT64_MAX ? INT64_MAX : ms));
}

void
metrics_tls(enum metrics_dir dir, const char *version)
{
	unsigned	v;

	for (v = 0; v < METRICS_TLS_VERSIONS - 1; v++)
		if (version != NULL &&
		    strcmp(version, metrics_versions[v]) == 0)
			break;
	if ((unsigned)dir < METRICS_DIRS)
		metrics_inc(METRICS_TLS, (unsigned)dir * METRICS_TLS_VERSIONS +
		    v);
}

unsigned
metrics_auth_label(enum proc_id id)
{
	switch (id) {
	case PROC_SMTP:
		return 0;
	case PROC_IMAP:
		return 1;
	case PROC_POP3:
		return 2;
	default:
		return METRICS_AUTH_PROTOS;	/* out of range: no count */
	}
}

const char *
metrics_role_name(enum proc_id id)
{
	return (unsigned)id < PROC_COUNT && metrics_roles[id] != NULL ?
	    metrics_roles[id] : "unknown";
}

int
metrics_sum(uint64_t *cells)
{
	const _Atomic uint64_t	*slot;
	size_t			 s, i;

	if (metrics.map == NULL)
		return -1;
	memset(cells, 0, METRICS_SLOT_CELLS * sizeof(*cells));
	for (s = 0; s < metrics.nslots; s++) {
		slot = (const _Atomic uint64_t *)metrics.map + s *
		    METRICS_SLOT_CELLS;
		/* Unsigned sums wrap: defined, whatever a slot holds. */
		for (i = 0; i < METRICS_SLOT_CELLS; i++)
			cells[i] += atomic_load_explicit(&slot[i],
			    memory_order_relaxed);
	}
	return 0;
}

/* --- rendering (Prometheus text format 0.0.4) --- */

static int
metrics_head(struct buf *out, const char *name, const char *type,
    const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void
metrics_escape(char *out, size_t outsz, const char *s)
{
	size_t	o = 0;

	for (; *s != '\0' && o + 3 < outsz; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			out[o++] = '\\';
			out[o++] = *s == '\n' ? 'n' : *s;
		} else
			out[o++] = *s;
	}
	out[o] = '\0';
}

/* name{labels} value, labels "" for none; a gauge is signed. */
static int
metrics_sample(struct buf *out, const char *name, const char *labels,
    uint64_t v, bool gauge)
{
	char	num[METRICS_LINE];

	if (gauge)
		(void)snprintf(num, sizeof(num), "%" PRId64, (int64_t)v);
	else
		(void)snprintf(num, sizeof(num), "%" PRIu64, v);
	return buf_printf(out, "%s%s%s%s %s\n", name,
	    labels[0] != '\0' ? "{" : "", labels,
	    labels[0] != '\0' ? "}" : "", num);
}

/* A family with one label whose values are names[0..n), n its cells. */
static int
metrics_by_name(struct buf *out, const uint64_t *cells, enum metrics_id id,
    const char *name, const char *label, const char *const *names, size_t n)
{
	char	lb[METRICS_LABEL_MAX];
	size_t	i;

	for (i = 0; i < n && i < metrics_fam[id].n; i++) {
		(void)snprintf(lb, sizeof(lb), "%s=\"%s\"", label, names[i]);
		if (metrics_sample(out, name, lb, cells[metrics_fam[id].off +
		    i], metrics_fam[id].gauge) == -1)
			return -1;
	}
	return 0;
}

/* Per listener of the kinds the mail roles serve: kind and address. */
static int
metrics_listeners(struct buf *out, const uint64_t *cells,
    const struct conf *conf, enum metrics_id id, const char *name)
{
	const struct conf_listen	*l;
	char				 addr[sizeof(l->text) * 2 + 1];
	char				 lb[METRICS_LABEL_MAX];
	size_t				 i;

	for (i = 0; i < conf->nlistens && i < CONF_LISTENS_MAX; i++) {
		l = &conf->listens[i];
		if (l->kind == CONF_LISTEN_HTTPS || l->kind ==
		    CONF_LISTEN_HTTP || l->kind == CONF_LISTEN_METRICS)
			continue;
		metrics_escape(addr, sizeof(addr), l->text);
		(void)snprintf(lb, sizeof(lb), "kind=\"%s\",address=\"%s\"",
		    conf_listen_kind_name(l->kind), addr);
		if (metrics_sample(out, name, lb, cells[metrics_fam[id].off +
		    i], metrics_fam[id].gauge) == -1)
			return -1;
	}
	return 0;
}

static int
metrics_histogram(struct buf *out, const uint64_t *cells)
{
	static const char	name[] = "cachet_delivery_latency_seconds";
	const uint64_t		*h = &cells[METRICS_OFF_LATENCY];
	char			 lb[METRICS_LABEL_MAX];
	uint64_t		 cum = 0, ms;
	size_t			 b;

	for (b = 0; b <= METRICS_LATENCY_NBOUNDS; b++) {
		/* saturating: buckets never go down, whatever a cell says */
		cum = h[b] > UINT64_MAX - cum ? UINT64_MAX : cum + h[b];
		if (b < METRICS_LATENCY_NBOUNDS)
			(void)snprintf(lb, sizeof(lb), "le=\"%" PRIu64 "\"",
			    metrics_bounds[b]);
		else
			(void)snprintf(lb, sizeof(lb), "le=\"+Inf\"");
		if (buf_printf(out, "%s_bucket{%s} %" PRIu64 "\n", name, lb,
		    cum) == -1)
			return -1;
	}
	ms = h[METRICS_LATENCY_NBOUNDS + 1];
	return buf_printf(out, "%s_sum %" PRIu64 ".%03u\n%s_count %" PRIu64
	    "\n", name, ms / 1000, (unsigned)(ms % 1000), name, cum);
}

static int
metrics_tls_render(struct buf *out, const uint64_t *cells)
{
	static const char	name[] = "cachet_tls_sessions_total";
	char			lb[METRICS_LABEL_MAX];
	size_t			d, v;

	for (d = 0; d < METRICS_DIRS; d++)
		for (v = 0; v < METRICS_TLS_VERSIONS; v++) {
			(void)snprintf(lb, sizeof(lb), "direction=\"%s\","
			    "version=\"%s\"", metrics_dirs[d],
			    metrics_versions[v]);
			if (metrics_sample(out, name, lb,
			    cells[METRICS_OFF_TLS + d * METRICS_TLS_VERSIONS +
			    v], false) == -1)
				return -1;
		}
	return 0;
}

static int
metrics_restarts(struct buf *out, const uint64_t *cells)
{
	static const char	name[] = "cachet_role_restarts_total";
	char			lb[METRICS_LABEL_MAX];
	size_t			i;

	for (i = PROC_PARENT + 1; i < PROC_COUNT; i++) {
		(void)snprintf(lb, sizeof(lb), "role=\"%s\"",
		    metrics_role_name((enum proc_id)i));
		if (metrics_sample(out, name, lb,
		    cells[METRICS_OFF_RESTARTS + i], false) == -1)
			return -1;
	}
	return 0;
}

/* now - t for a time a cell holds; 0 for none (0) or one to come. */
static uint64_t
metrics_age(uint64_t t, int64_t now)
{
	if (t == 0 || now < 0 || t > (uint64_t)now)
		return 0;
	return (uint64_t)now - t;
}

int
metrics_render(const uint64_t *cells, const struct conf *conf, int64_t now,
    struct buf *out)
{
	if (metrics_head(out, "cachet_connections_accepted_total", "counter",
	    "Connections accepted, per listener.") == -1 ||
	    metrics_listeners(out, cells, conf, METRICS_CONNECTIONS,
	    "cachet_connections_accepted_total") == -1 ||
	    metrics_head(out, "cachet_sessions_open", "gauge",
	    "Connections open now, per listener.") == -1 ||
	    metrics_listeners(out, cells, conf, METRICS_SESSIONS,
	    "cachet_sessions_open") == -1 ||
	    metrics_head(out, "cachet_messages_received_total", "counter",
	    "Messages queued, by the kind of listener they came on.") == -1 ||
	    metrics_by_name(out, cells, METRICS_RECEIVED,
	    "cachet_messages_received_total", "listener",
	    metrics_sources, METRICS_SOURCES) == -1 ||
	    metrics_head(out, "cachet_deliveries_total", "counter",
	    "Deliveries made, into a mailbox here (local) or to another "
	    "server (remote); recipients with one destination share "
	    "one.") == -1 ||
	    metrics_by_name(out, cells, METRICS_DELIVERED,
	    "cachet_deliveries_total", "destination",
	    metrics_dests, METRICS_DESTS) == -1 ||
	    metrics_head(out, "cachet_recipients_bounced_total", "counter",
	    "Recipients whose delivery failed for good.") == -1 ||
	    metrics_sample(out, "cachet_recipients_bounced_total", "",
	    cells[METRICS_OFF_BOUNCED], false) == -1 ||
	    metrics_head(out, "cachet_recipients_deferred_total", "counter",
	    "Delivery attempts that failed temporarily (tried again "
	    "later).") == -1 ||
	    metrics_sample(out, "cachet_recipients_deferred_total", "",
	    cells[METRICS_OFF_DEFERRED], false) == -1 ||
	    metrics_head(out, "cachet_queue_messages", "gauge",
	    "Messages in the queue.") == -1 ||
	    metrics_sample(out, "cachet_queue_messages", "",
	    cells[METRICS_OFF_QUEUE_MESSAGES], true) == -1 ||
	    metrics_head(out, "cachet_queue_oldest_message_age_seconds",
	    "gauge", "Age of the oldest message in the queue (0: "
	    "empty).") == -1 ||
	    metrics_sample(out, "cachet_queue_oldest_message_age_seconds", "",
	    metrics_age(cells[METRICS_OFF_QUEUE_OLDEST], now), false) == -1 ||
	    metrics_head(out, "cachet_delivery_latency_seconds", "histogram",
	    "Time from a message's arrival to a recipient's delivery.") ==
	    -1 || metrics_histogram(out, cells) == -1 ||
	    metrics_head(out, "cachet_tls_sessions_total", "counter",
	    "TLS handshakes completed, inbound (our listeners) and outbound "
	    "(the mta), by protocol version.") == -1 ||
	    metrics_tls_render(out, cells) == -1 ||
	    metrics_head(out, "cachet_tls_outbound_verification_total",
	    "counter", "Outbound TLS sessions by how the server was checked "
	    "(none: opportunistic; failed: a check asked for did not "
	    "pass).") == -1 ||
	    metrics_by_name(out, cells, METRICS_TLS_VERIFY,
	    "cachet_tls_outbound_verification_total", "outcome",
	    metrics_verifies, METRICS_VERIFIES) == -1 ||
	    metrics_head(out, "cachet_auth_failures_total", "counter",
	    "Logins refused for wrong credentials, per protocol.") == -1 ||
	    metrics_by_name(out, cells, METRICS_AUTH_FAILURES,
	    "cachet_auth_failures_total", "protocol", metrics_protos,
	    METRICS_AUTH_PROTOS) == -1 ||
	    metrics_head(out, "cachet_spam_verdicts_total", "counter",
	    "Spam filter verdicts on mail from strangers (port 25 "
	    "without AUTH).") == -1 ||
	    metrics_by_name(out, cells, METRICS_SPAM,
	    "cachet_spam_verdicts_total", "verdict", metrics_verdicts,
	    SPAM_REJECT + 1) == -1 ||
	    metrics_head(out, "cachet_role_restarts_total", "counter",
	    "Role processes the parent started again after they "
	    "ended.") == -1 || metrics_restarts(out, cells) == -1 ||
	    metrics_head(out, "cachet_start_time_seconds", "gauge",
	    "Unix time the daemon started.") == -1 ||
	    metrics_sample(out, "cachet_start_time_seconds", "",
	    cells[METRICS_OFF_START_TIME], false) == -1 ||
	    metrics_head(out, "cachet_uptime_seconds", "gauge",
	    "Seconds since the daemon started.") == -1 ||
	    metrics_sample(out, "cachet_uptime_seconds", "",
	    metrics_age(cells[METRICS_OFF_START_TIME], now), false) == -1)
		return -1;
	return 0;
}
