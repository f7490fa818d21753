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

/* Read at most SPAM_SCAN_MAX of path into out. */
static int
ctl_spam_read(const char *path, struct buf *out)
{
	FILE	*f;
	char	 b[65536];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "cachetctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (out->len < SPAM_SCAN_MAX && (n = fread(b, 1, sizeof(b), f)) > 0)
		if (buf_append(out, b, n) == -1)
			break;
	fclose(f);
	return 0;
}

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

	if (argc != 3) {
		fprintf(stderr, "cachetctl: usage: spam check FILE\n");
		return 2;
	}
	if ((rules = spam_rules_load(conf->spam_rules, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "cachetctl: %s\n", err);
		return 1;
	}
	buf_init(&data, 2 * SPAM_SCAN_MAX);
	if (ctl_spam_read(argv[2], &data) == -1) {
		buf_free(&data);
		spam_rules_free(rules);
		return 1;
	}
	spam_features_init(&f);
	spam_features_extract(&f, rules, data.data, data.len);
	m = msg_new(MSG_CTL_REQUEST);
	msg_put_u64(m, 1);
	msg_put_u32(m, 2);
	msg_put_str(m, "spam");
	msg_put_str(m, "check");
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
	fprintf(stderr, "cachetctl: usage: spam check FILE | spam train "
	    "spam|ham PATH... | spam stats [USER]\n");
	return 2;
}
