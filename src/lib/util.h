/*
 * util: allocation wrappers that treat failure as fatal (for our own
 * bookkeeping only; sizes from a peer are bounded before they get here),
 * and small I/O helpers shared by every role.
 */
#ifndef CACHET_UTIL_H
#define CACHET_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* asprintf that cannot fail. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Write all of len bytes, retrying on EINTR and short writes. */
int	write_full(int fd, const void *p, size_t len);
/* Read until len bytes or EOF; returns bytes read or -1. */
ssize_t	read_full(int fd, void *p, size_t len);

/* fcntl helpers: 0 or -1 with errno. */
int	fd_set_nonblock(int fd);
int	fd_set_cloexec(int fd);

/* Monotonic clock in milliseconds. */
uint64_t	now_ms(void);

/* mkdir -p with mode for each component created; 0 or -1. */
int	mkdir_p(const char *path, mode_t mode);

/* dir + "/" + name into out; -1 (ENAMETOOLONG) if it does not fit. */
int	path_join(char *out, size_t outsz, const char *dir, const char *name);

/* The value of a hexadecimal digit (either case), or -1. */
int	hex_digit(char c);

/* Copy s into dst of size dstsz; -1 (ENAMETOOLONG) if it does not fit. */
int	str_copy(char *dst, size_t dstsz, const char *s);

/*
 * Make a peer string printable for a log line: bytes outside 0x20-0x7e
 * become '?', and the result is cut at max with "..." appended.  Returns
 * a pointer to a static buffer (one per call site is enough for logging).
 */
const char	*printable(const char *s, size_t len, char *out, size_t outsz);

#endif
