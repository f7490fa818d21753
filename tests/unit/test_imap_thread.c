/*
 * Unit tests for imap_thread: THREAD=REFERENCES step by step of RFC
 * 5256 §3 (parent links from References and In-Reply-To, dummies
 * pruned or kept, subject gathering, date order, loops and duplicate
 * ids), THREAD=ORDEREDSUBJECT, the response's nesting of §4, and a
 * References chain far deeper than any stack would take.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "imap/imap_thread.h"
#include "mime.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Dates by day: "D1" .. "D9" stand for 1..9 January 2024. */
static void
make(struct imap_thread_msg *t, const char *text, uint32_t seq)
{
	struct mime_msg	 msg;
	size_t		 len = strlen(text);
	char		*copy = malloc(len + 1);

	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(&msg, 0, sizeof(msg));
	mime_parse(&msg, copy, len);
	/* numbers printed are seq + 100, so seq and num are told apart */
	imap_thread_msg_make(t, &msg, seq + 100, seq, 1000 + seq);
	mime_msg_free(&msg);
	free(copy);
}

static void
threads_are(enum imap_thread_alg alg, const char *const *msgs, size_t n,
    const char *want)
{
	struct imap_thread_msg	*v = calloc(n, sizeof(*v));
	struct buf		 out;
	size_t			 i;

	assert_non_null(v);
	for (i = 0; i < n; i++)
		make(&v[i], msgs[i], (uint32_t)i + 1);
	buf_init(&out, 1 << 20);
	assert_int_equal(imap_thread_run(alg, v, n, &out), 0);
	if (strcmp(out.data != NULL ? out.data : "", want) != 0)
		fail_msg("got %s, want %s", out.data, want);
	for (i = 0; i < n; i++)
		imap_thread_msg_free(&v[i]);
	free(v);
	buf_free(&out);
}

#define M(id, date, subj, hdrs) \
	"Message-ID: <" id ">\nDate: " date " Jan 2024 10:00:00 +0000\n" \
	"Subject: " subj "\n" hdrs "\n"

static void
test_chain_and_branches(void **state)
{
	static const char *const	chain[] = {
		M("a@x", "1", "s", ""),
		M("b@x", "2", "Re: s", "References: <a@x>\n"),
		M("c@x", "3", "Re: s", "References: <a@x> <b@x>\n"),
	};
	static const char *const	branch[] = {
		M("a@x", "1", "s", ""),
		M("b@x", "3", "Re: s", "In-Reply-To: <a@x>\n"),
		M("c@x", "2", "Re: s", "References: <a@x>\n"),
		M("d@x", "4", "Re: s", "References: <a@x> <c@x>\n"),
	};

	(void)state;
	threads_are(IMAP_THREAD_REFERENCES, chain, NELEM(chain),
	    "(101 102 103)");
	/* 103 (2 Jan) before 102 (3 Jan): siblings by date */
	threads_are(IMAP_THREAD_REFERENCES, branch, NELEM(branch),
	    "(101 (103 104)(102))");
}

static void
test_dummies(void **state)
{
	/* two replies to a message we do not have: a dummy root stays */
	static const char *const	two[] = {
		M("b@x", "2", "Re: one", "References: <gone@x>\n"),
		M("c@x", "1", "Re: two", "References: <gone@x>\n"),
	};
	/* one reply to it: the dummy gives way at the root */
	static const char *const	one[] = {
		M("b@x", "2", "Re: one", "References: <gone@x>\n"),
		M("c@x", "1", "other", ""),
	};
	/* a missing message in the middle: its dummy is always pruned */
	static const char *const	middle[] = {
		M("a@x", "1", "s", ""),
		M("c@x", "2", "Re: s", "References: <a@x> <gone@x>\n"),
		M("d@x", "3", "Re: s", "References: <a@x> <gone@x>\n"),
	};

	(void)state;
	threads_are(IMAP_THREAD_REFERENCES, two, NELEM(two),
	    "((102)(101))");
	threads_are(IMAP_THREAD_REFERENCES, one, NELEM(one), "(102)(101)");
	threads_are(IMAP_THREAD_REFERENCES, middle, NELEM(middle),
	    "(101 (102)(103))");
}

static void
test_subjects(void **state)
{
	/* no references: "Re: x" goes under "x" */
	static const char *const	reply[] = {
		M("b@x", "2", "Re: hello", ""),
		M("a@x", "1", "Hello", ""),
		M("c@x", "3", "world", ""),
	};
	/* two originals of one subject: a dummy holds both */
	static const char *const	twins[] = {
		M("a@x", "1", "hello", ""),
		M("b@x", "2", "[list] HELLO", ""),
		M("c@x", "3", "Re: hello", ""),
	};
	/* a thread with a dummy root gathers a message of its subject */
	static const char *const	dummy[] = {
		M("b@x", "2", "Re: topic", "References: <gone@x>\n"),
		M("c@x", "3", "Re: topic", "References: <gone@x>\n"),
		M("d@x", "4", "topic", ""),
	};
	/* empty subjects are not gathered */
	static const char *const	empty[] = {
		M("a@x", "1", "", ""),
		M("b@x", "2", "Re:", ""),
	};

	/*
	 * Step 4 sorts the roots by date before step 5 walks them: the
	 * reply (day 1) enters the table, the original of day 2 takes its
	 * place and gets it, the original of day 5 comes last and shares a
	 * dummy with it (in mailbox order the reply would go under the
	 * day-5 one).
	 */
	static const char *const	order[] = {
		M("a@x", "5", "plan", ""),
		M("b@x", "1", "Re: plan", ""),
		M("c@x", "2", "plan", ""),
	};
	/* a dummy in the table stays there: the earlier message joins it */
	static const char *const	dummy_first[] = {
		M("b@x", "2", "Re: topic", "References: <gone@x>\n"),
		M("c@x", "3", "Re: topic", "References: <gone@x>\n"),
		M("d@x", "1", "topic", ""),
		M("e@x", "4", "topic", ""),
	};

	(void)state;
	threads_are(IMAP_THREAD_REFERENCES, order, NELEM(order),
	    "((103 102)(101))");
	threads_are(IMAP_THREAD_REFERENCES, dummy_first, NELEM(dummy_first),
	    "((103)(101)(102)(104))");
	threads_are(IMAP_THREAD_REFERENCES, reply, NELEM(reply),
	    "(102 101)(103)");
	threads_are(IMAP_THREAD_REFERENCES, twins, NELEM(twins),
	    "((101)(102)(103))");
	threads_are(IMAP_THREAD_REFERENCES, dummy, NELEM(dummy),
	    "((101)(102)(103))");
	threads_are(IMAP_THREAD_REFERENCES, empty, NELEM(empty),
	    "(101)(102)");
}

static void
test_hostile(void **state)
{
	/* each claims the other as its parent: the second link, which
	 * would close a loop, is refused (step 1.B) */
	static const char *const	loop[] = {
		M("a@x", "1", "p", "References: <b@x>\n"),
		M("b@x", "2", "q", "References: <a@x>\n"),
	};
	/* a message that references itself; the next one makes it its
	 * child through References */
	static const char *const	self[] = {
		M("a@x", "1", "p", "References: <a@x>\n"),
		M("b@x", "2", "q", "References: <b@x> <a@x>\n"),
	};
	/* the same Message-ID twice: both messages are threaded */
	static const char *const	dup[] = {
		M("a@x", "1", "p", ""),
		M("a@x", "2", "q", ""),
		M("c@x", "3", "r", "References: <a@x>\n"),
	};
	/* no Message-ID, no Date: the internal date (1000 + seq) */
	static const char *const	bare[] = {
		"Subject: x\n\n",
		"Subject: y\nIn-Reply-To: <nowhere@x> <second@x>\n\n",
	};

	(void)state;
	threads_are(IMAP_THREAD_REFERENCES, loop, NELEM(loop), "(102 101)");
	threads_are(IMAP_THREAD_REFERENCES, self, NELEM(self), "(102 101)");
	threads_are(IMAP_THREAD_REFERENCES, dup, NELEM(dup),
	    "(101 103)(102)");
	threads_are(IMAP_THREAD_REFERENCES, bare, NELEM(bare), "(101)(102)");
}

static void
test_orderedsubject(void **state)
{
	static const char *const	msgs[] = {
		M("a@x", "5", "b", ""),
		M("b@x", "1", "a", ""),
		M("c@x", "3", "Re: A", ""),
		M("d@x", "2", "c", ""),
		M("e@x", "4", "Fwd: b", ""),
		M("f@x", "2", "a (fwd)", ""),
		M("g@x", "6", "b", ""),
	};

	(void)state;
	/* a: 102 (1), 106 (2), 103 (3); b: 105 (4), 101 (5), 107 (6);
	 * c: 104 (2); threads by their first message's date */
	threads_are(IMAP_THREAD_ORDEREDSUBJECT, msgs, NELEM(msgs),
	    "(102 (106)(103))(104)(105 (101)(107))");
	threads_are(IMAP_THREAD_ORDEREDSUBJECT, msgs, 2, "(102)(101)");
	threads_are(IMAP_THREAD_ORDEREDSUBJECT, msgs + 1, 2, "(101 102)");
}

/* A chain 20000 deep: no recursion, every message once. */
static void
test_deep_chain(void **state)
{
	enum { N = 20000 };
	struct imap_thread_msg	*v = calloc(N, sizeof(*v));
	struct buf		 out, want;
	char			 id[32];
	size_t			 i;

	(void)state;
	assert_non_null(v);
	buf_init(&want, 1 << 20);
	assert_int_equal(buf_append_char(&want, '('), 0);
	for (i = 0; i < N; i++) {
		v[i].num = (uint32_t)i + 1;
		v[i].seq = (uint32_t)i + 1;
		v[i].date = (int64_t)i;
		v[i].subject = strdup("s");
		(void)snprintf(id, sizeof(id), "<%zu@x>", i);
		v[i].msgid = strdup(id);
		if (i > 0) {
			(void)snprintf(id, sizeof(id), "<%zu@x>", i - 1);
			v[i].refs = calloc(1, sizeof(*v[i].refs));
			v[i].refs[0] = strdup(id);
			v[i].nrefs = 1;
		}
		assert_int_equal(buf_printf(&want, "%s%zu", i ? " " : "",
		    i + 1), 0);
	}
	assert_int_equal(buf_append_char(&want, ')'), 0);
	buf_init(&out, 1 << 20);
	assert_int_equal(imap_thread_run(IMAP_THREAD_REFERENCES, v, N, &out),
	    0);
	assert_int_equal(out.len, want.len);
	assert_memory_equal(out.data, want.data, out.len);
	for (i = 0; i < N; i++)
		imap_thread_msg_free(&v[i]);
	free(v);
	buf_free(&out);
	buf_free(&want);
}

static void
test_ceiling(void **state)
{
	static const char *const	msgs[] = {
		M("a@x", "1", "s", ""),
		M("b@x", "2", "t", ""),
	};
	struct imap_thread_msg		 v[2];
	struct buf			 out;

	(void)state;
	make(&v[0], msgs[0], 1);
	make(&v[1], msgs[1], 2);
	buf_init(&out, 6);
	assert_int_equal(imap_thread_run(IMAP_THREAD_REFERENCES, v, 2, &out),
	    -1);
	buf_free(&out);
	imap_thread_msg_free(&v[0]);
	imap_thread_msg_free(&v[1]);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_chain_and_branches),
		cmocka_unit_test(test_dummies),
		cmocka_unit_test(test_subjects),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_orderedsubject),
		cmocka_unit_test(test_deep_chain),
		cmocka_unit_test(test_ceiling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
