/*
 * psl: the Public Suffix List (psl.h).  Rules live in one open-addressing
 * hash table keyed by the rule's name in A-label form; each entry says
 * which kinds of rule (plain, wildcard parent, exception) each section
 * of the file holds for that name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "psl.h"
#include "util.h"

/* Entry flags: a kind per section, ICANN in the low three bits. */
#define PSL_K_PLAIN	0x1u	/* "a.b" */
#define PSL_K_WILD	0x2u	/* "*.a.b": stored under "a.b" */
#define PSL_K_EXCEPT	0x4u	/* "!a.b" */
#define PSL_K_SHIFT	3	/* PRIVATE's kinds */

/* RFC 3492 §5 parameters for IDNA (RFC 5891 §4.4). */
#define PUNY_BASE	36
#define PUNY_TMIN	1
#define PUNY_TMAX	26
#define PUNY_SKEW	38
#define PUNY_DAMP	700
#define PUNY_BIAS	72
#define PUNY_N		128
#define PSL_LABEL_MAX	63	/* RFC 1035 §2.3.4 */

struct psl_entry {
	char		*key;
	unsigned	 flags;
};

struct psl {
	struct psl_entry *v;
	size_t		 size;	/* power of two, 0 when empty */
	size_t		 count;
};

struct psl *
psl_new(void)
{
	return xcalloc(1, sizeof(struct psl));
}

void
psl_free(struct psl *psl)
{
	size_t	i;

	if (psl == NULL)
		return;
	for (i = 0; i < psl->size; i++)
		free(psl->v[i].key);
	free(psl->v);
	free(psl);
}

size_t
psl_count(const struct psl *psl)
{
	return psl->count;
}

static uint64_t
psl_hash(const char *s, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct psl_entry *
psl_slot(struct psl_entry *v, size_t size, const char *key, size_t len)
{
	size_t	i = psl_hash(key, len) & (size - 1);

	while (v[i].key != NULL && (strncmp(v[i].key, key, len) != 0 ||
	    v[i].key[len] != '\0'))
		i = (i + 1) & (size - 1);
	return &v[i];
}

static unsigned
psl_find(const struct psl *psl, const char *key, size_t len)
{
	struct psl_entry	*e;

	if (psl->size == 0)
		return 0;
	e = psl_slot(psl->v, psl->size, key, len);
	return e->key == NULL ? 0 : e->flags;
}

static void
psl_grow(struct psl *psl)
{
	struct psl_entry	*v, *e;
	size_t			 size, i;

	size = psl->size == 0 ? 1024 : psl->size * 2;
	v = xcalloc(size, sizeof(*v));
	for (i = 0; i < psl->size; i++) {
		if (psl->v[i].key == NULL)
			continue;
		e = psl_slot(v, size, psl->v[i].key, strlen(psl->v[i].key));
		*e = psl->v[i];
	}
	free(psl->v);
	psl->v = v;
	psl->size = size;
}

static int
psl_add(struct psl *psl, const char *key, size_t len, unsigned flags)
{
	struct psl_entry	*e;

	/* Keep the table at most half full so probes stay short. */
	if ((psl->count + 1) * 2 > psl->size)
		psl_grow(psl);
	e = psl_slot(psl->v, psl->size, key, len);
	if (e->key == NULL) {
		if (psl->count >= PSL_RULES_MAX)
			return -1;
		e->key = xstrndup(key, len);
		psl->count++;
	}
	e->flags |= flags;
	return 0;
}

/* --- IDNA: UTF-8 label to A-label ------------------------------------- */

/* Decode one UTF-8 sequence (RFC 3629 §4: no overlongs, no surrogates). */
static int
psl_utf8(const unsigned char *p, size_t len, uint32_t *cp, size_t *used)
{
	uint32_t	c, min;
	size_t		n, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		*used = 1;
		return 0;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (len < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	*used = n;
	return 0;
}

static uint32_t
puny_adapt(uint32_t delta, uint32_t npoints, bool first)
{
	uint32_t	k = 0;

	delta = first ? delta / PUNY_DAMP : delta / 2;
	delta += delta / npoints;
	while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
		delta /= PUNY_BASE - PUNY_TMIN;
		k += PUNY_BASE;
	}
	return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

static int
puny_put(char *out, size_t outsz, size_t *o, uint32_t d)
{
	if (*o + 1 >= outsz)
		return -1;
	out[(*o)++] = d < 26 ? (char)('a' + d) : (char)('0' + d - 26);
	return 0;
}

/* RFC 3492 §6.3, for the code points of one label, after "xn--". */
static int
puny_encode(const uint32_t *cp, size_t ncp, char *out, size_t outsz,
    size_t *o)
{
	uint32_t	n = PUNY_N, delta = 0, bias = PUNY_BIAS, m, q, t, k;
	size_t		h, b = 0, j;

	for (j = 0; j < ncp; j++) {
		if (cp[j] < 0x80) {
			if (*o + 1 >= outsz)
				return -1;
			out[(*o)++] = (char)cp[j];
			b++;
		}
	}
	if (b > 0) {
		if (*o + 1 >= outsz)
			return -1;
		out[(*o)++] = '-';
	}
	for (h = b; h < ncp; n++, delta++) {
		m = UINT32_MAX;
		for (j = 0; j < ncp; j++)
			if (cp[j] >= n && cp[j] < m)
				m = cp[j];
		/* ncp <= PSL_NAME_MAX, m <= 0x10ffff: no overflow. */
		delta += (m - n) * (uint32_t)(h + 1);
		n = m;
		for (j = 0; j < ncp; j++) {
			if (cp[j] < n)
				delta++;
			if (cp[j] != n)
				continue;
			for (q = delta, k = PUNY_BASE;; k += PUNY_BASE) {
				t = k <= bias ? PUNY_TMIN : k >= bias + PUNY_TMAX ?
				    PUNY_TMAX : k - bias;
				if (q < t)
					break;
				if (puny_put(out, outsz, o,
				    t + (q - t) % (PUNY_BASE - t)) == -1)
					return -1;
				q = (q - t) / (PUNY_BASE - t);
			}
			if (puny_put(out, outsz, o, q) == -1)
				return -1;
			bias = puny_adapt(delta, (uint32_t)h + 1, h == b);
			delta = 0;
			h++;
		}
	}
	return 0;
}

/* One label p[0..len) in A-label form appended at out[*o]. */
static int
psl_alabel_one(const char *p, size_t len, char *out, size_t outsz,
    size_t *o)
{
	uint32_t	cp[PSL_NAME_MAX];
	size_t		ncp = 0, i, used, start = *o;
	bool		ascii = true;
	unsigned char	c;

	for (i = 0; i < len; i += used) {
		if (ncp == PSL_NAME_MAX ||
		    psl_utf8((const unsigned char *)p + i, len - i, &cp[ncp],
		    &used) == -1)
			return -1;
		/* No controls, spaces or DEL in a name. */
		if (cp[ncp] <= 0x20 || cp[ncp] == 0x7f)
			return -1;
		if (cp[ncp] >= 'A' && cp[ncp] <= 'Z')
			cp[ncp] += 'a' - 'A';
		if (cp[ncp] >= 0x80)
			ascii = false;
		ncp++;
	}
	if (ascii) {
		for (i = 0; i < ncp; i++) {
			if (*o + 1 >= outsz)
				return -1;
			c = (unsigned char)cp[i];
			out[(*o)++] = (char)c;
		}
	} else {
		if (*o + 4 >= outsz)
			return -1;
		memcpy(out + *o, "xn--", 4);
		*o += 4;
		if (puny_encode(cp, ncp, out, outsz, o) == -1)
			return -1;
	}
	return *o - start > PSL_LABEL_MAX ? -1 : 0;
}

int
psl_alabel(const char *name, size_t len, char *out, size_t outsz)
{
	size_t	o = 0, i, start;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || outsz == 0)
		return -1;
	for (start = 0, i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if (i == start)
			return -1;		/* an empty label */
		if (start > 0) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
		}
		if (psl_alabel_one(name + start, i - start, out, outsz,
		    &o) == -1)
			return -1;
		start = i + 1;
	}
	if (o > PSL_NAME_MAX)
		return -1;
	out[o] = '\0';
	return 0;
}

/* --- the file --------------------------------------------------------- */

/* One rule (a line's first word), for the section given. */
static int
psl_rule(struct psl *psl, const char *p, size_t len, unsigned section,
    bool *skip)
{
	char		 name[PSL_NAME_MAX + 1];
	unsigned	 kind = PSL_K_PLAIN;

	*skip = true;
	if (len > 0 && p[0] == '!') {
		kind = PSL_K_EXCEPT;
		p++;
		len--;
	} else if (len >= 2 && p[0] == '*' && p[1] == '.') {
		kind = PSL_K_WILD;
		p += 2;
		len -= 2;
	}
	/* A '*' elsewhere is no rule the algorithm knows. */
	if (memchr(p, '*', len) != NULL ||
	    psl_alabel(p, len, name, sizeof(name)) == -1)
		return 0;
	*skip = false;
	return psl_add(psl, name, strlen(name), section == PSL_PRIVATE ?
	    kind << PSL_K_SHIFT : kind);
}

int
psl_parse(struct psl *psl, const char *buf, size_t len, size_t *skipped_out,
    const char **errstr)
{
	size_t		 i = 0, eol, w, skipped = 0;
	unsigned	 section = PSL_ICANN;
	struct span	 line;
	bool		 skip;

	while (i < len) {
		eol = i;
		while (eol < len && buf[eol] != '\n')
			eol++;
		line = span_make(buf + i, eol - i);
		i = eol + 1;
		if (line.len > 0 && line.ptr[line.len - 1] == '\r')
			line.len--;
		if (line.len >= 2 && line.ptr[0] == '/' && line.ptr[1] == '/') {
			if (span_startswith_case(line,
			    "// ===BEGIN PRIVATE DOMAINS==="))
				section = PSL_PRIVATE;
			else if (span_startswith_case(line,
			    "// ===BEGIN ICANN DOMAINS==="))
				section = PSL_ICANN;
			continue;
		}
		/* The rule is the line's first word. */
		for (w = 0; w < line.len && line.ptr[w] != ' ' &&
		    line.ptr[w] != '\t'; w++)
			;
		if (w == 0)
			continue;
		if (w > PSL_LINE_MAX) {
			skipped++;
			continue;
		}
		if (psl_rule(psl, line.ptr, w, section, &skip) == -1) {
			*errstr = "more rules than PSL_RULES_MAX";
			return -1;
		}
		if (skip)
			skipped++;
	}
	if (skipped_out != NULL)
		*skipped_out = skipped;
	return 0;
}

int
psl_load(struct psl *psl, const char *path, size_t *skipped_out,
    const char **errstr)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 n;
	int		 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*errstr = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > PSL_FILE_MAX) {
		*errstr = "not a regular file of at most PSL_FILE_MAX";
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read_full(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		*errstr = "short read";
		free(buf);
		return -1;
	}
	rc = psl_parse(psl, buf, (size_t)n, skipped_out, errstr);
	free(buf);
	return rc;
}

/* --- lookups ---------------------------------------------------------- */

static unsigned
psl_kinds(unsigned flags, unsigned sections)
{
	unsigned	k = 0;

	if (sections & PSL_ICANN)
		k |= flags & 0x7u;
	if (sections & PSL_PRIVATE)
		k |= (flags >> PSL_K_SHIFT) & 0x7u;
	return k;
}

/* The public suffix's labels of an A-label name of n labels. */
static size_t
psl_suffix_alabel(const struct psl *psl, const char *a, size_t alen,
    const size_t *start, size_t n, unsigned sections)
{
	size_t		i, count, best = 1, except = 0;
	unsigned	k;

	for (i = n; i-- > 0;) {
		count = n - i;
		k = psl_kinds(psl_find(psl, a + start[i], alen - start[i]),
		    sections);
		if (k & PSL_K_EXCEPT)
			except = count - 1;
		if ((k & PSL_K_PLAIN) && count > best)
			best = count;
		/* "*.suffix" covers one label more, when there is one. */
		if ((k & PSL_K_WILD) && i > 0 && count + 1 > best)
			best = count + 1;
	}
	return except > 0 ? except : best;
}

/* Label starts of name[0..len) (no empty labels: psl_alabel checked). */
static size_t
psl_labels(const char *name, size_t len, size_t *start)
{
	size_t	n = 0, i;

	start[n++] = 0;
	for (i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (n == PSL_LABELS_MAX)
				return 0;
			start[n++] = i + 1;
		}
	}
	return n;
}

size_t
psl_suffix_labels(const struct psl *psl, const char *name, size_t len,
    unsigned sections)
{
	/* Zeroed: clang-analyzer cannot see psl_alabel() fill it. */
	char	a[PSL_NAME_MAX + 1] = { 0 };
	size_t	start[PSL_LABELS_MAX], n;

	if (psl_alabel(name, len, a, sizeof(a)) == -1)
		return 0;
	if ((n = psl_labels(a, strlen(a), start)) == 0)
		return 0;
	return psl_suffix_alabel(psl, a, strlen(a), start, n, sections);
}

int
psl_org_domain(const struct psl *psl, const char *name, size_t len,
    unsigned sections, const char **out, size_t *outlen)
{
	size_t	start[PSL_LABELS_MAX], n, s;

	if ((s = psl_suffix_labels(psl, name, len, sections)) == 0)
		return -1;
	if (len > 0 && name[len - 1] == '.')
		len--;
	/* psl_alabel keeps the labels, so count them in name itself. */
	if ((n = psl_labels(name, len, start)) == 0 || n <= s)
		return -1;
	*out = name + start[n - s - 1];
	*outlen = len - start[n - s - 1];
	return 0;
}
