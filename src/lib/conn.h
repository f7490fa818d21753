/*
 * conn: the network side of a server connection, shared by the roles
 * that serve clients (smtp, pop3, imap).  It accepts on listening sockets
 * within the connection limits (in total and per client address), runs
 * implicit TLS and STARTTLS/STLS (dropping whatever the client sent before
 * the handshake: CVE-2011-0411), applies timeouts, stops reading while
 * replies back up, and closes only after the last reply left.  The
 * protocol lives in the role: conn hands it bytes and takes its replies.
 *
 * Requests a role sends to a sibling on behalf of a connection carry
 * conn_reqid(); conn_by_reqid() finds the connection again, or NULL when
 * it went away meanwhile, so a late answer is simply dropped.
 */
#ifndef CACHET_CONN_H
#define CACHET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sasl.h"

#define CONN_INPUT_HIWAT	(256 * 1024)	/* stop reading past this */
#define CONN_WRITE_MAX		(256 * 1024)	/* one write call at most */
#define CONN_OUTPUT_HIWAT	(256 * 1024)	/* stop feeding past this */

struct event;
struct event_base;
struct tls_ctx;
struct conn;
struct conn_limit;
struct conn_listener;

struct conn_ops {
	/*
	 * Input is buffered, or output drained: take input with
	 * conn_peek()/conn_consume() while conn_can_feed() says so.
	 */
	void	(*input)(struct conn *, void *arg);
	/* TLS is up (implicit, or after conn_starttls()). */
	void	(*tls_up)(struct conn *, void *arg, const char *version,
		    const char *cipher);
	/* No traffic for the timeout: send a goodbye, then conn_close(). */
	void	(*timeout)(struct conn *, void *arg);
	/* The connection is gone and about to be freed: drop your state. */
	void	(*gone)(struct conn *, void *arg);
};

struct conn_server {
	struct event_base	*base;
	const char		*name;		/* role name, for logs */
	/* For the whole role, all its workers (conn_limit.h). */
	size_t			 max_conns;
	size_t			 max_per_ip;
	/*
	 * The role's shared counts, this process's slot in them; NULL
	 * before the first conn_listen(): a table of this process alone.
	 */
	struct conn_limit	*limit;
	/*
	 * Sessions are long (POP3, IMAP): leave a new connection to a
	 * worker that holds fewer, so that they spread evenly.  Short
	 * ones (SMTP) go to whichever worker is free to accept first.
	 */
	bool			 spread;
	/* Sent before closing a connection over a limit (CRLF included). */
	const char		*refuse_total;
	const char		*refuse_per_ip;
	/*
	 * A connection was accepted (and is within the limits): set it up
	 * with conn_setup() and send the greeting, unless the listener is
	 * implicit TLS, where the greeting waits for tls_up.
	 */
	void			(*accepted)(struct conn *, void *arg,
				    int kind);
	void			*arg;
	/* internal */
	struct conn		**slots;
	size_t			 nslots;
	struct conn_listener	**listeners;
	size_t			 nlisteners;
	struct event		*ev_yield;	/* left to siblings until */
	uint32_t		 yield_progress;	/* theirs, then */
};

/*
 * Serve a listening socket.  kind is the role's own label, given back to
 * accepted(); tls is the context its connections use (each kind of
 * listener may offer its own ciphers), NULL for none; implicit_tls wraps
 * each connection in TLS from the first byte; local (a UNIX socket)
 * skips the per-address limit.
 */
void	conn_listen(struct conn_server *, int fd, int kind,
	    struct tls_ctx *tls, bool implicit_tls, bool local);

/*
 * Count the connections of the listener conn_listen() added last as
 * those of conf->listens[listen_index] (metrics.h); one not named so
 * (the submit socket) is not counted per listener.
 */
void	conn_listen_metrics(struct conn_server *, unsigned listen_index);

/* Give the connection its protocol: ops, arg, timeout in seconds. */
void	conn_setup(struct conn *, const struct conn_ops *, void *arg,
	    unsigned timeout);

/* Peer's address as text ("192.0.2.1", "2001:db8::1", "local"). */
const char	*conn_ip(const struct conn *);
bool		 conn_is_loopback(const struct conn *);
/* The uid of a UNIX-socket peer, or (uid_t)-1. */
uid_t		 conn_peer_uid(const struct conn *);
/* 16 hex digits naming the connection in logs. */
const char	*conn_sid(const struct conn *);
bool		 conn_tls(const struct conn *);
/* The listener has a TLS context: STARTTLS/STLS may be offered. */
bool		 conn_tls_available(const struct conn *);
/* The arg given to conn_setup(). */
void		*conn_arg(const struct conn *);
/*
 * The channel binding data of type for SCRAM-PLUS (tls_channel_binding()):
 * its length, or -1 without TLS or when the type is not available.
 */
ssize_t		 conn_channel_binding(struct conn *, enum sasl_cb type,
		    unsigned char *out, size_t outsz);

/* Queue bytes to send. */
void	conn_write(struct conn *, const void *, size_t);
/*
 * Send small writes at once (TCP_NODELAY), for a protocol whose answers
 * leave in pieces (a POP3 message after its +OK line; libevent writes at
 * most 16 KB a time), so that Nagle's algorithm does not hold the last
 * piece until the peer's delayed ACK.  No-op on a UNIX socket.
 */
void	conn_set_nodelay(struct conn *);
/* Bytes of output not yet sent. */
size_t	conn_output_pending(const struct conn *);
/*
 * The same for any bufferevent, counting what waits below a TLS filter
 * (the mta's client connections use it too).
 */
struct bufferevent;
size_t	conn_bev_output_pending(struct bufferevent *);
/*
 * False while the connection is closing, switching to TLS, or holding
 * CONN_OUTPUT_HIWAT of replies: a client that sends and never reads must
 * not make us buffer without end.
 */
bool	conn_can_feed(const struct conn *);
/* Borrow up to max buffered input bytes (contiguous); NULL if none. */
const char	*conn_peek(struct conn *, size_t max, size_t *len_out);
void		 conn_consume(struct conn *, size_t);

/*
 * After the "ready to start TLS" reply was written: stop reading, drop
 * all buffered input, and once the reply is flushed start the handshake.
 */
void	conn_starttls(struct conn *);
void	conn_set_timeout(struct conn *, unsigned seconds);
/* Close once every reply left (bounded wait for a client not reading). */
void	conn_close(struct conn *);
bool	conn_closing(const struct conn *);

uint64_t	 conn_reqid(struct conn *);
struct conn	*conn_by_reqid(struct conn_server *, uint64_t reqid);
/* Call fn on every connection (a sibling went away, say). */
void		 conn_foreach(struct conn_server *,
		    void (*fn)(struct conn *, void *arg, void *ctx),
		    void *ctx);

#endif
