/*
 * imap_mbox: the IMAP mailbox commands over a user's Maildir (contract in
 * imap_mbox.h).  Runs in the imap role, chrooted in mail-dir as the
 * mailboxes' owner; the uidlist (UIDVALIDITY, UIDs) is maildir.c's, the
 * one the mda and pop3 use, so every role names a message alike.
 *
 * MODSEQ, the expunge history and the FETCH cache are the folder's
 * index (imap_index.c), kept in step at SELECT, at every poll and at
 * every change this session makes; CONDSTORE and QRESYNC (RFC 7162) are
 * answered from it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "imap_index.h"
#include "imap_mbox.h"
#include "imap/imap_kw.h"
#include "imap_list.h"
#include "imap_mutf7.h"
#include "imap_objectid.h"
#include "imap/imap_search.h"
#include "imap/imap_sort.h"
#include "imap/imap_struct.h"
#include "imap/imap_thread.h"
#include "log.h"
#include "mime.h"
#include "store/maildir.h"
#include "util.h"

#define IMAP_MBOX_DELIM		'.'
/* Buffers of a FETCH over this are freed when it ends. */
#define IMAP_MBOX_KEEP		(256 * 1024)
/* Cache records a FETCH keeps in memory before writing them. */
#define IMAP_MBOX_CACHE_BATCH	(256 * 1024)
/* A whole message read for FETCH (larger ones are refused). */
#define IMAP_MBOX_MSG_MAX	((uint64_t)256 * 1024 * 1024)
/* The header section read for SORT and THREAD (the rest is not). */
#define IMAP_MBOX_HDR_MAX	(1024 * 1024)

/* System flags and their Maildir letters (Maildir spec, "info"). */
static const struct {
	unsigned	 bit;
	char		 letter;
	const char	*name;
} mbox_flags[] = {
	{ IMAP_FLAG_DRAFT,	'D', "\\Draft" },
	{ IMAP_FLAG_FLAGGED,	'F', "\\Flagged" },
	{ IMAP_FLAG_ANSWERED,	'R', "\\Answered" },
	{ IMAP_FLAG_SEEN,	'S', "\\Seen" },
	{ IMAP_FLAG_DELETED,	'T', "\\Deleted" },
};

/* RFC 6154 §2: the folders the mda makes, with their use. */
static const struct {
	const char	*name;
	const char	*attr;
} mbox_special[] = {
	{ "Sent",	"\\Sent" },
	{ "Drafts",	"\\Drafts" },
	{ "Junk",	"\\Junk" },
	{ "Trash",	"\\Trash" },
	{ "Archive",	"\\Archive" },
};

/*
 * A message of the selected folder as the session sees it: one per
 * message per session, so kept small (issue 12's memory figure); the
 * flags are the Maildir letters as a mask (imap_index_flag_mask()),
 * made letters again by msg_flags() where they are used, and the file
 * names are kept one after another in one buffer (msg_name()) rather
 * than a malloc'd string each.
 */
struct mbox_msg {
	uint32_t	 uid;
	uint32_t	 name_off;	/* its file name in m->names; 0: none */
	bool		 in_new;
	bool		 recent;
	uint64_t	 size;		/* on disk */
	uint64_t	 size_crlf;	/* RFC822.SIZE */
	int64_t		 mtime;		/* INTERNALDATE */
	uint64_t	 flags;		/* letters, as a mask */
	uint64_t	 modseq;	/* RFC 7162, from the index */
};

/* Letters of a flag mask, with room (imap_index_flag_letters()). */
#define MBOX_FLAGS_LEN	53

struct imap_mbox {
	char		*root;
	const char	*sid;

	/* the selected folder */
	bool		 selected;
	bool		 readonly;
	char		*sel_name;	/* as the client named it */
	char		*sel_path;
	struct maildir_dirs dirs;	/* its cur/ (new/ stays -1): FETCH
					   opens files by name, no path walk */
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	struct mbox_msg	*msgs;
	size_t		 nmsgs;
	/*
	 * The messages' file names, each NUL-terminated, at their
	 * name_off (offset 0 is an empty name); a name replaced (a flag
	 * change renames the file) leaves its bytes dead until
	 * names_compact() copies the live ones.
	 */
	char		*names;
	size_t		 names_len, names_cap, names_dead;
	struct maildir_kw kw;		/* its keywords, as last announced */
	struct buf	 out;		/* a response being built */
	struct imap_index *idx;		/* its index; NULL: NOMODSEQ */
	struct imap_index_cache cache;	/* a message's cached strings */
	uint32_t	*gone;		/* expunged UIDs for VANISHED */
	size_t		 ngone, gonecap;

	/*
	 * What imap_mbox_select_prepare() took from new/ for the SELECT
	 * that follows: the folder and the base names (\Recent).
	 */
	char		*claimed_path;
	struct buf	 claimed;

	/* FETCH: the message read and parsed once, and its pieces */
	struct buf	 raw;		/* the file, LF line ends */
	struct mime_msg	 mime;		/* its parse (msg_parsed()) */
	bool		 parsed;	/* mime is raw's */
	struct buf	 spec;		/* a section spec */
	struct buf	 part;		/* a section's content */
	struct buf	 dec;		/* decoded for BINARY */

	/*
	 * A FETCH under way: the session's command (its own until
	 * imap_session_done()), the next message to look at, and what the
	 * messages so far gave.  imap_mbox_resume() answers one message a
	 * call, so the output holds at most one message's answer more than
	 * the connection's watermark.
	 */
	const struct imap_cmd *fcmd;
	size_t		 fnext;
	bool		 fneed, fseen, fcte, ffail;
	bool		 fmodseq, fcond;	/* MODSEQ asked; CONDSTORE on */
	size_t		 snext;		/* SEARCH: the message asked about */

	/* SEARCHRES (RFC 5182): "$", the saved UIDs, ascending */
	uint32_t	*saved;
	size_t		 nsaved;
	bool		 rev2;		/* IMAP4rev2 enabled (RFC 9051) */
	/*
	 * The role watches the selected folder (imap.c, inotify): stale
	 * once it saw a change there, so that the next command looks.
	 */
	bool		 watched;
	bool		 stale;
	/*
	 * Unwatched, the fallback: the mtimes of the folder's directories
	 * (its own, new/, cur/) taken before the last listing, and whether
	 * they can be trusted (folder_stamp()).
	 */
	struct timespec	 mtim[3];
	bool		 stamped;
	uint64_t	 quota;		/* bytes, UINT64_MAX: none */
	/* this command's session has UTF8=ACCEPT (or IMAP4rev2) on */
	bool		 utf8;
	bool		 usage_changed;	/* for imap_mbox_usage_changed() */
	/* imap_mbox_junk_take(): per message "s|h" folder NUL name NUL */
	struct buf	 junk;
	size_t		 njunk, junk_off;
};

/* --- names --- */

static bool
is_inbox(struct span name)
{
	return span_caseeq(name, "INBOX");
}

/*
 * A mailbox name we keep: 7-bit printable, no wildcard, no "/", not
 * starting or ending with the delimiter, no empty level.
 */
static bool
name_ok(struct span n)
{
	size_t	i;

	if (n.len == 0 || n.len > 200 || n.ptr[0] == IMAP_MBOX_DELIM ||
	    n.ptr[n.len - 1] == IMAP_MBOX_DELIM)
		return false;
	for (i = 0; i < n.len; i++) {
		if (n.ptr[i] < 0x20 || n.ptr[i] > 0x7e || n.ptr[i] == '/' ||
		    n.ptr[i] == '%' || n.ptr[i] == '*' || n.ptr[i] == '\\')
			return false;
		if (n.ptr[i] == IMAP_MBOX_DELIM && i > 0 &&
		    n.ptr[i - 1] == IMAP_MBOX_DELIM)
			return false;
	}
	return true;
}

/* The folder's path (INBOX: the Maildir itself); -1 for a bad name. */
static int
mbox_path(struct imap_mbox *m, struct span name, char *out, size_t outsz)
{
	int	n;

	if (is_inbox(name))
		n = snprintf(out, outsz, "%s", m->root);
	else if (!name_ok(name))
		return -1;
	else
		n = snprintf(out, outsz, "%s/.%.*s", m->root, (int)name.len,
		    name.ptr);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

static bool
folder_exists(const char *path)
{
	char		cur[PATH_MAX];
	struct stat	st;

	if (path_join(cur, sizeof(cur), path, "cur") == -1)
		return false;
	return stat(cur, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --- output --- */

static void
out_flush(struct imap_mbox *m, struct imap_session *s)
{
	if (m->out.len > 0)
		imap_session_send(s, m->out.data, m->out.len);
	buf_reset(&m->out);
}

static void
out_str(struct imap_mbox *m, const char *str)
{
	if (buf_append_str(&m->out, str) == -1)
		fatalx("imap_mbox: response too large");
}

/* A number in decimal. */
static void
out_u64(struct imap_mbox *m, uint64_t v)
{
	char	d[21];
	size_t	i = sizeof(d) - 1;

	d[i] = '\0';
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	out_str(m, d + i);
}

static void
out_fmt(struct imap_mbox *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
out_fmt(struct imap_mbox *m, const char *fmt, ...)
{
	char	line[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		fatalx("imap_mbox: response piece too long");
	out_str(m, line);
}

static void
out_span(struct imap_mbox *m, const struct buf *b)
{
	if (buf_append(&m->out, b->data, b->len) == -1)
		fatalx("imap_mbox: response too large");
}

static void
out_string(struct imap_mbox *m, struct span s)
{
	if (imap_session_buf_string(&m->out, s) == -1)
		fatalx("imap_mbox: response too large");
}

/*
 * A mailbox name as kept (modified UTF-7) on the wire: as it is, or
 * in UTF-8 for a UTF8=ACCEPT session (RFC 6855 §3).  A name on disk
 * that is no valid modified UTF-7 (another program made it) goes out
 * as it is.
 */
static void
out_name(struct imap_mbox *m, struct span name)
{
	struct buf	u;

	if (!m->utf8) {
		out_string(m, name);
		return;
	}
	buf_init(&u, name.len * 2 + 16);
	if (imap_mutf7_decode(name, &u) == 0)
		out_string(m, span_make(u.data != NULL ? u.data : "", u.len));
	else
		out_string(m, name);
	buf_free(&u);
}

/*
 * A kept name as the session sees it (UTF-8 under UTF8=ACCEPT), or
 * (to_kept) the other way: a name the session sees as kept.  A name
 * that does not convert stays as it is (a folder another program made
 * whose name was never modified UTF-7).
 */
static char *
name_conv(const struct imap_mbox *m, const char *name, bool to_kept)
{
	struct buf	b;
	char		*r;
	int		 rc;

	if (!m->utf8)
		return xstrdup(name);
	buf_init(&b, strlen(name) * 4 + 16);
	rc = to_kept ? imap_mutf7_encode(span_str(name), &b) :
	    imap_mutf7_decode(span_str(name), &b);
	r = rc == 0 ? xstrndup(b.data != NULL ? b.data : "", b.len) :
	    xstrdup(name);
	buf_free(&b);
	return r;
}

static unsigned
flags_bits(const char *letters)
{
	unsigned	bits = 0;
	size_t		i;

	for (i = 0; i < sizeof(mbox_flags) / sizeof(mbox_flags[0]); i++)
		if (strchr(letters, mbox_flags[i].letter) != NULL)
			bits |= mbox_flags[i].bit;
	return bits;
}

/* The letters of flags with the system flags set to bits, kept sorted. */
static void
flags_letters(const char *old, unsigned bits, char out[32])
{
	char	tmp[64];
	size_t	i, o = 0;

	for (i = 0; old[i] != '\0' && o < 31; i++)
		if (strchr("DFRST", old[i]) == NULL)
			tmp[o++] = old[i];
	for (i = 0; i < sizeof(mbox_flags) / sizeof(mbox_flags[0]); i++)
		if (bits & mbox_flags[i].bit)
			tmp[o++] = mbox_flags[i].letter;
	tmp[o] = '\0';
	/* maildir.c sorts; order does not matter here. */
	(void)str_copy(out, 32, tmp);
}

/* The message's flags as Maildir letters, sorted (maildir.h's form). */
static const char *
msg_flags(const struct mbox_msg *msg, char out[MBOX_FLAGS_LEN])
{
	imap_index_flag_letters(msg->flags, out);
	return out;
}

/* The system flags (IMAP_FLAG_*) of the message, from its mask. */
static unsigned
msg_sys(const struct mbox_msg *msg)
{
	unsigned	bits = 0;
	size_t		i;

	for (i = 0; i < sizeof(mbox_flags) / sizeof(mbox_flags[0]); i++)
		if (msg->flags & imap_index_flag_bit(mbox_flags[i].letter))
			bits |= mbox_flags[i].bit;
	return bits;
}

static bool
msg_has(const struct mbox_msg *msg, char letter)
{
	return (msg->flags & imap_index_flag_bit(letter)) != 0;
}

static void
out_flags(struct imap_mbox *m, const struct mbox_msg *msg)
{
	char		fl[MBOX_FLAGS_LEN];
	unsigned	bits = flags_bits(msg_flags(msg, fl));
	size_t		i, at;
	bool		first = true;

	out_str(m, "FLAGS (");
	for (i = 0; i < sizeof(mbox_flags) / sizeof(mbox_flags[0]); i++)
		if (bits & mbox_flags[i].bit) {
			if (!first)
				out_str(m, " ");
			out_str(m, mbox_flags[i].name);
			first = false;
		}
	/* The keywords, each " name"; the first one loses its space. */
	at = m->out.len;
	if (imap_kw_names(&m->kw, fl, &m->out) == -1)
		fatalx("imap_mbox: response too large");
	if (first && m->out.len > at) {
		memmove(m->out.data + at, m->out.data + at + 1,
		    m->out.len - at - 1);
		m->out.data[--m->out.len] = '\0';
		first = false;
	}
	/* RFC 9051 Appendix E: IMAP4rev2 has no \\Recent */
	if (msg->recent && !m->rev2)
		out_str(m, first ? "\\Recent" : " \\Recent");
	out_str(m, ")");
}

/*
 * FLAGS and PERMANENTFLAGS of the selected folder (RFC 9051 §7.3.5,
 * §7.1): at SELECT, and again whenever its keywords change.
 */
static void
out_flag_lists(struct imap_mbox *m, struct imap_session *s)
{
	buf_reset(&m->out);
	out_str(m, "* FLAGS (");
	if (imap_kw_flags_list(&m->kw, false, &m->out) == -1)
		fatalx("imap_mbox: response too large");
	out_str(m, ")\r\n* OK [PERMANENTFLAGS (");
	if (!m->readonly &&
	    imap_kw_flags_list(&m->kw, true, &m->out) == -1)
		fatalx("imap_mbox: response too large");
	out_str(m, ")] Flags permitted\r\n");
	out_flush(m, s);
}

/* Take the folder's keywords; announce them when they changed. */
static void
kw_update(struct imap_mbox *m, struct imap_session *s,
    const struct maildir_kw *kw)
{
	if (maildir_kw_equal(&m->kw, kw))
		return;
	maildir_kw_free(&m->kw);
	maildir_kw_copy(&m->kw, kw);
	out_flag_lists(m, s);
}

void
imap_mbox_date(int64_t t, char out[27])
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	tm;
	time_t		tt = (time_t)t;
	int		year;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0)
		memset(&tm, 0, sizeof(tm));
	/* "%02d-%s-%04d %02d:%02d:%02d +0000" by hand: one per message of
	 * a FETCH INTERNALDATE, where printf showed in perf */
	year = tm.tm_year + 1900;
	memcpy(out, "DD-Mon-YYYY hh:mm:ss +0000", 27);
	out[0] = (char)('0' + tm.tm_mday / 10 % 10);
	out[1] = (char)('0' + tm.tm_mday % 10);
	memcpy(out + 3, mon[tm.tm_mon % 12], 3);
	out[7] = (char)('0' + year / 1000);
	out[8] = (char)('0' + year / 100 % 10);
	out[9] = (char)('0' + year / 10 % 10);
	out[10] = (char)('0' + year % 10);
	out[12] = (char)('0' + tm.tm_hour / 10 % 10);
	out[13] = (char)('0' + tm.tm_hour % 10);
	out[15] = (char)('0' + tm.tm_min / 10 % 10);
	out[16] = (char)('0' + tm.tm_min % 10);
	out[18] = (char)('0' + tm.tm_sec / 10 % 10);
	out[19] = (char)('0' + tm.tm_sec % 10);
}

/* --- LIST pattern matching --- */

bool
imap_mbox_match(const char *pat, size_t plen, const char *name,
    size_t nlen)
{
	bool	*row, *next, *t, r;
	size_t	 i, j;

	/*
	 * Dynamic programming over (pattern, name) prefixes: quadratic in
	 * the worst case, and both are short (names 200, patterns 512).
	 */
	row = xcalloc(nlen + 1, sizeof(bool));
	next = xcalloc(nlen + 1, sizeof(bool));
	row[0] = true;
	for (i = 0; i < plen; i++) {
		memset(next, 0, (nlen + 1) * sizeof(bool));
		if (pat[i] == '*' || pat[i] == '%') {
			/* empty, or one more name byte than before */
			for (j = 0; j <= nlen; j++)
				next[j] = row[j] || (j > 0 && next[j - 1] &&
				    (pat[i] == '*' ||
				    name[j - 1] != IMAP_MBOX_DELIM));
		} else {
			for (j = 1; j <= nlen; j++)
				next[j] = row[j - 1] && pat[i] == name[j - 1];
		}
		t = row;
		row = next;
		next = t;
	}
	r = row[nlen];
	free(row);
	free(next);
	return r;
}

/* --- the selected folder --- */

/* Names replaced or dropped past this (and half the buffer): compact. */
#define IMAP_MBOX_NAMES_SLACK	(64 * 1024)

static const char *
msg_name(const struct imap_mbox *m, const struct mbox_msg *msg)
{
	return msg->name_off != 0 ? m->names + msg->name_off : "";
}

/*
 * Append len bytes to the names; offset 0 stays the empty name.  The
 * buffer grows by a quarter (it is per session: a doubling would leave
 * up to half of it unused).
 */
static uint32_t
names_add(struct imap_mbox *m, const char *p, size_t len)
{
	size_t	at;

	if (m->names_len == 0)
		m->names_len = 1;
	if (m->names_len + len > UINT32_MAX)
		fatalx("imap_mbox: names past 4 GiB");
	if (m->names == NULL || m->names_len + len > m->names_cap) {
		m->names_cap = m->names_len + len + m->names_cap / 4 + 1024;
		m->names = xrealloc(m->names, m->names_cap);
		m->names[0] = '\0';
	}
	at = m->names_len;
	memcpy(m->names + at, p, len);
	m->names_len += len;
	return (uint32_t)at;
}

/* msg's name is no longer used (replaced, or the message gone). */
static void
name_drop(struct imap_mbox *m, struct mbox_msg *msg)
{
	if (msg->name_off != 0)
		m->names_dead += strlen(msg_name(m, msg)) + 1;
	msg->name_off = 0;
}

static void
name_set(struct imap_mbox *m, struct mbox_msg *msg, const char *name)
{
	size_t	len = strlen(name) + 1;

	if (msg->name_off != 0 && strcmp(msg_name(m, msg), name) == 0)
		return;
	name_drop(m, msg);
	msg->name_off = names_add(m, name, len);
}

/* Copy the live names into a new buffer when the dead ones dominate. */
static void
names_compact(struct imap_mbox *m)
{
	char	*old = m->names;
	size_t	 i, len;

	if (m->names_dead < IMAP_MBOX_NAMES_SLACK ||
	    m->names_dead < m->names_len / 2)
		return;
	m->names = NULL;
	m->names_len = m->names_cap = m->names_dead = 0;
	for (i = 0; i < m->nmsgs; i++) {
		if (m->msgs[i].name_off == 0)
			continue;
		len = strlen(old + m->msgs[i].name_off) + 1;
		m->msgs[i].name_off = names_add(m, old + m->msgs[i].name_off,
		    len);
	}
	free(old);
}

static void
msgs_free(struct imap_mbox *m)
{
	free(m->msgs);
	m->msgs = NULL;
	m->nmsgs = 0;
	free(m->names);
	m->names = NULL;
	m->names_len = m->names_cap = m->names_dead = 0;
}

/* Replace the SEARCHRES result by uids[0..n) (ascending; taken over). */
static void
saved_set(struct imap_mbox *m, uint32_t *uids, size_t n)
{
	free(m->saved);
	m->saved = uids;
	m->nsaved = uids != NULL ? n : 0;
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Is uid in "$"?  Expunged messages drop out by themselves: their UIDs
 * name no message of the session any more (RFC 5182 §2.1). */
static bool
saved_has(const struct imap_mbox *m, uint32_t uid)
{
	return m->nsaved > 0 && bsearch(&uid, m->saved, m->nsaved,
	    sizeof(*m->saved), uid_cmp) != NULL;
}

static void
deselect(struct imap_mbox *m, struct imap_session *s)
{
	msgs_free(m);
	maildir_kw_free(&m->kw);
	free(m->sel_name);
	free(m->sel_path);
	m->sel_name = m->sel_path = NULL;
	maildir_dirs_close(&m->dirs);
	imap_index_close(m->idx);
	m->idx = NULL;
	m->selected = false;
	/* RFC 5182 §2.1: "$" is empty again in every newly selected one */
	saved_set(m, NULL, 0);
	imap_session_set_selected(s, false);
}

/* The listing of path, only messages with a UID (all but disk full). */
static int
list_folder(struct imap_mbox *m, const char *path, struct maildir_list *l)
{
	const char	*err = NULL;

	if (maildir_list(path, l, &err) == -1) {
		log_warn("sid=%s imap: list %s: %s", m->sid, path,
		    err != NULL ? err : "");
		return -1;
	}
	while (l->nentries > 0 && l->entries[l->nentries - 1].uid == 0)
		l->nentries--;
	return 0;
}

/*
 * The folder a command names, as path and listing (STATUS, SELECT); -1
 * when it does not exist or cannot be read, the command answered.
 */
static int
open_folder(struct imap_mbox *m, struct imap_session *s, struct span name,
    char *path, size_t pathsz, struct maildir_list *l)
{
	if (mbox_path(m, name, path, pathsz) == -1 || !folder_exists(path)) {
		imap_session_done(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
		return -1;
	}
	memset(l, 0, sizeof(*l));
	if (list_folder(m, path, l) == -1) {
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot read the "
		    "mailbox");
		return -1;
	}
	return 0;
}

static void
msg_from_entry(struct imap_mbox *m, struct mbox_msg *msg,
    const struct maildir_entry *e)
{
	msg->uid = e->uid;
	msg->in_new = e->in_new;
	msg->size = e->size;
	msg->size_crlf = e->size_crlf;
	msg->mtime = e->mtime;
	name_set(m, msg, e->name);
	msg->flags = imap_index_flag_mask(e->flags);
}

static void
entry_of(const struct imap_mbox *m, const struct mbox_msg *msg,
    struct maildir_entry *e)
{
	char	fl[MBOX_FLAGS_LEN];

	memset(e, 0, sizeof(*e));
	(void)str_copy(e->name, sizeof(e->name), msg_name(m, msg));
	e->in_new = msg->in_new;
	e->size = msg->size;
	e->uid = msg->uid;
	(void)str_copy(e->flags, sizeof(e->flags), msg_flags(msg, fl));
}

/* --- the index, CONDSTORE and QRESYNC (RFC 7162) --- */

static bool
condstore(const struct imap_session *s)
{
	return (imap_session_enabled(s) & IMAP_EXT_CONDSTORE) != 0;
}

static bool
qresync(const struct imap_session *s)
{
	return (imap_session_enabled(s) & IMAP_EXT_QRESYNC) != 0;
}

/* The MODSEQ the index gives uid, or dflt. */
static uint64_t
msg_modseq(struct imap_mbox *m, uint32_t uid, uint64_t dflt)
{
	struct imap_index_msg	*x;

	if (m->idx == NULL || (x = imap_index_find(m->idx, uid)) == NULL)
		return dflt;
	return x->modseq;
}

/* " MODSEQ (n)" of a FETCH response, once CONDSTORE is on (§3.1.4). */
static void
out_modseq(struct imap_mbox *m, struct imap_session *s,
    const struct mbox_msg *msg, bool always)
{
	if (m->idx != NULL && (always || condstore(s)))
		out_fmt(m, " MODSEQ (%" PRIu64 ")", msg->modseq);
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort v and append it as a compressed set ("1:3,7") to out. */
static void
numbers_set(uint32_t *v, size_t n, struct buf *out)
{
	size_t	i, j;

	qsort(v, n, sizeof(*v), u32_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] - v[j - 1] <= 1; j++)
			;
		if (v[j - 1] == v[i])
			(void)buf_printf(out, "%s%" PRIu32, i > 0 ? "," : "",
			    v[i]);
		else
			(void)buf_printf(out, "%s%" PRIu32 ":%" PRIu32,
			    i > 0 ? "," : "", v[i], v[j - 1]);
	}
}

static void
gone_add(struct imap_mbox *m, uint32_t uid)
{
	if (m->ngone == m->gonecap) {
		m->gonecap = m->gonecap == 0 ? 64 : m->gonecap * 2;
		m->gone = xrealloc(m->gone, m->gonecap * sizeof(*m->gone));
	}
	m->gone[m->ngone++] = uid;
}

/*
 * Lock the selected folder's index and read what others wrote.  After a
 * rebuild (the file was lost or bad) the folder is listed again, so
 * that every message has its new MODSEQ.
 */
static bool
index_begin(struct imap_mbox *m)
{
	struct maildir_list	 l;
	const char		*err = NULL;
	time_t			 now = time(NULL);
	size_t			 i;

	if (m->idx == NULL)
		return false;
	if (imap_index_begin(m->idx, m->uidvalidity, now, &err) == -1) {
		log_warnx("sid=%s imap: index of %s: %s", m->sid, m->sel_path,
		    err);
		return false;
	}
	if (m->idx->rebuilt) {
		memset(&l, 0, sizeof(l));
		if (list_folder(m, m->sel_path, &l) == 0)
			imap_index_sync(m->idx, &l, now);
		maildir_list_free(&l);
		for (i = 0; i < m->nmsgs; i++)
			m->msgs[i].modseq = msg_modseq(m, m->msgs[i].uid,
			    m->msgs[i].modseq);
	}
	return true;
}

static void
index_end(struct imap_mbox *m)
{
	const char	*err = NULL;

	if (imap_index_end(m->idx, time(NULL), &err) == -1)
		log_warnx("sid=%s imap: index of %s: %s", m->sid, m->sel_path,
		    err);
}

/* Write the queued cache records (a FETCH's, in batches). */
static void
index_flush(struct imap_mbox *m)
{
	if (m->idx != NULL && m->idx->pend.len > 0 && index_begin(m))
		index_end(m);
}

/* Open the index of the folder being selected; NULL: NOMODSEQ. */
static void
select_index(struct imap_mbox *m, const char *path,
    const struct maildir_list *l)
{
	const char	*err = NULL;

	imap_index_close(m->idx);
	if ((m->idx = imap_index_open(path, l->uidvalidity, &err)) == NULL ||
	    imap_index_begin(m->idx, l->uidvalidity, time(NULL), &err) == -1) {
		log_warnx("sid=%s imap: index of %s: %s", m->sid, path, err);
		imap_index_close(m->idx);
		m->idx = NULL;
		return;
	}
	imap_index_sync(m->idx, l, time(NULL));
	if (imap_index_end(m->idx, time(NULL), &err) == -1)
		log_warnx("sid=%s imap: index of %s: %s", m->sid, path, err);
}

/* A poll's listing into the index (new messages, flags, expunges). */
static void
index_sync(struct imap_mbox *m, const struct maildir_list *l)
{
	if (!index_begin(m))
		return;
	imap_index_sync(m->idx, l, time(NULL));
	index_end(m);
}

/* Message i's flags became these letters: its new MODSEQ. */
static void
index_set(struct imap_mbox *m, size_t i, const char *letters)
{
	if (!index_begin(m))
		return;
	m->msgs[i].modseq = imap_index_set(m->idx, m->msgs[i].uid, letters,
	    time(NULL));
	index_end(m);
}

/* The UIDs in m->gone were expunged by this session. */
static void
index_expunged(struct imap_mbox *m)
{
	if (m->ngone == 0 || !index_begin(m))
		return;
	qsort(m->gone, m->ngone, sizeof(*m->gone), u32_cmp);
	imap_index_expunge(m->idx, m->gone, m->ngone, time(NULL));
	index_end(m);
}

/* HIGHESTMODSEQ of a folder for STATUS (0: none, RFC 7162 §3.1.6). */
static uint64_t
status_modseq(struct imap_mbox *m, const char *path,
    const struct maildir_list *l)
{
	struct imap_index	*x;
	const char		*err = NULL;
	uint64_t		 h = 0;

	if (m->selected && m->idx != NULL && strcmp(path, m->sel_path) == 0) {
		index_sync(m, l);
		return m->idx->highest;
	}
	if ((x = imap_index_open(path, l->uidvalidity, &err)) == NULL ||
	    imap_index_begin(x, l->uidvalidity, time(NULL), &err) == -1) {
		log_warnx("sid=%s imap: index of %s: %s", m->sid, path, err);
		imap_index_close(x);
		return 0;
	}
	imap_index_sync(x, l, time(NULL));
	if (imap_index_end(x, time(NULL), &err) == -1)
		log_warnx("sid=%s imap: index of %s: %s", m->sid, path, err);
	else
		h = x->highest;
	imap_index_close(x);
	return h;
}

/*
 * Message i (1-based) is expunged: "* i EXPUNGE", or once QRESYNC is
 * on, noted for one "* VANISHED" (RFC 7162 §3.2.10).
 */
static void
report_expunge(struct imap_mbox *m, struct imap_session *s, size_t i)
{
	gone_add(m, m->msgs[i - 1].uid);
	if (!qresync(s))
		imap_session_untagged(s, "%zu EXPUNGE", i);
}

static void
report_vanished(struct imap_mbox *m, struct imap_session *s)
{
	if (qresync(s) && m->ngone > 0) {
		buf_reset(&m->out);
		out_str(m, "* VANISHED ");
		numbers_set(m->gone, m->ngone, &m->out);
		out_str(m, "\r\n");
		out_flush(m, s);
	}
	m->ngone = 0;
}

/*
 * SELECT/EXAMINE once CONDSTORE is on: HIGHESTMODSEQ (§3.1.2.1), and
 * with QRESYNC the changes since the client's MODSEQ (§3.2.5): what
 * vanished, then the flags of what changed.  seq-match-data is not
 * used: without it the VANISHED set may only be larger, which §3.2.5.2
 * allows.
 */
static void
select_condstore(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	const struct imap_seqset	*known;
	uint32_t			 max;
	size_t				 i;

	if (m->idx == NULL) {
		imap_session_untagged(s, "OK [NOMODSEQ] No permanent "
		    "modsequences");
		return;
	}
	imap_session_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] Highest",
	    m->idx->highest);
	if (!c->qresync || c->qr_uidvalidity != m->uidvalidity)
		return;
	known = c->qr_known.n > 0 ? &c->qr_known : NULL;
	buf_reset(&m->out);
	out_str(m, "* VANISHED (EARLIER) ");
	i = m->out.len;
	imap_index_vanished(m->idx, c->qr_modseq, known, m->uidnext, &m->out);
	if (m->out.len > i) {
		out_str(m, "\r\n");
		out_flush(m, s);
	}
	buf_reset(&m->out);
	max = m->nmsgs > 0 ? m->msgs[m->nmsgs - 1].uid : 0;
	for (i = 0; i < m->nmsgs; i++) {
		if (m->msgs[i].modseq <= c->qr_modseq || (known != NULL &&
		    !imap_seqset_contains(known, m->msgs[i].uid, max)))
			continue;
		buf_reset(&m->out);
		out_fmt(m, "* %zu FETCH (UID %" PRIu32 " ", i + 1,
		    m->msgs[i].uid);
		out_flags(m, &m->msgs[i]);
		out_modseq(m, s, &m->msgs[i], true);
		out_str(m, ")\r\n");
		out_flush(m, s);
	}
}

static bool
search_uses_modseq(const struct imap_search *se)
{
	size_t	i;

	for (i = 0; i < se->nnode; i++)
		if (se->node[i].key == IMAP_SK_MODSEQ)
			return true;
	return false;
}

/*
 * RFC 7162 §3.1: a command that uses CONDSTORE turns it on; in the
 * selected state the first one also reports HIGHESTMODSEQ.
 */
static void
condstore_implicit(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	bool	uses = false;

	switch (c->name) {
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE:
		uses = c->condstore || c->qresync;
		break;
	case IMAP_CMD_STATUS:
		uses = (c->status & IMAP_STATUS_HIGHESTMODSEQ) != 0;
		break;
	case IMAP_CMD_FETCH:
		uses = (c->fetch.atts & IMAP_FETCH_MODSEQ) ||
		    c->has_changedsince;
		break;
	case IMAP_CMD_STORE:
		uses = c->has_unchangedsince;
		break;
	case IMAP_CMD_SEARCH:
		uses = search_uses_modseq(&c->search);
		break;
	default:
		break;
	}
	if (!uses || condstore(s))
		return;
	imap_session_enable(s, IMAP_EXT_CONDSTORE);
	if (m->selected && m->idx != NULL && c->name != IMAP_CMD_SELECT &&
	    c->name != IMAP_CMD_EXAMINE)
		imap_session_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] "
		    "Highest", m->idx->highest);
}

/*
 * The mtimes of a folder's directories (its own, for the uidlist and
 * keywords files, new/ and cur/) into out: true when each could be read
 * and was last changed over a second ago.  A file made, removed or
 * renamed there moves its directory's mtime, so a folder whose stamp is
 * the same as before its last listing has nothing new.  Timestamps are
 * coarse (the kernel's tick): a directory changed in the last second may
 * change again within the same tick with no visible move, so such a
 * stamp is not trusted and the folder is looked at.
 */
static bool
folder_stamp(const char *path, struct timespec out[3])
{
	static const char *const sub[3] = { NULL, "new", "cur" };
	struct timespec	 now;
	struct stat	 st;
	char		 dir[PATH_MAX];
	size_t		 i;
	bool		 ok = true;

	if (clock_gettime(CLOCK_REALTIME, &now) == -1)
		return false;
	for (i = 0; i < 3; i++) {
		if (sub[i] == NULL)
			(void)str_copy(dir, sizeof(dir), path);
		else if (path_join(dir, sizeof(dir), path, sub[i]) == -1)
			return false;
		if (stat(dir, &st) == -1)
			return false;
		out[i] = st.st_mtim;
		if (st.st_mtim.tv_sec >= now.tv_sec - 1)
			ok = false;
	}
	return ok;
}

/*
 * Must the session look at the selected folder again?  Stale: the
 * role's watch saw a change (or a message gone is not told yet).
 * Watched and not stale: nothing changed, as the role reads every
 * event before a command (imap.c).  Unwatched: when the directories'
 * stamp moved since the last listing, or could not be trusted.  A NOOP
 * on an unchanged folder of 10,000 messages costs a few system calls
 * instead of a listing.
 */
static bool
folder_moved(struct imap_mbox *m)
{
	struct timespec	t[3];

	if (m->stale)
		return true;
	if (m->watched)
		return false;
	if (!m->stamped)
		return true;
	(void)folder_stamp(m->sel_path, t);
	return memcmp(t, m->mtim, sizeof(t)) != 0;
}

/*
 * Report what changed on disk since the session last looked (RFC 9051
 * §7.4.1, §7.5.1): expunged messages from the highest sequence number
 * down (so that each number is still right when sent), changed flags as
 * FETCH, new ones as EXISTS and RECENT.  Without expunge_ok (during
 * FETCH, STORE, SEARCH and the like by sequence number, §7.5.1) a
 * message gone from the disk stays in the view, numbered as before,
 * until a command that may hear of it; the folder stays stale till then.
 * Both lists are in UID order: one walk, linear in the folder's size.
 */
static void
sync_folder(struct imap_mbox *m, struct imap_session *s, bool expunge_ok)
{
	struct maildir_list	 l;
	struct mbox_msg		*v;
	bool			*gone;
	size_t			 i, j, n, nrecent = 0, ngone = 0, kept;
	bool			 changed;

	if (!m->selected)
		return;
	m->stamped = folder_stamp(m->sel_path, m->mtim);
	memset(&l, 0, sizeof(l));
	if (list_folder(m, m->sel_path, &l) == -1) {
		m->stamped = false;
		return;
	}
	if (l.uidvalidity != m->uidvalidity) {
		/* RFC 9051 §2.3.1.1: the UIDs are void; start again. */
		maildir_list_free(&l);
		imap_session_bye(s, "Mailbox UIDVALIDITY changed");
		return;
	}
	/* Before any FETCH that names a new keyword (RFC 9051 §7.3.5). */
	kw_update(m, s, &l.kw);
	index_sync(m, &l);
	m->stale = false;
	gone = xcalloc(m->nmsgs + 1, sizeof(*gone));
	for (i = 0, j = 0; i < m->nmsgs; i++) {
		while (j < l.nentries && l.entries[j].uid < m->msgs[i].uid)
			j++;
		if (j < l.nentries && l.entries[j].uid == m->msgs[i].uid)
			continue;
		gone[i] = true;
		ngone++;
	}
	if (ngone > 0 && !expunge_ok) {
		m->stale = true;	/* said at the next command that may */
		memset(gone, 0, (m->nmsgs + 1) * sizeof(*gone));
		ngone = 0;
	}
	for (i = m->nmsgs; i > 0 && ngone > 0; i--)
		if (gone[i - 1])
			report_expunge(m, s, i);
	report_vanished(m, s);
	/*
	 * What is left, in UID order, then what is new; ghosts (gone, not
	 * yet told) keep their place.
	 */
	v = xcalloc(m->nmsgs + l.nentries + 1, sizeof(*v));
	for (i = 0, j = 0, n = 0; i < m->nmsgs || j < l.nentries; ) {
		if (i < m->nmsgs && (j == l.nentries ||
		    m->msgs[i].uid < l.entries[j].uid)) {
			if (gone[i])
				name_drop(m, &m->msgs[i]);
			else
				v[n++] = m->msgs[i];
			i++;
			continue;
		}
		if (i < m->nmsgs && m->msgs[i].uid == l.entries[j].uid) {
			v[n] = m->msgs[i];
			changed = v[n].flags !=
			    imap_index_flag_mask(l.entries[j].flags) ||
			    (condstore(s) && v[n].modseq != msg_modseq(m,
			    v[n].uid, v[n].modseq));
			msg_from_entry(m, &v[n], &l.entries[j]);
			v[n].modseq = msg_modseq(m, v[n].uid, v[n].modseq);
			i++;
			j++;
			n++;
			if (changed) {
				buf_reset(&m->out);
				out_fmt(m, "* %zu FETCH (", n);
				out_flags(m, &v[n - 1]);
				out_fmt(m, " UID %" PRIu32, v[n - 1].uid);
				out_modseq(m, s, &v[n - 1], false);
				out_str(m, ")\r\n");
				out_flush(m, s);
			}
			continue;
		}
		if (l.entries[j].uid < m->uidnext) {
			j++;	/* gone meanwhile: a later poll says so */
			continue;
		}
		msg_from_entry(m, &v[n], &l.entries[j]);
		v[n].modseq = msg_modseq(m, v[n].uid, 0);
		v[n].recent = l.entries[j].in_new;
		nrecent += v[n].recent;
		n++;
		j++;
	}
	kept = m->nmsgs - ngone;
	free(gone);
	free(m->msgs);
	changed = n != kept;
	m->msgs = v;
	m->nmsgs = n;
	names_compact(m);
	if (l.uidnext > m->uidnext)
		m->uidnext = l.uidnext;
	maildir_list_free(&l);
	if (changed || nrecent > 0) {
		imap_session_untagged(s, "%zu EXISTS", m->nmsgs);
		for (i = 0, n = 0; i < m->nmsgs; i++)
			n += m->msgs[i].recent;
		if (!m->rev2)
			imap_session_untagged(s, "%zu RECENT", n);
	}
}

void
imap_mbox_poll(struct imap_mbox *m, struct imap_session *s)
{
	if (m->selected && folder_moved(m))
		sync_folder(m, s, true);
}

void
imap_mbox_sync(struct imap_mbox *m, struct imap_session *s)
{
	imap_mbox_poll(m, s);
}

/*
 * Before a command of the selected state: what others did since the
 * session last looked, when the role saw a change (or cannot watch).
 * RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH
 * (nor SORT, THREAD, COPY, MOVE by sequence number, whose numbers the
 * client chose before it heard), so those hear of new messages and
 * flags only.  Commands that leave the folder, and NOOP and CHECK
 * (which look in any case), skip it.
 */
static void
sync_before(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	bool	by_seq;

	if (!m->selected)
		return;
	switch (c->name) {
	case IMAP_CMD_NOOP:
	case IMAP_CMD_CHECK:
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE:
	case IMAP_CMD_CLOSE:
	case IMAP_CMD_UNSELECT:
		return;
	case IMAP_CMD_FETCH:
	case IMAP_CMD_STORE:
	case IMAP_CMD_SEARCH:
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
		by_seq = !c->uid;
		break;
	default:
		by_seq = false;
		break;
	}
	if (folder_moved(m))
		sync_folder(m, s, !by_seq);
}

const char *
imap_mbox_folder(const struct imap_mbox *m)
{
	return m->selected ? m->sel_path : NULL;
}

int
imap_mbox_folder_of(struct imap_mbox *m, struct span name, char *out,
    size_t outsz)
{
	return mbox_path(m, name, out, outsz);
}

bool
imap_mbox_knows(const struct imap_mbox *m, bool in_new, const char *name,
    size_t len)
{
	size_t	i;

	if (!m->selected)
		return false;
	for (i = 0; i < m->nmsgs; i++)
		if (m->msgs[i].in_new == in_new &&
		    strncmp(msg_name(m, &m->msgs[i]), name, len) == 0 &&
		    msg_name(m, &m->msgs[i])[len] == '\0')
			return true;
	return false;
}

void
imap_mbox_changed(struct imap_mbox *m)
{
	m->stale = true;
}

void
imap_mbox_watched(struct imap_mbox *m, bool on)
{
	m->watched = on;
}

/* --- commands without a selected folder --- */

/* The special uses CREATE may give (RFC 6154 §2; \All and \Flagged
 * are virtual mailboxes, which we do not have). */
static const char *const mbox_uses[] = {
	"\\Archive", "\\Drafts", "\\Junk", "\\Sent", "\\Trash",
};

/*
 * CREATE's USE (...) as the text kept in the folder's metadata, the
 * attributes spelled as RFC 6154 does; -1 for one we do not offer.
 */
static int
create_use(const struct imap_cmd *c, char *out, size_t outsz)
{
	const size_t	nu = sizeof(mbox_uses) / sizeof(mbox_uses[0]);
	unsigned	seen = 0;
	size_t		i, j, o = 0, l;

	out[0] = '\0';
	for (i = 0; i < c->nuse; i++) {
		for (j = 0; j < nu; j++)
			if (span_caseeq(c->use[i], mbox_uses[j]))
				break;
		if (j == nu)
			return -1;
		if (seen & (1u << j))
			continue;
		seen |= 1u << j;
		l = strlen(mbox_uses[j]);
		if (o + l + 2 > outsz)
			return -1;
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, mbox_uses[j], l + 1);
		o += l;
	}
	return 0;
}

/* RFC 8474 §4.1: the new mailbox's MAILBOXID in the tagged OK. */
static void
create_done(struct imap_mbox *m, struct imap_session *s, struct span name)
{
	struct maildir_meta	 meta;
	char			 path[PATH_MAX];
	const char		*err = NULL;

	if (mbox_path(m, name, path, sizeof(path)) == -1 ||
	    maildir_meta_get(path, &meta, &err) == -1) {
		log_warn("sid=%s imap: mailbox id: %s", m->sid,
		    err != NULL ? err : "");
		imap_session_done(s, IMAP_OK, "CREATE completed");
		return;
	}
	imap_session_done(s, IMAP_OK, "[MAILBOXID (F%s)] CREATE completed",
	    meta.id);
}

static void
cmd_create(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	struct span	 name = c->mailbox;
	const char	*err = NULL;
	char		*n, use[MAILDIR_META_USE_MAX + 1], path[PATH_MAX];

	/* RFC 9051 §6.3.4: a trailing delimiter only says "a parent". */
	if (name.len > 1 && name.ptr[name.len - 1] == IMAP_MBOX_DELIM)
		name.len--;
	if (is_inbox(name)) {
		imap_session_done(s, IMAP_NO, "[ALREADYEXISTS] INBOX exists");
		return;
	}
	if (!name_ok(name)) {
		imap_session_done(s, IMAP_NO, "[CANNOT] Invalid mailbox name");
		return;
	}
	/* RFC 6154 §3: a use we cannot give creates nothing. */
	if (create_use(c, use, sizeof(use)) == -1) {
		imap_session_done(s, IMAP_NO, "[USEATTR] Special use not "
		    "supported");
		return;
	}
	n = xstrndup(name.ptr, name.len);
	if (maildir_folder_create(m->root, n, &err) == -1) {
		if (errno == EEXIST)
			imap_session_done(s, IMAP_NO, "[ALREADYEXISTS] Mailbox "
			    "exists");
		else {
			log_warn("sid=%s imap: create %s: %s", m->sid, n, err);
			imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot "
			    "create the mailbox");
		}
	} else if (use[0] != '\0' && (mbox_path(m, name, path,
	    sizeof(path)) == -1 || maildir_meta_set_use(path, use,
	    &err) == -1)) {
		log_warn("sid=%s imap: create %s: %s", m->sid, n, err);
		(void)maildir_folder_delete(m->root, n, &err);
		imap_session_done(s, IMAP_NO, "[USEATTR] Cannot keep the "
		    "special use");
	} else
		create_done(m, s, name);
	free(n);
}

/* Does any folder start with "name."? */
static bool
has_children(char **folders, size_t nf, struct span name)
{
	size_t	i;

	for (i = 0; i < nf; i++)
		if (strlen(folders[i]) > name.len &&
		    strncmp(folders[i], name.ptr, name.len) == 0 &&
		    folders[i][name.len] == IMAP_MBOX_DELIM)
			return true;
	return false;
}

static void
cmd_delete(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	char		**folders = NULL, path[PATH_MAX], *n;
	size_t		  nf = 0;
	const char	 *err = NULL;

	if (is_inbox(c->mailbox)) {
		imap_session_done(s, IMAP_NO, "[CANNOT] INBOX cannot be "
		    "deleted");
		return;
	}
	if (mbox_path(m, c->mailbox, path, sizeof(path)) == -1 ||
	    !folder_exists(path)) {
		imap_session_done(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
		return;
	}
	if (m->selected && strcmp(path, m->sel_path) == 0) {
		imap_session_done(s, IMAP_NO, "[INUSE] Mailbox is selected");
		return;
	}
	if (maildir_folders(m->root, &folders, &nf, &err) == 0 &&
	    has_children(folders, nf, c->mailbox)) {
		/* As Dovecot: children first (RFC 9051 §6.3.5 allows it). */
		maildir_folders_free(folders, nf);
		imap_session_done(s, IMAP_NO, "[INUSE] Mailbox has children, "
		    "delete them first");
		return;
	}
	maildir_folders_free(folders, nf);
	n = xstrndup(c->mailbox.ptr, c->mailbox.len);
	if (maildir_folder_delete(m->root, n, &err) == -1) {
		log_warn("sid=%s imap: delete %s: %s", m->sid, n, err);
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot delete the "
		    "mailbox");
	} else
		imap_session_done(s, IMAP_OK, "DELETE completed");
	free(n);
}

/*
 * RENAME INBOX (RFC 9051 §6.3.6): its messages move to the new folder
 * and INBOX stays, empty.
 */
static int
rename_inbox(struct imap_mbox *m, const char *to)
{
	struct maildir_list	 l;
	char			 path[PATH_MAX], name[MAILDIR_NAME_MAX + 1];
	const char		*err = NULL;
	size_t			 i;
	int			 rc = 0;

	if (mbox_path(m, span_str(to), path, sizeof(path)) == -1 ||
	    maildir_folder_create(m->root, to, &err) == -1)
		return -1;
	memset(&l, 0, sizeof(l));
	if (maildir_list(m->root, &l, &err) == -1)
		return -1;
	for (i = 0; i < l.nentries; i++)
		if (maildir_move(m->root, &l.entries[i], path, name,
		    sizeof(name), &err) == -1)
			rc = -1;
	maildir_list_free(&l);
	return rc;
}

static void
cmd_rename(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	char		**folders = NULL, from[PATH_MAX], to[PATH_MAX];
	char		 *a, *b, *ca, *cb;
	size_t		  nf = 0, i, alen;
	const char	 *err = NULL;

	if (is_inbox(c->mailbox2) || !name_ok(c->mailbox2)) {
		imap_session_done(s, IMAP_NO, "[CANNOT] Invalid new name");
		return;
	}
	if (mbox_path(m, c->mailbox, from, sizeof(from)) == -1 ||
	    !folder_exists(from)) {
		imap_session_done(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
		return;
	}
	if (mbox_path(m, c->mailbox2, to, sizeof(to)) == -1 ||
	    access(to, F_OK) == 0) {
		imap_session_done(s, IMAP_NO, "[ALREADYEXISTS] Mailbox "
		    "exists");
		return;
	}
	b = xstrndup(c->mailbox2.ptr, c->mailbox2.len);
	if (is_inbox(c->mailbox)) {
		if (rename_inbox(m, b) == -1)
			imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot move "
			    "INBOX's messages");
		else
			imap_session_done(s, IMAP_OK, "RENAME completed");
		free(b);
		return;
	}
	a = xstrndup(c->mailbox.ptr, c->mailbox.len);
	alen = c->mailbox.len;
	if (maildir_folder_rename(m->root, a, b, &err) == -1) {
		log_warn("sid=%s imap: rename %s: %s", m->sid, a, err);
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot rename the "
		    "mailbox");
		goto done;
	}
	/* RFC 9051 §6.3.6: the inferior names move along. */
	if (maildir_folders(m->root, &folders, &nf, &err) == 0)
		for (i = 0; i < nf; i++) {
			if (strncmp(folders[i], a, alen) != 0 ||
			    folders[i][alen] != IMAP_MBOX_DELIM)
				continue;
			ca = folders[i];
			cb = xasprintf("%s%s", b, ca + alen);
			if (maildir_folder_rename(m->root, ca, cb, &err) == -1)
				log_warn("sid=%s imap: rename %s: %s", m->sid,
				    ca, err);
			free(cb);
		}
	maildir_folders_free(folders, nf);
	imap_session_done(s, IMAP_OK, "RENAME completed");
done:
	free(a);
	free(b);
}

/* The subscriptions file: one name a line (Dovecot's first format). */
static int
subs_read(struct imap_mbox *m, struct buf *b)
{
	char	path[PATH_MAX], chunk[4096];
	ssize_t	n;
	int	fd;

	buf_init(b, IMAP_MBOX_SUBS_MAX);
	if (path_join(path, sizeof(path), m->root, IMAP_MBOX_SUBS_FILE) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)n) == -1) {
			(void)close(fd);
			return -1;
		}
	(void)close(fd);
	return n == -1 ? -1 : 0;
}

/* Is name a line of the subscriptions text?  Its offset, or -1. */
static ssize_t
subs_find(const struct buf *b, struct span name)
{
	size_t	off = 0, len;
	const char *lf;

	while (off < b->len) {
		lf = memchr(b->data + off, '\n', b->len - off);
		len = lf != NULL ? (size_t)(lf - (b->data + off)) :
		    b->len - off;
		if (len == name.len && memcmp(b->data + off, name.ptr,
		    len) == 0)
			return (ssize_t)off;
		off += len + 1;
	}
	return -1;
}

static int
subs_write(struct imap_mbox *m, const struct buf *b)
{
	char	path[PATH_MAX], tmp[PATH_MAX];
	int	fd;

	if (path_join(path, sizeof(path), m->root, IMAP_MBOX_SUBS_FILE) == -1 ||
	    path_join(tmp, sizeof(tmp), m->root, IMAP_MBOX_SUBS_FILE
	    ".tmp") == -1)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return -1;
	if (write_full(fd, b->data, b->len) == -1 || fsync(fd) == -1) {
		(void)close(fd);
		(void)unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

static void
cmd_subscribe(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c, bool on)
{
	struct buf	b;
	ssize_t		off;
	struct span	name = c->mailbox;
	size_t		cut;
	int		rc = 0;

	if (!is_inbox(name) && !name_ok(name)) {
		imap_session_done(s, IMAP_NO, "[CANNOT] Invalid mailbox name");
		return;
	}
	if (is_inbox(name))
		name = span_str("INBOX");
	if (subs_read(m, &b) == -1) {
		buf_free(&b);
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot read the "
		    "subscriptions");
		return;
	}
	off = subs_find(&b, name);
	if (on && off < 0)
		rc = buf_append_span(&b, name) == -1 ||
		    buf_append_char(&b, '\n') == -1 ? -1 : subs_write(m, &b);
	else if (!on && off >= 0) {
		/* The line and its LF; a last line may have none. */
		cut = name.len + 1;
		if (cut > b.len - (size_t)off)
			cut = b.len - (size_t)off;
		memmove(b.data + off, b.data + off + cut,
		    b.len - (size_t)off - cut);
		b.len -= cut;
		rc = subs_write(m, &b);
	}
	buf_free(&b);
	if (rc == -1)
		imap_session_done(s, IMAP_NO, "[LIMIT] Cannot save the "
		    "subscriptions");
	else
		imap_session_done(s, IMAP_OK, "%s completed", on ?
		    "SUBSCRIBE" : "UNSUBSCRIBE");
}

static const char *
special_use(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(mbox_special) / sizeof(mbox_special[0]); i++)
		if (strcmp(name, mbox_special[i].name) == 0)
			return mbox_special[i].attr;
	return NULL;
}

static int	status_line(struct imap_mbox *, struct imap_session *,
		    unsigned, struct span, const char *);

/* The special use of a folder for LIST: its own, else its name's. */
struct list_use {
	struct imap_mbox	*m;
	char			 use[MAILDIR_META_USE_MAX + 1];
};

static const char *
list_use(void *arg, const char *name)
{
	struct list_use		*lu = arg;
	struct maildir_meta	 meta;
	char			 path[PATH_MAX], *kept;
	const char		*r;

	if (strcmp(name, "INBOX") == 0)
		return NULL;
	kept = name_conv(lu->m, name, true);
	if (mbox_path(lu->m, span_str(kept), path, sizeof(path)) == 0 &&
	    maildir_meta_peek(path, &meta, NULL) == 0 && meta.use[0] != '\0') {
		(void)str_copy(lu->use, sizeof(lu->use), meta.use);
		r = lu->use;
	} else
		r = special_use(kept);
	free(kept);
	return r;
}

/* Names as kept made names as the session sees them, in place. */
static void
names_shown(struct imap_mbox *m, char **v, size_t n)
{
	size_t	i;
	char	*t;

	for (i = 0; m->utf8 && i < n; i++) {
		t = name_conv(m, v[i], false);
		free(v[i]);
		v[i] = t;
	}
}

/* The subscriptions file as names (empty lines skipped). */
static int
subs_names(struct imap_mbox *m, char ***names_out, size_t *n_out)
{
	struct buf	 b;
	char		*p, *lf, **v = NULL;
	size_t		 n = 0;

	*names_out = NULL;
	*n_out = 0;
	if (subs_read(m, &b) == -1) {
		buf_free(&b);
		return -1;
	}
	for (p = b.data; p != NULL && p < b.data + b.len; p = lf) {
		if ((lf = memchr(p, '\n', b.len - (size_t)(p - b.data))) !=
		    NULL)
			*lf++ = '\0';
		if (*p == '\0')
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrdup(p);
	}
	buf_free(&b);
	*names_out = v;
	*n_out = n;
	return 0;
}

/*
 * LIST, basic and extended (RFC 5258): imap_list.c picks the entries;
 * RETURN (STATUS ...) adds a STATUS after each selectable one (RFC 5819
 * §2).
 */
static int
list_entries(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	struct imap_list_in	 in;
	struct imap_list_entry	*v = NULL;
	struct list_use		 lu;
	char			 path[PATH_MAX], *kept;
	const char		*err = NULL;
	size_t			 n = 0, i;

	memset(&in, 0, sizeof(in));
	memset(&lu, 0, sizeof(lu));
	lu.m = m;
	if (maildir_folders(m->root, &in.folders, &in.nfolders, &err) == -1) {
		log_warn("sid=%s imap: folders of %s: %s", m->sid, m->root,
		    err);
		return -1;
	}
	if (subs_names(m, &in.subs, &in.nsubs) == -1)
		log_warn("sid=%s imap: subscriptions of %s", m->sid, m->root);
	/* UTF8=ACCEPT: patterns are UTF-8, so are the names they match */
	names_shown(m, in.folders, in.nfolders);
	names_shown(m, in.subs, in.nsubs);
	in.use = list_use;
	in.arg = &lu;
	imap_list_run(c, &in, &v, &n);
	for (i = 0; i < n; i++) {
		buf_reset(&m->out);
		out_str(m, "* LIST ");
		imap_list_attrs(c, &v[i], &m->out);
		out_str(m, " \".\" ");
		out_string(m, span_str(v[i].name));
		if (v[i].attrs & IMAP_LIST_A_CHILDINFO)
			out_str(m, " (CHILDINFO (\"SUBSCRIBED\"))");
		out_str(m, "\r\n");
		out_flush(m, s);
		if (!(c->list_ret & IMAP_LIST_RET_STATUS) ||
		    (v[i].attrs & (IMAP_LIST_A_NOSELECT |
		    IMAP_LIST_A_NONEXISTENT)))
			continue;
		kept = name_conv(m, v[i].name, true);
		if (mbox_path(m, span_str(kept), path, sizeof(path)) == 0 &&
		    folder_exists(path))
			(void)status_line(m, s, c->status, span_str(kept),
			    path);
		free(kept);
	}
	imap_list_free(v, n);
	maildir_folders_free(in.folders, in.nfolders);
	for (i = 0; i < in.nsubs; i++)
		free(in.subs[i]);
	free(in.subs);
	return 0;
}

static void
list_ext(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	if (list_entries(m, s, c) == -1)
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot list the "
		    "mailboxes");
	else
		imap_session_done(s, IMAP_OK, "LIST completed");
}

/* LSUB (RFC 3501 §6.3.9), as it always was: no attributes. */
static void
lsub_one(struct imap_mbox *m, struct imap_session *s, const char *name)
{
	buf_reset(&m->out);
	out_str(m, "* LSUB () \".\" ");
	out_string(m, span_str(name));	/* as the session sees it */
	out_str(m, "\r\n");
	out_flush(m, s);
}

static void
cmd_list(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c, bool lsub)
{
	char		*pat, *p, *lf, *shown;
	size_t		 plen;
	struct buf	 subs;

	/* RFC 9051 §6.3.9: an empty pattern asks for the delimiter. */
	if (!lsub && !c->list_ext && c->mailbox2.len == 0) {
		imap_session_untagged(s, "LIST (\\Noselect) \".\" \"\"");
		imap_session_done(s, IMAP_OK, "LIST completed");
		return;
	}
	if (!lsub) {
		list_ext(m, s, c);
		return;
	}
	pat = xasprintf("%.*s%.*s", (int)c->mailbox.len, c->mailbox.ptr,
	    (int)c->mailbox2.len, c->mailbox2.ptr);
	plen = strlen(pat);
	if (subs_read(m, &subs) == 0)
		for (p = subs.data; p != NULL && *p != '\0'; p = lf) {
			if ((lf = strchr(p, '\n')) != NULL)
				*lf++ = '\0';
			if (*p == '\0')
				continue;
			shown = name_conv(m, p, false);
			if (imap_mbox_match(pat, plen, shown, strlen(shown)))
				lsub_one(m, s, shown);
			free(shown);
		}
	buf_free(&subs);
	free(pat);
	imap_session_done(s, IMAP_OK, "LSUB completed");
}

/*
 * Write "* STATUS name (items)" for the folder at path (STATUS, and
 * LIST-STATUS after each LIST response, RFC 5819 §2); -1 when it cannot
 * be read.
 */
static int
status_line(struct imap_mbox *m, struct imap_session *s, unsigned items,
    struct span name, const char *path)
{
	struct maildir_list	 l;
	struct maildir_meta	 meta;
	const char		*err = NULL;
	uint64_t		 size = 0, limit, dsize = 0;
	size_t			 i, recent = 0, unseen = 0, deleted = 0;

	memset(&l, 0, sizeof(l));
	if ((items & IMAP_STATUS_MAILBOXID) &&
	    maildir_meta_get(path, &meta, &err) == -1) {
		log_warn("sid=%s imap: %s: %s", m->sid, path, err);
		return -1;
	}
	if (list_folder(m, path, &l) == -1)
		return -1;
	for (i = 0; i < l.nentries; i++) {
		recent += l.entries[i].in_new;
		unseen += strchr(l.entries[i].flags, 'S') == NULL;
		deleted += strchr(l.entries[i].flags, 'T') != NULL;
		size += l.entries[i].size_crlf;
		if (strchr(l.entries[i].flags, 'T') != NULL)
			dsize += l.entries[i].size;
	}
	limit = imap_session_appendlimit(s);
	buf_reset(&m->out);
	out_str(m, "* STATUS ");
	out_name(m, name);
	out_str(m, " (");
	/* Each item after the first one written opens with a space. */
#define ITEM(bit, fmt, v) \
	if (items & (bit)) \
		out_fmt(m, "%s" fmt, m->out.data[m->out.len - 1] == '(' ? \
		    "" : " ", v);
	ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %zu", l.nentries)
	ITEM(IMAP_STATUS_RECENT, "RECENT %zu", recent)
	ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %" PRIu32, l.uidnext)
	ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %" PRIu32, l.uidvalidity)
	ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %zu", unseen)
	/* RFC 8438: the octets of the messages as served (CRLF) */
	ITEM(IMAP_STATUS_SIZE, "SIZE %" PRIu64, size)
	/* RFC 9051 §6.3.11: messages with \Deleted */
	ITEM(IMAP_STATUS_DELETED, "DELETED %zu", deleted)
	/* RFC 7889 §4: the same limit for every mailbox */
	ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %" PRIu64, limit)
	/* RFC 9208 §4.3: what EXPUNGE would free, as the quota counts */
	ITEM(IMAP_STATUS_DELETED_STORAGE, "DELETED-STORAGE %" PRIu64,
	    dsize / 1024)
	/* RFC 8474 §4 */
	ITEM(IMAP_STATUS_MAILBOXID, "MAILBOXID (F%s)", meta.id)
	ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %" PRIu64,
	    (items & IMAP_STATUS_HIGHESTMODSEQ) ? status_modseq(m, path,
	    &l) : 0)
#undef ITEM
	out_str(m, ")\r\n");
	maildir_list_free(&l);
	out_flush(m, s);
	return 0;
}

static void
cmd_status(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	char	path[PATH_MAX];

	/* RFC 9051 §6.3.11: no RECENT item in IMAP4rev2 */
	if ((c->status & IMAP_STATUS_RECENT) && m->rev2) {
		imap_session_done(s, IMAP_BAD, "IMAP4rev2 has no RECENT");
		return;
	}
	if (mbox_path(m, c->mailbox, path, sizeof(path)) == -1 ||
	    !folder_exists(path)) {
		imap_session_done(s, IMAP_NO, "[NONEXISTENT] No such mailbox");
		return;
	}
	if (status_line(m, s, c->status, is_inbox(c->mailbox) ?
	    span_str("INBOX") : c->mailbox, path) == -1) {
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot read the "
		    "mailbox");
		return;
	}
	imap_session_done(s, IMAP_OK, "STATUS completed");
}

/*
 * IMAP4rev2's SELECT and EXAMINE answer a LIST response for the mailbox
 * with its attributes (RFC 9051 §6.3.2), as LIST would give them.
 */
static void
rev2_select_list(struct imap_mbox *m, struct imap_session *s,
    struct span name)
{
	struct imap_cmd	lc;

	/* LIST "" name, as the session names it */
	memset(&lc, 0, sizeof(lc));
	lc.name = IMAP_CMD_LIST;
	lc.mailbox = span_str("");
	lc.list_pat[0] = name;
	lc.nlist_pat = 1;
	(void)list_entries(m, s, &lc);
}

/* RFC 8474 §4.2: SELECT and EXAMINE name the MAILBOXID. */
static void
select_mailboxid(struct imap_mbox *m, struct imap_session *s,
    const char *path)
{
	struct maildir_meta	 meta;
	const char		*err = NULL;

	if (maildir_meta_get(path, &meta, &err) == -1)
		log_warn("sid=%s imap: mailbox id of %s: %s", m->sid, path,
		    err != NULL ? err : "");
	else
		imap_session_untagged(s, "OK [MAILBOXID (F%s)] Ok", meta.id);
}

void
imap_mbox_select_prepare(struct imap_mbox *m, const struct imap_session *s,
    const struct imap_cmd *c, const char *path)
{
	const char	*err = NULL;

	free(m->claimed_path);
	m->claimed_path = NULL;
	buf_reset(&m->claimed);
	/* what cmd_select() would refuse before it lists */
	if (c->name != IMAP_CMD_SELECT || (c->qresync &&
	    !(imap_session_enabled(s) & IMAP_EXT_QRESYNC)) ||
	    !folder_exists(path))
		return;
	if (maildir_claim_new(path, &m->claimed, &err) == -1)
		log_warn("sid=%s imap: %s: new/ to cur/: %s", m->sid, path,
		    err != NULL ? err : "");
	/* even after a failure: those moved are this session's \Recent */
	m->claimed_path = xstrdup(path);
}

static int
claimed_cmp(const void *a, const void *b)
{
	const struct span	*x = a, *y = b;
	int			 r;

	r = memcmp(x->ptr, y->ptr, x->len < y->len ? x->len : y->len);
	return r != 0 ? r : (x->len > y->len) - (x->len < y->len);
}

/*
 * The base names that imap_mbox_select_prepare() moved from new/ for a
 * SELECT of path, sorted, into *v_out (n_out of them); NULL when none.
 */
static struct span *
claimed_sorted(struct imap_mbox *m, const char *path, size_t *n_out)
{
	struct span	*v;
	size_t		 o, n = 0, len;

	*n_out = 0;
	if (m->claimed_path == NULL || strcmp(m->claimed_path, path) != 0 ||
	    m->claimed.len == 0)
		return NULL;
	for (o = 0; o < m->claimed.len; o += strlen(m->claimed.data + o) + 1)
		n++;
	v = xcalloc(n, sizeof(*v));
	for (o = 0, n = 0; o < m->claimed.len; o += len + 1) {
		len = strlen(m->claimed.data + o);
		v[n++] = span_make(m->claimed.data + o, len);
	}
	qsort(v, n, sizeof(*v), claimed_cmp);
	*n_out = n;
	return v;
}

/* Was the file of this name in new/ before imap_mbox_select_prepare()? */
static bool
claimed_has(const struct span *v, size_t n, const char *name)
{
	const char	*colon = strchr(name, ':');
	struct span	 key;

	if (n == 0)
		return false;
	key = span_make(name, colon != NULL ? (size_t)(colon - name) :
	    strlen(name));
	return bsearch(&key, v, n, sizeof(*v), claimed_cmp) != NULL;
}

static void
cmd_select(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c, bool readonly)
{
	struct maildir_list	 l;
	struct span		*claimed = NULL;
	char			 path[PATH_MAX], cur[PATH_MAX];
	const char		*err = NULL;
	size_t			 i, nclaimed = 0, recent = 0, unseen = 0;
	bool			 ro = readonly;

	/* RFC 7162 §3.2.5: QRESYNC only once enabled */
	if (c->qresync && !(imap_session_enabled(s) & IMAP_EXT_QRESYNC)) {
		imap_session_done(s, IMAP_BAD, "QRESYNC is not enabled");
		return;
	}
	/* RFC 9051 §6.3.2: a failed SELECT leaves none selected. */
	if (m->selected) {
		/* RFC 7162 §3.2.11, RFC 9051 §7.1 */
		imap_session_untagged(s, "OK [CLOSED] Previous mailbox closed");
		deselect(m, s);
	}
	/* the stamp before the listing: a change after it moves it */
	m->stamped = mbox_path(m, c->mailbox, path, sizeof(path)) == 0 &&
	    folder_stamp(path, m->mtim);
	if (open_folder(m, s, c->mailbox, path, sizeof(path), &l) == -1)
		return;
	select_index(m, path, &l);
	if (!ro)
		claimed = claimed_sorted(m, path, &nclaimed);
	m->msgs = xcalloc(l.nentries + 1, sizeof(*m->msgs));
	/* the names' room at once: no growth to leave unused */
	for (i = 0, m->names_cap = 1; i < l.nentries; i++)
		m->names_cap += strlen(l.entries[i].name) + 1;
	m->names = xmalloc(m->names_cap);
	for (i = 0; i < l.nentries; i++) {
		msg_from_entry(m, &m->msgs[i], &l.entries[i]);
		/*
		 * \Recent (RFC 3501 §2.3.2): what is in new/.  A session
		 * that may write takes them to cur/, as Maildir readers
		 * do, so that the next session does not see them recent:
		 * most before its watch began (imap_mbox_select_prepare()),
		 * the few that came since here.
		 */
		m->msgs[i].recent = l.entries[i].in_new ||
		    claimed_has(claimed, nclaimed, l.entries[i].name);
		m->msgs[i].modseq = msg_modseq(m, m->msgs[i].uid, 0);
		recent += m->msgs[i].recent;
		if (!ro && l.entries[i].in_new &&
		    maildir_set_flags(path, &l.entries[i], l.entries[i].flags,
		    &err) == 0)
			msg_from_entry(m, &m->msgs[i], &l.entries[i]);
		if (unseen == 0 && strchr(l.entries[i].flags, 'S') == NULL)
			unseen = i + 1;
	}
	m->nmsgs = l.nentries;
	m->uidvalidity = l.uidvalidity;
	m->uidnext = l.uidnext;
	maildir_kw_copy(&m->kw, &l.kw);
	maildir_list_free(&l);
	free(claimed);
	free(m->claimed_path);
	m->claimed_path = NULL;
	buf_reset(&m->claimed);
	m->selected = true;
	m->readonly = ro;
	m->sel_path = xstrdup(path);
	m->sel_name = xstrndup(c->mailbox.ptr, c->mailbox.len);
	if (path_join(cur, sizeof(cur), path, "cur") == 0)
		m->dirs.curfd = open(cur, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	imap_session_set_selected(s, true);

	out_flag_lists(m, s);
	imap_session_untagged(s, "%zu EXISTS", m->nmsgs);
	if (m->rev2)
		rev2_select_list(m, s, c->mailbox);
	/* RFC 9051 Appendix E: IMAP4rev2 has no RECENT and no UNSEEN code */
	if (!m->rev2)
		imap_session_untagged(s, "%zu RECENT", recent);
	if (unseen > 0 && !m->rev2)
		imap_session_untagged(s, "OK [UNSEEN %zu] First unseen",
		    unseen);
	imap_session_untagged(s, "OK [UIDVALIDITY %" PRIu32 "] UIDs valid",
	    m->uidvalidity);
	imap_session_untagged(s, "OK [UIDNEXT %" PRIu32 "] Predicted next UID",
	    m->uidnext);
	if (condstore(s))
		select_condstore(m, s, c);
	select_mailboxid(m, s, path);
	/*
	 * The listing and the index read took megabytes for a moment on
	 * a large folder, freed among what the session keeps: give those
	 * pages back, or every session that selects leaves its share.
	 */
	(void)malloc_trim(0);
	imap_session_done(s, IMAP_OK, "[%s] %s completed", ro ? "READ-ONLY" :
	    "READ-WRITE", readonly ? "EXAMINE" : "SELECT");
}

/* --- keywords --- */

/*
 * The letters of the command's keywords in the folder at path, defining
 * the new ones (maildir_kw_define()); their mask into *mask_out and the
 * folder's table after into kw_out (may be NULL).  -1 when the command
 * was answered: NO [LIMIT] when the folder's 26 letters are taken (RFC
 * 9051 §7.1) or a keyword is too long to keep.
 */
static int
kw_define(struct imap_mbox *m, struct imap_session *s, const char *path,
    const struct imap_flags *f, uint32_t *mask_out, struct maildir_kw *kw_out)
{
	char		 letters[IMAP_KEYWORDS_MAX];
	const char	*err = NULL;
	size_t		 i;

	*mask_out = 0;
	if (f->nkw == 0) {
		if (kw_out != NULL)
			memset(kw_out, 0, sizeof(*kw_out));
		return 0;
	}
	if (maildir_kw_define(path, f->kw, f->nkw, letters, kw_out,
	    &err) == -1) {
		if (errno == ERANGE)
			imap_session_done(s, IMAP_NO, "[LIMIT] No room for "
			    "more keywords in this mailbox");
		else if (errno == EINVAL)
			imap_session_done(s, IMAP_NO, "[LIMIT] %s", err);
		else {
			log_warn("sid=%s imap: keywords of %s: %s", m->sid,
			    path, err);
			imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot "
			    "store the keywords");
		}
		return -1;
	}
	for (i = 0; i < f->nkw; i++)
		*mask_out |= (uint32_t)1 << (letters[i] - 'a');
	return 0;
}

/* The mask of the keywords the folder already names (-FLAGS). */
static uint32_t
kw_known(const struct maildir_kw *kw, const struct imap_flags *f)
{
	uint32_t	mask = 0;
	size_t		i;
	int		idx;

	for (i = 0; i < f->nkw; i++)
		if ((idx = maildir_kw_find(kw, f->kw[i].ptr,
		    f->kw[i].len)) != -1)
			mask |= (uint32_t)1 << idx;
	return mask;
}

/* --- APPEND --- */

/*
 * The Maildir letters of an appended message's flag list in the folder
 * at path: the system flags' and the keywords' (defined there when new).
 * -1 when the command was answered (NO [LIMIT], ...).
 */
static int
append_letters(struct imap_mbox *m, struct imap_session *s,
    const char *path, const struct imap_flags *f, char fl[32])
{
	uint32_t	mask;

	if (kw_define(m, s, path, f, &mask, NULL) == -1)
		return -1;
	flags_letters("", f->sys, fl);
	imap_kw_store(NULL, IMAP_STORE_SET, mask, fl);
	return 0;
}

/* The UID maildir_list() gave the file name in path (0: none). */
static uint32_t
uid_of(struct imap_mbox *m, const char *path, const char *name,
    uint32_t *uidvalidity_out)
{
	struct maildir_list	l;
	size_t			i, bl;
	uint32_t		uid = 0;

	memset(&l, 0, sizeof(l));
	if (list_folder(m, path, &l) == -1)
		return 0;
	bl = strcspn(name, ":");
	for (i = 0; i < l.nentries; i++)
		if (strncmp(l.entries[i].name, name, bl) == 0 &&
		    (l.entries[i].name[bl] == ':' ||
		    l.entries[i].name[bl] == '\0'))
			uid = l.entries[i].uid;
	*uidvalidity_out = l.uidvalidity;
	maildir_list_free(&l);
	return uid;
}

/* --- QUOTA (RFC 9208): one root, "", the whole Maildir --- */

void
imap_mbox_set_quota(struct imap_mbox *m, uint64_t quota)
{
	m->quota = quota;
}

/* The bytes the Maildir holds, as the mda counts them for its quota. */
static int
quota_usage(struct imap_mbox *m, uint64_t *bytes_out)
{
	const char	*err = NULL;

	if (maildir_usage(m->root, bytes_out, &err) == -1) {
		log_warn("sid=%s imap: usage of %s: %s", m->sid, m->root,
		    err != NULL ? err : "");
		return -1;
	}
	return 0;
}

/*
 * Would n more bytes go over the quota?  The mda's own rule
 * (mda_quota_fits(): usage plus the message at most the quota).
 */
static bool
quota_over(struct imap_mbox *m, uint64_t n)
{
	uint64_t	used = 0, total;

	if (m->quota == UINT64_MAX || quota_usage(m, &used) == -1)
		return false;
	return __builtin_add_overflow(used, n, &total) || total > m->quota;
}

/* "* QUOTA "" (STORAGE used limit)" in units of 1024 octets (§5.1). */
static int
quota_line(struct imap_mbox *m, struct imap_session *s)
{
	uint64_t	used = 0;

	if (quota_usage(m, &used) == -1)
		return -1;
	imap_session_untagged(s, "QUOTA \"\" (STORAGE %" PRIu64 " %" PRIu64
	    ")", used / 1024, m->quota / 1024);
	return 0;
}

static void
cmd_quota(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	char	path[PATH_MAX];

	switch (c->name) {
	case IMAP_CMD_SETQUOTA:
		/* RFC 9208 §4.2: QUOTASET is not announced */
		imap_session_done(s, IMAP_NO, "[NOPERM] Quotas are set by "
		    "the administrator");
		return;
	case IMAP_CMD_GETQUOTA:
		if (c->mailbox.len != 0 || m->quota == UINT64_MAX) {
			imap_session_done(s, IMAP_NO, "[NONEXISTENT] No such "
			    "quota root");
			return;
		}
		break;
	default:
		if (mbox_path(m, c->mailbox, path, sizeof(path)) == -1 ||
		    !folder_exists(path)) {
			imap_session_done(s, IMAP_NO, "[NONEXISTENT] No such "
			    "mailbox");
			return;
		}
		/* §6.2: a mailbox without a quota has no root */
		buf_reset(&m->out);
		out_str(m, "* QUOTAROOT ");
		out_name(m, is_inbox(c->mailbox) ? span_str("INBOX") :
		    c->mailbox);
		out_str(m, m->quota != UINT64_MAX ? " \"\"\r\n" : "\r\n");
		out_flush(m, s);
		if (m->quota == UINT64_MAX) {
			imap_session_done(s, IMAP_OK, "GETQUOTAROOT completed");
			return;
		}
		break;
	}
	if (quota_line(m, s) == -1) {
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Cannot count the "
		    "mailbox");
		return;
	}
	imap_session_done(s, IMAP_OK, "%s completed", imap_cmd_label(c));
}

/* --- APPEND, MULTIAPPEND (RFC 3502) --- */

/* UIDs as a uid-set (RFC 4315 §4), in their order, runs as "a:b". */
static void
uids_format(const uint32_t *v, size_t n, struct buf *b)
{
	size_t	i, j;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] == v[j - 1] + 1; j++)
			;
		if (b->len > 0)
			(void)buf_append_char(b, ',');
		if (j - i > 1)
			(void)buf_printf(b, "%" PRIu32 ":%" PRIu32, v[i],
			    v[j - 1]);
		else
			(void)buf_printf(b, "%" PRIu32, v[i]);
	}
}

/* The flags of message i (the first one's are where APPEND had them). */
static const struct imap_flags *
append_flags(const struct imap_cmd *c, size_t i)
{
	return i == 0 ? &c->flags : &c->app[i].flags;
}

/* Take back the messages an APPEND stored (RFC 3502 §6.3.11: all or
 * none). */
static void
append_undo(struct imap_mbox *m, const char *path, char (*names)[
    MAILDIR_NAME_MAX + 1], size_t n)
{
	struct maildir_entry	 e;
	const char		*err = NULL;
	size_t			 i;

	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		(void)str_copy(e.name, sizeof(e.name), names[i]);
		if (maildir_remove(path, &e, &err) == -1)
			log_warn("sid=%s imap: append undo %s: %s", m->sid,
			    names[i], err != NULL ? err : "");
	}
}

static void
cmd_append(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	char		 path[PATH_MAX];
	char		(*names)[MAILDIR_NAME_MAX + 1], (*fls)[32];
	const char	*err = NULL;
	struct buf	 uids;
	uint32_t	*uidl, uidv = 0;
	uint64_t	 total = 0;
	size_t		 i, n = 0, nuid = 0;
	bool		 overquota;

	for (i = 0; i < c->napp; i++) {
		/* RFC 6855 §4: UTF8 (...) once UTF8=ACCEPT is on */
		if (c->app[i].utf8 && !(imap_session_enabled(s) &
		    IMAP_EXT_UTF8)) {
			imap_session_done(s, IMAP_BAD, "UTF8 needs ENABLE "
			    "UTF8=ACCEPT");
			return;
		}
		total += c->app[i].literal.len;
	}
	if (mbox_path(m, c->mailbox, path, sizeof(path)) == -1 ||
	    !folder_exists(path)) {
		/* RFC 9051 §6.3.12: TRYCREATE when it could be created */
		imap_session_done(s, IMAP_NO, "[TRYCREATE] No such mailbox");
		return;
	}
	if (quota_over(m, total)) {
		imap_session_done(s, IMAP_NO, "[OVERQUOTA] Quota exceeded");
		return;
	}
	/* Every message's letters first: a keyword past 26 stores none. */
	fls = xcalloc(c->napp, sizeof(*fls));
	for (i = 0; i < c->napp; i++)
		if (append_letters(m, s, path, append_flags(c, i),
		    fls[i]) == -1) {
			free(fls);
			return;
		}
	names = xcalloc(c->napp, sizeof(*names));
	uidl = xcalloc(c->napp, sizeof(*uidl));
	buf_init(&uids, SIZE_MAX);
	for (i = 0; i < c->napp; i++) {
		if (maildir_store(path, c->app[i].literal.ptr,
		    c->app[i].literal.len, -1, 0, fls[i], c->app[i].has_date ?
		    c->app[i].date : (int64_t)time(NULL), names[n],
		    sizeof(names[n]), &err) == -1)
			break;
		n++;
		/* Listed one by one, UIDs follow the messages' order. */
		if ((uidl[nuid] = uid_of(m, path, names[n - 1], &uidv)) != 0)
			nuid++;
	}
	if (n < c->napp) {
		overquota = errno == ENOSPC || errno == EDQUOT;
		log_warn("sid=%s imap: append to %s: %s", m->sid, path, err);
		append_undo(m, path, names, n);
		if (m->selected && strcmp(path, m->sel_path) == 0)
			sync_folder(m, s, true);
		imap_session_done(s, IMAP_NO, overquota ? "[OVERQUOTA] Mailbox "
		    "full" : "[SERVERBUG] Cannot store the message");
		goto done;
	}
	if (m->selected && strcmp(path, m->sel_path) == 0)
		sync_folder(m, s, true);
	/* RFC 4315 §3, RFC 3502 §6.3.11: APPENDUID with every UID */
	uids_format(uidl, nuid, &uids);
	if (nuid == n)
		imap_session_done(s, IMAP_OK, "[APPENDUID %" PRIu32 " %s] "
		    "APPEND completed", uidv, uids.data);
	else
		imap_session_done(s, IMAP_OK, "APPEND completed");
done:
	buf_free(&uids);
	free(uidl);
	free(names);
	free(fls);
}

/* --- the selected folder's commands --- */

/* Is message i (0-based) in the command's set? */
static bool
in_set(const struct imap_mbox *m, const struct imap_seqset *set, bool uid,
    size_t i)
{
	uint32_t	max;

	if (set->last)
		return saved_has(m, m->msgs[i].uid);
	if (uid) {
		max = m->nmsgs > 0 ? m->msgs[m->nmsgs - 1].uid : 0;
		/* "*" is the largest UID in use (RFC 9051 §6.4.9) */
		return imap_seqset_contains(set, m->msgs[i].uid, max);
	}
	return imap_seqset_contains(set, (uint32_t)(i + 1),
	    (uint32_t)m->nmsgs);
}

/* The first message at or after index from whose UID is uid or more. */
static size_t
uid_lower_bound(const struct imap_mbox *m, size_t from, uint32_t uid)
{
	size_t	lo = from, hi = m->nmsgs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The first message at or after index from that is in the command's set
 * (in_set()), or m->nmsgs: found from the set's ranges (messages are in
 * UID order), so that "FETCH 7" on a large folder does not test every
 * message.  The saved result ("$") is tested message by message.
 */
static size_t
set_next(const struct imap_mbox *m, const struct imap_seqset *set, bool uid,
    size_t from)
{
	uint32_t	lo, hi, t, max;
	size_t		k, j, best = m->nmsgs;

	if (from >= m->nmsgs)
		return m->nmsgs;
	if (set->last) {
		while (from < m->nmsgs && !in_set(m, set, uid, from))
			from++;
		return from;
	}
	if (uid)
		max = m->msgs[m->nmsgs - 1].uid;
	else
		max = (uint32_t)m->nmsgs;
	for (k = 0; k < set->n; k++) {
		lo = set->r[k].lo == IMAP_SEQ_STAR ? max : set->r[k].lo;
		hi = set->r[k].hi == IMAP_SEQ_STAR ? max : set->r[k].hi;
		if (lo > hi) {
			t = lo;
			lo = hi;
			hi = t;
		}
		if (uid) {
			j = uid_lower_bound(m, from, lo);
			if (j < m->nmsgs && m->msgs[j].uid <= hi && j < best)
				best = j;
		} else {
			/* sequence numbers are indexes + 1 */
			j = lo > from + 1 ? lo - 1 : from;
			if (j < hi && j < best)
				best = j;
		}
	}
	return best;
}

/* A sequence set naming messages that do not exist (RFC 9051 §6.4.5). */
static bool
seq_valid(const struct imap_mbox *m, const struct imap_seqset *set)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		if ((set->r[i].lo != IMAP_SEQ_STAR &&
		    set->r[i].lo > m->nmsgs) ||
		    (set->r[i].hi != IMAP_SEQ_STAR &&
		    set->r[i].hi > m->nmsgs) || m->nmsgs == 0)
			return false;
	return true;
}

static bool
check_set(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c, const struct imap_seqset *set)
{
	/* "$" names what exists, whatever it held (RFC 5182 §2.1) */
	if (!c->uid && !set->last && !seq_valid(m, set)) {
		imap_session_done(s, IMAP_BAD, "Invalid message sequence "
		    "number");
		return false;
	}
	return true;
}

/*
 * Remove the messages marked \Deleted (and, for UID EXPUNGE, in the
 * set), telling the session each unless silent (CLOSE).
 */
static int
expunge(struct imap_mbox *m, struct imap_session *s,
    const struct imap_seqset *uids, bool silent)
{
	struct maildir_entry	 e;
	const char		*err = NULL;
	size_t			 i;
	int			 rc = 0;

	for (i = m->nmsgs; i > 0; i--) {
		if (!msg_has(&m->msgs[i - 1], 'T') ||
		    (uids != NULL && !in_set(m, uids, true, i - 1)))
			continue;
		entry_of(m, &m->msgs[i - 1], &e);
		if (maildir_remove(m->sel_path, &e, &err) == -1) {
			log_warn("sid=%s imap: expunge %s: %s", m->sid, e.name,
			    err);
			rc = -1;
			continue;
		}
		if (!silent)
			report_expunge(m, s, i);
		else
			gone_add(m, m->msgs[i - 1].uid);
		name_drop(m, &m->msgs[i - 1]);
		memmove(&m->msgs[i - 1], &m->msgs[i], (m->nmsgs - i) *
		    sizeof(*m->msgs));
		m->nmsgs--;
	}
	names_compact(m);
	index_expunged(m);
	if (!silent)
		report_vanished(m, s);
	m->ngone = 0;
	return rc;
}

static void
cmd_expunge(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	if (c->uid && !check_set(m, s, c, &c->seq))
		return;
	if (m->readonly) {
		imap_session_done(s, IMAP_NO, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (expunge(m, s, c->uid ? &c->seq : NULL, false) == -1)
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Some messages could "
		    "not be expunged");
	else
		imap_session_done(s, IMAP_OK, "%s completed", c->uid ?
		    "UID EXPUNGE" : "EXPUNGE");
}

/* A Junk move or mark for imap_mbox_junk_take(). */
static void
junk_note(struct imap_mbox *m, enum imap_kw_junk verdict, const char *folder,
    const char *name)
{
	size_t	save = m->junk.len;

	if (verdict == IMAP_KW_JUNK_NONE)
		return;
	if (m->njunk >= IMAP_MBOX_JUNK_MAX) {
		if (m->njunk++ == IMAP_MBOX_JUNK_MAX)
			log_warnx("sid=%s imap: event=junk-learn result=cut "
			    "max=%d", m->sid, IMAP_MBOX_JUNK_MAX);
		return;
	}
	if (buf_append_char(&m->junk, verdict == IMAP_KW_JUNK_SPAM ? 's' :
	    'h') == -1 || buf_append(&m->junk, folder,
	    strlen(folder) + 1) == -1 ||
	    buf_append(&m->junk, name, strlen(name) + 1) == -1) {
		m->junk.len = save;
		return;
	}
	m->njunk++;
}

/* Set message i's flags to these letters on disk and in the session. */
static int
set_flags(struct imap_mbox *m, size_t i, const char *letters)
{
	struct maildir_entry	 e;
	const char		*err = NULL;

	entry_of(m, &m->msgs[i], &e);
	if (maildir_set_flags(m->sel_path, &e, letters, &err) == -1) {
		log_warn("sid=%s imap: flags of %s: %s", m->sid, e.name, err);
		return -1;
	}
	name_set(m, &m->msgs[i], e.name);
	names_compact(m);
	m->msgs[i].in_new = e.in_new;
	if (m->msgs[i].flags != imap_index_flag_mask(e.flags))
		index_set(m, i, e.flags);
	m->msgs[i].flags = imap_index_flag_mask(e.flags);
	return 0;
}

static void
cmd_store(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	struct maildir_kw	kw;
	enum imap_kw_junk	verdict;
	char		fl[32], old[MBOX_FLAGS_LEN], now[MBOX_FLAGS_LEN];
	unsigned	bits;
	uint32_t	kwmask;
	size_t		i;
	int		rc = 0;
	uint64_t	before;
	uint32_t	*mod = NULL;
	size_t		nmod = 0;

	if (!check_set(m, s, c, &c->seq))
		return;
	if (m->readonly) {
		imap_session_done(s, IMAP_NO, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	/* Keywords to set get letters first; removing one makes none. */
	if (c->store_op == IMAP_STORE_REMOVE) {
		/* Another session may have named one since we looked. */
		if (c->flags.nkw > 0 &&
		    maildir_kw_read(m->sel_path, &kw, NULL) == 0) {
			kw_update(m, s, &kw);
			maildir_kw_free(&kw);
		}
		kwmask = kw_known(&m->kw, &c->flags);
	} else {
		if (kw_define(m, s, m->sel_path, &c->flags, &kwmask,
		    &kw) == -1)
			return;
		if (c->flags.nkw > 0)
			kw_update(m, s, &kw);
		maildir_kw_free(&kw);
	}
	if (c->has_unchangedsince && m->idx == NULL) {
		imap_session_done(s, IMAP_BAD, "Mailbox has no MODSEQ");
		return;
	}
	if (c->has_unchangedsince && index_begin(m)) {
		/* RFC 7162 §3.1.3: compare with the current MODSEQ */
		for (i = 0; i < m->nmsgs; i++)
			m->msgs[i].modseq = msg_modseq(m, m->msgs[i].uid,
			    m->msgs[i].modseq);
		index_end(m);
	}
	for (i = set_next(m, &c->seq, c->uid, 0); i < m->nmsgs;
	    i = set_next(m, &c->seq, c->uid, i + 1)) {
		if (c->has_unchangedsince &&
		    m->msgs[i].modseq > c->unchangedsince) {
			/* §3.1.3: not stored, named in MODIFIED */
			mod = xrealloc(mod, (nmod + 1) * sizeof(*mod));
			mod[nmod++] = c->uid ? m->msgs[i].uid :
			    (uint32_t)(i + 1);
			continue;
		}
		before = m->msgs[i].modseq;
		bits = flags_bits(msg_flags(&m->msgs[i], old));
		if (c->store_op == IMAP_STORE_ADD)
			bits |= c->flags.sys;
		else if (c->store_op == IMAP_STORE_REMOVE)
			bits &= ~c->flags.sys;
		else
			bits = c->flags.sys;
		flags_letters(old, bits, fl);
		imap_kw_store(&m->kw, c->store_op, kwmask, fl);
		if (set_flags(m, i, fl) == -1) {
			rc = -1;
			continue;
		}
		verdict = imap_kw_junk_store(&m->kw, old, msg_flags(&m->msgs[i],
		    now));
		imap_kw_junk_report(m->sid, m->sel_name, m->msgs[i].uid,
		    verdict, "store");
		junk_note(m, verdict, m->sel_path, msg_name(m, &m->msgs[i]));
		/* §3.1.3: .SILENT still reports a new MODSEQ */
		if (c->silent && (!condstore(s) || before == m->msgs[i].modseq))
			continue;
		buf_reset(&m->out);
		out_fmt(m, "* %zu FETCH (", i + 1);
		if (!condstore(s) || m->idx == NULL) {
			out_flags(m, &m->msgs[i]);
			if (c->uid)
				out_fmt(m, " UID %" PRIu32, m->msgs[i].uid);
		} else {
			/* UID, MODSEQ, FLAGS: Dovecot's order */
			if (c->uid || qresync(s))
				out_fmt(m, "UID %" PRIu32 " ", m->msgs[i].uid);
			out_fmt(m, "MODSEQ (%" PRIu64 ")", m->msgs[i].modseq);
			if (!c->silent) {
				out_str(m, " ");
				out_flags(m, &m->msgs[i]);
			}
		}
		out_str(m, ")\r\n");
		out_flush(m, s);
	}
	if (nmod > 0) {
		buf_reset(&m->out);
		numbers_set(mod, nmod, &m->out);
		free(mod);
		imap_session_done(s, IMAP_OK, "[MODIFIED %s] Conditional STORE "
		    "failed", m->out.data);
		buf_reset(&m->out);
	} else if (rc == -1)
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Some flags could not "
		    "be stored");
	else
		imap_session_done(s, IMAP_OK, "%s completed", imap_cmd_label(c));
}

/* Append "a:b" or "a" to a UID set being built for COPYUID. */
static void
uidset_add(struct buf *b, uint32_t uid)
{
	if (b->len > 0)
		(void)buf_append_char(b, ',');
	(void)buf_printf(b, "%" PRIu32, uid);
}

/*
 * COPY/MOVE: the letter each keyword of the set's messages has in the
 * folder at path (defined there when new), by name, as the two folders'
 * files may name a keyword by different letters.  A keyword that finds
 * no letter left there is dropped from the copies (logged), as Dovecot
 * drops it, rather than failing the command.
 */
static void
kw_map(struct imap_mbox *m, const struct imap_cmd *c, const char *path,
    char map[MAILDIR_KW_MAX])
{
	struct span	 name;
	const char	*err = NULL;
	char		 fl[MBOX_FLAGS_LEN];
	uint32_t	 used = 0;
	size_t		 i;

	memset(map, 0, MAILDIR_KW_MAX);
	for (i = set_next(m, &c->seq, c->uid, 0); i < m->nmsgs;
	    i = set_next(m, &c->seq, c->uid, i + 1))
		used |= maildir_kw_mask(msg_flags(&m->msgs[i], fl));
	for (i = 0; i < MAILDIR_KW_MAX; i++) {
		if (!(used & ((uint32_t)1 << i)) || m->kw.name[i] == NULL)
			continue;
		name = span_str(m->kw.name[i]);
		if (maildir_kw_define(path, &name, 1, &map[i], NULL,
		    &err) == -1) {
			log_warn("sid=%s imap: keyword %s in %s: %s", m->sid,
			    m->kw.name[i], path, err);
			map[i] = 0;
		}
	}
}

/* RFC 8474 §5.1: a copy keeps the EMAILID, carried in its name. */
static const char *
copy_tag(const struct imap_mbox *m, size_t i, char tag[MAILDIR_TAG_MAX + 1])
{
	char	id[IMAP_OBJECTID_EMAIL_LEN + 1];

	imap_objectid_email(msg_name(m, &m->msgs[i]), id);
	(void)snprintf(tag, MAILDIR_TAG_MAX + 1, ",E=%s", id + 1);
	return tag;
}

/*
 * Would COPY's messages go over the quota (RFC 9208 §4.1)?  MOVE within
 * the one quota root adds nothing, so a full account can still move
 * messages to Trash and expunge them.
 */
static bool
copy_over_quota(struct imap_mbox *m, const struct imap_cmd *c)
{
	uint64_t	total = 0;
	size_t		i;

	if (m->quota == UINT64_MAX)
		return false;
	for (i = set_next(m, &c->seq, c->uid, 0); i < m->nmsgs;
	    i = set_next(m, &c->seq, c->uid, i + 1))
		total += m->msgs[i].size;
	return quota_over(m, total);
}

static void
cmd_copy(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c, bool move)
{
	struct maildir_entry	 e;
	struct buf		 src, dst;
	enum imap_kw_junk	 verdict;
	char			 path[PATH_MAX], name[MAILDIR_NAME_MAX + 1];
	char			 map[MAILDIR_KW_MAX], fl[32], *to;
	char			 had[MBOX_FLAGS_LEN];
	char			 tag[MAILDIR_TAG_MAX + 1];
	const char		*err = NULL;
	uint32_t		 uidv = 0, uid;
	size_t			 i, n = 0;
	int			 fd, rc = 0;

	if (!check_set(m, s, c, &c->seq))
		return;
	if (mbox_path(m, c->mailbox, path, sizeof(path)) == -1 ||
	    !folder_exists(path)) {
		imap_session_done(s, IMAP_NO, "[TRYCREATE] No such mailbox");
		return;
	}
	if (move && m->readonly) {
		imap_session_done(s, IMAP_NO, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (!move && copy_over_quota(m, c)) {
		imap_session_done(s, IMAP_NO, "[OVERQUOTA] Quota exceeded");
		return;
	}
	buf_init(&src, SIZE_MAX);
	buf_init(&dst, SIZE_MAX);
	kw_map(m, c, path, map);
	to = is_inbox(c->mailbox) ? xstrdup("INBOX") :
	    xstrndup(c->mailbox.ptr, c->mailbox.len);
	for (i = set_next(m, &c->seq, c->uid, 0); i < m->nmsgs;
	    i = set_next(m, &c->seq, c->uid, i + 1)) {
		entry_of(m, &m->msgs[i], &e);
		imap_kw_translate(msg_flags(&m->msgs[i], had), map, fl);
		if (move && strcmp(path, m->sel_path) != 0) {
			if ((strcmp(fl, had) == 0 ?
			    maildir_move(m->sel_path, &e, path, name,
			    sizeof(name), &err) :
			    maildir_move_flags(m->sel_path, &e, path, fl,
			    name, sizeof(name), &err)) == -1) {
				rc = -1;
				break;
			}
		} else {
			if (maildir_open(m->sel_path, &e, &fd, &err) == -1) {
				rc = -1;
				break;
			}
			if (maildir_store_tagged(path, NULL, 0, fd, e.size,
			    fl, m->msgs[i].mtime, copy_tag(m, i, tag), name,
			    sizeof(name), &err) == -1)
				rc = -1;
			(void)close(fd);
			if (rc == -1)
				break;
		}
		/* A move into or out of Junk trains the spam filter. */
		verdict = imap_kw_junk_move(m->sel_name, to);
		imap_kw_junk_report(m->sid, to, m->msgs[i].uid, verdict,
		    move ? "move" : "copy");
		junk_note(m, verdict, path, name);
		uidset_add(&src, m->msgs[i].uid);
		if ((uid = uid_of(m, path, name, &uidv)) != 0)
			uidset_add(&dst, uid);
		n++;
	}
	if (rc == -1)
		log_warn("sid=%s imap: %s to %s: %s", m->sid, move ? "move" :
		    "copy", path, err != NULL ? err : "");
	if (move && n > 0) {
		/*
		 * RFC 6851 §3.3: COPYUID in an untagged OK, then the
		 * EXPUNGEs.  Only messages that moved are expunged: mark
		 * them as the rest, then take them out of the view.
		 */
		if (src.len > 0 && dst.len > 0 && rc == 0)
			imap_session_untagged(s, "OK [COPYUID %" PRIu32 " %s %s] "
			    "Moved", uidv, src.data, dst.data);
		if (strcmp(path, m->sel_path) == 0) {
			for (i = set_next(m, &c->seq, c->uid, 0);
			    i < m->nmsgs;
			    i = set_next(m, &c->seq, c->uid, i + 1))
				(void)set_flags(m, i, "T");
			(void)expunge(m, s, NULL, false);
		} else
			sync_folder(m, s, true);
	} else if (strcmp(path, m->sel_path) == 0)
		sync_folder(m, s, true);
	if (rc == -1)
		imap_session_done(s, IMAP_NO, "[SERVERBUG] %s failed", move ?
		    "MOVE" : "COPY");
	else if (n > 0 && !move && dst.len > 0)
		imap_session_done(s, IMAP_OK, "[COPYUID %" PRIu32 " %s %s] COPY "
		    "completed", uidv, src.data, dst.data);
	else
		imap_session_done(s, IMAP_OK, "%s completed", imap_cmd_label(c));
	buf_free(&src);
	buf_free(&dst);
	free(to);
}

/* --- FETCH --- */

/*
 * FETCH's CONDSTORE parts (RFC 7162 §3.1.4, §3.2.6): MODSEQ needs a
 * mailbox with MODSEQs; VANISHED needs UID FETCH and QRESYNC, and names
 * first the UIDs of the set expunged since CHANGEDSINCE.  false: the
 * command was answered.
 */
static bool
fetch_condstore(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	size_t	start;

	m->fmodseq = (c->fetch.atts & IMAP_FETCH_MODSEQ) ||
	    c->has_changedsince;
	m->fcond = condstore(s);
	if (m->fmodseq && m->idx == NULL) {
		imap_session_done(s, IMAP_BAD, "Mailbox has no MODSEQ");
		return false;
	}
	if (c->vanished && (!c->uid || !qresync(s))) {
		imap_session_done(s, IMAP_BAD, "VANISHED needs UID FETCH and "
		    "QRESYNC");
		return false;
	}
	if (c->vanished) {
		buf_reset(&m->out);
		out_str(m, "* VANISHED (EARLIER) ");
		start = m->out.len;
		imap_index_vanished(m->idx, c->changedsince, &c->seq,
		    m->uidnext, &m->out);
		if (m->out.len > start) {
			out_str(m, "\r\n");
			out_flush(m, s);
		}
		buf_reset(&m->out);
	}
	return true;
}

/*
 * The parse of the message in m->raw, made at the first need: a FETCH
 * of BODY[] alone (a client downloading mail) needs none.
 */
static const struct mime_msg *
msg_parsed(struct imap_mbox *m)
{
	if (!m->parsed) {
		mime_parse(&m->mime, m->raw.data, m->raw.len);
		m->parsed = true;
	}
	return &m->mime;
}

/*
 * The file as it is on disk (LF line ends) into m->raw, once per
 * message of a FETCH, whatever it asks for; parsed when something
 * needs it (msg_parsed()).
 */
static int
read_msg(struct imap_mbox *m, size_t i)
{
	struct maildir_entry	 e;
	struct buf		*b = &m->raw;
	const char		*err = NULL;
	size_t			 room;
	ssize_t			 n;
	int			 fd, saved;

	entry_of(m, &m->msgs[i], &e);
	if (m->msgs[i].size > IMAP_MBOX_MSG_MAX)
		return -1;
	buf_reset(b);
	m->parsed = false;
	/* by name in the cur/ held open, by the path if it moved */
	if (maildir_open_in(&m->dirs, m->sel_path, &e, &fd, &err) == -1)
		return -1;
	/*
	 * Straight into the buffer, sized by the listing: no copy from a
	 * chunk, and usually one read for the file and one for its end.
	 * The buffer grows (to its ceiling) should the file have grown.
	 */
	if (buf_reserve(b, m->msgs[i].size) == -1)
		goto fail;
	for (;;) {
		room = b->cap - b->len - 1;
		if (room > b->max - b->len)
			room = b->max - b->len;
		if (room == 0) {
			if (buf_reserve(b, 1) == -1)
				goto fail;	/* past IMAP_MBOX_MSG_MAX */
			continue;
		}
		n = read(fd, b->data + b->len, room);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	(void)close(fd);
	b->data[b->len] = '\0';
	return 0;
fail:
	saved = errno;
	(void)close(fd);
	buf_reset(b);
	errno = saved;
	return -1;
}

/*
 * Append s, a span of m->raw, with bare LFs made CRLF (RFC 9051 §2.3.4:
 * message text goes out with CRLF line ends).
 */
static int
append_crlf(const struct imap_mbox *m, struct span s, struct buf *out)
{
	const char	*nl;
	char		 prev;
	size_t		 j = 0, from = 0;

	while (j < s.len &&
	    (nl = memchr(s.ptr + j, '\n', s.len - j)) != NULL) {
		j = (size_t)(nl - s.ptr);
		/* the byte before may lie before the span, in m->raw */
		if (j > 0)
			prev = s.ptr[j - 1];
		else
			prev = s.ptr > m->raw.data ? s.ptr[-1] : '\0';
		if (prev != '\r') {
			if (buf_append(out, s.ptr + from, j - from) == -1 ||
			    buf_append(out, "\r", 1) == -1)
				return -1;
			from = j;
		}
		j++;
	}
	return buf_append(out, s.ptr + from, s.len - from);
}

/* Is the field named in the HEADER.FIELDS list of sec? */
static bool
field_listed(const struct imap_fetch_section *sec, struct span name)
{
	size_t	k;

	for (k = 0; k < sec->nfields; k++)
		if (sec->fields[k].len == name.len &&
		    strncasecmp(sec->fields[k].ptr, name.ptr, name.len) == 0)
			return true;
	return false;
}

/*
 * The section spec as RFC 3501 §6.4.5 writes it ("1.2.HEADER.FIELDS
 * (A B)"), for imap_struct_section() and for the response's item name.
 */
static void
section_spec(const struct imap_fetch_section *sec, struct buf *b)
{
	static const char *const words[] = {
		[IMAP_SECT_NONE] = "",
		[IMAP_SECT_HEADER] = "HEADER",
		[IMAP_SECT_HEADER_FIELDS] = "HEADER.FIELDS",
		[IMAP_SECT_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[IMAP_SECT_TEXT] = "TEXT",
		[IMAP_SECT_MIME] = "MIME",
	};
	size_t	k;
	int	rc = 0;

	buf_reset(b);
	for (k = 0; k < sec->nparts && rc == 0; k++)
		rc = buf_printf(b, "%s%" PRIu32, k > 0 ? "." : "",
		    sec->part[k]);
	if (sec->text != IMAP_SECT_NONE && rc == 0)
		rc = buf_printf(b, "%s%s", sec->nparts > 0 ? "." : "",
		    words[sec->text]);
	if ((sec->text == IMAP_SECT_HEADER_FIELDS ||
	    sec->text == IMAP_SECT_HEADER_FIELDS_NOT) && rc == 0) {
		rc = buf_append_str(b, " (");
		for (k = 0; k < sec->nfields && rc == 0; k++) {
			if (k > 0)
				rc = buf_append_char(b, ' ');
			if (rc == 0)
				rc = buf_append_span(b, sec->fields[k]);
		}
		if (rc == 0)
			rc = buf_append_char(b, ')');
	}
	if (rc == -1)
		fatalx("imap_mbox: section spec too long");
}

/*
 * The content of a section of the parsed message into out, in the form
 * it is served: CRLF text, or for BINARY the part decoded (RFC 3516
 * §4.2).  1 when the section names no part of this message (served
 * empty, as Dovecot does), 2 when BINARY meets an encoding we cannot
 * decode (UNKNOWN-CTE).
 */
static int
section_content(struct imap_mbox *m, const struct imap_fetch_section *sec,
    struct span spec, struct buf *out)
{
	const struct mime_msg	*msg;
	const struct mime_field	*fl;
	enum imap_struct_region	 region;
	struct span		 fields, reg;
	const char		*from;
	uint32_t		 part, k;

	buf_reset(out);
	/* BODY[] and RFC822: the whole message, no parse needed */
	if ((sec->kind == IMAP_SEC_BODY || sec->kind == IMAP_SEC_RFC822) &&
	    sec->nparts == 0 && sec->text == IMAP_SECT_NONE)
		return append_crlf(m, span_make(m->raw.data, m->raw.len), out);
	msg = msg_parsed(m);
	if (imap_struct_section(msg, spec, &part, &region, &fields) == -1)
		return 1;
	imap_struct_region(msg, part, region, &reg, NULL);
	if (region == IMAP_STRUCT_FIELDS) {
		/* the chosen fields in their order, then the blank line */
		for (k = 0; k < msg->parts[part].nfields; k++) {
			fl = &msg->fields[msg->parts[part].field_first + k];
			if (!field_listed(sec, mime_field_name(msg, fl)))
				continue;
			if (append_crlf(m, span_make(msg->data + fl->name_off,
			    fl->end - fl->name_off), out) == -1)
				return -1;
		}
		return buf_append(out, "\r\n", 2);
	}
	if (region == IMAP_STRUCT_FIELDS_NOT) {
		/*
		 * the header less the listed fields: lines that are no field
		 * (an mbox "From " line) stay, as Dovecot keeps them
		 */
		from = reg.ptr;
		for (k = 0; k < msg->parts[part].nfields; k++) {
			fl = &msg->fields[msg->parts[part].field_first + k];
			if (!field_listed(sec, mime_field_name(msg, fl)))
				continue;
			if (append_crlf(m, span_make(from,
			    (size_t)(msg->data + fl->name_off - from)),
			    out) == -1)
				return -1;
			from = msg->data + fl->end;
		}
		return append_crlf(m, span_make(from,
		    (size_t)(reg.ptr + reg.len - from)), out);
	}
	if (append_crlf(m, reg, out) == -1)
		return -1;
	if (sec->kind != IMAP_SEC_BINARY && sec->kind != IMAP_SEC_BINARY_SIZE)
		return 0;
	if (region != IMAP_STRUCT_PART ||
	    msg->parts[part].kind != MIME_KIND_LEAF)
		return 0;
	switch (msg->parts[part].cte) {
	case MIME_CTE_QP:
	case MIME_CTE_BASE64:
		buf_reset(&m->dec);
		if (mime_decode_body(msg->parts[part].cte,
		    span_make(out->data, out->len), &m->dec) == -1)
			return -1;
		buf_reset(out);
		return buf_append(out, m->dec.data, m->dec.len);
	case MIME_CTE_OTHER:
		return 2;
	default:
		return 0;
	}
}

/* One section item of a FETCH response; 2 for UNKNOWN-CTE. */
static int
fetch_section(struct imap_mbox *m, const struct imap_fetch_section *sec)
{
	struct span	part;
	uint64_t	off, cnt;
	char		*z;
	int		rc;
	bool		nul;

	section_spec(sec, &m->spec);
	rc = section_content(m, sec, span_make(m->spec.data, m->spec.len),
	    &m->part);
	if (rc == -1 || rc == 2)
		return rc;
	switch (sec->kind) {
	case IMAP_SEC_RFC822:
		out_str(m, "RFC822 ");
		break;
	case IMAP_SEC_RFC822_HEADER:
		out_str(m, "RFC822.HEADER ");
		break;
	case IMAP_SEC_RFC822_TEXT:
		out_str(m, "RFC822.TEXT ");
		break;
	case IMAP_SEC_BINARY_SIZE:
		out_str(m, "BINARY.SIZE[");
		out_span(m, &m->spec);
		out_fmt(m, "] %zu", m->part.len);
		return 0;
	default:
		out_str(m, sec->kind == IMAP_SEC_BINARY ? "BINARY[" : "BODY[");
		out_span(m, &m->spec);
		out_str(m, "]");
		if (sec->partial)
			out_fmt(m, "<%" PRIu64 ">", sec->offset);
		out_str(m, " ");
		break;
	}
	if (rc == 1) {
		out_str(m, "\"\"");
		return 0;
	}
	part = span_make(m->part.data, m->part.len);
	if (sec->partial) {
		off = sec->offset < part.len ? sec->offset : part.len;
		cnt = part.len - off < sec->count ? part.len - off :
		    sec->count;
		part = span_make(part.ptr + off, (size_t)cnt);
	}
	/*
	 * A literal always: message text is not a quotable string; decoded
	 * content with NUL goes as literal8 (RFC 3516 §4.2).
	 */
	nul = sec->kind == IMAP_SEC_BINARY &&
	    memchr(part.ptr, '\0', part.len) != NULL;
	out_fmt(m, "%s{%zu}\r\n", nul ? "~" : "", part.len);
	off = m->out.len;
	if (buf_append(&m->out, part.ptr, part.len) == -1)
		fatalx("imap_mbox: response too large");
	/*
	 * RFC 9051 §4.3: a literal holds no NUL (CHAR8); a message that
	 * has one gets 0x80 in its place in BODY[], as Dovecot sends it.
	 */
	while (sec->kind != IMAP_SEC_BINARY && (z = memchr(m->out.data + off,
	    '\0', m->out.len - off)) != NULL) {
		*z = (char)0x80;
		off = (uint64_t)(z - m->out.data) + 1;
	}
	return 0;
}

#define FETCH_STRUCT	(IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY | \
			    IMAP_FETCH_BODYSTRUCTURE)

/*
 * ENVELOPE, BODY and BODYSTRUCTURE of message i into m->cache: from the
 * index when it has them, else from the parse (read now unless parsed
 * is set), and then kept in the index so that the next FETCH reads no
 * file.  -1 when the file cannot be read, -2 when a string is too large.
 */
static int
struct_strings(struct imap_mbox *m, size_t i, bool parsed)
{
	const struct mbox_msg	*msg = &m->msgs[i];
	struct imap_index_cache	*ca = &m->cache;

	if (m->idx != NULL && imap_index_cache_get(m->idx, msg->uid,
	    msg->size, ca) == 0)
		return 0;
	if (!parsed && read_msg(m, i) == -1)
		return -1;
	buf_reset(&ca->envelope);
	buf_reset(&ca->body);
	buf_reset(&ca->bodystructure);
	if (imap_struct_envelope(&ca->envelope, msg_parsed(m), 0) == -1 ||
	    imap_struct_bodies(&ca->bodystructure, &ca->body, msg_parsed(m),
	    0) == -1)
		return -2;
	if (m->idx == NULL)
		return 0;
	imap_index_cache_queue(m->idx, msg->uid, msg->size,
	    span_make(ca->envelope.data, ca->envelope.len),
	    span_make(ca->body.data, ca->body.len),
	    span_make(ca->bodystructure.data, ca->bodystructure.len));
	if (m->idx->pend.len > IMAP_MBOX_CACHE_BATCH)
		index_flush(m);
	return 0;
}

/* ENVELOPE, BODY, BODYSTRUCTURE from m->cache (struct_strings()). */
static void
fetch_struct(struct imap_mbox *m, unsigned atts, bool *sep)
{
	if (atts & IMAP_FETCH_ENVELOPE) {
		out_str(m, *sep ? " ENVELOPE " : "ENVELOPE ");
		out_span(m, &m->cache.envelope);
		*sep = true;
	}
	if (atts & IMAP_FETCH_BODY) {
		out_str(m, *sep ? " BODY " : "BODY ");
		out_span(m, &m->cache.body);
		*sep = true;
	}
	if (atts & IMAP_FETCH_BODYSTRUCTURE) {
		out_str(m, *sep ? " BODYSTRUCTURE " : "BODYSTRUCTURE ");
		out_span(m, &m->cache.bodystructure);
		*sep = true;
	}
}

/*
 * One message's FETCH response into m->out: -1 when it could not be
 * read, 2 for UNKNOWN-CTE (nothing is sent for it then).
 */
/* RFC 8474 §5: EMAILID (id) and THREADID NIL (no threads kept). */
static void
fetch_objectid(struct imap_mbox *m, unsigned atts, size_t i, bool sep)
{
	char	id[IMAP_OBJECTID_EMAIL_LEN + 1];

	if (atts & IMAP_FETCH_EMAILID) {
		imap_objectid_email(msg_name(m, &m->msgs[i]), id);
		out_fmt(m, "%sEMAILID (%s)", sep ? " " : "", id);
		sep = true;
	}
	if (atts & IMAP_FETCH_THREADID)
		out_fmt(m, "%sTHREADID NIL", sep ? " " : "");
}

static int
fetch_one(struct imap_mbox *m, const struct imap_cmd *c, size_t i,
    bool need_msg, bool seen)
{
	const struct imap_fetch	*f = &c->fetch;
	char			 date[27];
	size_t			 k;
	bool			 sep = false;
	int			 rc;

	if (need_msg && read_msg(m, i) == -1) {
		log_warn("sid=%s imap: read %s", m->sid, msg_name(m, &m->msgs[i]));
		return -1;
	}
	if (seen && !msg_has(&m->msgs[i], 'S')) {
		char	fl[MBOX_FLAGS_LEN];

		imap_index_flag_letters(m->msgs[i].flags |
		    imap_index_flag_mask("S"), fl);
		(void)set_flags(m, i, fl);
	}
	buf_reset(&m->out);
	/* by hand, not printf: these go out for every message of a sync */
	out_str(m, "* ");
	out_u64(m, i + 1);
	out_str(m, " FETCH (");
	if (c->uid || (f->atts & IMAP_FETCH_UID)) {
		out_str(m, "UID ");
		out_u64(m, m->msgs[i].uid);
		sep = true;
	}
	if ((f->atts & IMAP_FETCH_FLAGS) || seen) {
		out_str(m, sep ? " " : "");
		out_flags(m, &m->msgs[i]);
		sep = true;
	}
	/* RFC 7162 §3.1.4; a \Seen set here is a change (§3.1.3) */
	if (m->idx != NULL && (m->fmodseq || (seen && m->fcond))) {
		out_fmt(m, "%sMODSEQ (%" PRIu64 ")", sep ? " " : "",
		    m->msgs[i].modseq);
		sep = true;
	}
	if (f->atts & IMAP_FETCH_INTERNALDATE) {
		imap_mbox_date(m->msgs[i].mtime, date);
		out_str(m, sep ? " INTERNALDATE \"" : "INTERNALDATE \"");
		out_str(m, date);
		out_str(m, "\"");
		sep = true;
	}
	if (f->atts & IMAP_FETCH_SIZE) {
		out_str(m, sep ? " RFC822.SIZE " : "RFC822.SIZE ");
		out_u64(m, m->msgs[i].size_crlf);
		sep = true;
	}
	if (f->atts & (IMAP_FETCH_EMAILID | IMAP_FETCH_THREADID)) {
		fetch_objectid(m, f->atts, i, sep);
		sep = true;
	}
	if ((f->atts & FETCH_STRUCT) &&
	    (rc = struct_strings(m, i, need_msg)) != 0) {
		if (rc == -1)
			log_warn("sid=%s imap: read %s", m->sid,
			    msg_name(m, &m->msgs[i]));
		else
			log_warnx("sid=%s imap: %s: structure too large",
			    m->sid, msg_name(m, &m->msgs[i]));
		return -1;
	}
	fetch_struct(m, f->atts, &sep);
	for (k = 0; k < f->nsec; k++) {
		out_str(m, sep ? " " : "");
		if ((rc = fetch_section(m, &f->sec[k])) != 0) {
			if (rc == -1)
				log_warnx("sid=%s imap: %s: section too "
				    "large", m->sid, msg_name(m, &m->msgs[i]));
			return rc;
		}
		sep = true;
	}
	out_str(m, ")\r\n");
	return 0;
}

static void
cmd_fetch(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	const struct imap_fetch	*f = &c->fetch;
	size_t			 k;

	if (!check_set(m, s, c, &c->seq) || !fetch_condstore(m, s, c))
		return;
	/* the structure items come from the index's cache when they can */
	m->fneed = false;
	m->fseen = false;
	for (k = 0; k < f->nsec; k++) {
		m->fneed = true;
		/*
		 * RFC 9051 §6.4.5: BODY[...] and RFC822(.TEXT) set \Seen,
		 * RFC 3516 §4.2: so does BINARY[...]
		 */
		if (!f->sec[k].peek && !m->readonly)
			m->fseen = true;
	}
	m->fcmd = c;
	m->fnext = 0;
	m->fcte = m->ffail = false;
	/* the role calls imap_mbox_resume() while the output has room */
}

/* A large message's buffers are not kept for the next command (the
 * largest one read counts, not the last). */
static void
msg_buffers_trim(struct imap_mbox *m)
{
	if (m->raw.cap <= IMAP_MBOX_KEEP)
		return;
	m->parsed = false;
	buf_free(&m->raw);
	buf_free(&m->part);
	buf_free(&m->dec);
	mime_msg_free(&m->mime);
	buf_init(&m->raw, IMAP_MBOX_MSG_MAX);
	buf_init(&m->part, SIZE_MAX);
	buf_init(&m->dec, SIZE_MAX);
}

bool
imap_mbox_busy(const struct imap_mbox *m)
{
	return m->fcmd != NULL;
}

void
imap_mbox_resume(struct imap_mbox *m, struct imap_session *s)
{
	const struct imap_cmd	*c = m->fcmd;
	size_t			 i;
	int			 rc;

	if (c == NULL)
		return;
	for (i = set_next(m, &c->seq, c->uid, m->fnext); i < m->nmsgs;
	    i = set_next(m, &c->seq, c->uid, i + 1))
		if (!c->has_changedsince ||
		    m->msgs[i].modseq > c->changedsince)
			break;
	if (i < m->nmsgs) {
		m->fnext = i + 1;
		rc = fetch_one(m, c, i, m->fneed, m->fseen);
		if (rc == 0)
			out_flush(m, s);
		else if (rc == 2)
			m->fcte = true;
		else
			m->ffail = true;
		buf_reset(&m->out);
		return;
	}
	m->fcmd = NULL;
	index_flush(m);
	msg_buffers_trim(m);
	if (m->fcte)
		imap_session_done(s, IMAP_NO, "[UNKNOWN-CTE] A part has a "
		    "Content-Transfer-Encoding we cannot decode");
	else if (m->ffail)
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Some messages could "
		    "not be read");
	else
		imap_session_done(s, IMAP_OK, "%s completed", imap_cmd_label(c));
}

/* --- SEARCH --- */

/*
 * Keys we refuse: RECENT, NEW and OLD after
 * ENABLE IMAP4rev2, whose grammar has none of them (RFC 9051 §6.4.4,
 * Appendix E: no \Recent).  *bad_out: BAD rather than NO.
 */
static bool
search_supported(const struct imap_mbox *m, const struct imap_search *se,
    const char **why, bool *bad_out)
{
	size_t	i;

	*bad_out = false;
	for (i = 0; i < se->nnode; i++) {
		switch (se->node[i].key) {
		case IMAP_SK_NEW:
		case IMAP_SK_OLD:
		case IMAP_SK_FLAG:
		case IMAP_SK_UNFLAG:
			if (m->rev2 && (se->node[i].key == IMAP_SK_NEW ||
			    se->node[i].key == IMAP_SK_OLD ||
			    se->node[i].flag == IMAP_FLAG_RECENT)) {
				*why = "IMAP4rev2 has no RECENT, NEW or OLD";
				*bad_out = true;
				return false;
			}
			break;
		default:
			break;
		}
	}
	return true;
}

/*
 * The header section of message i into m->raw (RFC 5322 §2.1: up to the
 * first empty line; at most IMAP_MBOX_HDR_MAX of it) and its parse into
 * m->mime: all that SORT and THREAD look at, so that a folder of large
 * messages is not read whole for them.
 */
static int
read_header(struct imap_mbox *m, size_t i)
{
	struct maildir_entry	 e;
	const char		*err = NULL, *d, *p, *q;
	char			 chunk[8192];
	size_t			 from, hlen = SIZE_MAX;
	ssize_t			 got = 0;
	int			 fd;

	entry_of(m, &m->msgs[i], &e);
	buf_reset(&m->raw);
	m->parsed = false;
	if (maildir_open(m->sel_path, &e, &fd, &err) == -1)
		return -1;
	while (hlen == SIZE_MAX && m->raw.len < IMAP_MBOX_HDR_MAX &&
	    (got = read(fd, chunk, sizeof(chunk))) > 0) {
		/* an empty line may straddle two chunks */
		from = m->raw.len > 2 ? m->raw.len - 2 : 0;
		if (buf_append(&m->raw, chunk, (size_t)got) == -1) {
			got = -1;
			break;
		}
		d = m->raw.data;
		if (d[0] == '\n' || (m->raw.len > 1 && d[0] == '\r' &&
		    d[1] == '\n')) {
			hlen = 0;	/* no header at all */
			break;
		}
		p = memmem(d + from, m->raw.len - from, "\n\n", 2);
		q = memmem(d + from, m->raw.len - from, "\n\r\n", 3);
		if (q != NULL && (p == NULL || q < p))
			hlen = (size_t)(q - d) + 3;
		else if (p != NULL)
			hlen = (size_t)(p - d) + 2;
	}
	(void)close(fd);
	if (got == -1)
		return -1;
	mime_parse(&m->mime, m->raw.data, hlen == SIZE_MAX ? m->raw.len :
	    hlen);
	m->parsed = true;
	return 0;
}

/* Message i read and parsed (read_msg), or only its header section
 * (read_header); NULL, logged, with *fail_out set, when it cannot be
 * read. */
static const struct mime_msg *
search_read(struct imap_mbox *m, size_t i, bool header, bool *fail_out)
{
	if ((header ? read_header(m, i) : read_msg(m, i)) == 0)
		return msg_parsed(m);
	log_warn("sid=%s imap: read %s", m->sid, msg_name(m, &m->msgs[i]));
	*fail_out = true;
	return NULL;
}

/* imap_search's callback: the message asked about. */
static int
search_message(void *arg, const struct mime_msg **msg_out)
{
	struct imap_mbox	*m = arg;
	bool			 fail = false;

	*msg_out = search_read(m, m->snext, false, &fail);
	return *msg_out != NULL ? 0 : -1;
}

/*
 * The messages the command's search keys match (SEARCH, SORT, THREAD),
 * as indices into m->msgs, ascending, into *hits_out (freed by the
 * caller); *fail_out when some could not be read (they do not match).
 * -1 when the command was answered instead (a refused key or charset);
 * a refused SAVE empties "$" (RFC 5182 §2.1).  The facts come from the
 * session's view, the message itself only when a header or text key
 * still decides (imap_search_match() asks).
 */
static int
search_run(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c, uint32_t **hits_out, size_t *n_out,
    bool *fail_out)
{
	const struct imap_search	*se = &c->search;
	struct imap_search_ctx		 ctx;
	struct imap_search_msg		 sm;
	struct span			 kw[MAILDIR_KW_MAX];
	const char			*why = NULL;
	uint32_t			*hits;
	char				 emailid[IMAP_OBJECTID_EMAIL_LEN + 1];
	char				 fl[MBOX_FLAGS_LEN];
	size_t				 i, n = 0;
	int				 r;
	bool				 bad, need_emailid = false, need_kw = false;

	*fail_out = false;
	if (!search_supported(m, se, &why, &bad) ||
	    imap_search_prepare(&ctx, se, (uint32_t)m->nmsgs,
	    m->nmsgs > 0 ? m->msgs[m->nmsgs - 1].uid : 0, m->saved,
	    m->nsaved, &why) == -1) {
		if (se->ret & IMAP_SRET_SAVE)
			saved_set(m, NULL, 0);
		imap_session_done(s, bad ? IMAP_BAD : IMAP_NO, "%s", why);
		return -1;
	}
	/* a SHA-256, keyword names: only when a key asks for them */
	for (i = 0; i < se->nnode; i++) {
		if (se->node[i].key == IMAP_SK_EMAILID)
			need_emailid = true;
		if (se->node[i].key == IMAP_SK_KEYWORD ||
		    se->node[i].key == IMAP_SK_UNKEYWORD)
			need_kw = true;
	}
	hits = xcalloc(m->nmsgs + 1, sizeof(*hits));
	for (i = 0; i < m->nmsgs; i++) {
		memset(&sm, 0, sizeof(sm));
		sm.seq = (uint32_t)(i + 1);
		sm.uid = m->msgs[i].uid;
		sm.flags = msg_sys(&m->msgs[i]) |
		    (m->msgs[i].recent ? IMAP_FLAG_RECENT : 0);
		sm.size = m->msgs[i].size_crlf;
		sm.kw = kw;
		if (need_kw)
			sm.nkw = imap_kw_spans(&m->kw, msg_flags(&m->msgs[i],
			    fl), kw);
		sm.internaldate = m->msgs[i].mtime;
		sm.modseq = m->msgs[i].modseq;
		if (need_emailid) {
			imap_objectid_email(msg_name(m, &m->msgs[i]), emailid);
			sm.emailid = span_str(emailid);
		}
		sm.message = search_message;
		sm.arg = m;
		m->snext = i;
		if ((r = imap_search_match(&ctx, &sm)) == -1)
			*fail_out = true;
		else if (r == 1)
			hits[n++] = (uint32_t)i;
	}
	imap_search_ctx_free(&ctx);
	*hits_out = hits;
	*n_out = n;
	return 0;
}

/* The end of SEARCH, SORT and THREAD: the answer in m->out, the
 * tagged completion. */
static void
search_done(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c, uint32_t *hits, bool fail)
{
	free(hits);
	msg_buffers_trim(m);
	out_flush(m, s);
	if (fail)
		imap_session_done(s, IMAP_NO, "[SERVERBUG] Some messages could "
		    "not be read");
	else
		imap_session_done(s, IMAP_OK, "%s completed", imap_cmd_label(c));
}

/*
 * The ESEARCH response (RFC 4731 §3.1) of SEARCH or SORT with RETURN,
 * and of every SEARCH after ENABLE IMAP4rev2, for the messages
 * idx[0..n) (indices in the answer's order: ascending for SEARCH, the
 * sort order for SORT, whose MIN and MAX are the first and last in that
 * order and ALL the numbers in it, RFC 5267 §3.2), with the options
 * ret.  SAVE keeps for "$" what imap_search_save() picks (RFC 5182
 * §2.4), as a set; nothing when the search failed.
 */
static void
search_esearch(struct imap_mbox *m, const struct imap_cmd *c,
    const uint32_t *idx, size_t n, bool fail, unsigned ret)
{
	uint32_t	*v, *save = NULL;
	size_t		 i, k = 0;

	v = xcalloc(n + 1, sizeof(*v));
	if (ret & IMAP_SRET_SAVE) {
		if (!fail) {
			for (i = 0; i < n; i++)
				v[i] = m->msgs[idx[i]].uid;
			save = xcalloc(n + 1, sizeof(*save));
			k = imap_search_save(ret, v, n, save);
			qsort(save, k, sizeof(*save), uid_cmp);
		}
		saved_set(m, save, k);
	}
	for (i = 0; i < n; i++)
		v[i] = c->uid ? m->msgs[idx[i]].uid : idx[i] + 1;
	if (imap_search_esearch(&m->out, c->tag, c->uid, ret, v, n) == -1)
		fatalx("imap_mbox: response too large");
	free(v);
}

/*
 * RFC 7162 §3.1.5: a search with MODSEQ gives the highest MODSEQ of the
 * messages found, "(MODSEQ n)" after "* SEARCH ...", "MODSEQ n" as the
 * last ESEARCH item; none when nothing matched.  m->out holds the
 * answer, ending in CRLF.
 */
static void
search_modseq(struct imap_mbox *m, const struct imap_search *se,
    const uint32_t *hits, size_t n, bool esearch)
{
	uint64_t	max = 0;
	size_t		i;

	if (!search_uses_modseq(se))
		return;
	for (i = 0; i < n; i++)
		if (m->msgs[hits[i]].modseq > max)
			max = m->msgs[hits[i]].modseq;
	if (max == 0 || m->out.len < 2)
		return;
	m->out.len -= 2;
	if (esearch)
		out_fmt(m, " MODSEQ %" PRIu64 "\r\n", max);
	else
		out_fmt(m, " (MODSEQ %" PRIu64 ")\r\n", max);
}

/*
 * SEARCH: "* SEARCH n ..." (RFC 3501 §7.2.5), or with RETURN the ESEARCH
 * response of RFC 4731 §3.1, which is also IMAP4rev2's only answer (RFC
 * 9051 §6.4.4: no RETURN is RETURN (ALL)).  SAVE keeps the UIDs for "$";
 * a SEARCH that fails leaves "$" empty.
 */
static void
cmd_search(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	const struct imap_search	*se = &c->search;
	uint32_t			*hits;
	size_t				 i, n;
	bool				 fail;

	if (search_run(m, s, c, &hits, &n, &fail) == -1)
		return;
	buf_reset(&m->out);
	if (se->esearch || m->rev2)
		search_esearch(m, c, hits, n, fail, se->esearch ? se->ret :
		    IMAP_SRET_ALL);
	else {
		out_str(m, "* SEARCH");
		for (i = 0; i < n; i++)
			out_fmt(m, " %" PRIu32, c->uid ? m->msgs[hits[i]].uid :
			    hits[i] + 1);
		out_str(m, "\r\n");
	}
	search_modseq(m, se, hits, n, se->esearch || m->rev2);
	search_done(m, s, c, hits, fail);
}

/*
 * SORT (RFC 5256 §3, RFC 5957): the matching messages' sort keys made
 * one message at a time (imap_sort keeps only what it compares), then
 * ordered; "* SORT" with sequence numbers, or UIDs for UID SORT, or
 * with RETURN the ESEARCH response of ESORT (RFC 5267 §3.2).
 */
static void
cmd_sort(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	struct imap_sort_keys	*keys;
	const struct mime_msg	*msg;
	uint32_t		*hits;
	size_t			 i, n, k;
	bool			 fail, need = imap_sort_needs_message(&c->sort);

	if (search_run(m, s, c, &hits, &n, &fail) == -1)
		return;
	keys = xcalloc(n + 1, sizeof(*keys));
	for (k = 0; k < n; k++) {
		i = hits[k];
		msg = need ? search_read(m, i, true, &fail) : NULL;
		imap_sort_keys_make(&c->sort, &keys[k], (uint32_t)(i + 1),
		    m->msgs[i].uid, m->msgs[i].size_crlf, m->msgs[i].mtime, msg);
	}
	imap_sort_run(&c->sort, keys, n);
	buf_reset(&m->out);
	if (!c->search.esearch)
		out_str(m, "* SORT");
	for (k = 0; k < n; k++) {
		/* hits becomes the sorted order */
		hits[k] = keys[k].seq - 1;
		if (!c->search.esearch)
			out_fmt(m, " %" PRIu32, c->uid ? keys[k].uid :
			    keys[k].seq);
		imap_sort_keys_free(&keys[k]);
	}
	if (c->search.esearch)
		search_esearch(m, c, hits, n, fail, c->search.ret);
	else
		out_str(m, "\r\n");
	free(keys);
	search_done(m, s, c, hits, fail);
}

/*
 * THREAD (RFC 5256 §3): ORDEREDSUBJECT or REFERENCES over the matching
 * messages, "* THREAD (1 2)(3)" with sequence numbers or UIDs.  A
 * message that cannot be read is threaded as one without headers.
 */
static void
cmd_thread(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	static const struct mime_msg	 empty;
	struct imap_thread_msg		*tm;
	const struct mime_msg		*msg;
	uint32_t			*hits;
	size_t				 i, n, k;
	bool				 fail;

	if (search_run(m, s, c, &hits, &n, &fail) == -1)
		return;
	tm = xcalloc(n + 1, sizeof(*tm));
	for (k = 0; k < n; k++) {
		i = hits[k];
		if ((msg = search_read(m, i, true, &fail)) == NULL)
			msg = &empty;
		imap_thread_msg_make(&tm[k], msg, c->uid ? m->msgs[i].uid :
		    (uint32_t)(i + 1), (uint32_t)(i + 1), m->msgs[i].mtime);
	}
	buf_reset(&m->out);
	/* thread-data = "THREAD" [SP 1*thread-list] (RFC 5256 §4) */
	out_str(m, n > 0 ? "* THREAD " : "* THREAD");
	if (imap_thread_run(c->sort.alg, tm, n, &m->out) == -1)
		fatalx("imap_mbox: response too large");
	out_str(m, "\r\n");
	for (k = 0; k < n; k++)
		imap_thread_msg_free(&tm[k]);
	free(tm);
	search_done(m, s, c, hits, fail);
}

/* --- the interface --- */

static void	command_run(struct imap_mbox *, struct imap_session *,
		    const struct imap_cmd *);

struct imap_mbox *
imap_mbox_new(const char *root, const char *sid)
{
	struct imap_mbox	*m;

	m = xcalloc(1, sizeof(*m));
	m->root = xstrdup(root);
	m->sid = sid;
	m->dirs.newfd = m->dirs.curfd = -1;
	m->quota = UINT64_MAX;
	buf_init(&m->out, SIZE_MAX);
	buf_init(&m->raw, IMAP_MBOX_MSG_MAX);
	buf_init(&m->claimed, SIZE_MAX);
	buf_init(&m->spec, 8192);
	buf_init(&m->part, SIZE_MAX);
	buf_init(&m->dec, SIZE_MAX);
	buf_init(&m->junk, SIZE_MAX);
	/* not imap_index_cache_init(): a string too large to keep is
	 * still served */
	buf_init(&m->cache.envelope, SIZE_MAX);
	buf_init(&m->cache.body, SIZE_MAX);
	buf_init(&m->cache.bodystructure, SIZE_MAX);
	return m;
}

void
imap_mbox_free(struct imap_mbox *m)
{
	if (m == NULL)
		return;
	msgs_free(m);
	maildir_kw_free(&m->kw);
	free(m->saved);
	free(m->sel_name);
	free(m->sel_path);
	maildir_dirs_close(&m->dirs);
	free(m->root);
	buf_free(&m->out);
	buf_free(&m->raw);
	free(m->claimed_path);
	buf_free(&m->claimed);
	mime_msg_free(&m->mime);
	buf_free(&m->spec);
	buf_free(&m->part);
	buf_free(&m->dec);
	buf_free(&m->junk);
	imap_index_cache_free(&m->cache);
	imap_index_close(m->idx);
	free(m->gone);
	free(m);
}

/* Does the command name a mailbox in mailbox (and RENAME mailbox2)? */
static bool
names_mailbox(const struct imap_cmd *c)
{
	switch (c->name) {
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE:
	case IMAP_CMD_CREATE:
	case IMAP_CMD_DELETE:
	case IMAP_CMD_RENAME:
	case IMAP_CMD_SUBSCRIBE:
	case IMAP_CMD_UNSUBSCRIBE:
	case IMAP_CMD_STATUS:
	case IMAP_CMD_APPEND:
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
	case IMAP_CMD_GETQUOTAROOT:
		return true;
	default:
		return false;
	}
}

/*
 * A UTF-8 name of a UTF8=ACCEPT session as kept (RFC 6855 §3: the
 * session speaks UTF-8, the disk keeps modified UTF-7, as Dovecot's
 * Maildir++ does); -1 for a name that is not valid UTF-8.
 */
static int
name_in(struct span name, struct buf *b, struct span *out)
{
	buf_init(b, name.len * 4 + 16);
	if (imap_mutf7_encode(name, b) == -1)
		return -1;
	*out = span_make(b->data != NULL ? b->data : "", b->len);
	return 0;
}

/*
 * Run a command whose names are as kept.  Under UTF8=ACCEPT they are
 * converted here, at the edge; otherwise a name CREATE or RENAME would
 * make must be modified UTF-7 (RFC 3501 §5.1.3), the only form kept.
 */
static void
command_names(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	struct imap_cmd	 cc;
	struct buf	 b1, b2;
	bool		 two = c->name == IMAP_CMD_RENAME;

	if (!m->utf8) {
		if ((c->name == IMAP_CMD_CREATE &&
		    !imap_mutf7_valid(c->mailbox)) || (two &&
		    !imap_mutf7_valid(c->mailbox2)))
			imap_session_done(s, IMAP_NO, "[CANNOT] Mailbox name "
			    "is not valid modified UTF-7");
		else
			command_run(m, s, c);
		return;
	}
	cc = *c;
	memset(&b2, 0, sizeof(b2));
	if (name_in(c->mailbox, &b1, &cc.mailbox) == -1 ||
	    (two && name_in(c->mailbox2, &b2, &cc.mailbox2) == -1))
		imap_session_done(s, IMAP_BAD, "Mailbox name is not valid "
		    "UTF-8");
	else
		command_run(m, s, &cc);
	buf_free(&b1);
	buf_free(&b2);
}

void
imap_mbox_command(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	condstore_implicit(m, s, c);
	m->rev2 = (imap_session_enabled(s) & IMAP_EXT_REV2) != 0;
	sync_before(m, s, c);
	/* RFC 6855 §3, and RFC 9051 §5.1: IMAP4rev2 names are UTF-8 too */
	m->utf8 = (imap_session_enabled(s) & (IMAP_EXT_UTF8 |
	    IMAP_EXT_REV2)) != 0;
	switch (c->name) {
	case IMAP_CMD_APPEND:
	case IMAP_CMD_COPY:
	case IMAP_CMD_EXPUNGE:
	case IMAP_CMD_CLOSE:
	case IMAP_CMD_DELETE:
		m->usage_changed = true;
		break;
	default:
		break;
	}
	if (names_mailbox(c))
		command_names(m, s, c);
	else
		command_run(m, s, c);
}

int
imap_mbox_junk_take(struct imap_mbox *m, char *folder_out, size_t foldersz,
    char *name_out, size_t namesz, bool *spam_out)
{
	const char	*p;

	while (m->junk_off < m->junk.len) {
		p = m->junk.data + m->junk_off;
		*spam_out = p[0] == 's';
		p++;
		m->junk_off += 1 + strlen(p) + 1;
		if (str_copy(folder_out, foldersz, p) == -1)
			continue;
		p += strlen(p) + 1;
		m->junk_off += strlen(p) + 1;
		if (str_copy(name_out, namesz, p) == 0)
			return 0;
	}
	buf_reset(&m->junk);
	m->junk_off = 0;
	m->njunk = 0;
	return -1;
}

bool
imap_mbox_usage_changed(struct imap_mbox *m, uint64_t *bytes_out)
{
	bool	changed = m->usage_changed;

	m->usage_changed = false;
	return changed && m->quota != UINT64_MAX &&
	    quota_usage(m, bytes_out) == 0;
}

static void
command_run(struct imap_mbox *m, struct imap_session *s,
    const struct imap_cmd *c)
{
	switch (c->name) {
	case IMAP_CMD_NOOP:
	case IMAP_CMD_CHECK:
		imap_mbox_poll(m, s);
		imap_session_done(s, IMAP_OK, "%s completed", imap_cmd_label(c));
		break;
	case IMAP_CMD_SELECT:
	case IMAP_CMD_EXAMINE:
		cmd_select(m, s, c, c->name == IMAP_CMD_EXAMINE);
		break;
	case IMAP_CMD_CREATE:
		cmd_create(m, s, c);
		break;
	case IMAP_CMD_DELETE:
		cmd_delete(m, s, c);
		break;
	case IMAP_CMD_RENAME:
		cmd_rename(m, s, c);
		break;
	case IMAP_CMD_SUBSCRIBE:
	case IMAP_CMD_UNSUBSCRIBE:
		cmd_subscribe(m, s, c, c->name == IMAP_CMD_SUBSCRIBE);
		break;
	case IMAP_CMD_LIST:
	case IMAP_CMD_LSUB:
		cmd_list(m, s, c, c->name == IMAP_CMD_LSUB);
		break;
	case IMAP_CMD_STATUS:
		cmd_status(m, s, c);
		break;
	case IMAP_CMD_APPEND:
		cmd_append(m, s, c);
		break;
	case IMAP_CMD_CLOSE:
		/* RFC 9051 §6.4.1: expunge silently, unless read-only */
		if (!m->readonly)
			(void)expunge(m, s, NULL, true);
		deselect(m, s);
		imap_session_done(s, IMAP_OK, "CLOSE completed");
		break;
	case IMAP_CMD_UNSELECT:
		deselect(m, s);
		imap_session_done(s, IMAP_OK, "UNSELECT completed");
		break;
	case IMAP_CMD_EXPUNGE:
		cmd_expunge(m, s, c);
		break;
	case IMAP_CMD_SEARCH:
		cmd_search(m, s, c);
		break;
	case IMAP_CMD_SORT:
		cmd_sort(m, s, c);
		break;
	case IMAP_CMD_THREAD:
		cmd_thread(m, s, c);
		break;
	case IMAP_CMD_FETCH:
		cmd_fetch(m, s, c);
		break;
	case IMAP_CMD_STORE:
		cmd_store(m, s, c);
		break;
	case IMAP_CMD_COPY:
	case IMAP_CMD_MOVE:
		cmd_copy(m, s, c, c->name == IMAP_CMD_MOVE);
		break;
	case IMAP_CMD_GETQUOTA:
	case IMAP_CMD_GETQUOTAROOT:
	case IMAP_CMD_SETQUOTA:
		cmd_quota(m, s, c);
		break;
	default:
		imap_session_done(s, IMAP_BAD, "Command not supported");
		break;
	}
}
