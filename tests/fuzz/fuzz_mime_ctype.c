/*
 * libFuzzer target for mime_ctype.c: the input is a Content-Type value,
 * also read as a Content-Disposition, from a heap copy of exactly its
 * length.  Every span of the result must lie in the value or in the
 * result's store; one that does not calls abort().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime_hdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_span(struct span s, const char *v, size_t len,
    const struct mime_ctype *ct)
{
	if (s.len == 0)
		return;
	if (s.ptr >= v && s.ptr + s.len <= v + len)
		return;
	if (ct->store.data != NULL && s.ptr >= ct->store.data &&
	    s.ptr + s.len <= ct->store.data + ct->store.len)
		return;
	abort();
}

static void
check(const struct mime_ctype *ct, const char *v, size_t len)
{
	size_t	i;

	check_span(ct->type, v, len, ct);
	check_span(ct->subtype, v, len, ct);
	if (ct->nparams > MIME_PARAMS_MAX)
		abort();
	for (i = 0; i < ct->nparams; i++) {
		check_span(ct->params[i].name, v, len, ct);
		check_span(ct->params[i].value, v, len, ct);
		check_span(ct->params[i].imap_name, v, len, ct);
		check_span(ct->params[i].imap_value, v, len, ct);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_ctype	 ct;
	char			*copy;

	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	if (size > 0)
		memcpy(copy, data, size);
	memset(&ct, 0, sizeof(ct));
	(void)mime_hdr_ctype(span_make(copy, size), &ct);
	check(&ct, copy, size);
	(void)mime_ctype_param(&ct, "boundary");
	(void)mime_hdr_disposition(span_make(copy, size), &ct);
	check(&ct, copy, size);
	mime_ctype_free(&ct);
	free(copy);
	return 0;
}
