/*
 * maildir_kw: a folder's keywords file, "dovecot-keywords" (contract in
 * maildir_kw.h).  Runs in every role that reads a Maildir (imap, pop3,
 * the mda through maildir_list()) as the mailboxes' owner.  It trusts
 * the path it is given, not the file: lines are checked one by one and
 * a damaged file is written again from what could be kept, plus a name
 * for every letter the messages still carry, so that a broken file costs
 * at most a keyword's spelling, never a flag.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "maildir.h"
#include "maildir_kw.h"
#include "util.h"

#define MAILDIR_KW_TMP		"dovecot-keywords.cachet-tmp"

void
maildir_kw_free(struct maildir_kw *kw)
{
	size_t	i;

	if (kw == NULL)
		return;
	for (i = 0; i < MAILDIR_KW_MAX; i++)
		free(kw->name[i]);
	memset(kw, 0, sizeof(*kw));
}

/* canon[]: each letter points at the first letter of its name. */
static void
maildir_kw_recanon(struct maildir_kw *kw)
{
	size_t	i, j;

	for (i = 0; i < MAILDIR_KW_MAX; i++) {
		kw->canon[i] = (uint8_t)i;
		if (kw->name[i] == NULL)
			continue;
		for (j = 0; j < i; j++)
			if (kw->name[j] != NULL &&
			    strcasecmp(kw->name[j], kw->name[i]) == 0) {
				kw->canon[i] = (uint8_t)j;
				break;
			}
	}
}

void
maildir_kw_copy(struct maildir_kw *dst, const struct maildir_kw *src)
{
	size_t	i;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < MAILDIR_KW_MAX; i++) {
		if (src->name[i] != NULL)
			dst->name[i] = xstrdup(src->name[i]);
		dst->canon[i] = src->canon[i];
	}
}

bool
maildir_kw_equal(const struct maildir_kw *a, const struct maildir_kw *b)
{
	size_t	i;

	for (i = 0; i < MAILDIR_KW_MAX; i++) {
		if ((a->name[i] == NULL) != (b->name[i] == NULL))
			return false;
		if (a->name[i] != NULL && strcmp(a->name[i], b->name[i]) != 0)
			return false;
	}
	return true;
}

bool
maildir_kw_name_ok(const char *p, size_t len)
{
	size_t		i;
	unsigned char	c;

	if (len == 0 || len > MAILDIR_KW_NAME_MAX || p[0] == '\\')
		return false;
	for (i = 0; i < len; i++) {
		c = (unsigned char)p[i];
		/* atom-specials: ( ) { SP CTL % * " \ ] (RFC 9051 §9) */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

/* One line: "<index> <name>"; the index is 0-25 without leading zeros. */
static int
maildir_kw_line(const char *p, size_t len, struct maildir_kw *out)
{
	size_t	i = 0, idx = 0;

	while (i < len && p[i] >= '0' && p[i] <= '9') {
		if (i > 0 && idx == 0)
			return -1;
		idx = idx * 10 + (size_t)(p[i] - '0');
		if (idx >= MAILDIR_KW_MAX)
			return -1;
		i++;
	}
	if (i == 0 || i >= len || p[i] != ' ')
		return -1;
	i++;
	if (!maildir_kw_name_ok(p + i, len - i) || out->name[idx] != NULL)
		return -1;
	out->name[idx] = xstrndup(p + i, len - i);
	return 0;
}

size_t
maildir_kw_parse(const char *p, size_t len, struct maildir_kw *out)
{
	const char	*end = p + len, *lf;
	size_t		 nbad = 0, n;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		n = lf != NULL ? (size_t)(lf - p) : (size_t)(end - p);
		if (n > 0 && maildir_kw_line(p, n, out) == -1)
			nbad++;
		p += n + (lf != NULL);
	}
	maildir_kw_recanon(out);
	return nbad;
}

int
maildir_kw_format(const struct maildir_kw *kw, struct buf *out)
{
	size_t	i;

	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if (kw->name[i] != NULL &&
		    buf_printf(out, "%zu %s\n", i, kw->name[i]) == -1)
			return -1;
	return 0;
}

int
maildir_kw_find(const struct maildir_kw *kw, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if (kw->name[i] != NULL && strlen(kw->name[i]) == len &&
		    strncasecmp(kw->name[i], name, len) == 0)
			return (int)kw->canon[i];
	return -1;
}

uint32_t
maildir_kw_mask(const char *letters)
{
	uint32_t	m = 0;

	for (; *letters != '\0'; letters++)
		if (*letters >= 'a' && *letters <= 'z')
			m |= (uint32_t)1 << (*letters - 'a');
	return m;
}

uint32_t
maildir_kw_canon_mask(const struct maildir_kw *kw, uint32_t mask)
{
	uint32_t	m = 0;
	size_t		i;

	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if (mask & ((uint32_t)1 << i))
			m |= (uint32_t)1 << kw->canon[i];
	return m;
}

size_t
maildir_kw_free_count(const struct maildir_kw *kw)
{
	size_t	i, n = 0;

	for (i = 0; i < MAILDIR_KW_MAX; i++)
		n += kw->name[i] == NULL;
	return n;
}

int
maildir_kw_read(const char *path, struct maildir_kw *out, size_t *nbad_out)
{
	char		 file[PATH_MAX];
	const char	*err = NULL;
	char		*text;
	size_t		 len, nbad = 1;
	int		 r;

	memset(out, 0, sizeof(*out));
	if (nbad_out != NULL)
		*nbad_out = 0;
	if (path_join(file, sizeof(file), path, MAILDIR_KW_FILE) == -1)
		return -1;
	r = maildir_file_read(file, MAILDIR_KW_FILE_MAX, &text, &len, NULL,
	    &err);
	if (r == -1)
		return -1;
	if (r == 0) {
		nbad = maildir_kw_parse(text, len, out);
		free(text);
	} else if (r == 2)	/* too large or no file: all of it is bad */
		log_warnx("maildir: %s: %s %s", path, MAILDIR_KW_FILE, err);
	if (nbad_out != NULL && r != 1)
		*nbad_out = nbad;
	return 0;
}

/* Replace the file atomically; the caller holds the uidlist lock. */
static int
maildir_kw_write(const char *path, const struct maildir_kw *kw)
{
	char		tmp[PATH_MAX], dst[PATH_MAX];
	struct buf	b;
	int		rc, saved;

	if (path_join(tmp, sizeof(tmp), path, MAILDIR_KW_TMP) == -1 ||
	    path_join(dst, sizeof(dst), path, MAILDIR_KW_FILE) == -1)
		return -1;
	buf_init(&b, MAILDIR_KW_FILE_MAX);
	rc = maildir_kw_format(kw, &b) == -1 ? -1 :
	    maildir_file_replace(path, tmp, dst, b.data, b.len);
	saved = errno;
	buf_free(&b);
	errno = saved;
	return rc;
}

/*
 * The keyword letters the files of path's cur/ and new/ carry: read
 * before a new keyword takes a letter, so that it never takes one that
 * messages already carry (a file the keywords file lost, or files moved
 * in since the last listing).  -1 when a directory cannot be read.
 */
static int
maildir_kw_used(const char *path, uint32_t *used_out)
{
	static const char *const subs[] = { "cur", "new" };
	char		 dir[PATH_MAX];
	const char	*info;
	struct dirent	*de;
	DIR		*d;
	size_t		 i;

	*used_out = 0;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (path_join(dir, sizeof(dir), path, subs[i]) == -1)
			return -1;
		if ((d = opendir(dir)) == NULL)
			return -1;
		while ((de = readdir(d)) != NULL)
			if ((info = strstr(de->d_name, ":2,")) != NULL)
				*used_out |= maildir_kw_mask(info + 3);
		(void)closedir(d);
	}
	return 0;
}

/* Name letter i "unknown-<i>", made unique with '?' as Dovecot does. */
static void
maildir_kw_name_unknown(struct maildir_kw *kw, size_t i)
{
	char	name[MAILDIR_KW_NAME_MAX + 1];
	size_t	n;

	n = (size_t)snprintf(name, sizeof(name), "unknown-%zu", i);
	while (maildir_kw_find(kw, name, n) != -1 && n < MAILDIR_KW_NAME_MAX) {
		name[n++] = '?';
		name[n] = '\0';
	}
	kw->name[i] = xstrdup(name);
}

void
maildir_kw_sync(const char *path, uint32_t used, struct maildir_kw *out)
{
	size_t	nbad = 0, i, named = 0;

	if (maildir_kw_read(path, out, &nbad) == -1) {
		log_warn("maildir: %s: cannot read %s", path, MAILDIR_KW_FILE);
		return;
	}
	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if ((used & ((uint32_t)1 << i)) && out->name[i] == NULL) {
			maildir_kw_name_unknown(out, i);
			named++;
		}
	if (nbad == 0 && named == 0)
		return;
	maildir_kw_recanon(out);
	log_warnx("maildir: %s: %s had %zu bad line(s) and %zu letter(s) "
	    "without a name, writing it again", path, MAILDIR_KW_FILE, nbad,
	    named);
	if (maildir_kw_write(path, out) == -1)
		log_warn("maildir: %s: cannot write %s", path,
		    MAILDIR_KW_FILE);
}

/* Name the letters files carry without a name (maildir_kw_used()). */
static int
maildir_kw_claim_used(const char *path, struct maildir_kw *kw,
    bool *changed)
{
	uint32_t	used;
	size_t		i;

	if (maildir_kw_used(path, &used) == -1)
		return -1;
	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if ((used & ((uint32_t)1 << i)) && kw->name[i] == NULL) {
			maildir_kw_name_unknown(kw, i);
			kw->canon[i] = (uint8_t)i;
			*changed = true;
		}
	return 0;
}

int
maildir_kw_define(const char *path, const struct span *names, size_t n,
    char *letters_out, struct maildir_kw *kw_out, const char **errstr_out)
{
	struct maildir_kw	kw;
	size_t			i, j, nbad = 0;
	int			lockfd, idx, saved;
	bool			changed = false, scanned = false;

	for (i = 0; i < n; i++)
		if (!maildir_kw_name_ok(names[i].ptr, names[i].len)) {
			if (errstr_out != NULL)
				*errstr_out = names[i].len >
				    MAILDIR_KW_NAME_MAX ? "keyword too long" :
				    "not a keyword";
			errno = EINVAL;
			return -1;
		}
	if ((lockfd = maildir_lock_folder(path)) == -1) {
		if (errstr_out != NULL)
			*errstr_out = "cannot lock the uidlist";
		return -1;
	}
	if (maildir_kw_read(path, &kw, &nbad) == -1) {
		if (errstr_out != NULL)
			*errstr_out = "cannot read the keywords";
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if ((idx = maildir_kw_find(&kw, names[i].ptr,
		    names[i].len)) == -1) {
			/* A letter no name and no file holds. */
			if (!scanned && maildir_kw_claim_used(path, &kw,
			    &changed) == -1) {
				if (errstr_out != NULL)
					*errstr_out = "cannot read the folder";
				goto fail;
			}
			scanned = true;
			for (j = 0; j < MAILDIR_KW_MAX; j++)
				if (kw.name[j] == NULL)
					break;
			if (j == MAILDIR_KW_MAX) {
				if (errstr_out != NULL)
					*errstr_out = "no keyword letter left";
				errno = ERANGE;
				goto fail;
			}
			kw.name[j] = xstrndup(names[i].ptr, names[i].len);
			kw.canon[j] = (uint8_t)j;
			idx = (int)j;
			changed = true;
		}
		letters_out[i] = (char)('a' + idx);
	}
	if ((changed || nbad > 0) && maildir_kw_write(path, &kw) == -1) {
		if (errstr_out != NULL)
			*errstr_out = "cannot write the keywords";
		goto fail;
	}
	maildir_unlock_folder(lockfd);
	if (kw_out != NULL)
		*kw_out = kw;
	else
		maildir_kw_free(&kw);
	return 0;
fail:
	saved = errno;
	maildir_unlock_folder(lockfd);
	maildir_kw_free(&kw);
	errno = saved;
	return -1;
}
