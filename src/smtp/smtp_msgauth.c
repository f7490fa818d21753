/*
 * smtp_msgauth: see smtp_msgauth.h.
 */
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "dkim.h"
#include "log.h"
#include "smtp_msgauth.h"
#include "util.h"

enum smtp_msgauth_state {
	SMTP_MSGAUTH_HEADER,	/* in the header section */
	SMTP_MSGAUTH_SEP,	/* in the empty line that ends it */
	SMTP_MSGAUTH_BODY,
	SMTP_MSGAUTH_DONE,
};

/* What happens to the rest of the current field once it is decided. */
enum smtp_msgauth_field {
	SMTP_MSGAUTH_HOLD,	/* held in field, not decided yet */
	SMTP_MSGAUTH_STREAM,	/* too long to hold: written as it comes */
	SMTP_MSGAUTH_DROP,	/* ours, too long to hold: dropped */
};

struct smtp_msgauth {
	char			*hostname;
	bool			 verify;
	void			(*write)(void *, const char *, size_t);
	void			*arg;

	enum smtp_msgauth_state	 state;
	enum smtp_msgauth_field	 mode;
	bool			 line_start;	/* the next octet starts a line */
	struct buf		 field;		/* the field held back */
	struct buf		 hdrs;		/* the header section kept */
	bool			 truncated;
	size_t			 removed;

	struct dkim_bh		*h[MSGAUTH_BH_MAX];
	struct msgauth_bh	 bh[MSGAUTH_BH_MAX];
	size_t			 nbh;
	uint64_t		 bodylen;
};

struct smtp_msgauth *
smtp_msgauth_new(const char *hostname, bool verify,
    void (*write)(void *, const char *, size_t), void *arg)
{
	struct smtp_msgauth	*a = xcalloc(1, sizeof(*a));

	a->hostname = xstrdup(hostname);
	a->verify = verify;
	a->write = write;
	a->arg = arg;
	a->state = SMTP_MSGAUTH_HEADER;
	a->line_start = true;
	buf_init(&a->field, SMTP_MSGAUTH_HOLD_MAX);
	buf_init(&a->hdrs, MSGAUTH_HDRS_MAX);
	return a;
}

void
smtp_msgauth_free(struct smtp_msgauth *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nbh; i++)
		dkim_bh_free(a->h[i]);
	buf_free(&a->field);
	buf_free(&a->hdrs);
	free(a->hostname);
	free(a);
}

/* Keep a field in the header section, or stop keeping at the bound. */
static void
smtp_msgauth_keep(struct smtp_msgauth *a, const char *p, size_t len)
{
	if (a->truncated)
		return;
	if (buf_append(&a->hdrs, p, len) == -1)
		a->truncated = true;
}

/*
 * An X-Spam-* field (X-Spam-Score, X-Spam-Status, X-Spam-Flag, ...) from
 * a stranger: on port 25 only our verdict may speak, so it does not reach
 * the spool (lookup_spam.h).  The header section kept for lookup still
 * has it: a DKIM signature may cover it.
 */
static bool
smtp_msgauth_xspam(const struct smtp_msgauth *a, struct span f)
{
	return a->verify && span_startswith_case(f, "X-Spam-");
}

/* The held field ended: drop it if it is our A-R, else pass it on. */
static void
smtp_msgauth_field_end(struct smtp_msgauth *a)
{
	struct span	f = span_make(a->field.data, a->field.len);

	if (a->mode == SMTP_MSGAUTH_HOLD && f.len > 0) {
		if (authres_is_ours(f, a->hostname))
			a->removed++;
		else if (smtp_msgauth_xspam(a, f))
			smtp_msgauth_keep(a, f.ptr, f.len);
		else {
			a->write(a->arg, f.ptr, f.len);
			smtp_msgauth_keep(a, f.ptr, f.len);
		}
	}
	buf_reset(&a->field);
	a->mode = SMTP_MSGAUTH_HOLD;
}

/*
 * The held field outgrew SMTP_MSGAUTH_HOLD_MAX: decide on its start (an
 * A-R's authserv-id comes first) and let the rest follow that way.  It is
 * not kept: the section sent to lookup ends before it.
 */
static void
smtp_msgauth_field_spill(struct smtp_msgauth *a)
{
	struct span	f = span_make(a->field.data, a->field.len);

	if (authres_is_ours(f, a->hostname)) {
		a->removed++;
		a->mode = SMTP_MSGAUTH_DROP;
	} else if (smtp_msgauth_xspam(a, f))
		a->mode = SMTP_MSGAUTH_DROP;
	else {
		a->write(a->arg, f.ptr, f.len);
		a->mode = SMTP_MSGAUTH_STREAM;
	}
	a->truncated = true;
	buf_reset(&a->field);
}

/* The header section ended: start a hasher per way asked for. */
static void
smtp_msgauth_body_start(struct smtp_msgauth *a)
{
	struct dkim_bh_spec	specs[MSGAUTH_BH_MAX];
	size_t			i, n = 1;

	specs[0].canon = DKIM_CANON_RELAXED;
	specs[0].hash = DKIM_HASH_SHA256;
	specs[0].limit = DKIM_BH_NOLIMIT;
	if (a->verify)
		n = dkim_bh_specs(span_make(a->hdrs.data, a->hdrs.len), specs,
		    1, MSGAUTH_BH_MAX);
	for (i = 0; i < n; i++) {
		a->h[i] = dkim_bh_new(&specs[i]);
		a->bh[i].canon = specs[i].canon;
		a->bh[i].hash = specs[i].hash;
		a->bh[i].limit = specs[i].limit;
	}
	a->nbh = n;
}

static void
smtp_msgauth_body(struct smtp_msgauth *a, const char *p, size_t len)
{
	size_t	i;

	a->write(a->arg, p, len);
	for (i = 0; i < a->nbh; i++)
		dkim_bh_update(a->h[i], p, len);
	a->bodylen += len;
}

/* Octets of the current field's line, up to and with its LF. */
static size_t
smtp_msgauth_line(struct smtp_msgauth *a, const char *p, size_t len)
{
	const char	*lf = memchr(p, '\n', len);
	size_t		 n = lf != NULL ? (size_t)(lf - p) + 1 : len;

	a->line_start = lf != NULL;
	switch (a->mode) {
	case SMTP_MSGAUTH_HOLD:
		if (buf_append(&a->field, p, n) == 0)
			break;
		smtp_msgauth_field_spill(a);
		if (a->mode == SMTP_MSGAUTH_STREAM)
			a->write(a->arg, p, n);
		break;
	case SMTP_MSGAUTH_STREAM:
		a->write(a->arg, p, n);
		break;
	case SMTP_MSGAUTH_DROP:
		break;
	}
	return n;
}

void
smtp_msgauth_input(struct smtp_msgauth *a, const char *p, size_t len)
{
	const char	*lf;
	size_t		 i = 0, n;
	char		 c;

	while (i < len) {
		switch (a->state) {
		case SMTP_MSGAUTH_HEADER:
			if (a->line_start) {
				c = p[i];
				/* A line not starting with WSP ends a field. */
				if (c != ' ' && c != '\t')
					smtp_msgauth_field_end(a);
				/* RFC 5322 §2.1: the empty line ends it all */
				if (c == '\r' || c == '\n') {
					a->state = SMTP_MSGAUTH_SEP;
					continue;
				}
			}
			i += smtp_msgauth_line(a, p + i, len - i);
			break;
		case SMTP_MSGAUTH_SEP:
			lf = memchr(p + i, '\n', len - i);
			n = lf != NULL ? (size_t)(lf - (p + i)) + 1 : len - i;
			a->write(a->arg, p + i, n);
			i += n;
			if (lf != NULL) {
				smtp_msgauth_body_start(a);
				a->state = SMTP_MSGAUTH_BODY;
			}
			break;
		case SMTP_MSGAUTH_BODY:
			smtp_msgauth_body(a, p + i, len - i);
			i = len;
			break;
		case SMTP_MSGAUTH_DONE:
			fatalx("smtp_msgauth: input after the end");
		}
	}
}

void
smtp_msgauth_end(struct smtp_msgauth *a)
{
	uint64_t	hashed;
	size_t		i;

	if (a->state == SMTP_MSGAUTH_DONE)
		return;
	if (a->state == SMTP_MSGAUTH_HEADER)
		smtp_msgauth_field_end(a);
	/* No body (or no empty line): the hashes are of an empty one. */
	if (a->state != SMTP_MSGAUTH_BODY)
		smtp_msgauth_body_start(a);
	for (i = 0; i < a->nbh; i++) {
		a->bh[i].digestlen = dkim_bh_final(a->h[i], a->bh[i].digest,
		    &hashed);
		a->bh[i].hashed = hashed;
	}
	a->state = SMTP_MSGAUTH_DONE;
}

void
smtp_msgauth_info(const struct smtp_msgauth *a, struct smtp_msgauth_info *out)
{
	memset(out, 0, sizeof(*out));
	out->hdrs = span_make(a->hdrs.data != NULL ? a->hdrs.data : "",
	    a->hdrs.len);
	out->truncated = a->truncated;
	out->bodylen = a->bodylen;
	out->bh = a->bh;
	out->nbh = a->state == SMTP_MSGAUTH_DONE ? a->nbh : 0;
	out->removed = a->removed;
}
