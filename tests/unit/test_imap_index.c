/*
 * Unit tests for imap_index.c: the record format (round trip, a tail
 * cut short, corruption), the file (a new index, reading back what was
 * written, flag changes and expunges from listings, a rebuild after
 * garbage or another UIDVALIDITY, a dead writer's tail cut off,
 * compaction keeping the cache), VANISHED sets exact and forgotten, and
 * MODSEQs that follow the clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "imap/imap_index.h"
#include "imap/imap_parse.h"
#include "testutil.h"
#include "util.h"

#define NOW	((int64_t)1700000000)

static char	dir[] = "/tmp/cachet-test-index.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	(void)str_copy(dir, sizeof(dir), "/tmp/cachet-test-index.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	testutil_rmtree(dir);
	return 0;
}

/* A listing of n messages, UIDs 1..n, with these flags each. */
static void
listing(struct maildir_list *l, size_t n, const char *flags)
{
	size_t	i;

	memset(l, 0, sizeof(*l));
	l->entries = xcalloc(n + 1, sizeof(*l->entries));
	for (i = 0; i < n; i++) {
		l->entries[i].uid = (uint32_t)(i + 1);
		l->entries[i].size = 100 + i;
		(void)str_copy(l->entries[i].flags, sizeof(l->entries[i].flags),
		    flags);
	}
	l->nentries = n;
	l->uidvalidity = 42;
	l->uidnext = (uint32_t)n + 1;
}

static struct imap_index *
open_begin(int64_t now)
{
	struct imap_index	*x;
	const char		*err = NULL;

	x = imap_index_open(dir, 42, &err);
	assert_non_null(x);
	assert_int_equal(imap_index_begin(x, 42, now, &err), 0);
	return x;
}

static void
end(struct imap_index *x, int64_t now)
{
	const char	*err = NULL;

	assert_int_equal(imap_index_end(x, now, &err), 0);
}

static char *
path_of(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
test_flag_mask(void **state)
{
	char	out[53];

	(void)state;
	assert_int_equal(imap_index_flag_mask(""), 0);
	imap_index_flag_letters(imap_index_flag_mask("TSaRzDF:,"), out);
	assert_string_equal(out, "DFRSTaz");
	assert_int_not_equal(imap_index_flag_mask("a"),
	    imap_index_flag_mask("A"));
}

static void
test_records_round_trip(void **state)
{
	struct imap_index	 x;
	struct buf		 b;
	struct imap_index_msg	*m;
	const char		*err = NULL;
	size_t			 used;

	(void)state;
	buf_init(&b, SIZE_MAX);
	imap_index_put_header(&b, 7, 100, 50);
	imap_index_put_msg(&b, 3, 101, imap_index_flag_mask("S"));
	imap_index_put_msg(&b, 5, 102, 0);
	imap_index_put_msg(&b, 3, 103, imap_index_flag_mask("FS"));
	imap_index_put_gone(&b, 5, 5, 104);
	imap_index_put_msg(&b, 5, 105, 0);	/* late: ignored */
	assert_int_equal(imap_index_put_cache(&b, 3, 999, span_str("(env)"),
	    span_str("(body)"), span_str("(bs)")), 0);
	imap_index_init(&x);
	assert_int_equal(imap_index_apply(&x, b.data, b.len, 0, &used, &err),
	    0);
	assert_int_equal(used, b.len);
	assert_int_equal(x.uidvalidity, 7);
	assert_int_equal(x.highest, 105);
	assert_int_equal(x.forgotten, 50);
	m = imap_index_find(&x, 3);
	assert_non_null(m);
	assert_int_equal(m->modseq, 103);
	assert_int_equal(m->flags, imap_index_flag_mask("SF"));
	/* the record located: its frame, the fixed part and the strings */
	assert_int_equal(m->cache_len, 4 + 25 + 5 + 6 + 4 + 4);
	assert_true(m->cache_off > 0);
	m = imap_index_find(&x, 5);
	assert_true(m->dead);
	assert_int_equal(m->modseq, 102);
	assert_int_equal(x.ngone, 1);
	assert_int_equal(x.gone[0].modseq, 104);
	imap_index_reset(&x);
	buf_free(&x.wr);
	buf_free(&b);
}

static void
test_records_cut_and_corrupt(void **state)
{
	struct imap_index	 x;
	struct buf		 b;
	const char		*err = NULL;
	size_t			 used, one, i;

	(void)state;
	buf_init(&b, SIZE_MAX);
	imap_index_put_header(&b, 7, 1, 0);
	one = b.len;
	imap_index_put_msg(&b, 1, 2, 0);
	/* every cut inside the second record leaves it unused */
	for (i = one; i < b.len; i++) {
		imap_index_init(&x);
		assert_int_equal(imap_index_apply(&x, b.data, i, 0, &used,
		    &err), 0);
		assert_int_equal(used, one);
		assert_null(imap_index_find(&x, 1));
		imap_index_reset(&x);
		buf_free(&x.wr);
	}
	/* every flipped bit of the type, payload or CRC is refused */
	for (i = one + 4; i < b.len; i++) {
		b.data[i] ^= 0x10;
		imap_index_init(&x);
		assert_int_equal(imap_index_apply(&x, b.data, b.len, 0, &used,
		    &err), -1);
		assert_non_null(err);
		imap_index_reset(&x);
		buf_free(&x.wr);
		b.data[i] ^= 0x10;
	}
	/* no header first; a second header; a message of UID 0 */
	buf_reset(&b);
	imap_index_put_msg(&b, 1, 2, 0);
	imap_index_init(&x);
	assert_int_equal(imap_index_apply(&x, b.data, b.len, 0, &used, &err),
	    -1);
	assert_string_equal(err, "no header");
	imap_index_reset(&x);
	buf_reset(&b);
	imap_index_put_header(&b, 7, 1, 0);
	imap_index_put_header(&b, 7, 1, 0);
	assert_int_equal(imap_index_apply(&x, b.data, b.len, 0, &used, &err),
	    -1);
	imap_index_reset(&x);
	buf_reset(&b);
	imap_index_put_header(&b, 7, 1, 0);
	imap_index_put_msg(&b, 0, 2, 0);
	assert_int_equal(imap_index_apply(&x, b.data, b.len, 0, &used, &err),
	    -1);
	imap_index_reset(&x);
	/* MODSEQ past 2^63 - 1 */
	buf_reset(&b);
	imap_index_put_header(&b, 7, 1, 0);
	imap_index_put_msg(&b, 1, UINT64_MAX, 0);
	assert_int_equal(imap_index_apply(&x, b.data, b.len, 0, &used, &err),
	    -1);
	imap_index_reset(&x);
	buf_free(&x.wr);
	buf_free(&b);
}

static void
test_file_sync_and_read_back(void **state)
{
	struct imap_index	*x, *y;
	struct maildir_list	 l;
	struct buf		 v;
	uint64_t		 high, m1;

	(void)state;
	listing(&l, 5, "");
	x = open_begin(NOW);
	assert_true(x->rebuilt);		/* none yet */
	imap_index_sync(x, &l, NOW);
	end(x, NOW);
	high = x->highest;
	assert_true(high > (uint64_t)NOW << 20);
	m1 = imap_index_find(x, 1)->modseq;

	/* another reader sees the same */
	y = open_begin(NOW);
	assert_false(y->rebuilt);
	assert_int_equal(y->highest, high);
	assert_int_equal(imap_index_find(y, 1)->modseq, m1);
	end(y, NOW);

	/* message 2's letters changed (mutt), 4 is gone */
	(void)str_copy(l.entries[1].flags, sizeof(l.entries[1].flags), "S");
	memmove(&l.entries[3], &l.entries[4], sizeof(l.entries[0]));
	l.nentries = 4;
	assert_int_equal(imap_index_begin(y, 42, NOW, &(const char *){ 0 }),
	    0);
	imap_index_sync(y, &l, NOW);
	end(y, NOW);
	assert_true(imap_index_find(y, 2)->modseq > high);
	assert_int_equal(imap_index_find(y, 1)->modseq, m1);
	assert_true(imap_index_find(y, 4)->dead);

	/* x catches up at its next begin */
	assert_int_equal(imap_index_begin(x, 42, NOW, &(const char *){ 0 }),
	    0);
	end(x, NOW);
	assert_int_equal(x->highest, y->highest);
	assert_true(imap_index_find(x, 4)->dead);
	buf_init(&v, SIZE_MAX);
	imap_index_vanished(x, high, NULL, 6, &v);
	assert_string_equal(v.data, "4");
	buf_reset(&v);
	imap_index_vanished(x, y->highest, NULL, 6, &v);
	assert_int_equal(v.len, 0);
	buf_free(&v);
	imap_index_close(x);
	imap_index_close(y);
	maildir_list_free(&l);
}

static void
test_rebuild_after_garbage_and_uidvalidity(void **state)
{
	struct imap_index	*x;
	struct maildir_list	 l;
	char			*p = path_of(IMAP_INDEX_FILE);
	const char		*err = NULL;
	uint64_t		 high;
	int			 fd;

	(void)state;
	listing(&l, 3, "S");
	x = open_begin(NOW);
	imap_index_sync(x, &l, NOW);
	end(x, NOW);
	high = x->highest;
	imap_index_close(x);
	/* garbage in the middle */
	fd = open(p, O_WRONLY);
	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, "\xff\xff\xff\x7f", 4, 40), 4);
	(void)close(fd);
	x = open_begin(NOW + 10);
	assert_true(x->rebuilt);
	assert_null(imap_index_find(x, 1));
	assert_true(x->highest > high);
	assert_int_equal(x->forgotten, x->highest);
	imap_index_sync(x, &l, NOW + 10);
	end(x, NOW + 10);
	assert_true(imap_index_find(x, 1)->modseq > high);
	high = x->highest;
	/* another UIDVALIDITY: the old index is foreign */
	assert_int_equal(imap_index_begin(x, 43, NOW + 20, &err), 0);
	assert_true(x->rebuilt);
	assert_int_equal(x->uidvalidity, 43);
	assert_true(x->highest > high);
	end(x, NOW + 20);
	imap_index_close(x);
	maildir_list_free(&l);
	free(p);
}

static void
test_dead_writer_tail_cut(void **state)
{
	struct imap_index	*x;
	struct maildir_list	 l;
	struct buf		 b;
	struct stat		 st;
	char			*p = path_of(IMAP_INDEX_FILE);
	off_t			 good;
	int			 fd;

	(void)state;
	listing(&l, 2, "");
	x = open_begin(NOW);
	imap_index_sync(x, &l, NOW);
	end(x, NOW);
	imap_index_close(x);
	assert_int_equal(stat(p, &st), 0);
	good = st.st_size;
	/* half a record, as a writer killed in write(2) leaves it */
	buf_init(&b, SIZE_MAX);
	imap_index_put_msg(&b, 1, ((uint64_t)NOW << 20) + 99, 1);
	fd = open(p, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, b.data, 11), 11);
	(void)close(fd);
	x = open_begin(NOW);
	assert_false(x->rebuilt);
	assert_int_equal(imap_index_find(x, 1)->flags, 0);
	end(x, NOW);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, good);
	imap_index_close(x);
	buf_free(&b);
	maildir_list_free(&l);
	free(p);
}

static void
test_compaction_keeps_cache(void **state)
{
	struct imap_index	*x, *y;
	struct imap_index_cache	 ca;
	struct maildir_list	 l;
	struct stat		 st;
	char			*p = path_of(IMAP_INDEX_FILE), env[64];
	uint64_t		 last = 0, total = 0;
	size_t			 shrank = 0;
	size_t			 i, k;

	(void)state;
	listing(&l, 100, "");
	x = open_begin(NOW);
	imap_index_sync(x, &l, NOW);
	for (i = 0; i < 100; i++) {
		(void)snprintf(env, sizeof(env), "(\"env %zu\")", i);
		/* half added under the lock, half queued for end() */
		(i % 2 ? imap_index_cache_add : imap_index_cache_queue)(x,
		    (uint32_t)i + 1, 100 + i, span_str(env),
		    span_str("(\"body\")"), span_str("(\"bs\")"));
	}
	end(x, NOW);
	assert_int_equal(x->pend.len, 0);
	/* one message's flags, over and over: appends, then a compaction */
	for (k = 0; k < 20000; k++) {
		assert_int_equal(imap_index_begin(x, 42, NOW,
		    &(const char *){ 0 }), 0);
		(void)imap_index_set(x, 7, k % 2 ? "S" : "", NOW);
		end(x, NOW);
		assert_int_equal(stat(p, &st), 0);
		if ((uint64_t)st.st_size > total)
			total = (uint64_t)st.st_size;
		if ((uint64_t)st.st_size < last)
			shrank++;
		last = (uint64_t)st.st_size;
	}
	assert_true(shrank > 0);		/* it was rewritten */
	assert_true(total < 2 * 1024 * 1024);	/* and stayed small */
	/* both the writer and a fresh reader still have every cache */
	y = open_begin(NOW);
	assert_false(y->rebuilt);
	end(y, NOW);
	imap_index_cache_init(&ca);
	for (i = 0; i < 100; i++) {
		(void)snprintf(env, sizeof(env), "(\"env %zu\")", i);
		assert_int_equal(imap_index_cache_get(x, (uint32_t)i + 1,
		    100 + i, &ca), 0);
		assert_int_equal(ca.envelope.len, strlen(env));
		assert_memory_equal(ca.envelope.data, env, ca.envelope.len);
		assert_int_equal(imap_index_cache_get(y, (uint32_t)i + 1,
		    100 + i, &ca), 0);
		assert_memory_equal(ca.envelope.data, env, ca.envelope.len);
		assert_int_equal(ca.bodystructure.len, 6);
	}
	/* a different size is another file: no cache */
	assert_int_equal(imap_index_cache_get(y, 1, 5, &ca), -1);
	assert_int_equal(imap_index_find(y, 7)->modseq,
	    imap_index_find(x, 7)->modseq);
	assert_int_equal(y->highest, x->highest);
	imap_index_cache_free(&ca);
	imap_index_close(x);
	imap_index_close(y);
	maildir_list_free(&l);
	free(p);
}

/*
 * Cache records are located, not checked, when the file is read (SELECT
 * would otherwise checksum megabytes of cache): a damaged one does not
 * make the index rebuilt (MODSEQs kept), is refused when it is used,
 * the others still serve, and a compaction leaves it out.
 */
static void
test_cache_checked_when_used(void **state)
{
	struct imap_index	*x, *y;
	struct imap_index_cache	 ca;
	struct maildir_list	 l;
	char			*p = path_of(IMAP_INDEX_FILE);
	uint64_t		 m2, off;
	size_t			 k;
	int			 fd;
	unsigned char		 c;

	(void)state;
	assert_int_equal(sizeof(struct imap_index_msg), 32);
	listing(&l, 3, "");
	x = open_begin(NOW);
	imap_index_sync(x, &l, NOW);
	imap_index_cache_add(x, 1, 100, span_str("(\"one\")"),
	    span_str("(b)"), span_str("(bs)"));
	imap_index_cache_add(x, 2, 101, span_str("(\"two\")"),
	    span_str("(b)"), span_str("(bs)"));
	end(x, NOW);
	m2 = imap_index_find(x, 2)->modseq;
	/* one byte of message 2's envelope flipped on disk */
	off = imap_index_find(x, 2)->cache_off + 4 + 13 + 4 + 2;
	assert_true((fd = open(p, O_RDWR)) != -1);
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	(void)close(fd);

	y = open_begin(NOW);
	assert_false(y->rebuilt);
	assert_false(y->lazy);			/* only while reading */
	assert_int_equal(imap_index_find(y, 2)->modseq, m2);
	assert_true(imap_index_find(y, 2)->cache_off > 0);
	end(y, NOW);
	imap_index_cache_init(&ca);
	assert_int_equal(imap_index_cache_get(y, 1, 100, &ca), 0);
	assert_memory_equal(ca.envelope.data, "(\"one\")", 7);
	assert_int_equal(imap_index_cache_get(y, 2, 101, &ca), -1);
	/* the size a record was made for is checked from the record */
	assert_int_equal(imap_index_cache_get(y, 1, 99, &ca), -1);

	/* a strict apply (a buffer, not the file) still refuses it */
	{
		struct imap_index	 z;
		struct buf		 b;
		const char		*err = NULL;
		size_t			 used;

		buf_init(&b, SIZE_MAX);
		imap_index_put_header(&b, 7, 1, 0);
		imap_index_put_msg(&b, 1, 2, 0);
		(void)imap_index_put_cache(&b, 1, 5, span_str("(e)"),
		    span_str("(b)"), span_str("(s)"));
		b.data[b.len - 6] ^= 0x01;
		imap_index_init(&z);
		assert_int_equal(imap_index_apply(&z, b.data, b.len, 0,
		    &used, &err), -1);
		imap_index_reset(&z);
		buf_free(&z.wr);
		buf_free(&b);
	}

	/* flag changes until a compaction: it copies the sound record only */
	for (k = 0; k < 20000 && imap_index_find(y, 2)->cache_off != 0;
	    k++) {
		assert_int_equal(imap_index_begin(y, 42, NOW,
		    &(const char *){ 0 }), 0);
		(void)imap_index_set(y, 3, k % 2 ? "S" : "", NOW);
		end(y, NOW);
	}
	assert_true(k < 20000);
	assert_int_equal(imap_index_find(y, 2)->cache_off, 0);
	assert_int_equal(imap_index_find(y, 2)->modseq, m2);
	assert_int_equal(imap_index_cache_get(y, 1, 100, &ca), 0);
	imap_index_cache_free(&ca);
	imap_index_close(x);
	imap_index_close(y);
	maildir_list_free(&l);
	free(p);
}

static void
test_vanished_sets_and_forgetting(void **state)
{
	struct imap_index	 x;
	struct imap_seqset	 set;
	struct imap_range	 r[2] = { { 2, 4 }, { 9, IMAP_SEQ_STAR } };
	struct buf		 b, v;
	const char		*err = NULL;
	size_t			 used, i;

	(void)state;
	buf_init(&b, SIZE_MAX);
	buf_init(&v, SIZE_MAX);
	imap_index_put_header(&b, 7, 10, 10);
	for (i = 1; i <= 10; i++)
		imap_index_put_msg(&b, (uint32_t)i, 10 + i, 0);
	imap_index_put_gone(&b, 3, 3, 30);
	imap_index_put_gone(&b, 9, 10, 31);
	imap_index_init(&x);
	assert_int_equal(imap_index_apply(&x, b.data, b.len, 0, &used, &err),
	    0);
	imap_index_vanished(&x, 20, NULL, 11, &v);
	assert_string_equal(v.data, "3,9:10");
	buf_reset(&v);
	imap_index_vanished(&x, 30, NULL, 11, &v);
	assert_string_equal(v.data, "9:10");
	buf_reset(&v);
	set.r = r;
	set.n = 2;
	set.last = false;
	imap_index_vanished(&x, 20, &set, 11, &v);
	assert_string_equal(v.data, "3,9:10");
	buf_reset(&v);
	/* older than what is remembered: every UID not live, in the set */
	imap_index_vanished(&x, 5, &set, 13, &v);
	assert_string_equal(v.data, "3,9:12");
	buf_reset(&v);
	/* past the bound, the oldest expunges are forgotten */
	buf_reset(&b);
	for (i = 0; i < IMAP_INDEX_GONE_MAX + 5; i++)
		imap_index_put_gone(&b, (uint32_t)(100 + 2 * i),
		    (uint32_t)(100 + 2 * i), 40 + i);
	assert_int_equal(imap_index_apply(&x, b.data, b.len, 1000, &used,
	    &err), 0);
	assert_int_equal(x.ngone, IMAP_INDEX_GONE_MAX);
	/* 7 dropped: modseqs 30, 31, 40 ... 44 */
	assert_int_equal(x.forgotten, 44);
	imap_index_vanished(&x, 43, NULL, 11, &v);
	assert_string_equal(v.data, "3,9:10");	/* conservative */
	imap_index_reset(&x);
	buf_free(&x.wr);
	buf_free(&b);
	buf_free(&v);
}

static void
test_next_follows_the_clock(void **state)
{
	struct imap_index	x;

	(void)state;
	imap_index_init(&x);
	x.highest = 5;
	assert_int_equal(imap_index_next(&x, 0), 6);
	assert_int_equal(imap_index_next(&x, NOW), (uint64_t)NOW << 20);
	x.highest = ((uint64_t)NOW << 20) + 7;
	assert_int_equal(imap_index_next(&x, NOW), x.highest + 1);
	buf_free(&x.wr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flag_mask),
		cmocka_unit_test(test_records_round_trip),
		cmocka_unit_test(test_records_cut_and_corrupt),
		cmocka_unit_test_setup_teardown(test_file_sync_and_read_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rebuild_after_garbage_and_uidvalidity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_writer_tail_cut,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction_keeps_cache,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_checked_when_used,
		    setup, teardown),
		cmocka_unit_test(test_vanished_sets_and_forgetting),
		cmocka_unit_test(test_next_follows_the_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
