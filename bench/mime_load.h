/*
 * mime_load: what the bench/mime drivers share: the messages (one path a
 * line in a list file) read into memory once, and a monotonic clock.
 * Each driver then parses and decodes them, round after round, until it
 * has gone through the asked number of bytes, and prints
 * "BYTES SECONDS MESSAGES PARTS OUTPUT-BYTES".
 */
#ifndef BENCH_MIME_LOAD_H
#define BENCH_MIME_LOAD_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bench_msg {
	char	*data;
	size_t	 len;
};

static void
bench_die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static char *
bench_slurp(const char *path, size_t *len_out)
{
	FILE	*fp;
	char	*p;
	long	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		bench_die(path);
	if (fseek(fp, 0, SEEK_END) == -1 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) == -1)
		bench_die(path);
	if ((p = malloc((size_t)n + 1)) == NULL)
		bench_die("malloc");
	if (n > 0 && fread(p, 1, (size_t)n, fp) != (size_t)n)
		bench_die(path);
	fclose(fp);
	p[n] = '\0';
	*len_out = (size_t)n;
	return p;
}

/* The messages named in the list file, one path a line. */
static struct bench_msg *
bench_load(const char *list, size_t *n_out)
{
	struct bench_msg	*v = NULL;
	size_t			 n = 0, cap = 0, len;
	char			*paths, *line, *save;

	paths = bench_slurp(list, &len);
	for (line = strtok_r(paths, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((v = realloc(v, cap * sizeof(*v))) == NULL)
				bench_die("realloc");
		}
		v[n].data = bench_slurp(line, &v[n].len);
		n++;
	}
	free(paths);
	*n_out = n;
	return v;
}

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
