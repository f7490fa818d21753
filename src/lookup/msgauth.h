/*
 * msgauth: sender authentication of one message at the end of its DATA
 * (issue 14), in the lookup role, which alone asks DNS and holds the
 * DKIM and ARC keys.  The smtp role parses and hashes as the bytes
 * stream past (the header section kept, one body hash per way a
 * signature asks for, lib/dkim.h); lookup decides.
 *
 * One round trip per message, MSG_LOOKUP_MESSAGE, whose answer is the
 * verdict and the header fields to put on top of the message (they ride
 * in the spool envelope and are written before the message's own bytes
 * by whoever reads it: mda, mta, bounces, `cachetctl queue cat`):
 *
 *   port 25 (MSGAUTH_MX): DKIM verify -> ARC verify -> DMARC (with the
 *   SPF result smtp got at MAIL FROM) -> report row -> Authentication-
 *   Results -> ARC seal when an alias forwards it out -> verdict
 *   submission and local (authenticated users): DKIM sign when From: is
 *   one of our domains with an active key -> verdict (always accept)
 *
 * The orchestrator (lookup_msgauth.c) runs these steps in order over one
 * struct msgauth; each module fills its part and calls done(m) exactly
 * once, later or at once.  A module never frees m, never answers smtp.
 *
 * MSG_LOOKUP_SPF (smtp -> lookup, at MAIL FROM, no waiting for it in the
 * dialogue): u64 reqid, str client ip, str helo, str mail from (the
 * address without brackets, "" for the null path).
 * MSG_LOOKUP_SPF_RESULT (lookup -> smtp): u64 reqid, u32 enum
 * spf_result, str identity ("mailfrom" or "helo": which was checked; the
 * helo one for the null path, RFC 7208 §2.4), str domain checked, str
 * reason (printable, for Authentication-Results' comment and logs).
 *
 * MSG_LOOKUP_MESSAGE (smtp -> lookup, end of DATA, before the commit):
 * u64 reqid, u32 enum msgauth_kind, str client ip, str helo, str mail
 * from, str auth user ("" none), str queue id, u32 enum spf_result, str
 * spf identity, str spf domain, str spf reason, u32 nrcpts (at most
 * MSGAUTH_RCPTS_MAX), per rcpt: str addr; data header section (as
 * received, every field with its CRLF, without the empty line; at most
 * MSGAUTH_HDRS_MAX, truncated at a field boundary and then
 * hdrs_truncated is set), u32 hdrs_truncated, u64 body length, u32 nbh
 * (at most MSGAUTH_BH_MAX), per body hash: u32 enum dkim_canon, u32
 * enum dkim_hash, u64 limit (DKIM_BH_NOLIMIT: none), u64 octets hashed,
 * data digest.
 * MSG_LOOKUP_MESSAGE_RESULT (lookup -> smtp): u64 reqid, u32 code (0:
 * accept; else an SMTP reply code to refuse with), str enh, str text,
 * u32 MSGAUTH_F_* flags, data header fields to put on top (each with
 * its CRLF, at most MSGAUTH_PREPEND_MAX).
 * Spam (issue 15, lib/spam.h) rides at the end of MSG_LOOKUP_MESSAGE:
 * the pre-DATA score (spam_score_put), then the content features
 * (spam_features_put); both empty for submission and local.
 *
 * MSG_LOOKUP_SIGN (queue -> lookup, for a message the queue made: a
 * bounce, a DSN): u64 reqid, str mail from, data header section, u64
 * body length, data relaxed/sha256 body hash.  MSG_LOOKUP_SIGN_RESULT:
 * u64 reqid, data header fields to put on top ("" when nothing signs).
 *
 * Trust: smtp is network-facing; everything it sends is bounded and
 * re-parsed here (the header section is hostile input).  DNS answers are
 * parsed by dns.c and judged by the module that asked.
 */
#ifndef CACHET_MSGAUTH_H
#define CACHET_MSGAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dkim.h"
#include "dns.h"
#include "mailaddr.h"
#include "proc.h"
#include "spam.h"
#include "spf.h"

#define MSGAUTH_HDRS_MAX	(128 * 1024)	/* header section sent */
#define MSGAUTH_BH_MAX		8	/* body hashes per message */
#define MSGAUTH_SIGS_MAX	8	/* DKIM signatures looked at */
#define MSGAUTH_RCPTS_MAX	1000	/* recipients sent (the rest unseen) */
#define MSGAUTH_PREPEND_MAX	(32 * 1024)	/* header fields added */
#define MSGAUTH_REASON_MAX	200
#define MSGAUTH_IP_MAX		64
#define MSGAUTH_USER_MAX	320

/* MSG_LOOKUP_MESSAGE_RESULT flags */
#define MSGAUTH_F_JUNK		0x1u	/* file into the user's Junk folder */

enum msgauth_kind {
	MSGAUTH_MX,		/* port 25: verify */
	MSGAUTH_SUBMISSION,	/* 587/465, authenticated: sign */
	MSGAUTH_LOCAL,		/* cachet-sendmail: sign */
};

/* One body hash smtp computed, as a signature asked for it. */
struct msgauth_bh {
	enum dkim_canon	 canon;
	enum dkim_hash	 hash;
	uint64_t	 limit;		/* l=, or DKIM_BH_NOLIMIT */
	uint64_t	 hashed;	/* octets that went into the hash */
	unsigned char	 digest[DKIM_DIGEST_MAX];
	size_t		 digestlen;
};

/* RFC 8601 §2.7.1 result of one DKIM signature. */
enum msgauth_dkim_result {
	MSGAUTH_DKIM_PASS,
	MSGAUTH_DKIM_FAIL,
	MSGAUTH_DKIM_NEUTRAL,
	MSGAUTH_DKIM_POLICY,
	MSGAUTH_DKIM_TEMPERROR,
	MSGAUTH_DKIM_PERMERROR,
};

struct msgauth_dkim {
	enum msgauth_dkim_result result;
	char		 domain[DNS_NAME_MAX + 1];	/* d=, "" unparsable */
	char		 selector[DNS_NAME_MAX + 1];	/* s= */
	char		 algo[32];			/* a= as written */
	char		 b[16];		/* first 8+ chars of b= (RFC 6008) */
	bool		 testing;	/* key t=y */
	char		 reason[MSGAUTH_REASON_MAX];
};

enum msgauth_arc_result {
	MSGAUTH_ARC_NONE,
	MSGAUTH_ARC_PASS,
	MSGAUTH_ARC_FAIL,
};

struct msgauth_arc {
	enum msgauth_arc_result result;
	unsigned	 instance;	/* highest i=, 0 none */
	/* the d= of each ARC-Seal, [0] is i=1 */
	char		 sealers[8][DNS_NAME_MAX + 1];
	size_t		 nsealers;
	/* the last seal's domain is an `arc-trusted-sealer` */
	bool		 trusted;
	char		 reason[MSGAUTH_REASON_MAX];
};

enum msgauth_dmarc_result {
	MSGAUTH_DMARC_NONE,
	MSGAUTH_DMARC_PASS,
	MSGAUTH_DMARC_FAIL,
	MSGAUTH_DMARC_TEMPERROR,
	MSGAUTH_DMARC_PERMERROR,
};

enum msgauth_dmarc_policy {
	MSGAUTH_POLICY_NONE,
	MSGAUTH_POLICY_QUARANTINE,
	MSGAUTH_POLICY_REJECT,
};

struct msgauth_dmarc {
	enum msgauth_dmarc_result result;
	char		 from_domain[DNS_NAME_MAX + 1];	/* header.from */
	char		 org_domain[DNS_NAME_MAX + 1];
	char		 policy_domain[DNS_NAME_MAX + 1];	/* the record's */
	enum msgauth_dmarc_policy policy;	/* p=, sp= or np= applied */
	bool		 spf_aligned;
	bool		 dkim_aligned;
	bool		 sampled_out;	/* pct= left it out: policy none */
	/* what was done (RFC 7489 §7.2 disposition); set by the verdict */
	enum msgauth_dmarc_policy disposition;
	bool		 arc_override;	/* a trusted ARC chain let it pass */
	char		 rua[512];	/* the record's rua=, for the row */
	char		 reason[MSGAUTH_REASON_MAX];
};

struct msgauth {
	/* From MSG_LOOKUP_MESSAGE (or MSG_LOOKUP_SIGN) */
	struct proc_peer	 from;
	uint64_t		 reqid;
	uint64_t		 gen;	/* the peer's, when asked */
	enum msgauth_kind	 kind;
	char			 ip[MSGAUTH_IP_MAX];
	char			 helo[DNS_NAME_TEXT_MAX + 1];
	char			 mailfrom[MAILADDR_PATH_MAX + 1];
	char			 user[MSGAUTH_USER_MAX + 1];
	char			 queue_id[64];
	char			**rcpts;
	size_t			 nrcpts;
	enum spf_result		 spf;
	char			 spf_identity[16];	/* mailfrom, helo */
	char			 spf_domain[DNS_NAME_TEXT_MAX + 1];
	char			 spf_reason[MSGAUTH_REASON_MAX];
	char			*hdrs;		/* header section, CRLF lines */
	size_t			 hdrlen;
	bool			 hdrs_truncated;
	uint64_t		 bodylen;
	struct msgauth_bh	 bh[MSGAUTH_BH_MAX];
	size_t			 nbh;

	/* Results, each filled by its module */
	struct msgauth_dkim	 dkim[MSGAUTH_SIGS_MAX];
	size_t			 ndkim;
	struct msgauth_arc	 arc;
	struct msgauth_dmarc	 dmarc;

	/* Spam (issue 15): what smtp sent, and the verdict (lookup_spam) */
	struct spam_score	 spam_pre;	/* before DATA */
	struct spam_features	 spam_content;	/* rules' hits, tokens */
	struct spam_score	 spam;		/* all of it */
	enum spam_verdict	 spam_verdict;

	/* The answer */
	uint32_t		 code;		/* 0 accept */
	char			 enh[16];
	char			 text[256];
	uint32_t		 flags;		/* MSGAUTH_F_* */
	struct buf		 prepend;	/* header fields for the top */

	/* The orchestrator's */
	void			*arg;
	int			 step;
};

typedef void (*msgauth_done_cb)(struct msgauth *);

/* The body hash of m for (canon, hash, no limit), or NULL. */
const struct msgauth_bh *msgauth_bh_find(const struct msgauth *,
		    enum dkim_canon, enum dkim_hash, uint64_t limit);

/*
 * Each step's module.  new() runs in lookup_main() after proc_drop(), in
 * lookup's directory, with the daemon's resolver; none returns NULL (a
 * module that cannot work logs it and answers with temperror/none).
 */
struct conf;
struct lookup_dkim;
struct lookup_arc;
struct lookup_dmarc;
struct lookup_dmarcrep;
struct lookup_dkimsign;

/* DKIM verification (lookup_dkim.c): fills m->dkim[]. */
struct lookup_dkim	*lookup_dkim_new(struct proc_self *,
			    const struct conf *, struct dns *);
void			 lookup_dkim_verify(struct lookup_dkim *,
			    struct msgauth *, msgauth_done_cb);

/*
 * ARC (lookup_arc.c): verify fills m->arc; seal adds an ARC set (over
 * m->prepend's Authentication-Results) to m->prepend when one of
 * m->rcpts is forwarded out of our domains, else does nothing.
 */
struct lookup_arc	*lookup_arc_new(struct proc_self *,
			    const struct conf *, struct dns *,
			    struct lookup_dkimsign *);
void			 lookup_arc_verify(struct lookup_arc *,
			    struct msgauth *, msgauth_done_cb);
void			 lookup_arc_seal(struct lookup_arc *,
			    struct msgauth *, msgauth_done_cb);

/*
 * DMARC (lookup_dmarc.c): evaluate fills m->dmarc, the disposition
 * included (`dmarc-policy`, pct=, a trusted ARC chain), after the DKIM,
 * SPF and ARC results are in.
 */
struct lookup_dmarc	*lookup_dmarc_new(struct proc_self *,
			    const struct conf *, struct dns *);
void			 lookup_dmarc_evaluate(struct lookup_dmarc *,
			    struct msgauth *, msgauth_done_cb);

/*
 * DMARC reports (lookup_dmarcrep.c): record keeps the row of an
 * evaluated message (one with a DMARC record) for the aggregate report
 * to its rua=; it does not block.
 */
struct lookup_dmarcrep	*lookup_dmarcrep_new(struct proc_self *,
			    const struct conf *, struct dns *);
void			 lookup_dmarcrep_record(struct lookup_dmarcrep *,
			    const struct msgauth *);

/*
 * DKIM signing (lookup_dkimsign.c): adds DKIM-Signature fields to
 * m->prepend when the From: domain of m->hdrs is ours with active keys.
 */
struct lookup_dkimsign	*lookup_dkimsign_new(struct proc_self *,
			    const struct conf *);
void			 lookup_dkimsign_sign(struct lookup_dkimsign *,
			    struct msgauth *, msgauth_done_cb);

/*
 * The active RSA key of domain, for ARC sealing (RFC 8617 §4.1 wants
 * rsa-sha256): its selector into selector (DNS_LABEL_MAX + 1), the key
 * owned by the module and valid until the next event-loop turn; NULL
 * when the domain has none.
 */
struct evp_pkey_st;
struct evp_pkey_st	*lookup_dkimsign_rsa_key(struct lookup_dkimsign *,
			    const char *domain, char *selector);

void	msgauth_free(struct msgauth *);

#endif
