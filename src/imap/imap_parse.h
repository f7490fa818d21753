/*
 * imap_parse: the IMAP command grammar (RFC 3501 §9, RFC 9051 §9, with
 * the literals of RFC 7888, SEARCHRES's "$" of RFC 5182 and the UID
 * forms of RFC 4315 and RFC 6851).  Two pure pieces, run by the imap
 * role inside imap_session and driven directly by unit tests and
 * libFuzzer:
 *
 * - the reader cuts the byte stream into whole commands: a line, and
 *   when it ends in a literal "{n}" (synchronising: the server answers
 *   "+ " first) or "{n+}" (non-synchronising), the n octets and the next
 *   line, until a line without one.  Every line, literal and command is
 *   bounded before it is stored; an error names the tag it belongs to.
 * - the parser turns one whole command into a struct imap_cmd: tag,
 *   command, and its arguments already decoded (quoted strings
 *   unescaped, literals taken, sequence sets, flags, fetch items, search
 *   keys, dates) or a precise reason for a tagged BAD.
 *
 * Nothing here trusts the bytes: counts, nesting and lengths have the
 * limits below, and numbers are checked for overflow.
 */
#ifndef CACHET_IMAP_PARSE_H
#define CACHET_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_sort.h"

/* One line of a command, CRLF included (RFC 9051 §4: no limit is set;
 * RFC 7162 §4 asks for at least 8192 octets). */
#define IMAP_LINE_MAX		16384
/* A whole command with its literals, the APPEND message aside. */
#define IMAP_COMMAND_MAX	(64 * 1024)
/* A literal in any command but APPEND (a password, a mailbox name). */
#define IMAP_LITERAL_MAX	8192
/* LITERAL- (RFC 7888 §5): larger non-synchronising literals refused. */
#define IMAP_LITERAL_MINUS_MAX	4096
/* Literals in one command (so also messages of one MULTIAPPEND). */
#define IMAP_LITERALS_MAX	16
#define IMAP_TAG_MAX		64	/* longer tags are refused */
#define IMAP_MAILBOX_MAX	512	/* a mailbox name, octets */
#define IMAP_DEPTH_MAX		8	/* nested parenthesised lists */
#define IMAP_SEQ_RANGES_MAX	4096	/* ranges in one sequence set */
#define IMAP_KEYWORDS_MAX	64	/* keywords in one flag list */
#define IMAP_FETCH_SECTIONS_MAX	32	/* BODY[...] items in one FETCH */
#define IMAP_FIELDS_MAX		64	/* names in HEADER.FIELDS */
#define IMAP_PART_DEPTH		16	/* section-part numbers */
#define IMAP_SEARCH_NODES_MAX	256	/* keys in one SEARCH */
#define IMAP_ENABLE_MAX		16	/* capabilities in one ENABLE */
#define IMAP_ID_PAIRS_MAX	30	/* RFC 2971 §3.3 */
#define IMAP_NUMBER_DIGITS	20
#define IMAP_LIST_PATTERNS_MAX	16	/* LIST "" (p1 p2 ...), RFC 5258 */
#define IMAP_CREATE_USE_MAX	8	/* CREATE (USE (...)), RFC 6154 */
/* Messages of one APPEND (MULTIAPPEND, RFC 3502): each is a literal. */
#define IMAP_APPEND_MSGS_MAX	IMAP_LITERALS_MAX
/*
 * The literals of one APPEND together: each message is at most
 * APPENDLIMIT (RFC 7889), all of them at most this or APPENDLIMIT,
 * whichever is larger (the command is held in memory until stored).
 */
#define IMAP_APPEND_TOTAL_MAX	((uint64_t)64 * 1024 * 1024)

/* --- the reader --- */

enum imap_read {
	IMAP_READ_MORE,		/* every byte taken; feed more */
	IMAP_READ_COMMAND,	/* imap_reader_data() is a whole command */
	IMAP_READ_LINE,		/* line mode: one line, without its CRLF */
	IMAP_READ_CONTINUE,	/* send "+ " for a synchronising literal */
	IMAP_READ_REFUSE,	/* send "tag BAD/NO ..." and go on */
	IMAP_READ_CLOSE,	/* send "* BYE ..." and close */
};

struct imap_reader {
	struct buf	 cmd;		/* the command so far, as on the wire */
	uint64_t	 appendlimit;	/* an APPEND literal (RFC 7889) */
	size_t		 piece;		/* where the current line starts */
	uint64_t	 lit_left;	/* literal octets still to come */
	size_t		 nlit;
	bool		 in_literal;
	bool		 discarding;	/* skipping an overlong line */
	bool		 line_mode;	/* SASL responses, IDLE's DONE */
	bool		 done;		/* a result is out; reset next */
	bool		 refuse_no;	/* the refusal is NO, not BAD */
	const char	*error;		/* the text of a refusal */
	char		 tag[IMAP_TAG_MAX + 1];	/* "*" when unknown */
};

void	imap_reader_init(struct imap_reader *, uint64_t appendlimit);
void	imap_reader_free(struct imap_reader *);
/*
 * Line mode reads single lines (the answer to an AUTHENTICATE "+ ",
 * IDLE's "DONE"); otherwise whole commands.  Set between results.
 */
void	imap_reader_line_mode(struct imap_reader *, bool);
/*
 * Take bytes from p; *used_out says how many (the rest is fed again
 * later).  After COMMAND, LINE, CONTINUE, REFUSE or CLOSE, the next call
 * goes on from there (a command's bytes stay valid until then).
 */
enum imap_read	imap_reader_input(struct imap_reader *, const char *p,
		    size_t len, size_t *used_out);
/* The command (wire form, literals inline) or the line. */
struct span	imap_reader_data(const struct imap_reader *);
/* After REFUSE or CLOSE: the tag ("*" when unknown) and the text, with
 * its response code, and whether the answer is NO rather than BAD. */
const char	*imap_reader_tag(const struct imap_reader *);
const char	*imap_reader_error(const struct imap_reader *);
bool		 imap_reader_refuse_no(const struct imap_reader *);

/* --- the parser --- */

enum imap_cmd_name {
	IMAP_CMD_NONE,
	IMAP_CMD_CAPABILITY,
	IMAP_CMD_NOOP,
	IMAP_CMD_LOGOUT,
	IMAP_CMD_STARTTLS,
	IMAP_CMD_AUTHENTICATE,
	IMAP_CMD_LOGIN,
	IMAP_CMD_ENABLE,
	IMAP_CMD_ID,
	IMAP_CMD_NAMESPACE,
	IMAP_CMD_SELECT,
	IMAP_CMD_EXAMINE,
	IMAP_CMD_CREATE,
	IMAP_CMD_DELETE,
	IMAP_CMD_RENAME,
	IMAP_CMD_SUBSCRIBE,
	IMAP_CMD_UNSUBSCRIBE,
	IMAP_CMD_LIST,
	IMAP_CMD_LSUB,
	IMAP_CMD_STATUS,
	IMAP_CMD_APPEND,
	IMAP_CMD_IDLE,
	IMAP_CMD_CHECK,
	IMAP_CMD_CLOSE,
	IMAP_CMD_UNSELECT,
	IMAP_CMD_EXPUNGE,
	IMAP_CMD_SEARCH,
	IMAP_CMD_FETCH,
	IMAP_CMD_STORE,
	IMAP_CMD_COPY,
	IMAP_CMD_MOVE,
	IMAP_CMD_SORT,		/* RFC 5256 §3, RFC 5957 */
	IMAP_CMD_THREAD,
	IMAP_CMD_GETQUOTA,	/* RFC 9208 */
	IMAP_CMD_GETQUOTAROOT,
	IMAP_CMD_SETQUOTA,
};

/* A sequence set; IMAP_SEQ_STAR stands for "*" (RFC 9051 §9 seq-number). */
#define IMAP_SEQ_STAR	0
struct imap_range {
	uint32_t	lo, hi;		/* as given: lo may exceed hi */
};
struct imap_seqset {
	struct imap_range *r;
	size_t		 n;
	bool		 last;		/* "$": the saved result, RFC 5182 */
};

/* System flags (RFC 9051 §2.3.2); \Recent cannot be stored. */
#define IMAP_FLAG_SEEN		0x01
#define IMAP_FLAG_ANSWERED	0x02
#define IMAP_FLAG_FLAGGED	0x04
#define IMAP_FLAG_DELETED	0x08
#define IMAP_FLAG_DRAFT		0x10
#define IMAP_FLAG_RECENT	0x20	/* in SEARCH only */
struct imap_flags {
	unsigned	 sys;		/* IMAP_FLAG_* */
	struct span	*kw;		/* keywords (atoms), as given */
	size_t		 nkw;
};

/* FETCH items without a section. */
#define IMAP_FETCH_FLAGS	0x001
#define IMAP_FETCH_UID		0x002
#define IMAP_FETCH_INTERNALDATE	0x004
#define IMAP_FETCH_SIZE		0x008	/* RFC822.SIZE */
#define IMAP_FETCH_ENVELOPE	0x010
#define IMAP_FETCH_BODY		0x020	/* BODY, no section */
#define IMAP_FETCH_BODYSTRUCTURE 0x040
#define IMAP_FETCH_MODSEQ	0x080	/* RFC 7162 §3.1.4 */
#define IMAP_FETCH_EMAILID	0x1000	/* RFC 8474 §5.1 */
#define IMAP_FETCH_THREADID	0x2000	/* RFC 8474 §5.2 */

enum imap_sec_kind {
	IMAP_SEC_BODY,		/* BODY[...] and BODY.PEEK[...] */
	IMAP_SEC_BINARY,	/* BINARY[...], BINARY.PEEK (RFC 3516) */
	IMAP_SEC_BINARY_SIZE,	/* BINARY.SIZE[...] */
	IMAP_SEC_RFC822,	/* RFC822: BODY[], named so */
	IMAP_SEC_RFC822_HEADER,	/* BODY.PEEK[HEADER], named so */
	IMAP_SEC_RFC822_TEXT,	/* BODY[TEXT], named so */
};
enum imap_sec_text {
	IMAP_SECT_NONE,		/* the whole part */
	IMAP_SECT_HEADER,
	IMAP_SECT_HEADER_FIELDS,
	IMAP_SECT_HEADER_FIELDS_NOT,
	IMAP_SECT_TEXT,
	IMAP_SECT_MIME,		/* only after a part number */
};
struct imap_fetch_section {
	enum imap_sec_kind kind;
	bool		 peek;
	uint32_t	 part[IMAP_PART_DEPTH];
	size_t		 nparts;
	enum imap_sec_text text;
	struct span	*fields;	/* HEADER.FIELDS names */
	size_t		 nfields;
	bool		 partial;	/* <offset.count> */
	uint64_t	 offset, count;
};
struct imap_fetch {
	unsigned	 atts;		/* IMAP_FETCH_* */
	struct imap_fetch_section *sec;
	size_t		 nsec;
};

enum imap_store_op {
	IMAP_STORE_SET,		/* FLAGS */
	IMAP_STORE_ADD,		/* +FLAGS */
	IMAP_STORE_REMOVE,	/* -FLAGS */
};

/* STATUS items (RFC 9051 §6.3.11, RFC 8438 SIZE, RFC 7162). */
#define IMAP_STATUS_MESSAGES	0x01
#define IMAP_STATUS_RECENT	0x02
#define IMAP_STATUS_UIDNEXT	0x04
#define IMAP_STATUS_UIDVALIDITY	0x08
#define IMAP_STATUS_UNSEEN	0x10
#define IMAP_STATUS_SIZE	0x20
#define IMAP_STATUS_DELETED	0x40
#define IMAP_STATUS_HIGHESTMODSEQ 0x80
#define IMAP_STATUS_APPENDLIMIT	0x100	/* RFC 7889 §4 */
#define IMAP_STATUS_DELETED_STORAGE 0x200 /* RFC 9208 §4.3 */
#define IMAP_STATUS_MAILBOXID	0x400	/* RFC 8474 §4 */

/* SEARCH keys (RFC 9051 §6.4.4, RFC 3501 §6.4.4). */
enum imap_skey {
	IMAP_SK_AND,		/* children: every one */
	IMAP_SK_OR,		/* children: two */
	IMAP_SK_NOT,		/* child: one */
	IMAP_SK_ALL,
	IMAP_SK_FLAG,		/* flag set: flag (ANSWERED, SEEN, ...) */
	IMAP_SK_UNFLAG,		/* flag clear: UNANSWERED, UNSEEN, ... */
	IMAP_SK_NEW,		/* RECENT UNSEEN */
	IMAP_SK_OLD,		/* NOT RECENT */
	IMAP_SK_KEYWORD,	/* str */
	IMAP_SK_UNKEYWORD,	/* str */
	IMAP_SK_SEQ,		/* seq */
	IMAP_SK_UID,		/* seq */
	IMAP_SK_LARGER,		/* num */
	IMAP_SK_SMALLER,	/* num */
	IMAP_SK_BEFORE,		/* date: internal date, RFC 9051 §6.4.4 */
	IMAP_SK_ON,
	IMAP_SK_SINCE,
	IMAP_SK_SENTBEFORE,	/* date: the Date: header */
	IMAP_SK_SENTON,
	IMAP_SK_SENTSINCE,
	IMAP_SK_HEADER,		/* str (field), str2 (text) */
	IMAP_SK_BCC,		/* str: text keys */
	IMAP_SK_BODY,
	IMAP_SK_CC,
	IMAP_SK_FROM,
	IMAP_SK_SUBJECT,
	IMAP_SK_TEXT,
	IMAP_SK_TO,
	IMAP_SK_MODSEQ,		/* num (RFC 7162 §3.1.5) */
	IMAP_SK_EMAILID,	/* str (RFC 8474 §6) */
	IMAP_SK_THREADID,	/* str */
};
struct imap_search_node {
	enum imap_skey	 key;
	unsigned	 flag;		/* IMAP_FLAG_* */
	struct span	 str, str2;
	uint64_t	 num;
	int64_t		 date;		/* days since 1970-01-01 */
	struct imap_seqset seq;
	uint16_t	 child;		/* first child, 0: none (root is 0) */
	uint16_t	 next;		/* next sibling, 0: none */
};
/* ESEARCH RETURN options (RFC 4731, RFC 5182). */
#define IMAP_SRET_MIN		0x01
#define IMAP_SRET_MAX		0x02
#define IMAP_SRET_ALL		0x04
#define IMAP_SRET_COUNT		0x08
#define IMAP_SRET_SAVE		0x10
struct imap_search {
	struct imap_search_node *node;	/* node[0] is the root AND */
	size_t		 nnode;
	bool		 esearch;	/* RETURN given */
	unsigned	 ret;		/* IMAP_SRET_* */
	struct span	 charset;	/* empty: none given */
};

/* LIST-EXTENDED selection options (RFC 5258 §3.1, RFC 6154 §5.1). */
#define IMAP_LIST_SEL_SUBSCRIBED	0x01
#define IMAP_LIST_SEL_REMOTE		0x02
#define IMAP_LIST_SEL_RECURSIVEMATCH	0x04
#define IMAP_LIST_SEL_SPECIALUSE	0x08
/* LIST return options (RFC 5258 §3.2, RFC 5819, RFC 6154 §5.2). */
#define IMAP_LIST_RET_SUBSCRIBED	0x01
#define IMAP_LIST_RET_CHILDREN		0x02
#define IMAP_LIST_RET_SPECIALUSE	0x04
#define IMAP_LIST_RET_STATUS		0x08	/* items in cmd->status */

/* One message of an APPEND (RFC 3502 append-message). */
struct imap_append_msg {
	struct imap_flags flags;
	bool		 has_flags;
	bool		 has_date;
	int64_t		 date;
	bool		 utf8;		/* UTF8 (~{n}...), RFC 6855 §4 */
	struct span	 literal;
};

struct imap_cmd {
	struct span	 tag;
	enum imap_cmd_name name;
	bool		 uid;		/* the UID form */

	/* mailbox: SELECT ... APPEND, COPY/MOVE target; mailbox2: RENAME
	 * target, LIST pattern */
	struct span	 mailbox, mailbox2;
	/* LOGIN user and password; AUTHENTICATE mechanism and the
	 * initial response (RFC 4959), "=" for an empty one */
	struct span	 user, pass;
	bool		 has_ir;

	struct imap_seqset seq;		/* FETCH, STORE, COPY, MOVE, UID
					 * EXPUNGE */
	struct imap_fetch fetch;
	enum imap_store_op store_op;
	bool		 silent;	/* .SILENT */
	struct imap_flags flags;	/* STORE, APPEND */
	bool		 has_flags;	/* APPEND gave a flag list */
	bool		 has_date;	/* APPEND date-time */
	int64_t		 date;		/* seconds since the epoch, UTC */
	struct span	 literal;	/* APPEND message */
	unsigned	 status;	/* IMAP_STATUS_* */
	struct imap_search search;	/* SEARCH, and SORT's and THREAD's
					 * keys (charset: the sort's) */
	struct imap_sort_args sort;	/* SORT criteria, THREAD algorithm */
	struct span	 enable[IMAP_ENABLE_MAX];
	size_t		 nenable;
	bool		 condstore;	/* SELECT/EXAMINE (CONDSTORE) */
	/* RFC 7162: SELECT/EXAMINE (QRESYNC (uidvalidity modseq
	 * [known-uids] [(known-seqs known-uids)])) */
	bool		 qresync;
	uint32_t	 qr_uidvalidity;
	uint64_t	 qr_modseq;
	struct imap_seqset qr_known;	/* empty: not given */
	struct imap_seqset qr_seqs, qr_uids;	/* seq-match-data */
	/* FETCH (CHANGEDSINCE n [VANISHED]), STORE (UNCHANGEDSINCE n) */
	bool		 has_changedsince, vanished, has_unchangedsince;
	uint64_t	 changedsince, unchangedsince;
	size_t		 nid;		/* ID pairs given */

	/*
	 * LIST-EXTENDED (RFC 5258): the extended form was used; its
	 * options; every pattern (the first is also mailbox2).  RETURN
	 * (STATUS (...)) puts its items in status (RFC 5819).
	 */
	bool		 list_ext;
	unsigned	 list_sel, list_ret;	/* IMAP_LIST_SEL_*, _RET_* */
	struct span	 list_pat[IMAP_LIST_PATTERNS_MAX];
	size_t		 nlist_pat;
	/* CREATE's USE (...) attributes as given (RFC 6154 §3) */
	struct span	 use[IMAP_CREATE_USE_MAX];
	size_t		 nuse;
	/*
	 * APPEND: every message (MULTIAPPEND, RFC 3502); the first one is
	 * also in flags, has_flags, has_date, date and literal.
	 */
	struct imap_append_msg *app;
	size_t		 napp;

	struct buf	 arena;		/* unescaped strings */
};

/*
 * Parse one whole command (as the reader gives it, CRLF and literals
 * inline).  0, or -1 with *err_out the text for a tagged BAD (the tag
 * is in cmd->tag when it could be read, empty otherwise).  Spans point
 * into p or into cmd->arena.  Free with imap_cmd_free() either way.
 */
int	imap_parse_command(const char *p, size_t len, struct imap_cmd *cmd,
	    const char **err_out);
void	imap_cmd_free(struct imap_cmd *);

/* The command's name as the RFC spells it ("UID FETCH" for the UID
 * form), for logs. */
const char	*imap_cmd_label(const struct imap_cmd *);

/* Is n in the set, with * meaning max (RFC 9051 §9 seq-range: order
 * does not matter)?  Not for "$". */
bool	imap_seqset_contains(const struct imap_seqset *, uint32_t n,
	    uint32_t max);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t	imap_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
