/*
 * imap_sort: SORT criteria, base subjects and the ordering of messages
 * (contract in imap_sort.h).  Run by the imap role; the command bytes
 * and the message headers are hostile, every string read here is
 * bounded by its span and capped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imap_search.h"
#include "imap_sort.h"
#include "log.h"
#include "mime_hdr.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The sort keys by name (RFC 5256 §5, RFC 5957 §3). */
static const struct {
	const char		*name;
	enum imap_sort_key	 key;
} sort_keys[] = {
	{ "ARRIVAL", IMAP_SORT_ARRIVAL },
	{ "CC", IMAP_SORT_CC },
	{ "DATE", IMAP_SORT_DATE },
	{ "FROM", IMAP_SORT_FROM },
	{ "SIZE", IMAP_SORT_SIZE },
	{ "SUBJECT", IMAP_SORT_SUBJECT },
	{ "TO", IMAP_SORT_TO },
	{ "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
	{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
};

/* --- the arguments --- */

static bool
atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	    c != '%' && c != '*' && c != '"' && c != '\\' && c != ']';
}

static size_t
atom_len(struct span in, size_t off)
{
	size_t	i = off;

	while (i < in.len && atom_char((unsigned char)in.ptr[i]))
		i++;
	return i - off;
}

/* charset SP: an atom, or a quoted string without escapes. */
static int
parse_charset(struct span in, size_t *off, struct span *out,
    const char **err_out)
{
	size_t	i = *off, n;

	if (i < in.len && in.ptr[i] == '"') {
		for (n = i + 1; n < in.len && in.ptr[n] != '"'; n++)
			if (in.ptr[n] == '\\' || in.ptr[n] == '\r' ||
			    in.ptr[n] == '\n') {
				*err_out = "Invalid charset";
				return -1;
			}
		if (n == in.len) {
			*err_out = "Unterminated quoted string";
			return -1;
		}
		*out = span_make(in.ptr + i + 1, n - i - 1);
		i = n + 1;
	} else {
		if ((n = atom_len(in, i)) == 0) {
			*err_out = "Expected a charset";
			return -1;
		}
		*out = span_make(in.ptr + i, n);
		i += n;
	}
	if (i >= in.len || in.ptr[i] != ' ') {
		*err_out = "Missing search criteria";
		return -1;
	}
	*off = i + 1;
	return 0;
}

int
imap_sort_parse(struct span in, bool thread, struct imap_sort_args *out,
    size_t *used_out, const char **err_out)
{
	struct span	w;
	size_t		off = 0, i, n;
	bool		reverse = false;

	memset(out, 0, sizeof(*out));
	if (thread) {
		/* thread-alg = "ORDEREDSUBJECT" / "REFERENCES" (§5) */
		n = atom_len(in, 0);
		w = span_make(in.ptr, n);
		if (span_caseeq(w, "ORDEREDSUBJECT"))
			out->alg = IMAP_THREAD_ORDEREDSUBJECT;
		else if (span_caseeq(w, "REFERENCES"))
			out->alg = IMAP_THREAD_REFERENCES;
		else {
			*err_out = "Unknown thread algorithm";
			return -1;
		}
		off = n;
	} else {
		if (in.len == 0 || in.ptr[0] != '(') {
			*err_out = "Expected a list of sort criteria";
			return -1;
		}
		off = 1;
		for (;;) {
			n = atom_len(in, off);
			w = span_make(in.ptr + off, n);
			off += n;
			if (!reverse && span_caseeq(w, "REVERSE")) {
				reverse = true;
			} else {
				for (i = 0; i < NELEM(sort_keys); i++)
					if (span_caseeq(w, sort_keys[i].name))
						break;
				if (i == NELEM(sort_keys)) {
					*err_out = n == 0 ?
					    "Expected a sort criterion" :
					    "Unknown sort criterion";
					return -1;
				}
				if (out->ncrit == IMAP_SORT_CRIT_MAX) {
					*err_out = "Too many sort criteria";
					return -1;
				}
				out->crit[out->ncrit].key = sort_keys[i].key;
				out->crit[out->ncrit++].reverse = reverse;
				reverse = false;
			}
			if (off < in.len && in.ptr[off] == ' ') {
				off++;
				continue;
			}
			if (off < in.len && in.ptr[off] == ')' && !reverse) {
				off++;
				break;
			}
			*err_out = "Invalid sort criteria";
			return -1;
		}
	}
	if (off >= in.len || in.ptr[off] != ' ') {
		*err_out = "Missing charset";
		return -1;
	}
	off++;
	if (parse_charset(in, &off, &out->charset, err_out) == -1)
		return -1;
	if (off >= in.len) {
		*err_out = "Missing search criteria";
		return -1;
	}
	*used_out = off;
	return 0;
}

/* --- the base subject (RFC 5256 §2.1) --- */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP; its length at p, or 0. */
static size_t
blob_len(const char *p, size_t n)
{
	size_t	i;

	if (n == 0 || p[0] != '[')
		return 0;
	for (i = 1; i < n && p[i] != ']'; i++)
		if (p[i] == '[')
			return 0;
	if (i == n)
		return 0;
	for (i++; i < n && is_wsp(p[i]); i++)
		;
	return i;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; or 0. */
static size_t
refwd_len(const char *p, size_t n)
{
	size_t	i;

	if (n >= 3 && strncasecmp(p, "fwd", 3) == 0)
		i = 3;
	else if (n >= 2 && (strncasecmp(p, "fw", 2) == 0 ||
	    strncasecmp(p, "re", 2) == 0))
		i = 2;
	else
		return 0;
	while (i < n && is_wsp(p[i]))
		i++;
	i += blob_len(p + i, n - i);
	return i < n && p[i] == ':' ? i + 1 : 0;
}

int
imap_sort_base_subject(struct span raw, struct buf *out, bool *reply_out)
{
	struct buf	 dec;
	const char	*p;
	size_t		 i, n, b, r, start;
	bool		 reply = false, changed;
	int		 rc = 0;

	/* (1) decoded, whitespace and folding made single spaces */
	buf_init(&dec, IMAP_SORT_STR_MAX);
	if (mime_decode_words(raw, &dec) == -1 && errno != EMSGSIZE)
		rc = -1;
	for (i = n = 0; i < dec.len; i++) {
		char	c = dec.data[i];

		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && n > 0 && dec.data[n - 1] == ' ')
			continue;
		dec.data[n++] = c;
	}
	if (dec.data == NULL || n == 0) {
		buf_free(&dec);
		if (reply_out != NULL)
			*reply_out = false;
		return rc;
	}
	p = dec.data;
	start = 0;
	for (;;) {
		/* (2) subj-trailer = "(fwd)" / WSP, from the end */
		for (;;) {
			if (n > start && is_wsp(p[n - 1]))
				n--;
			/* cppcheck-suppress knownConditionTrueFalse ; n
			 * shrinks in this loop, cppcheck misses it */
			else if (n - start >= 5 &&
			    strncasecmp(p + n - 5, "(fwd)", 5) == 0) {
				n -= 5;
				reply = true;
			} else
				break;
		}
		/* (3), (4), (5) */
		do {
			changed = false;
			for (;;) {
				if (start < n && is_wsp(p[start])) {
					start++;
					changed = true;
					continue;
				}
				for (i = start; (b = blob_len(p + i, n - i)) > 0;)
					i += b;
				if ((r = refwd_len(p + i, n - i)) == 0)
					break;
				start = i + r;
				reply = changed = true;
			}
			b = blob_len(p + start, n - start);
			if (b > 0 && start + b < n) {
				start += b;
				changed = true;
			}
		} while (changed);
		/* (6) "[fwd:" ... "]" */
		if (n - start >= 6 && strncasecmp(p + start, "[fwd:", 5) == 0 &&
		    p[n - 1] == ']') {
			start += 5;
			n--;
			reply = true;
			continue;
		}
		break;
	}
	if (rc == 0 && n > start)
		rc = buf_append(out, p + start, n - start);
	buf_free(&dec);
	if (reply_out != NULL)
		*reply_out = reply;
	return rc;
}

/* --- the keys --- */

int64_t
imap_sort_sent_date(const struct mime_msg *msg, int64_t internaldate)
{
	const struct mime_field	*f;
	int64_t			 t;
	int			 zone;

	f = mime_part_field(msg, 0, "Date", NULL);
	if (f == NULL || mime_hdr_date(mime_field_value(msg, f), &t,
	    &zone) == -1)
		return internaldate;
	return t;
}

static char *
fold_dup(struct span s)
{
	struct buf	b;
	char		*r;

	buf_init(&b, IMAP_SORT_STR_MAX);
	(void)imap_search_fold(s, &b);
	r = xstrndup(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return r;
}

/*
 * RFC 5256 §3: the addr-mailbox of the first address (a group's name
 * for a group); RFC 5957 §3: the display name, decoded, else the
 * addr-spec.
 */
static char *
addr_key(const struct mime_msg *msg, const char *field, bool display)
{
	const struct mime_field	*f;
	struct mime_addrlist	 al;
	const struct mime_addr	*a;
	struct buf		 b;
	char			*r;

	f = mime_part_field(msg, 0, field, NULL);
	if (f == NULL)
		return xstrdup("");
	memset(&al, 0, sizeof(al));
	buf_init(&b, IMAP_SORT_STR_MAX);
	if (mime_hdr_addrs(mime_field_value(msg, f), &al) == 0 && al.n > 0) {
		a = &al.v[0];
		if (a->kind == MIME_ADDR_GROUP || (display && a->name.len > 0))
			(void)mime_decode_words(a->name, &b);
		else if (display) {
			if (buf_append_span(&b, a->local) == 0 &&
			    a->domain.len > 0 && buf_append_char(&b, '@') == 0)
				(void)buf_append_span(&b, a->domain);
		} else
			(void)buf_append_span(&b, a->local);
	}
	mime_addrlist_free(&al);
	r = fold_dup(span_make(b.data != NULL ? b.data : "", b.len));
	buf_free(&b);
	return r;
}

static char *
subject_key(const struct mime_msg *msg)
{
	const struct mime_field	*f;
	struct buf		 b;
	char			*r;

	f = mime_part_field(msg, 0, "Subject", NULL);
	if (f == NULL)
		return xstrdup("");
	buf_init(&b, IMAP_SORT_STR_MAX);
	(void)imap_sort_base_subject(mime_field_value(msg, f), &b, NULL);
	r = fold_dup(span_make(b.data != NULL ? b.data : "", b.len));
	buf_free(&b);
	return r;
}

bool
imap_sort_needs_message(const struct imap_sort_args *args)
{
	size_t	i;

	for (i = 0; i < args->ncrit; i++)
		if (args->crit[i].key != IMAP_SORT_ARRIVAL &&
		    args->crit[i].key != IMAP_SORT_SIZE)
			return true;
	return false;
}

void
imap_sort_keys_make(const struct imap_sort_args *args,
    struct imap_sort_keys *k, uint32_t seq, uint32_t uid, uint64_t size,
    int64_t internaldate, const struct mime_msg *msg)
{
	size_t	i;

	memset(k, 0, sizeof(*k));
	k->seq = seq;
	k->uid = uid;
	k->size = size;
	k->arrival = internaldate;
	k->date = internaldate;
	for (i = 0; i < args->ncrit; i++) {
		if (msg == NULL)
			continue;
		switch (args->crit[i].key) {
		case IMAP_SORT_CC:
			k->str[i] = addr_key(msg, "Cc", false);
			break;
		case IMAP_SORT_FROM:
			k->str[i] = addr_key(msg, "From", false);
			break;
		case IMAP_SORT_TO:
			k->str[i] = addr_key(msg, "To", false);
			break;
		case IMAP_SORT_DISPLAYFROM:
			k->str[i] = addr_key(msg, "From", true);
			break;
		case IMAP_SORT_DISPLAYTO:
			k->str[i] = addr_key(msg, "To", true);
			break;
		case IMAP_SORT_SUBJECT:
			k->str[i] = subject_key(msg);
			break;
		case IMAP_SORT_DATE:
			k->date = imap_sort_sent_date(msg, internaldate);
			break;
		default:
			break;
		}
	}
}

void
imap_sort_keys_free(struct imap_sort_keys *k)
{
	size_t	i;

	for (i = 0; i < IMAP_SORT_CRIT_MAX; i++)
		free(k->str[i]);
	memset(k, 0, sizeof(*k));
}

int
imap_sort_strcmp(const char *a, const char *b)
{
	const unsigned char	*x = (const unsigned char *)a;
	const unsigned char	*y = (const unsigned char *)b;
	unsigned		 cx, cy;

	/* RFC 4790 §9.2: i;ascii-casemap compares a-z as A-Z */
	for (;; x++, y++) {
		cx = *x >= 'a' && *x <= 'z' ? *x - 32u : *x;
		cy = *y >= 'a' && *y <= 'z' ? *y - 32u : *y;
		if (cx != cy || cx == 0)
			return (int)cx - (int)cy;
	}
}

static int
cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int
sort_cmp(const void *va, const void *vb, void *arg)
{
	const struct imap_sort_args	*sort_args = arg;
	const struct imap_sort_keys	*a = va, *b = vb;
	size_t				 i;
	int				 r;

	for (i = 0; i < sort_args->ncrit; i++) {
		switch (sort_args->crit[i].key) {
		case IMAP_SORT_ARRIVAL:
			r = cmp_i64(a->arrival, b->arrival);
			break;
		case IMAP_SORT_DATE:
			r = cmp_i64(a->date, b->date);
			break;
		case IMAP_SORT_SIZE:
			r = a->size < b->size ? -1 : a->size > b->size;
			break;
		default:
			r = imap_sort_strcmp(a->str[i] != NULL ? a->str[i] :
			    "", b->str[i] != NULL ? b->str[i] : "");
			break;
		}
		if (r != 0)
			return sort_args->crit[i].reverse ? -r : r;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void
imap_sort_run(const struct imap_sort_args *args, struct imap_sort_keys *v,
    size_t n)
{
	if (n < 2)
		return;
	qsort_r(v, n, sizeof(*v), sort_cmp, (void *)(uintptr_t)args);
}
