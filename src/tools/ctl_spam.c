/*
 * ctl_spam: see ctl_spam.h.  `spam check FILE`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "ctl_spam.h"
#include "ipc.h"
#include "spam.h"
#include "spamrules.h"
#include "util.h"

/*
 * Read at most SPAM_SCAN_MAX of path into out (max SPAM_SCAN_MAX): what
 * smtp would scan of the same message.
 */
static int
ctl_spam_read(const char *path, struct buf *out)
{
	FILE	*f;
	char	 b[65536];
	size_t	 n, room;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "cachetctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((room = SPAM_SCAN_MAX - out->len) > 0 &&
	    (n = fread(b, 1, sizeof(b) < room ? sizeof(b) : room, f)) > 0)
		if (buf_append(out, b, n) == -1)
			break;
	if (ferror(f)) {
		fprintf(stderr, "cachetctl: %s: read error\n", path);
		(void)fclose(f);
		return -1;
	}
	(void)fclose(f);
	return 0;
}

/*
 * `spam check FILE [USER]`: the features of FILE, computed here with the
 * rules the daemon's smtp role uses, judged by lookup (lookup_spam.h)
 * with the server's Bayes database, or USER's on top of it.
 */
static int
ctl_spam_check(const struct conf *conf, int argc, char **argv,
    ctl_exchange_fn exchange, void *arg)
{
	struct spam_features	 f;
	struct spam_rules	*rules;
	struct buf		 data;
	struct msg		*m;
	char			 err[512];
	int			 rc;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "cachetctl: usage: spam check FILE [USER]\n");
		return 2;
	}
	/* -s SOCKET without -f reads no config: the built-in rules */
	if ((rules = spam_rules_load(conf != NULL ? conf->spam_rules : NULL,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "cachetctl: %s\n", err);
		return 1;
	}
	buf_init(&data, SPAM_SCAN_MAX);
	if (ctl_spam_read(argv[2], &data) == -1) {
		buf_free(&data);
		spam_rules_free(rules);
		return 1;
	}
	spam_features_init(&f);
	spam_features_extract(&f, rules, data.data != NULL ? data.data : "",
	    data.len);
	m = msg_new(MSG_CTL_REQUEST);
	msg_put_u64(m, 1);
	msg_put_u32(m, argc == 4 ? 3 : 2);
	msg_put_str(m, "spam");
	msg_put_str(m, "check");
	if (argc == 4)
		msg_put_str(m, argv[3]);
	spam_features_put(m, &f);
	rc = exchange(arg, m);
	spam_features_free(&f);
	buf_free(&data);
	spam_rules_free(rules);
	return rc;
}

int
ctl_spam(const struct conf *conf, int argc, char **argv,
    ctl_exchange_fn exchange, void *arg)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return ctl_spam_check(conf, argc, argv, exchange, arg);
	if (argc >= 2 && (strcmp(argv[1], "train") == 0 ||
	    strcmp(argv[1], "stats") == 0))
		return ctl_spamtrain(conf, argc, argv, exchange, arg);
	fprintf(stderr, "cachetctl: usage: spam check FILE [USER] | spam "
	    "train "
	    "spam|ham PATH... | spam stats [USER]\n");
	return 2;
}
