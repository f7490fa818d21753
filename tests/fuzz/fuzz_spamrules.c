/*
 * libFuzzer target for spamrules.c: the input is a rules file, parsed
 * from a heap copy of exactly its length (a read past it trips ASan).
 * A set that parses is run over a small message with a header, HTML,
 * links and a keyword, so that every compiled test also executes; an
 * error must name its line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spam.h"
#include "spamrules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_msg[] =
    "Received: from a by b; Tue, 1 Oct 2024 10:00:00 +0000\r\n"
    "From: \"x@y.example\" <a@example.net>\r\n"
    "To: b@example.org\r\nSubject: V1AGRA!!!\r\n"
    "Date: Tue, 1 Oct 2024 09:00:00 +0000\r\n"
    "Content-Type: text/html\r\n\r\n"
    "<a href=\"http://192.0.2.1/\">www.example.com</a> v.i.a.g.r.a "
    "http://bit.ly/x\r\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spam_rules	*r;
	struct spam_score	 sc;
	struct spam_msg		 sm;
	char			*text, err[256];

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	err[0] = '\0';
	r = spam_rules_parse(text, size, "f", err, sizeof(err));
	if (r == NULL) {
		if (strncmp(err, "f:", 2) != 0)
			abort();
	} else {
		memset(&sc, 0, sizeof(sc));
		spam_msg_parse(&sm, fuzz_msg, sizeof(fuzz_msg) - 1);
		spam_rules_check(r, &sm, &sc);
		spam_msg_free(&sm);
		spam_rules_free(r);
	}
	free(text);
	return 0;
}
