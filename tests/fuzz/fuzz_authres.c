/*
 * libFuzzer target for authres and the smtp role's header filter that
 * uses it (smtp_msgauth): every input is an Authentication-Results value
 * and field (authres_authserv_id() whole and as a prefix,
 * authres_is_ours()), and then message content fed to smtp_msgauth in
 * pieces whose sizes come from the input's first octet.  Invariants: an
 * id lies inside the input; what is spooled is the input itself when no
 * field was removed, and shorter when one was; the header section kept
 * is what was spooled of it.  An invariant that breaks calls abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "buf.h"
#include "smtp_msgauth.h"

#define FUZZ_HOST	"mx.example.org"

static void
spool(void *arg, const char *p, size_t len)
{
	struct buf	*b = arg;

	if (buf_append(b, p, len) == -1)
		abort();
}

static void
check_id(const char *p, size_t len, bool whole)
{
	struct span	id;
	bool		quoted;
	int		rc;

	rc = authres_authserv_id(span_make(p, len), whole, &id, &quoted);
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 1 && (id.ptr < p || id.ptr + id.len > p + len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_msgauth	*a;
	struct smtp_msgauth_info info;
	struct buf		 out;
	char			*p;
	size_t			 i, n, step;

	p = malloc(size > 0 ? size : 1);
	if (p == NULL)
		abort();
	memcpy(p, data, size);
	check_id(p, size, true);
	check_id(p, size, false);
	(void)authres_is_ours(span_make(p, size), FUZZ_HOST);

	step = size > 0 ? (size_t)data[0] % 64 + 1 : 1;
	buf_init(&out, size + 1);
	a = smtp_msgauth_new(FUZZ_HOST, true, spool, &out);
	for (i = 0; i < size; i += n) {
		n = size - i < step ? size - i : step;
		smtp_msgauth_input(a, p + i, n);
	}
	smtp_msgauth_end(a);
	smtp_msgauth_info(a, &info);
	if (info.removed == 0 && (out.len != size ||
	    (size > 0 && memcmp(out.data, p, size) != 0)))
		abort();
	if (info.removed > 0 && out.len >= size)
		abort();
	if (info.hdrs.len > out.len || (info.hdrs.len > 0 &&
	    memcmp(info.hdrs.ptr, out.data, info.hdrs.len) != 0))
		abort();
	if (info.nbh == 0 || info.nbh > MSGAUTH_BH_MAX)
		abort();
	smtp_msgauth_free(a);
	buf_free(&out);
	free(p);
	return 0;
}
