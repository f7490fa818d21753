/*
 * ipc: framed messages over UNIX stream sockets with descriptor passing.
 * Every role uses it to talk to its siblings and the parent; cachetctl uses
 * the blocking calls.  Nothing read from a channel is trusted: frame sizes
 * are bounded, descriptors are only accepted for frames flagged to carry
 * one, and any violation closes the channel.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ipc.h"
#include "log.h"
#include "util.h"

#define IPC_READ_CHUNK	(64 * 1024)

static const char *const msg_names[MSG_TYPE_COUNT] = {
	[MSG_NONE] = "NONE",
	[MSG_PING] = "PING",
	[MSG_PONG] = "PONG",
	[MSG_PARENT_CONFIG] = "PARENT_CONFIG",
	[MSG_PARENT_LISTEN] = "PARENT_LISTEN",
	[MSG_PARENT_PEER] = "PARENT_PEER",
	[MSG_PARENT_WORKER] = "PARENT_WORKER",
	[MSG_PARENT_GO] = "PARENT_GO",
	[MSG_CTL_STATUS] = "CTL_STATUS",
	[MSG_CTL_STOP] = "CTL_STOP",
	[MSG_CTL_RELOAD] = "CTL_RELOAD",
	[MSG_CTL_REQUEST] = "CTL_REQUEST",
	[MSG_CTL_LINE] = "CTL_LINE",
	[MSG_CTL_DATA] = "CTL_DATA",
	[MSG_CTL_END] = "CTL_END",
	[MSG_LOOKUP_AUTH] = "LOOKUP_AUTH",
	[MSG_LOOKUP_AUTH_RESULT] = "LOOKUP_AUTH_RESULT",
	[MSG_LOOKUP_MAIL] = "LOOKUP_MAIL",
	[MSG_LOOKUP_RCPT] = "LOOKUP_RCPT",
	[MSG_LOOKUP_RESULT] = "LOOKUP_RESULT",
	[MSG_QUEUE_CREATE] = "QUEUE_CREATE",
	[MSG_QUEUE_CREATE_RESULT] = "QUEUE_CREATE_RESULT",
	[MSG_QUEUE_COMMIT] = "QUEUE_COMMIT",
	[MSG_QUEUE_COMMIT_RESULT] = "QUEUE_COMMIT_RESULT",
	[MSG_QUEUE_ABORT] = "QUEUE_ABORT",
	[MSG_LOOKUP_RESOLVE] = "LOOKUP_RESOLVE",
	[MSG_LOOKUP_RESOLVE_RESULT] = "LOOKUP_RESOLVE_RESULT",
	[MSG_LOOKUP_USAGE] = "LOOKUP_USAGE",
	[MSG_MDA_DELIVER] = "MDA_DELIVER",
	[MSG_MDA_RESULT] = "MDA_RESULT",
	[MSG_LOOKUP_APOP] = "LOOKUP_APOP",
	[MSG_LOOKUP_APOP_RESULT] = "LOOKUP_APOP_RESULT",
	[MSG_LOOKUP_MAILBOX] = "LOOKUP_MAILBOX",
	[MSG_LOOKUP_MAILBOX_RESULT] = "LOOKUP_MAILBOX_RESULT",
	[MSG_LOOKUP_MX] = "LOOKUP_MX",
	[MSG_LOOKUP_MX_RESULT] = "LOOKUP_MX_RESULT",
	[MSG_LOOKUP_SCRAM_SALT] = "LOOKUP_SCRAM_SALT",
	[MSG_LOOKUP_SCRAM_SALT_RESULT] = "LOOKUP_SCRAM_SALT_RESULT",
	[MSG_LOOKUP_SCRAM_PROOF] = "LOOKUP_SCRAM_PROOF",
	[MSG_LOOKUP_SCRAM_PROOF_RESULT] = "LOOKUP_SCRAM_PROOF_RESULT",
	[MSG_MTA_DELIVER] = "MTA_DELIVER",
	[MSG_MTA_RESULT] = "MTA_RESULT",
	[MSG_LOOKUP_KEY_CHANNEL] = "LOOKUP_KEY_CHANNEL",
	[MSG_LOOKUP_KEY_OP] = "LOOKUP_KEY_OP",
	[MSG_LOOKUP_KEY_RESULT] = "LOOKUP_KEY_RESULT",
	[MSG_LOOKUP_STS] = "LOOKUP_STS",
	[MSG_LOOKUP_STS_RESULT] = "LOOKUP_STS_RESULT",
	[MSG_LOOKUP_STS_STORE] = "LOOKUP_STS_STORE",
	[MSG_LOOKUP_TLSRPT] = "LOOKUP_TLSRPT",
	[MSG_QUEUE_INJECT] = "QUEUE_INJECT",
	[MSG_LOOKUP_TLSRPT_MAIL] = "LOOKUP_TLSRPT_MAIL",
	[MSG_LOOKUP_SPF] = "LOOKUP_SPF",
	[MSG_LOOKUP_SPF_RESULT] = "LOOKUP_SPF_RESULT",
	[MSG_LOOKUP_MESSAGE] = "LOOKUP_MESSAGE",
	[MSG_LOOKUP_MESSAGE_RESULT] = "LOOKUP_MESSAGE_RESULT",
	[MSG_LOOKUP_SIGN] = "LOOKUP_SIGN",
	[MSG_LOOKUP_SIGN_RESULT] = "LOOKUP_SIGN_RESULT",
	[MSG_LOOKUP_PRESCREEN] = "LOOKUP_PRESCREEN",
	[MSG_LOOKUP_PRESCREEN_RESULT] = "LOOKUP_PRESCREEN_RESULT",
	[MSG_LOOKUP_GREYLIST] = "LOOKUP_GREYLIST",
	[MSG_LOOKUP_GREYLIST_RESULT] = "LOOKUP_GREYLIST_RESULT",
	[MSG_LOOKUP_SPAM_TRAIN] = "LOOKUP_SPAM_TRAIN",
	[MSG_LOOKUP_TLS_RELOAD] = "LOOKUP_TLS_RELOAD",
	[MSG_KEYPROXY_CHAIN] = "KEYPROXY_CHAIN",
	[MSG_MTA_TLSRPT_POST] = "MTA_TLSRPT_POST",
	[MSG_LOOKUP_TLSRPT_RUA] = "LOOKUP_TLSRPT_RUA",
	[MSG_LOOKUP_TLSRPT_RUA_RESULT] = "LOOKUP_TLSRPT_RUA_RESULT",
#ifdef CACHET_TEST_HOOKS
	[MSG_PARENT_SANDBOX_TEST] = "PARENT_SANDBOX_TEST",
#endif
};

struct ipc_out {
	struct ipc_out	*next;
	struct buf	 frame;
	size_t		 sent;
	int		 fd;
};

struct ipc_chan {
	struct event_base	*base;
	struct event		*ev_read;
	struct event		*ev_write;
	int			 fd;
	char			 name[32];
	ipc_msg_cb		 on_msg;
	ipc_close_cb		 on_close;
	void			*arg;
	struct buf		 in;
	int			 fds[IPC_FDS_MAX];
	size_t			 nfds;
	struct ipc_out		*out_head;
	struct ipc_out		*out_tail;
	size_t			 out_bytes;
	bool			 dead;
	bool			 write_failed;
	bool			*freed;	/* set when freed inside a callback */
};

const char *
msg_name(uint32_t type)
{
	if (type < MSG_TYPE_COUNT && msg_names[type] != NULL)
		return msg_names[type];
	return "UNKNOWN";
}

struct msg *
msg_new(uint32_t type)
{
	struct msg	*m;

	m = xcalloc(1, sizeof(*m));
	m->type = type;
	m->fd = -1;
	buf_init(&m->data, IPC_PAYLOAD_MAX);
	return m;
}

void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	if (m->fd != -1)
		close(m->fd);
	buf_free(&m->data);
	free(m);
}

static void
msg_put(struct msg *m, const void *p, size_t len)
{
	/* Our own messages: overflowing the frame limit is a bug. */
	if (buf_append(&m->data, p, len) == -1)
		fatalx("ipc: %s message exceeds %d bytes", msg_name(m->type),
		    IPC_PAYLOAD_MAX);
}

void
msg_put_raw(struct msg *m, const void *p, size_t len)
{
	msg_put(m, p, len);
}

void
msg_put_u32(struct msg *m, uint32_t v)
{
	unsigned char	b[4];
	int		i;

	for (i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	msg_put(m, b, sizeof(b));
}

void
msg_put_u64(struct msg *m, uint64_t v)
{
	unsigned char	b[8];
	int		i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	msg_put(m, b, sizeof(b));
}

void
msg_put_data(struct msg *m, const void *p, size_t len)
{
	if (len > UINT32_MAX)
		fatalx("ipc: field too long");
	msg_put_u32(m, (uint32_t)len);
	msg_put(m, p, len);
}

void
msg_put_str(struct msg *m, const char *s)
{
	msg_put_data(m, s, s == NULL ? 0 : strlen(s));
}

void
msg_put_fd(struct msg *m, int fd)
{
	if (m->fd != -1)
		fatalx("ipc: %s carries two descriptors", msg_name(m->type));
	m->fd = fd;
}

static uint64_t
ipc_le(const unsigned char *p, int n)
{
	uint64_t	v = 0;
	int		i;

	for (i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int
msg_get_u32(struct msg *m, uint32_t *out)
{
	if (m->data.len - m->pos < 4)
		return -1;
	*out = (uint32_t)ipc_le((unsigned char *)m->data.data + m->pos, 4);
	m->pos += 4;
	return 0;
}

int
msg_get_u64(struct msg *m, uint64_t *out)
{
	if (m->data.len - m->pos < 8)
		return -1;
	*out = ipc_le((unsigned char *)m->data.data + m->pos, 8);
	m->pos += 8;
	return 0;
}

int
msg_get_span(struct msg *m, struct span *out)
{
	uint32_t	len;

	if (msg_get_u32(m, &len) == -1)
		return -1;
	if (m->data.len - m->pos < len)
		return -1;
	out->ptr = m->data.data + m->pos;
	out->len = len;
	m->pos += len;
	return 0;
}

int
msg_get_str(struct msg *m, char *out, size_t outsz)
{
	struct span	s;

	if (msg_get_span(m, &s) == -1 || s.len >= outsz ||
	    memchr(s.ptr, '\0', s.len) != NULL)
		return -1;
	memcpy(out, s.ptr, s.len);
	out[s.len] = '\0';
	return 0;
}

int
msg_get_strdup(struct msg *m, size_t max, char **out)
{
	struct span	s;

	if (msg_get_span(m, &s) == -1 || s.len > max ||
	    memchr(s.ptr, '\0', s.len) != NULL)
		return -1;
	*out = xstrndup(s.ptr, s.len);
	return 0;
}

int
msg_take_fd(struct msg *m)
{
	int	fd = m->fd;

	m->fd = -1;
	return fd;
}

int
msg_end(struct msg *m)
{
	return m->pos == m->data.len ? 0 : -1;
}

int
ipc_frame_decode(const void *p, size_t avail, struct ipc_hdr *hdr)
{
	const unsigned char	*b = p;

	if (avail < IPC_HDR_SIZE)
		return 0;
	hdr->len = (uint32_t)ipc_le(b, 4);
	hdr->type = (uint32_t)ipc_le(b + 4, 4);
	hdr->flags = (uint32_t)ipc_le(b + 8, 4);
	if (hdr->len > IPC_PAYLOAD_MAX || (hdr->flags & ~IPC_F_FD) != 0 ||
	    hdr->type == MSG_NONE || hdr->type >= MSG_TYPE_COUNT)
		return -1;
	if (avail - IPC_HDR_SIZE < hdr->len)
		return 0;
	return 1;
}

void
ipc_frame_encode(const struct msg *m, struct buf *out)
{
	unsigned char	hdr[IPC_HDR_SIZE];
	uint32_t	v[3];
	int		i, j;

	v[0] = (uint32_t)m->data.len;
	v[1] = m->type;
	v[2] = m->fd != -1 ? IPC_F_FD : 0;
	for (i = 0; i < 3; i++)
		for (j = 0; j < 4; j++)
			hdr[i * 4 + j] = (unsigned char)(v[i] >> (8 * j));
	if (buf_append(out, hdr, sizeof(hdr)) == -1 ||
	    buf_append(out, m->data.data, m->data.len) == -1)
		fatalx("ipc: frame too large");
}

/*
 * sendmsg() the frame from offset sent; the descriptor rides with the
 * first byte.  Returns bytes sent or -1.
 */
static ssize_t
ipc_sendmsg(int sock, const char *p, size_t len, int fd)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct cmsghdr	*c;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	return n;
}

/*
 * recvmsg() into p; descriptors that arrive are appended to fds.  More
 * than fits is a protocol violation (they are closed, -1 with EPROTO).
 */
static ssize_t
ipc_recvmsg(int sock, char *p, size_t len, int *fds, size_t *nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	}		 cm;
	struct cmsghdr	*c;
	ssize_t		 n;
	size_t		 i, cnt;
	int		 fd, bad = 0;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < cnt; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < IPC_FDS_MAX)
				fds[(*nfds)++] = fd;
			else {
				close(fd);
				bad = 1;
			}
		}
	}
	if (mh.msg_flags & MSG_CTRUNC)
		bad = 1;
	if (bad) {
		errno = EPROTO;
		return -1;
	}
	return n;
}

/*
 * Take one whole frame from the avail bytes at p: 1 with *out and *used
 * set, 0 when more bytes are needed, -1 when the stream is broken.
 */
static int
ipc_extract(const char *p, size_t avail, int *fds, size_t *nfds,
    struct msg **out, size_t *used)
{
	struct ipc_hdr	 hdr;
	struct msg	*m;
	int		 r;

	*out = NULL;
	r = ipc_frame_decode(p, avail, &hdr);
	if (r <= 0)
		return r;
	if ((hdr.flags & IPC_F_FD) && *nfds == 0)
		return -1;
	m = msg_new(hdr.type);
	if (hdr.len > 0)
		msg_put(m, p + IPC_HDR_SIZE, hdr.len);
	if (hdr.flags & IPC_F_FD) {
		m->fd = fds[0];
		memmove(fds, fds + 1, (*nfds - 1) * sizeof(int));
		(*nfds)--;
	}
	*used = IPC_HDR_SIZE + hdr.len;
	*out = m;
	return 1;
}

static void
ipc_chan_die(struct ipc_chan *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	event_del(c->ev_read);
	event_del(c->ev_write);
	if (why != NULL)
		log_warnx("ipc: channel %s closed: %s", c->name, why);
	c->on_close(c, c->arg);
}

static void
ipc_chan_read(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_chan	*c = arg;
	struct msg	*m;
	char		*chunk;
	ssize_t		 n;
	size_t		 off = 0, used = 0;
	bool		 freed = false;
	int		 r;

	if (c->write_failed) {
		ipc_chan_die(c, "peer gone");
		return;
	}
	chunk = xmalloc(IPC_READ_CHUNK);
	n = ipc_recvmsg(c->fd, chunk, IPC_READ_CHUNK, c->fds, &c->nfds);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		free(chunk);
		return;
	}
	if (n <= 0) {
		free(chunk);
		ipc_chan_die(c, n == 0 ? NULL : strerror(errno));
		return;
	}
	if (buf_append(&c->in, chunk, (size_t)n) == -1) {
		free(chunk);
		ipc_chan_die(c, "input overflow");
		return;
	}
	free(chunk);

	/*
	 * Take every whole frame, then drop the consumed bytes once: one
	 * memmove per read, not one per frame.
	 */
	c->freed = &freed;
	while (!c->dead) {
		r = ipc_extract(c->in.data + off, c->in.len - off, c->fds,
		    &c->nfds, &m, &used);
		if (r == 0)
			break;
		if (r == -1) {
			ipc_chan_die(c, "malformed frame");
			if (freed)
				return;
			break;
		}
		off += used;
		c->on_msg(c, m, c->arg);
		if (freed)
			return;
	}
	c->freed = NULL;
	buf_consume(&c->in, off);
}

static void
ipc_chan_flush(struct ipc_chan *c)
{
	struct ipc_out	*o;
	ssize_t		 n;

	while ((o = c->out_head) != NULL) {
		n = ipc_sendmsg(c->fd, o->frame.data + o->sent,
		    o->frame.len - o->sent, o->sent == 0 ? o->fd : -1);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				event_add(c->ev_write, NULL);
				return;
			}
			/*
			 * Report the failure from the event loop, not from
			 * inside ipc_send(), whose caller may go on using
			 * the channel.
			 */
			log_debug("ipc: send on %s: %s", c->name,
			    strerror(errno));
			c->write_failed = true;
			event_del(c->ev_write);
			event_active(c->ev_read, EV_READ, 0);
			return;
		}
		if (o->fd != -1) {
			close(o->fd);
			o->fd = -1;
		}
		o->sent += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (o->sent < o->frame.len)
			continue;
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		buf_free(&o->frame);
		free(o);
	}
	event_del(c->ev_write);
}

static void
ipc_chan_write(evutil_socket_t fd, short what, void *arg)
{
	ipc_chan_flush(arg);
}

struct ipc_chan *
ipc_chan_new(struct event_base *base, int fd, const char *name,
    ipc_msg_cb on_msg, ipc_close_cb on_close, void *arg)
{
	struct ipc_chan	*c;

	if (fd_set_nonblock(fd) == -1 || fd_set_cloexec(fd) == -1)
		fatal("ipc: fcntl");
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->fd = fd;
	(void)str_copy(c->name, sizeof(c->name), name);
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->arg = arg;
	buf_init(&c->in, IPC_READ_CHUNK + IPC_HDR_SIZE + IPC_PAYLOAD_MAX);
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST,
	    ipc_chan_read, c);
	c->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST,
	    ipc_chan_write, c);
	if (c->ev_read == NULL || c->ev_write == NULL)
		fatalx("ipc: event_new");
	event_add(c->ev_read, NULL);
	return c;
}

void
ipc_chan_free(struct ipc_chan *c)
{
	struct ipc_out	*o;
	size_t		 i;

	if (c == NULL)
		return;
	if (c->freed != NULL)
		*c->freed = true;
	event_free(c->ev_read);
	event_free(c->ev_write);
	while ((o = c->out_head) != NULL) {
		c->out_head = o->next;
		if (o->fd != -1)
			close(o->fd);
		buf_free(&o->frame);
		free(o);
	}
	for (i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	buf_free(&c->in);
	close(c->fd);
	free(c);
}

const char *
ipc_chan_name(const struct ipc_chan *c)
{
	return c->name;
}

void
ipc_send(struct ipc_chan *c, struct msg *m)
{
	struct ipc_out	*o;

	if (c->dead || c->write_failed) {
		msg_free(m);
		return;
	}
	o = xcalloc(1, sizeof(*o));
	buf_init(&o->frame, IPC_HDR_SIZE + IPC_PAYLOAD_MAX);
	ipc_frame_encode(m, &o->frame);
	o->fd = msg_take_fd(m);
	msg_free(m);
	if (c->out_tail != NULL)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_bytes += o->frame.len;
	if (c->out_head == o)
		ipc_chan_flush(c);
}

size_t
ipc_pending(const struct ipc_chan *c)
{
	return c->out_bytes;
}

int
ipc_write_blocking(int fd, struct msg *m)
{
	struct buf	frame;
	size_t		sent = 0;
	ssize_t		n;
	int		mfd, saved;

	buf_init(&frame, IPC_HDR_SIZE + IPC_PAYLOAD_MAX);
	ipc_frame_encode(m, &frame);
	mfd = msg_take_fd(m);
	msg_free(m);
	while (sent < frame.len) {
		n = ipc_sendmsg(fd, frame.data + sent, frame.len - sent,
		    sent == 0 ? mfd : -1);
		if (n == -1) {
			saved = errno;
			buf_free(&frame);
			if (mfd != -1)
				close(mfd);
			errno = saved;
			return -1;
		}
		sent += (size_t)n;
	}
	buf_free(&frame);
	if (mfd != -1)
		close(mfd);
	return 0;
}

struct msg *
ipc_read_blocking(int fd)
{
	/* One frame at most is buffered: readers ask for exactly what
	 * the header says, so nothing of the next frame is taken. */
	unsigned char	 hdrb[IPC_HDR_SIZE];
	struct ipc_hdr	 hdr;
	struct msg	*m;
	int		 fds[IPC_FDS_MAX];
	size_t		 nfds = 0, got = 0, i;
	ssize_t		 n;
	char		*p;

	while (got < IPC_HDR_SIZE) {
		n = ipc_recvmsg(fd, (char *)hdrb + got, IPC_HDR_SIZE - got,
		    fds, &nfds);
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	if (ipc_frame_decode(hdrb, IPC_HDR_SIZE, &hdr) == -1) {
		errno = EPROTO;
		n = -1;
		goto fail;
	}
	m = msg_new(hdr.type);
	p = xmalloc(hdr.len == 0 ? 1 : hdr.len);
	got = 0;
	while (got < hdr.len) {
		n = ipc_recvmsg(fd, p + got, hdr.len - got, fds, &nfds);
		if (n <= 0) {
			free(p);
			msg_free(m);
			goto fail;
		}
		got += (size_t)n;
	}
	msg_put(m, p, hdr.len);
	free(p);
	if (hdr.flags & IPC_F_FD) {
		if (nfds == 0) {
			msg_free(m);
			errno = EPROTO;
			n = -1;
			goto fail;
		}
		m->fd = fds[0];
		for (i = 1; i < nfds; i++)
			close(fds[i]);
	} else
		for (i = 0; i < nfds; i++)
			close(fds[i]);
	return m;
fail:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (n == 0)
		errno = 0;
	return NULL;
}
