/*
 * libFuzzer target for imap_parse: the reader and the grammar,
 * imap_mbox's LIST pattern matching on the names commands carry, and
 * imap_list's answer to every LIST (each name at most once).  The first
 * byte seeds the chunk sizes and turns line mode on for some results; the
 * rest is fed as the session would, in chunks, with unconsumed bytes fed
 * again.  Every whole command is parsed, and the decoded arguments are
 * walked: each span must lie inside the command or its arena, every
 * refusal must name a reason.  Broken invariants call abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_list.h"
#include "imap_mbox.h"
#include "imap_parse.h"

static void
check_span(struct span s, struct span cmd, const struct imap_cmd *c)
{
	const char	*a = c->arena.data;

	if (s.len == 0)
		return;
	if (s.ptr >= cmd.ptr && s.ptr + s.len <= cmd.ptr + cmd.len)
		return;
	if (a != NULL && s.ptr >= a && s.ptr + s.len <= a + c->arena.len)
		return;
	abort();
}

static void
check_seq(const struct imap_seqset *q)
{
	if (q->n > IMAP_SEQ_RANGES_MAX || (q->n > 0 && q->r == NULL))
		abort();
}

/*
 * The mailbox-level parts: LIST's patterns, CREATE's uses, APPEND's
 * messages; and the LIST run over a few folders, each name once.
 */
static void
check_mailbox_ext(const struct imap_cmd *c, struct span cmd)
{
	static char		*folders[] = { "Sent", "a.b", "a.b.c", "x" };
	static char		*subs[] = { "a.b.c", "gone", "p.q", "INBOX" };
	struct imap_list_in	 in;
	struct imap_list_entry	*v = NULL;
	size_t			 i, j, n = 0;

	if (c->nlist_pat > IMAP_LIST_PATTERNS_MAX ||
	    c->nuse > IMAP_CREATE_USE_MAX || c->napp > IMAP_APPEND_MSGS_MAX)
		abort();
	for (i = 0; i < c->nlist_pat; i++)
		check_span(c->list_pat[i], cmd, c);
	for (i = 0; i < c->nuse; i++)
		check_span(c->use[i], cmd, c);
	for (i = 0; i < c->napp; i++)
		check_span(c->app[i].literal, cmd, c);
	if (c->name != IMAP_CMD_LIST && c->name != IMAP_CMD_LSUB)
		return;
	memset(&in, 0, sizeof(in));
	in.folders = folders;
	in.nfolders = sizeof(folders) / sizeof(folders[0]);
	in.subs = subs;
	in.nsubs = sizeof(subs) / sizeof(subs[0]);
	imap_list_run(c, &in, &v, &n);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(v[i].name, v[j].name) == 0)
				abort();
	imap_list_free(v, n);
}

static void
check_cmd(const struct imap_cmd *c, struct span cmd)
{
	size_t	i, j;

	check_span(c->tag, cmd, c);
	check_span(c->mailbox, cmd, c);
	check_span(c->mailbox2, cmd, c);
	check_span(c->user, cmd, c);
	check_span(c->pass, cmd, c);
	check_span(c->literal, cmd, c);
	check_seq(&c->seq);
	if (c->mailbox.len > IMAP_MAILBOX_MAX ||
	    c->flags.nkw > IMAP_KEYWORDS_MAX ||
	    c->fetch.nsec > IMAP_FETCH_SECTIONS_MAX ||
	    c->search.nnode > IMAP_SEARCH_NODES_MAX ||
	    c->nenable > IMAP_ENABLE_MAX ||
	    c->sort.ncrit > IMAP_SORT_CRIT_MAX)
		abort();
	check_span(c->search.charset, cmd, c);
	check_span(c->sort.charset, cmd, c);
	for (i = 0; i < c->flags.nkw; i++)
		check_span(c->flags.kw[i], cmd, c);
	for (i = 0; i < c->fetch.nsec; i++) {
		if (c->fetch.sec[i].nparts > IMAP_PART_DEPTH ||
		    c->fetch.sec[i].nfields > IMAP_FIELDS_MAX)
			abort();
		for (j = 0; j < c->fetch.sec[i].nfields; j++)
			check_span(c->fetch.sec[i].fields[j], cmd, c);
	}
	for (i = 0; i < c->search.nnode; i++) {
		if (c->search.node[i].child >= c->search.nnode ||
		    c->search.node[i].next >= c->search.nnode)
			abort();
		check_span(c->search.node[i].str, cmd, c);
		check_span(c->search.node[i].str2, cmd, c);
		check_seq(&c->search.node[i].seq);
	}
	(void)imap_cmd_label(c);
	check_mailbox_ext(c, cmd);
	/* LIST's pattern against the other name the command carried */
	if (c->name == IMAP_CMD_LIST || c->name == IMAP_CMD_RENAME)
		(void)imap_mbox_match(c->mailbox2.ptr, c->mailbox2.len,
		    c->mailbox.ptr, c->mailbox.len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_reader	 r;
	struct imap_cmd		 c;
	struct span		 cmd;
	const char		*p, *err;
	size_t			 off = 0, n, used;
	unsigned		 seed;
	enum imap_read		 rc;

	if (size < 1)
		return 0;
	seed = data[0];
	p = (const char *)data + 1;
	size--;
	imap_reader_init(&r, 100000);
	while (off < size) {
		n = 1 + (seed + off) % 97;
		if (n > size - off)
			n = size - off;
		rc = imap_reader_input(&r, p + off, n, &used);
		if (used > n)
			abort();
		off += used;
		switch (rc) {
		case IMAP_READ_MORE:
			if (used != n)
				abort();
			break;
		case IMAP_READ_COMMAND:
			cmd = imap_reader_data(&r);
			err = NULL;
			if (imap_parse_command(cmd.ptr, cmd.len, &c,
			    &err) == 0)
				check_cmd(&c, cmd);
			else if (err == NULL || err[0] == '\0')
				abort();
			imap_cmd_free(&c);
			/* a SASL exchange or IDLE now and then */
			imap_reader_line_mode(&r, (seed & 0x80) != 0 &&
			    cmd.len % 5 == 0);
			break;
		case IMAP_READ_LINE:
			imap_reader_line_mode(&r, false);
			break;
		case IMAP_READ_CONTINUE:
			break;
		case IMAP_READ_REFUSE:
			if (imap_reader_error(&r)[0] == '\0' ||
			    imap_reader_tag(&r)[0] == '\0')
				abort();
			break;
		case IMAP_READ_CLOSE:
			imap_reader_free(&r);
			return 0;
		}
	}
	imap_reader_free(&r);
	return 0;
}
