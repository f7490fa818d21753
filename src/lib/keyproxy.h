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
 * padding, data in), answers MSG_LOOKUP_KEY_RESULT (u64 seq, u32 ok,
 * data out).  The role waits for the answer, at most
 * KEYPROXY_TIMEOUT_MS; a late answer is recognised by its seq and
 * skipped.
 */
#ifndef CACHET_KEYPROXY_H
#define CACHET_KEYPROXY_H

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

/* lookup is up (at start, or back): give it a fresh channel. */
void		 keyproxy_connect(struct proc_self *self);
/* A role's peer_up: keyproxy_connect() when the peer is lookup. */
void		 keyproxy_peer_up(struct proc_self *self,
		    struct proc_peer p);

/*
 * lookup's end: serve key operations with key on fd, a channel a role's
 * process sent (the one before from the same process is closed).
 */
void		 keyproxy_serve(struct event_base *base, struct tls_key *key,
		    struct proc_peer from, int fd);

#endif
