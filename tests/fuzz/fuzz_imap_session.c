/*
 * libFuzzer target for imap_session: the whole state machine over
 * imap_parse.  The first byte picks the listener (TLS available,
 * plaintext login, implicit TLS); the rest is fed as the server would,
 * in chunks of varying size with unconsumed bytes fed again.  Every
 * request is answered at once, inside the callback: logins in turn ok /
 * failed / tempfail, SCRAM with a fixed salt and nonce (proofs taken or
 * refused in turn), mailbox commands with an untagged line and a tagged
 * OK, NO or BAD, SELECT and CLOSE switching the selected state.
 * Responses must be whole CRLF lines, or literals the line announced.
 * Broken invariants call abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_session.h"

struct fz {
	struct imap_session	*s;
	unsigned		 turn;
	bool			 closed;
};

static void
fz_reply(void *arg, const char *p, size_t len)
{
	struct fz	*f = arg;

	if (f->closed || len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n')
		abort();
	if (memchr(p, '\0', len) != NULL)
		abort();
}

static void
fz_starttls(void *arg)
{
	struct fz	*f = arg;

	if (f->turn++ % 2 == 0)
		imap_session_tls_started(f->s);
	else
		imap_session_bye(f->s, "TLS failed");
}

static void
fz_auth(void *arg, const char *user, const char *pass)
{
	struct fz	*f = arg;

	if (user == NULL || pass == NULL)
		abort();
	imap_session_auth_result(f->s, (enum imap_auth_result)(f->turn++ %
	    3));
}

static void
fz_scram_salt(void *arg, const char *user)
{
	struct fz			*f = arg;
	struct sasl_scram_challenge	 ch;

	memset(&ch, 0, sizeof(ch));
	memset(ch.salt, 0x5a, 16);
	ch.saltlen = 16;
	ch.iterations = 4096;
	memcpy(ch.snonce, "fuzznonce", 10);
	imap_session_scram_challenge(f->s, f->turn++ % 4 == 3 ?
	    IMAP_AUTH_TEMPFAIL : IMAP_AUTH_OK, &ch);
}

static void
fz_scram_proof(void *arg, const char *user, struct span am,
    const unsigned char *proof)
{
	struct fz		*f = arg;
	static const unsigned char sig[SASL_SCRAM_HASH_LEN];

	if (f->turn++ % 2 == 0)
		imap_session_scram_result(f->s, IMAP_AUTH_OK, sig);
	else
		imap_session_scram_result(f->s, IMAP_AUTH_FAIL, NULL);
}

static void
fz_scram_done(void *arg)
{
	struct fz	*f = arg;

	imap_session_auth_result(f->s, IMAP_AUTH_OK);
}

static ssize_t
fz_cbind(void *arg, enum sasl_cb type, unsigned char *out, size_t outsz)
{
	struct fz	*f = arg;

	if (f->turn++ % 2 == 0 || outsz < 32)
		return -1;
	memset(out, 1, 32);
	return 32;
}

static void
fz_command(void *arg, const struct imap_cmd *c)
{
	struct fz	*f = arg;
	struct buf	 b;

	if (!imap_session_authenticated(f->s))
		abort();
	if (c->name == IMAP_CMD_SELECT)
		imap_session_set_selected(f->s, true);
	if (c->name == IMAP_CMD_CLOSE)
		imap_session_set_selected(f->s, false);
	buf_init(&b, 1 << 20);
	if (buf_append_str(&b, "* LIST () \".\" ") == -1 ||
	    imap_session_buf_string(&b, c->mailbox) == -1 ||
	    buf_append(&b, "\r\n", 2) == -1)
		abort();
	imap_session_send(f->s, b.data, b.len);
	buf_free(&b);
	imap_session_done(f->s, (enum imap_status)(f->turn++ % 3), "%s done",
	    imap_cmd_label(c));
}

static void
fz_idle(void *arg, bool on)
{
	struct fz	*f = arg;

	if (on)
		imap_session_untagged(f->s, "1 EXISTS");
}

static void
fz_close(void *arg)
{
	struct fz	*f = arg;

	f->closed = true;
}

static const struct imap_session_ops fz_ops = {
	.reply = fz_reply,
	.starttls = fz_starttls,
	.auth = fz_auth,
	.scram_salt = fz_scram_salt,
	.scram_proof = fz_scram_proof,
	.scram_done = fz_scram_done,
	.cbind = fz_cbind,
	.command = fz_command,
	.idle = fz_idle,
	.close = fz_close,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_params	 p;
	struct fz		 f;
	const char		*in;
	size_t			 off = 0, n, used, stuck = 0;
	unsigned		 cfg;

	if (size < 1)
		return 0;
	cfg = data[0];
	in = (const char *)data + 1;
	size--;
	memset(&p, 0, sizeof(p));
	memset(&f, 0, sizeof(f));
	p.hostname = "fuzz.example";
	p.tls_available = cfg & 1;
	p.plaintext_auth = cfg & 2;
	p.appendlimit = 10000;
	f.s = imap_session_new(&p, &fz_ops, &f);
	if (cfg & 4)
		imap_session_tls_started(f.s);
	imap_session_start(f.s);
	while (off < size && !f.closed && stuck < 2) {
		n = 1 + (cfg + off) % 61;
		if (n > size - off)
			n = size - off;
		used = imap_session_input(f.s, in + off, n);
		if (used > n)
			abort();
		/* every request is answered at once: no wait outlives it */
		if (imap_session_waiting(f.s))
			abort();
		stuck = used == 0 ? stuck + 1 : 0;
		off += used;
	}
	imap_session_free(f.s);
	return 0;
}
