/*
 * smtp_msgauth: what the smtp role does for sender authentication while
 * a message streams past (issue 14, lookup/msgauth.h).  Pure: bytes in,
 * bytes out through a callback.
 *
 * It holds back one header field at a time, until the next line shows
 * that it ended, and then writes it on, or drops it when it is an
 * Authentication-Results field claiming our own authserv-id (RFC 8601
 * §5: removed, not renamed), or, when verifying (port 25), an X-Spam-*
 * field (only our spam verdict writes those; it stays in the header
 * section sent to lookup, as a signature may cover it).  It keeps the header section as received
 * (bounded by MSGAUTH_HDRS_MAX, cut at a field boundary), and once the
 * header section ends it hashes the body: relaxed/sha256 always (signing
 * and ARC sealing need it) and, when verifying, each other way the
 * DKIM-Signature and ARC-Message-Signature fields ask for (lib/dkim.h),
 * at most MSGAUTH_BH_MAX.
 */
#ifndef CACHET_SMTP_MSGAUTH_H
#define CACHET_SMTP_MSGAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "lookup/msgauth.h"

/* A field longer than this is decided on its start and streamed. */
#define SMTP_MSGAUTH_HOLD_MAX	(16 * 1024)

struct smtp_msgauth;

/* What the end of the message leaves for MSG_LOOKUP_MESSAGE. */
struct smtp_msgauth_info {
	struct span			 hdrs;	/* the client's header section */
	bool				 truncated;
	uint64_t			 bodylen;
	const struct msgauth_bh		*bh;
	size_t				 nbh;
	size_t				 removed;	/* our A-R fields dropped */
};

/*
 * hostname: our authserv-id.  verify: hash the body every way the
 * signatures ask (port 25); else relaxed/sha256 only.  write gets the
 * bytes to spool, in order.
 */
struct smtp_msgauth	*smtp_msgauth_new(const char *hostname, bool verify,
			    void (*write)(void *arg, const char *p, size_t len),
			    void *arg);
/* Message content (dot-unstuffed, CRLF lines), in pieces of any size. */
void			 smtp_msgauth_input(struct smtp_msgauth *,
			    const char *p, size_t len);
/* The end of the content: the held field goes out, the hashes end. */
void			 smtp_msgauth_end(struct smtp_msgauth *);
/* After the end; valid until free. */
void			 smtp_msgauth_info(const struct smtp_msgauth *,
			    struct smtp_msgauth_info *out);
void			 smtp_msgauth_free(struct smtp_msgauth *);

#endif
