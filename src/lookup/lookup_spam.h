/*
 * lookup_spam: the one verdict of the spam filter (issue 15), a step of
 * the msgauth orchestrator (lookup/msgauth.h) for mail received on port
 * 25, after DMARC: the pre-DATA score smtp sent (m->spam_pre), points
 * for the SPF, DKIM, DMARC and ARC results, the content features
 * (m->spam_content: the rules' hits, the Bayes tokens) and the Bayes
 * probability add up to m->spam; `spam-reject` and `spam-junk` decide
 * m->spam_verdict; X-Spam-Score and X-Spam-Status go into m->prepend for
 * every message it judges.  `spam no` turns it off: no score, no
 * fields, the Inbox.
 *
 * It also answers `cachetctl spam check` (argv "spam" "check" [USER];
 * the features follow the arguments in the request, spam_features_put):
 * "score: N", "verdict: inbox|junk|reject" and one line per reason
 * (name, points, description), from the rules' hits and Bayes (USER's
 * database on top of the server's when given).
 *
 * The pure functions below are what the cross-validation in bench/
 * calls; docs/spam.md lists the points.
 */
#ifndef CACHET_LOOKUP_SPAM_H
#define CACHET_LOOKUP_SPAM_H

#include <stddef.h>
#include <stdint.h>

#include "ipc.h"
#include "msgauth.h"
#include "proc.h"

struct conf;
struct lookup_bayes;
struct lookup_spam;

struct lookup_spam	*lookup_spam_new(struct proc_self *,
			    const struct conf *, struct lookup_bayes *);
/* The step: fills m->spam, m->spam_verdict, X-Spam-* in m->prepend. */
void			 lookup_spam_judge(struct lookup_spam *,
			    struct msgauth *, msgauth_done_cb);
/*
 * The content part of the score, pure (the cross-validation in bench/
 * uses it as is): the rules' hits of f and the points for the Bayes
 * probability p (p < 0: no opinion, untrained) added to out.
 */
void			 lookup_spam_content(const struct conf *,
			    const struct spam_features *f, double p,
			    struct spam_score *out);
/* The verdict for a total under conf's `spam-junk` and `spam-reject`. */
enum spam_verdict	 lookup_spam_decide(const struct conf *,
			    int32_t total);
/* Points for m's SPF, DKIM, DMARC and ARC results, added to out; pure. */
void			 lookup_spam_auth(const struct msgauth *m,
			    struct spam_score *out);
/*
 * "X-Spam-Score: N" and "X-Spam-Status: Yes|No, score=N required=J
 * tests=NAME=pts,..." (folded under 78 columns, each field with its
 * CRLF) appended to out; -1 when out had no room.
 */
int			 lookup_spam_fields(const struct conf *,
			    const struct spam_score *, enum spam_verdict,
			    struct buf *out);
/*
 * The user whose Bayes counts judge m on top of the server's (the one
 * local recipient, `spam-bayes-per-user`), or "" into out.
 */
void			 lookup_spam_user(const struct conf *,
			    const struct msgauth *m, char *out, size_t outsz);
/* The text of the 550 for a refused message: score, limit, top tests. */
void			 lookup_spam_refusal(const struct conf *,
			    const struct spam_score *, char *out,
			    size_t outsz);
/* `cachetctl spam check`: m is positioned after the arguments. */
void			 lookup_spam_ctl(struct lookup_spam *, uint64_t reqid,
			    size_t argc, char **argv, struct msg *m);

#endif
