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

/*
 * The base64 alphabet (RFC 2045 §6.8 Table 1): each byte's value plus
 * one, 0 for a byte outside it.
 */
static const uint8_t b64_tab[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0,  0,  0, 64,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,  0,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0,  0,
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

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
	size_t		i = 0;
	unsigned	a, b, c, e;

	while (i < len && !d->done) {
		/* Whole quanta of four alphabet bytes, the common case. */
		while (d->nbits == 0 && i + 4 <= len &&
		    (a = b64_tab[p[i]]) != 0 && (b = b64_tab[p[i + 1]]) != 0 &&
		    (c = b64_tab[p[i + 2]]) != 0 &&
		    (e = b64_tab[p[i + 3]]) != 0) {
			if (sizeof(o->chunk) - o->n < 3)
				out_flush(o);
			o->chunk[o->n++] = (char)((a - 1) << 2 | (b - 1) >> 4);
			o->chunk[o->n++] = (char)((b - 1) << 4 | (c - 1) >> 2);
			o->chunk[o->n++] = (char)((c - 1) << 6 | (e - 1));
			i += 4;
		}
		if (i >= len)
			break;
		if ((a = b64_tab[p[i]]) == 0) {
			/* §6.8: '=' is padding; the data ends there. */
			if (p[i] == '=')
				d->done = true;
			i++;
			continue;
		}
		d->acc = (d->acc << 6) | (a - 1);
		d->nbits += 6;
		if (d->nbits >= 8) {
			d->nbits -= 8;
			out_byte(o, (unsigned char)(d->acc >> d->nbits));
			d->acc &= (1u << d->nbits) - 1;
		}
		i++;
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
			/*
			 * Plain text: copy the run in one go.  A space or
			 * tab with text after it on the line is text too.
			 */
			for (j = i; j < len && in[j] != '=' && in[j] != '\r' &&
			    in[j] != '\n'; j++)
				if ((in[j] == ' ' || in[j] == '\t') &&
				    (j + 1 >= len || in[j + 1] == ' ' ||
				    in[j + 1] == '\t' || in[j + 1] == '\r' ||
				    in[j + 1] == '\n'))
					break;
			if (j > i) {
				out_bytes(o, in + i, j - i);
				i = j - 1;
				continue;
			}
			if (c == '\n')
				out_byte(o, c);
			else if (c == '=' && i + 2 < len &&
			    (h = hex_val((unsigned char)in[i + 1])) != -1 &&
			    hex_val((unsigned char)in[i + 2]) != -1) {
				/* "=XX" whole in this piece. */
				out_byte(o, (unsigned char)(h << 4 |
				    hex_val((unsigned char)in[i + 2])));
				i += 2;
			} else
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

/*
 * The number of ASCII bytes at p, eight at a time: most text is ASCII,
 * and the UTF-8 checks below read every byte of it.
 */
static size_t
ascii_run(const unsigned char *p, size_t len)
{
	uint64_t	w;
	size_t		i = 0;

	while (len - i >= sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		if ((w & 0x8080808080808080ULL) != 0)
			break;
		i += sizeof(w);
	}
	while (i < len && p[i] < 0x80)
		i++;
	return i;
}

bool
mime_utf8_valid(struct span s)
{
	const unsigned char	*p = (const unsigned char *)s.ptr;
	size_t			 i, n;

	for (i = 0; i < s.len; i += n) {
		if (p[i] < 0x80) {
			n = ascii_run(p + i, s.len - i);
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
			n = ascii_run(p + i, in.len - i);
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
 * The charsets real mail uses that glibc converts through gconv modules
 * (everything but UTF-8, ASCII and Latin-1, which are built in): the
 * iconv names of the alias table above and the names mail writes
 * directly, as cs_normalise() upper-cases them.  mime_charset_preload()
 * opens them before a role enters its chroot, where
 * /usr/lib/x86_64-linux-gnu/gconv cannot be read; they are kept open in
 * cs_pinned, never evicted, so the modules stay loaded.
 */
static const char *const cs_preload[] = {
	"GB18030", "BIG5-HKSCS", "CP949", "CP932", "EUC-JP",
	"ISO-2022-JP-2", "ISO-2022-JP", "ISO-2022-KR", "MACINTOSH",
	"MAC-CYRILLIC", "UTF-7", "UTF-16", "UTF-16BE", "UTF-16LE", "UTF-32",
	"CP874", "TIS-620", "KOI8-R", "KOI8-U", "BIG5", "GBK", "EUC-KR",
	"SHIFT_JIS", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5",
	"ISO-8859-6", "ISO-8859-7", "ISO-8859-8", "ISO-8859-9",
	"ISO-8859-10", "ISO-8859-11", "ISO-8859-13", "ISO-8859-14",
	"ISO-8859-15", "ISO-8859-16", "WINDOWS-1250", "WINDOWS-1251",
	"WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254", "WINDOWS-1255",
	"WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258", "CP1250", "CP1251",
	"CP1252", "CP850", "CP866", "IBM437", "VISCII",
};
#define MIME_CS_PINNED	(sizeof(cs_preload) / sizeof(cs_preload[0]))
static struct cs_cache_ent	cs_pinned[MIME_CS_PINNED];
static size_t			cs_npinned;

static void
cs_open(struct cs_cache_ent *e, const char *name)
{
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
}

size_t
mime_charset_preload(void)
{
	size_t	i, ok = 0;

	for (i = 0; i < MIME_CS_PINNED && cs_npinned < MIME_CS_PINNED; i++) {
		cs_open(&cs_pinned[cs_npinned], cs_preload[i]);
		if (cs_pinned[cs_npinned].cd != (iconv_t)-1)
			ok++;
		cs_npinned++;
	}
	return ok;
}

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

	for (i = 0; i < cs_npinned; i++)
		if (strcmp(cs_pinned[i].name, name) == 0 &&
		    cs_pinned[i].cd != (iconv_t)-1)
			return &cs_pinned[i];
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
	cs_open(e, name);
	return e;
}

/*
 * Normalise a charset name: trimmed of whitespace, quotes and a
 * "*language", lower case into lc and upper case into uc.  false when it
 * is too long or holds a byte no charset name has (iconv must not see
 * "//" suffixes or paths from a message).
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
	/* RFC 2231 §4: a "*language" after the charset is not its name. */
	for (i = 0; i < cs.len; i++)
		if (cs.ptr[i] == '*') {
			cs.len = i;
			break;
		}
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

/*
 * Append what iconv wrote: whole characters, but not always well-formed
 * UTF-8 (glibc's UCS-4 passes code points past U+10FFFF through), so
 * checked, and cleaned when it is not.
 */
static int
cs_put(const char *p, size_t len, struct buf *out)
{
	if (mime_utf8_valid(span_make(p, len)))
		return buf_append(out, p, len);
	return utf8_clean(span_make(p, len), out);
}

/* Run iconv over in; bad sequences become U+FFFD and conversion goes on. */
static int
cs_iconv(struct cs_cache_ent *e, struct span in, struct buf *out)
{
	char		 chunk[MIME_CHUNK];
	char		*ip = (char *)(uintptr_t)in.ptr, *op;
	size_t		 ileft = in.len, oleft, skip;
	int		 rc = 0, why;

	/* Reset the shift state a previous use may have left. */
	(void)iconv(e->cd, NULL, NULL, NULL, NULL);
	while (ileft > 0 && rc == 0) {
		op = chunk;
		oleft = sizeof(chunk);
		if (iconv(e->cd, &ip, &ileft, &op, &oleft) != (size_t)-1) {
			rc = cs_put(chunk, (size_t)(op - chunk), out);
			break;
		}
		why = errno;
		rc = cs_put(chunk, (size_t)(op - chunk), out);
		if (rc == -1 || why == E2BIG)
			continue;
		/* EILSEQ, or EINVAL: a sequence cut short by the end. */
		if (why == EINVAL)
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
		rc = cs_put(chunk, (size_t)(op - chunk), out);
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
