/*
 * imapsearch: run one SEARCH, SORT or THREAD command over a directory of
 * messages the way the imap role will, for the black-box comparison
 * with Dovecot (tests/blackbox/test_imap_search_dovecot.py).
 *
 * usage: imapsearch DIR 'SEARCH ...' | 'SORT (...) UTF-8 ...' |
 *        'THREAD alg UTF-8 ...'
 * DIR holds the messages as files 1, 2, ... (sequence numbers; UID =
 * sequence number); each file's mtime is its internal date, no flags.
 * Prints the untagged response ("* SEARCH 1 3", "* SORT ...", "* THREAD
 * ...") or "BAD text" / "NO text"; exits 0 either way, 1 on usage or
 * I/O errors.  SORT and THREAD arguments go through imap_sort_parse(),
 * their search keys through imap_parse_command() as a SEARCH.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "imap/imap_parse.h"
#include "imap/imap_search.h"
#include "imap/imap_sort.h"
#include "imap/imap_thread.h"
#include "mime.h"

#define MSGS_MAX	10000

struct dmsg {
	char		*data;
	size_t		 len;
	uint64_t	 size;
	int64_t		 mtime;
	struct mime_msg	 msg;
	bool		 parsed;
};

static int
load(void *arg, const struct mime_msg **msg_out)
{
	struct dmsg	*d = arg;

	if (!d->parsed) {
		mime_parse(&d->msg, d->data, d->len);
		d->parsed = true;
	}
	*msg_out = &d->msg;
	return 0;
}

static int
read_msgs(const char *dir, struct dmsg *v, size_t *n_out)
{
	char		path[4096];
	struct stat	st;
	size_t		n, i;
	int		fd;

	for (n = 0; n < MSGS_MAX; n++) {
		(void)snprintf(path, sizeof(path), "%s/%zu", dir, n + 1);
		if ((fd = open(path, O_RDONLY)) == -1) {
			if (errno == ENOENT)
				break;
			return -1;
		}
		if (fstat(fd, &st) == -1) {
			close(fd);
			return -1;
		}
		v[n].len = (size_t)st.st_size;
		v[n].data = malloc(v[n].len + 1);
		if (v[n].data == NULL || read(fd, v[n].data, v[n].len) !=
		    (ssize_t)v[n].len) {
			close(fd);
			return -1;
		}
		close(fd);
		v[n].mtime = (int64_t)st.st_mtime;
		/* RFC822.SIZE: the CRLF form */
		v[n].size = v[n].len;
		for (i = 0; i < v[n].len; i++)
			if (v[n].data[i] == '\n' && (i == 0 ||
			    v[n].data[i - 1] != '\r'))
				v[n].size++;
	}
	*n_out = n;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct dmsg	 v[MSGS_MAX];
	struct imap_search_ctx	 ctx;
	struct imap_search_msg	 m;
	struct imap_sort_args	 args;
	struct imap_sort_keys	*keys;
	struct imap_thread_msg	*tm;
	struct imap_cmd		 cmd;
	struct buf		 wire, out;
	struct span		 rest;
	const char		*err = NULL, *what;
	uint32_t		*hits;
	size_t			 n, i, nhits = 0, used = 0;
	bool			 sort, thread;
	int			 r;

	if (argc != 3 || read_msgs(argv[1], v, &n) == -1) {
		fprintf(stderr, "usage: imapsearch DIR COMMAND\n");
		return 1;
	}
	what = argv[2];
	sort = strncasecmp(what, "SORT ", 5) == 0;
	thread = strncasecmp(what, "THREAD ", 7) == 0;
	rest = span_str(what);
	memset(&args, 0, sizeof(args));
	if (sort || thread) {
		rest.ptr += sort ? 5 : 7;
		rest.len -= sort ? 5 : 7;
		if (imap_sort_parse(rest, thread, &args, &used, &err) == -1) {
			printf("BAD %s\n", err);
			return 0;
		}
		rest.ptr += used;
		rest.len -= used;
		if (!imap_search_charset_ok(args.charset)) {
			printf("NO " IMAP_SEARCH_BADCHARSET "\n");
			return 0;
		}
	} else {
		rest.ptr += 7;
		rest.len -= 7;
	}
	buf_init(&wire, 1 << 20);
	(void)buf_append_str(&wire, "A SEARCH ");
	(void)buf_append_span(&wire, rest);
	(void)buf_append_str(&wire, "\r\n");
	if (imap_parse_command(wire.data, wire.len, &cmd, &err) == -1) {
		printf("BAD %s\n", err);
		return 0;
	}
	if (imap_search_prepare(&ctx, &cmd.search, (uint32_t)n, (uint32_t)n,
	    NULL, 0, &err) == -1) {
		printf("NO %s\n", err);
		return 0;
	}
	hits = calloc(n + 1, sizeof(*hits));
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.seq = m.uid = (uint32_t)i + 1;
		m.size = v[i].size;
		m.internaldate = v[i].mtime;
		m.message = load;
		m.arg = &v[i];
		if ((r = imap_search_match(&ctx, &m)) == -1)
			return 1;
		if (r == 1)
			hits[nhits++] = (uint32_t)i;
	}
	buf_init(&out, SIZE_MAX);
	if (sort) {
		keys = calloc(nhits + 1, sizeof(*keys));
		for (i = 0; i < nhits; i++) {
			const struct mime_msg	*mm = NULL;

			(void)load(&v[hits[i]], &mm);
			imap_sort_keys_make(&args, &keys[i], hits[i] + 1,
			    hits[i] + 1, v[hits[i]].size, v[hits[i]].mtime, mm);
		}
		imap_sort_run(&args, keys, nhits);
		(void)buf_append_str(&out, "* SORT");
		for (i = 0; i < nhits; i++) {
			(void)buf_printf(&out, " %" PRIu32, keys[i].seq);
			imap_sort_keys_free(&keys[i]);
		}
		free(keys);
	} else if (thread) {
		tm = calloc(nhits + 1, sizeof(*tm));
		for (i = 0; i < nhits; i++) {
			const struct mime_msg	*mm = NULL;

			(void)load(&v[hits[i]], &mm);
			imap_thread_msg_make(&tm[i], mm, hits[i] + 1,
			    hits[i] + 1, v[hits[i]].mtime);
		}
		(void)buf_append_str(&out, "* THREAD ");
		(void)imap_thread_run(args.alg, tm, nhits, &out);
		for (i = 0; i < nhits; i++)
			imap_thread_msg_free(&tm[i]);
		free(tm);
	} else {
		(void)buf_append_str(&out, "* SEARCH");
		for (i = 0; i < nhits; i++)
			(void)buf_printf(&out, " %" PRIu32, hits[i] + 1);
	}
	printf("%s\n", out.data);
	buf_free(&out);
	buf_free(&wire);
	free(hits);
	imap_search_ctx_free(&ctx);
	imap_cmd_free(&cmd);
	for (i = 0; i < n; i++) {
		if (v[i].parsed)
			mime_msg_free(&v[i].msg);
		free(v[i].data);
	}
	return 0;
}
