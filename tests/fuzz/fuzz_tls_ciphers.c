/*
 * fuzz_tls_ciphers: arbitrary bytes into tls_ciphers_check(), the first
 * byte choosing a TLS 1.2 list (even) or TLS 1.3 ciphersuites (odd), the
 * rest a NUL-terminated list in a heap copy of exactly its size, so that
 * a read past the end trips ASan.  The check must accept or refuse with a
 * reason, never crash, leak or leave OpenSSL errors queued.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "tls.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*err = NULL;
	char		*list;
	int		 rc;

	if (size == 0 || size > TLS_CIPHERS_MAX + 2)
		return 0;
	if ((list = malloc(size)) == NULL)
		abort();
	memcpy(list, data + 1, size - 1);
	list[size - 1] = '\0';
	rc = tls_ciphers_check(list, (data[0] & 1) != 0, &err);
	if (rc != 0 && (rc != -1 || err == NULL || err[0] == '\0'))
		abort();
	if (ERR_peek_error() != 0)
		abort();
	free(list);
	return 0;
}
