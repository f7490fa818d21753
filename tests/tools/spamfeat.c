/*
 * spamfeat: print what spam_features_extract() makes of each message,
 * the features smtp sends lookup at the end of DATA (the default rules'
 * hits and the Bayes tokens, in order), so that a change meant to make
 * the extraction faster can be shown to change nothing: run it over a
 * corpus before and after and compare the outputs byte for byte.
 *
 *	spamfeat [-n] [FILE...]		(no FILE: paths one a line on stdin)
 *	spamfeat -t N FILE...		(CPU time: 10 rounds of N a file)
 *
 * Per message: "== PATH", one "rule NAME SCORE DESC" line per hit,
 * "total SCORE", one "tok TOKEN" line per token.  -n adds "norm WORDS",
 * spam_norm() of the message's text (what keyword rules read), stricter
 * than the hits alone.  -t prints the CPU time per extraction instead.
 * A development tool: it trusts its arguments, not the files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "spam.h"
#include "spamnorm.h"
#include "spamrules.h"

#define FEAT_ROUNDS	10

static int
feat_read(const char *path, struct buf *out)
{
	FILE	*f;
	char	 b[65536];
	size_t	 n;

	buf_reset(out);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while ((n = fread(b, 1, sizeof(b), f)) > 0)
		if (buf_append(out, b, n) == -1)
			break;
	(void)fclose(f);
	return 0;
}

static double
feat_cpu(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
feat_print(const char *path, const struct spam_features *f,
    const struct buf *data, int norm)
{
	struct spam_msg	 sm;
	struct buf	 w;
	const char	*t;
	size_t		 i, off = 0;

	printf("== %s\n", path);
	for (i = 0; i < f->rules.nhits; i++)
		printf("rule %s %d %s\n", f->rules.hits[i].name,
		    f->rules.hits[i].score, f->rules.hits[i].desc);
	printf("total %d\n", f->rules.total);
	while ((t = spam_tokens_next(&f->tokens, &off)) != NULL)
		printf("tok %s\n", t);
	if (!norm)
		return;
	spam_msg_parse(&sm, data->data, data->len);
	buf_init(&w, 2 * SPAM_NORM_IN_MAX + 16);
	(void)spam_norm(sm.text.data, sm.text.len, &w);
	printf("norm %.*s\n", (int)w.len, w.data != NULL ? w.data : "");
	buf_free(&w);
	spam_msg_free(&sm);
}

static void
feat_one(const struct spam_rules *r, const char *path, int norm,
    long times, struct buf *data, struct spam_features *f)
{
	double	t0, t, best = 0;
	long	i;
	int	round;

	if (feat_read(path, data) == -1) {
		perror(path);
		exit(1);
	}
	if (times == 0) {
		spam_features_extract(f, r, data->data != NULL ? data->data :
		    "", data->len);
		feat_print(path, f, data, norm);
		return;
	}
	/*
	 * The machine is shared: the least of ten rounds is the figure
	 * least disturbed by others.
	 */
	for (round = 0; round < FEAT_ROUNDS; round++) {
		t0 = feat_cpu();
		for (i = 0; i < times; i++)
			spam_features_extract(f, r, data->data, data->len);
		t = (feat_cpu() - t0) / (double)times;
		if (round == 0 || t < best)
			best = t;
	}
	printf("%s: %zu bytes, %.3f ms CPU an extraction (least of %d "
	    "rounds of %ld)\n", path, data->len, best * 1e3, FEAT_ROUNDS,
	    times);
}

int
main(int argc, char **argv)
{
	struct spam_rules	*r;
	struct spam_features	 f;
	struct buf		 data;
	char			 err[512], line[8192];
	long			 times = 0;
	int			 ch, norm = 0;
	size_t			 n;

	while ((ch = getopt(argc, argv, "nt:")) != -1) {
		switch (ch) {
		case 'n':
			norm = 1;
			break;
		case 't':
			times = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: spamfeat [-n] [-t N] "
			    "[FILE...]\n");
			return 2;
		}
	}
	if ((r = spam_rules_load(NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "spamfeat: %s\n", err);
		return 1;
	}
	buf_init(&data, 64 * 1024 * 1024);
	spam_features_init(&f);
	if (optind < argc)
		for (; optind < argc; optind++)
			feat_one(r, argv[optind], norm, times, &data, &f);
	else
		while (fgets(line, sizeof(line), stdin) != NULL) {
			n = strlen(line);
			if (n > 0 && line[n - 1] == '\n')
				line[--n] = '\0';
			if (n > 0)
				feat_one(r, line, norm, times, &data, &f);
		}
	spam_features_free(&f);
	buf_free(&data);
	spam_rules_free(r);
	return 0;
}
