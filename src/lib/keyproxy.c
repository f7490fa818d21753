/*
 * keyproxy: TLS private-key operations done by lookup for the roles that
 * face the network (keyproxy.h).  The role's side runs inside OpenSSL's
 * handshake, so it is a blocking request and answer on a socketpair of
 * its own, never on the role's ordinary channel to lookup, whose other
 * messages must not be read out of turn.  lookup's side is an ordinary
 * channel on its event loop.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "keyproxy.h"
#include "log.h"
#include "tls.h"
#include "util.h"

/* --- the role's side --- */

static struct proc_self	*keyproxy_self;
static int		 keyproxy_fd = -1;
static uint64_t		 keyproxy_seq;
/* The role's server contexts and the chain they were made from. */
static struct tls_ctx	**keyproxy_tls;
static char		*keyproxy_chain;
static size_t		 keyproxy_chain_len;

void
keyproxy_connect(struct proc_self *self)
{
	struct timeval	 tv = { KEYPROXY_TIMEOUT_MS / 1000,
			    (KEYPROXY_TIMEOUT_MS % 1000) * 1000 };
	struct msg	*m;
	int		 sv[2];

	if (keyproxy_fd != -1) {
		close(keyproxy_fd);
		keyproxy_fd = -1;
	}
	if (self->peer[PROC_LOOKUP][0] == NULL)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("keyproxy: socketpair");
		return;
	}
	/* Bounded waits: a stuck lookup fails handshakes, not the role. */
	if (setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) == -1) {
		log_warn("keyproxy: setsockopt");
		close(sv[0]);
		close(sv[1]);
		return;
	}
	keyproxy_fd = sv[0];
	m = msg_new(MSG_LOOKUP_KEY_CHANNEL);
	msg_put_fd(m, sv[1]);
	(void)proc_send(self, PROC_LOOKUP, m);
}

void
keyproxy_peer_up(struct proc_self *self, struct proc_peer p)
{
	if (p.id == PROC_LOOKUP)
		keyproxy_connect(self);
}

/* The channel failed: a new one goes to lookup once the loop runs. */
static ssize_t
keyproxy_broken(const char *why)
{
	log_warnx("keyproxy: %s; handshake failed, new channel to lookup",
	    why);
	keyproxy_connect(keyproxy_self);
	return -1;
}

static ssize_t
keyproxy_op(void *arg, const uint8_t *spki, enum tls_key_op op, int padding,
    const unsigned char *in, size_t inlen, unsigned char *out, size_t outsz)
{
	struct msg	*m;
	struct span	 data;
	uint64_t	 seq;
	uint32_t	 ok;
	ssize_t		 n = -1;

	(void)arg;
	if (keyproxy_fd == -1)
		return keyproxy_broken("no channel to lookup");
	m = msg_new(MSG_LOOKUP_KEY_OP);
	msg_put_u64(m, ++keyproxy_seq);
	msg_put_u32(m, (uint32_t)op);
	msg_put_u32(m, (uint32_t)padding);
	msg_put_data(m, spki, TLS_SPKI_LEN);
	msg_put_data(m, in, inlen);
	if (ipc_write_blocking(keyproxy_fd, m) == -1)
		return keyproxy_broken("cannot write to lookup");
	for (;;) {
		if ((m = ipc_read_blocking(keyproxy_fd)) == NULL)
			return keyproxy_broken(errno == EAGAIN ?
			    "lookup did not answer in time" :
			    "cannot read from lookup");
		if (m->type != MSG_LOOKUP_KEY_RESULT ||
		    msg_get_u64(m, &seq) == -1 || msg_get_u32(m, &ok) == -1 ||
		    msg_get_span(m, &data) == -1 || msg_end(m) == -1) {
			msg_free(m);
			return keyproxy_broken("bad answer from lookup");
		}
		if (seq == keyproxy_seq)
			break;
		msg_free(m);	/* the answer to a request given up on */
	}
	if (ok == 1 && data.len <= outsz) {
		memcpy(out, data.ptr, data.len);
		n = (ssize_t)data.len;
	} else
		log_warnx("keyproxy: lookup refused a key operation");
	msg_free(m);
	return n;
}

/* A server context for the PEM chain offering profile's ciphers. */
static struct tls_ctx *
keyproxy_server_new(struct proc_self *self, const char *chain, size_t len,
    enum conf_tls_profile profile, const char **errstr_out)
{
	struct tls_ctx	*t;

	if ((t = tls_server_new_remote_pem(chain, len, keyproxy_op, NULL,
	    errstr_out)) == NULL)
		return NULL;
	if (tls_ctx_set_ciphers(t, self->conf->tls_ciphers[profile],
	    self->conf->tls_ciphersuites, errstr_out) == -1) {
		tls_ctx_free(t);
		return NULL;
	}
	return t;
}

void
keyproxy_server_contexts(struct proc_self *self,
    struct tls_ctx *tls[CONF_TLS_PROFILES])
{
	const struct conf	*conf = self->conf;
	enum conf_tls_profile	 p;
	char			 cert[CONF_PATH_MAX], key[CONF_PATH_MAX];
	const char		*errstr;
	size_t			 i;

	keyproxy_self = self;
	keyproxy_tls = tls;
	proc_tls_paths(conf, cert, key, sizeof(cert));
	for (p = 0; p < CONF_TLS_PROFILES; p++)
		tls[p] = NULL;
	for (i = 0; i < conf->nlistens; i++) {
		if (self->listen_fds[i] == -1)
			continue;
		p = conf_listen_tls_profile(conf->listens[i].kind);
		if (tls[p] != NULL)
			continue;
		/* Kept: a chain from lookup that is the same changes nothing. */
		if (keyproxy_chain == NULL && tls_pem_read(cert,
		    &keyproxy_chain, &keyproxy_chain_len, &errstr) == -1)
			fatalx("tls: certificate %s", errstr);
		if ((tls[p] = keyproxy_server_new(self, keyproxy_chain,
		    keyproxy_chain_len, p, &errstr)) == NULL)
			fatalx("tls: %s: %s", cert, errstr);
	}
	keyproxy_connect(self);
}

void
keyproxy_chain_update(struct proc_self *self, struct msg *m)
{
	struct tls_ctx		*fresh[CONF_TLS_PROFILES] = { NULL };
	struct span		 chain;
	enum conf_tls_profile	 p;
	const char		*errstr;
	size_t			 n = 0;

	if (msg_get_span(m, &chain) == -1 || msg_end(m) == -1 ||
	    chain.len == 0 || chain.len > TLS_PEM_MAX)
		fatalx("keyproxy: bad %s", msg_name(m->type));
	if (keyproxy_tls == NULL || (keyproxy_chain != NULL &&
	    chain.len == keyproxy_chain_len &&
	    memcmp(chain.ptr, keyproxy_chain, chain.len) == 0))
		return;
	/* All contexts or none: each listener presents the same chain. */
	for (p = 0; p < CONF_TLS_PROFILES; p++) {
		if (keyproxy_tls[p] == NULL)
			continue;
		if ((fresh[p] = keyproxy_server_new(self, chain.ptr,
		    chain.len, p, &errstr)) == NULL) {
			log_warnx("keyproxy: the certificate from lookup is "
			    "not usable, the one in use stays: %s", errstr);
			for (p = 0; p < CONF_TLS_PROFILES; p++)
				tls_ctx_free(fresh[p]);
			return;
		}
		n++;
	}
	for (p = 0; p < CONF_TLS_PROFILES; p++)
		if (fresh[p] != NULL)
			tls_ctx_replace(keyproxy_tls[p], fresh[p]);
	free(keyproxy_chain);
	keyproxy_chain = xmalloc(chain.len + 1);
	memcpy(keyproxy_chain, chain.ptr, chain.len);
	keyproxy_chain[chain.len] = '\0';
	keyproxy_chain_len = chain.len;
	log_info("event=tls-certificate-installed contexts=%zu", n);
}

/* --- lookup's side --- */

struct keyproxy_chan {
	struct ipc_chan		*chan;
	keyproxy_find_fn	 find;
	void			*arg;
	struct proc_peer	 from;
};

/* One channel per process of each role that asks: [role][worker]. */
static struct keyproxy_chan	keyproxy_chans[PROC_COUNT][PROC_WORKERS_MAX];

static void
keyproxy_close(struct ipc_chan *c, void *arg)
{
	struct keyproxy_chan	*k = arg;

	(void)c;
	ipc_chan_free(k->chan);
	k->chan = NULL;
}

static void
keyproxy_request(struct ipc_chan *c, struct msg *m, void *arg)
{
	struct keyproxy_chan	*k = arg;
	unsigned char		 out[TLS_KEY_IO_MAX];
	struct tls_key		*key;
	struct msg		*r;
	struct span		 spki, in;
	uint64_t		 seq;
	uint32_t		 op, padding;
	ssize_t			 n = -1;

	if (m->type != MSG_LOOKUP_KEY_OP || msg_get_u64(m, &seq) == -1 ||
	    msg_get_u32(m, &op) == -1 || msg_get_u32(m, &padding) == -1 ||
	    msg_get_span(m, &spki) == -1 || spki.len != TLS_SPKI_LEN ||
	    msg_get_span(m, &in) == -1 || msg_end(m) == -1) {
		/* The role broke the protocol: it gets no more answers. */
		log_warnx("keyproxy: bad %s from %s/%u, channel closed",
		    msg_name(m->type), proc_name(k->from.id), k->from.worker);
		msg_free(m);
		keyproxy_close(c, k);
		return;
	}
	/* The key of the certificate the role's handshake presents. */
	key = k->find(k->arg, (const uint8_t *)spki.ptr);
	if (key == NULL)
		log_warnx("keyproxy: %s/%u asked for a key lookup does not "
		    "hold", proc_name(k->from.id), k->from.worker);
	else if (in.len <= TLS_KEY_IO_MAX && padding <= 64)
		n = tls_key_op(key, (enum tls_key_op)op, (int)padding,
		    (const unsigned char *)in.ptr, in.len, out, sizeof(out));
	if (n < 0 && key != NULL)
		log_warnx("keyproxy: %s/%u asked for a key operation that "
		    "failed (op %u, %zu octets)", proc_name(k->from.id),
		    k->from.worker, op, in.len);
	r = msg_new(MSG_LOOKUP_KEY_RESULT);
	msg_put_u64(r, seq);
	msg_put_u32(r, n < 0 ? 0 : 1);
	msg_put_data(r, out, n < 0 ? 0 : (size_t)n);
	ipc_send(c, r);
	msg_free(m);
}

void
keyproxy_serve(struct event_base *base, keyproxy_find_fn find, void *arg,
    struct proc_peer from, int fd)
{
	struct keyproxy_chan	*k = &keyproxy_chans[from.id][from.worker];

	if (k->chan != NULL)
		ipc_chan_free(k->chan);
	k->find = find;
	k->arg = arg;
	k->from = from;
	k->chan = ipc_chan_new(base, fd, "key", keyproxy_request,
	    keyproxy_close, k);
}
