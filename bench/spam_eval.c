/*
 * spam_eval: the content pipeline of the spam filter in one process, as
 * the daemon runs it (issue 15), for bench/spam and bench/spam-crossval.
 * Per message: spam_features_extract() with the shipped default rules
 * (or -r FILE), then lookup_bayes_classify() on a token database of
 * this run's own (lookup_bayes.h, SQLite in DIR), lookup_spam_content()
 * and lookup_spam_decide() (lookup_spam.h) under the default config (or
 * -c FILE: its spam-junk, spam-reject and Bayes settings).  Built by
 * `make build/spam_eval` against build/libcachet.a.
 *
 *	spam_eval [-c CONF] [-r RULES] -d DIR crossval LIST
 *	spam_eval [-c CONF] [-r RULES] -d DIR speed LIST [ROUNDS [TRAIN]]
 *
 * LIST: one message a line, "PATH<TAB>ham|spam<TAB>FOLD" (FOLD 0..9;
 * speed ignores it).
 *
 * crossval: the features of every message are extracted once (they do
 * not depend on training); then for each fold a fresh database
 * DIR/fold-K.db learns every message of the other folds and the fold's
 * messages are classified.  One line per held-out message:
 *
 *	msg INDEX FOLD LABEL TOTAL RULES P VERDICT HITS
 *
 * (TOTAL and RULES in milli-points, P the Bayes probability or -1, HITS
 * the reasons "NAME=points,..." or "-"), and per fold a line "fold K
 * trained S H SECONDS".
 *
 * speed: DIR/all.db learns every message of TRAIN (a list as LIST;
 * default LIST itself), then ROUNDS (default 1) passes over LIST's
 * messages in memory are timed, each message taken from its
 * bytes to its verdict (features, Bayes, score, decision):
 *
 *	speed MESSAGES SECONDS JUNKED-OR-REJECTED
 */
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "lookup/lookup_bayes.h"
#include "lookup/lookup_spam.h"
/* bench_slurp() and bench_now() of bench/mime; not its list reader */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "mime_load.h"
#include "spam.h"
#include "spamrules.h"

#define EVAL_FOLDS	10

struct eval_msg {
	struct bench_msg	 m;
	bool			 spam;
	int			 fold;
	struct spam_features	 f;
};

struct eval {
	const struct conf	*conf;
	struct spam_rules	*rules;
	struct eval_msg		*msgs;
	size_t			 n;
	const char		*dir;
};

static void
usage(void)
{
	fprintf(stderr, "usage: spam_eval [-c CONF] [-r RULES] -d DIR "
	    "crossval|speed LIST [ROUNDS]\n");
	exit(2);
}

/* LIST: "PATH\tLABEL\tFOLD" a line. */
static void
eval_load(struct eval *ev, const char *list)
{
	char	*text, *line, *save, *lab, *fold;
	size_t	 len, cap = 0;

	text = bench_slurp(list, &len);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((lab = strchr(line, '\t')) == NULL ||
		    (fold = strchr(lab + 1, '\t')) == NULL) {
			fprintf(stderr, "spam_eval: %s: bad line\n", list);
			exit(2);
		}
		*lab++ = '\0';
		*fold++ = '\0';
		if (ev->n == cap) {
			cap = cap ? cap * 2 : 1024;
			ev->msgs = realloc(ev->msgs, cap * sizeof(*ev->msgs));
			if (ev->msgs == NULL)
				bench_die("realloc");
		}
		memset(&ev->msgs[ev->n], 0, sizeof(ev->msgs[ev->n]));
		ev->msgs[ev->n].m.data = bench_slurp(line,
		    &ev->msgs[ev->n].m.len);
		ev->msgs[ev->n].spam = strcmp(lab, "spam") == 0;
		ev->msgs[ev->n].fold = atoi(fold);
		spam_features_init(&ev->msgs[ev->n].f);
		ev->n++;
	}
	free(text);
}

static struct lookup_bayes *
eval_db(const struct eval *ev, const char *name)
{
	struct lookup_bayes	*db;
	char			 path[4096], err[256];

	(void)snprintf(path, sizeof(path), "%s/%s", ev->dir, name);
	(void)unlink(path);
	if ((db = lookup_bayes_open(ev->conf, path, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "spam_eval: %s: %s\n", path, err);
		exit(1);
	}
	return db;
}

/*
 * Learn every message not in fold skip (-1: all of them) in one
 * transaction; counts of what was learnt.
 */
static void
eval_train(const struct eval *ev, struct lookup_bayes *db, int skip,
    size_t *nspam, size_t *nham)
{
	char	id[32];
	size_t	i;

	*nspam = *nham = 0;
	if (lookup_bayes_begin(db) == -1)
		fprintf(stderr, "spam_eval: begin failed\n");
	for (i = 0; i < ev->n; i++) {
		if (ev->msgs[i].fold == skip)
			continue;
		(void)snprintf(id, sizeof(id), "eval-%zu", i);
		if (lookup_bayes_train(db, "", id, &ev->msgs[i].f.tokens,
		    ev->msgs[i].spam) == 1)
			(*(ev->msgs[i].spam ? nspam : nham))++;
	}
	if (lookup_bayes_commit(db) == -1)
		fprintf(stderr, "spam_eval: commit failed\n");
}

/* The verdict of one message whose features are in f. */
static enum spam_verdict
eval_judge(const struct eval *ev, struct lookup_bayes *db,
    const struct spam_features *f, struct spam_score *s, double *p)
{
	if (lookup_bayes_classify(db, "", &f->tokens, p) == -1)
		*p = -1;
	memset(s, 0, sizeof(*s));
	lookup_spam_content(ev->conf, f, *p, s);
	return lookup_spam_decide(ev->conf, s->total);
}

static void
eval_extract(struct eval *ev)
{
	size_t	i;

	for (i = 0; i < ev->n; i++)
		spam_features_extract(&ev->msgs[i].f, ev->rules,
		    ev->msgs[i].m.data, ev->msgs[i].m.len);
}

static void
eval_crossval(struct eval *ev)
{
	struct lookup_bayes	*db;
	struct spam_score	 s;
	struct buf		 hits;
	char			 name[32];
	size_t			 i, nspam, nham;
	double			 p, t0;
	int			 k;

	buf_init(&hits, 1 << 20);
	eval_extract(ev);
	for (k = 0; k < EVAL_FOLDS; k++) {
		(void)snprintf(name, sizeof(name), "fold-%d.db", k);
		db = eval_db(ev, name);
		t0 = bench_now();
		eval_train(ev, db, k, &nspam, &nham);
		printf("fold %d trained %zu %zu %.2f\n", k, nspam, nham,
		    bench_now() - t0);
		for (i = 0; i < ev->n; i++) {
			const struct eval_msg	*e = &ev->msgs[i];
			enum spam_verdict	 v;

			if (e->fold != k)
				continue;
			v = eval_judge(ev, db, &e->f, &s, &p);
			buf_reset(&hits);
			if (s.nhits == 0 ||
			    spam_score_format(&s, &hits) == -1 ||
			    hits.len == 0)
				(void)buf_append_str(&hits, "-");
			printf("msg %zu %d %s %d %d %.6f %s %.*s\n", i, k,
			    e->spam ? "spam" : "ham", s.total,
			    e->f.rules.total, p, spam_verdict_name(v),
			    (int)hits.len, hits.data);
		}
		fflush(stdout);
		lookup_bayes_close(db);
	}
	buf_free(&hits);
}

static void
eval_speed(struct eval *ev, int rounds, const char *trainlist)
{
	struct eval		 tr = *ev;
	struct lookup_bayes	*db;
	struct spam_features	 f;
	struct spam_score	 s;
	size_t			 i, nspam, nham, caught = 0, done = 0;
	double			 p, t0, secs;
	int			 r;

	if (trainlist != NULL) {
		tr.msgs = NULL;
		tr.n = 0;
		eval_load(&tr, trainlist);
	}
	eval_extract(&tr);
	db = eval_db(ev, "all.db");
	eval_train(&tr, db, -1, &nspam, &nham);
	spam_features_init(&f);
	t0 = bench_now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < ev->n; i++) {
			spam_features_extract(&f, ev->rules,
			    ev->msgs[i].m.data, ev->msgs[i].m.len);
			if (eval_judge(ev, db, &f, &s, &p) != SPAM_INBOX)
				caught++;
			done++;
		}
	}
	secs = bench_now() - t0;
	printf("speed %zu %.4f %zu\n", done, secs, caught);
	spam_features_free(&f);
	lookup_bayes_close(db);
}

int
main(int argc, char **argv)
{
	struct eval	 ev;
	struct conf	*conf;
	const char	*confpath = NULL, *rulespath = NULL;
	char		 err[4096];
	int		 ch;

	memset(&ev, 0, sizeof(ev));
	while ((ch = getopt(argc, argv, "c:d:r:")) != -1) {
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		case 'd':
			ev.dir = optarg;
			break;
		case 'r':
			rulespath = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || ev.dir == NULL)
		usage();
	log_init(true, false);
	conf = confpath != NULL ? conf_load(confpath, err, sizeof(err)) :
	    conf_default();
	if (conf == NULL) {
		fprintf(stderr, "spam_eval: %s\n", err);
		return 1;
	}
	ev.conf = conf;
	if ((ev.rules = spam_rules_load(rulespath, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "spam_eval: %s\n", err);
		return 1;
	}
	eval_load(&ev, argv[1]);
	if (strcmp(argv[0], "crossval") == 0)
		eval_crossval(&ev);
	else if (strcmp(argv[0], "speed") == 0)
		eval_speed(&ev, argc > 2 ? atoi(argv[2]) : 1,
		    argc > 3 ? argv[3] : NULL);
	else
		usage();
	spam_rules_free(ev.rules);
	conf_free(conf);
	return 0;
}
