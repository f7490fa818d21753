/*
 * libFuzzer target for queue_dsn_status() and queue_dsn_remote_host(),
 * which read a recipient's last error and remote as the queue stored them:
 * text that came from remote SMTP servers.  The input is copied to a heap
 * block with a NUL after it so a read past the end trips ASan.
 * Invariants (abort() when broken): a status found is "D.D{1,3}.D{1,3}"
 * with D a class digit 2, 4 or 5, and it occurs in the input; the host is
 * a prefix of the input without '['.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue_dsn.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool
status_ok(const char *s)
{
	size_t	i = 1, part, n;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return false;
	for (part = 0; part < 2; part++) {
		if (s[i++] != '.')
			return false;
		for (n = 0; s[i] >= '0' && s[i] <= '9'; n++)
			i++;
		if (n == 0 || n > 3)
			return false;
	}
	return s[i] == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, out[16], host[64];

	if (size > 4096)
		return 0;
	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (queue_dsn_status(s, out) &&
	    (!status_ok(out) || strstr(s, out) == NULL))
		abort();
	queue_dsn_remote_host(s, host, sizeof(host));
	if (strchr(host, '[') != NULL || strncmp(s, host, strlen(host)) != 0)
		abort();
	free(s);
	return 0;
}
