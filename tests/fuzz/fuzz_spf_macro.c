/*
 * libFuzzer target for spf.c's macro expander (RFC 7208 §7): the first
 * byte picks the client's family, whether the explanation letters are
 * allowed and the output size; the rest is the macro-string, and also
 * the local-part of the sender.  Broken invariants abort(): an output
 * not NUL-terminated within its size, an error without a reason, an
 * answer other than 0, -1 or 1 (a %{p} waiting for DNS).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_request	 req;
	struct spf		*s;
	char			 out[SPF_EXPAND_MAX], sender[300];
	const char		*errstr = NULL;
	size_t			 outsz, l;
	int			 r;

	if (size < 1 || size > 4096)
		return 0;
	memset(&req, 0, sizeof(req));
	req.af = data[0] & 1 ? AF_INET6 : AF_INET;
	memset(req.ip, 0xa5, sizeof(req.ip));
	l = size - 1 < 200 ? size - 1 : 200;
	memcpy(sender, data + 1, l);
	memcpy(sender + l, "@mail.example.com", sizeof("@mail.example.com"));
	/* a NUL in the fuzz input ends the local-part there */
	req.sender = sender;
	req.helo = "helo.example.org";
	req.rcvhost = "mx.cachet.test";
	req.now = 1700000000;
	s = spf_new(&req);
	outsz = data[0] & 4 ? 16 : sizeof(out);
	r = spf_macro_expand(s, (const char *)data + 1, size - 1,
	    (data[0] & 2) != 0, out, outsz, &errstr);
	if (r == 0 && strnlen(out, outsz) >= outsz)
		abort();
	if (r == -1 && errstr == NULL)
		abort();
	if (r != 0 && r != -1 && r != 1)
		abort();
	spf_free(s);
	return 0;
}
