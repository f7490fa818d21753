/*
 * lookup_msgauth: see lookup_msgauth.h.  The orchestrator of msgauth.h:
 * it reads MSG_LOOKUP_MESSAGE (smtp) and MSG_LOOKUP_SIGN (queue), runs
 * the steps over one struct msgauth, each module calling back when its
 * part is done, writes Authentication-Results (RFC 8601) and answers.
 *
 *   MX:                 dkim verify -> arc verify -> dmarc -> report row
 *                       -> Authentication-Results -> arc seal -> verdict
 *   SUBMISSION, LOCAL:  dkim sign -> accept
 *   SIGN (queue):       dkim sign -> the fields
 *
 * An answer for a peer that went away since it asked (its channel's
 * generation moved on) is dropped, as lookup.c's other answers are.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "lookup_msgauth.h"
#include "lookup_spam.h"
#include "msgauth.h"
#include "util.h"

#define MSGAUTH_AR_WIDTH	78	/* folded lines stay under this */

enum lookup_msgauth_step {
	LOOKUP_MSGAUTH_DKIM,
	LOOKUP_MSGAUTH_ARC,
	LOOKUP_MSGAUTH_DMARC,
	LOOKUP_MSGAUTH_SPAM,
	LOOKUP_MSGAUTH_SEAL,
	LOOKUP_MSGAUTH_ANSWER,
	LOOKUP_MSGAUTH_SIGN,		/* submission, local */
	LOOKUP_MSGAUTH_SIGN_QUEUE,	/* MSG_LOOKUP_SIGN */
};

struct lookup_msgauth {
	struct proc_self	*self;
	const struct conf	*conf;
	struct msgauth_modules	 mod;
	uint64_t		 gen[PROC_COUNT][PROC_WORKERS_MAX];
	/* verdicts since start, for the logs */
	uint64_t		 accepted;
	uint64_t		 junked;
	uint64_t		 rejected;
};

static void	lookup_msgauth_next(struct msgauth *);

static const char *const msgauth_dkim_names[] = {
	"pass", "fail", "neutral", "policy", "temperror", "permerror",
};
static const char *const msgauth_arc_names[] = { "none", "pass", "fail" };
static const char *const msgauth_dmarc_names[] = {
	"none", "pass", "fail", "temperror", "permerror",
};
static const char *const msgauth_policy_names[] = {
	"none", "quarantine", "reject",
};

struct lookup_msgauth *
lookup_msgauth_new(struct proc_self *self, const struct conf *conf,
    const struct msgauth_modules *mod)
{
	struct lookup_msgauth	*la = xcalloc(1, sizeof(*la));

	la->self = self;
	la->conf = conf;
	la->mod = *mod;
	return la;
}

void
lookup_msgauth_peer_change(struct lookup_msgauth *la, struct proc_peer p)
{
	/* called from peer_up too, maybe before lookup_main() made us */
	if (la != NULL && (unsigned)p.id < PROC_COUNT &&
	    p.worker < PROC_WORKERS_MAX)
		la->gen[p.id][p.worker]++;
}

static struct msgauth *
lookup_msgauth_alloc(struct lookup_msgauth *la, struct proc_peer from)
{
	struct msgauth	*m = xcalloc(1, sizeof(*m));

	if ((unsigned)from.id >= PROC_COUNT ||
	    from.worker >= PROC_WORKERS_MAX)
		fatalx("lookup: msgauth from a peer out of range");
	m->from = from;
	m->gen = la->gen[from.id][from.worker];
	m->arg = la;
	buf_init(&m->prepend, MSGAUTH_PREPEND_MAX);
	spam_features_init(&m->spam_content);
	return m;
}

static bool
lookup_msgauth_gone(const struct lookup_msgauth *la, const struct msgauth *m)
{
	return m->gen != la->gen[m->from.id][m->from.worker];
}

/* --- reading the requests ---------------------------------------------- */

static void __attribute__((noreturn))
lookup_msgauth_bad(struct msg *msg, const char *why)
{
	fatalx("lookup: bad %s: %s", msg_name(msg->type), why);
}

/* A data field of at most max octets, copied with a NUL after it. */
static char *
lookup_msgauth_data(struct msg *msg, size_t max, size_t *len_out)
{
	struct span	 sp;
	char		*p;

	if (msg_get_span(msg, &sp) == -1 || sp.len > max)
		lookup_msgauth_bad(msg, "data");
	p = xmalloc(sp.len + 1);
	memcpy(p, sp.ptr, sp.len);
	p[sp.len] = '\0';
	*len_out = sp.len;
	return p;
}

/* MSG_LOOKUP_MESSAGE (msgauth.h has the layout); a sibling's, strict. */
static void
lookup_msgauth_read(struct msg *msg, struct msgauth *m)
{
	struct msgauth_bh	*bh;
	struct span		 sp;
	uint32_t		 u, n, i, canon, hash;

	if (msg_get_u64(msg, &m->reqid) == -1 || msg_get_u32(msg, &u) == -1 ||
	    u > MSGAUTH_LOCAL)
		lookup_msgauth_bad(msg, "kind");
	m->kind = (enum msgauth_kind)u;
	if (msg_get_str(msg, m->ip, sizeof(m->ip)) == -1 ||
	    msg_get_str(msg, m->helo, sizeof(m->helo)) == -1 ||
	    msg_get_str(msg, m->mailfrom, sizeof(m->mailfrom)) == -1 ||
	    msg_get_str(msg, m->user, sizeof(m->user)) == -1 ||
	    msg_get_str(msg, m->queue_id, sizeof(m->queue_id)) == -1)
		lookup_msgauth_bad(msg, "strings");
	if (msg_get_u32(msg, &u) == -1 || u >= SPF_RESULT_COUNT ||
	    msg_get_str(msg, m->spf_identity, sizeof(m->spf_identity)) == -1 ||
	    msg_get_str(msg, m->spf_domain, sizeof(m->spf_domain)) == -1 ||
	    msg_get_str(msg, m->spf_reason, sizeof(m->spf_reason)) == -1)
		lookup_msgauth_bad(msg, "spf");
	m->spf = (enum spf_result)u;
	if (msg_get_u32(msg, &n) == -1 || n > MSGAUTH_RCPTS_MAX ||
	    n > (msg->data.len - msg->pos) / 4)
		lookup_msgauth_bad(msg, "recipient count");
	m->rcpts = xcalloc(n > 0 ? n : 1, sizeof(*m->rcpts));
	for (i = 0; i < n; i++) {
		if (msg_get_strdup(msg, MAILADDR_PATH_MAX, &m->rcpts[i]) == -1)
			lookup_msgauth_bad(msg, "recipient");
		m->nrcpts++;
	}
	m->hdrs = lookup_msgauth_data(msg, MSGAUTH_HDRS_MAX, &m->hdrlen);
	if (msg_get_u32(msg, &u) == -1 || u > 1 ||
	    msg_get_u64(msg, &m->bodylen) == -1 ||
	    msg_get_u32(msg, &n) == -1 || n > MSGAUTH_BH_MAX)
		lookup_msgauth_bad(msg, "body");
	m->hdrs_truncated = u != 0;
	for (i = 0; i < n; i++) {
		bh = &m->bh[i];
		if (msg_get_u32(msg, &canon) == -1 ||
		    canon > DKIM_CANON_RELAXED ||
		    msg_get_u32(msg, &hash) == -1 || hash > DKIM_HASH_SHA1 ||
		    msg_get_u64(msg, &bh->limit) == -1 ||
		    msg_get_u64(msg, &bh->hashed) == -1 ||
		    msg_get_span(msg, &sp) == -1 ||
		    sp.len > sizeof(bh->digest))
			lookup_msgauth_bad(msg, "body hash");
		bh->canon = (enum dkim_canon)canon;
		bh->hash = (enum dkim_hash)hash;
		memcpy(bh->digest, sp.ptr, sp.len);
		bh->digestlen = sp.len;
		m->nbh++;
	}
	if (spam_score_get(msg, &m->spam_pre) == -1 ||
	    spam_features_get(msg, &m->spam_content) == -1)
		lookup_msgauth_bad(msg, "spam");
	if (msg_end(msg) == -1)
		lookup_msgauth_bad(msg, "trailing bytes");
}

/* --- Authentication-Results (RFC 8601) ---------------------------------- */

/* RFC 2045 §5.1 token octets. */
static bool
msgauth_tchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/*
 * A pvalue (§2.2): as it is when it is a token, or [local-part] "@"
 * domain of token-ish octets; else a quoted-string.  Control octets are
 * dropped: the value is someone else's text.
 */
static int
msgauth_ar_value(struct buf *out, const char *v, bool addr)
{
	const unsigned char	*p;
	bool			 plain = v[0] != '\0';
	size_t			 ats = 0;
	int			 rc = 0;

	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (addr && *p == '@' && ats++ == 0)
			continue;
		if (!msgauth_tchar(*p))
			plain = false;
	}
	if (plain)
		return buf_append_str(out, v);
	rc |= buf_append_char(out, '"');
	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			continue;
		if (*p == '"' || *p == '\\')
			rc |= buf_append_char(out, '\\');
		rc |= buf_append_char(out, (char)*p);
	}
	rc |= buf_append_char(out, '"');
	return rc;
}

/*
 * Lay out the words of the resinfos: each resinfo starts a line, a word
 * that would pass the width goes on a folded line of its own (RFC 5322
 * §2.2.3).
 */
struct msgauth_ar {
	struct buf	*out;
	size_t		 col;		/* of the line being written */
	int		 rc;
};

static void
msgauth_ar_put(struct msgauth_ar *ar, const struct buf *w, bool first)
{
	if (first) {
		ar->rc |= buf_append_str(ar->out, ";\r\n\t");
		ar->col = 8;
	} else if (ar->col + 1 + w->len < MSGAUTH_AR_WIDTH) {
		ar->rc |= buf_append_char(ar->out, ' ');
		ar->col++;
	} else {
		ar->rc |= buf_append_str(ar->out, "\r\n\t");
		ar->col = 8;
	}
	ar->rc |= buf_append(ar->out, w->data != NULL ? w->data : "", w->len);
	ar->col += w->len;
}

/* "key=value", or the value alone (a methodspec) when key is NULL. */
static void
msgauth_ar_word(struct msgauth_ar *ar, const char *key, const char *val,
    bool addr, bool first)
{
	struct buf	w;

	buf_init(&w, 1024);
	if (key != NULL) {
		ar->rc |= buf_printf(&w, "%s=", key);
		ar->rc |= msgauth_ar_value(&w, val, addr);
	} else
		ar->rc |= buf_append_str(&w, val);
	msgauth_ar_put(ar, &w, first);
	buf_free(&w);
}

/* A comment, "(text)", its text made safe for one (RFC 5322 §3.2.2). */
static void
msgauth_ar_comment(struct msgauth_ar *ar, const char *text)
{
	struct buf	w;
	size_t		i;

	buf_init(&w, 1024);
	ar->rc |= buf_append_char(&w, '(');
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] >= 0x20 && text[i] != 0x7f &&
		    text[i] != '(' && text[i] != ')' && text[i] != '\\')
			ar->rc |= buf_append_char(&w, text[i]);
	ar->rc |= buf_append_char(&w, ')');
	msgauth_ar_put(ar, &w, false);
	buf_free(&w);
}

static void
msgauth_ar_reason(struct msgauth_ar *ar, const char *reason)
{
	if (reason[0] != '\0')
		msgauth_ar_word(ar, "reason", reason, false, false);
}

int
lookup_msgauth_authres(const struct msgauth *m, const char *authserv_id,
    struct buf *out)
{
	struct msgauth_ar		 ar = { out, 0, 0 };
	const struct msgauth_dkim	*d;
	const struct msgauth_dmarc	*dm = &m->dmarc;
	char				 method[32];
	size_t				 start = out->len, i;

	ar.rc |= buf_append_str(out, "Authentication-Results: ");
	ar.rc |= msgauth_ar_value(out, authserv_id, false);
	/* spf (RFC 7208 §9.1): smtp.mailfrom, or smtp.helo for <> */
	(void)snprintf(method, sizeof(method), "spf=%s",
	    spf_result_name(m->spf));
	msgauth_ar_word(&ar, NULL, method, false, true);
	if (m->spf_reason[0] != '\0')
		msgauth_ar_comment(&ar, m->spf_reason);
	if (m->mailfrom[0] != '\0' && strcmp(m->spf_identity, "helo") != 0)
		msgauth_ar_word(&ar, "smtp.mailfrom", m->mailfrom, true, false);
	else if (m->helo[0] != '\0')
		msgauth_ar_word(&ar, "smtp.helo", m->helo, true, false);
	/* dkim (RFC 6376 §7.1, RFC 6008 for header.b) */
	if (m->ndkim == 0)
		msgauth_ar_word(&ar, NULL, "dkim=none", false, true);
	for (i = 0; i < m->ndkim && i < MSGAUTH_SIGS_MAX; i++) {
		d = &m->dkim[i];
		(void)snprintf(method, sizeof(method), "dkim=%s",
		    (unsigned)d->result < sizeof(msgauth_dkim_names) /
		    sizeof(msgauth_dkim_names[0]) ?
		    msgauth_dkim_names[d->result] : "permerror");
		msgauth_ar_word(&ar, NULL, method, false, true);
		msgauth_ar_reason(&ar, d->reason);
		if (d->domain[0] != '\0')
			msgauth_ar_word(&ar, "header.d", d->domain, true,
			    false);
		if (d->selector[0] != '\0')
			msgauth_ar_word(&ar, "header.s", d->selector, false,
			    false);
		if (d->algo[0] != '\0')
			msgauth_ar_word(&ar, "header.a", d->algo, false,
			    false);
		if (d->b[0] != '\0')
			msgauth_ar_word(&ar, "header.b", d->b, false, false);
	}
	/* dmarc (RFC 7489 §11.2) */
	(void)snprintf(method, sizeof(method), "dmarc=%s",
	    (unsigned)dm->result < sizeof(msgauth_dmarc_names) /
	    sizeof(msgauth_dmarc_names[0]) ?
	    msgauth_dmarc_names[dm->result] : "permerror");
	msgauth_ar_word(&ar, NULL, method, false, true);
	msgauth_ar_reason(&ar, dm->reason);
	if (dm->from_domain[0] != '\0') {
		msgauth_ar_word(&ar, "header.from", dm->from_domain, true,
		    false);
		if (dm->result != MSGAUTH_DMARC_NONE &&
		    (unsigned)dm->policy <= MSGAUTH_POLICY_REJECT)
			msgauth_ar_word(&ar, "policy.dmarc",
			    msgauth_policy_names[dm->policy], false, false);
	}
	/* arc (RFC 8617 §10.1) */
	(void)snprintf(method, sizeof(method), "arc=%s",
	    (unsigned)m->arc.result <= MSGAUTH_ARC_FAIL ?
	    msgauth_arc_names[m->arc.result] : "fail");
	msgauth_ar_word(&ar, NULL, method, false, true);
	msgauth_ar_reason(&ar, m->arc.reason);
	ar.rc |= buf_append_str(out, "\r\n");
	if (ar.rc != 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}

/* --- the steps ------------------------------------------------------------ */

static void
lookup_msgauth_log(struct lookup_msgauth *la, const struct msgauth *m,
    const char *verdict)
{
	char	dkim[128], spam[48];
	size_t	i, o = 0, o2;

	dkim[0] = '\0';
	for (i = 0; i < m->ndkim && i < MSGAUTH_SIGS_MAX && o < 100; i++)
		o += (size_t)snprintf(dkim + o, sizeof(dkim) - o, "%s%s",
		    i > 0 ? "," : "", (unsigned)m->dkim[i].result <
		    sizeof(msgauth_dkim_names) /
		    sizeof(msgauth_dkim_names[0]) ?
		    msgauth_dkim_names[m->dkim[i].result] : "?");
	/* the spam score and its verdict, where one was made */
	if (m->kind != MSGAUTH_MX)
		(void)str_copy(spam, sizeof(spam), "-");
	else if (!la->conf->spam)
		(void)str_copy(spam, sizeof(spam), "off");
	else {
		spam_points_text(m->spam.total, spam, sizeof(spam));
		o2 = strlen(spam);
		(void)snprintf(spam + o2, sizeof(spam) - o2, " spam-verdict=%s",
		    spam_verdict_name(m->spam_verdict));
	}
	log_info("id=%s event=msgauth kind=%s spf=%s dkim=%s dmarc=%s "
	    "from-domain=%s arc=%s spam=%s verdict=%s accepted=%" PRIu64
	    " junked=%" PRIu64 " rejected=%" PRIu64, m->queue_id,
	    m->kind == MSGAUTH_MX ? "mx" : m->kind == MSGAUTH_SUBMISSION ?
	    "submission" : "local", spf_result_name(m->spf),
	    o > 0 ? dkim : "none",
	    (unsigned)m->dmarc.result < sizeof(msgauth_dmarc_names) /
	    sizeof(msgauth_dmarc_names[0]) ?
	    msgauth_dmarc_names[m->dmarc.result] : "?",
	    m->dmarc.from_domain[0] != '\0' ? m->dmarc.from_domain : "-",
	    (unsigned)m->arc.result <= MSGAUTH_ARC_FAIL ?
	    msgauth_arc_names[m->arc.result] : "?", spam, verdict,
	    la->accepted, la->junked, la->rejected);
}

/* The verdict from the DMARC disposition (RFC 7489 §6.6.2). */
static void
lookup_msgauth_verdict(struct lookup_msgauth *la, struct msgauth *m)
{
	const char	*verdict = "accept";

	if (m->kind == MSGAUTH_MX &&
	    m->dmarc.disposition == MSGAUTH_POLICY_REJECT) {
		m->code = 550;
		(void)str_copy(m->enh, sizeof(m->enh), "5.7.1");
		(void)snprintf(m->text, sizeof(m->text), "Rejected by the "
		    "DMARC policy of %.200s", m->dmarc.from_domain);
		la->rejected++;
		verdict = "reject";
	} else if (m->kind == MSGAUTH_MX &&
	    m->spam_verdict == SPAM_REJECT) {
		m->code = 550;
		(void)str_copy(m->enh, sizeof(m->enh), "5.7.1");
		lookup_spam_refusal(la->conf, &m->spam, m->text,
		    sizeof(m->text));
		la->rejected++;
		verdict = "reject";
	} else if (m->kind == MSGAUTH_MX &&
	    (m->dmarc.disposition == MSGAUTH_POLICY_QUARANTINE ||
	    m->spam_verdict == SPAM_JUNK)) {
		m->flags |= MSGAUTH_F_JUNK;
		la->junked++;
		verdict = "junk";
	} else
		la->accepted++;
	lookup_msgauth_log(la, m, verdict);
}

static void
lookup_msgauth_answer(struct lookup_msgauth *la, struct msgauth *m)
{
	struct msg	*a;

	if (lookup_msgauth_gone(la, m)) {
		msgauth_free(m);
		return;
	}
	if (m->step == LOOKUP_MSGAUTH_SIGN_QUEUE) {
		a = msg_new(MSG_LOOKUP_SIGN_RESULT);
		msg_put_u64(a, m->reqid);
		msg_put_data(a, m->prepend.data, m->prepend.len);
	} else {
		a = msg_new(MSG_LOOKUP_MESSAGE_RESULT);
		msg_put_u64(a, m->reqid);
		msg_put_u32(a, m->code);
		msg_put_str(a, m->code != 0 ? m->enh : "");
		msg_put_str(a, m->code != 0 ? m->text : "");
		msg_put_u32(a, m->flags);
		msg_put_data(a, m->prepend.data, m->prepend.len);
	}
	(void)proc_send_peer(la->self, m->from, a);
	msgauth_free(m);
}

/* A module's done(): on to the next step. */
static void
lookup_msgauth_next(struct msgauth *m)
{
	struct lookup_msgauth	*la = m->arg;

	switch (m->step) {
	case LOOKUP_MSGAUTH_DKIM:
		m->step = LOOKUP_MSGAUTH_ARC;
		lookup_arc_verify(la->mod.arc, m, lookup_msgauth_next);
		break;
	case LOOKUP_MSGAUTH_ARC:
		m->step = LOOKUP_MSGAUTH_DMARC;
		lookup_dmarc_evaluate(la->mod.dmarc, m, lookup_msgauth_next);
		break;
	case LOOKUP_MSGAUTH_DMARC:
		lookup_dmarcrep_record(la->mod.dmarcrep, m);
		if (lookup_msgauth_authres(m, la->conf->hostname,
		    &m->prepend) == -1)
			log_warnx("id=%s event=msgauth reason=\"no room for "
			    "Authentication-Results\"", m->queue_id);
		/* X-Spam-* go under the Authentication-Results field */
		m->step = LOOKUP_MSGAUTH_SPAM;
		lookup_spam_judge(la->mod.spam, m, lookup_msgauth_next);
		break;
	case LOOKUP_MSGAUTH_SPAM:
		m->step = LOOKUP_MSGAUTH_SEAL;
		lookup_arc_seal(la->mod.arc, m, lookup_msgauth_next);
		break;
	case LOOKUP_MSGAUTH_SEAL:
	case LOOKUP_MSGAUTH_SIGN:
		m->step = LOOKUP_MSGAUTH_ANSWER;
		lookup_msgauth_verdict(la, m);
		lookup_msgauth_answer(la, m);
		break;
	case LOOKUP_MSGAUTH_SIGN_QUEUE:
		lookup_msgauth_answer(la, m);
		break;
	default:
		fatalx("lookup: msgauth step %d", m->step);
	}
}

void
lookup_msgauth_request(struct lookup_msgauth *la, struct proc_peer from,
    struct msg *msg)
{
	struct msgauth	*m = lookup_msgauth_alloc(la, from);

	lookup_msgauth_read(msg, m);
	if (m->kind == MSGAUTH_MX) {
		m->step = LOOKUP_MSGAUTH_DKIM;
		lookup_dkim_verify(la->mod.dkim, m, lookup_msgauth_next);
	} else {
		m->step = LOOKUP_MSGAUTH_SIGN;
		lookup_dkimsign_sign(la->mod.dkimsign, m, lookup_msgauth_next);
	}
}

/* MSG_LOOKUP_SIGN (msgauth.h has the layout). */
void
lookup_msgauth_sign(struct lookup_msgauth *la, struct proc_peer from,
    struct msg *msg)
{
	struct msgauth		*m = lookup_msgauth_alloc(la, from);
	struct msgauth_bh	*bh = &m->bh[0];
	struct span		 sp;

	m->kind = MSGAUTH_LOCAL;
	if (msg_get_u64(msg, &m->reqid) == -1 ||
	    msg_get_str(msg, m->mailfrom, sizeof(m->mailfrom)) == -1)
		lookup_msgauth_bad(msg, "mail from");
	m->hdrs = lookup_msgauth_data(msg, MSGAUTH_HDRS_MAX, &m->hdrlen);
	if (msg_get_u64(msg, &m->bodylen) == -1 ||
	    msg_get_span(msg, &sp) == -1 || sp.len > sizeof(bh->digest) ||
	    msg_end(msg) == -1)
		lookup_msgauth_bad(msg, "body hash");
	bh->canon = DKIM_CANON_RELAXED;
	bh->hash = DKIM_HASH_SHA256;
	bh->limit = DKIM_BH_NOLIMIT;
	bh->hashed = m->bodylen;
	memcpy(bh->digest, sp.ptr, sp.len);
	bh->digestlen = sp.len;
	m->nbh = 1;
	m->step = LOOKUP_MSGAUTH_SIGN_QUEUE;
	lookup_dkimsign_sign(la->mod.dkimsign, m, lookup_msgauth_next);
}

const struct msgauth_bh *
msgauth_bh_find(const struct msgauth *m, enum dkim_canon canon,
    enum dkim_hash hash, uint64_t limit)
{
	size_t	i;

	for (i = 0; i < m->nbh; i++)
		if (m->bh[i].canon == canon && m->bh[i].hash == hash &&
		    m->bh[i].limit == limit)
			return &m->bh[i];
	return NULL;
}

void
msgauth_free(struct msgauth *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	free(m->hdrs);
	buf_free(&m->prepend);
	spam_features_free(&m->spam_content);
	free(m);
}
