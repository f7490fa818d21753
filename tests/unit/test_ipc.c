/*
 * Unit tests for ipc: the frame decoder, typed fields, channels over real
 * socketpairs (partial reads, frames split across reads, oversize frames,
 * descriptor passing) and the blocking calls.
 */
#include <sys/socket.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "ipc.h"
#include "util.h"

struct sink {
	struct msg	*msgs[16];
	size_t		 nmsgs;
	bool		 closed;
};

static void
sink_msg(struct ipc_chan *c, struct msg *m, void *arg)
{
	struct sink	*s = arg;

	assert_true(s->nmsgs < 16);
	s->msgs[s->nmsgs++] = m;
}

static void
sink_close(struct ipc_chan *c, void *arg)
{
	struct sink	*s = arg;

	s->closed = true;
}

static void
sink_free(struct sink *s)
{
	size_t	i;

	for (i = 0; i < s->nmsgs; i++)
		msg_free(s->msgs[i]);
	s->nmsgs = 0;
}

static void
loop_once(struct event_base *base)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

static void
test_fields_roundtrip(void **state)
{
	struct msg	*m;
	struct span	 sp;
	uint32_t	 u32;
	uint64_t	 u64;
	char		 str[16], *dup;

	m = msg_new(MSG_PING);
	msg_put_u32(m, 0xdeadbeef);
	msg_put_u64(m, 0x0102030405060708ULL);
	msg_put_str(m, "hello");
	msg_put_data(m, "a\0b", 3);
	msg_put_str(m, "dup");
	assert_int_equal(msg_get_u32(m, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(msg_get_u64(m, &u64), 0);
	assert_true(u64 == 0x0102030405060708ULL);
	assert_int_equal(msg_get_str(m, str, sizeof(str)), 0);
	assert_string_equal(str, "hello");
	assert_int_equal(msg_get_span(m, &sp), 0);
	assert_int_equal(sp.len, 3);
	assert_memory_equal(sp.ptr, "a\0b", 3);
	assert_int_equal(msg_get_strdup(m, 10, &dup), 0);
	assert_string_equal(dup, "dup");
	free(dup);
	assert_int_equal(msg_end(m), 0);
	assert_int_equal(msg_get_u32(m, &u32), -1);
	msg_free(m);
}

static void
test_fields_short_and_leftover(void **state)
{
	struct msg	*m;
	uint64_t	 u64;
	uint32_t	 u32;
	char		 str[4];

	m = msg_new(MSG_PING);
	msg_put_u32(m, 7);
	assert_int_equal(msg_get_u64(m, &u64), -1);	/* too short */
	assert_int_equal(msg_end(m), -1);		/* 4 bytes left */
	assert_int_equal(msg_get_u32(m, &u32), 0);
	assert_int_equal(msg_end(m), 0);
	msg_free(m);

	m = msg_new(MSG_PING);
	msg_put_data(m, "a\0b", 3);			/* NUL inside */
	assert_int_equal(msg_get_str(m, str, sizeof(str)), -1);
	msg_free(m);

	m = msg_new(MSG_PING);
	msg_put_str(m, "toolong");			/* does not fit */
	assert_int_equal(msg_get_str(m, str, sizeof(str)), -1);
	msg_free(m);

	/* A length prefix that claims more than the payload holds. */
	m = msg_new(MSG_PING);
	msg_put_u32(m, 1000);
	msg_put_raw(m, "abc", 3);
	assert_int_equal(msg_get_str(m, str, sizeof(str)), -1);
	msg_free(m);
}

static void
test_decode_partial(void **state)
{
	struct msg	*m;
	struct buf	 frame;
	struct ipc_hdr	 hdr;
	size_t		 i;

	m = msg_new(MSG_PONG);
	msg_put_u64(m, 42);
	buf_init(&frame, 1024);
	ipc_frame_encode(m, &frame);
	msg_free(m);
	assert_int_equal(frame.len, IPC_HDR_SIZE + 8);
	for (i = 0; i < frame.len; i++)
		assert_int_equal(ipc_frame_decode(frame.data, i, &hdr), 0);
	assert_int_equal(ipc_frame_decode(frame.data, frame.len, &hdr), 1);
	assert_int_equal(hdr.len, 8);
	assert_int_equal(hdr.type, MSG_PONG);
	assert_int_equal(hdr.flags, 0);
	buf_free(&frame);
}

static void
put_hdr(unsigned char *b, uint32_t len, uint32_t type, uint32_t flags)
{
	const uint32_t	v[3] = { len, type, flags };
	int		i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 4; j++)
			b[i * 4 + j] = (unsigned char)(v[i] >> (8 * j));
}

static void
test_decode_malformed(void **state)
{
	unsigned char	b[IPC_HDR_SIZE];
	struct ipc_hdr	hdr;

	put_hdr(b, IPC_PAYLOAD_MAX + 1, MSG_PING, 0);
	assert_int_equal(ipc_frame_decode(b, sizeof(b), &hdr), -1);
	put_hdr(b, 8, MSG_PING, 0x2);
	assert_int_equal(ipc_frame_decode(b, sizeof(b), &hdr), -1);
	put_hdr(b, 8, MSG_TYPE_COUNT, 0);
	assert_int_equal(ipc_frame_decode(b, sizeof(b), &hdr), -1);
	put_hdr(b, 8, MSG_NONE, 0);
	assert_int_equal(ipc_frame_decode(b, sizeof(b), &hdr), -1);
	put_hdr(b, 0xffffffffu, MSG_PING, 0);
	assert_int_equal(ipc_frame_decode(b, sizeof(b), &hdr), -1);
}

static void
test_chan_split_frames(void **state)
{
	struct event_base	*base = event_base_new();
	struct ipc_chan		*c;
	struct sink		 s = { 0 };
	struct msg		*m;
	struct buf		 frames;
	uint64_t		 v;
	int			 sp[2];
	size_t			 i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	c = ipc_chan_new(base, sp[0], "test", sink_msg, sink_close, &s);
	buf_init(&frames, 4096);
	for (i = 0; i < 3; i++) {
		m = msg_new(MSG_PING);
		msg_put_u64(m, i);
		ipc_frame_encode(m, &frames);
		msg_free(m);
	}
	/* Byte by byte: nothing until each frame is whole. */
	for (i = 0; i < frames.len; i++) {
		assert_int_equal(write(sp[1], frames.data + i, 1), 1);
		loop_once(base);
		if (i < IPC_HDR_SIZE + 8 - 1)
			assert_int_equal(s.nmsgs, 0);
	}
	assert_int_equal(s.nmsgs, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(s.msgs[i]->type, MSG_PING);
		assert_int_equal(msg_get_u64(s.msgs[i], &v), 0);
		assert_true(v == i);
	}
	/* Two frames and a half in one write, then the rest. */
	sink_free(&s);
	assert_int_equal(write(sp[1], frames.data, frames.len - 5),
	    (ssize_t)(frames.len - 5));
	loop_once(base);
	assert_int_equal(s.nmsgs, 2);
	assert_int_equal(write(sp[1], frames.data + frames.len - 5, 5), 5);
	loop_once(base);
	assert_int_equal(s.nmsgs, 3);
	assert_false(s.closed);
	sink_free(&s);
	buf_free(&frames);
	ipc_chan_free(c);
	close(sp[1]);
	event_base_free(base);
}

static void
test_chan_oversize_closes(void **state)
{
	struct event_base	*base = event_base_new();
	struct ipc_chan		*c;
	struct sink		 s = { 0 };
	unsigned char		 b[IPC_HDR_SIZE];
	int			 sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	c = ipc_chan_new(base, sp[0], "test", sink_msg, sink_close, &s);
	put_hdr(b, IPC_PAYLOAD_MAX + 1, MSG_PING, 0);
	assert_int_equal(write(sp[1], b, sizeof(b)), (ssize_t)sizeof(b));
	loop_once(base);
	assert_true(s.closed);
	assert_int_equal(s.nmsgs, 0);
	ipc_chan_free(c);
	close(sp[1]);
	event_base_free(base);
}

static void
test_chan_fd_flag_without_fd_closes(void **state)
{
	struct event_base	*base = event_base_new();
	struct ipc_chan		*c;
	struct sink		 s = { 0 };
	unsigned char		 b[IPC_HDR_SIZE];
	int			 sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	c = ipc_chan_new(base, sp[0], "test", sink_msg, sink_close, &s);
	put_hdr(b, 0, MSG_PING, IPC_F_FD);
	assert_int_equal(write(sp[1], b, sizeof(b)), (ssize_t)sizeof(b));
	loop_once(base);
	assert_true(s.closed);
	ipc_chan_free(c);
	close(sp[1]);
	event_base_free(base);
}

static void
test_chan_peer_eof_closes(void **state)
{
	struct event_base	*base = event_base_new();
	struct ipc_chan		*c;
	struct sink		 s = { 0 };
	int			 sp[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	c = ipc_chan_new(base, sp[0], "test", sink_msg, sink_close, &s);
	close(sp[1]);
	loop_once(base);
	assert_true(s.closed);
	ipc_chan_free(c);
	event_base_free(base);
}

static void
test_chan_fd_passing(void **state)
{
	struct event_base	*base = event_base_new();
	struct ipc_chan		*a, *b;
	struct sink		 sa = { 0 }, sb = { 0 };
	struct msg		*m;
	char			 got[8];
	int			 sp[2], pfd[2], fd;
	uint32_t		 tag;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(pipe(pfd), 0);
	a = ipc_chan_new(base, sp[0], "a", sink_msg, sink_close, &sa);
	b = ipc_chan_new(base, sp[1], "b", sink_msg, sink_close, &sb);
	/* One frame without, one with, one without a descriptor. */
	m = msg_new(MSG_PING);
	msg_put_u64(m, 1);
	ipc_send(a, m);
	m = msg_new(MSG_QUEUE_CREATE_RESULT);
	msg_put_u32(m, 77);
	msg_put_fd(m, pfd[1]);
	ipc_send(a, m);
	m = msg_new(MSG_PING);
	msg_put_u64(m, 2);
	ipc_send(a, m);
	loop_once(base);
	assert_int_equal(sb.nmsgs, 3);
	assert_int_equal(sb.msgs[0]->fd, -1);
	assert_int_equal(sb.msgs[2]->fd, -1);
	assert_int_equal(msg_get_u32(sb.msgs[1], &tag), 0);
	assert_int_equal(tag, 77);
	fd = msg_take_fd(sb.msgs[1]);
	assert_true(fd >= 0);
	/* The received descriptor is the write end of our pipe. */
	assert_int_equal(write(fd, "ok", 2), 2);
	close(fd);
	assert_int_equal(read(pfd[0], got, sizeof(got)), 2);
	assert_memory_equal(got, "ok", 2);
	close(pfd[0]);
	sink_free(&sb);
	ipc_chan_free(a);
	ipc_chan_free(b);
	event_base_free(base);
}

static void
test_blocking_roundtrip(void **state)
{
	struct msg	*m;
	int		 sp[2], pfd[2], fd;
	uint64_t	 v;
	char		 c;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(pipe(pfd), 0);
	m = msg_new(MSG_PONG);
	msg_put_u64(m, 99);
	msg_put_fd(m, pfd[1]);
	assert_int_equal(ipc_write_blocking(sp[0], m), 0);
	m = msg_new(MSG_PING);
	msg_put_u64(m, 100);
	assert_int_equal(ipc_write_blocking(sp[0], m), 0);
	m = ipc_read_blocking(sp[1]);
	assert_non_null(m);
	assert_int_equal(m->type, MSG_PONG);
	assert_int_equal(msg_get_u64(m, &v), 0);
	assert_true(v == 99);
	fd = msg_take_fd(m);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(fd);
	msg_free(m);
	m = ipc_read_blocking(sp[1]);
	assert_non_null(m);
	assert_int_equal(m->type, MSG_PING);
	msg_free(m);
	close(sp[0]);
	errno = 123;
	assert_null(ipc_read_blocking(sp[1]));
	assert_int_equal(errno, 0);	/* clean EOF */
	close(sp[1]);
	close(pfd[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_roundtrip),
		cmocka_unit_test(test_fields_short_and_leftover),
		cmocka_unit_test(test_decode_partial),
		cmocka_unit_test(test_decode_malformed),
		cmocka_unit_test(test_chan_split_frames),
		cmocka_unit_test(test_chan_oversize_closes),
		cmocka_unit_test(test_chan_fd_flag_without_fd_closes),
		cmocka_unit_test(test_chan_peer_eof_closes),
		cmocka_unit_test(test_chan_fd_passing),
		cmocka_unit_test(test_blocking_roundtrip),
	};

	return cmocka_run_group_tests_name("ipc", tests, NULL, NULL);
}
