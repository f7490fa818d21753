/*
 * dovecot_uidlist: reading a Dovecot "dovecot-uidlist" so that a Maildir
 * Dovecot served keeps its UIDs under cachet (contract and formats in
 * dovecot_uidlist.h).  Called by maildir_list() in whichever role lists
 * the folder first, as the mailboxes' owner, under the uidlist lock.  It
 * trusts nothing in the file: every number is bounded, every line
 * checked, and what does not parse is dropped, never guessed at.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dovecot_uidlist.h"
#include "log.h"
#include "maildir.h"
#include "util.h"

/* A decimal of at most 20 digits and at most max, then end or a space. */
static int
dcu_num(const char **pp, const char *end, uint64_t max, uint64_t *out)
{
	const char	*p = *pp;
	uint64_t	 v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v) ||
		    v > max)
			return -1;
	if (p < end && *p != ' ')
		return -1;
	*out = v;
	*pp = p;
	return 0;
}

static void
dcu_spaces(const char **pp, const char *end)
{
	while (*pp < end && **pp == ' ')
		(*pp)++;
}

/* "3 V<uv> N<next> ..." or "1 <uv> <next>"; the version into *ver. */
static int
dcu_header(const char *p, const char *end, int *ver, uint64_t *uv,
    uint64_t *next)
{
	const char	*tok;

	*uv = *next = 0;
	if (end - p < 2 || (p[0] != '1' && p[0] != '3') || p[1] != ' ')
		return -1;
	*ver = p[0] - '0';
	p += 2;
	if (*ver == 1) {
		if (dcu_num(&p, end, UINT32_MAX, uv) == -1)
			return -1;
		dcu_spaces(&p, end);
		if (dcu_num(&p, end, UINT32_MAX, next) == -1)
			return -1;
		dcu_spaces(&p, end);
		return p == end && *uv != 0 && *next != 0 ? 0 : -1;
	}
	while (dcu_spaces(&p, end), p < end) {
		tok = p++;
		if (*tok == 'V' || *tok == 'N') {
			if (dcu_num(&p, end, UINT32_MAX,
			    *tok == 'V' ? uv : next) == -1)
				return -1;
			continue;
		}
		while (p < end && *p != ' ')	/* a key we do not use */
			p++;
	}
	return *uv != 0 && *next != 0 ? 0 : -1;
}

static bool
dcu_base_ok(const char *p, size_t n)
{
	size_t	i;

	if (n == 0 || n > MAILDIR_NAME_MAX || p[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (p[i] == '/' || (unsigned char)p[i] < 0x20 ||
		    (unsigned char)p[i] == 0x7f)
			return false;
	return true;
}

/*
 * One record line into r (base pointing into the line); -1 when it is
 * not well formed.  Version 3 fields before ':' are skipped but S and W.
 */
static int
dcu_record(const char *p, const char *end, int ver,
    struct maildir_uidlist_rec *r, const char **base, size_t *baselen)
{
	const char	*name, *colon, *tok;
	uint64_t	 uid, s = 0, w = 0;
	bool		 have_s = false, have_w = false;

	if (dcu_num(&p, end, UINT32_MAX - 1, &uid) == -1 || uid == 0 ||
	    p == end)
		return -1;
	dcu_spaces(&p, end);
	if (ver == 3) {
		while (p < end && *p != ':') {
			tok = p++;
			if (*tok < 'A' || *tok > 'Z')
				return -1;
			if (*tok == 'S' || *tok == 'W') {
				if (dcu_num(&p, end, INT64_MAX,
				    *tok == 'S' ? &s : &w) == -1)
					return -1;
				*(*tok == 'S' ? &have_s : &have_w) = true;
			} else
				while (p < end && *p != ' ')
					p++;
			dcu_spaces(&p, end);
		}
		if (p == end)
			return -1;
		p++;	/* the ':' before the name */
	}
	name = p;
	colon = memchr(name, ':', (size_t)(end - name));
	*baselen = (size_t)((colon != NULL ? colon : end) - name);
	if (!dcu_base_ok(name, *baselen))
		return -1;
	*base = name;
	r->uid = (uint32_t)uid;
	r->size = UINT64_MAX;
	r->size_crlf = 0;
	if (have_s && have_w && w >= s && w - s <= s) {
		r->size = s;
		r->size_crlf = w;
	}
	return 0;
}

static int
dcu_basecmp(const void *a, const void *b)
{
	const struct maildir_uidlist_rec *const	*x = a, *const *y = b;
	size_t					 n;
	int					 c;

	n = (*x)->baselen < (*y)->baselen ? (*x)->baselen : (*y)->baselen;
	if ((c = memcmp((*x)->base, (*y)->base, n)) != 0)
		return c;
	if ((*x)->baselen != (*y)->baselen)
		return (*x)->baselen < (*y)->baselen ? -1 : 1;
	return (*x)->uid < (*y)->uid ? -1 : (*x)->uid > (*y)->uid;
}

/* A base name listed twice keeps its higher UID; the count dropped. */
static size_t
dcu_dedupe(struct maildir_uidlist *ul)
{
	struct maildir_uidlist_rec	**v;
	size_t				  i, o, ndup = 0;

	if (ul->nrecs < 2)
		return 0;
	/* NOLINTBEGIN(bugprone-sizeof-expression): an array of pointers */
	v = xcalloc(ul->nrecs, sizeof(*v));
	for (i = 0; i < ul->nrecs; i++)
		v[i] = &ul->recs[i];
	qsort(v, ul->nrecs, sizeof(*v), dcu_basecmp);
	/* NOLINTEND(bugprone-sizeof-expression) */
	for (i = 1; i < ul->nrecs; i++)
		if (v[i - 1]->baselen == v[i]->baselen &&
		    memcmp(v[i - 1]->base, v[i]->base, v[i]->baselen) == 0) {
			v[i - 1]->uid = 0;	/* the lower one goes */
			ndup++;
		}
	free(v);
	for (i = 0, o = 0; i < ul->nrecs; i++)
		if (ul->recs[i].uid != 0)
			ul->recs[o++] = ul->recs[i];
	ul->nrecs = o;
	return ndup;
}

int
dovecot_uidlist_parse(const char *p, size_t len, struct maildir_uidlist *out,
    size_t *nbad_out, const char **errstr_out)
{
	struct maildir_uidlist_rec	 r;
	const char			*end = p + len, *lf, *line, *base;
	char				*t;
	uint64_t			 uv, next;
	size_t				 nlines = 0, nbad = 0, baselen, n;
	uint32_t			 prev = 0;
	int				 ver;

	memset(out, 0, sizeof(*out));
	if (nbad_out != NULL)
		*nbad_out = 0;
	if (len > MAILDIR_UIDLIST_MAX) {
		*errstr_out = "too large";
		return -1;
	}
	lf = memchr(p, '\n', len);
	n = (size_t)((lf != NULL ? lf : end) - p);
	if (n > DOVECOT_UIDLIST_LINE_MAX ||
	    dcu_header(p, p + n, &ver, &uv, &next) == -1) {
		*errstr_out = "bad header";
		return -1;
	}
	line = lf != NULL ? lf + 1 : end;
	for (lf = line; lf < end; lf++) {
		if ((lf = memchr(lf, '\n', (size_t)(end - lf))) == NULL)
			lf = end;
		if (++nlines > MAILDIR_LIST_MAX) {
			*errstr_out = "too many records";
			return -1;
		}
	}
	out->recs = xcalloc(nlines + 1, sizeof(*out->recs));
	/* The base names, NUL-terminated, fit in the text's own length. */
	out->text = t = xmalloc((size_t)(end - line) + 1);
	for (; line < end; line = lf + 1) {
		if ((lf = memchr(line, '\n', (size_t)(end - line))) == NULL)
			lf = end;
		n = (size_t)(lf - line);
		if (n == 0)
			continue;
		memset(&r, 0, sizeof(r));
		if (n > DOVECOT_UIDLIST_LINE_MAX ||
		    dcu_record(line, lf, ver, &r, &base, &baselen) == -1 ||
		    r.uid <= prev) {
			nbad++;
			continue;
		}
		memcpy(t, base, baselen);
		t[baselen] = '\0';
		r.base = t;
		r.baselen = baselen;
		t += baselen + 1;
		out->recs[out->nrecs++] = r;
		prev = r.uid;
	}
	nbad += dcu_dedupe(out);
	out->uidvalidity = (uint32_t)uv;
	out->uidnext = (uint32_t)next;
	if (prev != 0 && out->uidnext <= prev)
		out->uidnext = prev + 1;
	if (nbad_out != NULL)
		*nbad_out = nbad;
	return 0;
}

int
dovecot_uidlist_read(const char *path, struct maildir_uidlist *out)
{
	char		 file[PATH_MAX];
	const char	*err = NULL;
	char		*text;
	size_t		 len, nbad = 0;
	int		 r;

	memset(out, 0, sizeof(*out));
	if (path_join(file, sizeof(file), path, DOVECOT_UIDLIST_FILE) == -1)
		return -1;
	r = maildir_file_read(file, MAILDIR_UIDLIST_MAX, &text, &len, NULL,
	    &err);
	if (r == 0) {
		r = dovecot_uidlist_parse(text, len, out, &nbad, &err) == 0 ?
		    0 : 2;
		free(text);
	}
	if (r == 2)
		log_warnx("maildir: %s: %s not adopted (%s)", path,
		    DOVECOT_UIDLIST_FILE, err);
	else if (r == 0 && nbad > 0)
		log_warnx("maildir: %s: %zu record(s) of %s dropped (their "
		    "messages get new UIDs)", path, nbad, DOVECOT_UIDLIST_FILE);
	return r;
}
