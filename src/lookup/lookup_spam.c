/*
 * lookup_spam: STAND-IN (the `verdict` helper replaces this file): the
 * pre-DATA score plus the rules' hits, fixed thresholds (junk 5, reject
 * 15), no Bayes, no authentication points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "lookup_bayes.h"
#include "lookup_spam.h"
#include "util.h"

#define LOOKUP_SPAM_JUNK	(5 * SPAM_MILLI)
#define LOOKUP_SPAM_REJECT	(15 * SPAM_MILLI)

struct lookup_spam {
	struct proc_self	*self;
	const struct conf	*conf;
	struct lookup_bayes	*bayes;
};

struct lookup_spam *
lookup_spam_new(struct proc_self *self, const struct conf *conf,
    struct lookup_bayes *bayes)
{
	struct lookup_spam	*ls = xcalloc(1, sizeof(*ls));

	ls->self = self;
	ls->conf = conf;
	ls->bayes = bayes;
	return ls;
}

void
lookup_spam_content(const struct conf *conf, const struct spam_features *f,
    double p, struct spam_score *out)
{
	(void)conf;
	(void)p;
	spam_score_merge(out, &f->rules);
}

enum spam_verdict
lookup_spam_decide(const struct conf *conf, int32_t total)
{
	(void)conf;
	if (total >= LOOKUP_SPAM_REJECT)
		return SPAM_REJECT;
	if (total >= LOOKUP_SPAM_JUNK)
		return SPAM_JUNK;
	return SPAM_INBOX;
}

void
lookup_spam_judge(struct lookup_spam *ls, struct msgauth *m,
    msgauth_done_cb done)
{
	char	pts[32];

	(void)ls;
	memset(&m->spam, 0, sizeof(m->spam));
	spam_score_merge(&m->spam, &m->spam_pre);
	lookup_spam_content(ls->conf, &m->spam_content, -1, &m->spam);
	m->spam_verdict = lookup_spam_decide(ls->conf, m->spam.total);
	spam_points_text(m->spam.total, pts, sizeof(pts));
	(void)buf_printf(&m->prepend, "X-Spam-Score: %s\r\nX-Spam-Status: "
	    "%s, score=%s tests=", pts, m->spam_verdict == SPAM_INBOX ?
	    "No" : "Yes", pts);
	(void)spam_score_format(&m->spam, &m->prepend);
	(void)buf_append_str(&m->prepend, "\r\n");
	done(m);
}

void
lookup_spam_ctl(struct lookup_spam *ls, uint64_t reqid, size_t argc,
    char **argv, struct msg *m)
{
	struct spam_features	 f;
	struct spam_score	 s = { 0 };
	char			 line[256], pts[32];
	size_t			 i;

	if (argc != 2 || strcmp(argv[1], "check") != 0) {
		proc_ctl_end(ls->self, reqid, 2, "usage: spam check FILE");
		return;
	}
	spam_features_init(&f);
	if (spam_features_get(m, &f) == -1 || msg_end(m) == -1) {
		spam_features_free(&f);
		proc_ctl_end(ls->self, reqid, 2, "malformed request");
		return;
	}
	lookup_spam_content(ls->conf, &f, -1, &s);
	spam_points_text(s.total, pts, sizeof(pts));
	(void)snprintf(line, sizeof(line), "score: %s", pts);
	proc_ctl_line(ls->self, reqid, line);
	(void)snprintf(line, sizeof(line), "verdict: %s",
	    spam_verdict_name(lookup_spam_decide(ls->conf, s.total)));
	proc_ctl_line(ls->self, reqid, line);
	for (i = 0; i < s.nhits; i++) {
		spam_points_text(s.hits[i].score, pts, sizeof(pts));
		(void)snprintf(line, sizeof(line), "%s %s %s", s.hits[i].name,
		    pts, s.hits[i].desc);
		proc_ctl_line(ls->self, reqid, line);
	}
	spam_features_free(&f);
	proc_ctl_end(ls->self, reqid, 0, NULL);
}
