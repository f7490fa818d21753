/*
 * bounce: RFC 3464 delivery status notifications.  Run by the queue
 * role; pure.  It trusts the shape of its params (our queue built them)
 * but not the strings in them, which came from SMTP peers: every one is
 * made printable and folded before it is written, and the original
 * message is copied line by line with each line bounded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounce.h"
#include "buf.h"
#include "log.h"
#include "util.h"

#define BOUNCE_CHUNK		8192	/* octets per read of the original */
#define BOUNCE_DIAG_MAX		8192	/* of a diagnostic we write */
#define BOUNCE_BOUNDARY_MAX	96

/* Dates (RFC 5322 §3.3), in English whatever the locale */

void
bounce_date(int64_t t, char out[32])
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0)
		memset(&tm, 0, sizeof(tm));
	(void)snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Strings from the envelope */

static bool
b_ascii(const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && s[i] != '\0' && i < BOUNCE_DIAG_MAX; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/*
 * s (at most max octets of it) into o: whitespace and line ends become
 * one space, other controls '?', 8-bit octets '?' unless allow8, runs of
 * spaces one space, no space at either end.  A longer s is cut with
 * "..." to say so.
 */
static void
b_clean(const char *s, size_t max, bool allow8, struct buf *o)
{
	size_t		i, len;
	unsigned char	ch;
	bool		space = false;

	buf_reset(o);
	if (s == NULL)
		return;
	len = strnlen(s, max + 1);
	for (i = 0; i < len && i < max; i++) {
		ch = (unsigned char)s[i];
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			space = o->len > 0;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !allow8))
			ch = '?';
		if (space && buf_append_char(o, ' ') == -1)
			fatalx("bounce: field buffer");
		space = false;
		if (buf_append_char(o, (char)ch) == -1)
			fatalx("bounce: field buffer");
	}
	if (len > max && buf_append_str(o, "...") == -1)
		fatalx("bounce: field buffer");
}

/*
 * Write head then text, folding at BOUNCE_FOLD between words: each
 * continuation line starts with cont (" " folds a header field, RFC 5322
 * §2.2.3; other text wraps body lines).  A word too long for a line is
 * broken, so no line passes BOUNCE_LINE_MAX.  Ends with CRLF.  text is
 * what b_clean() made: single spaces, no controls.
 */
static int
b_wrap(struct buf *o, const char *head, const char *text, size_t len,
    const char *cont)
{
	size_t	col, i = 0, w, room, take, clen = strlen(cont);
	bool	first = true;

	if (buf_append_str(o, head) == -1)
		return -1;
	col = strlen(head);
	for (;;) {
		while (i < len && text[i] == ' ')
			i++;
		for (w = 0; i + w < len && text[i + w] != ' '; w++)
			;
		if (w == 0)
			break;
		if (!first) {
			if (col + 1 + w > BOUNCE_FOLD && col > clen) {
				if (buf_append(o, "\r\n", 2) == -1 ||
				    buf_append_str(o, cont) == -1)
					return -1;
				col = clen;
			} else {
				if (buf_append_char(o, ' ') == -1)
					return -1;
				col++;
			}
		}
		first = false;
		while (w > 0) {
			if (col >= BOUNCE_LINE_MAX) {
				if (buf_append(o, "\r\n", 2) == -1 ||
				    buf_append_str(o, cont) == -1)
					return -1;
				col = clen;
			}
			room = BOUNCE_LINE_MAX - col;
			take = w < room ? w : room;
			if (buf_append(o, text + i, take) == -1)
				return -1;
			col += take;
			i += take;
			w -= take;
		}
	}
	return buf_append(o, "\r\n", 2);
}

/* A status code as RFC 3463 §2 writes it, else the default. */
static const char *
b_status(const char *s, enum bounce_action a)
{
	size_t	i = 0, part, n;

	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5'))
		goto def;
	i = 1;
	for (part = 0; part < 2; part++) {
		if (s[i] != '.')
			goto def;
		i++;
		for (n = 0; s[i] >= '0' && s[i] <= '9' && n < 4; n++)
			i++;
		if (n == 0 || n > 3)
			goto def;
	}
	if (s[i] == '\0')
		return s;
def:
	switch (a) {
	case BOUNCE_ACTION_FAILED:
		return "5.0.0";
	case BOUNCE_ACTION_DELAYED:
		return "4.0.0";
	case BOUNCE_ACTION_DELIVERED:
	case BOUNCE_ACTION_RELAYED:
	case BOUNCE_ACTION_EXPANDED:
		break;
	}
	return "2.0.0";
}

static const char *
b_action(enum bounce_action a)
{
	switch (a) {
	case BOUNCE_ACTION_FAILED:
		return "failed";
	case BOUNCE_ACTION_DELAYED:
		return "delayed";
	case BOUNCE_ACTION_DELIVERED:
		return "delivered";
	case BOUNCE_ACTION_RELAYED:
		return "relayed";
	case BOUNCE_ACTION_EXPANDED:
		return "expanded";
	}
	return "failed";
}

/* The parts */

/* What to say about one recipient, in the human part. */
static int
b_human_rcpt(const struct bounce_rcpt *r, struct buf *o)
{
	struct buf	addr, diag, mta, line;
	char		date[32];
	int		rc = -1;

	buf_init(&addr, BOUNCE_FIELD_MAX + 8);
	buf_init(&diag, BOUNCE_DIAG_MAX + 8);
	buf_init(&mta, BOUNCE_FIELD_MAX + 8);
	buf_init(&line, 3 * BOUNCE_DIAG_MAX);
	b_clean(r->addr, BOUNCE_FIELD_MAX, false, &addr);
	b_clean(r->diagnostic, BOUNCE_DIAG_MAX, false, &diag);
	b_clean(r->remote_mta, BOUNCE_FIELD_MAX, false, &mta);
	if (buf_printf(&line, "<%s>: ", addr.data) == -1)
		goto done;
	if (mta.len > 0 && diag.len > 0 && !r->diag_local) {
		if (buf_printf(&line, "host %s said: %s", mta.data,
		    diag.data) == -1)
			goto done;
	} else if (diag.len > 0) {
		if (buf_append(&line, diag.data, diag.len) == -1)
			goto done;
	} else if (buf_printf(&line, "%s (status %s)", b_action(r->action),
	    b_status(r->status, r->action)) == -1)
		goto done;
	if (r->action == BOUNCE_ACTION_DELAYED && r->retry_until > 0) {
		bounce_date(r->retry_until, date);
		if (buf_printf(&line, " (will retry until %s)", date) == -1)
			goto done;
	}
	if (b_wrap(o, "", line.data, line.len, "    ") == -1 ||
	    buf_append(o, "\r\n", 2) == -1)
		goto done;
	rc = 0;
done:
	buf_free(&addr);
	buf_free(&diag);
	buf_free(&mta);
	buf_free(&line);
	return rc;
}

/* The human-readable part (RFC 6522 §3), us-ascii. */
static int
b_human(const struct bounce_params *p, struct buf *o, bool full,
    bool too_big)
{
	struct buf	 host;
	const char	*intro, *end = NULL;
	size_t		 i;
	int		 rc = -1;

	switch (p->kind) {
	case BOUNCE_FAILURE:
		intro = "Your message could not be delivered to one or more "
		    "recipients. The reason is given below for each of them. "
		    "This is a permanent error: the mail system has given up "
		    "on these recipients.";
		end = too_big ? "The message was too large to return whole; "
		    "its headers are attached." : full ? "Your message is "
		    "attached." : "The headers of your message are attached.";
		break;
	case BOUNCE_DELAY:
		intro = "Your message has not yet been delivered to the "
		    "recipients below. The mail system will keep trying; "
		    "you do not need to send the message again. This is a "
		    "warning only.";
		break;
	default:
		intro = "Your message was delivered to the recipients below.";
		break;
	}
	buf_init(&host, BOUNCE_FIELD_MAX + 8);
	b_clean(p->hostname, BOUNCE_FIELD_MAX, false, &host);
	if (buf_printf(o, "This is the mail system at host %s.\r\n\r\n",
	    host.data) == -1 ||
	    b_wrap(o, "", intro, strlen(intro), "") == -1 ||
	    buf_append(o, "\r\n", 2) == -1)
		goto done;
	for (i = 0; i < p->nrcpts; i++)
		if (b_human_rcpt(&p->rcpts[i], o) == -1)
			goto done;
	if (p->omitted > 0 && (buf_printf(o, "%zu more recipient%s of this "
	    "message %s too; %s not listed, to keep this report small.\r\n",
	    p->omitted, p->omitted == 1 ? "" : "s",
	    p->kind == BOUNCE_FAILURE ? "failed" : p->kind == BOUNCE_DELAY ?
	    (p->omitted == 1 ? "is delayed" : "are delayed") :
	    (p->omitted == 1 ? "was delivered" : "were delivered"),
	    p->omitted == 1 ? "it is" : "they are") == -1 ||
	    buf_append(o, "\r\n", 2) == -1))
		goto done;
	if (end != NULL && b_wrap(o, "", end, strlen(end), "") == -1)
		goto done;
	rc = 0;
done:
	buf_free(&host);
	return rc;
}

/* "type; address" from an ORCPT kept as "type;address" (§2.3.1). */
static int
b_orcpt(struct buf *o, const char *orcpt, bool global)
{
	struct buf	 v, a;
	const char	*semi;
	size_t		 tl;
	int		 rc = -1;

	semi = strchr(orcpt, ';');
	if (semi == NULL || semi == orcpt || semi - orcpt > 32)
		return 0;	/* not an ORCPT we could have accepted */
	tl = (size_t)(semi - orcpt);
	buf_init(&v, BOUNCE_FIELD_MAX + 48);
	buf_init(&a, BOUNCE_FIELD_MAX + 8);
	b_clean(semi + 1, BOUNCE_FIELD_MAX, global, &a);
	if (buf_append(&v, orcpt, tl) == -1 ||
	    buf_append_str(&v, "; ") == -1 ||
	    buf_append(&v, a.data, a.len) == -1)
		goto done;
	b_clean(v.data, BOUNCE_FIELD_MAX + 40, global, &a);
	rc = b_wrap(o, "Original-Recipient: ", a.data, a.len, " ");
done:
	buf_free(&v);
	buf_free(&a);
	return rc;
}

/* The message/delivery-status part's content (RFC 3464 §2). */
static int
b_status_part(const struct bounce_params *p, struct buf *o, bool global)
{
	struct buf	 f;
	char		 date[32];
	size_t		 i;
	int		 rc = -1;

	buf_init(&f, BOUNCE_DIAG_MAX + 32);
	/* §2.2: per-message fields, Original-Envelope-Id first */
	if (p->envid != NULL && p->envid[0] != '\0') {
		b_clean(p->envid, BOUNCE_FIELD_MAX, false, &f);
		if (b_wrap(o, "Original-Envelope-Id: ", f.data, f.len, " ") ==
		    -1)
			goto done;
	}
	b_clean(p->hostname, BOUNCE_FIELD_MAX, false, &f);
	if (b_wrap(o, "Reporting-MTA: dns; ", f.data, f.len, " ") == -1)
		goto done;
	if (p->arrival > 0) {
		bounce_date(p->arrival, date);
		if (buf_printf(o, "Arrival-Date: %s\r\n", date) == -1)
			goto done;
	}
	if (p->queue_id != NULL) {
		b_clean(p->queue_id, BOUNCE_FIELD_MAX, false, &f);
		if (b_wrap(o, "X-Cachet-Queue-ID: ", f.data, f.len, " ") == -1)
			goto done;
	}
	for (i = 0; i < p->nrcpts; i++) {
		const struct bounce_rcpt *r = &p->rcpts[i];
		bool	utf8 = !b_ascii(r->addr);

		/* §2.3: one blank line before each recipient's fields */
		if (buf_append(o, "\r\n", 2) == -1)
			goto done;
		if (r->orcpt != NULL && b_orcpt(o, r->orcpt, global) == -1)
			goto done;
		b_clean(r->addr, BOUNCE_FIELD_MAX, global, &f);
		/* RFC 6533 §3.1: a UTF-8 address is of type utf-8 */
		if (b_wrap(o, utf8 ? "Final-Recipient: utf-8; " :
		    "Final-Recipient: rfc822; ", f.data, f.len, " ") == -1)
			goto done;
		if (buf_printf(o, "Action: %s\r\nStatus: %s\r\n",
		    b_action(r->action), b_status(r->status, r->action)) ==
		    -1)
			goto done;
		if (r->remote_mta != NULL && r->remote_mta[0] != '\0') {
			b_clean(r->remote_mta, BOUNCE_FIELD_MAX, false, &f);
			if (b_wrap(o, "Remote-MTA: dns; ", f.data, f.len,
			    " ") == -1)
				goto done;
		}
		if (r->diagnostic != NULL && r->diagnostic[0] != '\0') {
			/* §2.3.6: the reply as the server gave it */
			b_clean(r->diagnostic, BOUNCE_DIAG_MAX, false, &f);
			if (b_wrap(o, r->diag_local ?
			    "Diagnostic-Code: X-Cachet; " :
			    "Diagnostic-Code: smtp; ", f.data, f.len, " ") ==
			    -1)
				goto done;
		}
		if (r->last_attempt > 0) {
			bounce_date(r->last_attempt, date);
			if (buf_printf(o, "Last-Attempt-Date: %s\r\n", date) ==
			    -1)
				goto done;
		}
		if (r->action == BOUNCE_ACTION_DELAYED && r->retry_until > 0) {
			bounce_date(r->retry_until, date);
			if (buf_printf(o, "Will-Retry-Until: %s\r\n", date) ==
			    -1)
				goto done;
		}
	}
	rc = 0;
done:
	buf_free(&f);
	return rc;
}

/* Copying the original */

struct b_copy {
	struct buf	*o;
	const char	*boundary;	/* "--" and the boundary */
	size_t		 blen;
	char		 line[BOUNCE_LINE_MAX];
	size_t		 len;
	bool		 cr;		/* a CR came last */
	bool		 headers_only;
	bool		 finished;	/* end of the header section */
	bool		 eight;		/* an octet >= 0x80 was copied */
	bool		 collision;
};

/* The line so far, then CRLF; eol: it really ended there. */
static int
b_copy_line(struct b_copy *c, bool eol)
{
	if (c->headers_only && eol && c->len == 0) {
		/* RFC 5322 §2.1: the empty line ends the header section */
		c->finished = true;
		return 0;
	}
	/* RFC 2046 §5.1.1: no line may start with our delimiter */
	if (c->len >= c->blen && memcmp(c->line, c->boundary, c->blen) == 0)
		c->collision = true;
	if (buf_append(c->o, c->line, c->len) == -1 ||
	    buf_append(c->o, "\r\n", 2) == -1)
		return -1;
	c->len = 0;
	return 0;
}

/*
 * Copy n octets of the original: CRLF, a bare LF and a bare CR each end
 * a line (written CRLF, RFC 5322 §2.3), and a line longer than RFC 5322
 * §2.1.1 allows is broken.
 */
static int
b_copy_bytes(struct b_copy *c, const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n && !c->finished; i++) {
		if (c->cr) {
			c->cr = false;
			if (b_copy_line(c, true) == -1)
				return -1;
			if (p[i] == '\n' || c->finished)
				continue;
		}
		if (p[i] == '\r') {
			c->cr = true;
			continue;
		}
		if (p[i] == '\n') {
			if (b_copy_line(c, true) == -1)
				return -1;
			continue;
		}
		if ((unsigned char)p[i] >= 0x80)
			c->eight = true;
		if (c->len == BOUNCE_LINE_MAX && b_copy_line(c, false) == -1)
			return -1;
		c->line[c->len++] = p[i];
	}
	return 0;
}

static int
b_original(const struct bounce_params *p, struct b_copy *c,
    const char **errstr)
{
	char	*chunk;
	ssize_t	 n;
	int	 rc = -1;

	chunk = xmalloc(BOUNCE_CHUNK);
	for (;;) {
		n = p->read(p->read_arg, chunk, BOUNCE_CHUNK);
		if (n < 0) {
			*errstr = "cannot read the original message";
			goto done;
		}
		if ((size_t)n > BOUNCE_CHUNK)
			fatalx("bounce: read returned too much");
		if (n == 0)
			break;
		if (b_copy_bytes(c, chunk, (size_t)n) == -1) {
			*errstr = "report too large";
			goto done;
		}
		if (c->finished)
			break;
	}
	if ((c->len > 0 || c->cr) && !c->finished &&
	    b_copy_line(c, true) == -1) {
		*errstr = "report too large";
		goto done;
	}
	if (c->collision) {
		*errstr = "the original holds our MIME boundary";
		goto done;
	}
	rc = 0;
done:
	free(chunk);
	return rc;
}

int
bounce_compose(const struct bounce_params *p, struct buf *out,
    const char **errstr)
{
	struct buf	 body, hdr, f, orig;
	struct b_copy	 copy;
	char		 boundary[BOUNCE_BOUNDARY_MAX];
	char		 delim[BOUNCE_BOUNDARY_MAX + 2];
	char		 date[32], qid[40];
	const char	*subject;
	uint64_t	 full_max;
	size_t		 i;
	bool		 full, too_big = false, global, eight;
	int		 rc = -1;

	if (p->sender == NULL || p->sender[0] == '\0') {
		*errstr = "no sender to report to";
		return -1;
	}
	if (p->nrcpts == 0) {
		*errstr = "no recipient to report on";
		return -1;
	}
	buf_init(&body, out->max);
	buf_init(&orig, out->max);
	buf_init(&hdr, 64 * 1024);
	buf_init(&f, BOUNCE_FIELD_MAX + 8);
	*errstr = "report too large";

	/* RFC 6533: UTF-8 addresses make it a global delivery status */
	global = !b_ascii(p->sender);
	for (i = 0; i < p->nrcpts; i++)
		if (!b_ascii(p->rcpts[i].addr) ||
		    !b_ascii(p->rcpts[i].orcpt))
			global = true;
	b_clean(p->queue_id != NULL ? p->queue_id : "x", 32, false, &f);
	for (i = 0; i < f.len && i < sizeof(qid) - 1; i++)
		qid[i] = (f.data[i] >= '0' && f.data[i] <= '9') ||
		    (f.data[i] >= 'a' && f.data[i] <= 'z') ||
		    (f.data[i] >= 'A' && f.data[i] <= 'Z') ? f.data[i] : 'x';
	qid[i] = '\0';
	(void)snprintf(boundary, sizeof(boundary), "=_cachet_%s_%016" PRIx64,
	    qid, p->random);
	(void)snprintf(delim, sizeof(delim), "--%s", boundary);

	full_max = p->full_max ? p->full_max : BOUNCE_FULL_MAX_DEFAULT;
	full = p->kind == BOUNCE_FAILURE && p->ret == BOUNCE_RET_FULL;
	if (full && p->message_size > full_max) {
		full = false;
		too_big = true;
	}

	/* RFC 6522 §3: the human part, the report, the original */
	if (buf_printf(&body, "This is a MIME-encapsulated message.\r\n\r\n"
	    "%s\r\nContent-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n",
	    delim) == -1 ||
	    b_human(p, &body, full, too_big) == -1)
		goto done;
	if (buf_printf(&body, "\r\n%s\r\nContent-Description: Delivery "
	    "report\r\nContent-Type: message/%sdelivery-status\r\n\r\n", delim,
	    global ? "global-" : "") == -1 ||
	    b_status_part(p, &body, global) == -1)
		goto done;
	memset(&copy, 0, sizeof(copy));
	copy.o = &orig;
	copy.boundary = delim;
	copy.blen = strlen(delim);
	copy.headers_only = !full;
	if (b_original(p, &copy, errstr) == -1)
		goto done;
	*errstr = "report too large";
	/* an 8-bit original is declared so, whatever its envelope said */
	eight = p->eightbit || global || copy.eight;
	if (buf_printf(&body, "\r\n%s\r\nContent-Description: %s\r\n"
	    "Content-Type: %s\r\n%s\r\n", delim, full ?
	    "Undelivered Message" : "Message Headers", full ?
	    "message/rfc822" : "text/rfc822-headers", eight ?
	    "Content-Transfer-Encoding: 8bit\r\n" : "") == -1 ||
	    buf_append(&body, orig.data, orig.len) == -1 ||
	    buf_printf(&body, "\r\n%s--\r\n", delim) == -1)
		goto done;

	switch (p->kind) {
	case BOUNCE_FAILURE:
		subject = "Undelivered Mail Returned to Sender";
		break;
	case BOUNCE_DELAY:
		subject = "Delayed Mail (still being retried)";
		break;
	default:
		subject = "Successful Mail Delivery Report";
		break;
	}
	bounce_date(p->now, date);
	b_clean(p->hostname, BOUNCE_FIELD_MAX, false, &f);
	if (buf_printf(&hdr, "From: Mail Delivery System "
	    "<MAILER-DAEMON@%s>\r\n", f.data) == -1)
		goto done;
	b_clean(p->sender, BOUNCE_FIELD_MAX, true, &f);
	buf_reset(&orig);
	if (buf_printf(&orig, "<%s>", f.data) == -1 ||
	    b_wrap(&hdr, "To: ", orig.data, orig.len, " ") == -1)
		goto done;
	b_clean(p->hostname, BOUNCE_FIELD_MAX, false, &f);
	/*
	 * RFC 3834 §5: Auto-Submitted: auto-replied, so that no responder
	 * answers a bounce; RFC 6522 §3 and RFC 3464 §2: the report type.
	 */
	if (buf_printf(&hdr, "Subject: %s\r\nDate: %s\r\n"
	    "Message-ID: <%s.%016" PRIx64 ".dsn@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;"
	    "\r\n\tboundary=\"%s\"\r\nContent-Transfer-Encoding: %s\r\n\r\n",
	    subject, date, qid, p->random, f.data, boundary,
	    eight ? "8bit" : "7bit") == -1)
		goto done;
	if (buf_append(out, hdr.data, hdr.len) == -1) {
		errno = EMSGSIZE;
		goto done;
	}
	if (buf_append(out, body.data, body.len) == -1) {
		out->len -= hdr.len;
		out->data[out->len] = '\0';
		errno = EMSGSIZE;
		goto done;
	}
	*errstr = NULL;
	rc = 0;
done:
	if (rc == -1 && *errstr != NULL && strcmp(*errstr,
	    "report too large") == 0)
		errno = EMSGSIZE;
	buf_free(&body);
	buf_free(&orig);
	buf_free(&hdr);
	buf_free(&f);
	return rc;
}
