/*
 * smtp_client: the outbound SMTP client state machine (RFC 5321 with
 * STARTTLS, AUTH PLAIN, PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN and
 * ENHANCEDSTATUSCODES).  Pure: server bytes in, commands and results
 * out, no sockets, no clock, no globals.  The mta role wires one to each
 * connection; cmocka and libFuzzer drive it directly.
 *
 * Life of a connection.  The wiring connects, creates the client and
 * feeds what the server says with smtp_client_input().  The client reads
 * the greeting, says EHLO (HELO when EHLO is refused with 5xx), starts
 * TLS when the server offers it and params->tls allows it (ops->starttls:
 * the wiring does the handshake and calls smtp_client_tls_started(), and
 * the client says EHLO again), authenticates to a smarthost when asked,
 * then calls ops->ready.  The wiring answers with smtp_client_mail() (a
 * message) or smtp_client_quit().  After each message every recipient
 * gets exactly one ops->rcpt_done, then ops->done, then ops->ready again
 * (the connection is reused; RSET goes before each further message) or
 * ops->close when the session cannot go on.  Any failure before a message
 * (a 4xx/5xx greeting, EHLO and HELO refused, TLS required but not
 * offered, AUTH refused, 421, a protocol error) goes straight to
 * ops->close: the wiring tries the next host with the same messages.
 *
 * Results carry the server's whole reply.  Their class decides: 2xx
 * delivered, 4xx try later, 5xx bounce.  Decisions the client takes
 * itself (a message over the server's SIZE, one that needs SMTPUTF8 from
 * a server without it, a lost connection) are replies marked local, with
 * the code and enhanced status a server would have used.
 */
#ifndef CACHET_SMTP_CLIENT_H
#define CACHET_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SMTP_CLIENT_REPLY_LINE_MAX	512	/* incl. CRLF, §4.5.3.1.5 */
#define SMTP_CLIENT_REPLY_LINES_MAX	100	/* lines in one reply */
#define SMTP_CLIENT_RCPTS_MAX		1000	/* recipients per message */
#define SMTP_CLIENT_ADDR_MAX		254	/* no <>, §4.5.3.1.3 */
#define SMTP_CLIENT_ENH_MAX		16	/* "5.123.123" and NUL */

/* The one TLS decision for a destination, made by the mta's policy. */
enum smtp_client_tls {
	SMTP_CLIENT_TLS_NO,	/* never STARTTLS */
	SMTP_CLIENT_TLS_MAY,	/* STARTTLS when offered, else in clear */
	SMTP_CLIENT_TLS_MUST,	/* no TLS, no mail: 4.7.0 and close */
};

/* Service extensions seen in the last EHLO reply. */
enum smtp_client_ext {
	SMTP_CLIENT_EXT_STARTTLS = 1 << 0,	/* RFC 3207 */
	SMTP_CLIENT_EXT_PIPELINING = 1 << 1,	/* RFC 2920 */
	SMTP_CLIENT_EXT_SIZE = 1 << 2,		/* RFC 1870 */
	SMTP_CLIENT_EXT_8BITMIME = 1 << 3,	/* RFC 6152 */
	SMTP_CLIENT_EXT_SMTPUTF8 = 1 << 4,	/* RFC 6531 */
	SMTP_CLIENT_EXT_DSN = 1 << 5,		/* RFC 3461 */
	SMTP_CLIENT_EXT_CHUNKING = 1 << 6,	/* RFC 3030 */
	SMTP_CLIENT_EXT_BINARYMIME = 1 << 7,	/* RFC 3030 */
	SMTP_CLIENT_EXT_ENHANCED = 1 << 8,	/* RFC 2034 */
	SMTP_CLIENT_EXT_AUTH = 1 << 9,		/* RFC 4954 */
	SMTP_CLIENT_EXT_AUTH_PLAIN = 1 << 10,	/* AUTH lists PLAIN */
	SMTP_CLIENT_EXT_AUTH_LOGIN = 1 << 11,	/* AUTH lists LOGIN */
	SMTP_CLIENT_EXT_REQUIRETLS = 1 << 12,	/* RFC 8689 */
};

/* Which command a reply answered. */
enum smtp_client_stage {
	SMTP_CLIENT_STAGE_GREETING,
	SMTP_CLIENT_STAGE_EHLO,
	SMTP_CLIENT_STAGE_HELO,
	SMTP_CLIENT_STAGE_STARTTLS,
	SMTP_CLIENT_STAGE_TLS,		/* the handshake (wiring) */
	SMTP_CLIENT_STAGE_AUTH,
	SMTP_CLIENT_STAGE_READY,	/* idle between messages */
	SMTP_CLIENT_STAGE_RSET,
	SMTP_CLIENT_STAGE_MAIL,
	SMTP_CLIENT_STAGE_RCPT,
	SMTP_CLIENT_STAGE_DATA,		/* the DATA command */
	SMTP_CLIENT_STAGE_BODY,		/* sending the content */
	SMTP_CLIENT_STAGE_DOT,		/* the reply after "." */
	SMTP_CLIENT_STAGE_QUIT,
	SMTP_CLIENT_STAGE_CLOSED,
};

/* RFC 3461 §4.1 NOTIFY bits (the values of queue_fs.h). */
#define SMTP_CLIENT_NOTIFY_SUCCESS	0x1
#define SMTP_CLIENT_NOTIFY_FAILURE	0x2
#define SMTP_CLIENT_NOTIFY_DELAY	0x4
#define SMTP_CLIENT_NOTIFY_NEVER	0x8

enum smtp_client_body {
	SMTP_CLIENT_BODY_7BIT,
	SMTP_CLIENT_BODY_8BITMIME,
	SMTP_CLIENT_BODY_BINARYMIME,
};

enum smtp_client_ret {
	SMTP_CLIENT_RET_UNSET,
	SMTP_CLIENT_RET_FULL,
	SMTP_CLIENT_RET_HDRS,
};

struct smtp_client_reply {
	int			 code;		/* 200-599 */
	char			 enhanced[SMTP_CLIENT_ENH_MAX];	/* or "" */
	/*
	 * The reply's lines without CRLF, codes included, joined by "\n";
	 * control octets other than TAB are '?'.  NUL-terminated.  For a
	 * local reply: "451 4.4.2 connection lost" and the like.
	 */
	const char		*text;
	size_t			 len;
	enum smtp_client_stage	 stage;
	bool			 local;		/* decided here */
};

struct smtp_client_params {
	const char		*helo;		/* our name for EHLO/HELO */
	enum smtp_client_tls	 tls;
	bool			 tls_on;	/* TLS from the first octet */
	/*
	 * TLS is mandatory and its certificate checked (DANE, MTA-STS or
	 * a relay's "tls verify"): what REQUIRETLS needs (RFC 8689 §4.2.1).
	 */
	bool			 tls_verified;
	/* AUTH PLAIN (RFC 4616) to a smarthost: both, or NULL */
	const char		*auth_user;
	const char		*auth_pass;
	bool			 auth_plaintext;	/* AUTH without TLS */
};

struct smtp_client_rcpt {
	const char	*addr;		/* "bob@example.net", no brackets */
	unsigned	 notify;	/* SMTP_CLIENT_NOTIFY_* bits, 0 unset */
	const char	*orcpt;		/* "rfc822;bob@x" decoded, or NULL */
};

/* A message; every pointer stays valid until ops->done. */
struct smtp_client_msg {
	const char			*from;	/* "" for the null path */
	uint64_t			 size;	/* content octets, 0 unknown */
	enum smtp_client_body		 body;
	bool				 smtputf8;	/* needs RFC 6531 */
	/*
	 * RFC 8689: sent only over verified TLS (params' tls_verified) to
	 * a server that announces REQUIRETLS, and passed on in MAIL.
	 */
	bool				 requiretls;
	enum smtp_client_ret		 ret;
	const char			*envid;	/* decoded, or NULL */
	const struct smtp_client_rcpt	*rcpts;
	size_t				 nrcpts;	/* 1 .. RCPTS_MAX */
};

/*
 * Where the client reports.  arg is the wiring's.  Pointers passed are
 * valid only during the call.  Only ready may call back into the client
 * (smtp_client_mail() or smtp_client_quit()); no callback may free it.
 */
struct smtp_client_ops {
	/* Send these bytes (whole command lines, or message content). */
	void	(*send)(void *arg, const char *p, size_t len);
	/*
	 * The server said 220 to STARTTLS: start the handshake on the
	 * connection, then call smtp_client_tls_started(), or
	 * smtp_client_fail() when it fails.
	 */
	void	(*starttls)(void *arg);
	/* Idle: give a message with smtp_client_mail() or say QUIT. */
	void	(*ready)(void *arg);
	/*
	 * Message content into buf (at most len octets): the count, 0 at
	 * the end, -1 on error.  Lines end in CRLF (a bare LF or CR is sent
	 * as CRLF); the client adds the dot-stuffing and the final ".".
	 */
	ssize_t	(*read)(void *arg, char *buf, size_t len);
	/* The outcome for msg->rcpts[i]: exactly once per recipient. */
	void	(*rcpt_done)(void *arg, size_t i,
		    const struct smtp_client_reply *);
	/* Every recipient of the message has its outcome. */
	void	(*done)(void *arg);
	/*
	 * The session is over: why is the QUIT reply, or the failure that
	 * ended it.  Close the connection; feed nothing more.
	 */
	void	(*close)(void *arg, const struct smtp_client_reply *why);
};

struct smtp_client;

/* A client for a connection just made (or TLS up, when params->tls_on). */
struct smtp_client	*smtp_client_new(const struct smtp_client_params *,
			    const struct smtp_client_ops *, void *arg);
/* No callbacks; the password copy is wiped.  NULL is a no-op. */
void			 smtp_client_free(struct smtp_client *);

/*
 * Feed server bytes.  Returns how many were consumed; the rest (part of
 * a line) is for the caller to feed again with more after it.  A line
 * longer than SMTP_CLIENT_REPLY_LINE_MAX, one not ending in CRLF, a
 * reply of more than SMTP_CLIENT_REPLY_LINES_MAX lines, a malformed code
 * or a reply nobody asked for is a protocol error that ends the session
 * (ops->close).  Bytes after the 220 to STARTTLS are such an error too
 * (a man in the middle injecting replies before the handshake).  Once
 * closed, everything is consumed and ignored.
 */
size_t	smtp_client_input(struct smtp_client *, const char *p, size_t len);

/* The handshake is done: forget the extensions and say EHLO again. */
void	smtp_client_tls_started(struct smtp_client *);

/*
 * Start a transaction for msg (only when ready was called and nothing
 * else since).  Returns 0 when it started.  Returns -1 when it was
 * refused before anything was sent: over the server's SIZE (552 5.3.4),
 * needing SMTPUTF8 the server lacks (553 5.6.7), binary content (554
 * 5.6.3, BDAT is not spoken), or no valid recipient; ops->rcpt_done and
 * ops->done have been called, ready is not called again, and the client
 * takes another smtp_client_mail() or smtp_client_quit().
 */
int	smtp_client_mail(struct smtp_client *, const struct smtp_client_msg *);

/*
 * True while the message content is to be sent.  The wiring then calls
 * smtp_client_pump() whenever its output buffer is below its mark.
 */
bool	smtp_client_wants_body(const struct smtp_client *);

/*
 * Read up to about budget octets of content through ops->read, stuff the
 * dots (RFC 5321 §4.5.2), send; at the end send "." and wait for the
 * reply.  A read error ends the session (the only way to abort DATA).
 */
void	smtp_client_pump(struct smtp_client *, size_t budget);

/* Say QUIT (only when ready).  ops->close follows the reply. */
void	smtp_client_quit(struct smtp_client *);

/*
 * The connection failed (EOF, error, timeout, TLS handshake): every
 * recipient still open gets a local 4xx naming why, then ops->close.
 * After QUIT this is the normal end.  Nothing once closed.
 */
void	smtp_client_fail(struct smtp_client *, const char *why);

/*
 * Seconds to wait for the server in the current state (RFC 5321
 * §4.5.3.2: 5 minutes for the greeting, MAIL and RCPT, 2 for DATA, 3 per
 * block of content, 10 after "."); 0 when nothing is awaited (ready,
 * closed).
 */
unsigned	smtp_client_timeout(const struct smtp_client *);

enum smtp_client_stage	smtp_client_stage(const struct smtp_client *);
unsigned	smtp_client_extensions(const struct smtp_client *);
/* The server's SIZE, 0 when none or unlimited. */
uint64_t	smtp_client_size_limit(const struct smtp_client *);
bool		smtp_client_tls_on(const struct smtp_client *);
/* The first word of the greeting, printable; "" before it. */
const char	*smtp_client_server_name(const struct smtp_client *);
const char	*smtp_client_stage_name(enum smtp_client_stage);

/*
 * Parse one complete reply (lines ending in CRLF) held in p[0..len):
 * the strict rules of smtp_client_input().  For the fuzzer and for tests
 * of the reply grammar.  0 and *code_out, enh_out filled; or -1.
 */
int	smtp_client_parse_reply(const char *p, size_t len, int *code_out,
	    char enh_out[SMTP_CLIENT_ENH_MAX]);

#endif
