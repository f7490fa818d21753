/*
 * mime_msgid: the msg-ids of Message-ID, In-Reply-To and References
 * (RFC 5322 §3.6.4), with the obsolete forms of §4.5.4: CFWS inside an
 * id (removed, as it is not part of it) and phrases between ids
 * (skipped).  An id is "<" left "@" right ">" with both sides non-empty;
 * anything else between the brackets is not an id and is skipped, as
 * Dovecot skips it for THREAD.
 *
 * Pure.  The value is hostile: the scan for the end of an id stops at
 * the next '<' or '>' whatever it is inside, so that each byte is looked
 * at a bounded number of times and the whole is linear in the value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "buf.h"
#include "mime_hdr.h"
#include "util.h"

/* Where an id lies: in the value, or rewritten into the store. */
struct msgid_ref {
	size_t	off;
	size_t	len;
	bool	stored;
};

struct msgid_scan {
	size_t	end;		/* offset of the closing '>' */
	size_t	left;		/* bytes of the id before at, CFWS out */
	size_t	right;		/* and after it */
	bool	rewrite;	/* CFWS inside: copy it without */
};

static bool
msgid_is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A quoted-pair at v[i] ('\\' and one more byte, not a bracket). */
static bool
msgid_pair(struct span v, size_t i)
{
	return v.ptr[i] == '\\' && i + 1 < v.len && v.ptr[i + 1] != '<' &&
	    v.ptr[i + 1] != '>';
}

/*
 * Walk the id whose '<' is at v[start]: a quoted id-left keeps its
 * quotes and quoted-pairs (they are part of the id); a comment or
 * whitespace outside quotes is CFWS, and so is a line end inside them.
 * With store NULL, look (sc filled; -1 when it is not an id); else
 * append the id without its CFWS to store (-1 when it is full).
 */
static int
msgid_walk(struct span v, size_t start, struct msgid_scan *sc,
    struct buf *store)
{
	size_t	i, n, depth = 0, last;
	bool	quoted = false, seen_at = false;
	char	c;

	last = store != NULL ? sc->end : v.len - 1;
	if (store == NULL) {
		sc->left = sc->right = 0;
		sc->rewrite = false;
	} else if (buf_append_char(store, '<') == -1)
		return -1;
	for (i = start + 1; i <= last; i++) {
		c = v.ptr[i];
		if (c == '<' || (c == '>' && (quoted || depth > 0)))
			return -1;
		if (c == '>')
			break;
		if (depth > 0) {
			if (msgid_pair(v, i))
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if ((!quoted && (c == '(' || msgid_is_wsp(c))) ||
		    (quoted && (c == '\r' || c == '\n'))) {
			depth = c == '(';
			sc->rewrite = true;
			continue;
		}
		n = quoted && msgid_pair(v, i) ? 2 : 1;
		if (c == '"')
			quoted = !quoted;
		if (store != NULL && buf_append(store, v.ptr + i, n) == -1)
			return -1;
		if (c == '@' && !quoted && !seen_at)
			seen_at = true;
		else if (seen_at)
			sc->right += n;
		else
			sc->left += n;
		i += n - 1;
	}
	if (store != NULL)
		return buf_append_char(store, '>');
	if (i > last || !seen_at || sc->left == 0 || sc->right == 0)
		return -1;
	sc->end = i;
	return 0;
}

void
mime_msgids_free(struct mime_msgids *ids)
{
	if (ids == NULL)
		return;
	free(ids->v);
	ids->v = NULL;
	ids->n = 0;
	buf_free(&ids->store);
}

int
mime_hdr_msgids(struct span value, struct mime_msgids *out)
{
	struct msgid_ref	*refs = NULL;
	struct msgid_scan	 sc;
	size_t			 i, n = 0, cap = 0, off;

	mime_msgids_free(out);
	/*
	 * A rewritten id is shorter than its source: the value's length
	 * bounds the store.
	 */
	buf_init(&out->store, value.len + 1);
	for (i = 0; i < value.len && n < MIME_MSGIDS_MAX; i++) {
		if (value.ptr[i] != '<' || msgid_walk(value, i, &sc, NULL) == -1)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			refs = xrealloc(refs, cap * sizeof(*refs));
		}
		if (sc.rewrite) {
			off = out->store.len;
			if (msgid_walk(value, i, &sc, &out->store) == -1)
				break;
			refs[n].off = off;
			refs[n].len = out->store.len - off;
			refs[n].stored = true;
		} else {
			refs[n].off = i;
			refs[n].len = sc.end + 1 - i;
			refs[n].stored = false;
		}
		n++;
		i = sc.end;
	}
	if (n > 0) {
		out->v = xcalloc(n, sizeof(*out->v));
		for (i = 0; i < n; i++)
			out->v[i] = span_make((refs[i].stored ?
			    out->store.data : value.ptr) + refs[i].off,
			    refs[i].len);
		out->n = n;
	}
	free(refs);
	return n > 0 ? 0 : -1;
}
