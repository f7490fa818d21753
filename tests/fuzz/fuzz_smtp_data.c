/*
 * libFuzzer target for the DATA stream decoder of smtp_session.  A
 * session is brought into DATA (every answer positive), then the input
 * after its first byte (which seeds the chunk sizes) is fed as the
 * server would.  A plain reference decoder works out where the data ends
 * (the first CRLF "." CRLF, counting the CRLF of the DATA command), what
 * the dot-unstuffed content is and whether the session's checks must
 * refuse it; the session must then have committed exactly that content,
 * or refused it.  Anything else calls abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp_session.h"

#define FZ_MAX_SIZE	2000	/* small, so that the size check is reached */

struct fz {
	struct smtp_session	*s;
	bool			 open;
	bool			 in_data;	/* our Received: was written */
	char			*content;	/* what followed Received: */
	size_t			 len;
	size_t			 cap;
	size_t			 commits;
	char			*committed;	/* content at the first commit */
	size_t			 committed_len;
	size_t			 aborts;
	enum { FZ_NONE, FZ_COMMIT, FZ_ABORT } first;
};

static void
fz_reply(void *arg, const char *p, size_t len)
{
	if (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n')
		abort();
}

static void
fz_starttls(void *arg)
{
	abort();
}

static void
fz_auth(void *arg, const char *user, const char *pass)
{
	struct fz	*f = arg;

	smtp_session_auth_result(f->s, SMTP_AUTH_FAIL);
}

static void
fz_mail(void *arg, const struct smtp_envelope *env)
{
	struct fz	*f = arg;

	smtp_session_mail_result(f->s, 250, NULL, NULL);
}

static void
fz_rcpt(void *arg, const struct smtp_envelope *env,
    const struct smtp_rcpt *rcpt)
{
	struct fz	*f = arg;

	smtp_session_rcpt_result(f->s, 250, NULL, NULL);
}

static void
fz_data_open(void *arg)
{
	struct fz	*f = arg;

	if (f->open)
		abort();
	f->open = true;
	f->in_data = false;
	f->len = 0;
	smtp_session_data_open_result(f->s, true, "ID");
	f->in_data = true;
}

static void
fz_data_write(void *arg, const char *p, size_t len)
{
	struct fz	*f = arg;

	if (!f->open)
		abort();
	if (!f->in_data)
		return;		/* our Received: header */
	if (f->len + len > f->cap) {
		f->cap = (f->len + len) * 2;
		if ((f->content = realloc(f->content, f->cap)) == NULL)
			abort();
	}
	memcpy(f->content + f->len, p, len);
	f->len += len;
}

static void
fz_data_commit(void *arg, const struct smtp_envelope *env)
{
	struct fz	*f = arg;

	if (!f->open)
		abort();
	f->open = false;
	if (f->first == FZ_NONE)
		f->first = FZ_COMMIT;
	if (f->commits++ == 0) {
		if ((f->committed = malloc(f->len + 1)) == NULL)
			abort();
		memcpy(f->committed, f->content, f->len);
		f->committed_len = f->len;
	}
	smtp_session_commit_result(f->s, 250, NULL, NULL);
}

static void
fz_data_abort(void *arg)
{
	struct fz	*f = arg;

	if (!f->open)
		abort();
	f->open = false;
	if (f->first == FZ_NONE)
		f->first = FZ_ABORT;
	f->aborts++;
}

static void
fz_close(void *arg)
{
}

static const struct smtp_session_ops fz_ops = {
	.reply = fz_reply,
	.starttls = fz_starttls,
	.auth = fz_auth,
	.mail = fz_mail,
	.rcpt = fz_rcpt,
	.data_open = fz_data_open,
	.data_write = fz_data_write,
	.data_commit = fz_data_commit,
	.data_abort = fz_data_abort,
	.close = fz_close,
};

/* As the session spots a trace field: the first 16 octets of the line. */
static bool
ref_is_received(const char *p, size_t len)
{
	size_t	i;

	if (len > 16)
		len = 16;
	if (len < 9 || strncasecmp(p, "received", 8) != 0)
		return false;
	for (i = 8; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i < len && p[i] == ':';
}

/*
 * The reference: p[0..len) is the data up to and including the CRLF
 * before the ending ".".  Returns false if the message must be refused,
 * else true with the unstuffed content in out.
 */
static bool
ref_decode(const char *p, size_t len, char *out, size_t *outlen)
{
	size_t		 i, o = 0, received = 0, llen;
	const char	*line, *end;
	bool		 header = true;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r' && (i + 1 >= len || p[i + 1] != '\n'))
			return false;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return false;
	}
	line = p;
	while (line < p + len) {
		end = memchr(line, '\n', (size_t)(p + len - line));
		llen = (size_t)(end - line) + 1;
		if (line[0] == '.') {
			line++;
			llen--;
		}
		if (llen > 1000)
			return false;
		if (header) {
			if (llen == 2)
				header = false;
			else if (ref_is_received(line, llen - 1) &&
			    ++received > 100)
				return false;
		}
		memcpy(out + o, line, llen);
		o += llen;
		line = end + 1;
	}
	if (o > FZ_MAX_SIZE)
		return false;
	*outlen = o;
	return true;
}

static void
fz_feed(struct fz *f, char *pend, size_t *plen, const char *p, size_t len)
{
	size_t	n;

	memcpy(pend + *plen, p, len);
	*plen += len;
	while (*plen > 0) {
		n = smtp_session_input(f->s, pend, *plen);
		if (n > *plen || smtp_session_waiting(f->s))
			abort();
		memmove(pend, pend + n, *plen - n);
		*plen -= n;
		if (n == 0)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 hello[] = "EHLO client.example\r\n"
	    "MAIL FROM:<a@example.net>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n";
	struct smtp_params	 params;
	struct fz		 f;
	const char		*in, *end;
	char			*pend, *want;
	size_t			 inlen, plen = 0, off = 0, chunk, i, wantlen;
	uint32_t		 rng;
	bool			 ok;

	if (size < 1)
		return 0;
	in = (const char *)data + 1;
	inlen = size - 1;
	memset(&params, 0, sizeof(params));
	params.hostname = "mx.example.org";
	params.kind = SMTP_KIND_MX;
	params.client_ip = "192.0.2.1";
	params.max_size = FZ_MAX_SIZE;
	params.max_rcpts = 10;
	params.now = 1700000000;
	memset(&f, 0, sizeof(f));
	f.s = smtp_session_new(&params, &fz_ops, &f);
	smtp_session_start(f.s);
	if ((pend = malloc(inlen + sizeof(hello))) == NULL)
		abort();
	fz_feed(&f, pend, &plen, hello, sizeof(hello) - 1);
	if (!f.open || plen != 0)
		abort();

	rng = data[0] * 2654435761u + 7;
	while (off < inlen && !smtp_session_closing(f.s)) {
		rng = rng * 1103515245u + 12345u;
		chunk = (rng >> 16) % 4 == 0 ? 1 + (rng >> 8) % 1500 :
		    1 + (rng >> 20) % 16;
		if (chunk > inlen - off)
			chunk = inlen - off;
		fz_feed(&f, pend, &plen, in + off, chunk);
		off += chunk;
	}

	/* Where does the data end?  The DATA line's CRLF counts (§4.1.1.4). */
	end = NULL;
	if (inlen >= 3 && memcmp(in, ".\r\n", 3) == 0)
		end = in;
	for (i = 0; end == NULL && i + 5 <= inlen; i++)
		if (memcmp(in + i, "\r\n.\r\n", 5) == 0)
			end = in + i + 2;
	if (end == NULL) {
		/* still in DATA: nothing committed, nothing aborted */
		if (f.commits != 0 || f.aborts != 0 || !f.open)
			abort();
	} else {
		if ((want = malloc((size_t)(end - in) + 1)) == NULL)
			abort();
		ok = ref_decode(in, (size_t)(end - in), want, &wantlen);
		/* the first commit or abort is the end of this message */
		if (ok && (f.first != FZ_COMMIT ||
		    f.committed_len != wantlen ||
		    memcmp(f.committed, want, wantlen) != 0))
			abort();
		if (!ok && f.first != FZ_ABORT)
			abort();
		free(want);
	}
	smtp_session_free(f.s);
	free(f.committed);
	free(f.content);
	free(pend);
	return 0;
}
