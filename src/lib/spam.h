/*
 * spam: the types every part of the spam filter shares (issue 15).
 *
 * One verdict from one score.  Every check adds points with a reason
 * (struct spam_hit) to a struct spam_score; the total decides: at or
 * above `spam-reject` the message is refused at the end of DATA (550
 * 5.7.1, so nothing is accepted that is then dropped), at or above
 * `spam-junk` it is filed into the user's Junk folder, below it goes to
 * the Inbox.  Points are kept in thousandths (SPAM_MILLI) so that they
 * travel over ipc as integers.
 *
 * Where each part runs (network-facing roles parse, lookup decides):
 *
 *   before DATA: smtp asks lookup (lookup_prescreen.h: DNSBL, DNSWL,
 *   forward-confirmed rDNS, HELO and sender-domain checks at connect,
 *   HELO and MAIL; lookup_greylist.h at RCPT) and adds its own (early
 *   talker, pipelining abuse); it sums them into one pre-DATA score.
 *
 *   content: where the message is parsed (smtp at the end of DATA,
 *   cachetctl for `spam check|train`, imap for a Junk move) the bytes
 *   become struct spam_features: the hits of the rules (spamrules.h) and
 *   the Bayes tokens (spamtok.h).  Those go to lookup with the pre-DATA
 *   score in MSG_LOOKUP_MESSAGE (lookup/msgauth.h).
 *
 *   verdict: lookup (lookup_spam.h) adds SPF/DKIM/DMARC points, the
 *   rules' hits and the Bayes probability of the tokens (lookup_bayes.h,
 *   the token database) to the pre-DATA score, decides, and puts
 *   X-Spam-Score / X-Spam-Status on every message accepted on port 25.
 *
 * Everything that crosses ipc is bounded here and re-checked by the
 * receiver (spam_score_get, spam_features_get): the sender may be a
 * compromised smtp worker.
 */
#ifndef CACHET_SPAM_H
#define CACHET_SPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mime.h"

#define SPAM_MILLI		1000	/* points are in thousandths */
#define SPAM_NAME_MAX		40	/* rule name incl. NUL: [A-Z0-9_] */
#define SPAM_DESC_MAX		120	/* description incl. NUL, printable */
#define SPAM_HITS_MAX		48	/* reasons kept (the total counts all) */
#define SPAM_POINTS_MAX		(1000 * SPAM_MILLI)	/* |total| bound */

/* Bytes of a message the content checks read (the rest is not seen). */
#define SPAM_SCAN_MAX		(512 * 1024)
/* Bayes tokens of one message (unique), and the longest token. */
#define SPAM_TOKENS_MAX		3000
#define SPAM_TOKEN_MAX		64	/* bytes, without the NUL */

/* One reason: a check's name, its points and what it saw. */
struct spam_hit {
	char		 name[SPAM_NAME_MAX];
	int32_t		 score;		/* milli-points, may be negative */
	char		 desc[SPAM_DESC_MAX];
};

struct spam_score {
	int32_t		 total;		/* milli-points, within
					   +-SPAM_POINTS_MAX */
	struct spam_hit	 hits[SPAM_HITS_MAX];
	size_t		 nhits;
};

/*
 * Add points with a reason.  name is cut to [A-Z0-9_] and
 * SPAM_NAME_MAX - 1, desc to printable ASCII; past SPAM_HITS_MAX the
 * points still count but the reason is not kept.  The total saturates at
 * +-SPAM_POINTS_MAX.
 */
void	spam_score_add(struct spam_score *, const char *name, int32_t score,
	    const char *desc);
/* Add every hit of from to to. */
void	spam_score_merge(struct spam_score *to, const struct spam_score *from);
/* "5.2", "-0.5", "12.0": points with one decimal (rounded half away). */
void	spam_points_text(int32_t milli, char *out, size_t outsz);
/*
 * The reasons as "NAME=1.5,NAME2=-2.0" (in the order added), for
 * X-Spam-Status and logs; -1 when out had no room (out holds what fit).
 */
int	spam_score_format(const struct spam_score *, struct buf *out);

/* ipc: u32 nhits, per hit: str name, u32 (int32) score, str desc. */
struct msg;
void	spam_score_put(struct msg *, const struct spam_score *);
/*
 * -1 on a malformed or out-of-bounds encoding; names and descriptions
 * are re-sanitised and the total recomputed from the hits.
 */
int	spam_score_get(struct msg *, struct spam_score *);

/* Bayes tokens: unique byte strings, each NUL-terminated in b. */
struct spam_tokens {
	struct buf	 b;
	size_t		 n;
};

void	spam_tokens_init(struct spam_tokens *);
void	spam_tokens_reset(struct spam_tokens *);
void	spam_tokens_free(struct spam_tokens *);
/*
 * Append one token (1..SPAM_TOKEN_MAX bytes, no NUL); no check for
 * duplicates (the tokenizer keeps them unique).  -1 when full
 * (SPAM_TOKENS_MAX) or the token is empty, too long or holds a NUL.
 */
int	spam_tokens_add(struct spam_tokens *, const char *p, size_t len);
/* Walk: *off starts at 0; the next token or NULL at the end. */
const char	*spam_tokens_next(const struct spam_tokens *, size_t *off);
/* ipc: data tokens (as in b); spam_features_get's rules for them. */
int	spam_tokens_get(struct msg *, struct spam_tokens *);

/*
 * A message as the content checks read it: parsed once, its text (every
 * text part decoded to UTF-8, HTML as text, mime_text()) and the links
 * found in its HTML.
 */
struct spam_msg {
	const char	*data;	/* not owned; at most SPAM_SCAN_MAX used */
	size_t		 len;
	struct mime_msg	 mime;
	struct buf	 text;
	struct buf	 links;	/* one URL per line */
};

/* Parse data[0..min(len, SPAM_SCAN_MAX)); data must outlive sm. */
void	spam_msg_parse(struct spam_msg *sm, const char *data, size_t len);
void	spam_msg_free(struct spam_msg *sm);

/*
 * What the content checks found in one message: computed where the
 * message is parsed, judged in lookup.
 */
struct spam_features {
	struct spam_score	 rules;		/* the rules' hits */
	struct spam_tokens	 tokens;	/* for Bayes */
};

struct spam_rules;			/* spamrules.h */

void	spam_features_init(struct spam_features *);
void	spam_features_reset(struct spam_features *);
void	spam_features_free(struct spam_features *);
/*
 * Parse data (at most SPAM_SCAN_MAX of it is read), run rules over it
 * (NULL: no rules, tokens only) and tokenize it, into f (reset first).
 */
void	spam_features_extract(struct spam_features *f,
	    const struct spam_rules *rules, const char *data, size_t len);
/* ipc: the rules' score (spam_score_put), data tokens (as in b). */
void	spam_features_put(struct msg *, const struct spam_features *);
/* -1 when malformed: bounds, empty or over-long tokens, no final NUL. */
int	spam_features_get(struct msg *, struct spam_features *);

enum spam_verdict {
	SPAM_INBOX,
	SPAM_JUNK,
	SPAM_REJECT,
};

const char	*spam_verdict_name(enum spam_verdict);	/* inbox junk reject */

#endif
