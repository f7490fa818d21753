/*
 * libFuzzer target for pop3_session: the command parser and the whole
 * state machine, and the conversion of message content to the wire form.
 * The first byte picks the listener (TLS available, plaintext login,
 * implicit TLS, APOP offered, error limit), the second seeds the chunk
 * sizes; the rest is fed as the server would, in chunks of varying size
 * with unconsumed bytes kept and fed again.  Logins are answered at once,
 * inside the callback, in turn ok / failed / in use / unservable /
 * tempfail, with a maildrop of three messages.  RETR and TOP "send" the
 * fuzz input itself through the stuffer, whose output is checked against
 * the input.  STLS is alternately completed (buffered bytes discarded)
 * and failed (the connection dropped).  SCRAM gets a fixed salt and
 * nonce, proofs are taken or refused in turn whatever they hold, and
 * binding data is there on every other call.  Broken invariants call
 * abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_session.h"

struct fz {
	struct pop3_session	*s;
	const uint8_t		*data;
	size_t			 size;
	unsigned		 turn;
	bool			 closed;
	bool			 stls;
	bool			 sending;
	int64_t			 top;
	bool			 logged_in;
};

static const struct pop3_msg fz_drop[] = {
	{ 10, "a" },
	{ 20, "1700000000.2" },
	{ 30, "!~" },
};

/* Whole lines ending in CRLF, no other CR or LF, no controls. */
static void
fz_reply(void *arg, const char *p, size_t len)
{
	struct fz	*f = arg;
	size_t		 i, start = 0;

	if (f->closed || len < 3 || p[len - 2] != '\r' || p[len - 1] != '\n')
		abort();
	for (i = 0; i < len; i++) {
		if (p[i] == '\r' && (i + 1 >= len || p[i + 1] != '\n'))
			abort();
		if (p[i] == '\n') {
			if (p[i - 1] != '\r' || i + 1 - start > 512)
				abort();
			start = i + 1;
		} else if ((unsigned char)p[i] < 0x20 && p[i] != '\r')
			abort();
	}
}

static void
fz_stls(void *arg)
{
	struct fz	*f = arg;

	if (f->stls || f->logged_in)
		abort();
	f->stls = true;
}

static void
fz_answer(struct fz *f)
{
	switch (f->turn++ % 5) {
	case 0:
		f->logged_in = true;
		pop3_session_auth_result(f->s, POP3_AUTH_OK, fz_drop, 3);
		break;
	case 1:
		pop3_session_auth_result(f->s, POP3_AUTH_FAIL, NULL, 0);
		break;
	case 2:
		pop3_session_auth_result(f->s, POP3_AUTH_IN_USE, NULL, 0);
		break;
	case 3:
		pop3_session_auth_result(f->s, POP3_AUTH_SYS_PERM, NULL, 0);
		break;
	default:
		pop3_session_auth_result(f->s, POP3_AUTH_TEMPFAIL, NULL, 0);
		break;
	}
}

static void
fz_auth(void *arg, const char *user, const char *pass)
{
	struct fz	*f = arg;

	if (f->logged_in || strlen(user) == 0 || strlen(pass) == 0)
		abort();
	fz_answer(f);
}

static void
fz_apop(void *arg, const char *user, const char *digest)
{
	struct fz	*f = arg;
	size_t		 i;

	if (f->logged_in || strlen(user) == 0 || strlen(digest) != 32)
		abort();
	for (i = 0; i < 32; i++)
		if (!((digest[i] >= '0' && digest[i] <= '9') ||
		    (digest[i] >= 'a' && digest[i] <= 'f')))
			abort();
	fz_answer(f);
}

static void
fz_scram_salt(void *arg, const char *user)
{
	struct fz			*f = arg;
	struct sasl_scram_challenge	 ch;

	if (f->logged_in || strlen(user) == 0)
		abort();
	if (f->turn++ % 4 == 3) {
		pop3_session_scram_challenge(f->s, POP3_AUTH_TEMPFAIL, NULL);
		return;
	}
	memset(&ch, 0, sizeof(ch));
	memset(ch.salt, 0x5b, 16);
	ch.saltlen = 16;
	ch.iterations = 4096;
	memcpy(ch.snonce, "SRV", 4);
	pop3_session_scram_challenge(f->s, POP3_AUTH_OK, &ch);
}

static void
fz_scram_proof(void *arg, const char *user, struct span am,
    const unsigned char *proof)
{
	struct fz		*f = arg;
	static const unsigned char sig[SASL_SCRAM_HASH_LEN] = { 1 };

	if (f->logged_in || strlen(user) == 0 || am.len == 0 ||
	    am.len > SASL_SCRAM_AUTHMSG_MAX)
		abort();
	(void)proof[SASL_SCRAM_HASH_LEN - 1];
	switch (f->turn++ % 3) {
	case 0:
		pop3_session_scram_result(f->s, POP3_AUTH_OK, sig);
		break;
	case 1:
		pop3_session_scram_result(f->s, POP3_AUTH_FAIL, NULL);
		break;
	default:
		pop3_session_scram_result(f->s, POP3_AUTH_TEMPFAIL, NULL);
		break;
	}
}

static void
fz_scram_done(void *arg)
{
	struct fz	*f = arg;

	if (f->logged_in)
		abort();
	fz_answer(f);
}

static ssize_t
fz_cbind(void *arg, enum sasl_cb type, unsigned char *out, size_t outsz)
{
	struct fz	*f = arg;

	if (outsz < 32 || (type != SASL_CB_TLS_EXPORTER &&
	    type != SASL_CB_TLS_SERVER_END_POINT))
		abort();
	if (f->turn++ % 2 == 0)
		return -1;
	memset(out, 0x77, 32);
	return 32;
}

static int
fz_retr(void *arg, size_t idx, int64_t top)
{
	struct fz	*f = arg;

	if (!f->logged_in || idx >= 3 || f->sending ||
	    pop3_session_deleted(f->s, idx))
		abort();
	if (f->turn++ % 5 == 4)
		return -1;
	f->sending = true;
	f->top = top;
	return 0;
}

static int
fz_update(void *arg)
{
	struct fz	*f = arg;

	if (!f->logged_in || pop3_session_count(f->s) != 3)
		abort();
	return f->turn++ % 3 == 2 ? -1 : 0;
}

static void
fz_close(void *arg)
{
	struct fz	*f = arg;

	if (f->closed)
		abort();
	f->closed = true;
}

static const struct pop3_session_ops fz_ops = {
	.reply = fz_reply,
	.stls = fz_stls,
	.auth = fz_auth,
	.apop = fz_apop,
	.scram_salt = fz_scram_salt,
	.scram_proof = fz_scram_proof,
	.scram_done = fz_scram_done,
	.cbind = fz_cbind,
	.retr = fz_retr,
	.update = fz_update,
	.close = fz_close,
};

/*
 * Send the fuzz input as a message in chunks and check the output: CRLF
 * line ends only, the final ".", and for RETR (top < 0) that undoing the
 * stuffing gives the input with its line ends made CRLF.
 */
static void
fz_send(struct fz *f, uint32_t rng)
{
	struct pop3_session_stuffer	 st;
	char				*out, *want;
	size_t				 cap, o = 0, off = 0, n, i, w = 0;
	bool				 bol = true;

	cap = 2 * f->size + 8;
	if ((out = malloc(cap)) == NULL || (want = malloc(cap)) == NULL)
		abort();
	pop3_session_stuff_init(&st, f->top);
	while (off < f->size) {
		rng = rng * 1103515245u + 12345u;
		n = 1 + (rng >> 16) % 64;
		if (n > f->size - off)
			n = f->size - off;
		o += pop3_session_stuff(&st, (const char *)f->data + off, n,
		    out + o);
		off += n;
	}
	o += pop3_session_stuff_end(&st, out + o);
	if (o > cap || o < 3 || memcmp(out + o - 3, ".\r\n", 3) != 0)
		abort();
	for (i = 0; i < o; i++)
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			abort();
	if (f->top < 0) {
		/* the input, bare LF made CRLF, a CRLF added at the end */
		for (i = 0; i < f->size; i++) {
			if (f->data[i] == '\n' &&
			    (i == 0 || f->data[i - 1] != '\r'))
				want[w++] = '\r';
			want[w++] = (char)f->data[i];
		}
		if (f->size > 0 && f->data[f->size - 1] != '\n') {
			if (f->data[f->size - 1] != '\r')
				want[w++] = '\r';
			want[w++] = '\n';
		}
		/* unstuff the output: drop one "." at each line start */
		n = 0;
		for (i = 0; i + 3 < o; i++) {
			if (bol && out[i] == '.') {
				if (i + 1 >= o - 3 || out[i + 1] != '.')
					abort();
				i++;
			}
			bol = out[i] == '\n';
			out[n++] = out[i];
		}
		if (n != w || memcmp(out, want, w) != 0)
			abort();
	}
	free(out);
	free(want);
	f->sending = false;
	pop3_session_send_done(f->s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_params	 params;
	struct fz		 f;
	char			*pend;
	size_t			 plen = 0, off = 2, chunk, n;
	uint32_t		 rng;
	bool			 dropped = false;

	if (size < 2)
		return 0;
	memset(&params, 0, sizeof(params));
	params.hostname = "mx.example.org";
	params.tls_available = (data[0] & 1) != 0;
	params.plaintext_auth = (data[0] & 2) != 0;
	params.timestamp = (data[0] & 8) ? "<1.2.3@mx.example.org>" : NULL;
	params.max_errors = (data[0] & 16) ? 5 : 0;
	params.login_delay = (data[0] & 32) ? 10 : 0;
	rng = data[1] * 2654435761u + 1;

	memset(&f, 0, sizeof(f));
	f.data = data;
	f.size = size;
	f.s = pop3_session_new(&params, &fz_ops, &f);
	if (data[0] & 4)
		pop3_session_tls_started(f.s);
	pop3_session_start(f.s);
	if ((pend = malloc(size)) == NULL)
		abort();
	while (off < size && !dropped && !pop3_session_closing(f.s)) {
		rng = rng * 1103515245u + 12345u;
		chunk = (rng >> 16) % 8 == 0 ? 1 + (rng >> 8) % 2048 :
		    1 + (rng >> 20) % 24;
		if (chunk > size - off)
			chunk = size - off;
		memcpy(pend + plen, data + off, chunk);
		plen += chunk;
		off += chunk;
		while (plen > 0) {
			n = pop3_session_input(f.s, pend, plen);
			if (n > plen)
				abort();
			memmove(pend, pend + n, plen - n);
			plen -= n;
			if (f.stls) {
				/* the server drops what came in the clear */
				f.stls = false;
				plen = 0;
				if (!pop3_session_waiting(f.s))
					abort();
				if (f.turn++ % 2 == 0)
					pop3_session_tls_started(f.s);
				else
					dropped = true;
				break;
			}
			if (f.sending) {
				if (!pop3_session_waiting(f.s))
					abort();
				fz_send(&f, rng);
				continue;
			}
			if (pop3_session_waiting(f.s))
				abort();	/* every answer came at once */
			if (n == 0)
				break;
		}
	}
	if (data[0] & 128)
		pop3_session_timeout(f.s);
	pop3_session_free(f.s);
	free(pend);
	return 0;
}
