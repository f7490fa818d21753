/*
 * libFuzzer target for smtp_session: the whole state machine.  The first
 * byte picks the listener (kind, TLS, plaintext AUTH, error limit), the
 * second seeds the chunk sizes; the rest is fed as a server would, in
 * chunks of varying size with unconsumed bytes kept and fed again.  The
 * ops answer every request at once, inside the callback, alternately
 * accepting and refusing.  STARTTLS is alternately completed (with the
 * buffered bytes discarded) and failed (the connection dropped).  SCRAM
 * gets a fixed salt and nonce, and its proofs are taken or refused in
 * turn whatever they hold (so the last step is reached too); binding
 * data is there on every other call.  Broken invariants call abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_session.h"

struct fz {
	struct smtp_session	*s;
	unsigned		 turn;
	bool			 closed;
	bool			 starttls;
	bool			 open;	/* a spool file is open */
	bool			 committing;
};

static bool
fz_yes(struct fz *f)
{
	return f->turn++ % 2 == 0;
}

/* Whole reply lines: "DDD" then " " or "-", CRLF only at the end. */
static void
fz_reply(void *arg, const char *p, size_t len)
{
	struct fz	*f = arg;
	size_t		 i, start = 0;

	if (f->closed || len < 6 || p[len - 2] != '\r' || p[len - 1] != '\n')
		abort();
	for (i = 0; i < len; i++) {
		if (p[i] == '\r' && (i + 1 >= len || p[i + 1] != '\n'))
			abort();
		if (p[i] == '\n') {
			if (p[i - 1] != '\r' || i + 1 - start > 512 ||
			    i - start < 5)
				abort();
			if (p[start] < '2' || p[start] > '5' ||
			    (p[start + 3] != ' ' && p[start + 3] != '-'))
				abort();
			start = i + 1;
		} else if ((unsigned char)p[i] < 0x20 && p[i] != '\r')
			abort();
	}
}

static void
fz_starttls(void *arg)
{
	struct fz	*f = arg;

	if (f->starttls)
		abort();
	f->starttls = true;
}

static void
fz_auth(void *arg, const char *user, const char *pass)
{
	struct fz	*f = arg;

	if (strlen(user) == 0 || strlen(pass) == 0)
		abort();
	switch (f->turn++ % 3) {
	case 0:
		smtp_session_auth_result(f->s, SMTP_AUTH_OK);
		break;
	case 1:
		smtp_session_auth_result(f->s, SMTP_AUTH_FAIL);
		break;
	default:
		smtp_session_auth_result(f->s, SMTP_AUTH_TEMPFAIL);
		break;
	}
}

static void
fz_scram_salt(void *arg, const char *user)
{
	struct fz			*f = arg;
	struct sasl_scram_challenge	 ch;

	if (strlen(user) == 0 || strlen(user) > SASL_FIELD_MAX)
		abort();
	if (f->turn++ % 4 == 3) {
		smtp_session_scram_challenge(f->s, SMTP_AUTH_TEMPFAIL, NULL);
		return;
	}
	memset(&ch, 0, sizeof(ch));
	memset(ch.salt, 0x5b, 16);
	ch.saltlen = 16;
	ch.iterations = 4096;
	memcpy(ch.snonce, "SRV", 4);
	smtp_session_scram_challenge(f->s, SMTP_AUTH_OK, &ch);
}

static void
fz_scram_proof(void *arg, const char *user, struct span am,
    const unsigned char *proof)
{
	struct fz		*f = arg;
	static const unsigned char sig[SASL_SCRAM_HASH_LEN] = { 1 };

	if (strlen(user) == 0 || am.len == 0 ||
	    am.len > SASL_SCRAM_AUTHMSG_MAX)
		abort();
	(void)proof[SASL_SCRAM_HASH_LEN - 1];
	switch (f->turn++ % 3) {
	case 0:
		smtp_session_scram_result(f->s, SMTP_AUTH_OK, sig);
		break;
	case 1:
		smtp_session_scram_result(f->s, SMTP_AUTH_FAIL, NULL);
		break;
	default:
		smtp_session_scram_result(f->s, SMTP_AUTH_TEMPFAIL, NULL);
		break;
	}
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

static void
fz_mail(void *arg, const struct smtp_envelope *env)
{
	struct fz	*f = arg;

	if (env->nrcpts != 0)
		abort();
	if (fz_yes(f))
		smtp_session_mail_result(f->s, 250, NULL, NULL);
	else
		smtp_session_mail_result(f->s, 550, "5.7.1", "no\r\n\x01");
}

static void
fz_rcpt(void *arg, const struct smtp_envelope *env,
    const struct smtp_rcpt *rcpt)
{
	struct fz	*f = arg;

	if (rcpt->addr.is_null)
		abort();
	if (fz_yes(f))
		smtp_session_rcpt_result(f->s, 250, NULL, NULL);
	else
		smtp_session_rcpt_result(f->s, 450, NULL, NULL);
}

static void
fz_data_open(void *arg)
{
	struct fz	*f = arg;

	if (f->open || f->committing)
		abort();
	if (fz_yes(f)) {
		f->open = true;
		smtp_session_data_open_result(f->s, true, "ID");
	} else
		smtp_session_data_open_result(f->s, false, NULL);
}

static void
fz_data_write(void *arg, const char *p, size_t len)
{
	struct fz	*f = arg;

	if (!f->open || len == 0)
		abort();
	(void)p[len - 1];
}

static void
fz_data_commit(void *arg, const struct smtp_envelope *env)
{
	struct fz	*f = arg;

	if (!f->open || env->nrcpts == 0)
		abort();
	f->open = false;
	f->committing = true;
	if (fz_yes(f))
		smtp_session_commit_result(f->s, 250, NULL, NULL);
	else
		smtp_session_commit_result(f->s, 452, "4.3.1", "full");
	f->committing = false;
}

static void
fz_data_abort(void *arg)
{
	struct fz	*f = arg;

	if (!f->open)
		abort();
	f->open = false;
}

static void
fz_close(void *arg)
{
	struct fz	*f = arg;

	if (f->closed || f->open)
		abort();
	f->closed = true;
}

/* The HELO notice: a printable name, never empty. */
static void
fz_helo(void *arg, const char *name)
{
	size_t	i;

	(void)arg;
	if (name[0] == '\0')
		abort();
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] < 0x21 || name[i] > 0x7e)
			abort();
}

static const struct smtp_session_ops fz_ops = {
	.reply = fz_reply,
	.helo = fz_helo,
	.starttls = fz_starttls,
	.auth = fz_auth,
	.scram_salt = fz_scram_salt,
	.scram_proof = fz_scram_proof,
	.cbind = fz_cbind,
	.mail = fz_mail,
	.rcpt = fz_rcpt,
	.data_open = fz_data_open,
	.data_write = fz_data_write,
	.data_commit = fz_data_commit,
	.data_abort = fz_data_abort,
	.close = fz_close,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum smtp_kind kinds[] = {
		SMTP_KIND_MX, SMTP_KIND_SUBMISSION, SMTP_KIND_SUBMISSIONS,
		SMTP_KIND_LOCAL
	};
	struct smtp_params	 params;
	struct fz		 f;
	char			*pend;
	size_t			 plen = 0, off = 2, chunk, n;
	uint32_t		 rng;
	bool			 dropped = false, paused;
	const char		*pipelined;

	if (size < 2)
		return 0;
	memset(&params, 0, sizeof(params));
	params.hostname = "mx.example.org";
	params.kind = kinds[data[0] & 3];
	params.client_ip = "192.0.2.1";
	params.client_name = (data[0] & 4) ? "c.example" : NULL;
	params.tls_available = (data[0] & 8) != 0;
	params.plaintext_auth = (data[0] & 16) != 0;
	params.local_user = "carol";
	params.max_size = (data[0] & 32) ? 300 : 100000;
	params.max_rcpts = 3;
	params.max_errors = (data[0] & 64) ? 5 : 0;
	params.now = 1700000000;
	rng = data[1] * 2654435761u + 1;

	memset(&f, 0, sizeof(f));
	f.s = smtp_session_new(&params, &fz_ops, &f);
	if (params.kind == SMTP_KIND_SUBMISSIONS)
		smtp_session_tls_started(f.s, "TLSv1.3", "TLS_AES_128_GCM");
	/* data[1] & 1: the greeting delay, ended at a random chunk */
	paused = (data[1] & 1) != 0;
	if (paused)
		smtp_session_start_paused(f.s);
	else
		smtp_session_start(f.s);
	if ((pend = malloc(size)) == NULL)
		abort();
	while (off < size && !dropped && !smtp_session_closing(f.s)) {
		rng = rng * 1103515245u + 12345u;
		if (paused && (rng >> 12) % 4 == 0) {
			smtp_session_start(f.s);
			paused = false;
		}
		chunk = (rng >> 16) % 8 == 0 ? 1 + (rng >> 8) % 2048 :
		    1 + (rng >> 20) % 24;
		if (chunk > size - off)
			chunk = size - off;
		memcpy(pend + plen, data + off, chunk);
		plen += chunk;
		off += chunk;
		while (plen > 0) {
			n = smtp_session_input(f.s, pend, plen);
			if (n > plen)
				abort();
			memmove(pend, pend + n, plen - n);
			plen -= n;
			if (f.starttls) {
				/* the server drops what came in the clear */
				f.starttls = false;
				plen = 0;
				if (!smtp_session_waiting(f.s))
					abort();
				if (fz_yes(&f))
					smtp_session_tls_started(f.s, "TLSv1.2",
					    "AES");
				else
					dropped = true;
				break;
			}
			if (smtp_session_waiting(f.s))
				abort();	/* every answer came at once */
			if (n == 0)
				break;
		}
	}
	/* an early talker is refused and closed; nothing else is */
	if (smtp_session_pregreeted(f.s) && !smtp_session_closing(f.s))
		abort();
	/* the verb it names is one of ours */
	pipelined = smtp_session_pipelining_abuse(f.s);
	if (pipelined != NULL && (pipelined[0] == '\0' ||
	    strspn(pipelined, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
	    strlen(pipelined)))
		abort();
	if (data[0] & 128)
		smtp_session_timeout(f.s);
	smtp_session_free(f.s);
	if (f.open)
		abort();
	free(pend);
	return 0;
}
