/*
 * smtp_session: the SMTP server state machine (RFC 5321 and the extensions
 * listed in DESIGN.md).  Pure: bytes in, replies and requests out, no
 * sockets, no globals, the clock only through params.  The smtp role
 * (smtp_server.c) wires it to a connection; cmocka and libFuzzer drive it
 * directly.
 *
 * Flow.  The server feeds received bytes with smtp_session_input(), which
 * consumes whole lines and stops early when the session waits for an
 * answer (a RCPT check, AUTH, the queue): the server keeps the rest and
 * feeds it again after delivering the answer with one of the *_result()
 * calls.  That keeps PIPELINING replies in order and puts backpressure on
 * the client.  Replies leave through ops->reply, whole lines with CRLF.
 */
#ifndef CACHET_SMTP_SESSION_H
#define CACHET_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "mailaddr.h"
#include "sasl.h"

#define SMTP_LINE_MAX		512	/* command line incl. CRLF, §4.5.3.1.4 */
#define SMTP_TEXT_LINE_MAX	1000	/* text line incl. CRLF, §4.5.3.1.6 */
#define SMTP_RECEIVED_MAX	100	/* more is a loop, §6.3 */
#define SMTP_AUTH_LINE_MAX	12288	/* base64 AUTH data, RFC 4954 §4 */
#define SMTP_ENVID_MAX		100	/* RFC 3461 §4.4 */
#define SMTP_ORCPT_MAX		500	/* RFC 3461 §4.2 */

enum smtp_kind {
	SMTP_KIND_MX,		/* port 25 */
	SMTP_KIND_SUBMISSION,	/* 587, STARTTLS then AUTH */
	SMTP_KIND_SUBMISSIONS,	/* 465, implicit TLS (RFC 8314) */
	SMTP_KIND_LOCAL,	/* cachet-sendmail over a UNIX socket */
};

struct smtp_params {
	const char	*hostname;	/* our name, in 220/250/Received */
	enum smtp_kind	 kind;
	const char	*client_ip;	/* "192.0.2.1", "2001:db8::1", "local" */
	const char	*client_name;	/* verified rDNS or NULL */
	bool		 tls_available;	/* STARTTLS may be offered */
	bool		 plaintext_auth;	/* AUTH allowed without TLS */
	const char	*local_user;	/* LOCAL: the submitting uid's name */
	size_t		 max_size;	/* message bytes, SIZE value; 0 none */
	size_t		 max_rcpts;	/* 0: 100, the §4.5.3.1.8 minimum */
	size_t		 max_errors;	/* 4xx/5xx replies before 421; 0 none */
	/* time(NULL) for the Received: date; a parameter so tests fix it */
	int64_t		 now;
};

enum smtp_notify {
	SMTP_NOTIFY_SUCCESS = 1 << 0,
	SMTP_NOTIFY_FAILURE = 1 << 1,
	SMTP_NOTIFY_DELAY = 1 << 2,
	SMTP_NOTIFY_NEVER = 1 << 3,
};

enum smtp_body { SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };
enum smtp_ret { SMTP_RET_UNSET, SMTP_RET_FULL, SMTP_RET_HDRS };

struct smtp_rcpt {
	struct mailaddr	 addr;
	unsigned	 notify;	/* enum smtp_notify bits, 0 = unset */
	char		*orcpt;		/* "rfc822;x@y" xtext-decoded, or NULL */
};

struct smtp_envelope {
	struct mailaddr	 from;
	size_t		 size;		/* SIZE= declared, 0 if none */
	enum smtp_body	 body;
	bool		 smtputf8;
	bool		 requiretls;	/* RFC 8689 */
	enum smtp_ret	 ret;
	char		*envid;		/* xtext-decoded, or NULL */
	char		*auth;		/* MAIL AUTH= value, or NULL */
	struct smtp_rcpt *rcpts;
	size_t		 nrcpts;
};

struct smtp_msgauth_info;	/* smtp_msgauth.h */

/*
 * Where a session reports its requests.  arg is the server's.  An answer
 * may be given later or from inside the callback itself.  Pointers passed
 * stay valid until the answer (env, rcpt) or only during the call (the
 * AUTH user and password: copy them, and wipe the password copy).  No
 * callback may free the session.
 */
struct smtp_session_ops {
	/* Send these bytes (whole reply lines ending in CRLF). */
	void	(*reply)(void *arg, const char *p, size_t len);
	/*
	 * After "220 Ready to start TLS" went into reply: flush it, discard
	 * every byte of input still buffered (CVE-2011-0411), start the
	 * handshake, then call smtp_session_tls_started() or close.
	 */
	void	(*starttls)(void *arg);
	/* Check a login.  Answer with smtp_session_auth_result(). */
	void	(*auth)(void *arg, const char *user, const char *pass);
	/*
	 * SCRAM-SHA-256 (sasl.h).  scram_salt: the salt and iteration
	 * count of user, from the key holder; answer with
	 * smtp_session_scram_challenge().  scram_proof: check the
	 * ClientProof (SASL_SCRAM_HASH_LEN octets) over the AuthMessage;
	 * answer with smtp_session_scram_result().
	 */
	void	(*scram_salt)(void *arg, const char *user);
	void	(*scram_proof)(void *arg, const char *user,
		    struct span auth_message, const unsigned char *proof);
	/*
	 * The channel binding data of type on this connection into out:
	 * its length, or -1 when not available.  Answered at once.  NULL:
	 * no channel binding, and no SCRAM-SHA-256-PLUS.
	 */
	ssize_t	(*cbind)(void *arg, enum sasl_cb type,
		    unsigned char *out, size_t outsz);
	/*
	 * The client named itself with HELO or EHLO (name printable, valid
	 * during the call).  A notice, answered by nothing; NULL: none.
	 */
	void	(*helo)(void *arg, const char *name);
	/* Check MAIL FROM.  Answer with smtp_session_mail_result(). */
	void	(*mail)(void *arg, const struct smtp_envelope *env);
	/* Check a RCPT.  Answer with smtp_session_rcpt_result(). */
	void	(*rcpt)(void *arg, const struct smtp_envelope *env,
		    const struct smtp_rcpt *rcpt);
	/*
	 * Open a spool file for the message.  Answer with
	 * smtp_session_data_open_result(), which gives the queue id.
	 */
	void	(*data_open)(void *arg);
	/* Message bytes, already dot-unstuffed, lines ending in CRLF. */
	void	(*data_write)(void *arg, const char *p, size_t len);
	/*
	 * All bytes written and accepted by the session's checks: make the
	 * message durable.  Answer with smtp_session_commit_result().
	 */
	void	(*data_commit)(void *arg, const struct smtp_envelope *env);
	/*
	 * Sender authentication (lookup/msgauth.h), after the content
	 * passed the session's checks and before the commit: info holds
	 * the client's header section (Authentication-Results claiming
	 * our hostname removed, as from the spool) and the body hashes,
	 * valid until the answer.  Answer with
	 * smtp_session_msgauth_result().  NULL: commit at once.
	 */
	void	(*msgauth)(void *arg, const struct smtp_envelope *env,
		    const struct smtp_msgauth_info *info);
	/* The message in progress is dropped (error, RSET, close). */
	void	(*data_abort)(void *arg);
	/* Close the connection after flushing replies (QUIT, 421). */
	void	(*close)(void *arg);
};

struct smtp_session;

struct smtp_session	*smtp_session_new(const struct smtp_params *,
			    const struct smtp_session_ops *, void *arg);
/* Send the 220 greeting (after implicit TLS, once it is up). */
void			 smtp_session_start(struct smtp_session *);
/*
 * The greeting delay (smtp-greet-delay): send only "220-" (the first
 * line of a greeting that goes on); smtp_session_start() ends it after
 * the pause.  A client that sends anything before that (it does not
 * wait for the greeting's last line) is refused with 554 5.7.1 and the
 * session closes.
 */
void			 smtp_session_start_paused(struct smtp_session *);
/* True once the session was refused for talking before the greeting. */
bool			 smtp_session_pregreeted(const struct smtp_session *);
/* Calls ops->data_abort first if a spool file is still open. */
void			 smtp_session_free(struct smtp_session *);

/*
 * Feed bytes.  Returns how many were consumed; fewer than len when the
 * session waits for an answer or holds only part of a line (a partial
 * line is left for the caller to feed again with more bytes after it).
 * A line longer than its limit is consumed and answered with an error;
 * the longest line that may be held back is SMTP_AUTH_LINE_MAX.  Once
 * closing, input is ignored and reported as consumed.
 */
size_t	smtp_session_input(struct smtp_session *, const char *p, size_t len);

/* True while the session waits for a *_result() call. */
bool	smtp_session_waiting(const struct smtp_session *);
/*
 * True while message content is being received (DATA or inside a BDAT
 * chunk): the server applies the data timeout then (RFC 5321 §4.5.3.2.5).
 */
bool	smtp_session_in_data(const struct smtp_session *);
/* True once the session asked to close; feed no more input. */
bool	smtp_session_closing(const struct smtp_session *);

/* TLS is up (after STARTTLS or implicit): version and cipher names. */
void	smtp_session_tls_started(struct smtp_session *, const char *version,
	    const char *cipher);

enum smtp_auth_result { SMTP_AUTH_OK, SMTP_AUTH_FAIL, SMTP_AUTH_TEMPFAIL };
void	smtp_session_auth_result(struct smtp_session *, enum smtp_auth_result);
/*
 * SCRAM answers.  challenge: OK with ch (salt and iteration count within
 * sasl.h's bounds, and our nonce part), or TEMPFAIL (ch is NULL).
 * result: OK with the ServerSignature, FAIL or TEMPFAIL (sig NULL).
 */
void	smtp_session_scram_challenge(struct smtp_session *,
	    enum smtp_auth_result, const struct sasl_scram_challenge *ch);
void	smtp_session_scram_result(struct smtp_session *,
	    enum smtp_auth_result, const unsigned char *sig);

/*
 * Answers carry the reply to send on refusal: code 250 accepts; any other
 * code refuses with that code, enhanced status ("5.1.1") and text.
 * After closing (timeout, 421) an answer is ignored; an answer the
 * session is not waiting for is a bug (fatalx), as is a refusal outside
 * 400-599.
 */
void	smtp_session_mail_result(struct smtp_session *, int code,
	    const char *enhanced, const char *text);
void	smtp_session_rcpt_result(struct smtp_session *, int code,
	    const char *enhanced, const char *text);

/* ok: the spool file is open and id names it; else 451 4.3.0. */
void	smtp_session_data_open_result(struct smtp_session *, bool ok,
	    const char *id);
/*
 * code 250: durable, reply "250 2.0.0 Ok: queued as <id>"; otherwise the
 * refusal to send (452 4.3.1 for a full disk, 451 4.3.0 otherwise).
 */
void	smtp_session_commit_result(struct smtp_session *, int code,
	    const char *enhanced, const char *text);

/*
 * The verdict of sender authentication: 250 commits the message (then
 * data_commit and its result); any other code refuses it with that code,
 * enhanced status and text, and the spool file is aborted.
 */
void	smtp_session_msgauth_result(struct smtp_session *, int code,
	    const char *enhanced, const char *text);

/* Idle timeout reached: 421 4.4.2 and close. */
void	smtp_session_timeout(struct smtp_session *);

/* The HELO/EHLO name the client gave (printable), "" before it. */
const char	*smtp_session_helo(const struct smtp_session *);

/*
 * Pipelining abuse (RFC 2920 §3.1): the verb ("EHLO", "DATA", "MAIL" of a
 * client never offered PIPELINING ...) after which the client first sent
 * more commands without waiting for the reply, or NULL.  Seen when the
 * next command is already in the input the session is fed with the one
 * before it; the session answers it in order as usual.
 */
const char	*smtp_session_pipelining_abuse(const struct smtp_session *);

/* The authenticated user, or NULL. */
const char	*smtp_session_auth_user(const struct smtp_session *);

#endif
