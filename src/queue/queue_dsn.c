/*
 * queue_dsn: reports made by the queue and queued as messages (see
 * queue_dsn.h).  Run by the queue role.  The original's envelope is our
 * own; the strings in it (addresses, a server's reply) came from the
 * network, and bounce.c makes each printable and folds it.  The original
 * message is read through a fresh descriptor of its spool file.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "buf.h"
#include "log.h"
#include "msgread.h"
#include "queue_dsn.h"
#include "queue_fs.h"
#include "util.h"

#define QUEUE_DSN_TRIES		4	/* boundaries tried */
#define QUEUE_DSN_HOST_MAX	256

/* The original as it was delivered: its prepend on top (msgread.h). */
static ssize_t
queue_dsn_read(void *arg, char *buf, size_t len)
{
	return msgread_read(arg, buf, len);
}

static bool
queue_dsn_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
queue_dsn_status(const char *e, char out[16])
{
	size_t	i = 0, part, n, start;

	if (e == NULL)
		return false;
	/* a reply code first: "550 " or "550-" */
	if (queue_dsn_digit(e[0]) && queue_dsn_digit(e[1]) &&
	    queue_dsn_digit(e[2]) && (e[3] == ' ' || e[3] == '-'))
		i = 4;
	start = i;
	if (e[i] != '2' && e[i] != '4' && e[i] != '5')
		return false;
	i++;
	for (part = 0; part < 2; part++) {
		if (e[i++] != '.')
			return false;
		for (n = 0; queue_dsn_digit(e[i]) && n < 4; n++)
			i++;
		if (n == 0 || n > 3)
			return false;
	}
	if (e[i] != '\0' && e[i] != ' ' && e[i] != '\n')
		return false;
	memcpy(out, e + start, i - start);
	out[i - start] = '\0';
	return true;
}

void
queue_dsn_remote_host(const char *remote, char *out, size_t outsz)
{
	size_t	n;

	n = strcspn(remote, "[");
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, remote, n);
	out[n] = '\0';
}

static bool
queue_dsn_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static uint64_t
queue_dsn_wall_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The report's per-recipient fields, from the recipient's state. */
static void
queue_dsn_fill(const struct queue_fs_envelope *env,
    const struct queue_dsn_rcpt *in, size_t n, int64_t now,
    int64_t retry_until, struct bounce_rcpt *out, char (*status)[16],
    char (*host)[QUEUE_DSN_HOST_MAX])
{
	const struct queue_fs_rcpt	*rc;
	size_t				 i;

	for (i = 0; i < n; i++) {
		rc = &env->rcpts[in[i].idx];
		memset(&out[i], 0, sizeof(out[i]));
		out[i].addr = rc->addr;
		out[i].orcpt = rc->orcpt;
		out[i].action = in[i].action;
		if (in[i].status != NULL)
			(void)str_copy(status[i], sizeof(status[i]),
			    in[i].status);
		else if (!queue_dsn_status(rc->error, status[i]))
			status[i][0] = '\0';
		/*
		 * RFC 3463 §3.5: X.4.7, delivery time expired, when a
		 * recipient fails only because its time ran out.
		 */
		if (in[i].action == BOUNCE_ACTION_FAILED &&
		    status[i][0] == '4')
			(void)str_copy(status[i], sizeof(status[i]), "4.4.7");
		if ((in[i].action == BOUNCE_ACTION_DELIVERED ||
		    in[i].action == BOUNCE_ACTION_RELAYED) &&
		    status[i][0] != '2')
			(void)str_copy(status[i], sizeof(status[i]), "2.0.0");
		out[i].status = status[i][0] != '\0' ? status[i] : NULL;
		if (rc->remote != NULL && rc->remote[0] != '\0') {
			queue_dsn_remote_host(rc->remote, host[i],
			    sizeof(host[i]));
			out[i].remote_mta = host[i];
		}
		if (in[i].action == BOUNCE_ACTION_FAILED ||
		    in[i].action == BOUNCE_ACTION_DELAYED) {
			out[i].diagnostic = rc->error;
			out[i].diag_local = rc->remote == NULL ||
			    rc->remote[0] == '\0';
			out[i].last_attempt = rc->attempts > 0 ? now : 0;
		}
		if (in[i].action == BOUNCE_ACTION_DELAYED)
			out[i].retry_until = retry_until;
	}
}

/* Compose into out, trying new boundaries and then headers only. */
static int
queue_dsn_compose(struct queue_fs *fs, const char *hostname,
    const struct queue_fs_envelope *env, uint64_t msglen,
    enum bounce_kind kind, const struct bounce_rcpt *br, size_t n,
    int64_t now, struct buf *out)
{
	struct bounce_params	 p;
	struct msgread		 rd;
	const char		*err = "";
	uint64_t		 len;
	int			 fd, tries;

	if (queue_fs_open_message(fs, env->id, &fd, &len) == -1)
		return -1;
	memset(&p, 0, sizeof(p));
	p.hostname = hostname;
	p.sender = env->sender;
	p.queue_id = env->id;
	p.envid = env->envid;
	p.arrival = env->created;
	p.now = now;
	p.kind = kind;
	/*
	 * RFC 8689 §5: a message that asked for REQUIRETLS comes back as
	 * its header only (its body may not travel less protected).
	 */
	p.ret = kind == BOUNCE_FAILURE && env->ret == QUEUE_FS_RET_FULL &&
	    !env->requiretls ? BOUNCE_RET_FULL : BOUNCE_RET_HDRS;
	p.eightbit = env->body != QUEUE_FS_BODY_7BIT || env->smtputf8;
	p.message_size = msglen + (env->prepend != NULL ?
	    strlen(env->prepend) : 0);
	p.rcpts = br;
	p.nrcpts = n;
	p.read = queue_dsn_read;
	p.read_arg = &rd;
	for (tries = 0; tries < QUEUE_DSN_TRIES;) {
		msgread_init(&rd, env->prepend, fd, msglen);
		p.random = ((uint64_t)arc4random() << 32) | arc4random();
		errno = 0;
		if (bounce_compose(&p, out, &err) == 0) {
			close(fd);
			return 0;
		}
		if (errno != EMSGSIZE) {
			tries++;	/* a boundary in the original, or I/O */
			continue;
		}
		/*
		 * Too big: with the whole original, the headers will do;
		 * then list half the recipients, and again, saying how
		 * many were left out.  Each step shrinks it, so this ends.
		 */
		if (p.ret == BOUNCE_RET_FULL)
			p.ret = BOUNCE_RET_HDRS;
		else if (p.nrcpts > 1) {
			p.omitted += p.nrcpts - p.nrcpts / 2;
			p.nrcpts /= 2;
		} else
			break;
	}
	close(fd);
	log_warnx("id=%s event=dsn-failed reason=\"%s\"", env->id, err);
	errno = EINVAL;
	return -1;
}

int
queue_dsn_inject(struct queue_fs *fs, const char *hostname,
    const char *sender, const char *rcpt, const char *data, size_t len,
    int64_t now, struct queue_fs_envelope *out, uint64_t *outlen)
{
	char		 id[QID_SIZE], date[32];
	struct buf	 b;
	int		 fd = -1, saved;

	memset(out, 0, sizeof(*out));
	buf_init(&b, QUEUE_DSN_MAX);
	if (queue_fs_create(fs, queue_dsn_wall_ms(), id, &fd) == -1)
		goto fail;
	bounce_date(now, date);
	if (buf_printf(&b, "Received: by %s (cachet) id %s;\r\n\t%s\r\n",
	    hostname, id, date) == -1 || buf_append(&b, data, len) == -1 ||
	    write_full(fd, b.data, b.len) == -1) {
		saved = errno;
		(void)queue_fs_abort(fs, id);
		close(fd);
		errno = saved;
		goto fail;
	}
	(void)str_copy(out->id, sizeof(out->id), id);
	out->created = now;
	out->sender = xstrdup(sender);
	out->body = QUEUE_FS_BODY_7BIT;
	out->ret = QUEUE_FS_RET_UNSET;
	out->rcpts = xcalloc(1, sizeof(*out->rcpts));
	out->nrcpts = 1;
	out->rcpts[0].addr = xstrdup(rcpt);
	out->rcpts[0].state = QUEUE_FS_RCPT_PENDING;
	if (queue_fs_commit(fs, fd, b.len, out) == -1) {
		saved = errno;
		if (saved == ESTALE || saved == EINVAL)
			(void)queue_fs_abort(fs, id);
		queue_fs_envelope_free(out);
		close(fd);
		errno = saved;
		goto fail;
	}
	close(fd);
	*outlen = b.len;
	buf_free(&b);
	return 0;
fail:
	saved = errno;
	buf_free(&b);
	errno = saved;
	return -1;
}

int
queue_dsn_make(struct queue_fs *fs, const char *hostname,
    const struct queue_fs_envelope *env, uint64_t msglen,
    enum bounce_kind kind, const struct queue_dsn_rcpt *rcpts, size_t n,
    int64_t now, int64_t retry_until, struct queue_fs_envelope *out,
    uint64_t *outlen)
{
	struct bounce_rcpt	*br;
	char			(*status)[16];
	char			(*host)[QUEUE_DSN_HOST_MAX];
	char			 id[QID_SIZE], date[32], show[300];
	struct buf		 b;
	int			 fd = -1, saved;

	memset(out, 0, sizeof(*out));
	if (env->sender[0] == '\0' || n == 0) {
		errno = EINVAL;
		return -1;
	}
	br = xcalloc(n, sizeof(*br));
	status = xcalloc(n, sizeof(*status));
	host = xcalloc(n, sizeof(*host));
	queue_dsn_fill(env, rcpts, n, now, retry_until, br, status, host);
	buf_init(&b, QUEUE_DSN_MAX);
	if (queue_fs_create(fs, queue_dsn_wall_ms(), id, &fd) == -1)
		goto fail;
	/* Our trace line, as for any message we queue (RFC 5321 §4.4). */
	bounce_date(now, date);
	if (buf_printf(&b, "Received: by %s (cachet) id %s;\r\n\t%s\r\n",
	    hostname, id, date) == -1 ||
	    queue_dsn_compose(fs, hostname, env, msglen, kind, br, n, now,
	    &b) == -1)
		goto fail_file;
	if (write_full(fd, b.data, b.len) == -1)
		goto fail_file;
	(void)str_copy(out->id, sizeof(out->id), id);
	out->created = now;
	out->sender = xstrdup("");
	out->size = 0;
	out->body = env->body != QUEUE_FS_BODY_7BIT || env->smtputf8 ?
	    QUEUE_FS_BODY_8BITMIME : QUEUE_FS_BODY_7BIT;
	out->smtputf8 = !queue_dsn_ascii(env->sender);
	/* RFC 8689 §5: and the report itself goes with REQUIRETLS */
	out->requiretls = env->requiretls;
	out->ret = QUEUE_FS_RET_UNSET;
	out->rcpts = xcalloc(1, sizeof(*out->rcpts));
	out->nrcpts = 1;
	out->rcpts[0].addr = xstrdup(env->sender);
	out->rcpts[0].state = QUEUE_FS_RCPT_PENDING;
	if (queue_fs_commit(fs, fd, b.len, out) == -1) {
		saved = errno;
		if (saved == ESTALE || saved == EINVAL)
			(void)queue_fs_abort(fs, id);
		errno = saved;
		goto fail_env;
	}
	close(fd);
	*outlen = b.len;
	log_info("id=%s event=dsn kind=%s about=%s to=<%s> rcpts=%zu", id,
	    kind == BOUNCE_FAILURE ? "failure" : kind == BOUNCE_DELAY ?
	    "delay" : "success", env->id, printable(env->sender,
	    strnlen(env->sender, QUEUE_FS_STR_MAX), show, sizeof(show)), n);
	buf_free(&b);
	free(br);
	free(status);
	free(host);
	return 0;
fail_env:
	queue_fs_envelope_free(out);
	close(fd);
	goto fail;
fail_file:
	saved = errno;
	(void)queue_fs_abort(fs, id);
	close(fd);
	errno = saved;
fail:
	saved = errno;
	buf_free(&b);
	free(br);
	free(status);
	free(host);
	errno = saved;
	return -1;
}
