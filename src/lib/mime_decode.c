/*
 * mime_decode: transfer-encoding decoders (RFC 2045 §6.7, §6.8), charset
 * conversion to UTF-8 through glibc's iconv, and RFC 2047 encoded words.
 * Pure: no I/O, no logging; the bytes are hostile message content, every
 * loop is bounded by its input and every output by the caller's buf max.
 * The one piece of process state is the cache of iconv descriptors.
 */
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime_decode.h"

#define MIME_CHUNK		4096	/* stack staging before buf_append */
#define MIME_CS_NAME_MAX	40	/* longest charset name we look up */
#define MIME_CS_CACHE		16	/* iconv descriptors kept per process */

/* Output staged in a stack chunk so that buf_append runs once per 4 KB. */
struct mime_out {
	struct buf	*buf;
	size_t		 n;
	int		 err;
	char		 chunk[MIME_CHUNK];
};

static void
out_init(struct mime_out *o, struct buf *b)
{
	o->buf = b;
	o->n = 0;
	o->err = 0;
}

static void
out_flush(struct mime_out *o)
{
	if (o->n > 0 && o->err == 0 &&
	    buf_append(o->buf, o->chunk, o->n) == -1)
		o->err = -1;
	o->n = 0;
}

static inline void
out_byte(struct mime_out *o, unsigned char c)
{
	if (o->n == sizeof(o->chunk))
		out_flush(o);
	o->chunk[o->n++] = (char)c;
}

static void
out_bytes(struct mime_out *o, const char *p, size_t len)
{
	if (len > sizeof(o->chunk) - o->n) {
		out_flush(o);
		if (len > sizeof(o->chunk)) {
			if (o->err == 0 && buf_append(o->buf, p, len) == -1)
				o->err = -1;
			return;
		}
	}
	memcpy(o->chunk + o->n, p, len);
	o->n += len;
}

static int
out_end(struct mime_out *o)
{
	out_flush(o);
	if (o->err != 0)
		errno = EMSGSIZE;
	return o->err;
}

/* -1 for a byte outside the base64 alphabet (RFC 2045 §6.8 Table 1). */
static const signed char b64_val[256] = {
	['A'] = 0, ['B'] = 1, ['C'] = 2, ['D'] = 3, ['E'] = 4, ['F'] = 5,
	['G'] = 6, ['H'] = 7, ['I'] = 8, ['J'] = 9, ['K'] = 10, ['L'] = 11,
	['M'] = 12, ['N'] = 13, ['O'] = 14, ['P'] = 15, ['Q'] = 16,
	['R'] = 17, ['S'] = 18, ['T'] = 19, ['U'] = 20, ['V'] = 21,
	['W'] = 22, ['X'] = 23, ['Y'] = 24, ['Z'] = 25,
	['a'] = 26, ['b'] = 27, ['c'] = 28, ['d'] = 29, ['e'] = 30,
	['f'] = 31, ['g'] = 32, ['h'] = 33, ['i'] = 34, ['j'] = 35,
	['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39, ['o'] = 40,
	['p'] = 41, ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45,
	['u'] = 46, ['v'] = 47, ['w'] = 48, ['x'] = 49, ['y'] = 50,
	['z'] = 51, ['0'] = 52, ['1'] = 53, ['2'] = 54, ['3'] = 55,
	['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59, ['8'] = 60,
	['9'] = 61, ['+'] = 62, ['/'] = 63,
};

static inline int
b64_digit(unsigned char c)
{
	/* The table leaves 0 for non-alphabet bytes; 'A' is the one real 0. */
	if (c == 'A')
		return 0;
	return b64_val[c] == 0 ? -1 : b64_val[c];
}

void
mime_b64_init(struct mime_b64 *d)
{
	d->acc = 0;
	d->nbits = 0;
	d->done = false;
}

/*
 * Each sextet goes into acc and a byte comes out as soon as 8 bits are
 * there, so a partial last quantum yields its whole bytes by itself and
 * the output never depends on where the input was cut.
 */
static void
b64_run(struct mime_b64 *d, const unsigned char *p, size_t len,
    struct mime_out *o)
{
	size_t	i;
	int	v;

	for (i = 0; i < len && !d->done; i++) {
		if ((v = b64_digit(p[i])) == -1) {
			/* §6.8: '=' is padding; the data ends there. */
			if (p[i] == '=')
				d->done = true;
			continue;
		}
		d->acc = (d->acc << 6) | (uint32_t)v;
		d->nbits += 6;
		if (d->nbits >= 8) {
			d->nbits -= 8;
			out_byte(o, (unsigned char)(d->acc >> d->nbits));
			d->acc &= (1u << d->nbits) - 1;
		}
	}
}

int
mime_b64_feed(struct mime_b64 *d, const char *in, size_t len,
    struct buf *out)
{
	struct mime_out	o;

	out_init(&o, out);
	b64_run(d, (const unsigned char *)in, len, &o);
	return out_end(&o);
}

int
mime_b64_end(struct mime_b64 *d, struct buf *out)
{
	/* Bits short of a byte are dropped (§6.8 says they are zero). */
	(void)out;
	mime_b64_init(d);
	return 0;
}

void
mime_qp_init(struct mime_qp *d)
{
	d->npend = 0;
}

static inline int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The undecided tail of a line, before a line end: "=" with or without
 * transport padding is a soft line break (§6.7 rule 5), whitespace alone
 * is dropped (rule 3), "=X" is kept as written.
 */
static void
qp_line_end(struct mime_qp *d, const char *eol, size_t eollen,
    struct mime_out *o)
{
	if (d->npend > 0 && d->pend[0] == '=') {
		if (d->npend >= 2 && hex_val((unsigned char)d->pend[1]) != -1) {
			out_bytes(o, d->pend, 2);
			out_bytes(o, eol, eollen);
		}
	} else
		out_bytes(o, eol, eollen);
	d->npend = 0;
}

/*
 * One byte at a time through a small machine whose state is the
 * undecided tail in pend: "=", "=X", a whitespace run, "=" and a
 * whitespace run, any of these followed by a CR.  Every decision depends
 * on the bytes alone, so the output does not depend on how the input was
 * cut.  A run longer than pend can hold gives its oldest bytes out as
 * text (an "=" first): only the last sizeof(pend) - 1 bytes can be
 * dropped as trailing whitespace (a legal line is at most 76 bytes).
 */
static void
qp_run(struct mime_qp *d, const char *in, size_t len, struct mime_out *o)
{
	size_t		i, j;
	unsigned char	c;
	int		h;

	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (d->npend == 0) {
			/* Plain text: copy the run in one go. */
			for (j = i; j < len && in[j] != '=' && in[j] != ' ' &&
			    in[j] != '\t' && in[j] != '\r' && in[j] != '\n'; j++)
				;
			if (j > i) {
				out_bytes(o, in + i, j - i);
				i = j - 1;
				continue;
			}
			if (c == '\n')
				out_byte(o, c);
			else
				d->pend[d->npend++] = (char)c;
			continue;
		}
		if (d->pend[d->npend - 1] == '\r') {
			if (c == '\n') {
				d->npend--;
				qp_line_end(d, "\r\n", 2, o);
				continue;
			}
			/* A bare CR is text, and so is what it follows. */
			out_bytes(o, d->pend, d->npend);
			d->npend = 0;
			i--;
			continue;
		}
		if (c == '\n') {
			qp_line_end(d, "\n", 1, o);
			continue;
		}
		if (c == '\r') {
			d->pend[d->npend++] = (char)c;
			continue;
		}
		if (d->pend[0] == '=' && d->npend == 1 &&
		    hex_val(c) != -1) {
			d->pend[d->npend++] = (char)c;
			continue;
		}
		if (d->pend[0] == '=' && d->npend == 2 &&
		    hex_val((unsigned char)d->pend[1]) != -1) {
			if ((h = hex_val(c)) != -1) {
				out_byte(o, (unsigned char)
				    (hex_val((unsigned char)d->pend[1]) << 4 |
				    h));
				d->npend = 0;
				continue;
			}
			/* "=X" and no second digit: text (rule 1). */
			out_bytes(o, d->pend, 2);
			d->npend = 0;
			i--;
			continue;
		}
		if (c == ' ' || c == '\t') {
			if (d->npend == sizeof(d->pend) - 1) {
				out_byte(o, (unsigned char)d->pend[0]);
				memmove(d->pend, d->pend + 1, --d->npend);
			}
			d->pend[d->npend++] = (char)c;
			continue;
		}
		/* Whitespace, "=" or "=" and whitespace before text: all text. */
		out_bytes(o, d->pend, d->npend);
		d->npend = 0;
		i--;
	}
}

int
mime_qp_feed(struct mime_qp *d, const char *in, size_t len,
    struct buf *out)
{
	struct mime_out	o;

	out_init(&o, out);
	qp_run(d, in, len, &o);
	return out_end(&o);
}

int
mime_qp_end(struct mime_qp *d, struct buf *out)
{
	struct mime_out	o;

	out_init(&o, out);
	/* The end is a line end without line-end bytes; a CR stays text. */
	if (d->npend > 0 && d->pend[d->npend - 1] == '\r') {
		out_bytes(&o, d->pend, d->npend);
		d->npend = 0;
	}
	qp_line_end(d, "", 0, &o);
	return out_end(&o);
}

int
mime_decode_body(enum mime_cte cte, struct span in, struct buf *out)
{
	struct mime_b64	b;
	struct mime_qp	q;

	switch (cte) {
	case MIME_CTE_BASE64:
		mime_b64_init(&b);
		if (mime_b64_feed(&b, in.ptr, in.len, out) == -1)
			return -1;
		return mime_b64_end(&b, out);
	case MIME_CTE_QP:
		mime_qp_init(&q);
		if (mime_qp_feed(&q, in.ptr, in.len, out) == -1)
			return -1;
		return mime_qp_end(&q, out);
	default:
		return buf_append_span(out, in);
	}
}

enum mime_cte
mime_cte_parse(struct span value)
{
	static const struct {
		const char	*name;
		enum mime_cte	 cte;
	} ctes[] = {
		{ "7bit", MIME_CTE_7BIT },
		{ "8bit", MIME_CTE_8BIT },
		{ "binary", MIME_CTE_BINARY },
		{ "quoted-printable", MIME_CTE_QP },
		{ "base64", MIME_CTE_BASE64 },
	};
	struct span	tok;
	size_t		i, n;

	/* Leading folding whitespace and quotes; the token ends at WSP,
	 * ';' or a comment, as real mail appends them (RFC 2045 §6.1). */
	i = 0;
	while (i < value.len && (value.ptr[i] == ' ' || value.ptr[i] == '\t' ||
	    value.ptr[i] == '\r' || value.ptr[i] == '\n' || value.ptr[i] == '"'))
		i++;
	n = 0;
	while (i + n < value.len && value.ptr[i + n] != ' ' &&
	    value.ptr[i + n] != '\t' && value.ptr[i + n] != '\r' &&
	    value.ptr[i + n] != '\n' && value.ptr[i + n] != ';' &&
	    value.ptr[i + n] != '(' && value.ptr[i + n] != '"')
		n++;
	tok = span_make(value.ptr + i, n);
	/* §6.1: no Content-Transfer-Encoding means 7bit. */
	if (tok.len == 0)
		return MIME_CTE_7BIT;
	for (i = 0; i < sizeof(ctes) / sizeof(ctes[0]); i++)
		if (span_caseeq(tok, ctes[i].name))
			return ctes[i].cte;
	return MIME_CTE_OTHER;
}

/*
 * UTF-8 (RFC 3629 §4): the length of the well-formed sequence at p, or 0
 * when the bytes there are not one (overlong, surrogate, past U+10FFFF,
 * truncated).
 */
static size_t
utf8_seq(const unsigned char *p, size_t len)
{
	unsigned char	c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return len >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (len < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && p[1] > 0x9f)
			return 0;	/* UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (len < 4 || (p[1] & 0xc0) != 0x80 ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xf4 && p[1] > 0x8f)
			return 0;	/* past U+10FFFF */
		return 4;
	}
	return 0;
}

bool
mime_utf8_valid(struct span s)
{
	const unsigned char	*p = (const unsigned char *)s.ptr;
	size_t			 i, n;

	for (i = 0; i < s.len; i += n) {
		if (p[i] < 0x80) {
			n = 1;
			continue;
		}
		if ((n = utf8_seq(p + i, s.len - i)) == 0)
			return false;
	}
	return true;
}

static const char utf8_repl[] = "\xef\xbf\xbd";	/* U+FFFD */

/* UTF-8 in, well-formed UTF-8 out: each bad byte becomes U+FFFD. */
static int
utf8_clean(struct span in, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)in.ptr;
	struct mime_out		 o;
	size_t			 i, start, n;

	out_init(&o, out);
	for (i = start = 0; i < in.len; i += n) {
		if (p[i] < 0x80) {
			n = 1;
			continue;
		}
		if ((n = utf8_seq(p + i, in.len - i)) == 0) {
			out_bytes(&o, in.ptr + start, i - start);
			out_bytes(&o, utf8_repl, 3);
			n = 1;
			start = i + 1;
		}
	}
	out_bytes(&o, in.ptr + start, i - start);
	return out_end(&o);
}

/* ISO-8859-1: every byte is the code point of the same value. */
static int
latin1_to_utf8(struct span in, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)in.ptr;
	struct mime_out		 o;
	size_t			 i;

	out_init(&o, out);
	for (i = 0; i < in.len; i++) {
		if (p[i] < 0x80)
			out_byte(&o, p[i]);
		else {
			out_byte(&o, (unsigned char)(0xc0 | (p[i] >> 6)));
			out_byte(&o, (unsigned char)(0x80 | (p[i] & 0x3f)));
		}
	}
	return out_end(&o);
}

enum cs_kind {
	CS_ICONV,
	CS_UTF8,	/* UTF-8, and US-ASCII read as UTF-8 */
	CS_LATIN1,
	CS_UNKNOWN,
};

/*
 * Names real mail writes that glibc does not know or reads too narrowly,
 * lower case.  Supersets are chosen where senders mislabel: GB2312 and
 * GBK mail is GB18030, EUC-KR and KS C 5601 mail is CP949 (Outlook's
 * "ks_c_5601-1987"), Big5 is read as Big5-HKSCS, Shift_JIS as CP932.
 * US-ASCII is read as UTF-8: 8-bit text labelled us-ascii is common and
 * UTF-8 more often than not (Dovecot does the same).
 */
static const struct {
	const char	*alias;
	enum cs_kind	 kind;
	const char	*name;
} cs_aliases[] = {
	{ "utf-8", CS_UTF8, NULL },
	{ "utf8", CS_UTF8, NULL },
	{ "x-utf-8", CS_UTF8, NULL },
	{ "us-ascii", CS_UTF8, NULL },
	{ "ascii", CS_UTF8, NULL },
	{ "us", CS_UTF8, NULL },
	{ "ansi_x3.4-1968", CS_UTF8, NULL },
	{ "iso646-us", CS_UTF8, NULL },
	{ "iso-8859-1", CS_LATIN1, NULL },
	{ "iso8859-1", CS_LATIN1, NULL },
	{ "iso_8859-1", CS_LATIN1, NULL },
	{ "iso_8859-1:1987", CS_LATIN1, NULL },
	{ "iso-8859-1:1987", CS_LATIN1, NULL },
	{ "latin1", CS_LATIN1, NULL },
	{ "latin-1", CS_LATIN1, NULL },
	{ "l1", CS_LATIN1, NULL },
	{ "cp819", CS_LATIN1, NULL },
	{ "ibm819", CS_LATIN1, NULL },
	{ "iso-ir-100", CS_LATIN1, NULL },
	{ "gb2312", CS_ICONV, "GB18030" },
	{ "gb_2312-80", CS_ICONV, "GB18030" },
	{ "gb2312_charset", CS_ICONV, "GB18030" },
	{ "csgb2312", CS_ICONV, "GB18030" },
	{ "x-gbk", CS_ICONV, "GB18030" },
	{ "gbk", CS_ICONV, "GB18030" },
	{ "cp936", CS_ICONV, "GB18030" },
	{ "ms936", CS_ICONV, "GB18030" },
	{ "windows-936", CS_ICONV, "GB18030" },
	{ "euc-cn", CS_ICONV, "GB18030" },
	{ "x-euc-cn", CS_ICONV, "GB18030" },
	{ "chinese", CS_ICONV, "GB18030" },
	{ "big5", CS_ICONV, "BIG5-HKSCS" },
	{ "big-5", CS_ICONV, "BIG5-HKSCS" },
	{ "chinesebig5", CS_ICONV, "BIG5-HKSCS" },
	{ "cn-big5", CS_ICONV, "BIG5-HKSCS" },
	{ "x-x-big5", CS_ICONV, "BIG5-HKSCS" },
	{ "csbig5", CS_ICONV, "BIG5-HKSCS" },
	{ "ks_c_5601-1987", CS_ICONV, "CP949" },
	{ "ks_c_5601", CS_ICONV, "CP949" },
	{ "ks_c_5601-1989", CS_ICONV, "CP949" },
	{ "ksc5601", CS_ICONV, "CP949" },
	{ "ksc_5601", CS_ICONV, "CP949" },
	{ "euc-kr", CS_ICONV, "CP949" },
	{ "x-euc-kr", CS_ICONV, "CP949" },
	{ "korean", CS_ICONV, "CP949" },
	{ "windows-949", CS_ICONV, "CP949" },
	{ "x-windows-949", CS_ICONV, "CP949" },
	{ "shift_jis", CS_ICONV, "CP932" },
	{ "shift-jis", CS_ICONV, "CP932" },
	{ "x-sjis", CS_ICONV, "CP932" },
	{ "sjis", CS_ICONV, "CP932" },
	{ "ms_kanji", CS_ICONV, "CP932" },
	{ "windows-31j", CS_ICONV, "CP932" },
	{ "x-euc-jp", CS_ICONV, "EUC-JP" },
	{ "iso-2022-jp", CS_ICONV, "ISO-2022-JP-2" },
	{ "x-mac-roman", CS_ICONV, "MACINTOSH" },
	{ "mac", CS_ICONV, "MACINTOSH" },
	{ "macroman", CS_ICONV, "MACINTOSH" },
	{ "x-mac-cyrillic", CS_ICONV, "MAC-CYRILLIC" },
	{ "unicode-1-1-utf-7", CS_ICONV, "UTF-7" },
	{ "x-utf-7", CS_ICONV, "UTF-7" },
	/* Outlook's "unicode" is UTF-16 with a byte-order mark. */
	{ "unicode", CS_ICONV, "UTF-16" },
	{ "windows-874", CS_ICONV, "CP874" },
	{ "x-cp1250", CS_ICONV, "CP1250" },
	{ "x-cp1251", CS_ICONV, "CP1251" },
	{ "x-cp1252", CS_ICONV, "CP1252" },
	{ "iso-8859-8-i", CS_ICONV, "ISO-8859-8" },
	{ "iso-8859-6-i", CS_ICONV, "ISO-8859-6" },
	/* Placeholders some mailers write: no charset at all. */
	{ "default", CS_UNKNOWN, NULL },
	{ "default_charset", CS_UNKNOWN, NULL },
	{ "unknown-8bit", CS_UNKNOWN, NULL },
	{ "x-unknown", CS_UNKNOWN, NULL },
	{ "unknown", CS_UNKNOWN, NULL },
};

struct cs_cache_ent {
	char		name[MIME_CS_NAME_MAX + 1];	/* iconv's name */
	iconv_t		cd;		/* (iconv_t)-1: iconv did not know it */
	uint64_t	used;
	unsigned	unit;		/* bytes to skip past a bad sequence */
};

static struct cs_cache_ent	cs_cache[MIME_CS_CACHE];
static uint64_t			cs_clock;

/*
 * The descriptor for iconv's name, opened once per process and kept in a
 * small LRU table; a name iconv refused is cached too, so that hostile
 * mail full of invented names costs one failed open each.
 */
static struct cs_cache_ent *
cs_lookup(const char *name)
{
	struct cs_cache_ent	*e, *victim = &cs_cache[0];
	size_t			 i;

	for (i = 0; i < MIME_CS_CACHE; i++) {
		e = &cs_cache[i];
		if (e->used != 0 && strcmp(e->name, name) == 0) {
			e->used = ++cs_clock;
			return e;
		}
		if (e->used < victim->used)
			victim = e;
	}
	e = victim;
	if (e->used != 0 && e->cd != (iconv_t)-1)
		(void)iconv_close(e->cd);
	memcpy(e->name, name, strlen(name) + 1);	/* our own, bounded */
	e->cd = iconv_open("UTF-8", name);
	e->used = ++cs_clock;
	e->unit = 1;
	if (strncmp(name, "UTF-16", 6) == 0 || strncmp(name, "UCS-2", 5) == 0 ||
	    strcmp(name, "UNICODE") == 0)
		e->unit = 2;
	else if (strncmp(name, "UTF-32", 6) == 0 ||
	    strncmp(name, "UCS-4", 5) == 0)
		e->unit = 4;
	return e;
}

/*
 * Normalise a charset name: trimmed of whitespace and quotes, lower case
 * into lc and upper case into uc.  false when empty-after-trim is not
 * the case and the name is too long or holds a byte no charset name has
 * (iconv must not see "//" suffixes or paths from a message).
 */
static bool
cs_normalise(struct span cs, char *lc, char *uc, size_t *len_out)
{
	size_t		 i, n;
	unsigned char	 c;

	while (cs.len > 0 && (cs.ptr[0] == ' ' || cs.ptr[0] == '\t' ||
	    cs.ptr[0] == '"' || cs.ptr[0] == '\''))
		cs = span_make(cs.ptr + 1, cs.len - 1);
	while (cs.len > 0 && (cs.ptr[cs.len - 1] == ' ' ||
	    cs.ptr[cs.len - 1] == '\t' || cs.ptr[cs.len - 1] == '"' ||
	    cs.ptr[cs.len - 1] == '\''))
		cs.len--;
	if (cs.len > MIME_CS_NAME_MAX)
		return false;
	for (i = n = 0; i < cs.len; i++) {
		c = (unsigned char)cs.ptr[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
			return false;
		lc[n] = (char)c;
		uc[n] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
		n++;
	}
	lc[n] = uc[n] = '\0';
	*len_out = n;
	return true;
}

/* Run iconv over in; bad sequences become U+FFFD and conversion goes on. */
static int
cs_iconv(struct cs_cache_ent *e, struct span in, struct buf *out)
{
	char		 chunk[MIME_CHUNK];
	char		*ip = (char *)(uintptr_t)in.ptr, *op;
	size_t		 ileft = in.len, oleft, skip;
	int		 rc = 0;

	/* Reset the shift state a previous use may have left. */
	(void)iconv(e->cd, NULL, NULL, NULL, NULL);
	while (ileft > 0 && rc == 0) {
		op = chunk;
		oleft = sizeof(chunk);
		if (iconv(e->cd, &ip, &ileft, &op, &oleft) != (size_t)-1) {
			rc = buf_append(out, chunk, (size_t)(op - chunk));
			break;
		}
		rc = buf_append(out, chunk, (size_t)(op - chunk));
		if (rc == -1 || errno == E2BIG)
			continue;
		/* EILSEQ, or EINVAL: a sequence cut short by the end. */
		if (errno == EINVAL)
			skip = ileft;
		else
			skip = e->unit < ileft ? e->unit : ileft;
		if (skip == 0)
			skip = 1;
		rc = buf_append(out, utf8_repl, 3);
		ip += skip;
		ileft -= skip;
		(void)iconv(e->cd, NULL, NULL, NULL, NULL);
	}
	if (rc == 0) {
		/* Flush a stateful decoder's last character. */
		op = chunk;
		oleft = sizeof(chunk);
		(void)iconv(e->cd, NULL, NULL, &op, &oleft);
		rc = buf_append(out, chunk, (size_t)(op - chunk));
	}
	(void)iconv(e->cd, NULL, NULL, NULL, NULL);
	if (rc == -1)
		errno = EMSGSIZE;
	return rc;
}

int
mime_charset_to_utf8(struct span charset, struct span in, struct buf *out)
{
	char			 lc[MIME_CS_NAME_MAX + 1], uc[MIME_CS_NAME_MAX + 1];
	const char		*name = uc;
	struct cs_cache_ent	*e;
	enum cs_kind		 kind = CS_ICONV;
	size_t			 i, n;

	if (in.len == 0)
		in.ptr = "";
	if (!cs_normalise(charset, lc, uc, &n))
		return 1;
	/* RFC 2045 §5.2: no charset is US-ASCII. */
	if (n == 0)
		kind = CS_UTF8;
	for (i = 0; n > 0 && i < sizeof(cs_aliases) / sizeof(cs_aliases[0]);
	    i++) {
		if (strcmp(lc, cs_aliases[i].alias) == 0) {
			kind = cs_aliases[i].kind;
			if (cs_aliases[i].name != NULL)
				name = cs_aliases[i].name;
			break;
		}
	}
	switch (kind) {
	case CS_UTF8:
		return utf8_clean(in, out);
	case CS_LATIN1:
		return latin1_to_utf8(in, out);
	case CS_UNKNOWN:
		return 1;
	case CS_ICONV:
		break;
	}
	/* "windows-1252" and "cp1252" are one in glibc; "x-" prefixes not. */
	if (strncmp(name, "X-", 2) == 0 && name == uc)
		name += 2;
	e = cs_lookup(name);
	if (e->cd == (iconv_t)-1)
		return 1;
	return cs_iconv(e, in, out);
}

/* Append text that is UTF-8 when valid and otherwise Latin-1. */
static int
raw_to_utf8(struct span s, struct buf *out)
{
	if (mime_utf8_valid(s))
		return buf_append_span(out, s);
	return latin1_to_utf8(s, out);
}

static inline bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* The length of a line end at p (CRLF or LF), 0 when none. */
static inline size_t
eol_len(const char *p, size_t len)
{
	if (len >= 1 && p[0] == '\n')
		return 1;
	if (len >= 2 && p[0] == '\r' && p[1] == '\n')
		return 2;
	return 0;
}

/* An encoded word found in a header value. */
struct ew {
	struct span	charset;	/* without an RFC 2231 "*lang" */
	char		enc;		/* 'B' or 'Q' */
	size_t		text_off;	/* into the value */
	size_t		text_end;
	size_t		end;		/* past "?=" */
};

/*
 * An RFC 2047 §2 encoded word at v[i..]: "=?" charset "?" B|Q "?" text
 * "?=".  Real mail folds inside the text and puts spaces in Q text, so
 * both are allowed there; the charset and encoding must be clean.  The
 * search for "?=" runs once per value past the last word found: *no_end
 * remembers where one was missed so a value of many "=?" stays linear.
 */
static bool
ew_parse(struct span v, size_t i, size_t *no_end, struct ew *w)
{
	size_t	j, k;
	char	c;

	if (i + 2 > v.len || v.ptr[i] != '=' || v.ptr[i + 1] != '?')
		return false;
	j = i + 2;
	for (k = j; k < v.len && k - j <= MIME_CS_NAME_MAX + 32; k++) {
		c = v.ptr[k];
		if (c == '?' || c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n' || c == '=' || (unsigned char)c < 0x20)
			break;
	}
	if (k == j || k + 3 > v.len || v.ptr[k] != '?')
		return false;
	w->charset = span_make(v.ptr + j, k - j);
	/* RFC 2231 §5: charset*language. */
	for (j = 0; j < w->charset.len; j++)
		if (w->charset.ptr[j] == '*') {
			w->charset.len = j;
			break;
		}
	if (w->charset.len == 0)
		return false;
	c = v.ptr[k + 1];
	if (c == 'b' || c == 'B')
		w->enc = 'B';
	else if (c == 'q' || c == 'Q')
		w->enc = 'Q';
	else
		return false;
	if (v.ptr[k + 2] != '?')
		return false;
	w->text_off = k + 3;
	if (w->text_off >= *no_end)
		return false;
	for (j = w->text_off; j + 1 < v.len; j++) {
		/* A line end not followed by WSP ends the field. */
		if (v.ptr[j] == '\n' && (j + 1 >= v.len || !is_wsp(v.ptr[j + 1])))
			break;
		if (v.ptr[j] == '?' && v.ptr[j + 1] == '=') {
			w->text_end = j;
			w->end = j + 2;
			return true;
		}
	}
	*no_end = w->text_off;
	return false;
}

/* Decode a word's text (folding inside it skipped) and append the bytes. */
static int
ew_decode(struct span v, const struct ew *w, struct buf *raw)
{
	struct mime_out	o;
	struct mime_b64	b;
	size_t		i, n;
	unsigned char	c;
	int		h1, h2;

	out_init(&o, raw);
	mime_b64_init(&b);
	for (i = w->text_off; i < w->text_end; i++) {
		if ((n = eol_len(v.ptr + i, w->text_end - i)) > 0) {
			i += n;
			while (i < w->text_end && is_wsp(v.ptr[i]))
				i++;
			i--;
			continue;
		}
		c = (unsigned char)v.ptr[i];
		if (w->enc == 'B') {
			b64_run(&b, &c, 1, &o);
			continue;
		}
		/* RFC 2047 §4.2: '_' is a space, "=XX" a byte. */
		if (c == '_')
			c = ' ';
		else if (c == '=' && i + 2 < w->text_end &&
		    (h1 = hex_val((unsigned char)v.ptr[i + 1])) != -1 &&
		    (h2 = hex_val((unsigned char)v.ptr[i + 2])) != -1) {
			c = (unsigned char)(h1 << 4 | h2);
			i += 2;
		}
		out_byte(&o, c);
	}
	return out_end(&o);
}

/* Words of one charset decoded so far, converted together (a character
 * may be split across two words). */
struct ew_pending {
	struct buf	raw;
	struct span	charset;
	bool		have;
};

static int
ew_flush(struct ew_pending *p, struct buf *out)
{
	int	rc = 0;

	if (!p->have)
		return 0;
	p->have = false;
	rc = mime_charset_to_utf8(p->charset, span_make(p->raw.data,
	    p->raw.len), out);
	if (rc == 1)
		rc = raw_to_utf8(span_make(p->raw.data, p->raw.len), out);
	buf_reset(&p->raw);
	return rc;
}

/*
 * Whitespace between tokens: literal WSP as written; when a fold is in
 * the run, the WSP before it, or one space when there was none (RFC 5322
 * §3.2.2: FWS means one space; the indentation after the fold is not
 * text).
 */
static int
ws_emit(struct span v, size_t from, size_t to, struct buf *out)
{
	size_t	i;

	for (i = from; i < to; i++)
		if (v.ptr[i] == '\r' || v.ptr[i] == '\n')
			break;
	if (i == to)
		return buf_append(out, v.ptr + from, to - from);
	if (i == from)
		return buf_append_char(out, ' ');
	return buf_append(out, v.ptr + from, i - from);
}

int
mime_decode_words(struct span v, struct buf *out)
{
	struct ew_pending	pend;
	struct ew		w;
	size_t			i, n, ws, lit, no_end = SIZE_MAX;
	bool			prev_ew = false, started = false;
	int			rc = 0;

	buf_init(&pend.raw, out->max);
	pend.have = false;
	ws = SIZE_MAX;		/* start of pending whitespace */
	lit = SIZE_MAX;		/* start of pending literal text */
	i = 0;
	while (i < v.len && rc == 0) {
		n = eol_len(v.ptr + i, v.len - i);
		if (n > 0 && (i + n >= v.len || !is_wsp(v.ptr[i + n])))
			break;		/* the field ends here */
		if (n > 0 || is_wsp(v.ptr[i])) {
			if (lit != SIZE_MAX) {
				rc = raw_to_utf8(span_make(v.ptr + lit,
				    i - lit), out);
				lit = SIZE_MAX;
			}
			if (ws == SIZE_MAX)
				ws = i;
			i += n > 0 ? n : 1;
			continue;
		}
		if (v.ptr[i] == '=' && ew_parse(v, i, &no_end, &w)) {
			if (lit != SIZE_MAX) {
				rc = raw_to_utf8(span_make(v.ptr + lit,
				    i - lit), out);
				lit = SIZE_MAX;
			}
			if (pend.have && (pend.charset.len != w.charset.len ||
			    strncasecmp(pend.charset.ptr, w.charset.ptr,
			    w.charset.len) != 0))
				rc = rc == 0 ? ew_flush(&pend, out) : rc;
			/* §6.2: whitespace between two words is dropped;
			 * leading whitespace of the value too. */
			if (ws != SIZE_MAX && !prev_ew && started) {
				rc = rc == 0 ? ew_flush(&pend, out) : rc;
				rc = rc == 0 ? ws_emit(v, ws, i, out) : rc;
			}
			ws = SIZE_MAX;
			if (rc == 0 && !pend.have) {
				pend.have = true;
				pend.charset = w.charset;
			}
			rc = rc == 0 ? ew_decode(v, &w, &pend.raw) : rc;
			prev_ew = started = true;
			i = w.end;
			continue;
		}
		if (rc == 0)
			rc = ew_flush(&pend, out);
		if (ws != SIZE_MAX && rc == 0 && started)
			rc = ws_emit(v, ws, i, out);
		ws = SIZE_MAX;
		prev_ew = false;
		started = true;
		if (lit == SIZE_MAX)
			lit = i;
		i++;
	}
	if (rc == 0 && lit != SIZE_MAX)
		rc = raw_to_utf8(span_make(v.ptr + lit, i - lit), out);
	if (rc == 0)
		rc = ew_flush(&pend, out);
	buf_free(&pend.raw);
	if (rc != 0)
		errno = EMSGSIZE;
	return rc == 0 ? 0 : -1;
}
