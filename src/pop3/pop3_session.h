/*
 * pop3_session: the POP3 server state machine (RFC 1939 with CAPA and
 * response codes of RFC 2449 and RFC 3206, STLS of RFC 2595 and AUTH
 * PLAIN and SCRAM-SHA-256(-PLUS) of RFC 5034, RFC 4616, RFC 5802 and
 * RFC 7677).  Pure: bytes in, replies and requests
 * out, no sockets, no files, no clock, no globals.  The pop3 role
 * (pop3.c) wires it to a connection and a Maildir; cmocka and libFuzzer
 * drive it directly.
 *
 * Flow.  The server feeds received bytes with pop3_session_input(), which
 * consumes whole lines and stops early when the session waits for an
 * answer (a login check, a message being sent): the server keeps the
 * rest and feeds it again after the answer.  That keeps PIPELINING
 * (RFC 2449 §6.6) replies in order and puts backpressure on the client.
 * Replies leave through ops->reply, whole lines with CRLF.
 *
 * The maildrop is the server's: after a login succeeds the server opens
 * and locks it and hands the session one size and one unique id per
 * message; the session keeps the deletion marks and tells the server at
 * QUIT (the UPDATE state, RFC 1939 §6) which messages to remove.  Message
 * content never passes through the session: for RETR and TOP the server
 * sends it, converted with the pop3_session_stuff_*() helpers below.
 */
#ifndef CACHET_POP3_SESSION_H
#define CACHET_POP3_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sasl.h"

#define POP3_LINE_MAX		255	/* a command with CRLF, RFC 2449 §4 */
/* PASS takes a whole password (cachet allows 511 octets, users.h). */
#define POP3_PASS_LINE_MAX	(511 + 7)
/*
 * AUTH with an initial response and the SASL response lines (RFC 5034
 * §4: they are not held to the 255 octets of commands): base64 of the
 * longest SCRAM message (SASL_SCRAM_MSG_MAX) after "AUTH mechanism ",
 * which is room for a PLAIN message of three 255-octet fields too.
 */
#define POP3_AUTH_LINE_MAX	3072
#define POP3_REPLY_MAX		512	/* response line incl. CRLF, §4 */
#define POP3_UIDL_MAX		70	/* unique-id, RFC 1939 §7 */
#define POP3_USER_MAX		255	/* a login name */
#define POP3_TIMESTAMP_MAX	255	/* the APOP banner timestamp */
#define POP3_IDLE_TIMEOUT	600	/* autologout >= 10 min, RFC 1939 §3 */

struct pop3_params {
	const char	*hostname;	/* our name, in the greeting */
	/*
	 * The APOP timestamp of the greeting, "<pid.counter.time@host>",
	 * unique per greeting (RFC 1939 §7); NULL: APOP is not offered.
	 */
	const char	*timestamp;
	bool		 tls_available;	/* STLS may be offered */
	bool		 plaintext_auth;	/* USER/PASS, AUTH before TLS */
	size_t		 max_errors;	/* -ERR replies, then close; 0 none */
	/* RFC 2449 §6.7 EXPIRE value; NULL: "NEVER" (we delete nothing) */
	const char	*expire;
	/* RFC 2449 §6.5 LOGIN-DELAY seconds; 0: not announced */
	unsigned	 login_delay;
};

/* One message of the maildrop as the server lists it at login. */
struct pop3_msg {
	uint64_t	 size;	/* octets with CRLF line ends, RFC 1939 §5 */
	const char	*uidl;	/* 1-70 octets of 0x21-0x7e, stable */
};

enum pop3_auth_result {
	POP3_AUTH_OK,		/* logged in, maildrop open and locked */
	POP3_AUTH_FAIL,		/* wrong name or secret: -ERR [AUTH] */
	POP3_AUTH_TEMPFAIL,	/* try later: -ERR [SYS/TEMP] */
	POP3_AUTH_IN_USE,	/* another session holds the lock: [IN-USE] */
	POP3_AUTH_SYS_PERM,	/* no maildrop POP3 can serve: [SYS/PERM] */
};

/*
 * Where a session reports its requests; arg is the server's.  Strings
 * passed are valid only during the call (copy them; wipe a copied
 * password).  An answer may come later or from inside the callback.  No
 * callback may free the session.
 */
struct pop3_session_ops {
	/* Send these bytes (whole response lines ending in CRLF). */
	void	(*reply)(void *arg, const char *p, size_t len);
	/*
	 * After "+OK Begin TLS negotiation" went into reply: flush it,
	 * discard every byte of input still buffered (RFC 2595 §4, as
	 * CVE-2011-0411 for SMTP), start the handshake, then call
	 * pop3_session_tls_started() or close.
	 */
	void	(*stls)(void *arg);
	/*
	 * Check user and password (USER/PASS or AUTH PLAIN), and when
	 * they are right open and lock the user's maildrop.  Answer with
	 * pop3_session_auth_result().
	 */
	void	(*auth)(void *arg, const char *user, const char *pass);
	/* The same for APOP: digest is 32 lower-case hex digits. */
	void	(*apop)(void *arg, const char *user, const char *digest);
	/*
	 * SCRAM-SHA-256 (sasl.h).  scram_salt: user's salt and iteration
	 * count from the key holder; answer with
	 * pop3_session_scram_challenge().  scram_proof: check the
	 * ClientProof over the AuthMessage; answer with
	 * pop3_session_scram_result().  scram_done: the client accepted
	 * our ServerSignature: open and lock the maildrop of the user
	 * scram_proof was answered OK for, as for ops->auth; answer with
	 * pop3_session_auth_result().
	 */
	void	(*scram_salt)(void *arg, const char *user);
	void	(*scram_proof)(void *arg, const char *user,
		    struct span auth_message, const unsigned char *proof);
	void	(*scram_done)(void *arg);
	/*
	 * The channel binding data of type on this connection into out:
	 * its length, or -1 when not available.  Answered at once.  NULL:
	 * no channel binding, and no SCRAM-SHA-256-PLUS.
	 */
	ssize_t	(*cbind)(void *arg, enum sasl_cb type,
		    unsigned char *out, size_t outsz);
	/*
	 * Open message idx (0-based, as given at login) to send it: whole
	 * (top < 0, RETR) or its header and top body lines (TOP).  Return
	 * -1 when it cannot be read (the session answers -ERR).  On 0 the
	 * session queues its "+OK" reply and waits; after the call returns
	 * the server sends the content (pop3_session_stuff_*() make it),
	 * then calls pop3_session_send_done().
	 */
	int	(*retr)(void *arg, size_t idx, int64_t top);
	/*
	 * QUIT in the TRANSACTION state (RFC 1939 §6, UPDATE): remove every
	 * message pop3_session_deleted() reports.  Return -1 when some
	 * could not be removed.  The session then says goodbye and closes.
	 */
	int	(*update)(void *arg);
	/* Close the connection after flushing replies. */
	void	(*close)(void *arg);
};

struct pop3_session;

struct pop3_session	*pop3_session_new(const struct pop3_params *,
			    const struct pop3_session_ops *, void *arg);
/* Send the greeting (after implicit TLS, once it is up). */
void			 pop3_session_start(struct pop3_session *);
/* NULL is a no-op.  Deletion marks are forgotten: nothing is removed. */
void			 pop3_session_free(struct pop3_session *);

/*
 * Feed bytes.  Returns how many were consumed; fewer than len when the
 * session waits for an answer or holds only part of a line (feed it
 * again with more bytes after it).  A line longer than its limit is
 * consumed and answered with -ERR; the longest line that may be held
 * back is POP3_AUTH_LINE_MAX.  Once closing, input is ignored and
 * reported as consumed.
 */
size_t	pop3_session_input(struct pop3_session *, const char *p, size_t len);

/* True while the session waits for an answer or a send to finish. */
bool	pop3_session_waiting(const struct pop3_session *);
/* True once the session asked to close; feed no more input. */
bool	pop3_session_closing(const struct pop3_session *);

/* TLS is up (after STLS, or before the greeting for implicit TLS). */
void	pop3_session_tls_started(struct pop3_session *);

/*
 * The answer to ops->auth or ops->apop.  With POP3_AUTH_OK, msgs holds
 * the maildrop's nmsgs messages, copied (each uidl unique in the drop;
 * one that is not 1-70 octets of 0x21-0x7e is a bug: fatalx).  After
 * closing an answer is ignored; one the session is not waiting for is a
 * bug.
 */
void	pop3_session_auth_result(struct pop3_session *, enum pop3_auth_result,
	    const struct pop3_msg *msgs, size_t nmsgs);

/*
 * SCRAM answers.  challenge: POP3_AUTH_OK with ch (within sasl.h's
 * bounds, our nonce part included) or POP3_AUTH_TEMPFAIL (ch NULL).
 * result: POP3_AUTH_OK with the ServerSignature, or POP3_AUTH_FAIL or
 * POP3_AUTH_TEMPFAIL (sig NULL).
 */
void	pop3_session_scram_challenge(struct pop3_session *,
	    enum pop3_auth_result, const struct sasl_scram_challenge *ch);
void	pop3_session_scram_result(struct pop3_session *,
	    enum pop3_auth_result, const unsigned char *sig);

/* The content of a RETR or TOP was sent, with its final ".". */
void	pop3_session_send_done(struct pop3_session *);

/*
 * Idle too long (RFC 1939 §3): close without a reply and without
 * entering the UPDATE state, so nothing is removed.
 */
void	pop3_session_timeout(struct pop3_session *);

/* The logged-in user (as given by the client), or NULL. */
const char	*pop3_session_user(const struct pop3_session *);
/* Number of messages given at login; whether message idx is marked. */
size_t		 pop3_session_count(const struct pop3_session *);
bool		 pop3_session_deleted(const struct pop3_session *, size_t idx);

/*
 * Message content on the wire (RFC 1939 §3): Maildir files hold LF line
 * ends; POP3 sends CRLF, doubles a "." that starts a line, and ends with
 * ".".  A CRLF already in the file stays one CRLF (and counts so in the
 * octets of size_crlf).  For TOP, the header, the empty line and then
 * top body lines are sent (RFC 1939 §7).
 */
struct pop3_session_stuffer {
	int64_t		 top;		/* body lines left; < 0: all */
	bool		 in_header;
	bool		 bol;		/* at the start of a line */
	bool		 prev_cr;	/* the last byte copied was a CR */
	bool		 done;		/* TOP: nothing more to send */
	uint64_t	 linelen;	/* bytes of the line so far */
};

void	pop3_session_stuff_init(struct pop3_session_stuffer *, int64_t top);
/*
 * Convert len bytes of the file into out, which must hold 2 * len bytes.
 * Returns the bytes written.  Once st->done (TOP has all its lines) the
 * rest of the input is skipped.
 */
size_t	pop3_session_stuff(struct pop3_session_stuffer *, const char *in,
	    size_t len, char *out);
/*
 * The end: a CRLF when the file did not end with a line end, then
 * ".\r\n".  out must hold 5 bytes; returns the bytes written.
 */
size_t	pop3_session_stuff_end(struct pop3_session_stuffer *, char *out);

#endif
