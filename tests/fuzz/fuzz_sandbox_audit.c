/*
 * libFuzzer target for sandbox_audit_parse(), the parent's reader of the
 * kernel's audit records in /dev/kmsg (text other programs can put
 * words into).  The first two octets are the pid looked for, the rest
 * one record, from a heap copy of exactly its length so that a read
 * past it trips ASan.  What it returns must be in the record.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t	 usec;
	uint32_t	 arch;
	long		 nr;
	pid_t		 pid;
	char		*p, *msg, *nl, *q, *last, want[32];

	if (size < 2)
		return 0;
	pid = (pid_t)(data[0] | data[1] << 8);
	size -= 2;
	if ((p = malloc(size + 1)) == NULL)
		return 0;
	memcpy(p, data + 2, size);
	if (sandbox_audit_parse(p, size, pid, &nr, &arch, &usec) == 0) {
		if (nr < 0 || nr > INT32_MAX)
			abort();
		/* Its fields are on the message's first line, as read
		 * (the kernel writes no NUL; the checks below need none). */
		if (memchr(p, '\0', size) != NULL)
			goto out;
		p[size] = '\0';
		if ((msg = memchr(p, ';', size)) == NULL)
			abort();
		if ((nl = memchr(msg, '\n', size - (size_t)(msg - p))) != NULL)
			*nl = '\0';
		if (strncmp(msg + 1, "audit: type=1326 ", 17) != 0)
			abort();
		(void)snprintf(want, sizeof(want), " pid=%d", (int)pid);
		if (strstr(msg, want) == NULL)
			abort();
		for (q = msg, last = NULL; (q = strstr(q, " syscall=")) != NULL;
		    q++)
			last = q;
		if (last == NULL || strtol(last + 9, NULL, 10) != nr)
			abort();
	}
out:
	free(p);
	return 0;
}
