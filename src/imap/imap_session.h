/*
 * imap_session: the IMAP server state machine (RFC 3501, RFC 9051) for
 * the states NOT AUTHENTICATED, AUTHENTICATED, SELECTED and LOGOUT
 * (RFC 9051 §3): the greeting, CAPABILITY, NOOP, LOGOUT, STARTTLS (RFC
 * 9051 §6.2.1), LOGIN, AUTHENTICATE PLAIN and SCRAM-SHA-256(-PLUS) with
 * SASL-IR (RFC 4959), ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC
 * 2342) and IDLE's continuation and DONE (RFC 2177).  Pure: bytes in,
 * responses and requests out, no sockets, no files, no clock, no
 * globals.  The imap role (imap.c) wires it to a connection and does the
 * mailbox commands; cmocka and libFuzzer drive it directly.
 *
 * Flow.  The server feeds received bytes with imap_session_input(),
 * which takes whole commands (imap_parse.h's reader: literals get their
 * "+ " here) and stops early while the session waits for an answer (a
 * login check, a mailbox command the server is doing): the server keeps
 * the rest and feeds it again after the answer.  Responses leave through
 * ops->reply as whole lines (and literals).
 *
 * Mailbox commands (SELECT ... MOVE, NOOP and CHECK once logged in) go to
 * ops->command with the parsed command; the server answers with untagged
 * responses through imap_session_send()/imap_session_untagged() and ends
 * with imap_session_done(), which sends the tagged completion.  Strings
 * from the mailbox go on the wire through imap_session_buf_string(), the
 * one place that quotes or literalises.
 */
#ifndef CACHET_IMAP_SESSION_H
#define CACHET_IMAP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "imap_parse.h"
#include "sasl.h"

#define IMAP_SESSION_BAD_MAX	20	/* BADs in a row, then BYE (Dovecot) */
/* RFC 9051 §5.4: at least 30 minutes logged in; less before. */
#define IMAP_SESSION_IDLE_TIMEOUT	(30 * 60)
#define IMAP_SESSION_LOGIN_TIMEOUT	60
#define IMAP_SESSION_REPLY_MAX	1024	/* a line the session makes */
#define IMAP_CAPS_MAX		1024	/* the CAPABILITY list */

struct imap_params {
	const char	*hostname;	/* our name, in the greeting */
	bool		 tls_available;	/* STARTTLS may be offered */
	bool		 plaintext_auth;	/* LOGIN, AUTHENTICATE before TLS */
	uint64_t	 appendlimit;	/* RFC 7889 APPENDLIMIT */
	size_t		 max_bad;	/* BADs in a row; 0: the default */
};

enum imap_auth_result {
	IMAP_AUTH_OK,		/* logged in, mailbox ready */
	IMAP_AUTH_FAIL,		/* NO [AUTHENTICATIONFAILED] */
	IMAP_AUTH_TEMPFAIL,	/* NO [UNAVAILABLE] */
};

enum imap_status {
	IMAP_OK,
	IMAP_NO,
	IMAP_BAD,
};

struct imap_session_ops {
	/* Send these bytes (whole lines ending in CRLF, or literals). */
	void	(*reply)(void *arg, const char *p, size_t len);
	/*
	 * After "OK Begin TLS negotiation now" went into reply: flush it,
	 * discard every byte of input still buffered (RFC 9051 §11.1, as
	 * CVE-2011-0411), start the handshake, then call
	 * imap_session_tls_started() or close.
	 */
	void	(*starttls)(void *arg);
	/*
	 * Check user and password (LOGIN, AUTHENTICATE PLAIN); when right,
	 * open the user's mailboxes.  Answer with imap_session_auth_result().
	 */
	void	(*auth)(void *arg, const char *user, const char *pass);
	/* SCRAM-SHA-256 (as pop3_session.h): salt, proof, then done. */
	void	(*scram_salt)(void *arg, const char *user);
	void	(*scram_proof)(void *arg, const char *user,
		    struct span auth_message, const unsigned char *proof);
	void	(*scram_done)(void *arg);
	ssize_t	(*cbind)(void *arg, enum sasl_cb type, unsigned char *out,
		    size_t outsz);
	/*
	 * A command of the AUTHENTICATED or SELECTED state.  The server
	 * sends its untagged responses and ends with imap_session_done(),
	 * now or later; cmd stays valid until then.
	 */
	void	(*command)(void *arg, const struct imap_cmd *cmd);
	/* IDLE began (on) or ended (off): report changes while on. */
	void	(*idle)(void *arg, bool on);
	/* Close the connection after flushing responses. */
	void	(*close)(void *arg);
};

struct imap_session;

struct imap_session	*imap_session_new(const struct imap_params *,
			    const struct imap_session_ops *, void *arg);
/* Send the greeting (after implicit TLS, once it is up). */
void			 imap_session_start(struct imap_session *);
void			 imap_session_free(struct imap_session *);

/*
 * Feed bytes; returns how many were taken (fewer while waiting; feed
 * the rest again later).  Once closing, input is ignored and reported
 * as taken.
 */
size_t	imap_session_input(struct imap_session *, const char *p, size_t len);
bool	imap_session_waiting(const struct imap_session *);
bool	imap_session_closing(const struct imap_session *);
/* In IDLE (the server may push untagged responses at once). */
bool	imap_session_idling(const struct imap_session *);
/* Logged in (AUTHENTICATED or SELECTED). */
bool	imap_session_authenticated(const struct imap_session *);

void	imap_session_tls_started(struct imap_session *);
void	imap_session_auth_result(struct imap_session *, enum imap_auth_result);
void	imap_session_scram_challenge(struct imap_session *,
	    enum imap_auth_result, const struct sasl_scram_challenge *);
void	imap_session_scram_result(struct imap_session *, enum imap_auth_result,
	    const unsigned char *sig);

/* The server's part of a command (after ops->command). */
void	imap_session_send(struct imap_session *, const char *p, size_t len);
void	imap_session_untagged(struct imap_session *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * The tagged completion of the command ops->command gave: "tag OK|NO|BAD
 * text" (text: ours, with any response code).  Ends the wait.
 */
void	imap_session_done(struct imap_session *, enum imap_status,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The server selected a mailbox (or none): commands allowed follow. */
void	imap_session_set_selected(struct imap_session *, bool selected);
bool	imap_session_selected(const struct imap_session *);

/* Autologout: "* BYE" and close (RFC 9051 §5.4). */
void	imap_session_timeout(struct imap_session *);
/* The server is going away: "* BYE" and close. */
void	imap_session_bye(struct imap_session *, const char *text);

/*
 * Extensions a client turns on with ENABLE (RFC 5161), one bit each.
 * ENABLE accepts a name only when its bit is in IMAP_EXT_SUPPORTED
 * (each extension adds its bit once it is wired); QRESYNC turns on
 * CONDSTORE too (RFC 7162 §3.2.3), and the first CONDSTORE-using command
 * turns CONDSTORE on (§3.1) through imap_session_enable().
 */
#define IMAP_EXT_CONDSTORE	0x01u	/* RFC 7162 */
#define IMAP_EXT_QRESYNC	0x02u	/* RFC 7162 */
#define IMAP_EXT_REV2		0x04u	/* RFC 9051 */
#define IMAP_EXT_UTF8		0x08u	/* UTF8=ACCEPT, RFC 6855 */
#define IMAP_EXT_SUPPORTED	(IMAP_EXT_CONDSTORE | IMAP_EXT_QRESYNC | \
				 IMAP_EXT_REV2 | IMAP_EXT_UTF8)

/* The extensions enabled in this session. */
unsigned	imap_session_enabled(const struct imap_session *);
/* Turn these on (the server's implicit enables); no response. */
void		imap_session_enable(struct imap_session *, unsigned bits);

/* The APPENDLIMIT in force (RFC 7889), for STATUS APPENDLIMIT. */
uint64_t	imap_session_appendlimit(const struct imap_session *);

/* The logged-in user, or NULL. */
const char	*imap_session_user(const struct imap_session *);

/*
 * Append s as an IMAP string: quoted when it is short and holds only
 * printable 7-bit text, a literal otherwise (RFC 9051 §4.3).  -1 when b
 * is full.
 */
int	imap_session_buf_string(struct buf *b, struct span s);
/* The same, or NIL for a NULL pointer (nstring). */
int	imap_session_buf_nstring(struct buf *b, struct span s);

#endif
