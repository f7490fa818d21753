/*
 * libFuzzer target for smtp_client: the fuzzer plays the server.  The
 * first byte picks the client's params (TLS policy, implicit TLS, AUTH)
 * and the message (DSN fields, UTF-8, size, recipients); the second seeds
 * the chunk sizes; the rest is fed as server replies, in chunks, with
 * unconsumed bytes kept and fed again.  The wiring side answers at once:
 * a message (or QUIT) whenever the client is ready, the content pumped
 * whenever it is wanted, STARTTLS completed or failed in turn.  Broken
 * invariants call abort(): an outcome per recipient exactly once, done
 * after all of them, close exactly once and nothing after it, commands
 * sent as whole CRLF lines.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_client.h"

#define FZ_RCPTS	3

struct fz {
	struct smtp_client		*c;
	struct smtp_client_msg		 msg;
	unsigned			 turn;
	bool				 closed;
	bool				 starttls;
	bool				 in_txn;
	bool				 in_body;
	bool				 seen[FZ_RCPTS];
	size_t				 ndone;
	size_t				 bodypos;
	unsigned			 messages;
};

static const char fz_body[] =
    "From: a@example.org\r\n.leading dot\r\n\r\nbody\n.\r\nend";

static const struct smtp_client_rcpt fz_rcpts[FZ_RCPTS] = {
	{ "bob@example.net", SMTP_CLIENT_NOTIFY_SUCCESS |
	    SMTP_CLIENT_NOTIFY_DELAY, "rfc822;bob+x@example.net" },
	{ "caf\xc3\xa9@example.net", SMTP_CLIENT_NOTIFY_NEVER, NULL },
	{ "carol@example.net", 0, "utf-8;\x01=;" },
};

static void
fz_send(void *arg, const char *p, size_t len)
{
	struct fz	*f = arg;

	if (f->closed || len == 0)
		abort();
	/* commands are whole lines; content is pumped only in the body */
	if (!f->in_body && (len < 2 || p[len - 2] != '\r' ||
	    p[len - 1] != '\n'))
		abort();
}

static void
fz_starttls(void *arg)
{
	struct fz	*f = arg;

	if (f->closed || f->starttls || f->in_txn)
		abort();
	f->starttls = true;
}

static void
fz_ready(void *arg)
{
	struct fz	*f = arg;

	if (f->closed || f->in_txn)
		abort();
}

static ssize_t
fz_read(void *arg, char *buf, size_t len)
{
	struct fz	*f = arg;
	size_t		 n = sizeof(fz_body) - 1 - f->bodypos;

	if (!f->in_txn || !f->in_body)
		abort();
	if (n > len)
		n = len;
	if (n > 7)
		n = 7;
	memcpy(buf, fz_body + f->bodypos, n);
	f->bodypos += n;
	return (ssize_t)n;
}

static void
fz_rcpt_done(void *arg, size_t i, const struct smtp_client_reply *r)
{
	struct fz	*f = arg;

	if (!f->in_txn || i >= f->msg.nrcpts || f->seen[i])
		abort();
	if (r->code < 200 || r->code > 599 || strlen(r->text) != r->len ||
	    strlen(r->enhanced) >= SMTP_CLIENT_ENH_MAX)
		abort();
	f->seen[i] = true;
	f->ndone++;
}

static void
fz_done(void *arg)
{
	struct fz	*f = arg;

	if (!f->in_txn || f->ndone != f->msg.nrcpts)
		abort();
	f->in_txn = false;
	f->in_body = false;
}

static void
fz_close(void *arg, const struct smtp_client_reply *r)
{
	struct fz	*f = arg;

	if (f->closed || f->in_txn || r->code < 200 || r->code > 599 ||
	    strlen(r->text) != r->len)
		abort();
	f->closed = true;
}

static const struct smtp_client_ops fz_ops = {
	.send = fz_send,
	.starttls = fz_starttls,
	.ready = fz_ready,
	.read = fz_read,
	.rcpt_done = fz_rcpt_done,
	.done = fz_done,
	.close = fz_close,
};

/* The wiring's turn: a message or QUIT when idle, content when wanted. */
static void
fz_drive(struct fz *f)
{
	int	rc;

	while (!f->closed) {
		if (smtp_client_wants_body(f->c)) {
			f->in_body = true;
			smtp_client_pump(f->c, 1 + f->turn++ % 64);
			continue;
		}
		if (smtp_client_stage(f->c) != SMTP_CLIENT_STAGE_READY ||
		    f->in_txn)
			return;
		if (f->messages >= 3 || f->turn++ % 5 == 4) {
			smtp_client_quit(f->c);
			return;
		}
		memset(f->seen, 0, sizeof(f->seen));
		f->ndone = 0;
		f->bodypos = 0;
		f->in_txn = true;
		f->in_body = false;
		f->messages++;
		rc = smtp_client_mail(f->c, &f->msg);
		if (rc == -1) {
			if (f->in_txn)
				abort();	/* done must have come */
			continue;
		}
		if (rc != 0 || !f->in_txn)
			abort();
		return;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_client_params	 p;
	struct fz			 f;
	char				*pend;
	size_t				 plen = 0, off = 2, chunk, n;
	uint32_t			 rng;

	if (size < 2)
		return 0;
	memset(&p, 0, sizeof(p));
	memset(&f, 0, sizeof(f));
	p.helo = "me.example.org";
	p.tls = (enum smtp_client_tls)(data[0] % 3);
	p.tls_on = (data[0] & 4) != 0;
	if (data[0] & 8) {
		p.auth_user = "alice";
		p.auth_pass = "secret";
		p.auth_plaintext = (data[0] & 16) != 0;
	}
	f.msg.from = (data[0] & 32) ? "" : "alice@example.org";
	f.msg.size = (data[0] & 64) ? 100000 : sizeof(fz_body) - 1;
	f.msg.body = (data[0] & 128) ? SMTP_CLIENT_BODY_8BITMIME :
	    SMTP_CLIENT_BODY_7BIT;
	f.msg.ret = (enum smtp_client_ret)(data[1] % 3);
	f.msg.envid = (data[1] & 4) ? "id+1" : NULL;
	f.msg.smtputf8 = (data[1] & 8) != 0;
	f.msg.rcpts = (data[1] & 16) ? fz_rcpts : fz_rcpts + 2;
	f.msg.nrcpts = (data[1] & 16) ? FZ_RCPTS : 1;
	rng = data[1] * 2654435761u + 1;

	f.c = smtp_client_new(&p, &fz_ops, &f);
	if ((pend = malloc(size)) == NULL)
		abort();
	while (off < size && !f.closed) {
		rng = rng * 1103515245u + 12345u;
		chunk = (rng >> 16) % 8 == 0 ? 1 + (rng >> 8) % 1024 :
		    1 + (rng >> 20) % 32;
		if (chunk > size - off)
			chunk = size - off;
		memcpy(pend + plen, data + off, chunk);
		plen += chunk;
		off += chunk;
		n = smtp_client_input(f.c, pend, plen);
		if (n > plen)
			abort();
		memmove(pend, pend + n, plen - n);
		plen -= n;
		if (f.starttls) {
			f.starttls = false;
			plen = 0;	/* the handshake replaces the stream */
			if (f.turn++ % 3 == 2)
				smtp_client_fail(f.c, "handshake failed");
			else
				smtp_client_tls_started(f.c);
		}
		fz_drive(&f);
	}
	if (!f.closed && (rng & 1))
		smtp_client_fail(f.c, "connection closed");
	if (f.closed && f.in_txn)
		abort();
	smtp_client_free(f.c);
	free(pend);
	return 0;
}
