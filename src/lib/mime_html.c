/*
 * mime_html: a plain-text view of an HTML document for IMAP SEARCH and
 * the spam filter (mime_html_text() of mime_decode.h).  Not a browser:
 * one linear pass of a small tokenizer shaped after the HTML5 one (tags
 * with quoted attributes, comments, raw-text <script> and <style>,
 * character references), enough to get the words a reader sees and the
 * links a filter checks.  Pure: no I/O, no logging.  The document is
 * hostile: every scan is bounded by its length, an unterminated tag,
 * comment or script runs to the end and is dropped, output is capped by
 * the callers' buf max.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime_decode.h"

#define HTML_NAME_MAX	32	/* longest tag or entity name looked at */

/*
 * Named character references: those of HTML 4.01 (§24) and the HTML5
 * ones mail writes, sorted by name (strcmp order) for bsearch.
 */
static const struct html_ent {
	const char	*name;
	uint32_t	 cp;
} html_ents[] = {
	{ "AElig", 0xc6 }, { "Aacute", 0xc1 }, { "Acirc", 0xc2 },
	{ "Agrave", 0xc0 }, { "Alpha", 0x391 }, { "Aring", 0xc5 },
	{ "Atilde", 0xc3 }, { "Auml", 0xc4 }, { "Beta", 0x392 },
	{ "Ccedil", 0xc7 }, { "Chi", 0x3a7 }, { "Dagger", 0x2021 },
	{ "Delta", 0x394 }, { "ETH", 0xd0 }, { "Eacute", 0xc9 },
	{ "Ecirc", 0xca }, { "Egrave", 0xc8 }, { "Epsilon", 0x395 },
	{ "Eta", 0x397 }, { "Euml", 0xcb }, { "Gamma", 0x393 },
	{ "Iacute", 0xcd }, { "Icirc", 0xce }, { "Igrave", 0xcc },
	{ "Iota", 0x399 }, { "Iuml", 0xcf }, { "Kappa", 0x39a },
	{ "Lambda", 0x39b }, { "Mu", 0x39c }, { "NewLine", 0xa },
	{ "Ntilde", 0xd1 }, { "Nu", 0x39d }, { "OElig", 0x152 },
	{ "Oacute", 0xd3 }, { "Ocirc", 0xd4 }, { "Ograve", 0xd2 },
	{ "Omega", 0x3a9 }, { "Omicron", 0x39f }, { "Oslash", 0xd8 },
	{ "Otilde", 0xd5 }, { "Ouml", 0xd6 }, { "Phi", 0x3a6 },
	{ "Pi", 0x3a0 }, { "Prime", 0x2033 }, { "Psi", 0x3a8 },
	{ "Rho", 0x3a1 }, { "Scaron", 0x160 }, { "Sigma", 0x3a3 },
	{ "THORN", 0xde }, { "Tab", 0x9 }, { "Tau", 0x3a4 },
	{ "Theta", 0x398 }, { "Uacute", 0xda }, { "Ucirc", 0xdb },
	{ "Ugrave", 0xd9 }, { "Upsilon", 0x3a5 }, { "Uuml", 0xdc },
	{ "Xi", 0x39e }, { "Yacute", 0xdd }, { "Yuml", 0x178 },
	{ "Zeta", 0x396 }, { "aacute", 0xe1 }, { "acirc", 0xe2 },
	{ "acute", 0xb4 }, { "aelig", 0xe6 }, { "agrave", 0xe0 },
	{ "alefsym", 0x2135 }, { "alpha", 0x3b1 }, { "amp", 0x26 },
	{ "and", 0x2227 }, { "ang", 0x2220 }, { "apos", 0x27 },
	{ "aring", 0xe5 }, { "ast", 0x2a }, { "asymp", 0x2248 },
	{ "atilde", 0xe3 }, { "auml", 0xe4 }, { "bdquo", 0x201e },
	{ "beta", 0x3b2 }, { "brvbar", 0xa6 }, { "bsol", 0x5c },
	{ "bull", 0x2022 }, { "cap", 0x2229 }, { "ccedil", 0xe7 },
	{ "cedil", 0xb8 }, { "cent", 0xa2 }, { "check", 0x2713 },
	{ "chi", 0x3c7 }, { "circ", 0x2c6 }, { "clubs", 0x2663 },
	{ "colon", 0x3a }, { "comma", 0x2c }, { "commat", 0x40 },
	{ "cong", 0x2245 }, { "copy", 0xa9 }, { "crarr", 0x21b5 },
	{ "cup", 0x222a }, { "curren", 0xa4 }, { "dArr", 0x21d3 },
	{ "dagger", 0x2020 }, { "darr", 0x2193 }, { "dash", 0x2010 },
	{ "deg", 0xb0 }, { "delta", 0x3b4 }, { "diams", 0x2666 },
	{ "divide", 0xf7 }, { "dollar", 0x24 }, { "eacute", 0xe9 },
	{ "ecirc", 0xea }, { "egrave", 0xe8 }, { "empty", 0x2205 },
	{ "emsp", 0x2003 }, { "ensp", 0x2002 }, { "epsilon", 0x3b5 },
	{ "equals", 0x3d }, { "equiv", 0x2261 }, { "eta", 0x3b7 },
	{ "eth", 0xf0 }, { "euml", 0xeb }, { "euro", 0x20ac },
	{ "excl", 0x21 }, { "exist", 0x2203 }, { "female", 0x2640 },
	{ "fnof", 0x192 }, { "forall", 0x2200 }, { "frac12", 0xbd },
	{ "frac14", 0xbc }, { "frac34", 0xbe }, { "frasl", 0x2044 },
	{ "gamma", 0x3b3 }, { "ge", 0x2265 }, { "grave", 0x60 },
	{ "gt", 0x3e }, { "hArr", 0x21d4 }, { "harr", 0x2194 },
	{ "hearts", 0x2665 }, { "hellip", 0x2026 }, { "hyphen", 0x2010 },
	{ "iacute", 0xed }, { "icirc", 0xee }, { "iexcl", 0xa1 },
	{ "igrave", 0xec }, { "image", 0x2111 }, { "infin", 0x221e },
	{ "int", 0x222b }, { "iota", 0x3b9 }, { "iquest", 0xbf },
	{ "isin", 0x2208 }, { "iuml", 0xef }, { "kappa", 0x3ba },
	{ "lArr", 0x21d0 }, { "lambda", 0x3bb }, { "lang", 0x2329 },
	{ "laquo", 0xab }, { "larr", 0x2190 }, { "lceil", 0x2308 },
	{ "lcub", 0x7b }, { "ldquo", 0x201c }, { "le", 0x2264 },
	{ "lfloor", 0x230a }, { "lowast", 0x2217 }, { "lowbar", 0x5f },
	{ "loz", 0x25ca }, { "lpar", 0x28 }, { "lrm", 0x200e },
	{ "lsaquo", 0x2039 }, { "lsqb", 0x5b }, { "lsquo", 0x2018 },
	{ "lt", 0x3c }, { "macr", 0xaf }, { "male", 0x2642 },
	{ "mdash", 0x2014 }, { "micro", 0xb5 }, { "middot", 0xb7 },
	{ "minus", 0x2212 }, { "mu", 0x3bc }, { "nabla", 0x2207 },
	{ "nbsp", 0xa0 }, { "ndash", 0x2013 }, { "ne", 0x2260 },
	{ "ni", 0x220b }, { "not", 0xac }, { "notin", 0x2209 },
	{ "nsub", 0x2284 }, { "ntilde", 0xf1 }, { "nu", 0x3bd },
	{ "num", 0x23 }, { "oacute", 0xf3 }, { "ocirc", 0xf4 },
	{ "oelig", 0x153 }, { "ograve", 0xf2 }, { "oline", 0x203e },
	{ "omega", 0x3c9 }, { "omicron", 0x3bf }, { "oplus", 0x2295 },
	{ "or", 0x2228 }, { "ordf", 0xaa }, { "ordm", 0xba },
	{ "oslash", 0xf8 }, { "otilde", 0xf5 }, { "otimes", 0x2297 },
	{ "ouml", 0xf6 }, { "para", 0xb6 }, { "part", 0x2202 },
	{ "percnt", 0x25 }, { "period", 0x2e }, { "permil", 0x2030 },
	{ "perp", 0x22a5 }, { "phi", 0x3c6 }, { "phone", 0x260e },
	{ "pi", 0x3c0 }, { "piv", 0x3d6 }, { "plus", 0x2b },
	{ "plusmn", 0xb1 }, { "pound", 0xa3 }, { "prime", 0x2032 },
	{ "prod", 0x220f }, { "prop", 0x221d }, { "psi", 0x3c8 },
	{ "quest", 0x3f }, { "quot", 0x22 }, { "rArr", 0x21d2 },
	{ "radic", 0x221a }, { "rang", 0x232a }, { "raquo", 0xbb },
	{ "rarr", 0x2192 }, { "rceil", 0x2309 }, { "rcub", 0x7d },
	{ "rdquo", 0x201d }, { "real", 0x211c }, { "reg", 0xae },
	{ "rfloor", 0x230b }, { "rho", 0x3c1 }, { "rlm", 0x200f },
	{ "rpar", 0x29 }, { "rsaquo", 0x203a }, { "rsqb", 0x5d },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201a }, { "scaron", 0x161 },
	{ "sdot", 0x22c5 }, { "sect", 0xa7 }, { "semi", 0x3b },
	{ "shy", 0xad }, { "sigma", 0x3c3 }, { "sigmaf", 0x3c2 },
	{ "sim", 0x223c }, { "sol", 0x2f }, { "spades", 0x2660 },
	{ "star", 0x2606 }, { "starf", 0x2605 }, { "sub", 0x2282 },
	{ "sube", 0x2286 }, { "sum", 0x2211 }, { "sup", 0x2283 },
	{ "sup1", 0xb9 }, { "sup2", 0xb2 }, { "sup3", 0xb3 },
	{ "supe", 0x2287 }, { "szlig", 0xdf }, { "tau", 0x3c4 },
	{ "there4", 0x2234 }, { "theta", 0x3b8 }, { "thetasym", 0x3d1 },
	{ "thinsp", 0x2009 }, { "thorn", 0xfe }, { "tilde", 0x2dc },
	{ "times", 0xd7 }, { "trade", 0x2122 }, { "uArr", 0x21d1 },
	{ "uacute", 0xfa }, { "uarr", 0x2191 }, { "ucirc", 0xfb },
	{ "ugrave", 0xf9 }, { "uml", 0xa8 }, { "upsih", 0x3d2 },
	{ "upsilon", 0x3c5 }, { "uuml", 0xfc }, { "verbar", 0x7c },
	{ "weierp", 0x2118 }, { "xi", 0x3be }, { "yacute", 0xfd },
	{ "yen", 0xa5 }, { "yuml", 0xff }, { "zeta", 0x3b6 },
	{ "zwj", 0x200d }, { "zwnj", 0x200c },
};

/* Elements whose start or end is a line break in the text. */
static const char *const html_blocks[] = {
	"address", "article", "aside", "blockquote", "br", "caption",
	"center", "dd", "div", "dl", "dt", "fieldset", "figcaption",
	"figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
	"header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
	"table", "tbody", "tfoot", "thead", "title", "tr", "ul",
};

/* HTML5 §13.2.5.80: numeric references 0x80-0x9F mean windows-1252. */
static const uint16_t html_c1[32] = {
	0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
	0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
};

struct html_out {
	struct buf	*text;
	struct buf	*links;
	bool		 space;		/* whitespace seen since last text */
	bool		 started;	/* text written on this line */
	bool		 brk;		/* a line break is due before text */
	int		 err;
};

static inline bool
html_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static inline bool
html_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
html_alnum(unsigned char c)
{
	return html_alpha(c) || (c >= '0' && c <= '9');
}

static size_t
utf8_put(uint32_t cp, char *u)
{
	if (cp < 0x80) {
		u[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (char)(0xf0 | cp >> 18);
	u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int
html_ent_cmp(const void *key, const void *elt)
{
	return strcmp(key, ((const struct html_ent *)elt)->name);
}

/*
 * A character reference at p[0] == '&': its code point and, in
 * *used_out, the bytes it took; false when there is none (the '&' is
 * text).  Numeric ones may lack the ';' (HTML5 accepts that with an
 * error); named ones need it but for the five legacy ones real mail
 * writes bare.
 */
static bool
html_entity(const char *p, size_t len, uint32_t *cp_out, size_t *used_out)
{
	char			 name[HTML_NAME_MAX + 1];
	const struct html_ent	*e;
	uint32_t		 cp = 0;
	size_t			 i, n;
	bool			 hex;
	int			 d;

	if (len >= 3 && p[1] == '#') {
		hex = p[2] == 'x' || p[2] == 'X';
		for (i = hex ? 3 : 2, n = 0; i < len; i++, n++) {
			if (p[i] >= '0' && p[i] <= '9')
				d = p[i] - '0';
			else if (hex && p[i] >= 'a' && p[i] <= 'f')
				d = p[i] - 'a' + 10;
			else if (hex && p[i] >= 'A' && p[i] <= 'F')
				d = p[i] - 'A' + 10;
			else
				break;
			if (cp <= 0x10ffff)
				cp = cp * (hex ? 16 : 10) + (uint32_t)d;
		}
		if (n == 0)
			return false;
		if (i < len && p[i] == ';')
			i++;
		if (cp >= 0x80 && cp <= 0x9f)
			cp = html_c1[cp - 0x80];
		if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			cp = 0xfffd;
		*cp_out = cp;
		*used_out = i;
		return true;
	}
	for (i = 1; i < len && i <= HTML_NAME_MAX &&
	    html_alnum((unsigned char)p[i]); i++)
		name[i - 1] = p[i];
	if (i == 1 || i > HTML_NAME_MAX)
		return false;
	name[i - 1] = '\0';
	if ((e = bsearch(name, html_ents, sizeof(html_ents) /
	    sizeof(html_ents[0]), sizeof(html_ents[0]), html_ent_cmp)) == NULL)
		return false;
	if (i < len && p[i] == ';')
		i++;
	else if (strcmp(name, "amp") != 0 && strcmp(name, "lt") != 0 &&
	    strcmp(name, "gt") != 0 && strcmp(name, "quot") != 0 &&
	    strcmp(name, "nbsp") != 0)
		return false;
	*cp_out = e->cp;
	*used_out = i;
	return true;
}

static void
html_append(struct html_out *o, const char *p, size_t len)
{
	if (o->err == 0 && buf_append(o->text, p, len) == -1)
		o->err = -1;
}

/* Text (not whitespace) is coming: put the pending space first. */
static void
html_word(struct html_out *o)
{
	if (o->brk)
		html_append(o, "\n", 1);
	else if (o->space && o->started)
		html_append(o, " ", 1);
	o->space = o->brk = false;
	o->started = true;
}

/* A line break, written only when text follows it: no blank lines. */
static void
html_break(struct html_out *o)
{
	if (o->started)
		o->brk = true;
	o->started = false;
	o->space = false;
}

/* Text between tags: whitespace collapsed, references decoded. */
static void
html_text(struct html_out *o, const char *p, size_t len)
{
	char		u[4];
	uint32_t	cp;
	size_t		i, j, used;

	for (i = 0; i < len; ) {
		if (html_ws((unsigned char)p[i])) {
			o->space = true;
			i++;
			continue;
		}
		if (p[i] == '&' && html_entity(p + i, len - i, &cp, &used)) {
			i += used;
			/* A no-break space is a space to a search. */
			if (cp == 0xa0 || (cp < 0x80 &&
			    html_ws((unsigned char)cp))) {
				o->space = true;
				continue;
			}
			html_word(o);
			html_append(o, u, utf8_put(cp, u));
			continue;
		}
		for (j = i + 1; j < len && !html_ws((unsigned char)p[j]) &&
		    p[j] != '&'; j++)
			;
		html_word(o);
		html_append(o, p + i, j - i);
		i = j;
	}
}

/* An attribute value into links_out, references decoded and trimmed. */
static void
html_link(struct html_out *o, const char *p, size_t len)
{
	char		u[4];
	uint32_t	cp;
	size_t		i, j, used;
	int		rc = 0;

	while (len > 0 && html_ws((unsigned char)p[0])) {
		p++;
		len--;
	}
	while (len > 0 && html_ws((unsigned char)p[len - 1]))
		len--;
	if (len == 0 || o->links == NULL || o->err != 0)
		return;
	for (i = 0; i < len && rc == 0; ) {
		if (p[i] == '&' && html_entity(p + i, len - i, &cp, &used)) {
			rc = buf_append(o->links, u, utf8_put(cp, u));
			i += used;
			continue;
		}
		/* A line break inside would split the link in two. */
		if (p[i] == '\r' || p[i] == '\n') {
			i++;
			continue;
		}
		for (j = i + 1; j < len && p[j] != '&' && p[j] != '\r' &&
		    p[j] != '\n'; j++)
			;
		rc = buf_append(o->links, p + i, j - i);
		i = j;
	}
	if (rc == 0)
		rc = buf_append(o->links, "\n", 1);
	if (rc == -1)
		o->err = -1;
}

static bool
html_name_is(const char *p, size_t len, const char *name)
{
	size_t	n = strlen(name);

	return len == n && strncasecmp(p, name, n) == 0;
}

static bool
html_is_block(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(html_blocks) / sizeof(html_blocks[0]); i++)
		if (html_name_is(p, len, html_blocks[i]))
			return true;
	return false;
}

/*
 * A tag from p[0] == '<' (a letter or '/' follows): its name and, for
 * <a href> and <img src>, the link; the return is the bytes it took,
 * through '>' or to the end when it never closes.  Attributes are read
 * the way HTML5 §13.2.5.32-39 reads them, so a '>' inside a quoted value
 * does not end the tag.
 */
static size_t
html_tag(struct html_out *o, const char *p, size_t len,
    const char **name_out, size_t *name_len_out, bool *end_out)
{
	const char	*name, *an, *av;
	size_t		 i, nlen, anlen, avlen;
	char		 q;
	bool		 want_href, want_src;

	i = 1;
	*end_out = p[1] == '/';
	if (*end_out)
		i++;
	name = p + i;
	while (i < len && !html_ws((unsigned char)p[i]) && p[i] != '/' &&
	    p[i] != '>')
		i++;
	nlen = (size_t)(p + i - name);
	*name_out = name;
	*name_len_out = nlen;
	want_href = !*end_out && (html_name_is(name, nlen, "a") ||
	    html_name_is(name, nlen, "area"));
	want_src = !*end_out && html_name_is(name, nlen, "img");
	for (;;) {
		while (i < len && (html_ws((unsigned char)p[i]) || p[i] == '/'))
			i++;
		if (i >= len)
			return len;
		if (p[i] == '>')
			return i + 1;
		an = p + i;
		/* The first byte is always part of the name ('=' too). */
		i++;
		while (i < len && !html_ws((unsigned char)p[i]) &&
		    p[i] != '/' && p[i] != '>' && p[i] != '=')
			i++;
		anlen = (size_t)(p + i - an);
		while (i < len && html_ws((unsigned char)p[i]))
			i++;
		if (i >= len || p[i] != '=')
			continue;
		i++;
		while (i < len && html_ws((unsigned char)p[i]))
			i++;
		if (i < len && (p[i] == '"' || p[i] == '\'')) {
			q = p[i++];
			av = p + i;
			while (i < len && p[i] != q)
				i++;
			avlen = (size_t)(p + i - av);
			if (i < len)
				i++;
		} else {
			av = p + i;
			while (i < len && !html_ws((unsigned char)p[i]) &&
			    p[i] != '>')
				i++;
			avlen = (size_t)(p + i - av);
		}
		if ((want_href && html_name_is(an, anlen, "href")) ||
		    (want_src && html_name_is(an, anlen, "src")))
			html_link(o, av, avlen);
	}
}

/* Where "</name" starts at or after p (case-insensitive), or len. */
static size_t
html_find_end(const char *p, size_t len, const char *name)
{
	size_t	i, n = strlen(name);
	const char *lt;

	for (i = 0; i < len; i++) {
		if ((lt = memchr(p + i, '<', len - i)) == NULL)
			return len;
		i = (size_t)(lt - p);
		if (len - i >= n + 2 && p[i + 1] == '/' &&
		    strncasecmp(p + i + 2, name, n) == 0 && (len - i == n + 2 ||
		    html_ws((unsigned char)p[i + 2 + n]) ||
		    p[i + 2 + n] == '>' || p[i + 2 + n] == '/'))
			return i;
	}
	return len;
}

/* Past the end of "<!--...-->", "<!...>" or "<?...>" at p, or len. */
static size_t
html_skip_markup(const char *p, size_t len)
{
	const char	*e;
	size_t		 i;

	if (len >= 4 && memcmp(p, "<!--", 4) == 0) {
		for (i = 4; i < len; i++) {
			if ((e = memchr(p + i, '-', len - i)) == NULL)
				return len;
			i = (size_t)(e - p);
			if (i + 2 < len && p[i + 1] == '-' && p[i + 2] == '>')
				return i + 3;
		}
		return len;
	}
	if ((e = memchr(p, '>', len)) == NULL)
		return len;
	return (size_t)(e - p) + 1;
}

int
mime_html_text(struct span html, struct buf *text_out, struct buf *links_out)
{
	struct html_out	 o = { text_out, links_out, false, false, false, 0 };
	const char	*p = html.ptr, *lt, *name;
	size_t		 i, len = html.len, n, nlen;
	bool		 end;

	for (i = 0; i < len && o.err == 0; ) {
		if ((lt = memchr(p + i, '<', len - i)) == NULL) {
			html_text(&o, p + i, len - i);
			break;
		}
		n = (size_t)(lt - p);
		html_text(&o, p + i, n - i);
		i = n;
		if (i + 1 >= len) {
			html_text(&o, p + i, 1);
			break;
		}
		if (p[i + 1] == '!' || p[i + 1] == '?') {
			i += html_skip_markup(p + i, len - i);
			continue;
		}
		if (!html_alpha((unsigned char)p[i + 1]) &&
		    !(p[i + 1] == '/' && i + 2 < len &&
		    html_alpha((unsigned char)p[i + 2]))) {
			/* HTML5: a '<' that starts no tag is text. */
			html_text(&o, p + i, 1);
			i++;
			continue;
		}
		i += html_tag(&o, p + i, len - i, &name, &nlen, &end);
		if (html_is_block(name, nlen))
			html_break(&o);
		else if (html_name_is(name, nlen, "td") ||
		    html_name_is(name, nlen, "th") ||
		    html_name_is(name, nlen, "img"))
			o.space = true;
		if (!end && (html_name_is(name, nlen, "script") ||
		    html_name_is(name, nlen, "style"))) {
			/* Raw text (HTML5 §13.1.2): to the end tag. */
			i += html_find_end(p + i, len - i,
			    html_name_is(name, nlen, "script") ? "script" :
			    "style");
		}
	}
	if (o.err != 0)
		errno = EMSGSIZE;
	return o.err;
}
