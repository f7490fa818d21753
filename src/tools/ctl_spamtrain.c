/*
 * ctl_spamtrain: `cachetctl spam train [--user USER] spam|ham PATH...`
 * and `spam stats [USER]` (issue 15); see ctl_spam.h.
 *
 * Each PATH is a message file, an mbox (its first line starts "From ";
 * mboxrd), a Maildir (cur/ and new/, and the folders of a Maildir++
 * tree) or a directory of message files.  Every message is read here
 * (at most SPAM_SCAN_MAX of it), turned into its Bayes tokens
 * (spam_features_extract without rules) and named by spamtrain_id();
 * only ids and tokens go to lookup, in requests of at most
 * CTL_SPAMTRAIN_BATCH bytes, each learnt there in one transaction.
 * cachetctl runs as the user who typed it, so it reads only what they
 * may read; lookup never sees a path.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_spam.h"
#include "ipc.h"
#include "spam.h"
#include "spamtrain.h"
#include "util.h"

/* Bytes of messages per request, under IPC_PAYLOAD_MAX with room. */
#define CTL_SPAMTRAIN_BATCH	(200 * 1024)
/* One answer line per batch; a few of them. */
#define CTL_SPAMTRAIN_LINES_MAX	4096

struct ctl_train {
	ctl_exchange_fn		 exchange;
	struct ctl_spam_conn	*conn;
	const char		*class;		/* "spam" or "ham" */
	const char		*user;		/* --user, or NULL */
	struct msg		*batch;		/* entries: str id, data tokens */
	uint32_t		 nbatch;
	struct spam_features	 f;
	struct buf		 unquoted;	/* an mbox message */
	struct buf		 lines;
	size_t			 learnt, known, failed, unreadable;
};


/* "learnt N known N failed N", lookup's answer to a batch: 0, or -1. */
static int
ctl_spamtrain_counts(const char *p, size_t *l, size_t *k, size_t *f)
{
	static const char *const words[] = { "learnt ", "known ", "failed " };
	size_t		*out[] = { l, k, f };
	unsigned long long v;
	char		*end;
	size_t		 i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(words[i]);
		if (strncmp(p, words[i], n) != 0)
			return -1;
		p += n;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno != 0 || v > SIZE_MAX)
			return -1;
		*out[i] = (size_t)v;
		p = end;
		if (i < 2 && *p++ != ' ')
			return -1;
	}
	return 0;
}

static void
ctl_spamtrain_flush(struct ctl_train *t)
{
	struct msg	*m;
	const char	*p;
	size_t		 l, k, f;

	if (t->nbatch == 0)
		return;
	m = msg_new(MSG_CTL_REQUEST);
	msg_put_u64(m, 1);
	msg_put_u32(m, t->user != NULL ? 4 : 3);
	msg_put_str(m, "spam");
	msg_put_str(m, "train");
	msg_put_str(m, t->class);
	if (t->user != NULL)
		msg_put_str(m, t->user);
	msg_put_u32(m, t->nbatch);
	msg_put_raw(m, t->batch->data.data, t->batch->data.len);
	buf_reset(&t->lines);
	t->conn->lines = &t->lines;
	(void)t->exchange(t->conn, m);
	t->conn->lines = NULL;
	/* The answer is "learnt N known N failed N"; none: all failed. */
	p = t->lines.data != NULL ? t->lines.data : "";
	if (ctl_spamtrain_counts(p, &l, &k, &f) == 0 &&
	    l + k + f == t->nbatch) {
		t->learnt += l;
		t->known += k;
		t->failed += f;
	} else
		t->failed += t->nbatch;
	buf_reset(&t->batch->data);
	t->nbatch = 0;
}

/* One message: its tokens and id into the batch. */
static void
ctl_spamtrain_message(struct ctl_train *t, const char *data, size_t len)
{
	char	id[SPAMTRAIN_ID_MAX];
	size_t	need;

	if (len > SPAM_SCAN_MAX)
		len = SPAM_SCAN_MAX;
	spam_features_extract(&t->f, NULL, data, len);
	spamtrain_id(data, len, id);
	need = 8 + strlen(id) + t->f.tokens.b.len;
	if (t->batch->data.len + need > CTL_SPAMTRAIN_BATCH)
		ctl_spamtrain_flush(t);
	msg_put_str(t->batch, id);
	msg_put_data(t->batch, t->f.tokens.b.data, t->f.tokens.b.len);
	t->nbatch++;
}

static void
ctl_spamtrain_unreadable(struct ctl_train *t, const char *path,
    const char *why)
{
	fprintf(stderr, "cachetctl: %s: %s\n", path, why);
	t->unreadable++;
}

/* A file: one message, or an mbox of them. */
static void
ctl_spamtrain_file(struct ctl_train *t, const char *path)
{
	struct stat	 st;
	struct span	 rest, msg;
	void		*map;
	int		 fd;

	/* Not held up by a FIFO; a symbolic link is followed (our rights). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		ctl_spamtrain_unreadable(t, path, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		ctl_spamtrain_unreadable(t, path, S_ISREG(st.st_mode) ?
		    "empty" : "not a file");
		(void)close(fd);
		return;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (map == MAP_FAILED) {
		ctl_spamtrain_unreadable(t, path, strerror(errno));
		return;
	}
	rest = span_make(map, (size_t)st.st_size);
	if (!spamtrain_is_mbox(rest.ptr, rest.len))
		ctl_spamtrain_message(t, rest.ptr, rest.len);
	else
		while (spamtrain_mbox_next(&rest, &msg)) {
			buf_reset(&t->unquoted);
			/* Cut at SPAM_SCAN_MAX: the rest is not read. */
			(void)spamtrain_mbox_unquote(msg, &t->unquoted);
			if (t->unquoted.len == 0)
				ctl_spamtrain_unreadable(t, path,
				    "an empty message in the mbox");
			else
				ctl_spamtrain_message(t, t->unquoted.data,
				    t->unquoted.len);
		}
	(void)munmap(map, (size_t)st.st_size);
}

static bool
ctl_spamtrain_isdir(const char *dir, const char *name)
{
	char		p[PATH_MAX];
	struct stat	st;

	return path_join(p, sizeof(p), dir, name) == 0 &&
	    lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The regular files of dir (not those starting with '.': hidden ones). */
static void
ctl_spamtrain_files(struct ctl_train *t, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[PATH_MAX];

	if ((d = opendir(dir)) == NULL) {
		ctl_spamtrain_unreadable(t, dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (path_join(p, sizeof(p), dir, de->d_name) == -1) {
			ctl_spamtrain_unreadable(t, dir, "path too long");
			continue;
		}
		if (de->d_type == DT_DIR ||
		    (de->d_type == DT_UNKNOWN &&
		    ctl_spamtrain_isdir(dir, de->d_name)))
			continue;
		ctl_spamtrain_file(t, p);
	}
	(void)closedir(d);
}

/*
 * The cur/ and new/ of the Maildir++ folders (".Name") of the Maildir
 * dir; its own files (uidlist, keywords) are no mail.
 */
static void
ctl_spamtrain_folders(struct ctl_train *t, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		 p[PATH_MAX], sub[PATH_MAX];
	static const char *const parts[] = { "cur", "new" };
	size_t		 i;

	if ((d = opendir(dir)) == NULL) {
		ctl_spamtrain_unreadable(t, dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    !ctl_spamtrain_isdir(dir, de->d_name) ||
		    path_join(p, sizeof(p), dir, de->d_name) == -1)
			continue;
		for (i = 0; i < 2; i++)
			if (path_join(sub, sizeof(sub), p, parts[i]) == 0 &&
			    ctl_spamtrain_isdir(p, parts[i]))
				ctl_spamtrain_files(t, sub);
	}
	(void)closedir(d);
}

static void
ctl_spamtrain_path(struct ctl_train *t, const char *path)
{
	struct stat	st;
	char		sub[PATH_MAX];
	bool		maildir;

	if (stat(path, &st) == -1) {
		ctl_spamtrain_unreadable(t, path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		ctl_spamtrain_file(t, path);
		return;
	}
	/* A Maildir has cur/ (and new/); anything else: its files. */
	maildir = ctl_spamtrain_isdir(path, "cur") ||
	    ctl_spamtrain_isdir(path, "new");
	if (!maildir) {
		ctl_spamtrain_files(t, path);
		return;
	}
	if (path_join(sub, sizeof(sub), path, "cur") == 0 &&
	    ctl_spamtrain_isdir(path, "cur"))
		ctl_spamtrain_files(t, sub);
	if (path_join(sub, sizeof(sub), path, "new") == 0 &&
	    ctl_spamtrain_isdir(path, "new"))
		ctl_spamtrain_files(t, sub);
	ctl_spamtrain_folders(t, path);
}

static int
ctl_spamtrain_train(int argc, char **argv, ctl_exchange_fn exchange,
    struct ctl_spam_conn *conn)
{
	struct ctl_train	t;
	const char		*user = NULL;
	int			i = 2;

	if (argc > 3 && strcmp(argv[2], "--user") == 0) {
		user = argv[3];
		i = 4;
	}
	if (argc < i + 2 || (strcmp(argv[i], "spam") != 0 &&
	    strcmp(argv[i], "ham") != 0)) {
		fprintf(stderr, "cachetctl: usage: spam train [--user USER] "
		    "spam|ham PATH...\n");
		return 2;
	}
	memset(&t, 0, sizeof(t));
	t.exchange = exchange;
	t.conn = conn;
	t.class = argv[i];
	t.user = user;
	t.batch = msg_new(MSG_NONE);
	spam_features_init(&t.f);
	buf_init(&t.unquoted, SPAM_SCAN_MAX);
	buf_init(&t.lines, CTL_SPAMTRAIN_LINES_MAX);
	for (i++; i < argc; i++)
		ctl_spamtrain_path(&t, argv[i]);
	ctl_spamtrain_flush(&t);
	printf("learnt: %zu\nalready known: %zu\nunreadable: %zu\n",
	    t.learnt, t.known, t.unreadable);
	if (t.failed > 0)
		printf("failed: %zu\n", t.failed);
	msg_free(t.batch);
	spam_features_free(&t.f);
	buf_free(&t.unquoted);
	buf_free(&t.lines);
	return t.failed > 0 || t.unreadable > 0 ? 1 : 0;
}

static int
ctl_spamtrain_stats(int argc, char **argv, ctl_exchange_fn exchange,
    struct ctl_spam_conn *conn)
{
	struct msg	*m;

	if (argc > 3) {
		fprintf(stderr, "cachetctl: usage: spam stats [USER]\n");
		return 2;
	}
	m = msg_new(MSG_CTL_REQUEST);
	msg_put_u64(m, 1);
	msg_put_u32(m, (uint32_t)argc);
	msg_put_str(m, "spam");
	msg_put_str(m, "stats");
	if (argc == 3)
		msg_put_str(m, argv[2]);
	return exchange(conn, m);
}

int
ctl_spamtrain(const struct conf *conf, int argc, char **argv,
    ctl_exchange_fn exchange, void *arg)
{
	(void)conf;
	if (strcmp(argv[1], "stats") == 0)
		return ctl_spamtrain_stats(argc, argv, exchange, arg);
	return ctl_spamtrain_train(argc, argv, exchange, arg);
}
