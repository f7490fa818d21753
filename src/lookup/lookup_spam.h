/*
 * lookup_spam: the one verdict of the spam filter (issue 15), a step of
 * the msgauth orchestrator (lookup/msgauth.h) for mail received on port
 * 25, after DMARC: the pre-DATA score smtp sent (m->spam_pre), the
 * content features (m->spam_content: the rules' hits, the Bayes
 * tokens), points for the SPF, DKIM, DMARC and ARC results and the
 * Bayes probability add up to m->spam; `spam-reject` and `spam-junk`
 * decide m->spam_verdict; X-Spam-Score and X-Spam-Status go into
 * m->prepend for every message it judges.
 *
 * It also answers `cachetctl spam check` (argv "spam" "check" ...; the
 * features follow the arguments in the request, spam_features_put):
 * "score: N", "verdict: inbox|junk|reject" and one line per reason.
 *
 * STAND-IN: the `verdict` helper replaces lookup_spam.c.
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
/* `cachetctl spam check`: m is positioned after the arguments. */
void			 lookup_spam_ctl(struct lookup_spam *, uint64_t reqid,
			    size_t argc, char **argv, struct msg *m);

#endif
