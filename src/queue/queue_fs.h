/*
 * queue_fs: the spool on disk -- queue ids, one file per message with its
 * envelope in a trailer, envelope updates in state/, and recovery at
 * start.  Run only by the queue role, which owns the spool.  It parses no
 * network input, only files it wrote itself; those files are still read
 * as untrusted (a disk, a crash or an smtp role that kept its fd may have
 * damaged them), so every length is bounded and a file that fails
 * validation is moved aside to corrupt/, never parsed on trust.
 *
 * The format is documented byte by byte in docs/spool.md.  In short:
 *
 *   incoming/<id>  being received; never acknowledged; removed at start
 *   queue/<id>     committed: message bytes, envelope text, 36-byte trailer
 *   state/<id>     the current envelope once a delivery attempt changed it
 *   corrupt/       files that failed validation, kept for the admin
 *
 * Every function that touches the disk returns 0 or -1 with errno kept
 * (ENOSPC and EDQUOT reach the caller intact, for 452 4.3.1).  All paths
 * are relative to directory fds opened once by queue_fs_open(), so the
 * queue role may chroot afterwards.  Not thread-safe: one spool, one
 * event loop.
 */
#ifndef CACHET_QUEUE_FS_H
#define CACHET_QUEUE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "qid.h"

#define QUEUE_FS_RCPTS_MAX	10000	/* recipients in one envelope */
#define QUEUE_FS_LINE_MAX	4096	/* envelope line, LF included */
#define QUEUE_FS_STR_MAX	1000	/* decoded bytes of one string field */
#define QUEUE_FS_ENV_MAX	(64 * 1024 * 1024)	/* envelope bytes */
#define QUEUE_FS_TRAILER_LEN	36	/* bytes after the envelope */
#define QUEUE_FS_VERSION	1	/* envelope text version */
/* header fields written before the message (msgauth.h's PREPEND_MAX) */
#define QUEUE_FS_PREPEND_MAX	(32 * 1024)

/* Notify bits, as RFC 3461 §4.1 NOTIFY=; 0 means the parameter was absent. */
#define QUEUE_FS_NOTIFY_SUCCESS	0x1
#define QUEUE_FS_NOTIFY_FAILURE	0x2
#define QUEUE_FS_NOTIFY_DELAY	0x4
#define QUEUE_FS_NOTIFY_NEVER	0x8	/* never together with another bit */

enum queue_fs_body {
	QUEUE_FS_BODY_7BIT,
	QUEUE_FS_BODY_8BITMIME,		/* RFC 6152 */
	QUEUE_FS_BODY_BINARYMIME,	/* RFC 3030 */
};

enum queue_fs_ret {
	QUEUE_FS_RET_UNSET,
	QUEUE_FS_RET_FULL,		/* RFC 3461 §4.3 */
	QUEUE_FS_RET_HDRS,
};

enum queue_fs_rcpt_state {
	QUEUE_FS_RCPT_PENDING,		/* to be tried (again) */
	QUEUE_FS_RCPT_DELIVERED,	/* done */
	QUEUE_FS_RCPT_FAILED,		/* permanent failure, bounce owed */
	QUEUE_FS_RCPT_BOUNCED,		/* failed and the bounce is queued */
	QUEUE_FS_RCPT_EXPANDED,		/* resolved into the recipients that
					   name it as their parent */
};

/*
 * String fields are C strings: they may hold any byte but NUL (the text
 * format escapes the rest), at most QUEUE_FS_STR_MAX bytes each.  Fields
 * marked "or NULL" are optional; the others must be set.
 */
struct queue_fs_rcpt {
	char			*addr;		/* no brackets, not empty */
	unsigned		 notify;	/* QUEUE_FS_NOTIFY_* bits */
	char			*orcpt;		/* "rfc822;bob@x", or NULL */
	/*
	 * A recipient added when the queue resolved another one (an alias,
	 * a catch-all, postmaster@): has_parent is set and parent is the
	 * index of that recipient, which comes earlier and is EXPANDED.
	 */
	bool			 has_parent;
	uint32_t		 parent;
	/*
	 * The reverse-path this recipient's copy leaves with, when not the
	 * envelope's: the SRS address an alias forwarding to another domain
	 * was given (lib/srs.h), or NULL.
	 */
	char			*sender;
	enum queue_fs_rcpt_state state;
	uint32_t		 attempts;
	int64_t			 next_try;	/* unix seconds, 0 = now */
	char			*error;		/* last error text, or NULL */
	/*
	 * The server that gave error as its reply ("mx.example.net
	 * [192.0.2.1]"), or NULL when error is our own words.
	 */
	char			*remote;
	int64_t			 warned;	/* delay DSN sent at, 0 never */
};

struct queue_fs_envelope {
	char			 id[QID_SIZE];
	int64_t			 created;	/* unix seconds */
	char			*sender;	/* "" for the null path <> */
	uint64_t		 size;		/* SIZE= declared, 0 if none */
	enum queue_fs_body	 body;
	bool			 smtputf8;	/* RFC 6531 */
	bool			 requiretls;	/* RFC 8689 */
	bool			 tls_optional;	/* RFC 8689 §5 */
	enum queue_fs_ret	 ret;
	char			*envid;		/* RFC 3461 ENVID, or NULL */
	char			*auth;		/* RFC 4954 AUTH=, or NULL */
	/* the client, for logs and the bounce text */
	char			*helo;		/* or NULL */
	char			*ip;		/* or NULL */
	char			*user;		/* AUTH user, or NULL */
	bool			 held;		/* cachetctl queue hold */
	/*
	 * Header fields that go on top of the message (Authentication-
	 * Results, signatures: msgauth.h), each ending in CRLF, or NULL;
	 * every reader of the message writes them before its bytes.  At
	 * most QUEUE_FS_PREPEND_MAX bytes, no NUL.
	 */
	char			*prepend;
	bool			 junk;		/* local copies go to Junk */
	struct queue_fs_rcpt	*rcpts;
	size_t			 nrcpts;	/* 1 .. QUEUE_FS_RCPTS_MAX */
};

/* Counters, for tests, benchmarks and `cachetctl` statistics. */
struct queue_fs_stats {
	uint64_t	commits;	/* files renamed into queue/ */
	uint64_t	file_syncs;	/* fdatasync of a file */
	uint64_t	dir_syncs;	/* fsync of a directory */
};

struct queue_fs;

/* --- queue ids --------------------------------------------------------- */

/* --- the spool --------------------------------------------------------- */

/*
 * Open the spool at path, creating it and incoming/, queue/, state/ and
 * corrupt/ (mode 0700) when missing.  Returns NULL with errno on failure.
 * Opens directory fds only; call it before chroot.
 */
struct queue_fs	*queue_fs_open(const char *path);

/* Close the directory fds and free; NULL is a no-op. */
void		 queue_fs_close(struct queue_fs *);

void		 queue_fs_stats(const struct queue_fs *,
		    struct queue_fs_stats *out);

/*
 * Create incoming/<id> for a new message (O_CREAT|O_EXCL|O_RDWR|O_CLOEXEC,
 * mode 0600, never O_APPEND), with a fresh id from now_ms.  On success
 * *fd_out is the queue's own fd and id_out names the file.  The caller
 * passes a copy of the fd (SCM_RIGHTS) to the smtp role, which writes the
 * message from offset 0; the queue itself uses only pread/pwrite on it,
 * since both share one file offset.  An id already taken is retried.
 */
int	queue_fs_create(struct queue_fs *, uint64_t now_ms,
	    char id_out[QID_SIZE], int *fd_out);

/*
 * Drop a message that will not be committed (the client sent RSET, the
 * session died, a commit failed): unlink incoming/<id>.  Missing is fine.
 * The fd stays the caller's to close.
 */
int	queue_fs_abort(struct queue_fs *, const char *id);

/*
 * Commit, step 1: make the message file complete and durable.  fd is the
 * queue's fd from queue_fs_create() for incoming/<env->id>; msglen the
 * length the smtp role claims it wrote.  The real length is taken from
 * fstat() on fd and must equal msglen, else -1 with EBADMSG; fd must
 * still be incoming/<env->id> (same inode), else -1 with ESTALE.  Then
 * the envelope and the trailer are written after the message and the
 * file is fdatasync'ed.  An envelope that does not encode gives EINVAL
 * or EMSGSIZE.  On failure nothing is in queue/; call queue_fs_abort().
 */
int	queue_fs_commit_prepare(struct queue_fs *, int fd, uint64_t msglen,
	    const struct queue_fs_envelope *env);

/*
 * Commit, step 2: rename incoming/<id> to queue/<id>.  The message is
 * visible but NOT durable until queue_fs_sync_dirs() returns 0: answer
 * 250 only after that.  On failure call queue_fs_abort().
 */
int	queue_fs_commit_rename(struct queue_fs *, const char *id);

/*
 * fsync queue/ and state/ if a rename happened in them since the last
 * successful call; a no-op otherwise.  One call makes a whole batch of
 * commits and state writes durable.  On failure none of them may be
 * acknowledged or acted on: the caller removes each message of the batch
 * with queue_fs_remove() (and answers 451 4.3.0 or 452 4.3.1), because
 * Linux may report a directory write-back error to one fsync only.
 */
int	queue_fs_sync_dirs(struct queue_fs *);

/*
 * One commit, all three steps: prepare, rename, sync_dirs.  On failure
 * the message file is unlinked (from incoming/ or queue/) and errno is
 * that of the first failure; only after ESTALE or EINVAL from the first
 * checks is nothing unlinked (the name may not be this fd's file), and
 * queue_fs_abort() is the caller's.  0 means durable: answer 250.
 */
int	queue_fs_commit(struct queue_fs *, int fd, uint64_t msglen,
	    const struct queue_fs_envelope *env);

/*
 * Replace the current envelope of message env->id: write state/<id>.tmp,
 * fdatasync, rename to state/<id>, fsync state/.  The message must be in
 * queue/.  0 means durable.
 */
int	queue_fs_state_write(struct queue_fs *,
	    const struct queue_fs_envelope *env);

/*
 * As queue_fs_state_write() but the fsync of state/ is left to the next
 * queue_fs_sync_dirs(), so many updates share one; until then a crash
 * may bring back the previous envelope (a retry, never a loss).
 */
int	queue_fs_state_stage(struct queue_fs *,
	    const struct queue_fs_envelope *env);

/*
 * Remove message id: unlink queue/<id>, then, only if state/<id> exists,
 * fsync queue/ and unlink state/<id>.  That order means a crash never
 * leaves the message with an older envelope than the last one written;
 * an orphaned state file is removed by the next scan.  Without a state
 * file no sync is made: after a crash the message may come back and be
 * delivered again (DESIGN.md: at worst twice, never lost).  Missing files
 * are fine.
 */
int	queue_fs_remove(struct queue_fs *, const char *id);

/*
 * Open committed message id for reading: *fd_out (O_RDONLY, at offset
 * 0, close it yourself) and *msglen_out, the bytes before the envelope.
 * The trailer is checked (magic, lengths agree with the file size); the
 * envelope is not read.  -1 with ENOENT if absent, EBADMSG if damaged.
 */
int	queue_fs_open_message(struct queue_fs *, const char *id, int *fd_out,
	    uint64_t *msglen_out);

/*
 * Read the current envelope of message id (state/<id> if present and
 * valid, else the trailer's), fully validated.  Moves nothing aside: for
 * `cachetctl queue show` and for a queue that dropped its copy.  -1 with
 * ENOENT if absent, EBADMSG if the message file is damaged.
 */
int	queue_fs_load(struct queue_fs *, const char *id,
	    struct queue_fs_envelope *out, uint64_t *msglen_out);

/*
 * Recovery at start, before any create.  Removes every file in incoming/
 * (never acknowledged) and every *.tmp in state/, then walks queue/ in id
 * order: each file is validated (trailer, CRC, envelope, id matching the
 * name); a file failing that is moved to corrupt/ with a warning; the
 * envelope is state/<id> when that is valid, else the trailer's (a bad
 * state file is moved to corrupt/<id>.state).  cb gets each message; it
 * may keep the envelope by moving it out (copy the struct, then zero
 * *env): the scan frees what is left after cb returns.  cb returns 0 to
 * go on, -1 to stop the scan.  State files without a message are then
 * removed.  Returns 0, or -1 with errno when a directory or a file could
 * not be read (nothing is moved aside for a read error) or cb said stop.
 */
int	queue_fs_scan(struct queue_fs *,
	    int (*cb)(void *arg, struct queue_fs_envelope *env,
	    uint64_t msglen), void *arg);

/* --- envelopes --------------------------------------------------------- */

/*
 * Append the text form of env to out.  The envelope is validated by the
 * same rules as the decoder (so what is written can be read back): -1
 * with EINVAL if a field is out of range, EMSGSIZE if the text would
 * pass QUEUE_FS_ENV_MAX or out's ceiling.  out is unchanged on failure.
 */
int	queue_fs_envelope_encode(const struct queue_fs_envelope *env,
	    struct buf *out);

/*
 * Parse an envelope text of len bytes.  Strict: only the canonical form
 * the encoder writes is accepted (so decode then encode gives the same
 * bytes), every field is checked, and the closing CRC must match.
 * Nothing is allocated before the recipient count is bounded.  On failure
 * -1, *errstr_out a static message and out zeroed (nothing to free).
 */
int	queue_fs_envelope_decode(const char *p, size_t len,
	    struct queue_fs_envelope *out, const char **errstr_out);

/* Free the strings and recipients of env and zero it; safe on zeroed. */
void	queue_fs_envelope_free(struct queue_fs_envelope *env);

/* CRC-32C (Castagnoli, RFC 3720 §B.4); start with crc 0. */
uint32_t	queue_fs_crc32c(uint32_t crc, const void *p, size_t len);

#endif
