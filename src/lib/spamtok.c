/*
 * spamtok: the Bayes tokenizer (spamtok.h).  Pure; the message is
 * hostile: every loop is bounded by what it reads and by the caps below,
 * tokens are kept unique by a hash set, and once SPAM_TOKENS_MAX tokens
 * are out the rest of the message is skipped.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bayes.h"
#include "mime_hdr.h"
#include "spamtok.h"
#include "util.h"

/* The set: open addressing over offsets into out->b, load <= 3/8. */
#define SPAMTOK_SLOTS		8192
_Static_assert(SPAMTOK_SLOTS >= 2 * SPAM_TOKENS_MAX, "set too small");

#define SPAMTOK_WORD_MIN	3	/* characters; shorter words dropped */
#define SPAMTOK_WORD_MAX	12	/* characters; longer summarised */
#define SPAMTOK_WORD_BYTES	256	/* bytes of one word kept to look at */
#define SPAMTOK_FIELDS_MAX	200	/* top-level header fields read */
#define SPAMTOK_VALUE_MAX	(16 * 1024)	/* decoded header value */
#define SPAMTOK_ADDRS_MAX	20	/* addresses of a field tokenized */
#define SPAMTOK_RECEIVED_MAX	8	/* Received fields, from the top */
#define SPAMTOK_HOSTS_MAX	8	/* names and addresses per Received */
#define SPAMTOK_PARTS_MAX	100	/* MIME parts described */
#define SPAMTOK_URLS_MAX	100	/* URLs tokenized (links and text) */
#define SPAMTOK_PATH_MAX	8	/* path words per URL */
#define SPAMTOK_NAME_MAX	40	/* a header field name kept */
#define SPAMTOK_HOST_MAX	255	/* a domain name (RFC 1035 §2.3.4) */

struct spamtok {
	struct spam_tokens	*out;
	uint32_t		*slots;		/* offset + 1; 0 empty */
	bool			 full;
	size_t			 nurls;
	/* body statistics for the structure tokens */
	size_t			 nwords;
	size_t			 ncaps;
	struct buf		 val;		/* a decoded header value */
};

/* The body's words are not URLs or addresses when this is set. */
#define SPAMTOK_W_BODY		0x01

/* --- the set -------------------------------------------------------- */

/* Add p[0..len) unless it is there already; cut to SPAM_TOKEN_MAX. */
static void
spamtok_put(struct spamtok *st, const char *p, size_t len)
{
	const struct buf	*b = &st->out->b;
	uint32_t		 i, off;

	if (st->full || len == 0)
		return;
	if (len > SPAM_TOKEN_MAX) {
		len = SPAM_TOKEN_MAX;
		/* never split a UTF-8 sequence */
		while (len > 0 && ((unsigned char)p[len] & 0xc0) == 0x80)
			len--;
		if (len == 0)
			return;
	}
	if (memchr(p, '\0', len) != NULL)
		return;
	i = (uint32_t)bayes_hash(p, len) & (SPAMTOK_SLOTS - 1);
	while ((off = st->slots[i]) != 0) {
		off--;
		if (b->len - off > len && b->data[off + len] == '\0' &&
		    memcmp(b->data + off, p, len) == 0)
			return;
		i = (i + 1) & (SPAMTOK_SLOTS - 1);
	}
	off = (uint32_t)b->len;
	if (spam_tokens_add(st->out, p, len) == -1) {
		st->full = true;
		return;
	}
	st->slots[i] = off + 1;
}

/* prefix and p[0..len) as one token. */
static void
spamtok_put2(struct spamtok *st, const char *prefix, const char *p,
    size_t len)
{
	char	t[SPAM_TOKEN_MAX + 1];
	size_t	n = strlen(prefix);

	if (n >= sizeof(t))
		return;
	memcpy(t, prefix, n);
	if (len > sizeof(t) - n)
		len = sizeof(t) - n;
	memcpy(t + n, p, len);
	spamtok_put(st, t, n + len);
}

static void
spamtok_put_str(struct spamtok *st, const char *prefix, const char *s)
{
	spamtok_put2(st, prefix, s, strlen(s));
}

/* v in decimal at out (room for 20 digits); its length. */
static size_t
spamtok_utoa(char *out, size_t v)
{
	char	d[24];
	size_t	n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(out, d + n, sizeof(d) - n);
	return sizeof(d) - n;
}

/* "prefix" followed by a number. */
static void
spamtok_put_num(struct spamtok *st, const char *prefix, size_t v)
{
	char	d[24];

	spamtok_put2(st, prefix, d, spamtok_utoa(d, v));
}

/* 0, 1, 2, 3-4, 5-8, ...: the bucket's lower bound, a power of two. */
static size_t
spamtok_log2(size_t v)
{
	size_t	b = 1;

	if (v < 2)
		return v;
	while (b <= v / 2)
		b *= 2;
	return b;
}

/* --- characters ----------------------------------------------------- */

/*
 * The code point at p[*i] (advancing *i), or 0xfffd for a byte that
 * does not start a valid sequence (one byte consumed).
 */
static uint32_t
spamtok_utf8(const char *p, size_t len, size_t *i)
{
	const unsigned char	*s = (const unsigned char *)p + *i;
	size_t			 n = len - *i, need, k;
	uint32_t		 cp, min;

	if (s[0] < 0x80) {
		(*i)++;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		need = 1, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 2, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 3, cp = s[0] & 0x07, min = 0x10000;
	} else {
		(*i)++;
		return 0xfffd;
	}
	if (n <= need) {
		(*i)++;
		return 0xfffd;
	}
	for (k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		(*i)++;
		return 0xfffd;
	}
	*i += need + 1;
	return cp;
}

static size_t
spamtok_utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Lower case for the scripts mail is mostly written in: ASCII, Latin-1,
 * Latin Extended-A, Greek and Cyrillic (Unicode's simple case mapping
 * for those blocks); other code points are left as they are.
 */
static uint32_t
spamtok_lower(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xc0)
		return c;
	if (c <= 0xde && c != 0xd7)
		return c + 0x20;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c % 2 == 0 ? c + 1 : c;
	if (c >= 0x139 && c <= 0x148)
		return c % 2 == 1 ? c + 1 : c;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 0x20;
	if (c >= 0x410 && c <= 0x42f)
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	return c;
}

static bool
spamtok_ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Classes of ASCII characters (a table: strchr per byte is slow). */
#define SPAMTOK_C_SEP		0x01	/* between words */
#define SPAMTOK_C_RCVD		0x02	/* between words of Received */
#define SPAMTOK_C_PATH		0x04	/* between words of a URL's path */
#define SPAMTOK_C_LSTRIP	0x08	/* stripped before a word */
#define SPAMTOK_C_RSTRIP	0x10	/* stripped after a word */

static const unsigned char spamtok_class[128] = {
	['\t'] = SPAMTOK_C_RCVD,
	['\n'] = SPAMTOK_C_RCVD,
	['\r'] = SPAMTOK_C_RCVD,
	[' '] = SPAMTOK_C_RCVD,
	['!'] = SPAMTOK_C_LSTRIP,
	['"'] = SPAMTOK_C_SEP,
	['#'] = SPAMTOK_C_PATH,
	['%'] = SPAMTOK_C_PATH | SPAMTOK_C_LSTRIP,
	['&'] = SPAMTOK_C_PATH | SPAMTOK_C_LSTRIP | SPAMTOK_C_RSTRIP,
	['\''] = SPAMTOK_C_LSTRIP | SPAMTOK_C_RSTRIP,
	['('] = SPAMTOK_C_SEP | SPAMTOK_C_RCVD,
	[')'] = SPAMTOK_C_SEP | SPAMTOK_C_RCVD,
	['*'] = SPAMTOK_C_SEP,
	['+'] = SPAMTOK_C_PATH,
	[','] = SPAMTOK_C_RSTRIP,
	['-'] = SPAMTOK_C_PATH | SPAMTOK_C_LSTRIP | SPAMTOK_C_RSTRIP,
	['.'] = SPAMTOK_C_PATH | SPAMTOK_C_LSTRIP | SPAMTOK_C_RSTRIP,
	['/'] = SPAMTOK_C_PATH | SPAMTOK_C_LSTRIP | SPAMTOK_C_RSTRIP,
	[':'] = SPAMTOK_C_PATH | SPAMTOK_C_LSTRIP | SPAMTOK_C_RSTRIP,
	[';'] = SPAMTOK_C_SEP | SPAMTOK_C_RCVD | SPAMTOK_C_PATH,
	['<'] = SPAMTOK_C_SEP,
	['='] = SPAMTOK_C_SEP | SPAMTOK_C_PATH,
	['>'] = SPAMTOK_C_SEP,
	['?'] = SPAMTOK_C_PATH | SPAMTOK_C_LSTRIP,
	['@'] = SPAMTOK_C_LSTRIP,
	['['] = SPAMTOK_C_SEP | SPAMTOK_C_RCVD,
	['\\'] = SPAMTOK_C_SEP,
	[']'] = SPAMTOK_C_SEP | SPAMTOK_C_RCVD,
	['^'] = SPAMTOK_C_SEP,
	['_'] = SPAMTOK_C_PATH | SPAMTOK_C_LSTRIP,
	['`'] = SPAMTOK_C_SEP,
	['{'] = SPAMTOK_C_SEP,
	['|'] = SPAMTOK_C_SEP,
	['}'] = SPAMTOK_C_SEP,
	['~'] = SPAMTOK_C_SEP | SPAMTOK_C_PATH,
};

static bool
spamtok_is(char c, unsigned cls)
{
	return (unsigned char)c < 0x80 &&
	    (spamtok_class[(unsigned char)c] & cls) != 0;
}

/* Characters between words. */
static bool
spamtok_sep(uint32_t c)
{
	if (c <= 0x20 || c == 0x7f)
		return true;
	if (c < 0x80)
		return spamtok_is((char)c, SPAMTOK_C_SEP);
	return c == 0xa0 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	    c == 0x2029 || c == 0x3000 || c == 0xfffd || c == 0x85 ||
	    (c >= 0x2018 && c <= 0x201f) || c == 0xab || c == 0xbb;
}

/*
 * Scripts written without spaces between words (Han, kana, Hangul),
 * tokenized as overlapping pairs of characters, as search engines
 * index them.
 */
static bool
spamtok_cjk(uint32_t c)
{
	return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) ||
	    (c >= 0xf900 && c <= 0xfaff);
}

/* Invisible characters inside words, dropped (obfuscation). */
static bool
spamtok_invisible(uint32_t c)
{
	return (c >= 0x200b && c <= 0x200f) || c == 0x2060 || c == 0xfeff ||
	    c == 0xad || c == 0x34f || (c >= 0x180b && c <= 0x180e);
}

static bool
spamtok_ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


/* --- words ---------------------------------------------------------- */

/* One word as the splitter found it, lower-cased. */
struct spamtok_word {
	char	b[SPAMTOK_WORD_BYTES];
	size_t	len;		/* bytes in b */
	size_t	nchars;		/* characters, also those not kept */
	size_t	nupper;		/* ASCII capitals */
	size_t	nalpha;		/* letters (any non-ASCII counts) */
	size_t	ndigit;
	bool	wide;		/* b may hold more bytes than characters */
};

static void
spamtok_word_clear(struct spamtok_word *w)
{
	w->len = w->nchars = w->nupper = w->nalpha = w->ndigit = 0;
	w->wide = false;
}

static void	spamtok_url(struct spamtok *, const char *, size_t);
static void	spamtok_email(struct spamtok *, const char *prefix,
		    const char *, size_t);

static size_t
spamtok_chars(const char *p, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * A word: stripped of punctuation at its ends, then a URL, an address,
 * a number's shape (digits become 9: "$9,999.99"), a summary of a long
 * word ("skip:x 30", as SpamBayes writes it), or the word.
 */
static void
spamtok_word(struct spamtok *st, const char *prefix, struct spamtok_word *w,
    unsigned flags)
{
	char		 t[SPAMTOK_WORD_BYTES + 16];
	const char	*p = w->b;
	size_t		 len = w->len, i, n;

	if (len == 0)
		return;
	while (len > 0 && spamtok_is(p[0], SPAMTOK_C_LSTRIP))
		p++, len--;
	while (len > 0 && spamtok_is(p[len - 1], SPAMTOK_C_RSTRIP))
		len--;
	if (len == 0)
		return;
	if (flags & SPAMTOK_W_BODY) {
		st->nwords++;
		if (w->nupper >= SPAMTOK_WORD_MIN && w->nupper == w->nalpha)
			st->ncaps++;
		if (len > 4 && (memmem(p, len, "://", 3) != NULL ||
		    memcmp(p, "www.", 4) == 0)) {
			spamtok_url(st, p, len);
			return;
		}
		if (memchr(p, '@', len) != NULL) {
			spamtok_email(st, "email:", p, len);
			return;
		}
	}
	if (w->nalpha == 0 && w->ndigit > 0) {
		if (len < 2)
			return;
		if (len > SPAMTOK_WORD_MAX) {
			spamtok_put_str(st, prefix, "num:long");
			return;
		}
		for (i = 0; i < len; i++)
			t[i] = spamtok_ascii_digit(p[i]) ? '9' : p[i];
		spamtok_put2(st, prefix, t, len);
		return;
	}
	/* characters kept after the strip, and those not kept at all */
	if (w->wide)
		n = spamtok_chars(p, len) + (w->nchars -
		    spamtok_chars(w->b, w->len));
	else
		n = len + (w->nchars - w->len);
	if (n < SPAMTOK_WORD_MIN)
		return;
	if (n > SPAMTOK_WORD_MAX) {
		/* the first character and the length in tens */
		i = 1;
		while (i < len && ((unsigned char)p[i] & 0xc0) == 0x80)
			i++;
		memcpy(t, "skip:", 5);
		memcpy(t + 5, p, i);
		t[5 + i] = ' ';
		i += 6;
		i += spamtok_utoa(t + i, n / 10 * 10);
		spamtok_put2(st, prefix, t, i);
		return;
	}
	spamtok_put2(st, prefix, p, len);
}

/*
 * The ASCII characters of a word from p[*i] on, up to a separator or a
 * byte past ASCII, added to w (lower-cased, counted): a loop on locals,
 * since w's counts live in memory that spamtok_word() reads.
 */
static void
spamtok_ascii_run(struct spamtok_word *w, const char *p, size_t len,
    size_t *i)
{
	size_t		k = *i, n = w->len, nchars = 0, nupper = 0;
	size_t		nalpha = 0, ndigit = 0;
	unsigned char	c;

	for (; k < len && (c = (unsigned char)p[k]) < 0x80 &&
	    !spamtok_sep(c); k++) {
		nchars++;
		if (c >= 'A' && c <= 'Z') {
			nupper++;
			c += 'a' - 'A';
		}
		if (spamtok_ascii_alpha((char)c))
			nalpha++;
		else if (spamtok_ascii_digit((char)c))
			ndigit++;
		if (n < sizeof(w->b))
			w->b[n++] = (char)c;
	}
	w->len = n;
	w->nchars += nchars;
	w->nupper += nupper;
	w->nalpha += nalpha;
	w->ndigit += ndigit;
	*i = k;
}

/*
 * Split p[0..len) into words (spamtok_sep between them, invisible
 * characters dropped, lower-cased) and tokenize each with prefix.
 */
static void
spamtok_words(struct spamtok *st, const char *prefix, const char *p,
    size_t len, unsigned flags)
{
	struct spamtok_word	w;
	size_t			i = 0, n;
	uint32_t		c, lc, cjk = 0;
	char			u[8];

	memset(&w, 0, sizeof(w));
	while (i < len && !st->full) {
		/*
		 * ASCII, most of any text, in a few comparisons: it is not
		 * invisible, not CJK, and lower-cases to one byte.
		 */
		if ((unsigned char)p[i] < 0x80) {
			cjk = 0;
			if (spamtok_sep((unsigned char)p[i])) {
				i++;
				spamtok_word(st, prefix, &w, flags);
				spamtok_word_clear(&w);
			} else
				spamtok_ascii_run(&w, p, len, &i);
			continue;
		}
		c = spamtok_utf8(p, len, &i);
		if (spamtok_invisible(c))
			continue;
		if (spamtok_cjk(c)) {
			/* no spaces between words: pairs of characters */
			spamtok_word(st, prefix, &w, flags);
			spamtok_word_clear(&w);
			if (cjk != 0) {
				n = spamtok_utf8_put(u, cjk);
				n += spamtok_utf8_put(u + n, c);
				spamtok_put2(st, prefix, u, n);
			}
			cjk = c;
			continue;
		}
		cjk = 0;
		if (spamtok_sep(c)) {
			spamtok_word(st, prefix, &w, flags);
			spamtok_word_clear(&w);
			continue;
		}
		w.nchars++;
		if (c >= 'A' && c <= 'Z')
			w.nupper++;
		if (c >= 0x80 || spamtok_ascii_alpha((char)c))
			w.nalpha++;
		else if (spamtok_ascii_digit((char)c))
			w.ndigit++;
		lc = spamtok_lower(c);
		n = spamtok_utf8_put(u, lc);
		if (w.len + n <= sizeof(w.b)) {
			memcpy(w.b + w.len, u, n);
			w.len += n;
			w.wide = true;
		}
	}
	spamtok_word(st, prefix, &w, flags);
}

/* --- names, addresses, URLs ----------------------------------------- */

/* Lower-case ASCII copy of at most outsz - 1 bytes; its length. */
static size_t
spamtok_lower_copy(char *out, size_t outsz, const char *p, size_t len)
{
	size_t	i;

	if (len >= outsz)
		len = outsz - 1;
	for (i = 0; i < len; i++)
		out[i] = p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) :
		    p[i];
	out[len] = '\0';
	return len;
}

static bool
spamtok_ipv4(const char *p, size_t len)
{
	size_t	i, dots = 0, digits = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (digits == 0)
				return false;
			dots++;
			digits = 0;
		} else if (spamtok_ascii_digit(p[i]) && digits < 3)
			digits++;
		else
			return false;
	}
	return dots == 3 && digits > 0;
}

/*
 * A host name: the name, then each parent domain of two labels or more
 * ("a.b.example.com" -> "b.example.com", "example.com"), under prefix;
 * an IPv4 address as its /24 and /16 ("ip:10.1.2", "ip:10.1").
 */
static void
spamtok_host(struct spamtok *st, const char *prefix, const char *p,
    size_t len)
{
	char	h[SPAMTOK_HOST_MAX + 1], pre[48];
	size_t	n, i, dot;

	while (len > 0 && p[len - 1] == '.')
		len--;
	if (len == 0)
		return;
	n = spamtok_lower_copy(h, sizeof(h), p, len);
	if (spamtok_ipv4(h, n)) {
		if ((size_t)snprintf(pre, sizeof(pre), "%sip:", prefix) >=
		    sizeof(pre))
			return;
		dot = n;
		while (dot > 0 && h[dot - 1] != '.')
			dot--;
		spamtok_put2(st, pre, h, dot - 1);
		while (dot > 1 && h[dot - 2] != '.')
			dot--;
		spamtok_put2(st, pre, h, dot > 1 ? dot - 2 : 0);
		return;
	}
	spamtok_put2(st, prefix, h, n);
	for (i = 0; i < n; i++) {
		if (h[i] != '.')
			continue;
		/* the rest must still hold a dot: two labels at least */
		if (memchr(h + i + 1, '.', n - i - 1) == NULL)
			break;
		spamtok_put2(st, prefix, h + i + 1, n - i - 1);
	}
}

/* local@domain in the body or a mailto: link. */
static void
spamtok_email(struct spamtok *st, const char *prefix, const char *p,
    size_t len)
{
	const char	*at = memchr(p, '@', len);
	char		 pre[48];

	if (at == NULL || at == p || at + 1 >= p + len)
		return;
	if ((size_t)snprintf(pre, sizeof(pre), "%sdom:", prefix) >=
	    sizeof(pre))
		return;
	spamtok_host(st, pre, at + 1, (size_t)(p + len - at - 1));
}

/*
 * A URL: its scheme, host and parent domains (or IP address), a port,
 * user information, %-escapes in the host, and the words of its path.
 */
static void
spamtok_url(struct spamtok *st, const char *p, size_t len)
{
	const char	*e = p + len, *h, *s;
	char		 low[16];
	size_t		 n, words = 0;

	if (st->nurls >= SPAMTOK_URLS_MAX)
		return;
	st->nurls++;
	if ((s = memmem(p, len, "://", 3)) != NULL && s - p < 12) {
		n = spamtok_lower_copy(low, sizeof(low), p, (size_t)(s - p));
		spamtok_put2(st, "url:scheme:", low, n);
		h = s + 3;
	} else if (len > 7 && strncasecmp(p, "mailto:", 7) == 0) {
		spamtok_put_str(st, "url:scheme:", "mailto");
		spamtok_email(st, "url:mailto:", p + 7, len - 7);
		return;
	} else if (len > 4 && strncasecmp(p, "www.", 4) == 0) {
		spamtok_put_str(st, "url:scheme:", "none");
		h = p;
	} else
		return;
	/* authority: [userinfo@]host[:port] */
	for (s = h; s < e && *s != '/' && *s != '?' && *s != '#'; s++)
		;
	if (memchr(h, '@', (size_t)(s - h)) != NULL) {
		spamtok_put_str(st, "url:", "userinfo");
		h = (const char *)memchr(h, '@', (size_t)(s - h)) + 1;
	}
	n = (size_t)(s - h);
	if (n > 0 && memchr(h, ':', n) != NULL) {
		spamtok_put_str(st, "url:", "port");
		n = (size_t)((const char *)memchr(h, ':', n) - h);
	}
	if (memchr(h, '%', n) != NULL)
		spamtok_put_str(st, "url:", "host-escaped");
	spamtok_host(st, "url:", h, n);
	/* the path and query, words of 3 to 12 characters */
	p = s;
	while (p < e && words < SPAMTOK_PATH_MAX) {
		while (p < e && spamtok_is(*p, SPAMTOK_C_PATH))
			p++;
		for (s = p; s < e && !spamtok_is(*s, SPAMTOK_C_PATH); s++)
			;
		n = (size_t)(s - p);
		if (n >= SPAMTOK_WORD_MIN && n <= SPAMTOK_WORD_MAX) {
			char	w[SPAMTOK_WORD_MAX + 1];

			n = spamtok_lower_copy(w, sizeof(w), p, n);
			spamtok_put2(st, "url:path:", w, n);
		} else if (n > SPAMTOK_WORD_MAX)
			spamtok_put_str(st, "url:path:", "long");
		words++;
		p = s;
	}
}

/* The links mime_text() found in HTML, one per line. */
static void
spamtok_links(struct spamtok *st, const struct buf *links)
{
	const char	*p = links->data, *e, *nl;
	size_t		 n = 0;

	e = p != NULL ? p + links->len : NULL;
	while (p < e && !st->full) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		spamtok_url(st, p, (size_t)(nl - p));
		n++;
		p = nl + 1;
	}
	spamtok_put_num(st, "url:links:", spamtok_log2(n));
}

/* --- the header ----------------------------------------------------- */

/* Decode a field's value (RFC 2047 words) into st->val. */
static struct span
spamtok_value(struct spamtok *st, const struct mime_msg *m,
    const struct mime_field *f)
{
	buf_reset(&st->val);
	/* what fits of an over-long value is still read */
	(void)mime_decode_words(mime_field_value(m, f), &st->val);
	return span_make(st->val.data, st->val.len);
}

/*
 * An address field: per mailbox the words of the display name (or
 * "noname"), the local part for From/Reply-To/Sender, and the domain
 * with its parents; the number of addresses.
 */
static void
spamtok_addrs(struct spamtok *st, const char *name,
    const struct mime_msg *m, const struct mime_field *f)
{
	struct mime_addrlist	 al;
	const struct mime_addr	*a;
	struct buf		 dn;
	char			 pre[SPAMTOK_NAME_MAX + 16], loc[32];
	size_t			 i, n = 0;
	bool			 sender;

	sender = strcmp(name, "to") != 0 && strcmp(name, "cc") != 0;
	memset(&al, 0, sizeof(al));
	if (mime_hdr_addrs(mime_field_value(m, f), &al) == -1) {
		spamtok_put2(st, name, ":unparsed", 9);
		mime_addrlist_free(&al);
		return;
	}
	buf_init(&dn, SPAMTOK_VALUE_MAX);
	for (i = 0; i < al.n && n < SPAMTOK_ADDRS_MAX; i++) {
		a = &al.v[i];
		if (a->kind != MIME_ADDR_MAILBOX)
			continue;
		n++;
		if (sender) {
			(void)snprintf(pre, sizeof(pre), "%s:name:", name);
			buf_reset(&dn);
			(void)mime_decode_words(a->name, &dn);
			if (dn.len == 0)
				spamtok_put2(st, pre, "none", 4);
			else
				spamtok_words(st, pre, dn.data, dn.len, 0);
			(void)snprintf(pre, sizeof(pre), "%s:local:", name);
			if (a->local.len > SPAMTOK_WORD_MAX)
				spamtok_put2(st, pre, "long", 4);
			else if (a->local.len > 0)
				spamtok_put2(st, pre, loc,
				    spamtok_lower_copy(loc, sizeof(loc),
				    a->local.ptr, a->local.len));
		}
		(void)snprintf(pre, sizeof(pre), "%s:dom:", name);
		if (a->domain.len == 0)
			spamtok_put2(st, pre, "none", 4);
		else
			spamtok_host(st, pre, a->domain.ptr, a->domain.len);
	}
	(void)snprintf(pre, sizeof(pre), "%s:count:", name);
	spamtok_put_num(st, pre, spamtok_log2(n));
	buf_free(&dn);
	mime_addrlist_free(&al);
}

/*
 * Received (RFC 5321 §4.4): the host names and IPv4 addresses it names
 * (parents and /24s included), and its "with" protocol.
 */
static void
spamtok_received(struct spamtok *st, struct span v)
{
	const char		*p = v.ptr, *e = v.ptr + v.len, *s;
	size_t			 n, hosts = 0;
	bool			 with = false, letters, dot, name;
	char			 w[16];

	while (p < e && hosts < SPAMTOK_HOSTS_MAX) {
		if (*p == '\0' || spamtok_is(*p, SPAMTOK_C_RCVD)) {
			p++;
			continue;
		}
		letters = dot = false;
		name = true;
		for (s = p; s < e && *s != '\0' &&
		    !spamtok_is(*s, SPAMTOK_C_RCVD); s++) {
			if (spamtok_ascii_alpha(*s))
				letters = true;
			else if (*s == '.')
				dot = true;
			else if (!spamtok_ascii_digit(*s) && *s != '-')
				name = false;
		}
		n = (size_t)(s - p);
		if (with && n < sizeof(w)) {
			n = spamtok_lower_copy(w, sizeof(w), p, n);
			spamtok_put2(st, "received:with:", w, n);
		}
		with = n == 4 && strncasecmp(p, "with", 4) == 0;
		if (name && dot && (letters || spamtok_ipv4(p, n))) {
			spamtok_host(st, "received:", p, n);
			hosts++;
		}
		p = s;
	}
}

/*
 * Fields whose presence is a token ("hdr:NAME"): those the writer of a
 * message sets (its software, a mailing list, a reply).  Fields that
 * receiving systems add (Delivery-Date, X-Status, X-Keywords, other
 * filters' verdicts) are left out: they describe where a message was
 * stored, differ between the mail a filter is trained on (from
 * mailboxes) and the mail it judges (at the end of DATA), and would
 * teach it the habits of one site.
 */
static const char *const spamtok_hdr_fields[] = {
	"in-reply-to", "references", "list-id", "list-unsubscribe",
	"list-post", "list-help", "list-subscribe", "list-archive",
	"mailing-list", "x-mailer", "user-agent", "x-priority",
	"x-msmail-priority", "importance", "organization", "reply-to",
	"mime-version", "content-type", "x-mimeole", "precedence",
	"disposition-notification-to", "errors-to", "return-receipt-to",
	"x-originating-ip", "thread-index", "message-id", "date", "cc",
	"sender", "x-face", "face", "openpgp", "autocrypt",
	"dkim-signature", "list-unsubscribe-post", "feedback-id",
	"x-mailer-version", "comments", "keywords", "x-accept-language",
	"content-language", "x-complaints-to", "x-abuse", "x-report-abuse",
};

/* Values worth a token as words: short fields of the sending software. */
static const char *const spamtok_word_fields[] = {
	"x-mailer", "user-agent", "x-priority", "x-msmail-priority",
	"importance", "precedence", "x-mimeole", "mime-version",
	"content-transfer-encoding", "organization",
};

static void
spamtok_header(struct spamtok *st, const struct mime_msg *m)
{
	const struct mime_part	*p0 = &m->parts[0];
	const struct mime_field	*f;
	struct mime_msgids	 ids;
	struct span		 nm, v;
	char			 name[SPAMTOK_NAME_MAX + 2];
	const char		*at;
	size_t			 i, k, n, nreceived = 0;
	bool			 subject = false, msgid = false, date = false;

	for (i = 0; i < p0->nfields && i < SPAMTOK_FIELDS_MAX && !st->full;
	    i++) {
		f = &m->fields[p0->field_first + i];
		nm = mime_field_name(m, f);
		if (nm.len == 0 || nm.len > SPAMTOK_NAME_MAX)
			continue;
		n = spamtok_lower_copy(name, sizeof(name), nm.ptr, nm.len);
		/*
		 * Verdicts of other filters on the way (and our own) say
		 * nothing about the next message's content.
		 */
		if (strncmp(name, "x-spam", 6) == 0)
			continue;
		for (k = 0; k < sizeof(spamtok_hdr_fields) /
		    sizeof(spamtok_hdr_fields[0]); k++)
			if (strcmp(name, spamtok_hdr_fields[k]) == 0) {
				spamtok_put2(st, "hdr:", name, n);
				break;
			}
		if (strcmp(name, "subject") == 0 && !subject) {
			subject = true;
			v = spamtok_value(st, m, f);
			spamtok_words(st, "subject:", v.ptr, v.len, 0);
			for (k = n = 0; k < v.len; k++)
				if (v.ptr[k] >= 'A' && v.ptr[k] <= 'Z')
					n++;
			if (n >= 6 && n * 2 >= v.len)
				spamtok_put_str(st, "subject:", "CAPS");
			if (v.len > 0 && memchr(v.ptr, '!', v.len) != NULL)
				spamtok_put_str(st, "subject:", "!");
			if (memmem(mime_field_value(m, f).ptr,
			    mime_field_value(m, f).len, "=?", 2) != NULL)
				spamtok_put_str(st, "subject:", "encoded");
		} else if (strcmp(name, "from") == 0 ||
		    strcmp(name, "reply-to") == 0 ||
		    strcmp(name, "sender") == 0 ||
		    strcmp(name, "to") == 0 || strcmp(name, "cc") == 0) {
			spamtok_addrs(st, name, m, f);
		} else if (strcmp(name, "received") == 0) {
			if (nreceived++ < SPAMTOK_RECEIVED_MAX)
				spamtok_received(st, mime_field_value(m, f));
		} else if (strcmp(name, "message-id") == 0 && !msgid) {
			msgid = true;
			memset(&ids, 0, sizeof(ids));
			if (mime_hdr_msgids(mime_field_value(m, f), &ids) ==
			    0 && ids.v[0].len > 2 && (at = memchr(ids.v[0].ptr,
			    '@', ids.v[0].len - 1)) != NULL) {
				/* "<left@right>": right without the '>' */
				n = (size_t)(ids.v[0].ptr + ids.v[0].len - 1 -
				    (at + 1));
				spamtok_host(st, "msgid:", at + 1, n);
			} else
				spamtok_put_str(st, "msgid:", "bad");
			mime_msgids_free(&ids);
		} else if (strcmp(name, "date") == 0)
			date = true;
		else {
			for (k = 0; k < sizeof(spamtok_word_fields) /
			    sizeof(spamtok_word_fields[0]); k++) {
				if (strcmp(name, spamtok_word_fields[k]) != 0)
					continue;
				name[n] = ':';
				name[n + 1] = '\0';
				v = spamtok_value(st, m, f);
				spamtok_words(st, name, v.ptr,
				    v.len > 200 ? 200 : v.len, 0);
				break;
			}
		}
	}
	if (!subject)
		spamtok_put_str(st, "subject:", "none");
	if (!msgid)
		spamtok_put_str(st, "msgid:", "none");
	if (!date)
		spamtok_put_str(st, "date:", "none");
	spamtok_put_num(st, "received:count:", spamtok_log2(nreceived));
}

/* --- structure ------------------------------------------------------ */

static const char *const spamtok_cte_names[] = {
	[MIME_CTE_7BIT] = "7bit", [MIME_CTE_8BIT] = "8bit",
	[MIME_CTE_BINARY] = "binary", [MIME_CTE_QP] = "quoted-printable",
	[MIME_CTE_BASE64] = "base64", [MIME_CTE_OTHER] = "other",
};

static const struct {
	uint32_t	 flag;
	const char	*name;
} spamtok_mime_flags[] = {
	{ MIME_F_CAPPED, "capped" },
	{ MIME_F_NO_BOUNDARY, "no-boundary" },
	{ MIME_F_BOUNDARY_UNSEEN, "boundary-unseen" },
	{ MIME_F_UNTERMINATED, "unterminated" },
	{ MIME_F_HDR_8BIT, "header-8bit" },
	{ MIME_F_HDR_BAD, "header-bad" },
	{ MIME_F_HDR_UNTERM, "header-unterminated" },
	{ MIME_F_BODY_NUL, "body-nul" },
};

/*
 * Per part its type, charset and transfer encoding, attachments' types
 * and file name extensions; for the message the number of parts,
 * whether it is HTML only, and what the parser found malformed.
 */
static void
spamtok_structure(struct spamtok *st, const struct mime_msg *m)
{
	const struct mime_part	*pt;
	const struct mime_field	*f;
	const struct mime_param	*cs;
	struct mime_ctype	 ct;
	char			 t[SPAM_TOKEN_MAX + 1];
	size_t			 i, n, k;
	uint32_t		 flags;
	bool			 plain = false, html = false, attach;

	memset(&ct, 0, sizeof(ct));
	for (i = 0; i < m->nparts && i < SPAMTOK_PARTS_MAX && !st->full;
	    i++) {
		pt = &m->parts[i];
		if (pt->type.len + pt->subtype.len + 1 >= sizeof(t))
			continue;
		n = spamtok_lower_copy(t, sizeof(t), pt->type.ptr,
		    pt->type.len);
		t[n++] = '/';
		n += spamtok_lower_copy(t + n, sizeof(t) - n, pt->subtype.ptr,
		    pt->subtype.len);
		attach = false;
		if ((f = mime_part_field(m, (uint32_t)i,
		    "Content-Disposition", NULL)) != NULL &&
		    mime_hdr_disposition(mime_field_value(m, f), &ct) == 0) {
			attach = span_caseeq(ct.type, "attachment");
			cs = mime_ctype_param(&ct, "filename");
			if (cs != NULL && cs->value.len > 0) {
				const char *dot = cs->value.ptr +
				    cs->value.len;
				char	ext[12];

				while (dot > cs->value.ptr && dot[-1] != '.')
					dot--;
				k = (size_t)(cs->value.ptr + cs->value.len -
				    dot);
				if (dot > cs->value.ptr && k > 0 &&
				    k < sizeof(ext))
					spamtok_put2(st, "attach:ext:", ext,
					    spamtok_lower_copy(ext,
					    sizeof(ext), dot, k));
			}
		}
		spamtok_put2(st, attach ? "attach:" : "ctype:", t, n);
		if (pt->kind != MIME_KIND_LEAF)
			continue;
		if (strcmp(t, "text/plain") == 0)
			plain = true;
		else if (strcmp(t, "text/html") == 0)
			html = true;
		if ((size_t)pt->cte < sizeof(spamtok_cte_names) /
		    sizeof(spamtok_cte_names[0]))
			spamtok_put_str(st, "cte:",
			    spamtok_cte_names[pt->cte]);
		if ((f = mime_part_field(m, (uint32_t)i, "Content-Type",
		    NULL)) != NULL &&
		    mime_hdr_ctype(mime_field_value(m, f), &ct) == 0 &&
		    (cs = mime_ctype_param(&ct, "charset")) != NULL &&
		    cs->value.len > 0 && cs->value.len < sizeof(t))
			spamtok_put2(st, "charset:", t,
			    spamtok_lower_copy(t, sizeof(t), cs->value.ptr,
			    cs->value.len));
	}
	mime_ctype_free(&ct);
	spamtok_put_num(st, "mime:parts:", spamtok_log2(m->nparts));
	if (html && !plain)
		spamtok_put_str(st, "mime:", "html-only");
	else if (html)
		spamtok_put_str(st, "mime:", "html-and-text");
	/*
	 * An mbox "From " line before the header is how a message was
	 * stored, not how it was sent: not a malformed header.
	 */
	flags = m->flags;
	if (m->len >= 5 && memcmp(m->data, "From ", 5) == 0)
		flags &= ~(uint32_t)MIME_F_HDR_BAD;
	for (i = 0; i < sizeof(spamtok_mime_flags) /
	    sizeof(spamtok_mime_flags[0]); i++)
		if (flags & spamtok_mime_flags[i].flag)
			spamtok_put_str(st, "mime:", spamtok_mime_flags[i].name);
}

void
spam_tokenize(const struct spam_msg *sm, struct spam_tokens *out)
{
	struct spamtok	st;

	memset(&st, 0, sizeof(st));
	st.out = out;
	st.slots = xcalloc(SPAMTOK_SLOTS, sizeof(*st.slots));
	buf_init(&st.val, SPAMTOK_VALUE_MAX);
	if (sm->mime.nparts > 0) {
		spamtok_header(&st, &sm->mime);
		spamtok_structure(&st, &sm->mime);
	}
	spamtok_links(&st, &sm->links);
	spamtok_words(&st, "", sm->text.data, sm->text.len, SPAMTOK_W_BODY);
	/* how much of the text shouts, and how long it is */
	spamtok_put_num(&st, "text:words:", spamtok_log2(st.nwords));
	spamtok_put_num(&st, "text:caps%:", st.nwords == 0 ? 0 :
	    spamtok_log2(st.ncaps * 100 / st.nwords));
	buf_free(&st.val);
	free(st.slots);
}
