/*
 * imap_sort: SORT of RFC 5256 (ARRIVAL, CC, DATE, FROM, REVERSE, SIZE,
 * SUBJECT, TO) and RFC 5957 (DISPLAYFROM, DISPLAYTO), the base subject
 * of RFC 5256 §2.1 that SORT and THREAD share, and the parse of the
 * arguments SORT and THREAD take before their search keys.
 *
 * Pure: no I/O.  The imap role gives each matching message's facts and
 * parsed message to imap_sort_keys_make(), which keeps only what the
 * criteria compare (owned strings), so that messages need not stay
 * parsed; imap_sort_run() then orders the keys.  Strings compare by
 * i;ascii-casemap (RFC 4790 §9.2: a-z as A-Z) over the case-folded
 * UTF-8 of imap_search_fold(), bytes beyond ASCII by value.  Ties, and
 * every criterion equal, fall back to the sequence number (RFC 5256
 * §3: "the order in the mailbox").  Message headers are hostile: every
 * string is capped (IMAP_SORT_STR_MAX).
 */
#ifndef CACHET_IMAP_SORT_H
#define CACHET_IMAP_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mime.h"

#define IMAP_SORT_CRIT_MAX	16	/* criteria in one SORT */
#define IMAP_SORT_STR_MAX	4096	/* a subject or name compared */

enum imap_sort_key {
	IMAP_SORT_ARRIVAL,	/* internal date */
	IMAP_SORT_CC,		/* first Cc mailbox (local part) */
	IMAP_SORT_DATE,		/* Date:, else the internal date */
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,	/* base subject */
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,	/* RFC 5957: display name, else addr */
	IMAP_SORT_DISPLAYTO,
};

struct imap_sort_crit {
	enum imap_sort_key	key;
	bool			reverse;
};

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES,
};

/* The arguments before the search keys. */
struct imap_sort_args {
	struct imap_sort_crit	 crit[IMAP_SORT_CRIT_MAX];
	size_t			 ncrit;
	enum imap_thread_alg	 alg;		/* THREAD */
	struct span		 charset;	/* into the input */
};

/*
 * Parse "(" sort-criterion *(SP sort-criterion) ")" SP charset SP
 * (RFC 5256 §5, RFC 5957 §3) at the start of in, or for THREAD
 * (thread true) thread-alg SP charset SP.  The charset is an atom or a
 * quoted string without escapes (a literal is refused).  *used_out is
 * where the search keys start.  -1 with *err_out the text for a tagged
 * BAD; a charset other than UTF-8 and US-ASCII is the caller's NO
 * [BADCHARSET] (imap_search_charset_ok()).
 */
int	imap_sort_parse(struct span in, bool thread,
	    struct imap_sort_args *out, size_t *used_out,
	    const char **err_out);

/*
 * The base subject of RFC 5256 §2.1 of a raw Subject: value (encoded
 * words decoded first), appended to out (-1 with EMSGSIZE); *reply_out
 * (may be NULL) tells whether a "Re:", "Fwd:", "(fwd)" or "[fwd: ...]"
 * was removed, as THREAD=REFERENCES step 5 needs.  Not case-folded.
 */
int	imap_sort_base_subject(struct span raw, struct buf *out,
	    bool *reply_out);

/* What SORT compares of one message. */
struct imap_sort_keys {
	uint32_t	 seq;
	uint32_t	 uid;
	uint64_t	 size;
	int64_t		 arrival;	/* internal date */
	int64_t		 date;		/* sent date, else arrival */
	char		*str[IMAP_SORT_CRIT_MAX];	/* per criterion,
					   folded; NULL for numbers */
};

/*
 * Fill k for the criteria in args from a message: msg may be NULL when
 * no criterion reads headers (ARRIVAL, SIZE).  Free with
 * imap_sort_keys_free().
 */
void	imap_sort_keys_make(const struct imap_sort_args *args,
	    struct imap_sort_keys *k, uint32_t seq, uint32_t uid,
	    uint64_t size, int64_t internaldate, const struct mime_msg *msg);
void	imap_sort_keys_free(struct imap_sort_keys *k);

/* Does any criterion need the parsed message? */
bool	imap_sort_needs_message(const struct imap_sort_args *args);

/* Order v[0..n) by the criteria (stable by sequence number). */
void	imap_sort_run(const struct imap_sort_args *args,
	    struct imap_sort_keys *v, size_t n);

/*
 * The sent date of a message (RFC 5256 §2.2: Date:, or the internal
 * date when it is missing or does not parse), seconds UTC.
 */
int64_t	imap_sort_sent_date(const struct mime_msg *msg, int64_t internaldate);

/* i;ascii-casemap order of two folded strings: <0, 0, >0. */
int	imap_sort_strcmp(const char *a, const char *b);

#endif
