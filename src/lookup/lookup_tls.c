/*
 * lookup_tls: lookup's TLS key and its replacement while the daemon runs
 * (lookup_tls.h).  Run by lookup, the only holder of the key.
 *
 * A key is named by the SHA-256 of its SubjectPublicKeyInfo (tls.h), and
 * each key operation a role asks for names the key of the certificate
 * its handshake presents (keyproxy.h).  So a change needs no
 * coordination: lookup keeps the new key and, for
 * LOOKUP_TLS_PREVIOUS_S, the one before, which signs the handshakes
 * that began with the old certificate in a role that has not yet made
 * contexts from the new chain; then it sends the chain to every process
 * that gave it a key channel (MSG_KEYPROXY_CHAIN), and to each one that
 * gives it one later (a restarted worker, or every role when lookup
 * itself restarted), so that no role keeps presenting a certificate
 * whose key lookup no longer has.
 *
 * It trusts the parent's messages (the chain it read, a descriptor of
 * the key file it opened) as far as their framing; the PEM itself is
 * parsed by OpenSSL and bounded (TLS_PEM_MAX).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc.h"
#include "keyproxy.h"
#include "log.h"
#include "lookup/lookup_tls.h"
#include "tls.h"
#include "util.h"

/*
 * How long the key before a change still signs: a handshake takes a
 * round trip or two and a role gets the new chain within milliseconds;
 * this covers a role that is slow to read it, and then the old key,
 * perhaps replaced because it leaked, is gone.
 */
#define LOOKUP_TLS_PREVIOUS_S	60

struct lookup_tls {
	struct proc_self	*self;
	struct tls_key		*key;		/* in use; NULL: none */
	struct tls_key		*prev;		/* the one before, for a while */
	struct event		*ev_prev;	/* drops prev */
	/* The processes that gave us a key channel: they serve TLS. */
	bool			 served[PROC_COUNT][PROC_WORKERS_MAX];
};

static void
lookup_tls_prev_expire(evutil_socket_t fd, short what, void *arg)
{
	struct lookup_tls	*t = arg;

	(void)fd;
	(void)what;
	tls_key_free(t->prev);
	t->prev = NULL;
	log_debug("lookup: tls: the previous key is dropped");
}

struct lookup_tls *
lookup_tls_new(struct proc_self *self, struct tls_key *key)
{
	struct lookup_tls	*t;

	t = xcalloc(1, sizeof(*t));
	t->self = self;
	t->key = key;
	if ((t->ev_prev = evtimer_new(self->base, lookup_tls_prev_expire,
	    t)) == NULL)
		fatalx("lookup: tls: evtimer_new");
	return t;
}

struct tls_key *
lookup_tls_key(struct lookup_tls *t)
{
	return t->key;
}

struct tls_key *
lookup_tls_find(void *arg, const uint8_t *spki)
{
	struct lookup_tls	*t = arg;

	if (t->key != NULL &&
	    memcmp(tls_key_spki(t->key), spki, TLS_SPKI_LEN) == 0)
		return t->key;
	if (t->prev != NULL &&
	    memcmp(tls_key_spki(t->prev), spki, TLS_SPKI_LEN) == 0)
		return t->prev;
	return NULL;
}

/* The chain of the key in use to one process. */
static void
lookup_tls_send(struct lookup_tls *t, struct proc_peer to)
{
	struct msg	*m;
	const char	*chain;
	size_t		 len;

	if (t->key == NULL || t->self->peer[to.id][to.worker] == NULL)
		return;
	chain = tls_key_chain(t->key, &len);
	m = msg_new(MSG_KEYPROXY_CHAIN);
	msg_put_data(m, chain, len);
	(void)proc_send_peer(t->self, to, m);
}

void
lookup_tls_channel(struct lookup_tls *t, struct proc_peer from, int fd)
{
	keyproxy_serve(t->self->base, lookup_tls_find, t, from, fd);
	t->served[from.id][from.worker] = true;
	/* It may have read another certificate than ours from disk. */
	lookup_tls_send(t, from);
}

/* spki as lower-case hex into out (2 * TLS_SPKI_LEN + 1 octets). */
static void
lookup_tls_hex(const uint8_t *spki, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < TLS_SPKI_LEN; i++) {
		out[2 * i] = hex[spki[i] >> 4];
		out[2 * i + 1] = hex[spki[i] & 0xf];
	}
	out[2 * TLS_SPKI_LEN] = '\0';
}

int
lookup_tls_install(struct lookup_tls *t, const char *chain_pem,
    size_t chain_len, const char *key_pem, size_t key_len,
    const char **errstr_out)
{
	struct timeval		 tv = { LOOKUP_TLS_PREVIOUS_S, 0 };
	struct tls_key		*k;
	struct proc_peer	 p;
	char			 hex[2 * TLS_SPKI_LEN + 1];

	if ((k = tls_key_new_pem(chain_pem, chain_len, key_pem, key_len,
	    errstr_out)) == NULL)
		return -1;
	tls_key_free(t->prev);
	t->prev = t->key;
	t->key = k;
	if (t->prev != NULL)
		evtimer_add(t->ev_prev, &tv);
	for (p.id = 0; p.id < PROC_COUNT; p.id++)
		for (p.worker = 0; p.worker < PROC_WORKERS_MAX; p.worker++)
			if (t->served[p.id][p.worker])
				lookup_tls_send(t, p);
	lookup_tls_hex(tls_key_spki(k), hex);
	log_info("event=tls-key-installed spki-sha256=%s", hex);
	return 0;
}

void
lookup_tls_reload(struct lookup_tls *t, struct msg *m)
{
	struct span	 chain;
	uint64_t	 reqid;
	const char	*err = NULL;
	char		*key = NULL, line[128 + 2 * TLS_SPKI_LEN];
	char		 hex[2 * TLS_SPKI_LEN + 1];
	size_t		 key_len = 0;
	int		 fd;

	if (msg_get_u64(m, &reqid) == -1 || msg_get_span(m, &chain) == -1 ||
	    msg_end(m) == -1 || (fd = msg_take_fd(m)) == -1)
		fatalx("lookup: bad %s from parent", msg_name(m->type));
	if (tls_pem_read_fd(fd, &key, &key_len, &err) == -1) {
		(void)close(fd);
		log_warnx("lookup: tls reload: key: %s", err);
		proc_ctl_end(t->self, reqid, 1, "cannot read the key file");
		return;
	}
	(void)close(fd);
	if (lookup_tls_install(t, chain.ptr, chain.len, key, key_len,
	    &err) == -1) {
		log_warnx("lookup: tls reload refused: %s", err);
		(void)snprintf(line, sizeof(line), "refused, the certificate "
		    "in use stays: %s", err);
		proc_ctl_end(t->self, reqid, 1, line);
	} else {
		lookup_tls_hex(tls_key_spki(t->key), hex);
		(void)snprintf(line, sizeof(line), "installed; TLSA 3 1 1 %s",
		    hex);
		proc_ctl_line(t->self, reqid, line);
		proc_ctl_end(t->self, reqid, 0, NULL);
	}
	explicit_bzero(key, key_len);
	free(key);
}

int
lookup_tls_spki_sha256(struct lookup_tls *t, uint8_t out[32])
{
	if (t->key == NULL)
		return -1;
	memcpy(out, tls_key_spki(t->key), TLS_SPKI_LEN);
	return 0;
}

void
lookup_tls_free(struct lookup_tls *t)
{
	if (t == NULL)
		return;
	if (t->ev_prev != NULL)
		event_free(t->ev_prev);
	tls_key_free(t->key);
	tls_key_free(t->prev);
	free(t);
}
