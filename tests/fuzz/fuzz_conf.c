/*
 * fuzz_conf: arbitrary bytes into conf_parse(), the result freed.  The
 * parser must report errors, never crash, leak or read past len.  tls
 * blocks open the files they name; the corpus names none that exist.
 */
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 errs[2048];
	struct conf	*c;

	c = conf_parse("fuzz.conf", (const char *)data, size, errs,
	    sizeof(errs));
	conf_free(c);
	return 0;
}
