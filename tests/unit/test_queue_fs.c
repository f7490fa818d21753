/*
 * Unit tests for queue_fs: queue ids, the envelope text (round trips with
 * hostile bytes in every string field, a table of rejected inputs, every
 * truncation), and the spool in a fresh mkdtemp directory per test:
 * create, write through a copy of the fd, commit, scan, state updates,
 * removal, and the crash leftovers the scan must clean up.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "buf.h"
#include "queue_fs.h"
#include "util.h"

#define T0	UINT64_C(1700000000000)	/* 2023-11-14, in ms */
#define MSG	"Received: from x\r\nSubject: hi\r\n\r\nHello.\r\n"

/* Every byte class the text form must escape, and UTF-8. */
static const char	hostile[] =
    "a b\r\n\tc%d%25\x01\x1f\x7f\x80\xff<x@y> caf\xc3\xa9 \xe2\x82\xac end ";

struct fx {
	char		 dir[64];
	struct queue_fs	*q;
};

/* --- helpers ----------------------------------------------------------- */

static int
fx_setup(void **state)
{
	struct fx	*f = xcalloc(1, sizeof(*f));

	(void)str_copy(f->dir, sizeof(f->dir), "/tmp/test_queue_fs.XXXXXX");
	if (mkdtemp(f->dir) == NULL || (f->q = queue_fs_open(f->dir)) == NULL) {
		testutil_rmtree(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	queue_fs_close(f->q);
	testutil_rmtree(f->dir);
	free(f);
	return 0;
}

/* Names in dir/sub, not counting "." and "..". */
static size_t
count_files(struct fx *f, const char *sub)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[128];
	size_t		 n = 0;

	snprintf(path, sizeof(path), "%s/%s", f->dir, sub);
	if ((d = opendir(path)) == NULL) {
		fail_msg("opendir %s", path);
		return 0;	/* not reached: fail_msg() longjmps */
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static bool
exists(struct fx *f, const char *sub, const char *name)
{
	char	path[160];

	snprintf(path, sizeof(path), "%s/%s/%s", f->dir, sub, name);
	return access(path, F_OK) == 0;
}

static void
env_make(struct queue_fs_envelope *e, const char *id, size_t nrcpts)
{
	size_t	i;

	memset(e, 0, sizeof(*e));
	(void)str_copy(e->id, sizeof(e->id), id);
	e->created = 1700000000;
	e->sender = xstrdup("alice@example.org");
	e->size = 1234;
	e->body = QUEUE_FS_BODY_8BITMIME;
	e->ret = QUEUE_FS_RET_HDRS;
	e->envid = xstrdup("QQ314159");
	e->helo = xstrdup("client.example.org");
	e->ip = xstrdup("192.0.2.1");
	e->user = xstrdup("alice");
	e->rcpts = xcalloc(nrcpts, sizeof(*e->rcpts));
	e->nrcpts = nrcpts;
	for (i = 0; i < nrcpts; i++) {
		e->rcpts[i].addr = xasprintf("r%zu@example.net", i);
		e->rcpts[i].notify = QUEUE_FS_NOTIFY_FAILURE |
		    QUEUE_FS_NOTIFY_DELAY;
	}
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
assert_env_equal(const struct queue_fs_envelope *a,
    const struct queue_fs_envelope *b)
{
	size_t	i;

	assert_string_equal(a->id, b->id);
	assert_int_equal(a->created, b->created);
	assert_true(str_eq(a->sender, b->sender));
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->body, b->body);
	assert_int_equal(a->smtputf8, b->smtputf8);
	assert_int_equal(a->requiretls, b->requiretls);
	assert_int_equal(a->ret, b->ret);
	assert_true(str_eq(a->envid, b->envid));
	assert_true(str_eq(a->auth, b->auth));
	assert_true(str_eq(a->helo, b->helo));
	assert_true(str_eq(a->ip, b->ip));
	assert_true(str_eq(a->user, b->user));
	assert_int_equal(a->held, b->held);
	assert_int_equal(a->nrcpts, b->nrcpts);
	for (i = 0; i < a->nrcpts; i++) {
		assert_true(str_eq(a->rcpts[i].addr, b->rcpts[i].addr));
		assert_int_equal(a->rcpts[i].notify, b->rcpts[i].notify);
		assert_true(str_eq(a->rcpts[i].orcpt, b->rcpts[i].orcpt));
		assert_true(str_eq(a->rcpts[i].sender, b->rcpts[i].sender));
		assert_int_equal(a->rcpts[i].has_parent,
		    b->rcpts[i].has_parent);
		assert_int_equal(a->rcpts[i].parent, b->rcpts[i].parent);
		assert_int_equal(a->rcpts[i].state, b->rcpts[i].state);
		assert_int_equal(a->rcpts[i].attempts, b->rcpts[i].attempts);
		assert_int_equal(a->rcpts[i].next_try, b->rcpts[i].next_try);
		assert_true(str_eq(a->rcpts[i].error, b->rcpts[i].error));
		assert_true(str_eq(a->rcpts[i].remote, b->rcpts[i].remote));
		assert_int_equal(a->rcpts[i].warned, b->rcpts[i].warned);
	}
}

/* Encode, decode, compare, and encode again to the same bytes. */
static void
roundtrip(const struct queue_fs_envelope *e)
{
	struct queue_fs_envelope	 d;
	struct buf			 b1, b2;
	const char			*err = NULL;
	size_t				 i;

	buf_init(&b1, QUEUE_FS_ENV_MAX);
	buf_init(&b2, QUEUE_FS_ENV_MAX);
	assert_int_equal(queue_fs_envelope_encode(e, &b1), 0);
	/* Only printable ASCII and LF on disk: `cat` shows it all. */
	for (i = 0; i < b1.len; i++)
		assert_true(b1.data[i] == '\n' ||
		    (b1.data[i] >= 0x20 && b1.data[i] < 0x7f));
	if (queue_fs_envelope_decode(b1.data, b1.len, &d, &err) != 0)
		fail_msg("decode: %s", err);
	assert_env_equal(e, &d);
	assert_int_equal(queue_fs_envelope_encode(&d, &b2), 0);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.data, b2.data, b1.len);
	queue_fs_envelope_free(&d);
	buf_free(&b1);
	buf_free(&b2);
}

/* Create a message, write msg through a copy of the fd, return both. */
static void
make_message(struct fx *f, uint64_t now, const char *msg, size_t len,
    char id[QID_SIZE], int *fd_out)
{
	int	fd, smtpfd;

	assert_int_equal(queue_fs_create(f->q, now, id, &fd), 0);
	/* What SCM_RIGHTS hands the smtp role: the same file description. */
	smtpfd = dup(fd);
	assert_true(smtpfd != -1);
	assert_int_equal(write_full(smtpfd, msg, len), 0);
	close(smtpfd);
	*fd_out = fd;
}

static void
commit_one(struct fx *f, uint64_t now, char id[QID_SIZE])
{
	struct queue_fs_envelope	e;
	int				fd;

	make_message(f, now, MSG, sizeof(MSG) - 1, id, &fd);
	env_make(&e, id, 2);
	assert_int_equal(queue_fs_commit(f->q, fd, sizeof(MSG) - 1, &e), 0);
	close(fd);
	queue_fs_envelope_free(&e);
}

struct seen {
	struct queue_fs_envelope	env[64];
	uint64_t			msglen[64];
	size_t				n;
	int				stop_after;
};

static int
collect(void *arg, struct queue_fs_envelope *env, uint64_t msglen)
{
	struct seen	*s = arg;

	assert_true(s->n < 64);
	/* Keep it by moving it out, as the contract allows. */
	s->env[s->n] = *env;
	memset(env, 0, sizeof(*env));
	s->msglen[s->n++] = msglen;
	if (s->stop_after > 0 && s->n == (size_t)s->stop_after)
		return -1;
	return 0;
}

static void
seen_free(struct seen *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		queue_fs_envelope_free(&s->env[i]);
	s->n = 0;
}

static void
write_path(struct fx *f, const char *sub, const char *name, const char *text,
    size_t len)
{
	char	path[160];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s/%s", f->dir, sub, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write_full(fd, text, len), 0);
	close(fd);
}

static void
patch_byte(struct fx *f, const char *sub, const char *name, off_t off,
    char c)
{
	char	path[160];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s/%s", f->dir, sub, name);
	fd = open(path, O_WRONLY);
	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* --- ids --------------------------------------------------------------- */

static void
test_id_format(void **state)
{
	char	id[QID_SIZE];
	int	i;

	qid_new(T0, id);
	assert_int_equal(strlen(id), QID_LEN);
	for (i = 0; i < QID_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	assert_true(qid_valid(id));
	assert_int_equal(qid_time(id), T0);
}

static void
test_id_valid_rejects(void **state)
{
	static const char *const bad[] = {
		"", "0123456789abcde", "0123456789abcdef0",
		"0123456789ABCDEF", "0123456789abcdeg", "0123456789abcde ",
		"../queue/0123456", "0123456789abcde\n",
	};
	size_t	i;

	assert_false(qid_valid(NULL));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qid_valid(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_true(qid_valid("0123456789abcdef"));
}

static void
test_id_unique_and_increasing_in_one_ms(void **state)
{
	char	prev[QID_SIZE], id[QID_SIZE];
	int	i;

	qid_new(T0 + 1000, prev);
	for (i = 0; i < 10000; i++) {
		qid_new(T0 + 1000, id);
		assert_true(strcmp(prev, id) < 0);
		memcpy(prev, id, sizeof(id));
	}
	/* 4096 per millisecond, then the next ones are borrowed. */
	assert_true(qid_time(id) > T0 + 1000);
}

static void
test_id_sorts_by_time(void **state)
{
	char	a[QID_SIZE], b[QID_SIZE];

	qid_new(T0 + 100000, a);
	qid_new(T0 + 100001, b);
	assert_true(strcmp(a, b) < 0);
	assert_int_equal(qid_time(b), T0 + 100001);
	/* Ten years later still sorts after, as a string. */
	qid_new(T0 + UINT64_C(315360000000), a);
	assert_true(strcmp(b, a) < 0);
}

static void
test_id_clock_step_back_still_increases(void **state)
{
	char	a[QID_SIZE], b[QID_SIZE];

	qid_new(T0 + 500000000, a);
	qid_new(T0, b);
	assert_true(strcmp(a, b) < 0);
}

/* --- CRC --------------------------------------------------------------- */

static void
test_crc32c_check_value(void **state)
{
	uint32_t	c;

	/* The CRC-32C check value (RFC 3720 §B.4 polynomial). */
	assert_int_equal(queue_fs_crc32c(0, "123456789", 9), 0xe3069283U);
	c = queue_fs_crc32c(0, "1234", 4);
	assert_int_equal(queue_fs_crc32c(c, "56789", 5), 0xe3069283U);
	assert_int_equal(queue_fs_crc32c(0, "", 0), 0);
}

/* --- envelope text ----------------------------------------------------- */

static void
test_envelope_roundtrip_plain(void **state)
{
	struct queue_fs_envelope	e;

	env_make(&e, "0123456789abcdef", 3);
	e.rcpts[1].state = QUEUE_FS_RCPT_DELIVERED;
	e.rcpts[1].attempts = 2;
	e.rcpts[1].next_try = 1700003600;
	e.rcpts[1].orcpt = xstrdup("rfc822;r1@example.net");
	e.rcpts[2].state = QUEUE_FS_RCPT_BOUNCED;
	e.rcpts[2].notify = QUEUE_FS_NOTIFY_NEVER;
	e.rcpts[2].error = xstrdup("550 5.1.1 no such user");
	roundtrip(&e);
	queue_fs_envelope_free(&e);
}

/* A held message; a remote reply with its server; a delay DSN sent. */
static void
test_envelope_roundtrip_outbound_fields(void **state)
{
	struct queue_fs_envelope	e;
	struct buf			b;

	env_make(&e, "0123456789abcdef", 2);
	e.held = true;
	e.rcpts[0].error = xstrdup("451 4.7.1 greylisted");
	e.rcpts[0].remote = xstrdup("mx.example.net[192.0.2.1]");
	e.rcpts[0].warned = 1700014400;
	e.rcpts[1].remote = xstrdup("");
	roundtrip(&e);
	buf_init(&b, SIZE_MAX);
	assert_int_equal(queue_fs_envelope_encode(&e, &b), 0);
	assert_non_null(strstr(b.data, "\nhold yes\nrcpts 2\n"));
	assert_non_null(strstr(b.data, "error 451%204.7.1%20greylisted\n"
	    "remote mx.example.net[192.0.2.1]\nwarned 1700014400\n"));
	buf_free(&b);
	e.rcpts[0].warned = -1;
	buf_init(&b, SIZE_MAX);
	assert_int_equal(queue_fs_envelope_encode(&e, &b), -1);
	buf_free(&b);
	queue_fs_envelope_free(&e);
}

static void
test_envelope_roundtrip_expanded_with_parents(void **state)
{
	struct queue_fs_envelope	e;

	/* r0 -> r1, r2; r2 -> r3 (nested); r4 an original again. */
	env_make(&e, "0123456789abcdef", 5);
	e.rcpts[0].state = QUEUE_FS_RCPT_EXPANDED;
	e.rcpts[1].has_parent = true;
	e.rcpts[1].parent = 0;
	e.rcpts[1].orcpt = xstrdup("rfc822;r0@example.net");
	e.rcpts[1].state = QUEUE_FS_RCPT_DELIVERED;
	e.rcpts[2].has_parent = true;
	e.rcpts[2].parent = 0;
	e.rcpts[2].state = QUEUE_FS_RCPT_EXPANDED;
	e.rcpts[3].has_parent = true;
	e.rcpts[3].parent = 2;
	e.rcpts[3].state = QUEUE_FS_RCPT_FAILED;
	e.rcpts[3].error = xstrdup("5.4.6 alias loop");
	roundtrip(&e);
	queue_fs_envelope_free(&e);
}

/* A forwarded copy with its own (SRS) reverse-path, after parent. */
static void
test_envelope_roundtrip_rcpt_sender(void **state)
{
	struct queue_fs_envelope	e;
	struct buf			b;

	env_make(&e, "0123456789abcdef", 3);
	e.rcpts[0].state = QUEUE_FS_RCPT_EXPANDED;
	e.rcpts[1].has_parent = true;
	e.rcpts[1].parent = 0;
	e.rcpts[1].sender = xstrdup("SRS0=ABCDEFGH=RA=x.example=a b@y.org");
	e.rcpts[2].sender = xstrdup("");
	roundtrip(&e);
	buf_init(&b, SIZE_MAX);
	assert_int_equal(queue_fs_envelope_encode(&e, &b), 0);
	assert_non_null(strstr(b.data, "\nparent 0\n"
	    "sender <SRS0=ABCDEFGH=RA=x.example=a%20b@y.org>\nstate "));
	assert_non_null(strstr(b.data, "\nsender <>\nstate "));
	buf_free(&b);
	queue_fs_envelope_free(&e);
}

static void
test_envelope_roundtrip_optional_absent_null_sender(void **state)
{
	struct queue_fs_envelope	e;

	env_make(&e, "0123456789abcdef", 1);
	free(e.sender);
	e.sender = xstrdup("");
	free(e.envid);
	free(e.helo);
	free(e.ip);
	free(e.user);
	e.envid = e.helo = e.ip = e.user = NULL;
	e.body = QUEUE_FS_BODY_7BIT;
	e.ret = QUEUE_FS_RET_UNSET;
	e.rcpts[0].notify = 0;
	roundtrip(&e);
	queue_fs_envelope_free(&e);
}

static void
test_envelope_roundtrip_empty_strings(void **state)
{
	struct queue_fs_envelope	e;

	env_make(&e, "0123456789abcdef", 1);
	free(e.envid);
	free(e.helo);
	e.envid = xstrdup("");
	e.helo = xstrdup("");
	e.auth = xstrdup("");
	e.rcpts[0].error = xstrdup("");
	e.rcpts[0].orcpt = xstrdup("");
	roundtrip(&e);
	queue_fs_envelope_free(&e);
}

static void
test_envelope_roundtrip_hostile_every_field(void **state)
{
	struct queue_fs_envelope	e;
	size_t				i;

	env_make(&e, "ffffffffffffffff", 2);
	e.created = INT64_MAX;
	e.size = UINT64_MAX;
	e.body = QUEUE_FS_BODY_BINARYMIME;
	e.smtputf8 = true;
	e.requiretls = true;
	e.ret = QUEUE_FS_RET_FULL;
	free(e.sender);
	free(e.envid);
	free(e.helo);
	free(e.ip);
	free(e.user);
	e.sender = xstrdup(hostile);
	e.envid = xstrdup(hostile);
	e.auth = xstrdup(hostile);
	e.helo = xstrdup(hostile);
	e.ip = xstrdup(hostile);
	e.user = xstrdup(hostile);
	for (i = 0; i < e.nrcpts; i++) {
		free(e.rcpts[i].addr);
		e.rcpts[i].addr = xstrdup(hostile);
		e.rcpts[i].orcpt = xstrdup(hostile);
		e.rcpts[i].error = xstrdup(hostile);
		e.rcpts[i].attempts = UINT32_MAX;
		e.rcpts[i].next_try = INT64_MAX;
		e.rcpts[i].notify = QUEUE_FS_NOTIFY_SUCCESS |
		    QUEUE_FS_NOTIFY_FAILURE | QUEUE_FS_NOTIFY_DELAY;
	}
	roundtrip(&e);
	queue_fs_envelope_free(&e);
}

static void
test_envelope_roundtrip_longest_fields_and_many_rcpts(void **state)
{
	struct queue_fs_envelope	 e;
	char				*big;
	size_t				 i;

	/* All escaped: the longest line the encoder can write. */
	big = xmalloc(QUEUE_FS_STR_MAX + 1);
	memset(big, '\n', QUEUE_FS_STR_MAX);
	big[QUEUE_FS_STR_MAX] = '\0';
	env_make(&e, "0123456789abcdef", QUEUE_FS_RCPTS_MAX);
	e.rcpts[0].error = xstrdup(big);
	free(e.sender);
	e.sender = xstrdup(big);
	for (i = 0; i < e.nrcpts; i++)
		e.rcpts[i].attempts = (uint32_t)i;
	roundtrip(&e);
	queue_fs_envelope_free(&e);
	free(big);
}

struct enc_bad {
	const char	*name;
	void		(*mutate)(struct queue_fs_envelope *);
};

static void
mut_id(struct queue_fs_envelope *e)
{
	e->id[3] = 'X';
}

static void
mut_created(struct queue_fs_envelope *e)
{
	e->created = -1;
}

static void
mut_sender_null(struct queue_fs_envelope *e)
{
	free(e->sender);
	e->sender = NULL;
}

static void
mut_body(struct queue_fs_envelope *e)
{
	e->body = 7;
}

static void
mut_ret(struct queue_fs_envelope *e)
{
	e->ret = 9;
}

static void
mut_nrcpts0(struct queue_fs_envelope *e)
{
	e->nrcpts = 0;
}

static void
mut_never_plus(struct queue_fs_envelope *e)
{
	e->rcpts[0].notify = QUEUE_FS_NOTIFY_NEVER | QUEUE_FS_NOTIFY_DELAY;
}

static void
mut_notify_bit(struct queue_fs_envelope *e)
{
	e->rcpts[0].notify = 0x10;
}

static void
mut_empty_rcpt(struct queue_fs_envelope *e)
{
	e->rcpts[0].addr[0] = '\0';
}

static void
mut_state(struct queue_fs_envelope *e)
{
	e->rcpts[0].state = QUEUE_FS_RCPT_EXPANDED + 1;
}

static void
mut_parent_self(struct queue_fs_envelope *e)
{
	e->rcpts[0].state = QUEUE_FS_RCPT_EXPANDED;
	e->rcpts[0].has_parent = true;
	e->rcpts[0].parent = 0;
}

static void
mut_parent_not_expanded(struct queue_fs_envelope *e)
{
	e->rcpts[1].has_parent = true;
	e->rcpts[1].parent = 0;
}

static void
mut_parent_later(struct queue_fs_envelope *e)
{
	e->rcpts[1].state = QUEUE_FS_RCPT_EXPANDED;
	e->rcpts[0].has_parent = true;
	e->rcpts[0].parent = 1;
}

static void
mut_next(struct queue_fs_envelope *e)
{
	e->rcpts[0].next_try = -5;
}

static void
mut_long_helo(struct queue_fs_envelope *e)
{
	free(e->helo);
	e->helo = xmalloc(QUEUE_FS_STR_MAX + 2);
	memset(e->helo, 'h', QUEUE_FS_STR_MAX + 1);
	e->helo[QUEUE_FS_STR_MAX + 1] = '\0';
}

static const struct enc_bad enc_bad[] = {
	{ "encode rejects a bad id", mut_id },
	{ "encode rejects a negative created", mut_created },
	{ "encode rejects a NULL sender", mut_sender_null },
	{ "encode rejects an unknown body", mut_body },
	{ "encode rejects an unknown ret", mut_ret },
	{ "encode rejects zero recipients", mut_nrcpts0 },
	{ "encode rejects NEVER with another notify bit", mut_never_plus },
	{ "encode rejects an unknown notify bit", mut_notify_bit },
	{ "encode rejects an empty recipient", mut_empty_rcpt },
	{ "encode rejects an unknown rcpt state", mut_state },
	{ "encode rejects a recipient that is its own parent",
	    mut_parent_self },
	{ "encode rejects a parent that was not expanded",
	    mut_parent_not_expanded },
	{ "encode rejects a parent after its child", mut_parent_later },
	{ "encode rejects a negative next try", mut_next },
	{ "encode rejects a string over QUEUE_FS_STR_MAX", mut_long_helo },
};

static void
test_encode_bad(void **state)
{
	const struct enc_bad		*t = *state;
	struct queue_fs_envelope	 e;
	struct buf			 b;
	size_t				 n;

	env_make(&e, "0123456789abcdef", 2);
	n = e.nrcpts;
	t->mutate(&e);
	buf_init(&b, QUEUE_FS_ENV_MAX);
	assert_int_equal(buf_append_str(&b, "keep"), 0);
	errno = 0;
	assert_int_equal(queue_fs_envelope_encode(&e, &b), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "keep");
	e.nrcpts = n;
	queue_fs_envelope_free(&e);
	buf_free(&b);
}

static void
test_encode_respects_buf_ceiling(void **state)
{
	struct queue_fs_envelope	e;
	struct buf			b;

	env_make(&e, "0123456789abcdef", 1);
	buf_init(&b, 64);
	assert_int_equal(queue_fs_envelope_encode(&e, &b), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(b.len, 0);
	queue_fs_envelope_free(&e);
	buf_free(&b);
}

/* A valid envelope text whose "end" line is recomputed after edits. */
static char *
fix_crc(const char *body)
{
	return xasprintf("%send %08x\n", body,
	    queue_fs_crc32c(0, body, strlen(body)));
}

#define GOOD_HEAD							\
	"cachet-envelope 1\nid 0123456789abcdef\ncreated 1700000000\n"	\
	"from <a@b>\nsize 0\nbody 7bit\nsmtputf8 no\nret unset\n"
#define GOOD_RCPT							\
	"rcpt <c@d>\nnotify unset\nstate pending\nattempts 0\nnext 0\n"
#define EXPANDED_RCPT							\
	"rcpt <c@d>\nnotify unset\nstate expanded\nattempts 0\nnext 0\n"
#define CHILD_RCPT(p)							\
	"rcpt <e@f>\nnotify unset\nparent " p "\nstate pending\n"	\
	"attempts 0\nnext 0\n"

struct dec_bad {
	const char	*name;
	const char	*body;		/* before the end line */
	size_t		 len;		/* of body, when it holds a NUL */
	bool		 crc;		/* append a correct end line */
	const char	*err;		/* expected errstr, NULL: accepted */
	void		(*build)(struct buf *);	/* instead of body */
};

static void
build_after_end(struct buf *b)
{
	char	*t = fix_crc(GOOD_HEAD "rcpts 1\n" GOOD_RCPT);

	buf_append_str(b, t);
	buf_append_str(b, "\n");
	free(t);
}

static void
build_long_line(struct buf *b)
{
	size_t	i;

	buf_append_str(b, GOOD_HEAD "helo ");
	for (i = 0; i < QUEUE_FS_LINE_MAX; i++)
		buf_append_char(b, 'x');
	buf_append_str(b, "\nrcpts 1\n" GOOD_RCPT);
}

static void
build_long_field(struct buf *b)
{
	size_t	i;

	/* One decoded byte over the limit, in a line that is not long. */
	buf_append_str(b, GOOD_HEAD "rcpts 1\n" GOOD_RCPT "error ");
	for (i = 0; i <= QUEUE_FS_STR_MAX; i++)
		buf_append_char(b, 'e');
	buf_append_str(b, "\n");
}

static const struct dec_bad dec_bad[] = {
	{ "decode accepts the good base", GOOD_HEAD "rcpts 1\n" GOOD_RCPT, 0,
	    true, NULL, NULL },
	{ "decode rejects empty input", "", 0, false,
	    "not a version 1 envelope", NULL },
	{ "decode rejects garbage with a NUL", "\x00\xff garbage\n", 11,
	    false, "not a version 1 envelope", NULL },
	{ "decode rejects version 2", "cachet-envelope 2\n", 0, true,
	    "not a version 1 envelope", NULL },
	{ "decode rejects a CRLF line end", "cachet-envelope 1\r\n", 0, true,
	    "not a version 1 envelope", NULL },
	{ "decode rejects a bad CRC", GOOD_HEAD "rcpts 1\n" GOOD_RCPT
	    "end 00000000\n", 0, false, "envelope CRC mismatch", NULL },
	{ "decode rejects a non-hex CRC", GOOD_HEAD "rcpts 1\n" GOOD_RCPT
	    "end ZZZZZZZZ\n", 0, false, "envelope CRC mismatch", NULL },
	{ "decode rejects a missing end line", GOOD_HEAD "rcpts 1\n"
	    GOOD_RCPT, 0, false, "truncated envelope", NULL },
	{ "decode rejects bytes after end", NULL, 0, false,
	    "bytes after the end line", build_after_end },
	{ "decode rejects an upper-case id",
	    "cachet-envelope 1\nid 0123456789ABCDEF\n", 0, true, "bad id",
	    NULL },
	{ "decode rejects a short id", "cachet-envelope 1\nid 0123\n", 0,
	    true, "bad id", NULL },
	{ "decode rejects a leading zero", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 01\n", 0, true, "bad created line",
	    NULL },
	{ "decode rejects a sign", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated +1\n", 0, true, "bad created line",
	    NULL },
	{ "decode rejects created past INT64_MAX", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 9223372036854775808\n", 0, true,
	    "bad created line", NULL },
	{ "decode rejects a size past UINT64_MAX", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <>\n"
	    "size 18446744073709551616\n", 0, true, "bad size line", NULL },
	{ "decode rejects a sender without brackets", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom a@b\n", 0, true,
	    "bad from line", NULL },
	{ "decode rejects a raw space in a value", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <a b>\n", 0, true,
	    "bad from line", NULL },
	{ "decode rejects a raw CR", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <a\r>\n", 0, true,
	    "bad from line", NULL },
	{ "decode rejects a raw 8-bit byte", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <caf\xc3\xa9>\n", 0, true,
	    "bad from line", NULL },
	{ "decode rejects %00", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <a%00b>\n", 0, true,
	    "bad from line", NULL },
	{ "decode rejects lower-case escape hex", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <a%c3b>\n", 0, true,
	    "bad from line", NULL },
	{ "decode rejects an escape that was not needed",
	    "cachet-envelope 1\nid 0123456789abcdef\ncreated 1\n"
	    "from <%41>\n", 0, true, "bad from line", NULL },
	{ "decode rejects a cut escape", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <a%2>\n", 0, true,
	    "bad from line", NULL },
	{ "decode rejects an unknown body", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <>\nsize 0\nbody 9bit\n",
	    0, true, "bad body line", NULL },
	{ "decode rejects smtputf8 1", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <>\nsize 0\nbody 7bit\n"
	    "smtputf8 1\n", 0, true, "bad smtputf8 value", NULL },
	{ "decode rejects requiretls no", "cachet-envelope 1\n"
	    "id 0123456789abcdef\ncreated 1\nfrom <>\nsize 0\nbody 7bit\n"
	    "smtputf8 no\nret unset\nrequiretls no\n", 0, true,
	    "bad requiretls value", NULL },
	{ "decode rejects an unknown key", GOOD_HEAD "colour blue\n"
	    "rcpts 1\n" GOOD_RCPT, 0, true, "bad rcpts line", NULL },
	{ "decode rejects optional fields out of order", GOOD_HEAD
	    "ip 1.2.3.4\nhelo x\nrcpts 1\n" GOOD_RCPT, 0, true,
	    "bad rcpts line", NULL },
	{ "decode rejects a repeated field", GOOD_HEAD "helo x\nhelo y\n"
	    "rcpts 1\n" GOOD_RCPT, 0, true, "bad rcpts line", NULL },
	{ "decode rejects a key without a space", GOOD_HEAD "rcpts\n", 0,
	    true, "bad rcpts line", NULL },
	{ "decode rejects zero recipients", GOOD_HEAD "rcpts 0\n", 0, true,
	    "no recipients", NULL },
	{ "decode rejects more than the maximum recipients", GOOD_HEAD
	    "rcpts 10001\n", 0, true, "bad rcpts line", NULL },
	{ "decode rejects a count the text cannot hold", GOOD_HEAD
	    "rcpts 10000\n" GOOD_RCPT, 0, true,
	    "recipient count larger than the envelope", NULL },
	{ "decode rejects more recipients than counted", GOOD_HEAD
	    "rcpts 1\n" GOOD_RCPT GOOD_RCPT, 0, true, "bad end line", NULL },
	{ "decode rejects fewer recipients than counted", GOOD_HEAD
	    "rcpts 2\n" GOOD_RCPT "error xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nend 00000000\n", 0, false,
	    "bad rcpt line",
	    NULL },
	{ "decode rejects an empty recipient", GOOD_HEAD "rcpts 1\n"
	    "rcpt <>\nnotify unset\nstate pending\nattempts 0\nnext 0\n", 0,
	    true, "empty recipient address", NULL },
	{ "decode rejects notify out of order", GOOD_HEAD "rcpts 1\n"
	    "rcpt <c@d>\nnotify delay,failure\nstate pending\nattempts 0\n"
	    "next 0\n", 0, true, "bad notify value", NULL },
	{ "decode rejects never with success", GOOD_HEAD "rcpts 1\n"
	    "rcpt <c@d>\nnotify success,never\nstate pending\nattempts 0\n"
	    "next 0\n", 0, true, "bad notify value", NULL },
	{ "decode rejects an unknown state", GOOD_HEAD "rcpts 1\n"
	    "rcpt <c@d>\nnotify unset\nstate lost\nattempts 0\nnext 0\n", 0,
	    true, "bad state line", NULL },
	{ "decode rejects attempts past UINT32_MAX", GOOD_HEAD "rcpts 1\n"
	    "rcpt <c@d>\nnotify unset\nstate pending\nattempts 4294967296\n"
	    "next 0\n", 0, true, "bad attempts line", NULL },
	{ "decode accepts a recipient's own sender", GOOD_HEAD
	    "rcpts 2\n" EXPANDED_RCPT "rcpt <e@f>\nnotify unset\nparent 0\n"
	    "sender <SRS0=x@y>\nstate pending\nattempts 0\nnext 0\n", 0,
	    true, NULL, NULL },
	{ "decode rejects a sender without brackets", GOOD_HEAD "rcpts 1\n"
	    "rcpt <c@d>\nnotify unset\nsender a@b\nstate pending\n"
	    "attempts 0\nnext 0\n", 0, true, "bad sender line", NULL },
	{ "decode rejects a sender after the state line", GOOD_HEAD
	    "rcpts 1\nrcpt <c@d>\nnotify unset\nstate pending\n"
	    "sender <a@b>\nattempts 0\nnext 0\n", 0, true,
	    "bad attempts line", NULL },
	{ "decode accepts a child of an expanded recipient", GOOD_HEAD
	    "rcpts 2\n" EXPANDED_RCPT CHILD_RCPT("0"), 0, true, NULL, NULL },
	{ "decode rejects a parent that is not expanded", GOOD_HEAD
	    "rcpts 2\n" GOOD_RCPT CHILD_RCPT("0"), 0, true,
	    "bad parent value", NULL },
	{ "decode rejects a parent that is the recipient itself", GOOD_HEAD
	    "rcpts 2\n" EXPANDED_RCPT CHILD_RCPT("1"), 0, true,
	    "bad parent value", NULL },
	{ "decode rejects a parent that comes later", GOOD_HEAD
	    "rcpts 2\n" CHILD_RCPT("1") EXPANDED_RCPT, 0, true,
	    "bad parent value", NULL },
	{ "decode rejects a parent with a leading zero", GOOD_HEAD
	    "rcpts 2\n" EXPANDED_RCPT CHILD_RCPT("00"), 0, true,
	    "bad parent value", NULL },
	{ "decode rejects a parent after the state line", GOOD_HEAD
	    "rcpts 2\n" EXPANDED_RCPT "rcpt <e@f>\nnotify unset\n"
	    "state pending\nparent 0\nattempts 0\nnext 0\n", 0, true,
	    "bad attempts line", NULL },
	{ "decode accepts hold, remote and warned", GOOD_HEAD "hold yes\n"
	    "rcpts 1\n" GOOD_RCPT "error 4.4.1\nremote mx[1.2.3.4]\n"
	    "warned 17\n", 0, true, NULL, NULL },
	{ "decode rejects hold no", GOOD_HEAD "hold no\nrcpts 1\n" GOOD_RCPT,
	    0, true, "bad hold value", NULL },
	{ "decode rejects warned 0", GOOD_HEAD "rcpts 1\n" GOOD_RCPT
	    "warned 0\n", 0, true, "bad warned value", NULL },
	{ "decode rejects warned with a sign", GOOD_HEAD "rcpts 1\n"
	    GOOD_RCPT "warned -5\n", 0, true, "bad warned value", NULL },
	{ "decode rejects remote before error", GOOD_HEAD "rcpts 1\n"
	    GOOD_RCPT "remote a\nerror b\n", 0, true, "bad end line", NULL },
	{ "decode rejects hold after rcpts", GOOD_HEAD "rcpts 1\n"
	    "hold yes\n" GOOD_RCPT, 0, true, "bad rcpt line", NULL },
	{ "decode rejects a line too long", NULL, 0, true, "line too long",
	    build_long_line },
	{ "decode rejects a field over QUEUE_FS_STR_MAX", NULL, 0, true,
	    "bad error value", build_long_field },
};

static void
test_decode_bad(void **state)
{
	const struct dec_bad		*t = *state;
	struct queue_fs_envelope	 e;
	struct buf			 b;
	const char			*err = NULL;
	char				*text, *copy;
	size_t				 len;
	int				 rc;

	buf_init(&b, SIZE_MAX);
	if (t->build != NULL)
		t->build(&b);
	else
		buf_append(&b, t->body, t->len ? t->len : strlen(t->body));
	if (t->crc) {
		text = fix_crc(b.data);
		len = strlen(text);
	} else {
		text = xmalloc(b.len + 1);
		memcpy(text, b.data, b.len + 1);
		len = b.len;
	}
	/* Exactly its length on the heap: ASan sees any read past it. */
	copy = xmalloc(len);
	memcpy(copy, text, len);
	rc = queue_fs_envelope_decode(copy, len, &e, &err);
	if (t->err == NULL) {
		if (rc != 0)
			fail_msg("rejected: %s", err);
		queue_fs_envelope_free(&e);
	} else {
		assert_int_equal(rc, -1);
		assert_non_null(err);
		assert_string_equal(err, t->err);
		assert_null(e.sender);
		assert_null(e.rcpts);
	}
	free(copy);
	free(text);
	buf_free(&b);
}

static void
test_decode_every_truncation_fails(void **state)
{
	struct queue_fs_envelope	 e, d;
	struct buf			 b;
	const char			*err;
	char				*p;
	size_t				 n;

	env_make(&e, "0123456789abcdef", 2);
	e.rcpts[1].error = xstrdup(hostile);
	buf_init(&b, QUEUE_FS_ENV_MAX);
	assert_int_equal(queue_fs_envelope_encode(&e, &b), 0);
	for (n = 0; n < b.len; n++) {
		p = xmalloc(n + 1);
		memcpy(p, b.data, n);
		err = NULL;
		if (queue_fs_envelope_decode(p, n, &d, &err) == 0)
			fail_msg("accepted a %zu-byte prefix", n);
		assert_non_null(err);
		free(p);
	}
	queue_fs_envelope_free(&e);
	buf_free(&b);
}

static void
test_decode_every_flipped_byte_fails(void **state)
{
	struct queue_fs_envelope	 e, d;
	struct buf			 b;
	const char			*err;
	size_t				 i;
	char				 c;

	env_make(&e, "0123456789abcdef", 1);
	buf_init(&b, QUEUE_FS_ENV_MAX);
	assert_int_equal(queue_fs_envelope_encode(&e, &b), 0);
	for (i = 0; i < b.len; i++) {
		c = b.data[i];
		b.data[i] ^= 0x01;
		if (queue_fs_envelope_decode(b.data, b.len, &d, &err) == 0)
			fail_msg("accepted a flip at byte %zu", i);
		b.data[i] = c;
	}
	queue_fs_envelope_free(&e);
	buf_free(&b);
}

/* --- the spool --------------------------------------------------------- */

static void
test_open_creates_layout(void **state)
{
	struct fx	*f = *state;
	struct stat	 st;
	char		 path[128];
	const char	*subs[] = { "incoming", "queue", "state", "corrupt" };
	size_t		 i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, subs[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	/* Opening again finds it all in place. */
	queue_fs_close(f->q);
	assert_non_null(f->q = queue_fs_open(f->dir));
}

static void
test_create_makes_incoming_file(void **state)
{
	struct fx	*f = *state;
	struct stat	 st;
	char		 id[QID_SIZE], path[160];
	int		 fd, flags;

	assert_int_equal(queue_fs_create(f->q, T0, id, &fd), 0);
	assert_true(qid_valid(id));
	snprintf(path, sizeof(path), "%s/incoming/%s", f->dir, id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	flags = fcntl(fd, F_GETFL);
	assert_int_equal(flags & O_ACCMODE, O_RDWR);
	assert_int_equal(flags & O_APPEND, 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

static void
test_commit_scan_and_read_back(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	struct seen			 s = { .n = 0 };
	char				 id[QID_SIZE], got[256];
	uint64_t			 msglen;
	int				 fd, rfd;

	make_message(f, T0, MSG, sizeof(MSG) - 1, id, &fd);
	env_make(&e, id, 2);
	free(e.helo);
	e.helo = xstrdup(hostile);
	assert_int_equal(queue_fs_commit(f->q, fd, sizeof(MSG) - 1, &e), 0);
	close(fd);
	assert_false(exists(f, "incoming", id));
	assert_true(exists(f, "queue", id));

	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.msglen[0], sizeof(MSG) - 1);
	assert_env_equal(&e, &s.env[0]);

	assert_int_equal(queue_fs_open_message(f->q, id, &rfd, &msglen), 0);
	assert_int_equal(msglen, sizeof(MSG) - 1);
	assert_int_equal(lseek(rfd, 0, SEEK_CUR), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(read_full(rfd, got, (size_t)msglen), (ssize_t)msglen);
	assert_memory_equal(got, MSG, sizeof(MSG) - 1);
	close(rfd);

	seen_free(&s);
	queue_fs_envelope_free(&e);
}

static void
test_commit_empty_message(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	struct seen			 s = { .n = 0 };
	char				 id[QID_SIZE];
	int				 fd;

	assert_int_equal(queue_fs_create(f->q, T0, id, &fd), 0);
	env_make(&e, id, 1);
	assert_int_equal(queue_fs_commit(f->q, fd, 0, &e), 0);
	close(fd);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.msglen[0], 0);
	seen_free(&s);
	queue_fs_envelope_free(&e);
}

static void
test_commit_refuses_length_mismatch(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	char				 id[QID_SIZE];
	int				 fd;

	make_message(f, T0, MSG, sizeof(MSG) - 1, id, &fd);
	env_make(&e, id, 1);
	errno = 0;
	assert_int_equal(queue_fs_commit_prepare(f->q, fd, sizeof(MSG), &e),
	    -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(queue_fs_commit_prepare(f->q, fd, sizeof(MSG) - 2,
	    &e), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(count_files(f, "queue"), 0);
	assert_int_equal(queue_fs_commit(f->q, fd, 0, &e), -1);
	assert_int_equal(errno, EBADMSG);
	/* The failed commit cleaned up: nothing visible anywhere. */
	assert_int_equal(count_files(f, "queue"), 0);
	assert_int_equal(count_files(f, "incoming"), 0);
	close(fd);
	queue_fs_envelope_free(&e);
}

static void
test_commit_refuses_fd_of_another_file(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	char				 a[QID_SIZE];
	char				 b[QID_SIZE];
	int				 fa, fb;

	make_message(f, T0, MSG, sizeof(MSG) - 1, a, &fa);
	make_message(f, T0, MSG, sizeof(MSG) - 1, b, &fb);
	env_make(&e, a, 1);
	assert_int_equal(queue_fs_commit_prepare(f->q, fb, sizeof(MSG) - 1,
	    &e), -1);
	assert_int_equal(errno, ESTALE);
	/* The single call must not unlink a's file for b's mistake. */
	assert_int_equal(queue_fs_commit(f->q, fb, sizeof(MSG) - 1, &e), -1);
	assert_int_equal(errno, ESTALE);
	assert_true(exists(f, "incoming", a));
	assert_true(exists(f, "incoming", b));
	assert_int_equal(count_files(f, "queue"), 0);
	assert_int_equal(queue_fs_abort(f->q, a), 0);
	assert_int_equal(queue_fs_abort(f->q, b), 0);
	assert_int_equal(count_files(f, "incoming"), 0);
	close(fa);
	close(fb);
	queue_fs_envelope_free(&e);
}

static void
test_commit_refuses_bad_envelope(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	char				 id[QID_SIZE];
	int				 fd;
	size_t				 n;

	make_message(f, T0, MSG, sizeof(MSG) - 1, id, &fd);
	env_make(&e, id, 1);
	n = e.nrcpts;
	e.nrcpts = 0;
	assert_int_equal(queue_fs_commit(f->q, fd, sizeof(MSG) - 1, &e), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(count_files(f, "queue"), 0);
	e.nrcpts = n;
	close(fd);
	queue_fs_envelope_free(&e);
}

static void
test_commit_write_failure_keeps_errno_and_leaves_nothing(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	struct rlimit			 old, lim;
	char				 id[QID_SIZE];
	int				 fd, rc, err;

	/*
	 * A file-size limit just past the message makes the envelope write
	 * fail as a full disk would, with EFBIG instead of ENOSPC.
	 */
	make_message(f, T0, MSG, sizeof(MSG) - 1, id, &fd);
	env_make(&e, id, 1);
	(void)signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = sizeof(MSG) + 8;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = queue_fs_commit(f->q, fd, sizeof(MSG) - 1, &e);
	err = errno;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -1);
	assert_int_equal(err, EFBIG);
	assert_int_equal(count_files(f, "queue"), 0);
	assert_int_equal(count_files(f, "incoming"), 0);
	close(fd);
	queue_fs_envelope_free(&e);
}

static void
test_batch_commit_50_one_dir_sync(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e[50];
	struct queue_fs_stats		 before, after;
	struct seen			*s = xcalloc(1, sizeof(*s));
	char				 id[50][QID_SIZE];
	int				 fd[50], i;

	queue_fs_stats(f->q, &before);
	for (i = 0; i < 50; i++) {
		make_message(f, T0 + (uint64_t)i, MSG, sizeof(MSG) - 1, id[i],
		    &fd[i]);
		env_make(&e[i], id[i], 1);
		assert_int_equal(queue_fs_commit_prepare(f->q, fd[i],
		    sizeof(MSG) - 1, &e[i]), 0);
	}
	for (i = 0; i < 50; i++)
		assert_int_equal(queue_fs_commit_rename(f->q, id[i]), 0);
	assert_int_equal(queue_fs_sync_dirs(f->q), 0);
	/* Nothing more to sync: a second call is free. */
	assert_int_equal(queue_fs_sync_dirs(f->q), 0);
	queue_fs_stats(f->q, &after);
	assert_int_equal(after.commits - before.commits, 50);
	assert_int_equal(after.file_syncs - before.file_syncs, 50);
	assert_int_equal(after.dir_syncs - before.dir_syncs, 1);

	assert_int_equal(queue_fs_scan(f->q, collect, s), 0);
	assert_int_equal(s->n, 50);
	seen_free(s);
	free(s);
	for (i = 0; i < 50; i++) {
		close(fd[i]);
		queue_fs_envelope_free(&e[i]);
	}
}

static int
count_cb(void *arg, struct queue_fs_envelope *env, uint64_t msglen)
{
	char	**last = arg;

	/* Ids arrive sorted. */
	if (*last != NULL)
		assert_true(strcmp(*last, env->id) < 0);
	free(*last);
	*last = xstrdup(env->id);
	return 0;
}

static void
test_scan_sorted_by_id(void **state)
{
	struct fx	*f = *state;
	char		 id[QID_SIZE], *last = NULL;
	int		 i;

	/* Created in decreasing time: the directory order is no help. */
	for (i = 9; i >= 0; i--)
		commit_one(f, T0 + UINT64_C(1000000) * (uint64_t)i, id);
	assert_int_equal(count_files(f, "queue"), 10);
	assert_int_equal(queue_fs_scan(f->q, count_cb, &last), 0);
	assert_non_null(last);
	free(last);
}

static void
test_scan_stops_when_callback_says(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0, .stop_after = 2 };
	char		 id[QID_SIZE];
	int		 i;

	for (i = 0; i < 4; i++)
		commit_one(f, T0 + (uint64_t)i, id);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), -1);
	assert_int_equal(errno, ECANCELED);
	assert_int_equal(s.n, 2);
	seen_free(&s);
}

static void
test_scan_bad_crc_moves_to_corrupt(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };
	char		 id[QID_SIZE], good[QID_SIZE];
	int		 fd;

	commit_one(f, T0, id);
	commit_one(f, T0 + 1, good);
	/* One byte of the envelope text, right after the message. */
	patch_byte(f, "queue", id, (off_t)sizeof(MSG) + 3, '#');
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.env[0].id, good);
	assert_false(exists(f, "queue", id));
	assert_true(exists(f, "corrupt", id));
	assert_int_equal(queue_fs_open_message(f->q, id, &fd, NULL), -1);
	assert_int_equal(errno, ENOENT);
	seen_free(&s);
}

static void
test_scan_bad_trailer_crc_field_moves_to_corrupt(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };
	struct stat	 st;
	char		 id[QID_SIZE], path[160];

	commit_one(f, T0, id);
	snprintf(path, sizeof(path), "%s/queue/%s", f->dir, id);
	assert_int_equal(stat(path, &st), 0);
	patch_byte(f, "queue", id, st.st_size - 12, 0x55);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_true(exists(f, "corrupt", id));
}

static void
test_scan_truncated_file_moves_to_corrupt(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };
	char		 id[QID_SIZE], path[160];
	uint64_t	 msglen;
	int		 fd;

	/* A message file in queue/ without its trailer (cut short). */
	commit_one(f, T0, id);
	snprintf(path, sizeof(path), "%s/queue/%s", f->dir, id);
	assert_int_equal(truncate(path, (off_t)sizeof(MSG) + 10), 0);
	assert_int_equal(queue_fs_open_message(f->q, id, &fd, &msglen), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_true(exists(f, "corrupt", id));
	assert_int_equal(count_files(f, "queue"), 0);
}

static void
test_scan_tiny_and_empty_files_move_to_corrupt(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };

	write_path(f, "queue", "0000000000000001", "", 0);
	write_path(f, "queue", "0000000000000002", "CACHETQ1", 8);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(count_files(f, "corrupt"), 2);
}

static void
test_scan_envelope_id_not_name_moves_to_corrupt(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };
	char		 id[QID_SIZE], from[160], to[160];

	commit_one(f, T0, id);
	snprintf(from, sizeof(from), "%s/queue/%s", f->dir, id);
	snprintf(to, sizeof(to), "%s/queue/00000000000000aa", f->dir);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_true(exists(f, "corrupt", "00000000000000aa"));
}

static void
test_scan_unknown_names_move_to_corrupt(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };

	write_path(f, "queue", "junk", "x", 1);
	write_path(f, "state", "junk", "y", 1);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(count_files(f, "queue"), 0);
	assert_int_equal(count_files(f, "state"), 0);
	/* Same name twice: the second gets a suffix, nothing is replaced. */
	assert_true(exists(f, "corrupt", "junk"));
	assert_true(exists(f, "corrupt", "junk.1"));
}

static void
test_scan_removes_incoming_leftovers(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };
	char		 id[QID_SIZE];
	int		 fd;

	/* Crash point: received, never committed. */
	make_message(f, T0, MSG, sizeof(MSG) - 1, id, &fd);
	close(fd);
	write_path(f, "incoming", "stray", "z", 1);
	assert_int_equal(count_files(f, "incoming"), 2);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(count_files(f, "incoming"), 0);
	assert_int_equal(count_files(f, "corrupt"), 0);
}

static void
test_scan_keeps_message_named_in_both_incoming_and_queue(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };
	char		 id[QID_SIZE], a[160], b[160];

	/*
	 * Crash point: the rename reached queue/ on disk but the removal
	 * from incoming/ did not (a filesystem without a journal).
	 */
	commit_one(f, T0, id);
	snprintf(a, sizeof(a), "%s/queue/%s", f->dir, id);
	snprintf(b, sizeof(b), "%s/incoming/%s", f->dir, id);
	assert_int_equal(link(a, b), 0);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(exists(f, "queue", id));
	assert_false(exists(f, "incoming", id));
	seen_free(&s);
}

static void
test_state_write_overrides_at_scan_and_load(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e, l;
	struct seen			 s = { .n = 0 };
	char				 id[QID_SIZE];
	uint64_t			 msglen;
	int				 fd;

	make_message(f, T0, MSG, sizeof(MSG) - 1, id, &fd);
	env_make(&e, id, 2);
	assert_int_equal(queue_fs_commit(f->q, fd, sizeof(MSG) - 1, &e), 0);
	close(fd);
	e.rcpts[0].state = QUEUE_FS_RCPT_DELIVERED;
	e.rcpts[0].attempts = 1;
	e.rcpts[1].attempts = 1;
	e.rcpts[1].next_try = 1700000900;
	e.rcpts[1].error = xstrdup("451 4.7.1 greylisted, try again\r\n");
	assert_int_equal(queue_fs_state_write(f->q, &e), 0);
	assert_true(exists(f, "state", id));

	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_env_equal(&e, &s.env[0]);
	assert_int_equal(s.msglen[0], sizeof(MSG) - 1);
	seen_free(&s);

	assert_int_equal(queue_fs_load(f->q, id, &l, &msglen), 0);
	assert_env_equal(&e, &l);
	assert_int_equal(msglen, sizeof(MSG) - 1);
	queue_fs_envelope_free(&l);

	/* A second update replaces the first. */
	e.rcpts[1].state = QUEUE_FS_RCPT_FAILED;
	assert_int_equal(queue_fs_state_write(f->q, &e), 0);
	assert_int_equal(queue_fs_load(f->q, id, &l, NULL), 0);
	assert_int_equal(l.rcpts[1].state, QUEUE_FS_RCPT_FAILED);
	queue_fs_envelope_free(&l);
	queue_fs_envelope_free(&e);
}

static void
test_state_stage_shares_one_sync(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	struct queue_fs_stats		 before, after;
	char				 id[5][QID_SIZE];
	int				 i;

	for (i = 0; i < 5; i++)
		commit_one(f, T0 + (uint64_t)i, id[i]);
	queue_fs_stats(f->q, &before);
	for (i = 0; i < 5; i++) {
		env_make(&e, id[i], 2);
		e.rcpts[0].state = QUEUE_FS_RCPT_DELIVERED;
		assert_int_equal(queue_fs_state_stage(f->q, &e), 0);
		queue_fs_envelope_free(&e);
	}
	assert_int_equal(queue_fs_sync_dirs(f->q), 0);
	queue_fs_stats(f->q, &after);
	assert_int_equal(after.dir_syncs - before.dir_syncs, 1);
	assert_int_equal(count_files(f, "state"), 5);
}

static void
test_scan_bad_state_falls_back_to_trailer(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	struct seen			 s = { .n = 0 };
	char				 id[QID_SIZE], name[32];
	int				 fd;

	make_message(f, T0, MSG, sizeof(MSG) - 1, id, &fd);
	env_make(&e, id, 2);
	assert_int_equal(queue_fs_commit(f->q, fd, sizeof(MSG) - 1, &e), 0);
	close(fd);
	write_path(f, "state", id, "cachet-envelope 1\nid bogus\n", 27);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_env_equal(&e, &s.env[0]);
	assert_false(exists(f, "state", id));
	snprintf(name, sizeof(name), "%s.state", id);
	assert_true(exists(f, "corrupt", name));
	seen_free(&s);
	queue_fs_envelope_free(&e);
}

static void
test_scan_state_of_another_id_is_refused(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	struct buf			 b;
	struct seen			 s = { .n = 0 };
	char				 a[QID_SIZE];
	char				 c[QID_SIZE];

	commit_one(f, T0, a);
	commit_one(f, T0 + 1, c);
	/* c's envelope filed under a's name. */
	env_make(&e, c, 1);
	buf_init(&b, QUEUE_FS_ENV_MAX);
	assert_int_equal(queue_fs_envelope_encode(&e, &b), 0);
	write_path(f, "state", a, b.data, b.len);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.env[0].id, a);
	assert_int_equal(s.env[0].nrcpts, 2);
	seen_free(&s);
	buf_free(&b);
	queue_fs_envelope_free(&e);
}

static void
test_scan_removes_tmp_and_orphan_state(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };
	char		 id[QID_SIZE], tmp[32];

	commit_one(f, T0, id);
	/* Crash points: an update before its rename; a half-done remove. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", id);
	write_path(f, "state", tmp, "half", 4);
	write_path(f, "state", "00000000000000ff", "orphan", 6);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(count_files(f, "state"), 0);
	assert_int_equal(count_files(f, "corrupt"), 0);
	seen_free(&s);
}

/*
 * An orphan state file with nothing at all in queue/: the lookup among
 * the messages must not hand bsearch() the empty list's NULL (C17
 * 7.22.5: pointer arguments stay valid even when the count is zero).
 */
static void
test_scan_orphan_state_with_empty_queue(void **state)
{
	struct fx	*f = *state;
	struct seen	 s = { .n = 0 };

	write_path(f, "state", "00000000000000ff", "orphan", 6);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(count_files(f, "state"), 0);
	seen_free(&s);
}

static void
test_remove_message_and_state(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	struct seen			 s = { .n = 0 };
	char				 id[QID_SIZE];
	char				 id2[QID_SIZE];
	int				 fd;
	uint64_t			 msglen;

	commit_one(f, T0, id);
	commit_one(f, T0 + 1, id2);
	env_make(&e, id, 2);
	assert_int_equal(queue_fs_state_write(f->q, &e), 0);
	queue_fs_envelope_free(&e);
	assert_int_equal(queue_fs_remove(f->q, id), 0);
	assert_false(exists(f, "queue", id));
	assert_false(exists(f, "state", id));
	/* Without a state file. */
	assert_int_equal(queue_fs_remove(f->q, id2), 0);
	assert_false(exists(f, "queue", id2));
	/* Gone is fine. */
	assert_int_equal(queue_fs_remove(f->q, id), 0);
	assert_int_equal(queue_fs_open_message(f->q, id, &fd, &msglen), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_fs_load(f->q, id, &e, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_fs_scan(f->q, collect, &s), 0);
	assert_int_equal(s.n, 0);
}

static void
test_bad_ids_refused(void **state)
{
	struct fx	*f = *state;
	int		 fd;
	uint64_t	 n;

	assert_int_equal(queue_fs_remove(f->q, "../state/x"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_fs_abort(f->q, "x"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_fs_commit_rename(f->q, "."), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_fs_open_message(f->q, "..", &fd, &n), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_abort_removes_incoming(void **state)
{
	struct fx	*f = *state;
	char		 id[QID_SIZE];
	int		 fd;

	make_message(f, T0, MSG, sizeof(MSG) - 1, id, &fd);
	assert_int_equal(queue_fs_abort(f->q, id), 0);
	assert_int_equal(queue_fs_abort(f->q, id), 0);
	assert_int_equal(count_files(f, "incoming"), 0);
	close(fd);
}

static void
test_open_message_reads_past_smtp_offset(void **state)
{
	struct fx			*f = *state;
	struct queue_fs_envelope	 e;
	char				 id[QID_SIZE], *big, *got;
	uint64_t			 msglen;
	size_t				 len = 300000, i;
	int				 fd, rfd;

	/* A larger message written in pieces, binary bytes included. */
	big = xmalloc(len);
	for (i = 0; i < len; i++)
		big[i] = (char)(i * 7 + 3);
	make_message(f, T0, big, len, id, &fd);
	env_make(&e, id, 1);
	assert_int_equal(queue_fs_commit(f->q, fd, len, &e), 0);
	close(fd);
	assert_int_equal(queue_fs_open_message(f->q, id, &rfd, &msglen), 0);
	assert_int_equal(msglen, len);
	got = xmalloc(len);
	assert_int_equal(read_full(rfd, got, len), (ssize_t)len);
	assert_memory_equal(got, big, len);
	close(rfd);
	free(got);
	free(big);
	queue_fs_envelope_free(&e);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_id_format),
		cmocka_unit_test(test_id_valid_rejects),
		cmocka_unit_test(test_id_unique_and_increasing_in_one_ms),
		cmocka_unit_test(test_id_sorts_by_time),
		cmocka_unit_test(test_id_clock_step_back_still_increases),
		cmocka_unit_test(test_crc32c_check_value),
		cmocka_unit_test(test_envelope_roundtrip_plain),
		cmocka_unit_test(test_envelope_roundtrip_outbound_fields),
		cmocka_unit_test(test_envelope_roundtrip_expanded_with_parents),
		cmocka_unit_test(test_envelope_roundtrip_rcpt_sender),
		cmocka_unit_test(
		    test_envelope_roundtrip_optional_absent_null_sender),
		cmocka_unit_test(test_envelope_roundtrip_empty_strings),
		cmocka_unit_test(test_envelope_roundtrip_hostile_every_field),
		cmocka_unit_test(
		    test_envelope_roundtrip_longest_fields_and_many_rcpts),
		cmocka_unit_test(test_encode_respects_buf_ceiling),
		cmocka_unit_test(test_decode_every_truncation_fails),
		cmocka_unit_test(test_decode_every_flipped_byte_fails),
#define FX(t)	cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
		FX(test_open_creates_layout),
		FX(test_create_makes_incoming_file),
		FX(test_commit_scan_and_read_back),
		FX(test_commit_empty_message),
		FX(test_commit_refuses_length_mismatch),
		FX(test_commit_refuses_fd_of_another_file),
		FX(test_commit_refuses_bad_envelope),
		FX(test_commit_write_failure_keeps_errno_and_leaves_nothing),
		FX(test_batch_commit_50_one_dir_sync),
		FX(test_scan_sorted_by_id),
		FX(test_scan_stops_when_callback_says),
		FX(test_scan_bad_crc_moves_to_corrupt),
		FX(test_scan_bad_trailer_crc_field_moves_to_corrupt),
		FX(test_scan_truncated_file_moves_to_corrupt),
		FX(test_scan_tiny_and_empty_files_move_to_corrupt),
		FX(test_scan_envelope_id_not_name_moves_to_corrupt),
		FX(test_scan_unknown_names_move_to_corrupt),
		FX(test_scan_removes_incoming_leftovers),
		FX(test_scan_keeps_message_named_in_both_incoming_and_queue),
		FX(test_state_write_overrides_at_scan_and_load),
		FX(test_state_stage_shares_one_sync),
		FX(test_scan_bad_state_falls_back_to_trailer),
		FX(test_scan_state_of_another_id_is_refused),
		FX(test_scan_removes_tmp_and_orphan_state),
		FX(test_scan_orphan_state_with_empty_queue),
		FX(test_remove_message_and_state),
		FX(test_bad_ids_refused),
		FX(test_abort_removes_incoming),
		FX(test_open_message_reads_past_smtp_offset),
#undef FX
	};
	size_t			 nfixed = sizeof(fixed) / sizeof(fixed[0]);
	size_t			 nenc = sizeof(enc_bad) / sizeof(enc_bad[0]);
	size_t			 ndec = sizeof(dec_bad) / sizeof(dec_bad[0]);
	struct CMUnitTest	*all;
	size_t			 i, n = 0;
	int			 rc;

	all = xcalloc(nfixed + nenc + ndec, sizeof(*all));
	for (i = 0; i < nfixed; i++)
		all[n++] = fixed[i];
	for (i = 0; i < nenc; i++) {
		all[n].name = enc_bad[i].name;
		all[n].test_func = test_encode_bad;
		all[n++].initial_state = (void *)&enc_bad[i];
	}
	for (i = 0; i < ndec; i++) {
		all[n].name = dec_bad[i].name;
		all[n].test_func = test_decode_bad;
		all[n++].initial_state = (void *)&dec_bad[i];
	}
	rc = _cmocka_run_group_tests("queue_fs", all, n, NULL, NULL);
	free(all);
	return rc;
}
