/*
 * msgread: read a spooled message as its readers see it, the header
 * fields sender authentication put on top (msgauth.h, kept in the
 * envelope) first, then the message file's bytes.  For the mta, bounces
 * and `cachetctl queue cat`.
 */
#ifndef CACHET_MSGREAD_H
#define CACHET_MSGREAD_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

struct msgread {
	const char	*pre;		/* prepended bytes, or NULL */
	size_t		 prelen;
	int		 fd;		/* the message, from offset 0 */
	uint64_t	 len;		/* its bytes */
	uint64_t	 off;		/* read so far, prepend included */
};

/* Start r over pre (may be NULL) and len bytes of fd. */
void	msgread_init(struct msgread *r, const char *pre, int fd,
	    uint64_t len);
/* The whole size: prepend and file. */
uint64_t msgread_size(const struct msgread *r);
/*
 * Up to n bytes into buf: the count, 0 at the end, -1 on a read error
 * (errno set; EIO when the file is shorter than len).
 */
ssize_t	msgread_read(struct msgread *r, char *buf, size_t n);

#endif
