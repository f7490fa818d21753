/*
 * Unit tests for imap_parse: the reader (commands with synchronising and
 * non-synchronising literals, split anywhere, and every limit) and the
 * grammar (each command's arguments decoded, and each error named).
 * Table-driven where the case is a line in and a verdict out.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "imap_parse.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define APPENDLIMIT	100000

static bool
span_is(struct span s, const char *want)
{
	return s.len == strlen(want) && (s.len == 0 ||
	    memcmp(s.ptr, want, s.len) == 0);
}

/* --- grammar: accepted commands --- */

static void
parse_ok(const char *line, struct imap_cmd *c)
{
	const char	*err = NULL;
	int		 rc;

	rc = imap_parse_command(line, strlen(line), c, &err);
	if (rc != 0)
		fail_msg("%s: %s", line, err);
}

static void
test_simple_commands(void **state)
{
	static const struct {
		const char		*line;
		enum imap_cmd_name	 name;
	} t[] = {
		{ "a CAPABILITY\r\n", IMAP_CMD_CAPABILITY },
		{ "a1 noop\r\n", IMAP_CMD_NOOP },
		{ "x.y LOGOUT\r\n", IMAP_CMD_LOGOUT },
		{ "A STARTTLS\r\n", IMAP_CMD_STARTTLS },
		{ "A NAMESPACE\r\n", IMAP_CMD_NAMESPACE },
		{ "A IDLE\r\n", IMAP_CMD_IDLE },
		{ "A CHECK\r\n", IMAP_CMD_CHECK },
		{ "A close\r\n", IMAP_CMD_CLOSE },
		{ "A UNSELECT\r\n", IMAP_CMD_UNSELECT },
		{ "A EXPUNGE\r\n", IMAP_CMD_EXPUNGE },
		{ "]tag] NOOP\r\n", IMAP_CMD_NOOP },
	};
	struct imap_cmd	c;
	size_t		i;

	for (i = 0; i < NELEM(t); i++) {
		parse_ok(t[i].line, &c);
		assert_int_equal(c.name, t[i].name);
		assert_false(c.uid);
		imap_cmd_free(&c);
	}
}

static void
test_login_strings(void **state)
{
	struct imap_cmd	c;

	parse_ok("a LOGIN alice@example.org \"pass with \\\"q\\\" \\\\\"\r\n",
	    &c);
	assert_int_equal(c.name, IMAP_CMD_LOGIN);
	assert_true(span_is(c.tag, "a"));
	assert_true(span_is(c.user, "alice@example.org"));
	assert_true(span_is(c.pass, "pass with \"q\" \\"));
	imap_cmd_free(&c);

	/* a literal holds anything but NUL, CRLF included */
	parse_ok("b LOGIN {5}\r\nbob\r\n {3+}\r\na b\r\n", &c);
	assert_true(span_is(c.user, "bob\r\n"));
	assert_true(span_is(c.pass, "a b"));
	imap_cmd_free(&c);

	/* UTF-8 in a quoted string (RFC 6855) */
	parse_ok("c LOGIN \"j\xc3\xb6rg\" \"\"\r\n", &c);
	assert_true(span_is(c.user, "j\xc3\xb6rg"));
	assert_int_equal(c.pass.len, 0);
	imap_cmd_free(&c);
}

static void
test_authenticate(void **state)
{
	struct imap_cmd	c;

	parse_ok("a AUTHENTICATE PLAIN\r\n", &c);
	assert_true(span_is(c.user, "PLAIN"));
	assert_false(c.has_ir);
	imap_cmd_free(&c);
	parse_ok("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n", &c);
	assert_true(c.has_ir);
	assert_true(span_is(c.pass, "AGFsaWNlAHNlY3JldA=="));
	imap_cmd_free(&c);
	parse_ok("a AUTHENTICATE SCRAM-SHA-256 =\r\n", &c);
	assert_true(span_is(c.user, "SCRAM-SHA-256"));
	assert_true(span_is(c.pass, "="));
	imap_cmd_free(&c);
}

static void
test_seqsets(void **state)
{
	struct imap_cmd	c;

	parse_ok("a FETCH 1:3,5,7:*,*:9 FLAGS\r\n", &c);
	assert_int_equal(c.seq.n, 4);
	assert_int_equal(c.seq.r[0].lo, 1);
	assert_int_equal(c.seq.r[0].hi, 3);
	assert_int_equal(c.seq.r[1].lo, 5);
	assert_int_equal(c.seq.r[1].hi, 5);
	assert_int_equal(c.seq.r[2].hi, IMAP_SEQ_STAR);
	assert_int_equal(c.seq.r[3].lo, IMAP_SEQ_STAR);
	assert_true(imap_seqset_contains(&c.seq, 2, 10));
	assert_false(imap_seqset_contains(&c.seq, 4, 10));
	assert_true(imap_seqset_contains(&c.seq, 100, 100));
	/* *:9 is 9:* (RFC 9051 §9 seq-range) */
	assert_true(imap_seqset_contains(&c.seq, 9, 8));
	assert_false(imap_seqset_contains(&c.seq, 6, 10));
	/* 7:* with 6 messages is 6:7 */
	assert_true(imap_seqset_contains(&c.seq, 6, 6));
	imap_cmd_free(&c);

	parse_ok("a UID FETCH $ (UID)\r\n", &c);
	assert_true(c.uid);
	assert_true(c.seq.last);
	assert_int_equal(c.seq.n, 0);
	imap_cmd_free(&c);
}

static void
test_fetch_items(void **state)
{
	struct imap_cmd			 c;
	struct imap_fetch_section	*s;

	parse_ok("a FETCH 1 ALL\r\n", &c);
	assert_int_equal(c.fetch.atts, IMAP_FETCH_FLAGS |
	    IMAP_FETCH_INTERNALDATE | IMAP_FETCH_SIZE | IMAP_FETCH_ENVELOPE);
	imap_cmd_free(&c);

	parse_ok("a UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[] "
	    "BODY[HEADER.FIELDS (From \"To\")]<0.100> BODY[1.2.MIME] "
	    "RFC822.HEADER BINARY.PEEK[1]<5.6> BODY)\r\n", &c);
	assert_int_equal(c.fetch.atts, IMAP_FETCH_UID | IMAP_FETCH_FLAGS |
	    IMAP_FETCH_SIZE | IMAP_FETCH_BODY);
	assert_int_equal(c.fetch.nsec, 5);
	s = &c.fetch.sec[0];
	assert_int_equal(s->kind, IMAP_SEC_BODY);
	assert_true(s->peek);
	assert_int_equal(s->text, IMAP_SECT_NONE);
	assert_int_equal(s->nparts, 0);
	s = &c.fetch.sec[1];
	assert_false(s->peek);
	assert_int_equal(s->text, IMAP_SECT_HEADER_FIELDS);
	assert_int_equal(s->nfields, 2);
	assert_true(span_is(s->fields[0], "From"));
	assert_true(span_is(s->fields[1], "To"));
	assert_true(s->partial);
	assert_int_equal(s->offset, 0);
	assert_int_equal(s->count, 100);
	s = &c.fetch.sec[2];
	assert_int_equal(s->nparts, 2);
	assert_int_equal(s->part[0], 1);
	assert_int_equal(s->part[1], 2);
	assert_int_equal(s->text, IMAP_SECT_MIME);
	s = &c.fetch.sec[3];
	assert_int_equal(s->kind, IMAP_SEC_RFC822_HEADER);
	assert_true(s->peek);
	assert_int_equal(s->text, IMAP_SECT_HEADER);
	s = &c.fetch.sec[4];
	assert_int_equal(s->kind, IMAP_SEC_BINARY);
	assert_true(s->peek);
	assert_int_equal(s->offset, 5);
	assert_int_equal(s->count, 6);
	imap_cmd_free(&c);
}

static void
test_store_flags(void **state)
{
	struct imap_cmd	c;

	parse_ok("a STORE 2 +FLAGS.SILENT (\\Seen \\deleted $Label1 "
	    "$label1)\r\n", &c);
	assert_int_equal(c.store_op, IMAP_STORE_ADD);
	assert_true(c.silent);
	assert_int_equal(c.flags.sys, IMAP_FLAG_SEEN | IMAP_FLAG_DELETED);
	/* keywords compare without case: one */
	assert_int_equal(c.flags.nkw, 1);
	assert_true(span_is(c.flags.kw[0], "$Label1"));
	imap_cmd_free(&c);

	parse_ok("a UID STORE 1:2 -FLAGS \\Flagged \\Draft\r\n", &c);
	assert_int_equal(c.store_op, IMAP_STORE_REMOVE);
	assert_false(c.silent);
	assert_int_equal(c.flags.sys, IMAP_FLAG_FLAGGED | IMAP_FLAG_DRAFT);
	imap_cmd_free(&c);

	parse_ok("a STORE 1 FLAGS ()\r\n", &c);
	assert_int_equal(c.store_op, IMAP_STORE_SET);
	assert_int_equal(c.flags.sys, 0);
	imap_cmd_free(&c);
}

static void
test_append(void **state)
{
	struct imap_cmd	c;

	parse_ok("a APPEND Sent (\\Seen) \" 1-Feb-2024 10:20:30 +0100\" "
	    "{12}\r\nSubject: x\r\n\r\n", &c);
	assert_int_equal(c.name, IMAP_CMD_APPEND);
	assert_true(span_is(c.mailbox, "Sent"));
	assert_true(c.has_flags);
	assert_int_equal(c.flags.sys, IMAP_FLAG_SEEN);
	assert_true(c.has_date);
	/* 2024-02-01 09:20:30 UTC */
	assert_int_equal(c.date, 1706779230);
	assert_true(span_is(c.literal, "Subject: x\r\n"));
	imap_cmd_free(&c);

	parse_ok("a APPEND INBOX {0}\r\n\r\n", &c);
	assert_false(c.has_flags);
	assert_false(c.has_date);
	assert_int_equal(c.literal.len, 0);
	imap_cmd_free(&c);
}

static void
test_mailbox_commands(void **state)
{
	struct imap_cmd	c;

	parse_ok("a RENAME \"Old Name\" New.Sub\r\n", &c);
	assert_true(span_is(c.mailbox, "Old Name"));
	assert_true(span_is(c.mailbox2, "New.Sub"));
	imap_cmd_free(&c);
	parse_ok("a LIST \"\" *\r\n", &c);
	assert_int_equal(c.mailbox.len, 0);
	assert_true(span_is(c.mailbox2, "*"));
	imap_cmd_free(&c);
	parse_ok("a LSUB \"\" Sent.%\r\n", &c);
	assert_true(span_is(c.mailbox2, "Sent.%"));
	imap_cmd_free(&c);
	parse_ok("a STATUS INBOX (MESSAGES UIDNEXT UNSEEN SIZE)\r\n", &c);
	assert_int_equal(c.status, IMAP_STATUS_MESSAGES |
	    IMAP_STATUS_UIDNEXT | IMAP_STATUS_UNSEEN | IMAP_STATUS_SIZE);
	imap_cmd_free(&c);
	parse_ok("a SELECT INBOX (CONDSTORE)\r\n", &c);
	assert_true(c.condstore);
	imap_cmd_free(&c);
	parse_ok("a UID MOVE 1:5 Trash\r\n", &c);
	assert_int_equal(c.name, IMAP_CMD_MOVE);
	assert_true(c.uid);
	assert_true(span_is(c.mailbox, "Trash"));
	imap_cmd_free(&c);
	parse_ok("a UID EXPUNGE 3:4\r\n", &c);
	assert_int_equal(c.seq.n, 1);
	imap_cmd_free(&c);
	parse_ok("a ENABLE IMAP4rev2 UTF8=ACCEPT\r\n", &c);
	assert_int_equal(c.nenable, 2);
	assert_true(span_is(c.enable[1], "UTF8=ACCEPT"));
	imap_cmd_free(&c);
	parse_ok("a ID (\"name\" \"mutt\" \"version\" NIL)\r\n", &c);
	assert_int_equal(c.nid, 2);
	imap_cmd_free(&c);
	parse_ok("a ID NIL\r\n", &c);
	assert_int_equal(c.nid, 0);
	imap_cmd_free(&c);
}

/* LIST-EXTENDED (RFC 5258 §6), LIST-STATUS (RFC 5819 §4) */
static void
test_list_extended(void **state)
{
	struct imap_cmd	c;

	parse_ok("a LIST \"\" *\r\n", &c);
	assert_false(c.list_ext);
	assert_int_equal(c.nlist_pat, 1);
	imap_cmd_free(&c);
	parse_ok("a LIST (SUBSCRIBED RECURSIVEMATCH remote) \"a.\" (% \"b*\" "
	    "{1}\r\nc) RETURN (CHILDREN STATUS (MESSAGES SIZE) "
	    "special-use SUBSCRIBED)\r\n", &c);
	assert_true(c.list_ext);
	assert_int_equal(c.list_sel, IMAP_LIST_SEL_SUBSCRIBED |
	    IMAP_LIST_SEL_RECURSIVEMATCH | IMAP_LIST_SEL_REMOTE);
	assert_int_equal(c.list_ret, IMAP_LIST_RET_CHILDREN |
	    IMAP_LIST_RET_STATUS | IMAP_LIST_RET_SPECIALUSE |
	    IMAP_LIST_RET_SUBSCRIBED);
	assert_int_equal(c.status, IMAP_STATUS_MESSAGES | IMAP_STATUS_SIZE);
	assert_true(span_is(c.mailbox, "a."));
	assert_int_equal(c.nlist_pat, 3);
	assert_true(span_is(c.list_pat[0], "%"));
	assert_true(span_is(c.list_pat[1], "b*"));
	assert_true(span_is(c.list_pat[2], "c"));
	assert_true(span_is(c.mailbox2, "%"));
	imap_cmd_free(&c);
	parse_ok("a LIST () \"\" \"\" RETURN ()\r\n", &c);
	assert_true(c.list_ext);
	assert_int_equal(c.list_sel | c.list_ret, 0);
	imap_cmd_free(&c);
	parse_ok("a STATUS x (APPENDLIMIT DELETED DELETED-STORAGE)\r\n", &c);
	assert_int_equal(c.status, IMAP_STATUS_APPENDLIMIT |
	    IMAP_STATUS_DELETED | IMAP_STATUS_DELETED_STORAGE);
	imap_cmd_free(&c);
}

/* CREATE's USE (RFC 6154 §3), MULTIAPPEND (RFC 3502), UTF8 APPEND
 * (RFC 6855 §4), QUOTA (RFC 9208) */
static void
test_create_append_quota(void **state)
{
	struct imap_cmd	c;

	parse_ok("a CREATE Old (USE (\\Archive \\Bogus))\r\n", &c);
	assert_int_equal(c.nuse, 2);
	assert_true(span_is(c.use[0], "\\Archive"));
	assert_true(span_is(c.use[1], "\\Bogus"));
	imap_cmd_free(&c);
	parse_ok("a CREATE Old\r\n", &c);
	assert_int_equal(c.nuse, 0);
	imap_cmd_free(&c);
	parse_ok("a APPEND m (\\Seen) {2}\r\nab (\\Flagged) "
	    "\"01-Jan-2020 10:00:00 +0000\" {1}\r\nc UTF8 (~{3}\r\ndxe)\r\n",
	    &c);
	assert_int_equal(c.napp, 3);
	assert_int_equal(c.flags.sys, IMAP_FLAG_SEEN);
	assert_true(span_is(c.literal, "ab"));
	assert_int_equal(c.app[1].flags.sys, IMAP_FLAG_FLAGGED);
	assert_true(c.app[1].has_date);
	assert_true(span_is(c.app[1].literal, "c"));
	assert_true(c.app[2].utf8);
	assert_int_equal(c.app[2].literal.len, 3);
	imap_cmd_free(&c);
	parse_ok("a GETQUOTA \"\"\r\n", &c);
	assert_int_equal(c.name, IMAP_CMD_GETQUOTA);
	assert_int_equal(c.mailbox.len, 0);
	imap_cmd_free(&c);
	parse_ok("a GETQUOTAROOT INBOX\r\n", &c);
	assert_int_equal(c.name, IMAP_CMD_GETQUOTAROOT);
	imap_cmd_free(&c);
	parse_ok("a SETQUOTA \"\" (STORAGE 512)\r\n", &c);
	assert_int_equal(c.name, IMAP_CMD_SETQUOTA);
	imap_cmd_free(&c);
	/* OBJECTID (RFC 8474) */
	parse_ok("a FETCH 1 (EMAILID THREADID)\r\n", &c);
	assert_int_equal(c.fetch.atts, IMAP_FETCH_EMAILID |
	    IMAP_FETCH_THREADID);
	imap_cmd_free(&c);
	parse_ok("a SEARCH EMAILID Mab THREADID T1\r\n", &c);
	assert_int_equal(c.search.node[1].key, IMAP_SK_EMAILID);
	assert_true(span_is(c.search.node[1].str, "Mab"));
	assert_int_equal(c.search.node[2].key, IMAP_SK_THREADID);
	imap_cmd_free(&c);
	parse_ok("a STATUS x (MAILBOXID)\r\n", &c);
	assert_int_equal(c.status, IMAP_STATUS_MAILBOXID);
	imap_cmd_free(&c);
}

static void
test_search_tree(void **state)
{
	struct imap_cmd		 c;
	struct imap_search_node	*n;
	uint16_t		 k;

	parse_ok("a UID SEARCH RETURN (MIN COUNT) CHARSET UTF-8 1:5 "
	    "OR SEEN (NOT DELETED LARGER 100) SINCE 1-Jan-2024 "
	    "HEADER Subject \"hi there\" UID 7:*\r\n", &c);
	assert_true(c.search.esearch);
	assert_int_equal(c.search.ret, IMAP_SRET_MIN | IMAP_SRET_COUNT);
	assert_true(span_is(c.search.charset, "UTF-8"));
	n = c.search.node;
	assert_int_equal(n[0].key, IMAP_SK_AND);
	k = n[0].child;
	assert_int_equal(n[k].key, IMAP_SK_SEQ);
	k = n[k].next;
	assert_int_equal(n[k].key, IMAP_SK_OR);
	assert_int_equal(n[n[k].child].key, IMAP_SK_FLAG);
	assert_int_equal(n[n[k].child].flag, IMAP_FLAG_SEEN);
	assert_int_equal(n[n[n[k].child].next].key, IMAP_SK_AND);
	k = n[k].next;
	assert_int_equal(n[k].key, IMAP_SK_SINCE);
	assert_int_equal(n[k].date, 19723);	/* 2024-01-01 */
	k = n[k].next;
	assert_int_equal(n[k].key, IMAP_SK_HEADER);
	assert_true(span_is(n[k].str, "Subject"));
	assert_true(span_is(n[k].str2, "hi there"));
	k = n[k].next;
	assert_int_equal(n[k].key, IMAP_SK_UID);
	assert_int_equal(n[k].next, 0);
	imap_cmd_free(&c);

	parse_ok("a SEARCH RETURN () ALL\r\n", &c);
	assert_int_equal(c.search.ret, IMAP_SRET_ALL);
	imap_cmd_free(&c);
	parse_ok("a SEARCH UNSEEN\r\n", &c);
	assert_false(c.search.esearch);
	assert_int_equal(c.search.node[c.search.node[0].child].key,
	    IMAP_SK_UNFLAG);
	imap_cmd_free(&c);
}

/* SORT and THREAD (RFC 5256, 5957): criteria or algorithm, charset, then
 * SEARCH's keys; "$" (RFC 5182) wherever a sequence set goes. */
static void
test_sort_thread(void **state)
{
	struct imap_cmd		 c;
	struct imap_search_node	*n;

	parse_ok("a SORT (REVERSE DATE subject) UTF-8 ALL\r\n", &c);
	assert_int_equal(c.name, IMAP_CMD_SORT);
	assert_false(c.uid);
	assert_int_equal(c.sort.ncrit, 2);
	assert_int_equal(c.sort.crit[0].key, IMAP_SORT_DATE);
	assert_true(c.sort.crit[0].reverse);
	assert_int_equal(c.sort.crit[1].key, IMAP_SORT_SUBJECT);
	assert_false(c.sort.crit[1].reverse);
	assert_true(span_is(c.search.charset, "UTF-8"));
	assert_int_equal(c.search.node[c.search.node[0].child].key,
	    IMAP_SK_ALL);
	assert_string_equal(imap_cmd_label(&c), "SORT");
	imap_cmd_free(&c);

	parse_ok("a UID SORT (DISPLAYFROM) \"US-ASCII\" SUBJECT \"x y\" "
	    "1:*\r\n", &c);
	assert_true(c.uid);
	assert_int_equal(c.sort.crit[0].key, IMAP_SORT_DISPLAYFROM);
	assert_true(span_is(c.search.charset, "US-ASCII"));
	n = c.search.node;
	assert_int_equal(n[n[0].child].key, IMAP_SK_SUBJECT);
	assert_true(span_is(n[n[0].child].str, "x y"));
	assert_int_equal(n[n[n[0].child].next].key, IMAP_SK_SEQ);
	assert_string_equal(imap_cmd_label(&c), "UID SORT");
	imap_cmd_free(&c);

	/* ESORT (RFC 5267 §3.2): SEARCH's RETURN before the criteria */
	parse_ok("a UID SORT RETURN (MIN ALL SAVE) (ARRIVAL) UTF-8 1:*\r\n",
	    &c);
	assert_true(c.search.esearch);
	assert_int_equal(c.search.ret, IMAP_SRET_MIN | IMAP_SRET_ALL |
	    IMAP_SRET_SAVE);
	assert_int_equal(c.sort.crit[0].key, IMAP_SORT_ARRIVAL);
	imap_cmd_free(&c);
	parse_ok("a SORT RETURN () (SIZE) UTF-8 ALL\r\n", &c);
	assert_int_equal(c.search.ret, IMAP_SRET_ALL);
	imap_cmd_free(&c);

	parse_ok("a THREAD REFERENCES UTF-8 NOT FROM alice\r\n", &c);
	assert_int_equal(c.name, IMAP_CMD_THREAD);
	assert_int_equal(c.sort.alg, IMAP_THREAD_REFERENCES);
	n = c.search.node;
	assert_int_equal(n[n[0].child].key, IMAP_SK_NOT);
	assert_int_equal(n[n[n[0].child].child].key, IMAP_SK_FROM);
	imap_cmd_free(&c);

	parse_ok("a UID THREAD orderedsubject US-ASCII $\r\n", &c);
	assert_true(c.uid);
	assert_int_equal(c.sort.alg, IMAP_THREAD_ORDEREDSUBJECT);
	n = c.search.node;
	assert_int_equal(n[n[0].child].key, IMAP_SK_SEQ);
	assert_true(n[n[0].child].seq.last);
	assert_string_equal(imap_cmd_label(&c), "UID THREAD");
	imap_cmd_free(&c);

	/* SEARCHRES: SAVE, and "$" in the commands that take a set */
	parse_ok("a SEARCH RETURN (SAVE MIN) $ UID $\r\n", &c);
	assert_int_equal(c.search.ret, IMAP_SRET_SAVE | IMAP_SRET_MIN);
	n = c.search.node;
	assert_true(n[n[0].child].seq.last);
	assert_int_equal(n[n[n[0].child].next].key, IMAP_SK_UID);
	assert_true(n[n[n[0].child].next].seq.last);
	imap_cmd_free(&c);
	parse_ok("a FETCH $ (FLAGS)\r\n", &c);
	assert_true(c.seq.last);
	assert_int_equal(c.seq.n, 0);
	imap_cmd_free(&c);
	parse_ok("a UID COPY $ Trash\r\n", &c);
	assert_true(c.seq.last);
	imap_cmd_free(&c);
	parse_ok("a UID EXPUNGE $\r\n", &c);
	assert_true(c.seq.last);
	imap_cmd_free(&c);
	parse_ok("a STORE $ +FLAGS (\\Seen)\r\n", &c);
	assert_true(c.seq.last);
	imap_cmd_free(&c);
}

static void
test_days_from_civil(void **state)
{
	assert_int_equal(imap_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(imap_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(imap_days_from_civil(1969, 12, 31), -1);
}

/* --- grammar: refused commands, each with its reason --- */

/* RFC 7162: SELECT's QRESYNC, FETCH and STORE modifiers, SEARCH MODSEQ */
static void
test_condstore_qresync(void **state)
{
	static const char *const bad[] = {
		"a SELECT INBOX (QRESYNC (0 5))\r\n",
		"a SELECT INBOX (QRESYNC (1 0))\r\n",
		"a SELECT INBOX (QRESYNC (1 9223372036854775808))\r\n",
		"a SELECT INBOX (QRESYNC (1 5 $))\r\n",
		"a SELECT INBOX (QRESYNC (1 5 1:2 (1:2)))\r\n",
		"a SELECT INBOX (QRESYNC (1 5) QRESYNC (1 5))\r\n",
		"a FETCH 1 FLAGS (VANISHED)\r\n",
		"a FETCH 1 FLAGS (CHANGEDSINCE)\r\n",
		"a FETCH 1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)\r\n",
		"a FETCH 1 FLAGS (FOO 1)\r\n",
		"a STORE 1 (UNCHANGEDSINCE 1)+FLAGS (\\Seen)\r\n",
		"a STORE 1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)\r\n",
		"a STORE 1 (FOO 1) +FLAGS (\\Seen)\r\n",
		"a SEARCH MODSEQ \"/flags/\\\\seen\" none 5\r\n",
		"a SEARCH MODSEQ -1\r\n",
	};
	struct imap_cmd	 c;
	const char	*err;
	size_t		 i;

	(void)state;
	parse_ok("a SELECT INBOX (QRESYNC (67890007 20050715194045000 "
	    "41,43:211,214:541) CONDSTORE)\r\n", &c);
	assert_true(c.qresync && c.condstore);
	assert_int_equal(c.qr_uidvalidity, 67890007);
	assert_int_equal(c.qr_modseq, 20050715194045000ULL);
	assert_int_equal(c.qr_known.n, 3);
	assert_int_equal(c.qr_known.r[2].hi, 541);
	assert_int_equal(c.qr_seqs.n, 0);
	imap_cmd_free(&c);
	parse_ok("a EXAMINE INBOX (QRESYNC (1 2 1:9 (1,5 3,10)))\r\n", &c);
	assert_int_equal(c.qr_known.n, 1);
	assert_int_equal(c.qr_seqs.n, 2);
	assert_int_equal(c.qr_uids.r[1].lo, 10);
	imap_cmd_free(&c);
	parse_ok("a SELECT INBOX (QRESYNC (1 2 (1 3)))\r\n", &c);
	assert_int_equal(c.qr_known.n, 0);
	assert_int_equal(c.qr_seqs.n, 1);
	imap_cmd_free(&c);
	parse_ok("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n",
	    &c);
	assert_true(c.has_changedsince && c.vanished);
	assert_int_equal(c.changedsince, 12345);
	assert_int_equal(c.fetch.atts, IMAP_FETCH_FLAGS);
	imap_cmd_free(&c);
	parse_ok("a FETCH 1 MODSEQ (CHANGEDSINCE 0)\r\n", &c);
	assert_int_equal(c.fetch.atts, IMAP_FETCH_MODSEQ);
	assert_true(c.has_changedsince && !c.vanished);
	imap_cmd_free(&c);
	parse_ok("a STORE 7,5 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT "
	    "(\\Deleted)\r\n", &c);
	assert_true(c.has_unchangedsince && c.silent);
	assert_int_equal(c.unchangedsince, 320162338);
	assert_int_equal(c.store_op, IMAP_STORE_ADD);
	assert_int_equal(c.flags.sys, IMAP_FLAG_DELETED);
	imap_cmd_free(&c);
	parse_ok("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338 "
	    "SEEN\r\n", &c);
	assert_int_equal(c.search.node[1].key, IMAP_SK_MODSEQ);
	assert_int_equal(c.search.node[1].num, 620162338);
	imap_cmd_free(&c);
	for (i = 0; i < NELEM(bad); i++) {
		err = NULL;
		if (imap_parse_command(bad[i], strlen(bad[i]), &c, &err) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(err);
		imap_cmd_free(&c);
	}
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*line;
		const char	*err;
		const char	*tag;
	} t[] = {
		{ "\r\n", "Missing tag or command", "" },
		{ "a\r\n", "Missing tag or command", "" },
		{ "a+b NOOP\r\n", "Invalid tag", "" },
		{ "a FROB\r\n", "Unknown command", "a" },
		{ "a UID NOOP\r\n", "Unknown UID command", "a" },
		{ "a NOOP x\r\n", "No arguments allowed", "a" },
		{ "a LOGIN alice\r\n", "Missing arguments", "a" },
		{ "a LOGIN alice pw x\r\n", "Unexpected extra arguments",
		    "a" },
		{ "a LOGIN \"alice pw\r\n", "Unterminated quoted string",
		    "a" },
		{ "a LOGIN \"a\\b\" pw\r\n", "Invalid escape in a quoted "
		    "string", "a" },
		{ "a LOGIN {3}\r\nab\r\n", "Literal longer than the command",
		    "a" },
		{ "a LIST (RECURSIVEMATCH) \"\" *\r\n",
		    "RECURSIVEMATCH needs SUBSCRIBED", "a" },
		{ "a LIST (FOO) \"\" *\r\n", "Unknown LIST option", "a" },
		{ "a LIST \"\" * RETURN (FOO)\r\n", "Unknown LIST option",
		    "a" },
		{ "a LIST \"\" * RETURNS ()\r\n", "Expected RETURN", "a" },
		{ "a LIST \"\" ()\r\n", "Expected a mailbox pattern", "a" },
		{ "a LSUB (SUBSCRIBED) \"\" *\r\n",
		    "Expected an atom or a string", "a" },
		{ "a CREATE x (COLOR (red))\r\n", "Unknown CREATE parameter",
		    "a" },
		{ "a CREATE x (USE (Archive))\r\n",
		    "Expected a special-use attribute", "a" },
		{ "a APPEND x UTF8 ({1}\r\nb)\r\n",
		    "Expected UTF8 (~{n} message)", "a" },
		{ "a APPEND x\r\n", "Missing arguments", "a" },
		{ "a SETQUOTA \"\" (STORAGE)\r\n", "Expected a space", "a" },
		{ "a FETCH 0 FLAGS\r\n", "Number out of range", "a" },
		{ "a FETCH 1:4294967296 FLAGS\r\n", "Number out of range",
		    "a" },
		{ "a FETCH 1, FLAGS\r\n", "Invalid sequence set", "a" },
		{ "a FETCH 1 FOO\r\n", "Unknown fetch item", "a" },
		{ "a FETCH 1 BODY[1.]\r\n", "Invalid section", "a" },
		{ "a FETCH 1 BODY[MIME]\r\n", "Invalid section", "a" },
		{ "a FETCH 1 BODY[]<1.0>\r\n", "Invalid partial", "a" },
		{ "a FETCH 1 (FLAGS\r\n", "Expected the end of a list", "a" },
		{ "a STORE 1 FLAGS (\\Recent)\r\n", "Flag cannot be stored",
		    "a" },
		{ "a STORE 1 XFLAGS (\\Seen)\r\n", "Expected FLAGS, +FLAGS or "
		    "-FLAGS", "a" },
		{ "a SEARCH FOO\r\n", "Unknown search key", "a" },
		{ "a SEARCH SINCE 30-Feb-2024\r\n", "Invalid date", "a" },
		{ "a SEARCH SINCE 1-Foo-2024\r\n", "Invalid month", "a" },
		{ "a SEARCH ((((((((((ALL))))))))))\r\n",
		    "Lists nested too deeply", "a" },
		{ "a SEARCH NOT NOT NOT NOT NOT NOT NOT NOT NOT ALL\r\n",
		    "Search keys nested too deeply", "a" },
		{ "a STATUS INBOX (FOO)\r\n", "Unknown status item", "a" },
		{ "a SELECT \"\"\r\n", "Empty mailbox name", "a" },
		{ "a APPEND INBOX \"1-Jan-2024 10:00:00 +0000\" {1}\r\nx\r\n",
		    "Invalid date", "a" },
		{ "a APPEND INBOX \"01-Jan-2024 10:00 +0000\" {1}\r\nx\r\n",
		    "Invalid time", "a" },
		{ "a APPEND INBOX (\\Seen)\r\n", "Missing arguments", "a" },
		{ "a APPEND INBOX x\r\n", "Expected the message as a literal",
		    "a" },
		{ "a LOGIN a b", "Line must end with CRLF", "" },
		{ "a SEARCH RETURN (FOO) ALL\r\n",
		    "Unknown search return option", "a" },
		{ "a SEARCH RETURN (MIN\r\n", "Invalid return options", "a" },
		{ "a FETCH $,1 FLAGS\r\n", "Expected a space", "a" },
		{ "a SORT DATE UTF-8 ALL\r\n",
		    "Expected a list of sort criteria", "a" },
		{ "a SORT RETURN (ALL) DATE UTF-8 ALL\r\n",
		    "Expected a list of sort criteria", "a" },
		{ "a THREAD RETURN (ALL) REFERENCES UTF-8 ALL\r\n",
		    "Unknown thread algorithm", "a" },
		{ "a SORT (DATE REVERSE) UTF-8 ALL\r\n",
		    "Invalid sort criteria", "a" },
		{ "a SORT (DATE FOO) UTF-8 ALL\r\n", "Unknown sort criterion",
		    "a" },
		{ "a SORT () UTF-8 ALL\r\n", "Expected a sort criterion",
		    "a" },
		{ "a SORT (DATE) UTF-8\r\n", "Missing search criteria", "a" },
		{ "a SORT (DATE)\r\n", "Missing charset", "a" },
		{ "a SORT (DATE) {5}\r\nUTF-8 ALL\r\n", "Expected a charset",
		    "a" },
		{ "a SORT (DATE) UTF-8 FOO\r\n", "Unknown search key", "a" },
		{ "a UID SORT (SIZE) UTF-8 ALL )\r\n", "Expected an atom",
		    "a" },
		{ "a THREAD FOO UTF-8 ALL\r\n", "Unknown thread algorithm",
		    "a" },
		{ "a THREAD (REFERENCES) UTF-8 ALL\r\n",
		    "Unknown thread algorithm", "a" },
	};
	struct imap_cmd	 c;
	const char	*err;
	size_t		 i;

	for (i = 0; i < NELEM(t); i++) {
		err = NULL;
		if (imap_parse_command(t[i].line, strlen(t[i].line), &c,
		    &err) == 0)
			fail_msg("accepted: %s", t[i].line);
		if (err == NULL || strcmp(err, t[i].err) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", t[i].line,
			    err != NULL ? err : "(null)", t[i].err);
		assert_true(span_is(c.tag, t[i].tag));
		imap_cmd_free(&c);
	}
}

static void
test_mailbox_name_limit(void **state)
{
	struct imap_cmd	 c;
	const char	*err;
	char		 line[IMAP_MAILBOX_MAX + 32];

	snprintf(line, sizeof(line), "a SELECT %0*d\r\n",
	    IMAP_MAILBOX_MAX + 1, 1);
	assert_int_equal(imap_parse_command(line, strlen(line), &c, &err),
	    -1);
	assert_string_equal(err, "Mailbox name too long");
	imap_cmd_free(&c);
}

/* --- the reader --- */

struct rd {
	struct imap_reader	r;
	struct buf		log;	/* results, one a line */
};

/* Feed s in pieces of step octets; log each result. */
static void
rd_feed(struct rd *d, const char *s, size_t step)
{
	struct span	data;
	size_t		off = 0, len = strlen(s), n, used;
	enum imap_read	rc;

	while (off < len) {
		n = len - off < step ? len - off : step;
		rc = imap_reader_input(&d->r, s + off, n, &used);
		assert_true(used <= n);
		off += used;
		switch (rc) {
		case IMAP_READ_MORE:
			assert_int_equal(used, n);
			break;
		case IMAP_READ_COMMAND:
			data = imap_reader_data(&d->r);
			buf_printf(&d->log, "CMD %zu\n", data.len);
			break;
		case IMAP_READ_LINE:
			data = imap_reader_data(&d->r);
			buf_printf(&d->log, "LINE %.*s\n", (int)data.len,
			    data.ptr);
			break;
		case IMAP_READ_CONTINUE:
			buf_printf(&d->log, "+\n");
			break;
		case IMAP_READ_REFUSE:
			buf_printf(&d->log, "%s %s %s\n",
			    imap_reader_tag(&d->r),
			    imap_reader_refuse_no(&d->r) ? "NO" : "BAD",
			    imap_reader_error(&d->r));
			break;
		case IMAP_READ_CLOSE:
			buf_printf(&d->log, "BYE %s %s\n",
			    imap_reader_tag(&d->r), imap_reader_error(&d->r));
			return;
		}
	}
}

static void
rd_check(const char *in, const char *want)
{
	struct rd	d;
	size_t		step;

	/* the same results whatever the packet sizes */
	for (step = 1; step <= strlen(in) + 1; step++) {
		imap_reader_init(&d.r, APPENDLIMIT);
		buf_init(&d.log, SIZE_MAX);
		rd_feed(&d, in, step);
		if (strcmp(d.log.data != NULL ? d.log.data : "", want) != 0)
			fail_msg("step %zu: got\n%s\nwant\n%s", step,
			    d.log.data != NULL ? d.log.data : "", want);
		buf_free(&d.log);
		imap_reader_free(&d.r);
	}
}

static void
test_reader_commands(void **state)
{
	rd_check("a NOOP\r\nb LOGIN {3}\r\nbob {2+}\r\npw\r\n",
	    "CMD 8\n+\nCMD 27\n");
	rd_check("a LOGIN {3}\r\nbob {3}\r\npw!\r\n",
	    "+\n+\nCMD 27\n");
	/* empty literals still get their "+" */
	rd_check("a LOGIN {0}\r\n {0}\r\n\r\n", "+\n+\nCMD 21\n");
	rd_check("\n", "* BAD Line must end with CRLF\n");
	rd_check("a NOOP\n", "a BAD Line must end with CRLF\n");
	rd_check("a NO\rOP\r\n", "a BAD CR inside a line\n");
}

static void
test_reader_literal_limits(void **state)
{
	char	in[128];

	/* over the literal limit: no "+", BAD, and the next command */
	snprintf(in, sizeof(in), "a LOGIN {%d}\r\nb NOOP\r\n",
	    IMAP_LITERAL_MAX + 1);
	rd_check(in, "a BAD [TOOBIG] Literal too large\nCMD 8\n");
	/* APPEND over APPENDLIMIT: NO [TOOBIG] (RFC 7889) */
	snprintf(in, sizeof(in), "t APPEND INBOX {%d}\r\nb NOOP\r\n",
	    APPENDLIMIT + 1);
	rd_check(in, "t NO [TOOBIG] Message larger than APPENDLIMIT\n"
	    "CMD 8\n");
	/* within it, a large APPEND gets its "+" */
	rd_check("t APPEND INBOX {9000}\r\n", "+\n");
	/* LITERAL-: a non-synchronising literal over 4096 ends it */
	rd_check("a LOGIN {4097+}\r\n", "BYE a [TOOBIG] Non-synchronizing "
	    "literal over 4096 octets\n");
	rd_check("a APPEND INBOX {4097+}\r\n", "BYE a [TOOBIG] "
	    "Non-synchronizing literal over 4096 octets\n");
	rd_check("a LOGIN {99999999999999999999}\r\n",
	    "a BAD Invalid literal size\n");
}

/* MULTIAPPEND: each message within APPENDLIMIT, all of them within
 * IMAP_APPEND_TOTAL_MAX (when that is the larger), before any "+" */
static void
test_reader_multiappend_total(void **state)
{
	struct imap_reader	 r;
	const uint64_t		 limit = 30 * 1024 * 1024;
	char			 head[64], *lit;
	size_t			 used, n, i;
	enum imap_read		 rc;

	(void)state;
	imap_reader_init(&r, limit);
	lit = calloc(1, (size_t)limit);
	assert_non_null(lit);
	memset(lit, 'x', (size_t)limit);
	for (i = 0; i < 3; i++) {
		n = (size_t)snprintf(head, sizeof(head), "%s{%" PRIu64 "}\r\n",
		    i == 0 ? "a APPEND m " : " ", limit);
		rc = imap_reader_input(&r, head, n, &used);
		assert_int_equal(used, n);
		if (i < 2) {
			assert_int_equal(rc, IMAP_READ_CONTINUE);
			rc = imap_reader_input(&r, lit, (size_t)limit, &used);
			assert_int_equal(rc, IMAP_READ_MORE);
			assert_int_equal(used, (size_t)limit);
		}
	}
	/* 90 MiB together: refused, no third "+" */
	assert_int_equal(rc, IMAP_READ_REFUSE);
	assert_true(imap_reader_refuse_no(&r));
	assert_string_equal(imap_reader_error(&r), "[TOOBIG] Messages of "
	    "one APPEND too large together");
	assert_string_equal(imap_reader_tag(&r), "a");
	free(lit);
	imap_reader_free(&r);
}

static void
test_reader_too_many_literals(void **state)
{
	struct buf	in, want;
	size_t		i;

	buf_init(&in, SIZE_MAX);
	buf_init(&want, SIZE_MAX);
	buf_append_str(&in, "a ID (");
	for (i = 0; i <= IMAP_LITERALS_MAX; i++) {
		buf_append_str(&in, "{1}\r\nx ");
		if (i < IMAP_LITERALS_MAX)
			buf_append_str(&want, "+\n");
	}
	buf_append_str(&want, "a BAD Too many literals\n");
	rd_check(in.data, want.data);
	buf_free(&in);
	buf_free(&want);
}

static void
test_reader_long_line(void **state)
{
	struct rd	 d;
	char		*in;
	size_t		 n = IMAP_LINE_MAX + 100;

	in = malloc(n + 32);
	assert_non_null(in);
	memcpy(in, "abc LOGIN ", 10);
	memset(in + 10, 'x', n - 10);
	memcpy(in + n, "\r\nz NOOP\r\n", 11);
	imap_reader_init(&d.r, APPENDLIMIT);
	buf_init(&d.log, SIZE_MAX);
	rd_feed(&d, in, 1000);
	assert_string_equal(d.log.data, "abc BAD Line too long\nCMD 8\n");
	buf_free(&d.log);
	imap_reader_free(&d.r);
	free(in);
}

static void
test_reader_line_mode(void **state)
{
	struct rd	d;

	imap_reader_init(&d.r, APPENDLIMIT);
	buf_init(&d.log, SIZE_MAX);
	imap_reader_line_mode(&d.r, true);
	/* a literal's syntax means nothing in a line */
	rd_feed(&d, "dGVzdA== {5}\r\n", 3);
	imap_reader_line_mode(&d.r, false);
	rd_feed(&d, "a NOOP\r\n", 3);
	assert_string_equal(d.log.data, "LINE dGVzdA== {5}\nCMD 8\n");
	buf_free(&d.log);
	imap_reader_free(&d.r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_commands),
		cmocka_unit_test(test_login_strings),
		cmocka_unit_test(test_authenticate),
		cmocka_unit_test(test_seqsets),
		cmocka_unit_test(test_fetch_items),
		cmocka_unit_test(test_store_flags),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_mailbox_commands),
		cmocka_unit_test(test_list_extended),
		cmocka_unit_test(test_create_append_quota),
		cmocka_unit_test(test_search_tree),
		cmocka_unit_test(test_sort_thread),
		cmocka_unit_test(test_days_from_civil),
		cmocka_unit_test(test_condstore_qresync),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_mailbox_name_limit),
		cmocka_unit_test(test_reader_commands),
		cmocka_unit_test(test_reader_literal_limits),
		cmocka_unit_test(test_reader_multiappend_total),
		cmocka_unit_test(test_reader_too_many_literals),
		cmocka_unit_test(test_reader_long_line),
		cmocka_unit_test(test_reader_line_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
