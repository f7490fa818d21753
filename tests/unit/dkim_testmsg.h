/*
 * Helpers the DKIM unit tests share: read a message from the test data,
 * make its line ends CRLF, split it, hash its body the way a signature
 * asks, and look a key record up in a small table.
 */
#ifndef CACHET_TEST_DKIM_TESTMSG_H
#define CACHET_TEST_DKIM_TESTMSG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim.h"

#define TESTMSG_MAX	(1024 * 1024)

static inline const char *
testmsg_dir(void)
{
	const char	*d = getenv("CACHET_TESTDATA");

	return d != NULL ? d : "tests/data";
}

/* The file under the test data directory, NULL when it cannot be read. */
static inline char *
testmsg_read(const char *rel, size_t *len_out)
{
	char	 path[1024];
	FILE	*fp;
	char	*p;
	size_t	 n;

	(void)snprintf(path, sizeof(path), "%s/%s", testmsg_dir(), rel);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	p = malloc(TESTMSG_MAX + 1);
	n = fread(p, 1, TESTMSG_MAX, fp);
	fclose(fp);
	p[n] = '\0';
	*len_out = n;
	return p;
}

/* Bare LFs become CRLF (the files are stored with either). */
static inline void
testmsg_crlf(const char *p, size_t n, struct buf *out)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			(void)buf_append_char(out, '\r');
		(void)buf_append_char(out, p[i]);
	}
}

/* Split at the empty line: the header section and the body. */
static inline void
testmsg_split(struct span msg, struct span *hdrs, struct span *body)
{
	size_t	i;

	for (i = 0; i + 1 < msg.len; i++) {
		if ((i == 0 || msg.ptr[i - 1] == '\n') &&
		    msg.ptr[i] == '\r' && msg.ptr[i + 1] == '\n') {
			*hdrs = span_make(msg.ptr, i);
			*body = span_make(msg.ptr + i + 2, msg.len - i - 2);
			return;
		}
	}
	*hdrs = msg;
	*body = span_make(msg.ptr + msg.len, 0);
}

static inline size_t
testmsg_bh(struct span body, const struct dkim_bh_spec *spec,
    unsigned char *out, uint64_t *hashed)
{
	struct dkim_bh	*bh = dkim_bh_new(spec);
	size_t		 n;

	dkim_bh_update(bh, body.ptr, body.len);
	n = dkim_bh_final(bh, out, hashed);
	dkim_bh_free(bh);
	return n;
}

#endif
