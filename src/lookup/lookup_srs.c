/*
 * lookup_srs: SRS secrets and the two rewrites, in the lookup role
 * (lookup_srs.h).  The secret file is ours (lookup's directory, 0600);
 * it is still read with bounds, since an operator edits it by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "conf.h"
#include "log.h"
#include "lookup_srs.h"
#include "util.h"

#define LOOKUP_SRS_NEW_BYTES	32	/* random bytes of a made secret */
#define LOOKUP_SRS_FILE_MAX	(SRS_SECRETS_MAX * (SRS_SECRET_MAX + 2) + \
				    4096)	/* comments and blank lines */

struct lookup_srs {
	bool		 on;
	char		 domain[CONF_NAME_MAX + 1];	/* "" = the alias's */
	unsigned	 max_age;			/* days */
	struct srs_keys	 keys;
};

/* Make the file: 32 random bytes in hex, mode 0600, synced. */
static int
lookup_srs_make(void)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 raw[LOOKUP_SRS_NEW_BYTES];
	char			 line[2 * LOOKUP_SRS_NEW_BYTES + 1];
	size_t			 i;
	int			 fd;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		errno = EIO;
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++) {
		line[2 * i] = hex[raw[i] >> 4];
		line[2 * i + 1] = hex[raw[i] & 15];
	}
	line[sizeof(line) - 1] = '\n';
	explicit_bzero(raw, sizeof(raw));
	fd = open(LOOKUP_SRS_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		explicit_bzero(line, sizeof(line));
		return -1;
	}
	if (write_full(fd, line, sizeof(line)) == -1 || fsync(fd) == -1) {
		explicit_bzero(line, sizeof(line));
		(void)close(fd);
		(void)unlink(LOOKUP_SRS_FILE);
		return -1;
	}
	explicit_bzero(line, sizeof(line));
	(void)close(fd);
	log_info("event=srs-secret-made file=%s", LOOKUP_SRS_FILE);
	return 0;
}

/* Split the file's text into secrets; -1 with *err on a bad file. */
static int
lookup_srs_parse(const char *p, size_t len, struct srs_keys *keys,
    const char **err)
{
	const char	*lf;
	size_t		 n;

	keys->n = 0;
	while (len > 0) {
		lf = memchr(p, '\n', len);
		n = lf != NULL ? (size_t)(lf - p) : len;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && p[0] != '#') {
			if (n > SRS_SECRET_MAX) {
				*err = "a secret longer than 256 bytes";
				return -1;
			}
			if (keys->n == SRS_SECRETS_MAX) {
				*err = "more than 8 secrets";
				return -1;
			}
			memcpy(keys->secret[keys->n].key, p, n);
			keys->secret[keys->n].len = n;
			keys->n++;
		}
		if (lf == NULL)
			break;
		len -= (size_t)(lf - p) + 1;
		p = lf + 1;
	}
	if (keys->n == 0) {
		*err = "no secret";
		return -1;
	}
	return 0;
}

static int
lookup_srs_load(struct srs_keys *keys, const char **err)
{
	struct stat	 st;
	char		*text;
	ssize_t		 got;
	size_t		 len = 0;
	int		 fd, rc;

	fd = open(LOOKUP_SRS_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		if (lookup_srs_make() == -1) {
			*err = strerror(errno);
			return -1;
		}
		fd = open(LOOKUP_SRS_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd == -1 || fstat(fd, &st) == -1) {
		*err = strerror(errno);
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		*err = "not a regular file of mode 0600";
		(void)close(fd);
		return -1;
	}
	if (st.st_size < 0 || st.st_size > LOOKUP_SRS_FILE_MAX) {
		*err = "file too large";
		(void)close(fd);
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		got = read(fd, text + len, (size_t)st.st_size - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	(void)close(fd);
	rc = lookup_srs_parse(text, len, keys, err);
	explicit_bzero(text, (size_t)st.st_size + 1);
	free(text);
	return rc;
}

struct lookup_srs *
lookup_srs_new(const struct conf *conf)
{
	struct lookup_srs	*s;
	const char		*err = NULL;

	s = xcalloc(1, sizeof(*s));
	s->max_age = conf->srs_max_age;
	(void)str_copy(s->domain, sizeof(s->domain), conf->srs_domain);
	if (!conf->srs)
		return s;
	if (lookup_srs_load(&s->keys, &err) == -1) {
		log_warnx("lookup: srs: %s: %s; forwarded mail keeps its "
		    "sender", LOOKUP_SRS_FILE, err);
		explicit_bzero(&s->keys, sizeof(s->keys));
		return s;
	}
	s->on = true;
	log_debug("lookup: srs secrets=%zu max-age=%u", s->keys.n,
	    s->max_age);
	return s;
}

void
lookup_srs_free(struct lookup_srs *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, sizeof(*s));
	free(s);
}

bool
lookup_srs_enabled(const struct lookup_srs *s)
{
	return s->on;
}

int
lookup_srs_forward(struct lookup_srs *s, const char *sender,
    const char *rcpt, int64_t now, char *out, size_t outsz)
{
	enum srs_error	 e;
	const char	*domain, *at;

	out[0] = '\0';
	if (!s->on || sender[0] == '\0')
		return -1;
	if (s->domain[0] != '\0')
		domain = s->domain;
	else if ((at = strrchr(rcpt, '@')) != NULL && at[1] != '\0')
		domain = at + 1;
	else
		return -1;
	if (srs_forward(&s->keys, sender, strlen(sender), domain,
	    srs_day(now), out, outsz, &e) == -1) {
		log_info("event=srs-not-rewritten rcpt=%s reason=\"%s\"",
		    rcpt, srs_strerror(e));
		return -1;
	}
	return 0;
}

int
lookup_srs_reverse(struct lookup_srs *s, const char *rcpt, size_t len,
    int64_t now, char *out, size_t outsz, enum srs_error *err_out)
{
	if (!s->on) {
		out[0] = '\0';
		*err_out = SRS_ENOTSRS;
		return -1;
	}
	return srs_reverse(&s->keys, rcpt, len, srs_day(now), s->max_age,
	    out, outsz, err_out);
}
