/*
 * msgread: see msgread.h.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "msgread.h"

void
msgread_init(struct msgread *r, const char *pre, int fd, uint64_t len)
{
	r->pre = pre;
	r->prelen = pre != NULL ? strlen(pre) : 0;
	r->fd = fd;
	r->len = len;
	r->off = 0;
}

uint64_t
msgread_size(const struct msgread *r)
{
	return r->len + r->prelen;
}

ssize_t
msgread_read(struct msgread *r, char *buf, size_t n)
{
	uint64_t	foff;
	ssize_t		got;

	if (r->off < r->prelen) {
		if (n > r->prelen - r->off)
			n = r->prelen - (size_t)r->off;
		memcpy(buf, r->pre + r->off, n);
		r->off += n;
		return (ssize_t)n;
	}
	foff = r->off - r->prelen;
	if (foff >= r->len)
		return 0;
	if (n > r->len - foff)
		n = (size_t)(r->len - foff);
	do
		got = pread(r->fd, buf, n, (off_t)foff);
	while (got == -1 && errno == EINTR);
	if (got == 0) {
		errno = EIO;
		return -1;
	}
	if (got > 0)
		r->off += (uint64_t)got;
	return got;
}
