/*
 * keyproxy: the TLS private key stays in the lookup role (DESIGN.md:
 * lookup is the only holder of secrets, and code that parses what the
 * network sends holds none).  The smtp, pop3, imap and http roles get a
 * server context whose key is a stand-in (tls_server_new_remote()); each
 * signature of a handshake goes to lookup over a channel of its own and
 * comes back before the handshake goes on.
 *
 * The role's end: a socketpair made by the role, one end passed to
 * lookup (MSG_LOOKUP_KEY_CHANNEL) at start and whenever lookup comes
 * back; requests on it are MSG_LOOKUP_KEY_OP (u64 seq, u32 op, u32
 * padding, data spki, data in), answers MSG_LOOKUP_KEY_RESULT (u64
 * seq, u32 ok, data out).  spki names the key the handshake needs (the
 * SHA-256 of its SubjectPublicKeyInfo: tls.h), so that a handshake
 * begun with the certificate before a change is still signed with its
 * key.  The role waits for the answer, at most KEYPROXY_TIMEOUT_MS; a
 * late answer is recognised by its seq and skipped.
 *
 * The certificate can change while the role runs: lookup sends the
 * chain of the key it holds (MSG_KEYPROXY_CHAIN) whenever it changes
 * and whenever a role's process gives it a key channel; the role makes
 * new contexts from it for the connections that come next.
 */
#ifndef CACHET_KEYPROXY_H
#define CACHET_KEYPROXY_H

#include <stdint.h>

#include "proc.h"

#define KEYPROXY_TIMEOUT_MS	5000

struct tls_ctx;
struct tls_key;

/*
 * The role's server contexts, their key operations sent to lookup: one
 * for each cipher profile that a listener of the role uses
 * (conf_listen_tls_profile()), offering the configured ciphers
 * (tls { ciphers ... }); the other entries NULL.  Reads the certificate,
 * so it runs before proc_drop(); then gives lookup a key channel
 * (keyproxy_connect()).  fatalx() when a context cannot be made.
 */
void		 keyproxy_server_contexts(struct proc_self *self,
		    struct tls_ctx *tls[CONF_TLS_PROFILES]);

/*
 * MSG_KEYPROXY_CHAIN from lookup (its dispatch hands it over): the
 * contexts keyproxy_server_contexts() made take the new chain, in
 * place, for the connections accepted (or STARTTLS begun) from now on;
 * the same chain again changes nothing.  fatalx() on a malformed
 * message; a chain that gives no context is logged and the old stays.
 */
void		 keyproxy_chain_update(struct proc_self *self, struct msg *m);

/* lookup is up (at start, or back): give it a fresh channel. */
void		 keyproxy_connect(struct proc_self *self);
/* A role's peer_up: keyproxy_connect() when the peer is lookup. */
void		 keyproxy_peer_up(struct proc_self *self,
		    struct proc_peer p);

/* The key named spki (TLS_SPKI_LEN octets), or NULL: none such. */
typedef struct tls_key	*(*keyproxy_find_fn)(void *arg, const uint8_t *spki);

/*
 * lookup's end: serve key operations on fd, a channel a role's process
 * sent (the one before from the same process is closed), with the keys
 * find(arg) names.
 */
void		 keyproxy_serve(struct event_base *base, keyproxy_find_fn find,
		    void *arg, struct proc_peer from, int fd);

#endif
