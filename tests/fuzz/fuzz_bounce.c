/*
 * libFuzzer target for bounce.c: hostile strings and a hostile original.
 * The input is split at the first two NULs into a remote reply (the
 * Diagnostic-Code), an ORCPT and the original message; the first byte
 * picks the report kind and RET.  Broken invariants call abort(): a line
 * not ending in CRLF, a bare CR or LF, a line over 998 octets, a line
 * that starts with our MIME boundary anywhere but where we put it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "buf.h"

struct fz_reader {
	const uint8_t	*p;
	size_t		 len, pos;
};

static ssize_t
fz_read(void *arg, char *buf, size_t len)
{
	struct fz_reader	*r = arg;
	size_t			 n = r->len - r->pos;

	if (n > len)
		n = len;
	if (n > 13)
		n = 13;
	memcpy(buf, r->p + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

static void
fz_check(const struct buf *b, const char *delim)
{
	size_t	i, start = 0, dl = strlen(delim), delims = 0;

	if (b->len < 2 || b->data[b->len - 2] != '\r' ||
	    b->data[b->len - 1] != '\n')
		abort();
	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\r' && (i + 1 >= b->len ||
		    b->data[i + 1] != '\n'))
			abort();
		if (b->data[i] != '\n')
			continue;
		if (i == 0 || b->data[i - 1] != '\r' || i - 1 - start > 998)
			abort();
		if (i - 1 - start >= dl &&
		    memcmp(b->data + start, delim, dl) == 0)
			delims++;
		start = i + 1;
	}
	/* ours: three part openings and the closing one */
	if (delims != 4)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_rcpt	 rc[2];
	struct bounce_params	 p;
	struct fz_reader	 r;
	struct buf		 out;
	const char		*errstr;
	char			*diag, *orcpt;
	const uint8_t		*z1, *z2;
	size_t			 l1, l2;

	if (size < 1)
		return 0;
	z1 = memchr(data + 1, 0, size - 1);
	l1 = z1 ? (size_t)(z1 - (data + 1)) : size - 1;
	z2 = z1 ? memchr(z1 + 1, 0, size - 1 - l1 - 1) : NULL;
	l2 = z2 ? (size_t)(z2 - (z1 + 1)) : 0;
	diag = strndup((const char *)data + 1, l1);
	orcpt = strndup(z1 ? (const char *)z1 + 1 : "", l2);
	if (diag == NULL || orcpt == NULL)
		abort();
	memset(&r, 0, sizeof(r));
	if (z2 != NULL) {
		r.p = z2 + 1;
		r.len = size - (size_t)(z2 + 1 - data);
	}
	memset(rc, 0, sizeof(rc));
	rc[0].addr = diag;
	rc[0].orcpt = orcpt;
	rc[0].action = (enum bounce_action)(data[0] % 5);
	rc[0].status = orcpt;
	rc[0].remote_mta = orcpt;
	rc[0].diagnostic = diag;
	rc[0].diag_local = data[0] & 8;
	rc[0].last_attempt = 1700000000;
	rc[0].retry_until = 1700400000;
	rc[1].addr = "bob@example.net";
	rc[1].action = BOUNCE_ACTION_FAILED;
	memset(&p, 0, sizeof(p));
	p.hostname = "mail.example.org";
	p.sender = orcpt[0] ? orcpt : "alice@example.org";
	p.queue_id = diag;
	p.envid = diag;
	p.arrival = 1700000000;
	p.now = 1700000001;
	p.kind = (enum bounce_kind)((data[0] >> 4) % 3);
	p.ret = (enum bounce_ret)((data[0] >> 6) % 3);
	p.random = 0x0123456789abcdefULL;
	p.rcpts = rc;
	p.nrcpts = 2;
	p.read = fz_read;
	p.read_arg = &r;
	buf_init(&out, 1 << 20);
	if (bounce_compose(&p, &out, &errstr) == 0) {
		const char	*b = strstr(out.data, "\r\n\tboundary=\"");
		const char	*e;
		char		 delim[128];

		if (b == NULL)
			abort();
		b += 13;
		if ((e = strchr(b, '"')) == NULL ||
		    (size_t)(e - b) + 3 > sizeof(delim))
			abort();
		delim[0] = delim[1] = '-';
		memcpy(delim + 2, b, (size_t)(e - b));
		delim[e - b + 2] = '\0';
		fz_check(&out, delim);
	} else if (errstr == NULL)
		abort();
	buf_free(&out);
	free(diag);
	free(orcpt);
	return 0;
}
