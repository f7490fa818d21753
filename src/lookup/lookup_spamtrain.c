/*
 * lookup_spamtrain: teaching the Bayes database (issue 15), in the
 * lookup role; see lookup_spamtrain.h for the messages.
 *
 * `spam train` requests come from cachetctl through the parent (argv
 * "spam" "train" "spam|ham" and, with --user, the user): each is
 * a batch of messages already turned into tokens by cachetctl, learnt in
 * one transaction and answered with one line ("learnt N known N failed
 * N") that cachetctl sums over its batches.  A malformed one is an
 * answer, not a fatal error (the parent forwards what cachetctl wrote).
 *
 * MSG_LOOKUP_SPAM_TRAIN comes from the imap role when a user moves a
 * message into their Junk folder or out of it: a sibling, so a malformed
 * one is fatal.  It is never answered: IMAP does not wait for learning.
 */
#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "log.h"
#include "lookup_bayes.h"
#include "lookup_spamtrain.h"
#include "spam.h"
#include "spamtrain.h"

/* Messages in one request: ~200 KiB hold a few hundred at most. */
#define LOOKUP_SPAMTRAIN_BATCH_MAX	4096
#define LOOKUP_SPAMTRAIN_USER_MAX	512	/* an address, with its NUL */

/* An id as spamtrain_id() makes it, copied into out. */
static int
lookup_spamtrain_id(struct msg *m, char out[SPAMTRAIN_ID_MAX])
{
	struct span	s;

	if (msg_get_span(m, &s) == -1 || !spamtrain_id_ok(s.ptr, s.len))
		return -1;
	memcpy(out, s.ptr, s.len);
	out[s.len] = '\0';
	return 0;
}

static void
lookup_spamtrain_stats(struct proc_self *self, struct lookup_bayes *b,
    uint64_t reqid, const char *user, struct msg *m)
{
	uint64_t	nspam, nham, ntok;
	char		line[128];

	if (msg_end(m) == -1) {
		proc_ctl_end(self, reqid, 2, "malformed request");
		return;
	}
	if (lookup_bayes_stats(b, user, &nspam, &nham, &ntok) == -1) {
		proc_ctl_end(self, reqid, 1, "spam stats: the Bayes database "
		    "failed (see the log)");
		return;
	}
	(void)snprintf(line, sizeof(line), "spam: %llu",
	    (unsigned long long)nspam);
	proc_ctl_line(self, reqid, line);
	(void)snprintf(line, sizeof(line), "ham: %llu",
	    (unsigned long long)nham);
	proc_ctl_line(self, reqid, line);
	(void)snprintf(line, sizeof(line), "tokens: %llu",
	    (unsigned long long)ntok);
	proc_ctl_line(self, reqid, line);
	proc_ctl_end(self, reqid, 0, NULL);
}

void
lookup_spamtrain_ctl(struct proc_self *self, struct lookup_bayes *b,
    uint64_t reqid, size_t argc, char **argv, struct msg *m)
{
	struct spam_tokens	 t;
	char			 id[SPAMTRAIN_ID_MAX], line[128];
	uint32_t		 count, i;
	size_t			 learnt = 0, known = 0, failed = 0;
	const char		*user;
	bool			 spam;
	int			 rc;

	if (strcmp(argv[1], "stats") == 0 && argc <= 3) {
		lookup_spamtrain_stats(self, b, reqid, argc == 3 ? argv[2] :
		    "", m);
		return;
	}
	if (strcmp(argv[1], "train") != 0 || argc < 3 || argc > 4 ||
	    (strcmp(argv[2], "spam") != 0 && strcmp(argv[2], "ham") != 0)) {
		proc_ctl_end(self, reqid, 2, "usage: spam check FILE | spam "
		    "train [--user USER] spam|ham PATH... | spam stats [USER]");
		return;
	}
	user = argc == 4 ? argv[3] : "";
	spam = strcmp(argv[2], "spam") == 0;
	if (msg_get_u32(m, &count) == -1 ||
	    count > LOOKUP_SPAMTRAIN_BATCH_MAX) {
		proc_ctl_end(self, reqid, 2, "malformed request");
		return;
	}
	spam_tokens_init(&t);
	if (lookup_bayes_begin(b) == -1) {
		spam_tokens_free(&t);
		proc_ctl_end(self, reqid, 1, "spam train: the Bayes database "
		    "failed (see the log)");
		return;
	}
	for (i = 0; i < count; i++) {
		if (lookup_spamtrain_id(m, id) == -1 ||
		    spam_tokens_get(m, &t) == -1)
			break;
		if ((rc = lookup_bayes_train(b, user, id, &t, spam)) == 1)
			learnt++;
		else if (rc == 0)
			known++;
		else
			failed++;
	}
	/* What parsed is learnt; a request cut short says so. */
	if (lookup_bayes_commit(b) == -1) {
		spam_tokens_free(&t);
		proc_ctl_end(self, reqid, 1, "spam train: the Bayes database "
		    "failed (see the log)");
		return;
	}
	spam_tokens_free(&t);
	if (i < count || msg_end(m) == -1) {
		proc_ctl_end(self, reqid, 2, "malformed request");
		return;
	}
	log_info("event=spam-train class=%s learnt=%zu known=%zu failed=%zu",
	    spam ? "spam" : "ham", learnt, known, failed);
	(void)snprintf(line, sizeof(line), "learnt %zu known %zu failed %zu",
	    learnt, known, failed);
	proc_ctl_line(self, reqid, line);
	proc_ctl_end(self, reqid, failed > 0 ? 1 : 0, NULL);
}

void
lookup_spamtrain_imap(struct lookup_bayes *b, struct proc_peer from,
    struct msg *m)
{
	struct spam_tokens	 t;
	char			 user[LOOKUP_SPAMTRAIN_USER_MAX];
	char			 id[SPAMTRAIN_ID_MAX];
	uint32_t		 spam;
	int			 rc;

	spam_tokens_init(&t);
	if (msg_get_str(m, user, sizeof(user)) == -1 ||
	    lookup_spamtrain_id(m, id) == -1 ||
	    msg_get_u32(m, &spam) == -1 || spam > 1 ||
	    spam_tokens_get(m, &t) == -1 || msg_end(m) == -1)
		fatalx("lookup: bad %s from imap", msg_name(m->type));
	rc = lookup_bayes_train(b, user, id, &t, spam == 1);
	if (rc == -1)
		log_warnx("lookup: event=spam-train user=%s class=%s "
		    "result=error", user, spam ? "spam" : "ham");
	else
		log_info("event=spam-train user=%s class=%s result=%s", user,
		    spam ? "spam" : "ham", rc == 1 ? "learnt" : "known");
	spam_tokens_free(&t);
}
