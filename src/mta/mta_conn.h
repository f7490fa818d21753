/*
 * mta_conn: one outbound SMTP connection of the mta role.  It connects
 * to the addresses of a route in order (a refused or timed-out connection,
 * a 4xx or 5xx greeting, a refused EHLO, a failed TLS handshake or AUTH:
 * the next address), drives an smtp_client over a bufferevent (STARTTLS
 * through bufferevent_openssl, the certificate checked and the result
 * kept), streams message content from a descriptor, arms the RFC 5321
 * §4.5.3.2 timeouts the client asks for, and reports through its ops.
 * One connection carries one message at a time and may carry several in
 * turn (mta.c keeps it idle between them).
 *
 * Trust: what the server sends goes to smtp_client, which parses it with
 * bounded lines; this file only moves bytes.  The message descriptor is
 * the queue's, read-only.
 */
#ifndef CACHET_MTA_CONN_H
#define CACHET_MTA_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns.h"
#include "mta.h"
#include "smtp_client.h"

#define MTA_CONN_ADDRS_MAX	32	/* MX_ADDRS_MAX */
#define MTA_CONN_WHY_MAX	1024	/* the reason a connection failed */
#define MTA_CONN_CONNECT_TIMEOUT 30	/* seconds (no RFC value) */
#define MTA_CONN_IP_MAX		46	/* INET6_ADDRSTRLEN */

/* One address of a route. */
struct mta_conn_addr {
	char			 host[DNS_NAME_MAX + 1];	/* SNI, logs */
	char			 ip[MTA_CONN_IP_MAX];
	uint16_t		 port;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	/* mta_tls_policy() for its host */
	enum smtp_client_tls	 tls;		/* MAY or MUST */
	bool			 verify;	/* PKIX chain and name */
	bool			 skip;		/* do not connect: why */
	int			 dane;		/* index in params' dane, or -1 */
	/* the policy that asks for TLS (mta_tls_policy's label), or "" */
	char			 label[MTA_POLICY_LABEL_MAX];
	char			 why[MTA_POLICY_WHY_MAX];	/* skip */
};

/*
 * What a connection must do, decided by mta_tls_policy() and the route:
 * the TLS of each address is in the address, the TLSA records it is
 * checked against (RFC 7672) in dane[addr.dane].
 */
struct mta_conn_params {
	const char		*helo;		/* our host name */
	const char		*auth_user;	/* AUTH PLAIN, or NULL */
	const char		*auth_pass;
	const struct mta_dane	*dane;		/* per MX host; copied */
	size_t			 ndane;
};

struct mta_conn;
struct event_base;
struct tls_ctx;

/*
 * What became of TLS on one session attempt, for TLS-RPT (RFC 8460 §4.3):
 * the mta maps it to a result type under the address's policy.
 */
enum mta_conn_tls_event {
	MTA_CONN_TLS_VERIFIED,		/* up, checked (PKIX or TLSA) */
	MTA_CONN_TLS_UNVERIFIED,	/* up, the check failed: why */
	MTA_CONN_TLS_FAILED,		/* the handshake failed: why */
	MTA_CONN_TLS_NOT_OFFERED,	/* no STARTTLS in EHLO */
	MTA_CONN_TLS_SKIPPED,		/* the policy skipped the host: why */
};

/* Pointers passed are valid only during the call. */
struct mta_conn_ops {
	/*
	 * The session is ready for a message (after the greeting, TLS and
	 * AUTH, and again after each message): call mta_conn_send() or
	 * mta_conn_quit(), now or later.
	 */
	void	(*ready)(struct mta_conn *, void *arg);
	/* The outcome for recipient i of the message being sent. */
	void	(*rcpt_done)(struct mta_conn *, void *arg, size_t i,
		    const struct smtp_client_reply *);
	/* Every recipient of the message has its outcome. */
	void	(*done)(struct mta_conn *, void *arg);
	/*
	 * The connection is over, and is freed when this returns.  reached
	 * is true when some address became ready at least once; why is the
	 * last failure ("mx[192.0.2.1]:25: connect: Connection refused",
	 * a server's reply, ...), "" after a clean QUIT; enh its RFC 3463
	 * code ("4.4.1" when the server said none).
	 */
	void	(*gone)(struct mta_conn *, void *arg, bool reached,
		    const char *why, const char *enh);
	/*
	 * Optional: the TLS outcome of a session attempt on address a,
	 * once per attempt that tried or wanted TLS (not for the clear
	 * retry of RFC 7435); local_ip is our end ("" when unconnected).
	 */
	void	(*tls_result)(struct mta_conn *, void *arg,
		    const struct mta_conn_addr *a, enum mta_conn_tls_event,
		    const char *why, const char *local_ip);
};

/*
 * Start connecting to addrs[0] (then the next ones on failure).  The
 * params' strings and the addresses are copied.  Never NULL; failures
 * come through gone, never from inside this call.
 */
struct mta_conn	*mta_conn_new(struct event_base *, struct tls_ctx *,
		    const struct mta_conn_params *,
		    const struct mta_conn_addr *addrs, size_t naddrs,
		    const struct mta_conn_ops *, void *arg);

/*
 * Send msg (only from ready, or while idle), its content prepend (header
 * fields for the top, msgauth.h; NULL none) then what is read
 * from fd (msglen octets from offset 0, CRLF line ends).  msg, prepend
 * and fd must stay valid until done.  0 when the transaction started; -1 when the client
 * refused it before sending anything (rcpt_done and done were called):
 * give another message, idle or quit.
 */
int	mta_conn_send(struct mta_conn *, const struct smtp_client_msg *msg,
	    const char *prepend, int fd, uint64_t msglen);

/* Say QUIT (when ready), or drop the connection (otherwise). */
void	mta_conn_quit(struct mta_conn *);

/* The address in use: host name, IP, port. */
const struct mta_conn_addr *mta_conn_peer(const struct mta_conn *);
/*
 * TLS: false when none; version, cipher, verified (by PKIX or, with
 * *dane true, by the host's TLSA records).
 */
bool	mta_conn_tls(const struct mta_conn *, const char **version,
	    const char **cipher, bool *verified, bool *dane);
/* The server's EHLO extensions (SMTP_CLIENT_EXT_*). */
unsigned	mta_conn_extensions(const struct mta_conn *);
/* Messages sent on this connection so far. */
size_t	mta_conn_messages(const struct mta_conn *);

/*
 * Fill a from host, ip ("192.0.2.1", "2001:db8::1") and port, with
 * opportunistic TLS and no DANE; 0 or -1.
 */
int	mta_conn_addr_make(struct mta_conn_addr *a, const char *host,
	    const char *ip, uint16_t port);

#endif
