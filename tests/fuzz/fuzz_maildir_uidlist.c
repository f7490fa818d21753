/*
 * libFuzzer target for the uidlist parser (maildir.c), which reads a file
 * that a crash, a disk, a hand edit or another program may have damaged.
 * The first byte picks the mode:
 *  - even: the rest is parsed.  Accepted text formats back to the very
 *    same bytes (only the canonical form is accepted), its UIDs increase
 *    and stay below uidnext, its sizes agree; rejected text leaves
 *    nothing allocated and an error string.
 *  - odd: the rest becomes the cachet-uidlist of a small Maildir on
 *    tmpfs, and maildir_list() must succeed: every file listed once with
 *    a unique UID below uidnext, UIDs kept from an accepted uidlist with
 *    the same UIDVALIDITY, a new UIDVALIDITY after a rejected one, and a
 *    uidlist left behind that parses.
 * Input is copied to a heap block of exactly its length so that a read
 * past it trips ASan.  abort() marks a broken invariant.  The list mode
 * logs a warning for every corrupt uidlist (as it should), which would
 * flood the fuzzer's log: stderr is muted around maildir_list() while
 * sanitizer reports go to a copy of it (FUZZ_VERBOSE=1 keeps it all).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "buf.h"
#include "maildir.h"
#include "util.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fz_dir[PATH_MAX];	/* the Maildir of the list mode */
static int	fz_stderr = -1;		/* a copy of stderr for reports */
static int	fz_null = -1;		/* /dev/null, stderr while muted */

static const struct {
	const char	*sub;
	const char	*name;
	const char	*body;
} fz_files[] = {
	{ "new", "1.a.host", "x\n" },
	{ "cur", "2.b.host:2,S", "ab\r\n" },
	{ "new", "3.c.host,S=2,W=3", "y\n" },
};
#define FZ_NFILES	(sizeof(fz_files) / sizeof(fz_files[0]))

static void
fz_write(const char *dir, const char *sub, const char *name, const void *p,
    size_t len)
{
	char	path[PATH_MAX];
	int	fd;

	if (snprintf(path, sizeof(path), "%s/%s%s%s", dir, sub,
	    name[0] != '\0' ? "/" : "", name) >= (int)sizeof(path))
		abort();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || write_full(fd, p, len) == -1 || close(fd) == -1)
		abort();
}

static void
fz_rm(void)
{
	char	cmd[PATH_MAX + 16];

	if (fz_dir[0] != '\0' &&
	    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fz_dir) <
	    (int)sizeof(cmd))
		(void)system(cmd);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*base;
	size_t		 i;

	base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	if (snprintf(fz_dir, sizeof(fz_dir), "%s/fuzz_maildir_uidlist.%ld",
	    base, (long)getpid()) >= (int)sizeof(fz_dir))
		abort();
	if (maildir_create(fz_dir, NULL) == -1)
		abort();
	for (i = 0; i < FZ_NFILES; i++)
		fz_write(fz_dir, fz_files[i].sub, fz_files[i].name,
		    fz_files[i].body, strlen(fz_files[i].body));
	(void)atexit(fz_rm);
	if (getenv("FUZZ_VERBOSE") == NULL) {
		if ((fz_stderr = dup(2)) == -1 ||
		    (fz_null = open("/dev/null", O_WRONLY)) == -1)
			abort();
		__sanitizer_set_report_fd((void *)(intptr_t)fz_stderr);
	}
	return 0;
}

static void
fz_mute(bool mute)
{
	if (fz_null != -1 &&
	    dup2(mute ? fz_null : fz_stderr, 2) == -1)
		abort();
}

static void
fz_parse(const char *p, size_t len)
{
	struct maildir_uidlist	 ul;
	struct buf		 out;
	const char		*err = NULL;
	size_t			 i;

	if (maildir_uidlist_parse(p, len, &ul, &err) == -1) {
		if (err == NULL || ul.recs != NULL || ul.text != NULL ||
		    ul.nrecs != 0)
			abort();
		return;
	}
	if (ul.uidvalidity == 0 || ul.uidnext == 0)
		abort();
	for (i = 0; i < ul.nrecs; i++) {
		if (ul.recs[i].uid == 0 || ul.recs[i].uid >= ul.uidnext ||
		    (i > 0 && ul.recs[i].uid <= ul.recs[i - 1].uid) ||
		    ul.recs[i].size_crlf < ul.recs[i].size ||
		    ul.recs[i].baselen == 0 ||
		    ul.recs[i].baselen > MAILDIR_NAME_MAX ||
		    strlen(ul.recs[i].base) != ul.recs[i].baselen)
			abort();
	}
	buf_init(&out, MAILDIR_UIDLIST_MAX);
	if (maildir_uidlist_format(&ul, &out) == -1 || out.len != len ||
	    memcmp(out.data, p, len) != 0)
		abort();
	buf_free(&out);
	maildir_uidlist_free(&ul);
}

static void
fz_list(const char *p, size_t len)
{
	struct maildir_uidlist		 in, after;
	struct maildir_list		 l;
	const struct maildir_entry	*e;
	char				 path[PATH_MAX];
	struct buf			 text;
	char				 chunk[4096];
	size_t				 i, j, baselen;
	bool				 ok;
	ssize_t				 n;
	int				 fd;

	fz_write(fz_dir, "cachet-uidlist", "", p, len);
	ok = maildir_uidlist_parse(p, len, &in, NULL) == 0;
	fz_mute(true);
	i = (size_t)maildir_list(fz_dir, &l, NULL);
	fz_mute(false);
	if (i != 0 || l.nentries != FZ_NFILES)
		abort();
	if (!ok && in.uidvalidity != 0 && l.uidvalidity == in.uidvalidity)
		abort();
	for (i = 0; i < l.nentries; i++) {
		e = &l.entries[i];
		if (e->uid == 0 || e->uid >= l.uidnext ||
		    (i > 0 && e->uid <= l.entries[i - 1].uid))
			abort();
		if (!ok || l.uidvalidity != in.uidvalidity)
			continue;
		baselen = strcspn(e->name, ":");
		for (j = 0; j < in.nrecs; j++)
			if (in.recs[j].baselen == baselen &&
			    memcmp(in.recs[j].base, e->name, baselen) == 0 &&
			    in.recs[j].uid != e->uid)
				abort();
	}
	maildir_list_free(&l);
	maildir_uidlist_free(&in);

	/* What it wrote parses. */
	if (snprintf(path, sizeof(path), "%s/cachet-uidlist", fz_dir) >=
	    (int)sizeof(path) || (fd = open(path, O_RDONLY)) == -1)
		abort();
	buf_init(&text, MAILDIR_UIDLIST_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 || (n > 0 && buf_append(&text, chunk, (size_t)n)))
			abort();
		if (n == 0)
			break;
	}
	(void)close(fd);
	if (maildir_uidlist_parse(text.data, text.len, &after, NULL) == -1 ||
	    after.nrecs != FZ_NFILES)
		abort();
	maildir_uidlist_free(&after);
	buf_free(&text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*copy;

	if (size == 0)
		return 0;
	copy = xmalloc(size - 1);
	if (size > 1)
		memcpy(copy, data + 1, size - 1);
	if ((data[0] & 1) == 0)
		fz_parse(copy, size - 1);
	else
		fz_list(copy, size - 1);
	free(copy);
	return 0;
}
