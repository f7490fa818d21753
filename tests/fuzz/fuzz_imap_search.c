/*
 * libFuzzer target for imap_search and imap_sort's parsers: the first
 * line is the arguments of a SEARCH (parsed by imap_parse, then every
 * key evaluated against the rest of the input as a message, with flags
 * from the line's length), of a SORT and of a THREAD (imap_sort_parse),
 * and a Subject: value (imap_sort_base_subject).  Invariants: a match
 * is 0 or 1, a parse that succeeds leaves its search keys inside the
 * input, a base subject is never longer than its decoded input and a
 * fold of valid UTF-8 stays valid.  Broken invariants call abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_parse.h"
#include "imap_search.h"
#include "imap_sort.h"
#include "mime.h"

struct fmsg {
	struct mime_msg	 msg;
	const char	*p;
	size_t		 len;
	bool		 parsed;
};

static int
load(void *arg, const struct mime_msg **msg_out)
{
	struct fmsg	*f = arg;

	if (!f->parsed) {
		mime_parse(&f->msg, f->p, f->len);
		f->parsed = true;
	}
	*msg_out = &f->msg;
	return 0;
}

static void
search(struct span line, struct fmsg *f)
{
	static const struct span	kw[] = { { "$Junk", 5 }, { "a", 1 } };
	static const uint32_t		saved[] = { 1, 3, 7 };
	struct imap_search_ctx		ctx;
	struct imap_search_msg		m;
	struct imap_cmd			cmd;
	struct buf			wire;
	const char			*err;
	int				r;

	buf_init(&wire, line.len + 16);
	if (buf_append_str(&wire, "A SEARCH ") == -1 ||
	    buf_append_span(&wire, line) == -1 ||
	    buf_append_str(&wire, "\r\n") == -1)
		abort();
	if (imap_parse_command(wire.data, wire.len, &cmd, &err) == 0 &&
	    imap_search_prepare(&ctx, &cmd.search, 9, 9, saved, 3,
	    &err) == 0) {
		memset(&m, 0, sizeof(m));
		m.seq = 3;
		m.uid = 7;
		m.flags = (unsigned)line.len & 0x3f;
		m.kw = kw;
		m.nkw = line.len & 1 ? 2 : 0;
		m.size = f->len;
		m.internaldate = 1700000000;
		m.modseq = line.len;
		m.message = load;
		m.arg = f;
		r = imap_search_match(&ctx, &m);
		if (r != 0 && r != 1)
			abort();
		imap_search_ctx_free(&ctx);
	}
	imap_cmd_free(&cmd);
	buf_free(&wire);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data;
	const char		*nl = memchr(p, '\n', size);
	struct span		 line = span_make(p, nl != NULL ?
				    (size_t)(nl - p) : size);
	struct imap_sort_args	 a;
	struct fmsg		 f;
	struct buf		 b, fold;
	const char		*err;
	size_t			 used;
	bool			 reply;

	memset(&f, 0, sizeof(f));
	f.p = nl != NULL ? nl + 1 : p + size;
	f.len = nl != NULL ? size - line.len - 1 : 0;
	search(line, &f);
	if (f.parsed)
		mime_msg_free(&f.msg);

	if (imap_sort_parse(line, false, &a, &used, &err) == 0 &&
	    (used == 0 || used >= line.len || a.ncrit == 0 ||
	    a.ncrit > IMAP_SORT_CRIT_MAX))
		abort();
	if (imap_sort_parse(line, true, &a, &used, &err) == 0 &&
	    (used == 0 || used >= line.len))
		abort();

	buf_init(&b, IMAP_SORT_STR_MAX);
	if (imap_sort_base_subject(line, &b, &reply) == 0 &&
	    b.len > IMAP_SORT_STR_MAX)
		abort();
	buf_init(&fold, 4 * line.len + 16);
	if (imap_search_fold(line, &fold) == -1)
		abort();
	if (mime_utf8_valid(line) &&
	    !mime_utf8_valid(span_make(fold.data != NULL ? fold.data : "",
	    fold.len)))
		abort();
	buf_free(&fold);
	buf_free(&b);
	return 0;
}
