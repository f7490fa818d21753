/*
 * imap_kw: IMAP keywords over Maildir letters (contract in imap_kw.h).
 * Runs in the imap role; it trusts the tables maildir_kw.c built (their
 * names are checked atoms) and nothing else: letters come from file
 * names, which any program may have written, so only 'a'-'z' count.
 */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imap_kw.h"
#include "log.h"

/* The folders of RFC 6154's \Junk and \Trash, as the mda makes them. */
#define IMAP_KW_JUNK		"Junk"
#define IMAP_KW_TRASH		"Trash"

/* The canonical letters (bit i: letter 'a' + i) of a message's flags. */
static uint32_t
kw_canon(const struct maildir_kw *kw, const char *letters)
{
	uint32_t	mask, m = 0;
	size_t		i;

	mask = maildir_kw_canon_mask(kw, maildir_kw_mask(letters));
	/* A letter the table does not name is not shown. */
	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if ((mask & ((uint32_t)1 << i)) && kw->name[i] != NULL)
			m |= (uint32_t)1 << i;
	return m;
}

int
imap_kw_names(const struct maildir_kw *kw, const char *letters,
    struct buf *out)
{
	uint32_t	m = kw_canon(kw, letters);
	size_t		i;

	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if ((m & ((uint32_t)1 << i)) &&
		    (buf_append_char(out, ' ') == -1 ||
		    buf_append_str(out, kw->name[i]) == -1))
			return -1;
	return 0;
}

size_t
imap_kw_spans(const struct maildir_kw *kw, const char *letters,
    struct span out[MAILDIR_KW_MAX])
{
	uint32_t	m = kw_canon(kw, letters);
	size_t		i, n = 0;

	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if (m & ((uint32_t)1 << i))
			out[n++] = span_str(kw->name[i]);
	return n;
}

int
imap_kw_flags_list(const struct maildir_kw *kw, bool permanent,
    struct buf *out)
{
	size_t	i;

	if (buf_append_str(out, "\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft") == -1)
		return -1;
	for (i = 0; i < MAILDIR_KW_MAX; i++)
		if (kw->name[i] != NULL && kw->canon[i] == i &&
		    (buf_append_char(out, ' ') == -1 ||
		    buf_append_str(out, kw->name[i]) == -1))
			return -1;
	/* RFC 9051 §7.1: "\*" says new keywords may be made. */
	if (permanent && maildir_kw_free_count(kw) > 0 &&
	    buf_append_str(out, " \\*") == -1)
		return -1;
	return 0;
}

void
imap_kw_store(const struct maildir_kw *kw, enum imap_store_op op,
    uint32_t mask, char flags[32])
{
	uint32_t	have, drop;
	size_t		i, o = 0;
	char		out[32];

	have = maildir_kw_mask(flags);
	switch (op) {
	case IMAP_STORE_ADD:
		have |= mask;
		break;
	case IMAP_STORE_REMOVE:
		/* Every letter of the keyword, a duplicate's too. */
		drop = maildir_kw_canon_mask(kw, mask);
		for (i = 0; i < MAILDIR_KW_MAX; i++)
			if (drop & ((uint32_t)1 << kw->canon[i]))
				have &= ~((uint32_t)1 << i);
		break;
	case IMAP_STORE_SET:
		have = mask;
		break;
	}
	for (i = 0; flags[i] != '\0' && o < 31; i++)
		if (flags[i] < 'a' || flags[i] > 'z')
			out[o++] = flags[i];
	for (i = 0; i < MAILDIR_KW_MAX && o < 31; i++)
		if (have & ((uint32_t)1 << i))
			out[o++] = (char)('a' + i);
	out[o] = '\0';
	memcpy(flags, out, o + 1);
}

void
imap_kw_translate(const char *flags, const char map[MAILDIR_KW_MAX],
    char out[32])
{
	uint32_t	have = 0;
	size_t		i, o = 0;

	for (i = 0; flags[i] != '\0' && o < 31; i++) {
		if (flags[i] < 'a' || flags[i] > 'z')
			out[o++] = flags[i];
		else if (map[flags[i] - 'a'] != 0)
			have |= (uint32_t)1 << (map[flags[i] - 'a'] - 'a');
	}
	for (i = 0; i < MAILDIR_KW_MAX && o < 31; i++)
		if (have & ((uint32_t)1 << i))
			out[o++] = (char)('a' + i);
	out[o] = '\0';
}

enum imap_kw_junk
imap_kw_junk_move(const char *from, const char *to)
{
	bool	fj = strcmp(from, IMAP_KW_JUNK) == 0;
	bool	tj = strcmp(to, IMAP_KW_JUNK) == 0;

	if (tj && !fj)
		return IMAP_KW_JUNK_SPAM;
	/* Deleting spam is no verdict that it was ham. */
	if (fj && !tj && strcmp(to, IMAP_KW_TRASH) != 0)
		return IMAP_KW_JUNK_HAM;
	return IMAP_KW_JUNK_NONE;
}

/* Does this table's keyword name appear on new but not on old? */
static bool
kw_added(const struct maildir_kw *kw, const char *name, const char *old,
    const char *new)
{
	int	idx = maildir_kw_find(kw, name, strlen(name));
	uint32_t bit;

	if (idx == -1)
		return false;
	bit = (uint32_t)1 << idx;
	return (kw_canon(kw, new) & bit) && !(kw_canon(kw, old) & bit);
}

enum imap_kw_junk
imap_kw_junk_store(const struct maildir_kw *kw, const char *old,
    const char *new)
{
	/* The keywords of RFC 5788's registry that mail clients set. */
	if (kw_added(kw, "$Junk", old, new))
		return IMAP_KW_JUNK_SPAM;
	if (kw_added(kw, "$NotJunk", old, new))
		return IMAP_KW_JUNK_HAM;
	return IMAP_KW_JUNK_NONE;
}

void
imap_kw_junk_report(const char *sid, const char *mailbox, uint32_t uid,
    enum imap_kw_junk verdict, const char *cause)
{
	if (verdict == IMAP_KW_JUNK_NONE)
		return;
	/*
	 * Issue 15 trains the Bayesian filter here: the message's tokens
	 * as spam or as ham, once per message and verdict.
	 */
	log_debug("sid=%s imap: event=junk-report mailbox=%s uid=%u "
	    "verdict=%s cause=%s", sid, mailbox, uid,
	    verdict == IMAP_KW_JUNK_SPAM ? "spam" : "ham", cause);
}
