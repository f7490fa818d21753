/*
 * ipc: framed, typed messages between roles over UNIX stream socketpairs,
 * optionally carrying one file descriptor (SCM_RIGHTS).  Used by every
 * role and by cachetctl.  A frame is a 12-byte header (little-endian u32
 * payload length, u32 type, u32 flags) and the payload.  Payload fields
 * are written with the typed msg_put_* calls and read back with msg_get_*,
 * which check lengths; msg_end() checks that nothing is left over.  A frame
 * that is too long, has unknown flags, or announces a descriptor that did
 * not arrive closes the channel: a sibling that sends one is broken.
 *
 * Descriptors travel with the frame's bytes; the receiver queues them in
 * arrival order and hands each to the frame that is flagged for one (the
 * kernel delivers the descriptor no later than the last byte of the
 * sendmsg() that carried it).
 */
#ifndef CACHET_IPC_H
#define CACHET_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define IPC_HDR_SIZE	12
#define IPC_PAYLOAD_MAX	(256 * 1024)	/* larger frames close the channel */
#define IPC_FDS_MAX	16		/* descriptors waiting for a frame */
#define IPC_F_FD	0x1u

/*
 * Flags of an envelope as smtp hands it to the queue (MSG_QUEUE_COMMIT)
 * and the queue to the mta (MSG_MTA_DELIVER).
 */
#define MSG_ENV_SMTPUTF8	0x1u	/* RFC 6531 */
#define MSG_ENV_REQUIRETLS	0x2u	/* RFC 8689 */
#define MSG_ENV_TLS_OPTIONAL	0x4u	/* RFC 8689 §5: TLS-Required: No */
#define MSG_ENV_ALL		0x7u

/*
 * The verdict of sender authentication as smtp hands it to the queue
 * (MSG_QUEUE_COMMIT) and the queue to the mda: msgauth.h's MSGAUTH_F_*.
 */
#define MSG_COMMIT_F_JUNK	0x1u	/* local copies go to Junk */
#define MSG_COMMIT_F_ALL	0x1u
/* The header fields put on top of a message (msgauth.h), at most. */
#define MSG_PREPEND_MAX		(32 * 1024)

enum msg_type {
	MSG_NONE = 0,
	/* every role */
	MSG_PING,		/* u64 reqid */
	MSG_PONG,		/* u64 reqid */
	/* parent -> role, at start before GO, and later */
	MSG_PARENT_CONFIG,	/* fd: memfd holding the config text */
	MSG_PARENT_LISTEN,	/* u32 listen index (or UINT32_MAX: submit
				   socket), fd: listening socket */
	MSG_PARENT_PEER,	/* u32 proc id, u32 worker (0 unless that
				   role runs workers), fd: a channel to
				   that process */
	MSG_PARENT_WORKER,	/* u32 worker, u32 workers of the role, fd:
				   the role's connection table (a role with
				   workers only) */
	MSG_PARENT_GO,		/* start working */
	/* cachetctl <-> parent, and parent <-> role for forwarded verbs */
	MSG_CTL_STATUS,		/* (none) */
	MSG_CTL_STOP,
	MSG_CTL_RELOAD,
	MSG_CTL_REQUEST,	/* u64 reqid, u32 argc, str argv[]; opt fd */
	MSG_CTL_LINE,		/* u64 reqid, str line of output */
	MSG_CTL_DATA,		/* u64 reqid, data bytes (queue cat) */
	MSG_CTL_END,		/* u64 reqid, u32 exit code, str error */
	/* smtp <-> lookup */
	MSG_LOOKUP_AUTH,	/* u64 reqid, str client ip, str user,
				   str pass */
	MSG_LOOKUP_AUTH_RESULT,	/* u64 reqid, u32 0 ok / 1 fail / 2 tempfail */
	MSG_LOOKUP_MAIL,	/* u64 reqid, str auth user, str from */
	MSG_LOOKUP_RCPT,	/* u64 reqid, u32 MSG_RCPT_F_*, str rcpt
				   ("local@domain", or "Postmaster") */
	MSG_LOOKUP_RESULT,	/* u64 reqid, u32 code, str enh, str text */
	/* smtp <-> queue */
	MSG_QUEUE_CREATE,	/* u64 reqid */
	MSG_QUEUE_CREATE_RESULT,/* u64 reqid, u32 ok, str id; fd if ok */
	MSG_QUEUE_COMMIT,	/* u64 reqid, str id, u64 msglen, str from,
				   u32 body, u32 MSG_ENV_* flags, u32 ret,
				   str envid, str auth, str client ip,
				   str auth user, u32 nrcpt, then per rcpt:
				   str addr, u32 notify, str orcpt
				   ("" = none for every str), then
				   str prepend (header fields for the
				   top, msgauth.h), u32 MSG_COMMIT_F_* */
	MSG_QUEUE_COMMIT_RESULT,/* u64 reqid, u32 code, str enh, str text */
	MSG_QUEUE_ABORT,	/* str id */
	/* Local delivery (queue.c, lookup.c, mda.c, resolve.h) */
	MSG_LOOKUP_RESOLVE,		/* queue -> lookup: u64 reqid,
					   u32 RESOLVE_F_*, str rcpt,
					   str sender (its reverse-path) */
	MSG_LOOKUP_RESOLVE_RESULT,	/* lookup -> queue: u64 reqid,
					   u32 resolve_status, str reason,
					   str srs (SRS reverse-path, ""
					   none), u32 n, then per
					   destination: u32 resolve_kind,
					   str addr, str owner, str mailbox,
					   u32 mailbox_format, u64 quota
					   (UINT64_MAX none), str enh,
					   str text, u32 1: leaves with srs */
	MSG_LOOKUP_USAGE,		/* mda/pop3/imap -> lookup: str owner,
					   u64 bytes in the mailbox now */
	MSG_MDA_DELIVER,		/* queue -> mda: u64 reqid, str id,
					   str sender, str rcpt, str owner,
					   str mailbox, u32 mailbox_format,
					   u64 quota (UINT64_MAX none),
					   u64 msglen, str prepend (written
					   first), u32 MSG_COMMIT_F_*; fd of
					   the message */
	MSG_MDA_RESULT,			/* mda -> queue: u64 reqid,
					   u32 MDA_* result, str enh,
					   str text */
	/* POP3 (pop3.c, lookup.c); pop3 also sends MSG_LOOKUP_AUTH */
	MSG_LOOKUP_APOP,		/* pop3 -> lookup: u64 reqid, str client
					   ip, str user, str timestamp (of the
					   greeting), str digest (32 lower-case
					   hex digits, RFC 1939 §7) */
	MSG_LOOKUP_APOP_RESULT,		/* lookup -> pop3: u64 reqid, u32 0 ok /
					   1 fail / 2 tempfail */
	MSG_LOOKUP_MAILBOX,		/* pop3/imap -> lookup: u64 reqid,
					   str user (just logged in) */
	MSG_LOOKUP_MAILBOX_RESULT,	/* lookup -> pop3/imap: u64 reqid,
					   u32 0 ok / 1 unknown / 2 tempfail,
					   str owner (address as stored), str
					   mailbox (mailbox_path()),
					   u32 mailbox_format, u64 quota in
					   bytes (UINT64_MAX: none) ("" "" 0
					   UINT64_MAX unless ok) */
	/* Outbound delivery (layouts in lookup_mx.h and mta.h) */
	MSG_LOOKUP_MX,			/* mta -> lookup: route a domain */
	MSG_LOOKUP_MX_RESULT,		/* lookup -> mta: addresses to try */
	MSG_MTA_DELIVER,		/* queue -> mta, + fd of the message */
	MSG_MTA_RESULT,			/* mta -> queue: per-rcpt results */
	/* TLS private-key operations (keyproxy.h) */
	MSG_LOOKUP_KEY_CHANNEL,		/* smtp/pop3/imap/http -> lookup:
					   fd of a channel for the three
					   below */
	MSG_LOOKUP_KEY_OP,		/* u64 seq, u32 op, u32 padding,
					   data in */
	MSG_LOOKUP_KEY_RESULT,		/* u64 seq, u32 ok, data out */
	/* SCRAM-SHA-256 (sasl.h): the keys stay in lookup */
	MSG_LOOKUP_SCRAM_SALT,		/* smtp/pop3/imap -> lookup: u64
					   reqid, str user */
	MSG_LOOKUP_SCRAM_SALT_RESULT,	/* u64 reqid, u32 0 ok / 2
					   tempfail, data salt, u32
					   iterations */
	MSG_LOOKUP_SCRAM_PROOF,		/* smtp/pop3/imap -> lookup: u64
					   reqid, str client ip, str user, data
					   AuthMessage, data ClientProof */
	MSG_LOOKUP_SCRAM_PROOF_RESULT,	/* u64 reqid, u32 0 ok / 1 fail /
					   2 tempfail, data ServerSignature
					   (empty unless ok) */
	/* MTA-STS (RFC 8461; layouts in lookup/lookup_sts.h) */
	MSG_LOOKUP_STS,			/* mta -> lookup: a domain's policy */
	MSG_LOOKUP_STS_RESULT,		/* lookup -> mta: cached, or fetch */
	MSG_LOOKUP_STS_STORE,		/* mta -> lookup: a fetched policy */
	/* TLS-RPT (RFC 8460; layout in mta/mta_tlsrpt.h) */
	MSG_LOOKUP_TLSRPT,		/* mta -> lookup: a TLS session's
					   result under its policy */
	MSG_QUEUE_INJECT,		/* lookup -> queue: str sender,
					   str rcpt, data message (a
					   TLS-RPT report); no answer */
	MSG_LOOKUP_TLSRPT_MAIL,		/* mda -> lookup: u64 msglen, fd
					   of a delivered message that may
					   be a TLS-RPT report; no answer */
	MSG_MTA_TLSRPT_POST,		/* lookup -> mta: a TLS-RPT report
					   to POST (mta/mta_tlsrpt.h) */
	MSG_LOOKUP_TLSRPT_RUA,		/* mta -> lookup: u64 reqid, str
					   domain (cachetctl tls-policy) */
	MSG_LOOKUP_TLSRPT_RUA_RESULT,	/* lookup -> mta: u64 reqid, str
					   the rua URIs, or "none: WHY" */
	/* Sender authentication (layouts in lookup/msgauth.h) */
	MSG_LOOKUP_SPF,			/* smtp -> lookup: check SPF */
	MSG_LOOKUP_SPF_RESULT,		/* lookup -> smtp */
	MSG_LOOKUP_MESSAGE,		/* smtp -> lookup: end of DATA */
	MSG_LOOKUP_MESSAGE_RESULT,	/* lookup -> smtp: verdict, headers */
	MSG_LOOKUP_SIGN,		/* queue -> lookup: sign a bounce */
	MSG_LOOKUP_SIGN_RESULT,		/* lookup -> queue: headers */
	/* Spam defence (lib/spam.h; layouts in the lookup_*.h named) */
	MSG_LOOKUP_PRESCREEN,		/* smtp -> lookup: lookup_prescreen.h */
	MSG_LOOKUP_PRESCREEN_RESULT,
	MSG_LOOKUP_GREYLIST,		/* smtp -> lookup: lookup_greylist.h */
	MSG_LOOKUP_GREYLIST_RESULT,
	MSG_LOOKUP_SPAM_TRAIN,		/* imap -> lookup: lookup_spamtrain.h */
	/* A new TLS certificate while running (lookup/lookup_tls.h) */
	MSG_LOOKUP_TLS_RELOAD,		/* parent -> lookup: u64 reqid (of
					   cachetctl tls reload), data the
					   chain PEM; fd of the key file */
	MSG_KEYPROXY_CHAIN,		/* lookup -> smtp/pop3/imap/http:
					   data the chain PEM of the key
					   lookup signs with now (keyproxy.h) */
#ifdef CACHET_TEST_HOOKS
	/* Test builds only (sandbox.h): parent -> any role */
	MSG_PARENT_SANDBOX_TEST,	/* str forbidden call to make */
#endif
	MSG_TYPE_COUNT
};

/* MSG_LOOKUP_RCPT flags */
#define MSG_RCPT_F_RELAY_OK	0x1	/* authenticated: may relay */

struct msg {
	uint32_t	 type;
	int		 fd;	/* -1 when none; owned by the msg */
	struct buf	 data;	/* payload */
	size_t		 pos;	/* read cursor */
};

const char	*msg_name(uint32_t type);

/* Writers: build a message, then ipc_send() or ipc_write_blocking(). */
struct msg	*msg_new(uint32_t type);
void		 msg_free(struct msg *);
void		 msg_put_u32(struct msg *, uint32_t);
void		 msg_put_u64(struct msg *, uint64_t);
/* A u32 length and the bytes; the string carries no NUL. */
void		 msg_put_str(struct msg *, const char *);
void		 msg_put_data(struct msg *, const void *, size_t);
/* Bytes with no length prefix (forwarding the rest of a message). */
void		 msg_put_raw(struct msg *, const void *, size_t);
/* The message takes ownership of fd and closes it after sending. */
void		 msg_put_fd(struct msg *, int fd);

/* Readers: -1 when the payload is too short or malformed. */
int	msg_get_u32(struct msg *, uint32_t *);
int	msg_get_u64(struct msg *, uint64_t *);
/* Borrow data written by msg_put_data/msg_put_str. */
int	msg_get_span(struct msg *, struct span *);
/* Copy a string into out; -1 if it holds a NUL or does not fit. */
int	msg_get_str(struct msg *, char *out, size_t outsz);
/* Allocate a copy of a string; -1 if it holds a NUL or exceeds max. */
int	msg_get_strdup(struct msg *, size_t max, char **out);
/* Take the descriptor (-1 when none); the caller owns it. */
int	msg_take_fd(struct msg *);
/* -1 when payload bytes are left unread. */
int	msg_end(struct msg *);

/*
 * The pure frame decoder, for channels and for the fuzzer.  Looks at the
 * bytes buffered so far.  Returns 1 with *hdr filled when a whole frame is
 * there (its total size is IPC_HDR_SIZE + hdr->len), 0 when more bytes are
 * needed, -1 when the header is malformed (too long, unknown flags,
 * unknown type).
 */
struct ipc_hdr {
	uint32_t	len;
	uint32_t	type;
	uint32_t	flags;
};
int	ipc_frame_decode(const void *p, size_t avail, struct ipc_hdr *hdr);
/* Encode a message into a frame (header + payload) for sending. */
void	ipc_frame_encode(const struct msg *, struct buf *out);

/*
 * A channel: one end of a socketpair, driven by a libevent base.  on_msg
 * is called for each complete message (the callee frees it); on_close
 * once when the peer went away or broke the protocol, after which the
 * channel must be freed by the owner.
 */
struct event_base;
struct ipc_chan;
typedef void (*ipc_msg_cb)(struct ipc_chan *, struct msg *, void *arg);
typedef void (*ipc_close_cb)(struct ipc_chan *, void *arg);

struct ipc_chan	*ipc_chan_new(struct event_base *, int fd, const char *name,
		    ipc_msg_cb, ipc_close_cb, void *arg);
void		 ipc_chan_free(struct ipc_chan *);
const char	*ipc_chan_name(const struct ipc_chan *);
/* Queue a message (and its fd) for sending; takes ownership of m. */
void		 ipc_send(struct ipc_chan *, struct msg *m);
/* Bytes waiting to go out; a role may slow down when it grows. */
size_t		 ipc_pending(const struct ipc_chan *);

/* Blocking send and receive for cachetctl and cachet-sendmail. */
int	ipc_write_blocking(int fd, struct msg *m);	/* frees m */
/* Returns a message, or NULL with errno (0 at clean EOF). */
struct msg	*ipc_read_blocking(int fd);

#endif
