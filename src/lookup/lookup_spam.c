/*
 * lookup_spam: the one verdict of the spam filter (issue 15), in the
 * lookup role.  Everything that judges a message adds points with a
 * reason to one struct spam_score (lib/spam.h):
 *
 *   - the pre-DATA score smtp sent (DNSBL, DNSWL, DNS checks, early
 *     talker: lookup_prescreen.h and smtp's own);
 *   - the sender authentication results of this message (SPF, DKIM,
 *     DMARC, ARC: lookup_spam_auth(), modest on purpose: a spammer with
 *     his own domain passes them all, a mailing list breaks DKIM);
 *   - the rules' hits smtp found in the content (spamrules.h);
 *   - the Bayes probability of the content's tokens (lookup_bayes.h),
 *     turned into points by buckets in the manner of SpamAssassin's
 *     BAYES_00..BAYES_99: strongly negative when the message looks like
 *     ham, strongly positive when it looks like spam, nothing while the
 *     database has not learnt both classes.
 *
 * `spam-reject` and `spam-junk` then decide: refuse at the end of DATA,
 * file into Junk, or the Inbox.  What reads the message bytes is not
 * here: lookup sees only the features the network-facing role computed,
 * re-checked by spam_features_get().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "lookup_bayes.h"
#include "lookup_spam.h"
#include "util.h"

/* RFC 5322 §2.1.1: lines SHOULD be at most 78 characters, CRLF apart. */
#define LOOKUP_SPAM_FOLD	78
/* Tests named in a refusal's text. */
#define LOOKUP_SPAM_REFUSAL_TESTS	3

struct lookup_spam {
	struct proc_self	*self;
	const struct conf	*conf;
	struct lookup_bayes	*bayes;
};

/*
 * The Bayes buckets: a probability below `below` scores `points`.  The
 * names follow SpamAssassin's BAYES_* rules, the points do not: they are
 * calibrated on bench/spam-crossval's held-out probabilities
 * (bench/README.md).  The combining keeps strong evidence only, so its
 * probability is not spread evenly: in that run everything from 0.5001
 * up was spam but 2 of 4,150 ham, the 0.49 to 0.5001 range (little or no
 * strong evidence: exactly 0.5 when there is none) held 48 spam and 6
 * ham, 0.4 to 0.49 12 spam and 15 ham.  So 0.5001 and over is junk on
 * Bayes alone; "no strong evidence" weighs 3 points, junk with two
 * points of rules; below 0.4 pulls rule hits back.  Before these points
 * (SpamAssassin's spread, 0.5 points from 0.4 to 0.6) the filter caught
 * 89.7 % of the spam at spam-junk 5 and 94.3 % at 0.1 % of the ham;
 * with them 97.1 % (2 ham) and 98.3 %, the same on either half of the
 * folds (97.2 % and 96.9 % at spam-junk 5).
 */
static const struct lookup_spam_bucket {
	double		 below;
	const char	*name;
	int32_t		 points;
	const char	*desc;
} lookup_spam_buckets[] = {
	{ 0.01, "BAYES_00", -3000, "Bayes spam probability is 0 to 1%" },
	{ 0.05, "BAYES_05", -1500, "Bayes spam probability is 1 to 5%" },
	{ 0.20, "BAYES_20", -500, "Bayes spam probability is 5 to 20%" },
	{ 0.40, "BAYES_40", 0, "Bayes spam probability is 20 to 40%" },
	{ 0.49, "BAYES_45", 1000, "Bayes spam probability is 40 to 49%" },
	{ 0.5001, "BAYES_50", 3000,
	    "Bayes spam probability is 49 to 50% (no strong evidence)" },
	{ 0.60, "BAYES_55", 5000, "Bayes spam probability is 50 to 60%" },
	{ 0.80, "BAYES_60", 5500, "Bayes spam probability is 60 to 80%" },
	{ 0.95, "BAYES_80", 6000, "Bayes spam probability is 80 to 95%" },
	{ 0.99, "BAYES_95", 6500, "Bayes spam probability is 95 to 99%" },
	{ 0.999, "BAYES_99", 7000,
	    "Bayes spam probability is 99 to 99.9%" },
	{ 2.0, "BAYES_999", 7500,
	    "Bayes spam probability is 99.9 to 100%" },
};

/*
 * Sender authentication as points.  Small: these say who sent the
 * message, not whether it is wanted; the exceptions are a domain owner
 * saying "not from here" (SPF fail) and a DMARC policy that would have
 * refused or quarantined the message had it been enforced.
 */
#define LOOKUP_SPAM_SPF_FAIL		2000	/* RFC 7208 §8.4 */
#define LOOKUP_SPAM_SPF_SOFTFAIL	1000	/* §8.5 */
#define LOOKUP_SPAM_SPF_PERMERROR	500	/* §8.7: a broken record */
#define LOOKUP_SPAM_DKIM_ALIGNED	(-500)	/* a pass for From:'s domain */
#define LOOKUP_SPAM_DKIM_INVALID	300	/* signatures, none passed */
#define LOOKUP_SPAM_DMARC_PASS		(-500)
#define LOOKUP_SPAM_DMARC_NO_REJECT	2000	/* p=reject, not enforced */
#define LOOKUP_SPAM_DMARC_NO_QUAR	1500	/* p=quarantine, not enforced */
#define LOOKUP_SPAM_ARC_TRUSTED		(-500)	/* a sealer we trust */
#define LOOKUP_SPAM_ARC_FAIL		300

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

/*
 * d is from's domain or shares its organisational domain org (RFC 7489
 * §3.1.1 relaxed alignment): equal, or either one under org.
 */
static bool
lookup_spam_aligned(const char *from, const char *org, const char *d)
{
	size_t	dl, ol;

	if (from[0] == '\0' || d[0] == '\0')
		return false;
	if (strcasecmp(from, d) == 0)
		return true;
	if (org[0] == '\0')
		return false;
	dl = strlen(d);
	ol = strlen(org);
	return strcasecmp(d, org) == 0 || (dl > ol && d[dl - ol - 1] == '.' &&
	    strcasecmp(d + dl - ol, org) == 0);
}

void
lookup_spam_auth(const struct msgauth *m, struct spam_score *out)
{
	const struct msgauth_dmarc	*dm = &m->dmarc;
	size_t				 i, n;
	bool				 aligned = false, pass = false;

	switch (m->spf) {
	case SPF_FAIL:
		spam_score_add(out, "SPF_FAIL", LOOKUP_SPAM_SPF_FAIL,
		    "SPF: the sender's domain does not allow this client");
		break;
	case SPF_SOFTFAIL:
		spam_score_add(out, "SPF_SOFTFAIL", LOOKUP_SPAM_SPF_SOFTFAIL,
		    "SPF: the sender's domain probably does not allow this "
		    "client");
		break;
	case SPF_PERMERROR:
		spam_score_add(out, "SPF_PERMERROR", LOOKUP_SPAM_SPF_PERMERROR,
		    "SPF: the sender's domain has a broken record");
		break;
	default:
		break;
	}

	n = m->ndkim < MSGAUTH_SIGS_MAX ? m->ndkim : MSGAUTH_SIGS_MAX;
	/* cppcheck-suppress knownConditionTrueFalse ; n is the signatures' count */
	for (i = 0; i < n; i++) {
		if (m->dkim[i].result != MSGAUTH_DKIM_PASS)
			continue;
		pass = true;
		if (lookup_spam_aligned(dm->from_domain, dm->org_domain,
		    m->dkim[i].domain))
			aligned = true;
	}
	if (aligned)
		spam_score_add(out, "DKIM_VALID_AU", LOOKUP_SPAM_DKIM_ALIGNED,
		    "DKIM: a valid signature of the From: domain");
	/* cppcheck-suppress knownConditionTrueFalse ; as above */
	else if (n > 0 && !pass)
		spam_score_add(out, "DKIM_INVALID", LOOKUP_SPAM_DKIM_INVALID,
		    "DKIM: signed, but no signature verifies");

	if (dm->result == MSGAUTH_DMARC_PASS)
		spam_score_add(out, "DMARC_PASS", LOOKUP_SPAM_DMARC_PASS,
		    "DMARC: the From: domain's policy passed");
	else if (dm->result == MSGAUTH_DMARC_FAIL && !dm->arc_override &&
	    dm->disposition == MSGAUTH_POLICY_NONE) {
		/*
		 * RFC 7489 §6.6.4, §7.2: the owner asked for refusal or
		 * quarantine, and pct= or `dmarc-policy report-only` let it
		 * through; a trusted ARC chain is a reason, not a downgrade.
		 */
		if (dm->policy == MSGAUTH_POLICY_REJECT)
			spam_score_add(out, "DMARC_REJECT_NOT_ENFORCED",
			    LOOKUP_SPAM_DMARC_NO_REJECT, "DMARC: fails a "
			    "p=reject policy that was not enforced");
		else if (dm->policy == MSGAUTH_POLICY_QUARANTINE)
			spam_score_add(out, "DMARC_QUARANTINE_NOT_ENFORCED",
			    LOOKUP_SPAM_DMARC_NO_QUAR, "DMARC: fails a "
			    "p=quarantine policy that was not enforced");
	}

	if (m->arc.result == MSGAUTH_ARC_PASS && m->arc.trusted)
		spam_score_add(out, "ARC_TRUSTED", LOOKUP_SPAM_ARC_TRUSTED,
		    "ARC: a valid chain sealed by a trusted forwarder");
	else if (m->arc.result == MSGAUTH_ARC_FAIL)
		spam_score_add(out, "ARC_INVALID", LOOKUP_SPAM_ARC_FAIL,
		    "ARC: a chain that does not verify");
}

void
lookup_spam_content(const struct conf *conf, const struct spam_features *f,
    double p, struct spam_score *out)
{
	const struct lookup_spam_bucket	*b;
	size_t				 i, n;

	(void)conf;
	spam_score_merge(out, &f->rules);
	/* p < 0: untrained; NaN compares false everywhere: no opinion */
	if (!(p >= 0.0 && p <= 1.0))
		return;
	n = sizeof(lookup_spam_buckets) / sizeof(lookup_spam_buckets[0]);
	for (i = 0; i < n; i++) {
		b = &lookup_spam_buckets[i];
		if (p < b->below || i == n - 1) {
			spam_score_add(out, b->name, b->points, b->desc);
			return;
		}
	}
}

enum spam_verdict
lookup_spam_decide(const struct conf *conf, int32_t total)
{
	if (!conf->spam)
		return SPAM_INBOX;
	if (conf->spam_reject != CONF_SPAM_NEVER && total >= conf->spam_reject)
		return SPAM_REJECT;
	if (total >= conf->spam_junk)
		return SPAM_JUNK;
	return SPAM_INBOX;
}

int
lookup_spam_fields(const struct conf *conf, const struct spam_score *s,
    enum spam_verdict v, struct buf *out)
{
	char	pts[32], req[32], item[SPAM_NAME_MAX + 40];
	size_t	i, col;
	int	n;

	spam_points_text(s->total, pts, sizeof(pts));
	spam_points_text(conf->spam_junk, req, sizeof(req));
	if (buf_printf(out, "X-Spam-Score: %s\r\n", pts) == -1)
		return -1;
	n = snprintf(item, sizeof(item), "X-Spam-Status: %s, score=%s "
	    "required=%s tests=", v == SPAM_INBOX ? "No" : "Yes", pts, req);
	if (n < 0 || (size_t)n >= sizeof(item) ||
	    buf_append(out, item, (size_t)n) == -1)
		return -1;
	col = (size_t)n;
	if (s->nhits == 0)
		return buf_append_str(out, "none\r\n");
	for (i = 0; i < s->nhits; i++) {
		spam_points_text(s->hits[i].score, pts, sizeof(pts));
		n = snprintf(item, sizeof(item), "%s=%s%s", s->hits[i].name,
		    pts, i + 1 < s->nhits ? "," : "");
		if (n < 0 || (size_t)n >= sizeof(item))
			return -1;
		/* RFC 5322 §2.2.3: fold before the item that would not fit */
		if (col + (size_t)n >= LOOKUP_SPAM_FOLD) {
			if (buf_append_str(out, "\r\n\t") == -1)
				return -1;
			col = 1;
		}
		if (buf_append(out, item, (size_t)n) == -1)
			return -1;
		col += (size_t)n;
	}
	return buf_append_str(out, "\r\n");
}

void
lookup_spam_refusal(const struct conf *conf, const struct spam_score *s,
    char *out, size_t outsz)
{
	const struct spam_hit	*top[LOOKUP_SPAM_REFUSAL_TESTS];
	char			 pts[32], req[32];
	size_t			 i, j, k, ntop = 0, o;
	int			 n;

	/* the few tests that weighed most, in order */
	for (i = 0; i < s->nhits; i++) {
		if (s->hits[i].score <= 0)
			continue;
		for (j = 0; j < ntop && top[j]->score >= s->hits[i].score; j++)
			;
		if (j == LOOKUP_SPAM_REFUSAL_TESTS)
			continue;
		if (ntop < LOOKUP_SPAM_REFUSAL_TESTS)
			ntop++;
		for (k = ntop - 1; k > j; k--)
			top[k] = top[k - 1];
		top[j] = &s->hits[i];
	}
	spam_points_text(s->total, pts, sizeof(pts));
	spam_points_text(conf->spam_reject, req, sizeof(req));
	n = snprintf(out, outsz, "Message refused as spam (score %s, limit "
	    "%s%s", pts, req, ntop > 0 ? ": " : "");
	o = n < 0 ? 0 : (size_t)n < outsz ? (size_t)n : outsz - 1;
	for (i = 0; i < ntop && o + 1 < outsz; i++) {
		n = snprintf(out + o, outsz - o, "%s%s", i > 0 ? ", " : "",
		    top[i]->name);
		o = n < 0 ? o : o + (size_t)n < outsz ? o + (size_t)n :
		    outsz - 1;
	}
	if (o + 1 < outsz)
		(void)snprintf(out + o, outsz - o, ")");
}

static char
lookup_spam_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Whose Bayes counts judge m on top of the server's: with
 * `spam-bayes-per-user`, the one recipient's when there is exactly one
 * and it is of our domains, in the form a user's name has (the domain
 * in lower case, the local part too unless `local-part-case sensitive`,
 * a +tag cut off at the first `recipient-delimiter` character); else ""
 * (the server's alone).  An alias is not followed: mail to it is judged
 * by the server's counts.
 */
void
lookup_spam_user(const struct conf *conf, const struct msgauth *m,
    char *out, size_t outsz)
{
	const char	*rcpt, *at;
	size_t		 i, cut, n;

	out[0] = '\0';
	if (!conf->spam_bayes_per_user || m->nrcpts != 1)
		return;
	rcpt = m->rcpts[0];
	if ((at = strrchr(rcpt, '@')) == NULL || at == rcpt ||
	    !conf_is_local_domain(conf, at + 1))
		return;
	cut = (size_t)(at - rcpt);
	for (i = 1; i < cut; i++)
		if (strchr(conf->delivery.delimiters, rcpt[i]) != NULL) {
			cut = i;
			break;
		}
	n = cut + strlen(at);
	if (n >= outsz)
		return;
	for (i = 0; i < cut; i++)
		out[i] = conf->delivery.case_sensitive ? rcpt[i] :
		    lookup_spam_lower(rcpt[i]);
	for (i = 0; at[i] != '\0'; i++)
		out[cut + i] = lookup_spam_lower(at[i]);
	out[n] = '\0';
}

void
lookup_spam_judge(struct lookup_spam *ls, struct msgauth *m,
    msgauth_done_cb done)
{
	char	user[MSGAUTH_USER_MAX + 1], tests[512];
	double	p = -1;
	struct buf b;

	memset(&m->spam, 0, sizeof(m->spam));
	m->spam_verdict = SPAM_INBOX;
	if (!ls->conf->spam) {
		done(m);
		return;
	}
	spam_score_merge(&m->spam, &m->spam_pre);
	lookup_spam_auth(m, &m->spam);
	lookup_spam_user(ls->conf, m, user, sizeof(user));
	if (lookup_bayes_classify(ls->bayes, user, &m->spam_content.tokens,
	    &p) == -1)
		p = -1;
	lookup_spam_content(ls->conf, &m->spam_content, p, &m->spam);
	m->spam_verdict = lookup_spam_decide(ls->conf, m->spam.total);
	if (m->kind == MSGAUTH_MX)	/* the verdict decides nothing else */
		metrics_inc(METRICS_SPAM, (unsigned)m->spam_verdict);
	if (lookup_spam_fields(ls->conf, &m->spam, m->spam_verdict,
	    &m->prepend) == -1)
		log_warnx("id=%s event=spam reason=\"no room for "
		    "X-Spam-Status\"", m->queue_id);
	buf_init(&b, sizeof(tests) - 1);
	(void)spam_score_format(&m->spam, &b);
	log_debug("id=%s event=spam bayes=%.4f user=%s tests=%s",
	    m->queue_id, p, user[0] != '\0' ? user : "-",
	    b.len > 0 ? b.data : "none");
	buf_free(&b);
	done(m);
}

void
lookup_spam_ctl(struct lookup_spam *ls, uint64_t reqid, size_t argc,
    char **argv, struct msg *m)
{
	struct spam_features	 f;
	struct spam_score	 s;
	char			 line[256], pts[32];
	const char		*user = argc == 3 ? argv[2] : "";
	double			 p = -1;
	size_t			 i;

	if ((argc != 2 && argc != 3) || strcmp(argv[1], "check") != 0) {
		proc_ctl_end(ls->self, reqid, 2, "usage: spam check FILE "
		    "[USER]");
		return;
	}
	spam_features_init(&f);
	if (spam_features_get(m, &f) == -1 || msg_end(m) == -1) {
		spam_features_free(&f);
		proc_ctl_end(ls->self, reqid, 2, "malformed request");
		return;
	}
	memset(&s, 0, sizeof(s));
	if (lookup_bayes_classify(ls->bayes, user, &f.tokens, &p) == -1)
		p = -1;
	lookup_spam_content(ls->conf, &f, p, &s);
	spam_points_text(s.total, pts, sizeof(pts));
	(void)snprintf(line, sizeof(line), "score: %s", pts);
	proc_ctl_line(ls->self, reqid, line);
	(void)snprintf(line, sizeof(line), "verdict: %s",
	    spam_verdict_name(lookup_spam_decide(ls->conf, s.total)));
	proc_ctl_line(ls->self, reqid, line);
	for (i = 0; i < s.nhits; i++) {
		spam_points_text(s.hits[i].score, pts, sizeof(pts));
		(void)snprintf(line, sizeof(line), "%-24s %7s  %s",
		    s.hits[i].name, pts, s.hits[i].desc);
		proc_ctl_line(ls->self, reqid, line);
	}
	spam_features_free(&f);
	proc_ctl_end(ls->self, reqid, 0, NULL);
}
