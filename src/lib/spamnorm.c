/*
 * spamnorm: see spamnorm.h.  Two passes: code points to one ASCII byte
 * each (look-alikes to their Latin letter, zero-width dropped), then
 * words (leetspeak inside words, letters spelt apart joined).  The
 * tables are ours, written from Unicode's confusables list and code
 * charts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spamnorm.h"
#include "util.h"

#define SPAM_NORM_WORD_MAX	64	/* a joined word longer is cut */
#define SPAM_NORM_OTHER		'~'	/* a letter with no Latin twin */

/* U+0100..U+017F, Latin Extended-A, to its base letter. */
static const char spam_norm_latin_a[128 + 1] =
    "aaaaaacccccccc" "dddd" "eeeeeeeeee" "gggggggg" "hhhh" "iiiiiiiiii"
    "ii" "jj" "kkk" "llllllllll" "nnnnnnnnn" "oooooo" "oo" "rrrrrr"
    "ssssssss" "tttttt" "uuuuuuuuuuuu" "ww" "yyy" "zzzzzz" "s";

/*
 * ASCII as spam_norm_cp() maps it (capitals lower-cased, controls and
 * DEL as a space, '~' as '.'), a table for the bytes most text is made of.
 */
static const char spam_norm_ascii[128 + 1] =
    "                                "	/* 0x00..0x1f */
    " !\"#$%&'()*+,-./0123456789:;<=>?"	/* 0x20..0x3f */
    "@abcdefghijklmnopqrstuvwxyz[\\]^_"	/* 0x40..0x5f */
    "`abcdefghijklmnopqrstuvwxyz{|}. ";	/* 0x60..0x7f */

/* U+00C0..U+00FF, the letters of Latin-1 ('.' for × and ÷). */
static const char spam_norm_latin1[64 + 1] =
    "aaaaaaaceeeeiiiidnooooo.ouuuuyds"
    "aaaaaaaceeeeiiiidnooooo.ouuuuydy";

struct spam_norm_pair {
	uint32_t	cp;
	char		c;
};

/*
 * Greek and Cyrillic letters that imitate Latin ones (Unicode
 * confusables, plus the lower-case forms readers take for the letter),
 * sorted by code point for bsearch.
 */
static const struct spam_norm_pair spam_norm_confusables[] = {
	{ 0x0386, 'a' }, { 0x0388, 'e' }, { 0x0389, 'h' }, { 0x038a, 'i' },
	{ 0x038c, 'o' }, { 0x038e, 'y' },
	{ 0x0391, 'a' }, { 0x0392, 'b' }, { 0x0395, 'e' }, { 0x0396, 'z' },
	{ 0x0397, 'h' }, { 0x0399, 'i' }, { 0x039a, 'k' }, { 0x039c, 'm' },
	{ 0x039d, 'n' }, { 0x039f, 'o' }, { 0x03a1, 'p' }, { 0x03a4, 't' },
	{ 0x03a5, 'y' }, { 0x03a7, 'x' }, { 0x03aa, 'i' }, { 0x03ab, 'y' },
	{ 0x03ac, 'a' }, { 0x03ad, 'e' }, { 0x03ae, 'n' }, { 0x03af, 'i' },
	{ 0x03b1, 'a' }, { 0x03b2, 'b' }, { 0x03b3, 'y' }, { 0x03b5, 'e' },
	{ 0x03b7, 'n' }, { 0x03b9, 'i' }, { 0x03ba, 'k' }, { 0x03bd, 'v' },
	{ 0x03bf, 'o' }, { 0x03c1, 'p' }, { 0x03c2, 's' }, { 0x03c4, 't' },
	{ 0x03c5, 'u' }, { 0x03c7, 'x' }, { 0x03c9, 'w' }, { 0x03ca, 'i' },
	{ 0x03cb, 'u' }, { 0x03cc, 'o' }, { 0x03cd, 'u' }, { 0x03ce, 'w' },
	{ 0x0405, 's' }, { 0x0406, 'i' }, { 0x0407, 'i' }, { 0x0408, 'j' },
	{ 0x0410, 'a' }, { 0x0412, 'b' }, { 0x0415, 'e' }, { 0x041a, 'k' },
	{ 0x041c, 'm' }, { 0x041d, 'h' }, { 0x041e, 'o' }, { 0x0420, 'p' },
	{ 0x0421, 'c' }, { 0x0422, 't' }, { 0x0423, 'y' }, { 0x0425, 'x' },
	{ 0x0430, 'a' }, { 0x0432, 'b' }, { 0x0435, 'e' }, { 0x043a, 'k' },
	{ 0x043c, 'm' }, { 0x043d, 'h' }, { 0x043e, 'o' }, { 0x0440, 'p' },
	{ 0x0441, 'c' }, { 0x0442, 't' }, { 0x0443, 'y' }, { 0x0445, 'x' },
	{ 0x0450, 'e' }, { 0x0451, 'e' }, { 0x0455, 's' }, { 0x0456, 'i' },
	{ 0x0457, 'i' }, { 0x0458, 'j' }, { 0x04ae, 'y' }, { 0x04af, 'y' },
	{ 0x04bb, 'h' }, { 0x04c0, 'i' }, { 0x04cf, 'i' }, { 0x0501, 'd' },
	{ 0x051b, 'q' }, { 0x051d, 'w' },
};

static int
spam_norm_pair_cmp(const void *k, const void *e)
{
	uint32_t			 cp = *(const uint32_t *)k;
	const struct spam_norm_pair	*p = e;

	return cp < p->cp ? -1 : cp > p->cp ? 1 : 0;
}

/*
 * One code point to one byte: a lower-case letter, a digit, ASCII
 * punctuation, ' ' for a space, SPAM_NORM_OTHER for a letter we cannot
 * read, or 0 for nothing (zero-width and format characters).
 */
static char
spam_norm_cp(uint32_t cp)
{
	const struct spam_norm_pair	*p;
	static const char		 math[] =
	    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";

	/* fullwidth ASCII (U+FF01..U+FF5E) is read as ASCII */
	if (cp >= 0xff01 && cp <= 0xff5e)
		cp -= 0xfee0;
	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z')
			return (char)(cp - 'A' + 'a');
		if (cp <= ' ' || cp == 0x7f)
			return ' ';
		if (cp == SPAM_NORM_OTHER)
			return '.';
		return (char)cp;
	}
	/* format characters that render as nothing */
	if (cp == 0x00ad || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff || cp == 0x180e ||
	    cp == 0x034f || (cp >= 0x202a && cp <= 0x202e))
		return 0;
	if (cp == 0x00a0 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	    cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 ||
	    cp == 0x0085)
		return ' ';
	if (cp >= 0x2010 && cp <= 0x2015)
		return '-';
	if (cp >= 0x2018 && cp <= 0x201f)
		return '\'';
	if (cp == 0x00a1)		/* inverted exclamation */
		return '!';
	if (cp >= 0x00c0 && cp <= 0x00ff)
		return spam_norm_latin1[cp - 0xc0];
	if (cp >= 0x0100 && cp <= 0x017f)
		return spam_norm_latin_a[cp - 0x100];
	/* circled letters */
	if (cp >= 0x24b6 && cp <= 0x24e9)
		return (char)('a' + (cp - 0x24b6) % 26);
	/* mathematical alphanumeric letters, bold to monospace */
	if (cp >= 0x1d400 && cp <= 0x1d6a3)
		return math[(cp - 0x1d400) % 52];
	if (cp >= 0x1d7ce && cp <= 0x1d7ff)
		return (char)('0' + (cp - 0x1d7ce) % 10);
	p = bsearch(&cp, spam_norm_confusables,
	    sizeof(spam_norm_confusables) / sizeof(spam_norm_confusables[0]),
	    sizeof(spam_norm_confusables[0]), spam_norm_pair_cmp);
	if (p != NULL)
		return p->c;
	/* combining marks over a letter: the letter is enough */
	if (cp >= 0x0300 && cp <= 0x036f)
		return 0;
	return SPAM_NORM_OTHER;
}

/* The next code point of in (a bad sequence is one U+FFFD byte). */
static uint32_t
spam_norm_utf8(const unsigned char *p, size_t len, size_t *used)
{
	uint32_t	cp;
	size_t		n, i;

	if (p[0] < 0x80) {
		*used = 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		*used = 1;
		return 0xfffd;
	}
	if (n > len) {
		*used = 1;
		return 0xfffd;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*used = 1;
			return 0xfffd;
		}
		cp = cp << 6 | (p[i] & 0x3f);
	}
	*used = n;
	/* overlongs and surrogates */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0xfffd;
	return cp;
}

static bool
spam_norm_letter(char c)
{
	return (c >= 'a' && c <= 'z') || c == SPAM_NORM_OTHER;
}

static bool
spam_norm_alnum(char c)
{
	return spam_norm_letter(c) || (c >= '0' && c <= '9');
}

/*
 * Leetspeak: what a digit or symbol stands for inside a word ("0134578@$!|"
 * as "oieastbasii"), or 0.  A table, since it is asked for every byte.
 */
static const char spam_norm_leet_tab[256] = {
	['0'] = 'o', ['1'] = 'i', ['3'] = 'e', ['4'] = 'a', ['5'] = 's',
	['7'] = 't', ['8'] = 'b', ['@'] = 'a', ['$'] = 's', ['!'] = 'i',
	['|'] = 'i',
};

static char
spam_norm_leet(char c)
{
	return spam_norm_leet_tab[(unsigned char)c];
}

/*
 * Second pass over the mapped bytes, compacting in place: a digit, '@'
 * or '$' next to a letter, or '!' or '|' before a letter (and after a
 * letter or at a word's start), becomes the letter; "\/" next to a
 * letter becomes "v".  Returns the new length.
 */
static size_t
spam_norm_leetify(char *s, size_t n)
{
	size_t	i, j = 0;
	char	prev, next, l, c;

	for (i = 0; i < n; i++) {
		c = s[i];
		/* most bytes: nothing to look at around them */
		if (c != '\\' && spam_norm_leet(c) == 0) {
			s[j++] = c;
			continue;
		}
		prev = j > 0 ? s[j - 1] : ' ';
		next = i + 1 < n ? s[i + 1] : ' ';
		if (c == '\\' && next == '/' && (spam_norm_letter(prev) ||
		    (i + 2 < n && spam_norm_letter(s[i + 2])))) {
			s[j++] = 'v';
			i++;
			continue;
		}
		if ((l = spam_norm_leet(c)) != 0) {
			/* "V1agra", "VI@GR@", "CA$H": beside a letter */
			if ((c >= '0' && c <= '9') || c == '@' || c == '$') {
				if (spam_norm_letter(prev) ||
				    spam_norm_letter(next))
					c = l;
			} else if (spam_norm_letter(next) &&
			    (spam_norm_letter(prev) || prev == ' '))
				c = l;	/* not "now!": only inside a word */
		}
		s[j++] = c;
	}
	return j;
}

struct spam_norm_state {
	struct buf	*out;
	int		 rc;
	char		 run[SPAM_NORM_WORD_MAX];	/* single letters */
	size_t		 runlen;
	char		 runsep[3];	/* what separates the run's letters */
	size_t		 runseplen;
	bool		 run_cut;	/* the run's one letter followed a
					   one-mark cut */
	char		 grp[SPAM_NORM_WORD_MAX];	/* word cut by marks */
	size_t		 grplen;
	size_t		 grpparts;
};

static void
spam_norm_emit(struct spam_norm_state *st, const char *w, size_t len)
{
	if (st->rc == -1 || len == 0)
		return;
	if (buf_append_char(st->out, ' ') == -1 ||
	    buf_append(st->out, w, len) == -1)
		st->rc = -1;
}

static void
spam_norm_grp_flush(struct spam_norm_state *st)
{
	if (st->grpparts > 1)
		spam_norm_emit(st, st->grp, st->grplen);
	st->grplen = 0;
	st->grpparts = 0;
}

/* An ordinary word; cut: it followed its neighbour after one mark. */
static void
spam_norm_word(struct spam_norm_state *st, const char *w, size_t len,
    bool cut)
{
	spam_norm_emit(st, w, len);
	if (!cut || st->grpparts == 0)
		spam_norm_grp_flush(st);
	if (st->grplen + len <= sizeof(st->grp)) {
		memcpy(st->grp + st->grplen, w, len);
		st->grplen += len;
		st->grpparts++;
	} else
		st->grpparts = 0;	/* too long to be one word */
}

static void
spam_norm_run_flush(struct spam_norm_state *st)
{
	size_t	i;
	bool	letter = false;
	char	l;

	if (st->runlen >= 2) {
		/* "k.1.w.i": a digit spelt among letters is leet too */
		for (i = 0; i < st->runlen; i++)
			letter |= spam_norm_letter(st->run[i]);
		for (i = 0; letter && i < st->runlen; i++)
			if (st->run[i] >= '0' && st->run[i] <= '9' &&
			    (l = spam_norm_leet(st->run[i])) != 0)
				st->run[i] = l;
		spam_norm_grp_flush(st);
		spam_norm_emit(st, st->run, st->runlen);
	} else if (st->runlen == 1)
		spam_norm_word(st, st->run, 1, st->run_cut);
	st->runlen = 0;
}

/* A word w with the separator of seplen bytes before it. */
static void
spam_norm_token(struct spam_norm_state *st, const char *w, size_t len,
    const char *sep, size_t seplen)
{
	bool	cut = seplen == 1 && sep[0] != ' ';

	char	last;

	if (st->runlen > 0) {
		if (len == 1 && seplen <= 3 && st->runlen < sizeof(st->run)) {
			if (st->runlen == 1) {
				memcpy(st->runsep, sep, seplen);
				st->runseplen = seplen;
			} else if (seplen != st->runseplen ||
			    memcmp(sep, st->runsep, seplen) != 0) {
				/*
				 * One spelling, one separator: "a k.i.w.i"
				 * is "a" and "kiwi", not "akiwi".
				 */
				last = st->run[--st->runlen];
				spam_norm_run_flush(st);
				st->run[0] = last;
				st->runlen = 1;
				st->run_cut = false;
				memcpy(st->runsep, sep, seplen);
				st->runseplen = seplen;
			}
			st->run[st->runlen++] = w[0];
			return;
		}
		spam_norm_run_flush(st);
	}
	if (len == 1) {
		st->run[0] = w[0];
		st->runlen = 1;
		st->run_cut = cut;
		return;
	}
	spam_norm_word(st, w, len, cut);
}

int
spam_norm(const char *in, size_t len, struct buf *out)
{
	struct spam_norm_state	 st;
	const unsigned char	*p = (const unsigned char *)in;
	char			*s;
	size_t			 i, n = 0, used, w, sep;
	char			 c;

	if (len > SPAM_NORM_IN_MAX)
		len = SPAM_NORM_IN_MAX;
	s = xmalloc(len + 1);
	for (i = 0; i < len; i += used) {
		if (p[i] < 0x80) {
			s[n++] = spam_norm_ascii[p[i]];
			used = 1;
			continue;
		}
		if ((c = spam_norm_cp(spam_norm_utf8(p + i, len - i,
		    &used))) != 0)
			s[n++] = c;
	}
	n = spam_norm_leetify(s, n);

	memset(&st, 0, sizeof(st));
	st.out = out;
	for (i = 0; i < n && st.rc == 0; i = w) {
		for (sep = i; i < n && !spam_norm_alnum(s[i]); i++)
			;
		for (w = i; w < n && spam_norm_alnum(s[w]); w++)
			;
		if (w == i)
			break;
		/* words longer than any keyword are cut, never joined */
		spam_norm_token(&st, s + i, w - i > SPAM_NORM_WORD_MAX ?
		    SPAM_NORM_WORD_MAX : w - i, s + sep, i - sep);
	}
	spam_norm_run_flush(&st);
	spam_norm_grp_flush(&st);
	free(s);
	return st.rc;
}
