/*
 * lookup_mx: MSG_LOOKUP_MX in the lookup role (lookup_mx.h has the
 * contract and the message layout).  One request walks three steps, each
 * mx.c's: mx_plan() (relay directives, address literals), the MX query
 * and mx_route(), then an A and an AAAA query per host and
 * mx_addresses().  Queries run in parallel through dns.c; the answer goes
 * back when the last one is in.  Results are not cached here: libunbound
 * caches DNS, and the mta keeps a route for the TTL we report.
 *
 * Trust: the mta's request is bounded and checked; DNS data is parsed by
 * dns.c and judged by mx.c.  The relay passwords are read from files the
 * operator named, before chroot, and leave only in answers to the mta.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "dns.h"
#include "ipc.h"
#include "log.h"
#include "lookup_mx.h"
#include "mta/mta.h"
#include "mx.h"
#include "proc.h"
#include "util.h"

#define LOOKUP_MX_DOMAIN_MAX	MTA_DOMAIN_MAX	/* or "[IPv6:...]" */
#define LOOKUP_MX_REQS_MAX	4096	/* requests in flight */

struct lookup_mx_req;

/* What the answer to one address query stands for, for the callback. */
struct lookup_mx_slot {
	struct lookup_mx_req	*req;
	size_t			 host;
	bool			 v6;
};

/* DANE for one MX host: lookup_mx.h's host section. */
struct lookup_mx_hostdane {
	bool			 secure;	/* MX and addresses */
	enum lookup_mx_dane	 state;
	char			 reason[LOOKUP_MX_REASON_MAX];
	struct dns_tlsa		 rrs[LOOKUP_MX_TLSA_MAX];
	size_t			 nrrs;
};

struct lookup_mx_req {
	TAILQ_ENTRY(lookup_mx_req)	 entry;
	struct lookup_mx		*lm;
	enum proc_id			 from;
	uint64_t			 gen;
	uint64_t			 reqid;
	char				 domain[LOOKUP_MX_DOMAIN_MAX + 1];
	struct mx_plan			 plan;
	struct mx_route			 route;
	uint32_t			 ttl;
	struct dns_query		*q_mx;
	/* per host of the route: the queries and copies of their answers */
	struct dns_query		*q_a[MX_HOSTS_MAX];
	struct dns_query		*q_aaaa[MX_HOSTS_MAX];
	struct dns_result		*a[MX_HOSTS_MAX];
	struct dns_result		*aaaa[MX_HOSTS_MAX];
	struct lookup_mx_slot		 slot_a[MX_HOSTS_MAX];
	struct lookup_mx_slot		 slot_aaaa[MX_HOSTS_MAX];
	size_t				 pending;
	/* DANE: the MX answer's status, per host the TLSA query */
	bool				 mx_secure;
	struct dns_query		*q_tlsa[MX_HOSTS_MAX];
	struct lookup_mx_slot		 slot_tlsa[MX_HOSTS_MAX];
	struct lookup_mx_hostdane		 dane[MX_HOSTS_MAX];
	/* the addresses found, kept while the TLSA queries run */
	struct mx_addr			 addrs[MX_ADDRS_MAX];
	size_t				 naddrs;
};
TAILQ_HEAD(lookup_mx_reqs, lookup_mx_req);

struct lookup_mx {
	struct proc_self	*self;
	const struct conf	*conf;
	struct dns		*dns;	/* NULL: every answer is a tempfail */
	const char		*dns_err;
	uint64_t		 gen[PROC_COUNT];
	struct lookup_mx_reqs	 reqs;
	size_t			 nreqs;
	char			**pass;	/* per conf->relays, NULL none */
};

static uint32_t
lookup_mx_rnd(void *arg)
{
	return arc4random();
}

/*
 * The first line of a relay's password file.  Read as root before
 * chroot; the file should be 0600 root, as for any secret.
 */
static char *
lookup_mx_read_pass(const char *path)
{
	char	 buf[LOOKUP_MX_PASS_MAX + 2];
	char	*nl, *pass;
	ssize_t	 n;
	size_t	 len;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		log_warn("lookup: relay password file %s", path);
		return NULL;
	}
	n = read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == -1) {
		log_warn("lookup: relay password file %s", path);
		return NULL;
	}
	buf[n] = '\0';
	if ((nl = memchr(buf, '\n', (size_t)n)) != NULL)
		*nl = '\0';
	else if ((size_t)n > LOOKUP_MX_PASS_MAX) {
		log_warnx("lookup: relay password file %s: first line over "
		    "%d octets", path, LOOKUP_MX_PASS_MAX);
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	len = strnlen(buf, sizeof(buf));
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0) {
		log_warnx("lookup: relay password file %s: empty", path);
		return NULL;
	}
	pass = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return pass;
}

/*
 * DNSSEC validation with the configured anchor (read now, before
 * chroot).  Without Debian's root key at the default path it is off
 * (logged: no DANE); an anchor the operator named that cannot be used
 * stops outbound mail rather than silently dropping DANE.
 */
static void
lookup_mx_anchor(struct lookup_mx *lm)
{
	const char	*path = lm->conf->trust_anchor, *err;

	if (strcmp(path, "none") == 0)
		return;
	if (strcmp(path, CONF_TRUST_ANCHOR_DEFAULT) == 0 &&
	    access(path, R_OK) == -1) {
		log_warnx("lookup: no DNSSEC trust anchor at %s: DNSSEC and "
		    "DANE off", path);
		return;
	}
	if (dns_set_trust_anchor(lm->dns, path, &err) == -1) {
		log_warnx("lookup: dnssec-trust-anchor %s: %s (outbound mail "
		    "waits)", path, err);
		dns_free(lm->dns);
		lm->dns = NULL;
		lm->dns_err = err;
		return;
	}
	log_debug("lookup: DNSSEC validation on, trust anchor %s", path);
}

struct lookup_mx *
lookup_mx_new(struct proc_self *self)
{
	struct lookup_mx	*lm;
	const struct conf	*conf = self->conf;
	size_t			 i;

	lm = xcalloc(1, sizeof(*lm));
	lm->self = self;
	lm->conf = conf;
	TAILQ_INIT(&lm->reqs);
	lm->dns = dns_new(self->base, conf->has_resolver ?
	    conf->resolver_text : NULL, &lm->dns_err);
	if (lm->dns == NULL)
		log_warnx("lookup: no DNS resolver: %s (outbound mail waits)",
		    lm->dns_err);
	else
		lookup_mx_anchor(lm);
	if (conf->nrelays > 0)
		lm->pass = xcalloc(conf->nrelays, sizeof(*lm->pass));
	for (i = 0; i < conf->nrelays; i++)
		if (conf->relays[i].auth_file[0] != '\0')
			lm->pass[i] = lookup_mx_read_pass(
			    conf->relays[i].auth_file);
	return lm;
}

static void
lookup_mx_dane_clear(struct lookup_mx_hostdane *dn)
{
	size_t	i;

	for (i = 0; i < dn->nrrs; i++)
		free(dn->rrs[i].data);
	dn->nrrs = 0;
}

static void
lookup_mx_req_free(struct lookup_mx_req *req)
{
	struct lookup_mx	*lm = req->lm;
	size_t			 i;

	if (req->q_mx != NULL)
		dns_cancel(req->q_mx);
	for (i = 0; i < MX_HOSTS_MAX; i++) {
		if (req->q_a[i] != NULL)
			dns_cancel(req->q_a[i]);
		if (req->q_aaaa[i] != NULL)
			dns_cancel(req->q_aaaa[i]);
		if (req->q_tlsa[i] != NULL)
			dns_cancel(req->q_tlsa[i]);
		lookup_mx_dane_clear(&req->dane[i]);
		if (req->a[i] != NULL) {
			free(req->a[i]->rrs);
			free(req->a[i]);
		}
		if (req->aaaa[i] != NULL) {
			free(req->aaaa[i]->rrs);
			free(req->aaaa[i]);
		}
	}
	TAILQ_REMOVE(&lm->reqs, req, entry);
	lm->nreqs--;
	free(req);
}

void
lookup_mx_free(struct lookup_mx *lm)
{
	struct lookup_mx_req	*req;
	size_t			 i;

	if (lm == NULL)
		return;
	while ((req = TAILQ_FIRST(&lm->reqs)) != NULL)
		lookup_mx_req_free(req);
	dns_free(lm->dns);
	for (i = 0; lm->pass != NULL && i < lm->conf->nrelays; i++) {
		if (lm->pass[i] != NULL) {
			explicit_bzero(lm->pass[i], strlen(lm->pass[i]));
			free(lm->pass[i]);
		}
	}
	free(lm->pass);
	free(lm);
}

struct dns *
lookup_mx_dns(struct lookup_mx *lm)
{
	return lm->dns;
}

void
lookup_mx_peer_change(struct lookup_mx *lm, enum proc_id id)
{
	if (id < PROC_COUNT)
		lm->gen[id]++;
}

/* The relay directive that chose plan, or NULL. */
static const struct conf_relay *
lookup_mx_relay(const struct lookup_mx *lm, const struct mx_plan *plan,
    size_t *idx)
{
	size_t	i;

	if (!plan->relay)
		return NULL;
	for (i = 0; i < lm->conf->nrelays; i++) {
		if (lm->conf->relays[i].line == plan->relay_line) {
			*idx = i;
			return &lm->conf->relays[i];
		}
	}
	return NULL;
}

static void
lookup_mx_ttl(struct lookup_mx_req *req, uint32_t ttl)
{
	if (ttl < req->ttl)
		req->ttl = ttl;
}

/* The hosts of addrs, each once, in order (lookup_mx.h). */
static void
lookup_mx_put_hosts(struct lookup_mx_req *req, struct msg *m,
    const struct mx_addr *addrs, size_t n)
{
	const struct lookup_mx_hostdane	*dn;
	bool				 seen[MX_HOSTS_MAX] = { false };
	size_t				 order[MX_HOSTS_MAX];
	size_t				 i, j, nh = 0;

	for (i = 0; addrs != NULL && i < n; i++) {
		if (addrs[i].host >= MX_HOSTS_MAX || seen[addrs[i].host])
			continue;
		seen[addrs[i].host] = true;
		order[nh++] = addrs[i].host;
	}
	msg_put_u32(m, (uint32_t)nh);
	for (i = 0; i < nh; i++) {
		dn = &req->dane[order[i]];
		msg_put_str(m, req->route.hosts[order[i]].name);
		msg_put_u32(m, dn->secure ? 1 : 0);
		msg_put_u32(m, (uint32_t)dn->state);
		msg_put_str(m, dn->state == LOOKUP_MX_DANE_FAILED ?
		    dn->reason : "");
		msg_put_u32(m, dn->state == LOOKUP_MX_DANE_RECORDS ?
		    (uint32_t)dn->nrrs : 0);
		for (j = 0; dn->state == LOOKUP_MX_DANE_RECORDS &&
		    j < dn->nrrs; j++) {
			msg_put_u32(m, dn->rrs[j].usage);
			msg_put_u32(m, dn->rrs[j].selector);
			msg_put_u32(m, dn->rrs[j].mtype);
			msg_put_data(m, dn->rrs[j].data, dn->rrs[j].len);
		}
	}
}

/*
 * Send the answer and forget the request.  addrs is NULL for a failure.
 * A password travels only with an answer that has addresses.
 */
static void
lookup_mx_answer(struct lookup_mx_req *req, enum mx_status st,
    const char *enh, const char *reason, const struct mx_addr *addrs,
    size_t n)
{
	struct lookup_mx	*lm = req->lm;
	const struct conf_relay	*relay;
	const char		*pass = "";
	struct msg		*m;
	char			 ip[INET6_ADDRSTRLEN];
	const void		*sa;
	uint16_t		 port;
	size_t			 i, ridx = 0;

	if (req->gen != lm->gen[req->from]) {
		lookup_mx_req_free(req);
		return;
	}
	relay = lookup_mx_relay(lm, &req->plan, &ridx);
	if (st == MX_OK && relay != NULL && relay->auth_user[0] != '\0') {
		if (lm->pass[ridx] == NULL) {
			st = MX_TEMPFAIL;
			enh = "4.7.0";
			reason = "the relay's password is not available";
			n = 0;
		} else
			pass = lm->pass[ridx];
	}
	m = msg_new(MSG_LOOKUP_MX_RESULT);
	msg_put_u64(m, req->reqid);
	msg_put_u32(m, (uint32_t)st);
	msg_put_str(m, st == MX_OK ? "" : enh);
	msg_put_str(m, st == MX_OK ? "" : reason);
	msg_put_u32(m, req->ttl);
	msg_put_str(m, st == MX_OK && relay != NULL ? relay->auth_user : "");
	msg_put_str(m, st == MX_OK ? pass : "");
	msg_put_u32(m, st == MX_OK ? (uint32_t)n : 0);
	for (i = 0; st == MX_OK && i < n; i++) {
		if (addrs[i].ss.ss_family == AF_INET6) {
			sa = &((const struct sockaddr_in6 *)&addrs[i].ss)->
			    sin6_addr;
			port = ntohs(((const struct sockaddr_in6 *)
			    &addrs[i].ss)->sin6_port);
		} else {
			sa = &((const struct sockaddr_in *)&addrs[i].ss)->
			    sin_addr;
			port = ntohs(((const struct sockaddr_in *)
			    &addrs[i].ss)->sin_port);
		}
		if (inet_ntop(addrs[i].ss.ss_family, sa, ip, sizeof(ip)) ==
		    NULL)
			fatal("lookup: inet_ntop");
		msg_put_str(m, req->route.hosts[addrs[i].host].name);
		msg_put_str(m, ip);
		msg_put_u32(m, port);
	}
	lookup_mx_put_hosts(req, m, st == MX_OK ? addrs : NULL, n);
	log_debug("lookup: event=route domain=%s status=%s hosts=%zu "
	    "addrs=%zu ttl=%u%s%s", req->domain, mx_status_name(st),
	    req->route.nhosts, st == MX_OK ? n : 0, req->ttl,
	    st == MX_OK ? "" : " reason=", st == MX_OK ? "" : reason);
	/* ipc_send copies the frame and frees m at once */
	(void)proc_send(lm->self, req->from, m);
	lookup_mx_req_free(req);
}

/* A TLSA answer for host h (RFC 7672 §2.2, RFC 6698 §4). */
static void
lookup_mx_tlsa_cb(void *arg, const struct dns_result *res)
{
	struct lookup_mx_slot	*slot = arg;
	struct lookup_mx_req	*req = slot->req;
	struct lookup_mx_hostdane	*dn = &req->dane[slot->host];
	const struct dns_tlsa	*t;
	size_t			 i;

	req->q_tlsa[slot->host] = NULL;
	if (res->status == DNS_TEMPFAIL) {
		/* bogus, SERVFAIL, timeout: never read as "no TLSA" */
		dn->state = LOOKUP_MX_DANE_FAILED;
		(void)snprintf(dn->reason, sizeof(dn->reason), "TLSA lookup "
		    "for %s failed: %s", res->qname, res->why);
	} else if (res->status != DNS_OK || !res->secure) {
		/* §2.2.2: an insecure TLSA answer is no TLSA */
		dn->state = LOOKUP_MX_DANE_NO_TLSA;
	} else if (res->nrrs > LOOKUP_MX_TLSA_MAX) {
		dn->state = LOOKUP_MX_DANE_FAILED;
		(void)snprintf(dn->reason, sizeof(dn->reason), "TLSA for %s: "
		    "more than %d records", res->qname, LOOKUP_MX_TLSA_MAX);
	} else {
		dn->state = LOOKUP_MX_DANE_RECORDS;
		for (i = 0; i < res->nrrs; i++) {
			t = &res->rrs[i].u.tlsa;
			if (t->len > LOOKUP_MX_TLSA_DATA_MAX) {
				lookup_mx_dane_clear(dn);
				dn->state = LOOKUP_MX_DANE_FAILED;
				(void)snprintf(dn->reason, sizeof(dn->reason),
				    "TLSA for %s: a record over %d octets",
				    res->qname, LOOKUP_MX_TLSA_DATA_MAX);
				break;
			}
			dn->rrs[i] = *t;
			dn->rrs[i].data = xmalloc(t->len);
			memcpy(dn->rrs[i].data, t->data, t->len);
			dn->nrrs++;
		}
		if (res->malformed > 0 && dn->state == LOOKUP_MX_DANE_RECORDS) {
			lookup_mx_dane_clear(dn);
			dn->state = LOOKUP_MX_DANE_FAILED;
			(void)snprintf(dn->reason, sizeof(dn->reason),
			    "TLSA for %s: malformed records", res->qname);
		}
	}
	if (res->status == DNS_OK)
		lookup_mx_ttl(req, res->ttl);
	log_debug("lookup: event=tlsa name=%s status=%s secure=%s records=%zu "
	    "dane=%d", res->qname, dns_status_name(res->status),
	    res->secure ? "yes" : "no", res->nrrs, (int)dn->state);
	if (--req->pending == 0)
		lookup_mx_answer(req, MX_OK, "", "", req->addrs, req->naddrs);
}

/* Both address answers of host h are secure, and at least one has data. */
static bool
lookup_mx_host_secure(const struct lookup_mx_req *req, size_t h)
{
	const struct dns_result	*r[2] = { req->a[h], req->aaaa[h] };
	bool			 data = false;
	size_t			 i;

	for (i = 0; i < 2; i++) {
		if (r[i] == NULL || r[i]->status == DNS_TEMPFAIL)
			continue;
		if (!r[i]->secure)
			return false;
		if (r[i]->status == DNS_OK)
			data = true;
	}
	return data;
}

/*
 * The addresses are known: for each host in use whose MX and address
 * answers are secure, ask its TLSA records (RFC 7672 §2.2.1, port 25).
 */
static void
lookup_mx_ask_tlsa(struct lookup_mx_req *req)
{
	struct lookup_mx_slot	*slot;
	char			 name[DNS_NAME_MAX + 16];
	const char		*err;
	size_t			 i, h;
	int			 len;

	if (!req->lm->conf->dane || !req->plan.lookup_mx || req->plan.relay ||
	    !req->mx_secure) {
		lookup_mx_answer(req, MX_OK, "", "", req->addrs, req->naddrs);
		return;
	}
	for (i = 0; i < req->naddrs; i++) {
		h = req->addrs[i].host;
		if (h >= MX_HOSTS_MAX || req->dane[h].secure ||
		    req->dane[h].state != LOOKUP_MX_DANE_NONE ||
		    !lookup_mx_host_secure(req, h))
			continue;
		req->dane[h].secure = true;
		len = snprintf(name, sizeof(name), "_25._tcp.%s",
		    req->route.hosts[h].name);
		slot = &req->slot_tlsa[h];
		slot->req = req;
		slot->host = h;
		if (len < 0 || (size_t)len >= sizeof(name) ||
		    (req->q_tlsa[h] = dns_query(req->lm->dns, name, DNS_T_TLSA,
		    lookup_mx_tlsa_cb, slot, &err)) == NULL) {
			/* a name too long for "_25._tcp.": no DANE possible */
			req->dane[h].state = LOOKUP_MX_DANE_FAILED;
			(void)snprintf(req->dane[h].reason,
			    sizeof(req->dane[h].reason), "TLSA name %s "
			    "cannot be asked", name);
			continue;
		}
		req->pending++;
	}
	if (req->pending == 0)
		lookup_mx_answer(req, MX_OK, "", "", req->addrs, req->naddrs);
}

/* Every address query is in: the addresses to try. */
static void
lookup_mx_finish(struct lookup_mx_req *req)
{
	const char		*reason, *enh;
	enum mx_status		 st;
	size_t			 n = 0;

	st = mx_addresses(&req->route,
	    (const struct dns_result *const *)req->a,
	    (const struct dns_result *const *)req->aaaa, req->addrs,
	    MX_ADDRS_MAX, &n, &reason, &enh);
	if (st != MX_OK) {
		lookup_mx_answer(req, st, enh, reason, NULL, 0);
		return;
	}
	req->naddrs = n;
	lookup_mx_ask_tlsa(req);
}

/* Keep what mx_addresses() needs of an address answer. */
static struct dns_result *
lookup_mx_copy(const struct dns_result *res)
{
	struct dns_result	*c;

	c = xcalloc(1, sizeof(*c));
	c->status = res->status;
	c->type = res->type;
	c->rcode = res->rcode;
	c->ttl = res->ttl;
	c->secure = res->secure;
	if (res->status == DNS_OK && res->nrrs > 0) {
		/* A and AAAA records hold no pointers: a flat copy */
		c->rrs = xcalloc(res->nrrs, sizeof(*c->rrs));
		memcpy(c->rrs, res->rrs, res->nrrs * sizeof(*c->rrs));
		c->nrrs = res->nrrs;
	}
	return c;
}

static void
lookup_mx_addr_cb(void *arg, const struct dns_result *res)
{
	struct lookup_mx_slot	*slot = arg;
	struct lookup_mx_req	*req = slot->req;
	size_t			 h = slot->host;

	if (slot->v6) {
		req->q_aaaa[h] = NULL;
		req->aaaa[h] = lookup_mx_copy(res);
	} else {
		req->q_a[h] = NULL;
		req->a[h] = lookup_mx_copy(res);
	}
	if (res->status == DNS_OK)
		lookup_mx_ttl(req, res->ttl);
	if (--req->pending == 0)
		lookup_mx_finish(req);
}

static void
lookup_mx_ask(struct lookup_mx_req *req, size_t h, bool v6)
{
	struct lookup_mx_slot	*slot;
	struct dns_query	*q;
	const char		*err;

	slot = v6 ? &req->slot_aaaa[h] : &req->slot_a[h];
	slot->req = req;
	slot->host = h;
	slot->v6 = v6;
	q = dns_query(req->lm->dns, req->route.hosts[h].name,
	    v6 ? DNS_T_AAAA : DNS_T_A, lookup_mx_addr_cb, slot, &err);
	if (q == NULL) {
		/* mx_route() kept host names only: a local refusal */
		log_warnx("lookup: %s %s: %s", v6 ? "AAAA" : "A",
		    req->route.hosts[h].name, err);
		return;
	}
	if (v6)
		req->q_aaaa[h] = q;
	else
		req->q_a[h] = q;
	req->pending++;
}

/* The hosts are known: ask for their addresses. */
static void
lookup_mx_hosts(struct lookup_mx_req *req)
{
	size_t	h;

	if (req->route.status != MX_OK) {
		lookup_mx_answer(req, req->route.status, req->route.enhanced,
		    req->route.reason, NULL, 0);
		return;
	}
	for (h = 0; h < req->route.nhosts; h++) {
		if (req->route.hosts[h].literal)
			continue;
		lookup_mx_ask(req, h, true);
		lookup_mx_ask(req, h, false);
	}
	if (req->pending == 0)
		lookup_mx_finish(req);
}

static void
lookup_mx_mx_cb(void *arg, const struct dns_result *res)
{
	struct lookup_mx_req	*req = arg;

	req->q_mx = NULL;
	if (res->status == DNS_OK || res->status == DNS_NODATA)
		lookup_mx_ttl(req, res->ttl);
	req->mx_secure = res->secure && (res->status == DNS_OK ||
	    res->status == DNS_NODATA);
	if (res->status == DNS_TEMPFAIL)
		log_info("lookup: event=dns-tempfail domain=%s type=MX "
		    "why=\"%s\"", req->domain, res->why);
	mx_route(&req->plan, res, req->lm->conf->hostname, lookup_mx_rnd,
	    NULL, &req->route);
	lookup_mx_hosts(req);
}

void
lookup_mx_request(struct lookup_mx *lm, enum proc_id from, struct msg *m)
{
	struct lookup_mx_req	*req;
	const char		*err;
	uint64_t		 reqid;

	req = xcalloc(1, sizeof(*req));
	if (msg_get_u64(m, &reqid) == -1 ||
	    msg_get_str(m, req->domain, sizeof(req->domain)) == -1 ||
	    msg_end(m) == -1)
		fatalx("lookup: bad %s from %s", msg_name(m->type),
		    proc_name(from));
	req->lm = lm;
	req->from = from;
	req->gen = lm->gen[from];
	req->reqid = reqid;
	req->ttl = LOOKUP_MX_TTL_MAX;
	TAILQ_INSERT_TAIL(&lm->reqs, req, entry);
	lm->nreqs++;
	if (mx_plan(lm->conf->relays, lm->conf->nrelays, req->domain,
	    &req->plan, &err) == -1) {
		lookup_mx_answer(req, MX_PERMFAIL, "5.1.2", err, NULL, 0);
		return;
	}
	/* An address (literal or [IP] relay) needs no DNS at all. */
	if ((lm->dns == NULL && !req->plan.literal) ||
	    lm->nreqs > LOOKUP_MX_REQS_MAX) {
		lookup_mx_answer(req, MX_TEMPFAIL, "4.4.3", lm->dns == NULL ?
		    "no DNS resolver" : "too many DNS lookups", NULL, 0);
		return;
	}
	if (!req->plan.lookup_mx) {
		mx_route(&req->plan, NULL, lm->conf->hostname, lookup_mx_rnd,
		    NULL, &req->route);
		lookup_mx_hosts(req);
		return;
	}
	req->q_mx = dns_query(lm->dns, req->plan.name, DNS_T_MX,
	    lookup_mx_mx_cb, req, &err);
	if (req->q_mx == NULL)
		lookup_mx_answer(req, MX_PERMFAIL, "5.1.2", err, NULL, 0);
}
