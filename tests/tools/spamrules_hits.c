/*
 * spamrules_hits: each rule's hit rate on ham and on spam, and the
 * speed of the rules, over a labelled corpus.  A development tool for
 * the default set (etc/spam.rules): a rule that hits ham is lowered or
 * dropped.
 *
 * usage: spamrules_hits DIR INDEX.tsv [RULES-FILE]
 *   INDEX.tsv lines: path <TAB> ham|spam [...]; paths relative to DIR.
 * Prints one line per rule (ham hits, ham %, spam hits, spam %), then
 * how many messages scored at or above 5 and 15, and messages/second of
 * spam_msg_parse + spam_rules_check alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "spam.h"
#include "spamrules.h"

#define HITS_NAMES_MAX	600

struct hits_row {
	char	name[SPAM_NAME_MAX];
	size_t	n[2];
};

static struct hits_row	rows[HITS_NAMES_MAX];
static size_t		nrows;

static struct hits_row *
hits_row(const char *name)
{
	size_t	i;

	for (i = 0; i < nrows; i++)
		if (strcmp(rows[i].name, name) == 0)
			return &rows[i];
	if (nrows == HITS_NAMES_MAX)
		return NULL;
	(void)snprintf(rows[nrows].name, sizeof(rows[nrows].name), "%s",
	    name);
	return &rows[nrows++];
}

static int
hits_read(const char *path, struct buf *out)
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
hits_now(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct spam_rules	*r;
	struct spam_score	 sc;
	struct spam_msg		 sm;
	struct hits_row		*row;
	struct buf		 data;
	char			 line[4096], path[8192], err[512], *tab;
	size_t			 total[2] = { 0, 0 }, junk[2] = { 0, 0 };
	size_t			 rej[2] = { 0, 0 }, i;
	double			 t0, spent = 0;
	FILE			*idx;
	int			 spam;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: spamrules_hits DIR INDEX.tsv "
		    "[RULES]\n");
		return 2;
	}
	if ((r = spam_rules_load(argc == 4 ? argv[3] : NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "spamrules_hits: %s\n", err);
		return 1;
	}
	if ((idx = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	buf_init(&data, 64 * 1024 * 1024);
	while (fgets(line, sizeof(line), idx) != NULL) {
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab++ = '\0';
		spam = strncmp(tab, "spam", 4) == 0;
		(void)snprintf(path, sizeof(path), "%s/%s", argv[1], line);
		if (hits_read(path, &data) == -1) {
			perror(path);
			continue;
		}
		memset(&sc, 0, sizeof(sc));
		t0 = hits_now();
		spam_msg_parse(&sm, data.data, data.len);
		spam_rules_check(r, &sm, &sc);
		spam_msg_free(&sm);
		spent += hits_now() - t0;
		total[spam]++;
		if (sc.total >= 5 * SPAM_MILLI)
			junk[spam]++;
		if (sc.total >= 15 * SPAM_MILLI)
			rej[spam]++;
		for (i = 0; i < sc.nhits; i++)
			if ((row = hits_row(sc.hits[i].name)) != NULL)
				row->n[spam]++;
	}
	(void)fclose(idx);
	printf("%-24s %6s %7s %6s %7s\n", "rule", "ham", "ham%", "spam",
	    "spam%");
	for (i = 0; i < nrows; i++)
		printf("%-24s %6zu %6.2f%% %6zu %6.2f%%\n", rows[i].name,
		    rows[i].n[0], total[0] ? 100.0 * (double)rows[i].n[0] /
		    (double)total[0] : 0, rows[i].n[1], total[1] ? 100.0 *
		    (double)rows[i].n[1] / (double)total[1] : 0);
	printf("messages: %zu ham, %zu spam\n", total[0], total[1]);
	printf("rules alone >= 5: %zu ham, %zu spam; >= 15: %zu ham, "
	    "%zu spam\n", junk[0], junk[1], rej[0], rej[1]);
	printf("parse + rules: %.0f messages/s (%zu rules)\n",
	    spent > 0 ? (double)(total[0] + total[1]) / spent : 0,
	    spam_rules_count(r));
	buf_free(&data);
	spam_rules_free(r);
	return 0;
}
