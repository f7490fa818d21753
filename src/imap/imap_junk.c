/*
 * imap_junk: see imap_junk.h.  Runs in the imap role (chrooted into
 * mail-dir as the mailboxes' owner); reads only files of the folders
 * imap_mbox named, at most SPAM_SCAN_MAX of each.
 */
#include <sys/queue.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "imap_junk.h"
#include "imap_mbox.h"
#include "ipc.h"
#include "log.h"
#include "proc.h"
#include "spam.h"
#include "spamtrain.h"
#include "store/maildir.h"
#include "util.h"

/* Moves waiting, role-wide; past it they are dropped (logged). */
#define IMAP_JUNK_QUEUE_MAX	4096
/* Messages read and sent per turn of the event loop. */
#define IMAP_JUNK_PER_TURN	4

struct imap_junk_item {
	TAILQ_ENTRY(imap_junk_item)	 entry;
	char				*user;
	char				*folder;
	char				 name[MAILDIR_NAME_MAX + 1];
	bool				 spam;
};

struct imap_junk {
	struct proc_self		*self;
	struct event			*ev;
	TAILQ_HEAD(, imap_junk_item)	 items;
	size_t				 n;
	bool				 dropping;
	char				*data;		/* SPAM_SCAN_MAX */
	struct spam_features		 f;
};

static void
imap_junk_item_free(struct imap_junk_item *it)
{
	free(it->user);
	free(it->folder);
	free(it);
}

/* One message: read, tokenize, send. */
static void
imap_junk_learn(struct imap_junk *j, struct imap_junk_item *it)
{
	struct maildir_entry	 e;
	struct msg		*m;
	const char		*err = NULL;
	char			 id[SPAMTRAIN_ID_MAX];
	ssize_t			 n;
	int			 fd;

	memset(&e, 0, sizeof(e));
	(void)str_copy(e.name, sizeof(e.name), it->name);
	/* new/ by its name, else cur/ by its base name (flags change it) */
	e.in_new = true;
	if (maildir_open(it->folder, &e, &fd, &err) == -1) {
		log_info("imap: event=junk-learn user=%s result=gone "
		    "reason=\"%s\"", it->user, err != NULL ? err : "");
		return;
	}
	n = read_full(fd, j->data, SPAM_SCAN_MAX);
	(void)close(fd);
	if (n <= 0) {
		log_warnx("imap: event=junk-learn user=%s result=unreadable",
		    it->user);
		return;
	}
	spam_features_extract(&j->f, NULL, j->data, (size_t)n);
	spamtrain_id(j->data, (size_t)n, id);
	m = msg_new(MSG_LOOKUP_SPAM_TRAIN);
	msg_put_str(m, it->user);
	msg_put_str(m, id);
	msg_put_u32(m, it->spam ? 1 : 0);
	msg_put_data(m, j->f.tokens.b.data, j->f.tokens.b.len);
	/* Lookup down: this one is not learnt, nothing else breaks. */
	(void)proc_send(j->self, PROC_LOOKUP, m);
}

static void
imap_junk_turn(evutil_socket_t fd, short ev, void *arg)
{
	struct imap_junk	*j = arg;
	struct imap_junk_item	*it;
	struct timeval		 now = { 0, 0 };
	size_t			 k;

	for (k = 0; k < IMAP_JUNK_PER_TURN &&
	    (it = TAILQ_FIRST(&j->items)) != NULL; k++) {
		TAILQ_REMOVE(&j->items, it, entry);
		j->n--;
		imap_junk_learn(j, it);
		imap_junk_item_free(it);
	}
	if (j->n > 0)
		evtimer_add(j->ev, &now);
	else
		j->dropping = false;
}

struct imap_junk *
imap_junk_new(struct proc_self *self)
{
	struct imap_junk	*j;

	j = xcalloc(1, sizeof(*j));
	j->self = self;
	TAILQ_INIT(&j->items);
	if ((j->ev = evtimer_new(self->base, imap_junk_turn, j)) == NULL)
		fatalx("imap: evtimer_new");
	j->data = xmalloc(SPAM_SCAN_MAX);
	spam_features_init(&j->f);
	return j;
}

void
imap_junk_free(struct imap_junk *j)
{
	struct imap_junk_item	*it;

	if (j == NULL)
		return;
	while ((it = TAILQ_FIRST(&j->items)) != NULL) {
		TAILQ_REMOVE(&j->items, it, entry);
		imap_junk_item_free(it);
	}
	event_free(j->ev);
	free(j->data);
	spam_features_free(&j->f);
	free(j);
}

void
imap_junk_take(struct imap_junk *j, struct imap_mbox *mbox, const char *user)
{
	struct imap_junk_item	*it;
	struct timeval		 now = { 0, 0 };
	char			 folder[PATH_MAX], name[MAILDIR_NAME_MAX + 1];
	bool			 spam;

	while (imap_mbox_junk_take(mbox, folder, sizeof(folder), name,
	    sizeof(name), &spam) == 0) {
		if (user == NULL)
			continue;
		if (j->n >= IMAP_JUNK_QUEUE_MAX) {
			if (!j->dropping)
				log_warnx("imap: event=junk-learn "
				    "result=dropped reason=queue-full max=%d",
				    IMAP_JUNK_QUEUE_MAX);
			j->dropping = true;
			continue;
		}
		it = xcalloc(1, sizeof(*it));
		it->user = xstrdup(user);
		it->folder = xstrdup(folder);
		(void)str_copy(it->name, sizeof(it->name), name);
		it->spam = spam;
		TAILQ_INSERT_TAIL(&j->items, it, entry);
		j->n++;
	}
	if (j->n > 0 && !evtimer_pending(j->ev, NULL))
		evtimer_add(j->ev, &now);
}
